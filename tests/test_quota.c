/* SPDX-License-Identifier: MPL-2.0 */
/* test_quota.c -- unit tests for node/im_quota.c's limit on the lines a
 * peer's messages make (SPEC.md, "HELLO"): PEER_LOG_PER_MIN a minute, then
 * one line that says how many more were held back, since when, and of which
 * kinds. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "im_mesh_int.h"
#include "tap.h"

/* The log, written to a temporary file while the tests run. */
static FILE *logf_;

/* What was logged since the last call, in BUF (cleared). */
static const char *
logged (char *buf, size_t size)
{
    fflush (logf_);
    long end = ftell (logf_);
    size_t n = 0;
    buf[0] = '\0';
    if (end > 0) {
        rewind (logf_);
        n = fread (buf, 1, size - 1, logf_);
        buf[n] = '\0';
    }
    if (freopen (NULL, "w+", logf_) == NULL)
        BAIL_OUT ("cannot empty the log file: %s", strerror (errno));
    zsys_set_logstream (logf_);
    return buf;
}

static peer_t *
peer_named (const char *name)
{
    peer_t *p = calloc (1, sizeof *p);
    if (!p)
        BAIL_OUT ("out of memory");
    snprintf (p->card.name, sizeof p->card.name, "%s", name);
    return p;
}

/* Lines that P's messages make: N of KIND. Returns how many may be logged. */
static int
lines (peer_t *p, const char *kind, int n)
{
    int may = 0;
    for (int i = 0; i < n; i++)
        may += mesh_peer_log (p, kind);
    return may;
}

static void
test_no_kind (void)
{
    char buf[4096];
    peer_t *p = peer_named ("nokind");
    cmp_ok (lines (p, NULL, PEER_LOG_PER_MIN + 3), "==", PEER_LOG_PER_MIN,
            "lines without a kind are limited as any other");
    cmp_ok (p->unlogged, "==", 3, "and the three held back are counted");
    ok (p->unlogged_kind[0] == NULL, "under no kind");
    logged (buf, sizeof buf);
    mesh_peer_log_tick (p, p->log_at + 60000);
    const char *log = logged (buf, sizeof buf);
    ok (strstr (log, "3 more lines about what nokind sent were not logged") != NULL,
        "the summary counts them");
    ok (strstr (log, "(at most 20 a minute a peer); by kind: other kinds 3\n") != NULL,
        "as lines of other kinds");
    free (p);
}

static void
test_minute (void)
{
    char buf[4096];
    peer_t *p = peer_named ("bravo");
    logged (buf, sizeof buf);
    cmp_ok (lines (p, "malformed messages", PEER_LOG_PER_MIN), "==", PEER_LOG_PER_MIN,
            "the first %d lines of a minute may be logged", PEER_LOG_PER_MIN);
    cmp_ok (lines (p, "malformed messages", 1), "==", 0, "the next one may not");
    mesh_peer_log_tick (p, p->log_at + 59999);
    ok (logged (buf, sizeof buf)[0] == '\0',
        "before the minute is over, nothing is said");
    cmp_ok (lines (p, "malformed messages", 29), "==", 0,
            "nor may more lines of the minute be logged");
    cmp_ok (lines (p, "HELLOs refused", 5), "==", 0, "of any kind");
    lines (p, "malformed messages", 10);
    lines (p, "restarts", 1);
    lines (p, "sealed records refused", 2);
    lines (p, "pulls with an answer unread", 3);
    lines (p, "connections", 4);
    cmp_ok (p->unlogged, "==", 1 + 29 + 5 + 10 + 1 + 2 + 3 + 4,
            "every line held back is counted");

    mesh_peer_log_tick (p, p->log_at + 60000);
    const char *log = logged (buf, sizeof buf);
    diag ("%.*s", (int)strcspn (log, "\n"), log);
    ok (strstr (log, "55 more lines about what bravo sent were not logged, from ")
            != NULL,
        "once the minute is over, one line says how many were held back");
    ok (strstr (log, "(at most 20 a minute a peer)") != NULL, "and the limit");
    ok (strstr (log, "; by kind: malformed messages 40, HELLOs refused 5, restarts 1, "
                     "sealed records refused 2, other kinds 7\n")
            != NULL,
        "and how many of each of the first four kinds, in the order they came, and of "
        "the others");
    ok (strchr (log, '\n') == strrchr (log, '\n'), "in one line");
    cmp_ok (p->unlogged, "==", 0, "the count starts again");
    ok (p->unlogged_kind[0] == NULL && p->unlogged_of[0] == 0, "and so do the kinds");

    cmp_ok (lines (p, "restarts", 1), "==", 1, "the next line may be logged");
    mesh_peer_log_tick (p, p->log_at + 60000);
    ok (logged (buf, sizeof buf)[0] == '\0',
        "a minute with nothing held back ends without a line");
    free (p);
}

static const tap_test_t tests[]
    = { TAP_TEST (test_no_kind), TAP_TEST (test_minute), TAP_END };

int
main (int argc, char **argv)
{
    zsys_init ();
    logf_ = tmpfile ();
    if (!logf_)
        BAIL_OUT ("cannot make a log file: %s", strerror (errno));
    zsys_set_logstream (logf_);
    int rc = tap_main (argc, argv, tests);
    zsys_set_logstream (NULL);
    fclose (logf_);
    return rc;
}
