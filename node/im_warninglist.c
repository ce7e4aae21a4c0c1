/* SPDX-License-Identifier: MPL-2.0 */
/* im_warninglist.c -- MISP warninglists: the set's life cycle and the match of
 * a value against the lists loaded (im_warninglist_load.c); how a value of each
 * indicator type is matched comes from the table of types (im_types.h). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "im_ioc.h"
#include "im_types.h"
#include "im_warninglist.h"
#include "im_warninglist_int.h"

/* --- Shared with loading -------------------------------------------------- */

void
im_wl_state_free (state_t *st)
{
    for (size_t i = 0; i < st->nlists; i++)
        free (st->lists[i].name);
    free (st->lists);
    free (st->recs);
    free (st->slots);
    free (st->cidrs);
    free (st->subs);
    free (st->pool);
    memset (st, 0, sizeof *st);
}

static char
lower (char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

void
im_wl_lower_copy (char *out, const char *in, size_t len)
{
    for (size_t i = 0; i < len; i++)
        out[i] = lower (in[i]);
    out[len] = '\0';
}

/* FNV-1a, 64 bits. */
uint64_t
im_wl_hash_of (const char *s)
{
    uint64_t h = UINT64_C (14695981039346656037);
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C (1099511628211);
    }
    return h;
}

