/* SPDX-License-Identifier: MPL-2.0 */
/* im_record_ext.c -- the extension items of a record of format 3 (SPEC.md,
 * "Reports"): their rules, canonical order, decoding (bounds-checked like
 * im_record.c) and JSON form. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "im_record.h"
#include "im_time.h"
#include "im_util.h"

/* Every key im_ext_item_check takes (1 to IM_EXT_WINDOW) has its name. */
static const char *const key_names[IM_EXT_WINDOW + 1]
    = { NULL,       "attack", "actors",   "malware", "refs",  "mitigations",
        "sighting", "sealed", "exercise", "ack",     "window" };

/* UTF-8 text without control characters (except, where NL, tab and newline). */
static int
text_ok (const uint8_t *s, size_t len, int nl)
{
    if (!im_utf8_valid ((const char *)s, len))
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((s[i] < 0x20 && !(nl && (s[i] == '\n' || s[i] == '\t'))) || s[i] == 0x7F)
            return 0;
    return 1;
}

static int ack_check (const uint8_t *d, size_t len, char *err, size_t errsz);
static int window_check (const uint8_t *d, size_t len, char *err, size_t errsz);

static int
url_check (const uint8_t *s, size_t len, const char *what, char *err, size_t errsz)
{
    size_t scheme = len >= 7 && memcmp (s, "http://", 7) == 0    ? 7
                    : len >= 8 && memcmp (s, "https://", 8) == 0 ? 8
                                                                 : 0;
    if (len < 1 || len > IM_EXT_URL_MAX)
        return im_fail (EINVAL, err, errsz, "%s: a URL of 1 to %d bytes", what,
                        IM_EXT_URL_MAX);
    if (!scheme || len == scheme || s[scheme] == '/')
        return im_fail (EINVAL, err, errsz,
                        "%s: '%.*s' is not an http:// or https:// URL with a host", what,
                        text_ok (s, len, 0) ? (int)(len > 64 ? 64 : len) : 1,
                        text_ok (s, len, 0) ? (const char *)s : "?");
    for (size_t i = 0; i < len; i++)
        if (s[i] <= 0x20 || s[i] == 0x7F)
            return im_fail (EINVAL, err, errsz,
                            "%s: a URL holds a space or a control character", what);
    if (!im_utf8_valid ((const char *)s, len))
        return im_fail (EINVAL, err, errsz, "%s: a URL is not UTF-8", what);
    return 0;
}

static int
attack_check (const uint8_t *s, size_t len, char *err, size_t errsz)
{
    int ok = (len == 5 || len == 9) && s[0] == 'T';
    for (size_t i = 1; ok && i < len; i++)
        ok = i == 5 ? s[i] == '.' : (s[i] >= '0' && s[i] <= '9');
    if (!ok)
        return im_fail (EINVAL, err, errsz,
                        "attack: '%.*s' is not an ATT&CK technique id (T1566 or "
                        "T1566.001, upper case)",
                        (int)(len > 32 ? 32 : len),
                        text_ok (s, len, 0) ? (char *)s : "?");
    return 0;
}

static int
mitigation_check (const uint8_t *s, size_t len, char *err, size_t errsz)
{
    const uint8_t *at = s, *end = s + len;
    if (end - at < 2)
        goto malformed;
    size_t n = ((size_t)at[0] << 8) | at[1];
    at += 2;
    if (n < 1 || n > IM_EXT_TEXT_MAX || (size_t)(end - at) < n)
        return im_fail (EINVAL, err, errsz,
                        "mitigations: a text of 1 to %d bytes is required",
                        IM_EXT_TEXT_MAX);
    if (!text_ok (at, n, 1))
        return im_fail (EINVAL, err, errsz,
                        "mitigations: text is not UTF-8 or holds control characters");
    at += n;
    if (end - at < 1)
        goto malformed;
    size_t count = *at++;
    if (count > IM_EXT_MIT_REFS_MAX)
        return im_fail (EINVAL, err, errsz, "mitigations: more than %d references",
                        IM_EXT_MIT_REFS_MAX);
    for (size_t i = 0; i < count; i++) {
        if (end - at < 2)
            goto malformed;
        n = ((size_t)at[0] << 8) | at[1];
        at += 2;
        if ((size_t)(end - at) < n)
            goto malformed;
        if (url_check (at, n, "mitigations", err, errsz))
            return -1;
        at += n;
    }
    if (at != end)
        return im_fail (EINVAL, err, errsz, "mitigations: %zu trailing bytes",
                        (size_t)(end - at));
    return 0;
malformed:
    return im_fail (EINVAL, err, errsz, "mitigations: truncated");
}

