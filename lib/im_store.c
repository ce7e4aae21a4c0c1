/* SPDX-License-Identifier: MPL-2.0 */
/* im_store.c -- LMDB store: records, value and CIDR indexes, change log,
 * per-origin state and metadata, every named database opened once at start.
 * Writes are batched in one transaction; a full map is grown and the batch
 * retried (as Postfix's slmdb.c does); LMDB errors are translated in one place.
 * This file: opening and closing, metadata, errors, map growth, the kept
 * read transaction and single reads. Writes are in im_store_put.c, walks in
 * im_store_log.c, cursors, the sent log and hops in
 * im_store_sent.c, what was served to each peer in im_store_served.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "im_store_int.h"
#include "im_util.h"

int
store_fs_full (const char *dir)
{
    struct statvfs vfs;
    return dir && statvfs (dir, &vfs) == 0 && vfs.f_blocks > 0 && vfs.f_bavail == 0;
}

int
store_error (const char *dir, int rc, const char *what, char *err, size_t errsz)
{
    int code;
    switch (rc) {
    case MDB_NOTFOUND: code = ENOENT; break;
    case MDB_MAP_FULL:
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
        code = ENOSPC;
        break;
    case MDB_READERS_FULL:
    case MDB_TXN_FULL:
    case MDB_CURSOR_FULL: code = EAGAIN; break;
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE: code = EPROTO; break;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID: code = EIO; break;
    default: code = rc > 0 ? rc : EIO; break;
    }
    /* A page write or sync that failed on a full disk: LMDB says EIO (a
     * short write), the kernel EIO or ENOSPC. */
    if (rc == EIO && store_fs_full (dir))
        code = ENOSPC;
    /* A full disk, or a store at its size limit, says so in plain words. */
    if (err && errsz && rc == MDB_MAP_FULL)
        snprintf (err, errsz,
                  "store: %s: disk full (the store reached its size limit, "
                  "store/max-size)",
                  what);
    else if (err && errsz && code == ENOSPC)
        snprintf (err, errsz, "store: %s: disk full: no space left for %s (%s%s)", what,
                  dir ? dir : "the store", mdb_strerror (rc),
                  rc == EIO ? " on a filesystem with no free blocks" : "");
    else if (err && errsz)
        snprintf (err, errsz, "store: %s: %s", what, mdb_strerror (rc));
    errno = code;
    return -1;
}

/* --- Metadata ---------------------------------------------------------- */

static int
meta_get (MDB_txn *txn, im_store_t *self, const char *name, void *buf, size_t size)
{
    MDB_val k = { strlen (name), (void *)name }, v;
    int rc = mdb_get (txn, self->meta, &k, &v);
    if (rc)
        return rc;
    if (v.mv_size != size)
        return MDB_CORRUPTED;
    memcpy (buf, v.mv_data, size);
    return 0;
}

/* The counters into BUF (SIZE bytes, for IM_TYPE_COUNT types), and into
 * *NTYPES the number of types they hold: fewer in a store made before the
 * later types. Returns an LMDB code. */
static int
counts_get (MDB_txn *txn, im_store_t *self, uint8_t *buf, size_t size, int *ntypes)
{
    MDB_val k = { 6, "counts" }, v;
    int rc = mdb_get (txn, self->meta, &k, &v);
    if (rc)
        return rc;
    size_t per = 8 * IM_TLP_COUNT, tail = 8 * 3;
    if (v.mv_size > size || v.mv_size < per + tail || (v.mv_size - tail) % per)
        return MDB_CORRUPTED;
    memcpy (buf, v.mv_data, v.mv_size);
    *ntypes = (int)((v.mv_size - tail) / per);
    /* The three totals follow the types' counters. */
    memmove (buf + size - tail, buf + v.mv_size - tail, tail);
    return 0;
}

int
store_meta_put (MDB_txn *txn, im_store_t *self, const char *name, const void *buf,
                size_t size)
{
    MDB_val k = { strlen (name), (void *)name }, v = { size, (void *)buf };
    return mdb_put (txn, self->meta, &k, &v, 0);
}

