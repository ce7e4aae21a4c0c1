/* SPDX-License-Identifier: MPL-2.0 */
/* im_import.h -- the importer behind `intelmesh import`: turns STIX 2.1 bundles,
 * MISP events (files, restSearch exports, feed directories) and CSV files into
 * publish items for the daemon, and counts what it skipped or refused, by reason. */
#ifndef IM_IMPORT_H
#define IM_IMPORT_H

#include <stddef.h>

#include <jansson.h>

typedef enum {
    IM_FORMAT_NONE = 0,
    IM_FORMAT_STIX,
    IM_FORMAT_MISP,
    IM_FORMAT_CSV
} im_format_t;

/* A file (or one event file of a MISP feed) larger than this is refused. */
#define IM_IMPORT_FILE_MAX ((size_t)256 * 1024 * 1024)
/* Items across all files of one importer. */
#define IM_IMPORT_ITEMS_MAX 4000000
/* Lines kept by im_import_messages(); more are counted, not kept. */
#define IM_IMPORT_MESSAGES_MAX 1000
/* Distinct reasons kept per count object; more go under "other reasons". */
#define IM_IMPORT_REASONS_MAX 256
/* A STIX pattern longer than this is refused; one with more comparisons, or
 * parentheses nested deeper, is skipped as "pattern not mappable". */
#define IM_IMPORT_PATTERN_MAX (64 * 1024)
#define IM_IMPORT_PATTERN_TERMS_MAX 256
#define IM_IMPORT_PATTERN_DEPTH_MAX 16

/* Parses "stix", "misp" or "csv" (any case). Returns the format, or -1 with
 * errno EINVAL. */
int im_format_parse (const char *name);

/* "stix", "misp", "csv"; NULL for anything else. */
const char *im_format_name (int format);

/* Guesses the format from content: JSON with "type":"bundle" (or one STIX
 * object) or an array of objects with "type"/"spec_version" -> STIX; JSON with
 * "Event" or "response", or an array of {"Event": ...} -> MISP; text whose first
 * non-empty line holds a "type" and a "value" column -> CSV. A UTF-8 byte order
 * mark is ignored. IM_FORMAT_NONE if none fits (or DATA is NULL). */
int im_import_guess (const char *data, size_t len);

typedef struct _im_import_t im_import_t;

/* A new importer with no items. Returns NULL with errno ENOMEM. */
im_import_t *im_import_new (void);

/* NULL-safe; sets *SELF_P to NULL; preserves errno. */
void im_import_destroy (im_import_t **self_p);

/* Reads PATH: a file, or a MISP feed directory holding manifest.json (each key
 * an event uuid; every <uuid>.json beside it is read, a missing one is an error
 * naming it). The format is guessed when FORMAT is IM_FORMAT_NONE. Returns 0, or
 * -1 with errno and a one-line reason naming the file in ERR:
 *   EINVAL  unknown format, format not recognised, JSON syntax error (with line
 *           and column), wrong structure ("objects" not an array, "Attribute" not
 *           an array, ...), bad CSV header (unknown column, no type or value);
 *   EFBIG   a file larger than IM_IMPORT_FILE_MAX;
 *   ENOSPC  more than IM_IMPORT_ITEMS_MAX items across all files;
 *   ENOENT, EACCES, EISDIR, ... from the file system; ENOMEM.
 * All or nothing per call: a failing file (or feed directory) adds no items and
 * no counts at all. Items or lines that are bad input are not errors: they are
 * counted (im_import_refused) and the rest of the file goes on. */
int im_import_file (im_import_t *self, const char *path, int format, char *err,
                    size_t errsz);

/* The same for LEN bytes in memory; NAME is used in messages and in each item's
 * "source". */
int im_import_data (im_import_t *self, const char *name, const char *data, size_t len,
                    int format, char *err, size_t errsz);

/* Sets the label floor (from --tlp) for the files imported after this call:
 * items whose source gives no TLP get TLP; items with a less restrictive label
 * are raised to it (never loosened). IM_TLP_NONE (the default) sets no floor;
 * other values outside im_tlp_t are ignored. */
void im_import_set_tlp (im_import_t *self, int tlp);

/* Borrowed: the array of publish items so far, in file order. Each is an
 * object with "type" and "value" (the value trimmed of surrounding whitespace,
 * otherwise as the source gives it: the daemon normalises and validates it),
 * "source" ("FILE:WHERE", WHERE being a STIX id, "attribute <uuid>", "Event N
 * Attribute M" or a CSV line number), and when the source gives them: "id"
 * (lower-case UUID), "revoke" (true), "tlp", "confidence", "tags" (at most 32,
 * each at most 128 bytes, no control characters; others are dropped and noted),
 * "description" (control characters other than newline and tab become spaces;
 * longer than 4096 bytes is cut at a UTF-8 character boundary, not refused, and
 * noted), "reach" (0..254 or "unlimited"), "valid_from", "valid_until" (RFC 3339
 * UTC, "2026-12-31T00:00:00Z"). NULL if SELF is NULL.
 *
 * A STIX pattern with several comparisons joined by OR gives one item per
 * comparison: comparison 0 keeps the STIX uuid, comparison N > 0 gets a
 * name-based UUID (the first 16 bytes of crypto_generichash of
 * "<STIX id>#<N>", version nibble 5, RFC 4122 variant), so re-importing gives
 * the same ids. */
json_t *im_import_items (im_import_t *self);

/* The number of items so far. */
size_t im_import_count (im_import_t *self);

/* Borrowed objects mapping a reason to a count (NULL if SELF is NULL):
 * skipped: left out on purpose ("not an indicator (malware)", "pattern not
 *          mappable", "MISP type regkey not mapped", ...);
 * refused: bad input ("malformed CSV line", "value is not a string", "value
 *          is empty", "confidence is not 0..100", ...);
 * notes:   items kept but changed ("tag dropped (too long or too many)",
 *          "description cut to 4096 bytes", ...). */
json_t *im_import_skipped (im_import_t *self);
json_t *im_import_refused (im_import_t *self);
json_t *im_import_notes (im_import_t *self);

/* Borrowed: an array of one-line texts, one per refused item or line, naming
 * where it is ("x.csv:7: malformed CSV line (3 cells, the header has 4)"); at
 * most IM_IMPORT_MESSAGES_MAX are kept. NULL if SELF is NULL. */
json_t *im_import_messages (im_import_t *self);

/* Borrowed: the reports read so far (STIX report objects, MISP events), an
 * array of {"report": REPORT, "members": [ID...], "source": WHERE}: REPORT as
 * the REPORT control command's create takes it (with "id", the source's
 * uuid), MEMBERS the ids of this importer's items that belong to it (to add
 * once the items are stored). NULL if SELF is NULL. */
json_t *im_import_reports (im_import_t *self);

/* Borrowed: context objects taken into reports, by kind ("report",
 * "malware", "threat-actor", "relationship (uses)", "galaxy (threat-actor)",
 * ...). NULL if SELF is NULL. */
json_t *im_import_context (im_import_t *self);

#endif
