/* SPDX-License-Identifier: MPL-2.0 */
/* im_export_sight.c -- sightings in exports (SPEC.md, "Sightings"): STIX 2.1
 * sighting objects with an identity for each node that saw, and MISP
 * attribute sightings (MISP's sighting has no count: it goes in its source). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "im_export.h"
#include "im_record.h"
#include "im_sight.h"
#include "im_stix.h"
#include "im_time.h"
#include "im_types.h"

/* The uuid MISP exports and STIX identities give node HEX's organisation. */
static int
org_uuid (const char *hex, char out[IM_ID_STR_SIZE])
{
    char text[16 + IM_NODE_HEX_SIZE];
    uint8_t uuid[IM_ID_SIZE];
    if (!hex || strlen (hex) != 64)
        return -1;
    snprintf (text, sizeof text, "org:%s", hex);
    im_id_from_name (text, strlen (text), uuid);
    im_id_format (uuid, out);
    return 0;
}

/* The exported uuid of sighting S (its origin and id). */
static int
sighting_uuid (const json_t *s, char out[IM_ID_STR_SIZE])
{
    uint8_t origin[IM_NODE_ID_SIZE], id[IM_ID_SIZE], uuid[IM_ID_SIZE];
    if (im_node_parse (json_string_value (json_object_get (s, "origin")), origin)
        || im_id_parse (json_string_value (json_object_get (s, "id")), id))
        return -1;
    im_id_export (origin, id, uuid);
    im_id_format (uuid, out);
    return 0;
}

/* A STIX timestamp (milliseconds) of the RFC 3339 TEXT. */
static json_t *
stix_time (const char *text)
{
    int64_t t;
    char out[IM_STIX_TIME_SIZE];
    if (!text || im_time_parse (text, 0, &t))
        return NULL;
    return json_string (im_stix_time (t, out));
}

static json_t *
identity (const json_t *s, const char *ref)
{
    const char *hex = json_string_value (json_object_get (s, "origin"));
    const char *name = json_string_value (json_object_get (s, "by_name"));
    char fallback[64];
    snprintf (fallback, sizeof fallback, "intelmesh node %.16s", hex ? hex : "?");
    json_t *t = stix_time (json_string_value (json_object_get (s, "created")));
    json_t *o
        = t ? json_pack ("{s:s, s:s, s:s, s:O, s:O, s:s, s:s}", "type", "identity",
                         "spec_version", "2.1", "id", ref, "created", t, "modified", t,
                         "name", name ? name : fallback, "identity_class", "organization")
            : NULL;
    json_decref (t);
    return o;
}

json_t *
im_export_stix_sightings (const json_t *sightings, const char *of, json_t *seen)
{
    json_t *objs = json_array (), *s;
    size_t i;
    json_array_foreach ((json_t *)sightings, i, s)
    {
        char uuid[IM_ID_STR_SIZE], org[IM_ID_STR_SIZE], id[64], ref[64];
        const json_t *sg = json_object_get (s, "sighting");
        const char *hex = json_string_value (json_object_get (s, "origin"));
        const char *note = json_string_value (json_object_get (s, "description"));
        int tlp = im_tlp_parse (json_string_value (json_object_get (s, "tlp")));
        json_int_t count = json_integer_value (json_object_get (sg, "count"));
        if (!objs || !sg || tlp < 0 || sighting_uuid (s, uuid) || org_uuid (hex, org)) {
            json_decref (objs);
            errno = EINVAL;
            return NULL;
        }
        snprintf (id, sizeof id, "sighting--%s", uuid);
        snprintf (ref, sizeof ref, "identity--%s", org);
        if (!json_object_get (seen, ref)
            && (json_array_append_new (objs, identity (s, ref))
                || json_object_set_new (seen, ref, json_true ()))) {
            json_decref (objs);
            errno = EINVAL;
            return NULL;
        }
        json_t *o = json_pack (
            "{s:s, s:s, s:s, s:o*, s:o*, s:s, s:I, s:o*, s:o*, s:[s], s:[s], s:O}",
            "type", "sighting", "spec_version", "2.1", "id", id, "created",
            stix_time (json_string_value (json_object_get (s, "created"))), "modified",
            stix_time (json_string_value (json_object_get (s, "modified"))),
            "sighting_of_ref", of, "count", count > 999999999 ? 999999999 : count,
            "first_seen",
            stix_time (json_string_value (json_object_get (sg, "first_seen"))),
            "last_seen",
            stix_time (json_string_value (json_object_get (sg, "last_seen"))),
            "where_sighted_refs", ref, "object_marking_refs", im_stix_marking_id (tlp),
            "x_intelmesh_source", json_object_get (sg, "source"));
        if (o && note && *note)
            json_object_set_new (o, "description", json_string (note));
        if (!o || json_array_append_new (objs, o)) {
            json_decref (objs);
            errno = ENOMEM;
            return NULL;
        }
    }
    return objs;
}

