/* cmd_node.c -- subcommands about the node itself: init (keys, config,
 * store), id (the node card) and status (health at a glance). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "im_config.h"
#include "im_identity.h"
#include "im_store.h"
#include "im_time.h"
#include "intelmesh.h"

/* mkdir -p with mode 0700 for what it creates. */
static int
make_dirs (const char *path)
{
    char buf[PATH_MAX];
    if (snprintf (buf, sizeof buf, "%s", path) >= (int) sizeof buf) {
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

int
cmd_init (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' }, { "name", required_argument, NULL, 'n' },
        { "listen", required_argument, NULL, 'l' }, { "pub", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },     { NULL, 0, NULL, 0 },
    };
    const char *dir_opt = NULL, *name = NULL, *listen = NULL, *pub = IM_DEFAULT_PUB;
    char host[256], listen_buf[IM_ENDPOINT_MAX], err[1024];
    int c;
    while ((c = getopt_long (argc, argv, "d:n:l:p:h", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 'n': name = optarg; break;
        case 'l': listen = optarg; break;
        case 'p': pub = optarg; break;
        case 'h':
            printf ("Usage: intelmesh init [-d DIR] [--name NAME] [--listen ENDPOINT]\n"
                    "                      [--pub ENDPOINT]\n"
                    "Creates a node in DIR: an Ed25519 signing key (the node id) and a\n"
                    "CURVE key (secrets in DIR/keys, mode 0600), DIR/intelmesh.conf with\n"
                    "commented defaults, and the LMDB store. Refuses to touch an existing\n"
                    "node.\n\n"
                    "  --name NAME        the node's name in its card (default: host name)\n"
                    "  --listen ENDPOINT  the endpoint partners dial, in the card\n"
                    "                     (default tcp://HOSTNAME:%d)\n"
                    "  --pub ENDPOINT     the local PUB feed (default %s)\n",
                    IM_DEFAULT_LISTEN_PORT, IM_DEFAULT_PUB);
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error ("init: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (!name) {
        if (gethostname (host, sizeof host - 1) != 0 || !im_name_valid (host))
            snprintf (host, sizeof host, "intelmesh");
        host[sizeof host - 1] = 0;
        name = host;
    }
    if (!im_name_valid (name)) {
        cli_error ("init: --name '%s' must be 1-64 letters, digits, '.', '_' or '-'", name);
        return EXIT_USAGE;
    }
    if (!listen) {
        default_listen (listen_buf, sizeof listen_buf);
        listen = listen_buf;
    }
    if (!im_endpoint_valid (listen) || strncmp (listen, "tcp://", 6) != 0) {
        cli_error ("init: --listen '%s' is not a tcp://HOST:PORT endpoint", listen);
        return EXIT_USAGE;
    }
    if (!im_endpoint_valid (pub)) {
        cli_error ("init: --pub '%s' is not a tcp://HOST:PORT or ipc://PATH endpoint", pub);
        return EXIT_USAGE;
    }
    if (cli_resolve_dir (cli, dir_opt))
        return EXIT_USAGE;
    char path[PATH_MAX + 64];
    im_dir_path (cli->dir, IM_CONFIG_FILE, path, sizeof path);
    char keys[PATH_MAX + 64];
    im_dir_path (cli->dir, IM_KEYS_DIR, keys, sizeof keys);
    if (access (path, F_OK) == 0 || access (keys, F_OK) == 0) {
        cli_error ("init: a node already exists in %s; not touching it", cli->dir);
        return EXIT_FAIL;
    }
    if (make_dirs (cli->dir) != 0) {
        cli_error ("init: cannot create %s: %s", cli->dir, strerror (errno));
        return EXIT_FAIL;
    }
    char made[PATH_MAX];
    snprintf (made, sizeof made, "%s", cli->dir);
    if (cli_resolve_dir (cli, made))
        return EXIT_FAIL;
    im_identity_t *id = im_identity_create (cli->dir, err, sizeof err);
    if (!id) {
        cli_error ("init: %s", err);
        return EXIT_FAIL;
    }
    int rc = EXIT_FAIL;
    char store_path[PATH_MAX + 64], card[IM_CARD_MAX];
    im_store_t *store = NULL;
    if (im_config_write_default (cli->dir, name, listen, pub, err, sizeof err) != 0)
        cli_error ("init: %s", err);
    else if (im_dir_path (cli->dir, IM_STORE_DIR, store_path, sizeof store_path) != 0
             || !(store = im_store_new (store_path, 0, im_identity_node (id), err,
                                        sizeof err)))
        cli_error ("init: %s", err);
    else if (im_identity_card (id, name, listen, card, sizeof card) == 0) {
        printf ("Initialised node '%s' in %s\n", name, cli->dir);
        printf ("Its card, to give to partners:\n%s\n", card);
        rc = 0;
    }
    im_store_destroy (&store);
    im_identity_destroy (&id);
    return rc;
}

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
    im_config_t cfg;
    if (im_config_load (cli->dir, &cfg, err, sizeof err)) {
        cli_error ("%s", err);
        return EXIT_FAIL;
    }
    im_identity_t *id = im_identity_load (cli->dir, err, sizeof err);
    if (!id) {
        cli_error ("%s", err);
        return EXIT_FAIL;
    }
    im_identity_card (id, cfg.name, cfg.listen, card, sizeof card);
    if (json) {
        char node[IM_NODE_HEX_SIZE];
        im_node_format (im_identity_node (id), node);
        json_t *obj = json_pack ("{s:s, s:s, s:s, s:s}", "card", card, "name", cfg.name,
                                 "node", node, "endpoint", cfg.listen);
        cli_print_json (obj);
        json_decref (obj);
    }
    else
        printf ("%s\n", card);
    im_identity_destroy (&id);
    return 0;
}

static void
human_bytes (uint64_t n, char *out, size_t outsz)
{
    const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double) n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf (out, outsz, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void
human_duration (long long s, char *out, size_t outsz)
{
    if (s < 60)
        snprintf (out, outsz, "%llds", s);
    else if (s < 3600)
        snprintf (out, outsz, "%lldm %llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf (out, outsz, "%lldh %lldm", s / 3600, (s % 3600) / 60);
    else
        snprintf (out, outsz, "%lldd %lldh", s / 86400, (s % 86400) / 3600);
}

#define GET_INT(obj, ...) ((long long) json_integer_value (json_object_get (obj, __VA_ARGS__)))

int
cmd_status (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (
        cli, argc, argv,
        "Usage: intelmesh status [-d DIR] [--json]\n"
        "Shows the running node: identity, uptime, indicators by type and\n"
        "TLP, store size and map use, and refusals.\n",
        0, 0, &json);
    if (rc != CLI_GO_ON)
        return rc;
    im_client_t *client = cli_connect (cli);
    if (!client)
        return EXIT_FAIL;
    json_t *body = json_object ();
    json_t *st = cli_call (client, IM_CTL_STATUS, body);
    json_decref (body);
    im_client_destroy (&client);
    if (!st)
        return EXIT_FAIL;
    if (json) {
        cli_print_json (st);
        json_decref (st);
        return 0;
    }
    json_t *ind = json_object_get (st, "indicators");
    json_t *store = json_object_get (st, "store");
    json_t *counters = json_object_get (st, "counters");
    char up[64], used[32], map[32];
    human_duration (GET_INT (st, "uptime"), up, sizeof up);
    human_bytes ((uint64_t) GET_INT (store, "used_bytes"), used, sizeof used);
    human_bytes ((uint64_t) GET_INT (store, "map_size"), map, sizeof map);
    printf ("node        %s  %s\n", json_string_value (json_object_get (st, "name")),
            json_string_value (json_object_get (st, "node")));
    printf ("running     pid %lld, up %s (since %s), intelmeshd %s\n", GET_INT (st, "pid"),
            up, json_string_value (json_object_get (st, "started")),
            json_string_value (json_object_get (st, "version")));
    printf ("local feed  %s\n", json_string_value (json_object_get (st, "pub")));
    json_t *keys = json_object_get (st, "keys");
    const char *prev_until = json_string_value (json_object_get (keys, "previous_until"));
    if (prev_until)
        printf ("keys        rotated: the previous CURVE key works until %s\n", prev_until);
    if (GET_INT (st, "warninglists"))
        printf ("warnings    %lld warninglists loaded\n", GET_INT (st, "warninglists"));
    printf ("indicators  %lld live, %lld revoked\n", GET_INT (ind, "live"),
            GET_INT (ind, "revoked"));
    const char *key;
    json_t *v;
    printf ("  by type  ");
    int any = 0;
    json_object_foreach (json_object_get (ind, "by_type"), key, v) {
        printf ("%s %s %lld", any ? "," : "", key, (long long) json_integer_value (v));
        any = 1;
    }
    printf ("%s\n  by TLP   ", any ? "" : " none");
    any = 0;
    json_object_foreach (json_object_get (ind, "by_tlp"), key, v) {
        printf ("%s %s %lld", any ? "," : "", key, (long long) json_integer_value (v));
        any = 1;
    }
    printf ("\n  by origin");
    json_t *origins = json_object_get (ind, "by_origin");
    for (size_t i = 0; i < json_array_size (origins); i++) {
        json_t *o = json_array_get (origins, i);
        const char *name = json_string_value (json_object_get (o, "name"));
        printf ("%s %s%.*s %lld", i ? "," : "", name ? name : "",
                name ? 0 : 16, json_string_value (json_object_get (o, "origin")),
                GET_INT (o, "held"));
    }
    if (json_array_size (origins) == 0)
        printf (" none");
    printf ("\nstore       %lld records from %lld origins, %s used of a %s map (%.0f%%)\n",
            GET_INT (store, "records"), GET_INT (store, "origins"), used, map,
            GET_INT (store, "map_size")
                ? 100.0 * (double) GET_INT (store, "used_bytes") / (double) GET_INT (store, "map_size")
                : 0.0);
    printf ("activity    %lld published, %lld revoked, %lld refused, %lld malformed requests\n",
            GET_INT (counters, "published"), GET_INT (counters, "revoked"),
            GET_INT (counters, "refused"), GET_INT (counters, "bad_requests"));
    json_t *peers = json_object_get (st, "peers");
    printf ("peers       %zu on the trust list\n", json_array_size (peers));
    for (size_t i = 0; i < json_array_size (peers); i++) {
        json_t *p = json_array_get (peers, i);
        const char *contact = json_string_value (json_object_get (p, "last_contact"));
        printf ("  %-12s %-9s last contact %s, lag %lld in / %lld out, %lld received, "
                "%lld sent\n",
                json_string_value (json_object_get (p, "name")),
                json_is_true (json_object_get (p, "connected")) ? "connected" : "down",
                contact ? contact : "never", GET_INT (p, "lag_in"), GET_INT (p, "lag_out"),
                GET_INT (p, "received"), GET_INT (p, "sent"));
    }
    any = 0;
    printf ("refusals   ");
    json_object_foreach (json_object_get (st, "refusals"), key, v) {
        printf ("%s %s %lld", any ? "," : "", key, (long long) json_integer_value (v));
        any = 1;
    }
    printf ("%s\n", any ? "" : " none");
    json_decref (st);
    return 0;
}

int
cmd_rotate_keys (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' }, { "grace", required_argument, NULL, 'g' },
        { "json", no_argument, NULL, 'j' },     { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir_opt = NULL, *grace_text = NULL;
    int json = 0, c;
    while ((c = getopt_long (argc, argv, "d:g:jh", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 'g': grace_text = optarg; break;
        case 'j': json = 1; break;
        case 'h':
            printf ("Usage: intelmesh rotate-keys [-d DIR] [--grace DURATION] [--json]\n"
                    "Makes a new CURVE key pair. The running node tells every peer the\n"
                    "new key, signed with its signing key, and partners' nodes move to it\n"
                    "with no action of their admins; the previous key keeps working for\n"
                    "DURATION (like 7d, 12h; default: keys/grace in the configuration,\n"
                    "else 7d), then it is refused. The signing key (the node id) stays.\n"
                    "When the node is not running, the keys change now and peers are told\n"
                    "when it starts, within the grace period.\n");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error ("rotate-keys: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    int64_t grace = 0;
    if (grace_text) {
        if (im_time_duration (grace_text, &grace) || grace < IM_KEY_GRACE_MIN
            || grace > IM_KEY_GRACE_MAX) {
            cli_error ("rotate-keys: --grace '%s' is not a duration from 5s to 365d "
                       "(like 7d)", grace_text);
            return EXIT_USAGE;
        }
    }
    if (cli_resolve_dir (cli, dir_opt))
        return EXIT_USAGE;
    char err[1024], card[IM_CARD_MAX] = "", until[IM_TIME_STR_SIZE] = "";
    if (im_pidfile_holder (cli->dir) != 0) {
        im_client_t *client = cli_connect (cli);
        if (!client)
            return EXIT_FAIL;
        json_t *body = grace ? json_pack ("{s:I}", "grace", (json_int_t) grace)
                             : json_object ();
        json_t *reply = cli_call (client, IM_CTL_ROTATE, body);
        json_decref (body);
        im_client_destroy (&client);
        if (!reply)
            return EXIT_FAIL;
        if (json)
            cli_print_json (reply);
        else
            printf ("new CURVE key made; %lld peer(s) are being told; the previous key "
                    "works until %s\nnew card: %s\n",
                    (long long) json_integer_value (json_object_get (reply, "peers")),
                    json_string_value (json_object_get (reply, "previous_until")),
                    json_string_value (json_object_get (reply, "card")));
        json_decref (reply);
        return 0;
    }
    /* Not running: the keys change on disk, and the node tells its peers
     * when it starts. */
    im_config_t *cfg = malloc (sizeof *cfg);
    if (!cfg || im_config_load (cli->dir, cfg, err, sizeof err)) {
        cli_error ("rotate-keys: %s", cfg ? err : "out of memory");
        free (cfg);
        return EXIT_FAIL;
    }
    im_identity_t *id = im_identity_load (cli->dir, err, sizeof err);
    int rc = 0;
    if (!id || im_identity_rotate (id, cli->dir, im_time_now (),
                                   grace ? grace : cfg->key_grace, err, sizeof err)) {
        cli_error ("rotate-keys: %s", err);
        rc = EXIT_FAIL;
    }
    else {
        im_identity_card (id, cfg->name, cfg->listen, card, sizeof card);
        im_time_format (im_identity_previous_until (id), until);
        if (json) {
            json_t *o = json_pack ("{s:s, s:s, s:I, s:b}", "card", card, "previous_until",
                                   until, "peers", (json_int_t) cfg->npeers, "running", 0);
            cli_print_json (o);
            json_decref (o);
        }
        else
            printf ("new CURVE key made; intelmeshd is not running: its %zu peer(s) are "
                    "told when it starts, before %s\nnew card: %s\n",
                    cfg->npeers, until, card);
    }
    im_identity_destroy (&id);
    free (cfg);
    return rc;
}
