/* SPDX-License-Identifier: MPL-2.0 */
/* im_misp.c -- records in the shape of MISP's ZeroMQ feed messages. Only what
 * MISP's own subscribers read is written: an attribute, its event (one per
 * origin) and the action. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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

json_t *
im_misp_attribute (const im_record_t *rec, const char *origin_name)
{
    if (!rec || !im_misp_type (rec->type)) {
        errno = EINVAL;
        return NULL;
    }
    char id[IM_ID_STR_SIZE], event_id[IM_ID_STR_SIZE], node[IM_NODE_HEX_SIZE];
    char org_id[IM_ID_STR_SIZE], stamp[24], info[160], tlp[32], org_name[80];
    uint8_t uuid[IM_ID_SIZE];
    im_id_format (rec->id, id);
    im_node_format (rec->origin, node);
    /* The event and the organisation stand for the origin: the same uuids
     * every time. */
    snprintf (org_name, sizeof org_name, "event:%s", node);
    im_id_from_name (org_name, strlen (org_name), uuid);
    im_id_format (uuid, event_id);
    snprintf (org_name, sizeof org_name, "org:%s", node);
    im_id_from_name (org_name, strlen (org_name), uuid);
    im_id_format (uuid, org_id);
    snprintf (stamp, sizeof stamp, "%lld", (long long)rec->modified);
    snprintf (info, sizeof info, "intelmesh indicators from %s",
              origin_name ? origin_name : node);
    snprintf (tlp, sizeof tlp, "tlp:%s", im_tlp_name (rec->tlp));
    json_t *tags = json_array ();
    if (tags)
        json_array_append_new (tags, json_pack ("{s:s}", "name", tlp));
    for (size_t i = 0; tags && i < rec->ntags; i++)
        json_array_append_new (tags, json_pack ("{s:s}", "name", rec->tags[i]));
    const char *action = rec->op == IM_OP_REVOKE ? "delete"
                         : rec->version <= 1     ? "add"
                                                 : "edit";
    json_t *o = json_pack (
        "{s:{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:b, s:o}, "
        " s:{s:s, s:s, s:{s:s, s:s}}, s:s}",
        "Attribute", "uuid", id, "type", im_misp_type (rec->type), "category",
        im_misp_category (rec->type), "value", rec->value, "to_ids", rec->op == IM_OP_PUT,
        "distribution", im_misp_distribution (rec->reach), "timestamp", stamp, "comment",
        rec->description, "deleted", rec->op == IM_OP_REVOKE, "Tag",
        tags ? tags : json_array (), "Event", "uuid", event_id, "info", info, "Orgc",
        "name", origin_name ? origin_name : node, "uuid", org_id, "action", action);
    if (!o)
        errno = ENOMEM;
    return o;
}
