/* SPDX-License-Identifier: MPL-2.0 */
/* im_client.c -- control socket client: a DEALER on ipc://DIR/control.sock.
 * Waits are sliced so that a daemon that dies mid-request is noticed at once
 * rather than after the whole timeout. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "im_client.h"
#include "im_config.h"
#include "im_ctl.h"
#include "im_util.h"

struct _im_client_t {
    zsock_t *sock;
    char *dir;
};

im_client_t *
im_client_new (const char *dir, char *err, size_t errsz)
{
    /* A socket or directory this user may not use is not a daemon that is
     * not running. */
    if (im_dir_usable (dir, NULL, X_OK, err, errsz)
        || (im_dir_usable (dir, IM_PID_FILE, R_OK, err, errsz) && errno == EACCES)
        || (im_dir_usable (dir, IM_CONTROL_FILE, R_OK | W_OK, err, errsz)
            && errno == EACCES))
        return NULL;
    if (im_pidfile_holder (dir) == 0) {
        im_fail (ECONNREFUSED, err, errsz,
                 "intelmeshd is not running on %s (start it with 'intelmeshd -d %s')",
                 dir, dir);
        return NULL;
    }
    im_client_t *self = calloc (1, sizeof *self);
    if (!self || !(self->dir = strdup (dir))) {
        free (self);
        im_fail (ENOMEM, err, errsz, "out of memory");
        return NULL;
    }
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock
        || zsock_connect (self->sock, "ipc://%s/%s", dir, IM_CONTROL_FILE) != 0) {
        im_fail (ECONNREFUSED, err, errsz, "cannot connect to intelmeshd on %s: %s", dir,
                 zmq_strerror (zmq_errno ()));
        im_client_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->sock, 0);
    zsock_set_maxmsgsize (self->sock, IM_CONTROL_REPLY_MAX);
    return self;
}

void
im_client_destroy (im_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    int saved = errno;
    zsock_destroy (&(*self_p)->sock);
    free ((*self_p)->dir);
    free (*self_p);
    *self_p = NULL;
    errno = saved;
}

/* Sends REQUEST (taken); a NULL one could not be encoded. */
static int
send_request (im_client_t *self, im_ctl_cmd_t command, zmsg_t *request, char *err,
              size_t errsz)
{
    if (!request)
        return im_fail (errno, err, errsz, "cannot encode the %s request: %s",
                        im_ctl_name (command) ? im_ctl_name (command) : "unknown",
                        strerror (errno));
    if (zmsg_send (&request, self->sock) != 0) {
        zmsg_destroy (&request);
        return im_fail (EPIPE, err, errsz, "cannot send to intelmeshd: %s",
                        zmq_strerror (zmq_errno ()));
    }
    return 0;
}

json_t *
im_client_call (im_client_t *self, im_ctl_cmd_t command, json_t *body, int timeout_ms,
                char *err, size_t errsz)
{
    if (send_request (self, command, im_ctl_request_encode (command, body), err, errsz))
        return NULL;
    return im_client_recv (self, timeout_ms, err, errsz);
}

int
im_client_send (im_client_t *self, im_ctl_cmd_t command, const char *text, size_t len,
                char *err, size_t errsz)
{
    return send_request (self, command, im_ctl_request_text (command, text, len), err,
                         errsz);
}

json_t *
im_client_recv (im_client_t *self, int timeout_ms, char *err, size_t errsz)
{
    zpoller_t *poller = zpoller_new (self->sock, NULL);
    int64_t deadline = zclock_mono () + timeout_ms;
    zsock_t *which = NULL;
    while (!which) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0) {
            im_fail (ETIMEDOUT, err, errsz, "intelmeshd did not answer within %d s",
                     timeout_ms / 1000);
            break;
        }
        which = zpoller_wait (poller, left > 250 ? 250 : (int)left);
        if (!which && zpoller_terminated (poller)) {
            im_fail (EINTR, err, errsz, "interrupted");
            break;
        }
        if (!which && im_pidfile_holder (self->dir) == 0) {
            im_fail (EPIPE, err, errsz, "intelmeshd stopped before it answered");
            break;
        }
    }
    zpoller_destroy (&poller);
    if (!which)
        return NULL;
    zmsg_t *msg = zmsg_recv (self->sock);
    json_t *reply = NULL;
    int rc = im_ctl_reply_decode (msg, &reply, err, errsz);
    zmsg_destroy (&msg);
    return rc == 0 ? reply : NULL;
}