int
im_ext_item_check (int key, const uint8_t *data, size_t len, char *err, size_t errsz)
{
    if (key < IM_EXT_ATTACK || key > IM_EXT_WINDOW)
        return im_fail (EINVAL, err, errsz, "ext: unknown key %d", key);
    if (key == IM_EXT_EXERCISE)
        return im_exercise_name_check ((const char *)data, len, err, errsz);
    if (key == IM_EXT_ACK)
        return ack_check (data, len, err, errsz);
    if (key == IM_EXT_WINDOW)
        return window_check (data, len, err, errsz);
    if (!data && len)
        return im_fail (EINVAL, err, errsz, "ext: no data");
    if (key == IM_EXT_SIGHTING)
        return im_ext_sighting_check (data, len, err, errsz);
    if (key == IM_EXT_SEALED) {
        size_t blocks
            = len > IM_SEAL_OVERHEAD ? (len - IM_SEAL_OVERHEAD) / IM_SEAL_BLOCK : 0;
        if (len > IM_CARRIER_ENVELOPE_MAX || blocks < 1
            || len != IM_SEAL_OVERHEAD + blocks * IM_SEAL_BLOCK
            || memcmp (data, "IMS\1", 4))
            return im_fail (EINVAL, err, errsz,
                            "sealed: %zu bytes are no envelope (684 + 256 n, at most %d, "
                            "starting IMS 1)",
                            len, (int)IM_CARRIER_ENVELOPE_MAX);
        return 0;
    }
    if (key == IM_EXT_ATTACK)
        return attack_check (data, len, err, errsz);
    if (key == IM_EXT_REF)
        return url_check (data, len, "refs", err, errsz);
    if (key == IM_EXT_MITIGATION)
        return mitigation_check (data, len, err, errsz);
    if (len < 1 || len > IM_EXT_NAME_MAX)
        return im_fail (EINVAL, err, errsz, "%s: a name of 1 to %d bytes", key_names[key],
                        IM_EXT_NAME_MAX);
    if (!text_ok (data, len, 0) || isspace (data[0]) || isspace (data[len - 1]))
        return im_fail (EINVAL, err, errsz,
                        "%s: a name is not trimmed UTF-8 text without control characters",
                        key_names[key]);
    return 0;
}

int
im_ext_sighting_check (const uint8_t *d, size_t len, char *err, size_t errsz)
{
    if (!d || len != IM_SIGHT_EXT_SIZE)
        return im_fail (EINVAL, err, errsz, "sighting: %zu bytes, not %d", len,
                        IM_SIGHT_EXT_SIZE);
    uint32_t count
        = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
    int64_t first = im_get_be64 (d + 4), last = im_get_be64 (d + 12);
    if (count < 1 || count > IM_SIGHT_COUNT_MAX)
        return im_fail (EINVAL, err, errsz, "sighting: a count of 1 to %u is required",
                        IM_SIGHT_COUNT_MAX);
    if (first <= 0 || last < first)
        return im_fail (EINVAL, err, errsz,
                        "sighting: first seen must be set and not after last seen");
    /* As every time of a record: RFC 3339 can write it (SPEC, "Validity"). */
    if (last > IM_TIME_MAX)
        return im_fail (EINVAL, err, errsz, "sighting: last seen after the year 9999");
    if (d[20] < 1 || d[20] > IM_SIGHT_SOURCES)
        return im_fail (EINVAL, err, errsz,
                        "sighting: source %u is not one of sensor, incident, honeypot, "
                        "analyst, other",
                        d[20]);
    return 0;
}

const char *
im_ext_source_name (int source)
{
    static const char *const names[IM_SIGHT_SOURCES + 1]
        = { NULL, "sensor", "incident", "honeypot", "analyst", "other" };
    return source > 0 && source <= IM_SIGHT_SOURCES ? names[source] : NULL;
}

