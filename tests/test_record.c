/* SPDX-License-Identifier: MPL-2.0 */
/* test_record.c -- unit tests for proto/im_record.c: signing (format 2, in
 * batches, checked against the SPEC's batch sealing written again here), the
 * canonical encoding and every refusal of the decoder, format 1's test vector,
 * the cache of verified roots, the JSON forms, ids and UTF-8. */

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "im_record.h"
#include "im_report.h"
#include "im_time.h"
#include "tap.h"
#include "testlib.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

/* Test names show at most this many bytes of a value, then "...". */
#define NAME_BYTES 60

/* The fixed "now" that relative times resolve against: 2026-01-01T00:00:00Z. */
#define NOW INT64_C (1767225600)

/* Offsets in the fixed part of the body (im_record.c). */
#define OFF_MAGIC 0
#define OFF_FORMAT 3
#define OFF_ORIGIN 4
#define OFF_ID 36
#define OFF_VERSION 52
#define OFF_OP 60
#define OFF_TYPE 61
#define OFF_TLP 62
#define OFF_CONFIDENCE 63
#define OFF_REACH 64
#define OFF_CREATED 65
#define OFF_MODIFIED 73
#define OFF_VALID_FROM 81
#define OFF_VALID_UNTIL 89
#define OFF_VALUE 97

/* The batch authentication of format 2 (SPEC.md, "Encoding"), written out
 * from the SPEC rather than from im_batch.h: salt, leaf place, path of five
 * BLAKE2b-256 hashes, the Ed25519 signature of the root. */
#define SPEC_SALT 16
#define SPEC_HASH 32
#define SPEC_DEPTH 5
#define SPEC_LEAVES 32
#define AUTH_LEAF SPEC_SALT
#define AUTH_PATH (AUTH_LEAF + 1)
#define AUTH_SIG (AUTH_PATH + SPEC_DEPTH * SPEC_HASH)
#define AUTH_SIZE (AUTH_SIG + 64)

/* The smallest size the decoder could accept: the fixed part, four empty
 * lengths and counts, the batch authentication (format 2) or the signature
 * (format 1). */
#define MIN_SIZE (IM_RECORD_FIXED + 2 + 2 + 1 + 1 + AUTH_SIZE)
#define MIN_SIZE_1 (IM_RECORD_FIXED + 2 + 2 + 1 + 1 + IM_SIG_SIZE)

/* A signed record being edited by a test; room for growth past the maximum. */
typedef struct {
    uint8_t buf[IM_RECORD_MAX + 8192];
    size_t len; /* body and authentication */
} enc_t;

/* Offsets of the variable part of an encoding, from the record encoded. */
typedef struct {
    size_t value;                        /* the u16 length of the value */
    size_t description;                  /* the u16 length of the description */
    size_t ntags;                        /* the tag count */
    size_t tag[IM_TAGS_MAX];             /* each tag's u8 length */
    size_t nrecipients;                  /* the recipient count */
    size_t recipient[IM_RECIPIENTS_MAX]; /* each recipient */
    size_t body;                         /* where the authentication starts */
} layout_t;

static uint8_t pk_a[crypto_sign_PUBLICKEYBYTES], sk_a[crypto_sign_SECRETKEYBYTES];
static uint8_t pk_b[crypto_sign_PUBLICKEYBYTES], sk_b[crypto_sign_SECRETKEYBYTES];

/* Scratch records: im_record_t is large. */
static im_record_t rec, got, other;

static const uint8_t fixed_id[IM_ID_SIZE]
    = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x46, 0x77,
        0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

/* One canonical value for every type, in type order. */
static const char *values[IM_TYPE_COUNT] = {
    NULL,
    "192.0.2.1",
    "2001:db8::1",
    "evil.example",
    "http://evil.example/Path?q=1",
    "User@example.com",
    "d41d8cd98f00b204e9800998ecf8427e",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    "Rechnung \xc3\x9c"
    "ber.pdf.exe",
    "AS64512",
    "CVE-2021-44228",
    "T1566.001",
    "HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Control",
    "rule x : t {\n  condition:\n    true\n}",
    "title: t\nlogsource:\n  product: windows\ndetection:\n  condition: s",
    "alert tcp any any -> any 80 (msg:\"x\"; sid:1;)",
    [IM_TYPE_REPORT] = "A report",
    [IM_TYPE_MEMBER] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff/"
                       "00112233-4455-4677-8899-aabbccddeeff "
                       "00112233-4455-4677-8899-aabbccddeef0",
};

static void
fill_node (uint8_t node[IM_NODE_ID_SIZE], uint8_t first, uint8_t rest)
{
    memset (node, rest, IM_NODE_ID_SIZE);
    node[0] = first;
}

/* A record with every field set; tags and recipients deliberately unsorted. */
static void
full_record (im_record_t *r)
{
    im_record_init (r);
    memcpy (r->origin, pk_a, IM_NODE_ID_SIZE);
    memcpy (r->id, fixed_id, IM_ID_SIZE);
    r->version = 7;
    r->op = IM_OP_PUT;
    r->type = IM_TYPE_DOMAIN;
    strcpy (r->value, "evil.example");
    r->tlp = IM_TLP_AMBER;
    r->confidence = 80;
    r->reach = 3;
    r->created = 1700000000;
    r->modified = 1700000100;
    r->valid_from = 1700000000;
    r->valid_until = 1710000000;
    strcpy (r->description,
            "Phishing kit \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\nsecond line\twith a tab");
    r->ntags = 4;
    strcpy (r->tags[0], "phishing");
    strcpy (r->tags[1], "\xc3\xa9t\xc3\xa9");
    strcpy (r->tags[2], "apt-x");
    strcpy (r->tags[3], "Zeta");
    r->nrecipients = 3;
    fill_node (r->recipients[0], 0xcc, 0x01);
    fill_node (r->recipients[1], 0x11, 0x02);
    fill_node (r->recipients[2], 0x80, 0x03);
}

/* The record the malformed-input tests edit: tags "alpha", "bravo", "delta"
 * and recipients 11.. and 22.., all in canonical order already. */
static void
base_record (im_record_t *r)
{
    im_record_init (r);
    memcpy (r->origin, pk_a, IM_NODE_ID_SIZE);
    memcpy (r->id, fixed_id, IM_ID_SIZE);
    r->version = 1;
    r->type = IM_TYPE_DOMAIN;
    strcpy (r->value, "evil.example");
    r->tlp = IM_TLP_AMBER;
    r->confidence = 60;
    r->reach = 2;
    r->created = 1700000000;
    r->modified = 1700000500;
    r->valid_from = 1700000000;
    r->valid_until = 1800000000;
    strcpy (r->description, "desc");
    r->ntags = 3;
    strcpy (r->tags[0], "alpha");
    strcpy (r->tags[1], "bravo");
    strcpy (r->tags[2], "delta");
    r->nrecipients = 2;
    fill_node (r->recipients[0], 0x11, 0x11);
    fill_node (r->recipients[1], 0x22, 0x22);
}

/* Offsets of R's encoding; R's tags must be in canonical order already. */
static void
layout_of (const im_record_t *r, layout_t *l)
{
    size_t off = OFF_VALUE;
    l->value = off;
    off += 2 + strlen (r->value);
    l->description = off;
    off += 2 + strlen (r->description);
    l->ntags = off++;
    for (size_t i = 0; i < r->ntags; i++) {
        l->tag[i] = off;
        off += 1 + strlen (r->tags[i]);
    }
    l->nrecipients = off++;
    for (size_t i = 0; i < r->nrecipients; i++) {
        l->recipient[i] = off;
        off += IM_NODE_ID_SIZE;
    }
    l->body = off;
}

static int
sign_into (const im_record_t *r, const uint8_t *sk, enc_t *e)
{
    char err[256];
    e->len = 0;
    int rc = im_record_sign (r, sk, e->buf, sizeof e->buf, &e->len, err, sizeof err);
    if (rc)
        diag ("sign: %s", err);
    return rc;
}

/* --- The SPEC's batch sealing, written again from SPEC.md ("Batches") ---- */

/* The size of E's authentication: a signature in format 1, the batch
 * authentication otherwise (a test may have spoilt the format byte). */
static size_t
auth_size (const enc_t *e)
{
    return e->buf[OFF_FORMAT] == 1 ? IM_SIG_SIZE : AUTH_SIZE;
}

/* H(%x00 salt body), a leaf. */
static void
spec_leaf (uint8_t out[SPEC_HASH], const uint8_t *salt, const uint8_t *body, size_t len)
{
    static uint8_t in[1 + SPEC_SALT + sizeof ((enc_t *)0)->buf];
    in[0] = 0x00;
    memcpy (in + 1, salt, SPEC_SALT);
    memcpy (in + 1 + SPEC_SALT, body, len);
    crypto_generichash (out, SPEC_HASH, in, 1 + SPEC_SALT + len, NULL, 0);
}

/* H(%x01 left right), a node above. */
static void
spec_node (uint8_t out[SPEC_HASH], const uint8_t *left, const uint8_t *right)
{
    crypto_generichash_state st;
    crypto_generichash_init (&st, NULL, 0, SPEC_HASH);
    crypto_generichash_update (&st, (const uint8_t *)"\x01", 1);
    crypto_generichash_update (&st, left, SPEC_HASH);
    crypto_generichash_update (&st, right, SPEC_HASH);
    crypto_generichash_final (&st, out, SPEC_HASH);
}

/* The root that the format-2 record E's body and path lead to: -1 for a leaf
 * place outside %x00-1F. */
static int
spec_root (const enc_t *e, uint8_t root[SPEC_HASH])
{
    size_t body = e->len - AUTH_SIZE;
    const uint8_t *auth = e->buf + body;
    if (auth[AUTH_LEAF] >= SPEC_LEAVES)
        return -1;
    uint8_t at[SPEC_HASH], up[SPEC_HASH];
    spec_leaf (at, auth, e->buf, body);
    for (unsigned l = 0; l < SPEC_DEPTH; l++) {
        const uint8_t *sibling = auth + AUTH_PATH + l * SPEC_HASH;
        int right = (auth[AUTH_LEAF] >> l) & 1; /* the node at level l */
        spec_node (up, right ? sibling : at, right ? at : sibling);
        memcpy (at, up, SPEC_HASH);
    }
    memcpy (root, at, SPEC_HASH);
    return 0;
}

/* Whether the signature in E's authentication is ORIGIN's of "IMB" %x02 and
 * the root E leads to. */
static int
spec_verifies (const enc_t *e, const uint8_t *origin)
{
    uint8_t msg[4 + SPEC_HASH];
    memcpy (msg, "IMB\x02", 4);
    return spec_root (e, msg + 4) == 0
           && crypto_sign_verify_detached (e->buf + e->len - 64, msg, sizeof msg, origin)
                  == 0;
}

/* Sets the first byte of E's salt to SALT0 and of its path to PATH0, then
 * signs the root they lead to, by the SPEC's rules. */
static void
with_salt_and_path (enc_t *e, uint8_t salt0, uint8_t path0, const uint8_t *sk)
{
    uint8_t *auth = e->buf + e->len - AUTH_SIZE;
    auth[0] = salt0;
    auth[AUTH_PATH] = path0;
    uint8_t msg[4 + SPEC_HASH];
    memcpy (msg, "IMB\x02", 4);
    if (spec_root (e, msg + 4))
        BAIL_OUT ("with_salt_and_path: leaf place out of range");
    crypto_sign_detached (auth + AUTH_SIG, NULL, msg, sizeof msg, sk);
}

/* Seals the N format-2 records ES[i] (their last AUTH_SIZE bytes are
 * overwritten) as one batch with SK, record i at leaf PLACES[i] (distinct,
 * below 32): a fresh salt each, random leaves and subtrees where no record
 * is, the signature of "IMB" %x02 root. The tree is kept as a heap: node 1
 * is the root, node k's children are 2k and 2k + 1, leaf p is node 32 + p. */
static void
spec_seal (enc_t *const *es, size_t n, const uint8_t *places, const uint8_t *sk)
{
    uint8_t tree[2 * SPEC_LEAVES][SPEC_HASH], held[2 * SPEC_LEAVES] = { 0 };
    randombytes_buf (tree, sizeof tree);
    for (size_t i = 0; i < n; i++) {
        size_t body = es[i]->len - AUTH_SIZE;
        uint8_t *auth = es[i]->buf + body;
        randombytes_buf (auth, SPEC_SALT);
        auth[AUTH_LEAF] = places[i];
        spec_leaf (tree[SPEC_LEAVES + places[i]], auth, es[i]->buf, body);
        for (size_t k = SPEC_LEAVES + places[i]; k >= 1; k >>= 1)
            held[k] = 1;
    }
    for (size_t k = SPEC_LEAVES - 1; k >= 1; k--)
        if (held[k])
            spec_node (tree[k], tree[2 * k], tree[2 * k + 1]);
    uint8_t msg[4 + SPEC_HASH], sig[64];
    memcpy (msg, "IMB\x02", 4);
    memcpy (msg + 4, tree[1], SPEC_HASH);
    crypto_sign_detached (sig, NULL, msg, sizeof msg, sk);
    for (size_t i = 0; i < n; i++) {
        uint8_t *auth = es[i]->buf + es[i]->len - AUTH_SIZE;
        size_t k = SPEC_LEAVES + places[i];
        for (unsigned l = 0; l < SPEC_DEPTH; l++, k >>= 1)
            memcpy (auth + AUTH_PATH + l * SPEC_HASH, tree[k ^ 1], SPEC_HASH);
        memcpy (auth + AUTH_SIG, sig, 64);
    }
}

/* Signs the body of E again with SK: in format 1 its signature, otherwise
 * as a batch of one at a random leaf, by the SPEC's rules above (not by
 * im_record_seal, so that the decoder is checked against the SPEC). */
static void
resign (enc_t *e, const uint8_t *sk)
{
    if (auth_size (e) == IM_SIG_SIZE) {
        size_t body = e->len - IM_SIG_SIZE;
        crypto_sign_detached (e->buf + body, NULL, e->buf, body, sk);
        return;
    }
    enc_t *one[1] = { e };
    uint8_t place = (uint8_t)randombytes_uniform (SPEC_LEAVES);
    spec_seal (one, 1, &place, sk);
}

static void
set_byte (enc_t *e, size_t off, uint8_t v)
{
    e->buf[off] = v;
    resign (e, sk_a);
}

static void
set_number (enc_t *e, size_t off, uint64_t v, int size)
{
    for (int i = 0; i < size; i++)
        e->buf[off + (size_t)i] = (uint8_t)(v >> (8 * (size - 1 - i)));
    resign (e, sk_a);
}

/* Replaces DEL bytes of the body at OFF with INSLEN bytes of INS, re-signs. */
static void
splice (enc_t *e, size_t off, size_t del, const void *ins, size_t inslen)
{
    size_t auth = auth_size (e), body = e->len - auth;
    if (off + del > body || body - del + inslen + auth > sizeof e->buf)
        BAIL_OUT ("splice out of range");
    memmove (e->buf + off + inslen, e->buf + off + del, body - off - del);
    if (inslen)
        memcpy (e->buf + off, ins, inslen);
    e->len = body - del + inslen + auth;
    resign (e, sk_a);
}

/* Decodes a copy of BUF that is exactly LEN bytes long, so that the address
 * sanitizer sees any read past the end. */
static int
decode_exact (const uint8_t *buf, size_t len, int verify, im_record_t *r, char *err,
              size_t errsz)
{
    uint8_t *copy = malloc (len ? len : 1);
    if (!copy)
        BAIL_OUT ("out of memory");
    if (len)
        memcpy (copy, buf, len);
    err[0] = '\0';
    errno = 0;
    int rc = im_record_decode (copy, len, verify, r, err, errsz);
    int saved = errno;
    free (copy);
    errno = saved;
    return rc;
}

/* Decode must refuse E with EBADMSG, with and without verification, and say WHY. */
static void
refused (const enc_t *e, const char *why, const char *what)
{
    char err1[256], err0[256];
    int rc1 = decode_exact (e->buf, e->len, 1, &got, err1, sizeof err1);
    int errno1 = errno;
    int rc0 = decode_exact (e->buf, e->len, 0, &got, err0, sizeof err0);
    int errno0 = errno;
    if (!ok (rc1 == -1 && errno1 == EBADMSG && rc0 == -1 && errno0 == EBADMSG,
             "decode refuses %s", what))
        diag ("verify: rc %d errno %d (%s); no verify: rc %d errno %d (%s)", rc1, errno1,
              err1, rc0, errno0, err0);
    if (!ok (strstr (err1, why) != NULL, "the error for %s says \"%s\"", what, why))
        diag ("error: %s", err1);
}

/* Decode must accept E (a check that an edit made a still-valid record). */
static void
accepted (const enc_t *e, const char *what)
{
    char err[256];
    int rc = decode_exact (e->buf, e->len, 1, &got, err, sizeof err);
    if (!ok (rc == 0, "decode accepts %s", what))
        diag ("errno %d: %s", errno, err);
}

/* The name of the first field in which A and B differ, or NULL. */
static const char *
record_diff (const im_record_t *a, const im_record_t *b)
{
    if (memcmp (a->origin, b->origin, IM_NODE_ID_SIZE))
        return "origin";
    if (memcmp (a->id, b->id, IM_ID_SIZE))
        return "id";
    if (a->version != b->version)
        return "version";
    if (a->op != b->op)
        return "op";
    if (a->type != b->type)
        return "type";
    if (a->tlp != b->tlp)
        return "tlp";
    if (a->confidence != b->confidence)
        return "confidence";
    if (a->reach != b->reach)
        return "reach";
    if (a->created != b->created)
        return "created";
    if (a->modified != b->modified)
        return "modified";
    if (a->valid_from != b->valid_from)
        return "valid_from";
    if (a->valid_until != b->valid_until)
        return "valid_until";
    if (strcmp (a->value, b->value))
        return "value";
    if (strcmp (a->description, b->description))
        return "description";
    if (a->ntags != b->ntags)
        return "ntags";
    for (size_t i = 0; i < a->ntags; i++)
        if (strcmp (a->tags[i], b->tags[i]))
            return "tags";
    if (a->nrecipients != b->nrecipients)
        return "nrecipients";
    for (size_t i = 0; i < a->nrecipients; i++)
        if (memcmp (a->recipients[i], b->recipients[i], IM_NODE_ID_SIZE))
            return "recipients";
    return NULL;
}

/* Signs R with key A, decodes it and compares every field. */
static void
round_trip (const im_record_t *r, const char *what)
{
    static enc_t e;
    char err[256];
    if (!ok (sign_into (r, sk_a, &e) == 0, "sign accepts %s", what))
        return;
    int rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
    if (!ok (rc == 0, "decode accepts %s once signed", what))
        diag ("error: %s", err);
    const char *diff = record_diff (r, &got);
    if (!ok (rc == 0 && diff == NULL, "%s comes back unchanged", what))
        diag ("first difference: %s", diff ? diff : "-");
}

/* --- Bad arguments -------------------------------------------------------- */

/* Whether the next id made in a forked child differs from the next one
 * made in its parent (random bytes are drawn ahead into a pool). */
static int
forked_ids_differ (void)
{
    uint8_t id[IM_ID_SIZE], child[IM_ID_SIZE];
    int fds[2];
    im_id_generate (id); /* the pool is filled */
    if (pipe (fds) != 0)
        return 0;
    pid_t pid = fork ();
    if (pid == 0) {
        im_id_generate (child);
        _exit (write (fds[1], child, sizeof child) == (ssize_t)sizeof child ? 0 : 1);
    }
    close (fds[1]);
    im_id_generate (id);
    ssize_t nread = pid > 0 ? read (fds[0], child, sizeof child) : -1;
    close (fds[0]);
    int status = 0;
    if (pid > 0)
        waitpid (pid, &status, 0);
    return nread == (ssize_t)sizeof child && status == 0
           && memcmp (id + 6, child + 6, IM_ID_SIZE - 6) != 0;
}

static void
test_bad_arguments (void)
{
    static enc_t e;
    char err[256];
    size_t len = 12345;
    uint8_t id[IM_ID_SIZE], node[IM_NODE_ID_SIZE];
    int rc;

    base_record (&rec);

    errno = 0;
    rc = im_record_sign (NULL, sk_a, e.buf, sizeof e.buf, &len, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "sign refuses a NULL record");
    ok (strstr (err, "missing argument") != NULL, "the error for a NULL record says so");
    errno = 0;
    rc = im_record_sign (&rec, NULL, e.buf, sizeof e.buf, &len, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "sign refuses a NULL key");
    errno = 0;
    rc = im_record_sign (&rec, sk_a, NULL, sizeof e.buf, &len, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "sign refuses a NULL buffer");
    errno = 0;
    rc = im_record_sign (&rec, sk_a, e.buf, sizeof e.buf, NULL, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "sign refuses a NULL length pointer");
    errno = 0;
    rc = im_record_sign (NULL, sk_a, e.buf, sizeof e.buf, &len, NULL, 0);
    ok (rc == -1 && errno == EINVAL, "sign refuses a NULL record with no error buffer");
    cmp_ok (len, "==", 12345, "a refused sign leaves the length alone");

    /* Buffers: one byte short is ENOSPC, an exact fit works. */
    ok (sign_into (&rec, sk_a, &e) == 0, "sign accepts the base record");
    size_t need = e.len;
    static uint8_t small[IM_RECORD_MAX];
    size_t sizes[] = { 0, 1, IM_RECORD_FIXED, need - AUTH_SIZE, need - 1 };
    for (size_t i = 0; i < COUNT (sizes); i++) {
        errno = 0;
        rc = im_record_sign (&rec, sk_a, small, sizes[i], &len, err, sizeof err);
        ok (rc == -1 && errno == ENOSPC,
            "sign reports ENOSPC for a buffer of %zu of %zu bytes", sizes[i], need);
    }
    ok (strstr (err, "buffer too small") != NULL,
        "the ENOSPC error says the buffer is too small");
    memset (small, 0xee, sizeof small);
    rc = im_record_sign (&rec, sk_a, small, need, &len, err, sizeof err);
    ok (rc == 0 && len == need && memcmp (small, e.buf, need - AUTH_SIZE) == 0
            && im_record_decode (small, need, 1, &got, err, sizeof err) == 0,
        "sign fits the record into a buffer of exactly its size");
    ok (small[need] == 0xee, "sign writes nothing past the record");

    errno = 0;
    rc = im_record_decode (NULL, e.len, 1, &got, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "decode refuses a NULL buffer");
    ok (strstr (err, "missing argument") != NULL, "the error for a NULL buffer says so");
    errno = 0;
    rc = im_record_decode (e.buf, e.len, 1, NULL, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "decode refuses a NULL record");
    errno = 0;
    rc = im_record_decode (e.buf, 0, 1, &got, err, sizeof err);
    ok (rc == -1 && errno == EBADMSG, "decode refuses a length of 0");
    ok (strstr (err, "not a possible size") != NULL,
        "the error for length 0 names the size");
    errno = 0;
    rc = im_record_decode (e.buf, e.len, 1, &got, NULL, 0);
    ok (rc == 0, "decode works without an error buffer");
    static uint8_t huge[IM_RECORD_MAX + 1];
    memcpy (huge, e.buf, e.len);
    errno = 0;
    rc = im_record_decode (huge, sizeof huge, 0, &got, err, sizeof err);
    ok (rc == -1 && errno == EBADMSG, "decode refuses IM_RECORD_MAX + 1 bytes");
    ok (strstr (err, "not a possible size") != NULL,
        "the error for IM_RECORD_MAX + 1 bytes names the size");
    errno = 0;
    rc = decode_exact (e.buf, MIN_SIZE - 1, 0, &got, err, sizeof err);
    ok (rc == -1 && errno == EBADMSG && strstr (err, "not a possible size"),
        "decode refuses one byte less than the smallest possible record by its size");

    json_t *empty = json_object ();
    errno = 0;
    rc = im_record_from_json (NULL, empty, NOW, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "from_json refuses a NULL record");
    json_decref (empty);
    errno = 0;
    rc = im_record_from_json (&rec, NULL, NOW, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "from_json refuses a NULL object");
    ok (strstr (err, "not a JSON object") != NULL, "the error for a NULL object says so");
    static const char *not_objects[]
        = { "[]", "[{\"type\":\"ipv4\"}]", "\"ipv4\"", "42", "null", "true" };
    for (size_t i = 0; i < COUNT (not_objects); i++) {
        json_t *j = json_loads (not_objects[i], JSON_DECODE_ANY, NULL);
        if (!j)
            BAIL_OUT ("bad test JSON %s", not_objects[i]);
        errno = 0;
        err[0] = '\0';
        rc = im_record_from_json (&rec, j, NOW, err, sizeof err);
        ok (rc == -1 && errno == EINVAL && strstr (err, "indicator: not a JSON object"),
            "from_json refuses %s as not an object", not_objects[i]);
        json_decref (j);
    }

    errno = 0;
    ok (im_id_parse (NULL, id) == -1 && errno == EINVAL, "id parse refuses NULL");
    errno = 0;
    ok (im_node_parse (NULL, node) == -1 && errno == EINVAL, "node parse refuses NULL");
    errno = 0;
    ok (im_id_parse ("", id) == -1 && errno == EINVAL,
        "id parse refuses an empty string");
    errno = 0;
    ok (im_node_parse ("", node) == -1 && errno == EINVAL,
        "node parse refuses an empty string");

    errno = 0;
    ok (im_record_check (NULL, err, sizeof err) == -1 && errno == EINVAL,
        "check refuses a NULL record");
    errno = 0;
    ok (im_record_add_tag (NULL, "x", err, sizeof err) == -1 && errno == EINVAL,
        "add_tag refuses a NULL record");
    errno = 0;
    ok (im_record_add_tag (&rec, NULL, err, sizeof err) == -1 && errno == EINVAL,
        "add_tag refuses a NULL tag");
}

