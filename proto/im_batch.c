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

/* The node above AT at level L, whose sibling is SIB (bit L of INDEX set:
 * AT is the right child), into OUT (which may be AT). */
static void
up (unsigned index, int l, const uint8_t *at, const uint8_t *sib, uint8_t *out)
{
    if ((index >> l) & 1)
        node_hash (sib, at, out);
    else
        node_hash (at, sib, out);
}

/* The nodes from a record's leaf (CHAIN[0]) to the root (CHAIN[DEPTH]):
 * those above level FROM, CHAIN[0] to CHAIN[FROM] being made already (FROM
 * -1: none, the leaf hashed here too). */
static void
chain_of (const uint8_t *body, size_t len, const uint8_t *auth, int from,
          uint8_t chain[IM_BATCH_DEPTH + 1][IM_BATCH_HASH])
{
    unsigned index = auth[IM_BATCH_SALT];
    const uint8_t *path = auth + IM_BATCH_SALT + 1;
    if (from < 0)
        leaf_hash (auth, body, len, chain[0]);
    for (int l = from < 0 ? 0 : from; l < IM_BATCH_DEPTH; l++)
        up (index, l, chain[l], path + l * IM_BATCH_HASH, chain[l + 1]);
}

void
im_batch_root (const uint8_t *body, size_t len, const uint8_t *auth,
               uint8_t root[IM_BATCH_HASH])
{
    uint8_t chain[IM_BATCH_DEPTH + 1][IM_BATCH_HASH];
    chain_of (body, len, auth, -1, chain);
    memcpy (root, chain[IM_BATCH_DEPTH], IM_BATCH_HASH);
}

/* --- The cache of verified roots --------------------------------------- */

/* Sets of CACHE_WAYS entries: roots verified close together, as the
 * batches of one pull are, never evict each other. */
#define CACHE_WAYS 4

/* An entry: the origin, root and signature verified together. */
#define CACHE_ENTRY (32 + IM_BATCH_HASH + IM_BATCH_SIG)

/* The trees of the last batches verified, with the nodes their records led
 * to: node N (1 the root, 2N and 2N + 1 its children, the leaves
 * IM_BATCH_MAX to 2 * IM_BATCH_MAX - 1) is known when bit N of KNOWN is
 * set. A record whose leaf, or a node it leads to, is a node known at its
 * place, and whose path above it is the tree's, reaches the root verified:
 * it needs no more hashes. Each record verified adds its leaf, the nodes it
 * led to and its path, so that the parent of each node known is known, and
 * so is each such node's sibling. TREE_SETS_MAX sets at most, of
 * CACHE_WAYS. */
#define TREE_SETS_MAX 16
typedef struct {
    uint8_t origin[32];
    uint8_t sig[IM_BATCH_SIG];
    uint64_t known;
    uint8_t node[2 * IM_BATCH_MAX][IM_BATCH_HASH];
} tree_t;
_Static_assert(2 * IM_BATCH_MAX <= 64, "a node a bit of KNOWN");

struct _im_batch_cache_t {
    size_t sets;   /* a power of two */
    unsigned next; /* the way the next new entry takes */
    uint8_t key[crypto_shorthash_KEYBYTES];
    uint8_t (*entry)[CACHE_ENTRY];
    uint64_t verified, hits, hashes;
    tree_t *trees;      /* TREE_SETS sets of CACHE_WAYS */
    size_t tree_sets;   /* a power of two */
    unsigned tree_next; /* the way the next new tree takes */
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
    size_t tree_sets = sets < TREE_SETS_MAX ? sets : TREE_SETS_MAX;
    if (self) {
        self->entry = calloc (sets * CACHE_WAYS, CACHE_ENTRY);
        self->trees = calloc (tree_sets * CACHE_WAYS, sizeof *self->trees);
    }
    if (!self || !self->entry || !self->trees) {
        if (self) {
            free (self->entry);
            free (self->trees);
        }
        free (self);
        errno = ENOMEM;
        return NULL;
    }
    self->sets = sets;
    self->tree_sets = tree_sets;
    randombytes_buf (self->key, sizeof self->key);
    return self;
}

