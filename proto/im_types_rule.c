/* SPDX-License-Identifier: MPL-2.0 */
/* im_types_rule.c -- the normalisers of the identifier and rule types of
 * im_types.c: CVE ids, ATT&CK technique ids, Windows registry keys, and YARA,
 * Sigma and Snort rules (a sanity check of their syntax), and a rule's label
 * (its name). Pure functions over caller buffers, libc only. */

#include "im_types_int.h"
#include "im_util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#if defined(__GNUC__)
#define IM_UNUSED __attribute__ ((unused))
#else
#define IM_UNUSED
#endif

#define CVE_DIGITS_MAX 19 /* the sequence number */
#define REGKEY_NAME_MAX 255
#define IDENT_MAX 128 /* a YARA identifier */

/* CVE and ATT&CK ids */

int
im_ioc_norm_cve (const im_type_info_t *t IM_UNUSED, const char *v, size_t n, char *canon,
                 size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    size_t i;
    if (n < 13 || strncasecmp (v, "CVE-", 4) != 0 || v[8] != '-')
        return im_types_fail (err, errsz, "'%s' is not a CVE id (expected CVE-YYYY-NNNN)",
                              im_types_quote (v, q));
    for (i = 4; i < n; i++)
        if (i != 8 && !is_digit ((unsigned char)v[i]))
            return im_types_fail (err, errsz,
                                  "'%s' is not a CVE id (expected CVE-YYYY-NNNN)",
                                  im_types_quote (v, q));
    if (memcmp (v + 4, "1999", 4) < 0)
        return im_types_fail (err, errsz, "'%s' has a year before 1999",
                              im_types_quote (v, q));
    if (n - 9 > CVE_DIGITS_MAX)
        return im_types_fail (err, errsz, "'%s' has more than %d digits after the year",
                              im_types_quote (v, q), CVE_DIGITS_MAX);
    if (n - 9 > 4 && v[9] == '0')
        return im_types_fail (err, errsz,
                              "'%s' has a leading zero in a number of 5 digits or more",
                              im_types_quote (v, q));
    memcpy (canon, "CVE", 3);
    memcpy (canon + 3, v + 3, n - 3);
    canon[n] = '\0';
    *clen = n;
    return 0;
}

int
im_ioc_norm_attack (const im_type_info_t *t IM_UNUSED, const char *v, size_t n,
                    char *canon, size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    int ok = (n == 5 || (n == 9 && v[5] == '.')) && (v[0] == 'T' || v[0] == 't');
    for (size_t i = 1; ok && i < n; i++)
        ok = i == 5 || is_digit ((unsigned char)v[i]);
    if (!ok)
        return im_types_fail (err, errsz,
                              "'%s' is not an ATT&CK technique id (expected T1234 or "
                              "T1234.001)",
                              im_types_quote (v, q));
    memcpy (canon, v, n);
    canon[0] = 'T';
    canon[n] = '\0';
    *clen = n;
    return 0;
}

/* Valid UTF-8 without control characters other than HT (and LF when
 * LINES): 0, or a reason. */
static const char *
text_problem (const char *v, size_t n, int lines)
{
    const unsigned char *s = (const unsigned char *)v;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len;
        if (is_ctrl (s[i]) && s[i] != '\t' && !(lines && (s[i] == '\n' || s[i] == '\r')))
            return "contains control characters";
        if ((len = im_utf8_decode (s + i, n - i, &cp)) == 0)
            return "is not valid UTF-8";
        i += len;
    }
    return NULL;
}

/* Windows registry keys */

static const char *const hives[][2] = {
    { "HKEY_LOCAL_MACHINE", "HKLM" },  { "HKEY_CURRENT_USER", "HKCU" },
    { "HKEY_CLASSES_ROOT", "HKCR" },   { "HKEY_USERS", "HKU" },
    { "HKEY_CURRENT_CONFIG", "HKCC" },
};

