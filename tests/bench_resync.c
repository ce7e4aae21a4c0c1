/* SPDX-License-Identifier: MPL-2.0 */
/* bench_resync.c -- helpers for `make bench` (tests/bench_resync.sh): a peer
 * B that is current with node A reconnects (a new run, a new connection); how
 * long until B knows it is current, and in how many messages. And how a
 * store's bytes split over its databases.
 *   bench_resync card NAME KEYS                 new keys for B; prints its card
 *   bench_resync run ENDPOINT CURVE-HEX KEYS ROUNDS
 *   bench_resync dbstat STORE-DIR INDICATORS */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <czmq.h>
#include <lmdb.h>
#include <sodium.h>

#include "im_msg.h"
#include "peerkit.h"

#define MONITOR "inproc://bench-resync-monitor"
#define WAIT_MS 10000      /* for any one answer */
#define CATCH_UP_MS 900000 /* for pulling a whole store */
#define QUIET_MS 200       /* after a resync: nothing more may come */
#define PINGS 20           /* round trips measured on each link */

static im_msg_t msg; /* large: the codec's scratch space */
static uint8_t wire[IM_MSG_MAX];

static int
cmp_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int64_t
now_us (void)
{
    return zclock_usecs ();
}

typedef struct {
    zsock_t *d, *mon;
    zpoller_t *poller;
    const keys_t *k;
    uint64_t session;
    size_t got[IM_MSG_ROTATED + 16]; /* messages received, by id */
} link_t;

static int
link_send (link_t *l, const im_msg_t *m)
{
    size_t len;
    return im_msg_encode (m, wire, sizeof wire, &len) != 0
                   || zmq_send (zsock_resolve (l->d), wire, len, 0) < 0
               ? -1
               : 0;
}

/* Receives until a message of id WANT (into msg) or UNTIL (now_us). Returns
 * 0, or -1 at the deadline. Every message is counted by id. */
static int
link_wait (link_t *l, int want, int64_t until)
{
    for (;;) {
        int64_t left = (until - now_us ()) / 1000;
        if (left <= 0 || !zpoller_wait (l->poller, (int)left))
            return -1;
        zframe_t *f = zframe_recv (l->d);
        char why[256];
        int ok
            = f
              && im_msg_decode (zframe_data (f), zframe_size (f), &msg, why, sizeof why)
                     == 0;
        zframe_destroy (&f);
        if (!ok)
            continue;
        if (msg.id < sizeof l->got / sizeof l->got[0])
            l->got[msg.id]++;
        if ((int)msg.id == want)
            return 0;
    }
}

/* A new connection as a new run of B: returns 0 once CURVE's handshake
 * succeeded (the link is up), with *CONNECT_US the time it took. */
