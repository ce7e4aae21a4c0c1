/* SPDX-License-Identifier: MPL-2.0 */
/* im_apply.c -- applying the records a peer sends (inbound): what is known
 * is skipped on arrival, signatures are checked by the workers (im_verify.h)
 * while the node goes on, then each record is checked (duplicate, own origin,
 * inbound rules, the widest prefix) and the batch stored with the peer's
 * cursor in one transaction, a peer's answers in the order they came. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_guard.h"
#include "im_mesh_int.h"

/* The refusals of one batch: those made on its arrival (sift), the counts
 * before it is applied, and the first reason given for each, for one
 * warning a reason. Other answers of the peer may arrive in between. */
typedef struct {
    uint64_t sifted[REFUSE_COUNT];
    uint64_t before[REFUSE_COUNT];
    char first_why[REFUSE_COUNT][256];
} refusals_t;

/* The records taken from one message, found by (origin, id): a table of
 * APPLY_SLOTS indices (one more than the record's place; 0: free), probed
 * from a keyed hash, so that a sender cannot choose what collides. */
static size_t
batch_slot (im_mesh_t *self, const uint8_t *origin, const uint8_t *id)
{
    uint8_t key[IM_STORE_KEY_SIZE], h[crypto_shorthash_BYTES];
    uint64_t v;
    memcpy (key, origin, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, id, IM_ID_SIZE);
    crypto_shorthash (h, key, sizeof key, self->apply_key);
    memcpy (&v, h, sizeof v);
    return (size_t)(v & (APPLY_SLOTS - 1));
}

static const im_record_t *
batch_find (im_mesh_t *self, const uint8_t *origin, const uint8_t *id)
{
    for (size_t i = batch_slot (self, origin, id);; i = (i + 1) & (APPLY_SLOTS - 1)) {
        uint16_t at = self->apply_slots[i];
        if (at == 0)
            return NULL;
        const im_record_t *r = &self->recs[at - 1];
        if (memcmp (r->origin, origin, IM_NODE_ID_SIZE) == 0
            && memcmp (r->id, id, IM_ID_SIZE) == 0)
            return r;
    }
}

/* Notes record N, just taken: it takes the slot of an older version of
 * its key taken before (only a newer version is taken, see known). */
static void
batch_note (im_mesh_t *self, size_t n)
{
    const im_record_t *r = &self->recs[n];
    size_t i = batch_slot (self, r->origin, r->id);
    for (; self->apply_slots[i]; i = (i + 1) & (APPLY_SLOTS - 1)) {
        const im_record_t *o = &self->recs[self->apply_slots[i] - 1];
        if (memcmp (o->origin, r->origin, IM_NODE_ID_SIZE) == 0
            && memcmp (o->id, r->id, IM_ID_SIZE) == 0)
            break;
    }
    self->apply_slots[i] = (uint16_t)(n + 1);
}

/* Whether the record of E (key HEAD) is one we know already: HELD is the
 * version we hold (0: none), when HAVE (the store could tell). */
static int
known (im_mesh_t *self, const im_msg_entry_t *e, const im_record_head_t *head, int have,
       uint64_t held)
{
    if (!have || held < head->version)
        return 0;
    /* The same version of a limited reach over fewer hops is not known: it
     * may now go further (SPEC, "Hops over several paths"). */
    uint8_t hops = 0;
    return held > head->version || head->reach == IM_REACH_UNLIMITED
           || im_store_held (self->store, head->origin, head->id, &hops, NULL) != 0
           || hops <= (unsigned)e->hops + 1;
}

/* A prefix broader than the guards allow (im_guard.h), from anyone: refused
 * whatever its origin, even one its origin forced past the limit (its
 * tombstone is taken: it may undo one stored before the limit existed).
 * Counted and logged with the inbound refusals, and not fetched from that
 * peer again (peer_refused_add). */
