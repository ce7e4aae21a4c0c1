/* SPDX-License-Identifier: MPL-2.0 */
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

#include "im_log.h"
#include "im_time.h"
#include "im_node_int.h"

/* --- Start and stop ---------------------------------------------------- */

/* The mesh stored a record from a peer: it goes on the local feed. */
static void
mesh_stored (const im_record_t *rec, void *arg)
{
    node_pub_record ((node_t *)arg, rec);
    node_exercise_stored ((node_t *)arg, rec);
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
peer_rotated (const char *peer, const im_rotation_t *r, void *arg, char *err,
              size_t errsz)
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

/* A trust list that names this node itself (its node id or CURVE key) is
 * refused: it would connect to itself and "send" it indicators. */
static int
refuse_self (const im_identity_t *id, const im_config_t *cfg, char *err, size_t errsz)
{
    for (size_t i = 0; i < cfg->npeers; i++) {
        const im_card_t *card = &cfg->peers[i].card;
        const char *own = im_identity_owns (id, card->node, card->curve_z85);
        if (own) {
            snprintf (err, errsz, "%s: peer %s has %s; take it off the trust list",
                      IM_CONFIG_FILE, card->name, own);
            errno = EINVAL;
            return -1;
        }
    }
    return 0;
}

/* Signs this node's own records of format 1 again, as format 2, once, in a
 * store made before that format (SPEC.md, "Storage and durability"). */
static int
reseal_fn (uint8_t *const *recs, const size_t *lens, size_t n, void *arg, char *err,
           size_t errsz)
{
    node_t *self = arg;
    if (im_record_seal (recs, lens, n, im_identity_sign_secret (self->identity), err,
                        errsz))
        return -1;
    self->sealed++; /* STATUS signatures.signed */
    return 0;
}

static int
node_reseal (node_t *self, char *err, size_t errsz)
{
    if (!im_store_reseal_pending (self->store))
        return 0;
    size_t n = 0;
    int64_t t0 = im_time_now_ms ();
    if (im_store_reseal (self->store, im_identity_node (self->identity), reseal_fn, self,
                         &n, err, errsz))
        return -1;
    zsys_notice ("store: %zu records of this node signed again as format 2, in "
                 "batches of up to %d (%lld ms)",
                 n, IM_BATCH_MAX, (long long)(im_time_now_ms () - t0));
    return 0;
}

static int
node_start (node_t *self, char *err, size_t errsz)
{
    char path[4096];
    if (im_config_load (self->dir, &self->config, err, errsz))
        return -1;
    struct stat st;
    if (stat (self->dir, &st) == 0 && (st.st_mode & 007))
        zsys_warning ("%s is open to every user (mode %04o): chmod 750 it", self->dir,
                      (unsigned)(st.st_mode & 07777));
    self->identity = im_identity_load (self->dir, err, errsz);
    if (!self->identity || refuse_self (self->identity, &self->config, err, errsz))
        return -1;
    if (im_dir_path (self->dir, IM_STORE_DIR, path, sizeof path)) {
        snprintf (err, errsz, "%s: path too long", self->dir);
        return -1;
    }
    self->store = im_store_new (path, self->config.map_size,
                                im_identity_node (self->identity), err, errsz);
    if (!self->store)
        return -1;
    if (im_store_set_max (self->store, self->config.max_size)) {
        snprintf (err, errsz, "store: cannot set its size limit: %s", strerror (errno));
        return -1;
    }
    if (node_reseal (self, err, errsz))
        return -1;
    self->sealer = im_sealer_new (err, errsz);
    if (!self->sealer)
        return -1;

    /* The control socket is made with a tight umask so that it is never,
     * even for an instant, reachable by another user. */
    if (im_dir_check_length (self->dir, err, errsz))
        return -1;
    snprintf (self->control_endpoint, sizeof self->control_endpoint, "ipc://%s/%s",
              self->dir, IM_CONTROL_FILE);
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
        snprintf (err, errsz, "cannot bind control socket %s: %s", self->control_endpoint,
                  zmq_strerror (zmq_errno ()));
        return -1;
    }
    if (load_warnings (self, &self->config, &self->warnings, err, errsz))
        return -1;
    if (node_control_start (self, err, errsz))
        return -1;
    im_poller_add (self->poller, self->control);
    self->mesh = im_mesh_new (&self->config, self->identity, self->store, self->poller,
                              mesh_stored, self, err, errsz);
    if (!self->mesh)
        return -1;
    im_mesh_set_rotate_fn (self->mesh, peer_rotated, self);
    self->to_ack = malloc (NODE_ACK_QUEUE_MAX * sizeof *self->to_ack);
    if (!self->to_ack) {
        snprintf (err, errsz, "out of memory");
        return -1;
    }
    node_exercise_start (self);
    if (node_feed_start (self, err, errsz))
        return -1;
    if (*self->config.taxii_listen) {
        self->taxii = im_taxii_new (&self->config, self->dir, self->store,
                                    im_identity_node (self->identity), err, errsz);
        if (!self->taxii)
            return -1;
        im_poller_add (self->poller, im_taxii_pollable (self->taxii));
    }
    self->started = im_time_now ();
    self->next_heartbeat = zclock_mono () + 1000LL * self->config.heartbeat;
    char node[IM_NODE_HEX_SIZE];
    im_node_format (im_identity_node (self->identity), node);
    zsys_info ("node %s (%s) started: control %s, PUB %s, peers on %s (%zu on the "
               "trust list)",
               self->config.name, node, self->control_endpoint, self->config.pub_endpoint,
               *self->config.bind ? self->config.bind : "none", self->config.npeers);
    return 0;
}