/* Encoding without sealing (im_record_encode): the body sign writes, zeros
 * where the batch authentication goes. */
static void
test_encode (void)
{
    static enc_t e;
    static uint8_t small[IM_RECORD_MAX];
    char err[256];
    size_t len = 0;
    int rc;
    base_record (&rec);
    if (sign_into (&rec, sk_a, &e))
        BAIL_OUT ("cannot sign the base record");
    size_t need = e.len;
    errno = 0;
    rc = decode_exact (e.buf, MIN_SIZE_1 + 1, 0, &got, err, sizeof err);
    ok (rc == -1 && errno == EBADMSG && strstr (err, "not a possible size"),
        "decode refuses a format-2 record too short for its batch authentication");
    errno = 0;
    rc = im_record_encode (NULL, e.buf, sizeof e.buf, &len, err, sizeof err);
    ok (rc == -1 && errno == EINVAL && strstr (err, "missing argument"),
        "encode refuses a NULL record");
    errno = 0;
    ok (im_record_encode (&rec, NULL, sizeof e.buf, &len, err, sizeof err) == -1
            && errno == EINVAL,
        "encode refuses a NULL buffer");
    errno = 0;
    ok (im_record_encode (&rec, e.buf, sizeof e.buf, NULL, err, sizeof err) == -1
            && errno == EINVAL,
        "encode refuses a NULL length pointer");
    errno = 0;
    ok (im_record_encode (&rec, small, need - 1, &len, err, sizeof err) == -1
            && errno == ENOSPC,
        "encode reports ENOSPC for a buffer one byte short");
    rec.confidence = 101;
    errno = 0;
    ok (im_record_encode (&rec, small, need, &len, err, sizeof err) == -1
            && errno == EINVAL && strstr (err, "confidence"),
        "encode refuses an invalid record");
    base_record (&rec);
    memset (small, 0xee, sizeof small);
    rc = im_record_encode (&rec, small, need, &len, err, sizeof err);
    static const uint8_t zeros[AUTH_SIZE];
    ok (rc == 0 && len == need && memcmp (small, e.buf, need - AUTH_SIZE) == 0
            && memcmp (small + need - AUTH_SIZE, zeros, AUTH_SIZE) == 0,
        "encode writes the body sign writes, and zeros where the authentication goes");
    errno = 0;
    rc = im_record_decode (small, need, 1, &got, err, sizeof err);
    ok (rc == -1 && errno == EPERM, "an encoded record does not verify before sealing");
    ok (im_record_decode (small, need, 0, &got, err, sizeof err) == 0
            && record_diff (&got, &rec) == NULL,
        "an encoded record decodes without verification");
}

/* --- Init, tags ----------------------------------------------------------- */

static void
test_init_and_tags (void)
{
    char err[256];
    memset (&rec, 0xa5, sizeof rec);
    im_record_init (&rec);
    ok (rec.version == 1 && rec.op == IM_OP_PUT, "init sets version 1 and op put");
    ok (rec.tlp == IM_TLP_GREEN && rec.confidence == IM_CONFIDENCE_DEFAULT
            && rec.reach == IM_REACH_UNLIMITED,
        "init sets TLP green, confidence 50, reach unlimited");
    ok (rec.ntags == 0 && rec.nrecipients == 0 && rec.value[0] == 0
            && rec.description[0] == 0 && rec.type == IM_TYPE_NONE,
        "init leaves no tags, recipients, value, description or type");
    ok (rec.created == 0 && rec.modified == 0 && rec.valid_from == 0
            && rec.valid_until == 0,
        "init leaves every time unset");

    ok (im_record_add_tag (&rec, "b", err, sizeof err) == 0
            && im_record_add_tag (&rec, "a", err, sizeof err) == 0
            && im_record_add_tag (&rec, "b", err, sizeof err) == 0 && rec.ntags == 2,
        "add_tag keeps tags unique");
    errno = 0;
    ok (im_record_add_tag (&rec, "", err, sizeof err) == -1 && errno == EINVAL
            && strstr (err, "tags: empty tag"),
        "add_tag refuses an empty tag");
    errno = 0;
    ok (im_record_add_tag (&rec, "a\tb", err, sizeof err) == -1 && errno == EINVAL
            && strstr (err, "control characters"),
        "add_tag refuses a tag with a tab");
    errno = 0;
    ok (im_record_add_tag (&rec, "\xc3", err, sizeof err) == -1 && errno == EINVAL,
        "add_tag refuses a tag that is not UTF-8");
    char long_tag[IM_TAG_MAX + 2];
    memset (long_tag, 't', IM_TAG_MAX);
    long_tag[IM_TAG_MAX] = '\0';
    ok (im_record_add_tag (&rec, long_tag, err, sizeof err) == 0,
        "add_tag accepts a tag of IM_TAG_MAX bytes");
    strcat (long_tag, "t");
    errno = 0;
    ok (im_record_add_tag (&rec, long_tag, err, sizeof err) == -1 && errno == EINVAL
            && strstr (err, "longer than 128"),
        "add_tag refuses a tag of IM_TAG_MAX + 1 bytes");
    for (int i = 0; rec.ntags < IM_TAGS_MAX; i++) {
        char tag[16];
        snprintf (tag, sizeof tag, "t%02d", i);
        if (im_record_add_tag (&rec, tag, err, sizeof err))
            break;
    }
    cmp_ok (rec.ntags, "==", IM_TAGS_MAX, "add_tag takes tags up to IM_TAGS_MAX");
    errno = 0;
    ok (im_record_add_tag (&rec, "one-more", err, sizeof err) == -1 && errno == ENOSPC
            && strstr (err, "more than 32 tags"),
        "add_tag reports ENOSPC past IM_TAGS_MAX");
    ok (im_record_add_tag (&rec, "a", err, sizeof err) == 0 && rec.ntags == IM_TAGS_MAX,
        "add_tag still accepts a tag already present when full");
}

/* --- Round trips ---------------------------------------------------------- */

static void
test_round_trip (void)
{
    static enc_t e, e2;
    char err[256], n[128];

    full_record (&rec);
    ok (sign_into (&rec, sk_a, &e) == 0, "sign accepts a record with every field set");
    cmp_ok (IM_RECORD_FIXED, "==", 97, "the fixed part of the body is 97 bytes");
    size_t want = IM_RECORD_FIXED + 2 + strlen (rec.value) + 2 + strlen (rec.description)
                  + 1 + (1 + 8) + (1 + 5) + (1 + 5) + (1 + 4) + 1 + 3 * IM_NODE_ID_SIZE
                  + AUTH_SIZE;
    cmp_ok (IM_BATCH_AUTH, "==", 241, "the batch authentication is 241 bytes");
    cmp_ok (IM_RECORD_MAX, "==", 12665, "IM_RECORD_MAX is 12665 bytes");
    cmp_ok (e.len, "==", want,
            "the signed record has the size of its fields and its batch authentication");
    ok (memcmp (e.buf, "IMR\x02", 4) == 0,
        "the record starts with the magic IMR and format 2");
    ok (memcmp (e.buf + OFF_ORIGIN, pk_a, IM_NODE_ID_SIZE) == 0,
        "the origin follows the magic");
    ok (memcmp (e.buf + OFF_ID, fixed_id, IM_ID_SIZE) == 0, "the id follows the origin");
    ok (e.buf[OFF_VERSION + 7] == 7 && e.buf[OFF_VERSION] == 0,
        "the version is a big-endian u64");
    ok (e.buf[OFF_OP] == IM_OP_PUT && e.buf[OFF_TYPE] == IM_TYPE_DOMAIN
            && e.buf[OFF_TLP] == IM_TLP_AMBER && e.buf[OFF_CONFIDENCE] == 80
            && e.buf[OFF_REACH] == 3,
        "op, type, tlp, confidence and reach are one byte each");
    ok (e.buf[OFF_VALUE] == 0 && e.buf[OFF_VALUE + 1] == strlen (rec.value)
            && memcmp (e.buf + OFF_VALUE + 2, rec.value, strlen (rec.value)) == 0,
        "the value follows the times with a big-endian u16 length");
    size_t body = e.len - AUTH_SIZE;
    cmp_ok (e.buf[body + AUTH_LEAF], "<", SPEC_LEAVES, "the leaf place is 0 to 31");
    ok (spec_verifies (&e, pk_a),
        "the last 241 bytes are a salt, a leaf place, a path and the origin's signature "
        "of the root they lead to (SPEC.md, \"Batches\")");
    ok (!spec_verifies (&e, pk_b), "the root's signature is not another key's");

    int rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
    if (!ok (rc == 0, "decode accepts the full record"))
        diag ("error: %s", err);
    ok (memcmp (got.origin, pk_a, IM_NODE_ID_SIZE) == 0, "decode gives back the origin");
    ok (memcmp (got.id, fixed_id, IM_ID_SIZE) == 0, "decode gives back the id");
    cmp_ok (got.version, "==", 7, "decode gives back the version");
    cmp_ok (got.op, "==", IM_OP_PUT, "decode gives back the op");
    cmp_ok (got.type, "==", IM_TYPE_DOMAIN, "decode gives back the type");
    is (got.value, "evil.example", "decode gives back the value");
    cmp_ok (got.tlp, "==", IM_TLP_AMBER, "decode gives back the TLP");
    cmp_ok (got.confidence, "==", 80, "decode gives back the confidence");
    cmp_ok (got.reach, "==", 3, "decode gives back the reach");
    cmp_ok (got.created, "==", 1700000000, "decode gives back created");
    cmp_ok (got.modified, "==", 1700000100, "decode gives back modified");
    cmp_ok (got.valid_from, "==", 1700000000, "decode gives back valid_from");
    cmp_ok (got.valid_until, "==", 1710000000, "decode gives back valid_until");
    is (got.description, rec.description,
        "decode gives back the description with its UTF-8, newline and tab");
    cmp_ok (got.ntags, "==", 4, "decode gives back four tags");
    static const char *sorted_tags[]
        = { "Zeta", "apt-x", "phishing", "\xc3\xa9t\xc3\xa9" };
    for (size_t i = 0; i < COUNT (sorted_tags); i++)
        is (got.tags[i], sorted_tags[i], "tag %zu comes back in canonical order as '%s'",
            i, printable_cut (sorted_tags[i], NAME_BYTES, n, sizeof n));
    cmp_ok (got.nrecipients, "==", 3, "decode gives back three recipients");
    static const uint8_t sorted_nodes[][2]
        = { { 0x11, 0x02 }, { 0x80, 0x03 }, { 0xcc, 0x01 } };
    for (size_t i = 0; i < COUNT (sorted_nodes); i++) {
        uint8_t node[IM_NODE_ID_SIZE];
        fill_node (node, sorted_nodes[i][0], sorted_nodes[i][1]);
        ok (memcmp (got.recipients[i], node, IM_NODE_ID_SIZE) == 0,
            "recipient %zu comes back in canonical order (%02x...)", i,
            sorted_nodes[i][0]);
    }

    /* The same content in another order encodes to the same bytes. */
    full_record (&other);
    strcpy (other.tags[0], "Zeta");
    strcpy (other.tags[1], "phishing");
    strcpy (other.tags[2], "apt-x");
    strcpy (other.tags[3], "\xc3\xa9t\xc3\xa9");
    fill_node (other.recipients[0], 0x80, 0x03);
    fill_node (other.recipients[1], 0xcc, 0x01);
    fill_node (other.recipients[2], 0x11, 0x02);
    ok (sign_into (&other, sk_a, &e2) == 0 && e2.len == e.len
            && memcmp (e2.buf, e.buf, body) == 0,
        "records differing only in the order of tags and recipients encode alike");
    ok (sign_into (&got, sk_a, &e2) == 0 && e2.len == e.len
            && memcmp (e2.buf, e.buf, body) == 0,
        "re-signing a decoded record reproduces the same body");
    ok (memcmp (e2.buf + body, e.buf + body, SPEC_SALT) != 0
            && memcmp (e2.buf + body + AUTH_SIG, e.buf + body + AUTH_SIG, 64) != 0,
        "re-signing draws a fresh salt, and so signs another root");
    other.tags[0][0] = 'z';
    ok (sign_into (&other, sk_a, &e2) == 0 && memcmp (e2.buf, e.buf, e.len) != 0,
        "a record with another tag encodes differently");

    /* Every type, TLP and op; edge values of the small fields. */
    for (int t = IM_TYPE_NONE + 1; t < IM_TYPE_COUNT; t++) {
        char what[128];
        if (!values[t])
            continue; /* a type to come */
        base_record (&rec);
        rec.type = (uint8_t)t;
        strcpy (rec.value, values[t]);
        snprintf (what, sizeof what, "a record of type %s", im_type_name (t));
        round_trip (&rec, what);
    }
    for (int t = IM_TLP_NONE + 1; t < IM_TLP_COUNT; t++) {
        char what[128];
        base_record (&rec);
        rec.tlp = (uint8_t)t;
        snprintf (what, sizeof what, "a TLP:%s record", im_tlp_name (t));
        round_trip (&rec, what);
    }
    base_record (&rec);
    rec.op = IM_OP_PUT;
    round_trip (&rec, "a put record");
    rec.op = IM_OP_REVOKE;
    round_trip (&rec, "a revoke record");

    static const struct {
        const char *what;
        uint8_t confidence, reach;
        uint64_t version;
        int64_t vf, vu;
    } edges[] = {
        { "a record with confidence 0 and reach 0", 0, 0, 1, 0, 0 },
        { "a record with confidence 100 and reach 254", 100, 254, 1, 0, 0 },
        { "a record with reach unlimited", 50, IM_REACH_UNLIMITED, 1, 0, 0 },
        { "a record with version 2^63 - 1", 50, 1, INT64_MAX, 0, 0 },
        { "a record with only valid_from", 50, 1, 2, 1700000000, 0 },
        { "a record with only valid_until", 50, 1, 2, 0, 1700000000 },
        { "a record valid for a single second", 50, 1, 2, 1700000000, 1700000000 },
        { "a record with times past 2038", 50, 1, 2, INT64_C (4102444800),
          INT64_C (253402300799) },
    };
    for (size_t i = 0; i < COUNT (edges); i++) {
        base_record (&rec);
        rec.confidence = edges[i].confidence;
        rec.reach = edges[i].reach;
        rec.version = edges[i].version;
        rec.valid_from = edges[i].vf;
        rec.valid_until = edges[i].vu;
        round_trip (&rec, edges[i].what);
    }

    /* The smallest record: a one-character filename and nothing else. */
    im_record_init (&rec);
    memcpy (rec.origin, pk_a, IM_NODE_ID_SIZE);
    rec.type = IM_TYPE_FILENAME;
    strcpy (rec.value, "a");
    ok (sign_into (&rec, sk_a, &e) == 0 && e.len == MIN_SIZE + 1 && e.len == 345,
        "the smallest record is the fixed part, four lengths, one byte and a batch "
        "authentication: 345 bytes");
    round_trip (&rec, "the smallest record");

    /* The largest record: every field at its limit is exactly IM_RECORD_MAX. */
    im_record_init (&rec);
    memcpy (rec.origin, pk_a, IM_NODE_ID_SIZE);
    memcpy (rec.id, fixed_id, IM_ID_SIZE);
    rec.type = IM_TYPE_URL;
    strcpy (rec.value, "http://evil.example/");
    memset (rec.value + 20, 'a', IM_VALUE_MAX - 20);
    rec.value[IM_VALUE_MAX] = '\0';
    for (size_t i = 0; i < IM_DESC_MAX; i += 2)
        memcpy (rec.description + i, "\xc3\xa9", 2);
    rec.description[IM_DESC_MAX] = '\0';
    rec.ntags = IM_TAGS_MAX;
    for (size_t i = 0; i < IM_TAGS_MAX; i++) {
        memset (rec.tags[i], 'x', IM_TAG_MAX);
        rec.tags[i][IM_TAG_MAX] = '\0';
        rec.tags[i][0] = (char)('A' + (IM_TAGS_MAX - 1 - i)); /* reverse order */
    }
    rec.nrecipients = IM_RECIPIENTS_MAX;
    for (size_t i = 0; i < IM_RECIPIENTS_MAX; i++)
        fill_node (rec.recipients[i], (uint8_t)(255 - i), 0x5a);
    rec.no_detect = 1; /* the flags byte */
    ok (sign_into (&rec, sk_a, &e) == 0,
        "sign accepts a record with every field at its limit");
    cmp_ok (e.len, "==", IM_RECORD_MAX,
            "the largest record is exactly IM_RECORD_MAX bytes");
    rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
    if (!ok (rc == 0, "decode accepts the largest record"))
        diag ("error: %s", err);
    ok (rc == 0 && strcmp (got.value, rec.value) == 0
            && strcmp (got.description, rec.description) == 0 && got.ntags == IM_TAGS_MAX
            && got.nrecipients == IM_RECIPIENTS_MAX && got.tags[0][0] == 'A'
            && got.recipients[0][0] == 255 - (IM_RECIPIENTS_MAX - 1)
            && got.no_detect == 1,
        "the largest record comes back whole and sorted, not for detection");
    errno = 0;
    rc = im_record_sign (&rec, sk_a, e2.buf, IM_RECORD_MAX - 1, &e2.len, err, sizeof err);
    ok (rc == -1 && errno == ENOSPC,
        "sign reports ENOSPC for the largest record in IM_RECORD_MAX - 1");
}

/* --- Sign refusals -------------------------------------------------------- */

typedef struct {
    const char *what;
    void (*spoil) (im_record_t *r);
    const char *why;
} spoil_t;

static void
spoil_origin (im_record_t *r)
{
    memcpy (r->origin, pk_b, IM_NODE_ID_SIZE);
}

static void
spoil_upper (im_record_t *r)
{
    strcpy (r->value, "EXAMPLE.COM");
}

static void
spoil_dot (im_record_t *r)
{
    strcpy (r->value, "evil.example.");
}

static void
spoil_ipv4 (im_record_t *r)
{
    r->type = IM_TYPE_IPV4;
    strcpy (r->value, "999.1.1.1");
}

static void
spoil_ipv6 (im_record_t *r)
{
    r->type = IM_TYPE_IPV6;
    strcpy (r->value, "2001:DB8::1");
}

static void
spoil_hash (im_record_t *r)
{
    r->type = IM_TYPE_MD5;
    strcpy (r->value, "D41D8CD98F00B204E9800998ECF8427E");
}

static void
spoil_asn (im_record_t *r)
{
    r->type = IM_TYPE_ASN;
    strcpy (r->value, "64512");
}

static void
spoil_empty_value (im_record_t *r)
{
    r->value[0] = '\0';
}

static void
spoil_value_unterminated (im_record_t *r)
{
    memset (r->value, 'a', sizeof r->value);
}

static void
spoil_type_domain_for_ip (im_record_t *r)
{
    r->type = IM_TYPE_IPV4;
}

static void
spoil_confidence (im_record_t *r)
{
    r->confidence = 101;
}

static void
spoil_confidence_255 (im_record_t *r)
{
    r->confidence = 255;
}

static void
spoil_type_0 (im_record_t *r)
{
    r->type = IM_TYPE_NONE;
}

static void
spoil_type_30 (im_record_t *r)
{
    r->type = 30; /* a code not (yet) given to a type */
}

static void
spoil_type_count (im_record_t *r)
{
    r->type = IM_TYPE_COUNT;
}

static void
spoil_type_255 (im_record_t *r)
{
    r->type = 255;
}

static void
spoil_tlp_0 (im_record_t *r)
{
    r->tlp = IM_TLP_NONE;
}

static void
spoil_tlp_6 (im_record_t *r)
{
    r->tlp = IM_TLP_COUNT;
}

static void
spoil_op_0 (im_record_t *r)
{
    r->op = 0;
}

static void
spoil_op_3 (im_record_t *r)
{
    r->op = 3;
}

static void
spoil_version (im_record_t *r)
{
    r->version = 0;
}

static void
spoil_window (im_record_t *r)
{
    r->valid_until = r->valid_from - 1;
}

static void
spoil_negative (im_record_t *r)
{
    r->created = -1;
}

static void
spoil_negative_until (im_record_t *r)
{
    r->valid_until = INT64_MIN;
}

static void
spoil_dup_tags (im_record_t *r)
{
    strcpy (r->tags[2], "alpha");
}

static void
spoil_empty_tag (im_record_t *r)
{
    r->tags[1][0] = '\0';
}

static void
spoil_tag_control (im_record_t *r)
{
    strcpy (r->tags[1], "bra\x1bvo");
}

static void
spoil_tag_utf8 (im_record_t *r)
{
    strcpy (r->tags[1], "bra\xc0\xafvo");
}

static void
spoil_tag_unterminated (im_record_t *r)
{
    memset (r->tags[1], 'b', sizeof r->tags[1]);
}

static void
spoil_tags_33 (im_record_t *r)
{
    for (size_t i = 0; i < IM_TAGS_MAX; i++)
        snprintf (r->tags[i], IM_TAG_MAX, "t%02zu", i);
    r->ntags = IM_TAGS_MAX + 1;
}

static void
spoil_desc_control (im_record_t *r)
{
    strcpy (r->description, "bell\a");
}

static void
spoil_desc_cr (im_record_t *r)
{
    strcpy (r->description, "line\r\n");
}

static void
spoil_desc_del (im_record_t *r)
{
    strcpy (r->description, "del\x7f");
}

static void
spoil_desc_utf8 (im_record_t *r)
{
    strcpy (r->description, "bad \xed\xa0\x80");
}

static void
spoil_desc_unterminated (im_record_t *r)
{
    memset (r->description, 'd', sizeof r->description);
}

static void
spoil_dup_recipients (im_record_t *r)
{
    memcpy (r->recipients[1], r->recipients[0], IM_NODE_ID_SIZE);
}

static void
spoil_recipients_65 (im_record_t *r)
{
    r->nrecipients = IM_RECIPIENTS_MAX + 1;
}

static const spoil_t spoils[] = {
    { "a record whose origin is not the key's public key", spoil_origin,
      "origin: not the signing key's node" },
    { "the non-canonical domain EXAMPLE.COM", spoil_upper,
      "value: not in canonical form" },
    { "a domain with a trailing dot", spoil_dot, "value: not in canonical form" },
    { "the invalid IPv4 address 999.1.1.1", spoil_ipv4,
      "value: '999.1.1.1' is not an IPv4 address" },
    { "an upper-case IPv6 address", spoil_ipv6, "value: not in canonical form" },
    { "an upper-case MD5", spoil_hash, "value: not in canonical form" },
    { "an AS number without AS", spoil_asn, "value: not in canonical form" },
    { "an empty value", spoil_empty_value, "value: empty value" },
    { "an unterminated value", spoil_value_unterminated, "value: not terminated" },
    { "a domain typed as an IPv4 address", spoil_type_domain_for_ip, "value: " },
    { "confidence 101", spoil_confidence, "confidence: 101 is not within 0..100" },
    { "confidence 255", spoil_confidence_255, "confidence: 255" },
    { "type 0", spoil_type_0, "type: unknown type 0" },
    { "type 30", spoil_type_30, "type: unknown type 30" },
    { "type 25 (IM_TYPE_COUNT)", spoil_type_count, "type: unknown type 25" },
    { "type 255", spoil_type_255, "type: unknown type 255" },
    { "TLP 0", spoil_tlp_0, "tlp: unknown TLP label 0" },
    { "TLP 6", spoil_tlp_6, "tlp: unknown TLP label 6" },
    { "op 0", spoil_op_0, "op: unknown operation 0" },
    { "op 3", spoil_op_3, "op: unknown operation 3" },
    { "version 0", spoil_version, "version: must be 1 or more" },
    { "valid_until before valid_from", spoil_window, "valid_until: before valid_from" },
    { "a negative created time", spoil_negative, "times: negative time" },
    { "a negative valid_until", spoil_negative_until, "times: negative time" },
    { "duplicate tags", spoil_dup_tags, "tags: 'alpha' appears twice" },
    { "an empty tag", spoil_empty_tag, "tags: empty tag" },
    { "a tag with an escape character", spoil_tag_control, "tags: a tag is not UTF-8" },
    { "a tag with an overlong UTF-8 '/'", spoil_tag_utf8, "tags: a tag is not UTF-8" },
    { "an unterminated tag", spoil_tag_unterminated, "tags: not terminated" },
    { "33 tags", spoil_tags_33, "tags: more than 32 tags" },
    { "a description with a bell", spoil_desc_control, "description: not UTF-8 text" },
    { "a description with a carriage return", spoil_desc_cr,
      "description: not UTF-8 text" },
    { "a description with DEL", spoil_desc_del, "description: not UTF-8 text" },
    { "a description with a surrogate", spoil_desc_utf8, "description: not UTF-8 text" },
    { "an unterminated description", spoil_desc_unterminated,
      "description: not terminated" },
    { "duplicate recipients", spoil_dup_recipients, "recipients: a node appears twice" },
    { "65 recipients", spoil_recipients_65, "recipients: more than 64" },
};

