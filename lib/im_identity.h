/* SPDX-License-Identifier: MPL-2.0 */
/* im_identity.h -- a node's identity: its Ed25519 signing key (the node id)
 * and its CURVE key for CurveZMQ, kept in DIR/keys, secrets mode 0600. */
#ifndef IM_IDENTITY_H
#define IM_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "im_msg.h"
#include "im_record.h"

typedef struct _im_identity_t im_identity_t;

#define IM_KEYS_DIR "keys"
#define IM_SECRET_FILE "keys/node.secret"
#define IM_PUBLIC_FILE "keys/node.public"

/* Makes new keys and writes them under DIR/keys (the directory 0700, the
 * secret file 0600, created exclusively). Refuses to overwrite (EEXIST).
 * Returns the identity, or NULL with errno and a reason in ERR. */
im_identity_t *im_identity_create (const char *dir, char *err, size_t errsz);

/* Loads the keys under DIR/keys. A secret file that others can read is
 * refused (EPERM). Returns NULL with errno and a reason in ERR. */
im_identity_t *im_identity_load (const char *dir, char *err, size_t errsz);

/* NULL-safe; wipes the secrets, sets *SELF_P to NULL, preserves errno. */
void im_identity_destroy (im_identity_t **self_p);

/* The node id (Ed25519 public key) and the signing secret. */
const uint8_t *im_identity_node (const im_identity_t *self);
const uint8_t *im_identity_sign_secret (const im_identity_t *self);
/* CURVE keys in Z85 text, as libzmq takes them. */
const char *im_identity_curve_public (const im_identity_t *self);
const char *im_identity_curve_secret (const im_identity_t *self);

/* Whether a card with node id NODE and CURVE key CURVE_Z85 is this node's:
 * NULL when it is not, else what it shares ("this node's own node id" or
 * "this node's own CURVE key", the current or the previous one). */
const char *im_identity_owns (const im_identity_t *self, const uint8_t node[32],
                              const char *curve_z85);

/* After a rotation, the previous CURVE key (Z85), until its grace period
 * ends; NULL (0) when there is none. */
const char *im_identity_curve_previous_public (const im_identity_t *self);
const char *im_identity_curve_previous_secret (const im_identity_t *self);
int64_t im_identity_previous_until (const im_identity_t *self);

/* Makes a new CURVE key pair; the current one becomes the previous key, which
 * works for GRACE seconds from NOW. The key files under DIR are replaced
 * atomically (secrets 0600). Refused (EBUSY) while an earlier rotation's grace
 * period lasts. The signing key, which is the node id, stays. Returns 0, or
 * -1 with errno and a reason in ERR; on failure SELF is unchanged. */
int im_identity_rotate (im_identity_t *self, const char *dir, int64_t now, int64_t grace,
                        char *err, size_t errsz);

/* Forgets the previous CURVE key (its grace period is over), on disk too. */
int im_identity_forget_previous (im_identity_t *self, const char *dir, char *err,
                                 size_t errsz);

/* The signed rotation statement of the last rotation (previous key to
 * current), for peers. Returns 0, or -1 with errno EINVAL when there is no
 * previous key. */
int im_identity_rotation (const im_identity_t *self, uint8_t out[IM_ROTATION_SIZE]);

/* The node card, one line: "intelmesh1 NAME NODE-ID CURVE-KEY ENDPOINT", keys
 * in hex. Returns 0, or -1 with errno ENOSPC. */
int im_identity_card (const im_identity_t *self, const char *name, const char *endpoint,
                      char *out, size_t outsz);

#endif