static int
too_broad (const im_record_t *rec, char *why, size_t whysz)
{
    int plen, min;
    if (rec->op != IM_OP_PUT || !im_guard_too_broad (rec->type, rec->value, &plen, &min))
        return 0;
    snprintf (why, whysz, "a prefix broader than /%d: %.100s", min, rec->value);
    return 1;
}

/* An answer of a peer, from its arrival until it is applied. */
typedef struct {
    im_verify_job_t v;  /* the records to verify: v.items[0..v.n) */
    peer_t *p;          /* NULL once the peer is gone */
    zframe_t *frame;    /* the message: the records' bytes */
    uint64_t seq;       /* its place among P's answers */
    int done;           /* verified */
    int found;          /* FOUND: an answer to our FETCH, else RECORDS */
    int stale;          /* it moves no cursor (see mesh_handle_records) */
    uint64_t pull_from; /* RECORDS: the cursor its pull asked from, */
    uint64_t cursor;    /* the one it reaches, */
    uint8_t more;       /* and its flags */
    uint8_t hops[IM_MSG_CREDIT_MAX];
    im_verify_item_t items[IM_MSG_CREDIT_MAX];
    refusals_t rf;
} job_t;

/* Checks the record of ITEM (verified: RC) with HOPS, from P (HELD: the
 * version this node holds of it, 0 for none; FOUND: it came in a FOUND), and,
 * when it is to be stored, makes it the batch's item N. Returns 1 when it was
 * taken, else 0 (counted). */
static int
take (im_mesh_t *self, peer_t *p, const im_verify_item_t *item, uint8_t hops,
      uint64_t held, size_t n, int found, refusals_t *rf)
{
    const uint8_t *own = im_identity_node (self->identity);
    im_record_t *rec = &self->recs[n];
    char why[256];
    /* A worker decoded and checked these very bytes (RC 0): they are read
     * again without checking every field a second time. */
    if (item->rc != 0 || im_record_decode_stored (item->record, item->len, rec) != 0) {
        p->refused[item->rc == EPERM ? REFUSE_SIGNATURE : REFUSE_MALFORMED]++;
        return 0;
    }
    /* The same record twice in one batch. */
    const im_record_t *twin = batch_find (self, rec->origin, rec->id);
    if (twin && twin->version >= rec->version) {
        peer_count_known (p, found);
        return 0;
    }
    /* A record signed with our key and newer than what we hold is ours, from
     * before our store was lost or restored (SPEC, "Store restarts"): taken
     * back as our own, past the inbound rules for others' records. */
    int mine = memcmp (rec->origin, own, IM_NODE_ID_SIZE) == 0;
    im_accept_ctx_t actx = {
        .rec = rec,
        .hops = hops,
        .self = own,
        .peer = p->card.node,
        .peer_name = p->card.name,
        .in = &p->in,
        .holds_earlier = held > 0 && held < rec->version,
        .now = im_time_now (),
    };
    im_accept_t verdict
        = mine ? IM_ACCEPT_YES : im_policy_inbound (&actx, why, sizeof why);
    if (verdict == IM_ACCEPT_YES && !mine && too_broad (rec, why, sizeof why))
        verdict = IM_ACCEPT_INVALID; /* counted with the inbound refusals */
    /* Our own too: a record of an exercise purged here, replayed by a
     * peer, is not taken back (SPEC, "Exercises"). */
    if (verdict == IM_ACCEPT_YES && self->accept && !im_type_is_ioc (rec->type)
        && self->accept (rec, self->accept_arg, why, sizeof why))
        verdict = IM_ACCEPT_INVALID;
    if (verdict != IM_ACCEPT_YES && verdict != IM_ACCEPT_REVOCATION) {
        int r = im_accept_violation (verdict)  ? REFUSE_VIOLATION
                : verdict == IM_ACCEPT_EXPIRED ? REFUSE_EXPIRED
                                               : REFUSE_INBOUND;
        if (p->refused[r] == rf->before[r])
            snprintf (rf->first_why[r], sizeof rf->first_why[r], "%s",
                      strncmp (why, "refused: ", 9) == 0 ? why + 9 : why);
        p->refused[r]++;
        peer_refused_add (p, rec); /* not fetched from it again */
        return 0;
    }
    unsigned nhops = mine ? 0 : (unsigned)hops + 1;
    self->items[n].blob = item->record;
    self->items[n].len = item->len;
    self->items[n].rec = rec;
    self->items[n].hops = (uint8_t)(nhops > 254 ? 254 : nhops);
    self->items[n].from = mine ? NULL : p->card.node;
    return 1;
}

