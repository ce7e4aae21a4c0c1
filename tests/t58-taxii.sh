#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t58-taxii.sh -- the node's read-only TAXII 2.1 server, read with curl over
# HTTPS (a self-signed certificate made here) on 127.0.0.1: discovery, the
# API root, the collection, objects with paging (limit, next) and
# added_after, manifest, versions, an object by id; each client sees what its
# policy lets a peer see (RED only when named); bad keys get 401 and are
# counted; the objects are STIX 2.1 by the OASIS schemas. TAP output.
. "$(dirname "$0")/lib.sh"
for tool in curl openssl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "1..0 # SKIP $tool not installed"
        exit 0
    fi
done
if ! "$PYTHON3" -c 'import jsonschema' >/dev/null 2>&1; then
    echo "1..0 # SKIP python3-jsonschema not installed"
    exit 0
fi
: "${INTEROP_DIR:=${top_srcdir:-$(dirname "$TESTS_SRCDIR")}/../shared/interop}"
MEDIA='application/taxii+json;version=2.1'

# tx USER KEY PATH [CURL-ARGS...]: GET https://127.0.0.1:PORT/PATH; the body
# in $T/body, the headers in $T/headers; prints the HTTP status.
tx () {
    u=$1 k=$2 p=$3
    shift 3
    bounded 30 curl -sS --cacert "$T/cert.pem" -u "$u:$k" -H "Accept: $MEDIA" \
        -o "$T/body" -D "$T/headers" -w '%{http_code}' "$@" "https://127.0.0.1:$PORT/$p"
}
# py EXPR: EXPR, a Python expression over b (the last body, parsed) and env,
# is true.
py () {
    "$PYTHON3" - "$T/body" "$1" <<'EOF'
import json, os, re, sys
b = json.load(open(sys.argv[1]))
env = os.environ
objs = b.get("objects", [])
vals = sorted(o.get("pattern", "") for o in objs)
try:
    good = eval("(" + sys.argv[2] + "\n)")
except Exception as e:
    print("# %s: %r" % (sys.argv[2][:60], e))
    good = False
sys.exit(0 if good else 1)
EOF
}
# seen USER KEY: the patterns USER sees in the collection, one a line.
seen () {
    tx "$1" "$2" "$OBJ" "-G" >/dev/null \
        && "$PYTHON3" -c 'import json,sys; [print(o["pattern"]) for o in json.load(open(sys.argv[1])).get("objects", [])]' "$T/body"
}
key_of () { sed -n 's/^  \([0-9a-f]\{64\}\)$/\1/p' "$T/$1.key"; }

