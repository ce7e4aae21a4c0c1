/* SPDX-License-Identifier: MPL-2.0 */
/* test_verify.c -- the pool of verifying workers (node/im_verify.c): bad
 * arguments, then jobs of good, tampered and malformed records checked off
 * the calling thread, counted, jobs of a peer's whole answer cut into parts
 * (shaped to make the cut go wrong), and a pool stopped with jobs still out
 * (nothing left behind: run under --enable-sanitizers to see a leak). */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "im_batch.h"
#include "im_record.h"
#include "im_sight.h"
#include "im_verify.h"
#include "tap.h"

#define NREC 96 /* three batches of 32 */

static uint8_t pk[32], sk[64];
static uint8_t bufs[NREC][IM_RECORD_MAX];
static size_t lens[NREC];

/* NREC records of one origin, sealed 32 to a signature. */
static void
make_records (void)
{
    crypto_sign_keypair (pk, sk);
    for (int i = 0; i < NREC; i++) {
        im_record_t r;
        char err[128];
        im_record_init (&r);
        memcpy (r.origin, pk, sizeof pk);
        randombytes_buf (r.id, sizeof r.id);
        r.type = IM_TYPE_IPV4;
        snprintf (r.value, sizeof r.value, "198.51.100.%d", i);
        r.created = r.modified = 1700000000;
        if (im_record_encode (&r, bufs[i], sizeof bufs[i], &lens[i], err, sizeof err)
            != 0)
            BAIL_OUT ("encode: %s", err);
    }
    for (int b = 0; b < NREC; b += IM_BATCH_MAX) {
        uint8_t *recs[IM_BATCH_MAX];
        char err[128];
        for (int i = 0; i < IM_BATCH_MAX; i++)
            recs[i] = bufs[b + i];
        if (im_record_seal (recs, lens + b, IM_BATCH_MAX, sk, err, sizeof err) != 0)
            BAIL_OUT ("seal: %s", err);
    }
}

/* Waits (bounded: 10 s) for a job back from POOL. */
static im_verify_job_t *
wait_done (im_verify_t *pool)
{
    for (int i = 0; i < 1000; i++) {
        zmq_pollitem_t it = { zsock_resolve (im_verify_sock (pool)), 0, ZMQ_POLLIN, 0 };
        zmq_poll (&it, 1, 10);
        im_verify_job_t *job = im_verify_done (pool);
        if (job)
            return job;
    }
    return NULL;
}

static void
test_bad_args (void)
{
    char err[256] = "";
    im_verify_t *pool = im_verify_new (IM_VERIFY_WORKERS_MAX + 1, err, sizeof err);
    ok (!pool && errno == EINVAL && strstr (err, "at most"),
        "a pool of more workers than the maximum is refused: %s", err);
    im_verify_destroy (NULL);
    im_verify_destroy (&pool);
    ok (pool == NULL, "destroy is NULL-safe");
    ok (im_verify_submit (NULL, NULL) == -1 && errno == EINVAL, "submit refuses no pool");
    pool = im_verify_new (1, err, sizeof err);
    ok (pool && im_verify_workers (pool) == 1, "a pool of one worker starts");
    ok (im_verify_submit (pool, NULL) == -1 && errno == EINVAL, "submit refuses no job");
    im_verify_job_t job = { .items = NULL, .n = 3 };
    ok (im_verify_submit (pool, &job) == -1 && errno == EINVAL,
        "submit refuses a job of 3 items and no array");
    ok (im_verify_done (pool) == NULL, "nothing is done when nothing was handed out");
    im_verify_destroy (&pool);
    pool = im_verify_new (0, err, sizeof err);
    ok (pool && im_verify_workers (pool) >= 1, "a pool of one worker a core starts (%zu)",
        im_verify_workers (pool));
    im_verify_destroy (&pool);
}

/* Two jobs over two workers: 96 good records in three batches, one
 * tampered, one moved to another batch, one cut short. */
