/* SPDX-License-Identifier: MPL-2.0 */
/* test_import.c -- unit tests for tools/im_import*.c: argument checks, format
 * names and guessing, the STIX, MISP and CSV fixtures item by item, what is
 * skipped and refused, malformed files, limits and the public samples. TAP. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include <sodium.h>
#include <uuid/uuid.h>

#include "im_import.h"
#include "im_record.h"
#include "im_ioc.h"
#include "im_util.h"
#include "tap.h"
#include "testlib.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

static char fixtures[4096];
static char publics[4096];

typedef struct {
    const char *id; /* NULL: no "id" */
    const char *type;
    const char *value;
    const char *tlp;   /* NULL: no "tlp" */
    const char *reach; /* NULL: no "reach"; else its text */
    const char *tags;  /* NULL: no "tags"; else joined with ',' */
    int revoke;
} want_t;

typedef struct {
    const char *reason;
    int count;
} reason_t;

/* The text of a field: strings as they are, integers in decimal, NULL when
 * absent. */
static const char *
field (const json_t *item, const char *key, char *buf, size_t bufsz)
{
    const json_t *v = json_object_get (item, key);
    if (!v)
        return NULL;
    if (json_is_string (v))
        return json_string_value (v);
    if (json_is_integer (v)) {
        snprintf (buf, bufsz, "%lld", (long long)json_integer_value (v));
        return buf;
    }
    return "(other)";
}

static const char *
tags_text (const json_t *item, char *buf, size_t bufsz)
{
    const json_t *tags = json_object_get (item, "tags");
    size_t i, o = 0;
    const json_t *t;
    if (!tags || json_array_size (tags) == 0)
        return NULL; /* none (an empty list says so to an update: see test_given) */
    buf[0] = '\0';
    json_array_foreach (tags, i, t) o
        += (size_t)snprintf (buf + o, bufsz > o ? bufsz - o : 0, "%s%s", i ? "," : "",
                             json_is_string (t) ? json_string_value (t) : "?");
    return buf;
}

/* Checks the items from FIRST on against the table WANT. */
static void
check_items (im_import_t *im, size_t first, const want_t *want, size_t n,
             const char *what)
{
    json_t *items = im_import_items (im);
    cmp_ok (json_array_size (items) - first, "==", n, "%s gives %zu items", what, n);
    for (size_t i = 0; i < n && first + i < json_array_size (items); i++) {
        const json_t *it = json_array_get (items, first + i);
        char b1[64], b2[64], b3[1024];
        const char *label = want[i].value;
        is (field (it, "type", b1, sizeof b1), want[i].type,
            "%s item %zu (%.40s) has type %s", what, i, label, want[i].type);
        is (field (it, "value", b1, sizeof b1), want[i].value,
            "%s item %zu has value %.40s", what, i, label);
        is (field (it, "id", b1, sizeof b1), want[i].id, "%s item %zu (%.40s) has id %s",
            what, i, label, want[i].id ? want[i].id : "(none)");
        is (field (it, "tlp", b1, sizeof b1), want[i].tlp,
            "%s item %zu (%.40s) has tlp %s", what, i, label,
            want[i].tlp ? want[i].tlp : "(none)");
        is (field (it, "reach", b2, sizeof b2), want[i].reach,
            "%s item %zu (%.40s) has reach %s", what, i, label,
            want[i].reach ? want[i].reach : "(none)");
        is (tags_text (it, b3, sizeof b3), want[i].tags,
            "%s item %zu (%.40s) has tags %s", what, i, label,
            want[i].tags ? want[i].tags : "(none)");
        ok (json_is_true (json_object_get (it, "revoke")) == want[i].revoke,
            "%s item %zu (%.40s) is %srevoked", what, i, label,
            want[i].revoke ? "" : "not ");
        ok (json_is_string (json_object_get (it, "source")),
            "%s item %zu (%.40s) names its source", what, i, label);
    }
}

/* Checks that COUNTS holds exactly the reasons of WANT. */
static void
check_counts (json_t *counts, const reason_t *want, size_t n, const char *what)
{
    cmp_ok (json_object_size (counts), "==", n, "%s has %zu reasons", what, n);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get (counts, want[i].reason);
        cmp_ok (v ? json_integer_value (v) : -1, "==", want[i].count,
                "%s counts '%s' %d times", what, want[i].reason, want[i].count);
    }
}

static char *
fixture (char *buf, size_t bufsz, const char *name)
{
    return sub_path (buf, bufsz, fixtures, name);
}

static int
ends_with (const char *s, const char *suffix)
{
    size_t a = s ? strlen (s) : 0, b = strlen (suffix);
    return s && a >= b && strcmp (s + a - b, suffix) == 0;
}

/* The name-based id of comparison N of STIX indicator UUID, computed here
 * with libuuid's version 5 in intelmesh's namespace, not by the importer. */
static const char *
derived_id (const char *uuid, int n, char out[40])
{
    char name[128];
    uuid_t ns, id;
    int len = snprintf (name, sizeof name, "indicator--%s#%d", uuid, n);
    if (uuid_parse (IM_ID_NAMESPACE, ns) != 0)
        BAIL_OUT ("cannot parse IM_ID_NAMESPACE");
    uuid_generate_sha1 (id, ns, name, (size_t)len);
    uuid_unparse_lower (id, out);
    return out;
}

static void
test_bad_arguments (void)
{
    char err[256];
    int rc;
    im_import_t *im = im_import_new ();
    ok (im != NULL, "new makes an importer");
    cmp_ok (im_import_count (im), "==", 0, "a new importer has no items");

    errno = 0;
    rc = im_import_file (NULL, "x.json", IM_FORMAT_NONE, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "import_file refuses a NULL importer");
    errno = 0;
    rc = im_import_file (im, NULL, IM_FORMAT_NONE, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "import_file refuses a NULL path");
    errno = 0;
    rc = im_import_file (im, "x.json", 99, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "import_file refuses an unknown format");
    ok (strstr (err, "unknown format 99") != NULL, "the error names the unknown format");
    errno = 0;
    rc = im_import_data (im, "x", NULL, 5, IM_FORMAT_CSV, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "import_data refuses NULL data with a length");
    errno = 0;
    rc = im_import_data (im, NULL, "type,value\n", 11, IM_FORMAT_CSV, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "import_data refuses a NULL name");
    errno = 0;
    rc = im_import_data (im, "x", "type,value\n", 11, -1, NULL, 0);
    ok (rc == -1 && errno == EINVAL,
        "import_data refuses format -1 with no error buffer");
    errno = 0;
    rc = im_import_data (im, "empty", "", 0, IM_FORMAT_CSV, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "import_data refuses an empty CSV file");
    ok (strstr (err, "empty: no CSV header line") != NULL,
        "the error says there is no header");
    errno = 0;
    rc = im_import_data (im, "nothing", "", 0, IM_FORMAT_NONE, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "import_data refuses empty data of no format");

    ok (im_import_items (NULL) == NULL, "items of NULL is NULL");
    ok (im_import_skipped (NULL) == NULL, "skipped of NULL is NULL");
    ok (im_import_refused (NULL) == NULL, "refused of NULL is NULL");
    ok (im_import_notes (NULL) == NULL, "notes of NULL is NULL");
    ok (im_import_messages (NULL) == NULL, "messages of NULL is NULL");
    cmp_ok (im_import_count (NULL), "==", 0, "count of NULL is 0");
    im_import_set_tlp (NULL, IM_TLP_RED);
    ok (1, "set_tlp on NULL does nothing");
    cmp_ok (im_import_count (im), "==", 0, "failed calls added no items");
    cmp_ok (json_object_size (im_import_refused (im)), "==", 0,
            "failed calls counted nothing");

    im_import_destroy (&im);
    ok (im == NULL, "destroy sets the pointer to NULL");
    errno = 42;
    im_import_destroy (&im);
    im_import_destroy (NULL);
    cmp_ok (errno, "==", 42, "destroy is NULL-safe and keeps errno");
}