void
im_batch_cache_destroy (im_batch_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->entry);
    free ((*self_p)->trees);
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

uint64_t
im_batch_cache_hashes (const im_batch_cache_t *self)
{
    return self ? self->hashes : 0;
}

/* The tree of ORIGIN's batch signed SIG in CACHE, or NULL; *SET: its set. */
static tree_t *
tree_find (im_batch_cache_t *cache, const uint8_t origin[32], const uint8_t *sig,
           tree_t **set)
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;
    crypto_shorthash (h, sig, IM_BATCH_SIG, cache->key);
    memcpy (&v, h, sizeof v);
    *set = cache->trees + (v & (cache->tree_sets - 1)) * CACHE_WAYS;
    for (int w = 0; w < CACHE_WAYS; w++) {
        tree_t *t = &(*set)[w];
        if (t->known && memcmp (t->sig, sig, IM_BATCH_SIG) == 0
            && memcmp (t->origin, origin, 32) == 0)
            return t;
    }
    return NULL;
}

static int
known (const tree_t *t, unsigned n)
{
    return (int)((t->known >> n) & 1);
}

/* Notes in T the nodes of CHAIN (levels 0 to TOP - 1: leaf first) and
 * their siblings from PATH, for the record at leaf INDEX. */
static void
tree_learn (tree_t *t, unsigned index, const uint8_t chain[][IM_BATCH_HASH],
            const uint8_t *path, int top)
{
    unsigned n = IM_BATCH_MAX + index;
    for (int l = 0; l < top; l++, n >>= 1) {
        memcpy (t->node[n], chain[l], IM_BATCH_HASH);
        memcpy (t->node[n ^ 1], path + l * IM_BATCH_HASH, IM_BATCH_HASH);
        t->known |= (UINT64_C (1) << n) | (UINT64_C (1) << (n ^ 1));
    }
}

/* Whether BODY and AUTH reach T's root through nodes T knows (see tree_t):
 * the leaf, then the nodes above it until one is known, which must be the
 * one T holds at that place, with the rest of the path T's own. What they
 * led to is then learnt. A record that meets a node T holds with another
 * hash, or another path, is left to the full check (it cannot reach the
 * root that was verified, so it fails there), with the levels made here in
 * CHAIN, up to *MADE, for it to go on from. */
