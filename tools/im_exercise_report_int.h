/* SPDX-License-Identifier: MPL-2.0 */
/* im_exercise_report_int.h -- what the files of the exercise report share:
 * the exercise as validated and indexed (im_exercise_report_model.c), the
 * writers of summary.md (_md.c) and of the SVG timelines (_svg.c), and the
 * escapes they use. */
#ifndef IM_EXERCISE_REPORT_INT_H
#define IM_EXERCISE_REPORT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "im_exercise_report.h"

/* No time: an inject never acknowledged, a participant without action. */
#define EX_NONE INT64_MIN
/* A participant's timeline file name, "timeline-" NAME ".svg", and NUL. */
#define EX_FILE_SIZE 96

enum { EX_ACK = 0, EX_ACTION = 1 };
enum { EX_DETECTED, EX_BLOCKED, EX_MITIGATED, EX_ESCALATED, EX_ACTIONS };
/* "detected", "blocked", "mitigated", "escalated". */
extern const char *const ex_action_names[EX_ACTIONS];

typedef struct {
    char node[65];           /* lower-case hex */
    const char *name;        /* borrowed from the state */
    char file[EX_FILE_SIZE]; /* its timeline's file name, unique */
} ex_party_t;

typedef struct {
    char id[37]; /* lower-case UUID */
    int64_t sent;
    const char *kind;  /* "ioc" or "report" */
    const char *label; /* borrowed */
    const char *tlp;   /* canonical name */
    uint64_t to;       /* bit P set: sent to participant P (its "to", or all) */
    size_t index;      /* in the state's "injects" */
} ex_inject_t;

/* An inject's "to" is a set of participants, one bit each. */
_Static_assert(IM_EXERCISE_PARTICIPANTS_MAX <= 64, "a participant is a bit of uint64_t");

typedef struct {
    size_t party, inject; /* indices into the model's arrays */
    int kind;             /* EX_ACK, EX_ACTION */
    int action;           /* EX_DETECTED... for EX_ACTION */
    int64_t at;
    const char *note; /* borrowed, NULL when none */
    size_t index;     /* in the state's "events" */
} ex_event_t;

/* An exercise: arrays sized by the state, freed by ex_model_free. */
typedef struct {
    const char *name;
    char host_node[65];
    const char *host_name;
    int64_t start, end, now;
    int64_t first_sent; /* the earliest inject's sending; EX_NONE without injects */
    int64_t axis_end;   /* end, or the latest event when later */
    ex_party_t *parties;
    size_t nparties;
    uint64_t everyone;    /* the bits of all the participants */
    ex_inject_t *injects; /* by time sent, then the state's order */
    size_t ninjects;
    ex_event_t *events; /* by time, then the state's order */
    size_t nevents;
    /* [party * ninjects + inject]: the earliest ack and the earliest action
     * of that participant for that inject, or EX_NONE (always for an inject
     * not sent to it: such events are refused). */
    int64_t *ack, *act;
} ex_model_t;

/* Whether inject I of M (an index into M's injects) was sent to participant
 * P. */
static inline int
ex_sent_to (const ex_model_t *m, size_t i, size_t p)
{
    return (int)((m->injects[i].to >> p) & 1);
}

/* How many of M's injects were sent to participant P. */
size_t ex_injects_to (const ex_model_t *m, size_t p);

/* Validates STATE (see im_exercise_report.h) and fills M, which borrows
 * STATE's strings. Returns 0, or -1 with errno EINVAL (reason in ERR) or
 * ENOMEM; M is then empty. */
int ex_model_load (ex_model_t *m, const json_t *state, int64_t now, char *err,
                   size_t errsz);
void ex_model_free (ex_model_t *m);

/* The score of M (im_exercise_score's JSON; without "per_inject" unless
 * DETAIL), or NULL (ENOMEM). */
json_t *ex_score (const ex_model_t *m, int detail);

/* Writes summary.md of M, whose score is SCORE. Returns 0 or -1 (EIO). */
int ex_summary_write (FILE *out, const ex_model_t *m, const json_t *score);

/* Writes the SVG timeline of participant P of M. Returns 0 or -1 (EIO). */
int ex_svg_write (FILE *out, const ex_model_t *m, size_t p);

/* A length of time for people: "45s", "2.5s", "3m05s", "1h02m00s". */
void ex_duration (double s, char *out, size_t outsz);

#endif
