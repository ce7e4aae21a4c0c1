/* SPDX-License-Identifier: MPL-2.0 */
/* test_misp.c -- unit tests for node/im_misp.c, the messages of the
 * MISP-format feed: every field MISP's fetchAttribute gives, with MISP's JSON
 * types; uuids of RFC 4122 versions 1-5; stable numeric ids; tag colours;
 * the actions add, edit and soft-delete. Prints TAP. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "im_misp.h"
#include "im_types.h"
#include "tap.h"

#define NOW 1767225600 /* 2026-01-01T00:00:00Z */

static void
make_record (im_record_t *rec, uint8_t origin_byte, int type, const char *value)
{
    im_record_init (rec);
    memset (rec->origin, origin_byte, sizeof rec->origin);
    im_id_generate (rec->id);
    rec->type = (uint8_t)type;
    rec->tlp = IM_TLP_GREEN;
    rec->reach = 1;
    rec->created = rec->modified = NOW;
    snprintf (rec->value, sizeof rec->value, "%s", value);
    snprintf (rec->description, sizeof rec->description, "a C2 server");
}

/* The value at PATH ("Event.Orgc.uuid") of OBJ, or NULL. */
static json_t *
at (json_t *obj, const char *path)
{
    char buf[128], *save = NULL;
    snprintf (buf, sizeof buf, "%s", path);
    for (char *k = strtok_r (buf, ".", &save); obj && k; k = strtok_r (NULL, ".", &save))
        obj = json_object_get (obj, k);
    return obj;
}

static const char *
str_at (json_t *obj, const char *path)
{
    return json_string_value (at (obj, path));
}

/* A decimal string of 1 to 2^31 - 1, as MISP sends its row ids. */
static int
is_misp_number (const char *s)
{
    if (!s || !*s || *s == '0' || strlen (s) > 10
        || strspn (s, "0123456789") != strlen (s))
        return 0;
    long long n = strtoll (s, NULL, 10);
    return n >= 1 && n <= 0x7fffffffLL;
}

/* An RFC 4122 uuid of version 1 to 5, in lower case. */
static int
is_uuid_15 (const char *s)
{
    uint8_t id[IM_ID_SIZE];
    char back[IM_ID_STR_SIZE];
    if (!s || im_id_parse (s, id) != 0)
        return 0;
    im_id_format (id, back);
    return strcmp (back, s) == 0 && im_id_is_rfc4122 (id);
}

/* Every key of MISP's fetchAttribute, with the JSON type MISP sends. */
static const struct {
    const char *path;
    json_type type;
} fields[] = {
    { "Attribute.id", JSON_STRING },
    { "Attribute.event_id", JSON_STRING },
    { "Attribute.object_id", JSON_STRING },
    { "Attribute.object_relation", JSON_NULL },
    { "Attribute.category", JSON_STRING },
    { "Attribute.type", JSON_STRING },
    { "Attribute.value", JSON_STRING },
    { "Attribute.to_ids", JSON_TRUE },
    { "Attribute.uuid", JSON_STRING },
    { "Attribute.timestamp", JSON_STRING },
    { "Attribute.distribution", JSON_STRING },
    { "Attribute.sharing_group_id", JSON_STRING },
    { "Attribute.comment", JSON_STRING },
    { "Attribute.deleted", JSON_FALSE },
    { "Attribute.disable_correlation", JSON_FALSE },
    { "Attribute.first_seen", JSON_NULL },
    { "Attribute.last_seen", JSON_NULL },
    { "Attribute.Tag", JSON_ARRAY },
    { "Event.id", JSON_STRING },
    { "Event.date", JSON_STRING },
    { "Event.info", JSON_STRING },
    { "Event.uuid", JSON_STRING },
    { "Event.published", JSON_TRUE },
    { "Event.analysis", JSON_STRING },
    { "Event.threat_level_id", JSON_STRING },
    { "Event.org_id", JSON_STRING },
    { "Event.orgc_id", JSON_STRING },
    { "Event.distribution", JSON_STRING },
    { "Event.sharing_group_id", JSON_STRING },
    { "Event.Orgc", JSON_OBJECT },
    { "Event.Orgc.id", JSON_STRING },
    { "Event.Orgc.name", JSON_STRING },
    { "Event.Orgc.uuid", JSON_STRING },
    { "action", JSON_STRING },
};

