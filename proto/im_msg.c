/* SPDX-License-Identifier: MPL-2.0 */
/* im_msg.c -- encoding and decoding of the peer protocol's messages. The
 * decoder trusts no length: every read goes through the GET macros, which jump
 * to `truncated` rather than read past the end; records are carried, not read. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "im_msg.h"
#include "im_util.h"

/* Sizes of the fixed parts, signature and id included. */
#define HELLO_FIXED (3 + 1 + IM_NODE_ID_SIZE + 8 + 1) /* up to the name */
#define PULL_SIZE (3 + 8 + 2)
#define SESSION_SIZE (3 + 8 + 8) /* PING, PONG: session and newest change */

_Static_assert(IM_MSG_RECORDS_HEADER == 3 + 8 + 1 + 2,
               "IM_MSG_RECORDS_HEADER: signature, id, cursor, more, count");
_Static_assert(IM_RECORD_MAX <= UINT16_MAX, "a record length must fit in 2 bytes");
_Static_assert(IM_MSG_CREDIT_MAX <= UINT16_MAX, "a count must fit in 2 bytes");

const char *
im_msg_name (int id)
{
    switch (id) {
    case IM_MSG_HELLO: return "HELLO";
    case IM_MSG_PULL: return "PULL";
    case IM_MSG_RECORDS: return "RECORDS";
    case IM_MSG_PING: return "PING";
    case IM_MSG_PONG: return "PONG";
    case IM_MSG_HAVE: return "HAVE";
    case IM_MSG_LAZY: return "LAZY";
    case IM_MSG_FETCH: return "FETCH";
    case IM_MSG_FOUND: return "FOUND";
    case IM_MSG_ROTATE: return "ROTATE";
    case IM_MSG_ROTATED: return "ROTATED";
    case IM_MSG_SYNC: return "SYNC";
    case IM_MSG_KEYS: return "KEYS";
    case IM_MSG_EAGER: return "EAGER";
    default: return "?";
    }
}

/* A node name: [A-Za-z0-9._-]. */
static int
name_char_ok (uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || c == '.' || c == '_' || c == '-';
}

/* --- Encoding ---------------------------------------------------------- */

/* Checks the fields of MSG's id and works out the encoded size into *SIZE
 * (which may exceed IM_MSG_MAX). Returns 0 or -1 with errno EINVAL. */
static int
check (const im_msg_t *msg, size_t *size)
{
    switch (msg->id) {
    case IM_MSG_HELLO: {
        const char *end = memchr (msg->name, 0, sizeof msg->name);
        size_t n = end ? (size_t)(end - msg->name) : 0;
        if (n < 1 || n > IM_MSG_NAME_MAX)
            goto invalid;
        for (size_t i = 0; i < n; i++)
            if (!name_char_ok ((uint8_t)msg->name[i]))
                goto invalid;
        *size = HELLO_FIXED + n;
        return 0;
    }
    case IM_MSG_PULL:
    case IM_MSG_SYNC:
        if (msg->credit < 1 || msg->credit > IM_MSG_CREDIT_MAX)
            goto invalid;
        *size = PULL_SIZE;
        return 0;
    case IM_MSG_KEYS:
        if (msg->more > 1 || msg->count > IM_MSG_CREDIT_MAX || (msg->count && !msg->have))
            goto invalid;
        *size = 3 + 8 + 1 + 2 + msg->count * IM_MSG_HAVE_KEY;
        return 0;
    case IM_MSG_RECORDS:
    case IM_MSG_FOUND:
        if ((msg->more & ~(IM_MSG_MORE | IM_MSG_RESTART))
            || msg->count > IM_MSG_CREDIT_MAX)
            goto invalid;
        /* At most 1000 entries of at most IM_RECORD_MAX: no overflow. */
        *size = IM_MSG_RECORDS_HEADER;
        for (size_t i = 0; i < msg->count; i++) {
            const im_msg_entry_t *e = &msg->entries[i];
            if (!e->record || e->len < 1 || e->len > IM_RECORD_MAX)
                goto invalid;
            *size += IM_MSG_ENTRY_OVERHEAD + e->len;
        }
        return 0;
    case IM_MSG_PING:
    case IM_MSG_PONG: *size = SESSION_SIZE; return 0;
    case IM_MSG_HAVE:
    case IM_MSG_FETCH:
        if (msg->count < 1 || msg->count > IM_MSG_CREDIT_MAX || !msg->have)
            goto invalid;
        *size = 3 + 2 + msg->count * IM_MSG_HAVE_KEY;
        return 0;
    case IM_MSG_LAZY:
    case IM_MSG_EAGER:
        if (msg->count > IM_MSG_CREDIT_MAX || (msg->count && !msg->have))
            goto invalid;
        *size = 3 + 2 + msg->count * IM_NODE_ID_SIZE;
        return 0;
    case IM_MSG_ROTATE: *size = 3 + IM_ROTATION_SIZE + IM_ROTATION_PROOF_SIZE; return 0;
    case IM_MSG_ROTATED: *size = 3 + 32; return 0;
    default: goto invalid;
    }
invalid:
    errno = EINVAL;
    return -1;
}

