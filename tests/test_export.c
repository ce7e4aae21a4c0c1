/* SPDX-License-Identifier: MPL-2.0 */
/* test_export.c -- unit tests for tools/im_export.c: argument checks, refused
 * records, the STIX 2.1 bundle, MISP event and CSV text of small record sets
 * (every type, every TLP, escaping, revocation, reach), empty exports, write
 * errors, and export-then-import round trips through the importers. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "im_export.h"
#include "im_import.h"
#include "im_ioc.h"
#include "im_record.h"
#include "im_time.h"
#include "tap.h"
#include "testlib.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

/* 2026-11-23T10:00:00Z: every test record's created time. */
#define T0 INT64_C (1795428000)
/* The export time: an hour later. */
#define NOW (T0 + 3600)
#define ORIGIN_HEX "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"

static const char *const formats[] = { "stix", "misp", "csv" };

static const char *const marking_ids[IM_TLP_COUNT] = {
    [IM_TLP_CLEAR] = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    [IM_TLP_GREEN] = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    [IM_TLP_AMBER] = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    [IM_TLP_AMBER_STRICT] = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    [IM_TLP_RED] = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
};
static const char *const marking_names[IM_TLP_COUNT] = {
    [IM_TLP_CLEAR] = "TLP:CLEAR", [IM_TLP_GREEN] = "TLP:GREEN",
    [IM_TLP_AMBER] = "TLP:AMBER", [IM_TLP_AMBER_STRICT] = "TLP:AMBER+STRICT",
    [IM_TLP_RED] = "TLP:RED",
};
static const char *const misp_tlp[IM_TLP_COUNT] = {
    [IM_TLP_CLEAR] = "tlp:clear", [IM_TLP_GREEN] = "tlp:green",
    [IM_TLP_AMBER] = "tlp:amber", [IM_TLP_AMBER_STRICT] = "tlp:amber+strict",
    [IM_TLP_RED] = "tlp:red",
};

/* One record of every type, with what each format makes of it. */
typedef struct {
    int type;
    const char *value;   /* canonical */
    const char *pattern; /* STIX */
    const char *misp_type;
    const char *category;
    const char *misp_value;
} typed_t;

