/* SPDX-License-Identifier: MPL-2.0 */
/* test_msg.c -- unit tests for proto/im_msg.c: the wire layout of every peer
 * message, round trips, every refusal of the encoder and the decoder, and the
 * IM_MSG_MAX limit on both sides. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <sodium.h>

#include "im_msg.h"
#include "im_record.h"
#include "tap.h"
#include "testlib.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

/* Offsets in the messages (SPEC: signature, id, then the fields). */
#define OFF_ID 2
#define OFF_HELLO_VERSION 3
#define OFF_HELLO_NODE 4
#define OFF_HELLO_SESSION 36
#define OFF_HELLO_NAME_LEN 44
#define OFF_HELLO_NAME 45
#define OFF_CURSOR 3 /* PULL, RECORDS */
#define OFF_CREDIT 11
#define OFF_MORE 11
#define OFF_COUNT 12
#define OFF_ENTRIES 14
#define OFF_SESSION 3 /* PING, PONG */

/* A message being edited by a test (everything but the size-limit tests). */
typedef struct {
    uint8_t buf[65536];
    size_t len;
} wire_t;

/* Real signed records, of different sizes, for entries. */
#define NSIGNED 4
static struct {
    uint8_t buf[IM_RECORD_MAX];
    size_t len;
} signed_rec[NSIGNED];

/* Plain bytes for the other entries; larger than any valid record. */
#define FILLER_SIZE 70000
static uint8_t filler[FILLER_SIZE];

static uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

/* Scratch messages: im_msg_t is large. */
static im_msg_t msg, got, again;

/* Room for any message and then some. */
static uint8_t big[IM_MSG_MAX + 64];

/* --- Helpers --------------------------------------------------------------- */

/* Returns 1 when ERR is one non-empty line of printable ASCII. */
static int
one_line (const char *err)
{
    if (!err[0])
        return 0;
    for (const char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            return 0;
    return 1;
}

/* Decodes a heap copy of BUF that is exactly LEN bytes long (so that the
 * address sanitizer sees any read past the end) into M; the copy is returned
 * in *KEEP when KEEP is given (M's entries point into it), else freed. */
static int
decode_exact (const uint8_t *buf, size_t len, im_msg_t *m, char *err, size_t errsz,
              uint8_t **keep)
{
    uint8_t *copy = malloc (len ? len : 1);
    if (!copy)
        BAIL_OUT ("out of memory");
    if (len)
        memcpy (copy, buf, len);
    err[0] = '\0';
    errno = 0;
    int rc = im_msg_decode (copy, len, m, err, errsz);
    int saved = errno;
    if (keep)
        *keep = copy;
    else
        free (copy);
    errno = saved;
    return rc;
}

/* Decode must refuse BUF with EBADMSG and a one-line error that says WHY. */
static void
refused (const uint8_t *buf, size_t len, const char *why, const char *what)
{
    char err[256], p[300];
    int rc = decode_exact (buf, len, &got, err, sizeof err, NULL);
    int saved = errno;
    if (!ok (rc == -1 && saved == EBADMSG, "decode refuses %s", what))
        diag ("rc %d errno %d (%s)", rc, saved, printable (err, p, sizeof p));
    if (!ok (strstr (err, why) != NULL && one_line (err),
             "the error for %s is one line that says \"%s\"", what, why))
        diag ("error: %s", printable (err, p, sizeof p));
}

/* Encode must refuse M with errno CODE, writing nothing and leaving *len. */
static void
encode_refused (const im_msg_t *m, int code, const char *what)
{
    size_t len = 4242;
    memset (big, 0xee, 64);
    errno = 0;
    int rc = im_msg_encode (m, big, sizeof big, &len);
    int saved = errno;
    if (!ok (rc == -1 && saved == code, "encode refuses %s with %s", what,
             code == EINVAL ? "EINVAL" : "ENOSPC"))
        diag ("rc %d errno %d", rc, saved);
    ok (len == 4242 && big[0] == 0xee, "encode writes nothing for %s", what);
}

static void
put_number (uint8_t *p, uint64_t v, int size)
{
    for (int i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * (size - 1 - i)));
}

/* Appends LEN bytes of DATA to W. */
static void
append (wire_t *w, const void *data, size_t len)
{
    if (w->len + len > sizeof w->buf)
        BAIL_OUT ("append out of range");
    memcpy (w->buf + w->len, data, len);
    w->len += len;
}

/* Appends V, SIZE bytes big-endian, to W. */
static void
append_number (wire_t *w, uint64_t v, int size)
{
    uint8_t b[8];
    put_number (b, v, size);
    append (w, b, (size_t)size);
}

/* The header of a message of ID. */
static void
start (wire_t *w, uint8_t id)
{
    w->len = 0;
    append_number (w, IM_MSG_SIGNATURE_0, 1);
    append_number (w, IM_MSG_SIGNATURE_1, 1);
    append_number (w, id, 1);
}

/* Appends one RECORDS entry. */
static void
append_entry (wire_t *w, uint8_t hops, const uint8_t *record, size_t len)
{
    append_number (w, hops, 1);
    append_number (w, len, 2);
    append (w, record, len);
}

/* Encodes M into W; bails out if it cannot (the message is the test's own). */
static void
encode_into (const im_msg_t *m, wire_t *w)
{
    if (im_msg_encode (m, w->buf, sizeof w->buf, &w->len))
        BAIL_OUT ("cannot encode a test's %s message: errno %d", im_msg_name (m->id),
                  errno);
}

/* The size of M by the format, worked out independently of the encoder. */
static size_t
wire_size (const im_msg_t *m)
{
    switch (m->id) {
    case IM_MSG_HELLO: return 3 + 1 + 32 + 8 + 1 + strlen (m->name);
    case IM_MSG_PULL:
    case IM_MSG_SYNC: return 3 + 8 + 2;
    case IM_MSG_KEYS: return 3 + 8 + 1 + 2 + m->count * (32 + 16 + 8);
    case IM_MSG_RECORDS:
    case IM_MSG_FOUND: {
        size_t n = 3 + 8 + 1 + 2;
        for (size_t i = 0; i < m->count; i++)
            n += 1 + 2 + m->entries[i].len;
        return n;
    }
    case IM_MSG_HAVE:
    case IM_MSG_FETCH: return 3 + 2 + m->count * (32 + 16 + 8);
    case IM_MSG_LAZY:
    case IM_MSG_EAGER: return 3 + 2 + m->count * 32;
    default: return 3 + 8 + 8;
    }
}

/* The name of the first field of A's id in which A and B differ, or NULL. */
static const char *
msg_diff (const im_msg_t *a, const im_msg_t *b)
{
    if (a->id != b->id)
        return "id";
    switch (a->id) {
    case IM_MSG_HELLO:
        if (a->version != b->version)
            return "version";
        if (memcmp (a->node, b->node, IM_NODE_ID_SIZE))
            return "node";
        if (a->session != b->session)
            return "session";
        if (strcmp (a->name, b->name))
            return "name";
        return NULL;
    case IM_MSG_PULL:
    case IM_MSG_SYNC:
        if (a->cursor != b->cursor)
            return "cursor";
        if (a->credit != b->credit)
            return "credit";
        return NULL;
    case IM_MSG_KEYS:
        if (a->cursor != b->cursor)
            return "cursor";
        if (a->more != b->more)
            return "more";
        if (a->count != b->count)
            return "count";
        if (a->count && memcmp (a->have, b->have, a->count * IM_MSG_HAVE_KEY))
            return "keys";
        return NULL;
    case IM_MSG_RECORDS:
    case IM_MSG_FOUND:
        if (a->cursor != b->cursor)
            return "cursor";
        if (a->more != b->more)
            return "more";
        if (a->count != b->count)
            return "count";
        for (size_t i = 0; i < a->count; i++) {
            if (a->entries[i].hops != b->entries[i].hops)
                return "an entry's hops";
            if (a->entries[i].len != b->entries[i].len)
                return "an entry's length";
            if (memcmp (a->entries[i].record, b->entries[i].record, a->entries[i].len))
                return "an entry's record";
        }
        return NULL;
    case IM_MSG_HAVE:
    case IM_MSG_FETCH:
        if (a->count != b->count)
            return "count";
        if (memcmp (a->have, b->have, a->count * IM_MSG_HAVE_KEY))
            return "keys";
        return NULL;
    case IM_MSG_LAZY:
    case IM_MSG_EAGER:
        if (a->count != b->count)
            return "count";
        if (a->count && memcmp (a->have, b->have, a->count * IM_NODE_ID_SIZE))
            return "origins";
        return NULL;
    default:
        if (a->session != b->session)
            return "session";
        if (a->cursor != b->cursor)
            return "cursor";
        return NULL;
    }
}

/* --- Messages the tests build ---------------------------------------------- */

