/* SPDX-License-Identifier: MPL-2.0 */
/* im_taxii.c -- the TAXII 2.1 server's life (libmicrohttpd over TLS, polled
 * from the node's loop), its clients' authentication (HTTP Basic: a name and
 * a 256-bit key, of which only a hash is kept) and its routes: discovery,
 * the API root, its one collection, objects, manifest and versions. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <czmq.h>
#include <microhttpd.h>
#include <sodium.h>

#include "im_stix.h"
#include "im_taxii_int.h"
#include "im_time.h"
#include "im_util.h"

#define PEM_MAX (64 * 1024)
#define SEGMENTS_MAX 8

/* --- Replies ------------------------------------------------------------- */

static enum MHD_Result
reply (struct MHD_Connection *c, unsigned status, json_t *body, const taxii_page_t *page)
{
    char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
    json_decref (body);
    if (!text)
        return MHD_NO;
    struct MHD_Response *r
        = MHD_create_response_from_buffer (strlen (text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free (text);
        return MHD_NO;
    }
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, TAXII_MEDIA);
    if (page && page->count) {
        char t[IM_STIX_TIME_SIZE + 8];
        im_stix_time_ms (page->first_ms, t);
        MHD_add_response_header (r, "X-TAXII-Date-Added-First", t);
        im_stix_time_ms (page->last_ms, t);
        MHD_add_response_header (r, "X-TAXII-Date-Added-Last", t);
    }
    enum MHD_Result rc = MHD_queue_response (c, status, r);
    MHD_destroy_response (r);
    return rc;
}

/* A TAXII error message. */
static enum MHD_Result
reply_error (struct MHD_Connection *c, unsigned status, const char *title,
             const char *description)
{
    char code[8];
    snprintf (code, sizeof code, "%u", status);
    return reply (c, status,
                  json_pack ("{s:s, s:s?, s:s}", "title", title, "description",
                             description, "http_status", code),
                  NULL);
}

static enum MHD_Result
reply_unauthorised (struct MHD_Connection *c)
{
    const char *text = "{\"title\":\"unauthorised\",\"description\":\"give a client "
                       "name and its key (HTTP Basic)\",\"http_status\":\"401\"}";
    struct MHD_Response *r = MHD_create_response_from_buffer (strlen (text), (void *)text,
                                                              MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, TAXII_MEDIA);
    enum MHD_Result rc = MHD_queue_basic_auth_fail_response (c, "intelmesh TAXII", r);
    MHD_destroy_response (r);
    return rc;
}

/* --- Clients ------------------------------------------------------------- */

/* The client whose name and key the request gives, or NULL (counted and
 * logged, the key never). */
static const im_taxii_client_t *
authenticate (im_taxii_t *self, struct MHD_Connection *c)
{
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password (c, &pass);
    const im_taxii_client_t *found = NULL;
    uint8_t key[IM_TAXII_KEY_SIZE], hash[32];
    size_t binlen = 0;
    int decoded
        = pass && strlen (pass) == 2 * IM_TAXII_KEY_SIZE
          && sodium_hex2bin (key, sizeof key, pass, strlen (pass), NULL, &binlen, NULL)
                 == 0
          && binlen == sizeof key;
    im_taxii_key_hash (decoded ? key : (const uint8_t[IM_TAXII_KEY_SIZE]){ 0 }, hash);
    for (size_t i = 0; user && decoded && i < self->nclients; i++)
        if (strcmp (self->clients[i].name, user) == 0
            && sodium_memcmp (self->clients[i].key_hash, hash, sizeof hash) == 0)
            found = &self->clients[i];
    sodium_memzero (key, sizeof key);
    if (!found && (user || pass)) {
        self->refused_auth++;
        char addr[INET6_ADDRSTRLEN] = "?";
        const union MHD_ConnectionInfo *ci
            = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
            inet_ntop (AF_INET, &((struct sockaddr_in *)ci->client_addr)->sin_addr, addr,
                       sizeof addr);
        else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
            inet_ntop (AF_INET6, &((struct sockaddr_in6 *)ci->client_addr)->sin6_addr,
                       addr, sizeof addr);
        /* A name no client has is not logged: it may be a key given as the
         * user name. The first ten, then one in a hundred: a flood does not
         * fill the log. */
        const char *known = NULL;
        for (size_t i = 0; user && i < self->nclients; i++)
            if (strcmp (self->clients[i].name, user) == 0)
                known = self->clients[i].name;
        if (self->refused_auth <= 10 || self->refused_auth % 100 == 0)
            zsys_warning (
                "taxii: refused a request from %s: %s%s%s (%llu refused so far)", addr,
                known ? "client '" : "an unknown client name", known ? known : "",
                known ? "': key wrong" : "", (unsigned long long)self->refused_auth);
    }
    if (pass) {
        sodium_memzero (pass, strlen (pass));
        MHD_free (pass);
    }
    MHD_free (user);
    return found;
}