block setup 'a node with TAXII on HTTPS, three clients, CLEAR to RED published'
b_setup () {
    new_node tango
    ok $? "tango is initialised"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$T/tango/taxii-key.pem" \
        -out "$T/cert.pem" >/dev/null 2>&1 && cp "$T/cert.pem" "$T/tango/taxii-cert.pem"
    ok $? "a self-signed certificate for 127.0.0.1 is made"
    PORT=$(free_port)
    export PORT
    printf '\ntaxii\n    listen = "127.0.0.1:%s"\n    certificate = "taxii-cert.pem"\n    key = "%s"\n' \
        "$PORT" "$T/tango/taxii-key.pem" >>"$T/tango/intelmesh.conf"
    im tango policy set wide max-tlp=amber >/dev/null
    ok $? "a policy 'wide' up to AMBER"
    im tango taxii add-client reader >"$T/reader.key" \
        && im tango taxii add-client wider --policy wide >"$T/wider.key" \
        && im tango taxii add-client redeye --policy wide >"$T/redeye.key"
    ok $? "clients reader (default policy, up to GREEN), wider and redeye (wide) are added"
    R=$(key_of reader) W=$(key_of wider) E=$(key_of redeye)
    [ ${#R} -eq 64 ] && [ ${#W} -eq 64 ] && [ "$R" != "$W" ] \
        && ! grep -q "$R\|$W\|$E" "$T/tango/intelmesh.conf"
    ok $? "each key is printed once, 64 hex digits, and is not in intelmesh.conf"
    im tango taxii list --json | "$PYTHON3" -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if [c["name"] for c in d["clients"]] == ["reader","wider","redeye"] and d["listen"].startswith("127.0.0.1:") else 1)'
    ok $? "taxii list --json shows the three clients and the address"
    start_node tango
    ok $? "tango starts with TAXII on 127.0.0.1:$PORT"
    pid_tango=$NODE_PID
    im tango publish domain clear.example --tlp clear >/dev/null 2>&1 \
        && im tango publish domain green.example --tlp green >/dev/null 2>&1 \
        && im tango publish domain amber.example --tlp amber >/dev/null 2>&1 \
        && im tango publish domain red.example --tlp red --to redeye >/dev/null 2>&1 \
        && im tango publish domain red2.example --tlp red >/dev/null 2>&1
    ok $? "CLEAR, GREEN, AMBER and RED (named for redeye, and one for nobody) are published"
    bad=0
    for i in 1 2 3 4 5; do
        im tango publish ipv4 "192.0.2.$i" >/dev/null 2>&1 || { bad=1; break; }
    done
    [ "$bad" = 0 ]; ok $? "five GREEN addresses more are published"
    OBJ=""
}

block discovery 'discovery, API root, collections, a 406 and a 401' setup
b_discovery () {
    [ "$(tx reader "$R" taxii2/)" = 200 ] \
        && py 'b["api_roots"] == ["https://127.0.0.1:" + env["PORT"] + "/intelmesh/"] and b["default"] == b["api_roots"][0]'
    ok $? "GET /taxii2/ gives the one API root"
    grep -qi "^content-type: application/taxii+json;version=2.1" "$T/headers"
    ok $? "with Content-Type $MEDIA"
    [ "$(tx reader "$R" intelmesh/)" = 200 ] && py 'b["versions"] == ["'"$MEDIA"'"]'
    ok $? "the API root says version 2.1"
    [ "$(tx reader "$R" intelmesh/collections/)" = 200 ] \
        && py 'len(b["collections"]) == 1 and b["collections"][0]["can_read"] and not b["collections"][0]["can_write"]'
    ok $? "one collection, readable, not writable"
    COL=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["collections"][0]["id"])' "$T/body")
    OBJ="intelmesh/collections/$COL/objects/"
    [ "$(tx reader "$R" "intelmesh/collections/$COL/")" = 200 ] && py 'b["title"] == "indicators"'
    ok $? "GET the collection by its id ($COL)"
    [ "$(tx reader "$R" intelmesh/collections/nothere/)" = 404 ]
    ok $? "another collection id is 404"
    [ "$(bounded 30 curl -sS --cacert "$T/cert.pem" -u "reader:$R" -H 'Accept: application/json' \
        -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/taxii2/")" = 406 ]
    ok $? "Accept: application/json is 406"
    before=$(im tango status --json | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["taxii"]["refused_auth"])')
    [ "$(tx reader "$W" taxii2/)" = 401 ] && grep -qi '^www-authenticate: basic' "$T/headers" \
        && [ "$(tx nobody "$R" taxii2/)" = 401 ] && [ "$(tx reader short taxii2/)" = 401 ]
    ok $? "a wrong key, an unknown client and a malformed key are 401 with WWW-Authenticate"
    after=$(im tango status --json | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["taxii"]["refused_auth"])')
    [ "$after" -eq $((before + 3)) ]
    ok $? "status counts them: refused_auth $before -> $after"
    grep -q "taxii: refused a request from 127.0.0.1: client 'reader': key wrong" "$T/tango.log" \
        && grep -q "taxii: refused a request from 127.0.0.1: an unknown client name" "$T/tango.log" \
        && ! grep -q "$R\|$W" "$T/tango.log"
    ok $? "the log names the client and address, never a key"
    [ "$(bounded 30 curl -sS --cacert "$T/cert.pem" -o /dev/null -w '%{http_code}' \
        "http://127.0.0.1:$PORT/taxii2/" 2>/dev/null)" != 200 ]
    ok $? "plain HTTP gets no answer: HTTPS only"
}

block sharing 'what each client sees follows its policy; RED only when named' discovery
b_sharing () {
    seen reader "$R" >"$T/reader.seen"
    ok $? "reader reads the objects"
    grep -q "green.example" "$T/reader.seen" && grep -q "clear.example" "$T/reader.seen" \
        && ! grep -q "amber.example\|red" "$T/reader.seen" && [ "$(wc -l <"$T/reader.seen")" -eq 7 ]
    ok $? "reader (max GREEN) sees CLEAR and GREEN (7 objects), no AMBER, no RED"
    seen wider "$W" >"$T/wider.seen"
    grep -q "amber.example" "$T/wider.seen" && ! grep -q "red" "$T/wider.seen"
    ok $? "wider (max AMBER) sees AMBER, and no RED"
    seen redeye "$E" >"$T/redeye.seen"
    grep -q "red.example" "$T/redeye.seen" && ! grep -q "red2.example" "$T/redeye.seen"
    ok $? "redeye sees the RED indicator that names it, not the one for nobody"
}

block paging 'limit, next and added_after; headers' sharing
b_paging () {
    [ "$(tx reader "$R" "$OBJ" -G -d limit=3)" = 200 ] \
        && py 'len(objs) == 3 and b["more"] is True and b["next"]'
    ok $? "limit=3 gives 3 objects, more and next"
    grep -qi '^X-TAXII-Date-Added-First: 20' "$T/headers" && grep -qi '^X-TAXII-Date-Added-Last: 20' "$T/headers"
    ok $? "with X-TAXII-Date-Added-First and -Last"
    all=""
    next=""
    pages=0
    while [ "$pages" -lt 10 ]; do
        tx reader "$R" "$OBJ" -G -d limit=3 ${next:+-d "next=$next"} >/dev/null || break
        all="$all $("$PYTHON3" -c 'import json,sys; print(" ".join(o["id"] for o in json.load(open(sys.argv[1])).get("objects", [])))' "$T/body")"
        pages=$((pages + 1))
        next=$("$PYTHON3" -c 'import json,sys; b=json.load(open(sys.argv[1])); print(b.get("next", "") if b.get("more") else "")' "$T/body")
        [ -n "$next" ] || break
    done
    n=$(echo $all | wc -w)
    u=$(echo $all | tr ' ' '\n' | sort -u | grep -c .)
    [ "$pages" -eq 3 ] && [ "$n" -eq 7 ] && [ "$u" -eq 7 ]
    ok $? "following next, 3 pages give the 7 objects once each ($pages pages, $n objects)"
    [ "$(tx reader "$R" "$OBJ" -G -d "added_after=2000-01-01T00:00:00.000Z")" = 200 ] && py 'len(objs) == 7'
    ok $? "added_after in the past: all 7"
    [ "$(tx reader "$R" "$OBJ" -G -d "added_after=2999-01-01T00:00:00Z")" = 200 ] && py 'objs == []'
    ok $? "added_after in the future: none"
    [ "$(tx reader "$R" "$OBJ" -G -d "added_after=yesterday")" = 400 ] \
        && [ "$(tx reader "$R" "$OBJ" -G -d "limit=0")" = 400 ]
    ok $? "a bad added_after or limit is 400"
    [ "$(tx reader "$R" "$OBJ" -G --data-urlencode "match[type]=malware")" = 200 ] && py 'objs == []' \
        && [ "$(tx reader "$R" "$OBJ" -G --data-urlencode "match[type]=indicator")" = 200 ] && py 'len(objs) == 7'
    ok $? "match[type]=malware gives none, indicator all"
}

block byid 'manifest, an object by id, its versions; match[id] and match[version]' sharing
b_byid () {
    [ "$(tx reader "$R" "${OBJ%objects/}manifest/")" = 200 ] \
        && py 'len(objs) == 7 and all(o["media_type"] == "application/stix+json;version=2.1" and o["version"] <= o["date_added"] for o in objs)'
    ok $? "the manifest lists the 7 with date_added (when stored), version (modified, not later) and media_type"
    ID=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["objects"][0]["id"])' "$T/body")
    VER=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["objects"][0]["version"])' "$T/body")
    export ID VER
    [ "$(tx reader "$R" "$OBJ$ID/")" = 200 ] && py 'len(objs) == 1 and objs[0]["id"] == env["ID"]'
    ok $? "GET objects/$ID/ gives that indicator"
    py 'all(re.match(r"^indicator--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", o["id"]) for o in objs)'
    ok $? "its id is the export's (im_id_export: the version 5 UUID of a native id)"
    [ "$(tx reader "$R" "$OBJ$ID/versions/")" = 200 ] && py 'b["versions"] == [env["VER"]]'
    ok $? "its versions: the one held ($VER)"
    [ "$(tx reader "$R" "$OBJ" -G --data-urlencode "match[id]=$ID")" = 200 ] && py 'len(objs) == 1' \
        && [ "$(tx reader "$R" "$OBJ$ID/" -G --data-urlencode "match[version]=$VER")" = 200 ] && py 'len(objs) == 1' \
        && [ "$(tx reader "$R" "$OBJ$ID/" -G --data-urlencode "match[version]=2001-01-01T00:00:00.000Z")" = 404 ]
    ok $? "match[id] picks it; match[version] its version, another version nothing"
    [ "$(tx reader "$R" "${OBJ}indicator--00000000-0000-4000-8000-000000000000/")" = 404 ]
    ok $? "an id it does not hold (or may not see) is 404"
}

