/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_control.c -- control requests read off the node's main thread: a
 * czmq actor (the reader) decodes each request's JSON and splits a PUBLISH's
 * items while the node answers the request before it; requests are answered
 * one at a time, in the order they came (SPEC.md, "Transport"). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <czmq.h>
#include <jansson.h>

#include "im_node_int.h"

/* Splits the items of REQ, a PUBLISH whose "items" is an array of 1 to
 * IM_CONTROL_BATCH_MAX entries (else, or without memory, they are left to
 * node_handle_publish, which refuses or splits them itself). */
static void
split_items (node_request_t *req)
{
    json_t *items = json_object_get (req->body, "items");
    size_t n = json_array_size (items);
    if (n == 0 || n > IM_CONTROL_BATCH_MAX
        || !(req->items = calloc (n, sizeof *req->items)))
        return;
    req->nitems = n;
    for (size_t i = 0; i < n; i++) {
        char why[512];
        node_item_t *it = &req->items[i];
        it->content
            = im_ctl_item_split (json_array_get (items, i), &it->own, why, sizeof why);
        if (!it->content && !(it->why = strdup (why)))
            it->why_oom = 1;
    }
}

static void
request_free (node_request_t **req_p)
{
    node_request_t *req = *req_p;
    if (!req)
        return;
    for (size_t i = 0; i < req->nitems; i++) {
        json_decref (req->items[i].content);
        free (req->items[i].why);
    }
    free (req->items);
    json_decref (req->body);
    zmsg_destroy (&req->msg);
    zframe_destroy (&req->routing);
    free (req);
    *req_p = NULL;
}

/* The reader: READ decodes a request and sends it back; FREE frees one (its
 * JSON is freed here too, off the main thread). */
static void
reader_actor (zsock_t *pipe, void *args)
{
    (void)args;
    zsock_signal (pipe, 0);
    for (;;) {
        char *command = NULL;
        node_request_t *req = NULL;
        if (zsock_recv (pipe, "sp", &command, &req) != 0 || !command
            || streq (command, "$TERM")) {
            zstr_free (&command);
            break;
        }
        if (streq (command, "READ") && req) {
            req->rc = im_ctl_request_decode (req->msg, &req->cmd, &req->body, req->shown,
                                             req->err, sizeof req->err);
            zmsg_destroy (&req->msg);
            if (req->rc == 0 && req->cmd == IM_CTL_PUBLISH)
                split_items (req);
            zsock_send (pipe, "p", req);
        }
        else if (streq (command, "FREE"))
            request_free (&req);
        zstr_free (&command);
    }
}

int
node_control_start (node_t *self, char *err, size_t errsz)
{
    self->reader = zactor_new (reader_actor, NULL);
    if (!self->reader) {
        snprintf (err, errsz, "cannot start the control reader: %s", strerror (errno));
        return -1;
    }
    return 0;
}

void
node_control_stop (node_t *self)
{
    /* Nothing is queued between turns: node_control_next empties the queue. */
    zactor_destroy (&self->reader);
}

/* Takes a request waiting on the control socket, if any, to the reader.
 * Returns 1 when one was taken, else 0. */
static int
take_one (node_t *self)
{
    if (self->queued == NODE_READ_AHEAD || !(zsock_events (self->control) & ZMQ_POLLIN))
        return 0;
    zmsg_t *msg = zmsg_recv (self->control);
    if (!msg)
        return 0;
    node_request_t *req = calloc (1, sizeof *req);
    if (!req) {
        zsys_error ("control: out of memory: a request is dropped unanswered");
        zmsg_destroy (&msg);
        return 1;
    }
    req->routing = zmsg_pop (msg);
    req->msg = msg;
    if (zsock_send (self->reader, "sp", "READ", req) != 0) {
        zsys_error ("control: the reader took no request: it is dropped unanswered");
        request_free (&req);
        return 1;
    }
    self->queue[(self->qhead + self->queued++) % NODE_READ_AHEAD] = req;
    return 1;
}

node_request_t *
node_control_next (node_t *self, size_t *budget)
{
    while (*budget > 0 && take_one (self))
        (*budget)--;
    if (self->queued == 0)
        return NULL;
    node_request_t *head = self->queue[self->qhead];
    /* The reader answers in order: the next it sends back is the head. Its
     * wait is bounded by the request's size (IM_CONTROL_MSG_MAX). */
    while (!head->read) {
        node_request_t *req = NULL;
        if (zsock_recv (self->reader, "p", &req) != 0 || !req) {
            zsys_error ("control: the reader is gone: stopping");
            self->terminated = 1;
            return NULL;
        }
        req->read = 1;
    }
    self->qhead = (self->qhead + 1) % NODE_READ_AHEAD;
    self->queued--;
    return head;
}

void
node_control_done (node_t *self, node_request_t **req_p)
{
    node_request_t *req = *req_p;
    *req_p = NULL;
    zframe_destroy (&req->routing);
    if (zsock_send (self->reader, "sp", "FREE", req) != 0)
        request_free (&req);
}
