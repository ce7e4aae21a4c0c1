#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t65-exercises.sh -- a joint exercise over a four-nation mesh (SPEC.md,
# "Exercises"): alpha hosts it; bravo (a peer of alpha's, joining by its
# peer setting) and charlie (two links away, joining by hand) take part;
# delta, a peer of alpha's, is a participant that never joins. A scenario
# plays injects at set offsets; two participants record actions; the
# scoreboard's times are checked against the offsets; no inject appears in
# any ordinary lookup, list, export or ioc.* topic anywhere; delta holds
# nothing; after `exercise end` every node's exercise store empties once
# exercise/retention has passed.
. "$(dirname "$0")/lib.sh"

link () {
    im "$1" peer add "$(im "$2" id)" >/dev/null && im "$2" peer add "$(im "$1" id)" >/dev/null
}
connected () {
    im "$1" peer list --json | sed 's/},{"name"/}\n{"name"/g' | grep "\"name\":\"$2\"" \
        | grep -q '"connected":true'
}
node_id () { im "$1" id | awk '{ print $3 }'; }
# score_py PYTHON-EXPR: EXPR holds over alpha's `exercise score --json`, with
# p the participants by name: bravo, charlie and delta.
score_py () {
    im alpha exercise score drill-65 --json 2>/dev/null >"$T/score.json" || return 1
    python3 - "$T/score.json" "$1" "$B" "$C" "$D" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
by = {x["node"]: x for x in s["participants"]}
p = {"bravo": by[sys.argv[3]], "charlie": by[sys.argv[4]], "delta": by[sys.argv[5]]}
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}
listed () { im "$1" exercise list --json 2>/dev/null | grep -q '"name":"drill-65"'; }
VALUES="198.51.100.65 drill-65.example drill-65-report.example"
trap 'cleanup' EXIT

