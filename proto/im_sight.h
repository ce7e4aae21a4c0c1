/* SPDX-License-Identifier: MPL-2.0 */
/* im_sight.h -- sightings (SPEC.md, "Sightings"): a node's signed word that
 * it saw an indicator, how often, when and by what kind of source; and the
 * carriers that take a sealed envelope through relays ("Carrying sealed
 * envelopes"). */
#ifndef IM_SIGHT_H
#define IM_SIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "im_record.h"
#include "im_seal.h"

/* The data of an IM_EXT_SIGHTING item (IM_SIGHT_EXT_SIZE bytes, im_record.h):
 * count (4 bytes), first and last seen (8 bytes each, seconds since the
 * epoch, big-endian), source (1 byte). */
#define IM_SIGHT_NOTE_MAX 1024 /* its note (the record's description) */
/* "ORIGINHEX/INDICATOR-UUID" and its NUL. */
#define IM_SIGHTING_VALUE_SIZE (64 + 1 + 36 + 1)

typedef enum {
    IM_SOURCE_SENSOR = 1,   /* an IDS, a proxy, a mail filter: automatic */
    IM_SOURCE_INCIDENT = 2, /* an incident being handled */
    IM_SOURCE_HONEYPOT = 3,
    IM_SOURCE_ANALYST = 4, /* an analyst's own finding */
    IM_SOURCE_OTHER = 5,
    IM_SOURCE_COUNT = 6
} im_source_t;

typedef struct {
    uint32_t count;
    int64_t first_seen, last_seen;
    uint8_t source; /* im_source_t */
} im_sight_t;

/* The name of SOURCE ("sensor"), or NULL. */
const char *im_source_name (int source);
/* The source named NAME, or 0. */
int im_source_from_name (const char *name);

/* Checks SIGHT: count 1 to IM_SIGHT_COUNT_MAX, 0 < first_seen <= last_seen,
 * a known source. Returns 0 or -1 with errno EINVAL and the reason in ERR. */
int im_sight_check (const im_sight_t *sight, char *err, size_t errsz);

/* Encodes SIGHT into OUT; decodes IM_SIGHT_EXT_SIZE bytes of DATA into SIGHT
 * (0, or -1 with errno EINVAL when LEN is wrong or the values break the
 * rules). */
void im_sight_encode (const im_sight_t *sight, uint8_t out[IM_SIGHT_EXT_SIZE]);
int im_sight_decode (const uint8_t *data, size_t len, im_sight_t *sight);

/* The sighting of REC (a sighting record that is not revoked). Returns 0, or
 * -1 with errno EINVAL. */
int im_sight_get (const im_record_t *rec, im_sight_t *sight);

/* A sighting's value: the indicator (ORIGIN, ID) it is about. */
void im_sighting_value (const uint8_t origin[IM_NODE_ID_SIZE],
                        const uint8_t id[IM_ID_SIZE], char out[IM_SIGHTING_VALUE_SIZE]);
/* The id of a node's sighting of value VALUE: the version 5 UUID of
 * "sighting VALUE" (not of VALUE, which is how the indicator itself is
 * exported: im_id_export). */
void im_sighting_id (const char *value, uint8_t id[IM_ID_SIZE]);
/* Reads a sighting's VALUE into ORIGIN and ID. Returns 0 or -1 (EINVAL). */
int im_sighting_parse (const char *value, uint8_t origin[IM_NODE_ID_SIZE],
                       uint8_t id[IM_ID_SIZE]);

/* --- Carriers ----------------------------------------------------------- */

/* The largest record a carrier takes: its envelope must fit in one
 * extension item (IM_CARRIER_ENVELOPE_MAX, im_record.h). */
#define IM_CARRIER_PAYLOAD_MAX (IM_CARRIER_ENVELOPE_MAX - IM_SEAL_OVERHEAD - 1)
/* A carrier expires this long after it is made, or with its record. */
#define IM_CARRIER_TTL (30 * 86400)

/* The digest of ENV (LEN bytes) a carrier's value is: 32 hex digits. */
void im_carrier_digest (const uint8_t *env, size_t len, char out[33]);

/* Makes SELF, whose origin, id, version, created and modified the caller
 * set, the carrier of the signed record INNER (LEN bytes, at most
 * IM_CARRIER_PAYLOAD_MAX) sealed to the N recipients RECIPIENTS (1 to
 * IM_SEAL_SLOTS): type sealed, TLP GREEN, the envelope as its one extension
 * item, its digest as its value, INNER's reach and a validity that ends
 * with INNER's (VALID_UNTIL, 0 for none) or after IM_CARRIER_TTL from NOW.
 * Returns 0, or -1 with errno EINVAL or ENOSPC (INNER too large) and the
 * reason in ERR. */
int im_carrier_make (im_record_t *self, const uint8_t *inner, size_t len, uint8_t reach,
                     int64_t valid_until, int64_t now,
                     const uint8_t (*recipients)[IM_NODE_ID_SIZE], size_t n, char *err,
                     size_t errsz);

/* The envelope a carrier holds. Returns 0, or -1 with errno EINVAL. */
int im_carrier_envelope (const im_record_t *self, const uint8_t **env, size_t *len);

#endif
