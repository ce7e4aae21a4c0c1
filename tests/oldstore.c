/* SPDX-License-Identifier: MPL-2.0 */
/* oldstore.c -- makes the store of an initialised (stopped) node look as a
 * version before records of format 2 left it: NOWN records of the node's own
 * and NOTHER of another origin, all of format 1 (a signature each), in a
 * store of schema 1. For tests/t31-batches.sh and tests/t33-batch-attacks.sh.
 * Usage: oldstore DIR NOWN NOTHER [HISTORY]; prints the own records' ids.
 * With HISTORY 1, own record i is also updated to version 3 (i % 10 == 0)
 * or revoked at version 2 (else i % 7 == 0). With HISTORY 2, own record i is
 * an ipv4 address (11.31.I/256.I%256) when I is odd: the node signs them
 * again 32 at a time, both types in one batch.
 * oldstore --count DIR: "format1 N format2 M own K" of the records stored
 * (read-only, while a node may be writing).
 * oldstore --dump DIR: opens the store beside its node, which may be running
 * (a store of schema 1 is then brought to schema 3 as intelmeshd would, its
 * own records still to be signed again by intelmeshd), and prints one line
 * per record, in key order, from the bytes the store hands out: origin (16 hex),
 * id, version, op, format, whether it verifies (1 or 0; -1: of format 1, not
 * checked), and a hash of its
 * body after the magic. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>
#include <sodium.h>

#include "im_identity.h"
#include "im_record.h"
#include "im_store.h"
#include "im_store_int.h" /* STORE_COMPACT: the store's own form */
#include "im_batch.h"

#define CHUNK 500

/* Signs REC as a record of format 1 into BUF. Returns its length, or 0. */
static size_t
sign_format1 (const im_record_t *rec, const uint8_t *sk, uint8_t *buf, size_t bufsz)
{
    size_t len;
    char err[256];
    if (im_record_encode (rec, buf, bufsz, &len, err, sizeof err)) {
        fprintf (stderr, "oldstore: %s\n", err);
        return 0;
    }
    size_t body = len - IM_BATCH_AUTH;
    buf[3] = 1;
    crypto_sign_detached (buf + body, NULL, buf, body, sk);
    return body + IM_SIG_SIZE;
}

static int history; /* own records get later versions and tombstones */
static int mixed;   /* own records of two types */

/* The later versions of the CHUNK of M records from AT (HISTORY): version 2
 * of every 10th (a put) and 7th (a revocation), then 3 of every 10th. */
static int
put_history (im_store_t *store, const uint8_t *sk, size_t at, size_t m, im_record_t *recs,
             uint8_t (*blobs)[1024], im_store_item_t *items, int *stored)
{
    char err[256];
    for (uint64_t version = 2; version <= 3; version++) {
        size_t k = 0;
        for (size_t i = 0; i < m; i++) {
            size_t n = at + i;
            if (!(n % 10 == 0 || (version == 2 && n % 7 == 0)))
                continue;
            im_record_t *rec = &recs[i];
            rec->version = version;
            rec->modified += 1;
            rec->op = n % 10 == 0 ? IM_OP_PUT : IM_OP_REVOKE;
            items[k].blob = blobs[i];
            items[k].len = sign_format1 (rec, sk, blobs[i], sizeof blobs[i]);
            items[k].rec = rec;
            items[k].hops = 0;
            items[k].from = NULL;
            if (items[k++].len == 0)
                return -1;
        }
        if (k && im_store_put_batch (store, items, k, stored, err, sizeof err) < 0) {
            fprintf (stderr, "oldstore: %s\n", err);
            return -1;
        }
    }
    return 0;
}