static void
hello (im_msg_t *m, const char *name)
{
    memset (m, 0, sizeof *m);
    m->id = IM_MSG_HELLO;
    m->version = IM_MSG_VERSION;
    memset (m->node, 0x5a, IM_NODE_ID_SIZE);
    m->node[0] = 0x01;
    m->session = UINT64_C (0x8877665544332211);
    snprintf (m->name, sizeof m->name, "%s", name);
}

static void
pull (im_msg_t *m, uint64_t cursor, uint16_t credit)
{
    memset (m, 0, sizeof *m);
    m->id = IM_MSG_PULL;
    m->cursor = cursor;
    m->credit = credit;
}

static void
records (im_msg_t *m, uint64_t cursor, uint8_t more)
{
    memset (m, 0, sizeof *m);
    m->id = IM_MSG_RECORDS;
    m->cursor = cursor;
    m->more = more;
}

static void
add_entry (im_msg_t *m, uint8_t hops, const uint8_t *record, size_t len)
{
    if (m->count >= IM_MSG_CREDIT_MAX)
        BAIL_OUT ("too many entries in a test message");
    m->entries[m->count].hops = hops;
    m->entries[m->count].record = record;
    m->entries[m->count].len = len;
    m->count++;
}

static void
add_signed (im_msg_t *m, uint8_t hops, int which)
{
    add_entry (m, hops, signed_rec[which].buf, signed_rec[which].len);
}

/* LEN filler bytes; OFFSET varies the content from entry to entry. */
static void
add_filler (im_msg_t *m, uint8_t hops, size_t offset, size_t len)
{
    if (offset + len > FILLER_SIZE)
        BAIL_OUT ("filler out of range");
    add_entry (m, hops, filler + offset, len);
}

static void
session_msg (im_msg_t *m, uint8_t id, uint64_t session)
{
    memset (m, 0, sizeof *m);
    m->id = id;
    m->session = session;
    m->cursor = ~session; /* the newest change: any number */
}

/* The valid RECORDS message the malformed-input tests edit: a signed record,
 * one byte of filler, another signed record, with hops 0, 1 and 255. */
static void
base_records (im_msg_t *m)
{
    records (m, UINT64_C (0x0102030405060708), 1);
    add_signed (m, 0, 0);
    add_filler (m, 1, 0, 1);
    add_signed (m, 255, 1);
}

/* The valid HELLO the malformed-input tests edit: a name of 64 bytes. */
static void
base_hello (im_msg_t *m)
{
    hello (m, "cert-eu.node_01.ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv");
    if (strlen (m->name) != IM_MSG_NAME_MAX)
        BAIL_OUT ("the base HELLO's name is %zu bytes", strlen (m->name));
}

/* --- Round-trip cases ------------------------------------------------------ */

static void
hello_one_letter (im_msg_t *m)
{
    hello (m, "a");
}

static void
hello_one_dash (im_msg_t *m)
{
    hello (m, "-");
}

static void
hello_dotted (im_msg_t *m)
{
    hello (m, "cert-fr.node_01");
}

static void
hello_every_class (im_msg_t *m)
{
    hello (m, "AZaz09._-");
}

static void
hello_longest (im_msg_t *m)
{
    base_hello (m);
}

static void
hello_zero_session (im_msg_t *m)
{
    hello (m, "Zero");
    m->session = 0;
    memset (m->node, 0, IM_NODE_ID_SIZE);
}

static void
hello_version_2 (im_msg_t *m)
{
    hello (m, "future");
    m->version = 2;
}

static void
pull_credit_1 (im_msg_t *m)
{
    pull (m, 0, 1);
}

static void
pull_credit_max (im_msg_t *m)
{
    pull (m, UINT64_MAX, IM_MSG_CREDIT_MAX);
}

static void
pull_credit_500 (im_msg_t *m)
{
    pull (m, UINT64_C (0x0102030405060708), 500);
}

static void
records_none (im_msg_t *m)
{
    records (m, 0, 0);
}

static void
records_none_more (im_msg_t *m)
{
    records (m, UINT64_MAX, 1);
}

static void
records_restart (im_msg_t *m)
{
    records (m, 150, IM_MSG_MORE | IM_MSG_RESTART);
    add_signed (m, 0, 0);
}

static void
records_one (im_msg_t *m)
{
    records (m, 42, 0);
    add_signed (m, 0, 0);
}

static void
records_three (im_msg_t *m)
{
    base_records (m);
}

static void
records_size_one (im_msg_t *m)
{
    records (m, 7, 0);
    for (size_t i = 0; i < 3; i++)
        add_filler (m, (uint8_t)i, i, 1);
}

static void
records_largest (im_msg_t *m)
{
    records (m, 8, 1);
    add_filler (m, 3, 0, IM_RECORD_MAX);
    add_signed (m, 4, 2);
    add_filler (m, 5, 17, IM_RECORD_MAX);
}

static void
records_credit_max (im_msg_t *m)
{
    records (m, 1000, 1);
    for (size_t i = 0; i < IM_MSG_CREDIT_MAX; i++) {
        if (i % 10 == 0)
            add_signed (m, (uint8_t)(i % 7), (int)(i / 10 % NSIGNED));
        else
            add_filler (m, (uint8_t)i, i, 1 + i * 37 % 700);
    }
}

static void
records_credit_max_size_one (im_msg_t *m)
{
    records (m, 1001, 0);
    for (size_t i = 0; i < IM_MSG_CREDIT_MAX; i++)
        add_filler (m, 1, i, 1);
}

static void
ping_zero (im_msg_t *m)
{
    session_msg (m, IM_MSG_PING, 0);
}

static void
ping_max (im_msg_t *m)
{
    session_msg (m, IM_MSG_PING, UINT64_MAX);
}

static void
pong_zero (im_msg_t *m)
{
    session_msg (m, IM_MSG_PONG, 0);
}

static void
pong_pattern (im_msg_t *m)
{
    session_msg (m, IM_MSG_PONG, UINT64_C (0x0102030405060708));
}

/* HAVE keys: origin, id and version, patterned so that a shifted byte shows. */
static uint8_t have_keys[IM_MSG_CREDIT_MAX * IM_MSG_HAVE_KEY];

static void
have_n (im_msg_t *m, size_t n)
{
    memset (m, 0, sizeof *m);
    for (size_t i = 0; i < sizeof have_keys; i++)
        have_keys[i] = (uint8_t)(i * 7 + 3);
    m->id = IM_MSG_HAVE;
    m->count = n;
    m->have = have_keys;
}

static void
have_one (im_msg_t *m)
{
    have_n (m, 1);
}

static void
have_max (im_msg_t *m)
{
    have_n (m, IM_MSG_CREDIT_MAX);
}

static void
fetch_three (im_msg_t *m)
{
    have_n (m, 3);
    m->id = IM_MSG_FETCH;
}

static void
lazy_none (im_msg_t *m)
{
    have_n (m, 0);
    m->id = IM_MSG_LAZY;
    m->have = NULL;
}

static void
lazy_max (im_msg_t *m)
{
    have_n (m, IM_MSG_CREDIT_MAX);
    m->id = IM_MSG_LAZY;
}

static void
eager_none (im_msg_t *m)
{
    lazy_none (m);
    m->id = IM_MSG_EAGER;
}

static void
eager_max (im_msg_t *m)
{
    lazy_max (m);
    m->id = IM_MSG_EAGER;
}

static void
sync_start (im_msg_t *m)
{
    pull (m, 0, IM_MSG_CREDIT_MAX);
    m->id = IM_MSG_SYNC;
}

static void
keys_none_more (im_msg_t *m)
{
    have_n (m, 0);
    m->id = IM_MSG_KEYS;
    m->have = NULL;
    m->cursor = 77;
    m->more = 1;
}

static void
keys_max (im_msg_t *m)
{
    have_n (m, IM_MSG_CREDIT_MAX);
    m->id = IM_MSG_KEYS;
    m->cursor = UINT64_MAX;
}

static void
found_three (im_msg_t *m)
{
    records_three (m);
    m->id = IM_MSG_FOUND;
}

typedef struct {
    void (*build) (im_msg_t *);
    const char *what;
} case_t;

