/* SPDX-License-Identifier: MPL-2.0 */
/* im_mesh_peer.c -- a peer's life in the mesh: made, dialled, made anew and
 * dropped; found by name, key or node id; the links its messages go over;
 * every change of its states, through im_peer_step's tables; and its rules
 * as `peer list` shows them. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_mesh_int.h"

int
peer_event (peer_t *p, im_peer_event_t event)
{
    if (im_peer_step (&p->states, event) == 0)
        return 0;
    im_peer_region_t region = im_peer_event_region (event);
    int saved = errno;
    int state = region < IM_REGION_COUNT ? p->states.of[region] : -1;
    zsys_warning ("mesh: %s: event '%s' refused in %s state '%s'", p->card.name,
                  im_peer_event_name (event), im_peer_region_name (region),
                  im_peer_state_name (region, state));
    errno = saved;
    return -1;
}

/* --- A peer's life ------------------------------------------------------ */

void
peer_drop_parked (peer_t *p)
{
    peer_event (p, IM_EV_UNPARK);
    p->parked_sock = NULL;
    zframe_destroy (&p->parked_route);
}

void
peer_destroy (void **item)
{
    peer_t *p = *item;
    if (!p)
        return;
    link_monitor_stop (p);
    zsock_destroy (&p->dealer);
    zframe_destroy (&p->inbound);
    peer_drop_parked (p);
    mesh_answers_drop (p, 1); /* never acknowledged: not logged */
    free (p->holds);
    free (p->refused_keys);
    free (p->lazy);
    free (p->wants);
    free (p->fetching);
    free (p->fetching_taken);
    free (p);
    *item = NULL;
}

peer_t *
peer_by_name (im_mesh_t *self, const char *name)
{
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (strcmp (p->card.name, name) == 0)
            return p;
    return NULL;
}

/* The peer whose key CURVE is: its current one, or the one before its last
 * rotation while that still works. */
peer_t *
peer_by_curve (im_mesh_t *self, const uint8_t *curve)
{
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (sodium_memcmp (p->card.curve, curve, 32) == 0
            || (p->prev_until && sodium_memcmp (p->prev_curve, curve, 32) == 0
                && p->prev_until > im_time_now ()))
            return p;
    return NULL;
}

peer_t *
peer_by_node (im_mesh_t *self, const uint8_t *node)
{
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (memcmp (p->card.node, node, IM_NODE_ID_SIZE) == 0)
            return p;
    return NULL;
}

/* We are in a rotation's grace period: our previous key still works. */
int
mesh_rotating (im_mesh_t *self)
{
    return im_identity_curve_previous_public (self->identity)
           && im_identity_previous_until (self->identity) > im_time_now ();
}

/* Connected: heard from lately, and the link we pull it over works. Its
 * silence is counted up to when this node last had nothing of it unread (its
 * messages may wait in our queues while this thread is behind), but never
 * from further back than DOWN_UNREAD_MAX_MS. */
int
peer_connected (const peer_t *p)
{
    int64_t now = zclock_mono ();
    int64_t upto = p->read_up_to > now - DOWN_UNREAD_MAX_MS ? p->read_up_to
                                                            : now - DOWN_UNREAD_MAX_MS;
    return p->session && upto - p->last_heard < DOWN_MS
           && (*p->endpoint ? peer_is (p, IM_REGION_LINK, IM_LINK_READY)
                            : p->inbound != NULL);
}

/* Encodes MSG into BUF (IM_MSG_MAX bytes) and sends it on SOCK, after ROUTE
 * on the ROUTER, without waiting. Returns 0, or -1 with errno (EAGAIN: the
 * peer's queue is full). */
