/* SPDX-License-Identifier: MPL-2.0 */
/* im_apply.c -- applying the records a peer sends (inbound): each is checked
 * (known, duplicate, signature, own origin, inbound rules, the widest
 * prefix), and the batch is stored with the peer's cursor in one transaction. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_guard.h"
#include "im_mesh_int.h"

/* The refusals of one batch: the counts before it, and the first reason
 * given for each, for one warning a reason. */
typedef struct {
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

/* Whether the record of E (key HEAD) is one we know already, or was taken
 * from this message already. HELD is the version we hold (0: none), when
 * HAVE (the store could tell). */
static int
known (im_mesh_t *self, const im_msg_entry_t *e, const im_record_head_t *head, int have,
       uint64_t held)
{
    if (have && held >= head->version) {
        /* The same version of a limited reach over fewer hops is not
         * known: it may now go further (SPEC, "Hops over several
         * paths"). */
        uint8_t hops = 0;
        if (held > head->version || head->reach == IM_REACH_UNLIMITED
            || im_store_held (self->store, head->origin, head->id, &hops, NULL) != 0
            || hops <= (unsigned)e->hops + 1)
            return 1;
    }
    /* The same record twice in one batch. */
    const im_record_t *twin = batch_find (self, head->origin, head->id);
    return twin && twin->version >= head->version;
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

/* Checks entry E of P's batch and, when it is to be stored, makes it the
 * batch's item N. Returns 1 when it was taken, else 0 (counted). */
static int
take (im_mesh_t *self, peer_t *p, const im_msg_entry_t *e, size_t n, refusals_t *rf)
{
    const uint8_t *own = im_identity_node (self->identity);
    /* Known version: skipped before any signature is checked. */
    im_record_head_t head;
    uint64_t held = 0;
    if (im_record_peek (e->record, e->len, &head) != 0) {
        p->refused[REFUSE_MALFORMED]++;
        return 0;
    }
    int have = im_store_version (self->store, head.origin, head.id, &held) == 0;
    if (known (self, e, &head, have, held)) {
        p->known++;
        /* A copy from a second peer: the first becomes the eager one. */
        mesh_note_eager (self, p, head.origin, 1);
        return 0;
    }
    im_record_t *rec = &self->recs[n];
    char why[256];
    if (im_record_decode_cached (e->record, e->len, self->roots, rec, why, sizeof why)
        != 0) {
        p->refused[errno == EPERM ? REFUSE_SIGNATURE : REFUSE_MALFORMED]++;
        return 0;
    }
    /* A record signed with our key and newer than what we hold is ours, from
     * before our store was lost or restored (SPEC, "Store restarts"): taken
     * back as our own, past the inbound rules for others' records. */
    int mine = memcmp (rec->origin, own, IM_NODE_ID_SIZE) == 0;
    im_accept_ctx_t actx = {
        .rec = rec,
        .hops = e->hops,
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
    unsigned hops = mine ? 0 : (unsigned)e->hops + 1;
    self->items[n].blob = e->record;
    self->items[n].len = e->len;
    self->items[n].rec = rec;
    self->items[n].hops = (uint8_t)(hops > 254 ? 254 : hops);
    self->items[n].from = mine ? NULL : p->card.node;
    return 1;
}

/* One warning for each reason records of the batch were refused. */
static void
warn_refusals (const peer_t *p, const refusals_t *rf)
{
    for (int r = 0; r < REFUSE_COUNT; r++)
        if (p->refused[r] > rf->before[r])
            zsys_warning ("mesh: refused %llu record(s) from %s: %s%s%s%s",
                          (unsigned long long)(p->refused[r] - rf->before[r]),
                          p->card.name, im_mesh_refuse_names[r],
                          *rf->first_why[r] ? " (" : "", rf->first_why[r],
                          *rf->first_why[r] ? ")" : "");
}

/* Stores the batch's N items (with P's CURSOR, unless FOUND: an answer to a
 * FETCH), then publishes and notes what was new. */
static void
store (im_mesh_t *self, peer_t *p, size_t n, uint64_t cursor, int found)
{
    char err[256];
    int stored
        = found ? im_store_put_batch (self->store, self->items, n, self->results, err,
                                      sizeof err)
                : im_store_put_batch_cursor (self->store, self->items, n, self->results,
                                             p->card.node, cursor, err, sizeof err);
    if (stored < 0) {
        /* The cursor did not move: the next pull asks again, after a wait
         * that grows while storing fails (a full disk). */
        peer_store_failed (p, err);
        return;
    }
    peer_store_worked (p);
    p->cursor = cursor;
    if (cursor > p->their_seq)
        p->their_seq = cursor;
    static const uint8_t no_peer[IM_NODE_ID_SIZE]; /* our own: from no peer */
    int fetched[IM_MSG_CREDIT_MAX];
    for (size_t i = 0; i < n; i++) {
        if (!self->items[i].from)
            self->items[i].from = no_peer; /* stored; the HAVE below reads it */
        fetched[i] = found && self->results[i] != IM_STORE_STALE
                     && self->results[i] != IM_STORE_CLOSER;
        if (self->results[i] != IM_STORE_STALE && self->results[i] != IM_STORE_CLOSER) {
            p->received++;
            if (self->items[i].from != no_peer)
                mesh_note_eager (self, p, self->recs[i].origin, 0);
            if (self->stored)
                self->stored (&self->recs[i], self->arg);
        }
    }
    if (found)
        mesh_found_done (self, p, fetched, n);
    else
        peer_send_pull (self, p);
    mesh_send_have (self, p, n);
    if (stored > 0)
        mesh_relay_within (self, RELAY_DELAY_MS);
}

/* RECORDS, the answer to our pull, or FOUND, the answer to our FETCH. */
void
mesh_handle_records (im_mesh_t *self, peer_t *p, const im_msg_t *msg)
{
    int found = msg->id == IM_MSG_FOUND;
    /* An answer to a pull sent before the cursor was moved back moves no
     * cursor. */
    int stale = peer_is (p, IM_REGION_PULL, IM_PULL_STALE);
    if (!found)
        peer_event (p, IM_EV_PULL_ANSWERED);
    size_t n = 0;
    refusals_t rf;
    memcpy (rf.before, p->refused, sizeof rf.before);
    memset (rf.first_why, 0, sizeof rf.first_why);
    if (!found && msg->count > p->asked) {
        /* More than the pull's credit: the peer ignores our rate. */
        p->refused[REFUSE_PROTOCOL]++;
        zsys_warning ("mesh: %s sent %zu records for a credit of %u: refused",
                      p->card.name, msg->count, p->asked);
        peer_send_pull (self, p);
        return;
    }
    if (!found && p->in.rate)
        p->tokens -= (double)msg->count;
    memset (self->apply_slots, 0, sizeof self->apply_slots);
    /* One read transaction for every entry's look-ups, not one each. */
    int reading = im_store_read_begin (self->store) == 0;
    for (size_t i = 0; i < msg->count; i++) {
        if (found && !mesh_found_take (p, &msg->entries[i])) {
            /* Not asked for, or brought twice: refused unread. */
            p->refused[REFUSE_PROTOCOL]++;
            continue;
        }
        if (take (self, p, &msg->entries[i], n, &rf))
            batch_note (self, n++);
    }
    if (reading)
        im_store_read_end (self->store);
    warn_refusals (p, &rf);
    uint64_t cursor = msg->cursor > p->cursor ? msg->cursor : p->cursor;
    if (found || stale)
        cursor = p->cursor; /* an answer to FETCH, or to a pull sent before
                               the cursor was moved back, moves no cursor */
    else if (msg->more & IM_MSG_RESTART) {
        /* Its store restarted: its numbers count again from there. */
        mesh_restart_heard (self, p, msg->cursor);
        cursor = msg->cursor;
    }
    if (n == 0 && cursor == p->cursor) {
        /* Nothing to write. */
        if (found)
            mesh_found_done (self, p, NULL, 0);
        else
            peer_send_pull (self, p);
        return;
    }
    store (self, p, n, cursor, found);
}
