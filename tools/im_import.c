/* im_import.c -- reads STIX 2.1 bundles, MISP events and CSV files into publish
 * items (see im_import.h and the mapping in the import/export notes), all or
 * nothing per file, counting what is skipped, refused or changed by reason. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "im_import.h"
#include "im_ioc.h"
#include "im_record.h"
#include "im_time.h"
#include "im_util.h"

/* Longest file name kept for messages and sources, in bytes. */
#define NAME_MAX_BYTES 200
/* Longest piece of foreign text quoted in a reason. */
#define QUOTE_MAX 64
/* A CSV line with more cells than this is malformed. */
#define CSV_CELLS_MAX 64
/* A pseudo-type for MISP ip-src/ip-dst: ipv4 or ipv6 by content. */
#define TYPE_IP (-2)

struct _im_import_t {
    json_t *items;
    json_t *skipped;
    json_t *refused;
    json_t *notes;
    json_t *messages;
    int tlp_floor;
};

/* One call's work, merged into the importer only when the call succeeds. */
typedef struct {
    im_import_t *self;
    char name[NAME_MAX_BYTES + 8];
    json_t *items;
    json_t *skipped;
    json_t *refused;
    json_t *notes;
    json_t *messages;
    char *err;
    size_t errsz;
} ctx_t;

/* What one source object says about one indicator. */
typedef struct {
    int type;
    const char *value;
    size_t vlen;
    const char *id; /* lower-case UUID text or NULL */
    int revoke;
    int tlp;        /* IM_TLP_NONE: not given */
    int confidence; /* -1: not given */
    int reach;      /* -1: not given */
    int has_valid_from, has_valid_until;
    int64_t valid_from, valid_until;
    const char *desc;
    size_t dlen;
    const char *desc2; /* a second paragraph (a file name that is no tag) */
    size_t d2len;
    json_t *tags; /* borrowed array of strings or NULL */
    int tags_dropped;
    const char *source;
} item_t;

static void
item_init (item_t *it)
{
    memset (it, 0, sizeof *it);
    it->confidence = -1;
    it->reach = -1;
}

/* --- Small helpers ------------------------------------------------------ */

/* Copies S (LEN bytes) into OUT for a message: control characters, invalid
 * UTF-8 and bidirectional overrides become '?'; cut at a character boundary. */
static char *
clean_copy (char *out, size_t outsz, const char *s, size_t len)
{
    size_t o = 0, i = 0;
    while (i < len && o + 1 < outsz) {
        uint32_t cp;
        size_t n = im_utf8_decode ((const unsigned char *)s + i, len - i, &cp);
        if (n == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == 0x200e
            || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e)
            || (cp >= 0x2066 && cp <= 0x2069)) {
            out[o++] = '?';
            i += n ? n : 1;
            continue;
        }
        if (o + n + 1 > outsz)
            break;
        memcpy (out + o, s + i, n);
        o += n;
        i += n;
    }
    out[o] = '\0';
    return out;
}

/* A clean copy of S cut to QUOTE_MAX bytes, in OUT (QUOTE_MAX + 1 bytes). */
static const char *
quote (char out[QUOTE_MAX + 1], const char *s, size_t len)
{
    return clean_copy (out, QUOTE_MAX + 1, s, len);
}

