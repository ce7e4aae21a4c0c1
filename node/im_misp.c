/* SPDX-License-Identifier: MPL-2.0 */
/* im_misp.c -- records in the shape of MISP's ZeroMQ feed messages: the
 * attribute with every field MISP's fetchAttribute gives, its tags and its
 * event (one per origin), and the action MISP names the change with. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "im_misp.h"
#include "im_time.h"
#include "im_types.h"

/* The names come from the table of types (im_types.c), which the exporter
 * reads too. */
const char *
im_misp_type (int type)
{
    const im_type_info_t *t = im_type_info (type);
    return t ? t->misp_type : NULL;
}

const char *
im_misp_category (int type)
{
    const im_type_info_t *t = im_type_info (type);
    return t ? t->misp_category : NULL;
}

const char *
im_misp_distribution (int reach)
{
    return im_type_misp_distribution (reach);
}

/* The colours of MISP's tlp taxonomy (misp-taxonomies, tlp/machinetag.json,
 * version 10), and the colour MISP gives a tag it makes without one. */
static const struct {
    const char *name, *colour;
} tag_colours[] = {
    { "tlp:red", "#FF2B2B" },   { "tlp:amber+strict", "#FFC000" },
    { "tlp:amber", "#FFC000" }, { "tlp:green", "#33FF00" },
    { "tlp:clear", "#ffffff" }, { "tlp:white", "#ffffff" },
};
#define TAG_COLOUR_DEFAULT "#0088cc"

const char *
im_misp_tag_colour (const char *name)
{
    for (size_t i = 0; name && i < sizeof tag_colours / sizeof tag_colours[0]; i++)
        if (strcmp (name, tag_colours[i].name) == 0)
            return tag_colours[i].colour;
    return TAG_COLOUR_DEFAULT;
}

void
im_misp_number (const char *kind, const char *name, char out[IM_MISP_NUMBER_SIZE])
{
    uint8_t h[8];
    crypto_generichash_state st;
    crypto_generichash_init (&st, NULL, 0, sizeof h);
    crypto_generichash_update (&st, (const uint8_t *)kind, strlen (kind));
    crypto_generichash_update (&st, (const uint8_t *)":", 1);
    crypto_generichash_update (&st, (const uint8_t *)name, strlen (name));
    crypto_generichash_final (&st, h, sizeof h);
    uint32_t n
        = ((uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3])
          & 0x7fffffffu;
    snprintf (out, IM_MISP_NUMBER_SIZE, "%u", n ? (unsigned)n : 1u);
}

/* A tag as MISP's fetchAttribute gives it. */
static json_t *
misp_tag (const char *name)
{
    char id[IM_MISP_NUMBER_SIZE];
    im_misp_number ("tag", name, id);
    return json_pack ("{s:s, s:s, s:s, s:b, s:b}", "id", id, "name", name, "colour",
                      im_misp_tag_colour (name), "exportable", 1, "local", 0);
}

/* tlp:LABEL, then the record's tags. NULL: ENOMEM. */
static json_t *
misp_tags (const im_record_t *rec)
{
    char tlp[32];
    snprintf (tlp, sizeof tlp, "tlp:%s", im_tlp_name (rec->tlp));
    json_t *tags = json_array ();
    int rc = tags ? json_array_append_new (tags, misp_tag (tlp)) : -1;
    for (size_t i = 0; rc == 0 && i < rec->ntags; i++)
        rc = json_array_append_new (tags, misp_tag (rec->tags[i]));
    if (rc != 0)
        json_decref (tags);
    return rc == 0 ? tags : NULL;
}

/* The event that stands for the origin (hex NODE, number EVENT_ID): the same
 * uuid, number and organisation every time. NULL: ENOMEM. */
static json_t *
misp_event (const im_record_t *rec, const char *origin_name, const char *node,
            const char *event_id)
{
    char name[80], event_uuid[IM_ID_STR_SIZE], org_uuid[IM_ID_STR_SIZE];
    char org_id[IM_MISP_NUMBER_SIZE], info[160], date[16] = "1970-01-01";
    uint8_t uuid[IM_ID_SIZE];
    snprintf (name, sizeof name, "event:%s", node);
    im_id_from_name (name, strlen (name), uuid);
    im_id_format (uuid, event_uuid);
    snprintf (name, sizeof name, "org:%s", node);
    im_id_from_name (name, strlen (name), uuid);
    im_id_format (uuid, org_uuid);
    im_misp_number ("org", node, org_id);
    snprintf (info, sizeof info, "intelmesh indicators from %s",
              origin_name ? origin_name : node);
    struct tm tm;
    time_t t = (time_t)rec->created;
    if (gmtime_r (&t, &tm))
        strftime (date, sizeof date, "%Y-%m-%d", &tm);
    return json_pack (
        "{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s, "
        "s:{s:s, s:s, s:s}}",
        "id", event_id, "date", date, "info", info, "uuid", event_uuid, "published", 1,
        "analysis", "2", "threat_level_id", "4", "org_id", org_id, "orgc_id", org_id,
        "distribution", im_misp_distribution (rec->reach), "sharing_group_id", "0",
        "Orgc", "id", org_id, "name", origin_name ? origin_name : node, "uuid", org_uuid);
}

json_t *
im_misp_attribute (const im_record_t *rec, const char *origin_name)
{
    if (!rec || !im_misp_type (rec->type)) {
        errno = EINVAL;
        return NULL;
    }
    char uuid[IM_ID_STR_SIZE], node[IM_NODE_HEX_SIZE], stamp[24];
    char id[IM_MISP_NUMBER_SIZE], event_id[IM_MISP_NUMBER_SIZE];
    uint8_t bin[IM_ID_SIZE];
    /* The uuid is the record's id outside the node; the numbers stand for
     * the record and for its origin's event. */
    im_id_export (rec->origin, rec->id, bin);
    im_id_format (bin, uuid);
    im_node_format (rec->origin, node);
    im_misp_number ("attribute", uuid, id);
    im_misp_number ("event", node, event_id);
    snprintf (stamp, sizeof stamp, "%lld", (long long)rec->modified);
    const char *action = rec->op == IM_OP_REVOKE ? "soft-delete"
                         : rec->version <= 1     ? "add"
                                                 : "edit";
    json_t *tags = misp_tags (rec);
    json_t *event = misp_event (rec, origin_name, node, event_id);
    json_t *o = NULL;
    if (tags && event)
        o = json_pack ("{s:{s:s, s:s, s:s, s:n, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s, "
                       "s:s, s:b, s:b, s:n, s:n, s:O}, s:O, s:s}",
                       "Attribute", "id", id, "event_id", event_id, "object_id", "0",
                       "object_relation", "category", im_misp_category (rec->type),
                       "type", im_misp_type (rec->type), "value", rec->value, "to_ids",
                       rec->op == IM_OP_PUT && !rec->no_detect, "uuid", uuid, "timestamp",
                       stamp, "distribution", im_misp_distribution (rec->reach),
                       "sharing_group_id", "0", "comment", rec->description, "deleted",
                       rec->op == IM_OP_REVOKE, "disable_correlation", 0, "first_seen",
                       "last_seen", "Tag", tags, "Event", event, "action", action);
    json_decref (tags);
    json_decref (event);
    if (!o)
        errno = ENOMEM;
    return o;
}
