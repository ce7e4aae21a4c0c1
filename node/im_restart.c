/* SPDX-License-Identifier: MPL-2.0 */
/* im_restart.c -- a store lost or restored from an older copy (SPEC.md, "Store
 * restarts"): a pull beyond what this node served reveals it, the answer says
 * so, the puller starts again from there, and the node gets its own records
 * back from its peers. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>

#include "im_mesh_int.h"

/* Writes P's entry of what was served. Returns 0 or -1 (logged). */
static int
served_write (im_mesh_t *self, peer_t *p, const im_store_served_t *srv)
{
    if (im_store_set_served (self->store, p->card.node, srv) != 0) {
        if (mesh_peer_log (p, PEER_LOG_SERVED_WRITE))
            zsys_error ("mesh: cannot write what was served to %s: %s", p->card.name,
                        strerror (errno));
        return -1;
    }
    p->srv = *srv;
    return 0;
}

/* Writes SRV, P's entry, and in the same transaction the newest change
 * number as served to each other peer a pull of which was found within our
 * numbering since this node started (and has no restart answer out): one
 * durable write where there was one for each answer (on a busy mesh, an
 * answer to each peer after every batch stored). Noting a number as served
 * to such a peer before it is given out is sound: the number is held here,
 * and this write, waiting, makes it durable; a copy of the store taken at
 * any time never notes a number beyond its own newest; and a peer not heard
 * since this node started is left as it was, so that its first pull still
 * reveals a store older than what it applied ("Store restarts"). Returns 0
 * or -1 (logged). */