static int
is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
trim (const char **s, size_t *len)
{
    while (*len && is_space (**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_space ((*s)[*len - 1]))
        (*len)--;
}

/* True when S (LEN bytes) is well-formed UTF-8; NUL bytes are let through
 * (they are refused where it matters, with their own reason). */
static int
utf8_ok (const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = im_utf8_decode ((const unsigned char *)s + i, len - i, &cp);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

/* Case-insensitive comparison of S (LEN bytes) with the C string WORD. */
static int
eq_nocase (const char *s, size_t len, const char *word)
{
    return strlen (word) == len && strncasecmp (s, word, len) == 0;
}

/* Adds 1 to COUNTS[REASON], or to "other reasons" when the object already
 * holds IM_IMPORT_REASONS_MAX reasons. Returns 0 or -1 (ENOMEM). */
static int
count_add (json_t *counts, const char *reason, json_int_t n)
{
    json_t *v = json_object_get (counts, reason);
    if (!v && json_object_size (counts) >= IM_IMPORT_REASONS_MAX)
        v = json_object_get (counts, reason = "other reasons");
    if (v)
        return json_integer_set (v, json_integer_value (v) + n);
    return json_object_set_new (counts, reason, json_integer (n));
}

/* The string at KEY: 1 with *S and *LEN when it is a string, 0 when absent or
 * null, -1 when it is something else. */
static int
get_str (const json_t *obj, const char *key, const char **s, size_t *len)
{
    const json_t *v = json_object_get (obj, key);
    if (!v || json_is_null (v))
        return 0;
    if (!json_is_string (v))
        return -1;
    *s = json_string_value (v);
    *len = json_string_length (v);
    return 1;
}

/* Reads a boolean the way MISP and STIX files write them: true/false, 0/1,
 * "0"/"1"/"true"/"false". Returns 0/1, DFLT when absent or null, -1 when bad. */
static int
get_bool (const json_t *obj, const char *key, int dflt)
{
    const json_t *v = json_object_get (obj, key);
    if (!v || json_is_null (v))
        return dflt;
    if (json_is_boolean (v))
        return json_is_true (v);
    if (json_is_integer (v)
        && (json_integer_value (v) == 0 || json_integer_value (v) == 1))
        return (int)json_integer_value (v);
    if (json_is_string (v)) {
        const char *s = json_string_value (v);
        size_t len = json_string_length (v);
        if (eq_nocase (s, len, "1") || eq_nocase (s, len, "true"))
            return 1;
        if (eq_nocase (s, len, "0") || eq_nocase (s, len, "false"))
            return 0;
    }
    return -1;
}

/* Parses a whole number of at most 10 digits in S (LEN bytes). */
static int
parse_uint (const char *s, size_t len, long long max, long long *out)
{
    long long v = 0;
    if (len == 0 || len > 10)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* Parses an absolute RFC 3339 time (no durations) into *T. */
static int
parse_time (const char *s, size_t len, int64_t *t)
{
    char buf[64];
    trim (&s, &len);
    if (len < 10 || len >= sizeof buf || memchr (s, 0, len) || s[4] != '-')
        return -1;
    memcpy (buf, s, len);
    buf[len] = '\0';
    if (im_time_parse (buf, 0, t) || *t < 0 || *t > IM_TIME_MAX)
        return -1;
    return 0;
}

/* Parses a UUID in S (LEN bytes) into lower-case text OUT. */
static int
parse_uuid (const char *s, size_t len, char out[IM_ID_STR_SIZE])
{
    char buf[IM_ID_STR_SIZE];
    uint8_t id[IM_ID_SIZE];
    if (len != IM_ID_STR_SIZE - 1 || memchr (s, 0, len))
        return -1;
    memcpy (buf, s, len);
    buf[len] = '\0';
    if (im_id_parse (buf, id))
        return -1;
    im_id_format (id, out);
    return 0;
}

/* The most restrictive of two labels (IM_TLP_NONE counts as nothing). */
static int
tlp_max (int a, int b)
{
    return a > b ? a : b;
}

/* --- Counting and items ------------------------------------------------- */

static int
oom (ctx_t *c)
{
    return im_fail (ENOMEM, c->err, c->errsz, "%s: out of memory", c->name);
}

static int
skip (ctx_t *c, const char *reason)
{
    return count_add (c->skipped, reason, 1) ? oom (c) : 0;
}

static int
note (ctx_t *c, const char *reason)
{
    return count_add (c->notes, reason, 1) ? oom (c) : 0;
}

/* Counts REASON as refused, with a message "WHERE: REASON DETAIL". */
static int
refuse (ctx_t *c, const char *where, const char *reason, const char *detail)
{
    if (count_add (c->refused, reason, 1))
        return oom (c);
    size_t kept = json_array_size (c->self->messages) + json_array_size (c->messages);
    if (kept < IM_IMPORT_MESSAGES_MAX) {
        char line[512];
        snprintf (line, sizeof line, "%s: %s%s", where, reason, detail ? detail : "");
        if (json_array_append_new (c->messages, json_string (line)))
            return oom (c);
    }
    return 0;
}

/* Why VALUE cannot be a value at all (after trimming), or NULL. */
static const char *
value_problem (const char **value, size_t *len)
{
    trim (value, len);
    if (*len == 0)
        return "value is empty";
    if (memchr (*value, 0, *len))
        return "value holds a NUL byte";
    if (*len > IM_VALUE_MAX)
        return "value is longer than 2048 bytes";
    return NULL;
}

/* Adds tag S (LEN bytes) to the array TAGS: trimmed, kept unique; a tag that
 * is too long, not text, or past the 32nd is dropped and flagged in *DROPPED. */
static int
tag_add (json_t *tags, const char *s, size_t len, int *dropped)
{
    trim (&s, &len);
    if (len == 0)
        return 0;
    int text = im_utf8_valid (s, len);
    for (size_t i = 0; text && i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            text = 0;
    if (len > IM_TAG_MAX || !text) {
        *dropped = 1;
        return 0;
    }
    size_t i;
    json_t *t;
    json_array_foreach (tags, i,
                        t) if (json_string_length (t) == len
                               && memcmp (json_string_value (t), s, len) == 0) return 0;
    if (json_array_size (tags) >= IM_TAGS_MAX) {
        *dropped = 1;
        return 0;
    }
    return json_array_append_new (tags, json_stringn (s, len));
}

/* Builds the description from IT into OUT: trimmed, control characters made
 * spaces, cut at IM_DESC_MAX on a character boundary. Returns its length. */
static size_t
make_description (ctx_t *c, const item_t *it, char out[IM_DESC_MAX + 8], int *rc)
{
    const char *a = it->desc, *b = it->desc2;
    size_t alen = it->dlen, blen = it->d2len, o = 0, total;
    if (a)
        trim (&a, &alen);
    if (b)
        trim (&b, &blen);
    if (!a)
        alen = 0;
    if (!b)
        blen = 0;
    total = alen + (alen && blen ? 1 : 0) + blen;
    size_t room = IM_DESC_MAX + 4;
    size_t n = alen < room ? alen : room;
    if (n)
        memcpy (out, a, n);
    o = n;
    if (alen && blen && o < room)
        out[o++] = '\n';
    n = blen < room - o ? blen : room - o;
    if (n)
        memcpy (out + o, b, n);
    o += n;
    if (total > IM_DESC_MAX) {
        o = IM_DESC_MAX;
        while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80)
            o--;
        *rc |= note (c, "description cut to 4096 bytes");
    }
    int replaced = 0;
    size_t w = 0;
    for (size_t i = 0; i < o; i++) {
        unsigned char ch = (unsigned char)out[i];
        if (ch == '\r' && i + 1 < o && out[i + 1] == '\n')
            continue; /* CR LF is a line break */
        if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f) {
            ch = ' ';
            replaced = 1;
        }
        out[w++] = (char)ch;
    }
    o = w;
    out[o] = '\0';
    if (replaced)
        *rc |= note (c, "description control characters replaced by spaces");
    const char *s = out;
    size_t len = o;
    trim (&s, &len);
    memmove (out, s, len);
    out[len] = '\0';
    return len;
}

static int
set_new (json_t *obj, const char *key, json_t *v)
{
    return v ? json_object_set_new (obj, key, v) : -1;
}

/* Turns IT into a publish item. Returns 0 (also when the item is refused) or
 * -1 for a file-level failure (ENOSPC, ENOMEM). */
static int
emit (ctx_t *c, item_t *it)
{
    const char *why = value_problem (&it->value, &it->vlen);
    if (why)
        return refuse (c, it->source, why, NULL);
    if (json_array_size (c->self->items) + json_array_size (c->items)
        >= IM_IMPORT_ITEMS_MAX)
        return im_fail (ENOSPC, c->err, c->errsz,
                        "%s: more than %d indicators across all files", c->name,
                        IM_IMPORT_ITEMS_MAX);
    int type = it->type;
    if (type == TYPE_IP) {
        /* ipv4 when it reads as one, else ipv6 when it has a ':' (the daemon
         * validates either way). */
        char in[64], out[64];
        type = memchr (it->value, ':', it->vlen) ? IM_TYPE_IPV6 : IM_TYPE_IPV4;
        if (it->vlen < sizeof in) {
            memcpy (in, it->value, it->vlen);
            in[it->vlen] = '\0';
            if (im_ioc_normalise (IM_TYPE_IPV4, in, out, sizeof out, NULL, 0) == 0)
                type = IM_TYPE_IPV4;
        }
    }
    int rc = 0;
    json_t *o = json_object ();
    if (!o)
        return oom (c);
    rc |= set_new (o, "type", json_string (im_type_name (type)));
    rc |= set_new (o, "value", json_stringn (it->value, it->vlen));
    if (it->id)
        rc |= set_new (o, "id", json_string (it->id));
    if (it->revoke)
        rc |= set_new (o, "revoke", json_true ());
    int tlp = it->tlp;
    if (c->self->tlp_floor != IM_TLP_NONE && tlp < c->self->tlp_floor)
        tlp = c->self->tlp_floor;
    if (tlp != IM_TLP_NONE)
        rc |= set_new (o, "tlp", json_string (im_tlp_name (tlp)));
    if (it->confidence >= 0)
        rc |= set_new (o, "confidence", json_integer (it->confidence));
    if (it->tags && json_array_size (it->tags))
        rc |= set_new (o, "tags", json_copy (it->tags));
    if (it->tags_dropped)
        rc |= note (c, "tag dropped (too long or too many)");
    char desc[IM_DESC_MAX + 8];
    if (make_description (c, it, desc, &rc))
        rc |= set_new (o, "description", json_string (desc));
    if (it->reach == IM_REACH_UNLIMITED)
        rc |= set_new (o, "reach", json_string ("unlimited"));
    else if (it->reach >= 0)
        rc |= set_new (o, "reach", json_integer (it->reach));
    char t[IM_TIME_STR_SIZE];
    if (it->has_valid_from)
        rc |= set_new (o, "valid_from", json_string (im_time_format (it->valid_from, t)));
    if (it->has_valid_until)
        rc |= set_new (o, "valid_until",
                       json_string (im_time_format (it->valid_until, t)));
    rc |= set_new (o, "source", json_string (it->source));
    if (rc || json_array_append_new (c->items, o)) {
        if (rc)
            json_decref (o);
        return oom (c);
    }
    return 0;
}

/* --- Formats ------------------------------------------------------------ */

int
im_format_parse (const char *name)
{
    if (name) {
        for (int f = IM_FORMAT_STIX; f <= IM_FORMAT_CSV; f++)
            if (strcasecmp (name, im_format_name (f)) == 0)
                return f;
    }
    errno = EINVAL;
    return -1;
}

const char *
im_format_name (int format)
{
    switch (format) {
    case IM_FORMAT_STIX: return "stix";
    case IM_FORMAT_MISP: return "misp";
    case IM_FORMAT_CSV: return "csv";
    default: return NULL;
    }
}

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
        trim (&s, &len);
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

/* --- Type names --------------------------------------------------------- */

typedef enum { SPLIT_NONE, SPLIT_FILE_HASH, SPLIT_LEFT_FIRST, SPLIT_LEFT_LAST } split_t;

typedef struct {
    const char *name;
    int type;
    split_t split;
} misp_type_t;

static const misp_type_t misp_types[] = {
    { "ip-src", TYPE_IP, SPLIT_NONE },
    { "ip-dst", TYPE_IP, SPLIT_NONE },
    { "domain", IM_TYPE_DOMAIN, SPLIT_NONE },
    { "hostname", IM_TYPE_DOMAIN, SPLIT_NONE },
    { "url", IM_TYPE_URL, SPLIT_NONE },
    { "email", IM_TYPE_EMAIL, SPLIT_NONE },
    { "email-src", IM_TYPE_EMAIL, SPLIT_NONE },
    { "email-dst", IM_TYPE_EMAIL, SPLIT_NONE },
    { "md5", IM_TYPE_MD5, SPLIT_NONE },
    { "sha1", IM_TYPE_SHA1, SPLIT_NONE },
    { "sha256", IM_TYPE_SHA256, SPLIT_NONE },
    { "sha512", IM_TYPE_SHA512, SPLIT_NONE },
    { "filename", IM_TYPE_FILENAME, SPLIT_NONE },
    { "AS", IM_TYPE_ASN, SPLIT_NONE },
    { "filename|md5", IM_TYPE_MD5, SPLIT_FILE_HASH },
    { "filename|sha1", IM_TYPE_SHA1, SPLIT_FILE_HASH },
    { "filename|sha256", IM_TYPE_SHA256, SPLIT_FILE_HASH },
    { "filename|sha512", IM_TYPE_SHA512, SPLIT_FILE_HASH },
    { "domain|ip", IM_TYPE_DOMAIN, SPLIT_LEFT_FIRST },
    { "ip-src|port", TYPE_IP, SPLIT_LEFT_LAST },
    { "ip-dst|port", TYPE_IP, SPLIT_LEFT_LAST },
};

static const misp_type_t *
misp_type_find (const char *s, size_t len, int nocase)
{
    for (size_t i = 0; i < sizeof misp_types / sizeof misp_types[0]; i++)
        if (nocase ? eq_nocase (s, len, misp_types[i].name)
                   : strlen (misp_types[i].name) == len
                         && memcmp (s, misp_types[i].name, len) == 0)
            return &misp_types[i];
    return NULL;
}

/* Splits a MISP composite value: the indicator part into IT->value, a file
 * name into *FNAME. Returns 0, or -1 when the value has no '|'. */
static int
misp_split (const misp_type_t *mt, item_t *it, const char **fname, size_t *flen)
{
    *fname = NULL;
    *flen = 0;
    if (mt->split == SPLIT_NONE)
        return 0;
    const char *v = it->value;
    size_t len = it->vlen, bar = len;
    if (mt->split == SPLIT_LEFT_FIRST) {
        const char *p = memchr (v, '|', len);
        bar = p ? (size_t)(p - v) : len;
    }
    else
        for (size_t i = len; i > 0; i--)
            if (v[i - 1] == '|') {
                bar = i - 1;
                break;
            }
    if (bar == len)
        return -1;
    if (mt->split == SPLIT_FILE_HASH) {
        *fname = v;
        *flen = bar;
        it->value = v + bar + 1;
        it->vlen = len - bar - 1;
    }
    else
        it->vlen = bar;
    return 0;
}

/* Keeps a file name from a filename|hash value as the tag "filename:NAME" when
 * it fits, else as a paragraph of the description (in NAMEBUF). */
static int
keep_file_name (item_t *it, json_t *tags, const char *fname, size_t flen, char *namebuf,
                size_t namebufsz)
{
    trim (&fname, &flen);
    if (flen == 0)
        return 0;
    int fits = flen + 9 <= IM_TAG_MAX && json_array_size (tags) < IM_TAGS_MAX
               && !memchr (fname, 0, flen);
    for (size_t i = 0; fits && i < flen; i++)
        if ((unsigned char)fname[i] < 0x20 || fname[i] == 0x7f)
            fits = 0;
    if (fits) {
        char tag[IM_TAG_MAX + 1];
        int dropped = 0;
        snprintf (tag, sizeof tag, "filename:%.*s", (int)flen, fname);
        return tag_add (tags, tag, strlen (tag), &dropped);
    }
    int n = snprintf (namebuf, namebufsz, "filename: %.*s",
                      (int)(flen < IM_DESC_MAX ? flen : IM_DESC_MAX), fname);
    it->desc2 = namebuf;
    it->d2len = (size_t)n < namebufsz ? (size_t)n : namebufsz - 1;
    return 0;
}

/* --- CSV ---------------------------------------------------------------- */

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
        return refuse (c, where, "malformed CSV line", detail);
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
        if (!utf8_ok (s, n))
            return refuse (c, where, "cell is not UTF-8 text", NULL);
        if (k != COL_VALUE && k != COL_DESCRIPTION)
            trim (&s, &n);
        if (n == 0)
            continue;
        cell[k] = s;
        len[k] = n;
    }
    item_t it;
    item_init (&it);
    it.source = where;
    if (!cell[COL_TYPE])
        return refuse (c, where, "type is empty", NULL);
    if (!cell[COL_VALUE])
        return refuse (c, where, "value is empty", NULL);
    it.value = cell[COL_VALUE];
    it.vlen = len[COL_VALUE];
    const misp_type_t *mt = NULL;
    char tname[16];
    int t = -1;
    if (len[COL_TYPE] < sizeof tname && !memchr (cell[COL_TYPE], 0, len[COL_TYPE])) {
        memcpy (tname, cell[COL_TYPE], len[COL_TYPE]);
        tname[len[COL_TYPE]] = '\0';
        t = im_type_parse (tname);
    }
    if (t < 0 && !(mt = misp_type_find (cell[COL_TYPE], len[COL_TYPE], 1))) {
        char reason[QUOTE_MAX + 32];
        snprintf (reason, sizeof reason, "type %s not mapped",
                  quote (q, cell[COL_TYPE], len[COL_TYPE]));
        return skip (c, reason);
    }
    it.type = t >= 0 ? t : mt->type;
    char idbuf[IM_ID_STR_SIZE];
    if (cell[COL_ID]) {
        if (parse_uuid (cell[COL_ID], len[COL_ID], idbuf))
            return refuse (c, where, "id is not a UUID", NULL);
        it.id = idbuf;
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
            return refuse (c, where, "tlp is not a TLP label", NULL);
        it.tlp = l;
    }
    long long n;
    if (cell[COL_CONFIDENCE]) {
        if (parse_uint (cell[COL_CONFIDENCE], len[COL_CONFIDENCE], 100, &n))
            return refuse (c, where, "confidence is not 0..100", NULL);
        it.confidence = (int)n;
    }
    if (cell[COL_REACH]) {
        if (eq_nocase (cell[COL_REACH], len[COL_REACH], "unlimited"))
            it.reach = IM_REACH_UNLIMITED;
        else if (parse_uint (cell[COL_REACH], len[COL_REACH], IM_REACH_UNLIMITED - 1, &n))
            return refuse (c, where, "reach is not 0..254 or unlimited", NULL);
        else
            it.reach = (int)n;
    }
    if (cell[COL_VALID_FROM]) {
        if (parse_time (cell[COL_VALID_FROM], len[COL_VALID_FROM], &it.valid_from))
            return refuse (c, where, "valid_from is not an RFC 3339 time", NULL);
        it.has_valid_from = 1;
    }
    if (cell[COL_VALID_UNTIL]) {
        if (parse_time (cell[COL_VALID_UNTIL], len[COL_VALID_UNTIL], &it.valid_until))
            return refuse (c, where, "valid_until is not an RFC 3339 time", NULL);
        it.has_valid_until = 1;
    }
    if (cell[COL_REVOKE]) {
        const char *s = cell[COL_REVOKE];
        size_t l = len[COL_REVOKE];
        if (eq_nocase (s, l, "true") || eq_nocase (s, l, "1") || eq_nocase (s, l, "yes"))
            it.revoke = 1;
        else if (!(eq_nocase (s, l, "false") || eq_nocase (s, l, "0")
                   || eq_nocase (s, l, "no")))
            return refuse (c, where, "revoke is not true or false", NULL);
    }
    it.desc = cell[COL_DESCRIPTION];
    it.dlen = len[COL_DESCRIPTION];
    json_t *tags = json_array ();
    if (!tags)
        return oom (c);
    int rc = 0;
    const char *fname = NULL;
    size_t flen = 0;
    char namebuf[IM_DESC_MAX + 16];
    if (mt && misp_split (mt, &it, &fname, &flen)) {
        json_decref (tags);
        return refuse (c, where, "value is not in the form the MISP type needs", NULL);
    }
    if (fname)
        rc |= keep_file_name (&it, tags, fname, flen, namebuf, sizeof namebuf);
    if (cell[COL_TAGS]) {
        const char *s = cell[COL_TAGS], *end = s + len[COL_TAGS];
        while (s <= end && !rc) {
            const char *semi = memchr (s, ';', (size_t)(end - s));
            if (!semi)
                semi = end;
            rc |= tag_add (tags, s, (size_t)(semi - s), &it.tags_dropped);
            s = semi + 1;
        }
    }
    it.tags = tags;
    if (rc) {
        json_decref (tags);
        return oom (c);
    }
    rc = emit (c, &it);
    json_decref (tags);
    return rc;
}

