/* SPDX-License-Identifier: MPL-2.0 */
/* im_scenario.h -- the scripted scenario of a joint cyber exercise (`intelmesh
 * exercise run NAME SCENARIO-FILE`): a JSON file of timed injects, each an
 * indicator or a report played to some or all participants. Parsed, checked
 * with the node's own rules and normalised here; intelmesh(1), "EXERCISE
 * SCENARIOS", documents the format. */
#ifndef IM_SCENARIO_H
#define IM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Limits of a scenario. */
#define IM_SCENARIO_FILE_MAX ((size_t)4 * 1024 * 1024) /* bytes of a file */
#define IM_SCENARIO_TITLE_MAX 256                      /* bytes of "scenario" */
#define IM_SCENARIO_INJECTS_MAX 1000                   /* injects of a file */
#define IM_SCENARIO_OFFSET_MAX (30 * 24 * 3600)        /* seconds: 30 days */
#define IM_SCENARIO_PARTICIPANTS_MAX 64                /* names of one inject */
#define IM_SCENARIO_INDICATORS_MAX 256                 /* indicators of a report */

typedef struct _im_scenario_t im_scenario_t;

/* Reads and checks the scenario file PATH (a regular file of at most
 * IM_SCENARIO_FILE_MAX bytes). Returns a new scenario, or NULL with errno and
 * one line in ERR (ERRSZ bytes; ERR may be NULL) that names the file:
 *   EINVAL  a JSON syntax error ("PATH: line L, column C: ...") or a
 *           scenario that breaks a rule ("PATH: injects[3].at: '+5x' is not
 *           an offset (+N with s, m or h)"; injects count from 0), or a NULL
 *           PATH; also for a file that is not a regular file;
 *   EFBIG   a larger file;
 *   ENOENT, EACCES, EISDIR, ... from the file system; ENOMEM. */
im_scenario_t *im_scenario_load (const char *path, char *err, size_t errsz);

/* The same for LEN bytes of TEXT (not necessarily NUL terminated); NAME (may
 * be NULL: "scenario") opens every message. */
im_scenario_t *im_scenario_parse (const char *text, size_t len, const char *name,
                                  char *err, size_t errsz);

/* NULL-safe; sets *SELF_P to NULL. */
void im_scenario_destroy (im_scenario_t **self_p);

/* The scenario's title ("" when the file gives none; NULL for a NULL SELF). */
const char *im_scenario_title (const im_scenario_t *self);

/* How many injects (1 to IM_SCENARIO_INJECTS_MAX; 0 for a NULL SELF). */
size_t im_scenario_count (const im_scenario_t *self);

/* Inject I (0 to count - 1) in playing order: sorted by offset, injects of
 * equal offsets in file order. Writes its offset from the exercise start, in
 * seconds, into *OFFSET_S (may be NULL). Returns the inject, owned by SELF
 * and normalised for the node's control socket:
 *   an indicator: a PUBLISH item, {"type", "value" (canonical), "tlp" (a
 *     label name; "amber" when the file gives none), and "tags",
 *     "description", "confidence" when the file gives them};
 *   a report: {"report": R, "indicators": [ITEM...]} with R the REPORT
 *     create body's "report" ({"title", "tlp", and those of "description",
 *     "attack" (upper case), "actors", "malware", "refs", "mitigations"
 *     (each {"text", "refs"}), "tags", "confidence" the file gives}) and
 *     each ITEM a PUBLISH item {"type", "value" (canonical), "tlp" (the
 *     report's)}, 0 to IM_SCENARIO_INDICATORS_MAX of them, to be published
 *     and then added to the report.
 * Returns NULL with errno EINVAL for a NULL SELF or I out of range. */
const json_t *im_scenario_inject (const im_scenario_t *self, size_t i, int64_t *offset_s);

/* The participants inject I is played to, as the file gives them: an array
 * of 1 to IM_SCENARIO_PARTICIPANTS_MAX distinct names (each a node name:
 * letters, digits, '.', '_', '-', 1 to 64 bytes), owned by SELF; or NULL
 * with errno 0 when the file gives none (every participant), or with errno
 * EINVAL for a NULL SELF or I out of range. */
const json_t *im_scenario_participants (const im_scenario_t *self, size_t i);

#endif
