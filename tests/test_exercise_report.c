/* SPDX-License-Identifier: MPL-2.0 */
/* test_exercise_report.c -- unit tests for tools/im_exercise_report.c: bad
 * arguments, a table of bad states each refused by name, the exact score of
 * a two-participant exercise (duplicate acks, a median of an even count, a
 * participant that never acks), the same with an inject sent to one
 * participant only ("to"), the terminal table, and the report directory:
 * summary.md, events.csv and the SVG timelines (escaping, formula injection,
 * parsed by a real XML parser), its modes, and refused DIRs. The scenario
 * and the table of bad states are in exercise_scenario.h. */

#include <errno.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "exercise_scenario.h"
#include "exercise_testlib.h"
#include "im_exercise_report.h"
#include "tap.h"
#include "testlib.h"

/* ---- Bad arguments ------------------------------------------------------ */

static void
test_bad_arguments (void)
{
    char err[256] = "";
    json_t *state = load_state ();
    errno = 0;
    ok (im_exercise_score (NULL, AFTER, err, sizeof err) == NULL && errno == EINVAL,
        "score refuses a NULL state");
    ok (strstr (err, "no exercise state"), "and says that no state was given");
    json_t *score = im_exercise_score (state, AFTER, NULL, 0);
    ok (score != NULL, "score works without a message buffer");
    json_t *bad = json_array ();
    errno = 0;
    ok (im_exercise_score (bad, AFTER, NULL, 0) == NULL && errno == EINVAL,
        "score refuses a bad state without a message buffer, with EINVAL");
    errno = 0;
    ok (im_exercise_score_print (NULL, score) == -1 && errno == EINVAL,
        "print refuses a NULL stream");
    FILE *sink = fopen ("/dev/null", "w");
    errno = 0;
    ok (im_exercise_score_print (sink, NULL) == -1 && errno == EINVAL,
        "print refuses a NULL score");
    errno = 0;
    ok (im_exercise_score_print (sink, state) == -1 && errno == EINVAL,
        "print refuses a state given for a score");
    json_t *broken = json_deep_copy (score);
    json_object_del (at (broken, "participants[1]"), "receive");
    errno = 0;
    ok (im_exercise_score_print (sink, broken) == -1 && errno == EINVAL,
        "print refuses a score whose participant has no receive times");
    set (broken, "participants[1]", NULL);
    set (broken, "participants[0].unacknowledged", "[7]");
    errno = 0;
    ok (im_exercise_score_print (sink, broken) == -1 && errno == EINVAL,
        "print refuses a score whose unacknowledged ids are not strings");
    fclose (sink);
    errno = 0;
    ok (im_exercise_report_write (NULL, "/tmp", AFTER, err, sizeof err) == -1
            && errno == EINVAL,
        "report refuses a NULL state");
    errno = 0;
    ok (im_exercise_report_write (state, NULL, AFTER, err, sizeof err) == -1
            && errno == EINVAL && strstr (err, "no report directory"),
        "report refuses a NULL directory, saying so");
    errno = 0;
    ok (im_exercise_report_write (state, "", AFTER, err, sizeof err) == -1
            && errno == EINVAL,
        "report refuses an empty directory name");
    json_decref (broken);
    json_decref (bad);
    json_decref (score);
    json_decref (state);
}

/* ---- Bad states ---------------------------------------------------------- */

static void
test_bad_states (void)
{
    fill_long_values ();
    for (size_t i = 0; i < COUNT (bad_states); i++) {
        const bad_state_t *b = &bad_states[i];
        json_t *state = load_state ();
        if (*b->path)
            set (state, b->path, b->value);
        else {
            json_decref (state);
            state = json_loads (b->value, JSON_DECODE_ANY, NULL);
        }
        char err[512] = "";
        errno = 0;
        json_t *score = im_exercise_score (state, AFTER, err, sizeof err);
        const char *value = b->value ? b->value : "missing";
        ok (score == NULL && errno == EINVAL, "score refuses a state whose %s is %.40s%s",
            *b->path ? b->path : "whole", value, strlen (value) > 40 ? "..." : "");
        if (!ok (strstr (err, b->want) && !strchr (err, '\n'),
                 "and names it in one line: %s", b->want))
            diag ("the message was: %s", err);
        json_decref (score);
        json_decref (state);
    }
}

