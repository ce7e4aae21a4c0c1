# misp_sub.py -- a bounded ZeroMQ subscriber for tests/misp-feed.sh, written
# like MISP's own example (misp/tools/misp-zmq/sub.py): a SUB socket on the
# "misp_json" prefix, one frame "TOPIC JSON" a message. Mode "native" reads
# intelmesh's own feed instead (two frames: topic, JSON).
# Usage: misp_sub.py misp|native ENDPOINT OUTFILE COUNT SECONDS
# Writes one JSON line {"topic":..., "body":...} a message to OUTFILE and
# exits 0 after COUNT messages that are not heartbeats, 1 at the deadline.
# In native mode a message that is not two frames is written with the topic
# "(N frames)" and the start of its first frame, and is not counted.
import json
import sys
import time

import zmq

mode, endpoint, outfile, count, seconds = sys.argv[1:6]
count = int(count)
deadline = time.monotonic() + float(seconds)

context = zmq.Context()
socket = context.socket(zmq.SUB)
socket.connect(endpoint)
if mode == "misp":
    socket.setsockopt(zmq.SUBSCRIBE, b"misp_json")
else:
    socket.setsockopt(zmq.SUBSCRIBE, b"")
poller = zmq.Poller()
poller.register(socket, zmq.POLLIN)

seen = 0
status = 1
with open(outfile, "w") as out:
    while time.monotonic() < deadline:
        left = max(0, int((deadline - time.monotonic()) * 1000))
        socks = dict(poller.poll(timeout=min(left, 200)))
        if socks.get(socket) != zmq.POLLIN:
            continue
        if mode == "misp":
            message = socket.recv()
            topic, _, body = message.decode("utf-8").partition(" ")
        else:
            frames = socket.recv_multipart()
            if len(frames) != 2:
                # Not intelmesh's format: noted, not counted.
                text = frames[0][:80].decode("utf-8", "replace")
                out.write(json.dumps({"topic": "(%d frames)" % len(frames), "body": text}) + "\n")
                out.flush()
                continue
            topic, body = frames[0].decode("utf-8"), frames[1].decode("utf-8")
        out.write(json.dumps({"topic": topic, "body": json.loads(body)}) + "\n")
        out.flush()
        if topic not in ("misp_json_self", "node.heartbeat"):
            seen += 1
            if seen >= count:
                status = 0
                break
socket.close(linger=0)
context.term()
sys.exit(status)
