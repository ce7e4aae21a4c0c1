/* SPDX-License-Identifier: MPL-2.0 */
/* im_record_diff.c -- an origin's new version of its own indicator: fields
 * merged from the version before it, what changed between two versions,
 * which changes lower its protection, and what a re-published revoked one
 * kept (SPEC.md, "PUBLISH", rules 5 to 7). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "im_record.h"
#include "im_time.h"

int
im_record_merge (im_record_t *self, const im_record_t *prev, const json_t *obj,
                 int64_t now, char *err, size_t errsz)
{
    if (!self || !prev || !json_is_object (obj))
        return im_fail (EINVAL, err, errsz, "indicator: not a JSON object");
    /* The content fields of PREV, then what OBJ gives over them. */
    self->tlp = prev->tlp;
    self->confidence = prev->confidence;
    self->reach = prev->reach;
    self->no_detect = prev->no_detect;
    self->valid_from = prev->valid_from;
    self->valid_until = prev->valid_until;
    memcpy (self->description, prev->description, sizeof self->description);
    self->ntags = prev->ntags;
    memcpy (self->tags, prev->tags, sizeof self->tags);
    self->nrecipients = prev->nrecipients;
    memcpy (self->recipients, prev->recipients, sizeof self->recipients);
    return im_record_from_json (self, obj, now, err, errsz);
}

/* The content fields a version may change, as im_record_to_json names them. */
static const char *const content_fields[]
    = { "type", "value",      "tlp",        "confidence",  "reach",  "description",
        "tags", "recipients", "valid_from", "valid_until", "detect", NULL };

/* Tags and recipients are sets: compared whatever their order. */
static int
same_set (const json_t *a, const json_t *b)
{
    if (!json_is_array (a) || !json_is_array (b)
        || json_array_size (a) != json_array_size (b))
        return json_equal (a, b);
    for (size_t i = 0; i < json_array_size (a); i++) {
        int found = 0;
        for (size_t j = 0; j < json_array_size (b) && !found; j++)
            found = json_equal (json_array_get (a, i), json_array_get (b, j));
        if (!found)
            return 0;
    }
    return 1;
}

json_t *
im_record_changes (const im_record_t *old, const im_record_t *new)
{
    json_t *a = old ? im_record_to_json (old) : NULL;
    json_t *b = new ? im_record_to_json (new) : NULL;
    json_t *changed = a && b ? json_object () : NULL;
    for (int i = 0; changed && content_fields[i]; i++) {
        json_t *x = json_object_get (a, content_fields[i]);
        json_t *y = json_object_get (b, content_fields[i]);
        if (!same_set (x, y)
            && json_object_set_new (changed, content_fields[i],
                                    json_pack ("[O, O]", x, y))) {
            json_decref (changed);
            changed = NULL;
        }
    }
    json_decref (a);
    json_decref (b);
    if (!changed)
        errno = old && new ? ENOMEM : EINVAL;
    return changed;
}

