/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_exercise.c -- the EXERCISE control command (SPEC.md, "Exercises"):
 * a host makes an exercise for its participants, sends injects and ends it;
 * a participant joins it and records what it did; both list and show them;
 * the host reads back the state its scoreboard and report are made of. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "im_node_int.h"
#include "im_report.h"
#include "im_sight.h"
#include "im_time.h"

#define EXERCISE_INJECTS_MAX 10000 /* injects of one exercise read back */
#define EXERCISE_START_SLACK 300   /* seconds a start may lie in the past */

/* The exercise NAME held here (HOST given, or the one hosted by any node
 * when only one is) into EX. Returns 0 or -1 with the reason. */
typedef struct {
    const uint8_t *host;
    im_record_t *ex;
    int found;
} find_ex_t;

static int
find_ex_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob, (void)len;
    find_ex_t *f = arg;
    if (f->host && memcmp (rec->origin, f->host, IM_NODE_ID_SIZE))
        return 0;
    if (f->found++ == 0)
        memcpy (f->ex, rec, sizeof *rec);
    return 0;
}

static int
find_exercise (node_t *self, json_t *body, im_record_t *ex, char *err, size_t errsz)
{
    const char *name = json_string_value (json_object_get (body, "name"));
    const char *host_text = json_string_value (json_object_get (body, "host"));
    uint8_t host[IM_NODE_ID_SIZE];
    if (!name || im_exercise_name_check (name, strlen (name), err, errsz))
        return -1;
    if (host_text && im_node_parse (host_text, host))
        return im_fail (EINVAL, err, errsz, "host: not a node id (64 hex digits)");
    find_ex_t f = { host_text ? host : NULL, ex, 0 };
    im_store_lookup (self->store, IM_TYPE_EXERCISE, name, find_ex_fn, &f);
    if (f.found == 0) {
        /* Ended here: its tombstone. */
        uint8_t id[IM_ID_SIZE];
        node_exercise_id (name, id);
        const uint8_t *h = host_text ? host : im_identity_node (self->identity);
        if (im_store_get (self->store, h, id, ex) == 0)
            return 0;
        return im_fail (ENOENT, err, errsz,
                        "no exercise %s is held here (its host sends it to its "
                        "participants)",
                        name);
    }
    if (f.found > 1)
        return im_fail (EEXIST, err, errsz,
                        "%d hosts hold an exercise named %s here: say which (--host)",
                        f.found, name);
    return 0;
}

static int
window_of (const im_record_t *ex, int64_t *start, int64_t *end)
{
    size_t at = 0, n;
    int k;
    const uint8_t *d;
    while (im_ext_next (ex, &at, &k, &d, &n))
        if (k == IM_EXT_WINDOW && n == 16) {
            *start = im_get_be64 (d);
            *end = im_get_be64 (d + 8);
            return 0;
        }
    return -1;
}

/* create: {"name", "start", "end", "participants": [NODE-ID...],
 * "description"}. */
