/* SPDX-License-Identifier: MPL-2.0 */
/* exercise_scenario.h -- the exercise of tests/test_exercise_report.c:
 * cyber-shield-26, hosted by alpha, with bravo and charlie, three injects and
 * ten events (load_state), the same with an inject sent to bravo only
 * (load_addressed_state), and a table of the ways to break its state, each
 * with the message that must name it. Header-only; included once. */
#ifndef IM_EXERCISE_SCENARIO_H
#define IM_EXERCISE_SCENARIO_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "im_exercise_report.h"
#include "exercise_testlib.h"
#include "tap.h"
#include "testlib.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))
#define END_OF(a) ((a) + COUNT (a))

/* 2025-12-03T10:00:00Z: the exercise's start; it lasts an hour. */
#define T0 INT64_C (1764756000)
#define END (T0 + 3600)
#define AFTER (END + 60)
#define HOST "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define BRAVO "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define CHARLIE "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define DELTA "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define ECHO "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
#define I1 "01900000-0000-7000-8000-000000000001"
#define I2 "01900000-0000-7000-8000-000000000002"
#define I3 "01900000-0000-7000-8000-000000000003"
/* The label of I2, and what each format makes of it. */
#define EVIL_LABEL "<script>&\"'|x, y"
#define EVIL_SVG "&lt;script&gt;&amp;&quot;&apos;|x, y"
#define EVIL_MD "&lt;script&gt;&amp;\"'\\|x, y"
#define EVIL_CSV "\"<script>&\"\"'|x, y\""

/* Injects, listed out of order: sent at T0+5 (I1), T0+600 (I2), T0+1200 (I3). */
typedef struct {
    const char *id, *kind, *label, *tlp;
    int sent; /* since T0 */
} inject_row_t;
static const inject_row_t scenario_injects[] = {
    { I2, "report", EVIL_LABEL, "green", 600 },
    { I1, "ioc", "ipv4 203.0.113.5", "amber", 5 },
    { I3, "ioc", "domain evil.example", "TLP:RED", 1200 },
};

/* bravo acks all three (I1 twice, the later first: 2 s, 3 s, 10 s) and acts
 * three times; charlie acks I1 after 60 s and I2 after 1201 s, never I3, and
 * escalates I2 at T0+1900. */
typedef struct {
    const char *party, *inject, *kind, *action, *note;
    int at; /* since T0 */
} event_row_t;
static const event_row_t scenario_events[] = {
    { BRAVO, I1, "ack", NULL, NULL, 20 },
    { BRAVO, I1, "ack", NULL, NULL, 7 },
    { BRAVO, I2, "ack", NULL, NULL, 603 },
    { BRAVO, I3, "ack", NULL, NULL, 1210 },
    { BRAVO, I1, "action", "detected", "=cmd|' /C calc'!A0", 30 },
    { BRAVO, I1, "action", "blocked", "firewall rule 17, \"edge\"", 100 },
    { BRAVO, I2, "action", "mitigated", NULL, 700 },
    { CHARLIE, I1, "ack", NULL, NULL, 65 },
    { CHARLIE, I2, "ack", NULL, NULL, 1801 },
    { CHARLIE, I2, "action", "escalated", "-2 to CERT-EU", 1900 },
};

/* The exercise cyber-shield-26 of alpha, with bravo and charlie. */
static json_t *
load_state (void)
{
    json_t *s = json_pack ("{s:s,s:{s:s,s:s},s:I,s:I,s:[{s:s,s:s},{s:s,s:s}],s:[],s:[]}",
                           "name", "cyber-shield-26", "host", "node", HOST, "name",
                           "alpha", "start", (json_int_t)T0, "end", (json_int_t)END,
                           "participants", "node", BRAVO, "name", "bravo", "node",
                           CHARLIE, "name", "charlie", "injects", "events");
    for (const inject_row_t *x = scenario_injects; s && x < END_OF (scenario_injects);
         x++)
        json_array_append_new (json_object_get (s, "injects"),
                               json_pack ("{s:s,s:I,s:s,s:s,s:s}", "id", x->id, "sent",
                                          (json_int_t)(T0 + x->sent), "kind", x->kind,
                                          "label", x->label, "tlp", x->tlp));
    for (const event_row_t *r = scenario_events; s && r < END_OF (scenario_events); r++) {
        json_t *e
            = json_pack ("{s:s,s:s,s:s,s:I}", "participant", r->party, "inject",
                         r->inject, "kind", r->kind, "at", (json_int_t)(T0 + r->at));
        if (r->action)
            json_object_set_new (e, "action", json_string (r->action));
        if (r->note)
            json_object_set_new (e, "note", json_string (r->note));
        json_array_append_new (json_object_get (s, "events"), e);
    }
    if (!s)
        BAIL_OUT ("the test state cannot be made");
    return s;
}