static void
test_sign_refusals (void)
{
    static enc_t e;
    char err[256];

    for (size_t i = 0; i < COUNT (spoils); i++) {
        base_record (&rec);
        spoils[i].spoil (&rec);
        memset (e.buf, 0xee, 16);
        e.len = 999;
        err[0] = '\0';
        errno = 0;
        int rc
            = im_record_sign (&rec, sk_a, e.buf, sizeof e.buf, &e.len, err, sizeof err);
        ok (rc == -1 && errno == EINVAL, "sign refuses %s", spoils[i].what);
        if (!ok (strstr (err, spoils[i].why) != NULL, "the error for %s says \"%s\"",
                 spoils[i].what, spoils[i].why))
            diag ("error: %s", err);
        ok (e.len == 999 && e.buf[0] == 0xee, "sign writes nothing for %s",
            spoils[i].what);
        errno = 0;
        rc = im_record_check (&rec, err, sizeof err);
        if (spoils[i].spoil == spoil_origin)
            ok (rc == 0, "check accepts a foreign origin: only sign knows the key");
        else
            ok (rc == -1 && errno == EINVAL, "check refuses %s", spoils[i].what);
    }
    base_record (&rec);
    ok (im_record_check (&rec, err, sizeof err) == 0, "check accepts the base record");
}

/* --- Malformed encodings -------------------------------------------------- */

static void
test_decode_malformed (void)
{
    static enc_t base, e;
    layout_t l;
    char err[256];
    uint8_t bytes[8192];

    base_record (&rec);
    if (sign_into (&rec, sk_a, &base))
        BAIL_OUT ("cannot sign the base record");
    layout_of (&rec, &l);
    cmp_ok (l.body + AUTH_SIZE, "==", base.len,
            "the test's layout of the base record adds up");
    ok (base.buf[l.ntags] == 3 && base.buf[l.tag[1]] == 5
            && memcmp (base.buf + l.tag[1] + 1, "bravo", 5) == 0
            && base.buf[l.nrecipients] == 2 && base.buf[l.recipient[1]] == 0x22,
        "the layout points at the tags and recipients");
    e = base;
    resign (&e, sk_a);
    ok (e.len == base.len && memcmp (e.buf, base.buf, l.body) == 0
            && memcmp (e.buf + l.body, base.buf + l.body, AUTH_SIZE) != 0,
        "re-sealing the base record by the SPEC's rules keeps its body, not its "
        "authentication");
    accepted (&e, "the base record, sealed by the SPEC's rules");
    accepted (&base, "the base record, sealed by im_record_sign");

    /* Every truncation. */
    size_t bad = 0;
    for (size_t n = 0; n < base.len; n++) {
        for (int verify = 0; verify <= 1; verify++) {
            int rc = decode_exact (base.buf, n, verify, &got, err, sizeof err);
            if (rc != -1 || errno != EBADMSG) {
                if (bad++ < 5)
                    diag ("%zu bytes, verify %d: rc %d errno %d (%s)", n, verify, rc,
                          errno, err);
            }
        }
    }
    cmp_ok (bad, "==", 0, "decode refuses every one of the %zu truncations with EBADMSG",
            base.len);

    /* Trailing bytes. */
    e = base;
    splice (&e, l.body, 0, "\0", 1);
    refused (&e, "record: 1 trailing bytes", "a body with one trailing byte");
    e = base;
    splice (&e, l.body, 0, "\x01\x02\x03", 3);
    refused (&e, "record: 3 trailing bytes", "a body with three trailing bytes");
    /* A byte after the authentication: the authentication is read from the
     * end, so the body gains the salt's first byte and the leaf place is read
     * from the path's first. Every first salt byte is tried, with a path byte
     * that makes a leaf place below 32 and one that does not, so that the
     * outcome does not rest on a random salt. Verified, each is refused for
     * its structure, or the sound one for its signature; unverified, only a
     * body that then ends in %x01 (read as the no-detect flags byte) with a
     * leaf place below 32 is sound in structure, and taken. */
    e = base;
    with_salt_and_path (&e, 0x00, 0x05, sk_a);
    accepted (&e, "the base record with a salt and path set by hand");
    e.buf[e.len++] = 0;
    refused (&e, "record: 1 trailing bytes",
             "a record with a byte after its authentication");
    {
        size_t wrong = 0, taken = 0;
        for (int path0 = 0x05; path0 <= 0x20; path0 += 0x20 - 0x05)
            for (int salt0 = 0; salt0 <= 0xff; salt0++) {
                e = base;
                with_salt_and_path (&e, (uint8_t)salt0, (uint8_t)path0, sk_a);
                e.buf[e.len++] = 0;
                int rc1 = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
                int errno1 = errno;
                int rc0 = decode_exact (e.buf, e.len, 0, &got, err, sizeof err);
                int sound = salt0 == IM_RECORD_FLAG_NO_DETECT && path0 < SPEC_LEAVES;
                taken += rc0 == 0;
                if ((rc1 == -1 && errno1 == (sound ? EPERM : EBADMSG))
                    && (sound ? rc0 == 0 && got.no_detect == 1
                              : rc0 == -1 && errno == EBADMSG))
                    continue;
                if (wrong++ < 3)
                    diag ("salt %02x path %02x: verify rc %d errno %d; no verify rc %d",
                          salt0, path0, rc1, errno1, rc0);
            }
        cmp_ok (wrong, "==", 0,
                "with a byte after the authentication, decode with verification refuses "
                "all 512 first salt and path bytes tried; without, it takes only the one "
                "that reads as a no-detect record with a leaf place below 32 (%zu taken)",
                taken);
    }
    e = base;
    set_byte (&e, l.nrecipients, 1);
    refused (&e, "trailing bytes", "a recipient count of 1 for 2 recipients");

    /* Magic and format. */
    for (size_t i = 0; i < 3; i++) {
        char what[64];
        e = base;
        set_byte (&e, OFF_MAGIC + i, (uint8_t)(e.buf[OFF_MAGIC + i] ^ 0x20));
        snprintf (what, sizeof what, "a wrong magic byte %zu", i);
        refused (&e, "record: not an intelmesh record", what);
    }
    static const uint8_t formats[] = { 0, 4, 255 };
    for (size_t i = 0; i < COUNT (formats); i++) {
        char what[64], why[64];
        e = base;
        set_byte (&e, OFF_FORMAT, formats[i]);
        snprintf (what, sizeof what, "format version %u", formats[i]);
        snprintf (why, sizeof why, "unknown format version %u", formats[i]);
        refused (&e, why, what);
    }

    /* A record of format 2 relabelled, and signed, as format 1: its
     * signature is the last 64 bytes, the rest of the authentication would be
     * trailing bytes of the body. */
    e = base;
    set_byte (&e, OFF_FORMAT, 1);
    refused (&e, "record: 177 trailing bytes", "a format-2 record relabelled format 1");

    /* Length fields running past the end. */
    e = base;
    set_number (&e, l.value, 0xffff, 2);
    refused (&e, "truncated, over-long or holds a NUL byte", "a value length of 65535");
    e = base;
    set_number (&e, l.description, 0xffff, 2);
    refused (&e, "truncated, over-long or holds a NUL byte",
             "a description length of 65535");
    e = base;
    set_byte (&e, l.tag[1], 0xff);
    refused (&e, "truncated, over-long or holds a NUL byte", "a tag length of 255");
    e = base;
    set_byte (&e, l.tag[2], 6);
    refused (&e, "record: ", "a last tag length one byte too long");
    e = base;
    set_byte (&e, l.ntags, 255);
    refused (&e, "truncated, over-long or holds a NUL byte", "a tag count of 255");
    e = base;
    set_byte (&e, l.nrecipients, 255);
    refused (&e, "truncated, over-long or holds a NUL byte", "a recipient count of 255");
    e = base;
    set_byte (&e, l.nrecipients, 3);
    refused (&e, "truncated, over-long or holds a NUL byte",
             "a recipient count of 3 for 2 recipients");
    e = base;
    set_byte (&e, l.ntags, 2);
    refused (&e, "record: ", "a tag count of 2 for 3 tags");

    /* Length fields past their limits, with the bytes present: a value of
     * IM_VALUE_MAX is fine, one byte more is not. */
    size_t vlen = strlen (rec.value);
    memcpy (bytes, "http://evil.example/", 20);
    memset (bytes + 20, 'v', sizeof bytes - 20);
    e = base;
    static const uint8_t max_len[2] = { IM_VALUE_MAX >> 8, IM_VALUE_MAX & 0xff };
    splice (&e, l.value, 2 + vlen, max_len, 2);
    e.buf[OFF_TYPE] = IM_TYPE_URL;
    splice (&e, l.value + 2, 0, bytes, IM_VALUE_MAX);
    accepted (&e, "a spliced-in URL value of IM_VALUE_MAX bytes");
    set_number (&e, l.value, IM_VALUE_MAX + 1, 2);
    splice (&e, l.value + 2, 0, "v", 1);
    refused (&e, "truncated, over-long or holds a NUL byte",
             "a value of IM_VALUE_MAX + 1 bytes");

    size_t dlen = strlen (rec.description);
    memset (bytes, 'd', sizeof bytes);
    e = base;
    set_number (&e, l.description, IM_DESC_MAX, 2);
    splice (&e, l.description + 2, dlen, bytes, IM_DESC_MAX);
    accepted (&e, "a spliced-in description of IM_DESC_MAX bytes");
    set_number (&e, l.description, IM_DESC_MAX + 1, 2);
    splice (&e, l.description + 2, 0, "d", 1);
    refused (&e, "truncated, over-long or holds a NUL byte",
             "a description of IM_DESC_MAX + 1 bytes");

    memset (bytes, 'x', sizeof bytes);
    e = base;
    set_byte (&e, l.tag[2], IM_TAG_MAX);
    splice (&e, l.tag[2] + 1, 5, bytes, IM_TAG_MAX);
    accepted (&e, "a spliced-in tag of IM_TAG_MAX bytes");
    set_byte (&e, l.tag[2], IM_TAG_MAX + 1);
    splice (&e, l.tag[2] + 1, 0, "x", 1);
    refused (&e, "truncated, over-long or holds a NUL byte",
             "a tag of IM_TAG_MAX + 1 bytes");

    /* Tag and recipient counts past their limits, every tag and recipient
     * present and in order. */
    base_record (&other);
    other.ntags = IM_TAGS_MAX - 1;
    for (size_t i = 0; i < other.ntags; i++)
        snprintf (other.tags[i], IM_TAG_MAX, "t%02zu", i);
    other.nrecipients = IM_RECIPIENTS_MAX - 1;
    for (size_t i = 0; i < other.nrecipients; i++)
        fill_node (other.recipients[i], (uint8_t)(i + 1), 0);
    layout_t lm;
    static enc_t many;
    if (sign_into (&other, sk_a, &many))
        BAIL_OUT ("cannot sign the record with many tags");
    layout_of (&other, &lm);
    cmp_ok (lm.body + AUTH_SIZE, "==", many.len,
            "the layout of the many-tag record adds up");
    e = many;
    set_byte (&e, lm.ntags, IM_TAGS_MAX);
    splice (&e, lm.nrecipients, 0, "\x03t31", 4);
    accepted (&e, "a spliced-in 32nd tag");
    set_byte (&e, lm.ntags, IM_TAGS_MAX + 1);
    splice (&e, lm.nrecipients + 4, 0, "\x03t32", 4);
    refused (&e, "truncated, over-long or holds a NUL byte",
             "33 tags, all present and in order");

    uint8_t node[IM_NODE_ID_SIZE];
    e = many;
    set_byte (&e, lm.nrecipients, IM_RECIPIENTS_MAX);
    fill_node (node, IM_RECIPIENTS_MAX, 0);
    splice (&e, lm.body, 0, node, sizeof node);
    accepted (&e, "a spliced-in 64th recipient");
    set_byte (&e, lm.nrecipients, IM_RECIPIENTS_MAX + 1);
    fill_node (node, IM_RECIPIENTS_MAX + 1, 0);
    splice (&e, lm.body + IM_NODE_ID_SIZE, 0, node, sizeof node);
    refused (&e, "truncated, over-long or holds a NUL byte",
             "65 recipients, all present and in order");

    /* Canonical order. */
    e = base;
    memcpy (e.buf + l.tag[0] + 1, "bravo", 5);
    memcpy (e.buf + l.tag[1] + 1, "alpha", 5);
    resign (&e, sk_a);
    refused (&e, "record: tags not in canonical order", "tags out of canonical order");
    e = base;
    memcpy (e.buf + l.tag[1] + 1, "alpha", 5);
    resign (&e, sk_a);
    refused (&e, "record: tags not in canonical order", "a tag repeated");
    e = base;
    memcpy (e.buf + l.tag[1] + 1, "Bravo", 5);
    resign (&e, sk_a);
    refused (&e, "record: tags not in canonical order",
             "tags in case-insensitive but not bytewise order");
    e = base;
    memcpy (e.buf + l.recipient[0], rec.recipients[1], IM_NODE_ID_SIZE);
    memcpy (e.buf + l.recipient[1], rec.recipients[0], IM_NODE_ID_SIZE);
    resign (&e, sk_a);
    refused (&e, "record: recipients not in canonical order",
             "recipients out of canonical order");
    e = base;
    memcpy (e.buf + l.recipient[1], rec.recipients[0], IM_NODE_ID_SIZE);
    resign (&e, sk_a);
    refused (&e, "record: recipients not in canonical order", "a recipient repeated");

    /* Field values the checks refuse. */
    static const struct {
        size_t off; /* into the fixed part */
        uint64_t v;
        int size;
        const char *why, *what;
    } fixed[] = {
        { OFF_VERSION, 0, 8, "version: must be 1 or more", "version 0" },
        { OFF_OP, 0, 1, "op: unknown operation 0", "op 0" },
        { OFF_OP, 3, 1, "op: unknown operation 3", "op 3" },
        { OFF_TYPE, 0, 1, "type: unknown type 0", "type 0" },
        { OFF_TYPE, 30, 1, "type: unknown type 30",
          "type 30 (a type this node does not know)" },
        { OFF_TYPE, 25, 1, "type: unknown type 25", "type 25" },
        { OFF_TYPE, IM_TYPE_IPV4, 1, "value: ", "a domain value typed ipv4" },
        { OFF_TLP, 0, 1, "tlp: unknown TLP label 0", "TLP 0" },
        { OFF_TLP, 6, 1, "tlp: unknown TLP label 6", "TLP 6" },
        { OFF_CONFIDENCE, 101, 1, "confidence: 101 is not within 0..100",
          "confidence 101" },
        { OFF_CONFIDENCE, 255, 1, "confidence: 255 is not within 0..100",
          "confidence 255" },
        { OFF_CREATED, UINT64_C (1) << 63, 8, "times: negative time",
          "a negative created time" },
        { OFF_MODIFIED, UINT64_MAX, 8, "times: negative time", "a modified time of -1" },
        { OFF_VALID_FROM, UINT64_C (0x8000000000000001), 8, "times: negative time",
          "a negative valid_from" },
        { OFF_VALID_UNTIL, 1600000000, 8, "valid_until: before valid_from",
          "valid_until before valid_from" },
    };
    for (size_t i = 0; i < COUNT (fixed); i++) {
        e = base;
        set_number (&e, fixed[i].off, fixed[i].v, fixed[i].size);
        refused (&e, fixed[i].why, fixed[i].what);
    }

    /* Strings the checks refuse. */
    e = base;
    set_byte (&e, l.value + 2, 'E');
    refused (&e, "value: not in canonical form", "the non-canonical value Evil.example");
    e = base;
    set_byte (&e, l.value + 2 + vlen - 1, '.');
    refused (&e, "value: not in canonical form", "a value with a trailing dot");
    e = base;
    set_byte (&e, l.value + 2 + 5, '.');
    refused (&e, "value: ", "the invalid value evil..xample");
    e = base;
    set_number (&e, l.value, 0, 2);
    splice (&e, l.value + 2, vlen, NULL, 0);
    refused (&e, "value: empty value", "an empty value");
    e = base;
    set_byte (&e, l.value + 2 + 4, 0);
    refused (&e, "record: ", "a NUL inside the value");
    e = base;
    set_byte (&e, l.description + 2 + 1, 0);
    refused (&e, "record: ", "a NUL inside the description");
    e = base;
    set_byte (&e, l.description + 2 + dlen - 1, 0);
    refused (&e, "record: ", "a NUL ending the description");
    e = base;
    set_byte (&e, l.tag[1] + 1 + 2, 0);
    refused (&e, "record: ", "a NUL inside a tag");
    e = base;
    set_byte (&e, l.description + 2 + 1, 0x01);
    refused (&e, "description: not UTF-8 text or holds control characters",
             "a control character in the description");
    e = base;
    set_byte (&e, l.description + 2 + 1, 0xff);
    refused (&e, "description: not UTF-8 text", "a 0xff byte in the description");
    e = base;
    set_byte (&e, l.tag[1] + 1 + 2, '\n');
    refused (&e, "tags: a tag is not UTF-8 text or holds control characters",
             "a newline in a tag");
    e = base;
    set_byte (&e, l.tag[0], 0);
    splice (&e, l.tag[0] + 1, 5, NULL, 0);
    refused (&e, "tags: empty tag", "an empty tag");
}

/* --- Signatures ----------------------------------------------------------- */

/* Every single-bit flip of BASE (format 2, decoding to REC), anywhere, and
 * every leaf place outside %x00-1F. */
static void
check_flips (const enc_t *base)
{
    static enc_t e;
    char err[256];
    int rc;
    size_t body = base->len - AUTH_SIZE;

    /* Every single-bit flip, anywhere: in the body, the salt, the leaf place,
     * the path or the root's signature. A flip in the authentication leads
     * to another root, or to another signature of it (bits 5 to 7 of the
     * leaf place make a place outside %x00-1F, malformed or refused alike). */
    size_t wrong = 0, wrong_nv = 0, eperm = 0, eperm_auth = 0, ebadmsg = 0;
    for (size_t i = 0; i < base->len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            int high_leaf = i == body + AUTH_LEAF && bit >= 5;
            e = *base;
            e.buf[i] ^= (uint8_t)(1u << bit);
            rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
            if (rc == -1 && errno == EPERM) {
                eperm++;
                eperm_auth += i >= body && !high_leaf;
            }
            else if (rc == -1 && errno == EBADMSG && (i < body || high_leaf))
                ebadmsg++;
            else if (wrong++ < 5)
                diag ("bit %d of byte %zu: rc %d errno %d (%s)", bit, i, rc, errno, err);
            if (i >= body && !high_leaf) {
                rc = decode_exact (e.buf, e.len, 0, &got, err, sizeof err);
                if ((rc != 0 || record_diff (&got, &rec) != NULL) && wrong_nv++ < 5)
                    diag ("bit %d of authentication byte %zu: rc %d errno %d (%s)", bit,
                          i - body, rc, errno, err);
            }
        }
    }
    cmp_ok (wrong, "==", 0,
            "decode with verify refuses every one of the %zu single-bit flips",
            base->len * 8);
    cmp_ok (eperm_auth, "==", AUTH_SIZE * 8 - 3,
            "every flip in the salt, the leaf place's bits 0 to 4, the path and the "
            "root's signature fails the signature (EPERM)");
    cmp_ok (eperm, ">", eperm_auth,
            "flips the structure allows in the body fail the signature (EPERM)");
    cmp_ok (ebadmsg, ">", 0,
            "flips that break the structure are refused as malformed (EBADMSG)");
    cmp_ok (wrong_nv, "==", 0,
            "decode without verify accepts every flip confined to the authentication");

    /* A leaf place outside %x00-1F: the same root as its low 5 bits would
     * reach, but not a record of format 2 ("leaf = %x00-1F"). */
    size_t high = 0;
    for (unsigned v = base->buf[body + AUTH_LEAF] + SPEC_LEAVES; v < 256;
         v += SPEC_LEAVES) {
        e = *base;
        e.buf[body + AUTH_LEAF] = (uint8_t)v;
        rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
        if (rc == -1 && (errno == EBADMSG || errno == EPERM))
            continue;
        if (high++ < 3)
            diag ("leaf place %u: rc %d errno %d (%s)", v, rc, errno, err);
    }
    cmp_ok (high, "==", 0,
            "decode with verify refuses every leaf place of 32 to 255 with the same low "
            "5 bits");
}

static void
test_signatures (void)
{
    static enc_t base, e;
    char err[256];
    int rc;

    full_record (&rec);
    if (sign_into (&rec, sk_a, &base))
        BAIL_OUT ("cannot sign the full record");
    size_t body = base.len - AUTH_SIZE, sig = base.len - IM_SIG_SIZE;

    rc = decode_exact (base.buf, base.len, 1, &got, err, sizeof err);
    ok (rc == 0, "the untouched record verifies");
    rec = got; /* the record as decoded: tags and recipients sorted */

    check_flips (&base);

    /* Flips the structure allows: EPERM exactly. */
    static const struct {
        size_t off;
        const char *what;
    } fields[] = {
        { OFF_ORIGIN, "the origin" },
        { OFF_ID, "the id" },
        { OFF_VERSION + 7, "the version" },
        { OFF_CONFIDENCE, "the confidence" },
        { OFF_REACH, "the reach" },
        { OFF_CREATED + 7, "the created time" },
        { OFF_MODIFIED + 7, "the modified time" },
        { OFF_VALUE + 2 + 1, "the value" },
    };
    for (size_t i = 0; i < COUNT (fields); i++) {
        e = base;
        e.buf[fields[i].off] ^= 0x01;
        errno = 0;
        rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
        ok (rc == -1 && errno == EPERM && strstr (err, "signature does not verify"),
            "a flipped bit in %s fails the signature with EPERM", fields[i].what);
        errno = 0;
        rc = decode_exact (e.buf, e.len, 0, &got, err, sizeof err);
        ok (rc == 0, "decode without verify accepts the flipped bit in %s",
            fields[i].what);
    }

    /* Signed by another key, claiming A as origin. */
    e = base;
    resign (&e, sk_b);
    errno = 0;
    rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
    ok (rc == -1 && errno == EPERM,
        "a record signed by another key but claiming the origin fails with EPERM");
    ok (strstr (err, "record: origin signature does not verify") != NULL,
        "the error says the origin signature does not verify");
    rc = decode_exact (e.buf, e.len, 0, &got, err, sizeof err);
    ok (rc == 0 && record_diff (&got, &rec) == NULL,
        "decode without verify accepts a record whose only fault is its signature");

    /* B's own record, its origin changed to A and signed again by B. */
    full_record (&other);
    memcpy (other.origin, pk_b, IM_NODE_ID_SIZE);
    ok (sign_into (&other, sk_b, &e) == 0, "B signs its own record");
    accepted (&e, "B's own record");
    memcpy (e.buf + OFF_ORIGIN, pk_a, IM_NODE_ID_SIZE);
    resign (&e, sk_b);
    errno = 0;
    rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
    ok (rc == -1 && errno == EPERM,
        "B's record relabelled with A's origin fails with EPERM");

    /* A zeroed signature, a zeroed authentication and a signature of another
     * batch. */
    e = base;
    memset (e.buf + sig, 0, IM_SIG_SIZE);
    errno = 0;
    rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
    ok (rc == -1 && errno == EPERM, "a zeroed signature fails with EPERM");
    rc = decode_exact (e.buf, e.len, 0, &got, err, sizeof err);
    ok (rc == 0 && record_diff (&got, &rec) == NULL,
        "decode without verify accepts a record with a zeroed signature");
    e = base;
    memset (e.buf + body, 0, AUTH_SIZE);
    errno = 0;
    rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
    ok (rc == -1 && errno == EPERM, "a zeroed batch authentication fails with EPERM");
    static enc_t e2;
    base_record (&other);
    ok (sign_into (&other, sk_a, &e2) == 0, "A signs a second record");
    e = base;
    memcpy (e.buf + sig, e2.buf + e2.len - IM_SIG_SIZE, IM_SIG_SIZE);
    errno = 0;
    rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
    ok (rc == -1 && errno == EPERM,
        "the origin's signature of another batch's root fails with EPERM");
}

/* --- Format 1 ------------------------------------------------------------- */

/* SPEC.md, "Example": the test vector of format 1, signed by the key whose
 * seed is 32 bytes of %x11. */
