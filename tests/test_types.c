/* SPDX-License-Identifier: MPL-2.0 */
/* test_types.c -- unit tests for proto/im_types.c, the table of indicator
 * types: every row complete and consistent with im_ioc, and the look-ups by
 * STIX path, MISP type and hash length that the importers use; and for the
 * built-in guards on top of them (proto/im_guard.c). Prints TAP. */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "im_guard.h"
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
        if (!ti && t > IM_TYPE_ASN && t < IM_TYPE_REPORT)
            continue; /* a type to come */
        ok (ti && ti->type == t, "row %d is type %d", t, t);
        if (!ti)
            continue;
        if (ti->not_ioc) {
            ok (ti->normalise && strcmp (ti->name, im_type_name (t)) == 0
                    && im_type_parse (ti->name) == -1 && !ti->stix_path && !ti->misp_type,
                "row %d, %s, is not an indicator: no parse, STIX or MISP", t, ti->name);
            continue;
        }
        ok (ti->name && strcmp (ti->name, im_type_name (t)) == 0
                && im_type_parse (ti->name) == t,
            "row %d names %s, as im_type_name and im_type_parse do", t, ti->name);
        ok (ti->normalise != NULL, "%s has a normaliser", ti->name);
        ok ((ti->stix_path || ti->stix_pattern_type
             || (ti->stix_object && ti->stix_source))
                && ti->misp_type && ti->misp_category,
            "%s has a STIX path, pattern type or object, a MISP type and category",
            ti->name);
        /* what is exported reads back as the same type (ip-dst: the first
         * of the two address families; a technique is a MISP galaxy tag) */
        int back = im_type_from_misp (ti->misp_type, strlen (ti->misp_type), 0);
        ok (back == t || (t == IM_TYPE_IPV6 && back == IM_TYPE_IPV4)
                || (t == IM_TYPE_ATTACK_PATTERN && back == -1),
            "%s: its MISP type %s reads back", ti->name, ti->misp_type);
        if (!ti->stix_path)
            continue;
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
    cmp_ok (im_type_from_misp ("mutex", 5, 1), "==", -1, "MISP mutex is not mapped");
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

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

static void
test_host (void)
{
    static const struct {
        int type;
        const char *value, *host;
    } hosts[] = {
        { IM_TYPE_URL, "http://u:p@evil.example:8080/a@b", "evil.example" },
        { IM_TYPE_URL, "http://[2001:db8::1]:80/", "2001:db8::1" },
        { IM_TYPE_URL, "https://192.0.2.1?x", "192.0.2.1" },
        { IM_TYPE_EMAIL, "a@b.example", "b.example" },
        { IM_TYPE_DOMAIN, "evil.example", NULL },
        { IM_TYPE_URL, "not a url", NULL },
    };
    char host[64];
    for (size_t i = 0; i < COUNT (hosts); i++) {
        int rc = im_type_host (hosts[i].type, hosts[i].value, host, sizeof host);
        if (hosts[i].host)
            ok (rc == 0 && strcmp (host, hosts[i].host) == 0, "the host of '%s' is %s",
                hosts[i].value, hosts[i].host);
        else
            ok (rc == -1 && errno == EINVAL, "'%s' (%s) has no host", hosts[i].value,
                im_type_name (hosts[i].type));
    }
    ok (im_type_host (IM_TYPE_URL, "http://evil.example/", host, 12) == -1
            && errno == ENOSPC,
        "a host that does not fit is ENOSPC");
}

/* Every built-in range is a network in canonical form whose bytes are its
 * text. */
