/* SPDX-License-Identifier: MPL-2.0 */
/* test_poller.c -- the node's poller (node/im_poller.c): bad arguments, then
 * what zpoller promised the node's loop: the first reader ready in the order
 * added, sockets and descriptors, time-outs, readers removed; and what the
 * poller's fewer questions must not lose: a message that waits on a socket
 * whose descriptor no longer signals it (libzmq's ZMQ_FD is edge-triggered),
 * and must not invent: a descriptor that signals a connection, no message.
 * Signals: an interrupt ends a wait, another signal does not. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <czmq.h>

#include "im_poller.h"
#include "tap.h"

static void
test_bad_arguments (void)
{
    zsock_t *a = zsock_new_pair ("inproc://bad");
    ok (im_poller_add (NULL, a) == -1 && errno == EINVAL, "add refuses a NULL poller");
    im_poller_t *p = im_poller_new (NULL);
    ok (p != NULL, "a poller of no readers is made");
    ok (im_poller_add (p, NULL) == -1 && errno == EINVAL, "add refuses a NULL reader");
    ok (im_poller_add (p, a) == 0, "add takes a socket");
    ok (im_poller_add (p, a) == -1 && errno == EEXIST, "add refuses a reader twice");
    ok (im_poller_remove (p, NULL) == -1 && errno == EINVAL,
        "remove refuses a NULL reader");
    zsock_t *b = zsock_new_pair ("inproc://bad2");
    ok (im_poller_remove (p, b) == -1 && errno == ENOENT,
        "remove refuses a reader never added");
    ok (im_poller_wait (NULL, 0) == NULL && errno == EINVAL,
        "wait refuses a NULL poller");
    ok (!im_poller_expired (NULL) && !im_poller_terminated (NULL),
        "a NULL poller is neither expired nor terminated");
    im_poller_destroy (&p);
    ok (p == NULL, "destroy sets the pointer to NULL");
    im_poller_destroy (&p);
    im_poller_destroy (NULL);
    ok (1, "destroy is NULL-safe");
    /* Beyond the limit. */
    p = im_poller_new (NULL);
    int fds[IM_POLLER_MAX + 1];
    int refused = 0;
    for (int i = 0; i <= IM_POLLER_MAX; i++) {
        fds[i] = -1;
        if (im_poller_add (p, &fds[i]) != 0)
            refused = errno;
    }
    ok (refused == ENFILE, "add refuses reader %d (ENFILE)", IM_POLLER_MAX + 1);
    im_poller_destroy (&p);
    zsock_destroy (&a);
    zsock_destroy (&b);
}

