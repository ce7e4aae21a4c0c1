/* SPDX-License-Identifier: MPL-2.0 */
/* im_mesh_int.h -- private to the files of the peer engine (im_mesh.c and
 * im_mesh_peer.c, im_zap.c, im_serve.c, im_apply.c, im_gossip.c, im_sync.c,
 * im_quota.c, im_rotate.c, ...): the mesh's and a peer's structs, the
 * engine's constants and the functions the files share. Nothing outside
 * node/im_*.c of the mesh includes it. */
#ifndef IM_MESH_INT_H
#define IM_MESH_INT_H

#include <czmq.h>
#include <sodium.h>

#include "im_mesh.h"
#include "im_msg.h"
#include "im_peer.h"
#include "im_policy.h"
#include "im_time.h"
#include "im_util.h"
#include "im_verify.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "intelmesh"
#define PING_MS 1000       /* every link gets a PING this often */
#define PONG_LOST_MS 60000 /* PONGs owed this long: lost, counted anew */
/* Waits stretched while peers are busy (SPEC "Wanted keys", "Pulling"): the
 * fetch grace to at least GRACE_RTTS of the lower median PING round trip of
 * the connected peers, at most GRACE_STRETCH_MAX times the configured grace;
 * a pull's resend to PULL_RESEND_RTTS of that peer's round trip, at most
 * PULL_RESEND_STRETCH_MAX times PULL_RESEND_MS; a FETCH's loss likewise
 * (FETCH_LOST_RTTS, FETCH_LOST_STRETCH_MAX). */
#define GRACE_RTTS 4
#define GRACE_STRETCH_MAX 4
/* ... and by copies: grown by half each second when more than half of the
 * connected peers brought GRACE_SAMPLE_MIN records or more in it, over
 * GRACE_COPIES_HIGH percent of them copies of records held; else shrunk by
 * a fifth. The peers looked at: the first GRACE_PEERS_MAX connected. */
#define GRACE_COPIES_HIGH 10
#define GRACE_SAMPLE_MIN 20
#define GRACE_PEERS_MAX 64
#define PULL_RESEND_RTTS 8
#define PULL_RESEND_STRETCH_MAX 4
#define DOWN_MS 3500 /* a peer silent this long is shown as down */
#define DOWN_UNREAD_MAX_MS                                                               \
    10000                 /* its silence is counted from this far back at most while its \
                             messages wait unread here ("PING and PONG") */
#define READ_CHECK_MS 100 /* how often a peer's unread messages are looked for */
#define HELLO_RETRY_MS 1000 /* HELLO is sent again until answered */
#define HELLO_REDIAL 5      /* unanswered HELLOs before the dealer is made anew */
#define PARK_MAX_MS 20000   /* a parked pull is answered, empty, after this */
#define PULL_RESEND_MS                                                                   \
    25000                /* a pull unanswered this long is sent again (a                 \
                            parked pull is answered within PARK_MAX_MS) */
#define PULL_CREDIT 1000 /* records asked for per pull */
#define PULLS_AHEAD 2 /* answers of a peer verified or applied when a pull ahead goes */
#define APPLY_HOLD_MS                                                                    \
    10 /* a verified answer with more to come waits at most this long for the            \
          answer to its pull ahead, so that one is verified while this is applied */
#define SCAN_MAX 20000 /* changes one answer may read */
#define RELAY_DELAY_MS                                                                   \
    3                      /* records from a peer wait this long before they are         \
                              relayed, so that HAVE notes can overtake them */
#define HOLDS_SLOTS 16384  /* slots per peer for the keys of its HAVE notes */
#define HOLDS_WAYS 4       /* ... in buckets of this many (HOLDS_SLOTS / 4 = 2^12) */
#define REFUSED_SLOTS 8192 /* keys remembered per peer of records refused */
#define REFUSED_WAYS 4     /* ... in buckets of this many, two buckets a key */
#define FIRST_FROM_MAX                                                                   \
    4096                  /* origins remembered with the first peer that brought one     \
                           */
#define LAZY_EVERY_MS 300 /* LAZY lists are sent again at most this often */
#define EAGER_CLAIMS_MAX                                                                 \
    256                     /* origins a peer may become eager for by noting             \
                               them first, while it stays connected */
#define EAGER_CHECK_MS 1000 /* eager peers are looked at this often */
#define EAGER_FIRST_MS                                                                   \
    250                    /* the notes that made a peer eager are fetched after         \
                              this, unless its next answer brings them */
#define EAGER_FIRST_RTTS 2 /* ... or this many PING round trips, when longer */
#define EARLY_CHECK_MS                                                                   \
    10                       /* a peer's oldest wanted key is looked at this often       \
                                for an eager peer that has gone quiet */
#define ROTATE_EVERY_MS 2000 /* ROTATE is sent again until answered */
#define ROTATE_MIN_MS 60000  /* a peer's rotations taken at most this often */
#define WANT_MAX                                                                         \
    (16 * IM_MSG_CREDIT_MAX)     /* keys noted per peer, not held here yet: to be        \
                                   fetched from that peer (SPEC, "Wanted keys") */
