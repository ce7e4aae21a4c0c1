/* SPDX-License-Identifier: MPL-2.0 */
/* im_import_csv.c -- CSV (RFC 4180) files for the importer: a header naming
 * the columns, then one indicator a line; the type column takes intelmesh's
 * type names or MISP's. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "im_import.h"
#include "im_import_int.h"
#include "im_ioc.h"
#include "im_record.h"
#include "im_time.h"
#include "im_types.h"
#include "im_util.h"

/* --- CSV reading -------------------------------------------------------- */

typedef struct {
    const char *data;
    size_t len, pos;
    size_t line;   /* physical line at pos, from 1 */
    char *scratch; /* unquoted cells, NUL separated; LEN + CSV_CELLS_MAX + 1 */
    size_t ncells;
    size_t off[CSV_CELLS_MAX], clen[CSV_CELLS_MAX];
    size_t first_line; /* where the record began */
    int malformed;     /* 0, or 1 bad quoting, 2 too many cells */
    int blank;         /* a record of one empty unquoted cell */
} csv_t;

/* Skips to just after the next LF (or the end). */
static void
csv_skip_line (csv_t *r)
{
    while (r->pos < r->len && r->data[r->pos] != '\n')
        r->pos++;
    if (r->pos < r->len) {
        r->pos++;
        r->line++;
    }
}

/* Reads one record. Returns 1, or 0 at the end of the data. */
static int
csv_next (csv_t *r)
{
    if (r->pos >= r->len)
        return 0;
    r->ncells = 0;
    r->malformed = 0;
    r->blank = 0;
    r->first_line = r->line;
    size_t w = 0, ncells = 0;
    int quoted_any = 0;
    for (;;) {
        size_t start = w;
        if (r->pos < r->len && r->data[r->pos] == '"') {
            quoted_any = 1;
            r->pos++;
            for (;;) {
                if (r->pos >= r->len) {
                    r->malformed = 1; /* unterminated quote */
                    return 1;
                }
                char ch = r->data[r->pos];
                if (ch == '"') {
                    if (r->pos + 1 < r->len && r->data[r->pos + 1] == '"') {
                        r->scratch[w++] = '"';
                        r->pos += 2;
                        continue;
                    }
                    r->pos++;
                    break;
                }
                if (ch == '\n')
                    r->line++;
                r->scratch[w++] = ch;
                r->pos++;
            }
            if (r->pos + 1 < r->len && r->data[r->pos] == '\r'
                && r->data[r->pos + 1] == '\n')
                r->pos++;
            if (r->pos < r->len && r->data[r->pos] != ',' && r->data[r->pos] != '\n') {
                r->malformed = 1; /* text after a closing quote */
                csv_skip_line (r);
                return 1;
            }
        }
        else {
            while (r->pos < r->len && r->data[r->pos] != ',' && r->data[r->pos] != '\n') {
                if (r->data[r->pos] == '"') {
                    r->malformed = 1; /* a quote inside an unquoted cell */
                    csv_skip_line (r);
                    return 1;
                }
                r->scratch[w++] = r->data[r->pos++];
            }
            if (r->pos < r->len && r->data[r->pos] == '\n' && w > start
                && r->scratch[w - 1] == '\r')
                w--;
        }
        if (ncells < CSV_CELLS_MAX) {
            r->off[ncells] = start;
            r->clen[ncells] = w - start;
        }
        else
            r->malformed = 2;
        ncells++;
        r->scratch[w++] = '\0';
        if (r->pos >= r->len)
            break;
        if (r->data[r->pos] == '\n') {
            r->pos++;
            r->line++;
            break;
        }
        r->pos++; /* ',' */
    }
    r->ncells = ncells < CSV_CELLS_MAX ? ncells : CSV_CELLS_MAX;
    if (ncells == 1 && !quoted_any && !r->malformed) {
        const char *s = r->scratch + r->off[0];
        size_t len = r->clen[0];
        im_imp_trim (&s, &len);
        r->blank = len == 0;
    }
    return 1;
}

typedef enum {
    COL_ID,
    COL_ORIGIN,
    COL_TYPE,
    COL_VALUE,
    COL_TLP,
    COL_CONFIDENCE,
    COL_TAGS,
    COL_DESCRIPTION,
    COL_REACH,
    COL_VALID_FROM,
    COL_VALID_UNTIL,
    COL_REVOKE,
    COL_COUNT
} col_t;

static const char *col_names[COL_COUNT]
    = { "id",   "origin",      "type",  "value",      "tlp",         "confidence",
        "tags", "description", "reach", "valid_from", "valid_until", "revoke" };

/* --- CSV ---------------------------------------------------------------- */

/* Reads the optional cells of a line into IT (the id into IDBUF). Returns
 * NULL, or why the line is refused. */
