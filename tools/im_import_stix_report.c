/* SPDX-License-Identifier: MPL-2.0 */
/* im_import_stix_report.c -- STIX 2.1 report objects for the importer: the
 * report and the context objects it refers to, directly or through one
 * relationship (indicates, uses, mitigates, related-to), as a report item. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "im_import.h"
#include "im_import_int.h"
#include "im_record.h"
#include "im_report.h"
#include "im_types.h"
#include "im_util.h"

/* The relationships read; others are skipped. */
static const char *const rel_read[]
    = { "indicates", "uses", "mitigates", "related-to", NULL };

/* The STIX types read with reports: what each gives. */
typedef enum { K_NONE, K_REPORT, K_ATTACK, K_MALWARE, K_ACTOR, K_COA, K_REL } kind_t;

static const struct {
    const char *type;
    kind_t kind;
} kinds[] = {
    { "report", K_REPORT },        { "attack-pattern", K_ATTACK },
    { "malware", K_MALWARE },      { "tool", K_MALWARE },
    { "threat-actor", K_ACTOR },   { "intrusion-set", K_ACTOR },
    { "course-of-action", K_COA }, { "relationship", K_REL },
};

static kind_t
kind_of (const json_t *obj)
{
    const char *s;
    size_t len;
    if (!json_is_object (obj) || im_imp_get_str (obj, "type", &s, &len) != 1)
        return K_NONE;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strlen (kinds[i].type) == len && memcmp (kinds[i].type, s, len) == 0)
            return kinds[i].kind;
    return K_NONE;
}

int
im_imp_stix_context_type (const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].kind != K_ATTACK && strlen (kinds[i].type) == len
            && memcmp (kinds[i].type, s, len) == 0)
            return 1;
    return 0;
}

static int
rel_is_read (const json_t *rel)
{
    const char *s;
    size_t len;
    if (im_imp_get_str (rel, "relationship_type", &s, &len) != 1)
        return 0;
    for (int i = 0; rel_read[i]; i++)
        if (strlen (rel_read[i]) == len && memcmp (rel_read[i], s, len) == 0)
            return 1;
    return 0;
}

/* One report's work. */
typedef struct {
    ctx_t *c;
    const json_t *index; /* STIX id -> object */
    const json_t *made;  /* STIX id -> [item ids] */
    json_t *used;        /* STIX id -> true: taken into some report */
    json_t *set;         /* the ids this report takes */
    json_t *rep;         /* the REPORT body being built */
    json_t *members;
    int dropped; /* names, tags or items that did not fit */
} rep_t;

int
im_imp_report_add (json_t *rep, const char *key, const char *s, size_t len, size_t max)
{
    im_imp_trim (&s, &len);
    if (len == 0 || len > max || !im_imp_utf8_ok (s, len) || memchr (s, 0, len))
        return 1;
    json_t *a = json_object_get (rep, key), *e;
    size_t i;
    if (!a && json_object_set_new (rep, key, a = json_array ()))
        return -1;
    json_array_foreach (a, i,
                        e) if (json_string_length (e) == len
                               && memcmp (json_string_value (e), s, len) == 0) return 0;
    return json_array_append_new (a, json_stringn (s, len));
}

/* im_imp_report_add() to the report being built; what does not fit is
 * dropped (noted). */
static int
add_name (rep_t *r, const char *key, const char *s, size_t len, size_t max)
{
    int rc = im_imp_report_add (r->rep, key, s, len, max);
    r->dropped |= rc == 1;
    return rc < 0 ? -1 : 0;
}

/* The http(s) URLs of OBJ's external references into the array KEY of
 * INTO (at most MAX). The mitre-attack id of an attack pattern into *ATTACK. */
static int
add_urls (rep_t *r, json_t *into, const json_t *obj, const char *key, size_t max,
          const char **attack, size_t *alen)
{
    const json_t *ref;
    size_t i;
    json_array_foreach (json_object_get (obj, "external_references"), i, ref)
    {
        const char *s, *u;
        size_t len, ulen;
        if (attack && im_imp_get_str (ref, "source_name", &s, &len) == 1
            && im_imp_eq_nocase (s, len, "mitre-attack")
            && im_imp_get_str (ref, "external_id", attack, alen) == 1)
            continue;
        if (im_imp_get_str (ref, "url", &u, &ulen) != 1)
            continue;
        if ((ulen < 8 || (strncmp (u, "http://", 7) && strncmp (u, "https://", 8)))
            || json_array_size (json_object_get (into, key)) >= max) {
            r->dropped = 1;
            continue;
        }
        json_t *saved = r->rep;
        r->rep = into;
        int rc = add_name (r, key, u, ulen, IM_EXT_URL_MAX);
        r->rep = saved;
        if (rc)
            return -1;
    }
    return 0;
}

