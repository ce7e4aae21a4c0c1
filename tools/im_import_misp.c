/* SPDX-License-Identifier: MPL-2.0 */
/* im_import_misp.c -- MISP events (files, restSearch exports, feed event
 * files) for the importer: attributes, their tags and distribution; and the
 * MISP attribute types, which CSV files may use too. */
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

/* --- Type names --------------------------------------------------------- */

/* MISP types that hold two values; the plain ones are the table of types'
 * (im_types.h, misp_names). */
static const struct {
    const char *name;
    int type;
    split_t split;
} composites[] = {
    { "filename|md5", IM_TYPE_MD5, SPLIT_FILE_HASH },
    { "filename|sha1", IM_TYPE_SHA1, SPLIT_FILE_HASH },
    { "filename|sha256", IM_TYPE_SHA256, SPLIT_FILE_HASH },
    { "filename|sha512", IM_TYPE_SHA512, SPLIT_FILE_HASH },
    { "domain|ip", IM_TYPE_DOMAIN, SPLIT_LEFT_FIRST },
    { "ip-src|port", TYPE_IP, SPLIT_LEFT_LAST },
    { "ip-dst|port", TYPE_IP, SPLIT_LEFT_LAST },
};

int
im_imp_misp_type (const char *s, size_t len, int nocase, split_t *split)
{
    *split = SPLIT_NONE;
    int type = im_type_from_misp (s, len, nocase);
    if (type == IM_TYPE_IPV4 || type == IM_TYPE_IPV6)
        return TYPE_IP; /* ip-src, ip-dst: the value tells the family */
    if (type > 0)
        return type;
    for (size_t i = 0; i < sizeof composites / sizeof composites[0]; i++)
        if (nocase ? im_imp_eq_nocase (s, len, composites[i].name)
                   : strlen (composites[i].name) == len
                         && memcmp (s, composites[i].name, len) == 0) {
            *split = composites[i].split;
            return composites[i].type;
        }
    return -1;
}

/* Splits a MISP composite value: the indicator part into IT->value, a file
 * name into *FNAME. Returns 0, or -1 when the value has no '|'. */
int
im_imp_misp_split (split_t split, item_t *it, const char **fname, size_t *flen)
{
    *fname = NULL;
    *flen = 0;
    if (split == SPLIT_NONE)
        return 0;
    const char *v = it->value;
    size_t len = it->vlen, bar = len;
    if (split == SPLIT_LEFT_FIRST) {
        const char *p = memchr (v, '|', len);
        bar = p ? (size_t)(p - v) : len;
    }
    else
        for (size_t i = len; i > 0; i--)
            if (v[i - 1] == '|') {
                bar = i - 1;
                break;
            }
    if (bar == len)
        return -1;
    if (split == SPLIT_FILE_HASH) {
        *fname = v;
        *flen = bar;
        it->value = v + bar + 1;
        it->vlen = len - bar - 1;
    }
    else
        it->vlen = bar;
    return 0;
}

/* Keeps a file name from a filename|hash value as the tag "filename:NAME" when
 * it fits, else as a paragraph of the description (in NAMEBUF). */
int
im_imp_keep_file_name (item_t *it, json_t *tags, const char *fname, size_t flen,
                       char *namebuf, size_t namebufsz)
{
    im_imp_trim (&fname, &flen);
    if (flen == 0)
        return 0;
    int fits = flen + 9 <= IM_TAG_MAX && json_array_size (tags) < IM_TAGS_MAX
               && !memchr (fname, 0, flen);
    for (size_t i = 0; fits && i < flen; i++)
        if ((unsigned char)fname[i] < 0x20 || fname[i] == 0x7f)
            fits = 0;
    if (fits) {
        char tag[IM_TAG_MAX + 1];
        int dropped = 0;
        snprintf (tag, sizeof tag, "filename:%.*s", (int)flen, fname);
        return im_imp_tag_add (tags, tag, strlen (tag), &dropped);
    }
    int n = snprintf (namebuf, namebufsz, "filename: %.*s",
                      (int)(flen < IM_DESC_MAX ? flen : IM_DESC_MAX), fname);
    it->desc2 = namebuf;
    it->d2len = (size_t)n < namebufsz ? (size_t)n : namebufsz - 1;
    return 0;
}

