/* SPDX-License-Identifier: MPL-2.0 */
/* im_sealer.h -- a thread that signs this node's records IM_BATCH_MAX at a
 * time while the node's thread goes on checking the items after them
 * (proto/SPEC.md, "Batches"): signing was a quarter of the node's thread in
 * a bulk publish. */
#ifndef IM_SEALER_H
#define IM_SEALER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "im_batch.h"

/* One batch to sign: N encoded records (im_record_seal's RECS and LENS),
 * signed with SECRET_KEY. RC comes back 0, or -1 with the reason in ERR. The
 * job, its records and the key are the sealer's from im_sealer_submit until
 * im_sealer_wait gives the job back, unless im_sealer_take_back took it
 * before the thread started on it. */
typedef struct {
    uint8_t *recs[IM_BATCH_MAX];
    size_t lens[IM_BATCH_MAX];
    size_t n;
    const uint8_t *secret_key;
    int rc;
    char err[256];
    atomic_int state; /* IM_SEAL_QUEUED, _THREAD (signing), _CALLER or _DONE */
} im_seal_job_t;

enum { IM_SEAL_QUEUED = 0, IM_SEAL_THREAD, IM_SEAL_CALLER, IM_SEAL_DONE };

typedef struct _im_sealer_t im_sealer_t;

/* Starts the thread. Returns NULL with errno ENOMEM and a reason in ERR. */
im_sealer_t *im_sealer_new (char *err, size_t errsz);

/* Stops the thread after the job in hand. NULL-safe; keeps errno. Jobs not
 * waited for must not be freed before this returns. */
void im_sealer_destroy (im_sealer_t **self_p);

/* Hands JOB to the thread. Returns 0, or -1 with errno EINVAL (no sealer or
 * job), EAGAIN (not taken: the caller signs it itself) or EIO (the thread
 * once failed to give a job back in time: it is used no more, and the caller
 * signs everything itself from then on). */
int im_sealer_submit (im_sealer_t *self, im_seal_job_t *job);

/* Takes JOB, handed out, back from the thread if it has not started on it:
 * then the caller signs it (or drops it), and im_sealer_wait still gives it
 * back, untouched. Returns 1 when taken back, else 0. So that the caller,
 * when it needs the signatures, does not wait for jobs queued behind the one
 * in hand. */
int im_sealer_take_back (im_seal_job_t *job);

/* Jobs handed out and not yet given back. */
size_t im_sealer_out (const im_sealer_t *self);

/* Gives back the oldest job handed out (jobs are done in order), waiting at
 * most TIMEOUT_MS for it. Returns NULL with errno ENOENT (none out) or
 * ETIMEDOUT: then the jobs out stay the sealer's (their memory must be
 * kept), and the sealer takes no more (im_sealer_stuck). A job given back
 * may be one of a caller that gave up waiting: callers check it is theirs. */
im_seal_job_t *im_sealer_wait (im_sealer_t *self, int timeout_ms);

/* Whether a wait timed out: the sealer takes no more jobs. */
int im_sealer_stuck (const im_sealer_t *self);

#endif
