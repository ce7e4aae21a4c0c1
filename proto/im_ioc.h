/* SPDX-License-Identifier: MPL-2.0 */
/* im_ioc.h -- indicator types and TLP 2.0 labels: names, validation and the
 * canonical (normalised) form of every value, so that one indicator has one
 * spelling everywhere (store keys, signatures, look-ups). The wire values
 * (im_type_t, im_tlp_t) and IM_VALUE_MAX are in im_types.h, included here. */
#ifndef IM_IOC_H
#define IM_IOC_H

#include <stddef.h>
#include <stdint.h>

#include "im_types.h"

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
int im_ioc_normalise (int type, const char *value, char *out, size_t outsz, char *err,
                      size_t errsz);

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

/* The same for a value known to be in its canonical form already (a checked
 * record's): parsed without normalising it again, which would double the
 * cost of indexing it. */
int im_ioc_prefix_canonical (int type, const char *canon, uint8_t addr[16],
                             int *prefixlen);

#endif