static void
test_jobs (void)
{
    char err[256] = "";
    im_verify_t *pool = im_verify_new (2, err, sizeof err);
    if (!pool)
        BAIL_OUT ("pool: %s", err);
    static im_verify_item_t items[NREC + 3];
    static uint8_t tampered[IM_RECORD_MAX], moved[IM_RECORD_MAX];
    for (int i = 0; i < NREC; i++)
        items[i] = (im_verify_item_t){ .record = bufs[i], .len = lens[i], .rc = -1 };
    /* A value changed after sealing: the path leads to another root. */
    memcpy (tampered, bufs[5], lens[5]);
    char *v = memmem (tampered, lens[5], "198.51.100.5", 12);
    if (!v)
        BAIL_OUT ("value not found in the record");
    v[11] = '6';
    items[NREC] = (im_verify_item_t){ .record = tampered, .len = lens[5], .rc = -1 };
    /* A record given the authentication of a record of another batch. */
    memcpy (moved, bufs[1], lens[1]);
    memcpy (moved + lens[1] - IM_BATCH_AUTH, bufs[40] + lens[40] - IM_BATCH_AUTH,
            IM_BATCH_AUTH);
    items[NREC + 1] = (im_verify_item_t){ .record = moved, .len = lens[1], .rc = -1 };
    /* Cut short. */
    items[NREC + 2] = (im_verify_item_t){ .record = bufs[7], .len = 100, .rc = -1 };

    im_verify_job_t a = { .items = items, .n = NREC / 2 };
    im_verify_job_t b = { .items = items + NREC / 2, .n = NREC / 2 + 3 };
    ok (im_verify_submit (pool, &a) == 0 && im_verify_submit (pool, &b) == 0,
        "two jobs are handed out");
    cmp_ok (im_verify_out (pool), "==", 2, "two jobs are out");
    im_verify_job_t *first = wait_done (pool), *second = wait_done (pool);
    ok (first && second && first != second && (first == &a || first == &b)
            && (second == &a || second == &b),
        "both jobs come back, each once");
    cmp_ok (im_verify_out (pool), "==", 0, "no job is out any more");
    int good = 0;
    for (int i = 0; i < NREC; i++)
        good += items[i].rc == 0;
    cmp_ok (good, "==", NREC, "every sealed record verifies");
    ok (items[NREC].rc == EPERM, "a record changed after sealing is refused (EPERM)");
    ok (items[NREC + 1].rc == EPERM,
        "a record moved to another batch's authentication is refused (EPERM)");
    ok (items[NREC + 2].rc == EBADMSG, "a record cut short is malformed (EBADMSG)");
    /* Three batches, each verified once per worker at most. */
    uint64_t verified = a.verified + b.verified, cached = a.cached + b.cached;
    ok (verified >= 3 && verified <= 6,
        "one signature a batch and worker: %llu verified for 3 batches",
        (unsigned long long)verified);
    cmp_ok (verified + cached, ">=", NREC, "every good record was checked (%llu cached)",
            (unsigned long long)cached);
    ok (a.failed == 0 && b.failed == 2,
        "the two records whose signature does not verify are counted as failed, in "
        "their job (%llu, %llu)",
        (unsigned long long)a.failed, (unsigned long long)b.failed);
    im_verify_destroy (&pool);
}

/* Jobs still out when the pool stops stay the caller's: nothing is freed or
 * written after destroy returns. */
