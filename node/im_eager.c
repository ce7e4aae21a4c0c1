/* SPDX-License-Identifier: MPL-2.0 */
/* im_eager.c -- which peer brings each origin's records in full (its eager
 * peer) and which send only their keys: the EAGER and LAZY lists, both ways
 * (SPEC.md, "EAGER, LAZY, FETCH and FOUND"). */
#include "config.h"

#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_mesh_int.h"

/* ORIGIN's (hex) eager peer brought one of its records now: it missed none
 * since. */
static void
eager_brought (im_mesh_t *self, const char *origin)
{
    int64_t *missed = zhashx_lookup (self->eager_missed, origin);
    if (!missed) {
        missed = malloc (sizeof *missed);
        if (missed && zhashx_insert (self->eager_missed, origin, missed) != 0) {
            free (missed);
            missed = NULL;
        }
    }
    if (missed) /* else taken as having brought none: it may be replaced */
        *missed = 0;
}

/* ORIGIN's records come from NAME in full from now on; BROUGHT when it has
 * brought one already (it is the first comer, or its FOUND brought one). */
void
mesh_eager_set (im_mesh_t *self, const char *origin, const char *name, int brought)
{
    zhashx_update (self->eager, origin, strdup (name));
    if (brought)
        eager_brought (self, origin);
    else
        zhashx_delete (self->eager_missed, origin);
    self->lazy_dirty = 1;
}

int
mesh_eager_missed (im_mesh_t *self, const char *origin, int64_t now, int64_t grace)
{
    int64_t *missed = zhashx_lookup (self->eager_missed, origin);
    if (!missed)
        return 1; /* it has brought none since it became so */
    if (!*missed)
        *missed = now; /* the first it missed: it has a grace to bring one */
    return now - *missed >= grace;
}

/* Records of an origin come eagerly from one peer: the first that brought
 * one, or the origin itself when it is a peer. The others are asked (LAZY) to
 * send only their keys. A record FROM brings as the eager peer of its origin
 * is remembered (see mesh_found_done). */
void
mesh_note_eager (im_mesh_t *self, peer_t *from, const uint8_t *origin_id, int known)
{
    char origin[65];
    sodium_bin2hex (origin, sizeof origin, origin_id, IM_NODE_ID_SIZE);
    const char *eager = zhashx_lookup (self->eager, origin);
    if (eager) {
        if (strcmp (eager, from->card.name) == 0)
            eager_brought (self, origin);
        return;
    }
    /* A peer that is down is not chosen: it would be found down and dropped
     * at the next look, and chosen again at the next copy (review 81). */
    const char *name = NULL;
    for (peer_t *q = zlistx_first (self->peers); q; q = zlistx_next (self->peers))
        if (memcmp (q->card.node, origin_id, IM_NODE_ID_SIZE) == 0 && peer_connected (q))
            name = q->card.name;
    if (known && !name && !zhashx_lookup (self->first_from, origin))
        return; /* a copy of what we had before any first comer: nothing */
    if (!name) {
        /* The first peer that brought it is chosen once a second one brings
         * it too: an origin only one peer brings has no copies to spare,
         * and made-up origins take no room. The table of first comers is
         * bounded; when full, it starts again. */
        const char *first = zhashx_lookup (self->first_from, origin);
        if (!first) {
            if (zhashx_size (self->first_from) >= FIRST_FROM_MAX)
                zhashx_purge (self->first_from);
            char *dup = strdup (from->card.name);
            if (dup && zhashx_insert (self->first_from, origin, dup) != 0)
                free (dup);
            return;
        }
        if (strcmp (first, from->card.name) == 0)
            return;
        peer_t *f = peer_by_name (self, first);
        if (!f || !peer_connected (f)) {
            /* A first comer gone or down would block every choice by
             * copies: FROM takes its place when it brings a record new
             * here (a copy any peer can replay: review 84), chosen when
             * another peer brings one (review 82). */
            char *dup = known ? NULL : strdup (from->card.name);
            if (dup)
                zhashx_update (self->first_from, origin, dup);
            return;
        }
        name = first;
    }
    if (zhashx_size (self->eager) >= IM_MSG_CREDIT_MAX)
        return; /* beyond that many origins, every peer sends everything */
    mesh_eager_set (self, origin, name, 1);
}

