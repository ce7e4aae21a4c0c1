/* im_config.c -- data directory resolution, the ZPL configuration file with
 * its defaults and checks, and the daemon's pid lock (a POSIX record lock, so
 * it vanishes with the process however it ends). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <czmq.h>
#include <sodium.h>

#include "im_config.h"
#include "im_time.h"
#include "im_util.h"


int
im_dir_path (const char *dir, const char *file, char *out, size_t outsz)
{
    int n = snprintf (out, outsz, "%s/%s", dir, file);
    if (n < 0 || (size_t) n >= outsz) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int
im_dir_resolve (const char *opt, char *out, size_t outsz)
{
    const char *env = getenv ("INTELMESH_DIR");
    int n;
    if (opt && *opt)
        n = snprintf (out, outsz, "%s", opt);
    else if (env && *env)
        n = snprintf (out, outsz, "%s", env);
    else if (geteuid () == 0)
        n = snprintf (out, outsz, "/var/lib/intelmesh");
    else {
        const char *home = getenv ("HOME");
        if (!home || !*home) {
            errno = ENOENT;
            return -1;
        }
        n = snprintf (out, outsz, "%s/.local/share/intelmesh", home);
    }
    if (n < 0 || (size_t) n >= outsz) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* No trailing slash, so that DIR/FILE reads well in messages. */
    size_t len = strlen (out);
    while (len > 1 && out[len - 1] == '/')
        out[--len] = 0;
    return 0;
}

int
im_name_valid (const char *name)
{
    size_t len = name ? strlen (name) : 0;
    if (len == 0 || len > IM_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum ((unsigned char) name[i]) && !strchr ("._-", name[i]))
            return 0;
    return 1;
}

int
im_endpoint_valid (const char *endpoint)
{
    if (!endpoint || strlen (endpoint) >= IM_ENDPOINT_MAX)
        return 0;
    /* Endpoints are written into the ZPL config and the one-line card. */
    for (const char *p = endpoint; *p; p++)
        if ((unsigned char) *p <= ' ' || *p == '"' || *p == '\'' || *p == 0x7F)
            return 0;
    if (strncmp (endpoint, "ipc://", 6) == 0)
        return endpoint[6] != 0;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return 0;
    const char *colon = strrchr (endpoint + 6, ':');
    if (!colon || colon == endpoint + 6 || !colon[1])
        return 0;
    char *end;
    long port = strtol (colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
        return 0;
    return 1;
}

static void
config_defaults (im_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    snprintf (cfg->name, sizeof cfg->name, "intelmesh");
    snprintf (cfg->pub_endpoint, sizeof cfg->pub_endpoint, "%s", IM_DEFAULT_PUB);
    cfg->heartbeat = 5;
    cfg->key_grace = IM_KEY_GRACE_DEFAULT;
    cfg->map_size = (size_t) 1 << 30;
}

/* The settings a config file may hold, as zconfig paths. */
static const char *known_settings[] = {
    "node", "node/name", "node/listen", "node/bind", "pub", "pub/endpoint", "pub/heartbeat",
    "pub/format", "pub/misp-endpoint", "warninglists", "warninglists/directory", "keys",
    "keys/grace",
    "store", "store/map-size", "log", "log/syslog", "peer", "peer/name", "peer/card",
    "peer/endpoint", "peer/policy", "peer/previous-curve", "peer/previous-until", "peer/accept", "peer/accept-types",
    "peer/accept-origins", "peer/rate", "policy", "policy/name", "policy/max-tlp",
    "policy/types", "policy/deny-types", "policy/tags", "policy/deny-tags",
    "policy/min-confidence", "policy/relay", "policy/relay-origins", NULL
};

/* Where a setting is: the line, in the configuration's text, of the ORDINAL-th
 * top-level section, or of its key KEY when it has one (1-based; 0 unknown). */
static int
line_of (const char *text, int ordinal, const char *key)
{
    int line = 0, top = -1, at = 0;
    const char *p = text;
    while (p && *p) {
        const char *eol = strchr (p, '\n');
        size_t len = eol ? (size_t) (eol - p) : strlen (p);
        line++;
        if (len && *p != ' ' && *p != '\t' && *p != '#' && *p != '\r') {
            if (++top == ordinal)
                at = line;
            else if (top > ordinal)
                break;
        }
        else if (top == ordinal && key) {
            const char *q = p, *end = p + len;
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            size_t k = strlen (key);
            if ((size_t) (end - q) >= k && strncmp (q, key, k) == 0
                && (q + k == end || strchr (" \t=\r#", q[k])))
                return line;
        }
        p = eol ? eol + 1 : NULL;
    }
    return at;
}

/* The ordinal of the first top-level section named NAME, or -1. */
static int
ordinal_of (zconfig_t *root, const char *name)
{
    int i = 0;
    for (zconfig_t *item = zconfig_child (root); item; item = zconfig_next (item), i++)
        if (zconfig_name (item) && strcmp (zconfig_name (item), name) == 0)
            return i;
    return -1;
}

/* What loading needs to report a failure at its line. */
typedef struct {
    const char *text;
    zconfig_t *root;
    im_config_t *cfg;
    char *err;
    size_t errsz;
} load_t;

static int
fail_at (load_t *ld, int ordinal, const char *key, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));

static int
fail_at (load_t *ld, int ordinal, const char *key, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    int line = ordinal >= 0 ? line_of (ld->text, ordinal, key) : 0;
    if (line)
        return im_fail (code, ld->err, ld->errsz, "%s:%d: %s", IM_CONFIG_FILE, line, msg);
    return im_fail (code, ld->err, ld->errsz, "%s: %s", IM_CONFIG_FILE, msg);
}