static void
check_entry (int family, const unsigned char *bytes, int plen, const im_guard_hit_t *e,
             void *arg)
{
    int *bad = arg;
    char canon[IM_VALUE_MAX + 1], text[INET6_ADDRSTRLEN];
    int type = family == 4 ? IM_TYPE_IPV4 : family == 6 ? IM_TYPE_IPV6 : IM_TYPE_DOMAIN;
    int ok_ = e->list && e->rfc && strncmp (e->rfc, "RFC ", 4) == 0
              && im_ioc_normalise (type, family ? e->entry : "x.y", canon, sizeof canon,
                                   NULL, 0)
                     == 0;
    if (ok_ && family) {
        inet_ntop (family == 4 ? AF_INET : AF_INET6, bytes, text, sizeof text);
        char spelt[64];
        snprintf (spelt, sizeof spelt, "%s/%d", text, plen);
        ok_ = strcmp (canon, e->entry) == 0
              && (strcmp (spelt, e->entry) == 0
                  || (plen == (family == 4 ? 32 : 128) && strcmp (text, e->entry) == 0));
    }
    if (!ok_) {
        diag ("bad built-in entry %s", e->entry);
        (*bad)++;
    }
}

static void
test_guard_table (void)
{
    int bad = 0;
    im_guard_each (check_entry, &bad);
    ok (bad == 0, "every built-in range is canonical, its bytes are its text, and "
                  "every entry names a list and an RFC");
}

/* One row of a guard table: TYPE VALUE is on no list (LIST NULL), or on
 * LIST (and RFC, DOC, unless NULL, -1), with im_guard_form's words TEXT ("":
 * it embeds no IPv4 address the list holds). */
static void
guard_case (int type, const char *value, const char *list, const char *rfc, int doc,
            const char *text)
{
    im_guard_hit_t hit = { 0 };
    char form[128];
    int rc = im_guard_check (type, value, &hit);
    if (!list) {
        ok (rc == 0, "%s '%s' is on no built-in list", im_type_name (type), value);
        return;
    }
    ok (rc == 1 && strcmp (hit.list, list) == 0 && (!rfc || strcmp (hit.rfc, rfc) == 0)
            && (doc < 0 || hit.documentation == doc)
            && strcmp (im_guard_form (&hit, form, sizeof form), text) == 0,
        "%s '%s' is on the built-in list '%s'%s%s%s%s", im_type_name (type), value, list,
        rfc ? " (" : "", rfc ? rfc : "", rfc ? ")" : "", doc > 0 ? ", documentation" : "",
        text);
}

