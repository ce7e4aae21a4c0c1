/* SPDX-License-Identifier: MPL-2.0 */
/* im_mesh.c -- the peer engine. Every peer is pulled from over one link (our
 * DEALER when it has an endpoint, else its connection to our ROUTER) and
 * serves its pulls on whichever link they arrive. A pull names the cursor the
 * puller has applied; the server answers with the records after it, or parks
 * the pull until something new is stored (long poll). The puller applies a
 * batch and its cursor in one LMDB transaction. */
/* This file: the mesh's life (new, destroy, reload), its tick, the dispatch
 * of messages and status; the rest is in im_peer.c, im_zap.c, im_serve.c,
 * im_apply.c, im_gossip.c, im_sync.c and im_rotate.c (im_mesh_int.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_mesh_int.h"

const char *const im_mesh_refuse_names[REFUSE_COUNT]
    = { "malformed",        "bad signature",  "own origin", "expired",
        "policy violation", "inbound policy", "protocol",   "over quota" };

/* --- Messages ---------------------------------------------------------- */

/* P's pull waited on a ROUTER link that was cut: it moves to ROUTE, the
 * peer's newest connection, and is answered once the message that came on
 * it is handled. Returns 1 when it moved. */
static int
relink (peer_t *p, zsock_t *sock, zframe_t *route)
{
    if (!peer_is (p, IM_REGION_SERVE, IM_SERVE_RELINK))
        return 0;
    p->parked_sock = sock;
    p->parked_route = zframe_dup (route);
    peer_event (p, IM_EV_RELINKED);
    return 1;
}

/* A message other than HELLO came on ROUTE, a connection to our ROUTER that
 * is not the one we knew. Returns 1 when a parked pull moved to it. */
static int
new_inbound (peer_t *p, zsock_t *sock, zframe_t *route, const im_msg_t *msg)
{
    /* Its dealer reconnected (or our socket was bound again): the newest
     * link, authenticated by the ZAP handler, is the one to use. */
    zframe_destroy (&p->inbound);
    p->inbound = zframe_dup (route);
    memset (&p->ping[1], 0, sizeof p->ping[1]); /* a new link: PINGs counted anew */
    if (!*p->endpoint && msg->id != IM_MSG_RECORDS)
        peer_event (p, IM_EV_PULL_LOST); /* our pull went with the old connection */
    /* Its pull waited while it had no link: answer it if anything came in
     * meanwhile, else go on waiting on the new link. */
    return relink (p, sock, route);
}

/* HELLO: on our ROUTER (ROUTE set) it opens its link to us and is answered;
 * on our dealer it answers ours. Returns 1 when a parked pull moved to its
 * new link, 0, or -1 when refused. */
static int
handle_hello (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route, im_msg_t *msg)
{
    int relinked = 0, again = 0;
    if (msg->version != IM_MSG_VERSION
        || memcmp (msg->node, p->card.node, IM_NODE_ID_SIZE) != 0) {
        p->refused[REFUSE_PROTOCOL]++;
        if (mesh_peer_log (p, PEER_LOG_HELLO))
            zsys_warning ("mesh: HELLO from %s refused: %s", p->card.name,
                          msg->version != IM_MSG_VERSION ? "unknown protocol version"
                                                         : "node id is not its card's");
        return -1;
    }
    /* A retried HELLO of a link already up, or the answer to one: the pull
     * out on that link is not lost (pulling again at each, after a stall,
     * kept several pulls going for good: review 86). */
    if (p->session == msg->session)
        again = route ? p->inbound && zframe_eq (p->inbound, route)
                      : peer_is (p, IM_REGION_LINK, IM_LINK_READY);
    else {
        if (p->session && mesh_peer_log (p, PEER_LOG_RESTART))
            zsys_info ("mesh: %s restarted", p->card.name);
        peer_new_session (p, msg->session);
    }
    self->lazy_dirty = 1; /* a new link: tell it again what to send */
    p->eager_due = 1;     /* and before the next PULL, on its pull link */
    if (route && p->dealer && peer_is (p, IM_REGION_LINK, IM_LINK_HELLO)
        && (p->cause == LINK_CAUSE_THEY_REFUSE
            || (p->hellos > 1 && zclock_mono () - p->dialed_at > 2 * HELLO_RETRY_MS)))
        /* It trusts us now, but our dealer is one that libzmq gave up on
         * when it did not yet (its handshake was refused: libzmq does not
         * reconnect after that), or may be: dial again at once. */
        peer_redial (self, p);
    if (route) {
        /* Its link to our ROUTER: remember it and answer. */
        zframe_destroy (&p->inbound);
        p->inbound = zframe_dup (route);
        memset (&p->ping[1], 0, sizeof p->ping[1]);
        relinked = relink (p, sock, route);
        mesh_fill_hello (self, msg);
        mesh_send (self, sock, route, msg);
        if (!again && mesh_peer_log (p, PEER_LOG_CONNECT))
            zsys_info ("mesh: %s connected", p->card.name);
    }
    else {
        peer_event (p, IM_EV_HELLO_ANSWERED);
        p->hello_owed = 0; /* the others' answers cost its quota */
        p->hellos = 0;
        p->dealer_heard = zclock_mono ();
        if (!again && mesh_peer_log (p, PEER_LOG_CONNECT))
            zsys_info ("mesh: connected to %s", p->card.name);
    }
    /* A new link: any earlier pull is gone with the old one. */
    if (((route && !*p->endpoint) || (!route && *p->endpoint)) && !again)
        peer_event (p, IM_EV_PULL_LOST);
    peer_send_pull (self, p);
    return relinked;
}