/* --- Routes -------------------------------------------------------------- */

static json_t *
discovery (im_taxii_t *self, struct MHD_Connection *c)
{
    const char *host = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Host");
    char root[IM_ENDPOINT_MAX + 64], title[IM_NAME_MAX + 32];
    snprintf (root, sizeof root, "https://%s/%s/",
              host && strlen (host) < IM_ENDPOINT_MAX && !strpbrk (host, "/ ")
                  ? host
                  : self->listen,
              TAXII_API_ROOT);
    snprintf (title, sizeof title, "intelmesh node %s", self->name);
    return json_pack ("{s:s, s:s, s:s, s:[s]}", "title", title, "description",
                      "indicators this node may share with you, as STIX 2.1", "default",
                      root, "api_roots", root);
}

static json_t *
collection (im_taxii_t *self)
{
    return json_pack ("{s:s, s:s, s:s, s:b, s:b, s:[s]}", "id", self->collection, "title",
                      "indicators", "description",
                      "the indicators of this node and those it relays, as your "
                      "sharing policy allows",
                      "can_read", 1, "can_write", 0, "media_types", TAXII_STIX_MEDIA);
}

/* GET of a collection's objects, manifest or versions (SEG: the path's
 * segments after the collection id). */
static enum MHD_Result
content (im_taxii_t *self, const im_taxii_client_t *client, struct MHD_Connection *c,
         char **seg, int nseg)
{
    taxii_query_t q;
    char err[256];
#define ARG(name) MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, name)
    if (taxii_query_parse (&q, ARG ("added_after"), ARG ("limit"), ARG ("next"),
                           ARG ("match[type]"), nseg >= 2 ? NULL : ARG ("match[id]"),
                           ARG ("match[version]"), ARG ("match[spec_version]"), err,
                           sizeof err)) {
        self->bad_requests++;
        return reply_error (c, MHD_HTTP_BAD_REQUEST, "bad query", err);
    }
#undef ARG
    taxii_what_t what = strcmp (seg[0], "manifest") == 0 ? TAXII_MANIFEST
                        : nseg == 3                      ? TAXII_VERSIONS
                                                         : TAXII_OBJECTS;
    if (nseg >= 2) {
        /* /objects/ID/ or /objects/ID/versions/ */
        q.nids = 1;
        snprintf (q.ids[0], sizeof q.ids[0], "%s", seg[1]);
    }
    if (self->walked || (self->first && self->first != c)) {
        /* This turn's walk is done, or is the turn of the request that
         * waited longest: the next turn. */
        if (self->nwaiting < TAXII_CONNECTIONS_MAX) {
            MHD_suspend_connection (c);
            self->waiting[self->nwaiting++] = c;
            self->deferred++;
            return MHD_YES;
        }
    }
    self->walked = 1;
    taxii_page_t page;
    if (taxii_walk (self, client, &q, what, &page))
        return reply_error (c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error",
                            strerror (errno));
    if (nseg >= 2 && page.count == 0 && !q.next) {
        json_decref (page.body);
        return reply_error (c, MHD_HTTP_NOT_FOUND, "no such object", seg[1]);
    }
    return reply (c, MHD_HTTP_OK, page.body, &page);
}

/* Splits URL into its segments (at most SEGMENTS_MAX) in BUF. */
static int
split (const char *url, char *buf, size_t bufsz, char **seg)
{
    int n = 0;
    snprintf (buf, bufsz, "%s", url);
    for (char *save = NULL, *s = strtok_r (buf, "/", &save); s;
         s = strtok_r (NULL, "/", &save)) {
        if (n == SEGMENTS_MAX)
            return -1;
        seg[n++] = s;
    }
    return n;
}