static const uint8_t spec_vector[197] = {
    0x49, 0x4d, 0x52, 0x01, 0xd0, 0x4a, 0xb2, 0x32, 0x74, 0x2b, 0xb4, 0xab, 0x3a, 0x13,
    0x68, 0xbd, 0x46, 0x15, 0xe4, 0xe6, 0xd0, 0x22, 0x4a, 0xb7, 0x1a, 0x01, 0x6b, 0xaf,
    0x85, 0x20, 0xa3, 0x32, 0xc9, 0x77, 0x87, 0x37, 0x5f, 0x0c, 0x8a, 0x1e, 0x3b, 0x7d,
    0x4c, 0x2a, 0x9e, 0x61, 0x0d, 0x4b, 0x8f, 0x7a, 0x2c, 0x13, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x03, 0x50, 0x02, 0x00, 0x00, 0x00, 0x00, 0x6b,
    0x04, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00, 0x6b, 0x04, 0x1f, 0x80, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6b, 0x36, 0xec, 0x80, 0x00,
    0x0c, 0x31, 0x39, 0x32, 0x2e, 0x30, 0x2e, 0x32, 0x2e, 0x30, 0x2f, 0x32, 0x34, 0x00,
    0x02, 0x43, 0x32, 0x02, 0x06, 0x62, 0x6f, 0x74, 0x6e, 0x65, 0x74, 0x08, 0x70, 0x68,
    0x69, 0x73, 0x68, 0x69, 0x6e, 0x67, 0x00, 0x97, 0xaf, 0x1e, 0x50, 0x0a, 0x95, 0xd9,
    0x37, 0x55, 0x92, 0x87, 0x5d, 0x59, 0xba, 0x47, 0xed, 0x32, 0x31, 0x0f, 0xad, 0x11,
    0x2e, 0x26, 0x4c, 0x3d, 0xfe, 0xc7, 0x0d, 0x43, 0x08, 0xe2, 0x5a, 0x46, 0xcb, 0x55,
    0xdc, 0x08, 0xde, 0xd8, 0x76, 0x16, 0xbc, 0x50, 0xd5, 0xe3, 0x09, 0xca, 0x0b, 0xf9,
    0xe2, 0xfe, 0x47, 0xa2, 0xad, 0xab, 0x8a, 0x9c, 0x36, 0x26, 0x31, 0x67, 0x85, 0xba,
    0x0c,
};
#define SPEC_VECTOR_BODY 133

static uint8_t pk_x[crypto_sign_PUBLICKEYBYTES], sk_x[crypto_sign_SECRETKEYBYTES];

static void
test_format_1 (void)
{
    static enc_t v, e;
    char err[256];
    memcpy (v.buf, spec_vector, sizeof spec_vector);
    v.len = sizeof spec_vector;
    ok (memcmp (spec_vector + OFF_ORIGIN, pk_x, IM_NODE_ID_SIZE) == 0,
        "the SPEC's test vector names the key of seed %%x11 as its origin");
    int rc = decode_exact (v.buf, v.len, 1, &got, err, sizeof err);
    if (!ok (rc == 0, "decode verifies the SPEC's test vector of format 1"))
        diag ("error: %s", err);
    ok (rc == 0 && memcmp (got.id, spec_vector + OFF_ID, IM_ID_SIZE) == 0
            && got.version == 1 && got.op == IM_OP_PUT && got.type == IM_TYPE_IPV4
            && strcmp (got.value, "192.0.2.0/24") == 0 && got.tlp == IM_TLP_AMBER
            && got.confidence == 80 && got.reach == 2 && got.created == 1795432320
            && got.modified == 1795432320 && got.valid_from == 0
            && got.valid_until == 1798761600 && strcmp (got.description, "C2") == 0
            && got.ntags == 2 && strcmp (got.tags[0], "botnet") == 0
            && strcmp (got.tags[1], "phishing") == 0 && got.nrecipients == 0
            && got.no_detect == 0,
        "the test vector holds the SPEC's fields");
    uint8_t sig[IM_SIG_SIZE];
    crypto_sign_detached (sig, NULL, spec_vector, SPEC_VECTOR_BODY, sk_x);
    ok (memcmp (sig, spec_vector + SPEC_VECTOR_BODY, IM_SIG_SIZE) == 0,
        "the test vector's last 64 bytes are the Ed25519 signature of its body");
    rc = sign_into (&got, sk_x, &e);
    ok (rc == 0 && e.len == SPEC_VECTOR_BODY + AUTH_SIZE
            && memcmp (e.buf, "IMR\x02", 4) == 0
            && memcmp (e.buf + 4, spec_vector + 4, SPEC_VECTOR_BODY - 4) == 0,
        "signed again, the vector's record is of format 2, with the same body after "
        "its magic");
    accepted (&e, "the vector's record signed in format 2");

    e = v;
    e.buf[SPEC_VECTOR_BODY + 10] ^= 0x04;
    errno = 0;
    rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
    ok (rc == -1 && errno == EPERM && strstr (err, "signature does not verify"),
        "a format-1 record with a flipped signature bit is refused (EPERM)");
    ok (decode_exact (e.buf, e.len, 0, &got, err, sizeof err) == 0,
        "decode without verify accepts it");
    size_t wrong = 0;
    for (size_t i = 0; i < v.len * 8; i++) {
        e = v;
        e.buf[i / 8] ^= (uint8_t)(1u << (i % 8));
        rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
        if ((rc != -1 || (errno != EPERM && errno != EBADMSG)) && wrong++ < 5)
            diag ("bit %zu of byte %zu: rc %d errno %d (%s)", i % 8, i / 8, rc, errno,
                  err);
    }
    cmp_ok (wrong, "==", 0,
            "decode with verify refuses every one of the %zu single-bit flips of the "
            "test vector",
            v.len * 8);

    e = v;
    e.buf[OFF_CONFIDENCE] = 81;
    resign (&e, sk_x);
    rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
    ok (rc == 0 && got.confidence == 81,
        "a format-1 record changed and signed again by its origin verifies");
    resign (&e, sk_b);
    errno = 0;
    rc = decode_exact (e.buf, e.len, 1, &got, err, sizeof err);
    ok (rc == -1 && errno == EPERM, "a format-1 record signed by another key is refused");
    e = v;
    splice (&e, SPEC_VECTOR_BODY, 0, "\0", 1);
    refused (&e, "record: 1 trailing bytes", "a format-1 record with a trailing byte");
    e = v;
    e.buf[OFF_FORMAT] = 2;
    refused (&e, "not a possible size", "the test vector relabelled format 2");
    errno = 0;
    rc = decode_exact (v.buf, MIN_SIZE_1 - 1, 0, &got, err, sizeof err);
    ok (rc == -1 && errno == EBADMSG && strstr (err, "not a possible size"),
        "decode refuses one byte less than the smallest record of format 1 by its size");
}

/* --- Batches through the record layer ------------------------------------- */

/* Two batches of records of origin A: record i of batch TAG has id ..TAG i
 * and the value hostI.evil.example. */
static enc_t batch_a[IM_BATCH_MAX], batch_b[IM_BATCH_MAX];

static void
encode_batch (enc_t *b, size_t n, uint8_t tag)
{
    char err[256];
    for (size_t i = 0; i < n; i++) {
        base_record (&rec);
        rec.id[14] = tag;
        rec.id[15] = (uint8_t)i;
        snprintf (rec.value, sizeof rec.value, "host%zu.evil.example", i);
        if (im_record_encode (&rec, b[i].buf, sizeof b[i].buf, &b[i].len, err,
                              sizeof err))
            BAIL_OUT ("encode: %s", err);
    }
}

/* im_record_seal of the N records of B with SK. */
static int
seal_batch (enc_t *b, size_t n, const uint8_t *sk, char *err, size_t errsz)
{
    uint8_t *recs[IM_BATCH_MAX + 1];
    size_t lens[IM_BATCH_MAX + 1];
    for (size_t i = 0; i < n && i <= IM_BATCH_MAX; i++) {
        recs[i] = b[i].buf;
        lens[i] = b[i].len;
    }
    err[0] = '\0';
    errno = 0;
    return im_record_seal (recs, lens, n, sk, err, errsz);
}

/* How many of the N records of B decode_cached refuses (CACHE may be NULL). */
static size_t
refused_of (const enc_t *b, size_t n, im_batch_cache_t *cache)
{
    char err[256];
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (im_record_decode_cached (b[i].buf, b[i].len, cache, &got, err, sizeof err)
            && bad++ < 3)
            diag ("record %zu: %s", i, err);
    return bad;
}

/* The record at leaf place P of the full batch B. */
static const enc_t *
at_place (const enc_t *b, unsigned p)
{
    for (size_t i = 0; i < IM_BATCH_MAX; i++)
        if (b[i].buf[b[i].len - AUTH_SIZE + AUTH_LEAF] == p)
            return &b[i];
    return NULL;
}

/* The tree of a full batch, seen from its records by the SPEC's rules: the
 * 32 leaves take the 32 places, all lead to one root, and each path holds its
 * sibling leaf and the node above its sibling pair. */
static void
check_full_batch (const enc_t *b)
{
    uint32_t places = 0;
    size_t wrong = 0, salts = 0;
    uint8_t root0[SPEC_HASH], root[SPEC_HASH];
    for (size_t i = 0; i < IM_BATCH_MAX; i++) {
        const uint8_t *auth = b[i].buf + b[i].len - AUTH_SIZE;
        places |= (uint32_t)1 << (auth[AUTH_LEAF] & 31);
        if (spec_root (&b[i], i ? root : root0) || (i && memcmp (root, root0, SPEC_HASH))
            || !spec_verifies (&b[i], pk_a)
            || memcmp (auth + AUTH_SIG, b[0].buf + b[0].len - IM_SIG_SIZE, IM_SIG_SIZE))
            wrong++;
        for (size_t j = 0; j < i; j++)
            salts += memcmp (auth, b[j].buf + b[j].len - AUTH_SIZE, SPEC_SALT) == 0;
    }
    ok (places == UINT32_MAX, "the 32 records of a batch take the 32 leaf places");
    cmp_ok (wrong, "==", 0,
            "by the SPEC's rules, each record leads to one root, whose signature by the "
            "origin each carries");
    cmp_ok (salts, "==", 0, "each record of the batch has its own salt");
    size_t bad_leaf = 0, bad_node = 0;
    for (unsigned p = 0; p < IM_BATCH_MAX; p++) {
        const enc_t *r = at_place (b, p);
        const uint8_t *path = r->buf + r->len - AUTH_SIZE + AUTH_PATH;
        uint8_t leaf[2][SPEC_HASH], node[SPEC_HASH];
        for (unsigned k = 0; k < 2; k++) {
            const enc_t *s = at_place (b, ((p >> 1) ^ 1) * 2 + k);
            spec_leaf (leaf[k], s->buf + s->len - AUTH_SIZE, s->buf, s->len - AUTH_SIZE);
        }
        spec_node (node, leaf[0], leaf[1]);
        const enc_t *s = at_place (b, p ^ 1);
        spec_leaf (leaf[0], s->buf + s->len - AUTH_SIZE, s->buf, s->len - AUTH_SIZE);
        bad_leaf += memcmp (path, leaf[0], SPEC_HASH) != 0;
        bad_node += memcmp (path + SPEC_HASH, node, SPEC_HASH) != 0;
    }
    cmp_ok (bad_leaf, "==", 0,
            "each record's first path hash is its sibling's leaf, H(%%x00 salt body)");
    cmp_ok (bad_node, "==", 0,
            "each record's second path hash is H(%%x01 left right) of the next pair of "
            "leaves");
}

static void
test_batch_seal (void)
{
    static enc_t e, one[IM_BATCH_MAX + 1];
    char err[256];
    encode_batch (batch_a, IM_BATCH_MAX, 0xa0);
    ok (seal_batch (batch_a, IM_BATCH_MAX, sk_a, err, sizeof err) == 0,
        "seal signs 32 encoded records as one batch");
    cmp_ok (refused_of (batch_a, IM_BATCH_MAX, NULL), "==", 0,
            "each of the 32 records of the batch verifies alone");
    check_full_batch (batch_a);

    /* The SPEC's sealing, for im_record_decode: alone at each leaf place, and
     * two records of one batch as siblings and as far apart as can be. */
    size_t bad = 0;
    for (unsigned p = 0; p < SPEC_LEAVES; p++) {
        enc_t *ep = &e;
        uint8_t place = (uint8_t)p;
        e = batch_a[p];
        spec_seal (&ep, 1, &place, sk_a);
        bad += refused_of (&e, 1, NULL);
    }
    cmp_ok (
        bad, "==", 0,
        "a record sealed alone by the SPEC's rules verifies at each of the 32 places");
    static const uint8_t pairs[][2] = { { 6, 7 }, { 0, 31 }, { 31, 0 }, { 12, 13 } };
    for (size_t i = 0; i < COUNT (pairs); i++) {
        enc_t *two[2] = { &one[0], &one[1] };
        one[0] = batch_a[0];
        one[1] = batch_a[1];
        spec_seal (two, 2, pairs[i], sk_a);
        cmp_ok (refused_of (one, 2, NULL), "==", 0,
                "two records sealed by the SPEC's rules at places %u and %u both verify",
                pairs[i][0], pairs[i][1]);
    }
    base_record (&rec);
    ok (sign_into (&rec, sk_a, &one[0]) == 0 && refused_of (one, 1, NULL) == 0
            && spec_verifies (&one[0], pk_a),
        "a record signed by im_record_sign verifies, by im_record_decode and by the "
        "SPEC's rules");

    /* Refusals. */
    encode_batch (one, IM_BATCH_MAX + 1, 0xc0);
    ok (seal_batch (one, 0, sk_a, err, sizeof err) == -1 && errno == EINVAL
            && strstr (err, "1 to 32 records"),
        "seal refuses 0 records: '%s'", err);
    ok (seal_batch (one, IM_BATCH_MAX + 1, sk_a, err, sizeof err) == -1 && errno == EINVAL
            && strstr (err, "1 to 32 records"),
        "seal refuses 33 records");
    uint8_t *recs[1] = { one[0].buf };
    ok (im_record_seal (NULL, &one[0].len, 1, sk_a, err, sizeof err) == -1
            && errno == EINVAL
            && im_record_seal (recs, NULL, 1, sk_a, err, sizeof err) == -1
            && errno == EINVAL
            && im_record_seal (recs, &one[0].len, 1, NULL, NULL, 0) == -1
            && errno == EINVAL,
        "seal refuses a NULL list, lengths or key");
    base_record (&rec);
    memcpy (rec.origin, pk_b, IM_NODE_ID_SIZE);
    if (im_record_encode (&rec, one[5].buf, sizeof one[5].buf, &one[5].len, err,
                          sizeof err))
        BAIL_OUT ("encode: %s", err);
    ok (seal_batch (one, 8, sk_a, err, sizeof err) == -1 && errno == EINVAL
            && strstr (err, "origin"),
        "seal refuses a batch holding a record of another origin: '%s'", err);
    static const uint8_t zeros[AUTH_SIZE];
    bad = 0;
    for (size_t i = 0; i < 8; i++)
        bad += memcmp (one[i].buf + one[i].len - AUTH_SIZE, zeros, AUTH_SIZE) != 0;
    cmp_ok (bad, "==", 0, "a refused seal writes no authentication");
    ok (seal_batch (&one[5], 1, sk_b, err, sizeof err) == 0
            && refused_of (&one[5], 1, NULL) == 0,
        "that record's own origin seals it");
    one[6].buf[OFF_FORMAT] = 1;
    ok (seal_batch (&one[6], 1, sk_a, err, sizeof err) == -1 && errno == EINVAL
            && strstr (err, "not an encoded record"),
        "seal refuses a record of format 1");
    one[7].len = IM_RECORD_FIXED + AUTH_SIZE - 1;
    ok (seal_batch (&one[7], 1, sk_a, err, sizeof err) == -1 && errno == EINVAL
            && strstr (err, "not an encoded record"),
        "seal refuses a record too short to hold the fixed part and an authentication");
}

/* The tree of a batch verified: the record at the leaf beside a verified
 * record's needs no hash above its leaf, and the same record with a path
 * that leaves the tree above its leaf is refused. */
static void
test_batch_tree (void)
{
    static enc_t e;
    char err[256];
    uint64_t v0, h0, verified, hits;
    im_batch_cache_t *cache = im_batch_cache_new (IM_BATCH_CACHE_DEFAULT);
    if (!cache)
        BAIL_OUT ("cache_new: %s", strerror (errno));
    cmp_ok (refused_of (batch_a, 1, cache), "==", 0, "a batch's first record verifies");
    const uint8_t *auth0 = batch_a[0].buf + batch_a[0].len - AUTH_SIZE;
    size_t mate = IM_BATCH_MAX;
    for (size_t i = 1; i < IM_BATCH_MAX; i++)
        if (batch_a[i].buf[batch_a[i].len - AUTH_SIZE + AUTH_LEAF]
            == (auth0[AUTH_LEAF] ^ 1))
            mate = i;
    if (mate == IM_BATCH_MAX)
        BAIL_OUT ("no record at the leaf beside the first's");
    static const int levels[] = { 0, 1, 3, SPEC_DEPTH - 1 };
    for (size_t i = 0; i < COUNT (levels); i++) {
        e = batch_a[mate];
        e.buf[e.len - AUTH_SIZE + AUTH_PATH + levels[i] * SPEC_HASH + 9] ^= 0x40;
        im_batch_cache_stats (cache, &v0, &h0);
        errno = 0;
        ok (im_record_decode_cached (e.buf, e.len, cache, &got, err, sizeof err) == -1
                && errno == EPERM,
            "the record at the leaf beside it, its leaf known, with the path hash of "
            "level %d changed, is refused",
            levels[i]);
        im_batch_cache_stats (cache, &verified, &hits);
        ok (verified == v0 && hits == h0,
            "... and nothing is counted verified or cached");
    }
    e = batch_a[mate];
    e.buf[OFF_CREATED + 7] ^= 0x01;
    errno = 0;
    ok (im_record_decode_cached (e.buf, e.len, cache, &got, err, sizeof err) == -1
            && errno == EPERM,
        "its body with a bit of its time changed, the path as sealed, is refused");
    uint64_t hashes = im_batch_cache_hashes (cache);
    im_batch_cache_stats (cache, &v0, &h0);
    ok (im_record_decode_cached (batch_a[mate].buf, batch_a[mate].len, cache, &got, err,
                                 sizeof err)
            == 0,
        "the record at the leaf beside it, as sealed, verifies");
    im_batch_cache_stats (cache, &verified, &hits);
    ok (verified == v0 && hits == h0 + 1 && im_batch_cache_hashes (cache) == hashes,
        "... from the tree, without a signature or a hash above its leaf");
    const uint8_t *body = batch_a[mate].buf;
    size_t blen = batch_a[mate].len - AUTH_SIZE;
    e = batch_a[mate];
    static const uint8_t far[] = { IM_BATCH_MAX, IM_BATCH_MAX + 1, 255 };
    for (size_t i = 0; i < COUNT (far); i++) {
        e.buf[blen + AUTH_LEAF] = far[i];
        errno = 0;
        ok (im_batch_verify (e.buf, blen, e.buf + blen, pk_a, cache) == -1
                && errno == EPERM,
            "batch_verify refuses leaf place %u, past the tree's %d leaves", far[i],
            IM_BATCH_MAX);
    }
    errno = 0;
    ok (im_batch_verify (body, blen, body + blen, pk_b, cache) == -1 && errno == EPERM,
        "the same record for another origin's key is refused: trees are the origin's");
    im_batch_cache_destroy (&cache);
}

static void
test_batch_cache (void)
{
    static enc_t e, v;
    char err[256];
    uint64_t verified = 99, hits = 99;
    im_batch_cache_t *cache = NULL;
    static const size_t bad_slots[] = { 0, ((size_t)1 << 20) + 1, SIZE_MAX };
    for (size_t i = 0; i < COUNT (bad_slots); i++) {
        errno = 0;
        ok (im_batch_cache_new (bad_slots[i]) == NULL && errno == EINVAL,
            "cache_new refuses %zu slots (EINVAL)", bad_slots[i]);
    }
    cache = im_batch_cache_new ((size_t)1 << 20);
    ok (cache != NULL, "cache_new takes 2^20 slots");
    im_batch_cache_destroy (&cache);
    ok (cache == NULL, "cache_destroy clears the pointer");
    im_batch_cache_destroy (&cache);
    im_batch_cache_destroy (NULL);
    ok (1, "cache_destroy of NULL, and of a NULL pointer, does nothing");
    im_batch_cache_stats (NULL, &verified, &hits);
    ok (verified == 0 && hits == 0, "a NULL cache counts nothing");

    cache = im_batch_cache_new (IM_BATCH_CACHE_DEFAULT);
    if (!cache)
        BAIL_OUT ("cache_new: %s", strerror (errno));
    encode_batch (batch_a, IM_BATCH_MAX, 0xa1);
    encode_batch (batch_b, IM_BATCH_MAX, 0xb1);
    if (seal_batch (batch_a, IM_BATCH_MAX, sk_a, err, sizeof err)
        || seal_batch (batch_b, IM_BATCH_MAX, sk_a, err, sizeof err))
        BAIL_OUT ("seal: %s", err);
    cmp_ok (refused_of (batch_a, IM_BATCH_MAX, cache), "==", 0,
            "decode_cached accepts the 32 records of a batch");
    im_batch_cache_stats (cache, &verified, &hits);
    ok (verified == 1 && hits == 31,
        "one signature verified for the batch, 31 answered from the cache (%llu, %llu)",
        (unsigned long long)verified, (unsigned long long)hits);
    cmp_ok ((long long)im_batch_cache_hashes (cache), "<=", 31,
            "they cost at most 31 hashes above their leaves, each node of the tree "
            "once (5 each without the tree of the batch: 160)");
    cmp_ok (refused_of (batch_b, 1, cache) + refused_of (batch_a, 1, cache), "==", 0,
            "two records from different batches both verify");
    im_batch_cache_stats (cache, &verified, &hits);
    ok (verified == 2 && hits == 32,
        "the second batch's root is verified once (%llu, %llu)",
        (unsigned long long)verified, (unsigned long long)hits);

    size_t body = batch_a[3].len - AUTH_SIZE;
    e = batch_a[3];
    memcpy (e.buf + body, batch_b[7].buf + batch_b[7].len - AUTH_SIZE, AUTH_SIZE);
    errno = 0;
    ok (im_record_decode_cached (e.buf, e.len, cache, &got, err, sizeof err) == -1
            && errno == EPERM && strstr (err, "signature does not verify"),
        "a record moved to another batch is refused");
    e = batch_a[3];
    e.buf[body + AUTH_LEAF] = batch_a[4].buf[body + AUTH_LEAF];
    errno = 0;
    ok (im_record_decode_cached (e.buf, e.len, cache, &got, err, sizeof err) == -1
            && errno == EPERM,
        "a record moved to another leaf place of its batch is refused");
    for (int k = 0; k < 2; k++) {
        e = batch_a[4];
        e.buf[body + AUTH_PATH + 2 * SPEC_HASH + 5] ^= 0x10;
        errno = 0;
        ok (im_record_decode_cached (e.buf, e.len, cache, &got, err, sizeof err) == -1
                && errno == EPERM,
            "a tampered sibling hash is refused, its batch root in the cache (%d)",
            k + 1);
    }
    e = batch_a[5];
    e.buf[e.len - 1] ^= 0x01;
    errno = 0;
    ok (im_record_decode_cached (e.buf, e.len, cache, &got, err, sizeof err) == -1
            && errno == EPERM,
        "a cached root with another signature is refused");
    im_batch_cache_stats (cache, &verified, &hits);
    ok (verified == 2 && hits == 32, "refused records add nothing to the cache");
    ok (refused_of (batch_a, IM_BATCH_MAX, NULL) == 0,
        "decode_cached without a cache verifies each record");

    memcpy (v.buf, spec_vector, sizeof spec_vector);
    v.len = sizeof spec_vector;
    cmp_ok (refused_of (&v, 1, cache), "==", 0, "decode_cached verifies format 1 too");
    v.buf[SPEC_VECTOR_BODY] ^= 0x01;
    errno = 0;
    ok (im_record_decode_cached (v.buf, v.len, cache, &got, err, sizeof err) == -1
            && errno == EPERM,
        "decode_cached refuses a format-1 record with a flipped signature bit");
    errno = 0;
    ok (im_record_decode_cached (batch_a[0].buf, 100, cache, &got, err, sizeof err) == -1
            && errno == EBADMSG,
        "decode_cached refuses a truncated record (EBADMSG)");
    errno = 0;
    ok (im_record_decode_cached (NULL, 400, cache, &got, err, sizeof err) == -1
            && errno == EINVAL,
        "decode_cached refuses a NULL buffer");
    im_batch_cache_destroy (&cache);
    test_batch_tree ();

    /* Asked for one slot, a cache has one set of 4: four roots stay, a
     * fifth evicts the oldest. */
    static enc_t single[5];
    encode_batch (single, 5, 0x77);
    for (size_t i = 0; i < 5; i++)
        if (seal_batch (&single[i], 1, sk_a, err, sizeof err))
            BAIL_OUT ("seal: %s", err);
    cache = im_batch_cache_new (1);
    refused_of (single, 4, cache);
    refused_of (single, 4, cache);
    im_batch_cache_stats (cache, &verified, &hits);
    ok (verified == 4 && hits == 4,
        "a cache asked for one slot keeps 4 roots (%llu verified, %llu hits)",
        (unsigned long long)verified, (unsigned long long)hits);
    refused_of (&single[4], 1, cache);
    refused_of (single, 1, cache);
    im_batch_cache_stats (cache, &verified, &hits);
    ok (verified == 6 && hits == 4,
        "a fifth root evicts the oldest, which is verified again (%llu, %llu)",
        (unsigned long long)verified, (unsigned long long)hits);
    im_batch_cache_destroy (&cache);
}

/* --- A hostile peer against batches (red team) ---------------------------- */

/* Whether the format-2 record E decodes and verifies with CACHE (may be
 * NULL); the reason in ERR. */
