/* SPDX-License-Identifier: MPL-2.0 */
/* im_link.c -- the options of a peer link's socket, and why a link is down:
 * a socket monitor on each dealer tells "connection refused", "no answer"
 * and "handshake refused by them"; the keys our ZAP handler refused are
 * remembered (a few), logged (rate-limited), and tell "their key is not on
 * our list". */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_mesh_int.h"

#define LINK_EVENTS_PER_TICK 64 /* monitor events read per peer and tick */
/* ... at most this often: each look costs system calls (a getpid and a poll
 * inside libzmq), and the node ticks on every turn of its loop. */
#define LINK_READ_MS 50
#define WE_REFUSE_WINDOW 60 /* a refusal from a peer's host counts this long (s) */

#define KEEPALIVE_IDLE_S 30 /* a silent connection is probed after this */
#define KEEPALIVE_INTVL_S 5 /* then every this */
#define KEEPALIVE_CNT 4     /* and closed after this many probes unanswered */
#define TCP_MAXRT_MS                                                                     \
    20000 /* a connection whose data goes unacknowledged this                            \
             long is closed (TCP_USER_TIMEOUT) */

void
link_options (zsock_t *sock)
{
    zsock_set_heartbeat_ivl (sock, 0);
    zsock_set_tcp_keepalive (sock, 1);
    zsock_set_tcp_keepalive_idle (sock, KEEPALIVE_IDLE_S);
    zsock_set_tcp_keepalive_intvl (sock, KEEPALIVE_INTVL_S);
    zsock_set_tcp_keepalive_cnt (sock, KEEPALIVE_CNT);
    zsock_set_tcp_maxrt (sock, TCP_MAXRT_MS);
}

static const char *const cause_names[LINK_CAUSE_COUNT] = {
    "",
    "connection refused",
    "no answer",
    "handshake refused by them (our key is not on their list)",
    "their key is not on our list",
    "connection lost",
};

/* --- The dealer's monitor ------------------------------------------------ */

void
link_monitor_start (peer_t *p)
{
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://im-link-%p", (void *)p->dealer);
    int events = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_CLOSED
                 | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                 | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                 | ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
    if (zmq_socket_monitor (zsock_resolve (p->dealer), ep, events) != 0)
        return; /* no diagnosis; the link works without it */
    p->monitor = zsock_new (ZMQ_PAIR);
    if (p->monitor) {
        zsock_set_rcvhwm (p->monitor, 1000);
        zsock_set_linger (p->monitor, 0);
    }
    if (!p->monitor || zsock_connect (p->monitor, "%s", ep) != 0) {
        zsock_destroy (&p->monitor);
        zmq_socket_monitor (zsock_resolve (p->dealer), NULL, 0);
    }
    p->tcp_at = 0;
    p->tcp_since_retry = 0;
}

void
link_monitor_stop (peer_t *p)
{
    if (p->dealer && p->monitor)
        zmq_socket_monitor (zsock_resolve (p->dealer), NULL, 0);
    zsock_destroy (&p->monitor);
    p->tcp_at = 0;
}

static void
set_cause (peer_t *p, int cause)
{
    p->cause = cause;
    p->cause_at = im_time_now ();
}

/* One event of P's dealer: EVENT, with VALUE (an interval, a status). */
static void
link_event (peer_t *p, uint16_t event, uint32_t value, int64_t now)
{
    switch (event) {
    case ZMQ_EVENT_CONNECTED:
        p->tcp_at = now;
        p->tcp_since_retry = 1;
        break;
    case ZMQ_EVENT_CONNECT_RETRIED:
        /* No TCP connection since the last try: nothing listens there. */
        if (!p->tcp_since_retry)
            set_cause (p, LINK_CAUSE_TCP_REFUSED);
        p->tcp_since_retry = 0;
        p->retry_at = now + value;
        break;
    case ZMQ_EVENT_DISCONNECTED:
        if (p->tcp_at) {
            set_cause (p, LINK_CAUSE_NO_ANSWER); /* closed during the handshake */
            p->cut = 1;
        }
        else if (p->cause == LINK_CAUSE_NONE)
            set_cause (p, LINK_CAUSE_LOST); /* a working connection */
        p->tcp_at = 0;
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        set_cause (p, LINK_CAUSE_THEY_REFUSE);
        p->tcp_at = 0;
        (void)value; /* the ZAP status: 400 from an intelmesh node */
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        /* Before LINK_NO_ANSWER_MS: they closed it; after, it hung (and
         * libzmq's handshake timer ended it). */
        if (p->tcp_at || p->cause != LINK_CAUSE_NO_ANSWER)
            p->cut = p->tcp_at != 0;
        set_cause (p, LINK_CAUSE_NO_ANSWER);
        p->tcp_at = 0;
        break;
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        p->cause = LINK_CAUSE_NONE; /* a closing is a loss from now on */
        p->tcp_at = 0;
        p->retry_at = 0;
        /* HELLO at once: one said before the connection was up was not
         * queued (ZMQ_IMMEDIATE), and the next would come a second later. */
        p->next_hello = 0;
        break;
    default: break;
    }
}

