/* SPDX-License-Identifier: MPL-2.0 */
/* im_policy.h -- sharing policy (SPEC.md, "Sharing policy"): whether a record
 * may go to a peer (the record's own marking, then the peer's outbound
 * policy) and whether a record a peer brought may be held here (the marking
 * again, then the inbound rules for that peer). Pure functions, no I/O: the
 * same code decides what is sent, what is refused and what `explain` says. */
#ifndef IM_POLICY_H
#define IM_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "im_record.h"

#define IM_POLICY_NAME_MAX 64
#define IM_POLICY_MAX 32         /* named policies in one configuration */
#define IM_POLICY_TAGS_MAX 16    /* tags in one list of a policy */
#define IM_POLICY_ORIGINS_MAX 32 /* origins in one list */
#define IM_POLICY_DEFAULT "default"

/* Outbound rules, by name; each peer points at one. */
typedef struct {
    char name[IM_POLICY_NAME_MAX + 1];
    uint8_t max_tlp;     /* highest label sent to a peer not named as a
                            recipient: CLEAR..AMBER_STRICT (never RED) */
    uint32_t types;      /* bit (1 << type) per type allowed; 0: every type */
    uint32_t deny_types; /* bit per type never sent */
    size_t ntags;        /* a record must carry one of these (0: no rule) */
    char tags[IM_POLICY_TAGS_MAX][IM_TAG_MAX + 1];
    size_t ndeny_tags; /* a record carrying one of these is not sent */
    char deny_tags[IM_POLICY_TAGS_MAX][IM_TAG_MAX + 1];
    uint8_t min_confidence; /* 0..100 */
    int relay;              /* 1: third-party records may be sent; 0: own only */
    size_t norigins;        /* relay only these origins' records (0: any) */
    uint8_t origins[IM_POLICY_ORIGINS_MAX][IM_NODE_ID_SIZE];
} im_policy_t;

/* Inbound rules for one peer. */
typedef struct {
    int relayed;     /* 1: the peer may bring third-party records */
    uint32_t types;  /* bit per type taken; 0: every type */
    size_t norigins; /* records of these origins only (0: any) */
    uint8_t origins[IM_POLICY_ORIGINS_MAX][IM_NODE_ID_SIZE];
    uint32_t rate;      /* records a second taken from it; 0: no limit */
    int join_exercises; /* 1: this node joins the exercises the peer hosts */
} im_inbound_t;

/* The built-in `default` policy: up to TLP:GREEN, every type and tag, any
 * confidence, relaying allowed. */
void im_policy_default (im_policy_t *self, const char *name);

/* Inbound defaults: relayed records taken, every type and origin, no limit. */
void im_inbound_default (im_inbound_t *self);

/* Checks SELF for contradictions and values out of range (max_tlp RED, a
 * type or tag both allowed and denied, relay off with relay origins, a bad
 * name). Returns 0, or -1 with errno EINVAL and the reason in ERR. */
int im_policy_check (const im_policy_t *self, char *err, size_t errsz);

/* Sets one rule from its configuration form: KEY is one of max-tlp, types,
 * deny-types, tags, deny-tags, min-confidence, relay, relay-origins; VALUE a
 * label, a comma-separated list ("" clears a list), a number or yes/no. Node
 * ids in relay-origins are 64 hex digits (names are resolved by the caller).
 * Returns 0, or -1 with errno EINVAL and a reason naming KEY in ERR. */
int im_policy_set (im_policy_t *self, const char *key, const char *value, char *err,
                   size_t errsz);

/* The same for an inbound rule: accept (relayed or own), accept-types,
 * accept-origins, rate. */
int im_inbound_set (im_inbound_t *self, const char *key, const char *value, char *err,
                    size_t errsz);

/* 1 when the two hold the same rules. */
int im_policy_equal (const im_policy_t *a, const im_policy_t *b);
int im_inbound_equal (const im_inbound_t *a, const im_inbound_t *b);

/* What decided whether a record goes to a peer (the first rule that
 * applied, in this order). */