static int
takes (const enc_t *e, im_batch_cache_t *cache, char *err, size_t errsz)
{
    return im_record_decode_cached (e->buf, e->len, cache, &got, err, errsz) == 0;
}

/* S + L, the Ed25519 group order, added to the S half of SIG: the same
 * signature in a second, non-canonical form (S < L, so S + L < 2^254). */
static void
malleate (uint8_t sig[64])
{
    static const uint8_t order[32]
        = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
            0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10 };
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        unsigned s = (unsigned)sig[32 + i] + order[i] + carry;
        sig[32 + i] = (uint8_t)s;
        carry = s >> 8;
    }
}

static void
test_batch_forge (void)
{
    static enc_t mine, theirs, e, f;
    char err[256];
    uint64_t verified, hits, v0, h0;
    im_batch_cache_t *cache = im_batch_cache_new (IM_BATCH_CACHE_DEFAULT);
    if (!cache)
        BAIL_OUT ("cache_new: %s", strerror (errno));

    /* B (the attacker) seals one tree holding a record of its own and a
     * body of A's: B's own verifies and its root enters the cache; A's body
     * under B's root and signature does not. */
    base_record (&rec);
    memcpy (rec.origin, pk_b, IM_NODE_ID_SIZE);
    strcpy (rec.value, "attacker.example");
    base_record (&other);
    strcpy (other.value, "victim.example");
    if (im_record_encode (&rec, mine.buf, sizeof mine.buf, &mine.len, err, sizeof err)
        || im_record_encode (&other, theirs.buf, sizeof theirs.buf, &theirs.len, err,
                             sizeof err))
        BAIL_OUT ("encode: %s", err);
    enc_t *two[2] = { &mine, &theirs };
    uint8_t places[2] = { 6, 7 }; /* siblings */
    spec_seal (two, 2, places, sk_b);
    ok (takes (&mine, cache, err, sizeof err), "B's own record under B's root verifies");
    ok (!takes (&theirs, cache, err, sizeof err) && errno == EPERM,
        "A's body in the same tree, under B's root and signature, is refused: %s", err);
    ok (!takes (&theirs, NULL, err, sizeof err) && errno == EPERM,
        "... and refused without a cache");
    e = theirs; /* A's body relabelled B after sealing: another leaf hash */
    memcpy (e.buf + OFF_ORIGIN, pk_b, IM_NODE_ID_SIZE);
    ok (!takes (&e, cache, err, sizeof err) && errno == EPERM,
        "A's record relabelled with B's origin after B sealed it is refused");

    /* The same root for another origin: B signs the root of A's genuine
     * record and gets (B, root, B's signature) into the cache through the
     * verifier itself; A's record carrying B's signature is still refused. */
    base_record (&rec);
    if (sign_into (&rec, sk_a, &e))
        BAIL_OUT ("sign");
    ok (takes (&e, cache, err, sizeof err), "A's genuine record verifies");
    size_t body = e.len - AUTH_SIZE;
    uint8_t msg[4 + SPEC_HASH];
    memcpy (msg, "IMB\x02", 4);
    spec_root (&e, msg + 4);
    f = e;
    crypto_sign_detached (f.buf + f.len - 64, NULL, msg, sizeof msg, sk_b);
    ok (im_batch_verify (f.buf, body, f.buf + body, pk_b, cache) == 0,
        "the verifier accepts A's root signed by B when asked for B's key (now cached)");
    im_batch_cache_stats (cache, &v0, &h0);
    ok (!takes (&f, cache, err, sizeof err) && errno == EPERM,
        "A's record with B's signature of the same root is refused: %s", err);
    im_batch_cache_stats (cache, &verified, &hits);
    ok (hits == h0 && verified == v0, "... and it is no cache hit");

    /* The same root with its signature in a second (non-canonical) form. */
    f = e;
    malleate (f.buf + f.len - 64);
    ok (!takes (&f, cache, err, sizeof err) && errno == EPERM,
        "A's cached root with the signature's S + L is refused (non-canonical)");
    ok (!takes (&f, NULL, err, sizeof err) && errno == EPERM, "... and without a cache");

    /* Another record's authentication of the same batch, and its salt or
     * path alone: the root is signed, the record is not where it leads. */
    encode_batch (batch_a, 4, 0xd0);
    if (seal_batch (batch_a, 4, sk_a, err, sizeof err))
        BAIL_OUT ("seal: %s", err);
    cmp_ok (refused_of (batch_a, 4, cache), "==", 0, "A's batch of 4 verifies");
    static const struct {
        size_t off, len;
        const char *what;
    } parts[] = {
        { 0, AUTH_SIZE, "its batch-mate's whole authentication" },
        { 0, SPEC_SALT, "its batch-mate's salt" },
        { AUTH_LEAF, 1, "its batch-mate's leaf place" },
        { AUTH_PATH, SPEC_DEPTH * SPEC_HASH, "its batch-mate's path" },
        { AUTH_LEAF, 1 + SPEC_DEPTH * SPEC_HASH, "its batch-mate's place and path" },
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        e = batch_a[0];
        const enc_t *m = &batch_a[1];
        memcpy (e.buf + e.len - AUTH_SIZE + parts[i].off,
                m->buf + m->len - AUTH_SIZE + parts[i].off, parts[i].len);
        ok (!takes (&e, cache, err, sizeof err) && errno == EPERM,
            "a record with %s is refused, the root in the cache", parts[i].what);
    }

    /* Every single-bit change of a record of format 2, body and
     * authentication, with its root in the cache: none is taken, and none
     * is answered from the cache. */
    e = batch_a[2];
    im_batch_cache_stats (cache, &v0, &h0);
    size_t taken = 0, flips = e.len * 8;
    for (size_t i = 0; i < flips; i++) {
        f = e;
        f.buf[i / 8] ^= (uint8_t)(1u << (i % 8));
        if (takes (&f, cache, err, sizeof err) && taken++ < 3)
            diag ("bit %zu of byte %zu taken", i % 8, i / 8);
    }
    im_batch_cache_stats (cache, &verified, &hits);
    cmp_ok (taken, "==", 0, "none of the %zu single-bit changes of a record is taken",
            flips);
    cmp_ok (hits, "==", h0, "none is answered from the cache of verified roots");
    ok (takes (&e, cache, err, sizeof err), "the record itself still is");
    im_batch_cache_destroy (&cache);
}

/* Made-up roots flood the cache: each costs one verification, no more, and
 * an honest root evicted costs one verification again, nothing else. */
static void
test_batch_flood (void)
{
    char err[256];
    uint64_t verified, hits, v0, h0;
    im_batch_cache_t *cache = im_batch_cache_new (IM_BATCH_CACHE_DEFAULT);
    if (!cache)
        BAIL_OUT ("cache_new: %s", strerror (errno));
    encode_batch (batch_a, IM_BATCH_MAX, 0xe0);
    if (seal_batch (batch_a, IM_BATCH_MAX, sk_a, err, sizeof err))
        BAIL_OUT ("seal: %s", err);
    cmp_ok (refused_of (batch_a, 16, cache), "==", 0,
            "an honest batch's first 16 verify");
    enum { FLOOD = 3 * IM_BATCH_CACHE_DEFAULT };
    uint8_t body[64], auth[IM_BATCH_AUTH], pk[32], sk[64];
    const uint8_t *bodies[1] = { body };
    size_t lens[1] = { sizeof body };
    uint8_t *auths[1] = { auth };
    size_t wrong = 0, costly = 0;
    im_batch_cache_stats (cache, &v0, &h0);
    for (size_t i = 0; i < FLOOD; i++) {
        if (i % 32 == 0) /* a made-up origin every 32 roots */
            crypto_sign_keypair (pk, sk);
        randombytes_buf (body, sizeof body);
        uint64_t before, after;
        im_batch_cache_stats (cache, &before, NULL);
        wrong += im_batch_seal (bodies, lens, 1, sk, auths) != 0
                 || im_batch_verify (body, sizeof body, auth, pk, cache) != 0;
        im_batch_cache_stats (cache, &after, NULL);
        costly += after - before != 1;
    }
    im_batch_cache_stats (cache, &verified, &hits);
    cmp_ok (wrong, "==", 0, "%d made-up roots of %d made-up origins all verify", FLOOD,
            FLOOD / 32);
    ok (costly == 0 && verified - v0 == FLOOD && hits == h0,
        "each cost exactly one verification (%llu for %d)",
        (unsigned long long)(verified - v0), FLOOD);
    cmp_ok (refused_of (batch_a + 16, 16, cache), "==", 0,
            "the honest batch's other 16 still verify after the flood");
    uint64_t v1;
    im_batch_cache_stats (cache, &v1, NULL);
    ok (v1 - verified <= 1, "at the cost of at most one verification more (%llu)",
        (unsigned long long)(v1 - verified));
    im_batch_cache_destroy (&cache);
}

/* Chi-square of COUNTS (N bins) against the uniform distribution. */
static double
chi2 (const size_t *counts, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += counts[i];
    double want = (double)total / (double)n, sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ((double)counts[i] - want) * ((double)counts[i] - want) / want;
    return sum;
}

/* What a receiver sees of a batch (leaf places and paths) does not depend on
 * how many records the batch holds. */
static void
test_batch_leak (void)
{
    enum { ROUNDS = 3200 };
    uint8_t bodies_buf[IM_BATCH_MAX][48], auth[IM_BATCH_MAX][IM_BATCH_AUTH], pk[32],
        sk[64];
    const uint8_t *bodies[IM_BATCH_MAX];
    size_t lens[IM_BATCH_MAX];
    uint8_t *auths[IM_BATCH_MAX];
    for (size_t i = 0; i < IM_BATCH_MAX; i++) {
        memset (bodies_buf[i], (int)i, sizeof bodies_buf[i]); /* low entropy */
        bodies[i] = bodies_buf[i];
        lens[i] = sizeof bodies_buf[i];
        auths[i] = auth[i];
    }
    crypto_sign_keypair (pk, sk);
    static const size_t sizes[] = { 1, 2, 31 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t place[IM_BATCH_MAX] = { 0 }, bytes[256] = { 0 },
               last[IM_BATCH_MAX] = { 0 };
        for (size_t r = 0; r < ROUNDS; r++) {
            if (im_batch_seal (bodies, lens, sizes[s], sk, auths))
                BAIL_OUT ("seal: %s", strerror (errno));
            place[auth[0][IM_BATCH_SALT]]++;
            last[auth[sizes[s] - 1][IM_BATCH_SALT]]++;
            for (size_t k = 0; k < IM_BATCH_DEPTH * IM_BATCH_HASH; k++)
                bytes[auth[0][IM_BATCH_SALT + 1 + k]]++;
        }
        /* 31 degrees of freedom: P(chi2 > 100) < 1e-8; 255: P(> 400) < 1e-8. */
        double cp = chi2 (place, IM_BATCH_MAX), cl = chi2 (last, IM_BATCH_MAX),
               cb = chi2 (bytes, 256);
        ok (cp < 100 && cl < 100,
            "in batches of %zu, the first and last records' leaf places are uniform "
            "(chi2 %.1f, %.1f, 31 d.f.)",
            sizes[s], cp, cl);
        ok (cb < 400,
            "in batches of %zu, the path bytes a receiver sees are uniform (chi2 %.1f, "
            "255 d.f.)",
            sizes[s], cb);
    }
    /* The same low-entropy body sealed twice: nothing in common. */
    uint8_t again[IM_BATCH_AUTH];
    uint8_t *one[1] = { again };
    if (im_batch_seal (bodies, lens, 1, sk, one))
        BAIL_OUT ("seal");
    uint8_t r1[IM_BATCH_HASH], r2[IM_BATCH_HASH];
    im_batch_root (bodies[0], lens[0], auth[0], r1);
    im_batch_root (bodies[0], lens[0], again, r2);
    size_t common = 0;
    for (size_t k = 0; k + 8 <= IM_BATCH_AUTH - IM_BATCH_SIG; k += 8)
        common += memcmp (again + k, auth[0] + k, 8) == 0;
    ok (memcmp (r1, r2, IM_BATCH_HASH) != 0 && common == 0,
        "the same body sealed twice has other salts, paths and roots");
}

/* --- JSON ----------------------------------------------------------------- */

#define HEX_AB "abababababababababababababababababababababababababababababababab"
#define HEX_AB_UP "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB"
#define HEX_01 "0101010101010101010101010101010101010101010101010101010101010101"

typedef struct {
    const char *json;
    int type;
    const char *value;
    int tlp, confidence, reach;
    const char *tags; /* comma-separated, in the order kept */
    const char *description;
    int64_t valid_from, valid_until;
    size_t nrecipients;
} json_good_t;

typedef struct {
    const char *json;
    const char *why;
} json_bad_t;

static const json_good_t json_good[] = {
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\"}", IM_TYPE_IPV4, "192.0.2.1",
      IM_TLP_GREEN, 50, 255, "", "", 0, 0, 0 },
    { "{\"type\":\"Domain\",\"value\":\"Evil.Example.\"}", IM_TYPE_DOMAIN, "evil.example",
      IM_TLP_GREEN, 50, 255, "", "", 0, 0, 0 },
    { "{\"type\":\"url\",\"value\":\"HTTP://Evil.Example/X\","
      "\"tlp\":\"TLP:AMBER+STRICT\",\"confidence\":0,\"reach\":0,"
      "\"tags\":[\"phish\",\"apt\",\"phish\"],"
      "\"description\":\"two\\nlines \\u00e9\\tok\","
      "\"valid_from\":\"2026-01-01T00:00:00Z\",\"valid_until\":\"30d\","
      "\"recipients\":[\"" HEX_AB "\",\"" HEX_AB_UP "\",\"" HEX_01 "\"]}",
      IM_TYPE_URL, "http://evil.example/X", IM_TLP_AMBER_STRICT, 0, 0, "phish,apt",
      "two\nlines \xc3\xa9\tok", NOW, NOW + 30 * 86400, 2 },
    { "{\"type\":\"sha256\",\"value\":"
      "\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\","
      "\"tlp\":\"white\",\"confidence\":100,\"reach\":\"unlimited\","
      "\"valid_from\":\"45s\",\"valid_until\":\"+2w\"}",
      IM_TYPE_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      IM_TLP_CLEAR, 100, 255, "", "", NOW + 45, NOW + 14 * 86400, 0 },
    { "{\"type\":\"asn\",\"value\":\"as64512\",\"reach\":254,"
      "\"valid_from\":1700000000,\"valid_until\":\"2026-06-01\"}",
      IM_TYPE_ASN, "AS64512", IM_TLP_GREEN, 50, 254, "", "", 1700000000, 1780272000, 0 },
    { "{\"type\":\"email\",\"value\":\"User@Example.COM\","
      "\"tlp\":null,\"confidence\":null,\"reach\":null,\"tags\":null,"
      "\"description\":null,\"valid_from\":null,\"valid_until\":null,"
      "\"recipients\":null}",
      IM_TYPE_EMAIL, "User@example.com", IM_TLP_GREEN, 50, 255, "", "", 0, 0, 0 },
    { "{\"type\":\"filename\",\"value\":\"invoice.pdf.exe\","
      "\"tags\":[],\"recipients\":[],\"description\":\"\",\"tlp\":\"red\"}",
      IM_TYPE_FILENAME, "invoice.pdf.exe", IM_TLP_RED, 50, 255, "", "", 0, 0, 0 },
    { "{\"type\":\"ipv6\",\"value\":\"2001:DB8::1\",\"tlp\":\"amber\","
      "\"valid_from\":\"90m\",\"valid_until\":\"12h\","
      "\"tags\":[\"\\u00e9t\\u00e9\",\"Zeta\"]}",
      IM_TYPE_IPV6, "2001:db8::1", IM_TLP_AMBER, 50, 255, "\xc3\xa9t\xc3\xa9,Zeta", "",
      NOW + 90 * 60, NOW + 12 * 3600, 0 },
    { "{\"type\":\"MD5\",\"value\":\"d41d8cd98f00b204e9800998ecf8427e\","
      "\"valid_from\":\"2025-12-31T18:30:00-05:30\","
      "\"valid_until\":\"2026-01-01T03:00:00+02:00\"}",
      IM_TYPE_MD5, "d41d8cd98f00b204e9800998ecf8427e", IM_TLP_GREEN, 50, 255, "", "", NOW,
      NOW + 3600, 0 },
    { "{\"type\":\"sha1\",\"value\":\"da39a3ee5e6b4b0d3255bfef95601890afd80709\","
      "\"valid_from\":0,\"valid_until\":\"1d\",\"confidence\":7}",
      IM_TYPE_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", IM_TLP_GREEN, 7, 255, "",
      "", 0, NOW + 86400, 0 },
};

static const json_bad_t json_bad[] = {
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"colour\":\"red\"}",
      "colour: unknown field" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"id\":\"x\"}", "id: unknown field" },
    { "{\"value\":\"192.0.2.1\"}", "type: missing or not a string" },
    { "{\"type\":4,\"value\":\"192.0.2.1\"}", "type: missing or not a string" },
    { "{\"type\":null,\"value\":\"192.0.2.1\"}", "type: missing or not a string" },
    { "{\"type\":\"ip\",\"value\":\"192.0.2.1\"}", "type: 'ip' is not one of ipv4" },
    { "{\"type\":\"\",\"value\":\"192.0.2.1\"}", "type: '' is not one of" },
    { "{\"type\":\"ipv4\"}", "value: missing or not a string" },
    { "{\"type\":\"ipv4\",\"value\":7}", "value: missing or not a string" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\\u0000x\"}",
      "value: missing or not a string" },
    { "{\"type\":\"ipv4\",\"value\":\"999.1.1.1\"}",
      "value: '999.1.1.1' is not an IPv4 address" },
    { "{\"type\":\"domain\",\"value\":\"\"}", "value: empty value" },
    { "{\"type\":\"ipv4\",\"value\":\"10.1.2.3/8\"}",
      "value: '10.1.2.3/8' has host bits set" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"tlp\":\"pink\"}",
      "tlp: not one of clear, green, amber, amber+strict, red" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"tlp\":3}", "tlp: not one of" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"confidence\":-1}",
      "confidence: not a whole number 0..100" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"confidence\":101}",
      "confidence: not a whole number 0..100" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"confidence\":\"x\"}",
      "confidence: not a whole number 0..100" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"confidence\":\"50\"}",
      "confidence: not a whole number" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"confidence\":50.5}",
      "confidence: not a whole number" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"reach\":255}",
      "reach: not 0..254 or \"unlimited\"" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"reach\":-1}", "reach: not 0..254" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"reach\":\"lots\"}",
      "reach: not 0..254" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"reach\":\"Unlimited\"}",
      "reach: not 0..254" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"reach\":1.5}", "reach: not 0..254" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"tags\":\"phish\"}",
      "tags: not an array of strings" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"tags\":{\"a\":1}}",
      "tags: not an array of strings" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"tags\":[\"a\",1]}",
      "tags: not an array of strings" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"tags\":[null]}",
      "tags: not an array of strings" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"tags\":[\"\"]}", "tags: empty tag" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"tags\":[\"a\\tb\"]}",
      "tags: a tag is not UTF-8 text or holds control characters" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"tags\":[\"a\\u0000b\"]}",
      "tags: not an array of strings" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"recipients\":\"" HEX_AB "\"}",
      "recipients: not an array of node ids" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"recipients\":[\"zz\"]}",
      "recipients: 'zz' is not a node id (64 hex digits)" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"recipients\":"
      "[\"gbababababababababababababababababababababababababababababababab\"]}",
      "is not a node id (64 hex digits)" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"recipients\":"
      "[\"abababababababababababababababababababababababababababababababa\"]}",
      "is not a node id (64 hex digits)" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"recipients\":[5]}",
      "recipients: '?' is not a node id" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"valid_until\":\"soon\"}",
      "valid_until: not a time" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"valid_until\":\"2026-02-30\"}",
      "valid_until: not a time" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"valid_until\":\"-5d\"}",
      "valid_until: not a time" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"valid_until\":-5}",
      "valid_until: not a time" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"valid_until\":true}",
      "valid_until: not a time" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"valid_from\":\"30x\"}",
      "valid_from: not a time" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"valid_from\":1.5}",
      "valid_from: not a time" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"valid_from\":\"2026-06-01\","
      "\"valid_until\":\"2026-01-01\"}",
      "valid_until: 2026-01-01T00:00:00Z is not later than valid_from "
      "2026-06-01T00:00:00Z" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"valid_from\":\"30d\","
      "\"valid_until\":\"29d\"}",
      "valid_until: 2026-01-30T00:00:00Z is not later than valid_from "
      "2026-01-31T00:00:00Z" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"valid_from\":\"2026-03-01\","
      "\"valid_until\":\"2026-03-01T00:00:00Z\"}",
      "valid_until: 2026-03-01T00:00:00Z is not later than valid_from "
      "2026-03-01T00:00:00Z" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"valid_until\":\"2020-01-01\"}",
      "valid_until: 2020-01-01T00:00:00Z is not later than valid_from "
      "2026-01-01T00:00:00Z (now: valid_from is unset)" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"valid_until\":\"2026-01-01\"}",
      "is not later than valid_from 2026-01-01T00:00:00Z (now" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"detect\":\"no\"}",
      "detect: not true or false" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"detect\":0}",
      "detect: not true or false" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"description\":\"a\\u0001b\"}",
      "description: not UTF-8 text or holds control characters" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"description\":\"a\\rb\"}",
      "description: not UTF-8 text or holds control characters" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"description\":\"a\\u007fb\"}",
      "description: not UTF-8 text or holds control characters" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"description\":\"a\\u0000b\"}",
      "description: not UTF-8 text or holds control characters" },
    { "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"description\":5}",
      "description: not a string" },
};

/* Checks that from_json refuses OBJ with EINVAL and an error holding WHY. */
static void
json_refused (const json_t *obj, const char *why, const char *what)
{
    char err[256], n[128];
    im_record_init (&rec);
    err[0] = '\0';
    errno = 0;
    int rc = im_record_from_json (&rec, obj, NOW, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "from_json refuses %s",
        printable_cut (what, NAME_BYTES, n, sizeof n));
    if (!ok (strstr (err, why) != NULL, "the error for %s says \"%s\"",
             printable_cut (what, NAME_BYTES, n, sizeof n), why))
        diag ("error: %s", err);
}

/* A copy of the JSON text BASE with KEY set to VALUE (stolen). */
static json_t *
json_with (const char *base, const char *key, json_t *value)
{
    json_t *o = json_loads (base, 0, NULL);
    if (!o || !value || json_object_set_new (o, key, value))
        BAIL_OUT ("cannot build test JSON");
    return o;
}