static void
node_stop (node_t *self)
{
    /* The feeds first: a CURVE feed is never without its ZAP handler. */
    node_feed_stop (self);
    if (self->taxii)
        im_poller_remove (self->poller, im_taxii_pollable (self->taxii));
    im_taxii_destroy (&self->taxii);
    im_mesh_destroy (&self->mesh);
    if (self->control)
        im_poller_remove (self->poller, self->control); /* not polled once freed */
    zsock_destroy (&self->control);
    node_control_stop (self);
    im_warninglists_destroy (&self->warnings);
    node_batch_spare_free (self);
    im_sealer_destroy (&self->sealer);
    im_store_destroy (&self->store);
    im_identity_destroy (&self->identity);
    if (self->exercises_dirty)
        node_exercise_save (self); /* what the last batch changed */
    json_decref (self->exercises);
    self->exercises = NULL;
    free (self->to_ack);
    self->to_ack = NULL;
}

/* ROTATE {"grace": seconds?}: a new CURVE key; the previous one works for
 * the grace period while every peer is told (SPEC.md, "ROTATE"). */
static json_t *
handle_rotate (node_t *self, json_t *body, char *err, size_t errsz)
{
    json_t *g = json_object_get (body, "grace");
    int64_t grace = self->config.key_grace;
    if (g
        && (!json_is_integer (g) || json_integer_value (g) < IM_KEY_GRACE_MIN
            || json_integer_value (g) > IM_KEY_GRACE_MAX)) {
        snprintf (err, errsz, "'grace' must be a number of seconds from 5 to 31536000");
        return NULL;
    }
    if (g)
        grace = json_integer_value (g);
    if (im_identity_rotate (self->identity, self->dir, im_time_now (), grace, err, errsz))
        return NULL;
    im_mesh_keys_changed (self->mesh);
    int feed = node_feed_rekey (self);
    char card[IM_CARD_MAX], until[IM_TIME_STR_SIZE];
    im_identity_card (self->identity, self->config.name, self->config.listen, card,
                      sizeof card);
    zsys_info ("identity: new CURVE key; the previous one works until %s",
               im_time_format (im_identity_previous_until (self->identity), until));
    json_t *reply = json_pack ("{s:s, s:s, s:I}", "card", card, "previous_until", until,
                               "peers", (json_int_t)self->config.npeers);
    if (reply && *self->config.pub_subscribers)
        json_object_set_new (reply, "feed", json_string (feed ? "off" : "new key"));
    return reply;
}