static void
test_formats (void)
{
    static const struct {
        const char *name;
        int want;
    } good[] = {
        { "stix", IM_FORMAT_STIX }, { "STIX", IM_FORMAT_STIX },
        { "misp", IM_FORMAT_MISP }, { "Misp", IM_FORMAT_MISP },
        { "csv", IM_FORMAT_CSV },   { "CSV", IM_FORMAT_CSV },
    };
    static const char *bad[] = { "", "json", "stix2", " csv", "none", "taxii" };
    for (size_t i = 0; i < COUNT (good); i++)
        cmp_ok (im_format_parse (good[i].name), "==", good[i].want,
                "format parse reads %s", good[i].name);
    for (size_t i = 0; i < COUNT (bad); i++) {
        errno = 0;
        ok (im_format_parse (bad[i]) == -1 && errno == EINVAL,
            "format parse refuses '%s'", bad[i]);
    }
    errno = 0;
    ok (im_format_parse (NULL) == -1 && errno == EINVAL, "format parse refuses NULL");
    is (im_format_name (IM_FORMAT_STIX), "stix", "format STIX is named stix");
    is (im_format_name (IM_FORMAT_MISP), "misp", "format MISP is named misp");
    is (im_format_name (IM_FORMAT_CSV), "csv", "format CSV is named csv");
    ok (im_format_name (IM_FORMAT_NONE) == NULL, "format NONE has no name");
    ok (im_format_name (17) == NULL, "format 17 has no name");

    static const struct {
        const char *data;
        int want;
        const char *why;
    } guesses[] = {
        { "{\"type\":\"bundle\",\"objects\":[]}", IM_FORMAT_STIX, "a bundle" },
        { "\xef\xbb\xbf {\"type\":\"bundle\"}", IM_FORMAT_STIX, "a bundle after a BOM" },
        { "[{\"type\":\"indicator\",\"spec_version\":\"2.1\"}]", IM_FORMAT_STIX,
          "an array of STIX objects" },
        { "{\"type\":\"indicator\",\"spec_version\":\"2.1\"}", IM_FORMAT_STIX,
          "one STIX object" },
        { "{\"Event\":{}}", IM_FORMAT_MISP, "an event" },
        { "{\"response\":[]}", IM_FORMAT_MISP, "a restSearch response" },
        { "[{\"Event\":{}}]", IM_FORMAT_MISP, "an array of events" },
        { "type,value\nipv4,192.0.2.1\n", IM_FORMAT_CSV, "a CSV header" },
        { "\n\r\n ID , Value ,TYPE\r\n", IM_FORMAT_CSV,
          "a CSV header after blank lines" },
        { "\"type\",\"value\"\n", IM_FORMAT_CSV, "a quoted CSV header" },
        { "type,name\n", IM_FORMAT_NONE, "a CSV header without value" },
        { "hello world\n", IM_FORMAT_NONE, "plain text" },
        { "{\"name\":\"rfc1918\",\"list\":[]}", IM_FORMAT_NONE, "other JSON" },
        { "[]", IM_FORMAT_NONE, "an empty array" },
        { "[1,2]", IM_FORMAT_NONE, "an array of numbers" },
        { "{\"type\":\"bundle\"", IM_FORMAT_NONE, "broken JSON" },
        { "", IM_FORMAT_NONE, "nothing" },
    };
    for (size_t i = 0; i < COUNT (guesses); i++)
        cmp_ok (im_import_guess (guesses[i].data, strlen (guesses[i].data)),
                "==", guesses[i].want, "guess reads %s as %s", guesses[i].why,
                im_format_name (guesses[i].want) ? im_format_name (guesses[i].want)
                                                 : "nothing");
    cmp_ok (im_import_guess (NULL, 5), "==", IM_FORMAT_NONE,
            "guess returns NONE for NULL");
}

static void
test_stix (void)
{
    char path[8192], err[512], d1[40], d2[40], d3[40];
    im_import_t *im = im_import_new ();
    int rc = im_import_file (im, fixture (path, sizeof path, "stix-bundle.json"),
                             IM_FORMAT_NONE, err, sizeof err);
    ok (rc == 0, "the STIX bundle imports");
    if (rc)
        diag ("%s", err);
    const want_t want[] = {
        { "a0000001-0000-4000-8000-000000000001", "ipv4", "198.51.100.7", "amber", "2",
          "c2,loader-x", 0 },
        { "a0000001-0000-4000-8000-000000000002", "ipv4", "203.0.113.0/24", "green",
          "unlimited", NULL, 0 },
        { "a0000001-0000-4000-8000-000000000003", "ipv6", "2001:db8::7", "clear", NULL,
          NULL, 0 },
        { "a0000001-0000-4000-8000-000000000004", "domain", "evil.example", "red", NULL,
          NULL, 1 },
        { "a0000001-0000-4000-8000-000000000005", "url", "http://evil.example/it's\\here",
          NULL, NULL, NULL, 0 },
        { "a0000001-0000-4000-8000-000000000006", "email", "phish@evil.example", "green",
          NULL, NULL, 0 },
        { "a0000001-0000-4000-8000-000000000007", "md5",
          "d41d8cd98f00b204e9800998ecf8427e", NULL, NULL, NULL, 0 },
        { "a0000001-0000-4000-8000-000000000008", "sha1",
          "da39a3ee5e6b4b0d3255bfef95601890afd80709", NULL, NULL, NULL, 0 },
        { "a0000001-0000-4000-8000-000000000009", "sha256",
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NULL, NULL,
          NULL, 0 },
        { "a0000001-0000-4000-8000-000000000010", "sha512",
          "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
          "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
          NULL, NULL, NULL, 0 },
        { "a0000001-0000-4000-8000-000000000011", "filename", "invoice.pdf.exe", NULL,
          NULL, NULL, 0 },
        { "a0000001-0000-4000-8000-000000000012", "asn", "AS64500", NULL, NULL, NULL, 0 },
        { "a0000001-0000-4000-8000-000000000013", "domain", "a.evil.example", NULL, NULL,
          "pair", 0 },
        { derived_id ("a0000001-0000-4000-8000-000000000013", 1, d1), "domain",
          "b.evil.example", NULL, NULL, "pair", 0 },
        { "a0000001-0000-4000-8000-000000000014", "md5",
          "0123456789abcdef0123456789abcdef", "amber+strict", NULL, NULL, 0 },
        { derived_id ("a0000001-0000-4000-8000-000000000014", 1, d2), "sha1",
          "0123456789abcdef0123456789abcdef01234567", "amber+strict", NULL, NULL, 0 },
        { derived_id ("a0000001-0000-4000-8000-000000000014", 2, d3), "ipv4",
          "192.0.2.55", "amber+strict", NULL, NULL, 0 },
        { "a0000001-0000-4000-8000-000000000015", "domain", "custom.evil.example",
          "amber", NULL, NULL, 0 },
        { "a0000001-0000-4000-8000-000000000016", "ipv4", "192.0.2.66", "red", NULL, NULL,
          0 },
    };
    check_items (im, 0, want, COUNT (want), "the STIX bundle");
    const json_t *bare = json_array_get (im_import_items (im), 1);
    ok (json_is_array (json_object_get (bare, "tags"))
            && json_array_size (json_object_get (bare, "tags")) == 0
            && json_is_true (json_object_get (bare, "detect")),
        "a STIX indicator without labels gives tags [] and detect true: an update "
        "takes this version's, not the held ones");
    json_t *items = im_import_items (im);
    json_t *first = json_array_get (items, 0);
    char b[64];
    is (field (first, "confidence", b, sizeof b), "80", "STIX confidence is kept");
    is (field (first, "description", b, sizeof b), "Beacon target of the loader",
        "STIX description is kept");
    is (field (first, "valid_from", b, sizeof b), "2025-03-01T10:00:00Z",
        "STIX valid_from is written as RFC 3339 UTC without fractions");
    is (field (first, "valid_until", b, sizeof b), "2026-12-31T00:00:00Z",
        "STIX valid_until is kept");
    ok (ends_with (field (first, "source", b, sizeof b),
                   "stix-bundle.json:indicator--a0000001-0000-4000-8000-000000000001"),
        "the source names the file and the STIX id");
    is (field (json_array_get (items, 1), "description", b, sizeof b), "Scanning network",
        "the STIX name stands in for a missing description");
    ok (ends_with (field (json_array_get (items, 13), "source", b, sizeof b),
                   "indicator--a0000001-0000-4000-8000-000000000013#1"),
        "the second comparison's source ends with #1");
    ok (d1[14] == '5' && strchr ("89ab", d1[19]), "derived ids are version 5, RFC 4122");

    const reason_t skipped[] = {
        { "pattern not mappable", 10 },
        { "not an indicator (identity)", 1 },
        { "not an indicator (malware)", 1 },
        { "not an indicator (marking-definition)", 3 },
    };
    check_counts (im_import_skipped (im), skipped, COUNT (skipped), "STIX skipped");
    const reason_t context[] = {
        { "report", 1 },
        { "malware", 1 },
        { "relationship (indicates)", 1 },
    };
    check_counts (im_import_context (im), context, COUNT (context),
                  "STIX context taken: the report, the malware its indicator indicates");
    json_t *rep = json_array_get (im_import_reports (im), 0);
    json_t *members1 = json_pack ("[s]", "a0000001-0000-4000-8000-000000000001");
    ok (json_array_size (im_import_reports (im)) == 1
            && json_equal (json_object_get (rep, "members"), members1)
            && strcmp (json_string_value (
                           json_object_get (json_object_get (rep, "report"), "title")),
                       "Loader X campaign")
                   == 0
            && strcmp (
                   json_string_value (json_array_get (
                       json_object_get (json_object_get (rep, "report"), "malware"), 0)),
                   "Loader X")
                   == 0,
        "the STIX report gives a report item: title, malware Loader X, its one member");
    json_decref (members1);
    const reason_t refused[] = {
        { "pattern is not a string", 1 },
        { "confidence is not 0..100", 1 },
        { "value holds a NUL byte", 1 },
    };
    check_counts (im_import_refused (im), refused, COUNT (refused), "STIX refused");
    cmp_ok (json_array_size (im_import_messages (im)), "==", 3,
            "each refused STIX object has a message");
    ok (ends_with (
            json_string_value (json_array_get (im_import_messages (im), 1)),
            "indicator--c0000001-0000-4000-8000-000000000002: confidence is not 0..100"),
        "a message names the indicator and the reason");

    /* Re-importing gives the same ids. */
    size_t n = im_import_count (im);
    rc = im_import_file (im, path, IM_FORMAT_STIX, err, sizeof err);
    ok (rc == 0, "the STIX bundle imports again with --format stix");
    cmp_ok (im_import_count (im), "==", 2 * n, "the second import gives as many items");
    int same = 1;
    for (size_t i = 0; i < n; i++)
        same &= json_equal (json_array_get (items, i), json_array_get (items, n + i));
    ok (same, "the second import gives the same items, ids included");
    cmp_ok (json_integer_value (
                json_object_get (im_import_skipped (im), "pattern not mappable")),
            "==", 20, "counts add up across files");
    im_import_destroy (&im);
}

