/* SPDX-License-Identifier: MPL-2.0 */
/* im_store_int.h -- private to the store's files (im_store*.c): the hidden
 * struct, the layout of its keys and values, and the helpers they share:
 * LMDB's errors translated in one place, the kept read transaction, walks,
 * write transactions that grow a full map and retry. */
#ifndef IM_STORE_INT_H
#define IM_STORE_INT_H

#include <stddef.h>

#include <lmdb.h>

#include "im_store.h"
#include "im_util.h"

/* Schema 2 may hold records of format 2; a store of schema 1 is brought to
 * 2 when opened, and this node's own records are signed again
 * (im_store_reseal.c). */
#define STORE_SCHEMA 3
/* Schema 3 keeps records of format 2 compact (im_store_batch.c): their
 * stored bodies carry this format byte, which no record on the wire has. */
#define STORE_COMPACT 0x82
#define STORE_MAXDBS 16
#define STORE_READERS 126
#define STORE_DEFAULT_MAP ((size_t)1 << 30)
/* LMDB's lock file for STORE_READERS readers: a 64-byte slot each and two
 * of its header, in whole pages. */
#define STORE_LOCK_SIZE ((((STORE_READERS + 2) * 64 + 4095) / 4096) * 4096)
/* LMDB's default largest key is 511 bytes: longer values are keyed by a
 * prefix and a hash of the whole value. */
#define INDEX_INLINE_MAX 479
#define INDEX_PREFIX 448
#define INDEX_KEY_MAX (1 + INDEX_PREFIX + 32)
/* A change: record key, version, hops, and the peer it came from. */
/* A change: key, version, hops, the peer it came from, and when this node
 * stored it (ms since the epoch). A store written before that time was kept
 * has changes of CHANGE_SIZE_V1 bytes, read as of an unknown time. */
#define CHANGE_SIZE_V1 (IM_STORE_KEY_SIZE + 8 + 1 + IM_NODE_ID_SIZE)
#define CHANGE_SIZE (CHANGE_SIZE_V1 + 8)
/* What HELD keeps of a record from a peer: hops, change number, the peer. */
#define HELD_SIZE (1 + 8 + IM_NODE_ID_SIZE)

#define STORE_READ_BATCHES 4 /* batches kept read: a change log interleaves a few */

struct _im_store_t {
    MDB_env *env;
    MDB_dbi records;          /* origin|id -> signed record */
    MDB_dbi index;            /* type|value -> origin|id, live or revoked (dups) */
    MDB_dbi prefixes;         /* family|length|network -> origin|id (sorted duplicates) */
    MDB_dbi changes;          /* change number -> origin|id|version */
    MDB_dbi origins;          /* origin -> records held, last change number */
    MDB_dbi meta;             /* schema, node, seq, counts, prefix lengths in use */
    MDB_dbi cursors;          /* peer -> change number of theirs applied here */
    MDB_dbi wanted;           /* no longer used (wanted keys live in the mesh's
                                 memory): emptied at open */
    MDB_dbi sent;             /* peer|origin|id -> version|time: newest version sent */
    MDB_dbi sentlog;          /* peer|time|origin|id -> version: everything sent */
    MDB_dbi held;             /* origin|id -> hops|change number|peer, for records
                                 that came from a peer */
    MDB_dbi served;           /* peer -> the highest cursor its pulls were answered
                                 with, its own records given back up to, when its
                                 store was found restarted (im_store_served.c) */
    MDB_dbi batches;          /* batch number|part -> references, key in
                                 BATCHROOTS, signature, path nodes held */
    MDB_dbi batchroots;       /* H(root|signature) -> batch number */
    uint64_t nbatches;        /* the last batch number given */
    struct store_batch_t *bw; /* the batch being written (im_store_batch.c) */
    uint8_t order_key[16];    /* SipHash key of the run, for the order of a put */
    struct store_vcache_t *vcache; /* versions lately read or written
                                      (im_store_vcache.c; NULL: none yet) */
    uint64_t writes;               /* write transactions committed (a failed batch's count
                                      is rolled back with its other counters) */
    uint64_t reader_writes;        /* ... when the kept read began */
    void *read_parts;              /* the last batches read for records' bytes */
    uint8_t *put_buf;              /* new records' values, kept for their puts in
                                      key order (im_store_put.c) */
    size_t put_cap;                /* its size */
    uint64_t read_bid[STORE_READ_BATCHES]; /* their numbers (0: none); forgotten
                                              at each write */
    unsigned read_next;                    /* the slot read into next */
    char *path;                            /* its directory, named in errors */
    int created;                           /* this open made the store */
    int served_all; /* made with SERVED: no entry means nothing served */
    int reseal;     /* own records of format 1 may remain (meta "reseal") */
    size_t map_size;
    MDB_txn *reader;      /* kept for reuse between reads (reset, renewed) */
    int reading;          /* reads under way in it: a read inside a walk (a
                             callback's look-up) shares the walk's snapshot */
    im_record_t *scratch; /* room for one decoded record, for look-ups */
    uint8_t *scratch_buf; /* ... and for its compact bytes rebuilt */
    uint64_t seq;         /* newest change number */
    /* Counters kept in meta, updated with every batch. */
    uint64_t live[IM_TYPE_COUNT][IM_TLP_COUNT];
    uint64_t revoked;
    uint64_t nrecords;
    uint64_t norigins;
    /* Which prefix lengths hold at least one prefix: bit L of v4 / v6. */
    uint8_t plen4[5];
    uint8_t plen6[17];
    /* The size limit, and a full disk (store_full_note). */
    size_t max_size;       /* the map grows no further (0: no limit) */
    int64_t full_since;    /* since when writes fail as disk full (0: they do not) */
    uint64_t full_refused; /* writes refused since then */
    int lazy;              /* a commit was made lazily since the last im_store_sync */
};