static int
csv_parse (ctx_t *c, const char *data, size_t len)
{
    csv_t r;
    memset (&r, 0, sizeof r);
    r.data = data;
    r.len = len;
    r.line = 1;
    r.scratch = malloc (len + CSV_CELLS_MAX + 1);
    if (!r.scratch)
        return oom (c);
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
        trim (&s, &n);
        int k;
        for (k = 0; k < COL_COUNT; k++)
            if (eq_nocase (s, n, col_names[k]))
                break;
        if (k == COL_COUNT) {
            rc = im_fail (EINVAL, c->err, c->errsz, "%s:%zu: unknown column '%s'",
                          c->name, r.first_line, quote (q, s, n));
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
static int
csv_guess (const char *data, size_t len)
{
    /* Look at the first line only (at most 4 KiB of it). */
    size_t end = 0, start = 0;
    for (;;) {
        end = start;
        while (end < len && data[end] != '\n')
            end++;
        const char *s = data + start;
        size_t n = end - start;
        trim (&s, &n);
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
            trim (&s, &n);
            type |= eq_nocase (s, n, "type");
            value |= eq_nocase (s, n, "value");
        }
    free (scratch);
    return type && value;
}

/* --- STIX patterns ------------------------------------------------------ */

typedef struct {
    int type;
    size_t off, len; /* the literal, unescaped, in buf */
} cmp_t;

typedef struct {
    const char *s;
    size_t len, pos;
    char *buf; /* LEN + 1 bytes */
    size_t used;
    cmp_t cmps[IM_IMPORT_PATTERN_TERMS_MAX];
    size_t n;
    int depth;
} pat_t;

static void
pat_ws (pat_t *p)
{
    while (p->pos < p->len && is_space (p->s[p->pos]))
        p->pos++;
}

/* Consumes the keyword OR (and nothing else) when it comes next. */
static int
pat_or (pat_t *p)
{
    pat_ws (p);
    size_t e = p->pos;
    while (e < p->len && isalpha ((unsigned char)p->s[e]))
        e++;
    if (e - p->pos == 2 && memcmp (p->s + p->pos, "OR", 2) == 0) {
        p->pos = e;
        return 1;
    }
    return 0;
}

static int
pat_expect (pat_t *p, char ch)
{
    pat_ws (p);
    if (p->pos < p->len && p->s[p->pos] == ch) {
        p->pos++;
        return 0;
    }
    return -1;
}

/* Maps an object path to a type; the hash name may be quoted. */
static int
pat_path_type (const char *path, size_t len)
{
    static const struct {
        const char *path;
        int type;
    } plain[] = {
        { "ipv4-addr:value", IM_TYPE_IPV4 },         { "ipv6-addr:value", IM_TYPE_IPV6 },
        { "domain-name:value", IM_TYPE_DOMAIN },     { "url:value", IM_TYPE_URL },
        { "email-addr:value", IM_TYPE_EMAIL },       { "file:name", IM_TYPE_FILENAME },
        { "autonomous-system:number", IM_TYPE_ASN },
    };
    static const struct {
        const char *name;
        int type;
    } hashes[] = {
        { "md5", IM_TYPE_MD5 },        { "sha1", IM_TYPE_SHA1 },
        { "sha-1", IM_TYPE_SHA1 },     { "sha256", IM_TYPE_SHA256 },
        { "sha-256", IM_TYPE_SHA256 }, { "sha512", IM_TYPE_SHA512 },
        { "sha-512", IM_TYPE_SHA512 },
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strlen (plain[i].path) == len && memcmp (plain[i].path, path, len) == 0)
            return plain[i].type;
    if (len > 12 && memcmp (path, "file:hashes.", 12) == 0)
        for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++)
            if (eq_nocase (path + 12, len - 12, hashes[i].name))
                return hashes[i].type;
    return -1;
}

/* One comparison: PATH = LITERAL. */
static int
pat_comparison (pat_t *p)
{
    char path[128];
    size_t pl = 0;
    pat_ws (p);
    /* object type */
    while (p->pos < p->len
           && (islower ((unsigned char)p->s[p->pos])
               || isdigit ((unsigned char)p->s[p->pos]) || p->s[p->pos] == '-')) {
        if (pl + 2 >= sizeof path)
            return -1;
        path[pl++] = p->s[p->pos++];
    }
    if (pl == 0 || p->pos >= p->len || p->s[p->pos] != ':')
        return -1;
    path[pl++] = p->s[p->pos++];
    /* property path: segments joined by '.', a segment plain or 'quoted' */
    for (int seg = 0;; seg++) {
        size_t before = pl;
        if (seg > 0 && p->pos < p->len && p->s[p->pos] == '\'') {
            p->pos++;
            while (p->pos < p->len && p->s[p->pos] != '\'') {
                char ch = p->s[p->pos++];
                if (ch == '\\' || (unsigned char)ch < 0x20 || pl + 2 >= sizeof path)
                    return -1;
                path[pl++] = ch;
            }
            if (p->pos >= p->len)
                return -1;
            p->pos++;
        }
        else
            while (p->pos < p->len
                   && (isalnum ((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_'
                       || (seg > 0 && p->s[p->pos] == '-'))) {
                if (pl + 2 >= sizeof path)
                    return -1;
                path[pl++] = p->s[p->pos++];
            }
        if (pl == before)
            return -1;
        if (p->pos < p->len && p->s[p->pos] == '.') {
            path[pl++] = p->s[p->pos++];
            continue;
        }
        break;
    }
    int type = pat_path_type (path, pl);
    if (type < 0)
        return -1;
    pat_ws (p);
    if (p->pos >= p->len || p->s[p->pos] != '=')
        return -1;
    p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '=')
        p->pos++;
    pat_ws (p);
    if (p->n >= IM_IMPORT_PATTERN_TERMS_MAX)
        return -1;
    cmp_t *cmp = &p->cmps[p->n];
    cmp->type = type;
    cmp->off = p->used;
    if (type == IM_TYPE_ASN) {
        size_t start = p->pos;
        while (p->pos < p->len && isdigit ((unsigned char)p->s[p->pos]))
            p->pos++;
        size_t nd = p->pos - start;
        if (nd == 0 || nd > 10
            || (p->pos < p->len
                && (isalnum ((unsigned char)p->s[p->pos]) || p->s[p->pos] == '.'
                    || p->s[p->pos] == '\'' || p->s[p->pos] == '_')))
            return -1;
        memcpy (p->buf + p->used, "AS", 2);
        memcpy (p->buf + p->used + 2, p->s + start, nd);
        p->used += nd + 2;
    }
    else {
        if (p->pos >= p->len || p->s[p->pos] != '\'')
            return -1;
        p->pos++;
        for (;;) {
            if (p->pos >= p->len)
                return -1;
            char ch = p->s[p->pos++];
            if (ch == '\'')
                break;
            if (ch == '\\') {
                if (p->pos >= p->len || (p->s[p->pos] != '\'' && p->s[p->pos] != '\\'))
                    return -1;
                ch = p->s[p->pos++];
            }
            p->buf[p->used++] = ch;
        }
    }
    cmp->len = p->used - cmp->off;
    p->buf[p->used++] = '\0';
    p->n++;
    return 0;
}

static int pat_cmp_list (pat_t *p);

static int
pat_cmp_term (pat_t *p)
{
    pat_ws (p);
    if (p->pos < p->len && p->s[p->pos] == '(') {
        p->pos++;
        if (++p->depth > IM_IMPORT_PATTERN_DEPTH_MAX || pat_cmp_list (p)
            || pat_expect (p, ')'))
            return -1;
        p->depth--;
        return 0;
    }
    return pat_comparison (p);
}

static int
pat_cmp_list (pat_t *p)
{
    if (pat_cmp_term (p))
        return -1;
    while (pat_or (p))
        if (pat_cmp_term (p))
            return -1;
    return 0;
}

static int pat_obs_list (pat_t *p);

static int
pat_obs_term (pat_t *p)
{
    pat_ws (p);
    if (p->pos >= p->len)
        return -1;
    if (p->s[p->pos] == '(') {
        p->pos++;
        if (++p->depth > IM_IMPORT_PATTERN_DEPTH_MAX || pat_obs_list (p)
            || pat_expect (p, ')'))
            return -1;
        p->depth--;
        return 0;
    }
    if (p->s[p->pos] != '[')
        return -1;
    p->pos++;
    return pat_cmp_list (p) || pat_expect (p, ']') ? -1 : 0;
}

static int
pat_obs_list (pat_t *p)
{
    if (pat_obs_term (p))
        return -1;
    while (pat_or (p))
        if (pat_obs_term (p))
            return -1;
    return 0;
}

/* Parses a pattern of ORed equality comparisons into P. Returns 0 or -1 (not
 * mappable). P->buf must hold LEN + 1 + 3 * IM_IMPORT_PATTERN_TERMS_MAX bytes. */
static int
pat_parse (pat_t *p, const char *s, size_t len)
{
    p->s = s;
    p->len = len;
    p->pos = 0;
    p->used = 0;
    p->n = 0;
    p->depth = 0;
    if (pat_obs_list (p))
        return -1;
    pat_ws (p);
    return p->pos == p->len ? 0 : -1;
}

/* --- STIX --------------------------------------------------------------- */

typedef struct {
    const char *id;
    int tlp;
} marking_t;

static const marking_t tlp_markings[] = {
    { "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", IM_TLP_CLEAR },
    { "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", IM_TLP_GREEN },
    { "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", IM_TLP_AMBER },
    { "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", IM_TLP_AMBER_STRICT },
    { "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", IM_TLP_RED },
    { "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", IM_TLP_CLEAR },
    { "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5a41da", IM_TLP_GREEN },
    { "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", IM_TLP_AMBER },
    { "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", IM_TLP_RED },
};

/* A TLP label from text such as "amber", "TLP:AMBER+STRICT"; -1 otherwise. */
static int
tlp_text (const char *s, size_t len)
{
    char buf[32];
    if (len >= sizeof buf || memchr (s, 0, len))
        return -1;
    memcpy (buf, s, len);
    buf[len] = '\0';
    return im_tlp_parse (buf);
}

/* The TLP label a marking-definition object in the bundle stands for, or -1. */
static int
stix_marking_tlp (const json_t *obj)
{
    const char *s;
    size_t len;
    const json_t *def = json_object_get (obj, "definition");
    if (json_is_object (def) && get_str (def, "tlp", &s, &len) == 1)
        return tlp_text (s, len);
    const json_t *ext = json_object_get (obj, "extensions");
    if (json_is_object (ext)) {
        const char *key;
        const json_t *e;
        json_object_foreach ((json_t *)ext, key,
                             e) if (json_is_object (e)
                                    && get_str (e, "tlp_2_0", &s, &len)
                                           == 1) return tlp_text (s, len);
    }
    if (get_str (obj, "name", &s, &len) == 1 && len > 4
        && strncasecmp (s, "TLP:", 4) == 0)
        return tlp_text (s, len);
    return -1;
}

static int
stix_ref_tlp (const json_t *defs, const char *ref, size_t len)
{
    for (size_t i = 0; i < sizeof tlp_markings / sizeof tlp_markings[0]; i++)
        if (strlen (tlp_markings[i].id) == len
            && memcmp (tlp_markings[i].id, ref, len) == 0)
            return tlp_markings[i].tlp;
    if (memchr (ref, 0, len))
        return IM_TLP_NONE;
    const json_t *v = json_object_get (defs, ref);
    return v ? (int)json_integer_value (v) : IM_TLP_NONE;
}

static int
stix_indicator (ctx_t *c, const json_t *obj, size_t index, const json_t *defs, pat_t *pat)
{
    char where[NAME_MAX_BYTES + 64];
    const char *s, *sid = NULL;
    size_t len, sidlen = 0;
    char uuid[IM_ID_STR_SIZE];
    snprintf (where, sizeof where, "%s:objects[%zu]", c->name, index);
    if (get_str (obj, "id", &sid, &sidlen) != 1 || sidlen != 11 + IM_ID_STR_SIZE - 1
        || memcmp (sid, "indicator--", 11) || parse_uuid (sid + 11, sidlen - 11, uuid))
        return refuse (c, where, "id is not indicator--UUID", NULL);
    snprintf (where, sizeof where, "%s:indicator--%s", c->name, uuid);

    int r = get_str (obj, "pattern_type", &s, &len);
    if (r < 0 || (r == 1 && !eq_nocase (s, len, "stix")))
        return skip (c, "pattern not mappable");
    const char *pattern;
    size_t plen;
    if (get_str (obj, "pattern", &pattern, &plen) != 1)
        return refuse (c, where, "pattern is not a string", NULL);
    if (plen > IM_IMPORT_PATTERN_MAX)
        return refuse (c, where, "pattern is longer than 64 KiB", NULL);
    if (pat_parse (pat, pattern, plen))
        return skip (c, "pattern not mappable");

    item_t it;
    item_init (&it);
    it.revoke = get_bool (obj, "revoked", 0);
    if (it.revoke < 0)
        return refuse (c, where, "revoked is not true or false", NULL);
    const json_t *v = json_object_get (obj, "confidence");
    if (v && !json_is_null (v)) {
        if (!json_is_integer (v) || json_integer_value (v) < 0
            || json_integer_value (v) > 100)
            return refuse (c, where, "confidence is not 0..100", NULL);
        it.confidence = (int)json_integer_value (v);
    }
    v = json_object_get (obj, "x_intelmesh_reach");
    if (v && !json_is_null (v)) {
        if (json_is_string (v) && strcmp (json_string_value (v), "unlimited") == 0)
            it.reach = IM_REACH_UNLIMITED;
        else if (json_is_integer (v) && json_integer_value (v) >= 0
                 && json_integer_value (v) < IM_REACH_UNLIMITED)
            it.reach = (int)json_integer_value (v);
        else
            return refuse (c, where, "x_intelmesh_reach is not 0..254 or \"unlimited\"",
                           NULL);
    }
    r = get_str (obj, "description", &it.desc, &it.dlen);
    if (r < 0)
        return refuse (c, where, "description is not a string", NULL);
    if (r == 1) {
        const char *d = it.desc;
        size_t dl = it.dlen;
        trim (&d, &dl);
        if (dl == 0)
            r = 0;
    }
    if (r == 0 && get_str (obj, "name", &it.desc, &it.dlen) < 0)
        return refuse (c, where, "name is not a string", NULL);
    r = get_str (obj, "valid_from", &s, &len);
    if (r < 0 || (r == 1 && parse_time (s, len, &it.valid_from)))
        return refuse (c, where, "valid_from is not an RFC 3339 time", NULL);
    it.has_valid_from = r == 1;
    /* STIX requires valid_from; producers that know no start write the
     * object's created time, word for word, which is what "unset" means here
     * (and what the exporter writes for a record without one). */
    const char *created;
    size_t clen;
    if (it.has_valid_from && get_str (obj, "created", &created, &clen) == 1
        && clen == len && memcmp (created, s, len) == 0)
        it.has_valid_from = 0;
    r = get_str (obj, "valid_until", &s, &len);
    if (r < 0 || (r == 1 && parse_time (s, len, &it.valid_until)))
        return refuse (c, where, "valid_until is not an RFC 3339 time", NULL);
    it.has_valid_until = r == 1;
    v = json_object_get (obj, "object_marking_refs");
    if (v && !json_is_null (v)) {
        size_t i;
        const json_t *ref;
        if (!json_is_array (v))
            return refuse (c, where, "object_marking_refs is not an array of ids", NULL);
        json_array_foreach (v, i, ref)
        {
            if (!json_is_string (ref))
                return refuse (c, where, "object_marking_refs is not an array of ids",
                               NULL);
            it.tlp = tlp_max (it.tlp, stix_ref_tlp (defs, json_string_value (ref),
                                                    json_string_length (ref)));
        }
    }
    json_t *tags = json_array ();
    if (!tags)
        return oom (c);
    v = json_object_get (obj, "labels");
    if (v && !json_is_null (v)) {
        size_t i;
        const json_t *l;
        if (!json_is_array (v)) {
            json_decref (tags);
            return refuse (c, where, "labels is not an array of strings", NULL);
        }
        json_array_foreach (v, i, l)
        {
            if (!json_is_string (l)) {
                json_decref (tags);
                return refuse (c, where, "labels is not an array of strings", NULL);
            }
            if (tag_add (tags, json_string_value (l), json_string_length (l),
                         &it.tags_dropped)) {
                json_decref (tags);
                return oom (c);
            }
        }
    }
    it.tags = tags;
    /* Every comparison must make a value, or none is imported. */
    for (size_t k = 0; k < pat->n; k++) {
        const char *val = pat->buf + pat->cmps[k].off;
        size_t vl = pat->cmps[k].len;
        const char *why = value_problem (&val, &vl);
        if (why) {
            json_decref (tags);
            return refuse (c, where, why, NULL);
        }
    }
    int rc = 0;
    for (size_t k = 0; k < pat->n && rc == 0; k++) {
        char source[NAME_MAX_BYTES + 96], derived[IM_ID_STR_SIZE];
        it.type = pat->cmps[k].type;
        it.value = pat->buf + pat->cmps[k].off;
        it.vlen = pat->cmps[k].len;
        if (k == 0) {
            it.id = uuid;
            snprintf (source, sizeof source, "%s", where);
        }
        else {
            char name[128];
            uint8_t id[IM_ID_SIZE];
            int n = snprintf (name, sizeof name, "indicator--%s#%zu", uuid, k);
            im_id_from_name (name, (size_t)n, id);
            im_id_format (id, derived);
            it.id = derived;
            snprintf (source, sizeof source, "%s#%zu", where, k);
        }
        it.source = source;
        rc = emit (c, &it);
        it.tags_dropped = 0; /* noted once per indicator */
    }
    json_decref (tags);
    return rc;
}

static int
stix_parse (ctx_t *c, json_t *root)
{
    json_t *objects = root, *one = NULL;
    if (json_is_object (root)) {
        const char *type;
        size_t tlen;
        if (get_str (root, "type", &type, &tlen) != 1)
            return im_fail (EINVAL, c->err, c->errsz,
                            "%s: not a STIX bundle (no \"type\")", c->name);
        if (eq_nocase (type, tlen, "bundle")) {
            objects = json_object_get (root, "objects");
            if (!objects || json_is_null (objects))
                return 0;
            if (!json_is_array (objects))
                return im_fail (EINVAL, c->err, c->errsz,
                                "%s: \"objects\" is not an array", c->name);
        }
        else {
            objects = one = json_array ();
            if (!one || json_array_append (one, root))
                return oom (c);
        }
    }
    else if (!json_is_array (root))
        return im_fail (EINVAL, c->err, c->errsz, "%s: not a STIX bundle", c->name);

    int rc = 0;
    json_t *defs = json_object ();
    pat_t *pat = calloc (1, sizeof *pat);
    if (pat)
        pat->buf = malloc (IM_IMPORT_PATTERN_MAX + 1 + 3 * IM_IMPORT_PATTERN_TERMS_MAX);
    if (!defs || !pat || !pat->buf) {
        rc = oom (c);
        goto done;
    }
    /* Marking definitions first, so that references resolve in any order. */
    size_t i;
    json_t *obj;
    json_array_foreach (objects, i, obj)
    {
        const char *s, *id;
        size_t len, idlen;
        if (!json_is_object (obj) || get_str (obj, "type", &s, &len) != 1
            || !eq_nocase (s, len, "marking-definition")
            || get_str (obj, "id", &id, &idlen) != 1 || memchr (id, 0, idlen))
            continue;
        int tlp = stix_marking_tlp (obj);
        if (tlp > 0 && json_object_set_new (defs, id, json_integer (tlp))) {
            rc = oom (c);
            goto done;
        }
    }
    json_array_foreach (objects, i, obj)
    {
        char where[NAME_MAX_BYTES + 64], q[QUOTE_MAX + 1];
        const char *s;
        size_t len;
        snprintf (where, sizeof where, "%s:objects[%zu]", c->name, i);
        if (!json_is_object (obj))
            rc = refuse (c, where, "object is not a JSON object", NULL);
        else if (get_str (obj, "type", &s, &len) != 1)
            rc = refuse (c, where, "object has no type", NULL);
        else if (strlen ("indicator") == len && memcmp (s, "indicator", len) == 0)
            rc = stix_indicator (c, obj, i, defs, pat);
        else {
            char reason[QUOTE_MAX + 32];
            snprintf (reason, sizeof reason, "not an indicator (%s)", quote (q, s, len));
            rc = skip (c, reason);
        }
        if (rc)
            break;
    }
done:
    if (pat)
        free (pat->buf);
    free (pat);
    json_decref (defs);
    json_decref (one);
    return rc;
}

/* --- MISP --------------------------------------------------------------- */

/* What a list of MISP tags says. */
typedef struct {
    int tlp;
    int confidence;
    int has_valid_from, has_valid_until;
    int64_t valid_from, valid_until;
    int reach;          /* intelmesh:reach="N" (3..254), else -1 */
    int ours;           /* intelmesh:export: an event this program wrote */
    const json_t *tags; /* the Tag array, for the plain tags */
} misp_tags_t;

/* The value of a tag PREFIX"VALUE" (quotes optional) in S, or NULL. */
static const char *
tag_value (const char *s, size_t len, const char *prefix, size_t *vlen)
{
    size_t pl = strlen (prefix);
    if (len < pl || strncasecmp (s, prefix, pl) != 0)
        return NULL;
    s += pl;
    len -= pl;
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }
    *vlen = len;
    return s;
}

/* Reads a Tag array. Returns 0, or -1 with the reason in *WHY. */
static int
misp_tags_scan (const json_t *arr, misp_tags_t *out, const char **why)
{
    memset (out, 0, sizeof *out);
    out->confidence = -1;
    out->reach = -1;
    if (!arr || json_is_null (arr))
        return 0;
    if (!json_is_array (arr)) {
        *why = "Tag is not an array of tags";
        return -1;
    }
    out->tags = arr;
    size_t i;
    const json_t *t;
    json_array_foreach (arr, i, t)
    {
        const char *s, *v;
        size_t len, vl;
        if (!json_is_object (t) || get_str (t, "name", &s, &len) != 1) {
            *why = "Tag is not an array of tags";
            return -1;
        }
        if (len >= 4 && strncasecmp (s, "tlp:", 4) == 0) {
            int l = tlp_text (s, len);
            if (l > 0)
                out->tlp = tlp_max (out->tlp, l);
        }
        else if ((v = tag_value (s, len, "intelmesh:confidence=", &vl))) {
            long long n;
            if (parse_uint (v, vl, 100, &n)) {
                *why = "intelmesh:confidence tag is not 0..100";
                return -1;
            }
            out->confidence = (int)n;
        }
        else if ((v = tag_value (s, len, "intelmesh:reach=", &vl))) {
            long long n;
            if (parse_uint (v, vl, IM_REACH_UNLIMITED - 1, &n) || n < 3) {
                *why = "intelmesh:reach tag is not 3..254";
                return -1;
            }
            out->reach = (int) n;
        }
        else if (len == 16 && strncasecmp (s, "intelmesh:export", 16) == 0)
            out->ours = 1;
        else if ((v = tag_value (s, len, "intelmesh:valid-from=", &vl))) {
            if (parse_time (v, vl, &out->valid_from)) {
                *why = "intelmesh:valid-from tag is not an RFC 3339 time";
                return -1;
            }
            out->has_valid_from = 1;
        }
        else if ((v = tag_value (s, len, "intelmesh:valid-until=", &vl))) {
            if (parse_time (v, vl, &out->valid_until)) {
                *why = "intelmesh:valid-until tag is not an RFC 3339 time";
                return -1;
            }
            out->has_valid_until = 1;
        }
    }
    return 0;
}

/* Adds the plain tags of a Tag array (not tlp:, not intelmesh:) to TAGS. */
static int
misp_tags_add (json_t *tags, const misp_tags_t *mt, int *dropped)
{
    size_t i;
    const json_t *t;
    if (!mt->tags)
        return 0;
    json_array_foreach (mt->tags, i, t)
    {
        const char *s = NULL;
        size_t len = 0, vl;
        get_str (t, "name", &s, &len);
        if (len >= 4 && strncasecmp (s, "tlp:", 4) == 0 && tlp_text (s, len) > 0)
            continue;
        (void) vl;
        if (len >= 10 && strncasecmp (s, "intelmesh:", 10) == 0)
            continue; /* this program's machine tags, read above */
        if (tag_add (tags, s, len, dropped))
            return -1;
    }
    return 0;
}

/* Reads a distribution: 0..5 as a number or numeric text; -1 absent; -2 bad. */
static int
misp_distribution (const json_t *obj)
{
    const json_t *v = json_object_get (obj, "distribution");
    long long n;
    if (!v || json_is_null (v))
        return -1;
    if (json_is_integer (v))
        return json_integer_value (v) >= 0 && json_integer_value (v) <= 5
                   ? (int)json_integer_value (v)
                   : -2;
    if (json_is_string (v)
        && parse_uint (json_string_value (v), json_string_length (v), 5, &n) == 0)
        return (int)n;
    return -2;
}

typedef struct {
    size_t index;
    const char *info;
    size_t info_len;
    int dist; /* -1: none */
    misp_tags_t tags;
} misp_event_t;

static int
misp_attribute (ctx_t *c, const misp_event_t *ev, const json_t *a, const char *where_idx,
                int obj_dist, int obj_deleted)
{
    char where[NAME_MAX_BYTES + 80], q[QUOTE_MAX + 1], uuid[IM_ID_STR_SIZE];
    const char *s, *why = NULL;
    size_t len;
    snprintf (where, sizeof where, "%s:%s", c->name, where_idx);
    if (!json_is_object (a))
        return refuse (c, where, "attribute is not a JSON object", NULL);
    item_t it;
    item_init (&it);
    int r = get_str (a, "uuid", &s, &len);
    if (r == 1 && parse_uuid (s, len, uuid) == 0) {
        snprintf (where, sizeof where, "%s:attribute %s", c->name, uuid);
        it.id = uuid;
    }
    else if (r != 0)
        return refuse (c, where, "uuid is not a UUID", NULL);
    it.source = where;
    if (get_str (a, "type", &s, &len) != 1)
        return refuse (c, where, "type is not a string", NULL);
    const misp_type_t *mt = misp_type_find (s, len, 0);
    if (!mt) {
        char reason[QUOTE_MAX + 32];
        snprintf (reason, sizeof reason, "MISP type %s not mapped", quote (q, s, len));
        return skip (c, reason);
    }
    int to_ids = get_bool (a, "to_ids", 1);
    if (to_ids < 0)
        return refuse (c, where, "to_ids is not true or false", NULL);
    if (to_ids == 0)
        return skip (c, "to_ids is false");
    if (get_str (a, "value", &it.value, &it.vlen) != 1)
        return refuse (c, where, "value is not a string", NULL);
    it.type = mt->type;
    const char *fname;
    size_t flen;
    if (misp_split (mt, &it, &fname, &flen))
        return refuse (c, where, "value is not in the form the MISP type needs", NULL);
    it.revoke = get_bool (a, "deleted", 0);
    if (it.revoke < 0)
        return refuse (c, where, "deleted is not true or false", NULL);
    it.revoke |= obj_deleted;
    r = get_str (a, "comment", &it.desc, &it.dlen);
    if (r < 0)
        return refuse (c, where, "comment is not a string", NULL);
    if (r == 1) {
        const char *d = it.desc;
        size_t dl = it.dlen;
        trim (&d, &dl);
        if (dl == 0)
            r = 0;
    }
    if (r == 0 && !(ev && ev->tags.ours)) {
        /* The event's title, unless the event is an intelmesh export, whose
         * title is not the indicators' (an empty description stays empty). */
        it.desc = ev ? ev->info : NULL;
        it.dlen = ev ? ev->info_len : 0;
    }
    int dist = misp_distribution (a);
    if (dist == -2)
        return refuse (c, where, "distribution is not 0..5", NULL);
    if (dist == 5)
        dist = obj_dist >= 0 && obj_dist != 5 ? obj_dist : ev ? ev->dist : -1;
    if (dist == 5)
        dist = -1;
    misp_tags_t at;
    if (misp_tags_scan (json_object_get (a, "Tag"), &at, &why))
        return refuse (c, where, why, NULL);
    it.tlp = at.tlp ? at.tlp : ev ? ev->tags.tlp : IM_TLP_NONE;
    it.confidence = at.confidence >= 0 ? at.confidence : ev ? ev->tags.confidence : -1;
    if (at.has_valid_from) {
        it.has_valid_from = 1;
        it.valid_from = at.valid_from;
    }
    else if (ev && ev->tags.has_valid_from) {
        it.has_valid_from = 1;
        it.valid_from = ev->tags.valid_from;
    }
    if (at.has_valid_until) {
        it.has_valid_until = 1;
        it.valid_until = at.valid_until;
    }
    else if (ev && ev->tags.has_valid_until) {
        it.has_valid_until = 1;
        it.valid_until = ev->tags.valid_until;
    }
    json_t *tags = json_array ();
    if (!tags)
        return oom (c);
    int rc = 0;
    char namebuf[IM_DESC_MAX + 16];
    if (dist >= 0)
        it.reach = dist == 3 ? IM_REACH_UNLIMITED : dist == 4 ? 0 : dist;
    if (dist == 3 && at.reach >= 3)
        it.reach = at.reach; /* 3 links or more: the exact reach, as exported */
    if (dist == 4)
        rc |= tag_add (tags, "misp:sharing-group", 18, &it.tags_dropped);
    if (fname)
        rc |= keep_file_name (&it, tags, fname, flen, namebuf, sizeof namebuf);
    rc |= misp_tags_add (tags, &at, &it.tags_dropped);
    if (ev)
        rc |= misp_tags_add (tags, &ev->tags, &it.tags_dropped);
    it.tags = tags;
    rc = rc ? oom (c) : emit (c, &it);
    json_decref (tags);
    return rc;
}

static int
misp_attributes (ctx_t *c, const misp_event_t *ev, const json_t *arr, const char *prefix,
                 int obj_dist, int obj_deleted)
{
    size_t i;
    const json_t *a;
    json_array_foreach (arr, i, a)
    {
        char where[96];
        snprintf (where, sizeof where, "%sAttribute %zu", prefix, i);
        if (misp_attribute (c, ev, a, where, obj_dist, obj_deleted))
            return -1;
    }
    return 0;
}

static int
misp_event (ctx_t *c, const json_t *event, size_t index)
{
    misp_event_t ev;
    const char *why = NULL;
    memset (&ev, 0, sizeof ev);
    ev.index = index;
    if (!json_is_object (event))
        return im_fail (EINVAL, c->err, c->errsz, "%s: Event %zu is not an object",
                        c->name, index);
    if (get_str (event, "info", &ev.info, &ev.info_len) != 1)
        ev.info = NULL;
    ev.dist = misp_distribution (event);
    if (ev.dist == -2)
        return im_fail (EINVAL, c->err, c->errsz,
                        "%s: Event %zu: distribution is not 0..5", c->name, index);
    if (ev.dist == 5)
        ev.dist = -1;
    if (misp_tags_scan (json_object_get (event, "Tag"), &ev.tags, &why))
        return im_fail (EINVAL, c->err, c->errsz, "%s: Event %zu: %s", c->name, index,
                        why);
    const json_t *attrs = json_object_get (event, "Attribute");
    const json_t *objs = json_object_get (event, "Object");
    if (attrs && !json_is_null (attrs) && !json_is_array (attrs))
        return im_fail (EINVAL, c->err, c->errsz,
                        "%s: Event %zu: \"Attribute\" is not an array", c->name, index);
    if (objs && !json_is_null (objs) && !json_is_array (objs))
        return im_fail (EINVAL, c->err, c->errsz,
                        "%s: Event %zu: \"Object\" is not an array", c->name, index);
    size_t i;
    const json_t *o;
    json_array_foreach (objs, i, o)
    {
        const json_t *oa = json_is_object (o) ? json_object_get (o, "Attribute") : NULL;
        if (!json_is_object (o) || (oa && !json_is_null (oa) && !json_is_array (oa)))
            return im_fail (EINVAL, c->err, c->errsz,
                            "%s: Event %zu: Object %zu is not an object with an "
                            "\"Attribute\" array",
                            c->name, index, i);
        if (misp_distribution (o) == -2 || get_bool (o, "deleted", 0) < 0)
            return im_fail (EINVAL, c->err, c->errsz,
                            "%s: Event %zu: Object %zu: bad distribution or deleted",
                            c->name, index, i);
    }
    char prefix[64];
    snprintf (prefix, sizeof prefix, "Event %zu ", index);
    if (json_is_array (attrs) && misp_attributes (c, &ev, attrs, prefix, -1, 0))
        return -1;
    json_array_foreach (objs, i, o)
    {
        const json_t *oa = json_object_get (o, "Attribute");
        snprintf (prefix, sizeof prefix, "Event %zu Object %zu ", index, i);
        if (json_is_array (oa)
            && misp_attributes (c, &ev, oa, prefix, misp_distribution (o),
                                get_bool (o, "deleted", 0)))
            return -1;
    }
    return 0;
}

/* An array of {"Event": {...}}. */
static int
misp_event_list (ctx_t *c, const json_t *arr, const char *what)
{
    size_t i;
    const json_t *e;
    json_array_foreach (arr, i, e)
    {
        const json_t *ev = json_is_object (e) ? json_object_get (e, "Event") : NULL;
        if (!ev)
            return im_fail (EINVAL, c->err, c->errsz,
                            "%s: %s[%zu] is not an {\"Event\": ...} object", c->name,
                            what, i);
        if (misp_event (c, ev, i))
            return -1;
    }
    return 0;
}

static int
misp_parse (ctx_t *c, json_t *root)
{
    if (json_is_array (root))
        return misp_event_list (c, root, "item");
    if (!json_is_object (root))
        return im_fail (EINVAL, c->err, c->errsz, "%s: not a MISP event", c->name);
    const json_t *v;
    if ((v = json_object_get (root, "Event")))
        return misp_event (c, v, 0);
    if ((v = json_object_get (root, "response"))) {
        if (json_is_array (v))
            return misp_event_list (c, v, "response");
        const json_t *attrs
            = json_is_object (v) ? json_object_get (v, "Attribute") : NULL;
        if (json_is_array (attrs))
            return misp_attributes (c, NULL, attrs, "response ", -1, 0);
        return im_fail (EINVAL, c->err, c->errsz,
                        "%s: \"response\" is neither a list of events nor of attributes",
                        c->name);
    }
    return im_fail (EINVAL, c->err, c->errsz,
                    "%s: not a MISP event (no \"Event\" or \"response\")", c->name);
}

/* --- Guessing ----------------------------------------------------------- */

static int
guess_json (const json_t *root)
{
    const char *s;
    size_t len;
    if (json_is_object (root)) {
        if (get_str (root, "type", &s, &len) == 1
            && (eq_nocase (s, len, "bundle") || json_object_get (root, "spec_version")))
            return IM_FORMAT_STIX;
        if (json_object_get (root, "Event") || json_object_get (root, "response"))
            return IM_FORMAT_MISP;
        return IM_FORMAT_NONE;
    }
    if (json_is_array (root) && json_array_size (root) > 0) {
        const json_t *first = json_array_get (root, 0);
        if (!json_is_object (first))
            return IM_FORMAT_NONE;
        if (json_object_get (first, "Event"))
            return IM_FORMAT_MISP;
        if (json_object_get (first, "type") && json_object_get (first, "spec_version"))
            return IM_FORMAT_STIX;
    }
    return IM_FORMAT_NONE;
}

/* Skips a UTF-8 byte order mark and returns the offset of the first byte
 * that is not whitespace. */
static size_t
content_start (const char *data, size_t len, size_t *bom)
{
    size_t i = 0;
    if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    *bom = i;
    while (i < len && is_space (data[i]))
        i++;
    return i;
}

int
im_import_guess (const char *data, size_t len)
{
    size_t bom;
    if (!data)
        return IM_FORMAT_NONE;
    size_t i = content_start (data, len, &bom);
    if (i < len && (data[i] == '{' || data[i] == '[')) {
        json_error_t jerr;
        json_t *root = json_loadb (data + bom, len - bom, JSON_ALLOW_NUL, &jerr);
        int f = root ? guess_json (root) : IM_FORMAT_NONE;
        json_decref (root);
        return f;
    }
    return csv_guess (data + bom, len - bom) ? IM_FORMAT_CSV : IM_FORMAT_NONE;
}

/* --- The importer ------------------------------------------------------- */

im_import_t *
im_import_new (void)
{
    if (sodium_init () < 0) {
        errno = ENOMEM;
        return NULL;
    }
    im_import_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->items = json_array ();
    self->skipped = json_object ();
    self->refused = json_object ();
    self->notes = json_object ();
    self->messages = json_array ();
    if (!self->items || !self->skipped || !self->refused || !self->notes
        || !self->messages) {
        im_import_destroy (&self);
        errno = ENOMEM;
        return NULL;
    }
    return self;
}

void
im_import_destroy (im_import_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    int saved = errno;
    im_import_t *self = *self_p;
    json_decref (self->items);
    json_decref (self->skipped);
    json_decref (self->refused);
    json_decref (self->notes);
    json_decref (self->messages);
    free (self);
    *self_p = NULL;
    errno = saved;
}

void
im_import_set_tlp (im_import_t *self, int tlp)
{
    if (self && tlp >= IM_TLP_NONE && tlp < IM_TLP_COUNT)
        self->tlp_floor = tlp;
}

json_t *
im_import_items (im_import_t *self)
{
    return self ? self->items : NULL;
}

size_t
im_import_count (im_import_t *self)
{
    return self ? json_array_size (self->items) : 0;
}

json_t *
im_import_skipped (im_import_t *self)
{
    return self ? self->skipped : NULL;
}

json_t *
im_import_refused (im_import_t *self)
{
    return self ? self->refused : NULL;
}

json_t *
im_import_notes (im_import_t *self)
{
    return self ? self->notes : NULL;
}

json_t *
im_import_messages (im_import_t *self)
{
    return self ? self->messages : NULL;
}

static int
ctx_open (ctx_t *c, im_import_t *self, const char *name, char *err, size_t errsz)
{
    memset (c, 0, sizeof *c);
    c->self = self;
    c->err = err;
    c->errsz = errsz;
    clean_copy (c->name, NAME_MAX_BYTES + 1, name, strlen (name));
    c->items = json_array ();
    c->skipped = json_object ();
    c->refused = json_object ();
    c->notes = json_object ();
    c->messages = json_array ();
    if (!c->items || !c->skipped || !c->refused || !c->notes || !c->messages)
        return oom (c);
    return 0;
}

static void
ctx_close (ctx_t *c)
{
    json_decref (c->items);
    json_decref (c->skipped);
    json_decref (c->refused);
    json_decref (c->notes);
    json_decref (c->messages);
}

static int
counts_merge (json_t *into, const json_t *from)
{
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *)from, key,
                         v) if (count_add (into, key, json_integer_value (v))) return -1;
    return 0;
}

