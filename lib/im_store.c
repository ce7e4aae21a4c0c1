/* im_store.c -- LMDB store: records, value and CIDR indexes, change log,
 * per-origin state and metadata, every named database opened once at start.
 * Writes are batched in one transaction; a full map is grown and the batch
 * retried (as Postfix's slmdb.c does); LMDB errors are translated in one place. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>
#include <sodium.h>

#include "im_store.h"
#include "im_util.h"

#define STORE_SCHEMA 1
#define STORE_MAXDBS 16
#define STORE_READERS 126
#define STORE_DEFAULT_MAP ((size_t) 1 << 30)
/* LMDB's default largest key is 511 bytes: longer values are keyed by a
 * prefix and a hash of the whole value. */
#define INDEX_INLINE_MAX 479
#define INDEX_PREFIX 448
#define INDEX_KEY_MAX (1 + INDEX_PREFIX + 32)
/* A change: record key, version, hops, and the peer it came from. */
#define CHANGE_SIZE (IM_STORE_KEY_SIZE + 8 + 1 + IM_NODE_ID_SIZE)
/* What HELD keeps of a record from a peer: hops, change number, the peer. */
#define HELD_SIZE (1 + 8 + IM_NODE_ID_SIZE)

struct _im_store_t {
    MDB_env *env;
    MDB_dbi records;  /* origin|id -> signed record */
    MDB_dbi index;    /* type|value -> origin|id (sorted duplicates) */
    MDB_dbi prefixes; /* family|length|network -> origin|id (sorted duplicates) */
    MDB_dbi changes;  /* change number -> origin|id|version */
    MDB_dbi origins;  /* origin -> records held, last change number */
    MDB_dbi meta;     /* schema, node, seq, counts, prefix lengths in use */
    MDB_dbi cursors;  /* peer -> change number of theirs applied here */
    MDB_dbi wanted;   /* origin|id|version -> peer|time: told of, not held */
    MDB_dbi sent;     /* peer|origin|id -> version|time: newest version sent */
    MDB_dbi sentlog;  /* peer|time|origin|id -> version: everything sent */
    MDB_dbi held;     /* origin|id -> hops|change number|peer, for records
                         that came from a peer */
    size_t map_size;
    MDB_txn *reader;  /* kept for reuse between reads (reset, renewed) */
    int reading;      /* reads under way in it: a read inside a walk (a
                         callback's look-up) shares the walk's snapshot */
    im_record_t *scratch; /* room for one decoded record, for look-ups */
    uint64_t seq;     /* newest change number */
    /* Counters kept in meta, updated with every batch. */
    uint64_t live[IM_TYPE_COUNT][IM_TLP_COUNT];
    uint64_t revoked;
    uint64_t nrecords;
    uint64_t norigins;
    /* Which prefix lengths hold at least one prefix: bit L of v4 / v6. */
    uint8_t plen4[5];
    uint8_t plen6[17];
};

/* The one place LMDB's errors become errno values and words. */
static int
store_error (int rc, const char *what, char *err, size_t errsz)
{
    int code;
    switch (rc) {
    case MDB_NOTFOUND: code = ENOENT; break;
    case MDB_MAP_FULL: code = ENOSPC; break;
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
    if (err && errsz)
        snprintf (err, errsz, "store: %s: %s", what, mdb_strerror (rc));
    errno = code;
    return -1;
}


static void
put_u64 (uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t) (v >> (56 - 8 * i));
}

