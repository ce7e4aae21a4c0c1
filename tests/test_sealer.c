/* SPDX-License-Identifier: MPL-2.0 */
/* test_sealer.c -- the signing thread (node/im_sealer.c): bad arguments,
 * then batches signed off the calling thread that verify, jobs given back
 * in order, a job taken back before the thread starts on it, a record that
 * cannot be signed, a sealer stopped with jobs still out, and a PUBLISH
 * batch (node/im_node_batch.c) that counts only its own jobs back (helper
 * 61's review: one left behind by a batch that gave up waiting was counted
 * as the next batch's, which then freed memory the thread still held). */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "im_batch.h"
#include "im_node_int.h"
#include "im_record.h"
#include "im_sealer.h"
#include "tap.h"

#define NJOBS 40
#define NREC (NJOBS * IM_BATCH_MAX)

static uint8_t pk[32], sk[64];
static uint8_t (*bufs)[IM_RECORD_MAX];
static size_t lens[NREC];
static im_seal_job_t jobs[NJOBS];

/* NREC records of one origin, encoded, not signed; one job a batch. */
static void
make_jobs (void)
{
    if (!bufs)
        bufs = malloc (NREC * sizeof *bufs);
    if (!bufs)
        BAIL_OUT ("out of memory");
    for (int i = 0; i < NREC; i++) {
        im_record_t r;
        char err[128];
        im_record_init (&r);
        memcpy (r.origin, pk, sizeof pk);
        randombytes_buf (r.id, sizeof r.id);
        r.type = IM_TYPE_IPV4;
        snprintf (r.value, sizeof r.value, "198.51.%d.%d", i / 256, i % 256);
        r.created = r.modified = 1700000000;
        if (im_record_encode (&r, bufs[i], sizeof bufs[i], &lens[i], err, sizeof err))
            BAIL_OUT ("encode: %s", err);
    }
    for (int j = 0; j < NJOBS; j++) {
        memset (&jobs[j], 0, sizeof jobs[j]);
        jobs[j].n = IM_BATCH_MAX;
        jobs[j].secret_key = sk;
        for (int i = 0; i < IM_BATCH_MAX; i++) {
            jobs[j].recs[i] = bufs[j * IM_BATCH_MAX + i];
            jobs[j].lens[i] = lens[j * IM_BATCH_MAX + i];
        }
    }
}

/* Records that decode with their signature checked. */
static int
verified (size_t from, size_t to)
{
    im_record_t *r = malloc (sizeof *r);
    size_t good = 0;
    for (size_t i = from; r && i < to; i++) {
        char err[128];
        good += im_record_decode (bufs[i], lens[i], 1, r, err, sizeof err) == 0;
    }
    free (r);
    return good == to - from;
}

static void
test_bad_args (void)
{
    char err[256] = "";
    im_sealer_destroy (NULL);
    im_sealer_t *none = NULL;
    im_sealer_destroy (&none);
    ok (none == NULL, "destroy is NULL-safe");
    ok (im_sealer_submit (NULL, &jobs[0]) == -1 && errno == EINVAL,
        "submit refuses no sealer");
    ok (im_sealer_wait (NULL, 10) == NULL && errno == ENOENT, "wait refuses no sealer");
    ok (im_sealer_out (NULL) == 0, "no sealer has no job out");
    ok (im_sealer_take_back (NULL) == 0, "no job is taken back");
    im_sealer_t *s = im_sealer_new (err, sizeof err);
    ok (s != NULL, "a sealer starts");
    ok (im_sealer_submit (s, NULL) == -1 && errno == EINVAL, "submit refuses no job");
    ok (im_sealer_wait (s, 10) == NULL && errno == ENOENT,
        "wait with no job out says so at once");
    im_sealer_destroy (&s);
    ok (s == NULL, "destroy sets the pointer to NULL");
}

static void
test_signs_in_order (void)
{
    char err[256] = "";
    im_sealer_t *s = im_sealer_new (err, sizeof err);
    int sent = 0;
    for (int j = 0; j < NJOBS; j++)
        sent += im_sealer_submit (s, &jobs[j]) == 0;
    cmp_ok (sent, "==", NJOBS, "%d jobs are handed out", NJOBS);
    cmp_ok ((int)im_sealer_out (s), "==", NJOBS, "and counted as out");
    int in_order = 1, good = 1;
    for (int j = 0; j < NJOBS; j++) {
        im_seal_job_t *job = im_sealer_wait (s, 10000);
        in_order = in_order && job == &jobs[j];
        good = good && job && job->rc == 0;
    }
    ok (in_order, "each comes back, in the order handed out");
    ok (good, "each signed without error");
    ok (verified (0, NREC), "every record verifies with its origin's signature");
    ok (im_sealer_out (s) == 0 && im_sealer_wait (s, 10) == NULL && errno == ENOENT,
        "none is out afterwards");
    im_sealer_destroy (&s);
}