/* A course of action: its description (else name) and reference URLs. */
static int
add_mitigation (rep_t *r, const json_t *obj)
{
    const char *s = NULL;
    size_t len = 0;
    if (im_imp_get_str (obj, "description", &s, &len) != 1
        && im_imp_get_str (obj, "name", &s, &len) != 1)
        return 0;
    im_imp_trim (&s, &len);
    if (len == 0 || len > IM_EXT_TEXT_MAX || !im_imp_utf8_ok (s, len)
        || memchr (s, 0, len)) {
        r->dropped = 1;
        return 0;
    }
    json_t *m = json_pack ("{s:s%, s:[]}", "text", s, len, "refs");
    json_t *a = json_object_get (r->rep, "mitigations");
    if (!m || (!a && json_object_set_new (r->rep, "mitigations", a = json_array ()))
        || add_urls (r, m, obj, "refs", IM_EXT_MIT_REFS_MAX, NULL, NULL)) {
        json_decref (m);
        return -1;
    }
    return json_array_append_new (a, m);
}

/* What object ID gives the report. */
static int
take (rep_t *r, const char *id)
{
    const json_t *obj = json_object_get (r->index, id),
                 *ids = json_object_get (r->made, id);
    const char *s;
    size_t len, i;
    const json_t *e;
    json_array_foreach (ids, i,
                        e) if (json_array_append (r->members, (json_t *)e)) return -1;
    kind_t k = kind_of (obj);
    if (k == K_NONE || k == K_REPORT || k == K_REL)
        return 0;
    if (json_object_set_new (r->used, id, json_true ()))
        return -1;
    if (k == K_COA)
        return add_mitigation (r, obj);
    if (im_imp_get_str (obj, "name", &s, &len) != 1)
        return 0;
    if (k == K_ATTACK) {
        const char *t = NULL;
        size_t tlen = 0;
        json_t *none = json_object ();
        int rc = !none || add_urls (r, none, obj, "x", 0, &t, &tlen);
        json_decref (none);
        if (rc)
            return -1;
        if (t)
            return add_name (r, "attack", t, tlen, 16);
        char tag[IM_TAG_MAX + 32];
        int n = snprintf (tag, sizeof tag, "attack-pattern:%.*s",
                          (int)(len < IM_TAG_MAX + 1 ? len : IM_TAG_MAX + 1), s);
        if (json_array_size (json_object_get (r->rep, "tags")) >= IM_TAGS_MAX) {
            r->dropped = 1;
            return 0;
        }
        return add_name (r, "tags", tag, (size_t)n, IM_TAG_MAX);
    }
    return add_name (r, k == K_ACTOR ? "actors" : "malware", s, len, IM_EXT_NAME_MAX);
}

/* The set of ids the report REPORT takes: its object_refs, and what a
 * relationship read links to one of them (or to the report). */
static int
report_set (rep_t *r, const json_t *objects, const json_t *report, const char *rid)
{
    const json_t *e;
    size_t i;
    json_array_foreach (json_object_get (report, "object_refs"), i, e)
    {
        if (json_is_string (e)
            && json_object_set_new (r->set, json_string_value (e), json_true ()))
            return -1;
    }
    json_t *direct = json_copy (r->set);
    if (!direct || json_object_set_new (direct, rid, json_true ()))
        return -1;
    int rc = 0;
    json_array_foreach (objects, i, e)
    {
        const char *src = json_string_value (json_object_get (e, "source_ref"));
        const char *dst = json_string_value (json_object_get (e, "target_ref"));
        const char *id = json_string_value (json_object_get (e, "id"));
        if (kind_of (e) != K_REL || !src || !dst || !id || !rel_is_read (e))
            continue;
        int s_in = json_object_get (direct, src) != NULL;
        int d_in = json_object_get (direct, dst) != NULL;
        if (!s_in && !d_in)
            continue;
        if (json_object_set_new (r->set, s_in ? dst : src, json_true ())
            || json_object_set_new (r->used, id, json_true ())) {
            rc = -1;
            break;
        }
    }
    json_decref (direct);
    return rc;
}

