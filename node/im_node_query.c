/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_query.c -- the read-only control commands: LOOKUP, LIST, EXPLAIN,
 * SENT, STATUS and CHECK answer from the store, the mesh and the
 * warninglists, and change nothing. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>
#include <sodium.h>

#include "im_guard.h"
#include "im_node_int.h"

typedef struct {
    json_t *records;
    int type; /* asked for: IM_TYPE_NONE for every indicator */
} collect_t;

static int
collect_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob;
    (void)len;
    collect_t *c = arg;
    /* Reports and members: `report show` and `report list`; sightings
     * only when asked for; carriers never. */
    if (!im_type_is_ioc (rec->type)
        && !(rec->type == IM_TYPE_SIGHTING && c->type == IM_TYPE_SIGHTING))
        return 0;
    json_t *obj = im_record_to_json (rec);
    if (obj)
        json_array_append_new (c->records, obj);
    return 0;
}

/* Refuses a request whose optional string fields have another JSON type. */
static int
strings_only (json_t *body, const char *const *names, char *err, size_t errsz)
{
    for (int i = 0; names[i]; i++) {
        json_t *v = json_object_get (body, names[i]);
        if (v && !json_is_string (v) && !json_is_null (v)) {
            snprintf (err, errsz, "'%s' must be a string", names[i]);
            return -1;
        }
    }
    return 0;
}

typedef struct {
    node_t *self;
    json_t *matches;
    int truncated;
    size_t max; /* matches kept */
} lookup_t;

/* A match, with "reports": the reports it belongs to. */
static int
lookup_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    lookup_t *l = arg;
    if (json_array_size (l->matches) >= l->max) {
        l->truncated = 1;
        return 1;
    }
    size_t n = json_array_size (l->matches);
    uint8_t origin[IM_NODE_ID_SIZE], id[IM_ID_SIZE];
    memcpy (origin, rec->origin, IM_NODE_ID_SIZE);
    memcpy (id, rec->id, IM_ID_SIZE);
    collect_t c = { l->matches, IM_TYPE_NONE };
    collect_fn (rec, blob, len, &c);
    if (json_array_size (l->matches) > n)
        json_object_set_new (json_array_get (l->matches, n), "reports",
                             node_member_reports (l->self, origin, id));
    return 0;
}

/* The "value" (and optional "type") of a LOOKUP or CHECK request, its type
 * guessed when not given, in canonical form in NORM. Returns the type, or -1
 * with the reason in ERR. */
static int
request_value (const char *command, json_t *body, char norm[IM_VALUE_MAX + 1], char *err,
               size_t errsz)
{
    static const char *const fields[] = { "value", "type", NULL };
    if (strings_only (body, fields, err, errsz))
        return -1;
    const char *value = json_string_value (json_object_get (body, "value"));
    const char *tname = json_string_value (json_object_get (body, "type"));
    if (!value) {
        snprintf (err, errsz, "%s: 'value' must be a string", command);
        return -1;
    }
    int type = tname ? im_type_parse (tname) : im_ioc_guess (value);
    if (type <= 0) {
        snprintf (err, errsz, "%s",
                  tname ? "type: not an indicator type"
                        : "value: cannot tell its type: give a type");
        return -1;
    }
    char why[256];
    if (im_ioc_normalise (type, value, norm, IM_VALUE_MAX + 1, why, sizeof why)) {
        snprintf (err, errsz, "value: %s", why);
        return -1;
    }
    return type;
}

int
node_lookup_value (json_t *body, char norm[IM_VALUE_MAX + 1], char *err, size_t errsz)
{
    return request_value ("LOOKUP", body, norm, err, errsz);
}

/* The tombstones of exactly a value, each with "revoked_by": "this node",
 * the origin's peer name, or null. */
typedef struct {
    node_t *self;
    json_t *list;
    size_t max; /* tombstones kept */
} revoked_walk_t;

