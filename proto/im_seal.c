/* SPDX-License-Identifier: MPL-2.0 */
/* im_seal.c -- sealed envelopes (SPEC.md, "Sealed envelopes"): XChaCha20-
 * Poly1305 under a random key, the key in 8 crypto_box_seal slots. The opener
 * trusts no length: every read goes through GET_SPAN, which jumps to
 * `malformed` rather than read past the end. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "im_seal.h"
#include "im_util.h"

#define MAGIC "IMS\x01"
#define NONCE_SIZE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_SIZE crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KEY_SIZE crypto_aead_xchacha20poly1305_ietf_KEYBYTES

_Static_assert(IM_SEAL_SLOT_SIZE == KEY_SIZE + crypto_box_SEALBYTES,
               "a slot is a sealed box of the key");
_Static_assert(NONCE_SIZE == 24 && TAG_SIZE == 16, "IM_SEAL_OVERHEAD: nonce, tag");
_Static_assert(IM_SEAL_PAYLOAD_MAX >= 12665,
               "an envelope holds any record (IM_RECORD_MAX)");
_Static_assert(IM_SEAL_MAX <= UINT16_MAX, "an envelope's length fits in 2 bytes");

/* Seals KEY_SIZE random bytes to a fresh X25519 key thrown away at once: an
 * unused slot, distributed as a used one. */
static void
filler_slot (uint8_t *slot)
{
    uint8_t pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES], key[KEY_SIZE];
    crypto_box_keypair (pk, sk);
    randombytes_buf (key, sizeof key);
    crypto_box_seal (slot, key, sizeof key, pk);
    sodium_memzero (sk, sizeof sk);
    sodium_memzero (key, sizeof key);
}

/* Converts the N RECIPIENTS to X25519 keys in XPK, refusing a node id that
 * does not convert and two that convert to the same key. */
static int
recipient_keys (const uint8_t (*recipients)[32], size_t n,
                uint8_t xpk[IM_SEAL_SLOTS][crypto_box_PUBLICKEYBYTES], char *err,
                size_t errsz)
{
    for (size_t i = 0; i < n; i++) {
        if (crypto_sign_ed25519_pk_to_curve25519 (xpk[i], recipients[i]) != 0)
            return im_fail (EINVAL, err, errsz,
                            "seal: recipient %zu is not a valid node id (no X25519 key)",
                            i + 1);
        for (size_t j = 0; j < i; j++)
            if (sodium_memcmp (xpk[i], xpk[j], crypto_box_PUBLICKEYBYTES) == 0)
                return im_fail (EINVAL, err, errsz,
                                "seal: recipient %zu is the same as recipient %zu", i + 1,
                                j + 1);
    }
    return 0;
}

int
im_seal (const uint8_t *payload, size_t len, const uint8_t (*recipients)[32], size_t n,
         uint8_t *out, size_t outsz, size_t *outlen, char *err, size_t errsz)
{
    if (!payload || !recipients || !out || !outlen)
        return im_fail (EINVAL, err, errsz, "seal: missing argument");
    if (len < 1 || len > IM_SEAL_PAYLOAD_MAX)
        return im_fail (EINVAL, err, errsz, "seal: payload of %zu bytes (1 to %d)", len,
                        IM_SEAL_PAYLOAD_MAX);
    if (n < 1 || n > IM_SEAL_SLOTS)
        return im_fail (EINVAL, err, errsz, "seal: %zu recipients (1 to %d)", n,
                        IM_SEAL_SLOTS);
    uint8_t xpk[IM_SEAL_SLOTS][crypto_box_PUBLICKEYBYTES];
    if (recipient_keys (recipients, n, xpk, err, errsz) != 0)
        return -1;
    size_t size = IM_SEAL_SIZE (len), padded = size - IM_SEAL_OVERHEAD;
    if (outsz < size)
        return im_fail (ENOSPC, err, errsz,
                        "seal: %zu bytes of room for an envelope of %zu", outsz, size);

    /* The recipients' slots at random places, the others filled. */
    size_t place[IM_SEAL_SLOTS];
    for (size_t i = 0; i < IM_SEAL_SLOTS; i++)
        place[i] = i;
    for (size_t i = IM_SEAL_SLOTS - 1; i > 0; i--) {
        size_t j = randombytes_uniform ((uint32_t)(i + 1)), t = place[i];
        place[i] = place[j];
        place[j] = t;
    }
    uint8_t key[KEY_SIZE];
    crypto_aead_xchacha20poly1305_ietf_keygen (key);
    memcpy (out, MAGIC, 4);
    for (size_t i = 0; i < IM_SEAL_SLOTS; i++) {
        uint8_t *slot = out + 4 + place[i] * IM_SEAL_SLOT_SIZE;
        if (i < n)
            crypto_box_seal (slot, key, sizeof key, xpk[i]);
        else
            filler_slot (slot);
    }
    uint8_t *nonce = out + IM_SEAL_HEAD, *body = nonce + NONCE_SIZE;
    randombytes_buf (nonce, NONCE_SIZE);
    size_t got = 0;
    memmove (body, payload, len);
    if (sodium_pad (&got, body, len, IM_SEAL_BLOCK, padded) != 0 || got != padded) {
        sodium_memzero (key, sizeof key);
        return im_fail (EINVAL, err, errsz, "seal: padding failed");
    }
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt (body, &clen, body, padded, out,
                                                IM_SEAL_HEAD, NULL, nonce, key);
    sodium_memzero (key, sizeof key);
    *outlen = size;
    return 0;
}

