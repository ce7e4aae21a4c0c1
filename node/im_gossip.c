/* SPDX-License-Identifier: MPL-2.0 */
/* im_gossip.c -- what the peers hold: HAVE notes (a bounded cache per peer),
 * LAZY lists of the origins a peer need not send in full, and FETCH/FOUND for
 * noted records that no one brought. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_mesh_int.h"

/* --- What a peer holds: a bounded cache of its HAVE notes --------------- */

/* A key is origin, id and version (big-endian), as in a record's header. */
void
mesh_record_key (const im_record_t *rec, uint8_t key[IM_MSG_HAVE_KEY])
{
    memcpy (key, rec->origin, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, rec->id, IM_ID_SIZE);
    for (int i = 0; i < 8; i++)
        key[IM_NODE_ID_SIZE + IM_ID_SIZE + i] = (uint8_t)(rec->version >> (56 - 8 * i));
}

static uint8_t *
holds_slot (peer_t *p, const uint8_t *key)
{
    /* The id's random bits spread keys well enough. */
    uint32_t h = 2166136261u;
    for (int i = 0; i < IM_MSG_HAVE_KEY; i++)
        h = (h ^ key[i]) * 16777619u;
    return p->holds + (size_t)(h % HOLDS_SLOTS) * IM_MSG_HAVE_KEY;
}

/* A newer key in the slot pushes out an older one: the cache can only forget,
 * which costs a duplicate, never a record. */
void
peer_holds_add (peer_t *p, const uint8_t *key)
{
    memcpy (holds_slot (p, key), key, IM_MSG_HAVE_KEY);
}

int
peer_holds_has (peer_t *p, const uint8_t *key)
{
    return memcmp (holds_slot (p, key), key, IM_MSG_HAVE_KEY) == 0;
}

int
mesh_cmp_node_id (const void *a, const void *b)
{
    return memcmp (a, b, IM_NODE_ID_SIZE);
}

/* Tells every other peer we can reach which of the records just stored
 * (the first N of the batch's items) we now hold, so that they do not send
 * them to us too; each peer hears only of records it could be sent. */
void
mesh_send_have (im_mesh_t *self, const peer_t *from, size_t n)
{
    im_msg_t *msg = self->msg;
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        zsock_t *sock;
        zframe_t *route;
        if (p == from || !peer_connected (p)
            || peer_pull_link (p, self->router, &sock, &route))
            continue;
        size_t count = 0;
        for (size_t i = 0; i < n; i++) {
            /* Records of a limited reach are not noted: a holder may still
             * need them over a shorter path (SPEC, "Hops over several
             * paths"). */
            if (self->results[i] == IM_STORE_STALE || self->results[i] == IM_STORE_CLOSER
                || self->items[i].rec->reach != IM_REACH_UNLIMITED)
                continue;
            im_store_change_t c
                = { .rec = self->items[i].rec, .hops = self->items[i].hops };
            memcpy (c.from, self->items[i].from, IM_NODE_ID_SIZE);
            if (mesh_shareable (self, &c, p, NULL, 0))
                mesh_record_key (self->items[i].rec,
                                 self->keys + count++ * IM_MSG_HAVE_KEY);
        }
        if (count == 0)
            continue;
        msg->id = IM_MSG_HAVE;
        msg->count = count;
        msg->have = self->keys;
        mesh_send (self, sock, route, msg);
    }
}

/* Answers a FETCH with the records asked for that may go to P, each at the
 * version held now. */