static int
put_records (im_store_t *store, const uint8_t *pk, const uint8_t *sk, const char *who,
             size_t n, int print)
{
    static uint8_t blobs[CHUNK][1024];
    static im_record_t recs[CHUNK];
    static im_store_item_t items[CHUNK];
    static int stored[CHUNK];
    char err[256];
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t m = n - at < CHUNK ? n - at : CHUNK;
        for (size_t i = 0; i < m; i++) {
            im_record_t *rec = &recs[i];
            im_record_init (rec);
            memcpy (rec->origin, pk, IM_NODE_ID_SIZE);
            im_id_generate (rec->id);
            rec->type = IM_TYPE_DOMAIN;
            rec->tlp = IM_TLP_GREEN;
            rec->created = rec->modified = 1790000000 + (int64_t)(at + i);
            snprintf (rec->value, sizeof rec->value, "%s-%zu.old.intelmesh.test", who,
                      at + i);
            if (mixed && print && (at + i) % 2) {
                rec->type = IM_TYPE_IPV4;
                snprintf (rec->value, sizeof rec->value, "11.31.%zu.%zu", (at + i) / 256,
                          (at + i) % 256);
            }
            items[i].blob = blobs[i];
            items[i].len = sign_format1 (rec, sk, blobs[i], sizeof blobs[i]);
            items[i].rec = rec;
            items[i].hops = 0;
            items[i].from = NULL;
            if (items[i].len == 0)
                return -1;
            if (print) {
                char id[IM_ID_STR_SIZE];
                im_id_format (rec->id, id);
                printf ("%s\n", id);
            }
        }
        if (im_store_put_batch (store, items, m, stored, err, sizeof err) < 0) {
            fprintf (stderr, "oldstore: %s\n", err);
            return -1;
        }
        if (history && print
            && put_history (store, sk, at, m, recs, blobs, items, stored))
            return -1;
    }
    return 0;
}

/* Counts the records of the store in DIR by format, read-only (a node may be
 * writing): a compact record (the store's own form of format 2, see
 * lib/im_store_int.h) counts as format 2; the origin is the key's. */
static int
count_store (const char *dir, const uint8_t *node)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/store", dir);
    MDB_env *env;
    MDB_txn *txn = NULL;
    MDB_dbi records;
    MDB_cursor *cur;
    int rc = mdb_env_create (&env);
    if (rc == 0 && (rc = mdb_env_set_maxdbs (env, 16)) == 0
        && (rc = mdb_env_open (env, path, MDB_RDONLY, 0600)) == 0
        && (rc = mdb_txn_begin (env, NULL, MDB_RDONLY, &txn)) == 0
        && (rc = mdb_dbi_open (txn, "records", 0, &records)) == 0
        && (rc = mdb_cursor_open (txn, records, &cur)) == 0) {
        size_t n1 = 0, n2 = 0, own = 0;
        MDB_val k, v;
        for (int r = mdb_cursor_get (cur, &k, &v, MDB_FIRST); r == 0;
             r = mdb_cursor_get (cur, &k, &v, MDB_NEXT)) {
            const uint8_t *b = v.mv_data;
            if (k.mv_size != IM_STORE_KEY_SIZE || v.mv_size < 4)
                continue;
            n1 += b[3] == 1;
            n2 += b[3] == 2 || b[3] == STORE_COMPACT;
            own += memcmp (k.mv_data, node, IM_NODE_ID_SIZE) == 0;
        }
        printf ("format1 %zu format2 %zu own %zu\n", n1, n2, own);
        mdb_cursor_close (cur);
    }
    if (txn)
        mdb_txn_abort (txn);
    mdb_env_close (env);
    if (rc)
        fprintf (stderr, "oldstore: %s\n", mdb_strerror (rc));
    return rc ? 1 : 0;
}

typedef struct {
    im_store_t *store;
    im_batch_cache_t *cache;
    uint8_t buf[IM_RECORD_MAX];
    im_record_t rec;
} dump_t;

/* One line for REC, from the signed bytes the store hands out for it. */
static int
dump_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob, (void)len;
    dump_t *d = arg;
    size_t n;
    im_record_head_t head;
    if (im_store_get_raw (d->store, rec->origin, rec->id, d->buf, sizeof d->buf, &n)
        || im_record_peek (d->buf, n, &head))
        return 0;
    /* Format 1 is not verified (-1): 200,000 of them would take long. */
    int good = head.format != 2
                   ? -1
                   : im_record_decode_cached (d->buf, n, d->cache, &d->rec, NULL, 0) == 0;
    size_t body = n - (head.format == 1 ? IM_SIG_SIZE : IM_BATCH_AUTH);
    uint8_t h[8];
    crypto_generichash (h, sizeof h, d->buf + 4, body - 4, NULL, 0);
    char origin[65], idtext[IM_ID_STR_SIZE], hash[17];
    sodium_bin2hex (origin, sizeof origin, head.origin, 8);
    sodium_bin2hex (hash, sizeof hash, h, sizeof h);
    im_id_format (head.id, idtext);
    printf ("%s %s %llu %u %u %d %s\n", origin, idtext, (unsigned long long)head.version,
            head.op, head.format, good, hash);
    return 0;
}

