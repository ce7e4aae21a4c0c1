/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_exercise_run.c -- the host's side of an exercise run from the command
 * line: `intelmesh exercise score` (the scoreboard, live), `exercise report`
 * (the after-action report) and `exercise run` (a scenario file played at
 * its offsets from the exercise's start). */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "im_exercise_report.h"
#include "im_scenario.h"
#include "im_time.h"
#include "intelmesh.h"

/* The state the node holds of exercise NAME (its host's). */
static json_t *
state_of (im_cli_t *cli, const char *name)
{
    json_t *body = json_pack ("{s:s, s:s}", "action", "state", "name", name);
    json_t *reply = body ? cli_request (cli, IM_CTL_EXERCISE, body) : NULL;
    json_decref (body);
    return reply;
}

static int
score_option (void *ctx, int opt, const char *arg)
{
    long n;
    if (opt == 'w') {
        if (cli_number ("exercise score: --watch", arg, 1, 3600, &n))
            return -1;
        *(long *)ctx = n;
    }
    return 0;
}

static volatile sig_atomic_t stop;
static void
on_signal (int sig)
{
    (void)sig;
    stop = 1;
}

int
cmd_exercise_score (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "watch", required_argument, NULL, 'w' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage = "Usage: intelmesh exercise score [-d DIR] [--json] [--watch SECONDS] "
                 "NAME\n"
                 "The scoreboard of exercise NAME this node hosts: per participant, the\n"
                 "time each inject took to arrive, the time to its first action, its\n"
                 "actions by kind and the injects it never acknowledged. It is read\n"
                 "afresh each time: --watch shows it again every SECONDS until the\n"
                 "exercise is over (or Ctrl-C).\n",
        .options = options,
        .json = CLI_JSON,
        .min_args = 1,
        .max_args = 1,
        .option = score_option,
    };
    long watch = 0;
    int json = 0;
    int rc = cli_options (cli, argc, argv, &spec, &watch, &json);
    if (rc != CLI_GO_ON)
        return rc;
    signal (SIGINT, on_signal);
    signal (SIGTERM, on_signal);
    for (;;) {
        json_t *state = state_of (cli, argv[optind]);
        char err[512];
        json_t *score
            = state ? im_exercise_score (state, im_time_now (), err, sizeof err) : NULL;
        if (state && !score)
            cli_error ("exercise score: %s", err);
        if (score && watch && !json)
            printf ("\033[H\033[J");
        if (score && json)
            cli_print_json (score);
        else if (score)
            im_exercise_score_print (stdout, score);
        fflush (stdout);
        int pending = json_is_true (json_object_get (score, "pending"));
        json_decref (state);
        json_decref (score);
        if (!score)
            return EXIT_FAIL;
        if (!watch || !pending || stop)
            return 0;
        for (long i = 0; i < watch * 10 && !stop; i++)
            usleep (100000);
        if (stop)
            return 0;
    }
}

static int
report_option (void *ctx, int opt, const char *arg)
{
    if (opt == 'o')
        *(const char **)ctx = arg;
    return 0;
}

