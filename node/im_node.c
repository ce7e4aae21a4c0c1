/* im_node.c -- the node actor. One thread owns the store: it answers the CLI
 * on the control socket (ipc://, 0600), signs and stores indicators in
 * batches, publishes every accepted change on the PUB socket and sends a
 * heartbeat. Malformed requests are refused, counted and logged. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>
#include <sodium.h>

#include "im_config.h"
#include "im_identity.h"
#include "im_mesh.h"
#include "im_node.h"
#include "im_record.h"
#include "im_store.h"
#include "im_time.h"

typedef struct {
    zsock_t *pipe;
    zsock_t *control;
    zsock_t *pub;
    zpoller_t *poller;
    char *dir;
    char control_endpoint[6 + 108]; /* ipc:// and a socket path */
    im_config_t config;
    im_identity_t *identity;
    im_store_t *store;
    im_mesh_t *mesh;
    int64_t started;
    int64_t next_heartbeat; /* zclock_mono ms */
    int terminated;
    /* Counters shown by STATUS. */
    uint64_t published;      /* indicators this node signed and stored */
    uint64_t revoked;        /* revocations this node signed and stored */
    uint64_t refused;        /* indicators refused at publish */
    uint64_t requests;       /* control requests answered */
    uint64_t bad_requests;   /* control requests refused as malformed */
    uint64_t events;         /* messages sent on the PUB socket */
} node_t;

typedef json_t *(handler_fn) (node_t *self, json_t *body, char *err, size_t errsz);

/* --- Start and stop ---------------------------------------------------- */

static void pub_record (node_t *self, const im_record_t *rec);

/* The mesh stored a record from a peer: it goes on the local feed. */
static void
mesh_stored (const im_record_t *rec, void *arg)
{
    pub_record ((node_t *) arg, rec);
}

