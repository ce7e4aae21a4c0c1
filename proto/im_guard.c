/* SPDX-License-Identifier: MPL-2.0 */
/* im_guard.c -- the built-in guards (im_guard.h): the special-purpose address
 * ranges and domain names, written from the RFCs that define them, and the
 * widest prefix accepted. Constant data and pure functions, libc only. */

#include "im_guard.h"
#include "im_ioc.h"
#include "im_types.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    unsigned char family; /* 4 or 6 */
    unsigned char bytes[16];
    unsigned char plen;
    im_guard_hit_t hit;
} range_t;

#define HIT(l, r, e, d)                                                                  \
    {                                                                                    \
        .list = l, .rfc = r, .entry = e, .documentation = d                              \
    }
#define R4(a, b, c, d, len, text, name, rfc, doc)                                        \
    {                                                                                    \
        4, { a, b, c, d }, len, HIT (name, rfc, text, doc)                               \
    }
#define R6(b0, b1, b2, b3, b4, b5, len, text, name, rfc, doc)                            \
    {                                                                                    \
        6, { b0, b1, b2, b3, b4, b5 }, len, HIT (name, rfc, text, doc)                   \
    }

/* The IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890) and
 * the address architecture (RFC 4291), less the ranges that hold reachable
 * hosts (6to4, Teredo, the NAT64 well-known prefix, AS112: see forms below
 * for the IPv4 addresses some of them embed). Where ranges nest, the
 * narrowest that holds a value names it. */
static const range_t ranges[] = {
    R4 (0, 0, 0, 0, 8, "0.0.0.0/8", "this network", "RFC 1122", 0),
    R4 (10, 0, 0, 0, 8, "10.0.0.0/8", "private-use", "RFC 1918", 0),
    R4 (100, 64, 0, 0, 10, "100.64.0.0/10", "shared address space", "RFC 6598", 0),
    R4 (127, 0, 0, 0, 8, "127.0.0.0/8", "loopback", "RFC 1122", 0),
    R4 (169, 254, 0, 0, 16, "169.254.0.0/16", "link-local", "RFC 3927", 0),
    R4 (172, 16, 0, 0, 12, "172.16.0.0/12", "private-use", "RFC 1918", 0),
    R4 (192, 0, 0, 0, 24, "192.0.0.0/24", "IETF protocol assignments", "RFC 6890", 0),
    R4 (192, 0, 2, 0, 24, "192.0.2.0/24", "documentation", "RFC 5737", 1),
    R4 (192, 168, 0, 0, 16, "192.168.0.0/16", "private-use", "RFC 1918", 0),
    R4 (198, 18, 0, 0, 15, "198.18.0.0/15", "benchmarking", "RFC 2544", 0),
    R4 (198, 51, 100, 0, 24, "198.51.100.0/24", "documentation", "RFC 5737", 1),
    R4 (203, 0, 113, 0, 24, "203.0.113.0/24", "documentation", "RFC 5737", 1),
    R4 (224, 0, 0, 0, 4, "224.0.0.0/4", "multicast", "RFC 5771", 0),
    R4 (255, 255, 255, 255, 32, "255.255.255.255", "limited broadcast", "RFC 919", 0),
    R4 (240, 0, 0, 0, 4, "240.0.0.0/4", "reserved", "RFC 1112", 0),
    R6 (0, 0, 0, 0, 0, 0, 128, "::", "unspecified", "RFC 4291", 0),
    { 6, { [15] = 1 }, 128, HIT ("loopback", "RFC 4291", "::1", 0) },
    { 6,
      { [10] = 0xff, [11] = 0xff },
      96,
      HIT ("IPv4-mapped", "RFC 4291", "::ffff:0.0.0.0/96", 0) },
    R6 (0, 0x64, 0xff, 0x9b, 0, 1, 48, "64:ff9b:1::/48", "local-use translation",
        "RFC 8215", 0),
    R6 (1, 0, 0, 0, 0, 0, 64, "100::/64", "discard-only", "RFC 6666", 0),
    R6 (0x20, 1, 0, 2, 0, 0, 48, "2001:2::/48", "benchmarking", "RFC 5180", 0),
    R6 (0x20, 1, 0x0d, 0xb8, 0, 0, 32, "2001:db8::/32", "documentation", "RFC 3849", 1),
    R6 (0x3f, 0xff, 0, 0, 0, 0, 20, "3fff::/20", "documentation", "RFC 9637", 1),
    R6 (0xfc, 0, 0, 0, 0, 0, 7, "fc00::/7", "unique local", "RFC 4193", 0),
    R6 (0xfe, 0x80, 0, 0, 0, 0, 10, "fe80::/10", "link-local", "RFC 4291", 0),
    R6 (0xfe, 0xc0, 0, 0, 0, 0, 10, "fec0::/10", "site-local", "RFC 3879", 0),
    R6 (0xff, 0, 0, 0, 0, 0, 8, "ff00::/8", "multicast", "RFC 4291", 0),
};

