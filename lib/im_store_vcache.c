/* SPDX-License-Identifier: MPL-2.0 */
/* im_store_vcache.c -- the versions held of the records lately looked up or
 * written, in memory: a bounded cache in front of the records table for the
 * question the mesh asks most (is this record held, at which version?). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "im_store_int.h"

/* VCACHE_SETS sets of two slots: 2 MiB. A relaying node in a busy mesh asked
 * the records table about each record four times (the notes of its peers
 * and the ring of wanted keys), mostly within seconds of storing it: those
 * look-ups were a tenth of its thread (make bench, 16 nodes). */
#define VCACHE_SETS (1u << 14)
#define VCACHE_WAYS 2

typedef struct {
    uint8_t key[IM_STORE_KEY_SIZE];
    uint64_t version; /* held here; 0: not held */
    uint64_t used;
} vslot_t;

struct store_vcache_t {
    vslot_t slot[VCACHE_SETS][VCACHE_WAYS];
};

/* The set of KEY. Ids are chosen by their origin, so that one may make its
 * keys share a set: that costs look-ups in the table, never a wrong answer
 * (whole keys are compared). */
static vslot_t *
vcache_set (store_vcache_t *c, const uint8_t *key)
{
    uint64_t a, b, d;
    memcpy (&a, key, 8);
    memcpy (&b, key + IM_NODE_ID_SIZE, 8);
    memcpy (&d, key + IM_NODE_ID_SIZE + 8, 8);
    uint64_t h = a ^ (b * 0x9E3779B97F4A7C15ull) ^ (d * 0xC2B2AE3D27D4EB4Full);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return c->slot[h & (VCACHE_SETS - 1)];
}

int
store_vcache_get (const im_store_t *self, const uint8_t *key, uint64_t *version)
{
    if (!self->vcache)
        return 0;
    vslot_t *s = vcache_set (self->vcache, key);
    for (int w = 0; w < VCACHE_WAYS; w++)
        if (s[w].used && memcmp (s[w].key, key, IM_STORE_KEY_SIZE) == 0) {
            *version = s[w].version;
            return 1;
        }
    return 0;
}

void
store_vcache_prefetch (const im_store_t *self, const uint8_t *key)
{
    if (self->vcache) {
        const vslot_t *s = vcache_set (self->vcache, key);
        __builtin_prefetch (s);
        __builtin_prefetch (s + 1);
    }
}

void
store_vcache_put (im_store_t *self, const uint8_t *key, uint64_t version)
{
    if (!self->vcache) {
        if (!(self->vcache = calloc (1, sizeof *self->vcache)))
            return; /* no cache: every question goes to the table */
        /* Each set is as likely as any other, so that every page is soon
         * touched: made present in one call, not 512 page faults. */
        im_mem_populate (self->vcache, sizeof *self->vcache);
    }
    vslot_t *s = vcache_set (self->vcache, key);
    int w = 0;
    while (w < VCACHE_WAYS - 1
           && !(s[w].used && memcmp (s[w].key, key, IM_STORE_KEY_SIZE) == 0))
        w++;
    /* The newest first: the other goes, or the same key moves up. */
    memmove (s + 1, s, (size_t)w * sizeof *s);
    memcpy (s[0].key, key, IM_STORE_KEY_SIZE);
    s[0].version = version;
    s[0].used = 1;
}

void
store_vcache_clear (im_store_t *self)
{
    if (self->vcache)
        memset (self->vcache, 0, sizeof *self->vcache);
}

void
store_vcache_free (im_store_t *self)
{
    free (self->vcache);
    self->vcache = NULL;
}
