/* SPDX-License-Identifier: MPL-2.0 */
/* test_scenario.c -- unit tests for tools/im_scenario.c, the exercise
 * scenario parser: bad arguments, tables of good and bad files (each bad one
 * with the fragment its message must hold), playing order, the limits, and
 * the shipped doc/scenario-example.json. JSON in the tables is written with
 * ' for " (j() turns them back). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "im_scenario.h"
#include "tap.h"
#include "testlib.h"

#define ERR_SZ 1024

/* TEXT with every ' made a ", in a static buffer (one at a time). */
static const char *
j (const char *text)
{
    static char buf[8192];
    size_t i = 0;
    for (; text[i] && i + 1 < sizeof buf; i++)
        buf[i] = text[i] == '\'' ? '"' : text[i];
    buf[i] = '\0';
    return buf;
}

/* Parses TEXT as "scenario.json". */
static im_scenario_t *
parse (const char *text, char *err)
{
    return im_scenario_parse (text, strlen (text), "scenario.json", err, ERR_SZ);
}

/* The string at KEY of O, or at KEY of its "report" (NULL when absent). */
static const char *
str (const json_t *o, const char *key)
{
    const json_t *v = json_object_get (o, key);
    if (!v)
        v = json_object_get (json_object_get (o, "report"), key);
    return json_string_value (v);
}

static void
test_bad_arguments (void)
{
    char err[ERR_SZ];
    int64_t at = -1;
    errno = 0;
    ok (im_scenario_load (NULL, err, sizeof err) == NULL && errno == EINVAL,
        "load refuses a NULL path");
    errno = 0;
    ok (im_scenario_parse (NULL, 10, "x", err, sizeof err) == NULL && errno == EINVAL,
        "parse refuses NULL text");
    size_t big = (size_t)4 * 1024 * 1024 + 1;
    char *huge = calloc (1, big);
    errno = 0;
    ok (huge && im_scenario_parse (huge, big, "big.json", err, sizeof err) == NULL
            && errno == EFBIG && strstr (err, "big.json: larger than 4 MiB"),
        "parse refuses text larger than 4 MiB, naming it");
    free (huge);
    im_scenario_t *none = NULL;
    im_scenario_destroy (NULL);
    im_scenario_destroy (&none);
    ok (none == NULL, "destroy takes NULL and a NULL scenario");
    ok (im_scenario_count (NULL) == 0, "count of NULL is 0");
    ok (im_scenario_title (NULL) == NULL, "title of NULL is NULL");
    errno = 0;
    ok (im_scenario_inject (NULL, 0, &at) == NULL && errno == EINVAL && at == -1,
        "inject of NULL is NULL with EINVAL, the offset untouched");
    errno = 0;
    ok (im_scenario_participants (NULL, 0) == NULL && errno == EINVAL,
        "participants of NULL is NULL with EINVAL");
    im_scenario_t *s = parse (j ("{'injects': [{'at': 0, 'type': 'md5', 'value': "
                                 "'D41D8CD98F00B204E9800998ECF8427E'}]}"),
                              err);
    ok (s != NULL, "a one-inject scenario parses");
    errno = 0;
    ok (im_scenario_inject (s, 1, NULL) == NULL && errno == EINVAL,
        "inject past the last is NULL with EINVAL");
    errno = 0;
    ok (im_scenario_participants (s, 1) == NULL && errno == EINVAL,
        "participants past the last is NULL with EINVAL");
    ok (im_scenario_inject (s, 0, NULL) != NULL, "inject takes a NULL offset pointer");
    is (im_scenario_title (s), "", "a scenario without a title has title \"\"");
    im_scenario_destroy (&s);
    ok (s == NULL, "destroy sets the pointer to NULL");
    s = im_scenario_parse ("{}", 2, NULL, NULL, 0);
    ok (s == NULL && errno == EINVAL, "parse takes a NULL name and a NULL error buffer");
}

