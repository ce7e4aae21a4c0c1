# misp_consumers.py -- the MISP-format feed read as MISP's own consumers read
# it, for tests/t57-interop-feed.sh. Each mode subscribes as that tool does and
# makes, on every message, the reads that tool's code makes (same key paths,
# same conversions), recording for each message what failed. None of their
# code is copied; the reads are written from it:
#   dashboard: misp-dashboard (github.com/MISP/misp-dashboard, 3c11250):
#     zmq_subscriber.py subscribes to everything; zmq_dispatcher.py
#     process_log splits "TOPIC JSON" once on a space and calls the handler of
#     the topic (misp_json_self: handler_keepalive; misp_json_attribute:
#     handler_attribute), which read Attribute.object_id (== '0', a string),
#     category, timestamp (float()), Tag[].id/name/colour
#     (helpers/trendings_helper.py addTrendingTags), value, type, EventTag,
#     action, Event.Orgc.name; the live log shows config.cfg.default's
#     fieldname_order (Attribute.timestamp, Event.id, Attribute.Tag, ...).
#   threatbus: Threat Bus's MISP plugin (github.com/tenzir/threatbus, 0eeff55,
#     plugins/apps/threatbus_misp): plugin.py subscribes to
#     misp_json_attribute and splits once on a space; message_mapping.py
#     is_whitelisted needs Event and Attribute, Event.orgc_id and
#     Attribute.type (int(orgc_id) when a filter names orgs);
#     attribute_to_stix2_indicator needs action add|edit|delete, to_ids not
#     None, timestamp (int()), uuid, type, value, and makes the STIX id
#     "indicator--" + uuid.
# Usage: misp_consumers.py dashboard|threatbus ENDPOINT OUTFILE LAST SECONDS
# Writes one JSON line a message: {"topic", "body", "errors": [...], ...}, and
# exits 0 once it has read an attribute whose value is LAST, 1 at the deadline.
import datetime
import json
import sys
import time
import uuid
from collections import OrderedDict

import zmq

# misp-dashboard's config/config.cfg.default, [Dashboard] fieldname_order.
FIELDNAME_ORDER = ["Attribute.timestamp", "Event.id", "Attribute.Tag", "Attribute.category",
                   "Attribute.type", ["Attribute.value", "Attribute.comment"]]


def dashboard_keepalive(jsonevent, rec):
    # zmq_dispatcher.py handler_keepalive
    rec["uptime"] = [jsonevent["uptime"]]


def dashboard_attribute(jsonobj, rec):
    # zmq_dispatcher.py handler_attribute
    if "Attribute" in jsonobj:
        jsonattr = jsonobj["Attribute"]
    else:
        jsonattr = jsonobj
    rec["attributeType"] = "Attribute" if jsonattr["object_id"] == "0" else "ObjectAttribute"
    categ = jsonattr["category"]
    timestamp = jsonattr.get("timestamp", int(time.time()))
    # trendings_helper.py addGenericTrending
    datetime.datetime.fromtimestamp(float(timestamp))
    tags = []
    for tag in jsonattr.get("Tag", []):
        ordDic = OrderedDict()  # trendings_helper.py addTrendingTags
        ordDic["id"] = tag["id"]
        ordDic["name"] = tag["name"]
        ordDic["colour"] = tag["colour"]
        tags.append(ordDic)
    if jsonattr["category"] == "Network activity":
        rec["geo"] = jsonattr["value"]
    if jsonattr["type"] == "phone-number":
        rec["geo"] = jsonattr["value"]
    len(jsonobj.get("EventTag", []))
    rec["action"] = jsonobj.get("action", None)
    rec["org"] = jsonobj["Event"]["Orgc"]["name"]
    rec["categ"] = categ
    # the live log's columns: a missing one shows empty there
    for field in FIELDNAME_ORDER:
        for path in field if isinstance(field, list) else [field]:
            obj = jsonobj
            for key in path.split("."):
                obj = obj[key]