static void
test_guard (void)
{
    static const struct {
        int type;
        const char *value;
        const char *list; /* NULL: on no list */
        const char *rfc;
        int doc;
    } cases[] = {
        { IM_TYPE_IPV4, "10.1.2.3", "private-use", "RFC 1918", 0 },
        { IM_TYPE_IPV4, "172.31.255.255", "private-use", "RFC 1918", 0 },
        { IM_TYPE_IPV4, "172.32.0.1", NULL, NULL, 0 },
        { IM_TYPE_IPV4, "192.168.0.0/16", "private-use", "RFC 1918", 0 },
        { IM_TYPE_IPV4, "192.168.0.0/15", "private-use", "RFC 1918", 0 },
        { IM_TYPE_IPV4, "127.0.0.1", "loopback", "RFC 1122", 0 },
        { IM_TYPE_IPV4, "0.0.0.0", "this network", "RFC 1122", 0 },
        { IM_TYPE_IPV4, "169.254.1.1", "link-local", "RFC 3927", 0 },
        { IM_TYPE_IPV4, "100.64.0.1", "shared address space", "RFC 6598", 0 },
        { IM_TYPE_IPV4, "100.128.0.1", NULL, NULL, 0 },
        { IM_TYPE_IPV4, "224.0.0.251", "multicast", "RFC 5771", 0 },
        { IM_TYPE_IPV4, "255.255.255.255", "limited broadcast", "RFC 919", 0 },
        { IM_TYPE_IPV4, "250.1.2.3", "reserved", "RFC 1112", 0 },
        { IM_TYPE_IPV4, "198.19.0.1", "benchmarking", "RFC 2544", 0 },
        { IM_TYPE_IPV4, "192.0.0.8", "IETF protocol assignments", "RFC 6890", 0 },
        { IM_TYPE_IPV4, "203.0.113.7", "documentation", "RFC 5737", 1 },
        { IM_TYPE_IPV4, "198.51.100.0/24", "documentation", "RFC 5737", 1 },
        { IM_TYPE_IPV4, "192.0.0.0/22", "IETF protocol assignments", "RFC 6890", 0 },
        { IM_TYPE_IPV4, "198.0.0.0/8", "benchmarking", "RFC 2544", 0 },
        { IM_TYPE_IPV4, "8.8.8.8", NULL, NULL, 0 },
        { IM_TYPE_IPV4, "11.0.0.0/8", NULL, NULL, 0 },
        { IM_TYPE_IPV6, "::", "unspecified", "RFC 4291", 0 },
        { IM_TYPE_IPV6, "::1", "loopback", "RFC 4291", 0 },
        { IM_TYPE_IPV6, "::ffff:8.8.8.8", "IPv4-mapped", "RFC 4291", 0 },
        { IM_TYPE_IPV6, "fd12:3456::1", "unique local", "RFC 4193", 0 },
        { IM_TYPE_IPV6, "fe80::1", "link-local", "RFC 4291", 0 },
        { IM_TYPE_IPV6, "ff02::1", "multicast", "RFC 4291", 0 },
        { IM_TYPE_IPV6, "100::1", "discard-only", "RFC 6666", 0 },
        { IM_TYPE_IPV6, "2001:db8::1", "documentation", "RFC 3849", 1 },
        { IM_TYPE_IPV6, "3fff:fff::1", "documentation", "RFC 9637", 1 },
        { IM_TYPE_IPV6, "2001:4860:4860::8888", NULL, NULL, 0 },
        { IM_TYPE_IPV6, "64:ff9b::808:808", NULL, NULL, 0 },
        { IM_TYPE_DOMAIN, "foo.localhost", "special-use name", "RFC 6761", 0 },
        { IM_TYPE_DOMAIN, "a.test", "special-use name", "RFC 6761", 0 },
        { IM_TYPE_DOMAIN, "x.invalid", "special-use name", "RFC 6761", 0 },
        { IM_TYPE_DOMAIN, "printer.local", "multicast DNS", "RFC 6762", 0 },
        { IM_TYPE_DOMAIN, "nas.home.arpa", "home network", "RFC 8375", 0 },
        { IM_TYPE_DOMAIN, "dc1.corp", "private-use name", "RFC 6762", 0 },
        { IM_TYPE_DOMAIN, "evil.example", "documentation", "RFC 6761", 1 },
        { IM_TYPE_DOMAIN, "www.example.com", "documentation", "RFC 2606", 1 },
        { IM_TYPE_DOMAIN, "notexample.com", NULL, NULL, 0 },
        { IM_TYPE_DOMAIN, "localhost.example.net", "documentation", "RFC 2606", 1 },
        { IM_TYPE_DOMAIN,
          "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion", NULL, NULL,
          0 },
        { IM_TYPE_DOMAIN, "test.com", NULL, NULL, 0 },
        { IM_TYPE_URL, "http://127.0.0.1:8080/x", "loopback", "RFC 1122", 0 },
        { IM_TYPE_URL, "http://[fe80::1]/", "link-local", "RFC 4291", 0 },
        { IM_TYPE_URL, "https://intranet.corp/login", "private-use name", "RFC 6762", 0 },
        { IM_TYPE_URL, "https://intranet.corp.:8443/login", "private-use name",
          "RFC 6762", 0 },
        { IM_TYPE_URL, "http://foo.localhost./", "special-use name", "RFC 6761", 0 },
        { IM_TYPE_URL, "http://evil.example/a", "documentation", "RFC 6761", 1 },
        { IM_TYPE_URL, "http://8.8.8.8/", NULL, NULL, 0 },
        { IM_TYPE_EMAIL, "root@host.local", "multicast DNS", "RFC 6762", 0 },
        { IM_TYPE_EMAIL, "ceo@evil.com", NULL, NULL, 0 },
        { IM_TYPE_MD5, "d41d8cd98f00b204e9800998ecf8427e", NULL, NULL, 0 },
    };
    for (size_t i = 0; i < COUNT (cases); i++)
        guard_case (cases[i].type, cases[i].value, cases[i].list, cases[i].rfc,
                    cases[i].doc, "");
    im_guard_hit_t hit;
    ok (im_guard_check (IM_TYPE_IPV4, NULL, &hit) == -1 && errno == EINVAL,
        "a NULL value is EINVAL");
}

