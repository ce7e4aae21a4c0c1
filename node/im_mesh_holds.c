/* SPDX-License-Identifier: MPL-2.0 */
/* im_mesh_holds.c -- two bounded caches a peer has: the keys it said (HAVE,
 * KEYS) that it holds, never sent to it, and the keys of its records that
 * this node's inbound rules refused, never fetched from it again. Each can
 * only forget, which costs a duplicate or a fetch, never a record. */
#include "config.h"

#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_mesh_int.h"

/* The fingerprint of KEY in P's cache of HAVE notes: SipHash-2-4 of the key
 * under P's own random key of the run, never 0 (an empty slot); its top
 * bits choose the bucket of HOLDS_WAYS slots (half a cache line). Eight
 * bytes a slot instead of the key's 56 keep the cache small enough to stay
 * in the processor's caches: looking into it was a twelfth of a relaying
 * node's thread, most of it misses. A keyed hash, because record ids are
 * chosen by their origin: under a plain multiply-and-shift hash two ids
 * differing in three chosen bits collided under every seed, so that a
 * peer's note of one withheld the other from it (t69, block chosen). Now a key not noted
 * matches one of a bucket's fingerprints with odds of 2^-50 a look whoever
 * chose it; the record is then not sent to P until P's next anti-entropy
 * walk (SYNC and KEYS do not look here). */
static uint64_t
holds_print (const peer_t *p, const uint8_t *key, uint64_t **bucket)
{
    _Static_assert(HOLDS_SLOTS / HOLDS_WAYS == 1 << 12, "12 bits choose the bucket");
    _Static_assert(sizeof p->holds_key == crypto_shorthash_KEYBYTES, "a SipHash key");
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash (out, key, IM_MSG_HAVE_KEY, p->holds_key);
    uint64_t h;
    memcpy (&h, out, sizeof h);
    *bucket = p->holds + (size_t)(h >> 52) * HOLDS_WAYS;
    return h ? h : 1;
}

/* The prints of the M keys at KEYS (at most HOLDS_AHEAD) into PRINT and their
 * buckets into BUCKET, each bucket asked of memory before any is read: a
 * bucket is most often a miss of the processor's caches, and keys come by
 * the hundred (a HAVE, the changes of a serving walk, what was stored). */
#define HOLDS_AHEAD 8
static void
holds_ahead (const peer_t *p, const uint8_t *keys, size_t m, uint64_t *print,
             uint64_t **bucket)
{
    for (size_t j = 0; j < m; j++) {
        print[j] = holds_print (p, keys + j * IM_MSG_HAVE_KEY, &bucket[j]);
        __builtin_prefetch (bucket[j], 1);
    }
}

/* The N keys at KEYS: each goes first in its bucket and pushes the oldest
 * out (the cache can only forget, which costs a duplicate, never a record). */
void
peer_holds_add (peer_t *p, const uint8_t *keys, size_t n)
{
    uint64_t print[HOLDS_AHEAD], *bucket[HOLDS_AHEAD];
    for (size_t i = 0; i < n; i += HOLDS_AHEAD) {
        size_t m = n - i < HOLDS_AHEAD ? n - i : HOLDS_AHEAD;
        holds_ahead (p, keys + i * IM_MSG_HAVE_KEY, m, print, bucket);
        for (size_t j = 0; j < m; j++) {
            uint64_t *b = bucket[j];
            int w = 0;
            while (w < HOLDS_WAYS - 1 && b[w] != print[j])
                w++;
            memmove (b + 1, b, (size_t)w * sizeof *b);
            b[0] = print[j];
        }
    }
}

/* The N keys at KEYS, each looked for, into HELD (1 when P said it holds
 * it): looked for one at a time, the look was a twentieth of a relaying
 * node's thread when it noted what it stored to its peers. */
void
peer_holds_has_many (peer_t *p, const uint8_t *keys, size_t n, uint8_t *held)
{
    uint64_t print[HOLDS_AHEAD], *bucket[HOLDS_AHEAD];
    for (size_t i = 0; i < n; i += HOLDS_AHEAD) {
        size_t m = n - i < HOLDS_AHEAD ? n - i : HOLDS_AHEAD;
        holds_ahead (p, keys + i * IM_MSG_HAVE_KEY, m, print, bucket);
        for (size_t j = 0; j < m; j++) {
            int found = 0;
            for (int w = 0; w < HOLDS_WAYS; w++)
                found |= bucket[j][w] == print[j];
            held[i + j] = (uint8_t)found;
        }
    }
}

int
peer_holds_has (peer_t *p, const uint8_t *key)
{
    uint8_t held;
    peer_holds_has_many (p, key, 1, &held);
    return held;
}

/* Records from P that our inbound rules for it refused: not fetched from it
 * again. A cache of REFUSED_SLOTS keys in buckets of REFUSED_WAYS, two
 * buckets a key: a key goes to a free slot of either (or stays where it is);
 * only when all are taken is one overwritten. Forgetting one costs a fetch,
 * never a record. Both buckets come from one hash of the key. */
static void
refused_buckets (peer_t *p, const uint8_t *key, uint8_t *b[2])
{
    uint64_t h = 14695981039346656037ull;
    for (int i = 0; i < IM_MSG_HAVE_KEY; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    size_t buckets = REFUSED_SLOTS / REFUSED_WAYS;
    b[0] = p->refused_keys
           + (size_t)((h & 0xffffffffu) % buckets) * REFUSED_WAYS * IM_MSG_HAVE_KEY;
    b[1] = p->refused_keys
           + (size_t)((h >> 32) % buckets) * REFUSED_WAYS * IM_MSG_HAVE_KEY;
}

void
peer_refused_add (peer_t *p, const im_record_t *rec)
{
    static const uint8_t empty[IM_MSG_HAVE_KEY];
    uint8_t key[IM_MSG_HAVE_KEY], *b[2];
    mesh_record_key (rec, key);
    refused_buckets (p, key, b);
    uint8_t *free_slot = NULL;
    for (int second = 0; second < 2; second++)
        for (int w = 0; w < REFUSED_WAYS; w++) {
            uint8_t *slot = b[second] + w * IM_MSG_HAVE_KEY;
            if (memcmp (slot, key, sizeof key) == 0)
                return;
            if (!free_slot && memcmp (slot, empty, sizeof key) == 0)
                free_slot = slot;
        }
    if (free_slot)
        p->nrefused_keys++;
    else /* all taken: one of the first bucket's goes, by the key */
        free_slot = b[0] + (key[IM_NODE_ID_SIZE] % REFUSED_WAYS) * IM_MSG_HAVE_KEY;
    memcpy (free_slot, key, IM_MSG_HAVE_KEY);
}

/* Whether KEY is in P's cache. A peer none of whose records were refused
 * (the common case) costs no hash and no look into the cache, which misses
 * the processor's caches: it was a tenth of a relaying node's own time. */
int
peer_refused_has (peer_t *p, const uint8_t *key)
{
    if (p->nrefused_keys == 0)
        return 0;
    uint8_t *b[2];
    refused_buckets (p, key, b);
    for (int second = 0; second < 2; second++)
        for (int w = 0; w < REFUSED_WAYS; w++)
            if (memcmp (b[second] + w * IM_MSG_HAVE_KEY, key, IM_MSG_HAVE_KEY) == 0)
                return 1;
    return 0;
}
