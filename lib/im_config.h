/* SPDX-License-Identifier: MPL-2.0 */
/* im_config.h -- what a node's configuration file (ZPL, czmq's zconfig)
 * says, checked on load (im_config.c), and the changes made to it
 * (im_config_edit.c). Where the node lives is im_dir.h. */
#ifndef IM_CONFIG_H
#define IM_EXERCISE_RETENTION_DEFAULT (7 * 86400)
#define IM_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "im_dir.h"
#include "im_name.h"
#include "im_policy.h"
#include "im_msg.h" /* IM_ROTATION_GRACE_MAX */

/* The local feeds' sockets in the data directory, by default (ipc://DIR/...). */
#define IM_FEED_FILE "pub.sock"
#define IM_MISP_FEED_FILE "misp.sock"
#define IM_FEED_SUBSCRIBERS_MAX 256 /* CURVE keys in pub/subscribers */
#define IM_DEFAULT_LISTEN_PORT 7650
#define IM_KEY_GRACE_DEFAULT (7 * 86400)
#define IM_KEY_GRACE_MIN 5          /* seconds */
#define IM_ANTI_ENTROPY_DEFAULT 600 /* seconds between anti-entropy passes */
#define IM_ANTI_ENTROPY_MIN 1
#define IM_ANTI_ENTROPY_MAX 86400
/* Seconds a noted record may take to come from the eager peer. */
#define IM_FETCH_GRACE_DEFAULT 3
#define IM_FETCH_GRACE_MIN 1
#define IM_FETCH_GRACE_MAX 3600
#define IM_SENT_RETENTION_DEFAULT 90           /* days the sent log's history is kept */
#define IM_SENT_RETENTION_MAX 36500            /* days */
#define IM_KEY_GRACE_MAX IM_ROTATION_GRACE_MAX /* what a partner accepts */

#define IM_PEERS_MAX 128
#define IM_CARD_MAX 512
#define IM_CARD_TAG "intelmesh1"

/* A node card, as partners exchange it: "intelmesh1 NAME NODE-ID CURVE-KEY
 * ENDPOINT", keys in hex, ENDPOINT "-" for a node that only dials out. */
typedef struct {
    char name[IM_NAME_MAX + 1];
    uint8_t node[32];               /* Ed25519 public key: the node id */
    uint8_t curve[32];              /* CURVE public key */
    char curve_z85[41];             /* the same, as libzmq takes it */
    char endpoint[IM_ENDPOINT_MAX]; /* "" when the node only dials out */
} im_card_t;

/* A peer on the trust list: its card, and where to dial it ("" for a peer
 * that only dials in). */
typedef struct {
    im_card_t card;
    char endpoint[IM_ENDPOINT_MAX];
    char policy[IM_POLICY_NAME_MAX + 1]; /* its outbound policy, by name */
    im_inbound_t in;                     /* what is taken from it */
    uint8_t prev_curve[32];              /* its CURVE key before a rotation, */
    char prev_curve_z85[41];
    int64_t prev_until; /* which works until then (0: none) */
} im_peer_conf_t;

/* A TAXII client (the `taxii-client` sections): its name (the HTTP Basic
 * user name), its outbound policy, the hash of its key (im_taxii_key_hash)
 * and the id that names it as a record's recipient. */
#define IM_TAXII_CLIENTS_MAX 64
#define IM_TAXII_KEY_SIZE 32
typedef struct {
    char name[IM_NAME_MAX + 1];
    char policy[IM_POLICY_NAME_MAX + 1];
    uint8_t key_hash[32];
    uint8_t id[IM_NODE_ID_SIZE];
} im_taxii_client_t;

typedef struct {
    char name[IM_NAME_MAX + 1];
    char listen[IM_ENDPOINT_MAX];            /* peer endpoint, advertised in the card */
    char bind[IM_ENDPOINT_MAX];              /* where the peer socket binds */
    char pub_endpoint[IM_ENDPOINT_MAX];      /* local PUB socket (default
                                                ipc://DIR/pub.sock) */
    char pub_group[IM_NAME_MAX + 1];         /* group of its ipc:// sockets;
                                                "" the node user's primary group */
    char pub_subscribers[IM_PATH_MAX];       /* czmq public certificates of
                                                CURVE subscribers; "" none */
    int heartbeat;                           /* seconds between heartbeats */
    size_t map_size;                         /* initial LMDB map size, bytes */
    size_t max_size;                         /* the store's size limit (0: none) */
    int syslog;                              /* log to syslog rather than stderr */
    int pub_misp;                            /* pub_endpoint speaks MISP's feed format */
    char pub_misp_endpoint[IM_ENDPOINT_MAX]; /* a second PUB, MISP's format; "" none */
    char warninglists[IM_PATH_MAX];          /* MISP warninglists directory; "" none */
    int64_t key_grace;                       /* seconds an old CURVE key still works */
    int64_t anti_entropy;                    /* seconds between anti-entropy passes */
    int64_t fetch_grace; /* seconds before a noted record is fetched from its noter */
    int64_t exercise_retention; /* seconds an ended exercise is kept (SPEC.md,
                                   "Exercises") */
    int sent_retention;         /* days the sent log's history is kept (0: for ever) */
    size_t npeers;              /* the trust list */
    im_peer_conf_t peers[IM_PEERS_MAX];
    size_t npolicies; /* named outbound policies; `default`
                         is always among them */
    im_policy_t policies[IM_POLICY_MAX];
    /* The TAXII 2.1 server (off while taxii_listen is ""). */
    char taxii_listen[IM_ENDPOINT_MAX]; /* HOST:PORT */
    char taxii_cert[IM_PATH_MAX];       /* PEM files; relative: to the data dir */
    char taxii_key[IM_PATH_MAX];
    size_t ntaxii_clients;
    im_taxii_client_t taxii_clients[IM_TAXII_CLIENTS_MAX];
} im_config_t;

