/* SPDX-License-Identifier: MPL-2.0 */
/* bench_mesh.c -- helpers for `make bench` (tests/bench_mesh.sh):
 *   bench_mesh curve COUNT SIZE       raw CURVE PUSH/PULL over loopback TCP,
 *                                     the limit replication is compared with
 *   bench_mesh latency FIRST LAST N   publish at node FIRST, time each arrival
 *                                     on node LAST's feed; prints p50 and p99
 *   bench_mesh wait COUNT SECS DIR... waits until every node holds COUNT live
 *                                     indicators: STATUS every 50 ms over one
 *                                     connection a node (a CLI process a poll
 *                                     took a tenth of the 2 cores measured;
 *                                     a STATUS every 10 ms, a tenth of a
 *                                     core); with BENCH_TRACE set, every
 *                                     node's count on stderr every 200 ms */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>
#include <jansson.h>

#include "im_client.h"
#include "im_config.h"

static int
cmp_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    char endpoint[64];
    char server_pub[41], client_pub[41], client_sec[41];
    long count, size;
} curve_args_t;

/* The sending side, in its own thread as a peer would be. */
static void
curve_sender (zsock_t *pipe, void *arg)
{
    curve_args_t *a = arg;
    zsock_t *push = zsock_new (ZMQ_PUSH);
    zsock_set_curve_serverkey (push, a->server_pub);
    zsock_set_curve_publickey (push, a->client_pub);
    zsock_set_curve_secretkey (push, a->client_sec);
    zsock_set_sndhwm (push, 10000);
    zsock_connect (push, "%s", a->endpoint);
    zsock_signal (pipe, 0);
    char *payload = calloc (1, (size_t)a->size);
    for (long i = 0; i <= a->count; i++) /* one more: the warm-up */
        zmq_send (zsock_resolve (push), payload, (size_t)a->size, 0);
    free (payload);
    char *cmd = zstr_recv (pipe); /* $TERM */
    zstr_free (&cmd);
    zsock_destroy (&push);
}

static int
bench_curve (long count, long size)
{
    curve_args_t a = { .count = count, .size = size };
    char server_sec[41];
    zmq_curve_keypair (a.server_pub, server_sec);
    zmq_curve_keypair (a.client_pub, a.client_sec);
    zsock_t *pull = zsock_new (ZMQ_PULL);
    zsock_set_curve_server (pull, 1);
    zsock_set_curve_secretkey (pull, server_sec);
    zsock_set_rcvhwm (pull, 10000);
    zsock_set_rcvtimeo (pull, 10000);
    int port = zsock_bind (pull, "tcp://127.0.0.1:*");
    if (port < 0) {
        fprintf (stderr, "bench_mesh: cannot bind\n");
        return 1;
    }
    snprintf (a.endpoint, sizeof a.endpoint, "tcp://127.0.0.1:%d", port);
    char *payload = malloc ((size_t)size);
    zactor_t *sender = zactor_new (curve_sender, &a);
    /* The first message waits out the handshake; the clock starts after it. */
    if (zmq_recv (zsock_resolve (pull), payload, (size_t)size, 0) < 0) {
        fprintf (stderr, "bench_mesh: nothing arrived\n");
        return 1;
    }
    int64_t t0 = zclock_usecs ();
    long got = 0;
    while (got < count && zmq_recv (zsock_resolve (pull), payload, (size_t)size, 0) >= 0)
        got++;
    double secs = (double)(zclock_usecs () - t0) / 1e6;
    zactor_destroy (&sender);
    zsock_destroy (&pull);
    free (payload);
    if (got < count) {
        fprintf (stderr, "bench_mesh: %ld of %ld arrived\n", got, count);
        return 1;
    }
    printf ("%.0f\n", (double)count / secs);
    return 0;
}

