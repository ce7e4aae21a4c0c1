/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_publish.c -- PUBLISH and REVOKE: indicators from the CLI are
 * checked, matched with what this node already published, signed and stored
 * in one batch, then put on the feed (SPEC.md, "PUBLISH", "REVOKE"). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>
#include <sodium.h>

#include "im_node_int.h"
#include "im_node_publish_int.h"

/* Stops at the first live record (publish_any_live). */
static int
any_fn (publish_t *p, const im_record_t *rec, void *arg)
{
    (void)p, (void)rec, (void)arg;
    return 1;
}

#define RAW(out, lit) im_ctl_text_raw ((out), (lit), sizeof (lit) - 1)

/* Whether REC, a tombstone of the value, takes the place of CUR as the one
 * whose protection a value published again keeps (rule 8): the newer; of two
 * made in the same second (a revoke by value of two copies), the stricter
 * (CUR would lower REC's protection, and not the other way), else the larger
 * id (ids are time-ordered within a second). */
static int
tomb_replaces (const im_record_t *cur, const im_record_t *rec)
{
    char why[256];
    if (rec->modified != cur->modified)
        return rec->modified > cur->modified;
    int cur_lower = im_record_downgrades (rec, cur, why, sizeof why) > 0;
    int rec_lower = im_record_downgrades (cur, rec, why, sizeof why) > 0;
    if (cur_lower != rec_lower)
        return cur_lower;
    return memcmp (rec->id, cur->id, IM_ID_SIZE) > 0;
}

/* Appends ID to the list *LIST of *N ids (room for *MAX), or sets *FAILED. */
static void
id_add (uint8_t (**list)[IM_ID_SIZE], size_t *n, size_t *max, const uint8_t *id,
        int *failed)
{
    if (*n == *max) {
        size_t want = *max ? 2 * *max : 8;
        void *grown = realloc (*list, want * IM_ID_SIZE);
        if (!grown) {
            *failed = 1;
            return;
        }
        *list = grown;
        *max = want;
    }
    memcpy ((*list)[(*n)++], id, IM_ID_SIZE);
}

static int
own_match_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob;
    (void)len;
    own_match_t *m = arg;
    if (memcmp (rec->origin, m->origin, IM_NODE_ID_SIZE) != 0)
        return 0;
    if (rec->op == IM_OP_PUT) {
        if (rec->type == m->type && strcmp (rec->value, m->value) == 0) {
            if (!m->has_live) {
                im_record_copy (m->live, rec);
                m->has_live = 1;
            }
            else
                id_add (&m->more, &m->nmore, &m->maxmore, rec->id, &m->more_failed);
        }
    }
    else {
        id_add (&m->tombs, &m->ntombs, &m->maxtombs, rec->id, &m->more_failed);
        if (!m->has_tomb || tomb_replaces (m->tomb, rec)) {
            im_record_copy (m->tomb, rec);
            m->has_tomb = 1;
        }
    }
    return 0;
}

/* The key "#ID" an indicator is filed under in SEEN and DOOMED. */
void
publish_id_key (const uint8_t *id, char key[IM_ID_STR_SIZE + 1])
{
    key[0] = '#';
    im_id_format (id, key + 1);
}

/* Appends R (taken), an item's result, to the reply. */
void
publish_result_add (publish_t *p, json_t *r)
{
    char *text = r ? json_dumps (r, JSON_COMPACT) : NULL;
    if (p->nresults++)
        RAW (p->out, ",");
    if (text)
        im_ctl_text_raw (p->out, text, strlen (text));
    else if (!p->out->failed)
        p->out->failed = ENOMEM;
    free (text);
    json_decref (r);
}

/* The usual result, {"id": IDTEXT, "status": STATUS}, written as it is (a
 * json_t an item was a tenth of a bulk publish); with "compact", a new
 * indicator's is IDTEXT alone. */
void
publish_result_id (publish_t *p, const char *idtext, const char *status)
{
    if (p->nresults++)
        RAW (p->out, ",");
    if (p->compact && strcmp (status, "new") == 0) {
        im_ctl_text_str (p->out, idtext);
        return;
    }
    RAW (p->out, "{\"id\":");
    im_ctl_text_str (p->out, idtext);
    RAW (p->out, ",\"status\":");
    im_ctl_text_str (p->out, status);
    RAW (p->out, "}");
}

/* Walks the index of the item's value once (its live record and newest
 * tombstone of this node's). */
