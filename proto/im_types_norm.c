/* SPDX-License-Identifier: MPL-2.0 */
/* im_types_norm.c -- the normalisers of the rows of im_types.c: validation of
 * every indicator type and its one canonical spelling, and the helpers that
 * word their reasons. Pure functions over caller buffers, libc only. */

#include "im_types_int.h"
#include "im_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define DOMAIN_MAX 253
#define LABEL_MAX 63
#define LOCAL_MAX 64
#define FNAME_MAX 1024
#define ASN_MAX 4294967295ULL

#if defined(__GNUC__)
#define IM_UNUSED __attribute__ ((unused))
#else
#define IM_UNUSED
#endif

/* Helpers (declared in im_types_int.h, shared with im_ioc.c) and messages */

size_t
im_types_bounded_len (const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

const char *
im_types_quote (const char *value, char *q)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t n = im_types_bounded_len (value, QUOTE_MAX + 4);
    size_t i = 0, o = 0;

    while (i < n && i < QUOTE_MAX) {
        uint32_t cp;
        size_t len = im_utf8_decode (s + i, n - i, &cp);
        if (len == 0) {
            q[o++] = '?';
            i++;
            continue;
        }
        if (i + len > QUOTE_MAX)
            break;
        if (im_utf8_unsafe (cp))
            q[o++] = '?';
        else {
            memcpy (q + o, s + i, len);
            o += len;
        }
        i += len;
    }
    if (i < n) {
        memcpy (q + o, "...", 3);
        o += 3;
    }
    q[o] = '\0';
    return q;
}

/* Describes one byte for an error message: 'x', "a space" or "byte 0x01". */
static const char *
char_desc (unsigned char c, char *buf, size_t bufsz)
{
    if (c == ' ')
        snprintf (buf, bufsz, "a space");
    else if (c > 0x20 && c < 0x7f)
        snprintf (buf, bufsz, "'%c'", c);
    else
        snprintf (buf, bufsz, "byte 0x%02x", c);
    return buf;
}

int
im_types_fail (char *err, size_t errsz, const char *fmt, ...)
{
    if (err && errsz > 0) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (err, errsz, fmt, ap);
        va_end (ap);
    }
    return EINVAL;
}

/* IP addresses and prefixes */

