/* SPDX-License-Identifier: MPL-2.0 */
/* puller.c -- a peer that pulls a node from a cursor it chooses, for
 * tests/t68-restart-lost.sh: it plays a puller whose store kept an older
 * cursor (a restart answer lost, or undone by a power loss) and prints what
 * each answer says (its records, cursor, and the more and restart flags).
 * With --noted it also plays a peer that says it holds records already. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_msg.h"
#include "im_record.h"
#include "im_util.h"
#include "peerkit.h"

#define EXIT_FAILED 1
#define EXIT_SETUP 2
#define WAIT_MS 15000 /* for each answer */
#define PULLS_MAX 1000

static im_msg_t msg;
static uint8_t wire[IM_MSG_MAX];

static void
usage (void)
{
    fprintf (stderr,
             "Usage: puller --keys FILE ENDPOINT CURVE-HEX --cursor C [--follow]\n"
             "  (FILE is made by 'fake_peer card --name NAME --keys FILE')\n"
             "  Says HELLO, pulls from C (credit 1000) and prints the answer:\n"
             "    RECORDS N cursor X more M restart R\n"
             "  With --follow, pulls on from each answer's cursor while it says\n"
             "  more (at most 1000 pulls), then prints 'total N cursor X'.\n"
             "  With --noted, says HAVE of the keys of the first answer's\n"
             "  records but its first, pulls from C again and prints that\n"
             "  answer as 'NOTED RECORDS N cursor X ...'.\n"
             "Exits 0, 1 when an answer did not come, 2 on a setup error.\n");
    exit (EXIT_SETUP);
}

static int
send_msg (zsock_t *d, const im_msg_t *m)
{
    size_t len;
    return im_msg_encode (m, wire, sizeof wire, &len) == 0
                   && zmq_send (zsock_resolve (d), wire, len, 0) >= 0
               ? 0
               : -1;
}

/* Reads D until a message ID comes (decoded into msg) or the wait ends;
 * PINGs are answered on the way. Returns 0, or -1. */
static int
wait_for (zsock_t *d, int id, uint64_t session)
{
    static uint8_t keep[IM_MSG_MAX];
    int64_t deadline = zclock_mono () + WAIT_MS;
    while (zclock_mono () < deadline) {
        zsock_set_rcvtimeo (d, (int)(deadline - zclock_mono ()));
        zframe_t *f = zframe_recv (d);
        if (!f)
            return -1;
        size_t n = zframe_size (f);
        int rc = n <= sizeof keep ? 0 : -1;
        if (rc == 0) {
            memcpy (keep, zframe_data (f), n);
            rc = im_msg_decode (keep, n, &msg, NULL, 0);
        }
        zframe_destroy (&f);
        if (rc == 0 && msg.id == IM_MSG_PING) {
            im_msg_t pong = { .id = IM_MSG_PONG, .session = session };
            send_msg (d, &pong);
        }
        else if (rc == 0 && msg.id == id)
            return 0;
    }
    return -1;
}

/* Says HAVE of the keys of the records in msg but its first, then pulls from
 * FROM again and prints the answer. Returns 0, or EXIT_FAILED. */
static int
pull_noted (zsock_t *d, uint64_t from, uint64_t session)
{
    static uint8_t keys[IM_MSG_CREDIT_MAX * IM_MSG_HAVE_KEY];
    size_t n = 0;
    for (size_t i = 1; i < msg.count; i++) {
        im_record_head_t h;
        if (im_record_peek (msg.entries[i].record, msg.entries[i].len, &h) != 0) {
            fprintf (stderr, "puller: an answer's record %zu has no head\n", i);
            return EXIT_FAILED;
        }
        uint8_t *key = keys + n++ * IM_MSG_HAVE_KEY;
        memcpy (key, h.origin, IM_NODE_ID_SIZE);
        memcpy (key + IM_NODE_ID_SIZE, h.id, IM_ID_SIZE);
        im_put_be64 (key + IM_NODE_ID_SIZE + IM_ID_SIZE, (int64_t)h.version);
    }
    im_msg_t have = { .id = IM_MSG_HAVE, .count = n, .have = keys };
    im_msg_t pull = { .id = IM_MSG_PULL, .cursor = from, .credit = IM_MSG_CREDIT_MAX };
    if ((n && send_msg (d, &have) != 0) || send_msg (d, &pull) != 0
        || wait_for (d, IM_MSG_RECORDS, session) != 0) {
        fprintf (stderr, "puller: no answer to the pull after the HAVE\n");
        return EXIT_FAILED;
    }
    printf ("NOTED RECORDS %zu cursor %llu more %d restart %d\n", msg.count,
            (unsigned long long)msg.cursor, (msg.more & IM_MSG_MORE) != 0,
            (msg.more & IM_MSG_RESTART) != 0);
    return 0;
}