void
publish_own_lookup (node_t *self, publish_t *p)
{
    if (p->m.looked)
        return;
    p->m.type = p->rec->type;
    p->m.value = p->rec->value;
    p->m.has_live = p->m.has_tomb = 0;
    p->m.nmore = p->m.ntombs = 0; /* more_failed stays: the request fails */
    im_store_lookup_value (self->store, p->rec->type, p->rec->value, own_match_fn, &p->m);
    p->m.looked = 1;
}

/* REC's newest version: the one an earlier item of this request made of
 * its id, if any (each item's record is remembered under "#ID"). */
const im_record_t *
publish_newest (publish_t *p, const im_record_t *rec)
{
    size_t at = publish_seen_id (p, rec->id);
    return at ? &p->b.recs[at - 1] : rec;
}

/* Whether HELD, found by the item's value, still has that value and is live
 * once the request's earlier items are taken into account: an earlier item
 * may have changed its value (by its id) or revoked it. */
const im_record_t *
publish_still_of_value (publish_t *p, const im_record_t *held)
{
    if (!held)
        return NULL;
    held = publish_newest (p, held);
    return held->op == IM_OP_PUT && held->type == p->rec->type
                   && strcmp (held->value, p->rec->value) == 0
               ? held
               : NULL;
}

/* REC as the request's earlier items left it, when that is a live record of
 * the item's value that no revoke by value of the request revokes; else
 * NULL. */
static const im_record_t *
still_live (publish_t *p, const im_record_t *rec)
{
    rec = rec ? publish_still_of_value (p, rec) : NULL;
    return rec && !publish_is_doomed (p, rec->id) ? rec : NULL;
}

/* This node's record of ID as the request's earlier items left it, or NULL
 * (read into m.found). */
static const im_record_t *
own_by_id (node_t *self, publish_t *p, const uint8_t *id)
{
    size_t at = publish_seen_id (p, id);
    if (at)
        return publish_newest (p, &p->b.recs[at - 1]);
    return im_store_get (self->store, p->m.origin, id, p->m.found) == 0 ? p->m.found
                                                                        : NULL;
}

/* Calls FN for each live record of the item's value as the request's
 * earlier items left it (still_live): those they made or changed, then the
 * stored ones they did not touch; until FN returns non-zero, which this
 * returns (else 0). A stored one is read into m.found: REC lasts until the
 * next read. */
int
publish_live_each (node_t *self, publish_t *p, publish_live_fn *fn, void *arg)
{
    int rc = 0;
    if (publish_seen_value (p, p->rec->type, p->rec->value))
        for (size_t i = 0; !rc && i < p->b.n; i++)
            if (still_live (p, &p->b.recs[i]) == &p->b.recs[i])
                rc = fn (p, &p->b.recs[i], arg);
    publish_own_lookup (self, p);
    for (size_t i = 0; !rc && p->m.has_live && i <= p->m.nmore; i++) {
        const uint8_t *id = i ? p->m.more[i - 1] : p->m.live->id;
        if (publish_seen_id (p, id))
            continue; /* its newest is an earlier item's: seen above */
        const im_record_t *r = still_live (p, i ? own_by_id (self, p, id) : p->m.live);
        if (r)
            rc = fn (p, r, arg);
    }
    return rc;
}

int
publish_any_live (node_t *self, publish_t *p)
{
    return publish_live_each (self, p, any_fn, NULL);
}

/* Keeps in ARG (an id and a flag after it) the smallest id given. */
static int
smallest_fn (publish_t *p, const im_record_t *rec, void *arg)
{
    (void)p;
    uint8_t *best = arg;
    if (!best[IM_ID_SIZE] || memcmp (rec->id, best, IM_ID_SIZE) < 0) {
        memcpy (best, rec->id, IM_ID_SIZE);
        best[IM_ID_SIZE] = 1;
    }
    return 0;
}

/* Rules 4 and 5 for an item without an id: the newest earlier item of the
 * value while it still has it, else of the live records of the value (made
 * by earlier items, or stored), as the request left them, the one of the
 * smallest id: the one the next request would find first. */
static const im_record_t *
live_of_value (node_t *self, publish_t *p)
{
    size_t at = publish_seen_value (p, p->rec->type, p->rec->value);
    const im_record_t *r = at ? still_live (p, &p->b.recs[at - 1]) : NULL;
    if (r)
        return r;
    uint8_t best[IM_ID_SIZE + 1] = { 0 };
    publish_live_each (self, p, smallest_fn, best);
    return best[IM_ID_SIZE] ? still_live (p, own_by_id (self, p, best)) : NULL;
}

