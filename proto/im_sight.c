/* SPDX-License-Identifier: MPL-2.0 */
/* im_sight.c -- a sighting's extension item and value (SPEC.md,
 * "Sightings"), and the carrier records that take a sealed envelope through
 * relays ("Carrying sealed envelopes"). Pure functions. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "im_sight.h"
#include "im_util.h"

const char *
im_source_name (int source)
{
    return im_ext_source_name (source);
}

int
im_source_from_name (const char *name)
{
    for (int i = 1; name && i < IM_SOURCE_COUNT; i++)
        if (strcmp (name, im_ext_source_name (i)) == 0)
            return i;
    return 0;
}

void
im_sight_encode (const im_sight_t *s, uint8_t out[IM_SIGHT_EXT_SIZE])
{
    out[0] = (uint8_t)(s->count >> 24);
    out[1] = (uint8_t)(s->count >> 16);
    out[2] = (uint8_t)(s->count >> 8);
    out[3] = (uint8_t)s->count;
    im_put_be64 (out + 4, s->first_seen);
    im_put_be64 (out + 12, s->last_seen);
    out[20] = s->source;
}

int
im_sight_check (const im_sight_t *s, char *err, size_t errsz)
{
    if (!s)
        return im_fail (EINVAL, err, errsz, "sighting: none");
    uint8_t d[IM_SIGHT_EXT_SIZE];
    im_sight_encode (s, d);
    return im_ext_sighting_check (d, sizeof d, err, errsz);
}

int
im_sight_decode (const uint8_t *data, size_t len, im_sight_t *s)
{
    if (!data || !s || len != IM_SIGHT_EXT_SIZE) {
        errno = EINVAL;
        return -1;
    }
    s->count = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8
               | data[3];
    s->first_seen = im_get_be64 (data + 4);
    s->last_seen = im_get_be64 (data + 12);
    s->source = data[20];
    return im_ext_sighting_check (data, len, NULL, 0);
}

int
im_sight_get (const im_record_t *rec, im_sight_t *s)
{
    size_t at = 0, n;
    int k;
    const uint8_t *d;
    while (rec && im_ext_next (rec, &at, &k, &d, &n))
        if (k == IM_EXT_SIGHTING)
            return im_sight_decode (d, n, s);
    errno = EINVAL;
    return -1;
}

void
im_sighting_value (const uint8_t origin[IM_NODE_ID_SIZE], const uint8_t id[IM_ID_SIZE],
                   char out[IM_SIGHTING_VALUE_SIZE])
{
    char node[IM_NODE_HEX_SIZE], ind[IM_ID_STR_SIZE];
    im_node_format (origin, node);
    im_id_format (id, ind);
    snprintf (out, IM_SIGHTING_VALUE_SIZE, "%s/%s", node, ind);
}

void
im_sighting_id (const char *value, uint8_t id[IM_ID_SIZE])
{
    char name[16 + IM_SIGHTING_VALUE_SIZE];
    snprintf (name, sizeof name, "sighting %s", value);
    im_id_from_name (name, strlen (name), id);
}

int
im_sighting_parse (const char *value, uint8_t origin[IM_NODE_ID_SIZE],
                   uint8_t id[IM_ID_SIZE])
{
    char node[IM_NODE_HEX_SIZE];
    if (!value || strlen (value) != IM_SIGHTING_VALUE_SIZE - 1 || value[64] != '/') {
        errno = EINVAL;
        return -1;
    }
    memcpy (node, value, 64);
    node[64] = 0;
    return im_node_parse (node, origin) || im_id_parse (value + 65, id)
               ? (errno = EINVAL, -1)
               : 0;
}

void
im_carrier_digest (const uint8_t *env, size_t len, char out[33])
{
    im_ext_digest (env, len, out);
}

int
im_carrier_make (im_record_t *self, const uint8_t *inner, size_t len, uint8_t reach,
                 int64_t valid_until, int64_t now,
                 const uint8_t (*recipients)[IM_NODE_ID_SIZE], size_t n, char *err,
                 size_t errsz)
{
    size_t elen = 0;
    if (!self || !inner || !recipients)
        return im_fail (EINVAL, err, errsz, "carrier: a missing argument");
    if (len > IM_CARRIER_PAYLOAD_MAX)
        return im_fail (ENOSPC, err, errsz,
                        "the record is %zu bytes and a sealed one may have at most %d: "
                        "shorten its description or tags",
                        len, (int)IM_CARRIER_PAYLOAD_MAX);
    uint8_t *env = malloc (IM_CARRIER_ENVELOPE_MAX);
    if (!env)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    if (im_seal (inner, len, recipients, n, env, IM_CARRIER_ENVELOPE_MAX, &elen, err,
                 errsz)) {
        free (env);
        return -1;
    }
    self->op = IM_OP_PUT;
    self->type = IM_TYPE_SEALED;
    self->tlp = IM_TLP_GREEN;
    self->confidence = IM_CONFIDENCE_DEFAULT;
    self->reach = reach;
    self->no_detect = 1;
    self->valid_from = 0;
    self->valid_until = now + IM_CARRIER_TTL;
    if (valid_until && valid_until < self->valid_until)
        self->valid_until = valid_until;
    self->description[0] = 0;
    self->ntags = self->nrecipients = self->next = self->ext_len = 0;
    im_carrier_digest (env, elen, self->value);
    int rc = im_record_add_ext (self, IM_EXT_SEALED, env, elen, err, errsz);
    free (env);
    return rc;
}

int
im_carrier_envelope (const im_record_t *self, const uint8_t **env, size_t *len)
{
    size_t at = 0;
    int k;
    while (self && self->type == IM_TYPE_SEALED && im_ext_next (self, &at, &k, env, len))
        if (k == IM_EXT_SEALED)
            return 0;
    errno = EINVAL;
    return -1;
}
