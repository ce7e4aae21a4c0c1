/* SPDX-License-Identifier: MPL-2.0 */
/* im_store_put.c -- the store's writes: a batch of records in one durable
 * transaction, each replacing an older version (its indexes, counters and
 * origin state updated) and logged as a change; the map grown and the batch
 * retried when full. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>
#include <sodium.h>

#include "im_store_int.h"
#include "im_time.h"
#include "im_util.h"

size_t
store_index_key (int type, const char *value, uint8_t key[INDEX_KEY_MAX])
{
    char folded[IM_VALUE_MAX + 1];
    size_t len = strlen (value);
    const im_type_info_t *ti = im_type_info (type);
    if (ti && ti->lookup == IM_LOOKUP_NOCASE && len <= IM_VALUE_MAX) {
        for (size_t i = 0; i <= len; i++)
            folded[i] = (char)((value[i] >= 'A' && value[i] <= 'Z') ? value[i] - 'A' + 'a'
                                                                    : value[i]);
        value = folded;
    }
    key[0] = (uint8_t)type;
    if (len <= INDEX_INLINE_MAX) {
        memcpy (key + 1, value, len);
        return 1 + len;
    }
    memcpy (key + 1, value, INDEX_PREFIX);
    crypto_generichash (key + 1 + INDEX_PREFIX, 32, (const uint8_t *)value, len, NULL, 0);
    return INDEX_KEY_MAX;
}

size_t
store_prefix_key (int type, const char *value, uint8_t key[18])
{
    uint8_t addr[16];
    int plen;
    if ((type != IM_TYPE_IPV4 && type != IM_TYPE_IPV6)
        || im_ioc_prefix_canonical (type, value, addr, &plen) != 0)
        return 0;
    size_t alen = type == IM_TYPE_IPV4 ? 4 : 16;
    if (plen >= (int)alen * 8)
        return 0;
    key[0] = type == IM_TYPE_IPV4 ? 4 : 6;
    key[1] = (uint8_t)plen;
    memcpy (key + 2, addr, alen);
    return 2 + alen;
}

/* --- Writes ------------------------------------------------------------ */