/* The name of the peer ORIGIN's records come from in full (the origin
 * itself when it is a connected peer), or NULL when none does yet. The
 * peer list's cursor is left where it was: a caller may be walking the
 * peers (mesh_send_have), and a walk sent back to the first peer sent
 * HAVEs round and round (54308b1). */
static const char *
eager_of (im_mesh_t *self, const uint8_t *origin_id, const char *origin)
{
    const char *eager = zhashx_lookup (self->eager, origin);
    if (eager)
        return eager;
    peer_t *at = zlistx_item (self->peers);
    for (peer_t *q = zlistx_first (self->peers); !eager && q;
         q = zlistx_next (self->peers))
        if (memcmp (q->card.node, origin_id, IM_NODE_ID_SIZE) == 0 && peer_connected (q))
            eager = q->card.name;
    if (at)
        zlistx_find (self->peers, at);
    return eager;
}

int
mesh_eager_is (im_mesh_t *self, const peer_t *p, const uint8_t *origin_id)
{
    char origin[65];
    sodium_bin2hex (origin, sizeof origin, origin_id, IM_NODE_ID_SIZE);
    const char *eager = eager_of (self, origin_id, origin);
    return eager && strcmp (eager, p->card.name) == 0;
}

peer_t *
mesh_eager_peer (im_mesh_t *self, const uint8_t *origin_id)
{
    char origin[65];
    sodium_bin2hex (origin, sizeof origin, origin_id, IM_NODE_ID_SIZE);
    const char *name = eager_of (self, origin_id, origin);
    if (!name)
        return NULL;
    peer_t *at = zlistx_item (self->peers), *e = NULL;
    for (peer_t *q = zlistx_first (self->peers); !e && q; q = zlistx_next (self->peers))
        if (strcmp (q->card.name, name) == 0)
            e = q;
    if (at)
        zlistx_find (self->peers, at);
    return e;
}

static int
inbound_origin (const peer_t *p, const uint8_t *origin_id)
{
    for (size_t i = 0; i < p->in.norigins; i++)
        if (memcmp (p->in.origins[i], origin_id, IM_NODE_ID_SIZE) == 0)
            return 1;
    return 0;
}

/* When P's notes of ORIGIN's records are wanted from it. The first peer to
 * note an origin no peer brings yet becomes its eager peer (told before our
 * next PULL to it) and is asked soon (NOTE_EAGER: after its next answer has
 * had time to bring them in full); beyond the limits on eager choices, it is
 * asked at once (NOTE_AT_ONCE); the notes of the others wait for the fetch
 * grace (NOTE_LATER), so that a record comes in full once (SPEC "EAGER"). */
int
mesh_note_at_once (im_mesh_t *self, peer_t *p, const uint8_t *origin_id)
{
    char origin[65];
    sodium_bin2hex (origin, sizeof origin, origin_id, IM_NODE_ID_SIZE);
    if (eager_of (self, origin_id, origin))
        return NOTE_LATER;
    if (zhashx_size (self->eager) >= IM_MSG_CREDIT_MAX)
        return NOTE_AT_ONCE; /* beyond that many origins: from whoever notes it first */
    /* A peer that brought that origin's records in full first brings them
     * still; a note never takes its place. */
    const char *first = zhashx_lookup (self->first_from, origin);
    peer_t *f = first ? peer_by_name (self, first) : NULL;
    if (f && f != p && peer_connected (f)) {
        mesh_eager_set (self, origin, first, 1);
        return NOTE_LATER;
    }
    /* Not a peer whose third-party records our inbound rules refuse; and
     * one claims at most EAGER_CLAIMS_MAX origins so: made-up ones take no
     * more room; beyond, its notes are fetched from it at once. */
    if (!p->in.relayed || (p->in.norigins && !inbound_origin (p, origin_id)))
        return NOTE_LATER;
    if (p->first_notes >= EAGER_CLAIMS_MAX)
        return NOTE_AT_ONCE;
    p->first_notes++;
    mesh_eager_set (self, origin, p->card.name, 0); /* by a note */
    p->eager_due = 1;
    return NOTE_EAGER;
}

/* LAZY: the origins it gets from another peer; EAGER: the only origins,
 * beside ours, it takes from us in full. */
void
mesh_handle_lazy (peer_t *p, const im_msg_t *msg)
{
    if (msg->count) /* an empty list has no pointer */
        memcpy (p->lazy, msg->have, msg->count * IM_NODE_ID_SIZE);
    p->nlazy = msg->count;
    p->keys_first = msg->id == IM_MSG_EAGER;
    qsort (p->lazy, p->nlazy, IM_NODE_ID_SIZE, mesh_cmp_node_id);
}

