/* SPDX-License-Identifier: MPL-2.0 */
/* im_batch.c -- origin-signed batches: the salted Merkle tree an origin signs
 * once for up to 32 records, the check of one record's path against its
 * root's signature, and the bounded cache of roots already verified. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "im_batch.h"

/* The signed message: "IMB", the record format, the root. */
static const uint8_t root_magic[4] = { 'I', 'M', 'B', 2 };

static void
leaf_hash (const uint8_t *salt, const uint8_t *body, size_t len,
           uint8_t out[IM_BATCH_HASH])
{
    static const uint8_t tag = 0x00;
    crypto_generichash_state st;
    crypto_generichash_init (&st, NULL, 0, IM_BATCH_HASH);
    crypto_generichash_update (&st, &tag, 1);
    crypto_generichash_update (&st, salt, IM_BATCH_SALT);
    crypto_generichash_update (&st, body, len);
    crypto_generichash_final (&st, out, IM_BATCH_HASH);
}

static void
node_hash (const uint8_t *left, const uint8_t *right, uint8_t out[IM_BATCH_HASH])
{
    uint8_t in[1 + 2 * IM_BATCH_HASH];
    in[0] = 0x01;
    memcpy (in + 1, left, IM_BATCH_HASH);
    memcpy (in + 1 + IM_BATCH_HASH, right, IM_BATCH_HASH);
    crypto_generichash (out, IM_BATCH_HASH, in, sizeof in, NULL, 0);
}

static void
root_message (const uint8_t root[IM_BATCH_HASH], uint8_t msg[4 + IM_BATCH_HASH])
{
    memcpy (msg, root_magic, 4);
    memcpy (msg + 4, root, IM_BATCH_HASH);
}

int
im_batch_seal (const uint8_t *const *bodies, const size_t *lens, size_t n,
               const uint8_t secret_key[64], uint8_t *const *auths)
{
    if (!bodies || !lens || !secret_key || !auths || n < 1 || n > IM_BATCH_MAX) {
        errno = EINVAL;
        return -1;
    }
    /* tree[l][j]: node j of level l (0: leaves); used[l][j]: it holds a body.
     * Nodes over no body are random: nobody can tell them from real ones. */
    uint8_t tree[IM_BATCH_DEPTH + 1][IM_BATCH_MAX][IM_BATCH_HASH];
    uint8_t used[IM_BATCH_DEPTH + 1][IM_BATCH_MAX];
    uint8_t place[IM_BATCH_MAX];
    /* One system call a batch: the fillers, salts and places come from a
     * ChaCha20 stream under a fresh random key. */
    struct {
        uint8_t salts[IM_BATCH_MAX][IM_BATCH_SALT];
        uint32_t draws[IM_BATCH_MAX];
    } rnd;
    uint8_t seed[crypto_stream_chacha20_KEYBYTES];
    static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = { 0 };
    uint8_t stream[sizeof tree + sizeof rnd];
    randombytes_buf (seed, sizeof seed);
    crypto_stream_chacha20 (stream, sizeof stream, nonce, seed);
    memcpy (tree, stream, sizeof tree);
    memcpy (&rnd, stream + sizeof tree, sizeof rnd);
    sodium_memzero (seed, sizeof seed);
    memset (used, 0, sizeof used);
    for (size_t i = 0; i < IM_BATCH_MAX; i++)
        place[i] = (uint8_t)i;
    for (size_t i = IM_BATCH_MAX - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = rnd.draws[i] % (i + 1);          /* bias below 2^-26 */
        uint8_t t = place[i];
        place[i] = place[j];
        place[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t *salt = auths[i];
        memcpy (salt, rnd.salts[i], IM_BATCH_SALT);
        salt[IM_BATCH_SALT] = place[i];
        leaf_hash (salt, bodies[i], lens[i], tree[0][place[i]]);
        used[0][place[i]] = 1;
    }
    for (int l = 1; l <= IM_BATCH_DEPTH; l++)
        for (size_t j = 0; j < (size_t)(IM_BATCH_MAX >> l); j++)
            if (used[l - 1][2 * j] || used[l - 1][2 * j + 1]) {
                used[l][j] = 1;
                node_hash (tree[l - 1][2 * j], tree[l - 1][2 * j + 1], tree[l][j]);
            }
    uint8_t msg[4 + IM_BATCH_HASH], sig[IM_BATCH_SIG];
    root_message (tree[IM_BATCH_DEPTH][0], msg);
    crypto_sign_detached (sig, NULL, msg, sizeof msg, secret_key);
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = auths[i] + IM_BATCH_SALT + 1;
        for (int l = 0; l < IM_BATCH_DEPTH; l++, p += IM_BATCH_HASH)
            memcpy (p, tree[l][(place[i] >> l) ^ 1], IM_BATCH_HASH);
        memcpy (p, sig, IM_BATCH_SIG);
    }
    sodium_memzero (tree, sizeof tree);
    sodium_memzero (stream, sizeof stream);
    sodium_memzero (&rnd, sizeof rnd);
    return 0;
}

