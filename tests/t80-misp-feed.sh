#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t80-misp-feed.sh -- the MISP-shaped PUB feed: a second endpoint beside the
# native one (pub/misp-endpoint) and the main endpoint in MISP's format
# (pub/format = misp), read by a subscriber written like MISP's own example;
# add, edit and delete in order, the attribute and event fields MISP's tools
# read, heartbeats, the native feed beside it, and a bad pub/format refused
# at start. TAP output.
. "$(dirname "$0")/lib.sh"
S=$(dirname "$TESTS_SRCDIR")
if ! "$PYTHON3" -c 'import zmq' >/dev/null 2>&1; then
    echo "1..0 # SKIP python3-zmq not installed"
    exit 0
fi
SUB="$S/tests/data/cli/misp_sub.py"

# sub MODE ENDPOINT OUT COUNT SECONDS: a bounded subscriber in the background
# (see tests/data/cli/misp_sub.py); sets SUB_PID.
sub () {
    "$PYTHON3" "$SUB" "$@" 2>>"$T/sub.err" &
    SUB_PID=$!
    PIDS="$PIDS $SUB_PID"
}
# sub_done PID: the subscriber exits (20 s at most) with status 0.
sub_done () {
    wait_gone "$1" 200 || return 1
    wait "$1"
}
# pycheck FILE EXPR: EXPR, a Python expression over the messages FILE holds
# (att: the misp_json_attribute bodies in order, hb: the misp_json_self ones,
# nat: [topic, body] of native ones, env: the environment), is true.
pycheck () {
    "$PYTHON3" - "$1" "$2" <<'EOF'
import json, os, re, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
att = [l["body"] for l in lines if l["topic"] == "misp_json_attribute"]
hb = [l["body"] for l in lines if l["topic"] == "misp_json_self"]
nat = [(l["topic"], l["body"]) for l in lines if not l["topic"].startswith("misp_json")]
env = os.environ
uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
tags = lambda a: [t["name"] for t in a["Attribute"]["Tag"]]
try:
    good = eval("(" + sys.argv[2] + "\n)")
except Exception as e:
    print("# %s: %r" % (sys.argv[2][:60], e))
    good = False
sys.exit(0 if good else 1)
EOF
}
has_line () { grep -q "$2" "$1"; }
# oscar_start: runs intelmeshd on oscar, which is to refuse its configuration
# and exit (10 s at most); returns its exit status (137: it had to be killed).
oscar_start () {
    "$INTELMESHD" -d "$T/oscar" --foreground >"$T/oscar.out" 2>&1 &
    pid_oscar=$!
    PIDS="$PIDS $pid_oscar"
    wait_gone "$pid_oscar" 100 || kill -KILL "$pid_oscar" 2>/dev/null
    wait "$pid_oscar"
}

block nodes 'mike with a MISP endpoint beside the native one, november in MISP format'
b_nodes () {
    new_node mike && new_node november && new_node oscar
    ok $? "three nodes are initialised"
    sed -i "s#^    heartbeat = 1\$#&\n    misp-endpoint = \"ipc://$T/mike/misp.sock\"#" "$T/mike/intelmesh.conf"
    grep -q "^    misp-endpoint = \"ipc://$T/mike/misp.sock\"$" "$T/mike/intelmesh.conf"
    ok $? "mike gets a second, MISP-format endpoint in its pub section"
    sed -i 's#^    heartbeat = 1$#&\n    format = misp#' "$T/november/intelmesh.conf"
    grep -q '^    format = misp$' "$T/november/intelmesh.conf"
    ok $? "november's main endpoint is set to pub/format = misp"
    start_node mike; ok $? "mike starts"; pid_mike=$NODE_PID
    start_node november; ok $? "november starts"; pid_november=$NODE_PID
}