int
main (int argc, char **argv)
{
    const char *keys_path = NULL, *endpoint = NULL, *server_hex = NULL;
    uint64_t cursor = 0;
    int follow = 0, have_cursor = 0, noted = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--keys") == 0 && i + 1 < argc)
            keys_path = argv[++i];
        else if (strcmp (argv[i], "--cursor") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            cursor = strtoull (argv[++i], &end, 10);
            if (errno || *end || argv[i][0] == '-')
                usage ();
            have_cursor = 1;
        }
        else if (strcmp (argv[i], "--follow") == 0)
            follow = 1;
        else if (strcmp (argv[i], "--noted") == 0)
            noted = 1;
        else if (argv[i][0] != '-' && !endpoint)
            endpoint = argv[i];
        else if (argv[i][0] != '-' && !server_hex)
            server_hex = argv[i];
        else
            usage ();
    }
    if (!keys_path || !endpoint || !server_hex || !have_cursor || (noted && follow))
        usage ();
    if (sodium_init () < 0)
        return EXIT_SETUP;
    zsys_init ();
    zsys_set_logstream (NULL);
    setvbuf (stdout, NULL, _IOLBF, 0);
    keys_t k;
    char why[256];
    if (pk_keys_load (&k, keys_path, why, sizeof why) != 0) {
        fprintf (stderr, "puller: %s\n", why);
        return EXIT_SETUP;
    }
    zsock_t *d = pk_dealer_new (&k, server_hex, 2000, why, sizeof why);
    if (!d || zsock_connect (d, "%s", endpoint) != 0) {
        fprintf (stderr, "puller: %s\n", d ? "cannot connect" : why);
        zsock_destroy (&d);
        return EXIT_SETUP;
    }
    uint64_t session;
    randombytes_buf (&session, sizeof session);
    session |= 1;
    pk_hello (&msg, &k, session);
    int rc = send_msg (d, &msg) == 0 && wait_for (d, IM_MSG_HELLO, session) == 0
                 ? 0
                 : EXIT_FAILED;
    if (rc)
        fprintf (stderr, "puller: the node did not answer HELLO\n");
    size_t total = 0;
    uint64_t from = cursor;
    for (int pulls = 0; rc == 0 && pulls < PULLS_MAX; pulls++) {
        im_msg_t pull
            = { .id = IM_MSG_PULL, .cursor = cursor, .credit = IM_MSG_CREDIT_MAX };
        if (send_msg (d, &pull) != 0 || wait_for (d, IM_MSG_RECORDS, session) != 0) {
            fprintf (stderr, "puller: no answer to a pull from %llu\n",
                     (unsigned long long)cursor);
            rc = EXIT_FAILED;
            break;
        }
        total += msg.count;
        cursor = msg.cursor;
        printf ("RECORDS %zu cursor %llu more %d restart %d\n", msg.count,
                (unsigned long long)msg.cursor, (msg.more & IM_MSG_MORE) != 0,
                (msg.more & IM_MSG_RESTART) != 0);
        if (!follow || !(msg.more & IM_MSG_MORE))
            break;
    }
    if (rc == 0 && follow)
        printf ("total %zu cursor %llu\n", total, (unsigned long long)cursor);
    if (rc == 0 && noted)
        rc = pull_noted (d, from, session);
    zsock_destroy (&d);
    return rc;
}
