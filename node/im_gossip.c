/* SPDX-License-Identifier: MPL-2.0 */
/* im_gossip.c -- what the peers hold: HAVE notes (kept in im_mesh_holds.c),
 * the keys wanted from each peer, EAGER and LAZY lists of the origins a peer
 * sends in full, and FETCH/FOUND for noted records that no one brought. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_mesh_int.h"
#include "im_util.h"

/* --- What a peer holds: the keys of its HAVE notes ---------------------- */

/* A key is origin, id and version (big-endian), as in a record's header. */
void
mesh_record_key (const im_record_t *rec, uint8_t key[IM_MSG_HAVE_KEY])
{
    memcpy (key, rec->origin, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, rec->id, IM_ID_SIZE);
    im_put_be64 (key + IM_NODE_ID_SIZE + IM_ID_SIZE, (int64_t)rec->version);
}

int
mesh_cmp_node_id (const void *a, const void *b)
{
    return memcmp (a, b, IM_NODE_ID_SIZE);
}

/* Tells every other peer we can reach which of the records just stored
 * (the first N of the batch's items) we now hold, so that they do not send
 * them to us too; each peer hears only of records it could be sent, and not
 * of those it told us it holds, unless we take their origin from it in
 * full: it needs nothing of them, and told nothing it would at most note
 * them to us in turn (but send them whole, were it our eager peer). */
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
        size_t count = 0, m = 0;
        const uint8_t *origin = NULL; /* the last origin asked about ... */
        int eager = 0;                /* ... and whether P brings it in full */
        for (size_t i = 0; i < n; i++) {
            /* Records of a limited reach are not noted: a holder may still
             * need them over a shorter path (SPEC, "Hops over several
             * paths"). */
            if (self->results[i] == IM_STORE_STALE || self->results[i] == IM_STORE_CLOSER
                || self->items[i].rec->reach != IM_REACH_UNLIMITED)
                continue;
            /* What goes to P in full (an origin it takes from us) comes
             * through its pulls, whose room for notes is checked: noted
             * too, it would fill P's ring of wanted keys while P lags. */
            if (!mesh_keys_only (self, p, self->items[i].rec))
                continue;
            mesh_record_key (self->items[i].rec, self->keys + m * IM_MSG_HAVE_KEY);
            self->have_items[m++] = (uint16_t)i;
        }
        /* Which P said it holds, looked up together. */
        peer_holds_has_many (p, self->keys, m, self->have_held);
        for (size_t j = 0; j < m; j++) {
            size_t i = self->have_items[j];
            if (self->have_held[j]) {
                if (!origin
                    || memcmp (origin, self->items[i].rec->origin, IM_NODE_ID_SIZE)) {
                    origin = self->items[i].rec->origin;
                    eager = mesh_eager_is (self, p, origin);
                }
                if (!eager)
                    continue;
            }
            im_store_change_t c
                = { .rec = self->items[i].rec, .hops = self->items[i].hops };
            memcpy (c.from, self->items[i].from, IM_NODE_ID_SIZE);
            if (!mesh_shareable (self, &c, p, NULL, 0))
                continue;
            if (count != j) /* keys kept move down over those passed over */
                memcpy (self->keys + count * IM_MSG_HAVE_KEY,
                        self->keys + j * IM_MSG_HAVE_KEY, IM_MSG_HAVE_KEY);
            count++;
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
        im_store_change_t c = { .rec = &self->recs[0], .hops = 0 };
        if (im_store_held (self->store, key, key + IM_NODE_ID_SIZE, &c.hops, c.from) != 0
            && errno != ENOENT)
            continue;
        if (!mesh_shareable (self, &c, p, NULL, 0))
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
        mesh_charge (p, (double)out->count / QUOTA_RECORDS);
        mesh_note_sent (self, p);
    }
    self->nsent = 0;
}

/* --- Wanted keys: per peer, bounded, in memory ------------------------- */

static uint64_t
key_version (const uint8_t *key)
{
    return (uint64_t)im_get_be64 (key + IM_NODE_ID_SIZE + IM_ID_SIZE);
}

#define WANT_CHUNK 256 /* wanted keys looked up at once */

