/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_batch.c -- the batches PUBLISH and REVOKE make: records encoded,
 * signed IM_BATCH_MAX to a signature, stored in one transaction and put on
 * the feed; and the results an item gets when it is refused. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <czmq.h>
#include <jansson.h>
#include <sodium.h>

#include "im_node_int.h"

#define NODE_GROUP_JOB UINT32_MAX /* node_batch_t.group: the record is in a job */

/* A group of records being filled for one signature: records that every
 * policy treats alike (seal_class). */
struct node_seal_group {
    uint64_t class;
    uint32_t number; /* the group's, in node_batch_t.group */
    uint32_t n;
    uint32_t member[IM_BATCH_MAX];
};

/* Room for MAX records: the node's spare when it has that room, else new
 * memory for MAX (one indicator must not need 36 MiB of address space,
 * where it is limited). */
int
node_batch_init (node_t *self, node_batch_t *b, size_t max)
{
    memset (b, 0, sizeof *b);
    node_batch_t *spare = self ? self->batch_spare : NULL;
    if (spare && spare->cap >= max) {
        *b = *spare;
        free (spare);
        self->batch_spare = NULL;
        memset (b->items, 0, max * sizeof *b->items);
        memset (b->stored, 0, max * sizeof *b->stored);
        return 0;
    }
    size_t cap = max ? max : 1;
    b->cap = cap;
    /* Not zeroed: each record is written whole by the decoder (28 KiB each,
     * zeroing them was 8% of a bulk publish). On pages of their own: a
     * short record is written in one. */
    b->recs = im_record_array (cap);
    b->blobs = malloc (cap * (IM_RECORD_MAX + 8)); /* each rounded up to 8 */
    b->items = calloc (cap, sizeof *b->items);
    b->stored = calloc (cap, sizeof *b->stored);
    b->jobs = malloc ((cap / IM_BATCH_MAX + 1) * sizeof *b->jobs);
    b->group = malloc (cap * sizeof *b->group);
    b->open = malloc (cap * sizeof *b->open); /* a group a record at most */
    return b->recs && b->blobs && b->items && b->stored && b->jobs && b->group && b->open
               ? 0
               : -1;
}

void
node_batch_sealer (node_batch_t *b, im_sealer_t *sealer, const uint8_t *secret_key)
{
    b->sealer = sealer;
    b->secret_key = secret_key;
}

/* How long a batch waits for the sealer to give a job back: a job is one
 * signature and IM_BATCH_MAX hashes, well under a millisecond. */
#define SEAL_WAIT_MS 30000
/* Records of a batch's array made present at a time, ahead of the one added. */
#define READY_AHEAD 64

/* Takes back every job handed out; the jobs the sealer has not started on
 * are taken back first, and signed here when SIGN (else dropped). Returns 0,
 * or -1 when the sealer did not give them back (then the batch's memory is
 * kept: it may still write it). */
static int
seal_drain (node_batch_t *b, int sign)
{
    size_t handed = b->handed;
    for (size_t k = handed; k > handed - b->njobs; k--) {
        im_seal_job_t *job = &b->jobs[k - 1];
        if (!im_sealer_take_back (job))
            break; /* the thread has it, and every job before it */
        job->rc = sign ? im_record_seal (job->recs, job->lens, job->n, job->secret_key,
                                         job->err, sizeof job->err)
                       : 0;
    }
    while (b->njobs && im_sealer_out (b->sealer)) {
        im_seal_job_t *job = im_sealer_wait (b->sealer, SEAL_WAIT_MS);
        if (!job) {
            b->lost = 1;
            return -1;
        }
        if (job < b->jobs || job >= b->jobs + handed)
            continue; /* a batch's that gave up waiting for it, and kept it */
        if (job->rc && !b->seal_failed) {
            b->seal_failed = 1;
            snprintf (b->seal_err, sizeof b->seal_err, "%s", job->err);
        }
        b->njobs--;
    }
    return 0;
}

static void
batch_mem_free (node_batch_t *b)
{
    free (b->recs);
    free (b->blobs);
    free (b->items);
    free (b->stored);
    free (b->jobs);
    free (b->group);
    free (b->open);
}

