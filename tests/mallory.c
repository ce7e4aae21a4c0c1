/* SPDX-License-Identifier: MPL-2.0 */
/* mallory.c -- a trusted peer that misbehaves, for tests/t42-adversary.sh and
 * `make soak`: built on the project's own codec, it floods HAVE, FETCH,
 * SYNC, FOUND and EAGER/LAZY lists, or makes itself a node's eager peer for
 * an origin (bringing a record first, or noting keys first) and then
 * withholds that origin's records, and prints what it did. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <czmq.h>
#include <sodium.h>

#include "im_config.h"
#include "im_msg.h"
#include "im_batch.h"
#include "im_record.h"
#include "peerkit.h"

#define EXIT_FAILED 1
#define EXIT_SETUP 2
#define SEND_TIMEOUT_MS 2000

/* A link to a node: a CURVE DEALER that has said HELLO. */
typedef struct {
    const char *what; /* "target", "twin" or "source" */
    zsock_t *dealer;
    size_t eagers_seen, eager_last; /* EAGERs it sent, the last's size */
    uint64_t session;
    size_t sent, send_failed;
    int64_t pong_due; /* --pong-delay: when the PONG held back goes (0: none) */
} link_t;

static im_msg_t msg;
static uint8_t wire[IM_MSG_MAX];

static void fail (int code, const char *fmt, ...)
    __attribute__ ((noreturn, format (printf, 2, 3)));

static void
fail (int code, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "mallory: ");
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
    va_end (ap);
    _exit (code);
}

static void
usage (void)
{
    fprintf (stderr,
             "Usage: mallory --keys FILE --target ENDPOINT CURVE-HEX ACTION [options]\n"
             "  (FILE is made by 'fake_peer card --name mallory --keys FILE')\n"
             "Actions:\n"
             "  have-flood N     N HAVE messages of 1000 made-up keys each\n"
             "  fetch-flood N    N FETCH messages of 1000 made-up keys each\n"
             "  sync-flood N     N SYNC messages from cursor 0\n"
             "  found-flood N    one HAVE of a made-up key (and the key in KEYS to the\n"
             "                   target's SYNC), then, once the target FETCHes it, N\n"
             "                   FOUND messages each holding a record of that key,\n"
             "                   badly signed\n"
             "  push N           N valid records of its own in FOUND messages that\n"
             "                   were never asked for (1000 a message)\n"
             "  withhold         with --source ENDPOINT CURVE-HEX: pulls one record of\n"
             "                   the source's, brings it to the target first (so\n"
             "                   becoming the target's eager peer for that origin),\n"
             "                   then answers nothing while staying connected; with\n"
             "                   --fake-have N, then sends N HAVE messages of 1000\n"
             "                   made-up keys of that origin\n"
             "  late             with --source ENDPOINT CURVE-HEX: pulls the source and\n"
             "                   brings the target each record --delay MS after it\n"
             "                   came, the first at once (a slow but honest eager\n"
             "                   peer), for --duration; with --twin KEYS, a second\n"
             "                   peer of those keys brings the same in the same\n"
             "                   instant, the first ones too\n"
             "  steal            with --source: notes the target every other record of\n"
             "                   the source's at once and brings it when fetched;\n"
             "                   withholds the others; answers no PULL; for --duration;\n"
             "                   with --ignore-first, every other FETCH (the 1st, 3rd,\n"
             "                   ...) goes unanswered; with --ignore-fetch, every one;\n"
             "                   with --restart-first, the first is answered after a\n"
             "                   HELLO of a new session (a restart)\n"
             "  hello-flood N    N HELLO messages, each of a new session (--same: all\n"
             "                   of the first), reading the answers\n"
             "  bad-hello-flood N  N HELLOs of another protocol version\n"
             "  junk-flood N     N frames of one byte, which do not decode\n"
             "  rotate-flip N    N ROTATEs, validly signed: our CURVE key to a made-up\n"
             "                   one and back, in turn\n"
             "  pull-flood N     N PULL messages from --cursor C (default 0), credit\n"
             "                   1000, reading every answer (RECORDS) as it comes\n"
             "  fetch-real N     one SYNC from cursor 0, then N FETCH messages of the\n"
             "                   real keys its KEYS answer named, reading the FOUNDs\n"
             "  origins N        answers the target's PULLs with N valid records, each\n"
             "                   of a new made-up origin (its own key pair); with\n"
             "                   --batch K (1 to 32), a new origin every K records,\n"
             "                   sealed K to a signature\n");
    fprintf (stderr,
             "  claim            with --source: the source's keys (SYNC) noted first to\n"
             "                   the target (its eager peer), then every FETCH answered\n"
             "                   with an empty FOUND (--mute: not answered)\n"
             "  lists N          N lists of --per made-up origins (--origin first),\n"
             "                   EAGER and LAZY in turn\n"
             "  answer N         answers the target's next N PULLs with RECORDS that\n"
             "                   say more (IM_MSG_MORE): --per K records of its own\n"
             "                   (default 1000; --bad: badly signed, the same each\n"
             "                   time; --same: valid, the same each time); the\n"
             "                   cursor: --cursor C each time, or with\n"
             "                   --jump one that jumps (C*i+C, then 1, in turn);\n"
             "                   prints the cursors the PULLs asked from, and at\n"
             "                   the end (after --duration) every PULL it saw;\n"
             "                   with --found F, meanwhile a found-flood F; with\n"
             "                   --hello, a HELLO of a new session after each answer\n"
             "                   (each HELLO opens a new link: a node that pulled\n"
             "                   again at every HELLO would pile answers up)\n");
    fprintf (stderr,
             "Options: --origin HEX (the origin of made-up keys), --duration MS\n"
             "  --per K (keys per have-flood/fetch-flood message; default 1000),\n"
             "  --origins (each made-up key of a new made-up origin),\n"
             "  --rate R (messages a second for the floods, answers a second for\n"
             "  answer; default: at once)\n"
             "  (how long to stay connected after the action; default 0)\n"
             "  --pong-delay MS (each PING answered MS late, 0 to 60000; default 0)\n"
             "  --seq N (the newest change number its PINGs and PONGs tell; default 0)\n"
             "  --more (withhold, late: its answers are flagged MORE)\n"
             "  --same-cursor (withhold: its answer carries the cursor asked from)\n"
             "  --rescan-after (withhold: the next PULL answered with the record again,\n"
             "  flagged MORE, with the cursor asked from, as by a rescan)\n"
             "  --delay MS (late: how long each record is held; default 0)\n"
             "  --ignore-first (steal: the 1st, 3rd, ... FETCH unanswered)\n"
             "  --ignore-fetch (steal: no FETCH answered)\n"
             "  --restart-first (steal: a restart, then the 1st FETCH answered)\n"
             "Prints 'mallory: ACTION sent N messages' and exits 0, 1 when the\n"
             "action could not be done, 2 on a setup error.\n");
    exit (EXIT_SETUP);
}