/* A setting given as a path ("node/name"): fails at its line. */
static int
fail_path (load_t *ld, const char *path, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
fail_path (load_t *ld, const char *path, int code, const char *fmt, ...)
{
    char msg[512], section[64];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    const char *slash = strchr (path, '/');
    snprintf (section, sizeof section, "%.*s", slash ? (int) (slash - path) : 63, path);
    return fail_at (ld, ordinal_of (ld->root, section), slash ? slash + 1 : NULL, code,
                    "%s", msg);
}

static int
check_known (load_t *ld, zconfig_t *item, const char *prefix, int ordinal)
{
    for (int i = 0; item; item = zconfig_next (item), i++) {
        char path[256];
        snprintf (path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "",
                  zconfig_name (item) ? zconfig_name (item) : "");
        int found = 0;
        for (int k = 0; known_settings[k] && !found; k++)
            found = strcmp (path, known_settings[k]) == 0;
        int at = *prefix ? ordinal : i;
        if (!found)
            return fail_at (ld, at, *prefix ? zconfig_name (item) : NULL, EINVAL,
                            "unknown setting '%s'", path);
        /* A setting given twice in one section: which one was meant? */
        for (zconfig_t *other = *prefix ? item : NULL; other;
             other = zconfig_next (other))
            if (other != item && zconfig_name (other) && zconfig_name (item)
                && strcmp (zconfig_name (other), zconfig_name (item)) == 0)
                return fail_at (ld, at, zconfig_name (item), EINVAL,
                                "'%s' is given twice in one section", path);
        if (check_known (ld, zconfig_child (item), path, at))
            return -1;
    }
    return 0;
}

static int
get_number (load_t *ld, const char *path, long long min, long long max, long long *out)
{
    char *text = zconfig_get (ld->root, path, NULL);
    if (!text)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll (text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return fail_path (ld, path, EINVAL, "%s = '%s' is not a number from %lld to %lld",
                          path, text, min, max);
    *out = v;
    return 0;
}

int
im_card_parse (const char *text, im_card_t *card, char *err, size_t errsz)
{
    char tag[16], name[IM_NAME_MAX + 2], node[66], curve[66], endpoint[IM_ENDPOINT_MAX + 1];
    char extra[2];
    memset (card, 0, sizeof *card);
    if (!text)
        return im_fail (EINVAL, err, errsz, "card: none given");
    int n = sscanf (text, "%15s %65s %65s %65s %256s %1s", tag, name, node, curve,
                    endpoint, extra);
    if (n != 5 || strcmp (tag, IM_CARD_TAG) != 0)
        return im_fail (EINVAL, err, errsz,
                        "card: want 'intelmesh1 NAME NODE-ID CURVE-KEY ENDPOINT' "
                        "(as 'intelmesh id' prints it)");
    if (!im_name_valid (name))
        return im_fail (EINVAL, err, errsz, "card: '%.70s' is not a node name", name);
    size_t binlen = 0;
    if (strlen (node) != 64
        || sodium_hex2bin (card->node, 32, node, 64, NULL, &binlen, NULL) || binlen != 32)
        return im_fail (EINVAL, err, errsz, "card: the node id is not 64 hex digits");
    if (strlen (curve) != 64
        || sodium_hex2bin (card->curve, 32, curve, 64, NULL, &binlen, NULL) || binlen != 32)
        return im_fail (EINVAL, err, errsz, "card: the CURVE key is not 64 hex digits");
    if (strcmp (endpoint, "-") != 0
        && (!im_endpoint_valid (endpoint) || strncmp (endpoint, "tcp://", 6) != 0))
        return im_fail (EINVAL, err, errsz,
                        "card: '%.70s' is not a tcp:// endpoint (or '-')", endpoint);
    snprintf (card->name, sizeof card->name, "%.64s", name);
    snprintf (card->endpoint, sizeof card->endpoint, "%.255s",
              strcmp (endpoint, "-") ? endpoint : "");
    zmq_z85_encode (card->curve_z85, card->curve, 32);
    return 0;
}

/* One 'peer' section of the configuration, checked against the others: its
 * identity (its rules are read once every peer is known). */
static int
load_peer (load_t *ld, zconfig_t *item, int ordinal)
{
    im_config_t *cfg = ld->cfg;
    const char *name = zconfig_get (item, "name", NULL);
    const char *card = zconfig_get (item, "card", NULL);
    const char *endpoint = zconfig_get (item, "endpoint", NULL);
    const char *policy = zconfig_get (item, "policy", IM_POLICY_DEFAULT);
    char why[256];
    if (cfg->npeers >= IM_PEERS_MAX)
        return fail_at (ld, ordinal, NULL, ENOSPC, "more than %d peers", IM_PEERS_MAX);
    if (!name || !im_name_valid (name))
        return fail_at (ld, ordinal, name ? "name" : NULL, EINVAL,
                        "peer %zu: name missing or not 1-64 letters, digits, '.', '_' "
                        "or '-'", cfg->npeers + 1);
    im_peer_conf_t *p = &cfg->peers[cfg->npeers];
    memset (p, 0, sizeof *p);
    if (im_card_parse (card, &p->card, why, sizeof why))
        return fail_at (ld, ordinal, card ? "card" : NULL, EINVAL, "peer %s: %s", name, why);
    snprintf (p->card.name, sizeof p->card.name, "%s", name);
    if (endpoint && *endpoint && (!im_endpoint_valid (endpoint)
                                  || strncmp (endpoint, "tcp://", 6) != 0))
        return fail_at (ld, ordinal, "endpoint", EINVAL,
                        "peer %s: endpoint '%s' is not tcp://", name, endpoint);
    snprintf (p->endpoint, sizeof p->endpoint, "%s",
              endpoint ? endpoint : p->card.endpoint);
    if (!im_name_valid (policy))
        return fail_at (ld, ordinal, "policy", EINVAL,
                        "peer %s: '%.64s' is not a policy name", name, policy);
    snprintf (p->policy, sizeof p->policy, "%s", policy);
    im_inbound_default (&p->in);
    /* After the peer rotated its CURVE key, its previous key works until its
     * grace period ends (SPEC.md, "ROTATE"). */
    const char *prev = zconfig_get (item, "previous-curve", NULL);
    const char *until = zconfig_get (item, "previous-until", NULL);
    if (!prev != !until)
        return fail_at (ld, ordinal, prev ? "previous-curve" : "previous-until", EINVAL,
                        "peer %s: previous-curve and previous-until go together", name);
    if (prev) {
        size_t binlen = 0;
        if (strlen (prev) != 64
            || sodium_hex2bin (p->prev_curve, 32, prev, 64, NULL, &binlen, NULL) != 0
            || binlen != 32)
            return fail_at (ld, ordinal, "previous-curve", EINVAL,
                            "peer %s: previous-curve is not a CURVE key (64 hex digits)",
                            name);
        if (im_time_parse (until, 0, &p->prev_until) || p->prev_until <= 0)
            return fail_at (ld, ordinal, "previous-until", EINVAL,
                            "peer %s: previous-until '%s' is not a time", name, until);
        zmq_z85_encode (p->prev_curve_z85, p->prev_curve, 32);
    }
    for (size_t i = 0; i < cfg->npeers; i++) {
        const im_peer_conf_t *q = &cfg->peers[i];
        if (strcmp (q->card.name, name) == 0)
            return fail_at (ld, ordinal, "name", EEXIST, "peer %s is listed twice", name);
        if (memcmp (q->card.node, p->card.node, 32) == 0)
            return fail_at (ld, ordinal, "card", EEXIST,
                            "peers %s and %s have the same node id", q->card.name, name);
        if (memcmp (q->card.curve, p->card.curve, 32) == 0)
            return fail_at (ld, ordinal, "card", EEXIST,
                            "peers %s and %s have the same CURVE key", q->card.name, name);
    }
    cfg->npeers++;
    return 0;
}

/* A list of origins with peer names replaced by their node ids. Returns 0,
 * or -1 when OUT is too small. */
static int
resolve_origins (load_t *ld, const char *value, char *out, size_t outsz)
{
    size_t o = 0;
    out[0] = 0;
    const char *p = value;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *end = p;
        while (*end && *end != ',' && *end != ' ' && *end != '\t')
            end++;
        char item[IM_NAME_MAX + 2];
        int ilen = end - p > IM_NAME_MAX + 1 ? IM_NAME_MAX + 1 : (int) (end - p);
        snprintf (item, sizeof item, "%.*s", ilen, p);
        const im_peer_conf_t *peer = im_config_peer (ld->cfg, item);
        char hex[IM_NODE_HEX_SIZE];
        if (peer)
            im_node_format (peer->card.node, hex);
        int n = snprintf (out + o, outsz - o, "%s%.*s", o ? "," : "",
                          peer ? 64 : (int) (end - p), peer ? hex : p);
        if (n < 0 || o + (size_t) n >= outsz)
            return -1;
        o += (size_t) n;
        p = end;
    }
    return 0;
}

static const char *inbound_keys[] = { "accept", "accept-types", "accept-origins", "rate",
                                      NULL };
static const char *policy_keys[] = { "max-tlp", "types", "deny-types", "tags", "deny-tags",
                                     "min-confidence", "relay", "relay-origins", NULL };

/* Sets one rule of RULES (a policy or inbound rules). */
typedef int (rule_set_fn) (void *rules, const char *key, const char *value, char *err,
                           size_t errsz);

static int
set_policy_rule (void *rules, const char *key, const char *value, char *err, size_t errsz)
{
    return im_policy_set (rules, key, value, err, errsz);
}

static int
set_inbound_rule (void *rules, const char *key, const char *value, char *err,
                  size_t errsz)
{
    return im_inbound_set (rules, key, value, err, errsz);
}

/* Reads the rules KEYS of section ITEM through SET into RULES. */
static int
load_rules (load_t *ld, zconfig_t *item, int ordinal, const char *what, const char **keys,
            rule_set_fn *set, void *rules)
{
    for (int k = 0; keys[k]; k++) {
        const char *value = zconfig_get (item, keys[k], NULL);
        if (!value)
            continue;
        char resolved[IM_POLICY_ORIGINS_MAX * (IM_NODE_HEX_SIZE + 1) + 512], why[512];
        int origins = strstr (keys[k], "origins") != NULL;
        if (origins && resolve_origins (ld, value, resolved, sizeof resolved))
            return fail_at (ld, ordinal, keys[k], EINVAL, "%s: %s: more than %d origins",
                            what, keys[k], IM_POLICY_ORIGINS_MAX);
        if (set (rules, keys[k], origins ? resolved : value, why, sizeof why))
            return fail_at (ld, ordinal, keys[k], EINVAL, "%s: %s", what, why);
    }
    return 0;
}

/* One 'policy' section. */
static int
load_policy (load_t *ld, zconfig_t *item, int ordinal)
{
    im_config_t *cfg = ld->cfg;
    const char *name = zconfig_get (item, "name", NULL);
    char why[512], what[IM_POLICY_NAME_MAX + 16];
    if (!name || !im_name_valid (name))
        return fail_at (ld, ordinal, name ? "name" : NULL, EINVAL,
                        "policy: name missing or not 1-64 letters, digits, '.', '_' or '-'");
    if (im_config_policy (cfg, name))
        return fail_at (ld, ordinal, "name", EEXIST, "policy %s is defined twice", name);
    if (cfg->npolicies >= IM_POLICY_MAX - 1)
        return fail_at (ld, ordinal, NULL, ENOSPC, "more than %d policies",
                        IM_POLICY_MAX - 1);
    im_policy_t *pol = &cfg->policies[cfg->npolicies];
    im_policy_default (pol, name);
    snprintf (what, sizeof what, "policy %s", name);
    if (load_rules (ld, item, ordinal, what, policy_keys, set_policy_rule, pol))
        return -1;
    if (im_policy_check (pol, why, sizeof why))
        return fail_at (ld, ordinal, NULL, EINVAL, "%s", why);
    cfg->npolicies++;
    return 0;
}

/* The inbound rules of the peer section ITEM, once every peer is known. */
static int
load_inbound (load_t *ld, zconfig_t *item, int ordinal, im_peer_conf_t *p)
{
    char what[IM_NAME_MAX + 16];
    snprintf (what, sizeof what, "peer %s", p->card.name);
    if (load_rules (ld, item, ordinal, what, inbound_keys, set_inbound_rule, &p->in))
        return -1;
    if (!p->in.relayed && p->in.norigins
        && (p->in.norigins > 1 || memcmp (p->in.origins[0], p->card.node, 32) != 0))
        return fail_at (ld, ordinal, "accept-origins", EINVAL,
                        "peer %s: accept = own contradicts accept-origins naming other "
                        "nodes", p->card.name);
    if (!im_config_policy (ld->cfg, p->policy))
        return fail_at (ld, ordinal, "policy", EINVAL,
                        "peer %s: there is no policy named '%s'", p->card.name, p->policy);
    return 0;
}

const im_policy_t *
im_config_policy (const im_config_t *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->npolicies; i++)
        if (strcmp (cfg->policies[i].name, name) == 0)
            return &cfg->policies[i];
    return NULL;
}

