/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_lookup.c -- the compact batch LOOKUP (SPEC.md, "LOOKUP"): each
 * value's answer written straight into the reply's text as a short array,
 * with no JSON object built per record, for `intelmesh lookup -`. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "im_ctl.h"
#include "im_node_int.h"

typedef struct {
    node_t *self;
    im_ctl_text_t *out;
    size_t n, max; /* written, allowed */
    int truncated;
} compact_t;

#define RAW(out, lit) im_ctl_text_raw ((out), (lit), sizeof (lit) - 1)

static void
time_or_null (im_ctl_text_t *out, int64_t t)
{
    char buf[IM_TIME_STR_SIZE];
    im_ctl_text_str (out, t ? im_time_format (t, buf) : NULL);
}

/* The record's id and origin, opening its array. */
static void
open_record (compact_t *c, const im_record_t *rec)
{
    char id[IM_ID_STR_SIZE], node[IM_NODE_HEX_SIZE];
    im_id_format (rec->id, id);
    im_node_format (rec->origin, node);
    if (c->n++)
        RAW (c->out, ",");
    RAW (c->out, "[");
    im_ctl_text_str (c->out, id);
    RAW (c->out, ",");
    im_ctl_text_str (c->out, node);
    RAW (c->out, ",");
}

/* A match: [id, origin, version, op, type, value, tlp, confidence, detect,
 * valid_until, [tags]]. */
static int
match_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob, (void)len;
    compact_t *c = arg;
    if (c->n >= c->max) {
        c->truncated = 1;
        return 1;
    }
    open_record (c, rec);
    im_ctl_text_int (c->out, (long long)rec->version);
    RAW (c->out, ",");
    im_ctl_text_str (c->out, rec->op == IM_OP_REVOKE ? "revoke" : "put");
    RAW (c->out, ",");
    im_ctl_text_str (c->out, im_type_name (rec->type));
    RAW (c->out, ",");
    im_ctl_text_str (c->out, rec->value);
    RAW (c->out, ",");
    im_ctl_text_str (c->out, im_tlp_name (rec->tlp));
    RAW (c->out, ",");
    im_ctl_text_int (c->out, rec->confidence);
    if (rec->no_detect)
        RAW (c->out, ",false,");
    else
        RAW (c->out, ",true,");
    time_or_null (c->out, rec->valid_until);
    RAW (c->out, ",[");
    for (size_t i = 0; i < rec->ntags; i++) {
        if (i)
            RAW (c->out, ",");
        im_ctl_text_str (c->out, rec->tags[i]);
    }
    RAW (c->out, "]]");
    return 0;
}

/* A tombstone: [id, origin, type, value, modified, revoked_by], revoked_by
 * "this node", the origin's peer name, or null. */
static int
tomb_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob, (void)len;
    compact_t *c = arg;
    if (c->n >= c->max)
        return 1;
    const uint8_t *own = im_identity_node (c->self->identity);
    open_record (c, rec);
    im_ctl_text_str (c->out, im_type_name (rec->type));
    RAW (c->out, ",");
    im_ctl_text_str (c->out, rec->value);
    RAW (c->out, ",");
    time_or_null (c->out, rec->modified);
    RAW (c->out, ",");
    im_ctl_text_str (c->out, memcmp (rec->origin, own, IM_NODE_ID_SIZE) == 0
                                 ? "this node"
                                 : node_origin_name (c->self, rec->origin));
    RAW (c->out, "]");
    return 0;
}

/* One value's answer, [type, value, [matches], truncated, [tombstones]], or
 * {"value", "error"} for a value that cannot be read; at most *BUDGET
 * matches and tombstones (taken from it). Returns 0, or -1 with the reason
 * in ERR when the store failed. */
static int
compact_one (node_t *self, json_t *item, im_ctl_text_t *out, size_t *budget, char *err,
             size_t errsz)
{
    char norm[IM_VALUE_MAX + 1], why[512];
    int type = node_lookup_value (item, norm, why, sizeof why);
    if (type < 0) {
        RAW (out, "{\"value\":");
        im_ctl_text_str (out, json_string_value (json_object_get (item, "value")));
        RAW (out, ",\"error\":");
        im_ctl_text_str (out, why);
        RAW (out, "}");
        return 0;
    }
    RAW (out, "[");
    im_ctl_text_str (out, im_type_name (type));
    RAW (out, ",");
    im_ctl_text_str (out, norm);
    RAW (out, ",[");
    compact_t c
        = { self, out, 0, *budget < LOOKUP_MATCH_MAX ? *budget : LOOKUP_MATCH_MAX, 0 };
    if (im_store_lookup (self->store, type, norm, match_fn, &c) < 0) {
        snprintf (err, errsz, "store: look-up failed: %s", strerror (errno));
        return -1;
    }
    *budget -= c.n;
    if (c.truncated)
        RAW (out, "],true,[");
    else
        RAW (out, "],false,[");
    c = (compact_t){ self, out, 0,
                     *budget < LOOKUP_MATCH_MAX ? *budget : LOOKUP_MATCH_MAX, 0 };
    if (im_store_lookup_revoked (self->store, type, norm, tomb_fn, &c) < 0)
        zsys_warning ("store: looking up revocations failed: %s", strerror (errno));
    *budget -= c.n;
    RAW (out, "]]");
    return 0;
}

json_t *
node_lookup_compact (node_t *self, json_t *values, char *err, size_t errsz)
{
    im_ctl_text_t *out = &self->reply_text;
    size_t budget = IM_CONTROL_MATCHES_MAX;
    int rc = 0;
    im_ctl_text_free (out);
    im_ctl_text_init (out, IM_CONTROL_REPLY_MAX);
    if (im_store_read_begin (self->store)) {
        snprintf (err, errsz, "store: look-up failed: %s", strerror (errno));
        return NULL;
    }
    RAW (out, "{\"results\":[");
    for (size_t i = 0; rc == 0 && i < json_array_size (values); i++) {
        if (i)
            RAW (out, ",");
        rc = compact_one (self, json_array_get (values, i), out, &budget, err, errsz);
    }
    RAW (out, "]}");
    im_store_read_end (self->store);
    if (rc == 0 && out->failed == ENOMEM)
        snprintf (err, errsz, "out of memory");
    else if (rc == 0 && out->failed)
        snprintf (err, errsz, "LOOKUP: the reply would pass %d bytes: ask fewer values",
                  IM_CONTROL_REPLY_MAX);
    if (rc || out->failed) {
        im_ctl_text_free (out);
        return NULL;
    }
    json_t *done = json_object (); /* the reply is the text */
    if (!done) {
        snprintf (err, errsz, "out of memory");
        im_ctl_text_free (out);
    }
    return done;
}