int
im_ioc_norm_regkey (const im_type_info_t *t IM_UNUSED, const char *v, size_t n,
                    char *canon, size_t *clen, char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    const char *sep = memchr (v, '\\', n), *why;
    size_t hlen = sep ? (size_t)(sep - v) : n, k, o, i;
    for (k = 0; k < sizeof hives / sizeof hives[0]; k++)
        if ((strlen (hives[k][0]) == hlen && strncasecmp (v, hives[k][0], hlen) == 0)
            || (strlen (hives[k][1]) == hlen && strncasecmp (v, hives[k][1], hlen) == 0))
            break;
    if (k == sizeof hives / sizeof hives[0])
        return im_types_fail (err, errsz,
                              "'%s' does not start with a hive (HKEY_LOCAL_MACHINE or "
                              "HKLM, HKCU, HKCR, HKU, HKCC, then '\\')",
                              im_types_quote (v, q));
    if ((why = text_problem (v, n, 0)) != NULL)
        return im_types_fail (err, errsz, "'%s' %s", im_types_quote (v, q), why);
    while (n > hlen && v[n - 1] == '\\') /* "...\Control\" is the key Control */
        n--;
    if (n <= hlen + 1)
        return im_types_fail (err, errsz, "'%s' names a hive but no key under it",
                              im_types_quote (v, q));
    o = (size_t)snprintf (canon, IM_VALUE_MAX + 1, "%s", hives[k][0]);
    for (i = hlen; i < n; i = k) {
        for (k = i + 1; k < n && v[k] != '\\'; k++)
            ;
        if (k == i + 1)
            return im_types_fail (err, errsz, "'%s' has an empty key name ('\\\\')",
                                  im_types_quote (v, q));
        if (k - i - 1 > REGKEY_NAME_MAX)
            return im_types_fail (err, errsz, "'%s' has a key name longer than %d bytes",
                                  im_types_quote (v, q), REGKEY_NAME_MAX);
    }
    if (o + n - hlen > IM_VALUE_MAX)
        return im_types_fail (err, errsz, "'%s' is longer than %d bytes with its hive",
                              im_types_quote (v, q), IM_VALUE_MAX);
    memcpy (canon + o, v + hlen, n - hlen);
    *clen = o + n - hlen;
    canon[*clen] = '\0';
    return 0;
}

/* Rules: a scanner over the rule's text */

typedef struct {
    const char *s;
    size_t n, i;
} scan_t;

/* Skips white space and, when COMMENTS, // and C comments. */
static void
skip_blank (scan_t *c, int comments)
{
    while (c->i < c->n) {
        if (is_space ((unsigned char)c->s[c->i]))
            c->i++;
        else if (comments && c->i + 1 < c->n && c->s[c->i] == '/'
                 && c->s[c->i + 1] == '/')
            while (c->i < c->n && c->s[c->i] != '\n')
                c->i++;
        else if (comments && c->i + 1 < c->n && c->s[c->i] == '/'
                 && c->s[c->i + 1] == '*') {
            const char *e = strstr (c->s + c->i + 2, "*/");
            c->i = e ? (size_t)(e - c->s) + 2 : c->n;
        }
        else
            break;
    }
}

/* The identifier at the scanner ([A-Za-z_][A-Za-z0-9_]*), its length in *LEN
 * (0: none); the scanner moves past it. */
static const char *
ident (scan_t *c, size_t *len)
{
    size_t start = c->i;
    while (c->i < c->n
           && (c->s[c->i] == '_' || is_alpha ((unsigned char)c->s[c->i])
               || (c->i > start && is_digit ((unsigned char)c->s[c->i]))))
        c->i++;
    *len = c->i - start;
    return c->s + start;
}

/* True when the scanner is at the word W (then moved past it). */
static int
word (scan_t *c, const char *w)
{
    size_t save = c->i, len;
    const char *id = ident (c, &len);
    if (len == strlen (w) && memcmp (id, w, len) == 0)
        return 1;
    c->i = save;
    return 0;
}

/* Moves past a "..." string whose opening quote is at the scanner; -1 when
 * it does not end on its line. */
static int
skip_string (scan_t *c)
{
    for (c->i++; c->i < c->n && c->s[c->i] != '\n'; c->i++) {
        if (c->s[c->i] == '\\' && c->i + 1 < c->n)
            c->i++;
        else if (c->s[c->i] == '"') {
            c->i++;
            return 0;
        }
    }
    return -1;
}

/* A rule's name: NAME (its LEN bytes) into OUT, or a reason. */
static const char *
put_label (const char *name, size_t len, char *out, size_t outsz)
{
    if (len == 0)
        return "has an empty name";
    if (len > IM_LABEL_MAX)
        return "has a name longer than 256 bytes";
    if (out && outsz > len) {
        memcpy (out, name, len);
        out[len] = '\0';
    }
    return NULL;
}

/* YARA: [imports] [private|global]* rule NAME [: TAG...] { ... condition: ... },
 * braces balanced outside strings and comments, nothing after the rule. */
