/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_int.h -- private to the node actor's files: its state, and the
 * handlers each file gives the control dispatcher (im_node.c). Nothing
 * outside node/im_node*.c includes this. */
#ifndef IM_NODE_INT_H
#define IM_NODE_INT_H

#include <stdint.h>

#include <czmq.h>
#include <jansson.h>

#include "im_config.h"
#include "im_ctl.h"
#include "im_identity.h"
#include "im_mesh.h"
#include "im_misp.h"
#include "im_node.h"
#include "im_record.h"
#include "im_sealer.h"
#include "im_store.h"
#include "im_taxii.h"
#include "im_time.h"
#include "im_warninglist.h"

#define NODE_READ_AHEAD 4 /* control requests read ahead of the one answered */

/* The topic prefixes a feed's subscribers asked for (an XPUB socket tells
 * them), so that nothing is encoded for nobody (im_node_feed.c). */
#define NODE_SUBS_MAX 64
#define NODE_SUB_MAX 64
typedef struct {
    size_t n;
    char prefix[NODE_SUBS_MAX][NODE_SUB_MAX + 1];
    size_t unknown;  /* subscriptions not kept (too many, too long): match all */
    int64_t read_at; /* when they were last read (zclock_usecs): at most every ms */
} node_subs_t;

typedef struct {
    zsock_t *pipe;
    zsock_t *control;
    zsock_t *pub;                    /* the local feed, in pub_endpoint's format */
    zsock_t *pub_misp;               /* a second feed in MISP's format, or NULL */
    node_subs_t pub_subs, misp_subs; /* what their subscribers asked for */
    uint8_t *feed_keys; /* CURVE keys of the feeds' subscribers, 32 bytes each */
    size_t nfeed_keys;  /* (pub/subscribers; NULL and 0 without CURVE) */
    im_poller_t *poller;
    char *dir;
    char control_endpoint[6 + 108]; /* ipc:// and a socket path */
    im_config_t config;
    im_identity_t *identity;
    im_store_t *store;
    im_sealer_t *sealer; /* signs PUBLISH's batches beside the node's thread */
    im_mesh_t *mesh;
    im_warninglists_t *warnings; /* NULL when the config names none */
    im_taxii_t *taxii;           /* the TAXII server; NULL when off */
    int64_t started;
    int64_t next_heartbeat; /* zclock_mono ms */
    int64_t forget_at;      /* when to try forgetting the previous key again */
    int64_t guard_log_from; /* zclock_mono ms: the minute of forced overrides logged */
    unsigned guard_log_n;   /* overrides logged one by one in that minute */
    int terminated;
    /* Counters shown by STATUS. */
    uint64_t published;    /* indicators this node signed and stored */
    uint64_t sealed;       /* batches this node signed (SPEC, "Batches") */
    uint64_t revoked;      /* revocations this node signed and stored */
    uint64_t refused;      /* indicators refused at publish */
    uint64_t requests;     /* control requests answered */
    uint64_t bad_requests; /* control requests refused as malformed */
    uint64_t store_errors; /* control requests the store failed (a full disk) */
    int store_failed;      /* the request being handled failed in the store */
    uint64_t events;       /* messages sent on the PUB socket */
    uint64_t sighted;      /* sightings this node made */
    uint64_t carriers;     /* carriers this node made for its sealed records */
    /* Joint exercises (im_node_exercise*.c). */
    json_t *exercises;                    /* exercises.json: hosted, joined, ended */
    int exercises_dirty;                  /* ... changed by records: saved at the tick */
    int64_t evict_logged_at;              /* when an entry forgotten was logged */
    uint64_t evicted_unlogged;            /* ... entries forgotten since, not logged */
    uint8_t (*to_ack)[IM_STORE_KEY_SIZE]; /* injects stored, to acknowledge */
    size_t nto_ack;
    uint64_t acked;            /* acknowledgements made */
    int64_t exercise_check_at; /* when ended exercises are looked at next */
    /* A reply written as text (the compact LOOKUP, PUBLISH), sent instead
     * of the handler's object. */
    im_ctl_text_t reply_text;
    /* Control requests taken from the socket and being read, in order
     * (im_node_control.c); the one being answered. */
    zactor_t *reader;
    struct _node_request_t *queue[NODE_READ_AHEAD];
    size_t qhead, queued;
    struct _node_request_t *request;
    /* The memory of the last PUBLISH or REVOKE batch, kept for the next one
     * (im_node_batch.c), and when it was given back (zclock_mono ms). */
    struct _node_batch_t *batch_spare;
    int64_t batch_spare_at;
} node_t;

