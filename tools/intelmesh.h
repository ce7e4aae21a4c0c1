/* intelmesh.h -- shared parts of the intelmesh command: the subcommand
 * signature, the data directory every subcommand works on, and helpers for
 * errors and the daemon connection. */
#ifndef INTELMESH_H
#define INTELMESH_H

#include <limits.h>
#include <stdio.h>

#include <jansson.h>

#include "im_client.h"

typedef struct {
    const char *dir_opt; /* -d given before the subcommand */
    char dir[PATH_MAX];  /* resolved data directory */
} im_cli_t;

typedef int (cmd_fn) (im_cli_t *cli, int argc, char **argv);

/* Exit codes. */
#define EXIT_NOTFOUND 1 /* lookup found nothing */
#define EXIT_FAIL 1     /* the request failed or was refused */
#define EXIT_USAGE 2    /* bad command line */

/* Prints "intelmesh: MESSAGE" on standard error. */
void cli_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Resolves the data directory (a subcommand's -d wins over the global one).
 * Returns 0, or prints why and returns -1. */
int cli_resolve_dir (im_cli_t *cli, const char *dir_opt);

/* Parses the options of a subcommand that takes only -d DIR, --help (which
 * prints USAGE) and, when JSON is given, --json; then checks that at least
 * MIN_ARGS and at most MAX_ARGS arguments follow (from optind on) and
 * resolves the data directory. Returns CLI_GO_ON to carry on, or the exit
 * status the subcommand should return now. */
#define CLI_GO_ON (-1)
int cli_basic_options (im_cli_t *cli, int argc, char **argv, const char *usage,
                       int min_args, int max_args, int *json);

/* Connects to the daemon; prints why and returns NULL when it cannot. */
im_client_t *cli_connect (im_cli_t *cli);

/* Calls the daemon; prints the reason and returns NULL on failure. */
json_t *cli_call (im_client_t *client, im_ctl_cmd_t command, json_t *body);

/* Asks a running daemon to reload its configuration and prints what it
 * says; says so when none runs. Returns 0 or EXIT_FAIL. */
int cli_tell_daemon (im_cli_t *cli);

/* Prints JSON compactly on one line of standard output. */
void cli_print_json (json_t *obj);

/* Parses a whole number in [MIN, MAX] for option NAME; prints why on error. */
int cli_number (const char *name, const char *text, long min, long max, long *out);

int cmd_init (im_cli_t *cli, int argc, char **argv);
int cmd_id (im_cli_t *cli, int argc, char **argv);
int cmd_status (im_cli_t *cli, int argc, char **argv);
int cmd_publish (im_cli_t *cli, int argc, char **argv);
int cmd_revoke (im_cli_t *cli, int argc, char **argv);
int cmd_lookup (im_cli_t *cli, int argc, char **argv);
int cmd_list (im_cli_t *cli, int argc, char **argv);
int cmd_tail (im_cli_t *cli, int argc, char **argv);
int cmd_peer (im_cli_t *cli, int argc, char **argv);
int cmd_reload (im_cli_t *cli, int argc, char **argv);
int cmd_policy (im_cli_t *cli, int argc, char **argv);
int cmd_explain (im_cli_t *cli, int argc, char **argv);
int cmd_check (im_cli_t *cli, int argc, char **argv);
int cmd_rotate_keys (im_cli_t *cli, int argc, char **argv);
int cmd_import (im_cli_t *cli, int argc, char **argv);
int cmd_export (im_cli_t *cli, int argc, char **argv);
int peer_set (im_cli_t *cli, int argc, char **argv);
int peer_sent (im_cli_t *cli, int argc, char **argv);

#endif
