/* SPDX-License-Identifier: MPL-2.0 */
/* im_store.h -- the node's durable store: signed indicator records in LMDB,
 * indexed by value (and by CIDR prefix for addresses), with an append-only
 * change log that numbers every accepted change (the replication feed). */
#ifndef IM_STORE_H
#define IM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "im_record.h"

typedef struct _im_store_t im_store_t;

/* The key of a record in the store: origin then id. */
#define IM_STORE_KEY_SIZE (IM_NODE_ID_SIZE + IM_ID_SIZE)

/* One signed record to store, with its decoded form, how many links it
 * crossed to get here (0 for this node's own) and the peer it came from
 * (NULL for this node's own). */
typedef struct {
    const uint8_t *blob;
    size_t len;
    const im_record_t *rec;
    uint8_t hops;
    const uint8_t *from; /* IM_NODE_ID_SIZE bytes, or NULL */
} im_store_item_t;

/* One entry of the change log as replication reads it. */
typedef struct {
    uint64_t seq;           /* change number */
    const uint8_t *key;     /* the record's origin and id (IM_STORE_KEY_SIZE), then
                               the version this change made, big-endian: a
                               peer's HAVE key (IM_STORE_WANT_KEY bytes in all);
                               NULL in a change made up for a policy check */
    const im_record_t *rec; /* the record as held now */
    const uint8_t *blob;    /* its signed bytes */
    size_t len;
    uint8_t hops;                  /* links crossed to reach this node */
    uint8_t from[IM_NODE_ID_SIZE]; /* the peer it came from; zeros: this node */
    int64_t added_ms; /* when this node stored it (ms since the epoch); 0: unknown
                         (a change written by an older intelmesh) */
} im_store_change_t;

/* Called for each change; return non-zero to stop the walk. */
typedef int (im_store_change_fn) (const im_store_change_t *change, void *arg);

/* What im_store_put_batch did with each item. */
enum {
    IM_STORE_STALE = 0, /* an equal or newer version was already held */
    IM_STORE_NEW = 1,   /* first version held of this indicator */
    IM_STORE_NEWER = 2, /* replaced an older version */
    IM_STORE_CLOSER = 3 /* the version held, of a limited reach, came over
                           fewer hops: logged again with them (not new) */
};

typedef struct {
    uint64_t live[IM_TYPE_COUNT][IM_TLP_COUNT]; /* records with op put */
    uint64_t revoked;                           /* tombstones */
    uint64_t records;                           /* live and revoked */
    uint64_t origins;                           /* distinct origins */
    uint64_t last_seq;                          /* newest change number */
    uint64_t map_size;                          /* bytes mapped */
    uint64_t used_bytes;                        /* bytes in use */
    uint64_t max_size;                          /* size limit (0: none) */
    int64_t full_since;    /* writes fail as disk full since (s since the
                              epoch; 0: they do not) */
    uint64_t full_refused; /* writes of records refused since then */
} im_store_stats_t;

/* Called for each record found; return non-zero to stop the walk. BLOB and
 * LEN are the record's signed bytes, or NULL and 0 from look-ups and lists,
 * which decode records without reading their batch's authentication (ask
 * im_store_get_raw for the signed bytes). */
typedef int (im_store_fn) (const im_record_t *rec, const uint8_t *blob, size_t len,
                           void *arg);

/* Opens (creating when absent) the store in directory PATH with an initial
 * map of MAP_SIZE bytes (0: 1 GiB). When NODE is given, the store must belong
 * to that node (it is recorded on first open). Returns NULL with errno set and
 * a reason in ERR. */
im_store_t *im_store_new (const char *path, size_t map_size,
                          const uint8_t node[IM_NODE_ID_SIZE], char *err, size_t errsz);

/* The least size limit im_store_set_max takes. */
#define IM_STORE_MAX_MIN ((size_t)1 << 20)

/* Limits the store to MAX_SIZE bytes (0: no limit beyond what the disk
 * gives): the map grows no further, and a write that needs more fails with
 * errno ENOSPC ("disk full"), nothing of it stored. A map larger than the
 * limit is made smaller, down to what is in use. May be called again (a
 * reload). Returns 0, or -1 with errno (EINVAL: under IM_STORE_MAX_MIN). */
int im_store_set_max (im_store_t *self, size_t max_size);

/* Closes the store; NULL-safe, sets *SELF_P to NULL, preserves errno. */
void im_store_destroy (im_store_t **self_p);

/* Stores N verified records in one durable transaction: a newer version
 * replaces an older one, an older or equal one is ignored, a revocation keeps
 * a tombstone. Writes IM_STORE_* into RESULTS (N entries) when given. Grows
 * the map and retries when it is full. Returns the number of records stored
 * (new, newer, or logged again as closer), or -1 with errno set and nothing
 * stored. */