static void
test_bad_strings (void)
{
    char err[256] = "";
    json_t *state = load_state ();
    json_object_set_new (at (state, "injects[0]"), "label",
                         json_stringn_nocheck ("a\xff", 2));
    ok (im_exercise_score (state, AFTER, err, sizeof err) == NULL && errno == EINVAL
            && strstr (err, "injects[0].label: not valid UTF-8"),
        "score refuses a label that is not UTF-8");
    json_object_set_new (at (state, "injects[0]"), "label", json_stringn ("a\0b", 3));
    ok (im_exercise_score (state, AFTER, err, sizeof err) == NULL && errno == EINVAL
            && strstr (err, "injects[0].label: not valid UTF-8, or holds a NUL"),
        "score refuses a label holding a NUL");
    json_decref (state);

    state = load_state ();
    set (state, "injects[2].id", "\"01900000-0000-7000-8000-00000000000a\"");
    set (state, "events[3].inject", "\"01900000-0000-7000-8000-00000000000A\"");
    json_t *score = im_exercise_score (state, AFTER, err, sizeof err);
    ok (score && json_integer_value (at (score, "participants[0].acknowledged")) == 3,
        "an event names its inject in any case");
    json_decref (score);
    set (state, "injects[1].id", "\"01900000-0000-7000-8000-00000000000A\"");
    ok (im_exercise_score (state, AFTER, err, sizeof err) == NULL && errno == EINVAL
            && strstr (err, "injects[2]: id 01900000-0000-7000-8000-00000000000a is also "
                            "injects[1]'s"),
        "two ids that differ only in case are one id, refused");
    json_decref (state);

    state = load_state ();
    json_t *parts = at (state, "participants");
    for (int i = 3; i <= IM_EXERCISE_PARTICIPANTS_MAX; i++) {
        char node[65], name[16];
        snprintf (node, sizeof node, "%064x", i + 0x1000);
        snprintf (name, sizeof name, "p%d", i);
        json_array_append_new (parts,
                               json_pack ("{s:s,s:s}", "node", node, "name", name));
    }
    score = im_exercise_score (state, AFTER, err, sizeof err);
    if (!ok (score != NULL, "score takes %d participants", IM_EXERCISE_PARTICIPANTS_MAX))
        diag ("%s", err);
    json_decref (score);
    json_array_append_new (parts,
                           json_pack ("{s:s,s:s}", "node", DELTA, "name", "delta"));
    ok (im_exercise_score (state, AFTER, err, sizeof err) == NULL && errno == EINVAL
            && strstr (err, "participants: 65 of them, where 1 to 64 are allowed"),
        "and refuses %d", IM_EXERCISE_PARTICIPANTS_MAX + 1);
    json_decref (state);
}

/* ---- The score ----------------------------------------------------------- */

#define NONE (-1.0) /* null, in score_want */

/* The scenario's score: the number (or null) at each PATH. */
static const struct {
    const char *path;
    double want;
    const char *says;
} score_want[] = {
    { "injects", 3, "the score counts 3 injects" },
    { "participants[0].injects", 3, "bravo was sent 3 injects" },
    { "participants[0].acknowledged", 3,
      "bravo acknowledged 3 (a duplicate ack counts once)" },
    { "participants[0].receive.median_s", 3,
      "bravo's median receive time is 3 s (2, 3, 10 s)" },
    { "participants[0].receive.max_s", 10, "bravo's longest is 10 s" },
    { "participants[0].first_action_s", 25,
      "bravo first acted 25 s after the first sending" },
    { "participants[0].actions.detected", 1, "bravo detected once" },
    { "participants[0].actions.blocked", 1, "blocked once" },
    { "participants[0].actions.mitigated", 1, "mitigated once" },
    { "participants[0].actions.escalated", 0, "and never escalated" },
    { "participants[0].per_inject[0].receive_s", 2,
      "bravo received I1 in 2 s: the earlier of its two acks, though listed last" },
    { "participants[0].per_inject[0].first_action_s", 25, "and acted on it after 25 s" },
    { "participants[0].per_inject[1].receive_s", 3, "bravo received I2 in 3 s" },
    { "participants[0].per_inject[1].first_action_s", 100,
      "and mitigated it after 100 s" },
    { "participants[0].per_inject[2].receive_s", 10, "bravo received I3 in 10 s" },
    { "participants[0].per_inject[2].first_action_s", NONE, "and did nothing about it" },
    { "participants[1].acknowledged", 2, "charlie acknowledged 2 of 3" },
    { "participants[1].receive.median_s", 630.5,
      "charlie's median of 60 and 1201 s is 630.5" },
    { "participants[1].receive.max_s", 1201, "charlie's longest is 1201 s" },
    { "participants[1].first_action_s", 1895,
      "charlie first acted 1895 s after the first" },
    { "participants[1].per_inject[1].first_action_s", 1300,
      "escalating I2 after 1300 s" },
    { "participants[1].per_inject[2].receive_s", NONE,
      "charlie's I3 has no receive time" },
};

