/* SPDX-License-Identifier: MPL-2.0 */
/* test_config.c -- unit tests for lib/im_config.c, lib/im_config_edit.c, lib/im_dir.c and
 * lib/im_identity.c: the data directory, names and endpoints, the config file, the pid
 * lock and the node's keys. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>
#include <sodium.h>
#include <zmq.h>

#include "im_config.h"
#include "im_identity.h"
#include "im_zpl_check.h"
#include "tap.h"
#include "testlib.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))
#define NAME_65 "a123456789b123456789c123456789d123456789e123456789f123456789g1234"

/* --- Helpers ------------------------------------------------------------ */

/* Replaces the contents of PATH with TEXT (creating it with MODE). */
static void
write_file (const char *path, const char *text, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    size_t len = strlen (text);
    if (fd < 0 || write (fd, text, len) != (ssize_t)len || close (fd) != 0)
        BAIL_OUT ("cannot write %s: %s", path, strerror (errno));
}

/* Reads PATH into BUF (NUL terminated). Returns its length, or -1. */
static long
read_file (const char *path, char *buf, size_t bufsz)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    size_t n = fread (buf, 1, bufsz - 1, f);
    buf[n] = '\0';
    fclose (f);
    return (long)n;
}

/* Runs FN (DIR) in a child process and returns its exit status, or -1. */
static int
in_child (int (*fn) (const char *dir), const char *dir)
{
    fflush (stdout);
    pid_t pid = fork ();
    if (pid < 0)
        BAIL_OUT ("fork: %s", strerror (errno));
    if (pid == 0)
        _exit (fn (dir));
    int status = 0;
    if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status))
        return -1;
    return WEXITSTATUS (status);
}

/* --- The data directory ------------------------------------------------- */

typedef struct {
    const char *opt;  /* -d */
    const char *env;  /* $INTELMESH_DIR, NULL: unset */
    const char *want; /* NULL: this user's default */
} resolve_t;

static void
set_env (const char *name, const char *value)
{
    if (value)
        setenv (name, value, 1);
    else
        unsetenv (name);
}

static void
test_dir_resolve (void)
{
    static const resolve_t cases[] = {
        { "/srv/im", "/env/im", "/srv/im" },
        { "/srv/im", NULL, "/srv/im" },
        { NULL, "/env/im", "/env/im" },
        { "", "/env/im", "/env/im" },
        { NULL, NULL, NULL },
        { NULL, "", NULL },
        { "", "", NULL },
        { "/srv/im/", NULL, "/srv/im" },
        { "/srv/im///", "/env/im", "/srv/im" },
        { NULL, "/env/im//", "/env/im" },
        { "relative/dir/", NULL, "relative/dir" },
        { "/", NULL, "/" },
        { "///", NULL, "/" },
        { "/srv/./im", NULL, "/srv/./im" },
    };
    char *saved_env = getenv ("INTELMESH_DIR") ? strdup (getenv ("INTELMESH_DIR")) : NULL;
    char *saved_home = getenv ("HOME") ? strdup (getenv ("HOME")) : NULL;
    char out[256], def[256];
    int rc;

    setenv ("HOME", "/home/tester", 1);
    if (geteuid () == 0)
        snprintf (def, sizeof def, "/var/lib/intelmesh");
    else
        snprintf (def, sizeof def, "/home/tester/.local/share/intelmesh");

    for (size_t i = 0; i < COUNT (cases); i++) {
        const resolve_t *c = &cases[i];
        const char *want = c->want ? c->want : def;
        set_env ("INTELMESH_DIR", c->env);
        strcpy (out, "untouched");
        rc = im_dir_resolve (c->opt, out, sizeof out);
        char o[64], e[64];
        snprintf (o, sizeof o, c->opt ? "'%s'" : "%s", c->opt ? c->opt : "none");
        snprintf (e, sizeof e, c->env ? "'%s'" : "%s", c->env ? c->env : "unset");
        ok (rc == 0, "resolve succeeds with -d %s and INTELMESH_DIR %s", o, e);
        is (out, want, "with -d %s and INTELMESH_DIR %s the directory is %s", o, e, want);
    }

    /* This user's default. */
    unsetenv ("INTELMESH_DIR");
    if (geteuid () == 0) {
        setenv ("HOME", "/home/elsewhere", 1);
        rc = im_dir_resolve (NULL, out, sizeof out);
        ok (rc == 0 && strcmp (out, "/var/lib/intelmesh") == 0,
            "root's default is /var/lib/intelmesh whatever HOME says");
        unsetenv ("HOME");
        rc = im_dir_resolve (NULL, out, sizeof out);
        ok (rc == 0 && strcmp (out, "/var/lib/intelmesh") == 0,
            "root's default needs no HOME");
    }
    else {
        setenv ("HOME", "/home/elsewhere", 1);
        rc = im_dir_resolve (NULL, out, sizeof out);
        ok (rc == 0 && strcmp (out, "/home/elsewhere/.local/share/intelmesh") == 0,
            "a user's default is under HOME");
        unsetenv ("HOME");
        errno = 0;
        rc = im_dir_resolve (NULL, out, sizeof out);
        ok (rc == -1 && errno == ENOENT, "a user without HOME has no default: ENOENT");
        rc = im_dir_resolve ("/srv/im", out, sizeof out);
        ok (rc == 0 && strcmp (out, "/srv/im") == 0,
            "a user without HOME can still give -d");
    }

    /* Lengths: a path that just fits, and ones that do not. */
    char longp[600];
    memset (longp, 'p', sizeof longp);
    longp[0] = '/';
    longp[255] = '\0';
    rc = im_dir_resolve (longp, out, sizeof out);
    ok (rc == 0 && strcmp (out, longp) == 0, "a 255-byte -d fits 256 bytes");
    longp[255] = 'p';
    longp[256] = '\0';
    errno = 0;
    rc = im_dir_resolve (longp, out, sizeof out);
    ok (rc == -1 && errno == ENAMETOOLONG,
        "a 256-byte -d into 256 bytes is ENAMETOOLONG");
    longp[256] = 'p';
    longp[599] = '\0';
    errno = 0;
    rc = im_dir_resolve (longp, out, sizeof out);
    ok (rc == -1 && errno == ENAMETOOLONG, "a 599-byte -d is ENAMETOOLONG");
    setenv ("INTELMESH_DIR", longp, 1);
    errno = 0;
    rc = im_dir_resolve (NULL, out, sizeof out);
    ok (rc == -1 && errno == ENAMETOOLONG, "a 599-byte INTELMESH_DIR is ENAMETOOLONG");
    unsetenv ("INTELMESH_DIR");
    setenv ("HOME", "/home/tester", 1);
    errno = 0;
    rc = im_dir_resolve (NULL, out, 8);
    ok (rc == -1 && errno == ENAMETOOLONG, "the default into 8 bytes is ENAMETOOLONG");

    /* DIR/FILE. */
    rc = im_dir_path ("/srv/im", IM_CONFIG_FILE, out, sizeof out);
    ok (rc == 0 && strcmp (out, "/srv/im/intelmesh.conf") == 0,
        "dir_path joins DIR and FILE");
    errno = 0;
    rc = im_dir_path ("/srv/im", IM_CONFIG_FILE, out, 22);
    ok (rc == -1 && errno == ENAMETOOLONG, "dir_path one byte short is ENAMETOOLONG");
    rc = im_dir_path ("/srv/im", IM_CONFIG_FILE, out, 23);
    ok (rc == 0 && strcmp (out, "/srv/im/intelmesh.conf") == 0, "dir_path fits exactly");

    set_env ("INTELMESH_DIR", saved_env);
    set_env ("HOME", saved_home);
    free (saved_env);
    free (saved_home);
}

/* --- Names and endpoints ------------------------------------------------ */

static void
test_names (void)
{
    static const char *good[] = {
        "a", "Z", "7", "cert-ee", "CERT.EE", "node_1", "a.b-c_d", "-", "..", &NAME_65[1],
    };
    static const char *bad[] = {
        "",         NAME_65,    "cert ee", " cert",       "cert ",
        "cert/ee",  "cert:ee",  "cert@ee", "c\xc3\xa9rt", "cert\tee",
        "cert\nee", "cert\"ee", "cert'ee", "a+b",         "a,b",
    };
    for (size_t i = 0; i < COUNT (good); i++)
        ok (im_name_valid (good[i]) == 1, "'%s' is a valid node name", good[i]);
    cmp_ok (strlen (good[COUNT (good) - 1]), "==", IM_NAME_MAX,
            "the longest good name has IM_NAME_MAX characters");
    char shown[160];
    for (size_t i = 0; i < COUNT (bad); i++)
        ok (im_name_valid (bad[i]) == 0, "'%s' is refused as a node name",
            printable (bad[i], shown, sizeof shown));
    ok (im_name_valid (NULL) == 0, "a NULL node name is refused");
}

