/* SPDX-License-Identifier: MPL-2.0 */
/* im_rotate.c -- CURVE key rotation between peers (SPEC.md, "ROTATE"): a
 * peer's ROTATE is checked and written down, ours is told to every peer until
 * it answers ROTATED, and previous keys stop working when their grace ends. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_mesh_int.h"

/* The name of whoever else uses or used KEY: another peer (its current key,
 * or its previous one in its grace period) or this node; NULL when nobody. */
static const char *
key_taken (im_mesh_t *self, const peer_t *p, const uint8_t *key)
{
    for (peer_t *q = zlistx_first (self->peers); q; q = zlistx_next (self->peers))
        if (q != p
            && (sodium_memcmp (q->card.curve, key, 32) == 0
                || (q->prev_until && sodium_memcmp (q->prev_curve, key, 32) == 0)))
            return q->card.name;
    const char *ours[] = { im_identity_curve_public (self->identity),
                           im_identity_curve_previous_public (self->identity) };
    for (int i = 0; i < 2; i++) {
        uint8_t raw[32];
        if (ours[i] && zmq_z85_decode (raw, ours[i]) && sodium_memcmp (raw, key, 32) == 0)
            return "this node";
    }
    return NULL;
}

/* Whether MSG's proof shows that its sender holds the secret of NEW_CURVE:
 * opened with our CURVE key, or our previous one while it works (the
 * sender may not know our newest yet). Else anyone could claim a key it
 * heard of, a peer's new one before that peer's statement came. */
static int
proves (im_mesh_t *self, const im_msg_t *msg, const uint8_t *new_curve)
{
    const char *ours[] = { im_identity_curve_secret (self->identity),
                           im_identity_previous_until (self->identity) > im_time_now ()
                               ? im_identity_curve_previous_secret (self->identity)
                               : NULL };
    for (int i = 0; i < 2; i++) {
        uint8_t secret[32];
        if (ours[i] && strlen (ours[i]) == 40 && zmq_z85_decode (secret, ours[i])
            && im_rotation_proof_check (msg->rotation, msg->rotation_proof, new_curve,
                                        secret)
                   == 0) {
            sodium_memzero (secret, sizeof secret);
            return 1;
        }
        sodium_memzero (secret, sizeof secret);
    }
    return 0;
}

/* ROTATE: the peer made a new CURVE key. The statement must be signed by
 * the peer's node id and move from the key we know to a new one; the new
 * card is written down (by the node) and the old key still works until the
 * statement says. Answered with ROTATED once written down. */
