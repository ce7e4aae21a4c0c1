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
/* "indicator--" (or "attack-pattern--", the longest) and a UUID, NUL. */
#define IM_STIX_ID_SIZE (16 + IM_ID_STR_SIZE)

/* T (seconds since the epoch) as RFC 3339 UTC with milliseconds. Returns OUT. */
char *im_stix_time (int64_t t, char out[IM_STIX_TIME_SIZE]);
/* MS (milliseconds since the epoch) as im_stix_time writes seconds, with the
 * milliseconds in place of ".000". */
char *im_stix_time_ms (int64_t ms, char out[IM_STIX_TIME_SIZE]);

/* The pattern of R: one comparison, the value a single-quoted string with \'
 * and \\ escaped (an AS number is an integer); a rule (yara, sigma, snort)
 * is its own pattern. Not for types that are STIX objects (stix_object). */
void im_stix_pattern (const im_record_t *r, char *out, size_t outsz);

/* The STIX id of R, "indicator--UUID" ("vulnerability--UUID" for a cve,
 * "attack-pattern--UUID" for an attack-pattern): the UUID is im_id_export() of its
 * origin and id (version 4 or 5, the same in every export). */
void im_stix_id (const im_record_t *r, char out[IM_STIX_ID_SIZE]);

/* R as a STIX 2.1 indicator object (pattern_type "stix", or the rule's
 * language and the rule as pattern), or for a cve or attack-pattern a
 * vulnerability or attack-pattern object named by the id, with the id as the
 * external_id of an external reference "cve" or "mitre-attack"; marked with its TLP 2.0
 * marking definition (im_stix_marking()). R must have passed the export's checks
 * (im_record_check() rules, created and modified set). Returns a new
 * reference, or NULL with errno ENOMEM. */
json_t *im_stix_indicator (const im_record_t *r);

/* The valid_from an indicator of R gets: R's valid_from, or its created time
 * when unset (STIX requires one); but never valid_until or later, which STIX
 * forbids: a record whose window is empty or was over at its creation (an
 * expired indicator published or imported) gets valid_until - 1 s, so that it
 * still reads as valid up to its valid_until and no longer. */
int64_t im_stix_valid_from (const im_record_t *r);

/* What, in the indicator im_stix_indicator() makes of R, differs from the
 * record or is not what STIX wants (one sentence), or NULL when nothing. */
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