static void
test_endpoints (void)
{
    static const char *good[] = {
        "tcp://127.0.0.1:7651",
        "tcp://*:7650",
        "tcp://0.0.0.0:1",
        "tcp://[::1]:7650",
        "tcp://node.example.org:65535",
        "tcp://eth0:7650",
        "ipc:///tmp/intelmesh.sock",
        "ipc://@intelmesh",
        "ipc://x",
    };
    static const char *bad[] = {
        "",
        "tcp://",
        "tcp://host",
        "tcp://host:",
        "tcp://:7650",
        "tcp://:*",
        "tcp://host:0",
        "tcp://host:65536",
        "tcp://host:99999999999999999999",
        "tcp://host:-1",
        "tcp://host:80x",
        "tcp://host:0x50",
        "tcp://ho st:80",
        "tcp://host\t:80",
        "tcp://ho st:*",
        "ipc://",
        "udp://host:80",
        "pgm://eth0;239.1.1.1:5555",
        "inproc://x",
        "http://host:80",
        "tcp:/host:80",
        "host:80",
        "tcp//host:80",
        /* A wildcard port binds, but neither `intelmesh tail` nor a partner can
         * dial it. */
        "tcp://127.0.0.1:*",
    };
    char big[IM_ENDPOINT_MAX + 8];
    for (size_t i = 0; i < COUNT (good); i++)
        ok (im_endpoint_valid (good[i]) == 1, "'%s' is a valid endpoint", good[i]);
    char shown[160];
    for (size_t i = 0; i < COUNT (bad); i++)
        ok (im_endpoint_valid (bad[i]) == 0, "'%s' is refused as an endpoint",
            printable (bad[i], shown, sizeof shown));
    ok (im_endpoint_valid (NULL) == 0, "a NULL endpoint is refused");

    memcpy (big, "ipc://", 6);
    memset (big + 6, 's', IM_ENDPOINT_MAX - 7);
    big[IM_ENDPOINT_MAX - 1] = '\0';
    ok (im_endpoint_valid (big) == 1, "an endpoint of %d bytes is valid",
        IM_ENDPOINT_MAX - 1);
    big[IM_ENDPOINT_MAX - 1] = 's';
    big[IM_ENDPOINT_MAX] = '\0';
    ok (im_endpoint_valid (big) == 0, "an endpoint of %d bytes is refused",
        IM_ENDPOINT_MAX);
}

/* --- The configuration file --------------------------------------------- */

typedef struct {
    const char *what; /* for the test names */
    const char *text; /* the file */
    const char *why;  /* what the error must name */
} bad_conf_t;

static const bad_conf_t bad_confs[] = {
    { "an unknown top-level setting", "bogus = 1\n", "unknown setting 'bogus'" },
    { "an unknown node setting", "node\n    colour = red\n",
      "unknown setting 'node/colour'" },
    { "a misspelt node setting after a good one", "node\n    name = ok\n    names = x\n",
      "unknown setting 'node/names'" },
    { "a setting nested under a value",
      "pub\n    endpoint = \"tcp://127.0.0.1:7651\"\n        deep = 1\n",
      "unknown setting 'pub/endpoint/deep'" },
    { "map-size spelt mapsize", "store\n    mapsize = 1048576\n",
      "unknown setting 'store/mapsize'" },
    { "a name with a space", "node\n    name = \"bad name\"\n", "node/name" },
    { "a name of 65 characters", "node\n    name = \"" NAME_65 "\"\n", "node/name" },
    { "a name with a slash", "node\n    name = \"a/b\"\n", "node/name" },
    { "a listen endpoint without a port", "node\n    listen = \"tcp://host\"\n",
      "node/listen" },
    { "a udp:// listen endpoint", "node\n    listen = \"udp://192.0.2.1:7650\"\n",
      "node/listen" },
    { "an ipc:// listen endpoint", "node\n    listen = \"ipc://x\"\n",
      "intelmesh.conf:2: node/listen 'ipc://x' is not a tcp:// endpoint" },
    { "a udp:// PUB endpoint", "pub\n    endpoint = \"udp://127.0.0.1:7651\"\n",
      "pub/endpoint" },
    { "a PUB endpoint on port 0", "pub\n    endpoint = \"tcp://127.0.0.1:0\"\n",
      "pub/endpoint" },
    { "a feed group with a space", "pub\n    group = \"a b\"\n", "pub/group" },
    { "a feed group with a slash", "pub\n    group = \"a/b\"\n", "pub/group" },
    { "an empty subscribers directory name", "pub\n    subscribers = \"\"\n",
      "pub/subscribers" },
    { "a heartbeat of 0", "pub\n    heartbeat = 0\n", "pub/heartbeat" },
    { "a heartbeat of 99999", "pub\n    heartbeat = 99999\n", "pub/heartbeat" },
    { "a heartbeat of 3601", "pub\n    heartbeat = 3601\n", "pub/heartbeat" },
    { "a heartbeat of abc", "pub\n    heartbeat = abc\n", "pub/heartbeat" },
    { "a heartbeat of 5s", "pub\n    heartbeat = 5s\n", "pub/heartbeat" },
    { "a heartbeat of -5", "pub\n    heartbeat = -5\n", "pub/heartbeat" },
    { "an empty heartbeat", "pub\n    heartbeat = \"\"\n", "pub/heartbeat" },
    { "a map size one byte under 1 MiB", "store\n    map-size = 1048575\n",
      "store/map-size" },
    { "a map size one byte over 1 TiB", "store\n    map-size = 1099511627777\n",
      "store/map-size" },
    { "a map size of 1000", "store\n    map-size = 1000\n",
      "store/map-size = '1000' is not a size from 1M to 1T" },
    { "a map size of 1023K", "store\n    map-size = 1023K\n", "store/map-size" },
    { "a map size of 2T", "store\n    map-size = 2T\n", "store/map-size" },
    { "a map size of 1025G", "store\n    map-size = 1025G\n", "store/map-size" },
    { "a map size of 1.5G", "store\n    map-size = 1.5G\n", "store/map-size" },
    { "a map size of 10g", "store\n    map-size = 10g\n", "store/map-size" },
    { "a map size of 1GB", "store\n    map-size = 1GB\n", "store/map-size" },
    { "a map size of -1G", "store\n    map-size = -1G\n", "store/map-size" },
    { "a map size of G", "store\n    map-size = G\n", "store/map-size" },
    { "a size limit of 1000", "store\n    max-size = 1000\n",
      "store/max-size = '1000' is not a size from 1M to 1024T" },
    { "a size limit of 1023K", "store\n    max-size = 1023K\n", "store/max-size" },
    { "a size limit of 1025T", "store\n    max-size = 1025T\n", "store/max-size" },
    { "a size limit of 10g", "store\n    max-size = 10g\n", "store/max-size" },
    { "a size limit of 1.5G", "store\n    max-size = 1.5G\n", "store/max-size" },
    { "a size limit of 10GB", "store\n    max-size = 10GB\n", "store/max-size" },
    { "a size limit of -1G", "store\n    max-size = -1G\n", "store/max-size" },
    { "a size limit of 0", "store\n    max-size = 0\n", "store/max-size" },
    { "a size limit spelt maxsize", "store\n    maxsize = 1G\n",
      "unknown setting 'store/maxsize'" },
    { "syslog 2", "log\n    syslog = 2\n", "log/syslog" },
    { "syslog yes", "log\n    syslog = yes\n", "log/syslog" },
    { "a sent retention of -1", "sent\n    retention = -1\n",
      "sent/retention '-1' is not a number of days from 0 (keep for ever) to 36500" },
    { "a sent retention of 36501", "sent\n    retention = 36501\n", "sent/retention" },
    { "a sent retention of 90d", "sent\n    retention = 90d\n", "sent/retention" },
    { "a fetch grace of 0s", "node\n    fetch-grace = 0s\n", "node/fetch-grace" },
    { "a fetch grace of 2h", "node\n    fetch-grace = 2h\n", "node/fetch-grace" },
    { "a fetch grace of 3 (no unit)", "node\n    fetch-grace = 3\n", "node/fetch-grace" },
    { "a fetch grace spelt fetchgrace", "node\n    fetchgrace = 3s\n",
      "unknown setting 'node/fetchgrace'" },
};

