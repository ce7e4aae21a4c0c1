/* SPDX-License-Identifier: MPL-2.0 */
/* fake_peer.c -- an unknown or misbehaving peer for tests/t40-mesh-security.sh and
 * tests/t50-policy-rules.sh: makes its own keys and card, tries the CURVE
 * handshake, dials in as a trusted peer to answer a node's PULL with forged or
 * bad records, or with a valid record shaped to break a sharing rule (label,
 * reach, recipients, validity, hops, an origin whose keys it holds), or
 * outstays its removal. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <czmq.h>
#include <sodium.h>

#include "im_config.h"
#include "im_ioc.h"
#include "im_msg.h"
#include "im_record.h"
#include "im_time.h"
#include "peerkit.h"

#define EXIT_OUTCOME 1 /* not the outcome asked for, or a protocol surprise */
#define EXIT_SETUP 2   /* usage, keys, sockets */
#define TIMEOUT_DEFAULT 10000
#define GRACE_MS 500 /* after a refused handshake: anything more? */
#define SEND_TIMEOUT_MS 5000
#define MONITOR_ENDPOINT "inproc://fake-peer-monitor"

/* What `inject` sends when the target pulls. */
typedef enum {
    MODE_NONE,
    MODE_GOOD,      /* one valid GREEN record of its own: must be stored */
    MODE_FORGE,     /* another node's origin, signed with our key */
    MODE_TAMPER,    /* our valid record, one byte of the value changed after */
    MODE_MALFORMED, /* garbage and a truncated record as entries */
    MODE_AMBER,     /* a valid AMBER record of its own, at hops 0 */
    MODE_PROTOCOL,  /* a message that is not one */
    MODE_CRAFT      /* one valid record shaped by the options below */
} inject_mode_t;

static const char *mode_names[]
    = { "?", "good", "forge", "tamper", "malformed", "amber", "protocol", "craft" };

/* The shape of a --craft record and its entry: a valid, signed record, as a
 * trusted peer could send it, that may break a rule of "Sharing policy". */
typedef struct {
    int type;            /* im_type_t; domain by default */
    int tlp;             /* im_tlp_t; green by default */
    int reach;           /* 0..255 (255: unlimited, the default) */
    int hops;            /* the entry's hops: 0..255 */
    int confidence;      /* 0..100; -1: the default */
    int64_t valid_until; /* 0: unset */
    int revoke;          /* a tombstone (op revoke) */
    uint64_t version;    /* 1 by default */
    int has_id;          /* id given: an update or a revocation */
    uint8_t id[IM_ID_SIZE];
    size_t ntags;
    const char *tags[IM_TAGS_MAX];
    size_t nto;
    uint8_t to[IM_RECIPIENTS_MAX][IM_NODE_ID_SIZE];
    const char *origin_keys; /* sign as the origin of these keys */
    int shaped;              /* any of the above was given */
} shape_t;

/* Large: the message codec's scratch space. */
static im_msg_t msg;
static uint8_t wire[IM_MSG_MAX];

static void die (int code, const char *fmt, ...)
    __attribute__ ((noreturn, format (printf, 2, 3)));

static void
die (int code, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "fake_peer: ");
    vfprintf (stderr, fmt, ap);
    fprintf (stderr, "\n");
    va_end (ap);
    fflush (stdout);
    _exit (code); /* sockets and all: the process is done */
}

static void usage (void) __attribute__ ((noreturn));

static void
usage (void)
{
    fprintf (
        stderr,
        "Usage: fake_peer card --name NAME --keys FILE\n"
        "       fake_peer card --keys FILE   (prints the card of existing keys)\n"
        "       fake_peer handshake ENDPOINT SERVER-CURVE-HEX --keys FILE\n"
        "                 --expect ok|refused [--timeout MS]\n"
        "       fake_peer inject ENDPOINT SERVER-CURVE-HEX --keys FILE\n"
        "                 --good|--forge|--tamper|--malformed|--amber|--protocol\n"
        "                 [--value DOMAIN] [--origin NODE-HEX] [--timeout MS]\n"
        "       fake_peer inject ENDPOINT SERVER-CURVE-HEX --keys FILE --craft\n"
        "                 [--type TYPE] [--value VALUE] [--tlp LABEL] [--reach N]\n"
        "                 [--hops N] [--confidence N] [--valid-until TIME]\n"
        "                 [--tag TAG]... [--to NODE-HEX]... [--origin-keys FILE]\n"
        "                 [--id UUID] [--version N] [--revoke] [--timeout MS]\n"
        "         --craft sends one valid record of that shape (default: a green\n"
        "         domain of its own, reach unlimited, hops 0), signed with the keys\n"
        "         of --origin-keys (another 'fake_peer card' key file) if given.\n"
        "       fake_peer linger ENDPOINT SERVER-CURVE-HEX --keys FILE --wait-file PATH\n"
        "                 [--value DOMAIN] [--timeout MS]\n"
        "       fake_peer rotate ENDPOINT SERVER-CURVE-HEX --keys FILE\n"
        "                 --new-key HEX|--new-keys FILE --grace SECONDS\n"
        "                 --expect acked|refused [--timeout MS]\n"
        "         rotate says, signed, that its CURVE key moves to HEX (any key,\n"
        "         another peer's too: its proof of holding it is made with a\n"
        "         random secret) or to the CURVE key of the key file FILE (and\n"
        "         proves it holds it), and waits for ROTATED.\n"
        "       fake_peer pull-flood ENDPOINT SERVER-CURVE-HEX --keys FILE --pulls N\n"
        "                 [--links K] [--wait-file PATH] [--ack] [--timeout MS]\n"
        "         pull-flood says HELLO on K links (1 to 16, default 1), sends N PULLs\n"
        "         with cursor 0 on each without reading, holds the links until\n"
        "         PATH exists (60 s at most), and with --ack acknowledges the first\n"
        "         RECORDS on the first link with a PULL from its cursor.\n"
        "Exits 0 for the outcome asked for, 1 for any other, 2 on a setup error.\n");
    exit (EXIT_SETUP);
}