void
im_ext_digest (const uint8_t *env, size_t len, char out[33])
{
    uint8_t h[16];
    crypto_generichash (h, sizeof h, env, len, NULL, 0);
    sodium_bin2hex (out, 33, h, sizeof h);
}

/* An acknowledgement: received (8 bytes), then 0 to IM_ACK_ACTIONS_MAX
 * actions of 9 bytes (kind 1 to 4, time), times after the receipt and in
 * order. */
static int
ack_check (const uint8_t *d, size_t len, char *err, size_t errsz)
{
    if (len < 8 || (len - 8) % 9 || (len - 8) / 9 > IM_ACK_ACTIONS_MAX)
        return im_fail (EINVAL, err, errsz,
                        "ack: %zu bytes are not a receipt and up to %d actions", len,
                        IM_ACK_ACTIONS_MAX);
    int64_t prev = im_get_be64 (d);
    if (prev <= 0)
        return im_fail (EINVAL, err, errsz, "ack: no time of receipt");
    /* As every time of a record: RFC 3339 can write it (SPEC, "Validity"). */
    if (prev > IM_TIME_MAX || im_get_be64 (d + len - 8) > IM_TIME_MAX)
        return im_fail (EINVAL, err, errsz, "ack: a time after the year 9999");
    for (size_t at = 8; at < len; at += 9) {
        int64_t t = im_get_be64 (d + at + 1);
        if (d[at] < 1 || d[at] > IM_ACTION_KINDS)
            return im_fail (EINVAL, err, errsz,
                            "ack: action %u is not detected, blocked, mitigated or "
                            "escalated",
                            d[at]);
        if (t < prev)
            return im_fail (EINVAL, err, errsz, "ack: actions out of time order");
        prev = t;
    }
    return 0;
}

static int
window_check (const uint8_t *d, size_t len, char *err, size_t errsz)
{
    if (len != 16 || im_get_be64 (d) <= 0 || im_get_be64 (d + 8) <= im_get_be64 (d))
        return im_fail (EINVAL, err, errsz,
                        "window: an exercise starts (after 1970) before it ends");
    return 0;
}

const char *
im_ext_action_name (int kind)
{
    static const char *const names[IM_ACTION_KINDS + 1]
        = { NULL, "detected", "blocked", "mitigated", "escalated" };
    return kind > 0 && kind <= IM_ACTION_KINDS ? names[kind] : NULL;
}

/* Compares items (key, bytes) as tags compare: shorter first when a prefix. */
static int
item_cmp (int ka, const uint8_t *a, size_t la, int kb, const uint8_t *b, size_t lb)
{
    if (ka != kb)
        return ka < kb ? -1 : 1;
    int c = memcmp (a, b, la < lb ? la : lb);
    return c ? c : la < lb ? -1 : la > lb ? 1 : 0;
}

int
im_ext_next (const im_record_t *self, size_t *at, int *key, const uint8_t **data,
             size_t *len)
{
    if (*at + 3 > self->ext_len || self->ext_len > IM_EXT_MAX)
        return 0;
    const uint8_t *p = self->ext + *at;
    size_t n = ((size_t)p[1] << 8) | p[2];
    if (*at + 3 + n > self->ext_len)
        return 0;
    *key = p[0];
    *data = p + 3;
    *len = n;
    *at += 3 + n;
    return 1;
}

int
im_record_add_ext (im_record_t *self, int key, const void *data, size_t len, char *err,
                   size_t errsz)
{
    if (!self)
        return im_fail (EINVAL, err, errsz, "ext: no record");
    if (im_ext_item_check (key, data, len, err, errsz))
        return -1;
    size_t at = 0, place = 0;
    int k;
    const uint8_t *d;
    size_t n;
    while (im_ext_next (self, &at, &k, &d, &n)) {
        int c = item_cmp (k, d, n, key, data, len);
        if (c == 0)
            return 0;
        if (c > 0)
            break;
        place = at;
    }
    if (self->next >= IM_EXT_ITEMS_MAX)
        return im_fail (ENOSPC, err, errsz, "report: more than %d context items",
                        IM_EXT_ITEMS_MAX);
    if (self->ext_len + 3 + len > IM_EXT_MAX)
        return im_fail (ENOSPC, err, errsz, "report: context larger than %d bytes",
                        (int)IM_EXT_MAX);
    memmove (self->ext + place + 3 + len, self->ext + place, self->ext_len - place);
    self->ext[place] = (uint8_t)key;
    self->ext[place + 1] = (uint8_t)(len >> 8);
    self->ext[place + 2] = (uint8_t)len;
    memcpy (self->ext + place + 3, data, len);
    self->ext_len += 3 + len;
    self->next++;
    return 0;
}