/* The frame of the message being handled, taken out of it: its records
 * are applied once the workers have checked them. */
static zframe_t *
body_take (im_mesh_t *self)
{
    zframe_t *body = self->in_body;
    if (body)
        zmsg_remove (self->in_msg, body);
    self->in_body = NULL;
    return body;
}

/* Every message but HELLO, to the file that handles it. */
static void
dispatch (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route, im_msg_t *msg)
{
    if (mesh_quota (p, msg) != 0) {
        /* Over its quota: dropped, counted; a pull waits, and is answered
         * when the peer's bucket allows. */
        if (msg->id == IM_MSG_PULL) {
            mesh_handle_pull (self, p, sock, route, msg, 0);
            mesh_relay_within (self, 100);
        }
        return;
    }
    switch (msg->id) {
    case IM_MSG_PULL: mesh_handle_pull (self, p, sock, route, msg, 1); break;
    case IM_MSG_ROTATE: mesh_handle_rotate (self, p, sock, route, msg); break;
    case IM_MSG_ROTATED: mesh_handle_rotated (self, p, msg); break;
    case IM_MSG_HAVE: mesh_handle_have (self, p, msg); break;
    case IM_MSG_LAZY:
    case IM_MSG_EAGER: mesh_handle_lazy (p, msg); break;
    case IM_MSG_FETCH: mesh_handle_fetch (self, p, sock, route, msg); break;
    case IM_MSG_SYNC: mesh_handle_sync (self, p, sock, route, msg); break;
    case IM_MSG_KEYS: mesh_handle_keys (self, p, msg); break;
    case IM_MSG_FOUND:
        if (!p->found_due || p->fetch_lost || msg->count > p->nfetching) {
            /* Nothing was asked (of this run of it), or more than was asked,
             * or its FETCH was answered already: refused unread. */
            p->refused[REFUSE_PROTOCOL]++;
            if (zclock_mono () - p->found_warned >= QUOTA_WARN_MS) {
                p->found_warned = zclock_mono ();
                zsys_warning ("mesh: %s sent %zu records that were not asked for: "
                              "refused",
                              p->card.name, msg->count);
            }
            break;
        }
        p->found_due = 0; /* one FOUND answers a FETCH */
        mesh_handle_records (self, p, msg, body_take (self));
        break;
    case IM_MSG_RECORDS:
        if (peer_is (p, IM_REGION_PULL, IM_PULL_IDLE)) {
            /* Only an answer to our pull is taken. */
            p->refused[REFUSE_PROTOCOL]++;
            break;
        }
        mesh_handle_records (self, p, msg, body_take (self));
        break;
    case IM_MSG_PING:
    case IM_MSG_PONG: mesh_handle_ping (self, p, sock, route, msg); break;
    default: break;
    }
}