static json_t *
ex_create (node_t *self, json_t *body, char *err, size_t errsz)
{
    const char *name = json_string_value (json_object_get (body, "name"));
    const char *desc = json_string_value (json_object_get (body, "description"));
    json_t *parts = json_object_get (body, "participants");
    int64_t now = im_time_now (), start = 0, end = 0;
    const uint8_t *me = im_identity_node (self->identity);
    if (!name || im_exercise_name_check (name, strlen (name), err, errsz))
        return NULL;
    const char *st = json_string_value (json_object_get (body, "start"));
    const char *en = json_string_value (json_object_get (body, "end"));
    if (!st || im_time_parse (st, now, &start) || !en || im_time_parse (en, now, &end)
        || end <= start) {
        im_fail (EINVAL, err, errsz,
                 "start and end must be times (RFC 3339 or +30m), the end after the "
                 "start");
        return NULL;
    }
    if (start < now - EXERCISE_START_SLACK || end <= now) {
        im_fail (EINVAL, err, errsz,
                 "%s is in the past: an exercise starts from now on (+0s: now) and "
                 "ends later",
                 end <= now ? "the end" : "the start");
        return NULL;
    }
    if (!json_is_array (parts) || json_array_size (parts) < 1
        || json_array_size (parts) > IM_RECIPIENTS_MAX) {
        im_fail (EINVAL, err, errsz, "participants: 1 to %d node ids", IM_RECIPIENTS_MAX);
        return NULL;
    }
    im_record_t *ex = calloc (1, sizeof *ex);
    if (!ex) {
        im_fail (ENOMEM, err, errsz, "out of memory");
        return NULL;
    }
    uint8_t id[IM_ID_SIZE], window[16];
    node_exercise_id (name, id);
    int held = im_store_get (self->store, me, id, ex) == 0;
    int live = held && ex->op == IM_OP_PUT;
    const json_t *old = node_exercise_entry (self, me, name, 0);
    if (live || json_integer_value (json_object_get (old, "ended"))) {
        /* Once ended, its participants refuse anything of it: never again. */
        free (ex);
        im_fail (EEXIST, err, errsz,
                 live ? "exercise %s exists: choose another name"
                      : "exercise %s was held here and ended: choose another name",
                 name);
        return NULL;
    }
    uint64_t version = held ? ex->version : 0;
    im_record_init (ex);
    memcpy (ex->origin, me, IM_NODE_ID_SIZE);
    memcpy (ex->id, id, IM_ID_SIZE);
    ex->version = version + 1;
    ex->type = IM_TYPE_EXERCISE;
    snprintf (ex->value, sizeof ex->value, "%s", name);
    ex->tlp = IM_TLP_AMBER;
    ex->reach = IM_REACH_UNLIMITED;
    ex->no_detect = 1;
    ex->created = ex->modified = now;
    snprintf (ex->description, sizeof ex->description, "%s", desc ? desc : "");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size (parts); i++) {
        const char *p = json_string_value (json_array_get (parts, i));
        if (!p || im_node_parse (p, ex->recipients[ex->nrecipients])
            || memcmp (ex->recipients[ex->nrecipients], me, IM_NODE_ID_SIZE) == 0)
            rc = im_fail (EINVAL, err, errsz,
                          "participants: '%.64s' is not another node's id", p ? p : "");
        ex->nrecipients++;
    }
    im_put_be64 (window, start);
    im_put_be64 (window + 8, end);
    if (rc == 0)
        rc = im_record_add_ext (ex, IM_EXT_WINDOW, window, sizeof window, err, errsz);
    if (rc == 0)
        rc = im_record_check (ex, err, errsz);
    json_t *e = rc == 0 ? node_exercise_entry (self, me, name, 1) : NULL;
    if (rc == 0 && !e)
        rc = im_fail (ENOSPC, err, errsz, "more than %d exercises known here",
                      NODE_EXERCISES_MAX);
    if (rc == 0)
        rc = node_store_own (self, ex, 1, err, errsz);
    json_t *reply = NULL;
    if (rc == 0) {
        json_object_set_new (e, "joined", json_integer (now));
        json_object_set_new (e, "ended", json_integer (0));
        json_object_set_new (e, "purged", json_integer (0));
        node_exercise_save (self);
        char idt[IM_ID_STR_SIZE];
        im_id_format (id, idt);
        reply = json_pack ("{s:s, s:s, s:I}", "name", name, "id", idt, "participants",
                           (json_int_t)ex->nrecipients);
    }
    free (ex);
    return reply;
}

/* The name of node ID as this node knows it (itself or a peer), else NULL. */
static const char *
name_of (node_t *self, const uint8_t *id)
{
    return node_origin_name (self, id);
}