void
store_counters_pack (const im_store_t *self, uint8_t *buf)
{
    size_t i = 0;
    for (int t = 0; t < IM_TYPE_COUNT; t++)
        for (int l = 0; l < IM_TLP_COUNT; l++)
            put_u64 (buf + 8 * i++, self->live[t][l]);
    put_u64 (buf + 8 * i++, self->revoked);
    put_u64 (buf + 8 * i++, self->nrecords);
    put_u64 (buf + 8 * i++, self->norigins);
}

/* Counters of NTYPES types (a store made before the later types were
 * added has fewer: those count 0). */
static void
counters_unpack (im_store_t *self, const uint8_t *buf, int ntypes)
{
    size_t i = 0;
    for (int t = 0; t < ntypes; t++)
        for (int l = 0; l < IM_TLP_COUNT; l++)
            self->live[t][l] = get_u64 (buf + 8 * i++);
    i = (size_t)IM_TYPE_COUNT * IM_TLP_COUNT; /* the totals: see counts_get */
    self->revoked = get_u64 (buf + 8 * i++);
    self->nrecords = get_u64 (buf + 8 * i++);
    self->norigins = get_u64 (buf + 8 * i++);
}

static int
meta_load (im_store_t *self, MDB_txn *txn, const uint8_t *node, char *err, size_t errsz)
{
    uint8_t schema[4], seq[8], counters[8 * COUNTERS], stored[IM_NODE_ID_SIZE];
    int ntypes = 0;
    int rc = meta_get (txn, self, "schema", schema, sizeof schema);
    if (rc == MDB_NOTFOUND) {
        /* A new store. */
        uint8_t v[4] = { 0, 0, 0, STORE_SCHEMA };
        rc = store_meta_put (txn, self, "schema", v, sizeof v);
        /* SERVED is complete from the start (a store of the previous
         * schema gets the table on open, with nothing known). */
        self->created = self->served_all = 1;
        if (rc == 0)
            rc = store_meta_put (txn, self, "served", "1", 1);
        if (rc == 0 && node)
            rc = store_meta_put (txn, self, "node", node, IM_NODE_ID_SIZE);
        return rc ? store_error (self->path, rc, "writing metadata", err, errsz) : 0;
    }
    if (rc)
        return store_error (self->path, rc, "reading metadata", err, errsz);
    if (schema[0] || schema[1] || schema[2] || schema[3] < 1 || schema[3] > STORE_SCHEMA)
        return im_fail (EPROTO, err, errsz,
                        "store: schema version %u is not supported by this intelmeshd",
                        schema[3]);
    if (schema[3] < STORE_SCHEMA) {
        /* Made before records of format 2 (schema 1): its own are signed
         * again. Its records of format 2 (schema 2) are read whole, as they
         * are; those written from now on are kept compact. */
        uint8_t v[4] = { 0, 0, 0, STORE_SCHEMA };
        rc = store_meta_put (txn, self, "schema", v, sizeof v);
        if (rc == 0 && schema[3] == 1)
            rc = store_meta_put (txn, self, "reseal", "1", 1);
        if (rc)
            return store_error (self->path, rc, "writing metadata", err, errsz);
    }
    uint8_t nbatches[8];
    if ((rc = meta_get (txn, self, "batches", nbatches, sizeof nbatches)) == 0)
        self->nbatches = get_u64 (nbatches);
    else if (rc != MDB_NOTFOUND)
        return store_error (self->path, rc, "reading metadata", err, errsz);
    uint8_t reseal;
    self->reseal = meta_get (txn, self, "reseal", &reseal, 1) == 0;
    rc = meta_get (txn, self, "node", stored, sizeof stored);
    if (rc == 0 && node && memcmp (stored, node, IM_NODE_ID_SIZE) != 0)
        return im_fail (EPERM, err, errsz, "store: belongs to another node identity");
    if (rc == MDB_NOTFOUND && node
        && (rc = store_meta_put (txn, self, "node", node, IM_NODE_ID_SIZE)) != 0)
        return store_error (self->path, rc, "writing metadata", err, errsz);
    uint8_t served_all;
    self->served_all = meta_get (txn, self, "served", &served_all, 1) == 0;
    if ((rc = meta_get (txn, self, "seq", seq, sizeof seq)) == 0)
        self->seq = get_u64 (seq);
    else if (rc != MDB_NOTFOUND)
        return store_error (self->path, rc, "reading metadata", err, errsz);
    if ((rc = counts_get (txn, self, counters, sizeof counters, &ntypes)) == 0)
        counters_unpack (self, counters, ntypes);
    else if (rc != MDB_NOTFOUND)
        return store_error (self->path, rc, "reading metadata", err, errsz);
    rc = meta_get (txn, self, "plen4", self->plen4, sizeof self->plen4);
    if (rc == 0 || rc == MDB_NOTFOUND)
        rc = meta_get (txn, self, "plen6", self->plen6, sizeof self->plen6);
    if (rc && rc != MDB_NOTFOUND)
        return store_error (self->path, rc, "reading metadata", err, errsz);
    return 0;
}