const im_policy_t *
im_config_peer_policy (const im_config_t *cfg, const im_peer_conf_t *peer)
{
    const im_policy_t *pol = im_config_policy (cfg, peer->policy);
    return pol ? pol : im_config_policy (cfg, IM_POLICY_DEFAULT);
}

const im_peer_conf_t *
im_config_peer (const im_config_t *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->npeers; i++)
        if (strcmp (cfg->peers[i].card.name, name) == 0)
            return &cfg->peers[i];
    return NULL;
}

/* Reads DIR/intelmesh.conf whole. Returns a new string or NULL (errno). */
static char *
read_config (const char *dir, char *err, size_t errsz)
{
    char path[4096];
    if (im_dir_path (dir, IM_CONFIG_FILE, path, sizeof path)) {
        im_fail (ENAMETOOLONG, err, errsz, "%s: path too long", dir);
        return NULL;
    }
    FILE *f = fopen (path, "r");
    if (!f) {
        im_fail (errno, err, errsz, "%s: %s", path, strerror (errno));
        return NULL;
    }
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream (&text, &size);
    char buf[8192];
    size_t n;
    while (mem && (n = fread (buf, 1, sizeof buf, f)) > 0)
        fwrite (buf, 1, n, mem);
    int bad = ferror (f);
    fclose (f);
    if (!mem || fclose (mem) != 0 || bad) {
        free (text);
        im_fail (EIO, err, errsz, "%s: cannot read", path);
        return NULL;
    }
    return text;
}

