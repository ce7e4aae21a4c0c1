/* SPDX-License-Identifier: MPL-2.0 */
/* im_import_misp_report.c -- a MISP event as a report for the importer: its
 * info as the title, its uuid as the id, its tags and galaxies (ATT&CK
 * techniques, threat actors, malware), its link attributes as references and
 * its imported attributes as members. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "im_import.h"
#include "im_import_int.h"
#include "im_record.h"
#include "im_report.h"

static int
add (json_t *rep, const char *key, const char *s, size_t len, size_t max)
{
    return im_imp_report_add (rep, key, s, len, max) < 0 ? -1 : 0;
}

/* A galaxy cluster VALUE (LEN bytes) of galaxy TYPE into REP: an ATT&CK
 * technique ("Name - T1566.001", or EXTID), an actor or a malware name. */
static int
cluster (json_t *rep, const char *type, const char *v, size_t len, const char *extid)
{
    const char *dash = NULL;
    for (size_t i = 0; i + 3 < len; i++)
        if (memcmp (v + i, " - ", 3) == 0)
            dash = v + i;
    if (strcmp (type, "mitre-attack-pattern") == 0) {
        const char *t = extid ? extid : dash ? dash + 3 : NULL;
        return t && (*t == 'T' || *t == 't') ? add (
                   rep, "attack", t, extid ? strlen (t) : len - (size_t)(t - v), 16)
                                             : 0;
    }
    size_t n = dash ? (size_t)(dash - v) : len;
    if (strcmp (type, "threat-actor") == 0 || strcmp (type, "mitre-intrusion-set") == 0)
        return add (rep, "actors", v, n, IM_EXT_NAME_MAX);
    if (strcmp (type, "mitre-malware") == 0 || strcmp (type, "mitre-tool") == 0
        || strcmp (type, "malpedia") == 0 || strcmp (type, "tool") == 0)
        return add (rep, "malware", v, n, IM_EXT_NAME_MAX);
    return 1; /* not read */
}

/* The event's tags: galaxy tags misp-galaxy:TYPE="VALUE" as clusters, plain
 * tags as tags. */
static int
event_tags (ctx_t *c, json_t *rep, const json_t *event)
{
    const json_t *t;
    size_t i;
    json_array_foreach (json_object_get (event, "Tag"), i, t)
    {
        const char *name = json_string_value (json_object_get (t, "name"));
        if (!name || strncasecmp (name, "tlp:", 4) == 0
            || strncasecmp (name, "intelmesh:", 10) == 0)
            continue;
        const char *eq = strstr (name, "=\""), *end = name + strlen (name);
        if (strncmp (name, "misp-galaxy:", 12) == 0 && eq && end[-1] == '"'
            && end - 1 > eq + 2) {
            char type[64];
            snprintf (type, sizeof type, "%.*s", (int)(eq - name - 12), name + 12);
            int r = cluster (rep, type, eq + 2, (size_t)(end - 1 - eq - 2), NULL);
            if (r < 0 || (r == 0 && im_imp_context (c, "galaxy tag")))
                return -1;
            if (r == 0)
                continue;
        }
        if (add (rep, "tags", name, strlen (name), IM_TAG_MAX))
            return -1;
    }
    return 0;
}

/* The event's Galaxy array: clusters of the galaxies read. */
static int
event_galaxies (ctx_t *c, json_t *rep, const json_t *event)
{
    const json_t *g, *cl;
    size_t i, j;
    json_array_foreach (json_object_get (event, "Galaxy"), i, g)
    {
        const char *type = json_string_value (json_object_get (g, "type"));
        json_array_foreach (json_object_get (g, "GalaxyCluster"), j, cl)
        {
            const char *v = json_string_value (json_object_get (cl, "value"));
            const json_t *ext
                = json_object_get (json_object_get (cl, "meta"), "external_id");
            const char *extid = json_is_array (ext)
                                    ? json_string_value (json_array_get (ext, 0))
                                    : json_string_value (ext);
            if (!type || !v)
                continue;
            int r = cluster (rep, type, v, strlen (v), extid);
            char kind[96];
            snprintf (kind, sizeof kind, "galaxy (%.64s)", type);
            if (r < 0 || (r == 0 && im_imp_context (c, kind)))
                return -1;
        }
    }
    return 0;
}

int
im_imp_misp_report (ctx_t *c, const json_t *event, size_t from, int tlp,
                    const char *where)
{
    const char *s;
    size_t len, i;
    char uuid[IM_ID_STR_SIZE];
    if (im_imp_get_str (event, "uuid", &s, &len) != 1 || im_imp_parse_uuid (s, len, uuid))
        return im_imp_skip (c, "event without a uuid: no report");
    if (im_imp_get_str (event, "info", &s, &len) != 1)
        return im_imp_skip (c, "event without info: no report");
    im_imp_trim (&s, &len);
    if (len == 0 || len > IM_REPORT_TITLE_MAX || !im_imp_utf8_ok (s, len))
        return im_imp_skip (c, "event info empty or too long: no report");
    json_t *rep = json_pack ("{s:s, s:s%}", "id", uuid, "title", s, len);
    json_t *members = json_array (), *a;
    int rc = rep && members ? 0 : -1;
    if (c->self->tlp_floor != IM_TLP_NONE && tlp < c->self->tlp_floor)
        tlp = c->self->tlp_floor;
    if (rc == 0 && tlp != IM_TLP_NONE)
        rc = json_object_set_new (rep, "tlp", json_string (im_tlp_name (tlp)));
    if (rc == 0)
        rc = event_tags (c, rep, event) || event_galaxies (c, rep, event) ? -1 : 0;
    json_array_foreach (json_object_get (event, "Attribute"), i, a)
    {
        const char *type = json_string_value (json_object_get (a, "type"));
        const char *v = json_string_value (json_object_get (a, "value"));
        if (rc == 0 && type && v && strcmp (type, "link") == 0
            && (strncmp (v, "http://", 7) == 0 || strncmp (v, "https://", 8) == 0))
            rc = add (rep, "refs", v, strlen (v), IM_EXT_URL_MAX)
                 || im_imp_context (c, "attribute (link)");
    }
    for (i = from; rc == 0 && i < json_array_size (c->items); i++) {
        json_t *it = json_array_get (c->items, i), *id = json_object_get (it, "id");
        if (id && !json_object_get (it, "revoke"))
            rc = json_array_append (members, id);
    }
    json_t *item = rc == 0 ? json_pack ("{s:O, s:O, s:s}", "report", rep, "members",
                                        members, "source", where)
                           : NULL;
    if (!item || json_array_append_new (c->reports, item) || im_imp_context (c, "event"))
        rc = -1;
    json_decref (rep);
    json_decref (members);
    return rc ? im_imp_oom (c) : 0;
}
