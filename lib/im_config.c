/* SPDX-License-Identifier: MPL-2.0 */
/* im_config.c -- the node's ZPL configuration file (czmq's zconfig): its
 * defaults, and loading it with every setting checked and every refusal
 * naming its line. Editing the file is in im_config_edit.c. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <czmq.h>
#include <sodium.h>

#include "im_config.h"
#include "im_time.h"
#include "im_util.h"
#include "im_zpl_check.h"

static void
config_defaults (im_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    snprintf (cfg->name, sizeof cfg->name, "intelmesh");
    cfg->heartbeat = 5;
    cfg->key_grace = IM_KEY_GRACE_DEFAULT;
    cfg->anti_entropy = IM_ANTI_ENTROPY_DEFAULT;
    cfg->fetch_grace = IM_FETCH_GRACE_DEFAULT;
    cfg->exercise_retention = IM_EXERCISE_RETENTION_DEFAULT;
    cfg->map_size = (size_t)1 << 30;
    cfg->sent_retention = IM_SENT_RETENTION_DEFAULT;
}

/* The settings a config file may hold, as zconfig paths. */
static const char *known_settings[] = { "node",
                                        "node/name",
                                        "node/listen",
                                        "node/bind",
                                        "node/anti-entropy",
                                        "node/fetch-grace",
                                        "pub",
                                        "pub/endpoint",
                                        "pub/heartbeat",
                                        "pub/format",
                                        "pub/misp-endpoint",
                                        "pub/group",
                                        "pub/subscribers",
                                        "warninglists",
                                        "warninglists/directory",
                                        "keys",
                                        "keys/grace",
                                        "sent",
                                        "sent/retention",
                                        "exercise",
                                        "exercise/retention",
                                        "store",
                                        "store/map-size",
                                        "store/max-size",
                                        "log",
                                        "log/syslog",
                                        "peer",
                                        "peer/name",
                                        "peer/card",
                                        "peer/endpoint",
                                        "peer/policy",
                                        "peer/previous-curve",
                                        "peer/previous-until",
                                        "peer/accept",
                                        "peer/accept-types",
                                        "peer/accept-origins",
                                        "peer/rate",
                                        "peer/join-exercises",
                                        "policy",
                                        "policy/name",
                                        "policy/max-tlp",
                                        "policy/types",
                                        "policy/deny-types",
                                        "policy/tags",
                                        "policy/deny-tags",
                                        "policy/min-confidence",
                                        "policy/relay",
                                        "policy/relay-origins",
                                        "taxii",
                                        "taxii/listen",
                                        "taxii/certificate",
                                        "taxii/key",
                                        "taxii-client",
                                        "taxii-client/name",
                                        "taxii-client/policy",
                                        "taxii-client/key-hash",
                                        "taxii-client/id",
                                        NULL };

/* Where a setting is: the line, in the configuration's text, of the ORDINAL-th
 * top-level section, or of its key KEY when it has one (1-based; 0 unknown). */
