/* SPDX-License-Identifier: MPL-2.0 */
/* test_ctl.c -- unit tests for proto/im_ctl.c, the control protocol's codec:
 * bad arguments first, then the command table, then tables of good and
 * malformed requests and replies as the node and the CLI would see them. */

#include <errno.h>
#include <string.h>

#include "im_ctl.h"
#include "tap.h"
#include "testlib.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

/* A message of N frames given as strings (NULL: an empty frame). */
static zmsg_t *
frames (size_t n, const char *const *texts)
{
    zmsg_t *msg = zmsg_new ();
    for (size_t i = 0; i < n; i++)
        zmsg_addmem (msg, texts[i], texts[i] ? strlen (texts[i]) : 0);
    return msg;
}

static void
test_bad_arguments (void)
{
    im_ctl_cmd_t cmd;
    json_t *body = NULL, *obj = json_object ();
    char err[256];
    ok (im_ctl_name (IM_CTL_COUNT) == NULL, "a number past the table has no name");
    ok (im_ctl_name ((im_ctl_cmd_t)-1) == NULL, "a negative number has no name");
    errno = 0;
    ok (im_ctl_lookup (NULL, 0, &cmd) == -1 && errno == EINVAL,
        "lookup refuses a NULL name");
    errno = 0;
    ok (im_ctl_lookup ("LIST", 4, NULL) == -1 && errno == EINVAL,
        "lookup refuses a NULL result");
    errno = 0;
    ok (im_ctl_request_encode (IM_CTL_COUNT, obj) == NULL && errno == EINVAL,
        "a request for an unknown command is not encoded");
    errno = 0;
    ok (im_ctl_request_encode (IM_CTL_LIST, NULL) == NULL && errno == EINVAL,
        "a request without a body is not encoded");
    json_t *array = json_array ();
    errno = 0;
    ok (im_ctl_request_encode (IM_CTL_LIST, array) == NULL && errno == EINVAL,
        "a request whose body is an array is not encoded");
    json_decref (array);
    errno = 0;
    ok (im_ctl_request_decode (NULL, &cmd, &body, NULL, err, sizeof err) == -1
            && errno == EPROTO,
        "decoding no request fails with EPROTO");
    errno = 0;
    ok (im_ctl_reply_decode (NULL, &body, err, sizeof err) == -1 && errno == EPROTO,
        "decoding no reply fails with EPROTO");
    errno = 0;
    ok (im_ctl_reply_encode (NULL, NULL) == NULL && errno == EINVAL,
        "an OK reply needs an object");
    json_decref (obj);
}

static void
test_table (void)
{
    static const char *const want[]
        = { "PUBLISH", "REVOKE",  "LOOKUP", "LIST",      "STATUS",
            "PEERS",   "EXPLAIN", "SENT",   "CHECK",     "ROTATE",
            "RELOAD",  "REPORT",  "SIGHT",  "SIGHTINGS", "EXERCISE" };
    cmp_ok (IM_CTL_COUNT, "==", COUNT (want), "the table holds the %zu commands of SPEC",
            COUNT (want));
    for (int i = 0; i < IM_CTL_COUNT; i++) {
        im_ctl_cmd_t cmd = IM_CTL_COUNT;
        is (im_ctl_name ((im_ctl_cmd_t)i), want[i], "command %d is named %s", i, want[i]);
        ok (im_ctl_lookup (want[i], strlen (want[i]), &cmd) == 0
                && cmd == (im_ctl_cmd_t)i,
            "%s is looked up as command %d", want[i], i);
        ok (strlen (want[i]) <= IM_CONTROL_NAME_MAX, "%s fits IM_CONTROL_NAME_MAX",
            want[i]);
    }
    static const char *const bad[]
        = { "list", "List", "LISTS", "LIS", "", "PUBLISH\n", " STATUS", "HELLO" };
    for (size_t i = 0; i < COUNT (bad); i++) {
        im_ctl_cmd_t cmd;
        errno = 0;
        ok (im_ctl_lookup (bad[i], strlen (bad[i]), &cmd) == -1 && errno == EINVAL,
            "'%s' is no command (compared exactly, case included)", bad[i]);
    }
    im_ctl_cmd_t cmd;
    ok (im_ctl_lookup ("LIST\0X", 6, &cmd) == -1,
        "a name with a NUL inside is no command");
}

