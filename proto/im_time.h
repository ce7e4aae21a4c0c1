/* SPDX-License-Identifier: MPL-2.0 */
/* im_time.h -- times as intelmesh writes and reads them: RFC 3339 UTC on the
 * outside ("2026-11-23T11:12:00Z"), seconds since the Unix epoch inside. */
#ifndef IM_TIME_H
#define IM_TIME_H

#include <stdint.h>

#define IM_TIME_STR_SIZE 32
/* 9999-12-31T23:59:59Z: the last time RFC 3339 can write. */
#define IM_TIME_MAX INT64_C (253402300799)

/* Writes T as RFC 3339 UTC with a 'Z'. Returns OUT. */
char *im_time_format (int64_t t, char out[IM_TIME_STR_SIZE]);

/* Parses an absolute time (RFC 3339 with 'Z' or a +hh:mm offset, fractional
 * seconds ignored; or a date YYYY-MM-DD meaning its midnight UTC) or a
 * duration from NOW ("+30d", "12h", "90m", "45s", "2w"). Returns 0, or -1 with
 * errno EINVAL. */
int im_time_parse (const char *text, int64_t now, int64_t *t);

/* Parses a length of time alone: digits and one unit, s, m, h, d or w
 * ("7d", "90m"); no sign, no date. Returns 0 and the seconds in *SECONDS, or
 * -1 with errno EINVAL. */
int im_time_duration (const char *text, int64_t *seconds);

/* Seconds since the epoch, from the real-time clock. */
int64_t im_time_now (void);
/* Milliseconds since the epoch, from the real-time clock. */
int64_t im_time_now_ms (void);

#endif
