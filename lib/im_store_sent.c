/* SPDX-License-Identifier: MPL-2.0 */
/* im_store_sent.c -- what the store keeps about peers: the cursor of each
 * peer's changes applied here, the sent log, and the hops of records from
 * peers. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "im_store_int.h"

int
im_store_cursor (im_store_t *self, const uint8_t *peer, uint64_t *cursor)
{
    if (!self || !peer || !cursor) {
        errno = EINVAL;
        return -1;
    }
    MDB_txn *txn;
    if (store_reader_begin (self, &txn))
        return -1;
    MDB_val k = { IM_NODE_ID_SIZE, (void *)peer }, v;
    int rc = mdb_get (txn, self->cursors, &k, &v);
    *cursor = rc == 0 && v.mv_size == 8 ? get_u64 (v.mv_data) : 0;
    store_reader_end (self);
    return rc == 0 || rc == MDB_NOTFOUND
               ? 0
               : store_error (self->path, rc, "reading a cursor", NULL, 0);
}

typedef struct {
    const uint8_t *peer;
    uint64_t cursor;
} cursor_arg_t;

static int
set_cursor_fn (im_store_t *self, MDB_txn *txn, void *arg)
{
    cursor_arg_t *a = arg;
    uint8_t cv[8];
    put_u64 (cv, a->cursor);
    MDB_val k = { IM_NODE_ID_SIZE, (void *)a->peer }, v = { 8, cv };
    return mdb_put (txn, self->cursors, &k, &v, 0);
}

int
im_store_set_cursor (im_store_t *self, const uint8_t *peer, uint64_t cursor)
{
    if (!self || !peer) {
        errno = EINVAL;
        return -1;
    }
    cursor_arg_t a = { peer, cursor };
    return store_write_txn (self, set_cursor_fn, &a, "writing a cursor");
}

/* --- The sent log ------------------------------------------------------- */

typedef struct {
    const uint8_t *peer;
    const uint8_t *keys;
    size_t n;
    int64_t when;
    const int64_t *whens; /* one per key, or NULL: WHEN for all */
} sent_arg_t;

static int
sent_one (im_store_t *self, MDB_txn *txn, const sent_arg_t *a)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->n; i++) {
        const uint8_t *key = a->keys + i * IM_STORE_WANT_KEY;
        /* peer|origin|id -> version|time: the newest version sent. */
        uint8_t sk[IM_NODE_ID_SIZE + IM_STORE_KEY_SIZE], sv[16];
        memcpy (sk, a->peer, IM_NODE_ID_SIZE);
        memcpy (sk + IM_NODE_ID_SIZE, key, IM_STORE_KEY_SIZE);
        MDB_val k = { sizeof sk, sk }, v;
        uint64_t version = get_u64 (key + IM_STORE_KEY_SIZE);
        int64_t when = a->whens ? a->whens[i] : a->when;
        put_u64 (sv, version);
        put_u64 (sv + 8, (uint64_t)when);
        MDB_val nv = { sizeof sv, sv };
        /* Put unless there: most are new, and a refused put hands back what
         * is there (a get a record fewer). */
        rc = mdb_put (txn, self->sent, &k, &nv, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST) {
            v = nv;
            if (v.mv_size == 16 && get_u64 (v.mv_data) >= version) {
                rc = 0; /* logged already: one entry per peer, record and version */
                continue;
            }
            nv.mv_size = sizeof sv;
            nv.mv_data = sv;
            rc = mdb_put (txn, self->sent, &k, &nv, 0);
        }
        /* peer|time|origin|id -> version: the history. */
        uint8_t lk[IM_NODE_ID_SIZE + 8 + IM_STORE_KEY_SIZE], lv[8];
        memcpy (lk, a->peer, IM_NODE_ID_SIZE);
        put_u64 (lk + IM_NODE_ID_SIZE, (uint64_t)when);
        memcpy (lk + IM_NODE_ID_SIZE + 8, key, IM_STORE_KEY_SIZE);
        put_u64 (lv, version);
        MDB_val k2 = { sizeof lk, lk }, v2 = { sizeof lv, lv };
        if (rc == 0)
            rc = mdb_put (txn, self->sentlog, &k2, &v2, 0);
    }
    return rc;
}

/* The peers' logs of a write: N of them at ARGS. */
typedef struct {
    const sent_arg_t *args;
    size_t n;
} sent_all_t;

static int
sent_fn (im_store_t *self, MDB_txn *txn, void *arg)
{
    const sent_all_t *all = arg;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < all->n; i++)
        rc = sent_one (self, txn, &all->args[i]);
    return rc;
}

