/* SPDX-License-Identifier: MPL-2.0 */
/* im_zap.c -- the mesh's ZAP handler (RFC 27): a CURVE handshake passes
 * only with a key on the trust list, a peer's current key or its previous
 * one during that key's grace period. In the local feeds' domain, only a
 * subscriber's key passes. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_mesh_int.h"

void
im_mesh_set_feed_check (im_mesh_t *self, im_mesh_key_fn *fn, void *arg)
{
    self->feed_check = fn;
    self->feed_arg = arg;
}

/* Answers REQUEST_ID: 200 with KEY (hex) as the User-Id, or 400 and WHY
 * when KEY is NULL. */
static void
zap_reply (im_mesh_t *self, const char *request_id, const uint8_t *key, const char *why)
{
    char user[65] = "";
    if (key)
        sodium_bin2hex (user, sizeof user, key, 32);
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, request_id ? request_id : "");
    zmsg_addstr (reply, key ? "200" : "400");
    zmsg_addstr (reply, key ? "OK" : why);
    zmsg_addstr (reply, user);
    zmsg_addmem (reply, NULL, 0);
    zmsg_send (&reply, self->zap);
}

/* A subscriber of a CURVE feed: admitted when its KEY (NULL: none) is
 * listed. */
static void
zap_feed_reply (im_mesh_t *self, const char *request_id, const char *address,
                const uint8_t *key)
{
    int ok = key && self->feed_check && self->feed_check (key, self->feed_arg);
    if (!ok) {
        char hex[65] = "?";
        if (key)
            sodium_bin2hex (hex, sizeof hex, key, 32);
        zsys_warning ("feed: subscriber from %s refused: CURVE key %.16s... is not in "
                      "pub/subscribers",
                      address ? address : "?", hex);
    }
    zap_reply (self, request_id, ok ? key : NULL, "not a subscriber");
}

void
mesh_handle_zap (im_mesh_t *self)
{
    zmsg_t *req = zmsg_recv (self->zap);
    if (!req)
        return;
    char *version = zmsg_popstr (req);
    char *request_id = zmsg_popstr (req);
    char *domain = zmsg_popstr (req);
    char *address = zmsg_popstr (req);
    zframe_t *identity = zmsg_pop (req);
    char *mechanism = zmsg_popstr (req);
    zframe_t *key = zmsg_pop (req);
    peer_t *p = NULL;
    int feed = domain && streq (domain, IM_FEED_ZAP_DOMAIN);
    if (version && streq (version, "1.0") && mechanism && streq (mechanism, "CURVE")
        && domain && streq (domain, ZAP_DOMAIN) && key && zframe_size (key) == 32)
        p = peer_by_curve (self, zframe_data (key));
    if (feed)
        zap_feed_reply (self, request_id, address,
                        version && streq (version, "1.0") && mechanism
                                && streq (mechanism, "CURVE") && key
                                && zframe_size (key) == 32
                            ? zframe_data (key)
                            : NULL);
    else if (!p) {
        self->handshakes_refused++;
        uint8_t none[32] = { 0 };
        mesh_zap_refused (self, key && zframe_size (key) == 32 ? zframe_data (key) : none,
                          address && *address ? address : "?");
    }
    /* The User-Id is the key presented: a connection belongs to that key,
     * a name given to another key later does not inherit it, and a
     * connection made with a peer's previous key is no one's once that
     * key's grace period is over. */
    if (!feed)
        zap_reply (self, request_id, p ? zframe_data (key) : NULL,
                   "not on the trust list");
    zstr_free (&version);
    zstr_free (&request_id);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&mechanism);
    zframe_destroy (&identity);
    zframe_destroy (&key);
    zmsg_destroy (&req);
}
