/* SPDX-License-Identifier: MPL-2.0 */
/* test_time.c -- unit tests for proto/im_time.c: RFC 3339 formatting of known
 * epochs, parsing of absolute times, offsets and durations, refusals, round trips. */

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "im_time.h"
#include "tap.h"
#include "testlib.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

/* The fixed "now" that relative times resolve against: 2026-01-01T00:00:00Z. */
#define NOW INT64_C (1767225600)
#define UNTOUCHED INT64_C (-4242)

typedef struct {
    int64_t t;
    const char *want;
} format_t;

typedef struct {
    const char *in;
    int64_t want;
} good_t;

static const format_t formats[] = {
    { 0, "1970-01-01T00:00:00Z" },
    { 1, "1970-01-01T00:00:01Z" },
    { 1700000000, "2023-11-14T22:13:20Z" },
    { 951782400, "2000-02-29T00:00:00Z" },
    { 1709210096, "2024-02-29T12:34:56Z" },
    { 1483228799, "2016-12-31T23:59:59Z" },
    { NOW, "2026-01-01T00:00:00Z" },
    { 2147483647, "2038-01-19T03:14:07Z" },
    { INT64_C (2147483648), "2038-01-19T03:14:08Z" },
    { INT64_C (4102444800), "2100-01-01T00:00:00Z" },
    { INT64_C (253402300799), "9999-12-31T23:59:59Z" },
    { -1, "1969-12-31T23:59:59Z" },
};

static const good_t good[] = {
    /* RFC 3339 with Z */
    { "2026-11-23T11:12:00Z", 1795432320 },
    { "2026-11-23t11:12:00z", 1795432320 },
    { "2026-11-23 11:12:00Z", 1795432320 },
    { "1970-01-01T00:00:00Z", 0 },
    { "2024-02-29T12:34:56Z", 1709210096 },
    { "2000-02-29T00:00:00Z", 951782400 },
    { "2038-01-19T03:14:08Z", INT64_C (2147483648) },
    { "9999-12-31T23:59:59Z", INT64_C (253402300799) },
    { "1969-12-31T23:59:58Z", -2 },
    { "1969-12-31T23:59:59Z", -1 },
    /* offsets */
    { "2026-11-23T13:12:00+02:00", 1795432320 },
    { "2026-11-23T05:42:00-05:30", 1795432320 },
    { "2026-11-23T11:12:00+00:00", 1795432320 },
    { "2026-11-23T11:12:00-00:00", 1795432320 },
    { "2026-01-01T01:00:00+23:59", NOW + 3600 - 23 * 3600 - 59 * 60 },
    { "2025-12-31T18:30:00-05:30", NOW },
    { "2026-01-01T02:00:00+02:00", NOW },
    /* fractional seconds are ignored */
    { "2026-11-23T11:12:00.5Z", 1795432320 },
    { "2026-11-23T11:12:00.999999999Z", 1795432320 },
    { "2026-11-23T13:12:00.25+02:00", 1795432320 },
    /* a date alone is its midnight UTC */
    { "2026-11-23", 1795392000 },
    { "2024-02-29", 1709164800 },
    { "1970-01-01", 0 },
    { "2026-01-01", NOW },
    /* a leap second, where leap seconds happen: POSIX time folds it into
     * the next second */
    { "2016-12-31T23:59:60Z", 1483228800 },
    /* durations from NOW */
    { "45s", NOW + 45 },
    { "90m", NOW + 90 * 60 },
    { "12h", NOW + 12 * 3600 },
    { "30d", NOW + 30 * 86400 },
    { "2w", NOW + 14 * 86400 },
    { "+30d", NOW + 30 * 86400 },
    { "+45s", NOW + 45 },
    { "0s", NOW },
    { "+0d", NOW },
    { "1000000000s", NOW + 1000000000 },
    { "36500d", NOW + INT64_C (36500) * 86400 },
};