static void
test_score (void)
{
    char err[256] = "";
    json_t *state = load_state ();
    json_t *s = im_exercise_score (state, AFTER, err, sizeof err);
    if (!ok (s != NULL, "score takes the two-participant exercise"))
        BAIL_OUT ("score: %s", err);
    is (json_string_value (at (s, "name")), "cyber-shield-26",
        "the score names the exercise");
    ok (json_is_false (at (s, "pending")), "an exercise after its end is not pending");
    is (json_string_value (at (s, "participants[0].name")), "bravo",
        "participants keep the state's order: bravo first");
    is (json_string_value (at (s, "participants[0].per_inject[0].inject")), I1,
        "per_inject goes by time sent: I1 first, though listed second");
    for (size_t i = 0; i < COUNT (score_want); i++)
        if (!ok (score_want[i].want == NONE
                     ? json_is_null (at (s, score_want[i].path))
                     : num_is (s, score_want[i].path, score_want[i].want),
                 "%s", score_want[i].says)) {
            char *got = json_dumps (at (s, score_want[i].path), JSON_ENCODE_ANY);
            diag ("%s is %s", score_want[i].path, got ? got : "absent");
            free (got);
        }
    ok (json_array_size (at (s, "participants[0].unacknowledged")) == 0,
        "bravo left nothing unacknowledged");
    ok (json_array_size (at (s, "participants[1].unacknowledged")) == 1
            && strcmp (json_string_value (at (s, "participants[1].unacknowledged[0]")),
                       I3)
                   == 0,
        "charlie left one inject unacknowledged: I3");
    json_decref (s);
    s = im_exercise_score (state, T0 + 1000, err, sizeof err);
    ok (json_is_true (at (s, "pending")), "an exercise before its end is pending");
    json_decref (s);
    json_decref (state);
}

static void
test_duplicate_acks (void)
{
    json_t *state = load_state ();
    json_t *events = at (state, "events");
    json_array_append_new (events, json_pack ("{s:s,s:s,s:s,s:I}", "participant", CHARLIE,
                                              "inject", I1, "kind", "ack", "at",
                                              (json_int_t)(T0 + 6)));
    json_array_append_new (events, json_pack ("{s:s,s:s,s:s,s:I}", "participant", CHARLIE,
                                              "inject", I1, "kind", "ack", "at",
                                              (json_int_t)(T0 + 3000)));
    json_t *s = im_exercise_score (state, AFTER, NULL, 0);
    ok (num_is (s, "participants[1].per_inject[0].receive_s", 1),
        "of three acks of I1 by charlie (60, 1 and 2995 s), the earliest counts");
    ok (num_is (s, "participants[1].acknowledged", 2),
        "and charlie still acknowledged 2 injects, not 4");
    ok (num_is (s, "participants[1].receive.max_s", 1201),
        "the later duplicates raise no maximum");
    json_decref (s);
    json_decref (state);
}

static void
test_never_acks (void)
{
    json_t *state = load_state ();
    json_array_append_new (at (state, "participants"),
                           json_pack ("{s:s,s:s}", "node", DELTA, "name", "delta"));
    json_t *s = im_exercise_score (state, AFTER, NULL, 0);
    ok (num_is (s, "participants[2].acknowledged", 0), "delta, silent, acknowledged 0");
    ok (json_is_null (at (s, "participants[2].receive.median_s"))
            && json_is_null (at (s, "participants[2].receive.max_s")),
        "delta has no receive times: null, not 0");
    ok (json_is_null (at (s, "participants[2].first_action_s")), "nor a first action");
    ok (json_array_size (at (s, "participants[2].unacknowledged")) == 3,
        "all 3 injects are unacknowledged by delta");
    is (json_string_value (at (s, "participants[2].unacknowledged[2]")), I3,
        "listed by time sent");
    ok (json_is_null (at (s, "participants[2].per_inject[1].receive_s")),
        "delta's per-inject receive times are null");
    json_decref (s);

    set (state, "injects", "[]");
    set (state, "events", "[]");
    s = im_exercise_score (state, AFTER, NULL, 0);
    ok (s && num_is (s, "participants[0].injects", 0)
            && json_array_size (at (s, "participants[0].per_inject")) == 0
            && json_is_null (at (s, "participants[0].first_action_s")),
        "an exercise without injects scores 0 injects and no first action");
    json_decref (s);
    json_decref (state);
}