static void
keys_read (keys_t *k, const char *path)
{
    char why[256];
    if (pk_keys_load (k, path, why, sizeof why) != 0)
        fail (EXIT_SETUP, "%s", why);
}

static void
send_msg (link_t *l, const im_msg_t *m)
{
    size_t len;
    if (im_msg_encode (m, wire, sizeof wire, &len) != 0)
        fail (EXIT_SETUP, "cannot encode %s: %s", im_msg_name (m->id), strerror (errno));
    if (zmq_send (zsock_resolve (l->dealer), wire, len, 0) < 0)
        l->send_failed++;
    else
        l->sent++;
}

/* --pong-delay MS: each PING is answered MS late, as by a node whose thread
 * comes round slowly (one PONG held back at a time; PINGs meanwhile are
 * answered by it). */
static long pong_delay;
/* --seq N: PING and PONG tell N as mallory's newest change number (as an
 * eager peer's do when it holds copies of records not for the target). */
static uint64_t seq_told;
/* --more: its answers (withhold, late) are flagged MORE (a peer that says it
 * has more than it sends). */
static int more_told;
/* --same-cursor: its answer (withhold) moves no cursor: it carries the
 * cursor of the PULL it answers, as a rescan's answers do. */
static int same_cursor;
/* --rescan-after: withhold answers the PULL after its first too, with the
 * same record, flagged MORE, at the cursor asked from: a rescan's answer in
 * the middle of a cursor. */
static int rescan_after;
/* --same: answer sends the same valid records each time (copies after the
 * first). */
static int same;

static void
pong_flush (link_t *l)
{
    if (l->pong_due && zclock_mono () >= l->pong_due) {
        im_msg_t pong = { .id = IM_MSG_PONG, .session = l->session, .cursor = seq_told };
        send_msg (l, &pong);
        l->pong_due = 0;
    }
}

static void
pong (link_t *l)
{
    if (pong_delay == 0) {
        im_msg_t p = { .id = IM_MSG_PONG, .session = l->session, .cursor = seq_told };
        send_msg (l, &p);
    }
    else if (!l->pong_due)
        l->pong_due = zclock_mono () + pong_delay;
}

static void
link_up (link_t *l, const keys_t *k, const char *endpoint, const char *server_hex)
{
    char why[256];
    l->dealer = pk_dealer_new (k, server_hex, SEND_TIMEOUT_MS, why, sizeof why);
    if (!l->dealer)
        fail (EXIT_SETUP, "the %s: %s", l->what, why);
    zsock_set_linger (l->dealer, 5000); /* what it sent goes before it exits */
    zsock_set_sndhwm (l->dealer, 100000);
    if (zsock_connect (l->dealer, "%s", endpoint) != 0)
        fail (EXIT_SETUP, "cannot connect to %s", endpoint);
    randombytes_buf (&l->session, sizeof l->session);
    l->session |= 1;
    memset (&msg, 0, sizeof msg);
    pk_hello (&msg, k, l->session);
    send_msg (l, &msg);
}

/* The target's PULLs seen, however read: how many, from which cursor the
 * last asked, and how many asked from below the one before. */
static size_t pulls_seen, pulls_back;

/* An EAGER on L naming N origins: printed when N changes. */
static void
note_eager (link_t *l, size_t n)
{
    if (!l->eagers_seen++ || n != l->eager_last) {
        printf ("mallory: the %s's EAGER names %zu origins\n", l->what, n);
        fflush (stdout); /* a test may wait for it */
    }
    l->eager_last = n;
}
static int pulls_wanted; /* the action prints them at the end */
static uint64_t pull_last;

static void
note_pull (uint64_t cursor)
{
    if (pulls_seen++ && cursor < pull_last)
        pulls_back++;
    pull_last = cursor;
}

/* At the end: the PULLs seen, when the action wants them. */
static void
pulls_report (void)
{
    if (pulls_wanted)
        printf ("mallory: saw %zu PULLs in all, the last from cursor %llu; %zu asked "
                "from below the one before\n",
                pulls_seen, (unsigned long long)pull_last, pulls_back);
}

/* Waits up to MS for a message from L and decodes it into MSG. Answers PING
 * with PONG on the way (so that the node sees it connected). Returns the
 * message id, or 0 at the deadline. */
static int
link_next (link_t *l, int64_t deadline)
{
    static uint8_t keep[IM_MSG_MAX]; /* what MSG points into */
    while (zclock_mono () < deadline) {
        pong_flush (l);
        int64_t until = l->pong_due && l->pong_due < deadline ? l->pong_due : deadline;
        zsock_set_rcvtimeo (l->dealer,
                            (int)(until > zclock_mono () ? until - zclock_mono () : 0));
        zframe_t *f = zframe_recv (l->dealer);
        if (!f)
            continue; /* a PONG fell due, or the deadline came */
        size_t n = zframe_size (f);
        int rc = -1;
        if (n <= sizeof keep) {
            memcpy (keep, zframe_data (f), n);
            rc = im_msg_decode (keep, n, &msg, NULL, 0);
        }
        zframe_destroy (&f);
        if (rc != 0)
            continue;
        if (msg.id == IM_MSG_PULL)
            note_pull (msg.cursor);
        if (msg.id == IM_MSG_EAGER)
            note_eager (l, msg.count);
        if (msg.id == IM_MSG_PING)
            pong (l);
        return msg.id;
    }
    return 0;
}

/* Waits up to 15 s for the node's answer to L's HELLO, which shows the
 * link is up; exits when none comes. */
static void
link_wait_hello (link_t *l)
{
    int64_t deadline = zclock_mono () + 15000;
    int id;
    while ((id = link_next (l, deadline)) != 0 && id != IM_MSG_HELLO)
        ;
    if (id != IM_MSG_HELLO)
        fail (EXIT_FAILED, "the %s did not answer HELLO", l->what);
}

/* Stays connected until DEADLINE: PINGs now and then, PONGs to PINGs,
 * nothing else answered. */
static void
linger (link_t *l, int64_t deadline)
{
    int64_t ping = 0;
    while (zclock_mono () < deadline) {
        if (zclock_mono () >= ping) {
            im_msg_t p = { .id = IM_MSG_PING, .session = l->session, .cursor = seq_told };
            send_msg (l, &p);
            ping = zclock_mono () + 500;
        }
        int64_t until = ping < deadline ? ping : deadline;
        link_next (l, until);
    }
}