block schema 'the objects are STIX 2.1 by the OASIS schemas' sharing
b_schema () {
    if [ ! -d "$INTEROP_DIR/stix2.1/schemas" ]; then
        ok 0 "# SKIP the STIX schemas are not in $INTEROP_DIR"
        return
    fi
    tx wider "$W" "$OBJ" >/dev/null
    "$PYTHON3" - "$INTEROP_DIR/stix2.1/schemas" "$T/body" <<'EOF'
import json, os, sys
from jsonschema import Draft202012Validator, RefResolver
root, body = sys.argv[1], json.load(open(sys.argv[2]))
store = {}
for d, _, files in os.walk(root):
    for f in files:
        if f.endswith(".json"):
            s = json.load(open(os.path.join(d, f)))
            store[s.get("$id", f)] = s
ind = [s for k, s in store.items() if k.endswith("/sdos/indicator.json")][0]
res = RefResolver(ind["$id"], ind, store=store)
bad = 0
for o in body["objects"]:
    errs = list(Draft202012Validator(ind, resolver=res).iter_errors(o))
    for e in errs[:3]:
        print("# %s: %s" % (o.get("id"), e.message))
    bad += bool(errs)
sys.exit(1 if bad or not body["objects"] else 0)
EOF
    ok $? "every indicator wider sees validates against indicator.json"
    "$PYTHON3" - "$T/body" "$T/bundle.json" "$T/broken.json" <<'EOF'
import json, sys, uuid
env = json.load(open(sys.argv[1]))
bundle = {"type": "bundle", "id": "bundle--%s" % uuid.uuid4(), "objects": env["objects"]}
json.dump(bundle, open(sys.argv[2], "w"))
bundle["objects"] = [dict(o) for o in env["objects"]]
del bundle["objects"][0]["pattern"]
json.dump(bundle, open(sys.argv[3], "w"))
sys.exit(0 if set(env) <= {"more", "next", "objects"} else 1)
EOF
    ok $? "the objects envelope has only more, next and objects"
    interop_valid stix "$T/bundle.json"
    ok $? "its objects, wrapped in a bundle, are a valid STIX 2.1 bundle (interop_check.py stix)"
    ! interop_valid stix "$T/broken.json" >/dev/null
    ok $? "the same bundle with one pattern taken out is not (the check can fail)"
    tx wider "$W" "${OBJ%objects/}manifest/" >/dev/null && cp "$T/body" "$T/manifest.json"
    ID=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["objects"][0]["id"])' "$T/body")
    tx wider "$W" "$OBJ$ID/versions/" >/dev/null && cp "$T/body" "$T/versions.json" \
        && cp "$T/headers" "$T/versions.headers"
    "$PYTHON3" - "$T/manifest.json" "$T/versions.json" "$T/bundle.json" "$T/versions.headers" <<'EOF'
