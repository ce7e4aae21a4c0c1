/* SPDX-License-Identifier: MPL-2.0 */
/* intelmesh.c -- the intelmesh command: main() and one dispatcher over the
 * table of subcommands (cmd_<name> in tools/cmd_*.c; the families "peer" and
 * "policy" have tables of their own). */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "intelmesh.h"

static const cli_command_t commands[] = {
    { "init", cmd_init, "create a node: keys, configuration and store", NULL },
    { "id", cmd_id, "print this node's card, to give to partners", NULL },
    { "status", cmd_status, "show the running node's health and counts", NULL },
    { "publish", cmd_publish, "sign and publish indicators (one, or many from stdin)",
      NULL },
    { "revoke", cmd_revoke, "revoke indicators this node published", NULL },
    { "lookup", cmd_lookup, "is this value known, from whom, under which TLP?", NULL },
    { "list", cmd_list, "list stored indicators", NULL },
    { "tail", cmd_tail, "print the node's local feed as JSON lines", NULL },
    { "peer", NULL, "the trust list: peer add, remove, list, set, sent",
      cmd_peer_family },
    { "policy", NULL, "sharing policies: policy set, list, show, remove",
      cmd_policy_family },
    { "taxii", NULL, "TAXII server clients: taxii add-client, list, remove",
      cmd_taxii_family },
    { "report", NULL, "reports: report create, add, remove, show, list, revoke",
      cmd_report_family },
    { "exercise", NULL,
      "joint exercises: exercise create, join, list, show, act, score, report, run, end",
      cmd_exercise_family },
    { "sight", cmd_sight, "say this node saw an indicator (sent to its origin)", NULL },
    { "sightings", cmd_sightings, "who saw an indicator: count, when, source", NULL },
    { "explain", cmd_explain, "does indicator ID go to PEER, and why (or why not)?",
      NULL },
    { "import", cmd_import, "import indicators from STIX 2.1, MISP or CSV files", NULL },
    { "export", cmd_export, "export indicators as STIX 2.1, MISP or CSV", NULL },
    { "check", cmd_check, "which warninglists hold this value?", NULL },
    { "rotate-keys", cmd_rotate_keys,
      "make a new CURVE key; peers move to it by themselves", NULL },
    { "reload", cmd_reload, "make the running node read its configuration again", NULL },
    { "stop", cmd_stop, "stop the running node cleanly, and wait until it has", NULL },
    { NULL, NULL, NULL, NULL },
};

static void
usage (FILE *out)
{
    fprintf (out, "Usage: intelmesh [-d DIR] COMMAND [OPTIONS] [ARGS]\n\n"
                  "Commands:\n");
    for (int i = 0; commands[i].name; i++)
        fprintf (out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf (
        out,
        "\nEvery command takes -d DIR (else $INTELMESH_DIR, else /var/lib/intelmesh\n"
        "as root, ~/.local/share/intelmesh otherwise) and --help.\n");
}

/* The edit distance (insertions, deletions, substitutions and swaps of two
 * neighbours, each 1) between A and B, both under 32 bytes; else 99. */
static int
edit_distance (const char *a, const char *b)
{
    enum { N = 32 };
    size_t la = strlen (a), lb = strlen (b);
    if (la >= N || lb >= N)
        return 99;
    int d[N][N];
    for (size_t i = 0; i <= la; i++)
        for (size_t j = 0; j <= lb; j++) {
            if (i == 0 || j == 0) {
                d[i][j] = (int)(i + j);
                continue;
            }
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
                && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

/* The name in TABLE nearest NAME, when near enough to be a typing mistake
 * (at most 2 edits, fewer than half its letters), or the only one it
 * begins; else NULL. */
static const char *
nearest (const char *name, const cli_command_t *table)
{
    const char *best = NULL;
    int best_d = 3;
    for (int i = 0; table[i].name; i++) {
        int d = edit_distance (name, table[i].name);
        if (d < best_d && 2 * d < (int)strlen (table[i].name)) {
            best = table[i].name;
            best_d = d;
        }
    }
    const char *prefixed = NULL;
    int begun = 0;
    for (int i = 0; !best && table[i].name; i++)
        if (strlen (name) >= 2 && strncmp (table[i].name, name, strlen (name)) == 0) {
            begun++;
            prefixed = table[i].name;
        }
    return best ? best : begun == 1 ? prefixed : NULL;
}

/* "intelmesh FAMILY SUB ...": ARGV[0] is FAMILY. */
static int
run_family (im_cli_t *cli, const cli_command_t *family, int argc, char **argv)
{
    const cli_command_t *subs = family->family;
    if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
        printf ("Usage: intelmesh %s ", family->name);
        for (int i = 0; subs[i].name; i++)
            printf ("%s%s", i ? "|" : "", subs[i].name);
        printf (" [OPTIONS] (see 'intelmesh %s %s --help')\n", family->name,
                subs[0].name);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    for (int i = 0; subs[i].name; i++)
        if (strcmp (argv[1], subs[i].name) == 0) {
            cli_set_command (family->name, subs[i].name);
            return subs[i].fn (cli, argc - 1, argv + 1);
        }
    /* "(add, remove, list, set or sent)" */
    char names[256] = "";
    size_t len = 0;
    for (int i = 0; subs[i].name && len < sizeof names; i++)
        len += (size_t)snprintf (names + len, sizeof names - len, "%s%s",
                                 i == 0             ? ""
                                 : subs[i + 1].name ? ", "
                                                    : " or ",
                                 subs[i].name);
    const char *near = nearest (argv[1], subs);
    cli_error ("%s: unknown subcommand '%s' (%s%s%s%s)", family->name, argv[1], names,
               near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
    return EXIT_USAGE;
}

/* Runs COMMAND with the arguments from its name on. */
static int
run (im_cli_t *cli, const cli_command_t *command, int argc, char **argv)
{
    if (sodium_init () < 0) {
        cli_error ("libsodium failed to initialise");
        return EXIT_FAIL;
    }
    /* Quiet czmq: the CLI reports errors itself. */
    zsys_set_logstream (NULL);
    zsys_init ();
    optind = 0; /* reinitialise getopt for the subcommand */
    cli_set_command (NULL, command->name);
    int rc = command->family ? run_family (cli, command, argc, argv)
                             : command->fn (cli, argc, argv);
    zsys_shutdown ();
    return rc;
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
        if (strcmp (name, commands[i].name) == 0)
            return run (&cli, &commands[i], argc - optind, argv + optind);
    const char *near = nearest (name, commands);
    if (near)
        cli_error ("unknown command '%s': did you mean '%s'? (see 'intelmesh --help')",
                   name, near);
    else
        cli_error ("unknown command '%s' (see 'intelmesh --help')", name);
    return EXIT_USAGE;
}