/* --- Keys -------------------------------------------------------------- */

static void
keys_make (keys_t *k, const char *name, const char *path)
{
    char why[256];
    if (pk_keys_make (k, name, path, why, sizeof why) != 0)
        die (EXIT_SETUP, "%s", why);
}

static void
keys_load (keys_t *k, const char *path)
{
    char why[256];
    if (pk_keys_load (k, path, why, sizeof why) != 0)
        die (EXIT_SETUP, "%s", why);
}

static void
print_card (const keys_t *k)
{
    if (pk_card_print (k) != 0)
        die (EXIT_SETUP, "bad CURVE public key");
}

/* A CURVE DEALER for the server SERVER_HEX, not yet connected. */
static zsock_t *
dealer_new (const keys_t *k, const char *server_hex)
{
    char why[256];
    zsock_t *d = pk_dealer_new (k, server_hex, SEND_TIMEOUT_MS, why, sizeof why);
    if (!d)
        die (EXIT_SETUP, "%s", why);
    return d;
}

/* --- The link to the target -------------------------------------------- */

typedef struct {
    zsock_t *dealer;
    zsock_t *monitor;
    zpoller_t *poller;
    int handshake;    /* 0 pending, 1 succeeded, -1 refused (auth), -2 other failure */
    int status;       /* ZAP status code of a refusal */
    int disconnected; /* the connection was closed (by either side) */
    size_t received;  /* messages that came back */
} link_t;

static void
link_open (link_t *l, const keys_t *k, const char *endpoint, const char *server_hex)
{
    memset (l, 0, sizeof *l);
    l->dealer = dealer_new (k, server_hex);
    zsock_set_rcvtimeo (l->dealer, SEND_TIMEOUT_MS);
    /* One attempt per second at most: a refused key is counted per attempt. */
    zsock_set_reconnect_ivl (l->dealer, 1000);
    if (zmq_socket_monitor (
            zsock_resolve (l->dealer), MONITOR_ENDPOINT,
            ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_DISCONNECTED)
        != 0)
        die (EXIT_SETUP, "zmq_socket_monitor: %s", zmq_strerror (zmq_errno ()));
    l->monitor = zsock_new_pair (">" MONITOR_ENDPOINT);
    if (!l->monitor)
        die (EXIT_SETUP, "cannot connect the monitor");
    if (zsock_connect (l->dealer, "%s", endpoint) != 0)
        die (EXIT_SETUP, "cannot connect to %s", endpoint);
    l->poller = zpoller_new (l->dealer, l->monitor, NULL);
}

static void
link_close (link_t *l)
{
    zpoller_destroy (&l->poller);
    zmq_socket_monitor (zsock_resolve (l->dealer), NULL, 0);
    zsock_destroy (&l->monitor);
    zsock_destroy (&l->dealer);
}

/* Reads one monitor event and notes the handshake's outcome. */
static void
link_event (link_t *l)
{
    zmsg_t *m = zmsg_recv (l->monitor);
    zframe_t *f = m ? zmsg_first (m) : NULL;
    if (!f || zframe_size (f) < 6) {
        zmsg_destroy (&m);
        return;
    }
    uint16_t event;
    uint32_t value;
    memcpy (&event, zframe_data (f), 2);
    memcpy (&value, zframe_data (f) + 2, 4);
    zmsg_destroy (&m);
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
        l->handshake = 1;
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
        l->handshake = -1;
        l->status = (int)value;
    }
    else if (event == ZMQ_EVENT_DISCONNECTED)
        l->disconnected = 1;
    else if (l->handshake == 0)
        l->handshake = -2;
}

/* Sends M; -1 when it cannot go within SEND_TIMEOUT_MS (no connection). */
static int
link_try_send (link_t *l, const im_msg_t *m)
{
    size_t len;
    if (im_msg_encode (m, wire, sizeof wire, &len) != 0)
        die (EXIT_SETUP, "cannot encode %s: %s", im_msg_name (m->id), strerror (errno));
    return zmq_send (zsock_resolve (l->dealer), wire, len, 0) < 0 ? -1 : 0;
}

static void
link_send (link_t *l, const im_msg_t *m)
{
    if (link_try_send (l, m) != 0)
        die (EXIT_SETUP, "cannot send %s: %s", im_msg_name (m->id),
             zmq_strerror (zmq_errno ()));
}

/* Waits until DEADLINE (zclock_mono) for a message or an event. Returns the
 * message's single frame (the caller destroys it), or NULL after an event or
 * at the deadline. A message of several frames is a surprise. */
static zframe_t *
link_wait (link_t *l, int64_t deadline)
{
    int64_t left = deadline - zclock_mono ();
    if (left <= 0)
        return NULL;
    void *which = zpoller_wait (l->poller, (int)left);
    if (which == l->monitor) {
        link_event (l);
        return NULL;
    }
    if (which != l->dealer)
        return NULL;
    zmsg_t *m = zmsg_recv (l->dealer);
    if (!m)
        return NULL;
    l->received++;
    if (zmsg_size (m) != 1)
        die (EXIT_OUTCOME, "surprise: a message of %zu frames", zmsg_size (m));
    zframe_t *f = zmsg_pop (m);
    zmsg_destroy (&m);
    return f;
}

/* --- handshake ----------------------------------------------------------- */