static const case_t trips[] = {
    { hello_one_letter, "a HELLO with the one-letter name \"a\"" },
    { hello_one_dash, "a HELLO with the name \"-\"" },
    { hello_dotted, "a HELLO with the name \"cert-fr.node_01\"" },
    { hello_every_class, "a HELLO whose name has every kind of allowed byte" },
    { hello_longest, "a HELLO with a name of 64 bytes" },
    { hello_zero_session, "a HELLO with session 0 and an all-zero node id" },
    { hello_version_2, "a HELLO of version 2" },
    { pull_credit_1, "a PULL with cursor 0 and credit 1" },
    { pull_credit_max, "a PULL with the largest cursor and credit 1000" },
    { pull_credit_500, "a PULL with credit 500" },
    { records_none, "a RECORDS with no entries" },
    { records_none_more, "a RECORDS with no entries and more set" },
    { records_restart, "a RECORDS with the more and restart bits set" },
    { records_one, "a RECORDS with one signed record" },
    { records_three, "a RECORDS with three entries and hops 0, 1 and 255" },
    { records_size_one, "a RECORDS with three entries of one byte" },
    { records_largest, "a RECORDS with entries of IM_RECORD_MAX bytes" },
    { records_credit_max, "a RECORDS with IM_MSG_CREDIT_MAX entries of mixed sizes" },
    { records_credit_max_size_one,
      "a RECORDS with IM_MSG_CREDIT_MAX entries of one byte" },
    { ping_zero, "a PING with session 0" },
    { ping_max, "a PING with the largest session" },
    { pong_zero, "a PONG with session 0" },
    { pong_pattern, "a PONG with session 0x0102030405060708" },
    { have_one, "a HAVE with one key" },
    { have_max, "a HAVE with IM_MSG_CREDIT_MAX keys" },
    { fetch_three, "a FETCH with three keys" },
    { lazy_none, "a LAZY with no origins" },
    { lazy_max, "a LAZY with IM_MSG_CREDIT_MAX origins" },
    { eager_none, "an EAGER with no origins" },
    { eager_max, "an EAGER with IM_MSG_CREDIT_MAX origins" },
    { found_three, "a FOUND with three entries" },
    { sync_start, "a SYNC from cursor 0 with credit 1000" },
    { keys_none_more, "a KEYS with no keys, cursor 77 and more set" },
    { keys_max, "a KEYS with IM_MSG_CREDIT_MAX keys and the largest cursor" },
};

/* Encodes M, decodes it from an exact-size copy and compares every field. */
static void
round_trip (const im_msg_t *m, const char *what)
{
    char err[256], p[300];
    size_t len = 0;
    int rc = im_msg_encode (m, big, sizeof big, &len);
    if (!ok (rc == 0, "encode accepts %s", what)) {
        diag ("errno %d", errno);
        return;
    }
    cmp_ok (len, "==", wire_size (m), "encode gives %s the size of its format", what);

    uint8_t *copy;
    rc = decode_exact (big, len, &got, err, sizeof err, &copy);
    if (!ok (rc == 0, "decode accepts %s", what))
        diag ("error: %s", printable (err, p, sizeof p));
    const char *diff = rc == 0 ? msg_diff (m, &got) : "everything";
    if (!ok (diff == NULL, "%s comes back unchanged", what))
        diag ("first difference: %s", diff);
    if (rc == 0 && m->id == IM_MSG_RECORDS && m->count > 0) {
        size_t off = OFF_ENTRIES, bad = 0;
        for (size_t i = 0; i < got.count; i++) {
            off += IM_MSG_ENTRY_OVERHEAD;
            bad += got.entries[i].record != copy + off;
            off += got.entries[i].len;
        }
        ok (bad == 0, "the entries of %s point into the decoded buffer", what);
    }

    /* Re-encoding into a buffer of exactly the size, then one byte less. */
    uint8_t *exact = malloc (len);
    size_t len2 = 0;
    if (!exact)
        BAIL_OUT ("out of memory");
    rc = rc == 0 ? im_msg_encode (&got, exact, len, &len2) : -1;
    ok (rc == 0 && len2 == len && memcmp (exact, big, len) == 0,
        "%s, once decoded, encodes to the same bytes in a buffer of exactly its size",
        what);
    len2 = 4242;
    errno = 0;
    rc = im_msg_encode (m, exact, len - 1, &len2);
    ok (rc == -1 && errno == ENOSPC && len2 == 4242,
        "encode reports ENOSPC for %s in a buffer one byte short", what);
    free (exact);
    free (copy);
}

/* --- Tests ----------------------------------------------------------------- */

static void
test_bad_arguments (void)
{
    char err[256];
    size_t len = 4242;
    wire_t w;
    int rc;

    pull (&msg, 1, 1);
    errno = 0;
    rc = im_msg_encode (NULL, big, sizeof big, &len);
    ok (rc == -1 && errno == EINVAL && len == 4242, "encode refuses a NULL message");
    errno = 0;
    rc = im_msg_encode (&msg, NULL, sizeof big, &len);
    ok (rc == -1 && errno == EINVAL && len == 4242, "encode refuses a NULL buffer");
    errno = 0;
    rc = im_msg_encode (&msg, big, sizeof big, NULL);
    ok (rc == -1 && errno == EINVAL, "encode refuses a NULL length pointer");

    encode_into (&msg, &w);
    errno = 0;
    rc = im_msg_decode (NULL, w.len, &got, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "decode refuses a NULL buffer");
    ok (strstr (err, "missing argument") && one_line (err),
        "the error for a NULL buffer says an argument is missing");
    errno = 0;
    err[0] = '\0';
    rc = im_msg_decode (w.buf, w.len, NULL, err, sizeof err);
    ok (rc == -1 && errno == EINVAL && strstr (err, "missing argument"),
        "decode refuses a NULL message");
    rc = im_msg_decode (w.buf, w.len, &got, NULL, 0);
    ok (rc == 0 && got.id == IM_MSG_PULL, "decode works without an error buffer");
    errno = 0;
    rc = im_msg_decode (w.buf, 1, &got, NULL, 0);
    ok (rc == -1 && errno == EBADMSG, "decode refuses without an error buffer");
    char tiny[8];
    memset (tiny, 'x', sizeof tiny);
    rc = im_msg_decode (w.buf, 1, &got, tiny, sizeof tiny);
    ok (rc == -1 && memchr (tiny, 0, sizeof tiny) != NULL,
        "decode cuts its error to a small error buffer");

    /* Unknown ids, both ways. */
    static const uint8_t unknown[] = { 0, 15, 16, 255 };
    for (size_t i = 0; i < COUNT (unknown); i++) {
        char what[64], why[64];
        session_msg (&msg, unknown[i], 1);
        snprintf (what, sizeof what, "message id %u", unknown[i]);
        encode_refused (&msg, EINVAL, what);
        start (&w, unknown[i]);
        append_number (&w, 1, 8);
        snprintf (why, sizeof why, "unknown message id %u", unknown[i]);
        refused (w.buf, w.len, why, what);
    }

    /* The names of the ids. */
    static const struct {
        int id;
        const char *name;
    } names[] = {
        { IM_MSG_HELLO, "HELLO" },
        { IM_MSG_PULL, "PULL" },
        { IM_MSG_RECORDS, "RECORDS" },
        { IM_MSG_PING, "PING" },
        { IM_MSG_PONG, "PONG" },
        { 0, "?" },
        { IM_MSG_HAVE, "HAVE" },
        { IM_MSG_LAZY, "LAZY" },
        { IM_MSG_FETCH, "FETCH" },
        { IM_MSG_FOUND, "FOUND" },
        { IM_MSG_ROTATE, "ROTATE" },
        { IM_MSG_ROTATED, "ROTATED" },
        { IM_MSG_SYNC, "SYNC" },
        { IM_MSG_KEYS, "KEYS" },
        { IM_MSG_EAGER, "EAGER" },
        { 15, "?" },
        { -1, "?" },
        { 256 + IM_MSG_PING, "?" },
    };
    for (size_t i = 0; i < COUNT (names); i++)
        is (im_msg_name (names[i].id), names[i].name, "im_msg_name (%d) is \"%s\"",
            names[i].id, names[i].name);
}