/* Replaces DIR/intelmesh.conf with TEXT: a new file, synced, renamed over. */
static int
write_config (const char *dir, const char *text, char *err, size_t errsz)
{
    char path[4096], tmp[4200];
    if (im_dir_path (dir, IM_CONFIG_FILE, path, sizeof path))
        return im_fail (ENAMETOOLONG, err, errsz, "%s: path too long", dir);
    snprintf (tmp, sizeof tmp, "%s.new.%ld", path, (long) getpid ());
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return im_fail (errno, err, errsz, "%s: %s", tmp, strerror (errno));
    /* The new file keeps the old one's owner (a root admin editing the
     * configuration of a node that runs as its own user). */
    struct stat st;
    if (stat (path, &st) == 0 && geteuid () == 0 && fchown (fd, st.st_uid, st.st_gid) != 0) {
        int saved = errno;
        close (fd);
        unlink (tmp);
        return im_fail (saved, err, errsz, "%s: %s", tmp, strerror (saved));
    }
    size_t len = strlen (text);
    int ok = write (fd, text, len) == (ssize_t) len && fsync (fd) == 0;
    int saved = errno;
    close (fd);
    if (!ok || rename (tmp, path) != 0) {
        saved = ok ? errno : saved;
        unlink (tmp);
        return im_fail (saved, err, errsz, "%s: %s", path, strerror (saved));
    }
    int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync (dfd); /* the rename itself, durable */
        close (dfd);
    }
    return 0;
}

/* Every read-modify-write of the configuration (the CLI's and the node's,
 * which writes down a peer's rotated key) holds this lock, so that no change
 * is lost to another made at the same moment. Returns a descriptor, or -1. */
static int
config_lock (const char *dir, char *err, size_t errsz)
{
    char path[4096];
    if (!dir)
        return im_fail (EINVAL, err, errsz, "config: missing directory");
    if (im_dir_path (dir, IM_CONFIG_FILE ".lock", path, sizeof path))
        return im_fail (ENAMETOOLONG, err, errsz, "%s: path too long", dir);
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return im_fail (errno, err, errsz, "%s: %s", path, strerror (errno));
    while (flock (fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int saved = errno;
            close (fd);
            return im_fail (saved, err, errsz, "%s: %s", path, strerror (saved));
        }
    }
    return fd;
}

static void
config_unlock (int fd)
{
    int saved = errno;
    if (fd >= 0)
        close (fd); /* releases the lock */
    errno = saved;
}

