/* im_mesh.c -- the peer engine. Every peer is pulled from over one link (our
 * DEALER when it has an endpoint, else its connection to our ROUTER) and
 * serves its pulls on whichever link they arrive. A pull names the cursor the
 * puller has applied; the server answers with the records after it, or parks
 * the pull until something new is stored (long poll). The puller applies a
 * batch and its cursor in one LMDB transaction. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_mesh.h"
#include "im_msg.h"
#include "im_policy.h"
#include "im_time.h"
#include "im_util.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "intelmesh"
#define PING_MS 1000          /* every link gets a PING this often */
#define DOWN_MS 3500          /* a peer silent this long is shown as down */
#define HELLO_RETRY_MS 1000   /* HELLO is sent again until answered */
#define HELLO_REDIAL 5        /* unanswered HELLOs before the dealer is made anew */
#define PARK_MAX_MS 20000     /* a parked pull is answered, empty, after this */
#define PULL_RESEND_MS 25000  /* a pull unanswered this long is sent again (a
                                 parked pull is answered within PARK_MAX_MS) */
#define PULL_CREDIT 1000      /* records asked for per pull */
#define SCAN_MAX 20000        /* changes one answer may read */
#define RELAY_DELAY_MS 3      /* records from a peer wait this long before they are
                                 relayed, so that HAVE notes can overtake them */
#define HOLDS_SLOTS 16384     /* keys remembered per peer from its HAVE notes */
#define LAZY_EVERY_MS 300     /* LAZY lists are sent again at most this often */
#define WANT_GRACE_MS 3000    /* a noted record not arrived by then is fetched */
#define FETCH_EVERY_MS 2000   /* a peer gets at most one FETCH this often */
#define ROTATE_EVERY_MS 2000 /* ROTATE is sent again until answered */
#define PENDING_MAX (8 * IM_MSG_CREDIT_MAX) /* keys heard of, kept until the next
                                                batch from that peer is written */

/* Why a record from a peer was not stored (counted per peer). */
enum {
    REFUSE_MALFORMED,  /* not a record */
    REFUSE_SIGNATURE,  /* the origin's signature does not verify */
    REFUSE_OWN,        /* claims to be ours, newer than ours */
    REFUSE_EXPIRED,    /* valid_until has passed */
    REFUSE_VIOLATION,  /* the sender broke the sharing rules (SPEC, "Inbound") */
    REFUSE_INBOUND,    /* our inbound rules for the peer refuse it */
    REFUSE_PROTOCOL,   /* a message that breaks the protocol */
    REFUSE_COUNT
};
static const char *refuse_names[REFUSE_COUNT] = {
    "malformed", "bad signature", "own origin", "expired", "policy violation",
    "inbound policy", "protocol"
};

typedef struct {
    im_card_t card;
    char endpoint[IM_ENDPOINT_MAX]; /* "" when it only dials in */
    zsock_t *dealer;                /* our link to it, when it has an endpoint */
    int dealer_ready;               /* HELLO answered on the dealer */
    int hellos;                     /* HELLOs sent since the dealer was made */
    int64_t dealer_heard;           /* last message on the dealer, monotonic ms */
    int64_t dialed_at;              /* when the dealer was made */
    int64_t next_hello;
    zframe_t *inbound;              /* routing id of its link to our ROUTER */
    uint64_t session;               /* its run, from HELLO */
    int64_t last_heard;             /* monotonic ms */
    int64_t last_ping;
    int64_t last_contact;           /* wall clock seconds */
    /* Pulling from it. */
    uint64_t cursor;                /* its change number applied here */
    uint64_t their_seq;             /* its newest change number, as last told */
    int pulling;                    /* a PULL is out */
    int64_t pulled_at;
    /* Serving its pulls. */
    int parked;
    zsock_t *parked_sock;
    zframe_t *parked_route;         /* NULL on a dealer */
    uint64_t parked_cursor;
    uint16_t parked_credit;
    int64_t parked_at;
    int parked_relink;              /* parked on a ROUTER link that was cut: it
                                       moves to the peer's next connection */
    uint64_t acked;                 /* our change number it has applied */
    uint8_t *holds;                 /* HOLDS_SLOTS keys it told us it holds */
    uint8_t (*lazy)[IM_NODE_ID_SIZE]; /* origins it gets from another peer:
                                       send it only their keys (sorted) */
    size_t nlazy;
    int64_t fetch_at;               /* when we last sent it a FETCH */
    uint8_t *want;                  /* keys to FETCH from it, IM_MSG_CREDIT_MAX */
    size_t nwant;
    uint8_t *pending;               /* keys it said it holds, PENDING_MAX */
    size_t npending;
    /* Sharing policy. */
    im_policy_t policy;             /* what may go to it */
    im_inbound_t in;                /* what is taken from it */
    int rescan;                     /* its policy changed: our change log is
                                       walked again for what it may now have */
    uint64_t rescan_pos, rescan_end;
    double tokens;                  /* records it may still be asked for (rate) */
    int64_t tokens_at;
    uint16_t asked;                 /* credit of the pull in flight */
    int stale_pull;                 /* the pull in flight predates a rewind */
    /* Key rotation (SPEC.md, "ROTATE"). */
    uint8_t prev_curve[32];         /* its CURVE key before it rotated, */
    char prev_z85[41];
    int64_t prev_until;             /* good until then (wall clock; 0: none) */
    int dial_prev;                  /* our dealer uses its previous key */
    int rotate_acked;               /* it knows our new key */
    int64_t rotate_at;              /* when we last told it (monotonic ms) */
    int64_t redial_at;              /* dial again then, with other keys (0: no) */
    /* Counts. */
    uint64_t sent, received, known;
    uint64_t refused[REFUSE_COUNT];
} peer_t;

struct _im_mesh_t {
    im_identity_t *identity;
    im_store_t *store;
    zpoller_t *poller;
    im_mesh_stored_fn *stored;
    void *arg;
    char bind[IM_ENDPOINT_MAX];
    zsock_t *router;
    zsock_t *zap;
    int router_prev;            /* the ROUTER still serves our previous key */
    im_mesh_rotate_fn *on_rotate; /* a peer's new key is written down by it */
    void *rotate_arg;
    uint64_t session;
    char name[IM_NAME_MAX + 1];
    zlistx_t *peers;            /* peer_t */
    uint64_t handshakes_refused;
    uint64_t removed_refused;   /* refusals of peers since removed */
    int64_t relay_at;           /* when to serve parked pulls again (0: no) */
    int64_t next_bind;          /* when to try binding the peer socket again */
    zhashx_t *eager;            /* origin (hex) -> name of the peer we get it from */
    int lazy_dirty;             /* the eager choices changed: tell the peers */
    int64_t lazy_at;            /* when LAZY lists were last sent */
    int64_t want_at;            /* when wanted records were last looked at */
    uint8_t *notes;             /* IM_MSG_CREDIT_MAX keys: a serve's notes */
    size_t nnotes;
    uint8_t *keys;              /* IM_MSG_CREDIT_MAX keys for a HAVE */
    uint8_t *sentkeys;          /* IM_MSG_CREDIT_MAX keys: what an answer sends */
    size_t nsent;
    /* Reused for every batch. */
    im_msg_t *msg;
    uint8_t *buf;               /* IM_MSG_MAX: encoding, and staging of records */
    uint8_t *out;               /* IM_MSG_MAX: encoding of RECORDS */
    im_record_t *recs;          /* IM_MSG_CREDIT_MAX */
    im_store_item_t *items;
    int *results;
};

/* --- Peers ------------------------------------------------------------- */

static void
peer_drop_parked (peer_t *p)
{
    p->parked = 0;
    p->parked_relink = 0;
    p->parked_sock = NULL;
    zframe_destroy (&p->parked_route);
}

static void
peer_destroy (void **item)
{
    peer_t *p = *item;
    if (!p)
        return;
    zsock_destroy (&p->dealer);
    zframe_destroy (&p->inbound);
    peer_drop_parked (p);
    free (p->holds);
    free (p->lazy);
    free (p->want);
    free (p->pending);
    free (p);
    *item = NULL;
}

static peer_t *
peer_by_name (im_mesh_t *self, const char *name)
{
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (strcmp (p->card.name, name) == 0)
            return p;
    return NULL;
}

/* The peer whose key CURVE is: its current one, or the one before its last
 * rotation while that still works. */
static peer_t *
peer_by_curve (im_mesh_t *self, const uint8_t *curve)
{
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (sodium_memcmp (p->card.curve, curve, 32) == 0
            || (p->prev_until && sodium_memcmp (p->prev_curve, curve, 32) == 0
                && p->prev_until > im_time_now ()))
            return p;
    return NULL;
}

/* We are in a rotation's grace period: our previous key still works. */
static int
rotating (im_mesh_t *self)
{
    return im_identity_curve_previous_public (self->identity)
           && im_identity_previous_until (self->identity) > im_time_now ();
}

/* Connected: heard from lately, and the link we pull it over works. */
static int
peer_connected (const peer_t *p)
{
    return p->session && zclock_mono () - p->last_heard < DOWN_MS
           && (*p->endpoint ? p->dealer_ready : p->inbound != NULL);
}

