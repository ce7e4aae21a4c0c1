/* SPDX-License-Identifier: MPL-2.0 */
/* peerkit.h -- what the test peers (tests/fake_peer, tests/mallory) share:
 * their keys file and card, and a CURVE DEALER dialling a node. Errors go
 * into the caller's buffer; the programs decide how to die. */
#ifndef IM_PEERKIT_H
#define IM_PEERKIT_H

#include <stdint.h>

#include <czmq.h>
#include <sodium.h>

#include "im_config.h"
#include "im_msg.h"

typedef struct {
    char name[IM_NAME_MAX + 1];
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    char curve_public[41];
    char curve_secret[41];
} keys_t;

/* Makes new keys named NAME and writes them to PATH (0600, never
 * overwritten). Returns 0, or -1 with a message in WHY. */
int pk_keys_make (keys_t *k, const char *name, const char *path, char *why, size_t whysz);

/* Reads the keys at PATH. Returns 0, or -1 with a message in WHY. */
int pk_keys_load (keys_t *k, const char *path, char *why, size_t whysz);

/* Prints K's card (dial-in only: no endpoint) on stdout. */
int pk_card_print (const keys_t *k);

/* A CURVE DEALER with K's keys, for the server whose CURVE key is SERVER_HEX,
 * bounded in message size and send time, not yet connected. NULL with a
 * message in WHY. */
zsock_t *pk_dealer_new (const keys_t *k, const char *server_hex, int send_timeout_ms,
                        char *why, size_t whysz);

/* Fills M as K's HELLO for SESSION. */
void pk_hello (im_msg_t *m, const keys_t *k, uint64_t session);

#endif
