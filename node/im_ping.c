/* SPDX-License-Identifier: MPL-2.0 */
/* im_ping.c -- PING and PONG (SPEC "PING and PONG"): liveness, a peer's
 * restart behind a link, its round trip, the messages that wait unread here
 * (a peer's silence is not this node's lateness), and the waits that the round
 * trips and the copies peers bring stretch: the fetch grace in force ("Wanted
 * keys"), a pull's resend ("Pulling") and a FETCH's loss. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "im_mesh_int.h"

/* --- Round trips -------------------------------------------------------- */

static void
ping_sent (peer_t *p, int link, int64_t now)
{
    ping_clock_t *l = &p->ping[link];
    /* PONGs owed this long were lost (a PING or PONG dropped at a full
     * queue): counted anew, so that timing goes on. */
    if (l->owing && now - l->owing >= PONG_LOST_MS) {
        l->got = l->sent;
        l->at = l->owing = 0;
    }
    if (l->got == l->sent) { /* none owed: this one is timed */
        l->timed = l->sent + 1;
        l->at = l->owing = now;
    }
    l->sent++;
}

static void
pong_came (peer_t *p, int link, int64_t now)
{
    ping_clock_t *l = &p->ping[link];
    if (l->got == l->sent)
        return; /* for a PING counted before the link was (new) */
    l->got++;
    if (l->got == l->sent)
        l->owing = 0;
    if (!l->at || l->got != l->timed)
        return;
    /* Its round trip, smoothed (rounded up: never back to 0): how long its
     * thread, and ours, take to come round; it stretches the waits for it
     * (GRACE_RTTS, PULL_RESEND_RTTS, EAGER_FIRST_RTTS). */
    int64_t sample = now - l->at > 0 ? now - l->at : 1;
    p->rtt = p->rtt ? (3 * p->rtt + sample + 3) / 4 : sample;
    l->at = 0;
}

/* PING and PONG: liveness, its newest change number, and its session. */
void
mesh_handle_ping (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                  im_msg_t *msg)
{
    if (p->session && msg->session != p->session) {
        /* It restarted behind a link that stayed up: start again. */
        if (mesh_peer_log (p, PEER_LOG_RESTART))
            zsys_info ("mesh: %s restarted", p->card.name);
        peer_new_session (p, 0);
        peer_event (p, IM_EV_LINK_LOST);
        p->next_hello = 0;
        peer_drop_parked (p);
    }
    p->their_seq = msg->cursor;
    if (msg->id == IM_MSG_PONG)
        pong_came (p, route ? 1 : 0, zclock_mono ());
    if (msg->id == IM_MSG_PING) {
        msg->id = IM_MSG_PONG;
        msg->session = self->session;
        msg->cursor = mesh_last_seq (self);
        mesh_send (self, sock, route, msg);
    }
}

/* PINGs go to P on each link it has once a second. */
void
mesh_ping_tick (im_mesh_t *self, peer_t *p, int64_t now)
{
    if (now - p->last_ping < PING_MS)
        return;
    im_msg_t *msg = self->msg;
    msg->id = IM_MSG_PING;
    msg->session = self->session;
    msg->cursor = mesh_last_seq (self);
    if (p->dealer && peer_is (p, IM_REGION_LINK, IM_LINK_READY)) {
        /* Its silence on the link runs from here (tick_link): not from
         * before a time this thread did not run and asked nothing. */
        if (p->dealer_asked <= p->dealer_heard)
            p->dealer_asked = now;
        if (mesh_send (self, p->dealer, NULL, msg) == 0)
            ping_sent (p, 0, now);
    }
    if (p->inbound && mesh_send (self, self->router, p->inbound, msg) == 0)
        ping_sent (p, 1, now);
    p->last_ping = now;
}

/* --- Messages waiting unread --------------------------------------------- */

int
mesh_waiting (zsock_t *sock)
{
    return (zsock_events (sock) & ZMQ_POLLIN) != 0;
}