/* N made-up keys of ORIGIN (random ids, version 1) into KEYS; with
 * --origins, each of a new made-up origin. */
static int any_origin;

static void
made_up_keys (uint8_t *keys, size_t n, const uint8_t *origin)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t *key = keys + i * IM_MSG_HAVE_KEY;
        if (any_origin)
            randombytes_buf (key, IM_NODE_ID_SIZE);
        else
            memcpy (key, origin, IM_NODE_ID_SIZE);
        randombytes_buf (key + IM_NODE_ID_SIZE, IM_ID_SIZE);
        memset (key + IM_NODE_ID_SIZE + IM_ID_SIZE, 0, 8);
        key[IM_MSG_HAVE_KEY - 1] = 1;
    }
}

static uint8_t keys_buf[IM_MSG_CREDIT_MAX * IM_MSG_HAVE_KEY];
static long per = IM_MSG_CREDIT_MAX; /* keys a flood message */
static long rate;                    /* flood messages a second (0: at once) */
static size_t got_msgs, got_entries; /* answers read (RECORDS, FOUND, KEYS) */
static size_t got_hellos;            /* HELLOs read by drain */

/* Reads what L has for us now, without waiting: answers counted, PINGs
 * answered. */
static void
drain (link_t *l)
{
    static uint8_t keep[IM_MSG_MAX];
    static im_msg_t in;
    pong_flush (l);
    for (;;) {
        int n = zmq_recv (zsock_resolve (l->dealer), keep, sizeof keep, ZMQ_DONTWAIT);
        if (n < 0)
            return;
        if ((size_t)n > sizeof keep || im_msg_decode (keep, (size_t)n, &in, NULL, 0))
            continue;
        if (in.id == IM_MSG_RECORDS || in.id == IM_MSG_FOUND || in.id == IM_MSG_KEYS) {
            got_msgs++;
            got_entries += in.count;
        }
        else if (in.id == IM_MSG_PULL)
            note_pull (in.cursor);
        else if (in.id == IM_MSG_EAGER)
            note_eager (l, in.count);
        else if (in.id == IM_MSG_PING)
            pong (l);
        else if (in.id == IM_MSG_HELLO)
            got_hellos++;
    }
}

/* Before message I of a flood that started at START: waits for its slot at
 * --rate, reading answers meanwhile. */
static void
pace (link_t *l, long i, int64_t start)
{
    drain (l);
    if (!rate)
        return;
    int64_t at = start + i * 1000 / rate;
    while (zclock_mono () < at) {
        zclock_sleep (1);
        drain (l);
    }
}

static void
flood_keys (link_t *l, int id, long n, const uint8_t *origin)
{
    int64_t start = zclock_mono ();
    for (long i = 0; i < n; i++) {
        pace (l, i, start);
        made_up_keys (keys_buf, (size_t)per, origin);
        im_msg_t m = { .id = (uint8_t)id, .count = (size_t)per, .have = keys_buf };
        send_msg (l, &m);
    }
}

/* The two statements of a rotation of K's CURVE key to a made-up key and
 * back, validly signed by K and proved to the target whose CURVE key is
 * TARGET_HEX: ROT[0] moves away, ROT[1] moves back. */
static void
rotation_pair (const keys_t *k, const char *target_hex, im_msg_t rot[2])
{
    uint8_t mine[32], mine_sk[32], other[32], other_sk[32], target[32];
    size_t n = 0;
    zmq_z85_decode (mine, k->curve_public);
    zmq_z85_decode (mine_sk, k->curve_secret);
    crypto_box_keypair (other, other_sk);
    if (sodium_hex2bin (target, 32, target_hex, strlen (target_hex), NULL, &n, NULL) != 0
        || n != 32)
        fail (EXIT_SETUP, "the target's CURVE key is not 64 hex digits");
    for (int i = 0; i < 2; i++) {
        im_rotation_t r = { .issued = (int64_t)time (NULL) };
        r.until = r.issued + 86400;
        memcpy (r.node, k->pk, IM_NODE_ID_SIZE);
        memcpy (r.old_curve, i ? other : mine, 32);
        memcpy (r.new_curve, i ? mine : other, 32);
        memset (&rot[i], 0, sizeof rot[i]);
        rot[i].id = IM_MSG_ROTATE;
        if (im_rotation_sign (&r, k->sk, rot[i].rotation) != 0
            || im_rotation_prove (rot[i].rotation, i ? mine_sk : other_sk, target,
                                  rot[i].rotation_proof)
                   != 0)
            fail (EXIT_SETUP, "cannot sign a rotation");
    }
}

/* A storm of N messages on L, the answers read as they come and for a
 * second after the last: WHAT is hello-flood (HELLOs, each of a new
 * session, or with ONE_SESSION all of the first), bad-hello-flood (HELLOs
 * of another protocol version), junk-flood (frames of one byte, which do not
 * decode) or rotate-flip (a rotation of our CURVE key to a made-up one and
 * back, in turn, proved to the target, whose CURVE key is TARGET_HEX). */
static void
storm (link_t *l, const keys_t *k, const char *what, long n, int one_session,
       const char *target_hex)
{
    static im_msg_t rot[2];
    if (strcmp (what, "rotate-flip") == 0)
        rotation_pair (k, target_hex, rot);
    int64_t start = zclock_mono ();
    for (long i = 0; i < n; i++) {
        pace (l, i, start);
        if (strcmp (what, "junk-flood") == 0) {
            uint8_t junk = 0xff;
            if (zmq_send (zsock_resolve (l->dealer), &junk, 1, 0) < 0)
                l->send_failed++;
            else
                l->sent++;
            continue;
        }
        im_msg_t m;
        memset (&m, 0, sizeof m);
        if (strcmp (what, "rotate-flip") == 0)
            m = rot[i % 2];
        else {
            if (!one_session && what[0] == 'h') {
                randombytes_buf (&l->session, sizeof l->session);
                l->session |= 1;
            }
            pk_hello (&m, k, l->session);
            if (what[0] == 'b')
                m.version = IM_MSG_VERSION + 1;
        }
        send_msg (l, &m);
    }
    int64_t end = zclock_mono () + 1000;
    while (zclock_mono () < end) {
        zclock_sleep (5);
        drain (l);
    }
    printf ("mallory: %s sent %ld in %lld ms; %zu HELLOs read back\n", what, n,
            (long long)(zclock_mono () - start - 1000), got_hellos);
}