static int
node_start (node_t *self, char *err, size_t errsz)
{
    char path[4096];
    if (im_config_load (self->dir, &self->config, err, errsz))
        return -1;
    struct stat st;
    if (stat (self->dir, &st) == 0 && (st.st_mode & 077))
        zsys_warning ("%s is open to other users (mode %04o): chmod 700 it", self->dir,
                      (unsigned) (st.st_mode & 07777));
    self->identity = im_identity_load (self->dir, err, errsz);
    if (!self->identity)
        return -1;
    if (im_dir_path (self->dir, IM_STORE_DIR, path, sizeof path)) {
        snprintf (err, errsz, "%s: path too long", self->dir);
        return -1;
    }
    self->store = im_store_new (path, self->config.map_size,
                                im_identity_node (self->identity), err, errsz);
    if (!self->store)
        return -1;

    /* The control socket is made with a tight umask so that it is never,
     * even for an instant, reachable by another user. */
    int n = snprintf (self->control_endpoint, sizeof self->control_endpoint,
                      "ipc://%.*s/%s", (int) sizeof self->control_endpoint, self->dir,
                      IM_CONTROL_FILE);
    if (n < 0 || (size_t) n >= sizeof self->control_endpoint) {
        snprintf (err, errsz, "data directory path too long for a control socket "
                              "(at most %zu bytes)",
                  sizeof self->control_endpoint - 8 - strlen (IM_CONTROL_FILE));
        return -1;
    }
    self->control = zsock_new (ZMQ_ROUTER);
    if (!self->control) {
        snprintf (err, errsz, "control socket: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    zsock_set_maxmsgsize (self->control, IM_CONTROL_MSG_MAX);
    zsock_set_rcvhwm (self->control, 100);
    zsock_set_sndhwm (self->control, 100);
    zsock_set_linger (self->control, 0);
    mode_t old = umask (077);
    int rc = zsock_bind (self->control, "%s", self->control_endpoint);
    umask (old);
    if (rc != 0 || chmod (self->control_endpoint + 6, 0600) != 0) {
        snprintf (err, errsz, "cannot bind control socket %s: %s",
                  self->control_endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    self->pub = zsock_new (ZMQ_PUB);
    if (!self->pub) {
        snprintf (err, errsz, "PUB socket: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    zsock_set_sndhwm (self->pub, 100000);
    zsock_set_linger (self->pub, 0);
    if (zsock_bind (self->pub, "%s", self->config.pub_endpoint) < 0) {
        snprintf (err, errsz, "cannot bind PUB socket %s: %s", self->config.pub_endpoint,
                  zmq_strerror (zmq_errno ()));
        return -1;
    }
    zpoller_add (self->poller, self->control);
    self->mesh = im_mesh_new (&self->config, self->identity, self->store, self->poller,
                              mesh_stored, self, err, errsz);
    if (!self->mesh)
        return -1;
    self->started = im_time_now ();
    self->next_heartbeat = zclock_mono () + 1000LL * self->config.heartbeat;
    char node[IM_NODE_HEX_SIZE];
    im_node_format (im_identity_node (self->identity), node);
    zsys_info ("node %s (%s) started: control %s, PUB %s, peers on %s (%zu on the "
               "trust list)", self->config.name, node, self->control_endpoint,
               self->config.pub_endpoint, *self->config.bind ? self->config.bind : "none",
               self->config.npeers);
    return 0;
}

static void
node_stop (node_t *self)
{
    im_mesh_destroy (&self->mesh);
    zsock_destroy (&self->control);
    zsock_destroy (&self->pub);
    im_store_destroy (&self->store);
    im_identity_destroy (&self->identity);
}

/* --- Publishing -------------------------------------------------------- */

static void
pub_send (node_t *self, const char *topic, json_t *obj)
{
    char *text = json_dumps (obj, JSON_COMPACT);
    if (text) {
        zstr_sendx (self->pub, topic, text, NULL);
        self->events++;
        free (text);
    }
}

static void
pub_record (node_t *self, const im_record_t *rec)
{
    char topic[64];
    snprintf (topic, sizeof topic, "ioc.%s.%s", im_type_name (rec->type),
              im_tlp_name (rec->tlp));
    json_t *obj = im_record_to_json (rec);
    if (obj) {
        pub_send (self, topic, obj);
        json_decref (obj);
    }
}

static uint64_t
live_total (const im_store_stats_t *st)
{
    uint64_t n = 0;
    for (int t = 0; t < IM_TYPE_COUNT; t++)
        for (int l = 0; l < IM_TLP_COUNT; l++)
            n += st->live[t][l];
    return n;
}

static void
heartbeat (node_t *self)
{
    im_store_stats_t st;
    char node[IM_NODE_HEX_SIZE], now[IM_TIME_STR_SIZE];
    im_store_stats (self->store, &st);
    im_node_format (im_identity_node (self->identity), node);
    json_t *obj = json_pack ("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "node", node, "name",
                             self->config.name, "time", im_time_format (im_time_now (), now),
                             "uptime", (json_int_t) (im_time_now () - self->started),
                             "indicators", (json_int_t) live_total (&st), "revoked",
                             (json_int_t) st.revoked, "last_seq", (json_int_t) st.last_seq);
    if (obj) {
        pub_send (self, "node.heartbeat", obj);
        json_decref (obj);
    }
}

/* Finds this node's live indicator of TYPE and VALUE, for re-publishing. */
typedef struct {
    const uint8_t *origin;
    int type;
    const char *value;
    im_record_t *found;
    int hit;
} own_match_t;

static int
own_match_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void) blob;
    (void) len;
    own_match_t *m = arg;
    if (rec->type == m->type && strcmp (rec->value, m->value) == 0
        && memcmp (rec->origin, m->origin, IM_NODE_ID_SIZE) == 0) {
        memcpy (m->found, rec, sizeof *rec);
        m->hit = 1;
        return 1;
    }
    return 0;
}

/* Same content apart from identity, version and times. */
static int
same_content (const im_record_t *a, const im_record_t *b)
{
    if (a->op != b->op || a->tlp != b->tlp || a->confidence != b->confidence
        || a->reach != b->reach || a->valid_from != b->valid_from
        || a->valid_until != b->valid_until || strcmp (a->description, b->description)
        || a->ntags != b->ntags || a->nrecipients != b->nrecipients)
        return 0;
    for (size_t i = 0; i < a->ntags; i++) {
        int found = 0;
        for (size_t j = 0; j < b->ntags && !found; j++)
            found = strcmp (a->tags[i], b->tags[j]) == 0;
        if (!found)
            return 0;
    }
    for (size_t i = 0; i < a->nrecipients; i++) {
        int found = 0;
        for (size_t j = 0; j < b->nrecipients && !found; j++)
            found = memcmp (a->recipients[i], b->recipients[j], IM_NODE_ID_SIZE) == 0;
        if (!found)
            return 0;
    }
    return 1;
}

/* A batch of records being signed and stored together. */
typedef struct {
    size_t n;
    im_record_t *recs;
    uint8_t *blobs; /* IM_RECORD_MAX each */
    im_store_item_t *items;
    int *stored;
    json_t **results;
} batch_t;

static int
batch_init (batch_t *b, size_t max)
{
    memset (b, 0, sizeof *b);
    b->recs = calloc (max ? max : 1, sizeof *b->recs);
    b->blobs = malloc ((max ? max : 1) * IM_RECORD_MAX);
    b->items = calloc (max ? max : 1, sizeof *b->items);
    b->stored = calloc (max ? max : 1, sizeof *b->stored);
    b->results = calloc (max ? max : 1, sizeof *b->results);
    return b->recs && b->blobs && b->items && b->stored && b->results ? 0 : -1;
}

static void
batch_free (batch_t *b)
{
    free (b->recs);
    free (b->blobs);
    free (b->items);
    free (b->stored);
    free (b->results);
}

/* Signs REC into the batch; RESULT is the reply entry it will complete. */
static int
batch_add (node_t *self, batch_t *b, const im_record_t *rec, json_t *result, char *err,
           size_t errsz)
{
    size_t i = b->n;
    size_t len;
    memcpy (&b->recs[i], rec, sizeof *rec);
    if (im_record_sign (&b->recs[i], im_identity_sign_secret (self->identity),
                        b->blobs + i * IM_RECORD_MAX, IM_RECORD_MAX, &len, err, errsz))
        return -1;
    /* Keep the record as it was signed (tags and recipients in canonical
     * order), so that the feed shows what every other reader sees. */
    if (im_record_decode (b->blobs + i * IM_RECORD_MAX, len, 0, &b->recs[i], err, errsz))
        return -1;
    b->items[i].blob = b->blobs + i * IM_RECORD_MAX;
    b->items[i].len = len;
    b->items[i].rec = &b->recs[i];
    b->results[i] = result;
    b->n++;
    return 0;
}

/* Stores the batch; on failure every pending result becomes an error. */
static int
batch_commit (node_t *self, batch_t *b, char *err, size_t errsz)
{
    if (b->n == 0)
        return 0;
    if (im_store_put_batch (self->store, b->items, b->n, b->stored, err, errsz) < 0) {
        zsys_error ("store: %s", err);
        return -1;
    }
    for (size_t i = 0; i < b->n; i++)
        if (b->stored[i] != IM_STORE_STALE) {
            pub_record (self, &b->recs[i]);
            if (b->recs[i].op == IM_OP_REVOKE)
                self->revoked++;
            else
                self->published++;
        }
    im_mesh_changed (self->mesh);
    return 0;
}

/* The array KEY of a PUBLISH or REVOKE body: 1 to IM_CONTROL_BATCH_MAX
 * entries. */
static json_t *
batch_array (json_t *body, const char *key, char *err, size_t errsz)
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
static json_t *
batch_finish (node_t *self, batch_t *b, json_t *results, char *err, size_t errsz)
{
    if (results && batch_commit (self, b, err, errsz)) {
        json_decref (results);
        results = NULL;
    }
    batch_free (b);
    return results ? json_pack ("{s:o}", "results", results) : NULL;
}

static json_t *
error_result (node_t *self, const char *why)
{
    self->refused++;
    return json_pack ("{s:s}", "error", why);
}

static json_t *
handle_publish (node_t *self, json_t *body, char *err, size_t errsz)
{
    json_t *items = batch_array (body, "items", err, errsz);
    if (!items)
        return NULL;
    size_t n = json_array_size (items);
    batch_t b;
    im_record_t *rec = malloc (sizeof *rec);
    own_match_t m = { .origin = im_identity_node (self->identity), .found = malloc (sizeof *rec) };
    json_t *results = json_array ();
    zhashx_t *seen = zhashx_new (); /* type|value -> index in batch, within one request */
    if (batch_init (&b, n) || !rec || !m.found || !results || !seen) {
        snprintf (err, errsz, "out of memory");
        json_decref (results);
        results = NULL;
        goto done;
    }
    int64_t now = im_time_now ();
    for (size_t i = 0; i < n; i++) {
        char why[512];
        im_record_init (rec);
        if (im_record_from_json (rec, json_array_get (items, i), now, why, sizeof why)) {
            json_array_append_new (results, error_result (self, why));
            continue;
        }
        memcpy (rec->origin, im_identity_node (self->identity), IM_NODE_ID_SIZE);
        rec->created = rec->modified = now;
        char key[IM_VALUE_MAX + 8];
        snprintf (key, sizeof key, "%d|%s", rec->type, rec->value);
        size_t *earlier = zhashx_lookup (seen, key);
        const char *status = "new";
        if (earlier) {
            /* The same value twice in one request: the later one updates,
             * unless it says nothing new. */
            const im_record_t *prev = &b.recs[*earlier];
            memcpy (rec->id, prev->id, IM_ID_SIZE);
            rec->version = prev->version + 1;
            rec->created = prev->created;
            status = "updated";
            if (same_content (rec, prev)) {
                char id[IM_ID_STR_SIZE];
                im_id_format (rec->id, id);
                json_array_append_new (results, json_pack ("{s:s, s:s}", "id", id,
                                                           "status", "unchanged"));
                continue;
            }
        }
        else {
            m.type = rec->type;
            m.value = rec->value;
            m.hit = 0;
            im_store_lookup (self->store, rec->type, rec->value, own_match_fn, &m);
            if (m.hit) {
                memcpy (rec->id, m.found->id, IM_ID_SIZE);
                rec->version = m.found->version + 1;
                rec->created = m.found->created;
                status = "updated";
                if (same_content (rec, m.found)) {
                    char id[IM_ID_STR_SIZE];
                    im_id_format (rec->id, id);
                    json_array_append_new (results, json_pack ("{s:s, s:s}", "id", id,
                                                               "status", "unchanged"));
                    continue;
                }
            }
            else
                im_id_generate (rec->id);
        }
        char id[IM_ID_STR_SIZE];
        im_id_format (rec->id, id);
        json_t *result = json_pack ("{s:s, s:s}", "id", id, "status", status);
        if (batch_add (self, &b, rec, result, why, sizeof why)) {
            json_decref (result);
            json_array_append_new (results, error_result (self, why));
            continue;
        }
        json_array_append_new (results, result);
        size_t *index = malloc (sizeof *index);
        if (index) {
            *index = b.n - 1;
            zhashx_update (seen, key, index);
            zhashx_freefn (seen, key, free);
        }
    }
done:
    free (rec);
    free (m.found);
    zhashx_destroy (&seen);
    return batch_finish (self, &b, results, err, errsz);
}

static json_t *
handle_revoke (node_t *self, json_t *body, char *err, size_t errsz)
{
    json_t *ids = batch_array (body, "ids", err, errsz);
    if (!ids)
        return NULL;
    size_t n = json_array_size (ids);
    batch_t b;
    im_record_t *rec = malloc (sizeof *rec);
    json_t *results = json_array ();
    if (batch_init (&b, n) || !rec || !results) {
        snprintf (err, errsz, "out of memory");
        json_decref (results);
        results = NULL;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get (ids, i);
        uint8_t id[IM_ID_SIZE];
        char why[512];
        if (!json_is_string (v) || im_id_parse (json_string_value (v), id)) {
            json_array_append_new (results, error_result (self,
                                   "id: not an indicator id (a UUID)"));
            continue;
        }
        int dup = 0;
        for (size_t j = 0; j < b.n && !dup; j++)
            dup = memcmp (b.recs[j].id, id, IM_ID_SIZE) == 0;
        if (dup || im_store_get (self->store, im_identity_node (self->identity), id, rec)) {
            json_array_append_new (results, error_result (self, dup ? "id: given twice"
                : "id: no indicator of this node has that id (only its origin can "
                  "revoke an indicator)"));
            continue;
        }
        char text[IM_ID_STR_SIZE];
        im_id_format (id, text);
        if (rec->op == IM_OP_REVOKE) {
            json_array_append_new (results, json_pack ("{s:s, s:s}", "id", text,
                                                       "status", "already revoked"));
            continue;
        }
        /* A tombstone says only what is needed to route and apply it (SPEC,
         * "Tombstones"): it may go to holders of an earlier, less restricted
         * version. */
        rec->op = IM_OP_REVOKE;
        rec->version++;
        rec->description[0] = 0;
        rec->ntags = 0;
        rec->confidence = 0;
        rec->modified = im_time_now ();
        json_t *result = json_pack ("{s:s, s:s}", "id", text, "status", "revoked");
        if (batch_add (self, &b, rec, result, why, sizeof why)) {
            json_decref (result);
            json_array_append_new (results, error_result (self, why));
            continue;
        }
        json_array_append_new (results, result);
    }
done:
    free (rec);
    return batch_finish (self, &b, results, err, errsz);
}

static int
collect_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void) blob;
    (void) len;
    json_t *obj = im_record_to_json (rec);
    if (obj)
        json_array_append_new ((json_t *) arg, obj);
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

/* Limits the matches one LOOKUP returns (a value held by many origins). */
#define LOOKUP_MATCH_MAX 1000

typedef struct {
    json_t *matches;
    int truncated;
} lookup_t;

static int
lookup_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    lookup_t *l = arg;
    if (json_array_size (l->matches) >= LOOKUP_MATCH_MAX) {
        l->truncated = 1;
        return 1;
    }
    return collect_fn (rec, blob, len, l->matches);
}

static json_t *
handle_lookup (node_t *self, json_t *body, char *err, size_t errsz)
{
    static const char *const fields[] = { "value", "type", NULL };
    if (strings_only (body, fields, err, errsz))
        return NULL;
    const char *value = json_string_value (json_object_get (body, "value"));
    const char *tname = json_string_value (json_object_get (body, "type"));
    if (!value) {
        snprintf (err, errsz, "LOOKUP: 'value' must be a string");
        return NULL;
    }
    int type = tname ? im_type_parse (tname) : im_ioc_guess (value);
    if (type <= 0) {
        snprintf (err, errsz, "%s", tname ? "type: not an indicator type"
                                          : "value: cannot tell its type: give a type");
        return NULL;
    }
    char norm[IM_VALUE_MAX + 1], why[256];
    if (im_ioc_normalise (type, value, norm, sizeof norm, why, sizeof why)) {
        snprintf (err, errsz, "value: %s", why);
        return NULL;
    }
    lookup_t l = { json_array (), 0 };
    if (!l.matches || im_store_lookup (self->store, type, norm, lookup_fn, &l) < 0) {
        snprintf (err, errsz, "store: look-up failed: %s", strerror (errno));
        json_decref (l.matches);
        return NULL;
    }
    return json_pack ("{s:s, s:s, s:o, s:b}", "type", im_type_name (type), "value", norm,
                      "matches", l.matches, "truncated", l.truncated);
}

static json_t *
handle_list (node_t *self, json_t *body, char *err, size_t errsz)
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
    if (tname && (type = im_type_parse (tname)) < 0) {
        snprintf (err, errsz, "type: not an indicator type");
        return NULL;
    }
    if (origin_text && im_node_parse (origin_text, origin)) {
        snprintf (err, errsz, "origin: not a node id (64 hex digits)");
        return NULL;
    }
    if (after_text && (strlen (after_text) != 2 * IM_STORE_KEY_SIZE
                       || sodium_hex2bin (after, sizeof after, after_text,
                                          strlen (after_text), NULL, &binlen, NULL)
                       || binlen != IM_STORE_KEY_SIZE)) {
        snprintf (err, errsz, "after: not a list position");
        return NULL;
    }
    if (limit <= 0 || limit > IM_CONTROL_LIST_MAX)
        limit = IM_CONTROL_LIST_MAX;
    json_t *records = json_array ();
    memset (next, 0, sizeof next);
    int n = records ? im_store_list (self->store, type, origin_text ? origin : NULL,
                                     after_text ? after : NULL, (size_t) limit,
                                     collect_fn, records, next)
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
    (void) blob;
    (void) len;
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
        int n = im_store_list (self->store, IM_TYPE_NONE, NULL, first ? NULL : after, 10000,
                               find_id_fn, &f, next);
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

static json_t *
handle_explain (node_t *self, json_t *body, char *err, size_t errsz)
{
    static const char *const fields[] = { "id", "origin", "peer", NULL };
    if (strings_only (body, fields, err, errsz))
        return NULL;
    const char *idtext = json_string_value (json_object_get (body, "id"));
    const char *origin_text = json_string_value (json_object_get (body, "origin"));
    const char *peer = json_string_value (json_object_get (body, "peer"));
    uint8_t id[IM_ID_SIZE], origin[IM_NODE_ID_SIZE];
    if (!idtext || im_id_parse (idtext, id)) {
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
    if (!origin_text && find_origin (self, id, origin)) {
        snprintf (err, errsz, "no indicator with id %s is held here", idtext);
        return NULL;
    }
    if (!self->mesh) {
        snprintf (err, errsz, "the mesh is not running");
        return NULL;
    }
    return im_mesh_explain (self->mesh, origin, id, peer, err, errsz);
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
    json_t *o = json_pack ("{s:s, s:I, s:s, s:s, s:I}", "time", im_time_format (when / 1000, t),
                           "time_ms", (json_int_t) when, "origin", node, "id", idtext,
                           "version", (json_int_t) version);
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
        json_object_set_new (o, "held_version", json_integer ((json_int_t) w->rec->version));
    }
}

static json_t *
handle_sent (node_t *self, json_t *body, char *err, size_t errsz)
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
    if ((since_v && !json_is_integer (since_v)) || (limit_v && !json_is_integer (limit_v))) {
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
        snprintf (err, errsz, "no peer named %s on the trust list (give a node id for a "
                  "removed peer)", peer);
        return NULL;
    }
    sent_walk_t w = { self, json_array (), malloc (sizeof (im_record_t)) };
    int n = w.list && w.rec ? im_store_sent_list (self->store, node, since, (size_t) limit + 1,
                                                  sent_fn, &w)
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
    if ((json_int_t) json_array_size (w.list) > limit) {
        json_t *last = json_array_get (w.list, (size_t) limit);
        next = json_integer (json_integer_value (json_object_get (last, "time_ms")));
        json_array_remove (w.list, (size_t) limit);
    }
    char hex[IM_NODE_HEX_SIZE];
    im_node_format (node, hex);
    return json_pack ("{s:s, s:o, s:o}", "node", hex, "sent", w.list, "next", next);
}

static json_t *
handle_status (node_t *self, json_t *body, char *err, size_t errsz)
{
    (void) body;
    im_store_stats_t st;
    if (im_store_stats (self->store, &st)) {
        snprintf (err, errsz, "store: %s", strerror (errno));
        return NULL;
    }
    json_t *by_type = json_object (), *by_tlp = json_object ();
    uint64_t tlp_total[IM_TLP_COUNT] = { 0 };
    for (int t = 1; t < IM_TYPE_COUNT; t++) {
        uint64_t sum = 0;
        for (int l = 1; l < IM_TLP_COUNT; l++) {
            sum += st.live[t][l];
            tlp_total[l] += st.live[t][l];
        }
        if (sum)
            json_object_set_new (by_type, im_type_name (t), json_integer ((json_int_t) sum));
    }
    for (int l = 1; l < IM_TLP_COUNT; l++)
        json_object_set_new (by_tlp, im_tlp_name (l), json_integer ((json_int_t) tlp_total[l]));
    char node[IM_NODE_HEX_SIZE], started[IM_TIME_STR_SIZE];
    im_node_format (im_identity_node (self->identity), node);
    return json_pack (
        "{s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s,"
        " s:{s:I, s:I, s:o, s:o},"
        " s:{s:I, s:I, s:I, s:I, s:I}, s:o, s:o,"
        " s:{s:I, s:I, s:I, s:I, s:I, s:I}}",
        "node", node, "name", self->config.name, "version", PACKAGE_VERSION,
        "pid", (json_int_t) getpid (), "started", im_time_format (self->started, started),
        "uptime", (json_int_t) (im_time_now () - self->started), "pub",
        self->config.pub_endpoint, "directory", self->dir,
        "indicators", "live", (json_int_t) live_total (&st), "revoked",
        (json_int_t) st.revoked, "by_type", by_type, "by_tlp", by_tlp,
        "store", "records", (json_int_t) st.records, "origins", (json_int_t) st.origins,
        "last_seq", (json_int_t) st.last_seq, "map_size", (json_int_t) st.map_size,
        "used_bytes", (json_int_t) st.used_bytes,
        "peers", im_mesh_peers (self->mesh), "refusals", im_mesh_refusals (self->mesh),
        "counters", "published", (json_int_t) self->published, "revoked",
        (json_int_t) self->revoked, "refused", (json_int_t) self->refused, "requests",
        (json_int_t) self->requests, "bad_requests", (json_int_t) self->bad_requests,
        "pub_messages", (json_int_t) self->events);
}

/* Reads the configuration again and applies the trust list. A file that does
 * not load changes nothing. */
static json_t *
handle_reload (node_t *self, json_t *body, char *err, size_t errsz)
{
    (void) body;
    im_config_t *cfg = malloc (sizeof *cfg);
    if (!cfg) {
        snprintf (err, errsz, "out of memory");
        return NULL;
    }
    char why[512];
    json_t *reply = NULL;
    if (im_config_load (self->dir, cfg, why, sizeof why)) {
        snprintf (err, errsz, "reload refused, the running configuration is kept: %s", why);
        zsys_warning ("%s", err);
    }
    else if (im_mesh_reload (self->mesh, cfg, err, errsz) == 0) {
        const char *restart = strcmp (cfg->pub_endpoint, self->config.pub_endpoint)
                                      || strcmp (cfg->bind, self->config.bind)
                                      || strcmp (cfg->name, self->config.name)
                                  ? "node name, bind and pub endpoints take effect at "
                                    "the next start"
                                  : NULL;
        self->config.npeers = cfg->npeers;
        memcpy (self->config.peers, cfg->peers, cfg->npeers * sizeof cfg->peers[0]);
        zsys_info ("configuration reloaded: %zu peers", cfg->npeers);
        reply = json_pack ("{s:I, s:s?}", "peers", (json_int_t) cfg->npeers, "note", restart);
    }
    free (cfg);
    return reply;
}

static json_t *
handle_peers (node_t *self, json_t *body, char *err, size_t errsz)
{
    (void) body;
    json_t *peers = im_mesh_peers (self->mesh);
    if (!peers)
        snprintf (err, errsz, "out of memory");
    return peers ? json_pack ("{s:o}", "peers", peers) : NULL;
}

static const struct {
    const char *name;
    handler_fn *fn;
} handlers[] = {
    { "RELOAD", handle_reload },   { "PEERS", handle_peers },
    { "PUBLISH", handle_publish }, { "REVOKE", handle_revoke },
    { "LOOKUP", handle_lookup },   { "LIST", handle_list },
    { "STATUS", handle_status },   { "EXPLAIN", handle_explain },
    { "SENT", handle_sent },       { NULL, NULL },
};

/* Control requests are [routing id][command][JSON object]; replies are
 * [routing id]["OK" or "ERROR"][JSON object]. */
static void
handle_control (node_t *self)
{
    zmsg_t *msg = zmsg_recv (self->control);
    if (!msg)
        return;
    zframe_t *routing = zmsg_pop (msg);
    char *command = zmsg_popstr (msg);
    zframe_t *body_frame = zmsg_pop (msg);
    char err[1024] = "";
    json_t *reply = NULL, *body = NULL;
    handler_fn *fn = NULL;
    for (int i = 0; command && handlers[i].name && !fn; i++)
        if (strcmp (command, handlers[i].name) == 0)
            fn = handlers[i].fn;
    if (!routing || !command || !body_frame || zmsg_size (msg) != 0)
        snprintf (err, sizeof err, "malformed request: want a command and a JSON body");
    else if (!fn)
        snprintf (err, sizeof err, "unknown command");
    else {
        json_error_t jerr;
        body = json_loadb ((const char *) zframe_data (body_frame),
                           zframe_size (body_frame), JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object (body))
            snprintf (err, sizeof err, "malformed request: body is not a JSON object");
        else
            reply = fn (self, body, err, sizeof err);
    }
    int ok = reply != NULL;
    if (ok)
        self->requests++;
    else {
        /* The command may be any bytes: only printable ASCII reaches the log. */
        char shown[33] = "?";
        for (size_t i = 0; command && command[i] && i < sizeof shown - 1; i++) {
            shown[i] = command[i] > ' ' && command[i] < 0x7F ? command[i] : '?';
            shown[i + 1] = 0;
        }
        self->bad_requests++;
        zsys_warning ("control: refused %s request: %s", shown, err);
        reply = json_pack ("{s:s}", "error", err);
    }
    char *text = json_dumps (reply, JSON_COMPACT);
    if (routing && text) {
        zmsg_t *out = zmsg_new ();
        zmsg_append (out, &routing);
        zmsg_addstr (out, ok ? "OK" : "ERROR");
        zmsg_addstr (out, text);
        zmsg_send (&out, self->control);
    }
    free (text);
    json_decref (reply);
    json_decref (body);
    zframe_destroy (&routing);
    zframe_destroy (&body_frame);
    zstr_free (&command);
    zmsg_destroy (&msg);
}

static void
handle_pipe (node_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command) {
        self->terminated = 1;
        return;
    }
    if (streq (command, "$TERM"))
        self->terminated = 1;
    else if (streq (command, "START")) {
        char err[1024] = "";
        if (self->control || node_start (self, err, sizeof err) == 0)
            zstr_send (self->pipe, "OK");
        else {
            node_stop (self);
            zstr_send (self->pipe, err[0] ? err : "cannot start");
        }
    }
    else if (streq (command, "RELOAD") && self->control) {
        char err[1024];
        json_t *reply = handle_reload (self, NULL, err, sizeof err);
        json_decref (reply);
    }
    else
        zsys_warning ("node: unknown pipe command '%s'", command);
    zstr_free (&command);
}