void
mesh_handle_rotate (im_mesh_t *self, peer_t *p, zsock_t *sock, zframe_t *route,
                    const im_msg_t *msg)
{
    im_rotation_t r;
    char why[256] = "";
    int64_t now = im_time_now ();
    if (im_rotation_verify (msg->rotation, IM_ROTATION_SIZE, &r, why, sizeof why) == 0
        && memcmp (r.node, p->card.node, IM_NODE_ID_SIZE) != 0)
        snprintf (why, sizeof why, "signed by another node");
    else if (*why == 0 && r.until <= now)
        snprintf (why, sizeof why, "its grace period is already over");
    else if (*why == 0 && r.until > now + IM_ROTATION_GRACE_MAX)
        snprintf (why, sizeof why, "its grace period runs past %d days from now",
                  IM_ROTATION_GRACE_MAX / 86400);
    else if (*why == 0 && sodium_memcmp (r.new_curve, p->card.curve, 32) != 0
             && sodium_memcmp (r.old_curve, p->card.curve, 32) != 0)
        snprintf (why, sizeof why, "it moves from a key we do not know it by");
    /* One move at a time, at most one a minute: each is written down, and
     * the end of its grace period binds the peer socket again. */
    int moves = *why == 0 && sodium_memcmp (r.new_curve, p->card.curve, 32) != 0;
    if (moves && p->prev_until && sodium_memcmp (r.new_curve, p->prev_curve, 32) == 0)
        snprintf (why, sizeof why, "its new key is the one it rotated from");
    else if (moves && p->prev_until > now)
        snprintf (why, sizeof why, "the grace period of its previous key still runs");
    else if (moves && p->rotated_at && zclock_mono () - p->rotated_at < ROTATE_MIN_MS)
        snprintf (why, sizeof why, "its key moved, or failed to, less than %d s ago",
                  ROTATE_MIN_MS / 1000);
    const char *owner = *why ? NULL : key_taken (self, p, r.new_curve);
    if (owner)
        snprintf (why, sizeof why, "its new key is one %s uses or used", owner);
    else if (moves && *why == 0 && !proves (self, msg, r.new_curve))
        snprintf (why, sizeof why, "it does not prove it holds the new key's secret");
    if (*why) {
        p->refused[REFUSE_PROTOCOL]++;
        if (mesh_peer_log (p, PEER_LOG_ROTATE))
            zsys_warning ("mesh: key rotation from %s refused: %s", p->card.name, why);
        return;
    }
    if (sodium_memcmp (r.new_curve, p->card.curve, 32) != 0) {
        /* Written down first: a crash after this still knows the new key. */
        if (!self->on_rotate
            || self->on_rotate (p->card.name, &r, self->rotate_arg, why, sizeof why)) {
            p->rotated_at = zclock_mono (); /* tried again in a minute */
            if (mesh_peer_log (p, PEER_LOG_KEY_WRITE))
                zsys_error ("mesh: cannot write down the new key of %s: %s", p->card.name,
                            self->on_rotate ? why : "no configuration to write to");
            return;
        }
        p->rotated_at = zclock_mono ();
        memcpy (p->prev_curve, r.old_curve, 32);
        zmq_z85_encode (p->prev_z85, p->prev_curve, 32);
        p->prev_until = r.until;
        memcpy (p->card.curve, r.new_curve, 32);
        zmq_z85_encode (p->card.curve_z85, p->card.curve, 32);
        /* Its ROUTER serves the new key once every peer knows it, most
         * often as soon as our answer arrives: our dealer dials with the new
         * key just after it (and, while the grace period lasts, with each
         * key in turn if one goes unanswered). */
        if (p->dealer) {
            peer_event (p, IM_EV_DIAL_NEW_KEY);
            p->redial_at = zclock_mono () + 300;
        }
        char until[IM_TIME_STR_SIZE];
        /* Not within the peer's lines a minute: at most one a minute. */
        zsys_info ("mesh: %s rotated its CURVE key; its previous key works until %s",
                   p->card.name, im_time_format (r.until, until));
    }
    im_msg_t ack = { .id = IM_MSG_ROTATED };
    memcpy (ack.curve, r.new_curve, 32);
    mesh_send (self, sock, route, &ack);
}

/* ROTATED: the peer knows our new key. */
void
mesh_handle_rotated (im_mesh_t *self, peer_t *p, const im_msg_t *msg)
{
    uint8_t ours[32];
    zmq_z85_decode (ours, im_identity_curve_public (self->identity));
    if (!mesh_rotating (self) || sodium_memcmp (msg->curve, ours, 32) != 0) {
        p->refused[REFUSE_PROTOCOL]++; /* not our key, or no rotation */
        return;
    }
    if (peer_is (p, IM_REGION_ROTATE, IM_ROTATE_TELLING)) {
        peer_event (p, IM_EV_ROTATED);
        zsys_info ("mesh: %s knows our new CURVE key", p->card.name);
        if (p->dealer)
            p->redial_at = zclock_mono (); /* with our new key, after this */
    }
}

/* In our rotation's grace period: every peer that does not know our new key
 * is told (ROTATE, every ROTATE_EVERY_MS while it is connected); once all
 * know it, the ROUTER serves the new key only. */