/* Whether REC goes to P as its key only (a HAVE) rather than in full: of an
 * unlimited reach, and of an origin P gets from another peer (LAZY) or not
 * on P's EAGER list and not ours. */
int
mesh_keys_only (im_mesh_t *self, const peer_t *p, const im_record_t *rec)
{
    if (rec->reach != IM_REACH_UNLIMITED || (!p->nlazy && !p->keys_first))
        return 0;
    int listed
        = p->nlazy
          && bsearch (rec->origin, p->lazy, p->nlazy, IM_NODE_ID_SIZE, mesh_cmp_node_id);
    if (!p->keys_first)
        return listed;
    /* Ours, and its own (back to it after its store restarted), in full. */
    return !listed
           && memcmp (rec->origin, im_identity_node (self->identity), IM_NODE_ID_SIZE)
                  != 0
           && memcmp (rec->origin, p->card.node, IM_NODE_ID_SIZE) != 0;
}

/* Tells P, on SOCK, the origins it is the eager peer of: their records, and
 * its own, come from it in full; of every other origin, only the keys. */
void
mesh_send_eager (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route)
{
    uint8_t *ids = self->keys; /* room for IM_MSG_CREDIT_MAX node ids */
    size_t n = 0;
    for (const char *name = zhashx_first (self->eager); name && n < IM_MSG_CREDIT_MAX;
         name = zhashx_next (self->eager)) {
        const char *origin = zhashx_cursor (self->eager);
        size_t binlen = 0;
        if (strcmp (name, p->card.name) == 0
            && sodium_hex2bin (ids + n * IM_NODE_ID_SIZE, IM_NODE_ID_SIZE, origin,
                               strlen (origin), NULL, &binlen, NULL)
                   == 0
            && binlen == IM_NODE_ID_SIZE)
            n++;
    }
    im_msg_t eager = { .id = IM_MSG_EAGER, .count = n, .have = n ? ids : NULL };
    if (mesh_send (self, sock, route, &eager) == 0)
        p->eager_due = 0;
}

/* Tells each connected peer which origins to send us in full. */
void
mesh_send_lazy (im_mesh_t *self)
{
    /* An eager peer that is down (or gone) is eager no more. */
    const char *name;
    zlistx_t *drop = zlistx_new ();
    for (name = zhashx_first (self->eager); name; name = zhashx_next (self->eager)) {
        peer_t *e = peer_by_name (self, name);
        if (!e || !peer_connected (e))
            zlistx_add_end (drop, (void *)zhashx_cursor (self->eager));
    }
    /* Logged at most every QUOTA_WARN_MS: a peer that comes and goes does
     * not fill the log. */
    self->down_unlogged += zlistx_size (drop);
    int64_t now = zclock_mono ();
    if (zlistx_size (drop) && now - self->down_logged >= QUOTA_WARN_MS) {
        zsys_info ("mesh: %zu eager choice(s) dropped since the last such line, their "
                   "peer down or gone (%s among them); those origins come in full from "
                   "the next peer to note them",
                   self->down_unlogged,
                   (const char *)zhashx_lookup (self->eager, zlistx_first (drop)));
        self->down_logged = now;
        self->down_unlogged = 0;
    }
    for (const char *k = zlistx_first (drop); k; k = zlistx_next (drop)) {
        peer_t *e = peer_by_name (self, zhashx_lookup (self->eager, k));
        if (e)
            e->first_notes = 0;
        zhashx_delete (self->eager_missed, k);
        zhashx_delete (self->eager, k);
    }
    zlistx_destroy (&drop);
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        zsock_t *sock;
        zframe_t *route;
        if (!peer_connected (p) || peer_pull_link (p, self->router, &sock, &route))
            continue;
        mesh_send_eager (self, p, sock, route);
    }
}

/* Whether the eager peer of an origin is down (or gone): then the lists go
 * again, without its choices, so that the next peer to note those origins
 * takes its place (checked every EAGER_CHECK_MS). */
int
mesh_eager_down (im_mesh_t *self)
{
    for (const char *name = zhashx_first (self->eager); name;
         name = zhashx_next (self->eager)) {
        peer_t *e = peer_by_name (self, name);
        if (!e || !peer_connected (e))
            return 1;
    }
    return 0;
}