int
im_ext_mitigation (const char *text, const char *const *urls, size_t n, uint8_t *out,
                   size_t outsz, size_t *len, char *err, size_t errsz)
{
    size_t tl = text ? strlen (text) : 0, need = 2 + tl + 1;
    if (tl < 1 || tl > IM_EXT_TEXT_MAX)
        return im_fail (EINVAL, err, errsz,
                        "mitigations: a text of 1 to %d bytes is required",
                        IM_EXT_TEXT_MAX);
    if (n > IM_EXT_MIT_REFS_MAX)
        return im_fail (EINVAL, err, errsz, "mitigations: more than %d references",
                        IM_EXT_MIT_REFS_MAX);
    for (size_t i = 0; i < n; i++)
        need += 2 + strlen (urls[i]);
    if (need > outsz)
        return im_fail (ENOSPC, err, errsz, "mitigations: too large");
    uint8_t *p = out;
    *p++ = (uint8_t)(tl >> 8);
    *p++ = (uint8_t)tl;
    memcpy (p, text, tl);
    p += tl;
    *p++ = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        size_t ul = strlen (urls[i]);
        *p++ = (uint8_t)(ul >> 8);
        *p++ = (uint8_t)ul;
        memcpy (p, urls[i], ul);
        p += ul;
    }
    *len = need;
    return 0;
}

/* Which items a record of each type may have and must have (when not
 * revoked): a bit per key. Keys 6 to 10 come at most once. */
typedef struct {
    int type;
    uint32_t allowed, required;
    const char *what;
} ext_rule_t;

#define CONTEXT_KEYS 0x3Eu /* 1 to 5: a report's context */
static const ext_rule_t ext_rules[] = {
    { IM_TYPE_REPORT, CONTEXT_KEYS, 0, "a report" },
    { IM_TYPE_SIGHTING, 1u << IM_EXT_SIGHTING, 1u << IM_EXT_SIGHTING, "a sighting" },
    { IM_TYPE_SEALED, 1u << IM_EXT_SEALED, 1u << IM_EXT_SEALED, "a carrier" },
    { IM_TYPE_EXERCISE, 1u << IM_EXT_WINDOW, 1u << IM_EXT_WINDOW, "an exercise" },
    { IM_TYPE_INJECT, CONTEXT_KEYS | 1u << IM_EXT_EXERCISE, 1u << IM_EXT_EXERCISE,
      "an inject" },
    { IM_TYPE_ACK, 1u << IM_EXT_EXERCISE | 1u << IM_EXT_ACK,
      1u << IM_EXT_EXERCISE | 1u << IM_EXT_ACK, "an acknowledgement" },
};

static const ext_rule_t *
ext_rule (int type)
{
    for (size_t i = 0; i < sizeof ext_rules / sizeof *ext_rules; i++)
        if (ext_rules[i].type == type)
            return &ext_rules[i];
    return NULL;
}

/* The first key of MASK, for messages. */
static int
first_key (uint32_t mask)
{
    int k = 1;
    while (k < 31 && !(mask & (1u << k)))
        k++;
    return k;
}

