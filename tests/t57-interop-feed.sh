#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t57-interop-feed.sh -- the MISP-format feed read by MISP's own consumers:
# subscribers that read each message as misp-dashboard's dispatcher and Threat
# Bus's MISP plugin do (tests/data/cli/misp_consumers.py, which names the
# code), every field of MISP's fetchAttribute with MISP's JSON types, uuids
# of RFC 4122 versions 1-5, MISP-style numeric ids, MISP's tag colours, and a
# revocation sent as MISP sends a deleted attribute (soft-delete). TAP output.
. "$(dirname "$0")/lib.sh"
S=$(dirname "$TESTS_SRCDIR")
if ! "$PYTHON3" -c 'import zmq' >/dev/null 2>&1; then
    echo "1..0 # SKIP python3-zmq not installed"
    exit 0
fi
CONSUMERS="$S/tests/data/cli/misp_consumers.py"
# intelmesh's namespace for version 5 ids (proto/im_record.h, IM_ID_NAMESPACE).
export NS=886b1082-fbfd-53ad-b4ef-acc0ce9851a4

# consumer MODE OUT: a consumer in the background until it reads the
# attribute last.example (60 s at most); sets SUB_PID.
consumer () {
    "$PYTHON3" "$CONSUMERS" "$1" "ipc://$T/papa/misp.sock" "$2" last.example 60 \
        2>>"$T/consumer.err" &
    SUB_PID=$!
    PIDS="$PIDS $SUB_PID"
}
# consumer_done PID: it exits (60 s at most) with status 0.
consumer_done () {
    wait_gone "$1" 600 || return 1
    wait "$1"
}
has_attribute () { grep -qs '"topic": "misp_json_attribute"' "$1"; }
# pycheck FILE EXPR: EXPR, a Python expression, holds over the lines of FILE
# (msgs: every line; att: the bodies of misp_json_attribute lines; by(VALUE):
# those whose Attribute.value is VALUE; env: the environment). A false EXPR
# prints what failed when it set `why`.
pycheck () {
    "$PYTHON3" - "$1" "$2" <<'EOF'
import json, os, re, sys, uuid
msgs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
att = [m["body"] for m in msgs if m["topic"] == "misp_json_attribute" and "body" in m]
by = lambda v: [a for a in att if a.get("Attribute", {}).get("value") == v]
env = os.environ
NS = uuid.UUID(env["NS"])
why = []
def v15(s):
    try:
        u = uuid.UUID(s)
    except (TypeError, ValueError, AttributeError):
        return False
    return str(u) == s and u.variant == uuid.RFC_4122 and 1 <= u.version <= 5
def number(s):
    return isinstance(s, str) and re.fullmatch(r"[1-9][0-9]{0,9}", s) is not None \
        and int(s) <= 2**31 - 1
def get(o, path):
    for k in path.split("."):
        o = o[k]
    return o
# Every key of MISP's fetchAttribute (app/Model/MispAttribute.php) with the
# JSON type MISP sends (PyMISP's schema.json: ids, timestamps, distribution
# as strings; to_ids, deleted, published as booleans).
S, B, N, L, O = str, bool, type(None), list, dict
FIELDS = [("Attribute.id", S), ("Attribute.event_id", S), ("Attribute.object_id", S),
          ("Attribute.object_relation", N), ("Attribute.category", S),
          ("Attribute.type", S), ("Attribute.value", S), ("Attribute.to_ids", B),
          ("Attribute.uuid", S), ("Attribute.timestamp", S),
          ("Attribute.distribution", S), ("Attribute.sharing_group_id", S),
          ("Attribute.comment", S), ("Attribute.deleted", B),
          ("Attribute.disable_correlation", B), ("Attribute.first_seen", N),
          ("Attribute.last_seen", N), ("Attribute.Tag", L), ("Event.id", S),
          ("Event.date", S), ("Event.info", S), ("Event.uuid", S), ("Event.published", B),
          ("Event.analysis", S), ("Event.threat_level_id", S), ("Event.org_id", S),
          ("Event.orgc_id", S), ("Event.distribution", S), ("Event.Orgc", O),
          ("Event.Orgc.id", S), ("Event.Orgc.name", S), ("Event.Orgc.uuid", S),
          ("action", S)]
def shape(a):
    bad = []
    for path, t in FIELDS:
        try:
            v = get(a, path)
        except (KeyError, TypeError):
            bad.append(path + " missing")
            continue
        if type(v) is not t:
            bad.append("%s is %s" % (path, type(v).__name__))
    for tag in a.get("Attribute", {}).get("Tag", []):
        for k, t in (("id", S), ("name", S), ("colour", S), ("exportable", B)):
            if type(tag.get(k)) is not t:
                bad.append("Tag %s: %s" % (tag.get("name"), k))
    return bad
try:
    good = eval("(" + sys.argv[2] + "\n)")
except Exception as e:
    why.append(repr(e))
    good = False
for w in why[:3]:
    print("# %s" % str(w)[:300])
sys.exit(0 if good else 1)
EOF
}