int im_store_put_batch (im_store_t *self, const im_store_item_t *items, size_t n,
                        int *results, char *err, size_t errsz);

/* Reads one record. Returns 0, or -1 with errno ENOENT. REC may be NULL. */
int im_store_get (im_store_t *self, const uint8_t origin[IM_NODE_ID_SIZE],
                  const uint8_t id[IM_ID_SIZE], im_record_t *rec);

/* Calls FN for every live record whose normalised TYPE value is VALUE and,
 * for an ipv4 or ipv6 value, for every live CIDR prefix that contains it
 * and is no broader than /8 (IPv4) or /16 (IPv6), see im_guard.h. Returns the number of
 * matches, or -1 with errno set. */
int im_store_lookup (im_store_t *self, int type, const char *value, im_store_fn *fn,
                     void *arg);

/* Calls FN for every record, live or tombstone, whose normalised TYPE value
 * is exactly VALUE (not through prefixes): one walk where a publisher needs
 * both. Returns the number of matches, or -1 with errno set. */
int im_store_lookup_value (im_store_t *self, int type, const char *value, im_store_fn *fn,
                           void *arg);

/* Holds one read transaction until im_store_read_end: the look-ups between
 * them see one snapshot of the store. Nests. Returns 0, or -1 with errno. */
int im_store_read_begin (im_store_t *self);
void im_store_read_end (im_store_t *self);

/* Calls FN for every tombstone whose normalised TYPE value is exactly VALUE
 * (tombstones stored before this look-up existed are not found). Returns the
 * number of matches, or -1 with errno set. */
int im_store_lookup_revoked (im_store_t *self, int type, const char *value,
                             im_store_fn *fn, void *arg);

/* Calls FN for up to LIMIT live records of TYPE whose normalised value
 * begins with PREFIX (1 to 448 bytes: what the value index keeps of a long
 * value), in the index's order (by value, then origin and id): a range of
 * the value index, not a scan of every record (values are matched as
 * indexed: a registry key in lower case). Returns the number of matches, or -1 with errno
 * set (EINVAL: bad type or prefix). */
int im_store_value_prefix (im_store_t *self, int type, const char *prefix, size_t limit,
                           im_store_fn *fn, void *arg);

/* Calls FN for up to LIMIT records (live and revoked) after the record key
 * AFTER (NULL: from the start), in key order, filtered by TYPE (IM_TYPE_NONE:
 * any) and ORIGIN (NULL: any). Writes the last key visited into NEXT when
 * given. Returns the number of records passed to FN, or -1 with errno set. */
int im_store_list (im_store_t *self, int type, const uint8_t *origin,
                   const uint8_t *after, size_t limit, im_store_fn *fn, void *arg,
                   uint8_t next[IM_STORE_KEY_SIZE]);

/* Calls FN for up to LIMIT changes numbered after SINCE, in order, with the
 * record as it is now held. Writes the last change number visited into *LAST.
 * Returns the number visited, or -1 with errno set. */
int im_store_changes (im_store_t *self, uint64_t since, size_t limit, im_store_fn *fn,
                      void *arg, uint64_t *last);

/* Like im_store_put_batch, and in the same transaction records that the
 * changes of peer PEER were applied up to CURSOR, so that a crash never
 * loses a batch nor applies one twice. */
int im_store_put_batch_cursor (im_store_t *self, const im_store_item_t *items, size_t n,
                               int *results, const uint8_t *peer, uint64_t cursor,
                               char *err, size_t errsz);

/* The cursor recorded for PEER (0 when none). Returns 0 or -1 with errno. */
int im_store_cursor (im_store_t *self, const uint8_t *peer, uint64_t *cursor);

/* The version held of (ORIGIN, ID), 0 when none: the cheap check before any
 * signature is verified. Returns 0 or -1 with errno. */
int im_store_version (im_store_t *self, const uint8_t *origin, const uint8_t *id,
                      uint64_t *version);

/* The versions of N records at once, each key (origin, then id) STRIDE
 * bytes after the one before, into VERSIONS (0 for one not held): one read
 * and one cursor for all, cheapest when neighbouring keys come together.
 * Returns 0, or -1 with errno set. */
int im_store_versions (im_store_t *self, const uint8_t *keys, size_t stride, size_t n,
                       uint64_t *versions);

/* Walks the change log after SINCE for replication: calls FN for each change
 * that is not superseded, until FN has been called LIMIT times or MAX_SCAN
 * changes were read. *LAST is the last change number read (SINCE when none).
 * Returns the number of calls, or -1 with errno. */