static const char *
csv_fields (const char *const *cell, const size_t *len, item_t *it,
            char idbuf[IM_ID_STR_SIZE])
{
    if (cell[COL_ID]) {
        if (im_imp_parse_uuid (cell[COL_ID], len[COL_ID], idbuf))
            return "id is not a UUID";
        it->id = idbuf;
    }
    if (cell[COL_TLP]) {
        char buf[32];
        int l = -1;
        if (len[COL_TLP] < sizeof buf && !memchr (cell[COL_TLP], 0, len[COL_TLP])) {
            memcpy (buf, cell[COL_TLP], len[COL_TLP]);
            buf[len[COL_TLP]] = '\0';
            l = im_tlp_parse (buf);
        }
        if (l < 0)
            return "tlp is not a TLP label";
        it->tlp = l;
    }
    long long n;
    if (cell[COL_CONFIDENCE]) {
        if (im_imp_parse_uint (cell[COL_CONFIDENCE], len[COL_CONFIDENCE], 100, &n))
            return "confidence is not 0..100";
        it->confidence = (int)n;
    }
    if (cell[COL_REACH]) {
        if (im_imp_eq_nocase (cell[COL_REACH], len[COL_REACH], "unlimited"))
            it->reach = IM_REACH_UNLIMITED;
        else if (im_imp_parse_uint (cell[COL_REACH], len[COL_REACH],
                                    IM_REACH_UNLIMITED - 1, &n))
            return "reach is not 0..254 or unlimited";
        else
            it->reach = (int)n;
    }
    if (cell[COL_VALID_FROM]) {
        if (im_imp_parse_time (cell[COL_VALID_FROM], len[COL_VALID_FROM],
                               &it->valid_from))
            return "valid_from is not an RFC 3339 time";
        it->has_valid_from = 1;
    }
    if (cell[COL_VALID_UNTIL]) {
        if (im_imp_parse_time (cell[COL_VALID_UNTIL], len[COL_VALID_UNTIL],
                               &it->valid_until))
            return "valid_until is not an RFC 3339 time";
        it->has_valid_until = 1;
    }
    if (cell[COL_REVOKE]) {
        const char *s = cell[COL_REVOKE];
        size_t l = len[COL_REVOKE];
        if (im_imp_eq_nocase (s, l, "true") || im_imp_eq_nocase (s, l, "1")
            || im_imp_eq_nocase (s, l, "yes"))
            it->revoke = 1;
        else if (!(im_imp_eq_nocase (s, l, "false") || im_imp_eq_nocase (s, l, "0")
                   || im_imp_eq_nocase (s, l, "no")))
            return "revoke is not true or false";
    }
    return NULL;
}

static int
csv_line (ctx_t *c, csv_t *r, const int *col_of, size_t ncols)
{
    char where[NAME_MAX_BYTES + 32], detail[96], q[QUOTE_MAX + 1];
    snprintf (where, sizeof where, "%s:%zu", c->name, r->first_line);
    if (r->malformed || r->ncells != ncols) {
        if (r->malformed == 1)
            snprintf (detail, sizeof detail, " (bad quoting)");
        else
            snprintf (detail, sizeof detail, " (%s%zu cells, the header has %zu)",
                      r->malformed == 2 ? "more than " : "", r->ncells, ncols);
        return im_imp_refuse (c, where, "malformed CSV line", detail);
    }
    const char *cell[COL_COUNT];
    size_t len[COL_COUNT];
    for (int k = 0; k < COL_COUNT; k++) {
        cell[k] = NULL;
        len[k] = 0;
        if (col_of[k] < 0)
            continue;
        const char *s = r->scratch + r->off[col_of[k]];
        size_t n = r->clen[col_of[k]];
        if (!im_imp_utf8_ok (s, n))
            return im_imp_refuse (c, where, "cell is not UTF-8 text", NULL);
        if (k != COL_VALUE && k != COL_DESCRIPTION)
            im_imp_trim (&s, &n);
        if (n == 0)
            continue;
        cell[k] = s;
        len[k] = n;
    }
    item_t it;
    im_imp_item_init (&it);
    it.source = where;
    if (!cell[COL_TYPE])
        return im_imp_refuse (c, where, "type is empty", NULL);
    if (!cell[COL_VALUE])
        return im_imp_refuse (c, where, "value is empty", NULL);
    it.value = cell[COL_VALUE];
    it.vlen = len[COL_VALUE];
    split_t split = SPLIT_NONE;
    char tname[16];
    int t = -1;
    if (len[COL_TYPE] < sizeof tname && !memchr (cell[COL_TYPE], 0, len[COL_TYPE])) {
        memcpy (tname, cell[COL_TYPE], len[COL_TYPE]);
        tname[len[COL_TYPE]] = '\0';
        t = im_type_parse (tname);
    }
    if (t < 0
        && (t = im_imp_misp_type (cell[COL_TYPE], len[COL_TYPE], 1, &split)) == -1) {
        char reason[QUOTE_MAX + 32];
        snprintf (reason, sizeof reason, "type %s not mapped",
                  im_imp_quote (q, cell[COL_TYPE], len[COL_TYPE]));
        return im_imp_skip (c, reason);
    }
    it.type = t;
    char idbuf[IM_ID_STR_SIZE];
    const char *why = csv_fields (cell, len, &it, idbuf);
    if (why)
        return im_imp_refuse (c, where, why, NULL);
    it.desc = cell[COL_DESCRIPTION];
    it.dlen = len[COL_DESCRIPTION];
    json_t *tags = json_array ();
    if (!tags)
        return im_imp_oom (c);
    int rc = 0;
    const char *fname = NULL;
    size_t flen = 0;
    char namebuf[IM_DESC_MAX + 16];
    if (im_imp_misp_split (split, &it, &fname, &flen)) {
        json_decref (tags);
        return im_imp_refuse (c, where, "value is not in the form the MISP type needs",
                              NULL);
    }
    if (fname)
        rc |= im_imp_keep_file_name (&it, tags, fname, flen, namebuf, sizeof namebuf);
    if (cell[COL_TAGS]) {
        const char *s = cell[COL_TAGS], *end = s + len[COL_TAGS];
        while (s <= end && !rc) {
            const char *semi = memchr (s, ';', (size_t)(end - s));
            if (!semi)
                semi = end;
            rc |= im_imp_tag_add (tags, s, (size_t)(semi - s), &it.tags_dropped);
            s = semi + 1;
        }
    }
    it.tags = tags;
    it.tags_given = cell[COL_TAGS] != NULL; /* a tags column, even empty */
    if (rc) {
        json_decref (tags);
        return im_imp_oom (c);
    }
    rc = im_imp_emit (c, &it);
    json_decref (tags);
    return rc;
}