static void
handle_message (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                zframe_t *body)
{
    im_msg_t *msg = self->msg;
    char why[256];
    if (im_msg_decode (zframe_data (body), zframe_size (body), msg, why, sizeof why)) {
        p->refused[REFUSE_PROTOCOL]++;
        if (mesh_peer_log (p, PEER_LOG_MALFORMED))
            zsys_warning ("mesh: malformed message from %s: %s", p->card.name, why);
        return;
    }
    if (route && (msg->id == IM_MSG_PING || msg->id == IM_MSG_PONG) && p->session
        && msg->session != p->session && p->inbound && !zframe_eq (route, p->inbound))
        return; /* left over from a connection of its previous run */
    p->last_heard = zclock_mono ();
    p->last_contact = im_time_now ();
    int relinked = 0;
    if (route && msg->id != IM_MSG_HELLO
        && (!p->inbound || !zframe_eq (p->inbound, route)))
        relinked = new_inbound (p, sock, route, msg);
    if (msg->id == IM_MSG_HELLO) {
        if (mesh_hello_charge (p, msg, route != NULL) != 0)
            return;
        relinked = handle_hello (self, p, sock, route, msg);
    }
    else
        dispatch (self, p, sock, route, msg);
    if (relinked > 0)
        mesh_serve_parked (self, p, 0); /* answered once the message is handled */
}

static void
handle_router (im_mesh_t *self)
{
    zmsg_t *m = zmsg_recv (self->router);
    if (!m)
        return;
    zframe_t *route = zmsg_first (m);
    zframe_t *body = zmsg_next (m);
    const char *user = body ? zframe_meta (body, "User-Id") : NULL;
    uint8_t key[32];
    size_t binlen = 0;
    peer_t *p
        = user && strlen (user) == 64
                  && sodium_hex2bin (key, sizeof key, user, 64, NULL, &binlen, NULL) == 0
                  && binlen == 32
              ? peer_by_curve (self, key)
              : NULL;
    if (!p)
        self->removed_refused++; /* a peer removed since its handshake */
    else if (zmsg_size (m) != 2)
        p->refused[REFUSE_PROTOCOL]++;
    else {
        self->in_msg = m;
        self->in_body = body;
        handle_message (self, p, self->router, route, body);
        self->in_body = NULL;
    }
    zmsg_destroy (&m);
}

int
im_mesh_handle (im_mesh_t *self, void *socket)
{
    if (socket == self->zap) {
        mesh_handle_zap (self);
        return 1;
    }
    if (socket == self->router) {
        handle_router (self);
        return 1;
    }
    if (self->pool && socket == im_verify_sock (self->pool)) {
        mesh_apply_done (self);
        return 1;
    }
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (p->dealer && socket == p->dealer) {
            zmsg_t *m = zmsg_recv (p->dealer);
            p->dealer_heard = zclock_mono ();
            if (m && zmsg_size (m) == 1) {
                self->in_msg = m;
                self->in_body = zmsg_first (m);
                handle_message (self, p, p->dealer, NULL, self->in_body);
                self->in_body = NULL;
            }
            else if (m)
                p->refused[REFUSE_PROTOCOL]++;
            zmsg_destroy (&m);
            return 1;
        }
    return 0;
}

static int
ready (void *sock)
{
    return sock && (zsock_events (sock) & ZMQ_POLLIN);
}

void
im_mesh_handle_ready (im_mesh_t *self)
{
    if (!self)
        return;
    void *fixed[]
        = { self->zap, self->router, self->pool ? im_verify_sock (self->pool) : NULL };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (ready (fixed[i]))
            im_mesh_handle (self, fixed[i]);
    /* A message may remove a peer, and its dealer with it: each dealer is
     * looked up again before it is read. */
    void *dealers[IM_PEERS_MAX];
    size_t n = 0;
    for (peer_t *p = zlistx_first (self->peers); p && n < IM_PEERS_MAX;
         p = zlistx_next (self->peers))
        if (p->dealer)
            dealers[n++] = p->dealer;
    for (size_t i = 0; i < n; i++) {
        int held = 0;
        for (peer_t *p = zlistx_first (self->peers); p && !held;
             p = zlistx_next (self->peers))
            held = p->dealer == dealers[i];
        if (held && ready (dealers[i]))
            im_mesh_handle (self, dealers[i]);
    }
}

