/* SPDX-License-Identifier: MPL-2.0 */
/* im_store_order.c -- the orders a put's records take: applied (and logged)
 * with each batch's records together, and the new ones stored in key order
 * (im_store_put.c does the putting). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "im_store_int.h"

/* The signature of ITEM's batch, or NULL when it has none (format 1). */
static const uint8_t *
item_sig (const im_store_item_t *item)
{
    if (!item->blob || item->len < IM_RECORD_FIXED + IM_BATCH_AUTH || item->blob[3] != 2)
        return NULL;
    return item->blob + item->len - IM_BATCH_SIG;
}

/* Where BYTES (LEN) first went in TABLE (CAP slots, a power of two, of item
 * numbers, SIZE_MAX when free), as item I: the item already there with the
 * same bytes (BYTES_OF gives an item's), else I, put in a free slot. */
static size_t
table_note (const im_store_t *self, size_t *table, size_t cap, const uint8_t *bytes,
            size_t len, size_t i, const im_store_item_t *items,
            const uint8_t *(*bytes_of) (const im_store_item_t *))
{
    _Static_assert(sizeof self->order_key == crypto_shorthash_KEYBYTES, "a SipHash key");
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t at;
    crypto_shorthash (h, bytes, len, self->order_key);
    memcpy (&at, h, sizeof at);
    for (at &= cap - 1; table[at] != SIZE_MAX; at = (at + 1) & (cap - 1))
        if (memcmp (bytes_of (&items[table[at]]), bytes, len) == 0)
            return table[at];
    table[at] = i;
    return i;
}

static const uint8_t *
item_key (const im_store_item_t *item)
{
    return item->rec->origin; /* followed by its id: the record's key */
}

/* The order N items are put in, into ORDER: those of one batch together,
 * batches in the order they first come. A peer's answer interleaves the
 * batches it took from several peers, and each switch cost the batch's root
 * again, a look-up and a write of the batch left (a tenth of storing a
 * record, make bench's 16 nodes); a batch's records are also one origin's,
 * neighbours in the records table. The items keep their order when no
 * batch comes back after another's records, when one record comes twice
 * (of two versions, the one that comes last must find the other stored:
 * review 95) and when memory is short. Grouped by a keyed hash (origins
 * choose their signatures' and ids' bytes), each compared whole. */
void
store_batch_order (const im_store_t *self, const im_store_item_t *items, size_t n,
                   size_t *order)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    if (n < 2)
        return;
    size_t cap = 16;
    while (cap < 2 * n && cap < SIZE_MAX / 4 / sizeof (size_t))
        cap *= 2;
    size_t *sigs = malloc (2 * cap * sizeof *sigs); /* slots: items, by batch and key */
    size_t *group = malloc (n * sizeof *group);     /* item: its batch's number */
    size_t *count = calloc (n + 1, sizeof *count);  /* batch: where its items go */
    if (!sigs || !group || !count) {
        free (sigs), free (group), free (count);
        return;
    }
    size_t *keys = sigs + cap;
    memset (sigs, 0xff, 2 * cap * sizeof *sigs);
    /* Most often no batch comes back after another (a PUBLISH, a peer that
     * sends as it stored): the first record of each run of one batch is
     * looked up, and nothing moves unless one batch has two runs. */
    int back = 0;
    for (size_t j = 0; j < n && !back; j++) {
        const uint8_t *sig = item_sig (&items[j]),
                      *prev = j ? item_sig (&items[j - 1]) : NULL;
        if (sig && !(prev && memcmp (prev, sig, IM_BATCH_SIG) == 0))
            back = table_note (self, sigs, cap, sig, IM_BATCH_SIG, j, items, item_sig)
                   != j;
    }
    if (!back) {
        free (sigs), free (group), free (count);
        return;
    }
    memset (sigs, 0xff, cap * sizeof *sigs);
    size_t groups = 0, i;
    for (i = 0; i < n; i++) {
        if (table_note (self, keys, cap, item_key (&items[i]), IM_STORE_KEY_SIZE, i,
                        items, item_key)
            != i)
            break; /* a record twice: the given order */
        const uint8_t *sig = item_sig (&items[i]);
        size_t first
            = sig ? table_note (self, sigs, cap, sig, IM_BATCH_SIG, i, items, item_sig)
                  : i;
        group[i] = first == i ? groups++ : group[first];
        count[group[i] + 1]++;
    }
    if (i == n) {
        for (size_t g = 1; g <= groups; g++)
            count[g] += count[g - 1];
        for (i = 0; i < n; i++)
            order[count[group[i]]++] = i;
    }
    free (sigs), free (group), free (count);
}

/* --- New records in key order (im_store_int.h says why) --------------- */

#define SORTED_BUF_MAX (8u << 20)  /* new values kept aside at most */
#define SORTED_BUF_KEEP (1u << 20) /* ... and kept for the next put */
#define SORTED_ORIGINS 64          /* origins in a put sorted at most */