/* EX (an exercise record held here) as JSON, with this node's state of it. */
static json_t *
ex_json (node_t *self, const im_record_t *ex)
{
    char name[IM_EXERCISE_NAME_MAX + 1], host[IM_NODE_HEX_SIZE], a[IM_TIME_STR_SIZE],
        b[IM_TIME_STR_SIZE];
    int64_t start = 0, end = 0, now = im_time_now ();
    if (node_exercise_of (ex, name))
        return NULL;
    window_of (ex, &start, &end);
    im_node_format (ex->origin, host);
    const json_t *e = node_exercise_entry (self, ex->origin, name, 0);
    json_int_t joined = json_integer_value (json_object_get (e, "joined"));
    json_int_t ended = json_integer_value (json_object_get (e, "ended"));
    int own
        = memcmp (ex->origin, im_identity_node (self->identity), IM_NODE_ID_SIZE) == 0;
    json_t *parts = json_array ();
    for (size_t i = 0; parts && i < ex->nrecipients; i++) {
        char hex[IM_NODE_HEX_SIZE];
        im_node_format (ex->recipients[i], hex);
        json_array_append_new (parts, json_pack ("{s:s, s:s?}", "node", hex, "name",
                                                 name_of (self, ex->recipients[i])));
    }
    const char *status = ex->op != IM_OP_PUT || ended ? "ended"
                         : now < start                ? "scheduled"
                         : now < end                  ? "running"
                                                      : "over";
    return json_pack ("{s:s, s:s, s:s?, s:s, s:b, s:s, s:s, s:s, s:o, s:s, s:s}", "name",
                      name, "host", host, "host_name", name_of (self, ex->origin), "role",
                      own ? "host" : "participant", "joined", own || joined != 0,
                      "status", status, "start", im_time_format (start, a), "end",
                      im_time_format (end, b), "participants",
                      parts ? parts : json_array (), "description",
                      ex->op == IM_OP_PUT ? ex->description : "", "label", "EXERCISE");
}

static json_t *
ex_join (node_t *self, json_t *body, char *err, size_t errsz)
{
    im_record_t *ex = malloc (sizeof *ex);
    json_t *reply = NULL;
    char name[IM_EXERCISE_NAME_MAX + 1];
    if (ex && find_exercise (self, body, ex, err, errsz) == 0) {
        json_t *e = node_exercise_of (ex, name) == 0
                        ? node_exercise_entry (self, ex->origin, name, 1)
                        : NULL;
        if (ex->op != IM_OP_PUT || json_integer_value (json_object_get (e, "ended")))
            im_fail (EINVAL, err, errsz, "exercise %s has ended", name);
        else if (!e)
            im_fail (ENOSPC, err, errsz, "more than %d exercises known here",
                     NODE_EXERCISES_MAX);
        else {
            int before = json_integer_value (json_object_get (e, "joined")) != 0;
            if (!before)
                json_object_set_new (e, "joined", json_integer (im_time_now ()));
            if (before || node_exercise_save (self) == 0)
                reply = json_pack ("{s:s, s:s}", "name", name, "status",
                                   before ? "joined before" : "joined");
            else
                im_fail (EIO, err, errsz, "cannot write exercises.json");
        }
    }
    else if (!ex)
        im_fail (ENOMEM, err, errsz, "out of memory");
    free (ex);
    return reply;
}

static int
list_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob, (void)len;
    void **a = arg;
    json_t *o = ex_json (a[0], rec);
    if (o)
        json_array_append_new (a[1], o);
    return 0;
}

static json_t *
ex_list (node_t *self, char *err, size_t errsz)
{
    json_t *list = json_array ();
    void *a[2] = { self, list };
    if (!list
        || im_store_list (self->store, IM_TYPE_EXERCISE, NULL, NULL, 1000, list_fn, a,
                          NULL)
               < 0) {
        im_fail (EIO, err, errsz, "store: %s", strerror (errno));
        json_decref (list);
        return NULL;
    }
    return json_pack ("{s:o}", "exercises", list);
}

