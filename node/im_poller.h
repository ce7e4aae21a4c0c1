/* SPDX-License-Identifier: MPL-2.0 */
/* im_poller.h -- the node's poller: zpoller's at about half its system
 * calls, which on a virtual machine cost microseconds each, and fair: the
 * readers are taken in turn (see im_poller.c). */
#ifndef IM_POLLER_H
#define IM_POLLER_H

#include <czmq.h>
#include <stdbool.h>

/* Readers at once: a dealer a peer (IM_PEERS_MAX) and a few. */
#define IM_POLLER_MAX 256

typedef struct _im_poller_t im_poller_t;

/* A poller of READER and the readers after it, up to a NULL: zsock_t or
 * zactor_t instances, or pointers to a file descriptor (kept by the caller
 * while it is polled). NULL with errno set (EINVAL, ENOMEM, ENFILE beyond
 * IM_POLLER_MAX). */
im_poller_t *im_poller_new (void *reader, ...);
void im_poller_destroy (im_poller_t **self_p);

/* 0, or -1 with errno: EINVAL (NULL), EEXIST (added already), ENFILE
 * (IM_POLLER_MAX readers). */
int im_poller_add (im_poller_t *self, void *reader);
/* 0, or -1 with errno: EINVAL, ENOENT (not added). */
int im_poller_remove (im_poller_t *self, void *reader);

/* The next reader with a message (or, for a file descriptor, something) to
 * read, in the order added from the one after the reader it returned last
 * (round robin: one that always has messages keeps no other waiting),
 * waiting up to TIMEOUT ms (-1: no limit);
 * NULL when none came in time (im_poller_expired) or when the process was
 * interrupted (czmq's zsys_interrupted) or the wait failed
 * (im_poller_terminated). A signal that leaves zsys_interrupted unset
 * (SIGHUP) does not end the wait, as it ended zpoller's. */
void *im_poller_wait (im_poller_t *self, int timeout);
bool im_poller_expired (im_poller_t *self);
bool im_poller_terminated (im_poller_t *self);

#endif
