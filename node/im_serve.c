/* SPDX-License-Identifier: MPL-2.0 */
/* im_serve.c -- serving the peers' pulls (outbound): what may go to a peer,
 * the answer to a pull from its cursor, the walk after a policy change, the
 * long poll of a parked pull, the sent log, and EXPLAIN. */
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
static int
serve_skip (const im_store_change_t *c, void *arg)
{
    const serve_t *s = arg;
    peer_t *p = s->peer;
    _Static_assert(IM_STORE_WANT_KEY == IM_MSG_HAVE_KEY, "a change's key is a HAVE key");
    if (memcmp (c->key, p->card.node, IM_NODE_ID_SIZE) == 0) /* its own: given back */
        return !(c->seq && c->seq <= p->srv.own_until)       /* only after a restart, */
               || peer_holds_has (p, c->key);                /* and unless it has it */
    return memcmp (c->from, p->card.node, IM_NODE_ID_SIZE) == 0
           || peer_holds_has (p, c->key);
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

/* --- Answers queued, acknowledged and logged ---------------------------
 * An answer goes into the sent log only once the peer's PULL acknowledges it
 * (SPEC.md, "The sent log"): until then its keys wait here, bounded. */

static void
answer_free (answer_t *a)
{
    free (a->keys);
    memset (a, 0, sizeof *a);
}

/* Forgets P's first N answers (written to the log, or lost). */
static void
answers_shift (peer_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        answer_free (&p->answers[i]);
    memmove (p->answers, p->answers + n, (p->nanswers - n) * sizeof *p->answers);
    memset (p->answers + p->nanswers - n, 0, n * sizeof *p->answers);
    p->nanswers -= n;
}

/* How many of P's answers, the first ones, are acknowledged (waiting to be
 * written to the sent log); the others are in flight. */
static size_t
answers_acked (const peer_t *p)
{
    size_t n = 0;
    while (n < p->nanswers && p->answers[n].acked)
        n++;
    return n;
}

void
mesh_answers_drop (peer_t *p, int all)
{
    size_t acked = all ? 0 : answers_acked (p);
    for (size_t i = acked; i < p->nanswers; i++)
        answer_free (&p->answers[i]);
    p->nanswers = acked;
    if (all)
        answers_shift (p, p->nanswers);
    p->answer_sock = NULL;
    zframe_destroy (&p->answer_route);
}

/* The two bits of ANSWER_BLOOM_BITS that stand for the key (origin, id)
 * at KEY in P's answers' filters: from a keyed hash (SipHash, P's own
 * random key), so that no origin can choose ids that collide. */
static void
bloom_bits (const peer_t *p, const uint8_t *key, uint32_t bit[2])
{
    _Static_assert(sizeof p->holds_key == crypto_shorthash_KEYBYTES, "a SipHash key");
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash (h, key, IM_NODE_ID_SIZE + IM_ID_SIZE, p->holds_key);
    uint64_t x = (uint64_t)im_get_be64 (h);
    bit[0] = (uint32_t)(x % ANSWER_BLOOM_BITS);
    bit[1] = (uint32_t)((x >> 32) % ANSWER_BLOOM_BITS);
}

static int
bloom_has (const answer_t *a, const uint32_t bit[2])
{
    return (a->bloom[bit[0] / 64] >> (bit[0] % 64) & 1)
           && (a->bloom[bit[1] / 64] >> (bit[1] % 64) & 1);
}

/* Notes the answer in SELF->msg, just queued to P, with the keys it sent. */
void
mesh_note_sent (im_mesh_t *self, peer_t *p)
{
    const im_msg_t *msg = self->msg;
    if (p->nanswers == ANSWERS_MAX) {
        /* The gate keeps a slot free: not reached. */
        zsys_warning ("mesh: %s: too many answers unacknowledged", p->card.name);
        answers_shift (p, 1);
    }
    answer_t *a = &p->answers[p->nanswers];
    a->keys = self->nsent ? malloc (self->nsent * IM_MSG_HAVE_KEY) : NULL;
    if (self->nsent && !a->keys) {
        zsys_error ("mesh: out of memory: what went to %s is not logged", p->card.name);
        self->nsent = 0;
        return;
    }
    if (self->nsent)
        memcpy (a->keys, self->sentkeys, self->nsent * IM_MSG_HAVE_KEY);
    for (size_t i = 0; i < self->nsent; i++) {
        const uint8_t *k = a->keys + i * IM_MSG_HAVE_KEY;
        uint32_t b[2];
        bloom_bits (p, k, b);
        a->bloom[b[0] / 64] |= 1ULL << (b[0] % 64);
        a->bloom[b[1] / 64] |= 1ULL << (b[1] % 64);
    }
    a->nkeys = self->nsent;
    a->id = msg->id;
    a->asked = self->serve_asked;
    a->cursor = msg->cursor;
    a->bytes = IM_MSG_RECORDS_HEADER;
    for (size_t i = 0; i < msg->count; i++)
        a->bytes += IM_MSG_ENTRY_OVERHEAD + msg->entries[i].len;
    a->at = zclock_mono ();
    a->when = zclock_time ();
    p->nanswers++;
    self->nsent = 0;
}

/* Writes P's acknowledged answers into the sent log in one transaction.
 * Returns 0, or -1 when the log cannot be written (P is then sent nothing
 * until it can). */
static int
answers_write (im_mesh_t *self, peer_t *p)
{
    size_t n = answers_acked (p), nkeys = 0;
    for (size_t i = 0; i < n; i++)
        nkeys += p->answers[i].nkeys;
    uint8_t *keys = nkeys ? malloc (nkeys * IM_MSG_HAVE_KEY) : NULL;
    int64_t *whens = nkeys ? malloc (nkeys * sizeof *whens) : NULL;
    int rc = nkeys && (!keys || !whens) ? -1 : 0;
    int64_t when = 0;
    for (size_t i = 0, at = 0; rc == 0 && i < n; i++) {
        const answer_t *a = &p->answers[i];
        /* Each answer at its own time, later than the one before: no more
         * than one answer's keys share a millisecond (SENT pages by time). */
        when = a->when > when ? a->when : when + 1;
        if (a->nkeys)
            memcpy (keys + at * IM_MSG_HAVE_KEY, a->keys, a->nkeys * IM_MSG_HAVE_KEY);
        for (size_t j = 0; j < a->nkeys; j++)
            whens[at++] = when;
    }
    if (rc == 0 && nkeys)
        rc = im_store_sent_note_at (self->store, p->card.node, keys, nkeys, whens);
    free (keys);
    free (whens);
    if (rc != 0) {
        if (!p->sentlog_failing)
            zsys_error ("mesh: cannot write the sent log for %s (%s): nothing goes to it "
                        "until it can",
                        p->card.name, strerror (errno));
        p->sentlog_failing = 1;
        return -1;
    }
    if (p->sentlog_failing)
        zsys_info ("mesh: the sent log for %s is written again", p->card.name);
    p->sentlog_failing = 0;
    answers_shift (p, n);
    return 0;
}

/* Writes P's acknowledged answers now, if any (before the log is listed,
 * P is removed or the node stops), and nothing else: a peer being removed
 * must not be answered. Returns 0, or -1 when they cannot be. */
int
mesh_sent_flush (im_mesh_t *self, peer_t *p)
{
    return answers_acked (p) ? answers_write (self, p) : 0;
}

/* Whether P's acknowledged answers are due to be written (NOW, monotonic
 * ms): SENT_WRITE_ANSWERS of them, or the oldest acknowledged SENT_WRITE_MS
 * ago. Fewer transactions, each with its data sync: on a bulk pull the log's
 * writes took as long as the server's other work. */
static int
answers_due (const im_mesh_t *self, const peer_t *p, int64_t now)
{
    size_t n = answers_acked (p);
    return n >= SENT_WRITE_ANSWERS
           || (n && now - p->answers[0].acked_at >= self->sent_write_ms);
}

/* The newest version of ORIGIN/ID sent to P (0 when none) and when: from
 * the sent log, or from P's acknowledged answers not yet written there.
 * Returns 0, or -1 when the log cannot be read. */
int
mesh_sent_version (im_mesh_t *self, const peer_t *p, const uint8_t *origin,
                   const uint8_t *id, uint64_t *version, int64_t *when)
{
    int64_t w = 0;
    int rc = im_store_sent_version (self->store, p->card.node, origin, id, version, &w);
    uint8_t key[IM_NODE_ID_SIZE + IM_ID_SIZE];
    memcpy (key, origin, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, id, IM_ID_SIZE);
    uint32_t bit[2];
    bloom_bits (p, key, bit);
    for (size_t i = 0; i < p->nanswers && p->answers[i].acked; i++) {
        if (!bloom_has (&p->answers[i], bit))
            continue; /* not among its keys */
        for (size_t j = 0; j < p->answers[i].nkeys; j++) {
            const uint8_t *k = p->answers[i].keys + j * IM_MSG_HAVE_KEY;
            uint64_t v = (uint64_t)im_get_be64 (k + IM_NODE_ID_SIZE + IM_ID_SIZE);
            if (v > *version && memcmp (k, origin, IM_NODE_ID_SIZE) == 0
                && memcmp (k + IM_NODE_ID_SIZE, id, IM_ID_SIZE) == 0) {
                *version = v; /* the first answer it went in: the log keeps that */
                w = p->answers[i].when;
                rc = 0;
            }
        }
    }
    if (when)
        *when = w;
    return rc;
}

/* A PULL from P after CURSOR acknowledges the last RECORDS it reaches (or
 * that it rewinds from), and every answer queued before it (one FIFO link).
 * (A PULL from the very cursor of the newest RECORDS asks for it again: see
 * mesh_answer_gate.) They are written to the sent log a few at a time,
 * after the pull is answered (mesh_handle_pull, answers_due), so that the
 * log's transaction is not in the way of the next answer. Returns how many
 * were acknowledged. */
static size_t
answers_ack (peer_t *p, uint64_t cursor)
{
    size_t upto = 0;
    for (size_t i = 0; i < p->nanswers; i++) {
        const answer_t *a = &p->answers[i];
        if (a->id == IM_MSG_RECORDS && (cursor >= a->cursor || cursor < a->asked))
            upto = i + 1;
    }
    int64_t now = zclock_mono ();
    for (size_t i = 0; i < upto; i++)
        if (!p->answers[i].acked) {
            p->answers[i].acked = 1;
            p->answers[i].acked_at = now;
        }
    if (upto)
        p->pulls_unread = 0;
    return upto;
}

/* Whether the link P's answers went on is still there. */
static int
answer_link_alive (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route)
{
    if (!p->answer_route)
        return p->answer_sock == p->dealer && p->dealer
               && peer_is (p, IM_REGION_LINK, IM_LINK_READY);
    if (!self->router || p->answer_sock != self->router)
        return 0;
    if (route && sock == p->answer_sock && zframe_eq (route, p->answer_route))
        return 1; /* it just spoke on it */
    /* ROUTER_MANDATORY: a connection that is gone fails with EHOSTUNREACH. */
    im_msg_t ping = { .id = IM_MSG_PING, .session = self->session };
    ping.cursor = mesh_last_seq (self);
    return mesh_send (self, p->answer_sock, p->answer_route, &ping) == 0
           || zmq_errno () != EHOSTUNREACH;
}

/* May P be answered on SOCK/ROUTE (a PULL when PULL is set, else a FETCH)?
 * Not while its sent log cannot be written, nor while an answer of it waits
 * unacknowledged on a link that is still up (one answer in flight, on one
 * link), nor beyond ANSWERS_MAX answers or ANSWER_BYTES_MAX bytes. An answer
 * unacknowledged for ANSWER_LOST_MS, or whose link is gone, is forgotten
 * (not logged). Returns 0 when it may, else -1. */
int
mesh_answer_gate (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route, int pull)
{
    if (p->sentlog_failing)
        return -1;
    if (p->nanswers >= ANSWERS_MAX - 1 && mesh_sent_flush (self, p) != 0)
        return -1;
    size_t first = answers_acked (p); /* the others are in flight */
    if (p->nanswers > first) {
        size_t bytes = 0;
        int records = 0;
        for (size_t i = first; i < p->nanswers; i++) {
            bytes += p->answers[i].bytes;
            records |= p->answers[i].id == IM_MSG_RECORDS;
        }
        int same = sock == p->answer_sock
                   && (route ? p->answer_route && zframe_eq (route, p->answer_route)
                             : !p->answer_route);
        /* A pull from the very cursor of the newest answer asks for it again
         * (the puller could not store it, on a full disk, or lost it): it is
         * answered again, within the bounds. */
        int repull = 0;
        for (size_t i = p->nanswers; i-- > first;)
            if (p->answers[i].id == IM_MSG_RECORDS) {
                repull = pull && p->answers[i].asked == self->serve_asked;
                break;
            }
        int full = (pull && records && !repull) || !same || p->nanswers >= ANSWERS_MAX - 1
                   || bytes + IM_MSG_MAX > ANSWER_BYTES_MAX;
        if (!full)
            return 0;
        if (answer_link_alive (self, p, sock, route)
            && zclock_mono () - p->answers[first].at < ANSWER_LOST_MS)
            return -1;
        mesh_answers_drop (p, 0); /* lost with their link, or never read */
    }
    p->answer_sock = sock;
    zframe_destroy (&p->answer_route);
    p->answer_route = route ? zframe_dup (route) : NULL;
    return 0;
}

/* The sent log's tick: writes the acknowledged answers that are due (see
 * answers_due), again what could not be written, and prunes
 * the history older than the retention, a batch at a time. */
void
mesh_sent_tick (im_mesh_t *self, int64_t now)
{
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (p->sentlog_failing && now >= p->sentlog_retry) {
            p->sentlog_retry = now + 1000;
            if (answers_write (self, p) == 0)
                mesh_serve_parked (self, p, 0);
        }
        else if (!p->sentlog_failing && answers_due (self, p, now))
            answers_write (self, p);
    if (!self->sent_retention || now < self->prune_at)
        return;
    int64_t before = zclock_time () - (int64_t)self->sent_retention * 86400000;
    int n = im_store_sent_prune (self->store, before > 0 ? before : 0, SENT_PRUNE_BATCH);
    if (n < 0)
        zsys_error ("mesh: cannot prune the sent log: %s", strerror (errno));
    else if (n)
        zsys_info ("mesh: %d sent-log entries older than %d days removed", n,
                   self->sent_retention);
    /* A full batch: the next one soon; else in a minute. */
    self->prune_at = now + (n == SENT_PRUNE_BATCH ? 1000 : SENT_PRUNE_EVERY_MS);
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
        if (mesh_peer_log (p))
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
    int acked = answers_ack (p, msg->cursor) > 0;
    /* A restart is answered whatever it holds: the puller must learn it.
     * Written to disk first, it costs RESTART_COST; over the quota it waits,
     * parked from where its answer starts, until the bucket allows. */
    int served = serve
                 && mesh_serve (self, p, sock, route, cursor, credit,
                                restart ? SERVE_ALWAYS : SERVE_NEWS);
    if (acked && answers_due (self, p, zclock_mono ()))
        answers_write (self, p);
    if (served)
        return;
    if (serve && pulled_unread (p)) {
        /* Again, without reading the answer queued to it: counted, and
         * logged once until it reads. */
        p->refused[REFUSE_PROTOCOL]++;
        if (p->pulls_unread++ == 0 && mesh_peer_log (p))
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