/* Whether the batch takes REC already, at its version or a newer one: as
 * a record of its own, or out of another carrier (the same record sealed
 * twice is opened and counted once). */
static int
inner_twin (im_mesh_t *self, const im_record_t *rec)
{
    const im_record_t *t = batch_find (self, rec->origin, rec->id);
    if (t && t->version >= rec->version)
        return 1;
    for (size_t i = 0; i < self->ninner; i++)
        if (memcmp (self->inner[i]->origin, rec->origin, IM_NODE_ID_SIZE) == 0
            && memcmp (self->inner[i]->id, rec->id, IM_ID_SIZE) == 0
            && self->inner[i]->version >= rec->version)
            return 1;
    return 0;
}

/* The record the carrier of ITEM (taken as the batch's item N, HOPS from
 * P) held sealed to this node (SPEC.md, "Carrying sealed envelopes"):
 * decoded (the worker verified it), checked by the inbound rules as if its
 * origin had sent it, and made the batch's item AT. Returns 1 when it was
 * taken, else 0 (counted, and logged when refused). */
static int
take_inner (im_mesh_t *self, peer_t *p, const im_record_t *carrier,
            const im_verify_item_t *item, uint8_t hops, size_t at)
{
    const uint8_t *own = im_identity_node (self->identity);
    if (item->sealed == IM_VERIFY_UNREADABLE)
        self->sealed_unreadable++;
    if (item->sealed != IM_VERIFY_OPENED || self->ninner >= IM_MSG_CREDIT_MAX)
        return 0;
    im_record_t *rec = malloc (sizeof *rec);
    char why[256] = "";
    if (!rec || im_record_decode (item->opened, item->opened_len, 0, rec, why, sizeof why)
        || memcmp (rec->origin, carrier->origin, IM_NODE_ID_SIZE)) {
        /* A node seals only its own records: one that seals another's
         * would pass on what it may not (an AMBER record it was given). */
        self->sealed_unreadable++;
        if (rec && !*why && mesh_peer_log (p, PEER_LOG_SEALED_OTHER))
            zsys_warning ("mesh: refused a record sealed to this node by another than "
                          "its origin, carried by %s",
                          p->card.name);
        free (rec);
        return 0;
    }
    uint64_t held = 0;
    im_store_version (self->store, rec->origin, rec->id, &held);
    if (inner_twin (self, rec)) {
        free (rec);
        return 0;
    }
    /* It comes from its origin, whoever carried it: the inbound rules are
     * those for its origin when it is a peer (else none beyond the rules
     * every record obeys), the same whichever path the carrier took. */
    const peer_t *op = peer_by_node (self, rec->origin);
    im_inbound_t none;
    im_inbound_default (&none);
    im_accept_ctx_t actx = {
        .rec = rec,
        .hops = hops,
        .self = own,
        .peer = rec->origin,
        .peer_name = op ? op->card.name : "its origin",
        .in = op ? &op->in : &none,
        .holds_earlier = held > 0 && held < rec->version,
        .now = im_time_now (),
        .sealed = 1,
    };
    im_accept_t verdict = memcmp (rec->origin, own, IM_NODE_ID_SIZE) == 0
                              ? IM_ACCEPT_INVALID
                              : im_policy_inbound (&actx, why, sizeof why);
    if (verdict == IM_ACCEPT_YES && self->accept && !im_type_is_ioc (rec->type)
        && self->accept (rec, self->accept_arg, why, sizeof why))
        verdict = IM_ACCEPT_INVALID;
    /* The same version over fewer links (a closer copy of its carrier): the
     * store logs it anew with the fewer hops when its reach is limited
     * (SPEC, "Hops over several paths"), or finds it stale. */
    int again = held == rec->version && rec->reach != IM_REACH_UNLIMITED;
    if ((held >= rec->version && !again)
        || (verdict != IM_ACCEPT_YES && verdict != IM_ACCEPT_REVOCATION)) {
        if (held < rec->version) {
            self->sealed_refused++;
            if (mesh_peer_log (p, PEER_LOG_SEALED))
                zsys_warning (
                    "mesh: refused a record sealed to this node, carried by %s: %s",
                    p->card.name, why);
        }
        free (rec);
        return 0;
    }
    unsigned nhops = (unsigned)hops + 1;
    self->inner[self->ninner++] = rec;
    self->items[at].blob = item->opened;
    self->items[at].len = item->opened_len;
    self->items[at].rec = rec;
    self->items[at].hops = (uint8_t)(nhops > 254 ? 254 : nhops);
    self->items[at].from = rec->origin; /* it came from its origin, sealed */
    self->sealed_opened += !again;
    return 1;
}