static inline int
keyed_before (const store_keyed_t *a, const store_keyed_t *b)
{
    if (a->rank != b->rank)
        return a->rank < b->rank;
    if (a->hi != b->hi)
        return a->hi < b->hi;
    return a->lo != b->lo ? a->lo < b->lo : a->i < b->i;
}

/* Sorts the N entries of A (TMP: room for N more) by key: a merge of runs
 * that doubles, compared inline (qsort's call a comparison, over keys that
 * begin with 32 bytes of one origin, cost a tenth of the put). */
static void
keyed_sort (store_keyed_t *a, store_keyed_t *tmp, size_t n)
{
    store_keyed_t *from = a, *to = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = mid + width < n ? mid + width : n;
            size_t l = lo, r = mid, o = lo;
            while (l < mid && r < hi)
                to[o++] = keyed_before (&from[r], &from[l]) ? from[r++] : from[l++];
            while (l < mid)
                to[o++] = from[l++];
            while (r < hi)
                to[o++] = from[r++];
        }
        store_keyed_t *t = from;
        from = to;
        to = t;
    }
    if (from != a)
        memcpy (a, from, n * sizeof *a);
}

void
store_sorted_free (store_sorted_t *s)
{
    free (s->by_key), free (s->state), free (s->seq), free (s->value);
    memset (s, 0, sizeof *s);
}

/* Each item's origin ranked among the put's (at most SORTED_ORIGINS), into
 * BY (indexed by item). Returns 0, or -1 when there are more. */
static int
sorted_rank (const im_store_item_t *items, size_t n, store_keyed_t *by)
{
    const uint8_t *origin[SORTED_ORIGINS];
    uint32_t rank[SORTED_ORIGINS];
    size_t norigins = 0, last = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *o = items[i].rec->origin;
        size_t k = last;
        if (k >= norigins || memcmp (origin[k], o, IM_NODE_ID_SIZE) != 0)
            for (k = 0; k < norigins; k++)
                if (memcmp (origin[k], o, IM_NODE_ID_SIZE) == 0)
                    break;
        if (k == norigins) {
            if (norigins == SORTED_ORIGINS)
                return -1;
            origin[norigins++] = o;
        }
        by[i].rank = (uint32_t)k; /* the origin's slot, made a rank below */
        last = k;
    }
    for (size_t k = 0; k < norigins; k++) {
        rank[k] = 0;
        for (size_t m = 0; m < norigins; m++)
            rank[k] += memcmp (origin[m], origin[k], IM_NODE_ID_SIZE) < 0;
    }
    for (size_t i = 0; i < n; i++)
        by[i].rank = rank[by[i].rank];
    return 0;
}

_Static_assert(IM_ID_SIZE == 16, "an id is two numbers of 8 bytes");

static uint64_t
be64 (const uint8_t *p)
{
    uint64_t v = 0;
    for (int b = 0; b < 8; b++)
        v = (v << 8) | p[b];
    return v;
}

/* Prepares S for the N ITEMS, and SELF->put_buf for their values. Returns 0,
 * or -1 when the put is to be applied in one pass (S then empty). */
int
store_sorted_make (im_store_t *self, const im_store_item_t *items, size_t n,
                   store_sorted_t *s)
{
    memset (s, 0, sizeof *s);
    size_t room = 0;
    for (size_t i = 0; i < n && room <= SORTED_BUF_MAX; i++)
        room += items[i].len;
    if (n < 2 || n > UINT32_MAX || n > SIZE_MAX / (2 * sizeof *s->by_key) || room == 0
        || room > SORTED_BUF_MAX)
        return -1;
    s->by_key = malloc (2 * n * sizeof *s->by_key);
    s->state = malloc (n);
    s->seq = malloc (n * sizeof *s->seq);
    s->value = malloc (n * sizeof *s->value);
    if (!s->by_key || !s->state || !s->seq || !s->value
        || sorted_rank (items, n, s->by_key) != 0) {
        store_sorted_free (s);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        store_keyed_t *k = &s->by_key[i];
        k->key = items[i].rec->origin;
        k->hi = be64 (items[i].rec->id);
        k->lo = be64 (items[i].rec->id + 8);
        k->i = (uint32_t)i;
    }
    keyed_sort (s->by_key, s->by_key + n, n);
    for (size_t j = 1; j < n; j++) {
        const store_keyed_t *a = &s->by_key[j - 1], *b = &s->by_key[j];
        if (a->rank == b->rank && a->hi == b->hi && a->lo == b->lo) {
            store_sorted_free (s);
            return -1; /* a record twice */
        }
    }
    /* Sized once the put is known to take three passes (review 102). */
    if (room > self->put_cap) {
        free (self->put_buf);
        self->put_cap = 0;
        if (!(self->put_buf = malloc (room))) {
            store_sorted_free (s);
            return -1;
        }
        self->put_cap = room;
    }
    return 0;
}

void
store_sorted_done (im_store_t *self)
{
    if (self->put_cap > SORTED_BUF_KEEP) {
        free (self->put_buf);
        self->put_buf = NULL;
        self->put_cap = 0;
    }
}
