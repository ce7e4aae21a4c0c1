/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_exercise_state.c -- what this node knows of joint exercises
 * (SPEC.md, "Exercises"): which it hosts or joined and when they ended,
 * kept in exercises.json; the mesh's check that injects come only for an
 * exercise joined here; the acknowledgement of each inject stored; and the
 * purge of an ended exercise once its retention has passed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>

#include "im_dir.h"
#include "im_node_int.h"
#include "im_sight.h"
#include "im_time.h"

#define EXERCISES_FILE "exercises.json"

/* The exercise item of REC into NAME (IM_EXERCISE_NAME_MAX + 1). 0 or -1. */
int
node_exercise_of (const im_record_t *rec, char name[IM_EXERCISE_NAME_MAX + 1])
{
    size_t at = 0, n;
    int k;
    const uint8_t *d;
    while (im_ext_next (rec, &at, &k, &d, &n))
        if (k == IM_EXT_EXERCISE && n <= IM_EXERCISE_NAME_MAX) {
            memcpy (name, d, n);
            name[n] = 0;
            return 0;
        }
    if (rec->type == IM_TYPE_EXERCISE && strlen (rec->value) <= IM_EXERCISE_NAME_MAX) {
        strcpy (name, rec->value);
        return 0;
    }
    return -1;
}

void
node_exercise_load (node_t *self)
{
    char path[4200];
    json_error_t e;
    json_decref (self->exercises);
    self->exercises = NULL;
    if (im_dir_path (self->dir, EXERCISES_FILE, path, sizeof path) == 0)
        self->exercises = json_load_file (path, 0, &e);
    if (self->exercises && !json_is_array (self->exercises)) {
        zsys_warning ("exercises: %s is not a list: starting from none", path);
        json_decref (self->exercises);
        self->exercises = NULL;
    }
    if (!self->exercises)
        self->exercises = json_array ();
}

int
node_exercise_save (node_t *self)
{
    char path[4200], tmp[4300];
    if (im_dir_path (self->dir, EXERCISES_FILE, path, sizeof path))
        return -1;
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    char *text = fd >= 0 ? json_dumps (self->exercises, JSON_COMPACT) : NULL;
    size_t len = text ? strlen (text) : 0;
    int rc = text && write (fd, text, len) == (ssize_t)len && write (fd, "\n", 1) == 1
                     && fsync (fd) == 0
                 ? 0
                 : -1;
    if (fd >= 0 && close (fd) && rc == 0)
        rc = -1;
    if (rc == 0 && rename (tmp, path))
        rc = -1;
    if (rc) {
        zsys_error ("exercises: cannot write %s: %s", path, strerror (errno));
        unlink (tmp);
    }
    free (text);
    return rc;
}

/* Makes room in a full table for one entry: drops the first of an exercise
 * never joined here (an offer: what it loses is the purge of a record or
 * two), else the one purged longest ago, never one joined and not purged.
 * Returns 0, or -1 when every entry is of that kind. A peer that offers
 * many exercises thus never keeps this node from joining another's. */
static int
exercise_evict (node_t *self)
{
    json_t *e;
    size_t i, at = SIZE_MAX;
    json_int_t oldest = 0;
    json_array_foreach (self->exercises, i, e)
    {
        json_int_t purged = json_integer_value (json_object_get (e, "purged"));
        if (json_integer_value (json_object_get (e, "joined")) == 0) {
            at = i;
            break;
        }
        if (purged && (at == SIZE_MAX || purged < oldest)) {
            at = i;
            oldest = purged;
        }
    }
    if (at == SIZE_MAX)
        return -1;
    e = json_array_get (self->exercises, at);
    /* A line a minute: a peer's records may offer many. */
    int64_t now = zclock_mono ();
    if (!self->evict_logged_at || now - self->evict_logged_at >= 60000) {
        zsys_info ("exercises: more than %d known: %s of %.12s... forgotten (and %llu "
                   "more since the last such line)",
                   NODE_EXERCISES_MAX, json_string_value (json_object_get (e, "name")),
                   json_string_value (json_object_get (e, "host")),
                   (unsigned long long)self->evicted_unlogged);
        self->evict_logged_at = now;
        self->evicted_unlogged = 0;
    }
    else
        self->evicted_unlogged++;
    return json_array_remove (self->exercises, at);
}