/* --- MISP --------------------------------------------------------------- */

/* What a list of MISP tags says. */
typedef struct {
    int tlp;
    int confidence;
    int has_valid_from, has_valid_until;
    int64_t valid_from, valid_until;
    int reach;          /* intelmesh:reach="N" (3..254), else -1 */
    int ours;           /* intelmesh:export: an event this program wrote */
    const json_t *tags; /* the Tag array, for the plain tags */
} misp_tags_t;

/* The value of a tag PREFIX"VALUE" (quotes optional) in S, or NULL. */
static const char *
tag_value (const char *s, size_t len, const char *prefix, size_t *vlen)
{
    size_t pl = strlen (prefix);
    if (len < pl || strncasecmp (s, prefix, pl) != 0)
        return NULL;
    s += pl;
    len -= pl;
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }
    *vlen = len;
    return s;
}

/* Reads a Tag array. Returns 0, or -1 with the reason in *WHY. */
static int
misp_tags_scan (const json_t *arr, misp_tags_t *out, const char **why)
{
    memset (out, 0, sizeof *out);
    out->confidence = -1;
    out->reach = -1;
    if (!arr || json_is_null (arr))
        return 0;
    if (!json_is_array (arr)) {
        *why = "Tag is not an array of tags";
        return -1;
    }
    out->tags = arr;
    size_t i;
    const json_t *t;
    json_array_foreach (arr, i, t)
    {
        const char *s, *v;
        size_t len, vl;
        if (!json_is_object (t) || im_imp_get_str (t, "name", &s, &len) != 1) {
            *why = "Tag is not an array of tags";
            return -1;
        }
        if (len >= 4 && strncasecmp (s, "tlp:", 4) == 0) {
            int l = im_imp_tlp_text (s, len);
            if (l > 0)
                out->tlp = im_imp_tlp_max (out->tlp, l);
        }
        else if ((v = tag_value (s, len, "intelmesh:confidence=", &vl))) {
            long long n;
            if (im_imp_parse_uint (v, vl, 100, &n)) {
                *why = "intelmesh:confidence tag is not 0..100";
                return -1;
            }
            out->confidence = (int)n;
        }
        else if ((v = tag_value (s, len, "intelmesh:reach=", &vl))) {
            long long n;
            if (im_imp_parse_uint (v, vl, IM_REACH_UNLIMITED - 1, &n) || n < 3) {
                *why = "intelmesh:reach tag is not 3..254";
                return -1;
            }
            out->reach = (int)n;
        }
        else if (len == 16 && strncasecmp (s, "intelmesh:export", 16) == 0)
            out->ours = 1;
        else if ((v = tag_value (s, len, "intelmesh:valid-from=", &vl))) {
            if (im_imp_parse_time (v, vl, &out->valid_from)) {
                *why = "intelmesh:valid-from tag is not an RFC 3339 time";
                return -1;
            }
            out->has_valid_from = 1;
        }
        else if ((v = tag_value (s, len, "intelmesh:valid-until=", &vl))) {
            if (im_imp_parse_time (v, vl, &out->valid_until)) {
                *why = "intelmesh:valid-until tag is not an RFC 3339 time";
                return -1;
            }
            out->has_valid_until = 1;
        }
    }
    return 0;
}

/* Adds the plain tags of a Tag array (not tlp:, not intelmesh:) to TAGS. */
static int
misp_tags_add (json_t *tags, const misp_tags_t *mt, int *dropped)
{
    size_t i;
    const json_t *t;
    if (!mt->tags)
        return 0;
    json_array_foreach (mt->tags, i, t)
    {
        const char *s = NULL;
        size_t len = 0, vl;
        im_imp_get_str (t, "name", &s, &len);
        if (len >= 4 && strncasecmp (s, "tlp:", 4) == 0 && im_imp_tlp_text (s, len) > 0)
            continue;
        (void)vl;
        if (len >= 10 && strncasecmp (s, "intelmesh:", 10) == 0)
            continue; /* this program's machine tags, read above */
        if (im_imp_tag_add (tags, s, len, dropped))
            return -1;
    }
    return 0;
}