/* Appends to STATE's events an action of PARTY on INJECT at T0 + AT. */
static void
add_action (json_t *state, const char *party, const char *inject, const char *action,
            int at)
{
    if (json_array_append_new (json_object_get (state, "events"),
                               json_pack ("{s:s,s:s,s:s,s:s,s:I}", "participant", party,
                                          "inject", inject, "kind", "action", "action",
                                          action, "at", (json_int_t)(T0 + at))))
        BAIL_OUT ("cannot add an action");
}

/* The scenario with I2 (injects[0]) sent to bravo only, its node in upper
 * case: charlie's ack and escalation of I2 (events[8], [9]) are gone, and
 * charlie detects I3 at T0+1300 (events[8]). */
static json_t *
load_addressed_state (void)
{
    json_t *s = load_state ();
    char to[80];
    snprintf (to, sizeof to, "[\"%s\"]", BRAVO);
    for (char *c = to; *c; c++)
        *c = *c == 'b' ? 'B' : *c;
    set (s, "injects[0].to", to);
    set (s, "events[9]", NULL);
    set (s, "events[8]", NULL);
    add_action (s, CHARLIE, I3, "detected", 1300);
    return s;
}

/* Values too long to write out, made by fill_long_values: a label one byte
 * over its limit, and a "to" of one node more than IM_EXERCISE_TO_MAX. */
static char long_label[IM_EXERCISE_LABEL_MAX + 8];
static char long_to[(IM_EXERCISE_TO_MAX + 1) * 67 + 8];

static void
fill_long_values (void)
{
    memset (long_label, 'x', sizeof long_label);
    long_label[0] = '"';
    long_label[IM_EXERCISE_LABEL_MAX + 2] = '"';
    long_label[IM_EXERCISE_LABEL_MAX + 3] = 0;
    size_t o = 0;
    for (int i = 0; i <= IM_EXERCISE_TO_MAX; i++)
        o += (size_t)snprintf (long_to + o, sizeof long_to - o, "%s\"%064x\"",
                               i ? "," : "[", i + 0x1000);
    snprintf (long_to + o, sizeof long_to - o, "]");
}

/* ---- Bad states ---------------------------------------------------------- */

typedef struct {
    const char *path;  /* what is changed; "" is the whole state */
    const char *value; /* its new JSON text; NULL removes it */
    const char *want;  /* in the message */
} bad_state_t;

