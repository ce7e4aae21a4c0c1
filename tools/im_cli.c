/* SPDX-License-Identifier: MPL-2.0 */
/* im_cli.c -- what the intelmesh subcommands share: error reporting, the data
 * directory, the one option parser every subcommand declares its options to,
 * the daemon connection and the pager for LIST-style requests. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <czmq.h>

#include "im_cli.h"
#include "im_config.h"
#include "im_ctl.h"
#include "im_identity.h"
#include "im_ioc.h"
#include "im_util.h"

/* The command running ("status", "peer add"), which errors start with. */
static char cli_command[64];

void
cli_set_command (const char *family, const char *name)
{
    snprintf (cli_command, sizeof cli_command, "%s%s%s", family ? family : "",
              family ? " " : "", name ? name : "");
}

void
cli_error (const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    size_t n = strlen (cli_command);
    if (n && !(strncmp (msg, cli_command, n) == 0 && msg[n] == ':'))
        fprintf (stderr, "intelmesh: %s: %s\n", cli_command, msg);
    else
        fprintf (stderr, "intelmesh: %s\n", msg);
}

int
cli_resolve_dir (im_cli_t *cli, const char *dir_opt)
{
    char given[PATH_MAX], real[PATH_MAX];
    if (im_dir_resolve (dir_opt ? dir_opt : cli->dir_opt, given, sizeof given)) {
        cli_error ("cannot tell the data directory: give -d DIR");
        return -1;
    }
    /* An absolute path, so that the socket the daemon bound is found. */
    snprintf (cli->dir, sizeof cli->dir, "%s", realpath (given, real) ? real : given);
    return 0;
}

/* --- The option parser --------------------------------------------------- */

#define CLI_OPTIONS_MAX 24 /* long options of one subcommand, common ones included */

/* The getopt tables for SPEC: -d/--dir first, then the subcommand's own
 * options, then --json (when it is known) and --help. */
static void
build_options (const cli_spec_t *spec, struct option *options, char *shortopts,
               size_t shortsz)
{
    size_t n = 0;
    options[n++] = (struct option){ "dir", required_argument, NULL, 'd' };
    for (const struct option *o = spec->options; o && o->name && n < CLI_OPTIONS_MAX - 3;
         o++)
        options[n++] = *o;
    if (spec->json != CLI_JSON_NONE)
        options[n++] = (struct option){ "json", no_argument, NULL, 'j' };
    options[n++] = (struct option){ "help", no_argument, NULL, 'h' };
    options[n] = (struct option){ NULL, 0, NULL, 0 };
    snprintf (shortopts, shortsz, ":d:%s%sh", spec->shortopts ? spec->shortopts : "",
              spec->json == CLI_JSON ? "j" : "");
}

int
cli_options (im_cli_t *cli, int argc, char **argv, const cli_spec_t *spec, void *ctx,
             int *json)
{
    struct option options[CLI_OPTIONS_MAX];
    char shortopts[64];
    build_options (spec, options, shortopts, sizeof shortopts);
    const char *dir_opt = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long (argc, argv, shortopts, options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 'j':
            if (spec->json != CLI_JSON || !json) {
                cli_error ("no --json for this command");
                return EXIT_USAGE;
            }
            *json = 1;
            break;
        case 'h':
            if (spec->usage)
                fputs (spec->usage, stdout);
            else
                spec->help ();
            return 0;
        case ':': /* getopt says nothing (opterr is 0, and ':' leads SHORTOPTS) */
            cli_error ("option '%s' needs a value (see --help)", argv[optind - 1]);
            return EXIT_USAGE;
        case '?':
            if (optopt)
                cli_error ("unknown option '-%c' (see --help)", optopt);
            else
                cli_error ("unknown option '%s' (see --help)", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            if (!spec->option || spec->option (ctx, c, optarg))
                return EXIT_USAGE;
        }
    }
    int nargs = argc - optind;
    if (nargs < spec->min_args || nargs > spec->max_args) {
        if (spec->args_error)
            cli_error ("%s", spec->args_error);
        else if (nargs < spec->min_args)
            cli_error ("missing argument (see --help)");
        else
            cli_error ("unexpected argument '%s'", argv[optind + spec->max_args]);
        return EXIT_USAGE;
    }
    if (spec->check && spec->check (ctx, nargs, argv + optind))
        return EXIT_USAGE;
    return cli_resolve_dir (cli, dir_opt) ? EXIT_USAGE : CLI_GO_ON;
}