/* IPv6 values that embed an IPv4 address are checked by it too. */
static void
test_guard_embedded (void)
{
    static const struct {
        int type;
        const char *value;
        const char *list; /* NULL: on no list */
        const char *text; /* im_guard_form's words */
    } cases[] = {
        { IM_TYPE_IPV6, "2002:a00:1::1", "private-use",
          " (the 6to4 address of 10.0.0.1, RFC 3056)" },
        { IM_TYPE_IPV6, "2002:7f00:1::/48", "loopback",
          " (the 6to4 address of 127.0.0.1, RFC 3056)" },
        { IM_TYPE_IPV6, "2002:a00::/24", "private-use",
          " (the 6to4 prefix of 10.0.0.0/8, RFC 3056)" },
        { IM_TYPE_IPV6, "2002:c0a8::/32", "private-use",
          " (the 6to4 prefix of 192.168.0.0/16, RFC 3056)" },
        { IM_TYPE_IPV6, "2002:808:808::1", NULL, "" },
        { IM_TYPE_IPV6, "2002::/16", NULL, "" },
        { IM_TYPE_IPV6, "2002::/23", NULL, "" }, /* a /7 of IPv4: not checked */
        { IM_TYPE_IPV6, "64:ff9b::c0a8:101", "private-use",
          " (the NAT64 address of 192.168.1.1, RFC 6052)" },
        { IM_TYPE_IPV6, "64:ff9b::808:808", NULL, "" },
        { IM_TYPE_IPV6, "64:ff9b::a9fe:0/112", "link-local",
          " (the NAT64 prefix of 169.254.0.0/16, RFC 6052)" },
        { IM_TYPE_IPV6, "64:ff9b::/96", NULL, "" },
        { IM_TYPE_IPV6, "::ffff:127.0.0.1", "loopback",
          " (the IPv4-mapped address of 127.0.0.1, RFC 4291)" },
        { IM_TYPE_IPV6, "::ffff:10.0.0.1", "private-use",
          " (the IPv4-mapped address of 10.0.0.1, RFC 4291)" },
        { IM_TYPE_IPV6, "::ffff:8.8.8.8", "IPv4-mapped", "" },
        { IM_TYPE_IPV6, "::ffff:192.0.2.1", "IPv4-mapped", "" },
        { IM_TYPE_IPV6, "::a01:203", "private-use",
          " (the IPv4-compatible address of 10.1.2.3, RFC 4291)" },
        { IM_TYPE_IPV6, "::808:808", NULL, "" },
        { IM_TYPE_IPV6, "::1", "loopback", "" },
        { IM_TYPE_IPV6, "::", "unspecified", "" },
        { IM_TYPE_IPV6, "2002:c000:201::1", "documentation",
          " (the 6to4 address of 192.0.2.1, RFC 3056)" },
        { IM_TYPE_URL, "http://[2002:a00:1::1]/x", "private-use",
          " (the 6to4 address of 10.0.0.1, RFC 3056)" },
        { IM_TYPE_URL, "http://[64:ff9b::7f00:1]:8080/", "loopback",
          " (the NAT64 address of 127.0.0.1, RFC 6052)" },
        { IM_TYPE_URL, "http://[2002:808:808::1]/", NULL, "" },
    };
    for (size_t i = 0; i < COUNT (cases); i++)
        guard_case (cases[i].type, cases[i].value, cases[i].list, NULL, -1,
                    cases[i].text);
}