json_t *
node_exercise_entry (node_t *self, const uint8_t host[IM_NODE_ID_SIZE], const char *name,
                     int create)
{
    char hex[IM_NODE_HEX_SIZE];
    im_node_format (host, hex);
    json_t *e;
    size_t i;
    json_array_foreach (self->exercises, i, e)
    {
        if (strcmp (json_string_value (json_object_get (e, "host")), hex) == 0
            && strcmp (json_string_value (json_object_get (e, "name")), name) == 0)
            return e;
    }
    if (!create
        || (json_array_size (self->exercises) >= NODE_EXERCISES_MAX
            && exercise_evict (self)))
        return NULL;
    e = json_pack ("{s:s, s:s, s:I, s:I, s:I}", "host", hex, "name", name, "joined",
                   (json_int_t)0, "ended", (json_int_t)0, "purged", (json_int_t)0);
    if (e && json_array_append_new (self->exercises, e))
        return NULL;
    return e;
}

static json_int_t
entry_time (const json_t *e, const char *key)
{
    return json_integer_value (json_object_get (e, key));
}

/* The mesh's check of a record that is no indicator (im_mesh_accept_fn). */
static int
exercise_accept (const im_record_t *rec, void *arg, char *why, size_t whysz)
{
    node_t *self = arg;
    char name[IM_EXERCISE_NAME_MAX + 1];
    uint8_t host[IM_NODE_ID_SIZE], id[IM_ID_SIZE];
    if ((rec->type != IM_TYPE_EXERCISE && rec->type != IM_TYPE_INJECT
         && rec->type != IM_TYPE_ACK)
        || node_exercise_of (rec, name))
        return 0;
    if (rec->type == IM_TYPE_ACK && im_sighting_parse (rec->value, host, id))
        return 0;
    const json_t *e = node_exercise_entry (
        self, rec->type == IM_TYPE_ACK ? host : rec->origin, name, 0);
    if (e && entry_time (e, "purged")) {
        snprintf (why, whysz, "exercise %s ended and was purged here", name);
        return -1;
    }
    /* Its revocation too: a node that never joined holds nothing of it. */
    if (rec->type == IM_TYPE_INJECT && (!e || !entry_time (e, "joined"))) {
        snprintf (why, whysz,
                  "an inject of exercise %s, which this node has not joined "
                  "(intelmesh exercise join %s)",
                  name, name);
        return -1;
    }
    return 0;
}

void
node_exercise_start (node_t *self)
{
    node_exercise_load (self);
    if (self->mesh)
        im_mesh_set_accept_fn (self->mesh, exercise_accept, self);
}

/* Whether the peer that is HOST joins its exercises by itself. */
static int
auto_join (node_t *self, const uint8_t *host)
{
    for (size_t i = 0; i < self->config.npeers; i++)
        if (memcmp (self->config.peers[i].card.node, host, IM_NODE_ID_SIZE) == 0)
            return self->config.peers[i].in.join_exercises;
    return 0;
}

void
node_exercise_stored (node_t *self, const im_record_t *rec)
{
    char name[IM_EXERCISE_NAME_MAX + 1];
    if (node_exercise_of (rec, name))
        return;
    if (rec->type == IM_TYPE_EXERCISE) {
        json_t *e = node_exercise_entry (self, rec->origin, name, 1);
        if (!e)
            return;
        int64_t now = im_time_now ();
        if (rec->op == IM_OP_PUT && !entry_time (e, "joined")
            && auto_join (self, rec->origin)) {
            json_object_set_new (e, "joined", json_integer (now));
            zsys_info ("exercise %s: joined (its host's peer setting join-exercises)",
                       name);
        }
        if (rec->op == IM_OP_REVOKE && !entry_time (e, "ended"))
            json_object_set_new (e, "ended", json_integer (now));
        self->exercises_dirty = 1; /* saved once for the batch, at the tick */
        return;
    }
    if (rec->type == IM_TYPE_INJECT && rec->op == IM_OP_PUT
        && self->nto_ack < NODE_ACK_QUEUE_MAX) {
        memcpy (self->to_ack[self->nto_ack], rec->origin, IM_NODE_ID_SIZE);
        memcpy (self->to_ack[self->nto_ack] + IM_NODE_ID_SIZE, rec->id, IM_ID_SIZE);
        self->nto_ack++;
    }
}