static void
test_fields (void)
{
    im_record_t rec;
    make_record (&rec, 0x11, IM_TYPE_IPV4, "192.0.2.1");
    json_t *m = im_misp_attribute (&rec, "cert-xx");
    ok (m != NULL, "a message for an IPv4 address");
    for (size_t i = 0; m && i < sizeof fields / sizeof fields[0]; i++) {
        json_t *v = at (m, fields[i].path);
        ok (v && json_typeof (v) == fields[i].type, "%s is there, of MISP's JSON type",
            fields[i].path);
    }
    const char *const numbers[]
        = { "Attribute.id", "Attribute.event_id", "Event.id",
            "Event.org_id", "Event.orgc_id",      "Event.Orgc.id" };
    for (size_t i = 0; m && i < sizeof numbers / sizeof numbers[0]; i++)
        ok (is_misp_number (str_at (m, numbers[i])),
            "%s is a number as MISP writes it (%s)", numbers[i], str_at (m, numbers[i]));
    is (str_at (m, "Attribute.object_id"), "0", "object_id is \"0\": no MISP object");
    is (str_at (m, "Attribute.event_id"), str_at (m, "Event.id"), "event_id is Event.id");
    is (str_at (m, "Event.orgc_id"), str_at (m, "Event.Orgc.id"), "orgc_id is Orgc.id");
    is (str_at (m, "Event.org_id"), str_at (m, "Event.orgc_id"), "org_id is orgc_id");
    is (str_at (m, "Attribute.timestamp"), "1767225600", "timestamp: modified, a string");
    is (str_at (m, "Event.date"), "2026-01-01", "Event.date: the day created");
    is (str_at (m, "Attribute.distribution"), "1", "reach 1: distribution \"1\"");
    is (str_at (m, "Attribute.type"), "ip-dst", "type ip-dst");
    is (str_at (m, "Attribute.category"), "Network activity",
        "category Network activity");
    is (str_at (m, "Attribute.comment"), "a C2 server", "comment: the description");
    is (str_at (m, "Event.Orgc.name"), "cert-xx", "Orgc.name: the origin's name");
    is (str_at (m, "Event.info"), "intelmesh indicators from cert-xx", "Event.info");
    is (str_at (m, "action"), "add", "version 1 is an add");
    json_decref (m);
}