/* A fault switch for tests only (see im_store.h): the path in
 * IM_TEST_SENTLOG_FAIL, read once; while a file is there, writes fail: all
 * of them, or when the file holds a node id in hex, those that carry that
 * peer's entries. */
static int
sent_fault (const sent_arg_t *args, size_t n)
{
    static int read;
    static const char *path;
    if (!read) {
        path = getenv ("IM_TEST_SENTLOG_FAIL");
        read = 1;
    }
    if (!path || !*path || access (path, F_OK) != 0)
        return 0;
    char hex[2 * IM_NODE_ID_SIZE + 1] = "";
    uint8_t node[IM_NODE_ID_SIZE];
    size_t len = 0;
    FILE *f = fopen (path, "r");
    if (f) {
        len = fread (hex, 1, sizeof hex - 1, f);
        fclose (f);
    }
    hex[len] = '\0';
    if (len < sizeof hex - 1
        || sodium_hex2bin (node, sizeof node, hex, len, NULL, &len, NULL) != 0
        || len != sizeof node)
        return 1; /* no node named: every write fails */
    for (size_t i = 0; i < n; i++)
        if (args[i].n && memcmp (args[i].peer, node, sizeof node) == 0)
            return 1;
    return 0;
}

/* Writes the N logs at ARGS (checked) in one transaction, unless the test
 * switch is on. */
static int
sent_write (im_store_t *self, const sent_arg_t *args, size_t n)
{
    size_t keys = 0;
    for (size_t i = 0; i < n; i++)
        keys += args[i].n;
    if (keys == 0)
        return 0;
    if (sent_fault (args, n)) {
        errno = EIO;
        return -1;
    }
    sent_all_t all = { args, n };
    return store_write_txn_lazy (self, sent_fn, &all, "writing the sent log");
}

int
im_store_sent_note (im_store_t *self, const uint8_t *peer, const uint8_t *keys, size_t n,
                    int64_t when)
{
    if (!self || !peer || (!keys && n) || when < 0) {
        errno = EINVAL;
        return -1;
    }
    sent_arg_t a = { peer, keys, n, when, NULL };
    return sent_write (self, &a, 1);
}

int
im_store_sent_note_at (im_store_t *self, const uint8_t *peer, const uint8_t *keys,
                       size_t n, const int64_t *whens)
{
    int bad = !self || !peer || (n && (!keys || !whens));
    for (size_t i = 0; !bad && i < n; i++)
        bad = whens[i] < 0;
    if (bad) {
        errno = EINVAL;
        return -1;
    }
    sent_arg_t a = { peer, keys, n, 0, whens };
    return sent_write (self, &a, 1);
}