/* The score of the addressed scenario (I2 to bravo only): the number (or
 * null) at each PATH. */
static const struct {
    const char *path;
    double want;
    const char *says;
} addressed_want[] = {
    { "injects", 3, "the exercise still counts its 3 injects" },
    { "participants[0].injects", 3, "bravo, sent I2 too, was sent 3 injects" },
    { "participants[0].acknowledged", 3, "and acknowledged all 3" },
    { "participants[0].receive.median_s", 3, "its median receive time is still 3 s" },
    { "participants[1].injects", 2, "charlie was sent 2 injects, not I2" },
    { "participants[1].acknowledged", 1, "and acknowledged 1 of them (I1)" },
    { "participants[1].receive.median_s", 60, "charlie's median receive time is 60 s" },
    { "participants[1].receive.max_s", 60, "and its longest 60 s" },
    { "participants[1].first_action_s", 1295,
      "charlie first acted 1295 s after I1, its first inject" },
    { "participants[1].actions.detected", 1, "charlie detected once" },
    { "participants[1].actions.escalated", 0, "and escalated nothing" },
    { "participants[1].per_inject[1].receive_s", NONE,
      "charlie's second inject (I3) has no receive time" },
    { "participants[1].per_inject[1].first_action_s", 100,
      "and charlie acted on I3 after 100 s" },
};

static void
test_addressed (void)
{
    char err[512] = "";
    json_t *state = load_addressed_state ();
    json_t *s = im_exercise_score (state, AFTER, err, sizeof err);
    if (!ok (s != NULL,
             "score takes an inject sent to bravo only, its node in upper case"))
        diag ("%s", err);
    for (size_t i = 0; i < COUNT (addressed_want); i++)
        ok (addressed_want[i].want == NONE
                ? json_is_null (at (s, addressed_want[i].path))
                : num_is (s, addressed_want[i].path, addressed_want[i].want),
            "%s", addressed_want[i].says);
    is (json_string_value (at (s, "participants[0].per_inject[1].inject")), I2,
        "bravo's per_inject lists I2");
    ok (json_array_size (at (s, "participants[1].per_inject")) == 2
            && strcmp (json_string_value (at (s, "participants[1].per_inject[0].inject")),
                       I1)
                   == 0
            && strcmp (json_string_value (at (s, "participants[1].per_inject[1].inject")),
                       I3)
                   == 0,
        "charlie's per_inject lists I1 and I3, not I2");
    ok (json_array_size (at (s, "participants[1].unacknowledged")) == 1
            && strcmp (json_string_value (at (s, "participants[1].unacknowledged[0]")),
                       I3)
                   == 0,
        "charlie's unacknowledged injects are I3 only: I2 was never sent to it");
    json_decref (s);

    add_action (state, CHARLIE, I2, "blocked", 1900);
    errno = 0;
    ok (im_exercise_score (state, AFTER, err, sizeof err) == NULL && errno == EINVAL,
        "score refuses charlie's action on I2, which was not sent to charlie");
    if (!ok (strstr (err, "events[9]: inject " I2 " was not sent to participant "
                          "cccccccccccccccc... (charlie)"),
             "naming the event, the inject and the participant"))
        diag ("the message was: %s", err);
    set (state, "events[9]", NULL);

    /* I1 to bravo only too: charlie's first inject is I3, sent at T0+1200. */
    set (state, "injects[1].to", "[\"" BRAVO "\"]");
    set (state, "events[7]", NULL); /* charlie's ack of I1 */
    s = im_exercise_score (state, AFTER, err, sizeof err);
    ok (num_is (s, "participants[1].injects", 1)
            && num_is (s, "participants[1].first_action_s", 100),
        "with I1 sent to bravo only, charlie's first action counts from I3: 100 s");
    json_decref (s);
    set (state, "injects[2].to", "[\"" BRAVO "\"]");
    set (state, "events[7]", NULL); /* charlie's detection of I3 */
    s = im_exercise_score (state, AFTER, err, sizeof err);
    ok (num_is (s, "participants[1].injects", 0)
            && num_is (s, "participants[1].acknowledged", 0)
            && json_array_size (at (s, "participants[1].per_inject")) == 0
            && json_array_size (at (s, "participants[1].unacknowledged")) == 0
            && json_is_null (at (s, "participants[1].first_action_s")),
        "a participant sent no inject scores 0 of 0, nothing unacknowledged");
    json_decref (s);
    json_decref (state);
}

