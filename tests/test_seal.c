/* SPDX-License-Identifier: MPL-2.0 */
/* test_seal.c -- unit tests of sealed envelopes (proto/im_seal.c): bad
 * arguments, round trips to 1 and 8 recipients, size buckets, and that every
 * changed bit, truncation and stranger's key is refused. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "im_seal.h"
#include "tap.h"

#define PEOPLE 10 /* node keys: 0..7 may be recipients, 9 never is */
static uint8_t pk[PEOPLE][32], sk[PEOPLE][64];
static uint8_t env[IM_SEAL_MAX], out[IM_SEAL_PAYLOAD_MAX + 1];
static uint8_t big[IM_SEAL_PAYLOAD_MAX + 1];
static char err[256];

/* Seals LEN bytes of BIG to the first N keys into ENV; returns its length or 0. */
static size_t
seal_to (size_t len, size_t n)
{
    size_t got = 0;
    if (im_seal (big, len, (const uint8_t (*)[32])pk, n, env, sizeof env, &got, err,
                 sizeof err)
        != 0)
        return 0;
    return got;
}

/* Opens ENV (LEN bytes) as key WHO: 0 and the payload in OUT, or -1 with errno. */
static int
open_as (int who, const uint8_t *e, size_t len, size_t *plen)
{
    return im_seal_open (e, len, sk[who], out, sizeof out, plen, err, sizeof err);
}