static uint64_t
get_u64 (const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static size_t
index_key (int type, const char *value, uint8_t key[INDEX_KEY_MAX])
{
    size_t len = strlen (value);
    key[0] = (uint8_t) type;
    if (len <= INDEX_INLINE_MAX) {
        memcpy (key + 1, value, len);
        return 1 + len;
    }
    memcpy (key + 1, value, INDEX_PREFIX);
    crypto_generichash (key + 1 + INDEX_PREFIX, 32, (const uint8_t *) value, len, NULL,
                        0);
    return INDEX_KEY_MAX;
}

/* Prefix key: family (4 or 6), length, network bytes. Returns its size, or 0
 * when the value is not a CIDR prefix shorter than a full address. */
static size_t
prefix_key (int type, const char *value, uint8_t key[18])
{
    uint8_t addr[16];
    int plen;
    if ((type != IM_TYPE_IPV4 && type != IM_TYPE_IPV6)
        || im_ioc_prefix (type, value, addr, &plen) != 0)
        return 0;
    size_t alen = type == IM_TYPE_IPV4 ? 4 : 16;
    if (plen >= (int) alen * 8)
        return 0;
    key[0] = type == IM_TYPE_IPV4 ? 4 : 6;
    key[1] = (uint8_t) plen;
    memcpy (key + 2, addr, alen);
    return 2 + alen;
}

/* --- Metadata ---------------------------------------------------------- */

static int
meta_get (MDB_txn *txn, im_store_t *self, const char *name, void *buf, size_t size)
{
    MDB_val k = { strlen (name), (void *) name }, v;
    int rc = mdb_get (txn, self->meta, &k, &v);
    if (rc)
        return rc;
    if (v.mv_size != size)
        return MDB_CORRUPTED;
    memcpy (buf, v.mv_data, size);
    return 0;
}

static int
meta_put (MDB_txn *txn, im_store_t *self, const char *name, const void *buf,
          size_t size)
{
    MDB_val k = { strlen (name), (void *) name }, v = { size, (void *) buf };
    return mdb_put (txn, self->meta, &k, &v, 0);
}

/* Counters are stored as one array of big-endian numbers. */
#define COUNTERS (IM_TYPE_COUNT * IM_TLP_COUNT + 3)

static void
counters_pack (const im_store_t *self, uint8_t *buf)
{
    size_t i = 0;
    for (int t = 0; t < IM_TYPE_COUNT; t++)
        for (int l = 0; l < IM_TLP_COUNT; l++)
            put_u64 (buf + 8 * i++, self->live[t][l]);
    put_u64 (buf + 8 * i++, self->revoked);
    put_u64 (buf + 8 * i++, self->nrecords);
    put_u64 (buf + 8 * i++, self->norigins);
}

static void
counters_unpack (im_store_t *self, const uint8_t *buf)
{
    size_t i = 0;
    for (int t = 0; t < IM_TYPE_COUNT; t++)
        for (int l = 0; l < IM_TLP_COUNT; l++)
            self->live[t][l] = get_u64 (buf + 8 * i++);
    self->revoked = get_u64 (buf + 8 * i++);
    self->nrecords = get_u64 (buf + 8 * i++);
    self->norigins = get_u64 (buf + 8 * i++);
}

static int
meta_load (im_store_t *self, MDB_txn *txn, const uint8_t *node, char *err, size_t errsz)
{
    uint8_t schema[4], seq[8], counters[8 * COUNTERS], stored[IM_NODE_ID_SIZE];
    int rc = meta_get (txn, self, "schema", schema, sizeof schema);
    if (rc == MDB_NOTFOUND) {
        /* A new store. */
        uint8_t v[4] = { 0, 0, 0, STORE_SCHEMA };
        rc = meta_put (txn, self, "schema", v, sizeof v);
        if (rc == 0 && node)
            rc = meta_put (txn, self, "node", node, IM_NODE_ID_SIZE);
        return rc ? store_error (rc, "writing metadata", err, errsz) : 0;
    }
    if (rc)
        return store_error (rc, "reading metadata", err, errsz);
    if (schema[0] || schema[1] || schema[2] || schema[3] != STORE_SCHEMA)
        return im_fail (EPROTO, err, errsz,
                     "store: schema version %u is not supported by this intelmeshd",
                     schema[3]);
    rc = meta_get (txn, self, "node", stored, sizeof stored);
    if (rc == 0 && node && memcmp (stored, node, IM_NODE_ID_SIZE) != 0)
        return im_fail (EPERM, err, errsz, "store: belongs to another node identity");
    if (rc == MDB_NOTFOUND && node && (rc = meta_put (txn, self, "node", node,
                                                      IM_NODE_ID_SIZE)) != 0)
        return store_error (rc, "writing metadata", err, errsz);
    if ((rc = meta_get (txn, self, "seq", seq, sizeof seq)) == 0)
        self->seq = get_u64 (seq);
    else if (rc != MDB_NOTFOUND)
        return store_error (rc, "reading metadata", err, errsz);
    if ((rc = meta_get (txn, self, "counts", counters, sizeof counters)) == 0)
        counters_unpack (self, counters);
    else if (rc != MDB_NOTFOUND)
        return store_error (rc, "reading metadata", err, errsz);
    rc = meta_get (txn, self, "plen4", self->plen4, sizeof self->plen4);
    if (rc == 0 || rc == MDB_NOTFOUND)
        rc = meta_get (txn, self, "plen6", self->plen6, sizeof self->plen6);
    if (rc && rc != MDB_NOTFOUND)
        return store_error (rc, "reading metadata", err, errsz);
    return 0;
}

/* --- Life cycle -------------------------------------------------------- */

im_store_t *
im_store_new (const char *path, size_t map_size, const uint8_t node[IM_NODE_ID_SIZE],
              char *err, size_t errsz)
{
    if (!path) {
        im_fail (EINVAL, err, errsz, "store: no path");
        return NULL;
    }
    if (mkdir (path, 0700) != 0 && errno != EEXIST) {
        im_fail (errno, err, errsz, "store: cannot create %s: %s", path, strerror (errno));
        return NULL;
    }
    im_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        im_fail (ENOMEM, err, errsz, "store: out of memory");
        return NULL;
    }
    self->map_size = map_size ? map_size : STORE_DEFAULT_MAP;
    self->scratch = malloc (sizeof *self->scratch);
    if (!self->scratch) {
        im_fail (ENOMEM, err, errsz, "store: out of memory");
        free (self);
        return NULL;
    }
    MDB_txn *txn = NULL;
    int rc = mdb_env_create (&self->env);
    if (rc == 0) rc = mdb_env_set_maxdbs (self->env, STORE_MAXDBS);
    if (rc == 0) rc = mdb_env_set_maxreaders (self->env, STORE_READERS);
    if (rc == 0) rc = mdb_env_set_mapsize (self->env, self->map_size);
    if (rc == 0) rc = mdb_env_open (self->env, path, MDB_NOTLS, 0600);
    if (rc) {
        store_error (rc, "opening", err, errsz);
        goto failed;
    }
    /* The file may be larger than asked when it grew before: adopt its size. */
    MDB_envinfo info;
    if (mdb_env_info (self->env, &info) == 0 && info.me_mapsize > self->map_size)
        self->map_size = info.me_mapsize;

    /* Every named database is opened once, in one committed transaction. */
    rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc == 0) rc = mdb_dbi_open (txn, "records", MDB_CREATE, &self->records);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "index", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED,
                           &self->index);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "prefixes", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED,
                           &self->prefixes);
    if (rc == 0) rc = mdb_dbi_open (txn, "changes", MDB_CREATE, &self->changes);
    if (rc == 0) rc = mdb_dbi_open (txn, "origins", MDB_CREATE, &self->origins);
    if (rc == 0) rc = mdb_dbi_open (txn, "meta", MDB_CREATE, &self->meta);
    if (rc == 0) rc = mdb_dbi_open (txn, "cursors", MDB_CREATE, &self->cursors);
    if (rc == 0) rc = mdb_dbi_open (txn, "wanted", MDB_CREATE, &self->wanted);
    if (rc == 0) rc = mdb_dbi_open (txn, "sent", MDB_CREATE, &self->sent);
    if (rc == 0) rc = mdb_dbi_open (txn, "sentlog", MDB_CREATE, &self->sentlog);
    if (rc == 0) rc = mdb_dbi_open (txn, "held", MDB_CREATE, &self->held);
    if (rc) {
        store_error (rc, "opening databases", err, errsz);
        goto failed;
    }
    if (meta_load (self, txn, node, err, errsz))
        goto failed;
    rc = mdb_txn_commit (txn);
    txn = NULL;
    if (rc) {
        store_error (rc, "opening databases", err, errsz);
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
    free (self);
    *self_p = NULL;
    errno = saved;
}

