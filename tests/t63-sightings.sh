#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t63-sightings.sh -- sightings and sealed delivery (SPEC.md, "Sightings",
# "Carrying sealed envelopes") on a line alpha - bravo - charlie, where
# alpha and charlie are not peers: charlie sights alpha's indicator and only
# alpha sees it, bravo carries it without being able to read it; a TLP:RED
# record alpha addresses to charlie passes sealed through bravo; a shared
# sighting reaches every node that holds the indicator; operators' mistakes
# get one line and a non-zero exit.
. "$(dirname "$0")/lib.sh"

link () {
    im "$1" peer add "$(im "$2" id)" >/dev/null && im "$2" peer add "$(im "$1" id)" >/dev/null
}
connected () {
    im "$1" peer list --json | sed 's/},{"name"/}\n{"name"/g' | grep "\"name\":\"$2\"" \
        | grep -q '"connected":true'
}
has () { im "$1" lookup "$2" >/dev/null 2>&1; }
pub () { n=$1; shift; id=$(im "$n" publish "$@") && [ ${#id} -eq 36 ] && echo "$id"; }
node_id () { im "$1" id | awk '{ print $3 }'; }
# seen NODE ID TEXT: `sightings ID --json` at NODE holds TEXT.
seen () { im "$1" sightings "$2" --json 2>/dev/null | grep -qF -- "$3"; }
# in_store NODE TEXT: TEXT is somewhere in NODE's LMDB files.
in_store () {
    for f in "$T/$1"/store/*.mdb; do
        [ -f "$f" ] && grep -qaF -- "$2" "$f" && return 0
    done
    return 1
}
status_num () { # status_num NODE KEY1 KEY2: status --json's KEY1.KEY2
    im "$1" status --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$2']['$3'])"
}
trap 'cleanup' EXIT

block mesh 'three nodes in a line: alpha - bravo - charlie (alpha and charlie are no peers)'
b_mesh () {
    for n in alpha bravo charlie; do new_node $n || diag "cannot init $n"; done
    link alpha bravo && link bravo charlie
    ok $? "alpha-bravo and bravo-charlie put each other on their trust lists"
    start_node alpha && alpha_pid=$NODE_PID && start_node bravo && bravo_pid=$NODE_PID \
        && start_node charlie && charlie_pid=$NODE_PID
    ok $? "the three nodes start"
    wait_for 150 connected alpha bravo && wait_for 150 connected bravo charlie \
        && wait_for 150 connected charlie bravo
    ok $? "the links are up"
    xid=$(pub alpha --tlp green domain sighted-63.example)
    ok $? "alpha publishes a GREEN indicator"
    wait_for 150 has charlie sighted-63.example
    ok $? "it reaches charlie through bravo"
}

block sight 'charlie sights it: only alpha, its origin, sees the sighting' mesh
b_sight () {
    out=$(im charlie sight "$xid" --count 3 --source honeypot --note "seen on the mail gateway")
    ok $? "charlie's sight succeeds: $out"
    printf '%s' "$out" | grep -q "^$xid sighting .* (version 1)$"
    ok $? "and names the sighting it made"
    wait_for 150 seen alpha "$xid" '"count":3'
    ok $? "alpha's sightings show charlie's count of 3"
    cid=$(node_id charlie)
    seen alpha "$xid" "\"by\":\"$cid\"" && ! seen alpha "$xid" "\"by_name\":\"" \
        && seen alpha "$xid" '"source":"honeypot"' \
        && seen alpha "$xid" '"note":"seen on the mail gateway"'
    ok $? "with who (charlie's node id: not a peer of alpha, so no name), source and note"
    im alpha sightings "$xid" | grep -q "1 sighting(s), seen 3 time(s)"
    ok $? "sightings prints a summary line"
    wait_for 50 test "$(status_num bravo sealed carriers_held)" -ge 1
    ok $? "bravo holds a sealed carrier"
    seen bravo "$xid" '"sightings":[]'
    ok $? "bravo's sightings of the indicator are empty"
    [ "$(status_num bravo sightings held)" = 0 ]
    ok $? "bravo holds no sighting at all (status sightings.held 0)"
    ! in_store bravo "mail gateway" && in_store alpha "mail gateway" \
        && in_store charlie "mail gateway"
    ok $? "the note is in alpha's and charlie's stores, nowhere in bravo's"
    xhex=$(printf '%s' "$xid" | tr -d '-')
    found=0
    for f in "$T"/bravo/store/*.mdb; do
        n=$(grep -caF "$xid" "$f")
        [ "$n" -gt 1 ] && found=1
    done
    : "$xhex"
    [ "$found" = 0 ]
    ok $? "bravo's store names the indicator id no more than its own copy does"
    im charlie sight "$xid" --count 2 >/dev/null
    wait_for 150 seen alpha "$xid" '"count":5'
    ok $? "a second sighting adds to the count: alpha sees 5"
    [ "$(im alpha sightings "$xid" --json | grep -o '"by":' | wc -l)" = 1 ]
    ok $? "still one sighting from charlie, updated"
    [ "$(status_num alpha sightings of_own_indicators)" = 1 ] \
        && [ "$(status_num alpha sightings of_own_count)" = 5 ]
    ok $? "alpha's status counts 1 sighting of its indicators, seen 5 times"
    [ "$(status_num alpha sealed opened)" -ge 2 ]
    ok $? "alpha opened the carriers sealed to it (status sealed.opened)"
}

block bulk 'sight - reads ID [COUNT] lines' sight
b_bulk () {
    yid=$(pub alpha --tlp green domain bulk-63.example)
    wait_for 150 has charlie bulk-63.example
    ok $? "a second indicator reaches charlie"
    printf '# comment\n%s 4\n%s\n' "$yid" "$xid" | im charlie sight - >/dev/null
    ok $? "charlie sights two indicators from standard input"
    wait_for 150 seen alpha "$yid" '"count":4' && wait_for 150 seen alpha "$xid" '"count":6'
    ok $? "alpha sees 4 for the new one and 6 for the first"
}

block share 'a shared sighting reaches every node that holds the indicator' sight
b_share () {
    sid=$(pub alpha --tlp green domain shared-63.example)
    wait_for 150 has charlie shared-63.example
    ok $? "alpha publishes a third GREEN indicator; it reaches charlie"
    im charlie sight "$sid" --share --source incident >/dev/null
    ok $? "charlie sights it with --share"
    wait_for 150 seen bravo "$sid" '"source":"incident"'
    ok $? "bravo, which holds the indicator, sees the shared sighting"
    wait_for 150 seen alpha "$sid" '"source":"incident"'
    ok $? "and so does alpha"
}

block export 'exports carry sightings: STIX sighting objects and MISP sightings, valid' bulk
b_export () {
    im alpha export --format stix --tlp-max red -o "$T/s.stix.json" 2>/dev/null
    ok $? "alpha exports STIX with --tlp-max red"
    interop_valid stix "$T/s.stix.json"
    ok $? "the bundle is valid against the OASIS schemas"
    python3 - "$T/s.stix.json" "$xid" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
objs = {o["id"]: o for o in b["objects"]}
s = [o for o in b["objects"] if o["type"] == "sighting"]
assert len(s) >= 2, len(s)  # 3 after the shared one of block share
for o in s:
    assert o["sighting_of_ref"] in objs, "sighting_of_ref resolves"
    for r in o["where_sighted_refs"]:
        assert objs[r]["type"] == "identity", "where_sighted_refs is an identity"
counts = sorted(o["count"] for o in s)
assert 4 in counts and 6 in counts, counts
ind = [objs[o["sighting_of_ref"]] for o in s if o["count"] == 6][0]
assert "sighted-63.example" in ind["pattern"], ind["pattern"]
PY
    ok $? "sighting objects of counts 4 and 6, of the indicators in the bundle, by identities in it"
    im alpha export --format stix -o "$T/s2.stix.json" 2>/dev/null \
        && ! grep -q '"type":"sighting"[^}]*"count":[46],' "$T/s2.stix.json" \
        && ! grep -q '"count":[46],' "$T/s2.stix.json"
    ok $? "without --tlp-max red the RED sightings stay out"
    im alpha export --format misp --tlp-max red -o "$T/s.misp.json" 2>/dev/null
    ok $? "alpha exports MISP with --tlp-max red"
    interop_valid misp "$T/s.misp.json"
    ok $? "the event is valid against PyMISP's schema (which has no place for sightings)"
    im alpha export --format misp-sightings --tlp-max red -o "$T/s.sight.json" 2>/dev/null
    ok $? "alpha exports its sightings for MISP's sightings API"
    python3 - "$T/s.misp.json" "$T/s.sight.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ev = d["Event"] if "Event" in d else d["response"][0]["Event"]
att = [a for a in ev["Attribute"] if a["value"] == "sighted-63.example"][0]
s = json.load(open(sys.argv[2]))
assert len(s) >= 2, s
mine = [x for x in s if x["attribute_uuid"] == att["uuid"]]
assert len(mine) == 1 and "seen 6 time(s)" in mine[0]["source"], s
assert mine[0]["type"] == "0" and mine[0]["date_sighting"].isdigit(), s
PY
    ok $? "one names the attribute's uuid in the MISP export, with its count"
}

block red 'a TLP:RED record alpha addresses to charlie passes sealed through bravo' mesh
b_red () {
    cid=$(node_id charlie)
    rid=$(pub alpha --tlp red --to "$cid" domain crimson-63.example)
    ok $? "alpha publishes a RED indicator to charlie's node id (not a peer)"
    wait_for 150 has charlie crimson-63.example
    ok $? "charlie gets it"
    im charlie lookup crimson-63.example --json | grep -q '"tlp":"red"'
    ok $? "as TLP:RED, signed by alpha"
    ! has bravo crimson-63.example && ! in_store bravo crimson-63.example
    ok $? "bravo neither holds it nor has its value anywhere in its store"
    out=$(im alpha explain "$rid" bravo)
    printf '%s\n' "$out" | grep -q "^sealed to 1 recipient(s) that are not direct peers: 1 of its 1 carrier(s) go to bravo"
    ok $? "explain says it goes to bravo sealed: $(printf '%s' "$out" | tail -1)"
    printf '%s\n' "$out" | head -1 | grep -q "^not sent: it names its recipients and bravo is not one"
    ok $? "and that the record itself does not go to bravo"
    im alpha revoke "$rid" >/dev/null
    wait_for 150 sh -c "! '$INTELMESH' -d '$T/charlie' lookup crimson-63.example >/dev/null 2>&1"
    ok $? "alpha's revocation reaches charlie sealed as well"
    im charlie sight "$xid" --count 1 >/dev/null && wait_for 150 seen alpha "$xid" '"count":'
    ok $? "(sightings still flow)"
}

block deny 'deny-types=sealed at bravo stops carriers to charlie' red
b_deny () {
    im bravo policy set nosealed deny-types=sealed >/dev/null \
        && im bravo peer set charlie --policy nosealed >/dev/null
    ok $? "bravo's policy for charlie denies sealed"
    cid=$(node_id charlie)
    pub alpha --tlp red --to "$cid" domain denied-63.example >/dev/null \
        && pub alpha --tlp green domain after-63.example >/dev/null
    ok $? "alpha publishes a RED one to charlie, then a GREEN one"
    wait_for 150 has charlie after-63.example
    ok $? "the GREEN one arrives"
    ! has charlie denied-63.example
    ok $? "the RED one does not: its carrier stops at bravo"
}

block errors 'operator mistakes: one line and a non-zero exit' mesh
b_errors () {
    for args in "00000000-0000-7000-8000-000000000000" "not-an-id" \
        "$xid --count 0" "$xid --count x" "$xid --source cctv" \
        "$xid --note 'victim 198.51.100.7 clicked'" "$xid --note 'from bob@example.org'" \
        "$xid --first-seen tomorrow" "$xid --first-seen 2099-01-01T00:00:00Z"; do
        err=$(eval "im charlie sight $args" 2>&1 >/dev/null)
        rc=$?
        [ "$rc" -ne 0 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]
        ok $? "sight $args is refused in one line (exit $rc: $err)"
    done
    err=$(printf 'x y z\n' | im charlie sight - 2>&1 >/dev/null)
    rc=$?
    [ "$rc" -ne 0 ] && [ -n "$err" ]
    ok $? "sight - with a malformed line is refused: $err"
    err=$(im charlie sightings 2>&1 >/dev/null)
    [ $? -eq 2 ]; ok $? "sightings without an id is a usage error: $err"
    err=$(im charlie sightings "$(cat /proc/sys/kernel/random/uuid)" 2>&1 >/dev/null)
    [ $? -eq 1 ]; ok $? "sightings of an id not held here fails: $err"
}

block stop 'the nodes stop' mesh
b_stop () {
    stop_node "$alpha_pid" && stop_node "$bravo_pid" && stop_node "$charlie_pid"
    ok $? "the three nodes stop cleanly"
}

run_blocks "$@"