typedef struct {
    const uint8_t *id;
    const im_record_t *rec;
} exported_t;

/* Stops at REC when this node exported it under ARG's id. */
static int
exported_fn (publish_t *p, const im_record_t *rec, void *arg)
{
    exported_t *e = arg;
    uint8_t out[IM_ID_SIZE];
    im_id_export (p->m.origin, rec->id, out);
    if (memcmp (out, e->id, IM_ID_SIZE) != 0)
        return 0;
    e->rec = rec;
    return 1;
}

/* What this node already holds of REC: with an importer's ID, an earlier
 * item's record of that id, its own record of that id, or its live record of
 * the same value whose exported id is ID; without, rules 4 and 5
 * (live_of_value); each as the request's earlier items left it. */
static const im_record_t *
publish_prev (node_t *self, publish_t *p, int has_id, const uint8_t id[IM_ID_SIZE])
{
    if (!has_id)
        return live_of_value (self, p);
    const im_record_t *r = own_by_id (self, p, id);
    if (r)
        return r;
    /* The live record of the value this node exported under ID (im_id_export):
     * an import of its own export maps back to the record it came from,
     * whichever of the value's copies that was. */
    exported_t e = { .id = id, .rec = NULL };
    publish_live_each (self, p, exported_fn, &e);
    return e.rec;
}

/* Whether REC is the newest of its id in the request, and a tombstone of the
 * item's value. */
static int
tomb_of_value (publish_t *p, const im_record_t *rec)
{
    return rec && publish_newest (p, rec) == rec && rec->op == IM_OP_REVOKE
           && rec->type == p->rec->type && strcmp (rec->value, p->rec->value) == 0;
}

/* Keeps REC in m.gone when it takes the place of what is there (tomb_replaces). */
static void
tomb_offer (publish_t *p, const im_record_t *rec, int *has)
{
    if (!*has || tomb_replaces (p->m.gone, rec)) {
        im_record_copy (p->m.gone, rec);
        *has = 1;
    }
}

/* This node's newest tombstone of the item's value as the request's earlier
 * items left it (rule 8): one an earlier item made, one a revoke by value of
 * the request is to make (DOOMED), or the newest stored that is still one;
 * of several made in the same second, the stricter (tomb_replaces). NULL
 * when there is none. */
im_record_t *
publish_own_tomb (node_t *self, publish_t *p)
{
    publish_own_lookup (self, p);
    int has = 0;
    if (p->m.has_tomb && publish_newest (p, p->m.tomb) == p->m.tomb)
        tomb_offer (p, p->m.tomb, &has); /* no earlier item touched the newest */
    else
        for (size_t i = 0; i < p->m.ntombs; i++) {
            /* Each stored one as the earlier items left it (made live again
             * or moved by its id, or not). */
            const im_record_t *t = own_by_id (self, p, p->m.tombs[i]);
            if (tomb_of_value (p, t))
                tomb_offer (p, t, &has);
        }
    if (publish_seen_value (p, p->rec->type, p->rec->value))
        for (size_t i = 0; i < p->b.n; i++)
            if (tomb_of_value (p, &p->b.recs[i]))
                tomb_offer (p, &p->b.recs[i], &has);
    char key[IM_VALUE_MAX + 8];
    if (p->revalued) /* formatted only when a revoke by value is to come */
        snprintf (key, sizeof key, "%d|%s", p->rec->type, p->rec->value);
    int doomed = p->revalued && zhashx_lookup (p->revalued, key);
    for (const void *v = doomed ? zhashx_first (p->doomed) : NULL; v;
         v = zhashx_next (p->doomed)) {
        uint8_t id[IM_ID_SIZE];
        const im_record_t *r
            = im_id_parse ((const char *)zhashx_cursor (p->doomed) + 1, id)
                  ? NULL
                  : own_by_id (self, p, id);
        if (r && r->op == IM_OP_PUT && r->type == p->rec->type
            && strcmp (r->value, p->rec->value) == 0) {
            im_record_t *t = p->merged; /* free until the item is merged */
            im_record_copy (t, r);
            node_make_tombstone (t, p->now);
            tomb_offer (p, t, &has);
        }
    }
    return has ? p->m.gone : NULL;
}

/* An importer's revoked object: the tombstone of what we hold. Returns 1
 * when the item is done (its result given), 0 when REC is to be stored. */
