/* SPDX-License-Identifier: MPL-2.0 */
/* im_serve.c -- serving the peers' pulls (outbound): what may go to a peer,
 * the answer to a pull from its cursor, the walk after a policy change, the
 * long poll of a parked pull, and EXPLAIN (the answers queued and the sent
 * log: im_mesh_sent.c). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_mesh_int.h"
#include "im_report.h"
#include "im_sight.h"

typedef struct {
    im_mesh_t *self;
    peer_t *peer;
    size_t bytes;
    int full;     /* stopped at the size limit */
    int rescan;   /* walking again after a policy change */
    uint64_t end; /* ... up to this change */
    uint64_t pos; /* ... and the last change it answered for */
} serve_t;

/* A member record (SPEC.md, "Reports", "Members") or a sighting
 * ("Sightings") goes to P only when the indicator it names is held here,
 * live, and would go to P too (or P is its origin, or gave it to this
 * node): it tells P nothing P may not hold. */
static int
member_shareable (im_mesh_t *self, const im_record_t *m, const peer_t *p, char *why,
                  size_t whysz)
{
    uint8_t origin[IM_NODE_ID_SIZE], id[IM_ID_SIZE], rep[IM_ID_SIZE];
    im_store_change_t c = { 0 };
    int sighting = m->type == IM_TYPE_SIGHTING;
    int parsed = sighting ? im_sighting_parse (m->value, origin, id)
                          : im_member_parse (m->value, origin, id, rep);
    if (parsed == 0 && sighting && memcmp (origin, p->card.node, IM_NODE_ID_SIZE) == 0)
        return 1; /* a sighting goes to the origin of its indicator */
    im_record_t *ind = malloc (sizeof *ind);
    int yes = 0;
    if (ind && parsed == 0 && im_store_get (self->store, origin, id, ind) == 0
        && ind->op == IM_OP_PUT) {
        if (im_store_held (self->store, origin, id, &c.hops, c.from))
            c.hops = 0; /* this node's own */
        c.rec = ind;
        yes = memcmp (origin, p->card.node, IM_NODE_ID_SIZE) == 0
              || memcmp (c.from, p->card.node, IM_NODE_ID_SIZE) == 0
              || mesh_shareable (self, &c, p, NULL, 0);
    }
    if (!yes && why)
        snprintf (why, whysz,
                  "not sent: a %s, whose indicator is not held here or would not be "
                  "sent to %s",
                  sighting ? "sighting" : "report's member", p->card.name);
    free (ind);
    return yes;
}

/* Whether a change may go to the peer: the rules of SPEC.md, "Sharing
 * policy", "Outbound" (im_policy_outbound), with the sent log for rule 3;
 * a member record only with its indicator (member_shareable). */
int
mesh_shareable (im_mesh_t *self, const im_store_change_t *c, const peer_t *p, char *why,
                size_t whysz)
{
    static const uint8_t zeros[IM_NODE_ID_SIZE];
    im_share_ctx_t ctx = {
        .rec = c->rec,
        .hops = c->hops,
        .from = memcmp (c->from, zeros, IM_NODE_ID_SIZE) ? c->from : NULL,
        .peer = p->card.node,
        .peer_name = p->card.name,
        .policy = &p->policy,
        .now = im_time_now (),
        .give_back = c->seq && c->seq <= p->srv.own_until,
    };
    im_share_t verdict = im_policy_outbound (&ctx, why, whysz);
    int member = c->rec->type == IM_TYPE_MEMBER || c->rec->type == IM_TYPE_SIGHTING;
    /* Rule 3 (a revocation goes where an earlier version went) asks the sent
     * log only where it can change the answer: a revocation the other rules
     * would not send, or a member's; and for explain, to say why. */
    uint64_t v = 0;
    if (c->rec->op == IM_OP_REVOKE && (why || verdict != IM_SHARE_YES || member)
        && mesh_sent_version (self, p, c->rec->origin, c->rec->id, &v, NULL) == 0
        && v > 0) {
        ctx.sent_before = 1;
        verdict = im_policy_outbound (&ctx, why, whysz);
    }
    if (verdict == IM_SHARE_YES && member)
        return c->rec->op == IM_OP_PUT && member_shareable (self, c->rec, p, why, whysz);
    return verdict == IM_SHARE_YES || verdict == IM_SHARE_REVOCATION;
}