/* Patterns, one at a time, in a bundle in memory. */
static void
test_patterns (void)
{
    static const struct {
        const char *pattern; /* JSON string text */
        int items;           /* -1: skipped as not mappable */
        const char *first;   /* value of the first item */
    } table[] = {
        { "[ipv4-addr:value = '192.0.2.1']", 1, "192.0.2.1" },
        { "[ipv4-addr:value='192.0.2.1']", 1, "192.0.2.1" },
        { "  [ ipv4-addr:value  =  ' 192.0.2.1 ' ]  ", 1, "192.0.2.1" },
        { "[ipv4-addr:value == '192.0.2.1']", 1, "192.0.2.1" },
        { "[file:hashes.md5 = 'abc']", 1, "abc" },
        { "[file:hashes.'MD5' = 'abc']", 1, "abc" },
        { "[file:hashes.SHA1 = 'abc']", 1, "abc" },
        { "[file:hashes.SHA-1 = 'abc']", 1, "abc" },
        { "[file:hashes.sha1 = 'abc']", 1, "abc" },
        { "[file:hashes.'SHA-256' = 'abc']", 1, "abc" },
        { "[file:hashes.SHA512 = 'abc']", 1, "abc" },
        { "[url:value = 'a'b']", -1, NULL },
        { "[url:value = 'a\\\\'b']", 1, "a'b" },
        { "[url:value = 'a\\\\\\\\b']", 1, "a\\b" },
        { "[url:value = 'a\\\\nb']", -1, NULL },
        { "[domain-name:value = 'a.example'] OR [domain-name:value = 'b.example'] OR "
          "[domain-name:value = 'c.example']",
          3, "a.example" },
        { "([domain-name:value = 'a.example' OR (url:value = 'http://x.example/')])", 2,
          "a.example" },
        { "[autonomous-system:number = 64500]", 1, "AS64500" },
        { "[autonomous-system:number = '64500']", -1, NULL },
        { "[autonomous-system:number = 64500.5]", -1, NULL },
        { "[file:hashes.'SHA3-256' = 'abc']", -1, NULL },
        { "[file:hashes.SHA-256 = 'abc'] AND [file:name = 'x']", -1, NULL },
        { "[file:name = 'x'] or [file:name = 'y']", -1, NULL },
        { "[file:name = 'x'] ORX [file:name = 'y']", -1, NULL },
        { "[file:name = 'x'] REPEATS 5 TIMES", -1, NULL },
        { "[file:name = 'x'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
          -1, NULL },
        { "[file:name IN ('x', 'y')]", -1, NULL },
        { "[NOT file:name = 'x']", -1, NULL },
        { "[file:name > 'x']", -1, NULL },
        { "[file:size = 5]", -1, NULL },
        { "[File:name = 'x']", -1, NULL },
        { "[file:'name' = 'x']", -1, NULL },
        { "[network-traffic:dst_ref.value = '192.0.2.1']", -1, NULL },
        { "[file:hashes.md5 = h'00ff']", -1, NULL },
        { "[file:name = 'x'", -1, NULL },
        { "file:name = 'x'", -1, NULL },
        { "[file:name = 'x']]", -1, NULL },
        { "[]", -1, NULL },
        { "", -1, NULL },
        { "(([file:name = 'x'])", -1, NULL },
        { "((((((((((((((((([file:name = 'x'])))))))))))))))))", -1, NULL },
    };
    for (size_t i = 0; i < COUNT (table); i++) {
        char buf[1024], err[256], q[256];
        snprintf (buf, sizeof buf,
                  "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\","
                  "\"id\":\"indicator--11111111-2222-4333-8444-555555555555\","
                  "\"pattern\":\"%s\"}]}",
                  table[i].pattern);
        im_import_t *im = im_import_new ();
        int rc = im_import_data (im, "p.json", buf, strlen (buf), IM_FORMAT_NONE, err,
                                 sizeof err);
        printable (table[i].pattern, q, sizeof q);
        if (table[i].items > 0) {
            ok (rc == 0 && (int)im_import_count (im) == table[i].items,
                "pattern %s gives %d items", q, table[i].items);
            is (json_string_value (
                    json_object_get (json_array_get (im_import_items (im), 0), "value")),
                table[i].first, "pattern %s gives the value %s first", q, table[i].first);
        }
        else
            ok (rc == 0 && im_import_count (im) == 0
                    && json_integer_value (json_object_get (im_import_skipped (im),
                                                            "pattern not mappable"))
                           == 1,
                "pattern %s is skipped as not mappable", q);
        im_import_destroy (&im);
    }

    /* Limits: many comparisons, a huge pattern. */
    size_t big = IM_IMPORT_PATTERN_MAX + 100;
    char *buf = malloc (big + 512), err[256];
    im_import_t *im = im_import_new ();
    size_t o
        = (size_t)sprintf (buf, "{\"type\":\"bundle\",\"objects\":[{\"type\":"
                                "\"indicator\",\"id\":\"indicator--11111111-2222-4333-"
                                "8444-555555555555\",\"pattern\":\"");
    for (int k = 0; k <= IM_IMPORT_PATTERN_TERMS_MAX; k++)
        o += (size_t)sprintf (buf + o, "%s[file:name = 'f%d']", k ? " OR " : "", k);
    o += (size_t)sprintf (buf + o, "\"}]}");
    int rc = im_import_data (im, "many.json", buf, o, IM_FORMAT_STIX, err, sizeof err);
    ok (rc == 0 && im_import_count (im) == 0
            && json_object_get (im_import_skipped (im), "pattern not mappable"),
        "a pattern of %d comparisons is skipped as not mappable",
        IM_IMPORT_PATTERN_TERMS_MAX + 1);
    o = (size_t)sprintf (buf,
                         "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\","
                         "\"id\":\"indicator--11111111-2222-4333-8444-555555555555\","
                         "\"pattern\":\"[file:name = '");
    memset (buf + o, 'a', big);
    o += big;
    o += (size_t)sprintf (buf + o, "']\"}]}");
    rc = im_import_data (im, "huge.json", buf, o, IM_FORMAT_STIX, err, sizeof err);
    ok (rc == 0 && im_import_count (im) == 0
            && json_object_get (im_import_refused (im), "pattern is longer than 64 KiB"),
        "a pattern longer than 64 KiB is refused");
    free (buf);
    im_import_destroy (&im);
}

