#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t55-interop-export.sh -- what `intelmesh export` writes is what STIX and
# MISP consumers accept: a node's indicators of every type and label, checked
# against the OASIS STIX 2.1 schemas and PyMISP's strict schema.json
# (tests/interop_check.py), ids of RFC 4122 version 4 or 5 that stay the same
# from one export to the next, and the --tlp-max default. TAP output.
. "$(dirname "$0")/lib.sh"

if ! why=$("$PYTHON3" "$TESTS_SRCDIR/interop_check.py" probe 2>&1); then
    echo "1..0 # SKIP $why (INTEROP_DIR=$INTEROP_DIR)"
    exit 0
fi

# pycheck FILE... -- PROGRAM: runs the Python PROGRAM with the files' JSON
# documents in D (a list) and india's records (list --json) in R; it passes
# when PROGRAM's expression, its last line, is true.
pycheck () {
    files=""
    while [ "$1" != -- ]; do files="$files $1"; shift; done
    shift
    im india list --json >"$T/records.jsonl" || return 1
    # shellcheck disable=SC2086
    "$PYTHON3" - "$1" $files <<'EOF'
import json, os, sys, uuid
NS = uuid.UUID("886b1082-fbfd-53ad-b4ef-acc0ce9851a4")  # IM_ID_NAMESPACE
D = [json.load(open(f)) for f in sys.argv[2:]]
R = [json.loads(l) for l in open(os.environ["RECORDS"])]
def export_id(r):
    return str(uuid.uuid5(NS, "%s/%s" % (r["origin"], r["id"])))
def stix_ids(b):
    return {o["pattern"]: o["id"] for o in b.get("objects", []) if o["type"] == "indicator"}
def misp_ids(e):
    return {(a["type"], a["value"]): a["uuid"] for a in e["Event"]["Attribute"]}
prog = sys.argv[1].strip().split("\n")
exec("\n".join(prog[:-1]))
sys.exit(0 if eval(prog[-1]) else 1)
EOF
}
export RECORDS="$T/records.jsonl"