/* The exact bytes of one message of each id, from the format. */
static void
test_wire_layout (void)
{
    wire_t w;
    char err[256], p[300];
    int rc;

    static const uint8_t pull_bytes[] = { 0xaa, 0xa1, 0x02, 0x01, 0x02, 0x03, 0x04,
                                          0x05, 0x06, 0x07, 0x08, 0x03, 0xe8 };
    pull (&msg, UINT64_C (0x0102030405060708), 1000);
    encode_into (&msg, &w);
    ok (w.len == sizeof pull_bytes && memcmp (w.buf, pull_bytes, w.len) == 0,
        "a PULL is the signature, id 2, the cursor and the credit, big-endian");
    rc = decode_exact (pull_bytes, sizeof pull_bytes, &got, err, sizeof err, NULL);
    ok (rc == 0 && got.id == IM_MSG_PULL && got.cursor == UINT64_C (0x0102030405060708)
            && got.credit == 1000,
        "decode reads the cursor and credit of a PULL");

    static const uint8_t ping_bytes[]
        = { 0xaa, 0xa1, 0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
            0x88, 0,    0,    0,    0,    0,    0,    0x01, 0x02 };
    session_msg (&msg, IM_MSG_PING, UINT64_C (0x1122334455667788));
    msg.cursor = 0x0102;
    encode_into (&msg, &w);
    ok (w.len == sizeof ping_bytes && memcmp (w.buf, ping_bytes, w.len) == 0,
        "a PING is the signature, id 4, the session and the newest change");
    uint8_t pong_bytes[sizeof ping_bytes];
    memcpy (pong_bytes, ping_bytes, sizeof pong_bytes);
    pong_bytes[OFF_ID] = 0x05;
    msg.id = IM_MSG_PONG;
    encode_into (&msg, &w);
    ok (w.len == sizeof pong_bytes && memcmp (w.buf, pong_bytes, w.len) == 0,
        "a PONG is the signature, id 5 and the session");
    rc = decode_exact (pong_bytes, sizeof pong_bytes, &got, err, sizeof err, NULL);
    ok (rc == 0 && got.id == IM_MSG_PONG && got.session == UINT64_C (0x1122334455667788)
            && got.cursor == 0x0102,
        "decode reads the session and newest change of a PONG");

    uint8_t hello_bytes[3 + 1 + 32 + 8 + 1 + 2] = { 0xaa, 0xa1, 0x01, 0x01 };
    memset (hello_bytes + OFF_HELLO_NODE, 0x5a, 32);
    hello_bytes[OFF_HELLO_NODE] = 0x01;
    put_number (hello_bytes + OFF_HELLO_SESSION, UINT64_C (0x8877665544332211), 8);
    hello_bytes[OFF_HELLO_NAME_LEN] = 2;
    memcpy (hello_bytes + OFF_HELLO_NAME, "ab", 2);
    hello (&msg, "ab");
    encode_into (&msg, &w);
    ok (w.len == sizeof hello_bytes && memcmp (w.buf, hello_bytes, w.len) == 0,
        "a HELLO is the signature, id 1, version, node, session, name length and name");
    rc = decode_exact (hello_bytes, sizeof hello_bytes, &got, err, sizeof err, NULL);
    ok (rc == 0 && msg_diff (&msg, &got) == NULL, "decode reads every field of a HELLO");
    if (rc)
        diag ("error: %s", printable (err, p, sizeof p));

    static const uint8_t records_bytes[] = {
        0xaa, 0xa1, 0x03, 0,    0,    0,    0,    0,    0,    0,   0x09, 0x01,
        0x00, 0x02, 0x02, 0x00, 0x01, 0x01, 0xff, 0x00, 0x03, 'x', 'y',  'z',
    };
    records (&msg, 9, 1);
    add_entry (&msg, 2, (const uint8_t *)"\x01", 1);
    add_entry (&msg, 255, (const uint8_t *)"xyz", 3);
    encode_into (&msg, &w);
    ok (w.len == sizeof records_bytes && memcmp (w.buf, records_bytes, w.len) == 0,
        "a RECORDS is the header, then hops, length and record for each entry");
    uint8_t *copy;
    rc = decode_exact (records_bytes, sizeof records_bytes, &got, err, sizeof err, &copy);
    ok (rc == 0 && msg_diff (&msg, &got) == NULL,
        "decode reads every field of a RECORDS");
    if (rc)
        diag ("error: %s", printable (err, p, sizeof p));
    free (copy);
}

static void
test_round_trip (void)
{
    for (size_t i = 0; i < COUNT (trips); i++) {
        trips[i].build (&msg);
        round_trip (&msg, trips[i].what);
    }

    /* The signed records carried come out byte for byte: they still verify. */
    char err[256], p[300];
    static im_record_t rec;
    static wire_t w;
    uint8_t *copy;
    size_t len = 0;
    records_credit_max (&msg);
    if (im_msg_encode (&msg, big, sizeof big, &len))
        BAIL_OUT ("cannot encode the test's largest RECORDS");
    int rc = decode_exact (big, len, &got, err, sizeof err, &copy);
    size_t verified = 0, bad = 0;
    for (size_t i = 0; rc == 0 && i < got.count; i += 10) {
        if (im_record_decode (got.entries[i].record, got.entries[i].len, 1, &rec, err,
                              sizeof err)
            == 0)
            verified++;
        else if (bad++ == 0)
            diag ("entry %zu: %s", i + 1, printable (err, p, sizeof p));
    }
    free (copy);
    ok (rc == 0 && verified == 100 && bad == 0,
        "the 100 signed records carried in a RECORDS still verify once decoded");

    /* Decode clears what the message does not carry. */
    records_three (&again);
    encode_into (&again, &w);
    hello (&got, "leftover");
    got.credit = 9;
    rc = decode_exact (w.buf, w.len, &got, err, sizeof err, &copy);
    ok (rc == 0 && got.name[0] == '\0' && got.credit == 0 && got.session == 0,
        "decoding a RECORDS clears the fields of an earlier HELLO and PULL");
    free (copy);
}

/* --- Encoder refusals ------------------------------------------------------- */

static void
spoil_credit_0 (im_msg_t *m)
{
    pull (m, 1, 0);
}

static void
spoil_credit_1001 (im_msg_t *m)
{
    pull (m, 1, IM_MSG_CREDIT_MAX + 1);
}

static void
spoil_credit_65535 (im_msg_t *m)
{
    pull (m, 1, UINT16_MAX);
}

static void
spoil_count_1001 (im_msg_t *m)
{
    records_credit_max_size_one (m);
    m->count = IM_MSG_CREDIT_MAX + 1;
}

static void
spoil_count_huge (im_msg_t *m)
{
    base_records (m);
    m->count = SIZE_MAX;
}

static void
spoil_more_4 (im_msg_t *m)
{
    base_records (m);
    m->more = 4;
}

static void
spoil_more_255 (im_msg_t *m)
{
    records (m, 0, 255);
}

static void
spoil_len_0 (im_msg_t *m)
{
    base_records (m);
    m->entries[1].len = 0;
}

static void
spoil_len_over (im_msg_t *m)
{
    base_records (m);
    m->entries[2].record = filler;
    m->entries[2].len = IM_RECORD_MAX + 1;
}

static void
spoil_len_wraps (im_msg_t *m)
{
    records (m, 0, 0);
    add_filler (m, 0, 0, 65536 + 5);
}

static void
spoil_null_record (im_msg_t *m)
{
    base_records (m);
    m->entries[0].record = NULL;
}

static void
spoil_entry_500 (im_msg_t *m)
{
    records_credit_max (m);
    m->entries[499].len = 0;
}

static void
spoil_name_empty (im_msg_t *m)
{
    hello (m, "");
}

static void
spoil_name_65 (im_msg_t *m)
{
    hello (m, "x");
    memset (m->name, 'n', sizeof m->name); /* 65 bytes, no NUL */
}

static void
spoil_name_space (im_msg_t *m)
{
    hello (m, "cert fr");
}

static void
spoil_name_utf8 (im_msg_t *m)
{
    hello (m, "caf\xc3\xa9");
}

static void
spoil_name_high (im_msg_t *m)
{
    hello (m, "\xff");
}

static void
spoil_name_slash (im_msg_t *m)
{
    hello (m, "a/b");
}

static void
spoil_name_colon (im_msg_t *m)
{
    hello (m, "a:b");
}

static void
spoil_name_plus (im_msg_t *m)
{
    hello (m, "a+b");
}

static void
spoil_name_tab (im_msg_t *m)
{
    hello (m, "a\tb");
}

static void
spoil_name_del (im_msg_t *m)
{
    hello (m, "a\x7f");
}

static void
spoil_id_0 (im_msg_t *m)
{
    session_msg (m, 0, 1);
}

static void
spoil_id_6 (im_msg_t *m)
{
    session_msg (m, 6, 1);
}

static void
spoil_sync_credit_0 (im_msg_t *m)
{
    sync_start (m);
    m->credit = 0;
}

static void
spoil_keys_more_2 (im_msg_t *m)
{
    keys_none_more (m);
    m->more = 2;
}

static void
spoil_keys_1001 (im_msg_t *m)
{
    keys_max (m);
    m->count = IM_MSG_CREDIT_MAX + 1;
}