static void
test_bad_args (void)
{
    uint8_t bad[4][32] = { { 0 }, { 1 } }; /* the all-zero and the neutral point */
    memset (bad[2], 0xff, 32);             /* no point */
    memcpy (bad[3], pk[0], 32);
    bad[3][31] ^= 0x80; /* the negation of key 0: the same X25519 key */
    uint8_t two_bad[2][32], dup[2][32], neg[2][32];
    memcpy (dup[0], pk[0], 32);
    memcpy (dup[1], pk[0], 32);
    memcpy (neg[0], pk[0], 32);
    memcpy (neg[1], bad[3], 32);
    memcpy (two_bad[0], pk[1], 32);
    memcpy (two_bad[1], bad[0], 32);
    uint8_t nine[9][32];
    memcpy (nine, pk, sizeof nine);
    size_t got;
    struct {
        const uint8_t *payload;
        size_t len;
        const uint8_t (*to)[32];
        size_t n;
        uint8_t *out;
        size_t outsz;
        size_t *outlen;
        int code;
        const char *what;
    } cases[] = {
        { NULL, 10, pk, 1, env, sizeof env, &got, EINVAL, "a NULL payload" },
        { big, 10, NULL, 1, env, sizeof env, &got, EINVAL, "NULL recipients" },
        { big, 10, pk, 1, NULL, sizeof env, &got, EINVAL, "a NULL output" },
        { big, 10, pk, 1, env, sizeof env, NULL, EINVAL, "a NULL length" },
        { big, 0, pk, 1, env, sizeof env, &got, EINVAL, "an empty payload" },
        { big, IM_SEAL_PAYLOAD_MAX + 1, pk, 1, env, sizeof env, &got, EINVAL,
          "a payload of IM_SEAL_PAYLOAD_MAX + 1 bytes" },
        { big, 10, pk, 0, env, sizeof env, &got, EINVAL, "0 recipients" },
        { big, 10, nine, 9, env, sizeof env, &got, EINVAL, "9 recipients" },
        { big, 10, dup, 2, env, sizeof env, &got, EINVAL, "a recipient named twice" },
        { big, 10, neg, 2, env, sizeof env, &got, EINVAL,
          "a key and its negation (one X25519 key)" },
        { big, 10, bad, 1, env, sizeof env, &got, EINVAL, "the all-zero key" },
        { big, 10, bad + 1, 1, env, sizeof env, &got, EINVAL, "the neutral point" },
        { big, 10, bad + 2, 1, env, sizeof env, &got, EINVAL, "32 bytes 0xff" },
        { big, 10, two_bad, 2, env, sizeof env, &got, EINVAL,
          "a bad key after a good one" },
        { big, 10, pk, 1, env, IM_SEAL_SIZE (10) - 1, &got, ENOSPC,
          "an output one byte too small" },
        { big, 300, pk, 1, env, 0, &got, ENOSPC, "an output of 0 bytes" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = 0;
        errno = 0;
        int rc = im_seal (cases[i].payload, cases[i].len, cases[i].to, cases[i].n,
                          cases[i].out, cases[i].outsz, cases[i].outlen, err, sizeof err);
        ok (rc == -1 && errno == cases[i].code && err[0],
            "im_seal rejects %s with %s (%s)", cases[i].what,
            cases[i].code == EINVAL ? "EINVAL" : "ENOSPC", err);
    }

    size_t len = seal_to (300, 1), plen;
    ok (len > 0, "an envelope of 300 bytes to 1 recipient is made");
    errno = 0;
    ok (im_seal_open (NULL, len, sk[0], out, sizeof out, &plen, err, sizeof err) == -1
            && errno == EINVAL,
        "im_seal_open rejects a NULL envelope");
    errno = 0;
    ok (im_seal_open (env, len, NULL, out, sizeof out, &plen, err, sizeof err) == -1
            && errno == EINVAL,
        "im_seal_open rejects a NULL key");
    errno = 0;
    ok (im_seal_open (env, len, sk[0], NULL, sizeof out, &plen, err, sizeof err) == -1
            && errno == EINVAL,
        "im_seal_open rejects a NULL payload buffer");
    errno = 0;
    ok (im_seal_open (env, len, sk[0], out, sizeof out, NULL, err, sizeof err) == -1
            && errno == EINVAL,
        "im_seal_open rejects a NULL length");
    errno = 0;
    ok (im_seal_open (env, len, sk[0], out, 299, &plen, err, sizeof err) == -1
            && errno == ENOSPC,
        "im_seal_open rejects a payload buffer one byte too small (%s)", err);
    ok (im_seal_open (env, len, sk[0], out, 300, &plen, err, sizeof err) == 0
            && plen == 300,
        "a payload buffer of exactly the payload's size is enough");
}

/* Seals to N recipients; every one opens it, key 9 gets ENOENT. */
static void
round_trip (size_t n, size_t len)
{
    randombytes_buf (big, len);
    size_t elen = seal_to (len, n), plen = 0;
    if (!ok (elen == IM_SEAL_SIZE (len),
             "an envelope of %zu bytes to %zu recipient%s is made", len, n,
             n == 1 ? "" : "s"))
        diag ("%s", err);
    int opened = 0;
    for (size_t i = 0; i < n; i++)
        opened += open_as ((int)i, env, elen, &plen) == 0 && plen == len
                  && memcmp (out, big, len) == 0;
    cmp_ok (opened, "==", (int)n, "each of the %zu recipients reads the payload", n);
    errno = 0;
    ok (open_as (9, env, elen, &plen) == -1 && errno == ENOENT,
        "a node that is not a recipient gets ENOENT (%s)", err);
    if (n < IM_SEAL_SLOTS) {
        errno = 0;
        ok (open_as ((int)n, env, elen, &plen) == -1 && errno == ENOENT,
            "key %zu, not named, gets ENOENT as well", n);
    }
}

static void
test_round_trip (void)
{
    round_trip (1, 300);
    round_trip (IM_SEAL_SLOTS, 300);
    round_trip (3, 1);
    round_trip (2, IM_SEAL_PAYLOAD_MAX);
}

static void
test_sizes (void)
{
    static const struct {
        size_t payload, envelope;
    } sizes[] = { { 1, 940 },    { 255, 940 },     { 256, 1196 },
                  { 257, 1196 }, { 300, 1196 },    { 511, 1196 },
                  { 512, 1452 }, { 12665, 13484 }, { IM_SEAL_PAYLOAD_MAX, 13484 } };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t got = seal_to (sizes[i].payload, 1 + i % IM_SEAL_SLOTS);
        cmp_ok (got, "==", sizes[i].envelope,
                "a payload of %zu bytes makes an envelope of %zu bytes", sizes[i].payload,
                sizes[i].envelope);
    }
    cmp_ok (IM_SEAL_MAX, "==", 13484, "IM_SEAL_MAX is 13484 bytes");
    size_t a = seal_to (100, 1), b = seal_to (100, IM_SEAL_SLOTS);
    ok (a == b && a > 0, "1 and 8 recipients make envelopes of one size (%zu)", a);
}