static int
im_config_peer_add_locked (const char *dir, const im_peer_conf_t *peer, char *err, size_t errsz)
{
    im_config_t *cfg = malloc (sizeof *cfg);
    if (!cfg)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    int rc = im_config_load (dir, cfg, err, errsz);
    for (size_t i = 0; rc == 0 && i < cfg->npeers; i++) {
        const im_peer_conf_t *q = &cfg->peers[i];
        if (strcmp (q->card.name, peer->card.name) == 0)
            rc = im_fail (EEXIST, err, errsz, "a peer named %s is already on the list",
                          q->card.name);
        else if (memcmp (q->card.node, peer->card.node, 32) == 0)
            rc = im_fail (EEXIST, err, errsz, "that node is already on the list, as %s",
                          q->card.name);
        else if (memcmp (q->card.curve, peer->card.curve, 32) == 0)
            rc = im_fail (EEXIST, err, errsz,
                          "that CURVE key is already on the list, as %s", q->card.name);
    }
    if (rc == 0 && cfg->npeers >= IM_PEERS_MAX)
        rc = im_fail (ENOSPC, err, errsz, "the trust list is full (%d peers)", IM_PEERS_MAX);
    free (cfg);
    if (rc)
        return rc;
    char *text = read_config (dir, err, errsz);
    if (!text)
        return -1;
    char node[65], curve[65];
    sodium_bin2hex (node, sizeof node, peer->card.node, 32);
    sodium_bin2hex (curve, sizeof curve, peer->card.curve, 32);
    char *out = NULL;
    size_t len = strlen (text);
    if (asprintf (&out,
                  "%s%s\npeer\n"
                  "    name = \"%s\"\n"
                  "    card = \"%s %s %s %s %s\"\n"
                  "    endpoint = \"%s\"\n",
                  text, len && text[len - 1] != '\n' ? "\n" : "", peer->card.name,
                  IM_CARD_TAG, peer->card.name, node, curve,
                  *peer->card.endpoint ? peer->card.endpoint : "-", peer->endpoint) < 0)
        out = NULL;
    free (text);
    if (!out)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    rc = write_config (dir, out, err, errsz);
    free (out);
    return rc;
}

/* Whether LINE (up to its end) is "    name = NAME", quoted or not. */
static int
is_name_line (const char *line, const char *name)
{
    while (*line == ' ' || *line == '\t')
        line++;
    if (strncmp (line, "name", 4) != 0)
        return 0;
    line += 4;
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line++ != '=')
        return 0;
    while (*line == ' ' || *line == '\t')
        line++;
    int quoted = *line == '"';
    line += quoted;
    size_t n = strlen (name);
    if (strncmp (line, name, n) != 0)
        return 0;
    line += n + (quoted && line[n] == '"');
    while (*line == ' ' || *line == '\t' || *line == '\r')
        line++;
    return *line == '\n' || *line == 0 || *line == '#';
}

static int
im_config_peer_remove_locked (const char *dir, const char *name, char *err, size_t errsz)
{
    char *text = read_config (dir, err, errsz);
    if (!text)
        return -1;
    /* A section runs from a line "peer" to the next line that is neither
     * indented, blank nor a comment. */
    char *out = malloc (strlen (text) + 1);
    size_t o = 0;
    int removed = 0;
    char *p = text;
    while (out && *p) {
        char *eol = strchr (p, '\n');
        char *next = eol ? eol + 1 : p + strlen (p);
        if (strncmp (p, "peer", 4) == 0 && (p[4] == '\n' || p[4] == ' ' || p[4] == '\r'
                                            || p[4] == '#' || p[4] == 0)) {
            char *end = next;
            int match = 0;
            while (*end && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '#')) {
                char *e = strchr (end, '\n');
                if (is_name_line (end, name))
                    match = 1;
                end = e ? e + 1 : end + strlen (end);
            }
            if (match) {
                removed++;
                /* Drop the blank line written before the section, too. */
                if (o >= 2 && out[o - 1] == '\n' && out[o - 2] == '\n')
                    o--;
                p = end;
                continue;
            }
        }
        memcpy (out + o, p, (size_t) (next - p));
        o += (size_t) (next - p);
        p = next;
    }
    free (text);
    if (!out)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    out[o] = 0;
    int rc = removed ? write_config (dir, out, err, errsz)
                     : im_fail (ENOENT, err, errsz, "no peer named %s on the list", name);
    free (out);
    return rc;
}