int
mesh_send_in (zsock_t *sock, zframe_t *route, const im_msg_t *msg, uint8_t *buf)
{
    size_t len;
    if (im_msg_encode (msg, buf, IM_MSG_MAX, &len) != 0) {
        zsys_error ("mesh: cannot encode %s: %s", im_msg_name (msg->id),
                    strerror (errno));
        return -1;
    }
    void *handle = zsock_resolve (sock);
    if (route
        && zmq_send (handle, zframe_data (route), zframe_size (route),
                     ZMQ_SNDMORE | ZMQ_DONTWAIT)
               < 0)
        return -1;
    return zmq_send (handle, buf, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

/* Sends MSG to P on SOCK (with ROUTE on the ROUTER). Returns 0 or -1. */
int
mesh_send (im_mesh_t *self, zsock_t *sock, zframe_t *route, const im_msg_t *msg)
{
    return mesh_send_in (sock, route, msg, self->buf);
}

uint64_t
mesh_last_seq (im_mesh_t *self)
{
    im_store_stats_t st;
    return im_store_stats (self->store, &st) == 0 ? st.last_seq : 0;
}

void
mesh_fill_hello (im_mesh_t *self, im_msg_t *msg)
{
    msg->id = IM_MSG_HELLO;
    msg->version = IM_MSG_VERSION;
    memcpy (msg->node, im_identity_node (self->identity), IM_NODE_ID_SIZE);
    msg->session = self->session;
    snprintf (msg->name, sizeof msg->name, "%s", self->name);
}

/* The link we pull P over: our dealer, or its connection to our ROUTER. */
int
peer_pull_link (peer_t *p, zsock_t *router, zsock_t **sock, zframe_t **route)
{
    if (*p->endpoint) {
        if (!p->dealer || !peer_is (p, IM_REGION_LINK, IM_LINK_READY))
            return -1;
        *sock = p->dealer;
        *route = NULL;
        return 0;
    }
    if (!p->inbound)
        return -1;
    *sock = router;
    *route = p->inbound;
    return 0;
}

/* What P may be asked for now: PULL_CREDIT, or with a rate (the inbound
 * `rate`), what its token bucket holds: RATE a second, at most RATE (and at
 * least one record's worth). Both PULL and FETCH draw on it. */
size_t
peer_credit (peer_t *p, int64_t now)
{
    if (!p->in.rate)
        return PULL_CREDIT;
    double cap = p->in.rate > 1 ? p->in.rate : 1;
    p->tokens += (double)(now - p->tokens_at) * p->in.rate / 1000.0;
    if (p->tokens > cap)
        p->tokens = cap;
    p->tokens_at = now;
    return p->tokens < 1 ? 0 : p->tokens < PULL_CREDIT ? (size_t)p->tokens : PULL_CREDIT;
}

/* --- Backing off while records cannot be stored -------------------------- */

void
peer_store_failed (peer_t *p, const char *why)
{
    if (!p->backoff_ms) {
        p->backoff_ms = STORE_BACKOFF_MIN_MS;
        zsys_error ("mesh: cannot store records from %s: %s (pulls from it back off, "
                    "up to %d s, until a store works)",
                    p->card.name, why, STORE_BACKOFF_MAX_MS / 1000);
    }
    else
        p->backoff_ms = p->backoff_ms * 2 > STORE_BACKOFF_MAX_MS ? STORE_BACKOFF_MAX_MS
                                                                 : p->backoff_ms * 2;
    p->store_failed++;
    p->pull_after = zclock_mono () + p->backoff_ms;
}

void
peer_store_worked (peer_t *p)
{
    if (!p->backoff_ms)
        return;
    zsys_info ("mesh: records from %s are stored again (%llu batches failed before)",
               p->card.name, (unsigned long long)p->store_failed);
    p->backoff_ms = 0;
    p->pull_after = 0;
    p->store_failed = 0;
}

int
peer_store_waiting (const peer_t *p, int64_t now)
{
    return p->backoff_ms && now < p->pull_after;
}

void
peer_send_pull (im_mesh_t *self, peer_t *p)
{
    peer_send_pull_from (self, p, peer_cursor_ahead (p));
}

/* Pulls P from CURSOR: its stored cursor, or the cursor of the answer about
 * to be applied (a pull ahead: SPEC "Pulling"). SELF->msg is left alone: it
 * may hold that answer. */
void
peer_send_pull_from (im_mesh_t *self, peer_t *p, uint64_t cursor)
{
    zsock_t *sock;
    zframe_t *route;
    if (!peer_is (p, IM_REGION_PULL, IM_PULL_IDLE)
        || peer_pull_link (p, self->router, &sock, &route))
        return;
    if (peer_store_waiting (p, zclock_mono ()))
        return; /* im_mesh_tick asks again once the wait is over */
    if (p->records_pending > PULLS_AHEAD)
        return; /* the next application sends it: a peer's answers held stay
                   at most PULLS_AHEAD + 1, even over HELLO after HELLO */
    /* Without room for the notes of its answer, or tokens, im_mesh_tick
     * asks again. */
    uint16_t credit = (uint16_t)peer_credit (p, zclock_mono ());
    if (credit == 0 || !peer_want_room (p))
        return;
    if (p->eager_due)
        /* What to send in full and what as keys, before the first answer
         * (SPEC "EAGER"). */
        mesh_send_eager (self, p, sock, route);
    im_msg_t *msg = self->pull;
    msg->id = IM_MSG_PULL;
    msg->cursor = cursor;
    msg->credit = credit;
    if (mesh_send (self, sock, route, msg) == 0) {
        peer_event (p, IM_EV_PULL_SENT);
        p->asked = credit;
        p->pull_from = cursor;
        p->pulled_at = zclock_mono ();
    }
}

int
peer_dial (im_mesh_t *self, peer_t *p)
{
    if (!*p->endpoint)
        return 0;
    p->dealer = zsock_new (ZMQ_DEALER);
    if (!p->dealer)
        return -1;
    memset (&p->ping[0], 0, sizeof p->ping[0]); /* a new link: PINGs counted anew */
    /* In its rotation's grace period we try its new key and its previous
     * one in turn; in ours, it gets our previous key until it knows the
     * new one. */
    if (peer_is (p, IM_REGION_DIAL, IM_DIAL_PREVIOUS) && p->prev_until <= im_time_now ())
        peer_event (p, IM_EV_DIAL_NEW_KEY);
    int ours_prev
        = mesh_rotating (self) && !peer_is (p, IM_REGION_ROTATE, IM_ROTATE_ACKED);
    zsock_set_curve_serverkey (p->dealer, peer_is (p, IM_REGION_DIAL, IM_DIAL_PREVIOUS)
                                              ? p->prev_z85
                                              : p->card.curve_z85);
    zsock_set_curve_publickey (
        p->dealer, ours_prev ? im_identity_curve_previous_public (self->identity)
                             : im_identity_curve_public (self->identity));
    zsock_set_curve_secretkey (
        p->dealer, ours_prev ? im_identity_curve_previous_secret (self->identity)
                             : im_identity_curve_secret (self->identity));
    zsock_set_immediate (p->dealer, 1);
    zsock_set_linger (p->dealer, 0);
    zsock_set_sndhwm (p->dealer, LINK_SNDHWM);
    zsock_set_rcvhwm (p->dealer, 100);
    zsock_set_maxmsgsize (p->dealer, IM_MSG_MAX + 64);
    zsock_set_reconnect_ivl (p->dealer, 100);
    zsock_set_reconnect_ivl_max (p->dealer, 5000);
    link_options (p->dealer);
    link_monitor_start (p);
    if (zsock_connect (p->dealer, "%s", p->endpoint) != 0) {
        zsys_warning ("mesh: cannot dial %s at %s", p->card.name, p->endpoint);
        link_monitor_stop (p);
        zsock_destroy (&p->dealer);
        return -1;
    }
    _Static_assert(IM_PEERS_MAX + 8 <= IM_POLLER_MAX, "a dealer a peer, and the rest");
    im_poller_add (self->poller, p->dealer);
    p->next_hello = 0;
    p->dialed_at = zclock_mono ();
    return 0;
}

/* Makes the dealer anew (libzmq gives up on a connection whose handshake the
 * other side refused): a pull parked on the old one goes with it. */
void
peer_redial (im_mesh_t *self, peer_t *p)
{
    if (p->dealer) {
        if (!peer_is (p, IM_REGION_SERVE, IM_SERVE_IDLE) && p->parked_sock == p->dealer)
            peer_drop_parked (p);
        im_poller_remove (self->poller, p->dealer);
        link_monitor_stop (p);
        zsock_destroy (&p->dealer);
    }
    peer_event (p, IM_EV_LINK_LOST);
    p->hellos = 0;
    p->hello_owed = 0; /* the old dealer's HELLOs are answered on it, or not at all */
    if (*p->endpoint)
        peer_event (p, IM_EV_PULL_LOST);
    peer_dial (self, p);
}

/* Unanswered: in the peer's rotation grace period, the other of its keys is
 * tried next. */
void
peer_redial_unanswered (im_mesh_t *self, peer_t *p)
{
    if (p->prev_until > im_time_now ())
        peer_event (p, IM_EV_DIAL_OTHER_KEY);
    peer_redial (self, p);
}

/* A peer's session changed: what we knew of its store is void. */
void
peer_new_session (peer_t *p, uint64_t session)
{
    p->session = session;
    memset (p->ping, 0, sizeof p->ping); /* PINGs to its previous run time nothing */
    peer_event (p, IM_EV_PULL_LOST);
    mesh_answers_drop (p, 0); /* gone with its previous run's links */
    p->nlazy = 0;
    p->keys_first = 0;
    p->eager_due = 1;
    /* first_notes stays: the origins it claimed are still its own (until it
     * is found down), and a new run must not claim as many again. */
    memset (p->holds, 0, (size_t)HOLDS_SLOTS * sizeof *p->holds);
    /* A FETCH or SYNC out to its old run is not answered. The FETCH is taken
     * as lost at the next look, its keys asked for again of the new run as
     * after any loss (im_gossip.c, fetch_out), not given up unasked. */
    p->fetch_lost = p->nfetching && p->found_due;
    p->sync_out = 0;
}

/* Moves P's cursor back to 0: its changes are read again from the start (an
 * answer to a pull already sent moves no cursor). */
void
peer_rewind (im_mesh_t *self, peer_t *p)
{
    p->cursor = 0;
    p->cursor_ahead = 0; /* answers being verified move no cursor */
    /* Not quiet before an answer moves the cursor again (not up to the change
     * number its PINGs tell, which a peer may set past anything it sends:
     * review 96). */
    p->more_seq = 1;
    if (!peer_is (p, IM_REGION_PULL, IM_PULL_IDLE))
        peer_event (p, IM_EV_CURSOR_REWOUND);
    if (im_store_set_cursor (self->store, p->card.node, 0) != 0)
        zsys_error ("mesh: cannot move the cursor of %s back: %s", p->card.name,
                    strerror (errno));
}

peer_t *
peer_new (im_mesh_t *self, const im_config_t *config, const im_peer_conf_t *conf)
{
    peer_t *p = calloc (1, sizeof *p);
    if (p
        && (!(p->holds = aligned_alloc (32, HOLDS_SLOTS * sizeof *p->holds))
            || !(p->refused_keys = calloc (REFUSED_SLOTS, IM_MSG_HAVE_KEY))
            || !(p->lazy = calloc (IM_MSG_CREDIT_MAX, IM_NODE_ID_SIZE))
            || !(p->wants = calloc (WANT_MAX, sizeof (want_t)))
            || !(p->fetching = calloc (IM_MSG_CREDIT_MAX, IM_MSG_HAVE_KEY))
            || !(p->fetching_taken = calloc (IM_MSG_CREDIT_MAX, 1)))) {
        void *item = p;
        peer_destroy (&item);
        return NULL;
    }
    if (!p)
        return NULL;
    memset (p->holds, 0, (size_t)HOLDS_SLOTS * sizeof *p->holds);
    randombytes_buf (p->holds_key, sizeof p->holds_key);
    p->read_up_to = zclock_mono ();
    p->card = conf->card;
    p->states = (im_peer_states_t)IM_PEER_STATES_INIT;
    if (conf->prev_until > im_time_now ()) {
        memcpy (p->prev_curve, conf->prev_curve, 32);
        memcpy (p->prev_z85, conf->prev_curve_z85, sizeof p->prev_z85);
        p->prev_until = conf->prev_until;
    }
    snprintf (p->endpoint, sizeof p->endpoint, "%s", conf->endpoint);
    p->policy = *im_config_peer_policy (config, conf);
    p->in = conf->in;
    p->tokens = p->in.rate;
    p->tokens_at = zclock_mono ();
    p->quota = mesh_quota_burst ();
    p->quota_at = p->tokens_at;
    /* The first anti-entropy walk comes one period after the start. */
    p->sync_at = p->tokens_at + self->anti_entropy;
    im_store_cursor (self->store, p->card.node, &p->cursor);
    im_store_served (self->store, p->card.node, &p->srv);
    peer_dial (self, p);
    return p;
}

void
peer_remove (im_mesh_t *self, peer_t *p)
{
    mesh_apply_forget (self, p);
    mesh_sent_flush (self, p); /* what it acknowledged stays in its trail */
    if (p->dealer)
        im_poller_remove (self->poller, p->dealer);
    for (int r = 0; r < REFUSE_COUNT; r++)
        self->removed_refused += p->refused[r];
    void *handle = zlistx_find (self->peers, p);
    if (handle)
        zlistx_delete (self->peers, handle);
}

/* A peer's outbound policy (by name, with its ceiling) and its inbound
 * rules, as `peer list` shows them. */
json_t *
peer_rules_json (const peer_t *p)
{
    json_t *types = json_array ();
    for (int t = 0; t < IM_TYPE_COUNT && types; t++)
        if (p->in.types & (1u << t))
            json_array_append_new (types, json_string (im_type_name (t)));
    return json_pack ("{s:s, s:s, s:{s:s, s:o, s:I, s:I}}", "policy", p->policy.name,
                      "max_tlp", im_tlp_name (p->policy.max_tlp), "inbound", "accept",
                      p->in.relayed ? "relayed" : "own", "types", types, "origins",
                      (json_int_t)p->in.norigins, "rate", (json_int_t)p->in.rate);
}
