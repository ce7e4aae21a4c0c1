/* SPDX-License-Identifier: MPL-2.0 */
/* im_export_report.c -- a report as STIX 2.1 objects for `intelmesh export`:
 * the report naming its exported members, its context as attack-pattern,
 * malware, threat-actor and course-of-action objects, and the relationships
 * (uses, mitigates, indicates) between them; or as a MISP event. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "im_export.h"
#include "im_record.h"
#include "im_stix.h"
#include "im_time.h"
#include "im_types.h"
#include "im_util.h"

/* What the objects share: the report's times and marking. */
typedef struct {
    const char *rid; /* the report's export uuid */
    char created[IM_STIX_TIME_SIZE], modified[IM_STIX_TIME_SIZE];
    const char *marking; /* NULL: none */
    json_t *objects;     /* what is written, the report last */
    json_t *refs;        /* the report's object_refs */
    int bad;
} rx_t;

/* A STIX id of TYPE, the same in every export of the report: a version 5
 * UUID of "report:RID/TYPE/NAME". */
static void
ctx_id (const rx_t *x, const char *type, const char *name, char out[IM_STIX_ID_SIZE])
{
    char key[IM_VALUE_MAX + IM_EXT_TEXT_MAX + 128], id[IM_ID_STR_SIZE];
    uint8_t uuid[IM_ID_SIZE];
    int n = snprintf (key, sizeof key, "report:%s/%s/%s", x->rid, type, name);
    im_id_from_name (key, n < (int)sizeof key ? (size_t)n : sizeof key - 1, uuid);
    im_id_format (uuid, id);
    snprintf (out, IM_STIX_ID_SIZE, "%s--%s", type, id);
}

/* A new object of TYPE and ID with the common properties, added to the
 * objects and the report's refs; NULL (x->bad set) when out of memory. */
static json_t *
object_new (rx_t *x, const char *type, const char *id)
{
    json_t *o
        = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "type", type, "spec_version", "2.1",
                     "id", id, "created", x->created, "modified", x->modified);
    if (o && x->marking)
        im_stix_put (o, "object_marking_refs", json_pack ("[s]", x->marking), &x->bad);
    im_stix_append (x->refs, json_string (id), &x->bad);
    if (!o || json_array_append_new (x->objects, o)) {
        x->bad = 1;
        return NULL;
    }
    return o;
}

static void
relationship (rx_t *x, const char *src, const char *type, const char *dst)
{
    char name[2 * IM_STIX_ID_SIZE + 32], id[IM_STIX_ID_SIZE];
    snprintf (name, sizeof name, "%s %s %s", src, type, dst);
    ctx_id (x, "relationship", name, id);
    json_t *o = object_new (x, "relationship", id);
    if (o) {
        im_stix_put (o, "relationship_type", json_string (type), &x->bad);
        im_stix_put (o, "source_ref", json_string (src), &x->bad);
        im_stix_put (o, "target_ref", json_string (dst), &x->bad);
    }
}

/* The external references of URLS (an array of strings), or NULL if none. */
static json_t *
url_refs (const json_t *urls, int *bad)
{
    if (!json_array_size (urls))
        return NULL;
    json_t *a = json_array (), *u;
    size_t i;
    json_array_foreach ((json_t *)urls, i, u)
        im_stix_append (a, json_pack ("{s:s, s:O}", "source_name", "url", "url", u), bad);
    return a;
}

/* The context objects of R: each named thing once, ids in the arrays of
 * CTX ("attack", "malware", "actors", "coa"). */