/* --- Life cycle -------------------------------------------------------- */

/* LMDB's lock file is written through a shared map, where a page the
 * filesystem cannot give on a full disk (tmpfs, for one) kills the process
 * with SIGBUS: its blocks are reserved first, so that a full disk is an error
 * instead. Returns 0, or ENOSPC or EDQUOT (other failures are left to
 * LMDB). */
static int
lock_file_reserve (const char *dir)
{
    char path[PATH_MAX];
    if (snprintf (path, sizeof path, "%s/lock.mdb", dir) >= (int)sizeof path)
        return 0;
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return 0;
    int rc = posix_fallocate (fd, 0, STORE_LOCK_SIZE);
    close (fd);
#ifdef EDQUOT
    if (rc == EDQUOT)
        return rc;
#endif
    return rc == ENOSPC ? rc : 0;
}

im_store_t *
im_store_new (const char *path, size_t map_size, const uint8_t node[IM_NODE_ID_SIZE],
              char *err, size_t errsz)
{
    if (!path) {
        im_fail (EINVAL, err, errsz, "store: no path");
        return NULL;
    }
    if (mkdir (path, 0700) != 0 && errno != EEXIST) {
        if (errno == ENOSPC)
            store_error (path, ENOSPC, "creating", err, errsz);
        else
            im_fail (errno, err, errsz, "store: cannot create %s: %s", path,
                     strerror (errno));
        return NULL;
    }
    im_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        im_fail (ENOMEM, err, errsz, "store: out of memory");
        return NULL;
    }
    self->map_size = map_size ? map_size : STORE_DEFAULT_MAP;
    randombytes_buf (self->order_key, sizeof self->order_key);
    self->scratch = malloc (sizeof *self->scratch);
    self->scratch_buf = malloc (IM_RECORD_MAX);
    self->path = strdup (path);
    if (!self->scratch || !self->scratch_buf || !self->path) {
        im_fail (ENOMEM, err, errsz, "store: out of memory");
        im_store_destroy (&self);
        return NULL;
    }
    MDB_txn *txn = NULL;
    int rc = lock_file_reserve (path);
    if (rc == 0)
        rc = mdb_env_create (&self->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (self->env, STORE_MAXDBS);
    if (rc == 0)
        rc = mdb_env_set_maxreaders (self->env, STORE_READERS);
    if (rc == 0)
        rc = mdb_env_set_mapsize (self->env, self->map_size);
    if (rc == 0)
        rc = mdb_env_open (self->env, path, MDB_NOTLS, 0600);
    if (rc) {
        store_error (self->path, rc, "opening", err, errsz);
        goto failed;
    }
    /* The file may be larger than asked when it grew before: adopt its size. */
    MDB_envinfo info;
    if (mdb_env_info (self->env, &info) == 0 && info.me_mapsize > self->map_size)
        self->map_size = info.me_mapsize;

    /* Every named database is opened once, in one committed transaction. */
    const struct {
        const char *name;
        unsigned flags;
        MDB_dbi *dbi;
    } dbs[] = {
        { "records", 0, &self->records },
        { "index", MDB_DUPSORT | MDB_DUPFIXED, &self->index },
        { "prefixes", MDB_DUPSORT | MDB_DUPFIXED, &self->prefixes },
        { "changes", 0, &self->changes },
        { "origins", 0, &self->origins },
        { "meta", 0, &self->meta },
        { "cursors", 0, &self->cursors },
        { "wanted", 0, &self->wanted },
        { "sent", 0, &self->sent },
        { "sentlog", 0, &self->sentlog },
        { "held", 0, &self->held },
        { "served", 0, &self->served },
        { "batches", 0, &self->batches },
        { "batchroots", 0, &self->batchroots },
    };
    rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    for (size_t i = 0; rc == 0 && i < sizeof dbs / sizeof dbs[0]; i++)
        rc = mdb_dbi_open (txn, dbs[i].name, MDB_CREATE | dbs[i].flags, dbs[i].dbi);
    if (rc) {
        store_error (self->path, rc, "opening databases", err, errsz);
        goto failed;
    }
    /* Wanted keys were kept here before they moved to the mesh's memory:
     * what an older version left is dropped. */
    if (rc == 0)
        rc = mdb_drop (txn, self->wanted, 0);
    if (rc) {
        store_error (self->path, rc, "opening databases", err, errsz);
        goto failed;
    }
    if (meta_load (self, txn, node, err, errsz))
        goto failed;
    rc = mdb_txn_commit (txn);
    txn = NULL;
    if (rc) {
        store_error (self->path, rc, "opening databases", err, errsz);
        goto failed;
    }
    return self;

failed:
    if (txn)
        mdb_txn_abort (txn);
    im_store_destroy (&self);
    return NULL;
}