typedef json_t *(handler_fn)(node_t *self, json_t *body, char *err, size_t errsz);

/* An item of a PUBLISH, split by the reader (im_ctl_item_split): its
 * content part, and its own keys (OWN). */
typedef struct {
    json_t *content; /* a new reference, or NULL: WHY (malloc'd) says why */
    char *why;
    int why_oom; /* no memory for WHY */
    im_ctl_item_t own;
} node_item_t;

/* A control request (im_node_control.c): taken from the socket, decoded by
 * the reader (RC, CMD, BODY, SHOWN and ERR as im_ctl_request_decode's), a
 * PUBLISH's items split (ITEMS, NITEMS: NULL, 0 when they were not). */
typedef struct _node_request_t {
    zframe_t *routing;
    zmsg_t *msg;
    int read;
    int rc;
    im_ctl_cmd_t cmd;
    json_t *body;
    char shown[IM_CONTROL_NAME_MAX + 2];
    char err[1024];
    node_item_t *items;
    size_t nitems;
} node_request_t;

/* node_control_start starts the reader; node_control_stop stops it.
 * node_control_next takes up to *BUDGET more requests waiting on the socket
 * to the reader (at most NODE_READ_AHEAD queued) and returns the oldest,
 * read, or NULL when none is queued; node_control_done hands it back to the
 * reader to be freed. */
int node_control_start (node_t *self, char *err, size_t errsz);
void node_control_stop (node_t *self);
node_request_t *node_control_next (node_t *self, size_t *budget);
void node_control_done (node_t *self, node_request_t **req_p);

/* The local feed (im_node_feed.c). node_feed_start binds the feeds (after
 * the mesh, whose ZAP handler admits CURVE subscribers); node_feed_stop
 * closes them. */
int node_feed_start (node_t *self, char *err, size_t errsz);
void node_feed_stop (node_t *self);
/* A CURVE feed serves the node's current key: called after a rotation, it
 * binds the feeds again (their subscribers are cut). -1 when one could not
 * be bound again (logged; it is off until a restart). */
int node_feed_rekey (node_t *self);
void node_pub_record (node_t *self, const im_record_t *rec);
void node_heartbeat (node_t *self);
const char *node_origin_name (node_t *self, const uint8_t *origin);
uint64_t node_live_total (const im_store_stats_t *st); /* live indicators */

/* LOOKUP (im_node_query.c, im_node_lookup.c). LOOKUP_MATCH_MAX limits the
 * matches, and the tombstones, of one value. node_lookup_value reads a
 * value's "value" and "type" as LOOKUP does: its type, or -1 with the reason
 * in ERR. node_lookup_compact answers a batch of VALUES in
 * SELF->reply_text and returns an empty object, or NULL with the reason. */
#define LOOKUP_MATCH_MAX 1000
int node_lookup_value (json_t *body, char norm[IM_VALUE_MAX + 1], char *err,
                       size_t errsz);
json_t *node_lookup_compact (node_t *self, json_t *values, char *err, size_t errsz);

/* Control handlers: each answers one command's request BODY with a reply
 * object, or NULL with the reason in ERR (SPEC.md, "The control protocol"). */
handler_fn node_handle_publish; /* im_node_publish.c */
handler_fn node_handle_revoke;  /* im_node_revoke.c */
/* Turns REC (this node's stored record) into its tombstone, one version on,
 * made at NOW, the request's time: the tombstones of one request are of
 * one second, whatever second it ends in (im_node_revoke.c). */
void node_make_tombstone (im_record_t *rec, int64_t now);
handler_fn node_handle_report; /* im_node_report.c */
/* The live record ID (text) held here, of this node first, then of any
 * origin; a report when REPORT, else an indicator. Returns 0 or -1 with the
 * reason in ERR (im_node_report.c). */
int node_find_held (node_t *self, const char *text, int report, im_record_t *rec,
                    char *err, size_t errsz);
/* Sealed delivery and sightings (im_node_sight.c). node_sealed_to: the
 * recipients of REC (this node's) that are not direct peers, to seal it to.
 * node_carrier_id: the id of REC's carrier for group GROUP of them (8 to a
 * group). node_store_sealed stores N items of this node with the carriers
 * they need, in one transaction (im_store_put_batch's results and return).
 * node_store_own signs, stores (with carriers) and publishes N records of
 * this node. */