static void
test_request_round_trip (void)
{
    json_t *body = json_pack ("{s:s, s:i}", "value", "203.0.113.5", "limit", 10);
    for (int i = 0; i < IM_CTL_COUNT; i++) {
        zmsg_t *msg = im_ctl_request_encode ((im_ctl_cmd_t)i, body);
        im_ctl_cmd_t cmd = IM_CTL_COUNT;
        json_t *got = NULL;
        char err[256] = "", shown[IM_CONTROL_NAME_MAX + 2];
        ok (msg && zmsg_size (msg) == 2, "a %s request is two frames", im_ctl_name (i));
        ok (im_ctl_request_decode (msg, &cmd, &got, shown, err, sizeof err) == 0
                && cmd == (im_ctl_cmd_t)i && json_equal (got, body),
            "a %s request decodes to the same command and body", im_ctl_name (i));
        is (shown, im_ctl_name (i), "the command is shown as received");
        json_decref (got);
        zmsg_destroy (&msg);
    }
    json_decref (body);
}

typedef struct {
    size_t n;
    const char *frames[3];
    const char *reason;
    const char *shown;
    const char *what;
} bad_request_t;

static const bad_request_t bad_requests[] = {
    { 0, { NULL }, "malformed request: want a command and a JSON body", "?", "no frame" },
    { 1,
      { "STATUS" },
      "malformed request: want a command and a JSON body",
      "STATUS",
      "a command without a body" },
    { 3,
      { "STATUS", "{}", "{}" },
      "malformed request: want a command and a JSON body",
      "STATUS",
      "three frames" },
    { 3,
      { NULL, "STATUS", "{}" },
      "malformed request: want a command and a JSON body",
      "?",
      "a REQ socket's empty delimiter" },
    { 2, { "status", "{}" }, "unknown command", "status", "a command in lower case" },
    { 2, { "DESTROY", "{}" }, "unknown command", "DESTROY", "an unknown command" },
    { 2,
      { "\x01\x02PEERS\xff", "{}" },
      "unknown command",
      "??PEERS?",
      "a command of binary bytes, shown printable" },
    { 2,
      { "AVERYLONGCOMMANDNAME", "{}" },
      "unknown command",
      "AVERYLONGC",
      "a long command, shown cut" },
    { 2,
      { "STATUS", "" },
      "malformed request: body is not a JSON object",
      "STATUS",
      "an empty body" },
    { 2,
      { "STATUS", "[]" },
      "malformed request: body is not a JSON object",
      "STATUS",
      "an array body" },
    { 2,
      { "STATUS", "{\"a\":1" },
      "malformed request: body is not a JSON object",
      "STATUS",
      "truncated JSON" },
    { 2,
      { "STATUS", "{\"a\":1,\"a\":2}" },
      "malformed request: body is not a JSON object",
      "STATUS",
      "a duplicated key" },
    { 2,
      { "STATUS", "\"text\"" },
      "malformed request: body is not a JSON object",
      "STATUS",
      "a string body" },
};

static void
test_bad_requests (void)
{
    for (size_t i = 0; i < COUNT (bad_requests); i++) {
        const bad_request_t *t = &bad_requests[i];
        zmsg_t *msg = frames (t->n, t->frames);
        im_ctl_cmd_t cmd;
        json_t *body = NULL;
        char err[256] = "", shown[IM_CONTROL_NAME_MAX + 2];
        errno = 0;
        int rc = im_ctl_request_decode (msg, &cmd, &body, shown, err, sizeof err);
        ok (rc == -1 && errno == EPROTO && body == NULL, "a request with %s is refused",
            t->what);
        is (err, t->reason, "and the reason says so");
        is (shown, t->shown, "and the command is logged as '%s'", t->shown);
        zmsg_destroy (&msg);
    }
}