/* Reads a distribution: 0..5 as a number or numeric text; -1 absent; -2 bad. */
static int
misp_distribution (const json_t *obj)
{
    const json_t *v = json_object_get (obj, "distribution");
    long long n;
    if (!v || json_is_null (v))
        return -1;
    if (json_is_integer (v))
        return json_integer_value (v) >= 0 && json_integer_value (v) <= 5
                   ? (int)json_integer_value (v)
                   : -2;
    if (json_is_string (v)
        && im_imp_parse_uint (json_string_value (v), json_string_length (v), 5, &n) == 0)
        return (int)n;
    return -2;
}

typedef struct {
    size_t index;
    const char *info;
    size_t info_len;
    int dist; /* -1: none */
    misp_tags_t tags;
} misp_event_t;

/* An ATT&CK technique in a text attribute A, as intelmesh exports it: its
 * tag misp-galaxy:mitre-attack-pattern="[NAME - ]T1234[.567]", the id into
 * ID. Returns 0, or -1 when A has no such tag. */
static int
misp_attack_id (const json_t *a, char id[16])
{
    static const char pfx[] = "misp-galaxy:mitre-attack-pattern=\"";
    size_t i;
    const json_t *tag;
    json_array_foreach (json_object_get (a, "Tag"), i, tag)
    {
        const char *name = json_string_value (json_object_get (tag, "name"));
        size_t n = name ? strlen (name) : 0;
        if (n < sizeof pfx + 5 || strncmp (name, pfx, sizeof pfx - 1)
            || name[n - 1] != '"')
            continue;
        const char *e = name + n - 1, *b = e;
        while (b > name + sizeof pfx - 1 && b[-1] != ' ' && b[-1] != '"')
            b--;
        if (e - b < 16 && (*b == 'T' || *b == 't')) {
            memcpy (id, b, (size_t)(e - b));
            id[e - b] = '\0';
            return 0;
        }
    }
    return -1;
}