#define FETCH_LOST_MS 10000      /* a FETCH unanswered this long is given up, */
#define FETCH_LOST_RTTS 8        /* ... or this many of that peer's round trips, */
#define FETCH_LOST_STRETCH_MAX 4 /* ... at most this many times FETCH_LOST_MS */
#define FETCH_BEHIND_MAX_MS                                                              \
    10000 /* a key due is not fetched while messages wait unread here, but for           \
             this long at most ("Wanted keys") */
#define FETCH_BUSY_MAX_MS                                                                \
    60000 /* ... nor, this long at most, while they wait on the pull links of more       \
             than half of the connected peers (the mesh outruns this node), */
#define BUSY_PEERS_MIN 3 /* ... of this many connected peers at least */
#define BUSY_LINGER_MS                                                                   \
    500 /* ... or did at any look in this long (one look that finds a link read          \
           empty does not let every key held go at once; 2 s held the last keys of       \
           a burst 2 s after the mesh had caught up) */
#define FETCHING_OTHERS_MAX 64 /* peers whose FETCH out a key is looked up in */
#define SYNC_LOST_MS 10000     /* a SYNC unanswered this long is sent again */
#define QUOTA_RATE 300.0       /* work units a peer's requests may cost a second */
#define QUOTA_BURST 600.0      /* ... and at once (SPEC, "Quotas") */
#define QUOTA_SCAN 2000.0      /* changes read for one unit */
#define QUOTA_RECORDS 300.0    /* records sent for one unit */
#define QUOTA_WARN_MS 10000    /* one warning this often while a peer is over */
#define PEER_LOG_PER_MIN 20    /* lines a minute a peer's messages may log */
#define RESTART_COST 10.0      /* a restart answer: written to disk first */

/* The kinds of lines that a peer's messages can make again and again
 * (mesh_peer_log), in the order the summary of those held back lists them:
 * this node's own failures first, then refusals, then what is only news. */
typedef enum {
    PEER_LOG_SERVED_WRITE,  /* failed writes of what was served */
    PEER_LOG_KEY_WRITE,     /* failed writes of its new key */
    PEER_LOG_SEND,          /* answers that could not be sent */
    PEER_LOG_MALFORMED,     /* malformed messages */
    PEER_LOG_HELLO,         /* HELLOs refused */
    PEER_LOG_ROTATE,        /* key rotations refused */
    PEER_LOG_SEALED_OTHER,  /* records sealed by another than their origin */
    PEER_LOG_SEALED,        /* sealed records refused */
    PEER_LOG_CREDIT,        /* answers beyond the credit */
    PEER_LOG_PULL_UNREAD,   /* pulls with an answer unread */
    PEER_LOG_EAGER,         /* records an eager peer did not bring */
    PEER_LOG_PULL_BEYOND,   /* pulls beyond this store */
    PEER_LOG_PULL_OLD,      /* pulls from before this store restarted */
    PEER_LOG_STORE_RESTART, /* restarts of its store */
    PEER_LOG_PULL_START,    /* pulls from the start */
    PEER_LOG_RESTART,       /* restarts */
    PEER_LOG_CONNECT,       /* connections */
    PEER_LOG_KINDS
} peer_log_kind_t;

/* PINGs on one link to a peer, counted with the PONGs back, so that the
 * PONG of the PING being timed is known (PONG carries no echo). */
typedef struct {
    uint32_t sent, got, timed;
    int64_t at;    /* when the PING timed went (monotonic ms; 0: none) */
    int64_t owing; /* since when PONGs are owed (0: none) */
} ping_clock_t;

/* One wanted key: what a peer said it holds, and when to fetch it. */
typedef struct {
    uint8_t key[IM_MSG_HAVE_KEY];
    int64_t due;      /* monotonic ms */
    uint8_t deferred; /* put back once already: asked of another peer */
    uint8_t retried;  /* asked for once already, in a FETCH taken as lost */
    uint32_t grace;   /* ms from its note to DUE when it waits for the eager peer
                         of its origin (NOTE_LATER), else 0 */
} want_t;
/* A failed store delays the next pull this long, doubling each time up to
 * the most (SPEC.md, "A full disk"). */
#define STORE_BACKOFF_MIN_MS 100
#define STORE_BACKOFF_MAX_MS 30000

#define ANSWERS_MAX 8 /* answers to a peer queued and not yet acknowledged */
#define ANSWER_BYTES_MAX                                                                 \
    (64 << 20)                     /* ... holding at most this many bytes                \
                                      (SNDHWM bounds each link too) */
#define ANSWER_LOST_MS PARK_MAX_MS /* unacknowledged this long: taken as lost */
#define LINK_SNDHWM 16             /* messages queued per link: 16 x IM_MSG_MAX */
#define SENT_PRUNE_BATCH 1000      /* sent-log entries removed per transaction */
#define SENT_PRUNE_EVERY_MS 60000
/* A peer's acknowledged answers are written to the sent log together: this
 * many in one transaction, or once the oldest of them was acknowledged
 * SENT_WRITE_MS ago, and before the log is listed (SPEC.md, "The sent
 * log"). Until then rule 3 reads them in memory (mesh_sent_version). */
#define SENT_WRITE_ANSWERS 4
#define SENT_WRITE_MS 100 /* tests may set IM_TEST_SENT_WRITE_MS instead */
/* Bits of an answer's filter of its keys (1 KiB): a key not in it is found
 * so with two bits tested, wrongly for about 1 in 20 of 1000 keys. */
