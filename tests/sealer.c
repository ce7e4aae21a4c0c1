/* SPDX-License-Identifier: MPL-2.0 */
/* sealer.c -- a hostile trusted peer for tests/t64-sealed-attacks.sh: it
 * answers a node's PULLs with carriers and sightings it crafts and signs with
 * its own key, well-formed or not (SPEC.md, "Sightings", "Carrying sealed
 * envelopes"), or re-seals a record of another origin pulled from a source,
 * and prints what it sent once the node has applied it; the exercise
 * records of t66 are made in sealer_exercise.c. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <czmq.h>
#include <sodium.h>

#include "im_batch.h"
#include "im_config.h"
#include "im_ioc.h"
#include "im_msg.h"
#include "im_record.h"
#include "im_seal.h"
#include "im_sight.h"
#include "peerkit.h"
#include "sealer.h"

#define SEND_TIMEOUT_MS 2000

im_msg_t msg;
static uint8_t wire[IM_MSG_MAX];
keys_t me;
uint8_t to[IM_NODE_ID_SIZE]; /* --to: the node sealed to */
int have_to;
static uint8_t other[IM_NODE_ID_SIZE]; /* --other: a RED record's recipient */
static const char *indicator;          /* --indicator ORIGINHEX/UUID */
static uint64_t session;               /* on every link */
static int tlp = IM_TLP_GREEN;         /* --tlp of a sighting */

/* What one run sends. */
static uint8_t *out[RECORDS_MAX];
static size_t out_len[RECORDS_MAX], nout;

void
fail (int code, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "sealer: ");
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
    va_end (ap);
    exit (code);
}

static void
usage (void)
{
    fprintf (stderr,
             "Usage: sealer --keys FILE --target ENDPOINT CURVE-HEX [options] KIND [N]\n"
             "  (FILE is made by 'fake_peer card --name NAME --keys FILE')\n"
             "Carriers of its own, sealed to --to NODE-HEX, holding:\n"
             "  good        its own RED record naming --to (well-formed)\n"
             "  twice       that record, in two carriers of one RECORDS\n"
             "  garbage     300 random bytes\n"
             "  truncated   its own record cut in half\n"
             "  badsig      its own record, one byte of the signature changed\n"
             "  nested      a carrier of its own (holding a good record)\n"
             "  red-other   its own RED record naming --other NODE-HEX only\n"
             "  red-none    its own RED record naming nobody\n"
             "  reseal      with --source ENDPOINT CURVE-HEX: the first AMBER\n"
             "              record of another origin it pulls from the source\n"
             "  flood N     N carriers sealed to a random key, not --to\n"
             "  bad-digest  a carrier whose value is not its envelope's digest\n"
             "  bad-size    a carrier whose envelope is one byte short\n"
             "  report-env  a report of its own holding an envelope item\n"
             "Sightings of its own of --indicator ORIGIN-HEX/UUID (--tlp NAME):\n"
             "  sight       well-formed (id: the UUID of its value)\n"
             "  sight-randid  well-formed but for a random id\n"
             "  sight-zero  count 0;  sight-two  two sighting items\n"
             "  sight-future  last seen after the year 9999\n"
             "  sight-badvalue  a value that is not ORIGIN/UUID\n"
             "Prints 'sealer: KIND: N record(s) applied' and the values and ids it\n"
             "made; exits 0, 1 when the target did not play along, 2 on setup.\n");
    sx_usage ();
    exit (EXIT_SETUP);
}

void
keep (const uint8_t *buf, size_t len)
{
    if (nout == RECORDS_MAX || !(out[nout] = malloc (len)))
        fail (EXIT_SETUP, "too many records");
    memcpy (out[nout], buf, len);
    out_len[nout++] = len;
}

size_t
sign (im_record_t *rec, uint8_t *buf)
{
    char err[256];
    size_t len = 0;
    if (im_record_sign (rec, me.sk, buf, IM_RECORD_MAX, &len, err, sizeof err))
        fail (EXIT_SETUP, "cannot sign: %s", err);
    return len;
}