static int
run_handshake (const keys_t *k, const char *endpoint, const char *server_hex,
               const char *expect, int timeout)
{
    int want_ok = strcmp (expect, "ok") == 0;
    if (!want_ok && strcmp (expect, "refused") != 0)
        usage ();
    link_t l;
    link_open (&l, k, endpoint, server_hex);
    uint64_t session;
    randombytes_buf (&session, sizeof session);
    pk_hello (&msg, k, session | 1);
    link_send (&l, &msg);
    char first[320] = "";
    int64_t deadline = zclock_mono () + timeout;
    while (zclock_mono () < deadline) {
        zframe_t *f = link_wait (&l, deadline);
        if (f && !*first) {
            char why[256];
            if (im_msg_decode (zframe_data (f), zframe_size (f), &msg, why, sizeof why))
                snprintf (first, sizeof first, "an undecodable message (%s)", why);
            else
                snprintf (first, sizeof first, "%s%s%s", im_msg_name (msg.id),
                          msg.id == IM_MSG_HELLO ? " from " : "",
                          msg.id == IM_MSG_HELLO ? msg.name : "");
        }
        zframe_destroy (&f);
        /* Succeeded and answered: done. Refused: a moment more, in case
         * anything comes back after all. */
        if (l.handshake == 1 && l.received)
            break;
        if (l.handshake < 0 && deadline > zclock_mono () + GRACE_MS)
            deadline = zclock_mono () + GRACE_MS;
    }
    if (l.handshake == 1)
        printf ("handshake succeeded; ");
    else if (l.handshake == -1)
        printf ("handshake refused (HANDSHAKE_FAILED_AUTH, ZAP status %d); ", l.status);
    else if (l.handshake == -2)
        printf ("handshake failed (not for authentication); ");
    else
        printf ("no handshake within %d ms; ", timeout);
    if (l.received)
        printf ("%zu message(s) came back, the first %s\n", l.received, first);
    else
        printf ("nothing came back\n");
    link_close (&l);
    int ok = want_ok ? l.handshake == 1 && l.received > 0
                     : l.handshake == -1 && l.received == 0;
    return ok ? 0 : EXIT_OUTCOME;
}

/* --- inject -------------------------------------------------------------- */

/* Signs a new record of our own into BUF: a domain, TLP as given. */
static size_t
make_record (const keys_t *k, const char *value, int tlp, const char *why_text,
             uint8_t *buf, size_t bufsz, im_record_t *rec)
{
    char err[256];
    size_t len;
    im_record_init (rec);
    memcpy (rec->origin, k->pk, IM_NODE_ID_SIZE);
    im_id_generate (rec->id);
    rec->type = IM_TYPE_DOMAIN;
    rec->tlp = (uint8_t)tlp;
    rec->created = rec->modified = (int64_t)time (NULL);
    snprintf (rec->value, sizeof rec->value, "%s", value);
    snprintf (rec->description, sizeof rec->description, "fake_peer: %s", why_text);
    if (im_record_sign (rec, k->sk, buf, bufsz, &len, err, sizeof err))
        die (EXIT_SETUP, "cannot sign a record of '%s': %s", value, err);
    return len;
}

/* Signs the --craft record of SHAPE into BUF, as the origin whose keys are
 * SIGNER, and describes it in WHAT. */
static size_t
make_crafted (const keys_t *signer, const shape_t *sh, const char *value, uint8_t *buf,
              size_t bufsz, im_record_t *rec, char *what, size_t whatsz)
{
    char err[256];
    size_t len;
    im_record_init (rec);
    memcpy (rec->origin, signer->pk, IM_NODE_ID_SIZE);
    if (sh->has_id)
        memcpy (rec->id, sh->id, IM_ID_SIZE);
    else
        im_id_generate (rec->id);
    rec->version = sh->version;
    rec->op = sh->revoke ? IM_OP_REVOKE : IM_OP_PUT;
    rec->type = (uint8_t)sh->type;
    rec->tlp = (uint8_t)sh->tlp;
    rec->reach = (uint8_t)sh->reach;
    if (sh->confidence >= 0)
        rec->confidence = (uint8_t)sh->confidence;
    else if (sh->revoke)
        rec->confidence = 0; /* as a tombstone of SPEC, "Tombstones" */
    rec->created = rec->modified = (int64_t)time (NULL);
    rec->valid_until = sh->valid_until;
    if (im_ioc_normalise (sh->type, value, rec->value, sizeof rec->value, err,
                          sizeof err))
        die (EXIT_SETUP, "--value: %s", err);
    if (!sh->revoke)
        snprintf (rec->description, sizeof rec->description, "fake_peer: craft");
    for (size_t i = 0; i < sh->ntags; i++)
        if (im_record_add_tag (rec, sh->tags[i], err, sizeof err))
            die (EXIT_SETUP, "--tag: %s", err);
    for (size_t i = 0; i < sh->nto; i++)
        memcpy (rec->recipients[i], sh->to[i], IM_NODE_ID_SIZE);
    rec->nrecipients = sh->nto;
    if (im_record_sign (rec, signer->sk, buf, bufsz, &len, err, sizeof err))
        die (EXIT_SETUP, "cannot sign the crafted record of '%s': %s", value, err);
    char id[IM_ID_STR_SIZE], reach[8] = "", until[IM_TIME_STR_SIZE] = "";
    im_id_format (rec->id, id);
    if (sh->reach != IM_REACH_UNLIMITED)
        snprintf (reach, sizeof reach, "%d", sh->reach);
    if (sh->valid_until)
        im_time_format (sh->valid_until, until);
    snprintf (what, whatsz,
              "%s%s %s %.200s id %s v%llu, origin %s, hops %d, reach %s%s%s, "
              "%zu recipient(s), %zu tag(s)",
              sh->revoke ? "a tombstone of " : "", im_tlp_name (sh->tlp),
              im_type_name (sh->type), rec->value, id, (unsigned long long)rec->version,
              signer->name, sh->hops, *reach ? reach : "unlimited",
              *until ? ", valid until " : "", until, sh->nto, sh->ntags);
    return len;
}

/* Checks that BUF decodes without its signature and is refused with it (so
 * that the target can only refuse it for the signature). */