void
im_store_destroy (im_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    int saved = errno;
    im_store_t *self = *self_p;
    if (self->reader)
        mdb_txn_abort (self->reader);
    if (self->env)
        mdb_env_close (self->env);
    free (self->scratch);
    free (self->scratch_buf);
    free (self->bw);
    free (self->read_parts);
    free (self->put_buf);
    store_vcache_free (self);
    free (self->path);
    free (self);
    *self_p = NULL;
    errno = saved;
}

/* --- Reads ------------------------------------------------------------- */

int
store_reader_begin (im_store_t *self, MDB_txn **txn)
{
    int rc;
    if (self->reading > 0) {
        *txn = self->reader;
        self->reading++;
        return 0;
    }
    if (self->reader) {
        rc = mdb_txn_renew (self->reader);
        if (rc == 0) {
            *txn = self->reader;
            self->reading = 1;
            self->reader_writes = self->writes;
            return 0;
        }
        mdb_txn_abort (self->reader);
        self->reader = NULL;
    }
    rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &self->reader);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize (self->env, 0);
        rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &self->reader);
    }
    if (rc) {
        self->reader = NULL;
        return store_error (self->path, rc, "starting a read", NULL, 0);
    }
    *txn = self->reader;
    self->reading = 1;
    self->reader_writes = self->writes;
    return 0;
}

void
store_reader_end (im_store_t *self)
{
    if (self->reading > 0 && --self->reading == 0 && self->reader)
        mdb_txn_reset (self->reader);
}

int
im_store_read_begin (im_store_t *self)
{
    MDB_txn *txn;
    if (!self) {
        errno = EINVAL;
        return -1;
    }
    return store_reader_begin (self, &txn);
}

void
im_store_read_end (im_store_t *self)
{
    if (self)
        store_reader_end (self);
}

int
store_read_record (im_store_t *self, const uint8_t *origin, const uint8_t *id,
                   const void *out, MDB_val *v, int *rc)
{
    if (!self || !origin || !id || !out) {
        errno = EINVAL;
        return -1;
    }
    uint8_t key[IM_STORE_KEY_SIZE];
    memcpy (key, origin, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, id, IM_ID_SIZE);
    MDB_txn *txn;
    if (store_reader_begin (self, &txn))
        return -1;
    MDB_val k = { sizeof key, key };
    *rc = mdb_get (txn, self->records, &k, v);
    return 0;
}

