/* SPDX-License-Identifier: MPL-2.0 */
/* test_types.c -- unit tests for proto/im_types.c, the table of indicator
 * types: every row complete and consistent with im_ioc, and the look-ups by
 * STIX path, MISP type and hash length that the importers use. Prints TAP. */

#include <string.h>

#include "im_ioc.h"
#include "im_types.h"
#include "tap.h"

static void
test_rows (void)
{
    ok (im_type_info (IM_TYPE_NONE) == NULL, "type NONE has no row");
    ok (im_type_info (IM_TYPE_COUNT) == NULL, "type COUNT has no row");
    ok (im_type_info (-1) == NULL, "type -1 has no row");
    for (int t = IM_TYPE_NONE + 1; t < IM_TYPE_COUNT; t++) {
        const im_type_info_t *ti = im_type_info (t);
        ok (ti && ti->type == t, "row %d is type %d", t, t);
        if (!ti)
            continue;
        ok (ti->name && strcmp (ti->name, im_type_name (t)) == 0
                && im_type_parse (ti->name) == t,
            "row %d names %s, as im_type_name and im_type_parse do", t, ti->name);
        ok (ti->normalise != NULL, "%s has a normaliser", ti->name);
        ok (ti->stix_path && ti->misp_type && ti->misp_category && ti->misp_names[0],
            "%s has a STIX path, a MISP type, category and names", ti->name);
        /* what is exported reads back as the same type (ip-dst: the first
         * of the two address families) */
        int back = im_type_from_misp (ti->misp_type, strlen (ti->misp_type), 0);
        ok (back == t || (t == IM_TYPE_IPV6 && back == IM_TYPE_IPV4),
            "%s: its MISP type %s reads back", ti->name, ti->misp_type);
        char path[64];
        const char *p = ti->stix_path;
        size_t o = 0;
        for (; *p && o + 1 < sizeof path; p++)
            if (*p != '\'')
                path[o++] = *p; /* the importer reads hash names unquoted */
        path[o] = '\0';
        cmp_ok (im_type_from_stix_path (path, o), "==", t,
                "%s: its STIX path %s reads back", ti->name, ti->stix_path);
        if (ti->hexlen)
            cmp_ok (im_type_by_hexlen (ti->hexlen), "==", t,
                    "%s: %zu hex digits give it back", ti->name, ti->hexlen);
    }
}

static void
test_lookups (void)
{
    cmp_ok (im_type_from_stix_path ("file:hashes.sha-256", 19), "==", IM_TYPE_SHA256,
            "hash names in STIX paths are read in any case");
    cmp_ok (im_type_from_stix_path ("file:hashes.SHA256", 18), "==", IM_TYPE_SHA256,
            "SHA256 without a dash is read too");
    cmp_ok (im_type_from_stix_path ("file:hashes.", 12), "==", -1,
            "a hash path without a name is not mapped");
    cmp_ok (im_type_from_stix_path ("process:name", 12), "==", -1,
            "process:name is not mapped");
    cmp_ok (im_type_from_stix_path ("URL:value", 9), "==", -1,
            "object paths are case-sensitive");
    cmp_ok (im_type_from_misp ("hostname", 8, 0), "==", IM_TYPE_DOMAIN,
            "MISP hostname is a domain");
    cmp_ok (im_type_from_misp ("email-dst", 9, 0), "==", IM_TYPE_EMAIL,
            "MISP email-dst is an email");
    cmp_ok (im_type_from_misp ("ip-src", 6, 0), "==", IM_TYPE_IPV4,
            "MISP ip-src gives the first address row");
    cmp_ok (im_type_from_misp ("as", 2, 0), "==", -1,
            "MISP types are case-sensitive without NOCASE");
    cmp_ok (im_type_from_misp ("as", 2, 1), "==", IM_TYPE_ASN,
            "and case-insensitive with it");
    cmp_ok (im_type_from_misp ("regkey", 6, 1), "==", -1, "MISP regkey is not mapped");
    cmp_ok (im_type_by_hexlen (33), "==", IM_TYPE_NONE, "33 hex digits are no hash");
    cmp_ok (im_type_by_hexlen (0), "==", IM_TYPE_NONE, "0 hex digits are no hash");
    is (im_type_misp_distribution (0), "0", "reach 0 is distribution 0");
    is (im_type_misp_distribution (2), "2", "reach 2 is distribution 2");
    is (im_type_misp_distribution (3), "3", "reach 3 is distribution 3");
    is (im_type_misp_distribution (255), "3", "unlimited reach is distribution 3");
}

static void
test_matching (void)
{
    cmp_ok ((int)im_type_info (IM_TYPE_IPV4)->wl, "==", IM_WL_CIDR,
            "ipv4 matches cidr lists");
    cmp_ok ((int)im_type_info (IM_TYPE_IPV6)->lookup, "==", IM_LOOKUP_PREFIX,
            "ipv6 look-ups find containing prefixes");
    cmp_ok ((int)im_type_info (IM_TYPE_DOMAIN)->wl, "==", IM_WL_HOSTNAME,
            "domains match hostname lists");
    cmp_ok ((int)im_type_info (IM_TYPE_URL)->wl, "==", IM_WL_URL_HOST,
            "a URL's host is matched");
    cmp_ok ((int)im_type_info (IM_TYPE_EMAIL)->wl, "==", IM_WL_EMAIL_HOST,
            "an e-mail's domain is matched");
    cmp_ok ((int)im_type_info (IM_TYPE_MD5)->wl, "==", IM_WL_PLAIN,
            "hashes match string lists only");
    cmp_ok ((int)im_type_info (IM_TYPE_MD5)->lookup, "==", IM_LOOKUP_EXACT,
            "hashes are looked up exactly");
}

static const tap_test_t tests[]
    = { TAP_DIAG ("proto/im_types.c: the table of indicator types"), TAP_TEST (test_rows),
        TAP_TEST (test_lookups), TAP_TEST (test_matching), TAP_END };

int
main (int argc, char **argv)
{
    return tap_main (argc, argv, tests);
}