typedef struct {
    const char *what;
    const char *doc;   /* the whole file */
    int64_t at;        /* inject 0's offset */
    const char *type;  /* its "type", or "report" */
    const char *value; /* its normalised value, or the report's title */
    const char *tlp;   /* its label */
} good_t;

static const good_t goods[] = {
    { "an offset in seconds",
      "{'injects': [{'at': '+90s', 'type': 'ipv4', 'value': "
      "'203.0.113.5'}]}",
      90, "ipv4", "203.0.113.5", "amber" },
    { "an offset in minutes",
      "{'injects': [{'at': '+5m', 'type': 'ipv4', 'value': "
      "'203.0.113.5'}]}",
      300, "ipv4", "203.0.113.5", "amber" },
    { "an offset in hours",
      "{'injects': [{'at': '+1h', 'type': 'ipv4', 'value': "
      "'203.0.113.5'}]}",
      3600, "ipv4", "203.0.113.5", "amber" },
    { "an offset of +0s",
      "{'injects': [{'at': '+0s', 'type': 'ipv4', 'value': "
      "'203.0.113.5'}]}",
      0, "ipv4", "203.0.113.5", "amber" },
    { "an integer offset",
      "{'injects': [{'at': 42, 'type': 'ipv4', 'value': "
      "'203.0.113.5'}]}",
      42, "ipv4", "203.0.113.5", "amber" },
    { "an integer offset of 0",
      "{'injects': [{'at': 0, 'type': 'ipv4', 'value': "
      "'203.0.113.5'}]}",
      0, "ipv4", "203.0.113.5", "amber" },
    { "an offset of exactly 30 days, +720h",
      "{'injects': [{'at': '+720h', 'type': "
      "'ipv4', 'value': '203.0.113.5'}]}",
      2592000, "ipv4", "203.0.113.5", "amber" },
    { "an integer offset of exactly 30 days",
      "{'injects': [{'at': 2592000, 'type': "
      "'ipv4', 'value': '203.0.113.5'}]}",
      2592000, "ipv4", "203.0.113.5", "amber" },
    { "a value in its canonical form",
      "{'injects': [{'at': '+1m', 'type': 'DOMAIN', "
      "'value': 'Evil.Example.'}]}",
      60, "domain", "evil.example", "amber" },
    { "a label given as TLP:RED",
      "{'injects': [{'at': '+1m', 'type': 'ipv4', 'value': "
      "'203.0.113.5', 'tlp': 'TLP:RED'}]}",
      60, "ipv4", "203.0.113.5", "red" },
    { "every field of an indicator",
      "{'scenario': 'phishing wave', 'injects': [{'at': '+2m', 'type': 'url', 'value': "
      "'http://evil.example/login', 'tlp': 'amber+strict', 'participants': ['bravo', "
      "'charlie'], 'tags': ['phishing'], 'description': 'landing page', "
      "'confidence': 80}]}",
      120, "url", "http://evil.example/login", "amber+strict" },
    { "a report with indicators",
      "{'injects': [{'at': '+5m', 'tlp': 'green', 'report': {'title': 'Wave 2', "
      "'description': 'second wave', 'attack': ['t1566.001'], 'actors': ['Example "
      "Bear'], 'malware': ['ExampleLoader'], 'refs': ['https://cert.example/a'], "
      "'mitigations': ['block the domain', {'text': 'reset passwords', 'refs': "
      "['https://cert.example/m']}], 'indicators': [{'type': 'domain', 'value': "
      "'EVIL.example'}, {'type': 'sha256', 'value': "
      "'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'}]}}]}",
      300, "report", "Wave 2", "green" },
    { "a report with no indicators",
      "{'injects': [{'at': 7, 'report': {'title': 'Heads "
      "up'}}]}",
      7, "report", "Heads up", "amber" },
};

