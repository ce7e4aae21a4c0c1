/* SPDX-License-Identifier: MPL-2.0 */
/* im_stix.c -- STIX 2.1 indicators and TLP 2.0 marking definitions made from
 * records, for the exporter and the TAXII server: jansson objects, nothing
 * written anywhere. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "im_stix.h"
#include "im_time.h"
#include "im_types.h"

#define TLP2_EXTENSION "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#define TLP2_CREATED "2022-10-01T00:00:00.000Z"

/* TLP 2.0 marking definitions (the OASIS TLP 2.0 extension's objects). */
typedef struct {
    const char *id;
    const char *name;
    const char *level;
} marking_t;

static const marking_t markings[IM_TLP_COUNT] = {
    [IM_TLP_CLEAR] = { "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
                       "TLP:CLEAR", "clear" },
    [IM_TLP_GREEN] = { "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
                       "TLP:GREEN", "green" },
    [IM_TLP_AMBER] = { "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
                       "TLP:AMBER", "amber" },
    [IM_TLP_AMBER_STRICT] = { "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
                              "TLP:AMBER+STRICT", "amber+strict" },
    [IM_TLP_RED]
    = { "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red" },
};

char *
im_stix_time (int64_t t, char out[IM_STIX_TIME_SIZE])
{
    char plain[IM_TIME_STR_SIZE];
    size_t n = strlen (im_time_format (t, plain));
    if (n > 0 && plain[n - 1] == 'Z')
        plain[n - 1] = '\0'; /* the seconds, then milliseconds */
    snprintf (out, IM_STIX_TIME_SIZE, "%s%s", plain,
              n > 0 && plain[0] != '@' ? ".000Z" : "");
    return out;
}

char *
im_stix_time_ms (int64_t ms, char out[IM_STIX_TIME_SIZE])
{
    int64_t rest = ms % 1000;
    if (rest < 0)
        rest += 1000;
    im_stix_time ((ms - rest) / 1000, out);
    size_t n = strlen (out);
    if (n > 5 && strcmp (out + n - 5, ".000Z") == 0)
        snprintf (out + n - 4, 5, "%03dZ", (int)rest);
    return out;
}

void
im_stix_pattern (const im_record_t *r, char *out, size_t outsz)
{
    const im_type_info_t *t = im_type_info (r->type);
    const char *path = t->stix_path;
    if (t->stix_pattern_type || !path) {
        snprintf (out, outsz, "%s", t->stix_pattern_type ? r->value : "");
        return;
    }
    if (t->num_prefix) {
        snprintf (out, outsz, "[%s = %s]", path, r->value + strlen (t->num_prefix));
        return;
    }
    size_t o = (size_t)snprintf (out, outsz, "[%s = '", path);
    for (const char *p = r->value; *p && o + 4 < outsz; p++) {
        if (*p == '\'' || *p == '\\')
            out[o++] = '\\';
        out[o++] = *p;
    }
    snprintf (out + o, outsz - o, "']");
}

void
im_stix_id (const im_record_t *r, char out[IM_STIX_ID_SIZE])
{
    char id[IM_ID_STR_SIZE];
    uint8_t uuid[IM_ID_SIZE];
    im_id_export (r->origin, r->id, uuid);
    im_id_format (uuid, id);
    const char *type = im_type_info (r->type)->stix_object;
    snprintf (out, IM_STIX_ID_SIZE, "%s--%s", type ? type : "indicator", id);
}

void
im_stix_put (json_t *obj, const char *key, json_t *v, int *bad)
{
    if (!v || json_object_set_new (obj, key, v) != 0)
        *bad = 1;
}

void
im_stix_append (json_t *arr, json_t *v, int *bad)
{
    if (!v || json_array_append_new (arr, v) != 0)
        *bad = 1;
}

/* A vulnerability or attack-pattern: named by its id, which is also the
 * external_id of its reference (source_name "cve", "mitre-attack"); the
 * validity window, which STIX has only for indicators, in x_intelmesh_. */
static void
stix_object_fields (json_t *o, const im_record_t *r, const im_type_info_t *ti, int *bad)
{
    char t[IM_STIX_TIME_SIZE];
    im_stix_put (o, "name", json_string (r->value), bad);
    im_stix_put (o, "external_references",
                 json_pack ("[{s:s, s:s}]", "source_name", ti->stix_source, "external_id",
                            r->value),
                 bad);
    if (r->valid_from)
        im_stix_put (o, "x_intelmesh_valid_from",
                     json_string (im_stix_time (r->valid_from, t)), bad);
}

