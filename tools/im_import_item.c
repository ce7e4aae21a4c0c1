/* SPDX-License-Identifier: MPL-2.0 */
/* im_import_item.c -- what every format of the importer shares: small parsers
 * of foreign text, the counts of what was skipped, refused or changed, and
 * the making of one publish item (see im_import_int.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "im_import.h"
#include "im_import_int.h"
#include "im_ioc.h"
#include "im_record.h"
#include "im_time.h"
#include "im_types.h"
#include "im_util.h"

void
im_imp_item_init (item_t *it)
{
    memset (it, 0, sizeof *it);
    it->confidence = -1;
    it->reach = -1;
}

/* --- Small helpers ------------------------------------------------------ */

/* Copies S (LEN bytes) into OUT for a message: control characters, invalid
 * UTF-8 and bidirectional overrides become '?'; cut at a character boundary. */
char *
im_imp_clean_copy (char *out, size_t outsz, const char *s, size_t len)
{
    size_t o = 0, i = 0;
    while (i < len && o + 1 < outsz) {
        uint32_t cp;
        size_t n = im_utf8_decode ((const unsigned char *)s + i, len - i, &cp);
        if (n == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == 0x200e
            || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e)
            || (cp >= 0x2066 && cp <= 0x2069)) {
            out[o++] = '?';
            i += n ? n : 1;
            continue;
        }
        if (o + n + 1 > outsz)
            break;
        memcpy (out + o, s + i, n);
        o += n;
        i += n;
    }
    out[o] = '\0';
    return out;
}

/* A clean copy of S cut to QUOTE_MAX bytes, in OUT (QUOTE_MAX + 1 bytes). */
const char *
im_imp_quote (char out[QUOTE_MAX + 1], const char *s, size_t len)
{
    return im_imp_clean_copy (out, QUOTE_MAX + 1, s, len);
}