/* Whether this node holds the record of KEY at its version or a newer one. */
static int
held (im_mesh_t *self, const uint8_t *key)
{
    uint64_t version = 0;
    return im_store_version (self->store, key, key + IM_NODE_ID_SIZE, &version) == 0
           && version >= key_version (key);
}

/* The versions held here of P's wanted keys from the Ith oldest on, at most
 * MAX and never past the ring's end, into HAVE (0: not held, or not read).
 * Returns how many were looked up. */
static size_t
ring_versions (im_mesh_t *self, const peer_t *p, size_t i, size_t max, uint64_t *have)
{
    size_t at = (p->whead + i) % WANT_MAX, m = p->nwants - i;
    m = m < max ? m : max;
    m = m < WANT_MAX - at ? m : WANT_MAX - at;
    if (im_store_versions (self->store, p->wants[at].key, sizeof (want_t), m, have))
        memset (have, 0, m * sizeof have[0]);
    return m;
}

/* Forgets the oldest of P's wanted keys while they are held here now (they
 * came meanwhile, most often from P itself): they need no FETCH, and must
 * not take the room of the notes to come. */
static void
want_trim (im_mesh_t *self, peer_t *p)
{
    /* Nothing stored since the oldest was found not held: it still is not
     * (this runs on every turn of the node's loop, for every peer). */
    uint64_t seq = mesh_last_seq (self);
    if (p->nwants && seq == p->trim_seq)
        return;
    /* The oldest first, then, while all are held, WANT_CHUNK at a time (in
     * a burst the eager peer's copies make long runs of them). */
    uint64_t have[WANT_CHUNK];
    size_t chunk = 1;
    while (p->nwants) {
        size_t m = ring_versions (self, p, 0, chunk, have);
        const want_t *w = &p->wants[p->whead];
        size_t k = 0;
        while (k < m && have[k] >= key_version (w[k].key))
            k++;
        p->whead = (p->whead + k) % WANT_MAX;
        p->nwants -= k;
        if (k < m)
            break;
        chunk = WANT_CHUNK;
    }
    p->trim_seq = seq;
}

/* P's ring is full: forgets every key in it that is held here now, not only
 * the oldest (in a burst, the eager peer's copies come in another order
 * than the notes did). At most one pass of WANT_MAX look-ups, WANT_CHUNK at
 * a time with one cursor, once per HAVE or KEYS that finds the ring full,
 * charged to P (about a unit, a millisecond, for each 2000 keys: SPEC
 * "Quotas"). */
static void
want_compact (im_mesh_t *self, peer_t *p)
{
    /* Nothing stored since the last pass: none of its keys can be held now
     * (a flood of notes must not cost a pass each). */
    uint64_t seq = mesh_last_seq (self);
    if (seq == p->compact_seq)
        return;
    p->compact_seq = seq;
    mesh_charge (p, (double)p->nwants / 2000.0);
    uint64_t have[WANT_CHUNK];
    size_t kept = 0;
    int reading = im_store_read_begin (self->store) == 0;
    for (size_t i = 0; i < p->nwants;) {
        /* A kept key is written at or before the place it was read from;
         * one not read is kept. */
        size_t at = (p->whead + i) % WANT_MAX;
        size_t m = ring_versions (self, p, i, WANT_CHUNK, have);
        for (size_t j = 0; j < m; j++) {
            const want_t w = p->wants[at + j];
            if (have[j] < key_version (w.key))
                p->wants[(p->whead + kept++) % WANT_MAX] = w;
        }
        i += m;
    }
    if (reading)
        im_store_read_end (self->store);
    p->nwants = kept;
}

/* Room for the notes of one more answer from P: its pulls and SYNCs wait
 * until there is (the notes of an answer are never dropped for want of it). */
int
peer_want_room (const peer_t *p)
{
    return p->nwants + IM_MSG_CREDIT_MAX <= WANT_MAX;
}

#define WANT_AHEAD 512 /* slots of the ring made present at a time: 36 KiB */

/* Notes the N keys at KEYS, which P says it holds, as wanted from P when
 * they are not held here: fetched from P at DUE unless they arrive first,
 * or sooner when they wait GRACE ms for the eager peer of their origin and
 * it has gone quiet (see fetch_due). A full ring drops the rest (counted);
 * the next anti-entropy walk with P, brought forward, finds them again. */