static const typed_t typed[] = {
    { IM_TYPE_IPV4, "198.51.100.7", "[ipv4-addr:value = '198.51.100.7']", "ip-dst",
      "Network activity", "198.51.100.7" },
    { IM_TYPE_IPV4, "203.0.113.0/24", "[ipv4-addr:value = '203.0.113.0/24']", "ip-dst",
      "Network activity", "203.0.113.0/24" },
    { IM_TYPE_IPV6, "2001:db8::1", "[ipv6-addr:value = '2001:db8::1']", "ip-dst",
      "Network activity", "2001:db8::1" },
    { IM_TYPE_DOMAIN, "evil.example", "[domain-name:value = 'evil.example']", "domain",
      "Network activity", "evil.example" },
    { IM_TYPE_URL, "http://evil.example/a'b\\c",
      "[url:value = 'http://evil.example/a\\'b\\\\c']", "url", "Network activity",
      "http://evil.example/a'b\\c" },
    { IM_TYPE_EMAIL, "o'brien@example.ie", "[email-addr:value = 'o\\'brien@example.ie']",
      "email-src", "Payload delivery", "o'brien@example.ie" },
    { IM_TYPE_MD5, "d41d8cd98f00b204e9800998ecf8427e",
      "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']", "md5", "Payload delivery",
      "d41d8cd98f00b204e9800998ecf8427e" },
    { IM_TYPE_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
      "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']", "sha1",
      "Payload delivery", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
    { IM_TYPE_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "[file:hashes.'SHA-256' = "
      "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
      "sha256", "Payload delivery",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { IM_TYPE_SHA512,
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
      "[file:hashes.'SHA-512' = "
      "'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e']",
      "sha512", "Payload delivery",
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" },
    { IM_TYPE_FILENAME, "it's a \\ file.exe", "[file:name = 'it\\'s a \\\\ file.exe']",
      "filename", "Payload delivery", "it's a \\ file.exe" },
    { IM_TYPE_FILENAME,
      "Rechnung \xc3\x9c"
      "ber.pdf",
      "[file:name = 'Rechnung \xc3\x9c"
      "ber.pdf']",
      "filename", "Payload delivery",
      "Rechnung \xc3\x9c"
      "ber.pdf" },
    { IM_TYPE_ASN, "AS64500", "[autonomous-system:number = 64500]", "AS",
      "Network activity", "64500" },
};

/* --- Helpers ------------------------------------------------------------- */

/* A record as a store holds it: origin ORIGIN_HEX, id ...00NN, GREEN,
 * confidence 80, reach 2, created T0, modified a minute later. */
static void
base (im_record_t *r, int type, const char *value, unsigned n)
{
    char why[256], id[IM_ID_STR_SIZE];
    im_record_init (r);
    for (int i = 0; i < IM_NODE_ID_SIZE; i++)
        r->origin[i] = (uint8_t)(0xa0 + i);
    snprintf (id, sizeof id, "0194f6c0-1234-7abc-8def-%012x", n);
    if (im_id_parse (id, r->id) != 0)
        BAIL_OUT ("bad test id %s", id);
    r->version = 3;
    r->type = (uint8_t)type;
    if (im_ioc_normalise (type, value, r->value, sizeof r->value, why, sizeof why) != 0)
        BAIL_OUT ("bad test value %s: %s", value, why);
    r->confidence = 80;
    r->reach = 2;
    r->created = T0;
    r->modified = T0 + 60;
}

static const char *
id_text (unsigned n, char out[IM_ID_STR_SIZE])
{
    snprintf (out, IM_ID_STR_SIZE, "0194f6c0-1234-7abc-8def-%012x", n);
    return out;
}

/* The id record ...00NN of ORIGIN_HEX has outside the node (im_id_export). */
static const char *
export_id_text (unsigned n, char out[IM_ID_STR_SIZE])
{
    im_record_t r;
    uint8_t id[IM_ID_SIZE];
    base (&r, IM_TYPE_DOMAIN, "x.example", n);
    im_id_export (r.origin, r.id, id);
    im_id_format (id, out);
    return out;
}

/* True when TEXT is a UUID of version VERSION with the RFC 4122 variant. */
static int
uuid_version (const char *text, int version)
{
    uint8_t id[IM_ID_SIZE];
    return text && strlen (text) == 36 && im_id_parse (text, id) == 0
           && im_id_is_rfc4122 (id) && id[6] >> 4 == version;
}

static void
add (json_t *records, const im_record_t *r)
{
    json_t *o = im_record_to_json (r);
    if (!o || json_array_append_new (records, o) != 0)
        BAIL_OUT ("im_record_to_json failed");
}

/* Exports RECORDS (an array) as FORMAT in memory. Returns the text (free it)
 * or NULL when a call failed; *NOTES gets the notes count when given. */
static char *
export_text (const char *format, const char *label, const json_t *records, size_t *notes)
{
    char *buf = NULL, err[256];
    size_t len = 0, i;
    int failed = 0;
    const json_t *rec;
    FILE *f = open_memstream (&buf, &len);
    if (!f)
        BAIL_OUT ("open_memstream: %s", strerror (errno));
    im_export_t *x = im_export_new (format, f, NOW, label);
    if (!x)
        BAIL_OUT ("im_export_new %s: %s", format, strerror (errno));
    json_array_foreach (records, i, rec)
    {
        if (im_export_record (x, rec, err, sizeof err) != 0) {
            diag ("%s: record %zu: %s", format, i, err);
            failed = 1;
        }
    }
    if (im_export_finish (x, err, sizeof err) != 0) {
        diag ("%s: finish: %s", format, err);
        failed = 1;
    }
    if (im_export_count (x) != json_array_size (records))
        failed = 1;
    if (notes)
        *notes = im_export_notes (x, NULL, 0);
    im_export_destroy (&x);
    fclose (f);
    if (failed) {
        free (buf);
        return NULL;
    }
    return buf;
}

/* Exports RECORDS and parses the JSON back; NULL (and a diag) on failure. */
static json_t *
export_json (const char *format, const char *label, const json_t *records)
{
    char *text = export_text (format, label, records, NULL);
    if (!text)
        return NULL;
    json_error_t jerr;
    json_t *doc = json_loads (text, 0, &jerr);
    if (!doc)
        diag ("%s output does not parse: %s (line %d)", format, jerr.text, jerr.line);
    free (text);
    return doc;
}

static const char *
str (const json_t *obj, const char *key)
{
    return json_string_value (json_object_get (obj, key));
}

/* The STIX object with id ID in BUNDLE. */
static const json_t *
stix_object (const json_t *bundle, const char *id)
{
    size_t i;
    const json_t *o;
    json_array_foreach (json_object_get (bundle, "objects"), i,
                        o) if (str (o, "id") && strcmp (str (o, "id"), id) == 0) return o;
    return NULL;
}

static const json_t *
stix_indicator (const json_t *bundle, unsigned n)
{
    char id[IM_ID_STR_SIZE], sid[64];
    snprintf (sid, sizeof sid, "indicator--%s", export_id_text (n, id));
    return stix_object (bundle, sid);
}

static const json_t *
misp_attribute (const json_t *event, unsigned n)
{
    char id[IM_ID_STR_SIZE];
    size_t i;
    const json_t *a;
    export_id_text (n, id);
    json_array_foreach (json_object_get (json_object_get (event, "Event"), "Attribute"),
                        i, a) if (str (a, "uuid")
                                  && strcmp (str (a, "uuid"), id) == 0) return a;
    return NULL;
}

/* The MISP tag names of A joined with '|'. */
static const char *
misp_tags (const json_t *a, char *buf, size_t bufsz)
{
    size_t i, o = 0;
    const json_t *t;
    buf[0] = '\0';
    json_array_foreach (json_object_get (a, "Tag"), i, t) o
        += (size_t)snprintf (buf + o, o < bufsz ? bufsz - o : 0, "%s%s", i ? "|" : "",
                             str (t, "name") ? str (t, "name") : "?");
    return buf;
}

/* True when TEXT is "PREFIX" followed by a version 4 UUID. */
static int
uuid4_after (const char *text, const char *prefix)
{
    uint8_t id[IM_ID_SIZE];
    size_t p = strlen (prefix);
    return text && strncmp (text, prefix, p) == 0 && strlen (text) == p + 36
           && im_id_parse (text + p, id) == 0 && text[p + 14] == '4'
           && strchr ("89ab", text[p + 19]);
}

/* --- Bad arguments ------------------------------------------------------- */

static void
test_arguments (void)
{
    char long_label[IM_EXPORT_LABEL_MAX + 2], err[256];
    memset (long_label, 'x', sizeof long_label - 1);
    long_label[sizeof long_label - 1] = '\0';
    FILE *f = tmpfile ();
    if (!f)
        BAIL_OUT ("tmpfile: %s", strerror (errno));

    struct {
        const char *format;
        FILE *out;
        int64_t now;
        const char *label;
        const char *what;
    } bad[] = {
        { NULL, f, NOW, NULL, "no format" },
        { "", f, NOW, NULL, "an empty format" },
        { "xml", f, NOW, NULL, "format xml" },
        { "STIX", f, NOW, NULL, "format STIX in capitals" },
        { "stix2", f, NOW, NULL, "format stix2" },
        { "stix", NULL, NOW, NULL, "no output" },
        { "misp", f, -1, NULL, "a negative time" },
        { "csv", f, IM_TIME_MAX + 1, NULL, "a time after 9999" },
        { "misp", f, NOW, "", "an empty origin label" },
        { "misp", f, NOW, "cert\nxx", "an origin label with a newline" },
        { "misp", f, NOW, "bad\xc3", "an origin label that is not UTF-8" },
        { "misp", f, NOW, long_label, "an origin label longer than 256 bytes" },
    };
    for (size_t i = 0; i < COUNT (bad); i++) {
        errno = 0;
        im_export_t *x
            = im_export_new (bad[i].format, bad[i].out, bad[i].now, bad[i].label);
        ok (x == NULL && errno == EINVAL, "new refuses %s", bad[i].what);
        im_export_destroy (&x);
    }
    for (size_t i = 0; i < COUNT (formats); i++) {
        im_export_t *x = im_export_new (formats[i], f, NOW, "cert-xx");
        ok (x != NULL, "new makes a %s exporter", formats[i]);
        im_export_destroy (&x);
        ok (x == NULL, "destroy sets the %s exporter's pointer to NULL", formats[i]);
    }
    im_export_t *x = NULL;
    errno = ENOENT;
    im_export_destroy (&x);
    im_export_destroy (NULL);
    ok (errno == ENOENT, "destroy takes NULL and a NULL pointer and preserves errno");

    x = im_export_new ("stix", f, NOW, NULL);
    errno = 0;
    json_t *obj = json_object ();
    ok (im_export_record (NULL, obj, err, sizeof err) == -1 && errno == EINVAL,
        "record refuses no exporter");
    json_decref (obj);
    errno = 0;
    ok (im_export_record (x, NULL, err, sizeof err) == -1 && errno == EINVAL,
        "record refuses no record");
    errno = 0;
    json_t *arr = json_array ();
    ok (im_export_record (x, arr, err, sizeof err) == -1 && errno == EINVAL
            && strstr (err, "not a JSON object"),
        "record refuses an array with 'not a JSON object'");
    json_decref (arr);
    errno = 0;
    ok (im_export_finish (NULL, err, sizeof err) == -1 && errno == EINVAL,
        "finish refuses no exporter");
    ok (im_export_count (NULL) == 0, "count of no exporter is 0");
    ok (im_export_notes (NULL, err, sizeof err) == 0 && err[0] == '\0',
        "notes of no exporter is 0 with an empty note");
    ok (im_export_finish (x, err, sizeof err) == 0, "finish succeeds on an empty export");
    errno = 0;
    ok (im_export_finish (x, err, sizeof err) == -1 && errno == EINVAL,
        "finish refuses to run twice");
    im_record_t r;
    base (&r, IM_TYPE_IPV4, "192.0.2.1", 1);
    json_t *rec = im_record_to_json (&r);
    errno = 0;
    ok (im_export_record (x, rec, err, sizeof err) == -1 && errno == EINVAL
            && strstr (err, "finished"),
        "record refuses a record after finish");
    json_decref (rec);
    im_export_destroy (&x);
    fclose (f);
}

/* --- Refused records ----------------------------------------------------- */

typedef struct {
    const char *key;
    const char *json; /* the new value as JSON text; NULL removes the key */
    const char *why;  /* a substring the error must contain */
} mutation_t;

static char long_tag_json[IM_TAG_MAX + 16];
static char many_tags_json[(IM_TAGS_MAX + 1) * 8 + 8];
static char long_desc_json[IM_DESC_MAX + 16];

static const mutation_t mutations[] = {
    { "id", NULL, "id: missing or not a UUID" },
    { "id", "\"not-a-uuid\"", "id: missing or not a UUID" },
    { "id", "42", "id: missing or not a UUID" },
    { "id", "\"0194f6c0-1234-7abc-8def-00000000000g\"", "id: missing or not a UUID" },
    { "id", "\"0194f6c0-1234-7abc-8def-0000000000011\"", "id: missing or not a UUID" },
    { "origin", NULL, "origin: missing or not a node id" },
    { "origin", "\"a0a1\"", "origin: missing or not a node id" },
    { "origin", "\"gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg\"",
      "origin: missing or not a node id" },
    { "op", NULL, "op: missing" },
    { "op", "\"delete\"", "op: missing or not \"put\" or \"revoke\"" },
    { "op", "2", "op: missing or not" },
    { "type", NULL, "type: missing" },
    { "type", "\"ipv5\"", "type: 'ipv5' is not one of" },
    { "value", NULL, "value: missing" },
    { "value", "\"999.1.1.1\"", "value: '999.1.1.1' is not an IPv4 address" },
    { "value", "\"\"", "value:" },
    { "value", "\"192.0.2.1\\u0000x\"", "value: missing or not a string" },
    { "value", "[]", "value: missing or not a string" },
    { "tlp", NULL, "tlp: missing" },
    { "tlp", "null", "tlp: missing" },
    { "tlp", "\"purple\"", "tlp: not one of" },
    { "tlp", "3", "tlp: not one of" },
    { "confidence", NULL, "confidence: missing" },
    { "confidence", "101", "confidence: not a whole number 0..100" },
    { "confidence", "-1", "confidence: not a whole number" },
    { "confidence", "\"80\"", "confidence: not a whole number" },
    { "confidence", "80.5", "confidence: not a whole number" },
    { "reach", NULL, "reach: missing" },
    { "reach", "255", "reach: not 0..254 or \"unlimited\"" },
    { "reach", "-1", "reach: not 0..254" },
    { "reach", "\"far\"", "reach: not 0..254" },
    { "tags", "\"c2\"", "tags: not an array of strings" },
    { "tags", "[1]", "tags: not an array of strings" },
    { "tags", "[\"\"]", "tags: empty tag" },
    { "tags", "[\"a\\u0007b\"]", "tags: a tag is not UTF-8 text or holds control" },
    { "tags", long_tag_json, "tags: a tag is longer than 128 bytes" },
    { "tags", many_tags_json, "tags: more than 32 tags" },
    { "description", "5", "description: not a string" },
    { "description", "\"a\\u0001b\"", "description: not UTF-8 text or holds control" },
    { "description", long_desc_json, "description: longer than 4096 bytes" },
    { "created", NULL, "created: missing" },
    { "created", "null", "created: missing" },
    { "created", "\"30d\"", "created: not a time" },
    { "created", "\"yesterday\"", "created: not a time" },
    { "created", "1795428000", "created: not a time" },
    { "created", "\"1969-12-31T00:00:00Z\"", "created: not a time" },
    { "modified", NULL, "modified: missing" },
    { "valid_from", "\"2026-13-01T00:00:00Z\"", "valid_from: not a time" },
    { "valid_from", "\"+2d\"", "valid_from: not a time" },
    { "valid_until", "\"2026-01-01T00:00:00Z\"", "valid_until: before valid_from" },
    { "valid_until", "true", "valid_until: not a time" },
};

/* Format-specific refusals: tags a format cannot carry. */
static const struct {
    const char *format;
    const char *tags;
    const char *why;
} unexpressible[] = {
    { "csv", "[\"c2\", \"a;b\"]", "tags: 'a;b' holds ';', the CSV tag separator" },
    { "misp", "[\"tlp:red\"]",
      "tags: 'tlp:red' would read back from MISP as a TLP label" },
    { "misp", "[\"TLP:AMBER\"]", "as a TLP label" },
    { "misp", "[\"intelmesh:confidence=\\\"10\\\"\"]",
      "would read back from MISP as a setting" },
};

/* Exports the one record REC as FORMAT; returns its rc and errno, with the
 * reason in ERR and the bytes written (after flushing) in *WRITTEN. */
static int
export_one (const char *format, const json_t *rec, char *err, size_t errsz,
            size_t *written, int *code)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    if (!f)
        BAIL_OUT ("open_memstream: %s", strerror (errno));
    im_export_t *x = im_export_new (format, f, NOW, NULL);
    err[0] = '\0';
    errno = 0;
    int rc = im_export_record (x, rec, err, errsz);
    *code = errno;
    if (rc != 0 && im_export_count (x) != 0)
        rc = -2;
    fflush (f);
    *written = len;
    im_export_destroy (&x);
    fclose (f);
    free (buf);
    return rc;
}

static void
test_refused (void)
{
    char err[256], name[64];
    size_t o = 0;
    snprintf (long_tag_json, sizeof long_tag_json, "[\"%0*d\"]", IM_TAG_MAX + 1, 0);
    o += (size_t)snprintf (many_tags_json, sizeof many_tags_json, "[");
    for (int i = 0; i <= IM_TAGS_MAX; i++)
        o += (size_t)snprintf (many_tags_json + o, sizeof many_tags_json - o, "%s\"t%d\"",
                               i ? "," : "", i);
    snprintf (many_tags_json + o, sizeof many_tags_json - o, "]");
    snprintf (long_desc_json, sizeof long_desc_json, "\"%0*d\"", IM_DESC_MAX + 1, 0);

    im_record_t r;
    base (&r, IM_TYPE_IPV4, "192.0.2.1", 1);
    r.valid_from = T0 - 86400;
    r.ntags = 1;
    strcpy (r.tags[0], "c2");
    json_t *good = im_record_to_json (&r);

    for (size_t f = 0; f < COUNT (formats); f++) {
        size_t written;
        int code;
        ok (export_one (formats[f], good, err, sizeof err, &written, &code) == 0
                && written > 0,
            "%s: the unmutated record is written", formats[f]);
        for (size_t i = 0; i < COUNT (mutations); i++) {
            const mutation_t *m = &mutations[i];
            json_t *rec = json_deep_copy (good);
            if (m->json) {
                json_error_t jerr;
                json_t *v = json_loads (m->json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
                if (!v)
                    BAIL_OUT ("bad mutation %s: %s", m->json, jerr.text);
                json_object_set_new (rec, m->key, v);
            }
            else
                json_object_del (rec, m->key);
            int rc = export_one (formats[f], rec, err, sizeof err, &written, &code);
            printable_cut (m->json ? m->json : "(removed)", 24, name, sizeof name);
            ok (rc == -1 && code == EINVAL && strstr (err, m->why) && written == 0,
                "%s: a record with %s %s is refused, nothing written", formats[f], m->key,
                name);
            if (!strstr (err, m->why))
                diag ("error was '%s'", err);
            json_decref (rec);
        }
    }
    for (size_t i = 0; i < COUNT (unexpressible); i++) {
        json_t *rec = json_deep_copy (good);
        json_object_set_new (rec, "tags", json_loads (unexpressible[i].tags, 0, NULL));
        size_t written;
        int code;
        int rc
            = export_one (unexpressible[i].format, rec, err, sizeof err, &written, &code);
        ok (rc == -1 && code == EINVAL && strstr (err, unexpressible[i].why)
                && written == 0,
            "%s: tags %s are refused: the format cannot carry them",
            unexpressible[i].format,
            printable (unexpressible[i].tags, name, sizeof name));
        if (!strstr (err, unexpressible[i].why))
            diag ("error was '%s'", err);
        json_decref (rec);
    }

    /* A refused record leaves nothing behind: the document stays valid. */
    for (size_t f = 0; f < COUNT (formats); f++) {
        json_t *records = json_array ();
        json_t *bad = json_deep_copy (good);
        json_object_set_new (bad, "confidence", json_integer (900));
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream (&buf, &len);
        im_export_t *x = im_export_new (formats[f], out, NOW, NULL);
        int rc1 = im_export_record (x, good, err, sizeof err);
        int rc2 = im_export_record (x, bad, err, sizeof err);
        int rc3 = im_export_record (x, good, err, sizeof err);
        int rc4 = im_export_finish (x, err, sizeof err);
        ok (rc1 == 0 && rc2 == -1 && rc3 == 0 && rc4 == 0 && im_export_count (x) == 2,
            "%s: a refused record between two good ones is skipped, count 2", formats[f]);
        im_export_destroy (&x);
        fclose (out);
        if (strcmp (formats[f], "csv") == 0) {
            size_t lines = 0;
            for (char *p = buf; p && *p; p++)
                lines += *p == '\n';
            ok (lines == 3, "csv: the output holds the header and two lines");
        }
        else {
            json_t *doc = json_loads (buf, 0, NULL);
            const json_t *list
                = strcmp (formats[f], "stix") == 0
                      ? json_object_get (doc, "objects")
                      : json_object_get (json_object_get (doc, "Event"), "Attribute");
            /* STIX: two indicators and one marking definition. */
            ok (doc
                    && json_array_size (list)
                           == (strcmp (formats[f], "stix") == 0 ? 3 : 2),
                "%s: the output parses and holds the two good records", formats[f]);
            json_decref (doc);
        }
        free (buf);
        json_decref (bad);
        json_decref (records);
    }
    json_decref (good);
}

/* --- STIX ---------------------------------------------------------------- */

static void
test_stix_set (void)
{
    im_record_t r;
    json_t *records = json_array ();
    /* 1: everything set */
    base (&r, IM_TYPE_DOMAIN, "evil.example", 1);
    r.tlp = IM_TLP_AMBER;
    r.confidence = 90;
    r.reach = 1;
    r.valid_from = T0 - 86400;
    r.valid_until = T0 + 30 * 86400;
    r.ntags = 2;
    strcpy (r.tags[0], "c2");
    strcpy (r.tags[1], "apt \"x\"");
    strcpy (r.description, "C2 server, seen \"twice\"\nin logs");
    add (records, &r);
    /* 2: minimal, revoked, unlimited reach */
    base (&r, IM_TYPE_IPV4, "198.51.100.7", 2);
    r.op = IM_OP_REVOKE;
    r.reach = IM_REACH_UNLIMITED;
    r.confidence = 0;
    add (records, &r);
    /* 3: RED (internal only), another AMBER */
    base (&r, IM_TYPE_SHA256,
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 3);
    r.tlp = IM_TLP_RED;
    r.reach = 0;
    add (records, &r);
    base (&r, IM_TYPE_URL, "http://evil.example/x", 4);
    r.tlp = IM_TLP_AMBER;
    add (records, &r);

    json_t *b = export_json ("stix", "cert-xx", records);
    ok (b != NULL, "stix: a set of four records exports and parses");
    if (!b) {
        json_decref (records);
        return;
    }
    is (str (b, "type"), "bundle", "stix: the document is a bundle");
    ok (uuid4_after (str (b, "id"), "bundle--"),
        "stix: the bundle id is bundle--<uuid v4>");
    const json_t *objects = json_object_get (b, "objects");
    cmp_ok (json_array_size (objects), "==", 7,
            "stix: the bundle holds 4 indicators and 3 marking definitions");
    cmp_ok (json_object_size (b), "==", 3, "stix: the bundle has type, id, objects only");

    const json_t *o = stix_indicator (b, 1);
    ok (o != NULL, "stix: record 1 is indicator--<its id>");
    is (str (o, "type"), "indicator", "stix: its type is indicator");
    is (str (o, "spec_version"), "2.1", "stix: its spec_version is 2.1");
    is (str (o, "created"), "2026-11-23T10:00:00.000Z",
        "stix: created has milliseconds and Z");
    is (str (o, "modified"), "2026-11-23T10:01:00.000Z",
        "stix: modified is the record's");
    is (str (o, "pattern"), "[domain-name:value = 'evil.example']", "stix: the pattern");
    is (str (o, "pattern_type"), "stix", "stix: pattern_type is stix");
    is (str (o, "valid_from"), "2026-11-22T10:00:00.000Z",
        "stix: valid_from is the record's");
    is (str (o, "valid_until"), "2026-12-23T10:00:00.000Z",
        "stix: valid_until is the record's");
    cmp_ok (json_integer_value (json_object_get (o, "confidence")), "==", 90,
            "stix: confidence 90");
    const json_t *labels = json_object_get (o, "labels");
    ok (json_array_size (labels) == 2
            && strcmp (json_string_value (json_array_get (labels, 0)), "c2") == 0
            && strcmp (json_string_value (json_array_get (labels, 1)), "apt \"x\"") == 0,
        "stix: labels are the tags");
    is (str (o, "description"), "C2 server, seen \"twice\"\nin logs",
        "stix: the description is kept with its quotes and newline");
    ok (json_object_get (o, "revoked") == NULL, "stix: a put record has no revoked");
    const json_t *refs = json_object_get (o, "object_marking_refs");
    ok (json_array_size (refs) == 1
            && strcmp (json_string_value (json_array_get (refs, 0)),
                       marking_ids[IM_TLP_AMBER])
                   == 0,
        "stix: object_marking_refs holds TLP:AMBER's id");
    cmp_ok (json_integer_value (json_object_get (o, "x_intelmesh_reach")), "==", 1,
            "stix: x_intelmesh_reach is 1");
    is (str (o, "x_intelmesh_origin"), ORIGIN_HEX,
        "stix: x_intelmesh_origin is the node id");
    cmp_ok (json_object_size (o), "==", 15,
            "stix: record 1 has 15 properties, no others");

    o = stix_indicator (b, 2);
    ok (o && json_is_true (json_object_get (o, "revoked")),
        "stix: the revoked record has revoked true");
    is (str (o, "valid_from"), "2026-11-23T10:00:00.000Z",
        "stix: valid_from unset becomes created (STIX requires it)");
    ok (json_object_get (o, "valid_until") == NULL, "stix: no valid_until when unset");
    ok (json_object_get (o, "labels") == NULL, "stix: no labels without tags");
    ok (json_object_get (o, "description") == NULL, "stix: no description when empty");
    ok (json_is_integer (json_object_get (o, "confidence"))
            && json_integer_value (json_object_get (o, "confidence")) == 0,
        "stix: confidence 0 is written");
    is (str (o, "x_intelmesh_reach"), "unlimited",
        "stix: unlimited reach is \"unlimited\"");
    ok (json_array_size (json_object_get (o, "object_marking_refs")) == 1
            && strcmp (json_string_value (json_array_get (
                           json_object_get (o, "object_marking_refs"), 0)),
                       marking_ids[IM_TLP_GREEN])
                   == 0,
        "stix: a GREEN record refers to TLP:GREEN");

    o = stix_indicator (b, 3);
    ok (o
            && strcmp (json_string_value (json_array_get (
                           json_object_get (o, "object_marking_refs"), 0)),
                       marking_ids[IM_TLP_RED])
                   == 0,
        "stix: an internal-only RED record is exported with TLP:RED");
    ok (o && json_is_integer (json_object_get (o, "x_intelmesh_reach"))
            && json_integer_value (json_object_get (o, "x_intelmesh_reach")) == 0,
        "stix: reach 0 is written as 0");
    ok (o && json_object_get (o, "internal_only") == NULL,
        "stix: internal_only is not copied into the indicator");

    /* Marking definitions: after the indicators, once each, in TLP order. */
    is (str (json_array_get (objects, 4), "id"), marking_ids[IM_TLP_GREEN],
        "stix: TLP:GREEN's definition comes after the indicators");
    is (str (json_array_get (objects, 5), "id"), marking_ids[IM_TLP_AMBER],
        "stix: then TLP:AMBER's, once for its two indicators");
    is (str (json_array_get (objects, 6), "id"), marking_ids[IM_TLP_RED],
        "stix: then TLP:RED's");
    is (str (json_array_get (objects, 0), "type"), "indicator",
        "stix: objects start with the indicators");
    json_decref (b);
    json_decref (records);
}

static void
test_stix_types (void)
{
    char name[96];
    json_t *records = json_array ();
    im_record_t r;
    for (size_t i = 0; i < COUNT (typed); i++) {
        base (&r, typed[i].type, typed[i].value, (unsigned)(100 + i));
        add (records, &r);
    }
    json_t *b = export_json ("stix", NULL, records);
    ok (b != NULL, "stix: one record of every type exports");
    for (size_t i = 0; b && i < COUNT (typed); i++) {
        const json_t *o = stix_indicator (b, (unsigned)(100 + i));
        is (str (o, "pattern"), typed[i].pattern, "stix: %s %s has its pattern",
            im_type_name (typed[i].type), printable (typed[i].value, name, sizeof name));
    }
    json_decref (b);
    json_decref (records);
}

static void
test_stix_tlp (void)
{
    json_t *records = json_array ();
    im_record_t r;
    for (int tlp = IM_TLP_RED; tlp >= IM_TLP_CLEAR; tlp--) {
        base (&r, IM_TYPE_DOMAIN, "tlp.example", (unsigned)(200 + tlp));
        r.tlp = (uint8_t)tlp;
        add (records, &r);
        base (&r, IM_TYPE_DOMAIN, "tlp2.example", (unsigned)(210 + tlp));
        r.tlp = (uint8_t)tlp;
        add (records, &r);
    }
    json_t *b = export_json ("stix", NULL, records);
    const json_t *objects = json_object_get (b, "objects");
    cmp_ok (json_array_size (objects), "==", 15,
            "stix: 10 records of 5 TLPs give 10 indicators and 5 definitions");
    for (int tlp = IM_TLP_CLEAR; b && tlp < IM_TLP_COUNT; tlp++) {
        const json_t *o = stix_indicator (b, (unsigned)(200 + tlp));
        is (json_string_value (
                json_array_get (json_object_get (o, "object_marking_refs"), 0)),
            marking_ids[tlp], "stix: a %s record refers to %s", im_tlp_name (tlp),
            marking_names[tlp]);
        const json_t *m = json_array_get (objects, (size_t)(10 + tlp - IM_TLP_CLEAR));
        char want[512];
        snprintf (want, sizeof want,
                  "{\"type\": \"marking-definition\", \"spec_version\": \"2.1\", "
                  "\"id\": \"%s\", \"created\": \"2022-10-01T00:00:00.000Z\", "
                  "\"name\": \"%s\", \"extensions\": {\"extension-definition--"
                  "60a3c5c5-0d10-413e-aab3-9e08dde9e88d\": {\"extension_type\": "
                  "\"property-extension\", \"tlp_2_0\": \"%s\"}}}",
                  marking_ids[tlp], marking_names[tlp], im_tlp_name (tlp));
        json_t *w = json_loads (want, 0, NULL);
        ok (w && json_equal (w, m), "stix: %s's definition is the TLP 2.0 object, once",
            marking_names[tlp]);
        json_decref (w);
    }
    json_decref (b);
    json_decref (records);
}

/* Exports RECORDS as FORMAT; the notes counted after each record go into
 * COUNTS, the last note into NOTE. Returns the parsed document or NULL. */
static json_t *
export_noted (const char *format, const json_t *records, size_t *counts, char *note,
              size_t notesz)
{
    char *buf = NULL;
    size_t len = 0, i;
    FILE *f = open_memstream (&buf, &len);
    im_export_t *x = f ? im_export_new (format, f, NOW, NULL) : NULL;
    json_t *rec;
    int rc = x ? 0 : -1;
    json_array_foreach (records, i, rec)
    {
        rc |= im_export_record (x, rec, note, notesz);
        counts[i] = im_export_notes (x, NULL, 0);
    }
    rc |= im_export_finish (x, note, notesz);
    im_export_notes (x, note, notesz);
    im_export_destroy (&x);
    if (f)
        fclose (f);
    json_t *doc = rc == 0 && buf ? json_loads (buf, 0, NULL) : NULL;
    free (buf);
    return doc;
}

static void
test_stix_window (void)
{
    json_t *records = json_array ();
    im_record_t r;
    char note[256], want[96], tags[512];
    size_t counts[4];
    base (&r, IM_TYPE_DOMAIN, "same.example", 300);
    r.valid_from = T0 + 100;
    r.valid_until = T0 + 100;
    add (records, &r);
    base (&r, IM_TYPE_DOMAIN, "expired.example", 301);
    r.valid_until = T0 - 100; /* before created, valid_from unset */
    add (records, &r);
    base (&r, IM_TYPE_DOMAIN, "fine.example", 302);
    r.valid_until = T0 + 100;
    add (records, &r);
    base (&r, IM_TYPE_DOMAIN, "created.example", 303);
    r.valid_until = T0; /* at created, valid_from unset */
    add (records, &r);

    json_t *b = export_noted ("stix", records, counts, note, sizeof note);
    ok (b != NULL, "stix: records whose valid_until is not after valid_from are written");
    ok (counts[0] == 1 && counts[1] == 2 && counts[2] == 2 && counts[3] == 3,
        "stix: each of them counts a note, the good one none");
    char xid[IM_ID_STR_SIZE];
    snprintf (want, sizeof want, "indicator--%s: ", export_id_text (303, xid));
    ok (strncmp (note, want, strlen (want)) == 0
            && strstr (note, "not later than created")
            && strstr (note, "valid_from written as valid_until - 1 s"),
        "stix: the last note names the indicator by its exported id, and what was done");
    diag ("chosen: valid_from becomes valid_until - 1 s, so the indicator still reads as "
          "valid up to its valid_until and no longer: '%s'",
          note);
    const json_t *o = stix_indicator (b, 300);
    ok (o && strcmp (str (o, "valid_from"), "2026-11-23T10:01:39.000Z") == 0
            && strcmp (str (o, "valid_until"), "2026-11-23T10:01:40.000Z") == 0,
        "stix: equal valid_from and valid_until: valid_from 1 s before valid_until");
    o = stix_indicator (b, 301);
    ok (o && strcmp (str (o, "valid_from"), "2026-11-23T09:58:19.000Z") == 0
            && strcmp (str (o, "valid_until"), "2026-11-23T09:58:20.000Z") == 0,
        "stix: a valid_until before created: valid_from 1 s before valid_until");
    o = stix_indicator (b, 303);
    ok (o && strcmp (str (o, "valid_from"), "2026-11-23T09:59:59.000Z") == 0
            && strcmp (str (o, "valid_until"), "2026-11-23T10:00:00.000Z") == 0,
        "stix: a valid_until at created: valid_from 1 s before valid_until");
    o = stix_indicator (b, 302);
    ok (o && strcmp (str (o, "valid_from"), "2026-11-23T10:00:00.000Z") == 0,
        "stix: a good window keeps valid_from = created");
    json_decref (b);

    b = export_noted ("misp", records, counts, note, sizeof note);
    ok (b && counts[0] == 1 && counts[3] == 1,
        "misp: only the record whose valid_from is set and not before valid_until "
        "counts a note");
    is (misp_tags (misp_attribute (b, 300), tags, sizeof tags),
        "tlp:green|intelmesh:confidence=\"80\"|intelmesh:valid-from=\"2026-11-23T10:01:"
        "39Z\"|intelmesh:valid-until=\"2026-11-23T10:01:40Z\"",
        "misp: its valid-from tag is 1 s before its valid-until");
    is (misp_tags (misp_attribute (b, 301), tags, sizeof tags),
        "tlp:green|intelmesh:confidence=\"80\"|intelmesh:valid-until=\"2026-11-23T09:58:"
        "20Z\"",
        "misp: without valid_from only valid-until is written, as stored");
    json_decref (b);
    json_decref (records);
}

static void
test_stix_empty (void)
{
    json_t *none = json_array ();
    char *text = export_text ("stix", NULL, none, NULL);
    json_decref (none);
    json_t *b = text ? json_loads (text, 0, NULL) : NULL;
    ok (b && strcmp (str (b, "type"), "bundle") == 0
            && uuid4_after (str (b, "id"), "bundle--"),
        "stix: an empty export is a bundle with a bundle id");
    ok (b && json_object_size (b) == 2 && !json_object_get (b, "objects"),
        "stix: an empty bundle has no objects list (STIX forbids empty lists)");
    json_decref (b);
    free (text);
}

/* --- MISP ---------------------------------------------------------------- */

static void
test_misp_event (void)
{
    im_record_t r;
    char tags[512];
    json_t *records = json_array ();
    base (&r, IM_TYPE_DOMAIN, "evil.example", 1);
    r.tlp = IM_TLP_AMBER;
    r.confidence = 90;
    r.reach = 1;
    r.valid_until = T0 + 30 * 86400;
    r.ntags = 2;
    strcpy (r.tags[0], "c2");
    strcpy (r.tags[1], "misp:sharing-group");
    strcpy (r.description, "C2, \"twice\"");
    add (records, &r);
    base (&r, IM_TYPE_IPV4, "198.51.100.7", 2);
    r.op = IM_OP_REVOKE;
    r.tlp = IM_TLP_RED;
    add (records, &r);

    json_t *e = export_json ("misp", "cert-xx", records);
    ok (e != NULL, "misp: a set of two records exports and parses");
    const json_t *ev = json_object_get (e, "Event");
    ok (json_object_size (e) == 1 && json_is_object (ev),
        "misp: the document is {\"Event\": {...}}");
    ok (uuid_version (str (ev, "uuid"), 5),
        "misp: the event uuid is a version 5 UUID (of export:NODE)");
    is (str (ev, "info"), "intelmesh export from cert-xx at 2026-11-23T11:00:00Z",
        "misp: info names the origin and the export time");
    is (str (ev, "date"), "2026-11-23", "misp: date is the export day");
    is (str (ev, "timestamp"), "1795431600",
        "misp: timestamp is the export time, a string");
    is (str (ev, "distribution"), "1", "misp: the event distribution is \"1\"");
    is (str (ev, "threat_level_id"), "4", "misp: threat_level_id is \"4\"");
    is (str (ev, "analysis"), "2", "misp: analysis is \"2\"");
    ok (json_is_false (json_object_get (ev, "published")), "misp: published is false");
    is (str (json_object_get (ev, "Orgc"), "name"), "intelmesh",
        "misp: Orgc name intelmesh");
    ok (json_is_array (json_object_get (ev, "Tag"))
            && json_array_size (json_object_get (ev, "Tag")) == 1
            && strcmp (str (json_array_get (json_object_get (ev, "Tag"), 0), "name"),
                       "intelmesh:export")
                   == 0,
        "misp: the event's one tag, intelmesh:export, marks it as ours");
    cmp_ok (json_array_size (json_object_get (ev, "Attribute")), "==", 2,
            "misp: two attributes");

    const json_t *a = misp_attribute (e, 1);
    ok (a != NULL, "misp: record 1 is the attribute with its uuid");
    is (str (a, "type"), "domain", "misp: a domain is type domain");
    is (str (a, "category"), "Network activity", "misp: in Network activity");
    is (str (a, "value"), "evil.example", "misp: the value");
    ok (json_is_true (json_object_get (a, "to_ids")), "misp: to_ids is true");
    is (str (a, "distribution"), "1", "misp: reach 1 is distribution \"1\"");
    is (str (a, "comment"), "C2, \"twice\"", "misp: the comment is the description");
    is (str (a, "timestamp"), "1795428060", "misp: timestamp is modified, a string");
    ok (json_object_get (a, "deleted") == NULL, "misp: a put record has no deleted");
    is (misp_tags (a, tags, sizeof tags),
        "tlp:amber|c2|misp:sharing-group|intelmesh:confidence=\"90\"|"
        "intelmesh:valid-until=\"2026-12-23T10:00:00Z\"",
        "misp: tags are the TLP, the record's tags, confidence and valid-until");
    cmp_ok (json_object_size (a), "==", 9, "misp: the attribute has 9 fields, no others");

    a = misp_attribute (e, 2);
    ok (a && json_is_true (json_object_get (a, "deleted")),
        "misp: the revoked record has deleted true");
    is (misp_tags (a, tags, sizeof tags), "tlp:red|intelmesh:confidence=\"80\"",
        "misp: an internal-only RED record is exported with tlp:red");
    is (str (a, "comment"), "", "misp: an empty description is an empty comment");
    json_decref (e);
    json_decref (records);

    json_t *none = json_array ();
    char *text = export_text ("misp", NULL, none, NULL);
    json_decref (none);
    e = text ? json_loads (text, 0, NULL) : NULL;
    ev = json_object_get (e, "Event");
    ok (ev && json_is_array (json_object_get (ev, "Attribute"))
            && json_array_size (json_object_get (ev, "Attribute")) == 0,
        "misp: an empty export is an event with no attributes");
    is (str (ev, "info"), "intelmesh export from all origins at 2026-11-23T11:00:00Z",
        "misp: without an origin label the info says all origins");
    json_decref (e);
    free (text);
}

static void
test_misp_types (void)
{
    char name[96];
    json_t *records = json_array ();
    im_record_t r;
    for (size_t i = 0; i < COUNT (typed); i++) {
        base (&r, typed[i].type, typed[i].value, (unsigned)(100 + i));
        add (records, &r);
    }
    json_t *e = export_json ("misp", NULL, records);
    for (size_t i = 0; i < COUNT (typed); i++) {
        const json_t *a = misp_attribute (e, (unsigned)(100 + i));
        printable (typed[i].value, name, sizeof name);
        ok (a && strcmp (str (a, "type"), typed[i].misp_type) == 0
                && strcmp (str (a, "category"), typed[i].category) == 0
                && strcmp (str (a, "value"), typed[i].misp_value) == 0,
            "misp: %s %s is a %s attribute in %s, value %s", im_type_name (typed[i].type),
            name, typed[i].misp_type, typed[i].category, typed[i].misp_value);
    }
    json_decref (e);
    json_decref (records);

    /* TLP tags and distribution from reach */
    static const struct {
        int reach;
        const char *dist;
    } reach[] = { { 0, "0" },
                  { 1, "1" },
                  { 2, "2" },
                  { 3, "3" },
                  { 7, "3" },
                  { 254, "3" },
                  { IM_REACH_UNLIMITED, "3" } };
    records = json_array ();
    for (int tlp = IM_TLP_CLEAR; tlp < IM_TLP_COUNT; tlp++) {
        base (&r, IM_TYPE_DOMAIN, "tlp.example", (unsigned)(200 + tlp));
        r.tlp = (uint8_t)tlp;
        add (records, &r);
    }
    for (size_t i = 0; i < COUNT (reach); i++) {
        base (&r, IM_TYPE_DOMAIN, "reach.example", (unsigned)(300 + i));
        r.reach = (uint8_t)reach[i].reach;
        add (records, &r);
    }
    e = export_json ("misp", NULL, records);
    for (int tlp = IM_TLP_CLEAR; tlp < IM_TLP_COUNT; tlp++) {
        const json_t *a = misp_attribute (e, (unsigned)(200 + tlp));
        is (str (json_array_get (json_object_get (a, "Tag"), 0), "name"), misp_tlp[tlp],
            "misp: a %s record's first tag is %s", im_tlp_name (tlp), misp_tlp[tlp]);
    }
    for (size_t i = 0; i < COUNT (reach); i++) {
        const json_t *a = misp_attribute (e, (unsigned)(300 + i));
        is (str (a, "distribution"), reach[i].dist, "misp: reach %d is distribution %s",
            reach[i].reach, reach[i].dist);
    }
    json_decref (e);
    json_decref (records);
}

/* --- CSV ----------------------------------------------------------------- */

#define CSV_HEADER                                                                       \
    "id,origin,type,value,tlp,confidence,reach,tags,description,valid_from,valid_until," \
    "revoke\r\n"

static void
test_csv (void)
{
    im_record_t r;
    json_t *records = json_array ();
    base (&r, IM_TYPE_DOMAIN, "evil.example", 1);
    r.tlp = IM_TLP_AMBER_STRICT;
    r.valid_from = T0 - 86400;
    r.valid_until = T0 + 30 * 86400;
    r.ntags = 2;
    strcpy (r.tags[0], "c2");
    strcpy (r.tags[1], "apt, x");
    strcpy (r.description, "seen \"twice\", then\nagain\tand more");
    add (records, &r);
    base (&r, IM_TYPE_URL, "http://evil.example/a,b?q=\"1\"", 2);
    r.op = IM_OP_REVOKE;
    r.reach = IM_REACH_UNLIMITED;
    r.confidence = 0;
    strcpy (r.description, "=HYPERLINK(\"x\")");
    add (records, &r);
    base (&r, IM_TYPE_FILENAME, "-rf @x +1.exe", 3);
    r.reach = 0;
    r.tlp = IM_TLP_CLEAR;
    r.ntags = 1;
    strcpy (r.tags[0], "=cmd");
    add (records, &r);
    base (&r, IM_TYPE_ASN, "AS64500", 4);
    r.tlp = IM_TLP_RED;
    add (records, &r);

    char *text = export_text ("csv", NULL, records, NULL);
    is (text,
        CSV_HEADER
        "0194f6c0-1234-7abc-8def-000000000001," ORIGIN_HEX ",domain,evil.example,"
        "amber+strict,80,2,\"c2;apt, x\",\"seen \"\"twice\"\", then\nagain\tand more\","
        "2026-11-22T10:00:00Z,2026-12-23T10:00:00Z,false\r\n"
        "0194f6c0-1234-7abc-8def-000000000002," ORIGIN_HEX ",url,"
        "\"http://evil.example/a,b?q=\"\"1\"\"\",green,0,unlimited,,"
        "\"=HYPERLINK(\"\"x\"\")\",,,true\r\n"
        "0194f6c0-1234-7abc-8def-000000000003," ORIGIN_HEX ",filename,-rf @x +1.exe,"
        "clear,80,0,=cmd,,,,false\r\n"
        "0194f6c0-1234-7abc-8def-000000000004," ORIGIN_HEX ",asn,AS64500,red,80,2,,,,,"
        "false\r\n",
        "csv: quoting (comma, quote, LF), empty cells, revoke, reach and "
        "formula-like cells left as they are");
    free (text);
    json_decref (records);

    json_t *none = json_array ();
    text = export_text ("csv", NULL, none, NULL);
    json_decref (none);
    is (text, CSV_HEADER, "csv: an empty export is the header alone");
    free (text);

    records = json_array ();
    for (size_t i = 0; i < COUNT (typed); i++) {
        base (&r, typed[i].type, typed[i].value, (unsigned)(100 + i));
        add (records, &r);
    }
    text = export_text ("csv", NULL, records, NULL);
    ok (text != NULL, "csv: one record of every type exports");
    char *line = text ? strstr (text, "\r\n") : NULL;
    for (size_t i = 0; line && i < COUNT (typed); i++) {
        char want[512], got[512];
        const char *v = typed[i].value;
        if (strpbrk (v, ",\"")) /* none of the typed values needs quotes */
            BAIL_OUT ("typed value needs quoting");
        snprintf (want, sizeof want,
                  "0194f6c0-1234-7abc-8def-%012x," ORIGIN_HEX
                  ",%s,%s,green,80,2,,,,,false",
                  (unsigned)(100 + i), im_type_name (typed[i].type), v);
        line += 2;
        char *end = strstr (line, "\r\n");
        snprintf (got, sizeof got, "%.*s", end ? (int)(end - line) : 0, line);
        is (got, want, "csv: the %s line", im_type_name (typed[i].type));
        line = end;
    }
    free (text);
    json_decref (records);
}

/* --- Write errors -------------------------------------------------------- */

static void
test_write_error (void)
{
    char err[256];
    im_record_t r;
    base (&r, IM_TYPE_IPV4, "192.0.2.1", 1);
    json_t *rec = im_record_to_json (&r);
    for (size_t i = 0; i < COUNT (formats); i++) {
        FILE *f = fopen ("/dev/full", "w");
        if (!f) {
            ok (1, "# SKIP /dev/full: %s", strerror (errno));
            continue;
        }
        im_export_t *x = im_export_new (formats[i], f, NOW, NULL);
        int rc1 = im_export_record (x, rec, err, sizeof err);
        errno = 0;
        int rc2 = im_export_finish (x, err, sizeof err);
        ok (rc1 == 0 && rc2 == -1 && errno == EIO && strstr (err, "write error"),
            "%s: finish on /dev/full fails with EIO (buffered record)", formats[i]);
        errno = 0;
        ok (im_export_record (x, rec, err, sizeof err) == -1 && errno == EIO,
            "%s: after a write error every record is refused with EIO", formats[i]);
        im_export_destroy (&x);
        fclose (f);

        f = fopen ("/dev/full", "w");
        setvbuf (f, NULL, _IONBF, 0);
        x = im_export_new (formats[i], f, NOW, NULL);
        errno = 0;
        ok (im_export_record (x, rec, err, sizeof err) == -1 && errno == EIO
                && im_export_count (x) == 0,
            "%s: an unbuffered record on /dev/full fails with EIO, not counted",
            formats[i]);
        errno = 0;
        ok (im_export_finish (x, err, sizeof err) == -1 && errno == EIO,
            "%s: and finish fails with EIO too", formats[i]);
        im_export_destroy (&x);
        fclose (f);

        f = fopen ("/dev/full", "w");
        x = im_export_new (formats[i], f, NOW, NULL);
        errno = 0;
        ok (im_export_finish (x, err, sizeof err) == -1 && errno == EIO,
            "%s: an empty export to /dev/full fails with EIO", formats[i]);
        im_export_destroy (&x);
        fclose (f);
    }
    json_decref (rec);
}

/* --- Round trips through the importer ------------------------------------ */

/* True when ITEM (an importer's publish item) carries what R holds. Reach is
 * compared only where the format keeps it (MISP keeps 0, 1, 2 and unlimited),
 * and the description only when CHECK_DESC (MISP reads an empty comment as
 * the event's info). */
static int
same (const json_t *item, const im_record_t *r, const char *id, int check_reach,
      int check_desc, char *why, size_t whysz)
{
    char value[IM_VALUE_MAX + 1], t[IM_TIME_STR_SIZE];
    const char *type = str (item, "type");
    int ty = type ? im_type_parse (type) : -1;
    snprintf (why, whysz, "ok");
    if (!str (item, "id") || strcmp (str (item, "id"), id) != 0)
        return snprintf (why, whysz, "id %s", str (item, "id") ? str (item, "id") : "-"),
               0;
    if (ty != r->type)
        return snprintf (why, whysz, "type %s", type ? type : "-"), 0;
    if (!str (item, "value")
        || im_ioc_normalise (ty, str (item, "value"), value, sizeof value, NULL, 0) != 0
        || strcmp (value, r->value) != 0)
        return snprintf (why, whysz, "value %s",
                         str (item, "value") ? str (item, "value") : "-"),
               0;
    if (!str (item, "tlp") || im_tlp_parse (str (item, "tlp")) != r->tlp)
        return snprintf (why, whysz, "tlp"), 0;
    const json_t *c = json_object_get (item, "confidence");
    if (!json_is_integer (c) || json_integer_value (c) != r->confidence)
        return snprintf (why, whysz, "confidence"), 0;
    const json_t *tags = json_object_get (item, "tags");
    if (json_array_size (tags) != r->ntags)
        return snprintf (why, whysz, "tags count %zu", json_array_size (tags)), 0;
    for (size_t i = 0; i < r->ntags; i++) {
        int found = 0;
        for (size_t j = 0; j < json_array_size (tags); j++)
            found
                |= strcmp (json_string_value (json_array_get (tags, j)), r->tags[i]) == 0;
        if (!found)
            return snprintf (why, whysz, "tag %s", r->tags[i]), 0;
    }
    const char *d = str (item, "description");
    if (check_desc && strcmp (d ? d : "", r->description) != 0)
        return snprintf (why, whysz, "description '%s'", d ? d : "-"), 0;
    const json_t *reach = json_object_get (item, "reach");
    if (check_reach
        && !(r->reach == IM_REACH_UNLIMITED
                 ? json_is_string (reach)
                       && strcmp (json_string_value (reach), "unlimited") == 0
                 : json_is_integer (reach) && json_integer_value (reach) == r->reach))
        return snprintf (why, whysz, "reach"), 0;
    const char *vu = str (item, "valid_until");
    int64_t u = 0;
    if (vu && im_time_parse (vu, 0, &u) != 0)
        return snprintf (why, whysz, "valid_until '%s'", vu), 0;
    if (u != r->valid_until)
        return snprintf (why, whysz, "valid_until %s", vu ? vu : im_time_format (0, t)),
               0;
    const json_t *rv = json_object_get (item, "revoke");
    if ((r->op == IM_OP_REVOKE) != json_is_true (rv))
        return snprintf (why, whysz, "revoke"), 0;
    return 1;
}

static void
test_round_trip (void)
{
    im_record_t recs[COUNT (typed) + 8];
    size_t n = 0;
    for (size_t i = 0; i < COUNT (typed); i++, n++) {
        base (&recs[n], typed[i].type, typed[i].value, (unsigned)(400 + n));
        recs[n].tlp = (uint8_t)(IM_TLP_CLEAR + n % 5);
        recs[n].confidence = (uint8_t)(n * 7 % 101);
        recs[n].reach = (uint8_t[]){ 0, 1, 2, IM_REACH_UNLIMITED }[n % 4];
    }
    base (&recs[n], IM_TYPE_DOMAIN, "tagged.example", (unsigned)(400 + n));
    recs[n].ntags = 3;
    strcpy (recs[n].tags[0], "c2");
    strcpy (recs[n].tags[1], "apt 28, \"fancy\"");
    strcpy (recs[n].tags[2], "misp:sharing-group-not");
    strcpy (recs[n].description, "line one, \"quoted\"\nline two\twith tab");
    recs[n].valid_from = T0 - 86400;
    recs[n].valid_until = T0 + 86400 * 365;
    recs[n].tlp = IM_TLP_AMBER_STRICT;
    n++;
    base (&recs[n], IM_TYPE_IPV4, "192.0.2.99", (unsigned)(400 + n));
    recs[n].op = IM_OP_REVOKE;
    recs[n].reach = IM_REACH_UNLIMITED;
    recs[n].valid_until = T0 + 7200;
    n++;
    base (&recs[n], IM_TYPE_URL, "https://evil.example/p?a='1'&b=\\2",
          (unsigned)(400 + n));
    recs[n].reach = 17;
    n++;

    static const int fmt_ids[] = { IM_FORMAT_STIX, IM_FORMAT_MISP, IM_FORMAT_CSV };
    for (size_t f = 0; f < COUNT (formats); f++) {
        json_t *records = json_array ();
        for (size_t i = 0; i < n; i++)
            add (records, &recs[i]);
        char *text = export_text (formats[f], NULL, records, NULL);
        json_decref (records);
        im_import_t *imp = im_import_new ();
        char err[256], why[256];
        int rc = text ? im_import_data (imp, "export", text, strlen (text), fmt_ids[f],
                                        err, sizeof err)
                      : -1;
        if (rc != 0)
            diag ("import: %s", text ? err : "no export");
        ok (rc == 0 && im_import_count (imp) == n,
            "%s: the export of %zu records imports as %zu items", formats[f], n, n);
        json_t *items = im_import_items (imp);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            /* STIX and MISP carry the id the record has outside the node,
             * CSV the record's own. */
            char id[IM_ID_STR_SIZE];
            uint8_t out_id[IM_ID_SIZE];
            im_id_export (recs[i].origin, recs[i].id, out_id);
            im_id_format (fmt_ids[f] == IM_FORMAT_CSV ? recs[i].id : out_id, id);
            const json_t *item = NULL, *it;
            size_t k;
            json_array_foreach (
                items, k, it) if (str (it, "id") && strcmp (str (it, "id"), id) == 0) item
                = it;
            /* MISP too: the exact reach rides on an intelmesh:reach tag, and
             * an export's event title is not taken as a description. */
            int check_reach = 1, check_desc = 1;
            ok (item
                    && same (item, &recs[i], id, check_reach, check_desc, why,
                             sizeof why),
                "%s: record %s (%s) comes back the same", formats[f], id,
                im_type_name (recs[i].type));
            if (item && strcmp (why, "ok") != 0)
                diag ("differs: %s", why);
        }
        im_import_destroy (&imp);
        free (text);
    }
}

/* --- A report as a MISP event ------------------------------------------- */

static void
test_misp_report (void)
{
    json_t *rep = json_pack (
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:[s, s], s:[s], s:[s, s], s:[s], s:[s]}", "id",
        "54884656-2da8-4625-bf07-43ef950d210b", "origin",
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf", "value",
        "Regin, stage 1", "tlp", "amber", "created", "2026-11-01T10:00:00Z", "modified",
        "2026-11-02T10:00:00Z", "tags", "Type:OSINT", "attack-pattern:Lateral Movement",
        "attack", "T1566.001", "actors", "APT1", "Unit 61398", "malware", "Regin", "refs",
        "https://example.org/regin.pdf");
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    im_export_t *e = im_export_new ("misp", f, NOW, NULL);
    json_t *none = json_array ();
    int rc = im_export_misp_list (e) || im_export_report (e, rep, none, err, sizeof err)
             || im_export_finish (e, err, sizeof err);
    im_export_destroy (&e);
    fclose (f);
    json_t *doc = rc == 0 ? json_loads (buf, 0, NULL) : NULL;
    const json_t *ev = json_object_get (
        json_array_get (json_object_get (doc, "response"), 1), "Event");
    ok (ev && json_array_size (json_object_get (doc, "response")) == 2
            && strcmp (str (ev, "uuid"), "54884656-2da8-4625-bf07-43ef950d210b") == 0
            && strcmp (str (ev, "info"), "Regin, stage 1") == 0
            && json_array_size (json_object_get (ev, "Galaxy")) == 3
            && json_array_size (json_object_get (ev, "Attribute")) == 1,
        "misp: a report is a second event: its id as uuid, its title as info, 3 "
        "galaxies and a link attribute");
    im_import_t *imp = im_import_new ();
    rc = buf ? im_import_data (imp, "export", buf, len, IM_FORMAT_MISP, err, sizeof err)
             : -1;
    const json_t *r
        = json_object_get (json_array_get (im_import_reports (imp), 0), "report");
    json_t *want = json_pack (
        "{s:s, s:s, s:s, s:O, s:O, s:O, s:O, s:O}", "id", str (rep, "id"), "title",
        str (rep, "value"), "tlp", "amber", "tags", json_object_get (rep, "tags"),
        "attack", json_object_get (rep, "attack"), "actors",
        json_object_get (rep, "actors"), "malware", json_object_get (rep, "malware"),
        "refs", json_object_get (rep, "refs"));
    ok (rc == 0 && json_array_size (im_import_reports (imp)) == 1 && json_equal (r, want),
        "misp: imported back it is the same report: id, title, TLP, tags, technique, "
        "actors, malware and reference");
    if (r && !json_equal (r, want)) {
        char *got = json_dumps (r, JSON_COMPACT);
        diag ("got %s", got);
        free (got);
    }
    json_object_del (rep, "created");
    free (buf);
    buf = NULL;
    f = open_memstream (&buf, &len);
    e = im_export_new ("misp", f, NOW, NULL);
    rc = im_export_misp_list (e) ? -2 : im_export_report (e, rep, none, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "misp: a report without created is refused");
    ok (im_export_finish (e, err, sizeof err) == 0 && im_export_misp_list (e) == -1
            && errno == EINVAL,
        "misp: the list form is refused once something is written");
    im_export_destroy (&e);
    fclose (f);
    free (buf);
    im_import_destroy (&imp);
    json_decref (want);
    json_decref (doc);
    json_decref (none);
    json_decref (rep);
}

/* --- Ids that leave the node --------------------------------------------- */

static void
test_ids (void)
{
    json_t *records = json_array ();
    im_record_t r;
    char id[IM_ID_STR_SIZE], want[IM_ID_STR_SIZE], name[160];
    uint8_t uuid[IM_ID_SIZE];
    for (unsigned n = 0; n < 3; n++) {
        base (&r, IM_TYPE_DOMAIN, "ids.example", 500 + n);
        add (records, &r);
    }
    /* An imported id of version 4 is kept as it came. */
    base (&r, IM_TYPE_DOMAIN, "imported.example", 503);
    im_id_parse ("a0000001-0000-4000-8000-000000000001", r.id);
    add (records, &r);

    json_t *b1 = export_json ("stix", NULL, records);
    json_t *b2 = export_json ("stix", NULL, records);
    json_t *e1 = export_json ("misp", NULL, records);
    json_t *e2 = export_json ("misp", NULL, records);
    for (unsigned n = 500; n < 503; n++) {
        /* Version 5 of "ORIGIN-HEX/ID-TEXT" in intelmesh's namespace. */
        snprintf (name, sizeof name, "%s/%s", ORIGIN_HEX, id_text (n, id));
        im_id_from_name (name, strlen (name), uuid);
        im_id_format (uuid, want);
        export_id_text (n, id);
        ok (strcmp (id, want) == 0 && uuid_version (id, 5),
            "ids: record %s leaves the node as %s, the version 5 UUID of origin/id",
            id_text (n, name), want);
        ok (stix_indicator (b1, n) && stix_indicator (b2, n) && misp_attribute (e1, n)
                && misp_attribute (e2, n),
            "ids: it is the STIX id and the MISP uuid in two exports of each");
    }
    size_t i;
    const json_t *o;
    int all = 1, nind = 0;
    json_array_foreach (json_object_get (b1, "objects"), i, o)
    {
        const char *sid = str (o, "id");
        const char *u = sid ? strstr (sid, "--") : NULL;
        if (strcmp (str (o, "type"), "indicator") == 0)
            nind++;
        all &= u && (uuid_version (u + 2, 4) || uuid_version (u + 2, 5));
    }
    ok (nind == 4 && all, "ids: every STIX object id is a UUID of version 4 or 5");
    ok (stix_object (b1, "indicator--a0000001-0000-4000-8000-000000000001"),
        "ids: an imported version 4 id is kept as it came");
    all = 1;
    json_array_foreach (json_object_get (json_object_get (e1, "Event"), "Attribute"), i,
                        o) all
        &= uuid_version (str (o, "uuid"), 4) || uuid_version (str (o, "uuid"), 5);
    ok (all && misp_attribute (e1, 500),
        "ids: every MISP attribute uuid is a UUID of version 4 or 5");
    const char *bid = str (b1, "id");
    ok (bid && uuid_version (bid + 8, 4), "ids: the bundle id is version 4");
    ok (strcmp (str (json_object_get (e1, "Event"), "uuid"),
                str (json_object_get (e2, "Event"), "uuid"))
            == 0,
        "ids: two MISP exports have one event uuid, so MISP updates that event");
    json_decref (b1);
    json_decref (b2);
    json_decref (e1);
    json_decref (e2);
    json_decref (records);
}

static void
test_misp_org (void)
{
    char *buf = NULL, err[256], want[IM_ID_STR_SIZE];
    size_t len = 0;
    uint8_t node[IM_NODE_ID_SIZE], uuid[IM_ID_SIZE];
    im_record_t r;
    for (int i = 0; i < IM_NODE_ID_SIZE; i++)
        node[i] = (uint8_t)i;
    FILE *f = open_memstream (&buf, &len);
    im_export_t *x = im_export_new ("misp", f, NOW, NULL);
    ok (im_export_set_org (x, node, "") == -1 && errno == EINVAL,
        "org: an empty name is refused");
    ok (im_export_set_org (x, node, "a\nb") == -1 && errno == EINVAL,
        "org: a name with a newline is refused");
    ok (im_export_set_org (NULL, node, "alpha") == -1 && errno == EINVAL,
        "org: no exporter is refused");
    ok (im_export_set_org (x, node, "alpha") == 0, "org: the node's id and name are set");
    base (&r, IM_TYPE_DOMAIN, "org.example", 600);
    json_t *rec = im_record_to_json (&r);
    int rc = im_export_record (x, rec, err, sizeof err);
    ok (rc == 0 && im_export_set_org (x, node, "beta") == -1 && errno == EINVAL,
        "org: once a record is written it is refused");
    rc |= im_export_finish (x, err, sizeof err);
    im_export_destroy (&x);
    fclose (f);
    json_t *e = rc == 0 ? json_loads (buf, 0, NULL) : NULL;
    const json_t *org = json_object_get (json_object_get (e, "Event"), "Orgc");
    const char *name = "org:000102030405060708090a0b0c0d0e0f"
                       "101112131415161718191a1b1c1d1e1f";
    im_id_from_name (name, strlen (name), uuid);
    im_id_format (uuid, want);
    ok (json_object_size (org) == 2 && strcmp (str (org, "name"), "alpha") == 0
            && strcmp (str (org, "uuid"), want) == 0 && uuid_version (want, 5),
        "org: Orgc is {name: alpha, uuid: the version 5 UUID of org:NODE-HEX}");
    json_decref (e);
    json_decref (rec);
    free (buf);

    json_t *none = json_array ();
    e = export_json ("misp", NULL, none);
    org = json_object_get (json_object_get (e, "Event"), "Orgc");
    im_id_from_name ("org:intelmesh", 13, uuid);
    im_id_format (uuid, want);
    ok (str (org, "uuid") && strcmp (str (org, "uuid"), want) == 0,
        "org: without a node, Orgc intelmesh has the version 5 UUID of org:intelmesh");
    json_decref (e);
    json_decref (none);
}

static const tap_test_t tests[]
    = { TAP_TEST (test_arguments),   TAP_TEST (test_refused),
        TAP_TEST (test_stix_set),    TAP_TEST (test_stix_types),
        TAP_TEST (test_stix_tlp),    TAP_TEST (test_stix_window),
        TAP_TEST (test_stix_empty),  TAP_TEST (test_misp_event),
        TAP_TEST (test_misp_types),  TAP_TEST (test_ids),
        TAP_TEST (test_misp_org),    TAP_TEST (test_csv),
        TAP_TEST (test_write_error), TAP_TEST (test_round_trip),
        TAP_TEST (test_misp_report), TAP_END };

int
main (int argc, char **argv)
{

    return tap_main (argc, argv, tests);
}