static void
test_config_file (void)
{
    char dir[64], path[128], err[512];
    im_config_t cfg;
    int rc;

    make_dir (dir, sizeof dir, "config");

    errno = 0;
    ok (im_config_load (NULL, &cfg, err, sizeof err) == -1 && errno == EINVAL,
        "load refuses a NULL directory with EINVAL");
    errno = 0;
    ok (im_config_load (dir, NULL, err, sizeof err) == -1 && errno == EINVAL,
        "load refuses a NULL config with EINVAL");
    errno = 0;
    err[0] = '\0';
    rc = im_config_load (dir, &cfg, err, sizeof err);
    ok (rc == -1 && errno == ENOENT, "loading a missing file is refused with ENOENT");
    ok (strstr (err, "intelmesh init") != NULL,
        "the error for a missing file hints at 'intelmesh init'");
    ok (strstr (err, IM_CONFIG_FILE) != NULL, "the error for a missing file names it");

    char missing[128];
    errno = 0;
    rc = im_config_write_default (sub_path (missing, sizeof missing, dir, "no/such"), "n",
                                  "tcp://192.0.2.10:7650", "tcp://127.0.0.1:7651", err,
                                  sizeof err);
    ok (rc == -1 && errno == ENOENT,
        "writing into a missing directory is refused with ENOENT");

    rc = im_config_write_default (dir, "cert-ee", "tcp://192.0.2.10:7650",
                                  "tcp://127.0.0.1:7651", err, sizeof err);
    ok (rc == 0, "the default configuration is written");
    memset (&cfg, 'X', sizeof cfg);
    rc = im_config_load (dir, &cfg, err, sizeof err);
    if (!ok (rc == 0, "the default configuration loads"))
        diag ("error: %s", err);
    is (cfg.name, "cert-ee", "the name round-trips");
    is (cfg.listen, "tcp://192.0.2.10:7650", "the listen endpoint round-trips");
    is (cfg.pub_endpoint, "tcp://127.0.0.1:7651", "the PUB endpoint round-trips");
    cmp_ok (cfg.heartbeat, "==", 5, "the heartbeat is 5 seconds");
    cmp_ok (cfg.map_size, "==", (size_t)1 << 30, "the map size is 1 GiB");
    cmp_ok (cfg.syslog, "==", 0, "syslog is off");
    cmp_ok (cfg.sent_retention, "==", 90, "the sent log's history is kept 90 days");

    errno = 0;
    rc = im_config_write_default (dir, "other", "tcp://192.0.2.11:7650",
                                  "tcp://127.0.0.1:7651", err, sizeof err);
    ok (rc == -1 && errno == EEXIST, "writing the default again is refused with EEXIST");
    ok (im_config_load (dir, &cfg, err, sizeof err) == 0
            && strcmp (cfg.name, "cert-ee") == 0,
        "the refused write left the file as it was");

    /* Refused files: each names its setting. */
    sub_path (path, sizeof path, dir, IM_CONFIG_FILE);
    for (size_t i = 0; i < COUNT (bad_confs); i++) {
        write_file (path, bad_confs[i].text, 0640);
        errno = 0;
        err[0] = '\0';
        rc = im_config_load (dir, &cfg, err, sizeof err);
        ok (rc == -1 && errno == EINVAL, "a config file with %s is refused with EINVAL",
            bad_confs[i].what);
        if (!ok (strstr (err, bad_confs[i].why) != NULL, "the error for %s mentions %s",
                 bad_confs[i].what, bad_confs[i].why))
            diag ("error: %s", err);
    }

    /* Limits that are accepted, and defaults for what is not said. */
    write_file (path, "node\n    name = solo\n", 0640);
    rc = im_config_load (dir, &cfg, err, sizeof err);
    char feed[sizeof cfg.pub_endpoint];
    snprintf (feed, sizeof feed, "ipc://%s/%s", dir, IM_FEED_FILE);
    ok (rc == 0 && strcmp (cfg.name, "solo") == 0 && cfg.listen[0] == '\0'
            && strcmp (cfg.pub_endpoint, feed) == 0 && cfg.heartbeat == 5
            && cfg.map_size == (size_t)1 << 30 && cfg.syslog == 0 && !cfg.pub_group[0]
            && !cfg.pub_subscribers[0],
        "a file with only a name gets the defaults for everything else");
    write_file (path,
                "pub\n    endpoint = \"tcp://127.0.0.1:7651\"\n    group = intelmesh\n"
                "    subscribers = \"subs\"\n",
                0640);
    rc = im_config_load (dir, &cfg, err, sizeof err);
    ok (rc == 0 && strcmp (cfg.pub_endpoint, "tcp://127.0.0.1:7651") == 0
            && strcmp (cfg.pub_group, "intelmesh") == 0
            && strcmp (cfg.pub_subscribers, "subs") == 0,
        "a feed's group and subscribers directory are read");
    write_file (path, "", 0640);
    rc = im_config_load (dir, &cfg, err, sizeof err);
    ok (rc == 0 && strcmp (cfg.name, "intelmesh") == 0 && cfg.heartbeat == 5,
        "an empty file gives the defaults");
    write_file (path,
                "pub\n    heartbeat = 1\nstore\n    map-size = 1048576\n"
                "log\n    syslog = 1\n",
                0640);
    rc = im_config_load (dir, &cfg, err, sizeof err);
    ok (rc == 0 && cfg.heartbeat == 1 && cfg.map_size == (size_t)1 << 20
            && cfg.syslog == 1,
        "the lowest heartbeat and map size and syslog 1 are accepted");
    write_file (path, "pub\n    heartbeat = 3600\nstore\n    map-size = 1099511627776\n",
                0640);
    rc = im_config_load (dir, &cfg, err, sizeof err);
    ok (rc == 0 && cfg.heartbeat == 3600 && cfg.map_size == (size_t)1 << 40,
        "the highest heartbeat and map size are accepted");
    ok (cfg.max_size == 0, "the store has no size limit by default");
    static const struct {
        const char *text;
        size_t bytes;
    } sizes[] = {
        { "1048576", (size_t)1 << 20 }, { "1024K", (size_t)1 << 20 },
        { "3M", (size_t)3 << 20 },      { "10G", (size_t)10 << 30 },
        { "1024T", (size_t)1 << 50 },
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char text[64];
        snprintf (text, sizeof text, "store\n    max-size = %s\n", sizes[i].text);
        write_file (path, text, 0640);
        rc = im_config_load (dir, &cfg, err, sizeof err);
        ok (rc == 0 && cfg.max_size == sizes[i].bytes, "a size limit of %s is %zu bytes",
            sizes[i].text, sizes[i].bytes);
    }
    /* The map size takes the same sizes, up to 1T. */
    static const struct {
        const char *text;
        size_t bytes;
    } maps[] = {
        { "1048576", (size_t)1 << 20 }, { "1024K", (size_t)1 << 20 },
        { "1M", (size_t)1 << 20 },      { "1G", (size_t)1 << 30 },
        { "1024G", (size_t)1 << 40 },   { "1T", (size_t)1 << 40 },
    };
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
        char text[64];
        snprintf (text, sizeof text, "store\n    map-size = %s\n", maps[i].text);
        write_file (path, text, 0640);
        rc = im_config_load (dir, &cfg, err, sizeof err);
        ok (rc == 0 && cfg.map_size == maps[i].bytes,
            "a map size of %s is %zu bytes (%s)", maps[i].text, maps[i].bytes,
            rc ? err : "taken");
    }
    write_file (path, "sent\n    retention = 0\n", 0640);
    rc = im_config_load (dir, &cfg, err, sizeof err);
    ok (rc == 0 && cfg.sent_retention == 0,
        "a sent retention of 0 (keep for ever) is accepted");
    write_file (path, "sent\n    retention = 36500\n", 0640);
    rc = im_config_load (dir, &cfg, err, sizeof err);
    ok (rc == 0 && cfg.sent_retention == 36500,
        "a sent retention of 36500 days is accepted");
    ok (cfg.fetch_grace == 3, "a noted record is fetched after 3 s by default");
    write_file (path, "node\n    fetch-grace = 1h\n", 0640);
    rc = im_config_load (dir, &cfg, err, sizeof err);
    ok (rc == 0 && cfg.fetch_grace == 3600, "a fetch grace of 1h is 3600 s");
    write_file (path, "pub\n    endpoint = \"ipc:///tmp/im-pub.sock\"\n", 0640);
    rc = im_config_load (dir, &cfg, err, sizeof err);
    ok (rc == 0 && strcmp (cfg.pub_endpoint, "ipc:///tmp/im-pub.sock") == 0,
        "an ipc:// PUB endpoint is accepted");

    remove_dir (dir);
}

/* --- Sharing policies in the configuration ------------------------------ */

/* Three peers and a node that is not on the list: their node ids, in binary
 * and hex, and cards for the first three. */
typedef struct {
    uint8_t node[4][32];
    char hex[4][65];
    char card[3][IM_CARD_MAX];
} peers_t;

static peers_t peers;

static void
peers_make (void)
{
    static const char *names[] = { "alpha", "beta", "gamma" };
    for (int i = 0; i < 4; i++) {
        uint8_t curve[32];
        char node_hex[65], curve_hex[65];
        randombytes_buf (peers.node[i], 32);
        randombytes_buf (curve, sizeof curve);
        sodium_bin2hex (node_hex, sizeof node_hex, peers.node[i], 32);
        sodium_bin2hex (curve_hex, sizeof curve_hex, curve, sizeof curve);
        memcpy (peers.hex[i], node_hex, sizeof node_hex);
        if (i < 3)
            snprintf (peers.card[i], sizeof peers.card[i],
                      "%s %s %s %s tcp://192.0.2.%d:7650", IM_CARD_TAG, names[i],
                      node_hex, curve_hex, i + 1);
    }
}

/* TEMPLATE into OUT with @A@, @B@, @C@ replaced by the cards of alpha, beta
 * and gamma, and @HA@, @HB@, @HC@, @HX@ by the node ids of alpha, beta, gamma
 * and a node not on the list. */
static char *
expand (const char *template, char *out, size_t outsz)
{
    static const char *marks[] = { "@A@", "@B@", "@C@", "@HA@", "@HB@", "@HC@", "@HX@" };
    size_t o = 0;
    for (const char *p = template; *p;) {
        size_t m = 0;
        while (m < COUNT (marks) && strncmp (p, marks[m], strlen (marks[m])) != 0)
            m++;
        const char *with = m < 3               ? peers.card[m]
                           : m < COUNT (marks) ? peers.hex[m - 3]
                                               : NULL;
        size_t len = with ? strlen (with) : 1;
        if (o + len + 1 > outsz)
            BAIL_OUT ("expand: a test configuration does not fit");
        memcpy (out + o, with ? with : p, len);
        o += len;
        p += with ? strlen (marks[m]) : 1;
    }
    out[o] = '\0';
    return out;
}

/* Writes TEMPLATE, expanded, as DIR's configuration file. */
static void
write_conf (const char *dir, const char *template)
{
    char path[128], text[8192];
    write_file (sub_path (path, sizeof path, dir, IM_CONFIG_FILE),
                expand (template, text, sizeof text), 0640);
}

static uint32_t
type_bits (int a, int b, int c, int d)
{
    uint32_t m = 0;
    int t[] = { a, b, c, d };
    for (size_t i = 0; i < COUNT (t); i++)
        if (t[i] > 0)
            m |= 1u << t[i];
    return m;
}

/* Whether the origin list (N, IDS) is exactly the peers' nodes WANT (indexes
 * into peers.node, -1 ends), in any order. */
static int
same_origins (size_t n, const uint8_t (*ids)[IM_NODE_ID_SIZE], const int *want)
{
    size_t w = 0;
    for (; want[w] >= 0; w++) {
        int found = 0;
        for (size_t i = 0; i < n; i++)
            found += memcmp (ids[i], peers.node[want[w]], 32) == 0;
        if (found != 1)
            return 0;
    }
    return n == w;
}

