/* SPDX-License-Identifier: MPL-2.0 */
/* im_guard.h -- the built-in guards checked before a value is published: the
 * special-purpose address ranges and domain names of the IANA registries
 * (RFC 6890, 6761 and the RFCs they cite), and the widest prefix accepted. */
#ifndef IM_GUARD_H
#define IM_GUARD_H

#include <stddef.h>

/* The widest prefixes accepted, from anyone: an IPv4 prefix shorter than /8
 * or an IPv6 prefix shorter than /16 would match too much of the Internet. */
#define IM_GUARD_PLEN4_MIN 8
#define IM_GUARD_PLEN6_MIN 16

/* A built-in list that holds a value. */
typedef struct {
    const char *list;  /* the list's name: "private-use" */
    const char *rfc;   /* where it is defined: "RFC 1918" */
    const char *entry; /* the range or name that matched: "10.0.0.0/8" */
    int documentation; /* 1 for documentation ranges and names (RFC 5737, 3849,
                        * 2606, 6761 .example): they match nothing real, so
                        * publishing them only warns */
    /* For an IPv6 value whose embedded IPv4 address the list holds (see
     * im_guard_check), the IPv6 form and the IPv4 address or prefix; NULL
     * and "" otherwise. */
    const char *form;     /* "6to4", "NAT64", "IPv4-mapped", "IPv4-compatible" */
    const char *form_rfc; /* "RFC 3056" */
    char ipv4[20];        /* "10.0.0.1", "10.0.0.0/8" */
} im_guard_hit_t;

/* Returns 1 when VALUE (canonical, of TYPE: see im_ioc_normalise) is an IPv4
 * prefix shorter than /IM_GUARD_PLEN4_MIN or an IPv6 prefix shorter than
 * /IM_GUARD_PLEN6_MIN (or than im_guard_min_plen for an IPv6 prefix that
 * embeds IPv4), with its length in *PLEN and the shortest accepted in
 * *MIN (either may be NULL); else 0 (other types, bad values). */
int im_guard_too_broad (int type, const char *value, int *plen, int *min);

/* The shortest prefix length accepted for the IPv4 (FAMILY 4) or IPv6 (6)
 * prefix ADDR/PLEN: IM_GUARD_PLEN4_MIN, IM_GUARD_PLEN6_MIN, or for an IPv6
 * prefix in a form that embeds IPv4 (NAT64, 6to4, ...: see im_guard_check)
 * that holds less than /IM_GUARD_PLEN4_MIN of it, the form's length plus
 * IM_GUARD_PLEN4_MIN (64:ff9b::/96, every IPv4 address, is too broad). */
int im_guard_min_plen (int family, const unsigned char addr[16], int plen);

/* Writes " (the NAT64 prefix of 0.0.0.0/0, RFC 6052)" into BUF when VALUE
 * (canonical, of TYPE) is too broad by the IPv4 prefix it embeds, else "".
 * Returns BUF. */
const char *im_guard_broad_form (int type, const char *value, char *buf, size_t bufsz);

/* Checks VALUE (canonical, of TYPE) against the built-in lists: ipv4 and
 * ipv6 values that overlap a listed range (lie inside it or contain it),
 * domains that are a listed name or under it, and the host of url and email
 * values likewise. An ipv6 value in a form that embeds an IPv4 address
 * (IPv4-compatible ::/96 and IPv4-mapped ::ffff:0:0/96, RFC 4291; NAT64
 * 64:ff9b::/96, RFC 6052; 6to4 2002::/16, RFC 3056), with at least /8 of the
 * IPv4 address in its prefix, is checked by that IPv4 address or prefix as
 * well (HIT's form and ipv4 name it). Returns 1 with *HIT set when a list
 * holds it (a list that is not documentation before one that is), 0 when
 * none does, -1 with errno EINVAL for a NULL argument. */
int im_guard_check (int type, const char *value, im_guard_hit_t *hit);

/* Writes " (the FORM address of IPV4, RFC N)" ("prefix" for a prefix) into
 * BUF when HIT names an embedded IPv4 address, else "". Returns BUF. */
const char *im_guard_form (const im_guard_hit_t *hit, char *buf, size_t bufsz);

/* Calls FN for each entry of the built-in lists, in order; for the tests and
 * the manual page. FAMILY is 4 or 6 for ranges (with BYTES, the network in
 * 16 bytes, and PLEN), 0 for names. */
typedef void (im_guard_entry_fn) (int family, const unsigned char *bytes, int plen,
                                  const im_guard_hit_t *entry, void *arg);
void im_guard_each (im_guard_entry_fn *fn, void *arg);

#endif
