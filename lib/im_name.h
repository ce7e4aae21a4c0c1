/* SPDX-License-Identifier: MPL-2.0 */
/* im_name.h -- the names and endpoints a node's configuration and its card
 * hold: node, peer and policy names, and the tcp:// or ipc:// endpoints. */
#ifndef IM_NAME_H
#define IM_NAME_H

#define IM_NAME_MAX 64
#define IM_ENDPOINT_MAX 256

/* 1 when NAME is a valid node name (letters, digits, '.', '_', '-'; 1..64). */
int im_name_valid (const char *name);

/* 1 when ENDPOINT is a tcp:// or ipc:// endpoint intelmesh can use. */
int im_endpoint_valid (const char *endpoint);

#endif