/* Signs again BODY bytes of BUF (a body of ours, changed after encoding) as a
 * batch of one; returns the record's length. */
size_t
resign (uint8_t *buf, size_t body)
{
    char err[256];
    size_t len = body + IM_BATCH_AUTH;
    uint8_t *one[1] = { buf };
    memset (buf + body, 0, IM_BATCH_AUTH);
    if (im_record_seal (one, &len, 1, me.sk, err, sizeof err))
        fail (EXIT_SETUP, "cannot sign again: %s", err);
    return len;
}

/* REC, encoded in BUF (LEN bytes), with its extension section replaced by
 * COUNT items EXT (EXT_LEN bytes), signed again. */
size_t
with_ext (const im_record_t *rec, uint8_t *buf, size_t len, uint8_t count,
          const uint8_t *ext, size_t ext_len)
{
    size_t at = len - IM_BATCH_AUTH - rec->ext_len - 1;
    buf[at] = count;
    memcpy (buf + at + 1, ext, ext_len);
    return resign (buf, at + 1 + ext_len);
}

/* Its own domain record, TLP T, naming the N nodes RCPT, signed into BUF. */
static size_t
own_record (int t, const uint8_t (*rcpt)[IM_NODE_ID_SIZE], size_t n, uint8_t *buf)
{
    static im_record_t rec;
    im_record_init (&rec);
    memcpy (rec.origin, me.pk, IM_NODE_ID_SIZE);
    im_id_generate (rec.id);
    rec.type = IM_TYPE_DOMAIN;
    rec.tlp = (uint8_t)t;
    rec.created = rec.modified = (int64_t)time (NULL);
    snprintf (rec.value, sizeof rec.value, "s%08x.sealer.example",
              (unsigned)randombytes_random ());
    rec.nrecipients = n;
    if (n)
        memcpy (rec.recipients, rcpt, n * IM_NODE_ID_SIZE);
    char id[IM_ID_STR_SIZE];
    im_id_format (rec.id, id);
    printf ("sealer: inner %s %s\n", rec.value, id);
    return sign (&rec, buf);
}

/* A carrier of its own holding INNER (LEN bytes) sealed to DEST, into BUF;
 * its record in C. */
static size_t
carrier (const uint8_t *inner, size_t len, const uint8_t *dest, uint8_t *buf,
         im_record_t *c)
{
    char err[256];
    int64_t now = (int64_t)time (NULL);
    im_record_init (c);
    memcpy (c->origin, me.pk, IM_NODE_ID_SIZE);
    im_id_generate (c->id);
    c->created = c->modified = now;
    if (im_carrier_make (c, inner, len, IM_REACH_UNLIMITED, 0, now,
                         (const uint8_t (*)[IM_NODE_ID_SIZE])dest, 1, err, sizeof err))
        fail (EXIT_SETUP, "cannot make a carrier: %s", err);
    return sign (c, buf);
}

static void
need_to (void)
{
    if (!have_to)
        fail (EXIT_SETUP, "this kind needs --to NODE-HEX");
}

/* A link to a node: a CURVE DEALER that has said HELLO. */
zsock_t *
link_up (const char *endpoint, const char *server_hex)
{
    char why[256];
    zsock_t *d = pk_dealer_new (&me, server_hex, SEND_TIMEOUT_MS, why, sizeof why);
    if (!d)
        fail (EXIT_SETUP, "%s", why);
    zsock_set_linger (d, 5000);
    zsock_set_sndhwm (d, 100000);
    if (zsock_connect (d, "%s", endpoint) != 0)
        fail (EXIT_SETUP, "cannot connect to %s", endpoint);
    memset (&msg, 0, offsetof (im_msg_t, entries));
    pk_hello (&msg, &me, session);
    size_t len;
    if (im_msg_encode (&msg, wire, sizeof wire, &len)
        || zmq_send (zsock_resolve (d), wire, len, 0) < 0)
        fail (EXIT_SETUP, "cannot say HELLO");
    return d;
}