int
cli_basic_options (im_cli_t *cli, int argc, char **argv, const char *usage, int min_args,
                   int max_args, int *json)
{
    cli_spec_t spec = { .usage = usage,
                        .json = json ? CLI_JSON : CLI_JSON_REFUSED,
                        .min_args = min_args,
                        .max_args = max_args };
    return cli_options (cli, argc, argv, &spec, NULL, json);
}

int
cli_number (const char *name, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol (text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        cli_error ("%s: '%s' is not a whole number from %ld to %ld", name, text, min,
                   max);
        return -1;
    }
    *out = v;
    return 0;
}

/* --- The node and its daemon --------------------------------------------- */

im_config_t *
cli_config (im_cli_t *cli, const char *what)
{
    im_config_t *cfg = malloc (sizeof *cfg);
    char err[1024];
    if (!cfg || im_config_load (cli->dir, cfg, err, sizeof err)) {
        if (what)
            cli_error ("%s: %s", what, cfg ? err : "out of memory");
        else
            cli_error ("%s", cfg ? err : "out of memory");
        free (cfg);
        return NULL;
    }
    return cfg;
}

im_client_t *
cli_connect (im_cli_t *cli)
{
    char err[1024];
    im_client_t *client = im_client_new (cli->dir, err, sizeof err);
    if (!client)
        cli_error ("%s", err);
    return client;
}

json_t *
cli_call (im_client_t *client, im_ctl_cmd_t command, json_t *body)
{
    char err[1024];
    json_t *reply
        = im_client_call (client, command, body, IM_CONTROL_TIMEOUT_MS, err, sizeof err);
    if (!reply)
        cli_error ("%s", err);
    return reply;
}

json_t *
cli_request (im_cli_t *cli, im_ctl_cmd_t command, json_t *body)
{
    im_client_t *client = cli_connect (cli);
    if (!client)
        return NULL;
    json_t *empty = body ? NULL : json_object ();
    json_t *reply = cli_call (client, command, body ? body : empty);
    json_decref (empty);
    im_client_destroy (&client);
    return reply;
}

/* The LIST-style commands: where a reply's items are, the request's cursor
 * and the type of the reply's "next" that continues. */
static const struct {
    im_ctl_cmd_t command;
    const char *items, *cursor;
    json_type next_type;
    int limit; /* sent as "limit" when not 0 */
} pages[] = {
    { IM_CTL_LIST, "records", "after", JSON_STRING, IM_CONTROL_LIST_MAX },
    { IM_CTL_SENT, "sent", "since", JSON_INTEGER, 0 },
};

int
cli_page (im_client_t *client, im_ctl_cmd_t command, json_t *body, cli_item_fn *fn,
          void *arg)
{
    size_t p = 0;
    while (p < sizeof pages / sizeof pages[0] && pages[p].command != command)
        p++;
    if (p == sizeof pages / sizeof pages[0]) {
        cli_error ("%s is not a paged request", im_ctl_name (command));
        errno = EINVAL;
        return -1;
    }
    if (pages[p].limit)
        json_object_set_new (body, "limit", json_integer (pages[p].limit));
    for (;;) {
        json_t *reply = cli_call (client, command, body);
        if (!reply)
            return -1;
        json_t *items = json_object_get (reply, pages[p].items);
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < json_array_size (items); i++)
            rc = fn (json_array_get (items, i), arg);
        json_t *next = json_object_get (reply, "next");
        int more = rc == 0 && next && json_typeof (next) == pages[p].next_type;
        if (more)
            json_object_set (body, pages[p].cursor, next);
        json_decref (reply);
        if (!more)
            return rc ? -1 : 0;
    }
}

int
cli_tell_daemon (im_cli_t *cli)
{
    if (im_pidfile_holder (cli->dir) == 0) {
        printf ("intelmeshd is not running: the change applies when it starts\n");
        return 0;
    }
    json_t *reply = cli_request (cli, IM_CTL_RELOAD, NULL);
    if (!reply)
        return EXIT_FAIL;
    const char *note = json_string_value (json_object_get (reply, "note"));
    printf ("the running node now has %lld peers%s%s\n",
            (long long)json_integer_value (json_object_get (reply, "peers")),
            note ? "; " : "", note ? note : "");
    json_decref (reply);
    return 0;
}

void
cli_print_json (json_t *obj)
{
    char *text = json_dumps (obj, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text) {
        printf ("%s\n", text);
        free (text);
    }
}