void
node_batch_free (node_t *self, node_batch_t *b)
{
    if (b->lost || seal_drain (b, 0)) {
        zsys_error ("the signing thread did not answer in %d s: a batch's memory is "
                    "kept, and this node's thread signs every record from now on",
                    SEAL_WAIT_MS / 1000);
        return;
    }
    /* The larger of the two is kept, so that the spare grows to the
     * largest batch of the last NODE_BATCH_SPARE_MS. */
    if (self && self->batch_spare && self->batch_spare->cap < b->cap)
        node_batch_spare_free (self);
    node_batch_t *spare = NULL;
    if (self && !self->batch_spare && b->recs && b->blobs && b->items && b->stored
        && b->jobs && b->group && b->open && (spare = malloc (sizeof *spare))) {
        node_batch_t kept = { .cap = b->cap,
                              .recs = b->recs,
                              .recs_ready = b->recs_ready,
                              .blobs = b->blobs,
                              .items = b->items,
                              .stored = b->stored,
                              .jobs = b->jobs,
                              .group = b->group,
                              .open = b->open };
        *spare = kept;
        self->batch_spare = spare;
        self->batch_spare_at = zclock_mono ();
    }
    else
        batch_mem_free (b);
    memset (b, 0, sizeof *b);
}

void
node_batch_tick (node_t *self)
{
    if (self->batch_spare && zclock_mono () - self->batch_spare_at >= NODE_BATCH_SPARE_MS)
        node_batch_spare_free (self);
}

void
node_batch_spare_free (node_t *self)
{
    if (self->batch_spare) {
        batch_mem_free (self->batch_spare);
        free (self->batch_spare);
        self->batch_spare = NULL;
    }
}

/* Jobs handed to the sealer at once: one job at a time woke its thread (an
 * eventfd write and a context switch) ten times a request. */
#define SEAL_AHEAD_JOBS 4

/* Hands the jobs made since the last hand-over to the sealer; those it does
 * not take are signed with the rest when the batch is stored. */
static void
seal_ahead (node_batch_t *b)
{
    while (b->handed < b->made) {
        if (im_sealer_submit (b->sealer, &b->jobs[b->handed]) != 0)
            return;
        b->njobs++;
        b->handed++;
    }
}

/* What the sharing rules look at in a record (lib/im_policy.c: its
 * operation, type, label, confidence, reach, tags and recipients, whether it
 * has expired; and its detection flag), hashed: records of one class go to
 * the same nodes, so a node that gets one of a batch gets the others too, and
 * learns nothing of records it may not have, not even how many a batch held
 * (SPEC "Batches"). Not when it expires, which imports often set a second
 * apart for each record. A revocation goes to the peers that were sent an
 * earlier version, which no field tells: each is a class of its own, signed
 * alone (review 103). */
static uint64_t
seal_class (const im_record_t *r, int64_t now)
{
    const uint8_t fixed[9] = { r->op,
                               r->type,
                               r->tlp,
                               r->confidence,
                               r->reach,
                               r->no_detect,
                               (uint8_t)r->ntags,
                               (uint8_t)r->nrecipients,
                               r->valid_until && r->valid_until <= now };
    crypto_generichash_state st;
    crypto_generichash_init (&st, NULL, 0, 8);
    crypto_generichash_update (&st, fixed, sizeof fixed);
    for (size_t i = 0; i < r->ntags && i < IM_TAGS_MAX; i++)
        crypto_generichash_update (&st, (const uint8_t *)r->tags[i],
                                   strlen (r->tags[i]) + 1);
    for (size_t i = 0; i < r->nrecipients && i < IM_RECIPIENTS_MAX; i++)
        crypto_generichash_update (&st, r->recipients[i], IM_NODE_ID_SIZE);
    if (r->op == IM_OP_REVOKE)
        crypto_generichash_update (&st, r->id, IM_ID_SIZE);
    uint8_t h[8];
    crypto_generichash_final (&st, h, sizeof h);
    uint64_t class = 0;
    for (int i = 0; i < 8; i++)
        class = (class << 8) | h[i];
    return class;
}

/* Adds record I to the group of its class, opened when none is (as many
 * open as there are classes: a limit would make how one class is signed tell
 * of the others, review 103); a group that fills becomes a job. A look over
 * the open groups a record: at most 1,000 records a request. */