static void
test_replies (void)
{
    json_t *body = json_pack ("{s:i}", "peers", 3), *got = NULL;
    char err[256] = "";
    zmsg_t *msg = im_ctl_reply_encode (body, NULL);
    ok (msg && zframe_streq (zmsg_first (msg), "OK"), "an answer is an OK reply");
    ok (im_ctl_reply_decode (msg, &got, err, sizeof err) == 0 && json_equal (got, body),
        "and decodes to the same object");
    json_decref (got);
    got = NULL;
    zmsg_destroy (&msg);
    msg = im_ctl_reply_encode (body, "unknown command");
    ok (msg && zframe_streq (zmsg_first (msg), "ERROR"), "a refusal is an ERROR reply");
    errno = 0;
    ok (im_ctl_reply_decode (msg, &got, err, sizeof err) == -1 && errno == EPROTO
            && got == NULL,
        "which decodes as a failure");
    is (err, "unknown command", "carrying the node's reason");
    zmsg_destroy (&msg);
    json_decref (body);

    static const struct {
        size_t n;
        const char *frames[3];
        const char *reason;
    } bad[] = {
        { 1, { "OK" }, "malformed reply from intelmeshd" },
        { 3, { "OK", "{}", "{}" }, "malformed reply from intelmeshd" },
        { 2, { "MAYBE", "{}" }, "malformed reply from intelmeshd" },
        { 2, { "OK", "[1]" }, "malformed reply from intelmeshd" },
        { 2, { "OK", "{" }, "malformed reply from intelmeshd" },
        { 2, { "ERROR", "{}" }, "request refused" },
        { 2, { "ERROR", "{\"error\":7}" }, "request refused" },
    };
    for (size_t i = 0; i < COUNT (bad); i++) {
        msg = frames (bad[i].n, bad[i].frames);
        got = NULL;
        errno = 0;
        ok (im_ctl_reply_decode (msg, &got, err, sizeof err) == -1 && errno == EPROTO
                && got == NULL,
            "reply %zu (%s, %zu frames) is a failure", i, bad[i].frames[0], bad[i].n);
        is (err, bad[i].reason, "saying '%s'", bad[i].reason);
        zmsg_destroy (&msg);
    }
}

/* A LOOKUP body whose "values" holds N copies of ITEM (JSON text). */
static json_t *
values_body (size_t n, const char *item)
{
    json_t *values = json_array ();
    for (size_t i = 0; i < n; i++)
        json_array_append_new (values, json_loads (item, 0, NULL));
    return json_pack ("{s:o}", "values", values);
}