int
im_imp_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void
im_imp_trim (const char **s, size_t *len)
{
    while (*len && im_imp_is_space (**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && im_imp_is_space ((*s)[*len - 1]))
        (*len)--;
}

/* True when S (LEN bytes) is well-formed UTF-8; NUL bytes are let through
 * (they are refused where it matters, with their own reason). */
int
im_imp_utf8_ok (const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = im_utf8_decode ((const unsigned char *)s + i, len - i, &cp);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

/* Case-insensitive comparison of S (LEN bytes) with the C string WORD. */
int
im_imp_eq_nocase (const char *s, size_t len, const char *word)
{
    return strlen (word) == len && strncasecmp (s, word, len) == 0;
}

/* Adds 1 to COUNTS[REASON], or to "other reasons" when the object already
 * holds IM_IMPORT_REASONS_MAX reasons. Returns 0 or -1 (ENOMEM). */
int
im_imp_count_add (json_t *counts, const char *reason, json_int_t n)
{
    json_t *v = json_object_get (counts, reason);
    if (!v && json_object_size (counts) >= IM_IMPORT_REASONS_MAX)
        v = json_object_get (counts, reason = "other reasons");
    if (v)
        return json_integer_set (v, json_integer_value (v) + n);
    return json_object_set_new (counts, reason, json_integer (n));
}

/* The string at KEY: 1 with *S and *LEN when it is a string, 0 when absent or
 * null, -1 when it is something else. */
int
im_imp_get_str (const json_t *obj, const char *key, const char **s, size_t *len)
{
    const json_t *v = json_object_get (obj, key);
    if (!v || json_is_null (v))
        return 0;
    if (!json_is_string (v))
        return -1;
    *s = json_string_value (v);
    *len = json_string_length (v);
    return 1;
}

/* Reads a boolean the way MISP and STIX files write them: true/false, 0/1,
 * "0"/"1"/"true"/"false". Returns 0/1, DFLT when absent or null, -1 when bad. */
int
im_imp_get_bool (const json_t *obj, const char *key, int dflt)
{
    const json_t *v = json_object_get (obj, key);
    if (!v || json_is_null (v))
        return dflt;
    if (json_is_boolean (v))
        return json_is_true (v);
    if (json_is_integer (v)
        && (json_integer_value (v) == 0 || json_integer_value (v) == 1))
        return (int)json_integer_value (v);
    if (json_is_string (v)) {
        const char *s = json_string_value (v);
        size_t len = json_string_length (v);
        if (im_imp_eq_nocase (s, len, "1") || im_imp_eq_nocase (s, len, "true"))
            return 1;
        if (im_imp_eq_nocase (s, len, "0") || im_imp_eq_nocase (s, len, "false"))
            return 0;
    }
    return -1;
}

/* Parses a whole number of at most 10 digits in S (LEN bytes). */
int
im_imp_parse_uint (const char *s, size_t len, long long max, long long *out)
{
    long long v = 0;
    if (len == 0 || len > 10)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* Parses an absolute RFC 3339 time (no durations) into *T. */
int
im_imp_parse_time (const char *s, size_t len, int64_t *t)
{
    char buf[64];
    im_imp_trim (&s, &len);
    if (len < 10 || len >= sizeof buf || memchr (s, 0, len) || s[4] != '-')
        return -1;
    memcpy (buf, s, len);
    buf[len] = '\0';
    if (im_time_parse (buf, 0, t) || *t < 0 || *t > IM_TIME_MAX)
        return -1;
    return 0;
}

/* Parses a UUID in S (LEN bytes) into lower-case text OUT. */
int
im_imp_parse_uuid (const char *s, size_t len, char out[IM_ID_STR_SIZE])
{
    char buf[IM_ID_STR_SIZE];
    uint8_t id[IM_ID_SIZE];
    if (len != IM_ID_STR_SIZE - 1 || memchr (s, 0, len))
        return -1;
    memcpy (buf, s, len);
    buf[len] = '\0';
    if (im_id_parse (buf, id))
        return -1;
    im_id_format (id, out);
    return 0;
}

/* The most restrictive of two labels (IM_TLP_NONE counts as nothing). */
int
im_imp_tlp_max (int a, int b)
{
    return a > b ? a : b;
}

/* A TLP label from text such as "amber", "TLP:AMBER+STRICT"; -1 otherwise. */
int
im_imp_tlp_text (const char *s, size_t len)
{
    char buf[32];
    if (len >= sizeof buf || memchr (s, 0, len))
        return -1;
    memcpy (buf, s, len);
    buf[len] = '\0';
    return im_tlp_parse (buf);
}

/* --- Counting and items ------------------------------------------------- */

int
im_imp_oom (ctx_t *c)
{
    return im_fail (ENOMEM, c->err, c->errsz, "%s: out of memory", c->name);
}

int
im_imp_skip (ctx_t *c, const char *reason)
{
    return im_imp_count_add (c->skipped, reason, 1) ? im_imp_oom (c) : 0;
}

int
im_imp_note (ctx_t *c, const char *reason)
{
    return im_imp_count_add (c->notes, reason, 1) ? im_imp_oom (c) : 0;
}

/* Counts REASON as refused, with a message "WHERE: REASON DETAIL". */
int
im_imp_refuse (ctx_t *c, const char *where, const char *reason, const char *detail)
{
    if (im_imp_count_add (c->refused, reason, 1))
        return im_imp_oom (c);
    size_t kept = json_array_size (c->self->messages) + json_array_size (c->messages);
    if (kept < IM_IMPORT_MESSAGES_MAX) {
        char line[512];
        snprintf (line, sizeof line, "%s: %s%s", where, reason, detail ? detail : "");
        if (json_array_append_new (c->messages, json_string (line)))
            return im_imp_oom (c);
    }
    return 0;
}

/* Why VALUE cannot be a value at all (after trimming), or NULL. */
const char *
im_imp_value_problem (const char **value, size_t *len)
{
    im_imp_trim (value, len);
    if (*len == 0)
        return "value is empty";
    if (memchr (*value, 0, *len))
        return "value holds a NUL byte";
    if (*len > IM_VALUE_MAX)
        return "value is longer than 2048 bytes";
    return NULL;
}

/* Adds tag S (LEN bytes) to the array TAGS: trimmed, kept unique; a tag that
 * is too long, not text, or past the 32nd is dropped and flagged in *DROPPED. */
int
im_imp_tag_add (json_t *tags, const char *s, size_t len, int *dropped)
{
    im_imp_trim (&s, &len);
    if (len == 0)
        return 0;
    int text = im_utf8_valid (s, len);
    for (size_t i = 0; text && i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            text = 0;
    if (len > IM_TAG_MAX || !text) {
        *dropped = 1;
        return 0;
    }
    size_t i;
    json_t *t;
    json_array_foreach (tags, i,
                        t) if (json_string_length (t) == len
                               && memcmp (json_string_value (t), s, len) == 0) return 0;
    if (json_array_size (tags) >= IM_TAGS_MAX) {
        *dropped = 1;
        return 0;
    }
    return json_array_append_new (tags, json_stringn (s, len));
}

/* Builds the description from IT into OUT: trimmed, control characters made
 * spaces, cut at IM_DESC_MAX on a character boundary. Returns its length. */
static size_t
make_description (ctx_t *c, const item_t *it, char out[IM_DESC_MAX + 8], int *rc)
{
    const char *a = it->desc, *b = it->desc2;
    size_t alen = it->dlen, blen = it->d2len, o = 0, total;
    if (a)
        im_imp_trim (&a, &alen);
    if (b)
        im_imp_trim (&b, &blen);
    if (!a)
        alen = 0;
    if (!b)
        blen = 0;
    total = alen + (alen && blen ? 1 : 0) + blen;
    size_t room = IM_DESC_MAX + 4;
    size_t n = alen < room ? alen : room;
    if (n)
        memcpy (out, a, n);
    o = n;
    if (alen && blen && o < room)
        out[o++] = '\n';
    n = blen < room - o ? blen : room - o;
    if (n)
        memcpy (out + o, b, n);
    o += n;
    if (total > IM_DESC_MAX) {
        o = IM_DESC_MAX;
        while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80)
            o--;
        *rc |= im_imp_note (c, "description cut to 4096 bytes");
    }
    int replaced = 0;
    size_t w = 0;
    for (size_t i = 0; i < o; i++) {
        unsigned char ch = (unsigned char)out[i];
        if (ch == '\r' && i + 1 < o && out[i + 1] == '\n')
            continue; /* CR LF is a line break */
        if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f) {
            ch = ' ';
            replaced = 1;
        }
        out[w++] = (char)ch;
    }
    o = w;
    out[o] = '\0';
    if (replaced)
        *rc |= im_imp_note (c, "description control characters replaced by spaces");
    const char *s = out;
    size_t len = o;
    im_imp_trim (&s, &len);
    memmove (out, s, len);
    out[len] = '\0';
    return len;
}

size_t
im_imp_description (ctx_t *c, const char *s, size_t len, char out[IM_DESC_MAX + 8],
                    int *rc)
{
    item_t it;
    im_imp_item_init (&it);
    it.desc = s;
    it.dlen = len;
    return make_description (c, &it, out, rc);
}

int
im_imp_context (ctx_t *c, const char *kind)
{
    return im_imp_count_add (c->context, kind, 1) ? im_imp_oom (c) : 0;
}

static int
set_new (json_t *obj, const char *key, json_t *v)
{
    return v ? json_object_set_new (obj, key, v) : -1;
}

/* Turns IT into a publish item. Returns 0 (also when the item is refused) or
 * -1 for a file-level failure (ENOSPC, ENOMEM). */
int
im_imp_emit (ctx_t *c, item_t *it)
{
    const char *why = im_imp_value_problem (&it->value, &it->vlen);
    if (why)
        return im_imp_refuse (c, it->source, why, NULL);
    if (json_array_size (c->self->items) + json_array_size (c->items)
        >= IM_IMPORT_ITEMS_MAX)
        return im_fail (ENOSPC, c->err, c->errsz,
                        "%s: more than %d indicators across all files", c->name,
                        IM_IMPORT_ITEMS_MAX);
    int type = it->type;
    if (type == TYPE_IP) {
        /* ipv4 when it reads as one, else ipv6 when it has a ':' (the daemon
         * validates either way). */
        char in[64], out[64];
        type = memchr (it->value, ':', it->vlen) ? IM_TYPE_IPV6 : IM_TYPE_IPV4;
        if (it->vlen < sizeof in) {
            memcpy (in, it->value, it->vlen);
            in[it->vlen] = '\0';
            if (im_ioc_normalise (IM_TYPE_IPV4, in, out, sizeof out, NULL, 0) == 0)
                type = IM_TYPE_IPV4;
        }
    }
    int rc = 0;
    json_t *o = json_object ();
    if (!o)
        return im_imp_oom (c);
    rc |= set_new (o, "type", json_string (im_type_name (type)));
    rc |= set_new (o, "value", json_stringn (it->value, it->vlen));
    if (it->id)
        rc |= set_new (o, "id", json_string (it->id));
    if (it->revoke)
        rc |= set_new (o, "revoke", json_true ());
    if (it->no_detect || it->detect_given)
        rc |= set_new (o, "detect", json_boolean (!it->no_detect));
    int tlp = it->tlp;
    if (c->self->tlp_floor != IM_TLP_NONE && tlp < c->self->tlp_floor)
        tlp = c->self->tlp_floor;
    if (tlp != IM_TLP_NONE)
        rc |= set_new (o, "tlp", json_string (im_tlp_name (tlp)));
    if (it->confidence >= 0)
        rc |= set_new (o, "confidence", json_integer (it->confidence));
    if (it->tags && (it->tags_given || json_array_size (it->tags)))
        rc |= set_new (o, "tags", json_copy (it->tags));
    if (it->tags_dropped)
        rc |= im_imp_note (c, "tag dropped (too long or too many)");
    char desc[IM_DESC_MAX + 8];
    if (make_description (c, it, desc, &rc))
        rc |= set_new (o, "description", json_string (desc));
    if (it->reach == IM_REACH_UNLIMITED)
        rc |= set_new (o, "reach", json_string ("unlimited"));
    else if (it->reach >= 0)
        rc |= set_new (o, "reach", json_integer (it->reach));
    char t[IM_TIME_STR_SIZE];
    if (it->has_valid_from)
        rc |= set_new (o, "valid_from", json_string (im_time_format (it->valid_from, t)));
    if (it->has_valid_until)
        rc |= set_new (o, "valid_until",
                       json_string (im_time_format (it->valid_until, t)));
    rc |= set_new (o, "source", json_string (it->source));
    if (rc || json_array_append_new (c->items, o)) {
        if (rc)
            json_decref (o);
        return im_imp_oom (c);
    }
    return 0;
}
