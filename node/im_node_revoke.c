/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_revoke.c -- REVOKE: this node's records named by id become signed
 * tombstones, stored in one batch and put on the feed (SPEC.md, "REVOKE"). */
#include "config.h"

#include <string.h>

#include <czmq.h>
#include <jansson.h>

#include "im_node_int.h"

/* Turns REC (this node's stored record) into its tombstone, one version on. */
void
node_make_tombstone (im_record_t *rec, int64_t now)
{
    /* A tombstone says only what is needed to route and apply it (SPEC,
     * "Tombstones"): it may go to holders of an earlier, less restricted
     * version. */
    rec->op = IM_OP_REVOKE;
    rec->version++;
    rec->description[0] = 0;
    rec->ntags = 0;
    rec->confidence = 0;
    rec->modified = now;
}

#define NO_REPORT                                                                        \
    "id: no report of this node has that id (only its origin can revoke a report)"
#define NO_INDICATOR                                                                     \
    "id: no indicator of this node has that id (only its origin can revoke an "          \
    "indicator)"

json_t *
node_handle_revoke (node_t *self, json_t *body, char *err, size_t errsz)
{
    json_t *ids = node_batch_array (body, "ids", err, errsz);
    if (!ids)
        return NULL;
    size_t n = json_array_size (ids);
    int64_t now = im_time_now (); /* every tombstone of the request */
    /* "type": only records of that type are revoked (report revoke). */
    const char *want = json_string_value (json_object_get (body, "type"));
    int reports = want && strcmp (want, "report") == 0;
    node_batch_t b;
    im_record_t *rec = malloc (sizeof *rec);
    json_t *results = json_array ();
    if (node_batch_init (self, &b, n) || !rec || !results) {
        snprintf (err, errsz, "out of memory");
        json_decref (results);
        results = NULL;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get (ids, i);
        uint8_t id[IM_ID_SIZE];
        char why[512];
        if (!json_is_string (v) || im_id_parse (json_string_value (v), id)) {
            json_array_append_new (
                results, node_error_result (self, "id: not an indicator id (a UUID)"));
            continue;
        }
        int dup = 0;
        for (size_t j = 0; j < b.n && !dup; j++)
            dup = memcmp (b.recs[j].id, id, IM_ID_SIZE) == 0;
        int held
            = !dup
              && !im_store_get (self->store, im_identity_node (self->identity), id, rec);
        const char *no = dup     ? "id: given twice"
                         : !held ? (reports ? NO_REPORT : NO_INDICATOR)
                         : want && !(reports && rec->type == IM_TYPE_REPORT)
                             ? (reports ? "id: not a report of this node"
                                        : "id: not of the type asked")
                             : NULL;
        if (no) {
            json_array_append_new (results, node_error_result (self, no));
            continue;
        }
        char text[IM_ID_STR_SIZE];
        im_id_format (id, text);
        if (rec->op == IM_OP_REVOKE) {
            json_array_append_new (results, json_pack ("{s:s, s:s}", "id", text, "status",
                                                       "already revoked"));
            continue;
        }
        node_make_tombstone (rec, now);
        json_t *result = json_pack ("{s:s, s:s}", "id", text, "status", "revoked");
        if (node_batch_add (&b, rec, why, sizeof why)) {
            json_decref (result);
            json_array_append_new (results, node_error_result (self, why));
            continue;
        }
        json_array_append_new (results, result);
    }
done:
    free (rec);
    return node_batch_finish (self, &b, results, err, errsz);
}