json_t *
im_export_misp_sightings (const json_t *sightings)
{
    json_t *out = json_array (), *s;
    size_t i;
    json_array_foreach ((json_t *)sightings, i, s)
    {
        char uuid[IM_ID_STR_SIZE], org[IM_ID_STR_SIZE], source[160], date[24],
            attr[IM_ID_STR_SIZE];
        uint8_t io[IM_NODE_ID_SIZE], iid[IM_ID_SIZE], au[IM_ID_SIZE];
        const json_t *sg = json_object_get (s, "sighting");
        const char *hex = json_string_value (json_object_get (s, "origin"));
        const char *name = json_string_value (json_object_get (s, "by_name"));
        int64_t last = 0;
        if (!out || !sg || sighting_uuid (s, uuid) || org_uuid (hex, org)
            || im_sighting_parse (json_string_value (json_object_get (s, "value")), io,
                                  iid)
            || im_time_parse (json_string_value (json_object_get (sg, "last_seen")), 0,
                              &last)) {
            json_decref (out);
            errno = EINVAL;
            return NULL;
        }
        snprintf (source, sizeof source, "intelmesh %s, seen %lld time(s) since %s",
                  json_string_value (json_object_get (sg, "source")),
                  (long long)json_integer_value (json_object_get (sg, "count")),
                  json_string_value (json_object_get (sg, "first_seen")));
        snprintf (date, sizeof date, "%lld", (long long)last);
        im_id_export (io, iid, au);
        im_id_format (au, attr);
        char fallback[64];
        snprintf (fallback, sizeof fallback, "intelmesh node %.16s", hex);
        json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "uuid", uuid,
                               "attribute_uuid", attr, "date_sighting", date, "type", "0",
                               "source", source, "Organisation", "name",
                               name ? name : fallback, "uuid", org);
        if (!o || json_array_append_new (out, o)) {
            json_decref (out);
            errno = ENOMEM;
            return NULL;
        }
    }
    return out;
}

json_t *
im_export_stix_sightings_of (const json_t *map, const im_record_t *r, const char *of,
                             json_t **seen, unsigned *markings)
{
    char key[IM_NODE_HEX_SIZE + IM_ID_STR_SIZE + 1], node[IM_NODE_HEX_SIZE],
        id[IM_ID_STR_SIZE];
    im_node_format (r->origin, node);
    im_id_format (r->id, id);
    snprintf (key, sizeof key, "%s/%s", node, id);
    const json_t *list = json_object_get (map, key);
    if (!json_array_size (list))
        return json_array ();
    if (!*seen && !(*seen = json_object ()))
        return NULL;
    json_t *objs = im_export_stix_sightings (list, of, *seen);
    for (size_t k = 0; objs && k < json_array_size (list); k++) {
        int tlp = im_tlp_parse (
            json_string_value (json_object_get (json_array_get (list, k), "tlp")));
        if (tlp > 0)
            *markings |= 1u << tlp;
    }
    return objs;
}