void
mesh_handle_fetch (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                   const im_msg_t *msg)
{
    size_t count = msg->count;
    uint8_t *keys = malloc (count * IM_MSG_HAVE_KEY);
    if (!keys)
        return;
    memcpy (keys, msg->have, count * IM_MSG_HAVE_KEY);
    if (mesh_answer_gate (self, p, sock, route, 0)) {
        free (keys); /* not now: its answers wait, or the sent log fails */
        return;
    }
    self->nsent = 0;
    im_msg_t *out = self->msg;
    out->id = IM_MSG_FOUND;
    out->cursor = 0;
    out->more = 0;
    out->count = 0;
    size_t bytes = IM_MSG_RECORDS_HEADER;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *key = keys + i * IM_MSG_HAVE_KEY;
        size_t len = 0;
        uint8_t *at
            = self->buf + IM_MSG_MAX - (bytes - IM_MSG_RECORDS_HEADER) - IM_RECORD_MAX;
        if (bytes + IM_MSG_ENTRY_OVERHEAD + IM_RECORD_MAX > IM_MSG_MAX)
            break;
        if (im_store_get_raw (self->store, key, key + IM_NODE_ID_SIZE, at, IM_RECORD_MAX,
                              &len)
                != 0
            || im_record_decode_stored (at, len, &self->recs[0]) != 0)
            continue;
        /* Only records that travel without a limit are sent as notes, so
         * only those are fetched. */
        im_store_change_t c = { .rec = &self->recs[0], .hops = 0 };
        if (im_store_held (self->store, key, key + IM_NODE_ID_SIZE, &c.hops, c.from) != 0
            && errno != ENOENT)
            continue;
        if (self->recs[0].reach != IM_REACH_UNLIMITED
            || !mesh_shareable (self, &c, p, NULL, 0))
            continue;
        /* Move the bytes to sit right under what is staged already. */
        uint8_t *dst = self->buf + IM_MSG_MAX - (bytes - IM_MSG_RECORDS_HEADER) - len;
        memmove (dst, at, len);
        im_msg_entry_t *e = &out->entries[out->count++];
        e->hops = c.hops;
        e->record = dst;
        uint8_t skey[IM_MSG_HAVE_KEY];
        mesh_record_key (&self->recs[0], skey);
        memcpy (self->sentkeys + self->nsent++ * IM_MSG_HAVE_KEY, skey, IM_MSG_HAVE_KEY);
        e->len = len;
        bytes += IM_MSG_ENTRY_OVERHEAD + len;
    }
    free (keys);
    /* Through OUT: the records are staged at the top of BUF. */
    if (mesh_send_in (sock, route, out, self->out) == 0) {
        p->sent += out->count;
        mesh_note_sent (self, p);
    }
    self->nsent = 0;
}

/* Records of an origin come eagerly from one peer: the first that brought
 * one, or the origin itself when it is a peer. The others are asked (LAZY) to
 * send only their keys. */
void
mesh_note_eager (im_mesh_t *self, peer_t *from, const im_record_t *rec)
{
    char origin[65];
    sodium_bin2hex (origin, sizeof origin, rec->origin, IM_NODE_ID_SIZE);
    if (zhashx_lookup (self->eager, origin))
        return;
    const char *name = from->card.name;
    for (peer_t *q = zlistx_first (self->peers); q; q = zlistx_next (self->peers))
        if (memcmp (q->card.node, rec->origin, IM_NODE_ID_SIZE) == 0)
            name = q->card.name;
    if (zhashx_size (self->eager) >= IM_MSG_CREDIT_MAX)
        return; /* beyond that many origins, every peer sends everything */
    zhashx_insert (self->eager, origin, strdup (name));
    self->lazy_dirty = 1;
}

/* HAVE: it holds these: never send them to it; and what we lack of them
 * is noted, durably, to be fetched if no one brings it. */
void
mesh_handle_have (im_mesh_t *self, peer_t *p, const im_msg_t *msg)
{
    for (size_t i = 0; i < msg->count; i++)
        peer_holds_add (p, msg->have + i * IM_MSG_HAVE_KEY);
    if (p->npending + msg->count > PENDING_MAX) {
        /* Written now rather than with the next batch from it. */
        if (im_store_want (self->store, p->pending, p->npending, p->card.node,
                           zclock_mono ())
            < 0)
            zsys_error ("mesh: cannot note what %s holds: %s", p->card.name,
                        strerror (errno));
        p->npending = 0;
    }
    memcpy (p->pending + p->npending * IM_MSG_HAVE_KEY, msg->have,
            msg->count * IM_MSG_HAVE_KEY);
    p->npending += msg->count;
}

/* LAZY: the origins it gets from another peer. */
void
mesh_handle_lazy (peer_t *p, const im_msg_t *msg)
{
    memcpy (p->lazy, msg->have, msg->count * IM_NODE_ID_SIZE);
    p->nlazy = msg->count;
    qsort (p->lazy, p->nlazy, IM_NODE_ID_SIZE, mesh_cmp_node_id);
}

/* Gathers the wanted keys due for a fetch, by the peer that noted them. */
typedef struct {
    im_mesh_t *self;
    int64_t now;
    size_t given_up;
} want_walk_t;