void
node_exercise_id (const char *name, uint8_t id[IM_ID_SIZE])
{
    char text[16 + IM_EXERCISE_NAME_MAX + 1];
    snprintf (text, sizeof text, "exercise %s", name);
    im_id_from_name (text, strlen (text), id);
}

int
node_ack_next (node_t *self, const im_record_t *ind, int action, const char *note,
               im_record_t *ack, char *err, size_t errsz)
{
    char name[IM_EXERCISE_NAME_MAX + 1], value[IM_SIGHTING_VALUE_SIZE];
    uint8_t id[IM_ID_SIZE], data[8 + 9 * IM_ACK_ACTIONS_MAX];
    size_t dlen = 8;
    if (node_exercise_of (ind, name))
        return im_fail (EINVAL, err, errsz, "not an inject of an exercise");
    im_sighting_value (ind->origin, ind->id, value);
    char idname[8 + IM_SIGHTING_VALUE_SIZE];
    snprintf (idname, sizeof idname, "ack %s", value);
    im_id_from_name (idname, strlen (idname), id);
    int64_t now = im_time_now ();
    int held = im_store_get (self->store, im_identity_node (self->identity), id, ack) == 0
               && ack->op == IM_OP_PUT;
    const uint8_t *d = NULL;
    size_t at = 0, n = 0;
    int k;
    while (held && im_ext_next (ack, &at, &k, &d, &n) && k != IM_EXT_ACK)
        ;
    if (held && d && k == IM_EXT_ACK && n >= 8 && n <= sizeof data) {
        if (action == 0)
            return 1; /* acknowledged before */
        memcpy (data, d, n);
        dlen = n;
    }
    else
        im_put_be64 (data, now);
    if (action) {
        if (dlen + 9 > sizeof data)
            return im_fail (ENOSPC, err, errsz,
                            "this inject has its %d actions recorded already",
                            IM_ACK_ACTIONS_MAX);
        data[dlen] = (uint8_t)action;
        im_put_be64 (data + dlen + 1, now);
        dlen += 9;
    }
    uint64_t version = held ? ack->version : 0;
    int64_t created = held ? ack->created : now;
    char desc[IM_DESC_MAX + 1];
    snprintf (desc, sizeof desc, "%s", note ? note : held ? ack->description : "");
    im_record_init (ack);
    memcpy (ack->origin, im_identity_node (self->identity), IM_NODE_ID_SIZE);
    memcpy (ack->id, id, IM_ID_SIZE);
    ack->version = version + 1;
    ack->type = IM_TYPE_ACK;
    strcpy (ack->value, value);
    ack->tlp = IM_TLP_RED;
    ack->reach = IM_REACH_UNLIMITED;
    ack->no_detect = 1;
    if (memcmp (ind->origin, ack->origin, IM_NODE_ID_SIZE)) {
        memcpy (ack->recipients[0], ind->origin, IM_NODE_ID_SIZE);
        ack->nrecipients = 1;
    }
    ack->created = created;
    ack->modified = now;
    snprintf (ack->description, sizeof ack->description, "%s", desc);
    if (im_record_add_ext (ack, IM_EXT_EXERCISE, name, strlen (name), err, errsz)
        || im_record_add_ext (ack, IM_EXT_ACK, data, dlen, err, errsz))
        return -1;
    return im_record_check (ack, err, errsz);
}

/* Acknowledges the injects stored since the last turn (SPEC.md,
 * "Exercises": each participant acknowledges each inject when stored). */
