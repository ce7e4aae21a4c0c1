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
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <czmq.h>
#include <sodium.h>

#include "im_config.h"
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
    cfg->map_size = (size_t) 1 << 30;
}

/* The settings a config file may hold, as zconfig paths. */
static const char *known_settings[] = {
    "node", "node/name", "node/listen", "node/bind", "pub", "pub/endpoint", "pub/heartbeat",
    "store", "store/map-size", "log", "log/syslog", "peer", "peer/name", "peer/card",
    "peer/endpoint", "peer/policy", NULL
};

static int
check_known (zconfig_t *item, const char *prefix, char *err, size_t errsz)
{
    for (; item; item = zconfig_next (item)) {
        char path[256];
        snprintf (path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "",
                  zconfig_name (item) ? zconfig_name (item) : "");
        int found = 0;
        for (int i = 0; known_settings[i] && !found; i++)
            found = strcmp (path, known_settings[i]) == 0;
        if (!found)
            return im_fail (EINVAL, err, errsz, "%s: unknown setting '%s'", IM_CONFIG_FILE,
                         path);
        if (check_known (zconfig_child (item), path, err, errsz))
            return -1;
    }
    return 0;
}

static int
get_number (zconfig_t *root, const char *path, long long min, long long max,
            long long *out, char *err, size_t errsz)
{
    char *text = zconfig_get (root, path, NULL);
    if (!text)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll (text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return im_fail (EINVAL, err, errsz, "%s: %s = '%s' is not a number from %lld to %lld",
                     IM_CONFIG_FILE, path, text, min, max);
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

/* One 'peer' section of the configuration, checked against the others. */
static int
load_peer (im_config_t *cfg, zconfig_t *item, char *err, size_t errsz)
{
    const char *name = zconfig_get (item, "name", NULL);
    const char *card = zconfig_get (item, "card", NULL);
    const char *endpoint = zconfig_get (item, "endpoint", NULL);
    const char *policy = zconfig_get (item, "policy", "default");
    char why[256];
    if (cfg->npeers >= IM_PEERS_MAX)
        return im_fail (ENOSPC, err, errsz, "%s: more than %d peers", IM_CONFIG_FILE,
                        IM_PEERS_MAX);
    if (!name || !im_name_valid (name))
        return im_fail (EINVAL, err, errsz, "%s: peer %zu: name missing or not 1-64 "
                        "letters, digits, '.', '_' or '-'", IM_CONFIG_FILE, cfg->npeers + 1);
    im_peer_conf_t *p = &cfg->peers[cfg->npeers];
    if (im_card_parse (card, &p->card, why, sizeof why))
        return im_fail (EINVAL, err, errsz, "%s: peer %s: %s", IM_CONFIG_FILE, name, why);
    snprintf (p->card.name, sizeof p->card.name, "%s", name);
    if (endpoint && *endpoint && (!im_endpoint_valid (endpoint)
                                  || strncmp (endpoint, "tcp://", 6) != 0))
        return im_fail (EINVAL, err, errsz, "%s: peer %s: endpoint '%s' is not tcp://",
                        IM_CONFIG_FILE, name, endpoint);
    snprintf (p->endpoint, sizeof p->endpoint, "%s",
              endpoint ? endpoint : p->card.endpoint);
    if (strcmp (policy, "default") != 0)
        return im_fail (EINVAL, err, errsz,
                        "%s: peer %s: policy '%s': only 'default' exists in this version "
                        "(sharing policies are not built yet)", IM_CONFIG_FILE, name, policy);
    for (size_t i = 0; i < cfg->npeers; i++) {
        const im_peer_conf_t *q = &cfg->peers[i];
        if (strcmp (q->card.name, name) == 0)
            return im_fail (EEXIST, err, errsz, "%s: peer %s is listed twice",
                            IM_CONFIG_FILE, name);
        if (memcmp (q->card.node, p->card.node, 32) == 0)
            return im_fail (EEXIST, err, errsz, "%s: peers %s and %s have the same node id",
                            IM_CONFIG_FILE, q->card.name, name);
        if (memcmp (q->card.curve, p->card.curve, 32) == 0)
            return im_fail (EEXIST, err, errsz, "%s: peers %s and %s have the same CURVE key",
                            IM_CONFIG_FILE, q->card.name, name);
    }
    cfg->npeers++;
    return 0;
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
    snprintf (tmp, sizeof tmp, "%s.new", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return im_fail (errno, err, errsz, "%s: %s", tmp, strerror (errno));
    size_t len = strlen (text);
    int ok = write (fd, text, len) == (ssize_t) len && fsync (fd) == 0;
    int saved = errno;
    close (fd);
    if (!ok || rename (tmp, path) != 0) {
        saved = ok ? errno : saved;
        unlink (tmp);
        return im_fail (saved, err, errsz, "%s: %s", path, strerror (saved));
    }
    return 0;
}

int
im_config_peer_add (const char *dir, const im_peer_conf_t *peer, char *err, size_t errsz)
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

int
im_config_peer_remove (const char *dir, const char *name, char *err, size_t errsz)
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
    zconfig_t *root = zconfig_load (path);
    if (!root)
        return im_fail (EINVAL, err, errsz, "%s: not a valid ZPL file", path);
    int rc = check_known (zconfig_child (root), "", err, errsz);
    char *v;
    if (rc == 0 && (v = zconfig_get (root, "node/name", NULL))) {
        if (!im_name_valid (v))
            rc = im_fail (EINVAL, err, errsz,
                       "%s: node/name '%s' is not 1-64 letters, digits, '.', '_' or '-'",
                       IM_CONFIG_FILE, v);
        else
            snprintf (cfg->name, sizeof cfg->name, "%s", v);
    }
    if (rc == 0 && (v = zconfig_get (root, "node/listen", NULL))) {
        if (!im_endpoint_valid (v))
            rc = im_fail (EINVAL, err, errsz, "%s: node/listen '%s' is not a tcp:// endpoint",
                       IM_CONFIG_FILE, v);
        else
            snprintf (cfg->listen, sizeof cfg->listen, "%s", v);
    }
    if (rc == 0 && (v = zconfig_get (root, "pub/endpoint", NULL))) {
        if (!im_endpoint_valid (v))
            rc = im_fail (EINVAL, err, errsz,
                       "%s: pub/endpoint '%s' is not a tcp:// or ipc:// endpoint",
                       IM_CONFIG_FILE, v);
        else
            snprintf (cfg->pub_endpoint, sizeof cfg->pub_endpoint, "%s", v);
    }
    long long hb = cfg->heartbeat, map = (long long) cfg->map_size, sl = cfg->syslog;
    if (rc == 0)
        rc = get_number (root, "pub/heartbeat", 1, 3600, &hb, err, errsz);
    if (rc == 0)
        rc = get_number (root, "store/map-size", 1 << 20, 1LL << 40, &map, err, errsz);
    if (rc == 0)
        rc = get_number (root, "log/syslog", 0, 1, &sl, err, errsz);
    cfg->heartbeat = (int) hb;
    cfg->map_size = (size_t) map;
    cfg->syslog = (int) sl;
    if (rc == 0 && (v = zconfig_get (root, "node/bind", NULL))) {
        if (!im_endpoint_valid (v) || strncmp (v, "tcp://", 6) != 0)
            rc = im_fail (EINVAL, err, errsz, "%s: node/bind '%s' is not a tcp:// endpoint",
                          IM_CONFIG_FILE, v);
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
    for (zconfig_t *item = zconfig_child (root); rc == 0 && item;
         item = zconfig_next (item))
        if (streq (zconfig_name (item), "peer"))
            rc = load_peer (cfg, item, err, errsz);
    zconfig_destroy (&root);
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