static void
test_lookup_values (void)
{
    static const struct {
        const char *body;
        int want;
        const char *err;
    } cases[] = {
        { "{\"value\": \"192.0.2.1\"}", 0, NULL },
        { "{}", 0, NULL },
        { "{\"values\": [{\"value\": \"a.example\"}]}", 1, NULL },
        { "{\"values\": [{\"value\": \"x\"}, {\"value\": 5, \"type\": 1}]}", 2, NULL },
        { "{\"values\": []}", -1, "'values' must be a non-empty array" },
        { "{\"values\": {\"value\": \"x\"}}", -1, "'values' must be a non-empty array" },
        { "{\"values\": \"x\"}", -1, "'values' must be a non-empty array" },
        { "{\"values\": null}", -1, "'values' must be a non-empty array" },
        { "{\"values\": [{}, \"x\"]}", -1, "'values'[1] is not an object" },
        { "{\"values\": [{}], \"value\": \"x\"}", -1,
          "give 'value' or 'values', not both" },
        { "{\"values\": [{}], \"compact\": true}", 1, NULL },
        { "{\"values\": [{}], \"compact\": false}", 1, NULL },
        { "{\"values\": [{}], \"compact\": 1}", -1, "'compact' must be true or false" },
        { "{\"values\": [{}], \"compact\": \"yes\"}", -1,
          "'compact' must be true or false" },
    };
    char err[256];
    for (size_t i = 0; i < COUNT (cases); i++) {
        json_t *body = json_loads (cases[i].body, 0, NULL);
        err[0] = 0;
        errno = 0;
        int rc = im_ctl_lookup_values (body, err, sizeof err);
        ok (rc == cases[i].want && (rc >= 0 || errno == EPROTO)
                && (!cases[i].err || strcmp (err, cases[i].err) == 0),
            "lookup_values %s gives %d (%s)", cases[i].body, rc, err);
        json_decref (body);
    }
    json_t *body = values_body (IM_CONTROL_LOOKUP_MAX, "{\"value\": \"x\"}");
    ok (im_ctl_lookup_values (body, err, sizeof err) == IM_CONTROL_LOOKUP_MAX,
        "lookup_values takes %d values", IM_CONTROL_LOOKUP_MAX);
    json_decref (body);
    body = values_body (IM_CONTROL_LOOKUP_MAX + 1, "{\"value\": \"x\"}");
    errno = 0;
    ok (im_ctl_lookup_values (body, err, sizeof err) == -1 && errno == EPROTO
            && strcmp (err, "'values': 1001 values, at most 1000 per LOOKUP") == 0,
        "lookup_values refuses one more: %s", err);
    json_decref (body);
    errno = 0;
    ok (im_ctl_lookup_values (NULL, err, sizeof err) == -1 && errno == EPROTO,
        "lookup_values refuses a NULL body");
    /* A batch request survives the codec whole. */
    body = values_body (3, "{\"value\": \"192.0.2.1\", \"type\": \"ipv4\"}");
    zmsg_t *msg = im_ctl_request_encode (IM_CTL_LOOKUP, body);
    im_ctl_cmd_t cmd;
    json_t *got = NULL;
    ok (msg && im_ctl_request_decode (msg, &cmd, &got, NULL, err, sizeof err) == 0
            && cmd == IM_CTL_LOOKUP && json_equal (got, body)
            && im_ctl_lookup_values (got, err, sizeof err) == 3,
        "a batch LOOKUP round-trips and reads as 3 values");
    zmsg_destroy (&msg);
    json_decref (got);
    json_decref (body);
}

/* im_ctl_text_str writes what jansson reads back as the same string. */
static void
test_text_strings (void)
{
    static const char *const strings[] = {
        "",
        "192.0.2.1",
        "a \"quoted\" word",
        "C:\\Temp\\x.exe",
        "\\\"",
        "tab\there, line\nbreak, bell\a, \x1f and \x7f",
        "b\xc3\xbc"
        "cher \xe2\x80\xae \xf0\x9f\x98\x80",
        "</script>/",
    };
    for (size_t i = 0; i < COUNT (strings); i++) {
        im_ctl_text_t t;
        im_ctl_text_init (&t, 1024);
        im_ctl_text_raw (&t, "[", 1);
        im_ctl_text_str (&t, strings[i]);
        im_ctl_text_raw (&t, ",", 1);
        im_ctl_text_int (&t, -42);
        im_ctl_text_raw (&t, ",", 1);
        im_ctl_text_str (&t, NULL);
        im_ctl_text_raw (&t, "]", 1);
        json_t *a = im_ctl_text_check (&t) == 0 ? json_loads (t.data, 0, NULL) : NULL;
        ok (a && strcmp (json_string_value (json_array_get (a, 0)), strings[i]) == 0
                && json_integer_value (json_array_get (a, 1)) == -42
                && json_is_null (json_array_get (a, 2)) && strlen (t.data) == t.len,
            "string %zu reads back the same: %s", i, t.data ? t.data : "(none)");
        ok (!t.data || !strpbrk (t.data, "\t\n\a\x1f"),
            "string %zu: no control byte left as it is", i);
        json_decref (a);
        im_ctl_text_free (&t);
    }
}