static const case_t spoils[] = {
    { spoil_sync_credit_0, "a SYNC with credit 0" },
    { spoil_keys_more_2, "a KEYS with more 2" },
    { spoil_keys_1001, "a KEYS with 1001 keys" },
    { spoil_credit_0, "a PULL with credit 0" },
    { spoil_credit_1001, "a PULL with credit 1001" },
    { spoil_credit_65535, "a PULL with credit 65535" },
    { spoil_count_1001, "a RECORDS with 1001 entries" },
    { spoil_count_huge, "a RECORDS with a count of SIZE_MAX" },
    { spoil_more_4, "a RECORDS with more 4 (an unknown bit)" },
    { spoil_more_255, "an empty RECORDS with more 255" },
    { spoil_len_0, "a RECORDS whose second entry is empty" },
    { spoil_len_over, "a RECORDS with an entry of IM_RECORD_MAX + 1 bytes" },
    { spoil_len_wraps, "a RECORDS with an entry whose length does not fit in 2 bytes" },
    { spoil_null_record, "a RECORDS with a NULL record" },
    { spoil_entry_500, "a RECORDS of 1000 entries whose 500th is empty" },
    { spoil_name_empty, "a HELLO with an empty name" },
    { spoil_name_65, "a HELLO with a name of 65 bytes" },
    { spoil_name_space, "a HELLO whose name has a space" },
    { spoil_name_utf8, "a HELLO whose name is non-ASCII UTF-8" },
    { spoil_name_high, "a HELLO whose name is the byte 0xff" },
    { spoil_name_slash, "a HELLO whose name has a slash" },
    { spoil_name_colon, "a HELLO whose name has a colon" },
    { spoil_name_plus, "a HELLO whose name has a plus" },
    { spoil_name_tab, "a HELLO whose name has a tab" },
    { spoil_name_del, "a HELLO whose name has a DEL" },
    { spoil_id_0, "a message of id 0" },
    { spoil_id_6, "a message of id 6" },
};

static void
test_encode_refusals (void)
{
    for (size_t i = 0; i < COUNT (spoils); i++) {
        spoils[i].build (&msg);
        encode_refused (&msg, EINVAL, spoils[i].what);
    }

    /* Every buffer short of the size, each an exact heap allocation so that a
     * write past its end is seen. */
    static const case_t shorts[] = {
        { hello_longest, "a HELLO" },
        { pull_credit_1, "a PULL" },
        { records_three, "a RECORDS" },
        { ping_zero, "a PING" },
    };
    for (size_t i = 0; i < COUNT (shorts); i++) {
        wire_t w;
        shorts[i].build (&msg);
        encode_into (&msg, &w);
        size_t bad = 0;
        for (size_t n = 0; n < w.len; n++) {
            uint8_t *b = malloc (n ? n : 1);
            size_t len = 4242;
            if (!b)
                BAIL_OUT ("out of memory");
            errno = 0;
            if (im_msg_encode (&msg, b, n, &len) != -1 || errno != ENOSPC || len != 4242)
                if (bad++ < 3)
                    diag ("%zu bytes: errno %d", n, errno);
            free (b);
        }
        ok (bad == 0, "encode reports ENOSPC for %s in every buffer of 0..%zu bytes",
            shorts[i].what, w.len - 1);
        memset (big, 0xee, w.len + 16);
        size_t len = 0;
        int rc = im_msg_encode (&msg, big, w.len + 16, &len);
        size_t past = 0;
        for (size_t k = len; k < w.len + 16; k++)
            past += big[k] != 0xee;
        ok (rc == 0 && len == w.len && past == 0,
            "encode writes nothing after %s in a larger buffer", shorts[i].what);
    }
}

/* --- Decoder refusals ------------------------------------------------------- */

/* Refuses every truncation of W, each from an exact-size copy. */
static void
every_truncation (const wire_t *w, const char *what)
{
    char err[256], p[300];
    size_t bad = 0, badline = 0;
    for (size_t n = 0; n < w->len; n++) {
        int rc = decode_exact (w->buf, n, &got, err, sizeof err, NULL);
        if (rc != -1 || errno != EBADMSG) {
            if (bad++ < 5)
                diag ("%zu bytes: rc %d errno %d", n, rc, errno);
        }
        else if (!one_line (err) && badline++ < 5)
            diag ("%zu bytes: error \"%s\"", n, printable (err, p, sizeof p));
    }
    ok (bad == 0, "decode refuses every one of the %zu truncations of %s with EBADMSG",
        w->len, what);
    ok (badline == 0, "every error for a truncation of %s is one line", what);
}

static void
test_decode_truncated (void)
{
    static wire_t w;

    base_records (&msg);
    encode_into (&msg, &w);
    every_truncation (&w, "a RECORDS of three entries");
    /* Where the cut falls shows in the reason. */
    refused (w.buf, 2, "too short", "a RECORDS cut after its signature");
    refused (w.buf, OFF_CURSOR + 4, "RECORDS: truncated in the cursor",
             "a RECORDS cut in its cursor");
    refused (w.buf, OFF_COUNT + 1, "RECORDS: truncated in the count",
             "a RECORDS cut in its count");
    refused (w.buf, OFF_ENTRIES, "RECORDS: entry 1 of 3 is truncated",
             "a RECORDS cut before its first entry");
    refused (w.buf, OFF_ENTRIES + 2, "RECORDS: entry 1 of 3 is truncated",
             "a RECORDS cut in the length of its first entry");
    size_t third = OFF_ENTRIES + 3 + signed_rec[0].len + 3 + 1;
    refused (w.buf, third + 3 + 10, "RECORDS: entry 3 of 3 is truncated",
             "a RECORDS cut in the record of its third entry");
    refused (w.buf, w.len - 1, "RECORDS: entry 3 of 3 is truncated",
             "a RECORDS missing the last byte of its last record");

    base_hello (&msg);
    encode_into (&msg, &w);
    every_truncation (&w, "a HELLO with a 64-byte name");
    refused (w.buf, OFF_HELLO_NODE + 5, "HELLO: truncated in the node id",
             "a HELLO cut in its node id");
    refused (w.buf, OFF_HELLO_NAME_LEN, "HELLO: truncated in the name length",
             "a HELLO cut before its name length");
    refused (w.buf, w.len - 1, "HELLO: truncated in the name",
             "a HELLO missing the last byte of its name");

    pull (&msg, 5, 5);
    encode_into (&msg, &w);
    every_truncation (&w, "a PULL");
    refused (w.buf, w.len - 1, "PULL: truncated in the credit",
             "a PULL missing the last byte of its credit");
    session_msg (&msg, IM_MSG_PING, 5);
    encode_into (&msg, &w);
    every_truncation (&w, "a PING");
    session_msg (&msg, IM_MSG_PONG, 5);
    encode_into (&msg, &w);
    every_truncation (&w, "a PONG");
    refused (w.buf, w.len - 11, "PONG: truncated in the session",
             "a PONG cut in its session");
    refused (w.buf, w.len - 3, "PONG: truncated in the cursor",
             "a PONG cut in its newest change number");
}

