/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_feed.c -- the node's local feed: every accepted change goes out on
 * the PUB socket as JSON under its topic (native or MISP's shape), and a
 * heartbeat says the node is alive (SPEC.md, "The local feed"). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>
#include <sodium.h>

#include "im_node_int.h"

/* --- Publishing -------------------------------------------------------- */

static void
pub_send (node_t *self, zsock_t *sock, const char *topic, json_t *obj)
{
    char *text = json_dumps (obj, JSON_COMPACT);
    if (text) {
        zstr_sendx (sock, topic, text, NULL);
        self->events++;
        free (text);
    }
}

/* MISP's feed is one frame: the topic, a space, the JSON. */
static void
pub_send_misp (node_t *self, zsock_t *sock, const char *topic, json_t *obj)
{
    char *text = json_dumps (obj, JSON_COMPACT);
    if (text) {
        zstr_sendf (sock, "%s %s", topic, text);
        self->events++;
        free (text);
    }
}

/* The name an admin knows an origin by: this node's, a peer's, or NULL. */
const char *
node_origin_name (node_t *self, const uint8_t *origin)
{
    if (memcmp (origin, im_identity_node (self->identity), IM_NODE_ID_SIZE) == 0)
        return self->config.name;
    for (size_t i = 0; i < self->config.npeers; i++)
        if (memcmp (origin, self->config.peers[i].card.node, IM_NODE_ID_SIZE) == 0)
            return self->config.peers[i].card.name;
    return NULL;
}

void
node_pub_record (node_t *self, const im_record_t *rec)
{
    zsock_t *misp = self->config.pub_misp ? self->pub : self->pub_misp;
    if (!self->config.pub_misp) {
        char topic[64];
        snprintf (topic, sizeof topic, "ioc.%s.%s", im_type_name (rec->type),
                  im_tlp_name (rec->tlp));
        json_t *obj = im_record_to_json (rec);
        if (obj) {
            pub_send (self, self->pub, topic, obj);
            json_decref (obj);
        }
    }
    if (misp) {
        json_t *obj = im_misp_attribute (rec, node_origin_name (self, rec->origin));
        if (obj) {
            pub_send_misp (self, misp, "misp_json_attribute", obj);
            json_decref (obj);
        }
    }
}

uint64_t
node_live_total (const im_store_stats_t *st)
{
    uint64_t n = 0;
    for (int t = 0; t < IM_TYPE_COUNT; t++)
        for (int l = 0; l < IM_TLP_COUNT; l++)
            n += st->live[t][l];
    return n;
}

void
node_heartbeat (node_t *self)
{
    im_store_stats_t st;
    char node[IM_NODE_HEX_SIZE], now[IM_TIME_STR_SIZE];
    im_store_stats (self->store, &st);
    im_node_format (im_identity_node (self->identity), node);
    int64_t uptime = im_time_now () - self->started;
    zsock_t *misp = self->config.pub_misp ? self->pub : self->pub_misp;
    if (!self->config.pub_misp) {
        json_t *obj = json_pack (
            "{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "node", node, "name",
            self->config.name, "time", im_time_format (im_time_now (), now), "uptime",
            (json_int_t)uptime, "indicators", (json_int_t)node_live_total (&st),
            "revoked", (json_int_t)st.revoked, "last_seq", (json_int_t)st.last_seq);
        if (obj) {
            pub_send (self, self->pub, "node.heartbeat", obj);
            json_decref (obj);
        }
    }
    if (misp) {
        /* As MISP's feed says it is alive. */
        json_t *obj = json_pack ("{s:s, s:I, s:s}", "status", "intelmesh feed alive",
                                 "uptime", (json_int_t)uptime, "name", self->config.name);
        if (obj) {
            pub_send_misp (self, misp, "misp_json_self", obj);
            json_decref (obj);
        }
    }
}