# --- mike: the MISP feed and the native feed at once ------------------------------
block mike 'the MISP feed and the native feed at once' nodes
b_mike () {
    sub misp "ipc://$T/mike/misp.sock" "$T/mike.misp" 6 30; sub_m=$SUB_PID
    sub native "ipc://$T/mike/pub.sock" "$T/mike.native" 6 30; sub_n=$SUB_PID
    wait_for 100 has_line "$T/mike.misp" '"topic": "misp_json_self"'
    ok $? "a MISP-style subscriber on mike's misp-endpoint gets a misp_json_self heartbeat"
    wait_for 100 has_line "$T/mike.native" '"topic": "node.heartbeat"'
    ok $? "a subscriber on mike's native endpoint gets node.heartbeat"
    id=$(im mike publish ipv4 192.0.2.10 --tag c2 --reach 1 --description "first sighting")
    ok $? "mike publishes ipv4 192.0.2.10"
    im mike publish ipv4 192.0.2.10 --tag c2 --tag moved --reach 1 --description "moved" \
        >/dev/null 2>&1
    ok $? "mike updates it"
    im mike revoke "$id" >/dev/null
    ok $? "mike revokes it"
    id_d=$(im mike publish domain feed.example --tlp amber) \
        && id_h=$(im mike publish md5 d41d8cd98f00b204e9800998ecf8427e) \
        && id_6=$(im mike publish ipv6 2001:db8::10 --tlp clear)
    ok $? "mike publishes a domain, an MD5 and an IPv6 address"
    sub_done "$sub_m"
    ok $? "the MISP subscriber got 6 attribute messages and exits by itself"
    sub_done "$sub_n"
    ok $? "the native subscriber got 6 indicator messages and exits by itself"

    export ID="$id"
    F="$T/mike.misp"
    pycheck "$F" 'len(att) == 6 and len({a["Attribute"]["uuid"] for a in att[:3]}) == 1
                  and uuid.match(att[0]["Attribute"]["uuid"]) and att[0]["Attribute"]["uuid"] != env["ID"]'
    ok $? "the first three attribute messages are the indicator's: one uuid, exported (not its v7 id)"
    pycheck "$F" '[a["action"] for a in att[:3]] == ["add", "edit", "soft-delete"]'
    ok $? "their actions are add, edit, soft-delete in that order"
    pycheck "$F" 'all(a["Attribute"]["type"] == "ip-dst" and a["Attribute"]["value"] == "192.0.2.10"
                      and a["Attribute"]["category"] == "Network activity" for a in att[:3])'
    ok $? "Attribute.type ip-dst, value 192.0.2.10, category Network activity"
    pycheck "$F" '[a["Attribute"]["to_ids"] for a in att[:3]] == [True, True, False]
                  and [a["Attribute"]["deleted"] for a in att[:3]] == [False, False, True]'
    ok $? "to_ids is true while live and false once deleted; deleted only on soft-delete"
    pycheck "$F" 'all(a["Attribute"]["distribution"] == "1" for a in att[:3])'
    ok $? "reach 1 is distribution 1"
    pycheck "$F" 'all("tlp:green" in tags(a) for a in att[:3]) and "tlp:green" not in tags(att[3])'
    ok $? "the indicator's messages carry the tag tlp:green (and the AMBER domain's does not)"
    pycheck "$F" '"c2" in tags(att[0]) and "moved" in tags(att[1])
                  and att[0]["Attribute"]["comment"] == "first sighting"
                  and att[1]["Attribute"]["comment"] == "moved"'
    ok $? "the add carries the tags and comment, the edit the new ones"
    pycheck "$F" 'len({a["Event"]["uuid"] for a in att}) == 1 and uuid.match(att[0]["Event"]["uuid"])
                  and att[0]["Event"]["uuid"] != env["ID"]'
    ok $? "Event.uuid is one UUID for every message of this origin"
    pycheck "$F" 'all(a["Event"]["Orgc"]["name"] == "mike" and "mike" in a["Event"]["info"]
                      for a in att)'
    ok $? "Event.Orgc.name is the node's name and Event.info names it"
    pycheck "$F" '[(a["Attribute"]["value"], a["Attribute"]["type"], a["action"]) for a in att[3:]]
                  == [("feed.example", "domain", "add"),
                      ("d41d8cd98f00b204e9800998ecf8427e", "md5", "add"),
                      ("2001:db8::10", "ip-dst", "add")]
                  and len({a["Attribute"]["uuid"] for a in att}) == 4'
    ok $? "a domain is type domain, an MD5 md5, an IPv6 address ip-dst"
    pycheck "$F" 'att[4]["Attribute"]["category"] == "Payload delivery"
                  and "tlp:amber" in tags(att[3]) and "tlp:clear" in tags(att[5])'
    ok $? "a hash is in category Payload delivery; tlp:amber and tlp:clear tags follow the labels"
    pycheck "$F" 'len(hb) >= 1 and all(h["name"] == "mike" and isinstance(h["uptime"], int)
                                       for h in hb)'
    ok $? "misp_json_self heartbeats name the node and give its uptime"

    N="$T/mike.native"
    pycheck "$N" '[t for t, b in nat if t.startswith("ioc.")] == ["ioc.ipv4.green"] * 3
                  + ["ioc.domain.amber", "ioc.md5.green", "ioc.ipv6.clear"]'
    ok $? "the native feed still carries every change, topics ioc.TYPE.TLP"
    pycheck "$N" '[b["id"] for t, b in nat if t.startswith("ioc.")][:3] == [env["ID"]] * 3
                  and [b["op"] for t, b in nat if t.startswith("ioc.")][:3] == ["put", "put", "revoke"]'
    ok $? "the native messages are the records (id, op put, put, revoke)"
    ! grep -q '"topic": "(' "$N" && ! grep -q misp_json "$N"
    ok $? "the native feed carries no MISP-format message"
}