static void
context_objects (rx_t *x, const json_t *r, json_t *ctx)
{
    char id[IM_STIX_ID_SIZE];
    const json_t *e;
    size_t i;
    json_array_foreach (json_object_get (r, "attack"), i, e)
    {
        const char *t = json_string_value (e);
        ctx_id (x, "attack-pattern", t, id);
        json_t *o = object_new (x, "attack-pattern", id);
        im_stix_put (o, "name", json_string (t), &x->bad);
        im_stix_put (
            o, "external_references",
            json_pack ("[{s:s, s:s}]", "source_name", "mitre-attack", "external_id", t),
            &x->bad);
        im_stix_put (o, "x_intelmesh_context", json_true (), &x->bad);
        im_stix_append (json_object_get (ctx, "attack"), json_string (id), &x->bad);
    }
    json_array_foreach (json_object_get (r, "tags"), i, e)
    {
        const char *t = json_string_value (e);
        if (strncmp (t, "attack-pattern:", 15) != 0 || !t[15])
            continue;
        ctx_id (x, "attack-pattern", t, id);
        json_t *o = object_new (x, "attack-pattern", id);
        im_stix_put (o, "name", json_string (t + 15), &x->bad);
        im_stix_put (o, "x_intelmesh_context", json_true (), &x->bad);
        im_stix_append (json_object_get (ctx, "attack"), json_string (id), &x->bad);
    }
    static const char *const named[][3]
        = { { "malware", "malware", "malware" }, { "actors", "threat-actor", "actors" } };
    for (int k = 0; k < 2; k++)
        json_array_foreach (json_object_get (r, named[k][0]), i, e)
        {
            ctx_id (x, named[k][1], json_string_value (e), id);
            json_t *o = object_new (x, named[k][1], id);
            im_stix_put (o, "name", json_copy ((json_t *)e), &x->bad);
            if (k == 0)
                im_stix_put (o, "is_family", json_true (), &x->bad);
            im_stix_append (json_object_get (ctx, named[k][2]), json_string (id),
                            &x->bad);
        }
    json_array_foreach (json_object_get (r, "mitigations"), i, e)
    {
        const char *text = json_string_value (json_object_get (e, "text"));
        char name[IM_EXT_NAME_MAX + 1];
        size_t n = strcspn (text, "\n");
        if (n > IM_EXT_NAME_MAX) {
            n = IM_EXT_NAME_MAX;
            while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
                n--;
        }
        snprintf (name, sizeof name, "%.*s", (int)n, text);
        ctx_id (x, "course-of-action", text, id);
        json_t *o = object_new (x, "course-of-action", id);
        im_stix_put (o, "name", json_string (name), &x->bad);
        im_stix_put (o, "description", json_string (text), &x->bad);
        json_t *refs = url_refs (json_object_get (e, "refs"), &x->bad);
        if (refs)
            im_stix_put (o, "external_references", refs, &x->bad);
        im_stix_append (json_object_get (ctx, "coa"), json_string (id), &x->bad);
    }
}

/* The STIX id a member record (its JSON form) has in the export. */
static int
member_id (const json_t *m, char out[IM_STIX_ID_SIZE])
{
    uint8_t origin[IM_NODE_ID_SIZE], id[IM_ID_SIZE];
    char text[IM_ID_STR_SIZE];
    int type = im_type_parse (json_string_value (json_object_get (m, "type")));
    if (type < 0
        || im_node_parse (json_string_value (json_object_get (m, "origin")), origin)
        || im_id_parse (json_string_value (json_object_get (m, "id")), id))
        return -1;
    im_id_export (origin, id, id);
    im_id_format (id, text);
    const char *stix = im_type_info (type)->stix_object;
    snprintf (out, IM_STIX_ID_SIZE, "%s--%s", stix ? stix : "indicator", text);
    return 0;
}

/* The relationships: the first actor uses each malware and attack pattern,
 * each course of action mitigates each attack pattern, each member indicates
 * the first actor (else the first malware, else the first attack pattern). */
static void
relationships (rx_t *x, const json_t *ctx, const json_t *members)
{
    const json_t *attack = json_object_get (ctx, "attack"), *e, *f;
    const json_t *malware = json_object_get (ctx, "malware");
    const char *actor
        = json_string_value (json_array_get (json_object_get (ctx, "actors"), 0));
    size_t i, j;
    if (actor) {
        json_array_foreach ((json_t *)malware, i, e)
            relationship (x, actor, "uses", json_string_value (e));
        json_array_foreach ((json_t *)attack, i, e)
            relationship (x, actor, "uses", json_string_value (e));
    }
    json_array_foreach (json_object_get (ctx, "coa"), i, e)
        json_array_foreach ((json_t *)attack, j, f)
            relationship (x, json_string_value (e), "mitigates", json_string_value (f));
    const char *target = actor ? actor
                         : json_array_size (malware)
                             ? json_string_value (json_array_get (malware, 0))
                             : json_string_value (json_array_get (attack, 0));
    char id[IM_STIX_ID_SIZE];
    json_array_foreach ((json_t *)members, i, e)
    {
        if (target && member_id (e, id) == 0 && strncmp (id, "indicator--", 11) == 0)
            relationship (x, id, "indicates", target);
    }
}