int
im_store_get (im_store_t *self, const uint8_t origin[IM_NODE_ID_SIZE],
              const uint8_t id[IM_ID_SIZE], im_record_t *rec)
{
    uint8_t blob[IM_RECORD_MAX];
    size_t len;
    if (im_store_get_raw (self, origin, id, blob, sizeof blob, &len))
        return -1;
    if (rec && im_record_decode_stored (blob, len, rec)) {
        errno = EIO;
        return -1;
    }
    return 0;
}

int
store_walk_begin (im_store_t *self, MDB_dbi dbi, walk_t *w)
{
    memset (w, 0, sizeof *w);
    w->rec = malloc (sizeof *w->rec);
    w->buf = malloc (IM_RECORD_MAX);
    if (!w->rec || !w->buf) {
        free (w->rec);
        free (w->buf);
        errno = ENOMEM;
        return -1;
    }
    if (store_reader_begin (self, &w->txn)) {
        free (w->rec);
        free (w->buf);
        return -1;
    }
    int rc = mdb_cursor_open (w->txn, dbi, &w->cur);
    if (rc) {
        store_reader_end (self);
        free (w->rec);
        free (w->buf);
        return store_error (self->path, rc, "opening a cursor", NULL, 0);
    }
    return 0;
}

void
store_walk_end (im_store_t *self, walk_t *w)
{
    mdb_cursor_close (w->cur);
    store_reader_end (self);
    free (w->rec);
    free (w->buf);
}

/* The version of the record V read under ORIGIN and ID (RC: the read's
 * LMDB code), 0 when there is none. */
static uint64_t
version_of (const uint8_t *origin, const uint8_t *id, MDB_val v, int rc)
{
    if (rc != 0)
        return 0;
    /* A compact record's head: its own, with the key back in it, under the
     * format byte of 2. */
    uint8_t head_buf[IM_RECORD_FIXED + IM_SIG_SIZE] = { 0 };
    uint64_t bid;
    if (store_record_ref (&v, &bid)) {
        size_t rest = sizeof head_buf - 4 - IM_STORE_KEY_SIZE;
        memcpy (head_buf, v.mv_data, 4);
        memcpy (head_buf + 4, origin, IM_NODE_ID_SIZE);
        memcpy (head_buf + 4 + IM_NODE_ID_SIZE, id, IM_ID_SIZE);
        memcpy (head_buf + 4 + IM_STORE_KEY_SIZE, (uint8_t *)v.mv_data + 4,
                v.mv_size - 4 < rest ? v.mv_size - 4 : rest);
        head_buf[3] = 2;
        v.mv_data = head_buf;
        v.mv_size = sizeof head_buf;
    }
    /* The record's head is read by its codec, not at a byte offset. */
    im_record_head_t head;
    return im_record_peek (v.mv_data, v.mv_size, &head) == 0 ? head.version : 0;
}

int
im_store_version (im_store_t *self, const uint8_t *origin, const uint8_t *id,
                  uint64_t *version)
{
    uint8_t key[IM_STORE_KEY_SIZE];
    if (self && origin && id && version) {
        memcpy (key, origin, IM_NODE_ID_SIZE);
        memcpy (key + IM_NODE_ID_SIZE, id, IM_ID_SIZE);
        if (store_vcache_get (self, key, version))
            return 0;
    }
    MDB_val v;
    int rc;
    if (store_read_record (self, origin, id, version, &v, &rc))
        return -1;
    *version = version_of (origin, id, v, rc);
    if ((rc == 0 || rc == MDB_NOTFOUND) && self->reader_writes == self->writes)
        store_vcache_put (self, key, *version);
    store_reader_end (self);
    return rc == 0 || rc == MDB_NOTFOUND
               ? 0
               : store_error (self->path, rc, "reading", NULL, 0);
}

