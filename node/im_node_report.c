/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_report.c -- the REPORT control command (SPEC.md, "Reports"):
 * making a report, adding and removing its members (one-way member records
 * of this node), showing a report with the members held here, and listing
 * the reports held. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "im_node_int.h"
#include "im_report.h"
#include "im_time.h"

typedef struct {
    node_t *self;
    const uint8_t *id;
    im_record_t *rec;
    int found;
} find_t;

static int
find_fn (const uint8_t *origin, uint64_t records, uint64_t last_seq, void *arg)
{
    (void)records, (void)last_seq;
    find_t *f = arg;
    f->found = im_store_get (f->self->store, origin, f->id, f->rec) == 0;
    return f->found;
}

int
node_find_held (node_t *self, const char *text, int report, im_record_t *rec, char *err,
                size_t errsz)
{
    uint8_t id[IM_ID_SIZE];
    if (!text || im_id_parse (text, id)) {
        snprintf (err, errsz, "'%.64s' is not an id (a UUID)", text ? text : "");
        return -1;
    }
    find_t f = { self, id, rec, 0 };
    f.found = im_store_get (self->store, im_identity_node (self->identity), id, rec) == 0;
    if (!f.found)
        im_store_origins (self->store, find_fn, &f);
    if (f.found && rec->op == IM_OP_PUT
        && (report ? rec->type == IM_TYPE_REPORT : im_type_is_ioc (rec->type)))
        return 0;
    snprintf (err, errsz, "%s: no live %s with this id is held here", text,
              report ? "report" : "indicator");
    return -1;
}

/* A given "id" of a report to make: REC takes it, and the version and created
 * time of this node's report held with it (HELD, its last version). Returns 1
 * when the report is held as REC is (nothing to store), 0 to store REC, or -1
 * with the reason. */
static int
report_given_id (node_t *self, const json_t *given, im_record_t *rec, im_record_t *held,
                 char *err, size_t errsz)
{
    const char *text = json_string_value (given);
    if (!text || im_id_parse (text, rec->id)) {
        snprintf (err, errsz, "report: id is not a UUID");
        return -1;
    }
    if (im_store_get (self->store, rec->origin, rec->id, held) != 0)
        return 0;
    if (held->type != IM_TYPE_REPORT || held->op != IM_OP_PUT) {
        snprintf (err, errsz, "%s: %s", text,
                  held->type != IM_TYPE_REPORT ? "this id is not a report's here"
                                               : "this report was revoked here");
        return -1;
    }
    rec->version = held->version;
    rec->created = held->created;
    rec->modified = held->modified;
    /* The same encoding: the same report (tags and items are sorted). */
    uint8_t *a = malloc (2 * IM_RECORD_MAX);
    size_t alen = 0, blen = 1;
    char why[256];
    int same = a && im_record_encode (rec, a, IM_RECORD_MAX, &alen, why, sizeof why) == 0
               && im_record_encode (held, a + IM_RECORD_MAX, IM_RECORD_MAX, &blen, why,
                                    sizeof why)
                      == 0
               && alen == blen && memcmp (a, a + IM_RECORD_MAX, alen) == 0;
    free (a);
    rec->version = held->version + 1;
    return same;
}

static json_t *
report_create (node_t *self, json_t *body, char *err, size_t errsz)
{
    im_record_t *rec = malloc (sizeof *rec), *held = malloc (sizeof *held);
    json_t *reply = NULL, *report = json_object_get (body, "report");
    const json_t *given = json_object_get (report, "id");
    char id[IM_ID_STR_SIZE];
    if (!rec || !held) {
        snprintf (err, errsz, "out of memory");
        free (rec);
        free (held);
        return NULL;
    }
    im_record_init (rec);
    int64_t now = im_time_now ();
    if (im_report_from_json (rec, report, now, err, errsz) == 0) {
        memcpy (rec->origin, im_identity_node (self->identity), IM_NODE_ID_SIZE);
        im_id_generate (rec->id);
        rec->created = now;
        int r = given ? report_given_id (self, given, rec, held, err, errsz) : 0;
        rec->modified = now;
        im_id_format (rec->id, id);
        if (r == 1)
            reply = json_pack ("{s:s, s:s}", "id", id, "status", "unchanged");
        else if (r == 0 && node_store_own (self, rec, 1, err, errsz) == 0)
            reply = json_pack ("{s:s, s:s}", "id", id, "status",
                               rec->version > 1 ? "updated" : "created");
    }
    free (rec);
    free (held);
    return reply;
}

/* The member record of IND in REP (this node's), as it should now stand:
 * ADD or not. Returns 1 with *M to store, 0 when nothing changes, or -1. */