json_t *
im_export_stix_report (const json_t *r, const json_t *members)
{
    uint8_t origin[IM_NODE_ID_SIZE], id[IM_ID_SIZE];
    char rid[IM_ID_STR_SIZE], sid[IM_STIX_ID_SIZE];
    int64_t created, modified;
    int tlp = im_tlp_parse (json_string_value (json_object_get (r, "tlp")));
    if (im_node_parse (json_string_value (json_object_get (r, "origin")), origin)
        || im_id_parse (json_string_value (json_object_get (r, "id")), id)
        || im_time_parse (json_string_value (json_object_get (r, "created")), 0, &created)
        || im_time_parse (json_string_value (json_object_get (r, "modified")), 0,
                          &modified)
        || !json_is_string (json_object_get (r, "value"))) {
        errno = EINVAL;
        return NULL;
    }
    im_id_export (origin, id, id);
    im_id_format (id, rid);
    rx_t x = { .rid = rid, .marking = tlp >= 0 ? im_stix_marking_id (tlp) : NULL };
    im_stix_time (created, x.created);
    im_stix_time (modified, x.modified);
    x.objects = json_array ();
    x.refs = json_array ();
    json_t *ctx
        = json_pack ("{s:[], s:[], s:[], s:[]}", "attack", "malware", "actors", "coa");
    const json_t *e;
    size_t i;
    json_array_foreach ((json_t *)members, i, e)
    {
        if (member_id (e, sid) == 0)
            im_stix_append (x.refs, json_string (sid), &x.bad);
    }
    if (ctx && x.objects && x.refs) {
        context_objects (&x, r, ctx);
        relationships (&x, ctx, members);
    }
    snprintf (sid, sizeof sid, "report--%s", rid);
    json_t *o = json_array_size (x.refs) ? object_new (&x, "report", sid) : NULL;
    if (o) {
        json_array_remove (x.refs, json_array_size (x.refs) - 1); /* itself */
        im_stix_put (o, "name", json_copy (json_object_get (r, "value")), &x.bad);
        const char *d = json_string_value (json_object_get (r, "description"));
        if (d && *d)
            im_stix_put (o, "description", json_string (d), &x.bad);
        im_stix_put (o, "published", json_string (x.created), &x.bad);
        im_stix_put (o, "report_types", json_pack ("[s]", "threat-report"), &x.bad);
        json_t *labels = json_array ();
        json_array_foreach (json_object_get (r, "tags"), i, e)
        {
            if (strncmp (json_string_value (e), "attack-pattern:", 15) != 0)
                im_stix_append (labels, json_copy ((json_t *)e), &x.bad);
        }
        if (json_array_size (labels))
            im_stix_put (o, "labels", labels, &x.bad);
        else
            json_decref (labels);
        json_t *refs = url_refs (json_object_get (r, "refs"), &x.bad);
        if (refs)
            im_stix_put (o, "external_references", refs, &x.bad);
        im_stix_put (o, "object_refs", json_incref (x.refs), &x.bad);
    }
    json_decref (ctx);
    json_decref (x.refs);
    if (x.bad || !ctx) {
        json_decref (x.objects);
        errno = ENOMEM;
        return NULL;
    }
    return x.objects;
}

/* --- MISP ---------------------------------------------------------------- */

/* A galaxy of TYPE (NAME) whose clusters are the strings of VALUES (an ATT&CK
 * technique also as its external_id), appended to GALAXIES. */
static void
misp_galaxy (json_t *galaxies, const char *type, const char *name, const json_t *values,
             int *bad)
{
    if (!json_array_size (values))
        return;
    json_t *clusters = json_array (), *e;
    size_t i;
    json_array_foreach ((json_t *)values, i, e)
    {
        const char *v = json_string_value (e);
        char tag[IM_EXT_NAME_MAX + 64];
        snprintf (tag, sizeof tag, "misp-galaxy:%s=\"%s\"", type, v);
        json_t *c
            = json_pack ("{s:s, s:s, s:s}", "type", type, "value", v, "tag_name", tag);
        if (c && strcmp (type, "mitre-attack-pattern") == 0)
            im_stix_put (c, "meta", json_pack ("{s:[s]}", "external_id", v), bad);
        im_stix_append (clusters, c, bad);
    }
    im_stix_append (galaxies,
                    json_pack ("{s:s, s:s, s:o}", "type", type, "name", name,
                               "GalaxyCluster", clusters),
                    bad);
}