/* One warning for each reason records of the batch were refused: every
 * refusal is logged. Not within the peer's lines a minute: a batch is an
 * answer to one of our pulls, so these come at the pace we pull. */
static void
warn_refusals (const peer_t *p, const refusals_t *rf)
{
    for (int r = 0; r < REFUSE_COUNT; r++)
        if (p->refused[r] - rf->before[r] + rf->sifted[r] > 0)
            zsys_warning (
                "mesh: refused %llu record(s) from %s: %s%s%s%s",
                (unsigned long long)(p->refused[r] - rf->before[r] + rf->sifted[r]),
                p->card.name, im_mesh_refuse_names[r], *rf->first_why[r] ? " (" : "",
                rf->first_why[r], *rf->first_why[r] ? ")" : "");
}

/* Stores the batch's N items and the M records carriers among them held
 * for this node (with P's CURSOR, unless FOUND: an answer to a FETCH), then
 * publishes and notes what was new. RESTART: the batch of an answer flagged
 * restart, made durable before anything else (see apply). */
static void
store (im_mesh_t *self, peer_t *p, size_t n, size_t m, uint64_t cursor, int found,
       int restart)
{
    char err[256];
    int stored = found ? im_store_put_batch (self->store, self->items, n + m,
                                             self->results, err, sizeof err)
                       : im_store_put_batch_cursor (self->store, self->items, n + m,
                                                    self->results, p->card.node, cursor,
                                                    err, sizeof err);
    if (stored >= 0 && restart && im_store_sync (self->store) != 0)
        zsys_error ("mesh: cannot make %s's restart durable: %s", p->card.name,
                    strerror (errno));
    if (stored < 0) {
        /* The cursor did not move: the next pull asks again, after a wait
         * that grows while storing fails (a full disk); answers to pulls
         * ahead of it move no cursor. */
        peer_store_failed (p, err);
        p->cursor_ahead = p->cursor;
        return;
    }
    peer_store_worked (p);
    p->cursor = cursor;
    if (cursor > p->their_seq)
        p->their_seq = cursor;
    static const uint8_t no_peer[IM_NODE_ID_SIZE]; /* our own: from no peer */
    int fetched[IM_MSG_CREDIT_MAX];
    const uint8_t *noted = NULL, *copied = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!self->items[i].from)
            self->items[i].from = no_peer; /* stored; the HAVE below reads it */
        fetched[i] = found && self->results[i] != IM_STORE_STALE
                     && self->results[i] != IM_STORE_CLOSER;
        if (self->results[i] == IM_STORE_STALE || self->results[i] == IM_STORE_CLOSER) {
            /* Held at that version or newer when stored (another peer's
             * copy was checked at the same time), or held over more hops:
             * a copy, as one that comes later is (two peers' copies
             * checked at once chose nobody). */
            if (self->results[i] == IM_STORE_STALE) {
                peer_count_known (p, found);
                p->known_late++;
            }
            if (self->items[i].from != no_peer
                && (!copied || memcmp (copied, self->recs[i].origin, IM_NODE_ID_SIZE)))
                mesh_note_eager (self, p, copied = self->recs[i].origin, 1);
        }
        else {
            p->received++;
            /* Noted once for a run of records of one origin: the note is
             * the same for each. */
            if (self->items[i].from != no_peer
                && (!noted || memcmp (noted, self->recs[i].origin, IM_NODE_ID_SIZE)))
                mesh_note_eager (self, p, noted = self->recs[i].origin, 0);
            if (self->stored)
                self->stored (&self->recs[i], self->arg);
        }
    }
    for (size_t i = n; i < n + m; i++)
        if (self->results[i] != IM_STORE_STALE && self->results[i] != IM_STORE_CLOSER
            && self->stored)
            self->stored (self->items[i].rec, self->arg);
    if (found)
        mesh_found_done (self, p, fetched, n);
    else
        peer_send_pull (self, p);
    mesh_send_have (self, p, n);
    if (stored > 0)
        mesh_relay_within (self, RELAY_DELAY_MS);
}