typedef enum {
    IM_SHARE_YES = 0,      /* every rule allows it */
    IM_SHARE_REVOCATION,   /* yes: a tombstone for a peer sent an earlier version */
    IM_SHARE_ORIGIN,       /* the peer is its origin */
    IM_SHARE_FROM,         /* this node got it from the peer */
    IM_SHARE_EXPIRED,      /* valid_until has passed */
    IM_SHARE_RECIPIENTS,   /* recipients are named and the peer is not one */
    IM_SHARE_NOT_ORIGIN,   /* AMBER, AMBER+STRICT or RED held by a non-origin */
    IM_SHARE_RED,          /* RED with no named recipient */
    IM_SHARE_CLEARANCE,    /* above the policy's max-tlp, peer not named */
    IM_SHARE_REACH,        /* one more link is beyond its reach */
    IM_SHARE_RELAY,        /* third-party, and the policy does not relay */
    IM_SHARE_RELAY_ORIGIN, /* third-party, origin not among relay-origins */
    IM_SHARE_TYPE,         /* type not allowed, or denied */
    IM_SHARE_TAGS,         /* carries none of the required tags */
    IM_SHARE_DENY_TAG,     /* carries a denied tag */
    IM_SHARE_CONFIDENCE,   /* below min-confidence */
    IM_SHARE_INVALID,      /* a missing argument: nothing is sent */
    IM_SHARE_COUNT
} im_share_t;

/* One record held by this node, and one peer. */
typedef struct {
    const im_record_t *rec;
    uint8_t hops;              /* links from its origin to this node (0: own) */
    const uint8_t *from;       /* the peer it came from; NULL for our own */
    const uint8_t *peer;       /* the peer's node id */
    const char *peer_name;     /* for the reason */
    const im_policy_t *policy; /* the peer's outbound policy */
    int sent_before;           /* the peer was sent an earlier version */
    int64_t now;               /* seconds since the epoch */
    int give_back;             /* the peer's store restarted and it gets its own
                                  records back (SPEC.md, "Store restarts") */
} im_share_ctx_t;

/* Decides whether CTX's record may go to CTX's peer. Returns IM_SHARE_YES or
 * IM_SHARE_REVOCATION when it may, another im_share_t when it may not. With
 * WHY, writes the decision in plain words ("not sent: TLP:AMBER and this node
 * is not its origin ..."). */
im_share_t im_policy_outbound (const im_share_ctx_t *ctx, char *why, size_t whysz);

/* What decided whether a record a peer sent may be held here. */
typedef enum {
    IM_ACCEPT_YES = 0,
    IM_ACCEPT_REVOCATION, /* yes: a tombstone of a record held here */
    IM_ACCEPT_EXPIRED,    /* valid_until has passed */
    IM_ACCEPT_RECIPIENTS, /* violation: recipients named, this node not one */
    IM_ACCEPT_NOT_ORIGIN, /* violation: AMBER or RED sent by a non-origin */
    IM_ACCEPT_RED,        /* violation: RED not addressed to this node */
    IM_ACCEPT_REACH,      /* violation: came further than its reach */
    IM_ACCEPT_OWN_ONLY,   /* inbound: the peer may bring only its own records */
    IM_ACCEPT_ORIGIN,     /* inbound: origin not accepted from the peer */
    IM_ACCEPT_TYPE,       /* inbound: type not accepted from the peer */
    IM_ACCEPT_INVALID,    /* a missing argument: refused */
    IM_ACCEPT_COUNT
} im_accept_t;

/* A record as a peer sent it to this node. */
typedef struct {
    const im_record_t *rec;
    unsigned hops;       /* the entry's hops, as the peer holds it */
    const uint8_t *self; /* this node's id */
    const uint8_t *peer; /* the sending peer's node id */
    const char *peer_name;
    const im_inbound_t *in; /* inbound rules for the peer */
    int holds_earlier;      /* this node holds an earlier version */
    int64_t now;
    int sealed; /* it came sealed from its origin to this node (SPEC.md, "Carrying
                   sealed envelopes"): as if from its origin, whoever relayed it */
} im_accept_ctx_t;

/* Decides whether CTX's record may be held here. Returns IM_ACCEPT_YES or
 * IM_ACCEPT_REVOCATION when it may; IM_ACCEPT_RECIPIENTS..IM_ACCEPT_REACH are
 * policy violations by the sender (a correct peer never sends them). With
 * WHY, the decision in plain words. */
im_accept_t im_policy_inbound (const im_accept_ctx_t *ctx, char *why, size_t whysz);

/* 1 for the refusals that a correct sender never causes. */
int im_accept_violation (im_accept_t verdict);

/* Short names for counts and logs: "revocation", "expired", ... */
const char *im_share_name (im_share_t verdict);
const char *im_accept_name (im_accept_t verdict);

/* Writes the rules of SELF in configuration form, one "key = value" per
 * line, each indented by INDENT spaces, into OUT. Returns the length or -1
 * with errno ENOSPC. */
int im_policy_format (const im_policy_t *self, int indent, char *out, size_t outsz);

#endif
