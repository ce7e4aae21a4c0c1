/* SPDX-License-Identifier: MPL-2.0 */
/* im_report.c -- a report as the control socket gives it (title, marking and
 * context, SPEC.md "Reports"), and the value of member records. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "im_report.h"
#include "im_util.h"

/* Adds the strings of the array NAME of OBJ as items of KEY. */
static int
json_items (im_record_t *self, const json_t *obj, const char *name, int key, char *err,
            size_t errsz)
{
    const json_t *v = json_object_get (obj, name), *e;
    size_t i;
    if (!v || json_is_null (v))
        return 0;
    if (!json_is_array (v))
        return im_fail (EINVAL, err, errsz, "%s: not an array of strings", name);
    json_array_foreach (v, i, e)
    {
        if (!json_is_string (e))
            return im_fail (EINVAL, err, errsz, "%s: not an array of strings", name);
        char up[16];
        const char *s = json_string_value (e);
        size_t n = json_string_length (e);
        if (key == IM_EXT_ATTACK && n < sizeof up) {
            for (size_t j = 0; j <= n; j++)
                up[j] = (char)toupper ((unsigned char)s[j]);
            s = up;
        }
        if (im_record_add_ext (self, key, s, n, err, errsz))
            return -1;
    }
    return 0;
}

/* Adds the mitigations of OBJ: {"text", "refs"} objects or plain texts. */
static int
json_mitigations (im_record_t *self, const json_t *obj, char *err, size_t errsz)
{
    const json_t *v = json_object_get (obj, "mitigations"), *e;
    size_t i;
    if (!v || json_is_null (v))
        return 0;
    if (!json_is_array (v))
        return im_fail (EINVAL, err, errsz, "mitigations: not an array");
    json_array_foreach (v, i, e)
    {
        const json_t *text = json_is_string (e) ? e : json_object_get (e, "text");
        const json_t *refs = json_is_object (e) ? json_object_get (e, "refs") : NULL;
        const char *urls[IM_EXT_MIT_REFS_MAX];
        size_t n = refs ? json_array_size (refs) : 0;
        if (!json_is_string (text) || (refs && !json_is_array (refs)))
            return im_fail (EINVAL, err, errsz,
                            "mitigations: each is a text or {\"text\", \"refs\"}");
        if (n > IM_EXT_MIT_REFS_MAX)
            return im_fail (EINVAL, err, errsz, "mitigations: more than %d references",
                            IM_EXT_MIT_REFS_MAX);
        for (size_t j = 0; j < n; j++)
            if (!(urls[j] = json_string_value (json_array_get (refs, j))))
                return im_fail (EINVAL, err, errsz,
                                "mitigations: refs is not an array of strings");
        uint8_t
            data[2 + IM_EXT_TEXT_MAX + 1 + IM_EXT_MIT_REFS_MAX * (2 + IM_EXT_URL_MAX)];
        size_t len;
        if (im_ext_mitigation (json_string_value (text), urls, n, data, sizeof data, &len,
                               err, errsz)
            || im_record_add_ext (self, IM_EXT_MITIGATION, data, len, err, errsz))
            return -1;
    }
    return 0;
}

int
im_report_from_json (im_record_t *self, const json_t *obj, int64_t now, char *err,
                     size_t errsz)
{
    static const char *const ext_keys[]
        = { "title", "attack", "actors", "malware", "refs", "mitigations", "id", NULL };
    char title[IM_VALUE_MAX + 1], why[256];
    const json_t *t = json_object_get (obj, "title");
    if (!self || !json_is_object (obj))
        return im_fail (EINVAL, err, errsz, "report: not a JSON object");
    if (json_object_get (obj, "type") || json_object_get (obj, "value"))
        return im_fail (EINVAL, err, errsz, "report: give a title, not a type or value");
    if (!json_is_string (t) || json_string_length (t) > IM_VALUE_MAX
        || strlen (json_string_value (t)) != json_string_length (t))
        return im_fail (EINVAL, err, errsz, "title: missing or not a string");
    const char *a = json_string_value (t), *b = a + json_string_length (t);
    while (a < b && isspace ((unsigned char)*a))
        a++;
    while (b > a && isspace ((unsigned char)b[-1]))
        b--;
    memcpy (title, a, (size_t)(b - a));
    title[b - a] = 0;
    char canon[IM_VALUE_MAX + 1];
    if (im_ioc_normalise (IM_TYPE_REPORT, title, canon, sizeof canon, why, sizeof why))
        return im_fail (EINVAL, err, errsz, "title: %s", why);
    json_t *copy = json_copy ((json_t *)obj);
    for (int i = 0; copy && ext_keys[i]; i++)
        json_object_del (copy, ext_keys[i]);
    if (!copy || json_object_set_new (copy, "type", json_string ("filename"))
        || json_object_set_new (copy, "value", json_string ("report"))) {
        json_decref (copy);
        return im_fail (ENOMEM, err, errsz, "out of memory");
    }
    int rc = im_record_from_json (self, copy, now, err, errsz);
    json_decref (copy);
    if (rc)
        return -1;
    self->type = IM_TYPE_REPORT;
    strcpy (self->value, canon);
    self->next = self->ext_len = 0;
    if (json_items (self, obj, "attack", IM_EXT_ATTACK, err, errsz)
        || json_items (self, obj, "actors", IM_EXT_ACTOR, err, errsz)
        || json_items (self, obj, "malware", IM_EXT_MALWARE, err, errsz)
        || json_items (self, obj, "refs", IM_EXT_REF, err, errsz)
        || json_mitigations (self, obj, err, errsz)) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

void
im_member_value (const uint8_t origin[IM_NODE_ID_SIZE],
                 const uint8_t indicator[IM_ID_SIZE], const uint8_t report[IM_ID_SIZE],
                 char out[IM_MEMBER_VALUE_SIZE])
{
    char node[IM_NODE_HEX_SIZE], ind[IM_ID_STR_SIZE], rep[IM_ID_STR_SIZE];
    im_node_format (origin, node);
    im_id_format (indicator, ind);
    im_id_format (report, rep);
    snprintf (out, IM_MEMBER_VALUE_SIZE, "%s/%s %s", node, ind, rep);
}

int
im_member_parse (const char *value, uint8_t origin[IM_NODE_ID_SIZE],
                 uint8_t indicator[IM_ID_SIZE], uint8_t report[IM_ID_SIZE])
{
    char node[IM_NODE_HEX_SIZE], ind[IM_ID_STR_SIZE], rep[IM_ID_STR_SIZE];
    if (!value || strlen (value) != IM_MEMBER_VALUE_SIZE - 1 || value[64] != '/'
        || value[101] != ' ') {
        errno = EINVAL;
        return -1;
    }
    memcpy (node, value, 64);
    node[64] = 0;
    memcpy (ind, value + 65, 36);
    ind[36] = 0;
    memcpy (rep, value + 102, 36);
    rep[36] = 0;
    if (im_node_parse (node, origin) || im_id_parse (ind, indicator)
        || im_id_parse (rep, report)) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}
