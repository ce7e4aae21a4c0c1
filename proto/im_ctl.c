/* SPDX-License-Identifier: MPL-2.0 */
/* im_ctl.c -- the control protocol's codec: one table of commands, and the
 * checks every request and reply passes before anyone reads it. Nothing here
 * trusts a frame count, a length or a byte of JSON. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "im_ctl.h"
#include "im_util.h"

static const char *const item_extras[] = { "id", "revoke", "source", "force", NULL };

static const char *const names[IM_CTL_COUNT] = {
    [IM_CTL_PUBLISH] = "PUBLISH",   [IM_CTL_REVOKE] = "REVOKE",
    [IM_CTL_LOOKUP] = "LOOKUP",     [IM_CTL_LIST] = "LIST",
    [IM_CTL_STATUS] = "STATUS",     [IM_CTL_PEERS] = "PEERS",
    [IM_CTL_EXPLAIN] = "EXPLAIN",   [IM_CTL_SENT] = "SENT",
    [IM_CTL_CHECK] = "CHECK",       [IM_CTL_ROTATE] = "ROTATE",
    [IM_CTL_RELOAD] = "RELOAD",     [IM_CTL_REPORT] = "REPORT",
    [IM_CTL_SIGHT] = "SIGHT",       [IM_CTL_SIGHTINGS] = "SIGHTINGS",
    [IM_CTL_EXERCISE] = "EXERCISE",
};

const char *
im_ctl_name (im_ctl_cmd_t cmd)
{
    return (unsigned)cmd < IM_CTL_COUNT ? names[cmd] : NULL;
}

int
im_ctl_lookup (const void *name, size_t len, im_ctl_cmd_t *cmd)
{
    if (!name || !cmd) {
        errno = EINVAL;
        return -1;
    }
    for (int i = 0; i < IM_CTL_COUNT; i++)
        if (strlen (names[i]) == len && memcmp (names[i], name, len) == 0) {
            *cmd = (im_ctl_cmd_t)i;
            return 0;
        }
    errno = EINVAL;
    return -1;
}

/* Two frames: a word and a JSON object. */
static zmsg_t *
encode (const char *word, const json_t *body)
{
    char *text = json_dumps (body, JSON_COMPACT);
    zmsg_t *msg = text ? zmsg_new () : NULL;
    if (!msg || zmsg_addstr (msg, word) || zmsg_addstr (msg, text)) {
        zmsg_destroy (&msg);
        free (text);
        errno = ENOMEM;
        return NULL;
    }
    free (text);
    return msg;
}

zmsg_t *
im_ctl_request_encode (im_ctl_cmd_t cmd, const json_t *body)
{
    if (!im_ctl_name (cmd) || !json_is_object (body)) {
        errno = EINVAL;
        return NULL;
    }
    return encode (names[cmd], body);
}

/* The command as received, for logs: only printable ASCII. */
static void
show (zframe_t *frame, char *shown)
{
    strcpy (shown, "?");
    if (!frame)
        return;
    const uint8_t *s = zframe_data (frame);
    size_t n = zframe_size (frame);
    if (n > IM_CONTROL_NAME_MAX + 1)
        n = IM_CONTROL_NAME_MAX + 1;
    for (size_t i = 0; i < n; i++)
        shown[i] = s[i] > ' ' && s[i] < 0x7F ? (char)s[i] : '?';
    shown[n ? n : 1] = 0;
}

/* The one JSON object in FRAME, or NULL. */
static json_t *
object_of (zframe_t *frame)
{
    json_error_t jerr;
    json_t *obj = json_loadb ((const char *)zframe_data (frame), zframe_size (frame),
                              JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object (obj)) {
        json_decref (obj);
        return NULL;
    }
    return obj;
}

