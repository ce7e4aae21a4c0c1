/* SPDX-License-Identifier: MPL-2.0 */
/* im_import_stix.c -- STIX 2.1 bundles for the importer: indicators whose
 * pattern is equality comparisons joined by OR, their TLP markings, labels and
 * validity. */
#include "config.h"

#include <ctype.h>
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

/* --- STIX patterns ------------------------------------------------------ */

typedef struct {
    int type;
    size_t off, len; /* the literal, unescaped, in buf */
} cmp_t;

typedef struct {
    const char *s;
    size_t len, pos;
    char *buf; /* LEN + 1 bytes */
    size_t used;
    cmp_t cmps[IM_IMPORT_PATTERN_TERMS_MAX];
    size_t n;
    int depth;
} pat_t;

static void
pat_ws (pat_t *p)
{
    while (p->pos < p->len && im_imp_is_space (p->s[p->pos]))
        p->pos++;
}

/* Consumes the keyword OR (and nothing else) when it comes next. */
static int
pat_or (pat_t *p)
{
    pat_ws (p);
    size_t e = p->pos;
    while (e < p->len && isalpha ((unsigned char)p->s[e]))
        e++;
    if (e - p->pos == 2 && memcmp (p->s + p->pos, "OR", 2) == 0) {
        p->pos = e;
        return 1;
    }
    return 0;
}

static int
pat_expect (pat_t *p, char ch)
{
    pat_ws (p);
    if (p->pos < p->len && p->s[p->pos] == ch) {
        p->pos++;
        return 0;
    }
    return -1;
}

