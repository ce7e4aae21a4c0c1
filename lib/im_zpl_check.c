/* SPDX-License-Identifier: MPL-2.0 */
/* im_zpl_check.c -- the first syntax error of a ZPL text, with its line and
 * column and what was expected, by the rules czmq's zconfig loads it with
 * (zconfig only says that a text does not load). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "im_util.h"
#include "im_zpl_check.h"

static int
is_namechar (unsigned char c)
{
    return isalnum (c) || (c && strchr ("$-_@.&+/", c));
}

/* The first byte from AT on that is not white space. */
static size_t
skip_space (const char *s, size_t at, size_t len)
{
    while (at < len && isspace ((unsigned char)s[at]))
        at++;
    return at;
}

/* What may follow a name or a quoted value: nothing, or a comment. Returns 0,
 * or the column of what else there is. */
static size_t
check_eoln (const char *s, size_t at, size_t len)
{
    at = skip_space (s, at, len);
    return at == len || s[at] == '#' ? 0 : at + 1;
}

/* A line with no name: white space, a comment, or an error explained. */
static size_t
check_nameless (const char *s, size_t at, size_t len, char *why, size_t whysz)
{
    size_t col = check_eoln (s, at, len);
    if (!col)
        return 0;
    for (size_t i = at; i + 1 < col; i++)
        if (s[i] == '\t') {
            snprintf (why, whysz, "a tab; indent by 4 spaces a level, never tabs");
            return i + 1;
        }
    char c = s[col - 1];
    if (c == '[')
        snprintf (why, whysz,
                  "'[' starts an INI-style section header; in ZPL a section is "
                  "its name alone on a line, its settings under it indented by 4 "
                  "spaces");
    else if (c == '=')
        snprintf (why, whysz, "'=' with no name before it; expected NAME = VALUE");
    else
        snprintf (why, whysz,
                  "'%c' cannot start a name; expected a name (letters, digits, "
                  "'$-_@.&+/') or a '#' comment",
                  isprint ((unsigned char)c) ? c : '?');
    return col;
}

/* The rest of a line after its name NAME (LEN bytes up to AT): nothing, or
 * '=' and a value. Returns 0, or the column of the error. */
static size_t
check_value (const char *s, size_t name, size_t at, size_t len, char *why, size_t whysz)
{
    size_t i = skip_space (s, at, len);
    if (i == len || s[i] != '=') {
        size_t col = check_eoln (s, at, len);
        if (col)
            snprintf (why, whysz, "expected '=' between '%.*s' and its value",
                      (int)(at - name), s + name);
        return col;
    }
    i = skip_space (s, i + 1, len);
    if (i == len || (s[i] != '"' && s[i] != '\''))
        return 0; /* an unquoted value runs to a comment */
    const char *end = memchr (s + i + 1, s[i], len - i - 1);
    if (!end) {
        snprintf (why, whysz,
                  "this quote is not closed; expected a closing %c on the line", s[i]);
        return i + 1;
    }
    size_t col = check_eoln (s, (size_t)(end - s) + 1, len);
    if (col)
        snprintf (why, whysz,
                  "'%c' after the quoted value; expected the end of the line or a "
                  "'#' comment",
                  isprint ((unsigned char)s[col - 1]) ? s[col - 1] : '?');
    return col;
}

/* Checks one line of LEN bytes (trailing white space trimmed), where the line
 * above allows at most *DEPTH levels of indentation. Returns 0, or the column
 * of the first error with what is wrong in WHY. */
static size_t
check_line (const char *s, size_t len, int *depth, char *why, size_t whysz)
{
    size_t i = 0;
    while (i < len && s[i] == ' ')
        i++;
    if (i < len && s[i] == '\t' && check_eoln (s, i, len)) {
        snprintf (why, whysz, "a tab; indent by 4 spaces a level, never tabs");
        return i + 1;
    }
    if (i % 4) {
        snprintf (why, whysz, "indented by %zu spaces; indent by 4 spaces a level", i);
        return i + 1;
    }
    int level = (int)(i / 4);
    size_t name = i;
    while (i < len && is_namechar ((unsigned char)s[i]))
        i++;
    if (i == name)
        return check_nameless (s, i, len, why, whysz);
    if (s[name] == '/' || s[i - 1] == '/') {
        snprintf (why, whysz, "a name cannot start or end with '/'");
        return s[name] == '/' ? name + 1 : i;
    }
    size_t col = check_value (s, name, i, len, why, whysz);
    if (col)
        return col;
    if (level > *depth) {
        snprintf (why, whysz,
                  "indented %d levels; expected at most %d, one deeper than the "
                  "section above",
                  level, *depth);
        return 1;
    }
    *depth = level + 1;
    return 0;
}

int
im_zpl_check (const char *text, const char *file, char *err, size_t errsz)
{
    if (!text)
        return im_fail (EINVAL, err, errsz, "%s: no text", file);
    int depth = 0, lineno = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr (p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen (p);
        const char *next = nl ? nl + 1 : p + len;
        while (len && isspace ((unsigned char)p[len - 1]))
            len--;
        lineno++;
        char why[256];
        size_t col = check_line (p, len, &depth, why, sizeof why);
        if (col)
            return im_fail (EINVAL, err, errsz, "%s:%d:%zu: %s", file, lineno, col, why);
        p = next;
    }
    return 0;
}