int
im_ctl_request_decode (zmsg_t *msg, im_ctl_cmd_t *cmd, json_t **body, char *shown,
                       char *err, size_t errsz)
{
    char scratch[IM_CONTROL_NAME_MAX + 2];
    if (!shown)
        shown = scratch;
    show (msg ? zmsg_first (msg) : NULL, shown);
    if (!msg || !cmd || !body || zmsg_size (msg) != 2)
        return im_fail (EPROTO, err, errsz,
                        "malformed request: want a command and a JSON body");
    zframe_t *word = zmsg_first (msg);
    if (im_ctl_lookup (zframe_data (word), zframe_size (word), cmd))
        return im_fail (EPROTO, err, errsz, "unknown command");
    if (!(*body = object_of (zmsg_next (msg))))
        return im_fail (EPROTO, err, errsz,
                        "malformed request: body is not a JSON object");
    return 0;
}

int
im_ctl_lookup_values (const json_t *body, char *err, size_t errsz)
{
    json_t *values = json_object_get (body, "values");
    if (!json_is_object (body))
        return im_fail (EPROTO, err, errsz, "malformed request: body is not an object");
    if (!values)
        return 0;
    if (json_object_get (body, "value"))
        return im_fail (EPROTO, err, errsz, "give 'value' or 'values', not both");
    json_t *compact = json_object_get (body, "compact");
    if (compact && !json_is_boolean (compact))
        return im_fail (EPROTO, err, errsz, "'compact' must be true or false");
    size_t n = json_array_size (values);
    if (!json_is_array (values) || n == 0)
        return im_fail (EPROTO, err, errsz, "'values' must be a non-empty array");
    if (n > IM_CONTROL_LOOKUP_MAX)
        return im_fail (EPROTO, err, errsz, "'values': %zu values, at most %d per LOOKUP",
                        n, IM_CONTROL_LOOKUP_MAX);
    for (size_t i = 0; i < n; i++)
        if (!json_is_object (json_array_get (values, i)))
            return im_fail (EPROTO, err, errsz, "'values'[%zu] is not an object", i);
    return (int)n;
}

zmsg_t *
im_ctl_reply_encode (const json_t *body, const char *error)
{
    if (!error)
        return json_is_object (body) ? encode ("OK", body) : (errno = EINVAL, NULL);
    json_t *obj = json_pack ("{s:s}", "error", error);
    zmsg_t *msg = obj ? encode ("ERROR", obj) : NULL;
    json_decref (obj);
    if (!obj)
        errno = ENOMEM;
    return msg;
}

int
im_ctl_reply_decode (zmsg_t *msg, json_t **body, char *err, size_t errsz)
{
    if (!msg || !body || zmsg_size (msg) != 2)
        return im_fail (EPROTO, err, errsz, "malformed reply from intelmeshd");
    zframe_t *status = zmsg_first (msg);
    int ok = zframe_streq (status, "OK");
    if (!ok && !zframe_streq (status, "ERROR"))
        return im_fail (EPROTO, err, errsz, "malformed reply from intelmeshd");
    json_t *obj = object_of (zmsg_next (msg));
    if (!obj)
        return im_fail (EPROTO, err, errsz, "malformed reply from intelmeshd");
    if (ok) {
        *body = obj;
        return 0;
    }
    const char *why = json_string_value (json_object_get (obj, "error"));
    im_fail (EPROTO, err, errsz, "%s", why ? why : "request refused");
    json_decref (obj);
    return -1;
}

/* --- JSON text written piece by piece ------------------------------------ */

void
im_ctl_text_init (im_ctl_text_t *self, size_t max)
{
    memset (self, 0, sizeof *self);
    self->max = max;
}

void
im_ctl_text_free (im_ctl_text_t *self)
{
    if (!self)
        return;
    free (self->data);
    im_ctl_text_init (self, self->max);
}

/* Room for N more bytes (and a NUL), or 0 with SELF failed. */
static int
text_room (im_ctl_text_t *self, size_t n)
{
    if (self->failed)
        return 0;
    if (n > self->max || self->len > self->max - n) {
        self->failed = ENOSPC;
        return 0;
    }
    if (self->len + n + 1 <= self->cap)
        return 1;
    size_t cap = self->cap ? self->cap : 4096;
    while (cap < self->len + n + 1)
        cap *= 2;
    char *data = realloc (self->data, cap);
    if (!data) {
        self->failed = ENOMEM;
        return 0;
    }
    self->data = data;
    self->cap = cap;
    return 1;
}