static int
revoked_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob;
    (void)len;
    revoked_walk_t *w = arg;
    if (json_array_size (w->list) >= w->max)
        return 1;
    json_t *obj = im_record_to_json (rec);
    const uint8_t *own = im_identity_node (w->self->identity);
    const char *by = memcmp (rec->origin, own, IM_NODE_ID_SIZE) == 0
                         ? "this node"
                         : node_origin_name (w->self, rec->origin);
    if (obj)
        json_object_set_new (obj, "revoked_by", by ? json_string (by) : json_null ());
    if (obj)
        json_array_append_new (w->list, obj);
    return 0;
}

static json_t *
lookup_revoked (node_t *self, int type, const char *norm, size_t max)
{
    revoked_walk_t w = { self, json_array (), max };
    if (w.list && im_store_lookup_revoked (self->store, type, norm, revoked_fn, &w) < 0)
        zsys_warning ("store: looking up revocations failed: %s", strerror (errno));
    return w.list ? w.list : json_array ();
}

/* One value's answer, with at most *BUDGET matches and tombstones (taken
 * from it). Returns NULL with the reason in ERR, and *STORE_FAILED set when
 * the store failed rather than the value. */
static json_t *
lookup_one (node_t *self, json_t *body, size_t *budget, int *store_failed, char *err,
            size_t errsz)
{
    char norm[IM_VALUE_MAX + 1];
    int type = request_value ("LOOKUP", body, norm, err, errsz);
    if (type < 0)
        return NULL;
    size_t max = *budget < LOOKUP_MATCH_MAX ? *budget : LOOKUP_MATCH_MAX;
    lookup_t l = { self, json_array (), 0, max };
    if (!l.matches || im_store_lookup (self->store, type, norm, lookup_fn, &l) < 0) {
        snprintf (err, errsz, "store: look-up failed: %s", strerror (errno));
        json_decref (l.matches);
        *store_failed = 1;
        return NULL;
    }
    *budget -= json_array_size (l.matches);
    json_t *revoked = lookup_revoked (
        self, type, norm, *budget < LOOKUP_MATCH_MAX ? *budget : LOOKUP_MATCH_MAX);
    *budget -= json_array_size (revoked);
    return json_pack ("{s:s, s:s, s:o, s:b, s:o}", "type", im_type_name (type), "value",
                      norm, "matches", l.matches, "truncated", l.truncated, "revoked",
                      revoked);
}

/* The batch form: N values answered in one read transaction, in order, a
 * value that cannot be read answered {"value", "error"}; at most
 * IM_CONTROL_MATCHES_MAX matches and tombstones in all. */
static json_t *
lookup_batch (node_t *self, json_t *values, char *err, size_t errsz)
{
    json_t *results = json_array ();
    size_t budget = IM_CONTROL_MATCHES_MAX;
    int store_failed = 0;
    if (!results || im_store_read_begin (self->store)) {
        snprintf (err, errsz, "store: look-up failed: %s", strerror (errno));
        json_decref (results);
        return NULL;
    }
    for (size_t i = 0; i < json_array_size (values) && !store_failed; i++) {
        json_t *item = json_array_get (values, i);
        char why[512];
        json_t *r = lookup_one (self, item, &budget, &store_failed, why, sizeof why);
        if (!r && !store_failed)
            r = json_pack ("{s:O?, s:s}", "value", json_object_get (item, "value"),
                           "error", why);
        else if (!r)
            snprintf (err, errsz, "%s", why);
        if (r)
            json_array_append_new (results, r);
    }
    im_store_read_end (self->store);
    if (store_failed) {
        json_decref (results);
        return NULL;
    }
    return json_pack ("{s:o}", "results", results);
}

json_t *
node_handle_lookup (node_t *self, json_t *body, char *err, size_t errsz)
{
    int n = im_ctl_lookup_values (body, err, errsz);
    if (n < 0)
        return NULL;
    if (n > 0 && json_is_true (json_object_get (body, "compact")))
        return node_lookup_compact (self, json_object_get (body, "values"), err, errsz);
    if (n > 0)
        return lookup_batch (self, json_object_get (body, "values"), err, errsz);
    size_t budget = 2 * LOOKUP_MATCH_MAX; /* 1000 matches, 1000 tombstones */
    int store_failed = 0;
    return lookup_one (self, body, &budget, &store_failed, err, errsz);
}