/* The caller has made sure that everything fits: no bounds to check here. */
static uint8_t *
put_number (uint8_t *p, uint64_t v, int size)
{
    for (int i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * (size - 1 - i)));
    return p + size;
}

static uint8_t *
put_bytes (uint8_t *p, const void *data, size_t len)
{
    memcpy (p, data, len);
    return p + len;
}

int
im_msg_encode (const im_msg_t *msg, uint8_t *buf, size_t bufsz, size_t *len)
{
    size_t size;
    if (!msg || !buf || !len) {
        errno = EINVAL;
        return -1;
    }
    if (check (msg, &size))
        return -1;
    if (size > IM_MSG_MAX || size > bufsz) {
        errno = ENOSPC;
        return -1;
    }
    uint8_t *p = buf;
    *p++ = IM_MSG_SIGNATURE_0;
    *p++ = IM_MSG_SIGNATURE_1;
    *p++ = msg->id;
    switch (msg->id) {
    case IM_MSG_HELLO: {
        size_t n = strlen (msg->name);
        p = put_number (p, msg->version, 1);
        p = put_bytes (p, msg->node, IM_NODE_ID_SIZE);
        p = put_number (p, msg->session, 8);
        p = put_number (p, n, 1);
        p = put_bytes (p, msg->name, n);
        break;
    }
    case IM_MSG_PULL:
    case IM_MSG_SYNC:
        p = put_number (p, msg->cursor, 8);
        p = put_number (p, msg->credit, 2);
        break;
    case IM_MSG_KEYS:
        p = put_number (p, msg->cursor, 8);
        p = put_number (p, msg->more, 1);
        p = put_number (p, msg->count, 2);
        if (msg->count)
            p = put_bytes (p, msg->have, msg->count * IM_MSG_HAVE_KEY);
        break;
    case IM_MSG_RECORDS:
    case IM_MSG_FOUND:
        p = put_number (p, msg->cursor, 8);
        p = put_number (p, msg->more, 1);
        p = put_number (p, msg->count, 2);
        for (size_t i = 0; i < msg->count; i++) {
            p = put_number (p, msg->entries[i].hops, 1);
            p = put_number (p, msg->entries[i].len, 2);
            p = put_bytes (p, msg->entries[i].record, msg->entries[i].len);
        }
        break;
    case IM_MSG_HAVE:
    case IM_MSG_FETCH:
        p = put_number (p, msg->count, 2);
        p = put_bytes (p, msg->have, msg->count * IM_MSG_HAVE_KEY);
        break;
    case IM_MSG_LAZY:
    case IM_MSG_EAGER:
        p = put_number (p, msg->count, 2);
        if (msg->count)
            p = put_bytes (p, msg->have, msg->count * IM_NODE_ID_SIZE);
        break;
    case IM_MSG_ROTATE:
        p = put_bytes (p, msg->rotation, IM_ROTATION_SIZE);
        p = put_bytes (p, msg->rotation_proof, IM_ROTATION_PROOF_SIZE);
        break;
    case IM_MSG_ROTATED: p = put_bytes (p, msg->curve, 32); break;
    default: /* PING, PONG */
        p = put_number (p, msg->session, 8);
        p = put_number (p, msg->cursor, 8);
        break;
    }
    *len = (size_t)(p - buf);
    return 0;
}