/* The spellings of the brief: each is normalised, then checked. */
static void
test_guard_embedded_spelt (void)
{
    static const struct {
        const char *value;
        int held;
    } cases[] = {
        { "2002:0a00:0001::1", 1 },    { "2002:0808:0808::1", 0 },
        { "64:ff9b::192.168.1.1", 1 }, { "64:ff9b::8.8.8.8", 0 },
        { "::ffff:127.0.0.1", 1 },     { "::10.1.2.3", 1 },
    };
    for (size_t i = 0; i < COUNT (cases); i++) {
        char canon[IM_VALUE_MAX + 1];
        im_guard_hit_t hit;
        int rc = im_ioc_normalise (IM_TYPE_IPV6, cases[i].value, canon, sizeof canon,
                                   NULL, 0)
                         == 0
                     ? im_guard_check (IM_TYPE_IPV6, canon, &hit)
                     : -1;
        ok (rc == cases[i].held && (!rc || hit.form), "ipv6 '%s' (%s) is %s",
            cases[i].value, canon,
            cases[i].held ? "refused by the IPv4 address it embeds" : "on no list");
    }
}

static void
test_breadth (void)
{
    static const struct {
        int type;
        const char *value;
        int broad, plen, min;
    } cases[] = {
        { IM_TYPE_IPV4, "0.0.0.0/0", 1, 0, 8 },
        { IM_TYPE_IPV4, "8.0.0.0/7", 1, 7, 8 },
        { IM_TYPE_IPV4, "11.0.0.0/8", 0, 8, 8 },
        { IM_TYPE_IPV4, "8.8.8.8", 0, 32, 8 },
        { IM_TYPE_IPV6, "::/0", 1, 0, 16 },
        { IM_TYPE_IPV6, "2000::/3", 1, 3, 16 },
        { IM_TYPE_IPV6, "2000::/15", 1, 15, 16 },
        { IM_TYPE_IPV6, "2001::/16", 0, 16, 16 },
        /* by the IPv4 prefix they embed: NAT64 and 6to4 of 0.0.0.0/0, 8.0.0.0/5 */
        { IM_TYPE_IPV6, "64:ff9b::/96", 1, 96, 104 },
        { IM_TYPE_IPV6, "64:ff9b::800:0/101", 1, 101, 104 },
        { IM_TYPE_IPV6, "64:ff9b::800:0/104", 0, 104, 16 },
        { IM_TYPE_IPV6, "2002::/16", 1, 16, 24 },
        { IM_TYPE_IPV6, "2002:800::/21", 1, 21, 24 },
        { IM_TYPE_IPV6, "2002:800::/24", 0, 24, 16 },
        { IM_TYPE_IPV6, "2002:808:808::/48", 0, 48, 16 },
    };
    for (size_t i = 0; i < COUNT (cases); i++) {
        int plen = -1, min = -1;
        int rc = im_guard_too_broad (cases[i].type, cases[i].value, &plen, &min);
        ok (rc == cases[i].broad && plen == cases[i].plen && min == cases[i].min,
            "%s is %s (/%d, the widest accepted /%d)", cases[i].value,
            cases[i].broad ? "too broad" : "narrow enough", cases[i].plen, cases[i].min);
    }
    ok (im_guard_too_broad (IM_TYPE_DOMAIN, "evil.example", NULL, NULL) == 0
            && im_guard_too_broad (IM_TYPE_IPV4, "not an address", NULL, NULL) == 0
            && im_guard_too_broad (IM_TYPE_IPV4, NULL, NULL, NULL) == 0,
        "other types, bad values and NULL are not too broad");
    char form[96];
    ok (strcmp (im_guard_broad_form (IM_TYPE_IPV6, "64:ff9b::/96", form, sizeof form),
                " (the NAT64 prefix of 0.0.0.0/0, RFC 6052)")
                == 0
            && strcmp (
                   im_guard_broad_form (IM_TYPE_IPV6, "2002:800::/21", form, sizeof form),
                   " (the 6to4 prefix of 8.0.0.0/5, RFC 3056)")
                   == 0
            && *im_guard_broad_form (IM_TYPE_IPV6, "2002:800::/24", form, sizeof form)
                   == 0
            && *im_guard_broad_form (IM_TYPE_IPV4, "0.0.0.0/0", form, sizeof form) == 0,
        "im_guard_broad_form names the form and the IPv4 prefix, else \"\" (%s)", form);
}