void
mesh_want_add (im_mesh_t *self, peer_t *p, const uint8_t *keys, size_t n, int64_t due,
               int64_t grace, int retried)
{
    size_t dropped = 0;
    int compacted = 0;
    uint64_t have[WANT_CHUNK]; /* the versions held here of the next keys */
    want_trim (self, p);
    /* An empty ring starts again at its first slot: a ring that only ever
     * went round touched all its pages, 1.1 MB a peer, each a page fault
     * when first touched, where a few hundred keys wait at a time. */
    if (p->nwants == 0)
        p->whead = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *key = keys + i * IM_MSG_HAVE_KEY;
        if (i % WANT_CHUNK == 0) {
            /* Looked up together: the keys of a batch are neighbours in the
             * store. One not read is taken as not held (a FETCH tells). */
            size_t m = n - i < WANT_CHUNK ? n - i : WANT_CHUNK;
            if (im_store_versions (self->store, key, IM_MSG_HAVE_KEY, m, have))
                memset (have, 0, m * sizeof have[0]);
        }
        if (peer_refused_has (p, key) || have[i % WANT_CHUNK] >= key_version (key))
            continue;
        if (p->nwants >= WANT_MAX && !compacted++)
            want_compact (self, p);
        if (p->nwants >= WANT_MAX) {
            dropped++;
            continue;
        }
        size_t at = (p->whead + p->nwants++) % WANT_MAX;
        if (at >= p->wants_ready) { /* the ring made present a few pages at a time */
            size_t to = WANT_MAX - at < WANT_AHEAD ? WANT_MAX : at + WANT_AHEAD;
            im_mem_populate (p->wants + p->wants_ready,
                             (to - p->wants_ready) * sizeof *p->wants);
            p->wants_ready = to;
        }
        want_t *w = &p->wants[at];
        memcpy (w->key, key, IM_MSG_HAVE_KEY);
        w->due = due;
        w->deferred = 0;
        w->retried = (uint8_t)retried;
        w->grace = (uint32_t)grace;
    }
    if (dropped) {
        p->notes_dropped += dropped;
        if (!p->sync_out)
            p->sync_at = zclock_mono ();
    }
}

#define FRESH_MAX 64 /* origins of one HAVE remembered as decided at once */

/* HAVE: it holds these: never send them to it; and what we lack of them
 * is wanted from it: when it is the first to note that origin, soon
 * (EAGER_FIRST_MS, or EAGER_FIRST_RTTS of its round trips when longer: time
 * for the answer to the PULL that follows our EAGER to bring them in full),
 * or at once beyond the limits on eager choices; else if no one brings them
 * in the fetch grace (node/fetch-grace). Never later than the grace. */
void
mesh_handle_have (im_mesh_t *self, peer_t *p, const im_msg_t *msg)
{
    uint8_t when[IM_MSG_CREDIT_MAX]; /* NOTE_LATER, NOTE_AT_ONCE or NOTE_EAGER */
    const uint8_t *fresh[FRESH_MAX]; /* origins decided here other than later */
    uint8_t fresh_when[FRESH_MAX];
    size_t nfresh = 0;
    p->notes += msg->count;
    peer_holds_add (p, msg->have, msg->count);
    for (size_t i = 0; i < msg->count; i++) {
        const uint8_t *key = msg->have + i * IM_MSG_HAVE_KEY;
        /* Keys of one origin come together, most often: decided once. */
        if (i && memcmp (key, key - IM_MSG_HAVE_KEY, IM_NODE_ID_SIZE) == 0) {
            when[i] = when[i - 1];
            continue;
        }
        size_t f = 0;
        while (f < nfresh && memcmp (fresh[f], key, IM_NODE_ID_SIZE) != 0)
            f++;
        when[i] = f < nfresh ? fresh_when[f] : (uint8_t)mesh_note_at_once (self, p, key);
        if (when[i] != NOTE_LATER && f == nfresh && nfresh < FRESH_MAX) {
            fresh_when[nfresh] = when[i];
            fresh[nfresh++] = key;
        }
    }
    int64_t now = zclock_mono ();
    /* A busy peer's answer takes longer: the notes that made it eager wait
     * for it too. */
    int64_t first = EAGER_FIRST_RTTS * p->rtt > EAGER_FIRST_MS ? EAGER_FIRST_RTTS * p->rtt
                                                               : EAGER_FIRST_MS;
    const int64_t waits[] = { [NOTE_LATER] = self->grace_now,
                              [NOTE_AT_ONCE] = EAGER_FIRST_MS,
                              [NOTE_EAGER] = first };
    for (int c = NOTE_LATER; c <= NOTE_EAGER; c++) {
        size_t n = 0;
        for (size_t i = 0; i < msg->count; i++)
            if (when[i] == c)
                memcpy (self->keys + n++ * IM_MSG_HAVE_KEY,
                        msg->have + i * IM_MSG_HAVE_KEY, IM_MSG_HAVE_KEY);
        int64_t wait = waits[c] < self->grace_now ? waits[c] : self->grace_now;
        mesh_want_add (self, p, self->keys, n, now + wait, c == NOTE_LATER ? wait : 0, 0);
    }
}

