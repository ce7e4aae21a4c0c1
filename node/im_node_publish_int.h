/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_publish_int.h -- private to PUBLISH's files: one request being worked
 * through, what this node already holds of an item, and the helpers they
 * share (im_node_publish.c, the revokes by value, im_node_revalue.c, and
 * the protection rules, im_node_protect.c). */
#ifndef IM_NODE_PUBLISH_INT_H
#define IM_NODE_PUBLISH_INT_H

#include "im_node_int.h"

/* What this node holds of an item's TYPE and VALUE: its live indicator (for
 * an update) and its newest tombstone (for a value published again), found
 * by one walk of the value's index an item. */
typedef struct {
    const uint8_t *origin;
    int type;
    const char *value;
    im_record_t *found; /* a record of the importer's id (publish_prev) */
    im_record_t *live;
    im_record_t *tomb;
    im_record_t *gone; /* the tombstone rule 8 takes (publish_own_tomb) */
    int has_live, has_tomb;
    int looked; /* the walk was made for this item */
    /* The ids of the value's other live indicators of this node's (an
     * importer's id makes a second one). */
    int more_failed;
    uint8_t (*more)[IM_ID_SIZE];
    size_t nmore, maxmore;
    /* The ids of the value's tombstones of this node's. */
    uint8_t (*tombs)[IM_ID_SIZE];
    size_t ntombs, maxtombs;
} own_match_t;

/* An id's slot in a request's table of the ids it has seen (im_node_seen.c). */
typedef struct {
    uint8_t id[IM_ID_SIZE];
    uint32_t at; /* the index of its newest record in the batch + 1; 0: free */
} publish_seen_id_t;

/* One PUBLISH request being worked through. */
typedef struct {
    node_batch_t b;
    im_record_t *rec;   /* the item being made */
    own_match_t m;      /* what this node already holds of it */
    im_ctl_text_t *out; /* the reply, one result an item (result_add) */
    size_t nresults;
    struct {
        publish_seen_id_t *ids; /* by id */
        uint32_t *values;       /* by type and value: index in the batch + 1 */
        size_t mask;            /* both have mask + 1 slots */
    } seen;
    int64_t now;
    int force;                  /* the request's own "force" */
    int merge;                  /* an update keeps the fields an item does not give */
    int allow_downgrade;        /* an update may lower the protection (rule 7) */
    int compact;                /* a new indicator's result is its id alone */
    im_record_t *merged;        /* the item over what this node held */
    node_overrides_t overrides; /* guards forced in this request (im_node_guard.c) */
    char warning[512];          /* the item's warning, "" when none */
    /* The live indicators a revoke by value revokes besides the batch's
     * own: their tombstones are stored in the same transaction ("#ID"). */
    zhashx_t *doomed;
    size_t ndoomed;
    zhashx_t *revalued; /* the "TYPE|VALUE" of each revoke by value of it */
} publish_t;

/* im_node_publish.c */
void publish_id_key (const uint8_t *id, char key[IM_ID_STR_SIZE + 1]);
void publish_result_add (publish_t *p, json_t *r);
void publish_result_id (publish_t *p, const char *idtext, const char *status);
void publish_own_lookup (node_t *self, publish_t *p);
const im_record_t *publish_newest (publish_t *p, const im_record_t *rec);
const im_record_t *publish_still_of_value (publish_t *p, const im_record_t *held);
im_record_t *publish_own_tomb (node_t *self, publish_t *p);
/* Calls FN for each live record of the item's value as the request's
 * earlier items left them, until FN returns non-zero, which it returns. */
typedef int (publish_live_fn) (publish_t *p, const im_record_t *rec, void *arg);
int publish_live_each (node_t *self, publish_t *p, publish_live_fn *fn, void *arg);
int publish_any_live (node_t *self, publish_t *p);

/* im_node_protect.c: rules 7 and 8. Each returns 1 when the item was
 * refused (its result given), else 0 (*DOWN: the downgrades allowed). */
int publish_update (node_t *self, publish_t *p, const json_t *content,
                    const im_record_t *prev, json_t **down);
int publish_republish (node_t *self, publish_t *p, const json_t *content,
                       im_record_t *tomb, json_t **down, char *kept, size_t keptsz);
im_record_t *publish_unrevoked (publish_t *p, const im_record_t *prev);
int publish_sibling (node_t *self, publish_t *p, json_t **down);
int publish_moved (node_t *self, publish_t *p, json_t **down);

/* im_node_seen.c: the batch index + 1 of the newest record of an id, or
 * of a type and value, that an earlier item of the request made (0: none).
 * publish_seen_note files the batch's last record under its id, its type
 * and value, and ITEM_ID (the importer's id that named it, or NULL). */
int publish_seen_init (publish_t *p, size_t n);
void publish_seen_free (publish_t *p);
size_t publish_seen_id (publish_t *p, const uint8_t id[IM_ID_SIZE]);
size_t publish_seen_value (publish_t *p, int type, const char *value);
void publish_seen_note (publish_t *p, const uint8_t *item_id);

/* im_node_revalue.c */
int publish_is_doomed (publish_t *p, const uint8_t *id);
int publish_names_doomed (publish_t *p, const uint8_t *id);
void publish_doom (publish_t *p, const uint8_t *id, json_t **ids);
json_t *publish_revoke_others (node_t *self, publish_t *p, const uint8_t *revoked);
int publish_revoke_doomed (node_t *self, publish_t *p, node_batch_t *more, char *err,
                           size_t errsz);
int publish_revoke_rest (node_t *self, publish_t *p);
int publish_doomed (node_t *self, publish_t *p, int revoke, const uint8_t *id);

#endif