void
im_batch_root (const uint8_t *body, size_t len, const uint8_t *auth,
               uint8_t root[IM_BATCH_HASH])
{
    unsigned index = auth[IM_BATCH_SALT];
    const uint8_t *path = auth + IM_BATCH_SALT + 1;
    uint8_t at[IM_BATCH_HASH];
    leaf_hash (auth, body, len, at);
    for (int l = 0; l < IM_BATCH_DEPTH; l++, path += IM_BATCH_HASH) {
        if ((index >> l) & 1)
            node_hash (path, at, at);
        else
            node_hash (at, path, at);
    }
    memcpy (root, at, IM_BATCH_HASH);
}

/* --- The cache of verified roots --------------------------------------- */

/* Sets of CACHE_WAYS entries: roots verified close together, as the
 * batches of one pull are, never evict each other. */
#define CACHE_WAYS 4

/* An entry: the origin, root and signature verified together. */
#define CACHE_ENTRY (32 + IM_BATCH_HASH + IM_BATCH_SIG)

struct _im_batch_cache_t {
    size_t sets;   /* a power of two */
    unsigned next; /* the way the next new entry takes */
    uint8_t key[crypto_shorthash_KEYBYTES];
    uint8_t (*entry)[CACHE_ENTRY];
    uint64_t verified, hits;
};

im_batch_cache_t *
im_batch_cache_new (size_t slots)
{
    if (slots < 1 || slots > ((size_t)1 << 20)) {
        errno = EINVAL;
        return NULL;
    }
    im_batch_cache_t *self = calloc (1, sizeof *self);
    size_t sets = 1;
    while (sets * CACHE_WAYS < slots)
        sets <<= 1;
    if (self)
        self->entry = calloc (sets * CACHE_WAYS, CACHE_ENTRY);
    if (!self || !self->entry) {
        free (self);
        errno = ENOMEM;
        return NULL;
    }
    self->sets = sets;
    randombytes_buf (self->key, sizeof self->key);
    return self;
}

void
im_batch_cache_destroy (im_batch_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->entry);
    free (*self_p);
    *self_p = NULL;
}

void
im_batch_cache_stats (const im_batch_cache_t *self, uint64_t *verified, uint64_t *hits)
{
    if (verified)
        *verified = self ? self->verified : 0;
    if (hits)
        *hits = self ? self->hits : 0;
}

/* Checks SIG of MSG against ORIGIN and counts it in CACHE (may be NULL).
 * Returns 0, or -1 with errno EPERM. */
static int
verify_counted (const uint8_t *sig, const uint8_t *msg, size_t len,
                const uint8_t origin[32], im_batch_cache_t *cache)
{
    if (crypto_sign_verify_detached (sig, msg, len, origin) != 0) {
        errno = EPERM;
        return -1;
    }
    if (cache)
        cache->verified++;
    return 0;
}

int
im_batch_verify (const uint8_t *body, size_t len, const uint8_t *auth,
                 const uint8_t origin[32], im_batch_cache_t *cache)
{
    if (!body || !auth || !origin) {
        errno = EINVAL;
        return -1;
    }
    uint8_t msg[4 + IM_BATCH_HASH], root[IM_BATCH_HASH];
    const uint8_t *sig = auth + IM_BATCH_AUTH - IM_BATCH_SIG;
    im_batch_root (body, len, auth, root);
    root_message (root, msg);
    uint8_t entry[CACHE_ENTRY];
    uint8_t *slot = NULL;
    if (cache) {
        /* The set is chosen by a keyed hash of the root: a sender cannot
         * choose roots that crowd out others'. */
        uint8_t h[crypto_shorthash_BYTES];
        uint64_t v;
        crypto_shorthash (h, root, IM_BATCH_HASH, cache->key);
        memcpy (&v, h, sizeof v);
        memcpy (entry, origin, 32);
        memcpy (entry + 32, root, IM_BATCH_HASH);
        memcpy (entry + 32 + IM_BATCH_HASH, sig, IM_BATCH_SIG);
        uint8_t (*set)[CACHE_ENTRY] = cache->entry + (v & (cache->sets - 1)) * CACHE_WAYS;
        for (int w = 0; w < CACHE_WAYS; w++)
            if (memcmp (set[w], entry, CACHE_ENTRY) == 0) {
                cache->hits++;
                return 0;
            }
        slot = set[cache->next++ % CACHE_WAYS];
    }
    if (verify_counted (sig, msg, sizeof msg, origin, cache))
        return -1;
    if (cache)
        memcpy (slot, entry, CACHE_ENTRY);
    return 0;
}

int
im_batch_verify_single (const uint8_t *body, size_t len, const uint8_t *sig,
                        const uint8_t origin[32], im_batch_cache_t *cache)
{
    if (!body || !sig || !origin) {
        errno = EINVAL;
        return -1;
    }
    return verify_counted (sig, body, len, origin, cache);
}
