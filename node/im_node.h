/* SPDX-License-Identifier: MPL-2.0 */
/* im_node.h -- the node actor: owns the store, the control socket and the
 * local PUB feed, and turns control requests into signed, stored, published
 * indicators. */
#ifndef IM_NODE_H
#define IM_NODE_H

#include <czmq.h>

#include "im_ctl.h" /* the control protocol it serves */

/* The actor. ARGS is the data directory (an absolute path, const char *).
 * After zactor_new, send "START" and read one string: "OK", or the reason
 * the node could not start. Stops on "$TERM". */
void im_node_actor (zsock_t *pipe, void *args);

#endif