/* N PULLs from CURSOR, answers read as they come. */
static void
pull_flood (link_t *l, long n, uint64_t cursor)
{
    int64_t start = zclock_mono ();
    for (long i = 0; i < n; i++) {
        pace (l, i, start);
        im_msg_t m = { .id = IM_MSG_PULL, .cursor = cursor, .credit = IM_MSG_CREDIT_MAX };
        send_msg (l, &m);
    }
}

/* One SYNC from 0; then N FETCHes of the keys its KEYS named. */
static int
fetch_real (link_t *l, long n)
{
    im_msg_t s = { .id = IM_MSG_SYNC, .cursor = 0, .credit = IM_MSG_CREDIT_MAX };
    send_msg (l, &s);
    int64_t deadline = zclock_mono () + 15000;
    int id;
    while ((id = link_next (l, deadline)) != 0 && id != IM_MSG_KEYS)
        ;
    if (id != IM_MSG_KEYS || msg.count == 0)
        return -1;
    size_t count = msg.count;
    memcpy (keys_buf, msg.have, count * IM_MSG_HAVE_KEY);
    printf ("mallory: the target's KEYS named %zu keys\n", count);
    int64_t start = zclock_mono ();
    for (long i = 0; i < n; i++) {
        pace (l, i, start);
        im_msg_t m = { .id = IM_MSG_FETCH, .count = count, .have = keys_buf };
        send_msg (l, &m);
    }
    return 0;
}

/* A record of K's own (of ID, or a new id), version 1, signed; with BAD, one
 * byte of its signature is flipped. Returns its length in BUF. */
static size_t
own_record (const keys_t *k, int bad, const uint8_t *id, uint8_t *buf, size_t bufsz)
{
    static im_record_t rec;
    char err[256];
    size_t len = 0;
    im_record_init (&rec);
    memcpy (rec.origin, k->pk, IM_NODE_ID_SIZE);
    if (id)
        memcpy (rec.id, id, IM_ID_SIZE);
    else
        im_id_generate (rec.id);
    rec.type = IM_TYPE_DOMAIN;
    rec.tlp = IM_TLP_GREEN;
    rec.created = rec.modified = (int64_t)time (NULL);
    char value[64];
    uint32_t r = randombytes_random ();
    snprintf (value, sizeof value, "m%08x.mallory.example", (unsigned)r);
    snprintf (rec.value, sizeof rec.value, "%s", value);
    if (im_record_sign (&rec, k->sk, buf, bufsz, &len, err, sizeof err))
        fail (EXIT_SETUP, "cannot sign a record: %s", err);
    /* A byte of the signature's R: the check costs a full verification (a
     * changed S would be refused at once, out of range). */
    if (bad)
        buf[len - IM_BATCH_SIG] ^= 0x55;
    return len;
}

static uint8_t records_buf[IM_MSG_CREDIT_MAX][IM_RECORD_MAX];

/* A FOUND flood: one HAVE of a made-up key (found_start), the key in KEYS
 * to the target's SYNCs, and, to the target's first FETCH of it, FOUND_N
 * FOUND messages each holding a record of that very key, badly signed
 * (found_step). */
static long found_n, found_after = -1; /* answers to PULLs before it */
static int found_sent;

static void
found_start (link_t *l, const keys_t *k)
{
    made_up_keys (keys_buf, 1, k->pk);
    im_msg_t have = { .id = IM_MSG_HAVE, .count = 1, .have = keys_buf };
    send_msg (l, &have);
}

/* Does what the target's message ID (in MSG) asks of the FOUND flood. */
static void
found_step (link_t *l, const keys_t *k, int id)
{
    static uint8_t record[IM_RECORD_MAX];
    /* A HAVE is noted only while another peer brings that origin: the key
     * also goes in the answer to the target's next SYNC (anti-entropy). */
    if (id == IM_MSG_SYNC) {
        im_msg_t keys = { .id = IM_MSG_KEYS, .cursor = 1, .count = 1, .have = keys_buf };
        send_msg (l, &keys);
    }
    if (id != IM_MSG_FETCH || found_sent || msg.count < 1)
        return;
    size_t len = own_record (k, 1, msg.have + IM_NODE_ID_SIZE, record, sizeof record);
    for (long i = 0; i < found_n; i++) {
        im_msg_t *m = &msg;
        memset (m, 0, offsetof (im_msg_t, entries));
        m->id = IM_MSG_FOUND;
        m->count = 1;
        m->entries[0].record = record;
        m->entries[0].len = len;
        send_msg (l, m);
    }
    found_sent = 1;
}

static int
found_flood (link_t *l, const keys_t *k, long n)
{
    found_n = n;
    found_start (l, k);
    int64_t deadline = zclock_mono () + 15000;
    int id;
    while (!found_sent && (id = link_next (l, deadline)) != 0)
        found_step (l, k, id);
    return found_sent ? 0 : -1;
}

/* N valid records of its own, in FOUND messages nobody asked for. */
static void
push (link_t *l, const keys_t *k, long n)
{
    while (n > 0) {
        size_t count = n > IM_MSG_CREDIT_MAX ? IM_MSG_CREDIT_MAX : (size_t)n;
        memset (&msg, 0, offsetof (im_msg_t, entries));
        msg.id = IM_MSG_FOUND;
        msg.count = count;
        for (size_t i = 0; i < count; i++) {
            msg.entries[i].len = own_record (k, 0, NULL, records_buf[i], IM_RECORD_MAX);
            msg.entries[i].record = records_buf[i];
        }
        send_msg (l, &msg);
        n -= (long)count;
    }
}

/* Answers the target's PULLs with N valid records, each signed by a new
 * made-up origin: every one of them a new origin at the target. With --batch
 * K, a new origin every K records, which it seals K to a signature. Prints
 * how long the target took from each RECORDS to its next PULL. */
static long batch = 1;