json_t *
node_handle_list (node_t *self, json_t *body, char *err, size_t errsz)
{
    static const char *const fields[] = { "type", "origin", "after", NULL };
    json_t *limit_v = json_object_get (body, "limit");
    if (strings_only (body, fields, err, errsz))
        return NULL;
    if (limit_v && !json_is_integer (limit_v)) {
        snprintf (err, errsz, "'limit' must be a whole number");
        return NULL;
    }
    const char *tname = json_string_value (json_object_get (body, "type"));
    const char *origin_text = json_string_value (json_object_get (body, "origin"));
    const char *after_text = json_string_value (json_object_get (body, "after"));
    json_int_t limit = json_integer_value (json_object_get (body, "limit"));
    int type = IM_TYPE_NONE;
    uint8_t origin[IM_NODE_ID_SIZE], after[IM_STORE_KEY_SIZE], next[IM_STORE_KEY_SIZE];
    size_t binlen = 0;
    if (tname && strcmp (tname, "sighting") == 0)
        type = IM_TYPE_SIGHTING;
    else if (tname && (type = im_type_parse (tname)) < 0) {
        snprintf (err, errsz, "type: not an indicator type (nor sighting)");
        return NULL;
    }
    if (origin_text && im_node_parse (origin_text, origin)) {
        snprintf (err, errsz, "origin: not a node id (64 hex digits)");
        return NULL;
    }
    if (after_text
        && (strlen (after_text) != 2 * IM_STORE_KEY_SIZE
            || sodium_hex2bin (after, sizeof after, after_text, strlen (after_text), NULL,
                               &binlen, NULL)
            || binlen != IM_STORE_KEY_SIZE)) {
        snprintf (err, errsz, "after: not a list position");
        return NULL;
    }
    if (limit <= 0 || limit > IM_CONTROL_LIST_MAX)
        limit = IM_CONTROL_LIST_MAX;
    json_t *records = json_array ();
    collect_t c = { records, type };
    memset (next, 0, sizeof next);
    int n = records ? im_store_list (self->store, type, origin_text ? origin : NULL,
                                     after_text ? after : NULL, (size_t)limit, collect_fn,
                                     &c, next)
                    : -1;
    if (n < 0) {
        snprintf (err, errsz, "store: listing failed: %s", strerror (errno));
        json_decref (records);
        return NULL;
    }
    char next_hex[2 * IM_STORE_KEY_SIZE + 1];
    sodium_bin2hex (next_hex, sizeof next_hex, next, sizeof next);
    return json_pack ("{s:o, s:o}", "records", records, "next",
                      n == limit ? json_string (next_hex) : json_null ());
}

/* Finds a record by id alone: this node's own first, else any origin's. */
typedef struct {
    const uint8_t *id;
    uint8_t origin[IM_NODE_ID_SIZE];
    int found;
} find_id_t;

static int
find_id_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob;
    (void)len;
    find_id_t *f = arg;
    if (memcmp (rec->id, f->id, IM_ID_SIZE) != 0)
        return 0;
    memcpy (f->origin, rec->origin, IM_NODE_ID_SIZE);
    f->found = 1;
    return 1;
}

static int
find_origin (node_t *self, const uint8_t *id, uint8_t *origin)
{
    const uint8_t *own = im_identity_node (self->identity);
    if (im_store_get (self->store, own, id, NULL) == 0) {
        memcpy (origin, own, IM_NODE_ID_SIZE);
        return 0;
    }
    find_id_t f = { .id = id };
    uint8_t after[IM_STORE_KEY_SIZE], next[IM_STORE_KEY_SIZE];
    int first = 1;
    for (;;) {
        int n = im_store_list (self->store, IM_TYPE_NONE, NULL, first ? NULL : after,
                               10000, find_id_fn, &f, next);
        if (n <= 0 || f.found)
            break;
        memcpy (after, next, sizeof after);
        first = 0;
    }
    if (!f.found) {
        errno = ENOENT;
        return -1;
    }
    memcpy (origin, f.origin, IM_NODE_ID_SIZE);
    return 0;
}