static void
test_misp (void)
{
    char path[8192], err[512], b[4200];
    im_import_t *im = im_import_new ();
    int rc = im_import_file (im, fixture (path, sizeof path, "misp-event.json"),
                             IM_FORMAT_NONE, err, sizeof err);
    ok (rc == 0, "the MISP event imports");
    if (rc)
        diag ("%s", err);
#define E(n) "e1000001-0000-4000-8000-0000000000" #n
    const want_t want[] = {
        { E (01), "ipv4", "198.51.100.7", "red", "0", "c2,osint", 0 },
        { E (02), "ipv6", "2001:db8::7", "amber", "1", "osint", 0 },
        { E (03), "domain", "evil.example", "amber", "2", "osint", 0 },
        { E (04), "domain", "www.evil.example", "amber", "unlimited", "osint", 0 },
        { E (05), "url", "http://evil.example/gate.php", "amber", "0",
          "misp:sharing-group,osint", 0 },
        { E (06), "email", "phish@evil.example", "amber", "1", "osint", 0 },
        { E (07), "email", "victim@example.org", "amber", NULL, "osint", 0 },
        { E (08), "email", "ops@evil.example", "amber", "0", "osint", 0 },
        { E (09), "md5", "d41d8cd98f00b204e9800998ecf8427e", "amber", "0", "osint", 0 },
        { E (10), "sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "amber", "0",
          "osint", 0 },
        { E (11), "sha256",
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "amber",
          "0", "osint", 0 },
        { E (12), "sha512",
          "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
          "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
          "amber", "0", "osint", 0 },
        { E (13), "filename", "loader.dll", "amber", "0", "osint", 0 },
        { E (14), "asn", "64500", "amber", "0", "osint", 0 },
        { E (15), "asn", "AS64501", "amber", "0", "osint", 0 },
        { E (16), "md5", "0123456789abcdef0123456789abcdef", "amber", "0",
          "filename:invoice.exe,osint", 0 },
        { E (17), "sha1", "0123456789abcdef0123456789abcdef01234567", "amber", "0",
          "filename:setup.exe,osint", 0 },
        { E (18), "sha256",
          "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a", "amber",
          "0", "osint", 0 },
        { E (19), "sha512",
          "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
          "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
          "amber", "0", "filename:x|y.bin,osint", 0 },
        { E (20), "domain", "mx.evil.example", "amber", "0", "osint", 0 },
        { E (21), "ipv4", "192.0.2.10", "amber", "0", "osint", 0 },
        { E (22), "ipv6", "2001:db8::10", "amber", "0", "osint", 0 },
        { E (26), "md5", "ffffffffffffffffffffffffffffffff", "amber", NULL, "osint", 0 },
        { E (27), "domain", "old.evil.example", "amber", "0", "osint", 1 },
        { E (28), "ipv4", "192.0.2.28", "clear", "0", "osint", 0 },
        { E (29), "ipv4", "192.0.2.29", "amber+strict", "0", "osint", 0 },
        { "e3000001-0000-4000-8000-000000000001", "sha256",
          "0000000000000000000000000000000000000000000000000000000000000001", "amber",
          "2", "osint", 0 },
        { "e3000001-0000-4000-8000-000000000003", "domain", "gone.evil.example", "amber",
          "1", "osint", 1 },
    };
#undef E
    check_items (im, 0, want, COUNT (want), "the MISP event");
    json_t *items = im_import_items (im);
    is (field (json_array_get (items, 0), "description", b, sizeof b), "C2 server",
        "the MISP comment is the description");
    is (field (json_array_get (items, 0), "confidence", b, sizeof b), "70",
        "the event's intelmesh:confidence tag sets the confidence");
    is (field (json_array_get (items, 1), "description", b, sizeof b),
        "Loader X campaign", "the event info stands in for a missing comment");
    is (field (json_array_get (items, 24), "description", b, sizeof b),
        "Loader X campaign", "the event info stands in for a blank comment");
    ok (json_is_false (json_object_get (json_array_get (items, 22), "detect")),
        "an attribute with to_ids false is imported with \"detect\": false");
    ok (json_is_true (json_object_get (json_array_get (items, 21), "detect")),
        "an attribute with to_ids true is imported with \"detect\": true (an update "
        "takes it)");
    is (field (json_array_get (items, 17), "description", b, sizeof b),
        "Dropper\nfilename: a-very-long-file-name-that-does-not-fit-into-a-tag-of-one-"
        "hundred-and-twenty-eight-bytes-because-it-goes-on-and-on-and-on-and-on.exe",
        "a file name too long for a tag goes into the description");
    is (field (json_array_get (items, 25), "confidence", b, sizeof b), "95",
        "the attribute's confidence tag wins over the event's");
    is (field (json_array_get (items, 25), "valid_until", b, sizeof b),
        "2026-12-31T00:00:00Z", "the intelmesh:valid-until tag sets valid_until");
    ok (ends_with (field (json_array_get (items, 0), "source", b, sizeof b),
                   "misp-event.json:attribute e1000001-0000-4000-8000-000000000001"),
        "the source names the file and the attribute uuid");
    const reason_t skipped[] = {
        { "MISP type mutex not mapped", 2 },
        { "MISP type text not mapped", 1 },
        { "MISP type size-in-bytes not mapped", 1 },
    };
    check_counts (im_import_skipped (im), skipped, COUNT (skipped), "MISP skipped");
    const reason_t refused[] = {
        { "value is not a string", 1 },
        { "distribution is not 0..5", 1 },
    };
    check_counts (im_import_refused (im), refused, COUNT (refused), "MISP refused");

    /* A restSearch response. */
    size_t n = im_import_count (im);
    rc = im_import_file (im, fixture (path, sizeof path, "misp-response.json"),
                         IM_FORMAT_MISP, err, sizeof err);
    ok (rc == 0, "the MISP response imports");
    const want_t resp[] = {
        { "f1000001-0000-4000-8000-000000000001", "domain", "one.evil.example", "green",
          "unlimited", NULL, 0 },
        { "f1000001-0000-4000-8000-000000000002", "ipv4", "198.51.100.0/24", "green",
          "unlimited", NULL, 0 },
        { "f1000002-0000-4000-8000-000000000001", "url", "https://two.evil.example/x",
          NULL, "0", NULL, 0 },
    };
    check_items (im, n, resp, COUNT (resp), "the MISP response");
    im_import_destroy (&im);

    /* A feed directory. */
    im = im_import_new ();
    rc = im_import_file (im, fixture (path, sizeof path, "misp-feed"), IM_FORMAT_NONE,
                         err, sizeof err);
    ok (rc == 0, "the MISP feed directory imports");
    if (rc)
        diag ("%s", err);
    const want_t feed[] = {
        { "a1000001-0000-4000-8000-000000000001", "ipv4", "192.0.2.101", "clear",
          "unlimited", NULL, 0 },
        { "a1000001-0000-4000-8000-000000000002", "domain", "feed.evil.example", "clear",
          "unlimited", NULL, 0 },
        { "a2000001-0000-4000-8000-000000000001", "sha1",
          "1111111111111111111111111111111111111111", "green", "2", "feed-two", 0 },
    };
    check_items (im, 0, feed, COUNT (feed), "the MISP feed");
    ok (strstr (field (json_array_get (im_import_items (im), 2), "source", b, sizeof b),
                "misp-feed/a1b2c3d4-0000-4000-8000-000000000002.json:attribute ")
            != NULL,
        "a feed item's source names its event file");
    const reason_t feed_skipped[] = { { "MISP type mutex not mapped", 1 } };
    check_counts (im_import_skipped (im), feed_skipped, 1, "MISP feed skipped");

    errno = 0;
    rc = im_import_file (im, fixture (path, sizeof path, "misp-feed-missing"),
                         IM_FORMAT_NONE, err, sizeof err);
    ok (rc == -1 && errno == ENOENT, "a feed whose manifest names a missing file fails");
    ok (strstr (err,
                "misp-feed-missing/b1b2c3d4-0000-4000-8000-000000000002.json: listed "
                "in manifest.json but missing")
            != NULL,
        "the error names the missing event file");
    cmp_ok (im_import_count (im), "==", COUNT (feed),
            "the failing feed adds no items, not even from the event that is there");
    errno = 0;
    rc = im_import_file (im, fixture (path, sizeof path, "misp-feed"), IM_FORMAT_CSV, err,
                         sizeof err);
    ok (rc == -1 && errno == EINVAL, "a directory is refused with --format csv");
    errno = 0;
    rc = im_import_file (im, fixtures, IM_FORMAT_NONE, err, sizeof err);
    ok (rc == -1 && errno == ENOENT && strstr (err, "manifest.json"),
        "a directory without manifest.json fails naming manifest.json");
    im_import_destroy (&im);
}