static const char good_policy_conf[] = "# two policies, three peers\n"
                                       "node\n"
                                       "    name = me\n"
                                       "peer\n"
                                       "    name = alpha\n"
                                       "    card = \"@A@\"\n"
                                       "    policy = partners\n"
                                       "    accept = own\n"
                                       "    accept-origins = alpha\n"
                                       "    accept-types = \"ipv4, domain\"\n"
                                       "    rate = 500\n"
                                       "peer\n"
                                       "    name = beta\n"
                                       "    card = \"@B@\"\n"
                                       "    policy = \"closed\"\n"
                                       "    accept-origins = \"alpha,@HC@, beta\"\n"
                                       "peer\n"
                                       "    name = gamma\n"
                                       "    card = \"@C@\"\n"
                                       "policy\n"
                                       "    name = partners\n"
                                       "    max-tlp = amber\n"
                                       "    types = ipv4,ipv6,domain,url\n"
                                       "    deny-tags = internal\n"
                                       "    min-confidence = 50\n"
                                       "    relay = yes\n"
                                       "    relay-origins = \"beta,@HX@\"\n"
                                       "policy\n"
                                       "    name = closed\n"
                                       "    max-tlp = clear\n"
                                       "    tags = \"shared, partners only\"\n"
                                       "    deny-types = email\n"
                                       "    relay = no\n";

static void
test_policy_load (void)
{
    char dir[64], err[512];
    im_config_t *cfg = malloc (sizeof *cfg);
    const im_policy_t *pol;
    const im_peer_conf_t *peer;

    if (!cfg)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "config");
    write_conf (dir, good_policy_conf);
    int rc = im_config_load (dir, cfg, err, sizeof err);
    if (!ok (rc == 0, "a configuration with two policies and three peers loads"))
        diag ("error: %s", err);
    cmp_ok (cfg->npolicies, "==", 3, "it holds three policies: the two and default");

    pol = im_config_policy (cfg, "partners");
    ok (pol != NULL && strcmp (pol->name, "partners") == 0,
        "im_config_policy finds 'partners'");
    ok (pol && pol->max_tlp == IM_TLP_AMBER && pol->min_confidence == 50
            && pol->relay == 1,
        "partners: max-tlp amber, min-confidence 50, relay yes");
    ok (pol
            && pol->types
                   == type_bits (IM_TYPE_IPV4, IM_TYPE_IPV6, IM_TYPE_DOMAIN, IM_TYPE_URL)
            && pol->deny_types == 0,
        "partners: types ipv4, ipv6, domain and url, none denied");
    ok (pol && pol->ndeny_tags == 1 && strcmp (pol->deny_tags[0], "internal") == 0
            && pol->ntags == 0,
        "partners: deny-tags internal, no tags required");
    ok (pol && same_origins (pol->norigins, pol->origins, (const int[]){ 1, 3, -1 }),
        "partners: relay-origins holds beta's node id (a peer name resolved) and a node "
        "id given in hex");

    pol = im_config_policy (cfg, "closed");
    ok (pol != NULL && strcmp (pol->name, "closed") == 0,
        "im_config_policy finds 'closed'");
    ok (pol && pol->max_tlp == IM_TLP_CLEAR && pol->relay == 0 && pol->norigins == 0
            && pol->min_confidence == 0,
        "closed: max-tlp clear, relay no, min-confidence 0");
    ok (pol && pol->types == 0 && pol->deny_types == type_bits (IM_TYPE_EMAIL, 0, 0, 0),
        "closed: every type but email");
    ok (pol && pol->ntags == 2
            && ((strcmp (pol->tags[0], "shared") == 0
                 && strcmp (pol->tags[1], "partners only") == 0)
                || (strcmp (pol->tags[1], "shared") == 0
                    && strcmp (pol->tags[0], "partners only") == 0)),
        "closed: tags 'shared' and 'partners only' (a tag may hold a space)");

    pol = im_config_policy (cfg, IM_POLICY_DEFAULT);
    ok (pol != NULL, "the policy 'default' exists though the file does not define it");
    ok (pol && pol->max_tlp == IM_TLP_GREEN && pol->types == 0 && pol->deny_types == 0
            && pol->ntags == 0 && pol->ndeny_tags == 0 && pol->min_confidence == 0
            && pol->relay == 1 && pol->norigins == 0,
        "the built-in default is max-tlp green and no other rule");
    ok (im_config_policy (cfg, "nonesuch") == NULL && im_config_policy (cfg, NULL) == NULL
            && im_config_policy (NULL, "default") == NULL,
        "im_config_policy finds no unknown name, and takes NULL");

    peer = im_config_peer (cfg, "alpha");
    ok (peer && strcmp (peer->policy, "partners") == 0
            && im_config_peer_policy (cfg, peer) == im_config_policy (cfg, "partners"),
        "alpha points at partners");
    ok (peer && peer->in.relayed == 0 && peer->in.rate == 500
            && peer->in.types == type_bits (IM_TYPE_IPV4, IM_TYPE_DOMAIN, 0, 0),
        "alpha's inbound rules: accept own, accept-types ipv4 and domain, rate 500");
    ok (peer
            && same_origins (peer->in.norigins, peer->in.origins, (const int[]){ 0, -1 }),
        "alpha's accept-origins naming alpha itself (with accept = own) is its node id");
    peer = im_config_peer (cfg, "beta");
    ok (peer && strcmp (peer->policy, "closed") == 0
            && im_config_peer_policy (cfg, peer) == im_config_policy (cfg, "closed"),
        "beta points at closed");
    ok (peer && peer->in.relayed == 1 && peer->in.rate == 0 && peer->in.types == 0,
        "beta's inbound rules not written are the defaults");
    ok (peer
            && same_origins (peer->in.norigins, peer->in.origins,
                             (const int[]){ 0, 2, 1, -1 }),
        "beta's accept-origins: alpha and beta resolved by name, gamma's id in hex");
    peer = im_config_peer (cfg, "gamma");
    ok (peer && strcmp (peer->policy, IM_POLICY_DEFAULT) == 0
            && im_config_peer_policy (cfg, peer) == im_config_policy (cfg, "default"),
        "gamma, without a policy key, uses default");
    ok (peer && peer->in.relayed == 1 && peer->in.rate == 0 && peer->in.types == 0
            && peer->in.norigins == 0,
        "gamma's inbound rules are the defaults: relayed, every type and origin, no "
        "rate");

    /* A policy named default in the file replaces the built-in one. */
    write_conf (dir, "policy\n    name = default\n    max-tlp = amber+strict\n"
                     "peer\n    name = alpha\n    card = \"@A@\"\n");
    rc = im_config_load (dir, cfg, err, sizeof err);
    if (!ok (rc == 0, "a configuration that defines default loads"))
        diag ("error: %s", err);
    pol = im_config_policy (cfg, IM_POLICY_DEFAULT);
    ok (cfg->npolicies == 1 && pol && pol->max_tlp == IM_TLP_AMBER_STRICT,
        "the default written (max-tlp amber+strict) is the only default");
    peer = im_config_peer (cfg, "alpha");
    ok (peer && im_config_peer_policy (cfg, peer) == pol,
        "a peer without a policy key uses the default written");

    /* A peer may name the built-in default. */
    write_conf (dir,
                "peer\n    name = alpha\n    card = \"@A@\"\n    policy = default\n");
    rc = im_config_load (dir, cfg, err, sizeof err);
    if (!ok (rc == 0 && cfg->npolicies == 1
                 && im_config_peer_policy (cfg, &cfg->peers[0])
                        == im_config_policy (cfg, IM_POLICY_DEFAULT),
             "a peer whose policy key names the built-in default loads and uses it"))
        diag ("error: %s", err);

    /* The limits of the ranges. */
    write_conf (dir,
                "peer\n    name = alpha\n    card = \"@A@\"\n    rate = 1000000\n"
                "policy\n    name = p\n    min-confidence = 100\n    max-tlp = clear\n"
                "    tags = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\n");
    rc = im_config_load (dir, cfg, err, sizeof err);
    pol = rc == 0 ? im_config_policy (cfg, "p") : NULL;
    if (!ok (rc == 0 && cfg->peers[0].in.rate == 1000000 && pol
                 && pol->min_confidence == 100 && pol->ntags == 16,
             "rate 1000000, min-confidence 100 and 16 tags are accepted"))
        diag ("error: %s", err);

    free (cfg);
    remove_dir (dir);
}

typedef struct {
    const char *what; /* for the test names */
    const char *tail; /* the file after the two peers of bad_policy_head */
    int code;         /* errno */
    int line;         /* the line the error names */
    const char *why;  /* what the error must say */
} bad_policy_t;

/* Lines 1 to 6: two good peers. */
static const char bad_policy_head[] = "peer\n"
                                      "    name = alpha\n"
                                      "    card = \"@A@\"\n"
                                      "peer\n"
                                      "    name = beta\n"
                                      "    card = \"@B@\"\n";

