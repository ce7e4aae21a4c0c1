/* SPDX-License-Identifier: MPL-2.0 */
/* im_ioc.c -- indicator types and TLP labels: names, validation of every
 * indicator type and its one canonical spelling (see im_ioc.h), on top of the
 * table of types (im_types.c) and its normalisers (im_types_norm.c). Pure
 * functions over caller buffers: libc only, no global mutable state. */

#include "im_ioc.h"
#include "im_types_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const tlp_names[IM_TLP_COUNT]
    = { NULL, "clear", "green", "amber", "amber+strict", "red" };

/* Names */

const char *
im_type_name (int type)
{
    const im_type_info_t *t = im_type_info (type);
    return t ? t->name : NULL;
}

int
im_type_parse (const char *name)
{
    int type;
    if (name)
        for (type = IM_TYPE_NONE + 1; type < IM_TYPE_COUNT; type++)
            if (im_type_is_ioc (type)
                && strcasecmp (name, im_type_info (type)->name) == 0)
                return type;
    errno = EINVAL;
    return -1;
}

const char *
im_tlp_name (int tlp)
{
    if (tlp <= IM_TLP_NONE || tlp >= IM_TLP_COUNT)
        return NULL;
    return tlp_names[tlp];
}

int
im_tlp_parse (const char *name)
{
    int tlp;
    if (name) {
        if (strncasecmp (name, "tlp:", 4) == 0)
            name += 4;
        for (tlp = IM_TLP_NONE + 1; tlp < IM_TLP_COUNT; tlp++)
            if (strcasecmp (name, tlp_names[tlp]) == 0)
                return tlp;
        if (strcasecmp (name, "white") == 0)
            return IM_TLP_CLEAR;
        if (strcasecmp (name, "amber-strict") == 0)
            return IM_TLP_AMBER_STRICT;
    }
    errno = EINVAL;
    return -1;
}

/* Normalisation */

/* Checks the arguments and the rules common to every type, then dispatches.
 * Returns 0 with the canonical form in CANON (IM_VALUE_MAX + 1 bytes), or an
 * errno value. */
static int
normalise (int type, const char *value, char *out, size_t outsz, char *canon,
           size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    size_t n;

    if (!out || outsz == 0)
        return im_types_fail (err, errsz, "no output buffer");
    if (!value)
        return im_types_fail (err, errsz, "no value");
    if (!im_type_info (type))
        return im_types_fail (err, errsz, "unknown indicator type %d", type);
    n = im_types_bounded_len (value, IM_VALUE_MAX + 1);
    if (n == 0)
        return im_types_fail (err, errsz, "empty value");
    if (n > IM_VALUE_MAX)
        return im_types_fail (err, errsz, "value is longer than %d bytes", IM_VALUE_MAX);
    if (is_space ((unsigned char)value[0]) || is_space ((unsigned char)value[n - 1]))
        return im_types_fail (err, errsz, "'%s' has leading or trailing whitespace",
                              im_types_quote (value, q));

    const im_type_info_t *t = im_type_info (type);
    if (t->wl != IM_WL_PLAIN && im_types_defanged (value, n, err, errsz))
        return EINVAL;
    return t->normalise (t, value, n, canon, clen, err, errsz);
}

int
im_ioc_normalise (int type, const char *value, char *out, size_t outsz, char *err,
                  size_t errsz)
{
    char canon[IM_VALUE_MAX + 1];
    size_t clen = 0;
    int rc;

    if (err && errsz > 0)
        err[0] = '\0';
    if (out && outsz > 0)
        out[0] = '\0';
    rc = normalise (type, value, out, outsz, canon, &clen, err, errsz);
    if (rc == 0 && clen >= outsz) {
        im_types_fail (err, errsz, "value too long for buffer (%zu bytes needed)",
                       clen + 1);
        rc = ENOSPC;
    }
    if (rc) {
        errno = rc;
        return -1;
    }
    memcpy (out, canon, clen + 1);
    return 0;
}

/* Guessing */

static int
normalises_as (int type, const char *value)
{
    char canon[IM_VALUE_MAX + 1];
    return im_ioc_normalise (type, value, canon, sizeof canon, NULL, 0) == 0;
}

static int
guess (const char *value)
{
    size_t n, i;

    if (normalises_as (IM_TYPE_IPV4, value))
        return IM_TYPE_IPV4;
    if (normalises_as (IM_TYPE_IPV6, value))
        return IM_TYPE_IPV6;

    n = strlen (value);
    if (n > 2 && to_lower ((unsigned char)value[0]) == 'a'
        && to_lower ((unsigned char)value[1]) == 's') {
        for (i = 2; i < n && is_digit ((unsigned char)value[i]); i++)
            ;
        if (i == n)
            return IM_TYPE_ASN;
    }
    for (i = 0; i < n && is_hex ((unsigned char)value[i]); i++)
        ;
    if (i == n && im_type_by_hexlen (n) != IM_TYPE_NONE)
        return im_type_by_hexlen (n);
    if (im_types_url_scheme_len (value) > 0)
        return IM_TYPE_URL;
    if (strchr (value, '@') && normalises_as (IM_TYPE_EMAIL, value))
        return IM_TYPE_EMAIL;
    if (normalises_as (IM_TYPE_DOMAIN, value))
        return IM_TYPE_DOMAIN;
    return IM_TYPE_FILENAME;
}