/* One line for each record of the store in DIR, in key order, as the store
 * hands them out (opened beside a node that may be running). */
static int
dump_store (const char *dir, const uint8_t *node)
{
    char path[4096], err[512];
    snprintf (path, sizeof path, "%s/store", dir);
    static dump_t d;
    d.store = im_store_new (path, 0, node, err, sizeof err);
    d.cache = im_batch_cache_new (IM_BATCH_CACHE_DEFAULT);
    if (!d.store) {
        fprintf (stderr, "oldstore: %s\n", err);
        return 1;
    }
    uint8_t after[IM_STORE_KEY_SIZE];
    int n, first = 1;
    do {
        n = im_store_list (d.store, IM_TYPE_NONE, NULL, first ? NULL : after, 1000,
                           dump_fn, &d, after);
        first = 0;
    } while (n == 1000);
    im_batch_cache_destroy (&d.cache);
    im_store_destroy (&d.store);
    return n < 0 ? 1 : 0;
}

/* --count or --dump of the store in DIR. */
static int
read_store (const char *dir, int dump)
{
    char err[512];
    im_identity_t *id = im_identity_load (dir, err, sizeof err);
    if (!id) {
        fprintf (stderr, "oldstore: %s\n", err);
        return 1;
    }
    int rc = dump ? dump_store (dir, im_identity_node (id))
                  : count_store (dir, im_identity_node (id));
    im_identity_destroy (&id);
    return rc;
}

/* Writes schema 1 into the store's metadata, as a version before format 2. */
static int
set_schema1 (const char *path)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    uint8_t v[4] = { 0, 0, 0, 1 };
    MDB_val k = { 6, "schema" }, val = { 4, v };
    int rc = mdb_env_create (&env);
    if (rc == 0 && (rc = mdb_env_set_maxdbs (env, 16)) == 0
        && (rc = mdb_env_open (env, path, 0, 0600)) == 0
        && (rc = mdb_txn_begin (env, NULL, 0, &txn)) == 0) {
        if ((rc = mdb_dbi_open (txn, "meta", 0, &meta)) == 0
            && (rc = mdb_put (txn, meta, &k, &val, 0)) == 0)
            rc = mdb_txn_commit (txn);
        else
            mdb_txn_abort (txn);
    }
    mdb_env_close (env);
    if (rc)
        fprintf (stderr, "oldstore: %s\n", mdb_strerror (rc));
    return rc ? -1 : 0;
}

int
main (int argc, char *argv[])
{
    if (sodium_init () < 0)
        return 2;
    if (argc == 3 && (!strcmp (argv[1], "--count") || !strcmp (argv[1], "--dump")))
        return read_store (argv[2], !strcmp (argv[1], "--dump"));
    if (argc != 4 && argc != 5) {
        fprintf (stderr, "usage: oldstore DIR NOWN NOTHER [HISTORY]\n"
                         "       oldstore --count|--dump DIR\n");
        return 2;
    }
    history = argc == 5 && atoi (argv[4]) == 1;
    mixed = argc == 5 && atoi (argv[4]) == 2;
    char err[512], path[4096];
    im_identity_t *id = im_identity_load (argv[1], err, sizeof err);
    if (!id) {
        fprintf (stderr, "oldstore: %s\n", err);
        return 1;
    }
    snprintf (path, sizeof path, "%s/store", argv[1]);
    im_store_t *store = im_store_new (path, 0, im_identity_node (id), err, sizeof err);
    if (!store) {
        fprintf (stderr, "oldstore: %s\n", err);
        return 1;
    }
    uint8_t opk[IM_NODE_ID_SIZE], osk[IM_SECRET_KEY_SIZE];
    crypto_sign_keypair (opk, osk);
    int rc = put_records (store, im_identity_node (id), im_identity_sign_secret (id),
                          "own", strtoul (argv[2], NULL, 10), 1)
             || put_records (store, opk, osk, "other", strtoul (argv[3], NULL, 10), 0);
    im_store_destroy (&store);
    im_identity_destroy (&id);
    return rc || set_schema1 (path) ? 1 : 0;
}
