/* SPDX-License-Identifier: MPL-2.0 */
/* im_mesh_sent.c -- the answers queued to each peer until its next PULL
 * acknowledges them, the gate that holds a new answer back meanwhile, and
 * the sent log they are then written to (SPEC.md, "The sent log"). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>

#include "im_mesh_int.h"

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

/* P's N acknowledged answers as one log for the sent log, into LOG (its
 * keys and times allocated: freed by answers_written). Returns 0, or -1 when
 * out of memory. */
static int
answers_log (peer_t *p, size_t n, im_store_sent_t *log)
{
    size_t nkeys = 0;
    for (size_t i = 0; i < n; i++)
        nkeys += p->answers[i].nkeys;
    uint8_t *keys = nkeys ? malloc (nkeys * IM_MSG_HAVE_KEY) : NULL;
    int64_t *whens = nkeys ? malloc (nkeys * sizeof *whens) : NULL;
    *log = (im_store_sent_t){ p->card.node, keys, nkeys, whens };
    if (nkeys && (!keys || !whens))
        return -1;
    int64_t when = 0;
    for (size_t i = 0, at = 0; i < n; i++) {
        const answer_t *a = &p->answers[i];
        /* Each answer at its own time, later than the one before: no more
         * than one answer's keys share a millisecond (SENT pages by time). */
        when = a->when > when ? a->when : when + 1;
        if (a->nkeys)
            memcpy (keys + at * IM_MSG_HAVE_KEY, a->keys, a->nkeys * IM_MSG_HAVE_KEY);
        for (size_t j = 0; j < a->nkeys; j++)
            whens[at++] = when;
    }
    return 0;
}

static void
answers_log_free (im_store_sent_t *log)
{
    free ((void *)log->keys);
    free ((void *)log->whens);
    log->keys = NULL;
    log->whens = NULL;
}

/* After P's N answers of LOG were written (ERR 0) or not (ERR, an errno
 * value): frees LOG; drops them, or sends P nothing until they can be
 * written. */
static int
answers_written (peer_t *p, size_t n, im_store_sent_t *log, int err)
{
    answers_log_free (log);
    if (err) {
        if (!p->sentlog_failing)
            zsys_error ("mesh: cannot write the sent log for %s (%s): nothing goes to it "
                        "until it can",
                        p->card.name, strerror (err));
        p->sentlog_failing = 1;
        return -1;
    }
    if (p->sentlog_failing)
        zsys_info ("mesh: the sent log for %s is written again", p->card.name);
    p->sentlog_failing = 0;
    answers_shift (p, n);
    return 0;
}

/* Writes P's acknowledged answers into the sent log in one transaction.
 * Returns 0, or -1 when the log cannot be written (P is then sent nothing
 * until it can). */
static int
answers_write (im_mesh_t *self, peer_t *p)
{
    size_t n = answers_acked (p);
    im_store_sent_t log;
    int err = answers_log (p, n, &log) ? ENOMEM : 0;
    if (!err && log.n
        && im_store_sent_note_at (self->store, p->card.node, log.keys, log.n, log.whens))
        err = errno ? errno : EIO;
    return answers_written (p, n, &log, err);
}

/* Writes the acknowledged answers of every peer whose log is written (not
 * failing) in one transaction: one data sync for all, where each peer's
 * took its own (a fifth of a relaying node's syncs, 16 nodes). Written
 * sooner than due, an answer is only logged sooner; answers that went with
 * no record are dropped at once. When the one transaction fails, each peer's
 * are written alone, so that only a peer whose own cannot be is held back. */
void
mesh_answers_write_all (im_mesh_t *self)
{
    size_t npeers = zlistx_size (self->peers), k = 0;
    im_store_sent_t *logs = calloc (npeers ? npeers : 1, sizeof *logs);
    size_t *counts = calloc (npeers ? npeers : 1, sizeof *counts);
    peer_t **peers = calloc (npeers ? npeers : 1, sizeof *peers);
    int rc = logs && counts && peers ? 0 : -1;
    for (peer_t *p = zlistx_first (self->peers); rc == 0 && p;
         p = zlistx_next (self->peers)) {
        size_t n = p->sentlog_failing ? 0 : answers_acked (p);
        if (n == 0)
            continue;
        if (answers_log (p, n, &logs[k])) {
            answers_log_free (&logs[k]);
            rc = -1;
        }
        else if (logs[k].n == 0)
            answers_written (p, n, &logs[k], 0); /* nothing to log */
        else {
            peers[k] = p;
            counts[k++] = n;
        }
    }
    if (rc == 0 && im_store_sent_note_peers (self->store, logs, k) == 0)
        for (size_t i = 0; i < k; i++)
            answers_written (peers[i], counts[i], &logs[i], 0);
    else {
        int err = rc == 0 ? (errno ? errno : EIO) : ENOMEM, alone = 0, failed = 0;
        for (size_t i = 0; i < k; i++)
            answers_log_free (&logs[i]);
        for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
            if (!p->sentlog_failing && answers_acked (p)) {
                alone++;
                failed += answers_write (self, p) != 0;
            }
        /* A peer whose own write fails says so (answers_written); one that
         * took its own write where all should have taken one says it here,
         * once a minute at most. */
        int64_t now = zclock_mono ();
        if (alone > failed
            && (!self->sentall_log_at || now - self->sentall_log_at >= 60000)) {
            zsys_warning (
                "mesh: the sent log could not be written in one transaction (%s): "
                "written peer by peer (%d of %d)",
                strerror (err), alone - failed, alone);
            self->sentall_log_at = now;
        }
    }
    free (logs);
    free (counts);
    free (peers);
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
int
mesh_answers_due (const im_mesh_t *self, const peer_t *p, int64_t now)
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
 * after the pull is answered (mesh_handle_pull, mesh_answers_due), so that the
 * log's transaction is not in the way of the next answer. Returns how many
 * were acknowledged. */
size_t
mesh_answers_ack (peer_t *p, uint64_t cursor)
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
 * mesh_answers_due), again what could not be written, and prunes
 * the history older than the retention, a batch at a time. */
void
mesh_sent_tick (im_mesh_t *self, int64_t now)
{
    int due = 0;
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (p->sentlog_failing && now >= p->sentlog_retry) {
            p->sentlog_retry = now + 1000;
            if (answers_write (self, p) == 0)
                mesh_serve_parked (self, p, 0);
        }
        else if (!p->sentlog_failing && mesh_answers_due (self, p, now))
            due = 1;
    if (due)
        mesh_answers_write_all (self);
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