/* The injects of exercise NAME of HOST held here (live and ended), and
 * this node's acknowledgement of each (a participant's). */
typedef struct {
    node_t *self;
    const char *name;
    json_t *list;
} injects_t;

static int
inject_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob, (void)len;
    injects_t *w = arg;
    char name[IM_EXERCISE_NAME_MAX + 1];
    if (node_exercise_of (rec, name) || strcmp (name, w->name)
        || json_array_size (w->list) >= EXERCISE_INJECTS_MAX)
        return 0;
    json_t *o = im_record_to_json (rec);
    if (!o)
        return 0;
    json_object_set_new (o, "label", json_string ("EXERCISE"));
    json_array_append_new (w->list, o);
    return 0;
}

static json_t *
injects_of (node_t *self, const uint8_t *host, const char *name)
{
    injects_t w = { self, name, json_array () };
    uint8_t after[IM_STORE_KEY_SIZE], next[IM_STORE_KEY_SIZE];
    int n, first = 1;
    do {
        n = im_store_list (self->store, IM_TYPE_INJECT, host, first ? NULL : after, 1000,
                           inject_fn, &w, next);
        memcpy (after, next, sizeof after);
        first = 0;
    } while (n == 1000 && json_array_size (w.list) < EXERCISE_INJECTS_MAX);
    return w.list;
}

static json_t *
ex_show (node_t *self, json_t *body, char *err, size_t errsz)
{
    im_record_t *ex = malloc (sizeof *ex);
    json_t *reply = NULL;
    char name[IM_EXERCISE_NAME_MAX + 1];
    if (!ex)
        im_fail (ENOMEM, err, errsz, "out of memory");
    else if (find_exercise (self, body, ex, err, errsz) == 0
             && node_exercise_of (ex, name) == 0)
        reply = json_pack ("{s:o*, s:o}", "exercise", ex_json (self, ex), "injects",
                           injects_of (self, ex->origin, name));
    free (ex);
    return reply;
}

/* Makes R (read as a PUBLISH item, or a report when REPORT) an inject of
 * exercise EX to PARTS (node ids; NULL: every participant). Returns 0 or -1. */
static int
make_inject (node_t *self, const im_record_t *ex, const char *name, im_record_t *r,
             int report, const json_t *parts, char *err, size_t errsz)
{
    char value[IM_VALUE_MAX + 1];
    int n = snprintf (value, sizeof value, "%s %s",
                      report ? "report" : im_type_name (r->type), r->value);
    if (n < 0 || (size_t)n >= sizeof value)
        return im_fail (EINVAL, err, errsz, "inject: its value is too long");
    memcpy (r->origin, im_identity_node (self->identity), IM_NODE_ID_SIZE);
    im_id_generate (r->id);
    r->version = 1;
    r->op = IM_OP_PUT;
    r->type = IM_TYPE_INJECT;
    strcpy (r->value, value);
    r->created = r->modified = im_time_now ();
    r->nrecipients = 0;
    for (size_t i = 0; i < json_array_size (parts); i++) {
        const char *p = json_string_value (json_array_get (parts, i));
        uint8_t id[IM_NODE_ID_SIZE];
        int known = 0;
        for (size_t j = 0; p && im_node_parse (p, id) == 0 && j < ex->nrecipients; j++)
            known |= memcmp (ex->recipients[j], id, IM_NODE_ID_SIZE) == 0;
        if (!known)
            return im_fail (EINVAL, err, errsz,
                            "participants: '%.64s' is not a participant of exercise %s",
                            p ? p : "", name);
        memcpy (r->recipients[r->nrecipients++], id, IM_NODE_ID_SIZE);
    }
    if (!parts) {
        memcpy (r->recipients, ex->recipients, ex->nrecipients * IM_NODE_ID_SIZE);
        r->nrecipients = ex->nrecipients;
    }
    if (im_record_add_ext (r, IM_EXT_EXERCISE, name, strlen (name), err, errsz))
        return -1;
    return im_record_check (r, err, errsz);
}

