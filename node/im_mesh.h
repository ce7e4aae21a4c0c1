/* SPDX-License-Identifier: MPL-2.0 */
/* im_mesh.h -- replication with the peers on the trust list (SPEC.md, "The
 * peer protocol"): a CURVE server ROUTER guarded by a ZAP handler whose
 * allow-list is the live trust list, one CURVE client DEALER per peer that
 * has an endpoint, and receiver-driven pull over persisted cursors. Runs
 * inside the node actor's thread; it owns its sockets, the node owns the
 * poller and the store. */
#ifndef IM_MESH_H
#define IM_MESH_H

#include <czmq.h>
#include <jansson.h>

#include "im_config.h"
#include "im_identity.h"
#include "im_poller.h"
#include "im_store.h"

typedef struct _im_mesh_t im_mesh_t;

/* Called for each record the mesh stored (new or newer), to publish it on
 * the local feed. */
typedef void (im_mesh_stored_fn) (const im_record_t *rec, void *arg);

/* Binds the peer socket on CONFIG's bind endpoint, starts the ZAP handler
 * and dials the peers. Adds its sockets to POLLER. Returns NULL with errno and
 * a reason in ERR. */
im_mesh_t *im_mesh_new (const im_config_t *config, im_identity_t *identity,
                        im_store_t *store, im_poller_t *poller, im_mesh_stored_fn *stored,
                        void *arg, char *err, size_t errsz);

/* The ZAP domain of the node's CURVE-protected local feeds: the mesh's ZAP
 * handler admits a key there when FN (KEY, ARG) returns 1 (NULL: none). */
#define IM_FEED_ZAP_DOMAIN "intelmesh-feed"
typedef int (im_mesh_key_fn) (const uint8_t *key, void *arg);
void im_mesh_set_feed_check (im_mesh_t *self, im_mesh_key_fn *fn, void *arg);

/* NULL-safe; closes every socket, sets *SELF_P to NULL, preserves errno. */
void im_mesh_destroy (im_mesh_t **self_p);

/* Handles SOCKET when it is one of the mesh's. Returns 1 if it was, else 0. */
int im_mesh_handle (im_mesh_t *self, void *socket);

/* Handles one message on each of the mesh's sockets that has one waiting:
 * called after a turn of control requests, so that a client keeping the
 * control socket busy cannot keep the peers waiting (im_poller_wait takes
 * the sockets in turn too, since 2026-12-06). NULL-safe. */
void im_mesh_handle_ready (im_mesh_t *self);

/* Heartbeats, handshake retries, liveness. Call at least every 100 ms. */
void im_mesh_tick (im_mesh_t *self);

/* Writes what every peer acknowledged to the sent log now, which is
 * otherwise written a few answers at a time (before the log is listed). */
void im_mesh_sent_flush (im_mesh_t *self);

/* Milliseconds until the mesh next needs im_mesh_tick (at most 100). */
int im_mesh_next_ms (im_mesh_t *self);

/* The store has new changes: answers the peers' parked pulls. */
void im_mesh_changed (im_mesh_t *self);

/* Applies a new trust list: dials added peers, drops removed ones at once
 * (their connections are cut and their keys refused from then on). */
int im_mesh_reload (im_mesh_t *self, const im_config_t *config, char *err, size_t errsz);

/* Whether the record (ORIGIN, ID) held here goes to the peer named PEER now,
 * and why (the first rule of SPEC.md "Sharing policy" that decided), with
 * what the sent log says, as JSON. Returns NULL with errno ENOENT (no such
 * peer or record) and a reason in ERR. */
json_t *im_mesh_explain (im_mesh_t *self, const uint8_t *origin, const uint8_t *id,
                         const char *peer, char *err, size_t errsz);

/* A peer rotated its CURVE key: the function writes its new card down (the
 * configuration) before the peer is told so. Returns 0, or -1 with a reason
 * in ERR. */
typedef int (im_mesh_rotate_fn) (const char *peer, const im_rotation_t *r, void *arg,
                                 char *err, size_t errsz);
void im_mesh_set_rotate_fn (im_mesh_t *self, im_mesh_rotate_fn *fn, void *arg);

/* Our identity's CURVE keys changed (a rotation was made, or its grace period
 * ended): peers are told, links are made again with the right keys. */
void im_mesh_keys_changed (im_mesh_t *self);

/* The node id of the peer named NAME, or NULL. */
const uint8_t *im_mesh_peer_node (im_mesh_t *self, const char *name);

/* The peers as JSON: state, last contact, lag each way, counts, refusals. */
json_t *im_mesh_peers (im_mesh_t *self);

/* The fetch grace in force, ms: node/fetch-grace, stretched while the peers
 * answer PINGs slowly (SPEC "Wanted keys"). */
int64_t im_mesh_fetch_grace (const im_mesh_t *self);

/* The latest keys our ZAP handler refused (at most 16): [{"key" (hex),
 * "address", "count", "first", "last"}], newest first. */
json_t *im_mesh_refused_keys (im_mesh_t *self);

/* What checking records from peers cost: batch roots verified (one Ed25519
 * verification each), records checked against a root verified before, and
 * records whose signature did not verify (each one verification). Any may
 * be NULL. */
void im_mesh_signatures (im_mesh_t *self, uint64_t *verified, uint64_t *cached,
                         uint64_t *failed);

/* Records sealed to this node that were opened and stored, and those that
 * could not be read or were refused by the inbound rules. */
void im_mesh_sealed (im_mesh_t *self, uint64_t *opened, uint64_t *unreadable);

/* The node's own check of a record a peer sent that is no indicator (an
 * exercise's: SPEC.md, "Exercises"), after the inbound rules took it:
 * returns 0 to take it, or -1 with the reason in WHY (counted and logged as
 * an inbound refusal). */
typedef int (im_mesh_accept_fn) (const im_record_t *rec, void *arg, char *why,
                                 size_t whysz);
void im_mesh_set_accept_fn (im_mesh_t *self, im_mesh_accept_fn *fn, void *arg);

/* Refusals by reason, summed over all peers (and handshakes refused). */
json_t *im_mesh_refusals (im_mesh_t *self);

/* When this node's store was found lost or restored, and by which peer's
 * pull ({"time", "found_by"}), or JSON null (SPEC.md, "Store restarts"). */
json_t *im_mesh_restart (im_mesh_t *self);

#endif