/* Counters are stored as one array of big-endian numbers. */
#define COUNTERS (IM_TYPE_COUNT * IM_TLP_COUNT + 3)

/* Big-endian numbers, as the project writes them (im_util.h). */
static inline void
put_u64 (uint8_t *p, uint64_t v)
{
    im_put_be64 (p, (int64_t)v);
}

static inline uint64_t
get_u64 (const uint8_t *p)
{
    return (uint64_t)im_get_be64 (p);
}

/* The one place LMDB's errors become errno values and words: sets errno
 * from LMDB's code RC, "store: WHAT: ..." into ERR when given; returns -1.
 * A full disk is ENOSPC, "disk full" and the store's directory DIR (may be
 * NULL): MDB_MAP_FULL at the size limit, ENOSPC, EDQUOT, and EIO when the
 * filesystem holding DIR has no free blocks left (a failed page write or
 * sync on a full disk). */
int store_error (const char *dir, int rc, const char *what, char *err, size_t errsz);

/* Whether the filesystem holding DIR has no free blocks left (statvfs). */
int store_fs_full (const char *dir);

/* Doubles the map after MDB_MAP_FULL, up to the size limit. Returns 0, or
 * -1 at the limit (errno ENOSPC) or when LMDB refused. */
int store_grow (im_store_t *self);

/* Notes how a write of records ended: FAILED with errno ENOSPC starts (or
 * counts in) a disk-full episode; success ends it. */
void store_full_note (im_store_t *self, int failed);

/* The versions held of records lately looked up or written (im_store_vcache.c).
 * Every write of a record puts its version once committed; a purge clears it.
 * store_vcache_get returns 1 with *VERSION (0: not held) when KEY is there. */
typedef struct store_vcache_t store_vcache_t;
int store_vcache_get (const im_store_t *self, const uint8_t *key, uint64_t *version);
void store_vcache_put (im_store_t *self, const uint8_t *key, uint64_t version);
/* Asks memory for KEY's place ahead of a store_vcache_get (most often a miss
 * of the processor's caches). */
void store_vcache_prefetch (const im_store_t *self, const uint8_t *key);
void store_vcache_clear (im_store_t *self);
void store_vcache_free (im_store_t *self);

/* Begins a write transaction, adopting a map another process grew. Returns
 * an LMDB code. */
int store_write_begin (im_store_t *self, MDB_txn **txn);