/* EXPLAIN by value: the record of exactly that value, this node's own
 * first, else the first of another origin; live before revoked. */
typedef struct {
    const uint8_t *own;
    int type;
    const char *value;
    im_record_t best;
    int found; /* 0 none, 1 another origin's, 2 this node's */
} find_value_t;

static int
find_value_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob;
    (void)len;
    find_value_t *f = arg;
    if (rec->type != f->type || strcmp (rec->value, f->value) != 0)
        return 0; /* a prefix that contains it */
    int rank = memcmp (rec->origin, f->own, IM_NODE_ID_SIZE) == 0 ? 2 : 1;
    if (rank > f->found) {
        memcpy (&f->best, rec, sizeof f->best);
        f->found = rank;
    }
    return f->found == 2;
}

/* The id and origin of the record a request's "value" (and "type") names.
 * Returns 0, or -1 with the reason in ERR. */
static int
explain_by_value (node_t *self, json_t *body, uint8_t *id, uint8_t *origin, char *err,
                  size_t errsz)
{
    char norm[IM_VALUE_MAX + 1];
    int type = request_value ("EXPLAIN", body, norm, err, errsz);
    if (type < 0)
        return -1;
    find_value_t *f = calloc (1, sizeof *f);
    if (!f) {
        snprintf (err, errsz, "out of memory");
        return -1;
    }
    f->own = im_identity_node (self->identity);
    f->type = type;
    f->value = norm;
    im_store_lookup (self->store, type, norm, find_value_fn, f);
    if (!f->found)
        im_store_lookup_revoked (self->store, type, norm, find_value_fn, f);
    int found = f->found;
    if (found) {
        memcpy (id, f->best.id, IM_ID_SIZE);
        memcpy (origin, f->best.origin, IM_NODE_ID_SIZE);
    }
    else
        snprintf (err, errsz, "no indicator %s %.200s is held here", im_type_name (type),
                  norm);
    free (f);
    return found ? 0 : -1;
}

json_t *
node_handle_explain (node_t *self, json_t *body, char *err, size_t errsz)
{
    static const char *const fields[] = { "id", "origin", "peer", "value", NULL };
    if (strings_only (body, fields, err, errsz))
        return NULL;
    const char *idtext = json_string_value (json_object_get (body, "id"));
    const char *origin_text = json_string_value (json_object_get (body, "origin"));
    const char *peer = json_string_value (json_object_get (body, "peer"));
    uint8_t id[IM_ID_SIZE], origin[IM_NODE_ID_SIZE];
    int by_value = !idtext && !origin_text && json_object_get (body, "value");
    if (by_value) {
        if (explain_by_value (self, body, id, origin, err, errsz))
            return NULL;
    }
    else if (!idtext || im_id_parse (idtext, id)) {
        snprintf (err, errsz, "id: not an indicator id (a UUID)");
        return NULL;
    }
    if (!peer) {
        snprintf (err, errsz, "EXPLAIN: 'peer' must be a peer's name");
        return NULL;
    }
    if (origin_text && im_node_parse (origin_text, origin)) {
        snprintf (err, errsz, "origin: not a node id (64 hex digits)");
        return NULL;
    }
    if (!by_value && !origin_text && find_origin (self, id, origin)) {
        snprintf (err, errsz, "no indicator with id %s is held here", idtext);
        return NULL;
    }
    if (!self->mesh) {
        snprintf (err, errsz, "the mesh is not running");
        return NULL;
    }
    json_t *o = im_mesh_explain (self->mesh, origin, id, peer, err, errsz);
    if (o)
        node_explain_sealed (self, origin, id, peer, o);
    return o;
}

typedef struct {
    node_t *self;
    json_t *list;
    im_record_t *rec;
} sent_walk_t;