static int
cmp_key (const void *a, const void *b)
{
    return memcmp (a, b, IM_MSG_HAVE_KEY);
}

/* Keys compared by origin and id alone. */
static int
cmp_record_id (const void *a, const void *b)
{
    return memcmp (a, b, IM_NODE_ID_SIZE + IM_ID_SIZE);
}

/* The connected peers other than P with a FETCH out, not yet given up, into
 * OUT (at most MAX): their FOUNDs bring what they were asked. The list's cursor is
 * left where it was (the caller may be walking the peers). */
static size_t
fetching_others (im_mesh_t *self, const peer_t *p, int64_t now, const peer_t **out,
                 size_t max)
{
    peer_t *at = zlistx_item (self->peers); /* zlistx_cursor is its handle */
    size_t n = 0;
    for (peer_t *q = zlistx_first (self->peers); q && n < max;
         q = zlistx_next (self->peers))
        if (q != p && q->nfetching && !q->fetch_retry && !q->fetch_lost
            && now - q->fetch_at < mesh_fetch_lost_ms (q) && peer_connected (q))
            out[n++] = q;
    if (at)
        zlistx_find (self->peers, at);
    return n;
}

/* Whether KEY is in the FETCH out to one of the N peers at OTHERS. */
static int
fetching_elsewhere (const peer_t **others, size_t n, const uint8_t *key)
{
    for (size_t i = 0; i < n; i++)
        if (bsearch (key, others[i]->fetching, others[i]->nfetching, IM_MSG_HAVE_KEY,
                     cmp_key))
            return 1;
    return 0;
}

/* Whether P, connected, has a PULL out to it unanswered (parked there), its
 * answers all applied, past the last that said it has more: nothing it sends
 * this node is on its way (but an answer to a PULL just sent). */
int
peer_parked (const peer_t *p)
{
    return peer_connected (p) && peer_is (p, IM_REGION_PULL, IM_PULL_OUT)
           && !p->records_pending && p->cursor >= p->more_seq;
}

/* Whether E, the eager peer of a wanted key's origin, has had nothing more
 * for this node for WAIT ms: parked (see peer_parked), its PULL unanswered
 * that long, its last answer applied as long ago. A record it has not
 * brought by then, it is not about to bring. Its newest change as told by
 * PING is not waited for: a parked pull's cursor does not move past changes
 * not for this node (the copies of records it got from here or from others),
 * so that an eager peer that had sent everything stayed "behind" until its
 * next record for here, and a key it lacked waited the whole grace (a round
 * of make bench in five, a node stuck 2 s short of 99 or 974 records). (A
 * pull made stale by a rewind needs no look: its answer moves no cursor, and
 * the next tells.) */
static int
eager_quiet (const peer_t *e, int64_t now, int64_t wait)
{
    return peer_parked (e) && now - e->pulled_at >= wait && now - e->answered_at >= wait;
}

/* The last origin want_ready looked at, and how long its eager peer has been
 * waited for when quiet (-1: not quiet, or none). */