void
mesh_read_check (im_mesh_t *self, int64_t now)
{
    /* What each peer sent may wait unread: its silence runs from the last
     * time nothing of it did (peer_connected), and no FETCH goes while
     * anything does (behind_since, fetch_due). Looked at every READ_CHECK_MS
     * at most (a socket option read for each peer). */
    if (now - self->read_checked < READ_CHECK_MS)
        return;
    self->read_checked = now;
    /* The peer socket is shared: anything there may be any peer's. */
    int router = self->router && mesh_waiting (self->router), behind = router;
    /* Busy: messages wait on the pull links of more than half of the
     * connected peers, and of three at least, so that no one peer makes the
     * node busy alone. A peer pulled over the shared peer socket cannot be
     * told apart from the others there: it counts as not waiting. */
    size_t peers = 0, waiting = 0;
    int parked = 1; /* nothing any peer sends is on its way */
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        int unread = p->dealer && mesh_waiting (p->dealer);
        if (unread)
            behind = 1;
        else if (!router)
            p->read_up_to = now;
        if (peer_connected (p)) {
            peers++;
            waiting += *p->endpoint && unread;
            /* Parked a round trip at least: an answer to a younger PULL
             * may be coming. */
            parked = parked && peer_parked (p) && now - p->pulled_at >= p->rtt;
        }
        else
            parked = parked && !p->records_pending; /* none being verified */
    }
    if (!behind)
        self->behind_since = 0;
    else if (!self->behind_since)
        self->behind_since = now;
    if (peers >= BUSY_PEERS_MIN && 2 * waiting > peers)
        self->busy_at = now;
    else if (!behind && parked)
        self->busy_at = 0; /* caught up: the linger ends (SPEC "Wanted keys";
                              it held the last keys of each round of make
                              bench's 16 nodes half a second) */
}

/* --- The waits they stretch ---------------------------------------------- */

/* RTTS of P's round trips, at least BASE and at most STRETCH times BASE. */
static int64_t
stretched (const peer_t *p, int64_t rtts, int64_t base, int64_t stretch)
{
    int64_t ms = rtts * p->rtt;
    return ms < base ? base : ms > stretch * base ? stretch * base : ms;
}

int64_t
mesh_pull_resend_ms (const peer_t *p)
{
    /* A busy peer's answer takes longer: not asked again meanwhile, which
     * would only bring the records again. */
    return stretched (p, PULL_RESEND_RTTS, PULL_RESEND_MS, PULL_RESEND_STRETCH_MAX);
}

int64_t
mesh_fetch_lost_ms (const peer_t *p)
{
    /* Its FOUND, behind the answers queued on a busy link, takes longer:
     * given up sooner, its keys were asked of another peer and came twice,
     * and the late FOUND was refused as not asked for. */
    return stretched (p, FETCH_LOST_RTTS, FETCH_LOST_MS, FETCH_LOST_STRETCH_MAX);
}

static int
cmp_ms (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The fetch grace in force, looked at each second (SPEC "Wanted keys"):
 * when many of the records that came from most connected peers in the last
 * second were copies of records held (on a busy machine the eager peer's
 * copy comes after the fetch that its lateness set off), it grows by half;
 * otherwise it shrinks by a fifth. It stays between its floor, the
 * configured grace or GRACE_RTTS of the lower median PING round trip of the
 * connected peers, and GRACE_STRETCH_MAX times the configured grace. Both
 * signals are the lower median over the peers: no one peer of two or more
 * moves them, and one alone delays the fetches by that much at most. */
void
mesh_grace_update (im_mesh_t *self)
{
    int64_t rtts[GRACE_PEERS_MAX];
    size_t n = 0, peers = 0, copying = 0;
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        /* A peer removed and added again starts from 0: a new baseline. */
        uint64_t dc = p->known >= p->grace_known ? p->known - p->grace_known : 0;
        uint64_t dn
            = p->received >= p->grace_received ? p->received - p->grace_received : 0;
        p->grace_known = p->known;
        p->grace_received = p->received;
        if (!peer_connected (p) || peers == GRACE_PEERS_MAX)
            continue;
        peers++;
        if (dc + dn >= GRACE_SAMPLE_MIN && dc * 100 > (dc + dn) * GRACE_COPIES_HIGH)
            copying++;
        if (p->rtt > 0)
            rtts[n++] = p->rtt;
    }
    int64_t floor = self->fetch_grace;
    if (n) {
        qsort (rtts, n, sizeof rtts[0], cmp_ms);
        if (GRACE_RTTS * rtts[(n - 1) / 2] > floor) /* the lower median */
            floor = GRACE_RTTS * rtts[(n - 1) / 2];
    }
    int64_t grace = self->grace_now;
    /* More than half of them (both of two) brought copies. */
    if (peers && copying * 2 > peers)
        grace += grace / 2;
    else
        grace -= grace / 5;
    if (grace < floor)
        grace = floor;
    if (grace > GRACE_STRETCH_MAX * self->fetch_grace)
        grace = GRACE_STRETCH_MAX * self->fetch_grace;
    self->grace_now = grace;
}

int64_t
im_mesh_fetch_grace (const im_mesh_t *self)
{
    return self ? self->grace_now : 0;
}