static void
test_take_back (void)
{
    char err[256] = "";
    make_jobs (); /* fresh, unsigned records */
    im_sealer_t *s = im_sealer_new (err, sizeof err);
    for (int j = 0; j < NJOBS; j++)
        im_sealer_submit (s, &jobs[j]);
    /* The last jobs are still queued behind the first: taken back, the
     * caller signs them, and they still come back, untouched. */
    int taken = 0;
    for (int j = NJOBS - 1; j >= 0 && im_sealer_take_back (&jobs[j]); j--) {
        taken++;
        jobs[j].rc = im_record_seal (jobs[j].recs, jobs[j].lens, jobs[j].n, sk,
                                     jobs[j].err, sizeof jobs[j].err);
    }
    diag ("%d of %d jobs taken back before the thread started on them", taken, NJOBS);
    ok (im_sealer_take_back (&jobs[NJOBS - 1]) == 0, "a job is taken back once only");
    int back = 0, good = 1;
    while (im_sealer_out (s)) {
        im_seal_job_t *job = im_sealer_wait (s, 10000);
        if (!job)
            break;
        back++;
        good = good && job->rc == 0;
    }
    cmp_ok (back, "==", NJOBS, "every job comes back, taken back or not");
    ok (good && verified (0, NREC), "and every record verifies, whoever signed it");
    im_sealer_destroy (&s);
}

static void
test_bad_record (void)
{
    char err[256] = "";
    im_sealer_t *s = im_sealer_new (err, sizeof err);
    im_seal_job_t bad = jobs[0];
    uint8_t other_pk[32], other_sk[64];
    crypto_sign_keypair (other_pk, other_sk);
    bad.secret_key = other_sk; /* not the records' origin */
    im_seal_job_t *back
        = im_sealer_submit (s, &bad) == 0 ? im_sealer_wait (s, 10000) : NULL;
    ok (back == &bad && back->rc == -1 && strstr (back->err, "origin"),
        "records of another origin are not signed, with the reason: %s",
        back ? back->err : "(not back)");
    im_seal_job_t short_job = jobs[1];
    short_job.lens[3] = 10;
    back = im_sealer_submit (s, &short_job) == 0 ? im_sealer_wait (s, 10000) : NULL;
    ok (back == &short_job && back->rc == -1 && back->err[0],
        "a truncated record is not signed: %s", back ? back->err : "(not back)");
    im_sealer_destroy (&s);
}

static void
test_stop_with_jobs_out (void)
{
    char err[256] = "";
    make_jobs ();
    im_sealer_t *s = im_sealer_new (err, sizeof err);
    for (int j = 0; j < NJOBS; j++)
        im_sealer_submit (s, &jobs[j]);
    im_sealer_destroy (&s);
    ok (s == NULL, "a sealer with jobs out stops (after the job in hand)");
}

/* Records of PK, encoded into batch B. */
static void
batch_fill (node_batch_t *b, int n, int salt)
{
    im_record_t *r = malloc (sizeof *r);
    char err[256];
    for (int i = 0; r && i < n; i++) {
        im_record_init (r);
        memcpy (r->origin, pk, sizeof pk);
        randombytes_buf (r->id, sizeof r->id);
        r->type = IM_TYPE_IPV4;
        snprintf (r->value, sizeof r->value, "203.0.%d.%d", salt, i);
        r->created = r->modified = 1700000000;
        if (node_batch_add (b, r, err, sizeof err))
            BAIL_OUT ("node_batch_add: %s", err);
    }
    free (r);
}

static void
test_batch_counts_own_jobs (void)
{
    char err[256] = "";
    make_jobs ();
    im_sealer_t *s = im_sealer_new (err, sizeof err);
    im_seal_job_t *stale = &jobs[0];
    im_sealer_submit (s, stale); /* left by a batch that gave up waiting */
    node_batch_t b;
    if (node_batch_init (NULL, &b, 4 * IM_BATCH_MAX))
        BAIL_OUT ("node_batch_init");
    node_batch_sealer (&b, s, sk);
    batch_fill (&b, 4 * IM_BATCH_MAX - 1, 1);
    cmp_ok ((int)b.njobs, "==", 0,
            "a batch of 127 hands nothing to the sealer yet (four 32s go at once)");
    batch_fill (&b, 1, 2);
    cmp_ok ((int)b.njobs, "==", 4, "the 128th record hands its four 32s to the sealer");
    cmp_ok ((int)b.handed, "==", 4, "all four jobs of 32 are handed");
    node_batch_free (NULL, &b);
    ok (im_sealer_out (s) == 0,
        "freed, it took back its own four jobs, and the other batch's was not counted "
        "as one of them");
    im_sealer_destroy (&s);
}