#define ANSWER_BLOOM_BITS 8192

/* An answer (RECORDS or FOUND) queued to a peer: its keys go into the sent
 * log once a PULL acknowledges it (SPEC.md, "The sent log"). */
typedef struct {
    uint8_t id;       /* IM_MSG_RECORDS or IM_MSG_FOUND */
    int acked;        /* acknowledged, not yet written to the sent log */
    int64_t acked_at; /* ... since then, monotonic ms */
    uint64_t asked;   /* RECORDS: the cursor of the PULL it answered */
    uint64_t cursor;  /* RECORDS: the cursor it reached */
    size_t bytes;
    size_t nkeys;
    uint8_t *keys;                          /* nkeys keys, IM_MSG_HAVE_KEY bytes each */
    uint64_t bloom[ANSWER_BLOOM_BITS / 64]; /* a filter of their origins and ids */
    int64_t at;                             /* queued then, monotonic ms */
    int64_t when;                           /* ... and wall clock ms */
} answer_t;

/* Why a record from a peer was not stored (counted per peer). */
enum {
    REFUSE_MALFORMED, /* not a record */
    REFUSE_SIGNATURE, /* the origin's signature does not verify */
    REFUSE_OWN,       /* claims to be ours, newer than ours */
    REFUSE_EXPIRED,   /* valid_until has passed */
    REFUSE_VIOLATION, /* the sender broke the sharing rules (SPEC, "Inbound") */
    REFUSE_INBOUND,   /* our inbound rules for the peer refuse it */
    REFUSE_PROTOCOL,  /* a message that breaks the protocol */
    REFUSE_QUOTA,     /* a request over the peer's quota (dropped unread) */
    REFUSE_COUNT
};

/* A peer (im_mesh_peer.c; its states: im_peer.c): its card, links, cursors, caches and
 * counts. Its states are in STATES, never in loose flags (SPEC.md, "Peer states"). */
