/* SPDX-License-Identifier: MPL-2.0 */
/* im_store_batch.c -- records of format 2 kept small: RECORDS holds a
 * record's body, salt, leaf place and its batch's local number, BATCHES the
 * batch's signature and the path nodes its held records need (counted, gone
 * with the last record), so that the signed bytes are rebuilt as put. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>
#include <sodium.h>

#include "im_store_int.h"

/* Compact value: body (format byte STORE_COMPACT) without the origin and
 * id (the record's key), salt, leaf, batch. */
#define COMPACT_TAIL (IM_BATCH_SALT + 1 + 8)
#define KEY_AT 4 /* where the body has the key */
/* The tree's nodes in heap order: the root is 1, the leaves 32 to 63. Part
 * 0 of a batch keeps nodes 2-15 after its head, part 1 nodes 16-63 (both
 * inline in an LMDB page). */
#define SPLIT 16
#define HEAD_SIZE (4 + 32 + IM_BATCH_SIG) /* references, roots key, signature */
#define PART_MAX (HEAD_SIZE + 8 + 48 * IM_BATCH_HASH)

typedef struct {
    uint8_t buf[2][PART_MAX];
    size_t len[2];
} parts_t;

static uint32_t
refs_get (const parts_t *p)
{
    const uint8_t *b = p->buf[0];
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static void
refs_set (parts_t *p, uint32_t refs)
{
    for (int i = 0; i < 4; i++)
        p->buf[0][i] = (uint8_t)(refs >> (24 - 8 * i));
}

static void
batch_key (uint64_t bid, int part, uint8_t key[9])
{
    put_u64 (key, bid);
    key[8] = (uint8_t)part;
}

/* The bits set in X, without a call: the build targets processors that may
 * lack POPCNT, and __builtin_popcountll was then a call into libgcc for
 * each node looked at. */
static inline unsigned
bits_set (uint64_t x)
{
    x -= (x >> 1) & UINT64_C (0x5555555555555555);
    x = (x & UINT64_C (0x3333333333333333)) + ((x >> 2) & UINT64_C (0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C (0x0f0f0f0f0f0f0f0f);
    return (unsigned)((x * UINT64_C (0x0101010101010101)) >> 56);
}

/* Where node NODE of part P is in BUF, or NULL when it is not held. */
static uint8_t *
node_at (const parts_t *p, unsigned node)
{
    int part = node >= SPLIT;
    const uint8_t *b = p->buf[part] + (part ? 0 : HEAD_SIZE);
    uint64_t bits = get_u64 (b);
    if (!((bits >> node) & 1))
        return NULL;
    unsigned before = bits_set (bits & ((UINT64_C (1) << node) - 1));
    return (uint8_t *)b + 8 + before * IM_BATCH_HASH;
}

static void
node_add (parts_t *p, unsigned node, const uint8_t *hash)
{
    int part = node >= SPLIT;
    uint8_t *b = p->buf[part] + (part ? 0 : HEAD_SIZE);
    uint64_t bits = get_u64 (b);
    unsigned before = bits_set (bits & ((UINT64_C (1) << node) - 1));
    uint8_t *at = b + 8 + before * IM_BATCH_HASH;
    memmove (at + IM_BATCH_HASH, at, p->len[part] - (size_t)(at - p->buf[part]));
    memcpy (at, hash, IM_BATCH_HASH);
    put_u64 (b, bits | (UINT64_C (1) << node));
    p->len[part] += IM_BATCH_HASH;
}

static int
parts_read (im_store_t *self, MDB_txn *txn, uint64_t bid, parts_t *p)
{
    for (int i = 0; i < 2; i++) {
        uint8_t key[9];
        batch_key (bid, i, key);
        MDB_val k = { sizeof key, key }, v;
        int rc = mdb_get (txn, self->batches, &k, &v);
        if (rc)
            return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
        size_t min = i ? 8 : HEAD_SIZE + 8;
        if (v.mv_size < min || v.mv_size > PART_MAX || (v.mv_size - min) % IM_BATCH_HASH
            || (v.mv_size - min) / IM_BATCH_HASH
                   != (size_t)bits_set (get_u64 ((uint8_t *)v.mv_data + min - 8)))
            return MDB_CORRUPTED;
        memcpy (p->buf[i], v.mv_data, v.mv_size);
        p->len[i] = v.mv_size;
    }
    return 0;
}

static int
parts_write (im_store_t *self, MDB_txn *txn, uint64_t bid, const parts_t *p,
             unsigned flags)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < 2; i++) {
        uint8_t key[9];
        batch_key (bid, i, key);
        MDB_val k = { sizeof key, key }, v = { p->len[i], (void *)p->buf[i] };
        rc = mdb_put (txn, self->batches, &k, &v, flags);
        if (rc == MDB_KEYEXIST && flags)
            rc = mdb_put (txn, self->batches, &k, &v, 0);
    }
    return rc;
}

int
store_record_ref (const MDB_val *v, uint64_t *bid)
{
    const uint8_t *b = v->mv_data;
    if (v->mv_size < 4 + COMPACT_TAIL || b[3] != STORE_COMPACT)
        return 0;
    *bid = get_u64 (b + v->mv_size - 8);
    return 1;
}

/* The batch last written is kept in memory until the transaction ends: the
 * records of one batch, which come together, write it once, whole. */
struct store_batch_t {
    uint64_t bid; /* 0: none */
    int fresh;    /* not in BATCHES yet: appended */
    int dirty;
    parts_t p;
};

void
store_batch_forget (im_store_t *self)
{
    memset (self->read_bid, 0, sizeof self->read_bid);
    if (self->bw)
        self->bw->bid = 0, self->bw->dirty = 0;
}

int
store_batch_flush (im_store_t *self, MDB_txn *txn)
{
    store_batch_t *b = self->bw;
    memset (self->read_bid, 0, sizeof self->read_bid);
    if (!b || !b->bid || !b->dirty)
        return 0;
    int rc = parts_write (self, txn, b->bid, &b->p, b->fresh ? MDB_APPEND : 0);
    if (rc == 0)
        b->dirty = b->fresh = 0;
    return rc;
}

/* Makes batch BID the one in memory (the previous one written). */
static int
batch_load (im_store_t *self, MDB_txn *txn, uint64_t bid)
{
    if (!self->bw && !(self->bw = calloc (1, sizeof *self->bw)))
        return ENOMEM;
    if (self->bw->bid == bid)
        return 0;
    int rc = store_batch_flush (self, txn);
    self->bw->bid = 0;
    if (rc == 0 && (rc = parts_read (self, txn, bid, &self->bw->p)) == 0)
        self->bw->bid = bid, self->bw->fresh = 0;
    return rc;
}

int
store_batch_release (im_store_t *self, MDB_txn *txn, uint64_t bid)
{
    int rc = batch_load (self, txn, bid);
    if (rc)
        return rc;
    store_batch_t *b = self->bw;
    uint32_t refs = refs_get (&b->p);
    if (refs > 1) {
        refs_set (&b->p, refs - 1);
        b->dirty = 1;
        return 0;
    }
    /* The last record of the batch: the batch goes. */
    MDB_val rk = { 32, b->p.buf[0] + 4 };
    rc = mdb_del (txn, self->batchroots, &rk, NULL);
    for (int i = 0; !b->fresh && (rc == 0 || rc == MDB_NOTFOUND) && i < 2; i++) {
        uint8_t key[9];
        batch_key (bid, i, key);
        MDB_val k = { sizeof key, key };
        rc = mdb_del (txn, self->batches, &k, NULL);
    }
    b->bid = 0;
    b->dirty = 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The batch of SIG and the root that BODY and AUTH lead to, added when new,
 * made the one in memory. */
static int
batch_find (im_store_t *self, MDB_txn *txn, const uint8_t *body, size_t blen,
            const uint8_t *auth)
{
    const uint8_t *sig = auth + IM_BATCH_AUTH - IM_BATCH_SIG;
    /* The batch in memory, when the record carries its signature: records
     * are verified before they are stored, and a signature verifies for one
     * root (the caller checks the path against the nodes held). */
    if (self->bw && self->bw->bid
        && memcmp (self->bw->p.buf[0] + 36, sig, IM_BATCH_SIG) == 0)
        return 0;
    uint8_t root[IM_BATCH_HASH], rkey[32];
    im_batch_root (body, blen, auth, root);
    crypto_generichash_state st;
    crypto_generichash_init (&st, NULL, 0, sizeof rkey);
    crypto_generichash_update (&st, root, sizeof root);
    crypto_generichash_update (&st, sig, IM_BATCH_SIG);
    crypto_generichash_final (&st, rkey, sizeof rkey);
    if (self->bw && self->bw->bid && memcmp (self->bw->p.buf[0] + 4, rkey, 32) == 0)
        return 0;
    MDB_val rk = { sizeof rkey, rkey }, rv;
    int rc = mdb_get (txn, self->batchroots, &rk, &rv);
    if (rc == 0)
        return rv.mv_size != 8 ? MDB_CORRUPTED
                               : batch_load (self, txn, get_u64 (rv.mv_data));
    if (rc != MDB_NOTFOUND)
        return rc;
    if (!self->bw && !(self->bw = calloc (1, sizeof *self->bw)))
        return ENOMEM;
    if ((rc = store_batch_flush (self, txn)) != 0)
        return rc;
    self->bw->bid = 0;
    uint64_t bid = ++self->nbatches;
    uint8_t bv[8];
    put_u64 (bv, bid);
    rv.mv_size = sizeof bv;
    rv.mv_data = bv;
    if ((rc = mdb_put (txn, self->batchroots, &rk, &rv, 0)) != 0
        || (rc = store_meta_put (txn, self, "batches", bv, sizeof bv)) != 0)
        return rc;
    parts_t *p = &self->bw->p;
    memset (p->buf[0], 0, HEAD_SIZE + 8);
    memcpy (p->buf[0] + 4, rkey, sizeof rkey);
    memcpy (p->buf[0] + 36, sig, IM_BATCH_SIG);
    p->len[0] = HEAD_SIZE + 8;
    memset (p->buf[1], 0, 8);
    p->len[1] = 8;
    /* Numbers only grow: a new batch goes at the end of the database. */
    self->bw->bid = bid;
    self->bw->fresh = self->bw->dirty = 1;
    return 0;
}

/* Writes VALUE under K, appended when the caller knows that K sorts after
 * every key (LMDB then fills the last page instead of splitting it in half;
 * trying it on every key cost a failed look at the last page each time an
 * id sorted before the last, as most ids of one millisecond do). An append
 * LMDB refuses means the caller's last key was wrong: the record it did not
 * look up may be held at a newer version, so nothing is overwritten and the
 * batch fails (MDB_CORRUPTED) rather than roll a record back (review 100). */
int
store_records_put (MDB_cursor *cur, MDB_val *k, MDB_val *value, unsigned flags)
{
    int rc = mdb_cursor_put (cur, k, value, flags);
    return rc == MDB_KEYEXIST ? MDB_CORRUPTED : rc;
}

/* The compact value of BLOB, a record of format 2, into BUF and *V; *DONE
 * is 0 when it cannot be (a path that disagrees with the nodes held: stored
 * whole). */
static int
pack_compact (im_store_t *self, MDB_txn *txn, const MDB_val *k, const uint8_t *blob,
              size_t len, uint8_t *buf, MDB_val *v, int *done)
{
    *done = 0;
    size_t blen = len - IM_BATCH_AUTH;
    const uint8_t *auth = blob + blen;
    unsigned leaf = auth[IM_BATCH_SALT];
    if (leaf >= IM_BATCH_MAX || k->mv_size != IM_STORE_KEY_SIZE
        || memcmp (blob + KEY_AT, k->mv_data, IM_STORE_KEY_SIZE) != 0)
        return 0;
    int rc = batch_find (self, txn, blob, blen, auth);
    if (rc)
        return rc;
    store_batch_t *b = self->bw;
    const uint8_t *path = auth + IM_BATCH_SALT + 1;
    for (int l = 0; l < IM_BATCH_DEPTH; l++) {
        const uint8_t *held = node_at (&b->p, ((IM_BATCH_MAX + leaf) >> l) ^ 1);
        if (held && memcmp (held, path + l * IM_BATCH_HASH, IM_BATCH_HASH) != 0)
            return 0; /* not the path the batch's other records have */
    }
    for (int l = 0; l < IM_BATCH_DEPTH; l++) {
        unsigned node = ((IM_BATCH_MAX + leaf) >> l) ^ 1;
        if (!node_at (&b->p, node))
            node_add (&b->p, node, path + l * IM_BATCH_HASH);
    }
    refs_set (&b->p, refs_get (&b->p) + 1);
    b->dirty = 1;
    *done = 1;
    memcpy (buf, blob, KEY_AT);
    buf[3] = STORE_COMPACT;
    size_t rest = blen - KEY_AT - IM_STORE_KEY_SIZE + IM_BATCH_SALT + 1;
    memcpy (buf + KEY_AT, blob + KEY_AT + IM_STORE_KEY_SIZE, rest);
    put_u64 (buf + KEY_AT + rest, b->bid);
    v->mv_size = KEY_AT + rest + 8;
    v->mv_data = buf;
    return 0;
}

int
store_record_pack (im_store_t *self, MDB_txn *txn, const MDB_val *k, const uint8_t *blob,
                   size_t len, uint8_t *buf, MDB_val *v)
{
    int done = 0, rc = 0;
    if (len >= IM_RECORD_FIXED + IM_BATCH_AUTH && blob[3] == 2)
        rc = pack_compact (self, txn, k, blob, len, buf, v, &done);
    if (rc == 0 && !done) {
        v->mv_size = len;
        v->mv_data = (void *)blob;
    }
    return rc;
}

int
store_record_put (im_store_t *self, MDB_txn *txn, MDB_cursor *cur, MDB_val *k,
                  const uint8_t *blob, size_t len, uint8_t *buf, int append)
{
    MDB_val v;
    int rc = store_record_pack (self, txn, k, blob, len, buf, &v);
    return rc ? rc : store_records_put (cur, k, &v, append ? MDB_APPEND : 0);
}

int
store_record_expand (im_store_t *self, MDB_txn *txn, const uint8_t *key, MDB_val *v,
                     uint8_t *buf, size_t bufsz)
{
    return store_record_unpack (self, txn, key, v, buf, bufsz, 1);
}

int
store_record_unpack (im_store_t *self, MDB_txn *txn, const uint8_t *key, MDB_val *v,
                     uint8_t *buf, size_t bufsz, int auth)
{
    uint64_t bid;
    if (!store_record_ref (v, &bid))
        return 0;
    size_t blen = v->mv_size - COMPACT_TAIL + IM_STORE_KEY_SIZE;
    if (blen + IM_BATCH_AUTH > bufsz)
        return ENOSPC;
    const uint8_t *c = v->mv_data;
    unsigned leaf = c[v->mv_size - 9];
    memcpy (buf, c, KEY_AT);
    buf[3] = 2;
    memcpy (buf + KEY_AT, key, IM_STORE_KEY_SIZE);
    memcpy (buf + KEY_AT + IM_STORE_KEY_SIZE, c + KEY_AT,
            blen - KEY_AT - IM_STORE_KEY_SIZE + IM_BATCH_SALT + 1);
    uint8_t *path = buf + blen + IM_BATCH_SALT + 1;
    if (!auth) {
        /* The body alone, for a reader that decodes it: no batch is read. */
        memset (path, 0, IM_BATCH_DEPTH * IM_BATCH_HASH + IM_BATCH_SIG);
        v->mv_data = buf;
        v->mv_size = blen + IM_BATCH_AUTH;
        return leaf >= IM_BATCH_MAX ? MDB_CORRUPTED : 0;
    }
    /* The batch being written is read from memory; the last few batches
     * read are kept (records of a batch come together in the change log,
     * a few batches interleaved), and one is read again when it lacks a node
     * (nodes are only ever added to a batch). */
    int own = self->bw && self->bw->bid == bid && self->bw->dirty;
    if (!own && !self->read_parts
        && !(self->read_parts = malloc (STORE_READ_BATCHES * sizeof (parts_t))))
        return ENOMEM;
    unsigned slot = 0;
    while (!own && slot < STORE_READ_BATCHES && self->read_bid[slot] != bid)
        slot++;
    int fresh = !own && slot == STORE_READ_BATCHES;
    if (fresh)
        slot = self->read_next++ % STORE_READ_BATCHES;
    parts_t *p = own ? &self->bw->p : (parts_t *)self->read_parts + slot;
    int rc = leaf >= IM_BATCH_MAX ? MDB_CORRUPTED
             : fresh              ? parts_read (self, txn, bid, p)
                                  : 0;
    for (int l = 0; rc == 0 && !own && !fresh && l < IM_BATCH_DEPTH; l++)
        if (!node_at (p, ((IM_BATCH_MAX + leaf) >> l) ^ 1)) {
            rc = parts_read (self, txn, bid, p);
            break;
        }
    if (!own)
        self->read_bid[slot] = rc ? 0 : bid;
    for (int l = 0; rc == 0 && l < IM_BATCH_DEPTH; l++) {
        const uint8_t *held = node_at (p, ((IM_BATCH_MAX + leaf) >> l) ^ 1);
        if (!held)
            rc = MDB_CORRUPTED;
        else
            memcpy (path + l * IM_BATCH_HASH, held, IM_BATCH_HASH);
    }
    if (rc == 0) {
        memcpy (path + IM_BATCH_DEPTH * IM_BATCH_HASH, p->buf[0] + 36, IM_BATCH_SIG);
        v->mv_data = buf;
        v->mv_size = blen + IM_BATCH_AUTH;
    }
    return rc;
}
