/* SPDX-License-Identifier: MPL-2.0 */
/* oldstore.c -- makes the store of an initialised (stopped) node look as a
 * version before records of format 2 left it: NOWN records of the node's own
 * and NOTHER of another origin, all of format 1 (a signature each), in a
 * store of schema 1. For tests/t31-batches.sh.
 * Usage: oldstore DIR NOWN NOTHER; prints the own records' ids. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>
#include <sodium.h>

#include "im_identity.h"
#include "im_record.h"
#include "im_store.h"

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
    }
    return 0;
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
    if (argc != 4 || sodium_init () < 0) {
        fprintf (stderr, "usage: oldstore DIR NOWN NOTHER\n");
        return 2;
    }
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