void
send_msg (zsock_t *d)
{
    size_t len;
    if (im_msg_encode (&msg, wire, sizeof wire, &len) != 0)
        fail (EXIT_SETUP, "cannot encode %s: %s", im_msg_name (msg.id), strerror (errno));
    if (zmq_send (zsock_resolve (d), wire, len, 0) < 0)
        fail (EXIT_FAILED, "cannot send %s", im_msg_name (msg.id));
}

/* The next message from D before DEADLINE, in MSG (PINGs answered); its id,
 * or 0 at the deadline. */
int
next_msg (zsock_t *d, int64_t deadline)
{
    static uint8_t held[IM_MSG_MAX];
    while (zclock_mono () < deadline) {
        zsock_set_rcvtimeo (d, (int)(deadline - zclock_mono ()));
        zframe_t *f = zframe_recv (d);
        if (!f)
            return 0;
        size_t n = zframe_size (f);
        int rc = n <= sizeof held ? 0 : -1;
        if (rc == 0) {
            memcpy (held, zframe_data (f), n);
            rc = im_msg_decode (held, n, &msg, NULL, 0);
        }
        zframe_destroy (&f);
        if (rc != 0)
            continue;
        if (msg.id == IM_MSG_PING) {
            memset (&msg, 0, offsetof (im_msg_t, entries));
            msg.id = IM_MSG_PONG;
            msg.session = session;
            send_msg (d);
            continue;
        }
        return msg.id;
    }
    return 0;
}

/* The first AMBER record of another origin that SOURCE gives on a pull, in
 * BUF; its length, or 0. */
static size_t
pull_amber (zsock_t *source, uint8_t *buf)
{
    static im_record_t rec;
    int64_t deadline = zclock_mono () + 20000;
    int id;
    while ((id = next_msg (source, deadline)) != 0) {
        if (id == IM_MSG_RECORDS)
            for (size_t i = 0; i < msg.count; i++) {
                const im_msg_entry_t *e = &msg.entries[i];
                if (im_record_decode (e->record, e->len, 1, &rec, NULL, 0) == 0
                    && rec.tlp >= IM_TLP_AMBER
                    && memcmp (rec.origin, me.pk, IM_NODE_ID_SIZE) != 0) {
                    char hex[IM_NODE_HEX_SIZE];
                    im_node_format (rec.origin, hex);
                    printf ("sealer: resealing %s of %s\n", rec.value, hex);
                    memcpy (buf, e->record, e->len);
                    return e->len;
                }
            }
        if (id == IM_MSG_HELLO || id == IM_MSG_RECORDS) {
            uint64_t cursor = id == IM_MSG_RECORDS ? msg.cursor : 0;
            memset (&msg, 0, offsetof (im_msg_t, entries));
            msg.id = IM_MSG_PULL;
            msg.cursor = cursor;
            msg.credit = IM_MSG_CREDIT_MAX;
            send_msg (source);
        }
    }
    return 0;
}

/* --- Carriers ------------------------------------------------------------- */

static uint8_t inner[IM_RECORD_MAX], buf[IM_RECORD_MAX];
static im_record_t crec;

/* N carriers of one envelope sealed to a random key: every one costs the
 * target its 8 tries, and none opens. */
static void
flood (long n)
{
    uint8_t pk[IM_NODE_ID_SIZE], sk[64];
    crypto_sign_keypair (pk, sk);
    size_t len
        = own_record (IM_TLP_RED, (const uint8_t (*)[IM_NODE_ID_SIZE])pk, 1, inner);
    carrier (inner, len, pk, buf, &crec);
    for (long i = 0; i < n; i++) {
        im_id_generate (crec.id);
        keep (buf, sign (&crec, buf));
    }
}