static const bad_state_t bad_states[] = {
    { "", "[]", "the exercise's state must be an object, not an array" },
    { "name", NULL, "name: missing" },
    { "name", "\"Cyber Shield\"", "name: 'Cyber Shield' is not an exercise name" },
    { "name", "\"-shield\"", "name: '-shield' is not an exercise name" },
    { "name", "\"a234567890123456789012345678901234567890123456789012345678901234\"",
      "name: 64 bytes, over the limit of 63" },
    { "host", NULL, "host: missing" },
    { "host", "\"alpha\"", "host: must be an object, not a string" },
    { "host.node", "\"xyz\"", "host.node: 'xyz' is not a node id" },
    { "host.name", "\"\"", "host.name: must not be empty" },
    { "start", "\"2025-12-03\"", "start: must be an integer (seconds since the epoch)" },
    { "start", "1764756000.5",
      "start: must be an integer (seconds since the epoch), not a "
      "real number" },
    { "start", "-1", "start: -1 is out of range" },
    { "end", "1764756000", "end: 2025-12-03T10:00:00Z is not after start" },
    { "end", NULL, "end: missing" },
    { "participants", "[]", "participants: 0 of them, where 1 to 64 are allowed" },
    { "participants", "{}", "participants: must be an array, not an object" },
    { "participants[1].node", "\"" BRAVO "\"",
      "participants[1]: node bbbbbbbbbbbbbbbb... is also participants[0]'s" },
    { "participants[1].name", "\"bravo\"",
      "participants[1]: name 'bravo' is also participants[0]'s" },
    { "participants[0].name", "\"br\\u0007avo\"",
      "participants[0].name: holds a control or invisible character" },
    { "participants[0].name", "\"br\\u202eavo\"",
      "participants[0].name: holds a control or invisible character" },
    { "participants[0].name",
      "\"a2345678901234567890123456789012345678901234567890123456"
      "789012345\"",
      "participants[0].name: 65 bytes, over the limit of 64" },
    { "participants[1]", "\"charlie\"",
      "participants[1]: must be an object, not a string" },
    { "injects", "{}", "injects: must be an array" },
    { "injects[1].id", "\"not-a-uuid\"", "injects[1].id: 'not-a-uuid' is not a UUID" },
    { "injects[2].id", "\"01900000-0000-7000-8000-000000000002\"",
      "injects[2]: id " I2 " is also injects[0]'s" },
    { "injects[0].sent", "1764755999",
      "injects[0].sent: 2025-12-03T09:59:59Z is outside "
      "the exercise" },
    { "injects[0].sent", "\"soon\"", "injects[0].sent: must be an integer" },
    { "injects[0].kind", "\"rumour\"", "injects[0].kind: 'rumour' is not ioc or report" },
    { "injects[0].tlp", "\"purple\"", "injects[0].tlp: 'purple' is not a TLP label" },
    { "injects[0].tlp", NULL, "injects[0].tlp: missing" },
    { "injects[0].label", "42", "injects[0].label: must be a string, not an integer" },
    { "injects[0].label", NULL, "injects[0].label: missing" },
    { "injects[1].label", long_label,
      "injects[1].label: 2049 bytes, over the limit of 2048" },
    { "injects[1]", "null", "injects[1]: must be an object, not null" },
    /* An inject's "to": the participants it was sent to. */
    { "injects[2].to", "\"" BRAVO "\"",
      "injects[2].to: must be an array of participant nodes, not a string" },
    { "injects[2].to", "null",
      "injects[2].to: must be an array of participant nodes, not null" },
    { "injects[2].to", "[]", "injects[2].to: 0 nodes, where 1 to 64 are allowed" },
    { "injects[2].to", long_to, "injects[2].to: 65 nodes, where 1 to 64 are allowed" },
    { "injects[2].to", "[\"" BRAVO "\", 7]",
      "injects[2].to[1]: must be a string, not an integer" },
    { "injects[2].to", "[\"bravo\"]", "injects[2].to[0]: 'bravo' is not a node id" },
    { "injects[2].to", "[\"" DELTA "\"]",
      "injects[2].to[0]: dddddddddddddddd... is not a participant of this exercise" },
    { "injects[2].to", "[\"" HOST "\"]",
      "injects[2].to[0]: aaaaaaaaaaaaaaaa... is not a participant of this exercise (it "
      "is the host)" },
    { "injects[2].to", "[\"" BRAVO "\", \"" CHARLIE "\", \"" BRAVO "\"]",
      "injects[2].to[2]: bbbbbbbbbbbbbbbb... (bravo) is also injects[2].to[0]" },
    { "events", NULL, "events: missing" },
    { "events[3]", "[]", "events[3]: must be an object, not an array" },
    { "events[3].inject", "\"01900000-0000-7000-8000-0000000000ff\"",
      "events[3]: inject 01900000-0000-7000-8000-0000000000ff is not an inject of this "
      "exercise" },
    { "events[3].inject", "\"0190\"", "events[3].inject: '0190' is not a UUID" },
    { "events[3].participant", "\"" DELTA "\"",
      "events[3]: participant dddddddddddddddd... is not a participant of this "
      "exercise" },
    { "events[3].participant", "\"" HOST "\"", "of this exercise (it is the host)" },
    { "events[3].participant", NULL, "events[3].participant: missing" },
    { "events[3].kind", "\"nack\"", "events[3].kind: 'nack' is not ack or action" },
    { "events[3].action", "\"blocked\"", "events[3].action: an ack has no action" },
    { "events[4].action", "\"deleted\"",
      "events[4].action: 'deleted' is not detected, blocked, mitigated or escalated" },
    { "events[4].action", NULL, "events[4].action: missing" },
    { "events[3].at", "1764757210.0", "events[3].at: must be an integer" },
    { "events[3].at", "1764757199",
      "events[3].at: 2025-12-03T10:19:59Z is before inject "
      "01900000-0000-7000-8000-000000000003 was sent" },
    { "events[3].at", NULL, "events[3].at: missing" },
    { "events[3].note", "7", "events[3].note: must be a string, not an integer" },
    /* I2 (injects[0]) to bravo only, though charlie acked it (events[8]). */
    { "injects[0].to", "[\"" BRAVO "\"]",
      "events[8]: inject " I2 " was not sent to participant cccccccccccccccc... "
      "(charlie)" },
};

#endif