static int
want_fn (const uint8_t *key, const uint8_t *node, int64_t noted, void *arg)
{
    want_walk_t *w = arg;
    im_mesh_t *self = w->self;
    if (w->now - noted > 60000) {
        /* No peer brought it in a minute: it is no longer held anywhere we
         * can reach, or may not come here. */
        im_store_unwant (self->store, key);
        w->given_up++;
        return 0;
    }
    /* First the peer that noted it; when that one has not brought it
     * (it may not send it to us, or we may not take it from it), each round
     * asks the next connected peer that said it holds it. */
    peer_t *holders[IM_PEERS_MAX + 1];
    size_t n = 0;
    for (peer_t *p = zlistx_first (self->peers); p && n < IM_PEERS_MAX;
         p = zlistx_next (self->peers))
        if (memcmp (p->card.node, node, IM_NODE_ID_SIZE) == 0)
            holders[n++] = p;
    for (peer_t *p = zlistx_first (self->peers); p && n < IM_PEERS_MAX;
         p = zlistx_next (self->peers))
        if (memcmp (p->card.node, node, IM_NODE_ID_SIZE) != 0 && peer_connected (p)
            && peer_holds_has (p, key))
            holders[n++] = p;
    if (n == 0)
        return 0;
    int64_t late = w->now - noted - WANT_GRACE_MS;
    peer_t *p = holders[late > 0 ? (size_t)(late / FETCH_EVERY_MS) % n : 0];
    if (p->nwant < IM_MSG_CREDIT_MAX)
        memcpy (p->want + p->nwant++ * IM_MSG_HAVE_KEY, key, IM_MSG_HAVE_KEY);
    return 0;
}

/* Tells each connected peer which origins it need not send us in full. */
static void
send_lazy (im_mesh_t *self)
{
    /* An eager peer that is down (or gone) is eager no more. */
    const char *name;
    zlistx_t *drop = zlistx_new ();
    for (name = zhashx_first (self->eager); name; name = zhashx_next (self->eager)) {
        peer_t *e = peer_by_name (self, name);
        if (!e || !peer_connected (e))
            zlistx_add_end (drop, (void *)zhashx_cursor (self->eager));
    }
    for (const char *k = zlistx_first (drop); k; k = zlistx_next (drop))
        zhashx_delete (self->eager, k);
    zlistx_destroy (&drop);
    uint8_t *ids = self->keys; /* room for IM_MSG_CREDIT_MAX node ids */
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        zsock_t *sock;
        zframe_t *route;
        if (!peer_connected (p) || peer_pull_link (p, self->router, &sock, &route))
            continue;
        size_t n = 0;
        for (name = zhashx_first (self->eager); name && n < IM_MSG_CREDIT_MAX;
             name = zhashx_next (self->eager)) {
            const char *origin = zhashx_cursor (self->eager);
            size_t binlen = 0;
            if (strcmp (name, p->card.name) != 0
                && sodium_hex2bin (ids + n * IM_NODE_ID_SIZE, IM_NODE_ID_SIZE, origin,
                                   strlen (origin), NULL, &binlen, NULL)
                       == 0
                && binlen == IM_NODE_ID_SIZE)
                n++;
        }
        im_msg_t lazy = { .id = IM_MSG_LAZY, .count = n, .have = n ? ids : NULL };
        mesh_send (self, sock, route, &lazy);
    }
}

/* LAZY lists when the eager choices changed, and FETCH for what was noted
 * and not brought. */
void
mesh_gossip_tick (im_mesh_t *self, int64_t now)
{
    if (self->lazy_dirty && now - self->lazy_at >= LAZY_EVERY_MS) {
        self->lazy_dirty = 0;
        self->lazy_at = now;
        send_lazy (self);
    }
    if (now - self->want_at < FETCH_EVERY_MS)
        return;
    self->want_at = now;
    want_walk_t w = { self, now, 0 };
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        p->nwant = 0;
    im_store_wanted (self->store, now - WANT_GRACE_MS, 4 * IM_MSG_CREDIT_MAX, want_fn,
                     &w);
    if (w.given_up)
        zsys_warning ("mesh: %zu record(s) noted by peers never arrived in a minute; "
                      "no longer asked for",
                      w.given_up);
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        zsock_t *sock;
        zframe_t *route;
        if (!p->nwant || !peer_connected (p)
            || peer_pull_link (p, self->router, &sock, &route))
            continue;
        im_msg_t fetch = { .id = IM_MSG_FETCH, .count = p->nwant, .have = p->want };
        if (mesh_send (self, sock, route, &fetch) == 0)
            p->fetch_at = now;
    }
}