/* ---- The table ----------------------------------------------------------- */

/* The score as print writes it, into *TEXT (the caller frees it). */
static int
print_to_string (const json_t *score, char **text, size_t *len)
{
    FILE *f = open_memstream (text, len);
    int rc = im_exercise_score_print (f, score);
    fclose (f);
    return rc;
}

static void
test_print (void)
{
    json_t *state = load_state ();
    json_t *s = im_exercise_score (state, AFTER, NULL, 0);
    char *text = NULL, row[512];
    size_t len = 0;
    ok (print_to_string (s, &text, &len) == 0, "print writes the score");
    is (row_of (text, "PARTICIPANT", row, sizeof row),
        "PARTICIPANT ACKNOWLEDGED MEDIAN MAX FIRST ACTION DETECTED BLOCKED MITIGATED "
        "ESCALATED UNACKNOWLEDGED",
        "the table has a header");
    is (row_of (text, "bravo ", row, sizeof row), "bravo 3/3 3s 10s 25s 1 1 1 0 0",
        "bravo's row: 3/3, median 3s, max 10s, first action 25s, 1 1 1 0 actions, 0 "
        "left");
    is (row_of (text, "charlie ", row, sizeof row),
        "charlie 2/3 10m30.5s 20m01s 31m35s 0 0 0 1 1",
        "charlie's row: 2/3, median 10m30.5s, max 20m01s, first action 31m35s, 1 left");
    const char *unack = strstr (text, "Unacknowledged injects");
    ok (unack && strstr (unack, "bravo: none") && strstr (unack, "charlie: 1 of 3")
            && strstr (unack, "    " I3 "\n"),
        "then the unacknowledged injects: none for bravo, I3 for charlie");
    free (text);

    set (s, "participants[0].name", "\"evil\\u001b[2J\\u202e\"");
    int rc = print_to_string (s, &text, &len);
    ok (rc == 0 && !strchr (text, 0x1b) && !strstr (text, "\xe2\x80\xae")
            && strstr (text, "evil?[2J?"),
        "a name that would drive the terminal is shown with '?' instead");
    free (text);
    json_decref (s);
    json_decref (state);
}

/* ---- The report ---------------------------------------------------------- */

static void
check_csv (const char *dir)
{
    char *csv = slurp (dir, "events.csv");
    ok (csv
            && strncmp (csv, "time,participant,inject,kind,action,note,inject_label\r\n",
                        55)
                   == 0,
        "events.csv opens with its header, ended by CRLF");
    cmp_ok (count_of (csv, "\r\n"), "==", 11, "and holds 10 events, duplicate ack too");
    static const char *const rows[][2] = {
        { "\r\n2025-12-03T10:00:07Z,bravo," I1 ",ack,,,ipv4 203.0.113.5\r\n",
          "events go by time: bravo's earlier ack of I1 first, though listed second" },
        { "\r\n2025-12-03T10:00:30Z,bravo," I1
          ",action,detected,'=cmd|' /C calc'!A0,ipv4 203.0.113.5\r\n",
          "a note starting with '=' gets an apostrophe, so no spreadsheet runs it" },
        { "\r\n2025-12-03T10:01:40Z,bravo," I1
          ",action,blocked,\"firewall rule 17, \"\"edge\"\"\",ipv4 203.0.113.5\r\n",
          "a note with a comma and quotes is quoted, its quotes doubled" },
        { "\r\n2025-12-03T10:10:03Z,bravo," I2 ",ack,,," EVIL_CSV "\r\n",
          "the label <script>&\"'|x, y is quoted with its quote doubled" },
        { "\r\n2025-12-03T10:31:40Z,charlie," I2
          ",action,escalated,'-2 to CERT-EU," EVIL_CSV "\r\n",
          "a note starting with '-' is neutralised too" },
    };
    for (size_t i = 0; i < COUNT (rows); i++)
        if (!ok (csv && strstr (csv, rows[i][0]), "%s", rows[i][1]))
            diag ("events.csv:\n%s", csv);
    free (csv);
}

