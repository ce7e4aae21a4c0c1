/* SPDX-License-Identifier: MPL-2.0 */
/* testlib.h -- helpers the unit test programs share: a temporary directory per
 * test, paths inside it, and printable copies of strings for TAP lines.
 * Header-only, like tap.h: each test program includes it once. */
#ifndef IM_TESTLIB_H
#define IM_TESTLIB_H

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tap.h"

static inline int
rm_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove (path);
}

/* The source tree, for fixtures: $top_srcdir (set by make check), or the one
 * this program was built from (IM_TOP_SRCDIR, so that it runs by hand from
 * the build directory too). */
#ifndef IM_TOP_SRCDIR
#define IM_TOP_SRCDIR "."
#endif
static inline const char *
top_srcdir (void)
{
    const char *top = getenv ("top_srcdir");
    return top && *top ? top : IM_TOP_SRCDIR;
}

/* A new empty directory for one test, /tmp/im-test-TAG-XXXXXX, in BUF. */
static inline char *
make_dir (char *buf, size_t bufsz, const char *tag)
{
    snprintf (buf, bufsz, "/tmp/im-test-%s-XXXXXX", tag);
    if (!mkdtemp (buf))
        BAIL_OUT ("mkdtemp: %s", strerror (errno));
    return buf;
}

/* Removes DIR and everything below it. */
static inline void
remove_dir (const char *dir)
{
    if (nftw (dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        diag ("could not remove %s: %s", dir, strerror (errno));
}

/* DIR/NAME, in BUF. */
static inline char *
sub_path (char *buf, size_t bufsz, const char *dir, const char *name)
{
    snprintf (buf, bufsz, "%s/%s", dir, name);
    return buf;
}

/* Copies S into BUF for a TAP line: bytes outside printable ASCII (and '#')
 * become \xNN; the copy ends with "..." after CUT bytes of S, and stops
 * short without it if BUF fills first. */
static inline const char *
printable_cut (const char *s, size_t cut, char *buf, size_t bufsz)
{
    size_t o = 0;
    if (!s)
        return "(null)";
    for (size_t i = 0; s[i] && o + 8 < bufsz; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == cut) {
            o += (size_t)snprintf (buf + o, bufsz - o, "...");
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '#')
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf (buf + o, bufsz - o, "\\x%02x", c);
    }
    buf[o] = '\0';
    return buf;
}

/* A printable copy of S, whole unless BUF fills first. */
static inline const char *
printable (const char *s, char *buf, size_t bufsz)
{
    return printable_cut (s, SIZE_MAX, buf, bufsz);
}

#endif /* IM_TESTLIB_H */