static void
test_good_inputs (void)
{
    char err[ERR_SZ];
    for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++) {
        const good_t *g = &goods[i];
        im_scenario_t *s = parse (j (g->doc), err);
        int64_t at = -1;
        const json_t *o = im_scenario_inject (s, 0, &at);
        if (!ok (s != NULL, "parse accepts %s", g->what))
            diag ("%s", err);
        cmp_ok (at, "==", g->at, "... at offset %lld", (long long)g->at);
        if (strcmp (g->type, "report") == 0)
            ok (json_object_get (o, "report") && !json_object_get (o, "type"),
                "... as a report");
        else
            is (str (o, "type"), g->type, "... as type %s", g->type);
        is (str (o, strcmp (g->type, "report") ? "value" : "title"), g->value,
            "... with value or title '%s'", g->value);
        is (str (o, "tlp"), g->tlp, "... and label %s", g->tlp);
        im_scenario_destroy (&s);
    }
}

/* The normalised forms in detail: what the node's control socket is given. */
static void
test_normalised_forms (void)
{
    char err[ERR_SZ];
    im_scenario_t *s = parse (j (goods[10].doc), err);
    const json_t *o = im_scenario_inject (s, 0, NULL);
    is (im_scenario_title (s), "phishing wave", "the title is kept");
    ok (json_integer_value (json_object_get (o, "confidence")) == 80
            && strcmp (str (o, "description"), "landing page") == 0
            && json_array_size (json_object_get (o, "tags")) == 1,
        "an indicator keeps its confidence, description and tags");
    ok (!json_object_get (o, "participants"), "participants are not in the publish item");
    const json_t *p = im_scenario_participants (s, 0);
    ok (json_array_size (p) == 2
            && strcmp (json_string_value (json_array_get (p, 1)), "charlie") == 0,
        "participants are kept as given");
    im_scenario_destroy (&s);

    s = parse (j (goods[0].doc), err);
    errno = EBUSY;
    ok (im_scenario_participants (s, 0) == NULL && errno == 0,
        "no participants (every one) is NULL with errno 0");
    o = im_scenario_inject (s, 0, NULL);
    ok (json_object_size (o) == 3, "an indicator without options has type, value, tlp");
    im_scenario_destroy (&s);

    s = parse (j (goods[11].doc), err);
    o = im_scenario_inject (s, 0, NULL);
    const json_t *r = json_object_get (o, "report");
    const json_t *items = json_object_get (o, "indicators");
    is (json_string_value (json_array_get (json_object_get (r, "attack"), 0)),
        "T1566.001", "a report's attack ids are upper-cased");
    const json_t *m = json_array_get (json_object_get (r, "mitigations"), 0);
    ok (json_is_object (m) && strcmp (str (m, "text"), "block the domain") == 0
            && json_array_size (json_object_get (m, "refs")) == 0,
        "a mitigation given as text becomes {text, refs: []}");
    m = json_array_get (json_object_get (r, "mitigations"), 1);
    ok (json_array_size (json_object_get (m, "refs")) == 1,
        "a mitigation's refs are kept");
    ok (json_array_size (items) == 2, "a report's indicators are listed beside it");
    is (str (json_array_get (items, 0), "value"), "evil.example",
        "... normalised (the domain in lower case)");
    is (str (json_array_get (items, 1), "value"),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "... normalised (the hash in lower case)");
    is (str (json_array_get (items, 0), "tlp"), "green", "... with the report's label");
    ok (!json_object_get (r, "indicators"), "... and not inside the report body");
    im_scenario_destroy (&s);
}

typedef struct {
    const char *what;
    const char *doc;    /* the whole file, or */
    const char *inject; /* one inject, the only one of the file */
    const char *want;   /* a fragment of the message */
} bad_t;