/* Moves a successful call's work into the importer. */
static int
ctx_commit (ctx_t *c)
{
    im_import_t *self = c->self;
    size_t n = json_array_size (self->items), m = json_array_size (self->messages);
    if (json_array_extend (self->items, c->items)
        || json_array_extend (self->messages, c->messages)) {
        while (json_array_size (self->items) > n)
            json_array_remove (self->items, json_array_size (self->items) - 1);
        while (json_array_size (self->messages) > m)
            json_array_remove (self->messages, json_array_size (self->messages) - 1);
        return oom (c);
    }
    /* Counts cannot be undone piecewise: merge into copies, then swap. */
    json_t *s = json_deep_copy (self->skipped), *r = json_deep_copy (self->refused),
           *t = json_deep_copy (self->notes);
    if (!s || !r || !t || counts_merge (s, c->skipped) || counts_merge (r, c->refused)
        || counts_merge (t, c->notes)) {
        json_decref (s);
        json_decref (r);
        json_decref (t);
        while (json_array_size (self->items) > n)
            json_array_remove (self->items, json_array_size (self->items) - 1);
        while (json_array_size (self->messages) > m)
            json_array_remove (self->messages, json_array_size (self->messages) - 1);
        return oom (c);
    }
    json_decref (self->skipped);
    json_decref (self->refused);
    json_decref (self->notes);
    self->skipped = s;
    self->refused = r;
    self->notes = t;
    return 0;
}