# Every type, every label; tags, a description with quotes and a line
# break, validity times, reach 0 and unlimited; a value with ' and \.
LABELS="clear green amber amber+strict red"
block publish 'a node holds indicators of every type and label'
b_publish () {
    node_up india
    pid_india=$NODE_PID
    cat >"$T/all.jsonl" <<'EOF'
{"type":"ipv4","value":"198.51.100.7","tlp":"clear","tags":["scanner"]}
{"type":"ipv4","value":"203.0.113.0/24","tlp":"green","reach":0}
{"type":"ipv6","value":"2001:db8::7","tlp":"amber","valid_until":"2030-01-01T00:00:00Z"}
{"type":"domain","value":"evil.example","tlp":"amber+strict","description":"phishing \"kit\"\nhost"}
{"type":"url","value":"http://evil.example/a'b\\c","tlp":"red"}
{"type":"email","value":"phish@evil.example","tlp":"clear","valid_from":"2025-01-01T00:00:00Z","valid_until":"2029-06-30T12:00:00Z"}
{"type":"md5","value":"d41d8cd98f00b204e9800998ecf8427e","tlp":"green","confidence":0}
{"type":"sha1","value":"da39a3ee5e6b4b0d3255bfef95601890afd80709","tlp":"amber","confidence":100}
{"type":"sha256","value":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","tlp":"amber+strict"}
{"type":"sha512","value":"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e","tlp":"red"}
{"type":"filename","value":"invoice.pdf.exe","tlp":"clear"}
{"type":"asn","value":"AS64500","tlp":"green"}
{"type":"domain","value":"revoked.example","tlp":"green"}
EOF
    im india publish - <"$T/all.jsonl" >"$T/ids" 2>"$T/pub.err" \
        && im india revoke "$(tail -n 1 "$T/ids")" >/dev/null
    ok $? "india publishes 13 indicators of the 11 types and 5 labels, and revokes one"
    n_all=13
    n_hi=$(grep -c '"tlp":"\(amber+strict\|red\)"' "$T/all.jsonl")
}

block stix 'a STIX export of all of them passes the OASIS schemas' publish
b_stix () {
    im india export --format stix --tlp-max red -o "$T/a.stix" 2>"$T/a.stix.err" \
        && interop_valid stix "$T/a.stix"
    ok $? "export --format stix --tlp-max red: the bundle passes the OASIS STIX 2.1 schemas; every id is a UUID of version 1-5"
    pycheck "$T/a.stix" -- '
b = D[0]; ind = [o for o in b["objects"] if o["type"] == "indicator"]
ver = lambda i: uuid.UUID(i.split("--")[1]).version
len(ind) == '"$n_all"' and all(ver(o["id"]) == 5 for o in ind) and ver(b["id"]) in (4, 5) and sum(o.get("revoked", False) for o in ind) == 1'
    ok $? "it holds the $n_all indicators, one revoked; their ids are version 5, the bundle's 4 or 5"
    pycheck "$T/a.stix" -- '
sorted(stix_ids(D[0]).values()) == sorted("indicator--" + export_id(r) for r in R)'
    ok $? "each indicator's id is the version 5 UUID of its record's origin/id"
}

block misp 'a MISP export of all of them passes PyMISP strict schema' publish
b_misp () {
    im india export --format misp --tlp-max red -o "$T/a.misp" 2>"$T/a.misp.err" \
        && interop_valid misp "$T/a.misp"
    ok $? "export --format misp --tlp-max red: the event passes PyMISP's schema.json; every uuid is a UUID of version 1-5"
    node=$(im india id | cut -d' ' -f3)
    pycheck "$T/a.misp" -- '
e = D[0]["Event"]
org = str(uuid.uuid5(NS, "org:'"$node"'"))
e["Orgc"] == {"name": "india", "uuid": org} and len(e["Attribute"]) == '"$n_all"' and e["uuid"] == str(uuid.uuid5(NS, "export:'"$node"'"))'
    ok $? "Orgc is india with the uuid of org:NODE-ID; $n_all attributes; the event uuid is that of export:NODE-ID"
    pycheck "$T/a.misp" -- '
sorted(misp_ids(D[0]).values()) == sorted(export_id(r) for r in R)'
    ok $? "each attribute's uuid is the version 5 UUID of its record's origin/id"
}

block stable 'the same record has the same ids in every export' stix misp
b_stable () {
    im india export --format stix --tlp-max red -o "$T/b.stix" 2>/dev/null \
        && im india export --format misp --tlp-max red -o "$T/b.misp" 2>/dev/null
    pycheck "$T/a.stix" "$T/b.stix" -- '
ids = stix_ids(D[0]).values()
stix_ids(D[0]) == stix_ids(D[1]) and len(ids) == '"$n_all"' and all(uuid.UUID(i[11:]).version == 5 for i in ids) and D[0]["id"] != D[1]["id"]'
    ok $? "a second STIX export gives each indicator the same id, a version 5 UUID (the bundle a new one)"
    pycheck "$T/a.misp" "$T/b.misp" "$T/a.stix" -- '
misp_ids(D[0]) == misp_ids(D[1]) and len(misp_ids(D[0])) == '"$n_all"' and all(uuid.UUID(u).version == 5 for u in misp_ids(D[0]).values()) and sorted(misp_ids(D[0]).values()) == sorted(i[11:] for i in stix_ids(D[2]).values())'
    ok $? "a second MISP export gives each attribute the same uuid, version 5, its STIX id's"
}

block defaults 'export leaves out AMBER+STRICT and RED unless asked' publish
b_defaults () {
    im india export --format csv >"$T/d.csv" 2>"$T/d.err" \
        && im india export --format csv --tlp-max red >"$T/r.csv" 2>"$T/r.err" \
        && im india export --format csv --tlp-max amber >/dev/null 2>"$T/m.err"
    rc=$?
    [ "$rc" -eq 0 ] && ! grep -q ',\(amber+strict\|red\),' "$T/d.csv" \
        && [ "$(grep -c ',\(clear\|green\|amber\),' "$T/d.csv")" -eq $((n_all - n_hi)) ] \
        && [ "$(grep -c ',\(amber+strict\|red\),' "$T/r.csv")" -eq "$n_hi" ]
    ok $? "export without --tlp-max writes the $((n_all - n_hi)) CLEAR, GREEN and AMBER indicators alone, --tlp-max red the $n_hi others too"
    grep -qx "export: left out $n_hi AMBER+STRICT or RED indicator(s); --tlp-max red includes them" "$T/d.err" \
        && ! grep -q "left out" "$T/r.err" "$T/m.err"
    ok $? "without --tlp-max it says on standard error how many it left out and which option brings them (not with --tlp-max red or amber)"
    for f in stix misp; do
        im india export --format $f -o "$T/d.$f" 2>/dev/null || diag "export $f failed"
    done
    interop_valid stix "$T/d.stix" && interop_valid misp "$T/d.misp" \
        && ! grep -q 'tlp:red\|tlp:amber+strict\|e828b379-4e03-4974-9ac4-e53a884c97c1\|939a9414-2ddd-4d32-a0cd-375ea402b003' \
            "$T/d.stix" "$T/d.misp"
    ok $? "STIX and MISP exports without --tlp-max are valid and hold no AMBER+STRICT or RED"
}

block stop 'the node stops cleanly' publish
b_stop () {
    stop_node "$pid_india"
    ok $? "india stops cleanly"
}

run_blocks "$@"