/* The title, description, TLP, labels and URLs of REPORT. Returns 0, 1 when
 * it is refused (counted), -1 on failure. */
static int
report_head (rep_t *r, const json_t *report, const json_t *defs, const char *where)
{
    ctx_t *c = r->c;
    const char *s;
    size_t len, i;
    const json_t *e;
    int rc = 0;
    if (im_imp_get_str (report, "name", &s, &len) != 1)
        return im_imp_refuse (c, where, "report has no name", NULL) ? -1 : 1;
    im_imp_trim (&s, &len);
    if (len == 0 || len > IM_REPORT_TITLE_MAX || !im_imp_utf8_ok (s, len))
        return im_imp_refuse (c, where, "report name is empty, too long or not UTF-8",
                              NULL)
                   ? -1
                   : 1;
    if (json_object_set_new (r->rep, "title", json_stringn (s, len)))
        return -1;
    char desc[IM_DESC_MAX + 8];
    if (im_imp_get_str (report, "description", &s, &len) == 1
        && im_imp_description (c, s, len, desc, &rc) > 0
        && json_object_set_new (r->rep, "description", json_string (desc)))
        return -1;
    int tlp = IM_TLP_NONE;
    json_array_foreach (json_object_get (report, "object_marking_refs"), i, e)
    {
        if (json_is_string (e))
            tlp = im_imp_tlp_max (tlp, im_imp_stix_ref_tlp (defs, json_string_value (e),
                                                            json_string_length (e)));
    }
    if (c->self->tlp_floor != IM_TLP_NONE && tlp < c->self->tlp_floor)
        tlp = c->self->tlp_floor;
    if (tlp != IM_TLP_NONE
        && json_object_set_new (r->rep, "tlp", json_string (im_tlp_name (tlp))))
        return -1;
    json_array_foreach (json_object_get (report, "labels"), i, e)
    {
        if (json_is_string (e)
            && add_name (r, "tags", json_string_value (e), json_string_length (e),
                         IM_TAG_MAX))
            return -1;
    }
    return rc || add_urls (r, r->rep, report, "refs", IM_EXT_ITEMS_MAX, NULL, NULL) ? -1
                                                                                    : 0;
}

/* Keeps no more than IM_EXT_ITEMS_MAX context items and IM_TAGS_MAX tags. */
static void
report_fit (rep_t *r)
{
    static const char *const keys[]
        = { "attack", "actors", "malware", "refs", "mitigations", NULL };
    size_t left = IM_EXT_ITEMS_MAX;
    for (int k = 0; keys[k]; k++) {
        json_t *a = json_object_get (r->rep, keys[k]);
        while (json_array_size (a) > left) {
            json_array_remove (a, json_array_size (a) - 1);
            r->dropped = 1;
        }
        left -= json_array_size (a);
    }
    json_t *tags = json_object_get (r->rep, "tags");
    while (json_array_size (tags) > IM_TAGS_MAX) {
        json_array_remove (tags, json_array_size (tags) - 1);
        r->dropped = 1;
    }
}

/* One report object: a report item, or a refusal. */
static int
one_report (rep_t *r, const json_t *objects, const json_t *report, const json_t *defs)
{
    ctx_t *c = r->c;
    char where[NAME_MAX_BYTES + 64], uuid[IM_ID_STR_SIZE];
    const char *id;
    size_t idlen;
    if (im_imp_get_str (report, "id", &id, &idlen) != 1 || idlen != 8 + IM_ID_STR_SIZE - 1
        || memcmp (id, "report--", 8) || im_imp_parse_uuid (id + 8, idlen - 8, uuid)) {
        snprintf (where, sizeof where, "%s:report", c->name);
        return im_imp_refuse (c, where, "id is not report--UUID", NULL);
    }
    snprintf (where, sizeof where, "%s:report--%s", c->name, uuid);
    r->set = json_object ();
    r->rep = json_pack ("{s:s}", "id", uuid);
    r->members = json_array ();
    r->dropped = 0;
    int rc = r->set && r->rep && r->members ? report_head (r, report, defs, where) : -1;
    if (rc == 0)
        rc = report_set (r, objects, report, id);
    const char *key;
    json_t *v;
    json_object_foreach (r->set, key, v)
    {
        if (rc == 0)
            rc = take (r, key);
    }
    if (rc == 0) {
        report_fit (r);
        json_t *item = json_pack ("{s:O, s:O, s:s}", "report", r->rep, "members",
                                  r->members, "source", where);
        rc = !item || json_array_append_new (c->reports, item) ? -1 : 0;
        if (rc == 0 && r->dropped)
            rc = im_imp_note (c, "report context dropped (too long, not a URL or too "
                                 "many)");
        if (rc == 0)
            rc = im_imp_context (c, "report");
    }
    json_decref (r->set);
    json_decref (r->rep);
    json_decref (r->members);
    return rc < 0 ? im_imp_oom (c) : 0;
}