/* --- Decoding ---------------------------------------------------------- */

/* Where a decoder stands: the next byte, the end, and what it reads, for the
 * reason it gives when a field does not fit. */
typedef struct {
    const uint8_t *needle;
    const uint8_t *ceiling;
    const char *name;  /* the message's name */
    const char *field; /* the field being read */
    size_t entry;      /* 1-based while reading RECORDS entries */
} decoder_t;

/* Each GET names the field it reads, then checks the remaining bytes. */
#define GET_BYTES(dst, n, what)                                                          \
    do {                                                                                 \
        d->field = (what);                                                               \
        if ((size_t)(d->ceiling - d->needle) < (size_t)(n))                              \
            goto truncated;                                                              \
        memcpy ((dst), d->needle, (n));                                                  \
        d->needle += (n);                                                                \
    } while (0)
#define GET_NUMBER(host, size, what)                                                     \
    do {                                                                                 \
        d->field = (what);                                                               \
        if ((size_t)(d->ceiling - d->needle) < (size_t)(size))                           \
            goto truncated;                                                              \
        uint64_t v_ = 0;                                                                 \
        for (int i_ = 0; i_ < (size); i_++)                                              \
            v_ = (v_ << 8) | d->needle[i_];                                              \
        d->needle += (size);                                                             \
        (host) = v_;                                                                     \
    } while (0)
/* A run of N bytes kept in place (no copy: valid while the buffer is). */
#define GET_SPAN(ptr, n, what)                                                           \
    do {                                                                                 \
        d->field = (what);                                                               \
        if ((size_t)(d->ceiling - d->needle) < (size_t)(n))                              \
            goto truncated;                                                              \
        (ptr) = d->needle;                                                               \
        d->needle += (n);                                                                \
    } while (0)

static int
truncated_at (const decoder_t *d, const im_msg_t *msg, char *err, size_t errsz)
{
    if (d->entry)
        return im_fail (EBADMSG, err, errsz,
                        "RECORDS: entry %zu of %zu is truncated (in the %s)", d->entry,
                        msg->count, d->field);
    return im_fail (EBADMSG, err, errsz, "%s: truncated in the %s", d->name, d->field);
}

static int
decode_hello (decoder_t *d, im_msg_t *msg, char *err, size_t errsz)
{
    uint64_t n;
    GET_NUMBER (msg->version, 1, "version");
    GET_BYTES (msg->node, IM_NODE_ID_SIZE, "node id");
    GET_NUMBER (msg->session, 8, "session");
    GET_NUMBER (n, 1, "name length");
    if (n < 1 || n > IM_MSG_NAME_MAX)
        return im_fail (EBADMSG, err, errsz,
                        "HELLO: name length %u is out of range (1..%d)", (unsigned)n,
                        IM_MSG_NAME_MAX);
    GET_BYTES (msg->name, n, "name");
    msg->name[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!name_char_ok ((uint8_t)msg->name[i]))
            return im_fail (EBADMSG, err, errsz,
                            "HELLO: name byte %zu (0x%02x) is not one of "
                            "A-Z a-z 0-9 . _ -",
                            i + 1, (uint8_t)msg->name[i]);
    return 0;
truncated:
    return truncated_at (d, msg, err, errsz);
}

