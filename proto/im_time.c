/* SPDX-License-Identifier: MPL-2.0 */
/* im_time.c -- RFC 3339 formatting and parsing of absolute and relative times,
 * without the local time zone ever taking part (timegm, gmtime_r). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "im_time.h"

char *
im_time_format (int64_t t, char out[IM_TIME_STR_SIZE])
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (gmtime_r (&tt, &tm) == NULL
        || strftime (out, IM_TIME_STR_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf (out, IM_TIME_STR_SIZE, "@%lld", (long long)t);
    return out;
}

int64_t
im_time_now (void)
{
    return (int64_t)time (NULL);
}

int64_t
im_time_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly N digits at *P into *V. */
static int
digits (const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit ((unsigned char)(*p)[i]))
            return -1;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return 0;
}

static int
parse_duration (const char *s, int64_t now, int64_t *t)
{
    if (*s == '+')
        s++;
    if (!isdigit ((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long long n = strtoll (s, &end, 10);
    if (errno || end == s || n < 0)
        return -1;
    long long unit;
    if (strcmp (end, "s") == 0)
        unit = 1;
    else if (strcmp (end, "m") == 0)
        unit = 60;
    else if (strcmp (end, "h") == 0)
        unit = 3600;
    else if (strcmp (end, "d") == 0)
        unit = 86400;
    else if (strcmp (end, "w") == 0)
        unit = 7 * 86400;
    else
        return -1;
    if (n > (LLONG_MAX - now) / unit)
        return -1;
    *t = now + n * unit;
    return 0;
}

int
im_time_parse (const char *text, int64_t now, int64_t *t)
{
    if (!text || !t || !*text) {
        errno = EINVAL;
        return -1;
    }
    const char *p = text;
    struct tm tm;
    memset (&tm, 0, sizeof tm);
    int y, mo, d, h = 0, mi = 0, s = 0, offset = 0;
    if (strlen (text) < 10 || text[4] != '-') {
        if (parse_duration (text, now, t) == 0)
            return 0;
        errno = EINVAL;
        return -1;
    }
    if (digits (&p, 4, &y) || *p++ != '-' || digits (&p, 2, &mo) || *p++ != '-'
        || digits (&p, 2, &d))
        goto bad;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits (&p, 2, &h) || *p++ != ':' || digits (&p, 2, &mi) || *p++ != ':'
            || digits (&p, 2, &s))
            goto bad;
        if (*p == '.') {
            p++;
            if (!isdigit ((unsigned char)*p))
                goto bad;
            while (isdigit ((unsigned char)*p))
                p++;
        }
        if (*p == 'Z' || *p == 'z')
            p++;
        else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (digits (&p, 2, &oh) || *p++ != ':' || digits (&p, 2, &om) || oh > 23
                || om > 59)
                goto bad;
            offset = sign * (oh * 3600 + om * 60);
        }
        else
            goto bad;
    }
    if (*p != '\0')
        goto bad;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60
        || (s == 60 && (h != 23 || mi != 59)))
        goto bad;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    /* A leap second (23:59:60) is read as the second before, plus one. */
    tm.tm_sec = s == 60 ? 59 : s;
    errno = 0;
    time_t tt = timegm (&tm);
    /* timegm normalises 31 February into March: refuse such dates. */
    if ((tt == (time_t)-1 && errno) || tm.tm_mday != d || tm.tm_mon != mo - 1)
        goto bad;
    *t = (int64_t)tt + (s == 60) - offset;
    return 0;
bad:
    errno = EINVAL;
    return -1;
}

int
im_time_duration (const char *text, int64_t *seconds)
{
    size_t len = text ? strlen (text) : 0;
    if (!seconds || len < 2 || strspn (text, "0123456789") != len - 1
        || !strchr ("smhdw", text[len - 1]) || im_time_parse (text, 0, seconds) != 0) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}