static int
publish_revoke (publish_t *p, const im_record_t *prev, int has_id, char *idtext)
{
    if (!prev || prev->op == IM_OP_REVOKE) {
        if (prev)
            im_id_format (prev->id, idtext);
        if (prev)
            publish_result_id (p, idtext, "unchanged");
        else
            publish_result_add (p, json_pack ("{s:s?, s:s, s:s}", "id",
                                              has_id ? idtext : NULL, "status", "skipped",
                                              "reason", "revoked, and not held here"));
        return 1;
    }
    memcpy (p->rec, prev, sizeof *p->rec);
    node_make_tombstone (p->rec, p->now);
    return 0;
}

/* A value on a warninglist is refused unless forced. Returns 1 when it was
 * refused (its result given). */
static int
publish_warned (node_t *self, publish_t *p)
{
    char list[256], entry[256];
    if (!node_warninglisted (self, p->rec, list, sizeof list, entry, sizeof entry))
        return 0;
    char why[512], reason[300];
    snprintf (why, sizeof why,
              "value: '%.100s' is on the warninglist '%.120s' (entry '%.120s'): "
              "force it to publish it anyway",
              p->rec->value, list, entry);
    snprintf (reason, sizeof reason, "on warninglist '%s'", list);
    publish_result_add (p, node_refused_result (self, why, reason));
    return 1;
}

/* The guards: the widest prefix, the loaded warninglists (unless forced),
 * then the built-in lists (im_node_guard.c). Returns 1 when the item was
 * refused (its result given). */
static int
publish_guarded (node_t *self, publish_t *p, int force)
{
    p->warning[0] = '\0';
    json_t *refusal = node_guard_breadth (self, p->rec, force, &p->overrides, p->warning,
                                          sizeof p->warning);
    if (!refusal && !force && self->warnings && publish_warned (self, p))
        return 1;
    if (!refusal)
        refusal = node_guard (self, p->rec, force, &p->overrides, p->warning,
                              sizeof p->warning);
    if (refusal)
        publish_result_add (p, refusal);
    return refusal != NULL;
}

/* A new version of PREV, a new indicator with the importer's ID, or a new
 * one. Returns 1 when the item is done ("unchanged"), else 0 with *STATUS. */
static int
publish_put (publish_t *p, const im_record_t *prev, int has_id,
             const uint8_t id[IM_ID_SIZE], const char **status, char *idtext)
{
    im_record_t *rec = p->rec;
    if (prev) {
        memcpy (rec->id, prev->id, IM_ID_SIZE);
        rec->version = prev->version + 1;
        rec->created = prev->created;
        *status = "updated";
        if (prev->op == IM_OP_PUT && rec->type == prev->type
            && strcmp (rec->value, prev->value) == 0
            && im_record_same_content (rec, prev)) {
            im_id_format (rec->id, idtext);
            publish_result_id (p, idtext, "unchanged");
            return 1;
        }
    }
    else if (has_id)
        memcpy (rec->id, id, IM_ID_SIZE);
    else
        im_id_generate (rec->id);
    return 0;
}

/* The result of an update says what changed, and the downgrades allowed. */
static void
publish_changes (json_t *result, const im_record_t *prev, const im_record_t *rec,
                 json_t *down)
{
    if (prev
        && strcmp (json_string_value (json_object_get (result, "status")), "updated")
               == 0)
        json_object_set_new (result, "changed", im_record_changes (prev, rec));
    if (down)
        json_object_set_new (result, "downgraded", down);
}

/* Whether an item's id names what it may not (WHY says so): an id names one
 * of this node's indicators, not a report, sighting or other record, and, to
 * revoke (REVOKE_ID), the indicator of the item's own value. */
static int
publish_misnamed (const im_record_t *prev, const im_record_t *rec, int revoke_id,
                  const char *idtext, char *why, size_t whysz)
{
    if (prev && !im_type_is_ioc (prev->type))
        snprintf (why, whysz,
                  "id: %s names a record of type %s of this node, not an indicator",
                  idtext, im_type_name (prev->type));
    else if (revoke_id && prev
             && (prev->type != rec->type || strcmp (prev->value, rec->value) != 0))
        snprintf (why, whysz, "id: %s is this node's %s %.200s, not this item's value",
                  idtext, im_type_name (prev->type), prev->value);
    else
        return 0;
    return 1;
}

/* One item of the request (SPLIT by the reader, or NULL): checked, matched,
 * and added to the batch, with its result appended. */