static void
test_stuck (void)
{
    char err[256] = "";
    make_jobs ();
    im_sealer_t *s = im_sealer_new (err, sizeof err);
    /* A wait of 0 ms right after handing 40 jobs out (2 ms of work) times
     * out, unless this thread was held up meanwhile: then again. */
    int timed_out = 0;
    for (int tries = 0; tries < 100 && !timed_out; tries++) {
        for (int j = 0; j < NJOBS; j++)
            im_sealer_submit (s, &jobs[j]);
        timed_out = !im_sealer_wait (s, 0) && errno == ETIMEDOUT;
        while (!timed_out && im_sealer_out (s))
            im_sealer_wait (s, 10000);
    }
    ok (timed_out, "a wait that times out says so");
    ok (im_sealer_stuck (s), "and the sealer is taken as stuck");
    ok (im_sealer_submit (s, &jobs[0]) == -1 && errno == EIO,
        "a stuck sealer takes no more jobs: the caller signs them");
    node_batch_t b;
    if (node_batch_init (NULL, &b, IM_BATCH_MAX))
        BAIL_OUT ("node_batch_init");
    node_batch_sealer (&b, s, sk);
    batch_fill (&b, IM_BATCH_MAX, 2);
    ok (b.njobs == 0, "a batch then hands nothing out");
    node_batch_free (NULL, &b);
    im_sealer_destroy (&s); /* the jobs out are the test's: freed with bufs */
}

/* A node keeps the memory of its last batch for the next (in a mesh, the
 * pages new to the process were over 40% of a node's page faults), and packs a
 * batch's blobs. */
static void
test_batch_spare (void)
{
    node_t node;
    memset (&node, 0, sizeof node);
    node_batch_t b;
    if (node_batch_init (&node, &b, 10))
        BAIL_OUT ("node_batch_init");
    cmp_ok ((int)b.cap, "==", 10, "a batch gets room for the records it asks for");
    batch_fill (&b, 3, 3);
    ok (b.items[1].blob == b.items[0].blob + ((b.items[0].len + 7) & ~(size_t)7)
            && b.items[2].blob == b.items[1].blob + ((b.items[1].len + 7) & ~(size_t)7),
        "a batch's encoded records follow one another");
    im_record_t *recs = b.recs;
    node_batch_free (&node, &b);
    ok (node.batch_spare && node.batch_spare->recs == recs && !b.recs,
        "a freed batch's memory becomes the node's spare");
    if (node_batch_init (&node, &b, 10))
        BAIL_OUT ("node_batch_init");
    ok (b.recs == recs && !node.batch_spare && b.n == 0 && b.used == 0,
        "the next batch takes the spare, empty");
    ok (b.items[0].blob == NULL && b.items[2].len == 0 && b.stored[1] == 0,
        "and its items are cleared");
    node_batch_free (&node, &b);
    node_batch_t big;
    if (node_batch_init (&node, &big, 11))
        BAIL_OUT ("node_batch_init");
    ok (big.recs != recs && node.batch_spare && node.batch_spare->recs == recs,
        "a batch larger than the spare gets new memory, and the spare stays");
    im_record_t *big_recs = big.recs;
    node_batch_free (&node, &big);
    ok (node.batch_spare && node.batch_spare->recs == big_recs
            && node.batch_spare->cap == 11,
        "freed, the larger of the two becomes the spare");
    if (node_batch_init (&node, &b, 4))
        BAIL_OUT ("node_batch_init");
    node_batch_t small;
    if (node_batch_init (&node, &small, 4))
        BAIL_OUT ("node_batch_init");
    node_batch_free (&node, &b);
    node_batch_free (&node, &small);
    ok (node.batch_spare && node.batch_spare->recs == big_recs,
        "two batches at once: the smaller goes back, the larger stays the spare");
    node.batch_spare_at = zclock_mono () - NODE_BATCH_SPARE_MS + 1000;
    node_batch_tick (&node);
    ok (node.batch_spare != NULL, "the spare is kept while it was used lately");
    node.batch_spare_at = zclock_mono () - NODE_BATCH_SPARE_MS;
    node_batch_tick (&node);
    ok (node.batch_spare == NULL, "and freed once unused for NODE_BATCH_SPARE_MS");
    node_batch_spare_free (&node);
    ok (node.batch_spare == NULL, "freeing no spare does nothing");

    /* No more records than its room. */
    char err[256] = "";
    if (node_batch_init (NULL, &b, 0))
        BAIL_OUT ("node_batch_init");
    b.n = b.cap; /* as if full (each record is written whole when added) */
    im_record_t *r = calloc (1, sizeof *r);
    im_record_init (r);
    memset (r->origin, 1, IM_NODE_ID_SIZE);
    r->type = IM_TYPE_IPV4;
    snprintf (r->value, sizeof r->value, "203.0.113.1");
    r->created = r->modified = 1700000000;
    errno = 0;
    ok (node_batch_add (&b, r, err, sizeof err) == -1 && errno == ENOSPC && err[0],
        "a full batch refuses one more record: %s", err);
    b.n = 0;
    node_batch_free (NULL, &b);
    free (r);
}

int
main (void)
{
    if (sodium_init () < 0)
        BAIL_OUT ("sodium_init failed");
    crypto_sign_keypair (pk, sk);
    make_jobs ();
    test_bad_args ();
    test_signs_in_order ();
    test_take_back ();
    test_bad_record ();
    test_stop_with_jobs_out ();
    test_batch_counts_own_jobs ();
    test_stuck ();
    test_batch_spare ();
    free (bufs);
    done_testing ();
}