static void
test_stop_with_jobs_out (void)
{
    char err[256] = "";
    im_verify_t *pool = im_verify_new (2, err, sizeof err);
    if (!pool)
        BAIL_OUT ("pool: %s", err);
    static im_verify_item_t items[8][NREC];
    static im_verify_job_t jobs[8];
    int handed = 0;
    for (int j = 0; j < 8; j++) {
        for (int i = 0; i < NREC; i++)
            items[j][i]
                = (im_verify_item_t){ .record = bufs[i], .len = lens[i], .rc = -1 };
        jobs[j] = (im_verify_job_t){ .items = items[j], .n = NREC };
        handed += im_verify_submit (pool, &jobs[j]) == 0;
    }
    cmp_ok (handed, "==", 8, "eight jobs are handed out");
    im_verify_destroy (&pool);
    ok (pool == NULL, "the pool stops with jobs out");
    int untouched = 0;
    for (int j = 0; j < 8; j++)
        for (int i = 0; i < NREC; i++)
            untouched += items[j][i].rc != 0 && items[j][i].rc != -1;
    cmp_ok (untouched, "==", 0, "no item holds anything but a verdict or nothing");
}

#define NPART 1000 /* a peer's whole answer */

/* One record of its own signature (a batch of one) for each of NPART
 * values, into SINGLES. */
static uint8_t singles[NPART][IM_RECORD_MAX];
static size_t single_lens[NPART];

static void
make_singles (void)
{
    for (int i = 0; i < NPART; i++) {
        static im_record_t r;
        char err[128];
        im_record_init (&r);
        memcpy (r.origin, pk, sizeof pk);
        randombytes_buf (r.id, sizeof r.id);
        r.type = IM_TYPE_IPV4;
        snprintf (r.value, sizeof r.value, "203.0.%d.%d", i / 256, i % 256);
        r.created = r.modified = 1700000000;
        if (im_record_sign (&r, sk, singles[i], sizeof singles[i], &single_lens[i], err,
                            sizeof err)
            != 0)
            BAIL_OUT ("sign: %s", err);
    }
}

/* A job of NPART items, each a verdict: how many hold RC, and whether every
 * item holds one. */
static int
count_rc (const im_verify_item_t *items, int rc, int *all)
{
    int n = 0;
    *all = 1;
    for (int i = 0; i < NPART; i++) {
        n += items[i].rc == rc;
        *all &= items[i].rc != -1;
    }
    return n;
}

/* Answers of a hostile peer, each of NPART records, over four workers: the
 * parts of a job must cover every item once, whatever the records' ends. */
