/* SPDX-License-Identifier: MPL-2.0 */
/* im_identity.c -- creating, loading and describing a node's keys. The
 * secrets are written once, 0600, with O_EXCL, and never printed or logged;
 * memory that held them is wiped (sodium_memzero) when the identity goes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>
#include <sodium.h>

#include "im_dir.h"
#include "im_identity.h"
#include "im_msg.h"
#include "im_time.h"
#include "im_util.h"

struct _im_identity_t {
    uint8_t node[crypto_sign_PUBLICKEYBYTES];
    uint8_t sign_secret[crypto_sign_SECRETKEYBYTES];
    char curve_public[41];
    char curve_secret[41];
    /* After a rotation, the old CURVE key until its grace period ends. */
    char prev_public[41]; /* "" when there is none */
    char prev_secret[41];
    int64_t rotated; /* when the rotation was made */
    int64_t prev_until;
};

void
im_identity_destroy (im_identity_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    int saved = errno;
    sodium_memzero (*self_p, sizeof **self_p);
    free (*self_p);
    *self_p = NULL;
    errno = saved;
}

static int
write_exclusive (const char *path, mode_t mode, const char *text, char *err, size_t errsz)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return im_fail (errno, err, errsz, "%s: %s", path, strerror (errno));
    size_t len = strlen (text);
    ssize_t n = write (fd, text, len);
    int rc = (n == (ssize_t)len && fsync (fd) == 0) ? 0 : -1;
    int saved = errno;
    close (fd);
    if (rc) {
        unlink (path);
        return im_fail (saved ? saved : EIO, err, errsz, "%s: %s", path,
                        strerror (saved));
    }
    return 0;
}

im_identity_t *
im_identity_create (const char *dir, char *err, size_t errsz)
{
    char keys[4096], secret_path[4096], public_path[4096];
    if (!dir || im_dir_path (dir, IM_KEYS_DIR, keys, sizeof keys)
        || im_dir_path (dir, IM_SECRET_FILE, secret_path, sizeof secret_path)
        || im_dir_path (dir, IM_PUBLIC_FILE, public_path, sizeof public_path)) {
        im_fail (EINVAL, err, errsz, "identity: bad directory");
        return NULL;
    }
    if (mkdir (keys, 0700) != 0) {
        im_fail (errno, err, errsz, "%s: %s", keys, strerror (errno));
        return NULL;
    }
    im_identity_t *self = calloc (1, sizeof *self);
    if (!self) {
        im_fail (ENOMEM, err, errsz, "identity: out of memory");
        return NULL;
    }
    crypto_sign_keypair (self->node, self->sign_secret);
    if (zmq_curve_keypair (self->curve_public, self->curve_secret) != 0) {
        im_fail (EPROTONOSUPPORT, err, errsz, "identity: libzmq cannot make CURVE keys");
        im_identity_destroy (&self);
        return NULL;
    }
    char sign_hex[2 * crypto_sign_SECRETKEYBYTES + 1], node_hex[IM_NODE_HEX_SIZE];
    sodium_bin2hex (sign_hex, sizeof sign_hex, self->sign_secret,
                    sizeof self->sign_secret);
    im_node_format (self->node, node_hex);
    char text[1024];
    snprintf (text, sizeof text,
              "#   intelmesh node secret keys. Never share, print or copy this file\n"
              "#   unencrypted: whoever holds it can sign as this node.\n"
              "sign-secret = \"%s\"\n"
              "curve-secret = \"%s\"\n",
              sign_hex, self->curve_secret);
    sodium_memzero (sign_hex, sizeof sign_hex);
    int rc = write_exclusive (secret_path, 0600, text, err, errsz);
    sodium_memzero (text, sizeof text);
    if (rc == 0) {
        snprintf (text, sizeof text,
                  "#   intelmesh node public keys (the node id is the signing key).\n"
                  "sign-public = \"%s\"\n"
                  "curve-public = \"%s\"\n",
                  node_hex, self->curve_public);
        rc = write_exclusive (public_path, 0644, text, err, errsz);
        if (rc)
            unlink (secret_path);
    }
    if (rc)
        im_identity_destroy (&self);
    return self;
}