int
im_types_parse_prefixlen (const char *s, size_t len, int max, int *plen)
{
    size_t i;
    int v = 0;

    if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
        return -1;
    for (i = 0; i < len; i++) {
        if (!is_digit ((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > max)
        return -1;
    *plen = v;
    return 0;
}

/* Copies IN to NET with the bits past PLEN cleared; returns 1 when that
 * cleared any bit (the host part was not zero). */
static int
mask_prefix (const uint8_t *in, uint8_t *net, int nbytes, int plen)
{
    int i, host = 0;
    for (i = 0; i < nbytes; i++) {
        int bits = plen - i * 8;
        uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
        net[i] = in[i] & mask;
        if (net[i] != in[i])
            host = 1;
    }
    return host;
}

/* Writes V (below 1000) in decimal at OUT, unterminated; returns its
 * length. */
static int
format_uint (char *out, unsigned v)
{
    int n = 0;
    if (v >= 100)
        out[n++] = (char)('0' + v / 100);
    if (v >= 10)
        out[n++] = (char)('0' + v / 10 % 10);
    out[n++] = (char)('0' + v % 10);
    return n;
}

/* Writes the canonical form of address BYTES with prefix PLEN into CANON,
 * refusing a prefix with host bits set. */
static int
finish_prefix (int af, const uint8_t *bytes, int plen, const char *value, char *canon,
               size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    char text[INET6_ADDRSTRLEN];
    uint8_t net[16];
    int nbytes = af == AF_INET ? 4 : 16;
    int n;

    if (mask_prefix (bytes, net, nbytes, plen)) {
        if (!inet_ntop (af, net, text, sizeof text))
            return im_types_fail (err, errsz, "'%s' has host bits set",
                                  im_types_quote (value, q));
        return im_types_fail (err, errsz, "'%s' has host bits set (did you mean %s/%d?)",
                              im_types_quote (value, q), text, plen);
    }
    if (af == AF_INET) {
        /* By hand: inet_ntop and snprintf were a tenth of a bulk publish. */
        n = 0;
        for (int i = 0; i < 4; i++) {
            if (i)
                canon[n++] = '.';
            n += format_uint (canon + n, bytes[i]);
        }
    }
    else {
        if (!inet_ntop (af, bytes, text, sizeof text))
            return im_types_fail (err, errsz, "'%s' cannot be formatted",
                                  im_types_quote (value, q));
        n = (int)strlen (text);
        memcpy (canon, text, (size_t)n);
    }
    if (plen != nbytes * 8) {
        canon[n++] = '/';
        n += format_uint (canon + n, (unsigned)plen);
    }
    canon[n] = '\0';
    *clen = (size_t)n;
    return 0;
}

/* By hand: inet_pton, with the copy it needs, was half of the check, made
 * three times an item in a bulk publish. */
int
im_types_dotted_quad (const char *v, size_t n, uint8_t bytes[4])
{
    size_t i = 0;
    for (int octet = 0; octet < 4; octet++) {
        if (octet && (i >= n || v[i++] != '.'))
            return -1;
        unsigned val = 0, digits = 0;
        for (; i < n && is_digit ((unsigned char)v[i]) && digits < 4; digits++) {
            if (digits && val == 0)
                return -1; /* a leading zero */
            val = val * 10 + (unsigned)(v[i++] - '0');
        }
        if (digits == 0 || val > 255)
            return -1;
        bytes[octet] = (uint8_t)val;
    }
    return i == n ? 0 : -1;
}

/* Whether the N bytes at V are digits and dots only, with an octet written
 * with a leading zero (010.1.1.1): the reason an IPv4 address is refused. */
static int
leading_zero (const char *v, size_t n)
{
    int zero = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit ((unsigned char)v[i]) && v[i] != '.')
            return 0;
        zero |= v[i] == '0' && (i == 0 || v[i - 1] == '.') && i + 1 < n
                && is_digit ((unsigned char)v[i + 1]);
    }
    return zero;
}

int
im_ioc_norm_ipv4 (const im_type_info_t *t IM_UNUSED, const char *v, size_t n, char *canon,
                  size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    uint8_t bytes[4];
    const char *slash = memchr (v, '/', n);
    size_t alen = slash ? (size_t)(slash - v) : n;
    int plen = 32;

    /* An address read at once is one; a refusal looks again, for its reason. */
    if (alen == 0 || alen >= INET_ADDRSTRLEN || im_types_dotted_quad (v, alen, bytes))
        return im_types_fail (err, errsz, "'%s' is not an IPv4 address%s",
                              im_types_quote (v, q),
                              alen < INET_ADDRSTRLEN && leading_zero (v, alen)
                                  ? " (leading zero in an octet)"
                                  : "");
    if (slash && im_types_parse_prefixlen (slash + 1, n - alen - 1, 32, &plen))
        return im_types_fail (err, errsz,
                              "'%s' has an invalid prefix length (expected /0 to /32)",
                              im_types_quote (v, q));
    return finish_prefix (AF_INET, bytes, plen, v, canon, clen, err, errsz);
}

int
im_ioc_norm_ipv6 (const im_type_info_t *t IM_UNUSED, const char *v, size_t n, char *canon,
                  size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    char addr[INET6_ADDRSTRLEN];
    uint8_t bytes[16];
    const char *slash = memchr (v, '/', n);
    size_t alen = slash ? (size_t)(slash - v) : n;
    int plen = 128;

    if (memchr (v, '%', n))
        return im_types_fail (err, errsz,
                              "'%s' has a zone id (%%...): give the address without it",
                              im_types_quote (v, q));
    if (alen == 0 || alen >= sizeof addr)
        return im_types_fail (err, errsz, "'%s' is not an IPv6 address",
                              im_types_quote (v, q));
    memcpy (addr, v, alen);
    addr[alen] = '\0';
    if (inet_pton (AF_INET6, addr, bytes) != 1)
        return im_types_fail (err, errsz, "'%s' is not an IPv6 address",
                              im_types_quote (v, q));
    if (slash && im_types_parse_prefixlen (slash + 1, n - alen - 1, 128, &plen))
        return im_types_fail (err, errsz,
                              "'%s' has an invalid prefix length (expected /0 to /128)",
                              im_types_quote (v, q));
    return finish_prefix (AF_INET6, bytes, plen, v, canon, clen, err, errsz);
}

/* Domain names, URLs and e-mail addresses */

/* Validates the N bytes at V (NUL-terminated right after them) as a domain
 * name and writes its lower-case form, without a trailing dot, into CANON. */
int
im_ioc_norm_domain (const im_type_info_t *t IM_UNUSED, const char *v, size_t n,
                    char *canon, size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    char cd[16];
    size_t i, start = 0, last = 0, labels = 0;

    for (i = 0; i < n; i++)
        if ((unsigned char)v[i] >= 0x80)
            return im_types_fail (err, errsz,
                                  "'%s' contains non-ASCII characters: "
                                  "give the IDNA A-label form (xn--...)",
                                  im_types_quote (v, q));
    if (n > 0 && v[n - 1] == '.')
        n--;
    if (n == 0)
        return im_types_fail (err, errsz, "'%s' has an empty label",
                              im_types_quote (v, q));
    if (n > DOMAIN_MAX)
        return im_types_fail (err, errsz, "'%s' is longer than %d characters",
                              im_types_quote (v, q), DOMAIN_MAX);
    for (i = 0; i < n; i++)
        canon[i] = (char)to_lower ((unsigned char)v[i]);
    canon[n] = '\0';

    for (i = 0; i <= n; i++) {
        if (i < n && canon[i] != '.') {
            unsigned char c = (unsigned char)canon[i];
            if (!is_alpha (c) && !is_digit (c) && c != '-' && c != '_')
                return im_types_fail (
                    err, errsz, "'%s' contains %s, which is not allowed in a domain name",
                    im_types_quote (v, q), char_desc (c, cd, sizeof cd));
            continue;
        }
        if (i == start)
            return im_types_fail (err, errsz, "'%s' has an empty label",
                                  im_types_quote (v, q));
        if (i - start > LABEL_MAX)
            return im_types_fail (err, errsz,
                                  "'%s' has a label longer than %d characters",
                                  im_types_quote (v, q), LABEL_MAX);
        if (canon[start] == '-' || canon[i - 1] == '-')
            return im_types_fail (err, errsz,
                                  "'%s' has a label that starts or ends with '-'",
                                  im_types_quote (v, q));
        labels++;
        last = start;
        start = i + 1;
    }
    if (labels < 2)
        return im_types_fail (
            err, errsz, "'%s' needs at least two labels (a name and a top-level domain)",
            im_types_quote (v, q));
    for (i = last; i < n; i++)
        if (!is_digit ((unsigned char)canon[i]))
            break;
    if (i == n)
        return im_types_fail (err, errsz, "'%s' has an all-numeric top-level domain",
                              im_types_quote (v, q));
    *clen = n;
    return 0;
}

size_t
im_types_url_scheme_len (const char *v)
{
    const char *sep = strstr (v, "://");
    size_t len, i;

    if (!sep)
        return 0;
    len = (size_t)(sep - v);
    if (len == 0 || !is_alpha ((unsigned char)v[0]))
        return 0;
    for (i = 1; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (!is_alpha (c) && !is_digit (c) && c != '+' && c != '.' && c != '-')
            return 0;
    }
    return len;
}

/* Defanged spellings ("hxxp://evil[.]example") and what they stand for. */
static const char *const defangs[][2] = {
    { "[.]", "." },   { "(.)", "." },  { "{.}", "." },     { "[dot]", "." },
    { "(dot)", "." }, { "[:]", ":" },  { "[://]", "://" }, { "[@]", "@" },
    { "(@)", "@" },   { "[at]", "@" },
};
static const char *const defanged_schemes[][2] = {
    { "hxxps", "https" },
    { "hxxp", "http" },
    { "fxp", "ftp" },
};

/* The length of the defanged spelling at S (of N bytes), with what it stands
 * for in *REAL, or 0. AT_START: S starts the value (for schemes). */
static size_t
defang_at (const char *s, size_t n, int at_start, const char **real)
{
    size_t k, len;
    int bracket = *s == '[' || *s == '(' || *s == '{';
    if (!bracket && !(at_start && is_alpha ((unsigned char)*s)))
        return 0; /* where every spelling but a scheme starts (most bytes) */
    for (k = 0; bracket && k < sizeof defangs / sizeof defangs[0]; k++) {
        len = strlen (defangs[k][0]);
        if (len <= n && strncasecmp (s, defangs[k][0], len) == 0) {
            *real = defangs[k][1];
            return len;
        }
    }
    for (k = 0; at_start && k < sizeof defanged_schemes / sizeof defanged_schemes[0];
         k++) {
        len = strlen (defanged_schemes[k][0]);
        if (len < n && strncasecmp (s, defanged_schemes[k][0], len) == 0
            && (s[len] == ':' || s[len] == '[')) {
            *real = defanged_schemes[k][1];
            return len;
        }
    }
    return 0;
}

int
im_types_defanged (const char *v, size_t n, char *err, size_t errsz)
{
    char q[QUOTE_SZ], q2[QUOTE_SZ];
    char real[IM_VALUE_MAX + 1];
    size_t i = 0, o = 0, found = 0;
    while (i < n && o < IM_VALUE_MAX) {
        const char *r;
        size_t len = defang_at (v + i, n - i, i == 0, &r);
        if (len) {
            size_t rlen = strlen (r);
            if (o + rlen > IM_VALUE_MAX)
                break;
            memcpy (real + o, r, rlen);
            o += rlen;
            i += len;
            found = 1;
        }
        else
            real[o++] = v[i++];
    }
    real[o] = '\0';
    if (!found)
        return 0;
    return im_types_fail (err, errsz, "'%s' looks defanged: did you mean %s?",
                          im_types_quote (v, q), im_types_quote (real, q2));
}

/* The host of a URL, HOST (N bytes, not bracketed): an IPv4 address, or a
 * domain name of two labels or more. */
static int
url_host_check (const char *v, const char *host, size_t n, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    char buf[DOMAIN_MAX + 2], canon[IM_VALUE_MAX + 1], why[256];
    size_t clen, last = n;
    if (n >= sizeof buf)
        return im_types_fail (err, errsz, "'%s' has a host longer than %d characters",
                              im_types_quote (v, q), DOMAIN_MAX);
    memcpy (buf, host, n);
    buf[n] = '\0';
    while (last > 0 && buf[last - 1] != '.')
        last--;
    why[0] = '\0';
    /* an address when its last label is a number */
    if ((last < n && strspn (buf + last, "0123456789") == n - last)
            ? im_ioc_norm_ipv4 (NULL, buf, n, canon, &clen, why, sizeof why)
            : im_ioc_norm_domain (NULL, buf, n, canon, &clen, why, sizeof why))
        return im_types_fail (err, errsz, "'%s' has no valid host: %s",
                              im_types_quote (v, q), why);
    return 0;
}

int
im_ioc_norm_url (const im_type_info_t *t IM_UNUSED, const char *v, size_t n, char *canon,
                 size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    size_t i, slen, auth, aend, hstart, hend;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (is_space (c))
            return im_types_fail (err, errsz, "'%s' contains whitespace",
                                  im_types_quote (v, q));
        if (is_ctrl (c))
            return im_types_fail (err, errsz, "'%s' contains control characters",
                                  im_types_quote (v, q));
        if (c >= 0x80)
            return im_types_fail (err, errsz,
                                  "'%s' contains non-ASCII characters: "
                                  "percent-encode them and give the host in IDNA "
                                  "A-label form (xn--...)",
                                  im_types_quote (v, q));
    }
    if (!strstr (v, "://"))
        return im_types_fail (err, errsz, "'%s' is not a URL (expected scheme://host...)",
                              im_types_quote (v, q));
    slen = im_types_url_scheme_len (v);
    if (slen == 0)
        return im_types_fail (err, errsz, "'%s' has an invalid scheme",
                              im_types_quote (v, q));

    auth = slen + 3;
    for (aend = auth; aend < n; aend++)
        if (v[aend] == '/' || v[aend] == '?' || v[aend] == '#')
            break;
    hstart = auth;
    for (i = auth; i < aend; i++)
        if (v[i] == '@')
            hstart = i + 1;

    if (hstart < aend && v[hstart] == '[') {
        char addr[INET6_ADDRSTRLEN];
        uint8_t bytes[16];
        const char *rb = memchr (v + hstart, ']', aend - hstart);
        size_t alen;
        if (!rb)
            return im_types_fail (err, errsz, "'%s' has an unterminated '[' in its host",
                                  im_types_quote (v, q));
        hend = (size_t)(rb - v) + 1;
        alen = hend - hstart - 2;
        if (alen >= sizeof addr)
            return im_types_fail (err, errsz, "'%s' has an invalid IPv6 host in brackets",
                                  im_types_quote (v, q));
        memcpy (addr, v + hstart + 1, alen);
        addr[alen] = '\0';
        if (inet_pton (AF_INET6, addr, bytes) != 1)
            return im_types_fail (err, errsz, "'%s' has an invalid IPv6 host in brackets",
                                  im_types_quote (v, q));
    }
    else
        for (hend = hstart; hend < aend && v[hend] != ':'; hend++)
            ;
    if (hend == hstart)
        return im_types_fail (err, errsz, "'%s' has no host", im_types_quote (v, q));
    if (v[hstart] != '[' && url_host_check (v, v + hstart, hend - hstart, err, errsz))
        return EINVAL;
    if (hend < aend) {
        unsigned long port = 0;
        if (v[hend] != ':')
            return im_types_fail (err, errsz, "'%s' has an invalid host",
                                  im_types_quote (v, q));
        if (aend - hend - 1 > 5)
            return im_types_fail (err, errsz, "'%s' has an invalid port",
                                  im_types_quote (v, q));
        for (i = hend + 1; i < aend; i++) {
            if (!is_digit ((unsigned char)v[i]))
                return im_types_fail (err, errsz, "'%s' has an invalid port",
                                      im_types_quote (v, q));
            port = port * 10 + (unsigned long)(v[i] - '0');
        }
        if (port > 65535)
            return im_types_fail (err, errsz, "'%s' has an invalid port",
                                  im_types_quote (v, q));
    }

    /* A fully qualified host ("evil.example.") is the same host: its
     * trailing dot goes, as a domain's does (url_host_check allows one). */
    size_t dot = v[hstart] != '[' && v[hend - 1] == '.';
    memcpy (canon, v, hend - dot);
    memcpy (canon + hend - dot, v + hend, n - hend);
    canon[n - dot] = '\0';
    for (i = 0; i < slen; i++)
        canon[i] = (char)to_lower ((unsigned char)canon[i]);
    for (i = hstart; i < hend - dot; i++)
        canon[i] = (char)to_lower ((unsigned char)canon[i]);
    *clen = n - dot;
    return 0;
}

