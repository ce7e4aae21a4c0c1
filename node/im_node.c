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
#include "im_misp.h"
#include "im_node.h"
#include "im_record.h"
#include "im_store.h"
#include "im_time.h"
#include "im_warninglist.h"

typedef struct {
    zsock_t *pipe;
    zsock_t *control;
    zsock_t *pub;      /* the local feed, in pub_endpoint's format */
    zsock_t *pub_misp; /* a second feed in MISP's format, or NULL */
    zpoller_t *poller;
    char *dir;
    char control_endpoint[6 + 108]; /* ipc:// and a socket path */
    im_config_t config;
    im_identity_t *identity;
    im_store_t *store;
    im_mesh_t *mesh;
    im_warninglists_t *warnings; /* NULL when the config names none */
    int64_t started;
    int64_t next_heartbeat; /* zclock_mono ms */
    int64_t forget_at;      /* when to try forgetting the previous key again */
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

/* Loads the warninglists CFG names (a path relative to the data directory
 * is taken from there) into *OUT, NULL when it names none. Returns 0, or -1
 * with the reason (a list that does not load). */
static int
load_warnings (node_t *self, const im_config_t *cfg, im_warninglists_t **out, char *err,
               size_t errsz)
{
    *out = NULL;
    if (!*cfg->warninglists)
        return 0;
    char path[4096], skipped[512] = "", why[512];
    if (cfg->warninglists[0] == '/')
        snprintf (path, sizeof path, "%s", cfg->warninglists);
    else if (im_dir_path (self->dir, cfg->warninglists, path, sizeof path)) {
        snprintf (err, errsz, "warninglists: path too long");
        return -1;
    }
    size_t nlists = 0;
    im_warninglists_t *lists = im_warninglists_new ();
    if (!lists
        || im_warninglists_load (lists, path, &nlists, skipped, sizeof skipped, why,
                                 sizeof why)) {
        snprintf (err, errsz, "warninglists: %s", lists ? why : "out of memory");
        im_warninglists_destroy (&lists);
        return -1;
    }
    zsys_info ("warninglists: %zu loaded from %s%s%s", nlists, path,
               *skipped ? "; not supported, skipped: " : "", skipped);
    *out = lists;
    return 0;
}

/* A peer rotated its CURVE key: its new card and previous key go into the
 * configuration file (atomically, comments kept), and into the copy the node
 * runs with. */
static int
peer_rotated (const char *peer, const im_rotation_t *r, void *arg, char *err, size_t errsz)
{
    node_t *self = arg;
    im_peer_conf_t *conf = NULL;
    for (size_t i = 0; i < self->config.npeers && !conf; i++)
        if (strcmp (self->config.peers[i].card.name, peer) == 0)
            conf = &self->config.peers[i];
    if (!conf) {
        snprintf (err, errsz, "%s is not in the configuration", peer);
        return -1;
    }
    char node[IM_NODE_HEX_SIZE], curve[65], old[65], until[IM_TIME_STR_SIZE];
    char card[IM_CARD_MAX];
    im_node_format (r->node, node);
    sodium_bin2hex (curve, sizeof curve, r->new_curve, 32);
    sodium_bin2hex (old, sizeof old, r->old_curve, 32);
    snprintf (card, sizeof card, "%s %s %s %s %s", IM_CARD_TAG, peer, node, curve,
              *conf->card.endpoint ? conf->card.endpoint : "-");
    const char *keys[] = { "card", "previous-curve", "previous-until" };
    const char *values[] = { card, old, im_time_format (r->until, until) };
    if (im_config_section_set (self->dir, "peer", peer, 0, keys, values, 3, err, errsz))
        return -1;
    memcpy (conf->card.curve, r->new_curve, 32);
    zmq_z85_encode (conf->card.curve_z85, conf->card.curve, 32);
    memcpy (conf->prev_curve, r->old_curve, 32);
    zmq_z85_encode (conf->prev_curve_z85, conf->prev_curve, 32);
    conf->prev_until = r->until;
    return 0;
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
    zsock_set_rcvhwm (self->control, IM_CONTROL_HWM);
    zsock_set_sndhwm (self->control, IM_CONTROL_HWM);
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
    if (*self->config.pub_misp_endpoint) {
        self->pub_misp = zsock_new (ZMQ_PUB);
        if (!self->pub_misp) {
            snprintf (err, errsz, "PUB socket: %s", zmq_strerror (zmq_errno ()));
            return -1;
        }
        zsock_set_sndhwm (self->pub_misp, 100000);
        zsock_set_linger (self->pub_misp, 0);
        if (zsock_bind (self->pub_misp, "%s", self->config.pub_misp_endpoint) < 0) {
            snprintf (err, errsz, "cannot bind MISP PUB socket %s: %s",
                      self->config.pub_misp_endpoint, zmq_strerror (zmq_errno ()));
            return -1;
        }
    }
    if (load_warnings (self, &self->config, &self->warnings, err, errsz))
        return -1;
    zpoller_add (self->poller, self->control);
    self->mesh = im_mesh_new (&self->config, self->identity, self->store, self->poller,
                              mesh_stored, self, err, errsz);
    if (!self->mesh)
        return -1;
    im_mesh_set_rotate_fn (self->mesh, peer_rotated, self);
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
    zsock_destroy (&self->pub_misp);
    im_warninglists_destroy (&self->warnings);
    im_store_destroy (&self->store);
    im_identity_destroy (&self->identity);
}

/* --- Publishing -------------------------------------------------------- */

static void
pub_send (node_t *self, zsock_t *sock, const char *topic, json_t *obj)
{
    char *text = json_dumps (obj, JSON_COMPACT);
    if (text) {
        zstr_sendx (sock, topic, text, NULL);
        self->events++;
        free (text);
    }
}

/* MISP's feed is one frame: the topic, a space, the JSON. */
static void
pub_send_misp (node_t *self, zsock_t *sock, const char *topic, json_t *obj)
{
    char *text = json_dumps (obj, JSON_COMPACT);
    if (text) {
        zstr_sendf (sock, "%s %s", topic, text);
        self->events++;
        free (text);
    }
}

/* The name an admin knows an origin by: this node's, a peer's, or NULL. */
static const char *
origin_name (node_t *self, const uint8_t *origin)
{
    if (memcmp (origin, im_identity_node (self->identity), IM_NODE_ID_SIZE) == 0)
        return self->config.name;
    for (size_t i = 0; i < self->config.npeers; i++)
        if (memcmp (origin, self->config.peers[i].card.node, IM_NODE_ID_SIZE) == 0)
            return self->config.peers[i].card.name;
    return NULL;
}

static void
pub_record (node_t *self, const im_record_t *rec)
{
    zsock_t *misp = self->config.pub_misp ? self->pub : self->pub_misp;
    if (!self->config.pub_misp) {
        char topic[64];
        snprintf (topic, sizeof topic, "ioc.%s.%s", im_type_name (rec->type),
                  im_tlp_name (rec->tlp));
        json_t *obj = im_record_to_json (rec);
        if (obj) {
            pub_send (self, self->pub, topic, obj);
            json_decref (obj);
        }
    }
    if (misp) {
        json_t *obj = im_misp_attribute (rec, origin_name (self, rec->origin));
        if (obj) {
            pub_send_misp (self, misp, "misp_json_attribute", obj);
            json_decref (obj);
        }
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
    int64_t uptime = im_time_now () - self->started;
    zsock_t *misp = self->config.pub_misp ? self->pub : self->pub_misp;
    if (!self->config.pub_misp) {
        json_t *obj = json_pack ("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "node", node, "name",
                                 self->config.name, "time",
                                 im_time_format (im_time_now (), now), "uptime",
                                 (json_int_t) uptime, "indicators",
                                 (json_int_t) live_total (&st), "revoked",
                                 (json_int_t) st.revoked, "last_seq", (json_int_t) st.last_seq);
        if (obj) {
            pub_send (self, self->pub, "node.heartbeat", obj);
            json_decref (obj);
        }
    }
    if (misp) {
        /* As MISP's feed says it is alive. */
        json_t *obj = json_pack ("{s:s, s:I, s:s}", "status", "intelmesh feed alive",
                                 "uptime", (json_int_t) uptime, "name", self->config.name);
        if (obj) {
            pub_send_misp (self, misp, "misp_json_self", obj);
            json_decref (obj);
        }
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

/* The first warninglist that holds a value. */
typedef struct {
    char list[256];
    char entry[256];
    int hit;
} warn_hit_t;

static int
warn_hit_fn (const char *list, const char *entry, void *arg)
{
    warn_hit_t *w = arg;
    snprintf (w->list, sizeof w->list, "%s", list);
    snprintf (w->entry, sizeof w->entry, "%s", entry);
    w->hit = 1;
    return 1;
}

/* A refused item: the one-line reason, and a short REASON an importer counts
 * by ("bad value", "on warninglist RFC 1918"). */
static json_t *
refused_result (node_t *self, const char *why, const char *reason)
{
    self->refused++;
    return json_pack ("{s:s, s:s}", "error", why, "reason", reason);
}

/* The reason class of a record's check failure: "bad FIELD", from its
 * "FIELD: ..." message. */
static json_t *
invalid_result (node_t *self, const char *why)
{
    char reason[64];
    size_t n = strcspn (why, ":");
    snprintf (reason, sizeof reason, "bad %.*s", (int) (n < 40 ? n : 40), why);
    return refused_result (self, why, reason);
}

/* Fields of a PUBLISH item that are not the record's content. */
static const char *const item_extras[] = { "id", "revoke", "source", "force", NULL };

/* An item's own fields: ID (the indicator's id when given), REVOKE, FORCE.
 * Returns the content part (a new reference), or NULL with the reason. */
static json_t *
item_split (json_t *item, uint8_t id[IM_ID_SIZE], int *has_id, int *revoke, int *force,
            char *why, size_t whysz)
{
    *has_id = *revoke = 0;
    if (!json_is_object (item)) {
        snprintf (why, whysz, "indicator: not a JSON object");
        return NULL;
    }
    json_t *v = json_object_get (item, "id");
    if (v && !json_is_null (v)) {
        if (!json_is_string (v) || im_id_parse (json_string_value (v), id)) {
            snprintf (why, whysz, "id: not an indicator id (a UUID)");
            return NULL;
        }
        *has_id = 1;
    }
    v = json_object_get (item, "revoke");
    if (v && !json_is_boolean (v)) {
        snprintf (why, whysz, "revoke: not true or false");
        return NULL;
    }
    *revoke = json_is_true (v);
    v = json_object_get (item, "force");
    if (v && !json_is_boolean (v)) {
        snprintf (why, whysz, "force: not true or false");
        return NULL;
    }
    if (json_is_true (v))
        *force = 1;
    v = json_object_get (item, "source");
    if (v && !json_is_string (v)) {
        snprintf (why, whysz, "source: not a string");
        return NULL;
    }
    json_t *content = json_copy (item);
    for (int i = 0; content && item_extras[i]; i++)
        json_object_del (content, item_extras[i]);
    if (!content)
        snprintf (why, whysz, "out of memory");
    return content;
}

/* Turns REC (this node's stored record) into its tombstone, one version on. */
static void
make_tombstone (im_record_t *rec)
{
    /* A tombstone says only what is needed to route and apply it (SPEC,
     * "Tombstones"): it may go to holders of an earlier, less restricted
     * version. */
    rec->op = IM_OP_REVOKE;
    rec->version++;
    rec->description[0] = 0;
    rec->ntags = 0;
    rec->confidence = 0;
    rec->modified = im_time_now ();
}

/* PUBLISH {"items": [...], "force": bool, "dry_run": bool}. Each item is an
 * indicator's content, with optional "id" (an importer's stable id: the same
 * id updates the same indicator), "revoke" and "force". A value on a
 * warninglist is refused unless forced. With dry_run everything is checked
 * and signed, and nothing is stored. */
static json_t *
handle_publish (node_t *self, json_t *body, char *err, size_t errsz)
{
    json_t *items = batch_array (body, "items", err, errsz);
    if (!items)
        return NULL;
    json_t *force_v = json_object_get (body, "force");
    json_t *dry_v = json_object_get (body, "dry_run");
    if ((force_v && !json_is_boolean (force_v)) || (dry_v && !json_is_boolean (dry_v))) {
        snprintf (err, errsz, "'force' and 'dry_run' must be true or false");
        return NULL;
    }
    int dry_run = json_is_true (dry_v);
    size_t n = json_array_size (items);
    batch_t b;
    im_record_t *rec = malloc (sizeof *rec);
    own_match_t m = { .origin = im_identity_node (self->identity), .found = malloc (sizeof *rec) };
    json_t *results = json_array ();
    zhashx_t *seen = zhashx_new (); /* type|value or #id -> index in batch */
    if (batch_init (&b, n) || !rec || !m.found || !results || !seen) {
        snprintf (err, errsz, "out of memory");
        json_decref (results);
        results = NULL;
        goto done;
    }
    int64_t now = im_time_now ();
    for (size_t i = 0; i < n; i++) {
        char why[512], idtext[IM_ID_STR_SIZE];
        uint8_t id[IM_ID_SIZE];
        int has_id, revoke, force = json_is_true (force_v);
        json_t *content = item_split (json_array_get (items, i), id, &has_id, &revoke,
                                      &force, why, sizeof why);
        im_record_init (rec);
        int bad = !content || im_record_from_json (rec, content, now, why, sizeof why);
        json_decref (content);
        if (bad) {
            json_array_append_new (results, invalid_result (self, why));
            continue;
        }
        memcpy (rec->origin, im_identity_node (self->identity), IM_NODE_ID_SIZE);
        rec->created = rec->modified = now;
        char key[IM_VALUE_MAX + 8];
        if (has_id) {
            im_id_format (id, idtext);
            snprintf (key, sizeof key, "#%s", idtext);
        }
        else
            snprintf (key, sizeof key, "%d|%s", rec->type, rec->value);
        size_t *earlier = zhashx_lookup (seen, key);
        const im_record_t *prev = NULL;
        if (earlier)
            prev = &b.recs[*earlier]; /* the same indicator twice in one request */
        else if (has_id) {
            if (im_store_get (self->store, im_identity_node (self->identity), id, m.found) == 0)
                prev = m.found;
        }
        else {
            m.type = rec->type;
            m.value = rec->value;
            m.hit = 0;
            im_store_lookup (self->store, rec->type, rec->value, own_match_fn, &m);
            if (m.hit)
                prev = m.found;
        }
        const char *status = "new";
        if (revoke) {
            /* An importer's revoked object: the tombstone of what we hold. */
            if (!prev || prev->op == IM_OP_REVOKE) {
                if (prev)
                    im_id_format (prev->id, idtext);
                json_array_append_new (
                    results, prev ? json_pack ("{s:s, s:s}", "id", idtext, "status",
                                               "unchanged")
                                  : json_pack ("{s:s?, s:s, s:s}", "id",
                                               has_id ? idtext : NULL, "status", "skipped",
                                               "reason", "revoked, and not held here"));
                continue;
            }
            memcpy (rec, prev, sizeof *rec);
            make_tombstone (rec);
            status = "revoked";
        }
        else {
            if (!force && self->warnings) {
                warn_hit_t w = { .hit = 0 };
                im_warninglists_match (self->warnings, rec->type, rec->value, warn_hit_fn, &w);
                if (w.hit) {
                    char reason[300];
                    snprintf (why, sizeof why,
                              "value: '%.100s' is on the warninglist '%.120s' (entry '%.120s'): "
                              "force it to publish it anyway",
                              rec->value, w.list, w.entry);
                    snprintf (reason, sizeof reason, "on warninglist '%s'", w.list);
                    json_array_append_new (results, refused_result (self, why, reason));
                    continue;
                }
            }
            if (prev) {
                memcpy (rec->id, prev->id, IM_ID_SIZE);
                rec->version = prev->version + 1;
                rec->created = prev->created;
                status = "updated";
                if (prev->op == IM_OP_PUT && rec->type == prev->type
                    && strcmp (rec->value, prev->value) == 0 && same_content (rec, prev)) {
                    im_id_format (rec->id, idtext);
                    json_array_append_new (results, json_pack ("{s:s, s:s}", "id", idtext,
                                                               "status", "unchanged"));
                    continue;
                }
            }
            else if (has_id)
                memcpy (rec->id, id, IM_ID_SIZE);
            else
                im_id_generate (rec->id);
        }
        im_id_format (rec->id, idtext);
        json_t *result = json_pack ("{s:s, s:s}", "id", idtext, "status", status);
        if (batch_add (self, &b, rec, result, why, sizeof why)) {
            json_decref (result);
            json_array_append_new (results, invalid_result (self, why));
            continue;
        }
        json_array_append_new (results, result);
        /* Found again by its id, and by its value (rule 4) alike. */
        char value_key[IM_VALUE_MAX + 8];
        snprintf (value_key, sizeof value_key, "%d|%s", rec->type, rec->value);
        const char *keys[] = { key, has_id ? value_key : NULL };
        for (int k = 0; k < 2 && keys[k]; k++) {
            size_t *index = malloc (sizeof *index);
            if (index) {
                *index = b.n - 1;
                zhashx_update (seen, keys[k], index);
                zhashx_freefn (seen, keys[k], free);
            }
        }
    }
done:
    free (rec);
    free (m.found);
    zhashx_destroy (&seen);
    if (dry_run && results) {
        batch_free (&b);
        return json_pack ("{s:o, s:b}", "results", results, "dry_run", 1);
    }
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
        make_tombstone (rec);
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
        snprintf (err, errsz, "%s", tname ? "type: not an indicator type"
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

static json_t *
handle_lookup (node_t *self, json_t *body, char *err, size_t errsz)
{
    char norm[IM_VALUE_MAX + 1];
    int type = request_value ("LOOKUP", body, norm, err, errsz);
    if (type < 0)
        return NULL;
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

/* STATUS shows origins by the name an admin knows them by, if any. */
typedef struct {
    node_t *node;
    json_t *by_origin;
} origins_walk_t;

static int
origin_fn (const uint8_t *origin, uint64_t records, uint64_t last_seq, void *arg)
{
    (void) last_seq;
    origins_walk_t *w = arg;
    char hex[IM_NODE_HEX_SIZE];
    im_node_format (origin, hex);
    const char *name = origin_name (w->node, origin);
    json_array_append_new (w->by_origin,
                           json_pack ("{s:s, s:s?, s:I}", "origin", hex, "name", name,
                                      "held", (json_int_t) records));
    return json_array_size (w->by_origin) >= 1000; /* enough for a glance */
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
    origins_walk_t w = { self, json_array () };
    if (w.by_origin)
        im_store_origins (self->store, origin_fn, &w);
    json_t *keys = json_pack ("{s:s}", "curve", im_identity_curve_public (self->identity));
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
    if (st_json) {
        json_object_set_new (json_object_get (st_json, "indicators"), "by_origin",
                             w.by_origin ? w.by_origin : json_array ());
        json_object_set_new (st_json, "keys", keys ? keys : json_object ());
        json_object_set_new (st_json, "warninglists",
                             json_integer (self->warnings
                                               ? (json_int_t) im_warninglists_size (self->warnings)
                                               : 0));
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
    json_array_append_new ((json_t *) arg, json_pack ("{s:s, s:s}", "list", list,
                                                      "entry", entry));
    return 0;
}

/* CHECK {"value", "type"?}: the warninglists that hold a value. */
static json_t *
handle_check (node_t *self, json_t *body, char *err, size_t errsz)
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
    return json_pack ("{s:s, s:s, s:o, s:I}", "type", im_type_name (type), "value", norm,
                      "lists", matches, "loaded",
                      (json_int_t) (self->warnings ? im_warninglists_size (self->warnings)
                                                   : 0));
}

/* ROTATE {"grace": seconds?}: a new CURVE key; the previous one works for
 * the grace period while every peer is told (SPEC.md, "ROTATE"). */
static json_t *
handle_rotate (node_t *self, json_t *body, char *err, size_t errsz)
{
    json_t *g = json_object_get (body, "grace");
    int64_t grace = self->config.key_grace;
    if (g && (!json_is_integer (g) || json_integer_value (g) < IM_KEY_GRACE_MIN
              || json_integer_value (g) > IM_KEY_GRACE_MAX)) {
        snprintf (err, errsz, "'grace' must be a number of seconds from 5 to 31536000");
        return NULL;
    }
    if (g)
        grace = json_integer_value (g);
    if (im_identity_rotate (self->identity, self->dir, im_time_now (), grace, err, errsz))
        return NULL;
    im_mesh_keys_changed (self->mesh);
    char card[IM_CARD_MAX], until[IM_TIME_STR_SIZE];
    im_identity_card (self->identity, self->config.name, self->config.listen, card,
                      sizeof card);
    zsys_info ("identity: new CURVE key; the previous one works until %s",
               im_time_format (im_identity_previous_until (self->identity), until));
    return json_pack ("{s:s, s:s, s:I}", "card", card, "previous_until", until, "peers",
                      (json_int_t) self->config.npeers);
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
    im_warninglists_t *warnings = NULL;
    if (im_config_load (self->dir, cfg, why, sizeof why)
        || load_warnings (self, cfg, &warnings, why, sizeof why)) {
        snprintf (err, errsz, "reload refused, the running configuration is kept: %s", why);
        zsys_warning ("%s", err);
    }
    else if (im_mesh_reload (self->mesh, cfg, err, errsz) == 0) {
        const char *restart = strcmp (cfg->pub_endpoint, self->config.pub_endpoint)
                                      || strcmp (cfg->bind, self->config.bind)
                                      || strcmp (cfg->name, self->config.name)
                                      || cfg->pub_misp != self->config.pub_misp
                                      || strcmp (cfg->pub_misp_endpoint,
                                                 self->config.pub_misp_endpoint)
                                  ? "node name, bind and pub settings take effect at "
                                    "the next start"
                                  : NULL;
        self->config.npeers = cfg->npeers;
        memcpy (self->config.peers, cfg->peers, cfg->npeers * sizeof cfg->peers[0]);
        im_warninglists_destroy (&self->warnings);
        self->warnings = warnings;
        warnings = NULL;
        snprintf (self->config.warninglists, sizeof self->config.warninglists, "%s",
                  cfg->warninglists);
        zsys_info ("configuration reloaded: %zu peers", cfg->npeers);
        reply = json_pack ("{s:I, s:s?}", "peers", (json_int_t) cfg->npeers, "note", restart);
    }
    im_warninglists_destroy (&warnings);
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

/* One handler a command of the control protocol (proto/im_ctl.h). */
static handler_fn *const handlers[IM_CTL_COUNT] = {
    [IM_CTL_PUBLISH] = handle_publish, [IM_CTL_REVOKE] = handle_revoke,
    [IM_CTL_LOOKUP] = handle_lookup,   [IM_CTL_LIST] = handle_list,
    [IM_CTL_STATUS] = handle_status,   [IM_CTL_PEERS] = handle_peers,
    [IM_CTL_EXPLAIN] = handle_explain, [IM_CTL_SENT] = handle_sent,
    [IM_CTL_CHECK] = handle_check,     [IM_CTL_ROTATE] = handle_rotate,
    [IM_CTL_RELOAD] = handle_reload,
};

/* Control requests are [routing id][command][JSON object]; replies are
 * [routing id]["OK" or "ERROR"][JSON object] (SPEC.md, "Transport"). */
static void
handle_control (node_t *self)
{
    zmsg_t *msg = zmsg_recv (self->control);
    if (!msg)
        return;
    zframe_t *routing = zmsg_pop (msg);
    char err[1024] = "", shown[IM_CONTROL_NAME_MAX + 2];
    json_t *reply = NULL, *body = NULL;
    im_ctl_cmd_t cmd;
    if (im_ctl_request_decode (msg, &cmd, &body, shown, err, sizeof err) == 0)
        reply = handlers[cmd] (self, body, err, sizeof err);
    if (reply)
        self->requests++;
    else {
        self->bad_requests++;
        zsys_warning ("control: refused %s request: %s", shown, err);
    }
    zmsg_t *out = im_ctl_reply_encode (reply, reply ? NULL : err);
    if (routing && out) {
        zmsg_prepend (out, &routing);
        zmsg_send (&out, self->control);
    }
    zmsg_destroy (&out);
    json_decref (reply);
    json_decref (body);
    zframe_destroy (&routing);
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
        if (self.identity && im_identity_curve_previous_public (self.identity)
            && im_identity_previous_until (self.identity) <= im_time_now ()
            && zclock_mono () >= self.forget_at) {
            char err[512];
            if (im_identity_forget_previous (self.identity, self.dir, err, sizeof err)) {
                zsys_error ("identity: cannot forget the previous CURVE key (trying again "
                            "in a minute): %s", err);
                self.forget_at = zclock_mono () + 60000;
            }
            else if (self.mesh)
                im_mesh_keys_changed (self.mesh);
        }
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