/* Encodes MSG into BUF (IM_MSG_MAX bytes) and sends it on SOCK, after ROUTE
 * on the ROUTER, without waiting. Returns 0, or -1 with errno (EAGAIN: the
 * peer's queue is full). */
static int
send_in (zsock_t *sock, zframe_t *route, const im_msg_t *msg, uint8_t *buf)
{
    size_t len;
    if (im_msg_encode (msg, buf, IM_MSG_MAX, &len) != 0) {
        zsys_error ("mesh: cannot encode %s: %s", im_msg_name (msg->id), strerror (errno));
        return -1;
    }
    void *handle = zsock_resolve (sock);
    if (route && zmq_send (handle, zframe_data (route), zframe_size (route),
                           ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    return zmq_send (handle, buf, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

/* Sends MSG to P on SOCK (with ROUTE on the ROUTER). Returns 0 or -1. */
static int
send_msg (im_mesh_t *self, zsock_t *sock, zframe_t *route, const im_msg_t *msg)
{
    return send_in (sock, route, msg, self->buf);
}

static uint64_t
last_seq (im_mesh_t *self)
{
    im_store_stats_t st;
    return im_store_stats (self->store, &st) == 0 ? st.last_seq : 0;
}

static void
fill_hello (im_mesh_t *self, im_msg_t *msg)
{
    msg->id = IM_MSG_HELLO;
    msg->version = IM_MSG_VERSION;
    memcpy (msg->node, im_identity_node (self->identity), IM_NODE_ID_SIZE);
    msg->session = self->session;
    snprintf (msg->name, sizeof msg->name, "%s", self->name);
}

/* The link we pull P over: our dealer, or its connection to our ROUTER. */
static int
pull_link (peer_t *p, zsock_t *router, zsock_t **sock, zframe_t **route)
{
    if (*p->endpoint) {
        if (!p->dealer || !p->dealer_ready)
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

static void
send_pull (im_mesh_t *self, peer_t *p)
{
    zsock_t *sock;
    zframe_t *route;
    if (p->pulling || pull_link (p, self->router, &sock, &route))
        return;
    uint16_t credit = PULL_CREDIT;
    if (p->in.rate) {
        /* A token bucket of RATE a second, holding at most RATE (and at
         * least one record's worth): ask only for what it holds. */
        int64_t now = zclock_mono ();
        double cap = p->in.rate > 1 ? p->in.rate : 1;
        p->tokens += (double) (now - p->tokens_at) * p->in.rate / 1000.0;
        if (p->tokens > cap)
            p->tokens = cap;
        p->tokens_at = now;
        if (p->tokens < 1)
            return; /* im_mesh_tick asks again */
        if (p->tokens < credit)
            credit = (uint16_t) p->tokens;
    }
    im_msg_t *msg = self->msg;
    msg->id = IM_MSG_PULL;
    msg->cursor = p->cursor;
    msg->credit = credit;
    if (send_msg (self, sock, route, msg) == 0) {
        p->pulling = 1;
        p->stale_pull = 0; /* this pull asks from the cursor as it is now */
        p->asked = credit;
        p->pulled_at = zclock_mono ();
    }
}

static int
peer_dial (im_mesh_t *self, peer_t *p)
{
    if (!*p->endpoint)
        return 0;
    p->dealer = zsock_new (ZMQ_DEALER);
    if (!p->dealer)
        return -1;
    /* In its rotation's grace period we try its new key and its previous
     * one in turn; in ours, it gets our previous key until it knows the
     * new one. */
    if (p->dial_prev && p->prev_until <= im_time_now ())
        p->dial_prev = 0;
    int ours_prev = rotating (self) && !p->rotate_acked;
    zsock_set_curve_serverkey (p->dealer, p->dial_prev ? p->prev_z85 : p->card.curve_z85);
    zsock_set_curve_publickey (p->dealer,
                               ours_prev ? im_identity_curve_previous_public (self->identity)
                                         : im_identity_curve_public (self->identity));
    zsock_set_curve_secretkey (p->dealer,
                               ours_prev ? im_identity_curve_previous_secret (self->identity)
                                         : im_identity_curve_secret (self->identity));
    zsock_set_immediate (p->dealer, 1);
    zsock_set_linger (p->dealer, 0);
    zsock_set_sndhwm (p->dealer, 100);
    zsock_set_rcvhwm (p->dealer, 100);
    zsock_set_maxmsgsize (p->dealer, IM_MSG_MAX + 64);
    zsock_set_reconnect_ivl (p->dealer, 100);
    zsock_set_reconnect_ivl_max (p->dealer, 5000);
    zsock_set_heartbeat_ivl (p->dealer, PING_MS);
    zsock_set_heartbeat_timeout (p->dealer, DOWN_MS);
    if (zsock_connect (p->dealer, "%s", p->endpoint) != 0) {
        zsys_warning ("mesh: cannot dial %s at %s", p->card.name, p->endpoint);
        zsock_destroy (&p->dealer);
        return -1;
    }
    zpoller_add (self->poller, p->dealer);
    p->next_hello = 0;
    p->dialed_at = zclock_mono ();
    return 0;
}

/* Makes the dealer anew (libzmq gives up on a connection whose handshake the
 * other side refused): a pull parked on the old one goes with it. */
static void
peer_redial (im_mesh_t *self, peer_t *p)
{
    if (p->dealer) {
        if (p->parked && p->parked_sock == p->dealer)
            peer_drop_parked (p);
        zpoller_remove (self->poller, p->dealer);
        zsock_destroy (&p->dealer);
    }
    p->dealer_ready = 0;
    p->hellos = 0;
    if (*p->endpoint)
        p->pulling = 0;
    peer_dial (self, p);
}

/* Unanswered: in the peer's rotation grace period, the other of its keys is
 * tried next. */
static void
peer_redial_unanswered (im_mesh_t *self, peer_t *p)
{
    if (p->prev_until > im_time_now ())
        p->dial_prev = !p->dial_prev;
    peer_redial (self, p);
}

/* A peer's session changed: what we knew of its store is void. */
static void
peer_new_session (peer_t *p, uint64_t session)
{
    p->session = session;
    p->pulling = 0;
    p->nlazy = 0;
    memset (p->holds, 0, (size_t) HOLDS_SLOTS * IM_MSG_HAVE_KEY);
}

static peer_t *
peer_new (im_mesh_t *self, const im_config_t *config, const im_peer_conf_t *conf)
{
    peer_t *p = calloc (1, sizeof *p);
    if (p && (!(p->holds = calloc (HOLDS_SLOTS, IM_MSG_HAVE_KEY))
              || !(p->lazy = calloc (IM_MSG_CREDIT_MAX, IM_NODE_ID_SIZE))
              || !(p->want = calloc (IM_MSG_CREDIT_MAX, IM_MSG_HAVE_KEY))
              || !(p->pending = calloc (PENDING_MAX, IM_MSG_HAVE_KEY)))) {
        free (p->want);
        free (p->holds);
        free (p->lazy);
        free (p);
        p = NULL;
    }
    if (!p)
        return NULL;
    p->card = conf->card;
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
    im_store_cursor (self->store, p->card.node, &p->cursor);
    peer_dial (self, p);
    return p;
}

static void
peer_remove (im_mesh_t *self, peer_t *p)
{
    if (p->dealer)
        zpoller_remove (self->poller, p->dealer);
    for (int r = 0; r < REFUSE_COUNT; r++)
        self->removed_refused += p->refused[r];
    void *handle = zlistx_find (self->peers, p);
    if (handle)
        zlistx_delete (self->peers, handle);
}

/* --- ZAP: only keys on the trust list get through ---------------------- */

static void
handle_zap (im_mesh_t *self)
{
    zmsg_t *req = zmsg_recv (self->zap);
    if (!req)
        return;
    char *version = zmsg_popstr (req);
    char *request_id = zmsg_popstr (req);
    char *domain = zmsg_popstr (req);
    char *address = zmsg_popstr (req);
    zframe_t *identity = zmsg_pop (req);
    char *mechanism = zmsg_popstr (req);
    zframe_t *key = zmsg_pop (req);
    peer_t *p = NULL;
    if (version && streq (version, "1.0") && mechanism && streq (mechanism, "CURVE")
        && domain && streq (domain, ZAP_DOMAIN) && key && zframe_size (key) == 32)
        p = peer_by_curve (self, zframe_data (key));
    if (!p) {
        self->handshakes_refused++;
        char hex[65] = "?";
        if (key && zframe_size (key) == 32)
            sodium_bin2hex (hex, sizeof hex, zframe_data (key), 32);
        zsys_warning ("mesh: handshake from %s refused: CURVE key %.16s... is not on the "
                      "trust list", address ? address : "?", hex);
    }
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, request_id ? request_id : "");
    zmsg_addstr (reply, p ? "200" : "400");
    zmsg_addstr (reply, p ? "OK" : "not on the trust list");
    /* The User-Id is the key presented: a connection belongs to that key,
     * a name given to another key later does not inherit it, and a
     * connection made with a peer's previous key is no one's once that
     * key's grace period is over. */
    char user[65] = "";
    if (p)
        sodium_bin2hex (user, sizeof user, zframe_data (key), 32);
    zmsg_addstr (reply, user);
    zmsg_addmem (reply, NULL, 0);
    zmsg_send (&reply, self->zap);
    zstr_free (&version);
    zstr_free (&request_id);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&mechanism);
    zframe_destroy (&identity);
    zframe_destroy (&key);
    zmsg_destroy (&req);
}

static int router_bind (im_mesh_t *self, char *err, size_t errsz);

/* --- What a peer holds: a bounded cache of its HAVE notes --------------- */

/* A key is origin, id and version (big-endian), as in a record's header. */
static void
record_key (const im_record_t *rec, uint8_t key[IM_MSG_HAVE_KEY])
{
    memcpy (key, rec->origin, IM_NODE_ID_SIZE);
    memcpy (key + IM_NODE_ID_SIZE, rec->id, IM_ID_SIZE);
    for (int i = 0; i < 8; i++)
        key[IM_NODE_ID_SIZE + IM_ID_SIZE + i] = (uint8_t) (rec->version >> (56 - 8 * i));
}

static uint8_t *
holds_slot (peer_t *p, const uint8_t *key)
{
    /* The id's random bits spread keys well enough. */
    uint32_t h = 2166136261u;
    for (int i = 0; i < IM_MSG_HAVE_KEY; i++)
        h = (h ^ key[i]) * 16777619u;
    return p->holds + (size_t) (h % HOLDS_SLOTS) * IM_MSG_HAVE_KEY;
}

/* A newer key in the slot pushes out an older one: the cache can only forget,
 * which costs a duplicate, never a record. */
static void
holds_add (peer_t *p, const uint8_t *key)
{
    memcpy (holds_slot (p, key), key, IM_MSG_HAVE_KEY);
}

static int
holds_has (peer_t *p, const uint8_t *key)
{
    return memcmp (holds_slot (p, key), key, IM_MSG_HAVE_KEY) == 0;
}

/* Tells every other peer we can reach which of the records just stored
 * (the first N of the batch's items) we now hold, so that they do not send
 * them to us too; each peer hears only of records it could be sent. */
static int shareable (im_mesh_t *self, const im_store_change_t *c, const peer_t *p,
                      char *why, size_t whysz);

static void
send_have (im_mesh_t *self, const peer_t *from, size_t n)
{
    im_msg_t *msg = self->msg;
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        zsock_t *sock;
        zframe_t *route;
        if (p == from || !peer_connected (p) || pull_link (p, self->router, &sock, &route))
            continue;
        size_t count = 0;
        for (size_t i = 0; i < n; i++) {
            /* Records of a limited reach are not noted: a holder may still
             * need them over a shorter path (SPEC, "Hops over several
             * paths"). */
            if (self->results[i] == IM_STORE_STALE
                || self->results[i] == IM_STORE_CLOSER
                || self->items[i].rec->reach != IM_REACH_UNLIMITED)
                continue;
            im_store_change_t c = { .rec = self->items[i].rec,
                                    .hops = self->items[i].hops };
            memcpy (c.from, self->items[i].from, IM_NODE_ID_SIZE);
            if (shareable (self, &c, p, NULL, 0))
                record_key (self->items[i].rec, self->keys + count++ * IM_MSG_HAVE_KEY);
        }
        if (count == 0)
            continue;
        msg->id = IM_MSG_HAVE;
        msg->count = count;
        msg->have = self->keys;
        send_msg (self, sock, route, msg);
    }
}

/* --- Serving pulls ----------------------------------------------------- */

typedef struct {
    im_mesh_t *self;
    peer_t *peer;
    size_t bytes;
    int full;       /* stopped at the size limit */
    int rescan;     /* walking again after a policy change */
    uint64_t end;   /* ... up to this change */
    uint64_t pos;   /* ... and the last change it answered for */
} serve_t;

static int
cmp_node_id (const void *a, const void *b)
{
    return memcmp (a, b, IM_NODE_ID_SIZE);
}

/* Whether a change may go to the peer: the rules of SPEC.md, "Sharing
 * policy", "Outbound" (im_policy_outbound), with the sent log for rule 3. */
static int
shareable (im_mesh_t *self, const im_store_change_t *c, const peer_t *p, char *why,
           size_t whysz)
{
    static const uint8_t zeros[IM_NODE_ID_SIZE];
    int sent_before = 0;
    if (c->rec->op == IM_OP_REVOKE) {
        uint64_t v = 0;
        sent_before = im_store_sent_version (self->store, p->card.node, c->rec->origin,
                                             c->rec->id, &v, NULL) == 0
                      && v > 0;
    }
    im_share_ctx_t ctx = {
        .rec = c->rec,
        .hops = c->hops,
        .from = memcmp (c->from, zeros, IM_NODE_ID_SIZE) ? c->from : NULL,
        .peer = p->card.node,
        .peer_name = p->card.name,
        .policy = &p->policy,
        .sent_before = sent_before,
        .now = im_time_now (),
    };
    im_share_t verdict = im_policy_outbound (&ctx, why, whysz);
    return verdict == IM_SHARE_YES || verdict == IM_SHARE_REVOCATION;
}

static int
serve_fn (const im_store_change_t *c, void *arg)
{
    serve_t *s = arg;
    im_msg_t *msg = s->self->msg;
    uint8_t key[IM_MSG_HAVE_KEY];
    record_key (c->rec, key);
    if (s->rescan) {
        if (c->seq > s->end)
            return 1;
        uint64_t sent = 0;
        if (msg->count >= IM_MSG_CREDIT_MAX || s->self->nsent >= IM_MSG_CREDIT_MAX)
            return 1;
        if (!shareable (s->self, c, s->peer, NULL, 0) || holds_has (s->peer, key)
            || (im_store_sent_version (s->self->store, s->peer->card.node, c->rec->origin,
                                       c->rec->id, &sent, NULL) == 0
                && sent >= c->rec->version)) {
            s->pos = c->seq;
            return 0;
        }
    }
    else if (!shareable (s->self, c, s->peer, NULL, 0) || holds_has (s->peer, key)) {
        msg->cursor = c->seq;
        return 0;
    }
    if (!s->rescan && c->rec->reach == IM_REACH_UNLIMITED && s->peer->nlazy
        && bsearch (c->rec->origin, s->peer->lazy, s->peer->nlazy, IM_NODE_ID_SIZE,
                    cmp_node_id)) {
        /* It gets this origin from another peer: only the key goes, in a
         * HAVE sent before the RECORDS, so that it can fetch what that other
         * peer fails to bring. */
        if (s->self->nnotes >= IM_MSG_CREDIT_MAX) {
            s->full = 1;
            return 1;
        }
        memcpy (s->self->notes + s->self->nnotes++ * IM_MSG_HAVE_KEY, key,
                IM_MSG_HAVE_KEY);
        msg->cursor = c->seq;
        return 0;
    }
    size_t cost = IM_MSG_ENTRY_OVERHEAD + c->len;
    if (s->bytes + cost > IM_MSG_MAX) {
        s->full = 1;
        return 1; /* the next pull starts here */
    }
    /* The bytes live in the store's read transaction, which ends with the
     * walk: copy them into the reply's buffer area. */
    uint8_t *copy = s->self->buf + IM_MSG_MAX - s->bytes - c->len;
    memcpy (copy, c->blob, c->len);
    im_msg_entry_t *e = &msg->entries[msg->count++];
    e->hops = c->hops;
    e->record = copy;
    e->len = c->len;
    s->bytes += cost;
    memcpy (s->self->sentkeys + s->self->nsent++ * IM_MSG_HAVE_KEY, key, IM_MSG_HAVE_KEY);
    if (s->rescan)
        s->pos = c->seq;
    else
        msg->cursor = c->seq;
    return 0;
}

/* Writes what an answer to P sent into the sent log. */
static void
note_sent (im_mesh_t *self, peer_t *p)
{
    if (self->nsent
        && im_store_sent_note (self->store, p->card.node, self->sentkeys, self->nsent,
                               zclock_time ()) != 0)
        zsys_error ("mesh: cannot write the sent log for %s: %s", p->card.name,
                    strerror (errno));
    self->nsent = 0;
}

/* After a policy change: sends P, before anything new, what it may now have
 * and was not sent, walking the change log up to where it stood then.
 * Returns 1 when it answered the pull, 0 when there was nothing (more). */
static int
serve_rescan (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
              uint64_t cursor, uint16_t credit)
{
    im_msg_t *msg = self->msg;
    for (int round = 0; p->rescan; round++) {
        if (round == 16) {
            /* A long walk with nothing to send yields, and goes on shortly. */
            self->relay_at = zclock_mono () + 1;
            return 0;
        }
        msg->id = IM_MSG_RECORDS;
        msg->cursor = cursor; /* a rescan moves no cursor */
        msg->more = 1;
        msg->count = 0;
        self->nnotes = 0;
        self->nsent = 0;
        serve_t s = { self, p, IM_MSG_RECORDS_HEADER, 0, 1, p->rescan_end, p->rescan_pos };
        uint64_t last = p->rescan_pos;
        if (im_store_feed (self->store, p->rescan_pos, credit, SCAN_MAX, serve_fn, &s,
                           &last) < 0) {
            zsys_error ("mesh: reading the change log for %s: %s", p->card.name,
                        strerror (errno));
            p->rescan = 0;
            return 0;
        }
        /* Unless cut short, everything read was answered for. */
        if (!s.full && msg->count < credit && msg->count < IM_MSG_CREDIT_MAX)
            s.pos = last;
        int done = s.pos >= p->rescan_end || last == p->rescan_pos;
        if (msg->count && send_in (sock, route, msg, self->out) != 0) {
            /* Not sent: the walk starts here again next time. */
            self->nsent = 0;
            self->relay_at = zclock_mono () + 50;
            return 0;
        }
        p->rescan_pos = s.pos;
        if (done) {
            p->rescan = 0;
            zsys_info ("mesh: %s has been sent what its new policy allows", p->card.name);
        }
        if (msg->count == 0)
            continue;
        p->sent += msg->count;
        note_sent (self, p);
        return 1;
    }
    return 0;
}

/* Answers a pull of P after CURSOR on SOCK/ROUTE: now if there is anything,
 * else parks it (unless FORCE: an empty answer). Returns 1 when answered. */
static int
serve (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route, uint64_t cursor,
       uint16_t credit, int force)
{
    im_msg_t *msg = self->msg;
    msg->id = IM_MSG_RECORDS;
    msg->cursor = cursor;
    msg->more = 0;
    msg->count = 0;
    /* Records are staged at the top of buf; the message is encoded into out. */
    if (p->rescan && serve_rescan (self, p, sock, route, cursor, credit))
        return 1;
    msg->id = IM_MSG_RECORDS;
    msg->cursor = cursor;
    msg->more = 0;
    msg->count = 0;
    serve_t s = { self, p, IM_MSG_RECORDS_HEADER, 0, 0, 0, 0 };
    uint64_t last = cursor;
    self->nnotes = 0;
    self->nsent = 0;
    if (im_store_feed (self->store, cursor, credit, SCAN_MAX, serve_fn, &s, &last) < 0) {
        zsys_error ("mesh: reading the change log for %s: %s", p->card.name,
                    strerror (errno));
        return 0;
    }
    /* Unless the size limit cut the walk, everything read is answered for
     * (what was not shareable, or superseded, is passed over for good). */
    if (!s.full && last > msg->cursor && msg->count < credit)
        msg->cursor = last;
    if (msg->count == 0 && msg->cursor == cursor && !force)
        return 0; /* nothing new: park */
    im_store_stats_t st;
    im_store_stats (self->store, &st);
    msg->more = msg->cursor < st.last_seq;
    /* Both go through OUT: the staged records sit at the top of BUF. */
    if (self->nnotes) {
        /* The notes go first: the puller records them before it moves its
         * cursor past them. */
        im_msg_t notes = { .id = IM_MSG_HAVE, .count = self->nnotes, .have = self->notes };
        if (send_in (sock, route, &notes, self->out) != 0) {
            self->nsent = 0;
            self->relay_at = zclock_mono () + 50;
            return 0; /* try again shortly; nothing was promised */
        }
    }
    if (send_in (sock, route, msg, self->out) != 0) {
        self->nsent = 0;
        if (zmq_errno () == EAGAIN) {
            /* The peer is not reading yet: the pull stays waiting and is
             * answered again shortly. */
            self->relay_at = zclock_mono () + 50;
            return 0;
        }
        zsys_warning ("mesh: cannot answer %s: %s", p->card.name,
                      zmq_strerror (zmq_errno ()));
    }
    else {
        p->sent += msg->count;
        note_sent (self, p);
    }
    return 1;
}

static void
handle_pull (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
             const im_msg_t *msg)
{
    uint64_t cursor = msg->cursor;
    uint16_t credit = msg->credit;
    peer_drop_parked (p);
    p->acked = cursor;
    if (serve (self, p, sock, route, cursor, credit, 0))
        return;
    p->parked = 1;
    p->parked_sock = sock;
    p->parked_route = route ? zframe_dup (route) : NULL;
    p->parked_cursor = cursor;
    p->parked_credit = credit;
    p->parked_at = zclock_mono ();
}

int
im_mesh_next_ms (im_mesh_t *self)
{
    if (!self->relay_at)
        return 100;
    int64_t left = self->relay_at - zclock_mono ();
    return left < 0 ? 0 : left > 100 ? 100 : (int) left;
}

void
im_mesh_changed (im_mesh_t *self)
{
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (p->parked && !p->parked_relink
            && serve (self, p, p->parked_sock, p->parked_route, p->parked_cursor,
                      p->parked_credit, 0))
            peer_drop_parked (p);
}

/* --- Applying records -------------------------------------------------- */

/* Records of an origin come eagerly from one peer: the first that brought
 * one, or the origin itself when it is a peer. The others are asked (LAZY) to
 * send only their keys. */
static void
note_eager (im_mesh_t *self, peer_t *from, const im_record_t *rec)
{
    char origin[65];
    sodium_bin2hex (origin, sizeof origin, rec->origin, IM_NODE_ID_SIZE);
    if (zhashx_lookup (self->eager, origin))
        return;
    const char *name = from->card.name;
    for (peer_t *q = zlistx_first (self->peers); q; q = zlistx_next (self->peers))
        if (memcmp (q->card.node, rec->origin, IM_NODE_ID_SIZE) == 0)
            name = q->card.name;
    if (zhashx_size (self->eager) >= IM_MSG_CREDIT_MAX)
        return; /* beyond that many origins, every peer sends everything */
    zhashx_insert (self->eager, origin, strdup (name));
    self->lazy_dirty = 1;
}

static void
handle_records (im_mesh_t *self, peer_t *p, const im_msg_t *msg)
{
    int found = msg->id == IM_MSG_FOUND;
    if (!found)
        p->pulling = 0;
    size_t n = 0;
    uint64_t refused_before[REFUSE_COUNT];
    char first_why[REFUSE_COUNT][256];
    memcpy (refused_before, p->refused, sizeof refused_before);
    memset (first_why, 0, sizeof first_why);
    if (!found && msg->count > p->asked) {
        /* More than the pull's credit: the peer ignores our rate. */
        p->refused[REFUSE_PROTOCOL]++;
        zsys_warning ("mesh: %s sent %zu records for a credit of %u: refused",
                      p->card.name, msg->count, p->asked);
        send_pull (self, p);
        return;
    }
    if (!found && p->in.rate)
        p->tokens -= (double) msg->count;
    const uint8_t *own = im_identity_node (self->identity);
    for (size_t i = 0; i < msg->count; i++) {
        const im_msg_entry_t *e = &msg->entries[i];
        /* Known version: skipped before any signature is checked. */
        uint64_t held = 0, version = 0;
        if (e->len < IM_RECORD_FIXED + IM_SIG_SIZE
            || memcmp (e->record, "IMR", 3) != 0) {
            p->refused[REFUSE_MALFORMED]++;
            continue;
        }
        const uint8_t *origin = e->record + 4, *id = origin + IM_NODE_ID_SIZE;
        for (int b = 0; b < 8; b++)
            version = (version << 8) | id[IM_ID_SIZE + b];
        /* The reach byte follows version, op, type, tlp and confidence. */
        uint8_t reach = e->record[4 + IM_NODE_ID_SIZE + IM_ID_SIZE + 8 + 4];
        if (im_store_version (self->store, origin, id, &held) == 0 && held >= version) {
            /* The same version of a limited reach over fewer hops is not
             * known: it may now go further (SPEC, "Hops over several
             * paths"). */
            uint8_t hops = 0;
            if (held > version || reach == IM_REACH_UNLIMITED
                || im_store_held (self->store, origin, id, &hops, NULL) != 0
                || hops <= (unsigned) e->hops + 1) {
                p->known++;
                continue;
            }
        }
        int dup = 0; /* the same record twice in one batch */
        for (size_t j = 0; j < n && !dup; j++)
            dup = memcmp (self->recs[j].origin, origin, IM_NODE_ID_SIZE) == 0
                  && memcmp (self->recs[j].id, id, IM_ID_SIZE) == 0
                  && self->recs[j].version >= version;
        if (dup) {
            p->known++;
            continue;
        }
        im_record_t *rec = &self->recs[n];
        char why[256];
        if (im_record_decode (e->record, e->len, 1, rec, why, sizeof why) != 0) {
            p->refused[errno == EPERM ? REFUSE_SIGNATURE : REFUSE_MALFORMED]++;
            continue;
        }
        if (memcmp (rec->origin, own, IM_NODE_ID_SIZE) == 0) {
            p->refused[REFUSE_OWN]++;
            continue;
        }
        im_accept_ctx_t actx = {
            .rec = rec,
            .hops = e->hops,
            .self = own,
            .peer = p->card.node,
            .peer_name = p->card.name,
            .in = &p->in,
            .holds_earlier = held > 0 && held < rec->version,
            .now = im_time_now (),
        };
        im_accept_t verdict = im_policy_inbound (&actx, why, sizeof why);
        if (verdict != IM_ACCEPT_YES && verdict != IM_ACCEPT_REVOCATION) {
            int r = im_accept_violation (verdict) ? REFUSE_VIOLATION
                    : verdict == IM_ACCEPT_EXPIRED ? REFUSE_EXPIRED
                                                   : REFUSE_INBOUND;
            if (p->refused[r] == refused_before[r])
                snprintf (first_why[r], sizeof first_why[r], "%s",
                          strncmp (why, "refused: ", 9) == 0 ? why + 9 : why);
            p->refused[r]++;
            continue;
        }
        unsigned hops = (unsigned) e->hops + 1;
        self->items[n].blob = e->record;
        self->items[n].len = e->len;
        self->items[n].rec = rec;
        self->items[n].hops = (uint8_t) (hops > 254 ? 254 : hops);
        self->items[n].from = p->card.node;
        n++;
    }
    for (int r = 0; r < REFUSE_COUNT; r++)
        if (p->refused[r] > refused_before[r])
            zsys_warning ("mesh: refused %llu record(s) from %s: %s%s%s%s",
                          (unsigned long long) (p->refused[r] - refused_before[r]),
                          p->card.name, refuse_names[r], *first_why[r] ? " (" : "",
                          first_why[r], *first_why[r] ? ")" : "");
    uint64_t cursor = msg->cursor > p->cursor ? msg->cursor : p->cursor;
    if (found || p->stale_pull)
        cursor = p->cursor; /* an answer to FETCH, or to a pull sent before
                               the cursor was moved back, moves no cursor */
    if (!found)
        p->stale_pull = 0;
    if (n == 0 && cursor == p->cursor) {
        if (!found)
            send_pull (self, p); /* an empty answer: nothing to write */
        return;
    }
    char err[256];
    int stored = found ? im_store_put_batch (self->store, self->items, n, self->results,
                                             err, sizeof err)
                       : im_store_put_batch_cursor (self->store, self->items, n,
                                                    self->results, p->card.node, cursor,
                                                    p->pending, p->npending,
                                                    zclock_mono (), err, sizeof err);
    if (stored < 0) {
        zsys_error ("mesh: cannot store records from %s: %s", p->card.name, err);
        return; /* the cursor did not move: the next pull asks again */
    }
    if (!found)
        p->npending = 0; /* written with the batch, before its cursor */
    p->cursor = cursor;
    if (cursor > p->their_seq)
        p->their_seq = cursor;
    for (size_t i = 0; i < n; i++)
        if (self->results[i] != IM_STORE_STALE && self->results[i] != IM_STORE_CLOSER) {
            p->received++;
            note_eager (self, p, &self->recs[i]);
            if (self->stored)
                self->stored (&self->recs[i], self->arg);
        }
    if (!found)
        send_pull (self, p);
    send_have (self, p, n);
    if (stored > 0 && !self->relay_at)
        self->relay_at = zclock_mono () + RELAY_DELAY_MS;
}

/* Answers a FETCH with the records asked for that may go to P, each at the
 * version held now. */
static void
handle_fetch (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
              const im_msg_t *msg)
{
    size_t count = msg->count;
    uint8_t *keys = malloc (count * IM_MSG_HAVE_KEY);
    if (!keys)
        return;
    memcpy (keys, msg->have, count * IM_MSG_HAVE_KEY);
    self->nsent = 0;
    im_msg_t *out = self->msg;
    out->id = IM_MSG_FOUND;
    out->cursor = 0;
    out->more = 0;
    out->count = 0;
    size_t bytes = IM_MSG_RECORDS_HEADER;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *key = keys + i * IM_MSG_HAVE_KEY;
        size_t len = 0;
        uint8_t *at = self->buf + IM_MSG_MAX - (bytes - IM_MSG_RECORDS_HEADER) - IM_RECORD_MAX;
        if (bytes + IM_MSG_ENTRY_OVERHEAD + IM_RECORD_MAX > IM_MSG_MAX)
            break;
        if (im_store_get_raw (self->store, key, key + IM_NODE_ID_SIZE, at, IM_RECORD_MAX,
                              &len) != 0
            || im_record_decode_stored (at, len, &self->recs[0]) != 0)
            continue;
        /* Only records that travel without a limit are sent as notes, so
         * only those are fetched. */
        im_store_change_t c = { .rec = &self->recs[0], .hops = 0 };
        if (im_store_held (self->store, key, key + IM_NODE_ID_SIZE, &c.hops, c.from) != 0
            && errno != ENOENT)
            continue;
        if (self->recs[0].reach != IM_REACH_UNLIMITED || !shareable (self, &c, p, NULL, 0))
            continue;
        /* Move the bytes to sit right under what is staged already. */
        uint8_t *dst = self->buf + IM_MSG_MAX - (bytes - IM_MSG_RECORDS_HEADER) - len;
        memmove (dst, at, len);
        im_msg_entry_t *e = &out->entries[out->count++];
        e->hops = c.hops;
        e->record = dst;
        uint8_t skey[IM_MSG_HAVE_KEY];
        record_key (&self->recs[0], skey);
        memcpy (self->sentkeys + self->nsent++ * IM_MSG_HAVE_KEY, skey, IM_MSG_HAVE_KEY);
        e->len = len;
        bytes += IM_MSG_ENTRY_OVERHEAD + len;
    }
    free (keys);
    /* Through OUT: the records are staged at the top of BUF. */
    if (send_in (sock, route, out, self->out) == 0) {
        p->sent += out->count;
        note_sent (self, p);
    }
    self->nsent = 0;
}

/* --- Messages ---------------------------------------------------------- */

/* ROTATE: the peer made a new CURVE key. The statement must be signed by
 * the peer's node id and move from the key we know to a new one; the new
 * card is written down (by the node) and the old key still works until the
 * statement says. Answered with ROTATED once written down. */
static void
handle_rotate (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
               const im_msg_t *msg)
{
    im_rotation_t r;
    char why[256] = "";
    int64_t now = im_time_now ();
    if (im_rotation_verify (msg->rotation, IM_ROTATION_SIZE, &r, why, sizeof why) == 0
        && memcmp (r.node, p->card.node, IM_NODE_ID_SIZE) != 0)
        snprintf (why, sizeof why, "signed by another node");
    else if (*why == 0 && r.until <= now)
        snprintf (why, sizeof why, "its grace period is already over");
    else if (*why == 0 && sodium_memcmp (r.new_curve, p->card.curve, 32) != 0
             && sodium_memcmp (r.old_curve, p->card.curve, 32) != 0)
        snprintf (why, sizeof why, "it moves from a key we do not know it by");
    if (*why) {
        p->refused[REFUSE_PROTOCOL]++;
        zsys_warning ("mesh: key rotation from %s refused: %s", p->card.name, why);
        return;
    }
    if (sodium_memcmp (r.new_curve, p->card.curve, 32) != 0) {
        /* Written down first: a crash after this still knows the new key. */
        if (!self->on_rotate
            || self->on_rotate (p->card.name, &r, self->rotate_arg, why, sizeof why)) {
            zsys_error ("mesh: cannot write down the new key of %s: %s", p->card.name,
                        self->on_rotate ? why : "no configuration to write to");
            return;
        }
        memcpy (p->prev_curve, r.old_curve, 32);
        zmq_z85_encode (p->prev_z85, p->prev_curve, 32);
        p->prev_until = r.until;
        memcpy (p->card.curve, r.new_curve, 32);
        zmq_z85_encode (p->card.curve_z85, p->card.curve, 32);
        /* Its ROUTER serves the new key once every peer knows it, most
         * often as soon as our answer arrives: our dealer dials with the new
         * key just after it (and, while the grace period lasts, with each
         * key in turn if one goes unanswered). */
        if (p->dealer) {
            p->dial_prev = 0;
            p->redial_at = zclock_mono () + 300;
        }
        char until[IM_TIME_STR_SIZE];
        zsys_info ("mesh: %s rotated its CURVE key; its previous key works until %s",
                   p->card.name, im_time_format (r.until, until));
    }
    im_msg_t ack = { .id = IM_MSG_ROTATED };
    memcpy (ack.curve, r.new_curve, 32);
    send_msg (self, sock, route, &ack);
}

static void
handle_message (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                zframe_t *body)
{
    im_msg_t *msg = self->msg;
    char why[256];
    if (im_msg_decode (zframe_data (body), zframe_size (body), msg, why, sizeof why)) {
        p->refused[REFUSE_PROTOCOL]++;
        zsys_warning ("mesh: malformed message from %s: %s", p->card.name, why);
        return;
    }
    if (route && (msg->id == IM_MSG_PING || msg->id == IM_MSG_PONG) && p->session
        && msg->session != p->session && p->inbound && !zframe_eq (route, p->inbound))
        return; /* left over from a connection of its previous run */
    p->last_heard = zclock_mono ();
    p->last_contact = im_time_now ();
    int relinked = 0;
    if (route && msg->id != IM_MSG_HELLO && (!p->inbound || !zframe_eq (p->inbound, route))) {
        /* Its dealer reconnected (or our socket was bound again): the newest
         * link, authenticated by the ZAP handler, is the one to use. */
        zframe_destroy (&p->inbound);
        p->inbound = zframe_dup (route);
        if (!*p->endpoint && msg->id != IM_MSG_RECORDS)
            p->pulling = 0; /* our pull went with the old connection */
        if (p->parked_relink) {
            /* Its pull waited while it had no link: answer it if anything
             * came in meanwhile, else go on waiting on the new link. */
            p->parked_sock = sock;
            p->parked_route = zframe_dup (route);
            p->parked_relink = 0;
            relinked = 1; /* answered below, once this message is handled */
        }
    }
    switch (msg->id) {
    case IM_MSG_HELLO: {
        if (msg->version != IM_MSG_VERSION
            || memcmp (msg->node, p->card.node, IM_NODE_ID_SIZE) != 0) {
            p->refused[REFUSE_PROTOCOL]++;
            zsys_warning ("mesh: HELLO from %s refused: %s", p->card.name,
                          msg->version != IM_MSG_VERSION ? "unknown protocol version"
                                                         : "node id is not its card's");
            return;
        }
        if (p->session != msg->session) {
            if (p->session)
                zsys_info ("mesh: %s restarted", p->card.name);
            peer_new_session (p, msg->session);
        }
        self->lazy_dirty = 1; /* a new link: tell it again what to send */
        if (route && p->dealer && !p->dealer_ready && p->hellos > 1
            && zclock_mono () - p->dialed_at > 2 * HELLO_RETRY_MS)
            /* It trusts us now, but our dealer may be one that libzmq gave
             * up on when it did not yet: dial again at once. */
            peer_redial (self, p);
        if (route) {
            /* Its link to our ROUTER: remember it and answer. */
            zframe_destroy (&p->inbound);
            p->inbound = zframe_dup (route);
            if (p->parked_relink) {
                p->parked_sock = sock;
                p->parked_route = zframe_dup (route);
                p->parked_relink = 0;
                relinked = 1;
            }
            fill_hello (self, msg);
            send_msg (self, sock, route, msg);
            zsys_info ("mesh: %s connected", p->card.name);
        }
        else {
            p->dealer_ready = 1;
            p->hellos = 0;
            p->dealer_heard = zclock_mono ();
            zsys_info ("mesh: connected to %s", p->card.name);
        }
        /* A new link: any earlier pull is gone with the old one. */
        if ((route && !*p->endpoint) || (!route && *p->endpoint))
            p->pulling = 0;
        send_pull (self, p);
        break;
    }
    case IM_MSG_PULL:
        handle_pull (self, p, sock, route, msg);
        break;
    case IM_MSG_ROTATE:
        handle_rotate (self, p, sock, route, msg);
        break;
    case IM_MSG_ROTATED: {
        uint8_t ours[32];
        zmq_z85_decode (ours, im_identity_curve_public (self->identity));
        if (!rotating (self) || sodium_memcmp (msg->curve, ours, 32) != 0) {
            p->refused[REFUSE_PROTOCOL]++; /* not our key, or no rotation */
            break;
        }
        if (!p->rotate_acked) {
            p->rotate_acked = 1;
            zsys_info ("mesh: %s knows our new CURVE key", p->card.name);
            if (p->dealer)
                p->redial_at = zclock_mono (); /* with our new key, after this */
        }
        break;
    }
    case IM_MSG_HAVE:
        /* It holds these: never send them to it; and what we lack of them
         * is noted, durably, to be fetched if no one brings it. */
        for (size_t i = 0; i < msg->count; i++)
            holds_add (p, msg->have + i * IM_MSG_HAVE_KEY);
        if (p->npending + msg->count > PENDING_MAX) {
            /* Written now rather than with the next batch from it. */
            if (im_store_want (self->store, p->pending, p->npending, p->card.node,
                               zclock_mono ()) < 0)
                zsys_error ("mesh: cannot note what %s holds: %s", p->card.name,
                            strerror (errno));
            p->npending = 0;
        }
        memcpy (p->pending + p->npending * IM_MSG_HAVE_KEY, msg->have,
                msg->count * IM_MSG_HAVE_KEY);
        p->npending += msg->count;
        break;
    case IM_MSG_LAZY:
        memcpy (p->lazy, msg->have, msg->count * IM_NODE_ID_SIZE);
        p->nlazy = msg->count;
        qsort (p->lazy, p->nlazy, IM_NODE_ID_SIZE, cmp_node_id);
        break;
    case IM_MSG_FETCH:
        handle_fetch (self, p, sock, route, msg);
        break;
    case IM_MSG_FOUND:
        if (!p->fetch_at || zclock_mono () - p->fetch_at > 30000) {
            p->refused[REFUSE_PROTOCOL]++; /* nothing was asked */
            break;
        }
        handle_records (self, p, msg);
        break;
    case IM_MSG_RECORDS:
        if (!p->pulling) {
            /* Only an answer to our pull is taken. */
            p->refused[REFUSE_PROTOCOL]++;
            break;
        }
        handle_records (self, p, msg);
        break;
    case IM_MSG_PING:
    case IM_MSG_PONG:
        if (p->session && msg->session != p->session) {
            /* It restarted behind a link that stayed up: start again. */
            zsys_info ("mesh: %s restarted", p->card.name);
            peer_new_session (p, 0);
            p->dealer_ready = 0;
            p->next_hello = 0;
            peer_drop_parked (p);
        }
        p->their_seq = msg->cursor;
        if (msg->id == IM_MSG_PING) {
            msg->id = IM_MSG_PONG;
            msg->session = self->session;
            msg->cursor = last_seq (self);
            send_msg (self, sock, route, msg);
        }
        break;
    default:
        break;
    }
    if (relinked && p->parked
        && serve (self, p, p->parked_sock, p->parked_route, p->parked_cursor,
                  p->parked_credit, 0))
        peer_drop_parked (p);
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
    peer_t *p = user && strlen (user) == 64
                        && sodium_hex2bin (key, sizeof key, user, 64, NULL, &binlen, NULL) == 0
                        && binlen == 32
                    ? peer_by_curve (self, key)
                    : NULL;
    if (!p)
        self->removed_refused++; /* a peer removed since its handshake */
    else if (zmsg_size (m) != 2)
        p->refused[REFUSE_PROTOCOL]++;
    else
        handle_message (self, p, self->router, route, body);
    zmsg_destroy (&m);
}

int
im_mesh_handle (im_mesh_t *self, void *socket)
{
    if (socket == self->zap) {
        handle_zap (self);
        return 1;
    }
    if (socket == self->router) {
        handle_router (self);
        return 1;
    }
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (p->dealer && socket == p->dealer) {
            zmsg_t *m = zmsg_recv (p->dealer);
            p->dealer_heard = zclock_mono ();
            if (m && zmsg_size (m) == 1)
                handle_message (self, p, p->dealer, NULL, zmsg_first (m));
            else if (m)
                p->refused[REFUSE_PROTOCOL]++;
            zmsg_destroy (&m);
            return 1;
        }
    return 0;
}

/* Gathers the wanted keys due for a fetch, by the peer that noted them. */
typedef struct {
    im_mesh_t *self;
    int64_t now;
    size_t given_up;
} want_walk_t;

static int
want_fn (const uint8_t *key, const uint8_t *node, int64_t noted, void *arg)
{
    want_walk_t *w = arg;
    im_mesh_t *self = w->self;
    if (w->now - noted > 60000) {
        /* No peer brought it in a minute: it is no longer held anywhere we
         * can reach, or may not come here. */
        im_store_unwant (self->store, key);
        w->given_up++;
        return 0;
    }
    /* First the peer that noted it; when that one has not brought it
     * (it may not send it to us, or we may not take it from it), each round
     * asks the next connected peer that said it holds it. */
    peer_t *holders[IM_PEERS_MAX + 1];
    size_t n = 0;
    for (peer_t *p = zlistx_first (self->peers); p && n < IM_PEERS_MAX;
         p = zlistx_next (self->peers))
        if (memcmp (p->card.node, node, IM_NODE_ID_SIZE) == 0)
            holders[n++] = p;
    for (peer_t *p = zlistx_first (self->peers); p && n < IM_PEERS_MAX;
         p = zlistx_next (self->peers))
        if (memcmp (p->card.node, node, IM_NODE_ID_SIZE) != 0 && peer_connected (p)
            && holds_has (p, key))
            holders[n++] = p;
    if (n == 0)
        return 0;
    int64_t late = w->now - noted - WANT_GRACE_MS;
    peer_t *p = holders[late > 0 ? (size_t) (late / FETCH_EVERY_MS) % n : 0];
    if (p->nwant < IM_MSG_CREDIT_MAX)
        memcpy (p->want + p->nwant++ * IM_MSG_HAVE_KEY, key, IM_MSG_HAVE_KEY);
    return 0;
}

/* Tells each connected peer which origins it need not send us in full. */
static void
send_lazy (im_mesh_t *self)
{
    /* An eager peer that is down (or gone) is eager no more. */
    const char *name;
    zlistx_t *drop = zlistx_new ();
    for (name = zhashx_first (self->eager); name; name = zhashx_next (self->eager)) {
        peer_t *e = peer_by_name (self, name);
        if (!e || !peer_connected (e))
            zlistx_add_end (drop, (void *) zhashx_cursor (self->eager));
    }
    for (const char *k = zlistx_first (drop); k; k = zlistx_next (drop))
        zhashx_delete (self->eager, k);
    zlistx_destroy (&drop);
    uint8_t *ids = self->keys; /* room for IM_MSG_CREDIT_MAX node ids */
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        zsock_t *sock;
        zframe_t *route;
        if (!peer_connected (p) || pull_link (p, self->router, &sock, &route))
            continue;
        size_t n = 0;
        for (name = zhashx_first (self->eager); name && n < IM_MSG_CREDIT_MAX;
             name = zhashx_next (self->eager)) {
            const char *origin = zhashx_cursor (self->eager);
            size_t binlen = 0;
            if (strcmp (name, p->card.name) != 0
                && sodium_hex2bin (ids + n * IM_NODE_ID_SIZE, IM_NODE_ID_SIZE, origin,
                                   strlen (origin), NULL, &binlen, NULL) == 0
                && binlen == IM_NODE_ID_SIZE)
                n++;
        }
        im_msg_t lazy = { .id = IM_MSG_LAZY, .count = n, .have = n ? ids : NULL };
        send_msg (self, sock, route, &lazy);
    }
}

/* In our rotation's grace period: every peer that does not know our new key
 * is told (ROTATE, every ROTATE_EVERY_MS while it is connected); once all
 * know it, the ROUTER serves the new key only. */
static void
rotate_tick (im_mesh_t *self, int64_t now)
{
    /* A peer's previous key whose grace period is over: every connection
     * made with it is cut (the ROUTER is bound again), and no handshake
     * with it passes the ZAP handler any more. */
    int64_t wall = im_time_now ();
    int cut = 0;
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (p->prev_until && p->prev_until <= wall) {
            p->prev_until = 0;
            p->dial_prev = 0;
            cut = 1;
            zsys_info ("mesh: the previous CURVE key of %s is no longer accepted",
                       p->card.name);
        }
    if (cut && *self->bind) {
        char why[256];
        if (router_bind (self, why, sizeof why))
            zsys_error ("%s", why);
    }
    if (!rotating (self)) {
        if (self->router_prev)
            im_mesh_keys_changed (self);
        return;
    }
    int all = 1;
    im_msg_t rot = { .id = IM_MSG_ROTATE };
    int made = 0;
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        if (p->rotate_acked)
            continue;
        all = 0;
        zsock_t *sock;
        zframe_t *route;
        if (!p->session || now - p->rotate_at < ROTATE_EVERY_MS
            || pull_link (p, self->router, &sock, &route))
            continue;
        if (!made && im_identity_rotation (self->identity, rot.rotation) != 0)
            return;
        made = 1;
        if (send_msg (self, sock, route, &rot) == 0)
            p->rotate_at = now;
    }
    if (all && self->router_prev && *self->bind) {
        char why[256];
        self->router_prev = 0;
        if (router_bind (self, why, sizeof why) == 0)
            zsys_info ("mesh: every peer knows our new CURVE key: the peer socket "
                       "serves it alone");
        else
            zsys_error ("%s", why);
    }
}