im_identity_t *
im_identity_load (const char *dir, char *err, size_t errsz)
{
    char path[4096];
    if (!dir || im_dir_path (dir, IM_SECRET_FILE, path, sizeof path)) {
        im_fail (EINVAL, err, errsz, "identity: bad directory");
        return NULL;
    }
    struct stat st;
    if (stat (path, &st) != 0) {
        im_fail (errno, err, errsz, "%s: %s (run 'intelmesh init -d %s' first)", path,
                 strerror (errno), dir);
        return NULL;
    }
    if (st.st_mode & 077) {
        im_fail (EPERM, err, errsz, "%s: readable by others (mode %04o): chmod 600 it",
                 path, (unsigned)(st.st_mode & 07777));
        return NULL;
    }
    zconfig_t *root = zconfig_load (path);
    if (!root) {
        im_fail (EINVAL, err, errsz, "%s: not a valid key file", path);
        return NULL;
    }
    im_identity_t *self = calloc (1, sizeof *self);
    const char *sign = zconfig_get (root, "sign-secret", "");
    const char *curve = zconfig_get (root, "curve-secret", "");
    size_t binlen = 0;
    const char *end = NULL;
    uint8_t curve_bin[32], curve_pub[32];
    int ok = self && strlen (sign) == 2 * crypto_sign_SECRETKEYBYTES
             && sodium_hex2bin (self->sign_secret, sizeof self->sign_secret, sign,
                                strlen (sign), NULL, &binlen, &end)
                    == 0
             && binlen == crypto_sign_SECRETKEYBYTES && strlen (curve) == 40
             && zmq_z85_decode (curve_bin, curve) != NULL;
    if (ok) {
        /* The stored key is seed and public key: derive both again from the
         * seed, so that a damaged file cannot load under a wrong node id. */
        uint8_t seed[crypto_sign_SEEDBYTES], sk[crypto_sign_SECRETKEYBYTES];
        crypto_sign_ed25519_sk_to_seed (seed, self->sign_secret);
        crypto_sign_seed_keypair (self->node, sk, seed);
        ok = sodium_memcmp (sk, self->sign_secret, sizeof sk) == 0;
        sodium_memzero (seed, sizeof seed);
        sodium_memzero (sk, sizeof sk);
    }
    if (ok) {
        crypto_scalarmult_base (curve_pub, curve_bin);
        memcpy (self->curve_secret, curve, 41);
        ok = zmq_z85_encode (self->curve_public, curve_pub, 32) != NULL;
    }
    const char *prev = zconfig_get (root, "previous-curve-secret", NULL);
    if (ok && prev) {
        const char *until = zconfig_get (root, "previous-until", "");
        const char *rotated = zconfig_get (root, "rotated", "");
        char *end_u = NULL, *end_r = NULL;
        long long u = strtoll (until, &end_u, 10), r = strtoll (rotated, &end_r, 10);
        ok = strlen (prev) == 40 && zmq_z85_decode (curve_bin, prev) != NULL && *until
             && !*end_u && u > 0 && *rotated && !*end_r && r > 0 && r < u;
        if (ok) {
            crypto_scalarmult_base (curve_pub, curve_bin);
            memcpy (self->prev_secret, prev, 41);
            self->prev_until = u;
            self->rotated = r;
            ok = zmq_z85_encode (self->prev_public, curve_pub, 32) != NULL;
        }
    }
    sodium_memzero (curve_bin, sizeof curve_bin);
    zconfig_destroy (&root);
    if (!ok) {
        im_fail (EINVAL, err, errsz, "%s: keys missing or malformed", path);
        im_identity_destroy (&self);
    }
    return self;
}

const uint8_t *
im_identity_node (const im_identity_t *self)
{
    return self->node;
}