/* inject: {"name", "items": [ITEM...]} or {"name", "report": R}: this
 * node's exercise, not ended. */
static json_t *
ex_inject (node_t *self, json_t *body, char *err, size_t errsz)
{
    json_t *items = json_object_get (body, "items"),
           *report = json_object_get (body, "report");
    size_t n = report ? 1 : json_array_size (items);
    char name[IM_EXERCISE_NAME_MAX + 1];
    if ((!report && (!json_is_array (items) || n < 1 || n > IM_CONTROL_BATCH_MAX))
        || (report && items)) {
        im_fail (EINVAL, err, errsz, "give 'items' (1 to %d) or one 'report'",
                 IM_CONTROL_BATCH_MAX);
        return NULL;
    }
    im_record_t *ex = malloc (sizeof *ex), *recs = calloc (n, sizeof *recs);
    json_t *results = json_array (), *reply = NULL;
    int rc = ex && recs && results ? 0 : im_fail (ENOMEM, err, errsz, "out of memory");
    char me[IM_NODE_HEX_SIZE];
    im_node_format (im_identity_node (self->identity), me);
    json_object_set_new (body, "host", json_string (me));
    if (rc == 0
        && (find_exercise (self, body, ex, err, errsz) || node_exercise_of (ex, name)))
        rc = -1;
    else if (rc == 0
             && (memcmp (ex->origin, im_identity_node (self->identity), IM_NODE_ID_SIZE)
                 || ex->op != IM_OP_PUT))
        rc = im_fail (EPERM, err, errsz,
                      ex->op != IM_OP_PUT ? "exercise %s has ended"
                                          : "only the host of exercise %s sends injects",
                      name);
    int64_t now = im_time_now (), start = 0, end = 0;
    char a[IM_TIME_STR_SIZE], b[IM_TIME_STR_SIZE];
    /* Only while it runs: a scoreboard has nothing outside its window. */
    if (rc == 0 && (window_of (ex, &start, &end) || now < start || now > end))
        rc = im_fail (EPERM, err, errsz,
                      "exercise %s is not running (it runs from %s to %s)", name,
                      im_time_format (start, a), im_time_format (end, b));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *item = json_deep_copy (report ? report : json_array_get (items, i));
        json_t *parts = json_incref (json_object_get (item, "participants"));
        char why[512], id[IM_ID_STR_SIZE];
        json_object_del (item, "participants");
        im_record_init (&recs[i]);
        int r = !json_is_object (item)
                    ? im_fail (EINVAL, why, sizeof why, "not a JSON object")
                : report ? im_report_from_json (&recs[i], item, now, why, sizeof why)
                         : im_record_from_json (&recs[i], item, now, why, sizeof why);
        if (r == 0 && parts && !json_is_array (parts))
            r = im_fail (EINVAL, why, sizeof why, "participants: an array of node ids");
        if (r == 0)
            r = make_inject (self, ex, name, &recs[i], report != NULL, parts, why,
                             sizeof why);
        json_decref (item);
        json_decref (parts);
        if (r && report)
            rc = im_fail (EINVAL, err, errsz, "report: %s", why);
        else if (r)
            rc = im_fail (EINVAL, err, errsz, "items[%zu]: %s", i, why);
        im_id_format (recs[i].id, id);
        json_array_append_new (
            results, json_pack ("{s:s, s:s}", "id", id, "value", recs[i].value));
    }
    if (rc == 0 && node_store_own (self, recs, n, err, errsz) == 0)
        reply = json_pack ("{s:O}", "results", results);
    json_decref (results);
    free (ex);
    free (recs);
    return reply;
}