typedef struct _im_peer_t peer_t;
struct _im_peer_t {
    im_card_t card;
    im_peer_states_t states;        /* changed by peer_event only */
    char endpoint[IM_ENDPOINT_MAX]; /* "" when it only dials in */
    zsock_t *dealer;                /* our link to it, when it has an endpoint */
    int hellos;                     /* HELLOs sent since the dealer was made */
    int64_t dealer_heard;           /* last message on the dealer, monotonic ms */
    int64_t dealer_asked; /* the first PING tried on it since then (monotonic ms) */
    int64_t dialed_at;    /* when the dealer was made */
    int64_t next_hello;
    zframe_t *inbound;  /* routing id of its link to our ROUTER */
    uint64_t session;   /* its run, from HELLO */
    int64_t last_heard; /* monotonic ms */
    int64_t read_up_to; /* the last tick that found nothing of it unread: its
                           dealer and the peer socket empty (monotonic ms) */
    int64_t last_ping;
    /* PINGs timed on each of its links (0: our DEALER, 1: its link to our
     * ROUTER): sent and PONGs back, counted, so that the PONG of the PING
     * timed is known (PONG carries no echo); one timed at a time. */
    ping_clock_t ping[2];
    int64_t rtt;          /* smoothed PING round trip, ms (0: none timed yet) */
    int64_t last_contact; /* wall clock seconds */
    /* Pulling from it. */
    uint64_t cursor;    /* its change number applied here */
    uint64_t their_seq; /* its newest change number, as last told */
    uint64_t more_seq;  /* one past the cursor of its last answer flagged MORE */
    int64_t pulled_at;
    int64_t answered_at; /* its last RECORDS applied (monotonic ms) */
    /* Its records could not be stored (a full disk): pulls wait. */
    int64_t pull_after;    /* no pull before then (monotonic ms) */
    int64_t backoff_ms;    /* the wait after the last failure (0: none) */
    uint64_t store_failed; /* batches from it not stored in this episode */
    /* Serving its pulls. */
    zsock_t *parked_sock;
    zframe_t *parked_route; /* NULL on a dealer */
    uint64_t parked_cursor;
    uint16_t parked_credit;
    int64_t parked_at;
    uint64_t acked;                /* our change number it has applied */
    answer_t answers[ANSWERS_MAX]; /* queued to it, oldest first */
    size_t nanswers;
    zsock_t *answer_sock;             /* the link they went on */
    zframe_t *answer_route;           /* (NULL on a dealer) */
    int sentlog_failing;              /* the sent log cannot be written: nothing goes */
    int64_t sentlog_retry;            /* ... tried again then */
    int pulls_unread;                 /* PULLs refused in this episode */
    uint64_t *holds;                  /* HOLDS_SLOTS fingerprints of keys it told us
                                         it holds (im_mesh_holds.c) */
    uint8_t holds_key[16];            /* ... their hash's random key (SipHash) */
    uint8_t *refused_keys;            /* REFUSED_SLOTS keys of its records that our
                                         inbound rules refused */
    size_t nrefused_keys;             /* ... the slots of them taken */
    uint8_t (*lazy)[IM_NODE_ID_SIZE]; /* LAZY: origins it gets from another
                                       peer, send it only their keys; EAGER
                                       (keys_first): the only origins but
                                       ours to send it in full (sorted) */
    size_t nlazy;
    int keys_first;       /* its last list was an EAGER */
    int eager_due;        /* our EAGER goes to it before our next PULL */
    size_t first_notes;   /* origins it became eager for by noting them first */
    uint64_t compact_seq; /* our newest change when its ring was compacted */
    uint64_t trim_seq;    /* ... and when its oldest wanted key was not held */
    int64_t early_at;     /* when its oldest wanted key is next looked at for a
                             quiet eager peer */
    /* Keys it noted that we lack: fetched from it (im_gossip.c). */
    want_t *wants;      /* a ring of WANT_MAX, oldest first */
    size_t wants_ready; /* its first slots made present (im_mem_populate) */
    size_t whead, nwants;
    uint64_t notes;          /* keys of its HAVE notes, all */
    uint64_t notes_dropped;  /* notes it sent while its ring was full */
    uint64_t notes_deferred; /* its notes due while another peer was asked for them */
    uint64_t grace_known, grace_received; /* known and received, a second ago */
    uint8_t *fetching;                    /* the keys of the FETCH out, sorted */
    uint8_t *fetching_taken;              /* which of them FOUND brought */
    size_t nfetching;                     /* 0: no FETCH out */
    int fetch_retry;       /* the FETCH out holds keys asked for once already */
    int fetch_early;       /* ... holds keys not due yet (their eager peer is quiet) */
    int64_t fetch_due_max; /* ... the latest of its keys' due times */
    int found_due;         /* its FOUND to that FETCH has not come yet */
    int fetch_lost;        /* ... nor will: it went to a run that ended */
    int64_t fetch_at;      /* when that FETCH went */
    uint64_t fetched;      /* records FOUND brought that were new here */
    /* Anti-entropy: a walk of the keys of its change log (SYNC, KEYS). */
    uint64_t sync_cursor; /* where the walk stands */
    int64_t sync_at;      /* when the next SYNC is due */
    int64_t sync_out;     /* when the SYNC out went (0: none) */
    uint64_t syncs;       /* walks finished */
    /* Its requests' cost, a token bucket (SPEC, "Quotas"). */
    double quota;
    int64_t quota_at, quota_warned;
    int64_t found_warned; /* when a FOUND not asked for was last logged */
    int64_t log_at;       /* when the minute its lines are counted in began */
    int64_t log_since;    /* ... that time on the clock (im_time_now) */
    unsigned logged;      /* ... lines its messages made logged in it */
    uint64_t unlogged;    /* ... and not logged */
    uint32_t unlogged_of[PEER_LOG_KINDS]; /* ... of each kind (peer_log_kind_t) */
    unsigned hello_owed; /* HELLOs sent on our dealer, not answered yet */
    /* Sharing policy. */
    im_policy_t policy;              /* what may go to it */
    im_inbound_t in;                 /* what is taken from it */
    uint64_t rescan_pos, rescan_end; /* the walk, in IM_RESCAN_WALKING */
    double tokens;                   /* records it may still be asked for (rate) */
    int64_t tokens_at;
    uint16_t asked;     /* credit of the pull in flight */
    uint64_t pull_from; /* ... and the cursor it asked from */
    /* Its answers being verified by the workers (im_apply.c), applied in the
     * order they came: numbered from jobs_seq, jobs_next is due. */
    uint64_t jobs_seq, jobs_next;
    size_t records_pending; /* RECORDS among them */
    uint64_t cursor_ahead;  /* the cursor once those are applied */
    int64_t hold_until;     /* the next is applied then at the latest (0: not held) */
    int hold_over;          /* ... or now: the hold is over */
    /* Key rotation (SPEC.md, "ROTATE"). */
    uint8_t prev_curve[32]; /* its CURVE key before it rotated, */
    char prev_z85[41];
    int64_t prev_until; /* good until then (wall clock; 0: none) */
    int64_t rotated_at; /* when it last rotated (monotonic ms; 0: not in this run) */
    int64_t rotate_at;  /* when we last told it (monotonic ms) */
    int64_t redial_at;  /* dial again then, with other keys (0: no) */
    /* Store restarts (im_restart.c; SPEC.md, "Store restarts"). */
    im_store_served_t srv; /* what we served it, as kept in the store */
    int restart_answer;    /* its pull revealed that our store is behind: the
                              answer carries IM_MSG_RESTART */
    uint64_t restart_old;  /* ... the old numbering's cursor it came with */
    uint64_t restart_from; /* ... and where the answer starts */
    int pull_checked;      /* a pull of its was found within our numbering since
                              this node started: what we serve it next may be
                              noted as served before it is asked for */
    /* Counts. */
    uint64_t sent, received, known;
    uint64_t known_found; /* of KNOWN, those that came in a FOUND */
    uint64_t known_late;  /* ... those found held only when stored */
    uint64_t refused[REFUSE_COUNT];
    /* Why its link is down, from our dealer's socket monitor (im_link.c). */
    zsock_t *monitor;        /* PAIR getting the dealer's events, or NULL */
    int64_t monitor_read_at; /* ... read then (monotonic ms) */
    int cause;               /* LINK_CAUSE_* last seen */
    int64_t cause_at;        /* when (wall clock seconds; 0: never) */
    int64_t retry_at;        /* libzmq dials again then (monotonic ms; 0: unknown) */
    int64_t tcp_at;          /* TCP up then, handshake not done (monotonic ms; 0: none) */
    int tcp_since_retry;     /* a TCP connection was made since libzmq's last retry */
    int cut;                 /* NO_ANSWER: the other side closed it in the handshake
                                (as a CURVE server does with a HELLO not made for
                                its key), not a handshake that hung */
};

