/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_protect.c -- PUBLISH's protection rules (SPEC.md, PUBLISH rules 7
 * and 8): an update, a second copy, a record moved to another value and a
 * value published again may not lower the protection of what this node
 * holds or revoked, unless the request allows downgrades. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <czmq.h>
#include <jansson.h>

#include "im_node_publish_int.h"

/* Refuses the item: CHANGES would lower the protection of HELD, the
 * version it updates, or (COPY 1) a record of the same value under another
 * id, or (COPY 2) this node's tombstone of the value (rule 7). Returns 1
 * (its result given). */
static int
refuse_downgrade (node_t *self, publish_t *p, const im_record_t *held,
                  const char *changes, int copy)
{
    char why[640], idtext[IM_ID_STR_SIZE];
    im_id_format (held->id, idtext);
    if (copy == 2)
        snprintf (why, sizeof why,
                  "%s would lower the protection this value had as indicator %s, "
                  "which this node revoked: refused without --allow-downgrade",
                  changes, idtext);
    else if (copy)
        snprintf (why, sizeof why,
                  "%s against indicator %s of the same value: a second copy would "
                  "lower its protection: refused without --allow-downgrade",
                  changes, idtext);
    else
        snprintf (why, sizeof why,
                  "%s would lower the protection of indicator %s: refused without "
                  "--allow-downgrade",
                  changes, idtext);
    publish_result_add (p, node_refused_result (self, why, "downgrade"));
    return 1;
}

/* The item over BASE, the version it follows: with "merge" the fields the
 * item does not give keep BASE's values; a lower TLP, a longer reach or a
 * dropped recipient is refused unless allowed (rule 7; KIND as
 * refuse_downgrade's COPY). Returns 1 when the item was refused (its result
 * given), else 0 with *DOWN the downgrades made (a new reference, or NULL). */
static int
update_over (node_t *self, publish_t *p, const json_t *content, const im_record_t *base,
             json_t **down, int kind)
{
    char why[512], changes[400];
    if (p->merge) {
        memcpy (p->merged, p->rec, sizeof *p->merged);
        if (im_record_merge (p->merged, base, content, p->now, why, sizeof why)) {
            publish_result_add (p, node_invalid_result (self, why));
            return 1;
        }
        memcpy (p->rec, p->merged, sizeof *p->rec);
    }
    if (im_record_downgrades (base, p->rec, changes, sizeof changes) <= 0)
        return 0;
    if (p->allow_downgrade) {
        *down = json_string (changes);
        return 0;
    }
    return refuse_downgrade (self, p, base, changes, kind);
}

/* An update of this node's live PREV (rules 5 and 7). */
int
publish_update (node_t *self, publish_t *p, const json_t *content,
                const im_record_t *prev, json_t **down)
{
    *down = NULL;
    if (!prev || prev->op != IM_OP_PUT)
        return 0;
    return update_over (self, p, content, prev, down, 0);
}

/* A value this node revoked, published again (rule 8): a new indicator
 * that, with "merge", keeps what the tombstone TOMB kept of the revoked
 * version (tlp, reach, recipients, validity) where the item does not give
 * it, and may not lower that protection unless allowed: a revoked RED value
 * does not come back GREEN by omission. As update_over, with KEPT what was
 * kept ("" for nothing). */
int
publish_republish (node_t *self, publish_t *p, const json_t *content, im_record_t *tomb,
                   json_t **down, char *kept, size_t keptsz)
{
    *kept = 0;
    if (p->merge) {
        im_record_init (p->merged); /* what a tombstone drops: the defaults */
        tomb->confidence = p->merged->confidence;
        im_record_kept (tomb, content, kept, keptsz);
    }
    return update_over (self, p, content, tomb, down, 2);
}

/* An importer's id of an indicator this node revoked (PREV), published
 * again: its next version may not lower the protection the revoked one had,
 * as a value published again may not (rule 8). A copy to merge over. */
im_record_t *
publish_unrevoked (publish_t *p, const im_record_t *prev)
{
    im_record_copy (p->m.tomb, prev);
    return p->m.tomb;
}

/* An importer's item with an id of its own, for a value this node already
 * holds live under another id: the new copy may not be less protected than
 * any live one (rule 7), as the request's earlier items left them, or the
 * value would go out wider under a second id. Returns 1 when the item was
 * refused (its result given), else 0. */
typedef struct {
    char changes[400];
    const im_record_t *held;
    int live; /* a live copy was seen */
} lowered_t;

/* Stops at REC when the item would lower its protection. */
static int
lowered_fn (publish_t *p, const im_record_t *rec, void *arg)
{
    lowered_t *l = arg;
    l->live = 1;
    if (im_record_downgrades (rec, p->rec, l->changes, sizeof l->changes) <= 0)
        return 0;
    l->held = rec;
    return 1;
}

/* Adds CHANGES to *DOWN, the downgrades the request allowed. */
static void
down_add (json_t **down, const char *changes)
{
    char both[1024];
    if (*down)
        snprintf (both, sizeof both, "%s; %s", json_string_value (*down), changes);
    json_t *d = json_string (*down ? both : changes);
    json_decref (*down);
    *down = d;
}

/* publish_sibling, with *LIVE set when the value has a live copy (one walk
 * of them for publish_moved). */
static int
sibling_check (node_t *self, publish_t *p, json_t **down, int *live)
{
    lowered_t l = { .held = NULL, .live = 0 };
    int lowered = publish_live_each (self, p, lowered_fn, &l);
    *live = l.live;
    if (!lowered)
        return 0;
    if (!p->allow_downgrade)
        return refuse_downgrade (self, p, l.held, l.changes, 1);
    down_add (down, l.changes);
    return 0;
}

int
publish_sibling (node_t *self, publish_t *p, json_t **down)
{
    int live;
    return sibling_check (self, p, down, &live);
}

/* An item whose id moves a record to another value (rule 3): it may not
 * lower the protection of any live copy of its new value, as a second copy
 * may not, nor with none that of the tombstone rule 8 would take for it (a
 * revoked RED value came back GREEN under the id of another record, helper
 * 67); checked once the item is merged over what its id held (helper 68).
 * Returns 1 when the item was refused (its result given), else 0 with the
 * downgrades allowed added to *DOWN. */
int
publish_moved (node_t *self, publish_t *p, json_t **down)
{
    int live;
    if (sibling_check (self, p, down, &live))
        return 1;
    if (live)
        return 0; /* checked against each live copy */
    char changes[400];
    const im_record_t *tomb = publish_own_tomb (self, p);
    if (!tomb || im_record_downgrades (tomb, p->rec, changes, sizeof changes) <= 0)
        return 0;
    if (!p->allow_downgrade)
        return refuse_downgrade (self, p, tomb, changes, 2);
    down_add (down, changes);
    return 0;
}