int
im_store_sent_note_peers (im_store_t *self, const im_store_sent_t *logs, size_t n)
{
    int bad = !self || (n && !logs);
    for (size_t i = 0; !bad && i < n; i++) {
        bad = !logs[i].peer || (logs[i].n && (!logs[i].keys || !logs[i].whens));
        for (size_t j = 0; !bad && j < logs[i].n; j++)
            bad = logs[i].whens[j] < 0;
    }
    sent_arg_t *args = bad || n == 0 ? NULL : calloc (n, sizeof *args);
    if (bad || (n && !args)) {
        errno = bad ? EINVAL : ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        args[i] = (sent_arg_t){ logs[i].peer, logs[i].keys, logs[i].n, 0, logs[i].whens };
    int rc = sent_write (self, args, n);
    int saved = errno;
    free (args);
    errno = saved;
    return rc;
}

int
im_store_sent_version (im_store_t *self, const uint8_t *peer, const uint8_t *origin,
                       const uint8_t *id, uint64_t *version, int64_t *when)
{
    if (!self || !peer || !origin || !id || !version) {
        errno = EINVAL;
        return -1;
    }
    MDB_txn *txn;
    if (store_reader_begin (self, &txn))
        return -1;
    uint8_t sk[IM_NODE_ID_SIZE + IM_STORE_KEY_SIZE];
    memcpy (sk, peer, IM_NODE_ID_SIZE);
    memcpy (sk + IM_NODE_ID_SIZE, origin, IM_NODE_ID_SIZE);
    memcpy (sk + 2 * IM_NODE_ID_SIZE, id, IM_ID_SIZE);
    MDB_val k = { sizeof sk, sk }, v;
    int rc = mdb_get (txn, self->sent, &k, &v);
    int ok = rc == 0 && v.mv_size == 16;
    *version = ok ? get_u64 (v.mv_data) : 0;
    if (when)
        *when = ok ? (int64_t)get_u64 ((uint8_t *)v.mv_data + 8) : 0;
    store_reader_end (self);
    return rc == 0 || rc == MDB_NOTFOUND
               ? 0
               : store_error (self->path, rc, "reading the sent log", NULL, 0);
}

int
im_store_sent_list (im_store_t *self, const uint8_t *peer, int64_t since, size_t limit,
                    im_store_sent_fn *fn, void *arg)
{
    if (!self || !peer || !fn || since < 0) {
        errno = EINVAL;
        return -1;
    }
    walk_t w;
    if (store_walk_begin (self, self->sentlog, &w))
        return -1;
    uint8_t start[IM_NODE_ID_SIZE + 8];
    memcpy (start, peer, IM_NODE_ID_SIZE);
    put_u64 (start + IM_NODE_ID_SIZE, (uint64_t)since);
    MDB_val k = { sizeof start, start }, v;
    int count = 0;
    int rc = mdb_cursor_get (w.cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && (size_t)count < limit) {
        const uint8_t *kd = k.mv_data;
        if (k.mv_size != IM_NODE_ID_SIZE + 8 + IM_STORE_KEY_SIZE || v.mv_size != 8
            || memcmp (kd, peer, IM_NODE_ID_SIZE) != 0)
            break;
        count++;
        if (fn (kd + IM_NODE_ID_SIZE + 8, kd + 2 * IM_NODE_ID_SIZE + 8,
                get_u64 (v.mv_data), (int64_t)get_u64 (kd + IM_NODE_ID_SIZE), arg))
            break;
        rc = mdb_cursor_get (w.cur, &k, &v, MDB_NEXT);
    }
    store_walk_end (self, &w);
    return count;
}

typedef struct {
    int64_t before;
    size_t limit, removed;
} prune_arg_t;

/* The first key of the peer after PEER (a node id read as a big number):
 * 0 when PEER is the last one possible. */
static int
next_peer (uint8_t *peer)
{
    for (int i = IM_NODE_ID_SIZE - 1; i >= 0; i--)
        if (++peer[i] != 0)
            return 1;
    return 0;
}

static int
prune_fn (im_store_t *self, MDB_txn *txn, void *arg)
{
    prune_arg_t *a = arg;
    MDB_cursor *cur;
    a->removed = 0;
    int rc = mdb_cursor_open (txn, self->sentlog, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get (cur, &k, &v, MDB_FIRST);
    while (rc == 0 && a->removed < a->limit) {
        uint8_t next[IM_NODE_ID_SIZE + 8] = { 0 };
        if (k.mv_size < IM_NODE_ID_SIZE + 8
            || (int64_t)get_u64 ((uint8_t *)k.mv_data + IM_NODE_ID_SIZE) < a->before) {
            rc = mdb_cursor_del (cur, 0);
            a->removed++;
            if (rc == 0)
                rc = mdb_cursor_get (cur, &k, &v, MDB_NEXT); /* the one after */
            continue;
        }
        /* This peer's older entries are gone: on to the next peer's. */
        memcpy (next, k.mv_data, IM_NODE_ID_SIZE);
        if (!next_peer (next)) {
            rc = MDB_NOTFOUND;
            break;
        }
        k.mv_size = sizeof next;
        k.mv_data = next;
        rc = mdb_cursor_get (cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close (cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int
im_store_sent_prune (im_store_t *self, int64_t before, size_t limit)
{
    if (!self || before < 0 || limit == 0) {
        errno = EINVAL;
        return -1;
    }
    prune_arg_t a = { before, limit, 0 };
    if (store_write_txn (self, prune_fn, &a, "pruning the sent log"))
        return -1;
    return (int)a.removed;
}

int
im_store_held (im_store_t *self, const uint8_t *origin, const uint8_t *id, uint8_t *hops,
               uint8_t *from)
{
    if (!self || !origin || !id || !hops) {
        errno = EINVAL;
        return -1;
    }
    MDB_txn *txn;
    if (store_reader_begin (self, &txn))
        return -1;
    uint8_t key[IM_STORE_KEY_SIZE];
    memcpy (key, origin, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, id, IM_ID_SIZE);
    MDB_val k = { sizeof key, key }, v;
    int rc = mdb_get (txn, self->held, &k, &v);
    int ok = rc == 0 && v.mv_size == HELD_SIZE;
    *hops = ok ? ((uint8_t *)v.mv_data)[0] : 0;
    if (from) {
        if (ok)
            memcpy (from, (uint8_t *)v.mv_data + 9, IM_NODE_ID_SIZE);
        else
            memset (from, 0, IM_NODE_ID_SIZE);
    }
    store_reader_end (self);
    if (rc == MDB_NOTFOUND) {
        errno = ENOENT;
        return -1;
    }
    return rc ? store_error (self->path, rc, "reading hops", NULL, 0) : 0;
}