static void
publish_item (node_t *self, publish_t *p, json_t *item, node_item_t *split)
{
    char why[512], idtext[IM_ID_STR_SIZE];
    im_ctl_item_t own;
    json_t *content;
    if (split) {
        own = split->own;
        /* A reference of our own: the last one, and so the free, stays with
         * the reader, whose thread made it (a free here would take its
         * arena's lock). */
        content = json_incref (split->content);
        if (!content) /* why it was refused, as the reader said */
            snprintf (why, sizeof why, "%s", split->why ? split->why : "out of memory");
    }
    else
        content = im_ctl_item_split (item, &own, why, sizeof why);
    const uint8_t *id = own.id;
    int has_id = own.has_id, revoke = own.revoke, force = p->force || own.force;
    im_record_t *rec = p->rec;
    im_record_init (rec);
    p->m.looked = 0;
    int bad = !content || im_record_from_json (rec, content, p->now, why, sizeof why);
    if (!bad && has_id && publish_names_doomed (p, id)
        && publish_doomed (self, p, revoke, id)) {
        json_decref (content);
        return;
    }
    if (bad) {
        json_decref (content);
        publish_result_add (p, node_invalid_result (self, why));
        return;
    }
    memcpy (rec->origin, im_identity_node (self->identity), IM_NODE_ID_SIZE);
    rec->created = rec->modified = p->now;
    if (has_id)
        im_id_format (id, idtext);
    const im_record_t *prev = publish_prev (self, p, has_id, id);
    if (publish_misnamed (prev, rec, revoke && has_id, idtext, why, sizeof why)) {
        json_decref (content);
        publish_result_add (p, node_invalid_result (self, why));
        return;
    }
    const char *status = "new";
    json_t *down = NULL;
    /* Rule 8: a new indicator, without an id or with an importer's new one,
     * of a value this node revoked and holds no live copy of. */
    im_record_t *tomb = !revoke && !prev && !(has_id && publish_any_live (self, p))
                            ? publish_own_tomb (self, p)
                            : NULL;
    char kept[200], tomb_id[IM_ID_STR_SIZE];
    if (tomb)
        im_id_format (tomb->id, tomb_id);
    bad = !revoke
          && (publish_update (self, p, content, prev, &down)
              || (has_id && !prev && publish_sibling (self, p, &down))
              || (tomb
                  && publish_republish (self, p, content, tomb, &down, kept, sizeof kept))
              || (prev && prev->op == IM_OP_REVOKE
                  && publish_republish (self, p, content, publish_unrevoked (p, prev),
                                        &down, kept, sizeof kept))
              /* Once merged over what the id held (helper 68). */
              || (prev && im_type_is_ioc (prev->type)
                  && (prev->type != rec->type || strcmp (prev->value, rec->value) != 0)
                  && publish_moved (self, p, &down)));
    json_decref (content);
    if (bad)
        return;
    if (revoke) {
        if ((!prev && !has_id && publish_revoke_rest (self, p))
            || publish_revoke (p, prev, has_id, idtext))
            return;
        status = "revoked";
    }
    else if (publish_guarded (self, p, force)
             || publish_put (p, prev, has_id, id, &status, idtext)) {
        p->overrides.item = 0; /* unchanged: nothing forced is published */
        json_decref (down);
        return;
    }
    node_guard_done (&p->overrides);
    im_id_format (rec->id, idtext);
    if (node_batch_add (&p->b, rec, why, sizeof why)) {
        json_decref (down);
        publish_result_add (p, node_invalid_result (self, why));
        return;
    }
    json_t *others = revoke && !has_id ? publish_revoke_others (self, p, rec->id) : NULL;
    if (revoke && !has_id) /* a later line names it as it names the others */
        publish_doom (p, rec->id, NULL);
    if ((revoke || !p->warning[0]) && !tomb && !down && !others
        && strcmp (status, "updated") != 0)
        publish_result_id (p, idtext, status);
    else {
        json_t *result = json_pack ("{s:s, s:s}", "id", idtext, "status", status);
        if (others)
            json_object_set_new (result, "also_revoked", others);
        if (!revoke && p->warning[0])
            json_object_set_new (result, "warning", json_string (p->warning));
        if (tomb)
            json_object_set_new (
                result, "republished",
                json_pack ("{s:s, s:s}", "revoked", tomb_id, "kept", kept));
        publish_changes (result, prev, &p->b.recs[p->b.n - 1], down);
        publish_result_add (p, result);
    }
    /* Found again by its id, the importer's id, and its value (rule 4). */
    publish_seen_note (p, has_id ? id : NULL);
}