static void
test_from_json (void)
{
    static enc_t e;
    char err[256], n[128];
    json_error_t jerr;

    for (size_t i = 0; i < COUNT (json_good); i++) {
        const json_good_t *g = &json_good[i];
        json_t *o = json_loads (g->json, 0, &jerr);
        if (!o)
            BAIL_OUT ("bad test JSON %s: %s", g->json, jerr.text);
        printable_cut (g->json, NAME_BYTES, n, sizeof n);
        im_record_init (&rec);
        memcpy (rec.origin, pk_a, IM_NODE_ID_SIZE);
        memcpy (rec.id, fixed_id, IM_ID_SIZE);
        rec.version = 9;
        rec.op = IM_OP_REVOKE;
        rec.created = 1600000000;
        rec.modified = 1600000001;
        err[0] = '\0';
        int rc = im_record_from_json (&rec, o, NOW, err, sizeof err);
        if (!ok (rc == 0, "from_json accepts %s", n))
            diag ("error: %s", err);
        char tags[IM_TAGS_MAX * (IM_TAG_MAX + 1) + 1] = "";
        for (size_t k = 0; k < rec.ntags; k++) {
            if (k)
                strcat (tags, ",");
            strcat (tags, rec.tags[k]);
        }
        ok (rec.type == g->type && strcmp (rec.value, g->value) == 0,
            "from_json reads type and normalised value of %s", n);
        ok (rec.tlp == g->tlp && rec.confidence == g->confidence && rec.reach == g->reach,
            "from_json reads tlp, confidence and reach of %s", n);
        if (!ok (strcmp (tags, g->tags) == 0
                     && strcmp (rec.description, g->description) == 0,
                 "from_json reads tags and description of %s", n))
            diag ("tags '%s', description '%s'", tags, rec.description);
        if (!ok (rec.valid_from == g->valid_from && rec.valid_until == g->valid_until,
                 "from_json reads the validity window of %s", n))
            diag ("valid_from %lld, valid_until %lld", (long long)rec.valid_from,
                  (long long)rec.valid_until);
        cmp_ok (rec.nrecipients, "==", g->nrecipients,
                "from_json reads the recipients of %s", n);
        ok (memcmp (rec.origin, pk_a, IM_NODE_ID_SIZE) == 0
                && memcmp (rec.id, fixed_id, IM_ID_SIZE) == 0 && rec.version == 9
                && rec.op == IM_OP_REVOKE && rec.created == 1600000000
                && rec.modified == 1600000001,
            "from_json leaves origin, id, version, op and times of %s alone", n);
        ok (sign_into (&rec, sk_a, &e) == 0, "the record read from %s signs", n);
        json_decref (o);
    }

    /* Recipients: hex in any case, duplicates folded. */
    json_t *o = json_loads (json_good[2].json, 0, NULL);
    im_record_init (&rec);
    ok (o && im_record_from_json (&rec, o, NOW, err, sizeof err) == 0
            && rec.recipients[0][0] == 0xab && rec.recipients[0][31] == 0xab
            && rec.recipients[1][0] == 0x01,
        "from_json reads recipients in upper and lower case hex, folding duplicates");
    json_decref (o);

    /* Reading into a used record replaces its tags and recipients. */
    full_record (&rec);
    o = json_loads ("{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"tags\":[\"new\"],"
                    "\"recipients\":[]}",
                    0, NULL);
    ok (o && im_record_from_json (&rec, o, NOW, err, sizeof err) == 0 && rec.ntags == 1
            && strcmp (rec.tags[0], "new") == 0 && rec.nrecipients == 0,
        "from_json replaces the tags and recipients a record had");
    json_decref (o);

    for (size_t i = 0; i < COUNT (json_bad); i++) {
        o = json_loads (json_bad[i].json, JSON_ALLOW_NUL, &jerr);
        if (!o)
            BAIL_OUT ("bad test JSON %s: %s", json_bad[i].json, jerr.text);
        json_refused (o, json_bad[i].why, json_bad[i].json);
        json_decref (o);
    }

    /* Limits: 32 tags, 64 recipients and a description of IM_DESC_MAX are
     * fine; one more is not. */
    static const char *plain = "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\"}";
    for (size_t count = IM_TAGS_MAX; count <= IM_TAGS_MAX + 1; count++) {
        json_t *tags = json_array ();
        for (size_t i = 0; i < count; i++) {
            char tag[32];
            snprintf (tag, sizeof tag, "t%02zu", i);
            json_array_append_new (tags, json_string (tag));
        }
        o = json_with (plain, "tags", tags);
        if (count == IM_TAGS_MAX) {
            im_record_init (&rec);
            ok (im_record_from_json (&rec, o, NOW, err, sizeof err) == 0
                    && rec.ntags == IM_TAGS_MAX,
                "from_json accepts 32 tags");
        }
        else
            json_refused (o, "tags: more than 32 tags", "33 tags");
        json_decref (o);
    }
    char long_tag[IM_TAG_MAX + 2];
    memset (long_tag, 'x', IM_TAG_MAX + 1);
    long_tag[IM_TAG_MAX + 1] = '\0';
    o = json_with (plain, "tags", json_pack ("[s]", long_tag));
    json_refused (o, "tags: a tag is longer than 128 bytes", "a tag of 129 bytes");
    json_decref (o);

    for (size_t count = IM_RECIPIENTS_MAX; count <= IM_RECIPIENTS_MAX + 1; count++) {
        json_t *rs = json_array ();
        for (size_t i = 0; i < count; i++) {
            uint8_t node[IM_NODE_ID_SIZE];
            char hex[IM_NODE_HEX_SIZE];
            fill_node (node, (uint8_t)i, 0x77);
            im_node_format (node, hex);
            json_array_append_new (rs, json_string (hex));
        }
        o = json_with (plain, "recipients", rs);
        if (count == IM_RECIPIENTS_MAX) {
            im_record_init (&rec);
            ok (im_record_from_json (&rec, o, NOW, err, sizeof err) == 0
                    && rec.nrecipients == IM_RECIPIENTS_MAX,
                "from_json accepts 64 recipients");
        }
        else
            json_refused (o, "recipients: more than 64", "65 recipients");
        json_decref (o);
    }

    static char desc[IM_DESC_MAX + 2];
    memset (desc, 'd', IM_DESC_MAX);
    desc[IM_DESC_MAX] = '\0';
    o = json_with (plain, "description", json_string (desc));
    im_record_init (&rec);
    ok (im_record_from_json (&rec, o, NOW, err, sizeof err) == 0
            && strlen (rec.description) == IM_DESC_MAX,
        "from_json accepts a description of IM_DESC_MAX bytes");
    json_decref (o);
    strcat (desc, "d");
    o = json_with (plain, "description", json_string (desc));
    json_refused (o, "description: longer than 4096 bytes",
                  "a description of 4097 bytes");
    json_decref (o);

    /* Relative times follow the NOW passed in. */
    o = json_loads ("{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"valid_from\":\"1h\","
                    "\"valid_until\":\"30d\"}",
                    0, NULL);
    im_record_init (&rec);
    ok (o && im_record_from_json (&rec, o, 1000, err, sizeof err) == 0
            && rec.valid_from == 1000 + 3600 && rec.valid_until == 1000 + 30 * 86400,
        "relative times resolve against the NOW passed in");
    json_decref (o);
}

static void
test_to_json (void)
{
    char err[256], want[IM_TIME_STR_SIZE];
    static enc_t e;

    full_record (&rec);
    if (sign_into (&rec, sk_a, &e)
        || decode_exact (e.buf, e.len, 1, &got, err, sizeof err))
        BAIL_OUT ("cannot sign and decode the full record");
    json_t *o = im_record_to_json (&got);
    ok (o && json_is_object (o), "to_json gives an object");
    if (!o)
        return;
    char idtext[IM_ID_STR_SIZE], origin[IM_NODE_HEX_SIZE];
    im_id_format (fixed_id, idtext);
    im_node_format (pk_a, origin);
    is (json_string_value (json_object_get (o, "id")), idtext,
        "to_json gives the id as a UUID");
    is (json_string_value (json_object_get (o, "origin")), origin,
        "to_json gives the origin in hex");
    ok (json_is_integer (json_object_get (o, "version"))
            && json_integer_value (json_object_get (o, "version")) == 7,
        "to_json gives the version as a number");
    is (json_string_value (json_object_get (o, "op")), "put", "to_json gives op put");
    is (json_string_value (json_object_get (o, "type")), "domain",
        "to_json names the type");
    is (json_string_value (json_object_get (o, "value")), "evil.example",
        "to_json gives the value");
    is (json_string_value (json_object_get (o, "tlp")), "amber", "to_json names the TLP");
    ok (json_integer_value (json_object_get (o, "confidence")) == 80,
        "to_json gives the confidence");
    ok (json_is_integer (json_object_get (o, "reach"))
            && json_integer_value (json_object_get (o, "reach")) == 3,
        "to_json gives a limited reach as a number");
    is (json_string_value (json_object_get (o, "description")), rec.description,
        "to_json gives the description");
    json_t *tags = json_object_get (o, "tags");
    ok (json_is_array (tags) && json_array_size (tags) == 4, "to_json gives four tags");
    is (json_string_value (json_array_get (tags, 0)), "Zeta",
        "to_json gives the tags in canonical order, Zeta first");
    is (json_string_value (json_array_get (tags, 3)), "\xc3\xa9t\xc3\xa9",
        "to_json gives the tags in canonical order, the UTF-8 tag last");
    json_t *rs = json_object_get (o, "recipients");
    char hex[IM_NODE_HEX_SIZE];
    im_node_format (got.recipients[0], hex);
    ok (json_is_array (rs) && json_array_size (rs) == 3
            && strcmp (json_string_value (json_array_get (rs, 0)), hex) == 0
            && strncmp (hex, "11020202", 8) == 0,
        "to_json gives the recipients in hex, in canonical order");
    is (json_string_value (json_object_get (o, "created")), "2023-11-14T22:13:20Z",
        "to_json gives created in RFC 3339 with Z");
    is (json_string_value (json_object_get (o, "modified")),
        im_time_format (1700000100, want), "to_json gives modified in RFC 3339 with Z");
    is (json_string_value (json_object_get (o, "valid_from")), "2023-11-14T22:13:20Z",
        "to_json gives valid_from in RFC 3339 with Z");
    is (json_string_value (json_object_get (o, "valid_until")), "2024-03-09T16:00:00Z",
        "to_json gives valid_until in RFC 3339 with Z");
    ok (json_object_get (o, "internal_only") == NULL,
        "to_json has no internal_only for amber");
    cmp_ok (json_object_size (o), "==", 17, "to_json gives exactly the 17 record fields");

    /* Feeding the content fields back reads the same content. */
    static const char *not_content[]
        = { "id", "origin", "version", "op", "created", "modified" };
    for (size_t i = 0; i < COUNT (not_content); i++)
        json_object_del (o, not_content[i]);
    full_record (&other);
    other.ntags = 0;
    other.nrecipients = 0;
    int rc = im_record_from_json (&other, o, NOW, err, sizeof err);
    if (!ok (rc == 0, "from_json reads back the content fields of to_json"))
        diag ("error: %s", err);
    ok (rc == 0 && record_diff (&other, &got) == NULL,
        "the content read back equals the record");
    json_decref (o);

    /* Reach unlimited, revoke, unset times. */
    base_record (&rec);
    rec.reach = IM_REACH_UNLIMITED;
    rec.op = IM_OP_REVOKE;
    rec.valid_from = rec.valid_until = rec.created = 0;
    o = im_record_to_json (&rec);
    is (json_string_value (json_object_get (o, "reach")), "unlimited",
        "to_json gives reach 255 as \"unlimited\"");
    is (json_string_value (json_object_get (o, "op")), "revoke",
        "to_json gives op revoke");
    ok (json_is_null (json_object_get (o, "valid_from"))
            && json_is_null (json_object_get (o, "valid_until"))
            && json_is_null (json_object_get (o, "created")),
        "to_json gives unset times as null");
    json_decref (o);
    rec.reach = 0;
    o = im_record_to_json (&rec);
    ok (json_is_integer (json_object_get (o, "reach"))
            && json_integer_value (json_object_get (o, "reach")) == 0,
        "to_json gives reach 0 as the number 0");
    json_decref (o);

    /* Versions past 2^63 - 1 do not fit a JSON integer: either the codec
     * refuses them or the JSON form must not turn them negative. */
    base_record (&rec);
    rec.version = (uint64_t)INT64_MAX + 1;
    json_int_t shown = 0;
    int refused_version = sign_into (&rec, sk_a, &e) != 0
                          || decode_exact (e.buf, e.len, 1, &got, err, sizeof err) != 0;
    if (!refused_version) {
        o = im_record_to_json (&got);
        shown = json_integer_value (json_object_get (o, "version"));
        json_decref (o);
    }
    if (!ok (refused_version || shown >= 0,
             "a record of version 2^63 is refused or not shown with a negative version"))
        diag ("sign and decode accept it; to_json gives version %lld", (long long)shown);

    /* internal_only for amber+strict and red only. */
    for (int t = IM_TLP_NONE + 1; t < IM_TLP_COUNT; t++) {
        base_record (&rec);
        rec.tlp = (uint8_t)t;
        o = im_record_to_json (&rec);
        json_t *io = json_object_get (o, "internal_only");
        is (json_string_value (json_object_get (o, "tlp")), im_tlp_name (t),
            "to_json names TLP %s", im_tlp_name (t));
        if (t == IM_TLP_AMBER_STRICT || t == IM_TLP_RED)
            ok (json_is_true (io), "to_json marks TLP:%s internal_only", im_tlp_name (t));
        else
            ok (io == NULL, "to_json has no internal_only for TLP:%s", im_tlp_name (t));
        json_decref (o);
    }
}

/* --- Ids and node ids ----------------------------------------------------- */

static void
test_ids (void)
{
    char text[IM_ID_STR_SIZE], n[128];
    uint8_t id[IM_ID_SIZE], id2[IM_ID_SIZE];

    im_id_format (fixed_id, text);
    is (text, "00112233-4455-4677-8899-aabbccddeeff",
        "id format writes lower-case UUID text");
    memset (id, 0, sizeof id);
    ok (im_id_parse (text, id) == 0 && memcmp (id, fixed_id, IM_ID_SIZE) == 0,
        "id parse reads back what format wrote");
    memset (id, 0, sizeof id);
    ok (im_id_parse ("00112233-4455-4677-8899-AABBCCDDEEFF", id) == 0
            && memcmp (id, fixed_id, IM_ID_SIZE) == 0,
        "id parse reads upper-case UUID text");
    ok (im_id_parse ("00000000-0000-0000-0000-000000000000", id) == 0
            && memcmp (id, (uint8_t[IM_ID_SIZE]){ 0 }, IM_ID_SIZE) == 0,
        "id parse reads the nil UUID");
    ok (im_id_parse ("00112233-4455-1677-8899-aabbccddeeff", id) == 0,
        "id parse reads a UUID of another version");

    static const char *bad_ids[] = {
        "00112233-4455-4677-8899-aabbccddeef",  "00112233-4455-4677-8899-aabbccddeeff0",
        "00112233445546778899aabbccddeeff",     "00112233-4455-4677-8899aabbccddeeff-",
        "0011223-34455-4677-8899-aabbccddeeff", "00112233-4455-4677-8899-aabbccddeeg0",
        "00112233-4455-4677-8899-aabbccddee f", "00112233_4455_4677_8899_aabbccddeeff",
        "{00112233-4455-4677-8899-aabbccddee}", "00112233-4455-4677-8899-aabbccddeeff\n",
        "x0112233-4455-4677-8899-aabbccddeeff", "00112233-4455-4677-+899-aabbccddeeff",
    };
    for (size_t i = 0; i < COUNT (bad_ids); i++) {
        errno = 0;
        ok (im_id_parse (bad_ids[i], id) == -1 && errno == EINVAL,
            "id parse refuses '%s'", printable_cut (bad_ids[i], NAME_BYTES, n, sizeof n));
    }

    /* Generated ids: version 7 (time-ordered), RFC 9562 variant, different
     * every time, never sorting before an earlier one's millisecond, and
     * carrying the current time. */
    size_t not_v7 = 0, repeats = 0, backwards = 0;
    im_id_generate (id2);
    /* The clock ids are made from (time(2) may lag it at a second's turn). */
    uint64_t before = (uint64_t)im_time_now_ms ();
    for (int i = 0; i < 256; i++) {
        im_id_generate (id);
        if ((id[6] >> 4) != 7 || (id[8] & 0xc0) != 0x80)
            not_v7++;
        if (memcmp (id, id2, IM_ID_SIZE) == 0)
            repeats++;
        if (memcmp (id, id2, 6) < 0)
            backwards++;
        memcpy (id2, id, IM_ID_SIZE);
    }
    uint64_t after = (uint64_t)im_time_now_ms (), ms = 0;
    for (int i = 0; i < 6; i++)
        ms = (ms << 8) | id[i];
    cmp_ok (not_v7, "==", 0, "256 generated ids all have version 7 and variant 10");
    cmp_ok (repeats, "==", 0, "generated ids differ from one call to the next");
    cmp_ok (backwards, "==", 0,
            "a generated id never sorts before an earlier one's time");
    ok (ms >= before && ms <= after, "a generated id carries the current time in ms");
    im_id_format (id, text);
    ok (strlen (text) == 36 && text[14] == '7' && strchr ("89ab", text[19]),
        "a generated id's text shows version 7 and the variant");
    ok (im_id_parse (text, id2) == 0 && memcmp (id, id2, IM_ID_SIZE) == 0,
        "a generated id's text parses back");
    ok (forked_ids_differ (), "a forked child's next id is not its parent's next id");

    /* Node ids. */
    uint8_t node[IM_NODE_ID_SIZE], node2[IM_NODE_ID_SIZE];
    char hex[IM_NODE_HEX_SIZE];
    for (size_t i = 0; i < IM_NODE_ID_SIZE; i++)
        node[i] = (uint8_t)(i * 8 + 7);
    im_node_format (node, hex);
    is (hex, "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff",
        "node format writes 64 lower-case hex digits");
    ok (im_node_parse (hex, node2) == 0 && memcmp (node, node2, IM_NODE_ID_SIZE) == 0,
        "node parse reads back what format wrote");
    ok (im_node_parse ("070F171F272F373F474F575F676F777F878F979FA7AFB7BFC7CFD7DFE7EFF7FF",
                       node2)
                == 0
            && memcmp (node, node2, IM_NODE_ID_SIZE) == 0,
        "node parse reads upper-case hex");
    im_node_format (pk_a, hex);
    ok (im_node_parse (hex, node2) == 0 && memcmp (pk_a, node2, IM_NODE_ID_SIZE) == 0,
        "a public key's hex parses back");

    static const char *bad_nodes[] = {
        "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7f",
        "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff0",
        "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7fg",
        "g70f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff",
        "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7f ",
        " 70f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff",
        "07:0f:17:1f:27:2f:37:3f:47:4f:57:5f:67:6f:77:7f",
        "0x0f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff",
        "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7f\n",
        "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7f\xc3",
    };
    for (size_t i = 0; i < COUNT (bad_nodes); i++) {
        errno = 0;
        ok (im_node_parse (bad_nodes[i], node2) == -1 && errno == EINVAL,
            "node parse refuses '%s' (%zu characters)",
            printable_cut (bad_nodes[i], NAME_BYTES, n, sizeof n), strlen (bad_nodes[i]));
    }
}

/* --- UTF-8 ---------------------------------------------------------------- */

typedef struct {
    const char *s;
    size_t len;
    const char *what;
} utf8_t;

#define U(s, what)                                                                       \
    {                                                                                    \
        s, sizeof (s) - 1, what                                                          \
    }

static const utf8_t utf8_good[] = {
    U ("", "the empty string"),
    U ("plain ASCII", "ASCII"),
    U ("\x01\x1f\x7f", "ASCII control characters"),
    U ("\xc2\x80", "U+0080"),
    U ("\xc3\xa9", "U+00E9"),
    U ("\xdf\xbf", "U+07FF"),
    U ("\xe0\xa0\x80", "U+0800"),
    U ("\xe2\x82\xac", "U+20AC"),
    U ("\xed\x9f\xbf", "U+D7FF"),
    U ("\xee\x80\x80", "U+E000"),
    U ("\xef\xbf\xbd", "U+FFFD"),
    U ("\xef\xbf\xbf", "U+FFFF"),
    U ("\xf0\x90\x80\x80", "U+10000"),
    U ("\xf0\x9f\x98\x80", "U+1F600"),
    U ("\xf4\x8f\xbf\xbf", "U+10FFFF"),
    U ("a\xc3\xa9z\xe2\x82\xac\xf0\x9f\x98\x80", "mixed text"),
};

static const utf8_t utf8_bad[] = {
    U ("a\0b", "an embedded NUL"),
    U ("\0", "a lone NUL"),
    U ("\xc0\x80", "an overlong NUL"),
    U ("\xc0\xaf", "an overlong '/' in two bytes"),
    U ("\xc1\xbf", "an overlong U+007F"),
    U ("\xe0\x80\xaf", "an overlong '/' in three bytes"),
    U ("\xe0\x9f\xbf", "an overlong U+07FF"),
    U ("\xf0\x80\x80\xaf", "an overlong '/' in four bytes"),
    U ("\xf0\x8f\xbf\xbf", "an overlong U+FFFF"),
    U ("\xed\xa0\x80", "the surrogate U+D800"),
    U ("\xed\xbf\xbf", "the surrogate U+DFFF"),
    U ("\xed\xa0\xbd\xed\xb8\x80", "a surrogate pair"),
    U ("\xf4\x90\x80\x80", "U+110000"),
    U ("\xf5\x80\x80\x80", "a 0xF5 lead byte"),
    U ("\xf7\xbf\xbf\xbf", "U+1FFFFF"),
    U ("\xf8\x88\x80\x80\x80", "a five-byte sequence"),
    U ("\xfc\x84\x80\x80\x80\x80", "a six-byte sequence"),
    U ("\xfe", "the byte 0xFE"),
    U ("\xff", "the byte 0xFF"),
    U ("\x80", "a lone continuation byte"),
    U ("a\xbf", "a continuation byte after ASCII"),
    U ("\xc3", "a two-byte sequence cut after its lead"),
    U ("\xe2\x82", "a three-byte sequence cut short"),
    U ("\xf0\x9f\x98", "a four-byte sequence cut short"),
    U ("\xc3"
       "a",
       "a lead byte followed by ASCII"),
    U ("\xe2\x28\xa1", "a bad second byte"),
    U ("\xe2\x82\x28", "a bad third byte"),
    U ("\xf0\x9f\x98\x28", "a bad fourth byte"),
    U ("\xc3\x00", "a NUL as continuation"),
    U ("ok\xc3\xa9\xc3", "good text ending in a cut sequence"),
};

static void
test_utf8 (void)
{
    for (size_t i = 0; i < COUNT (utf8_good); i++) {
        char *copy = malloc (utf8_good[i].len + 1);
        memcpy (copy, utf8_good[i].s, utf8_good[i].len);
        cmp_ok (im_utf8_valid (copy, utf8_good[i].len), "==", 1, "UTF-8 check accepts %s",
                utf8_good[i].what);
        free (copy);
    }
    for (size_t i = 0; i < COUNT (utf8_bad); i++) {
        /* An exact-size copy, so that a read past the end is seen. */
        char *copy = malloc (utf8_bad[i].len);
        memcpy (copy, utf8_bad[i].s, utf8_bad[i].len);
        cmp_ok (im_utf8_valid (copy, utf8_bad[i].len), "==", 0, "UTF-8 check refuses %s",
                utf8_bad[i].what);
        free (copy);
    }
    /* The length counts, not the NUL: a valid prefix of a cut sequence. */
    cmp_ok (im_utf8_valid ("\xc3\xa9", 1), "==", 0,
            "UTF-8 check refuses U+00E9 cut to one byte by its length");
    cmp_ok (im_utf8_valid ("abc\xc3\xa9", 3), "==", 1,
            "UTF-8 check reads only the length it is given");
    cmp_ok (im_utf8_valid ("\xf0\x9f\x98\x80", 3), "==", 0,
            "UTF-8 check refuses U+1F600 cut to three bytes by its length");

    /* What must not reach a terminal as it is, and what may. */
    static const uint32_t unsafe[]
        = { 0x00,   0x1b,   0x7f,   0x85,   0x9f,   0x061c, 0x200b,
            0x200e, 0x2028, 0x202e, 0x2060, 0x2066, 0xfeff };
    static const uint32_t safe[]
        = { 0x20, 'a', '~', 0xa0, 0xe9, 0x0627, 0x200a, 0x2030, 0x206a, 0xfefe, 0x1f600 };
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++)
        ok (im_utf8_unsafe (unsafe[i]), "U+%04X is unsafe to show as it is",
            (unsigned)unsafe[i]);
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++)
        ok (!im_utf8_unsafe (safe[i]), "U+%04X is shown as it is", (unsigned)safe[i]);
}

/* A record from JSON text, for the update tests. */
static void
from_text (im_record_t *r, const char *text)
{
    char err[256];
    json_t *o = json_loads (text, 0, NULL);
    im_record_init (r);
    memcpy (r->origin, pk_a, IM_NODE_ID_SIZE);
    if (!o || im_record_from_json (r, o, NOW, err, sizeof err))
        BAIL_OUT ("bad test record %s", text);
    json_decref (o);
}

static const char *const prev_text
    = "{\"type\":\"md5\",\"value\":\"0123456789abcdef0123456789abcdef\","
      "\"tlp\":\"red\",\"confidence\":80,\"reach\":1,\"tags\":[\"apt\",\"x\"],"
      "\"description\":\"d\",\"valid_until\":\"2099-01-01\",\"recipients\":["
      "\"1111111111111111111111111111111111111111111111111111111111111111\","
      "\"2222222222222222222222222222222222222222222222222222222222222222\"]}";

/* What an update made of a JSON item over PREV (merged), and its downgrades. */
static const struct {
    const char *item;
    int rc;              /* im_record_merge */
    const char *changed; /* im_record_changes, compact JSON */
    const char *down;    /* im_record_downgrades */
} merges[] = {
    { "{\"type\":\"md5\",\"value\":\"0123456789ABCDEF0123456789ABCDEF\"}", 0, "{}", "" },
    { "{\"type\":\"md5\",\"value\":\"0123456789abcdef0123456789abcdef\","
      "\"confidence\":90}",
      0, "{\"confidence\":[80,90]}", "" },
    { "{\"type\":\"md5\",\"value\":\"0123456789abcdef0123456789abcdef\","
      "\"tags\":[\"x\",\"apt\"]}",
      0, "{}", "" },
    { "{\"type\":\"md5\",\"value\":\"0123456789abcdef0123456789abcdef\","
      "\"tlp\":\"amber+strict\"}",
      0, "{\"tlp\":[\"red\",\"amber+strict\"]}", "tlp: RED -> AMBER+STRICT" },
    { "{\"type\":\"md5\",\"value\":\"0123456789abcdef0123456789abcdef\","
      "\"reach\":\"unlimited\",\"recipients\":[]}",
      0,
      "{\"reach\":[1,\"unlimited\"],\"recipients\":[["
      "\"1111111111111111111111111111111111111111111111111111111111111111\","
      "\"2222222222222222222222222222222222222222222222222222222222222222\"],[]]}",
      "reach: 1 -> unlimited, recipients: 2 -> 0 (2 dropped)" },
    { "{\"type\":\"md5\",\"value\":\"0123456789abcdef0123456789abcdef\","
      "\"recipients\":["
      "\"2222222222222222222222222222222222222222222222222222222222222222\"],"
      "\"reach\":0}",
      0, NULL, "recipients: 2 -> 1 (1 dropped)" },
    { "{\"type\":\"md5\",\"value\":\"0123456789abcdef0123456789abcdef\","
      "\"detect\":false}",
      0, "{\"detect\":[true,false]}", "detect: yes -> no" },
    { "{\"type\":\"md5\",\"value\":\"0123456789abcdef0123456789abcdef\","
      "\"detect\":true}",
      0, "{}", "" },
    { "{\"type\":\"md5\",\"value\":\"0123456789abcdef0123456789abcdef\","
      "\"valid_from\":\"2100-01-01\"}",
      -1, NULL, NULL },
    { "{\"type\":\"md5\",\"value\":\"0123456789abcdef0123456789abcdef\","
      "\"tlp\":\"mauve\"}",
      -1, NULL, NULL },
};