block mesh 'four nodes: alpha-bravo, bravo-charlie, alpha-delta; retention 3 s'
b_mesh () {
    for n in alpha bravo charlie delta; do
        new_node $n || diag "cannot init $n"
        printf 'exercise\n    retention = 3s\n' >>"$T/$n/intelmesh.conf"
    done
    link alpha bravo && link bravo charlie && link alpha delta
    ok $? "alpha-bravo, bravo-charlie and alpha-delta are peers"
    im bravo peer set alpha --join-exercises yes >/dev/null
    ok $? "bravo joins the exercises alpha hosts by itself (peer set --join-exercises)"
    TAXII=0
    if command -v openssl >/dev/null && command -v curl >/dev/null \
        && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
            -addext subjectAltName=IP:127.0.0.1 -keyout "$T/bravo/taxii-key.pem" \
            -out "$T/cert.pem" >/dev/null 2>&1; then
        cp "$T/cert.pem" "$T/bravo/taxii-cert.pem"
        PORT=$(free_port)
        printf '\ntaxii\n    listen = "127.0.0.1:%s"\n    certificate = "taxii-cert.pem"\n    key = "%s"\n' \
            "$PORT" "$T/bravo/taxii-key.pem" >>"$T/bravo/intelmesh.conf"
        im bravo policy set wide max-tlp=amber >/dev/null \
            && RK=$(im bravo taxii add-client reader --policy wide | sed -n 's/^  \([0-9a-f]\{64\}\)$/\1/p') \
            && [ ${#RK} = 64 ] && TAXII=1
    fi
    for n in alpha bravo charlie delta; do
        start_node $n && eval "${n}_pid=\$NODE_PID" || diag "cannot start $n"
    done
    wait_for 150 connected alpha bravo && wait_for 150 connected bravo charlie \
        && wait_for 150 connected alpha delta && wait_for 150 connected charlie bravo
    ok $? "the four nodes start and their links are up"
    B=$(node_id bravo) C=$(node_id charlie) D=$(node_id delta)
}

block create 'alpha creates the exercise; it reaches the three participants' mesh
b_create () {
    err=$(im alpha exercise create "Bad Name" --start +0s --end +10m --participants bravo 2>&1)
    [ $? -ne 0 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ]
    ok $? "a bad name is refused in one line: $err"
    err=$(im alpha exercise create drill-x --start +10m --end +5m --participants bravo 2>&1)
    [ $? -ne 0 ]; ok $? "an end before the start is refused: $err"
    err=$(im alpha exercise create drill-x --start +0s --end +5m --participants nobody 2>&1)
    [ $? -eq 2 ]; ok $? "an unknown participant is a usage error: $err"
    im alpha exercise create drill-65 --start +0s --end +10m --participants bravo \
        "$(node_id charlie)" delta --description "four-nation drill" >/dev/null
    ok $? "alpha creates drill-65 for bravo, charlie (by node id) and delta"
    start=$(date +%s)
    wait_for 150 listed bravo && wait_for 150 listed charlie && wait_for 150 listed delta
    ok $? "bravo, charlie (sealed through bravo) and delta hold it"
    im bravo exercise list --json | grep -q '"joined":true'
    ok $? "bravo has joined it by itself"
    im charlie exercise list --json | grep -q '"joined":false'
    ok $? "charlie has not joined yet"
    im charlie exercise join drill-65 | grep -q "joined"
    ok $? "charlie's admin joins it"
    im charlie exercise join drill-65 | grep -q "joined before"
    ok $? "joining twice says so"
    err=$(im delta exercise join nosuch 2>&1); [ $? -ne 0 ]
    ok $? "joining an exercise not held fails: $err"
    err=$(im bravo exercise create drill-65x --start +0s --end +1m --participants alpha >/dev/null 2>&1 \
        && im bravo publish --exercise drill-65 domain x-65.example 2>&1)
    [ $? -ne 0 ]; ok $? "a participant cannot send injects: $err"
}

block run 'a scenario plays its injects at their offsets' create
b_run () {
    cat >"$T/scenario.json" <<SCN
{"scenario": "t65",
 "injects": [
  {"at": "+0s", "type": "ipv4", "value": "198.51.100.65", "tlp": "amber"},
  {"at": "+3s", "type": "domain", "value": "drill-65.example", "tlp": "green",
   "participants": ["bravo"]},
  {"at": "+5s", "tlp": "green", "report": {"title": "Drill 65 report",
     "attack": ["T1566.001"], "refs": ["https://cert.example/65"],
     "indicators": [{"type": "domain", "value": "drill-65-report.example"}]}}
 ]}
SCN
    "$INTELMESH" -d "$T/bravo" tail --timeout 300 exercise. >"$T/tail.exercise" 2>/dev/null &
    tail_pid1=$!
    "$INTELMESH" -d "$T/bravo" tail --timeout 300 ioc. >"$T/tail.ioc" 2>/dev/null &
    tail_pid2=$!
    bounded 120 "$INTELMESH" -d "$T/alpha" exercise run drill-65 "$T/scenario.json" \
        >"$T/run.out" 2>"$T/run.err"
    ok $? "exercise run plays the scenario ($(tr '\n' ' ' <"$T/run.err" | cut -c1-200))"
    [ "$(grep -c '^+' "$T/run.out")" = 3 ] && [ "$(wc -l <"$T/run.out")" = 4 ]
    ok $? "it sends 3 injects and the report's indicator: $(tr '\n' ' ' <"$T/run.out")"
    wait_for 300 score_py "p['bravo']['acknowledged'] == 4 and p['charlie']['acknowledged'] == 3"
    ok $? "bravo acknowledges all 4 injects, charlie the 3 addressed to it"
    score_py "p['delta']['acknowledged'] == 0 and len(p['delta']['unacknowledged']) >= 3"
    ok $? "delta, which never joined, acknowledges none"
}

block score 'actions at two participants; the scoreboard against the offsets' run
b_score () {
    inj=$(im bravo exercise show drill-65 --json | python3 -c "import json,sys; d=json.load(sys.stdin); print([i['id'] for i in d['injects'] if i['value'].startswith('ipv4 ')][0])")
    ok $? "bravo shows the first inject ($inj)"
    im bravo exercise act drill-65 "$inj" --action detected >/dev/null \
        && im bravo exercise act drill-65 "$inj" --action blocked >/dev/null
    ok $? "bravo records detected, then blocked"
    im charlie exercise act drill-65 "$inj" --action escalated --note "to the SOC lead" >/dev/null
    ok $? "charlie records escalated with a note"
    err=$(im charlie exercise act drill-65 "$inj" --action slept 2>&1); [ $? -ne 0 ]
    ok $? "an unknown action is refused: $err"
    wait_for 300 score_py "p['bravo']['actions']['blocked'] == 1 and p['charlie']['actions']['escalated'] == 1"
    ok $? "alpha's scoreboard counts bravo's and charlie's actions"
    score_py "all(i['receive_s'] is None or 0 <= i['receive_s'] <= 60 for n in ('bravo', 'charlie') for i in p[n]['per_inject']) and p['bravo']['first_action_s'] is not None and p['charlie']['first_action_s'] is not None and sum(i['receive_s'] is not None for i in p['charlie']['per_inject']) == 3"
    ok $? "every receive time is between 0 and 60 s, and both have a first action"
    im alpha exercise show drill-65 --json >"$T/show.json"
    python3 - "$T/show.json" "$start" <<'PY'
import json, sys, datetime
d = json.load(open(sys.argv[1])); start = int(sys.argv[2])
t = lambda s: int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp())
sent = {i["value"].split(" ", 1)[1]: t(i["created"]) - start for i in d["injects"]}
want = {"198.51.100.65": 0, "drill-65.example": 3, "Drill 65 report": 5, "drill-65-report.example": 5}
for v, off in want.items():
    assert off - 1 <= sent[v] <= off + 10, (v, sent[v], off)
PY
    ok $? "each inject was sent at its offset from the start (within +10 s)"
    im alpha exercise score drill-65 | grep -q "bravo"
    ok $? "the scoreboard prints as a table"
    err=$(im bravo exercise score drill-65 2>&1); [ $? -ne 0 ]
    ok $? "only the host has the scoreboard: $err"
}

# taxii_objects: bravo's TAXII collection's objects into $T/taxii.json.
taxii_objects () {
    bounded 30 curl -sS --cacert "$T/cert.pem" -u "reader:$RK" \
        -H 'Accept: application/taxii+json;version=2.1' \
        "https://127.0.0.1:$PORT/intelmesh/collections/" >"$T/cols.json" || return 1
    col=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["collections"][0]["id"])' "$T/cols.json") || return 1
    bounded 30 curl -sS --cacert "$T/cert.pem" -u "reader:$RK" \
        -H 'Accept: application/taxii+json;version=2.1' \
        "https://127.0.0.1:$PORT/intelmesh/collections/$col/objects/" >"$T/taxii.json"
}