static void
test_decode_malformed (void)
{
    static wire_t base, w;
    static const char filler_name[]
        = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr";
    char why[128], what[128];

    /* Lengths 0 to 2 and the signature. */
    static const uint8_t ping_bytes[] = { 0xaa, 0xa1, 0x04, 1, 2, 3, 4, 5, 6, 7, 8 };
    refused (ping_bytes, 0, "message of 0 bytes is too short", "an empty message");
    refused (ping_bytes, 1, "message of 1 byte is too short", "a message of one byte");
    static const uint8_t sigs[][2] = {
        { 0x00, 0xa1 }, { 0xaa, 0x00 }, { 0xa1, 0xaa }, { 0xaa, 0xa2 }, { 0xab, 0xa1 },
    };
    for (size_t i = 0; i < COUNT (sigs); i++) {
        uint8_t b[sizeof ping_bytes];
        memcpy (b, ping_bytes, sizeof b);
        b[0] = sigs[i][0];
        b[1] = sigs[i][1];
        snprintf (what, sizeof what, "a PING with the signature %02x %02x", sigs[i][0],
                  sigs[i][1]);
        refused (b, sizeof b, "not a peer message", what);
    }

    /* One byte appended to each id, then three. */
    for (size_t i = 0; i < COUNT (trips); i++) {
        trips[i].build (&msg);
        if (msg.id == IM_MSG_RECORDS && msg.count > 3)
            continue; /* too big for a wire_t; the three-entry one stands for it */
        encode_into (&msg, &w);
        append_number (&w, 0, 1);
        snprintf (why, sizeof why, "1 trailing byte after %s", im_msg_name (msg.id));
        snprintf (what, sizeof what, "%s and one byte more", trips[i].what);
        refused (w.buf, w.len, why, what);
    }
    session_msg (&msg, IM_MSG_PING, 1);
    encode_into (&msg, &w);
    append (&w, "\xaa\xa1\x04", 3);
    refused (w.buf, w.len, "3 trailing bytes after PING", "a PING and three bytes more");

    /* RECORDS: the entries against the count. */
    base_records (&msg);
    encode_into (&msg, &base);
    size_t first_len = OFF_ENTRIES + 1;
    size_t last_len = OFF_ENTRIES + 3 + signed_rec[0].len + 3 + 1 + 1;

    w = base;
    put_number (w.buf + last_len, signed_rec[1].len + 1, 2);
    refused (w.buf, w.len, "RECORDS: entry 3 of 3 is truncated",
             "a RECORDS whose last entry declares one byte more than is left");
    w = base;
    put_number (w.buf + last_len, IM_RECORD_MAX, 2);
    refused (w.buf, w.len, "RECORDS: entry 3 of 3 is truncated",
             "a RECORDS whose last entry declares IM_RECORD_MAX bytes");
    w = base;
    put_number (w.buf + OFF_COUNT, 4, 2);
    refused (w.buf, w.len, "RECORDS: entry 4 of 4 is truncated",
             "a RECORDS with a count of 4 for 3 entries");
    w = base;
    put_number (w.buf + OFF_COUNT, IM_MSG_CREDIT_MAX, 2);
    refused (w.buf, w.len, "RECORDS: entry 4 of 1000 is truncated",
             "a RECORDS with a count of 1000 for 3 entries");
    w = base;
    put_number (w.buf + OFF_COUNT, 2, 2);
    refused (w.buf, w.len, "trailing bytes after RECORDS",
             "a RECORDS with a count of 2 for 3 entries");
    w = base;
    put_number (w.buf + OFF_COUNT, 0, 2);
    refused (w.buf, w.len, "trailing bytes after RECORDS",
             "a RECORDS with a count of 0 for 3 entries");
    static const uint16_t counts[] = { IM_MSG_CREDIT_MAX + 1, 0x8000, UINT16_MAX };
    for (size_t i = 0; i < COUNT (counts); i++) {
        w = base;
        put_number (w.buf + OFF_COUNT, counts[i], 2);
        snprintf (why, sizeof why, "RECORDS: count %u is out of range", counts[i]);
        snprintf (what, sizeof what, "a RECORDS with a count of %u", counts[i]);
        refused (w.buf, w.len, why, what);
    }
    static const uint8_t mores[] = { 4, 0x80, 255 };
    for (size_t i = 0; i < COUNT (mores); i++) {
        w = base;
        w.buf[OFF_MORE] = mores[i];
        snprintf (why, sizeof why, "RECORDS: more is %u, not 0 to 3", mores[i]);
        snprintf (what, sizeof what, "a RECORDS with more %u", mores[i]);
        refused (w.buf, w.len, why, what);
    }

    /* RECORDS: record lengths out of range, with the bytes present. */
    w = base;
    put_number (w.buf + first_len, 0, 2);
    refused (w.buf, w.len, "entry 1 of 3 has a record length of 0",
             "a RECORDS whose first entry has length 0");
    start (&w, IM_MSG_RECORDS);
    append_number (&w, 0, 8);
    append_number (&w, 0, 1);
    append_number (&w, 2, 2);
    append_entry (&w, 0, signed_rec[0].buf, signed_rec[0].len);
    append_entry (&w, 0, filler, IM_RECORD_MAX + 1);
    snprintf (why, sizeof why, "entry 2 of 2 has a record length of %d",
              (int)IM_RECORD_MAX + 1);
    refused (w.buf, w.len, why,
             "a RECORDS with an entry of IM_RECORD_MAX + 1 bytes, all present");
    start (&w, IM_MSG_RECORDS);
    append_number (&w, 0, 8);
    append_number (&w, 0, 1);
    append_number (&w, 1, 2);
    append_number (&w, 0, 1);
    append_number (&w, UINT16_MAX, 2);
    append (&w, filler, 100);
    refused (w.buf, w.len, "entry 1 of 1 has a record length of 65535",
             "a RECORDS whose entry declares 65535 bytes");
    start (&w, IM_MSG_RECORDS);
    append_number (&w, 0, 8);
    append_number (&w, 0, 1);
    append_number (&w, 1, 2);
    append_entry (&w, 0, filler, IM_RECORD_MAX);
    ok (im_msg_decode (w.buf, w.len, &got, why, sizeof why) == 0
            && got.entries[0].len == IM_RECORD_MAX,
        "decode accepts an entry of exactly IM_RECORD_MAX bytes built by hand");

    /* PULL: credit. */
    static const uint16_t credits[] = { 0, IM_MSG_CREDIT_MAX + 1, UINT16_MAX };
    for (size_t i = 0; i < COUNT (credits); i++) {
        start (&w, IM_MSG_PULL);
        append_number (&w, 1, 8);
        append_number (&w, credits[i], 2);
        snprintf (why, sizeof why, "PULL: credit %u is out of range", credits[i]);
        snprintf (what, sizeof what, "a PULL with credit %u", credits[i]);
        refused (w.buf, w.len, why, what);
    }

    /* HELLO: the name. */
    base_hello (&msg);
    encode_into (&msg, &base);
    static const struct {
        uint8_t len;
        const char *why;
    } name_lens[] = {
        { 0, "HELLO: name length 0 is out of range" },
        { IM_MSG_NAME_MAX + 1, "HELLO: name length 65 is out of range" },
        { 255, "HELLO: name length 255 is out of range" },
    };
    for (size_t i = 0; i < COUNT (name_lens); i++) {
        start (&w, IM_MSG_HELLO);
        append (&w, base.buf + 3, OFF_HELLO_NAME_LEN - 3);
        append_number (&w, name_lens[i].len, 1);
        /* The name's bytes, up to 70: the length alone must refuse it. */
        append (&w, filler_name, name_lens[i].len > 70 ? 70 : name_lens[i].len);
        snprintf (what, sizeof what, "a HELLO with a name length of %u",
                  name_lens[i].len);
        refused (w.buf, w.len, name_lens[i].why, what);
    }
    static const struct {
        const char *name;
        const char *why;
        const char *what;
    } names[] = {
        { "cert fr", "HELLO: name byte 5 (0x20) is not one of", "a space" },
        { "caf\xc3\xa9", "HELLO: name byte 4 (0xc3) is not one of", "non-ASCII UTF-8" },
        { "\x80", "HELLO: name byte 1 (0x80) is not one of", "a byte of 0x80" },
        { "a/b", "HELLO: name byte 2 (0x2f) is not one of", "a slash" },
        { "a\nb", "HELLO: name byte 2 (0x0a) is not one of", "a newline" },
        { "ab\x7f", "HELLO: name byte 3 (0x7f) is not one of", "a DEL" },
    };
    for (size_t i = 0; i < COUNT (names); i++) {
        w = base;
        w.len = OFF_HELLO_NAME;
        w.buf[OFF_HELLO_NAME_LEN] = (uint8_t)strlen (names[i].name);
        append (&w, names[i].name, strlen (names[i].name));
        snprintf (what, sizeof what, "a HELLO whose name has %s", names[i].what);
        refused (w.buf, w.len, names[i].why, what);
    }
    w = base;
    w.buf[OFF_HELLO_NAME + 3] = 0;
    refused (w.buf, w.len, "HELLO: name byte 4 (0x00) is not one of",
             "a HELLO whose name has a NUL byte");

    /* HELLO: another version decodes, for the caller to refuse. */
    static const uint8_t versions[] = { 0, 2, 255 };
    for (size_t i = 0; i < COUNT (versions); i++) {
        char err[256];
        w = base;
        w.buf[OFF_HELLO_VERSION] = versions[i];
        int rc = decode_exact (w.buf, w.len, &got, err, sizeof err, NULL);
        ok (rc == 0 && got.id == IM_MSG_HELLO && got.version == versions[i]
                && strcmp (got.name, msg.name) == 0,
            "decode accepts a HELLO of version %u and reports version %u", versions[i],
            versions[i]);
    }
}

/* --- IM_MSG_MAX --------------------------------------------------------------- */

/* Builds by hand, into an exact heap buffer, a RECORDS message of exactly
 * TOTAL bytes: a signed record, then filler entries of up to IM_RECORD_MAX. */
static uint8_t *
records_of_size (size_t total, size_t *count)
{
    uint8_t *b = malloc (total);
    if (!b)
        BAIL_OUT ("out of memory");
    size_t off = OFF_ENTRIES, n = 0;
    b[0] = IM_MSG_SIGNATURE_0;
    b[1] = IM_MSG_SIGNATURE_1;
    b[2] = IM_MSG_RECORDS;
    put_number (b + OFF_CURSOR, 77, 8);
    b[OFF_MORE] = 1;
    b[off] = 9;
    put_number (b + off + 1, signed_rec[0].len, 2);
    memcpy (b + off + 3, signed_rec[0].buf, signed_rec[0].len);
    off += 3 + signed_rec[0].len;
    n++;
    while (off < total) {
        size_t room = total - off, len = room - 3;
        if (len > IM_RECORD_MAX)
            len = IM_RECORD_MAX;
        if (room - 3 - len > 0 && room - 3 - len < 4)
            len -= 4; /* leave room for a last entry of at least one byte */
        b[off] = (uint8_t)n;
        put_number (b + off + 1, len, 2);
        memcpy (b + off + 3, filler + n, len);
        off += 3 + len;
        n++;
    }
    if (off != total || n > IM_MSG_CREDIT_MAX)
        BAIL_OUT ("cannot build a RECORDS of %zu bytes", total);
    put_number (b + OFF_COUNT, n, 2);
    *count = n;
    return b;
}