static void
test_differ (void)
{
    static uint8_t first[IM_SEAL_MAX];
    memset (big, 'x', 300);
    size_t a = seal_to (300, 2);
    memcpy (first, env, a);
    size_t b = seal_to (300, 2);
    ok (a == b && a > 0, "two envelopes of one payload have one size");
    int same_slots = 0;
    for (size_t i = 0; i < IM_SEAL_SLOTS; i++)
        for (size_t j = 0; j < IM_SEAL_SLOTS; j++)
            same_slots += memcmp (first + 4 + i * IM_SEAL_SLOT_SIZE,
                                  env + 4 + j * IM_SEAL_SLOT_SIZE, IM_SEAL_SLOT_SIZE)
                          == 0;
    cmp_ok (same_slots, "==", 0, "no slot of the second is a slot of the first");
    ok (memcmp (first + IM_SEAL_HEAD, env + IM_SEAL_HEAD, b - IM_SEAL_HEAD) != 0,
        "their nonces and ciphertexts differ");
    ok (memcmp (first, "IMS\x01", 4) == 0, "an envelope starts with \"IMS\" %%x01");
}

static void
test_bit_flips (void)
{
    memset (big, 'r', 1);
    size_t len = seal_to (1, 2), plen;
    int refused = 0, enoent = 0, other = 0;
    for (size_t bit = 0; bit < len * 8; bit++) {
        env[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        errno = 0;
        int rc = open_as (0, env, len, &plen);
        refused += rc == -1;
        enoent += rc == -1 && errno == ENOENT;
        other += rc == -1 && errno != ENOENT && errno != EBADMSG;
        env[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    cmp_ok (refused, "==", (int)(len * 8), "each of the %zu single-bit flips is refused",
            len * 8);
    cmp_ok (enoent, "==", IM_SEAL_SLOT_SIZE * 8,
            "ENOENT only for flips in the recipient's own slot, EBADMSG for the rest");
    cmp_ok (other, "==", 0, "no flip gets another error");
    ok (open_as (0, env, len, &plen) == 0 && plen == 1, "the unflipped envelope opens");
    env[3] = 2;
    errno = 0;
    ok (open_as (0, env, len, &plen) == -1 && errno == EBADMSG
            && strstr (err, "unknown envelope version 2"),
        "version 2 is refused as unknown (%s)", err);
    memcpy (env, "IMR\x01", 4);
    ok (open_as (0, env, len, &plen) == -1 && errno == EBADMSG
            && strstr (err, "not a sealed envelope"),
        "a record's magic is refused (%s)", err);
}

static void
test_truncation (void)
{
    memset (big, 't', 600);
    size_t len = seal_to (600, 3), plen;
    int refused = 0;
    for (size_t cut = 0; cut < len; cut++) {
        /* a buffer of exactly CUT bytes, so that ASan sees a read past it */
        uint8_t *copy = malloc (cut ? cut : 1);
        if (!copy)
            BAIL_OUT ("out of memory");
        memcpy (copy, env, cut);
        errno = 0;
        refused += open_as (1, copy, cut, &plen) == -1 && errno == EBADMSG;
        free (copy);
    }
    cmp_ok (refused, "==", (int)len,
            "every truncation (0 to %zu bytes) is refused as malformed", len - 1);
    errno = 0;
    ok (open_as (1, env, len - IM_SEAL_BLOCK, &plen) == -1 && errno == EBADMSG,
        "a block cut off the end, a valid size, does not decrypt (%s)", err);
    randombytes_buf (env + len, IM_SEAL_BLOCK);
    errno = 0;
    ok (open_as (1, env, len + 1, &plen) == -1 && errno == EBADMSG,
        "a trailing byte is refused");
    errno = 0;
    ok (open_as (1, env, len + IM_SEAL_BLOCK, &plen) == -1 && errno == EBADMSG,
        "a trailing block, a valid size, does not decrypt");
    ok (open_as (1, env, len, &plen) == 0 && plen == 600, "the whole envelope opens");
}

/* The unused slots of envelopes to 1 recipient are neither zero nor constant,
 * and look like used ones. */
static void
test_unused_slots (void)
{
    enum { ROUNDS = 32 };
    static uint8_t slots[ROUNDS][IM_SEAL_SLOTS][IM_SEAL_SLOT_SIZE];
    memset (big, 'u', 50);
    size_t plen;
    int top_clear = 0, found = 0;
    long ones = 0;
    for (int r = 0; r < ROUNDS; r++) {
        size_t len = seal_to (50, 1);
        memcpy (slots[r], env + 4, sizeof slots[r]);
        found += len > 0 && open_as (0, env, len, &plen) == 0;
        for (size_t s = 0; s < IM_SEAL_SLOTS; s++) {
            top_clear += (slots[r][s][31] & 0x80) == 0;
            for (size_t b = 0; b < IM_SEAL_SLOT_SIZE; b++)
                ones += __builtin_popcount (slots[r][s][b]);
        }
    }
    cmp_ok (found, "==", ROUNDS, "each of %d envelopes to 1 recipient opens", ROUNDS);
    int zero = 0, equal = 0;
    static const uint8_t zeros[IM_SEAL_SLOT_SIZE];
    for (int r = 0; r < ROUNDS; r++)
        for (size_t s = 0; s < IM_SEAL_SLOTS; s++) {
            zero += memcmp (slots[r][s], zeros, IM_SEAL_SLOT_SIZE) == 0;
            for (int r2 = 0; r2 < ROUNDS; r2++)
                for (size_t s2 = 0; s2 < IM_SEAL_SLOTS; s2++)
                    equal
                        += (r2 != r || s2 != s)
                           && memcmp (slots[r][s], slots[r2][s2], IM_SEAL_SLOT_SIZE) == 0;
        }
    cmp_ok (zero, "==", 0, "no slot is all zero");
    cmp_ok (equal, "==", 0, "no two of the %d slots are equal", ROUNDS * IM_SEAL_SLOTS);
    long bits = (long)ROUNDS * IM_SEAL_SLOTS * IM_SEAL_SLOT_SIZE * 8;
    ok (ones > bits * 48 / 100 && ones < bits * 52 / 100,
        "48%% to 52%% of the slots' bits are set (%ld of %ld)", ones, bits);
    cmp_ok (top_clear, "==", ROUNDS * IM_SEAL_SLOTS,
            "every slot, used or not, starts with an X25519 key (top bit clear)");
}

static const tap_test_t tests[]
    = { TAP_TEST (test_bad_args),     TAP_TEST (test_round_trip),
        TAP_TEST (test_sizes),        TAP_TEST (test_differ),
        TAP_TEST (test_bit_flips),    TAP_TEST (test_truncation),
        TAP_TEST (test_unused_slots), TAP_END };

int
main (int argc, char **argv)
{
    if (sodium_init () < 0)
        BAIL_OUT ("sodium_init");
    for (int i = 0; i < PEOPLE; i++)
        crypto_sign_keypair (pk[i], sk[i]);
    randombytes_buf (big, sizeof big);
    return tap_main (argc, argv, tests);
}