def threatbus_attribute(msg, rec):
    # message_mapping.py is_whitelisted (no filter, then a filter on orgs)
    event = msg.get("Event", None)
    attr = msg.get("Attribute", None)
    if not event or not attr:
        raise ValueError("not whitelisted: no Event or Attribute")
    orgc_id = event.get("orgc_id", None)
    intel_type = attr.get("type", None)
    if not orgc_id or not intel_type:
        raise ValueError("not whitelisted: no Event.orgc_id or Attribute.type")
    int(orgc_id)
    rec["whitelisted"] = True
    # message_mapping.py attribute_to_stix2_indicator
    action = msg.get("action", None)
    rec["action"] = action
    if action not in ["add", "edit", "delete"]:
        # Threat Bus maps only these: a MISP soft-delete is not mapped either.
        rec["mapped"] = "not mapped: action %s" % action
        return
    to_ids = attr.get("to_ids", None)
    misp_ts = attr.get("timestamp", None)
    misp_id = attr.get("uuid", None)
    if to_ids is None or not misp_ts or not misp_id or not intel_type \
            or not attr.get("value", None):
        raise ValueError("incomplete attribute: timestamp, to_ids, uuid, type, value")
    if to_ids is False and action != "edit":
        rec["mapped"] = "not mapped: to_ids false"
        return
    datetime.datetime.fromtimestamp(int(misp_ts))
    # The stix2 library checks the id: an RFC 4122 uuid (the OASIS pattern:
    # versions 1 to 5).
    u = uuid.UUID(misp_id)
    if u.variant != uuid.RFC_4122 or not 1 <= u.version <= 5:
        raise ValueError("indicator--%s is not a STIX 2.1 id" % misp_id)
    rec["mapped"] = "indicator--%s" % misp_id


def main():
    mode, endpoint, outfile, last, seconds = sys.argv[1:6]
    deadline = time.monotonic() + float(seconds)
    context = zmq.Context()
    socket = context.socket(zmq.SUB)
    socket.connect(endpoint)
    if mode == "dashboard":
        socket.setsockopt_string(zmq.SUBSCRIBE, "")
        handlers = {"misp_json_self": dashboard_keepalive,
                    "misp_json_attribute": dashboard_attribute}
    else:
        socket.setsockopt(zmq.SUBSCRIBE, b"misp_json_attribute")
        handlers = {"misp_json_attribute": threatbus_attribute}
    poller = zmq.Poller()
    poller.register(socket, zmq.POLLIN)
    status = 1
    seen_last = False
    # misp-dashboard's subscriber reads keepalives too: it stops once it has
    # read one as well as the last attribute (heartbeats come every second).
    seen_keepalive = mode != "dashboard"
    with open(outfile, "w") as out:
        while status and time.monotonic() < deadline:
            left = max(0, int((deadline - time.monotonic()) * 1000))
            socks = dict(poller.poll(timeout=min(left, 200)))
            if socks.get(socket) != zmq.POLLIN:
                continue
            raw = socket.recv()
            topic, body = raw.decode("utf-8").split(" ", 1)
            rec = {"topic": topic, "errors": []}
            try:
                obj = json.loads(body)
                rec["body"] = obj
                if topic not in handlers:
                    raise KeyError("no handler for topic %s" % topic)
                handlers[topic](obj, rec)
            except Exception as e:  # what the tool would have logged and dropped
                rec["errors"].append("%s: %s" % (type(e).__name__, e))
            out.write(json.dumps(rec) + "\n")
            out.flush()
            attr = rec.get("body", {}).get("Attribute", {}) if topic == "misp_json_attribute" \
                else {}
            if isinstance(attr, dict) and attr.get("value") == last:
                seen_last = True
            if topic == "misp_json_self":
                seen_keepalive = True
            if seen_last and seen_keepalive:
                status = 0
    socket.close(linger=0)
    context.term()
    return status


if __name__ == "__main__":
    sys.exit(main())
