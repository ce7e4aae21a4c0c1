/* SPDX-License-Identifier: MPL-2.0 */
/* im_record.c -- canonical encoding, signing, decoding and JSON form of the
 * indicator record. The decoder trusts no length: every read goes through the
 * GET macros, which jump to `malformed` rather than read past the end. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "im_batch.h"
#include "im_record.h"
#include "im_time.h"
#include "im_util.h"

/* Records this node makes are of format 2 (origin-signed batches); it reads
 * format 1 (a signature each) as well. */
static const uint8_t record_magic[4] = { 'I', 'M', 'R', 2 };
/* Records with extension items (reports) are of format 3: format 2 with a
 * flags byte always present and the items after it (SPEC.md, "Encoding"). */
#define FORMAT_EXT 3

/* What follows the body in a record of FORMAT: 0 for an unknown format. */
static size_t
trailer_size (uint8_t format)
{
    return format == 1                           ? IM_SIG_SIZE
           : format == 2 || format == FORMAT_EXT ? IM_BATCH_AUTH
                                                 : 0;
}

/* Text that may be shown to people: UTF-8, no control characters except, where
 * ALLOW_NL, tab and newline. */
static int
text_ok (const char *s, size_t len, int allow_nl)
{
    if (!im_utf8_valid (s, len))
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(allow_nl && (c == '\n' || c == '\t'))) || c == 0x7F)
            return 0;
    }
    return 1;
}

void
im_record_init (im_record_t *self)
{
    /* The fixed fields, and the strings and lists empty: their room (24
     * KiB with the extension items) is read only up to each NUL and count,
     * and zeroing it was a tenth of the store path. */
    memset (self, 0, offsetof (im_record_t, value)); /* the counts too */
    self->value[0] = self->description[0] = '\0';
    self->version = 1;
    self->op = IM_OP_PUT;
    self->tlp = IM_TLP_GREEN;
    self->confidence = IM_CONFIDENCE_DEFAULT;
    self->reach = IM_REACH_UNLIMITED;
}

static int
tag_check (const char *tag, char *err, size_t errsz)
{
    size_t len = strlen (tag);
    if (len == 0)
        return im_fail (EINVAL, err, errsz, "tags: empty tag");
    if (len > IM_TAG_MAX)
        return im_fail (EINVAL, err, errsz, "tags: a tag is longer than %d bytes",
                        IM_TAG_MAX);
    if (!text_ok (tag, len, 0))
        return im_fail (EINVAL, err, errsz,
                        "tags: a tag is not UTF-8 text or holds control characters");
    return 0;
}

int
im_record_add_tag (im_record_t *self, const char *tag, char *err, size_t errsz)
{
    if (!self || !tag)
        return im_fail (EINVAL, err, errsz, "tags: no tag given");
    if (tag_check (tag, err, errsz))
        return -1;
    for (size_t i = 0; i < self->ntags; i++)
        if (strcmp (self->tags[i], tag) == 0)
            return 0;
    if (self->ntags >= IM_TAGS_MAX)
        return im_fail (ENOSPC, err, errsz, "tags: more than %d tags", IM_TAGS_MAX);
    strcpy (self->tags[self->ntags++], tag);
    return 0;
}