/* Each GET names the part it reads, then checks the remaining bytes. */
#define GET_SPAN(ptr, n, what)                                                           \
    do {                                                                                 \
        field = (what);                                                                  \
        if ((size_t)(ceiling - needle) < (size_t)(n))                                    \
            goto malformed;                                                              \
        (ptr) = needle;                                                                  \
        needle += (n);                                                                   \
    } while (0)

/* Tries each slot of SLOTS with the key pair derived from ED25519_SK; the
 * key of the first that opens goes to KEY. Returns 0, or -1 with errno
 * EINVAL (the secret key does not convert) or ENOENT (none opens). */
static int
open_slot (const uint8_t *slots, const uint8_t ed25519_sk[64], uint8_t key[KEY_SIZE],
           char *err, size_t errsz)
{
    uint8_t xsk[crypto_box_SECRETKEYBYTES], xpk[crypto_box_PUBLICKEYBYTES];
    if (crypto_sign_ed25519_sk_to_curve25519 (xsk, ed25519_sk) != 0
        || crypto_scalarmult_base (xpk, xsk) != 0) {
        sodium_memzero (xsk, sizeof xsk);
        return im_fail (EINVAL, err, errsz, "seal: the secret key has no X25519 key");
    }
    int found = 0;
    for (size_t i = 0; i < IM_SEAL_SLOTS && !found; i++)
        found = crypto_box_seal_open (key, slots + i * IM_SEAL_SLOT_SIZE,
                                      IM_SEAL_SLOT_SIZE, xpk, xsk)
                == 0;
    sodium_memzero (xsk, sizeof xsk);
    if (!found)
        return im_fail (ENOENT, err, errsz,
                        "seal: no slot opens with this key (not for this node)");
    return 0;
}

int
im_seal_open (const uint8_t *env, size_t len, const uint8_t ed25519_sk[64],
              uint8_t *payload, size_t psz, size_t *plen, char *err, size_t errsz)
{
    if (!env || !ed25519_sk || !payload || !plen)
        return im_fail (EINVAL, err, errsz, "seal: missing argument");
    const uint8_t *needle = env, *ceiling = env + len, *magic, *slots, *nonce, *body;
    const char *field = "length";
    if (len < IM_SEAL_SIZE (0) || len > IM_SEAL_MAX
        || (len - IM_SEAL_OVERHEAD) % IM_SEAL_BLOCK != 0)
        goto malformed;
    size_t clen = len - IM_SEAL_HEAD - NONCE_SIZE;
    GET_SPAN (magic, 4, "magic");
    if (memcmp (magic, MAGIC, 3) != 0)
        return im_fail (EBADMSG, err, errsz, "seal: not a sealed envelope");
    if (magic[3] != MAGIC[3])
        return im_fail (EBADMSG, err, errsz, "seal: unknown envelope version %u",
                        (unsigned)magic[3]);
    GET_SPAN (slots, IM_SEAL_SLOTS * IM_SEAL_SLOT_SIZE, "slots");
    GET_SPAN (nonce, NONCE_SIZE, "nonce");
    GET_SPAN (body, clen, "ciphertext");
    if (needle != ceiling)
        goto malformed;

    uint8_t key[KEY_SIZE];
    if (open_slot (slots, ed25519_sk, key, err, errsz) != 0)
        return -1;
    uint8_t plain[IM_SEAL_BLOCKS_MAX * IM_SEAL_BLOCK];
    unsigned long long mlen = 0;
    int bad = crypto_aead_xchacha20poly1305_ietf_decrypt (plain, &mlen, NULL, body, clen,
                                                          env, IM_SEAL_HEAD, nonce, key)
              != 0;
    sodium_memzero (key, sizeof key);
    size_t n = 0;
    if (bad || sodium_unpad (&n, plain, (size_t)mlen, IM_SEAL_BLOCK) != 0 || n == 0) {
        sodium_memzero (plain, sizeof plain);
        return im_fail (EBADMSG, err, errsz, "seal: %s",
                        bad ? "the envelope does not decrypt (changed on the way)"
                            : "bad padding");
    }
    if (n > psz) {
        sodium_memzero (plain, sizeof plain);
        return im_fail (ENOSPC, err, errsz,
                        "seal: %zu bytes of room for a payload of %zu", psz, n);
    }
    memcpy (payload, plain, n);
    sodium_memzero (plain, sizeof plain);
    *plen = n;
    return 0;

malformed:
    return im_fail (EBADMSG, err, errsz,
                    "seal: envelope of %zu bytes is malformed (in the %s)", len, field);
}