/* Special-use domain names (RFC 6761 and its registry), and the names RFC
 * 6762 (appendix G) found in private use. A name matches itself and every
 * name under it. .onion (RFC 7686) is not here: onion services are real. */
static const im_guard_hit_t names[] = {
    HIT ("special-use name", "RFC 6761", "localhost", 0),
    HIT ("special-use name", "RFC 6761", "invalid", 0),
    HIT ("special-use name", "RFC 6761", "test", 0),
    HIT ("multicast DNS", "RFC 6762", "local", 0),
    HIT ("home network", "RFC 8375", "home.arpa", 0),
    HIT ("private-use name", "RFC 6762", "internal", 0),
    HIT ("private-use name", "RFC 6762", "intranet", 0),
    HIT ("private-use name", "RFC 6762", "private", 0),
    HIT ("private-use name", "RFC 6762", "corp", 0),
    HIT ("private-use name", "RFC 6762", "home", 0),
    HIT ("private-use name", "RFC 6762", "lan", 0),
    HIT ("documentation", "RFC 6761", "example", 1),
    HIT ("documentation", "RFC 2606", "example.com", 1),
    HIT ("documentation", "RFC 2606", "example.net", 1),
    HIT ("documentation", "RFC 2606", "example.org", 1),
};

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

void
im_guard_each (im_guard_entry_fn *fn, void *arg)
{
    for (size_t i = 0; i < COUNT (ranges); i++)
        fn (ranges[i].family, ranges[i].bytes, ranges[i].plen, &ranges[i].hit, arg);
    for (size_t i = 0; i < COUNT (names); i++)
        fn (0, NULL, 0, &names[i], arg);
}

static int broad_form (const unsigned char addr[16], int plen);

int
im_guard_too_broad (int type, const char *value, int *plen, int *min)
{
    unsigned char addr[16];
    int len, limit = type == IM_TYPE_IPV4 ? IM_GUARD_PLEN4_MIN : IM_GUARD_PLEN6_MIN;
    if (type == IM_TYPE_IPV4 && value && !strchr (value, '/')) {
        /* One address, read as a /32 without parsing it (every record and
         * publish asks this): never too broad. */
        if (plen)
            *plen = 32;
        if (min)
            *min = limit;
        return 0;
    }
    if (!value || (type != IM_TYPE_IPV4 && type != IM_TYPE_IPV6)
        || im_ioc_prefix (type, value, addr, &len) != 0)
        return 0;
    if (type == IM_TYPE_IPV6)
        limit = im_guard_min_plen (6, addr, len);
    if (plen)
        *plen = len;
    if (min)
        *min = limit;
    return len < limit;
}