int
store_index_del (im_store_t *self, MDB_txn *txn, const im_record_t *rec,
                 const uint8_t *rkey)
{
    uint8_t key[INDEX_KEY_MAX];
    MDB_val k = { store_index_key (rec->type, rec->value, key), key };
    MDB_val v = { IM_STORE_KEY_SIZE, (void *)rkey };
    int rc = mdb_del (txn, self->index, &k, &v);
    uint8_t pk[18];
    size_t plen = store_prefix_key (rec->type, rec->value, pk);
    if ((rc == 0 || rc == MDB_NOTFOUND) && plen) {
        MDB_val pkv = { plen, pk };
        rc = mdb_del (txn, self->prefixes, &pkv, &v);
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* A tombstone is found by its value (im_store_lookup_revoked), never by a
 * prefix. */
static int
tombstone_index_put (im_store_t *self, MDB_txn *txn, const im_record_t *rec,
                     const uint8_t *rkey)
{
    uint8_t key[INDEX_KEY_MAX];
    MDB_val k = { store_index_key (rec->type, rec->value, key), key };
    MDB_val v = { IM_STORE_KEY_SIZE, (void *)rkey };
    return mdb_put (txn, self->index, &k, &v, 0);
}

static int
index_put (im_store_t *self, MDB_txn *txn, const im_record_t *rec, const uint8_t *rkey)
{
    uint8_t key[INDEX_KEY_MAX];
    MDB_val k = { store_index_key (rec->type, rec->value, key), key };
    MDB_val v = { IM_STORE_KEY_SIZE, (void *)rkey };
    int rc = mdb_put (txn, self->index, &k, &v, 0);
    uint8_t pk[18];
    size_t plen = store_prefix_key (rec->type, rec->value, pk);
    if (rc == 0 && plen) {
        MDB_val pkv = { plen, pk };
        rc = mdb_put (txn, self->prefixes, &pkv, &v, 0);
        uint8_t *used = pk[0] == 4 ? self->plen4 : self->plen6;
        used[pk[1] / 8] |= (uint8_t)(1u << (pk[1] % 8));
    }
    return rc;
}

/* REC (its key RKEY), held now, indexed by its value and counted: a live
 * record also by its prefix, a tombstone by its value only. Returns an LMDB
 * code. */
static int
indexed (im_store_t *self, MDB_txn *txn, const im_record_t *rec, const uint8_t *rkey)
{
    int rc;
    if (rec->op == IM_OP_PUT) {
        if ((rc = index_put (self, txn, rec, rkey)) != 0)
            return rc;
        self->live[rec->type][rec->tlp]++;
    }
    else {
        if ((rc = tombstone_index_put (self, txn, rec, rkey)) != 0)
            return rc;
        self->revoked++;
    }
    return 0;
}

/* Records from a peer keep their hops, change number and the peer they came
 * from in HELD, so that a copy that comes over a shorter path can be told
 * apart and `explain` can say where a record came from. */
static int
held_put (MDB_cursor *cur, const im_store_item_t *item, const uint8_t *rkey, uint64_t seq)
{
    if (!item->from)
        return 0;
    MDB_val k = { IM_STORE_KEY_SIZE, (void *)rkey };
    uint8_t value[HELD_SIZE];
    value[0] = item->hops;
    put_u64 (value + 1, seq);
    memcpy (value + 9, item->from, IM_NODE_ID_SIZE);
    MDB_val v = { sizeof value, value };
    return mdb_cursor_put (cur, &k, &v, 0);
}

/* Appends ITEM (its record's key RKEY) to the change log as the next change:
 * key, version, hops, the peer it came from (zeros: this node's own) and
 * when it was stored (ms). */
static int
change_log (im_store_t *self, MDB_txn *txn, const im_store_item_t *item,
            const uint8_t *rkey)
{
    uint8_t seqkey[8], change[CHANGE_SIZE];
    put_u64 (seqkey, ++self->seq);
    memcpy (change, rkey, IM_STORE_KEY_SIZE);
    put_u64 (change + IM_STORE_KEY_SIZE, item->rec->version);
    change[IM_STORE_KEY_SIZE + 8] = item->hops;
    if (item->from)
        memcpy (change + IM_STORE_KEY_SIZE + 9, item->from, IM_NODE_ID_SIZE);
    else
        memset (change + IM_STORE_KEY_SIZE + 9, 0, IM_NODE_ID_SIZE);
    put_u64 (change + CHANGE_SIZE_V1, (uint64_t)im_time_now_ms ());
    MDB_val ck = { 8, seqkey }, cv = { sizeof change, change };
    return mdb_put (txn, self->changes, &ck, &cv, MDB_APPEND);
}

/* change_log, and for a peer's record its HELD entry (through HELD, a
 * cursor on that table: its keys are the records', neighbours as theirs
 * are). */
static int
change_append (im_store_t *self, MDB_txn *txn, MDB_cursor *held,
               const im_store_item_t *item, const uint8_t *rkey)
{
    int rc = change_log (self, txn, item, rkey);
    return rc ? rc : held_put (held, item, rkey, self->seq);
}

/* The version held came again, over ITEM->hops: when that is fewer links
 * than before, the record is logged again as a new change with the fewer
 * hops (its old change dropped), so that it is served as far as its reach
 * now allows. */
static int
closer (im_store_t *self, MDB_txn *txn, MDB_cursor *held, const im_store_item_t *item,
        const uint8_t *rkey, int *result)
{
    *result = IM_STORE_STALE;
    MDB_val k = { IM_STORE_KEY_SIZE, (void *)rkey }, v;
    int rc = mdb_get (txn, self->held, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0; /* our own: nothing is closer */
    if (rc)
        return rc;
    if (v.mv_size != HELD_SIZE || ((uint8_t *)v.mv_data)[0] <= item->hops)
        return 0;
    uint8_t seqkey[8];
    memcpy (seqkey, (uint8_t *)v.mv_data + 1, 8);
    MDB_val ok = { 8, seqkey };
    rc = mdb_del (txn, self->changes, &ok, NULL);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if ((rc = change_append (self, txn, held, item, rkey)) != 0)
        return rc;
    *result = IM_STORE_CLOSER;
    return 0;
}

/* The origins' state (records held, newest change number) changed by one
 * batch, written once an origin when the batch ends, or when the table is
 * full: a get and a put a record fewer. */
#define ORIGINS_DIRTY 64
typedef struct {
    uint8_t origin[IM_NODE_ID_SIZE];
    uint64_t added; /* records of it new to the store */
    uint64_t seq;   /* its newest change */
} origin_dirty_t;

typedef struct {
    origin_dirty_t o[ORIGINS_DIRTY];
    size_t n, last;
} origins_dirty_t;

/* Writes the origins noted in D. Returns an LMDB code. */
static int
origins_flush (im_store_t *self, MDB_txn *txn, origins_dirty_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        uint8_t state[16] = { 0 };
        MDB_val ok = { IM_NODE_ID_SIZE, d->o[i].origin }, ov;
        int rc = mdb_get (txn, self->origins, &ok, &ov);
        if (rc == 0 && ov.mv_size == sizeof state)
            memcpy (state, ov.mv_data, sizeof state);
        else if (rc == MDB_NOTFOUND)
            self->norigins++;
        else if (rc)
            return rc;
        put_u64 (state, get_u64 (state) + d->o[i].added);
        put_u64 (state + 8, d->o[i].seq);
        ov.mv_size = sizeof state;
        ov.mv_data = state;
        if ((rc = mdb_put (txn, self->origins, &ok, &ov, 0)) != 0)
            return rc;
    }
    d->n = d->last = 0;
    return 0;
}

/* Notes that ORIGIN's newest change is now SELF->seq (ADDED: one record
 * more). Returns an LMDB code. */
static int
origins_note (im_store_t *self, MDB_txn *txn, origins_dirty_t *d, const uint8_t *origin,
              int added)
{
    size_t i = d->last;
    if (i >= d->n || memcmp (d->o[i].origin, origin, IM_NODE_ID_SIZE) != 0)
        for (i = 0; i < d->n; i++)
            if (memcmp (d->o[i].origin, origin, IM_NODE_ID_SIZE) == 0)
                break;
    if (i == d->n) {
        int rc = d->n == ORIGINS_DIRTY ? origins_flush (self, txn, d) : 0;
        if (rc)
            return rc;
        i = d->n++;
        memcpy (d->o[i].origin, origin, IM_NODE_ID_SIZE);
        d->o[i].added = 0;
    }
    d->o[i].added += added ? 1 : 0;
    d->o[i].seq = self->seq;
    d->last = i;
    return 0;
}

/* The records table's last key in this transaction, or a key at or after
 * it (a record removed leaves it behind): a key sorting after it is not
 * held, without a look (an origin's new ids grow, as UUIDv7s do). And one
 * cursor on the table for the batch: a key is looked up and then put
 * through it, so that the put finds the leaf page the look-up left it on
 * without going down from the root again (mdb_cursor_put), and the next
 * key, most often a neighbour, too. */
typedef struct {
    uint8_t key[IM_STORE_KEY_SIZE];
    int known; /* 0: look every key up; 1: KEY is set; 2: the table is empty */
    MDB_cursor *cur;
    MDB_cursor *held; /* the same for the HELD table (a peer's records) */
} records_end_t;

/* Closes END's cursors (NULL-safe). */
static void
records_end_close (records_end_t *end)
{
    if (end->cur)
        mdb_cursor_close (end->cur);
    if (end->held)
        mdb_cursor_close (end->held);
    end->cur = end->held = NULL;
}

/* Opens END's cursors and reads the table's last key into END. Returns an
 * LMDB code; END's cursors are then NULL. */
static int
records_end_read (im_store_t *self, MDB_txn *txn, records_end_t *end)
{
    MDB_val k, v;
    end->known = 0;
    end->cur = end->held = NULL;
    int rc = mdb_cursor_open (txn, self->records, &end->cur);
    if (rc == 0 && (rc = mdb_cursor_open (txn, self->held, &end->held)) != 0)
        end->held = NULL;
    if (rc) {
        records_end_close (end);
        return rc;
    }
    rc = mdb_cursor_get (end->cur, &k, &v, MDB_LAST);
    if (rc == MDB_NOTFOUND)
        end->known = 2;
    else if (rc == 0 && k.mv_size == IM_STORE_KEY_SIZE) {
        memcpy (end->key, k.mv_data, IM_STORE_KEY_SIZE);
        end->known = 1;
    }
    if (rc && rc != MDB_NOTFOUND)
        records_end_close (end);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The record held under RKEY, through END's cursor, into *V. Returns an
 * LMDB code (MDB_NOTFOUND: none). */
static int
records_get (records_end_t *end, const uint8_t *rkey, MDB_val *v)
{
    MDB_val k = { IM_STORE_KEY_SIZE, (void *)rkey };
    int rc = mdb_cursor_get (end->cur, &k, v, MDB_SET_RANGE);
    if (rc == 0
        && (k.mv_size != IM_STORE_KEY_SIZE
            || memcmp (k.mv_data, rkey, IM_STORE_KEY_SIZE)))
        rc = MDB_NOTFOUND; /* the cursor is on the key after it */
    return rc;
}

/* Whether RKEY sorts after every key of the table (so is not in it). */
static int
records_past_end (const records_end_t *end, const uint8_t *rkey)
{
    return end->known == 2
           || (end->known == 1 && memcmp (rkey, end->key, IM_STORE_KEY_SIZE) > 0);
}

/* Applies one item inside TXN. Sets *RESULT. Returns an LMDB code. */
static int
put_one (im_store_t *self, MDB_txn *txn, const im_store_item_t *item, im_record_t *old,
         uint8_t *buf, origins_dirty_t *dirty, records_end_t *end, int *result)
{
    const im_record_t *rec = item->rec;
    uint8_t rkey[IM_STORE_KEY_SIZE];
    memcpy (rkey, rec->origin, IM_NODE_ID_SIZE);
    memcpy (rkey + IM_NODE_ID_SIZE, rec->id, IM_ID_SIZE);
    MDB_val k = { sizeof rkey, rkey }, v;
    int past = records_past_end (end, rkey);
    int rc = past ? MDB_NOTFOUND : records_get (end, rkey, &v);
    int had = 0;
    uint64_t bid = 0;
    int compact = rc == 0 && store_record_ref (&v, &bid);
    if (rc == 0) {
        if ((rc = store_record_unpack (self, txn, rkey, &v, buf, IM_RECORD_MAX, 0)) != 0)
            return rc;
        if (im_record_decode_stored (v.mv_data, v.mv_size, old) != 0)
            return MDB_CORRUPTED;
        if (old->version == rec->version && rec->reach != IM_REACH_UNLIMITED
            && item->from)
            return closer (self, txn, end->held, item, rkey, result);
        if (old->version >= rec->version) {
            *result = IM_STORE_STALE;
            return 0;
        }
        had = 1;
        /* The batch of the version replaced loses a record. */
        if (compact && (rc = store_batch_release (self, txn, bid)) != 0)
            return rc;
        /* A tombstone is in the value index too (not the prefix index). */
        if ((rc = store_index_del (self, txn, old, rkey)) != 0)
            return rc;
        if (old->op == IM_OP_PUT)
            self->live[old->type][old->tlp]--;
        else
            self->revoked--;
    }
    else if (rc != MDB_NOTFOUND)
        return rc;

    if ((rc
         = store_record_put (self, txn, end->cur, &k, item->blob, item->len, buf, past))
        != 0)
        return rc;
    if (past) {
        memcpy (end->key, rkey, IM_STORE_KEY_SIZE);
        end->known = 1;
    }
    if ((rc = indexed (self, txn, rec, rkey)) != 0)
        return rc;

    if ((rc = change_append (self, txn, end->held, item, rkey)) != 0)
        return rc;

    /* Origin state: records held and the newest change number. */
    if ((rc = origins_note (self, txn, dirty, rec->origin, !had)) != 0)
        return rc;
    if (!had)
        self->nrecords++;
    *result = had ? IM_STORE_NEWER : IM_STORE_NEW;
    return 0;
}

/* --- New records put in key order -------------------------------------- */

/* The three passes of a put whose new records go to the records table in
 * key order (im_store_int.h, store_sorted_make, says why). */

/* Pass 1: which records are held, in key order (keys after the table's last
 * are not looked up). Returns an LMDB code. */
static int
sorted_held (size_t n, store_sorted_t *s, records_end_t *end)
{
    for (size_t j = 0; j < n; j++) {
        const uint8_t *key = s->by_key[j].key;
        MDB_val v;
        int rc = records_past_end (end, key) ? MDB_NOTFOUND : records_get (end, key, &v);
        if (rc && rc != MDB_NOTFOUND)
            return rc;
        s->state[s->by_key[j].i] = rc ? STORE_SORTED_NEW : STORE_SORTED_HELD;
    }
    return 0;
}

/* Pass 2 for item I, a record not held: everything but its put in RECORDS
 * (its value into S, packed in BUF) and its HELD entry. Sets *RESULT.
 * Returns an LMDB code. */
static int
put_new (im_store_t *self, MDB_txn *txn, const im_store_item_t *item, size_t i,
         uint8_t *buf, origins_dirty_t *dirty, store_sorted_t *s, int *result)
{
    const im_record_t *rec = item->rec;
    const uint8_t *rkey = rec->origin;
    MDB_val k = { IM_STORE_KEY_SIZE, (void *)rkey };
    int rc = store_record_pack (self, txn, &k, item->blob, item->len, buf, &s->value[i]);
    if (rc)
        return rc;
    if ((rc = indexed (self, txn, rec, rkey)) != 0)
        return rc;
    if ((rc = change_log (self, txn, item, rkey)) != 0)
        return rc;
    s->seq[i] = self->seq;
    if ((rc = origins_note (self, txn, dirty, rec->origin, 1)) != 0)
        return rc;
    self->nrecords++;
    *result = IM_STORE_NEW;
    return 0;
}

/* Pass 3: the new records' values and HELD entries, in key order. Returns
 * an LMDB code. */
static int
sorted_put (const im_store_item_t *items, size_t n, store_sorted_t *s, records_end_t *end)
{
    for (size_t j = 0; j < n; j++) {
        size_t i = s->by_key[j].i;
        if (s->state[i] != STORE_SORTED_NEW)
            continue;
        const uint8_t *key = s->by_key[j].key;
        MDB_val k = { IM_STORE_KEY_SIZE, (void *)key };
        int past = records_past_end (end, key);
        int rc = store_records_put (end->cur, &k, &s->value[i],
                                    past ? MDB_APPEND : MDB_NOOVERWRITE);
        if (rc == 0 && past) {
            memcpy (end->key, key, IM_STORE_KEY_SIZE);
            end->known = 1;
        }
        if (rc == 0)
            rc = held_put (end->held, &items[i], key, s->seq[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* What a put changes besides its records, in TXN: the newest change number,
 * the counters, the prefix lengths in use, and PEER's CURSOR when given.
 * Returns an LMDB code. */
static int
put_meta (im_store_t *self, MDB_txn *txn, const uint8_t *peer, uint64_t cursor)
{
    uint8_t seq[8], counters[8 * COUNTERS];
    put_u64 (seq, self->seq);
    store_counters_pack (self, counters);
    int rc = store_meta_put (txn, self, "seq", seq, sizeof seq);
    if (rc == 0)
        rc = store_meta_put (txn, self, "counts", counters, sizeof counters);
    if (rc == 0)
        rc = store_meta_put (txn, self, "plen4", self->plen4, sizeof self->plen4);
    if (rc == 0)
        rc = store_meta_put (txn, self, "plen6", self->plen6, sizeof self->plen6);
    if (rc == 0 && peer) {
        uint8_t cv[8];
        put_u64 (cv, cursor);
        MDB_val ck = { IM_NODE_ID_SIZE, (void *)peer }, cval = { 8, cv };
        rc = mdb_put (txn, self->cursors, &ck, &cval, 0);
    }
    return rc;
}

int
im_store_put_batch (im_store_t *self, const im_store_item_t *items, size_t n,
                    int *results, char *err, size_t errsz)
{
    return im_store_put_batch_cursor (self, items, n, results, NULL, 0, err, errsz);
}

int
im_store_put_batch_cursor (im_store_t *self, const im_store_item_t *items, size_t n,
                           int *results, const uint8_t *peer, uint64_t cursor, char *err,
                           size_t errsz)
{
    if (!self || (!items && n)) {
        errno = EINVAL;
        return -1;
    }
    if (n == 0 && !peer)
        return 0;
    im_record_t *old = malloc (sizeof *old);
    uint8_t *buf = malloc (IM_RECORD_MAX);
    origins_dirty_t *dirty = malloc (sizeof *dirty);
    int *res = results ? results : calloc (n, sizeof *res);
    size_t *order = malloc ((n ? n : 1) * sizeof *order);
    if (!old || !buf || !dirty || !res || !order) {
        free (old);
        free (buf);
        free (dirty);
        free (order);
        if (!results)
            free (res);
        return im_fail (ENOMEM, err, errsz, "store: out of memory");
    }
    store_batch_order (self, items, n, order);
    store_sorted_t srt;
    int sorted = store_sorted_make (self, items, n, &srt) == 0;
    /* The in-memory counters are restored if the transaction fails. */
    im_store_t saved = *self;
    int stored = -1;
    for (int attempt = 0; attempt < 16; attempt++) {
        MDB_txn *txn = NULL;
        int rc = store_write_begin (self, &txn);
        if (rc) {
            store_error (self->path, rc, "starting a write", err, errsz);
            break;
        }
        int count = 0;
        store_batch_forget (self);
        dirty->n = dirty->last = 0;
        records_end_t end = { .cur = NULL, .held = NULL };
        rc = n ? records_end_read (self, txn, &end) : 0;
        if (rc == 0 && sorted)
            rc = sorted_held (n, &srt, &end);
        size_t at = 0; /* where in SELF->put_buf the next new value goes */
        for (size_t j = 0; rc == 0 && j < n; j++) {
            size_t i = order[j];
            if (sorted && srt.state[i] == STORE_SORTED_NEW) {
                rc = put_new (self, txn, &items[i], i, self->put_buf + at, dirty, &srt,
                              &res[i]);
                at += items[i].len;
            }
            else
                rc = put_one (self, txn, &items[i], old, buf, dirty, &end, &res[i]);
            if (rc == 0 && res[i] != IM_STORE_STALE)
                count++;
        }
        if (rc == 0 && sorted)
            rc = sorted_put (items, n, &srt, &end);
        records_end_close (&end);
        if (rc == 0)
            rc = origins_flush (self, txn, dirty);
        if (rc == 0)
            rc = store_batch_flush (self, txn);
        if (rc == 0)
            rc = put_meta (self, txn, peer, cursor);
        /* A peer's batch, stored with its cursor, is fetched again if a
         * system crash undoes it: committed lazily. Its change numbers are
         * made durable before any answer gives them out (the served table's
         * write waits: SPEC "Storage and durability"). */
        if (rc == 0)
            rc = store_commit (self, txn, peer != NULL);
        else
            mdb_txn_abort (txn);
        store_batch_forget (self);
        if (rc == 0) {
            stored = count;
            break;
        }
        /* Roll the counters back to what is on disk. */
        MDB_txn *r = self->reader;
        int reading = self->reading;
        store_batch_t *bw = self->bw;
        store_vcache_t *vc = self->vcache;
        memcpy (self, &saved, sizeof saved);
        self->reader = r;
        self->reading = reading;
        self->bw = bw;
        self->vcache = vc;
        if (rc == MDB_MAP_FULL && store_grow (self) == 0) {
            saved.map_size = self->map_size;
            continue;
        }
        store_error (self->path, rc, "writing", err, errsz);
        break;
    }
    store_full_note (self, stored < 0);
    /* What is held now, for the questions to come (im_store_versions), in
     * the order stored. */
    for (size_t j = 0; stored >= 0 && j < n; j++) {
        size_t i = order[j];
        if (res[i] != IM_STORE_STALE) {
            uint8_t rkey[IM_STORE_KEY_SIZE];
            memcpy (rkey, items[i].rec->origin, IM_NODE_ID_SIZE);
            memcpy (rkey + IM_NODE_ID_SIZE, items[i].rec->id, IM_ID_SIZE);
            store_vcache_put (self, rkey, items[i].rec->version);
        }
    }
    store_sorted_free (&srt);
    store_sorted_done (self);
    free (old);
    free (buf);
    free (dirty);
    free (order);
    if (!results)
        free (res);
    return stored;
}