/* --- Reads ------------------------------------------------------------- */

static int
reader_begin (im_store_t *self, MDB_txn **txn)
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
        return store_error (rc, "starting a read", NULL, 0);
    }
    *txn = self->reader;
    self->reading = 1;
    return 0;
}

static void
reader_end (im_store_t *self)
{
    if (self->reading > 0 && --self->reading == 0 && self->reader)
        mdb_txn_reset (self->reader);
}

/* Reads the record (ORIGIN, ID) into V inside a read transaction, which the
 * caller ends with reader_end once done with V; *RC is LMDB's answer.
 * Returns 0, or -1 (errno set) when no read could start. */
static int
read_record (im_store_t *self, const uint8_t *origin, const uint8_t *id, MDB_val *v,
             int *rc)
{
    uint8_t key[IM_STORE_KEY_SIZE];
    memcpy (key, origin, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, id, IM_ID_SIZE);
    MDB_txn *txn;
    if (reader_begin (self, &txn))
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

/* Decodes the record under KEY and hands it to FN. Returns FN's answer, or
 * 0 when the record is missing or unreadable (never expected). */
static int
visit (im_store_t *self, MDB_txn *txn, const uint8_t *key, im_record_t *rec,
       im_store_fn *fn, void *arg, int *count)
{
    MDB_val k = { IM_STORE_KEY_SIZE, (void *) key }, v;
    if (mdb_get (txn, self->records, &k, &v) != 0
        || im_record_decode_stored (v.mv_data, v.mv_size, rec) != 0)
        return 0;
    (*count)++;
    return fn ? fn (rec, v.mv_data, v.mv_size, arg) : 0;
}

/* Visits every duplicate under KEY in DBI. Returns non-zero when FN stopped. */
static int
visit_dups (im_store_t *self, MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
            im_record_t *rec, im_store_fn *fn, void *arg, int *count)
{
    MDB_cursor *cur;
    if (mdb_cursor_open (txn, dbi, &cur))
        return 0;
    MDB_val k = { klen, (void *) key }, v;
    int stop = 0;
    int rc = mdb_cursor_get (cur, &k, &v, MDB_SET);
    while (rc == 0 && !stop) {
        if (v.mv_size == IM_STORE_KEY_SIZE)
            stop = visit (self, txn, v.mv_data, rec, fn, arg, count);
        rc = mdb_cursor_get (cur, &k, &v, MDB_NEXT_DUP);
    }
    mdb_cursor_close (cur);
    return stop;
}

int
im_store_lookup (im_store_t *self, int type, const char *value, im_store_fn *fn,
                 void *arg)
{
    if (!self || !value || !im_type_name (type)) {
        errno = EINVAL;
        return -1;
    }
    im_record_t *rec = self->scratch;
    MDB_txn *txn;
    if (reader_begin (self, &txn))
        return -1;
    int count = 0;
    uint8_t key[INDEX_KEY_MAX];
    size_t klen = index_key (type, value, key);
    int stop = visit_dups (self, txn, self->index, key, klen, rec, fn, arg, &count);

    /* Prefixes that contain the address (or the shorter prefixes that contain
     * the prefix), only at the lengths that are in use. */
    uint8_t addr[16];
    int plen;
    if (!stop && (type == IM_TYPE_IPV4 || type == IM_TYPE_IPV6)
        && im_ioc_prefix (type, value, addr, &plen) == 0) {
        size_t alen = type == IM_TYPE_IPV4 ? 4 : 16;
        const uint8_t *used = type == IM_TYPE_IPV4 ? self->plen4 : self->plen6;
        for (int l = plen - 1; l >= 0 && !stop; l--) {
            if (!(used[l / 8] & (1u << (l % 8))))
                continue;
            uint8_t pk[18];
            pk[0] = type == IM_TYPE_IPV4 ? 4 : 6;
            pk[1] = (uint8_t) l;
            for (size_t i = 0; i < alen; i++) {
                int bits = l - (int) i * 8;
                uint8_t mask = bits >= 8 ? 0xFF : bits <= 0 ? 0 : (uint8_t) (0xFF << (8 - bits));
                pk[2 + i] = addr[i] & mask;
            }
            stop = visit_dups (self, txn, self->prefixes, pk, 2 + alen, rec, fn, arg,
                               &count);
        }
    }
    reader_end (self);
    return count;
}

/* A walk over DBI in a read transaction, with room for one decoded record. */
typedef struct {
    im_record_t *rec;
    MDB_txn *txn;
    MDB_cursor *cur;
} walk_t;

static int
walk_begin (im_store_t *self, MDB_dbi dbi, walk_t *w)
{
    memset (w, 0, sizeof *w);
    w->rec = malloc (sizeof *w->rec);
    if (!w->rec) {
        errno = ENOMEM;
        return -1;
    }
    if (reader_begin (self, &w->txn)) {
        free (w->rec);
        return -1;
    }
    int rc = mdb_cursor_open (w->txn, dbi, &w->cur);
    if (rc) {
        reader_end (self);
        free (w->rec);
        return store_error (rc, "opening a cursor", NULL, 0);
    }
    return 0;
}

static void
walk_end (im_store_t *self, walk_t *w)
{
    mdb_cursor_close (w->cur);
    reader_end (self);
    free (w->rec);
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
    if (walk_begin (self, self->records, &w))
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
    while (rc == 0 && (size_t) count < limit) {
        if (k.mv_size != IM_STORE_KEY_SIZE)
            break;
        if (origin && memcmp (k.mv_data, origin, IM_NODE_ID_SIZE) != 0)
            break; /* past this origin's records */
        if (next)
            memcpy (next, k.mv_data, IM_STORE_KEY_SIZE);
        if (im_record_decode_stored (v.mv_data, v.mv_size, rec) == 0
            && (type == IM_TYPE_NONE || rec->type == type)) {
            count++;
            if (fn && fn (rec, v.mv_data, v.mv_size, arg))
                break;
        }
        rc = mdb_cursor_get (cur, &k, &v, MDB_NEXT);
    }
    walk_end (self, &w);
    return count;
}

int
im_store_changes (im_store_t *self, uint64_t since, size_t limit, im_store_fn *fn,
                  void *arg, uint64_t *last)
{
    if (!self) {
        errno = EINVAL;
        return -1;
    }
    if (since == UINT64_MAX)
        return 0; /* nothing can come after the last possible number */
    walk_t w;
    if (walk_begin (self, self->changes, &w))
        return -1;
    im_record_t *rec = w.rec;
    MDB_txn *txn = w.txn;
    MDB_cursor *cur = w.cur;
    uint8_t start[8];
    put_u64 (start, since + 1);
    MDB_val k = { 8, start }, v;
    int count = 0;
    int rc = mdb_cursor_get (cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && (size_t) count < limit) {
        if (k.mv_size != 8 || v.mv_size != CHANGE_SIZE)
            break;
        uint64_t seq = get_u64 (k.mv_data);
        if (last)
            *last = seq;
        MDB_val rk = { IM_STORE_KEY_SIZE, v.mv_data }, rv;
        uint64_t version = get_u64 ((uint8_t *) v.mv_data + IM_STORE_KEY_SIZE);
        /* A change superseded by a later one is passed over: the later one
         * comes further on in the log. */
        if (mdb_get (txn, self->records, &rk, &rv) == 0
            && im_record_decode_stored (rv.mv_data, rv.mv_size, rec) == 0
            && rec->version == version) {
            count++;
            if (fn && fn (rec, rv.mv_data, rv.mv_size, arg))
                break;
        }
        rc = mdb_cursor_get (cur, &k, &v, MDB_NEXT);
    }
    walk_end (self, &w);
    return count;
}

int
im_store_cursor (im_store_t *self, const uint8_t *peer, uint64_t *cursor)
{
    if (!self || !peer || !cursor) {
        errno = EINVAL;
        return -1;
    }
    MDB_txn *txn;
    if (reader_begin (self, &txn))
        return -1;
    MDB_val k = { IM_NODE_ID_SIZE, (void *) peer }, v;
    int rc = mdb_get (txn, self->cursors, &k, &v);
    *cursor = rc == 0 && v.mv_size == 8 ? get_u64 (v.mv_data) : 0;
    reader_end (self);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_error (rc, "reading a cursor", NULL, 0);
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
    if (reader_begin (self, &txn))
        return -1;
    int rc = mdb_cursor_open (txn, self->origins, &cur), n = 0;
    MDB_val k, v;
    if (rc == 0) {
        for (rc = mdb_cursor_get (cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get (cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size != IM_NODE_ID_SIZE || v.mv_size != 16)
                continue;
            n++;
            if (fn (k.mv_data, get_u64 (v.mv_data), get_u64 ((uint8_t *) v.mv_data + 8), arg))
                break;
        }
        mdb_cursor_close (cur);
    }
    reader_end (self);
    return rc == 0 || rc == MDB_NOTFOUND ? n : store_error (rc, "listing origins", NULL, 0);
}

int
im_store_version (im_store_t *self, const uint8_t *origin, const uint8_t *id,
                  uint64_t *version)
{
    if (!self || !origin || !id || !version) {
        errno = EINVAL;
        return -1;
    }
    MDB_val v;
    int rc;
    if (read_record (self, origin, id, &v, &rc))
        return -1;
    /* The version sits right after the magic, origin and id. */
    size_t at = 4 + IM_STORE_KEY_SIZE;
    *version = rc == 0 && v.mv_size >= at + 8 ? get_u64 ((uint8_t *) v.mv_data + at) : 0;
    reader_end (self);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_error (rc, "reading", NULL, 0);
}

int
im_store_feed (im_store_t *self, uint64_t since, size_t limit, size_t max_scan,
               im_store_change_fn *fn, void *arg, uint64_t *last)
{
    if (!self || !fn || !last) {
        errno = EINVAL;
        return -1;
    }
    *last = since;
    if (since == UINT64_MAX)
        return 0;
    walk_t w;
    if (walk_begin (self, self->changes, &w))
        return -1;
    uint8_t start[8];
    put_u64 (start, since + 1);
    MDB_val k = { 8, start }, v;
    int count = 0;
    size_t scanned = 0;
    int rc = mdb_cursor_get (w.cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && (size_t) count < limit && scanned < max_scan) {
        if (k.mv_size != 8 || v.mv_size != CHANGE_SIZE)
            break;
        const uint8_t *c = v.mv_data;
        im_store_change_t change = { .seq = get_u64 (k.mv_data), .rec = w.rec,
                                     .hops = c[IM_STORE_KEY_SIZE + 8] };
        memcpy (change.from, c + IM_STORE_KEY_SIZE + 9, IM_NODE_ID_SIZE);
        *last = change.seq;
        scanned++;
        MDB_val rk = { IM_STORE_KEY_SIZE, (void *) c }, rv;
        if (mdb_get (w.txn, self->records, &rk, &rv) == 0
            && im_record_decode_stored (rv.mv_data, rv.mv_size, w.rec) == 0
            && w.rec->version == get_u64 (c + IM_STORE_KEY_SIZE)) {
            change.blob = rv.mv_data;
            change.len = rv.mv_size;
            count++;
            if (fn (&change, arg))
                break;
        }
        rc = mdb_cursor_get (w.cur, &k, &v, MDB_NEXT);
    }
    walk_end (self, &w);
    return count;
}

/* Notes, inside TXN, the keys not held at their version as wanted from PEER.
 * Adds the number noted to *NOTED when given. Returns an LMDB code. */
static int
want_in (im_store_t *self, MDB_txn *txn, const uint8_t *keys, size_t n,
         const uint8_t *peer, int64_t now, int *noted)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const uint8_t *key = keys + i * IM_STORE_WANT_KEY;
        MDB_val rk = { IM_STORE_KEY_SIZE, (void *) key }, rv;
        uint64_t version = get_u64 (key + IM_STORE_KEY_SIZE), held = 0;
        if (mdb_get (txn, self->records, &rk, &rv) == 0
            && rv.mv_size >= 4 + IM_STORE_KEY_SIZE + 8)
            held = get_u64 ((uint8_t *) rv.mv_data + 4 + IM_STORE_KEY_SIZE);
        if (held >= version)
            continue;
        uint8_t value[IM_NODE_ID_SIZE + 8];
        memcpy (value, peer, IM_NODE_ID_SIZE);
        put_u64 (value + IM_NODE_ID_SIZE, (uint64_t) now);
        MDB_val k = { IM_STORE_WANT_KEY, (void *) key }, v = { sizeof value, value };
        rc = mdb_put (txn, self->wanted, &k, &v, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST)
            rc = 0;
        else if (rc == 0 && noted)
            (*noted)++;
    }
    return rc;
}