/* Runs FN in one write transaction, growing the map and retrying when it is
 * full. Returns 0 or -1 with errno (WHAT names the write in errors). */
typedef int (write_fn) (im_store_t *self, MDB_txn *txn, void *arg);
int store_write_txn (im_store_t *self, write_fn *fn, void *arg, const char *what);
/* The same, for what can be lost to a system crash (not to kill -9): the
 * transaction is committed with its data synced and its meta page written
 * without waiting (LMDB's MDB_NOMETASYNC), so that the store stays whole but
 * such a crash may undo it; the next commit that waits makes it durable. */
int store_write_txn_lazy (im_store_t *self, write_fn *fn, void *arg, const char *what);
/* Commits TXN, lazily (see store_write_txn_lazy) when LAZY. */
int store_commit (im_store_t *self, MDB_txn *txn, int lazy);

/* Writes metadata NAME inside TXN. Returns an LMDB code. */
int store_meta_put (MDB_txn *txn, im_store_t *self, const char *name, const void *buf,
                    size_t size);

/* The counters of SELF into BUF (8 * COUNTERS bytes). */
void store_counters_pack (const im_store_t *self, uint8_t *buf);

/* The kept read transaction (nested reads share it): begin, then end once
 * done with what was read. Returns 0 or -1 with errno. */
int store_reader_begin (im_store_t *self, MDB_txn **txn);
void store_reader_end (im_store_t *self);

/* Reads the record (ORIGIN, ID) into V inside a read transaction, which the
 * caller ends with store_reader_end once done with V; *RC is LMDB's answer.
 * OUT is the caller's own output, checked with the rest (never written).
 * Returns 0, or -1 (errno EINVAL for a missing argument) when no read
 * could start. */
int store_read_record (im_store_t *self, const uint8_t *origin, const uint8_t *id,
                       const void *out, MDB_val *v, int *rc);

/* A walk over DBI in a read transaction, with room for one decoded record. */
typedef struct {
    im_record_t *rec;
    uint8_t *buf; /* IM_RECORD_MAX bytes: a record rebuilt */
    MDB_txn *txn;
    MDB_cursor *cur;
} walk_t;

int store_walk_begin (im_store_t *self, MDB_dbi dbi, walk_t *w);
void store_walk_end (im_store_t *self, walk_t *w);

/* LMDB's default largest key is 511 bytes: a value's index key is its type
 * and the value, or for a longer value a prefix and a hash of the whole;
 * ASCII letters in lower case for a type looked up in any case
 * (IM_LOOKUP_NOCASE: registry keys). Returns the key's size. */
size_t store_index_key (int type, const char *value, uint8_t key[INDEX_KEY_MAX]);

/* Takes REC (stored under RKEY) out of the value and prefix indexes. Returns
 * an LMDB code (0 when it was not there). */
int store_index_del (im_store_t *self, MDB_txn *txn, const im_record_t *rec,
                     const uint8_t *rkey);

/* Prefix key: family (4 or 6), length, network bytes. Returns its size, or 0
 * when the value is not a CIDR prefix shorter than a full address. */
size_t store_prefix_key (int type, const char *value, uint8_t key[18]);

/* Records of format 2 kept compact (im_store_batch.c). Writes the record
 * BLOB (LEN bytes) under K in RECORDS, through CUR (a cursor on RECORDS in
 * TXN), compact when it is of format 2 (BUF: IM_RECORD_MAX
 * bytes of room), appended when APPEND (K sorts after every key). The value
 * it replaces must have been released first. Returns an LMDB code. */
int store_record_put (im_store_t *self, MDB_txn *txn, MDB_cursor *cur, MDB_val *k,
                      const uint8_t *blob, size_t len, uint8_t *buf, int append);
/* The two halves of store_record_put: the value BLOB is kept as under K,
 * into *V (in BUF, at most LEN bytes, or BLOB itself), its batch noted; and
 * the put of a value under K through CUR with mdb_cursor_put's FLAGS, an
 * existing key refused (MDB_APPEND, MDB_NOOVERWRITE) being MDB_CORRUPTED.
 * Return LMDB codes. */
int store_record_pack (im_store_t *self, MDB_txn *txn, const MDB_val *k,
                       const uint8_t *blob, size_t len, uint8_t *buf, MDB_val *v);