/* A carrier whose envelope is one byte short, its value that part's digest. */
static void
bad_size (void)
{
    size_t len
        = own_record (IM_TLP_RED, (const uint8_t (*)[IM_NODE_ID_SIZE])to, 1, inner);
    len = carrier (inner, len, to, buf, &crec);
    const uint8_t *env;
    size_t elen;
    if (im_carrier_envelope (&crec, &env, &elen))
        fail (EXIT_SETUP, "no envelope");
    uint8_t *ext = malloc (3 + elen);
    if (!ext)
        fail (EXIT_SETUP, "out of memory");
    ext[0] = IM_EXT_SEALED;
    ext[1] = (uint8_t)((elen - 1) >> 8);
    ext[2] = (uint8_t)(elen - 1);
    memcpy (ext + 3, env, elen - 1);
    char digest[33];
    im_carrier_digest (env, elen - 1, digest);
    memcpy (buf + VALUE_AT, digest, 32);
    keep (buf, with_ext (&crec, buf, len, 1, ext, 2 + elen));
    free (ext);
}

/* A report of its own holding, besides a technique, an envelope item. */
static void
report_env (void)
{
    static im_record_t rep;
    char err[256];
    uint8_t env[IM_SEAL_SIZE (1)], ext[3 + 5 + 3 + sizeof env];
    size_t elen = 0;
    if (im_seal ((const uint8_t *)"x", 1, (const uint8_t (*)[IM_NODE_ID_SIZE])to, 1, env,
                 sizeof env, &elen, err, sizeof err))
        fail (EXIT_SETUP, "%s", err);
    im_record_init (&rep);
    memcpy (rep.origin, me.pk, IM_NODE_ID_SIZE);
    im_id_generate (rep.id);
    rep.type = IM_TYPE_REPORT;
    rep.created = rep.modified = (int64_t)time (NULL);
    snprintf (rep.value, sizeof rep.value, "sealer report %08x",
              (unsigned)randombytes_random ());
    if (im_record_add_ext (&rep, IM_EXT_ATTACK, "T1566", 5, err, sizeof err))
        fail (EXIT_SETUP, "%s", err);
    size_t len = sign (&rep, buf);
    memcpy (ext, "\x01\x00\x05T1566", 8);
    ext[8] = IM_EXT_SEALED;
    ext[9] = (uint8_t)(elen >> 8);
    ext[10] = (uint8_t)elen;
    memcpy (ext + 11, env, elen);
    printf ("sealer: report %s\n", rep.value);
    keep (buf, with_ext (&rep, buf, len, 2, ext, 11 + elen));
}

/* Makes the carriers of KIND (N of a flood); SOURCE for reseal. */
static int
carriers (const char *kind, long n, zsock_t *source)
{
    const uint8_t (*dest)[IM_NODE_ID_SIZE] = (const uint8_t (*)[IM_NODE_ID_SIZE])to;
    size_t len = 0;
    if (strncmp (kind, "sight", 5) == 0)
        return -1;
    if (strcmp (kind, "flood") == 0) {
        flood (n);
        return 0;
    }
    need_to ();
    if (strcmp (kind, "good") == 0 || strcmp (kind, "twice") == 0
        || strcmp (kind, "bad-digest") == 0) {
        size_t ilen = own_record (IM_TLP_RED, dest, 1, inner);
        keep (buf, len = carrier (inner, ilen, to, buf, &crec));
        if (kind[0] == 't')
            keep (buf, carrier (inner, ilen, to, buf, &crec));
        if (kind[0] == 'b') {
            /* One hex digit of the value changed, the rest as signed. */
            out[0][VALUE_AT] = out[0][VALUE_AT] == '0' ? '1' : '0';
            out_len[0] = resign (out[0], len - IM_BATCH_AUTH);
        }
        return 0;
    }
    if (strcmp (kind, "bad-size") == 0) {
        bad_size ();
        return 0;
    }
    if (strcmp (kind, "report-env") == 0) {
        report_env ();
        return 0;
    }
    if (strcmp (kind, "garbage") == 0)
        randombytes_buf (inner, len = 300);
    else if (strcmp (kind, "truncated") == 0)
        len = own_record (IM_TLP_RED, dest, 1, inner) / 2;
    else if (strcmp (kind, "badsig") == 0) {
        len = own_record (IM_TLP_RED, dest, 1, inner);
        inner[len - IM_BATCH_SIG] ^= 0x55;
    }
    else if (strcmp (kind, "nested") == 0) {
        len = own_record (IM_TLP_RED, dest, 1, inner);
        len = carrier (inner, len, to, buf, &crec);
        memcpy (inner, buf, len);
    }
    else if (strcmp (kind, "red-other") == 0)
        len = own_record (IM_TLP_RED, (const uint8_t (*)[IM_NODE_ID_SIZE])other, 1,
                          inner);
    else if (strcmp (kind, "red-none") == 0)
        len = own_record (IM_TLP_RED, NULL, 0, inner);
    else if (strcmp (kind, "reseal") == 0) {
        if (!source)
            fail (EXIT_SETUP, "reseal needs --source ENDPOINT CURVE-HEX");
        if (!(len = pull_amber (source, inner)))
            fail (EXIT_FAILED, "the source gave no AMBER record of another origin");
    }
    else
        return -1;
    keep (buf, carrier (inner, len, to, buf, &crec));
    return 0;
}

