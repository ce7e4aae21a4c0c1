/* SPDX-License-Identifier: MPL-2.0 */
/* im_verify.c -- the pool of verifying workers: czmq actors that take jobs
 * from one PUSH socket (round robin) and give them back on another, each
 * with a cache of the batch roots it verified. Only pointers travel: a job
 * belongs to one thread at a time. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "im_batch.h"
#include "im_sight.h"
#include "im_util.h"
#include "im_verify.h"

struct _im_verify_t {
    zactor_t *workers[IM_VERIFY_WORKERS_MAX];
    size_t nworkers;
    zsock_t *jobs; /* PUSH: to the workers */
    zsock_t *done; /* PULL: from them */
    size_t out;
};

typedef struct {
    char jobs[64], done[64];
} endpoints_t;

/* Opens the carrier REC of IT (SPEC.md, "Carrying sealed envelopes") with
 * the job's key: what it holds must be a valid record, signed by its
 * origin, and no carrier. */
static void
open_carrier (const im_verify_job_t *job, im_verify_item_t *it, im_batch_cache_t *cache,
              im_record_t *rec)
{
    const uint8_t *env;
    size_t elen, plen = 0;
    char why[128];
    uint8_t *payload = malloc (IM_SEAL_PAYLOAD_MAX);
    it->sealed = IM_VERIFY_UNREADABLE;
    if (!payload || im_carrier_envelope (rec, &env, &elen)) {
        free (payload);
        return;
    }
    if (im_seal_open (env, elen, job->open_key, payload, IM_SEAL_PAYLOAD_MAX, &plen, why,
                      sizeof why)) {
        if (errno == ENOENT)
            it->sealed = IM_VERIFY_NOT_OURS;
        free (payload);
        return;
    }
    if (im_record_decode_cached (payload, plen, cache, rec, why, sizeof why) == 0
        && rec->type != IM_TYPE_SEALED) {
        it->sealed = IM_VERIFY_OPENED;
        it->opened = payload;
        it->opened_len = plen;
        return;
    }
    free (payload);
}

void
im_verify_one (im_verify_job_t *job, size_t i, im_batch_cache_t *cache, im_record_t *rec)
{
    im_verify_item_t *it = &job->items[i];
    char why[128];
    it->rc
        = im_record_decode_cached (it->record, it->len, cache, rec, why, sizeof why) == 0
              ? 0
              : errno;
    job->failed += it->rc == EPERM;
    it->sealed = IM_VERIFY_NOT_SEALED;
    it->opened = NULL;
    it->opened_len = 0;
    if (it->rc == 0 && job->open && rec->type == IM_TYPE_SEALED)
        open_carrier (job, it, cache, rec);
}

/* Decodes and verifies every item of JOB with CACHE. */
static void
work (im_verify_job_t *job, im_batch_cache_t *cache, im_record_t *rec)
{
    uint64_t verified0, cached0, verified1, cached1;
    im_batch_cache_stats (cache, &verified0, &cached0);
    job->failed = 0;
    for (size_t i = 0; i < job->n; i++)
        im_verify_one (job, i, cache, rec);
    im_batch_cache_stats (cache, &verified1, &cached1);
    job->verified = verified1 - verified0;
    job->cached = cached1 - cached0;
}

/* A worker: signals ready, then does the jobs that come until $TERM. */
static void
worker_actor (zsock_t *pipe, void *args)
{
    const endpoints_t *ep = args;
    /* Named, so that top -H and /proc/PID/task show where the work goes. */
    pthread_setname_np (pthread_self (), "im-verify");
    zsock_t *jobs = zsock_new (ZMQ_PULL);
    zsock_t *done = zsock_new (ZMQ_PUSH);
    if (jobs && zsock_connect (jobs, "%s", ep->jobs) != 0)
        zsock_destroy (&jobs);
    if (done && zsock_connect (done, "%s", ep->done) != 0)
        zsock_destroy (&done);
    im_batch_cache_t *cache = im_batch_cache_new (IM_BATCH_CACHE_DEFAULT);
    im_record_t *rec = malloc (sizeof *rec); /* scratch: its fields are not kept */
    zpoller_t *poller
        = jobs && done && cache && rec ? zpoller_new (pipe, jobs, NULL) : NULL;
    zsock_signal (pipe, poller ? 0 : 1);
    while (poller) {
        zsock_t *which = zpoller_wait (poller, -1);
        if (which == jobs) {
            im_verify_job_t *job = NULL;
            if (zsock_recv (jobs, "p", &job) == 0 && job) {
                work (job, cache, rec);
                zsock_send (done, "p", job);
            }
            continue;
        }
        if (!which && zpoller_terminated (poller))
            break;
        if (which != pipe)
            continue;
        char *command = zstr_recv (pipe);
        int term = !command || streq (command, "$TERM");
        zstr_free (&command);
        if (term)
            break;
    }
    zpoller_destroy (&poller);
    free (rec);
    im_batch_cache_destroy (&cache);
    zsock_destroy (&done);
    zsock_destroy (&jobs);
}