int im_store_feed (im_store_t *self, uint64_t since, size_t limit, size_t max_scan,
                   im_store_change_fn *fn, void *arg, uint64_t *last);

/* Which of the N changes at CHANGES (at most IM_STORE_SKIP_CHUNK, with only
 * SEQ, KEY, HOPS, FROM and ADDED_MS set: REC and BLOB NULL) to pass over:
 * SKIP[i] 1 for change i, else 0 (all 0 when called). */
#define IM_STORE_SKIP_CHUNK 16
typedef void (im_store_skip_fn) (const im_store_change_t *changes, size_t n,
                                 uint8_t *skip, void *arg);

/* As im_store_feed, where SKIP (when not NULL) is first asked of the changes,
 * up to IM_STORE_SKIP_CHUNK at a time, before any of their records is read:
 * a change it passes over is not read (a server's own peer's records, which
 * never go back to it). Asked of a few at once, it can look up their keys
 * together; it may be asked of changes read ahead that the walk then does
 * not reach (LIMIT calls made, or FN asked to stop). */
int im_store_feed_skip (im_store_t *self, uint64_t since, size_t limit, size_t max_scan,
                        im_store_skip_fn *skip, im_store_change_fn *fn, void *arg,
                        uint64_t *last);

/* A record's key with a version: origin, id and version (IM_STORE_KEY_SIZE +
 * 8 bytes), as in the sent log. */
#define IM_STORE_WANT_KEY (IM_STORE_KEY_SIZE + 8)

/* Copies the signed record (ORIGIN, ID) into BUF. Returns 0, or -1 with errno
 * ENOENT or ENOSPC. */
int im_store_get_raw (im_store_t *self, const uint8_t *origin, const uint8_t *id,
                      uint8_t *buf, size_t bufsz, size_t *len);

/* Sets the cursor of PEER (see im_store_put_batch_cursor) to CURSOR, which
 * may move it back. Returns 0 or -1 with errno. */
int im_store_set_cursor (im_store_t *self, const uint8_t *peer, uint64_t cursor);

/* The hops at which this node holds (ORIGIN, ID) and the peer it came from
 * (FROM may be NULL), for a record that came from a peer. Returns 0, or -1
 * with errno ENOENT for this node's own records and those it does not hold. */
int im_store_held (im_store_t *self, const uint8_t *origin, const uint8_t *id,
                   uint8_t *hops, uint8_t *from);

/* The sent log: notes that the N records whose keys (origin, id, version:
 * IM_STORE_WANT_KEY bytes each) are at KEYS went to PEER at WHEN (ms since
 * the epoch), in one durable transaction: one history entry per peer, record
 * and version (a version logged already, or older than one logged, adds
 * nothing). Returns 0 or -1 with errno. Test hook: when the environment
 * variable IM_TEST_SENTLOG_FAIL (read once) names a file and that file
 * exists, it fails with EIO and writes nothing; when the file begins with a
 * node id in hex, only a write that carries entries for that peer fails. */
int im_store_sent_note (im_store_t *self, const uint8_t *peer, const uint8_t *keys,
                        size_t n, int64_t when);

/* The same, each key with its own time (WHENS[i], ms since the epoch). */
int im_store_sent_note_at (im_store_t *self, const uint8_t *peer, const uint8_t *keys,
                           size_t n, const int64_t *whens);

/* What went to one peer: N keys at KEYS, each at WHENS[i]. */
typedef struct {
    const uint8_t *peer;
    const uint8_t *keys;
    size_t n;
    const int64_t *whens;
} im_store_sent_t;

/* The same for N peers' LOGS in one transaction (one data sync for all):
 * every peer's entries are written, or none. */
int im_store_sent_note_peers (im_store_t *self, const im_store_sent_t *logs, size_t n);

/* The newest version of (ORIGIN, ID) sent to PEER (0 when none) and when.
 * Returns 0 or -1 with errno. */
int im_store_sent_version (im_store_t *self, const uint8_t *peer, const uint8_t *origin,
                           const uint8_t *id, uint64_t *version, int64_t *when);

/* Calls FN for up to LIMIT entries of the sent log of PEER at or after SINCE
 * (ms since the epoch), oldest first. Returns the number visited or -1. */
typedef int (im_store_sent_fn) (const uint8_t *origin, const uint8_t *id,
                                uint64_t version, int64_t when, void *arg);
int im_store_sent_list (im_store_t *self, const uint8_t *peer, int64_t since,
                        size_t limit, im_store_sent_fn *fn, void *arg);