block nodes 'papa, with a MISP-format endpoint beside the native feed'
b_nodes () {
    new_node papa
    sed -i "s#^    heartbeat = 1\$#&\n    misp-endpoint = \"ipc://$T/papa/misp.sock\"#" \
        "$T/papa/intelmesh.conf"
    grep -q "^    misp-endpoint = \"ipc://$T/papa/misp.sock\"$" "$T/papa/intelmesh.conf"
    ok $? "papa is initialised with pub/misp-endpoint"
    start_node papa
    ok $? "papa starts"
    pid_papa=$NODE_PID
    NODE=$(im papa id | cut -d' ' -f3)
    export NODE
    [ ${#NODE} -eq 64 ]
    ok $? "papa's node id is known ($NODE)"
}

block feed 'the consumers subscribe; papa publishes, edits and revokes' nodes
b_feed () {
    consumer dashboard "$T/dashboard.out"; sub_d=$SUB_PID
    consumer threatbus "$T/threatbus.out"; sub_t=$SUB_PID
    # A SUB joins late: papa publishes until both have read an attribute.
    i=0
    while [ "$i" -lt 100 ] && ! { has_attribute "$T/dashboard.out" \
        && has_attribute "$T/threatbus.out"; }; do
        im papa publish domain "warm$i.example" >/dev/null 2>>"$T/publish.err"
        sleep 0.2
        i=$((i + 1))
    done
    has_attribute "$T/dashboard.out" && has_attribute "$T/threatbus.out"
    ok $? "both consumers read papa's attributes (after $i warm-up domains)"
    id=$(im papa publish ipv4 192.0.2.10 --tag c2 --reach 1 --description "first sighting" 2>>"$T/publish.err") \
        && im papa publish ipv4 192.0.2.10 --tag c2 --tag moved --reach 1 \
            --description "moved" >/dev/null 2>&1 \
        && im papa revoke "$id" >/dev/null
    ok $? "papa publishes ipv4 192.0.2.10, updates it and revokes it"
    export ID="$id"
    im papa publish domain amber.example --tlp amber >/dev/null 2>>"$T/publish.err" \
        && im papa publish md5 d41d8cd98f00b204e9800998ecf8427e --tlp red >/dev/null 2>>"$T/publish.err" \
        && im papa publish url https://clear.example/x --tlp clear >/dev/null 2>>"$T/publish.err" \
        && im papa publish sha256 \
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 \
            --tlp amber+strict >/dev/null 2>>"$T/publish.err" \
        && im papa publish domain last.example >/dev/null 2>>"$T/publish.err"
    ok $? "papa publishes an AMBER domain, a RED MD5, a CLEAR URL, an AMBER+STRICT SHA-256"
    consumer_done "$sub_d"
    ok $? "the misp-dashboard subscriber reads up to the last one and exits"
    consumer_done "$sub_t"
    ok $? "the Threat Bus subscriber reads up to the last one and exits"
}

block dashboard "misp-dashboard's dispatcher handles every message" feed
b_dashboard () {
    F="$T/dashboard.out"
    pycheck "$F" 'len(att) >= 9 and any(m["topic"] == "misp_json_self" for m in msgs)
                  and not [why.append(m["errors"]) for m in msgs if m["errors"]]'
    ok $? "handler_attribute and handler_keepalive read every message without an error"
    pycheck "$F" 'all(m.get("attributeType") == "Attribute" for m in msgs
                      if m["topic"] == "misp_json_attribute")'
    ok $? "each is an Attribute, not an ObjectAttribute (object_id is the string \"0\")"
    pycheck "$F" 'all(m.get("org") == "papa" for m in msgs if m["topic"] == "misp_json_attribute")'
    ok $? "each credits the organisation papa (Event.Orgc.name)"
}

block threatbus "Threat Bus's MISP plugin takes every message" feed
b_threatbus () {
    F="$T/threatbus.out"
    pycheck "$F" 'len(msgs) >= 9 and not [why.append(m["errors"]) for m in msgs if m["errors"]]
                  and all(m.get("whitelisted") for m in msgs)'
    ok $? "is_whitelisted passes every message (Event.orgc_id, Attribute.type)"
    pycheck "$F" '[m["mapped"] for m in msgs if m["body"]["Attribute"]["value"] == "192.0.2.10"]
                  == ["indicator--" + by("192.0.2.10")[0]["Attribute"]["uuid"]] * 2
                     + ["not mapped: action soft-delete"]'
    ok $? "the add and the edit become indicator--UUID; the soft-delete is left, as MISP's is"
    pycheck "$F" 'all(m["mapped"].startswith("indicator--") for m in msgs
                      if m["action"] in ("add", "edit"))'
    ok $? "every add and edit maps to a STIX 2.1 indicator id"
}