/* PUBLISH {"items": [...], "force": bool, "dry_run": bool, "merge": bool,
 * "allow_downgrade": bool}. Each item is an indicator's content, with
 * optional "id" (an importer's stable id: the same id updates the same
 * indicator), "revoke" and "force". A value on a warninglist is refused
 * unless forced; an update that lowers the protection unless allowed. With
 * dry_run everything is checked and encoded, and nothing is signed or stored. */
json_t *
node_handle_publish (node_t *self, json_t *body, char *err, size_t errsz)
{
    json_t *items = node_batch_array (body, "items", err, errsz);
    if (!items)
        return NULL;
    json_t *force_v = json_object_get (body, "force");
    json_t *dry_v = json_object_get (body, "dry_run");
    if ((force_v && !json_is_boolean (force_v)) || (dry_v && !json_is_boolean (dry_v))) {
        snprintf (err, errsz, "'force' and 'dry_run' must be true or false");
        return NULL;
    }
    json_t *merge_v = json_object_get (body, "merge");
    json_t *allow_v = json_object_get (body, "allow_downgrade");
    json_t *compact_v = json_object_get (body, "compact");
    if ((merge_v && !json_is_boolean (merge_v)) || (allow_v && !json_is_boolean (allow_v))
        || (compact_v && !json_is_boolean (compact_v))) {
        snprintf (err, errsz,
                  "'merge', 'allow_downgrade' and 'compact' must be true or false");
        return NULL;
    }
    int dry_run = json_is_true (dry_v);
    size_t n = json_array_size (items);
    im_ctl_text_t *out = &self->reply_text;
    im_ctl_text_free (out);
    im_ctl_text_init (out, IM_CONTROL_REPLY_MAX);
    RAW (out, "{\"results\":[");
    publish_t p = { .rec = malloc (sizeof (im_record_t)),
                    .m = { .origin = im_identity_node (self->identity),
                           .found = malloc (sizeof (im_record_t)),
                           .live = malloc (sizeof (im_record_t)),
                           .tomb = malloc (sizeof (im_record_t)),
                           .gone = malloc (sizeof (im_record_t)) },
                    .out = out,
                    .now = im_time_now (),
                    .force = json_is_true (force_v),
                    .merge = json_is_true (merge_v),
                    .allow_downgrade = json_is_true (allow_v),
                    .compact = json_is_true (compact_v),
                    .merged = malloc (sizeof (im_record_t)) };
    int ok = !node_batch_init (self, &p.b, n) && p.rec && p.m.found && p.m.live
             && p.m.tomb && p.merged && publish_seen_init (&p, n) == 0;
    p.overrides.dry = dry_run; /* nor logs an override */
    if (ok && !dry_run)        /* a dry run signs nothing */
        node_batch_sealer (&p.b, self->sealer, im_identity_sign_secret (self->identity));
    /* The items as the reader split them, off the main thread. */
    node_item_t *split
        = self->request && self->request->body == body && self->request->nitems == n
              ? self->request->items
              : NULL;
    for (size_t i = 0; ok && i < n; i++)
        publish_item (self, &p, json_array_get (items, i), split ? &split[i] : NULL);
    node_guard_summary (&p.overrides);
    if (ok && dry_run)
        RAW (out, "],\"dry_run\":true}");
    else if (ok)
        RAW (out, "]}");
    if (!ok || out->failed || p.m.more_failed)
        snprintf (err, errsz, "out of memory");
    node_batch_t more = { 0 };
    ok = ok && !out->failed && !p.m.more_failed
         && (dry_run
             || ((!p.ndoomed || publish_revoke_doomed (self, &p, &more, err, errsz) == 0)
                 && node_batch_commit_with (self, &p.b, &more, err, errsz) == 0));
    node_batch_free (self, &p.b);
    node_batch_free (self, &more);
    free (p.rec);
    free (p.merged);
    free (p.m.found);
    free (p.m.live);
    free (p.m.tomb);
    free (p.m.gone);
    free (p.m.more);
    free (p.m.tombs);
    publish_seen_free (&p);
    zhashx_destroy (&p.doomed);
    zhashx_destroy (&p.revalued);
    json_t *done = ok ? json_object () : NULL; /* the reply is the text */
    if (ok && !done)
        snprintf (err, errsz, "out of memory");
    if (!done)
        im_ctl_text_free (out);
    return done;
}
