/* SPDX-License-Identifier: MPL-2.0 */
/* im_config_edit.c -- changes to DIR/intelmesh.conf made as text, so that
 * its comments and layout stay: peer sections added and removed, settings of
 * a section set, policies removed, a first file written. Every change is a
 * read-modify-write under the configuration's lock, and is checked to load
 * before it replaces the file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "im_config.h"
#include "im_util.h"

/* Every read-modify-write of the configuration (the CLI's and the node's,
 * which writes down a peer's rotated key) holds this lock, so that no change
 * is lost to another made at the same moment. Returns a descriptor, or -1. */
static int
config_lock (const char *dir, char *err, size_t errsz)
{
    if (!dir)
        return im_fail (EINVAL, err, errsz, "config: missing directory");
    return im_dir_lock (dir, IM_CONFIG_FILE ".lock", err, errsz);
}

static int
im_config_peer_add_locked (const char *dir, const im_peer_conf_t *peer, char *err,
                           size_t errsz)
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
        rc = im_fail (ENOSPC, err, errsz, "the trust list is full (%d peers)",
                      IM_PEERS_MAX);
    free (cfg);
    if (rc)
        return rc;
    char *text = im_dir_read (dir, IM_CONFIG_FILE, err, errsz);
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
                  *peer->card.endpoint ? peer->card.endpoint : "-", peer->endpoint)
        < 0)
        out = NULL;
    free (text);
    if (!out)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    rc = im_dir_replace (dir, IM_CONFIG_FILE, out, err, errsz);
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
    char *text = im_dir_read (dir, IM_CONFIG_FILE, err, errsz);
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
        if (strncmp (p, "peer", 4) == 0
            && (p[4] == '\n' || p[4] == ' ' || p[4] == '\r' || p[4] == '#'
                || p[4] == 0)) {
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
        memcpy (out + o, p, (size_t)(next - p));
        o += (size_t)(next - p);
        p = next;
    }
    free (text);
    if (!out)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    out[o] = 0;
    int rc = removed ? im_dir_replace (dir, IM_CONFIG_FILE, out, err, errsz)
                     : im_fail (ENOENT, err, errsz, "no peer named %s on the list", name);
    free (out);
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
im_config_section_set_locked (const char *dir, const char *kind, const char *name,
                              int create, const char **keys, const char **values,
                              size_t n, char *err, size_t errsz)
{
    if (!dir || !kind || !name || (n && (!keys || !values)))
        return im_fail (EINVAL, err, errsz, "config: missing argument");
    for (size_t i = 0; i < n; i++)
        if (values[i] && strpbrk (values[i], "\"\n\r"))
            return im_fail (EINVAL, err, errsz,
                            "%s: a value may not hold a quote or a "
                            "line break",
                            keys[i]);
    char *text = im_dir_read (dir, IM_CONFIG_FILE, err, errsz);
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
                fwrite (p, 1, (size_t)(next - p), mem);
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
        size_t before = found ? (size_t)(start - text) : strlen (text);
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
        rc = im_dir_replace (dir, IM_CONFIG_FILE, out, err, errsz);
    free (cfg);
    free (out);
    return rc;
}

/* Removes the section KIND named NAME. */
static int
section_remove_locked (const char *dir, const char *kind, const char *name, char *err,
                       size_t errsz)
{
    char *text = im_dir_read (dir, IM_CONFIG_FILE, err, errsz);
    if (!text)
        return -1;
    const char *start, *end;
    if (!find_section (text, kind, name, &start, &end)) {
        free (text);
        return im_fail (ENOENT, err, errsz, "no %s named %s in %s", kind, name,
                        IM_CONFIG_FILE);
    }
    /* Comments after its last setting introduce what follows: they stay. */
    end = section_last (start, end);
    memmove ((char *)start, end, strlen (end) + 1);
    int rc = im_dir_replace (dir, IM_CONFIG_FILE, text, err, errsz);
    free (text);
    return rc;
}