/* A TLP label as people write it: TLP:RED is "RED". */
static const char *
tlp_upper (int tlp, char out[16])
{
    const char *name = im_tlp_name (tlp);
    size_t i = 0;
    for (; name && name[i] && i < 15; i++)
        out[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    out[i] = 0;
    return out;
}

static const char *
reach_text (int reach, char *out)
{
    if (reach == IM_REACH_UNLIMITED)
        return "unlimited";
    snprintf (out, 16, "%d", reach);
    return out;
}

/* Appends "FIELD: OLD -> NEW" (NEW "": "FIELD OLD") to OUT, comma separated. */
static void
add_change (char *out, size_t outsz, const char *field, const char *old, const char *new)
{
    size_t len = strlen (out);
    if (len < outsz && *new)
        snprintf (out + len, outsz - len, "%s%s: %s -> %s", len ? ", " : "", field, old,
                  new);
    else if (len < outsz) /* a value kept: "FIELD VALUE" */
        snprintf (out + len, outsz - len, "%s%s %s", len ? ", " : "", field, old);
}

int
im_record_downgrades (const im_record_t *old, const im_record_t *new, char *out,
                      size_t outsz)
{
    char x[24], y[48];
    int n = 0;
    if (!old || !new || !out || outsz == 0) {
        errno = EINVAL;
        return -1;
    }
    out[0] = 0;
    if (new->tlp < old->tlp) {
        add_change (out, outsz, "tlp", tlp_upper (old->tlp, x), tlp_upper (new->tlp, y));
        n++;
    }
    if (new->reach > old->reach) {
        add_change (out, outsz, "reach", reach_text (old->reach, x),
                    reach_text (new->reach, y));
        n++;
    }
    if (new->no_detect && !old->no_detect) {
        add_change (out, outsz, "detect", "yes", "no");
        n++;
    }
    size_t kept = 0;
    for (size_t i = 0; i < old->nrecipients; i++)
        for (size_t j = 0; j < new->nrecipients; j++)
            if (memcmp (old->recipients[i], new->recipients[j], IM_NODE_ID_SIZE) == 0) {
                kept++;
                break;
            }
    if (kept < old->nrecipients) {
        snprintf (x, sizeof x, "%zu", old->nrecipients);
        snprintf (y, sizeof y, "%zu (%zu dropped)", new->nrecipients,
                  old->nrecipients - kept);
        add_change (out, outsz, "recipients", x, y);
        n++;
    }
    return n;
}

int
im_record_kept (const im_record_t *tomb, const json_t *given, char *out, size_t outsz)
{
    char x[24], y[IM_TIME_STR_SIZE + 16];
    int n = 0;
    if (!tomb || !json_is_object (given) || !out || outsz == 0) {
        errno = EINVAL;
        return -1;
    }
    out[0] = 0;
    if (!json_object_get (given, "tlp")) {
        add_change (out, outsz, "tlp", tlp_upper (tomb->tlp, x), "");
        n++;
    }
    if (!json_object_get (given, "reach") && tomb->reach != IM_REACH_UNLIMITED) {
        add_change (out, outsz, "reach", reach_text (tomb->reach, x), "");
        n++;
    }
    if (!json_object_get (given, "recipients") && tomb->nrecipients) {
        snprintf (x, sizeof x, "%zu", tomb->nrecipients);
        add_change (out, outsz, "recipients", x, "");
        n++;
    }
    const char *names[] = { "valid_from", "valid_until" };
    const int64_t times[] = { tomb->valid_from, tomb->valid_until };
    for (int i = 0; i < 2; i++)
        if (times[i] && !json_object_get (given, names[i])) {
            add_change (out, outsz, names[i], im_time_format (times[i], y), "");
            n++;
        }
    return n;
}

/* Same content apart from identity, version and times. */
int
im_record_same_content (const im_record_t *a, const im_record_t *b)
{
    if (a->op != b->op || a->tlp != b->tlp || a->confidence != b->confidence
        || a->reach != b->reach || a->no_detect != b->no_detect
        || a->valid_from != b->valid_from || a->valid_until != b->valid_until
        || strcmp (a->description, b->description) || a->ntags != b->ntags
        || a->nrecipients != b->nrecipients)
        return 0;
    for (size_t i = 0; i < a->ntags; i++) {
        int found = 0;
        for (size_t j = 0; j < b->ntags && !found; j++)
            found = strcmp (a->tags[i], b->tags[j]) == 0;
        if (!found)
            return 0;
    }
    for (size_t i = 0; i < a->nrecipients; i++) {
        int found = 0;
        for (size_t j = 0; j < b->nrecipients && !found; j++)
            found = memcmp (a->recipients[i], b->recipients[j], IM_NODE_ID_SIZE) == 0;
        if (!found)
            return 0;
    }
    return 1;
}