void
mesh_rotate_tick (im_mesh_t *self, int64_t now)
{
    /* A peer's previous key whose grace period is over: every connection
     * made with it is cut (the ROUTER is bound again), and no handshake
     * with it passes the ZAP handler any more. */
    int64_t wall = im_time_now ();
    int cut = 0;
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (p->prev_until && p->prev_until <= wall) {
            p->prev_until = 0;
            peer_event (p, IM_EV_DIAL_NEW_KEY);
            cut = 1;
            zsys_info ("mesh: the previous CURVE key of %s is no longer accepted",
                       p->card.name);
        }
    if (cut && *self->bind) {
        char why[256];
        if (mesh_router_bind (self, why, sizeof why))
            zsys_error ("%s", why);
    }
    if (!mesh_rotating (self)) {
        if (self->router_prev)
            im_mesh_keys_changed (self);
        return;
    }
    int all = 1;
    im_msg_t rot = { .id = IM_MSG_ROTATE };
    int made = 0;
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
        if (peer_is (p, IM_REGION_ROTATE, IM_ROTATE_ACKED))
            continue;
        all = 0;
        zsock_t *sock;
        zframe_t *route;
        if (!p->session || now - p->rotate_at < ROTATE_EVERY_MS
            || peer_pull_link (p, self->router, &sock, &route))
            continue;
        if (!made && im_identity_rotation (self->identity, rot.rotation) != 0)
            return;
        made = 1;
        /* Proof to P that we hold the new key (the one we use now). */
        uint8_t secret[32];
        const char *z85 = im_identity_curve_secret (self->identity);
        int proved = z85 && strlen (z85) == 40 && zmq_z85_decode (secret, z85)
                     && im_rotation_prove (rot.rotation, secret, p->card.curve,
                                           rot.rotation_proof)
                            == 0;
        sodium_memzero (secret, sizeof secret);
        if (!proved) {
            zsys_error (
                "mesh: cannot prove our new CURVE key to %s (tried again in %d s)",
                p->card.name, ROTATE_EVERY_MS / 1000);
            p->rotate_at = now;
        }
        else if (mesh_send (self, sock, route, &rot) == 0)
            p->rotate_at = now;
    }
    if (all && self->router_prev && *self->bind) {
        char why[256];
        self->router_prev = 0;
        if (mesh_router_bind (self, why, sizeof why) == 0)
            zsys_info ("mesh: every peer knows our new CURVE key: the peer socket "
                       "serves it alone");
        else
            zsys_error ("%s", why);
    }
}

void
im_mesh_keys_changed (im_mesh_t *self)
{
    char why[256];
    if (mesh_rotating (self)) {
        /* A new rotation: every peer is told. The ROUTER goes on serving
         * the key it has, now the previous one, until all know the new. */
        for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers)) {
            peer_event (p, IM_EV_ROTATION_BEGAN);
            p->rotate_at = 0;
        }
        self->router_prev = zlistx_size (self->peers) > 0;
        if (!self->router_prev && *self->bind && mesh_router_bind (self, why, sizeof why))
            zsys_error ("%s", why);
        return;
    }
    /* The grace period is over: the new key alone. */
    for (peer_t *p = zlistx_first (self->peers); p; p = zlistx_next (self->peers))
        if (p->dealer && !peer_is (p, IM_REGION_ROTATE, IM_ROTATE_ACKED))
            p->redial_at = zclock_mono ();
    if (self->router_prev) {
        self->router_prev = 0;
        if (*self->bind && mesh_router_bind (self, why, sizeof why))
            zsys_error ("%s", why);
        else
            zsys_info ("mesh: the grace period of our previous CURVE key is over");
    }
}

void
im_mesh_set_rotate_fn (im_mesh_t *self, im_mesh_rotate_fn *fn, void *arg)
{
    self->on_rotate = fn;
    self->rotate_arg = arg;
}