typedef struct {
    int set;
    uint8_t origin[IM_NODE_ID_SIZE];
    int64_t wait;
} early_t;

/* Whether W, a key wanted from a peer, may be fetched now: it is due; or it
 * waits for the eager peer of its origin, which has been quiet for that
 * peer's first wait (EAGER_FIRST_MS, or EAGER_FIRST_RTTS of its round trips
 * when longer), and was noted as long ago (SPEC "Wanted keys"). */
static int
want_ready (im_mesh_t *self, const want_t *w, int64_t now, early_t *early)
{
    if (w->due <= now)
        return 1;
    if (!w->grace || w->deferred)
        return 0;
    if (!early->set || memcmp (early->origin, w->key, IM_NODE_ID_SIZE) != 0) {
        early->set = 1;
        memcpy (early->origin, w->key, IM_NODE_ID_SIZE);
        const peer_t *e = mesh_eager_peer (self, w->key);
        int64_t wait = e && EAGER_FIRST_RTTS * e->rtt > EAGER_FIRST_MS
                           ? EAGER_FIRST_RTTS * e->rtt
                           : EAGER_FIRST_MS;
        early->wait = e && eager_quiet (e, now, wait) ? wait : -1;
    }
    return early->wait >= 0 && now - (w->due - (int64_t)w->grace) >= early->wait;
}

/* Whether the FETCH out to P, if any, still waits for its FOUND. One taken
 * as lost (its FOUND could not reach us over a link that changed) or
 * ignored ends: its keys are asked for once more, in a FETCH of such keys
 * only; what comes of neither is given up. Keys fetched sooner than due stay
 * so until the latest of their due times (none is due sooner than it was),
 * fetched again while their eager peer is quiet, as noted (at the latest)
 * when they were first fetched. Else a peer that ignored a FETCH sooner and
 * answered it again would move an origin at once (mesh_found_done). */
static int
fetch_out (im_mesh_t *self, peer_t *p, int64_t now)
{
    if (!p->nfetching)
        return 0;
    if (!p->found_due || (!p->fetch_lost && now - p->fetch_at < mesh_fetch_lost_ms (p)))
        return 1; /* its FOUND came and is being verified, or may come */
    size_t k = p->nfetching;
    p->nfetching = 0;
    p->found_due = 0;
    p->fetch_lost = 0;
    if (!p->fetch_retry && p->fetch_early && p->fetch_due_max > now)
        mesh_want_add (self, p, p->fetching, k, p->fetch_due_max,
                       p->fetch_due_max - p->fetch_at, 1);
    else if (!p->fetch_retry)
        mesh_want_add (self, p, p->fetching, k, now, 0, 1);
    return 0;
}

/* Sends P a FETCH for its wanted keys now due (within its rate), unless one
 * is out already. */