#define IP4 "'type': 'ipv4', 'value': '203.0.113.5'"
static const bad_t bads[] = {
    { "an offset with an unknown unit", NULL, "{'at': '+5x', " IP4 "}",
      "scenario.json: injects[0].at: '+5x' is not an offset (+N with s, m or h)" },
    { "an offset without a unit", NULL, "{'at': '+90', " IP4 "}",
      "injects[0].at: '+90' is not an offset" },
    { "an offset without its +", NULL, "{'at': '5m', " IP4 "}",
      "injects[0].at: '5m' is not an offset" },
    { "an offset with a space", NULL, "{'at': '+5 m', " IP4 "}", "is not an offset" },
    { "an offset with two units", NULL, "{'at': '+1h30m', " IP4 "}", "is not an offset" },
    { "a negative offset", NULL, "{'at': '-5m', " IP4 "}",
      "injects[0].at: '-5m' is negative" },
    { "a negative integer offset", NULL, "{'at': -1, " IP4 "}",
      "injects[0].at: -1 is negative" },
    { "an offset past 30 days", NULL, "{'at': '+721h', " IP4 "}",
      "injects[0].at: '+721h' is more than 30 days" },
    { "an integer offset past 30 days", NULL, "{'at': 2592001, " IP4 "}",
      "injects[0].at: 2592001 seconds is more than 30 days" },
    { "an offset of many digits", NULL, "{'at': '+99999999999999999999s', " IP4 "}",
      "is more than 30 days" },
    { "an offset that is a real number", NULL, "{'at': 1.5, " IP4 "}",
      "injects[0].at: not an offset" },
    { "an inject without an offset", NULL, "{" IP4 "}", "injects[0].at: missing" },
    { "an unknown type", NULL, "{'at': 0, 'type': 'ipv5', 'value': '1.2.3.4'}",
      "injects[0].type: 'ipv5' is not one of ipv4, ipv6" },
    { "a report as an indicator type", NULL, "{'at': 0, 'type': 'report', 'value': 'x'}",
      "injects[0].type: 'report' is not one of" },
    { "an invalid ipv4 value", NULL, "{'at': 0, 'type': 'ipv4', 'value': '999.1.1.1'}",
      "injects[0].value: '999.1.1.1' is not an IPv4 address" },
    { "a type without a value", NULL, "{'at': 0, 'type': 'ipv4'}",
      "injects[0].value: missing" },
    { "a private address, which the node refuses", NULL,
      "{'at': 0, 'type': 'ipv4', 'value': '10.1.2.3'}",
      "injects[0].value: '10.1.2.3' is on the built-in list 'private-use' (RFC 1918" },
    { "a prefix too broad for the node", NULL,
      "{'at': 0, 'type': 'ipv4', 'value': '0.0.0.0/0'}",
      "injects[0].value: '0.0.0.0/0' is broader than /8" },
    { "a title with a control character",
      "{'scenario': 'a\\u001bb', 'injects': "
      "[{'at': 0, " IP4 "}]}",
      NULL, "scenario.json: scenario: holds control or invisible characters" },
    { "a value without a type", NULL, "{'at': 0, 'value': '203.0.113.5'}",
      "injects[0].type: missing" },
    { "both an indicator and a report", NULL,
      "{'at': 0, " IP4 ", 'report': {'title': 'x'}}", "injects[0]: gives both" },
    { "neither an indicator nor a report", NULL, "{'at': 0, 'tlp': 'red'}",
      "injects[0]: gives neither" },
    { "a misspelt key", NULL, "{'at': 0, " IP4 ", 'particpants': ['bravo']}",
      "injects[0]: unknown key \"particpants\" (did you mean \"participants\"?)" },
    { "an unknown key", NULL, "{'at': 0, " IP4 ", 'severity': 'high'}",
      "injects[0]: unknown key \"severity\" (known: at, type" },
    { "a misspelt key of a report", NULL,
      "{'at': 0, 'report': {'title': 'x', "
      "'actor': ['Example Bear']}}",
      "injects[0].report: unknown key \"actor\" (did you mean \"actors\"?)" },
    { "an unknown key of a report's indicator", NULL,
      "{'at': 0, 'report': {'title': 'x', 'indicators': [{" IP4 ", 'tlp': 'red'}]}}",
      "injects[0].report.indicators[0]: unknown key \"tlp\" (known: type, value)" },
    { "an unknown label", NULL, "{'at': 0, " IP4 ", 'tlp': 'orange'}",
      "injects[0].tlp: 'orange' is not one of clear, green, amber, amber+strict, red" },
    { "a label that is not a string", NULL, "{'at': 0, " IP4 ", 'tlp': 3}",
      "injects[0].tlp: not a string" },
    { "empty participants", NULL, "{'at': 0, " IP4 ", 'participants': []}",
      "injects[0].participants: empty" },
    { "a participant that is no name", NULL,
      "{'at': 0, " IP4 ", 'participants': ['br avo']}",
      "injects[0].participants[0]: 'br avo' is not a participant's name" },
    { "a participant given twice", NULL,
      "{'at': 0, " IP4 ", 'participants': ['bravo', 'bravo']}",
      "injects[0].participants[1]: 'bravo' is given twice" },
    { "a confidence past 100", NULL, "{'at': 0, " IP4 ", 'confidence': 101}",
      "injects[0].confidence: not a whole number 0..100" },
    { "a null value", NULL, "{'at': 0, " IP4 ", 'tags': null}",
      "injects[0]: \"tags\" is null: leave it out" },
    { "a null value in a report", NULL,
      "{'at': 0, 'report': {'title': 'x', 'description': null}}",
      "injects[0].report: \"description\" is null: leave it out" },
    { "a tag that is not a string", NULL, "{'at': 0, " IP4 ", 'tags': [1]}",
      "injects[0].tags: not an array of strings" },
    { "a description of a report outside it", NULL,
      "{'at': 0, 'description': 'd', 'report': {'title': 'x'}}",
      "injects[0]: \"description\" of a report goes inside \"report\"" },
    { "a report without a title", NULL, "{'at': 0, 'report': {'description': 'd'}}",
      "injects[0].report.title: missing" },
    { "a bad ATT&CK id", NULL,
      "{'at': 0, 'report': {'title': 'x', 'attack': "
      "['T1566', 'T15']}}",
      "injects[0].report.attack[1]: 'T15' is not an ATT&CK technique id (T1566 or "
      "T1566.001)" },
    { "a reference that is not http(s)", NULL,
      "{'at': 0, 'report': {'title': 'x', 'refs': ['ftp://cert.example/a']}}",
      "injects[0].report.refs[0]: 'ftp://cert.example/a' is not an http:// or https:// "
      "URL" },
    { "a mitigation's reference that is not http(s)", NULL,
      "{'at': 0, 'report': {'title': 'x', 'mitigations': [{'text': 't', 'refs': "
      "['file:///etc/passwd']}]}}",
      "injects[0].report.mitigations[0].refs[0]: 'file:///etc/passwd' is not an "
      "http://" },
    { "a mitigation without text", NULL,
      "{'at': 0, 'report': {'title': 'x', 'mitigations': [{'refs': []}]}}",
      "injects[0].report.mitigations[0]: not a text or" },
    { "a report's indicator with a bad value", NULL,
      "{'at': 0, 'report': {'title': 'x', 'indicators': [{'type': 'md5', 'value': "
      "'xyz'}]}}",
      "injects[0].report.indicators[0].value: 'xyz'" },
    { "an inject that is not an object", NULL, "'+5m'", "injects[0]: not an object" },
    { "an empty list of injects", "{'scenario': 'x', 'injects': []}", NULL,
      "scenario.json: injects: 0 injects: give 1 to 1000" },
    { "no injects", "{'scenario': 'x'}", NULL, "scenario.json: injects: missing" },
    { "an unknown key at the top", "{'scenaro': 'x', 'injects': [{'at': 0, " IP4 "}]}",
      NULL, "scenario.json: unknown key \"scenaro\" (did you mean \"scenario\"?)" },
    { "a title that is not a string", "{'scenario': 1, 'injects': [{'at': 0, " IP4 "}]}",
      NULL, "scenario.json: scenario: not a string" },
    { "a top level that is an array", "[]", NULL,
      "scenario.json: not a JSON object with \"injects\"" },
    { "a JSON syntax error", "{\n'injects': [\n{'at': 0,, " IP4 "}\n]}", NULL,
      "scenario.json: line 3, column " },
    { "a key given twice", "{'injects': [{'at': 0, 'at': 5, " IP4 "}]}", NULL,
      "duplicate object key" },
    { "text that is not UTF-8", "{'scenario': '\xff', 'injects': []}", NULL,
      "scenario.json: line 1, column " },
    { "an empty file", "", NULL, "scenario.json: line 1, column " },
};