static void
test_parts (void)
{
    char err[256] = "";
    im_verify_t *pool = im_verify_new (4, err, sizeof err);
    if (!pool)
        BAIL_OUT ("pool: %s", err);
    make_singles ();
    static im_verify_item_t same[NPART], shorts[NPART], distinct[NPART], mixed[NPART];
    static uint8_t bad[IM_RECORD_MAX];
    memcpy (bad, bufs[5], lens[5]);
    bad[lens[5] - 1] ^= 1; /* the batch signature broken */
    for (int i = 0; i < NPART; i++) {
        /* One sealed record a thousand times: every record ends alike. */
        same[i] = (im_verify_item_t){ .record = bufs[3], .len = lens[3], .rc = -1 };
        /* Records shorter than a signature, from none to 63 bytes. */
        shorts[i] = (im_verify_item_t){ .record = bufs[i % NREC],
                                        .len = (size_t)(i % 64),
                                        .rc = -1 };
        distinct[i]
            = (im_verify_item_t){ .record = singles[i], .len = single_lens[i], .rc = -1 };
        /* Runs of one batch's records, a broken signature and short ones. */
        mixed[i]
            = i % 7 == 3   ? (im_verify_item_t){ .record = bad, .len = lens[5], .rc = -1 }
              : i % 7 == 5 ? (im_verify_item_t){ .record = bufs[0], .len = 63, .rc = -1 }
                           : (im_verify_item_t){ .record = bufs[(i / 7) % NREC],
                                                 .len = lens[(i / 7) % NREC],
                                                 .rc = -1 };
    }
    static im_verify_job_t jobs[4];
    im_verify_item_t *sets[4] = { same, shorts, distinct, mixed };
    int handed = 0;
    for (int j = 0; j < 4; j++) {
        jobs[j] = (im_verify_job_t){ .items = sets[j], .n = NPART };
        handed += im_verify_submit (pool, &jobs[j]) == 0;
    }
    cmp_ok (handed, "==", 4, "four answers of %d records are handed out", NPART);
    int back = 0;
    while (back < handed && wait_done (pool))
        back++;
    cmp_ok (back, "==", 4, "each comes back once, when all its parts are done");
    cmp_ok (im_verify_out (pool), "==", 0, "no job is out any more");
    int all;
    int n = count_rc (same, 0, &all);
    ok (n == NPART && all && jobs[0].failed == 0,
        "a thousand records ending alike all verify (%d)", n);
    ok (jobs[0].verified >= 1 && jobs[0].verified <= 4
            && jobs[0].verified + jobs[0].cached == NPART,
        "each checked once: %llu verified, %llu from the cache",
        (unsigned long long)jobs[0].verified, (unsigned long long)jobs[0].cached);
    n = count_rc (shorts, EBADMSG, &all);
    ok (n == NPART && all && jobs[1].failed == 0 && jobs[1].verified == 0,
        "a thousand records shorter than a signature are all malformed (%d)", n);
    n = count_rc (distinct, 0, &all);
    ok (n == NPART && all && jobs[2].verified == NPART && jobs[2].failed == 0,
        "a thousand records of a thousand signatures: each verified once (%llu)",
        (unsigned long long)jobs[2].verified);
    int good = count_rc (mixed, 0, &all), perm = count_rc (mixed, EPERM, &all),
        malformed = count_rc (mixed, EBADMSG, &all);
    ok (all && perm == 143 && malformed == 143 && good == NPART - 286
            && jobs[3].failed == 143,
        "a mixed answer: %d good, %d badly signed (%llu counted), %d malformed", good,
        perm, (unsigned long long)jobs[3].failed, malformed);
    /* Stopped with answers of many parts still out: their parts go with it. */
    for (int j = 0; j < 4; j++) {
        for (int i = 0; i < NPART; i++)
            sets[j][i].rc = -1;
        jobs[j] = (im_verify_job_t){ .items = sets[j], .n = NPART };
        im_verify_submit (pool, &jobs[j]);
    }
    im_verify_destroy (&pool);
    ok (pool == NULL, "the pool stops with answers of many parts out");
}

static void
test_limit (void)
{
    char err[256] = "";
    im_verify_t *pool = im_verify_new (1, err, sizeof err);
    if (!pool)
        BAIL_OUT ("pool: %s", err);
    static im_verify_item_t item;
    static im_verify_job_t jobs[IM_VERIFY_JOBS_MAX + 1];
    item = (im_verify_item_t){ .record = bufs[0], .len = lens[0], .rc = -1 };
    int handed = 0, refused = 0;
    for (int j = 0; j <= IM_VERIFY_JOBS_MAX; j++) {
        jobs[j] = (im_verify_job_t){ .items = &item, .n = 1 };
        if (im_verify_submit (pool, &jobs[j]) == 0)
            handed++;
        else
            refused += errno == EAGAIN;
    }
    ok (handed <= IM_VERIFY_JOBS_MAX && refused >= 1,
        "jobs beyond %d out are refused with EAGAIN (%d handed, %d refused)",
        IM_VERIFY_JOBS_MAX, handed, refused);
    int back = 0;
    while (back < handed && wait_done (pool))
        back++;
    cmp_ok (back, "==", handed, "every job handed out comes back");
    im_verify_destroy (&pool);
}

/* A carrier of record 0 sealed to the key pair RPK/RSK, signed by the
 * origin; a second sealed to someone else; a third holding no record. */