static void
expect_bad_signature (const uint8_t *buf, size_t len, const char *what)
{
    static im_record_t rec;
    char err[256];
    if (im_record_decode (buf, len, 0, &rec, err, sizeof err))
        die (EXIT_SETUP, "the %s record does not even decode: %s", what, err);
    if (im_record_decode (buf, len, 1, &rec, err, sizeof err) == 0 || errno != EPERM)
        die (EXIT_SETUP, "the %s record does not fail its signature check", what);
}

/* Fills msg with the RECORDS answer of MODE after CURSOR. Describes what it
 * holds in WHAT. */
static void
craft_records (inject_mode_t mode, const keys_t *k, const char *value,
               const uint8_t *other, const shape_t *sh, const keys_t *signer,
               uint64_t cursor, char *what, size_t whatsz)
{
    static uint8_t recs[3][IM_RECORD_MAX];
    static im_record_t rec;
    char id[IM_ID_STR_SIZE];
    size_t len = 0;
    msg.id = IM_MSG_RECORDS;
    msg.cursor = cursor + 1;
    msg.more = 0;
    msg.count = 1;
    msg.entries[0].hops = 0;
    msg.entries[0].record = recs[0];
    switch (mode) {
    case MODE_GOOD:
    case MODE_AMBER:
        len = make_record (k, value, mode == MODE_GOOD ? IM_TLP_GREEN : IM_TLP_AMBER,
                           mode_names[mode], recs[0], sizeof recs[0], &rec);
        im_id_format (rec.id, id);
        snprintf (what, whatsz, "%s domain %.200s id %s",
                  mode == MODE_GOOD ? "green" : "amber", value, id);
        break;
    case MODE_FORGE: {
        /* The body names another origin; the signature is ours. */
        len = make_record (k, value, IM_TLP_GREEN, "forge", recs[0], sizeof recs[0],
                           &rec);
        memcpy (recs[0] + 4, other, IM_NODE_ID_SIZE);
        const uint8_t *body = recs[0];
        size_t body_len = len - IM_BATCH_AUTH;
        uint8_t *auth = recs[0] + body_len;
        if (im_batch_seal (&body, &body_len, 1, k->sk, &auth))
            die (EXIT_SETUP, "--forge: sealing failed");
        expect_bad_signature (recs[0], len, "forged");
        char origin[IM_NODE_HEX_SIZE];
        im_node_format (other, origin);
        im_id_format (rec.id, id);
        snprintf (what, whatsz, "green domain %.200s id %s, origin %.16s... signed by us",
                  value, id, origin);
        break;
    }
    case MODE_TAMPER: {
        /* The last of a-e or 0-8 in the value goes one up: still canonical
         * for a domain, an address or a hash. */
        len = make_record (k, value, IM_TLP_GREEN, "tamper", recs[0], sizeof recs[0],
                           &rec);
        uint8_t *v = recs[0] + IM_RECORD_FIXED + 2;
        size_t vlen = strlen (rec.value), at = vlen;
        for (size_t i = 0; i < vlen; i++)
            if ((v[i] >= 'a' && v[i] <= 'e') || (v[i] >= '0' && v[i] <= '8'))
                at = i;
        if (at == vlen)
            die (EXIT_SETUP, "--tamper: '%s' has no byte to change", value);
        v[at]++;
        expect_bad_signature (recs[0], len, "tampered");
        char sent[IM_VALUE_MAX + 1];
        memcpy (sent, v, vlen);
        sent[vlen] = 0;
        im_id_format (rec.id, id);
        snprintf (what, whatsz, "green domain %.200s (signed as %.200s) id %s", sent,
                  value, id);
        break;
    }
    case MODE_MALFORMED: {
        /* Garbage shorter than any record, garbage as long as one, and a
         * valid record cut short by a byte. */
        memset (recs[0], 0xEE, 16);
        msg.entries[0].len = 16;
        randombytes_buf (recs[1], 300);
        memcpy (recs[1], "XXXX", 4);
        msg.entries[1].hops = 0;
        msg.entries[1].record = recs[1];
        msg.entries[1].len = 300;
        size_t full = make_record (k, value, IM_TLP_GREEN, "malformed", recs[2],
                                   sizeof recs[2], &rec);
        static im_record_t check;
        if (im_record_decode (recs[2], full - 1, 0, &check, NULL, 0) == 0)
            die (EXIT_SETUP, "a truncated record decodes");
        msg.entries[2].hops = 0;
        msg.entries[2].record = recs[2];
        msg.entries[2].len = full - 1;
        msg.count = 3;
        snprintf (what, whatsz, "16 and 300 bytes of garbage and a record cut short");
        return;
    }
    case MODE_CRAFT:
        len = make_crafted (signer, sh, value, recs[0], sizeof recs[0], &rec, what,
                            whatsz);
        msg.entries[0].hops = (uint8_t)sh->hops;
        break;
    default: die (EXIT_SETUP, "no records for mode %s", mode_names[mode]);
    }
    msg.entries[0].len = len;
}