static void
test_bad_inputs (void)
{
    char err[ERR_SZ], doc[8192 + 32], buf[ERR_SZ];
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        const bad_t *b = &bads[i];
        if (b->doc)
            snprintf (doc, sizeof doc, "%s", j (b->doc));
        else
            snprintf (doc, sizeof doc, "{\"injects\": [%s]}", j (b->inject));
        err[0] = '\0';
        errno = 0;
        im_scenario_t *s = parse (doc, err);
        ok (s == NULL && errno == EINVAL, "parse refuses %s", b->what);
        if (!ok (strstr (err, b->want) != NULL, "... saying '%s'",
                 printable (b->want, buf, sizeof buf)))
            diag ("said: %s", printable (err, buf, sizeof buf));
        im_scenario_destroy (&s);
    }
}

/* Injects are played by offset, those of equal offsets in file order; an
 * error names the inject by its place in the file. */
static void
test_order (void)
{
    char err[ERR_SZ];
    im_scenario_t *s = parse (j ("{'injects': ["
                                 "{'at': '+5m', 'type': 'asn', 'value': 'AS64496'},"
                                 "{'at': '+0s', 'type': 'asn', 'value': 'AS64497'},"
                                 "{'at': 300, 'type': 'asn', 'value': 'AS64498'},"
                                 "{'at': 10, 'type': 'asn', 'value': 'AS64499'},"
                                 "{'at': '+5m', 'type': 'asn', 'value': 'AS64500'},"
                                 "{'at': '+1m', 'type': 'asn', 'value': 'AS64501'}]}"),
                              err);
    static const char *const want[]
        = { "AS64497", "AS64499", "AS64501", "AS64496", "AS64498", "AS64500" };
    static const int64_t want_at[] = { 0, 10, 60, 300, 300, 300 };
    cmp_ok (im_scenario_count (s), "==", 6, "six injects are read");
    for (size_t i = 0; i < 6; i++) {
        int64_t at = -1;
        const json_t *o = im_scenario_inject (s, i, &at);
        ok (at == want_at[i] && strcmp (str (o, "value"), want[i]) == 0,
            "inject %zu in playing order is %s at %lld s", i, want[i],
            (long long)want_at[i]);
    }
    im_scenario_destroy (&s);
    s = parse (j ("{'injects': [{'at': 0, " IP4 "}, {'at': 1, " IP4 "}, "
                  "{'at': 2, " IP4 "}, {'at': '+5x', " IP4 "}]}"),
               err);
    ok (s == NULL, "parse refuses a scenario whose fourth inject is bad");
    is (err, "scenario.json: injects[3].at: '+5x' is not an offset (+N with s, m or h)",
        "... naming the file, injects[3] (from 0) and its field");
}

