/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_stop.c -- `intelmesh stop`: asks the running daemon to stop (SIGTERM,
 * as the pid file's lock names it) and waits, for a bounded time, until it
 * has let go of the data directory's lock. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "im_config.h"
#include "im_dir.h"
#include "intelmesh.h"

#define STOP_WAIT_DEFAULT 30 /* seconds */

static int
stop_option (void *ctx, int opt, const char *arg)
{
    long v;
    if (opt != 't')
        return 0;
    if (cli_number ("stop: --timeout", arg, 1, 3600, &v))
        return -1;
    *(long *)ctx = v;
    return 0;
}

/* Whether process PID has exited: gone, or a zombie its parent has not
 * reaped yet. */
static int
exited (pid_t pid)
{
    if (kill (pid, 0) != 0 && errno == ESRCH)
        return 1;
    char path[64], buf[512];
    snprintf (path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return errno == ENOENT;
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[n] = '\0';
    const char *paren = strrchr (buf, ')'); /* the name may hold spaces */
    return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

int
cmd_stop (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "timeout", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage = "Usage: intelmesh stop [-d DIR] [--timeout SECONDS]\n"
                 "Stops the running node cleanly (as SIGTERM does) and waits until it\n"
                 "has stopped, at most SECONDS (default 30). Exits 0 once it is\n"
                 "stopped (or when none runs), 1 when it did not stop in time.\n",
        .shortopts = "t:",
        .options = options,
        .json = CLI_JSON_REFUSED,
        .option = stop_option,
    };
    long wait_s = STOP_WAIT_DEFAULT;
    int rc = cli_options (cli, argc, argv, &spec, &wait_s, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    /* "Not running" only when it can tell: a directory it cannot enter, or
     * a pid file it cannot read, is said as such (a script's `stop &&
     * upgrade` must not go on against a live daemon). */
    char err[1024];
    if (im_dir_usable (cli->dir, NULL, X_OK, err, sizeof err)
        || im_dir_usable (cli->dir, IM_CONFIG_FILE, R_OK, err, sizeof err)
        || (im_dir_usable (cli->dir, IM_PID_FILE, R_OK, err, sizeof err)
            && errno != ENOENT)) {
        cli_error ("stop: %s", err);
        return EXIT_FAIL;
    }
    pid_t pid = im_pidfile_holder (cli->dir);
    if (pid <= 0) {
        printf ("intelmeshd is not running on %s\n", cli->dir);
        return 0;
    }
    if (kill (pid, SIGTERM) != 0) {
        cli_error ("stop: cannot signal intelmeshd (pid %ld): %s", (long)pid,
                   errno == EPERM ? "permission denied (run it as the node's user)"
                                  : strerror (errno));
        return EXIT_FAIL;
    }
    /* Stopped once the lock on the pid file is free and the process has
     * exited (its log file and store closed: the filesystem can be
     * unmounted). */
    const struct timespec tenth = { 0, 100000000L };
    for (long i = 0; i < wait_s * 10; i++) {
        nanosleep (&tenth, NULL);
        if (im_pidfile_holder (cli->dir) != pid && exited (pid)) {
            printf ("intelmeshd (pid %ld) stopped\n", (long)pid);
            return 0;
        }
    }
    cli_error ("stop: intelmeshd (pid %ld) did not stop within %ld s (it is still "
               "running; 'kill -KILL %ld' ends it at once)",
               (long)pid, wait_s, (long)pid);
    return EXIT_FAIL;
}