static int
run_inject (const keys_t *k, const char *endpoint, const char *server_hex,
            inject_mode_t mode, const char *value, const char *origin_hex,
            const shape_t *sh, const keys_t *signer, int timeout)
{
    uint8_t other[IM_NODE_ID_SIZE];
    if (origin_hex) {
        if (im_node_parse (origin_hex, other))
            die (EXIT_SETUP, "--origin: not a node id");
    }
    else {
        /* Some other node's id: a key pair nobody keeps. */
        uint8_t sk[crypto_sign_SECRETKEYBYTES];
        crypto_sign_keypair (other, sk);
        sodium_memzero (sk, sizeof sk);
    }
    char made[128];
    if (!value) {
        uint8_t r[4];
        char hex[9];
        randombytes_buf (r, sizeof r);
        sodium_bin2hex (hex, sizeof hex, r, sizeof r);
        if (mode == MODE_CRAFT && sh->type == IM_TYPE_IPV4)
            snprintf (made, sizeof made, "198.18.%u.%u", r[0], r[1]); /* RFC 2544 */
        else if (mode == MODE_CRAFT && sh->type != IM_TYPE_DOMAIN)
            die (EXIT_SETUP, "--craft --type %s needs a --value",
                 im_type_name (sh->type));
        else
            snprintf (made, sizeof made, "%s-%s.fake-peer.example", mode_names[mode],
                      hex);
        value = made;
    }
    link_t l;
    link_open (&l, k, endpoint, server_hex);
    uint64_t session;
    randombytes_buf (&session, sizeof session);
    session |= 1;
    pk_hello (&msg, k, session);
    link_send (&l, &msg);
    int hello = 0, answered = 0;
    uint64_t sent_cursor = 0;
    char what[512] = "";
    int64_t deadline = zclock_mono () + timeout;
    while (1) {
        zframe_t *f = link_wait (&l, deadline);
        if (l.handshake == -1)
            die (EXIT_OUTCOME,
                 "handshake refused (ZAP status %d): is our card on the "
                 "target's trust list?",
                 l.status);
        if (l.handshake == -2)
            die (EXIT_OUTCOME, "handshake failed");
        if (!f) {
            if (zclock_mono () < deadline)
                continue;
            die (EXIT_OUTCOME, "timeout after %d ms: %s", timeout,
                 !hello                  ? "no HELLO from the target"
                 : !answered             ? "the target never pulled"
                 : mode == MODE_PROTOCOL ? "no PONG after our bad message"
                                         : "no PULL after our RECORDS");
        }
        char why[256];
        int bad = im_msg_decode (zframe_data (f), zframe_size (f), &msg, why, sizeof why);
        zframe_destroy (&f);
        if (bad)
            die (EXIT_OUTCOME, "surprise: an undecodable message: %s", why);
        switch (msg.id) {
        case IM_MSG_HELLO:
            if (msg.version != IM_MSG_VERSION)
                die (EXIT_OUTCOME, "surprise: HELLO of version %d", msg.version);
            hello = 1;
            break;
        case IM_MSG_PING:
            msg.id = IM_MSG_PONG;
            msg.session = session;
            msg.cursor = sent_cursor;
            link_send (&l, &msg);
            break;
        case IM_MSG_HAVE:
        case IM_MSG_LAZY:
        case IM_MSG_EAGER:
        case IM_MSG_FETCH:
            break; /* what it holds, or would rather not get in full, or asks
                      for: nothing to do for a peer that sends only what it
                      is pulled for */
        case IM_MSG_PONG:
            if (mode == MODE_PROTOCOL && answered) {
                printf (
                    "sent a malformed message, then PING: the target answered PONG\n");
                link_close (&l);
                return 0;
            }
            break;
        case IM_MSG_PULL:
            if (!hello)
                die (EXIT_OUTCOME, "surprise: PULL before HELLO");
            if (answered && mode != MODE_PROTOCOL) {
                /* It pulls again after applying the batch, from our cursor. */
                if (msg.cursor != sent_cursor)
                    die (EXIT_OUTCOME, "surprise: pulled after %llu, we sent up to %llu",
                         (unsigned long long)msg.cursor, (unsigned long long)sent_cursor);
                printf ("sent %s: the target applied the batch\n", what);
                link_close (&l);
                return 0;
            }
            if (answered)
                break;
            answered = 1;
            if (mode == MODE_PROTOCOL) {
                /* Our signature and an unknown message id, then a PING: its
                 * PONG shows the bad message was read and survived. */
                uint8_t bad_msg[]
                    = { IM_MSG_SIGNATURE_0, IM_MSG_SIGNATURE_1, 0x09, 0xDE, 0xAD };
                if (zmq_send (zsock_resolve (l.dealer), bad_msg, sizeof bad_msg, 0) < 0)
                    die (EXIT_SETUP, "cannot send: %s", zmq_strerror (zmq_errno ()));
                msg.id = IM_MSG_PING;
                msg.session = session;
                msg.cursor = 0;
                link_send (&l, &msg);
                break;
            }
            craft_records (mode, k, value, other, sh, signer, msg.cursor, what,
                           sizeof what);
            sent_cursor = msg.cursor;
            link_send (&l, &msg);
            break;
        case IM_MSG_RECORDS: die (EXIT_OUTCOME, "surprise: RECORDS, but we never pulled");
        default: die (EXIT_OUTCOME, "surprise: message id %d", msg.id);
        }
    }
}

/* --- linger -------------------------------------------------------------- */

/* Holds a trusted connection open without a HELLO until WAIT_FILE appears
 * (the test has removed us meanwhile), then sends a RECORDS of its own and a
 * PING on it. The right outcome: the connection was cut, nothing answered. */