static void
test_carriers (void)
{
    uint8_t rpk[32], rsk[64], opk[32], osk[64], junk[64];
    static uint8_t cbuf[3][IM_RECORD_MAX];
    size_t clen[3];
    crypto_sign_keypair (rpk, rsk);
    crypto_sign_keypair (opk, osk);
    randombytes_buf (junk, sizeof junk);
    const uint8_t *inner[3] = { bufs[0], bufs[0], junk };
    size_t ilen[3] = { lens[0], lens[0], sizeof junk };
    const uint8_t (*to[3])[32] = { (const uint8_t (*)[32])rpk, (const uint8_t (*)[32])opk,
                                   (const uint8_t (*)[32])rpk };
    for (int i = 0; i < 3; i++) {
        static im_record_t c;
        char err[256];
        im_record_init (&c);
        memcpy (c.origin, pk, sizeof pk);
        randombytes_buf (c.id, sizeof c.id);
        c.created = c.modified = 1700000000;
        if (im_carrier_make (&c, inner[i], ilen[i], IM_REACH_UNLIMITED, 0, 1700000000,
                             to[i], 1, err, sizeof err)
            || im_record_sign (&c, sk, cbuf[i], sizeof cbuf[i], &clen[i], err,
                               sizeof err))
            BAIL_OUT ("carrier %d: %s", i, err);
    }
    char err[256] = "";
    im_verify_t *pool = im_verify_new (1, err, sizeof err);
    if (!pool)
        BAIL_OUT ("pool: %s", err);
    static im_verify_item_t items[4];
    for (int i = 0; i < 3; i++)
        items[i] = (im_verify_item_t){ .record = cbuf[i], .len = clen[i], .rc = -1 };
    items[3] = (im_verify_item_t){ .record = bufs[1], .len = lens[1], .rc = -1 };
    static im_verify_job_t job;
    job = (im_verify_job_t){ .items = items, .n = 4, .open = 1 };
    memcpy (job.open_key, rsk, sizeof rsk);
    ok (im_verify_submit (pool, &job) == 0 && wait_done (pool) == &job,
        "a job of three carriers and a record comes back");
    ok (items[0].rc == 0 && items[0].sealed == IM_VERIFY_OPENED && items[0].opened
            && items[0].opened_len == lens[0]
            && memcmp (items[0].opened, bufs[0], lens[0]) == 0,
        "the carrier sealed to the job's key opens to the very record sealed in it");
    ok (items[1].rc == 0 && items[1].sealed == IM_VERIFY_NOT_OURS && !items[1].opened,
        "a carrier sealed to another node is not ours, and nothing is opened");
    ok (items[2].rc == 0 && items[2].sealed == IM_VERIFY_UNREADABLE && !items[2].opened,
        "a carrier holding no record is unreadable");
    ok (items[3].rc == 0 && items[3].sealed == IM_VERIFY_NOT_SEALED,
        "a plain record is no carrier");
    free (items[0].opened);
    items[0] = (im_verify_item_t){ .record = cbuf[0], .len = clen[0], .rc = -1 };
    job = (im_verify_job_t){ .items = items, .n = 1, .open = 0 };
    ok (im_verify_submit (pool, &job) == 0 && wait_done (pool) == &job && items[0].rc == 0
            && items[0].sealed == IM_VERIFY_NOT_SEALED && !items[0].opened,
        "without an open key a carrier is verified, not opened");
    im_verify_destroy (&pool);
}

static const tap_test_t tests[] = { TAP_TEST (test_bad_args),
                                    TAP_TEST (test_jobs),
                                    TAP_TEST (test_stop_with_jobs_out),
                                    TAP_TEST (test_parts),
                                    TAP_TEST (test_limit),
                                    TAP_TEST (test_carriers),
                                    TAP_END };

int
main (int argc, char **argv)
{
    if (sodium_init () < 0)
        BAIL_OUT ("sodium_init");
    zsys_init ();
    zsys_set_logstream (NULL);
    make_records ();
    return tap_main (argc, argv, tests);
}