size_t node_sealed_to (node_t *self, const im_record_t *rec,
                       uint8_t (*out)[IM_NODE_ID_SIZE]);
int node_carrier_id (node_t *self, const im_record_t *rec, size_t group,
                     uint8_t id[IM_ID_SIZE]);
int node_store_sealed (node_t *self, im_store_item_t *items, size_t n, int *stored,
                       char *err, size_t errsz);
int node_store_own (node_t *self, im_record_t *recs, size_t n, char *err, size_t errsz);
handler_fn node_handle_sight, node_handle_sightings;
/* Joint exercises (SPEC.md, "Exercises"; im_node_exercise.c and
 * im_node_exercise_state.c). node_exercise_start loads exercises.json and
 * gives the mesh its check of injects; node_exercise_stored notes a record
 * the mesh stored (an exercise, its end, an inject to acknowledge);
 * node_exercise_tick acknowledges and purges. node_exercise_of: the
 * exercise a record belongs to (0) or -1. node_exercise_entry: this node's
 * entry of (HOST, NAME), made when CREATE, or NULL. node_ack_next: this
 * node's acknowledgement of inject IND with ACTION (0: none; 1 when one
 * exists already and ACTION is 0), or -1 with the reason. */
#define NODE_EXERCISES_MAX 256
#define NODE_ACK_QUEUE_MAX 4096
#define NODE_PURGE_MAX 1000000 /* records one exercise's purge takes */
void node_exercise_start (node_t *self);
void node_exercise_stored (node_t *self, const im_record_t *rec);
void node_exercise_tick (node_t *self);
int node_exercise_of (const im_record_t *rec, char name[IM_EXERCISE_NAME_MAX + 1]);
json_t *node_exercise_entry (node_t *self, const uint8_t host[IM_NODE_ID_SIZE],
                             const char *name, int create);
int node_exercise_save (node_t *self);
void node_exercise_id (const char *name, uint8_t id[IM_ID_SIZE]);
int node_ack_next (node_t *self, const im_record_t *ind, int action, const char *note,
                   im_record_t *ack, char *err, size_t errsz);
handler_fn node_handle_exercise;
/* EXPLAIN of (ORIGIN, ID) to PEER: O gains "sealed" ({"to", "carriers",
 * "why"}) when the record is sealed to recipients that are not peers. */
void node_explain_sealed (node_t *self, const uint8_t *origin, const uint8_t *id,
                          const char *peer, json_t *o);
json_t *node_sight_status (node_t *self, const im_store_stats_t *st);
/* The reports the indicator (ORIGIN, ID) belongs to, by the live member
 * records held here whose report is held and live: [{"id", "title"}], at
 * most NODE_MEMBER_REPORTS_MAX (im_node_report.c). */
#define NODE_MEMBER_REPORTS_MAX 100
json_t *node_member_reports (node_t *self, const uint8_t *origin, const uint8_t *id);

/* A batch of records being signed and stored together (im_node_batch.c),
 * for PUBLISH and REVOKE: node_batch_init makes room for MAX records;
 * node_batch_add encodes one (0, or -1 with the reason); node_batch_commit
 * signs IM_BATCH_MAX to a signature, stores them in one transaction and puts
 * them on the feed (0, or -1 with the reason); node_batch_finish commits and
 * makes the reply {"results": RESULTS} (taken), or NULL; node_batch_array is
 * a request's array KEY of 1 to IM_CONTROL_BATCH_MAX entries, or NULL with
 * the reason. The results of a refused item (counted): node_error_result
 * {"error"}, node_refused_result {"error", "reason"}, node_invalid_result
 * {"error", "reason": "bad FIELD"} from a "FIELD: ..." message. */