static const bad_policy_t bad_policies[] = {
    { "a peer naming an unknown policy",
      "peer\n    name = gamma\n    card = \"@C@\"\n    policy = nosuch\n", EINVAL, 10,
      "no policy named 'nosuch'" },
    { "a policy defined twice", "policy\n    name = p1\npolicy\n    name = p1\n", EEXIST,
      10, "defined twice" },
    { "an unknown TLP label", "policy\n    name = p1\n    max-tlp = purple\n", EINVAL, 9,
      "purple" },
    { "max-tlp = red", "policy\n    name = p1\n    max-tlp = red\n", EINVAL, 9, "red" },
    { "an unknown type", "policy\n    name = p1\n    types = ipv4,gopher\n", EINVAL, 9,
      "gopher" },
    { "an unknown type in deny-types",
      "policy\n    name = p1\n    relay = yes\n    deny-types = \"domain, ftp\"\n",
      EINVAL, 10, "ftp" },
    { "a type both in types and deny-types",
      "policy\n    name = p1\n    types = ipv4,domain\n    deny-types = domain\n", EINVAL,
      7, "domain" },
    { "a tag both in tags and deny-tags",
      "policy\n    name = p1\n    tags = a,internal\n    deny-tags = internal\n", EINVAL,
      7, "internal" },
    { "relay = no with relay-origins",
      "policy\n    name = p1\n    relay = no\n    relay-origins = beta\n", EINVAL, 7,
      "relay-origins" },
    { "relay = maybe", "policy\n    name = p1\n    relay = maybe\n", EINVAL, 9, "maybe" },
    { "min-confidence = 101", "policy\n    name = p1\n    min-confidence = 101\n", EINVAL,
      9, "min-confidence" },
    { "min-confidence = -1", "policy\n    name = p1\n    min-confidence = -1\n", EINVAL,
      9, "min-confidence" },
    { "17 tags", "policy\n    name = p1\n    tags = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n",
      EINVAL, 9, "more than 16 tags" },
    { "an unknown key in a policy section", "policy\n    name = p1\n    colour = red\n",
      EINVAL, 9, "policy/colour" },
    { "a policy without a name", "policy\n    max-tlp = amber\n", EINVAL, 7, "name" },
    { "a policy name with a space", "policy\n    name = \"two words\"\n", EINVAL, 8,
      "name" },
    { "a relay origin that is neither a peer name nor a node id",
      "policy\n    name = p1\n    relay-origins = beta,nobody\n", EINVAL, 9, "nobody" },
    { "a relay origin of 63 hex digits",
      "policy\n    name = p1\n    relay-origins = "
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n",
      EINVAL, 9, "relay-origins" },
    { "accept = sometimes",
      "peer\n    name = gamma\n    card = \"@C@\"\n    accept = sometimes\n", EINVAL, 10,
      "sometimes" },
    { "accept = own with accept-origins naming another peer",
      "peer\n    name = gamma\n    card = \"@C@\"\n    accept = own\n"
      "    accept-origins = gamma,beta\n",
      EINVAL, 11, "accept-origins" },
    { "accept = own with accept-origins naming another node by id",
      "peer\n    name = gamma\n    card = \"@C@\"\n    accept-origins = @HX@\n"
      "    accept = own\n",
      EINVAL, 10, "accept-origins" },
    { "an accept origin that is neither a peer name nor a node id",
      "peer\n    name = gamma\n    card = \"@C@\"\n    accept-origins = alpha,delta\n",
      EINVAL, 10, "delta" },
    { "an unknown type in accept-types",
      "peer\n    name = gamma\n    card = \"@C@\"\n    accept-types = ipv5\n", EINVAL, 10,
      "ipv5" },
    { "rate = -1", "peer\n    name = gamma\n    card = \"@C@\"\n    rate = -1\n", EINVAL,
      10, "rate" },
    { "rate = 1000001",
      "peer\n    name = gamma\n    card = \"@C@\"\n    rate = 1000001\n", EINVAL, 10,
      "rate" },
    { "an unknown key in a peer section",
      "peer\n    name = gamma\n    card = \"@C@\"\n    accept-tags = x\n", EINVAL, 10,
      "peer/accept-tags" },
    { "an unknown policy on an earlier peer", "policy\n    name = p1\n", EINVAL, 0,
      "no policy named 'p2'" },
};

static void
test_policy_bad (void)
{
    char dir[64], err[512], tmpl[2048], want[64];
    im_config_t *cfg = malloc (sizeof *cfg);

    if (!cfg)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "config");
    for (size_t i = 0; i < COUNT (bad_policies); i++) {
        const bad_policy_t *b = &bad_policies[i];
        int line = b->line;
        if (line)
            snprintf (tmpl, sizeof tmpl, "%s%s", bad_policy_head, b->tail);
        else {
            /* The policy key of the first peer, line 3. */
            snprintf (tmpl, sizeof tmpl,
                      "peer\n    name = alpha\n    policy = p2\n"
                      "    card = \"@A@\"\n%s",
                      b->tail);
            line = 3;
        }
        write_conf (dir, tmpl);
        errno = 0;
        err[0] = '\0';
        int rc = im_config_load (dir, cfg, err, sizeof err);
        ok (rc == -1 && errno == b->code, "a configuration with %s is refused with %s",
            b->what, b->code == EEXIST ? "EEXIST" : "EINVAL");
        snprintf (want, sizeof want, "%s:%d: ", IM_CONFIG_FILE, line);
        if (!ok (strstr (err, want) != NULL && strstr (err, b->why) != NULL,
                 "the error for %s names %s%s and '%s'", b->what, IM_CONFIG_FILE,
                 want + strlen (IM_CONFIG_FILE), b->why))
            diag ("error: %s", err);
    }
    free (cfg);
    remove_dir (dir);
}

/* The configuration the editing tests start from: comments in several places. */
static const char edit_conf[] = "# intelmesh test configuration\n"
                                "node\n"
                                "    name = me   # our name\n"
                                "\n"
                                "# the partner\n"
                                "peer\n"
                                "    name = alpha\n"
                                "    card = \"@A@\"\n"
                                "    # alpha's rules follow\n"
                                "    rate = 10\n"
                                "\n"
                                "# what partners may have\n"
                                "policy\n"
                                "    name = partners\n"
                                "    max-tlp = amber\n"
                                "# about the unused policy\n"
                                "policy\n"
                                "    name = unused\n"
                                "    max-tlp = clear\n"
                                "# the end\n";

static const char *edit_comments[] = {
    "# intelmesh test configuration\n",
    "# our name\n",
    "# the partner\n",
    "    # alpha's rules follow\n",
    "# what partners may have\n",
    "# the end\n",
};

/* Whether every comment of EDIT_CONF is still in TEXT. */
static int
comments_kept (const char *text)
{
    for (size_t i = 0; i < COUNT (edit_comments); i++)
        if (!strstr (text, edit_comments[i])) {
            diag ("the comment '%.*s' is gone", (int)strlen (edit_comments[i]) - 1,
                  edit_comments[i]);
            return 0;
        }
    return 1;
}

/* How many times NEEDLE is in HAYSTACK. */
static int
times_in (const char *haystack, const char *needle)
{
    int n = 0;
    for (const char *p = haystack; (p = strstr (p, needle)) != NULL; p += strlen (needle))
        n++;
    return n;
}