int
im_store_versions (im_store_t *self, const uint8_t *keys, size_t stride, size_t n,
                   uint64_t *versions)
{
    if (!self || (n && (!keys || !versions || stride < IM_STORE_KEY_SIZE))) {
        errno = EINVAL;
        return -1;
    }
    /* Those lately looked up or written are answered from memory; the
     * table is read for the others only, marked UINT64_MAX meanwhile (a
     * version that high read from memory is only looked up again). */
    enum { AHEAD = 4 };
    size_t missed = 0;
    for (size_t i = 0; i < n && i < AHEAD; i++)
        store_vcache_prefetch (self, keys + i * stride);
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n)
            store_vcache_prefetch (self, keys + (i + AHEAD) * stride);
        if (!store_vcache_get (self, keys + i * stride, &versions[i])) {
            versions[i] = UINT64_MAX;
            missed++;
        }
    }
    if (missed == 0)
        return 0;
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    if (store_reader_begin (self, &txn))
        return -1;
    int rc = mdb_cursor_open (txn, self->records, &cur);
    /* One cursor for all, positioned on the first key at or after each
     * (also when that key is missing, as most are): LMDB looks the next up
     * in the leaf the cursor is on when it belongs there (keys of one batch
     * are neighbours), instead of from the root. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const uint8_t *key = keys + i * stride;
        if (versions[i] != UINT64_MAX)
            continue; /* answered from memory */
        MDB_val k = { IM_STORE_KEY_SIZE, (void *)key }, v;
        int got = mdb_cursor_get (cur, &k, &v, MDB_SET_RANGE);
        if (got == 0
            && (k.mv_size != IM_STORE_KEY_SIZE
                || memcmp (k.mv_data, key, IM_STORE_KEY_SIZE) != 0))
            got = MDB_NOTFOUND;
        versions[i] = version_of (key, key + IM_NODE_ID_SIZE, v, got);
        if (got != 0 && got != MDB_NOTFOUND)
            rc = got;
        else if (self->reader_writes == self->writes) /* read what is held now */
            store_vcache_put (self, key, versions[i]);
    }
    if (cur)
        mdb_cursor_close (cur);
    store_reader_end (self);
    return rc == 0 ? 0 : store_error (self->path, rc, "reading", NULL, 0);
}

int
im_store_get_raw (im_store_t *self, const uint8_t *origin, const uint8_t *id,
                  uint8_t *buf, size_t bufsz, size_t *len)
{
    MDB_val v;
    int rc;
    if (store_read_record (self, origin, id, len ? buf : NULL, &v, &rc))
        return -1;
    int result = 0;
    if (rc == 0) {
        uint8_t key[IM_STORE_KEY_SIZE];
        memcpy (key, origin, IM_NODE_ID_SIZE);
        memcpy (key + IM_NODE_ID_SIZE, id, IM_ID_SIZE);
        rc = store_record_expand (self, self->reader, key, &v, buf, bufsz);
    }
    if (rc == ENOSPC || (rc == 0 && v.mv_size > bufsz)) {
        errno = ENOSPC;
        result = -1;
    }
    else if (rc)
        result = store_error (self->path, rc, "reading", NULL, 0);
    else {
        if (v.mv_data != buf)
            memcpy (buf, v.mv_data, v.mv_size);
        *len = v.mv_size;
    }
    store_reader_end (self);
    return result;
}

int
im_store_stats (im_store_t *self, im_store_stats_t *st)
{
    if (!self || !st) {
        errno = EINVAL;
        return -1;
    }
    memset (st, 0, sizeof *st);
    memcpy (st->live, self->live, sizeof st->live);
    st->revoked = self->revoked;
    st->records = self->nrecords;
    st->origins = self->norigins;
    st->last_seq = self->seq;
    MDB_envinfo info;
    MDB_stat stat;
    if (mdb_env_info (self->env, &info) == 0 && mdb_env_stat (self->env, &stat) == 0) {
        st->map_size = info.me_mapsize;
        st->used_bytes = (uint64_t)(info.me_last_pgno + 1) * stat.ms_psize;
    }
    st->max_size = self->max_size;
    st->full_since = self->full_since;
    st->full_refused = self->full_refused;
    return 0;
}