/* The new types (issue 15): good values and their canonical form, bad values
 * and the words of their reason. */
#define YARA_OK                                                                          \
    "rule Regin_Loader : apt regin {\n  strings:\n    $a = \"}{\" // a brace\n"          \
    "  condition:\n    $a\n}"
#define SIGMA_OK                                                                         \
    "title: 'Regin service install'\nlogsource:\n  product: windows\ndetection:\n"       \
    "  sel:\n    EventID: 7045\n  condition: sel"
#define SNORT_OK                                                                         \
    "alert tcp $HOME_NET any -> $EXTERNAL_NET 443 (msg:\"Regin C2; beacon\"; "           \
    "content:\"|00 01|\"; sid:1000001; rev:1;)"

static const struct {
    int type;
    const char *in, *canon, *label;
} new_good[] = {
    { IM_TYPE_CVE, "CVE-2021-44228", "CVE-2021-44228", NULL },
    { IM_TYPE_CVE, "cve-2014-0160", "CVE-2014-0160", NULL },
    { IM_TYPE_CVE, "Cve-1999-0001", "CVE-1999-0001", NULL },
    { IM_TYPE_CVE, "CVE-2023-1234567", "CVE-2023-1234567", NULL },
    { IM_TYPE_ATTACK_PATTERN, "T1566", "T1566", NULL },
    { IM_TYPE_ATTACK_PATTERN, "t1566.001", "T1566.001", NULL },
    { IM_TYPE_REGKEY, "HKLM\\System\\CurrentControlSet\\Control\\",
      "HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Control", NULL },
    { IM_TYPE_REGKEY, "hkcu\\Software\\Run", "HKEY_CURRENT_USER\\Software\\Run", NULL },
    { IM_TYPE_REGKEY, "HKEY_Classes_Root\\CLSID\\{9B9A8ADB-8864-4BC4-8AD5-B17DFDBB9F58}",
      "HKEY_CLASSES_ROOT\\CLSID\\{9B9A8ADB-8864-4BC4-8AD5-B17DFDBB9F58}", NULL },
    { IM_TYPE_REGKEY, "HKU\\S-1-5-18\\x y", "HKEY_USERS\\S-1-5-18\\x y", NULL },
    { IM_TYPE_REGKEY, "HKCC\\System", "HKEY_CURRENT_CONFIG\\System", NULL },
    { IM_TYPE_YARA, YARA_OK, YARA_OK, "Regin_Loader" },
    { IM_TYPE_YARA, "import \"pe\"\nprivate rule x { condition: pe.is_dll() }",
      "import \"pe\"\nprivate rule x { condition: pe.is_dll() }", "x" },
    { IM_TYPE_YARA, "rule a\r\n{\r\ncondition: true\r\n}",
      "rule a\n{\ncondition: true\n}", "a" },
    { IM_TYPE_SIGMA, SIGMA_OK, SIGMA_OK, "Regin service install" },
    { IM_TYPE_SNORT, SNORT_OK, SNORT_OK, "Regin C2; beacon" },
    { IM_TYPE_SNORT, "drop udp any any <> 10.0.0.0/8 53 (msg:\"dns\"; sid:7;)",
      "drop udp any any <> 10.0.0.0/8 53 (msg:\"dns\"; sid:7;)", "dns" },
};

