/* SPDX-License-Identifier: MPL-2.0 */
/* bench_store.c -- `make bench`: signs N indicators, stores them through the
 * node's store path (decode, index, change log, counters, durable batched
 * commits) and looks N values up, then measures raw LMDB puts and gets of
 * records of the same size in the same run and prints the ratios: three
 * rounds of each, alternating, and the best of each side. */
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
#define ROUNDS 3    /* alternating rounds of the store path and raw LMDB */

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

typedef struct {
    size_t n;
    uint8_t *blobs;
    size_t *lens;
    im_record_t *recs;
    im_store_item_t *items;
} bench_data_t;

/* The store path: decode, then put in batches (one commit each), then a
 * look-up of every value in a scattered order. T[0] and T[1] get the two
 * times; ST, when not NULL, the store's statistics. */
static int
store_round (bench_data_t *d, const char *path, const uint8_t *pk, double t[2],
             im_store_stats_t *st)
{
    char err[256];
    size_t n = d->n;
    im_store_t *store = im_store_new (path, 0, pk, err, sizeof err);
    if (!store) {
        fprintf (stderr, "%s\n", err);
        return -1;
    }
    double t0 = now_s ();
    for (size_t i = 0; i < n; i += BATCH) {
        size_t m = n - i < BATCH ? n - i : BATCH;
        for (size_t j = 0; j < m; j++) {
            if (im_record_decode (d->blobs + (i + j) * RSTRIDE, d->lens[i + j], 0,
                                  &d->recs[j], err, sizeof err)) {
                fprintf (stderr, "decode: %s\n", err);
                im_store_destroy (&store);
                return -1;
            }
            d->items[j].blob = d->blobs + (i + j) * RSTRIDE;
            d->items[j].len = d->lens[i + j];
            d->items[j].rec = &d->recs[j];
        }
        if (im_store_put_batch (store, d->items, m, NULL, err, sizeof err) != (int)m) {
            fprintf (stderr, "put: %s\n", err);
            im_store_destroy (&store);
            return -1;
        }
    }
    t[0] = now_s () - t0;
    if (st)
        im_store_stats (store, st);
    char value[64];
    size_t found = 0;
    t0 = now_s ();
    for (size_t i = 0; i < n; i++) {
        value_of ((i * 7919) % n, value, sizeof value);
        im_store_lookup (store, IM_TYPE_IPV4, value, count_fn, &found);
    }
    t[1] = now_s () - t0;
    im_store_destroy (&store);
    if (found != n) {
        fprintf (stderr, "look-ups found %zu of %zu\n", found, n);
        return -1;
    }
    return 0;
}

/* Raw LMDB: the same number of records of the same size, same batches, one
 * put each keyed by origin|id, then a get of each. T[0] and T[1] get the
 * times. */
static int
raw_round (bench_data_t *d, const char *path, double t[2])
{
    size_t n = d->n;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    mkdir (path, 0700);
    mdb_env_create (&env);
    mdb_env_set_mapsize (env, (size_t)4 << 30);
    if (mdb_env_open (env, path, 0, 0600)) {
        fprintf (stderr, "raw LMDB: cannot open\n");
        mdb_env_close (env);
        return -1;
    }
    mdb_txn_begin (env, NULL, 0, &txn);
    mdb_dbi_open (txn, NULL, 0, &dbi);
    mdb_txn_commit (txn);
    double t0 = now_s ();
    for (size_t i = 0; i < n; i += BATCH) {
        size_t m = n - i < BATCH ? n - i : BATCH;
        mdb_txn_begin (env, NULL, 0, &txn);
        for (size_t j = 0; j < m; j++) {
            uint8_t *b = d->blobs + (i + j) * RSTRIDE;
            MDB_val k = { IM_STORE_KEY_SIZE, b + 4 }, v = { d->lens[i + j], b };
            if (mdb_put (txn, dbi, &k, &v, 0)) {
                fprintf (stderr, "raw LMDB put failed\n");
                mdb_txn_abort (txn);
                mdb_env_close (env);
                return -1;
            }
        }
        if (mdb_txn_commit (txn)) {
            fprintf (stderr, "raw LMDB commit failed\n");
            mdb_env_close (env);
            return -1;
        }
    }
    t[0] = now_s () - t0;
    size_t got = 0;
    t0 = now_s ();
    mdb_txn_begin (env, NULL, MDB_RDONLY, &txn);
    for (size_t i = 0; i < n; i++) {
        uint8_t *b = d->blobs + ((i * 7919) % n) * RSTRIDE;
        MDB_val k = { IM_STORE_KEY_SIZE, b + 4 }, v;
        if (mdb_get (txn, dbi, &k, &v) == 0)
            got++;
    }
    mdb_txn_abort (txn);
    t[1] = now_s () - t0;
    mdb_env_close (env);
    if (got != n) {
        fprintf (stderr, "raw gets found %zu of %zu\n", got, n);
        return -1;
    }
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

    /* 2 to 4, in ROUNDS alternating rounds, each on a fresh store: the
     * store path against raw LMDB, the best time of each (the disk's and the
     * machine's noise hits both alike). */
    bench_data_t d = { n, blobs, lens, recs, items };
    double store_s = 0, lookup_s = 0, raw_put_s = 0, raw_get_s = 0;
    im_store_stats_t st;
    for (int round = 0; round < ROUNDS; round++) {
        double t[2];
        snprintf (store_path, sizeof store_path, "%s/store%d", dir, round);
        snprintf (raw_path, sizeof raw_path, "%s/raw%d", dir, round);
        if (store_round (&d, store_path, pk, t, round == ROUNDS - 1 ? &st : NULL))
            return 1;
        store_s = round == 0 || t[0] < store_s ? t[0] : store_s;
        lookup_s = round == 0 || t[1] < lookup_s ? t[1] : lookup_s;
        if (raw_round (&d, raw_path, t))
            return 1;
        raw_put_s = round == 0 || t[0] < raw_put_s ? t[0] : raw_put_s;
        raw_get_s = round == 0 || t[1] < raw_get_s ? t[1] : raw_get_s;
        if (round < ROUNDS - 1 || !getenv ("BENCH_KEEP")) {
            char sub[80];
            snprintf (sub, sizeof sub, "%s/raw%d", dir, round);
            nftw (sub, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
            if (round < ROUNDS - 1)
                nftw (store_path, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
        }
    }
    /* BENCH_KEEP=1 keeps the last store for `bench_resync dbstat DIR/store N`. */
    if (getenv ("BENCH_KEEP"))
        printf ("  store kept in %s\n", store_path);
    else
        nftw (dir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);

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