const uint8_t *
im_identity_sign_secret (const im_identity_t *self)
{
    return self->sign_secret;
}

const char *
im_identity_curve_public (const im_identity_t *self)
{
    return self->curve_public;
}

const char *
im_identity_curve_secret (const im_identity_t *self)
{
    return self->curve_secret;
}

int
im_identity_card (const im_identity_t *self, const char *name, const char *endpoint,
                  char *out, size_t outsz)
{
    char node[IM_NODE_HEX_SIZE], curve_hex[65];
    uint8_t curve[32];
    im_node_format (self->node, node);
    zmq_z85_decode (curve, self->curve_public);
    sodium_bin2hex (curve_hex, sizeof curve_hex, curve, sizeof curve);
    int n = snprintf (out, outsz, "intelmesh1 %s %s %s %s", name, node, curve_hex,
                      endpoint && *endpoint ? endpoint : "-");
    if (n < 0 || (size_t)n >= outsz) {
        errno = ENOSPC;
        return -1;
    }
    return 0;
}

const char *
im_identity_owns (const im_identity_t *self, const uint8_t node[32],
                  const char *curve_z85)
{
    if (sodium_memcmp (node, self->node, 32) == 0)
        return "this node's own node id";
    if (strcmp (curve_z85, self->curve_public) == 0
        || (*self->prev_public && strcmp (curve_z85, self->prev_public) == 0))
        return "this node's own CURVE key";
    return NULL;
}

const char *
im_identity_curve_previous_public (const im_identity_t *self)
{
    return *self->prev_public ? self->prev_public : NULL;
}

const char *
im_identity_curve_previous_secret (const im_identity_t *self)
{
    return *self->prev_secret ? self->prev_secret : NULL;
}

int64_t
im_identity_previous_until (const im_identity_t *self)
{
    return *self->prev_public ? self->prev_until : 0;
}

/* Writes TEXT to PATH through a temporary file and a rename, so that a crash
 * leaves the old file or the new one, never half of one. */
static int
write_replace (const char *path, mode_t mode, const char *text, char *err, size_t errsz)
{
    char tmp[4200], dir[4200];
    snprintf (tmp, sizeof tmp, "%s.new", path);
    unlink (tmp);
    if (write_exclusive (tmp, mode, text, err, errsz))
        return -1;
    /* The new file keeps the old one's owner (rotate-keys run by root for
     * a node that runs as its own user). */
    struct stat st;
    if (stat (path, &st) == 0 && geteuid () == 0
        && chown (tmp, st.st_uid, st.st_gid) != 0) {
        int saved = errno;
        unlink (tmp);
        return im_fail (saved, err, errsz, "%s: %s", tmp, strerror (saved));
    }
    if (rename (tmp, path) != 0) {
        int saved = errno;
        unlink (tmp);
        return im_fail (saved, err, errsz, "%s: %s", path, strerror (saved));
    }
    /* The rename is durable before the new key is used or announced. */
    snprintf (dir, sizeof dir, "%s", path);
    char *slash = strrchr (dir, '/');
    if (slash)
        *slash = 0;
    int fd = open (slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync (fd) != 0) {
        int saved = errno;
        if (fd >= 0)
            close (fd);
        return im_fail (saved, err, errsz, "%s: %s", dir, strerror (saved));
    }
    close (fd);
    return 0;
}

/* Writes SELF's keys (and the previous CURVE key while it has one) over the
 * key files. */
