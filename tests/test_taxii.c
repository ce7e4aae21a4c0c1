/* SPDX-License-Identifier: MPL-2.0 */
/* test_taxii.c -- unit tests for the TAXII server's pure parts
 * (node/im_taxii_query.c): the Accept header, timestamps with fractions, and
 * the query's values, good and bad; and the client key hash (lib). */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "im_config.h"
#include "im_taxii_int.h"
#include "tap.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

static const struct {
    const char *accept;
    int ok;
} accepts[] = {
    { "application/taxii+json;version=2.1", 1 },
    { "application/taxii+json; version=2.1", 1 },
    { "application/json, application/taxii+json", 1 },
    { "Application/TAXII+JSON;Version=2.1", 1 },
    { "application/taxii+json;version=2.0", 0 },
    { "application/json", 0 },
    { "*/*", 0 },
    { "", 0 },
    { NULL, 0 },
};

static const struct {
    const char *text;
    int64_t ms; /* -1: refused */
} times[] = {
    { "2026-11-23T10:00:00Z", INT64_C (1795428000000) },
    { "2026-11-23T10:00:00.5Z", INT64_C (1795428000500) },
    { "2026-11-23T10:00:00.123456Z", INT64_C (1795428000123) },
    { "2026-11-23", -1 },
    { "2026-11-23T10:00:00.Z", -1 },
    { "yesterday", -1 },
    { "", -1 },
};

int
main (void)
{
    for (size_t i = 0; i < COUNT (accepts); i++)
        ok (taxii_accepts (accepts[i].accept) == accepts[i].ok, "Accept '%s' is %s",
            accepts[i].accept ? accepts[i].accept : "(none)",
            accepts[i].ok ? "taken" : "refused (406)");
    for (size_t i = 0; i < COUNT (times); i++) {
        int64_t ms = 0;
        int rc = taxii_time_parse (times[i].text, &ms);
        ok (times[i].ms < 0 ? rc == -1 && errno == EINVAL : rc == 0 && ms == times[i].ms,
            "timestamp '%s' %s", times[i].text,
            times[i].ms < 0 ? "is refused" : "is read to the millisecond");
    }
    taxii_query_t q;
    char err[256];
    ok (taxii_query_parse (&q, NULL, NULL, NULL, NULL, NULL, NULL, NULL, err, sizeof err)
                == 0
            && q.limit == TAXII_LIMIT_DEFAULT && q.added_after_ms == -1 && q.next == 0,
        "no query: the default limit, no added_after, from the start");
    ok (taxii_query_parse (&q, NULL, "5000", "42", "malware,indicator", "a,b", "last",
                           "2.1", err, sizeof err)
                == 0
            && q.limit == TAXII_LIMIT_MAX && q.next == 42 && !q.no_type && q.nids == 2
            && q.nversions == 0,
        "limit above the most is cut to it; next, types, ids, version 'last' read");
    ok (taxii_query_parse (&q, NULL, NULL, NULL, "malware", NULL, NULL, NULL, err,
                           sizeof err)
                == 0
            && q.no_type,
        "match[type] without indicator matches nothing");
    ok (taxii_query_parse (&q, NULL, NULL, NULL, NULL, NULL, NULL, "2.0", err, sizeof err)
                == 0
            && q.no_type,
        "match[spec_version]=2.0 matches nothing");
    const char *bad[][3]
        = { { "limit", "0", NULL },        { "limit", "-3", NULL },
            { "limit", "x", NULL },        { "next", "abc", NULL },
            { "next", "-1", NULL },        { "added_after", "now", NULL },
            { "version", "newest", NULL }, { "id", "a,,b", NULL } };
    for (size_t i = 0; i < COUNT (bad); i++) {
        const char *k = bad[i][0], *v = bad[i][1];
        int rc = taxii_query_parse (
            &q, strcmp (k, "added_after") ? NULL : v, strcmp (k, "limit") ? NULL : v,
            strcmp (k, "next") ? NULL : v, NULL, strcmp (k, "id") ? NULL : v,
            strcmp (k, "version") ? NULL : v, NULL, err, sizeof err);
        ok (rc == -1 && errno == EINVAL && *err, "%s=%s is refused (400): %s", k, v, err);
    }
    uint8_t key[IM_TAXII_KEY_SIZE] = { 1 }, h1[32], h2[32];
    im_taxii_key_hash (key, h1);
    key[31] ^= 1;
    im_taxii_key_hash (key, h2);
    ok (memcmp (h1, h2, 32) != 0 && memcmp (h1, key, 32) != 0,
        "the key hash changes with the key and is not the key");
    return done_testing ();
}