/* Reads the configuration again and applies the trust list. A file that does
 * not load changes nothing. */
static json_t *
handle_reload (node_t *self, json_t *body, char *err, size_t errsz)
{
    (void)body;
    im_config_t *cfg = malloc (sizeof *cfg);
    if (!cfg) {
        snprintf (err, errsz, "out of memory");
        return NULL;
    }
    char why[512];
    json_t *reply = NULL;
    im_warninglists_t *warnings = NULL;
    im_log_reopen (); /* logrotate moved it, perhaps */
    if (im_config_load (self->dir, cfg, why, sizeof why)
        || refuse_self (self->identity, cfg, why, sizeof why)
        || load_warnings (self, cfg, &warnings, why, sizeof why)) {
        snprintf (err, errsz, "reload refused, the running configuration is kept: %s",
                  why);
        zsys_warning ("%s", err);
    }
    else if (im_mesh_reload (self->mesh, cfg, err, errsz) == 0) {
        const char *restart
            = strcmp (cfg->pub_endpoint, self->config.pub_endpoint)
                      || strcmp (cfg->bind, self->config.bind)
                      || strcmp (cfg->name, self->config.name)
                      || cfg->pub_misp != self->config.pub_misp
                      || strcmp (cfg->pub_misp_endpoint, self->config.pub_misp_endpoint)
                      || strcmp (cfg->pub_group, self->config.pub_group)
                      || strcmp (cfg->pub_subscribers, self->config.pub_subscribers)
                  ? "node name, bind and pub settings take effect at "
                    "the next start"
                  : NULL;
        if (cfg->max_size != self->config.max_size
            && im_store_set_max (self->store, cfg->max_size) == 0) {
            self->config.max_size = cfg->max_size;
            zsys_info ("store: size limit now %zu bytes (0: none)", cfg->max_size);
        }
        self->config.npeers = cfg->npeers;
        memcpy (self->config.peers, cfg->peers, cfg->npeers * sizeof cfg->peers[0]);
        im_taxii_reload (self->taxii, cfg);
        im_warninglists_destroy (&self->warnings);
        self->warnings = warnings;
        warnings = NULL;
        snprintf (self->config.warninglists, sizeof self->config.warninglists, "%s",
                  cfg->warninglists);
        zsys_info ("configuration reloaded: %zu peers", cfg->npeers);
        reply = json_pack ("{s:I, s:s?}", "peers", (json_int_t)cfg->npeers, "note",
                           restart);
    }
    im_warninglists_destroy (&warnings);
    free (cfg);
    return reply;
}

static json_t *
handle_peers (node_t *self, json_t *body, char *err, size_t errsz)
{
    (void)body;
    json_t *peers = im_mesh_peers (self->mesh);
    if (!peers)
        snprintf (err, errsz, "out of memory");
    return peers ? json_pack ("{s:o, s:o, s:I}", "peers", peers, "refused_keys",
                              im_mesh_refused_keys (self->mesh), "fetch_grace_ms",
                              (json_int_t)im_mesh_fetch_grace (self->mesh))
                 : NULL;
}

/* One handler a command of the control protocol (proto/im_ctl.h). */
static handler_fn *const handlers[IM_CTL_COUNT] = {
    [IM_CTL_PUBLISH] = node_handle_publish,   [IM_CTL_REVOKE] = node_handle_revoke,
    [IM_CTL_LOOKUP] = node_handle_lookup,     [IM_CTL_LIST] = node_handle_list,
    [IM_CTL_STATUS] = node_handle_status,     [IM_CTL_PEERS] = handle_peers,
    [IM_CTL_EXPLAIN] = node_handle_explain,   [IM_CTL_SENT] = node_handle_sent,
    [IM_CTL_CHECK] = node_handle_check,       [IM_CTL_ROTATE] = handle_rotate,
    [IM_CTL_RELOAD] = handle_reload,          [IM_CTL_REPORT] = node_handle_report,
    [IM_CTL_SIGHT] = node_handle_sight,       [IM_CTL_SIGHTINGS] = node_handle_sightings,
    [IM_CTL_EXERCISE] = node_handle_exercise,
};