block shape "every message has MISP's fetchAttribute fields, uuids and ids" feed
b_shape () {
    F="$T/dashboard.out"
    pycheck "$F" 'len(att) >= 9 and not [why.append(shape(a)) for a in att if shape(a)]'
    ok $? "every field of MISP's fetchAttribute is there, with MISP's JSON type"
    pycheck "$F" 'all(v15(get(a, p)) for a in att
                      for p in ("Attribute.uuid", "Event.uuid", "Event.Orgc.uuid"))
                  and {a["Event"]["uuid"] for a in att} == {str(uuid.uuid5(NS, "event:" + env["NODE"]))}
                  and {a["Event"]["Orgc"]["uuid"] for a in att}
                      == {str(uuid.uuid5(NS, "org:" + env["NODE"]))}'
    ok $? "uuids are RFC 4122 versions 1-5; papa has one Event and one Orgc uuid (v5 of its id)"
    pycheck "$F" 'by("192.0.2.10")[0]["Attribute"]["uuid"]
                  == str(uuid.uuid5(NS, env["NODE"] + "/" + env["ID"])) != env["ID"]'
    ok $? "Attribute.uuid is the version 5 uuid of NODE/ID, not the native id"
    pycheck "$F" 'all(number(get(a, p)) for a in att
                      for p in ("Attribute.id", "Attribute.event_id", "Event.id",
                                "Event.org_id", "Event.orgc_id", "Event.Orgc.id"))
                  and all(number(t["id"]) for a in att for t in a["Attribute"]["Tag"])
                  and {a["Attribute"]["object_id"] for a in att} == {"0"}'
    ok $? "ids are numbers written as strings, as MISP writes them; object_id \"0\""
    pycheck "$F" 'all(a["Attribute"]["event_id"] == a["Event"]["id"]
                      and a["Event"]["orgc_id"] == a["Event"]["Orgc"]["id"] for a in att)
                  and len({a["Event"]["id"] for a in att}) == 1'
    ok $? "event_id is Event.id, orgc_id is Orgc.id, one event for papa"
    pycheck "$F" 'len({a["Attribute"]["id"] for a in by("192.0.2.10")}) == 1
                  and len({a["Attribute"]["id"] for a in att}) == len({a["Attribute"]["uuid"] for a in att})'
    ok $? "one Attribute.id per indicator, the same in each of its messages"
}

block revoke 'a revocation is sent as MISP sends a deleted attribute' feed
b_revoke () {
    F="$T/dashboard.out"
    pycheck "$F" '[(a["action"], a["Attribute"]["deleted"]) for a in by("192.0.2.10")]
                  == [("add", False), ("edit", False), ("soft-delete", True)]'
    ok $? "the indicator's actions are add, edit, soft-delete; deleted is true on the last only"
    pycheck "$F" 'not [a for a in att if a["action"] == "delete"]'
    ok $? "no message has the action delete (MISP's for an attribute removed for good)"
}

block tags "tags carry MISP's ids and colours" feed
b_tags () {
    F="$T/dashboard.out"
    pycheck "$F" 'all(re.fullmatch(r"#[0-9a-fA-F]{6}", t["colour"])
                      for a in att for t in a["Attribute"]["Tag"])'
    ok $? "every tag colour is #RRGGBB (MISP's Tag validateColour)"
    pycheck "$F" '{t["name"]: t["colour"] for a in att for t in a["Attribute"]["Tag"]
                   if t["name"].startswith("tlp:")}
                  == {"tlp:green": "#33FF00", "tlp:amber": "#FFC000", "tlp:red": "#FF2B2B",
                      "tlp:clear": "#ffffff", "tlp:amber+strict": "#FFC000"}'
    ok $? "tlp: tags have the colours of MISP's tlp taxonomy"
    pycheck "$F" '{t["colour"] for a in by("192.0.2.10") for t in a["Attribute"]["Tag"]
                   if t["name"] in ("c2", "moved")} == {"#0088cc"}
                  and len({t["id"] for a in att for t in a["Attribute"]["Tag"]
                           if t["name"] == "c2"}) == 1'
    ok $? "other tags have MISP's default colour and one id each"
}

block stop 'papa stops cleanly' nodes
b_stop () {
    stop_node "$pid_papa"
    ok $? "papa stops cleanly"
}

run_blocks "$@"