void
im_node_actor (zsock_t *pipe, void *args)
{
    node_t self = { 0 };
    self.pipe = pipe;
    self.dir = strdup ((const char *) args);
    self.poller = zpoller_new (pipe, NULL);
    zsock_signal (pipe, 0);

    while (!self.terminated) {
        int timeout = -1;
        if (self.control) {
            int64_t left = self.next_heartbeat - zclock_mono ();
            timeout = left > 100 ? 100 : left > 0 ? (int) left : 0;
            if (self.mesh && im_mesh_next_ms (self.mesh) < timeout)
                timeout = im_mesh_next_ms (self.mesh);
        }
        zsock_t *which = zpoller_wait (self.poller, timeout);
        if (which == self.pipe)
            handle_pipe (&self);
        else if (which && which == self.control)
            handle_control (&self);
        else if (which && self.mesh)
            im_mesh_handle (self.mesh, which);
        else if (zpoller_terminated (self.poller))
            break;
        if (self.mesh)
            im_mesh_tick (self.mesh);
        if (self.control && zclock_mono () >= self.next_heartbeat) {
            heartbeat (&self);
            self.next_heartbeat = zclock_mono () + 1000LL * self.config.heartbeat;
        }
    }
    if (self.control)
        zsys_info ("node %s stopping", self.config.name);
    node_stop (&self);
    zpoller_destroy (&self.poller);
    free (self.dir);
}