import json, re, sys
ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
sid = re.compile(r"^[a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
man, ver = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
held = {o["id"]: o["modified"] for o in json.load(open(sys.argv[3]))["objects"]}
heads = open(sys.argv[4]).read().lower()
bad = []
def need(cond, what):
    if not cond:
        bad.append(what)
# TAXII 2.1 section 5.3 (manifest): more (boolean, optional), objects (list
# of manifest-record: id, date_added, version required; media_type).
need(set(man) <= {"more", "objects"}, "manifest keys %s" % sorted(man))
need(isinstance(man.get("more", False), bool), "manifest more is not a boolean")
recs = man.get("objects")
need(isinstance(recs, list) and len(recs) == len(held), "manifest objects: not the %d held" % len(held))
for r in recs or []:
    need(set(r) <= {"id", "date_added", "version", "media_type"}, "record keys %s" % sorted(r))
    need(sid.match(r.get("id", "")) is not None, "record id %r" % r.get("id"))
    need(ts.match(r.get("date_added", "")) is not None, "date_added %r" % r.get("date_added"))
    need(ts.match(r.get("version", "")) is not None, "version %r" % r.get("version"))
    need(r.get("version") == held.get(r.get("id")), "version %r is not the object's modified" % r.get("version"))
    need(r.get("media_type") == "application/stix+json;version=2.1", "media_type %r" % r.get("media_type"))
# Section 5.7 (versions): more (boolean, optional), versions (list of
# timestamps); with X-TAXII-Date-Added-First and -Last.
need(set(ver) <= {"more", "versions"}, "versions keys %s" % sorted(ver))
need(isinstance(ver.get("more", False), bool), "versions more is not a boolean")
vs = ver.get("versions")
need(isinstance(vs, list) and len(vs) >= 1 and all(isinstance(v, str) and ts.match(v) for v in vs),
     "versions %r" % vs)
need(bool(recs) and vs == [recs[0]["version"]], "versions %r are not the manifest's" % vs)
need("x-taxii-date-added-first: " in heads and "x-taxii-date-added-last: " in heads,
     "versions without X-TAXII-Date-Added-First/-Last")
for b in bad[:10]:
    print("# " + b)
sys.exit(1 if bad else 0)
EOF
    ok $? "the manifest (id, date_added, version, media_type) and versions (timestamps) have TAXII 2.1's shapes"
}