static enum MHD_Result
route (im_taxii_t *self, const im_taxii_client_t *client, struct MHD_Connection *c,
       const char *url)
{
    char buf[512], *seg[SEGMENTS_MAX];
    int n = strlen (url) < sizeof buf ? split (url, buf, sizeof buf, seg) : -1;
    if (n == 1 && strcmp (seg[0], "taxii2") == 0)
        return reply (c, MHD_HTTP_OK, discovery (self, c), NULL);
    if (n < 1 || strcmp (seg[0], TAXII_API_ROOT) != 0)
        return reply_error (c, MHD_HTTP_NOT_FOUND, "not found", url);
    if (n == 1)
        return reply (c, MHD_HTTP_OK,
                      json_pack ("{s:s, s:s, s:[s], s:i}", "title", "intelmesh",
                                 "description", "this node's indicators", "versions",
                                 TAXII_MEDIA, "max_content_length", 0),
                      NULL);
    if (strcmp (seg[1], "collections") != 0)
        return reply_error (c, MHD_HTTP_NOT_FOUND, "not found", url);
    if (n == 2)
        return reply (c, MHD_HTTP_OK,
                      json_pack ("{s:[o]}", "collections", collection (self)), NULL);
    if (strcmp (seg[2], self->collection) != 0)
        return reply_error (c, MHD_HTTP_NOT_FOUND, "no such collection", seg[2]);
    if (n == 3)
        return reply (c, MHD_HTTP_OK, collection (self), NULL);
    int objects = strcmp (seg[3], "objects") == 0;
    if ((n == 4 && (objects || strcmp (seg[3], "manifest") == 0)) || (n == 5 && objects)
        || (n == 6 && objects && strcmp (seg[5], "versions") == 0))
        return content (self, client, c, seg + 3, n - 3);
    return reply_error (c, MHD_HTTP_NOT_FOUND, "not found", url);
}

static enum MHD_Result
answer (void *cls, struct MHD_Connection *c, const char *url, const char *method,
        const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)version;
    (void)upload;
    im_taxii_t *self = cls;
    int again = *state != NULL; /* resumed after waiting: counted already */
    *state = self;
    if (*upload_size) {
        *upload_size = 0; /* a body is read and dropped: GET takes none */
        return MHD_YES;
    }
    if (strcmp (method, MHD_HTTP_METHOD_GET) != 0
        && strcmp (method, MHD_HTTP_METHOD_HEAD) != 0) {
        self->bad_requests++;
        return reply_error (c, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only",
                            "this server answers GET only");
    }
    const im_taxii_client_t *client = authenticate (self, c);
    if (!client)
        return reply_unauthorised (c);
    if (!taxii_accepts (MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Accept"))) {
        self->not_acceptable++;
        return reply_error (c, MHD_HTTP_NOT_ACCEPTABLE, "not acceptable",
                            "send Accept: " TAXII_MEDIA);
    }
    if (!again)
        self->requests++;
    return route (self, client, c, url);
}

/* --- Life ---------------------------------------------------------------- */

static void
mhd_log (void *cls, const char *fmt, va_list ap)
{
    im_taxii_t *self = cls;
    vsnprintf (self->last_error, sizeof self->last_error, fmt, ap);
    char *nl = strchr (self->last_error, '\n');
    if (nl)
        *nl = 0;
    /* What clients cause (a bad header, a failed handshake): the first ten,
     * then one in a hundred, so that a flood does not fill the log. */
    self->http_errors++;
    if (self->daemon && (self->http_errors <= 10 || self->http_errors % 100 == 0))
        zsys_warning ("taxii: %s (%llu such messages so far)", self->last_error,
                      (unsigned long long)self->http_errors);
}

/* Reads PEM file PATH (relative: to DIR) into a new string. */
static char *
read_pem (const char *dir, const char *path, char *err, size_t errsz)
{
    char full[IM_PATH_MAX * 2 + 2];
    snprintf (full, sizeof full, "%s%s%s", path[0] == '/' ? "" : dir,
              path[0] == '/' ? "" : "/", path);
    FILE *f = fopen (full, "r");
    char *text = f ? calloc (1, PEM_MAX + 1) : NULL;
    size_t n = text ? fread (text, 1, PEM_MAX + 1, f) : 0;
    int bad = !f || !text || ferror (f) || n > PEM_MAX || !strstr (text, "-----BEGIN ");
    int saved = f ? (ferror (f) ? EIO : EINVAL) : errno;
    if (f)
        fclose (f);
    if (bad) {
        free (text);
        im_fail (text ? saved : ENOMEM, err, errsz, "taxii: %s: %s", full,
                 !f ? strerror (saved) : "not a PEM file (or over 64 KiB)");
        return NULL;
    }
    return text;
}

