/* SPDX-License-Identifier: MPL-2.0 */
/* bench_store.c -- `make bench`: signs N indicators, stores them through the
 * node's store path (decode, index, change log, counters, durable batched
 * commits) and looks N values up, then measures raw LMDB puts and gets of
 * records of the same size in the same run and prints the ratios. */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>
#include <sodium.h>

#include "im_record.h"
#include "im_store.h"

#define BATCH 1000
#define RSTRIDE 512 /* bytes set aside for each signed record */

static double
now_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
rm_fn (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove (path);
}

static void
value_of (size_t i, char *out, size_t outsz)
{
    /* Distinct IPv4 addresses in 10.0.0.0/8 and beyond. */
    snprintf (out, outsz, "%zu.%zu.%zu.%zu", 10 + (i >> 24) % 200, (i >> 16) & 255,
              (i >> 8) & 255, i & 255);
}

static int
count_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)rec;
    (void)blob;
    (void)len;
    (*(size_t *)arg)++;
    return 0;
}

int
main (int argc, char *argv[])
{
    size_t n = argc > 1 ? strtoul (argv[1], NULL, 10) : 1000000;
    if (n < BATCH || sodium_init () < 0) {
        fprintf (stderr, "usage: bench_store [N >= %d]\n", BATCH);
        return 2;
    }
    char dir[] = "/tmp/intelmesh-bench.XXXXXX";
    if (!mkdtemp (dir)) {
        perror ("mkdtemp");
        return 1;
    }
    char store_path[64], raw_path[64], err[256];
    snprintf (store_path, sizeof store_path, "%s/store", dir);
    snprintf (raw_path, sizeof raw_path, "%s/raw", dir);
    printf ("intelmesh store benchmark: %zu indicators, batches of %d, durable commits\n",
            n, BATCH);

    /* 1. Sign N indicators (the origin's cost, once per indicator). */
    uint8_t pk[IM_NODE_ID_SIZE], sk[IM_SECRET_KEY_SIZE];
    crypto_sign_keypair (pk, sk);
    uint8_t *blobs = malloc (n * RSTRIDE);
    size_t *lens = malloc (n * sizeof *lens);
    im_record_t *recs = malloc (BATCH * sizeof *recs);
    im_store_item_t *items = malloc (BATCH * sizeof *items);
    if (!blobs || !lens || !recs || !items) {
        fprintf (stderr, "out of memory\n");
        return 1;
    }
    im_record_t *rec = &recs[0];
    size_t total_bytes = 0;
    double t0 = now_s ();
    for (size_t i = 0; i < n; i++) {
        im_record_init (rec);
        memcpy (rec->origin, pk, sizeof pk);
        im_id_generate (rec->id);
        rec->type = IM_TYPE_IPV4;
        rec->tlp = (uint8_t)(IM_TLP_CLEAR + i % 5);
        rec->created = rec->modified = 1700000000 + (int64_t)i;
        value_of (i, rec->value, sizeof rec->value);
        im_record_add_tag (rec, "bench", NULL, 0);
        if (im_record_encode (rec, blobs + i * RSTRIDE, RSTRIDE, &lens[i], err,
                              sizeof err)) {
            fprintf (stderr, "encode: %s\n", err);
            return 1;
        }
        total_bytes += lens[i];
        /* Signed as the node signs a PUBLISH: 32 records a signature. */
        if ((i + 1) % IM_BATCH_MAX == 0 || i + 1 == n) {
            size_t first = i - i % IM_BATCH_MAX;
            uint8_t *batch[IM_BATCH_MAX];
            for (size_t j = first; j <= i; j++)
                batch[j - first] = blobs + j * RSTRIDE;
            if (im_record_seal (batch, lens + first, i + 1 - first, sk, err,
                                sizeof err)) {
                fprintf (stderr, "seal: %s\n", err);
                return 1;
            }
        }
    }
    double sign_s = now_s () - t0;
    /* What a receiver does: verify each, one signature a batch. */
    im_batch_cache_t *cache = im_batch_cache_new (IM_BATCH_CACHE_DEFAULT);
    t0 = now_s ();
    for (size_t i = 0; i < n; i++)
        if (im_record_decode_cached (blobs + i * RSTRIDE, lens[i], cache, rec, err,
                                     sizeof err)) {
            fprintf (stderr, "verify: %s\n", err);
            return 1;
        }
    double verify_s = now_s () - t0;
    im_batch_cache_destroy (&cache);
    size_t avg = total_bytes / n;
    printf ("  sign (batches of %d, one core) %8.0f indicators/s  (%zu-byte records)\n",
            IM_BATCH_MAX, (double)n / sign_s, avg);
    printf ("  decode and verify, one core  %10.0f indicators/s\n", (double)n / verify_s);

    /* 2. The store path: decode, then put in batches (one commit each). */
    im_store_t *store = im_store_new (store_path, 0, pk, err, sizeof err);
    if (!store) {
        fprintf (stderr, "%s\n", err);
        return 1;
    }
    t0 = now_s ();
    for (size_t i = 0; i < n; i += BATCH) {
        size_t m = n - i < BATCH ? n - i : BATCH;
        for (size_t j = 0; j < m; j++) {
            if (im_record_decode (blobs + (i + j) * RSTRIDE, lens[i + j], 0, &recs[j],
                                  err, sizeof err)) {
                fprintf (stderr, "decode: %s\n", err);
                return 1;
            }
            items[j].blob = blobs + (i + j) * RSTRIDE;
            items[j].len = lens[i + j];
            items[j].rec = &recs[j];
        }
        if (im_store_put_batch (store, items, m, NULL, err, sizeof err) != (int)m) {
            fprintf (stderr, "put: %s\n", err);
            return 1;
        }
    }
    double store_s = now_s () - t0;
    im_store_stats_t st;
    im_store_stats (store, &st);

    /* 3. Look-ups of every value, in a scattered order. */
    char value[64];
    size_t found = 0;
    t0 = now_s ();
    for (size_t i = 0; i < n; i++) {
        value_of ((i * 7919) % n, value, sizeof value);
        im_store_lookup (store, IM_TYPE_IPV4, value, count_fn, &found);
    }
    double lookup_s = now_s () - t0;
    im_store_destroy (&store);
    if (found != n) {
        fprintf (stderr, "look-ups found %zu of %zu\n", found, n);
        return 1;
    }

    /* 4. Raw LMDB: the same number of records of the same size, same batches,
     * one put each keyed by origin|id, then a get of each. */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    mkdir (raw_path, 0700);
    mdb_env_create (&env);
    mdb_env_set_mapsize (env, (size_t)4 << 30);
    if (mdb_env_open (env, raw_path, 0, 0600)) {
        fprintf (stderr, "raw LMDB: cannot open\n");
        return 1;
    }
    mdb_txn_begin (env, NULL, 0, &txn);
    mdb_dbi_open (txn, NULL, 0, &dbi);
    mdb_txn_commit (txn);
    t0 = now_s ();
    for (size_t i = 0; i < n; i += BATCH) {
        size_t m = n - i < BATCH ? n - i : BATCH;
        mdb_txn_begin (env, NULL, 0, &txn);
        for (size_t j = 0; j < m; j++) {
            uint8_t *b = blobs + (i + j) * RSTRIDE;
            MDB_val k = { IM_STORE_KEY_SIZE, b + 4 }, v = { lens[i + j], b };
            if (mdb_put (txn, dbi, &k, &v, 0)) {
                fprintf (stderr, "raw LMDB put failed\n");
                return 1;
            }
        }
        if (mdb_txn_commit (txn)) {
            fprintf (stderr, "raw LMDB commit failed\n");
            return 1;
        }
    }
    double raw_put_s = now_s () - t0;
    size_t got = 0;
    t0 = now_s ();
    mdb_txn_begin (env, NULL, MDB_RDONLY, &txn);
    for (size_t i = 0; i < n; i++) {
        uint8_t *b = blobs + ((i * 7919) % n) * RSTRIDE;
        MDB_val k = { IM_STORE_KEY_SIZE, b + 4 }, v;
        if (mdb_get (txn, dbi, &k, &v) == 0)
            got++;
    }
    mdb_txn_abort (txn);
    double raw_get_s = now_s () - t0;
    mdb_env_close (env);
    /* BENCH_KEEP=1 keeps the store for `bench_resync dbstat DIR/store N`. */
    if (getenv ("BENCH_KEEP"))
        printf ("  store kept in %s\n", store_path);
    else
        nftw (dir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
    if (got != n) {
        fprintf (stderr, "raw gets found %zu of %zu\n", got, n);
        return 1;
    }

    double put_rate = (double)n / store_s, raw_put = (double)n / raw_put_s;
    double get_rate = (double)n / lookup_s, raw_get = (double)n / raw_get_s;
    printf ("  store path (decode+index+log) %9.0f indicators/s\n", put_rate);
    printf ("  raw LMDB puts, same records   %9.0f records/s     ratio %.2f\n", raw_put,
            put_rate / raw_put);
    printf ("  look-ups (exact + prefixes)   %9.0f look-ups/s    \n", get_rate);
    printf ("  raw LMDB gets, same keys      %9.0f gets/s        ratio %.2f\n", raw_get,
            get_rate / raw_get);
    printf ("  store size                    %9.0f bytes/indicator (%llu bytes in use)\n",
            (double)st.used_bytes / (double)n, (unsigned long long)st.used_bytes);
    free (blobs);
    free (lens);
    free (recs);
    free (items);
    return 0;
}