static const char *bad[] = {
    "",
    /* impossible dates */
    "2026-02-30",
    "2026-02-29",
    "2100-02-29",
    "2026-04-31",
    "2026-13-01",
    "2026-00-10",
    "2026-01-00",
    "2026-01-32",
    "2026-02-30T00:00:00Z",
    /* impossible times */
    "2026-01-01T24:00:00Z",
    "2026-01-01T25:00:00Z",
    "2026-01-01T23:60:00Z",
    "2026-01-01T23:59:61Z",
    "2026-01-01T12:60:00Z",
    "2026-01-01T12:00:61Z",
    "2026-01-01T99:99:99Z",
    /* malformed times and zones */
    "2026-01-01T00:00:00",
    "2026-01-01T00:00Z",
    "2026-01-01T0:00:00Z",
    "2026-01-01T00:00:00.Z",
    "2026-01-01T00:00:00.",
    "2026-01-01T00:00:00+2:00",
    "2026-01-01T00:00:00+0200",
    "2026-01-01T00:00:00+02",
    "2026-01-01T00:00:00+24:00",
    "2026-01-01T00:00:00+02:60",
    "2026-01-01T00:00:00ZZ",
    "2026-01-01T00:00:00Z ",
    " 2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00 UTC",
    "2026-01-01T",
    "2026-01-01Z",
    "2026-01-01 ",
    "2026-1-1",
    "2026/01/01",
    "26-01-01",
    "20260101",
    "2026-01-01x",
    "-2026-01-01",
    "2026-01-01T00:00:00+02:00Z",
    /* malformed durations */
    "30x",
    "-5d",
    "d",
    "+d",
    "+",
    "++5d",
    "+-5d",
    "5",
    "5dd",
    "5 d",
    " 5d",
    "5d ",
    "1.5d",
    "0x10d",
    "5ds",
    "s",
    /* overflowing durations */
    "99999999999999999999s",
    "9223372036854775807s",
    "9223372036854775807w",
    "106751991167301d",
    "15250284452472w",
    /* garbage */
    "garbage",
    "now",
    "tomorrow",
    "2026",
    "\xc3\xa9",
    "2026-01-01\n",
};

static void
test_bad_arguments (void)
{
    int64_t t = UNTOUCHED;

    errno = 0;
    ok (im_time_parse (NULL, NOW, &t) == -1 && errno == EINVAL,
        "parse refuses a NULL text");
    cmp_ok (t, "==", UNTOUCHED, "parse leaves the result alone for a NULL text");
    errno = 0;
    ok (im_time_parse ("2026-01-01T00:00:00Z", NOW, NULL) == -1 && errno == EINVAL,
        "parse refuses a NULL result pointer");
    errno = 0;
    ok (im_time_parse ("30d", NOW, NULL) == -1 && errno == EINVAL,
        "parse refuses a NULL result pointer for a duration");
    errno = 0;
    ok (im_time_parse ("", NOW, &t) == -1 && errno == EINVAL,
        "parse refuses an empty text");
    cmp_ok (t, "==", UNTOUCHED, "parse leaves the result alone for an empty text");
}

static void
test_format (void)
{
    char out[IM_TIME_STR_SIZE];

    for (size_t i = 0; i < COUNT (formats); i++) {
        memset (out, 'X', sizeof out);
        char *got = im_time_format (formats[i].t, out);
        ok (got == out, "format returns its output buffer for %lld",
            (long long)formats[i].t);
        is (out, formats[i].want, "%lld formats as %s", (long long)formats[i].t,
            formats[i].want);
    }
}

static void
test_parse_good (void)
{
    char n[128];

    for (size_t i = 0; i < COUNT (good); i++) {
        int64_t t = UNTOUCHED;
        errno = 0;
        int rc = im_time_parse (good[i].in, NOW, &t);
        if (!ok (rc == 0, "parse accepts '%s'", printable (good[i].in, n, sizeof n)))
            diag ("errno %d", errno);
        cmp_ok (t, "==", good[i].want, "'%s' is %lld",
                printable (good[i].in, n, sizeof n), (long long)good[i].want);
    }

    /* Durations resolve against the NOW given, not the clock. */
    int64_t t = 0;
    ok (im_time_parse ("30d", 1000, &t) == 0 && t == 1000 + 30 * 86400,
        "a duration resolves against the NOW passed in");
    ok (im_time_parse ("1h", 0, &t) == 0 && t == 3600,
        "a duration resolves against a NOW of 0");
    ok (im_time_parse ("2026-11-23T11:12:00Z", 1000, &t) == 0 && t == 1795432320,
        "an absolute time does not depend on NOW");

    /* The largest duration that still fits, and one second more. */
    char text[64];
    snprintf (text, sizeof text, "%llds", (long long)(INT64_MAX - NOW));
    t = UNTOUCHED;
    ok (im_time_parse (text, NOW, &t) == 0 && t == INT64_MAX,
        "parse accepts a duration that reaches exactly INT64_MAX");
    snprintf (text, sizeof text, "%llds", (long long)(INT64_MAX - NOW) + 1);
    t = UNTOUCHED;
    errno = 0;
    ok (im_time_parse (text, NOW, &t) == -1 && errno == EINVAL && t == UNTOUCHED,
        "parse refuses a duration one second past INT64_MAX");
}