void
link_tick (im_mesh_t *self, peer_t *p, int64_t now)
{
    (void)self;
    if (!p->monitor)
        return;
    void *handle = zsock_resolve (p->monitor);
    int due = now - p->monitor_read_at >= LINK_READ_MS;
    if (due)
        p->monitor_read_at = now;
    for (int i = 0; due && i < LINK_EVENTS_PER_TICK; i++) {
        uint8_t head[6];
        char endpoint[256];
        int more = 0;
        size_t moresz = sizeof more;
        int n = zmq_recv (handle, head, sizeof head, ZMQ_DONTWAIT);
        if (n < 0)
            break;
        /* The second frame, the endpoint, is not needed. */
        while (zmq_getsockopt (handle, ZMQ_RCVMORE, &more, &moresz) == 0 && more)
            zmq_recv (handle, endpoint, sizeof endpoint, 0);
        if (n != 6)
            continue;
        uint16_t event;
        uint32_t value;
        memcpy (&event, head, 2);
        memcpy (&value, head + 2, 4);
        link_event (p, event, value, now);
    }
    if (p->tcp_at && now - p->tcp_at >= LINK_NO_ANSWER_MS) {
        set_cause (p, LINK_CAUSE_NO_ANSWER); /* TCP up, the handshake hangs */
        p->cut = 0;
        p->tcp_at = 0;
    }
}

/* --- What PEERS shows ---------------------------------------------------- */

/* The host of a tcp://HOST:PORT endpoint, as the ZAP handler gives an
 * address ("[" and "]" of IPv6 taken off). */
static void
endpoint_host (const char *endpoint, char *host, size_t hostsz)
{
    const char *h = strncmp (endpoint, "tcp://", 6) == 0 ? endpoint + 6 : endpoint;
    const char *colon = strrchr (h, ':');
    size_t len = colon ? (size_t)(colon - h) : strlen (h);
    if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
        h++;
        len -= 2;
    }
    snprintf (host, hostsz, "%.*s", (int)len, h);
}

/* The key our ZAP handler refused that is P's, or NULL. Two ways, the
 * first exact, the second by address:
 * - a key P had before a rotation (it dials with an old key);
 * - a key refused lately from P's host while our handshakes with P are cut
 *   by the other side (a CURVE server closes on a HELLO made for a key it no
 *   longer has): P made a new key we were not told of. A peer at the same
 *   address whose handshakes hang, or fail otherwise, is not taken for it;
 *   two peers at one address that both changed keys are not told apart. */
static const zap_refused_t *
refused_from (im_mesh_t *self, const peer_t *p)
{
    static const uint8_t zero[32];
    char host[IM_ENDPOINT_MAX];
    for (size_t i = 0; i < self->nzap_refused; i++) {
        const zap_refused_t *r = &self->zap_refused[i];
        if (memcmp (p->prev_curve, zero, 32) != 0
            && sodium_memcmp (r->key, p->prev_curve, 32) == 0)
            return r;
    }
    if (!*p->endpoint || p->cause != LINK_CAUSE_NO_ANSWER || !p->cut)
        return NULL;
    endpoint_host (p->endpoint, host, sizeof host);
    for (size_t i = 0; i < self->nzap_refused; i++) {
        const zap_refused_t *r = &self->zap_refused[i];
        if (strcmp (r->address, host) == 0
            && im_time_now () - r->last <= WE_REFUSE_WINDOW)
            return r;
    }
    return NULL;
}

