/* SPDX-License-Identifier: MPL-2.0 */
/* im_msg.h -- the peer protocol's messages (proto/SPEC.md, "The peer
 * protocol"): one ZeroMQ frame each, a two-byte signature, a message id and
 * fixed, bounds-checked fields. RECORDS carries many signed records at once. */
#ifndef IM_MSG_H
#define IM_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "im_record.h"

#define IM_MSG_SIGNATURE_0 0xAA
#define IM_MSG_SIGNATURE_1 0xA1
#define IM_MSG_VERSION 1 /* peer protocol version, in HELLO */

typedef enum {
    IM_MSG_HELLO = 1,    /* who I am: version, node id, session, name */
    IM_MSG_PULL = 2,     /* send me changes after CURSOR, at most CREDIT records */
    IM_MSG_RECORDS = 3,  /* changes up to CURSOR: hops and signed record each */
    IM_MSG_PING = 4,     /* are you there? (my session, my newest change) */
    IM_MSG_PONG = 5,     /* I am (my session, my newest change) */
    IM_MSG_HAVE = 6,     /* I now hold these (origin, id, version): skip them */
    IM_MSG_LAZY = 7,     /* send me only the keys of these origins' records */
    IM_MSG_FETCH = 8,    /* send me these records (keys, as HAVE) */
    IM_MSG_FOUND = 9,    /* the records asked for (as RECORDS; cursor unused) */
    IM_MSG_ROTATE = 10,  /* my new CURVE key: a rotation statement, signed */
    IM_MSG_ROTATED = 11, /* I now know your new CURVE key (the key) */
    IM_MSG_SYNC = 12,    /* anti-entropy: the keys of your changes after CURSOR,
                            at most CREDIT */
    IM_MSG_KEYS = 13,    /* the keys of the changes up to CURSOR that may go to
                            you (as HAVE, with CURSOR and MORE) */
    IM_MSG_EAGER = 14    /* send me in full your own records and these
                            origins'; of the others only the keys */
} im_msg_id_t;

#define IM_MSG_NAME_MAX 64       /* node name in HELLO, bytes */
#define IM_MSG_CREDIT_MAX 1000   /* records a PULL may ask for, RECORDS may hold */
#define IM_MSG_MAX (4 << 20)     /* largest message, bytes */
#define IM_MSG_RECORDS_HEADER 14 /* signature, id, cursor, more, count */
#define IM_MSG_ENTRY_OVERHEAD 3  /* hops and record length */
#define IM_MSG_HAVE_KEY (IM_NODE_ID_SIZE + IM_ID_SIZE + 8) /* origin, id, version */
/* The bits of RECORDS' "more" byte. */
#define IM_MSG_MORE 1 /* more is ready now */
#define IM_MSG_RESTART                                                                   \
    2 /* the sender's store is behind the pull's cursor                                  \
         (lost or restored): CURSOR is where it starts again */

/* A rotation statement (SPEC.md, "ROTATE"): magic "IMR1", node id, old and
 * new CURVE public keys, when it was made and until when the old key still
 * works, then the node's Ed25519 signature over all of that. */
#define IM_ROTATION_SIZE (4 + IM_NODE_ID_SIZE + 32 + 32 + 8 + 8 + IM_SIG_SIZE)
/* What a ROTATE carries besides its statement: proof that its sender holds
 * the secret of the statement's new key. A crypto_box, under a random
 * nonce, of the statement's BLAKE2b-256 hash, from the new key to the
 * receiver's CURVE key: only the receiver can open it, and only the holder
 * of the new key can have made it. Nonce (24), then the box (16 + 32). */
#define IM_ROTATION_PROOF_SIZE (24 + 16 + 32)
/* The longest grace period a statement may give its previous key (SPEC.md,
 * "ROTATE and ROTATED"): until - issued is at most this. */
#define IM_ROTATION_GRACE_MAX (365 * 86400)

typedef struct {
    uint8_t node[IM_NODE_ID_SIZE];
    uint8_t old_curve[32];
    uint8_t new_curve[32];
    int64_t issued; /* seconds since the epoch */
    int64_t until;  /* the old key stops working then */
} im_rotation_t;

/* Encodes and signs a statement with SECRET_KEY (whose public half must be
 * R->node). Returns 0, or -1 with errno EINVAL (keys equal, until not after
 * issued, or key mismatch). */
int im_rotation_sign (const im_rotation_t *r,
                      const uint8_t secret_key[IM_SECRET_KEY_SIZE],
                      uint8_t out[IM_ROTATION_SIZE]);

