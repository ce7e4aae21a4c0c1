/* SPDX-License-Identifier: MPL-2.0 */
/* im_util.c -- error reporting into a caller's buffer, and a strict UTF-8
 * decoder (no overlong forms, no surrogates, nothing past U+10FFFF). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "im_util.h"

int
im_fail (int code, char *err, size_t errsz, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (err, errsz, fmt, ap);
        va_end (ap);
    }
    errno = code;
    return -1;
}

size_t
im_utf8_decode (const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t v, min;
    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2;
        v = s[0] & 0x1f;
        min = 0x80;
    }
    else if ((s[0] & 0xf0) == 0xe0) {
        len = 3;
        v = s[0] & 0x0f;
        min = 0x800;
    }
    else if ((s[0] & 0xf8) == 0xf0) {
        len = 4;
        v = s[0] & 0x07;
        min = 0x10000;
    }
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

int
im_utf8_valid (const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = im_utf8_decode (p + i, len - i, &cp);
        if (n == 0 || cp == 0)
            return 0;
        i += n;
    }
    return 1;
}

int
im_utf8_unsafe (uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c
           || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e)
           || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

void
im_mem_populate (void *addr, size_t len)
{
#ifdef MADV_POPULATE_WRITE
    if (!addr || len == 0)
        return;
    int saved = errno;
    long sz = sysconf (_SC_PAGESIZE); /* a value glibc keeps: no system call */
    uintptr_t page = sz > 0 ? (uintptr_t)sz : 4096;
    uintptr_t from = (uintptr_t)addr & ~(page - 1);
    uintptr_t to = ((uintptr_t)addr + len + page - 1) & ~(page - 1);
    (void)madvise ((void *)from, to - from, MADV_POPULATE_WRITE);
    errno = saved;
#else
    (void)addr;
    (void)len;
#endif
}