static int
origins (link_t *l, long n, int64_t deadline)
{
    uint64_t cursor = 0;
    long done = 0;
    int id;
    int64_t sent = 0, took = 0; /* usecs */
    size_t answered = 0;
    keys_t o;
    while ((id = link_next (l, deadline)) != 0) {
        if (id != IM_MSG_PULL)
            continue;
        if (sent) {
            took += zclock_usecs () - sent;
            answered++;
            sent = 0;
        }
        if (done == n)
            break;
        if (msg.cursor > cursor)
            cursor = msg.cursor;
        size_t count = (size_t)(n - done) < msg.credit ? (size_t)(n - done) : msg.credit;
        memset (&msg, 0, offsetof (im_msg_t, entries));
        msg.id = IM_MSG_RECORDS;
        for (size_t at = 0; at < count; at += (size_t)batch) {
            size_t m = count - at < (size_t)batch ? count - at : (size_t)batch;
            uint8_t *recs[IM_BATCH_MAX];
            size_t lens[IM_BATCH_MAX];
            char err[256];
            crypto_sign_keypair (o.pk, o.sk);
            for (size_t i = at; i < at + m; i++) {
                msg.entries[i].len
                    = own_record (&o, 0, NULL, records_buf[i], IM_RECORD_MAX);
                msg.entries[i].record = records_buf[i];
                msg.entries[i].hops = 0;
                recs[i - at] = records_buf[i];
                lens[i - at] = msg.entries[i].len;
            }
            if (m > 1 && im_record_seal (recs, lens, m, o.sk, err, sizeof err))
                fail (EXIT_SETUP, "cannot seal: %s", err);
        }
        cursor += count;
        msg.cursor = cursor;
        msg.count = count;
        sent = zclock_usecs ();
        send_msg (l, &msg);
        done += (long)count;
    }
    printf ("mallory: the target took %lld us to apply %zu RECORDS of %ld records in "
            "batches of %ld\n",
            (long long)took, answered, done, batch);
    return done == n ? 0 : -1;
}

/* Answers the target's next N PULLs with RECORDS of PER records that say
 * more, badly signed with BAD, the cursor C (or jumping, with JUMP). */
static int hello_again; /* --hello */

/* As if restarted: a HELLO of a new session on L (PINGs and PONGs then
 * tell that session). */
static void
restart (link_t *l, const keys_t *k)
{
    randombytes_buf (&l->session, sizeof l->session);
    l->session |= 1;
    memset (&msg, 0, sizeof msg);
    pk_hello (&msg, k, l->session);
    send_msg (l, &msg);
}

static int
answer (link_t *l, const keys_t *k, long n, int64_t deadline, uint64_t c, int bad,
        int jump)
{
    long answered = 0;
    uint64_t lo = UINT64_MAX, hi = 0, last = 0;
    size_t count = (size_t)per;
    static size_t lens[IM_MSG_CREDIT_MAX];
    for (size_t i = 0; (bad || same) && i < count; i++)
        lens[i] = own_record (k, bad, NULL, records_buf[i], IM_RECORD_MAX);
    int id;
    int64_t start = zclock_mono ();
    pulls_wanted = 1;
    if (found_n)
        found_start (l, k);
    while ((answered < n || (found_n && !found_sent))
           && (id = link_next (l, deadline)) != 0) {
        if (id != IM_MSG_PULL || answered == n) {
            if (found_n && !found_sent) {
                found_step (l, k, id);
                found_after = answered;
            }
            continue;
        }
        last = msg.cursor;
        lo = last < lo ? last : lo;
        hi = last > hi ? last : hi;
        /* --rate R: at most R answers a second. */
        while (rate && zclock_mono () < start + answered * 1000 / rate) {
            zclock_sleep (5);
            pong_flush (l);
        }
        size_t m = count < msg.credit ? count : msg.credit;
        memset (&msg, 0, offsetof (im_msg_t, entries));
        for (size_t i = 0; i < m; i++) {
            if (!bad && !same)
                lens[i] = own_record (k, 0, NULL, records_buf[i], IM_RECORD_MAX);
            msg.entries[i].record = records_buf[i];
            msg.entries[i].len = lens[i];
            msg.entries[i].hops = 0;
        }
        msg.id = IM_MSG_RECORDS;
        msg.count = m;
        msg.more = IM_MSG_MORE;
        msg.cursor = !jump ? c : answered % 2 ? 1 : c * (uint64_t)answered + c;
        send_msg (l, &msg);
        answered++;
        if (hello_again)
            restart (l, k);
    }
    printf ("mallory: answered %ld PULLs; they asked from cursors %llu to %llu, the last "
            "from %llu\n",
            answered, (unsigned long long)(answered ? lo : 0), (unsigned long long)hi,
            (unsigned long long)last);
    if (found_n)
        printf ("mallory: %s %ld FOUND of the key the target fetched, after %ld "
                "answers\n",
                found_sent ? "sent" : "could not send", found_n, found_after);
    return answered == n && (!found_n || found_sent) ? 0 : -1;
}

/* Pulls one record from SOURCE, answers the target's first PULL with it, and
 * then nothing but FAKE HAVE messages of made-up keys of its origin. */
static int
withhold (link_t *target, link_t *source, int64_t deadline, long fake)
{
    static uint8_t record[IM_RECORD_MAX];
    size_t len = 0;
    uint8_t hops = 0;
    im_msg_t pull = { .id = IM_MSG_PULL, .cursor = 0, .credit = 1 };
    send_msg (source, &pull);
    int id;
    while ((id = link_next (source, deadline)) != 0) {
        if (id == IM_MSG_RECORDS && msg.count > 0) {
            len = msg.entries[0].len;
            hops = msg.entries[0].hops;
            memcpy (record, msg.entries[0].record, len);
            break;
        }
        if (id == IM_MSG_RECORDS || id == IM_MSG_HELLO)
            send_msg (source, &pull);
    }
    if (!len)
        return -1;
    while ((id = link_next (target, deadline)) != 0 && id != IM_MSG_PULL)
        ;
    if (id != IM_MSG_PULL)
        return -1;
    uint64_t asked = msg.cursor;
    memset (&msg, 0, offsetof (im_msg_t, entries));
    msg.id = IM_MSG_RECORDS;
    msg.cursor = same_cursor ? asked : 1;
    msg.more = more_told ? IM_MSG_MORE : 0; /* --more: it says it has more */
    msg.count = 1;
    msg.entries[0].hops = hops;
    msg.entries[0].record = record;
    msg.entries[0].len = len;
    send_msg (target, &msg);
    if (rescan_after) {
        while ((id = link_next (target, deadline)) != 0 && id != IM_MSG_PULL)
            ;
        if (id != IM_MSG_PULL)
            return -1;
        asked = msg.cursor;
        memset (&msg, 0, offsetof (im_msg_t, entries));
        msg.id = IM_MSG_RECORDS;
        msg.cursor = asked;
        msg.more = IM_MSG_MORE;
        msg.count = 1; /* the record again: a rescan's answer is never empty */
        msg.entries[0].hops = hops;
        msg.entries[0].record = record;
        msg.entries[0].len = len;
        send_msg (target, &msg);
        printf ("mallory: answered the next PULL, from %llu, as a rescan does\n",
                (unsigned long long)asked);
    }
    im_record_head_t head;
    if (fake && im_record_peek (record, len, &head) == 0)
        flood_keys (target, IM_MSG_HAVE, fake, head.origin);
    return 0;
}