static int
im_config_policy_remove_locked (const char *dir, const char *name, char *err,
                                size_t errsz)
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
    return section_remove_locked (dir, "policy", name, err, errsz);
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
    /* The MISP feed's socket beside the main feed's, when that is an ipc://
     * path (DIR may be a directory that is renamed into place later). */
    char feeds[4096];
    const char *slash = strrchr (pub, '/');
    if (strncmp (pub, "ipc://", 6) == 0 && slash && slash > pub + 6)
        snprintf (feeds, sizeof feeds, "%.*s", (int)(slash - pub), pub);
    else
        snprintf (feeds, sizeof feeds, "ipc://%s", dir);
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
             "    #   Local feed of every accepted change, topic-prefixed JSON. An\n"
             "    #   ipc:// socket is made mode 0660 for the node's user and group;\n"
             "    #   a tcp:// feed is open to every local user unless 'subscribers'\n"
             "    #   names a directory of czmq public certificates (CURVE).\n"
             "    endpoint = \"%s\"\n"
             "    #   The group that may read ipc:// feeds (default: the node user's\n"
             "    #   primary group); its members need x on this directory too.\n"
             "    #group = \"intelmesh\"\n"
             "    #   A second feed in MISP's ZeroMQ format.\n"
             "    #misp-endpoint = \"%s/%s\"\n"
             "    #   Seconds between node.heartbeat messages.\n"
             "    heartbeat = 5\n"
             "\n"
             "store\n"
             "    #   Initial LMDB map size (bytes, or K, M, G, T); it grows when full.\n"
             "    map-size = 1073741824\n"
             "    #   Uncomment to cap the store (K, M, G, T: powers of 1024); at\n"
             "    #   the cap writes fail as disk full, nothing stored is lost.\n"
             "    #max-size = 10G\n"
             "\n"
             "log\n"
             "    #   1: log to syslog (the journal) rather than standard error.\n"
             "    syslog = 0\n",
             name, listen, pub, feeds, IM_MISP_FEED_FILE);
    if (fclose (f) != 0)
        return im_fail (errno, err, errsz, "%s: %s", path, strerror (errno));
    return 0;
}

/* One change to the file, made under the lock. */
typedef enum {
    EDIT_PEER_ADD,
    EDIT_PEER_REMOVE,
    EDIT_POLICY_REMOVE,
    EDIT_SECTION_SET,
    EDIT_SECTION_REMOVE
} edit_op_t;

typedef struct {
    edit_op_t op;
    const im_peer_conf_t *peer;
    const char *kind, *name;
    int create;
    const char **keys, **values;
    size_t n;
} edit_t;

static int
edit_locked (const char *dir, const edit_t *e, char *err, size_t errsz)
{
    int lock = config_lock (dir, err, errsz);
    if (lock < 0)
        return -1;
    int rc = -1;
    switch (e->op) {
    case EDIT_PEER_ADD: rc = im_config_peer_add_locked (dir, e->peer, err, errsz); break;
    case EDIT_PEER_REMOVE:
        rc = im_config_peer_remove_locked (dir, e->name, err, errsz);
        break;
    case EDIT_POLICY_REMOVE:
        rc = im_config_policy_remove_locked (dir, e->name, err, errsz);
        break;
    case EDIT_SECTION_SET:
        rc = im_config_section_set_locked (dir, e->kind, e->name, e->create, e->keys,
                                           e->values, e->n, err, errsz);
        break;
    case EDIT_SECTION_REMOVE:
        rc = section_remove_locked (dir, e->kind, e->name, err, errsz);
        break;
    }
    im_dir_unlock (lock);
    return rc;
}

int
im_config_peer_add (const char *dir, const im_peer_conf_t *peer, char *err, size_t errsz)
{
    edit_t e = { .op = EDIT_PEER_ADD, .peer = peer };
    return edit_locked (dir, &e, err, errsz);
}

int
im_config_peer_remove (const char *dir, const char *name, char *err, size_t errsz)
{
    edit_t e = { .op = EDIT_PEER_REMOVE, .name = name };
    return edit_locked (dir, &e, err, errsz);
}

int
im_config_policy_remove (const char *dir, const char *name, char *err, size_t errsz)
{
    edit_t e = { .op = EDIT_POLICY_REMOVE, .name = name };
    return edit_locked (dir, &e, err, errsz);
}

int
im_config_section_set (const char *dir, const char *kind, const char *name, int create,
                       const char **keys, const char **values, size_t n, char *err,
                       size_t errsz)
{
    edit_t e = { .op = EDIT_SECTION_SET,
                 .kind = kind,
                 .name = name,
                 .create = create,
                 .keys = keys,
                 .values = values,
                 .n = n };
    return edit_locked (dir, &e, err, errsz);
}

int
im_config_section_remove (const char *dir, const char *kind, const char *name, char *err,
                          size_t errsz)
{
    edit_t e = { .op = EDIT_SECTION_REMOVE, .kind = kind, .name = name };
    return edit_locked (dir, &e, err, errsz);
}