static void
test_parse_bad (void)
{
    char n[128];

    for (size_t i = 0; i < COUNT (bad); i++) {
        int64_t t = UNTOUCHED;
        errno = 0;
        int rc = im_time_parse (bad[i], NOW, &t);
        if (!ok (rc == -1 && errno == EINVAL, "parse refuses '%s'",
                 printable (bad[i], n, sizeof n)))
            diag ("rc %d, errno %d, t %lld", rc, errno, (long long)t);
        cmp_ok (t, "==", UNTOUCHED, "refusing '%s' leaves the result alone",
                printable (bad[i], n, sizeof n));
    }
}

static void
test_round_trip (void)
{
    char out[IM_TIME_STR_SIZE];

    for (size_t i = 0; i < COUNT (formats); i++) {
        int64_t t = UNTOUCHED;
        im_time_format (formats[i].t, out);
        int rc = im_time_parse (out, NOW, &t);
        ok (rc == 0 && t == formats[i].t, "%s parses back to %lld", out,
            (long long)formats[i].t);
    }

    /* A sweep over four centuries, in steps that hit every time of day. */
    size_t n = 0, wrong = 0;
    for (int64_t s = 0; s <= INT64_C (253402300799); s += INT64_C (86400) * 97 + 3607) {
        int64_t t = UNTOUCHED;
        im_time_format (s, out);
        if (im_time_parse (out, NOW, &t) != 0 || t != s) {
            if (wrong++ < 5)
                diag ("%lld formats as %s and parses as %lld", (long long)s, out,
                      (long long)t);
        }
        n++;
    }
    cmp_ok (n, ">", 20000, "the round-trip sweep covers more than 20000 times");
    cmp_ok (wrong, "==", 0, "every time of the sweep formats and parses back to itself");
}

static void
test_now (void)
{
    int64_t before = (int64_t)time (NULL);
    int64_t now = im_time_now ();
    int64_t after = (int64_t)time (NULL);
    ok (now >= before && now <= after, "now reads the real-time clock");
    cmp_ok (now, ">", 1700000000, "now is after November 2023");
}

/* im_time_duration: a length of time alone, as --grace and keys/grace take
 * it. */
static void
test_duration (void)
{
    int64_t t = 42;
    errno = 0;
    ok (im_time_duration (NULL, &t) == -1 && errno == EINVAL,
        "duration rejects a missing text");
    errno = 0;
    ok (im_time_duration ("7d", NULL) == -1 && errno == EINVAL,
        "duration rejects a missing result");
    static const struct {
        const char *text;
        int64_t seconds;
    } durations[] = { { "5s", 5 },      { "90m", 5400 },   { "12h", 43200 },
                      { "7d", 604800 }, { "2w", 1209600 }, { "0s", 0 } };
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++)
        ok (im_time_duration (durations[i].text, &t) == 0 && t == durations[i].seconds,
            "duration reads '%s' as %lld seconds", durations[i].text,
            (long long)durations[i].seconds);
    static const char *const not_durations[]
        = { "", "7", "d", "+7d", "-5m", "7y", "7 d", "1.5h", "2026-12-31", "7dd", "d7" };
    for (size_t i = 0; i < sizeof not_durations / sizeof not_durations[0]; i++) {
        errno = 0;
        ok (im_time_duration (not_durations[i], &t) == -1 && errno == EINVAL,
            "duration rejects '%s'", not_durations[i]);
    }
}

static const tap_test_t tests[]
    = { TAP_TEST (test_bad_arguments), TAP_TEST (test_format),
        TAP_TEST (test_parse_good),    TAP_TEST (test_parse_bad),
        TAP_TEST (test_round_trip),    TAP_TEST (test_now),
        TAP_TEST (test_duration),      TAP_END };

int
main (int argc, char **argv)
{

    return tap_main (argc, argv, tests);
}