int
im_record_check (const im_record_t *self, char *err, size_t errsz)
{
    char norm[IM_VALUE_MAX + 1], why[256];
    if (!self)
        return im_fail (EINVAL, err, errsz, "no record");
    if (self->version == 0)
        return im_fail (EINVAL, err, errsz, "version: must be 1 or more");
    if (self->op != IM_OP_PUT && self->op != IM_OP_REVOKE)
        return im_fail (EINVAL, err, errsz, "op: unknown operation %u", self->op);
    if (!im_type_name (self->type))
        return im_fail (EINVAL, err, errsz, "type: unknown type %u", self->type);
    if (!im_tlp_name (self->tlp))
        return im_fail (EINVAL, err, errsz, "tlp: unknown TLP label %u", self->tlp);
    if (self->confidence > 100)
        return im_fail (EINVAL, err, errsz, "confidence: %u is not within 0..100",
                        self->confidence);
    if (self->no_detect > 1)
        return im_fail (EINVAL, err, errsz, "detect: not true or false");
    if (self->version > INT64_MAX)
        return im_fail (EINVAL, err, errsz, "version: larger than 2^63 - 1");
    if (memchr (self->value, 0, sizeof self->value) == NULL)
        return im_fail (EINVAL, err, errsz, "value: not terminated");
    if (memchr (self->description, 0, sizeof self->description) == NULL)
        return im_fail (EINVAL, err, errsz, "description: not terminated");
    if (im_ioc_normalise (self->type, self->value, norm, sizeof norm, why, sizeof why))
        return im_fail (EINVAL, err, errsz, "value: %s", why);
    if (strcmp (norm, self->value) != 0)
        return im_fail (EINVAL, err, errsz, "value: not in canonical form");
    if (!text_ok (self->description, strlen (self->description), 1))
        return im_fail (EINVAL, err, errsz,
                        "description: not UTF-8 text or holds control characters");
    if (self->ntags > IM_TAGS_MAX)
        return im_fail (EINVAL, err, errsz, "tags: more than %d tags", IM_TAGS_MAX);
    for (size_t i = 0; i < self->ntags; i++) {
        if (memchr (self->tags[i], 0, sizeof self->tags[i]) == NULL)
            return im_fail (EINVAL, err, errsz, "tags: not terminated");
        if (tag_check (self->tags[i], err, errsz))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp (self->tags[i], self->tags[j]) == 0)
                return im_fail (EINVAL, err, errsz, "tags: '%s' appears twice",
                                self->tags[i]);
    }
    if (self->nrecipients > IM_RECIPIENTS_MAX)
        return im_fail (EINVAL, err, errsz, "recipients: more than %d",
                        IM_RECIPIENTS_MAX);
    for (size_t i = 0; i < self->nrecipients; i++)
        for (size_t j = 0; j < i; j++)
            if (memcmp (self->recipients[i], self->recipients[j], IM_NODE_ID_SIZE) == 0)
                return im_fail (EINVAL, err, errsz, "recipients: a node appears twice");
    if (self->created < 0 || self->modified < 0 || self->valid_from < 0
        || self->valid_until < 0)
        return im_fail (EINVAL, err, errsz, "times: negative time");
    if (self->created > IM_TIME_MAX || self->modified > IM_TIME_MAX
        || self->valid_from > IM_TIME_MAX || self->valid_until > IM_TIME_MAX)
        return im_fail (EINVAL, err, errsz, "times: after the year 9999");
    if (self->valid_from && self->valid_until && self->valid_until < self->valid_from)
        return im_fail (EINVAL, err, errsz, "valid_until: before valid_from");
    return im_ext_check (self, err, errsz);
}

/* --- Encoding ---------------------------------------------------------- */

typedef struct {
    uint8_t *needle;
    uint8_t *ceiling;
} writer_t;

static int
put_bytes (writer_t *w, const void *data, size_t len)
{
    if ((size_t)(w->ceiling - w->needle) < len)
        return -1;
    memcpy (w->needle, data, len);
    w->needle += len;
    return 0;
}

static int
put_number (writer_t *w, uint64_t v, int size)
{
    uint8_t b[8];
    for (int i = 0; i < size; i++)
        b[i] = (uint8_t)(v >> (8 * (size - 1 - i)));
    return put_bytes (w, b, (size_t)size);
}

static int
put_string (writer_t *w, const char *s, int lensize)
{
    size_t len = strlen (s);
    return put_number (w, len, lensize) || put_bytes (w, s, len);
}