static int
link_open (link_t *l, const keys_t *k, const char *endpoint, const char *server_hex,
           int64_t *connect_us)
{
    char why[256];
    memset (l, 0, sizeof *l);
    l->k = k;
    randombytes_buf (&l->session, sizeof l->session);
    l->session |= 1;
    l->d = pk_dealer_new (k, server_hex, WAIT_MS, why, sizeof why);
    if (!l->d) {
        fprintf (stderr, "bench_resync: %s\n", why);
        return -1;
    }
    zmq_socket_monitor (zsock_resolve (l->d), MONITOR, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    l->mon = zsock_new_pair (">" MONITOR);
    int64_t t0 = now_us ();
    if (!l->mon || zsock_connect (l->d, "%s", endpoint) != 0) {
        fprintf (stderr, "bench_resync: cannot connect to %s\n", endpoint);
        return -1;
    }
    zsock_set_rcvtimeo (l->mon, WAIT_MS);
    zmsg_t *ev = zmsg_recv (l->mon);
    *connect_us = now_us () - t0;
    zmsg_destroy (&ev);
    zmq_socket_monitor (zsock_resolve (l->d), NULL, 0);
    zsock_destroy (&l->mon);
    if (!ev && *connect_us >= (int64_t)WAIT_MS * 1000) {
        fprintf (stderr, "bench_resync: no CURVE handshake with %s\n", endpoint);
        return -1;
    }
    l->poller = zpoller_new (l->d, NULL);
    return 0;
}

static void
link_close (link_t *l)
{
    zpoller_destroy (&l->poller);
    zsock_destroy (&l->d);
}

static int
send_hello (link_t *l)
{
    pk_hello (&msg, l->k, l->session);
    return link_send (l, &msg);
}

static int
send_pull (link_t *l, uint64_t cursor)
{
    msg.id = IM_MSG_PULL;
    msg.cursor = cursor;
    msg.credit = IM_MSG_CREDIT_MAX;
    return link_send (l, &msg);
}

static int
send_ping (link_t *l, uint64_t cursor)
{
    msg.id = IM_MSG_PING;
    msg.session = l->session;
    msg.cursor = cursor;
    return link_send (l, &msg);
}

/* B's first run: pulls all of A's changes (reading, not storing them), so
 * that A has served it up to its newest change. Returns that cursor. */
static int
catch_up (link_t *l, uint64_t *cursor, uint64_t *records)
{
    int64_t until = now_us () + (int64_t)CATCH_UP_MS * 1000;
    *cursor = *records = 0;
    if (send_hello (l) || link_wait (l, IM_MSG_HELLO, now_us () + WAIT_MS * 1000)
        || send_pull (l, 0))
        return -1;
    for (;;) {
        if (link_wait (l, IM_MSG_RECORDS, until) != 0)
            return -1;
        *records += msg.count;
        *cursor = msg.cursor;
        int more = msg.more & IM_MSG_MORE;
        /* The next PULL acknowledges this answer (A logs what it sent); from
         * A's newest change, it waits, as a node's would. */
        if (send_pull (l, *cursor))
            return -1;
        if (!more)
            break;
    }
    /* A PING behind it: A has handled that last PULL once the PONG comes. */
    return send_ping (l, *cursor) || link_wait (l, IM_MSG_PONG, until) ? -1 : 0;
}

/* One resync on a new link: HELLO, then (after A's HELLO, as a node does, or
 * at once when PIPELINED) the PULL from CURSOR, and a PING behind it: A
 * handles a link's messages in order, so its PONG says the PULL was handled.
 * Returns the time from HELLO sent to PONG received, in ms, or -1. */
static double
resync_once (link_t *l, uint64_t cursor, int pipelined, size_t *sent, size_t *got,
             char what[128])
{
    int64_t t0 = now_us ();
    int64_t until = t0 + (int64_t)WAIT_MS * 1000;
    if (send_hello (l))
        return -1;
    if (!pipelined && link_wait (l, IM_MSG_HELLO, until) != 0)
        return -1;
    if (send_pull (l, cursor) || send_ping (l, cursor)
        || link_wait (l, IM_MSG_PONG, until))
        return -1;
    double ms = (double)(now_us () - t0) / 1000.0;
    if (msg.cursor != cursor) {
        fprintf (stderr, "bench_resync: A's newest change is %llu, not %llu\n",
                 (unsigned long long)msg.cursor, (unsigned long long)cursor);
        return -1;
    }
    if (!l->got[IM_MSG_HELLO]) {
        fprintf (stderr, "bench_resync: A's HELLO did not come before its PONG\n");
        return -1;
    }
    *sent = 2; /* HELLO, PULL (the PING is the benchmark's probe) */
    *got = 0;
    *what = 0;
    for (size_t i = 0; i < sizeof l->got / sizeof l->got[0]; i++)
        if (i != IM_MSG_PONG && l->got[i]) {
            *got += l->got[i];
            snprintf (what + strlen (what), 128 - strlen (what), "%s%s*%zu",
                      *what ? "," : "", im_msg_name ((int)i), l->got[i]);
        }
    /* Nothing new: the pull waits, and no RECORDS may come. */
    if (link_wait (l, IM_MSG_RECORDS, now_us () + QUIET_MS * 1000) == 0) {
        fprintf (stderr, "bench_resync: A answered a pull from its newest change\n");
        return -1;
    }
    return ms;
}

/* The round trip of PING and PONG on L: median of PINGS, in ms. */
static double
ping_rtt (link_t *l, uint64_t cursor)
{
    double ms[PINGS];
    for (int i = 0; i < PINGS; i++) {
        int64_t t0 = now_us ();
        if (send_ping (l, cursor) || link_wait (l, IM_MSG_PONG, t0 + WAIT_MS * 1000))
            return -1;
        ms[i] = (double)(now_us () - t0) / 1000.0;
    }
    qsort (ms, PINGS, sizeof ms[0], cmp_double);
    return ms[PINGS / 2];
}

static int
run (const char *endpoint, const char *server_hex, const char *keys_path, int rounds)
{
    keys_t k;
    char why[256];
    if (pk_keys_load (&k, keys_path, why, sizeof why)) {
        fprintf (stderr, "bench_resync: %s\n", why);
        return 1;
    }
    link_t l;
    int64_t connect_us;
    uint64_t cursor, records;
    int64_t t0 = now_us ();
    if (link_open (&l, &k, endpoint, server_hex, &connect_us)
        || catch_up (&l, &cursor, &records)) {
        fprintf (stderr, "bench_resync: B could not pull A's changes\n");
        return 1;
    }
    double catch_s = (double)(now_us () - t0) / 1e6;
    link_close (&l);
    zclock_sleep (2000); /* A's quota bucket for B fills again */
    double *res[2], *rtt = calloc ((size_t)rounds, sizeof *rtt),
                    *conn = calloc ((size_t)rounds, sizeof *conn);
    size_t sent = 0, got = 0;
    char what[128] = "";
    for (int mode = 0; mode < 2; mode++) {
        res[mode] = calloc ((size_t)rounds, sizeof *res[mode]);
        for (int i = 0; i < rounds; i++) {
            if (link_open (&l, &k, endpoint, server_hex, &connect_us))
                return 1;
            res[mode][i] = resync_once (&l, cursor, mode, &sent, &got, what);
            if (res[mode][i] < 0) {
                fprintf (stderr, "bench_resync: resync %d failed\n", i + 1);
                return 1;
            }
            if (mode == 0) {
                rtt[i] = ping_rtt (&l, cursor);
                conn[i] = (double)connect_us / 1000.0;
            }
            link_close (&l);
        }
        qsort (res[mode], (size_t)rounds, sizeof (double), cmp_double);
    }
    qsort (rtt, (size_t)rounds, sizeof (double), cmp_double);
    qsort (conn, (size_t)rounds, sizeof (double), cmp_double);
    /* Machine-readable, one line: the shell prints it. */
    printf ("records %llu cursor %llu catch_up_s %.1f connect_ms %.2f resync_ms %.2f "
            "resync_max_ms %.2f pipelined_ms %.2f pipelined_max_ms %.2f rtt_ms %.2f "
            "sent %zu got %zu got_what %s\n",
            (unsigned long long)records, (unsigned long long)cursor, catch_s,
            conn[rounds / 2], res[0][rounds / 2], res[0][rounds - 1], res[1][rounds / 2],
            res[1][rounds - 1], rtt[rounds / 2], sent, got, what);
    free (res[0]);
    free (res[1]);
    free (rtt);
    free (conn);
    return 0;
}

/* --- dbstat: bytes per database ----------------------------------------- */

/* Key and value bytes in DBI (a key once however many values it has). */
static int
kv_bytes (MDB_txn *txn, MDB_dbi dbi, uint64_t *bytes)
{
    MDB_cursor *c;
    MDB_val k, v;
    unsigned flags = 0;
    *bytes = 0;
    if (mdb_dbi_flags (txn, dbi, &flags) || mdb_cursor_open (txn, dbi, &c))
        return -1;
    /* Without MDB_DUPSORT, MDB_NEXT_DUP moves to the next key. */
    int dup = (flags & MDB_DUPSORT) != 0;
    int rc = mdb_cursor_get (c, &k, &v, MDB_FIRST);
    while (rc == 0) {
        *bytes += k.mv_size + v.mv_size;
        while (dup && (rc = mdb_cursor_get (c, &k, &v, MDB_NEXT_DUP)) == 0)
            *bytes += v.mv_size;
        rc = mdb_cursor_get (c, &k, &v, dup ? MDB_NEXT_NODUP : MDB_NEXT);
    }
    mdb_cursor_close (c);
    return rc == MDB_NOTFOUND ? 0 : -1;
}

static void
db_line (const char *name, const MDB_stat *st, uint64_t kv, double n)
{
    uint64_t pages = st->ms_branch_pages + st->ms_leaf_pages + st->ms_overflow_pages;
    uint64_t bytes = pages * st->ms_psize;
    printf ("    %-10s %9zu entries %11llu B in %7llu pages: key+value %6.1f, "
            "overhead %6.1f, total %6.1f B/indicator\n",
            name, st->ms_entries, (unsigned long long)bytes, (unsigned long long)pages,
            (double)kv / n, ((double)bytes - (double)kv) / n, (double)bytes / n);
}

static int
dbstat (const char *dir, double n)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi main_dbi;
    if (mdb_env_create (&env) || mdb_env_set_maxdbs (env, 64)
        || mdb_env_open (env, dir, MDB_RDONLY | MDB_NOLOCK, 0600)
        || mdb_txn_begin (env, NULL, MDB_RDONLY, &txn)
        || mdb_dbi_open (txn, NULL, 0, &main_dbi)) {
        fprintf (stderr, "bench_resync: cannot open the store in %s\n", dir);
        return 1;
    }
    MDB_envinfo info;
    MDB_stat st;
    mdb_env_info (env, &info);
    mdb_env_stat (env, &st);
    uint64_t used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize, sum = 0;
    char path[4096];
    struct stat fs;
    snprintf (path, sizeof path, "%s/data.mdb", dir);
    off_t file = stat (path, &fs) == 0 ? fs.st_size : 0;
    printf ("    data.mdb %lld B (%.0f B/indicator); pages in use %llu B (%.1f "
            "B/indicator), %u-byte pages\n",
            (long long)file, (double)file / n, (unsigned long long)used, (double)used / n,
            st.ms_psize);
    MDB_cursor *c;
    MDB_val k, v;
    mdb_cursor_open (txn, main_dbi, &c);
    while (mdb_cursor_get (c, &k, &v, MDB_NEXT) == 0) {
        char name[64];
        MDB_dbi dbi;
        uint64_t kv;
        snprintf (name, sizeof name, "%.*s", (int)k.mv_size, (const char *)k.mv_data);
        if (mdb_dbi_open (txn, name, 0, &dbi) || mdb_stat (txn, dbi, &st)
            || kv_bytes (txn, dbi, &kv))
            continue;
        db_line (name, &st, kv, n);
        sum += (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages)
               * st.ms_psize;
    }
    mdb_cursor_close (c);
    /* The free list (dbi 0): pages free for reuse, listed in its values. */
    uint64_t free_bytes = 0;
    if (mdb_cursor_open (txn, 0, &c) == 0) {
        while (mdb_cursor_get (c, &k, &v, MDB_NEXT) == 0)
            free_bytes
                += *(const size_t *)v.mv_data * st.ms_psize; /* IDL: length first */
        mdb_cursor_close (c);
    }
    printf ("    free pages %.1f B/indicator; the rest (database names, the free list "
            "itself, meta pages) %.1f B/indicator\n",
            (double)free_bytes / n,
            ((double)used - (double)sum - (double)free_bytes) / n);
    mdb_txn_abort (txn);
    mdb_env_close (env);
    return 0;
}

int
main (int argc, char *argv[])
{
    zsys_init ();
    if (sodium_init () < 0)
        return 2;
    char why[256];
    keys_t k;
    if (argc == 4 && strcmp (argv[1], "card") == 0) {
        if (pk_keys_make (&k, argv[2], argv[3], why, sizeof why)) {
            fprintf (stderr, "bench_resync: %s\n", why);
            return 1;
        }
        return pk_card_print (&k) ? 1 : 0;
    }
    if (argc == 6 && strcmp (argv[1], "run") == 0)
        return run (argv[2], argv[3], argv[4], atoi (argv[5]) > 0 ? atoi (argv[5]) : 1);
    if (argc == 4 && strcmp (argv[1], "dbstat") == 0)
        return dbstat (argv[2], atof (argv[3]) > 0 ? atof (argv[3]) : 1);
    fprintf (stderr, "usage: bench_resync card NAME KEYS | run ENDPOINT CURVE-HEX KEYS "
                     "ROUNDS | dbstat STORE-DIR INDICATORS\n");
    return 2;
}