/* A file of N injects (each "{'at': I, ...}"), or of one report with N
 * indicators when REPORT. */
static char *
many (size_t n, int report)
{
    size_t sz = 200 + n * 80, o = 0;
    char *doc = malloc (sz);
    o += (size_t)snprintf (doc + o, sz - o, "%s",
                           report ? "{\"injects\": [{\"at\": 0, \"report\": {\"title\": "
                                    "\"r\", \"indicators\": ["
                                  : "{\"injects\": [");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf (doc + o, sz - o,
                               report ? "%s{\"type\": \"asn\", \"value\": \"AS%zu\"}"
                                      : "%s{\"at\": %zu, \"type\": \"ipv4\", \"value\": "
                                        "\"203.0.113.5\"}",
                               i ? ", " : "", report ? 64496 + i : i);
    snprintf (doc + o, sz - o, "%s", report ? "]}}]}" : "]}");
    return doc;
}

static void
test_limits (void)
{
    char err[ERR_SZ];
    char *doc = many (1000, 0);
    im_scenario_t *s = parse (doc, err);
    ok (s && im_scenario_count (s) == 1000, "parse accepts 1000 injects");
    im_scenario_destroy (&s);
    free (doc);
    doc = many (1001, 0);
    s = parse (doc, err);
    ok (s == NULL && errno == EINVAL
            && strstr (err, "injects: 1001 injects: give 1 to 1000"),
        "parse refuses 1001 injects");
    free (doc);
    doc = many (256, 1);
    s = parse (doc, err);
    ok (s
            && json_array_size (
                   json_object_get (im_scenario_inject (s, 0, NULL), "indicators"))
                   == 256,
        "parse accepts a report with 256 indicators");
    im_scenario_destroy (&s);
    free (doc);
    doc = many (257, 1);
    s = parse (doc, err);
    ok (s == NULL
            && strstr (err, "injects[0].report.indicators: 257 indicators, more "
                            "than 256"),
        "parse refuses a report with 257 indicators");
    free (doc);
    size_t o;
    char title[300];
    memset (title, 'x', 257);
    title[257] = '\0';
    char one[512];
    snprintf (one, sizeof one,
              "{\"injects\": [{\"at\": 0, \"report\": {\"title\": \"%s\"}}]}", title);
    s = parse (one, err);
    ok (s == NULL && strstr (err, "injects[0].report.title: longer than 256 bytes"),
        "parse refuses a report title of 257 bytes");
    title[256] = '\0';
    snprintf (one, sizeof one,
              "{\"injects\": [{\"at\": 0, \"report\": {\"title\": \"%s\"}}]}", title);
    s = parse (one, err);
    ok (s != NULL, "parse accepts a report title of 256 bytes");
    im_scenario_destroy (&s);
    char ids[65 * 10 + 200];
    o = (size_t)snprintf (ids, sizeof ids,
                          "{\"injects\": [{\"at\": 0, \"report\": {\"title\": \"r\", "
                          "\"attack\": [");
    for (int i = 0; i < 65; i++)
        o += (size_t)snprintf (ids + o, sizeof ids - o, "%s\"T%d\"", i ? "," : "",
                               1000 + i);
    snprintf (ids + o, sizeof ids - o, "]}}]}");
    s = parse (ids, err);
    ok (s == NULL && strstr (err, "injects[0].report: more than 64 context items"),
        "parse refuses a report of 65 ATT&CK ids, as the node would");
    char names[64 * 8 + 200];
    o = (size_t)snprintf (names, sizeof names,
                          "{\"injects\": [{\"at\": 0, %s, \"participants\": [", j (IP4));
    for (int i = 0; i < 65; i++)
        o += (size_t)snprintf (names + o, sizeof names - o, "%s\"n%d\"", i ? "," : "", i);
    snprintf (names + o, sizeof names - o, "]}]}");
    s = parse (names, err);
    ok (s == NULL && strstr (err, "injects[0].participants: 65 names, more than 64"),
        "parse refuses 65 participants");
}