static int
cmp_tag (const void *a, const void *b)
{
    return strcmp (*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_node (const void *a, const void *b)
{
    return memcmp (*(const uint8_t *const *)a, *(const uint8_t *const *)b,
                   IM_NODE_ID_SIZE);
}

/* The same orders over the record's own rows (im_record_copy). */
static int
cmp_tag_row (const void *a, const void *b)
{
    return strcmp ((const char *)a, (const char *)b);
}

static int
cmp_node_row (const void *a, const void *b)
{
    return memcmp (a, b, IM_NODE_ID_SIZE);
}

im_record_t *
im_record_array (size_t n)
{
    if (n == 0 || n > SIZE_MAX / sizeof (im_record_t)) {
        errno = n ? ENOMEM : EINVAL;
        return NULL;
    }
    return aligned_alloc (IM_RECORD_PAGE, n * sizeof (im_record_t));
}

void
im_record_array_ready (im_record_t *array, size_t *ready, size_t n)
{
    if (!array || !ready)
        return;
    for (; *ready < n; (*ready)++)
        im_mem_populate (&array[*ready], IM_RECORD_PAGE);
}

int
im_record_encode (const im_record_t *self, uint8_t *buf, size_t bufsz, size_t *len,
                  char *err, size_t errsz)
{
    if (!self || !buf || !len)
        return im_fail (EINVAL, err, errsz, "encode: missing argument");
    if (im_record_check (self, err, errsz))
        return -1;

    /* Canonical order: tags and recipients sorted bytewise. */
    const char *tags[IM_TAGS_MAX];
    const uint8_t *recipients[IM_RECIPIENTS_MAX];
    for (size_t i = 0; i < self->ntags; i++)
        tags[i] = self->tags[i];
    for (size_t i = 0; i < self->nrecipients; i++)
        recipients[i] = self->recipients[i];
    qsort (tags, self->ntags, sizeof tags[0], cmp_tag);
    qsort (recipients, self->nrecipients, sizeof recipients[0], cmp_node);

    writer_t w = { buf, buf + bufsz };
    int rc = put_bytes (&w, record_magic, sizeof record_magic - 1)
             || put_number (&w, self->next ? FORMAT_EXT : record_magic[3], 1)
             || put_bytes (&w, self->origin, IM_NODE_ID_SIZE)
             || put_bytes (&w, self->id, IM_ID_SIZE) || put_number (&w, self->version, 8)
             || put_number (&w, self->op, 1) || put_number (&w, self->type, 1)
             || put_number (&w, self->tlp, 1) || put_number (&w, self->confidence, 1)
             || put_number (&w, self->reach, 1)
             || put_number (&w, (uint64_t)self->created, 8)
             || put_number (&w, (uint64_t)self->modified, 8)
             || put_number (&w, (uint64_t)self->valid_from, 8)
             || put_number (&w, (uint64_t)self->valid_until, 8)
             || put_string (&w, self->value, 2) || put_string (&w, self->description, 2)
             || put_number (&w, self->ntags, 1);
    for (size_t i = 0; rc == 0 && i < self->ntags; i++)
        rc = put_string (&w, tags[i], 1);
    rc = rc || put_number (&w, self->nrecipients, 1);
    for (size_t i = 0; rc == 0 && i < self->nrecipients; i++)
        rc = put_bytes (&w, recipients[i], IM_NODE_ID_SIZE);
    if (rc == 0 && (self->no_detect || self->next))
        rc = put_number (&w, self->no_detect ? IM_RECORD_FLAG_NO_DETECT : 0, 1);
    if (rc == 0 && self->next)
        rc = put_number (&w, self->next, 1) || put_bytes (&w, self->ext, self->ext_len);
    if (rc == 0 && (size_t)(w.needle - buf) > IM_RECORD_BODY_MAX)
        return im_fail (EINVAL, err, errsz,
                        "record: %zu bytes, more than the largest body (%d bytes): "
                        "shorten the description or the context",
                        (size_t)(w.needle - buf), (int)IM_RECORD_BODY_MAX);
    if (rc || (size_t)(w.ceiling - w.needle) < IM_BATCH_AUTH)
        return im_fail (ENOSPC, err, errsz, "sign: buffer too small");
    memset (w.needle, 0, IM_BATCH_AUTH);
    *len = (size_t)(w.needle - buf) + IM_BATCH_AUTH;
    return 0;
}

/* Copies at most MAX bytes of SRC and a NUL, writing nothing past it: the
 * last byte of a string's room is another page. */
static void
copy_text (char *dst, const char *src, size_t max)
{
    size_t len = strnlen (src, max);
    memcpy (dst, src, len);
    dst[len] = 0;
}

void
im_record_copy (im_record_t *dst, const im_record_t *src)
{
    /* The fixed fields, then only what is used of the strings and lists (a
     * whole record is 28 KiB). */
    memcpy (dst, src, offsetof (im_record_t, value));
    copy_text (dst->value, src->value, IM_VALUE_MAX);
    copy_text (dst->description, src->description, IM_DESC_MAX);
    dst->ntags = src->ntags <= IM_TAGS_MAX ? src->ntags : IM_TAGS_MAX;
    for (size_t i = 0; i < dst->ntags; i++)
        memcpy (dst->tags[i], src->tags[i], sizeof dst->tags[i]);
    qsort (dst->tags, dst->ntags, sizeof dst->tags[0], cmp_tag_row);
    dst->nrecipients
        = src->nrecipients <= IM_RECIPIENTS_MAX ? src->nrecipients : IM_RECIPIENTS_MAX;
    memcpy (dst->recipients, src->recipients, dst->nrecipients * IM_NODE_ID_SIZE);
    qsort (dst->recipients, dst->nrecipients, sizeof dst->recipients[0], cmp_node_row);
    dst->next = src->next;
    dst->ext_len = src->ext_len <= IM_EXT_MAX ? src->ext_len : IM_EXT_MAX;
    memcpy (dst->ext, src->ext, dst->ext_len);
}

int
im_record_seal (uint8_t *const *recs, const size_t *lens, size_t n,
                const uint8_t secret_key[IM_SECRET_KEY_SIZE], char *err, size_t errsz)
{
    if (!recs || !lens || !secret_key || n < 1 || n > IM_BATCH_MAX)
        return im_fail (EINVAL, err, errsz, "seal: 1 to %d records", IM_BATCH_MAX);
    const uint8_t *bodies[IM_BATCH_MAX];
    uint8_t *auths[IM_BATCH_MAX];
    size_t body_lens[IM_BATCH_MAX];
    uint8_t pk[IM_NODE_ID_SIZE];
    crypto_sign_ed25519_sk_to_pk (pk, secret_key);
    for (size_t i = 0; i < n; i++) {
        if (!recs[i] || lens[i] < IM_RECORD_FIXED + IM_BATCH_AUTH
            || memcmp (recs[i], record_magic, sizeof record_magic - 1) != 0
            || trailer_size (recs[i][3]) != IM_BATCH_AUTH)
            return im_fail (EINVAL, err, errsz, "seal: not an encoded record");
        if (memcmp (recs[i] + 4, pk, IM_NODE_ID_SIZE) != 0)
            return im_fail (EINVAL, err, errsz, "origin: not the signing key's node");
        bodies[i] = recs[i];
        body_lens[i] = lens[i] - IM_BATCH_AUTH;
        auths[i] = recs[i] + body_lens[i];
    }
    return im_batch_seal (bodies, body_lens, n, secret_key, auths);
}

int
im_record_sign (const im_record_t *self, const uint8_t secret_key[IM_SECRET_KEY_SIZE],
                uint8_t *buf, size_t bufsz, size_t *len, char *err, size_t errsz)
{
    if (!self || !secret_key || !buf || !len)
        return im_fail (EINVAL, err, errsz, "sign: missing argument");
    /* Nothing is written for another origin's record; encoding checks the
     * record (once). */
    uint8_t pk[IM_NODE_ID_SIZE];
    crypto_sign_ed25519_sk_to_pk (pk, secret_key);
    if (memcmp (pk, self->origin, IM_NODE_ID_SIZE) != 0)
        return im_fail (EINVAL, err, errsz, "origin: not the signing key's node");
    if (im_record_encode (self, buf, bufsz, len, err, errsz))
        return -1;
    uint8_t *one[1] = { buf };
    return im_record_seal (one, len, 1, secret_key, err, errsz);
}

/* --- Decoding ---------------------------------------------------------- */

/* Each GET checks the remaining bytes before it reads. */
#define GET_BYTES(dst, n)                                                                \
    do {                                                                                 \
        if ((size_t)(ceiling - needle) < (size_t)(n))                                    \
            goto malformed;                                                              \
        memcpy ((dst), needle, (n));                                                     \
        needle += (n);                                                                   \
    } while (0)
#define GET_NUMBER(host, size)                                                           \
    do {                                                                                 \
        if ((size_t)(ceiling - needle) < (size_t)(size))                                 \
            goto malformed;                                                              \
        uint64_t v_ = 0;                                                                 \
        for (int i_ = 0; i_ < (size); i_++)                                              \
            v_ = (v_ << 8) | needle[i_];                                                 \
        needle += (size);                                                                \
        (host) = v_;                                                                     \
    } while (0)
#define GET_STRING(dst, lensize, max)                                                    \
    do {                                                                                 \
        uint64_t n_;                                                                     \
        GET_NUMBER (n_, lensize);                                                        \
        if (n_ > (max) || (size_t)(ceiling - needle) < n_)                               \
            goto malformed;                                                              \
        memcpy ((dst), needle, n_);                                                      \
        (dst)[n_] = 0;                                                                   \
        if (memchr ((dst), 0, n_))                                                       \
            goto malformed;                                                              \
        needle += n_;                                                                    \
    } while (0)

/* TRUSTED: the bytes come from this node's own store, where nothing goes
 * without passing every check first; the structure is still bounds-checked,
 * but the field rules and the signature are not checked again. */
static int
decode (const uint8_t *buf, size_t len, int verify, int trusted, im_batch_cache_t *cache,
        im_record_t *self, char *err, size_t errsz)
{
    if (!buf || !self)
        return im_fail (EINVAL, err, errsz, "decode: missing argument");
    if (len < IM_RECORD_FIXED + 6 + IM_SIG_SIZE || len > IM_RECORD_MAX)
        return im_fail (EBADMSG, err, errsz, "record: %zu bytes is not a possible size",
                        len);
    if (memcmp (buf, record_magic, 3) != 0)
        return im_fail (EBADMSG, err, errsz, "record: not an intelmesh record");
    size_t trailer = trailer_size (buf[3]);
    if (trailer == 0)
        return im_fail (EBADMSG, err, errsz, "record: unknown format version %u", buf[3]);
    if (len < IM_RECORD_FIXED + 6 + trailer)
        return im_fail (EBADMSG, err, errsz, "record: %zu bytes is not a possible size",
                        len);
    const uint8_t *needle = buf + 4;
    const uint8_t *ceiling = buf + len - trailer;
    uint64_t n;
    /* Every field is written below; only the counts and strings need a
     * start (clearing all 28 KiB of the struct would dominate look-ups). */
    self->ntags = self->nrecipients = self->next = self->ext_len = 0;
    self->value[0] = self->description[0] = 0;

    GET_BYTES (self->origin, IM_NODE_ID_SIZE);
    GET_BYTES (self->id, IM_ID_SIZE);
    GET_NUMBER (self->version, 8);
    GET_NUMBER (self->op, 1);
    GET_NUMBER (self->type, 1);
    GET_NUMBER (self->tlp, 1);
    GET_NUMBER (self->confidence, 1);
    GET_NUMBER (self->reach, 1);
    GET_NUMBER (n, 8);
    self->created = (int64_t)n;
    GET_NUMBER (n, 8);
    self->modified = (int64_t)n;
    GET_NUMBER (n, 8);
    self->valid_from = (int64_t)n;
    GET_NUMBER (n, 8);
    self->valid_until = (int64_t)n;
    GET_STRING (self->value, 2, IM_VALUE_MAX);
    GET_STRING (self->description, 2, IM_DESC_MAX);
    GET_NUMBER (self->ntags, 1);
    if (self->ntags > IM_TAGS_MAX)
        goto malformed;
    for (size_t i = 0; i < self->ntags; i++) {
        GET_STRING (self->tags[i], 1, IM_TAG_MAX);
        if (i > 0 && strcmp (self->tags[i - 1], self->tags[i]) >= 0)
            return im_fail (EBADMSG, err, errsz, "record: tags not in canonical order");
    }
    GET_NUMBER (self->nrecipients, 1);
    if (self->nrecipients > IM_RECIPIENTS_MAX)
        goto malformed;
    for (size_t i = 0; i < self->nrecipients; i++) {
        GET_BYTES (self->recipients[i], IM_NODE_ID_SIZE);
        if (i > 0
            && memcmp (self->recipients[i - 1], self->recipients[i], IM_NODE_ID_SIZE)
                   >= 0)
            return im_fail (EBADMSG, err, errsz,
                            "record: recipients not in canonical order");
    }
    if (buf[3] == FORMAT_EXT) {
        /* Format 3: the flags byte, then 1 to 64 extension items. */
        GET_NUMBER (self->no_detect, 1);
        if (self->no_detect > IM_RECORD_FLAG_NO_DETECT)
            return im_fail (EBADMSG, err, errsz, "record: unknown flags %u",
                            self->no_detect);
        if (im_ext_decode (self, &needle, ceiling, err, errsz))
            return -1;
    }
    else {
        /* The flags byte, when there is one, is the body's last and not 0. */
        self->no_detect = ceiling - needle == 1 && *needle == IM_RECORD_FLAG_NO_DETECT;
        needle += self->no_detect;
    }
    if (needle != ceiling)
        return im_fail (EBADMSG, err, errsz, "record: %zu trailing bytes",
                        (size_t)(ceiling - needle));
    if (trusted)
        return 0;
    if (im_record_check (self, err, errsz)) {
        errno = EBADMSG;
        return -1;
    }
    if (trailer == IM_BATCH_AUTH && ceiling[IM_BATCH_SALT] >= IM_BATCH_MAX)
        return im_fail (EBADMSG, err, errsz, "record: leaf place %u is not 0 to 31",
                        ceiling[IM_BATCH_SALT]);
    if (!verify)
        return 0;
    size_t body = len - trailer;
    if (trailer == IM_SIG_SIZE
            ? im_batch_verify_single (buf, body, ceiling, self->origin, cache) != 0
            : im_batch_verify (buf, body, ceiling, self->origin, cache) != 0)
        return im_fail (EPERM, err, errsz, "record: origin signature does not verify");
    return 0;

malformed:
    return im_fail (EBADMSG, err, errsz,
                    "record: a field is truncated, over-long or holds a NUL byte");
}

int
im_record_decode (const uint8_t *buf, size_t len, int verify, im_record_t *self,
                  char *err, size_t errsz)
{
    return decode (buf, len, verify, 0, NULL, self, err, errsz);
}

int
im_record_decode_cached (const uint8_t *buf, size_t len, im_batch_cache_t *cache,
                         im_record_t *self, char *err, size_t errsz)
{
    return decode (buf, len, 1, 0, cache, self, err, errsz);
}

static uint64_t
peek_number (const uint8_t *at, int size)
{
    uint64_t n = 0;
    for (int i = 0; i < size; i++)
        n = (n << 8) | at[i];
    return n;
}

int
im_record_peek (const uint8_t *buf, size_t len, im_record_head_t *head)
{
    if (!buf || !head) {
        errno = EINVAL;
        return -1;
    }
    if (len < IM_RECORD_FIXED + IM_SIG_SIZE || memcmp (buf, record_magic, 3) != 0) {
        errno = EBADMSG;
        return -1;
    }
    const uint8_t *at = buf + 3;
    head->format = *at++;
    memcpy (head->origin, at, IM_NODE_ID_SIZE);
    at += IM_NODE_ID_SIZE;
    memcpy (head->id, at, IM_ID_SIZE);
    at += IM_ID_SIZE;
    head->version = peek_number (at, 8);
    at += 8;
    head->op = *at++;
    head->type = *at++;
    head->tlp = *at++;
    head->confidence = *at++;
    head->reach = *at++;
    int64_t *times[]
        = { &head->created, &head->modified, &head->valid_from, &head->valid_until };
    for (int i = 0; i < 4; i++, at += 8)
        *times[i] = (int64_t)peek_number (at, 8);
    return 0;
}

int
im_record_decode_stored (const uint8_t *buf, size_t len, im_record_t *self)
{
    return decode (buf, len, 0, 1, NULL, self, NULL, 0);
}

/* --- JSON ---------------------------------------------------------------- */

static json_t *
time_or_null (int64_t t)
{
    char buf[IM_TIME_STR_SIZE];
    return t ? json_string (im_time_format (t, buf)) : json_null ();
}

json_t *
im_record_to_json (const im_record_t *self)
{
    char id[IM_ID_STR_SIZE], node[IM_NODE_HEX_SIZE];
    im_id_format (self->id, id);
    im_node_format (self->origin, node);
    json_t *tags = json_array ();
    json_t *recipients = json_array ();
    for (size_t i = 0; tags && i < self->ntags; i++)
        json_array_append_new (tags, json_string (self->tags[i]));
    for (size_t i = 0; recipients && i < self->nrecipients; i++) {
        char r[IM_NODE_HEX_SIZE];
        im_node_format (self->recipients[i], r);
        json_array_append_new (recipients, json_string (r));
    }
    json_t *o = json_pack (
        "{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:i, s:o, s:s, s:o, s:o, s:o, s:o, s:o, "
        "s:o}",
        "id", id, "origin", node, "version", (json_int_t)self->version, "op",
        self->op == IM_OP_REVOKE ? "revoke" : "put", "type", im_type_name (self->type),
        "value", self->value, "tlp", im_tlp_name (self->tlp), "confidence",
        (int)self->confidence, "tags", tags ? tags : json_array (), "description",
        self->description, "reach",
        self->reach == IM_REACH_UNLIMITED ? json_string ("unlimited")
                                          : json_integer (self->reach),
        "recipients", recipients ? recipients : json_array (), "valid_from",
        time_or_null (self->valid_from), "valid_until", time_or_null (self->valid_until),
        "created", time_or_null (self->created), "modified",
        time_or_null (self->modified));
    if (o && json_object_set_new (o, "detect", json_boolean (!self->no_detect))) {
        json_decref (o);
        o = NULL;
    }
    if (o && self->next && im_ext_to_json (self, o)) {
        json_decref (o);
        o = NULL;
    }
    if (o && (self->tlp == IM_TLP_AMBER_STRICT || self->tlp == IM_TLP_RED))
        json_object_set_new (o, "internal_only", json_true ());
    if (!o)
        errno = ENOMEM;
    return o;
}

/* The fields of an indicator's JSON, in the order of im_record_from_json's
 * list: each found in one pass over the object (a look-up of each by name,
 * most of them absent, was a twentieth of a bulk publish). */
enum {
    F_TYPE,
    F_VALUE,
    F_TLP,
    F_CONFIDENCE,
    F_TAGS,
    F_DESCRIPTION,
    F_REACH,
    F_VALID_FROM,
    F_VALID_UNTIL,
    F_RECIPIENTS,
    F_DETECT,
    F_COUNT
};

static int
json_time (const json_t *v, const char *name, int64_t now, int64_t *t, char *err,
           size_t errsz)
{
    if (!v || json_is_null (v))
        return 0;
    if (json_is_integer (v) && json_integer_value (v) >= 0
        && json_integer_value (v) <= IM_TIME_MAX) {
        *t = (int64_t)json_integer_value (v);
        return 0;
    }
    if (!json_is_string (v) || im_time_parse (json_string_value (v), now, t) != 0
        || *t < 0 || *t > IM_TIME_MAX)
        return im_fail (EINVAL, err, errsz,
                        "%s: not a time (RFC 3339 like 2026-12-31T00:00:00Z, a date, "
                        "or a duration like 30d)",
                        name);
    return 0;
}

/* When OBJ gives a time, the window must not end before it starts: valid_until
 * later than valid_from, or than NOW when valid_from is unset (STIX requires
 * it, and an export writes an unset valid_from as the record's creation). */
static int
window_check (const im_record_t *self, const json_t *from, const json_t *until,
              int64_t now, char *err, size_t errsz)
{
    char a[IM_TIME_STR_SIZE], b[IM_TIME_STR_SIZE];
    int given = (from && !json_is_null (from)) || (until && !json_is_null (until));
    int64_t start = self->valid_from ? self->valid_from : now;
    if (self->valid_from && self->valid_until && self->valid_until < self->valid_from)
        given = 1;
    if (!given || !self->valid_until || self->valid_until > start)
        return 0;
    return im_fail (EINVAL, err, errsz,
                    "valid_until: %s is not later than valid_from %s%s",
                    im_time_format (self->valid_until, a), im_time_format (start, b),
                    self->valid_from ? "" : " (now: valid_from is unset)");
}

int
im_record_from_json (im_record_t *self, const json_t *obj, int64_t now, char *err,
                     size_t errsz)
{
    char why[256];
    if (!self || !json_is_object (obj))
        return im_fail (EINVAL, err, errsz, "indicator: not a JSON object");
    const char *key;
    const json_t *v, *f[F_COUNT] = { NULL };
    json_object_foreach ((json_t *)obj, key, v)
    {
        static const char *known[F_COUNT]
            = { "type",        "value",       "tlp",   "confidence",
                "tags",        "description", "reach", "valid_from",
                "valid_until", "recipients",  "detect" };
        int i = 0;
        while (i < F_COUNT && strcmp (key, known[i]) != 0)
            i++;
        if (i == F_COUNT)
            return im_fail (EINVAL, err, errsz, "%.64s: unknown field", key);
        f[i] = v;
    }
    const json_t *type = f[F_TYPE];
    const json_t *value = f[F_VALUE];
    if (!json_is_string (type))
        return im_fail (EINVAL, err, errsz, "type: missing or not a string");
    int t = im_type_parse (json_string_value (type));
    if (t < 0)
        return im_fail (EINVAL, err, errsz, "type: '%.32s' is not one of " IM_TYPE_NAMES,
                        json_string_value (type));
    if (!json_is_string (value)
        || json_string_length (value) != strlen (json_string_value (value)))
        return im_fail (EINVAL, err, errsz, "value: missing or not a string");
    if (im_ioc_normalise (t, json_string_value (value), self->value, sizeof self->value,
                          why, sizeof why))
        return im_fail (EINVAL, err, errsz, "value: %s", why);
    self->type = (uint8_t)t;

    if ((v = f[F_TLP]) && !json_is_null (v)) {
        int l = json_is_string (v) ? im_tlp_parse (json_string_value (v)) : -1;
        if (l < 0)
            return im_fail (EINVAL, err, errsz,
                            "tlp: not one of clear, green, amber, amber+strict, red");
        self->tlp = (uint8_t)l;
    }
    if ((v = f[F_CONFIDENCE]) && !json_is_null (v)) {
        if (!json_is_integer (v) || json_integer_value (v) < 0
            || json_integer_value (v) > 100)
            return im_fail (EINVAL, err, errsz, "confidence: not a whole number 0..100");
        self->confidence = (uint8_t)json_integer_value (v);
    }
    if ((v = f[F_REACH]) && !json_is_null (v)) {
        if (json_is_string (v) && strcmp (json_string_value (v), "unlimited") == 0)
            self->reach = IM_REACH_UNLIMITED;
        else if (json_is_integer (v) && json_integer_value (v) >= 0
                 && json_integer_value (v) < IM_REACH_UNLIMITED)
            self->reach = (uint8_t)json_integer_value (v);
        else
            return im_fail (EINVAL, err, errsz, "reach: not 0..254 or \"unlimited\"");
    }
    if ((v = f[F_DETECT]) && !json_is_null (v)) {
        if (!json_is_boolean (v))
            return im_fail (EINVAL, err, errsz, "detect: not true or false");
        self->no_detect = json_is_false (v);
    }
    if ((v = f[F_DESCRIPTION]) && !json_is_null (v)) {
        if (!json_is_string (v))
            return im_fail (EINVAL, err, errsz, "description: not a string");
        if (json_string_length (v) > IM_DESC_MAX)
            return im_fail (EINVAL, err, errsz, "description: longer than %d bytes",
                            IM_DESC_MAX);
        if (!text_ok (json_string_value (v), json_string_length (v), 1))
            return im_fail (EINVAL, err, errsz,
                            "description: not UTF-8 text or holds control characters");
        memcpy (self->description, json_string_value (v), json_string_length (v) + 1);
    }
    if ((v = f[F_TAGS]) && !json_is_null (v)) {
        if (!json_is_array (v))
            return im_fail (EINVAL, err, errsz, "tags: not an array of strings");
        self->ntags = 0;
        size_t i;
        const json_t *tag;
        json_array_foreach (v, i, tag)
        {
            if (!json_is_string (tag)
                || json_string_length (tag) != strlen (json_string_value (tag)))
                return im_fail (EINVAL, err, errsz, "tags: not an array of strings");
            if (im_record_add_tag (self, json_string_value (tag), err, errsz)) {
                errno = EINVAL;
                return -1;
            }
        }
    }
    if ((v = f[F_RECIPIENTS]) && !json_is_null (v)) {
        if (!json_is_array (v))
            return im_fail (EINVAL, err, errsz, "recipients: not an array of node ids");
        if (json_array_size (v) > IM_RECIPIENTS_MAX)
            return im_fail (EINVAL, err, errsz, "recipients: more than %d",
                            IM_RECIPIENTS_MAX);
        self->nrecipients = 0;
        size_t i;
        const json_t *r;
        json_array_foreach (v, i, r)
        {
            uint8_t node[IM_NODE_ID_SIZE];
            if (!json_is_string (r) || im_node_parse (json_string_value (r), node))
                return im_fail (EINVAL, err, errsz,
                                "recipients: '%.70s' is not a node id (64 hex digits)",
                                json_is_string (r) ? json_string_value (r) : "?");
            int dup = 0;
            for (size_t j = 0; j < self->nrecipients; j++)
                dup |= memcmp (self->recipients[j], node, IM_NODE_ID_SIZE) == 0;
            if (!dup)
                memcpy (self->recipients[self->nrecipients++], node, IM_NODE_ID_SIZE);
        }
    }
    if (json_time (f[F_VALID_FROM], "valid_from", now, &self->valid_from, err, errsz)
        || json_time (f[F_VALID_UNTIL], "valid_until", now, &self->valid_until, err,
                      errsz))
        return -1;
    return window_check (self, f[F_VALID_FROM], f[F_VALID_UNTIL], now, err, errsz);
}