int store_records_put (MDB_cursor *cur, MDB_val *k, MDB_val *value, unsigned flags);

/* The orders of a put (im_store_order.c). store_batch_order writes into
 * ORDER the order its N items are applied in: those of one batch together,
 * batches in the order they first come (the given order when a record comes
 * twice, or memory is short). That is the change log's order, which peers
 * pull; but the records table takes the new records' values in key order.
 * The ids of one millisecond sort at random (74 random bits: SPEC "id"), so
 * put as they come most of a bulk publish's records land between keys of
 * the last pages: a search each, and pages split in half as they fill. In
 * key order, those that sort after every key are appended (pages filled
 * whole), and the others reach each leaf page once. A put then takes three
 * passes (im_store_put.c): which records are held, looked up in key order;
 * each record applied in the given order, a new one's value kept aside in
 * SELF->put_buf; the new values, and their HELD entries, put in key order.
 * The order only makes the puts cheaper: each key is looked up or appended
 * after the table's last key all the same. store_sorted_make prepares S for
 * that and returns 0, or -1 when the put is applied in one pass: a record
 * comes twice, more than 64 origins, values over 8 MiB, memory short.
 * SELF->put_buf is sized only then. */
_Static_assert(offsetof (im_record_t, id)
                       == offsetof (im_record_t, origin) + IM_NODE_ID_SIZE
                   && IM_STORE_KEY_SIZE == IM_NODE_ID_SIZE + IM_ID_SIZE,
               "a record's key: its origin, then its id (read from REC->origin)");

typedef struct {
    const uint8_t *key; /* the record's: its origin, then its id */
    uint64_t hi, lo;    /* its id, as two numbers that sort as its bytes */
    uint32_t rank;      /* its origin's place among the put's origins */
    uint32_t i;         /* its item */
} store_keyed_t;

enum { STORE_SORTED_NEW = 1, STORE_SORTED_HELD = 2 };

typedef struct {
    store_keyed_t *by_key; /* the items in key order */
    uint8_t *state;        /* item: STORE_SORTED_NEW or _HELD, from pass 1 */
    uint64_t *seq;         /* item: its change number (a new record's HELD entry) */
    MDB_val *value;        /* item: a new record's value (in put_buf or its blob) */
} store_sorted_t;

void store_batch_order (const im_store_t *self, const im_store_item_t *items, size_t n,
                        size_t *order);
int store_sorted_make (im_store_t *self, const im_store_item_t *items, size_t n,
                       store_sorted_t *s);
void store_sorted_free (store_sorted_t *s);
/* After a put: SELF->put_buf freed when over 1 MiB (a large put's). */
void store_sorted_done (im_store_t *self);

/* The batch being written is kept in memory: written by flush before a
 * transaction commits, forgotten when one begins or is aborted. */
typedef struct store_batch_t store_batch_t;
int store_batch_flush (im_store_t *self, MDB_txn *txn);
void store_batch_forget (im_store_t *self);

/* Whether the stored value V is compact; its batch number into *BID. */
int store_record_ref (const MDB_val *v, uint64_t *bid);

/* One record fewer refers to batch BID: the last one takes it away. Returns
 * an LMDB code. */
int store_batch_release (im_store_t *self, MDB_txn *txn, uint64_t bid);

/* Makes V, a value read from RECORDS, the record's signed bytes: a compact
 * one (stored without its KEY, origin|id) is rebuilt into BUF (BUFSZ bytes, ENOSPC when
 * too small) and V points there; any other is left as it is. Returns 0 or an LMDB code.
 */
int store_record_expand (im_store_t *self, MDB_txn *txn, const uint8_t *key, MDB_val *v,
                         uint8_t *buf, size_t bufsz);

/* As store_record_expand; without AUTH the batch authentication of a compact
 * record is left zero (no batch is read): enough to decode the record
 * (im_record_decode_stored), never to hand out as its signed bytes. */
int store_record_unpack (im_store_t *self, MDB_txn *txn, const uint8_t *key, MDB_val *v,
                         uint8_t *buf, size_t bufsz, int auth);

#endif