/* load: the file's name in every message; the size limit before reading. */
static void
test_load (void)
{
    char dir[64], path[128], err[ERR_SZ];
    make_dir (dir, sizeof dir, "scenario");
    sub_path (path, sizeof path, dir, "bad.json");
    FILE *f = fopen (path, "w");
    fputs ("{\"injects\": [\n  {\"at\": \"+1m\", \"type\": \"ipv4\"\n]}\n", f);
    fclose (f);
    errno = 0;
    ok (im_scenario_load (path, err, sizeof err) == NULL && errno == EINVAL
            && strncmp (err, path, strlen (path)) == 0
            && strstr (err, ": line 3, column"),
        "load names the file and the line of a syntax error");
    sub_path (path, sizeof path, dir, "good.json");
    f = fopen (path, "w");
    fputs ("{\"injects\": [{\"at\": \"+1m\", \"type\": \"ipv4\", \"value\": "
           "\"203.0.113.5\"}]}",
           f);
    fclose (f);
    im_scenario_t *s = im_scenario_load (path, err, sizeof err);
    ok (s && im_scenario_count (s) == 1, "load reads a good file");
    im_scenario_destroy (&s);
    sub_path (path, sizeof path, dir, "huge.json");
    int fd = open (path, O_WRONLY | O_CREAT, 0600);
    ok (fd >= 0 && ftruncate (fd, 4 * 1024 * 1024 + 1) == 0, "a sparse 4 MiB + 1 file");
    close (fd);
    errno = 0;
    ok (im_scenario_load (path, err, sizeof err) == NULL && errno == EFBIG
            && strstr (err, "huge.json: larger than 4 MiB"),
        "load refuses a file larger than 4 MiB");
    sub_path (path, sizeof path, dir, "none.json");
    errno = 0;
    ok (im_scenario_load (path, err, sizeof err) == NULL && errno == ENOENT
            && strstr (err, "none.json: "),
        "load of a missing file is ENOENT, naming it");
    errno = 0;
    ok (im_scenario_load (dir, err, sizeof err) == NULL && errno == EISDIR,
        "load of a directory is EISDIR");
    errno = 0;
    ok (im_scenario_load ("/dev/null", err, sizeof err) == NULL && errno == EINVAL
            && strstr (err, "/dev/null: not a regular file"),
        "load of a device is refused as not a regular file");
    remove_dir (dir);
}

