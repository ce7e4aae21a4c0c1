/* SPDX-License-Identifier: MPL-2.0 */
/* im_types.h -- the wire values of indicator types and TLP labels, and the
 * one table of indicator types: per type its wire value, its name, its
 * normaliser, its STIX, MISP and CSV spellings, how warninglists and look-ups
 * match it. Validation (im_ioc), import, export, the MISP feed, the
 * warninglists and the CLI all read it: a new type is a row here (im_types.c),
 * a normaliser in im_types_norm.c, and tests. */
#ifndef IM_TYPES_H
#define IM_TYPES_H

#include <stddef.h>

/* Wire values: never renumber (they are signed into records). */
typedef enum {
    IM_TYPE_NONE = 0,
    IM_TYPE_IPV4 = 1,
    IM_TYPE_IPV6 = 2,
    IM_TYPE_DOMAIN = 3,
    IM_TYPE_URL = 4,
    IM_TYPE_EMAIL = 5,
    IM_TYPE_MD5 = 6,
    IM_TYPE_SHA1 = 7,
    IM_TYPE_SHA256 = 8,
    IM_TYPE_SHA512 = 9,
    IM_TYPE_FILENAME = 10,
    IM_TYPE_ASN = 11,
    IM_TYPE_CVE = 12,
    IM_TYPE_ATTACK_PATTERN = 13,
    IM_TYPE_REGKEY = 14,
    IM_TYPE_YARA = 15,
    IM_TYPE_SIGMA = 16,
    IM_TYPE_SNORT = 17,
    /* Records that are not indicators: a sighting of an indicator (SPEC.md,
     * "Sightings"), a sealed envelope's carrier ("Carrying sealed
     * envelopes"), a report and a report's member ("Reports"). */
    IM_TYPE_SIGHTING = 18,
    IM_TYPE_SEALED = 19,
    IM_TYPE_REPORT = 20,
    IM_TYPE_MEMBER = 21,
    /* A joint exercise's records (SPEC.md, "Exercises"): the exercise, an
     * inject, a participant's acknowledgement. */
    IM_TYPE_EXERCISE = 22,
    IM_TYPE_INJECT = 23,
    IM_TYPE_ACK = 24,
    IM_TYPE_COUNT = 25 /* one past the last */
} im_type_t;

/* Every type's name, for messages. */
#define IM_TYPE_NAMES                                                                    \
    "ipv4, ipv6, domain, url, email, md5, sha1, sha256, sha512, filename, asn, cve, "    \
    "attack-pattern, regkey, yara, sigma, snort"

/* Wire values, ordered from least to most restricted. */
typedef enum {
    IM_TLP_NONE = 0,
    IM_TLP_CLEAR = 1,
    IM_TLP_GREEN = 2,
    IM_TLP_AMBER = 3,
    IM_TLP_AMBER_STRICT = 4,
    IM_TLP_RED = 5,
    IM_TLP_COUNT = 6
} im_tlp_t;

/* Longest normalised value, in bytes, without the terminating NUL. */
#define IM_VALUE_MAX 2048
/* Longest label (a rule's name), in bytes, without the terminating NUL. */
#define IM_LABEL_MAX 256

/* How warninglists see a value of a type (beyond "string" and "substring"
 * lists, which apply to every type). */
typedef enum {
    IM_WL_PLAIN = 0, /* nothing more */
    IM_WL_CIDR,      /* an address or prefix: "cidr" lists */
    IM_WL_HOSTNAME,  /* a host name: "hostname" lists */
    IM_WL_URL_HOST,  /* a URL: its host is matched as a string and hostname */
    IM_WL_EMAIL_HOST /* an e-mail address: the same for its domain */
} im_wl_match_t;

/* How the store looks a value up. */
typedef enum {
    IM_LOOKUP_EXACT = 0, /* the canonical value */
    IM_LOOKUP_PREFIX,    /* addresses: also the prefixes that contain it */
    IM_LOOKUP_NOCASE     /* the canonical value, ASCII letters in any case
                          * (registry keys, as Windows compares them) */
} im_lookup_t;

typedef struct im_type_info im_type_info_t;

/* A normaliser: validates the N bytes at V (NUL-terminated right after them,
 * 1..IM_VALUE_MAX bytes, no white space at either end) as type T and writes
 * the canonical form into CANON (IM_VALUE_MAX + 1 bytes) and its length into
 * *CLEN. Returns 0, or EINVAL with a one-line reason in ERR (may be NULL). */
typedef int (im_type_norm_fn) (const im_type_info_t *t, const char *v, size_t n,
                               char *canon, size_t *clen, char *err, size_t errsz);