static int
served_write_pulled (im_mesh_t *self, peer_t *p, const im_store_served_t *srv)
{
    const uint8_t *peers[IM_PEERS_MAX];
    im_store_served_t in[IM_PEERS_MAX];
    peer_t *whom[IM_PEERS_MAX];
    size_t n = 0;
    uint64_t last = mesh_last_seq (self);
    whom[n] = p, peers[n] = p->card.node, in[n++] = *srv;
    peer_t *at = zlistx_item (self->peers); /* a caller may be walking them */
    /* A pull that reveals a restart never sets pull_checked, and a checked
     * peer's cursors stay within what was noted for it: the tests of a
     * restart answer out are a second guard, which no test can reach. */
    for (peer_t *q = zlistx_first (self->peers); q && n < IM_PEERS_MAX;
         q = zlistx_next (self->peers))
        if (q != p && q->pull_checked && !q->restart_answer && !q->srv.old_cursor
            && q->srv.served != IM_STORE_SERVED_UNKNOWN && q->srv.served < last) {
            whom[n] = q, peers[n] = q->card.node, in[n] = q->srv;
            in[n++].served = last;
        }
    if (at)
        zlistx_find (self->peers, at);
    if (im_store_set_served_many (self->store, n, peers, in) != 0) {
        if (mesh_peer_log (p, PEER_LOG_SERVED_WRITE))
            zsys_error ("mesh: cannot write what was served to %s: %s", p->card.name,
                        strerror (errno));
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        whom[i]->srv = in[i];
    return 0;
}

/* This node's store is behind: every peer is pulled again from the start, so
 * that the records it gives back (its own among them) come in again. */
static void
cursors_reset (im_mesh_t *self)
{
    self->cursors_reset = 1;
    zsys_warning ("mesh: pulling every peer again from the start, to get this "
                  "node's own indicators back");
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        peer_rewind (self, p);
}

/* At start: a store made anew while this node's keys exist was lost (intelmesh
 * init makes the store with the keys). Its cursors are 0 already. */
void
mesh_restart_start (im_mesh_t *self)
{
    if (!im_store_created (self->store))
        return;
    self->restarted_at = im_time_now ();
    self->cursors_reset = 1;
    zsys_warning ("mesh: the store was made anew although this node's keys exist "
                  "(lost?): pulling every peer from the start, to get this node's own "
                  "indicators back");
}

/* P pulls after *CURSOR. A pull from 0 asks for its own records back too;
 * a cursor beyond what we served it (or beyond our newest change) means our
 * store is older than what it applied: *CURSOR becomes where we serve it
 * again from. Returns 1 then (the answer is flagged), else 0. A restart, and
 * a pull showing one was taken, cost P RESTART_COST: each is written to disk
 * (review 90). */
int
mesh_restart_pull (im_mesh_t *self, peer_t *p, uint64_t *cursor)
{
    uint64_t last = mesh_last_seq (self);
    if (*cursor == 0 && p->srv.own_until < last) {
        im_store_served_t srv = p->srv;
        srv.own_until = last;
        if (served_write (self, p, &srv) == 0 && mesh_peer_log (p, PEER_LOG_PULL_START))
            zsys_info ("mesh: %s pulls from the start: its own indicators among our "
                       "changes up to %llu go back to it",
                       p->card.name, (unsigned long long)last);
    }
    if (p->srv.old_cursor) {
        if (*cursor == p->srv.old_cursor) {
            /* The restart answer was not taken (lost with its link,
             * refused by a full disk, undone by a power loss): the pull
             * comes again from the old numbering's cursor. */
            if (mesh_peer_log (p, PEER_LOG_PULL_OLD))
                zsys_warning ("mesh: %s pulls again from %llu, its cursor from before "
                              "this node's store restarted: serving it again from %llu",
                              p->card.name, (unsigned long long)*cursor,
                              (unsigned long long)p->srv.old_from);
            p->restart_answer = 1;
            p->restart_old = *cursor;
            p->restart_from = *cursor = p->srv.old_from;
            mesh_charge (p, RESTART_COST);
            return 1;
        }
        /* Any other cursor is one of our answers': the restart was taken.
         * Written to disk: charged as a restart (review 90). */
        im_store_served_t srv = p->srv;
        srv.old_cursor = srv.old_from = 0;
        served_write (self, p, &srv);
        mesh_charge (p, RESTART_COST);
    }
    uint64_t known = p->srv.served == IM_STORE_SERVED_UNKNOWN ? last : p->srv.served;
    if (*cursor <= last && *cursor <= known) {
        p->pull_checked = 1;
        return 0;
    }
    uint64_t from = p->srv.served == IM_STORE_SERVED_UNKNOWN ? 0
                    : known < last                           ? known
                                                             : last;
    if (mesh_peer_log (p, PEER_LOG_PULL_BEYOND))
        zsys_warning ("mesh: store of this node is older than what %s applied (%llu > "
                      "%llu): lost or restored? serving it again from %llu",
                      p->card.name, (unsigned long long)*cursor,
                      (unsigned long long)(known < last ? known : last),
                      (unsigned long long)from);
    p->restart_answer = 1;
    p->restart_old = *cursor;
    p->restart_from = from;
    self->restarted_at = im_time_now ();
    snprintf (self->restarted_by, sizeof self->restarted_by, "%s", p->card.name);
    if (!self->cursors_reset)
        cursors_reset (self);
    *cursor = from;
    mesh_charge (p, RESTART_COST);
    return 1;
}

/* Before MSG, an answer to P's pull, goes: flags a restart answer, and notes
 * a cursor beyond what was served, durably. Returns 0, or -1 when it could
 * not be noted (the answer must not go: it would hide a later restart). */
int
mesh_restart_served (im_mesh_t *self, peer_t *p, im_msg_t *msg)
{
    if (p->restart_answer)
        msg->more |= IM_MSG_RESTART;
    else if (p->srv.served != IM_STORE_SERVED_UNKNOWN && msg->cursor <= p->srv.served)
        return 0;
    /* The newest change number is written, not the answer's cursor: it is
     * as sound (no cursor beyond it was ever given out by this store) and a
     * bulk pull of a store that does not change writes it once, not once an
     * answer. */
    uint64_t last = mesh_last_seq (self);
    im_store_served_t srv = p->srv;
    srv.served = last > msg->cursor ? last : msg->cursor;
    if (p->restart_answer) {
        /* Until a pull shows it was taken, a pull from the old cursor gets
         * it again (mesh_restart_pull). An answer that ends at that very
         * cursor could not be told from its loss: it counts as taken. */
        int ambiguous = msg->cursor == p->restart_old;
        srv.old_cursor = ambiguous ? 0 : p->restart_old;
        srv.old_from = ambiguous ? 0 : p->restart_from;
    }
    if (p->restart_answer ? served_write (self, p, &srv)
                          : served_write_pulled (self, p, &srv))
        return -1;
    p->restart_answer = 0;
    return 0;
}

/* P's answer says its store restarted: its cursor here goes back to CURSOR
 * (the caller stores it), and its own records go back to it. */
void
mesh_restart_heard (im_mesh_t *self, peer_t *p, uint64_t cursor)
{
    if (mesh_peer_log (p, PEER_LOG_STORE_RESTART))
        zsys_warning (
            "mesh: %s's store restarted (lost or restored): pulling its changes "
            "again from %llu (%llu of its old numbering were applied here)",
            p->card.name, (unsigned long long)cursor, (unsigned long long)p->cursor);
    im_store_served_t srv = p->srv;
    srv.restarted = im_time_now ();
    uint64_t last = mesh_last_seq (self);
    if (srv.own_until < last)
        srv.own_until = last;
    served_write (self, p, &srv);
    p->their_seq = p->more_seq = cursor; /* its numbers count again from there */
}

/* P's restart, for PEERS: when its store was found restarted. */
void
mesh_restart_json (const peer_t *p, json_t *o)
{
    char when[IM_TIME_STR_SIZE];
    json_object_set_new (o, "store_restarted",
                         p->srv.restarted
                             ? json_string (im_time_format (p->srv.restarted, when))
                             : json_null ());
}

json_t *
im_mesh_restart (im_mesh_t *self)
{
    char when[IM_TIME_STR_SIZE];
    if (!self->restarted_at)
        return json_null ();
    return json_pack ("{s:s, s:s?}", "time", im_time_format (self->restarted_at, when),
                      "found_by", *self->restarted_by ? self->restarted_by : NULL);
}