int
im_imp_csv_parse (ctx_t *c, const char *data, size_t len)
{
    csv_t r;
    memset (&r, 0, sizeof r);
    r.data = data;
    r.len = len;
    r.line = 1;
    r.scratch = malloc (len + CSV_CELLS_MAX + 1);
    if (!r.scratch)
        return im_imp_oom (c);
    int rc = 0;
    int col_of[COL_COUNT];
    for (int k = 0; k < COL_COUNT; k++)
        col_of[k] = -1;
    int got = 0;
    while (!got && csv_next (&r))
        got = !r.blank || r.malformed;
    if (!got) {
        rc = im_fail (EINVAL, c->err, c->errsz, "%s: no CSV header line", c->name);
        goto done;
    }
    if (r.malformed) {
        rc = im_fail (EINVAL, c->err, c->errsz, "%s:%zu: malformed CSV header", c->name,
                      r.first_line);
        goto done;
    }
    for (size_t i = 0; i < r.ncells; i++) {
        const char *s = r.scratch + r.off[i];
        size_t n = r.clen[i];
        char q[QUOTE_MAX + 1];
        im_imp_trim (&s, &n);
        int k;
        for (k = 0; k < COL_COUNT; k++)
            if (im_imp_eq_nocase (s, n, col_names[k]))
                break;
        if (k == COL_COUNT) {
            rc = im_fail (EINVAL, c->err, c->errsz, "%s:%zu: unknown column '%s'",
                          c->name, r.first_line, im_imp_quote (q, s, n));
            goto done;
        }
        if (col_of[k] >= 0) {
            rc = im_fail (EINVAL, c->err, c->errsz, "%s:%zu: column '%s' appears twice",
                          c->name, r.first_line, col_names[k]);
            goto done;
        }
        col_of[k] = (int)i;
    }
    if (col_of[COL_TYPE] < 0 || col_of[COL_VALUE] < 0) {
        rc = im_fail (EINVAL, c->err, c->errsz, "%s:%zu: the header has no '%s' column",
                      c->name, r.first_line, col_of[COL_TYPE] < 0 ? "type" : "value");
        goto done;
    }
    size_t ncols = r.ncells;
    while (rc == 0 && csv_next (&r)) {
        if (r.blank && !r.malformed)
            continue;
        rc = csv_line (c, &r, col_of, ncols);
    }
done:
    free (r.scratch);
    return rc;
}

/* True when the first non-empty line of DATA names a type and a value column. */
int
im_imp_csv_guess (const char *data, size_t len)
{
    /* Look at the first line only (at most 4 KiB of it). */
    size_t end = 0, start = 0;
    for (;;) {
        end = start;
        while (end < len && data[end] != '\n')
            end++;
        const char *s = data + start;
        size_t n = end - start;
        im_imp_trim (&s, &n);
        if (n || end >= len)
            break;
        start = end + 1;
    }
    if (end - start > 4096)
        return 0;
    char *scratch = malloc (end - start + CSV_CELLS_MAX + 1);
    if (!scratch)
        return 0;
    csv_t r;
    memset (&r, 0, sizeof r);
    r.data = data + start;
    r.len = end - start;
    r.line = 1;
    r.scratch = scratch;
    int type = 0, value = 0;
    if (csv_next (&r) && !r.malformed)
        for (size_t i = 0; i < r.ncells; i++) {
            const char *s = r.scratch + r.off[i];
            size_t n = r.clen[i];
            im_imp_trim (&s, &n);
            type |= im_imp_eq_nocase (s, n, "type");
            value |= im_imp_eq_nocase (s, n, "value");
        }
    free (scratch);
    return type && value;
}
