/* SPDX-License-Identifier: MPL-2.0 */
/* im_sealer.c -- the signing thread: a czmq actor that takes pointers to
 * seal jobs on its pipe, signs each batch (im_record_seal) and sends the
 * pointer back, in order. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <czmq.h>

#include "im_record.h"
#include "im_sealer.h"
#include "im_util.h"

struct _im_sealer_t {
    zactor_t *actor;
    size_t out; /* jobs handed out, not yet given back */
    int stuck;  /* a wait timed out: no more jobs */
};

/* A job's pointer is one frame of its size; anything else on the pipe is a
 * command ($TERM). */
static void
sealer_actor (zsock_t *pipe, void *args)
{
    (void)args;
    pthread_setname_np (pthread_self (), "im-seal");
    void *handle = zsock_resolve (pipe);
    zsock_signal (pipe, 0);
    for (;;) {
        char frame[16];
        int n = zmq_recv (handle, frame, sizeof frame, 0);
        if (n == (int)sizeof (im_seal_job_t *) && !zsock_rcvmore (pipe)) {
            im_seal_job_t *job;
            memcpy (&job, frame, sizeof job);
            int queued = IM_SEAL_QUEUED;
            if (atomic_compare_exchange_strong (&job->state, &queued, IM_SEAL_THREAD)) {
                job->err[0] = 0;
                job->rc = im_record_seal (job->recs, job->lens, job->n, job->secret_key,
                                          job->err, sizeof job->err);
                /* What it wrote is seen by whoever reads the state after it
                 * (im_sealer_wait). */
                atomic_store_explicit (&job->state, IM_SEAL_DONE, memory_order_release);
            }
            /* The node's side takes each back: never more than it sent. */
            zmq_send (handle, &job, sizeof job, 0);
            continue;
        }
        if (n == -1 && zmq_errno () == ETERM)
            break;
        while (n != -1 && zsock_rcvmore (pipe))
            n = zmq_recv (handle, frame, sizeof frame, 0);
        if (n == 5 && memcmp (frame, "$TERM", 5) == 0)
            break;
    }
}

im_sealer_t *
im_sealer_new (char *err, size_t errsz)
{
    im_sealer_t *self = calloc (1, sizeof *self);
    if (self)
        self->actor = zactor_new (sealer_actor, NULL);
    if (!self || !self->actor) {
        free (self);
        im_fail (ENOMEM, err, errsz, "cannot start the signing thread");
        return NULL;
    }
    return self;
}

void
im_sealer_destroy (im_sealer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    int saved = errno;
    im_sealer_t *self = *self_p;
    zactor_destroy (&self->actor);
    free (self);
    *self_p = NULL;
    errno = saved;
}

int
im_sealer_submit (im_sealer_t *self, im_seal_job_t *job)
{
    if (!self || !job) {
        errno = EINVAL;
        return -1;
    }
    if (self->stuck) {
        errno = EIO;
        return -1;
    }
    atomic_store (&job->state, IM_SEAL_QUEUED);
    if (zmq_send (zsock_resolve (self->actor), &job, sizeof job, ZMQ_DONTWAIT) == -1) {
        errno = EAGAIN;
        return -1;
    }
    self->out++;
    return 0;
}

int
im_sealer_take_back (im_seal_job_t *job)
{
    int queued = IM_SEAL_QUEUED;
    return job && atomic_compare_exchange_strong (&job->state, &queued, IM_SEAL_CALLER);
}

int
im_sealer_stuck (const im_sealer_t *self)
{
    return self ? self->stuck : 0;
}

size_t
im_sealer_out (const im_sealer_t *self)
{
    return self ? self->out : 0;
}

im_seal_job_t *
im_sealer_wait (im_sealer_t *self, int timeout_ms)
{
    if (!self || self->out == 0) {
        errno = ENOENT;
        return NULL;
    }
    void *handle = zsock_resolve (self->actor);
    zmq_pollitem_t item = { handle, 0, ZMQ_POLLIN, 0 };
    int64_t deadline = zclock_mono () + timeout_ms;
    im_seal_job_t *job = NULL;
    for (;;) {
        int64_t left = deadline - zclock_mono ();
        int rc = zmq_poll (&item, 1, left > 0 ? (long)left : 0);
        if (rc == 1
            && zmq_recv (handle, &job, sizeof job, ZMQ_DONTWAIT) == (int)sizeof job)
            break;
        if ((rc == -1 && zmq_errno () != EINTR) || left <= 0) {
            self->stuck = 1;
            errno = ETIMEDOUT;
            return NULL;
        }
    }
    (void)atomic_load_explicit (&job->state, memory_order_acquire);
    self->out--;
    return job;
}