int
im_ext_check (const im_record_t *self, char *err, size_t errsz)
{
    const ext_rule_t *rule = ext_rule (self->type);
    if (!rule && (self->next || self->ext_len))
        return im_fail (EINVAL, err, errsz,
                        "ext: only a report has context items (and sightings, carriers "
                        "and exercise records their own)");
    if (!rule)
        return 0;
    /* One sighting a node an indicator: the id is im_sighting_id's (SPEC,
     * "Sightings"), so that a sender cannot list itself under many ids. */
    if (self->type == IM_TYPE_SIGHTING) {
        char name[16 + IM_VALUE_MAX + 1];
        uint8_t id[IM_ID_SIZE];
        snprintf (name, sizeof name, "sighting %s", self->value);
        im_id_from_name (name, strlen (name), id);
        if (memcmp (id, self->id, IM_ID_SIZE))
            return im_fail (EINVAL, err, errsz,
                            "sighting: its id is not the UUID of its value");
    }
    /* Likewise one acknowledgement a participant an inject, one exercise a
     * host a name (SPEC, "Exercises"): else a participant would count its
     * actions many times, a host show two exercises of one name. */
    if (self->type == IM_TYPE_ACK || self->type == IM_TYPE_EXERCISE) {
        char name[16 + IM_VALUE_MAX + 1];
        uint8_t id[IM_ID_SIZE];
        snprintf (name, sizeof name, "%s %s",
                  self->type == IM_TYPE_ACK ? "ack" : "exercise", self->value);
        im_id_from_name (name, strlen (name), id);
        if (memcmp (id, self->id, IM_ID_SIZE))
            return im_fail (EINVAL, err, errsz, "%s: its id is not the UUID of its value",
                            self->type == IM_TYPE_ACK ? "acknowledgement" : "exercise");
    }
    if (self->next > IM_EXT_ITEMS_MAX || self->ext_len > IM_EXT_MAX)
        return im_fail (EINVAL, err, errsz, "ext: more than %d items", IM_EXT_ITEMS_MAX);
    int context_ok
        = self->type == IM_TYPE_REPORT
          || (self->type == IM_TYPE_INJECT && strncmp (self->value, "report ", 7) == 0);
    size_t at = 0, count = 0, pn = 0;
    int k, pk = 0;
    const uint8_t *d, *pd = NULL;
    size_t n;
    uint32_t seen = 0;
    while (im_ext_next (self, &at, &k, &d, &n)) {
        if (im_ext_item_check (k, d, n, err, errsz))
            return -1;
        if (!(rule->allowed & (1u << k)) || ((1u << k) & CONTEXT_KEYS && !context_ok))
            return im_fail (EINVAL, err, errsz, "ext: %s holds no %s item", rule->what,
                            key_names[k]);
        if (k >= IM_EXT_SIGHTING && (seen & (1u << k)))
            return im_fail (EINVAL, err, errsz, "ext: %s holds exactly one %s item",
                            rule->what, key_names[k]);
        if (count > 0 && item_cmp (pk, pd, pn, k, d, n) >= 0)
            return im_fail (EINVAL, err, errsz,
                            "ext: items not in canonical order or repeated");
        seen |= 1u << k;
        char digest[33];
        if (k == IM_EXT_SEALED
            && (im_ext_digest (d, n, digest), strcmp (digest, self->value)))
            return im_fail (EINVAL, err, errsz,
                            "sealed: the value is not the envelope's digest");
        pk = k, pd = d, pn = n;
        count++;
    }
    if (at != self->ext_len || count != self->next)
        return im_fail (EINVAL, err, errsz, "ext: items do not match their count");
    uint32_t missing = rule->required & ~seen;
    if (self->op == IM_OP_PUT && missing)
        return im_fail (EINVAL, err, errsz, "ext: %s holds exactly one %s item",
                        rule->what, key_names[first_key (missing)]);
    return 0;
}

int
im_ext_decode (im_record_t *self, const uint8_t **needle, const uint8_t *ceiling,
               char *err, size_t errsz)
{
    const uint8_t *p = *needle;
    if (ceiling - p < 1)
        goto malformed;
    size_t count = *p++;
    if (count < 1 || count > IM_EXT_ITEMS_MAX)
        return im_fail (EBADMSG, err, errsz,
                        "record: format 3 with %zu extension items (1 to %d)", count,
                        IM_EXT_ITEMS_MAX);
    const uint8_t *first = p, *prev = NULL;
    for (size_t i = 0; i < count; i++) {
        if (ceiling - p < 3)
            goto malformed;
        int key = p[0];
        size_t n = ((size_t)p[1] << 8) | p[2];
        if (key < IM_EXT_ATTACK || key > IM_EXT_WINDOW)
            return im_fail (EBADMSG, err, errsz, "record: unknown extension key %d", key);
        if ((size_t)(ceiling - p - 3) < n || (size_t)(p + 3 + n - first) > IM_EXT_MAX)
            goto malformed;
        if ((key < IM_EXT_MITIGATION || key == IM_EXT_EXERCISE) && memchr (p + 3, 0, n))
            goto malformed;
        if (prev
            && item_cmp (prev[0], prev + 3, ((size_t)prev[1] << 8) | prev[2], key, p + 3,
                         n)
                   >= 0)
            return im_fail (EBADMSG, err, errsz,
                            "record: extension items not in canonical order");
        prev = p;
        p += 3 + n;
    }
    self->next = count;
    self->ext_len = (size_t)(p - first);
    memcpy (self->ext, first, self->ext_len);
    *needle = p;
    return 0;
malformed:
    return im_fail (EBADMSG, err, errsz,
                    "record: an extension item is truncated, over-long or holds a NUL "
                    "byte");
}