/* Parses DATA as FORMAT (or a guess) into the context. */
static int
import_into (ctx_t *c, const char *data, size_t len, int format)
{
    size_t bom;
    size_t start = content_start (data, len, &bom);
    if (format == IM_FORMAT_CSV)
        return csv_parse (c, data + bom, len - bom);
    int json_like = start < len && (data[start] == '{' || data[start] == '[');
    if (format == IM_FORMAT_NONE && !json_like) {
        if (csv_guess (data + bom, len - bom))
            return csv_parse (c, data + bom, len - bom);
        return im_fail (EINVAL, c->err, c->errsz,
                        "%s: cannot tell the format (not STIX or MISP JSON, no CSV "
                        "header with type and value columns); give --format",
                        c->name);
    }
    json_error_t jerr;
    json_t *root = json_loadb (data + bom, len - bom, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        char text[sizeof jerr.text];
        return im_fail (EINVAL, c->err, c->errsz, "%s: line %d, column %d: %s", c->name,
                        jerr.line, jerr.column,
                        clean_copy (text, sizeof text, jerr.text, strlen (jerr.text)));
    }
    if (format == IM_FORMAT_NONE)
        format = guess_json (root);
    int rc;
    if (format == IM_FORMAT_STIX)
        rc = stix_parse (c, root);
    else if (format == IM_FORMAT_MISP)
        rc = misp_parse (c, root);
    else
        rc = im_fail (EINVAL, c->err, c->errsz,
                      "%s: cannot tell the format (JSON, but neither a STIX bundle nor a "
                      "MISP event); give --format",
                      c->name);
    json_decref (root);
    return rc;
}

