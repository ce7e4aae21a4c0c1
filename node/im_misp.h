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

/* The message body MISP publishes on "misp_json_attribute" for a change:
 * {"Attribute": {...}, "Event": {"uuid", "info", "Orgc": {"name", "uuid"}},
 * "action": "add" | "edit" | "delete"}. ORIGIN_NAME names the origin (the
 * node's or a peer's name, or NULL for the origin's id). The event stands for
 * the origin: one stable event uuid per origin. Returns a new reference or
 * NULL (ENOMEM). */
json_t *im_misp_attribute (const im_record_t *rec, const char *origin_name);

#endif