/* The cursor P's pulls ask from: past the answers being verified. */
uint64_t
peer_cursor_ahead (const peer_t *p)
{
    return p->records_pending ? p->cursor_ahead : p->cursor;
}

/* One past a peer's change number CURSOR, as far as one goes (a peer may
 * send any: past the last, a number would wrap to 0). */
static uint64_t
one_past (uint64_t cursor)
{
    return cursor < UINT64_MAX ? cursor + 1 : cursor;
}

/* Applies JOB, verified, of its peer. */
static void
apply (im_mesh_t *self, job_t *job)
{
    peer_t *p = job->p;
    size_t n = 0;
    memset (self->apply_slots, 0, sizeof self->apply_slots);
    memcpy (job->rf.before, p->refused, sizeof job->rf.before);
    int reading = im_store_read_begin (self->store) == 0;
    /* The versions held of the records, in one look-up (0: none; a record
     * that cannot be read is refused by take). */
    for (size_t i = 0; i < job->v.n; i++)
        if (im_record_peek (job->v.items[i].record, job->v.items[i].len, &self->heads[i]))
            memset (&self->heads[i], 0, sizeof self->heads[i]);
    if (im_store_versions (self->store, self->heads[0].origin, sizeof *self->heads,
                           job->v.n, self->held))
        memset (self->held, 0, job->v.n * sizeof *self->held);
    size_t taken[IM_MSG_CREDIT_MAX], m = 0;
    im_record_array_ready (self->recs, &self->recs_ready, job->v.n);
    for (size_t i = 0; i < job->v.n; i++)
        if (take (self, p, &job->v.items[i], job->hops[i], self->held[i], n, job->found,
                  &job->rf)) {
            taken[n] = i;
            batch_note (self, n++);
        }
    self->ninner = 0;
    for (size_t k = 0; k < n; k++)
        if (self->recs[k].type == IM_TYPE_SEALED)
            m += take_inner (self, p, &self->recs[k], &job->v.items[taken[k]],
                             job->hops[taken[k]], n + m);
    if (reading)
        im_store_read_end (self->store);
    warn_refusals (p, &job->rf);
    /* An answer to a pull from elsewhere than the stored cursor (ahead of a
     * batch that could not be stored, or from before the cursor was moved
     * back) moves no cursor. */
    int stale = job->stale || (!job->found && job->pull_from != p->cursor);
    if (!job->found) {
        p->records_pending--;
        /* Not quiet before a wait from now; nor while it said it has more
         * (its next answer may be on its way: see want_ready). */
        p->answered_at = zclock_mono ();
        if (!stale && (job->more & IM_MSG_MORE) && !(job->more & IM_MSG_RESTART)) {
            if (job->cursor >= p->their_seq)
                p->their_seq = one_past (job->cursor);
            /* A rescan's answers move no cursor: flagged MORE, they would
             * keep it from being quiet until it stored something new for
             * here (review 95); its answers coming keep it so meanwhile. */
            if (job->cursor > job->pull_from && job->cursor >= p->more_seq)
                p->more_seq = one_past (job->cursor);
        }
        /* A pull from 0 answered at 0, with nothing more: it has nothing at
         * all, and after a rewind is not waited for (review 97). */
        if (!stale && job->pull_from == 0 && job->cursor == 0
            && !(job->more & (IM_MSG_MORE | IM_MSG_RESTART)))
            p->more_seq = 0;
    }
    uint64_t cursor = job->cursor > p->cursor ? job->cursor : p->cursor;
    int restart = 0;
    if (job->found || stale)
        cursor = p->cursor;
    else if (job->more & IM_MSG_RESTART) {
        /* Its store restarted: its numbers count again from there. The
         * batch and its cursor are made durable before the next pull: a
         * power loss that undid them would leave the old numbering's cursor
         * here, which the peer, having served past it, would not flag again
         * (its records between the two would be skipped). */
        mesh_restart_heard (self, p, job->cursor);
        if (job->more & IM_MSG_MORE)
            p->more_seq = one_past (job->cursor); /* and it has more: not quiet yet */
        cursor = job->cursor;
        restart = 1;
    }
    if (n == 0 && cursor == p->cursor) {
        /* Nothing to write. */
        if (job->found)
            mesh_found_done (self, p, NULL, 0);
        else
            peer_send_pull (self, p);
        return;
    }
    store (self, p, n, m, cursor, job->found, restart);
    for (size_t i = 0; i < self->ninner; i++)
        free (self->inner[i]);
    self->ninner = 0;
}