int
im_ioc_norm_email (const im_type_info_t *t IM_UNUSED, const char *v, size_t n,
                   char *canon, size_t *clen, char *err, size_t errsz)
{
    static const char forbidden[] = " <>(),;:\\\"[]";
    char q[QUOTE_SZ];
    char cd[16];
    char derr[256];
    const char *at = memchr (v, '@', n);
    size_t i, llen, dlen;

    if (!at)
        return im_types_fail (err, errsz, "'%s' has no '@' (expected local@domain)",
                              im_types_quote (v, q));
    llen = (size_t)(at - v);
    if (memchr (at + 1, '@', n - llen - 1))
        return im_types_fail (err, errsz, "'%s' has more than one '@'",
                              im_types_quote (v, q));
    if (llen == 0)
        return im_types_fail (err, errsz, "'%s' has an empty local part",
                              im_types_quote (v, q));
    if (llen > LOCAL_MAX)
        return im_types_fail (err, errsz,
                              "'%s' has a local part longer than %d characters",
                              im_types_quote (v, q), LOCAL_MAX);
    for (i = 0; i < llen; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c >= 0x80)
            return im_types_fail (err, errsz,
                                  "'%s' has non-ASCII characters in its local part "
                                  "(not supported)",
                                  im_types_quote (v, q));
        if (c <= 0x20 || c == 0x7f || strchr (forbidden, c))
            return im_types_fail (err, errsz,
                                  "'%s' has %s in its local part, which is not allowed",
                                  im_types_quote (v, q), char_desc (c, cd, sizeof cd));
    }
    if (llen + 1 == n)
        return im_types_fail (err, errsz, "'%s' has an empty domain",
                              im_types_quote (v, q));
    derr[0] = '\0';
    if (im_ioc_norm_domain (im_type_info (IM_TYPE_DOMAIN), at + 1, n - llen - 1,
                            canon + llen + 1, &dlen, derr, sizeof derr))
        return im_types_fail (err, errsz, "'%s' has an invalid domain: %s",
                              im_types_quote (v, q), derr);
    memcpy (canon, v, llen);
    canon[llen] = '@';
    *clen = llen + 1 + dlen;
    canon[*clen] = '\0';
    return 0;
}