static int
line_of (const char *text, int ordinal, const char *key)
{
    int line = 0, top = -1, at = 0;
    const char *p = text;
    while (p && *p) {
        const char *eol = strchr (p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen (p);
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
            if ((size_t)(end - q) >= k && strncmp (q, key, k) == 0
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

static int fail_at (load_t *ld, int ordinal, const char *key, int code, const char *fmt,
                    ...) __attribute__ ((format (printf, 5, 6)));

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
static int fail_path (load_t *ld, const char *path, int code, const char *fmt, ...)
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
    snprintf (section, sizeof section, "%.*s", slash ? (int)(slash - path) : 63, path);
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

/* The number at PATH, from MIN to MAX; with SIZE, a number of bytes that may
 * end in K, M, G or T (powers of 1024). Absent: *OUT is left as it is. */
static int
get_number_in (load_t *ld, const char *path, long long min, long long max, int size,
               long long *out)
{
    char *text = zconfig_get (ld->root, path, NULL);
    if (!text)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll (text, &end, 10);
    int shift = 0;
    if (size && *end && !end[1] && strchr ("KMGT", *end))
        shift = 10 * (1 + (int)(strchr ("KMGT", *end) - "KMGT"));
    if (errno || end == text || (*end && !shift) || v < 0 || v > (max >> shift)
        || (v << shift) < min)
        return size ? fail_path (ld, path, EINVAL,
                                 "%s = '%s' is not a size from %lldM to %lldT (bytes, "
                                 "or with K, M, G or T)",
                                 path, text, min >> 20, max >> 40)
                    : fail_path (ld, path, EINVAL,
                                 "%s = '%s' is not a number from %lld to %lld", path,
                                 text, min, max);
    *out = v << shift;
    return 0;
}

static int
get_number (load_t *ld, const char *path, long long min, long long max, long long *out)
{
    return get_number_in (ld, path, min, max, 0, out);
}

int
im_card_parse (const char *text, im_card_t *card, char *err, size_t errsz)
{
    char tag[16], name[IM_NAME_MAX + 2], node[66], curve[66],
        endpoint[IM_ENDPOINT_MAX + 1];
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
        || sodium_hex2bin (card->curve, 32, curve, 64, NULL, &binlen, NULL)
        || binlen != 32)
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
                        "or '-'",
                        cfg->npeers + 1);
    im_peer_conf_t *p = &cfg->peers[cfg->npeers];
    memset (p, 0, sizeof *p);
    if (im_card_parse (card, &p->card, why, sizeof why))
        return fail_at (ld, ordinal, card ? "card" : NULL, EINVAL, "peer %s: %s", name,
                        why);
    snprintf (p->card.name, sizeof p->card.name, "%s", name);
    if (endpoint && *endpoint
        && (!im_endpoint_valid (endpoint) || strncmp (endpoint, "tcp://", 6) != 0))
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
                            "peers %s and %s have the same CURVE key", q->card.name,
                            name);
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
        int ilen = end - p > IM_NAME_MAX + 1 ? IM_NAME_MAX + 1 : (int)(end - p);
        snprintf (item, sizeof item, "%.*s", ilen, p);
        const im_peer_conf_t *peer = im_config_peer (ld->cfg, item);
        char hex[IM_NODE_HEX_SIZE];
        if (peer)
            im_node_format (peer->card.node, hex);
        int n = snprintf (out + o, outsz - o, "%s%.*s", o ? "," : "",
                          peer ? 64 : (int)(end - p), peer ? hex : p);
        if (n < 0 || o + (size_t)n >= outsz)
            return -1;
        o += (size_t)n;
        p = end;
    }
    return 0;
}

static const char *inbound_keys[]
    = { "accept", "accept-types", "accept-origins", "rate", "join-exercises", NULL };