/* Records pulled from the source and not yet passed on (late, steal). */
#define HELD_MAX 4096
typedef struct {
    uint8_t record[IM_RECORD_MAX];
    size_t len;
    uint8_t hops;
    int64_t at; /* when it came (monotonic ms) */
    uint8_t key[IM_MSG_HAVE_KEY];
} held_t;
static held_t held[HELD_MAX];
static size_t held_head, held_n;
static long delay_ms;     /* --delay */
static int ignore_first;  /* --ignore-first */
static int ignore_fetch;  /* --ignore-fetch */
static int restart_first; /* --restart-first */
static link_t *twin;      /* --twin KEYS: late's second peer, or NULL */

/* A link's PULL waiting here: whether one came, its cursor and credit, and
 * the cursor our answers have told it. */
typedef struct {
    int pulled;
    uint64_t cursor, told;
    size_t credit;
} pull_t;

/* Reads L's messages for 2 ms, keeping the last PULL in P. */
static void
pulls_read (link_t *l, pull_t *p)
{
    while (link_next (l, zclock_mono () + 2) == IM_MSG_PULL) {
        p->pulled = 1;
        p->cursor = msg.cursor;
        p->credit = msg.credit;
    }
}

/* Answers L's PULL P with the first M records held. */
static void
late_send (link_t *l, pull_t *p, size_t m)
{
    memset (&msg, 0, offsetof (im_msg_t, entries));
    msg.id = IM_MSG_RECORDS;
    for (size_t i = 0; i < m; i++) {
        held_t *h = &held[(held_head + i) % HELD_MAX];
        msg.entries[i]
            = (im_msg_entry_t){ .record = h->record, .len = h->len, .hops = h->hops };
    }
    msg.count = m;
    p->told = (p->cursor > p->told ? p->cursor : p->told) + m;
    msg.cursor = p->told;
    msg.more = more_told ? IM_MSG_MORE : 0; /* --more: it says it has more */
    send_msg (l, &msg);
    p->pulled = 0;
}

/* A PING to L every 500 ms (due at *AT), so that it sees us connected. */
static void
ping_due (link_t *l, int64_t *at)
{
    if (zclock_mono () < *at)
        return;
    im_msg_t p = { .id = IM_MSG_PING, .session = l->session, .cursor = seq_told };
    send_msg (l, &p);
    *at = zclock_mono () + 500;
}

/* Pulls what the source has for us now into HELD (PULL at CURSOR, credit
 * 1000); each record's time, and its key. Returns how many came. */
static size_t
source_read (link_t *source, uint64_t *cursor)
{
    size_t got = 0;
    int id;
    while ((id = link_next (source, zclock_mono () + 2)) != 0) {
        if (id == IM_MSG_RECORDS) {
            for (size_t i = 0; i < msg.count && held_n < HELD_MAX; i++) {
                im_record_head_t head;
                if (im_record_peek (msg.entries[i].record, msg.entries[i].len, &head))
                    continue;
                held_t *h = &held[(held_head + held_n++) % HELD_MAX];
                memcpy (h->record, msg.entries[i].record, msg.entries[i].len);
                h->len = msg.entries[i].len;
                h->hops = msg.entries[i].hops;
                h->at = zclock_mono ();
                memcpy (h->key, head.origin, IM_NODE_ID_SIZE);
                memcpy (h->key + IM_NODE_ID_SIZE, head.id, IM_ID_SIZE);
                im_put_be64 (h->key + IM_NODE_ID_SIZE + IM_ID_SIZE,
                             (int64_t)head.version);
                got++;
            }
            *cursor = msg.cursor > *cursor ? msg.cursor : *cursor;
        }
        if (id == IM_MSG_RECORDS || id == IM_MSG_HELLO) {
            im_msg_t pull = { .id = IM_MSG_PULL, .cursor = *cursor, .credit = 1000 };
            send_msg (source, &pull);
        }
    }
    return got;
}

/* late: each of the source's records goes to the target in the answer to
 * its PULL --delay MS after it came here (the first at once, so that this
 * peer brings the target that origin first); the target's PULL waits here
 * meanwhile, as at a node with nothing new. */
static int
late (link_t *target, link_t *source, int64_t deadline)
{
    uint64_t scur = 0;
    size_t brought = 0;
    int64_t one_pulled = 0; /* since when one link's PULL waits for the other's */
    pull_t tp = { 0 }, wp = { .pulled = !twin, .credit = IM_MSG_CREDIT_MAX };
    im_msg_t pull = { .id = IM_MSG_PULL, .cursor = 0, .credit = 1000 };
    if (!twin) /* (with --twin, only the pull at the HELLO: no record twice) */
        send_msg (source, &pull);
    for (int64_t ping = 0, wping = 0; zclock_mono () < deadline;) {
        ping_due (target, &ping);
        source_read (source, &scur);
        pulls_read (target, &tp);
        if (twin) {
            ping_due (twin, &wping);
            pulls_read (twin, &wp);
        }
        size_t m = 0;
        int64_t now = zclock_mono ();
        if (tp.pulled != wp.pulled && held_n && !one_pulled)
            one_pulled = now;
        if (one_pulled > 0 && now - one_pulled >= 5000) {
            printf ("mallory: late: records wait 5 s for the %s's PULL\n",
                    tp.pulled ? "twin" : "target");
            one_pulled = -1; /* said once */
        }
        while (tp.pulled && wp.pulled && m < held_n && m < tp.credit && m < wp.credit
               && (brought == 0 && !twin
                       ? m < 1
                       : now - held[(held_head + m) % HELD_MAX].at >= delay_ms))
            m++;
        if (m == 0)
            continue;
        /* With --twin, both answers go in the same instant: the target
         * checks the second before it has stored the first. */
        late_send (target, &tp, m);
        if (twin)
            late_send (twin, &wp, m);
        one_pulled = one_pulled < 0 ? -1 : 0;
        held_head = (held_head + m) % HELD_MAX;
        held_n -= m;
        brought += m;
    }
    printf ("mallory: late brought %zu records\n", brought);
    return brought ? 0 : -1;
}

/* steal: of the records the source stores from now on, the 1st, 3rd, ...
 * are noted to the target at once and brought when it fetches them (with
 * --ignore-first, when it fetches them again); the others are withheld. The
 * target's PULLs are never answered. */
