/* SPDX-License-Identifier: MPL-2.0 */
/* im_types_int.h -- private to the indicator types (im_types*.c) and to the
 * validation on top of them (im_ioc.c): ASCII character classes and the
 * helpers that build the one-line reasons of the normalisers. */
#ifndef IM_TYPES_INT_H
#define IM_TYPES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "im_types.h"

#define QUOTE_MAX 64             /* input bytes quoted in an error */
#define QUOTE_SZ (QUOTE_MAX + 8) /* room for "..." and the NUL */

/* Character classes (ASCII only, independent of the locale) */

static inline int
is_digit (int c)
{
    return c >= '0' && c <= '9';
}

static inline int
is_alpha (int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
is_hex (int c)
{
    return is_digit (c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline int
is_space (int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static inline int
is_ctrl (int c)
{
    return (c >= 0 && c < 0x20) || c == 0x7f;
}

static inline int
to_lower (int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* strnlen without depending on feature-test macros. */
size_t im_types_bounded_len (const char *s, size_t max);

/* Writes a printable excerpt of VALUE into Q (QUOTE_SZ bytes): at most
 * QUOTE_MAX input bytes, never splitting a UTF-8 sequence, "..." when cut;
 * control characters and invalid bytes become '?'. Returns Q. */
const char *im_types_quote (const char *value, char *q);

/* Formats a reason into ERR (if any) and returns EINVAL. */
int im_types_fail (char *err, size_t errsz, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Parses a prefix length of LEN bytes at S: 1 to 3 digits, no sign, no
 * leading zero, at most MAX. Returns 0 and sets *PLEN, or -1. */
int im_types_parse_prefixlen (const char *s, size_t len, int max, int *plen);

/* Reads the IPv4 address of N bytes at V exactly as inet_pton does (four
 * octets of 1 to 3 digits, at most 255, no leading zero) into BYTES, without
 * a copy. Returns 0, or -1. */
int im_types_dotted_quad (const char *v, size_t n, uint8_t bytes[4]);

/* Refuses a defanged spelling of an address, domain, URL or e-mail address
 * (hxxp://, [.], (.), [:], [@], ...): returns EINVAL with a reason that
 * gives the refanged value ("did you mean http://evil.example?"), or 0. */
int im_types_defanged (const char *v, size_t n, char *err, size_t errsz);

/* Returns the length of a valid scheme ([A-Za-z][A-Za-z0-9+.-]*) that V
 * starts with and that "://" follows, or 0. */
size_t im_types_url_scheme_len (const char *v);

#endif