static void
test_update (void)
{
    static im_record_t prev, next;
    char err[256], down[256];
    from_text (&prev, prev_text);
    for (size_t i = 0; i < COUNT (merges); i++) {
        json_t *item = json_loads (merges[i].item, 0, NULL);
        memcpy (&next, &prev, sizeof next);
        im_record_init (&next);
        int rc = im_record_merge (&next, &prev, item, NOW, err, sizeof err);
        json_decref (item);
        ok (rc == merges[i].rc && (rc == 0 || errno == EINVAL), "merge %s: %s",
            merges[i].item, rc ? "refused" : "accepted");
        if (rc)
            continue;
        ok (next.valid_until == prev.valid_until && strcmp (next.description, "d") == 0,
            "merge %s keeps valid_until and the description", merges[i].item);
        if (merges[i].changed) {
            json_t *c = im_record_changes (&prev, &next);
            char *text = c ? json_dumps (c, JSON_COMPACT) : NULL;
            is (text, merges[i].changed, "changes of %s", merges[i].item);
            free (text);
            json_decref (c);
        }
        int n = im_record_downgrades (&prev, &next, down, sizeof down);
        ok (n >= 0 && strcmp (down, merges[i].down) == 0, "downgrades of %s: '%s'",
            merges[i].item, down);
    }
    ok (im_record_downgrades (&next, &prev, down, sizeof down) == 0 && down[0] == 0,
        "raising the protection back is no downgrade");
    ok (im_record_merge (&next, NULL, NULL, NOW, err, sizeof err) == -1
            && errno == EINVAL,
        "merge refuses NULL");
    ok (im_record_changes (NULL, &prev) == NULL && errno == EINVAL,
        "changes refuses NULL");
    ok (im_record_downgrades (&prev, &next, down, 0) == -1 && errno == EINVAL,
        "downgrades refuses no room");
    /* Same content: tags and recipients as sets, identity and times aside. */
    memcpy (&next, &prev, sizeof next);
    next.version++;
    next.modified++;
    ok (im_record_same_content (&prev, &next),
        "a new version, nothing else, is the same content");
    if (prev.ntags >= 2) {
        char tag[IM_TAG_MAX + 1];
        memcpy (tag, next.tags[0], sizeof tag);
        memcpy (next.tags[0], next.tags[1], sizeof tag);
        memcpy (next.tags[1], tag, sizeof tag);
        ok (im_record_same_content (&prev, &next),
            "tags in another order are the same content");
    }
    next.confidence = (uint8_t)(prev.confidence == 50 ? 60 : 50);
    ok (!im_record_same_content (&prev, &next), "another confidence is other content");
    memcpy (&next, &prev, sizeof next);
    next.op = IM_OP_REVOKE;
    ok (!im_record_same_content (&prev, &next), "a tombstone is other content");
}

/* The detection flag: the optional last byte of the body, present only when
 * the indicator is not meant for detection, and only as %x01. */
static void
test_detect_flag (void)
{
    static enc_t on, off, e;
    static im_record_t r;
    char err[256];
    base_record (&r);
    if (sign_into (&r, sk_a, &on))
        BAIL_OUT ("cannot sign the base record");
    ok (decode_exact (on.buf, on.len, 1, &got, err, sizeof err) == 0
            && got.no_detect == 0,
        "a record without the flags byte is meant for detection");
    r.no_detect = 1;
    ok (sign_into (&r, sk_a, &off) == 0, "sign accepts a record not for detection");
    cmp_ok (off.len, "==", on.len + 1, "the flag adds one byte");
    ok (memcmp (off.buf, on.buf, on.len - AUTH_SIZE) == 0
            && off.buf[on.len - AUTH_SIZE] == IM_RECORD_FLAG_NO_DETECT,
        "the flags byte %%x01 follows the recipients");
    ok (decode_exact (off.buf, off.len, 1, &got, err, sizeof err) == 0
            && got.no_detect == 1,
        "decode gives the flag back");
    size_t body = on.len - AUTH_SIZE;
    static const uint8_t bad_flags[] = { 0x00, 0x02, 0x03, 0x80, 0xff };
    for (size_t i = 0; i < COUNT (bad_flags); i++) {
        char what[64];
        e = on;
        splice (&e, body, 0, &bad_flags[i], 1);
        snprintf (what, sizeof what, "a flags byte %%x%02X", bad_flags[i]);
        refused (&e, "record: 1 trailing bytes", what);
    }
    e = on;
    splice (&e, body, 0, "\x01\x01", 2);
    refused (&e, "record: 2 trailing bytes", "two flags bytes");
    r.no_detect = 2;
    errno = 0;
    ok (im_record_check (&r, err, sizeof err) == -1 && errno == EINVAL
            && strstr (err, "detect: not true or false"),
        "check refuses a flag other than 0 or 1");
    r.no_detect = 1;
    json_t *j = im_record_to_json (&r);
    ok (json_is_false (json_object_get (j, "detect")), "to_json gives \"detect\": false");
    json_decref (j);
    r.no_detect = 0;
    j = im_record_to_json (&r);
    ok (json_is_true (json_object_get (j, "detect")), "to_json gives \"detect\": true");
    json_decref (j);
    from_text (&r, "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"detect\":false}");
    ok (r.no_detect == 1, "from_json reads \"detect\": false");
    from_text (&r, "{\"type\":\"ipv4\",\"value\":\"192.0.2.1\",\"detect\":null}");
    ok (r.no_detect == 0, "from_json takes a null detect as the default");
}

/* Ids that leave the node: RFC 4122 versions 1 to 5 (what STIX's identifier
 * pattern and MISP's validation accept). The expected version 5 UUIDs are
 * Python's uuid.uuid5 in the same namespace: an independent SHA-1. */
static void
test_export_ids (void)
{
    static const struct {
        const char *id;
        int rfc4122;
        const char *why;
    } versions[] = {
        { "00112233-4455-1677-8899-aabbccddeeff", 1, "version 1" },
        { "00112233-4455-4677-8899-aabbccddeeff", 1, "version 4" },
        { "00112233-4455-5677-a899-aabbccddeeff", 1, "version 5" },
        { "00112233-4455-7677-8899-aabbccddeeff", 0, "version 7 (this node's own)" },
        { "00112233-4455-6677-8899-aabbccddeeff", 0, "version 6" },
        { "00000000-0000-0000-0000-000000000000", 0, "the nil UUID" },
        { "00112233-4455-4677-c899-aabbccddeeff", 0,
          "version 4 with Microsoft's variant" },
        { "00112233-4455-4677-0899-aabbccddeeff", 0, "version 4 with the NCS variant" },
    };
    uint8_t id[IM_ID_SIZE], out[IM_ID_SIZE], out2[IM_ID_SIZE], origin[IM_NODE_ID_SIZE];
    char text[IM_ID_STR_SIZE];
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        im_id_parse (versions[i].id, id);
        ok (im_id_is_rfc4122 (id) == versions[i].rfc4122, "an id of %s %s leave as it is",
            versions[i].why, versions[i].rfc4122 ? "may" : "may not");
    }
    im_id_from_name ("abc", 3, id);
    im_id_format (id, text);
    is (text, "b0ac9c2d-6e16-5968-811c-2ac1d96754a3",
        "an id from a name is Python's uuid5 of it in intelmesh's namespace");
    memset (origin, 0, sizeof origin);
    im_id_parse ("018f0000-0000-7000-8000-000000000001", id);
    im_id_export (origin, id, out);
    im_id_format (out, text);
    is (text, "3f29905e-fc46-5f18-ac82-d9e5535f4394",
        "a native id leaves as the version 5 UUID of origin/id");
    im_id_export (origin, id, out2);
    ok (memcmp (out, out2, IM_ID_SIZE) == 0 && im_id_is_rfc4122 (out),
        "the same record has the same export id every time");
    origin[0] = 1;
    im_id_export (origin, id, out2);
    ok (memcmp (out, out2, IM_ID_SIZE) != 0,
        "the same id from another origin has another export id");
    im_id_parse ("00112233-4455-4677-8899-aabbccddeeff", id);
    im_id_export (origin, id, out);
    ok (memcmp (out, id, IM_ID_SIZE) == 0, "an imported version 4 id leaves as it came");
}

/* What a re-publication of a revoked value keeps, by what its item gives. */
static const struct {
    const char *item;
    const char *kept; /* im_record_kept */
} kepts[] = {
    { "{}", "tlp RED, reach 1, recipients 2, valid_until 2099-01-01T00:00:00Z" },
    { "{\"tlp\":\"green\"}", "reach 1, recipients 2, valid_until 2099-01-01T00:00:00Z" },
    { "{\"reach\":3,\"recipients\":[],\"valid_until\":null}", "tlp RED" },
};

static void
test_kept (void)
{
    static im_record_t tomb;
    char kept[256];
    from_text (&tomb, prev_text);
    for (size_t i = 0; i < COUNT (kepts); i++) {
        json_t *item = json_loads (kepts[i].item, 0, NULL);
        int n = im_record_kept (&tomb, item, kept, sizeof kept);
        json_decref (item);
        ok (n > 0 && strcmp (kept, kepts[i].kept) == 0, "kept with %s: '%s'",
            kepts[i].item, kept);
    }
    im_record_init (&tomb); /* GREEN by default, unlimited, no recipients */
    tomb.tlp = IM_TLP_GREEN;
    json_t *none = json_object ();
    ok (im_record_kept (&tomb, none, kept, sizeof kept) == 1
            && strcmp (kept, "tlp GREEN") == 0,
        "defaults other than the TLP are not named: '%s'", kept);
    ok (im_record_kept (&tomb, NULL, kept, sizeof kept) == -1 && errno == EINVAL,
        "kept refuses a NULL item");
    ok (im_record_kept (&tomb, none, kept, 0) == -1 && errno == EINVAL,
        "kept refuses no room");
    json_decref (none);
}

/* --- Reports: format 3 and its extension items (SPEC.md, "Reports") ----- */

/* A report of pk_a: title, two techniques, an actor, a reference and a
 * mitigation with one reference. */
static void
report_record (im_record_t *r)
{
    char err[256];
    im_record_init (r);
    memcpy (r->origin, pk_a, IM_NODE_ID_SIZE);
    memcpy (r->id, fixed_id, IM_ID_SIZE);
    r->type = IM_TYPE_REPORT;
    strcpy (r->value, "Spear-phishing wave \xc3\xa9t\xc3\xa9 2026");
    r->created = r->modified = 1700000000;
    strcpy (r->description, "what we saw");
    const char *ref = "https://cert.example/r/1";
    uint8_t mit[2048];
    size_t mlen = 0;
    if (im_record_add_ext (r, IM_EXT_ATTACK, "T1566.001", 9, err, sizeof err)
        || im_record_add_ext (r, IM_EXT_ATTACK, "T1059", 5, err, sizeof err)
        || im_record_add_ext (r, IM_EXT_ACTOR, "APT-X", 5, err, sizeof err)
        || im_record_add_ext (r, IM_EXT_REF, ref, strlen (ref), err, sizeof err)
        || im_ext_mitigation ("Block macros", &ref, 1, mit, sizeof mit, &mlen, err,
                              sizeof err)
        || im_record_add_ext (r, IM_EXT_MITIGATION, mit, mlen, err, sizeof err))
        BAIL_OUT ("report_record: %s", err);
}

static void
test_report_encode (void)
{
    static enc_t e;
    static im_record_t r;
    char err[256];
    report_record (&r);
    ok (r.next == 5, "five items were added (%zu)", r.next);
    ok (r.ext[0] == IM_EXT_ATTACK && memcmp (r.ext + 3, "T1059", 5) == 0,
        "items are kept in canonical order (T1059 before T1566.001)");
    ok (im_record_add_ext (&r, IM_EXT_ACTOR, "APT-X", 5, err, sizeof err) == 0
            && r.next == 5,
        "an item already there is not added twice");
    ok (sign_into (&r, sk_a, &e) == 0, "sign accepts a report with context");
    ok (e.buf[OFF_FORMAT] == 3, "a record with extension items is of format 3");
    ok (decode_exact (e.buf, e.len, 1, &got, err, sizeof err) == 0, "decode accepts it");
    ok (got.type == IM_TYPE_REPORT && got.next == 5 && got.ext_len == r.ext_len
            && memcmp (got.ext, r.ext, r.ext_len) == 0
            && strcmp (got.value, r.value) == 0,
        "decode gives back the title and the items");
    json_t *j = im_record_to_json (&got);
    json_t *m = json_array_get (json_object_get (j, "mitigations"), 0);
    ok (j && strcmp (json_string_value (json_object_get (j, "type")), "report") == 0
            && json_array_size (json_object_get (j, "attack")) == 2
            && strcmp (
                   json_string_value (json_array_get (json_object_get (j, "actors"), 0)),
                   "APT-X")
                   == 0
            && json_array_size (json_object_get (j, "refs")) == 1
            && strcmp (json_string_value (json_object_get (m, "text")), "Block macros")
                   == 0
            && json_array_size (json_object_get (m, "refs")) == 1,
        "to_json gives attack, actors, refs and mitigations");
    json_decref (j);
    report_record (&r);
    r.next = r.ext_len = 0;
    ok (sign_into (&r, sk_a, &e) == 0 && e.buf[OFF_FORMAT] == 2,
        "a report without items stays of format 2");
    base_record (&r);
    ok (sign_into (&r, sk_a, &e) == 0 && e.buf[OFF_FORMAT] == 2,
        "an indicator stays of format 2");
    /* An indicator never carries items. */
    r.ext[0] = IM_EXT_ACTOR, r.ext[1] = 0, r.ext[2] = 1, r.ext[3] = 'x';
    r.next = 1, r.ext_len = 4;
    errno = 0;
    ok (im_record_encode (&r, e.buf, sizeof e.buf, &e.len, err, sizeof err) == -1
            && errno == EINVAL && strstr (err, "only a report"),
        "encode refuses items on an indicator: %s", err);
    /* Too large: a full description and many long mitigations. */
    report_record (&r);
    memset (r.description, 'd', IM_DESC_MAX);
    r.description[IM_DESC_MAX] = 0;
    int rc = 0;
    for (int i = 0; rc == 0 && i < 10; i++) {
        uint8_t mit[2048];
        size_t mlen;
        char text[IM_EXT_TEXT_MAX + 1];
        memset (text, 'a' + i, IM_EXT_TEXT_MAX);
        text[IM_EXT_TEXT_MAX] = 0;
        rc = im_ext_mitigation (text, NULL, 0, mit, sizeof mit, &mlen, err, sizeof err)
             || im_record_add_ext (&r, IM_EXT_MITIGATION, mit, mlen, err, sizeof err);
    }
    ok (rc == 0, "ten mitigations of 1024 bytes fit the items' room");
    errno = 0;
    ok (im_record_encode (&r, e.buf, sizeof e.buf, &e.len, err, sizeof err) == -1
            && errno == EINVAL && strstr (err, "more than the largest body"),
        "encode refuses a report larger than the largest body: %s", err);
}