static int
sent_fn (const uint8_t *origin, const uint8_t *id, uint64_t version, int64_t when,
         void *arg)
{
    sent_walk_t *w = arg;
    char node[IM_NODE_HEX_SIZE], idtext[IM_ID_STR_SIZE], t[IM_TIME_STR_SIZE];
    im_node_format (origin, node);
    im_id_format (id, idtext);
    json_t *o = json_pack ("{s:s, s:I, s:s, s:s, s:I}", "time",
                           im_time_format (when / 1000, t), "time_ms", (json_int_t)when,
                           "origin", node, "id", idtext, "version", (json_int_t)version);
    if (o)
        json_array_append_new (w->list, o);
    return 0;
}

/* Adds what each entry is, as held now (it may have changed since), once the
 * walk of the log is over (the store has one read transaction at a time). */
static void
sent_describe (sent_walk_t *w)
{
    for (size_t i = 0; i < json_array_size (w->list); i++) {
        json_t *o = json_array_get (w->list, i);
        uint8_t origin[IM_NODE_ID_SIZE], id[IM_ID_SIZE];
        if (im_node_parse (json_string_value (json_object_get (o, "origin")), origin)
            || im_id_parse (json_string_value (json_object_get (o, "id")), id)
            || im_store_get (w->self->store, origin, id, w->rec) != 0)
            continue;
        json_object_set_new (o, "type", json_string (im_type_name (w->rec->type)));
        json_object_set_new (o, "value", json_string (w->rec->value));
        json_object_set_new (o, "tlp", json_string (im_tlp_name (w->rec->tlp)));
        json_object_set_new (o, "held_version",
                             json_integer ((json_int_t)w->rec->version));
    }
}

json_t *
node_handle_sent (node_t *self, json_t *body, char *err, size_t errsz)
{
    static const char *const fields[] = { "peer", NULL };
    if (strings_only (body, fields, err, errsz))
        return NULL;
    const char *peer = json_string_value (json_object_get (body, "peer"));
    json_t *since_v = json_object_get (body, "since");
    json_t *limit_v = json_object_get (body, "limit");
    if (!peer) {
        snprintf (err, errsz, "SENT: 'peer' must be a peer's name or node id");
        return NULL;
    }
    if ((since_v && !json_is_integer (since_v))
        || (limit_v && !json_is_integer (limit_v))) {
        snprintf (err, errsz, "SENT: 'since' (ms) and 'limit' must be whole numbers");
        return NULL;
    }
    json_int_t since = since_v ? json_integer_value (since_v) : 0;
    json_int_t limit = limit_v ? json_integer_value (limit_v) : IM_CONTROL_LIST_MAX;
    if (since < 0) {
        snprintf (err, errsz, "SENT: 'since' must not be negative");
        return NULL;
    }
    if (limit <= 0 || limit > IM_CONTROL_LIST_MAX)
        limit = IM_CONTROL_LIST_MAX;
    /* A peer on the list by name, or any node by id (a removed peer's trail
     * stays). */
    uint8_t node[IM_NODE_ID_SIZE];
    const im_peer_conf_t *conf = im_config_peer (&self->config, peer);
    if (conf)
        memcpy (node, conf->card.node, IM_NODE_ID_SIZE);
    else if (im_node_parse (peer, node)) {
        snprintf (err, errsz,
                  "no peer named %s on the trust list (give a node id for a "
                  "removed peer)",
                  peer);
        return NULL;
    }
    im_mesh_sent_flush (self->mesh); /* what peers acknowledged, listed too */
    sent_walk_t w = { self, json_array (), malloc (sizeof (im_record_t)) };
    int n = w.list && w.rec ? im_store_sent_list (self->store, node, since,
                                                  (size_t)limit + 1, sent_fn, &w)
                            : -1;
    if (n >= 0)
        sent_describe (&w);
    free (w.rec);
    if (n < 0) {
        snprintf (err, errsz, "store: reading the sent log failed: %s", strerror (errno));
        json_decref (w.list);
        return NULL;
    }
    json_t *next = json_null ();
    if ((json_int_t)json_array_size (w.list) > limit) {
        json_t *last = json_array_get (w.list, (size_t)limit);
        next = json_integer (json_integer_value (json_object_get (last, "time_ms")));
        json_array_remove (w.list, (size_t)limit);
    }
    char hex[IM_NODE_HEX_SIZE];
    im_node_format (node, hex);
    return json_pack ("{s:s, s:o, s:o}", "node", hex, "sent", w.list, "next", next);
}