/* Hashes, file names, AS numbers */

int
im_ioc_norm_hash (const im_type_info_t *t, const char *v, size_t n, char *canon,
                  size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    char cd[16];
    size_t i, want = t->hexlen;
    const char *what = t->what;

    if (n != want)
        return im_types_fail (err, errsz,
                              "'%s' is not %s hash (%zu hex digits, got %zu characters)",
                              im_types_quote (v, q), what, want, n);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (!is_hex (c))
            return im_types_fail (err, errsz,
                                  "'%s' is not %s hash (%zu hex digits): %s at position "
                                  "%zu is not a hex digit",
                                  im_types_quote (v, q), what, want,
                                  char_desc (c, cd, sizeof cd), i + 1);
        canon[i] = (char)to_lower (c);
    }
    canon[n] = '\0';
    *clen = n;
    return 0;
}

int
im_ioc_norm_filename (const im_type_info_t *t IM_UNUSED, const char *v, size_t n,
                      char *canon, size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    const unsigned char *s = (const unsigned char *)v;
    size_t i = 0;

    if (n > FNAME_MAX)
        return im_types_fail (err, errsz, "filename is longer than %d bytes", FNAME_MAX);
    while (i < n) {
        uint32_t cp;
        size_t len;
        if (is_ctrl (s[i]))
            return im_types_fail (err, errsz, "'%s' contains control characters",
                                  im_types_quote (v, q));
        len = im_utf8_decode (s + i, n - i, &cp);
        if (len == 0)
            return im_types_fail (err, errsz,
                                  "'%s' is not valid UTF-8 (byte 0x%02x at offset %zu)",
                                  im_types_quote (v, q), s[i], i);
        i += len;
    }
    memcpy (canon, v, n);
    canon[n] = '\0';
    *clen = n;
    return 0;
}