static int
tree_reaches (im_batch_cache_t *cache, tree_t *t, const uint8_t *body, size_t len,
              const uint8_t *auth, uint8_t chain[IM_BATCH_DEPTH + 1][IM_BATCH_HASH],
              int *made)
{
    unsigned index = auth[IM_BATCH_SALT];
    const uint8_t *path = auth + IM_BATCH_SALT + 1;
    unsigned n = IM_BATCH_MAX + index;
    leaf_hash (auth, body, len, chain[0]);
    int l = 0;
    while (!known (t, n)) { /* the root is known: this ends */
        up (index, l, chain[l], path + l * IM_BATCH_HASH, chain[l + 1]);
        cache->hashes++;
        l++;
        n >>= 1;
    }
    *made = l;
    if (memcmp (t->node[n], chain[l], IM_BATCH_HASH) != 0)
        return 0;
    for (int k = l; k < IM_BATCH_DEPTH; k++) {
        unsigned sib = ((IM_BATCH_MAX + index) >> k) ^ 1;
        if (!known (t, sib)
            || memcmp (t->node[sib], path + k * IM_BATCH_HASH, IM_BATCH_HASH) != 0)
            return 0;
    }
    tree_learn (t, index, (const uint8_t (*)[IM_BATCH_HASH])chain, path, l);
    return 1;
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

/* Makes T (NULL: a tree of SET, the oldest) ORIGIN's batch signed SIG, with
 * the root and the nodes CHAIN and PATH lead to, for the record at INDEX. */
static void
tree_add (im_batch_cache_t *cache, tree_t *set, tree_t *t, const uint8_t origin[32],
          const uint8_t *sig, unsigned index, const uint8_t chain[][IM_BATCH_HASH],
          const uint8_t *path)
{
    if (!t)
        t = &set[cache->tree_next++ % CACHE_WAYS];
    memcpy (t->origin, origin, 32);
    memcpy (t->sig, sig, IM_BATCH_SIG);
    memcpy (t->node[1], chain[IM_BATCH_DEPTH], IM_BATCH_HASH);
    t->known = UINT64_C (1) << 1;
    tree_learn (t, index, chain, path, IM_BATCH_DEPTH);
}

int
im_batch_verify (const uint8_t *body, size_t len, const uint8_t *auth,
                 const uint8_t origin[32], im_batch_cache_t *cache)
{
    if (!body || !auth || !origin) {
        errno = EINVAL;
        return -1;
    }
    if (auth[IM_BATCH_SALT] >= IM_BATCH_MAX) { /* no leaf of the tree */
        errno = EPERM;
        return -1;
    }
    uint8_t msg[4 + IM_BATCH_HASH];
    const uint8_t *sig = auth + IM_BATCH_AUTH - IM_BATCH_SIG;
    tree_t *set = NULL, *tree = cache ? tree_find (cache, origin, sig, &set) : NULL;
    uint8_t chain[IM_BATCH_DEPTH + 1][IM_BATCH_HASH];
    int made = -1;
    if (tree && tree_reaches (cache, tree, body, len, auth, chain, &made)) {
        cache->hits++;
        return 0;
    }
    chain_of (body, len, auth, made, chain);
    const uint8_t *root = chain[IM_BATCH_DEPTH];
    root_message (root, msg);
    uint8_t entry[CACHE_ENTRY];
    uint8_t *slot = NULL;
    if (cache) {
        cache->hashes += (uint64_t)(IM_BATCH_DEPTH - (made < 0 ? 0 : made));
        /* The set is chosen by a keyed hash of the root: a sender cannot
         * choose roots that crowd out others'. */
        uint8_t h[crypto_shorthash_BYTES];
        uint64_t v;
        crypto_shorthash (h, root, IM_BATCH_HASH, cache->key);
        memcpy (&v, h, sizeof v);
        memcpy (entry, origin, 32);
        memcpy (entry + 32, root, IM_BATCH_HASH);
        memcpy (entry + 32 + IM_BATCH_HASH, sig, IM_BATCH_SIG);
        uint8_t (*rset)[CACHE_ENTRY]
            = cache->entry + (v & (cache->sets - 1)) * CACHE_WAYS;
        for (int w = 0; w < CACHE_WAYS; w++)
            if (memcmp (rset[w], entry, CACHE_ENTRY) == 0) {
                cache->hits++;
                if (!tree) /* a tree of it again, for the batch's next records */
                    tree_add (cache, set, NULL, origin, sig, auth[IM_BATCH_SALT],
                              (const uint8_t (*)[IM_BATCH_HASH])chain,
                              auth + IM_BATCH_SALT + 1);
                return 0;
            }
        slot = rset[cache->next++ % CACHE_WAYS];
    }
    if (verify_counted (sig, msg, sizeof msg, origin, cache))
        return -1;
    if (cache) {
        memcpy (slot, entry, CACHE_ENTRY);
        /* A tree found for this signature led to another root, which the
         * signature cannot verify as well: it is replaced, never kept twice. */
        tree_add (cache, set, tree, origin, sig, auth[IM_BATCH_SALT],
                  (const uint8_t (*)[IM_BATCH_HASH])chain, auth + IM_BATCH_SALT + 1);
    }
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