int
im_config_load_text (const char *text, im_config_t *cfg, char *err, size_t errsz)
{
    if (!text || !cfg)
        return im_fail (EINVAL, err, errsz, "config: missing argument");
    config_defaults (cfg);
    zconfig_t *root = zconfig_str_load (text);
    if (!root)
        return im_fail (EINVAL, err, errsz, "%s: not a valid ZPL file", IM_CONFIG_FILE);
    load_t ld = { text, root, cfg, err, errsz };
    int rc = check_known (&ld, zconfig_child (root), "", 0);
    char *v;
    if (rc == 0 && (v = zconfig_get (root, "node/name", NULL))) {
        if (!im_name_valid (v))
            rc = fail_path (&ld, "node/name", EINVAL,
                            "node/name '%s' is not 1-64 letters, digits, '.', '_' or '-'", v);
        else
            snprintf (cfg->name, sizeof cfg->name, "%s", v);
    }
    if (rc == 0 && (v = zconfig_get (root, "node/listen", NULL))) {
        if (!im_endpoint_valid (v))
            rc = fail_path (&ld, "node/listen", EINVAL,
                            "node/listen '%s' is not a tcp:// endpoint", v);
        else
            snprintf (cfg->listen, sizeof cfg->listen, "%s", v);
    }
    if (rc == 0 && (v = zconfig_get (root, "pub/endpoint", NULL))) {
        if (!im_endpoint_valid (v))
            rc = fail_path (&ld, "pub/endpoint", EINVAL,
                            "pub/endpoint '%s' is not a tcp:// or ipc:// endpoint", v);
        else
            snprintf (cfg->pub_endpoint, sizeof cfg->pub_endpoint, "%s", v);
    }
    if (rc == 0 && (v = zconfig_get (root, "pub/format", NULL))) {
        if (strcmp (v, "intelmesh") == 0)
            cfg->pub_misp = 0;
        else if (strcmp (v, "misp") == 0)
            cfg->pub_misp = 1;
        else
            rc = fail_path (&ld, "pub/format", EINVAL,
                            "pub/format '%s' is not intelmesh or misp", v);
    }
    if (rc == 0 && (v = zconfig_get (root, "pub/misp-endpoint", NULL))) {
        if (!im_endpoint_valid (v))
            rc = fail_path (&ld, "pub/misp-endpoint", EINVAL,
                            "pub/misp-endpoint '%s' is not a tcp:// or ipc:// endpoint", v);
        else if (strcmp (v, cfg->pub_endpoint) == 0)
            rc = fail_path (&ld, "pub/misp-endpoint", EINVAL,
                            "pub/misp-endpoint '%s' is pub/endpoint too: give another, "
                            "or set pub/format = misp", v);
        else
            snprintf (cfg->pub_misp_endpoint, sizeof cfg->pub_misp_endpoint, "%s", v);
    }
    if (rc == 0 && (v = zconfig_get (root, "warninglists/directory", NULL))) {
        if (!*v || strlen (v) >= sizeof cfg->warninglists)
            rc = fail_path (&ld, "warninglists/directory", EINVAL,
                            "warninglists/directory: not a directory name");
        else
            snprintf (cfg->warninglists, sizeof cfg->warninglists, "%s", v);
    }
    if (rc == 0 && (v = zconfig_get (root, "keys/grace", NULL))) {
        int64_t grace = 0;
        if (im_time_duration (v, &grace) || grace < IM_KEY_GRACE_MIN
            || grace > IM_KEY_GRACE_MAX)
            rc = fail_path (&ld, "keys/grace", EINVAL,
                            "keys/grace '%s' is not a duration from 5s to 365d (like 7d)", v);
        else
            cfg->key_grace = grace;
    }
    long long hb = cfg->heartbeat, map = (long long) cfg->map_size, sl = cfg->syslog;
    if (rc == 0)
        rc = get_number (&ld, "pub/heartbeat", 1, 3600, &hb);
    if (rc == 0)
        rc = get_number (&ld, "store/map-size", 1 << 20, 1LL << 40, &map);
    if (rc == 0)
        rc = get_number (&ld, "log/syslog", 0, 1, &sl);
    cfg->heartbeat = (int) hb;
    cfg->map_size = (size_t) map;
    cfg->syslog = (int) sl;
    if (rc == 0 && (v = zconfig_get (root, "node/bind", NULL))) {
        if (!im_endpoint_valid (v) || strncmp (v, "tcp://", 6) != 0)
            rc = fail_path (&ld, "node/bind", EINVAL,
                            "node/bind '%s' is not a tcp:// endpoint", v);
        else
            snprintf (cfg->bind, sizeof cfg->bind, "%s", v);
    }
    if (rc == 0 && !*cfg->bind && *cfg->listen) {
        /* By default the peer socket binds where the card says, if that is an
         * address; a host name binds every interface on its port. */
        const char *host = cfg->listen + 6, *colon = strrchr (host, ':');
        char name[IM_ENDPOINT_MAX];
        snprintf (name, sizeof name, "%.*s", (int) (colon - host), host);
        unsigned char addr[16];
        int literal = strcmp (name, "*") == 0 || inet_pton (AF_INET, name, addr) == 1
                      || (name[0] == '[' && strchr (name, ']'));
        snprintf (cfg->bind, sizeof cfg->bind, literal ? "%s" : "tcp://*%s",
                  literal ? cfg->listen : colon);
    }
    /* Peers first, so that policies and inbound rules can name them. */
    int i = 0;
    for (zconfig_t *item = zconfig_child (root); rc == 0 && item;
         item = zconfig_next (item), i++)
        if (streq (zconfig_name (item), "peer"))
            rc = load_peer (&ld, item, i);
    i = 0;
    for (zconfig_t *item = zconfig_child (root); rc == 0 && item;
         item = zconfig_next (item), i++)
        if (streq (zconfig_name (item), "policy"))
            rc = load_policy (&ld, item, i);
    if (rc == 0 && !im_config_policy (cfg, IM_POLICY_DEFAULT))
        im_policy_default (&cfg->policies[cfg->npolicies++], IM_POLICY_DEFAULT);
    i = 0;
    size_t peer = 0;
    for (zconfig_t *item = zconfig_child (root); rc == 0 && item;
         item = zconfig_next (item), i++)
        if (streq (zconfig_name (item), "peer"))
            rc = load_inbound (&ld, item, i, &cfg->peers[peer++]);
    zconfig_destroy (&root);
    return rc;
}

int
im_config_load (const char *dir, im_config_t *cfg, char *err, size_t errsz)
{
    char path[4096];
    if (!dir || !cfg)
        return im_fail (EINVAL, err, errsz, "config: missing argument");
    config_defaults (cfg);
    if (im_dir_path (dir, IM_CONFIG_FILE, path, sizeof path))
        return im_fail (ENAMETOOLONG, err, errsz, "%s: path too long", dir);
    if (access (path, R_OK) != 0)
        return im_fail (errno, err, errsz, "%s: %s (run 'intelmesh init -d %s' first)",
                        path, strerror (errno), dir);
    char *text = read_config (dir, err, errsz);
    if (!text)
        return -1;
    int rc = im_config_load_text (text, cfg, err, errsz);
    free (text);
    return rc;
}