/* RECORDS and FOUND: a cursor, the more flag, and COUNT entries. */
static int
decode_records (decoder_t *d, im_msg_t *msg, char *err, size_t errsz)
{
    GET_NUMBER (msg->cursor, 8, "cursor");
    GET_NUMBER (msg->more, 1, "more flag");
    if (msg->more & ~(IM_MSG_MORE | IM_MSG_RESTART))
        return im_fail (EBADMSG, err, errsz, "RECORDS: more is %u, not 0 to 3",
                        (unsigned)msg->more);
    GET_NUMBER (msg->count, 2, "count");
    if (msg->count > IM_MSG_CREDIT_MAX)
        return im_fail (EBADMSG, err, errsz, "RECORDS: count %zu is out of range (0..%d)",
                        msg->count, IM_MSG_CREDIT_MAX);
    for (d->entry = 1; d->entry <= msg->count; d->entry++) {
        im_msg_entry_t *e = &msg->entries[d->entry - 1];
        GET_NUMBER (e->hops, 1, "hops");
        GET_NUMBER (e->len, 2, "record length");
        if (e->len < 1 || e->len > IM_RECORD_MAX)
            return im_fail (EBADMSG, err, errsz,
                            "RECORDS: entry %zu of %zu has a record length of %zu "
                            "(must be 1..%d)",
                            d->entry, msg->count, e->len, (int)IM_RECORD_MAX);
        GET_SPAN (e->record, e->len, "record");
    }
    d->entry = 0;
    return 0;
truncated:
    return truncated_at (d, msg, err, errsz);
}

/* HAVE, FETCH (1 to COUNT keys), KEYS (a cursor, MORE, then 0 to COUNT keys)
 * and LAZY (0 to COUNT node ids). */
static int
decode_keys (decoder_t *d, im_msg_t *msg, char *err, size_t errsz)
{
    int lazy = msg->id == IM_MSG_LAZY || msg->id == IM_MSG_EAGER;
    size_t min = lazy || msg->id == IM_MSG_KEYS ? 0 : 1;
    size_t size = lazy ? IM_NODE_ID_SIZE : IM_MSG_HAVE_KEY;
    if (msg->id == IM_MSG_KEYS) {
        GET_NUMBER (msg->cursor, 8, "cursor");
        GET_NUMBER (msg->more, 1, "more");
        if (msg->more > 1)
            return im_fail (EBADMSG, err, errsz, "KEYS: more is %u (must be 0 or 1)",
                            (unsigned)msg->more);
    }
    GET_NUMBER (msg->count, 2, "count");
    if (msg->count < min || msg->count > IM_MSG_CREDIT_MAX)
        return im_fail (EBADMSG, err, errsz, "%s: count %zu is out of range (%zu..%d)",
                        d->name, msg->count, min, IM_MSG_CREDIT_MAX);
    if (msg->count)
        GET_SPAN (msg->have, msg->count * size, lazy ? "node ids" : "keys");
    return 0;
truncated:
    return truncated_at (d, msg, err, errsz);
}

/* The fixed-size messages: PULL, SYNC, PING, PONG, ROTATE, ROTATED. */
static int
decode_fixed (decoder_t *d, im_msg_t *msg, char *err, size_t errsz)
{
    switch (msg->id) {
    case IM_MSG_PULL:
    case IM_MSG_SYNC:
        GET_NUMBER (msg->cursor, 8, "cursor");
        GET_NUMBER (msg->credit, 2, "credit");
        if (msg->credit < 1 || msg->credit > IM_MSG_CREDIT_MAX)
            return im_fail (EBADMSG, err, errsz, "%s: credit %u is out of range (1..%d)",
                            d->name, (unsigned)msg->credit, IM_MSG_CREDIT_MAX);
        break;
    case IM_MSG_ROTATE:
        GET_BYTES (msg->rotation, IM_ROTATION_SIZE, "statement");
        GET_BYTES (msg->rotation_proof, IM_ROTATION_PROOF_SIZE, "proof");
        break;
    case IM_MSG_ROTATED: GET_BYTES (msg->curve, 32, "key"); break;
    default: /* PING, PONG */
        GET_NUMBER (msg->session, 8, "session");
        GET_NUMBER (msg->cursor, 8, "cursor");
        break;
    }
    return 0;
truncated:
    return truncated_at (d, msg, err, errsz);
}