void
link_json (im_mesh_t *self, peer_t *p, json_t *o)
{
    if (peer_connected (p))
        return;
    int cause = p->cause;
    int64_t at = p->cause_at;
    const zap_refused_t *r = refused_from (self, p);
    if (r) {
        cause = LINK_CAUSE_WE_REFUSE;
        at = r->last;
    }
    char when[IM_TIME_STR_SIZE], hex[65];
    json_object_set_new (o, "down_cause",
                         cause ? json_string (cause_names[cause]) : json_null ());
    json_object_set_new (o, "down_since",
                         cause ? json_string (im_time_format (at, when)) : json_null ());
    if (r) {
        sodium_bin2hex (hex, sizeof hex, r->key, 32);
        json_object_set_new (o, "refused_key", json_string (hex));
    }
    /* The next try: libzmq's reconnect, or our next dial (after
     * HELLO_REDIAL unanswered HELLOs) when libzmq gave up. */
    int64_t now = zclock_mono (), next = 0;
    if (!*p->endpoint)
        next = 0;
    else if (p->cause == LINK_CAUSE_THEY_REFUSE || !p->dealer)
        next = p->next_hello + (int64_t)(HELLO_REDIAL - p->hellos) * HELLO_RETRY_MS;
    else if (p->retry_at)
        next = p->retry_at;
    if (next && next < now)
        next = now;
    json_object_set_new (o, "next_try",
                         next ? json_string (im_time_format (
                             im_time_now () + (next - now + 999) / 1000, when))
                              : json_null ());
}

/* --- Keys our ZAP handler refused ---------------------------------------- */

void
mesh_zap_refused (im_mesh_t *self, const uint8_t *key, const char *address)
{
    int64_t now = zclock_mono ();
    size_t i = 0;
    while (i < self->nzap_refused
           && (memcmp (self->zap_refused[i].key, key, 32) != 0
               || strcmp (self->zap_refused[i].address, address) != 0))
        i++;
    zap_refused_t r = { 0 };
    if (i < self->nzap_refused)
        r = self->zap_refused[i];
    else {
        i = self->nzap_refused < ZAP_REFUSED_MAX ? self->nzap_refused++
                                                 : ZAP_REFUSED_MAX - 1; /* the oldest */
        memcpy (r.key, key, 32);
        snprintf (r.address, sizeof r.address, "%s", address);
        r.first = im_time_now ();
    }
    r.count++;
    r.last = im_time_now ();
    /* Newest first. */
    memmove (&self->zap_refused[1], &self->zap_refused[0], i * sizeof r);
    /* Logged once a minute a key, and ZAP_LOG_PER_MIN a minute in all. */
    if (now - self->zap_log_at >= 60000) {
        if (self->zap_unlogged)
            zsys_warning ("mesh: %llu more handshakes refused in the last minute "
                          "(not logged one by one)",
                          (unsigned long long)self->zap_unlogged);
        self->zap_log_at = now;
        self->zap_logged = self->zap_unlogged = 0;
    }
    if ((!r.logged || now - r.logged >= 60000) && self->zap_logged < ZAP_LOG_PER_MIN) {
        char hex[65], z85[41];
        sodium_bin2hex (hex, sizeof hex, key, 32);
        zmq_z85_encode (z85, key, 32);
        zsys_warning ("mesh: handshake from %s refused: CURVE key %s (Z85 %s) is not "
                      "on the trust list (%llu so far)",
                      address, hex, z85, (unsigned long long)r.count);
        r.logged = now;
        self->zap_logged++;
    }
    else
        self->zap_unlogged++;
    self->zap_refused[0] = r;
}

void
im_mesh_signatures (im_mesh_t *self, uint64_t *verified, uint64_t *cached,
                    uint64_t *failed)
{
    if (failed)
        *failed = self ? self->sig_failed : 0;
    im_batch_cache_stats (self ? self->roots : NULL, verified, cached);
    if (self && verified)
        *verified += self->verified;
    if (self && cached)
        *cached += self->cached;
}

void
im_mesh_set_accept_fn (im_mesh_t *self, im_mesh_accept_fn *fn, void *arg)
{
    if (self) {
        self->accept = fn;
        self->accept_arg = arg;
    }
}

void
im_mesh_sealed (im_mesh_t *self, uint64_t *opened, uint64_t *unreadable)
{
    *opened = self ? self->sealed_opened : 0;
    *unreadable = self ? self->sealed_unreadable + self->sealed_refused : 0;
}

json_t *
im_mesh_refused_keys (im_mesh_t *self)
{
    json_t *list = json_array ();
    for (size_t i = 0; list && i < self->nzap_refused; i++) {
        const zap_refused_t *r = &self->zap_refused[i];
        char hex[65], first[IM_TIME_STR_SIZE], last[IM_TIME_STR_SIZE];
        sodium_bin2hex (hex, sizeof hex, r->key, 32);
        json_array_append_new (list, json_pack ("{s:s, s:s, s:I, s:s, s:s}", "key", hex,
                                                "address", r->address, "count",
                                                (json_int_t)r->count, "first",
                                                im_time_format (r->first, first), "last",
                                                im_time_format (r->last, last)));
    }
    return list;
}
