/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_revalue.c -- PUBLISH's revokes by value: every live indicator of
 * this node's of the value is revoked, stored or made by an earlier item, in
 * the request's own transaction (SPEC.md, "PUBLISH", rule 9). */
#include "config.h"

#include <string.h>

#include <czmq.h>
#include <jansson.h>

#include "im_node_publish_int.h"

/* Whether ID is one of the indicators a revoke by value of this request
 * revokes. */
int
publish_is_doomed (publish_t *p, const uint8_t *id)
{
    char key[IM_ID_STR_SIZE + 1];
    publish_id_key (id, key);
    return p->doomed && zhashx_lookup (p->doomed, key);
}

/* Whether ID names an indicator a revoke by value of this request revokes:
 * by its own id, or by the id this node exported it under (im_id_export),
 * as an import of its own export does. */
int
publish_names_doomed (publish_t *p, const uint8_t *id)
{
    if (!p->doomed)
        return 0;
    if (publish_is_doomed (p, id))
        return 1;
    for (const void *v = zhashx_first (p->doomed); v; v = zhashx_next (p->doomed)) {
        uint8_t own[IM_ID_SIZE], out[IM_ID_SIZE];
        if (im_id_parse ((const char *)zhashx_cursor (p->doomed) + 1, own) == 0) {
            im_id_export (p->m.origin, own, out);
            if (memcmp (out, id, IM_ID_SIZE) == 0)
                return 1;
        }
    }
    return 0;
}

/* Keeps ID among the indicators a revoke by value of this request revokes
 * (DOOMED), and in IDS (made when NULL) unless IDS is NULL. */
void
publish_doom (publish_t *p, const uint8_t *id, json_t **ids)
{
    char key[IM_ID_STR_SIZE + 1], value[IM_VALUE_MAX + 8];
    publish_id_key (id, key);
    /* The value the item revokes (rule 8 looks at DOOMED for it alone). */
    snprintf (value, sizeof value, "%d|%s", p->rec->type, p->rec->value);
    if ((!p->doomed && !(p->doomed = zhashx_new ()))
        || (!p->revalued && !(p->revalued = zhashx_new ()))) {
        p->m.more_failed = 1; /* the request fails */
        return;
    }
    zhashx_update (p->doomed, key, (void *)1);
    zhashx_update (p->revalued, value, (void *)1);
    p->ndoomed++;
    if (!ids)
        return;
    if (!*ids)
        *ids = json_array ();
    if (json_array_append_new (*ids, json_string (key + 1)))
        p->m.more_failed = 1;
}

/* A revoke by value revokes each live indicator of this node's of that
 * value, not only the one found (REVOKED, or NULL): an importer's id may have
 * made others, stored or earlier in this request. They are taken as the
 * request's earlier items left them, kept in DOOMED, and revoked in the same
 * transaction as the request's batch (revoke_doomed). Returns their ids (a
 * new reference), or NULL when there are none. */
json_t *
publish_revoke_others (node_t *self, publish_t *p, const uint8_t *revoked)
{
    publish_own_lookup (self, p);
    json_t *ids = NULL;
    for (size_t i = 0; i <= p->m.nmore; i++) {
        const uint8_t *id = i ? p->m.more[i - 1] : p->m.live->id;
        if ((!i && !p->m.has_live) || (revoked && !memcmp (id, revoked, IM_ID_SIZE))
            || publish_is_doomed (p, id)
            || im_store_get (self->store, p->m.origin, id, p->m.found)
            || !publish_still_of_value (p, p->m.found))
            continue;
        publish_doom (p, id, &ids);
    }
    for (size_t i = 0; i < p->b.n; i++) { /* made or changed by this request */
        const im_record_t *r = &p->b.recs[i];
        if (publish_still_of_value (p, r) == r
            && (!revoked || memcmp (r->id, revoked, IM_ID_SIZE))
            && !publish_is_doomed (p, r->id))
            publish_doom (p, r->id, &ids);
    }
    return ids;
}

/* The tombstones of the indicators revoke_others kept, into MORE: each as
 * the request left it (a later item may not name them: see publish_item). */
int
publish_revoke_doomed (node_t *self, publish_t *p, node_batch_t *more, char *err,
                       size_t errsz)
{
    if (node_batch_init (self, more, p->ndoomed)) {
        snprintf (err, errsz, "out of memory");
        return -1;
    }
    for (const void *v = zhashx_first (p->doomed); v; v = zhashx_next (p->doomed)) {
        const char *key = zhashx_cursor (p->doomed);
        uint8_t id[IM_ID_SIZE];
        if (im_id_parse (key + 1, id))
            continue; /* never: DOOMED holds "#ID" keys */
        size_t at = publish_seen_id (p, id);
        if (at)
            im_record_copy (p->m.found, &p->b.recs[at - 1]);
        else if (im_store_get (self->store, p->m.origin, id, p->m.found))
            continue;
        if (p->m.found->op != IM_OP_PUT)
            continue;
        node_make_tombstone (p->m.found, p->now);
        if (node_batch_add (more, p->m.found, err, errsz))
            return -1;
    }
    return 0;
}

/* A revoke by value of a value revoked already: "unchanged", with the id of
 * the tombstone a value published again would keep the protection of (an
 * earlier item's, one a revoke by value of the request is to make, or the
 * newest stored: publish_own_tomb). Returns 1 when it was (its result
 * given). */
static int
revoked_already (node_t *self, publish_t *p)
{
    char idtext[IM_ID_STR_SIZE];
    const im_record_t *gone = publish_own_tomb (self, p);
    if (!gone)
        return 0;
    im_id_format (gone->id, idtext);
    publish_result_id (p, idtext, "unchanged");
    return 1;
}

/* A revoke by value whose first live record this request has revoked or
 * moved already, or that finds none: the others, if any (revoke_others), else
 * "unchanged" when the value is revoked already. Returns 1 when the item is
 * done (its result given). */
int
publish_revoke_rest (node_t *self, publish_t *p)
{
    json_t *ids = publish_revoke_others (self, p, NULL);
    if (!ids)
        return revoked_already (self, p);
    json_t *result
        = json_pack ("{s:O, s:s}", "id", json_array_get (ids, 0), "status", "revoked");
    json_array_remove (ids, 0);
    if (json_array_size (ids))
        json_object_set (result, "also_revoked", ids);
    json_decref (ids);
    publish_result_add (p, result);
    return 1;
}

/* An item naming by ID an indicator that an earlier line's revoke of its
 * value revokes: a revoke of it is "unchanged", anything else refused.
 * Returns 1 (its result given). */
int
publish_doomed (node_t *self, publish_t *p, int revoke, const uint8_t *id)
{
    char why[256], idtext[IM_ID_STR_SIZE];
    im_id_format (id, idtext);
    snprintf (why, sizeof why,
              "id: %s is revoked by an earlier line of this request (a revoke of its "
              "value)",
              idtext);
    if (revoke)
        publish_result_id (p, idtext, "unchanged");
    else
        publish_result_add (p, node_invalid_result (self, why));
    return 1;
}
