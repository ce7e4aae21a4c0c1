/* SPDX-License-Identifier: MPL-2.0 */
/* im_sync.c -- anti-entropy: a node walks a peer's change log with SYNC, the
 * peer answers with KEYS of what may go to it, and what the node lacks of
 * them is noted as wanted from that peer (see im_gossip.c). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>

#include "im_mesh_int.h"

typedef struct {
    im_mesh_t *self;
    peer_t *peer;
    size_t n;
} sync_walk_t;

static int
sync_fn (const im_store_change_t *c, void *arg)
{
    sync_walk_t *w = arg;
    if (mesh_shareable (w->self, c, w->peer, NULL, 0))
        mesh_record_key (c->rec, w->self->keys + w->n++ * IM_MSG_HAVE_KEY);
    return 0;
}

/* SYNC: the keys of the records after its cursor that may go to it, as
 * held now. A walk stops at CREDIT keys or SCAN_MAX changes read. */
void
mesh_handle_sync (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                  const im_msg_t *msg)
{
    sync_walk_t w = { self, p, 0 };
    uint64_t last = msg->cursor;
    if (im_store_feed (self->store, msg->cursor, msg->credit, SCAN_MAX, sync_fn, &w,
                       &last)
        < 0) {
        zsys_error ("mesh: reading the change log for %s: %s", p->card.name,
                    strerror (errno));
        return;
    }
    mesh_charge (p, (double)(last - msg->cursor) / QUOTA_SCAN);
    im_store_stats_t st;
    im_store_stats (self->store, &st);
    im_msg_t keys = { .id = IM_MSG_KEYS,
                      .cursor = last,
                      .more = last < st.last_seq,
                      .count = w.n,
                      .have = w.n ? self->keys : NULL };
    mesh_send (self, sock, route, &keys);
}

/* KEYS: the answer to our SYNC. What we lack of them is fetched at once. */
void
mesh_handle_keys (im_mesh_t *self, peer_t *p, const im_msg_t *msg)
{
    int64_t now = zclock_mono ();
    if (!p->sync_out) {
        p->refused[REFUSE_PROTOCOL]++; /* nothing was asked */
        return;
    }
    p->sync_out = 0;
    peer_holds_add (p, msg->have, msg->count);
    mesh_want_add (self, p, msg->have, msg->count, now, 0, 0);
    if (msg->more && msg->cursor > p->sync_cursor) {
        p->sync_cursor = msg->cursor;
        p->sync_at = now; /* the walk goes on when there is room */
        return;
    }
    /* The walk is done (or the peer's answer went nowhere): again later. */
    p->sync_cursor = 0;
    p->sync_at = now + self->anti_entropy;
    p->syncs++;
}

/* Sends P the next SYNC of its walk when one is due and its wanted ring has
 * room for the answer. */
void
mesh_sync_due (im_mesh_t *self, peer_t *p, int64_t now)
{
    zsock_t *sock;
    zframe_t *route;
    if (p->sync_out && now - p->sync_out >= SYNC_LOST_MS)
        p->sync_out = 0; /* lost: asked again */
    if (p->sync_out || now < p->sync_at || !peer_want_room (p) || !peer_connected (p)
        || peer_pull_link (p, self->router, &sock, &route))
        return;
    im_msg_t sync
        = { .id = IM_MSG_SYNC, .cursor = p->sync_cursor, .credit = IM_MSG_CREDIT_MAX };
    if (mesh_send (self, sock, route, &sync) == 0)
        p->sync_out = now;
}