/* The extent of the section KIND named NAME in TEXT: from its first line to
 * the start of the next line that is neither indented, blank nor a comment.
 * Returns 1 and sets *START, *END, or 0. */
static int
find_section (const char *text, const char *kind, const char *name, const char **start,
              const char **end)
{
    size_t k = strlen (kind);
    const char *p = text;
    while (*p) {
        const char *eol = strchr (p, '\n');
        const char *next = eol ? eol + 1 : p + strlen (p);
        if (strncmp (p, kind, k) == 0 && strchr ("\n \r#", p[k])) {
            const char *e = next;
            int match = 0;
            while (*e && strchr (" \t\n#", *e)) {
                const char *el = strchr (e, '\n');
                if (is_name_line (e, name))
                    match = 1;
                e = el ? el + 1 : e + strlen (e);
            }
            if (match) {
                *start = p;
                *end = e;
                return 1;
            }
        }
        p = next;
    }
    return 0;
}

/* The end of the last setting of the section from START to END: the blank
 * and comment lines after it belong to what follows. */
static const char *
section_last (const char *start, const char *end)
{
    const char *last = start, *p = start;
    while (p < end) {
        const char *el = strchr (p, '\n');
        const char *next = el && el < end ? el + 1 : end;
        const char *q = p;
        while (q < next && (*q == ' ' || *q == '\t'))
            q++;
        if (q < next && *q != '\n' && *q != '#')
            last = next;
        p = next;
    }
    return last;
}

/* Whether LINE is "    KEY = ..." (or "    KEY" alone). */
static int
is_key_line (const char *line, const char *key)
{
    if (*line != ' ' && *line != '\t')
        return 0;
    while (*line == ' ' || *line == '\t')
        line++;
    size_t k = strlen (key);
    return strncmp (line, key, k) == 0 && strchr (" \t=\r\n#", line[k]) && line[k];
}

static int
im_config_section_set_locked (const char *dir, const char *kind, const char *name, int create,
                       const char **keys, const char **values, size_t n, char *err,
                       size_t errsz)
{
    if (!dir || !kind || !name || (n && (!keys || !values)))
        return im_fail (EINVAL, err, errsz, "config: missing argument");
    for (size_t i = 0; i < n; i++)
        if (values[i] && strpbrk (values[i], "\"\n\r"))
            return im_fail (EINVAL, err, errsz, "%s: a value may not hold a quote or a "
                            "line break", keys[i]);
    char *text = read_config (dir, err, errsz);
    if (!text)
        return -1;
    const char *start, *end;
    int found = find_section (text, kind, name, &start, &end);
    if (!found && !create) {
        free (text);
        return im_fail (ENOENT, err, errsz, "no %s named %s in %s", kind, name,
                        IM_CONFIG_FILE);
    }
    /* Build the section anew: its lines, with each key replaced, removed or
     * added after the last setting. */
    char *section = NULL;
    size_t size = 0;
    FILE *mem = open_memstream (&section, &size);
    if (!mem) {
        free (text);
        return im_fail (ENOMEM, err, errsz, "out of memory");
    }
    int *done = calloc (n ? n : 1, sizeof *done);
    if (found) {
        /* Trailing blank and comment lines stay after the section. */
        const char *last = section_last (start, end), *p;
        for (p = start; p < last;) {
            const char *el = strchr (p, '\n');
            const char *next = el && el < last ? el + 1 : last;
            int replaced = 0;
            for (size_t i = 0; i < n && !replaced; i++)
                if (is_key_line (p, keys[i])) {
                    replaced = 1;
                    if (values[i] && !done[i])
                        fprintf (mem, "    %s = \"%s\"\n", keys[i], values[i]);
                    done[i] = 1;
                }
            if (!replaced)
                fwrite (p, 1, (size_t) (next - p), mem);
            if (!replaced && next == last && last[-1] != '\n')
                fputc ('\n', mem);
            p = next;
        }
        end = last;
    }
    else
        fprintf (mem, "%s%s\n    name = \"%s\"\n",
                 *text && text[strlen (text) - 1] != '\n' ? "\n\n" : "\n", kind, name);
    for (size_t i = 0; i < n; i++)
        if (!done[i] && values[i])
            fprintf (mem, "    %s = \"%s\"\n", keys[i], values[i]);
    free (done);
    int rc = fclose (mem);
    char *out = NULL;
    if (rc == 0 && section) {
        size_t before = found ? (size_t) (start - text) : strlen (text);
        const char *after = found ? end : "";
        out = malloc (before + strlen (section) + strlen (after) + 1);
        if (out) {
            memcpy (out, text, before);
            strcpy (out + before, section);
            strcat (out, after);
        }
    }
    free (section);
    free (text);
    if (!out)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    im_config_t *cfg = malloc (sizeof *cfg);
    char why[512];
    if (!cfg)
        rc = im_fail (ENOMEM, err, errsz, "out of memory");
    else if (im_config_load_text (out, cfg, why, sizeof why))
        rc = im_fail (EINVAL, err, errsz, "not changed: %s", why);
    else
        rc = write_config (dir, out, err, errsz);
    free (cfg);
    free (out);
    return rc;
}