static void
job_free (job_t **job_p)
{
    if (*job_p) {
        for (size_t i = 0; i < (*job_p)->v.n; i++)
            free ((*job_p)->items[i].opened);
        sodium_memzero ((*job_p)->v.open_key, sizeof (*job_p)->v.open_key);
        zframe_destroy (&(*job_p)->frame);
        free (*job_p);
        *job_p = NULL;
    }
}

/* Whether JOB, verified, waits for the answer to the pull ahead of it
 * (SPEC "Pulling"): when it had records to verify, more is to come, and no
 * other answer of its peer (RECORDS or FOUND) is waiting or being verified, it is applied
 * once that answer is read and handed to the workers, or after APPLY_HOLD_MS. Else the
 * answer would only be read once this one is applied, and be verified while the node's
 * thread waits. */
static int
hold (im_mesh_t *self, job_t *job)
{
    peer_t *p = job->p;
    if (p->hold_over) {
        p->hold_over = 0;
        p->hold_until = 0;
        return 0;
    }
    if (p->hold_until)
        return 1;
    if (job->found || job->stale || job->v.n == 0 || !(job->more & IM_MSG_MORE)
        || (job->more & IM_MSG_RESTART) || p->jobs_seq - p->jobs_next != 1
        || !peer_is (p, IM_REGION_PULL, IM_PULL_OUT))
        return 0;
    p->hold_until = zclock_mono () + APPLY_HOLD_MS;
    if (!self->hold_at || p->hold_until < self->hold_at)
        self->hold_at = p->hold_until;
    return 1;
}