/* Writes PROOF for STATEMENT (IM_ROTATION_SIZE bytes), made with
 * NEW_SECRET, the secret half of the statement's new CURVE key, for the
 * receiver whose CURVE public key is RECEIVER. Returns 0, or -1 with errno
 * EINVAL (a NULL argument). */
int im_rotation_prove (const uint8_t *statement, const uint8_t new_secret[32],
                       const uint8_t receiver[32], uint8_t proof[IM_ROTATION_PROOF_SIZE]);

/* Whether PROOF shows, to the receiver whose CURVE secret key is
 * RECEIVER_SECRET, that STATEMENT's sender holds the secret of NEW_CURVE.
 * Returns 0, or -1 with errno EPERM (it does not) or EINVAL. */
int im_rotation_proof_check (const uint8_t *statement, const uint8_t *proof,
                             const uint8_t new_curve[32],
                             const uint8_t receiver_secret[32]);

/* Decodes a statement and checks its signature against the node id it holds.
 * Returns 0, or -1 with errno EBADMSG (malformed, or a grace period over
 * IM_ROTATION_GRACE_MAX) or EPERM (bad signature) and the reason in ERR. */
int im_rotation_verify (const uint8_t *buf, size_t len, im_rotation_t *r, char *err,
                        size_t errsz);

/* One record in a RECORDS message. When decoded, RECORD points into the
 * decoded buffer (no copy): it is valid while that buffer is. */
typedef struct {
    uint8_t hops;          /* links the record has crossed to reach the sender */
    const uint8_t *record; /* a signed record (im_record_decode) */
    size_t len;
} im_msg_entry_t;

/* A decoded or to-be-encoded message; only the fields of its id matter. */
typedef struct {
    uint8_t id;                         /* im_msg_id_t */
    uint8_t version;                    /* HELLO */
    uint8_t node[IM_NODE_ID_SIZE];      /* HELLO: the sender's node id */
    uint64_t session;                   /* HELLO, PING, PONG: sender's run */
    char name[IM_MSG_NAME_MAX + 1];     /* HELLO: the sender's name */
    uint64_t cursor;                    /* PULL, SYNC: after this; RECORDS, KEYS:
                                           up to this;
                                           PING, PONG: the sender's newest change */
    uint16_t credit;                    /* PULL, SYNC: 1..IM_MSG_CREDIT_MAX */
    uint8_t more;                       /* RECORDS: IM_MSG_MORE when more is
                                           ready now, IM_MSG_RESTART (SPEC,
                                           "Store restarts"); KEYS: 1 when more
                                           is ready */
    size_t count;                       /* RECORDS, FOUND: entries; HAVE, FETCH,
                                           KEYS, LAZY: keys or node ids */
    const uint8_t *have;                /* HAVE, FETCH, KEYS: COUNT keys of
                                           IM_MSG_HAVE_KEY bytes; LAZY: COUNT
                                           node ids (0 to 1000); decoded, it
                                           points into the decoded buffer */
    uint8_t rotation[IM_ROTATION_SIZE]; /* ROTATE: the statement (checked by
                                           im_rotation_verify, not here) */
    uint8_t rotation_proof[IM_ROTATION_PROOF_SIZE]; /* ROTATE: its proof */
    uint8_t curve[32]; /* ROTATED: the new key acknowledged */
    im_msg_entry_t entries[IM_MSG_CREDIT_MAX];
} im_msg_t;

/* Encodes MSG into BUF. Returns 0 and the size in *LEN, or -1 with errno
 * EINVAL (a field out of range: unknown id, credit 0 or too large, count too
 * large, an empty or over-long record, a name that is not 1..64 bytes) or
 * ENOSPC (BUF too small, or the message would exceed IM_MSG_MAX). */
int im_msg_encode (const im_msg_t *msg, uint8_t *buf, size_t bufsz, size_t *len);

/* Decodes one message. Every length is checked; trailing bytes, an unknown
 * signature or id, a credit or count out of range, a record length of 0 or
 * over IM_RECORD_MAX are refused. Records are not decoded or verified here.
 * Returns 0, or -1 with errno EBADMSG and the reason in ERR. A HELLO of
 * another version decodes (so that the caller can say so). */
int im_msg_decode (const uint8_t *buf, size_t len, im_msg_t *msg, char *err,
                   size_t errsz);

/* A HAVE holds 1 to IM_MSG_CREDIT_MAX keys. */

/* "HELLO", "PULL", ...; "?" for an unknown id. */
const char *im_msg_name (int id);

#endif