/* Our dealer to P: dialled again when due, and HELLO said until answered. */
static void
tick_link (im_mesh_t *self, peer_t *p, int64_t now)
{
    im_msg_t *msg = self->msg;
    if (p->redial_at && now >= p->redial_at) {
        p->redial_at = 0;
        peer_redial (self, p);
    }
    if (*p->endpoint && !p->dealer && now >= p->next_hello) {
        /* The last dial failed (no socket could be made): try again. */
        peer_dial (self, p);
        p->next_hello = now + HELLO_RETRY_MS;
    }
    if (p->dealer && peer_is (p, IM_REGION_LINK, IM_LINK_READY)
        && p->dealer_asked > p->dealer_heard && now - p->dealer_asked > DOWN_MS
        && !mesh_waiting (p->dealer)) {
        /* Nothing on our dealer for a while since a PING went, though we
         * PING it every second: the link is gone (the other side may have
         * refused us on reconnect). Say HELLO again, and dial anew if
         * unanswered. Not while its messages wait to be read, nor for a
         * time this thread did not run: on a busy machine it comes round
         * late, and took every link for lost. */
        peer_event (p, IM_EV_LINK_LOST);
        peer_event (p, IM_EV_PULL_LOST);
        p->next_hello = 0;
        p->hellos = 0;
    }
    if (p->dealer && peer_is (p, IM_REGION_LINK, IM_LINK_HELLO) && now >= p->next_hello) {
        /* libzmq gives up on a connection whose handshake the other side
         * refused (we were not yet on its trust list): after a few
         * unanswered HELLOs, dial again with a new socket. */
        if (++p->hellos > HELLO_REDIAL) {
            peer_redial_unanswered (self, p);
            p->hellos = 1;
        }
        mesh_fill_hello (self, msg);
        if (p->dealer && mesh_send (self, p->dealer, NULL, msg) == 0
            && p->hello_owed < HELLO_REDIAL)
            p->hello_owed++; /* its answer is free of its quota */
        /* With a little jitter: two nodes that dial each other must not
         * stay in step, each making its dealer anew as the other's
         * answer travels to the old one. */
        p->next_hello = now + HELLO_RETRY_MS + randombytes_uniform (HELLO_RETRY_MS / 2);
    }
}

/* P's links, pings, long poll and pull. */
static void
tick_peer (im_mesh_t *self, peer_t *p, int64_t now)
{
    link_tick (self, p, now);
    tick_link (self, p, now);
    mesh_ping_tick (self, p, now);
    mesh_peer_log_tick (p, now);
    if (peer_is (p, IM_REGION_SERVE, IM_SERVE_PARKED)
        && now - p->parked_at >= PARK_MAX_MS)
        /* Long polls do not last for ever: an empty answer shows the
         * link is alive, and the puller asks again. */
        mesh_serve_parked (self, p, 1);
    if (!peer_is (p, IM_REGION_PULL, IM_PULL_IDLE)
        && now - p->pulled_at >= mesh_pull_resend_ms (p))
        peer_event (p, IM_EV_PULL_LOST);
    /* While answers are being verified, the next PULL goes as their
     * application or a pull ahead sends it (SPEC "Pulling"): not for each
     * answer that comes, which would let them pile up. */
    if (peer_is (p, IM_REGION_PULL, IM_PULL_IDLE) && !p->records_pending)
        peer_send_pull (self, p);
}

void
im_mesh_sent_flush (im_mesh_t *self)
{
    for (peer_t *p = self && self->peers ? zlistx_first (self->peers) : NULL; p;
         p = zlistx_next (self->peers)) {
        int failing = p->sentlog_failing;
        if (mesh_sent_flush (self, p) == 0 && failing && !p->sentlog_failing)
            mesh_serve_parked (self, p, 0); /* its pulls waited for the log */
    }
}