/* Whether the first BITS bits of A and B are the same. */
static int
same_bits (const unsigned char *a, const unsigned char *b, int bits)
{
    int bytes = bits / 8, rest = bits % 8;
    if (bytes && a[0] != b[0]) /* most ranges: no call to memcmp */
        return 0;
    if (memcmp (a, b, (size_t)bytes) != 0)
        return 0;
    return rest == 0 || ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* The first range of FAMILY that ADDR/PLEN overlaps: not documentation when
 * one is. */
static const range_t *
check_range (int family, const unsigned char addr[16], int plen)
{
    const range_t *best = NULL, *doc = NULL;
    for (size_t i = 0; i < COUNT (ranges); i++) {
        const range_t *r = &ranges[i];
        if (r->family != family
            || !same_bits (addr, r->bytes, plen < r->plen ? plen : r->plen))
            continue;
        if (r->hit.documentation)
            doc = doc ? doc : r;
        else if (!best
                 || (r->plen <= plen && (best->plen > plen || r->plen > best->plen)))
            best = r; /* the narrowest range that holds the value, else the first */
    }
    return best ? best : doc;
}

/* The IPv6 forms that embed an IPv4 address: their prefix, and the byte
 * where the IPv4 address starts. */
static const struct {
    unsigned char bytes[12];
    unsigned char plen, at;
    const char *name, *rfc;
} forms[] = {
    { { 0 }, 96, 12, "IPv4-compatible", "RFC 4291" },
    { { [10] = 0xff, [11] = 0xff }, 96, 12, "IPv4-mapped", "RFC 4291" },
    { { 0, 0x64, 0xff, 0x9b }, 96, 12, "NAT64", "RFC 6052" },
    { { 0x20, 0x02 }, 16, 2, "6to4", "RFC 3056" },
};

/* The form (an index in forms[]) whose IPv4 part ADDR/PLEN holds less than
 * /IM_GUARD_PLEN4_MIN of (64:ff9b::/96 is every IPv4 address), else -1. */
static int
broad_form (const unsigned char addr[16], int plen)
{
    for (size_t i = 0; i < COUNT (forms); i++)
        if (plen >= forms[i].plen && plen - forms[i].plen < IM_GUARD_PLEN4_MIN
            && same_bits (addr, forms[i].bytes, forms[i].plen))
            return (int)i;
    return -1;
}

int
im_guard_min_plen (int family, const unsigned char addr[16], int plen)
{
    int f = family == 6 ? broad_form (addr, plen) : -1;
    if (f >= 0)
        return forms[f].plen + IM_GUARD_PLEN4_MIN;
    return family == 4 ? IM_GUARD_PLEN4_MIN : IM_GUARD_PLEN6_MIN;
}

const char *
im_guard_broad_form (int type, const char *value, char *buf, size_t bufsz)
{
    unsigned char addr[16];
    int plen, f = -1;
    if (bufsz)
        buf[0] = '\0';
    if (type == IM_TYPE_IPV6 && value && im_ioc_prefix (type, value, addr, &plen) == 0)
        f = broad_form (addr, plen);
    if (f < 0)
        return buf;
    im_guard_hit_t hit = { .form = forms[f].name, .form_rfc = forms[f].rfc };
    char text[INET_ADDRSTRLEN];
    if (inet_ntop (AF_INET, addr + forms[f].at, text, sizeof text))
        snprintf (hit.ipv4, sizeof hit.ipv4, "%s/%d", text, plen - forms[f].plen);
    return im_guard_form (&hit, buf, bufsz);
}

/* The range that holds the IPv4 address embedded in ADDR/PLEN (an IPv6
 * address or prefix), or NULL; with the form in *HIT. FORM_PLEN: the form's
 * prefix length. */
static const range_t *
check_embedded (const unsigned char addr[16], int plen, im_guard_hit_t *hit,
                int *form_plen)
{
    for (size_t i = 0; i < COUNT (forms); i++) {
        int len = plen - forms[i].plen;
        if (len < IM_GUARD_PLEN4_MIN || !same_bits (addr, forms[i].bytes, forms[i].plen))
            continue;
        unsigned char v4[16] = { 0 };
        char text[INET_ADDRSTRLEN];
        len = len > 32 ? 32 : len;
        memcpy (v4, addr + forms[i].at, 4);
        const range_t *r = check_range (4, v4, len);
        if (!r || !inet_ntop (AF_INET, v4, text, sizeof text))
            return NULL;
        hit->form = forms[i].name;
        hit->form_rfc = forms[i].rfc;
        snprintf (hit->ipv4, sizeof hit->ipv4, len == 32 ? "%s" : "%s/%d", text, len);
        *form_plen = forms[i].plen;
        return r;
    }
    return NULL;
}

/* Fills *HIT for the IPv4 or IPv6 (FAMILY) ADDR/PLEN: by the range it
 * overlaps, or the range that holds the IPv4 address it embeds. Returns 1
 * when a range does, else 0. */
static int
check_addr (int family, const unsigned char addr[16], int plen, im_guard_hit_t *hit)
{
    im_guard_hit_t in = { 0 };
    int form_plen = 0;
    const range_t *r = check_range (family, addr, plen);
    const range_t *e = family == 6 ? check_embedded (addr, plen, &in, &form_plen) : NULL;
    /* The embedded address names it, unless a range narrower than the form
     * holds it (::1 is loopback, not 0.0.0.1), or the embedded address is
     * only documentation (::ffff:192.0.2.1 is IPv4-mapped). */
    if (e && r && !r->hit.documentation && (r->plen > form_plen || e->hit.documentation))
        e = NULL;
    if (!e && !r)
        return 0;
    if (e) {
        in.list = e->hit.list;
        in.rfc = e->hit.rfc;
        in.entry = e->hit.entry;
        in.documentation = e->hit.documentation;
        *hit = in;
    }
    else
        *hit = r->hit;
    return 1;
}

const char *
im_guard_form (const im_guard_hit_t *hit, char *buf, size_t bufsz)
{
    if (bufsz == 0)
        return buf;
    buf[0] = '\0';
    if (hit && hit->form)
        snprintf (buf, bufsz, " (the %s %s of %s, %s)", hit->form,
                  strchr (hit->ipv4, '/') ? "prefix" : "address", hit->ipv4,
                  hit->form_rfc);
    return buf;
}

/* The first name that NAME (lower case, trailing dots aside) is or is under. */
static const im_guard_hit_t *
check_name (const char *name)
{
    const im_guard_hit_t *doc = NULL;
    size_t n = strlen (name);
    while (n > 0 && name[n - 1] == '.')
        n--; /* a fully qualified name (a URL's host "foo.lan.") is the same */
    for (size_t i = 0; i < COUNT (names); i++) {
        size_t e = strlen (names[i].entry);
        if (n < e || strncmp (name + n - e, names[i].entry, e) != 0
            || (n > e && name[n - e - 1] != '.'))
            continue;
        if (!names[i].documentation)
            return &names[i];
        if (!doc)
            doc = &names[i];
    }
    return doc;
}

/* A host: an IPv4 or IPv6 address, or a domain name. */
static int
check_host (const char *host, im_guard_hit_t *hit)
{
    unsigned char addr[16] = { 0 };
    if (inet_pton (AF_INET, host, addr) == 1)
        return check_addr (4, addr, 32, hit);
    if (inet_pton (AF_INET6, host, addr) == 1)
        return check_addr (6, addr, 128, hit);
    const im_guard_hit_t *h = check_name (host);
    if (h)
        *hit = *h;
    return h != NULL;
}

int
im_guard_check (int type, const char *value, im_guard_hit_t *hit)
{
    if (!value || !hit) {
        errno = EINVAL;
        return -1;
    }
    unsigned char addr[16];
    char host[IM_VALUE_MAX + 1];
    int plen;
    /* Read as it is, canonical: not normalised again (a third of the check
     * of each published address was that). */
    if ((type == IM_TYPE_IPV4 || type == IM_TYPE_IPV6)
        && im_ioc_prefix_canonical (type, value, addr, &plen) == 0)
        return check_addr (type == IM_TYPE_IPV4 ? 4 : 6, addr, plen, hit);
    if (type == IM_TYPE_DOMAIN)
        return check_host (value, hit);
    if (im_type_host (type, value, host, sizeof host) == 0)
        return check_host (host, hit);
    return 0;
}