static json_t *
str_n (const uint8_t *s, size_t n)
{
    return json_stringn ((const char *)s, n);
}

/* The JSON form of a mitigation's data (checked before). */
static json_t *
mitigation_json (const uint8_t *d, size_t len)
{
    const uint8_t *end = d + len;
    size_t n = ((size_t)d[0] << 8) | d[1];
    json_t *refs = json_array ();
    json_t *o = json_pack ("{s:o, s:o}", "text", str_n (d + 2, n), "refs", refs);
    d += 2 + n;
    size_t count = d < end ? *d++ : 0;
    for (size_t i = 0; refs && i < count && end - d >= 2; i++) {
        n = ((size_t)d[0] << 8) | d[1];
        if ((size_t)(end - d - 2) < n)
            break;
        json_array_append_new (refs, str_n (d + 2, n));
        d += 2 + n;
    }
    return o;
}

/* An item of keys 6 to 10 as a JSON member of O. */
static int
single_to_json (int k, const uint8_t *d, size_t n, json_t *o)
{
    char a[32], b[32];
    if (k == IM_EXT_SEALED)
        return json_object_set_new (o, "envelope_bytes", json_integer ((json_int_t)n));
    if (k == IM_EXT_EXERCISE)
        return json_object_set_new (o, "exercise", str_n (d, n));
    if (k == IM_EXT_WINDOW)
        return json_object_set_new (o, "window",
                                    json_pack ("{s:s, s:s}", "start",
                                               im_time_format (im_get_be64 (d), a), "end",
                                               im_time_format (im_get_be64 (d + 8), b)));
    if (k == IM_EXT_ACK) {
        json_t *acts = json_array ();
        for (size_t at = 8; acts && at + 9 <= n; at += 9)
            json_array_append_new (
                acts, json_pack ("{s:s?, s:s}", "action", im_ext_action_name (d[at]),
                                 "at", im_time_format (im_get_be64 (d + at + 1), a)));
        return json_object_set_new (o, "ack",
                                    json_pack ("{s:s, s:o*}", "received",
                                               im_time_format (im_get_be64 (d), b),
                                               "actions", acts));
    }
    if (k != IM_EXT_SIGHTING || im_ext_sighting_check (d, n, NULL, 0))
        return 0;
    uint32_t count
        = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
    return json_object_set_new (
        o, "sighting",
        json_pack ("{s:I, s:s, s:s, s:s}", "count", (json_int_t)count, "first_seen",
                   im_time_format (im_get_be64 (d + 4), a), "last_seen",
                   im_time_format (im_get_be64 (d + 12), b), "source",
                   im_ext_source_name (d[20])));
}

int
im_ext_to_json (const im_record_t *self, json_t *o)
{
    json_t *arrays[6] = { NULL };
    int rc = 0;
    int context
        = self->type == IM_TYPE_REPORT
          || (self->type == IM_TYPE_INJECT && strncmp (self->value, "report ", 7) == 0);
    for (int k = IM_EXT_ATTACK; context && k <= IM_EXT_MITIGATION; k++)
        if (!(arrays[k] = json_array ())
            || json_object_set_new (o, key_names[k], arrays[k]))
            rc = -1;
    size_t at = 0, n;
    int k;
    const uint8_t *d;
    while (rc == 0 && im_ext_next (self, &at, &k, &d, &n))
        if (k >= IM_EXT_ATTACK && k <= IM_EXT_MITIGATION && context)
            rc = json_array_append_new (arrays[k], k == IM_EXT_MITIGATION
                                                       ? mitigation_json (d, n)
                                                       : str_n (d, n));
        else if (k > IM_EXT_MITIGATION)
            rc = single_to_json (k, d, n, o);
    if (rc)
        errno = ENOMEM;
    return rc;
}