/* act: {"name", "inject": ID, "kind": ACTION, "note"}: a participant's. */
static json_t *
ex_act (node_t *self, json_t *body, char *err, size_t errsz)
{
    static const char *const kinds[]
        = { "detected", "blocked", "mitigated", "escalated" };
    const char *action = json_string_value (json_object_get (body, "kind"));
    const char *note = json_string_value (json_object_get (body, "note"));
    const char *idtext = json_string_value (json_object_get (body, "inject"));
    int kind = 0;
    for (int i = 0; action && i < 4; i++)
        if (strcmp (action, kinds[i]) == 0)
            kind = i + 1;
    if (!kind) {
        im_fail (EINVAL, err, errsz,
                 "action must be detected, blocked, mitigated or escalated");
        return NULL;
    }
    if (note && json_string_length (json_object_get (body, "note")) > IM_SIGHT_NOTE_MAX) {
        im_fail (EINVAL, err, errsz, "note: at most %d bytes", IM_SIGHT_NOTE_MAX);
        return NULL;
    }
    im_record_t *ex = malloc (sizeof *ex), *ind = malloc (sizeof *ind),
                *ack = malloc (sizeof *ack);
    json_t *reply = NULL;
    char name[IM_EXERCISE_NAME_MAX + 1], iname[IM_EXERCISE_NAME_MAX + 1];
    uint8_t id[IM_ID_SIZE];
    int rc = ex && ind && ack ? 0 : im_fail (ENOMEM, err, errsz, "out of memory");
    if (rc == 0
        && (find_exercise (self, body, ex, err, errsz) || node_exercise_of (ex, name)))
        rc = -1;
    if (rc == 0 && (!idtext || im_id_parse (idtext, id)))
        rc = im_fail (EINVAL, err, errsz, "inject: '%.40s' is not an id (a UUID)",
                      idtext ? idtext : "");
    if (rc == 0
        && (im_store_get (self->store, ex->origin, id, ind) || ind->type != IM_TYPE_INJECT
            || node_exercise_of (ind, iname) || strcmp (iname, name)))
        rc = im_fail (ENOENT, err, errsz,
                      "%s: no inject of exercise %s with this id is "
                      "held here",
                      idtext, name);
    if (rc == 0 && (rc = node_ack_next (self, ind, kind, note, ack, err, errsz)) == 0
        && node_store_own (self, ack, 1, err, errsz) == 0) {
        char aid[IM_ID_STR_SIZE];
        im_id_format (ack->id, aid);
        reply = json_pack ("{s:s, s:s, s:I}", "ack", aid, "action", action, "version",
                           (json_int_t)ack->version);
    }
    free (ex);
    free (ind);
    free (ack);
    return reply;
}

/* --- The state a scoreboard is made of ---------------------------------- */

typedef struct {
    node_t *self;
    const im_record_t *ex;
    const char *name;
    json_t *sent;   /* inject id -> time sent */
    json_t *events; /* the acknowledgements and actions */
    int64_t now;    /* this node's clock: no event is later */
} state_t;

static int
participant (const im_record_t *ex, const uint8_t *node)
{
    for (size_t i = 0; i < ex->nrecipients; i++)
        if (memcmp (ex->recipients[i], node, IM_NODE_ID_SIZE) == 0)
            return 1;
    return 0;
}

