/* SPDX-License-Identifier: MPL-2.0 */
/* im_misp.h -- records in the shape of MISP's ZeroMQ feed, so that local
 * tools written for MISP ("misp_json_attribute", "misp_json_self") read the
 * node's feed unchanged (proto/SPEC.md, "Local outputs"). */
#ifndef IM_MISP_H
#define IM_MISP_H

#include <jansson.h>

#include "im_record.h"

/* The MISP attribute type of an indicator type ("ip-dst", "domain", "url",
 * "email-src", "md5", ..., "filename", "AS"), and its MISP category. */
const char *im_misp_type (int type);
const char *im_misp_category (int type);

/* MISP's distribution for a reach: "0" (this node only), "1", "2", or "3"
 * (3 links or more, or unlimited). */
const char *im_misp_distribution (int reach);

/* The message body MISP publishes on "misp_json_attribute" for a change, with
 * the fields of MISP's fetchAttribute (proto/SPEC.md, "The MISP-compatible
 * feed"): {"Attribute": {"id", "event_id", "object_id": "0", "uuid", ...,
 * "Tag": [...]}, "Event": {"id", "uuid", ..., "orgc_id", "Orgc": {"id",
 * "name", "uuid"}}, "action": "add" | "edit" | "soft-delete"}. The uuid is
 * im_id_export()'s; ORIGIN_NAME names the origin (the node's or a peer's name,
 * or NULL for the origin's id). The event stands for the origin: one stable
 * event uuid and number per origin. Returns a new reference, or NULL with
 * errno EINVAL (no record, or a type MISP has no name for) or ENOMEM. */
json_t *im_misp_attribute (const im_record_t *rec, const char *origin_name);

/* MISP's numeric ids (database rows there) as the strings MISP sends: here a
 * hash of KIND ("attribute", "event", "org", "tag") and NAME, 1 to 2^31 - 1,
 * the same every time (two names may share one: the uuids identify). */
#define IM_MISP_NUMBER_SIZE 12
void im_misp_number (const char *kind, const char *name, char out[IM_MISP_NUMBER_SIZE]);

/* The colour MISP gives tag NAME: its tlp taxonomy's for tlp:red, tlp:amber,
 * tlp:amber+strict, tlp:green, tlp:clear (and tlp:white), else "#0088cc". */
const char *im_misp_tag_colour (const char *name);

#endif