static void
check_summary (const char *dir)
{
    char line[4096];
    char *md = slurp (dir, "summary.md");
    ok (md && strstr (md, "# Exercise cyber-shield-26: after-action report")
            && strstr (md, "- **Start:** 2025-12-03T10:00:00Z")
            && strstr (md, "- **End:** 2025-12-03T11:00:00Z"),
        "summary.md names the exercise and its times in RFC 3339 UTC");
    ok (md
            && strstr (md, "| bravo | `" BRAVO
                           "` | [timeline-bravo.svg](timeline-bravo.svg) |"),
        "it lists the participants with their nodes and timelines");
    is (line_with (md, "| bravo | 3/3", line, sizeof line),
        "| bravo | 3/3 | 3s | 10s | 25s | 1 | 1 | 1 | 0 | 0 |",
        "its scoreboard row for bravo is the score");
    is (line_with (md, "| charlie | 2/3", line, sizeof line),
        "| charlie | 2/3 | 10m30.5s | 20m01s | 31m35s | 0 | 0 | 0 | 1 | 1 |",
        "and its row for charlie too");
    ok (md && strstr (md, EVIL_MD) && !strstr (md, "<script>"),
        "the label <script>&\"'| is written as entities and escapes, never as HTML");
    cmp_ok (md_pipes (line_with (md, "| " I2 " | report", line, sizeof line)), "==", 7,
            "the label's '|' does not split its cell: the injects row has 6 cells");
    const char *unack = md ? strstr (md, "## Unacknowledged injects") : NULL;
    ok (unack && strstr (unack, "### bravo\n\nEvery inject was acknowledged.")
            && strstr (unack,
                       "### charlie\n\n| Sent | Inject | Label |\n| --- | --- | --- |\n"
                       "| 2025-12-03T10:20:00Z | " I3 " | domain evil.example |"),
        "the unacknowledged injects: none of bravo's, I3 of charlie's");
    const char *actions = md ? strstr (md, "## Actions") : NULL;
    ok (actions && strstr (actions, "| 2025-12-03T10:00:30Z | detected | " I1 " | 25s |")
            && strstr (actions, "=cmd\\|' /C calc'\\!A0 |"),
        "each participant's actions are listed, the note's '|' escaped");
    ok (actions && strstr (actions, "### charlie")
            && strstr (actions, "| escalated | " I2),
        "charlie's escalation is listed under charlie");
    free (md);
}