/* Why a link is down (im_link.c; shown by PEERS). */
enum {
    LINK_CAUSE_NONE,
    LINK_CAUSE_TCP_REFUSED, /* nothing listens at its endpoint */
    LINK_CAUSE_NO_ANSWER,   /* TCP connects, no handshake completes */
    LINK_CAUSE_THEY_REFUSE, /* its ZAP handler refused our key */
    LINK_CAUSE_WE_REFUSE,   /* our ZAP handler refused a key from its host */
    LINK_CAUSE_LOST,        /* a working connection closed */
    LINK_CAUSE_COUNT
};
#define LINK_NO_ANSWER_MS 5000 /* TCP up this long with no handshake: no answer */
#define ZAP_REFUSED_MAX 16     /* refused handshakes remembered, by key */
#define ZAP_LOG_PER_MIN 10     /* refusals logged a minute, one per key at most */

/* A key our ZAP handler refused: from where, how often, when. */
typedef struct {
    uint8_t key[32];
    char address[64];
    uint64_t count;
    int64_t first, last; /* wall clock seconds */
    int64_t logged;      /* last logged (monotonic ms; 0: never) */
} zap_refused_t;

/* Slots of the table of records taken from one message: a power of two,
 * at least twice IM_MSG_CREDIT_MAX. */
#define APPLY_SLOTS 2048

struct _im_mesh_t {
    im_identity_t *identity;
    im_store_t *store;
    im_poller_t *poller;
    im_mesh_stored_fn *stored;
    void *arg;
    char bind[IM_ENDPOINT_MAX];
    zsock_t *router;
    zsock_t *zap;
    im_mesh_key_fn *feed_check; /* the local feeds' subscribers (im_zap.c) */
    void *feed_arg;
    int router_prev;              /* the ROUTER still serves our previous key */
    im_mesh_rotate_fn *on_rotate; /* a peer's new key is written down by it */
    void *rotate_arg;
    uint64_t session;
    char name[IM_NAME_MAX + 1];
    zlistx_t *peers; /* peer_t */
    uint64_t handshakes_refused;
    zap_refused_t zap_refused[ZAP_REFUSED_MAX]; /* the latest (im_link.c) */
    size_t nzap_refused;
    int64_t zap_log_at;       /* the minute of the log's rate limit began then */
    uint64_t zap_logged;      /* refusals logged in that minute */
    uint64_t zap_unlogged;    /* ... and not logged */
    int64_t sentall_log_at;   /* when the sent log was last said written peer by peer */
    uint64_t removed_refused; /* refusals of peers since removed */
    int64_t relay_at;         /* when to serve parked pulls again (0: no) */
    int64_t read_checked;     /* when the peers' unread messages were looked for */
    int64_t behind_since;     /* ... found waiting since then (0: none) */
    int64_t busy_at;          /* ... on the pull links of most peers, last */
    int64_t hold_at;          /* when a held answer is applied (0: none) */
    int64_t next_bind;        /* when to try binding the peer socket again */
    zhashx_t *eager;          /* origin (hex) -> name of the peer we get it from */
    zhashx_t *eager_missed;   /* origin (hex) -> since when its eager peer has
                                 missed a record an early FETCH brought, 0
                                 when it brought one since (int64_t, monotonic
                                 ms); none: it brought none since it became
                                 the eager peer */
    zhashx_t *first_from;     /* origin (hex) -> name of the first peer that
                                 brought one (FIRST_FROM_MAX) */
    int lazy_dirty;           /* the eager choices changed: tell the peers */
    int64_t lazy_at;          /* when LAZY lists were last sent */
    int64_t eager_checked;    /* when eager peers were last looked at */
    int64_t down_logged;      /* when eager peers found down were last logged */
    size_t down_unlogged;     /* ... origins dropped since, not logged */
    int64_t anti_entropy;     /* ms between anti-entropy walks with a peer */
    int64_t fetch_grace;      /* ms a noted record may take from the eager peer */
    int64_t grace_now;        /* ... stretched while peers are slow or bring copies */
    uint8_t *notes;           /* IM_MSG_CREDIT_MAX keys: a serve's notes */
    size_t nnotes;
    uint8_t *keys;                          /* IM_MSG_CREDIT_MAX keys for a HAVE */
    uint16_t have_items[IM_MSG_CREDIT_MAX]; /* ... the item of each */
    uint8_t have_held[IM_MSG_CREDIT_MAX];   /* ... whether its peer holds it */
    uint8_t *sentkeys; /* IM_MSG_CREDIT_MAX keys: what an answer sends */
    size_t nsent;
    uint64_t serve_asked;  /* the cursor of the pull being answered */
    int sent_retention;    /* days (0: for ever) */
    int64_t sent_write_ms; /* SENT_WRITE_MS, or for tests IM_TEST_SENT_WRITE_MS */
    int64_t prune_at;      /* when the sent log is pruned next */
    /* Reused for every batch. */
    im_msg_t *msg;
    im_msg_t *pull;          /* a PULL being sent (msg may hold what is applied) */
    uint8_t *buf;            /* IM_MSG_MAX: encoding, and staging of records */
    uint8_t *out;            /* IM_MSG_MAX: encoding of RECORDS */
    im_record_t *recs;       /* IM_MSG_CREDIT_MAX */
    size_t recs_ready;       /* of them made present (im_record_array_ready) */
    im_store_item_t *items;  /* 2 * IM_MSG_CREDIT_MAX: the records and what
                                carriers among them held for this node */
    im_batch_cache_t *roots; /* batch roots verified here (no workers) */
    im_verify_t *pool;       /* the verifying workers (im_verify.h) */
    zlistx_t *jobs;          /* answers out to them or waiting their turn */
    zmsg_t *in_msg;          /* the message being handled, and its body */
    zframe_t *in_body;       /* (NULL once taken) */
    uint64_t verified, cached, sig_failed; /* what the workers counted */
    /* The records taken from the message being applied (im_apply.c). */
    uint16_t apply_slots[APPLY_SLOTS];
    uint8_t apply_key[crypto_shorthash_KEYBYTES];
    int *results; /* 2 * IM_MSG_CREDIT_MAX */
    /* The heads of a message's records and the versions held of them,
     * looked up at once (im_apply.c): IM_MSG_CREDIT_MAX each. */
    im_record_head_t *heads;
    uint64_t *held;
    /* Records sealed to this node, opened from the carriers being applied
     * (SPEC.md, "Carrying sealed envelopes"), and what became of them. */
    im_record_t *inner[IM_MSG_CREDIT_MAX];
    size_t ninner;
    uint64_t sealed_opened, sealed_unreadable, sealed_refused;
    im_mesh_accept_fn *accept; /* the node's check of records that are no
                                  indicators, or NULL */
    void *accept_arg;
    /* This node's store found lost or restored (im_restart.c). */
    int64_t restarted_at;               /* when (wall clock; 0: never) */
    char restarted_by[IM_NAME_MAX + 1]; /* the peer whose pull showed it ("":
                                           found at start) */
    int cursors_reset;                  /* our cursors went back to 0 */
};