/* A change that never goes to the peer, known without its record, as
 * im_policy_outbound decides first: one the peer is the origin of (unless
 * its own are given back after its store restarted), or else that came from
 * it (SPEC.md, "Sharing policy", "Outbound"). A relay's log is mostly such
 * changes for the peers it takes them from. Also one the peer said it holds
 * (HAVE), which serve_fn would pass over after reading the record: in a
 * mesh a third to a half of a node's changes for each peer, each a record
 * read, its batch joined to it and decoded for nothing. */
static void
serve_skip (const im_store_change_t *cs, size_t n, uint8_t *skip, void *arg)
{
    const serve_t *s = arg;
    peer_t *p = s->peer;
    _Static_assert(IM_STORE_WANT_KEY == IM_MSG_HAVE_KEY, "a change's key is a HAVE key");
    uint8_t keys[IM_STORE_SKIP_CHUNK * IM_MSG_HAVE_KEY] = { 0 },
                                       held[IM_STORE_SKIP_CHUNK];
    size_t at[IM_STORE_SKIP_CHUNK], m = 0;
    for (size_t i = 0; i < n && i < IM_STORE_SKIP_CHUNK; i++) {
        const im_store_change_t *c = &cs[i];
        if (memcmp (c->key, p->card.node, IM_NODE_ID_SIZE) == 0) { /* its own: given */
            if (!(c->seq
                  && c->seq <= p->srv.own_until)) { /* back only after a restart, */
                skip[i] = 1;
                continue;
            }
        }
        else if (memcmp (c->from, p->card.node, IM_NODE_ID_SIZE) == 0) {
            skip[i] = 1;
            continue;
        }
        memcpy (keys + m * IM_MSG_HAVE_KEY, c->key, IM_MSG_HAVE_KEY);
        at[m++] = i;
    }
    /* ... and unless it has it: the keys looked up together. */
    peer_holds_has_many (p, keys, m, held);
    for (size_t j = 0; j < m; j++)
        skip[at[j]] = held[j];
}

static int
serve_fn (const im_store_change_t *c, void *arg)
{
    serve_t *s = arg;
    im_msg_t *msg = s->self->msg;
    uint8_t key[IM_MSG_HAVE_KEY];
    mesh_record_key (c->rec, key);
    if (s->rescan) {
        if (c->seq > s->end)
            return 1;
        uint64_t sent = 0;
        if (msg->count >= IM_MSG_CREDIT_MAX || s->self->nsent >= IM_MSG_CREDIT_MAX)
            return 1;
        if (!mesh_shareable (s->self, c, s->peer, NULL, 0)
            || peer_holds_has (s->peer, key)
            || (mesh_sent_version (s->self, s->peer, c->rec->origin, c->rec->id, &sent,
                                   NULL)
                    == 0
                && sent >= c->rec->version)) {
            s->pos = c->seq;
            return 0;
        }
    }
    else if (!mesh_shareable (s->self, c, s->peer, NULL, 0)) { /* held: serve_skip */
        msg->cursor = c->seq;
        return 0;
    }
    if (!s->rescan && mesh_keys_only (s->self, s->peer, c->rec)) {
        /* It gets this origin from another peer, or asked for its keys
         * first: only the key goes, in a HAVE sent before the RECORDS, so
         * that it can fetch it from one peer (SPEC "EAGER"). */
        if (s->self->nnotes >= IM_MSG_CREDIT_MAX) {
            s->full = 1;
            return 1;
        }
        memcpy (s->self->notes + s->self->nnotes++ * IM_MSG_HAVE_KEY, key,
                IM_MSG_HAVE_KEY);
        msg->cursor = c->seq;
        return 0;
    }
    size_t cost = IM_MSG_ENTRY_OVERHEAD + c->len;
    if (s->bytes + cost > IM_MSG_MAX) {
        s->full = 1;
        return 1; /* the next pull starts here */
    }
    /* The bytes live in the store's read transaction, which ends with the
     * walk: copy them into the reply's buffer area. */
    uint8_t *copy = s->self->buf + IM_MSG_MAX - s->bytes - c->len;
    memcpy (copy, c->blob, c->len);
    im_msg_entry_t *e = &msg->entries[msg->count++];
    e->hops = c->hops;
    e->record = copy;
    e->len = c->len;
    s->bytes += cost;
    memcpy (s->self->sentkeys + s->self->nsent++ * IM_MSG_HAVE_KEY, key, IM_MSG_HAVE_KEY);
    if (s->rescan)
        s->pos = c->seq;
    else
        msg->cursor = c->seq;
    return 0;
}