static int
run_linger (const keys_t *k, const char *endpoint, const char *server_hex,
            const char *value, const char *wait_file, int timeout)
{
    link_t l;
    link_open (&l, k, endpoint, server_hex);
    int64_t deadline = zclock_mono () + timeout;
    while (l.handshake == 0 && zclock_mono () < deadline) {
        zframe_t *f = link_wait (&l, deadline);
        zframe_destroy (&f);
    }
    if (l.handshake != 1)
        die (EXIT_SETUP, "linger: the handshake did not succeed");
    printf ("handshake succeeded; holding the connection without HELLO\n");
    fflush (stdout);
    /* The test removes us, then makes the file (30 s at most). */
    deadline = zclock_mono () + 30000;
    while (access (wait_file, F_OK) != 0) {
        if (zclock_mono () >= deadline)
            die (EXIT_SETUP, "linger: %s never appeared", wait_file);
        zframe_t *f = link_wait (&l, zclock_mono () + 50);
        zframe_destroy (&f);
    }
    int cut_before = l.disconnected;
    char what[512];
    uint64_t session;
    randombytes_buf (&session, sizeof session);
    craft_records (MODE_GOOD, k, value, k->pk, NULL, k, 0, what, sizeof what);
    /* A send that times out found no connection: nothing can answer. */
    int unsent = link_try_send (&l, &msg) != 0;
    msg.id = IM_MSG_PING;
    msg.session = session | 1;
    msg.cursor = 1;
    unsent = unsent || link_try_send (&l, &msg) != 0;
    if (unsent) { /* no connection to send on: it is cut */
        snprintf (what, sizeof what, "nothing (no connection to send on)");
        cut_before = 1;
    }
    int pong = 0;
    deadline = zclock_mono () + timeout;
    while (!unsent && !pong && zclock_mono () < deadline) {
        zframe_t *f = link_wait (&l, deadline);
        char why[256];
        if (f
            && im_msg_decode (zframe_data (f), zframe_size (f), &msg, why, sizeof why)
                   == 0
            && msg.id == IM_MSG_PONG)
            pong = 1;
        zframe_destroy (&f);
    }
    printf ("after the removal: connection %s; sent %s then PING: %s\n",
            cut_before       ? "cut"
            : l.disconnected ? "cut late"
                             : "kept",
            what, pong ? "PONG came back, we are still taken for a peer" : "no answer");
    link_close (&l);
    return cut_before && !pong ? 0 : EXIT_OUTCOME;
}

/* --- rotate -------------------------------------------------------------- */

/* Says, signed by our node id, that our CURVE key moves to NEW_HEX with a
 * grace period of GRACE seconds, after a HELLO on our current key; then waits
 * for ROTATED. EXPECT "acked": ROTATED naming the new key came back;
 * "refused": it did not within TIMEOUT ms. */
static int
run_rotate (const keys_t *k, const char *endpoint, const char *server_hex,
            const char *new_hex, const keys_t *new_keys, long long grace,
            const char *expect, int timeout)
{
    int want_ack = strcmp (expect, "acked") == 0;
    if (!want_ack && strcmp (expect, "refused") != 0)
        usage ();
    static im_msg_t rotate = { .id = IM_MSG_ROTATE };
    im_rotation_t r = { .issued = im_time_now () };
    size_t n = 0;
    r.until = r.issued + grace;
    memcpy (r.node, k->pk, IM_NODE_ID_SIZE);
    if (!zmq_z85_decode (r.old_curve, k->curve_public))
        die (EXIT_SETUP, "keys: bad CURVE key");
    uint8_t secret[32], server[32];
    if (new_keys) {
        if (!zmq_z85_decode (r.new_curve, new_keys->curve_public)
            || !zmq_z85_decode (secret, new_keys->curve_secret))
            die (EXIT_SETUP, "--new-keys: bad CURVE key");
    }
    else if (sodium_hex2bin (r.new_curve, 32, new_hex, strlen (new_hex), NULL, &n, NULL)
                 != 0
             || n != 32)
        die (EXIT_SETUP, "--new-key: not 64 hex digits");
    else
        randombytes_buf (secret, sizeof secret); /* not the key's: it proves nothing */
    if (sodium_hex2bin (server, 32, server_hex, strlen (server_hex), NULL, &n, NULL) != 0
        || n != 32)
        die (EXIT_SETUP, "SERVER-CURVE-HEX: not 64 hex digits");
    if (im_rotation_sign (&r, k->sk, rotate.rotation) != 0
        || im_rotation_prove (rotate.rotation, secret, server, rotate.rotation_proof)
               != 0)
        die (EXIT_SETUP, "cannot sign the statement (the same key, or no grace?)");
    link_t l;
    link_open (&l, k, endpoint, server_hex);
    uint64_t session;
    randombytes_buf (&session, sizeof session);
    pk_hello (&msg, k, session | 1);
    link_send (&l, &msg);
    int64_t deadline = zclock_mono () + timeout;
    int greeted = 0, acked = 0;
    while (!acked && zclock_mono () < deadline) {
        zframe_t *f = link_wait (&l, deadline);
        char why[256];
        if (f
            && im_msg_decode (zframe_data (f), zframe_size (f), &msg, why, sizeof why)
                   == 0) {
            if (msg.id == IM_MSG_HELLO && !greeted) {
                greeted = 1;
                link_send (&l, &rotate);
            }
            else if (msg.id == IM_MSG_ROTATED && memcmp (msg.curve, r.new_curve, 32) == 0)
                acked = 1;
        }
        zframe_destroy (&f);
    }
    printf ("%s; %s\n", greeted ? "HELLO answered, ROTATE sent" : "no HELLO came back",
            acked ? "ROTATED came back" : "no ROTATED");
    link_close (&l);
    return greeted && acked == want_ack ? 0 : EXIT_OUTCOME;
}

/* --- pull-flood ------------------------------------------------------------ */

#define FLOOD_LINKS_MAX 16

/* A link that reads as little as it can (a receive queue of one message and
 * a small socket buffer), so that what the node sends piles up at the node. */
static zsock_t *
flood_link (const keys_t *k, const char *endpoint, const char *server_hex)
{
    zsock_t *d = dealer_new (k, server_hex);
    zsock_set_rcvtimeo (d, 200);
    zsock_set_rcvhwm (d, 1);
    zsock_set_rcvbuf (d, 4096);
    zsock_set_sndhwm (d, 100000);
    if (zsock_connect (d, "%s", endpoint) != 0)
        die (EXIT_SETUP, "cannot connect to %s", endpoint);
    return d;
}

static int
flood_send (zsock_t *d, const im_msg_t *m)
{
    size_t len;
    return im_msg_encode (m, wire, sizeof wire, &len) != 0
                   || zmq_send (zsock_resolve (d), wire, len, 0) < 0
               ? -1
               : 0;
}