int
im_store_want (im_store_t *self, const uint8_t *keys, size_t n, const uint8_t *peer,
               int64_t now)
{
    if (!self || (!keys && n) || !peer) {
        errno = EINVAL;
        return -1;
    }
    MDB_txn *txn;
    int noted = 0;
    int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc == 0)
        rc = want_in (self, txn, keys, n, peer, now, &noted);
    if (rc == 0 && noted == 0) {
        mdb_txn_abort (txn);
        return 0;
    }
    if (rc == 0)
        rc = mdb_txn_commit (txn);
    else if (txn)
        mdb_txn_abort (txn);
    if (rc == MDB_MAP_FULL) {
        size_t bigger = self->map_size * 2;
        if (mdb_env_set_mapsize (self->env, bigger) == 0) {
            self->map_size = bigger;
            return im_store_want (self, keys, n, peer, now);
        }
    }
    return rc ? store_error (rc, "noting wanted records", NULL, 0) : noted;
}

int
im_store_wanted (im_store_t *self, int64_t before, size_t limit, im_store_want_fn *fn,
                 void *arg)
{
    if (!self || !fn) {
        errno = EINVAL;
        return -1;
    }
    walk_t w;
    if (walk_begin (self, self->wanted, &w))
        return -1;
    MDB_val k, v;
    int count = 0;
    int rc = mdb_cursor_get (w.cur, &k, &v, MDB_FIRST);
    while (rc == 0 && (size_t) count < limit) {
        if (k.mv_size == IM_STORE_WANT_KEY && v.mv_size == IM_NODE_ID_SIZE + 8
            && (int64_t) get_u64 ((uint8_t *) v.mv_data + IM_NODE_ID_SIZE) <= before) {
            count++;
            if (fn (k.mv_data, v.mv_data,
                    (int64_t) get_u64 ((uint8_t *) v.mv_data + IM_NODE_ID_SIZE), arg))
                break;
        }
        rc = mdb_cursor_get (w.cur, &k, &v, MDB_NEXT);
    }
    walk_end (self, &w);
    return count;
}