/* The example shipped in doc/ parses, and shows both kinds of inject. */
static void
test_example (void)
{
    char path[1024], err[ERR_SZ];
    snprintf (path, sizeof path, "%s/doc/scenario-example.json", top_srcdir ());
    im_scenario_t *s = im_scenario_load (path, err, sizeof err);
    if (!ok (s != NULL, "doc/scenario-example.json parses"))
        diag ("%s", err);
    int reports = 0, indicators = 0, sorted = 1, some = 0;
    int64_t last = 0;
    for (size_t i = 0; i < im_scenario_count (s); i++) {
        int64_t at;
        const json_t *o = im_scenario_inject (s, i, &at);
        reports += json_object_get (o, "report") != NULL;
        indicators += json_object_get (o, "type") != NULL;
        sorted = sorted && at >= last;
        some = some || im_scenario_participants (s, i) != NULL;
        last = at;
    }
    ok (reports > 0 && indicators > 0, "... with indicators (%d) and reports (%d)",
        indicators, reports);
    ok (some, "... and injects for some participants only");
    ok (sorted, "... in playing order");
    ok (s && *im_scenario_title (s), "... and a title");
    im_scenario_destroy (&s);
}

int
main (int argc, char **argv)
{
    static const tap_test_t tests[] = {
        TAP_TEST (test_bad_arguments),
        TAP_TEST (test_good_inputs),
        TAP_TEST (test_normalised_forms),
        TAP_TEST (test_bad_inputs),
        TAP_TEST (test_order),
        TAP_TEST (test_limits),
        TAP_TEST (test_load),
        TAP_TEST (test_example),
        TAP_END,
    };
    return tap_main (argc, argv, tests);
}