typedef struct _node_batch_t {
    size_t n;
    size_t cap; /* records there is room for */
    im_record_t *recs;
    size_t recs_ready; /* made present (im_record_array_ready) */
    uint8_t *blobs;    /* the encoded records one after another, with room for */
    size_t used;       /* ... cap of IM_RECORD_MAX: USED bytes written */
    im_store_item_t *items;
    int *stored;
    /* Records are signed in groups that every policy treats alike (SPEC
     * "Batches"): OPEN holds the NOPEN groups being filled, GROUP each
     * record's group number (NODE_GROUP_JOB: in a job), NGROUPS the numbers
     * given. A group that fills IM_BATCH_MAX becomes job MADE of JOBS, and
     * with a sealer (node_batch_sealer) the jobs are handed to it as they
     * come, HANDED of them so far, NJOBS not yet given back; the rest are
     * signed when the batch is stored. */
    uint32_t *group;
    struct node_seal_group *open;
    size_t nopen, made;
    uint32_t ngroups;
    im_sealer_t *sealer;
    const uint8_t *secret_key; /* this node's, for the sealer */
    im_seal_job_t *jobs;
    size_t njobs, handed;
    int seal_failed; /* a job came back with an error (in SEAL_ERR) */
    char seal_err[256];
    int lost; /* the sealer did not give its jobs back: the memory is kept */
} node_batch_t;

/* node_batch_init takes the node's spare memory when it is large enough, and
 * node_batch_free gives a batch's back, where node_batch_tick frees it once
 * unused for NODE_BATCH_SPARE_MS (node_batch_spare_free at once): records
 * are seven pages apart, so a batch of 1,000 touches 1,000 pages at least
 * (some 2,500 before records started on a page and blobs were packed), and
 * a page touched first costs a fault (13 us each on the machines the
 * benchmarks ran on). Freed, a batch's memory went back to the kernel once other work
 * came between two requests: in the 16-node benchmark, over 40% of a
 * node's 12,100 faults were its two PUBLISH batches'. */
#define NODE_BATCH_SPARE_MS 60000
int node_batch_init (node_t *self, node_batch_t *b, size_t max);
void node_batch_sealer (node_batch_t *b, im_sealer_t *sealer, const uint8_t *secret_key);
void node_batch_free (node_t *self, node_batch_t *b);
void node_batch_tick (node_t *self);
void node_batch_spare_free (node_t *self);
int node_batch_add (node_batch_t *b, const im_record_t *rec, char *err, size_t errsz);
int node_batch_commit (node_t *self, node_batch_t *b, char *err, size_t errsz);
/* ... B and MORE (records made once B was complete) in one transaction. */
int node_batch_commit_with (node_t *self, node_batch_t *b, node_batch_t *more, char *err,
                            size_t errsz);
json_t *node_batch_array (json_t *body, const char *key, char *err, size_t errsz);
json_t *node_batch_finish (node_t *self, node_batch_t *b, json_t *results, char *err,
                           size_t errsz);
json_t *node_error_result (node_t *self, const char *why);
json_t *node_refused_result (node_t *self, const char *why, const char *reason);
json_t *node_invalid_result (node_t *self, const char *why);

/* The built-in guards at PUBLISH (im_node_guard.c). node_guard_breadth: the
 * refusal (counted) of a prefix broader than the limit unless FORCE, or NULL
 * (with WARNING set when forced: peers refuse it). node_guard: the refusal
 * (counted) of a value on a built-in list unless FORCE, or NULL with WARNING
 * set for a documentation value when it is still "". A forced override of
 * the breadth limit, a built-in list or a warninglist is logged, at most
 * GUARD_LOG_MAX lines a minute one by one (*O counts the request's: values
 * forced, whether one was not logged for want of room); node_guard_done
 * counts the item's value once, and node_guard_summary then says in one line
 * how many values the request forced when not every one was logged. A dry
 * run (O->dry) logs nothing: nothing is published. */
typedef struct {
    unsigned forced; /* values forced past at least one guard */
    int dry;         /* a dry run: counted, not logged */
    int item;        /* the item being checked was forced */
    int unlogged;    /* an override was not logged one by one */
} node_overrides_t;
/* Whether REC's value is on a loaded warninglist: 1, with the first list
 * and its entry in LIST and ENTRY (LSZ, ESZ bytes), or 0. */
int node_warninglisted (node_t *self, const im_record_t *rec, char *list, size_t lsz,
                        char *entry, size_t esz);
json_t *node_guard_breadth (node_t *self, const im_record_t *rec, int force,
                            node_overrides_t *o, char *warning, size_t warnsz);
json_t *node_guard (node_t *self, const im_record_t *rec, int force, node_overrides_t *o,
                    char *warning, size_t warnsz);
void node_guard_done (node_overrides_t *o);
void node_guard_summary (const node_overrides_t *o);
handler_fn node_handle_lookup, node_handle_list,
    node_handle_explain, /* im_node_query.c */
    node_handle_sent, node_handle_status, node_handle_check;

#endif