int
im_store_unwant (im_store_t *self, const uint8_t *key)
{
    if (!self || !key) {
        errno = EINVAL;
        return -1;
    }
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc == 0) {
        MDB_val k = { IM_STORE_WANT_KEY, (void *) key };
        rc = mdb_del (txn, self->wanted, &k, NULL);
        if (rc == 0)
            rc = mdb_txn_commit (txn);
        else
            mdb_txn_abort (txn);
    }
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_error (rc, "forgetting", NULL, 0);
}

int
im_store_get_raw (im_store_t *self, const uint8_t *origin, const uint8_t *id,
                  uint8_t *buf, size_t bufsz, size_t *len)
{
    if (!self || !origin || !id || !buf || !len) {
        errno = EINVAL;
        return -1;
    }
    MDB_val v;
    int rc;
    if (read_record (self, origin, id, &v, &rc))
        return -1;
    int result = 0;
    if (rc)
        result = store_error (rc, "reading", NULL, 0);
    else if (v.mv_size > bufsz) {
        errno = ENOSPC;
        result = -1;
    }
    else {
        memcpy (buf, v.mv_data, v.mv_size);
        *len = v.mv_size;
    }
    reader_end (self);
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
        st->used_bytes = (uint64_t) (info.me_last_pgno + 1) * stat.ms_psize;
    }
    return 0;
}

/* --- Writes ------------------------------------------------------------ */