int
im_ioc_norm_asn (const im_type_info_t *t IM_UNUSED, const char *v, size_t n, char *canon,
                 size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    unsigned long long num = 0;
    size_t i = 0, j;

    if (n >= 2 && to_lower ((unsigned char)v[0]) == 'a'
        && to_lower ((unsigned char)v[1]) == 's')
        i = 2;
    if (i == n)
        return im_types_fail (err, errsz,
                              "'%s' is not an AS number (expected AS123 or 123)",
                              im_types_quote (v, q));
    for (j = i; j < n; j++)
        if (!is_digit ((unsigned char)v[j]))
            return im_types_fail (err, errsz,
                                  "'%s' is not an AS number (expected AS123 or 123)",
                                  im_types_quote (v, q));
    if (v[i] == '0' && n - i > 1)
        return im_types_fail (err, errsz, "'%s' is not an AS number (leading zero)",
                              im_types_quote (v, q));
    if (n - i > 10)
        return im_types_fail (err, errsz, "'%s' is out of range (AS1 to AS%llu)",
                              im_types_quote (v, q), ASN_MAX);
    for (j = i; j < n; j++)
        num = num * 10 + (unsigned long long)(v[j] - '0');
    if (num == 0 || num > ASN_MAX)
        return im_types_fail (err, errsz, "'%s' is out of range (AS1 to AS%llu)",
                              im_types_quote (v, q), ASN_MAX);
    *clen = (size_t)snprintf (canon, IM_VALUE_MAX + 1, "AS%llu", num);
    return 0;
}
