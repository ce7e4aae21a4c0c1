/* SPDX-License-Identifier: MPL-2.0 */
/* im_client.h -- the CLI's side of the control socket: one request, one
 * JSON reply, bounded waits, and a clear word when the daemon is not there. */
#ifndef IM_CLIENT_H
#define IM_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "im_ctl.h"

typedef struct _im_client_t im_client_t;

/* Connects to the daemon running on DIR. Returns NULL with errno ECONNREFUSED
 * and "intelmeshd is not running on DIR ..." in ERR when none runs. */
im_client_t *im_client_new (const char *dir, char *err, size_t errsz);

/* NULL-safe; sets *SELF_P to NULL; preserves errno. */
void im_client_destroy (im_client_t **self_p);

/* Sends COMMAND with BODY (borrowed) and waits for the reply, at most
 * TIMEOUT_MS (and less if the daemon goes away meanwhile). Returns the reply
 * object, or NULL with errno (EPROTO: the daemon refused, ETIMEDOUT, EPIPE:
 * the daemon stopped) and the reason in ERR. */
json_t *im_client_call (im_client_t *self, im_ctl_cmd_t command, json_t *body,
                        int timeout_ms, char *err, size_t errsz);

/* The same in two steps, so that several requests can be on their way (the
 * daemon answers them in order): im_client_send sends COMMAND with the JSON
 * object already written in TEXT (LEN bytes) and returns 0, or -1 with errno
 * and the reason in ERR; im_client_recv waits for the next reply, as
 * im_client_call does. */
int im_client_send (im_client_t *self, im_ctl_cmd_t command, const char *text, size_t len,
                    char *err, size_t errsz);
json_t *im_client_recv (im_client_t *self, int timeout_ms, char *err, size_t errsz);

#endif