static int
misp_attribute (ctx_t *c, const misp_event_t *ev, const json_t *a, const char *where_idx,
                int obj_dist, int obj_deleted)
{
    char attack[16];
    char where[NAME_MAX_BYTES + 80], q[QUOTE_MAX + 1], uuid[IM_ID_STR_SIZE];
    const char *s, *why = NULL;
    size_t len;
    snprintf (where, sizeof where, "%s:%s", c->name, where_idx);
    if (!json_is_object (a))
        return im_imp_refuse (c, where, "attribute is not a JSON object", NULL);
    item_t it;
    im_imp_item_init (&it);
    int r = im_imp_get_str (a, "uuid", &s, &len);
    if (r == 1 && im_imp_parse_uuid (s, len, uuid) == 0) {
        snprintf (where, sizeof where, "%s:attribute %s", c->name, uuid);
        it.id = uuid;
    }
    else if (r != 0)
        return im_imp_refuse (c, where, "uuid is not a UUID", NULL);
    it.source = where;
    if (im_imp_get_str (a, "type", &s, &len) != 1)
        return im_imp_refuse (c, where, "type is not a string", NULL);
    split_t split;
    int type = im_imp_misp_type (s, len, 0, &split);
    int technique = type == -1 && len == 4 && memcmp (s, "text", 4) == 0
                    && misp_attack_id (a, attack) == 0;
    if (technique)
        type = IM_TYPE_ATTACK_PATTERN;
    if (type == -1) {
        char reason[QUOTE_MAX + 32];
        snprintf (reason, sizeof reason, "MISP type %s not mapped",
                  im_imp_quote (q, s, len));
        return im_imp_skip (c, reason);
    }
    int to_ids = im_imp_get_bool (a, "to_ids", 1);
    if (to_ids < 0)
        return im_imp_refuse (c, where, "to_ids is not true or false", NULL);
    it.no_detect = to_ids == 0; /* kept, for look-up and hunting */
    it.detect_given = 1;
    if (im_imp_get_str (a, "value", &it.value, &it.vlen) != 1)
        return im_imp_refuse (c, where, "value is not a string", NULL);
    if (technique) { /* the technique is the tag's; the text may say more */
        it.value = attack;
        it.vlen = strlen (attack);
    }
    it.type = type;
    const char *fname;
    size_t flen;
    if (im_imp_misp_split (split, &it, &fname, &flen))
        return im_imp_refuse (c, where, "value is not in the form the MISP type needs",
                              NULL);
    it.revoke = im_imp_get_bool (a, "deleted", 0);
    if (it.revoke < 0)
        return im_imp_refuse (c, where, "deleted is not true or false", NULL);
    it.revoke |= obj_deleted;
    r = im_imp_get_str (a, "comment", &it.desc, &it.dlen);
    if (r < 0)
        return im_imp_refuse (c, where, "comment is not a string", NULL);
    if (r == 1) {
        const char *d = it.desc;
        size_t dl = it.dlen;
        im_imp_trim (&d, &dl);
        if (dl == 0)
            r = 0;
    }
    if (r == 0 && !(ev && ev->tags.ours)) {
        /* The event's title, unless the event is an intelmesh export, whose
         * title is not the indicators' (an empty description stays empty). */
        it.desc = ev ? ev->info : NULL;
        it.dlen = ev ? ev->info_len : 0;
    }
    int dist = misp_distribution (a);
    if (dist == -2)
        return im_imp_refuse (c, where, "distribution is not 0..5", NULL);
    if (dist == 5)
        dist = obj_dist >= 0 && obj_dist != 5 ? obj_dist : ev ? ev->dist : -1;
    if (dist == 5)
        dist = -1;
    misp_tags_t at;
    if (misp_tags_scan (json_object_get (a, "Tag"), &at, &why))
        return im_imp_refuse (c, where, why, NULL);
    it.tlp = at.tlp ? at.tlp : ev ? ev->tags.tlp : IM_TLP_NONE;
    it.confidence = at.confidence >= 0 ? at.confidence : ev ? ev->tags.confidence : -1;
    if (at.has_valid_from) {
        it.has_valid_from = 1;
        it.valid_from = at.valid_from;
    }
    else if (ev && ev->tags.has_valid_from) {
        it.has_valid_from = 1;
        it.valid_from = ev->tags.valid_from;
    }
    if (at.has_valid_until) {
        it.has_valid_until = 1;
        it.valid_until = at.valid_until;
    }
    else if (ev && ev->tags.has_valid_until) {
        it.has_valid_until = 1;
        it.valid_until = ev->tags.valid_until;
    }
    json_t *tags = json_array ();
    if (!tags)
        return im_imp_oom (c);
    int rc = 0;
    char namebuf[IM_DESC_MAX + 16];
    if (dist >= 0)
        it.reach = dist == 3 ? IM_REACH_UNLIMITED : dist == 4 ? 0 : dist;
    if (dist == 3 && at.reach >= 3)
        it.reach = at.reach; /* 3 links or more: the exact reach, as exported */
    if (dist == 4)
        rc |= im_imp_tag_add (tags, "misp:sharing-group", 18, &it.tags_dropped);
    if (fname)
        rc |= im_imp_keep_file_name (&it, tags, fname, flen, namebuf, sizeof namebuf);
    rc |= misp_tags_add (tags, &at, &it.tags_dropped);
    if (ev)
        rc |= misp_tags_add (tags, &ev->tags, &it.tags_dropped);
    it.tags = tags;
    it.tags_given = 1; /* the attribute's and the event's tags, or none */
    rc = rc ? im_imp_oom (c) : im_imp_emit (c, &it);
    json_decref (tags);
    return rc;
}

static int
misp_attributes (ctx_t *c, const misp_event_t *ev, const json_t *arr, const char *prefix,
                 int obj_dist, int obj_deleted)
{
    size_t i;
    const json_t *a;
    json_array_foreach (arr, i, a)
    {
        char where[96];
        snprintf (where, sizeof where, "%sAttribute %zu", prefix, i);
        if (misp_attribute (c, ev, a, where, obj_dist, obj_deleted))
            return -1;
    }
    return 0;
}

