/* SPDX-License-Identifier: MPL-2.0 */
/* im_util.h -- what every module shares: the one way errors are reported
 * (-1, errno, and a one-line reason in the caller's buffer) and UTF-8 checks. */
#ifndef IM_UTIL_H
#define IM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Writes the reason into ERR (when ERR and ERRSZ are given), sets errno to
 * CODE and returns -1. */
int im_fail (int code, char *err, size_t errsz, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

/* Decodes one UTF-8 sequence at S, with N bytes available. Returns its length
 * and the code point in *CP, or 0 for an invalid, truncated or overlong
 * sequence, a surrogate or a code point past U+10FFFF. */
size_t im_utf8_decode (const unsigned char *s, size_t n, uint32_t *cp);

/* Returns 1 when code point CP must not reach a terminal as it is, else 0:
 * C0 and C1 controls, DEL, and the characters that change how the text
 * around them reads or that cannot be seen (U+061C, U+200B-U+200F,
 * U+2028-U+202E, U+2060-U+2069, U+FEFF). */
int im_utf8_unsafe (uint32_t cp);

/* 64-bit numbers as 8 big-endian bytes (times in records' items, and every
 * number the store keeps): one load and a byte swap where the compiler
 * names the byte order (the store reads one for each node of a batch it
 * looks at), else a loop of 8. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define IM_BE64_SWAP(v) __builtin_bswap64 (v)
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define IM_BE64_SWAP(v) (v)
#endif

static inline void
im_put_be64 (uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
#ifdef IM_BE64_SWAP
    u = IM_BE64_SWAP (u);
    memcpy (p, &u, sizeof u);
#else
    for (int i = 7; i >= 0; i--, u >>= 8)
        p[i] = (uint8_t)u;
#endif
}

static inline int64_t
im_get_be64 (const uint8_t *p)
{
    uint64_t u = 0;
#ifdef IM_BE64_SWAP
    memcpy (&u, p, sizeof u);
    u = IM_BE64_SWAP (u);
#else
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
#endif
    return (int64_t)u;
}

/* Makes the pages of ADDR (LEN bytes of this process's writable memory)
 * present, in one call rather than a page fault each on first touch: a fault
 * took 14 us on the machine make bench runs on, a page populated 1 us (4 us
 * alone). Only advice: without MADV_POPULATE_WRITE (Linux 5.14) the pages
 * come as they are touched. Keeps errno. */
void im_mem_populate (void *addr, size_t len);

/* Returns 1 when S (LEN bytes) is well-formed UTF-8 without NUL, else 0. */
int im_utf8_valid (const char *s, size_t len);

#endif