block hostile 'a key given as the user name is not logged; bad headers do not flood the log' discovery
b_hostile () {
    [ "$(tx "$R" reader taxii2/)" = 401 ] && ! grep -q "$R" "$T/tango.log"
    ok $? "a key given as the user name (name and key swapped) is 401 and not logged"
    before=$(grep -c "separator" "$T/tango.log")
    for i in $(seq 40); do
        [ "$(bounded 30 curl -sS --cacert "$T/cert.pem" -H "Authorization: Basic cmVhZGVy" \
            -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/taxii2/")" = 401 ] || break
    done
    after=$(grep -c "separator" "$T/tango.log")
    [ "$i" -eq 40 ] && [ "$after" -le 10 ]
    ok $? "40 Basic headers without ':' are 401, logged $((after - before)) times (10 at most)"
}

block big 'a request of 60 KB is read at once, not a TLS record each poller turn' discovery
b_big () {
    # The bound is this run's own pace for five small GETs, not a time: read
    # a TLS record each 100 ms turn, a 60 KB GET took 2.3 s at least.
    start=$(date +%s%N)
    for i in 1 2 3 4 5; do tx reader "$R" "no-such-path" >/dev/null; done
    small=$((($(date +%s%N) - start) / 1000000))
    long=$(head -c 60000 /dev/zero | tr '\0' a)
    start=$(date +%s%N)
    for i in 1 2 3 4 5; do
        [ "$(tx reader "$R" "$long")" = 404 ] || break
    done
    ms=$((($(date +%s%N) - start) / 1000000))
    [ "$i" -eq 5 ] && [ "$(tx reader "$R" taxii2/)" = 200 ] && [ "$ms" -le $((3 * small + 1000)) ]
    ok $? "five GETs of a 60 KB URL are answered 404 in ${ms} ms (five small ones: ${small} ms; at most 3 times that and 1 s)"
}

