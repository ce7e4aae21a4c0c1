/* SPDX-License-Identifier: MPL-2.0 */
/* im_poller.c -- the node's poller. zpoller_wait asks every socket for its
 * events (ZMQ_EVENTS: a getpid and a poll of one descriptor each, inside
 * libzmq), polls, and after the wait asks every socket again: with nine
 * sockets, about forty system calls a turn, at a microsecond or more each
 * on a virtual machine. This poller asks each socket once before waiting,
 * and after the wait only those whose descriptor signalled; and it takes
 * the readers in turn, where zpoller always looked at the first one first. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>

#include "im_poller.h"

struct _im_poller_t {
    void *readers[IM_POLLER_MAX];
    void *handles[IM_POLLER_MAX]; /* its libzmq socket; NULL: a descriptor */
    struct pollfd fds[IM_POLLER_MAX];
    size_t n;
    size_t next; /* where the next wait starts looking: after the last returned */
    bool expired;
    bool terminated;
};

im_poller_t *
im_poller_new (void *reader, ...)
{
    im_poller_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    va_list ap;
    va_start (ap, reader);
    for (void *r = reader; r; r = va_arg (ap, void *))
        if (im_poller_add (self, r) != 0) {
            int saved = errno;
            va_end (ap);
            free (self);
            errno = saved;
            return NULL;
        }
    va_end (ap);
    return self;
}

void
im_poller_destroy (im_poller_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

static ssize_t
find (const im_poller_t *self, const void *reader)
{
    for (size_t i = 0; i < self->n; i++)
        if (self->readers[i] == reader)
            return (ssize_t)i;
    return -1;
}

int
im_poller_add (im_poller_t *self, void *reader)
{
    if (!self || !reader) {
        errno = EINVAL;
        return -1;
    }
    if (find (self, reader) >= 0) {
        errno = EEXIST;
        return -1;
    }
    if (self->n == IM_POLLER_MAX) {
        errno = ENFILE;
        return -1;
    }
    void *handle = NULL;
    int fd = -1;
    if (zsock_is (reader) || zactor_is (reader)) {
        handle = zsock_resolve (reader);
        size_t size = sizeof fd;
        if (!handle || zmq_getsockopt (handle, ZMQ_FD, &fd, &size) != 0) {
            errno = EINVAL;
            return -1;
        }
    }
    size_t i = self->n++;
    self->readers[i] = reader;
    self->handles[i] = handle;
    self->fds[i] = (struct pollfd){ .fd = fd, .events = POLLIN };
    return 0;
}

int
im_poller_remove (im_poller_t *self, void *reader)
{
    if (!self || !reader) {
        errno = EINVAL;
        return -1;
    }
    ssize_t at = find (self, reader);
    if (at < 0) {
        errno = ENOENT;
        return -1;
    }
    for (size_t i = (size_t)at; i + 1 < self->n; i++) {
        self->readers[i] = self->readers[i + 1];
        self->handles[i] = self->handles[i + 1];
        self->fds[i] = self->fds[i + 1];
    }
    self->n--;
    if ((size_t)at < self->next)
        self->next--; /* the same reader next */
    if (self->next >= self->n)
        self->next = 0;
    return 0;
}

/* Whether a message waits on socket HANDLE (this takes its descriptor's
 * signal, if it had one). */
static int
readable (void *handle)
{
    int events = 0;
    size_t size = sizeof events;
    return zmq_getsockopt (handle, ZMQ_EVENTS, &events, &size) == 0
           && (events & ZMQ_POLLIN);
}

/* Reader I, returned: the next wait looks first at the one after it, so
 * that no reader with messages all the time keeps the others waiting. */
static void *
took (im_poller_t *self, size_t i)
{
    self->next = (i + 1) % self->n;
    return self->readers[i];
}

void *
im_poller_wait (im_poller_t *self, int timeout)
{
    if (!self) {
        errno = EINVAL;
        return NULL;
    }
    self->expired = false;
    self->terminated = false;
    if (zsys_interrupted) {
        self->terminated = true;
        return NULL;
    }
    /* A socket's descriptor signals commands, edge-triggered: a message can
     * wait on a socket whose signal a send or receive on it took since. So
     * every socket is asked first (descriptors are looked at by the poll
     * below, so come after any socket ready). */
    for (size_t k = 0; k < self->n; k++) {
        size_t i = (self->next + k) % self->n;
        if (self->handles[i] && readable (self->handles[i]))
            return took (self, i);
    }
    int64_t end = timeout < 0 ? -1 : zclock_mono () + timeout;
    for (;;) {
        for (size_t i = 0; i < self->n; i++) {
            if (!self->handles[i])
                self->fds[i].fd = *(int *)self->readers[i]; /* it may change */
            self->fds[i].revents = 0;
        }
        int64_t left = end < 0 ? -1 : end - zclock_mono ();
        int rc = poll (self->fds, self->n, left < 0 && end >= 0 ? 0 : (int)left);
        if (rc < 0 && errno == EINTR && !zsys_interrupted)
            continue; /* a signal not meant to stop us (zpoller stopped) */
        if (rc < 0 || zsys_interrupted) {
            self->terminated = true; /* interrupted, or the wait failed */
            return NULL;
        }
        if (rc == 0) {
            self->expired = true;
            return NULL;
        }
        /* Only a socket that signalled can have changed while we waited. A
         * descriptor in error, and not readable, ends the wait as it ends
         * zpoller's: neither expired nor terminated. */
        for (size_t k = 0; k < self->n; k++) {
            size_t i = (self->next + k) % self->n;
            if (!self->fds[i].revents)
                continue;
            if (!self->handles[i])
                return self->fds[i].revents & POLLIN ? took (self, i) : NULL;
            if (readable (self->handles[i]))
                return took (self, i);
        }
        /* Commands only (a connection, a pipe's credit): wait on. */
        if (end >= 0 && zclock_mono () >= end) {
            self->expired = true;
            return NULL;
        }
    }
}

bool
im_poller_expired (im_poller_t *self)
{
    return self && self->expired;
}

bool
im_poller_terminated (im_poller_t *self)
{
    return self && self->terminated;
}