static int
member_next (node_t *self, const im_record_t *rep, const im_record_t *ind, int add,
             im_record_t *m, char *err, size_t errsz)
{
    char value[IM_MEMBER_VALUE_SIZE];
    im_member_value (ind->origin, ind->id, rep->id, value);
    uint8_t id[IM_ID_SIZE];
    im_id_from_name (value, strlen (value), id);
    int held = im_store_get (self->store, rep->origin, id, m) == 0;
    int live = held && m->op == IM_OP_PUT;
    if (add == live)
        return 0;
    uint64_t version = held ? m->version : 0;
    int64_t created = held ? m->created : im_time_now ();
    if (!add) {
        m->op = IM_OP_REVOKE;
        m->version = version + 1;
        m->modified = im_time_now ();
        return 1;
    }
    if (rep->nrecipients && ind->nrecipients
        && (rep->nrecipients != ind->nrecipients
            || memcmp (rep->recipients, ind->recipients,
                       rep->nrecipients * IM_NODE_ID_SIZE))) {
        snprintf (err, errsz,
                  "the report and the indicator name different recipients: a member "
                  "would tell one's recipients about the other");
        return -1;
    }
    im_record_init (m);
    memcpy (m->origin, rep->origin, IM_NODE_ID_SIZE);
    memcpy (m->id, id, IM_ID_SIZE);
    m->version = version + 1;
    m->type = IM_TYPE_MEMBER;
    strcpy (m->value, value);
    m->tlp = rep->tlp > ind->tlp ? rep->tlp : ind->tlp;
    m->reach = rep->reach < ind->reach ? rep->reach : ind->reach;
    const im_record_t *r = rep->nrecipients ? rep : ind;
    m->nrecipients = r->nrecipients;
    memcpy (m->recipients, r->recipients, r->nrecipients * IM_NODE_ID_SIZE);
    m->created = created;
    m->modified = im_time_now ();
    return 1;
}

/* REPORT add and remove: {"id": REPORT, "indicators": [ID...]}. */
static json_t *
report_members (node_t *self, json_t *body, int add, char *err, size_t errsz)
{
    json_t *inds = json_object_get (body, "indicators");
    size_t n = json_array_size (inds);
    if (!json_is_array (inds) || n < 1 || n > IM_CONTROL_BATCH_MAX) {
        snprintf (err, errsz, "'indicators' must be an array of 1 to %d ids",
                  IM_CONTROL_BATCH_MAX);
        return NULL;
    }
    im_record_t *rep = malloc (sizeof *rep), *ind = malloc (sizeof *ind);
    im_record_t *ms = calloc (n, sizeof *ms);
    json_t *results = json_array (), *reply = NULL;
    size_t k = 0;
    int rc = rep && ind && ms && results ? 0 : -1;
    if (rc)
        snprintf (err, errsz, "out of memory");
    if (rc == 0
        && (rc = node_find_held (self, json_string_value (json_object_get (body, "id")),
                                 1, rep, err, errsz))
               == 0
        && memcmp (rep->origin, im_identity_node (self->identity), IM_NODE_ID_SIZE)) {
        snprintf (err, errsz, "only a report's origin adds or removes its members");
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *text = json_string_value (json_array_get (inds, i));
        char why[256];
        int r = node_find_held (self, text, 0, ind, why, sizeof why);
        r = r ? r : member_next (self, rep, ind, add, &ms[k], why, sizeof why);
        int dup = 0;
        for (size_t j = 0; r == 1 && j < k && !dup; j++)
            dup = memcmp (ms[j].id, ms[k].id, IM_ID_SIZE) == 0;
        json_array_append_new (results, json_pack ("{s:s, s:s}", "id", text ? text : "",
                                                   r < 0 ? "error" : "status",
                                                   r < 0           ? why
                                                   : r == 0 || dup ? "unchanged"
                                                   : add           ? "added"
                                                                   : "removed"));
        k += r == 1 && !dup;
    }
    if (rc == 0 && node_store_own (self, ms, k, err, errsz) == 0)
        reply = json_pack ("{s:O}", "results", results);
    json_decref (results);
    free (rep);
    free (ind);
    free (ms);
    return reply;
}

typedef struct {
    node_t *self;
    const char *suffix; /* " REPORT-ID" */
    im_record_t *ind;
    json_t *out;
} show_t;