static const struct {
    int type;
    const char *in, *why;
} new_bad[] = {
    { IM_TYPE_CVE, "CVE-2021-442", "is not a CVE id" },
    { IM_TYPE_CVE, "CVE-21-44228", "is not a CVE id" },
    { IM_TYPE_CVE, "CAN-2021-44228", "is not a CVE id" },
    { IM_TYPE_CVE, "CVE-2021-4422a", "is not a CVE id" },
    { IM_TYPE_CVE, "CVE-1998-0001", "a year before 1999" },
    { IM_TYPE_CVE, "CVE-2021-044228", "leading zero" },
    { IM_TYPE_CVE, "CVE-2021-12345678901234567890", "more than 19 digits" },
    { IM_TYPE_ATTACK_PATTERN, "T156", "not an ATT&CK technique id" },
    { IM_TYPE_ATTACK_PATTERN, "T1566.1", "not an ATT&CK technique id" },
    { IM_TYPE_ATTACK_PATTERN, "TA0001", "not an ATT&CK technique id" },
    { IM_TYPE_ATTACK_PATTERN, "1566", "not an ATT&CK technique id" },
    { IM_TYPE_ATTACK_PATTERN, "T1566/001", "not an ATT&CK technique id" },
    { IM_TYPE_REGKEY, "Class\\{4F20E605-9452-4787-B793-D0204917CA58}",
      "does not start with a hive" },
    { IM_TYPE_REGKEY, "HKLM", "names a hive but no key" },
    { IM_TYPE_REGKEY, "HKLM\\\\", "names a hive but no key" },
    { IM_TYPE_REGKEY, "HKLM\\a\\\\b", "empty key name" },
    { IM_TYPE_REGKEY, "HKLM/Software/x", "does not start with a hive" },
    { IM_TYPE_REGKEY, "HKLM\\a\tb\x01", "control characters" },
    { IM_TYPE_REGKEY, "HKLM\\\xff", "not valid UTF-8" },
    { IM_TYPE_YARA, "rule { condition: true }", "no valid rule name" },
    { IM_TYPE_YARA, "rule x { strings: $a = \"x\" }", "no condition: section" },
    { IM_TYPE_YARA, "rule x { condition: true", "'{' is not closed" },
    { IM_TYPE_YARA, "rule x { condition: true }}", "text after the rule" },
    { IM_TYPE_YARA, "rule x { condition: true } rule y { condition: true }",
      "one rule a value" },
    { IM_TYPE_YARA, "alert tcp any any -> any any (msg:\"x\"; sid:1;)",
      "is not a YARA rule" },
    { IM_TYPE_YARA, "rule x { condition: \"}\x01\" }", "control characters" },
    { IM_TYPE_YARA, "rule x\r{ condition: true }", "CR not before a LF" },
    { IM_TYPE_SIGMA, "logsource:\n  a: b\ndetection:\n  condition: s",
      "no top-level title" },
    { IM_TYPE_SIGMA, "title: t\ndetection:\n  condition: s", "no top-level logsource" },
    { IM_TYPE_SIGMA, "title: t\nlogsource:\n  a: b", "no top-level detection" },
    { IM_TYPE_SIGMA, "title: t\nlogsource:\n  a: b\ndetection:\n  sel: x",
      "no condition: under detection" },
    { IM_TYPE_SIGMA, "title: t\nlogsource:\n\ta: b\ndetection:\n  condition: s",
      "has a tab" },
    { IM_TYPE_SIGMA, "title: ''\nlogsource:\n  a: b\ndetection:\n  condition: s",
      "empty name" },
    { IM_TYPE_SNORT, "alert tcp any any -> any any (sid:1;)", "no msg" },
    { IM_TYPE_SNORT, "alert tcp any any -> any any (msg:\"x\";)", "no sid" },
    { IM_TYPE_SNORT, "alert tcp any any -> any (msg:\"x\"; sid:1;)",
      "fewer than 6 fields" },
    { IM_TYPE_SNORT, "alert tcp any any => any any (msg:\"x\"; sid:1;)", "no direction" },
    { IM_TYPE_SNORT, "alert tcp any any -> any any msg:\"x\"; sid:1;", "no options" },
    { IM_TYPE_SNORT, "alert tcp any any -> any any (msg:\"x\"; sid:1)",
      "does not end in ';'" },
    { IM_TYPE_SNORT, "alert tcp any any -> any any (msg:\"x; sid:1;)", "does not end" },
    { IM_TYPE_SNORT, "rule x { condition: true }", "is not a Snort rule" },
};