/* --- Sightings ------------------------------------------------------------ */

/* A well-formed sighting of its own of --indicator, TLP --tlp (RED names the
 * indicator's origin), seen COUNT times, signed into BUF with its record in
 * S. */
static size_t
sighting (uint32_t count, im_record_t *s)
{
    char err[256];
    uint8_t origin[IM_NODE_ID_SIZE], id[IM_ID_SIZE], data[IM_SIGHT_EXT_SIZE];
    if (!indicator || im_sighting_parse (indicator, origin, id))
        fail (EXIT_SETUP, "sightings need --indicator ORIGIN-HEX/UUID (lower case)");
    int64_t now = (int64_t)time (NULL);
    im_sight_t sg = { count, now - 60, now, IM_SOURCE_HONEYPOT };
    im_record_init (s);
    memcpy (s->origin, me.pk, IM_NODE_ID_SIZE);
    snprintf (s->value, sizeof s->value, "%s", indicator);
    im_sighting_id (s->value, s->id);
    s->type = IM_TYPE_SIGHTING;
    s->version = (uint64_t)zclock_time (); /* newer than any sent before */
    s->tlp = (uint8_t)tlp;
    s->no_detect = 1;
    s->created = s->modified = now;
    if (tlp == IM_TLP_RED)
        memcpy (s->recipients[s->nrecipients++], origin, IM_NODE_ID_SIZE);
    im_sight_encode (&sg, data);
    if (im_record_add_ext (s, IM_EXT_SIGHTING, data, sizeof data, err, sizeof err))
        fail (EXIT_SETUP, "%s", err);
    return sign (s, buf);
}