static void
test_order_and_timeouts (void)
{
    zsock_t *a_in = zsock_new_pair ("@inproc://order-a");
    zsock_t *a_out = zsock_new_pair (">inproc://order-a");
    zsock_t *b_in = zsock_new_pair ("@inproc://order-b");
    zsock_t *b_out = zsock_new_pair (">inproc://order-b");
    im_poller_t *p = im_poller_new (a_in, b_in, NULL);
    ok (p != NULL, "a poller of two sockets is made");

    int64_t t0 = zclock_mono ();
    ok (im_poller_wait (p, 50) == NULL && im_poller_expired (p)
            && !im_poller_terminated (p),
        "nothing to read: wait returns NULL, expired, after its time-out");
    ok (zclock_mono () - t0 >= 45, "... having waited about the time-out");
    ok (im_poller_wait (p, 0) == NULL && im_poller_expired (p),
        "a time-out of 0 does not wait");

    zstr_send (b_out, "b");
    ok (im_poller_wait (p, 1000) == b_in && !im_poller_expired (p),
        "a message on the second socket: it is returned");
    zstr_send (a_out, "a");
    ok (im_poller_wait (p, 1000) == a_in,
        "both ready (b not read): the one after the last returned, a");
    char *s = zstr_recv (a_in);
    zstr_free (&s);
    ok (im_poller_wait (p, 1000) == b_in, "then b, still unread");
    s = zstr_recv (b_in);
    zstr_free (&s);
    ok (im_poller_wait (p, 10) == NULL && im_poller_expired (p), "both read: nothing");

    /* A socket that always has messages keeps no other waiting. */
    for (int i = 0; i < 100; i++)
        zstr_send (a_out, "flood");
    for (int i = 0; i < 3; i++)
        zstr_send (b_out, "b");
    int got_a = 0, got_b = 0, alternated = 1;
    void *last = NULL;
    for (int i = 0; i < 6; i++) {
        void *r = im_poller_wait (p, 1000);
        if (r == last)
            alternated = 0;
        last = r;
        if (r == a_in)
            got_a++;
        else if (r == b_in)
            got_b++;
        s = r ? zstr_recv (r) : NULL;
        zstr_free (&s);
    }
    ok (got_a == 3 && got_b == 3 && alternated,
        "a flooded socket and another: taken in turn (%d and %d of 6)", got_a, got_b);
    while (zsock_events (a_in) & ZMQ_POLLIN) { /* the rest of the flood */
        s = zstr_recv (a_in);
        zstr_free (&s);
    }
    while (zsock_events (b_in) & ZMQ_POLLIN) {
        s = zstr_recv (b_in);
        zstr_free (&s);
    }
    ok (im_poller_wait (p, 10) == NULL, "all read: nothing");

    ok (im_poller_remove (p, a_in) == 0, "a reader is removed");
    zstr_send (a_out, "a");
    ok (im_poller_wait (p, 20) == NULL, "a message on a removed reader is not seen");
    ok (im_poller_add (p, a_in) == 0, "it is added again");
    zstr_send (b_out, "b");
    void *r1 = im_poller_wait (p, 1000);
    s = r1 ? zstr_recv (r1) : NULL;
    zstr_free (&s);
    void *r2 = im_poller_wait (p, 1000);
    s = r2 ? zstr_recv (r2) : NULL;
    zstr_free (&s);
    ok ((r1 == a_in && r2 == b_in) || (r1 == b_in && r2 == a_in),
        "both ready: one, then the other");

    im_poller_destroy (&p);
    zsock_destroy (&a_in);
    zsock_destroy (&a_out);
    zsock_destroy (&b_in);
    zsock_destroy (&b_out);
}

/* Sends one message on its pipe's peer after 50 ms. */
static void
late_sender (zsock_t *pipe, void *arg)
{
    zsock_signal (pipe, 0);
    zclock_sleep (50);
    zstr_send ((zsock_t *)arg, "late");
    char *cmd = zstr_recv (pipe);
    zstr_free (&cmd);
}

static void
test_wakes_and_edges (void)
{
    zsock_t *in = zsock_new_pair ("@inproc://edge");
    zsock_t *out = zsock_new_pair (">inproc://edge");
    im_poller_t *p = im_poller_new (in, NULL);

    zactor_t *sender = zactor_new (late_sender, out);
    int64_t t0 = zclock_mono ();
    ok (im_poller_wait (p, 5000) == in, "a message sent while it waits wakes the wait");
    ok (zclock_mono () - t0 < 4000, "... before the time-out");
    char *s = zstr_recv (in);
    is (s, "late", "... and it is the message sent");
    zstr_free (&s);
    zactor_destroy (&sender);

    /* Three messages, one read: the descriptor signalled once, for the
     * first; the others must still be found. */
    for (int i = 0; i < 3; i++)
        zstr_send (out, "m");
    int found = 0;
    for (int i = 0; i < 3; i++)
        if (im_poller_wait (p, 100) == in) {
            s = zstr_recv (in);
            zstr_free (&s);
            found++;
        }
    ok (found == 3, "three messages queued: each is found, one read at a time (%d)",
        found);
    ok (im_poller_wait (p, 10) == NULL, "... and then nothing");

    /* A send on the socket takes its descriptor's signal: the message that
     * came before it must still be found. */
    zstr_send (out, "before");
    zclock_sleep (10);
    zstr_send (in, "reply"); /* a send processes the socket's commands */
    ok (im_poller_wait (p, 100) == in,
        "a message that came before a send on the socket is still found");
    s = zstr_recv (in);
    is (s, "before", "... and read");
    zstr_free (&s);
    s = zstr_recv (out);
    zstr_free (&s);

    im_poller_destroy (&p);
    zsock_destroy (&in);
    zsock_destroy (&out);
}

/* A descriptor signals commands too: a peer that connects and sends nothing
 * makes the ROUTER's descriptor fire with no message to read. Returning it
 * would block the node in a receive. */