block apart 'no inject in any ordinary output at any node' run
b_apart () {
    im alpha publish --tlp green domain real-65.example >/dev/null 2>&1 \
        && wait_for 150 sh -c "'$INTELMESH' -d '$T/bravo' lookup real-65.example >/dev/null 2>&1"
    ok $? "a real GREEN indicator of alpha's reaches bravo (the control)"
    if [ "$TAXII" = 1 ]; then
        taxii_objects && grep -q "real-65.example" "$T/taxii.json" \
            && ! grep -q "drill-65\|198.51.100.65" "$T/taxii.json"
        ok $? "bravo's TAXII collection has the real indicator and no inject"
    else
        ok 0 "# SKIP openssl or curl missing: bravo's TAXII collection not read"
    fi
    for n in alpha bravo charlie delta; do
        for v in $VALUES; do
            ! im $n lookup "$v" >/dev/null 2>&1 || { echo "# $n finds $v"; false; }
        done || break
        ! im $n list --json | grep -q "drill-65" \
            && ! im $n export --format stix --tlp-max red 2>/dev/null | grep -q "drill-65" \
            && ! im $n export --format misp --tlp-max red 2>/dev/null | grep -q "drill-65" \
            && ! im $n export --format csv --tlp-max red 2>/dev/null | grep -q "drill-65"
        ok $? "$n: lookup, list and the STIX, MISP and CSV exports show no inject"
    done
    # (the first inject may come before the subscription: the later ones not)
    grep -q '"topic":"exercise.drill-65.ioc.domain.green"' "$T/tail.exercise" \
        && ! grep -q "drill-65\|198.51.100.65" "$T/tail.ioc"
    ok $? "bravo's feed has them on exercise.drill-65.ioc.* only, never on ioc.*"
    grep -q '"label":"EXERCISE"' "$T/tail.exercise"
    ok $? "labelled EXERCISE"
    im bravo exercise show drill-65 | grep -q "^  EXERCISE inject"
    ok $? "exercise show lists them, labelled EXERCISE"
    im bravo lookup --exercise drill-65 198.51.100.65 | grep -q "^EXERCISE drill-65 .* ipv4 198.51.100.65$"
    ok $? "lookup --exercise finds an inject, labelled EXERCISE"
    ! im bravo lookup --exercise drill-65 198.51.100.66 >/dev/null 2>&1
    ok $? "and not a value that is no inject"
    [ "$(im bravo list --exercise drill-65 | grep -c '^EXERCISE drill-65 ')" = 4 ]
    ok $? "list --exercise lists the 4 injects bravo holds"
    [ "$(im charlie list --exercise drill-65 --json | grep -c '"label":"EXERCISE"')" = 3 ]
    ok $? "charlie's list --exercise --json: its 3, each labelled EXERCISE"
}