static int
bench_latency (const char *first, const char *last, int n)
{
    char err[1024];
    im_config_t *cfg = malloc (sizeof *cfg);
    if (!cfg || im_config_load (last, cfg, err, sizeof err)) {
        fprintf (stderr, "bench_mesh: %s\n", cfg ? err : "out of memory");
        return 1;
    }
    zsock_t *sub = zsock_new_sub (cfg->pub_endpoint, "ioc.");
    free (cfg);
    im_client_t *client = im_client_new (first, err, sizeof err);
    if (!sub || !client) {
        fprintf (stderr, "bench_mesh: %s\n", client ? "cannot subscribe" : err);
        return 1;
    }
    zsock_set_rcvtimeo (sub, 10000);
    zclock_sleep (500); /* let the subscription reach the publisher */
    double *ms = calloc ((size_t)n, sizeof *ms);
    int done = 0;
    for (int i = 0; i < n; i++) {
        char value[64];
        snprintf (value, sizeof value, "11.18.%d.%d", (i / 250) % 250, i % 250 + 1);
        json_t *body = json_pack ("{s:[{s:s, s:s, s:s}]}", "items", "type", "ipv4",
                                  "value", value, "tlp", "green");
        int64_t t0 = zclock_usecs ();
        json_t *reply
            = im_client_call (client, IM_CTL_PUBLISH, body, 10000, err, sizeof err);
        json_decref (body);
        json_decref (reply);
        if (!reply) {
            fprintf (stderr, "bench_mesh: publish: %s\n", err);
            break;
        }
        int arrived = 0;
        while (!arrived) {
            char *topic = NULL, *data = NULL;
            if (zstr_recvx (sub, &topic, &data, NULL) < 0)
                break;
            arrived = data && strstr (data, value) != NULL;
            zstr_free (&topic);
            zstr_free (&data);
        }
        if (!arrived) {
            fprintf (stderr, "bench_mesh: %s did not arrive within 10 s\n", value);
            break;
        }
        ms[done++] = (double)(zclock_usecs () - t0) / 1000.0;
        zclock_sleep (20);
    }
    im_client_destroy (&client);
    zsock_destroy (&sub);
    if (done < n) {
        free (ms);
        return 1;
    }
    qsort (ms, (size_t)done, sizeof *ms, cmp_double);
    printf ("%.2f %.2f\n", ms[done / 2], ms[(done * 99) / 100]);
    free (ms);
    return 0;
}

static char live_err[1024]; /* why the last STATUS failed */

/* The live indicators NODE holds, or -1 (the reason in live_err). */
static long
live_of (im_client_t *node)
{
    char err[1024];
    json_t *body = json_object ();
    json_t *reply = im_client_call (node, IM_CTL_STATUS, body, 10000, err, sizeof err);
    json_decref (body);
    json_t *live = json_object_get (json_object_get (reply, "indicators"), "live");
    long n = json_is_integer (live) ? (long)json_integer_value (live) : -1;
    if (n < 0)
        snprintf (live_err, sizeof live_err, "%s", reply ? "no indicators.live" : err);
    json_decref (reply);
    return n;
}

static int
bench_wait (long count, long secs, char **dirs, int n)
{
    char err[1024];
    im_client_t **nodes = calloc ((size_t)n, sizeof *nodes);
    int rc = nodes ? 0 : 1;
    for (int i = 0; rc == 0 && i < n; i++)
        if (!(nodes[i] = im_client_new (dirs[i], err, sizeof err))) {
            fprintf (stderr, "bench_mesh: %s: %s\n", dirs[i], err);
            rc = 1;
        }
    int64_t end = zclock_mono () + secs * 1000, t0 = zclock_mono ();
    int at = 0; /* nodes before AT hold COUNT (a node's count only grows) */
    if (getenv ("BENCH_TRACE")) /* a node's count every 200 ms, on stderr */
        for (; rc == 0 && zclock_mono () < end; zclock_sleep (200)) {
            int full = 0;
            fprintf (stderr, "%5.1f s:", (zclock_mono () - t0) / 1000.0);
            for (int i = 0; i < n; i++) {
                long live = live_of (nodes[i]);
                full += live == count;
                fprintf (stderr, " %ld", live);
            }
            fprintf (stderr, "\n");
            if (full == n)
                break;
        }
    while (rc == 0 && at < n) {
        long live = live_of (nodes[at]); /* -1 (a busy node's time-out): again */
        if (live == count)
            at++;
        else if (zclock_mono () >= end) {
            fprintf (stderr, "bench_mesh: %s holds %ld of %ld after %ld s%s%s\n",
                     dirs[at], live, count, secs, live < 0 ? ": status: " : "",
                     live < 0 ? live_err : "");
            rc = 1;
        }
        else
            zclock_sleep (50); /* a STATUS costs the node about 1 ms */
    }
    for (int i = 0; nodes && i < n; i++)
        im_client_destroy (&nodes[i]);
    free (nodes);
    return rc;
}

int
main (int argc, char *argv[])
{
    zsys_init ();
    if (argc == 4 && strcmp (argv[1], "curve") == 0)
        return bench_curve (atol (argv[2]), atol (argv[3]));
    if (argc == 5 && strcmp (argv[1], "latency") == 0)
        return bench_latency (argv[2], argv[3], atoi (argv[4]));
    if (argc >= 5 && strcmp (argv[1], "wait") == 0)
        return bench_wait (atol (argv[2]), atol (argv[3]), argv + 4, argc - 4);
    fprintf (stderr, "usage: bench_mesh curve COUNT SIZE | latency FIRST-DIR LAST-DIR N "
                     "| wait COUNT SECS DIR...\n");
    return 2;
}