json_t *
im_export_misp_event (const json_t *r, json_t *attributes, const char *tlp_tag)
{
    int64_t created, modified;
    const char *rid = json_string_value (json_object_get (r, "id"));
    const char *title = json_string_value (json_object_get (r, "value"));
    int bad = 0;
    if (!rid || !title
        || im_time_parse (json_string_value (json_object_get (r, "created")), 0, &created)
        || im_time_parse (json_string_value (json_object_get (r, "modified")), 0,
                          &modified)) {
        json_decref (attributes);
        errno = EINVAL;
        return NULL;
    }
    char date[IM_TIME_STR_SIZE], stamp[24];
    im_time_format (created, date);
    date[10] = '\0'; /* YYYY-MM-DD */
    snprintf (stamp, sizeof stamp, "%lld", (long long)modified);
    json_t *ev
        = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "uuid", rid, "info",
                     title, "date", date, "timestamp", stamp, "distribution", "1",
                     "threat_level_id", "4", "analysis", "2", "published", 0);
    json_t *tags = json_array (), *galaxies = json_array (), *e;
    size_t i;
    if (tlp_tag)
        im_stix_append (tags, json_pack ("{s:s}", "name", tlp_tag), &bad);
    json_array_foreach (json_object_get (r, "tags"), i, e)
    {
        const char *t = json_string_value (e);
        if (strncasecmp (t, "tlp:", 4) && strncasecmp (t, "intelmesh:", 10))
            im_stix_append (tags, json_pack ("{s:s}", "name", t), &bad);
    }
    misp_galaxy (galaxies, "mitre-attack-pattern", "Attack Pattern",
                 json_object_get (r, "attack"), &bad);
    misp_galaxy (galaxies, "threat-actor", "Threat Actor", json_object_get (r, "actors"),
                 &bad);
    misp_galaxy (galaxies, "mitre-malware", "Malware", json_object_get (r, "malware"),
                 &bad);
    json_array_foreach (json_object_get (r, "refs"), i, e)
    {
        char key[IM_EXT_URL_MAX + IM_ID_STR_SIZE + 16], id[IM_ID_STR_SIZE];
        uint8_t uuid[IM_ID_SIZE];
        int n
            = snprintf (key, sizeof key, "report:%s/link/%s", rid, json_string_value (e));
        im_id_from_name (key, n < (int)sizeof key ? (size_t)n : sizeof key - 1, uuid);
        im_id_format (uuid, id);
        im_stix_append (attributes,
                        json_pack ("{s:s, s:s, s:s, s:O, s:b, s:s, s:s}", "uuid", id,
                                   "type", "link", "category", "External analysis",
                                   "value", e, "to_ids", 0, "distribution", "5",
                                   "timestamp", stamp),
                        &bad);
    }
    im_stix_put (ev, "Tag", tags, &bad);
    im_stix_put (ev, "Galaxy", galaxies, &bad);
    im_stix_put (ev, "Attribute", attributes, &bad);
    if (bad || !ev) {
        json_decref (ev);
        errno = ENOMEM;
        return NULL;
    }
    return ev;
}

int
im_export_misp_unique (json_t **seen, json_t *attr, const char *report)
{
    const char *uuid = json_string_value (json_object_get (attr, "uuid"));
    if (!*seen && !(*seen = json_object ()))
        return -1;
    if (!uuid)
        return 0;
    if (json_object_get (*seen, uuid) && report) {
        char name[2 * IM_ID_STR_SIZE + 16], text[IM_ID_STR_SIZE];
        uint8_t id[IM_ID_SIZE];
        snprintf (name, sizeof name, "member %s %s", report, uuid);
        im_id_from_name (name, strlen (name), id);
        im_id_format (id, text);
        if (json_object_set_new (attr, "uuid", json_string (text)))
            return -1;
        uuid = json_string_value (json_object_get (attr, "uuid"));
    }
    return json_object_set_new (*seen, uuid, json_true ());
}
