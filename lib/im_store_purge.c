/* SPDX-License-Identifier: MPL-2.0 */
/* im_store_purge.c -- records taken out of the store for good (an ended
 * exercise's, SPEC.md "Exercises"): the record, its index entries, its
 * batch reference and its counters, in one transaction. Its old change stays
 * in the log, where a change without its record is passed over. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "im_store_int.h"

typedef struct {
    const uint8_t (*keys)[IM_STORE_KEY_SIZE];
    size_t n, purged;
    im_record_t *rec;
    uint8_t *buf;
    /* The counters before the purge: each attempt (the map grown and the
     * transaction run again) starts from them, and a failure goes back. */
    uint64_t live[IM_TYPE_COUNT][IM_TLP_COUNT], revoked, nrecords;
} purge_t;

static void
counters_restore (im_store_t *self, const purge_t *p)
{
    memcpy (self->live, p->live, sizeof p->live);
    self->revoked = p->revoked;
    self->nrecords = p->nrecords;
}

/* Takes the record KEY out inside TXN. Returns an LMDB code. */
static int
purge_one (im_store_t *self, MDB_txn *txn, const uint8_t *key, purge_t *p)
{
    MDB_val k = { IM_STORE_KEY_SIZE, (void *)key }, v;
    int rc = mdb_get (txn, self->records, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    uint64_t bid = 0;
    int compact = rc == 0 && store_record_ref (&v, &bid);
    if (rc == 0)
        rc = store_record_unpack (self, txn, key, &v, p->buf, IM_RECORD_MAX, 0);
    if (rc == 0 && im_record_decode_stored (v.mv_data, v.mv_size, p->rec) != 0)
        rc = MDB_CORRUPTED;
    if (rc == 0 && compact)
        rc = store_batch_release (self, txn, bid);
    if (rc == 0)
        rc = store_index_del (self, txn, p->rec, key);
    if (rc == 0)
        rc = mdb_del (txn, self->records, &k, NULL);
    if (rc == 0) {
        rc = mdb_del (txn, self->held, &k, NULL);
        rc = rc == MDB_NOTFOUND ? 0 : rc;
    }
    if (rc)
        return rc;
    if (p->rec->op == IM_OP_PUT && self->live[p->rec->type][p->rec->tlp])
        self->live[p->rec->type][p->rec->tlp]--;
    else if (p->rec->op != IM_OP_PUT && self->revoked)
        self->revoked--;
    if (self->nrecords)
        self->nrecords--;
    /* Its origin holds one record fewer. */
    uint8_t state[16];
    MDB_val ok = { IM_NODE_ID_SIZE, (void *)key }, ov;
    rc = mdb_get (txn, self->origins, &ok, &ov);
    if (rc == 0 && ov.mv_size == sizeof state) {
        memcpy (state, ov.mv_data, sizeof state);
        uint64_t held = get_u64 (state);
        put_u64 (state, held ? held - 1 : 0);
        ov.mv_data = state;
        rc = mdb_put (txn, self->origins, &ok, &ov, 0);
    }
    p->purged++;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
purge_fn (im_store_t *self, MDB_txn *txn, void *arg)
{
    purge_t *p = arg;
    p->purged = 0;
    counters_restore (self, p);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < p->n; i++)
        rc = purge_one (self, txn, p->keys[i], p);
    if (rc == 0)
        rc = store_batch_flush (self, txn);
    if (rc == 0) {
        uint8_t counters[8 * COUNTERS];
        store_counters_pack (self, counters);
        rc = store_meta_put (txn, self, "counts", counters, sizeof counters);
    }
    return rc;
}

int
im_store_purge (im_store_t *self, const uint8_t (*keys)[IM_STORE_KEY_SIZE], size_t n,
                char *err, size_t errsz)
{
    if (!self || (!keys && n))
        return im_fail (EINVAL, err, errsz, "store: purge: no store or no keys");
    if (n == 0)
        return 0;
    purge_t p = {
        .keys = keys, .n = n, .rec = malloc (sizeof *p.rec), .buf = malloc (IM_RECORD_MAX)
    };
    if (!p.rec || !p.buf) {
        free (p.rec);
        free (p.buf);
        return im_fail (ENOMEM, err, errsz, "store: out of memory");
    }
    memcpy (p.live, self->live, sizeof p.live);
    p.revoked = self->revoked;
    p.nrecords = self->nrecords;
    int rc = store_write_txn (self, purge_fn, &p, "purging records");
    store_vcache_clear (self); /* held no more */
    if (rc) {
        counters_restore (self, &p); /* the counters on disk did not change */
        im_fail (errno, err, errsz, "store: purging records failed: %s",
                 strerror (errno));
    }
    free (p.rec);
    free (p.buf);
    return rc ? -1 : (int)p.purged;
}