static void
test_csv (void)
{
    char path[8192], err[512], b[256];
    im_import_t *im = im_import_new ();
    int rc = im_import_file (im, fixture (path, sizeof path, "csv-good.csv"),
                             IM_FORMAT_NONE, err, sizeof err);
    ok (rc == 0, "the good CSV file imports");
    if (rc)
        diag ("%s", err);
    const want_t want[] = {
        { "c1000001-0000-4000-8000-000000000001", "ipv4", "198.51.100.7", "amber", "2",
          "c2,loader-x", 0 },
        { NULL, "domain", "Evil.Example", NULL, NULL, NULL, 0 },
        { "c1000001-0000-4000-8000-000000000003", "ipv6", "2001:db8::7", "clear",
          "unlimited", "spaced tag,second", 0 },
        { NULL, "md5", "0123456789abcdef0123456789abcdef", "red", "0",
          "filename:invoice.exe", 1 },
        { NULL, "asn", "64500", "amber+strict", "254", NULL, 1 },
        { NULL, "sha256",
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "green",
          NULL, NULL, 0 },
        { NULL, "domain", "www.evil.example", NULL, NULL, NULL, 1 },
    };
    check_items (im, 0, want, COUNT (want), "the good CSV file");
    json_t *items = im_import_items (im);
    ok (json_object_get (json_array_get (items, 1), "tags") == NULL
            && json_object_get (json_array_get (items, 1), "confidence") == NULL
            && json_object_get (json_array_get (items, 1), "detect") == NULL,
        "an empty CSV cell gives no field: an update keeps the held tags, confidence "
        "and detection flag");
    is (field (json_array_get (items, 0), "description", b, sizeof b),
        "C2 server, seen in \"Loader X\"", "a quoted CSV cell keeps commas and quotes");
    is (field (json_array_get (items, 2), "description", b, sizeof b), "two\nlines",
        "a quoted CSV cell spans lines (CR LF becomes a newline)");
    is (field (json_array_get (items, 2), "valid_from", b, sizeof b),
        "2025-03-01T00:00:00Z", "a date is read as its midnight UTC");
    is (field (json_array_get (items, 0), "confidence", b, sizeof b), "80",
        "the CSV confidence is kept");
    ok (ends_with (field (json_array_get (items, 4), "source", b, sizeof b),
                   "csv-good.csv:8"),
        "the source names the line, counting the quoted line break");
    cmp_ok (json_object_size (im_import_refused (im)), "==", 0,
            "the good CSV file refuses nothing");

    rc = im_import_file (im, fixture (path, sizeof path, "csv-bad.csv"), IM_FORMAT_CSV,
                         err, sizeof err);
    ok (rc == 0, "the bad CSV file imports what it can");
    const want_t bad[] = {
        { NULL, "ipv4", "192.0.2.1", "green", NULL, "ok", 0 },
        { NULL, "ipv4", "192.0.2.6", NULL, NULL, "last", 0 },
    };
    check_items (im, COUNT (want), bad, COUNT (bad), "the bad CSV file");
    const reason_t refused[] = {
        { "malformed CSV line", 5 },
        { "tlp is not a TLP label", 1 },
        { "value is empty", 1 },
        { "type is empty", 1 },
    };
    check_counts (im_import_refused (im), refused, COUNT (refused), "CSV refused");
    const reason_t skipped[] = {
        { "type mutant not mapped", 2 },
        { "type mutex not mapped", 1 },
    };
    check_counts (im_import_skipped (im), skipped, COUNT (skipped), "CSV skipped");
    json_t *msgs = im_import_messages (im);
    static const char *lines[] = {
        "csv-bad.csv:3: malformed CSV line (3 cells, the header has 4)",
        "csv-bad.csv:4: malformed CSV line (5 cells, the header has 4)",
        "csv-bad.csv:5: malformed CSV line (bad quoting)",
        "csv-bad.csv:6: malformed CSV line (bad quoting)",
        "csv-bad.csv:7: tlp is not a TLP label",
        "csv-bad.csv:11: value is empty",
        "csv-bad.csv:12: type is empty",
        "csv-bad.csv:15: malformed CSV line (bad quoting)",
    };
    cmp_ok (json_array_size (msgs), "==", COUNT (lines),
            "each refused CSV line has a message");
    for (size_t i = 0; i < COUNT (lines) && i < json_array_size (msgs); i++)
        ok (ends_with (json_string_value (json_array_get (msgs, i)), lines[i]),
            "message %zu is '%s'", i, lines[i]);
    im_import_destroy (&im);

    /* More CSV cases, in memory. */
    static const struct {
        const char *data;
        int rc;             /* 0, or the errno */
        const char *expect; /* the error, or the reason counted (refused or skipped) */
    } table[] = {
        { "type,value\nipv4,192.0.2.1\n", 0, NULL },
        { "type,value\nipv4,192.0.2.1", 0, NULL },
        { "type,value\r\nipv4,192.0.2.1\r\n", 0, NULL },
        { "\"TYPE\",\"Value\"\n\"ipv4\",\"192.0.2.1\"\n", 0, NULL },
        { "type,value,origin\nipv4,192.0.2.1,ffff\n", 0, NULL },
        { "value,type\n192.0.2.1,ipv4\n", 0, NULL },
        { "type,value,colour\nipv4,192.0.2.1,x\n", EINVAL,
          "x.csv:1: unknown column 'colour'" },
        { "type,type,value\nipv4,ipv4,192.0.2.1\n", EINVAL,
          "column 'type' appears twice" },
        { "type\nipv4\n", EINVAL, "x.csv:1: the header has no 'value' column" },
        { "value\n1.2.3.4\n", EINVAL, "the header has no 'type' column" },
        { "\n\n", EINVAL, "x.csv: no CSV header line" },
        { "\"type,value\n", EINVAL, "x.csv:1: malformed CSV header" },
        { "type,value,confidence\nipv4,192.0.2.1,101\n", 0, "confidence is not 0..100" },
        { "type,value,confidence\nipv4,192.0.2.1,-1\n", 0, "confidence is not 0..100" },
        { "type,value,reach\nipv4,192.0.2.1,255\n", 0,
          "reach is not 0..254 or unlimited" },
        { "type,value,revoke\nipv4,192.0.2.1,maybe\n", 0, "revoke is not true or false" },
        { "type,value,id\nipv4,192.0.2.1,not-a-uuid\n", 0, "id is not a UUID" },
        { "type,value,valid_until\nipv4,192.0.2.1,+30d\n", 0,
          "valid_until is not an RFC 3339 time" },
        { "type,value,valid_from\nipv4,192.0.2.1,2025-02-30\n", 0,
          "valid_from is not an RFC 3339 time" },
        { "type,value\nipv4,\"192.0.2.1\"x\n", 0, "malformed CSV line" },
        { "type,value\nipv4,192.0.2.1\xff\n", 0, "cell is not UTF-8 text" },
        { "type,value\nfilename|md5,nobar\n", 0,
          "value is not in the form the MISP type needs" },
        { "type,value\nipv4,\"   \"\n", 0, "value is empty" },
        { "type,value\nmutex,x\n", 0, "type mutex not mapped" },
    };
    for (size_t i = 0; i < COUNT (table); i++) {
        char q[256];
        im = im_import_new ();
        errno = 0;
        rc = im_import_data (im, "x.csv", table[i].data, strlen (table[i].data),
                             IM_FORMAT_CSV, err, sizeof err);
        printable (table[i].data, q, sizeof q);
        if (table[i].rc) {
            ok (rc == -1 && errno == table[i].rc && strstr (err, table[i].expect),
                "CSV '%s' fails with '%s'", q, table[i].expect);
            if (rc == 0 || !strstr (err, table[i].expect))
                diag ("got: %s", rc ? err : "success");
        }
        else if (table[i].expect)
            ok (rc == 0 && im_import_count (im) == 0
                    && (json_object_get (im_import_refused (im), table[i].expect)
                        || json_object_get (im_import_skipped (im), table[i].expect)),
                "CSV '%s' counts '%s'", q, table[i].expect);
        else
            ok (rc == 0 && im_import_count (im) == 1
                    && strcmp (json_string_value (json_object_get (
                                   json_array_get (im_import_items (im), 0), "value")),
                               "192.0.2.1")
                           == 0,
                "CSV '%s' gives 192.0.2.1", q);
        im_import_destroy (&im);
    }
}

