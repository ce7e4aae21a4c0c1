/* SPDX-License-Identifier: MPL-2.0 */
/* im_types_report.c -- the normalisers of the record types that are not
 * indicators: a report's title and a member's "ORIGINHEX/INDICATOR-UUID
 * REPORT-UUID" (SPEC.md, "Reports"), a sighting's "ORIGINHEX/INDICATOR-UUID"
 * ("Sightings") and a carrier's envelope digest ("Carrying sealed
 * envelopes"). Pure functions. */

#include "im_types.h"
#include "im_types_int.h"
#include "im_util.h"

#include <errno.h>
#include <stdio.h>

#include <string.h>

#define TITLE_MAX 256
#define UUID_LEN 36
#define MEMBER_LEN (64 + 1 + UUID_LEN + 1 + UUID_LEN)
#define SIGHTING_LEN (64 + 1 + UUID_LEN)
#define DIGEST_LEN 32

int
im_ioc_norm_report (const im_type_info_t *t, const char *v, size_t n, char *canon,
                    size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    (void)t;
    if (n > TITLE_MAX)
        return im_types_fail (err, errsz, "a report title is longer than %d bytes",
                              TITLE_MAX);
    for (size_t i = 0; i < n; i++)
        if (is_ctrl ((unsigned char)v[i]))
            return im_types_fail (err, errsz, "'%s' contains control characters",
                                  im_types_quote (v, q));
    if (!im_utf8_valid (v, n))
        return im_types_fail (err, errsz, "'%s' is not valid UTF-8",
                              im_types_quote (v, q));
    memcpy (canon, v, n);
    canon[n] = '\0';
    *clen = n;
    return 0;
}

/* Checks LEN characters of UUID text at S (hex and dashes at 8-4-4-4-12) and
 * writes them in lower case to OUT. Returns 0 or -1. */
static int
uuid_lower (const char *s, char *out)
{
    for (int i = 0; i < UUID_LEN; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex ((unsigned char)s[i]))
            return -1;
        out[i] = (char)to_lower ((unsigned char)s[i]);
    }
    return 0;
}

int
im_ioc_norm_member (const im_type_info_t *t, const char *v, size_t n, char *canon,
                    size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    (void)t;
    int ok = n == MEMBER_LEN && v[64] == '/' && v[65 + UUID_LEN] == ' ';
    for (int i = 0; ok && i < 64; i++) {
        ok = is_hex ((unsigned char)v[i]);
        canon[i] = (char)to_lower ((unsigned char)v[i]);
    }
    if (!ok || uuid_lower (v + 65, canon + 65)
        || uuid_lower (v + 66 + UUID_LEN, canon + 66 + UUID_LEN))
        return im_types_fail (err, errsz,
                              "'%s' is not ORIGIN/INDICATOR-ID REPORT-ID (64 hex digits, "
                              "'/', a UUID, a space, a UUID)",
                              im_types_quote (v, q));
    canon[64] = '/';
    canon[65 + UUID_LEN] = ' ';
    canon[n] = '\0';
    *clen = n;
    return 0;
}

int
im_ioc_norm_sighting (const im_type_info_t *t, const char *v, size_t n, char *canon,
                      size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    (void)t;
    int ok = n == SIGHTING_LEN && v[64] == '/';
    for (int i = 0; ok && i < 64; i++) {
        ok = is_hex ((unsigned char)v[i]);
        canon[i] = (char)to_lower ((unsigned char)v[i]);
    }
    if (!ok || uuid_lower (v + 65, canon + 65))
        return im_types_fail (err, errsz,
                              "'%s' is not ORIGIN/INDICATOR-ID (64 hex digits, '/', a "
                              "UUID)",
                              im_types_quote (v, q));
    canon[64] = '/';
    canon[n] = '\0';
    *clen = n;
    return 0;
}

int
im_ioc_norm_sealed (const im_type_info_t *t, const char *v, size_t n, char *canon,
                    size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    (void)t;
    int ok = n == DIGEST_LEN;
    for (size_t i = 0; ok && i < n; i++) {
        ok = is_hex ((unsigned char)v[i]);
        canon[i] = (char)to_lower ((unsigned char)v[i]);
    }
    if (!ok)
        return im_types_fail (err, errsz,
                              "'%s' is not an envelope digest (32 hex digits)",
                              im_types_quote (v, q));
    canon[n] = '\0';
    *clen = n;
    return 0;
}

int
im_exercise_name_check (const char *s, size_t len, char *err, size_t errsz)
{
    char q[QUOTE_SZ], copy[IM_EXERCISE_NAME_MAX + 2];
    int ok = s && len >= 1 && len <= IM_EXERCISE_NAME_MAX
             && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'));
    for (size_t i = 1; ok && i < len; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.'
             || s[i] == '_' || s[i] == '-';
    if (ok)
        return 0;
    snprintf (copy, sizeof copy, "%.*s",
              s ? (int)(len < sizeof copy - 1 ? len : sizeof copy - 1) : 0, s ? s : "");
    im_types_fail (err, errsz,
                   "exercise: '%s' is not a name of 1 to %d lower-case letters, digits, "
                   "'.', '_' or '-' (starting with a letter or digit)",
                   im_types_quote (copy, q), IM_EXERCISE_NAME_MAX);
    errno = EINVAL;
    return -1;
}

int
im_ioc_norm_exercise (const im_type_info_t *t, const char *v, size_t n, char *canon,
                      size_t *clen, char *err, size_t errsz)
{
    (void)t;
    if (im_exercise_name_check (v, n, err, errsz))
        return EINVAL;
    memcpy (canon, v, n);
    canon[n] = '\0';
    *clen = n;
    return 0;
}