static void
test_uuids (void)
{
    im_record_t rec, other;
    make_record (&rec, 0x22, IM_TYPE_DOMAIN, "evil.example");
    make_record (&other, 0x33, IM_TYPE_DOMAIN, "evil.example");
    json_t *m = im_misp_attribute (&rec, NULL), *o = im_misp_attribute (&other, NULL);
    uint8_t want[IM_ID_SIZE];
    char text[IM_ID_STR_SIZE];
    im_id_export (rec.origin, rec.id, want);
    im_id_format (want, text);
    ok (!im_id_is_rfc4122 (rec.id), "the record's own id is version 7");
    is (str_at (m, "Attribute.uuid"), text, "Attribute.uuid is im_id_export's");
    const char *const uuids[] = { "Attribute.uuid", "Event.uuid", "Event.Orgc.uuid" };
    for (size_t i = 0; i < sizeof uuids / sizeof uuids[0]; i++)
        ok (is_uuid_15 (str_at (m, uuids[i])) && is_uuid_15 (str_at (o, uuids[i])),
            "%s is an RFC 4122 uuid of version 1-5", uuids[i]);
    ok (str_at (m, "Event.uuid") && str_at (o, "Event.uuid")
            && strcmp (str_at (m, "Event.uuid"), str_at (o, "Event.uuid")) != 0
            && strcmp (str_at (m, "Event.Orgc.uuid"), str_at (o, "Event.Orgc.uuid")) != 0
            && strcmp (str_at (m, "Event.id"), str_at (o, "Event.id")) != 0,
        "two origins have two events and organisations");
    char node[IM_NODE_HEX_SIZE];
    im_node_format (rec.origin, node);
    is (str_at (m, "Event.Orgc.name"), node, "an origin without a name: its hex id");
    json_decref (o);
    /* an imported uuid (version 4) is kept as it came */
    im_id_parse ("a1b2c3d4-0000-4000-8000-000000000001", other.id);
    o = im_misp_attribute (&other, NULL);
    is (str_at (o, "Attribute.uuid"), "a1b2c3d4-0000-4000-8000-000000000001",
        "an imported version 4 uuid is kept");
    json_decref (o);
    /* another record of the same origin: the same event, another attribute */
    make_record (&other, 0x22, IM_TYPE_MD5, "d41d8cd98f00b204e9800998ecf8427e");
    o = im_misp_attribute (&other, NULL);
    is (str_at (o, "Event.uuid"), str_at (m, "Event.uuid"), "one origin, one Event.uuid");
    is (str_at (o, "Event.id"), str_at (m, "Event.id"), "one origin, one Event.id");
    ok (strcmp (str_at (o, "Attribute.id"), str_at (m, "Attribute.id")) != 0
            && strcmp (str_at (o, "Attribute.uuid"), str_at (m, "Attribute.uuid")) != 0,
        "two records, two Attribute ids and uuids");
    json_decref (o);
    json_decref (m);
}

static void
test_actions (void)
{
    im_record_t rec;
    make_record (&rec, 0x44, IM_TYPE_URL, "https://evil.example/x");
    json_t *add = im_misp_attribute (&rec, "n");
    rec.version = 2;
    rec.modified = NOW + 60;
    json_t *edit = im_misp_attribute (&rec, "n");
    rec.version = 3;
    rec.op = IM_OP_REVOKE;
    json_t *del = im_misp_attribute (&rec, "n");
    is (str_at (add, "action"), "add", "version 1: add");
    is (str_at (edit, "action"), "edit", "version 2: edit");
    is (str_at (del, "action"), "soft-delete", "a revocation: soft-delete, as MISP's");
    ok (json_is_true (at (del, "Attribute.deleted"))
            && json_is_false (at (edit, "Attribute.deleted")),
        "deleted is true on the soft-delete only");
    ok (json_is_true (at (add, "Attribute.to_ids"))
            && json_is_false (at (del, "Attribute.to_ids")),
        "to_ids: true while live, false once revoked");
    rec.op = IM_OP_PUT;
    rec.no_detect = 1;
    json_t *hunt = im_misp_attribute (&rec, "n");
    ok (json_is_false (at (hunt, "Attribute.to_ids")),
        "to_ids: false for an indicator not meant for detection");
    json_decref (hunt);
    rec.no_detect = 0;
    rec.op = IM_OP_REVOKE;
    is (str_at (edit, "Attribute.timestamp"), "1767225660", "the edit's timestamp moves");
    ok (strcmp (str_at (add, "Attribute.id"), str_at (del, "Attribute.id")) == 0
            && strcmp (str_at (add, "Attribute.uuid"), str_at (del, "Attribute.uuid"))
                   == 0,
        "every version has the same Attribute.id and uuid");
    json_decref (add);
    json_decref (edit);
    json_decref (del);
}