static size_t
cores (void)
{
    long n = sysconf (_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > IM_VERIFY_WORKERS_MAX ? IM_VERIFY_WORKERS_MAX : (size_t)n;
}

im_verify_t *
im_verify_new (size_t workers, char *err, size_t errsz)
{
    if (workers > IM_VERIFY_WORKERS_MAX) {
        im_fail (EINVAL, err, errsz, "at most %d verifying workers",
                 IM_VERIFY_WORKERS_MAX);
        return NULL;
    }
    im_verify_t *self = calloc (1, sizeof *self);
    if (!self) {
        im_fail (ENOMEM, err, errsz, "out of memory");
        return NULL;
    }
    endpoints_t ep;
    snprintf (ep.jobs, sizeof ep.jobs, "inproc://im-verify-jobs-%p", (void *)self);
    snprintf (ep.done, sizeof ep.done, "inproc://im-verify-done-%p", (void *)self);
    self->jobs = zsock_new (ZMQ_PUSH);
    self->done = zsock_new (ZMQ_PULL);
    if (self->jobs && self->done) {
        /* A send never blocks for long: every worker is connected before
         * the pool is returned, and at most IM_VERIFY_JOBS_MAX are out. */
        zsock_set_sndtimeo (self->jobs, 1000);
        zsock_set_sndhwm (self->jobs, IM_VERIFY_JOBS_MAX * 2);
        zsock_set_rcvhwm (self->done, IM_VERIFY_JOBS_MAX * 2);
    }
    if (!self->jobs || !self->done || zsock_bind (self->jobs, "%s", ep.jobs) != 0
        || zsock_bind (self->done, "%s", ep.done) != 0) {
        im_fail (ENOMEM, err, errsz, "cannot make the verifying workers' sockets");
        im_verify_destroy (&self);
        return NULL;
    }
    size_t want = workers ? workers : cores ();
    for (; self->nworkers < want; self->nworkers++) {
        /* zactor_new returns once the worker has signalled: its sockets are
         * connected, so EP may go. */
        self->workers[self->nworkers] = zactor_new (worker_actor, &ep);
        if (!self->workers[self->nworkers])
            break;
    }
    if (self->nworkers < want) {
        im_fail (ENOMEM, err, errsz, "cannot start the verifying workers");
        im_verify_destroy (&self);
        return NULL;
    }
    return self;
}

void
im_verify_destroy (im_verify_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    int saved = errno;
    im_verify_t *self = *self_p;
    for (size_t i = 0; i < self->nworkers; i++)
        zactor_destroy (&self->workers[i]);
    zsock_destroy (&self->jobs);
    zsock_destroy (&self->done);
    free (self);
    *self_p = NULL;
    errno = saved;
}

size_t
im_verify_workers (const im_verify_t *self)
{
    return self ? self->nworkers : 0;
}

size_t
im_verify_out (const im_verify_t *self)
{
    return self ? self->out : 0;
}

int
im_verify_submit (im_verify_t *self, im_verify_job_t *job)
{
    if (!self || !job || (job->n && !job->items)) {
        errno = EINVAL;
        return -1;
    }
    if (self->out >= IM_VERIFY_JOBS_MAX) {
        errno = EAGAIN;
        return -1;
    }
    job->verified = job->cached = job->failed = 0;
    if (zsock_send (self->jobs, "p", job) != 0) {
        errno = EAGAIN;
        return -1;
    }
    self->out++;
    return 0;
}

zsock_t *
im_verify_sock (im_verify_t *self)
{
    return self ? self->done : NULL;
}

im_verify_job_t *
im_verify_done (im_verify_t *self)
{
    if (!self || self->out == 0)
        return NULL;
    zmq_pollitem_t item = { zsock_resolve (self->done), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, 0) != 1)
        return NULL;
    im_verify_job_t *job = NULL;
    if (zsock_recv (self->done, "p", &job) != 0 || !job)
        return NULL;
    self->out--;
    return job;
}
