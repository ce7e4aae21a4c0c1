/* SPDX-License-Identifier: MPL-2.0 */
/* im_store_reseal.c -- the one-time move of a store made before records of
 * format 2: this node's own records of format 1 are signed again, in batches,
 * at the same versions (SPEC.md, "Storage and durability"); others' records
 * keep their bytes, which only their origins could sign. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "im_store_int.h"
#include "im_util.h"

#define RESEAL_CHUNK 1024              /* records a transaction */
#define RESEAL_ARENA ((size_t)4 << 20) /* bytes of records a transaction */

typedef struct {
    size_t n;
    uint8_t keys[RESEAL_CHUNK][IM_STORE_KEY_SIZE];
    uint8_t *recs[RESEAL_CHUNK];
    size_t lens[RESEAL_CHUNK];
    uint8_t *arena;
    size_t used;
    int done; /* the walk reached the end of ORIGIN's records */
} chunk_t;

int
im_store_reseal_pending (im_store_t *self)
{
    return self && self->reseal;
}

/* Reads the next records of format 1 of ORIGIN after AFTER (its whole key;
 * NULL: from the start) into C, as bodies of format 2 with room for the
 * authentication. Returns an LMDB code. */
static int
reseal_read (im_store_t *self, const uint8_t *origin, const uint8_t *after, chunk_t *c)
{
    walk_t w;
    if (store_walk_begin (self, self->records, &w))
        return MDB_PANIC;
    uint8_t start[IM_STORE_KEY_SIZE];
    memcpy (start, after ? after : origin, after ? IM_STORE_KEY_SIZE : IM_NODE_ID_SIZE);
    MDB_val k = { after ? IM_STORE_KEY_SIZE : IM_NODE_ID_SIZE, start }, v;
    int rc = mdb_cursor_get (w.cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && after && k.mv_size == IM_STORE_KEY_SIZE
        && memcmp (k.mv_data, after, IM_STORE_KEY_SIZE) == 0)
        rc = mdb_cursor_get (w.cur, &k, &v, MDB_NEXT);
    c->n = c->used = 0;
    c->done = 1;
    for (; rc == 0; rc = mdb_cursor_get (w.cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != IM_STORE_KEY_SIZE || memcmp (k.mv_data, origin, IM_NODE_ID_SIZE))
            break;
        if (c->n == RESEAL_CHUNK || RESEAL_ARENA - c->used < IM_RECORD_MAX) {
            c->done = 0;
            break;
        }
        const uint8_t *b = v.mv_data;
        if (v.mv_size < IM_RECORD_FIXED + IM_SIG_SIZE || b[3] != 1)
            continue; /* already of format 2 */
        size_t body = v.mv_size - IM_SIG_SIZE;
        uint8_t *at = c->arena + c->used;
        memcpy (at, b, body);
        at[3] = 2;
        memset (at + body, 0, IM_BATCH_AUTH);
        memcpy (c->keys[c->n], k.mv_data, IM_STORE_KEY_SIZE);
        c->recs[c->n] = at;
        c->lens[c->n] = body + IM_BATCH_AUTH;
        c->used += c->lens[c->n];
        c->n++;
    }
    store_walk_end (self, &w);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Replaces each record of C that is still the same version of format 1,
 * through CUR, a cursor on the records table. */
static int
reseal_put_all (im_store_t *self, MDB_txn *txn, MDB_cursor *cur, chunk_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        MDB_val k = { IM_STORE_KEY_SIZE, c->keys[i] }, v;
        int rc = mdb_get (txn, self->records, &k, &v);
        if (rc == MDB_NOTFOUND)
            continue;
        im_record_head_t old, new;
        if (rc || im_record_peek (v.mv_data, v.mv_size, &old)
            || im_record_peek (c->recs[i], c->lens[i], &new))
            return rc ? rc : MDB_CORRUPTED;
        if (old.format != 1 || old.version != new.version)
            continue;
        if ((rc = store_record_put (self, txn, cur, &k, c->recs[i], c->lens[i],
                                    c->arena + RESEAL_ARENA, 0))
            != 0)
            return rc;
    }
    return 0;
}

static int
reseal_write_fn (im_store_t *self, MDB_txn *txn, void *arg)
{
    chunk_t *c = arg;
    store_batch_forget (self);
    MDB_cursor *cur;
    int prc = mdb_cursor_open (txn, self->records, &cur);
    if (prc)
        return prc;
    prc = reseal_put_all (self, txn, cur, c);
    mdb_cursor_close (cur);
    if (prc)
        return prc;
    int frc = store_batch_flush (self, txn);
    store_batch_forget (self);
    if (frc)
        return frc;
    if (c->done) {
        MDB_val mk = { 6, "reseal" };
        int rc = mdb_del (txn, self->meta, &mk, NULL);
        if (rc && rc != MDB_NOTFOUND)
            return rc;
    }
    return 0;
}

int
im_store_reseal (im_store_t *self, const uint8_t origin[IM_NODE_ID_SIZE],
                 im_store_seal_fn *seal, void *arg, size_t *resealed, char *err,
                 size_t errsz)
{
    if (!self || !origin || !seal)
        return im_fail (EINVAL, err, errsz, "store: reseal: missing argument");
    if (resealed)
        *resealed = 0;
    if (!self->reseal)
        return 0;
    chunk_t *c = calloc (1, sizeof *c);
    if (c)
        c->arena = malloc (RESEAL_ARENA + IM_RECORD_MAX); /* and room to write */
    if (!c || !c->arena) {
        free (c);
        return im_fail (ENOMEM, err, errsz, "store: reseal: out of memory");
    }
    uint8_t after[IM_STORE_KEY_SIZE];
    int rc = 0, first = 1;
    while (rc == 0) {
        int lrc = reseal_read (self, origin, first ? NULL : after, c);
        if (lrc) {
            rc = store_error (self->path, lrc, "reading records to sign again", err,
                              errsz);
            break;
        }
        if (c->n > 0)
            memcpy (after, c->keys[c->n - 1], IM_STORE_KEY_SIZE);
        first = 0;
        for (size_t at = 0; rc == 0 && at < c->n; at += IM_BATCH_MAX)
            rc = seal (c->recs + at, c->lens + at,
                       c->n - at < IM_BATCH_MAX ? c->n - at : IM_BATCH_MAX, arg, err,
                       errsz);
        if (rc == 0
            && store_write_txn (self, reseal_write_fn, c, "signing records again")) {
            rc = im_fail (errno, err, errsz, "store: writing records signed again: %s",
                          errno == ENOSPC ? "disk full" : strerror (errno));
        }
        if (rc == 0 && resealed)
            *resealed += c->n;
        if (rc == 0 && c->done) {
            self->reseal = 0;
            break;
        }
    }
    free (c->arena);
    free (c);
    return rc;
}