void
im_wl_mask_bits (uint8_t addr[16], int plen)
{
    for (int i = 0; i < 16; i++) {
        int keep = plen - i * 8;
        if (keep >= 8)
            continue;
        addr[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
    }
}

/* --- Public ------------------------------------------------------------- */

im_warninglists_t *
im_warninglists_new (void)
{
    im_warninglists_t *self = calloc (1, sizeof *self);
    if (!self)
        errno = ENOMEM;
    return self;
}

void
im_warninglists_destroy (im_warninglists_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    int saved = errno;
    im_wl_state_free (&(*self_p)->st);
    free (*self_p);
    *self_p = NULL;
    errno = saved;
}

size_t
im_warninglists_size (im_warninglists_t *self)
{
    return self ? self->st.nlists : 0;
}

size_t
im_warninglists_bad_entries (im_warninglists_t *self)
{
    return self ? self->st.nbad : 0;
}

size_t
im_warninglists_entries (im_warninglists_t *self)
{
    return self ? self->st.nentries - self->st.nbad : 0;
}

/* --- Matching ----------------------------------------------------------- */

typedef struct {
    uint32_t list;
    const char *entry;
} hit_t;

typedef struct {
    const state_t *st;
    uint64_t seen[IM_WARNINGLISTS_MAX / 64];
    hit_t hits[IM_WARNINGLISTS_MAX];
    size_t nhits;
} match_t;

static int
seen (const match_t *m, uint32_t list)
{
    return (m->seen[list / 64] >> (list % 64)) & 1;
}

static void
hit (match_t *m, uint32_t list, size_t entry)
{
    if (seen (m, list))
        return;
    m->seen[list / 64] |= UINT64_C (1) << (list % 64);
    m->hits[m->nhits].list = list;
    m->hits[m->nhits].entry = m->st->pool + entry;
    m->nhits++;
}

static void
find_key (match_t *m, int kind, const char *key)
{
    const state_t *st = m->st;
    if (!st->nslots)
        return;
    uint64_t h = im_wl_hash_of (key);
    size_t mask = st->nslots - 1;
    for (size_t i = (size_t)h & mask; st->slots[i]; i = (i + 1) & mask) {
        const rec_t *r = &st->recs[st->slots[i] - 1];
        if (r->hash == h && r->kind == kind && !seen (m, r->list)
            && strcmp (st->pool + r->key, key) == 0)
            hit (m, r->list, r->entry);
    }
}

/* HOST and each of its parent domains, in hostname lists. */
static void
find_host (match_t *m, const char *host)
{
    const char *last = strrchr (host, '.');
    last = last ? last + 1 : host;
    if (strspn (last, "0123456789") == strlen (last))
        return; /* an IPv4 address, not a name */
    for (const char *s = host;;) {
        find_key (m, KIND_HOSTNAME, s);
        const char *dot = strchr (s, '.');
        if (!dot || !dot[1])
            break;
        s = dot + 1;
    }
}

static size_t
cidr_lower_bound (const state_t *st, const cidr_t *key)
{
    size_t lo = 0, hi = st->ncidrs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const cidr_t *c = &st->cidrs[mid];
        int cmp = c->family != key->family ? (c->family < key->family ? -1 : 1)
                                           : memcmp (c->addr, key->addr, 16);
        if (cmp == 0)
            cmp = c->plen < key->plen ? -1 : c->plen > key->plen ? 1 : 0;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int
same_bits (const uint8_t *a, const uint8_t *b, int bits)
{
    int bytes = bits / 8, rest = bits % 8;
    if (memcmp (a, b, (size_t)bytes) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

/* Listed prefixes that contain the prefix ADDR/PLEN or lie inside it. */
static void
find_cidr (match_t *m, int family, const uint8_t addr[16], int plen)
{
    const state_t *st = m->st;
    const uint64_t *bits = st->plens[family == 4 ? 0 : 1];
    int maxlen = family == 4 ? 32 : 128;
    cidr_t key;
    memset (&key, 0, sizeof key);
    key.family = (uint8_t)family;

    /* those that contain it: one look-up per prefix length listed */
    for (int len = 0; len <= plen; len++) {
        if (!((bits[len / 64] >> (len % 64)) & 1))
            continue;
        memcpy (key.addr, addr, 16);
        im_wl_mask_bits (key.addr, len);
        key.plen = (uint8_t)len;
        for (size_t i = cidr_lower_bound (st, &key);
             i < st->ncidrs && st->cidrs[i].family == family && st->cidrs[i].plen == len
             && memcmp (st->cidrs[i].addr, key.addr, 16) == 0;
             i++)
            hit (m, st->cidrs[i].list, st->cidrs[i].entry);
    }
    /* those inside it, longer: contiguous after ADDR/PLEN in sorted order */
    if (plen < maxlen) {
        memcpy (key.addr, addr, 16);
        im_wl_mask_bits (key.addr, plen);
        key.plen = (uint8_t)(plen + 1);
        for (size_t i = cidr_lower_bound (st, &key);
             i < st->ncidrs && st->cidrs[i].family == family
             && same_bits (st->cidrs[i].addr, key.addr, plen);
             i++)
            hit (m, st->cidrs[i].list, st->cidrs[i].entry);
    }
}

static int
hit_cmp (const void *a, const void *b)
{
    const hit_t *x = a, *y = b;
    return x->list < y->list ? -1 : x->list > y->list;
}

int
im_warninglists_match (im_warninglists_t *self, int type, const char *value,
                       im_warninglist_fn *fn, void *arg)
{
    if (!self || !value || type <= IM_TYPE_NONE || type >= IM_TYPE_COUNT) {
        errno = EINVAL;
        return -1;
    }
    size_t len = strnlen (value, IM_VALUE_MAX + 1);
    if (len > IM_VALUE_MAX) {
        errno = EINVAL;
        return -1;
    }
    const state_t *st = &self->st;
    if (len == 0) {
        errno = EINVAL;
        return -1;
    }
    if (st->nlists == 0)
        return 0;

    match_t mbuf, *m = &mbuf;
    m->st = st;
    m->nhits = 0;
    memset (m->seen, 0, sizeof m->seen);

    char low[IM_VALUE_MAX + 1], host[IM_VALUE_MAX + 1];
    im_wl_lower_copy (low, value, len);
    im_wl_match_t wl = im_type_info (type)->wl;
    int has_host = (wl == IM_WL_URL_HOST || wl == IM_WL_EMAIL_HOST)
                   && im_type_host (type, low, host, sizeof host) == 0;

    find_key (m, KIND_STRING, low);
    if (has_host)
        find_key (m, KIND_STRING, host);
    if (wl == IM_WL_HOSTNAME)
        find_host (m, low);
    else if (has_host && !strchr (host, ':'))
        find_host (m, host);
    if (wl == IM_WL_CIDR && st->ncidrs) {
        uint8_t addr[16];
        int plen;
        if (im_ioc_prefix (type, value, addr, &plen) == 0) {
            if (type == IM_TYPE_IPV4)
                memset (addr + 4, 0, 12);
            find_cidr (m, type == IM_TYPE_IPV4 ? 4 : 6, addr, plen);
        }
    }
    for (size_t i = 0; i < st->nsubs; i++)
        if (!seen (m, st->subs[i].list) && strstr (low, st->pool + st->subs[i].key))
            hit (m, st->subs[i].list, st->subs[i].entry);

    if (m->nhits > 1)
        qsort (m->hits, m->nhits, sizeof *m->hits, hit_cmp);
    int count = 0;
    for (size_t i = 0; i < m->nhits; i++) {
        count++;
        if (fn && fn (st->lists[m->hits[i].list].name, m->hits[i].entry, arg))
            break;
    }
    return count;
}
