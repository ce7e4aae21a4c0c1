/* SPDX-License-Identifier: MPL-2.0 */
/* im_store_log.c -- the store's walks: look-ups by value and CIDR prefix,
 * the records in key order, the change log (as clients and replication
 * read it) and the origins held. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "im_guard.h"
#include "im_store_int.h"

/* Decodes the record under KEY and hands it to FN when its op is OP (-1:
 * either). Returns FN's answer, or 0 when the record is missing or
 * unreadable (never expected) or of the other op (the value index holds
 * tombstones too). */
static int
visit (im_store_t *self, MDB_txn *txn, const uint8_t *key, im_record_t *rec, uint8_t *buf,
       im_store_fn *fn, void *arg, int *count, int op)
{
    MDB_val k = { IM_STORE_KEY_SIZE, (void *)key }, v;
    if (mdb_get (txn, self->records, &k, &v) != 0
        || store_record_unpack (self, txn, key, &v, buf, IM_RECORD_MAX, 0) != 0
        || im_record_decode_stored (v.mv_data, v.mv_size, rec) != 0
        || (op >= 0 && rec->op != op))
        return 0;
    (*count)++;
    return fn ? fn (rec, NULL, 0, arg) : 0;
}

/* Visits every duplicate under KEY in DBI. Returns non-zero when FN stopped. */
static int
visit_dups (im_store_t *self, MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
            im_record_t *rec, uint8_t *buf, im_store_fn *fn, void *arg, int *count,
            int op)
{
    MDB_cursor *cur;
    if (mdb_cursor_open (txn, dbi, &cur))
        return 0;
    MDB_val k = { klen, (void *)key }, v;
    int stop = 0;
    int rc = mdb_cursor_get (cur, &k, &v, MDB_SET);
    while (rc == 0 && !stop) {
        if (v.mv_size == IM_STORE_KEY_SIZE)
            stop = visit (self, txn, v.mv_data, rec, buf, fn, arg, count, op);
        rc = mdb_cursor_get (cur, &k, &v, MDB_NEXT_DUP);
    }
    mdb_cursor_close (cur);
    return stop;
}

/* The records of OP (-1: either) whose TYPE value is VALUE; live ones
 * (IM_OP_PUT) also through the CIDR prefixes that contain it. */
static int
store_lookup (im_store_t *self, int type, const char *value, im_store_fn *fn, void *arg,
              int op)
{
    if (!self || !value || !im_type_name (type)) {
        errno = EINVAL;
        return -1;
    }
    im_record_t *rec = self->scratch;
    uint8_t *buf = self->scratch_buf; /* a compact record rebuilt */
    MDB_txn *txn;
    if (store_reader_begin (self, &txn))
        return -1;
    int count = 0;
    uint8_t key[INDEX_KEY_MAX];
    size_t klen = store_index_key (type, value, key);
    int stop
        = visit_dups (self, txn, self->index, key, klen, rec, buf, fn, arg, &count, op);

    /* Prefixes that contain the address (or the shorter prefixes that contain
     * the prefix), only at the lengths that are in use, and never one broader
     * than the guards allow (im_guard.h): a 0.0.0.0/0 stored before they
     * existed is found by its own value only. */
    uint8_t addr[16];
    int plen;
    if (!stop && op == IM_OP_PUT && (type == IM_TYPE_IPV4 || type == IM_TYPE_IPV6)
        && im_ioc_prefix_canonical (type, value, addr, &plen) == 0) {
        size_t alen = type == IM_TYPE_IPV4 ? 4 : 16;
        const uint8_t *used = type == IM_TYPE_IPV4 ? self->plen4 : self->plen6;
        int min = type == IM_TYPE_IPV4 ? IM_GUARD_PLEN4_MIN : IM_GUARD_PLEN6_MIN;
        for (int l = plen - 1; l >= min && !stop; l--) {
            if (!(used[l / 8] & (1u << (l % 8)))
                || l < im_guard_min_plen (type == IM_TYPE_IPV4 ? 4 : 6, addr, l))
                continue;
            uint8_t pk[18];
            pk[0] = type == IM_TYPE_IPV4 ? 4 : 6;
            pk[1] = (uint8_t)l;
            for (size_t i = 0; i < alen; i++) {
                int bits = l - (int)i * 8;
                uint8_t mask = bits >= 8   ? 0xFF
                               : bits <= 0 ? 0
                                           : (uint8_t)(0xFF << (8 - bits));
                pk[2 + i] = addr[i] & mask;
            }
            stop = visit_dups (self, txn, self->prefixes, pk, 2 + alen, rec, buf, fn, arg,
                               &count, IM_OP_PUT);
        }
    }
    store_reader_end (self);
    return count;
}

int
im_store_lookup (im_store_t *self, int type, const char *value, im_store_fn *fn,
                 void *arg)
{
    return store_lookup (self, type, value, fn, arg, IM_OP_PUT);
}

