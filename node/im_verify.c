/* SPDX-License-Identifier: MPL-2.0 */
/* im_verify.c -- the pool of verifying workers: czmq actors that take parts
 * of jobs from one PUSH socket (round robin) and give them back on another,
 * each with a cache of the batch roots it verified. Only pointers travel: a
 * part's items belong to one thread at a time. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "im_batch.h"
#include "im_sight.h"
#include "im_util.h"
#include "im_verify.h"

typedef struct _split_t split_t;

struct _im_verify_t {
    zactor_t *workers[IM_VERIFY_WORKERS_MAX];
    size_t nworkers;
    zsock_t *jobs; /* PUSH: to the workers */
    zsock_t *done; /* PULL: from them */
    size_t out;
    /* The jobs out, as their parts (the pool's: freed when the job comes
     * back, or when the pool stops with it still out). */
    split_t *splits[IM_VERIFY_JOBS_MAX];
};

typedef struct {
    char jobs[64], done[64];
} endpoints_t;

/* A job is cut into parts of at least PART_MIN items, one a worker, so that
 * one answer keeps every core busy. A part is a run of consecutive items: a
 * batch's records come together, so its root is verified about once. */
#define PART_MIN 128

typedef struct {
    split_t *split;
    size_t from, to;
    uint64_t verified, cached, failed;
} part_t;

struct _split_t {
    im_verify_job_t *job;
    size_t left;
    size_t slot; /* in the pool's splits */
    part_t parts[IM_VERIFY_WORKERS_MAX];
};

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

int
im_verify_one (const im_verify_job_t *job, size_t i, im_batch_cache_t *cache,
               im_record_t *rec)
{
    im_verify_item_t *it = &job->items[i];
    char why[128];
    it->rc
        = im_record_decode_cached (it->record, it->len, cache, rec, why, sizeof why) == 0
              ? 0
              : errno;
    it->sealed = IM_VERIFY_NOT_SEALED;
    it->opened = NULL;
    it->opened_len = 0;
    if (it->rc == 0 && job->open && rec->type == IM_TYPE_SEALED)
        open_carrier (job, it, cache, rec);
    return it->rc == EPERM;
}

/* Decodes and verifies every item of JOB with CACHE. */
static void
work (part_t *part, im_batch_cache_t *cache, im_record_t *rec)
{
    uint64_t verified0, cached0, verified1, cached1;
    im_batch_cache_stats (cache, &verified0, &cached0);
    part->failed = 0;
    for (size_t i = part->from; i < part->to; i++)
        part->failed += (uint64_t)im_verify_one (part->split->job, i, cache, rec);
    im_batch_cache_stats (cache, &verified1, &cached1);
    part->verified = verified1 - verified0;
    part->cached = cached1 - cached0;
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
            part_t *part = NULL;
            if (zsock_recv (jobs, "p", &part) == 0 && part) {
                work (part, cache, rec);
                zsock_send (done, "p", part);
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
        zsock_set_sndhwm (self->jobs, IM_VERIFY_JOBS_MAX * IM_VERIFY_WORKERS_MAX);
        zsock_set_rcvhwm (self->done, IM_VERIFY_JOBS_MAX * IM_VERIFY_WORKERS_MAX);
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
    /* The workers are gone: the parts of the jobs still out are read by no
     * one any more. */
    for (size_t i = 0; i < IM_VERIFY_JOBS_MAX; i++)
        free (self->splits[i]);
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

/* Where a part ends near AT: moved past the records that end with the same
 * bytes as the one before (the same batch signature), so that a batch is not
 * cut in two and its root verified twice. */
static size_t
cut_at (const im_verify_job_t *job, size_t at)
{
    for (int moved = 0; at > 0 && at < job->n && moved < IM_BATCH_MAX; at++, moved++) {
        const im_verify_item_t *a = &job->items[at - 1], *b = &job->items[at];
        if (a->len < IM_BATCH_SIG || b->len < IM_BATCH_SIG
            || memcmp (a->record + a->len - IM_BATCH_SIG,
                       b->record + b->len - IM_BATCH_SIG, IM_BATCH_SIG)
                   != 0)
            break;
    }
    return at;
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
    split_t *split = calloc (1, sizeof *split);
    if (!split) {
        errno = EAGAIN;
        return -1;
    }
    size_t nparts = (job->n + PART_MIN - 1) / PART_MIN;
    nparts = nparts < 1 ? 1 : nparts > self->nworkers ? self->nworkers : nparts;
    split->job = job;
    for (size_t k = 0, from = 0; k < nparts; k++) {
        size_t to = k + 1 == nparts ? job->n : cut_at (job, job->n * (k + 1) / nparts);
        split->parts[k].split = split;
        split->parts[k].from = from;
        split->parts[k].to = from = to > from ? to : from;
    }
    /* The first part decides: unsent, the job is the caller's again; a
     * later one unsent (no worker read for a second) is done here. */
    if (zsock_send (self->jobs, "p", &split->parts[0]) != 0) {
        free (split);
        errno = EAGAIN;
        return -1;
    }
    split->left = 1;
    /* A slot is free: fewer than IM_VERIFY_JOBS_MAX jobs are out. */
    while (split->slot < IM_VERIFY_JOBS_MAX - 1 && self->splits[split->slot])
        split->slot++;
    self->splits[split->slot] = split;
    for (size_t k = 1; k < nparts; k++) {
        split->left++;
        if (zsock_send (self->jobs, "p", &split->parts[k]) != 0) {
            split->left--;
            im_record_t *rec = malloc (sizeof *rec);
            for (size_t i = split->parts[k].from; i < split->parts[k].to; i++)
                if (rec)
                    job->failed += (uint64_t)im_verify_one (job, i, NULL, rec);
                else
                    job->items[i].rc = ENOMEM; /* refused, counted as malformed */
            free (rec);
        }
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
    for (;;) {
        part_t *part = NULL;
        if (zsock_recv (self->done, "p", &part) != 0 || !part)
            return NULL;
        split_t *split = part->split;
        im_verify_job_t *job = split->job;
        job->verified += part->verified;
        job->cached += part->cached;
        job->failed += part->failed;
        if (--split->left == 0) {
            self->splits[split->slot] = NULL;
            free (split);
            self->out--;
            return job;
        }
        if (zmq_poll (&item, 1, 0) != 1)
            return NULL;
    }
}