static const char *
yara_parse (const char *v, size_t n, char *label, size_t labelsz)
{
    scan_t c = { v, n, 0 };
    size_t len, nlen, depth = 0, cond = 0;
    const char *name;
    for (skip_blank (&c, 1); word (&c, "import") || word (&c, "include");
         skip_blank (&c, 1)) {
        skip_blank (&c, 1);
        if (c.i >= n || v[c.i] != '"' || skip_string (&c))
            return "has an import without a \"module\"";
    }
    while ((word (&c, "private") || word (&c, "global")))
        skip_blank (&c, 1);
    if (!word (&c, "rule"))
        return "is not a YARA rule (expected: rule NAME { ... condition: ... })";
    skip_blank (&c, 1);
    name = ident (&c, &nlen);
    if (nlen == 0 || nlen > IDENT_MAX)
        return "has no valid rule name after 'rule'";
    skip_blank (&c, 1);
    if (c.i < n && v[c.i] == ':')
        for (c.i++, skip_blank (&c, 1); c.i < n && v[c.i] != '{'; skip_blank (&c, 1)) {
            ident (&c, &len);
            if (len == 0)
                return "has a tag that is not an identifier";
        }
    if (c.i >= n || v[c.i] != '{')
        return "has no '{' after its name and tags";
    while (c.i < n) {
        skip_blank (&c, 1);
        if (c.i >= n)
            break;
        char ch = v[c.i];
        if (ch == '"' && skip_string (&c))
            return "has a string that does not end on its line";
        if (ch == '"')
            continue;
        if (ch == '{')
            depth++;
        else if (ch == '}' && depth-- == 0)
            return "has unbalanced braces";
        else if (depth == 1 && word (&c, "condition")) {
            skip_blank (&c, 1);
            cond |= c.i < n && v[c.i] == ':';
            continue;
        }
        c.i++;
        if (depth == 0)
            break;
    }
    if (depth)
        return "has unbalanced braces (a '{' is not closed)";
    if (!cond)
        return "has no condition: section";
    skip_blank (&c, 1);
    if (c.i < n)
        return "has text after the rule's closing '}' (one rule a value)";
    return put_label (name, nlen, label, labelsz);
}

/* The value of the top-level (unindented) YAML key KEY ("title"), or NULL;
 * its length in *LEN, quotes and blanks around it removed. With INDENTED,
 * the first line indented below that key that starts with "condition:". */
static const char *
yaml_key (const char *v, size_t n, const char *key, size_t *len)
{
    size_t klen = strlen (key);
    for (size_t i = 0; i < n; i++) {
        if ((i == 0 || v[i - 1] == '\n') && n - i > klen && memcmp (v + i, key, klen) == 0
            && v[i + klen] == ':') {
            const char *a = v + i + klen + 1, *e = memchr (a, '\n', n - (size_t)(a - v));
            if (!e)
                e = v + n;
            while (a < e && is_space ((unsigned char)*a))
                a++;
            while (e > a && is_space ((unsigned char)e[-1]))
                e--;
            if (e - a >= 2 && (*a == '"' || *a == '\'') && e[-1] == *a) {
                a++;
                e--;
            }
            *len = (size_t)(e - a);
            return a;
        }
    }
    return NULL;
}

/* Sigma: YAML with top-level title:, logsource: and detection:, and a
 * condition: indented under detection. */
static const char *
sigma_parse (const char *v, size_t n, char *label, size_t labelsz)
{
    size_t len, dlen;
    const char *title = yaml_key (v, n, "title", &len);
    if (memchr (v, '\t', n))
        return "has a tab (YAML indents with spaces)";
    if (!title)
        return "is not a Sigma rule (no top-level title:)";
    if (!yaml_key (v, n, "logsource", &dlen))
        return "is not a Sigma rule (no top-level logsource:)";
    const char *det = yaml_key (v, n, "detection", &dlen);
    if (!det)
        return "is not a Sigma rule (no top-level detection:)";
    const char *line = memchr (det, '\n', n - (size_t)(det - v));
    while (line && line + 1 < v + n && line[1] == ' ') {
        const char *p = line + 1;
        while (p < v + n && *p == ' ')
            p++;
        if ((size_t)(v + n - p) > 10 && memcmp (p, "condition:", 10) == 0)
            return put_label (title, len, label, labelsz);
        line = memchr (p, '\n', (size_t)(v + n - p));
    }
    return "has no condition: under detection:";
}

/* Snort: ACTION PROTO SRC SPORT DIR DST DPORT ( OPTIONS ), the options with
 * msg:"..." and sid:N, each ending in ';'. */