static int
im_config_policy_remove_locked (const char *dir, const char *name, char *err, size_t errsz)
{
    im_config_t *cfg = malloc (sizeof *cfg);
    if (!cfg)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    int rc = im_config_load (dir, cfg, err, errsz);
    for (size_t i = 0; rc == 0 && i < cfg->npeers; i++)
        if (strcmp (cfg->peers[i].policy, name) == 0)
            rc = im_fail (EBUSY, err, errsz, "policy %s is in use by peer %s", name,
                          cfg->peers[i].card.name);
    free (cfg);
    if (rc)
        return rc;
    char *text = read_config (dir, err, errsz);
    if (!text)
        return -1;
    const char *start, *end;
    if (!find_section (text, "policy", name, &start, &end)) {
        free (text);
        return im_fail (ENOENT, err, errsz, "no policy named %s in %s", name,
                        IM_CONFIG_FILE);
    }
    /* Comments after its last setting introduce what follows: they stay. */
    end = section_last (start, end);
    memmove ((char *) start, end, strlen (end) + 1);
    rc = write_config (dir, text, err, errsz);
    free (text);
    return rc;
}

int
im_config_write_default (const char *dir, const char *name, const char *listen,
                         const char *pub, char *err, size_t errsz)
{
    char path[4096];
    if (im_dir_path (dir, IM_CONFIG_FILE, path, sizeof path))
        return im_fail (ENAMETOOLONG, err, errsz, "%s: path too long", dir);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return im_fail (errno, err, errsz, "%s: %s", path, strerror (errno));
    FILE *f = fdopen (fd, "w");
    if (!f) {
        close (fd);
        return im_fail (errno, err, errsz, "%s: %s", path, strerror (errno));
    }
    fprintf (f,
             "#   intelmesh node configuration (ZPL: indent with 4 spaces, '#' starts\n"
             "#   a comment). intelmeshd reads it at start; see intelmesh.conf(5).\n"
             "\n"
             "node\n"
             "    #   This node's name, as partners will see it in its card.\n"
             "    name = \"%s\"\n"
             "    #   The endpoint partners dial, advertised in the node card. The\n"
             "    #   peer socket binds there if it is an address, else on every\n"
             "    #   interface at its port; 'bind = tcp://ADDRESS:PORT' overrides.\n"
             "    listen = \"%s\"\n"
             "\n"
             "pub\n"
             "    #   Local feed of every accepted change, topic-prefixed JSON.\n"
             "    #   Keep it on loopback or ipc:// unless you mean to expose it.\n"
             "    endpoint = \"%s\"\n"
             "    #   Seconds between node.heartbeat messages.\n"
             "    heartbeat = 5\n"
             "\n"
             "store\n"
             "    #   Initial LMDB map size in bytes; it grows by itself when full.\n"
             "    map-size = 1073741824\n"
             "\n"
             "log\n"
             "    #   1: log to syslog (the journal) rather than standard error.\n"
             "    syslog = 0\n",
             name, listen, pub);
    if (fclose (f) != 0)
        return im_fail (errno, err, errsz, "%s: %s", path, strerror (errno));
    return 0;
}

static int
pidfile_open (const char *dir, int flags)
{
    char path[4096];
    if (im_dir_path (dir, IM_PID_FILE, path, sizeof path))
        return -1;
    return open (path, flags | O_CLOEXEC, 0644);
}

int
im_pidfile_acquire (const char *dir, pid_t *holder, char *err, size_t errsz)
{
    int fd = pidfile_open (dir, O_RDWR | O_CREAT);
    if (fd < 0)
        return im_fail (errno, err, errsz, "%s/%s: %s", dir, IM_PID_FILE, strerror (errno));
    struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    if (fcntl (fd, F_SETLK, &lk) != 0) {
        int saved = errno;
        pid_t pid = im_pidfile_holder (dir);
        if (holder)
            *holder = pid;
        close (fd);
        if (saved == EACCES || saved == EAGAIN)
            return im_fail (EAGAIN, err, errsz,
                         "intelmeshd is already running on %s (pid %ld)", dir, (long) pid);
        return im_fail (saved, err, errsz, "%s/%s: %s", dir, IM_PID_FILE, strerror (saved));
    }
    char text[32];
    int n = snprintf (text, sizeof text, "%ld\n", (long) getpid ());
    if (ftruncate (fd, 0) != 0 || write (fd, text, (size_t) n) != n) {
        int saved = errno;
        close (fd);
        return im_fail (saved, err, errsz, "%s/%s: %s", dir, IM_PID_FILE, strerror (saved));
    }
    return fd;
}

pid_t
im_pidfile_holder (const char *dir)
{
    int fd = pidfile_open (dir, O_RDONLY);
    if (fd < 0)
        return 0;
    struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    pid_t pid = 0;
    if (fcntl (fd, F_GETLK, &lk) == 0 && lk.l_type != F_UNLCK)
        pid = lk.l_pid;
    close (fd);
    return pid;
}

int
im_config_peer_add (const char *dir, const im_peer_conf_t *peer, char *err, size_t errsz)
{
    int lock = config_lock (dir, err, errsz);
    if (lock < 0)
        return -1;
    int rc = im_config_peer_add_locked (dir, peer, err, errsz);
    config_unlock (lock);
    return rc;
}

int
im_config_peer_remove (const char *dir, const char *name, char *err, size_t errsz)
{
    int lock = config_lock (dir, err, errsz);
    if (lock < 0)
        return -1;
    int rc = im_config_peer_remove_locked (dir, name, err, errsz);
    config_unlock (lock);
    return rc;
}

int
im_config_policy_remove (const char *dir, const char *name, char *err, size_t errsz)
{
    int lock = config_lock (dir, err, errsz);
    if (lock < 0)
        return -1;
    int rc = im_config_policy_remove_locked (dir, name, err, errsz);
    config_unlock (lock);
    return rc;
}

int
im_config_section_set (const char *dir, const char *kind, const char *name, int create,
                       const char **keys, const char **values, size_t n, char *err,
                       size_t errsz)
{
    int lock = config_lock (dir, err, errsz);
    if (lock < 0)
        return -1;
    int rc = im_config_section_set_locked (dir, kind, name, create, keys, values, n, err,
                                           errsz);
    config_unlock (lock);
    return rc;
}
