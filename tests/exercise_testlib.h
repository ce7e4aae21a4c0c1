/* SPDX-License-Identifier: MPL-2.0 */
/* exercise_testlib.h -- helpers of tests/test_exercise_report.c: an element
 * of a JSON document by its path ("events[3].at"), read or set; a file read
 * whole, its mode; lines, rows and Markdown cell bars of a text; and python3's
 * XML parser run on a file. Header-only, like testlib.h. */
#ifndef IM_EXERCISE_TESTLIB_H
#define IM_EXERCISE_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "tap.h"
#include "testlib.h"

/* The element of J at PATH ("a.b[2].c"; "" is J). */
static json_t *
at (const json_t *j, const char *path)
{
    char buf[128], *save = NULL;
    snprintf (buf, sizeof buf, "%s", path);
    for (char *tok = strtok_r (buf, ".", &save); tok && j;
         tok = strtok_r (NULL, ".", &save)) {
        char *br = strchr (tok, '[');
        if (br)
            *br = 0;
        if (*tok)
            j = json_object_get (j, tok);
        while (br && j) {
            j = json_array_get (j, strtoul (br + 1, &br, 10));
            br = strchr (br, '[');
        }
    }
    return (json_t *)j;
}

/* Sets the element at PATH of ROOT to VALUE (JSON text; NULL removes it). */
static void
set (json_t *root, const char *path, const char *value)
{
    char parent[128], last[64];
    const char *dot = strrchr (path, '.');
    snprintf (parent, sizeof parent, "%.*s", dot ? (int)(dot - path) : 0, path);
    snprintf (last, sizeof last, "%s", dot ? dot + 1 : path);
    json_t *v = value ? json_loads (value, JSON_DECODE_ANY, NULL) : NULL;
    if (value && !v)
        BAIL_OUT ("bad test value %s", value);
    json_t *p = at (root, parent);
    char *br = strchr (last, '[');
    if (br) {
        *br = 0;
        p = json_object_get (p, last);
        size_t i = strtoul (br + 1, NULL, 10);
        if (v ? json_array_set_new (p, i, v) : json_array_remove (p, i))
            BAIL_OUT ("cannot set %s", path);
    }
    else if (v ? json_object_set_new (p, last, v) : json_object_del (p, last))
        BAIL_OUT ("cannot set %s", path);
}

/* Whether the number at PATH of J is WANT exactly (an integer when WANT is
 * whole, else a real). */
static int
num_is (const json_t *j, const char *path, double want)
{
    const json_t *v = at (j, path);
    if (want == (double)(long long)want)
        return json_is_integer (v) && json_integer_value (v) == (long long)want;
    return json_is_real (v) && json_real_value (v) == want;
}

/* The line of TEXT that starts with WHAT, its runs of spaces as one, in BUF. */
static const char *
row_of (const char *text, const char *what, char *buf, size_t bufsz)
{
    size_t o = 0;
    const char *p = text;
    while (p && strncmp (p, what, strlen (what)) != 0)
        p = (p = strchr (p, '\n')) ? p + 1 : NULL;
    for (; p && *p && *p != '\n' && o + 1 < bufsz; p++)
        if (*p != ' ' || (o > 0 && buf[o - 1] != ' '))
            buf[o++] = *p;
    buf[o] = 0;
    return buf;
}

/* DIR/NAME read whole (the caller frees it), or NULL. */
static char *
slurp (const char *dir, const char *name)
{
    char path[1024];
    sub_path (path, sizeof path, dir, name);
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream (&text, &len);
    int c;
    while ((c = fgetc (f)) != EOF)
        fputc (c, m);
    fclose (f);
    fclose (m);
    return text;
}

/* The permission bits of DIR/NAME, or -1 when it does not exist. */
static int
mode_of (const char *dir, const char *name)
{
    char path[1024];
    struct stat st;
    sub_path (path, sizeof path, dir, name);
    return stat (path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* How many times WHAT occurs in TEXT. */
static size_t
count_of (const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; p && (p = strstr (p, what)); p += strlen (what))
        n++;
    return n;
}

/* The line of TEXT holding WHAT, into BUF. */
static const char *
line_with (const char *text, const char *what, char *buf, size_t bufsz)
{
    const char *p = text ? strstr (text, what) : NULL;
    if (!p)
        return "";
    while (p > text && p[-1] != '\n')
        p--;
    size_t n = strcspn (p, "\n");
    snprintf (buf, bufsz, "%.*s", (int)n, p);
    return buf;
}

/* The '|' of a Markdown table row not escaped with '\': one more than its
 * cells. */
static size_t
md_pipes (const char *line)
{
    size_t n = 0;
    for (const char *p = line; *p; p++)
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '|')
            n++;
    return n;
}

/* Whether a real XML parser takes DIR/NAME: 1 yes, 0 no, -1 no python3. */
static int
xml_parses (const char *dir, const char *name)
{
    const char *py = getenv ("PYTHON3");
    char cmd[2048];
    if (!py || !*py)
        py = "python3";
    snprintf (cmd, sizeof cmd, "'%s' -c '' >/dev/null 2>&1", py);
    if (system (cmd) != 0)
        return -1;
    snprintf (cmd, sizeof cmd,
              "'%s' -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "
              "'%s/%s'",
              py, dir, name);
    return system (cmd) == 0;
}

#endif