static void
test_malformed (void)
{
    static const struct {
        const char *file;
        int format;
        int err;
        const char *why;
    } table[] = {
        { "broken.json", IM_FORMAT_NONE, EINVAL,
          "broken.json: line 4, column 25: string or '}' expected near ','" },
        { "stix-objects-number.json", IM_FORMAT_NONE, EINVAL,
          "stix-objects-number.json: \"objects\" is not an array" },
        { "misp-attribute-string.json", IM_FORMAT_NONE, EINVAL,
          "misp-attribute-string.json: Event 0: \"Attribute\" is not an array" },
        { "misp-object-bad.json", IM_FORMAT_NONE, EINVAL,
          "Event 1: Object 0 is not an object with an \"Attribute\" array" },
        { "csv-unknown-column.csv", IM_FORMAT_NONE, EINVAL, "unknown column 'colour'" },
        { "unknown.txt", IM_FORMAT_NONE, EINVAL, "unknown.txt: cannot tell the format" },
        { "unknown.txt", IM_FORMAT_STIX, EINVAL,
          "unknown.txt: line 1, column 4: '[' or '{' expected" },
        { "stix-bundle.json", IM_FORMAT_MISP, EINVAL,
          "stix-bundle.json: not a MISP event (no \"Event\" or \"response\")" },
        { "misp-event.json", IM_FORMAT_STIX, EINVAL,
          "misp-event.json: not a STIX bundle" },
        { "no-such-file.json", IM_FORMAT_NONE, ENOENT,
          "no-such-file.json: No such file" },
    };
    char path[8192], err[512];
    im_import_t *im = im_import_new ();
    for (size_t i = 0; i < COUNT (table); i++) {
        errno = 0;
        int rc = im_import_file (im, fixture (path, sizeof path, table[i].file),
                                 table[i].format, err, sizeof err);
        ok (rc == -1 && errno == table[i].err, "%s as %s fails with %s", table[i].file,
            table[i].format ? im_format_name (table[i].format) : "a guess",
            strerror (table[i].err));
        ok (strstr (err, table[i].why) != NULL, "the error for %s says '%s'",
            table[i].file, table[i].why);
        if (!strstr (err, table[i].why))
            diag ("got: %s", err);
    }
    cmp_ok (im_import_count (im), "==", 0, "failing files add no items");
    cmp_ok (json_object_size (im_import_skipped (im))
                + json_object_size (im_import_refused (im))
                + json_array_size (im_import_messages (im)),
            "==", 0, "failing files add no counts and no messages");

    /* Wrong types inside otherwise good files are refused one by one. */
    static const struct {
        const char *data;
        const char *reason;
    } inner[] = {
        { "{\"type\":\"bundle\",\"objects\":[5]}", "object is not a JSON object" },
        { "{\"type\":\"bundle\",\"objects\":[{\"id\":\"x\"}]}", "object has no type" },
        { "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--"
          "x\","
          "\"pattern\":\"[file:name = 'x']\"}]}",
          "id is not indicator--UUID" },
        { "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--"
          "11111111-2222-4333-8444-555555555555\",\"pattern\":\"[file:name = 'x']\","
          "\"labels\":\"x\"}]}",
          "labels is not an array of strings" },
        { "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--"
          "11111111-2222-4333-8444-555555555555\",\"pattern\":\"[file:name = 'x']\","
          "\"revoked\":\"perhaps\"}]}",
          "revoked is not true or false" },
        { "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--"
          "11111111-2222-4333-8444-555555555555\",\"pattern\":\"[file:name = 'x']\","
          "\"valid_from\":\"yesterday\"}]}",
          "valid_from is not an RFC 3339 time" },
        { "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--"
          "11111111-2222-4333-8444-555555555555\",\"pattern\":\"[file:name = 'x']\","
          "\"object_marking_refs\":{}}]}",
          "object_marking_refs is not an array of ids" },
        { "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--"
          "11111111-2222-4333-8444-555555555555\",\"pattern\":\"[file:name = 'x']\","
          "\"x_intelmesh_reach\":255}]}",
          "x_intelmesh_reach is not 0..254 or \"unlimited\"" },
        { "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--"
          "11111111-2222-4333-8444-555555555555\",\"pattern\":\"[file:name = 'x']\","
          "\"x_intelmesh_detect\":\"maybe\"}]}",
          "x_intelmesh_detect is not true or false" },
        { "{\"Event\":{\"Attribute\":[7]}}", "attribute is not a JSON object" },
        { "{\"Event\":{\"Attribute\":[{\"type\":5,\"value\":\"x\"}]}}",
          "type is not a string" },
        { "{\"Event\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"a\\u0000b."
          "example\"}]}}",
          "value holds a NUL byte" },
        { "{\"Event\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"x.example\","
          "\"uuid\":\"nope\"}]}}",
          "uuid is not a UUID" },
        { "{\"Event\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"x.example\","
          "\"to_ids\":\"sometimes\"}]}}",
          "to_ids is not true or false" },
        { "{\"Event\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"x.example\","
          "\"Tag\":\"red\"}]}}",
          "Tag is not an array of tags" },
        { "{\"Event\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"x.example\","
          "\"Tag\":[{\"name\":\"intelmesh:confidence=\\\"300\\\"\"}]}]}}",
          "intelmesh:confidence tag is not 0..100" },
        { "{\"Event\":{\"Attribute\":[{\"type\":\"ip-src|port\",\"value\":\"192.0.2.1\"}]"
          "}}",
          "value is not in the form the MISP type needs" },
    };
    for (size_t i = 0; i < COUNT (inner); i++) {
        char q[300];
        im_import_t *one = im_import_new ();
        int rc = im_import_data (one, "in.json", inner[i].data, strlen (inner[i].data),
                                 IM_FORMAT_NONE, err, sizeof err);
        printable_cut (inner[i].data, 60, q, sizeof q);
        ok (rc == 0 && im_import_count (one) == 0
                && json_integer_value (
                       json_object_get (im_import_refused (one), inner[i].reason))
                       == 1,
            "%s is refused as '%s'", q, inner[i].reason);
        if (rc)
            diag ("got: %s", err);
        im_import_destroy (&one);
    }
    im_import_destroy (&im);
}