/* Applies P's answers that are verified, in the order they came. */
static void
apply_ready (im_mesh_t *self, peer_t *p)
{
    for (int more = 1; more;) {
        more = 0;
        for (job_t *job = zlistx_first (self->jobs); job; job = zlistx_next (self->jobs))
            if (job->p == p && job->seq == p->jobs_next) {
                if (!job->done || hold (self, job))
                    return;
                zlistx_delete (self->jobs, zlistx_cursor (self->jobs));
                p->jobs_next++;
                self->verified += job->v.verified;
                self->cached += job->v.cached;
                self->sig_failed += job->v.failed;
                apply (self, job);
                job_free (&job);
                more = 1;
                break;
            }
    }
}

void
mesh_apply_done (im_mesh_t *self)
{
    im_verify_job_t *v;
    while ((v = im_verify_done (self->pool))) {
        job_t *job = v->arg;
        job->done = 1;
        if (!job->p) {
            /* Its peer is gone. */
            void *handle = zlistx_find (self->jobs, job);
            if (handle)
                zlistx_delete (self->jobs, handle);
            job_free (&job);
        }
        else
            apply_ready (self, job->p);
    }
}

/* Applies the answers whose hold is over (NOW, monotonic ms). */
void
mesh_apply_held (im_mesh_t *self, int64_t now)
{
    if (!self->hold_at || now < self->hold_at)
        return;
    self->hold_at = 0;
    /* The peers due are listed first: applying walks the list of peers. */
    peer_t *due[IM_PEERS_MAX];
    size_t n = 0;
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (p->hold_until && now >= p->hold_until && n < IM_PEERS_MAX) {
            p->hold_over = 1;
            due[n++] = p;
        }
        else if (p->hold_until && (!self->hold_at || p->hold_until < self->hold_at))
            self->hold_at = p->hold_until;
    for (size_t i = 0; i < n; i++)
        apply_ready (self, due[i]); /* a new hold sets hold_at itself */
}

void
mesh_apply_forget (im_mesh_t *self, peer_t *p)
{
    p->hold_until = 0;
    p->hold_over = 0;
    for (job_t *job = zlistx_first (self->jobs); job;) {
        if (job->p != p) {
            job = zlistx_next (self->jobs);
            continue;
        }
        job->p = NULL; /* one still out is freed when it comes back */
        if (job->done) {
            zlistx_delete (self->jobs, zlistx_cursor (self->jobs));
            job_free (&job);
            job = zlistx_first (self->jobs);
        }
        else
            job = zlistx_next (self->jobs);
    }
}

void
mesh_apply_free_all (im_mesh_t *self)
{
    job_t *job;
    while (self->jobs && (job = zlistx_first (self->jobs))) {
        zlistx_delete (self->jobs, zlistx_cursor (self->jobs));
        job_free (&job);
    }
}

/* Which entries of MSG from P are worth a signature check, into JOB: what
 * we hold already is skipped (counted as known) before any. */
static void
sift (im_mesh_t *self, peer_t *p, const im_msg_t *msg, job_t *job)
{
    int reading = im_store_read_begin (self->store) == 0;
    /* The heads first, then the versions held of them in one look-up. */
    uint16_t at[IM_MSG_CREDIT_MAX];
    size_t m = 0;
    for (size_t i = 0; i < msg->count && i < IM_MSG_CREDIT_MAX; i++) {
        const im_msg_entry_t *e = &msg->entries[i];
        if (job->found && !mesh_found_take (p, e))
            /* Not asked for, or brought twice: refused unread. */
            p->refused[REFUSE_PROTOCOL]++;
        else if (im_record_peek (e->record, e->len, &self->heads[m]) != 0)
            p->refused[REFUSE_MALFORMED]++;
        else
            at[m++] = (uint16_t)i;
    }
    int have = im_store_versions (self->store, self->heads[0].origin, sizeof *self->heads,
                                  m, self->held)
               == 0;
    for (size_t k = 0; k < m; k++) {
        const im_msg_entry_t *e = &msg->entries[at[k]];
        const im_record_head_t *head = &self->heads[k];
        if (known (self, e, head, have, have ? self->held[k] : 0)) {
            peer_count_known (p, job->found);
            /* A copy from a second peer: the first becomes the eager one. */
            mesh_note_eager (self, p, head->origin, 1);
            continue;
        }
        job->items[job->v.n].record = e->record;
        job->items[job->v.n].len = e->len;
        job->hops[job->v.n++] = e->hops;
    }
    if (reading)
        im_store_read_end (self->store);
}