static void
seal_group_add (node_batch_t *b, size_t i)
{
    uint64_t class = seal_class (&b->recs[i], (int64_t)time (NULL));
    size_t g = 0;
    while (g < b->nopen && b->open[g].class != class)
        g++;
    if (g == b->nopen) {
        b->nopen++;
        b->open[g].class = class;
        b->open[g].number = b->ngroups++;
        b->open[g].n = 0;
    }
    struct node_seal_group *o = &b->open[g];
    o->member[o->n++] = (uint32_t)i;
    b->group[i] = o->number;
    if (o->n < IM_BATCH_MAX)
        return;
    im_seal_job_t *job = &b->jobs[b->made++];
    job->n = IM_BATCH_MAX;
    for (size_t k = 0; k < IM_BATCH_MAX; k++) {
        size_t m = o->member[k];
        job->recs[k] = (uint8_t *)b->items[m].blob;
        job->lens[k] = b->items[m].len;
        b->group[m] = NODE_GROUP_JOB;
    }
    job->secret_key = b->secret_key;
    memmove (o, o + 1, (size_t)(b->open + --b->nopen - o) * sizeof *o);
    if (b->sealer && b->made - b->handed >= SEAL_AHEAD_JOBS)
        seal_ahead (b);
}

/* Encodes REC into the batch.
 * The records are signed when the batch is stored (batch_seal). */
int
node_batch_add (node_batch_t *b, const im_record_t *rec, char *err, size_t errsz)
{
    size_t i = b->n;
    size_t len;
    /* Written after the last: I records took at most I * (IM_RECORD_MAX +
     * 8), so there is room for one more of the largest. Packed, the blobs of a
     * batch share pages (a page each was 40% of its page faults). */
    uint8_t *blob = b->blobs + b->used;
    if (i >= b->cap) {
        snprintf (err, errsz, "batch: no room for another record (%zu taken)", b->cap);
        errno = ENOSPC;
        return -1;
    }
    if (im_record_encode (rec, blob, IM_RECORD_MAX, &len, err, errsz))
        return -1;
    b->used += (len + 7) & ~(size_t)7;
    /* Keep the record as it is encoded (tags and recipients in canonical
     * order), so that the feed shows what every other reader sees: only
     * what is used of it is copied (a whole record is 28 KiB). */
    if (i >= b->recs_ready) /* made present a few at a time: see im_record_array_ready */
        im_record_array_ready (b->recs, &b->recs_ready,
                               b->cap - i < READY_AHEAD ? b->cap : i + READY_AHEAD);
    im_record_copy (&b->recs[i], rec);
    b->items[i].blob = blob;
    b->items[i].len = len;
    b->items[i].rec = &b->recs[i];
    b->n++;
    seal_group_add (b, i);
    return 0;
}

/* Signs the records of groups that did not fill, each group's in the order
 * added. Returns 0, or -1 with the reason in ERR. */
static int
seal_partial (node_t *self, node_batch_t *b, const uint8_t *key, char *err, size_t errsz)
{
    size_t ng = b->ngroups;
    size_t *start = calloc (2 * (ng + 1), sizeof *start);
    uint32_t *order = malloc ((b->n ? b->n : 1) * sizeof *order);
    if (!start || !order) {
        free (start), free (order);
        snprintf (err, errsz, "out of memory");
        return -1;
    }
    size_t *fill = start + ng + 1;
    for (size_t i = 0; i < b->n; i++)
        if (b->group[i] != NODE_GROUP_JOB)
            start[b->group[i] + 1]++;
    for (size_t g = 0; g < ng; g++) {
        start[g + 1] += start[g];
        fill[g] = start[g];
    }
    for (size_t i = 0; i < b->n; i++)
        if (b->group[i] != NODE_GROUP_JOB)
            order[fill[b->group[i]]++] = (uint32_t)i;
    int rc = 0;
    for (size_t g = 0; rc == 0 && g < ng; g++) {
        size_t n = start[g + 1] - start[g];
        uint8_t *recs[IM_BATCH_MAX];
        size_t lens[IM_BATCH_MAX];
        for (size_t k = 0; k < n && k < IM_BATCH_MAX; k++) {
            recs[k] = (uint8_t *)b->items[order[start[g] + k]].blob;
            lens[k] = b->items[order[start[g] + k]].len;
        }
        if (n > IM_BATCH_MAX) {
            snprintf (err, errsz, "batch: a group of %zu records", n);
            rc = -1;
        }
        else if (n && (rc = im_record_seal (recs, lens, n, key, err, errsz)) == 0)
            self->sealed++;
    }
    free (start);
    free (order);
    return rc;
}

/* Signs the batch's records, IM_BATCH_MAX of a class to a signature
 * (SPEC.md, "Batches"): the groups the sealer did not take, once it has given
 * back what it took. */