/* Each live member of the report whose indicator is held here and live. */
static int
member_fn (const im_record_t *m, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob, (void)len;
    show_t *s = arg;
    uint8_t origin[IM_NODE_ID_SIZE], id[IM_ID_SIZE], rep[IM_ID_SIZE];
    size_t vl = strlen (m->value), sl = strlen (s->suffix);
    if (m->op != IM_OP_PUT || vl < sl || strcmp (m->value + vl - sl, s->suffix) != 0
        || im_member_parse (m->value, origin, id, rep)
        || im_store_get (s->self->store, origin, id, s->ind) || s->ind->op != IM_OP_PUT)
        return 0;
    return json_array_append_new (s->out, im_record_to_json (s->ind)) != 0;
}

static json_t *
report_show (node_t *self, json_t *body, char *err, size_t errsz)
{
    im_record_t *rep = malloc (sizeof *rep), *ind = malloc (sizeof *ind);
    json_t *reply = NULL;
    char suffix[IM_ID_STR_SIZE + 1] = " ";
    show_t s = { self, suffix, ind, json_array () };
    if (!rep || !ind || !s.out)
        snprintf (err, errsz, "out of memory");
    else if (node_find_held (self, json_string_value (json_object_get (body, "id")), 1,
                             rep, err, errsz)
             == 0) {
        im_id_format (rep->id, suffix + 1);
        if (im_store_list (self->store, IM_TYPE_MEMBER, rep->origin, NULL,
                           IM_CONTROL_LIST_MAX * 100, member_fn, &s, NULL)
            < 0)
            snprintf (err, errsz, "store: %s", strerror (errno));
        else
            reply = json_pack ("{s:o, s:O}", "report", im_record_to_json (rep), "members",
                               s.out);
    }
    json_decref (s.out);
    free (rep);
    free (ind);
    return reply;
}

static int
list_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob, (void)len;
    if (rec->op == IM_OP_PUT)
        json_array_append_new (arg, im_record_to_json (rec));
    return json_array_size (arg) >= IM_CONTROL_LIST_MAX;
}

static json_t *
report_list (node_t *self, char *err, size_t errsz)
{
    json_t *out = json_array ();
    if (!out
        || im_store_list (self->store, IM_TYPE_REPORT, NULL, NULL, SIZE_MAX, list_fn, out,
                          NULL)
               < 0) {
        snprintf (err, errsz, "store: %s", strerror (errno));
        json_decref (out);
        return NULL;
    }
    return json_pack ("{s:o}", "reports", out);
}

typedef struct {
    node_t *self;
    im_record_t *rep;
    json_t *out;
} in_t;

/* A live member of the indicator: its report, when held here and live. */
static int
in_fn (const im_record_t *m, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob, (void)len;
    in_t *in = arg;
    uint8_t origin[IM_NODE_ID_SIZE], id[IM_ID_SIZE], rep[IM_ID_SIZE];
    char text[IM_ID_STR_SIZE];
    if (im_member_parse (m->value, origin, id, rep)
        || im_store_get (in->self->store, m->origin, rep, in->rep)
        || in->rep->op != IM_OP_PUT || in->rep->type != IM_TYPE_REPORT)
        return 0;
    im_id_format (rep, text);
    json_array_append_new (in->out,
                           json_pack ("{s:s, s:s}", "id", text, "title", in->rep->value));
    return 0;
}

json_t *
node_member_reports (node_t *self, const uint8_t *origin, const uint8_t *id)
{
    char prefix[IM_MEMBER_VALUE_SIZE];
    in_t in = { self, malloc (sizeof *in.rep), json_array () };
    im_member_value (origin, id, id, prefix);
    prefix[IM_MEMBER_VALUE_SIZE - 1 - 36] = 0; /* "ORIGINHEX/INDICATOR-UUID " */
    if (in.rep && in.out
        && im_store_value_prefix (self->store, IM_TYPE_MEMBER, prefix,
                                  NODE_MEMBER_REPORTS_MAX, in_fn, &in)
               < 0)
        zsys_warning ("store: looking up reports failed: %s", strerror (errno));
    free (in.rep);
    return in.out ? in.out : json_array ();
}

json_t *
node_handle_report (node_t *self, json_t *body, char *err, size_t errsz)
{
    const char *action = json_string_value (json_object_get (body, "action"));
    if (action && strcmp (action, "create") == 0)
        return report_create (self, body, err, errsz);
    if (action && (strcmp (action, "add") == 0 || strcmp (action, "remove") == 0))
        return report_members (self, body, action[0] == 'a', err, errsz);
    if (action && strcmp (action, "show") == 0)
        return report_show (self, body, err, errsz);
    if (action && strcmp (action, "list") == 0)
        return report_list (self, err, errsz);
    snprintf (err, errsz, "'action' must be create, add, remove, show or list");
    return NULL;
}
