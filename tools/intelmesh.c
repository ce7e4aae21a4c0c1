/* intelmesh.c -- the intelmesh command: one dispatcher over a table of
 * subcommands (cmd_<name>, in cmd_node.c, cmd_ioc.c, cmd_feed.c, cmd_peer.c and
 * cmd_policy.c), with the
 * data directory and error reporting they share. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_config.h"
#include "intelmesh.h"

static const struct {
    const char *name;
    cmd_fn *fn;
    const char *summary;
} commands[] = {
    { "init", cmd_init, "create a node: keys, configuration and store" },
    { "id", cmd_id, "print this node's card, to give to partners" },
    { "status", cmd_status, "show the running node's health and counts" },
    { "publish", cmd_publish, "sign and publish indicators (one, or many from stdin)" },
    { "revoke", cmd_revoke, "revoke indicators this node published" },
    { "lookup", cmd_lookup, "is this value known, from whom, under which TLP?" },
    { "list", cmd_list, "list stored indicators" },
    { "tail", cmd_tail, "print the node's local feed as JSON lines" },
    { "peer", cmd_peer, "the trust list: peer add, remove, list, set, sent" },
    { "policy", cmd_policy, "sharing policies: policy set, list, show, remove" },
    { "explain", cmd_explain, "does indicator ID go to PEER, and why (or why not)?" },
    { "import", cmd_import, "import indicators from STIX 2.1, MISP or CSV files" },
    { "export", cmd_export, "export indicators as STIX 2.1, MISP or CSV" },
    { "check", cmd_check, "which warninglists hold this value?" },
    { "rotate-keys", cmd_rotate_keys, "make a new CURVE key; peers move to it by themselves" },
    { "reload", cmd_reload, "make the running node read its configuration again" },
    { NULL, NULL, NULL },
};

static void
usage (FILE *out)
{
    fprintf (out, "Usage: intelmesh [-d DIR] COMMAND [OPTIONS] [ARGS]\n\n"
                  "Commands:\n");
    for (int i = 0; commands[i].name; i++)
        fprintf (out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf (out,
             "\nEvery command takes -d DIR (else $INTELMESH_DIR, else /var/lib/intelmesh\n"
             "as root, ~/.local/share/intelmesh otherwise) and --help.\n");
}

void
cli_error (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "intelmesh: ");
    vfprintf (stderr, fmt, ap);
    fprintf (stderr, "\n");
    va_end (ap);
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

int
cli_basic_options (im_cli_t *cli, int argc, char **argv, const char *usage,
                   int min_args, int max_args, int *json)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' }, { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },     { NULL, 0, NULL, 0 },
    };
    const char *dir_opt = NULL;
    int c;
    while ((c = getopt_long (argc, argv, json ? "d:jh" : "d:h", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 'j':
            if (!json) {
                cli_error ("%s: no --json for this command", argv[0]);
                return EXIT_USAGE;
            }
            *json = 1;
            break;
        case 'h': fputs (usage, stdout); return 0;
        default: return EXIT_USAGE;
        }
    }
    if (argc - optind < min_args) {
        cli_error ("%s: missing argument (see --help)", argv[0]);
        return EXIT_USAGE;
    }
    if (argc - optind > max_args) {
        cli_error ("%s: unexpected argument '%s'", argv[0], argv[optind + max_args]);
        return EXIT_USAGE;
    }
    return cli_resolve_dir (cli, dir_opt) ? EXIT_USAGE : CLI_GO_ON;
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
    json_t *reply = im_client_call (client, command, body, IM_CONTROL_TIMEOUT_MS, err, sizeof err);
    if (!reply)
        cli_error ("%s", err);
    return reply;
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

int
cli_number (const char *name, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol (text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        cli_error ("%s: '%s' is not a whole number from %ld to %ld", name, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int
main (int argc, char *argv[])
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    im_cli_t cli = { 0 };
    int c;
    /* '+': stop at the subcommand, whose options are its own. */
    while ((c = getopt_long (argc, argv, "+d:hV", options, NULL)) != -1) {
        switch (c) {
        case 'd': cli.dir_opt = optarg; break;
        case 'h': usage (stdout); return 0;
        case 'V': printf ("intelmesh %s\n", PACKAGE_VERSION); return 0;
        default: usage (stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage (stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[optind];
    if (strcmp (name, "help") == 0) {
        usage (stdout);
        return 0;
    }
    for (int i = 0; commands[i].name; i++)
        if (strcmp (name, commands[i].name) == 0) {
            if (sodium_init () < 0) {
                cli_error ("libsodium failed to initialise");
                return EXIT_FAIL;
            }
            /* Quiet czmq: the CLI reports errors itself. */
            zsys_set_logstream (NULL);
            zsys_init ();
            int sub_argc = argc - optind;
            char **sub_argv = argv + optind;
            optind = 0; /* reinitialise getopt for the subcommand */
            int rc = commands[i].fn (&cli, sub_argc, sub_argv);
            zsys_shutdown ();
            return rc;
        }
    cli_error ("unknown command '%s' (see 'intelmesh --help')", name);
    return EXIT_USAGE;
}
