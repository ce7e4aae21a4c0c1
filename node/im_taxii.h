/* SPDX-License-Identifier: MPL-2.0 */
/* im_taxii.h -- a read-only TAXII 2.1 server over HTTPS (libmicrohttpd with
 * GnuTLS), so that OpenCTI, MISP, Sentinel, Splunk or Elastic pull a node's
 * indicators as STIX 2.1. Each client (HTTP Basic: its name and key) sees
 * what its sharing policy lets a peer see. It runs in the node's loop: the
 * node polls im_taxii_pollable() and calls im_taxii_run(), which never
 * blocks, so the store is read only from the node's thread. */
#ifndef IM_TAXII_H
#define IM_TAXII_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "im_config.h"
#include "im_store.h"

typedef struct _im_taxii_t im_taxii_t;

/* Starts the server as CONFIG's taxii section says (a relative certificate
 * or key path is relative to DIR), serving STORE's records for node NODE.
 * Returns NULL with errno and the reason in ERR (a bad certificate or key,
 * an address in use). */
im_taxii_t *im_taxii_new (const im_config_t *config, const char *dir, im_store_t *store,
                          const uint8_t node[IM_NODE_ID_SIZE], char *err, size_t errsz);

/* Stops it; NULL-safe, sets *SELF_P to NULL. */
void im_taxii_destroy (im_taxii_t **self_p);

/* What the node's poller polls (a pointer to a file descriptor). */
void *im_taxii_pollable (im_taxii_t *self);

/* Does what is ready (handshakes, requests, timeouts); never blocks. */
void im_taxii_run (im_taxii_t *self);

/* How long the node may wait before im_taxii_run has work (ms, 0 at once;
 * at most MAX): data GnuTLS holds or a page still to send do not wake the
 * poller. */
int im_taxii_next_ms (im_taxii_t *self, int max);

/* Takes CONFIG's clients and policies (a reload): in effect at once. */
void im_taxii_reload (im_taxii_t *self, const im_config_t *config);

/* {"listen", "clients", "requests", "refused_auth", "not_acceptable",
 *  "bad_requests"} for STATUS. Returns a new reference or NULL. */
json_t *im_taxii_status (im_taxii_t *self);

#endif
