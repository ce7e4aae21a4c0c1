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
lines (peer_t *p, peer_log_kind_t kind, int n)
{
    int may = 0;
    for (int i = 0; i < n; i++)
        may += mesh_peer_log (p, kind);
    return may;
}

/* The summary P's minute ends with (its log_at a minute on), in BUF. */
static const char *
minute_over (peer_t *p, char *buf, size_t size)
{
    logged (buf, size);
    mesh_peer_log_tick (p, p->log_at + 60000);
    return logged (buf, size);
}

static void
test_bad_kind (void)
{
    char buf[4096];
    peer_t *p = peer_named ("nokind");
    cmp_ok (lines (p, PEER_LOG_KINDS, PEER_LOG_PER_MIN + 3), "==", PEER_LOG_PER_MIN,
            "lines of no known kind are limited as any other");
    cmp_ok (p->unlogged, "==", 3, "and the three held back are counted");
    lines (p, (peer_log_kind_t)-1, 2);
    cmp_ok (p->unlogged, "==", 5, "as are lines of a negative kind");
    const char *log = minute_over (p, buf, sizeof buf);
    ok (strstr (log, "5 more lines about what nokind sent were not logged") != NULL,
        "the summary counts them");
    ok (strstr (log, "(at most 20 a minute a peer)\n") != NULL, "under no kind");
    free (p);
}

static void
test_minute (void)
{
    char buf[4096];
    peer_t *p = peer_named ("bravo");
    logged (buf, sizeof buf);
    cmp_ok (lines (p, PEER_LOG_CONNECT, PEER_LOG_PER_MIN), "==", PEER_LOG_PER_MIN,
            "the first %d lines of a minute may be logged", PEER_LOG_PER_MIN);
    cmp_ok (lines (p, PEER_LOG_MALFORMED, 1), "==", 0, "the next one may not");
    mesh_peer_log_tick (p, p->log_at + 59999);
    ok (logged (buf, sizeof buf)[0] == '\0',
        "before the minute is over, nothing is said");
    cmp_ok (lines (p, PEER_LOG_CONNECT, 4), "==", 0,
            "nor may more lines of the minute be logged");
    cmp_ok (lines (p, PEER_LOG_MALFORMED, 29), "==", 0, "of any kind");
    lines (p, PEER_LOG_RESTART, 1);
    lines (p, PEER_LOG_HELLO, 5);
    lines (p, PEER_LOG_SEALED_OTHER, 10);
    lines (p, PEER_LOG_SERVED_WRITE, 2);
    cmp_ok (p->unlogged, "==", 1 + 4 + 29 + 1 + 5 + 10 + 2,
            "every line held back is counted");

    const char *log = minute_over (p, buf, sizeof buf);
    diag ("%.*s", (int)strcspn (log, "\n"), log);
    ok (strstr (log, "52 more lines about what bravo sent were not logged, from ")
            != NULL,
        "once the minute is over, one line says how many were held back");
    ok (strstr (log, "(at most 20 a minute a peer); by kind: ") != NULL, "and the limit");
    ok (strstr (log,
                "; by kind: failed writes of what was served 2, malformed messages 30, "
                "HELLOs refused 5, records sealed by another than their origin 10, "
                "restarts 1, connections 4\n")
            != NULL,
        "and how many of each kind, every kind held back named, this node's own failures "
        "first and what is only news last, whatever order they came in");
    ok (strchr (log, '\n') == strrchr (log, '\n'), "in one line");
    cmp_ok (p->unlogged, "==", 0, "the count starts again");
    int left = 0;
    for (int k = 0; k < PEER_LOG_KINDS; k++)
        left += p->unlogged_of[k] != 0;
    cmp_ok (left, "==", 0, "and so does every kind's");

    cmp_ok (lines (p, PEER_LOG_RESTART, PEER_LOG_PER_MIN), "==", PEER_LOG_PER_MIN,
            "the next minute may log %d lines again", PEER_LOG_PER_MIN);
    lines (p, PEER_LOG_PULL_START, 1);
    lines (p, PEER_LOG_RESTART, 3);
    log = minute_over (p, buf, sizeof buf);
    ok (strstr (log, " 4 more lines about what bravo sent") != NULL
            && strstr (log, "; by kind: pulls from the start 1, restarts 3\n") != NULL,
        "and its summary counts only its own, of two kinds");

    cmp_ok (lines (p, PEER_LOG_RESTART, 1), "==", 1, "the next line may be logged");
    ok (minute_over (p, buf, sizeof buf)[0] == '\0',
        "a minute with nothing held back ends without a line");
    free (p);
}

static void
test_every_kind (void)
{
    char buf[8192];
    peer_t *p
        = peer_named ("a-peer-whose-name-is-as-long-as-names-may-be-63-characters-long");
    lines (p, PEER_LOG_CONNECT, PEER_LOG_PER_MIN);
    for (int k = PEER_LOG_KINDS - 1; k >= 0; k--)
        lines (p, (peer_log_kind_t)k, 1);
    for (int k = 0; k < PEER_LOG_KINDS; k++)
        p->unlogged_of[k] = 4000000000u; /* the widest a count is written */
    const char *log = minute_over (p, buf, sizeof buf);
    int named = 0;
    const char *at = log;
    for (int k = 0; k < PEER_LOG_KINDS && at; k++)
        if ((at = strstr (at, " 4000000000")) != NULL)
            named++, at++;
    cmp_ok (named, "==", PEER_LOG_KINDS,
            "with every kind held back, each is in the summary, its count whole");
    ok (strstr (log, ", connections 4000000000\n") != NULL, "the line is not cut short");
    free (p);
}

static const tap_test_t tests[] = { TAP_TEST (test_bad_kind), TAP_TEST (test_minute),
                                    TAP_TEST (test_every_kind), TAP_END };

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