im_taxii_t *
im_taxii_new (const im_config_t *config, const char *dir, im_store_t *store,
              const uint8_t node[IM_NODE_ID_SIZE], char *err, size_t errsz)
{
    struct sockaddr_storage ss;
    socklen_t len;
    im_taxii_t *self = calloc (1, sizeof *self);
    if (!self) {
        im_fail (ENOMEM, err, errsz, "out of memory");
        return NULL;
    }
    self->store = store;
    self->fd = -1;
    memcpy (self->node, node, IM_NODE_ID_SIZE);
    snprintf (self->name, sizeof self->name, "%s", config->name);
    snprintf (self->listen, sizeof self->listen, "%s", config->taxii_listen);
    char text[IM_NODE_HEX_SIZE + 32], id[IM_ID_STR_SIZE];
    uint8_t uuid[IM_ID_SIZE];
    im_node_format (node, text + snprintf (text, 32, "taxii-collection:indicators:"));
    im_id_from_name (text, strlen (text), uuid);
    im_id_format (uuid, id);
    snprintf (self->collection, sizeof self->collection, "%s", id);
    im_taxii_reload (self, config);
    if (im_taxii_listen_parse (config->taxii_listen, &ss, &len)) {
        im_fail (EINVAL, err, errsz, "taxii: bad listen address %s",
                 config->taxii_listen);
        im_taxii_destroy (&self);
        return NULL;
    }
    self->cert = read_pem (dir, config->taxii_cert, err, errsz);
    self->key = self->cert ? read_pem (dir, config->taxii_key, err, errsz) : NULL;
    if (self->key)
        self->daemon = MHD_start_daemon (
            MHD_USE_TLS | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME
                | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
            0, NULL, NULL, answer, self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_HTTPS_MEM_CERT, self->cert, MHD_OPTION_HTTPS_MEM_KEY, self->key,
            MHD_OPTION_CONNECTION_LIMIT, TAXII_CONNECTIONS_MAX,
            MHD_OPTION_PER_IP_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, self, MHD_OPTION_END);
    const union MHD_DaemonInfo *info
        = self->daemon ? MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_EPOLL_FD)
                       : NULL;
    if (!info) {
        if (self->key)
            im_fail (EADDRINUSE, err, errsz, "taxii: cannot serve HTTPS on %s: %s",
                     config->taxii_listen,
                     *self->last_error ? self->last_error
                                       : "address in use, or a bad certificate or key");
        im_taxii_destroy (&self);
        return NULL;
    }
    self->fd = info->epoll_fd;
    zsys_info ("taxii: serving TAXII 2.1 on https://%s/taxii2/ (collection %s, %zu "
               "clients)",
               self->listen, self->collection, self->nclients);
    return self;
}

void
im_taxii_destroy (im_taxii_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    im_taxii_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    if (self->key)
        sodium_memzero (self->key, strlen (self->key));
    free (self->key);
    free (self->cert);
    sodium_memzero (self, sizeof *self);
    free (self);
    *self_p = NULL;
}

void *
im_taxii_pollable (im_taxii_t *self)
{
    return self ? &self->fd : NULL;
}

void
im_taxii_run (im_taxii_t *self)
{
    if (!self || !self->daemon)
        return;
    /* A new turn: one walk again, for the request that waited longest (a
     * connection its client closed meanwhile is dropped by libmicrohttpd,
     * and the next turn's first is the next one). */
    self->walked = 0;
    self->first = self->nwaiting ? self->waiting[0] : NULL;
    size_t n = self->nwaiting;
    self->nwaiting = 0;
    for (size_t i = 0; i < n; i++)
        MHD_resume_connection (self->waiting[i]);
    MHD_run (self->daemon);
    self->first = NULL;
}

int
im_taxii_next_ms (im_taxii_t *self, int max)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (self && self->daemon && self->nwaiting)
        return 0; /* requests wait for the next turn: at once, after the node's */
    if (!self || !self->daemon || MHD_get_timeout (self->daemon, &ms) != MHD_YES)
        return max;
    if (max >= 0 && ms >= (MHD_UNSIGNED_LONG_LONG)max)
        return max;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

void
im_taxii_reload (im_taxii_t *self, const im_config_t *config)
{
    if (!self || !config)
        return;
    self->nclients = config->ntaxii_clients;
    memcpy (self->clients, config->taxii_clients,
            config->ntaxii_clients * sizeof config->taxii_clients[0]);
    self->npolicies = config->npolicies;
    memcpy (self->policies, config->policies,
            config->npolicies * sizeof config->policies[0]);
}

json_t *
im_taxii_status (im_taxii_t *self)
{
    if (!self)
        return json_null ();
    return json_pack (
        "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "listen", self->listen, "collection",
        self->collection, "clients", (json_int_t)self->nclients, "requests",
        (json_int_t)self->requests, "refused_auth", (json_int_t)self->refused_auth,
        "not_acceptable", (json_int_t)self->not_acceptable, "bad_requests",
        (json_int_t)self->bad_requests, "deferred", (json_int_t)self->deferred);
}
