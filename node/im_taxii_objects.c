/* SPDX-License-Identifier: MPL-2.0 */
/* im_taxii_objects.c -- the TAXII collection's content: the change log
 * walked in order, each record as its client's policy lets a peer see it
 * (im_policy_outbound), as a STIX 2.1 indicator (proto/im_stix), a manifest
 * entry or a version. A page's `next` is the change it ended at. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "im_stix.h"
#include "im_taxii_int.h"
#include "im_time.h"

/* What one walk has found so far. */
typedef struct {
    im_taxii_t *self;
    const im_taxii_client_t *client;
    const im_policy_t *policy;
    const taxii_query_t *q;
    taxii_what_t what;
    taxii_page_t *page;
    json_t *list;
    size_t limit;
    uint64_t last_in; /* the change of the last object taken */
    int more;         /* another object was found past the page */
    int64_t now;
} walk_ctx_t;

static const im_policy_t *
client_policy (im_taxii_t *self, const im_taxii_client_t *client)
{
    for (size_t i = 0; i < self->npolicies; i++)
        if (strcmp (self->policies[i].name, client->policy) == 0)
            return &self->policies[i];
    return NULL;
}

/* Whether the record of CHANGE may go to the client, as to a peer: the
 * client is the peer whose node id is its recipient id. */
static int
shared (walk_ctx_t *w, const im_store_change_t *change)
{
    static const uint8_t zero[IM_NODE_ID_SIZE];
    if (!im_type_is_ioc (change->rec->type))
        return 0; /* reports and members are no STIX indicators */
    im_share_ctx_t ctx = {
        .rec = change->rec,
        .hops = change->hops,
        .from = memcmp (change->from, zero, sizeof zero) ? change->from : NULL,
        .peer = w->client->id,
        .peer_name = w->client->name,
        .policy = w->policy,
        .now = w->now,
    };
    im_share_t verdict = im_policy_outbound (&ctx, NULL, 0);
    return verdict == IM_SHARE_YES || verdict == IM_SHARE_REVOCATION;
}

/* When CHANGE was added to the collection: when this node stored that
 * version (a partner's record arrives after this node's own of later
 * "modified" times), or its modified time for a change an older intelmesh
 * wrote. */
static int64_t
date_added_ms (const im_store_change_t *change)
{
    return change->added_ms ? change->added_ms : change->rec->modified * 1000;
}

static int
matches (walk_ctx_t *w, const im_store_change_t *change, const char *stix_id)
{
    const taxii_query_t *q = w->q;
    const im_record_t *rec = change->rec;
    int64_t added = date_added_ms (change);
    int64_t version = rec->modified * 1000;
    if (q->no_type || (q->added_after_ms >= 0 && added <= q->added_after_ms))
        return 0;
    int found = q->nids == 0;
    for (size_t i = 0; i < q->nids && !found; i++)
        found = strcmp (q->ids[i], stix_id) == 0;
    if (!found)
        return 0;
    found = q->nversions == 0;
    for (size_t i = 0; i < q->nversions && !found; i++)
        found = q->versions[i] == version;
    return found;
}

static json_t *
manifest_entry (const im_store_change_t *change, const char *stix_id)
{
    char t[IM_STIX_TIME_SIZE], added[IM_STIX_TIME_SIZE];
    im_stix_time_ms (date_added_ms (change), added);
    im_stix_time (change->rec->modified, t);
    return json_pack ("{s:s, s:s, s:s, s:s}", "id", stix_id, "date_added", added,
                      "version", t, "media_type", TAXII_STIX_MEDIA);
}

static int
walk_fn (const im_store_change_t *change, void *arg)
{
    walk_ctx_t *w = arg;
    char stix_id[IM_STIX_ID_SIZE];
    im_stix_id (change->rec, stix_id);
    if (!matches (w, change, stix_id) || !shared (w, change))
        return 0;
    if (w->page->count >= w->limit) {
        w->more = 1;
        return 1;
    }
    json_t *item = NULL;
    char t[IM_STIX_TIME_SIZE];
    if (w->what == TAXII_OBJECTS)
        item = im_stix_indicator (change->rec);
    else if (w->what == TAXII_MANIFEST)
        item = manifest_entry (change, stix_id);
    else
        item = json_string (im_stix_time (change->rec->modified, t));
    if (!item || json_array_append_new (w->list, item))
        return -1;
    int64_t added = date_added_ms (change);
    if (w->page->count == 0)
        w->page->first_ms = added;
    w->page->last_ms = added;
    w->page->count++;
    w->last_in = change->seq;
    return 0;
}

/* The envelope: {"more", "next", "objects"} (or "versions"); an empty
 * page of objects is {}. */
static int
envelope (walk_ctx_t *w, uint64_t next)
{
    const char *key = w->what == TAXII_VERSIONS ? "versions" : "objects";
    json_t *body = json_object ();
    if (!body)
        return -1;
    json_object_set_new (body, "more", json_boolean (w->more));
    if (w->more) {
        char text[24];
        snprintf (text, sizeof text, "%llu", (unsigned long long)next);
        json_object_set_new (body, "next", json_string (text));
    }
    if (json_array_size (w->list))
        json_object_set (body, key, w->list);
    w->page->body = body;
    return 0;
}

int
taxii_walk (im_taxii_t *self, const im_taxii_client_t *client, const taxii_query_t *q,
            taxii_what_t what, taxii_page_t *page)
{
    memset (page, 0, sizeof *page);
    page->first_ms = page->last_ms = -1;
    walk_ctx_t w = { self,
                     client,
                     client_policy (self, client),
                     q,
                     what,
                     page,
                     json_array (),
                     q->limit,
                     q->next,
                     0,
                     im_time_now () };
    if (!w.policy || !w.list) {
        json_decref (w.list);
        errno = w.list ? EINVAL : ENOMEM;
        return -1;
    }
    /* A look-up by id reads the whole log (there is no index of the ids
     * records have outside); a list stops after TAXII_SCAN_MAX changes. */
    int by_id = q->nids > 0;
    uint64_t since = q->next, last = q->next;
    size_t scanned = 0;
    im_store_stats_t st;
    if (im_store_stats (self->store, &st)) {
        json_decref (w.list);
        return -1;
    }
    while (!w.more && since < st.last_seq && (by_id || scanned < TAXII_SCAN_MAX)) {
        if (im_store_feed (self->store, since, SIZE_MAX, 4096, walk_fn, &w, &last) < 0) {
            json_decref (w.list);
            return -1;
        }
        scanned += last - since;
        if (last == since)
            break;
        since = last;
    }
    /* Scanned out before the log's end: more to read from where it stopped. */
    if (!w.more && since < st.last_seq && !by_id) {
        w.more = 1;
        w.last_in = since;
    }
    /* `next` gives out a change number: made durable first, so that a power
     * loss cannot undo it and number other changes with it (a peer's batch
     * is committed lazily: SPEC "Storage and durability"). */
    if (w.more && im_store_sync (self->store) != 0) {
        json_decref (w.list);
        return -1;
    }
    int rc = envelope (&w, w.last_in);
    json_decref (w.list);
    return rc;
}