/* After a policy change: sends P, before anything new, what it may now have
 * and was not sent, walking the change log up to where it stood then.
 * Returns 1 when it answered the pull, 0 when there was nothing (more). */
static int
serve_rescan (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route, uint64_t cursor,
              uint16_t credit)
{
    im_msg_t *msg = self->msg;
    for (int round = 0; peer_is (p, IM_REGION_RESCAN, IM_RESCAN_WALKING); round++) {
        if (round == 16) {
            /* A long walk with nothing to send yields, and goes on shortly. */
            mesh_relay_within (self, 1);
            return 0;
        }
        msg->id = IM_MSG_RECORDS;
        msg->cursor = cursor; /* a rescan moves no cursor */
        msg->more = 1;
        msg->count = 0;
        self->nnotes = 0;
        self->nsent = 0;
        serve_t s
            = { self, p, IM_MSG_RECORDS_HEADER, 0, 1, p->rescan_end, p->rescan_pos };
        uint64_t last = p->rescan_pos;
        if (im_store_feed (self->store, p->rescan_pos, credit, SCAN_MAX, serve_fn, &s,
                           &last)
            < 0) {
            zsys_error ("mesh: reading the change log for %s: %s", p->card.name,
                        strerror (errno));
            peer_event (p, IM_EV_RESCAN_DONE);
            return 0;
        }
        /* Unless cut short, everything read was answered for. */
        if (!s.full && msg->count < credit && msg->count < IM_MSG_CREDIT_MAX)
            s.pos = last;
        int done = s.pos >= p->rescan_end || last == p->rescan_pos;
        if (msg->count && mesh_send_in (sock, route, msg, self->out) != 0) {
            /* Not sent: the walk starts here again next time. */
            self->nsent = 0;
            mesh_relay_within (self, 50);
            return 0;
        }
        p->rescan_pos = s.pos;
        if (done) {
            peer_event (p, IM_EV_RESCAN_DONE);
            zsys_info ("mesh: %s has been sent what its new policy allows", p->card.name);
        }
        if (msg->count == 0)
            continue;
        p->sent += msg->count;
        mesh_charge (p, (double)msg->count / QUOTA_RECORDS);
        mesh_note_sent (self, p);
        return 1;
    }
    return 0;
}

/* Answers a pull of P after CURSOR on SOCK/ROUTE, WHEN it should (SERVE_*:
 * with records or notes always).
 * Returns 1 when answered, else 0 (the pull waits). */