static void
ack_queued (node_t *self)
{
    size_t n = self->nto_ack, k = 0;
    im_record_t *recs = n ? calloc (n, sizeof *recs) : NULL;
    im_record_t *ind = n ? malloc (sizeof *ind) : NULL;
    char err[512];
    for (size_t i = 0; recs && ind && i < n; i++) {
        if (im_store_get (self->store, self->to_ack[i], self->to_ack[i] + IM_NODE_ID_SIZE,
                          ind)
                != 0
            || ind->op != IM_OP_PUT)
            continue;
        int r = node_ack_next (self, ind, 0, NULL, &recs[k], err, sizeof err);
        if (r < 0)
            zsys_warning ("exercise: cannot acknowledge an inject: %s", err);
        k += r == 0;
    }
    if (k && node_store_own (self, recs, k, err, sizeof err) == 0)
        self->acked += k;
    else if (k)
        zsys_error ("exercise: acknowledgements not stored: %s", err);
    self->nto_ack = 0;
    free (recs);
    free (ind);
}

typedef struct {
    const char *name;
    char host[IM_NODE_HEX_SIZE];
    uint8_t (*keys)[IM_STORE_KEY_SIZE];
    size_t n, max;
} purge_walk_t;

static int
purge_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob, (void)len;
    purge_walk_t *w = arg;
    char name[IM_EXERCISE_NAME_MAX + 1];
    if (node_exercise_of (rec, name) || strcmp (name, w->name)
        || (rec->type == IM_TYPE_ACK && strncmp (rec->value, w->host, 64)))
        return 0;
    if (w->n == w->max) {
        size_t max = w->max ? 2 * w->max : 256;
        void *more
            = max <= NODE_PURGE_MAX ? realloc (w->keys, max * sizeof *w->keys) : NULL;
        if (!more)
            return 1;
        w->keys = more;
        w->max = max;
    }
    memcpy (w->keys[w->n], rec->origin, IM_NODE_ID_SIZE);
    memcpy (w->keys[w->n] + IM_NODE_ID_SIZE, rec->id, IM_ID_SIZE);
    w->n++;
    return 0;
}

/* Every record of TYPE (of ORIGIN: NULL any) passed to purge_fn. */
static void
purge_walk (node_t *self, int type, const uint8_t *origin, purge_walk_t *w)
{
    uint8_t after[IM_STORE_KEY_SIZE], next[IM_STORE_KEY_SIZE];
    int first = 1, n;
    do {
        n = im_store_list (self->store, type, origin, first ? NULL : after, 1000,
                           purge_fn, w, next);
        memcpy (after, next, sizeof after);
        first = 0;
    } while (n == 1000);
}

/* Takes every record of the ended exercise E out of the store. */
static void
purge (node_t *self, json_t *e)
{
    const char *name = json_string_value (json_object_get (e, "name"));
    purge_walk_t w = { name, "", NULL, 0, 0 };
    uint8_t host[IM_NODE_ID_SIZE], id[IM_ID_SIZE];
    snprintf (w.host, sizeof w.host, "%s",
              json_string_value (json_object_get (e, "host")));
    if (im_node_parse (w.host, host))
        return;
    node_exercise_id (name, id);
    im_record_t *ex = malloc (sizeof *ex);
    if (ex && im_store_get (self->store, host, id, ex) == 0)
        purge_fn (ex, NULL, 0, &w);
    free (ex);
    purge_walk (self, IM_TYPE_INJECT, host, &w);
    purge_walk (self, IM_TYPE_ACK, NULL, &w);
    char err[512];
    int n = im_store_purge (self->store, (const uint8_t (*)[IM_STORE_KEY_SIZE])w.keys,
                            w.n, err, sizeof err);
    if (n < 0)
        zsys_error ("exercise %s: purge failed (tried again later): %s", name, err);
    else {
        zsys_info ("exercise %s: its retention passed: %d record(s) purged", name, n);
        json_object_set_new (e, "purged", json_integer (im_time_now ()));
        node_exercise_save (self);
    }
    free (w.keys);
}

void
node_exercise_tick (node_t *self)
{
    if (self->nto_ack)
        ack_queued (self);
    if (self->exercises_dirty) {
        self->exercises_dirty = 0;
        node_exercise_save (self);
    }
    int64_t now = im_time_now ();
    if (now < self->exercise_check_at || !self->store)
        return;
    self->exercise_check_at = now + 1;
    json_t *e;
    size_t i;
    json_array_foreach (self->exercises, i, e)
    {
        json_int_t ended = entry_time (e, "ended");
        if (ended && !entry_time (e, "purged")
            && now >= ended + self->config.exercise_retention)
            purge (self, e);
    }
}