static int
batch_seal (node_t *self, node_batch_t *b, char *err, size_t errsz)
{
    const uint8_t *key = im_identity_sign_secret (self->identity);
    for (size_t k = b->handed; k < b->made; k++) {
        im_seal_job_t *job = &b->jobs[k];
        if (im_record_seal (job->recs, job->lens, job->n, key, err, errsz))
            return -1;
        self->sealed++;
    }
    if (seal_partial (self, b, key, err, errsz))
        return -1;
    size_t out = b->njobs;
    if (seal_drain (b, 1)) {
        snprintf (err, errsz, "the signing thread did not answer in %d s",
                  SEAL_WAIT_MS / 1000);
        return -1;
    }
    if (b->seal_failed) {
        snprintf (err, errsz, "%s", b->seal_err);
        return -1;
    }
    self->sealed += out;
    return 0;
}

/* Stores the batch; on failure every pending result becomes an error. */
int
node_batch_commit (node_t *self, node_batch_t *b, char *err, size_t errsz)
{
    return node_batch_commit_with (self, b, NULL, err, errsz);
}

int
node_batch_commit_with (node_t *self, node_batch_t *b, node_batch_t *more, char *err,
                        size_t errsz)
{
    size_t n = b->n + (more ? more->n : 0);
    if (n == 0)
        return 0;
    if (batch_seal (self, b, err, errsz)
        || (more && batch_seal (self, more, err, errsz))) {
        self->store_failed = 1;
        zsys_error ("%s", err);
        return -1;
    }
    im_store_item_t *items = b->items;
    int *stored = b->stored;
    if (n > b->n) { /* both in one transaction */
        items = malloc (n * sizeof *items);
        stored = calloc (n, sizeof *stored);
        if (items && stored) {
            memcpy (items, b->items, b->n * sizeof *items);
            memcpy (items + b->n, more->items, more->n * sizeof *items);
        }
    }
    int rc
        = items && stored ? node_store_sealed (self, items, n, stored, err, errsz) : -1;
    if (!items || !stored)
        snprintf (err, errsz, "out of memory");
    else if (rc < 0) {
        self->store_failed = 1;
        zsys_error ("%s", err);
    }
    for (size_t i = 0; rc >= 0 && i < n; i++)
        if (stored[i] != IM_STORE_STALE) {
            node_pub_record (self, items[i].rec);
            if (items[i].rec->op == IM_OP_REVOKE)
                self->revoked++;
            else
                self->published++;
        }
    if (n > b->n) {
        free (items);
        free (stored);
    }
    if (rc < 0)
        return -1;
    im_mesh_changed (self->mesh);
    return 0;
}

/* The array KEY of a PUBLISH or REVOKE body: 1 to IM_CONTROL_BATCH_MAX
 * entries. */
json_t *
node_batch_array (json_t *body, const char *key, char *err, size_t errsz)
{
    json_t *array = json_object_get (body, key);
    if (!json_is_array (array) || json_array_size (array) == 0
        || json_array_size (array) > IM_CONTROL_BATCH_MAX) {
        snprintf (err, errsz, "'%s' must be an array of 1 to %d entries", key,
                  IM_CONTROL_BATCH_MAX);
        return NULL;
    }
    return array;
}

/* Stores the batch and makes the reply from RESULTS (taken over), or returns
 * NULL when either failed. Frees the batch. */
json_t *
node_batch_finish (node_t *self, node_batch_t *b, json_t *results, char *err,
                   size_t errsz)
{
    if (results && node_batch_commit (self, b, err, errsz)) {
        json_decref (results);
        results = NULL;
    }
    node_batch_free (self, b);
    return results ? json_pack ("{s:o}", "results", results) : NULL;
}

json_t *
node_error_result (node_t *self, const char *why)
{
    self->refused++;
    return json_pack ("{s:s}", "error", why);
}

/* A refused item: the one-line reason, and a short REASON an importer counts
 * by ("bad value", "on warninglist RFC 1918"). */
json_t *
node_refused_result (node_t *self, const char *why, const char *reason)
{
    self->refused++;
    return json_pack ("{s:s, s:s}", "error", why, "reason", reason);
}

/* The reason class of a record's check failure: "bad FIELD", from its
 * "FIELD: ..." message. */
json_t *
node_invalid_result (node_t *self, const char *why)
{
    char reason[64];
    size_t n = strcspn (why, ":");
    snprintf (reason, sizeof reason, "bad %.*s", (int)(n < 40 ? n : 40), why);
    return node_refused_result (self, why, reason);
}