static int
steal (link_t *target, const keys_t *k, link_t *source, int64_t deadline)
{
    uint64_t scur = 0;
    size_t noted = 0, fetches = 0, seen = 0;
    int64_t restarted_at = 0; /* --restart-first: when */
    im_msg_t pull = { .id = IM_MSG_PULL, .cursor = 0, .credit = 1000 };
    send_msg (source, &pull);
    while (source_read (source, &scur) == 0) /* what it held before: dropped */
        if (zclock_mono () >= deadline)
            return -1;
    held_head = held_n = 0;
    for (int64_t ping = 0; zclock_mono () < deadline;) {
        ping_due (target, &ping);
        for (size_t got = source_read (source, &scur); got; got--) {
            held_t *h = &held[(held_head + held_n - got) % HELD_MAX];
            if (seen++ % 2)
                continue; /* withheld */
            im_msg_t have = { .id = IM_MSG_HAVE, .count = 1, .have = h->key };
            send_msg (target, &have);
            noted++;
        }
        if (link_next (target, zclock_mono () + 2) != IM_MSG_FETCH)
            continue;
        fetches++;
        if (ignore_fetch || (ignore_first && fetches % 2 == 1)) {
            /* Left for the target to take as lost, and ask again. */
            printf ("mallory: FETCH %zu of %zu keys left unanswered\n", fetches,
                    (size_t)msg.count);
            fflush (stdout);
            continue;
        }
        static uint8_t asked[IM_MSG_CREDIT_MAX * IM_MSG_HAVE_KEY];
        size_t nasked = msg.count;
        memcpy (asked, msg.have, nasked * IM_MSG_HAVE_KEY);
        if (restart_first && fetches == 1) {
            /* As if it restarted with the FETCH in hand: a HELLO of a new
             * session, then the old run's FOUND all the same, which the
             * target must refuse (not asked of this run). */
            restart (target, k);
            restarted_at = zclock_mono ();
            printf ("mallory: FETCH 1 of %zu keys answered after a restart (a HELLO of a "
                    "new session)\n",
                    nasked);
        }
        else if (restarted_at && fetches == 2)
            printf ("mallory: FETCH 2 came %lld ms after the restart\n",
                    (long long)(zclock_mono () - restarted_at));
        memset (&msg, 0, offsetof (im_msg_t, entries));
        msg.id = IM_MSG_FOUND;
        for (size_t i = 0; i < held_n && msg.count < nasked; i++) {
            held_t *h = &held[(held_head + i) % HELD_MAX];
            for (size_t j = 0; j < nasked; j++)
                if (memcmp (h->key, asked + j * IM_MSG_HAVE_KEY, IM_MSG_HAVE_KEY) == 0) {
                    msg.entries[msg.count++] = (im_msg_entry_t){ .record = h->record,
                                                                 .len = h->len,
                                                                 .hops = h->hops };
                    break;
                }
        }
        send_msg (target, &msg);
    }
    printf ("mallory: steal noted %zu records, got %zu FETCH\n", noted, fetches);
    return 0;
}

/* The source's real keys (a SYNC from 0), noted to the target first; then,
 * until DEADLINE, every FETCH answered with an empty FOUND (MUTE: none). */
static int
claim (link_t *target, link_t *source, int64_t deadline, int mute)
{
    im_msg_t s = { .id = IM_MSG_SYNC, .cursor = 0, .credit = IM_MSG_CREDIT_MAX };
    send_msg (source, &s);
    int id;
    while ((id = link_next (source, deadline)) != 0 && id != IM_MSG_KEYS)
        ;
    if (id != IM_MSG_KEYS || msg.count == 0)
        return -1;
    size_t count = msg.count, fetches = 0;
    memcpy (keys_buf, msg.have, count * IM_MSG_HAVE_KEY);
    im_msg_t have = { .id = IM_MSG_HAVE, .count = count, .have = keys_buf };
    send_msg (target, &have);
    printf ("mallory: claim noted %zu of the source's keys\n", count);
    int64_t ping = 0;
    while (zclock_mono () < deadline) {
        ping_due (target, &ping);
        if (link_next (target, ping < deadline ? ping : deadline) != IM_MSG_FETCH)
            continue;
        fetches++;
        if (!mute) {
            memset (&msg, 0, offsetof (im_msg_t, entries));
            msg.id = IM_MSG_FOUND;
            send_msg (target, &msg);
        }
    }
    printf ("mallory: claim got %zu FETCH\n", fetches);
    return 0;
}

/* N lists of PER made-up origins (ORIGIN first), EAGER and LAZY in turn. */
static void
lists (link_t *l, long n, const uint8_t *origin)
{
    int64_t start = zclock_mono ();
    for (long i = 0; i < n; i++) {
        pace (l, i, start);
        randombytes_buf (keys_buf, (size_t)per * IM_NODE_ID_SIZE);
        memcpy (keys_buf, origin, IM_NODE_ID_SIZE);
        im_msg_t m = { .id = i % 2 ? IM_MSG_LAZY : IM_MSG_EAGER,
                       .count = (size_t)per,
                       .have = keys_buf };
        send_msg (l, &m);
    }
    /* How fast they went: a quota is over only if faster than its rate. */
    printf ("mallory: lists took %lld ms to send\n", (long long)(zclock_mono () - start));
}