static void
test_policy_edit (void)
{
    char dir[64], path[128], err[512], before[8192], after[8192];
    im_config_t *cfg = malloc (sizeof *cfg);
    const im_peer_conf_t *peer;
    const im_policy_t *pol;
    int rc;

    if (!cfg)
        BAIL_OUT ("out of memory");
    make_dir (dir, sizeof dir, "config");
    sub_path (path, sizeof path, dir, IM_CONFIG_FILE);
    write_conf (dir, edit_conf);
    if (im_config_load (dir, cfg, err, sizeof err) != 0)
        BAIL_OUT ("the configuration for the editing tests does not load: %s", err);

    const char *k1[] = { "policy" }, *v1[] = { "partners" };

    /* Bad arguments first. */
    read_file (path, before, sizeof before);
    errno = 0;
    ok (im_config_section_set (NULL, "peer", "alpha", 0, k1, v1, 1, err, sizeof err) == -1
            && errno == EINVAL,
        "section_set refuses a NULL directory");
    errno = 0;
    ok (im_config_section_set (dir, NULL, "alpha", 0, k1, v1, 1, err, sizeof err) == -1
            && errno == EINVAL,
        "section_set refuses a NULL kind");
    errno = 0;
    ok (im_config_section_set (dir, "peer", NULL, 0, k1, v1, 1, err, sizeof err) == -1
            && errno == EINVAL,
        "section_set refuses a NULL name");
    errno = 0;
    ok (im_config_section_set (dir, "peer", "alpha", 0, NULL, v1, 1, err, sizeof err)
                == -1
            && errno == EINVAL,
        "section_set refuses NULL keys");
    errno = 0;
    ok (im_config_section_set (dir, "peer", "alpha", 0, k1, NULL, 1, err, sizeof err)
                == -1
            && errno == EINVAL,
        "section_set refuses NULL values");
    static const char *bad_values[]
        = { "part\"ners", "partners\n", "part\nners", "partners\r", "\"" };
    char shown[64];
    for (size_t i = 0; i < COUNT (bad_values); i++) {
        const char *v[] = { bad_values[i] };
        errno = 0;
        rc = im_config_section_set (dir, "peer", "alpha", 0, k1, v, 1, err, sizeof err);
        ok (rc == -1 && errno == EINVAL, "section_set refuses the value '%s' with EINVAL",
            printable (bad_values[i], shown, sizeof shown));
    }
    errno = 0;
    rc = im_config_section_set (dir, "peer", "zed", 0, k1, v1, 1, err, sizeof err);
    ok (rc == -1 && errno == ENOENT, "section_set on a peer not in the file is ENOENT");
    errno = 0;
    rc = im_config_section_set (dir, "policy", "other", 0, (const char *[]){ "max-tlp" },
                                (const char *[]){ "clear" }, 1, err, sizeof err);
    ok (rc == -1 && errno == ENOENT,
        "section_set on a policy not in the file, without create, is ENOENT");
    ok (strstr (err, "other") != NULL, "the error names the missing section");
    errno = 0;
    rc = im_config_section_set (dir, "peer", "zed", 1, k1, v1, 1, err, sizeof err);
    ok (rc == -1 && (errno == EINVAL || errno == ENOENT),
        "section_set with create on a peer not in the file is refused (a peer needs a "
        "card)");
    read_file (path, after, sizeof after);
    ok (strcmp (before, after) == 0, "the refused calls left the file byte for byte");

    /* Changes that would not load: one or two keys each. */
    static const struct {
        const char *what, *kind, *name;
        int create;
        const char *keys[2], *values[2];
    } unloadable[] = {
        { "a peer policy naming a missing policy",
          "peer",
          "alpha",
          0,
          { "policy" },
          { "missing" } },
        { "max-tlp = red", "policy", "partners", 0, { "max-tlp" }, { "red" } },
        { "an unknown key in a policy",
          "policy",
          "partners",
          0,
          { "colour" },
          { "red" } },
        { "a rate of -1", "peer", "alpha", 0, { "rate" }, { "-1" } },
        { "accept = own with accept-origins naming a node not the peer",
          "peer",
          "alpha",
          0,
          { "accept", "accept-origins" },
          { "own", "0000000000000000000000000000000000000000000000000000000000000001" } },
        { "a new policy with relay = no and relay-origins",
          "policy",
          "new",
          1,
          { "relay", "relay-origins" },
          { "no", "alpha" } },
        { "a new policy of a bad name",
          "policy",
          "bad name",
          1,
          { "max-tlp" },
          { "clear" } },
    };
    for (size_t i = 0; i < COUNT (unloadable); i++) {
        size_t n = unloadable[i].keys[1] ? 2 : 1;
        const char *keys[2] = { unloadable[i].keys[0], unloadable[i].keys[1] };
        const char *values[2] = { unloadable[i].values[0], unloadable[i].values[1] };
        errno = 0;
        err[0] = '\0';
        rc = im_config_section_set (dir, unloadable[i].kind, unloadable[i].name,
                                    unloadable[i].create, keys, values, n, err,
                                    sizeof err);
        ok (rc == -1 && errno == EINVAL, "section_set refuses %s with EINVAL",
            unloadable[i].what);
        read_file (path, after, sizeof after);
        if (!ok (strcmp (before, after) == 0, "refusing %s left the file byte for byte",
                 unloadable[i].what))
            diag ("error: %s", err);
        if (i == 0
            && !ok (strstr (err, "missing") != NULL,
                    "the reason names the missing policy"))
            diag ("error: %s", err);
    }

    /* A key added to a peer. */
    rc = im_config_section_set (dir, "peer", "alpha", 0, k1, v1, 1, err, sizeof err);
    if (!ok (rc == 0, "section_set adds policy = partners to peer alpha"))
        diag ("error: %s", err);
    ok (im_config_load (dir, cfg, err, sizeof err) == 0
            && (peer = im_config_peer (cfg, "alpha")) != NULL
            && strcmp (peer->policy, "partners") == 0 && peer->in.rate == 10,
        "the file loads and alpha points at partners, its rate kept");
    read_file (path, after, sizeof after);
    ok (comments_kept (after), "every comment is kept");

    /* A key replaced, and one added, in one call. */
    rc = im_config_section_set (dir, "peer", "alpha", 0,
                                (const char *[]){ "rate", "accept-types" },
                                (const char *[]){ "20", "ipv4,url" }, 2, err, sizeof err);
    if (!ok (rc == 0, "section_set sets rate = 20 and accept-types in one call"))
        diag ("error: %s", err);
    read_file (path, after, sizeof after);
    ok (im_config_load (dir, cfg, err, sizeof err) == 0
            && (peer = im_config_peer (cfg, "alpha")) != NULL && peer->in.rate == 20
            && peer->in.types == type_bits (IM_TYPE_IPV4, IM_TYPE_URL, 0, 0)
            && strcmp (peer->policy, "partners") == 0,
        "alpha's rate is 20, its accept-types ipv4 and url, its policy still partners");
    ok (times_in (after, "rate") == 1, "the file holds one rate line, not two");
    ok (comments_kept (after), "every comment is still kept");

    /* A key removed. */
    rc = im_config_section_set (dir, "peer", "alpha", 0, (const char *[]){ "rate" },
                                (const char *[]){ NULL }, 1, err, sizeof err);
    if (!ok (rc == 0, "section_set with a NULL value removes rate from alpha"))
        diag ("error: %s", err);
    read_file (path, after, sizeof after);
    ok (im_config_load (dir, cfg, err, sizeof err) == 0
            && (peer = im_config_peer (cfg, "alpha")) != NULL && peer->in.rate == 0,
        "alpha's rate is back to 0 (no limit)");
    ok (times_in (after, "rate") == 0, "the file holds no rate line");
    ok (comments_kept (after), "the comment inside alpha's section is kept");
    rc = im_config_section_set (dir, "peer", "alpha", 0, (const char *[]){ "rate" },
                                (const char *[]){ NULL }, 1, err, sizeof err);
    ok (rc == 0, "removing a key that is not there succeeds");

    /* A policy created. */
    rc = im_config_section_set (dir, "policy", "strict", 1,
                                (const char *[]){ "max-tlp", "relay" },
                                (const char *[]){ "clear", "no" }, 2, err, sizeof err);
    if (!ok (rc == 0, "section_set with create makes the policy 'strict'"))
        diag ("error: %s", err);
    read_file (path, after, sizeof after);
    ok (im_config_load (dir, cfg, err, sizeof err) == 0
            && (pol = im_config_policy (cfg, "strict")) != NULL
            && pol->max_tlp == IM_TLP_CLEAR && pol->relay == 0,
        "the file loads with strict: max-tlp clear, relay no");
    ok (comments_kept (after), "creating a policy keeps every comment");

    /* Create on a policy that exists changes it, once. */
    rc = im_config_section_set (dir, "policy", "partners", 1,
                                (const char *[]){ "max-tlp" },
                                (const char *[]){ "green" }, 1, err, sizeof err);
    if (!ok (rc == 0, "section_set with create on an existing policy succeeds"))
        diag ("error: %s", err);
    read_file (path, after, sizeof after);
    ok (im_config_load (dir, cfg, err, sizeof err) == 0
            && (pol = im_config_policy (cfg, "partners")) != NULL
            && pol->max_tlp == IM_TLP_GREEN && times_in (after, "name = partners") == 1,
        "it changed partners to max-tlp green and made no second partners");

    /* Removing policies. */
    read_file (path, before, sizeof before);
    errno = 0;
    rc = im_config_policy_remove (dir, "partners", err, sizeof err);
    ok (rc == -1 && errno == EBUSY, "policy_remove refuses partners with EBUSY while "
                                    "alpha points at it");
    ok (strstr (err, "alpha") != NULL, "the error names the peer that uses it");
    errno = 0;
    rc = im_config_policy_remove (dir, "nosuch", err, sizeof err);
    ok (rc == -1 && errno == ENOENT,
        "policy_remove of a policy not in the file is ENOENT");
    read_file (path, after, sizeof after);
    ok (strcmp (before, after) == 0, "the refused removals left the file byte for byte");

    rc = im_config_policy_remove (dir, "unused", err, sizeof err);
    if (!ok (rc == 0, "policy_remove removes the unused policy"))
        diag ("error: %s", err);
    read_file (path, after, sizeof after);
    ok (im_config_load (dir, cfg, err, sizeof err) == 0
            && im_config_policy (cfg, "unused") == NULL
            && im_config_policy (cfg, "partners") != NULL
            && im_config_policy (cfg, "strict") != NULL,
        "the file loads without unused, with partners and strict");
    ok (times_in (after, "name = unused") == 0, "the file no longer names unused");
    ok (comments_kept (after),
        "removing a policy keeps the comments outside it, the one after it too");

    rc = im_config_section_set (dir, "peer", "alpha", 0, k1, (const char *[]){ NULL }, 1,
                                err, sizeof err);
    ok (rc == 0 && im_config_load (dir, cfg, err, sizeof err) == 0
            && strcmp (im_config_peer (cfg, "alpha")->policy, "default") == 0,
        "once alpha's policy key is removed it uses default");
    rc = im_config_policy_remove (dir, "partners", err, sizeof err);
    if (!ok (rc == 0, "policy_remove removes partners once no peer uses it"))
        diag ("error: %s", err);
    ok (im_config_load (dir, cfg, err, sizeof err) == 0
            && im_config_policy (cfg, "partners") == NULL && cfg->npolicies == 2,
        "the file loads with strict and default only");
    errno = 0;
    rc = im_config_policy_remove (dir, "partners", err, sizeof err);
    ok (rc == -1 && errno == ENOENT, "removing partners again is ENOENT");

    free (cfg);
    remove_dir (dir);
}

/* --- The pid lock ------------------------------------------------------- */

/* Reads the pid file through FD into BUF. Opening and closing the file
 * another way would drop our own lock: POSIX record locks belong to the
 * process and go with the first close of any descriptor for the file. */
