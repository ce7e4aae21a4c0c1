/* SPDX-License-Identifier: MPL-2.0 */
/* im_taxii_query.c -- what a TAXII request asks, read from its Accept header
 * and its URL's query (added_after, limit, next, match[type], match[id],
 * match[version], match[spec_version]): pure functions, no I/O. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "im_taxii_int.h"
#include "im_time.h"
#include "im_util.h"

int
taxii_time_parse (const char *text, int64_t *ms)
{
    char whole[IM_TIME_STR_SIZE + 8];
    size_t n = text ? strlen (text) : 0;
    const char *dot = text ? strchr (text, '.') : NULL;
    int64_t frac = 0;
    if (n < 20 || n >= sizeof whole || text[10] != 'T') {
        errno = EINVAL;
        return -1;
    }
    /* The fraction (to the millisecond) is cut out; the rest is RFC 3339. */
    if (dot) {
        const char *p = dot + 1;
        int digits = 0;
        for (; isdigit ((unsigned char)*p); p++, digits++)
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
        for (; digits > 0 && digits < 3; digits++)
            frac *= 10;
        if (p == dot + 1) {
            errno = EINVAL;
            return -1;
        }
        snprintf (whole, sizeof whole, "%.*s%s", (int)(dot - text), text, p);
    }
    else
        snprintf (whole, sizeof whole, "%s", text);
    int64_t t;
    if (im_time_parse (whole, 0, &t) || t < 0) {
        errno = EINVAL;
        return -1;
    }
    *ms = t * 1000 + frac;
    return 0;
}

int
taxii_accepts (const char *accept)
{
    static const char media[] = "application/taxii+json";
    const char *p = accept;
    while (p && *p) {
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t)(end - p) : strlen (p);
        char item[128];
        size_t o = 0;
        for (size_t i = 0; i < len && o + 1 < sizeof item; i++)
            if (p[i] != ' ' && p[i] != '\t')
                item[o++] = (char)tolower ((unsigned char)p[i]);
        item[o] = 0;
        size_t m = sizeof media - 1;
        if (strncmp (item, media, m) == 0
            && (item[m] == 0 || strcmp (item + m, ";version=2.1") == 0))
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* Calls FN for each comma-separated value of LIST (at most TAXII_MATCH_MAX,
 * each shorter than TAXII_ID_SIZE). Returns 0 or -1 (EINVAL). */
static int
each_value (const char *list, int (*fn) (const char *v, void *arg), void *arg)
{
    size_t n = 0;
    for (const char *p = list; p;) {
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t)(end - p) : strlen (p);
        char v[TAXII_ID_SIZE];
        if (len == 0 || len >= sizeof v || ++n > TAXII_MATCH_MAX) {
            errno = EINVAL;
            return -1;
        }
        snprintf (v, sizeof v, "%.*s", (int)len, p);
        if (fn (v, arg))
            return -1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static int
type_fn (const char *v, void *arg)
{
    if (strcmp (v, "indicator") == 0)
        *(int *)arg = 1;
    return 0;
}

static int
spec_fn (const char *v, void *arg)
{
    if (strcmp (v, "2.1") == 0)
        *(int *)arg = 1;
    return 0;
}

static int
id_fn (const char *v, void *arg)
{
    taxii_query_t *q = arg;
    snprintf (q->ids[q->nids++], TAXII_ID_SIZE, "%s", v);
    return 0;
}

/* "first", "last" and "all" are the one version held; times pick it when
 * it is one of them. */
static int
version_fn (const char *v, void *arg)
{
    taxii_query_t *q = arg;
    if (strcmp (v, "first") == 0 || strcmp (v, "last") == 0 || strcmp (v, "all") == 0)
        q->versions[q->nversions++] = -1;
    else if (taxii_time_parse (v, &q->versions[q->nversions++]))
        return -1;
    return 0;
}

int
taxii_query_parse (taxii_query_t *q, const char *added_after, const char *limit,
                   const char *next, const char *type, const char *id,
                   const char *version, const char *spec_version, char *err, size_t errsz)
{
    memset (q, 0, sizeof *q);
    q->added_after_ms = -1;
    q->limit = TAXII_LIMIT_DEFAULT;
    char *end;
    if (added_after && taxii_time_parse (added_after, &q->added_after_ms))
        return im_fail (EINVAL, err, errsz, "added_after '%.40s' is not a timestamp",
                        added_after);
    if (limit) {
        errno = 0;
        unsigned long long v = strtoull (limit, &end, 10);
        if (errno || end == limit || *end || v == 0 || *limit == '-')
            return im_fail (EINVAL, err, errsz, "limit '%.40s' is not a number above 0",
                            limit);
        q->limit = v > TAXII_LIMIT_MAX ? TAXII_LIMIT_MAX : (size_t)v;
    }
    if (next) {
        errno = 0;
        unsigned long long v = strtoull (next, &end, 10);
        if (errno || end == next || *end || *next == '-' || v == UINT64_MAX)
            return im_fail (EINVAL, err, errsz,
                            "next '%.40s' is not one this server gave", next);
        q->next = v;
    }
    int has_type = 0, has_spec = 0;
    if (type && each_value (type, type_fn, &has_type))
        return im_fail (EINVAL, err, errsz, "match[type]: too many or too long values");
    if (spec_version && each_value (spec_version, spec_fn, &has_spec))
        return im_fail (EINVAL, err, errsz,
                        "match[spec_version]: too many or too long values");
    q->no_type = (type && !has_type) || (spec_version && !has_spec);
    if (id && each_value (id, id_fn, q))
        return im_fail (EINVAL, err, errsz, "match[id]: too many or too long values");
    if (version && each_value (version, version_fn, q))
        return im_fail (EINVAL, err, errsz,
                        "match[version]: give first, last, all or timestamps");
    /* "last", "first" or "all" among them: any version. */
    for (size_t i = 0; i < q->nversions; i++)
        if (q->versions[i] < 0)
            q->nversions = 0;
    return 0;
}