static void
test_limits (void)
{
    char dir[64], path[128], err[512];
    make_dir (dir, sizeof dir, "import");
    sub_path (path, sizeof path, dir, "huge.json");
    int fd = open (path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    ok (fd >= 0 && ftruncate (fd, (off_t)300 * 1024 * 1024) == 0,
        "a sparse 300 MB file is made");
    if (fd >= 0)
        close (fd);
    im_import_t *im = im_import_new ();
    errno = 0;
    int rc = im_import_file (im, path, IM_FORMAT_NONE, err, sizeof err);
    ok (rc == -1 && errno == EFBIG, "a file larger than 256 MiB is refused with EFBIG");
    ok (strstr (err, "huge.json: larger than 256 MiB") != NULL,
        "the EFBIG error names the file");

    sub_path (path, sizeof path, dir, "fifo");
    if (mkfifo (path, 0600) == 0) {
        errno = 0;
        rc = im_import_file (im, path, IM_FORMAT_NONE, err, sizeof err);
        ok (rc == -1 && errno == EINVAL && strstr (err, "not a regular file"),
            "a FIFO is refused as not a regular file");
    }
    else
        ok (1, "# SKIP mkfifo failed");
    remove_dir (dir);

    /* The label floor. */
    const char *csv = "type,value,tlp\nipv4,192.0.2.1,\nipv4,192.0.2.2,clear\n"
                      "ipv4,192.0.2.3,amber\nipv4,192.0.2.4,red\n";
    im_import_set_tlp (im, IM_TLP_AMBER);
    rc = im_import_data (im, "floor.csv", csv, strlen (csv), IM_FORMAT_CSV, err,
                         sizeof err);
    ok (rc == 0, "a CSV file imports under a label floor");
    const want_t floor[] = {
        { NULL, "ipv4", "192.0.2.1", "amber", NULL, NULL, 0 },
        { NULL, "ipv4", "192.0.2.2", "amber", NULL, NULL, 0 },
        { NULL, "ipv4", "192.0.2.3", "amber", NULL, NULL, 0 },
        { NULL, "ipv4", "192.0.2.4", "red", NULL, NULL, 0 },
    };
    check_items (im, 0, floor, COUNT (floor), "the floor AMBER");
    im_import_set_tlp (im, 99);
    im_import_set_tlp (im, IM_TLP_NONE);
    rc = im_import_data (im, "nofloor.csv", csv, strlen (csv), IM_FORMAT_CSV, err,
                         sizeof err);
    ok (rc == 0 && !json_object_get (json_array_get (im_import_items (im), 4), "tlp"),
        "without a floor an item without TLP stays without");
    im_import_destroy (&im);

    /* Descriptions: cut at 4096 bytes on a character boundary. */
    size_t big = 6000;
    char *data = malloc (big + 64);
    size_t o = (size_t)sprintf (data, "type,value,description\nipv4,192.0.2.1,a");
    for (size_t i = 0; i < big / 2; i++, o += 2)
        memcpy (data + o, "\xc3\xa9", 2);
    o += (size_t)sprintf (data + o, "\n");
    im = im_import_new ();
    rc = im_import_data (im, "long.csv", data, o, IM_FORMAT_CSV, err, sizeof err);
    const char *desc = json_string_value (
        json_object_get (json_array_get (im_import_items (im), 0), "description"));
    ok (rc == 0 && desc, "a long description is imported");
    cmp_ok (desc ? strlen (desc) : 0, "==", 4095,
            "it is cut to 4095 bytes, before a split character");
    ok (desc && im_utf8_valid (desc, strlen (desc)),
        "the cut description is valid UTF-8");
    cmp_ok (json_integer_value (
                json_object_get (im_import_notes (im), "description cut to 4096 bytes")),
            "==", 1, "the cut is noted");

    /* Tags: too long or too many are dropped and noted. */
    o = (size_t)sprintf (data, "type,value,tags\nipv4,192.0.2.1,");
    for (int i = 0; i < 40; i++)
        o += (size_t)sprintf (data + o, "t%d;", i);
    memset (data + o, 'x', 200);
    o += 200;
    o += (size_t)sprintf (data + o, "\n");
    rc = im_import_data (im, "tags.csv", data, o, IM_FORMAT_CSV, err, sizeof err);
    json_t *tags = json_object_get (json_array_get (im_import_items (im), 1), "tags");
    ok (rc == 0, "a line with 41 tags imports");
    cmp_ok (json_array_size (tags), "==", 32, "it keeps 32 tags");
    cmp_ok (json_integer_value (json_object_get (im_import_notes (im),
                                                 "tag dropped (too long or too many)")),
            "==", 1, "the dropped tags are noted once for the item");
    free (data);

    /* Control characters in a description become spaces. */
    const char *ctl = "{\"Event\":{\"info\":\"a\\u0000b\\u001bc\\r\\nd\",\"Attribute\":"
                      "[{\"type\":\"domain\",\"value\":\"x.example\"}]}}";
    rc = im_import_data (im, "ctl.json", ctl, strlen (ctl), IM_FORMAT_NONE, err,
                         sizeof err);
    is (json_string_value (
            json_object_get (json_array_get (im_import_items (im), 2), "description")),
        "a b c\nd", "control characters in a description become spaces");
    im_import_destroy (&im);
}

/* The public samples of tests/data/public (see tests/data/README.md). */
static char *
public_file (char *buf, size_t bufsz, const char *name)
{
    return sub_path (buf, bufsz, publics, name);
}

static void
test_public_samples (void)
{
    char path[8192], err[512];
    im_import_t *im = im_import_new ();
    int rc
        = im_import_file (im, public_file (path, sizeof path, "stix21-apt1-bundle.json"),
                          IM_FORMAT_NONE, err, sizeof err);
    if (!ok (rc == 0, "the public STIX APT1 bundle imports"))
        diag ("%s", err);
    char *s = json_dumps (im_import_skipped (im), JSON_SORT_KEYS | JSON_COMPACT);
    diag ("stix21-apt1-bundle.json: %zu items, skipped %s", im_import_count (im), s);
    free (s);
    cmp_ok (im_import_count (im), "==", 10,
            "it yields 10 indicators (4 networks, 3 domains, 3 MD5 hashes)");
    cmp_ok (json_integer_value (
                json_object_get (im_import_skipped (im), "pattern not mappable")),
            "==", 2, "its two x509 AND patterns are not mappable");
    const reason_t apt1[] = {
        { "not an indicator (identity)", 4 },
        { "relationship not read (attributed-to)", 7 },
        { "pattern not mappable", 2 },
    };
    check_counts (im_import_skipped (im), apt1, COUNT (apt1),
                  "the APT1 bundle's skipped");
    cmp_ok (json_object_size (im_import_refused (im)), "==", 0,
            "nothing of the APT1 bundle is refused");
    size_t n = im_import_count (im);
    rc = im_import_file (im, public_file (path, sizeof path, "misp-event-regin.json"),
                         IM_FORMAT_NONE, err, sizeof err);
    if (!ok (rc == 0, "the public MISP Regin event imports"))
        diag ("%s", err);
    s = json_dumps (im_import_skipped (im), JSON_SORT_KEYS | JSON_COMPACT);
    diag ("misp-event-regin.json: %zu items, skipped (both files) %s",
          im_import_count (im) - n, s);
    free (s);
    cmp_ok (im_import_count (im) - n, "==", 36,
            "it yields 27 MD5 hashes, 6 file names (to_ids false) and 3 regkeys");
    ok (json_object_get (im_import_skipped (im), "MISP type regkey not mapped") == NULL,
        "regkeys are mapped (the node refuses the 2 without a hive: t59)");
    size_t regkeys = 0;
    for (size_t k = n; k < im_import_count (im); k++)
        regkeys += strcmp (json_string_value (json_object_get (
                               json_array_get (im_import_items (im), k), "type")),
                           "regkey")
                   == 0;
    cmp_ok (regkeys, "==", 3, "its 3 regkeys are items of type regkey");
    im_import_destroy (&im);
}

/* OASIS's STIX 2.1 indicator examples (tests/data/public): each file holds one
 * indicator beside a malware and a relationship; the indicator is imported
 * with its id, the other two objects are not indicators. */
static void
test_public_indicators (void)
{
    static const struct {
        const char *file, *id, *type, *value;
    } table[] = {
        { "indicator-for-malicious-url.json", "d81f86b9-975b-4c0b-875e-810c5ad45a4f",
          "url", "http://x4z9arb.cn/4712/" },
        { "malware-indicator-for-file-hash.json", "a932fcc6-e032-476c-826f-cb970a5a1ade",
          "sha256", "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c" },
    };
    char path[8192], err[512];
    for (size_t i = 0; i < COUNT (table); i++) {
        im_import_t *im = im_import_new ();
        int rc = im_import_file (im, public_file (path, sizeof path, table[i].file),
                                 IM_FORMAT_NONE, err, sizeof err);
        if (!ok (rc == 0, "OASIS's %s imports", table[i].file))
            diag ("%s", err);
        cmp_ok (im_import_count (im), "==", 1, "%s gives one indicator", table[i].file);
        json_t *it = json_array_get (im_import_items (im), 0);
        is (json_string_value (json_object_get (it, "type")), table[i].type,
            "%s: its type is %s", table[i].file, table[i].type);
        is (json_string_value (json_object_get (it, "value")), table[i].value,
            "%s: its value is the pattern's", table[i].file);
        is (json_string_value (json_object_get (it, "id")), table[i].id,
            "%s: the indicator's id is kept", table[i].file);
        cmp_ok (json_object_size (im_import_refused (im)), "==", 0,
                "%s: nothing is refused", table[i].file);
        im_import_destroy (&im);
    }
}

/* ESET's published MISP events (tests/data/eset, see its README): every
 * attribute has to_ids false; each one of a mapped type is imported, not for
 * detection, with its uuid as the id. */
static void
test_eset_events (void)
{
    static const struct {
        const char *file;
        size_t items, text, link;
    } events[] = {
        /* 29 domains, 14 file names, 13 SHA-1, 3 ip-dst; 11 text, 1 link */
        { "misp-xdspy-event.json", 59, 11, 1 },
        /* 7 email-dst, 4 email-src, 15 filename|hash, 2 urls; 4 text */
        { "2018-11-20_Zebrocy.json", 28, 4, 0 },
    };
    char path[4096], err[512];
    for (size_t i = 0; i < COUNT (events); i++) {
        im_import_t *im = im_import_new ();
        snprintf (path, sizeof path, "%s/tests/data/eset/%s", IM_TOP_SRCDIR,
                  events[i].file);
        int rc = im_import_file (im, path, IM_FORMAT_NONE, err, sizeof err);
        if (!ok (rc == 0, "ESET's %s imports", events[i].file))
            diag ("%s", err);
        cmp_ok (im_import_count (im), "==", events[i].items,
                "%s gives %zu indicators, one for every attribute of a mapped type",
                events[i].file, events[i].items);
        json_t *skipped = im_import_skipped (im);
        cmp_ok (
            json_integer_value (json_object_get (skipped, "MISP type text not mapped")),
            "==", events[i].text, "%s: its %zu text attributes are not mapped",
            events[i].file, events[i].text);
        cmp_ok (
            json_integer_value (json_object_get (skipped, "MISP type link not mapped")),
            "==", events[i].link, "%s: its %zu link attributes are not mapped",
            events[i].file, events[i].link);
        cmp_ok (json_object_size (skipped), "==", (events[i].link ? 2 : 1),
                "%s: nothing else is skipped", events[i].file);
        cmp_ok (json_object_size (im_import_refused (im)), "==", 0,
                "%s: nothing is refused", events[i].file);
        size_t not_detect = 0, with_id = 0, k;
        json_t *item;
        json_array_foreach (im_import_items (im), k, item)
        {
            not_detect += json_is_false (json_object_get (item, "detect"));
            with_id += json_is_string (json_object_get (item, "id"));
        }
        cmp_ok (not_detect, "==", events[i].items,
                "%s: every indicator is not for detection (to_ids false)",
                events[i].file);
        cmp_ok (with_id, "==", events[i].items,
                "%s: every indicator keeps its attribute's uuid as its id",
                events[i].file);
        im_import_destroy (&im);
    }
    /* STIX: only intelmesh's own extension marks an indicator so. */
    static const char *const stix
        = "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"id\":"
          "\"indicator--11111111-2222-4333-8444-555555555555\",\"pattern_type\":\"stix\","
          "\"pattern\":\"[domain-name:value = "
          "'a.example']\",\"x_intelmesh_detect\":false},"
          "{\"type\":\"indicator\",\"id\":\"indicator--11111111-2222-4333-8444-"
          "555555555556\",\"pattern_type\":\"stix\",\"pattern\":\"[domain-name:value = "
          "'b.example']\",\"indicator_types\":[\"benign\"]}]}";
    im_import_t *im = im_import_new ();
    int rc = im_import_data (im, "x.json", stix, strlen (stix), IM_FORMAT_STIX, err,
                             sizeof err);
    json_t *items = im_import_items (im);
    ok (rc == 0 && json_array_size (items) == 2
            && json_is_false (json_object_get (json_array_get (items, 0), "detect"))
            && json_is_true (json_object_get (json_array_get (items, 1), "detect")),
        "STIX: x_intelmesh_detect false imports not for detection; nothing else does");
    im_import_destroy (&im);
}

static const tap_test_t tests[]
    = { TAP_TEST (test_bad_arguments),  TAP_TEST (test_formats),
        TAP_TEST (test_stix),           TAP_TEST (test_patterns),
        TAP_TEST (test_misp),           TAP_TEST (test_csv),
        TAP_TEST (test_malformed),      TAP_TEST (test_limits),
        TAP_TEST (test_public_samples), TAP_TEST (test_public_indicators),
        TAP_TEST (test_eset_events),    TAP_END };

int
main (int argc, char **argv)
{
    snprintf (fixtures, sizeof fixtures, "%s/tests/data/import", top_srcdir ());
    snprintf (publics, sizeof publics, "%s/tests/data/public", top_srcdir ());
    if (sodium_init () < 0)
        BAIL_OUT ("sodium_init failed");
    return tap_main (argc, argv, tests);
}