static int
write_keys (const im_identity_t *self, const char *dir, char *err, size_t errsz)
{
    char secret_path[4096], public_path[4096];
    if (im_dir_path (dir, IM_SECRET_FILE, secret_path, sizeof secret_path)
        || im_dir_path (dir, IM_PUBLIC_FILE, public_path, sizeof public_path))
        return im_fail (EINVAL, err, errsz, "identity: bad directory");
    char sign_hex[2 * crypto_sign_SECRETKEYBYTES + 1], node_hex[IM_NODE_HEX_SIZE];
    char text[1024], prev[256] = "";
    sodium_bin2hex (sign_hex, sizeof sign_hex, self->sign_secret,
                    sizeof self->sign_secret);
    if (*self->prev_secret)
        snprintf (prev, sizeof prev,
                  "#   The CURVE key before the last rotation: it works until the\n"
                  "#   time below (seconds since the epoch), then is forgotten.\n"
                  "previous-curve-secret = \"%s\"\n"
                  "previous-until = %lld\n"
                  "rotated = %lld\n",
                  self->prev_secret, (long long)self->prev_until,
                  (long long)self->rotated);
    snprintf (text, sizeof text,
              "#   intelmesh node secret keys. Never share, print or copy this file\n"
              "#   unencrypted: whoever holds it can sign as this node.\n"
              "sign-secret = \"%s\"\n"
              "curve-secret = \"%s\"\n%s",
              sign_hex, self->curve_secret, prev);
    sodium_memzero (sign_hex, sizeof sign_hex);
    sodium_memzero (prev, sizeof prev);
    int rc = write_replace (secret_path, 0600, text, err, errsz);
    sodium_memzero (text, sizeof text);
    if (rc == 0) {
        im_node_format (self->node, node_hex);
        snprintf (text, sizeof text,
                  "#   intelmesh node public keys (the node id is the signing key).\n"
                  "sign-public = \"%s\"\n"
                  "curve-public = \"%s\"\n",
                  node_hex, self->curve_public);
        rc = write_replace (public_path, 0644, text, err, errsz);
    }
    return rc;
}

int
im_identity_rotate (im_identity_t *self, const char *dir, int64_t now, int64_t grace,
                    char *err, size_t errsz)
{
    if (!self || !dir || grace <= 0 || now <= 0)
        return im_fail (EINVAL, err, errsz, "rotate: bad argument");
    if (*self->prev_public && now < self->prev_until) {
        char until[IM_TIME_STR_SIZE];
        return im_fail (EBUSY, err, errsz,
                        "a rotation is under way: the previous key works until %s; "
                        "rotate again after that",
                        im_time_format (self->prev_until, until));
    }
    im_identity_t next = *self;
    memcpy (next.prev_public, self->curve_public, 41);
    memcpy (next.prev_secret, self->curve_secret, 41);
    next.rotated = now;
    next.prev_until = now + grace;
    int rc = zmq_curve_keypair (next.curve_public, next.curve_secret) == 0
                 ? write_keys (&next, dir, err, errsz)
                 : im_fail (EPROTONOSUPPORT, err, errsz,
                            "identity: libzmq cannot make CURVE keys");
    if (rc == 0)
        *self = next;
    sodium_memzero (&next, sizeof next);
    return rc;
}

int
im_identity_forget_previous (im_identity_t *self, const char *dir, char *err,
                             size_t errsz)
{
    if (!self || !dir)
        return im_fail (EINVAL, err, errsz, "identity: bad argument");
    if (!*self->prev_public)
        return 0;
    im_identity_t next = *self;
    sodium_memzero (next.prev_secret, sizeof next.prev_secret);
    memset (next.prev_public, 0, sizeof next.prev_public);
    next.prev_until = next.rotated = 0;
    int rc = write_keys (&next, dir, err, errsz);
    if (rc == 0)
        *self = next;
    sodium_memzero (&next, sizeof next);
    return rc;
}

int
im_identity_rotation (const im_identity_t *self, uint8_t out[IM_ROTATION_SIZE])
{
    if (!self || !out || !*self->prev_public) {
        errno = EINVAL;
        return -1;
    }
    im_rotation_t r;
    memcpy (r.node, self->node, IM_NODE_ID_SIZE);
    zmq_z85_decode (r.old_curve, self->prev_public);
    zmq_z85_decode (r.new_curve, self->curve_public);
    r.issued = self->rotated;
    r.until = self->prev_until;
    return im_rotation_sign (&r, self->sign_secret, out);
}