int
mesh_serve (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route, uint64_t cursor,
            uint16_t credit, int when)
{
    int force = when == SERVE_ALWAYS;
    im_msg_t *msg = self->msg;
    self->serve_asked = cursor;
    if (mesh_answer_gate (self, p, sock, route, 1))
        return 0; /* it waits: see mesh_answer_gate */
    msg->id = IM_MSG_RECORDS;
    msg->cursor = cursor;
    msg->more = 0;
    msg->count = 0;
    /* Records are staged at the top of buf; the message is encoded into out. */
    if (!p->restart_answer && peer_is (p, IM_REGION_RESCAN, IM_RESCAN_WALKING)
        && serve_rescan (self, p, sock, route, cursor, credit))
        return 1;
    msg->id = IM_MSG_RECORDS;
    msg->cursor = cursor;
    msg->more = 0;
    msg->count = 0;
    serve_t s = { self, p, IM_MSG_RECORDS_HEADER, 0, 0, 0, 0 };
    uint64_t last = cursor;
    self->nnotes = 0;
    self->nsent = 0;
    if (im_store_feed_skip (self->store, cursor, credit, SCAN_MAX, serve_skip, serve_fn,
                            &s, &last)
        < 0) {
        zsys_error ("mesh: reading the change log for %s: %s", p->card.name,
                    strerror (errno));
        return 0;
    }
    mesh_charge (p, (double)(last - cursor) / QUOTA_SCAN);
    /* Unless the size limit cut the walk, everything read is answered for
     * (what was not shareable, or superseded, is passed over for good). */
    if (!s.full && last > msg->cursor && msg->count < credit)
        msg->cursor = last;
    if (msg->count == 0 && msg->cursor == cursor && !force)
        return 0; /* nothing new: park */
    if (msg->count == 0 && self->nnotes == 0 && when == SERVE_RECORDS) {
        /* A waiting pull, and only changes not for it (as a relay's pull
         * of the origin it is taking records from): it keeps waiting, from
         * there. The cursor goes with its next answer; an answer of its own
         * would cost both sides a transaction for each batch stored. */
        p->parked_cursor = msg->cursor;
        p->acked = msg->cursor;
        return 0;
    }
    im_store_stats_t st;
    im_store_stats (self->store, &st);
    msg->more = msg->cursor < st.last_seq;
    if (mesh_restart_served (self, p, msg) != 0) {
        self->nsent = 0;
        mesh_relay_within (self, 50);
        return 0; /* try again shortly; nothing was sent */
    }
    /* Both go through OUT: the staged records sit at the top of BUF. */
    if (self->nnotes) {
        /* The notes go first: the puller records them before it moves its
         * cursor past them. */
        im_msg_t notes
            = { .id = IM_MSG_HAVE, .count = self->nnotes, .have = self->notes };
        if (mesh_send_in (sock, route, &notes, self->out) != 0) {
            self->nsent = 0;
            mesh_relay_within (self, 50);
            return 0; /* try again shortly; nothing was promised */
        }
    }
    if (mesh_send_in (sock, route, msg, self->out) != 0) {
        self->nsent = 0;
        if (zmq_errno () == EAGAIN) {
            /* The peer is not reading yet: the pull stays waiting and is
             * answered again shortly. */
            mesh_relay_within (self, 50);
            return 0;
        }
        if (mesh_peer_log (p, PEER_LOG_SEND))
            zsys_warning ("mesh: cannot answer %s: %s", p->card.name,
                          zmq_strerror (zmq_errno ()));
    }
    else {
        p->sent += msg->count;
        mesh_charge (p, (double)msg->count / QUOTA_RECORDS);
        mesh_note_sent (self, p);
    }
    return 1;
}

/* Whether a pull of P was held back by a RECORDS answer still waiting
 * unacknowledged on a link that is up (mesh_answer_gate kept it). */
static int
pulled_unread (const peer_t *p)
{
    int records = 0;
    for (size_t i = 0; i < p->nanswers; i++)
        records |= p->answers[i].id == IM_MSG_RECORDS && !p->answers[i].acked;
    return records && !p->sentlog_failing;
}

/* A PULL: answered now if there is anything (and SERVE: the peer is within
 * its quota), else it waits (parked). */
void
mesh_handle_pull (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                  const im_msg_t *msg, int serve)
{
    uint64_t cursor = msg->cursor;
    uint16_t credit = msg->credit;
    peer_drop_parked (p);
    int restart = mesh_restart_pull (self, p, &cursor);
    p->acked = cursor;
    int acked = mesh_answers_ack (p, msg->cursor) > 0;
    /* A restart is answered whatever it holds: the puller must learn it.
     * Written to disk first, it costs RESTART_COST; over the quota it waits,
     * parked from where its answer starts, until the bucket allows. */
    int served = serve
                 && mesh_serve (self, p, sock, route, cursor, credit,
                                restart ? SERVE_ALWAYS : SERVE_NEWS);
    if (acked && !p->sentlog_failing && mesh_answers_due (self, p, zclock_mono ()))
        mesh_answers_write_all (self);
    if (served)
        return;
    if (serve && pulled_unread (p)) {
        /* Again, without reading the answer queued to it: counted, and
         * logged once until it reads. */
        p->refused[REFUSE_PROTOCOL]++;
        if (p->pulls_unread++ == 0 && mesh_peer_log (p, PEER_LOG_PULL_UNREAD))
            zsys_warning ("mesh: %s pulls again without reading the answer queued to it "
                          "(counted under protocol)",
                          p->card.name);
    }
    peer_event (p, IM_EV_PARK);
    p->parked_sock = sock;
    p->parked_route = route ? zframe_dup (route) : NULL;
    p->parked_cursor = cursor;
    p->parked_credit = credit;
    p->parked_at = zclock_mono ();
}