static void
check_svg (const char *dir, const char *name, size_t acks, size_t actions)
{
    char *svg = slurp (dir, name);
    int parsed = xml_parses (dir, name);
    if (parsed < 0)
        diag ("python3 is absent: %s not checked by an XML parser", name);
    else
        ok (parsed == 1, "%s is well-formed XML (python3's minidom parses it)", name);
    ok (svg && strncmp (svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0
            && strstr (svg, "version=\"1.1\"")
            && strstr (svg, "xmlns=\"http://www.w3.org/2000/svg\""),
        "%s is an SVG 1.1 document", name);
    ok (svg && strstr (svg, EVIL_SVG) && !strstr (svg, "<script>"),
        "%s has the label <script>&\"'| XML-escaped", name);
    cmp_ok (count_of (svg, "<polygon"), "==", 3 + 1,
            "%s: a triangle per inject, and the legend's", name);
    cmp_ok (count_of (svg, "<circle"), "==", acks + 1,
            "%s: a circle per acknowledged inject (%zu), and the legend's", name, acks);
    cmp_ok (count_of (svg, "<rect x="), "==", actions + 4,
            "%s: a square per action (%zu), and the legend's 4", name, actions);
    ok (svg && strstr (svg, ">0</text>") && strstr (svg, ">30</text>")
            && strstr (svg, ">60</text>") && !strstr (svg, ">65</text>"),
        "%s: its axis is ticked in minutes, 0 to 60 by 5", name);
    ok (svg && strstr (svg, ">inject sent</text>") && strstr (svg, ">ack</text>")
            && strstr (svg, ">escalated</text>"),
        "%s has a legend", name);
    free (svg);
}

static void
test_report (void)
{
    char tmp[256], dir[512], err[512] = "";
    make_dir (tmp, sizeof tmp, "exrep");
    sub_path (dir, sizeof dir, tmp, "report");
    json_t *state = load_state ();
    int rc = im_exercise_report_write (state, dir, AFTER, err, sizeof err);
    if (!ok (rc == 0, "report writes into a directory it makes"))
        diag ("%s", err);
    cmp_ok (mode_of (tmp, "report"), "==", 0750, "the directory is made with mode 0750");
    static const char *const files[]
        = { "summary.md", "events.csv", "timeline-bravo.svg", "timeline-charlie.svg" };
    for (size_t i = 0; i < COUNT (files); i++)
        cmp_ok (mode_of (dir, files[i]), "==", 0640, "%s is written, mode 0640",
                files[i]);
    check_csv (dir);
    check_summary (dir);
    check_svg (dir, "timeline-bravo.svg", 3, 3);
    check_svg (dir, "timeline-charlie.svg", 2, 1);
    char *svg = slurp (dir, "timeline-bravo.svg");
    ok (svg && strstr (svg, "<title>cyber-shield-26: timeline of bravo</title>"),
        "the timeline's title names the exercise and the participant");
    cmp_ok (
        count_of (svg, "fill=\"#1f77b4\""), "==", 2,
        "bravo's detection is a square in the colour of detections (and the legend's)");
    free (svg);

    rc = im_exercise_report_write (state, dir, T0 + 1000, err, sizeof err);
    ok (rc == 0, "report writes again over an earlier report");
    char *md = slurp (dir, "summary.md");
    ok (md && strstr (md, "(the exercise was still running: the score is not final)"),
        "a report before the end says that the exercise was still running");
    free (md);
    glob_t g;
    char pattern[600];
    snprintf (pattern, sizeof pattern, "%s/.*.tmp.*", dir);
    ok (glob (pattern, 0, NULL, &g) == GLOB_NOMATCH, "no temporary file is left behind");
    globfree (&g);
    json_decref (state);
    remove_dir (tmp);
}

static void
test_report_names (void)
{
    char tmp[256], err[512] = "", line[2048];
    make_dir (tmp, sizeof tmp, "exrep");
    json_t *state = load_state ();
    set (state, "participants[0].name", "\"red team\"");
    set (state, "participants[1].name", "\"red_team\"");
    json_array_append_new (at (state, "participants"),
                           json_pack ("{s:s,s:s}", "node", DELTA, "name", ".hidden"));
    json_array_append_new (at (state, "participants"),
                           json_pack ("{s:s,s:s}", "node", ECHO, "name", "x|y\xc3\xa9"));
    set (state, "injects[2].label", "\"a\\u0001b\\uffffc\\nd\"");
    int rc = im_exercise_report_write (state, tmp, AFTER, err, sizeof err);
    if (!ok (rc == 0,
             "report takes names that are no file names, into an existing directory"))
        diag ("%s", err);
    static const char *const files[]
        = { "timeline-red_team.svg", "timeline-red_team-2.svg", "timeline-_hidden.svg",
            "timeline-x_y_.svg" };
    for (size_t i = 0; i < COUNT (files); i++)
        cmp_ok (mode_of (tmp, files[i]), "==", 0640, "a participant's timeline is %s",
                files[i]);
    char *md = slurp (tmp, "summary.md");
    cmp_ok (md_pipes (line_with (md, "| x\\|y\xc3\xa9 | 0/3", line, sizeof line)),
            "==", 11, "a name holding '|' keeps its scoreboard row at 10 cells");
    ok (md && strstr (md, "| x\\|y\xc3\xa9 | 0/3 |"), "with the '|' escaped");
    ok (strstr (line_with (md, "| " I3 " | ioc", line, sizeof line), "| a\xef\xbf\xbd"
                                                                     "b\xef\xbf\xbf"
                                                                     "c d |"),
        "a label's control character is U+FFFD in Markdown, its line break a space");
    int parsed = xml_parses (tmp, "timeline-red_team.svg");
    if (parsed < 0)
        diag ("python3 is absent: the SVG is not checked by an XML parser");
    else
        ok (parsed == 1, "an SVG whose label holds U+0001 and U+FFFF is still XML");
    free (md);
    json_decref (state);
    remove_dir (tmp);
}

/* The report of the addressed scenario: I2 only where it was sent. */
static void
test_addressed_report (void)
{
    char tmp[256], err[512] = "", line[2048], *text = NULL;
    size_t len = 0;
    make_dir (tmp, sizeof tmp, "exrep");
    json_t *state = load_addressed_state ();
    int rc = im_exercise_report_write (state, tmp, AFTER, err, sizeof err);
    if (!ok (rc == 0, "report writes the exercise with an inject sent to bravo only"))
        diag ("%s", err);
    char *svg = slurp (tmp, "timeline-charlie.svg");
    cmp_ok (count_of (svg, "<polygon"), "==", 2 + 1,
            "charlie's timeline has a triangle for I1 and I3 only, and the legend's");
    ok (svg && !strstr (svg, I2), "and does not mention I2 at all");
    ok (svg && strstr (svg, "2 injects, 1 acknowledged, 1 actions"),
        "its subtitle counts charlie's 2 injects");
    free (svg);
    svg = slurp (tmp, "timeline-bravo.svg");
    cmp_ok (count_of (svg, "<polygon"), "==", 3 + 1,
            "bravo's timeline has a triangle for each of its 3 injects");
    ok (svg && strstr (svg, "<title>inject " I2 " sent"), "I2 among them");
    free (svg);
    char *md = slurp (tmp, "summary.md");
    ok (md
            && strstr (md, "- **Injects:** 3 (2 ioc, 1 report); 1 of them sent to some "
                           "participants only\n"),
        "summary.md says that one inject went to some participants only");
    is (line_with (md, "| charlie | 1/2", line, sizeof line),
        "| charlie | 1/2 | 1m00s | 1m00s | 21m35s | 1 | 0 | 0 | 0 | 1 |",
        "its scoreboard gives charlie 1 of 2 acknowledged, 1 unacknowledged");
    ok (strstr (line_with (md, "| bravo | 3/3", line, sizeof line), "| bravo | 3/3 |"),
        "and bravo 3 of 3");
    ok (strstr (line_with (md, "| " I2 " |", line, sizeof line), "| green | bravo | ")
            && strstr (line_with (md, "| " I1 " |", line, sizeof line),
                       "| amber | every participant | "),
        "its injects table says whom each inject was sent to");
    ok (md
            && strstr (md,
                       "### charlie\n\n| Sent | Inject | Label |\n| --- | --- | --- |\n"
                       "| 2025-12-03T10:20:00Z | " I3
                       " | domain evil.example |\n\n## Actions"),
        "charlie's unacknowledged injects are I3 alone, not I2");
    free (md);
    json_t *s = im_exercise_score (state, AFTER, NULL, 0);
    char row[512];
    ok (print_to_string (s, &text, &len) == 0
            && strcmp (row_of (text, "charlie ", row, sizeof row),
                       "charlie 1/2 1m00s 1m00s 21m35s 1 0 0 0 1")
                   == 0
            && strstr (text, "charlie: 1 of 2\n"),
        "the terminal table gives charlie 1/2 and 1 of 2 unacknowledged");
    free (text);
    json_decref (s);
    json_decref (state);
    remove_dir (tmp);
}

static void
test_report_refused (void)
{
    char tmp[256], path[512], err[1024] = "";
    make_dir (tmp, sizeof tmp, "exrep");
    json_t *state = load_state ();
    sub_path (path, sizeof path, tmp, "plain");
    FILE *f = fopen (path, "w");
    fclose (f);
    errno = 0;
    ok (im_exercise_report_write (state, path, AFTER, err, sizeof err) == -1
            && errno == ENOTDIR,
        "report refuses a DIR that is a regular file");
    ok (strstr (err, path) && strstr (err, "exists and is not a directory"),
        "saying that the path names no directory");
    sub_path (path, sizeof path, tmp, "missing/report");
    errno = 0;
    ok (im_exercise_report_write (state, path, AFTER, err, sizeof err) == -1
            && errno == ENOENT && strstr (err, "the directory above it does not exist"),
        "report refuses a DIR whose parent does not exist, saying so");
    sub_path (path, sizeof path, tmp, "bad");
    set (state, "events[3].inject", "\"01900000-0000-7000-8000-0000000000ff\"");
    errno = 0;
    ok (im_exercise_report_write (state, path, AFTER, err, sizeof err) == -1
            && errno == EINVAL && strstr (err, "events[3]: inject"),
        "report refuses a bad state, naming its element");
    ok (mode_of (tmp, "bad") == -1, "and makes no directory for it");
    set (state, "events[3].inject", "\"" I3 "\"");
    sub_path (path, sizeof path, tmp, "locked");
    mkdir (path, 0500);
    if (geteuid () == 0)
        diag ("running as root: an unwritable DIR cannot be tested");
    else {
        errno = 0;
        ok (im_exercise_report_write (state, path, AFTER, err, sizeof err) == -1
                && errno == EACCES && strstr (err, "cannot be written"),
            "report refuses a DIR it cannot write into");
    }
    chmod (path, 0700);
    json_decref (state);
    remove_dir (tmp);
}

int
main (int argc, char **argv)
{
    static const tap_test_t tests[] = {
        TAP_TEST (test_bad_arguments),
        TAP_TEST (test_bad_states),
        TAP_TEST (test_bad_strings),
        TAP_TEST (test_score),
        TAP_TEST (test_duplicate_acks),
        TAP_TEST (test_never_acks),
        TAP_TEST (test_addressed),
        TAP_TEST (test_print),
        TAP_TEST (test_report),
        TAP_TEST (test_report_names),
        TAP_TEST (test_addressed_report),
        TAP_TEST (test_report_refused),
        TAP_END,
    };
    return tap_main (argc, argv, tests);
}