/* --- Writes: the map grown when full ----------------------------------- */

int
store_grow (im_store_t *self)
{
    size_t bigger = self->map_size * 2;
    if (self->max_size && bigger > self->max_size)
        bigger = self->max_size;
    if (bigger <= self->map_size) {
        errno = ENOSPC; /* at the size limit: the write fails as disk full */
        return -1;
    }
    if (mdb_env_set_mapsize (self->env, bigger) != 0)
        return -1;
    self->map_size = bigger;
    return 0;
}

int
im_store_set_max (im_store_t *self, size_t max_size)
{
    if (!self || (max_size && max_size < IM_STORE_MAX_MIN)) {
        errno = EINVAL;
        return -1;
    }
    self->max_size = max_size;
    if (!max_size || self->map_size <= max_size)
        return 0;
    /* A smaller map: LMDB keeps at least what is in use. */
    int rc = mdb_env_set_mapsize (self->env, max_size);
    MDB_envinfo info;
    if (rc == 0 && (rc = mdb_env_info (self->env, &info)) == 0)
        self->map_size = info.me_mapsize;
    return rc ? store_error (self->path, rc, "setting the size limit", NULL, 0) : 0;
}

void
store_full_note (im_store_t *self, int failed)
{
    if (!failed)
        self->full_since = 0, self->full_refused = 0;
    else if (errno == ENOSPC) {
        if (!self->full_since)
            self->full_since = (int64_t)time (NULL);
        self->full_refused++;
    }
}

int
store_write_begin (im_store_t *self, MDB_txn **txn)
{
    int rc = mdb_txn_begin (self->env, NULL, 0, txn);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize (self->env, 0);
        rc = mdb_txn_begin (self->env, NULL, 0, txn);
    }
    return rc;
}

int
store_commit (im_store_t *self, MDB_txn *txn, int lazy)
{
    self->writes++; /* a read begun before may not be what is held now */
    if (!lazy)
        return mdb_txn_commit (txn);
    mdb_env_set_flags (self->env, MDB_NOMETASYNC, 1);
    int rc = mdb_txn_commit (txn);
    mdb_env_set_flags (self->env, MDB_NOMETASYNC, 0);
    if (rc == 0)
        self->lazy = 1;
    return rc;
}

int
im_store_sync (im_store_t *self)
{
    if (!self) {
        errno = EINVAL;
        return -1;
    }
    if (!self->lazy)
        return 0;
    /* The lazy commits' meta pages were written, not waited for: one
     * fdatasync of the file makes them durable. */
    int rc = mdb_env_sync (self->env, 1);
    if (rc)
        return store_error (self->path, rc, "syncing to disk", NULL, 0);
    self->lazy = 0;
    return 0;
}

int
im_store_lazy (const im_store_t *self)
{
    return self && self->lazy;
}

static int
write_txn (im_store_t *self, write_fn *fn, void *arg, const char *what, int lazy)
{
    for (int attempt = 0; attempt < 16; attempt++) {
        MDB_txn *txn;
        int rc = store_write_begin (self, &txn);
        if (rc == 0) {
            rc = fn (self, txn, arg);
            if (rc == 0)
                rc = store_commit (self, txn, lazy);
            else
                mdb_txn_abort (txn);
            store_batch_forget (self);
        }
        if (rc == MDB_MAP_FULL && store_grow (self) == 0)
            continue;
        return rc ? store_error (self->path, rc, what, NULL, 0) : 0;
    }
    return store_error (self->path, MDB_MAP_FULL, what, NULL, 0);
}

/* Small writes: one transaction, the map grown when full. */
int
store_write_txn (im_store_t *self, write_fn *fn, void *arg, const char *what)
{
    return write_txn (self, fn, arg, what, 0);
}

int
store_write_txn_lazy (im_store_t *self, write_fn *fn, void *arg, const char *what)
{
    return write_txn (self, fn, arg, what, 1);
}