/* The items made so far, by STIX id: "FILE:indicator--UUID[#N]" sources. */
static json_t *
items_by_stix_id (ctx_t *c)
{
    json_t *made = json_object (), *it;
    size_t i, skip = strlen (c->name) + 1;
    json_array_foreach (c->items, i, it)
    {
        const char *src = json_string_value (json_object_get (it, "source"));
        json_t *id = json_object_get (it, "id");
        if (!made || !src || !id || strlen (src) <= skip)
            continue;
        char key[NAME_MAX_BYTES + 64];
        snprintf (key, sizeof key, "%s", src + skip);
        key[strcspn (key, "#")] = 0;
        json_t *a = json_object_get (made, key);
        if ((!a && json_object_set_new (made, key, a = json_array ()))
            || json_array_append (a, id)) {
            json_decref (made);
            return NULL;
        }
    }
    return made;
}

/* Counts each context object: taken into a report, or skipped. */
static int
count_context (ctx_t *c, const json_t *objects, const json_t *used, const json_t *made)
{
    const json_t *obj;
    size_t i;
    json_array_foreach (objects, i, obj)
    {
        kind_t k = kind_of (obj);
        const char *id = json_string_value (json_object_get (obj, "id"));
        const char *type = json_string_value (json_object_get (obj, "type"));
        char reason[96];
        if (k == K_NONE || k == K_REPORT || (id && json_object_get (made, id)))
            continue;
        if (id && json_object_get (used, id)) {
            if (k == K_REL)
                snprintf (reason, sizeof reason, "relationship (%.40s)",
                          json_string_value (json_object_get (obj, "relationship_type")));
            else
                snprintf (reason, sizeof reason, "%s", type);
            if (im_imp_context (c, reason))
                return -1;
            continue;
        }
        if (k == K_ATTACK && im_imp_get_bool (obj, "x_intelmesh_context", 0) != 1)
            snprintf (reason, sizeof reason,
                      "attack-pattern without a mitre-attack external_id");
        else if (k == K_REL && !rel_is_read (obj))
            snprintf (reason, sizeof reason, "relationship not read (%.40s)",
                      json_is_string (json_object_get (obj, "relationship_type"))
                          ? json_string_value (json_object_get (obj, "relationship_type"))
                          : "?");
        else
            snprintf (reason, sizeof reason, "not an indicator (%s)", type);
        if (im_imp_skip (c, reason))
            return -1;
    }
    return 0;
}

int
im_imp_stix_reports (ctx_t *c, const json_t *objects, const json_t *defs)
{
    json_t *index = json_object (), *used = json_object ();
    json_t *made = items_by_stix_id (c);
    const json_t *obj;
    size_t i;
    int rc = index && used && made ? 0 : -1;
    json_array_foreach (objects, i, obj)
    {
        const char *id = json_string_value (json_object_get (obj, "id"));
        if (rc == 0 && id && json_object_set (index, id, (json_t *)obj))
            rc = -1;
    }
    rep_t r = { c, index, made, used, NULL, NULL, NULL, 0 };
    json_array_foreach (objects, i, obj)
    {
        if (rc == 0 && kind_of (obj) == K_REPORT)
            rc = one_report (&r, objects, obj, defs);
    }
    if (rc == 0)
        rc = count_context (c, objects, used, made);
    json_decref (index);
    json_decref (used);
    json_decref (made);
    return rc ? im_imp_oom (c) : 0;
}
