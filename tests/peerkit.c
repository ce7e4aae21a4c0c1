/* SPDX-License-Identifier: MPL-2.0 */
/* peerkit.c -- keys, cards and CURVE dealers for the test peers
 * (tests/fake_peer.c, tests/mallory.c): one place for what both need to look
 * like a node to the node under test. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "im_name.h"
#include "peerkit.h"

int
pk_keys_make (keys_t *k, const char *name, const char *path, char *why, size_t whysz)
{
    if (!im_name_valid (name)) {
        snprintf (why, whysz, "'%s' is not a node name", name);
        return -1;
    }
    snprintf (k->name, sizeof k->name, "%s", name);
    crypto_sign_keypair (k->pk, k->sk);
    if (zmq_curve_keypair (k->curve_public, k->curve_secret) != 0) {
        snprintf (why, whysz, "zmq_curve_keypair: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    char sign_hex[2 * crypto_sign_SECRETKEYBYTES + 1];
    sodium_bin2hex (sign_hex, sizeof sign_hex, k->sk, sizeof k->sk);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen (fd, "w") : NULL;
    int rc = f ? 0 : -1;
    if (f) {
        fprintf (f,
                 "#   test peer keys (tests only)\n"
                 "name = \"%s\"\n"
                 "sign-secret = \"%s\"\n"
                 "curve-public = \"%s\"\n"
                 "curve-secret = \"%s\"\n",
                 k->name, sign_hex, k->curve_public, k->curve_secret);
        rc = fclose (f);
    }
    else if (fd >= 0)
        close (fd);
    sodium_memzero (sign_hex, sizeof sign_hex);
    if (rc != 0)
        snprintf (why, whysz, "%s: %s", path, strerror (errno));
    return rc;
}

int
pk_keys_load (keys_t *k, const char *path, char *why, size_t whysz)
{
    zconfig_t *root = zconfig_load (path);
    if (!root) {
        snprintf (why, whysz, "%s: cannot read the keys", path);
        return -1;
    }
    const char *name = zconfig_get (root, "name", "");
    const char *sign = zconfig_get (root, "sign-secret", "");
    const char *pub = zconfig_get (root, "curve-public", "");
    const char *sec = zconfig_get (root, "curve-secret", "");
    size_t binlen = 0;
    int rc = 0;
    if (!im_name_valid (name) || strlen (pub) != 40 || strlen (sec) != 40
        || sodium_hex2bin (k->sk, sizeof k->sk, sign, strlen (sign), NULL, &binlen, NULL)
        || binlen != sizeof k->sk) {
        snprintf (why, whysz, "%s: not a test peer's keys file", path);
        rc = -1;
    }
    else {
        snprintf (k->name, sizeof k->name, "%s", name);
        snprintf (k->curve_public, sizeof k->curve_public, "%s", pub);
        snprintf (k->curve_secret, sizeof k->curve_secret, "%s", sec);
        crypto_sign_ed25519_sk_to_pk (k->pk, k->sk);
    }
    zconfig_destroy (&root);
    return rc;
}

int
pk_card_print (const keys_t *k)
{
    uint8_t curve[32];
    char node_hex[65], curve_hex[65];
    if (!zmq_z85_decode (curve, k->curve_public))
        return -1;
    sodium_bin2hex (node_hex, sizeof node_hex, k->pk, sizeof k->pk);
    sodium_bin2hex (curve_hex, sizeof curve_hex, curve, sizeof curve);
    printf ("%s %s %s %s -\n", IM_CARD_TAG, k->name, node_hex, curve_hex);
    return 0;
}

zsock_t *
pk_dealer_new (const keys_t *k, const char *server_hex, int send_timeout_ms, char *why,
               size_t whysz)
{
    uint8_t server[32];
    char server_z85[41];
    size_t binlen = 0;
    if (sodium_hex2bin (server, sizeof server, server_hex, strlen (server_hex), NULL,
                        &binlen, NULL)
        || binlen != 32) {
        snprintf (why, whysz, "the server's CURVE key is not 64 hex digits");
        return NULL;
    }
    zmq_z85_encode (server_z85, server, 32);
    zsock_t *d = zsock_new (ZMQ_DEALER);
    if (!d) {
        snprintf (why, whysz, "cannot make a socket");
        return NULL;
    }
    zsock_set_curve_serverkey (d, server_z85);
    zsock_set_curve_publickey (d, k->curve_public);
    zsock_set_curve_secretkey (d, k->curve_secret);
    zsock_set_linger (d, 0);
    /* No send blocks for ever: a DEALER with no connection left would wait
     * in zmq_send until one comes, which may be never. */
    zsock_set_sndtimeo (d, send_timeout_ms);
    zsock_set_maxmsgsize (d, IM_MSG_MAX + 64);
    return d;
}

void
pk_hello (im_msg_t *m, const keys_t *k, uint64_t session)
{
    m->id = IM_MSG_HELLO;
    m->version = IM_MSG_VERSION;
    memcpy (m->node, k->pk, IM_NODE_ID_SIZE);
    m->session = session;
    snprintf (m->name, sizeof m->name, "%s", k->name);
}