static int
ack_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob, (void)len;
    state_t *s = arg;
    char name[IM_EXERCISE_NAME_MAX + 1], hex[IM_NODE_HEX_SIZE], ind[IM_ID_STR_SIZE];
    uint8_t host[IM_NODE_ID_SIZE], id[IM_ID_SIZE];
    size_t at = 0, n;
    int k;
    const uint8_t *d = NULL;
    if (rec->op != IM_OP_PUT || node_exercise_of (rec, name) || strcmp (name, s->name)
        || !participant (s->ex, rec->origin) || im_sighting_parse (rec->value, host, id))
        return 0;
    while (im_ext_next (rec, &at, &k, &d, &n) && k != IM_EXT_ACK)
        ;
    im_id_format (id, ind);
    const json_t *sent = json_object_get (s->sent, ind);
    if (!d || k != IM_EXT_ACK || n < 8 || !sent)
        return 0;
    int64_t t0 = json_integer_value (sent), t1 = s->now < t0 ? t0 : s->now;
    im_node_format (rec->origin, hex);
    /* The clocks of host and participant differ: nothing before the send,
     * nothing after now (SPEC, "Exercises", the scoreboard). */
    int64_t got = im_get_be64 (d) < t0 ? t0 : im_get_be64 (d) > t1 ? t1 : im_get_be64 (d);
    json_array_append_new (s->events, json_pack ("{s:s, s:s, s:s, s:I}", "participant",
                                                 hex, "inject", ind, "kind", "ack", "at",
                                                 (json_int_t)got));
    for (size_t a = 8; a + 9 <= n; a += 9) {
        int64_t t = im_get_be64 (d + a + 1);
        t = t < t0 ? t0 : t > t1 ? t1 : t;
        json_array_append_new (s->events,
                               json_pack ("{s:s, s:s, s:s, s:s, s:I, s:s}", "participant",
                                          hex, "inject", ind, "kind", "action", "action",
                                          im_ext_action_name (d[a]), "at", (json_int_t)t,
                                          "note", a + 9 == n ? rec->description : ""));
    }
    return 0;
}

/* The name a participant goes by in a scoreboard: its peer name, else the
 * start of its node id (names must differ). */
static json_t *
member (node_t *self, const uint8_t *node)
{
    char hex[IM_NODE_HEX_SIZE], alt[32];
    im_node_format (node, hex);
    const char *name = name_of (self, node);
    snprintf (alt, sizeof alt, "node-%.12s", hex);
    return json_pack ("{s:s, s:s}", "node", hex, "name", name ? name : alt);
}

static json_t *
ex_state (node_t *self, json_t *body, char *err, size_t errsz)
{
    im_record_t *ex = malloc (sizeof *ex);
    char name[IM_EXERCISE_NAME_MAX + 1], prefix[IM_NODE_HEX_SIZE + 1];
    int64_t start = 0, end = 0;
    json_t *reply = NULL;
    if (!ex || find_exercise (self, body, ex, err, errsz) || node_exercise_of (ex, name)
        || window_of (ex, &start, &end)) {
        if (ex && !*err)
            im_fail (EINVAL, err, errsz, "the exercise is malformed here");
        free (ex);
        return NULL;
    }
    if (memcmp (ex->origin, im_identity_node (self->identity), IM_NODE_ID_SIZE)) {
        im_fail (EPERM, err, errsz,
                 "only the host of exercise %s holds its acknowledgements (ask it for "
                 "the scoreboard)",
                 name);
        free (ex);
        return NULL;
    }
    state_t s = { self, ex, name, json_object (), json_array (), im_time_now () };
    json_t *parts = json_array (), *injects = json_array (),
           *list = injects_of (self, ex->origin, name), *o;
    size_t i;
    for (i = 0; i < ex->nrecipients; i++)
        json_array_append_new (parts, member (self, ex->recipients[i]));
    json_array_foreach (list, i, o)
    {
        const char *v = json_string_value (json_object_get (o, "value"));
        const char *c = json_string_value (json_object_get (o, "created"));
        int64_t t = 0;
        if (!v || !c || im_time_parse (c, 0, &t))
            continue;
        json_object_set_new (s.sent, json_string_value (json_object_get (o, "id")),
                             json_integer (t));
        json_array_append_new (
            injects, json_pack ("{s:O, s:I, s:s, s:s, s:O, s:O}", "id",
                                json_object_get (o, "id"), "sent", (json_int_t)t, "kind",
                                strncmp (v, "report ", 7) ? "ioc" : "report", "label", v,
                                "tlp", json_object_get (o, "tlp"), "to",
                                json_object_get (o, "recipients")));
    }
    im_node_format (ex->origin, prefix);
    strcat (prefix, "/");
    im_store_value_prefix (self->store, IM_TYPE_ACK, prefix, 100000, ack_fn, &s);
    reply = json_pack ("{s:s, s:o, s:I, s:I, s:o, s:o, s:O}", "name", name, "host",
                       member (self, ex->origin), "start", (json_int_t)start, "end",
                       (json_int_t)end, "participants", parts, "injects", injects,
                       "events", s.events);
    json_decref (list);
    json_decref (s.sent);
    json_decref (s.events);
    free (ex);
    return reply;
}