/* Reads D until a message ID comes (decoded into msg) or DEADLINE. */
static int
flood_wait_for (zsock_t *d, int id, int64_t deadline)
{
    while (zclock_mono () < deadline) {
        zframe_t *f = zframe_recv (d);
        char why[256];
        int got
            = f
              && im_msg_decode (zframe_data (f), zframe_size (f), &msg, why, sizeof why)
                     == 0
              && msg.id == id;
        zframe_destroy (&f);
        if (got)
            return 0;
    }
    return -1;
}

/* Opens LINKS links, says HELLO on each, then sends PULLS PULLs with cursor 0
 * on each without reading the answers; holds them until WAIT_FILE appears
 * (if given); with ACK, then reads the first RECORDS on the first link and
 * acknowledges it with a PULL from its cursor. */
static int
run_pull_flood (const keys_t *k, const char *endpoint, const char *server_hex,
                long long pulls, long long links, int ack, const char *wait_file,
                int timeout)
{
    zsock_t *d[FLOOD_LINKS_MAX];
    uint64_t session;
    randombytes_buf (&session, sizeof session);
    for (long long i = 0; i < links; i++) {
        d[i] = flood_link (k, endpoint, server_hex);
        pk_hello (&msg, k, session | 1);
        if (flood_send (d[i], &msg)
            || flood_wait_for (d[i], IM_MSG_HELLO, zclock_mono () + timeout))
            die (EXIT_OUTCOME, "pull-flood: no HELLO came back on link %lld", i + 1);
    }
    for (long long n = 0; n < pulls; n++)
        for (long long i = 0; i < links; i++) {
            msg.id = IM_MSG_PULL;
            msg.cursor = 0;
            msg.credit = IM_MSG_CREDIT_MAX;
            if (flood_send (d[i], &msg))
                die (EXIT_OUTCOME, "pull-flood: cannot send PULL %lld on link %lld",
                     n + 1, i + 1);
        }
    printf ("sent %lld PULLs with cursor 0 on each of %lld links without reading\n",
            pulls, links);
    fflush (stdout);
    int64_t deadline = zclock_mono () + 60000;
    while (wait_file && access (wait_file, F_OK) != 0 && zclock_mono () < deadline)
        zclock_sleep (50);
    int rc = 0;
    if (ack) {
        rc = flood_wait_for (d[0], IM_MSG_RECORDS, zclock_mono () + timeout);
        size_t count = msg.count;
        uint64_t cursor = msg.cursor;
        msg.id = IM_MSG_PULL;
        msg.cursor = cursor;
        msg.credit = IM_MSG_CREDIT_MAX;
        if (rc == 0 && flood_send (d[0], &msg))
            rc = -1;
        if (rc == 0)
            printf ("read a RECORDS of %zu records up to %llu; acknowledged it\n", count,
                    (unsigned long long)cursor);
        else
            printf ("no RECORDS to acknowledge\n");
        zclock_sleep (500); /* the PULL goes before the link closes */
    }
    for (long long i = 0; i < links; i++)
        zsock_destroy (&d[i]);
    return rc == 0 ? 0 : EXIT_OUTCOME;
}

/* --- Main ---------------------------------------------------------------- */

