/* SPDX-License-Identifier: MPL-2.0 */
/* im_report.h -- reports and their members (SPEC.md, "Reports"): the
 * report's JSON form as the control socket carries it, and the value of a
 * member record. The extension items are the record's (im_record.h). */
#ifndef IM_REPORT_H
#define IM_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "im_record.h"

#define IM_REPORT_TITLE_MAX 256
/* "ORIGINHEX/INDICATOR-UUID REPORT-UUID" and its NUL */
#define IM_MEMBER_VALUE_SIZE (2 * IM_NODE_ID_SIZE + 1 + 36 + 1 + 36 + 1)

/* Fills SELF (type report) from a REPORT body as the control socket carries
 * it: "title" required (trimmed), "tlp", "confidence", "tags",
 * "description", "reach", "recipients" as for an indicator, "id" (left to
 * the caller), and "attack",
 * "actors", "malware", "refs" (arrays of strings), "mitigations" (an array
 * of {"text", "refs"}). Returns 0, or -1 with errno EINVAL and the reason. */
int im_report_from_json (im_record_t *self, const json_t *obj, int64_t now, char *err,
                         size_t errsz);

/* The value of a member record: "ORIGINHEX/INDICATOR-UUID REPORT-UUID". */
void im_member_value (const uint8_t origin[IM_NODE_ID_SIZE],
                      const uint8_t indicator[IM_ID_SIZE],
                      const uint8_t report[IM_ID_SIZE], char out[IM_MEMBER_VALUE_SIZE]);
/* Reads a member value back. Returns 0, or -1 with errno EINVAL. */
int im_member_parse (const char *value, uint8_t origin[IM_NODE_ID_SIZE],
                     uint8_t indicator[IM_ID_SIZE], uint8_t report[IM_ID_SIZE]);

#endif