/* The first bytes of S on one line, for a test's description. */
static const char *
one_line (const char *s, char buf[41])
{
    size_t i;
    for (i = 0; s[i] && i < 40; i++)
        buf[i] = s[i] == '\n' || s[i] == '\r' ? ' ' : s[i];
    buf[i] = '\0';
    return buf;
}

static void
test_new_types (void)
{
    char b1[41], b2[41];
    char out[IM_VALUE_MAX + 1], err[256], label[IM_LABEL_MAX + 1];
    for (size_t i = 0; i < sizeof new_good / sizeof new_good[0]; i++) {
        const char *name = im_type_name (new_good[i].type);
        int rc = im_ioc_normalise (new_good[i].type, new_good[i].in, out, sizeof out, err,
                                   sizeof err);
        ok (rc == 0 && strcmp (out, new_good[i].canon) == 0, "%s %s is %s", name,
            one_line (new_good[i].in, b1), one_line (new_good[i].canon, b2));
        if (rc)
            diag ("%s", err);
        if (new_good[i].label)
            ok (im_type_label (new_good[i].type, out, label, sizeof label) == 0
                    && strcmp (label, new_good[i].label) == 0,
                "%s's label is '%s'", name, new_good[i].label);
        else
            ok (im_type_label (new_good[i].type, out, label, sizeof label) == -1
                    && errno == EINVAL,
                "a %s has no label", name);
    }
    for (size_t i = 0; i < sizeof new_bad / sizeof new_bad[0]; i++) {
        int rc = im_ioc_normalise (new_bad[i].type, new_bad[i].in, out, sizeof out, err,
                                   sizeof err);
        ok (rc == -1 && errno == EINVAL && strstr (err, new_bad[i].why),
            "%s refuses %s: %s", im_type_name (new_bad[i].type),
            one_line (new_bad[i].in, b1), new_bad[i].why);
        if (rc == 0 || !strstr (err, new_bad[i].why))
            diag ("got: %s", rc ? err : out);
    }
    ok (im_type_label (IM_TYPE_YARA, "rule x", label, sizeof label) == -1
            && errno == EINVAL,
        "a value that is not a rule has no label");
    ok (im_type_label (IM_TYPE_SNORT, SNORT_OK, label, 4) == -1 && errno == ENOSPC,
        "a label larger than the buffer: ENOSPC");
    /* the wire codes, signed into records: never renumbered */
    ok (IM_TYPE_CVE == 12 && IM_TYPE_ATTACK_PATTERN == 13 && IM_TYPE_REGKEY == 14
            && IM_TYPE_YARA == 15 && IM_TYPE_SIGMA == 16 && IM_TYPE_SNORT == 17,
        "the new types are wire codes 12 to 17");
    cmp_ok (im_type_parse ("Attack-Pattern"), "==", IM_TYPE_ATTACK_PATTERN,
            "attack-pattern is parsed in any case");
    cmp_ok (im_type_from_stix_path ("windows-registry-key:key", 24), "==", IM_TYPE_REGKEY,
            "windows-registry-key:key is a regkey");
    cmp_ok (im_type_from_misp ("vulnerability", 13, 0), "==", IM_TYPE_CVE,
            "MISP vulnerability is a cve");
    cmp_ok (im_type_from_misp ("text", 4, 0), "==", -1,
            "MISP text is not mapped (an attack-pattern comes with a galaxy tag)");
}

static const tap_test_t tests[]
    = { TAP_DIAG ("proto/im_types.c: the table of indicator types"),
        TAP_TEST (test_rows),
        TAP_TEST (test_lookups),
        TAP_TEST (test_matching),
        TAP_TEST (test_host),
        TAP_TEST (test_new_types),
        TAP_DIAG ("proto/im_guard.c: the built-in guards"),
        TAP_TEST (test_guard_table),
        TAP_TEST (test_guard),
        TAP_TEST (test_guard_embedded),
        TAP_TEST (test_guard_embedded_spelt),
        TAP_TEST (test_breadth),
        TAP_END };

int
main (int argc, char **argv)
{
    return tap_main (argc, argv, tests);
}
