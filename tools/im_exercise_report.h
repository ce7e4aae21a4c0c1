/* SPDX-License-Identifier: MPL-2.0 */
/* im_exercise_report.h -- the scoreboard and after-action report of a joint
 * cyber exercise: from the exercise's state (one JSON object: the host, the
 * participants, the injects sent, the acks and actions recorded), the score
 * as JSON, a table for a terminal, and a report directory (summary.md,
 * events.csv, one SVG timeline per participant). Pure: no node, no network. */
#ifndef IM_EXERCISE_REPORT_H
#define IM_EXERCISE_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Limits of a state, each refused past it with EINVAL. */
#define IM_EXERCISE_PARTICIPANTS_MAX 64
#define IM_EXERCISE_INJECTS_MAX 10000
#define IM_EXERCISE_EVENTS_MAX 100000
#define IM_EXERCISE_NAME_MAX 63    /* the exercise's name, bytes */
#define IM_EXERCISE_PARTY_MAX 64   /* a host's or participant's name, bytes */
#define IM_EXERCISE_LABEL_MAX 2048 /* an inject's label (its value), bytes */
#define IM_EXERCISE_NOTE_MAX 4096  /* an event's note, bytes */
#define IM_EXERCISE_TO_MAX 64      /* the nodes in an inject's "to" */

/* The state an exercise's node gathers (STATE, borrowed):
 *   {"name": "cyber-shield-26",             [a-z0-9][a-z0-9._-]{0,62}
 *    "host": {"node": HEX64, "name": NAME},
 *    "start": T, "end": T,                   integers, seconds since the
 *                                            epoch, start < end
 *    "participants": [{"node": HEX64, "name": NAME}, ...],         1..64
 *    "injects": [{"id": UUID, "sent": T, "kind": "ioc"|"report",
 *                 "label": TEXT, "tlp": "clear"|"green"|"amber"|
 *                 "amber+strict"|"red",
 *                 "to": [HEX64, ...] (optional)}, ...],          0..10000
 *    "events": [{"participant": HEX64, "inject": UUID,
 *                "kind": "ack"|"action",
 *                "action": "detected"|"blocked"|"mitigated"|"escalated"
 *                          (with "action" only),
 *                "at": T, "note": TEXT (optional)}, ...]}       0..100000
 * NAME: 1..64 bytes of UTF-8 without control or invisible characters, each
 * participant's its own; TEXT: any UTF-8 without NUL. Participants have
 * distinct nodes; injects distinct ids; an inject is sent within [start,
 * end]; an event's participant and inject are the exercise's, and it is not
 * before its inject was sent (it may be after the end: a late ack counts).
 * Members not named here are ignored.
 * An inject's "to" names the participants it was sent to: 1..64 nodes, each
 * a participant's "node" (in any case), none twice; without "to" (the
 * member absent: null is refused) it went to every participant. Only the
 * injects sent to a participant count for it, and an ack or action of a
 * participant for an inject not sent to it is refused.
 * Of several acks of one inject by one participant the earliest counts.
 *
 * A state that breaks any of this is refused: -1 (NULL) with errno EINVAL
 * and a one-line message in ERR naming the element, e.g. "events[3]: inject
 * 0190... is not an inject of this exercise", "injects[2].to[0]:
 * 0123456789abcdef... is not a participant of this exercise". */

/* The score at NOW (seconds since the epoch):
 *   {"name", "host": {"node", "name"}, "start", "end", "now",
 *    "pending": NOW < end, "injects": N (all of them),
 *    "participants": [{"node", "name",
 *       "injects": N (those sent to this participant; every number below
 *                  counts only these), "acknowledged": N,
 *       "receive": {"median_s", "max_s"}  (inject sent to earliest ack; a
 *                  median of an even count may end in .5; null without acks),
 *       "first_action_s": from the sending of the first inject sent to
 *                  the participant to its first action, or null,
 *       "actions": {"detected": n, "blocked": n, "mitigated": n,
 *                   "escalated": n},
 *       "unacknowledged": [ids of injects sent to it, by time sent],
 *       "per_inject": [{"inject" (each sent to it), "receive_s" (or null),
 *                       "first_action_s" (from that inject's sending, or
 *                       null)}, ... by time sent]}, ... in the state's order]}
 * Returns a new reference, or NULL with errno EINVAL (a bad state; the reason
 * in ERR) or ENOMEM. */
json_t *im_exercise_score (const json_t *state, int64_t now, char *err, size_t errsz);

/* Prints SCORE (as im_exercise_score makes it) to OUT for an operator: one row
 * per participant (name, acknowledged/injects, median and max receive time,
 * first action, actions by kind, unacknowledged count), then the
 * unacknowledged inject ids of each participant. Characters that would
 * change a terminal are shown as '?'. Returns 0, or -1 with errno EINVAL
 * (SCORE is not a score) or EIO (a write error). */
int im_exercise_score_print (FILE *out, const json_t *score);

/* Writes the after-action report of STATE at NOW into DIR, made when missing
 * (mode 0750; its parent must exist): summary.md (the exercise, its times in
 * RFC 3339 UTC, the participants, the scoreboard, the injects and whom each
 * went to, the unacknowledged injects, each participant's actions;
 * Markdown-escaped),
 * events.csv (RFC 4180, CRLF; "time,participant,inject,kind,action,note,
 * inject_label", by time; a field starting with = + - @ TAB or CR gets a
 * leading apostrophe against formula injection) and timeline-NAME.svg for
 * each participant, marking only the injects sent to it (NAME: the name's
 * letters, digits, '.', '_' and '-', the rest as '_', made unique with "-2",
 * "-3"...). Each file is written to a
 * temporary name, synced and renamed over (mode 0640). Files of an earlier
 * report that this one does not write are left as they are.
 * Returns 0, or -1 with errno and a reason in ERR: EINVAL (bad state, DIR
 * NULL or empty; nothing is made), ENOTDIR (DIR exists and is not a
 * directory), EACCES (DIR cannot be written), ENOMEM, or the error of a
 * write. */
int im_exercise_report_write (const json_t *state, const char *dir, int64_t now,
                              char *err, size_t errsz);

#endif