static const char *
read_fd (int fd, char *buf, size_t bufsz)
{
    ssize_t n = pread (fd, buf, bufsz - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* Child: the lock is held by our parent. */
static int
child_acquire_refused (const char *dir)
{
    pid_t holder = 0;
    char err[256] = "";
    errno = 0;
    int fd = im_pidfile_acquire (dir, &holder, err, sizeof err);
    if (fd >= 0)
        return 1;
    if (errno != EAGAIN)
        return 2;
    if (holder != getppid ())
        return 3;
    if (!strstr (err, "already running"))
        return 4;
    return 0;
}

static int
child_holder_is_parent (const char *dir)
{
    return im_pidfile_holder (dir) == getppid () ? 0 : 1;
}

static int
child_holder_is_none (const char *dir)
{
    return im_pidfile_holder (dir) == 0 ? 0 : 1;
}

/* Child: takes the lock and ends without letting it go. */
static int
child_acquire (const char *dir)
{
    return im_pidfile_acquire (dir, NULL, NULL, 0) >= 0 ? 0 : 1;
}

static void
test_pidfile (void)
{
    char dir[64], path[128], missing[128], text[64], want[64];
    pid_t holder = -1;
    int fd, rc;

    make_dir (dir, sizeof dir, "config");
    sub_path (missing, sizeof missing, dir, "no/such");

    errno = 0;
    fd = im_pidfile_acquire (missing, &holder, NULL, 0);
    ok (fd == -1 && errno == ENOENT,
        "acquiring in a missing directory fails with ENOENT");
    cmp_ok (im_pidfile_holder (missing), "==", 0, "a missing directory has no holder");
    cmp_ok (im_pidfile_holder (dir), "==", 0,
            "a directory without a pid file has no holder");

    char err[256];
    fd = im_pidfile_acquire (dir, &holder, err, sizeof err);
    ok (fd >= 0, "the first acquire takes the lock");
    snprintf (want, sizeof want, "%ld\n", (long)getpid ());
    is (read_fd (fd, text, sizeof text), want, "the pid file holds our pid");

    rc = in_child (child_acquire_refused, dir);
    ok (rc == 0,
        "a second acquire from another process fails with EAGAIN naming our pid");
    if (rc)
        diag ("the child reported %d (1 acquired, 2 errno, 3 holder, 4 message)", rc);
    is (read_fd (fd, text, sizeof text), want,
        "the refused acquire left our pid in the file");
    ok (in_child (child_holder_is_parent, dir) == 0,
        "another process sees us as the holder");

    close (fd);
    ok (in_child (child_holder_is_none, dir) == 0,
        "once the descriptor is closed another process sees no holder");
    cmp_ok (im_pidfile_holder (dir), "==", 0,
            "once the descriptor is closed we see no holder");

    /* The lock goes with the process that held it, however it ends. */
    ok (in_child (child_acquire, dir) == 0,
        "another process takes the free lock and exits");
    read_file (sub_path (path, sizeof path, dir, IM_PID_FILE), text, sizeof text);
    ok (strcmp (text, want) != 0 && atol (text) > 0,
        "the pid file then held that process's pid");
    cmp_ok (im_pidfile_holder (dir), "==", 0, "the lock went with that process");
    fd = im_pidfile_acquire (dir, &holder, err, sizeof err);
    ok (fd >= 0, "the lock can be taken again after its holder ended");
    is (read_fd (fd, text, sizeof text), want,
        "the pid file holds our pid again, not the old holder's");
    ok (in_child (child_holder_is_parent, dir) == 0,
        "another process sees us as the holder again");
    if (fd >= 0)
        close (fd);

    remove_dir (dir);
}

/* --- The node's keys ---------------------------------------------------- */

/* Splits a copy of CARD at spaces into at most 8 FIELDS. Returns the count. */
static int
card_fields (const char *card, char *copy, size_t copysz, char *fields[8])
{
    int n = 0;
    char *save = NULL;
    snprintf (copy, copysz, "%s", card);
    for (char *t = strtok_r (copy, " ", &save); t; t = strtok_r (NULL, " ", &save))
        if (n < 8)
            fields[n++] = t;
        else
            return 9;
    return n;
}

static int
all_hex (const char *s, size_t len)
{
    if (strlen (s) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!strchr ("0123456789abcdef", s[i]))
            return 0;
    return 1;
}

typedef struct {
    const char *what;
    const char *key; /* the line to damage */
    int how;         /* CUT, BAD_DIGIT, FLIP_AT_64, RENAME, EMPTY */
} corruption_t;

enum { CUT, BAD_DIGIT, FLIP_AT_64, RENAME, EMPTY };

/* Writes the damaged form of ORIG into PATH. */
static void
damage (const char *path, const char *orig, const corruption_t *c)
{
    char text[2048];
    snprintf (text, sizeof text, "%s", orig);
    char *line = strstr (text, c->key);
    if (!line && c->how != EMPTY)
        BAIL_OUT ("the secret file has no %s", c->key);
    char *value = line ? strchr (line, '"') + 1 : NULL;
    switch (c->how) {
    case CUT: {
        char *end = strchr (value, '"');
        memmove (end - 2, end, strlen (end) + 1);
        break;
    }
    case BAD_DIGIT: value[10] = 'g'; break;
    case FLIP_AT_64: value[64] = value[64] == '0' ? '1' : '0'; break;
    case RENAME: line[0] = 'x'; break;
    case EMPTY: text[0] = '\0'; break;
    }
    write_file (path, text, 0600);
}

static void
test_identity (void)
{
    static const corruption_t corruptions[] = {
        { "a sign-secret cut short by two digits", "sign-secret", CUT },
        { "a sign-secret with a non-hex digit", "sign-secret", BAD_DIGIT },
        { "a curve-secret cut short", "curve-secret", CUT },
        { "a file without sign-secret", "sign-secret", RENAME },
        { "a file without curve-secret", "curve-secret", RENAME },
        { "an empty file", "", EMPTY },
        { "a sign-secret whose public half does not match its seed", "sign-secret",
          FLIP_AT_64 },
    };
    static const struct {
        mode_t mode;
        int refused;
    } modes[] = {
        { 0644, 1 }, { 0640, 1 }, { 0604, 1 }, { 0660, 1 },
        { 0601, 1 }, { 0610, 1 }, { 0600, 0 }, { 0400, 0 },
    };
    char dir[64], keys[128], secret[128], public_path[128], err[512];
    char card[IM_CARD_MAX], copy[IM_CARD_MAX], *fields[8];
    char node_hex[IM_NODE_HEX_SIZE], orig[2048], pubtext[2048];
    struct stat st;
    im_identity_t *id, *again;
    int rc;

    make_dir (dir, sizeof dir, "config");
    sub_path (keys, sizeof keys, dir, IM_KEYS_DIR);
    sub_path (secret, sizeof secret, dir, IM_SECRET_FILE);
    sub_path (public_path, sizeof public_path, dir, IM_PUBLIC_FILE);

    /* Bad arguments. */
    errno = 0;
    ok (im_identity_create (NULL, err, sizeof err) == NULL && errno == EINVAL,
        "create refuses a NULL directory with EINVAL");
    errno = 0;
    ok (im_identity_load (NULL, err, sizeof err) == NULL && errno == EINVAL,
        "load refuses a NULL directory with EINVAL");
    char missing[128];
    errno = 0;
    ok (im_identity_create (sub_path (missing, sizeof missing, dir, "no/such"), err,
                            sizeof err)
                == NULL
            && errno == ENOENT,
        "create in a missing directory fails with ENOENT");
    errno = 0;
    err[0] = '\0';
    ok (im_identity_load (dir, err, sizeof err) == NULL && errno == ENOENT,
        "load where no keys were made fails with ENOENT");
    ok (strstr (err, "intelmesh init") != NULL,
        "the error for missing keys hints at 'intelmesh init'");
    errno = EDOM;
    im_identity_destroy (NULL);
    id = NULL;
    im_identity_destroy (&id);
    ok (id == NULL && errno == EDOM,
        "destroying NULL or a NULL identity is safe and keeps errno");

    /* Creation. */
    id = im_identity_create (dir, err, sizeof err);
    if (!ok (id != NULL, "create makes an identity"))
        BAIL_OUT ("cannot go on without keys: %s", err);
    ok (stat (keys, &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 07777) == 0700,
        "the keys directory has mode 0700");
    ok (stat (secret, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 07777) == 0600,
        "the secret file has mode 0600");
    ok (stat (public_path, &st) == 0 && S_ISREG (st.st_mode), "the public file exists");

    im_node_format (im_identity_node (id), node_hex);
    char sign_hex[2 * IM_SECRET_KEY_SIZE + 1], seed_hex[65], curve_sec_hex[65];
    uint8_t curve_bin[32];
    sodium_bin2hex (sign_hex, sizeof sign_hex, im_identity_sign_secret (id),
                    IM_SECRET_KEY_SIZE);
    sodium_bin2hex (seed_hex, sizeof seed_hex, im_identity_sign_secret (id), 32);
    zmq_z85_decode (curve_bin, im_identity_curve_secret (id));
    sodium_bin2hex (curve_sec_hex, sizeof curve_sec_hex, curve_bin, sizeof curve_bin);
    ok (memcmp (im_identity_sign_secret (id) + 32, im_identity_node (id), IM_NODE_ID_SIZE)
            == 0,
        "the node id is the public half of the signing key");
    cmp_ok (strlen (im_identity_curve_public (id)), "==", 40,
            "the CURVE public key is 40 Z85 characters");
    read_file (public_path, pubtext, sizeof pubtext);
    ok (strstr (pubtext, node_hex) != NULL, "the public file holds the node id");
    ok (strstr (pubtext, im_identity_curve_public (id)) != NULL,
        "the public file holds the CURVE public key");
    ok (!strstr (pubtext, seed_hex) && !strstr (pubtext, im_identity_curve_secret (id)),
        "the public file holds no secret");

    /* The card. */
    rc = im_identity_card (id, "cert-ee", "tcp://192.0.2.10:7650", card, sizeof card);
    ok (rc == 0, "the card is made");
    diag ("card: %s", card);
    ok (card_fields (card, copy, sizeof copy, fields) == 5,
        "the card has 5 space-separated fields");
    is (fields[0], "intelmesh1", "the card starts with intelmesh1");
    is (fields[1], "cert-ee", "the card's second field is the name");
    is (fields[2], node_hex, "the card's third field is the node id in hex");
    uint8_t curve_pub[32];
    char curve_pub_hex[65];
    zmq_z85_decode (curve_pub, im_identity_curve_public (id));
    sodium_bin2hex (curve_pub_hex, sizeof curve_pub_hex, curve_pub, sizeof curve_pub);
    ok (all_hex (fields[3], 64) && strcmp (fields[3], curve_pub_hex) == 0,
        "the card's fourth field is the CURVE public key in hex");
    is (fields[4], "tcp://192.0.2.10:7650", "the card's fifth field is the endpoint");
    ok (!strstr (card, seed_hex) && !strstr (card, sign_hex)
            && !strstr (card, curve_sec_hex)
            && !strstr (card, im_identity_curve_secret (id)),
        "the card holds no secret key, in hex or Z85");
    rc = im_identity_card (id, "cert-ee", NULL, card, sizeof card);
    ok (rc == 0 && card_fields (card, copy, sizeof copy, fields) == 5
            && strcmp (fields[4], "-") == 0,
        "a card without an endpoint ends with '-'");
    rc = im_identity_card (id, "cert-ee", "", card, sizeof card);
    ok (rc == 0 && card_fields (card, copy, sizeof copy, fields) == 5
            && strcmp (fields[4], "-") == 0,
        "a card with an empty endpoint ends with '-'");
    errno = 0;
    rc = im_identity_card (id, "cert-ee", "tcp://192.0.2.10:7650", card, 100);
    ok (rc == -1 && errno == ENOSPC, "a card that does not fit is ENOSPC");

    /* Again: refused, and nothing overwritten. */
    read_file (secret, orig, sizeof orig);
    errno = 0;
    again = im_identity_create (dir, err, sizeof err);
    ok (again == NULL && errno == EEXIST, "creating again is refused with EEXIST");
    im_identity_destroy (&again);
    char now[2048];
    read_file (secret, now, sizeof now);
    ok (strcmp (orig, now) == 0, "the refused create left the secret file as it was");

    /* Loading. */
    again = im_identity_load (dir, err, sizeof err);
    if (!ok (again != NULL, "the keys load"))
        BAIL_OUT ("cannot go on: %s", err);
    ok (memcmp (im_identity_node (again), im_identity_node (id), IM_NODE_ID_SIZE) == 0,
        "the loaded node id is the created one");
    is (im_identity_curve_public (again), im_identity_curve_public (id),
        "the loaded CURVE public key is the created one");
    ok (memcmp (im_identity_sign_secret (again), im_identity_sign_secret (id),
                IM_SECRET_KEY_SIZE)
                == 0
            && strcmp (im_identity_curve_secret (again), im_identity_curve_secret (id))
                   == 0,
        "the loaded secrets are the created ones");

    /* A loaded identity signs records that verify as its node's. */
    im_record_t *rec = malloc (sizeof *rec), *back = malloc (sizeof *back);
    uint8_t *blob = malloc (IM_RECORD_MAX);
    size_t len = 0;
    if (!rec || !back || !blob)
        BAIL_OUT ("out of memory");
    im_record_init (rec);
    memcpy (rec->origin, im_identity_node (again), IM_NODE_ID_SIZE);
    im_id_generate (rec->id);
    rec->type = IM_TYPE_DOMAIN;
    snprintf (rec->value, sizeof rec->value, "signed.example");
    rc = im_record_sign (rec, im_identity_sign_secret (again), blob, IM_RECORD_MAX, &len,
                         err, sizeof err);
    ok (rc == 0 && im_record_decode (blob, len, 1, back, err, sizeof err) == 0,
        "a record signed by the loaded identity verifies under its node id");
    im_identity_destroy (&again);
    ok (again == NULL, "destroying an identity sets the pointer to NULL");

    /* Modes: a secret others may read or write is refused. */
    for (size_t i = 0; i < COUNT (modes); i++) {
        chmod (secret, modes[i].mode);
        errno = 0;
        err[0] = '\0';
        again = im_identity_load (dir, err, sizeof err);
        if (modes[i].refused) {
            ok (again == NULL && errno == EPERM,
                "a secret file of mode %04o is refused with EPERM",
                (unsigned)modes[i].mode);
            ok (strstr (err, "chmod 600") != NULL,
                "the error for mode %04o says to chmod 600", (unsigned)modes[i].mode);
        }
        else
            ok (again != NULL, "a secret file of mode %04o loads",
                (unsigned)modes[i].mode);
        im_identity_destroy (&again);
    }
    chmod (secret, 0600);

    /* Damaged secret files. */
    for (size_t i = 0; i < COUNT (corruptions); i++) {
        damage (secret, orig, &corruptions[i]);
        errno = 0;
        again = im_identity_load (dir, err, sizeof err);
        ok (again == NULL && errno == EINVAL, "%s is refused with EINVAL",
            corruptions[i].what);
        if (again) {
            char got_hex[IM_NODE_HEX_SIZE];
            im_node_format (im_identity_node (again), got_hex);
            diag ("it loaded as node %.16s..., the key's node is %.16s...", got_hex,
                  node_hex);
        }
        im_identity_destroy (&again);
    }
    write_file (secret, orig, 0600);
    again = im_identity_load (dir, err, sizeof err);
    ok (again != NULL
            && memcmp (im_identity_node (again), im_identity_node (id), IM_NODE_ID_SIZE)
                   == 0,
        "the restored secret file loads again");
    im_identity_destroy (&again);

    errno = EDOM;
    im_identity_destroy (&id);
    ok (id == NULL && errno == EDOM, "destroying the identity keeps errno");
    free (rec);
    free (back);
    free (blob);
    remove_dir (dir);
}

/* --- ZPL syntax errors ---------------------------------------------------- */

typedef struct {
    const char *what, *text;
    const char *where; /* "FILE:LINE:COLUMN:" the error starts with; NULL: good */
    const char *why;   /* and what it says */
} zpl_case_t;

static const zpl_case_t zpl_cases[] = {
    { "an empty text", "", NULL, NULL },
    { "comments and blank lines", "# a\n\n    # b\n   \n\t# c\n", NULL, NULL },
    { "a section and settings", "node\n    name = a\n    listen = \"tcp://h:1\"\n", NULL,
      NULL },
    { "a quoted value with a comment", "a = 'x y' # z\n", NULL, NULL },
    { "an unquoted value with '#' and spaces", "a = x y # z\n", NULL, NULL },
    { "a name alone", "node\n", NULL, NULL },
    { "CRLF line ends", "node\r\n    name = a\r\n", NULL, NULL },
    { "two levels then back to one", "a\n    b\n        c = 1\n    d = 2\ne\n", NULL,
      NULL },
    { "a name with every allowed sign", "a$-_@.&+/b = 1\n", NULL, NULL },
    { "an empty quoted value", "a = \"\"\n", NULL, NULL },
    { "tab indentation", "node\n\tname = a\n", "intelmesh.conf:2:1:", "tab" },
    { "a tab after spaces", "node\n    \tname = a\n", "intelmesh.conf:2:5:", "tab" },
    { "a missing '='", "node\n    name a\n",
      "intelmesh.conf:2:10:", "expected '=' between 'name' and its value" },
    { "a colon for '='", "node\n    name: a\n", "intelmesh.conf:2:9:", "expected '='" },
    { "an unclosed double quote", "node\n    name = \"a\n",
      "intelmesh.conf:2:12:", "not closed; expected a closing \"" },
    { "an unclosed single quote", "a = 'x\n",
      "intelmesh.conf:1:5:", "expected a closing '" },
    { "junk after a quoted value", "a = \"x\" y\n",
      "intelmesh.conf:1:9:", "expected the end of the line" },
    { "an INI section header", "# x\n[node]\nname = a\n",
      "intelmesh.conf:2:1:", "INI-style" },
    { "an indented INI section header", "a\n    [b]\n",
      "intelmesh.conf:2:5:", "INI-style" },
    { "three spaces of indentation", "node\n   name = a\n",
      "intelmesh.conf:2:4:", "indented by 3 spaces" },
    { "a first line indented", "    name = a\n",
      "intelmesh.conf:1:1:", "expected at most 0" },
    { "two levels deeper at once", "a\n        b = 1\n",
      "intelmesh.conf:2:1:", "indented 2 levels; expected at most 1" },
    { "'=' with no name", "= 1\n", "intelmesh.conf:1:1:", "no name" },
    { "a name starting with '/'", "/a = 1\n", "intelmesh.conf:1:1:", "'/'" },
    { "a name ending with '/'", "a/ = 1\n", "intelmesh.conf:1:2:", "'/'" },
    { "a bad first character", "node\n    *x = 1\n",
      "intelmesh.conf:2:5:", "cannot start a name" },
    { "an error after good lines", "a = 1\nb = 2\nc 3\n", "intelmesh.conf:3:3:", "'c'" },
};

static void
test_zpl_check (void)
{
    char err[512];
    for (size_t i = 0; i < COUNT (zpl_cases); i++) {
        const zpl_case_t *c = &zpl_cases[i];
        err[0] = 0;
        errno = 0;
        int rc = im_zpl_check (c->text, IM_CONFIG_FILE, err, sizeof err);
        zconfig_t *root = zconfig_str_load (c->text);
        if (!c->where)
            ok (rc == 0 && root, "ZPL: %s is good, as zconfig says", c->what);
        else {
            ok (rc == -1 && errno == EINVAL && !root,
                "ZPL: %s is refused with EINVAL, as zconfig refuses it", c->what);
            ok (strncmp (err, c->where, strlen (c->where)) == 0 && strstr (err, c->why),
                "ZPL: %s is reported at %s '...%s...' (got: %s)", c->what, c->where,
                c->why, err);
        }
        zconfig_destroy (&root);
    }
    /* A long line is read whole, as zconfig reads it. */
    char long_line[2100];
    memset (long_line, 0, sizeof long_line);
    memcpy (long_line, "a = \"", 5);
    memset (long_line + 5, 'x', 2000);
    for (int closed = 1; closed >= 0; closed--) {
        long_line[2005] = closed ? '"' : ' ';
        zconfig_t *root = zconfig_str_load (long_line);
        int rc = im_zpl_check (long_line, "f", err, sizeof err);
        ok (closed ? rc == 0 && root
                   : rc == -1 && !root && strncmp (err, "f:1:5:", 6) == 0,
            "ZPL: a quote %s after 2,000 bytes is %s by both",
            closed ? "closed" : "not closed",
            closed ? "taken" : "refused, at its column,");
        zconfig_destroy (&root);
    }
    im_config_t *cfg = malloc (sizeof *cfg);
    ok (cfg && im_config_load_text ("node\n\tname = a\n", cfg, err, sizeof err) == -1
            && strncmp (err, "intelmesh.conf:2:1: a tab", 25) == 0,
        "the configuration loader reports a tab at its line and column (got: %s)", err);
    free (cfg);
}

static const tap_test_t tests[] = { TAP_TEST (test_dir_resolve),
                                    TAP_TEST (test_names),
                                    TAP_TEST (test_endpoints),
                                    TAP_TEST (test_config_file),
                                    TAP_TEST (test_policy_load),
                                    TAP_TEST (test_policy_bad),
                                    TAP_TEST (test_policy_edit),
                                    TAP_TEST (test_pidfile),
                                    TAP_TEST (test_identity),
                                    TAP_TEST (test_zpl_check),
                                    TAP_END };

int
main (int argc, char **argv)
{
    if (sodium_init () < 0)
        BAIL_OUT ("sodium_init failed");
    peers_make ();
    return tap_main (argc, argv, tests);
}