/* end: {"name"}: the host revokes every inject and the exercise itself. */
static json_t *
ex_end (node_t *self, json_t *body, char *err, size_t errsz)
{
    char me[IM_NODE_HEX_SIZE], name[IM_EXERCISE_NAME_MAX + 1];
    im_node_format (im_identity_node (self->identity), me);
    json_object_set_new (body, "host", json_string (me));
    im_record_t *ex = malloc (sizeof *ex);
    if (!ex || find_exercise (self, body, ex, err, errsz)
        || node_exercise_of (ex, name)) {
        free (ex);
        return NULL;
    }
    if (ex->op != IM_OP_PUT) {
        im_fail (EALREADY, err, errsz, "exercise %s has ended already", name);
        free (ex);
        return NULL;
    }
    json_t *list = injects_of (self, ex->origin, name), *o;
    size_t i, n = 0;
    im_record_t *recs = calloc (json_array_size (list) + 1, sizeof *recs);
    int64_t now = im_time_now ();
    json_array_foreach (list, i, o)
    {
        uint8_t id[IM_ID_SIZE];
        if (!recs || strcmp (json_string_value (json_object_get (o, "op")), "put")
            || im_id_parse (json_string_value (json_object_get (o, "id")), id)
            || im_store_get (self->store, ex->origin, id, &recs[n]))
            continue;
        recs[n].op = IM_OP_REVOKE;
        recs[n].version++;
        recs[n].description[0] = 0;
        recs[n].ntags = 0;
        recs[n].modified = now;
        n++;
    }
    json_t *reply = NULL;
    if (recs) {
        memcpy (&recs[n], ex, sizeof *ex);
        recs[n].op = IM_OP_REVOKE;
        recs[n].version++;
        recs[n].description[0] = 0;
        recs[n].modified = now;
        if (node_store_own (self, recs, n + 1, err, errsz) == 0) {
            json_t *e = node_exercise_entry (self, ex->origin, name, 1);
            if (e)
                json_object_set_new (e, "ended", json_integer (now));
            node_exercise_save (self);
            reply = json_pack ("{s:s, s:I, s:I}", "name", name, "injects_revoked",
                               (json_int_t)n, "purge_after",
                               (json_int_t)self->config.exercise_retention);
        }
    }
    else
        im_fail (ENOMEM, err, errsz, "out of memory");
    json_decref (list);
    free (recs);
    free (ex);
    return reply;
}

json_t *
node_handle_exercise (node_t *self, json_t *body, char *err, size_t errsz)
{
    const char *action = json_string_value (json_object_get (body, "action"));
    if (!action)
        action = "";
    if (strcmp (action, "create") == 0)
        return ex_create (self, body, err, errsz);
    if (strcmp (action, "join") == 0)
        return ex_join (self, body, err, errsz);
    if (strcmp (action, "list") == 0)
        return ex_list (self, err, errsz);
    if (strcmp (action, "show") == 0)
        return ex_show (self, body, err, errsz);
    if (strcmp (action, "inject") == 0)
        return ex_inject (self, body, err, errsz);
    if (strcmp (action, "act") == 0)
        return ex_act (self, body, err, errsz);
    if (strcmp (action, "state") == 0)
        return ex_state (self, body, err, errsz);
    if (strcmp (action, "end") == 0)
        return ex_end (self, body, err, errsz);
    im_fail (EINVAL, err, errsz,
             "'action' must be create, join, list, show, inject, act, state or end");
    return NULL;
}