/* One comparison: PATH = LITERAL. */
static int
pat_comparison (pat_t *p)
{
    char path[128];
    size_t pl = 0;
    pat_ws (p);
    /* object type */
    while (p->pos < p->len
           && (islower ((unsigned char)p->s[p->pos])
               || isdigit ((unsigned char)p->s[p->pos]) || p->s[p->pos] == '-')) {
        if (pl + 2 >= sizeof path)
            return -1;
        path[pl++] = p->s[p->pos++];
    }
    if (pl == 0 || p->pos >= p->len || p->s[p->pos] != ':')
        return -1;
    path[pl++] = p->s[p->pos++];
    /* property path: segments joined by '.', a segment plain or 'quoted' */
    for (int seg = 0;; seg++) {
        size_t before = pl;
        if (seg > 0 && p->pos < p->len && p->s[p->pos] == '\'') {
            p->pos++;
            while (p->pos < p->len && p->s[p->pos] != '\'') {
                char ch = p->s[p->pos++];
                if (ch == '\\' || (unsigned char)ch < 0x20 || pl + 2 >= sizeof path)
                    return -1;
                path[pl++] = ch;
            }
            if (p->pos >= p->len)
                return -1;
            p->pos++;
        }
        else
            while (p->pos < p->len
                   && (isalnum ((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_'
                       || (seg > 0 && p->s[p->pos] == '-'))) {
                if (pl + 2 >= sizeof path)
                    return -1;
                path[pl++] = p->s[p->pos++];
            }
        if (pl == before)
            return -1;
        if (p->pos < p->len && p->s[p->pos] == '.') {
            path[pl++] = p->s[p->pos++];
            continue;
        }
        break;
    }
    /* the hash name was unquoted above: file:hashes.SHA-256 */
    int type = im_type_from_stix_path (path, pl);
    if (type < 0)
        return -1;
    pat_ws (p);
    if (p->pos >= p->len || p->s[p->pos] != '=')
        return -1;
    p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '=')
        p->pos++;
    pat_ws (p);
    if (p->n >= IM_IMPORT_PATTERN_TERMS_MAX)
        return -1;
    cmp_t *cmp = &p->cmps[p->n];
    cmp->type = type;
    cmp->off = p->used;
    const char *prefix = im_type_info (type)->num_prefix;
    if (prefix) {
        /* an integer literal: the value is the prefix and the number */
        size_t start = p->pos;
        while (p->pos < p->len && isdigit ((unsigned char)p->s[p->pos]))
            p->pos++;
        size_t nd = p->pos - start;
        if (nd == 0 || nd > 10
            || (p->pos < p->len
                && (isalnum ((unsigned char)p->s[p->pos]) || p->s[p->pos] == '.'
                    || p->s[p->pos] == '\'' || p->s[p->pos] == '_')))
            return -1;
        size_t pfl = strlen (prefix);
        memcpy (p->buf + p->used, prefix, pfl);
        memcpy (p->buf + p->used + pfl, p->s + start, nd);
        p->used += nd + pfl;
    }
    else {
        if (p->pos >= p->len || p->s[p->pos] != '\'')
            return -1;
        p->pos++;
        for (;;) {
            if (p->pos >= p->len)
                return -1;
            char ch = p->s[p->pos++];
            if (ch == '\'')
                break;
            if (ch == '\\') {
                if (p->pos >= p->len || (p->s[p->pos] != '\'' && p->s[p->pos] != '\\'))
                    return -1;
                ch = p->s[p->pos++];
            }
            p->buf[p->used++] = ch;
        }
    }
    cmp->len = p->used - cmp->off;
    p->buf[p->used++] = '\0';
    p->n++;
    return 0;
}

static int pat_cmp_list (pat_t *p);

static int
pat_cmp_term (pat_t *p)
{
    pat_ws (p);
    if (p->pos < p->len && p->s[p->pos] == '(') {
        p->pos++;
        if (++p->depth > IM_IMPORT_PATTERN_DEPTH_MAX || pat_cmp_list (p)
            || pat_expect (p, ')'))
            return -1;
        p->depth--;
        return 0;
    }
    return pat_comparison (p);
}

static int
pat_cmp_list (pat_t *p)
{
    if (pat_cmp_term (p))
        return -1;
    while (pat_or (p))
        if (pat_cmp_term (p))
            return -1;
    return 0;
}

static int pat_obs_list (pat_t *p);

static int
pat_obs_term (pat_t *p)
{
    pat_ws (p);
    if (p->pos >= p->len)
        return -1;
    if (p->s[p->pos] == '(') {
        p->pos++;
        if (++p->depth > IM_IMPORT_PATTERN_DEPTH_MAX || pat_obs_list (p)
            || pat_expect (p, ')'))
            return -1;
        p->depth--;
        return 0;
    }
    if (p->s[p->pos] != '[')
        return -1;
    p->pos++;
    return pat_cmp_list (p) || pat_expect (p, ']') ? -1 : 0;
}

static int
pat_obs_list (pat_t *p)
{
    if (pat_obs_term (p))
        return -1;
    while (pat_or (p))
        if (pat_obs_term (p))
            return -1;
    return 0;
}

/* Parses a pattern of ORed equality comparisons into P. Returns 0 or -1 (not
 * mappable). P->buf must hold LEN + 1 + 3 * IM_IMPORT_PATTERN_TERMS_MAX bytes. */
static int
pat_parse (pat_t *p, const char *s, size_t len)
{
    p->s = s;
    p->len = len;
    p->pos = 0;
    p->used = 0;
    p->n = 0;
    p->depth = 0;
    if (pat_obs_list (p))
        return -1;
    pat_ws (p);
    return p->pos == p->len ? 0 : -1;
}

/* --- STIX --------------------------------------------------------------- */

typedef struct {
    const char *id;
    int tlp;
} marking_t;

static const marking_t tlp_markings[] = {
    { "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", IM_TLP_CLEAR },
    { "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", IM_TLP_GREEN },
    { "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", IM_TLP_AMBER },
    { "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", IM_TLP_AMBER_STRICT },
    { "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", IM_TLP_RED },
    { "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", IM_TLP_CLEAR },
    { "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5a41da", IM_TLP_GREEN },
    { "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", IM_TLP_AMBER },
    { "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", IM_TLP_RED },
};

/* The TLP label a marking-definition object in the bundle stands for, or -1. */
static int
stix_marking_tlp (const json_t *obj)
{
    const char *s;
    size_t len;
    const json_t *def = json_object_get (obj, "definition");
    if (json_is_object (def) && im_imp_get_str (def, "tlp", &s, &len) == 1)
        return im_imp_tlp_text (s, len);
    const json_t *ext = json_object_get (obj, "extensions");
    if (json_is_object (ext)) {
        const char *key;
        const json_t *e;
        json_object_foreach ((json_t *)ext, key,
                             e) if (json_is_object (e)
                                    && im_imp_get_str (e, "tlp_2_0", &s, &len)
                                           == 1) return im_imp_tlp_text (s, len);
    }
    if (im_imp_get_str (obj, "name", &s, &len) == 1 && len > 4
        && strncasecmp (s, "TLP:", 4) == 0)
        return im_imp_tlp_text (s, len);
    return -1;
}

int
im_imp_stix_ref_tlp (const json_t *defs, const char *ref, size_t len)
{
    for (size_t i = 0; i < sizeof tlp_markings / sizeof tlp_markings[0]; i++)
        if (strlen (tlp_markings[i].id) == len
            && memcmp (tlp_markings[i].id, ref, len) == 0)
            return tlp_markings[i].tlp;
    if (memchr (ref, 0, len))
        return IM_TLP_NONE;
    const json_t *v = json_object_get (defs, ref);
    return v ? (int)json_integer_value (v) : IM_TLP_NONE;
}

/* Reads the fields of indicator OBJ other than its id, pattern and labels
 * into IT. Returns NULL, or why the indicator is refused. */
static const char *
stix_fields (const json_t *obj, const json_t *defs, item_t *it)
{
    const char *s;
    size_t len;
    int r;
    it->revoke = im_imp_get_bool (obj, "revoked", 0);
    if (it->revoke < 0)
        return "revoked is not true or false";
    const json_t *v = json_object_get (obj, "confidence");
    if (v && !json_is_null (v)) {
        if (!json_is_integer (v) || json_integer_value (v) < 0
            || json_integer_value (v) > 100)
            return "confidence is not 0..100";
        it->confidence = (int)json_integer_value (v);
    }
    v = json_object_get (obj, "x_intelmesh_reach");
    if (v && !json_is_null (v)) {
        if (json_is_string (v) && strcmp (json_string_value (v), "unlimited") == 0)
            it->reach = IM_REACH_UNLIMITED;
        else if (json_is_integer (v) && json_integer_value (v) >= 0
                 && json_integer_value (v) < IM_REACH_UNLIMITED)
            it->reach = (int)json_integer_value (v);
        else
            return "x_intelmesh_reach is not 0..254 or \"unlimited\"";
    }
    /* Only intelmesh's own extension says so: STIX has no standard property
     * for an indicator not meant for detection. */
    int detect = im_imp_get_bool (obj, "x_intelmesh_detect", 1);
    if (detect < 0)
        return "x_intelmesh_detect is not true or false";
    it->no_detect = detect == 0;
    it->detect_given = 1; /* a STIX indicator is for detection unless it says not */
    r = im_imp_get_str (obj, "description", &it->desc, &it->dlen);
    if (r < 0)
        return "description is not a string";
    if (r == 1) {
        const char *d = it->desc;
        size_t dl = it->dlen;
        im_imp_trim (&d, &dl);
        if (dl == 0)
            r = 0;
    }
    if (r == 0 && im_imp_get_str (obj, "name", &it->desc, &it->dlen) < 0)
        return "name is not a string";
    r = im_imp_get_str (obj, "valid_from", &s, &len);
    if (r < 0 || (r == 1 && im_imp_parse_time (s, len, &it->valid_from)))
        return "valid_from is not an RFC 3339 time";
    it->has_valid_from = r == 1;
    /* STIX requires valid_from; producers that know no start write the
     * object's created time, word for word, which is what "unset" means here
     * (and what the exporter writes for a record without one). */
    const char *created;
    size_t clen;
    if (it->has_valid_from && im_imp_get_str (obj, "created", &created, &clen) == 1
        && clen == len && memcmp (created, s, len) == 0)
        it->has_valid_from = 0;
    r = im_imp_get_str (obj, "valid_until", &s, &len);
    if (r < 0 || (r == 1 && im_imp_parse_time (s, len, &it->valid_until)))
        return "valid_until is not an RFC 3339 time";
    it->has_valid_until = r == 1;
    v = json_object_get (obj, "object_marking_refs");
    if (v && !json_is_null (v)) {
        size_t i;
        const json_t *ref;
        if (!json_is_array (v))
            return "object_marking_refs is not an array of ids";
        json_array_foreach (v, i, ref)
        {
            if (!json_is_string (ref))
                return "object_marking_refs is not an array of ids";
            it->tlp = im_imp_tlp_max (it->tlp,
                                      im_imp_stix_ref_tlp (defs, json_string_value (ref),
                                                           json_string_length (ref)));
        }
    }
    return NULL;
}

/* PAT as the one value S (LEN bytes) of TYPE. */
static void
pat_one (pat_t *pat, int type, const char *s, size_t len)
{
    memcpy (pat->buf, s, len);
    pat->buf[len] = '\0';
    pat->cmps[0] = (cmp_t){ .type = type, .off = 0, .len = len };
    pat->n = 1;
}

/* The value of a vulnerability or attack-pattern OBJ of TYPE into PAT: the
 * external_id of its reference of the type's source_name ("cve",
 * "mitre-attack"). Returns 0, or -1 when it has none. */
static int
stix_object_value (const json_t *obj, int type, pat_t *pat)
{
    const char *src = im_type_info (type)->stix_source, *s, *id;
    size_t i, len, idlen;
    const json_t *ref;
    json_array_foreach (json_object_get (obj, "external_references"), i, ref)
    {
        if (im_imp_get_str (ref, "source_name", &s, &len) == 1
            && im_imp_eq_nocase (s, len, src)
            && im_imp_get_str (ref, "external_id", &id, &idlen) == 1
            && idlen <= IM_IMPORT_PATTERN_MAX) {
            pat_one (pat, type, id, idlen);
            return 0;
        }
    }
    return -1;
}

/* An indicator's pattern into PAT: STIX patterns that map, or a rule whose
 * pattern_type is a rule type's (yara, sigma, snort). Returns 0, 1 when it
 * does not map, -1 (refused) with the reason in *WHY. */
static int
stix_pattern (const json_t *obj, pat_t *pat, const char **why)
{
    const char *s, *pattern;
    size_t len, plen;
    int r = im_imp_get_str (obj, "pattern_type", &s, &len), rule = -1;
    for (int t = IM_TYPE_NONE + 1; r == 1 && t < IM_TYPE_COUNT; t++)
        if (im_type_info (t) && im_type_info (t)->stix_pattern_type
            && im_imp_eq_nocase (s, len, im_type_info (t)->stix_pattern_type))
            rule = t;
    if (r < 0 || (r == 1 && rule < 0 && !im_imp_eq_nocase (s, len, "stix")))
        return 1;
    *why = "pattern is not a string";
    if (im_imp_get_str (obj, "pattern", &pattern, &plen) != 1)
        return -1;
    *why = "pattern is longer than 64 KiB";
    if (plen > IM_IMPORT_PATTERN_MAX)
        return -1;
    if (rule > 0) {
        pat_one (pat, rule, pattern, plen);
        return 0;
    }
    return pat_parse (pat, pattern, plen) ? 1 : 0;
}

/* An indicator, or a vulnerability or attack-pattern object (TYPE: its
 * STIX type, "indicator" when NULL). */
static int
stix_indicator (ctx_t *c, const json_t *obj, size_t index, const json_t *defs, pat_t *pat,
                const char *otype)
{
    char where[NAME_MAX_BYTES + 96], prefix[24];
    const char *sid = NULL, *why = NULL;
    size_t sidlen = 0;
    char uuid[IM_ID_STR_SIZE];
    int sdo = otype ? (strcmp (otype, "vulnerability") == 0 ? IM_TYPE_CVE
                                                            : IM_TYPE_ATTACK_PATTERN)
                    : 0;
    size_t plen
        = (size_t)snprintf (prefix, sizeof prefix, "%s--", otype ? otype : "indicator");
    snprintf (where, sizeof where, "%s:objects[%zu]", c->name, index);
    if (im_imp_get_str (obj, "id", &sid, &sidlen) != 1
        || sidlen != plen + IM_ID_STR_SIZE - 1 || memcmp (sid, prefix, plen)
        || im_imp_parse_uuid (sid + plen, sidlen - plen, uuid))
        return im_imp_refuse (c, where,
                              !sdo                 ? "id is not indicator--UUID"
                              : sdo == IM_TYPE_CVE ? "id is not vulnerability--UUID"
                                                   : "id is not attack-pattern--UUID",
                              NULL);
    snprintf (where, sizeof where, "%s:%s%s", c->name, prefix, uuid);
    int r = sdo ? stix_object_value (obj, sdo, pat) : stix_pattern (obj, pat, &why);
    if (sdo == IM_TYPE_ATTACK_PATTERN
        && (r || im_imp_get_bool (obj, "x_intelmesh_context", 0) == 1))
        return 0; /* a report's context, or counted with them (reports) */
    if (sdo && r)
        return im_imp_skip (c, sdo == IM_TYPE_CVE
                                   ? "vulnerability without a cve external_id"
                                   : "attack-pattern without a mitre-attack external_id");
    if (r > 0)
        return im_imp_skip (c, "pattern not mappable");
    if (r < 0)
        return im_imp_refuse (c, where, why, NULL);

    item_t it;
    im_imp_item_init (&it);
    why = stix_fields (obj, defs, &it);
    if (why)
        return im_imp_refuse (c, where, why, NULL);
    json_t *tags = json_array ();
    if (!tags)
        return im_imp_oom (c);
    const json_t *v = json_object_get (obj, "labels");
    if (v && !json_is_null (v)) {
        size_t i;
        const json_t *l;
        if (!json_is_array (v)) {
            json_decref (tags);
            return im_imp_refuse (c, where, "labels is not an array of strings", NULL);
        }
        json_array_foreach (v, i, l)
        {
            if (!json_is_string (l)) {
                json_decref (tags);
                return im_imp_refuse (c, where, "labels is not an array of strings",
                                      NULL);
            }
            if (im_imp_tag_add (tags, json_string_value (l), json_string_length (l),
                                &it.tags_dropped)) {
                json_decref (tags);
                return im_imp_oom (c);
            }
        }
    }
    it.tags = tags;
    it.tags_given = 1; /* labels, or none: this version's */
    /* Every comparison must make a value, or none is imported. */
    for (size_t k = 0; k < pat->n; k++) {
        const char *val = pat->buf + pat->cmps[k].off;
        size_t vl = pat->cmps[k].len;
        why = im_imp_value_problem (&val, &vl);
        if (why) {
            json_decref (tags);
            return im_imp_refuse (c, where, why, NULL);
        }
    }
    int rc = 0;
    for (size_t k = 0; k < pat->n && rc == 0; k++) {
        char source[NAME_MAX_BYTES + 128], derived[IM_ID_STR_SIZE];
        it.type = pat->cmps[k].type;
        it.value = pat->buf + pat->cmps[k].off;
        it.vlen = pat->cmps[k].len;
        if (k == 0) {
            it.id = uuid;
            snprintf (source, sizeof source, "%s", where);
        }
        else {
            char name[128];
            uint8_t id[IM_ID_SIZE];
            int n = snprintf (name, sizeof name, "%s%s#%zu", prefix, uuid, k);
            im_id_from_name (name, (size_t)n, id);
            im_id_format (id, derived);
            it.id = derived;
            snprintf (source, sizeof source, "%s#%zu", where, k);
        }
        it.source = source;
        rc = im_imp_emit (c, &it);
        it.tags_dropped = 0; /* noted once per indicator */
    }
    json_decref (tags);
    return rc;
}

int
im_imp_stix_parse (ctx_t *c, json_t *root)
{
    json_t *objects = root, *one = NULL;
    if (json_is_object (root)) {
        const char *type;
        size_t tlen;
        if (im_imp_get_str (root, "type", &type, &tlen) != 1)
            return im_fail (EINVAL, c->err, c->errsz,
                            "%s: not a STIX bundle (no \"type\")", c->name);
        if (im_imp_eq_nocase (type, tlen, "bundle")) {
            objects = json_object_get (root, "objects");
            if (!objects || json_is_null (objects))
                return 0;
            if (!json_is_array (objects))
                return im_fail (EINVAL, c->err, c->errsz,
                                "%s: \"objects\" is not an array", c->name);
        }
        else {
            objects = one = json_array ();
            if (!one || json_array_append (one, root))
                return im_imp_oom (c);
        }
    }
    else if (!json_is_array (root))
        return im_fail (EINVAL, c->err, c->errsz, "%s: not a STIX bundle", c->name);

    int rc = 0;
    json_t *defs = json_object ();
    pat_t *pat = calloc (1, sizeof *pat);
    if (pat)
        pat->buf = malloc (IM_IMPORT_PATTERN_MAX + 1 + 3 * IM_IMPORT_PATTERN_TERMS_MAX);
    if (!defs || !pat || !pat->buf) {
        rc = im_imp_oom (c);
        goto done;
    }
    /* Marking definitions first, so that references resolve in any order. */
    size_t i;
    json_t *obj;
    json_array_foreach (objects, i, obj)
    {
        const char *s, *id;
        size_t len, idlen;
        if (!json_is_object (obj) || im_imp_get_str (obj, "type", &s, &len) != 1
            || !im_imp_eq_nocase (s, len, "marking-definition")
            || im_imp_get_str (obj, "id", &id, &idlen) != 1 || memchr (id, 0, idlen))
            continue;
        int tlp = stix_marking_tlp (obj);
        if (tlp > 0 && json_object_set_new (defs, id, json_integer (tlp))) {
            rc = im_imp_oom (c);
            goto done;
        }
    }
    json_array_foreach (objects, i, obj)
    {
        char where[NAME_MAX_BYTES + 64], q[QUOTE_MAX + 1];
        const char *s;
        size_t len;
        snprintf (where, sizeof where, "%s:objects[%zu]", c->name, i);
        if (!json_is_object (obj))
            rc = im_imp_refuse (c, where, "object is not a JSON object", NULL);
        else if (im_imp_get_str (obj, "type", &s, &len) != 1)
            rc = im_imp_refuse (c, where, "object has no type", NULL);
        else if (strlen ("indicator") == len && memcmp (s, "indicator", len) == 0)
            rc = stix_indicator (c, obj, i, defs, pat, NULL);
        else if ((len == 13 && memcmp (s, "vulnerability", len) == 0)
                 || (len == 14 && memcmp (s, "attack-pattern", len) == 0))
            rc = stix_indicator (c, obj, i, defs, pat,
                                 len == 13 ? "vulnerability" : "attack-pattern");
        else if (im_imp_stix_context_type (s, len))
            rc = 0; /* read and counted with the reports, below */
        else {
            char reason[QUOTE_MAX + 32];
            snprintf (reason, sizeof reason, "not an indicator (%s)",
                      im_imp_quote (q, s, len));
            rc = im_imp_skip (c, reason);
        }
        if (rc)
            break;
    }
    if (rc == 0)
        rc = im_imp_stix_reports (c, objects, defs);
done:
    if (pat)
        free (pat->buf);
    free (pat);
    json_decref (defs);
    json_decref (one);
    return rc;
}