int
im_msg_decode (const uint8_t *buf, size_t len, im_msg_t *msg, char *err, size_t errsz)
{
    if (!buf || !msg)
        return im_fail (EINVAL, err, errsz, "decode: missing argument");
    if (len > IM_MSG_MAX)
        return im_fail (EBADMSG, err, errsz,
                        "message of %zu bytes is over the limit of %d", len, IM_MSG_MAX);
    if (len < 3)
        return im_fail (EBADMSG, err, errsz, "message of %zu byte%s is too short", len,
                        len == 1 ? "" : "s");
    if (buf[0] != IM_MSG_SIGNATURE_0 || buf[1] != IM_MSG_SIGNATURE_1)
        return im_fail (EBADMSG, err, errsz, "not a peer message (signature %02x %02x)",
                        buf[0], buf[1]);

    decoder_t dec = {
        .needle = buf + 3, .ceiling = buf + len, .name = im_msg_name (buf[2]), .field = ""
    };
    /* Every field but the entries: they are filled up to the count. */
    memset (msg, 0, offsetof (im_msg_t, rotation));
    msg->id = buf[2];

    int rc;
    switch (msg->id) {
    case IM_MSG_HELLO: rc = decode_hello (&dec, msg, err, errsz); break;
    case IM_MSG_RECORDS:
    case IM_MSG_FOUND: rc = decode_records (&dec, msg, err, errsz); break;
    case IM_MSG_LAZY:
    case IM_MSG_EAGER:
    case IM_MSG_HAVE:
    case IM_MSG_KEYS:
    case IM_MSG_FETCH: rc = decode_keys (&dec, msg, err, errsz); break;
    case IM_MSG_PULL:
    case IM_MSG_SYNC:
    case IM_MSG_PING:
    case IM_MSG_PONG:
    case IM_MSG_ROTATE:
    case IM_MSG_ROTATED: rc = decode_fixed (&dec, msg, err, errsz); break;
    default:
        return im_fail (EBADMSG, err, errsz, "unknown message id %u", (unsigned)buf[2]);
    }
    if (rc)
        return rc;
    if (dec.needle != dec.ceiling) {
        size_t extra = (size_t)(dec.ceiling - dec.needle);
        return im_fail (EBADMSG, err, errsz, "%zu trailing byte%s after %s", extra,
                        extra == 1 ? "" : "s", dec.name);
    }
    return 0;
}

/* --- Rotation statements ----------------------------------------------- */

#define ROTATION_MAGIC "IMR1"
#define ROTATION_BODY (IM_ROTATION_SIZE - IM_SIG_SIZE)

int
im_rotation_sign (const im_rotation_t *r, const uint8_t secret_key[IM_SECRET_KEY_SIZE],
                  uint8_t out[IM_ROTATION_SIZE])
{
    if (!r || !secret_key || !out || memcmp (r->old_curve, r->new_curve, 32) == 0
        || r->until <= r->issued || r->issued < 0
        || memcmp (secret_key + 32, r->node, IM_NODE_ID_SIZE) != 0) {
        errno = EINVAL;
        return -1;
    }
    uint8_t *p = out;
    p = put_bytes (p, ROTATION_MAGIC, 4);
    p = put_bytes (p, r->node, IM_NODE_ID_SIZE);
    p = put_bytes (p, r->old_curve, 32);
    p = put_bytes (p, r->new_curve, 32);
    p = put_number (p, (uint64_t)r->issued, 8);
    p = put_number (p, (uint64_t)r->until, 8);
    crypto_sign_detached (p, NULL, out, ROTATION_BODY, secret_key);
    return 0;
}

