/* SPDX-License-Identifier: MPL-2.0 */
/* test_link.c -- unit tests for node/im_link.c's link_options: a socket
 * given the peer link's options survives a peer that floods it past its
 * high-water mark and closes the connection while it is not read (libzmq
 * 4.3.4 aborts the process there when ZMTP heartbeats are on). */

#include <errno.h>
#include <string.h>

#include <czmq.h>

#include "im_mesh_int.h"
#include "tap.h"

#define FLOOD 20000
#define FRAME 4096

static void
test_flood_then_close (void)
{
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    ok (router != NULL, "a ROUTER is made");
    link_options (router);
    zsock_set_rcvhwm (router, 10);
    ok (zsock_heartbeat_ivl (router) == 0, "a link's socket has no ZMTP heartbeat");
    ok (zsock_tcp_keepalive (router) == 1, "and TCP keepalive instead");
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    ok (port > 0, "the ROUTER is bound to a free port of 127.0.0.1 (%d)", port);

    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    link_options (dealer);
    zsock_set_sndhwm (dealer, FLOOD);
    zsock_set_linger (dealer, 0);
    zsock_set_sndtimeo (dealer, 2000);
    ok (zsock_connect (dealer, "tcp://127.0.0.1:%d", port) == 0, "a dealer connects");
    static char frame[FRAME];
    ok (zmq_send (zsock_resolve (dealer), frame, sizeof frame, 0) == FRAME,
        "the dealer sends one message");
    zsock_set_rcvtimeo (router, 5000);
    zmsg_t *msg = zmsg_recv (router);
    ok (msg != NULL, "the ROUTER reads it: the link is up");
    zmsg_destroy (&msg);

    /* Past the high-water mark: libzmq stops reading the connection. */
    int sent = 0;
    while (sent < FLOOD
           && zmq_send (zsock_resolve (dealer), frame, sizeof frame, ZMQ_DONTWAIT)
                  == FRAME)
        sent++;
    diag ("the dealer queued %d messages of %d bytes", sent, FRAME);
    ok (sent > 100, "the dealer floods the ROUTER, which reads nothing");
    zclock_sleep (1500);
    /* The connection closes while the ROUTER's input is stopped; a heartbeat
     * would fall due within the next seconds (PING_MS). */
    zsock_destroy (&dealer);
    zclock_sleep (2500);

    zsock_set_rcvtimeo (router, 500);
    int read = 0;
    while ((msg = zmsg_recv (router)) != NULL) {
        zmsg_destroy (&msg);
        read++;
    }
    diag ("the ROUTER read %d of them afterwards", read);
    ok (read > 0, "the process is alive and the ROUTER reads what came before the close");
    zsock_destroy (&router);
}

static const tap_test_t tests[] = { TAP_TEST (test_flood_then_close), TAP_END };

int
main (int argc, char **argv)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    return tap_main (argc, argv, tests);
}