void
im_mesh_tick (im_mesh_t *self)
{
    int64_t now = zclock_mono ();
    mesh_read_check (self, now);
    mesh_gossip_tick (self, now);
    mesh_apply_held (self, now);
    if (self->relay_at && now >= self->relay_at) {
        self->relay_at = 0;
        im_mesh_changed (self);
    }
    char why[256];
    if (*self->bind && !self->router && now >= self->next_bind) {
        if (mesh_router_bind (self, why, sizeof why) == 0)
            zsys_info ("mesh: peer socket bound again on %s", self->bind);
        else
            zsys_error ("%s (trying again in 5 s)", why);
    }
    mesh_rotate_tick (self, now);
    mesh_sent_tick (self, now);
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        tick_peer (self, p, now);
}

/* --- Life cycle and reload --------------------------------------------- */

/* Closes and binds the ROUTER again: every inbound link is cut, and peers on
 * the trust list reconnect (and pass the ZAP handler again) on their own. */
int
mesh_router_bind (im_mesh_t *self, char *err, size_t errsz)
{
    if (self->router) {
        im_poller_remove (self->poller, self->router);
        zsock_destroy (&self->router);
        for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
            zframe_destroy (&p->inbound);
            /* The peer still waits for the answer to its pull; it will come
             * on its next connection, which its dealer makes at once. */
            if (peer_is (p, IM_REGION_SERVE, IM_SERVE_PARKED) && p->parked_route) {
                zframe_destroy (&p->parked_route);
                peer_event (p, IM_EV_ROUTER_CUT);
            }
            if (!*p->endpoint)
                peer_event (p, IM_EV_PULL_LOST);
        }
    }
    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->router)
        return im_fail (ENOMEM, err, errsz, "mesh: cannot make the peer socket");
    zsock_set_zap_domain (self->router, ZAP_DOMAIN);
    zsock_set_curve_server (self->router, 1);
    zsock_set_curve_secretkey (self->router,
                               self->router_prev
                                   ? im_identity_curve_previous_secret (self->identity)
                                   : im_identity_curve_secret (self->identity));
    zsock_set_router_mandatory (self->router, 1);
    zsock_set_linger (self->router, 0);
    zsock_set_maxmsgsize (self->router, IM_MSG_MAX + 64);
    zsock_set_sndhwm (self->router, LINK_SNDHWM); /* per connection: a peer that
                                                    does not read cannot pile up
                                                    answers */
    zsock_set_rcvhwm (self->router, 1000);
    link_options (self->router);
    /* The port may take a moment to be free again after a close. */
    for (int attempt = 0; attempt < 50; attempt++) {
        if (zsock_bind (self->router, "%s", self->bind) >= 0) {
            im_poller_add (self->poller, self->router);
            return 0;
        }
        zclock_sleep (20);
    }
    int saved = zmq_errno ();
    zsock_destroy (&self->router); /* the tick tries again */
    self->next_bind = zclock_mono () + 5000;
    return im_fail (EADDRINUSE, err, errsz, "mesh: cannot bind the peer socket on %s: %s",
                    self->bind, zmq_strerror (saved));
}