/* --- Peers ------------------------------------------------------------- */

extern const char *const im_mesh_refuse_names[REFUSE_COUNT];

/* Whether P's region R is in state S. */
static inline int
peer_is (const peer_t *p, im_peer_region_t r, int s)
{
    return p->states.of[r] == s;
}

/* --- im_mesh_peer.c: a peer's life in the mesh --------------------------- */

/* Moves P by EVENT through its region's table (im_peer_step); an event with
 * no transition from P's state is logged and refused. Returns 0 or -1. */
int peer_event (peer_t *p, im_peer_event_t event);
peer_t *peer_new (im_mesh_t *self, const im_config_t *config, const im_peer_conf_t *conf);
void peer_destroy (void **item);
void peer_remove (im_mesh_t *self, peer_t *p);
peer_t *peer_by_name (im_mesh_t *self, const char *name);
peer_t *peer_by_curve (im_mesh_t *self, const uint8_t *curve);
peer_t *peer_by_node (im_mesh_t *self, const uint8_t *node);
int peer_connected (const peer_t *p);
void peer_drop_parked (peer_t *p);
void peer_new_session (peer_t *p, uint64_t session);
void peer_rewind (im_mesh_t *self, peer_t *p);
int peer_dial (im_mesh_t *self, peer_t *p);
void peer_redial (im_mesh_t *self, peer_t *p);
void peer_redial_unanswered (im_mesh_t *self, peer_t *p);
int peer_pull_link (peer_t *p, zsock_t *router, zsock_t **sock, zframe_t **route);
void peer_send_pull (im_mesh_t *self, peer_t *p);
void peer_send_pull_from (im_mesh_t *self, peer_t *p, uint64_t cursor);
/* P's outbound policy (by name, with its ceiling) and inbound rules. */
json_t *peer_rules_json (const peer_t *p);
size_t peer_credit (peer_t *p, int64_t now);
/* Storing records from P failed (WHY; a full disk): pulls from it wait
 * STORE_BACKOFF_MIN_MS, doubling with each failure up to
 * STORE_BACKOFF_MAX_MS, logged once; stored again: they go on at once. */
void peer_store_failed (peer_t *p, const char *why);
void peer_store_worked (peer_t *p);
/* Whether pulls (and fetches: im_gossip.c may ask) from P wait at NOW
 * (monotonic ms) after failed stores. */
int peer_store_waiting (const peer_t *p, int64_t now);
int mesh_rotating (im_mesh_t *self);
int mesh_send_in (zsock_t *sock, zframe_t *route, const im_msg_t *msg, uint8_t *buf);
int mesh_send (im_mesh_t *self, zsock_t *sock, zframe_t *route, const im_msg_t *msg);
uint64_t mesh_last_seq (im_mesh_t *self);
void mesh_fill_hello (im_mesh_t *self, im_msg_t *msg);

/* --- im_zap.c ------------------------------------------------------------ */
void mesh_handle_zap (im_mesh_t *self);

