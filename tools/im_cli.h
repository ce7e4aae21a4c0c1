/* SPDX-License-Identifier: MPL-2.0 */
/* im_cli.h -- what the intelmesh subcommands share: the command table's row,
 * the data directory, one option parser, the daemon connection, one pager for
 * LIST-style requests, and error reporting. */
#ifndef IM_CLI_H
#define IM_CLI_H

#include <getopt.h>
#include <limits.h>
#include <stdio.h>

#include <jansson.h>

#include "im_client.h"
#include "im_config.h"

typedef struct {
    const char *dir_opt; /* -d given before the subcommand */
    char dir[PATH_MAX];  /* resolved data directory */
} im_cli_t;

typedef int (cmd_fn) (im_cli_t *cli, int argc, char **argv);

/* A row of the command table: a command, or a family of subcommands
 * ("peer add", "policy set"). Tables end in a row with a NULL name. */
typedef struct cli_command_s cli_command_t;
struct cli_command_s {
    const char *name;
    cmd_fn *fn;                  /* NULL for a family */
    const char *summary;         /* one line, for 'intelmesh --help' */
    const cli_command_t *family; /* a family's subcommands; NULL for a command */
};

/* Exit codes. */
#define EXIT_NOTFOUND 1 /* lookup found nothing */
#define EXIT_FAIL 1     /* the request failed or was refused */
#define EXIT_USAGE 2    /* bad command line */

/* Prints "intelmesh: COMMAND: MESSAGE" on standard error (COMMAND is not
 * repeated when MESSAGE starts with it; none before a command is known). */
void cli_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Names the running command for cli_error: NAME, or "FAMILY NAME". */
void cli_set_command (const char *family, const char *name);

/* Resolves the data directory (a subcommand's -d wins over the global one).
 * Returns 0, or prints why and returns -1. */
int cli_resolve_dir (im_cli_t *cli, const char *dir_opt);

/* --- The option parser --------------------------------------------------- */

/* Whether a subcommand takes --json. */
typedef enum {
    CLI_JSON_NONE,    /* no: --json is an unknown option */
    CLI_JSON,         /* yes: --json and -j */
    CLI_JSON_REFUSED, /* no, and --json says so */
} cli_json_t;

/* What a subcommand declares: its own options and argument counts. -d/--dir,
 * --help and (as JSON says) --json are handled by the parser. */
typedef struct {
    const char *usage;            /* printed by --help */
    void (*help) (void);          /* or this prints it, when USAGE is NULL */
    const char *shortopts;        /* own short options, as getopt wants them */
    const struct option *options; /* own long options, ending in a zero row */
    cli_json_t json;
    int min_args, max_args; /* arguments after the options */
    const char *args_error; /* said when their count is wrong (else
                             * "missing argument" or "unexpected argument") */
    /* Called with each own option (its val and optarg) in command-line order;
     * returns 0, or -1 for a usage error it has reported. */
    int (*option) (void *ctx, int opt, const char *arg);
    /* Called once the arguments are counted, before the directory is
     * resolved, with the arguments; returns 0, or -1 for a usage error it
     * has reported. */
    int (*check) (void *ctx, int argc, char **argv);
} cli_spec_t;

/* Parses ARGV (ARGV[0] is the subcommand) as SPEC says: options (CTX goes to
 * SPEC's callbacks; *JSON is set by --json), then the argument count, SPEC's
 * check, and the data directory. The arguments are left at ARGV[optind].
 * Returns CLI_GO_ON to carry on, or the exit status the subcommand should
 * return now (0 after --help). */
#define CLI_GO_ON (-1)
int cli_options (im_cli_t *cli, int argc, char **argv, const cli_spec_t *spec, void *ctx,
                 int *json);

/* The parser for a subcommand with no options of its own: -d DIR, --help
 * (which prints USAGE) and, when JSON is given, --json; from MIN_ARGS to
 * MAX_ARGS arguments. Returns as cli_options does. */