int
main (int argc, char **argv)
{
    const char *keys_path = NULL, *target_ep = NULL, *target_key = NULL;
    const char *source_ep = NULL, *source_key = NULL, *action = NULL;
    const char *origin_hex = NULL, *twin_keys = NULL;
    long n = 0, duration = 0, fake = 0;
    int bad = 0, jump = 0, mute = 0;
    uint64_t cursor = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--keys") == 0 && i + 1 < argc)
            keys_path = argv[++i];
        else if (strcmp (argv[i], "--target") == 0 && i + 2 < argc) {
            target_ep = argv[++i];
            target_key = argv[++i];
        }
        else if (strcmp (argv[i], "--source") == 0 && i + 2 < argc) {
            source_ep = argv[++i];
            source_key = argv[++i];
        }
        else if (strcmp (argv[i], "--origin") == 0 && i + 1 < argc)
            origin_hex = argv[++i];
        else if (strcmp (argv[i], "--fake-have") == 0 && i + 1 < argc)
            fake = strtol (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--per") == 0 && i + 1 < argc)
            per = strtol (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--rate") == 0 && i + 1 < argc)
            rate = strtol (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--cursor") == 0 && i + 1 < argc)
            cursor = strtoull (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--batch") == 0 && i + 1 < argc)
            batch = strtol (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--found") == 0 && i + 1 < argc)
            found_n = strtol (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--bad") == 0)
            bad = 1;
        else if (strcmp (argv[i], "--mute") == 0)
            mute = 1;
        else if (strcmp (argv[i], "--origins") == 0)
            any_origin = 1;
        else if (strcmp (argv[i], "--jump") == 0)
            jump = 1;
        else if (strcmp (argv[i], "--same") == 0)
            same = 1;
        else if (strcmp (argv[i], "--pong-delay") == 0 && i + 1 < argc)
            pong_delay = strtol (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--more") == 0)
            more_told = 1;
        else if (strcmp (argv[i], "--same-cursor") == 0)
            same_cursor = 1;
        else if (strcmp (argv[i], "--rescan-after") == 0)
            rescan_after = 1;
        else if (strcmp (argv[i], "--seq") == 0 && i + 1 < argc)
            seq_told = strtoull (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--delay") == 0 && i + 1 < argc)
            delay_ms = strtol (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--ignore-first") == 0)
            ignore_first = 1;
        else if (strcmp (argv[i], "--ignore-fetch") == 0)
            ignore_fetch = 1;
        else if (strcmp (argv[i], "--restart-first") == 0)
            restart_first = 1;
        else if (strcmp (argv[i], "--twin") == 0 && i + 1 < argc)
            twin_keys = argv[++i];
        else if (strcmp (argv[i], "--hello") == 0)
            hello_again = 1;
        else if (strcmp (argv[i], "--duration") == 0 && i + 1 < argc)
            duration = strtol (argv[++i], NULL, 10);
        else if (!action && argv[i][0] != '-') {
            action = argv[i];
            if (strcmp (action, "withhold") != 0 && strcmp (action, "claim") != 0
                && strcmp (action, "late") != 0 && strcmp (action, "steal") != 0) {
                if (i + 1 >= argc)
                    usage ();
                n = strtol (argv[++i], NULL, 10);
                if (n < 1 || n > 10000000)
                    fail (EXIT_SETUP, "%s: N must be from 1 to 10000000", action);
            }
        }
        else
            usage ();
    }
    if (!keys_path || !target_ep || !action || duration < 0 || fake < 0 || fake > 10000000
        || per < 1 || per > IM_MSG_CREDIT_MAX || found_n < 0 || rate < 0 || batch < 1
        || pong_delay < 0 || pong_delay > 60000 || batch > IM_BATCH_MAX || delay_ms < 0
        || delay_ms > 600000 || (twin_keys && strcmp (action, "late") != 0))
        usage ();
    if (sodium_init () < 0)
        fail (EXIT_SETUP, "libsodium cannot start");
    zsys_init ();
    zsys_set_logstream (NULL);
    setvbuf (stdout, NULL, _IOLBF, 0); /* each line as it comes */
    keys_t k;
    keys_read (&k, keys_path);
    uint8_t origin[IM_NODE_ID_SIZE];
    memcpy (origin, k.pk, IM_NODE_ID_SIZE);
    size_t binlen = 0;
    if (origin_hex
        && (sodium_hex2bin (origin, sizeof origin, origin_hex, strlen (origin_hex), NULL,
                            &binlen, NULL)
            || binlen != IM_NODE_ID_SIZE))
        fail (EXIT_SETUP, "--origin is not 64 hex digits");

    link_t target = { .what = "target" }, source = { .what = "source" };
    link_up (&target, &k, target_ep, target_key);
    link_wait_hello (&target);
    int rc = 0;
    if (strcmp (action, "have-flood") == 0)
        flood_keys (&target, IM_MSG_HAVE, n, origin);
    else if (strcmp (action, "fetch-flood") == 0)
        flood_keys (&target, IM_MSG_FETCH, n, origin);
    else if (strcmp (action, "sync-flood") == 0)
        for (long i = 0; i < n; i++) {
            im_msg_t s = { .id = IM_MSG_SYNC, .cursor = 0, .credit = IM_MSG_CREDIT_MAX };
            send_msg (&target, &s);
        }
    else if (strcmp (action, "pull-flood") == 0)
        pull_flood (&target, n, cursor);
    else if (strcmp (action, "hello-flood") == 0
             || strcmp (action, "bad-hello-flood") == 0
             || strcmp (action, "junk-flood") == 0 || strcmp (action, "rotate-flip") == 0)
        storm (&target, &k, action, n, same, target_key);
    else if (strcmp (action, "fetch-real") == 0)
        rc = fetch_real (&target, n);
    else if (strcmp (action, "origins") == 0)
        rc = origins (&target, n, zclock_mono () + 60000);
    else if (strcmp (action, "found-flood") == 0)
        rc = found_flood (&target, &k, n);
    else if (strcmp (action, "answer") == 0)
        /* 4 minutes: a target verifying 200,000 bad signatures beside
         * make check -j8 and another suite took more than one (t34). */
        rc = answer (&target, &k, n, zclock_mono () + 240000 + duration,
                     cursor ? cursor : 1, bad, jump);
    else if (strcmp (action, "push") == 0)
        push (&target, &k, n);
    else if (strcmp (action, "lists") == 0)
        lists (&target, n, origin);
    else if (strcmp (action, "late") == 0 || strcmp (action, "steal") == 0) {
        if (!source_ep)
            usage ();
        link_up (&source, &k, source_ep, source_key);
        static link_t tw = { .what = "twin" };
        if (twin_keys) {
            keys_t k2;
            keys_read (&k2, twin_keys);
            if (memcmp (k2.pk, k.pk, sizeof k.pk) == 0)
                fail (EXIT_SETUP, "--twin: the twin needs keys of its own");
            link_up (&tw, &k2, target_ep, target_key);
            link_wait_hello (&tw);
            twin = &tw;
        }
        rc = action[0] == 'l' ? late (&target, &source, zclock_mono () + duration)
                              : steal (&target, &k, &source, zclock_mono () + duration);
        duration = 0; /* it stayed that long already */
    }
    else if (strcmp (action, "withhold") == 0 || strcmp (action, "claim") == 0) {
        if (!source_ep)
            usage ();
        link_up (&source, &k, source_ep, source_key);
        rc = action[0] == 'w' ? withhold (&target, &source, zclock_mono () + 20000, fake)
                              : claim (&target, &source, zclock_mono () + duration, mute);
        if (action[0] == 'c')
            duration = 0; /* it stayed that long already */
    }
    else
        usage ();
    if (rc != 0)
        fail (EXIT_FAILED, "%s: the target did not play along", action);
    int64_t end = zclock_mono () + duration;
    if (got_msgs || !strcmp (action, "pull-flood") || !strcmp (action, "fetch-real"))
        while (zclock_mono () < end) { /* the answers still coming are read */
            zclock_sleep (5);
            drain (&target);
        }
    printf ("mallory: %s sent %zu messages (%zu could not go); read %zu answers "
            "holding %zu entries\n",
            action, target.sent, target.send_failed, got_msgs, got_entries);
    fflush (stdout);
    linger (&target, end);
    pulls_report ();
    zsock_destroy (&target.dealer);
    if (twin)
        zsock_destroy (&twin->dealer);
    zsock_destroy (&source.dealer);
    return 0;
}
