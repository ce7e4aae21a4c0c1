/* im_identity.h -- a node's identity: its Ed25519 signing key (the node id)
 * and its CURVE key for CurveZMQ, kept in DIR/keys, secrets mode 0600. */
#ifndef IM_IDENTITY_H
#define IM_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "im_config.h"
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

/* The node card, one line: "intelmesh1 NAME NODE-ID CURVE-KEY ENDPOINT", keys
 * in hex. Returns 0, or -1 with errno ENOSPC. */
int im_identity_card (const im_identity_t *self, const char *name, const char *endpoint,
                      char *out, size_t outsz);

#endif
