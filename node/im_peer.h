/* SPDX-License-Identifier: MPL-2.0 */
/* im_peer.h -- the states of a peer of the mesh (SPEC.md, "Peer states"): six
 * orthogonal regions, each an enum with its own transition table. A state
 * changes only through an event looked up in its region's table; an event
 * with no transition from the current state is refused, never asserted. */
#ifndef IM_PEER_H
#define IM_PEER_H

#include <stddef.h>

/* A peer of the mesh; its struct is private to the mesh (im_mesh_int.h). */

typedef enum {
    IM_REGION_LINK,   /* our dealer to it, when it has an endpoint */
    IM_REGION_PULL,   /* our pull from it */
    IM_REGION_SERVE,  /* its pull from us */
    IM_REGION_RESCAN, /* sending again what a new policy allows */
    IM_REGION_ROTATE, /* whether it knows our newest CURVE key */
    IM_REGION_DIAL,   /* which of its CURVE keys our dealer dials */
    IM_REGION_COUNT
} im_peer_region_t;

typedef enum {
    IM_LINK_HELLO, /* HELLO sent (again and again), unanswered */
    IM_LINK_READY  /* HELLO answered: pulls and pings go over it */
} im_link_state_t;

typedef enum {
    IM_PULL_IDLE, /* no pull out: the next is sent when the link allows */
    IM_PULL_OUT,  /* a PULL is out, from the cursor as it is */
    IM_PULL_STALE /* a PULL is out that predates a rewind of the cursor */
} im_pull_state_t;

typedef enum {
    IM_SERVE_IDLE,   /* no pull of its waits here */
    IM_SERVE_PARKED, /* its pull waits for something new (long poll) */
    IM_SERVE_RELINK  /* parked on a ROUTER link that was cut: it moves to
                        the peer's next connection */
} im_serve_state_t;

typedef enum {
    IM_RESCAN_NONE,   /* answers come from its cursor only */
    IM_RESCAN_WALKING /* its policy changed: our change log is walked again */
} im_rescan_state_t;

typedef enum {
    IM_ROTATE_TELLING, /* it has not confirmed our newest key (told with
                          ROTATE while we rotate; inert otherwise) */
    IM_ROTATE_ACKED    /* it knows our newest key */
} im_rotate_state_t;

typedef enum {
    IM_DIAL_CURRENT, /* our dealer uses its current key */
    IM_DIAL_PREVIOUS /* ... its key before its rotation (grace period) */
} im_dial_state_t;

typedef enum {
    /* IM_REGION_LINK */
    IM_EV_HELLO_ANSWERED, /* its answer to our HELLO came on the dealer */
    IM_EV_LINK_LOST,      /* dealer made anew, silent, or the peer restarted */
    /* IM_REGION_PULL */
    IM_EV_PULL_SENT,      /* a PULL went out */
    IM_EV_PULL_ANSWERED,  /* RECORDS came for it */
    IM_EV_PULL_LOST,      /* its link, or the peer's session, went; or too late */
    IM_EV_CURSOR_REWOUND, /* our cursor for it moved back (new inbound rules) */
    /* IM_REGION_SERVE */
    IM_EV_PARK,       /* its pull found nothing new: it waits */
    IM_EV_UNPARK,     /* its waiting pull was answered or dropped */
    IM_EV_ROUTER_CUT, /* our ROUTER was bound again, cutting its link */
    IM_EV_RELINKED,   /* it came back on a new ROUTER link */
    /* IM_REGION_RESCAN */
    IM_EV_POLICY_CHANGED, /* its outbound policy changed */
    IM_EV_RESCAN_DONE,    /* the walk reached its end (or failed) */
    /* IM_REGION_ROTATE */
    IM_EV_ROTATION_BEGAN, /* we made a new CURVE key */
    IM_EV_ROTATED,        /* it answered ROTATED with our new key */
    IM_EV_ADDED_ROTATING, /* added during our rotation: given our new card */
    /* IM_REGION_DIAL */
    IM_EV_DIAL_OTHER_KEY, /* HELLOs went unanswered in its grace period */
    IM_EV_DIAL_NEW_KEY,   /* it rotated, or its previous key expired */
    IM_EV_COUNT
} im_peer_event_t;

/* The state of every region of one peer; IM_PEER_STATES_INIT is where a new
 * peer starts (every region in its first state). */
typedef struct {
    int of[IM_REGION_COUNT];
} im_peer_states_t;
#define IM_PEER_STATES_INIT                                                              \
    {                                                                                    \
        {                                                                                \
            0                                                                            \
        }                                                                                \
    }

/* One row of a transition table: in state FROM, event EVENT leads to TO. */
typedef struct {
    int from;
    im_peer_event_t event;
    int to;
} im_peer_transition_t;

/* Looks EVENT up in its region's table from the state S is in, and moves S.
 * Returns 0, or -1 with errno EPERM (no such transition: S is unchanged) or
 * EINVAL (no such event). */
int im_peer_step (im_peer_states_t *s, im_peer_event_t event);

/* The region an event belongs to (IM_REGION_COUNT for no event). */
im_peer_region_t im_peer_event_region (im_peer_event_t event);

/* A region's transition table and its number of rows, or NULL. */
const im_peer_transition_t *im_peer_table (im_peer_region_t region, size_t *n);

/* The number of states of a region (0 for no region). */
int im_peer_states_count (im_peer_region_t region);

/* Names, lower case, for logs, status and the tests ("?" when unknown). */
const char *im_peer_region_name (im_peer_region_t region);
const char *im_peer_state_name (im_peer_region_t region, int state);
const char *im_peer_event_name (im_peer_event_t event);

#endif