static int
check_args (im_import_t *self, const char *name, int format, char *err, size_t errsz)
{
    if (!self || !name)
        return im_fail (EINVAL, err, errsz, "import: no importer or no file name");
    if (format != IM_FORMAT_NONE && !im_format_name (format))
        return im_fail (EINVAL, err, errsz, "import: unknown format %d", format);
    return 0;
}

int
im_import_data (im_import_t *self, const char *name, const char *data, size_t len,
                int format, char *err, size_t errsz)
{
    if (check_args (self, name, format, err, errsz))
        return -1;
    if (!data && len)
        return im_fail (EINVAL, err, errsz, "import: no data");
    if (len > IM_IMPORT_FILE_MAX)
        return im_fail (EFBIG, err, errsz, "%s: larger than 256 MiB", name);
    ctx_t c;
    int rc = ctx_open (&c, self, name, err, errsz);
    if (rc == 0)
        rc = import_into (&c, data ? data : "", len, format);
    if (rc == 0)
        rc = ctx_commit (&c);
    int saved = errno;
    ctx_close (&c);
    errno = saved;
    if (rc == 0 && err && errsz)
        err[0] = '\0';
    return rc;
}

/* Reads the whole regular file PATH into a new buffer (NUL terminated). */
static int
read_whole (const char *path, const char *shown, char **data, size_t *len, char *err,
            size_t errsz)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0)
        return im_fail (errno, err, errsz, "%s: %s", shown, strerror (errno));
    if (fstat (fd, &st) < 0) {
        int e = errno;
        close (fd);
        return im_fail (e, err, errsz, "%s: %s", shown, strerror (e));
    }
    if (S_ISDIR (st.st_mode)) {
        close (fd);
        return im_fail (EISDIR, err, errsz, "%s: is a directory", shown);
    }
    if (!S_ISREG (st.st_mode)) {
        close (fd);
        return im_fail (EINVAL, err, errsz, "%s: not a regular file", shown);
    }
    if ((unsigned long long)st.st_size > IM_IMPORT_FILE_MAX) {
        close (fd);
        return im_fail (EFBIG, err, errsz, "%s: larger than 256 MiB", shown);
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc (cap + 1);
    if (!buf) {
        close (fd);
        return im_fail (ENOMEM, err, errsz, "%s: out of memory", shown);
    }
    for (;;) {
        ssize_t r = read (fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free (buf);
            close (fd);
            return im_fail (e, err, errsz, "%s: %s", shown, strerror (e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            /* The file grew while being read. */
            if (cap > IM_IMPORT_FILE_MAX) {
                free (buf);
                close (fd);
                return im_fail (EFBIG, err, errsz, "%s: larger than 256 MiB", shown);
            }
            size_t ncap
                = cap * 2 > IM_IMPORT_FILE_MAX + 1 ? IM_IMPORT_FILE_MAX + 1 : cap * 2;
            char *nb = realloc (buf, ncap + 1);
            if (!nb) {
                free (buf);
                close (fd);
                return im_fail (ENOMEM, err, errsz, "%s: out of memory", shown);
            }
            buf = nb;
            cap = ncap;
        }
    }
    close (fd);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

/* A MISP feed directory: manifest.json names the event files. */
static int
import_feed (ctx_t *c, const char *dir)
{
    char path[PATH_MAX], shown[NAME_MAX_BYTES + 64];
    char *data = NULL;
    size_t len;
    int n = snprintf (path, sizeof path, "%s/manifest.json", dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return im_fail (ENAMETOOLONG, c->err, c->errsz, "%s: path too long", c->name);
    snprintf (shown, sizeof shown, "%s/manifest.json", c->name);
    if (read_whole (path, shown, &data, &len, c->err, c->errsz))
        return -1;
    json_error_t jerr;
    json_t *manifest = json_loadb (data, len, JSON_ALLOW_NUL, &jerr);
    free (data);
    if (!manifest) {
        char text[sizeof jerr.text];
        return im_fail (EINVAL, c->err, c->errsz, "%s: line %d, column %d: %s", shown,
                        jerr.line, jerr.column,
                        clean_copy (text, sizeof text, jerr.text, strlen (jerr.text)));
    }
    if (!json_is_object (manifest)) {
        json_decref (manifest);
        return im_fail (EINVAL, c->err, c->errsz, "%s: not an object keyed by event uuid",
                        shown);
    }
    char dirname[NAME_MAX_BYTES + 8];
    memcpy (dirname, c->name, sizeof dirname);
    int rc = 0;
    const char *key;
    json_t *v;
    json_object_foreach (manifest, key, v)
    {
        char uuid[IM_ID_STR_SIZE], q[QUOTE_MAX + 1];
        if (parse_uuid (key, strlen (key), uuid)) {
            rc = im_fail (EINVAL, c->err, c->errsz, "%s: '%s' is not an event uuid",
                          shown, quote (q, key, strlen (key)));
            break;
        }
        snprintf (path, sizeof path, "%s/%s.json", dir, key);
        char shown_event[NAME_MAX_BYTES + 64];
        snprintf (shown_event, sizeof shown_event, "%s/%s.json", dirname, uuid);
        clean_copy (c->name, NAME_MAX_BYTES + 1, shown_event, strlen (shown_event));
        if (access (path, F_OK) != 0 && errno == ENOENT) {
            rc = im_fail (ENOENT, c->err, c->errsz,
                          "%s: listed in manifest.json but missing", c->name);
            break;
        }
        if (read_whole (path, c->name, &data, &len, c->err, c->errsz)) {
            rc = -1;
            break;
        }
        size_t bom;
        content_start (data, len, &bom);
        json_t *root = json_loadb (data + bom, len - bom, JSON_ALLOW_NUL, &jerr);
        free (data);
        if (!root) {
            char text[sizeof jerr.text];
            rc = im_fail (EINVAL, c->err, c->errsz, "%s: line %d, column %d: %s", c->name,
                          jerr.line, jerr.column,
                          clean_copy (text, sizeof text, jerr.text, strlen (jerr.text)));
            break;
        }
        rc = misp_parse (c, root);
        json_decref (root);
        if (rc)
            break;
    }
    json_decref (manifest);
    memcpy (c->name, dirname, sizeof dirname);
    return rc;
}

int
im_import_file (im_import_t *self, const char *path, int format, char *err, size_t errsz)
{
    if (check_args (self, path, format, err, errsz))
        return -1;
    ctx_t c;
    struct stat st;
    char *data = NULL;
    size_t len = 0;
    int rc = ctx_open (&c, self, path, err, errsz);
    if (rc == 0 && stat (path, &st) < 0)
        rc = im_fail (errno, err, errsz, "%s: %s", c.name, strerror (errno));
    if (rc == 0 && S_ISDIR (st.st_mode)) {
        if (format != IM_FORMAT_NONE && format != IM_FORMAT_MISP)
            rc = im_fail (EINVAL, err, errsz,
                          "%s: is a directory (only a MISP feed directory can be "
                          "imported)",
                          c.name);
        else
            rc = import_feed (&c, path);
    }
    else if (rc == 0) {
        rc = read_whole (path, c.name, &data, &len, err, errsz);
        if (rc == 0)
            rc = import_into (&c, data, len, format);
        free (data);
    }
    if (rc == 0)
        rc = ctx_commit (&c);
    int saved = errno;
    ctx_close (&c);
    errno = saved;
    if (rc == 0 && err && errsz)
        err[0] = '\0';
    return rc;
}