static int
index_del (im_store_t *self, MDB_txn *txn, const im_record_t *rec, const uint8_t *rkey)
{
    uint8_t key[INDEX_KEY_MAX];
    MDB_val k = { index_key (rec->type, rec->value, key), key };
    MDB_val v = { IM_STORE_KEY_SIZE, (void *) rkey };
    int rc = mdb_del (txn, self->index, &k, &v);
    uint8_t pk[18];
    size_t plen = prefix_key (rec->type, rec->value, pk);
    if ((rc == 0 || rc == MDB_NOTFOUND) && plen) {
        MDB_val pkv = { plen, pk };
        rc = mdb_del (txn, self->prefixes, &pkv, &v);
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
index_put (im_store_t *self, MDB_txn *txn, const im_record_t *rec, const uint8_t *rkey)
{
    uint8_t key[INDEX_KEY_MAX];
    MDB_val k = { index_key (rec->type, rec->value, key), key };
    MDB_val v = { IM_STORE_KEY_SIZE, (void *) rkey };
    int rc = mdb_put (txn, self->index, &k, &v, 0);
    uint8_t pk[18];
    size_t plen = prefix_key (rec->type, rec->value, pk);
    if (rc == 0 && plen) {
        MDB_val pkv = { plen, pk };
        rc = mdb_put (txn, self->prefixes, &pkv, &v, 0);
        uint8_t *used = pk[0] == 4 ? self->plen4 : self->plen6;
        used[pk[1] / 8] |= (uint8_t) (1u << (pk[1] % 8));
    }
    return rc;
}

/* Forgets the wanted versions of RKEY up to VERSION. Returns an LMDB code. */
static int
forget_wanted (im_store_t *self, MDB_txn *txn, const uint8_t *rkey, uint64_t version)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open (txn, self->wanted, &cur);
    if (rc)
        return rc;
    uint8_t start[IM_STORE_WANT_KEY] = { 0 };
    memcpy (start, rkey, IM_STORE_KEY_SIZE);
    MDB_val k = { sizeof start, start }, v;
    rc = mdb_cursor_get (cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == IM_STORE_WANT_KEY
           && memcmp (k.mv_data, rkey, IM_STORE_KEY_SIZE) == 0
           && get_u64 ((uint8_t *) k.mv_data + IM_STORE_KEY_SIZE) <= version) {
        if ((rc = mdb_cursor_del (cur, 0)) != 0)
            break;
        /* The cursor now stands on the next entry, if there is one. */
        if (mdb_cursor_get (cur, &k, &v, MDB_GET_CURRENT) != 0)
            rc = MDB_NOTFOUND;
    }
    mdb_cursor_close (cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Records from a peer keep their hops, change number and the peer they came
 * from in HELD, so that a copy that comes over a shorter path can be told
 * apart and `explain` can say where a record came from. */
static int
held_put (im_store_t *self, MDB_txn *txn, const im_store_item_t *item,
          const uint8_t *rkey)
{
    if (!item->from)
        return 0;
    MDB_val k = { IM_STORE_KEY_SIZE, (void *) rkey };
    uint8_t value[HELD_SIZE];
    value[0] = item->hops;
    put_u64 (value + 1, self->seq);
    memcpy (value + 9, item->from, IM_NODE_ID_SIZE);
    MDB_val v = { sizeof value, value };
    return mdb_put (txn, self->held, &k, &v, 0);
}

/* The version held came again, over ITEM->hops: when that is fewer links
 * than before, the record is logged again as a new change with the fewer
 * hops (its old change dropped), so that it is served as far as its reach
 * now allows. */
static int
closer (im_store_t *self, MDB_txn *txn, const im_store_item_t *item, const uint8_t *rkey,
        int *result)
{
    *result = IM_STORE_STALE;
    MDB_val k = { IM_STORE_KEY_SIZE, (void *) rkey }, v;
    int rc = mdb_get (txn, self->held, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0; /* our own: nothing is closer */
    if (rc)
        return rc;
    if (v.mv_size != HELD_SIZE || ((uint8_t *) v.mv_data)[0] <= item->hops)
        return 0;
    uint8_t seqkey[8];
    memcpy (seqkey, (uint8_t *) v.mv_data + 1, 8);
    MDB_val ok = { 8, seqkey };
    rc = mdb_del (txn, self->changes, &ok, NULL);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    uint8_t change[CHANGE_SIZE];
    put_u64 (seqkey, ++self->seq);
    memcpy (change, rkey, IM_STORE_KEY_SIZE);
    put_u64 (change + IM_STORE_KEY_SIZE, item->rec->version);
    change[IM_STORE_KEY_SIZE + 8] = item->hops;
    memcpy (change + IM_STORE_KEY_SIZE + 9, item->from, IM_NODE_ID_SIZE);
    MDB_val ck = { 8, seqkey }, cv = { sizeof change, change };
    if ((rc = mdb_put (txn, self->changes, &ck, &cv, MDB_APPEND)) != 0)
        return rc;
    if ((rc = held_put (self, txn, item, rkey)) != 0)
        return rc;
    *result = IM_STORE_CLOSER;
    return 0;
}

/* Applies one item inside TXN. Sets *RESULT. Returns an LMDB code. */
static int
put_one (im_store_t *self, MDB_txn *txn, const im_store_item_t *item, im_record_t *old,
         int *result)
{
    const im_record_t *rec = item->rec;
    uint8_t rkey[IM_STORE_KEY_SIZE];
    memcpy (rkey, rec->origin, IM_NODE_ID_SIZE);
    memcpy (rkey + IM_NODE_ID_SIZE, rec->id, IM_ID_SIZE);
    MDB_val k = { sizeof rkey, rkey }, v;
    int rc = mdb_get (txn, self->records, &k, &v);
    int had = 0;
    if (rc == 0) {
        if (im_record_decode_stored (v.mv_data, v.mv_size, old) != 0)
            return MDB_CORRUPTED;
        if (old->version == rec->version && rec->reach != IM_REACH_UNLIMITED
            && item->from)
            return closer (self, txn, item, rkey, result);
        if (old->version >= rec->version) {
            *result = IM_STORE_STALE;
            return 0;
        }
        had = 1;
        if (old->op == IM_OP_PUT) {
            if ((rc = index_del (self, txn, old, rkey)) != 0)
                return rc;
            self->live[old->type][old->tlp]--;
        }
        else
            self->revoked--;
    }
    else if (rc != MDB_NOTFOUND)
        return rc;

    MDB_val nv = { item->len, (void *) item->blob };
    if ((rc = mdb_put (txn, self->records, &k, &nv, 0)) != 0)
        return rc;
    if ((rc = forget_wanted (self, txn, rkey, rec->version)) != 0)
        return rc;
    if (rec->op == IM_OP_PUT) {
        if ((rc = index_put (self, txn, rec, rkey)) != 0)
            return rc;
        self->live[rec->type][rec->tlp]++;
    }
    else
        self->revoked++;

    uint8_t seqkey[8], change[CHANGE_SIZE];
    put_u64 (seqkey, ++self->seq);
    memcpy (change, rkey, IM_STORE_KEY_SIZE);
    put_u64 (change + IM_STORE_KEY_SIZE, rec->version);
    change[IM_STORE_KEY_SIZE + 8] = item->hops;
    if (item->from)
        memcpy (change + IM_STORE_KEY_SIZE + 9, item->from, IM_NODE_ID_SIZE);
    else
        memset (change + IM_STORE_KEY_SIZE + 9, 0, IM_NODE_ID_SIZE);
    MDB_val ck = { 8, seqkey }, cv = { sizeof change, change };
    if ((rc = mdb_put (txn, self->changes, &ck, &cv, MDB_APPEND)) != 0)
        return rc;
    if ((rc = held_put (self, txn, item, rkey)) != 0)
        return rc;

    /* Origin state: records held and the newest change number. */
    uint8_t state[16] = { 0 };
    MDB_val ok = { IM_NODE_ID_SIZE, (void *) rec->origin }, ov;
    rc = mdb_get (txn, self->origins, &ok, &ov);
    if (rc == 0 && ov.mv_size == sizeof state)
        memcpy (state, ov.mv_data, sizeof state);
    else if (rc == MDB_NOTFOUND)
        self->norigins++;
    else if (rc)
        return rc;
    put_u64 (state, get_u64 (state) + (had ? 0 : 1));
    put_u64 (state + 8, self->seq);
    ov.mv_size = sizeof state;
    ov.mv_data = state;
    if ((rc = mdb_put (txn, self->origins, &ok, &ov, 0)) != 0)
        return rc;
    if (!had)
        self->nrecords++;
    *result = had ? IM_STORE_NEWER : IM_STORE_NEW;
    return 0;
}

int
im_store_put_batch (im_store_t *self, const im_store_item_t *items, size_t n,
                    int *results, char *err, size_t errsz)
{
    return im_store_put_batch_cursor (self, items, n, results, NULL, 0, NULL, 0, 0, err,
                                      errsz);
}

int
im_store_put_batch_cursor (im_store_t *self, const im_store_item_t *items, size_t n,
                           int *results, const uint8_t *peer, uint64_t cursor,
                           const uint8_t *wanted, size_t nwanted, int64_t now, char *err,
                           size_t errsz)
{
    if (!self || (!items && n)) {
        errno = EINVAL;
        return -1;
    }
    if (n == 0 && !peer)
        return 0;
    im_record_t *old = malloc (sizeof *old);
    int *res = results ? results : calloc (n, sizeof *res);
    if (!old || !res) {
        free (old);
        if (!results)
            free (res);
        return im_fail (ENOMEM, err, errsz, "store: out of memory");
    }
    /* The in-memory counters are restored if the transaction fails. */
    im_store_t saved = *self;
    int stored = -1;
    for (int attempt = 0; attempt < 16; attempt++) {
        MDB_txn *txn = NULL;
        int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
        if (rc == MDB_MAP_RESIZED) {
            mdb_env_set_mapsize (self->env, 0);
            rc = mdb_txn_begin (self->env, NULL, 0, &txn);
        }
        if (rc) {
            store_error (rc, "starting a write", err, errsz);
            break;
        }
        int count = 0;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            rc = put_one (self, txn, &items[i], old, &res[i]);
            if (rc == 0 && res[i] != IM_STORE_STALE)
                count++;
        }
        if (rc == 0) {
            uint8_t seq[8], counters[8 * COUNTERS];
            put_u64 (seq, self->seq);
            counters_pack (self, counters);
            rc = meta_put (txn, self, "seq", seq, sizeof seq);
            if (rc == 0) rc = meta_put (txn, self, "counts", counters, sizeof counters);
            if (rc == 0) rc = meta_put (txn, self, "plen4", self->plen4, sizeof self->plen4);
            if (rc == 0) rc = meta_put (txn, self, "plen6", self->plen6, sizeof self->plen6);
        }
        if (rc == 0 && peer) {
            uint8_t cv[8];
            put_u64 (cv, cursor);
            MDB_val ck = { IM_NODE_ID_SIZE, (void *) peer }, cval = { 8, cv };
            rc = mdb_put (txn, self->cursors, &ck, &cval, 0);
        }
        if (rc == 0 && peer && nwanted)
            rc = want_in (self, txn, wanted, nwanted, peer, now, NULL);
        if (rc == 0)
            rc = mdb_txn_commit (txn);
        else
            mdb_txn_abort (txn);
        if (rc == 0) {
            stored = count;
            break;
        }
        /* Roll the counters back to what is on disk. */
        MDB_txn *r = self->reader;
        int reading = self->reading;
        memcpy (self, &saved, sizeof saved);
        self->reader = r;
        self->reading = reading;
        if (rc == MDB_MAP_FULL) {
            size_t bigger = self->map_size * 2;
            if (mdb_env_set_mapsize (self->env, bigger) == 0) {
                self->map_size = bigger;
                saved.map_size = bigger;
                continue;
            }
        }
        store_error (rc, "writing", err, errsz);
        break;
    }
    free (old);
    if (!results)
        free (res);
    return stored;
}

/* --- Small writes: one transaction, the map grown when full ------------- */

typedef int (write_fn) (im_store_t *self, MDB_txn *txn, void *arg);

static int
write_txn (im_store_t *self, write_fn *fn, void *arg, const char *what)
{
    for (int attempt = 0; attempt < 16; attempt++) {
        MDB_txn *txn;
        int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
        if (rc == MDB_MAP_RESIZED) {
            mdb_env_set_mapsize (self->env, 0);
            rc = mdb_txn_begin (self->env, NULL, 0, &txn);
        }
        if (rc == 0) {
            rc = fn (self, txn, arg);
            if (rc == 0)
                rc = mdb_txn_commit (txn);
            else
                mdb_txn_abort (txn);
        }
        if (rc == MDB_MAP_FULL) {
            size_t bigger = self->map_size * 2;
            if (mdb_env_set_mapsize (self->env, bigger) == 0) {
                self->map_size = bigger;
                continue;
            }
        }
        return rc ? store_error (rc, what, NULL, 0) : 0;
    }
    return store_error (MDB_MAP_FULL, what, NULL, 0);
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
    MDB_val k = { IM_NODE_ID_SIZE, (void *) a->peer }, v = { 8, cv };
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
    return write_txn (self, set_cursor_fn, &a, "writing a cursor");
}

/* --- The sent log ------------------------------------------------------- */

typedef struct {
    const uint8_t *peer;
    const uint8_t *keys;
    size_t n;
    int64_t when;
} sent_arg_t;

static int
sent_fn (im_store_t *self, MDB_txn *txn, void *arg)
{
    sent_arg_t *a = arg;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->n; i++) {
        const uint8_t *key = a->keys + i * IM_STORE_WANT_KEY;
        /* peer|origin|id -> version|time: the newest version sent. */
        uint8_t sk[IM_NODE_ID_SIZE + IM_STORE_KEY_SIZE], sv[16];
        memcpy (sk, a->peer, IM_NODE_ID_SIZE);
        memcpy (sk + IM_NODE_ID_SIZE, key, IM_STORE_KEY_SIZE);
        MDB_val k = { sizeof sk, sk }, v;
        uint64_t version = get_u64 (key + IM_STORE_KEY_SIZE);
        rc = mdb_get (txn, self->sent, &k, &v);
        if (rc == 0 && v.mv_size == 16 && get_u64 (v.mv_data) >= version)
            rc = 0; /* the log below still gets the event */
        else if (rc == 0 || rc == MDB_NOTFOUND) {
            put_u64 (sv, version);
            put_u64 (sv + 8, (uint64_t) a->when);
            MDB_val nv = { sizeof sv, sv };
            rc = mdb_put (txn, self->sent, &k, &nv, 0);
        }
        /* peer|time|origin|id -> version: the history. */
        uint8_t lk[IM_NODE_ID_SIZE + 8 + IM_STORE_KEY_SIZE], lv[8];
        memcpy (lk, a->peer, IM_NODE_ID_SIZE);
        put_u64 (lk + IM_NODE_ID_SIZE, (uint64_t) a->when);
        memcpy (lk + IM_NODE_ID_SIZE + 8, key, IM_STORE_KEY_SIZE);
        put_u64 (lv, version);
        MDB_val k2 = { sizeof lk, lk }, v2 = { sizeof lv, lv };
        if (rc == 0)
            rc = mdb_put (txn, self->sentlog, &k2, &v2, 0);
    }
    return rc;
}

int
im_store_sent_note (im_store_t *self, const uint8_t *peer, const uint8_t *keys, size_t n,
                    int64_t when)
{
    if (!self || !peer || (!keys && n) || when < 0) {
        errno = EINVAL;
        return -1;
    }
    if (n == 0)
        return 0;
    sent_arg_t a = { peer, keys, n, when };
    return write_txn (self, sent_fn, &a, "writing the sent log");
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
    if (reader_begin (self, &txn))
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
        *when = ok ? (int64_t) get_u64 ((uint8_t *) v.mv_data + 8) : 0;
    reader_end (self);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_error (rc, "reading the sent log",
                                                            NULL, 0);
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
    if (walk_begin (self, self->sentlog, &w))
        return -1;
    uint8_t start[IM_NODE_ID_SIZE + 8];
    memcpy (start, peer, IM_NODE_ID_SIZE);
    put_u64 (start + IM_NODE_ID_SIZE, (uint64_t) since);
    MDB_val k = { sizeof start, start }, v;
    int count = 0;
    int rc = mdb_cursor_get (w.cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && (size_t) count < limit) {
        const uint8_t *kd = k.mv_data;
        if (k.mv_size != IM_NODE_ID_SIZE + 8 + IM_STORE_KEY_SIZE || v.mv_size != 8
            || memcmp (kd, peer, IM_NODE_ID_SIZE) != 0)
            break;
        count++;
        if (fn (kd + IM_NODE_ID_SIZE + 8, kd + 2 * IM_NODE_ID_SIZE + 8, get_u64 (v.mv_data),
                (int64_t) get_u64 (kd + IM_NODE_ID_SIZE), arg))
            break;
        rc = mdb_cursor_get (w.cur, &k, &v, MDB_NEXT);
    }
    walk_end (self, &w);
    return count;
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
    if (reader_begin (self, &txn))
        return -1;
    uint8_t key[IM_STORE_KEY_SIZE];
    memcpy (key, origin, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, id, IM_ID_SIZE);
    MDB_val k = { sizeof key, key }, v;
    int rc = mdb_get (txn, self->held, &k, &v);
    int ok = rc == 0 && v.mv_size == HELD_SIZE;
    *hops = ok ? ((uint8_t *) v.mv_data)[0] : 0;
    if (from) {
        if (ok)
            memcpy (from, (uint8_t *) v.mv_data + 9, IM_NODE_ID_SIZE);
        else
            memset (from, 0, IM_NODE_ID_SIZE);
    }
    reader_end (self);
    if (rc == MDB_NOTFOUND) {
        errno = ENOENT;
        return -1;
    }
    return rc ? store_error (rc, "reading hops", NULL, 0) : 0;
}