void
im_mesh_keys_changed (im_mesh_t *self)
{
    char why[256];
    if (rotating (self)) {
        /* A new rotation: every peer is told. The ROUTER goes on serving
         * the key it has, now the previous one, until all know the new. */
        for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
            p->rotate_acked = 0;
            p->rotate_at = 0;
        }
        self->router_prev = zlistx_size (self->peers) > 0;
        if (!self->router_prev && *self->bind && router_bind (self, why, sizeof why))
            zsys_error ("%s", why);
        return;
    }
    /* The grace period is over: the new key alone. */
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (p->dealer && !p->rotate_acked)
            p->redial_at = zclock_mono ();
    if (self->router_prev) {
        self->router_prev = 0;
        if (*self->bind && router_bind (self, why, sizeof why))
            zsys_error ("%s", why);
        else
            zsys_info ("mesh: the grace period of our previous CURVE key is over");
    }
}

void
im_mesh_tick (im_mesh_t *self)
{
    int64_t now = zclock_mono ();
    im_msg_t *msg = self->msg;
    if (self->lazy_dirty && now - self->lazy_at >= LAZY_EVERY_MS) {
        self->lazy_dirty = 0;
        self->lazy_at = now;
        send_lazy (self);
    }
    if (now - self->want_at >= FETCH_EVERY_MS) {
        self->want_at = now;
        want_walk_t w = { self, now, 0 };
        for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
            p->nwant = 0;
        im_store_wanted (self->store, now - WANT_GRACE_MS, 4 * IM_MSG_CREDIT_MAX, want_fn,
                         &w);
        if (w.given_up)
            zsys_warning ("mesh: %zu record(s) noted by peers never arrived in a minute; "
                          "no longer asked for", w.given_up);
        for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
            zsock_t *sock;
            zframe_t *route;
            if (!p->nwant || !peer_connected (p)
                || pull_link (p, self->router, &sock, &route))
                continue;
            im_msg_t fetch = { .id = IM_MSG_FETCH, .count = p->nwant, .have = p->want };
            if (send_msg (self, sock, route, &fetch) == 0)
                p->fetch_at = now;
        }
    }
    if (self->relay_at && now >= self->relay_at) {
        self->relay_at = 0;
        im_mesh_changed (self);
    }
    char why[256];
    if (*self->bind && !self->router && now >= self->next_bind) {
        if (router_bind (self, why, sizeof why) == 0)
            zsys_info ("mesh: peer socket bound again on %s", self->bind);
        else
            zsys_error ("%s (trying again in 5 s)", why);
    }
    rotate_tick (self, now);
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        if (p->redial_at && now >= p->redial_at) {
            p->redial_at = 0;
            peer_redial (self, p);
        }
        if (*p->endpoint && !p->dealer && now >= p->next_hello) {
            /* The last dial failed (no socket could be made): try again. */
            peer_dial (self, p);
            p->next_hello = now + HELLO_RETRY_MS;
        }
        if (p->dealer && p->dealer_ready && now - p->dealer_heard > DOWN_MS) {
            /* Nothing on our dealer for a while, though we PING it every
             * second: the link is gone (the other side may have refused us
             * on reconnect). Say HELLO again, and dial anew if unanswered. */
            p->dealer_ready = 0;
            p->pulling = 0;
            p->next_hello = 0;
            p->hellos = 0;
        }
        if (p->dealer && !p->dealer_ready && now >= p->next_hello) {
            /* libzmq gives up on a connection whose handshake the other side
             * refused (we were not yet on its trust list): after a few
             * unanswered HELLOs, dial again with a new socket. */
            if (++p->hellos > HELLO_REDIAL) {
                peer_redial_unanswered (self, p);
                p->hellos = 1;
            }
            fill_hello (self, msg);
            if (p->dealer)
                send_msg (self, p->dealer, NULL, msg);
            /* With a little jitter: two nodes that dial each other must not
             * stay in step, each making its dealer anew as the other's
             * answer travels to the old one. */
            p->next_hello = now + HELLO_RETRY_MS + randombytes_uniform (HELLO_RETRY_MS / 2);
        }
        if (now - p->last_ping >= PING_MS) {
            msg->id = IM_MSG_PING;
            msg->session = self->session;
            msg->cursor = last_seq (self);
            if (p->dealer && p->dealer_ready)
                send_msg (self, p->dealer, NULL, msg);
            if (p->inbound)
                send_msg (self, self->router, p->inbound, msg);
            p->last_ping = now;
        }
        if (p->parked && !p->parked_relink && now - p->parked_at >= PARK_MAX_MS) {
            /* Long polls do not last for ever: an empty answer shows the
             * link is alive, and the puller asks again. */
            if (serve (self, p, p->parked_sock, p->parked_route, p->parked_cursor,
                       p->parked_credit, 1))
                peer_drop_parked (p);
        }
        if (p->pulling && now - p->pulled_at >= PULL_RESEND_MS)
            p->pulling = 0;
        if (!p->pulling)
            send_pull (self, p);
    }
}