im_mesh_t *
im_mesh_new (const im_config_t *config, im_identity_t *identity, im_store_t *store,
             im_poller_t *poller, im_mesh_stored_fn *stored, void *arg, char *err,
             size_t errsz)
{
    im_mesh_t *self = calloc (1, sizeof *self);
    if (!self) {
        im_fail (ENOMEM, err, errsz, "out of memory");
        return NULL;
    }
    self->identity = identity;
    self->store = store;
    self->poller = poller;
    self->stored = stored;
    self->arg = arg;
    randombytes_buf (&self->session, sizeof self->session);
    self->session |= 1; /* never 0, which means unknown */
    snprintf (self->name, sizeof self->name, "%s", config->name);
    snprintf (self->bind, sizeof self->bind, "%s", config->bind);
    self->anti_entropy = config->anti_entropy * 1000;
    self->fetch_grace = config->fetch_grace * 1000;
    self->grace_now = self->fetch_grace;
    self->sent_retention = config->sent_retention;
    /* A test switch: how long acknowledged answers may wait unwritten. */
    const char *wait = getenv ("IM_TEST_SENT_WRITE_MS");
    self->sent_write_ms = wait && atoi (wait) > 0 ? atoi (wait) : SENT_WRITE_MS;
    self->peers = zlistx_new ();
    self->msg = malloc (sizeof *self->msg);
    self->pull = calloc (1, sizeof *self->pull);
    self->buf = malloc (IM_MSG_MAX);
    self->keys = malloc (IM_MSG_CREDIT_MAX * IM_MSG_HAVE_KEY);
    self->notes = malloc (IM_MSG_CREDIT_MAX * IM_MSG_HAVE_KEY);
    self->sentkeys = malloc (IM_MSG_CREDIT_MAX * IM_MSG_HAVE_KEY);
    self->eager = zhashx_new ();
    self->eager_missed = zhashx_new ();
    self->first_from = zhashx_new ();
    self->out = malloc (IM_MSG_MAX);
    self->recs = im_record_array (IM_MSG_CREDIT_MAX); /* a record a page */
    self->items = malloc (2 * IM_MSG_CREDIT_MAX * sizeof *self->items);
    self->results = malloc (2 * IM_MSG_CREDIT_MAX * sizeof *self->results);
    self->heads = malloc (IM_MSG_CREDIT_MAX * sizeof *self->heads);
    self->held = malloc (IM_MSG_CREDIT_MAX * sizeof *self->held);
    self->roots = im_batch_cache_new (IM_BATCH_CACHE_DEFAULT);
    randombytes_buf (self->apply_key, sizeof self->apply_key);
    if (!self->roots || !self->peers || !self->msg || !self->pull || !self->buf
        || !self->out || !self->keys || !self->notes || !self->sentkeys || !self->eager
        || !self->eager_missed || !self->first_from || !self->recs || !self->items
        || !self->results || !self->heads || !self->held) {
        im_fail (ENOMEM, err, errsz, "out of memory");
        im_mesh_destroy (&self);
        return NULL;
    }
    zlistx_set_destructor (self->peers, peer_destroy);
    zhashx_set_destructor (self->eager, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_destructor (self->eager_missed, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_destructor (self->first_from, (zhashx_destructor_fn *)zstr_free);
    /* The ZAP handler comes first: a CURVE server without one lets any key
     * in. */
    self->zap = zsock_new (ZMQ_REP);
    if (!self->zap || zsock_bind (self->zap, ZAP_ENDPOINT) != 0) {
        im_fail (EADDRINUSE, err, errsz, "mesh: cannot start the ZAP handler");
        im_mesh_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->zap, 0);
    im_poller_add (poller, self->zap);
    /* Signatures are checked off this thread, one worker a core. */
    self->jobs = zlistx_new ();
    self->pool = self->jobs ? im_verify_new (0, err, errsz) : NULL;
    if (!self->pool) {
        im_mesh_destroy (&self);
        return NULL;
    }
    im_poller_add (poller, im_verify_sock (self->pool));
    for (size_t i = 0; i < config->npeers; i++) {
        peer_t *p = peer_new (self, config, &config->peers[i]);
        if (p)
            zlistx_add_end (self->peers, p);
    }
    /* Without a bind endpoint the node only dials out. */
    self->router_prev = mesh_rotating (self) && zlistx_size (self->peers) > 0;
    if (*self->bind && mesh_router_bind (self, err, errsz)) {
        im_mesh_destroy (&self);
        return NULL;
    }
    mesh_restart_start (self);
    return self;
}

void
im_mesh_destroy (im_mesh_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    int saved = errno;
    im_mesh_t *self = *self_p;
    if (self->router)
        im_poller_remove (self->poller, self->router);
    if (self->zap)
        im_poller_remove (self->poller, self->zap);
    if (self->pool)
        im_poller_remove (self->poller, im_verify_sock (self->pool));
    /* The workers first: then no job is out, and every one can go. */
    im_verify_destroy (&self->pool);
    mesh_apply_free_all (self);
    zlistx_destroy (&self->jobs);
    for (peer_t *p = self->peers ? zlistx_first (self->peers) : NULL; p;
         p = zlistx_next (self->peers)) {
        mesh_sent_flush (self, p); /* what it acknowledged, answering nothing */
        if (p->dealer)
            im_poller_remove (self->poller, p->dealer);
    }
    zlistx_destroy (&self->peers);
    zsock_destroy (&self->router);
    zsock_destroy (&self->zap);
    free (self->msg);
    free (self->pull);
    free (self->buf);
    free (self->out);
    free (self->keys);
    free (self->notes);
    free (self->sentkeys);
    zhashx_destroy (&self->eager);
    zhashx_destroy (&self->eager_missed);
    zhashx_destroy (&self->first_from);
    free (self->recs);
    free (self->items);
    free (self->results);
    free (self->heads);
    free (self->held);
    im_batch_cache_destroy (&self->roots);
    free (self);
    *self_p = NULL;
    errno = saved;
}

int
im_mesh_reload (im_mesh_t *self, const im_config_t *config, char *err, size_t errsz)
{
    (void)err;
    (void)errsz;
    int cut = 0;
    self->sent_retention = config->sent_retention;
    /* Removed peers, and peers whose keys or endpoint changed, go. */
    peer_t *gone[IM_PEERS_MAX + 1];
    size_t ngone = 0;
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        const im_peer_conf_t *keep = NULL;
        for (size_t i = 0; i < config->npeers && !keep; i++)
            if (strcmp (config->peers[i].card.name, p->card.name) == 0
                && memcmp (config->peers[i].card.node, p->card.node, 32) == 0
                && memcmp (config->peers[i].card.curve, p->card.curve, 32) == 0
                && strcmp (config->peers[i].endpoint, p->endpoint) == 0)
                keep = &config->peers[i];
        if (!keep && ngone < IM_PEERS_MAX + 1)
            gone[ngone++] = p;
    }
    /* Removed after the walk: removing moves the list's cursor. */
    for (size_t i = 0; i < ngone; i++) {
        zsys_info ("mesh: %s is no longer a peer", gone[i]->card.name);
        cut = 1;
        peer_remove (self, gone[i]);
    }
    peer_t *p;
    /* Kept peers take their new rules. */
    uint64_t seq = mesh_last_seq (self);
    for (p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        const im_peer_conf_t *conf = NULL;
        for (size_t i = 0; i < config->npeers && !conf; i++)
            if (strcmp (config->peers[i].card.name, p->card.name) == 0)
                conf = &config->peers[i];
        if (!conf)
            continue;
        p->pull_after = 0; /* a pull waiting after a failed store (a full disk,
                              perhaps made larger now) goes at once */
        if (conf->prev_until > im_time_now ()
            && sodium_memcmp (conf->prev_curve, p->card.curve, 32) != 0) {
            memcpy (p->prev_curve, conf->prev_curve, 32);
            memcpy (p->prev_z85, conf->prev_curve_z85, sizeof p->prev_z85);
            p->prev_until = conf->prev_until;
        }
        const im_policy_t *pol = im_config_peer_policy (config, conf);
        if (!im_policy_equal (&p->policy, pol)) {
            /* What it may now have is sent from the start of our log;
             * what it may no longer have stops here. */
            p->policy = *pol;
            peer_event (p, IM_EV_POLICY_CHANGED);
            p->rescan_pos = 0;
            p->rescan_end = seq;
            zsys_info ("mesh: %s now has policy '%s'", p->card.name, pol->name);
        }
        im_inbound_t same_rate = conf->in;
        same_rate.rate = p->in.rate;
        if (p->in.rate != conf->in.rate) {
            p->in.rate = conf->in.rate;
            p->tokens = p->in.rate;
            p->tokens_at = zclock_mono ();
        }
        if (!im_inbound_equal (&p->in, &same_rate)) {
            /* What it offered and we refused is offered again (a new rate
             * alone changes nothing of what is taken). */
            p->in = conf->in;
            memset (p->refused_keys, 0, (size_t)REFUSED_SLOTS * IM_MSG_HAVE_KEY);
            p->nrefused_keys = 0;
            peer_rewind (self, p);
            zsys_info ("mesh: inbound rules for %s changed: reading it again from the "
                       "start",
                       p->card.name);
        }
    }
    /* Added peers come. */
    for (size_t i = 0; i < config->npeers; i++)
        if (!peer_by_name (self, config->peers[i].card.name)) {
            p = peer_new (self, config, &config->peers[i]);
            if (p && mesh_rotating (self))
                /* Added during our rotation: it was given our card as it
                 * is now, with the new key. */
                peer_event (p, IM_EV_ADDED_ROTATING);
            if (p) {
                zlistx_add_end (self->peers, p);
                zsys_info ("mesh: %s is a peer", p->card.name);
            }
        }
    /* A removed peer's open connection to us is cut at once. */
    if (cut && *self->bind && mesh_router_bind (self, err, errsz))
        return -1;
    im_mesh_changed (self); /* waiting pulls see the new rules */
    return 0;
}

/* --- Explain and the sent log ------------------------------------------ */

const uint8_t *
im_mesh_peer_node (im_mesh_t *self, const char *name)
{
    peer_t *p = peer_by_name (self, name);
    return p ? p->card.node : NULL;
}

/* --- Status ------------------------------------------------------------ */

static json_t *
refusals_of (const uint64_t *refused)
{
    json_t *o = json_object ();
    for (int r = 0; r < REFUSE_COUNT; r++)
        if (refused[r])
            json_object_set_new (o, im_mesh_refuse_names[r],
                                 json_integer ((json_int_t)refused[r]));
    return o;
}

json_t *
im_mesh_peers (im_mesh_t *self)
{
    im_store_stats_t st;
    im_store_stats (self->store, &st);
    json_t *list = json_array ();
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        char node[65], when[IM_TIME_STR_SIZE];
        sodium_bin2hex (node, sizeof node, p->card.node, 32);
        json_t *o = json_pack (
            "{s:s, s:s, s:s, s:b, s:o, s:I, s:I, s:I, s:I, s:I, s:o}", "name",
            p->card.name, "node", node, "endpoint", p->endpoint, "connected",
            peer_connected (p), "last_contact",
            p->last_contact ? json_string (im_time_format (p->last_contact, when))
                            : json_null (),
            "lag_in",
            (json_int_t)(p->their_seq > p->cursor ? p->their_seq - p->cursor : 0),
            "lag_out", (json_int_t)(st.last_seq > p->acked ? st.last_seq - p->acked : 0),
            "sent", (json_int_t)p->sent, "received", (json_int_t)p->received, "known",
            (json_int_t)p->known, "refused", refusals_of (p->refused));
        if (o)
            json_object_set_new (o, "rtt_ms", json_integer ((json_int_t)p->rtt));
        if (o)
            json_object_set_new (o, "known_found",
                                 json_integer ((json_int_t)p->known_found));
        if (o)
            json_object_set_new (o, "known_late",
                                 json_integer ((json_int_t)p->known_late));
        if (o && p->store_failed)
            json_object_set_new (o, "store_failed",
                                 json_integer ((json_int_t)p->store_failed));
        if (o)
            json_object_update_missing_new (
                o, json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:I}", "wanted",
                              (json_int_t)p->nwants, "notes", (json_int_t)p->notes,
                              "notes_dropped", (json_int_t)p->notes_dropped,
                              "notes_deferred", (json_int_t)p->notes_deferred, "fetched",
                              (json_int_t)p->fetched, "anti_entropy_walks",
                              (json_int_t)p->syncs, "keys_only",
                              (json_int_t)(p->keys_first ? 0 : p->nlazy), "keys_first",
                              p->keys_first, "in_full",
                              (json_int_t)(p->keys_first ? p->nlazy : 0)));
        if (o)
            mesh_restart_json (p, o);
        if (o)
            json_object_update_missing_new (o, peer_rules_json (p));
        if (o)
            link_json (self, p, o);
        if (o)
            json_array_append_new (list, o);
    }
    return list;
}

json_t *
im_mesh_refusals (im_mesh_t *self)
{
    uint64_t sum[REFUSE_COUNT] = { 0 };
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        for (int r = 0; r < REFUSE_COUNT; r++)
            sum[r] += p->refused[r];
    json_t *o = refusals_of (sum);
    if (self->handshakes_refused)
        json_object_set_new (o, "handshake",
                             json_integer ((json_int_t)self->handshakes_refused));
    if (self->removed_refused)
        json_object_set_new (o, "removed peers",
                             json_integer ((json_int_t)self->removed_refused));
    return o;
}