int
im_ioc_guess (const char *value)
{
    int saved = errno;
    int type;

    if (!value || !*value)
        return IM_TYPE_NONE;
    type = guess (value);
    errno = saved;
    return type;
}

/* Network prefixes. The value is validated (and normalised) first, so host
 * bits set or a bad prefix length are refused; for ipv4 the 12 bytes of ADDR
 * after the 4 address bytes are zeroed. */
int
im_ioc_prefix_canonical (int type, const char *canon, uint8_t addr[16], int *prefixlen)
{
    char text[INET6_ADDRSTRLEN];
    uint8_t bytes[16];
    const char *slash;
    size_t alen;
    int af, plen;

    if (!canon || !addr || !prefixlen || (type != IM_TYPE_IPV4 && type != IM_TYPE_IPV6)) {
        errno = EINVAL;
        return -1;
    }
    af = type == IM_TYPE_IPV4 ? AF_INET : AF_INET6;
    plen = type == IM_TYPE_IPV4 ? 32 : 128;
    slash = strchr (canon, '/');
    alen = slash ? (size_t)(slash - canon) : strlen (canon);
    if (alen >= sizeof text
        || (slash
            && im_types_parse_prefixlen (slash + 1, strlen (slash + 1), plen, &plen))) {
        errno = EINVAL;
        return -1;
    }
    memset (bytes, 0, sizeof bytes);
    int bad;
    if (af == AF_INET)
        bad = im_types_dotted_quad (canon, alen, bytes); /* read in place */
    else {
        memcpy (text, canon, alen);
        text[alen] = '\0';
        bad = inet_pton (af, text, bytes) != 1;
    }
    if (bad) {
        errno = EINVAL;
        return -1;
    }
    memcpy (addr, bytes, 16);
    *prefixlen = plen;
    return 0;
}

int
im_ioc_prefix (int type, const char *value, uint8_t addr[16], int *prefixlen)
{
    char canon[IM_VALUE_MAX + 1];
    if (!value || !addr || !prefixlen || (type != IM_TYPE_IPV4 && type != IM_TYPE_IPV6)
        || im_ioc_normalise (type, value, canon, sizeof canon, NULL, 0) != 0) {
        errno = EINVAL;
        return -1;
    }
    return im_ioc_prefix_canonical (type, canon, addr, prefixlen);
}

/* An inject's value: the kind of what it simulates (an indicator type or
 * "report"), a space, and that value or title in its canonical form. */
int
im_ioc_norm_inject (const im_type_info_t *t, const char *v, size_t n, char *canon,
                    size_t *clen, char *err, size_t errsz)
{
    (void)t;
    char q[QUOTE_SZ], kind[32], inner[IM_VALUE_MAX + 1];
    const char *sp = memchr (v, ' ', n);
    size_t kl = sp ? (size_t)(sp - v) : 0;
    if (!sp || kl == 0 || kl >= sizeof kind || kl + 1 >= n)
        return im_types_fail (err, errsz,
                              "'%s' is not an inject's KIND VALUE (an indicator type or "
                              "report, a space, its value)",
                              im_types_quote (v, q));
    memcpy (kind, v, kl);
    kind[kl] = 0;
    int type = strcmp (kind, "report") == 0 ? IM_TYPE_REPORT : im_type_parse (kind);
    if (type < 0)
        return im_types_fail (err, errsz,
                              "inject: '%s' is neither an indicator type nor "
                              "report",
                              im_types_quote (kind, q));
    if (im_ioc_normalise (type, sp + 1, inner, sizeof inner, err, errsz))
        return EINVAL;
    /* The kind as its type is named (lower case): "IPV4 x" is not a second
     * spelling of "ipv4 x", nor a topic ioc.IPV4 a subscriber misses. */
    snprintf (kind, sizeof kind, "%s", im_type_name (type));
    kl = strlen (kind);
    size_t il = strlen (inner);
    if (kl + 1 + il > IM_VALUE_MAX)
        return im_types_fail (err, errsz, "inject: longer than %d bytes", IM_VALUE_MAX);
    memcpy (canon, kind, kl);
    canon[kl] = ' ';
    memcpy (canon + kl + 1, inner, il + 1);
    *clen = kl + 1 + il;
    return 0;
}