static int
misp_event (ctx_t *c, const json_t *event, size_t index)
{
    misp_event_t ev;
    const char *why = NULL;
    memset (&ev, 0, sizeof ev);
    ev.index = index;
    if (!json_is_object (event))
        return im_fail (EINVAL, c->err, c->errsz, "%s: Event %zu is not an object",
                        c->name, index);
    if (im_imp_get_str (event, "info", &ev.info, &ev.info_len) != 1)
        ev.info = NULL;
    ev.dist = misp_distribution (event);
    if (ev.dist == -2)
        return im_fail (EINVAL, c->err, c->errsz,
                        "%s: Event %zu: distribution is not 0..5", c->name, index);
    if (ev.dist == 5)
        ev.dist = -1;
    if (misp_tags_scan (json_object_get (event, "Tag"), &ev.tags, &why))
        return im_fail (EINVAL, c->err, c->errsz, "%s: Event %zu: %s", c->name, index,
                        why);
    const json_t *attrs = json_object_get (event, "Attribute");
    const json_t *objs = json_object_get (event, "Object");
    if (attrs && !json_is_null (attrs) && !json_is_array (attrs))
        return im_fail (EINVAL, c->err, c->errsz,
                        "%s: Event %zu: \"Attribute\" is not an array", c->name, index);
    if (objs && !json_is_null (objs) && !json_is_array (objs))
        return im_fail (EINVAL, c->err, c->errsz,
                        "%s: Event %zu: \"Object\" is not an array", c->name, index);
    size_t i;
    const json_t *o;
    json_array_foreach (objs, i, o)
    {
        const json_t *oa = json_is_object (o) ? json_object_get (o, "Attribute") : NULL;
        if (!json_is_object (o) || (oa && !json_is_null (oa) && !json_is_array (oa)))
            return im_fail (EINVAL, c->err, c->errsz,
                            "%s: Event %zu: Object %zu is not an object with an "
                            "\"Attribute\" array",
                            c->name, index, i);
        if (misp_distribution (o) == -2 || im_imp_get_bool (o, "deleted", 0) < 0)
            return im_fail (EINVAL, c->err, c->errsz,
                            "%s: Event %zu: Object %zu: bad distribution or deleted",
                            c->name, index, i);
    }
    char prefix[64];
    size_t from = json_array_size (c->items);
    snprintf (prefix, sizeof prefix, "Event %zu ", index);
    if (json_is_array (attrs) && misp_attributes (c, &ev, attrs, prefix, -1, 0))
        return -1;
    json_array_foreach (objs, i, o)
    {
        const json_t *oa = json_object_get (o, "Attribute");
        snprintf (prefix, sizeof prefix, "Event %zu Object %zu ", index, i);
        if (json_is_array (oa)
            && misp_attributes (c, &ev, oa, prefix, misp_distribution (o),
                                im_imp_get_bool (o, "deleted", 0)))
            return -1;
    }
    /* An event this program exported holds indicators, not a report. */
    char where[NAME_MAX_BYTES + 32];
    snprintf (where, sizeof where, "%s:Event %zu", c->name, index);
    return ev.tags.ours ? 0 : im_imp_misp_report (c, event, from, ev.tags.tlp, where);
}

/* An array of {"Event": {...}}. */
static int
misp_event_list (ctx_t *c, const json_t *arr, const char *what)
{
    size_t i;
    const json_t *e;
    json_array_foreach (arr, i, e)
    {
        const json_t *ev = json_is_object (e) ? json_object_get (e, "Event") : NULL;
        if (!ev)
            return im_fail (EINVAL, c->err, c->errsz,
                            "%s: %s[%zu] is not an {\"Event\": ...} object", c->name,
                            what, i);
        if (misp_event (c, ev, i))
            return -1;
    }
    return 0;
}

int
im_imp_misp_parse (ctx_t *c, json_t *root)
{
    if (json_is_array (root))
        return misp_event_list (c, root, "item");
    if (!json_is_object (root))
        return im_fail (EINVAL, c->err, c->errsz, "%s: not a MISP event", c->name);
    const json_t *v;
    if ((v = json_object_get (root, "Event")))
        return misp_event (c, v, 0);
    if ((v = json_object_get (root, "response"))) {
        if (json_is_array (v))
            return misp_event_list (c, v, "response");
        const json_t *attrs
            = json_is_object (v) ? json_object_get (v, "Attribute") : NULL;
        if (json_is_array (attrs))
            return misp_attributes (c, NULL, attrs, "response ", -1, 0);
        return im_fail (EINVAL, c->err, c->errsz,
                        "%s: \"response\" is neither a list of events nor of attributes",
                        c->name);
    }
    return im_fail (EINVAL, c->err, c->errsz,
                    "%s: not a MISP event (no \"Event\" or \"response\")", c->name);
}