const char *
cli_value (const char *type, const char *value, char *buf, size_t bufsz)
{
    char label[IM_LABEL_MAX + 1], safe[4 * IM_LABEL_MAX + 16];
    int t = type ? im_type_parse (type) : -1;
    if (!value || t <= 0 || !im_type_info (t)->labelled
        || im_type_label (t, value, label, sizeof label) != 0 || bufsz < 16)
        return cli_safe (value, buf, bufsz);
    snprintf (buf, bufsz, "\"%s\" (%zu-byte rule)", cli_safe (label, safe, sizeof safe),
              strlen (value));
    return buf;
}

const char *
cli_safe (const char *s, char *buf, size_t bufsz)
{
    if (!buf || bufsz < 16)
        return "";
    if (!s) {
        snprintf (buf, bufsz, "(none)");
        return buf;
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen (s), i = 0, o = 0;
    while (i < n) {
        char piece[16];
        uint32_t cp = 0;
        size_t len = im_utf8_decode (u + i, n - i, &cp);
        if (len == 0 || cp < 0x20 || cp == 0x7f) { /* a byte of its own */
            snprintf (piece, sizeof piece, "\\x%02X", u[i]);
            len = 1;
        }
        else if (im_utf8_unsafe (cp))
            snprintf (piece, sizeof piece, "\\u{%04X}", (unsigned)cp);
        else if (cp == '\\')
            snprintf (piece, sizeof piece, "\\\\");
        else {
            memcpy (piece, u + i, len);
            piece[len] = 0;
        }
        size_t plen = strlen (piece);
        if (o + plen + 4 > bufsz) {
            memcpy (buf + o, "...", 4);
            return buf;
        }
        memcpy (buf + o, piece, plen);
        o += plen;
        i += len;
    }
    buf[o] = 0;
    return buf;
}

/* --- Origins by name ------------------------------------------------------ */

static im_config_t *origin_cfg; /* the trust list, read once */
static char origin_own[IM_NODE_HEX_SIZE];

void
cli_origin_names (im_cli_t *cli)
{
    char err[1024], path[PATH_MAX + 32];
    if (origin_cfg)
        return;
    origin_cfg = malloc (sizeof *origin_cfg);
    if (origin_cfg && im_config_load (cli->dir, origin_cfg, err, sizeof err) != 0) {
        free (origin_cfg);
        origin_cfg = NULL;
        return;
    }
    /* The node id from the public keys: nothing secret is read. */
    zconfig_t *pub = im_dir_path (cli->dir, IM_PUBLIC_FILE, path, sizeof path) == 0
                         ? zconfig_load (path)
                         : NULL;
    const char *node = pub ? zconfig_get (pub, "sign-public", NULL) : NULL;
    if (node && strlen (node) == IM_NODE_HEX_SIZE - 1)
        snprintf (origin_own, sizeof origin_own, "%s", node);
    zconfig_destroy (&pub);
}

const char *
cli_origin_name (const char *hex, char *buf, size_t bufsz)
{
    uint8_t node[IM_NODE_ID_SIZE];
    if (!hex) {
        snprintf (buf, bufsz, "?");
        return buf;
    }
    if (origin_cfg && *origin_own && strcasecmp (hex, origin_own) == 0) {
        snprintf (buf, bufsz, "%s (this node)", origin_cfg->name);
        return buf;
    }
    int parsed = im_node_parse (hex, node) == 0;
    for (size_t i = 0; parsed && origin_cfg && i < origin_cfg->npeers; i++)
        if (memcmp (origin_cfg->peers[i].card.node, node, IM_NODE_ID_SIZE) == 0) {
            snprintf (buf, bufsz, "%s", origin_cfg->peers[i].card.name);
            return buf;
        }
    snprintf (buf, bufsz, "%.16s...", hex);
    return buf;
}

int
cli_node_ids (im_cli_t *cli, const char *what, json_t *names, json_t *out)
{
    im_config_t *cfg = cli_config (cli, what);
    if (!cfg)
        return -1;
    for (size_t i = 0; i < json_array_size (names); i++) {
        const char *name = json_string_value (json_array_get (names, i));
        const im_peer_conf_t *peer = name ? im_config_peer (cfg, name) : NULL;
        uint8_t node[IM_NODE_ID_SIZE];
        char hex[IM_NODE_HEX_SIZE];
        if (!peer && (!name || im_node_parse (name, node))) {
            cli_error ("%s: '%s' is neither a peer on the trust list nor a node id (64 "
                       "hex digits)",
                       what, name ? name : "");
            free (cfg);
            return -1;
        }
        im_node_format (peer ? peer->card.node : node, hex);
        json_array_append_new (out, json_string (hex));
    }
    free (cfg);
    return 0;
}