block busy 'requests at once are answered in full, one walk of the store a turn of the node'"'"'s loop' sharing
b_busy () {
    pids=""
    for i in $(seq 1 16); do
        bounded 60 curl -sS --cacert "$T/cert.pem" -u "reader:$R" -H "Accept: $MEDIA" \
            -o "$T/busy.$i" "https://127.0.0.1:$PORT/$OBJ" &
        pids="$pids $!"
    done
    t0=$(date +%s%3N)
    im tango status --json >"$T/busy.status"; rc=$?
    t1=$(date +%s%3N)
    failed=0
    for p in $pids; do wait "$p" || failed=$((failed + 1)); done
    good=0
    for i in $(seq 1 16); do
        "$PYTHON3" -c 'import json,sys; sys.exit(0 if len(json.load(open(sys.argv[1]))["objects"]) == 7 else 1)' "$T/busy.$i" && good=$((good + 1))
    done
    [ "$failed" -eq 0 ] && [ "$good" -eq 16 ]
    ok $? "16 requests at once: each gets the 7 objects ($good good, $failed failed)"
    [ "$rc" -eq 0 ]; ok $? "status answers meanwhile ($((t1 - t0)) ms)"
    im tango status --json | grep -q '"deferred":[0-9]'
    ok $? "status counts the requests that waited for a later turn: $(im tango status --json | grep -o '"deferred":[0-9]*')"
}

block late 'a partner'"'"'s record stored after this node'"'"'s own is added after them, whatever its modified time' sharing
b_late () {
    new_node uni && start_node uni && pid_uni=$NODE_PID
    ok $? "a partner, uni, starts (not yet linked to tango)"
    im uni publish domain late-partner.example.org >/dev/null 2>&1
    ok $? "uni publishes a GREEN record (its modified time: now)"
    sleep 1.2 # a later second for tango's own record's modified time
    im tango publish domain later-own.example.org >/dev/null 2>&1
    [ "$(tx reader "$R" "$OBJ" -G)" = 200 ] && py 'any("later-own" in v for v in vals)'
    ok $? "tango publishes a record of a later modified time, and reader polls it"
    last=$(sed -n 's/^X-TAXII-Date-Added-Last: *\([^[:space:]]*\).*/\1/Ip' "$T/headers")
    diag "X-TAXII-Date-Added-Last: $last"
    im tango peer add "$(im uni id)" >/dev/null && im uni peer add "$(im tango id)" >/dev/null \
        && wait_for 300 eval 'im tango lookup late-partner.example.org >/dev/null 2>&1'
    ok $? "once linked, tango holds uni's record"
    [ "$(tx reader "$R" "$OBJ" -G -d "added_after=$last")" = 200 ] \
        && py 'any("late-partner" in v for v in vals) and not any("later-own" in v for v in vals)'
    ok $? "a poll with added_after = the last Date-Added-Last gets uni's record, and not tango's again"
    LAST=$last; export LAST
    [ "$(tx reader "$R" "intelmesh/collections/$COL/manifest/" -G -d "added_after=$last")" = 200 ] \
        && py 'all(o["date_added"] > env["LAST"] and o["version"] < o["date_added"] for o in objs) and len(objs) == 1'
    ok $? "its manifest entry has a date_added after it, and a version (modified) before"
    stop_node "$pid_uni"; ok $? "uni stops"
}

block reload 'taxii remove and add-client take effect without a restart' sharing
b_reload () {
    im tango taxii remove reader >/dev/null
    ok $? "taxii remove reader"
    [ "$(tx reader "$R" taxii2/)" = 401 ]
    ok $? "the running node refuses reader's key at once"
    im tango taxii add-client late --json >"$T/late.json"
    L=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"])' "$T/late.json")
    [ "$(tx late "$L" taxii2/)" = 200 ]
    ok $? "a client added now is served at once"
    im tango taxii add-client late >/dev/null 2>&1
    [ $? -ne 0 ]
    ok $? "adding a client of the same name again is refused"
    im tango taxii add-client other --policy nosuch >/dev/null 2>&1
    [ $? -ne 0 ]
    ok $? "a client with an unknown policy is refused"
}

block stop 'the node stops cleanly' setup
b_stop () {
    stop_node "$pid_tango"
    ok $? "tango stops cleanly"
}

run_blocks "$@"