/* --- Life cycle and reload --------------------------------------------- */

/* Closes and binds the ROUTER again: every inbound link is cut, and peers on
 * the trust list reconnect (and pass the ZAP handler again) on their own. */
static int
router_bind (im_mesh_t *self, char *err, size_t errsz)
{
    if (self->router) {
        zpoller_remove (self->poller, self->router);
        zsock_destroy (&self->router);
        for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
            zframe_destroy (&p->inbound);
            /* The peer still waits for the answer to its pull; it will come
             * on its next connection, which its dealer makes at once. */
            if (p->parked && p->parked_route) {
                zframe_destroy (&p->parked_route);
                p->parked_relink = 1;
            }
            if (!*p->endpoint)
                p->pulling = 0;
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
    zsock_set_sndhwm (self->router, 100); /* per connection: a peer that does
                                            not read cannot pile up answers */
    zsock_set_rcvhwm (self->router, 1000);
    zsock_set_heartbeat_ivl (self->router, PING_MS);
    zsock_set_heartbeat_timeout (self->router, DOWN_MS);
    /* The port may take a moment to be free again after a close. */
    for (int attempt = 0; attempt < 50; attempt++) {
        if (zsock_bind (self->router, "%s", self->bind) >= 0) {
            zpoller_add (self->poller, self->router);
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
             zpoller_t *poller, im_mesh_stored_fn *stored, void *arg, char *err,
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
    self->peers = zlistx_new ();
    self->msg = malloc (sizeof *self->msg);
    self->buf = malloc (IM_MSG_MAX);
    self->keys = malloc (IM_MSG_CREDIT_MAX * IM_MSG_HAVE_KEY);
    self->notes = malloc (IM_MSG_CREDIT_MAX * IM_MSG_HAVE_KEY);
    self->sentkeys = malloc (IM_MSG_CREDIT_MAX * IM_MSG_HAVE_KEY);
    self->eager = zhashx_new ();
    self->out = malloc (IM_MSG_MAX);
    self->recs = malloc (IM_MSG_CREDIT_MAX * sizeof *self->recs);
    self->items = malloc (IM_MSG_CREDIT_MAX * sizeof *self->items);
    self->results = malloc (IM_MSG_CREDIT_MAX * sizeof *self->results);
    if (!self->peers || !self->msg || !self->buf || !self->out || !self->keys
        || !self->notes || !self->sentkeys || !self->eager || !self->recs
        || !self->items
        || !self->results) {
        im_fail (ENOMEM, err, errsz, "out of memory");
        im_mesh_destroy (&self);
        return NULL;
    }
    zlistx_set_destructor (self->peers, peer_destroy);
    zhashx_set_destructor (self->eager, (zhashx_destructor_fn *) zstr_free);
    /* The ZAP handler comes first: a CURVE server without one lets any key
     * in. */
    self->zap = zsock_new (ZMQ_REP);
    if (!self->zap || zsock_bind (self->zap, ZAP_ENDPOINT) != 0) {
        im_fail (EADDRINUSE, err, errsz, "mesh: cannot start the ZAP handler");
        im_mesh_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->zap, 0);
    zpoller_add (poller, self->zap);
    for (size_t i = 0; i < config->npeers; i++) {
        peer_t *p = peer_new (self, config, &config->peers[i]);
        if (p)
            zlistx_add_end (self->peers, p);
    }
    /* Without a bind endpoint the node only dials out. */
    self->router_prev = rotating (self) && zlistx_size (self->peers) > 0;
    if (*self->bind && router_bind (self, err, errsz)) {
        im_mesh_destroy (&self);
        return NULL;
    }
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
        zpoller_remove (self->poller, self->router);
    if (self->zap)
        zpoller_remove (self->poller, self->zap);
    for (peer_t *p = self->peers ? zlistx_first (self->peers) : NULL; p;
         p = zlistx_next (self->peers))
        if (p->dealer)
            zpoller_remove (self->poller, p->dealer);
    zlistx_destroy (&self->peers);
    zsock_destroy (&self->router);
    zsock_destroy (&self->zap);
    free (self->msg);
    free (self->buf);
    free (self->out);
    free (self->keys);
    free (self->notes);
    free (self->sentkeys);
    zhashx_destroy (&self->eager);
    free (self->recs);
    free (self->items);
    free (self->results);
    free (self);
    *self_p = NULL;
    errno = saved;
}

int
im_mesh_reload (im_mesh_t *self, const im_config_t *config, char *err, size_t errsz)
{
    (void) err;
    (void) errsz;
    int cut = 0;
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
    uint64_t seq = last_seq (self);
    for (p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        const im_peer_conf_t *conf = NULL;
        for (size_t i = 0; i < config->npeers && !conf; i++)
            if (strcmp (config->peers[i].card.name, p->card.name) == 0)
                conf = &config->peers[i];
        if (!conf)
            continue;
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
            p->rescan = 1;
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
            p->cursor = 0;
            if (p->pulling)
                p->stale_pull = 1;
            if (im_store_set_cursor (self->store, p->card.node, 0) != 0)
                zsys_error ("mesh: cannot move the cursor of %s back: %s", p->card.name,
                            strerror (errno));
            zsys_info ("mesh: inbound rules for %s changed: reading it again from the "
                       "start", p->card.name);
        }
    }
    /* Added peers come. */
    for (size_t i = 0; i < config->npeers; i++)
        if (!peer_by_name (self, config->peers[i].card.name)) {
            p = peer_new (self, config, &config->peers[i]);
            if (p && rotating (self))
                /* Added during our rotation: it was given our card as it
                 * is now, with the new key. */
                p->rotate_acked = 1;
            if (p) {
                zlistx_add_end (self->peers, p);
                zsys_info ("mesh: %s is a peer", p->card.name);
            }
        }
    /* A removed peer's open connection to us is cut at once. */
    if (cut && *self->bind && router_bind (self, err, errsz))
        return -1;
    im_mesh_changed (self); /* waiting pulls see the new rules */
    return 0;
}

/* --- Explain and the sent log ------------------------------------------ */

static peer_t *
peer_by_node (im_mesh_t *self, const uint8_t *node)
{
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (memcmp (p->card.node, node, IM_NODE_ID_SIZE) == 0)
            return p;
    return NULL;
}

json_t *
im_mesh_explain (im_mesh_t *self, const uint8_t *origin, const uint8_t *id,
                 const char *peer, char *err, size_t errsz)
{
    peer_t *p = peer_by_name (self, peer);
    if (!p) {
        im_fail (ENOENT, err, errsz, "no peer named %s on the trust list", peer);
        return NULL;
    }
    im_record_t *rec = malloc (sizeof *rec);
    if (!rec) {
        im_fail (ENOMEM, err, errsz, "out of memory");
        return NULL;
    }
    if (im_store_get (self->store, origin, id, rec) != 0) {
        im_fail (ENOENT, err, errsz, "no indicator with that id is held here");
        free (rec);
        return NULL;
    }
    im_store_change_t c = { .rec = rec, .hops = 0 };
    if (im_store_held (self->store, origin, id, &c.hops, c.from) != 0
        && memcmp (origin, im_identity_node (self->identity), IM_NODE_ID_SIZE) != 0)
        c.hops = 1; /* from a peer, before hops were kept: at least one link */
    char why[512];
    int yes = shareable (self, &c, p, why, sizeof why);
    uint64_t sent = 0;
    int64_t when = 0;
    im_store_sent_version (self->store, p->card.node, origin, id, &sent, &when);
    char node[IM_NODE_HEX_SIZE], idtext[IM_ID_STR_SIZE], from[IM_NODE_HEX_SIZE];
    im_node_format (origin, node);
    im_id_format (id, idtext);
    im_node_format (c.from, from);
    peer_t *src = peer_by_node (self, c.from);
    json_t *o = json_pack ("{s:s, s:s, s:s, s:I, s:s, s:s, s:b, s:s, s:i, s:s}", "id", idtext,
                           "origin", node, "peer", p->card.name, "version",
                           (json_int_t) rec->version, "tlp", im_tlp_name (rec->tlp),
                           "policy", p->policy.name, "shared", yes, "why", why, "hops",
                           c.hops, "from",
                           c.hops == 0 ? "" : src ? src->card.name : from);
    free (rec);
    if (o && sent) {
        char t[IM_TIME_STR_SIZE];
        json_object_set_new (o, "sent", json_pack ("{s:I, s:s}", "version",
                                                   (json_int_t) sent, "time",
                                                   im_time_format (when / 1000, t)));
    }
    else if (o)
        json_object_set_new (o, "sent", json_null ());
    if (!o)
        im_fail (ENOMEM, err, errsz, "out of memory");
    return o;
}

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
            json_object_set_new (o, refuse_names[r], json_integer ((json_int_t) refused[r]));
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
            "{s:s, s:s, s:s, s:b, s:o, s:I, s:I, s:I, s:I, s:I, s:o}", "name", p->card.name,
            "node", node, "endpoint", p->endpoint, "connected", peer_connected (p),
            "last_contact",
            p->last_contact ? json_string (im_time_format (p->last_contact, when))
                            : json_null (),
            "lag_in", (json_int_t) (p->their_seq > p->cursor ? p->their_seq - p->cursor : 0),
            "lag_out", (json_int_t) (st.last_seq > p->acked ? st.last_seq - p->acked : 0),
            "sent", (json_int_t) p->sent, "received", (json_int_t) p->received, "known",
            (json_int_t) p->known, "refused", refusals_of (p->refused));
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
        json_object_set_new (o, "handshake", json_integer ((json_int_t) self->handshakes_refused));
    if (self->removed_refused)
        json_object_set_new (o, "removed peers",
                             json_integer ((json_int_t) self->removed_refused));
    return o;
}

void
im_mesh_set_rotate_fn (im_mesh_t *self, im_mesh_rotate_fn *fn, void *arg)
{
    self->on_rotate = fn;
    self->rotate_arg = arg;
}