/* RECORDS, the answer to our pull, or FOUND, the answer to our FETCH, in
 * FRAME (taken). What is known is skipped now; the rest is verified by the
 * workers and applied when they are done (apply), in the order P's answers
 * came. */
void
mesh_handle_records (im_mesh_t *self, peer_t *p, const im_msg_t *msg, zframe_t *frame)
{
    int found = msg->id == IM_MSG_FOUND;
    int stale = peer_is (p, IM_REGION_PULL, IM_PULL_STALE);
    if (!found)
        peer_event (p, IM_EV_PULL_ANSWERED);
    int over = !found && msg->count > p->asked;
    if (over) {
        /* More than the pull's credit: the peer ignores our rate. */
        p->refused[REFUSE_PROTOCOL]++;
        if (mesh_peer_log (p, PEER_LOG_CREDIT))
            zsys_warning ("mesh: %s sent %zu records for a credit of %u: refused",
                          p->card.name, msg->count, p->asked);
    }
    job_t *job = over ? NULL : calloc (1, sizeof *job);
    if (job && !zlistx_add_end (self->jobs, job)) {
        free (job);
        job = NULL;
    }
    if (!over && !job)
        zsys_error ("mesh: out of memory: records from %s are asked for again",
                    p->card.name);
    if (!job) {
        zframe_destroy (&frame);
        if (found)
            mesh_found_done (self, p, NULL, 0);
        else
            peer_send_pull (self, p);
        return;
    }
    if (!found && p->in.rate)
        p->tokens -= (double)msg->count;
    uint64_t before[REFUSE_COUNT];
    memcpy (before, p->refused, sizeof before);
    job->p = p;
    job->frame = frame;
    job->seq = p->jobs_seq++;
    job->found = found;
    job->v.items = job->items;
    job->v.arg = job;
    job->v.open = 1;
    memcpy (job->v.open_key, im_identity_sign_secret (self->identity),
            sizeof job->v.open_key);
    job->cursor = msg->cursor;
    job->more = msg->more;
    job->pull_from = p->pull_from;
    /* An answer to a pull from elsewhere than where the answers before it
     * leave the cursor moves no cursor (see apply). */
    job->stale = !found && (stale || p->pull_from != peer_cursor_ahead (p));
    sift (self, p, msg, job);
    for (int r = 0; r < REFUSE_COUNT; r++)
        job->rf.sifted[r] = p->refused[r] - before[r];
    if (!found) {
        uint64_t ahead = peer_cursor_ahead (p);
        p->cursor_ahead = job->stale                   ? ahead
                          : msg->more & IM_MSG_RESTART ? msg->cursor
                          : msg->cursor > ahead        ? msg->cursor
                                                       : ahead;
    }
    if (!found && p->records_pending++ < PULLS_AHEAD && !job->stale
        && (msg->more & IM_MSG_MORE) && !(msg->more & IM_MSG_RESTART)
        && p->cursor_ahead > p->cursor && !p->backoff_ms)
        /* Pull ahead: the peer reads the next batch while this one is
         * verified and applied (SPEC "Pulling"). */
        peer_send_pull (self, p);
    /* An answer held for this one (see hold) is applied now. */
    p->hold_over = p->hold_until != 0;
    if (job->v.n == 0 || im_verify_submit (self->pool, &job->v) != 0) {
        /* Nothing to verify, or no worker to take it: done here. */
        for (size_t i = 0; i < job->v.n; i++)
            job->v.failed
                += (uint64_t)im_verify_one (&job->v, i, self->roots, &self->recs[0]);
        job->done = 1;
    }
    if (job->done || p->hold_over)
        apply_ready (self, p);
}
