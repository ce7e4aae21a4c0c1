/* SPDX-License-Identifier: MPL-2.0 */
/* im_peer.c -- a peer's states: the transition table of each region (SPEC.md,
 * "Peer states"), the one step function that applies them, and their names.
 * Pure: it knows nothing of sockets or the mesh that holds the peers. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "im_peer.h"

/* --- States and transitions -------------------------------------------- */

static const im_peer_transition_t link_table[] = {
    { IM_LINK_HELLO, IM_EV_HELLO_ANSWERED, IM_LINK_READY },
    { IM_LINK_READY, IM_EV_HELLO_ANSWERED, IM_LINK_READY }, /* a retried HELLO's */
    { IM_LINK_HELLO, IM_EV_LINK_LOST, IM_LINK_HELLO },
    { IM_LINK_READY, IM_EV_LINK_LOST, IM_LINK_HELLO },
};

static const im_peer_transition_t pull_table[] = {
    { IM_PULL_IDLE, IM_EV_PULL_SENT, IM_PULL_OUT },
    { IM_PULL_OUT, IM_EV_PULL_ANSWERED, IM_PULL_IDLE },
    { IM_PULL_STALE, IM_EV_PULL_ANSWERED, IM_PULL_IDLE },
    { IM_PULL_IDLE, IM_EV_PULL_LOST, IM_PULL_IDLE },
    { IM_PULL_OUT, IM_EV_PULL_LOST, IM_PULL_IDLE },
    { IM_PULL_STALE, IM_EV_PULL_LOST, IM_PULL_IDLE },
    { IM_PULL_OUT, IM_EV_CURSOR_REWOUND, IM_PULL_STALE },
    { IM_PULL_STALE, IM_EV_CURSOR_REWOUND, IM_PULL_STALE },
};

static const im_peer_transition_t serve_table[] = {
    { IM_SERVE_IDLE, IM_EV_PARK, IM_SERVE_PARKED },
    { IM_SERVE_IDLE, IM_EV_UNPARK, IM_SERVE_IDLE },
    { IM_SERVE_PARKED, IM_EV_UNPARK, IM_SERVE_IDLE },
    { IM_SERVE_RELINK, IM_EV_UNPARK, IM_SERVE_IDLE },
    { IM_SERVE_PARKED, IM_EV_ROUTER_CUT, IM_SERVE_RELINK },
    { IM_SERVE_RELINK, IM_EV_RELINKED, IM_SERVE_PARKED },
};

static const im_peer_transition_t rescan_table[] = {
    { IM_RESCAN_NONE, IM_EV_POLICY_CHANGED, IM_RESCAN_WALKING },
    { IM_RESCAN_WALKING, IM_EV_POLICY_CHANGED, IM_RESCAN_WALKING }, /* from the start */
    { IM_RESCAN_WALKING, IM_EV_RESCAN_DONE, IM_RESCAN_NONE },
};

static const im_peer_transition_t rotate_table[] = {
    { IM_ROTATE_TELLING, IM_EV_ROTATION_BEGAN, IM_ROTATE_TELLING },
    { IM_ROTATE_ACKED, IM_EV_ROTATION_BEGAN, IM_ROTATE_TELLING },
    { IM_ROTATE_TELLING, IM_EV_ROTATED, IM_ROTATE_ACKED },
    { IM_ROTATE_TELLING, IM_EV_ADDED_ROTATING, IM_ROTATE_ACKED },
};

static const im_peer_transition_t dial_table[] = {
    { IM_DIAL_CURRENT, IM_EV_DIAL_OTHER_KEY, IM_DIAL_PREVIOUS },
    { IM_DIAL_PREVIOUS, IM_EV_DIAL_OTHER_KEY, IM_DIAL_CURRENT },
    { IM_DIAL_CURRENT, IM_EV_DIAL_NEW_KEY, IM_DIAL_CURRENT },
    { IM_DIAL_PREVIOUS, IM_EV_DIAL_NEW_KEY, IM_DIAL_CURRENT },
};

#define ROWS(t) (sizeof (t) / sizeof (t)[0])

