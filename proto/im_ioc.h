/* im_ioc.h -- indicator types and TLP 2.0 labels: names, validation and the
 * canonical (normalised) form of every value, so that one indicator has one
 * spelling everywhere (store keys, signatures, look-ups). */
#ifndef IM_IOC_H
#define IM_IOC_H

#include <stddef.h>
#include <stdint.h>

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
    IM_TYPE_COUNT = 12 /* one past the last */
} im_type_t;

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

/* "ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256",
 * "sha512", "filename", "asn"; NULL for anything else. */
const char *im_type_name (int type);

/* Parses a type name (case-insensitive). Returns the type, or -1 with errno
 * EINVAL. */
int im_type_parse (const char *name);

/* "clear", "green", "amber", "amber+strict", "red"; NULL otherwise. */
const char *im_tlp_name (int tlp);

/* Parses a TLP label, case-insensitive, with or without a "TLP:" prefix;
 * TLP 1.0's "white" is read as CLEAR. Returns the label or -1 with errno
 * EINVAL. */
int im_tlp_parse (const char *name);

/* Validates VALUE as TYPE and writes its canonical form into OUT (NUL
 * terminated). Returns 0, or -1 with errno EINVAL and a one-line reason in ERR
 * that names the problem, e.g. "'999.1.1.1' is not an IPv4 address". Also
 * EINVAL for an unknown type, ENAMETOOLONG-free: an over-long value is EINVAL
 * with its own reason. ERR may be NULL. */
int im_ioc_normalise (int type, const char *value, char *out, size_t outsz,
                      char *err, size_t errsz);

/* Guesses the type of VALUE as an operator would: an IP address or prefix, a
 * hash by its length, a URL by its scheme, an e-mail by its '@', "AS" followed
 * by digits, a domain name; anything else is a filename. Returns IM_TYPE_NONE
 * for an empty or NULL value. */
int im_ioc_guess (const char *value);

/* For a normalised ipv4 or ipv6 value (address or CIDR prefix): the network
 * bytes (4 or 16 written into ADDR) and prefix length (32 or 128 for a plain
 * address). Returns 0, or -1 with errno EINVAL for another type or a value that
 * does not parse. */
int im_ioc_prefix (int type, const char *value, uint8_t addr[16], int *prefixlen);

#endif