# --- november: pub/format = misp on the main endpoint ---------------------------------
block november 'pub/format = misp on the main endpoint' nodes
b_november () {
    sub misp "ipc://$T/november/pub.sock" "$T/november.misp" 1 30; sub_v=$SUB_PID
    wait_for 100 has_line "$T/november.misp" '"topic": "misp_json_self"'
    ok $? "a MISP-style subscriber on november's main endpoint gets a misp_json_self heartbeat"
    id_v=$(im november publish sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 \
        --tlp amber --tag empty)
    ok $? "november publishes a SHA-256"
    sub_done "$sub_v"
    ok $? "the subscriber gets it and exits by itself"
    pycheck "$T/november.misp" 'len(att) == 1
        and att[0]["Attribute"]["value"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        and att[0]["Attribute"]["type"] == "sha256" and att[0]["action"] == "add"
        and att[0]["Attribute"]["category"] == "Payload delivery"
        and "tlp:amber" in tags(att[0]) and "empty" in tags(att[0])
        and att[0]["Event"]["Orgc"]["name"] == "november"'
    ok $? "it is a misp_json_attribute: sha256, add, Payload delivery, tlp:amber, Orgc november"
    sub native "ipc://$T/november/pub.sock" "$T/november.native" 1 4; sub_w=$SUB_PID
    wait_for 100 has_line "$T/november.native" '"topic": "(1 frames)", "body": "misp_json_self '
    ok $? "a native subscriber on november's main endpoint sees one-frame misp_json_self messages"
    im november publish domain november.example >/dev/null
    sub_done "$sub_w"
    ok $((1 - $?)) "november sends no native (two-frame) message: the subscriber runs to its deadline"
    has_line "$T/november.native" '"body": "misp_json_attribute {' \
        && ! grep -q '"topic": "ioc\.\|"topic": "node\.heartbeat"' "$T/november.native"
    ok $? "what it got for the new domain was a one-frame misp_json_attribute"
    im november tail --count 1 --timeout 10 misp_json_attribute >"$T/november.tail" 2>&1 &
    tail_pid=$!
    # Published until tail has subscribed and seen one (a SUB joins late).
    i=0
    while [ "$i" -lt 30 ] && kill -0 "$tail_pid" 2>/dev/null; do
        im november publish domain "tail$i.example" >/dev/null
        sleep 0.2
        i=$((i + 1))
    done
    wait_gone "$tail_pid" 100
    grep -q '"topic":"misp_json_attribute","data":{"Attribute":{.*"value":"tail[0-9]*.example"' \
        "$T/november.tail"
    ok $? "intelmesh tail reads the MISP format too: topic and JSON split apart"
}

# --- A bad pub/format is refused at start ------------------------------------------------
block bad_format 'a bad pub/format is refused at start' nodes
b_bad_format () {
    sed -i 's#^    heartbeat = 1$#&\n    format = xml#' "$T/oscar/intelmesh.conf"
    line=$(grep -n '^    format = xml$' "$T/oscar/intelmesh.conf" | cut -d: -f1)
    oscar_start
    rc=$?
    [ "$rc" -ne 0 ] && [ "$rc" -ne 127 ]
    ok $? "intelmeshd refuses to start with pub/format = xml"
    grep -q "intelmesh.conf:$line: pub/format 'xml' is not intelmesh or misp" "$T/oscar.out"
    ok $? "its message names the line ($line) and the setting"
    [ ! -S "$T/oscar/pub.sock" ] && ! im oscar status >/dev/null 2>&1
    ok $? "nothing of oscar runs"
    sed -i "s#^    format = xml\$#    misp-endpoint = \"ipc://$T/oscar/pub.sock\"#" "$T/oscar/intelmesh.conf"
    oscar_start
    rc=$?
    [ "$rc" -ne 0 ] && [ "$rc" -ne 127 ] \
        && grep -q "intelmesh.conf:$line: pub/misp-endpoint .* is pub/endpoint too" "$T/oscar.out"
    ok $? "a misp-endpoint equal to pub/endpoint is refused at its line too"
}

block stop 'the nodes stop cleanly' nodes
b_stop () {
    stop_node "$pid_mike"
    ok $? "mike stops cleanly"
    stop_node "$pid_november"
    ok $? "november stops cleanly"
}

run_blocks "$@"
