/* SPDX-License-Identifier: MPL-2.0 */
/* im_batch.h -- origin-signed batches (proto/SPEC.md, "Batches"): one Ed25519
 * signature over the root of a fixed-depth Merkle tree of salted record
 * hashes, so that each record verifies alone, or in any subset, with one
 * signature per batch; and a bounded cache of roots already verified. */
#ifndef IM_BATCH_H
#define IM_BATCH_H

#include <stddef.h>
#include <stdint.h>

#define IM_BATCH_DEPTH 5                   /* levels above the leaves */
#define IM_BATCH_MAX (1 << IM_BATCH_DEPTH) /* 32 records a batch at most */
#define IM_BATCH_HASH 32                   /* BLAKE2b-256 */
#define IM_BATCH_SALT 16                   /* fresh random bytes a record */
#define IM_BATCH_SIG 64                    /* Ed25519 */
/* What follows the body in a record of format 2: salt, leaf index, path,
 * the origin's signature of the root. */
#define IM_BATCH_AUTH (IM_BATCH_SALT + 1 + IM_BATCH_DEPTH * IM_BATCH_HASH + IM_BATCH_SIG)
#define IM_BATCH_CACHE_DEFAULT 4096

typedef struct _im_batch_cache_t im_batch_cache_t;

/* Writes the authentication of N (1 to IM_BATCH_MAX) bodies into AUTHS[i]
 * (IM_BATCH_AUTH bytes each): each body gets a fresh salt and a random leaf
 * of the 32, the leaves no body takes and the subtrees holding none are
 * random, and the root is signed with SECRET_KEY. Returns 0, or -1 with
 * errno EINVAL (bad N or a NULL argument). */
int im_batch_seal (const uint8_t *const *bodies, const size_t *lens, size_t n,
                   const uint8_t secret_key[64], uint8_t *const *auths);

/* The root that BODY (LEN bytes) and its AUTH lead to. */
void im_batch_root (const uint8_t *body, size_t len, const uint8_t *auth,
                    uint8_t root[IM_BATCH_HASH]);

/* Checks AUTH for BODY against the signing key ORIGIN: the root the body and
 * its path lead to must carry ORIGIN's signature. A root already verified
 * with the same signature (in CACHE, which may be NULL) is not verified
 * again; one that verifies is added. A leaf place of IM_BATCH_MAX or more
 * is refused. Returns 0, or -1 with errno EPERM. */
int im_batch_verify (const uint8_t *body, size_t len, const uint8_t *auth,
                     const uint8_t origin[32], im_batch_cache_t *cache);

/* Checks SIG, a record of format 1's signature of its whole BODY, against
 * ORIGIN, and counts it in CACHE (may be NULL) as a signature verified.
 * Returns 0, or -1 with errno EPERM. */
int im_batch_verify_single (const uint8_t *body, size_t len, const uint8_t *sig,
                            const uint8_t origin[32], im_batch_cache_t *cache);

/* A cache of SLOTS (1 to 2^20) verified (origin, root, signature) triples,
 * kept under a random key, so that nobody can choose which entries evict
 * which. Returns NULL with errno EINVAL or ENOMEM. */
im_batch_cache_t *im_batch_cache_new (size_t slots);
void im_batch_cache_destroy (im_batch_cache_t **self_p);

/* Counters: signatures verified, and checks answered from the cache. */
void im_batch_cache_stats (const im_batch_cache_t *self, uint64_t *verified,
                           uint64_t *hits);
/* The hashes of nodes above the leaves computed with SELF (the nodes of a
 * batch's tree met before are not computed again). */
uint64_t im_batch_cache_hashes (const im_batch_cache_t *self);

#endif