/* --- im_link.c: why a link is down ---------------------------------------- */
/* The options every peer link's socket (our ROUTER, each dealer) is given
 * before it binds or connects: no ZMTP heartbeat, TCP keepalive instead.
 * libzmq 4.3.4 (Debian 12) aborts the whole process when a heartbeat falls
 * due on a connection whose peer flooded it to its high-water mark and
 * then closed it, before this node read that peer's messages (an assertion
 * in its stream engine, "!_io_error"): a trusted peer could stop the node.
 * Liveness is PING and PONG (PING_MS, DOWN_MS); dead TCP connections are
 * closed by the kernel: keepalive probes, and a limit on how long sent data
 * may go unacknowledged. */
void link_options (zsock_t *sock);
/* Watches P's new dealer with a socket monitor; stops before it goes. */
void link_monitor_start (peer_t *p);
void link_monitor_stop (peer_t *p);
/* Reads the events of P's dealer (a bounded number a tick). */
void link_tick (im_mesh_t *self, peer_t *p, int64_t now);
/* Adds to O, P's PEERS entry, why it is down, since when, the next try. */
void link_json (im_mesh_t *self, peer_t *p, json_t *o);
/* Our ZAP handler refused KEY (32 bytes) from ADDRESS: remembered, logged
 * (once a minute a key, ZAP_LOG_PER_MIN a minute in all). */
void mesh_zap_refused (im_mesh_t *self, const uint8_t *key, const char *address);

/* --- im_gossip.c --------------------------------------------------------- */
void mesh_record_key (const im_record_t *rec, uint8_t key[IM_MSG_HAVE_KEY]);
void peer_holds_add (peer_t *p, const uint8_t *keys, size_t n);
void peer_refused_add (peer_t *p, const im_record_t *rec);
int peer_refused_has (peer_t *p, const uint8_t *key);
int peer_holds_has (peer_t *p, const uint8_t *key);
/* HELD[i] gets peer_holds_has of each of the N keys at KEYS. */
void peer_holds_has_many (peer_t *p, const uint8_t *keys, size_t n, uint8_t *held);
int mesh_cmp_node_id (const void *a, const void *b);
void mesh_send_have (im_mesh_t *self, const peer_t *from, size_t n);
void mesh_note_eager (im_mesh_t *self, peer_t *from, const uint8_t *origin, int known);
void mesh_handle_have (im_mesh_t *self, peer_t *p, const im_msg_t *msg);
int mesh_found_take (peer_t *p, const im_msg_entry_t *e);
void mesh_found_done (im_mesh_t *self, peer_t *p, const int *fetched, size_t n);
int peer_want_room (const peer_t *p);
int peer_parked (const peer_t *p);
void mesh_want_add (im_mesh_t *self, peer_t *p, const uint8_t *keys, size_t n,
                    int64_t due, int64_t grace, int retried);
void mesh_handle_fetch (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                        const im_msg_t *msg);
void mesh_gossip_tick (im_mesh_t *self, int64_t now);

/* --- im_sync.c ----------------------------------------------------------- */

void mesh_handle_sync (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                       const im_msg_t *msg);
void mesh_handle_keys (im_mesh_t *self, peer_t *p, const im_msg_t *msg);
void mesh_sync_due (im_mesh_t *self, peer_t *p, int64_t now);

/* --- im_quota.c ---------------------------------------------------------- */
int mesh_quota (peer_t *p, const im_msg_t *msg);
int mesh_quota_left (peer_t *p);
/* A full bucket: QUOTA_BURST, or in proportion to IM_TEST_QUOTA_RATE. */
double mesh_quota_burst (void);
void mesh_charge (peer_t *p, double cost);
/* Whether a line of KIND that P's message makes may be logged now:
 * PEER_LOG_PER_MIN a minute; the lines held back are counted by kind, and
 * said once the minute is over (mesh_peer_log_tick), every kind held back by
 * name. The lines that a peer's messages can make again and again go
 * through here, or have a timer of their own. */
int mesh_peer_log (peer_t *p, peer_log_kind_t kind);
void mesh_peer_log_tick (peer_t *p, int64_t now);
/* Charges P's quota for a HELLO (INBOUND: on our ROUTER), but not for the
 * answers to those we sent on our dealer while its link waits for one.
 * Returns 0, or -1 when it is over the quota (the HELLO is dropped). */
int mesh_hello_charge (peer_t *p, const im_msg_t *msg, int inbound);

/* --- im_eager.c ---------------------------------------------------------- */
void mesh_handle_lazy (peer_t *p, const im_msg_t *msg);
int mesh_keys_only (im_mesh_t *self, const peer_t *p, const im_record_t *rec);
/* Whether P is the peer this node takes ORIGIN_ID's records from in full. */
int mesh_eager_is (im_mesh_t *self, const peer_t *p, const uint8_t *origin_id);
/* ORIGIN (hex) is taken from NAME in full from now on; BROUGHT: it has
 * brought one of its records (as the first comer, or in a FOUND). */
void mesh_eager_set (im_mesh_t *self, const char *origin, const char *name, int brought);
/* A FETCH sent before the grace brought a record of ORIGIN (hex) that its
 * eager peer had not: 1 when that peer has brought none since it became so,
 * or none since it first missed one a GRACE ago or more (the origin may then
 * move); else 0, and a first miss is noted NOW. */