/* STATUS shows origins by the name an admin knows them by, if any. */
typedef struct {
    node_t *node;
    json_t *by_origin;
} origins_walk_t;

static int
origin_fn (const uint8_t *origin, uint64_t records, uint64_t last_seq, void *arg)
{
    (void)last_seq;
    origins_walk_t *w = arg;
    char hex[IM_NODE_HEX_SIZE];
    im_node_format (origin, hex);
    const char *name = node_origin_name (w->node, origin);
    json_array_append_new (w->by_origin,
                           json_pack ("{s:s, s:s?, s:I}", "origin", hex, "name", name,
                                      "held", (json_int_t)records));
    return json_array_size (w->by_origin) >= 1000; /* enough for a glance */
}

/* Into the status's STORE: its size limit and, while writes fail as disk
 * full, since when and how many were refused (SPEC.md, "A full disk"). */
static void
node_status_disk_full (json_t *store, const im_store_stats_t *st)
{
    char since[IM_TIME_STR_SIZE];
    json_object_set_new (store, "max_size", json_integer ((json_int_t)st->max_size));
    json_object_set_new (store, "disk_full",
                         st->full_since
                             ? json_pack ("{s:s, s:I}", "since",
                                          im_time_format (st->full_since, since),
                                          "writes_refused", (json_int_t)st->full_refused)
                             : json_null ());
}