static const char *
snort_parse (const char *v, size_t n, char *label, size_t labelsz)
{
    static const char *const actions[]
        = { "alert", "log", "pass", "drop", "reject", "sdrop", "activate", "dynamic" };
    scan_t c = { v, n, 0 };
    size_t len, k, msglen = 0, sid = 0;
    const char *msg = NULL, *a = ident (&c, &len);
    for (k = 0; k < sizeof actions / sizeof actions[0]; k++)
        if (strlen (actions[k]) == len && memcmp (a, actions[k], len) == 0)
            break;
    if (k == sizeof actions / sizeof actions[0])
        return "is not a Snort rule (expected: alert|log|pass|drop|reject PROTO SRC PORT "
               "-> DST PORT (msg:\"...\"; sid:N;))";
    for (k = 0; k < 6; k++) { /* proto src sport dir dst dport */
        skip_blank (&c, 0);
        size_t start = c.i;
        while (c.i < n && !is_space ((unsigned char)v[c.i]) && v[c.i] != '(')
            c.i++;
        if (c.i == start)
            return "has fewer than 6 fields before its options";
        if (k == 3
            && !((c.i - start == 2)
                 && (!memcmp (v + start, "->", 2) || !memcmp (v + start, "<>", 2))))
            return "has no direction (-> or <>) as its 5th field";
    }
    skip_blank (&c, 0);
    if (c.i >= n || v[c.i] != '(' || v[n - 1] != ')')
        return "has no options in ( ... ) at its end";
    for (c.i++; c.i < n - 1;) {
        skip_blank (&c, 0);
        if (c.i >= n - 1)
            break;
        const char *opt = ident (&c, &len);
        size_t olen = len;
        if (olen == 0)
            return "has an option that is not a keyword";
        if (c.i < n && v[c.i] == ':') {
            c.i++;
            skip_blank (&c, 0);
            if (olen == 3 && !memcmp (opt, "msg", 3) && v[c.i] == '"') {
                msg = v + c.i + 1;
                if (skip_string (&c))
                    return "has a msg that does not end";
                msglen = (size_t)(v + c.i - 1 - msg);
            }
            else if (olen == 3 && !memcmp (opt, "sid", 3))
                sid = is_digit ((unsigned char)v[c.i]);
            while (c.i < n - 1 && v[c.i] != ';')
                if (v[c.i] == '"' ? skip_string (&c) : (c.i++, 0))
                    return "has a string that does not end";
        }
        skip_blank (&c, 0);
        if (c.i >= n - 1 || v[c.i] != ';')
            return "has an option that does not end in ';'";
        c.i++;
    }
    if (!msg)
        return "has no msg:\"...\" option";
    if (!sid)
        return "has no sid:N option";
    return put_label (msg, msglen, label, labelsz);
}

typedef const char *(rule_parse_fn)(const char *v, size_t n, char *label, size_t sz);

static rule_parse_fn *
rule_parser (int type)
{
    return type == IM_TYPE_YARA    ? yara_parse
           : type == IM_TYPE_SIGMA ? sigma_parse
           : type == IM_TYPE_SNORT ? snort_parse
                                   : NULL;
}

/* A rule: UTF-8 text, lines ending in LF (a CR LF becomes LF), then the
 * type's parser. */
static int
norm_rule (const im_type_info_t *t, const char *v, size_t n, char *canon, size_t *clen,
           char *err, size_t errsz)
{
    char q[QUOTE_SZ];
    const char *why = text_problem (v, n, 1);
    size_t o = 0;
    if (why)
        return im_types_fail (err, errsz, "%s rule '%s' %s", t->name,
                              im_types_quote (v, q), why);
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\r' && (i + 1 == n || v[i + 1] != '\n'))
            return im_types_fail (err, errsz, "%s rule '%s' has a CR not before a LF",
                                  t->name, im_types_quote (v, q));
        if (v[i] != '\r')
            canon[o++] = v[i];
    }
    canon[o] = '\0';
    if ((why = rule_parser (t->type) (canon, o, NULL, 0)) != NULL)
        return im_types_fail (err, errsz, "%s rule '%s' %s", t->name,
                              im_types_quote (v, q), why);
    *clen = o;
    return 0;
}

int
im_ioc_norm_yara (const im_type_info_t *t, const char *v, size_t n, char *canon,
                  size_t *clen, char *err, size_t errsz)
{
    return norm_rule (t, v, n, canon, clen, err, errsz);
}

int
im_ioc_norm_sigma (const im_type_info_t *t, const char *v, size_t n, char *canon,
                   size_t *clen, char *err, size_t errsz)
{
    return norm_rule (t, v, n, canon, clen, err, errsz);
}

int
im_ioc_norm_snort (const im_type_info_t *t, const char *v, size_t n, char *canon,
                   size_t *clen, char *err, size_t errsz)
{
    return norm_rule (t, v, n, canon, clen, err, errsz);
}

int
im_type_label (int type, const char *value, char *out, size_t outsz)
{
    char label[IM_LABEL_MAX + 1];
    rule_parse_fn *parse = rule_parser (type);
    if (!value || !out || !parse
        || parse (value, strlen (value), label, sizeof label) != NULL) {
        errno = EINVAL;
        return -1;
    }
    if (strlen (label) >= outsz) {
        errno = ENOSPC;
        return -1;
    }
    memcpy (out, label, strlen (label) + 1);
    return 0;
}
