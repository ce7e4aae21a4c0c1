/* SPDX-License-Identifier: MPL-2.0 */
/* im_stix.h -- a record as STIX 2.1 objects: the indicator (its pattern, its
 * times with milliseconds) and the TLP 2.0 marking definitions it refers to.
 * Shared by `intelmesh export` and the TAXII server. */
#ifndef IM_STIX_H
#define IM_STIX_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "im_record.h"

/* RFC 3339 with milliseconds, as STIX wants them: 2026-11-23T10:00:00.000Z. */
#define IM_STIX_TIME_SIZE 40 /* IM_TIME_STR_SIZE and ".000" */
/* A pattern: object path, quotes, the value with every byte escaped. */
#define IM_STIX_PATTERN_MAX (64 + 2 * IM_VALUE_MAX)
/* "indicator--" and a UUID, NUL. */
#define IM_STIX_ID_SIZE (11 + IM_ID_STR_SIZE)

/* T (seconds since the epoch) as RFC 3339 UTC with milliseconds. Returns OUT. */
char *im_stix_time (int64_t t, char out[IM_STIX_TIME_SIZE]);

/* The pattern of R: one comparison, the value a single-quoted string with \'
 * and \\ escaped (an AS number is an integer). */
void im_stix_pattern (const im_record_t *r, char *out, size_t outsz);

/* The STIX id of R, "indicator--UUID". */
void im_stix_id (const im_record_t *r, char out[IM_STIX_ID_SIZE]);

/* R as a STIX 2.1 indicator object, marked with its TLP 2.0 marking
 * definition (im_stix_marking()). R must have passed the export's checks
 * (im_record_check() rules, created and modified set). Returns a new
 * reference, or NULL with errno ENOMEM. */
json_t *im_stix_indicator (const im_record_t *r);

/* What, in the indicator im_stix_indicator() makes of R, is not what STIX
 * wants (one sentence), or NULL when nothing. */
const char *im_stix_note (const im_record_t *r);

/* The id of TLP's TLP 2.0 marking definition ("marking-definition--..."),
 * NULL for a TLP out of range. */
const char *im_stix_marking_id (int tlp);

/* TLP's TLP 2.0 marking-definition object (the OASIS TLP 2.0 extension's).
 * Returns a new reference, or NULL (ENOMEM, or EINVAL: TLP out of range). */
json_t *im_stix_marking (int tlp);

/* For building objects: sets KEY of OBJ to V (stolen), or appends V (stolen)
 * to ARR; a failure (V NULL, out of memory) sets *BAD. */
void im_stix_put (json_t *obj, const char *key, json_t *v, int *bad);
void im_stix_append (json_t *arr, json_t *v, int *bad);

#endif
