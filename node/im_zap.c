/* SPDX-License-Identifier: MPL-2.0 */
/* im_zap.c -- the mesh's ZAP handler (RFC 27): a CURVE handshake passes
 * only with a key on the trust list, a peer's current key or its previous
 * one during that key's grace period. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_mesh_int.h"

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
    if (version && streq (version, "1.0") && mechanism && streq (mechanism, "CURVE")
        && domain && streq (domain, ZAP_DOMAIN) && key && zframe_size (key) == 32)
        p = peer_by_curve (self, zframe_data (key));
    if (!p) {
        self->handshakes_refused++;
        uint8_t none[32] = { 0 };
        mesh_zap_refused (self, key && zframe_size (key) == 32 ? zframe_data (key) : none,
                          address && *address ? address : "?");
    }
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, request_id ? request_id : "");
    zmsg_addstr (reply, p ? "200" : "400");
    zmsg_addstr (reply, p ? "OK" : "not on the trust list");
    /* The User-Id is the key presented: a connection belongs to that key,
     * a name given to another key later does not inherit it, and a
     * connection made with a peer's previous key is no one's once that
     * key's grace period is over. */
    char user[65] = "";
    if (p)
        sodium_bin2hex (user, sizeof user, zframe_data (key), 32);
    zmsg_addstr (reply, user);
    zmsg_addmem (reply, NULL, 0);
    zmsg_send (&reply, self->zap);
    zstr_free (&version);
    zstr_free (&request_id);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&mechanism);
    zframe_destroy (&identity);
    zframe_destroy (&key);
    zmsg_destroy (&req);
}