int
cmd_exercise_report (im_cli_t *cli, int argc, char **argv)
{
    static const struct option options[] = {
        { "output", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    static const cli_spec_t spec = {
        .usage = "Usage: intelmesh exercise report [-d DIR] NAME -o OUTDIR\n"
                 "Writes the after-action report of exercise NAME this node hosts into\n"
                 "OUTDIR (made when absent): summary.md, events.csv (every event) and\n"
                 "timeline-PARTICIPANT.svg (injects, receipts and actions on one time\n"
                 "axis). Write it before the exercise is purged (exercise/retention).\n",
        .shortopts = "o:",
        .options = options,
        .min_args = 1,
        .max_args = 1,
        .option = report_option,
    };
    const char *out = NULL;
    int rc = cli_options (cli, argc, argv, &spec, &out, NULL);
    if (rc == CLI_GO_ON && !out) {
        cli_error ("exercise report: -o OUTDIR is required");
        rc = EXIT_USAGE;
    }
    if (rc != CLI_GO_ON)
        return rc;
    json_t *state = state_of (cli, argv[optind]);
    char err[1024];
    if (!state)
        return EXIT_FAIL;
    rc = im_exercise_report_write (state, out, im_time_now (), err, sizeof err);
    if (rc)
        cli_error ("exercise report: %s", err);
    else
        printf ("wrote %s/summary.md, events.csv and a timeline for each of %zu "
                "participant(s)\n",
                out, json_array_size (json_object_get (state, "participants")));
    json_decref (state);
    return rc ? EXIT_FAIL : 0;
}

/* The node ids of the participants NAMES (names as this node knows its
 * peers, or node ids) among the exercise's PARTS; NULL having said why. */
static json_t *
ids_of (const json_t *names, const json_t *parts, size_t at)
{
    json_t *ids = json_array (), *n;
    size_t i;
    json_array_foreach ((json_t *)names, i, n)
    {
        const char *want = json_string_value (n);
        const char *hex = NULL;
        json_t *p;
        size_t j;
        json_array_foreach ((json_t *)parts, j, p)
        {
            const char *pn = json_string_value (json_object_get (p, "name"));
            const char *ph = json_string_value (json_object_get (p, "node"));
            if (want && ((pn && strcmp (pn, want) == 0) || strcmp (ph, want) == 0))
                hex = ph;
        }
        if (!hex) {
            cli_error ("exercise run: injects[%zu]: '%s' is not a participant of the "
                       "exercise",
                       at, want ? want : "?");
            json_decref (ids);
            return NULL;
        }
        json_array_append_new (ids, json_string (hex));
    }
    return ids;
}

/* Sends inject I of SC (its participants IDS; NULL: all) now. */
static int
play (im_cli_t *cli, const char *name, const json_t *inject, json_t *ids)
{
    json_t *report = json_object_get (inject, "report");
    json_t *item = json_deep_copy (report ? report : inject);
    if (ids)
        json_object_set (item, "recipients", ids);
    int rc = report ? cli_exercise_inject (cli, name, NULL, item, 0)
                    : cli_exercise_inject (cli, name, item, NULL, 0);
    json_decref (item);
    json_t *ind;
    size_t i;
    json_array_foreach (json_object_get (inject, "indicators"), i, ind)
    {
        json_t *copy = json_deep_copy (ind);
        if (ids)
            json_object_set (copy, "recipients", ids);
        rc |= cli_exercise_inject (cli, name, copy, NULL, 0);
        json_decref (copy);
    }
    return rc;
}

int
cmd_exercise_run (im_cli_t *cli, int argc, char **argv)
{
    int rc = cli_basic_options (
        cli, argc, argv,
        "Usage: intelmesh exercise run [-d DIR] NAME SCENARIO-FILE\n"
        "Plays the injects of SCENARIO-FILE (intelmesh(1), EXERCISE SCENARIOS) in\n"
        "exercise NAME this node hosts, each at its offset from the exercise's\n"
        "start (at once when that is past), and prints each inject's id as it\n"
        "goes. Stops at Ctrl-C; what was sent stays sent.\n",
        2, 2, NULL);
    if (rc != CLI_GO_ON)
        return rc;
    const char *name = argv[optind];
    char err[1024];
    im_scenario_t *sc = im_scenario_load (argv[optind + 1], err, sizeof err);
    if (!sc) {
        cli_error ("exercise run: %s", err);
        return EXIT_USAGE;
    }
    json_t *body = json_pack ("{s:s, s:s}", "action", "show", "name", name);
    json_t *show = body ? cli_request (cli, IM_CTL_EXERCISE, body) : NULL;
    json_decref (body);
    json_t *ex = json_object_get (show, "exercise");
    int64_t start = 0, end = 0;
    if (show
        && (im_time_parse (json_string_value (json_object_get (ex, "start")), 0, &start)
            || im_time_parse (json_string_value (json_object_get (ex, "end")), 0, &end)
            || strcmp (json_string_value (json_object_get (ex, "role")), "host"))) {
        cli_error ("exercise run: this node does not host exercise %s", name);
        rc = EXIT_FAIL;
    }
    size_t n = im_scenario_count (sc);
    json_t **ids = calloc (n ? n : 1, sizeof *ids);
    for (size_t i = 0; show && rc == CLI_GO_ON && ids && i < n; i++) {
        const json_t *names = im_scenario_participants (sc, i);
        if (names && !(ids[i] = ids_of (names, json_object_get (ex, "participants"), i)))
            rc = EXIT_USAGE;
    }
    signal (SIGINT, on_signal);
    signal (SIGTERM, on_signal);
    for (size_t i = 0; show && ids && rc == CLI_GO_ON && i < n && !stop; i++) {
        int64_t offset = 0;
        const json_t *inject = im_scenario_inject (sc, i, &offset);
        while (!stop && im_time_now () < start + offset)
            usleep (100000);
        if (stop)
            break;
        printf ("+%llds ", (long long)offset);
        fflush (stdout);
        if (play (cli, name, inject, ids[i]))
            rc = EXIT_FAIL;
    }
    if (!show)
        rc = EXIT_FAIL;
    for (size_t i = 0; ids && i < n; i++)
        json_decref (ids[i]);
    free (ids);
    json_decref (show);
    im_scenario_destroy (&sc);
    if (stop && rc == CLI_GO_ON)
        cli_error ("exercise run: stopped before the end of the scenario");
    return rc == CLI_GO_ON ? (stop ? EXIT_FAIL : 0) : rc;
}