void
put64 (uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Makes the sighting of KIND. */
static int
sightings (const char *kind)
{
    static im_record_t s;
    size_t len = sighting (1, &s), body = len - IM_BATCH_AUTH;
    uint8_t *data = buf + body - IM_SIGHT_EXT_SIZE; /* the one item's data */
    if (strcmp (kind, "sight") == 0)
        ;
    else if (strcmp (kind, "sight-randid") == 0) {
        randombytes_buf (s.id, IM_ID_SIZE);
        memcpy (buf + ID_AT, s.id, IM_ID_SIZE);
        len = resign (buf, body);
    }
    else if (strcmp (kind, "sight-zero") == 0) {
        memset (data, 0, 4);
        len = resign (buf, body);
    }
    else if (strcmp (kind, "sight-future") == 0) {
        put64 (data + 12, UINT64_C (1) << 40); /* the year 36812 */
        len = resign (buf, body);
    }
    else if (strcmp (kind, "sight-badvalue") == 0) {
        buf[VALUE_AT + 64] = '-';
        len = resign (buf, body);
    }
    else if (strcmp (kind, "sight-two") == 0) {
        uint8_t ext[2 * (3 + IM_SIGHT_EXT_SIZE)];
        memcpy (ext, s.ext, s.ext_len);
        memcpy (ext + s.ext_len, s.ext, s.ext_len);
        ext[s.ext_len + 3 + 3]++; /* a larger count: the second item sorts after */
        len = with_ext (&s, buf, len, 2, ext, sizeof ext);
    }
    else
        return -1;
    char id[IM_ID_STR_SIZE];
    im_id_format (s.id, id);
    printf ("sealer: sighting %s\n", id);
    keep (buf, len);
    return 0;
}

/* --- Delivery ------------------------------------------------------------- */

/* Answers the target's PULLs with what was made, at most its credit a
 * RECORDS, then waits for the PULL that follows the last: the target has
 * applied it. Returns 0, or -1 at the deadline. */
static int
deliver (zsock_t *target, int64_t deadline)
{
    size_t at = 0;
    int sent_all = 0, id;
    uint64_t cursor = 0;
    while ((id = next_msg (target, deadline)) != 0) {
        if (id != IM_MSG_PULL)
            continue;
        if (sent_all && msg.cursor >= cursor)
            return 0;
        if (sent_all)
            continue;
        size_t credit = msg.credit, k = nout - at < credit ? nout - at : credit;
        cursor = msg.cursor + k + 1;
        memset (&msg, 0, offsetof (im_msg_t, entries));
        msg.id = IM_MSG_RECORDS;
        msg.cursor = cursor;
        msg.count = k;
        for (size_t i = 0; i < k; i++) {
            msg.entries[i].record = out[at + i];
            msg.entries[i].len = out_len[at + i];
        }
        send_msg (target);
        at += k;
        sent_all = at == nout;
    }
    return -1;
}

static void
hex_arg (const char *text, uint8_t node[IM_NODE_ID_SIZE], const char *what)
{
    if (im_node_parse (text, node))
        fail (EXIT_SETUP, "%s: not 64 hex digits", what);
}

int
main (int argc, char **argv)
{
    const char *keys_path = NULL, *target_ep = NULL, *target_key = NULL;
    const char *source_ep = NULL, *source_key = NULL, *kind = NULL;
    long n = 1;
    randombytes_buf (other, sizeof other);
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
        else if (strcmp (argv[i], "--to") == 0 && i + 1 < argc) {
            hex_arg (argv[++i], to, "--to");
            have_to = 1;
        }
        else if (sx_option (argc, argv, &i))
            ;
        else if (strcmp (argv[i], "--other") == 0 && i + 1 < argc)
            hex_arg (argv[++i], other, "--other");
        else if (strcmp (argv[i], "--indicator") == 0 && i + 1 < argc)
            indicator = argv[++i];
        else if (strcmp (argv[i], "--tlp") == 0 && i + 1 < argc) {
            if ((tlp = im_tlp_parse (argv[++i])) <= 0)
                fail (EXIT_SETUP, "--tlp: not a TLP label");
        }
        else if (!kind && argv[i][0] != '-')
            kind = argv[i];
        else if (kind && argv[i][0] != '-') {
            n = strtol (argv[i], NULL, 10);
            if (n < 1 || n > RECORDS_MAX)
                fail (EXIT_SETUP, "N must be from 1 to %d", RECORDS_MAX);
        }
        else
            usage ();
    }
    if (!keys_path || !kind || (!target_ep && strcmp (kind, "capture")))
        usage ();
    if (sodium_init () < 0)
        fail (EXIT_SETUP, "libsodium cannot start");
    zsys_init ();
    zsys_set_logstream (NULL);
    char why[256];
    if (pk_keys_load (&me, keys_path, why, sizeof why))
        fail (EXIT_SETUP, "%s", why);
    randombytes_buf (&session, sizeof session);
    session |= 1;
    zsock_t *source = source_ep ? link_up (source_ep, source_key) : NULL;
    if (sx_kind (kind, n, source) != 0 && carriers (kind, n, source) != 0
        && sightings (kind) != 0)
        usage ();
    zsock_t *target = link_up (target_ep, target_key);
    int rc = deliver (target, zclock_mono () + 60000);
    if (rc == 0)
        printf ("sealer: %s: %zu record(s) applied\n", kind, nout);
    fflush (stdout);
    zsock_destroy (&target);
    zsock_destroy (&source);
    for (size_t i = 0; i < nout; i++)
        free (out[i]);
    if (rc != 0)
        fail (EXIT_FAILED, "%s: the target did not pull, or not again", kind);
    return 0;
}
