/* SPDX-License-Identifier: MPL-2.0 */
/* im_import_int.h -- private to the importer's files: the importer, one
 * call's context, one item, the helpers every format uses (im_import_item.c)
 * and each format's entry point. */
#ifndef IM_IMPORT_INT_H
#define IM_IMPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "im_import.h"
#include "im_record.h"

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
    json_t *reports; /* report items (im_import_reports) */
    json_t *context; /* context objects taken into reports, by kind */
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
    json_t *reports;
    json_t *context;
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
    int no_detect;    /* not meant for detection (MISP to_ids false) */
    int detect_given; /* the source says either way (STIX, MISP): it replaces the held
                         flag */
    int tlp;          /* IM_TLP_NONE: not given */
    int confidence;   /* -1: not given */
    int reach;        /* -1: not given */
    int has_valid_from, has_valid_until;
    int64_t valid_from, valid_until;
    const char *desc;
    size_t dlen;
    const char *desc2; /* a second paragraph (a file name that is no tag) */
    size_t d2len;
    json_t *tags;   /* borrowed array of strings or NULL */
    int tags_given; /* the source has a tag list (maybe empty): it replaces the held one
                     */
    int tags_dropped;
    const char *source;
} item_t;

/* --- Items and counts (im_import_item.c) --------------------------------- */

/* Clears IT: nothing given (confidence and reach -1). */
void im_imp_item_init (item_t *it);

/* A copy of S (LEN bytes) for a message, control characters, invalid UTF-8
 * and bidirectional overrides as '?'; QUOTE: the same cut to QUOTE_MAX. */
char *im_imp_clean_copy (char *out, size_t outsz, const char *s, size_t len);
const char *im_imp_quote (char out[QUOTE_MAX + 1], const char *s, size_t len);

int im_imp_is_space (char c);
void im_imp_trim (const char **s, size_t *len);
int im_imp_utf8_ok (const char *s, size_t len);
int im_imp_eq_nocase (const char *s, size_t len, const char *word);
int im_imp_count_add (json_t *counts, const char *reason, json_int_t n);

/* JSON fields and foreign text: see im_import_item.c. */
int im_imp_get_str (const json_t *obj, const char *key, const char **s, size_t *len);
int im_imp_get_bool (const json_t *obj, const char *key, int dflt);
int im_imp_parse_uint (const char *s, size_t len, long long max, long long *out);
int im_imp_parse_time (const char *s, size_t len, int64_t *t);
int im_imp_parse_uuid (const char *s, size_t len, char out[IM_ID_STR_SIZE]);
int im_imp_tlp_max (int a, int b);
int im_imp_tlp_text (const char *s, size_t len);

/* Counting: each returns 0, or -1 for a file-level failure (ENOMEM). */
int im_imp_oom (ctx_t *c);
int im_imp_skip (ctx_t *c, const char *reason);
int im_imp_note (ctx_t *c, const char *reason);
int im_imp_refuse (ctx_t *c, const char *where, const char *reason, const char *detail);

const char *im_imp_value_problem (const char **value, size_t *len);
/* A description from foreign text S (LEN bytes) into OUT, as an item's is
 * made (trimmed, control characters replaced, cut at IM_DESC_MAX: noted).
 * Returns its length; a failure to count a note sets *RC. */
size_t im_imp_description (ctx_t *c, const char *s, size_t len, char out[IM_DESC_MAX + 8],
                           int *rc);
int im_imp_tag_add (json_t *tags, const char *s, size_t len, int *dropped);

/* Turns IT into a publish item. Returns 0 (also when the item is refused) or
 * -1 for a file-level failure (ENOSPC, ENOMEM). */
int im_imp_emit (ctx_t *c, item_t *it);

/* --- MISP attribute types (im_import_misp.c), for MISP and CSV files ------ */

/* How a MISP composite value splits into the indicator and a file name. */
typedef enum { SPLIT_NONE, SPLIT_FILE_HASH, SPLIT_LEFT_FIRST, SPLIT_LEFT_LAST } split_t;

/* The type of MISP attribute type S (LEN bytes; NOCASE: any case), TYPE_IP
 * for an address of either family, or -1; how its value splits in *SPLIT. */
int im_imp_misp_type (const char *s, size_t len, int nocase, split_t *split);

/* Splits a MISP composite value: the indicator part into IT->value, a file
 * name into *FNAME. Returns 0, or -1 when the value has no '|'. */
int im_imp_misp_split (split_t split, item_t *it, const char **fname, size_t *flen);

/* Keeps a file name from a filename|hash value as the tag "filename:NAME" when
 * it fits, else as a paragraph of the description (in NAMEBUF). */
int im_imp_keep_file_name (item_t *it, json_t *tags, const char *fname, size_t flen,
                           char *namebuf, size_t namebufsz);

/* --- The formats: each returns 0, or -1 with errno and a reason ---------- */

int im_imp_stix_parse (ctx_t *c, json_t *root);
int im_imp_misp_parse (ctx_t *c, json_t *root);
/* The reports of a STIX bundle's OBJECTS, after its indicators were made
 * (im_import_stix_report.c); DEFS maps marking ids to TLP labels. */
int im_imp_stix_reports (ctx_t *c, const json_t *objects, const json_t *defs);
/* True for a STIX type that im_imp_stix_reports() reads and counts. */
int im_imp_stix_context_type (const char *s, size_t len);
/* The TLP label marking reference REF (LEN bytes) stands for, or IM_TLP_NONE. */
int im_imp_stix_ref_tlp (const json_t *defs, const char *ref, size_t len);
/* A MISP EVENT as a report item, its members the items made from index FROM
 * on (im_import_misp_report.c); TLP: the event's label. */
int im_imp_misp_report (ctx_t *c, const json_t *event, size_t from, int tlp,
                        const char *where);
/* Appends S (LEN bytes, trimmed) to the array KEY of the report body REP
 * unless it is there. Returns 0, 1 when it is empty, longer than MAX or not
 * UTF-8 (left out), -1 out of memory. */
int im_imp_report_add (json_t *rep, const char *key, const char *s, size_t len,
                       size_t max);
/* Counts a context object of KIND taken into a report. */
int im_imp_context (ctx_t *c, const char *kind);
int im_imp_csv_parse (ctx_t *c, const char *data, size_t len);
/* True when the first non-empty line of DATA names a type and a value column. */
int im_imp_csv_guess (const char *data, size_t len);

#endif