/* Control requests are [routing id][command][JSON object]; replies are
 * [routing id]["OK" or "ERROR"][JSON object] (SPEC.md, "Transport"). */
static void
answer (node_t *self, node_request_t *req)
{
    char *err = req->err;
    size_t errsz = sizeof req->err;
    json_t *reply = NULL;
    self->request = req;
    if (req->rc == 0)
        reply = handlers[req->cmd](self, req->body, err, errsz);
    self->request = NULL;
    if (reply)
        self->requests++;
    else if (self->store_failed)
        self->store_errors++; /* not the request's fault; logged as a store error */
    else {
        self->bad_requests++;
        zsys_warning ("control: refused %s request: %s", req->shown, err);
    }
    self->store_failed = 0;
    zmsg_t *out = reply && self->reply_text.data
                      ? im_ctl_reply_text (self->reply_text.data, self->reply_text.len)
                      : im_ctl_reply_encode (reply, reply ? NULL : err);
    im_ctl_text_free (&self->reply_text);
    if (req->routing && out) {
        zmsg_prepend (out, &req->routing);
        zmsg_send (&out, self->control);
    }
    zmsg_destroy (&out);
    json_decref (reply);
}

/* Answers the requests waiting, in order: those read ahead by the reader
 * while the one before was answered, at most CONTROL_TURN_MAX more taken
 * from the socket in one turn (the mesh gets its turn in between). */
#define CONTROL_TURN_MAX 16
static void
handle_control (node_t *self)
{
    size_t budget = CONTROL_TURN_MAX;
    node_request_t *req;
    while ((req = node_control_next (self, &budget))) {
        answer (self, req);
        node_control_done (self, &req);
    }
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
    self.dir = strdup ((const char *)args);
    self.poller = im_poller_new (pipe, NULL);
    zsock_signal (pipe, 0);

    while (!self.terminated) {
        int timeout = -1;
        if (self.control) {
            int64_t left = self.next_heartbeat - zclock_mono ();
            timeout = left > 100 ? 100 : left > 0 ? (int)left : 0;
            if (self.mesh && im_mesh_next_ms (self.mesh) < timeout)
                timeout = im_mesh_next_ms (self.mesh);
        }
        timeout = im_taxii_next_ms (self.taxii, timeout);
        zsock_t *which = im_poller_wait (self.poller, timeout);
        if (which == self.pipe)
            handle_pipe (&self);
        else if (which && which == self.control) {
            handle_control (&self);
            im_mesh_handle_ready (self.mesh); /* the peers get their turn */
        }
        else if (which && which == im_taxii_pollable (self.taxii))
            ; /* run below, every turn (its timeouts too) */
        else if (which && self.mesh)
            im_mesh_handle (self.mesh, which);
        else if (im_poller_terminated (self.poller))
            break;
        if (self.identity && im_identity_curve_previous_public (self.identity)
            && im_identity_previous_until (self.identity) <= im_time_now ()
            && zclock_mono () >= self.forget_at) {
            char err[512];
            if (im_identity_forget_previous (self.identity, self.dir, err, sizeof err)) {
                zsys_error (
                    "identity: cannot forget the previous CURVE key (trying again "
                    "in a minute): %s",
                    err);
                self.forget_at = zclock_mono () + 60000;
            }
            else if (self.mesh)
                im_mesh_keys_changed (self.mesh);
        }
        if (self.mesh)
            im_mesh_tick (self.mesh);
        if (self.control)
            node_exercise_tick (&self);
        node_batch_tick (&self);
        im_taxii_run (self.taxii);
        if (self.control && zclock_mono () >= self.next_heartbeat) {
            node_heartbeat (&self);
            self.next_heartbeat = zclock_mono () + 1000LL * self.config.heartbeat;
        }
    }
    if (self.control)
        zsys_info ("node %s stopping", self.config.name);
    node_stop (&self);
    im_poller_destroy (&self.poller);
    free (self.dir);
}