static void
test_size_limit (void)
{
    char err[256], p[300];
    size_t count, len;
    int rc;

    /* Exactly IM_MSG_MAX: decodes, and encodes back to the same bytes. */
    uint8_t *at = records_of_size (IM_MSG_MAX, &count);
    rc = decode_exact (at, IM_MSG_MAX, &got, err, sizeof err, NULL);
    if (!ok (rc == 0 && got.count == count && got.more == 1 && got.cursor == 77,
             "decode accepts a RECORDS of exactly IM_MSG_MAX bytes (%zu entries)", count))
        diag ("error: %s", printable (err, p, sizeof p));
    rc = im_msg_decode (at, IM_MSG_MAX, &got, err, sizeof err);
    size_t off = OFF_ENTRIES, bad = 0;
    for (size_t i = 0; rc == 0 && i < got.count; i++) {
        bad += got.entries[i].record != at + off + 3;
        bad += got.entries[i].hops != (uint8_t)(i ? i : 9);
        off += 3 + got.entries[i].len;
    }
    ok (rc == 0 && bad == 0 && off == IM_MSG_MAX,
        "the entries of the largest RECORDS point into its buffer, in order");
    uint8_t *out = malloc (IM_MSG_MAX);
    if (!out)
        BAIL_OUT ("out of memory");
    len = 0;
    rc = im_msg_encode (&got, out, IM_MSG_MAX, &len);
    ok (rc == 0 && len == IM_MSG_MAX && memcmp (out, at, IM_MSG_MAX) == 0,
        "encode gives the same IM_MSG_MAX bytes back in a buffer of exactly that size");
    len = 4242;
    errno = 0;
    rc = im_msg_encode (&got, out, IM_MSG_MAX - 1, &len);
    ok (rc == -1 && errno == ENOSPC && len == 4242,
        "encode reports ENOSPC for it in a buffer one byte short");
    free (out);

    /* One byte more: refused both ways. */
    uint8_t *over = records_of_size (IM_MSG_MAX + 1, &count);
    refused (over, IM_MSG_MAX + 1, "over the limit",
             "a well-formed RECORDS of IM_MSG_MAX + 1 bytes");
    records (&msg, 77, 1);
    off = OFF_ENTRIES;
    for (size_t i = 0; i < count; i++) {
        size_t n = (size_t)over[off + 1] << 8 | over[off + 2];
        add_entry (&msg, over[off], over + off + 3, n);
        off += 3 + n;
    }
    cmp_ok (off, "==", IM_MSG_MAX + 1, "the test reads back the oversized RECORDS");
    encode_refused (&msg, ENOSPC,
                    "a RECORDS of IM_MSG_MAX + 1 bytes in a buffer big enough");
    msg.entries[count - 1].len--;
    len = 0;
    rc = im_msg_encode (&msg, big, sizeof big, &len);
    ok (rc == 0 && len == IM_MSG_MAX,
        "encode accepts it with its last entry one byte shorter");
    free (over);

    /* Bytes past the limit are refused by their number even when what
     * precedes them is a complete message. */
    memcpy (big, at, IM_MSG_MAX);
    big[IM_MSG_MAX] = 0;
    refused (big, IM_MSG_MAX + 1, "message of 4194305 bytes is over the limit",
             "the largest RECORDS with a byte appended");
    free (at);
}

static void
test_have (void)
{
    static im_msg_t m;
    static uint8_t buf[IM_MSG_MAX];
    char err[256];
    size_t len = 0;
    have_n (&m, 0);
    errno = 0;
    ok (im_msg_encode (&m, buf, sizeof buf, &len) == -1 && errno == EINVAL,
        "encode refuses a HAVE with no keys");
    have_n (&m, IM_MSG_CREDIT_MAX + 1);
    errno = 0;
    ok (im_msg_encode (&m, buf, sizeof buf, &len) == -1 && errno == EINVAL,
        "encode refuses a HAVE with more than IM_MSG_CREDIT_MAX keys");
    have_n (&m, 3);
    m.have = NULL;
    errno = 0;
    ok (im_msg_encode (&m, buf, sizeof buf, &len) == -1 && errno == EINVAL,
        "encode refuses a HAVE without its keys");
    have_n (&m, 3);
    int rc = im_msg_encode (&m, buf, sizeof buf, &len);
    ok (rc == 0 && len == 5 + 3 * IM_MSG_HAVE_KEY,
        "a HAVE of 3 keys is 5 + 3 x 56 bytes");
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc (cut ? cut : 1);
        memcpy (copy, buf, cut);
        errno = 0;
        rc = im_msg_decode (copy, cut, &m, err, sizeof err);
        if (rc != -1 || errno != EBADMSG) {
            ok (0, "decode refuses a HAVE cut to %zu bytes", cut);
            free (copy);
            break;
        }
        free (copy);
        if (cut == len - 1)
            ok (1, "decode refuses a HAVE cut anywhere");
    }
    rc = im_msg_decode (buf, len, &m, err, sizeof err);
    ok (rc == 0 && m.have == buf + 5, "decoded HAVE keys point into the buffer");
    buf[3] = 0;
    buf[4] = 0;
    errno = 0;
    rc = im_msg_decode (buf, 5, &m, err, sizeof err);
    ok (rc == -1 && errno == EBADMSG && strstr (err, "HAVE: count 0"),
        "decode refuses a HAVE with a count of 0");
    buf[3] = 0x03;
    buf[4] = 0xe9;
    errno = 0;
    rc = im_msg_decode (buf, len, &m, err, sizeof err);
    ok (rc == -1 && errno == EBADMSG && strstr (err, "HAVE: count 1001"),
        "decode refuses a HAVE with a count of 1001");
}

/* ROTATE and ROTATED, and the rotation statement ROTATE carries (SPEC.md,
 * "ROTATE and ROTATED"). */