/* The waiting pulls are tried again in MS at the latest: a time set earlier
 * stands, so that one peer's retries never push back the others' relay. */
void
mesh_relay_within (im_mesh_t *self, int64_t ms)
{
    int64_t at = zclock_mono () + ms;
    if (!self->relay_at || at < self->relay_at)
        self->relay_at = at;
}

int
im_mesh_next_ms (im_mesh_t *self)
{
    int64_t at = self->relay_at;
    if (self->hold_at && (!at || self->hold_at < at))
        at = self->hold_at;
    if (!at)
        return 100;
    int64_t left = at - zclock_mono ();
    return left < 0 ? 0 : left > 100 ? 100 : (int)left;
}

/* Answers P's parked pull if anything came in (or, with FORCE, empty).
 * Returns 1 when it was answered (and is parked no more). */
int
mesh_serve_parked (im_mesh_t *self, peer_t *p, int force)
{
    if (!peer_is (p, IM_REGION_SERVE, IM_SERVE_PARKED))
        return 0;
    if (!mesh_quota_left (p)) {
        mesh_relay_within (self, 100); /* its bucket fills meanwhile */
        return 0;
    }
    if (!mesh_serve (self, p, p->parked_sock, p->parked_route, p->parked_cursor,
                     p->parked_credit,
                     force || p->restart_answer ? SERVE_ALWAYS : SERVE_RECORDS))
        return 0;
    peer_drop_parked (p);
    return 1;
}

void
im_mesh_changed (im_mesh_t *self)
{
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        mesh_serve_parked (self, p, 0);
}

json_t *
im_mesh_explain (im_mesh_t *self, const uint8_t *origin, const uint8_t *id,
                 const char *peer, char *err, size_t errsz)
{
    peer_t *p = peer_by_name (self, peer);
    if (!p) {
        im_fail (ENOENT, err, errsz, "no peer named %s on the trust list", peer);
        return NULL;
    }
    im_record_t *rec = malloc (sizeof *rec);
    if (!rec) {
        im_fail (ENOMEM, err, errsz, "out of memory");
        return NULL;
    }
    if (im_store_get (self->store, origin, id, rec) != 0) {
        im_fail (ENOENT, err, errsz, "no indicator with that id is held here");
        free (rec);
        return NULL;
    }
    im_store_change_t c = { .rec = rec, .hops = 0 };
    if (im_store_held (self->store, origin, id, &c.hops, c.from) != 0
        && memcmp (origin, im_identity_node (self->identity), IM_NODE_ID_SIZE) != 0)
        c.hops = 1; /* from a peer, before hops were kept: at least one link */
    char why[512];
    int yes = mesh_shareable (self, &c, p, why, sizeof why);
    uint64_t sent = 0;
    int64_t when = 0;
    mesh_sent_version (self, p, origin, id, &sent, &when);
    char node[IM_NODE_HEX_SIZE], idtext[IM_ID_STR_SIZE], from[IM_NODE_HEX_SIZE];
    im_node_format (origin, node);
    im_id_format (id, idtext);
    im_node_format (c.from, from);
    peer_t *src = peer_by_node (self, c.from);
    json_t *o
        = json_pack ("{s:s, s:s, s:s, s:I, s:s, s:s, s:b, s:s, s:i, s:s}", "id", idtext,
                     "origin", node, "peer", p->card.name, "version",
                     (json_int_t)rec->version, "tlp", im_tlp_name (rec->tlp), "policy",
                     p->policy.name, "shared", yes, "why", why, "hops", c.hops, "from",
                     c.hops == 0 ? ""
                     : src       ? src->card.name
                                 : from);
    free (rec);
    if (o && sent) {
        char t[IM_TIME_STR_SIZE];
        json_object_set_new (o, "sent",
                             json_pack ("{s:I, s:s}", "version", (json_int_t)sent, "time",
                                        im_time_format (when / 1000, t)));
    }
    else if (o)
        json_object_set_new (o, "sent", json_null ());
    if (!o)
        im_fail (ENOMEM, err, errsz, "out of memory");
    return o;
}
