/* SPDX-License-Identifier: MPL-2.0 */
/* im_warninglist.h -- MISP warninglists (github.com/MISP/misp-warninglists):
 * lists of well-known benign values (private ranges, top domains, public
 * resolvers...) loaded from a directory, and the check of a value against them. */
#ifndef IM_WARNINGLIST_H
#define IM_WARNINGLIST_H

#include <stddef.h>

#define IM_WARNINGLISTS_MAX 1024            /* lists in one load */
#define IM_WARNINGLIST_ENTRIES_MAX 1000000  /* entries in all lists together */
#define IM_WARNINGLIST_FILE_MAX (64u << 20) /* bytes in one list file */
#define IM_WARNINGLIST_NAME_MAX 256         /* bytes in a list's name */

typedef struct _im_warninglists_t im_warninglists_t;

/* A set of lists, empty until loaded. Returns NULL with errno ENOMEM. */
im_warninglists_t *im_warninglists_new (void);

/* Frees the set; NULL-safe, sets *SELF_P to NULL, keeps errno. */
void im_warninglists_destroy (im_warninglists_t **self_p);

/* Loads every list under DIR: each subdirectory holding a list.json (as in the
 * misp-warninglists repository, lists/NAME/list.json) and each *.json file
 * directly in DIR; names starting with '.' and other files are ignored. Lists
 * are kept in the byte order of their file names, which is the order in which
 * im_warninglists_match reports them.
 *
 * A list file is a JSON object with "name" (a string, 1-256 bytes, no control
 * characters), "list" (an array of strings) and optionally "type" ("string" when
 * absent, as in MISP), "version" (an integer), "description" (a string) and
 * "matching_attributes" (an array; not used: the list type decides which
 * indicator types a list applies to). Types: "string", "substring",
 * "hostname" and "cidr"; "regex" lists are not supported: they are skipped and
 * their names written to SKIPPED, comma separated ("" when none; cut with
 * "..." when SKIPPEDSZ is too small; SKIPPED may be NULL).
 *
 * An entry that does not parse as its list's type (a bad CIDR prefix or
 * hostname, an empty string) is skipped and counted, see
 * im_warninglists_bad_entries; a CIDR entry with host bits set is read as its
 * network (10.1.2.3/8 as 10.0.0.0/8), as MISP does.
 *
 * All or nothing: a malformed list file (broken JSON, a missing or bad name,
 * "list" not an array of strings, an unknown type) makes the load fail with -1,
 * errno EINVAL and a one-line reason naming the file in ERR. A file larger than
 * 64 MiB fails with EFBIG; more than 1024 list files, or more than 1,000,000
 * entries in all, with E2BIG; a DIR that does not exist with ENOENT (ENOTDIR
 * when it is not a directory); a file that cannot be read with its errno.
 * On failure SELF keeps the lists it had, so a reload with a broken file
 * changes nothing; on success the new lists replace the old ones at once, and
 * *NLISTS (when NLISTS is not NULL) is the number of lists loaded (skipped
 * lists not counted).
 *
 * Not thread-safe: a set must not be matched while it loads. A caller that
 * matches in one thread and reloads in another loads into a fresh set and
 * swaps the pointer once the load succeeded (destroying the old set when no
 * match still uses it). */
int im_warninglists_load (im_warninglists_t *self, const char *dir, size_t *nlists,
                          char *skipped, size_t skippedsz, char *err, size_t errsz);

/* Called for each list that matches: LIST is its name, ENTRY the entry that
 * matched as the list wrote it (trimmed of white space at either end). Both
 * live as long as the lists are loaded. Returning non-zero stops the match. */
typedef int (im_warninglist_fn) (const char *list, const char *entry, void *arg);

/* Calls FN (may be NULL: only count) once for each list that matches VALUE of
 * TYPE (an im_type_t; VALUE in the canonical form of im_ioc_normalise), in
 * list order, with the first entry of that list found to match. Which lists
 * apply to which values:
 *   cidr       ipv4 and ipv6 values: an address inside a listed prefix, or a
 *              prefix that overlaps a listed one (contains it or is inside it);
 *   hostname   domain values, and the host of url and email values: the host
 *              itself or any of its parent domains is listed (a listed
 *              example.com matches www.example.com);
 *   string     any type: the value is listed (case-insensitive; IP addresses
 *              and domains in string lists are compared in canonical form),
 *              and for url and email values also their host;
 *   substring  any type: a listed string occurs anywhere in the value
 *              (case-insensitive).
 * Case folding is ASCII only. Returns the number of lists that matched (those
 * reported to FN, up to and including the one at which FN asked to stop), or
 * -1 with errno EINVAL for a NULL SELF or VALUE, an unknown TYPE, or a value
 * that is empty or longer than IM_VALUE_MAX bytes. */
int im_warninglists_match (im_warninglists_t *self, int type, const char *value,
                           im_warninglist_fn *fn, void *arg);

/* The number of lists loaded (0 for NULL). */
size_t im_warninglists_size (im_warninglists_t *self);

/* The number of entries the last successful load skipped because they did not
 * parse as their list's type (0 for NULL). */
size_t im_warninglists_bad_entries (im_warninglists_t *self);

/* The number of entries loaded, in all lists (0 for NULL). */
size_t im_warninglists_entries (im_warninglists_t *self);

#endif