static void
test_tags (void)
{
    static const struct {
        int tlp;
        const char *name, *colour;
    } tlps[] = {
        { IM_TLP_CLEAR, "tlp:clear", "#ffffff" },
        { IM_TLP_GREEN, "tlp:green", "#33FF00" },
        { IM_TLP_AMBER, "tlp:amber", "#FFC000" },
        { IM_TLP_AMBER_STRICT, "tlp:amber+strict", "#FFC000" },
        { IM_TLP_RED, "tlp:red", "#FF2B2B" },
    };
    for (size_t i = 0; i < sizeof tlps / sizeof tlps[0]; i++) {
        im_record_t rec;
        char err[128];
        make_record (&rec, 0x55, IM_TYPE_SHA1,
                     "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        rec.tlp = (uint8_t)tlps[i].tlp;
        im_record_add_tag (&rec, "c2", err, sizeof err);
        json_t *m = im_misp_attribute (&rec, "n");
        json_t *tags = at (m, "Attribute.Tag");
        json_t *t0 = json_array_get (tags, 0), *t1 = json_array_get (tags, 1);
        ok (json_array_size (tags) == 2, "%s: two tags", tlps[i].name);
        is (json_string_value (json_object_get (t0, "name")), tlps[i].name,
            "%s: the first tag is the label", tlps[i].name);
        is (json_string_value (json_object_get (t0, "colour")), tlps[i].colour,
            "%s: colour %s, as MISP's tlp taxonomy", tlps[i].name, tlps[i].colour);
        is (json_string_value (json_object_get (t1, "colour")), "#0088cc",
            "%s: another tag has MISP's default colour", tlps[i].name);
        ok (is_misp_number (json_string_value (json_object_get (t0, "id")))
                && is_misp_number (json_string_value (json_object_get (t1, "id")))
                && json_is_true (json_object_get (t0, "exportable"))
                && json_is_false (json_object_get (t1, "local")),
            "%s: each tag has a numeric id, exportable true, local false", tlps[i].name);
        json_decref (m);
    }
    is (im_misp_tag_colour ("tlp:white"), "#ffffff", "tlp:white is white too");
    is (im_misp_tag_colour ("TLP:RED"), "#0088cc", "tag names are compared exactly");
    is (im_misp_tag_colour (NULL), "#0088cc", "NULL has the default colour");
}

static void
test_numbers (void)
{
    char a[IM_MISP_NUMBER_SIZE], b[IM_MISP_NUMBER_SIZE], c[IM_MISP_NUMBER_SIZE];
    im_misp_number ("tag", "c2", a);
    im_misp_number ("tag", "c2", b);
    im_misp_number ("org", "c2", c);
    ok (is_misp_number (a) && strcmp (a, b) == 0, "the same name gives the same number");
    ok (strcmp (a, c) != 0, "another kind gives another number");
    im_misp_number ("tag", "", c);
    ok (is_misp_number (c), "an empty name gives a number too (%s)", c);
}

static void
test_bad (void)
{
    im_record_t rec;
    make_record (&rec, 0x66, IM_TYPE_IPV4, "192.0.2.1");
    errno = 0;
    ok (im_misp_attribute (NULL, "n") == NULL && errno == EINVAL,
        "im_misp_attribute rejects a NULL record with EINVAL");
    static const int bad_types[] = { IM_TYPE_NONE, IM_TYPE_COUNT, 200 };
    for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++) {
        rec.type = (uint8_t)bad_types[i];
        errno = 0;
        ok (im_misp_attribute (&rec, "n") == NULL && errno == EINVAL,
            "im_misp_attribute rejects type %d with EINVAL", bad_types[i]);
    }
}

static const tap_test_t tests[]
    = { TAP_DIAG ("node/im_misp.c: MISP-format feed messages"),
        TAP_TEST (test_fields),
        TAP_TEST (test_uuids),
        TAP_TEST (test_actions),
        TAP_TEST (test_tags),
        TAP_TEST (test_numbers),
        TAP_TEST (test_bad),
        TAP_END };

int
main (int argc, char **argv)
{
    return tap_main (argc, argv, tests);
}