json_t *
im_stix_indicator (const im_record_t *r)
{
    char node[IM_NODE_HEX_SIZE], text[IM_STIX_ID_SIZE], t[IM_STIX_TIME_SIZE];
    char pattern[IM_STIX_PATTERN_MAX];
    int bad = 0;
    json_t *o = json_object ();
    if (!o) {
        errno = ENOMEM;
        return NULL;
    }
    im_stix_id (r, text);
    im_node_format (r->origin, node);
    im_stix_pattern (r, pattern, sizeof pattern);
    int64_t from = im_stix_valid_from (r);

    const im_type_info_t *ti = im_type_info (r->type);
    im_stix_put (o, "type", json_string (ti->stix_object ? ti->stix_object : "indicator"),
                 &bad);
    im_stix_put (o, "spec_version", json_string ("2.1"), &bad);
    im_stix_put (o, "id", json_string (text), &bad);
    im_stix_put (o, "created", json_string (im_stix_time (r->created, t)), &bad);
    im_stix_put (o, "modified", json_string (im_stix_time (r->modified, t)), &bad);
    if (ti->stix_object)
        stix_object_fields (o, r, ti, &bad);
    else {
        im_stix_put (o, "pattern", json_string (pattern), &bad);
        im_stix_put (o, "pattern_type",
                     json_string (ti->stix_pattern_type ? ti->stix_pattern_type : "stix"),
                     &bad);
        im_stix_put (o, "valid_from", json_string (im_stix_time (from, t)), &bad);
    }
    if (r->valid_until)
        im_stix_put (o, ti->stix_object ? "x_intelmesh_valid_until" : "valid_until",
                     json_string (im_stix_time (r->valid_until, t)), &bad);
    im_stix_put (o, "confidence", json_integer (r->confidence), &bad);
    if (r->ntags) {
        json_t *labels = json_array ();
        for (size_t i = 0; labels && i < r->ntags; i++)
            im_stix_append (labels, json_string (r->tags[i]), &bad);
        im_stix_put (o, "labels", labels, &bad);
    }
    if (r->description[0])
        im_stix_put (o, "description", json_string (r->description), &bad);
    if (r->op == IM_OP_REVOKE)
        im_stix_put (o, "revoked", json_true (), &bad);
    json_t *refs = json_array ();
    if (refs)
        im_stix_append (refs, json_string (markings[r->tlp].id), &bad);
    im_stix_put (o, "object_marking_refs", refs, &bad);
    im_stix_put (o, "x_intelmesh_reach",
                 r->reach == IM_REACH_UNLIMITED ? json_string ("unlimited")
                                                : json_integer (r->reach),
                 &bad);
    im_stix_put (o, "x_intelmesh_origin", json_string (node), &bad);
    if (r->no_detect) /* not meant for detection: STIX has no property for it */
        im_stix_put (o, "x_intelmesh_detect", json_false (), &bad);
    if (bad) {
        json_decref (o);
        errno = ENOMEM;
        return NULL;
    }
    return o;
}

int64_t
im_stix_valid_from (const im_record_t *r)
{
    int64_t from = r->valid_from ? r->valid_from : r->created;
    if (r->valid_until && r->valid_until <= from)
        from = r->valid_until - 1;
    return from;
}

const char *
im_stix_note (const im_record_t *r)
{
    if (r->valid_until && r->valid_until <= (r->valid_from ? r->valid_from : r->created))
        return r->valid_from ? "valid_until is not later than valid_from (STIX wants it "
                               "later): valid_from written as valid_until - 1 s"
                             : "valid_until is not later than created, the default "
                               "valid_from (STIX wants it later): valid_from written "
                               "as valid_until - 1 s";
    if (r->modified < r->created)
        return "modified is before created (STIX wants it not before); written as "
               "it is";
    return NULL;
}

const char *
im_stix_marking_id (int tlp)
{
    return tlp >= 0 && tlp < IM_TLP_COUNT ? markings[tlp].id : NULL;
}

json_t *
im_stix_marking (int tlp)
{
    if (!im_stix_marking_id (tlp)) {
        errno = EINVAL;
        return NULL;
    }
    json_t *m = json_pack (
        "{s:s, s:s, s:s, s:s, s:s, s:{s:{s:s, s:s}}}", "type", "marking-definition",
        "spec_version", "2.1", "id", markings[tlp].id, "created", TLP2_CREATED, "name",
        markings[tlp].name, "extensions", TLP2_EXTENSION, "extension_type",
        "property-extension", "tlp_2_0", markings[tlp].level);
    if (!m)
        errno = ENOMEM;
    return m;
}