static const struct {
    const char *name;
    const im_peer_transition_t *table;
    size_t rows;
    const char *states[4];
} regions[IM_REGION_COUNT] = {
    [IM_REGION_LINK] = { "link", link_table, ROWS (link_table), { "hello", "ready" } },
    [IM_REGION_PULL]
    = { "pull", pull_table, ROWS (pull_table), { "idle", "out", "stale" } },
    [IM_REGION_SERVE]
    = { "serve", serve_table, ROWS (serve_table), { "idle", "parked", "relink" } },
    [IM_REGION_RESCAN]
    = { "rescan", rescan_table, ROWS (rescan_table), { "none", "walking" } },
    [IM_REGION_ROTATE]
    = { "rotate", rotate_table, ROWS (rotate_table), { "telling", "acked" } },
    [IM_REGION_DIAL]
    = { "dial", dial_table, ROWS (dial_table), { "current", "previous" } },
};

static const struct {
    const char *name;
    im_peer_region_t region;
} events[IM_EV_COUNT] = {
    [IM_EV_HELLO_ANSWERED] = { "hello answered", IM_REGION_LINK },
    [IM_EV_LINK_LOST] = { "link lost", IM_REGION_LINK },
    [IM_EV_PULL_SENT] = { "pull sent", IM_REGION_PULL },
    [IM_EV_PULL_ANSWERED] = { "pull answered", IM_REGION_PULL },
    [IM_EV_PULL_LOST] = { "pull lost", IM_REGION_PULL },
    [IM_EV_CURSOR_REWOUND] = { "cursor rewound", IM_REGION_PULL },
    [IM_EV_PARK] = { "park", IM_REGION_SERVE },
    [IM_EV_UNPARK] = { "unpark", IM_REGION_SERVE },
    [IM_EV_ROUTER_CUT] = { "router cut", IM_REGION_SERVE },
    [IM_EV_RELINKED] = { "relinked", IM_REGION_SERVE },
    [IM_EV_POLICY_CHANGED] = { "policy changed", IM_REGION_RESCAN },
    [IM_EV_RESCAN_DONE] = { "rescan done", IM_REGION_RESCAN },
    [IM_EV_ROTATION_BEGAN] = { "rotation began", IM_REGION_ROTATE },
    [IM_EV_ROTATED] = { "rotated", IM_REGION_ROTATE },
    [IM_EV_ADDED_ROTATING] = { "added rotating", IM_REGION_ROTATE },
    [IM_EV_DIAL_OTHER_KEY] = { "dial other key", IM_REGION_DIAL },
    [IM_EV_DIAL_NEW_KEY] = { "dial new key", IM_REGION_DIAL },
};

im_peer_region_t
im_peer_event_region (im_peer_event_t event)
{
    return (unsigned)event < IM_EV_COUNT ? events[event].region : IM_REGION_COUNT;
}

const im_peer_transition_t *
im_peer_table (im_peer_region_t region, size_t *n)
{
    if ((unsigned)region >= IM_REGION_COUNT) {
        *n = 0;
        return NULL;
    }
    *n = regions[region].rows;
    return regions[region].table;
}

int
im_peer_states_count (im_peer_region_t region)
{
    if ((unsigned)region >= IM_REGION_COUNT)
        return 0;
    int n = 0;
    while (n < 4 && regions[region].states[n])
        n++;
    return n;
}

const char *
im_peer_region_name (im_peer_region_t region)
{
    return (unsigned)region < IM_REGION_COUNT ? regions[region].name : "?";
}

const char *
im_peer_state_name (im_peer_region_t region, int state)
{
    if (state < 0 || state >= im_peer_states_count (region))
        return "?";
    return regions[region].states[state];
}

const char *
im_peer_event_name (im_peer_event_t event)
{
    return (unsigned)event < IM_EV_COUNT ? events[event].name : "?";
}

int
im_peer_step (im_peer_states_t *s, im_peer_event_t event)
{
    im_peer_region_t region = im_peer_event_region (event);
    if (!s || region == IM_REGION_COUNT) {
        errno = EINVAL;
        return -1;
    }
    const im_peer_transition_t *t = regions[region].table;
    for (size_t i = 0; i < regions[region].rows; i++)
        if (t[i].from == s->of[region] && t[i].event == event) {
            s->of[region] = t[i].to;
            return 0;
        }
    errno = EPERM;
    return -1;
}