int
im_rotation_verify (const uint8_t *buf, size_t len, im_rotation_t *r, char *err,
                    size_t errsz)
{
    if (!buf || !r)
        return im_fail (EINVAL, err, errsz, "rotation: missing argument");
    if (len != IM_ROTATION_SIZE)
        return im_fail (EBADMSG, err, errsz, "rotation: %zu bytes, not %d", len,
                        IM_ROTATION_SIZE);
    if (memcmp (buf, ROTATION_MAGIC, 4) != 0)
        return im_fail (EBADMSG, err, errsz, "rotation: not a rotation statement");
    const uint8_t *p = buf + 4;
    memcpy (r->node, p, IM_NODE_ID_SIZE);
    p += IM_NODE_ID_SIZE;
    memcpy (r->old_curve, p, 32);
    memcpy (r->new_curve, p + 32, 32);
    p += 64;
    uint64_t issued = 0, until = 0;
    for (int i = 0; i < 8; i++) {
        issued = (issued << 8) | p[i];
        until = (until << 8) | p[8 + i];
    }
    if (issued > (uint64_t)INT64_MAX || until > (uint64_t)INT64_MAX || until <= issued
        || memcmp (r->old_curve, r->new_curve, 32) == 0)
        return im_fail (EBADMSG, err, errsz, "rotation: keys or times out of range");
    if (until - issued > IM_ROTATION_GRACE_MAX)
        return im_fail (EBADMSG, err, errsz,
                        "rotation: a grace period of %llu days, over the limit of %d",
                        (unsigned long long)((until - issued) / 86400),
                        IM_ROTATION_GRACE_MAX / 86400);
    r->issued = (int64_t)issued;
    r->until = (int64_t)until;
    if (crypto_sign_verify_detached (buf + ROTATION_BODY, buf, ROTATION_BODY, r->node)
        != 0)
        return im_fail (EPERM, err, errsz, "rotation: bad signature");
    return 0;
}

/* The hash a proof boxes: of the whole statement. */
static void
proof_hash (const uint8_t *statement, uint8_t hash[32])
{
    crypto_generichash (hash, 32, statement, IM_ROTATION_SIZE, NULL, 0);
}

int
im_rotation_prove (const uint8_t *statement, const uint8_t new_secret[32],
                   const uint8_t receiver[32], uint8_t proof[IM_ROTATION_PROOF_SIZE])
{
    _Static_assert(IM_ROTATION_PROOF_SIZE
                       == crypto_box_NONCEBYTES + crypto_box_MACBYTES + 32,
                   "a nonce and a box of 32 bytes");
    if (!statement || !new_secret || !receiver || !proof) {
        errno = EINVAL;
        return -1;
    }
    uint8_t hash[32];
    proof_hash (statement, hash);
    randombytes_buf (proof, crypto_box_NONCEBYTES);
    if (crypto_box_easy (proof + crypto_box_NONCEBYTES, hash, sizeof hash, proof,
                         receiver, new_secret)
        != 0) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int
im_rotation_proof_check (const uint8_t *statement, const uint8_t *proof,
                         const uint8_t new_curve[32], const uint8_t receiver_secret[32])
{
    if (!statement || !proof || !new_curve || !receiver_secret) {
        errno = EINVAL;
        return -1;
    }
    uint8_t hash[32], opened[32];
    proof_hash (statement, hash);
    if (crypto_box_open_easy (opened, proof + crypto_box_NONCEBYTES,
                              IM_ROTATION_PROOF_SIZE - crypto_box_NONCEBYTES, proof,
                              new_curve, receiver_secret)
            != 0
        || sodium_memcmp (opened, hash, sizeof hash) != 0) {
        errno = EPERM;
        return -1;
    }
    return 0;
}