static void
fetch_due (im_mesh_t *self, peer_t *p, int64_t now)
{
    zsock_t *sock;
    zframe_t *route;
    if (fetch_out (self, p, now))
        return;
    want_trim (self, p);
    if (!p->nwants || !peer_connected (p))
        return;
    early_t early = { 0 };
    if (p->wants[p->whead].due > now) {
        /* Not due: sooner only when the eager peer of its origin has gone
         * quiet, looked at every EARLY_CHECK_MS. */
        if (now < p->early_at)
            return;
        p->early_at = now + EARLY_CHECK_MS;
        if (!want_ready (self, &p->wants[p->whead], now, &early))
            return;
    }
    if (peer_pull_link (p, self->router, &sock, &route))
        return;
    /* Behind on reading its peers, a node does not fetch: what it would ask
     * for may wait unread in its own queues (an eager peer's answer, on a
     * busy machine seconds late). Asked for once all is read, or once the
     * oldest key has been due FETCH_BEHIND_MAX_MS: a peer that keeps the
     * node busy, even in bursts, delays a key by that much at most. While
     * most peers' answers wait unread, or did in the last BUSY_LINGER_MS
     * unless a look since found nothing on its way (busy: mesh_read_check),
     * up to FETCH_BUSY_MAX_MS, but once only (not a key put back, below, nor
     * one asked for again after a lost FETCH): when the mesh outruns the
     * node for minutes, a FETCH after 10 s brought the eager peer's copy a
     * second time (a third of all copies at 200 nodes). */
    int64_t late = now - p->wants[p->whead].due;
    if ((self->behind_since && late < FETCH_BEHIND_MAX_MS)
        || (self->busy_at && now - self->busy_at < BUSY_LINGER_MS
            && !p->wants[p->whead].deferred && !p->wants[p->whead].retried
            && late < FETCH_BUSY_MAX_MS))
        return;
    size_t credit = peer_credit (p, now);
    size_t n = 0, asked = 0;
    /* A FETCH holds keys due, or keys of quiet eager peers not due yet,
     * never both: what the second brings moves no origin (see
     * mesh_found_done). */
    int fetch_early = p->wants[p->whead].due > now;
    /* ... and keys asked for once already, or keys never asked for. */
    int fetch_retry = p->wants[p->whead].retried;
    int64_t due_max = 0;
    const peer_t *others[FETCHING_OTHERS_MAX];
    size_t nothers = fetching_others (self, p, now, others, FETCHING_OTHERS_MAX);
    uint8_t key[IM_MSG_HAVE_KEY];
    /* At most a ring's worth: keys put back go behind the others. */
    for (size_t turns = p->nwants; turns-- && n < credit
                                   && want_ready (self, &p->wants[p->whead], now, &early)
                                   && (p->wants[p->whead].due > now) == fetch_early
                                   && p->wants[p->whead].retried == fetch_retry;) {
        memcpy (key, p->wants[p->whead].key, IM_MSG_HAVE_KEY);
        int deferred = p->wants[p->whead].deferred;
        int64_t due = p->wants[p->whead].due;
        p->whead = (p->whead + 1) % WANT_MAX;
        p->nwants--;
        if (held (self, key))
            continue;
        if (!deferred && fetching_elsewhere (others, nothers, key)) {
            /* Asked of another peer already: due again once, after a grace,
             * by when that FOUND has most likely brought it; then asked of
             * this peer whatever the other does. */
            want_t *w = &p->wants[(p->whead + p->nwants) % WANT_MAX];
            memcpy (w->key, key, IM_MSG_HAVE_KEY);
            /* Never sooner than it was due (the grace may have shrunk). */
            w->due = now + self->grace_now > due ? now + self->grace_now : due;
            w->deferred = 1;
            w->retried = (uint8_t)fetch_retry;
            w->grace = 0;
            p->nwants++;
            asked++;
            continue;
        }
        memcpy (p->fetching + n++ * IM_MSG_HAVE_KEY, key, IM_MSG_HAVE_KEY);
        if (due > due_max)
            due_max = due;
    }
    p->notes_deferred += asked;
    p->trim_seq = 0; /* a new oldest, not looked at yet */
    if (n == 0)
        return;
    /* Sorted, without repeats: FOUND's entries are looked up in it. */
    qsort (p->fetching, n, IM_MSG_HAVE_KEY, cmp_key);
    size_t m = 1;
    for (size_t i = 1; i < n; i++)
        if (memcmp (p->fetching + i * IM_MSG_HAVE_KEY,
                    p->fetching + (m - 1) * IM_MSG_HAVE_KEY, IM_MSG_HAVE_KEY))
            memmove (p->fetching + m++ * IM_MSG_HAVE_KEY,
                     p->fetching + i * IM_MSG_HAVE_KEY, IM_MSG_HAVE_KEY);
    im_msg_t fetch = { .id = IM_MSG_FETCH, .count = m, .have = p->fetching };
    if (mesh_send (self, sock, route, &fetch) != 0) {
        /* Not sent (its link backed up, or gone): the keys go back into
         * the ring, of the same kind (review 82); never given up unasked. */
        if (fetch_early)
            mesh_want_add (self, p, p->fetching, m, due_max, due_max - now, fetch_retry);
        else
            mesh_want_add (self, p, p->fetching, m, now, 0, fetch_retry);
        return;
    }
    memset (p->fetching_taken, 0, m);
    p->nfetching = m;
    p->fetch_early = fetch_early;
    p->fetch_retry = fetch_retry;
    p->fetch_due_max = due_max;
    p->found_due = 1;
    p->fetch_lost = 0;
    p->fetch_at = now;
    if (p->in.rate)
        p->tokens -= (double)m; /* FOUND is counted against the rate here */
}

