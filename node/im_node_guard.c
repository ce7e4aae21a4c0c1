/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_guard.c -- the built-in guards at PUBLISH (im_guard.h): a prefix
 * broader than the limit and a special-purpose value are refused unless
 * forced, a documentation value is published with a warning; every forced
 * override of a guard or a warninglist is logged. */
#include "config.h"

#include <stdio.h>

#include <czmq.h>
#include <jansson.h>

#include "im_guard.h"
#include "im_node_int.h"

/* Overrides logged one by one in a minute, whatever the requests; the rest
 * are summed up once a request (a bulk publish of 100,000 forced values
 * wrote 2,000 lines, 20 a request, and a tenth of its time went to them). */
#define GUARD_LOG_MAX 20
#define GUARD_LOG_WINDOW_MS 60000

static json_t *
guard_refusal (node_t *self, const char *why, const char *reason)
{
    self->refused++;
    return json_pack ("{s:s, s:s}", "error", why, "reason", reason);
}

/* Whether one more override may be logged one by one in this minute. */
static int
log_room (node_t *self)
{
    int64_t now = zclock_mono ();
    if (now - self->guard_log_from >= GUARD_LOG_WINDOW_MS || now < self->guard_log_from) {
        self->guard_log_from = now;
        self->guard_log_n = 0;
    }
    return self->guard_log_n < GUARD_LOG_MAX;
}

/* Logs a forced override of GUARD for REC one by one while the minute's
 * GUARD_LOG_MAX lines last; O notes it for the request. */
static void
log_override (node_t *self, const im_record_t *rec, const char *guard,
              node_overrides_t *o)
{
    o->item = 1;
    if (o->dry)
        return;
    if (!log_room (self)) {
        o->unlogged = 1;
        return;
    }
    self->guard_log_n++;
    zsys_notice ("publish: forced past %s: %s '%.200s'", guard, im_type_name (rec->type),
                 rec->value);
}

void
node_guard_done (node_overrides_t *o)
{
    if (o->item)
        o->forced++;
    o->item = 0;
}

void
node_guard_summary (const node_overrides_t *o)
{
    if (o->unlogged && o->forced)
        zsys_notice ("publish: %u value%s forced past guards in this request, not each "
                     "logged one by one (at most %d lines a minute)",
                     o->forced, o->forced == 1 ? "" : "s", GUARD_LOG_MAX);
}

json_t *
node_guard_breadth (node_t *self, const im_record_t *rec, int force, node_overrides_t *o,
                    char *warning, size_t warnsz)
{
    int plen, min;
    if (!im_guard_too_broad (rec->type, rec->value, &plen, &min))
        return NULL;
    char why[512], reason[64], form[96];
    im_guard_broad_form (rec->type, rec->value, form, sizeof form);
    if (force) {
        snprintf (why, sizeof why, "the breadth limit (broader than /%d)", min);
        log_override (self, rec, why, o);
        snprintf (warning, warnsz,
                  "'%.200s'%s is broader than /%d: partners' nodes refuse %s prefixes "
                  "broader than /%d whatever their origin, so it stays on this node (and "
                  "a look-up finds it by its own value only)",
                  rec->value, form, min, im_type_name (rec->type), min);
        return NULL;
    }
    snprintf (why, sizeof why,
              "value: '%.200s'%s is broader than /%d, the widest %s prefix intelmesh "
              "accepts%s (it would match every address in it): --force keeps it on "
              "this node only (partners' nodes refuse it)",
              rec->value, form, min, im_type_name (rec->type),
              *form ? " in that form (/8 of IPv4)" : "");
    snprintf (reason, sizeof reason, "broader than /%d", min);
    return guard_refusal (self, why, reason);
}

json_t *
node_guard (node_t *self, const im_record_t *rec, int force, node_overrides_t *o,
            char *warning, size_t warnsz)
{
    char text[512], list[256], entry[256], form[96];
    im_guard_hit_t hit;
    if (force && self->warnings
        && node_warninglisted (self, rec, list, sizeof list, entry, sizeof entry)) {
        snprintf (text, sizeof text, "the warninglist '%s'", list);
        log_override (self, rec, text, o);
    }
    if (im_guard_check (rec->type, rec->value, &hit) != 1)
        return NULL;
    if (force && !hit.documentation && (o->dry || !log_room (self))) {
        o->item = 1; /* not logged one by one: nothing to write */
        o->unlogged |= !o->dry;
        return NULL;
    }
    im_guard_form (&hit, form, sizeof form); /* "" or " (the 6to4 address of ...)" */
    if (hit.documentation) {
        if (!warning[0]) /* a forced breadth says more */
            snprintf (
                warning, warnsz,
                "'%.200s'%s is on the built-in list '%s' (%s, entry %s): it matches "
                "nothing real",
                rec->value, form, hit.list, hit.rfc, hit.entry);
        return NULL;
    }
    if (force) {
        snprintf (text, sizeof text, "the built-in list '%s' (%s)%s", hit.list, hit.rfc,
                  form);
        log_override (self, rec, text, o);
        return NULL;
    }
    char reason[300];
    snprintf (text, sizeof text,
              "value: '%.200s'%s is on the built-in list '%s' (%s, entry %s): --force "
              "publishes it anyway",
              rec->value, form, hit.list, hit.rfc, hit.entry);
    snprintf (reason, sizeof reason, "on built-in list '%s (%s)'", hit.list, hit.rfc);
    return guard_refusal (self, text, reason);
}

/* The first warninglist that holds a value. */
typedef struct {
    char *list, *entry;
    size_t lsz, esz;
    int hit;
} warn_hit_t;

static int
warn_hit_fn (const char *list, const char *entry, void *arg)
{
    warn_hit_t *w = arg;
    snprintf (w->list, w->lsz, "%s", list);
    snprintf (w->entry, w->esz, "%s", entry);
    w->hit = 1;
    return 1;
}

int
node_warninglisted (node_t *self, const im_record_t *rec, char *list, size_t lsz,
                    char *entry, size_t esz)
{
    warn_hit_t w = { list, entry, lsz, esz, 0 };
    im_warninglists_match (self->warnings, rec->type, rec->value, warn_hit_fn, &w);
    return w.hit;
}