block delta 'delta, which did not join, holds nothing of the injects' run
b_delta () {
    im delta exercise show drill-65 --json | grep -q '"injects":\[\]'
    ok $? "delta's exercise show lists no inject"
    found=0
    for f in "$T"/delta/store/*.mdb; do
        for v in $VALUES; do grep -qaF "$v" "$f" && found=1; done
    done
    [ $found = 0 ]; ok $? "no inject value is anywhere in delta's store"
    im delta status --json | grep -q '"inbound policy":[1-9]'
    ok $? "delta counted the refused injects (status refusals.inbound)"
}

block report 'the after-action report' score
b_report () {
    im alpha exercise report drill-65 -o "$T/aar" >/dev/null
    ok $? "exercise report writes a report"
    [ -s "$T/aar/summary.md" ] && [ -s "$T/aar/events.csv" ] \
        && ls "$T"/aar/timeline-*.svg >/dev/null 2>&1
    ok $? "summary.md, events.csv and timelines are there"
    [ "$(grep -c ',action,' "$T/aar/events.csv")" -ge 3 ]
    ok $? "events.csv lists the three actions"
    bad=0
    for f in "$T"/aar/timeline-*.svg; do
        python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$f" \
            || { echo "# $f"; false; } || { bad=1; break; }
    done
    [ "$bad" = 0 ]; ok $? "every timeline is well-formed XML"
    err=$(im alpha exercise report drill-65 2>&1); [ $? -eq 2 ]
    ok $? "without -o it is a usage error: $err"
}

block end 'exercise end revokes everything; the retention passes; all is purged' run
b_end () {
    im alpha exercise end drill-65 | grep -q "4 inject(s) revoked"
    ok $? "exercise end revokes the 4 injects"
    err=$(im alpha exercise end drill-65 2>&1); [ $? -ne 0 ]
    ok $? "ending it twice fails: $err"
    for n in alpha bravo charlie delta; do
        wait_for 300 sh -c "! '$INTELMESH' -d '$T/$n' exercise list --json | grep -q '\"name\":\"drill-65\"'"
        ok $? "$n: once the retention passed, exercise list no longer holds drill-65"
    done
    for n in alpha bravo charlie; do
        ! im $n exercise show drill-65 >/dev/null 2>&1
        ok $? "$n: exercise show drill-65 finds nothing"
    done
    grep -q "drill-65: its retention passed" "$T/bravo.log"
    ok $? "bravo logged the purge"
    found=0
    for f in "$T"/delta/store/*.mdb; do
        for v in $VALUES; do grep -qaF "$v" "$f" && found=1; done
    done
    [ $found = 0 ]; ok $? "no inject value was ever written in delta's store, not even a revocation"
}

block stop 'the nodes stop' mesh
b_stop () {
    [ -n "$tail_pid1" ] && kill "$tail_pid1" "$tail_pid2" 2>/dev/null
    stop_node "$alpha_pid" && stop_node "$bravo_pid" && stop_node "$charlie_pid" \
        && stop_node "$delta_pid"
    ok $? "the four nodes stop cleanly"
}

run_blocks "$@"