/* Removes, in one transaction, up to LIMIT entries of the sent log's
 * history (of every peer) older than BEFORE (ms since the epoch); the newest
 * version sent (im_store_sent_version) stays. Returns the number removed (less
 * than LIMIT: none older is left) or -1 with errno. */
int im_store_sent_prune (im_store_t *self, int64_t before, size_t limit);

/* What this node keeps about serving a peer (SPEC.md, "Store restarts"). */
typedef struct {
    uint64_t served;     /* at least the highest cursor its pulls were
                            answered with (our newest change number then):
                            IM_STORE_SERVED_UNKNOWN when the store predates
                            this table and has not answered it since */
    uint64_t own_until;  /* its own records among our changes up to this go
                            back to it (0: none) */
    int64_t restarted;   /* when its store was found restarted (seconds since
                            the epoch; 0: never) */
    uint64_t old_cursor; /* a restart answered and not yet taken: the cursor
                            of our old numbering its pull came with (0: none) */
    uint64_t old_from;   /* ... and where that answer started */
} im_store_served_t;
#define IM_STORE_SERVED_UNKNOWN UINT64_MAX

/* Reads what was served to PEER into OUT (zeros, or served unknown, when
 * nothing was written). Returns 0 or -1 with errno. */
int im_store_served (im_store_t *self, const uint8_t *peer, im_store_served_t *out);

/* Writes it, in one small durable transaction. Returns 0 or -1 with errno. */
int im_store_set_served (im_store_t *self, const uint8_t *peer,
                         const im_store_served_t *in);
/* Writes what was served to each of the N PEERS (IN[i] for PEERS[i]) in one
 * durable transaction. Returns 0 or -1 with errno. */
int im_store_set_served_many (im_store_t *self, size_t n, const uint8_t *const *peers,
                              const im_store_served_t *in);

/* Whether this open made the store (it was absent). */
int im_store_created (const im_store_t *self);

/* Makes durable what was committed lazily (a peer's batch with its cursor,
 * the sent log: SPEC.md, "Storage and durability"), which a power loss could
 * otherwise undo: for what gives out a change number, or moves a cursor in
 * a way that must not be undone, without a waiting commit of its own. Does
 * nothing when no lazy commit was made since the last call. Returns 0 or -1
 * with errno. */
int im_store_sync (im_store_t *self);

/* Whether a lazy commit was made since the last im_store_sync (1), else 0
 * (a waiting commit makes it durable too, but is not counted here). */
int im_store_lazy (const im_store_t *self);

/* Fills ST. Returns 0 or -1 with errno set. */
/* Calls FN for every origin the store holds records of: its node id, the
 * records held (live and revoked) and its newest change number here; FN
 * returns non-zero to stop. Returns the origins walked, or -1 with errno. */
typedef int (im_store_origin_fn) (const uint8_t *origin, uint64_t records,
                                  uint64_t last_seq, void *arg);
int im_store_origins (im_store_t *self, im_store_origin_fn *fn, void *arg);

int im_store_stats (im_store_t *self, im_store_stats_t *st);

/* Takes the N records KEYS (origin|id; one not held is passed over) out of
 * the store for good, in one transaction: record, indexes and counters
 * (SPEC.md, "Exercises": an ended exercise's records). Returns how many were
 * taken out, or -1 with errno and the reason in ERR. */
int im_store_purge (im_store_t *self, const uint8_t (*keys)[IM_STORE_KEY_SIZE], size_t n,
                    char *err, size_t errsz);

/* Signs N (1 to IM_BATCH_MAX) encoded records of this node in place, as
 * im_record_seal() does. Returns 0, or -1 with errno and a reason in ERR. */
typedef int (im_store_seal_fn) (uint8_t *const *recs, const size_t *lens, size_t n,
                                void *arg, char *err, size_t errsz);

/* Whether a store made before records of format 2 still has to have the
 * records of its owner signed again (im_store_reseal). */
int im_store_reseal_pending (im_store_t *self);

/* Once, for a store made before records of format 2: every record of ORIGIN
 * (this node) still of format 1 becomes format 2, the same version and
 * content, signed by SEAL in batches; the change log, indexes and counters
 * do not change. Done in transactions of up to 1024 records; an interrupted
 * run goes on where it stopped at the next. The number re-signed goes into
 * *RESEALED. Returns 0 (also when there is nothing to do), or -1 with errno
 * and a reason in ERR. */
int im_store_reseal (im_store_t *self, const uint8_t origin[IM_NODE_ID_SIZE],
                     im_store_seal_fn *seal, void *arg, size_t *resealed, char *err,
                     size_t errsz);

#endif