static void
test_text_limit (void)
{
    im_ctl_text_t t;
    im_ctl_text_init (&t, 16);
    im_ctl_text_raw (&t, "0123456789", 10);
    ok (im_ctl_text_check (&t) == 0 && t.len == 10, "10 bytes fit in 16");
    im_ctl_text_str (&t, "abc"); /* 3 bytes may need 20 */
    errno = 0;
    ok (im_ctl_text_check (&t) == -1 && errno == ENOSPC && t.len == 10,
        "a string that could pass 16 bytes is refused whole with ENOSPC");
    im_ctl_text_raw (&t, "x", 1);
    ok (t.len == 10 && t.failed == ENOSPC, "and nothing is added after");
    im_ctl_text_free (&t);
    ok (t.len == 0 && !t.data && !t.failed && t.max == 16, "free empties it");
    im_ctl_text_raw (&t, "0123456789abcdef", 16);
    ok (im_ctl_text_check (&t) == 0 && t.len == 16, "exactly 16 bytes fit");
    im_ctl_text_int (&t, 1);
    ok (im_ctl_text_check (&t) == -1 && t.len == 16, "one more does not");
    im_ctl_text_free (&t);
    im_ctl_text_free (NULL);
    ok (1, "free takes NULL");
}

/* Requests and replies written as text decode as the JSON ones do. */
static void
test_text_messages (void)
{
    static const char body[] = "{\"compact\":true,\"values\":[{\"value\":\"x\"}]}";
    char err[256];
    im_ctl_cmd_t cmd;
    json_t *got = NULL;
    errno = 0;
    ok (im_ctl_request_text (IM_CTL_COUNT, body, sizeof body - 1) == NULL
            && errno == EINVAL,
        "a text request for an unknown command is not made");
    errno = 0;
    ok (im_ctl_request_text (IM_CTL_LOOKUP, NULL, 0) == NULL && errno == EINVAL,
        "a text request without text is not made");
    errno = 0;
    ok (im_ctl_reply_text (NULL, 0) == NULL && errno == EINVAL,
        "a text reply without text is not made");
    zmsg_t *msg = im_ctl_request_text (IM_CTL_LOOKUP, body, sizeof body - 1);
    ok (msg && zmsg_size (msg) == 2
            && im_ctl_request_decode (msg, &cmd, &got, NULL, err, sizeof err) == 0
            && cmd == IM_CTL_LOOKUP && im_ctl_lookup_values (got, err, sizeof err) == 1,
        "a LOOKUP written as text decodes as a batch of one");
    zmsg_destroy (&msg);
    json_decref (got);
    got = NULL;
    msg = im_ctl_reply_text ("{\"results\":[]}", 14);
    ok (msg && im_ctl_reply_decode (msg, &got, err, sizeof err) == 0
            && json_array_size (json_object_get (got, "results")) == 0
            && json_is_array (json_object_get (got, "results")),
        "an OK reply written as text decodes");
    zmsg_destroy (&msg);
    json_decref (got);
    got = NULL;
    msg = im_ctl_reply_text ("[1]", 3);
    ok (msg && im_ctl_reply_decode (msg, &got, err, sizeof err) == -1 && errno == EPROTO,
        "a reply text that is no object is refused by the reader, as ever");
    zmsg_destroy (&msg);
}

static const tap_test_t tests[] = { TAP_DIAG ("SPEC.md: The control protocol"),
                                    TAP_TEST (test_bad_arguments),
                                    TAP_TEST (test_table),
                                    TAP_TEST (test_request_round_trip),
                                    TAP_TEST (test_bad_requests),
                                    TAP_TEST (test_replies),
                                    TAP_TEST (test_lookup_values),
                                    TAP_TEST (test_text_strings),
                                    TAP_TEST (test_text_limit),
                                    TAP_TEST (test_text_messages),
                                    TAP_END };

int
main (int argc, char **argv)
{
    return tap_main (argc, argv, tests);
}