/* Whether entry E of a FOUND from P is one it was asked for, and not
 * brought already in this answer. */
int
mesh_found_take (peer_t *p, const im_msg_entry_t *e)
{
    im_record_head_t head;
    if (im_record_peek (e->record, e->len, &head) != 0)
        return 0;
    uint8_t key[IM_MSG_HAVE_KEY];
    memcpy (key, head.origin, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, head.id, IM_ID_SIZE);
    im_put_be64 (key + IM_NODE_ID_SIZE + IM_ID_SIZE, (int64_t)head.version);
    /* The peer sends the version it holds now: the one asked for or a newer
     * one. */
    const uint8_t *end = p->fetching + p->nfetching * IM_MSG_HAVE_KEY;
    const uint8_t *at
        = bsearch (key, p->fetching, p->nfetching, IM_MSG_HAVE_KEY, cmp_record_id);
    if (!at)
        return 0;
    while (at > p->fetching && cmp_record_id (at - IM_MSG_HAVE_KEY, key) == 0)
        at -= IM_MSG_HAVE_KEY;
    for (; at < end && cmp_record_id (at, key) == 0; at += IM_MSG_HAVE_KEY) {
        size_t i = (size_t)(at - p->fetching) / IM_MSG_HAVE_KEY;
        if (!p->fetching_taken[i] && key_version (at) <= head.version) {
            p->fetching_taken[i] = 1;
            return 1;
        }
    }
    return 0;
}

/* After P's FOUND: the FETCH is answered (what it did not bring, it does not
 * hold or may not send us), and each origin whose records it brought here
 * first comes from it in full from now on: the peer that should have
 * brought them did not, in the fetch grace (Plumtree's GRAFT and PRUNE).
 * After a FETCH of keys not due yet (their eager peer was quiet), only when
 * the eager peer has brought none of that origin's records since it became
 * so, or none in a grace since it first missed one so (a copy counts): else
 * a peer that notes records sooner than the eager peer brings them, and
 * then withholds, would take the origin and lose it again, each time holding
 * a record back for a grace (reviews of 3b0eba3 and e7cffc9). The first N
 * records of the batch are FETCHED[i] when stored as new. */
void
mesh_found_done (im_mesh_t *self, peer_t *p, const int *fetched, size_t n)
{
    p->nfetching = 0;
    p->fetch_lost = 0;
    for (size_t i = 0; i < n; i++) {
        if (!fetched[i])
            continue;
        p->fetched++;
        char origin[65];
        sodium_bin2hex (origin, sizeof origin, self->recs[i].origin, IM_NODE_ID_SIZE);
        const char *eager = zhashx_lookup (self->eager, origin);
        if (!eager || strcmp (eager, p->card.name) == 0
            || (p->fetch_early
                && !mesh_eager_missed (self, origin, zclock_mono (), self->grace_now)))
            continue;
        if (mesh_peer_log (p, PEER_LOG_EAGER))
            zsys_warning ("mesh: %s did not bring a record of %.16s... that %s noted; "
                          "taking that origin's records from %s in full",
                          eager, origin, p->card.name, p->card.name);
        mesh_eager_set (self, origin, p->card.name, 1);
    }
    fetch_due (self, p, zclock_mono ());
}

/* EAGER lists when the eager choices changed; FETCH for what was noted and
 * not brought; the anti-entropy walks. */
void
mesh_gossip_tick (im_mesh_t *self, int64_t now)
{
    if (now - self->eager_checked >= EAGER_CHECK_MS) {
        self->eager_checked = now;
        mesh_grace_update (self);
        if (mesh_eager_down (self))
            self->lazy_dirty = 1;
    }
    if (self->lazy_dirty && now - self->lazy_at >= LAZY_EVERY_MS) {
        self->lazy_dirty = 0;
        self->lazy_at = now;
        mesh_send_lazy (self);
    }
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        if (peer_store_waiting (p, now))
            continue; /* nothing it sends can be stored now (a full disk) */
        fetch_due (self, p, now);
        mesh_sync_due (self, p, now);
    }
}