static const char *policy_keys[]
    = { "max-tlp",        "types", "deny-types",    "tags", "deny-tags",
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
        return fail_at (
            ld, ordinal, name ? "name" : NULL, EINVAL,
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
                        "nodes",
                        p->card.name);
    if (!im_config_policy (ld->cfg, p->policy))
        return fail_at (ld, ordinal, "policy", EINVAL,
                        "peer %s: there is no policy named '%s'", p->card.name,
                        p->policy);
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

/* The duration setting PATH, from MIN to MAX seconds (RANGE says so in
 * words), into *OUT; kept when absent. Returns 0, or -1 at its line. */
static int
get_duration (load_t *ld, const char *path, int64_t min, int64_t max, const char *range,
              int64_t *out)
{
    const char *v = zconfig_get (ld->root, path, NULL);
    int64_t d = 0;
    if (!v)
        return 0;
    if (im_time_duration (v, &d) || d < min || d > max)
        return fail_path (ld, path, EINVAL, "%s '%s' is not a duration from %s", path, v,
                          range);
    *out = d;
    return 0;
}

/* Who may read the feeds: pub/group (a group name or number) and
 * pub/subscribers (a directory). */
static int
load_feed_access (load_t *ld)
{
    im_config_t *cfg = ld->cfg;
    char *v = zconfig_get (ld->root, "pub/group", NULL);
    if (v) {
        if (!im_name_valid (v) || strlen (v) >= sizeof cfg->pub_group)
            return fail_path (ld, "pub/group", EINVAL,
                              "pub/group '%s' is not a group name or number", v);
        snprintf (cfg->pub_group, sizeof cfg->pub_group, "%s", v);
    }
    v = zconfig_get (ld->root, "pub/subscribers", NULL);
    if (v) {
        if (!*v || strlen (v) >= sizeof cfg->pub_subscribers)
            return fail_path (ld, "pub/subscribers", EINVAL,
                              "pub/subscribers: not a directory name");
        snprintf (cfg->pub_subscribers, sizeof cfg->pub_subscribers, "%s", v);
    }
    return 0;
}

/* The settings of the node, pub, warninglists, keys, store and log
 * sections. */
static int
load_settings (load_t *ld)
{
    zconfig_t *root = ld->root;
    im_config_t *cfg = ld->cfg;
    int rc = 0;
    char *v;
    if (rc == 0 && (v = zconfig_get (root, "node/name", NULL))) {
        if (!im_name_valid (v))
            rc = fail_path (ld, "node/name", EINVAL,
                            "node/name '%s' is not 1-64 letters, digits, '.', '_' or '-'",
                            v);
        else
            snprintf (cfg->name, sizeof cfg->name, "%s", v);
    }
    if (rc == 0 && (v = zconfig_get (root, "node/listen", NULL))) {
        if (!im_endpoint_valid (v) || strncmp (v, "tcp://", 6) != 0)
            rc = fail_path (ld, "node/listen", EINVAL,
                            "node/listen '%s' is not a tcp:// endpoint", v);
        else
            snprintf (cfg->listen, sizeof cfg->listen, "%s", v);
    }
    if (rc == 0 && (v = zconfig_get (root, "pub/endpoint", NULL))) {
        if (!im_endpoint_valid (v))
            rc = fail_path (ld, "pub/endpoint", EINVAL,
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
            rc = fail_path (ld, "pub/format", EINVAL,
                            "pub/format '%s' is not intelmesh or misp", v);
    }
    if (rc == 0 && (v = zconfig_get (root, "pub/misp-endpoint", NULL))) {
        if (!im_endpoint_valid (v))
            rc = fail_path (ld, "pub/misp-endpoint", EINVAL,
                            "pub/misp-endpoint '%s' is not a tcp:// or ipc:// endpoint",
                            v);
        else if (strcmp (v, cfg->pub_endpoint) == 0)
            rc = fail_path (ld, "pub/misp-endpoint", EINVAL,
                            "pub/misp-endpoint '%s' is pub/endpoint too: give another, "
                            "or set pub/format = misp",
                            v);
        else
            snprintf (cfg->pub_misp_endpoint, sizeof cfg->pub_misp_endpoint, "%s", v);
    }
    if (rc == 0)
        rc = load_feed_access (ld);
    if (rc == 0 && (v = zconfig_get (root, "warninglists/directory", NULL))) {
        if (!*v || strlen (v) >= sizeof cfg->warninglists)
            rc = fail_path (ld, "warninglists/directory", EINVAL,
                            "warninglists/directory: not a directory name");
        else
            snprintf (cfg->warninglists, sizeof cfg->warninglists, "%s", v);
    }
    if (rc == 0)
        rc = get_duration (ld, "keys/grace", IM_KEY_GRACE_MIN, IM_KEY_GRACE_MAX,
                           "5s to 365d (like 7d)", &cfg->key_grace);
    if (rc == 0)
        rc = get_duration (ld, "node/anti-entropy", IM_ANTI_ENTROPY_MIN,
                           IM_ANTI_ENTROPY_MAX, "1s to 1d (like 10m)",
                           &cfg->anti_entropy);
    if (rc == 0)
        rc = get_duration (ld, "node/fetch-grace", IM_FETCH_GRACE_MIN, IM_FETCH_GRACE_MAX,
                           "1s to 1h (like 3s)", &cfg->fetch_grace);
    if (rc == 0)
        rc = get_duration (ld, "exercise/retention", 1, 365 * 86400,
                           "1s to 365d (like 7d)", &cfg->exercise_retention);
    if (rc == 0 && (v = zconfig_get (root, "sent/retention", NULL))) {
        char *end;
        errno = 0;
        long long days = strtoll (v, &end, 10);
        if (errno || end == v || *end || days < 0 || days > IM_SENT_RETENTION_MAX)
            rc = fail_path (ld, "sent/retention", EINVAL,
                            "sent/retention '%s' is not a number of days from 0 (keep "
                            "for ever) to %d",
                            v, IM_SENT_RETENTION_MAX);
        else
            cfg->sent_retention = (int)days;
    }
    long long hb = cfg->heartbeat, map = (long long)cfg->map_size, sl = cfg->syslog;
    if (rc == 0)
        rc = get_number (ld, "pub/heartbeat", 1, 3600, &hb);
    if (rc == 0)
        rc = get_number_in (ld, "store/map-size", 1 << 20, 1LL << 40, 1, &map);
    if (rc == 0)
        rc = get_number (ld, "log/syslog", 0, 1, &sl);
    long long max = 0;
    if (rc == 0)
        rc = get_number_in (ld, "store/max-size", 1 << 20, 1LL << 50, 1, &max);
    cfg->max_size = (size_t)max;
    cfg->heartbeat = (int)hb;
    cfg->map_size = (size_t)map;
    cfg->syslog = (int)sl;
    if (rc == 0 && (v = zconfig_get (root, "node/bind", NULL))) {
        if (!im_endpoint_valid (v) || strncmp (v, "tcp://", 6) != 0)
            rc = fail_path (ld, "node/bind", EINVAL,
                            "node/bind '%s' is not a tcp:// endpoint", v);
        else
            snprintf (cfg->bind, sizeof cfg->bind, "%s", v);
    }
    if (rc == 0 && !*cfg->bind && *cfg->listen) {
        /* By default the peer socket binds where the card says, if that is an
         * address; a host name binds every interface on its port. */
        const char *host = cfg->listen + 6, *colon = strrchr (host, ':');
        char name[IM_ENDPOINT_MAX];
        snprintf (name, sizeof name, "%.*s", (int)(colon - host), host);
        unsigned char addr[16];
        int literal = strcmp (name, "*") == 0 || inet_pton (AF_INET, name, addr) == 1
                      || (name[0] == '[' && strchr (name, ']'));
        snprintf (cfg->bind, sizeof cfg->bind, literal ? "%s" : "tcp://*%s",
                  literal ? cfg->listen : colon);
    }
    return rc;
}

/* The TAXII server and its clients, after the policies they name. */
static int
load_taxii (load_t *ld)
{
    const char *key;
    char why[400];
    int i = 0;
    if (im_config_taxii_server (ld->root, ld->cfg, &key, why, sizeof why))
        return fail_at (ld, ordinal_of (ld->root, "taxii"), key, errno, "%s", why);
    for (zconfig_t *item = zconfig_child (ld->root); item;
         item = zconfig_next (item), i++)
        if (streq (zconfig_name (item), "taxii-client")
            && im_config_taxii_client_load (item, ld->cfg, &key, why, sizeof why))
            return fail_at (ld, i, key, errno, "%s", why);
    return 0;
}

/* The peer and policy sections. */
static int
load_sections (load_t *ld)
{
    zconfig_t *root = ld->root;
    im_config_t *cfg = ld->cfg;
    int rc = 0;
    /* Peers first, so that policies and inbound rules can name them. */
    int i = 0;
    for (zconfig_t *item = zconfig_child (root); rc == 0 && item;
         item = zconfig_next (item), i++)
        if (streq (zconfig_name (item), "peer"))
            rc = load_peer (ld, item, i);
    i = 0;
    for (zconfig_t *item = zconfig_child (root); rc == 0 && item;
         item = zconfig_next (item), i++)
        if (streq (zconfig_name (item), "policy"))
            rc = load_policy (ld, item, i);
    if (rc == 0 && !im_config_policy (cfg, IM_POLICY_DEFAULT))
        im_policy_default (&cfg->policies[cfg->npolicies++], IM_POLICY_DEFAULT);
    i = 0;
    size_t peer = 0;
    for (zconfig_t *item = zconfig_child (root); rc == 0 && item;
         item = zconfig_next (item), i++)
        if (streq (zconfig_name (item), "peer"))
            rc = load_inbound (ld, item, i, &cfg->peers[peer++]);
    return rc ? rc : load_taxii (ld);
}

int
im_config_load_text (const char *text, im_config_t *cfg, char *err, size_t errsz)
{
    if (!text || !cfg)
        return im_fail (EINVAL, err, errsz, "config: missing argument");
    config_defaults (cfg);
    if (im_zpl_check (text, IM_CONFIG_FILE, err, errsz))
        return -1;
    zconfig_t *root = zconfig_str_load (text);
    if (!root)
        return im_fail (EINVAL, err, errsz, "%s: not a valid ZPL file", IM_CONFIG_FILE);
    load_t ld = { text, root, cfg, err, errsz };
    int rc = check_known (&ld, zconfig_child (root), "", 0);
    if (rc == 0)
        rc = load_settings (&ld);
    if (rc == 0)
        rc = load_sections (&ld);
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
    if (im_dir_usable (dir, IM_CONFIG_FILE, R_OK, err, errsz) != 0) {
        if (errno == ENOENT && access (dir, F_OK) == 0)
            return im_fail (ENOENT, err, errsz,
                            "%s: %s (run 'intelmesh init -d %s' first)", path,
                            strerror (ENOENT), dir);
        return -1;
    }
    char *text = im_dir_read (dir, IM_CONFIG_FILE, err, errsz);
    if (!text)
        return -1;
    int rc = im_config_load_text (text, cfg, err, errsz);
    free (text);
    /* The feed is private by default: a socket in the data directory. */
    if (rc == 0 && !*cfg->pub_endpoint
        && snprintf (cfg->pub_endpoint, sizeof cfg->pub_endpoint, "ipc://%s/%s", dir,
                     IM_FEED_FILE)
               >= (int)sizeof cfg->pub_endpoint)
        return im_fail (ENAMETOOLONG, err, errsz, "%s: path too long for the feed socket",
                        dir);
    return rc;
}