/* A whole number from MIN to MAX, or a usage error naming OPTION. */
static long long
number_arg (const char *option, const char *text, long long min, long long max)
{
    char *end;
    errno = 0;
    long long v = strtoll (text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        die (EXIT_SETUP, "%s: '%.40s' is not a number from %lld to %lld", option, text,
             min, max);
    return v;
}

/* Reads one option of the --craft shape at ARGV[*I] (its value, if any, at
 * ARGV[*I + 1]). Returns 1 when it was one, 0 when it was not. */
static int
shape_option (shape_t *sh, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (strcmp (a, "--revoke") == 0) {
        sh->revoke = 1;
        sh->shaped = 1;
        return 1;
    }
    static const char *const with_value[]
        = { "--type", "--tlp", "--reach",       "--hops", "--confidence", "--valid-until",
            "--tag",  "--to",  "--origin-keys", "--id",   "--version" };
    size_t which = sizeof with_value / sizeof *with_value;
    for (size_t j = 0; j < sizeof with_value / sizeof *with_value; j++)
        if (strcmp (a, with_value[j]) == 0)
            which = j;
    if (which == sizeof with_value / sizeof *with_value)
        return 0;
    if (*i + 1 >= argc)
        die (EXIT_SETUP, "%s needs a value", a);
    const char *v = argv[++*i];
    sh->shaped = 1;
    switch (which) {
    case 0:
        sh->type = im_type_parse (v);
        if (sh->type < 0)
            die (EXIT_SETUP, "--type: '%.40s' is not an indicator type", v);
        break;
    case 1:
        sh->tlp = im_tlp_parse (v);
        if (sh->tlp < 0)
            die (EXIT_SETUP, "--tlp: '%.40s' is not a TLP label", v);
        break;
    case 2: sh->reach = (int)number_arg (a, v, 0, 255); break;
    case 3: sh->hops = (int)number_arg (a, v, 0, 255); break;
    case 4: sh->confidence = (int)number_arg (a, v, 0, 100); break;
    case 5:
        if (im_time_parse (v, (int64_t)time (NULL), &sh->valid_until)
            || sh->valid_until <= 0)
            die (EXIT_SETUP, "--valid-until: '%.40s' is not a time after the epoch", v);
        break;
    case 6:
        if (sh->ntags >= IM_TAGS_MAX)
            die (EXIT_SETUP, "--tag: more than %d tags", IM_TAGS_MAX);
        sh->tags[sh->ntags++] = v;
        break;
    case 7:
        if (sh->nto >= IM_RECIPIENTS_MAX)
            die (EXIT_SETUP, "--to: more than %d recipients", IM_RECIPIENTS_MAX);
        if (im_node_parse (v, sh->to[sh->nto]))
            die (EXIT_SETUP, "--to: '%.70s' is not a node id (64 hex digits)", v);
        for (size_t j = 0; j < sh->nto; j++)
            if (memcmp (sh->to[j], sh->to[sh->nto], IM_NODE_ID_SIZE) == 0)
                die (EXIT_SETUP, "--to: %.16s... is given twice", v);
        sh->nto++;
        break;
    case 8: sh->origin_keys = v; break;
    case 9:
        if (im_id_parse (v, sh->id))
            die (EXIT_SETUP, "--id: '%.40s' is not a UUID", v);
        sh->has_id = 1;
        break;
    default: sh->version = (uint64_t)number_arg (a, v, 1, INT64_MAX); break;
    }
    return 1;
}

int
main (int argc, char **argv)
{
    if (argc < 2)
        usage ();
    const char *cmd = argv[1];
    const char *keys_path = NULL, *name = NULL, *expect = NULL, *value = NULL,
               *origin = NULL, *wait_file = NULL, *new_key = NULL, *new_keys = NULL;
    long long grace = 0, pulls = 0, links = 1;
    int ack = 0;
    const char *pos[2] = { NULL, NULL };
    size_t npos = 0;
    int timeout = TIMEOUT_DEFAULT;
    inject_mode_t mode = MODE_NONE;
    shape_t shape = { .type = IM_TYPE_DOMAIN,
                      .tlp = IM_TLP_GREEN,
                      .reach = IM_REACH_UNLIMITED,
                      .confidence = -1,
                      .version = 1 };
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (shape_option (&shape, argc, argv, &i))
            continue;
        if (strcmp (a, "--keys") == 0 && more)
            keys_path = argv[++i];
        else if (strcmp (a, "--name") == 0 && more)
            name = argv[++i];
        else if (strcmp (a, "--expect") == 0 && more)
            expect = argv[++i];
        else if (strcmp (a, "--value") == 0 && more)
            value = argv[++i];
        else if (strcmp (a, "--origin") == 0 && more)
            origin = argv[++i];
        else if (strcmp (a, "--wait-file") == 0 && more)
            wait_file = argv[++i];
        else if (strcmp (a, "--new-key") == 0 && more)
            new_key = argv[++i];
        else if (strcmp (a, "--new-keys") == 0 && more)
            new_keys = argv[++i];
        else if (strcmp (a, "--grace") == 0 && more)
            grace = number_arg ("--grace", argv[++i], 1, INT64_C (400) * 365 * 86400);
        else if (strcmp (a, "--pulls") == 0 && more)
            pulls = number_arg ("--pulls", argv[++i], 1, 100000);
        else if (strcmp (a, "--links") == 0 && more)
            links = number_arg ("--links", argv[++i], 1, FLOOD_LINKS_MAX);
        else if (strcmp (a, "--ack") == 0)
            ack = 1;
        else if (strcmp (a, "--timeout") == 0 && more) {
            timeout = atoi (argv[++i]);
            if (timeout < 1 || timeout > 600000)
                usage ();
        }
        else if (strncmp (a, "--", 2) == 0) {
            inject_mode_t m = MODE_NONE;
            for (int j = MODE_GOOD; j <= MODE_CRAFT; j++)
                if (strcmp (a + 2, mode_names[j]) == 0)
                    m = (inject_mode_t)j;
            if (m == MODE_NONE || mode != MODE_NONE)
                usage ();
            mode = m;
        }
        else if (npos < 2)
            pos[npos++] = a;
        else
            usage ();
    }
    if (!keys_path || sodium_init () < 0)
        usage ();
    if (shape.shaped && mode != MODE_CRAFT)
        die (EXIT_SETUP, "--type, --tlp, --reach, --hops, --confidence, --valid-until, "
                         "--tag, --to, --origin-keys, --id, --version and --revoke go "
                         "with inject --craft only");
    if (mode == MODE_CRAFT && origin)
        die (EXIT_SETUP, "--craft signs as --origin-keys; --origin is for --forge");
    zsys_init ();
    zsys_set_logstream (stderr);
    keys_t k, signer; /* ours; the origin's of --origin-keys */
    memset (&k, 0, sizeof k);
    memset (&signer, 0, sizeof signer);
    int rc = 0;
    if (strcmp (cmd, "card") == 0 && npos == 0) {
        if (name)
            keys_make (&k, name, keys_path);
        else
            keys_load (&k, keys_path);
        print_card (&k);
    }
    else if (strcmp (cmd, "handshake") == 0 && npos == 2 && expect) {
        keys_load (&k, keys_path);
        rc = run_handshake (&k, pos[0], pos[1], expect, timeout);
    }
    else if (strcmp (cmd, "inject") == 0 && npos == 2 && mode != MODE_NONE) {
        keys_load (&k, keys_path);
        if (shape.origin_keys)
            keys_load (&signer, shape.origin_keys);
        rc = run_inject (&k, pos[0], pos[1], mode, value, origin, &shape,
                         shape.origin_keys ? &signer : &k, timeout);
    }
    else if (strcmp (cmd, "linger") == 0 && npos == 2 && wait_file) {
        keys_load (&k, keys_path);
        rc = run_linger (&k, pos[0], pos[1], value ? value : "linger.fake-peer.example",
                         wait_file, timeout);
    }
    else if (strcmp (cmd, "pull-flood") == 0 && npos == 2 && pulls) {
        keys_load (&k, keys_path);
        rc = run_pull_flood (&k, pos[0], pos[1], pulls, links, ack, wait_file, timeout);
    }
    else if (strcmp (cmd, "rotate") == 0 && npos == 2 && (!new_key != !new_keys) && grace
             && expect) {
        keys_load (&k, keys_path);
        static keys_t nk;
        if (new_keys)
            keys_load (&nk, new_keys);
        rc = run_rotate (&k, pos[0], pos[1], new_key, new_keys ? &nk : NULL, grace,
                         expect, timeout);
    }
    else
        usage ();
    sodium_memzero (&k, sizeof k);
    sodium_memzero (&signer, sizeof signer);
    fflush (stdout);
    return rc;
}
