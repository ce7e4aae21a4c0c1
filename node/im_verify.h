/* SPDX-License-Identifier: MPL-2.0 */
/* im_verify.h -- a pool of worker threads that decode records and check
 * their origins' signatures off the node's main thread, so that the node
 * keeps answering while a peer's records are verified (proto/SPEC.md,
 * "What a receiver checks"). */
#ifndef IM_VERIFY_H
#define IM_VERIFY_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "im_batch.h"
#include "im_record.h"

#define IM_VERIFY_WORKERS_MAX 16
#define IM_VERIFY_JOBS_MAX 64 /* jobs out at once, over every worker */

/* One record to check: RECORD and LEN in, RC out: 0 when it decodes and its
 * origin's signature verifies, else the errno of im_record_decode_cached
 * (EBADMSG, EPERM). The caller decodes it again without verifying (a
 * decoded record is kilobytes; its bytes do not change meanwhile). */
typedef struct {
    const uint8_t *record;
    size_t len;
    int rc;
    /* A carrier (type sealed) of a job with an open key: SEALED comes back
     * IM_VERIFY_OPENED with OPENED (OPENED_LEN bytes, malloc'd: the caller
     * frees it) the record it held, decoded and verified; IM_VERIFY_NOT_OURS
     * when no slot opens with the key; IM_VERIFY_UNREADABLE when it opened
     * to something that is no valid record (or to another carrier). */
    int sealed;
    uint8_t *opened;
    size_t opened_len;
} im_verify_item_t;

enum {
    IM_VERIFY_NOT_SEALED = 0,
    IM_VERIFY_OPENED,
    IM_VERIFY_NOT_OURS,
    IM_VERIFY_UNREADABLE
};

/* A job: N items (the caller's, untouched by it until the job is back).
 * VERIFIED, CACHED and FAILED come back as the signatures verified, the
 * records checked against a root verified before, and the records whose
 * signature did not verify, by this job. */
typedef struct {
    im_verify_item_t *items;
    size_t n;
    uint64_t verified, cached, failed;
    int open;             /* 1: carriers are opened with OPEN_KEY */
    uint8_t open_key[64]; /* this node's Ed25519 secret key */
    void *arg;            /* the caller's */
} im_verify_job_t;

typedef struct _im_verify_t im_verify_t;

/* Starts WORKERS threads (0: one for each core online, at most
 * IM_VERIFY_WORKERS_MAX), each with its own cache of verified roots.
 * Returns NULL with errno EINVAL (more than the maximum) or ENOMEM, and a
 * reason in ERR. */
im_verify_t *im_verify_new (size_t workers, char *err, size_t errsz);

/* Stops the workers (each finishes the job in hand); jobs not taken back
 * with im_verify_done stay the caller's. NULL-safe; keeps errno. */
void im_verify_destroy (im_verify_t **self_p);

size_t im_verify_workers (const im_verify_t *self);

/* Jobs handed out and not yet taken back. */
size_t im_verify_out (const im_verify_t *self);

/* Hands JOB to a worker. Returns 0, or -1 with errno EINVAL (no job, no
 * items with N > 0) or EAGAIN (IM_VERIFY_JOBS_MAX jobs are out). */
int im_verify_submit (im_verify_t *self, im_verify_job_t *job);

/* The socket that is readable when a job is done: to poll. */
zsock_t *im_verify_sock (im_verify_t *self);

/* Takes back one finished job, or NULL when none is finished. */
im_verify_job_t *im_verify_done (im_verify_t *self);

/* What a worker does for item I of JOB, done by the caller (when no worker
 * takes the job) with its CACHE and a scratch record REC. Returns 1 when the
 * record's signature did not verify (the caller counts it in FAILED), else
 * 0. */
int im_verify_one (const im_verify_job_t *job, size_t i, im_batch_cache_t *cache,
                   im_record_t *rec);

#endif