int mesh_eager_missed (im_mesh_t *self, const char *origin, int64_t now, int64_t grace);
/* The peer this node takes ORIGIN_ID's records from in full, or NULL. */
peer_t *mesh_eager_peer (im_mesh_t *self, const uint8_t *origin_id);
void mesh_send_eager (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route);
void mesh_send_lazy (im_mesh_t *self);
int mesh_eager_down (im_mesh_t *self);
/* A record from P skipped as held already (FOUND: it came in a FOUND). */
static inline void
peer_count_known (peer_t *p, int found)
{
    p->known++;
    p->known_found += (uint64_t)found;
}
/* When the notes of an origin are due (mesh_note_at_once). */
enum { NOTE_LATER, NOTE_AT_ONCE, NOTE_EAGER };
int mesh_note_at_once (im_mesh_t *self, peer_t *p, const uint8_t *origin_id);
/* PING and PONG (im_ping.c). mesh_handle_ping: a PING or PONG from P (on
 * ROUTE of SOCK, or its DEALER when ROUTE is NULL), answered and timed;
 * mesh_ping_tick: P's PINGs, once a second on each link; mesh_pull_resend_ms:
 * how long a pull to P stays out before it is taken as lost; mesh_fetch_lost_ms:
 * how long a FETCH to P does;
 * mesh_grace_update: the fetch grace in force, each second. */
void mesh_handle_ping (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                       im_msg_t *msg);
void mesh_ping_tick (im_mesh_t *self, peer_t *p, int64_t now);
int64_t mesh_pull_resend_ms (const peer_t *p);
int64_t mesh_fetch_lost_ms (const peer_t *p);
void mesh_grace_update (im_mesh_t *self);
/* mesh_waiting: whether a message waits to be read on SOCK; mesh_read_check:
 * each peer's read_up_to and the mesh's behind_since and busy_at, every
 * READ_CHECK_MS. */
int mesh_waiting (zsock_t *sock);
void mesh_read_check (im_mesh_t *self, int64_t now);

/* --- im_serve.c ---------------------------------------------------------- */
int mesh_shareable (im_mesh_t *self, const im_store_change_t *c, const peer_t *p,
                    char *why, size_t whysz);
void mesh_note_sent (im_mesh_t *self, peer_t *p);
int mesh_answer_gate (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                      int pull);
void mesh_answers_drop (peer_t *p, int all);
void mesh_sent_tick (im_mesh_t *self, int64_t now);
/* im_mesh_sent.c, for the pulls (im_serve.c): acknowledges P's answers up
 * to its pull's CURSOR (how many are); whether they are due to be written
 * (NOW, monotonic ms); and writes every peer's acknowledged answers in one
 * transaction. */
size_t mesh_answers_ack (peer_t *p, uint64_t cursor);
int mesh_answers_due (const im_mesh_t *self, const peer_t *p, int64_t now);
void mesh_answers_write_all (im_mesh_t *self);
int mesh_sent_flush (im_mesh_t *self, peer_t *p);
int mesh_sent_version (im_mesh_t *self, const peer_t *p, const uint8_t *origin,
                       const uint8_t *id, uint64_t *version, int64_t *when);
/* When mesh_serve answers: */
#define SERVE_NEWS 0    /* with records, or when the cursor moves */
#define SERVE_ALWAYS 1  /* even empty (a restart, a long poll at its end) */
#define SERVE_RECORDS 2 /* only with records (a waiting pull tried again) */
int mesh_serve (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                uint64_t cursor, uint16_t credit, int when);
void mesh_relay_within (im_mesh_t *self, int64_t ms);
int mesh_serve_parked (im_mesh_t *self, peer_t *p, int force);
void mesh_handle_pull (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                       const im_msg_t *msg, int serve);

/* --- im_apply.c ---------------------------------------------------------- */
void mesh_handle_records (im_mesh_t *self, peer_t *p, const im_msg_t *msg,
                          zframe_t *frame);
void mesh_apply_done (im_mesh_t *self);
void mesh_apply_held (im_mesh_t *self, int64_t now);
void mesh_apply_forget (im_mesh_t *self, peer_t *p);
void mesh_apply_free_all (im_mesh_t *self);
uint64_t peer_cursor_ahead (const peer_t *p);

/* --- im_rotate.c --------------------------------------------------------- */
void mesh_handle_rotate (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                         const im_msg_t *msg);
void mesh_handle_rotated (im_mesh_t *self, peer_t *p, const im_msg_t *msg);
void mesh_rotate_tick (im_mesh_t *self, int64_t now);

/* --- im_restart.c: store restarts (SPEC.md, "Store restarts") ------------ */
void mesh_restart_start (im_mesh_t *self);
int mesh_restart_pull (im_mesh_t *self, peer_t *p, uint64_t *cursor);
int mesh_restart_served (im_mesh_t *self, peer_t *p, im_msg_t *msg);
void mesh_restart_heard (im_mesh_t *self, peer_t *p, uint64_t cursor);
void mesh_restart_json (const peer_t *p, json_t *o);

/* --- im_mesh.c ----------------------------------------------------------- */
int mesh_router_bind (im_mesh_t *self, char *err, size_t errsz);

#endif