static void
test_report_items (void)
{
    static im_record_t r;
    char long_name[IM_EXT_NAME_MAX + 2], long_url[IM_EXT_URL_MAX + 2];
    memset (long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    memcpy (long_url, "http://", 7);
    memset (long_url + 7, 'u', sizeof long_url - 8);
    long_url[sizeof long_url - 1] = 0;
    static const struct {
        int key;
        const char *data;
        const char *why;
    } bad[] = {
        { IM_EXT_ATTACK, "t1566", "not an ATT&CK technique id" },
        { IM_EXT_ATTACK, "T156", "not an ATT&CK technique id" },
        { IM_EXT_ATTACK, "T1566.01", "not an ATT&CK technique id" },
        { IM_EXT_ATTACK, "T1566x001", "not an ATT&CK technique id" },
        { IM_EXT_ATTACK, "T1566.0011", "not an ATT&CK technique id" },
        { IM_EXT_ACTOR, "", "a name of 1 to 128 bytes" },
        { IM_EXT_ACTOR, " APT", "not trimmed" },
        { IM_EXT_MALWARE, "bad\x01name", "control characters" },
        { IM_EXT_MALWARE, "bad\xc3", "control characters" },
        { IM_EXT_REF, "ftp://x.example/", "not an http:// or https:// URL" },
        { IM_EXT_REF, "http://", "not an http:// or https:// URL" },
        { IM_EXT_REF, "https:///path", "not an http:// or https:// URL" },
        { IM_EXT_REF, "http://a b", "a space or a control character" },
        { IM_EXT_REF, "", "a URL of 1 to 512 bytes" },
        { 0, "x", "unknown key" },
        { 11, "x", "unknown key" },
        { IM_EXT_SIGHTING, "x", "sighting: 1 bytes, not 21" },
    };
    char err[256];
    for (size_t i = 0; i < COUNT (bad); i++) {
        report_record (&r);
        errno = 0;
        int rc = im_record_add_ext (&r, bad[i].key, bad[i].data, strlen (bad[i].data),
                                    err, sizeof err);
        ok (rc == -1 && errno == EINVAL && strstr (err, bad[i].why),
            "add_ext refuses key %d '%s' (%s)", bad[i].key, bad[i].data, err);
    }
    report_record (&r);
    ok (im_record_add_ext (&r, IM_EXT_ACTOR, long_name, IM_EXT_NAME_MAX, err, sizeof err)
            == 0,
        "a name of 128 bytes is accepted");
    ok (im_record_add_ext (&r, IM_EXT_ACTOR, long_name, IM_EXT_NAME_MAX + 1, err,
                           sizeof err)
                == -1
            && errno == EINVAL,
        "a name of 129 bytes is refused");
    ok (im_record_add_ext (&r, IM_EXT_REF, long_url, IM_EXT_URL_MAX, err, sizeof err)
            == 0,
        "a URL of 512 bytes is accepted");
    ok (im_record_add_ext (&r, IM_EXT_REF, long_url, IM_EXT_URL_MAX + 1, err, sizeof err)
                == -1
            && errno == EINVAL,
        "a URL of 513 bytes is refused");
    uint8_t mit[8192];
    size_t mlen;
    const char *urls[9];
    for (int i = 0; i < 9; i++)
        urls[i] = "https://x.example/";
    ok (im_ext_mitigation ("", NULL, 0, mit, sizeof mit, &mlen, err, sizeof err) == -1
            && errno == EINVAL,
        "a mitigation without text is refused");
    ok (im_ext_mitigation ("t", urls, 9, mit, sizeof mit, &mlen, err, sizeof err) == -1
            && errno == EINVAL && strstr (err, "more than 8"),
        "a mitigation with 9 references is refused");
    ok (im_ext_mitigation ("t", urls, 8, mit, sizeof mit, &mlen, err, sizeof err) == 0,
        "a mitigation with 8 references is built");
    static const struct {
        const char *data;
        size_t len;
        const char *why;
    } badmit[] = {
        { "\x00\x01t\x00x", 5, "trailing bytes" },
        { "\x00\x05t", 3, "a text of 1 to 1024" },
        { "\x00\x01t\x01\x00\x03htt", 9, "not an http" },
        { "\x00\x01t\x01\x00\x09http://a", 12, "truncated" },
        { "\x00\x01\x01\x00", 4, "control characters" },
        { "\x00", 1, "truncated" },
    };
    for (size_t i = 0; i < COUNT (badmit); i++) {
        errno = 0;
        ok (im_record_add_ext (&r, IM_EXT_MITIGATION, badmit[i].data, badmit[i].len, err,
                               sizeof err)
                    == -1
                && errno == EINVAL && strstr (err, badmit[i].why),
            "add_ext refuses mitigation bytes %zu (%s)", i, err);
    }
    report_record (&r);
    int rc = 0;
    for (int i = 0; rc == 0 && i < IM_EXT_ITEMS_MAX - 5; i++) {
        char name[16];
        snprintf (name, sizeof name, "m%03d", i);
        rc = im_record_add_ext (&r, IM_EXT_MALWARE, name, strlen (name), err, sizeof err);
    }
    ok (rc == 0 && r.next == IM_EXT_ITEMS_MAX, "64 items are accepted");
    errno = 0;
    ok (im_record_add_ext (&r, IM_EXT_MALWARE, "one more", 8, err, sizeof err) == -1
            && errno == ENOSPC && strstr (err, "more than 64"),
        "a 65th item is refused: %s", err);
}

/* Decode refuses every malformed extension section. */
static void
test_report_decode (void)
{
    static enc_t good, e;
    static im_record_t r;
    static layout_t l;
    report_record (&r);
    if (sign_into (&r, sk_a, &good))
        BAIL_OUT ("cannot sign the report");
    layout_of (&r, &l);
    size_t flags = l.body, count = l.body + 1, first = l.body + 2;
    size_t body = good.len - AUTH_SIZE;
    ok (good.buf[flags] == 0 && good.buf[count] == 5, "format 3 has a flags byte 0");
    accepted (&good, "the report");
    /* the first item is T1059 (key 1, size 5), the second T1566.001 */
    size_t second = first + 3 + 5;

    e = good;
    set_byte (&e, count, 0);
    splice (&e, first, body - first, NULL, 0);
    refused (&e, "format 3 with 0 extension items", "format 3 without items");
    e = good;
    set_byte (&e, count, 65);
    refused (&e, "format 3 with 65 extension items", "65 items");
    e = good;
    set_byte (&e, flags, 2);
    refused (&e, "unknown flags 2", "flags byte 2");
    e = good;
    set_byte (&e, first, 11);
    refused (&e, "unknown extension key 11", "an unknown key");
    e = good;
    set_byte (&e, first, 0);
    refused (&e, "unknown extension key 0", "key 0");
    e = good;
    splice (&e, second, 3 + 9, NULL, 0);
    splice (&e, first, 0, "\x01\x00\x09T1566.001", 12);
    refused (&e, "not in canonical order", "items in the wrong order");
    e = good;
    splice (&e, first, 0, "\x01\x00\x05T1059", 8);
    set_byte (&e, count, 6);
    refused (&e, "not in canonical order", "an item twice");
    e = good;
    set_number (&e, first + 1, 0xFFFF, 2);
    refused (&e, "truncated, over-long", "an item longer than the body");
    e = good;
    set_byte (&e, count, 6);
    refused (&e, "truncated", "a count larger than the items");
    e = good;
    set_byte (&e, count, 4);
    refused (&e, "trailing bytes", "a count smaller than the items");
    e = good;
    splice (&e, body, 0, "\x00", 1);
    refused (&e, "1 trailing bytes", "a trailing byte");
    e = good;
    set_byte (&e, first + 4, 0);
    refused (&e, "NUL", "a NUL byte in an item");
    e = good;
    set_byte (&e, second + 3, 't');
    refused (&e, "not an ATT&CK technique id", "a lower-case technique");
    e = good;
    splice (&e, flags, body - flags, NULL, 0);
    set_byte (&e, OFF_FORMAT, 3);
    refused (&e, "truncated", "format 3 without its flags byte");
    e = good;
    set_byte (&e, OFF_FORMAT, 4);
    refused (&e, "unknown format version 4", "format 4");
    e = good;
    set_byte (&e, OFF_FORMAT, 2);
    refused (&e, "trailing bytes", "items in a record of format 2");
    e = good;
    set_byte (&e, OFF_TYPE, IM_TYPE_FILENAME);
    refused (&e, "only a report", "items on an indicator");
    e = good;
    e.buf[good.len - AUTH_SIZE - 1] = 'X';
    ok (decode_exact (e.buf, e.len, 1, &got, (char[256]){ 0 }, 256) == -1
            && errno == EPERM,
        "a changed item fails the signature");
}

static void
test_report_values (void)
{
    char out[IM_VALUE_MAX + 1], err[256], title[300];
    ok (im_type_parse ("report") == -1 && im_type_parse ("member") == -1,
        "report and member are not indicator types to parse");
    ok (strcmp (im_type_name (IM_TYPE_REPORT), "report") == 0
            && strcmp (im_type_name (IM_TYPE_MEMBER), "member") == 0,
        "but they have names");
    ok (!im_type_is_ioc (IM_TYPE_REPORT) && !im_type_is_ioc (IM_TYPE_MEMBER)
            && im_type_is_ioc (IM_TYPE_IPV4) && im_type_is_ioc (IM_TYPE_SNORT)
            && !im_type_is_ioc (IM_TYPE_SNORT + 1),
        "im_type_is_ioc tells indicators from the rest");
    memset (title, 'a', 257);
    title[257] = 0;
    ok (im_ioc_normalise (IM_TYPE_REPORT, title, out, sizeof out, err, sizeof err) == -1
            && strstr (err, "longer than 256"),
        "a title of 257 bytes is refused");
    title[256] = 0;
    ok (im_ioc_normalise (IM_TYPE_REPORT, title, out, sizeof out, err, sizeof err) == 0,
        "a title of 256 bytes is accepted");
    ok (im_ioc_normalise (IM_TYPE_REPORT, "a\tb", out, sizeof out, err, sizeof err) == -1
            && strstr (err, "control"),
        "a title with a tab is refused");
    ok (im_ioc_normalise (IM_TYPE_REPORT, " a", out, sizeof out, err, sizeof err) == -1,
        "an untrimmed title is refused");
    uint8_t o[IM_NODE_ID_SIZE], ind[IM_ID_SIZE], rep[IM_ID_SIZE], o2[IM_NODE_ID_SIZE],
        ind2[IM_ID_SIZE], rep2[IM_ID_SIZE];
    char v[IM_MEMBER_VALUE_SIZE], upper[IM_MEMBER_VALUE_SIZE];
    memcpy (o, pk_a, sizeof o);
    memcpy (ind, fixed_id, sizeof ind);
    memset (rep, 0xab, sizeof rep);
    im_member_value (o, ind, rep, v);
    ok (strlen (v) == 138 && v[64] == '/' && v[101] == ' ', "a member value: %s", v);
    ok (im_member_parse (v, o2, ind2, rep2) == 0 && memcmp (o, o2, sizeof o) == 0
            && memcmp (ind, ind2, sizeof ind) == 0 && memcmp (rep, rep2, sizeof rep) == 0,
        "reads back");
    for (size_t i = 0; i < sizeof upper; i++)
        upper[i] = (char)toupper ((unsigned char)v[i]);
    ok (im_ioc_normalise (IM_TYPE_MEMBER, upper, out, sizeof out, err, sizeof err) == 0
            && strcmp (out, v) == 0,
        "a member value's canonical form is lower case");
    static const char *bad[] = { "", "abc", "x/y z" };
    for (size_t i = 0; i < COUNT (bad); i++)
        ok (im_ioc_normalise (IM_TYPE_MEMBER, bad[i], out, sizeof out, err, sizeof err)
                == -1,
            "member value '%s' is refused", bad[i]);
    v[64] = '-';
    ok (im_ioc_normalise (IM_TYPE_MEMBER, v, out, sizeof out, err, sizeof err) == -1
            && im_member_parse (v, o2, ind2, rep2) == -1,
        "a member value without '/' is refused");
}

static void
test_report_json (void)
{
    static im_record_t r;
    char err[256];
    static const struct {
        const char *json;
        const char *why; /* NULL: accepted */
    } cases[] = {
        { "{\"title\":\"  Wave 1 \",\"attack\":[\"t1566.001\"],\"actors\":[\"APT-X\"],"
          "\"malware\":[\"Emotet\"],\"refs\":[\"https://a.example/\"],"
          "\"mitigations\":[{\"text\":\"Patch\",\"refs\":[\"https://b.example/\"]},"
          "\"Train\"],\"tlp\":\"amber\",\"reach\":2,\"tags\":[\"x\"]}",
          NULL },
        { "{\"attack\":[]}", "title: missing" },
        { "{\"title\":\"   \"}", "title: empty value" },
        { "{\"title\":\"t\",\"type\":\"ipv4\"}", "not a type or value" },
        { "{\"title\":\"t\",\"attack\":[\"X1\"]}", "attack:" },
        { "{\"title\":\"t\",\"attack\":\"T1566\"}", "attack: not an array" },
        { "{\"title\":\"t\",\"refs\":[\"mailto:x\"]}", "refs:" },
        { "{\"title\":\"t\",\"mitigations\":[{\"refs\":[]}]}", "mitigations:" },
        { "{\"title\":\"t\",\"bogus\":1}", "bogus: unknown field" },
        { "{\"title\":\"t\",\"tlp\":\"purple\"}", "tlp:" },
    };
    for (size_t i = 0; i < COUNT (cases); i++) {
        json_t *j = json_loads (cases[i].json, 0, NULL);
        im_record_init (&r);
        errno = 0;
        int rc = im_report_from_json (&r, j, NOW, err, sizeof err);
        json_decref (j);
        if (!cases[i].why)
            ok (rc == 0 && r.type == IM_TYPE_REPORT && strcmp (r.value, "Wave 1") == 0
                    && r.next == 6 && r.tlp == IM_TLP_AMBER && r.reach == 2
                    && memcmp (r.ext + 3, "T1566.001", 9) == 0
                    && im_record_check (&r, err, sizeof err) == 0,
                "report_from_json reads %s", cases[i].json);
        else
            ok (rc == -1 && errno == EINVAL && strstr (err, cases[i].why),
                "report_from_json refuses %s (%s)", cases[i].json, err);
    }
}

/* --- Mutations of reports and indicators (red team, issue 15) ------------- */

/* im_record_decode_stored on a copy exactly LEN bytes long (see decode_exact). */
static int
decode_stored_exact (const uint8_t *buf, size_t len, im_record_t *r)
{
    uint8_t *copy = malloc (len ? len : 1);
    if (!copy)
        BAIL_OUT ("out of memory");
    if (len)
        memcpy (copy, buf, len);
    int rc = im_record_decode_stored (copy, len, r);
    free (copy);
    return rc;
}

/* Counts of what the mutation test saw. */
typedef struct {
    size_t refused, canonical, bad_errno, not_canonical, swaps_refused, swaps;
} mut_count_t;

/* One mutant: refused with EBADMSG or EINVAL, or decoded to a record that
 * re-encodes to exactly its body (the one canonical form). The trusted
 * decoder and the JSON form run on it as well (nothing may crash). */
static void
mutant (const uint8_t *buf, size_t len, mut_count_t *c, const char *what, size_t at)
{
    static im_record_t m, s;
    static uint8_t again[IM_RECORD_MAX + 8192];
    char err[256];
    if (len <= sizeof again)
        (void)decode_stored_exact (buf, len, &s);
    if (decode_exact (buf, len, 0, &m, err, sizeof err) != 0) {
        if (errno == EBADMSG || errno == EINVAL)
            c->refused++;
        else if (c->bad_errno++ < 5)
            diag ("%s at %zu: errno %d (%s)", what, at, errno, err);
        return;
    }
    size_t n = 0;
    json_decref (im_record_to_json (&m));
    if (im_record_encode (&m, again, sizeof again, &n, err, sizeof err) == 0 && n == len
        && memcmp (again, buf, len - AUTH_SIZE) == 0) {
        c->canonical++;
        return;
    }
    if (c->not_canonical++ < 5)
        diag ("%s at %zu: decoded but re-encodes differently (%zu of %zu bytes): %s",
              what, at, n, len, err);
}

/* The offsets of the 2-byte size fields and 1-byte counts of the items of
 * a format-3 body starting at FIRST (the first item) and ending at BODY. */
static size_t
item_fields (const uint8_t *b, size_t first, size_t body, size_t *sizes, size_t *counts,
             size_t *items, size_t *nitems, size_t *ncounts)
{
    size_t ns = 0, at = first;
    *nitems = *ncounts = 0;
    while (at + 3 <= body) {
        size_t n = ((size_t)b[at + 1] << 8) | b[at + 2];
        items[(*nitems)++] = at;
        sizes[ns++] = at + 1;
        if (b[at] == IM_EXT_MITIGATION) {
            size_t p = at + 3, tl = ((size_t)b[p] << 8) | b[p + 1];
            sizes[ns++] = p;
            p += 2 + tl;
            counts[(*ncounts)++] = p;
            size_t refs = b[p++];
            for (size_t i = 0; i < refs; i++) {
                sizes[ns++] = p;
                p += 2 + (((size_t)b[p] << 8) | b[p + 1]);
            }
        }
        at += 3 + n;
    }
    return ns;
}

/* A report with every kind of item, the mitigations with nested URLs. */
static void
full_report (im_record_t *r)
{
    char err[256];
    report_record (r);
    r->no_detect = 1;
    strcpy (r->tags[0], "apt"), strcpy (r->tags[1], "phish"), r->ntags = 2;
    r->nrecipients = 1;
    fill_node (r->recipients[0], 0x11, 0x11);
    const char *urls[8] = { "https://a.example/1",  "http://b.example/",
                            "https://c.example",    "https://d.example/x?y=1",
                            "https://e.example/#f", "http://[2001:db8::1]/",
                            "https://g.example/g",  "https://h.example/\xc3\xa9" };
    uint8_t mit[4096];
    size_t mlen;
    if (im_record_add_ext (r, IM_EXT_MALWARE, "PlugX", 5, err, sizeof err)
        || im_record_add_ext (r, IM_EXT_MALWARE, "Plug", 4, err, sizeof err)
        || im_record_add_ext (r, IM_EXT_ACTOR, "Comment Crew \xe2\x80\x94 APT1", 20, err,
                              sizeof err)
        || im_record_add_ext (r, IM_EXT_REF, urls[1], strlen (urls[1]), err, sizeof err)
        || im_ext_mitigation ("Patch.\n\tThen reboot.", urls, 8, mit, sizeof mit, &mlen,
                              err, sizeof err)
        || im_record_add_ext (r, IM_EXT_MITIGATION, mit, mlen, err, sizeof err)
        || im_ext_mitigation ("No refs", NULL, 0, mit, sizeof mit, &mlen, err, sizeof err)
        || im_record_add_ext (r, IM_EXT_MITIGATION, mit, mlen, err, sizeof err))
        BAIL_OUT ("full_report: %s", err);
}

/* Every mutation of the seed E: bit flips, truncations, size fields and
 * counts set to edge values, adjacent items swapped. */
static void
mutate_seed (const enc_t *seed, const im_record_t *r, mut_count_t *c)
{
    static uint8_t b[sizeof ((enc_t *)0)->buf];
    size_t len = seed->len, body = len - AUTH_SIZE;
    layout_t l;
    layout_of (r, &l);
    for (size_t i = 0; i < body + 1 + 1; i++) /* the body and the leaf place */
        for (int bit = 0; bit < 8; bit++) {
            size_t at = i < body ? i : body + IM_BATCH_SALT;
            memcpy (b, seed->buf, len);
            b[at] ^= (uint8_t)(1u << bit);
            mutant (b, len, c, "a bit flip", at);
        }
    for (size_t cut = 0; cut < len; cut++) {
        mutant (seed->buf, cut, c, "a truncation", cut); /* a prefix */
        if (cut < body) { /* the body cut, the authentication kept */
            memcpy (b, seed->buf, cut);
            memcpy (b + cut, seed->buf + body, AUTH_SIZE);
            mutant (b, cut + AUTH_SIZE, c, "a cut body", cut);
        }
    }
    size_t sizes[256], counts[256], items[IM_EXT_ITEMS_MAX + 1], ns = 0, nc = 0, ni = 0;
    sizes[ns++] = l.value, sizes[ns++] = l.description;
    counts[nc++] = l.ntags, counts[nc++] = l.nrecipients;
    if (seed->buf[OFF_FORMAT] == 3) {
        size_t nmc;
        counts[nc++] = l.body + 1;
        ns += item_fields (seed->buf, l.body + 2, body, sizes + ns, counts + nc, items,
                           &ni, &nmc);
        nc += nmc;
    }
    static const unsigned size_values[]
        = { 0,      1,     2,     0x7F,           0x80,
            0xFF,   0x100, 0x400, IM_EXT_URL_MAX, IM_VALUE_MAX,
            0x7FFF, 0xFFFF };
    for (size_t i = 0; i < ns; i++)
        for (size_t v = 0; v < sizeof size_values / sizeof *size_values; v++) {
            memcpy (b, seed->buf, len);
            b[sizes[i]] = (uint8_t)(size_values[v] >> 8);
            b[sizes[i] + 1] = (uint8_t)size_values[v];
            mutant (b, len, c, "a size field", sizes[i]);
        }
    static const unsigned count_values[] = { 0, 1, 8, 9, 31, 32, 33, 63, 64, 65, 255 };
    for (size_t i = 0; i < nc; i++)
        for (size_t v = 0; v < sizeof count_values / sizeof *count_values; v++) {
            memcpy (b, seed->buf, len);
            b[counts[i]] = (uint8_t)count_values[v];
            mutant (b, len, c, "a count", counts[i]);
        }
    for (size_t i = 0; i + 1 < ni; i++) { /* items i and i+1 swapped */
        size_t a = items[i], m = items[i + 1], e = i + 2 < ni ? items[i + 2] : body;
        memcpy (b, seed->buf, len);
        memcpy (b + a, seed->buf + m, e - m);
        memcpy (b + a + (e - m), seed->buf + a, m - a);
        char err[256];
        c->swaps++;
        if (decode_exact (b, len, 0, &got, err, sizeof err) == -1 && errno == EBADMSG
            && strstr (err, "canonical order"))
            c->swaps_refused++;
        else
            diag ("items %zu and %zu swapped: %s", i, i + 1, err);
    }
}

static void
test_report_mutations (void)
{
    static enc_t seed;
    static im_record_t r;
    mut_count_t c = { 0 };
    char value[IM_MEMBER_VALUE_SIZE];
    for (int s = 0; s < 5; s++) {
        if (s == 0)
            full_report (&r);
        else if (s == 1)
            report_record (&r);
        else if (s == 2) {
            char err[256];
            report_record (&r);
            r.next = r.ext_len = 0;
            if (im_record_add_ext (&r, IM_EXT_REF, "http://x.example", 16, err,
                                   sizeof err))
                BAIL_OUT ("%s", err);
        }
        else if (s == 3)
            base_record (&r);
        else {
            base_record (&r);
            r.type = IM_TYPE_MEMBER;
            r.ntags = 0;
            im_member_value (pk_b, fixed_id, fixed_id, value);
            strcpy (r.value, value);
        }
        if (sign_into (&r, sk_a, &seed))
            BAIL_OUT ("cannot sign mutation seed %d", s);
        if (im_record_decode (seed.buf, seed.len, 1, &r, (char[256]){ 0 }, 256))
            BAIL_OUT ("seed %d does not decode", s);
        mutate_seed (&seed, &r, &c);
    }
    diag ("mutants: %zu refused, %zu canonical, %zu swaps", c.refused, c.canonical,
          c.swaps);
    ok (c.refused > 5000, "the decoder refuses the malformed mutants (%zu)", c.refused);
    ok (c.canonical > 100, "some mutants are other valid records (%zu)", c.canonical);
    ok (c.bad_errno == 0, "every refusal says EBADMSG or EINVAL (%zu others)",
        c.bad_errno);
    ok (c.not_canonical == 0,
        "every mutant accepted re-encodes to exactly its bytes (%zu do not)",
        c.not_canonical);
    ok (c.swaps > 10 && c.swaps_refused == c.swaps,
        "swapped items are refused as out of canonical order (%zu of %zu)",
        c.swaps_refused, c.swaps);
}

/* An item's error shows the item's bytes only, never those after it (item
 * data is not NUL terminated: a URL inside a mitigation is followed by the
 * next one's size bytes, and a buffer of exactly the item's size ends). */
static void
test_report_item_errors (void)
{
    char err[256];
    uint8_t *exact = malloc (6);
    if (!exact)
        BAIL_OUT ("out of memory");
    memcpy (exact, "ftp://", 6);
    ok (im_ext_item_check (IM_EXT_REF, exact, 6, err, sizeof err) == -1
            && strstr (err, "'ftp://' is not"),
        "a bad reference of exactly its size is quoted whole: %s", err);
    free (exact);
    static const char tail[] = "ftp://x.example SECRET";
    ok (im_ext_item_check (IM_EXT_REF, (const uint8_t *)tail, 15, err, sizeof err) == -1
            && strstr (err, "'ftp://x.example'") && !strstr (err, "SECRET"),
        "the error quotes the reference's bytes, not what follows: %s", err);
    const char *urls[2] = { "ftp://a.example", "https://b.example/SECRET" };
    uint8_t mit[256];
    size_t mlen = 0;
    ok (im_ext_mitigation ("text", urls, 2, mit, sizeof mit, &mlen, err, sizeof err) == 0
            && im_ext_item_check (IM_EXT_MITIGATION, mit, mlen, err, sizeof err) == -1
            && strstr (err, "'ftp://a.example'") && !strstr (err, "SECRET"),
        "a mitigation's bad URL is quoted alone: %s", err);
}

/* Arrays of records start on a page, and so does each record in them. */
static void
test_array (void)
{
    errno = 0;
    ok (im_record_array (0) == NULL && errno == EINVAL,
        "an array of no records is refused");
    errno = 0;
    /* One more record than a size_t can count: unchecked, the size would
     * wrap to a single record's, and be given. */
    ok (im_record_array (SIZE_MAX / sizeof (im_record_t) + 1) == NULL && errno == ENOMEM,
        "an array whose size overflows is refused with ENOMEM");
    im_record_t *a = im_record_array (3);
    ok (a && (uintptr_t)a % 4096 == 0 && (uintptr_t)&a[1] % 4096 == 0
            && (uintptr_t)&a[2] % 4096 == 0,
        "an array of 3 records starts on a page, and so does each record");
    ok (offsetof (im_record_t, description) < 4096 - IM_VALUE_MAX / 2,
        "a record's counts, value and the start of its description share its first page");
    if (a) {
        im_record_init (&a[2]);
        snprintf (a[2].value, sizeof a[2].value, "%s", "192.0.2.1");
        ok (a[2].version == 1 && strcmp (a[2].value, "192.0.2.1") == 0,
            "a record of the array is written and read");
    }
    free (a);
}

/* Whether the page at P is present (mincore), or -1 when it cannot tell. */
static int
page_present (const void *p)
{
    unsigned char v = 0;
    return mincore ((void *)p, 4096, &v) == 0 ? (v & 1) : -1;
}

/* im_mem_populate and im_record_array_ready make pages present without a
 * touch, and only those asked for; both are NULL-safe and keep errno. */
static void
test_array_ready (void)
{
    size_t ready = 0;
    /* mincore looks at whole pages: the checks of which pages are present
     * assume pages of 4096 bytes, the slots' (on larger pages, a slot's
     * first page holds more than one slot). */
    int small = sysconf (_SC_PAGESIZE) == 4096;
    if (!small)
        diag (
            "pages are not of 4096 bytes here: which pages are present is not looked at");
    errno = 1234;
    im_record_array_ready (NULL, &ready, 3);
    im_mem_populate (NULL, 4096);
    ok (ready == 0 && errno == 1234,
        "no array: nothing is made ready, and errno is kept");
    /* Fresh pages of our own (an array from the allocator may reuse pages
     * touched before). */
    size_t n = 5, size = n * sizeof (im_record_t);
    uint8_t *m
        = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!ok (m != MAP_FAILED, "five fresh record slots are mapped"))
        return;
    im_record_t *a = (im_record_t *)m;
    im_record_array_ready (a, NULL, 3);
    ok (!small || page_present (&a[0]) == 0, "a new slot's first page is not present");
    int probe = madvise (m + size - 4096, 4096, MADV_POPULATE_WRITE);
    int can = small && (probe == 0 || errno != EINVAL);
    if (!can)
        diag ("this kernel has no MADV_POPULATE_WRITE: pages come as they are touched");
    errno = 1234;
    im_record_array_ready (a, &ready, 3);
    ok (ready == 3 && errno == 1234, "records 0 to 2 are made ready, and errno is kept");
    ok (!can
            || (page_present (&a[0]) == 1 && page_present (&a[1]) == 1
                && page_present (&a[2]) == 1),
        "the first page of each of the three slots is present, untouched");
    ok (!small
            || (page_present ((uint8_t *)&a[0] + 4096) == 0 && page_present (&a[3]) == 0),
        "the rest of a slot, and the slots after, are not");
    im_record_array_ready (a, &ready, 2);
    ok (ready == 3, "asking for fewer than are ready changes nothing");
    im_record_array_ready (a, &ready, 4);
    ok (ready == 4 && (!can || page_present (&a[3]) == 1),
        "asking for one more makes that one ready");
    im_mem_populate (m + 4096 + 100, 2 * 4096);
    ok (!can
            || (page_present (m + 4096) == 1 && page_present (m + 2 * 4096) == 1
                && page_present (m + 3 * 4096) == 1 && page_present (m + 4 * 4096) == 0),
        "im_mem_populate makes present every page its bytes touch, and no other");
    memset (a[0].value, 'x', 8);
    ok (page_present (&a[0]) == 1 && a[1].value[0] == 0,
        "ready pages read as zeros and are written");
    munmap (m, size);
}

/* im_record_copy gives what encoding and reading back give (the node's
 * batches keep their records so), for every kind of record. */
static void
test_copy (void)
{
    static im_record_t src, copy, back, dirty;
    static uint8_t buf[IM_RECORD_MAX];
    char err[256];
    size_t len;
    struct {
        const char *what;
        int kind; /* 0 base, 1 full (unsorted tags, recipients), 2 report, 3 no_detect */
    } cases[] = { { "an indicator with the defaults", 0 },
                  { "unsorted tags and recipients", 1 },
                  { "a report with extension items", 2 },
                  { "an indicator not meant for detection", 3 } };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        if (cases[c].kind == 2)
            report_record (&src);
        else if (cases[c].kind == 1)
            full_record (&src);
        else
            base_record (&src);
        src.no_detect = cases[c].kind == 3;
        /* What the copy does not write must not matter: start from garbage. */
        memset (&copy, 0xA5, sizeof copy);
        im_record_copy (&copy, &src);
        int enc = im_record_encode (&src, buf, sizeof buf, &len, err, sizeof err);
        ok (enc == 0 && im_record_decode_stored (buf, len, &back) == 0,
            "%s encodes and reads back", cases[c].what);
        json_t *a = im_record_to_json (&copy), *b = im_record_to_json (&back);
        ok (a && b && json_equal (a, b), "the copy of %s reads as its encoding does",
            cases[c].what);
        json_decref (a);
        json_decref (b);
        size_t len2 = 0;
        static uint8_t buf2[IM_RECORD_MAX];
        ok (im_record_encode (&copy, buf2, sizeof buf2, &len2, err, sizeof err) == 0
                && len2 == len && memcmp (buf, buf2, len) == 0,
            "the copy of %s encodes to the same bytes", cases[c].what);
        ok (copy.ntags == back.ntags && copy.nrecipients == back.nrecipients
                && (copy.ntags == 0 || strcmp (copy.tags[0], back.tags[0]) == 0)
                && (copy.nrecipients == 0
                    || memcmp (copy.recipients[0], back.recipients[0], IM_NODE_ID_SIZE)
                           == 0)
                && copy.next == back.next && copy.ext_len == back.ext_len
                && memcmp (copy.ext, back.ext, back.ext_len) == 0,
            "the copy of %s has its lists in canonical order", cases[c].what);
    }
    /* Over-long counts are clamped, never read past the record. */
    full_record (&dirty);
    dirty.ntags = IM_TAGS_MAX + 5;
    dirty.nrecipients = IM_RECIPIENTS_MAX + 5;
    dirty.ext_len = IM_EXT_MAX + 5;
    im_record_copy (&copy, &dirty);
    ok (copy.ntags == IM_TAGS_MAX && copy.nrecipients == IM_RECIPIENTS_MAX
            && copy.ext_len == IM_EXT_MAX,
        "a copy of a record with impossible counts stays within the record");
}

static const tap_test_t tests[] = { TAP_DIAG ("SPEC.md: The indicator record (Fields, "
                                              "Validity, Encoding, Signature, Decoding)"),
                                    TAP_TEST (test_bad_arguments),
                                    TAP_TEST (test_encode),
                                    TAP_TEST (test_array),
                                    TAP_TEST (test_array_ready),
                                    TAP_TEST (test_init_and_tags),
                                    TAP_TEST (test_round_trip),
                                    TAP_TEST (test_sign_refusals),
                                    TAP_TEST (test_decode_malformed),
                                    TAP_TEST (test_signatures),
                                    TAP_TEST (test_format_1),
                                    TAP_TEST (test_batch_seal),
                                    TAP_TEST (test_batch_cache),
                                    TAP_TEST (test_batch_forge),
                                    TAP_TEST (test_batch_flood),
                                    TAP_TEST (test_batch_leak),
                                    TAP_TEST (test_from_json),
                                    TAP_TEST (test_to_json),
                                    TAP_TEST (test_ids),
                                    TAP_TEST (test_export_ids),
                                    TAP_TEST (test_utf8),
                                    TAP_TEST (test_update),
                                    TAP_TEST (test_detect_flag),
                                    TAP_TEST (test_kept),
                                    TAP_TEST (test_report_encode),
                                    TAP_TEST (test_report_items),
                                    TAP_TEST (test_report_decode),
                                    TAP_TEST (test_report_values),
                                    TAP_TEST (test_report_json),
                                    TAP_TEST (test_report_mutations),
                                    TAP_TEST (test_report_item_errors),
                                    TAP_TEST (test_copy),
                                    TAP_END };

int
main (int argc, char **argv)
{
    if (sodium_init () < 0)
        BAIL_OUT ("sodium_init failed");
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset (seed, 0xa1, sizeof seed);
    crypto_sign_seed_keypair (pk_a, sk_a, seed);
    memset (seed, 0xb2, sizeof seed);
    crypto_sign_seed_keypair (pk_b, sk_b, seed);
    memset (seed, 0x11, sizeof seed); /* SPEC.md, "Example" */
    crypto_sign_seed_keypair (pk_x, sk_x, seed);

    return tap_main (argc, argv, tests);
}