void
im_ctl_text_raw (im_ctl_text_t *self, const char *s, size_t n)
{
    if (!text_room (self, n))
        return;
    memcpy (self->data + self->len, s, n);
    self->len += n;
    self->data[self->len] = 0;
}

void
im_ctl_text_str (im_ctl_text_t *self, const char *s)
{
    if (!s) {
        im_ctl_text_raw (self, "null", 4);
        return;
    }
    size_t n = strlen (s);
    if (!text_room (self, 6 * n + 2)) /* every byte as \u00XX at most */
        return;
    char *o = self->data + self->len;
    *o++ = '"';
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        if (*u == '"' || *u == '\\') {
            *o++ = '\\';
            *o++ = (char)*u;
        }
        else if (*u < 0x20)
            o += sprintf (o, "\\u%04x", *u);
        else
            *o++ = (char)*u;
    }
    *o++ = '"';
    *o = 0;
    self->len = (size_t)(o - self->data);
}

void
im_ctl_text_int (im_ctl_text_t *self, long long n)
{
    char buf[24];
    int len = snprintf (buf, sizeof buf, "%lld", n);
    im_ctl_text_raw (self, buf, (size_t)len);
}

int
im_ctl_text_check (const im_ctl_text_t *self)
{
    if (self->failed) {
        errno = self->failed;
        return -1;
    }
    return 0;
}

static zmsg_t *
text_message (const char *word, const char *text, size_t len)
{
    zmsg_t *msg = zmsg_new ();
    if (!msg || zmsg_addstr (msg, word) || zmsg_addmem (msg, text, len)) {
        zmsg_destroy (&msg);
        errno = ENOMEM;
    }
    return msg;
}

zmsg_t *
im_ctl_request_text (im_ctl_cmd_t cmd, const char *text, size_t len)
{
    if (!im_ctl_name (cmd) || !text) {
        errno = EINVAL;
        return NULL;
    }
    return text_message (names[cmd], text, len);
}

zmsg_t *
im_ctl_reply_text (const char *text, size_t len)
{
    if (!text) {
        errno = EINVAL;
        return NULL;
    }
    return text_message ("OK", text, len);
}

json_t *
im_ctl_item_split (json_t *item, im_ctl_item_t *out, char *why, size_t whysz)
{
    out->has_id = out->revoke = out->force = 0;
    if (!json_is_object (item)) {
        snprintf (why, whysz, "indicator: not a JSON object");
        return NULL;
    }
    json_t *v = json_object_get (item, "id");
    if (v && !json_is_null (v)) {
        static const uint8_t nil[IM_ID_SIZE];
        if (!json_is_string (v) || im_id_parse (json_string_value (v), out->id)) {
            snprintf (why, whysz, "id: not an indicator id (a UUID)");
            return NULL;
        }
        if (memcmp (out->id, nil, IM_ID_SIZE) == 0) {
            snprintf (why, whysz, "id: the nil UUID names no indicator");
            return NULL;
        }
        out->has_id = 1;
    }
    /* A null counts as absent, as for the record's own keys. */
    v = json_object_get (item, "revoke");
    if (v && !json_is_null (v) && !json_is_boolean (v)) {
        snprintf (why, whysz, "revoke: not true or false");
        return NULL;
    }
    out->revoke = json_is_true (v);
    v = json_object_get (item, "force");
    if (v && !json_is_null (v) && !json_is_boolean (v)) {
        snprintf (why, whysz, "force: not true or false");
        return NULL;
    }
    out->force = json_is_true (v);
    v = json_object_get (item, "source");
    if (v && !json_is_null (v) && !json_is_string (v)) {
        snprintf (why, whysz, "source: not a string");
        return NULL;
    }
    /* A copy only when there is something to take out (most items hold
     * none: a copy an item was work on every bulk publish). */
    json_t *content = json_incref (item);
    for (int i = 0; content && item_extras[i]; i++) {
        if (!json_object_get (content, item_extras[i]))
            continue;
        if (content == item) {
            json_decref (content);
            content = json_copy (item);
        }
        if (content)
            json_object_del (content, item_extras[i]);
    }
    if (!content)
        snprintf (why, whysz, "out of memory");
    return content;
}
