/* SPDX-License-Identifier: MPL-2.0 */
/* im_store_served.c -- what this node keeps about serving each peer: the
 * highest cursor its pulls were answered with (a pull beyond it reveals that
 * this store was lost or restored), how far its own records go back to it,
 * and when its store was found restarted (SPEC.md, "Store restarts"). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <lmdb.h>

#include "im_store_int.h"

#define SERVED_SIZE_V1 24 /* served, own_until, restarted */
#define SERVED_SIZE 40    /* ... old_cursor, old_from */

int
im_store_served (im_store_t *self, const uint8_t *peer, im_store_served_t *out)
{
    if (!self || !peer || !out) {
        errno = EINVAL;
        return -1;
    }
    memset (out, 0, sizeof *out);
    MDB_txn *txn;
    if (store_reader_begin (self, &txn))
        return -1;
    MDB_val k = { IM_NODE_ID_SIZE, (void *)peer }, v;
    int rc = mdb_get (txn, self->served, &k, &v);
    if (rc == 0 && (v.mv_size == SERVED_SIZE || v.mv_size == SERVED_SIZE_V1)) {
        const uint8_t *b = v.mv_data;
        out->served = get_u64 (b);
        out->own_until = get_u64 (b + 8);
        out->restarted = (int64_t)get_u64 (b + 16);
        if (v.mv_size == SERVED_SIZE) {
            out->old_cursor = get_u64 (b + 24);
            out->old_from = get_u64 (b + 32);
        }
    }
    else if (rc == MDB_NOTFOUND && !self->served_all)
        out->served = IM_STORE_SERVED_UNKNOWN;
    store_reader_end (self);
    if (rc == 0 && v.mv_size != SERVED_SIZE && v.mv_size != SERVED_SIZE_V1)
        rc = MDB_CORRUPTED;
    return rc == 0 || rc == MDB_NOTFOUND
               ? 0
               : store_error (self->path, rc, "reading what was served", NULL, 0);
}

typedef struct {
    size_t n;
    const uint8_t *const *peers;
    const im_store_served_t *in;
} served_arg_t;

static int
set_served_fn (im_store_t *self, MDB_txn *txn, void *arg)
{
    served_arg_t *a = arg;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->n; i++) {
        const im_store_served_t *in = &a->in[i];
        uint8_t value[SERVED_SIZE];
        put_u64 (value, in->served);
        put_u64 (value + 8, in->own_until);
        put_u64 (value + 16, (uint64_t)in->restarted);
        put_u64 (value + 24, in->old_cursor);
        put_u64 (value + 32, in->old_from);
        MDB_val k = { IM_NODE_ID_SIZE, (void *)a->peers[i] }, v = { SERVED_SIZE, value };
        rc = mdb_put (txn, self->served, &k, &v, 0);
    }
    return rc;
}

int
im_store_set_served_many (im_store_t *self, size_t n, const uint8_t *const *peers,
                          const im_store_served_t *in)
{
    if (!self || !n || !peers || !in) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!peers[i]) {
            errno = EINVAL;
            return -1;
        }
    served_arg_t a = { .n = n, .peers = peers, .in = in };
    return store_write_txn (self, set_served_fn, &a, "writing what was served");
}

int
im_store_set_served (im_store_t *self, const uint8_t *peer, const im_store_served_t *in)
{
    return im_store_set_served_many (self, 1, &peer, in);
}

int
im_store_created (const im_store_t *self)
{
    return self && self->created;
}
