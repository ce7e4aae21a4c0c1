/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_feed.c -- the node's local feed: every accepted change goes out on
 * the PUB socket as JSON under its topic (native or MISP's shape), and a
 * heartbeat says the node is alive (SPEC.md, "The local feed"). Its sockets
 * are private: ipc:// 0660 for a group, or CURVE for listed subscribers. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>
#include <sodium.h>

#include "im_node_int.h"

/* --- Publishing -------------------------------------------------------- */

/* Reads what the subscribers of SOCK (an XPUB socket) asked for or dropped
 * since the last call: libzmq tells each distinct prefix once, and its end
 * once its last subscriber is gone. */
static void
subs_update (zsock_t *sock, node_subs_t *subs)
{
    uint8_t buf[NODE_SUB_MAX + 2];
    for (int i = 0; sock && i < 1000; i++) {
        int len = zmq_recv (zsock_resolve (sock), buf, sizeof buf, ZMQ_DONTWAIT);
        if (len < 1)
            break;
        size_t plen = (size_t)len - 1;
        if (plen > NODE_SUB_MAX || (size_t)len > sizeof buf) {
            if (buf[0] == 1)
                subs->unknown++;
            else if (subs->unknown)
                subs->unknown--;
            continue;
        }
        size_t at = 0;
        while (at < subs->n
               && !(strlen (subs->prefix[at]) == plen
                    && memcmp (subs->prefix[at], buf + 1, plen) == 0))
            at++;
        if (buf[0] == 1 && at == subs->n && subs->n < NODE_SUBS_MAX) {
            memcpy (subs->prefix[subs->n], buf + 1, plen);
            subs->prefix[subs->n++][plen] = 0;
        }
        else if (buf[0] == 1 && at == subs->n)
            subs->unknown++;
        else if (buf[0] == 0 && at < subs->n)
            memmove (subs->prefix[at], subs->prefix[at + 1],
                     (--subs->n - at) * sizeof subs->prefix[0]);
        else if (buf[0] == 0 && subs->unknown)
            subs->unknown--;
    }
}

/* Whether a subscriber of SOCK wants TOPIC. Subscriptions are read at most
 * once a millisecond: reading them is two system calls, which once cost a
 * receiver a sixth of its time when done for every record. */
static int
subs_want (zsock_t *sock, node_subs_t *subs, const char *topic)
{
    int64_t now = zclock_usecs ();
    if (now - subs->read_at >= 1000 || now < subs->read_at) {
        subs_update (sock, subs);
        subs->read_at = now;
    }
    if (subs->unknown)
        return 1;
    for (size_t i = 0; i < subs->n; i++)
        if (strncmp (topic, subs->prefix[i], strlen (subs->prefix[i])) == 0)
            return 1;
    return 0;
}

static void
pub_send (node_t *self, zsock_t *sock, const char *topic, json_t *obj)
{
    if (!sock)
        return; /* its rebinding failed (node_feed_rekey) */
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
    if (!sock)
        return; /* its rebinding failed (node_feed_rekey) */
    char *text = json_dumps (obj, JSON_COMPACT);
    if (text) {
        zstr_sendf (sock, "%s %s", topic, text);
        self->events++;
        free (text);
    }
}

/* The name an admin knows an origin by: this node's, a peer's, or NULL. */
const char *
node_origin_name (node_t *self, const uint8_t *origin)
{
    if (memcmp (origin, im_identity_node (self->identity), IM_NODE_ID_SIZE) == 0)
        return self->config.name;
    for (size_t i = 0; i < self->config.npeers; i++)
        if (memcmp (origin, self->config.peers[i].card.node, IM_NODE_ID_SIZE) == 0)
            return self->config.peers[i].card.name;
    return NULL;
}

/* "ioc.TYPE.TLP" into TOPIC (SIZE bytes), by hand: formatted for every
 * record stored, snprintf was 2.5% of a bulk publish's instructions. */
static void
ioc_topic (char *topic, size_t size, const char *type, const char *tlp)
{
    size_t t = type ? strlen (type) : 0, l = tlp ? strlen (tlp) : 0;
    if (!type || !tlp || 4 + t + 1 + l + 1 > size) {
        snprintf (topic, size, "ioc.%s.%s", type ? type : "", tlp ? tlp : "");
        return;
    }
    memcpy (topic, "ioc.", 4);
    memcpy (topic + 4, type, t);
    topic[4 + t] = '.';
    memcpy (topic + 5 + t, tlp, l + 1);
}

void
node_pub_record (node_t *self, const im_record_t *rec)
{
    zsock_t *misp = self->config.pub_misp ? self->pub : self->pub_misp;
    node_subs_t *misp_subs = self->config.pub_misp ? &self->pub_subs : &self->misp_subs;
    if (misp && !subs_want (misp, misp_subs, "misp_json_attribute"))
        misp = NULL; /* nobody listens: nothing is encoded */
    char topic[160];
    if (rec->type == IM_TYPE_SEALED)
        return; /* a carrier: nothing a local tool can read */
    char ex[IM_EXERCISE_NAME_MAX + 1];
    int exercise = (rec->type == IM_TYPE_EXERCISE || rec->type == IM_TYPE_INJECT
                    || rec->type == IM_TYPE_ACK)
                   && node_exercise_of (rec, ex) == 0;
    if (exercise) {
        /* Apart from real intelligence (SPEC.md, "Exercises"). */
        misp = NULL;
        char kind[32] = "report";
        const char *sp = strchr (rec->value, ' ');
        if (rec->type == IM_TYPE_INJECT && sp && (size_t)(sp - rec->value) < sizeof kind)
            snprintf (kind, sizeof kind, "%.*s", (int)(sp - rec->value), rec->value);
        if (rec->type == IM_TYPE_INJECT && strcmp (kind, "report"))
            snprintf (topic, sizeof topic, "exercise.%s.ioc.%s.%s", ex, kind,
                      im_tlp_name (rec->tlp));
        else if (rec->type == IM_TYPE_INJECT)
            snprintf (topic, sizeof topic, "exercise.%s.report.%s", ex,
                      im_tlp_name (rec->tlp));
        else
            snprintf (topic, sizeof topic, "exercise.%s.%s", ex,
                      rec->type == IM_TYPE_ACK ? "ack" : "exercise");
    }
    else if (!im_type_is_ioc (rec->type)) {
        misp = NULL; /* reports, members and sightings are no MISP attributes */
        snprintf (topic, sizeof topic, "%s.%s",
                  rec->type == IM_TYPE_SIGHTING ? "sighting" : "report",
                  im_tlp_name (rec->tlp));
    }
    else
        ioc_topic (topic, sizeof topic, im_type_name (rec->type), im_tlp_name (rec->tlp));
    if (!self->config.pub_misp && subs_want (self->pub, &self->pub_subs, topic)) {
        json_t *obj = im_record_to_json (rec);
        if (obj && exercise)
            json_object_set_new (obj, "label", json_string ("EXERCISE"));
        if (obj) {
            pub_send (self, self->pub, topic, obj);
            json_decref (obj);
        }
    }
    if (misp) {
        json_t *obj = im_misp_attribute (rec, node_origin_name (self, rec->origin));
        if (obj) {
            pub_send_misp (self, misp, "misp_json_attribute", obj);
            json_decref (obj);
        }
    }
}

uint64_t
node_live_total (const im_store_stats_t *st)
{
    uint64_t n = 0;
    for (int t = 0; t < IM_TYPE_COUNT; t++)
        for (int l = 0; l < IM_TLP_COUNT && im_type_is_ioc (t); l++)
            n += st->live[t][l];
    return n;
}

void
node_heartbeat (node_t *self)
{
    /* Subscriptions are read here too, so that they never pile up. */
    subs_update (self->pub, &self->pub_subs);
    subs_update (self->pub_misp, &self->misp_subs);
    im_store_stats_t st;
    char node[IM_NODE_HEX_SIZE], now[IM_TIME_STR_SIZE];
    im_store_stats (self->store, &st);
    im_node_format (im_identity_node (self->identity), node);
    int64_t uptime = im_time_now () - self->started;
    zsock_t *misp = self->config.pub_misp ? self->pub : self->pub_misp;
    if (!self->config.pub_misp) {
        json_t *obj = json_pack (
            "{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "node", node, "name",
            self->config.name, "time", im_time_format (im_time_now (), now), "uptime",
            (json_int_t)uptime, "indicators", (json_int_t)node_live_total (&st),
            "revoked", (json_int_t)st.revoked, "last_seq", (json_int_t)st.last_seq);
        if (obj) {
            pub_send (self, self->pub, "node.heartbeat", obj);
            json_decref (obj);
        }
    }
    if (misp) {
        /* As MISP's feed says it is alive. */
        json_t *obj = json_pack ("{s:s, s:I, s:s}", "status", "intelmesh feed alive",
                                 "uptime", (json_int_t)uptime, "name", self->config.name);
        if (obj) {
            pub_send_misp (self, misp, "misp_json_self", obj);
            json_decref (obj);
        }
    }
}

/* --- The feeds' sockets ------------------------------------------------- */

/* An ipc:// feed's path must be free, or hold a socket of this node's user
 * left by an earlier run (libzmq replaces it): anything else is someone
 * else's, or not ours to remove. */
static int
feed_path_check (const char *path, char *err, size_t errsz)
{
    struct stat st;
    if (lstat (path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf (err, errsz, "feed socket %s: %s", path, strerror (errno));
        return -1;
    }
    if (st.st_uid != geteuid ()) {
        struct passwd *pw = getpwuid (st.st_uid);
        snprintf (err, errsz,
                  "feed socket %s belongs to user %s (uid %u), not to this node's user: "
                  "remove it or choose another pub endpoint",
                  path, pw ? pw->pw_name : "?", (unsigned)st.st_uid);
        errno = EPERM;
        return -1;
    }
    if (!S_ISSOCK (st.st_mode)) {
        snprintf (err, errsz,
                  "feed socket %s exists and is %s, not a socket: remove it or choose "
                  "another pub endpoint",
                  path,
                  S_ISLNK (st.st_mode)   ? "a symbolic link"
                  : S_ISDIR (st.st_mode) ? "a directory"
                                         : "a file");
        errno = EEXIST;
        return -1;
    }
    /* Ours, but is a process (another node on the same path) behind it? */
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    snprintf (sa.sun_path, sizeof sa.sun_path, "%s", path);
    int live = fd >= 0 && connect (fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close (fd);
    if (live) {
        snprintf (err, errsz, "feed socket %s is in use by another process", path);
        errno = EADDRINUSE;
        return -1;
    }
    return 0;
}

/* The group of ipc:// feeds: pub/group (a name or a number), else the node
 * user's primary group. */
static int
feed_group (const char *name, gid_t *gid, char *err, size_t errsz)
{
    if (!*name) {
        *gid = getegid ();
        return 0;
    }
    struct group *gr = getgrnam (name);
    char *end;
    errno = 0;
    unsigned long n = gr ? 0 : strtoul (name, &end, 10);
    if (gr)
        *gid = gr->gr_gid;
    else if (errno == 0 && end != name && !*end && n < (gid_t)-1)
        *gid = (gid_t)n;
    else {
        snprintf (err, errsz, "pub/group '%s': no such group", name);
        errno = ENOENT;
        return -1;
    }
    return 0;
}

/* Binds SOCK at ENDPOINT. An ipc:// socket is made 0600 (umask), given to
 * the feed's group, then opened to it (0660): never, even for an instant,
 * reachable by other users. */
static int
feed_bind (node_t *self, zsock_t *sock, const char *endpoint, char *err, size_t errsz)
{
    const char *path = endpoint + 6;
    int file = strncmp (endpoint, "ipc://", 6) == 0 && *path != '@';
    gid_t gid = 0;
    if (file
        && (feed_path_check (path, err, errsz)
            || feed_group (self->config.pub_group, &gid, err, errsz)))
        return -1;
    mode_t old = umask (0177);
    int rc = zsock_bind (sock, "%s", endpoint);
    umask (old);
    if (rc < 0) {
        snprintf (err, errsz, "cannot bind the feed %s: %s", endpoint,
                  zmq_strerror (zmq_errno ()));
        return -1;
    }
    if (file && (chown (path, (uid_t)-1, gid) != 0 || chmod (path, 0660) != 0)) {
        snprintf (err, errsz, "feed socket %s: cannot give it to group %u: %s", path,
                  (unsigned)gid, strerror (errno));
        unlink (path);
        return -1;
    }
    if (!file && !self->nfeed_keys && !*self->config.pub_subscribers)
        zsys_warning ("feed %s is not private: every local user can read it (use an "
                      "ipc:// path, or CURVE with pub/subscribers)",
                      endpoint);
    return 0;
}

/* Loads the CURVE keys of the czmq public certificates in DIR (relative to
 * the data directory), every file but *_secret and dot files. */
static int
feed_load_keys (node_t *self, const char *dir, char *err, size_t errsz)
{
    char path[IM_PATH_MAX * 2 + 2];
    snprintf (path, sizeof path, "%s%s%s", *dir == '/' ? "" : self->dir,
              *dir == '/' ? "" : "/", dir);
    DIR *d = opendir (path);
    self->feed_keys = malloc (IM_FEED_SUBSCRIBERS_MAX * 32);
    if (!d || !self->feed_keys) {
        snprintf (err, errsz, "pub/subscribers %s: %s", path, strerror (errno));
        if (d)
            closedir (d);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir (d))) {
        size_t len = strlen (e->d_name);
        if (e->d_name[0] == '.' || (len > 7 && streq (e->d_name + len - 7, "_secret")))
            continue;
        char file[sizeof path + 256];
        snprintf (file, sizeof file, "%s/%s", path, e->d_name);
        zcert_t *cert = zcert_load (file);
        if (self->nfeed_keys == IM_FEED_SUBSCRIBERS_MAX) {
            snprintf (err, errsz, "pub/subscribers %s: more than %d certificates", path,
                      IM_FEED_SUBSCRIBERS_MAX);
            rc = -1;
        }
        else if (!cert || sodium_is_zero (zcert_public_key (cert), 32)) {
            snprintf (err, errsz, "pub/subscribers: %s is not a czmq certificate", file);
            rc = -1;
        }
        else
            memcpy (self->feed_keys + 32 * self->nfeed_keys++, zcert_public_key (cert),
                    32);
        zcert_destroy (&cert);
    }
    closedir (d);
    return rc;
}

/* The ZAP handler's question for the feed's domain: is KEY a subscriber? */
static int
feed_admits (const uint8_t *key, void *arg)
{
    node_t *self = arg;
    for (size_t i = 0; i < self->nfeed_keys; i++)
        if (sodium_memcmp (self->feed_keys + 32 * i, key, 32) == 0)
            return 1;
    return 0;
}

/* A PUB socket for a feed: a CURVE server, in the feed's ZAP domain, when
 * pub/subscribers lists keys. */
static zsock_t *
feed_new (node_t *self, const char *endpoint, char *err, size_t errsz)
{
    /* XPUB: it tells which topics its subscribers want (subs_update). */
    zsock_t *sock = zsock_new (ZMQ_XPUB);
    if (!sock) {
        snprintf (err, errsz, "PUB socket: %s", zmq_strerror (zmq_errno ()));
        return NULL;
    }
    zsock_set_sndhwm (sock, 100000);
    zsock_set_linger (sock, 0);
    if (*self->config.pub_subscribers) {
        zsock_set_zap_domain (sock, IM_FEED_ZAP_DOMAIN);
        zsock_set_curve_server (sock, 1);
        zsock_set_curve_secretkey (sock, im_identity_curve_secret (self->identity));
    }
    if (feed_bind (self, sock, endpoint, err, errsz))
        zsock_destroy (&sock);
    return sock;
}

int
node_feed_start (node_t *self, char *err, size_t errsz)
{
    if (*self->config.pub_subscribers) {
        if (feed_load_keys (self, self->config.pub_subscribers, err, errsz))
            return -1;
        im_mesh_set_feed_check (self->mesh, feed_admits, self);
        zsys_info ("feed: CURVE, %zu subscriber keys", self->nfeed_keys);
    }
    self->pub = feed_new (self, self->config.pub_endpoint, err, errsz);
    if (!self->pub)
        return -1;
    if (*self->config.pub_misp_endpoint) {
        self->pub_misp = feed_new (self, self->config.pub_misp_endpoint, err, errsz);
        if (!self->pub_misp)
            return -1;
    }
    return 0;
}

/* Removes the socket file of a feed bound at ENDPOINT. */
static void
feed_unlink (const char *endpoint)
{
    if (strncmp (endpoint, "ipc://", 6) == 0 && endpoint[6] != '@')
        unlink (endpoint + 6);
}

/* Makes *SOCK, the feed at ENDPOINT, anew: every connection is cut, and the
 * new socket serves the node's current CURVE key. The port or path may take
 * a moment to be free after the close. */
static void
feed_rebind (node_t *self, zsock_t **sock, const char *endpoint)
{
    char err[512] = "";
    zsock_destroy (sock);
    feed_unlink (endpoint);
    for (int attempt = 0; attempt < 50 && !*sock; attempt++) {
        if (attempt)
            zclock_sleep (20);
        *sock = feed_new (self, endpoint, err, sizeof err);
    }
    if (*sock)
        zsys_info ("feed %s: serves the new CURVE key; subscribers need it "
                   "(intelmesh id)",
                   endpoint);
    else
        zsys_error ("feed %s: %s; it is off until intelmeshd restarts", endpoint, err);
}

int
node_feed_rekey (node_t *self)
{
    if (!*self->config.pub_subscribers)
        return 0; /* no CURVE */
    memset (&self->pub_subs, 0, sizeof self->pub_subs);
    memset (&self->misp_subs, 0, sizeof self->misp_subs);
    if (self->pub)
        feed_rebind (self, &self->pub, self->config.pub_endpoint);
    if (self->pub_misp)
        feed_rebind (self, &self->pub_misp, self->config.pub_misp_endpoint);
    return self->pub && (self->pub_misp || !*self->config.pub_misp_endpoint) ? 0 : -1;
}

void
node_feed_stop (node_t *self)
{
    if (self->pub) {
        zsock_destroy (&self->pub);
        feed_unlink (self->config.pub_endpoint);
    }
    if (self->pub_misp) {
        zsock_destroy (&self->pub_misp);
        feed_unlink (self->config.pub_misp_endpoint);
    }
    if (self->mesh)
        im_mesh_set_feed_check (self->mesh, NULL, NULL);
    free (self->feed_keys);
    self->feed_keys = NULL;
    self->nfeed_keys = 0;
}
