/* SPDX-License-Identifier: MPL-2.0 */
/* im_seal.h -- sealed envelopes (SPEC.md, "Sealed envelopes"): a payload
 * encrypted once and its key sealed to 1 to 8 recipients named by their node
 * ids, so that relays learn only its size bucket and that it is sealed. */
#ifndef IM_SEAL_H
#define IM_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define IM_SEAL_SLOTS 8             /* key slots in every envelope, used or not */
#define IM_SEAL_BLOCK 256           /* the payload is padded to a multiple of this */
#define IM_SEAL_BLOCKS_MAX 50       /* the largest padded payload, in blocks */
#define IM_SEAL_SLOT_SIZE (32 + 48) /* crypto_box_seal of a 32-byte key */
#define IM_SEAL_HEAD (4 + IM_SEAL_SLOTS * IM_SEAL_SLOT_SIZE) /* magic, slots: 644 */
#define IM_SEAL_OVERHEAD (IM_SEAL_HEAD + 24 + 16)            /* nonce, tag: 684 */
/* The largest payload: sodium_pad adds at least one byte. */
#define IM_SEAL_PAYLOAD_MAX (IM_SEAL_BLOCKS_MAX * IM_SEAL_BLOCK - 1)
/* The size of the envelope of a payload of LEN bytes (1 to IM_SEAL_PAYLOAD_MAX). */
#define IM_SEAL_SIZE(len) (IM_SEAL_OVERHEAD + ((len) / IM_SEAL_BLOCK + 1) * IM_SEAL_BLOCK)
#define IM_SEAL_MAX IM_SEAL_SIZE (IM_SEAL_PAYLOAD_MAX) /* 13484 */

/* Seals PAYLOAD (LEN bytes, 1 to IM_SEAL_PAYLOAD_MAX) to the N recipients
 * RECIPIENTS (Ed25519 node ids, 1 to IM_SEAL_SLOTS, distinct) into OUT
 * (OUTSZ bytes, at least IM_SEAL_SIZE (LEN)); the envelope's length goes to
 * *OUTLEN. Returns 0, or -1 with errno EINVAL (a NULL argument, a bad count,
 * a duplicate, a node id that is no X25519 key, a payload too large) or
 * ENOSPC (OUT too small) and the reason in ERR. PAYLOAD and OUT must not
 * overlap. */
int im_seal (const uint8_t *payload, size_t len, const uint8_t (*recipients)[32],
             size_t n, uint8_t *out, size_t outsz, size_t *outlen, char *err,
             size_t errsz);

/* Opens the envelope ENV (LEN bytes) with the node's Ed25519 secret key
 * ED25519_SK into PAYLOAD (PSZ bytes; IM_SEAL_PAYLOAD_MAX always suffices),
 * its length into *PLEN. Returns 0, or -1 with errno EINVAL (a NULL
 * argument, a secret key that does not convert), EBADMSG (malformed, or
 * changed on the way), ENOENT (no slot opens with this key: not for this
 * node) or ENOSPC (PAYLOAD too small), and the reason in ERR. */
int im_seal_open (const uint8_t *env, size_t len, const uint8_t ed25519_sk[64],
                  uint8_t *payload, size_t psz, size_t *plen, char *err, size_t errsz);

#endif