json_t *
node_handle_status (node_t *self, json_t *body, char *err, size_t errsz)
{
    (void)body;
    im_store_stats_t st;
    if (im_store_stats (self->store, &st)) {
        snprintf (err, errsz, "store: %s", strerror (errno));
        return NULL;
    }
    json_t *by_type = json_object (), *by_tlp = json_object ();
    uint64_t tlp_total[IM_TLP_COUNT] = { 0 };
    uint64_t reports = 0;
    for (int l = 1; l < IM_TLP_COUNT; l++)
        reports += st.live[IM_TYPE_REPORT][l];
    for (int t = 1; t < IM_TYPE_COUNT; t++) {
        uint64_t sum = 0;
        for (int l = 1; l < IM_TLP_COUNT && im_type_is_ioc (t); l++) {
            sum += st.live[t][l];
            tlp_total[l] += st.live[t][l];
        }
        if (sum)
            json_object_set_new (by_type, im_type_name (t),
                                 json_integer ((json_int_t)sum));
    }
    for (int l = 1; l < IM_TLP_COUNT; l++)
        json_object_set_new (by_tlp, im_tlp_name (l),
                             json_integer ((json_int_t)tlp_total[l]));
    char node[IM_NODE_HEX_SIZE], started[IM_TIME_STR_SIZE];
    im_node_format (im_identity_node (self->identity), node);
    origins_walk_t w = { self, json_array () };
    if (w.by_origin)
        im_store_origins (self->store, origin_fn, &w);
    json_t *keys
        = json_pack ("{s:s}", "curve", im_identity_curve_public (self->identity));
    if (keys && im_identity_curve_previous_public (self->identity)) {
        char until[IM_TIME_STR_SIZE];
        json_object_set_new (keys, "previous_until",
                             json_string (im_time_format (
                                 im_identity_previous_until (self->identity), until)));
    }
    json_t *st_json = json_pack (
        "{s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s,"
        " s:{s:I, s:I, s:o, s:o},"
        " s:{s:I, s:I, s:I, s:I, s:I}, s:o, s:o,"
        " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
        "node", node, "name", self->config.name, "version", PACKAGE_VERSION, "pid",
        (json_int_t)getpid (), "started", im_time_format (self->started, started),
        "uptime", (json_int_t)(im_time_now () - self->started), "pub",
        self->config.pub_endpoint, "directory", self->dir, "indicators", "live",
        (json_int_t)node_live_total (&st), "revoked", (json_int_t)st.revoked, "by_type",
        by_type, "by_tlp", by_tlp, "store", "records", (json_int_t)st.records, "origins",
        (json_int_t)st.origins, "last_seq", (json_int_t)st.last_seq, "map_size",
        (json_int_t)st.map_size, "used_bytes", (json_int_t)st.used_bytes, "peers",
        im_mesh_peers (self->mesh), "refusals", im_mesh_refusals (self->mesh), "counters",
        "published", (json_int_t)self->published, "revoked", (json_int_t)self->revoked,
        "refused", (json_int_t)self->refused, "requests", (json_int_t)self->requests,
        "bad_requests", (json_int_t)self->bad_requests, "store_errors",
        (json_int_t)self->store_errors, "pub_messages", (json_int_t)self->events);
    if (st_json) {
        json_object_set_new (json_object_get (st_json, "indicators"), "by_origin",
                             w.by_origin ? w.by_origin : json_array ());
        json_object_set_new (st_json, "keys", keys ? keys : json_object ());
        json_object_set_new (st_json, "reports", json_integer ((json_int_t)reports));
        json_object_update_new (st_json, node_sight_status (self, &st));
        node_status_disk_full (json_object_get (st_json, "store"), &st);
        json_object_set_new (st_json, "store_restarted", im_mesh_restart (self->mesh));
        json_object_set_new (st_json, "refused_keys", im_mesh_refused_keys (self->mesh));
        uint64_t verified, cached, failed;
        im_mesh_signatures (self->mesh, &verified, &cached, &failed);
        json_object_set_new (
            st_json, "signatures",
            json_pack ("{s:I, s:I, s:I, s:I}", "signed", (json_int_t)self->sealed,
                       "verified", (json_int_t)verified, "cached", (json_int_t)cached,
                       "failed", (json_int_t)failed));
        json_object_set_new (st_json, "taxii", im_taxii_status (self->taxii));
        json_object_set_new (
            st_json, "warninglists",
            json_integer (
                self->warnings ? (json_int_t)im_warninglists_size (self->warnings) : 0));
    }
    else {
        json_decref (w.by_origin);
        json_decref (keys);
        snprintf (err, errsz, "out of memory");
    }
    return st_json;
}

static int
warn_collect_fn (const char *list, const char *entry, void *arg)
{
    json_array_append_new ((json_t *)arg,
                           json_pack ("{s:s, s:s}", "list", list, "entry", entry));
    return 0;
}

/* CHECK {"value", "type"?}: the warninglists that hold a value. */
json_t *
node_handle_check (node_t *self, json_t *body, char *err, size_t errsz)
{
    char norm[IM_VALUE_MAX + 1];
    int type = request_value ("CHECK", body, norm, err, errsz);
    if (type < 0)
        return NULL;
    json_t *matches = json_array ();
    if (!matches) {
        snprintf (err, errsz, "out of memory");
        return NULL;
    }
    if (self->warnings)
        im_warninglists_match (self->warnings, type, norm, warn_collect_fn, matches);
    json_t *reply = json_pack (
        "{s:s, s:s, s:o, s:I}", "type", im_type_name (type), "value", norm, "lists",
        matches, "loaded",
        (json_int_t)(self->warnings ? im_warninglists_size (self->warnings) : 0));
    im_guard_hit_t hit;
    if (reply && im_guard_check (type, norm, &hit) == 1)
        json_object_set_new (reply, "builtin",
                             json_pack ("{s:s, s:s, s:s, s:b, s:s?, s:s?, s:s?}", "list",
                                        hit.list, "rfc", hit.rfc, "entry", hit.entry,
                                        "documentation", hit.documentation, "form",
                                        hit.form, "form_rfc", hit.form_rfc, "ipv4",
                                        hit.form ? hit.ipv4 : NULL));
    return reply;
}
