/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_init.c -- subcommands about the node's own identity: init (keys,
 * config, store), id (the node card) and rotate-keys (a new CURVE key). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "im_config.h"
#include "im_identity.h"
#include "im_store.h"
#include "im_time.h"
#include "intelmesh.h"

/* --- init ---------------------------------------------------------------- */

/* mkdir -p with mode 0700 for what it creates. */
static int
make_dirs (const char *path)
{
    char buf[PATH_MAX];
    if (snprintf (buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir (buf, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir (buf, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static void
default_listen (char *out, size_t outsz)
{
    char host[HOST_NAME_MAX + 1] = "localhost";
    if (gethostname (host, sizeof host - 1) != 0 || !host[0])
        snprintf (host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    snprintf (out, outsz, "tcp://%s:%d", host, IM_DEFAULT_LISTEN_PORT);
}

typedef struct {
    const char *name, *listen, *pub;
    char host[256], listen_buf[IM_ENDPOINT_MAX], pub_buf[IM_ENDPOINT_MAX];
} init_opts_t;

static void
init_help (void)
{
    printf ("Usage: intelmesh init [-d DIR] [--name NAME] [--listen ENDPOINT]\n"
            "                      [--pub ENDPOINT]\n"
            "Creates a node in DIR: an Ed25519 signing key (the node id) and a\n"
            "CURVE key (secrets in DIR/keys, mode 0600), DIR/intelmesh.conf with\n"
            "commented defaults, and the LMDB store. Refuses to touch an existing\n"
            "node.\n\n"
            "  --name NAME        the node's name in its card (default: host name)\n"
            "  --listen ENDPOINT  the endpoint partners dial, in the card\n"
            "                     (default tcp://HOSTNAME:%d)\n"
            "  --pub ENDPOINT     the local PUB feed (default ipc://DIR/%s, mode\n"
            "                     0660; a tcp:// feed is open to every local user)\n",
            IM_DEFAULT_LISTEN_PORT, IM_FEED_FILE);
}

static int
init_option (void *ctx, int opt, const char *arg)
{
    init_opts_t *o = ctx;
    switch (opt) {
    case 'n': o->name = arg; break;
    case 'l': o->listen = arg; break;
    case 'p': o->pub = arg; break;
    }
    return 0;
}

/* The name and endpoints, with their defaults, are checked before anything
 * is made. */
static int
init_check (void *ctx, int argc, char **argv)
{
    (void)argc, (void)argv;
    init_opts_t *o = ctx;
    if (!o->name) {
        if (gethostname (o->host, sizeof o->host - 1) != 0 || !im_name_valid (o->host))
            snprintf (o->host, sizeof o->host, "intelmesh");
        o->host[sizeof o->host - 1] = 0;
        o->name = o->host;
    }
    if (!im_name_valid (o->name)) {
        cli_error ("init: --name '%s' must be 1-64 letters, digits, '.', '_' or '-'",
                   o->name);
        return -1;
    }
    if (!o->listen) {
        default_listen (o->listen_buf, sizeof o->listen_buf);
        o->listen = o->listen_buf;
    }
    if (!im_endpoint_valid (o->listen) || strncmp (o->listen, "tcp://", 6) != 0) {
        cli_error ("init: --listen '%s' is not a tcp://HOST:PORT endpoint", o->listen);
        return -1;
    }
    if (o->pub && !im_endpoint_valid (o->pub)) {
        cli_error ("init: --pub '%s' is not a tcp://HOST:PORT or ipc://PATH endpoint",
                   o->pub);
        return -1;
    }
    struct sockaddr_un sun;
    if (o->pub && strncmp (o->pub, "ipc://", 6) == 0
        && (o->pub[6] != '/' || strlen (o->pub + 6) >= sizeof sun.sun_path)) {
        cli_error ("init: --pub '%s': an ipc:// feed needs an absolute path of at most "
                   "%zu bytes",
                   o->pub, sizeof sun.sun_path - 1);
        return -1;
    }
    if (o->pub && strncmp (o->pub, "tcp://", 6) == 0)
        fprintf (stderr,
                 "intelmesh: init: warning: the feed %s is open to every local user%s, "
                 "RED included, unless pub/subscribers makes it CURVE "
                 "(intelmesh.conf(5)); the default ipc:// feed is private\n",
                 o->pub, strncmp (o->pub + 6, "127.", 4) ? " and to the network" : "");
    return 0;
}

/* An init builds the node in a temporary directory and renames it into
 * place: next to DIR (".NAME.init-PID-XXXXXX") when DIR does not exist, else
 * inside it (".init-PID-XXXXXX"; the directory an administrator made for the
 * node, its owner and mode, is kept, and its parent need not be writable),
 * moving the configuration last. An interrupted init leaves no half node in
 * DIR, and the next init removes what it left. */
#define INIT_TEMP_TAG ".init-"

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove (path);
}

/* PARENT and NAME of the absolute path of DIR (which may not exist yet). */
static int
init_split (const char *dir, char *parent, size_t parentsz, char *name, size_t namesz)
{
    char abs[PATH_MAX], cwd[PATH_MAX];
    if (dir[0] != '/' && !getcwd (cwd, sizeof cwd))
        return -1;
    if (snprintf (abs, sizeof abs, "%s%s%s", dir[0] == '/' ? "" : cwd,
                  dir[0] == '/' ? "" : "/", dir)
        >= (int)sizeof abs) {
        errno = ENAMETOOLONG;
        return -1;
    }
    size_t len = strlen (abs);
    while (len > 1 && abs[len - 1] == '/')
        abs[--len] = 0;
    char *slash = strrchr (abs, '/');
    if (!slash || !slash[1]) {
        errno = EINVAL;
        return -1;
    }
    snprintf (name, namesz, "%s", slash + 1);
    *slash = 0;
    char real[PATH_MAX];
    /* The parent as intelmeshd will see it, when it exists. */
    snprintf (parent, parentsz, "%s", realpath (*abs ? abs : "/", real) ? real : abs);
    return 0;
}

/* Removes what inits stopped half-way left in PARENT: temporary directories
 * ".NAME.init-PID-..." (".init-PID-..." when NAME is "") of processes that are
 * gone. */
static void
init_remove_stale (const char *parent, const char *name)
{
    DIR *d = opendir (parent);
    if (!d)
        return;
    char prefix[PATH_MAX];
    snprintf (prefix, sizeof prefix, "%s%s" INIT_TEMP_TAG, *name ? "." : "", name);
    size_t plen = strlen (prefix);
    struct dirent *e;
    while ((e = readdir (d))) {
        long pid = strncmp (e->d_name, prefix, plen) == 0 ? atol (e->d_name + plen) : 0;
        if (pid <= 0 || kill ((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* not an init's, or that init still runs */
        char path[PATH_MAX + 256];
        snprintf (path, sizeof path, "%s/%s", parent, e->d_name);
        nftw (path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    closedir (d);
}

/* Says why making the node failed (errno CODE, DETAIL), naming FINAL where
 * DETAIL names the temporary directory TEMP (removed by then; may be ""): a
 * full disk in plain words. */
static void
init_failed (const char *final, const char *temp, int code, const char *detail)
{
    char shown[4 * PATH_MAX];
    const char *at = *temp ? strstr (detail, temp) : NULL;
    if (at)
        snprintf (shown, sizeof shown, "%.*s%s%s", (int)(at - detail), detail, final,
                  at + strlen (temp));
    else
        snprintf (shown, sizeof shown, "%s", detail);
    if (code == ENOSPC || code == EDQUOT)
        cli_error (
            "init: disk full: no room for a node in %s; nothing was left behind (%s)",
            final, shown);
    else
        cli_error ("init: %s", shown);
}

/* Refuses an existing node and a path too long for the sockets; makes the
 * temporary directory in TEMP. */
static int
init_begin (im_cli_t *cli, char *final, size_t finalsz, char *temp, size_t tempsz)
{
    char path[PATH_MAX + 64], parent[PATH_MAX], name[NAME_MAX + 1], err[512];
    im_dir_path (cli->dir, IM_CONFIG_FILE, path, sizeof path);
    if (access (path, F_OK) == 0) {
        cli_error ("init: a node already exists in %s; not touching it", cli->dir);
        return -1;
    }
    if (init_split (cli->dir, parent, sizeof parent, name, sizeof name) != 0) {
        cli_error ("init: %s: %s", cli->dir, strerror (errno));
        return -1;
    }
    snprintf (final, finalsz, "%s/%s", strcmp (parent, "/") ? parent : "", name);
    if (im_dir_check_length (final, err, sizeof err)) {
        cli_error ("init: %s", err);
        return -1;
    }
    struct stat st;
    int exists = stat (final, &st) == 0 && S_ISDIR (st.st_mode);
    if (!exists && make_dirs (parent) != 0) {
        cli_error ("init: cannot create %s: %s", parent, strerror (errno));
        return -1;
    }
    init_remove_stale (parent, name);
    if (exists)
        init_remove_stale (final, "");
    snprintf (temp, tempsz, "%s/%s%s" INIT_TEMP_TAG "%ld-XXXXXX", exists ? final : parent,
              exists ? "" : ".", exists ? "" : name, (long)getpid ());
    if (!mkdtemp (temp)) {
        int code = errno;
        char why[PATH_MAX + 512]; /* the path (up to PATH_MAX + 256) and the reason */
        snprintf (why, sizeof why, "cannot create a directory in %s: %s",
                  exists ? final : parent, strerror (code));
        init_failed (final, "", code, why);
        return -1;
    }
    return 0;
}

/* Moves the node built in TEMP to FINAL: the directory itself when FINAL
 * does not exist, else its entries, the configuration last. What a failed
 * init left in FINAL (keys, store) is moved aside, never deleted. */
static int
init_place (const char *temp, const char *final)
{
    size_t flen = strlen (final);
    int inside = strncmp (temp, final, flen) == 0 && temp[flen] == '/';
    if (!inside && rename (temp, final) == 0)
        return 0;
    if (!inside && errno != EEXIST && errno != ENOTEMPTY) {
        cli_error ("init: cannot rename %s to %s: %s", temp, final, strerror (errno));
        return -1;
    }
    static const char *const entries[] = { IM_KEYS_DIR, IM_STORE_DIR, IM_CONFIG_FILE };
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        char from[3 * PATH_MAX], to[3 * PATH_MAX], aside[3 * PATH_MAX + 64];
        snprintf (from, sizeof from, "%s/%s", temp, entries[i]);
        snprintf (to, sizeof to, "%s/%s", final, entries[i]);
        snprintf (aside, sizeof aside, "%s.failed-init.%ld", to, (long)time (NULL));
        if (access (to, F_OK) == 0) {
            if (rename (to, aside) != 0) {
                cli_error ("init: cannot move %s aside: %s", to, strerror (errno));
                return -1;
            }
            fprintf (stderr, "intelmesh: init: moved %s, left by a failed init, to %s\n",
                     to, aside);
        }
        if (rename (from, to) != 0) {
            cli_error ("init: cannot rename %s to %s: %s", from, to, strerror (errno));
            return -1;
        }
    }
    rmdir (temp);
    return 0;
}

/* Makes the node's keys, configuration and store in DIR; its card in CARD.
 * Returns 0, or -1 with errno and why in ERR. */
static int
init_build (const char *dir, const init_opts_t *o, char *card, size_t cardsz, char *err,
            size_t errsz)
{
    char store_path[PATH_MAX + 64];
    im_identity_t *id = im_identity_create (dir, err, errsz);
    if (!id)
        return -1;
    int rc = -1;
    im_store_t *store = NULL;
    if (im_config_write_default (dir, o->name, o->listen, o->pub, err, errsz) == 0
        && im_dir_path (dir, IM_STORE_DIR, store_path, sizeof store_path) == 0
        && (store = im_store_new (store_path, 0, im_identity_node (id), err, errsz))
        && im_identity_card (id, o->name, o->listen, card, cardsz) == 0)
        rc = 0;
    im_store_destroy (&store);
    im_identity_destroy (&id);
    return rc;
}

int
cmd_init (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "name", required_argument, NULL, 'n' },
        { "listen", required_argument, NULL, 'l' },
        { "pub", required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = { .help = init_help,
                                     .shortopts = "n:l:p:",
                                     .options = options,
                                     .option = init_option,
                                     .check = init_check };
    init_opts_t o = { .pub = NULL };
    int rc = cli_options (cli, argc, argv, &spec, &o, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    char final[PATH_MAX + NAME_MAX + 2], temp[2 * PATH_MAX], card[IM_CARD_MAX];
    if (init_begin (cli, final, sizeof final, temp, sizeof temp))
        return EXIT_FAIL;
    if (!o.pub) {
        /* A private feed: a socket in the data directory. */
        if (snprintf (o.pub_buf, sizeof o.pub_buf, "ipc://%s/%s", final, IM_FEED_FILE)
            >= (int)sizeof o.pub_buf) {
            cli_error ("init: %s is too long a path for the feed socket", final);
            nftw (temp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
            return EXIT_FAIL;
        }
        o.pub = o.pub_buf;
    }
    char err[2 * PATH_MAX];
    if (init_build (temp, &o, card, sizeof card, err, sizeof err)) {
        int code = errno;
        nftw (temp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        init_failed (final, temp, code, err);
        return EXIT_FAIL;
    }
    if (init_place (temp, final)) {
        nftw (temp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        return EXIT_FAIL;
    }
    printf ("Initialised node '%s' in %s\n", o.name, final);
    printf ("Its card, to give to partners:\n%s\n", card);
    return 0;
}

/* --- id ------------------------------------------------------------------ */

int
cmd_id (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (
        cli, argc, argv,
        "Usage: intelmesh id [-d DIR] [--json]\n"
        "Prints this node's card on one line: 'intelmesh1 NAME NODE-ID\n"
        "CURVE-KEY ENDPOINT', the keys in hex. Give it to partners.\n",
        0, 0, &json);
    if (rc != CLI_GO_ON)
        return rc;
    char err[1024], card[IM_CARD_MAX];
    im_config_t *cfg = cli_config (cli, NULL);
    if (!cfg)
        return EXIT_FAIL;
    im_identity_t *id = im_identity_load (cli->dir, err, sizeof err);
    if (!id) {
        cli_error ("%s", err);
        free (cfg);
        return EXIT_FAIL;
    }
    im_identity_card (id, cfg->name, cfg->listen, card, sizeof card);
    if (json) {
        char node[IM_NODE_HEX_SIZE];
        im_node_format (im_identity_node (id), node);
        json_t *obj = json_pack ("{s:s, s:s, s:s, s:s}", "card", card, "name", cfg->name,
                                 "node", node, "endpoint", cfg->listen);
        cli_print_json (obj);
        json_decref (obj);
    }
    else
        printf ("%s\n", card);
    im_identity_destroy (&id);
    free (cfg);
    return 0;
}

/* --- rotate-keys --------------------------------------------------------- */

typedef struct {
    const char *grace_text;
    int64_t grace; /* 0: the configured one */
} rotate_opts_t;

static int
rotate_option (void *ctx, int opt, const char *arg)
{
    if (opt == 'g')
        ((rotate_opts_t *)ctx)->grace_text = arg;
    return 0;
}

static int
rotate_check (void *ctx, int argc, char **argv)
{
    (void)argc, (void)argv;
    rotate_opts_t *o = ctx;
    if (o->grace_text
        && (im_time_duration (o->grace_text, &o->grace) || o->grace < IM_KEY_GRACE_MIN
            || o->grace > IM_KEY_GRACE_MAX)) {
        cli_error ("rotate-keys: --grace '%s' is not a duration from 5s to 365d "
                   "(like 7d)",
                   o->grace_text);
        return -1;
    }
    return 0;
}

/* A CURVE feed (pub/subscribers) has no grace period: FEED, as ROTATE
 * says, "new key" or "off", or "at start" (not running); NULL without a
 * CURVE feed. */
static void
rotate_feed_note (int json, const char *feed)
{
    if (json || !feed)
        return;
    if (strcmp (feed, "at start") == 0)
        printf ("the CURVE feed serves the new key when intelmeshd starts: its "
                "subscribers need it (intelmesh id; tail --server-key)\n");
    else if (strcmp (feed, "off") == 0)
        printf ("the CURVE feed could not be bound again: it is off until intelmeshd "
                "restarts (see its log)\n");
    else
        printf ("the CURVE feed serves the new key now: its subscribers need it "
                "(intelmesh id; tail --server-key)\n");
}

/* The node runs: it rotates, and tells its peers at once. */
static int
rotate_running (im_cli_t *cli, int64_t grace, int json)
{
    json_t *body
        = grace ? json_pack ("{s:I}", "grace", (json_int_t)grace) : json_object ();
    json_t *reply = cli_request (cli, IM_CTL_ROTATE, body);
    json_decref (body);
    if (!reply)
        return EXIT_FAIL;
    if (json)
        cli_print_json (reply);
    else
        printf ("new CURVE key made; %lld peer(s) are being told; the previous key "
                "works until %s\nnew card: %s\n",
                (long long)json_integer_value (json_object_get (reply, "peers")),
                json_string_value (json_object_get (reply, "previous_until")),
                json_string_value (json_object_get (reply, "card")));
    rotate_feed_note (json, json_string_value (json_object_get (reply, "feed")));
    json_decref (reply);
    return 0;
}

/* Not running: the keys change on disk, and the node tells its peers when it
 * starts. */
static int
rotate_offline (im_cli_t *cli, int64_t grace, int json)
{
    char err[1024], card[IM_CARD_MAX] = "", until[IM_TIME_STR_SIZE] = "";
    im_config_t *cfg = cli_config (cli, "rotate-keys");
    if (!cfg)
        return EXIT_FAIL;
    im_identity_t *id = im_identity_load (cli->dir, err, sizeof err);
    int rc = 0;
    if (!id
        || im_identity_rotate (id, cli->dir, im_time_now (),
                               grace ? grace : cfg->key_grace, err, sizeof err)) {
        cli_error ("rotate-keys: %s", err);
        rc = EXIT_FAIL;
    }
    else {
        im_identity_card (id, cfg->name, cfg->listen, card, sizeof card);
        im_time_format (im_identity_previous_until (id), until);
        if (json) {
            json_t *o = json_pack ("{s:s, s:s, s:I, s:b}", "card", card, "previous_until",
                                   until, "peers", (json_int_t)cfg->npeers, "running", 0);
            cli_print_json (o);
            json_decref (o);
        }
        else
            printf ("new CURVE key made; intelmeshd is not running: its %zu peer(s) are "
                    "told when it starts, before %s\nnew card: %s\n",
                    cfg->npeers, until, card);
        rotate_feed_note (json, *cfg->pub_subscribers ? "at start" : NULL);
    }
    im_identity_destroy (&id);
    free (cfg);
    return rc;
}

int
cmd_rotate_keys (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "grace", required_argument, NULL, 'g' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage = "Usage: intelmesh rotate-keys [-d DIR] [--grace DURATION] [--json]\n"
                 "Makes a new CURVE key pair. The running node tells every peer the\n"
                 "new key, signed with its signing key, and partners' nodes move to it\n"
                 "with no action of their admins; the previous key keeps working for\n"
                 "DURATION (like 7d, 12h; default: keys/grace in the configuration,\n"
                 "else 7d), then it is refused. The signing key (the node id) stays.\n"
                 "When the node is not running, the keys change now and peers are told\n"
                 "when it starts, within the grace period.\n",
        .shortopts = "g:",
        .options = options,
        .json = CLI_JSON,
        .option = rotate_option,
        .check = rotate_check,
    };
    rotate_opts_t o = { NULL, 0 };
    int json = 0;
    int rc = cli_options (cli, argc, argv, &spec, &o, &json);
    if (rc != CLI_GO_ON)
        return rc;
    if (im_pidfile_holder (cli->dir) != 0)
        return rotate_running (cli, o.grace, json);
    return rotate_offline (cli, o.grace, json);
}