struct im_type_info {
    int type;                      /* im_type_t: the wire value */
    const char *name;              /* CLI, JSON and CSV name ("ipv4") */
    im_type_norm_fn *normalise;    /* see im_ioc_normalise */
    size_t hexlen;                 /* hashes: hex digits (guessing by length) */
    const char *what;              /* hashes: "an MD5", for messages */
    const char *stix_path;         /* the STIX pattern's object path on export
                                    * (NULL: not a STIX pattern, see below) */
    const char *stix_pattern_type; /* a rule: the STIX indicator's pattern_type,
                                    * the rule its pattern */
    const char *stix_object;       /* an id: the STIX object it is ("vulnerability") */
    const char *stix_source;       /* ... and its external reference's source_name */
    const char *stix_hashes[3];    /* file:hashes.NAME read on import (any case) */
    const char *misp_type;         /* MISP attribute type on export and the feed */
    const char *misp_names[4];     /* MISP attribute types read on import */
    const char *misp_category;     /* MISP category */
    const char *num_prefix;        /* the canonical value is this and a number:
                                    * STIX (an integer literal) and MISP write
                                    * the number alone */
    im_wl_match_t wl;              /* warninglist matching */
    im_lookup_t lookup;            /* store look-up */
    int labelled;                  /* a rule: shown in a line by its name
                                    * (im_type_label), not by its text */
    int not_ioc;                   /* 1: a record that is not an indicator
                                    * (report, member): no look-up, list,
                                    * export, policy type or ioc.* topic */
};

/* The normalisers of the rows (im_types_norm.c). */
im_type_norm_fn im_ioc_norm_ipv4, im_ioc_norm_ipv6, im_ioc_norm_domain, im_ioc_norm_url,
    im_ioc_norm_email, im_ioc_norm_hash, im_ioc_norm_filename, im_ioc_norm_asn,
    im_ioc_norm_cve, im_ioc_norm_attack, im_ioc_norm_regkey, im_ioc_norm_yara,
    im_ioc_norm_sigma, im_ioc_norm_snort;
im_type_norm_fn im_ioc_norm_report, im_ioc_norm_member, im_ioc_norm_sighting,
    im_ioc_norm_sealed, im_ioc_norm_exercise, im_ioc_norm_inject;

/* Checks an exercise name (LEN bytes at S): 1 to IM_EXERCISE_NAME_MAX of
 * [a-z0-9._-], the first a letter or digit. 0, or -1 with errno EINVAL and
 * the reason in ERR (may be NULL). */
#define IM_EXERCISE_NAME_MAX 63
int im_exercise_name_check (const char *s, size_t len, char *err, size_t errsz);

/* The row of TYPE, or NULL for IM_TYPE_NONE and anything unknown. */
const im_type_info_t *im_type_info (int type);

/* 1 when TYPE is a known indicator type (not a report or member), else 0. */
int im_type_is_ioc (int type);

/* The type whose STIX object path PATH (LEN bytes, quotes around a hash name
 * removed: "file:hashes.SHA-256") is, or -1. Hash names are case-insensitive. */
int im_type_from_stix_path (const char *path, size_t len);

/* The type of MISP attribute type S (LEN bytes; NOCASE: any case), or -1.
 * MISP's ip-src and ip-dst name both address families: they give
 * IM_TYPE_IPV4, the first row that lists them. */
int im_type_from_misp (const char *s, size_t len, int nocase);

/* The hash type with LEN hex digits, or IM_TYPE_NONE. */
int im_type_by_hexlen (size_t len);

/* The host of VALUE, a canonical value of TYPE: the host of a url (without
 * the brackets of an IPv6 address, the user and the port) or the domain of
 * an email, written into HOST (HOSTSZ bytes). Returns 0, or -1 with errno
 * EINVAL for other types and values without a host, ENOSPC when HOST is too
 * small. */
int im_type_host (int type, const char *value, char *host, size_t hostsz);

/* The label of VALUE, a canonical value of TYPE whose row is labelled: the
 * rule's name (YARA rule name, Sigma title, Snort msg), written into OUT
 * (OUTSZ bytes, IM_LABEL_MAX + 1 holds every label). Returns 0, or -1 with
 * errno EINVAL for other types and values that are not rules of the type,
 * ENOSPC when OUT is too small. */
int im_type_label (int type, const char *value, char *out, size_t outsz);

/* MISP's distribution for a reach: "0" (this node only), "1", "2", or "3"
 * (3 links or more, or unlimited). */
const char *im_type_misp_distribution (int reach);

#endif