/* The policy named NAME, or NULL. */
const im_policy_t *im_config_policy (const im_config_t *cfg, const char *name);

/* The outbound policy of PEER (its named policy, which load checked exists). */
const im_policy_t *im_config_peer_policy (const im_config_t *cfg,
                                          const im_peer_conf_t *peer);

/* The peer named NAME, or NULL. */
const im_peer_conf_t *im_config_peer (const im_config_t *cfg, const char *name);

/* Sets KEYS[i] = VALUES[i] (a NULL value removes the key) in the section
 * KIND ("peer" or "policy") whose name is NAME, creating a policy section
 * when CREATE and there is none. The new file must load (it is checked before
 * it replaces the old one, atomically, comments kept). Returns 0, or -1 with
 * errno (ENOENT: no such section; EINVAL: the result does not load, with
 * the reason) and a reason in ERR. */
int im_config_section_set (const char *dir, const char *kind, const char *name,
                           int create, const char **keys, const char **values, size_t n,
                           char *err, size_t errsz);

/* Removes the policy section NAME; refused (EBUSY) while a peer points at
 * it. */
int im_config_policy_remove (const char *dir, const char *name, char *err, size_t errsz);

/* Removes the section KIND ("taxii-client", ...) whose name is NAME
 * (ENOENT when there is none). */
int im_config_section_remove (const char *dir, const char *kind, const char *name,
                              char *err, size_t errsz);

/* The TAXII client named NAME, or NULL. */
const im_taxii_client_t *im_config_taxii_client (const im_config_t *cfg,
                                                 const char *name);

/* The hash kept of a TAXII client's key: BLAKE2b-256 of the 32 key bytes,
 * personalised for this use. A random 256-bit key needs no slow hash: there
 * is no guessing it, only its hash must not give it away. */
void im_taxii_key_hash (const uint8_t key[IM_TAXII_KEY_SIZE], uint8_t hash[32]);

/* Loading the `taxii` section (ROOT: the whole file) and one `taxii-client`
 * section (ITEM) into CFG (im_config_taxii.c). Return 0, or -1 with errno,
 * the reason in WHY and the key at fault in *KEY (NULL: the section). */
struct _zconfig_t;
struct sockaddr_storage;
/* Parses ADDRESS:PORT (IPv4, [IPv6] or *) as taxii/listen takes it. Returns
 * 0 or -1 with errno EINVAL. */
int im_taxii_listen_parse (const char *text, struct sockaddr_storage *ss, socklen_t *len);
int im_config_taxii_server (struct _zconfig_t *root, im_config_t *cfg, const char **key,
                            char *why, size_t whysz);
int im_config_taxii_client_load (struct _zconfig_t *item, im_config_t *cfg,
                                 const char **key, char *why, size_t whysz);

/* Loads configuration TEXT (as im_config_load, naming lines of FILE). */
int im_config_load_text (const char *text, im_config_t *cfg, char *err, size_t errsz);

/* Parses a node card. Returns 0, or -1 with errno EINVAL and a reason. */
int im_card_parse (const char *text, im_card_t *card, char *err, size_t errsz);

/* Adds a peer section to DIR/intelmesh.conf (the file is rewritten
 * atomically, comments kept). Refuses a name, node id or CURVE key already on
 * the list (EEXIST), or a full list (ENOSPC). */
int im_config_peer_add (const char *dir, const im_peer_conf_t *peer, char *err,
                        size_t errsz);

/* Removes the peer section NAME from DIR/intelmesh.conf (ENOENT when there
 * is none). */
int im_config_peer_remove (const char *dir, const char *name, char *err, size_t errsz);

/* Loads DIR/intelmesh.conf over the defaults. Unknown settings, bad values,
 * unknown policy names and contradictory rules are refused with a reason
 * naming the file, line and setting ("intelmesh.conf:12: ..."). Returns 0 or -1 with
 * errno and the reason in ERR. */
int im_config_load (const char *dir, im_config_t *cfg, char *err, size_t errsz);

/* Writes a new DIR/intelmesh.conf with every setting and a comment on each.
 * Refuses to overwrite (EEXIST). */
int im_config_write_default (const char *dir, const char *name, const char *listen,
                             const char *pub, char *err, size_t errsz);

#endif