int
im_store_lookup_revoked (im_store_t *self, int type, const char *value, im_store_fn *fn,
                         void *arg)
{
    return store_lookup (self, type, value, fn, arg, IM_OP_REVOKE);
}

int
im_store_lookup_value (im_store_t *self, int type, const char *value, im_store_fn *fn,
                       void *arg)
{
    return store_lookup (self, type, value, fn, arg, -1);
}

int
im_store_value_prefix (im_store_t *self, int type, const char *prefix, size_t limit,
                       im_store_fn *fn, void *arg)
{
    size_t plen = prefix ? strlen (prefix) : 0;
    if (!self || !im_type_name (type) || plen < 1 || plen > INDEX_PREFIX) {
        errno = EINVAL;
        return -1;
    }
    /* Its own record and buffer: FN may look up (the scratch record). */
    im_record_t *rec = malloc (sizeof *rec);
    uint8_t *buf = malloc (IM_RECORD_MAX), key[INDEX_KEY_MAX];
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    if (!rec || !buf || store_reader_begin (self, &txn)) {
        errno = rec && buf ? errno : ENOMEM;
        free (rec);
        free (buf);
        return -1;
    }
    size_t klen = store_index_key (type, prefix, key);
    int count = 0, stop = 0, rc = mdb_cursor_open (txn, self->index, &cur);
    MDB_val k = { klen, key }, v;
    if (rc == 0)
        rc = mdb_cursor_get (cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && !stop && (size_t)count < limit && k.mv_size >= klen
           && memcmp (k.mv_data, key, klen) == 0) {
        if (v.mv_size == IM_STORE_KEY_SIZE)
            stop = visit (self, txn, v.mv_data, rec, buf, fn, arg, &count, IM_OP_PUT);
        rc = mdb_cursor_get (cur, &k, &v, MDB_NEXT);
    }
    if (cur)
        mdb_cursor_close (cur);
    store_reader_end (self);
    free (rec);
    free (buf);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_error (self->path, rc, "prefix look-up", NULL, 0);
    return count;
}

int
im_store_list (im_store_t *self, int type, const uint8_t *origin, const uint8_t *after,
               size_t limit, im_store_fn *fn, void *arg, uint8_t next[IM_STORE_KEY_SIZE])
{
    if (!self || (type != IM_TYPE_NONE && !im_type_name (type))) {
        errno = EINVAL;
        return -1;
    }
    walk_t w;
    if (store_walk_begin (self, self->records, &w))
        return -1;
    im_record_t *rec = w.rec;
    MDB_cursor *cur = w.cur;
    uint8_t start[IM_STORE_KEY_SIZE] = { 0 };
    if (after)
        memcpy (start, after, IM_STORE_KEY_SIZE);
    else if (origin)
        memcpy (start, origin, IM_NODE_ID_SIZE);
    MDB_val k = { sizeof start, start }, v;
    int rc = mdb_cursor_get (cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && after && k.mv_size == IM_STORE_KEY_SIZE
        && memcmp (k.mv_data, after, IM_STORE_KEY_SIZE) == 0)
        rc = mdb_cursor_get (cur, &k, &v, MDB_NEXT);
    int count = 0;
    while (rc == 0 && (size_t)count < limit) {
        if (k.mv_size != IM_STORE_KEY_SIZE)
            break;
        if (origin && memcmp (k.mv_data, origin, IM_NODE_ID_SIZE) != 0)
            break; /* past this origin's records */
        if (next)
            memcpy (next, k.mv_data, IM_STORE_KEY_SIZE);
        if (store_record_unpack (self, w.txn, k.mv_data, &v, w.buf, IM_RECORD_MAX, 0) == 0
            && im_record_decode_stored (v.mv_data, v.mv_size, rec) == 0
            && (type == IM_TYPE_NONE || rec->type == type)) {
            count++;
            if (fn && fn (rec, NULL, 0, arg))
                break;
        }
        rc = mdb_cursor_get (cur, &k, &v, MDB_NEXT);
    }
    store_walk_end (self, &w);
    return count;
}

/* im_store_changes over im_store_feed: the record as FN takes it. */
typedef struct {
    im_store_fn *fn;
    void *arg;
} changes_t;

static int
changes_fn (const im_store_change_t *change, void *arg)
{
    changes_t *c = arg;
    return c->fn ? c->fn (change->rec, change->blob, change->len, c->arg) : 0;
}

int
im_store_changes (im_store_t *self, uint64_t since, size_t limit, im_store_fn *fn,
                  void *arg, uint64_t *last)
{
    if (!self) {
        errno = EINVAL;
        return -1;
    }
    changes_t c = { fn, arg };
    uint64_t at;
    int count = im_store_feed (self, since, limit, SIZE_MAX, changes_fn, &c, &at);
    /* *LAST moves only when a change was read (every number read is past
     * SINCE). */
    if (count >= 0 && last && at != since)
        *last = at;
    return count;
}