static void
test_commands_only (void)
{
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    int port = zsock_bind (router, "tcp://127.0.0.1:*[60000-]");
    ok (port > 0, "a ROUTER is bound on loopback (port %d)", port);
    im_poller_t *p = im_poller_new (router, NULL);
    ok (im_poller_wait (p, 10) == NULL, "nothing to read");
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    ok (zsock_connect (dealer, "tcp://127.0.0.1:%d", port) == 0, "a DEALER connects");
    int64_t t0 = zclock_mono ();
    ok (im_poller_wait (p, 300) == NULL && im_poller_expired (p),
        "a connection and no message: the wait ends expired, nothing returned");
    ok (zclock_mono () - t0 >= 250, "... after its time-out, not at the connection");
    zstr_send (dealer, "hello");
    ok (im_poller_wait (p, 5000) == router, "then a message: the ROUTER is returned");
    zmsg_t *m = zmsg_recv (router);
    ok (m && zmsg_size (m) == 2, "... and it is read");
    zmsg_destroy (&m);
    im_poller_destroy (&p);
    zsock_destroy (&dealer);
    zsock_destroy (&router);
}

static void
on_signal (int sig)
{
    (void)sig;
}

/* Sends SIGUSR1 to the thread at ARG after 50 ms. */
static void *
kick (void *arg)
{
    usleep (50000);
    pthread_kill (*(pthread_t *)arg, SIGUSR1);
    return NULL;
}

static void
test_signals (void)
{
    zsock_t *in = zsock_new_pair ("@inproc://signals");
    im_poller_t *p = im_poller_new (in, NULL);
    zsys_interrupted = 1;
    ok (im_poller_wait (p, 1000) == NULL && im_poller_terminated (p)
            && !im_poller_expired (p),
        "interrupted (zsys_interrupted): the wait ends terminated");
    zsys_interrupted = 0;

    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal; /* no SA_RESTART: poll fails with EINTR */
    sigemptyset (&sa.sa_mask);
    sigaction (SIGUSR1, &sa, NULL);
    pthread_t self = pthread_self (), t;
    pthread_create (&t, NULL, kick, &self);
    int64_t t0 = zclock_mono ();
    void *r = im_poller_wait (p, 300);
    pthread_join (t, NULL);
    ok (r == NULL && im_poller_expired (p) && !im_poller_terminated (p),
        "a signal that does not interrupt the process (SIGHUP; here SIGUSR1) does "
        "not end the wait");
    ok (zclock_mono () - t0 >= 250, "... which lasts its time-out");
    signal (SIGUSR1, SIG_DFL);
    im_poller_destroy (&p);
    zsock_destroy (&in);
}

static void
test_descriptors (void)
{
    int fds[2];
    ok (pipe (fds) == 0, "a pipe is made");
    zsock_t *in = zsock_new_pair ("@inproc://fd");
    zsock_t *out = zsock_new_pair (">inproc://fd");
    int fd = fds[0];
    im_poller_t *p = im_poller_new (&fd, in, NULL);
    ok (p != NULL, "a poller of a descriptor and a socket is made");
    ok (im_poller_wait (p, 10) == NULL && im_poller_expired (p), "nothing to read");
    ok (write (fds[1], "x", 1) == 1, "a byte is written to the pipe");
    ok (im_poller_wait (p, 1000) == &fd, "the descriptor is returned");
    zstr_send (out, "m");
    ok (im_poller_wait (p, 1000) == in,
        "both ready: the socket comes first (descriptors come after sockets)");
    char *s = zstr_recv (in);
    zstr_free (&s);
    char c;
    ok (read (fds[0], &c, 1) == 1, "the byte is read");
    ok (im_poller_wait (p, 10) == NULL, "nothing to read again");
    /* The descriptor's number is read at each wait. */
    int other[2];
    ok (pipe (other) == 0 && write (other[1], "y", 1) == 1, "another pipe has a byte");
    fd = other[0];
    ok (im_poller_wait (p, 1000) == &fd, "the descriptor pointed to now is polled");
    close (fds[0]);
    close (fds[1]);
    close (other[0]);
    close (other[1]);
    im_poller_destroy (&p);
    zsock_destroy (&in);
    zsock_destroy (&out);
}

static const tap_test_t tests[] = { TAP_TEST (test_bad_arguments),
                                    TAP_TEST (test_order_and_timeouts),
                                    TAP_TEST (test_wakes_and_edges),
                                    TAP_TEST (test_descriptors),
                                    TAP_TEST (test_commands_only),
                                    TAP_TEST (test_signals),
                                    TAP_END };

int
main (int argc, char **argv)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    return tap_main (argc, argv, tests);
}