static void
test_rotation (void)
{
    char why[256];
    im_rotation_t r = { .issued = 1800000000, .until = 1800604800 }, back;
    uint8_t st[IM_ROTATION_SIZE], bad[IM_ROTATION_SIZE + 1], other_pk[32], other_sk[64];
    memcpy (r.node, pk, IM_NODE_ID_SIZE);
    memset (r.old_curve, 0x11, 32);
    memset (r.new_curve, 0x22, 32);
    crypto_sign_keypair (other_pk, other_sk);

    errno = 0;
    ok (im_rotation_sign (NULL, sk, st) == -1 && errno == EINVAL,
        "rotation_sign rejects a missing statement");
    im_rotation_t same = r;
    memcpy (same.new_curve, same.old_curve, 32);
    errno = 0;
    ok (im_rotation_sign (&same, sk, st) == -1 && errno == EINVAL,
        "rotation_sign rejects a new key equal to the old one");
    im_rotation_t late = r;
    late.until = late.issued;
    errno = 0;
    ok (im_rotation_sign (&late, sk, st) == -1 && errno == EINVAL,
        "rotation_sign rejects a grace period that ends when it starts");
    errno = 0;
    ok (im_rotation_sign (&r, other_sk, st) == -1 && errno == EINVAL,
        "rotation_sign rejects a secret key that is not the node id's");
    errno = 0;
    ok (im_rotation_verify (NULL, IM_ROTATION_SIZE, &back, why, sizeof why) == -1
            && errno == EINVAL,
        "rotation_verify rejects a missing buffer");

    ok (im_rotation_sign (&r, sk, st) == 0, "rotation_sign signs a good statement");
    ok (memcmp (st, "IMR1", 4) == 0 && memcmp (st + 4, pk, 32) == 0 && st[36] == 0x11
            && st[68] == 0x22,
        "the statement starts with IMR1, the node id, the old and the new key");
    ok (im_rotation_verify (st, sizeof st, &back, why, sizeof why) == 0
            && memcmp (back.node, pk, 32) == 0 && back.issued == r.issued
            && back.until == r.until && back.new_curve[0] == 0x22,
        "rotation_verify reads back every field of a good statement");

    /* Every byte counts: a change anywhere breaks the signature or the
     * format. */
    int all = 1;
    for (size_t i = 0; i < IM_ROTATION_SIZE; i++) {
        memcpy (bad, st, sizeof st);
        bad[i] ^= 0x01;
        errno = 0;
        if (im_rotation_verify (bad, IM_ROTATION_SIZE, &back, why, sizeof why) != -1
            || (errno != EPERM && errno != EBADMSG))
            all = 0;
    }
    ok (all, "rotation_verify refuses a statement with any one bit changed");
    memcpy (bad, st, sizeof st);
    errno = 0;
    ok (im_rotation_verify (bad, IM_ROTATION_SIZE - 1, &back, why, sizeof why) == -1
            && errno == EBADMSG,
        "rotation_verify refuses a statement one byte short");
    bad[IM_ROTATION_SIZE] = 0;
    errno = 0;
    ok (im_rotation_verify (bad, IM_ROTATION_SIZE + 1, &back, why, sizeof why) == -1
            && errno == EBADMSG,
        "rotation_verify refuses a statement one byte long");
    memcpy (bad, st, sizeof st);
    memcpy (bad + 4, other_pk, 32); /* someone else's id, our signature */
    errno = 0;
    ok (im_rotation_verify (bad, IM_ROTATION_SIZE, &back, why, sizeof why) == -1
            && errno == EPERM && strstr (why, "signature"),
        "rotation_verify refuses a statement claimed for another node");

    /* The grace period is at most IM_ROTATION_GRACE_MAX (365 days), signed or not. */
    const struct {
        int64_t grace;
        int good;
    } graces[] = {
        { 1, 1 },
        { IM_ROTATION_GRACE_MAX, 1 },
        { IM_ROTATION_GRACE_MAX + 1, 0 },
        { INT64_C (253402300799) - 1800000000, 0 }, /* until 9999-12-31 */
    };
    for (size_t i = 0; i < sizeof graces / sizeof graces[0]; i++) {
        im_rotation_t g = r;
        g.until = g.issued + graces[i].grace;
        uint8_t gst[IM_ROTATION_SIZE];
        errno = 0;
        int rc = im_rotation_sign (&g, sk, gst) == 0
                     ? im_rotation_verify (gst, sizeof gst, &back, why, sizeof why)
                     : -2;
        if (graces[i].good)
            ok (rc == 0, "rotation_verify takes a grace period of %lld s",
                (long long)graces[i].grace);
        else
            ok (rc == -1 && errno == EBADMSG && strstr (why, "over the limit of 365"),
                "rotation_verify refuses a grace period of %lld s (over 365 days)",
                (long long)graces[i].grace);
    }

    /* The proof that the sender holds the new key's secret: a box from the
     * new key to the receiver's. */
    uint8_t new_pk[32], new_sk[32], rx_pk[32], rx_sk[32], box_pk[32], box_sk[32];
    uint8_t proof[IM_ROTATION_PROOF_SIZE];
    crypto_box_keypair (new_pk, new_sk);
    crypto_box_keypair (rx_pk, rx_sk);
    crypto_box_keypair (box_pk, box_sk);
    errno = 0;
    ok (im_rotation_prove (NULL, new_sk, rx_pk, proof) == -1 && errno == EINVAL,
        "rotation_prove rejects a missing statement");
    errno = 0;
    ok (im_rotation_proof_check (st, NULL, new_pk, rx_sk) == -1 && errno == EINVAL,
        "rotation_proof_check rejects a missing proof");
    ok (im_rotation_prove (st, new_sk, rx_pk, proof) == 0
            && im_rotation_proof_check (st, proof, new_pk, rx_sk) == 0,
        "a proof made with the new key's secret, for the receiver, checks");
    errno = 0;
    ok (im_rotation_proof_check (st, proof, box_pk, rx_sk) == -1 && errno == EPERM,
        "it does not check for another new key");
    ok (im_rotation_proof_check (st, proof, new_pk, box_sk) == -1,
        "nor for another receiver: a proof made for one peer is no use to another");
    uint8_t st2[IM_ROTATION_SIZE];
    memcpy (st2, st, sizeof st2);
    st2[IM_ROTATION_SIZE - 1] ^= 1;
    ok (im_rotation_proof_check (st2, proof, new_pk, rx_sk) == -1,
        "nor for another statement");
    uint8_t forged[IM_ROTATION_PROOF_SIZE];
    ok (im_rotation_prove (st, box_sk, rx_pk, forged) == 0
            && im_rotation_proof_check (st, forged, new_pk, rx_sk) == -1,
        "a proof made without the new key's secret does not check");
    int flips = 1;
    for (size_t i = 0; i < sizeof proof; i++) {
        uint8_t bad_proof[IM_ROTATION_PROOF_SIZE];
        memcpy (bad_proof, proof, sizeof proof);
        bad_proof[i] ^= 0x40;
        if (im_rotation_proof_check (st, bad_proof, new_pk, rx_sk) != -1)
            flips = 0;
    }
    ok (flips, "a proof with any one byte changed does not check");

    /* The messages. */
    uint8_t wire[512];
    size_t len;
    memset (&msg, 0, sizeof msg);
    msg.id = IM_MSG_ROTATE;
    memcpy (msg.rotation, st, sizeof st);
    memcpy (msg.rotation_proof, proof, sizeof proof);
    ok (im_msg_encode (&msg, wire, sizeof wire, &len) == 0
            && len == 3 + IM_ROTATION_SIZE + IM_ROTATION_PROOF_SIZE && wire[2] == 10
            && memcmp (wire + 3, st, sizeof st) == 0
            && memcmp (wire + 3 + sizeof st, proof, sizeof proof) == 0,
        "ROTATE is id 10 followed by the 180-byte statement and the 72-byte proof");
    ok (im_msg_decode (wire, len, &got, why, sizeof why) == 0 && got.id == IM_MSG_ROTATE
            && memcmp (got.rotation, st, sizeof st) == 0
            && memcmp (got.rotation_proof, proof, sizeof proof) == 0,
        "ROTATE decodes back to its statement and proof");
    errno = 0;
    ok (im_msg_decode (wire, len - 1, &got, why, sizeof why) == -1 && errno == EBADMSG
            && strstr (why, "truncated"),
        "a truncated ROTATE is refused");
    wire[len] = 0;
    errno = 0;
    ok (im_msg_decode (wire, len + 1, &got, why, sizeof why) == -1 && errno == EBADMSG
            && strstr (why, "trailing"),
        "a ROTATE with a trailing byte is refused");
    ok (strcmp (im_msg_name (IM_MSG_ROTATE), "ROTATE") == 0
            && strcmp (im_msg_name (IM_MSG_ROTATED), "ROTATED") == 0,
        "ROTATE and ROTATED have their names");
    memset (&msg, 0, sizeof msg);
    msg.id = IM_MSG_ROTATED;
    memset (msg.curve, 0x22, 32);
    ok (im_msg_encode (&msg, wire, sizeof wire, &len) == 0 && len == 35 && wire[2] == 11,
        "ROTATED is id 11 followed by the 32-byte key");
    ok (im_msg_decode (wire, len, &got, why, sizeof why) == 0 && got.id == IM_MSG_ROTATED
            && got.curve[31] == 0x22,
        "ROTATED decodes back to its key");
    errno = 0;
    ok (im_msg_decode (wire, 34, &got, why, sizeof why) == -1 && errno == EBADMSG,
        "a truncated ROTATED is refused");
}

static const tap_test_t tests[]
    = { TAP_DIAG ("SPEC.md: The peer protocol / Framing and Messages"),
        TAP_TEST (test_bad_arguments),
        TAP_TEST (test_wire_layout),
        TAP_TEST (test_round_trip),
        TAP_TEST (test_have),
        TAP_TEST (test_encode_refusals),
        TAP_TEST (test_decode_truncated),
        TAP_TEST (test_decode_malformed),
        TAP_TEST (test_size_limit),
        TAP_TEST (test_rotation),
        TAP_END };

int
main (int argc, char **argv)
{
    char err[256];
    static im_record_t rec;

    if (sodium_init () < 0)
        BAIL_OUT ("sodium_init failed");
    crypto_sign_keypair (pk, sk);

    /* Signed records of four sizes. */
    static const struct {
        int type;
        const char *value;
        const char *description;
    } recs[NSIGNED] = {
        { IM_TYPE_DOMAIN, "evil.example", "" },
        { IM_TYPE_IPV4, "192.0.2.1", "scanner" },
        { IM_TYPE_URL, "http://evil.example/kit?id=1",
          "phishing kit, long description "
          "that makes this record larger than the others by a good margin" },
        { IM_TYPE_SHA256,
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "dropper" },
    };
    for (int i = 0; i < NSIGNED; i++) {
        im_record_init (&rec);
        memcpy (rec.origin, pk, IM_NODE_ID_SIZE);
        im_id_generate (rec.id);
        rec.type = (uint8_t)recs[i].type;
        snprintf (rec.value, sizeof rec.value, "%s", recs[i].value);
        snprintf (rec.description, sizeof rec.description, "%s", recs[i].description);
        rec.created = rec.modified = 1700000000 + i;
        if (im_record_sign (&rec, sk, signed_rec[i].buf, sizeof signed_rec[i].buf,
                            &signed_rec[i].len, err, sizeof err))
            BAIL_OUT ("cannot sign test record %d: %s", i, err);
    }
    for (size_t i = 0; i < FILLER_SIZE; i++)
        filler[i] = (uint8_t)(i * 7 + 3);

    return tap_main (argc, argv, tests);
}