int
im_store_origins (im_store_t *self, im_store_origin_fn *fn, void *arg)
{
    if (!self || !fn) {
        errno = EINVAL;
        return -1;
    }
    MDB_txn *txn;
    MDB_cursor *cur;
    if (store_reader_begin (self, &txn))
        return -1;
    int rc = mdb_cursor_open (txn, self->origins, &cur), n = 0;
    MDB_val k, v;
    if (rc == 0) {
        for (rc = mdb_cursor_get (cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get (cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size != IM_NODE_ID_SIZE || v.mv_size != 16)
                continue;
            n++;
            if (fn (k.mv_data, get_u64 (v.mv_data), get_u64 ((uint8_t *)v.mv_data + 8),
                    arg))
                break;
        }
        mdb_cursor_close (cur);
    }
    store_reader_end (self);
    return rc == 0 || rc == MDB_NOTFOUND
               ? n
               : store_error (self->path, rc, "listing origins", NULL, 0);
}

int
im_store_feed (im_store_t *self, uint64_t since, size_t limit, size_t max_scan,
               im_store_change_fn *fn, void *arg, uint64_t *last)
{
    return im_store_feed_skip (self, since, limit, max_scan, NULL, fn, arg, last);
}

int
im_store_feed_skip (im_store_t *self, uint64_t since, size_t limit, size_t max_scan,
                    im_store_skip_fn *skip, im_store_change_fn *fn, void *arg,
                    uint64_t *last)
{
    if (!self || !fn || !last) {
        errno = EINVAL;
        return -1;
    }
    *last = since;
    if (since == UINT64_MAX)
        return 0;
    walk_t w;
    if (store_walk_begin (self, self->changes, &w))
        return -1;
    uint8_t start[8];
    put_u64 (start, since + 1);
    MDB_val k = { 8, start }, v;
    int count = 0;
    size_t scanned = 0;
    /* The records through a cursor of their own: those of neighbouring
     * changes are most often neighbours (one batch), and LMDB finds a key
     * in the leaf the cursor is on without going down from the root. */
    MDB_cursor *rcur = NULL;
    int rc = mdb_cursor_open (w.txn, self->records, &rcur);
    if (rc) {
        store_walk_end (self, &w);
        return store_error (self->path, rc, "reading the change log", NULL, 0);
    }
    /* Changes are read IM_STORE_SKIP_CHUNK ahead, for SKIP to decide
     * together (what it reads stays in place until the walk ends: it is a
     * read transaction). */
    im_store_change_t chunk[IM_STORE_SKIP_CHUNK];
    uint8_t skipped[IM_STORE_SKIP_CHUNK];
    int stop = 0;
    rc = mdb_cursor_get (w.cur, &k, &v, MDB_SET_RANGE);
    while (!stop && rc == 0 && (size_t)count < limit && scanned < max_scan) {
        size_t n = 0;
        while (rc == 0 && n < IM_STORE_SKIP_CHUNK && scanned + n < max_scan) {
            if (k.mv_size != 8
                || (v.mv_size != CHANGE_SIZE && v.mv_size != CHANGE_SIZE_V1)) {
                stop = 1; /* not a change: the walk ends before it */
                break;
            }
            const uint8_t *c = v.mv_data;
            im_store_change_t *change = &chunk[n++];
            *change = (im_store_change_t){ .seq = get_u64 (k.mv_data),
                                           .key = c,
                                           .hops = c[IM_STORE_KEY_SIZE + 8] };
            if (v.mv_size == CHANGE_SIZE)
                change->added_ms = (int64_t)get_u64 (c + CHANGE_SIZE_V1);
            memcpy (change->from, c + IM_STORE_KEY_SIZE + 9, IM_NODE_ID_SIZE);
            rc = mdb_cursor_get (w.cur, &k, &v, MDB_NEXT);
        }
        memset (skipped, 0, n);
        if (skip && n)
            skip (chunk, n, skipped, arg);
        for (size_t j = 0; j < n; j++) {
            if ((size_t)count >= limit) {
                stop = 1;
                break;
            }
            im_store_change_t *change = &chunk[j];
            const uint8_t *c = change->key;
            *last = change->seq;
            scanned++;
            if (skipped[j])
                continue;
            change->rec = w.rec;
            /* A change superseded by a later one is passed over: the later
             * one comes further on in the log. */
            MDB_val rk = { IM_STORE_KEY_SIZE, (void *)c }, rv;
            if (mdb_cursor_get (rcur, &rk, &rv, MDB_SET_KEY) == 0
                && store_record_expand (self, w.txn, c, &rv, w.buf, IM_RECORD_MAX) == 0
                && im_record_decode_stored (rv.mv_data, rv.mv_size, w.rec) == 0
                && w.rec->version == get_u64 (c + IM_STORE_KEY_SIZE)) {
                change->blob = rv.mv_data;
                change->len = rv.mv_size;
                count++;
                if (fn (change, arg)) {
                    stop = 1;
                    break;
                }
            }
        }
    }
    if (rcur)
        mdb_cursor_close (rcur);
    store_walk_end (self, &w);
    return count;
}
