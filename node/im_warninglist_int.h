/* SPDX-License-Identifier: MPL-2.0 */
/* im_warninglist_int.h -- private to im_warninglist.c (matching) and
 * im_warninglist_load.c (loading): the loaded lists' layout and the helpers
 * both use. */
#ifndef IM_WARNINGLIST_INT_H
#define IM_WARNINGLIST_INT_H

#include <stddef.h>
#include <stdint.h>

#include "im_warninglist.h"

enum { KIND_STRING = 1, KIND_SUBSTRING, KIND_HOSTNAME, KIND_CIDR, KIND_REGEX };

typedef struct {
    char *name;
    int kind;
} list_t;

/* A string or hostname entry in the hash table. */
typedef struct {
    uint64_t hash;
    size_t key;   /* offset in the pool: the lower-case form looked up */
    size_t entry; /* offset in the pool: the entry as the list wrote it */
    uint32_t list;
    uint8_t kind;
} rec_t;

typedef struct {
    uint8_t addr[16]; /* network bytes, host bits clear */
    uint8_t plen;
    uint8_t family; /* 4 or 6 */
    uint32_t list;
    size_t entry;
} cidr_t;

typedef struct {
    size_t key;
    size_t entry;
    uint32_t list;
} sub_t;

/* Everything one load made; replaced as a whole when a load succeeds. */
typedef struct {
    list_t *lists;
    size_t nlists;
    rec_t *recs;
    size_t nrecs, recs_cap;
    uint32_t *slots; /* open addressing: index in recs + 1, 0 when empty */
    size_t nslots;   /* a power of two, or 0 */
    cidr_t *cidrs;
    size_t ncidrs, cidrs_cap;
    uint64_t plens[2][3]; /* [ipv4, ipv6]: one bit per prefix length listed */
    sub_t *subs;
    size_t nsubs, subs_cap;
    char *pool; /* every key and entry, NUL terminated */
    size_t pool_used, pool_cap;
    size_t nentries, nbad;
} state_t;

struct _im_warninglists_t {
    state_t st;
};

/* Frees everything of ST and clears it. */
void im_wl_state_free (state_t *st);

/* Copies LEN bytes of IN into OUT in ASCII lower case, NUL terminated. */
void im_wl_lower_copy (char *out, const char *in, size_t len);

/* FNV-1a, 64 bits, of the string S. */
uint64_t im_wl_hash_of (const char *s);

/* Clears the bits of ADDR past PLEN. */
void im_wl_mask_bits (uint8_t addr[16], int plen);

#endif