int cli_basic_options (im_cli_t *cli, int argc, char **argv, const char *usage,
                       int min_args, int max_args, int *json);

/* Parses a whole number in [MIN, MAX] for option NAME; prints why on error. */
int cli_number (const char *name, const char *text, long min, long max, long *out);

/* --- The node and its daemon --------------------------------------------- */

/* Loads the node's configuration (the caller frees it). Prints "WHAT: why"
 * (just the reason when WHAT is NULL) and returns NULL when it cannot. */
im_config_t *cli_config (im_cli_t *cli, const char *what);

/* Connects to the daemon; prints why and returns NULL when it cannot. */
im_client_t *cli_connect (im_cli_t *cli);

/* Appends to OUT the node ids (hex) of NAMES, each a peer's name on the
 * trust list or a node id. Returns 0, or -1 having said why (WHAT opens the
 * message). */
int cli_node_ids (im_cli_t *cli, const char *what, json_t *names, json_t *out);
/* Calls the daemon; prints the reason and returns NULL on failure. */
json_t *cli_call (im_client_t *client, im_ctl_cmd_t command, json_t *body);

/* One request on a connection of its own: connects, calls COMMAND with BODY
 * (borrowed; NULL: an empty object) and disconnects. Prints why and returns
 * NULL when the daemon cannot be reached or the request failed. */
json_t *cli_request (im_cli_t *cli, im_ctl_cmd_t command, json_t *body);

/* Called with each item of a page; returns 0 to go on, -1 to stop. */
typedef int (cli_item_fn) (json_t *item, void *arg);

/* Pages through a LIST-style COMMAND: IM_CTL_LIST (its "records", IM_CONTROL_
 * LIST_MAX at a time, from the cursor "after") or IM_CTL_SENT (its "sent",
 * from "since"). Sends BODY (changed: the cursor, and LIST's limit), calls FN
 * with each item (borrowed) in order, and asks again while the reply has a
 * "next" cursor. Returns 0, or -1 when a call failed (said on standard
 * error) or FN stopped it. */
int cli_page (im_client_t *client, im_ctl_cmd_t command, json_t *body, cli_item_fn *fn,
              void *arg);

/* Asks a running daemon to reload its configuration and prints what it
 * says; says so when none runs. Returns 0 or EXIT_FAIL. */
int cli_tell_daemon (im_cli_t *cli);

/* Prints JSON compactly on one line of standard output. */
void cli_print_json (json_t *obj);

/* Peer-supplied text made safe to show on a terminal: C0 and C1 controls,
 * DEL and bytes that are not UTF-8 become \xNN; bidirectional controls,
 * zero-width and invisible format characters (U+061C, U+200B-U+200F,
 * U+2028-U+202E, U+2060-U+2069, U+FEFF) become \u{XXXX}; a backslash is
 * doubled. Writes into BUF (BUFSZ bytes, cut with "..." when it is short)
 * and returns BUF; "(none)" for NULL. --json output is never escaped. */
#define CLI_SAFE_MAX 8200 /* enough for any value (IM_VALUE_MAX) escaped */
const char *cli_safe (const char *s, char *buf, size_t bufsz);

/* VALUE of the type named TYPE as one line shows it: a rule (yara, sigma,
 * snort) as its label, quoted, and its size ("\"Regin_Loader\" (312-byte
 * rule)"), anything else as cli_safe() writes it. Returns BUF. */
const char *cli_value (const char *type, const char *value, char *buf, size_t bufsz);

/* Origin names for people (lookup, list, explain): cli_origin_names reads,
 * once, the trust list and this node's id from CLI's directory (nothing when
 * they cannot be read); cli_origin_name then gives for the node id HEX the
 * peer's name on the trust list, this node's name with " (this node)", or
 * else the first 16 hex digits and "...", in BUF. */
void cli_origin_names (im_cli_t *cli);
const char *cli_origin_name (const char *hex, char *buf, size_t bufsz);

#endif
