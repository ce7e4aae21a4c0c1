#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t66-exercise-attacks.sh -- joint exercises (SPEC.md, "Exercises") against
# hostile peers and a careless operator. alpha hosts drill-66 for bravo (its
# peer, joining by its peer setting) and mallory (tests/sealer: a hostile
# participant, a peer of both); eve (tests/sealer too) is a peer of alpha's
# and no participant. Injects of someone else's exercise, forged or of an
# exercise never heard of; malformed exercise records; acknowledgements in
# versions, floods, for nothing, from a non-participant, with skewed clocks;
# injects looked for in every ordinary output; the host's own records and
# the injects replayed after the purge; a table of exercises filled with
# offers; and the operator's mistakes, each one line, non-zero, nothing
# stored.
. "$(dirname "$0")/lib.sh"
need_fake_peer
if [ ! -x "${SEALER:-}" ]; then
    echo "1..0 # SKIP sealer is not built (${SEALER:-SEALER unset})"
    exit 0
fi
. "$(dirname "$0")/adversary.sh"

node_id () { im "$1" id | awk '{ print $3 }'; }
# js NODE EXPR: EXPR, a Python expression over s (NODE's status --json).
js () {
    im "$1" status --json >"$T/status.json" || return 1
    "$PYTHON3" -c "import json,sys; s=json.load(open(sys.argv[1])); print($2)" "$T/status.json"
}
records () { js "$1" "s['store']['records']"; }
# in_store NODE TEXT: TEXT is somewhere in NODE's LMDB files.
in_store () {
    for f in "$T/$1"/store/*.mdb; do
        [ -f "$f" ] && grep -qaF -- "$2" "$f" && return 0
    done
    return 1
}
# sealer KEYS NODE ARGS...: the sealer with KEYS (mallory or eve) answers
# NODE's pulls with what ARGS make.
sealer () {
    s_keys=$1 s_node=$2; shift 2
    bounded 120 "$SEALER" --keys "$T/$s_keys.keys" \
        --target "$(card_field "$s_node" 5)" "$(card_field "$s_node" 4)" "$@" >"$T/sealer.out" 2>&1
    s_rc=$?
    sed 's/^/# /' "$T/sealer.out" | head -20
    return $s_rc
}
said () { grep -q "^sealer: decoder: .*$1" "$T/sealer.out"; }
# score_py NAME EXPR: EXPR holds over alpha's `exercise score NAME --json`,
# p the participants by name (bravo, mallory), s the whole score.
score_py () {
    im alpha exercise score "$1" --json >"$T/score.json" 2>"$T/score.err" || return 1
    "$PYTHON3" - "$T/score.json" "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
p = {x["name"]: x for x in s["participants"]}
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}
# inject_id NODE NAME KIND: the id of NODE's inject of exercise NAME whose
# value starts with KIND.
inject_id () {
    im "$1" exercise show "$2" --json | "$PYTHON3" -c "import json,sys; d=json.load(sys.stdin); print([i['id'] for i in d['injects'] if i['value'].startswith('$3 ')][0])"
}
listed () { im "$1" exercise list --json 2>/dev/null | grep -q "\"name\":\"$2\""; }
joined () { im "$1" exercise list --json 2>/dev/null | grep "\"name\":\"$2\"" | grep -q '"joined":true'; }
VALUES="198.51.100.66 drill-66.example drill66-report.example"
trap 'cleanup' EXIT

block mesh 'alpha - bravo; mallory a peer of both, eve of alpha; retention 5 s'
b_mesh () {
    mallory_card
    fake card --name eve --keys "$T/eve.keys" >"$T/eve.card"
    for n in alpha bravo; do
        fresh $n || diag "cannot init $n"
        printf 'exercise\n    retention = 5s\n' >>"$T/$n/intelmesh.conf"
    done
    sed -i 's#^    heartbeat = 1$#&\n    format = misp#' "$T/bravo/intelmesh.conf"
    link alpha bravo && im alpha peer add "$(cat "$T/mallory.card")" >/dev/null \
        && im bravo peer add "$(cat "$T/mallory.card")" >/dev/null \
        && im alpha peer add "$(cat "$T/eve.card")" >/dev/null
    ok $? "alpha-bravo; mallory on both trust lists, eve on alpha's"
    im alpha policy set cleared max-tlp=amber >/dev/null \
        && for p in bravo mallory; do im alpha peer set $p --policy cleared >/dev/null || false; done \
        && im bravo peer set alpha --join-exercises yes >/dev/null
    ok $? "alpha sends AMBER to bravo and mallory; bravo joins alpha's exercises by itself"
    TAXII=0
    if command -v openssl >/dev/null && command -v curl >/dev/null \
        && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
            -addext subjectAltName=IP:127.0.0.1 -keyout "$T/bravo/taxii-key.pem" \
            -out "$T/cert.pem" >/dev/null 2>&1; then
        cp "$T/cert.pem" "$T/bravo/taxii-cert.pem"
        PORT=$(free_port)
        printf '\ntaxii\n    listen = "127.0.0.1:%s"\n    certificate = "taxii-cert.pem"\n    key = "%s"\n' \
            "$PORT" "$T/bravo/taxii-key.pem" >>"$T/bravo/intelmesh.conf"
        im bravo policy set wide max-tlp=amber+strict >/dev/null \
            && RK=$(im bravo taxii add-client reader --policy wide | sed -n 's/^  \([0-9a-f]\{64\}\)$/\1/p') \
            && [ ${#RK} = 64 ] && TAXII=1
    fi
    start_node alpha && apid=$NODE_PID && start_node bravo && bpid=$NODE_PID
    ok $? "the two nodes start (bravo's feed in MISP's format)"
    wait_for 150 connected alpha bravo && wait_for 150 connected bravo alpha
    ok $? "their link is up"
    A=$(node_id alpha) B=$(node_id bravo) M=$(awk '{ print $3 }' "$T/mallory.card")
}

block create 'drill-66 for bravo and mallory; four injects; bravo acknowledges them' mesh
b_create () {
    "$INTELMESH" -d "$T/bravo" tail --timeout 600 >"$T/bravo.feed" 2>/dev/null &
    tail_pid=$!; PIDS="$PIDS $tail_pid"
    im alpha exercise create drill-66 --start +0s --end +1h --participants bravo mallory \
        >/dev/null
    ok $? "alpha creates drill-66 for bravo and mallory"
    wait_for 150 joined bravo drill-66
    ok $? "bravo holds it and has joined it"
    i1=$(im alpha publish --exercise drill-66 --tlp amber ipv4 198.51.100.66) \
        && i2=$(im alpha publish --exercise drill-66 --tlp green domain drill-66.example) \
        && i3=$(im alpha report create "Drill 66 report" --exercise drill-66 --tlp green) \
        && im alpha publish --exercise drill-66 --tlp green domain drill66-report.example >/dev/null
    ok $? "alpha sends four injects: an ipv4, a domain, a report and a domain"
    wait_for 300 score_py drill-66 "p['bravo']['acknowledged'] == 4"
    ok $? "bravo acknowledges the four"
    sent1=$(im alpha exercise show drill-66 --json | "$PYTHON3" -c "
import json, sys, datetime
d = json.load(sys.stdin)
t = lambda s: int(datetime.datetime.strptime(s, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc).timestamp())
m = {i['id']: t(i['created']) for i in d['injects']}
print(m['$i1'], m['$i2'], m['$i3'])")
    ok $? "their times of sending ($sent1)"
}

block foreign 'injects not of the host: refused, counted, never shown' create
b_foreign () {
    r0=$(peer_num bravo mallory "inbound policy")
    sealer mallory bravo inject --exercise drill-66 --to "$B"
    ok $? "mallory sends bravo an inject of its own of alpha's drill-66"
    v=$(awk '$2 == "inject" { print $3 }' "$T/sealer.out")
    [ "$(peer_num bravo mallory "inbound policy")" = $((r0 + 1)) ] && ! in_store bravo "$v"
    ok $? "refused and counted (inbound policy $r0 -> $(peer_num bravo mallory "inbound policy")), $v nowhere in bravo's store"
    grep -q "inject of exercise drill-66, which this node has not joined" "$T/bravo.log"
    ok $? "bravo logs why"
    sealer mallory bravo inject --exercise never-heard-66 --to "$B"
    v=$(awk '$2 == "inject" { print $3 }' "$T/sealer.out")
    [ "$(peer_num bravo mallory "inbound policy")" = $((r0 + 2)) ] && ! in_store bravo "$v"
    ok $? "an inject of an exercise bravo never heard of is refused and counted too"
    s0=$(peer_num bravo mallory "bad signature")
    sealer mallory bravo inject-forged --exercise drill-66 --to "$B" --origin "$A"
    v=$(awk '$2 == "inject" { print $3 }' "$T/sealer.out")
    [ "$(peer_num bravo mallory "bad signature")" = $((s0 + 1)) ] && ! in_store bravo "$v"
    ok $? "an inject claiming alpha as its origin, signed by mallory, fails its signature"
    [ "$(im bravo exercise show drill-66 --json | grep -o '"type":"inject"' | wc -l)" = 4 ] \
        && ! listed bravo never-heard-66
    ok $? "bravo's drill-66 still shows alpha's four injects, and no other exercise appeared"
}

block malformed 'malformed exercise records: refused as malformed, the reason names the item' create
b_malformed () {
    for kind in inject-ackitem:"holds no ack item" exercise-extra:"holds no exercise item" \
        ack-noack:"holds exactly one ack item" ack-33:"up to 32 actions" \
        ack-badkind:"action 7 is not" ack-disorder:"out of time order" \
        ack-year:"after the year 9999" ack-randid:"acknowledgement: its id is not the UUID" \
        exercise-randid:"exercise: its id is not the UUID" \
        inject-upper:"value: not in canonical form"; do
        k=${kind%%:*} why=${kind#*:}
        m0=$(peer_num alpha mallory malformed); r0=$(records alpha)
        sealer mallory alpha "$k" --exercise drill-66 --to "$A" --inject "$A/$i1"
        ok $? "mallory sends alpha $k"
        said "$why"
        ok $? "$k: the decoder says '$why' ($(sed -n 's/^sealer: decoder: //p' "$T/sealer.out"))"
        [ "$(peer_num alpha mallory malformed)" = $((m0 + 1)) ] && [ "$(records alpha)" = "$r0" ]
        ok $? "$k: alpha refuses it as malformed ($m0 -> $(peer_num alpha mallory malformed)), stores nothing"
    done
    score_py drill-66 "p['mallory']['acknowledged'] == 0 and sum(p['mallory']['actions'].values()) == 0"
    ok $? "alpha's scoreboard shows nothing of mallory's"
}

block acks 'a hostile participant'\''s acknowledgements: the scoreboard stays right' create
b_acks () {
    sealer mallory alpha ack --exercise drill-66 --inject "$A/$i1" --versions 40 --actions 32
    ok $? "mallory sends 40 versions of its ack of the first inject, the last with 32 actions"
    score_py drill-66 "p['mallory']['acknowledged'] == 1 and p['mallory']['actions'] == {'detected': 8, 'blocked': 8, 'mitigated': 8, 'escalated': 8}"
    ok $? "alpha counts one ack and the last version's 32 actions ($(cat "$T/score.err"))"
    r0=$(records alpha)
    sealer mallory alpha ack-missing 100 --exercise drill-66 --inject "$A/$i1"
    ok $? "mallory acknowledges 100 injects that do not exist"
    score_py drill-66 "p['mallory']['acknowledged'] == 1 and s['injects'] == 4"
    ok $? "the scoreboard does not count them"
    sealer eve alpha ack --exercise drill-66 --inject "$A/$i1" --actions 3
    ok $? "eve, no participant, sends an ack of the first inject"
    score_py drill-66 "sorted(p) == ['bravo', 'mallory'] and p['mallory']['acknowledged'] == 1 and sum(p['bravo']['actions'].values()) == 0"
    ok $? "the scoreboard has no eve, and bravo's and mallory's counts did not move"
    m0=$(peer_num alpha mallory malformed)
    sealer mallory alpha ack-flood 3100 --exercise drill-66 --inject "$A/$i1"
    ok $? "mallory floods alpha with 3100 acks of the first inject under random ids, 32 actions each"
    [ "$(peer_num alpha mallory malformed)" = $((m0 + 3100)) ]
    ok $? "all refused as malformed (an ack's id is the UUID of its value)"
    score_py drill-66 "p['mallory']['acknowledged'] == 1 and sum(p['mallory']['actions'].values()) == 32"
    ok $? "exercise score still answers, mallory's actions still 32 ($(cat "$T/score.err"))"
    im alpha exercise report drill-66 -o "$T/aar" >/dev/null 2>"$T/report.err"
    ok $? "exercise report writes its files ($(cat "$T/report.err"))"
}

block skew 'acknowledgements from skewed clocks: clamped, never negative, never refused' create
b_skew () {
    set -- $sent1
    r0=$(peer_num alpha mallory "inbound policy"); m0=$(peer_num alpha mallory malformed)
    sealer mallory alpha ack --exercise drill-66 --inject "$A/$i2" --received $(($2 - 3600)) --actions 2
    ok $? "mallory acknowledges the second inject an hour before it was sent"
    future=$(($(date +%s) + 10 * 365 * 86400))
    sealer mallory alpha ack --exercise drill-66 --inject "$A/$i3" --received $future --actions 1
    ok $? "and the third ten years from now"
    [ "$(peer_num alpha mallory "inbound policy")" = "$r0" ] \
        && [ "$(peer_num alpha mallory malformed)" = "$m0" ]
    ok $? "alpha refuses neither"
    score_py drill-66 "[i for i in p['mallory']['per_inject'] if i['inject'] == '$i2'][0]['receive_s'] == 0"
    ok $? "the early one arrived after 0 s, not before it was sent ($(cat "$T/score.err"))"
    elapsed=$(($(date +%s) - $3 + 30))
    score_py drill-66 "0 <= [i for i in p['mallory']['per_inject'] if i['inject'] == '$i3'][0]['receive_s'] <= $elapsed"
    ok $? "the late one is clamped to now: at most $elapsed s, not ten years"
    score_py drill-66 "all(i[k] is None or i[k] >= 0 for n in p for i in p[n]['per_inject'] for k in ('receive_s', 'first_action_s')) and p['mallory']['receive']['max_s'] <= $elapsed"
    ok $? "no time on the scoreboard is negative, none past now"
}

# taxii_objects: bravo's TAXII collection's objects into $T/taxii.json.
taxii_objects () {
    bounded 30 curl -sS --cacert "$T/cert.pem" -u "reader:$RK" \
        -H 'Accept: application/taxii+json;version=2.1' \
        "https://127.0.0.1:$PORT/intelmesh/collections/" >"$T/cols.json" || return 1
    col=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["collections"][0]["id"])' "$T/cols.json") || return 1
    bounded 30 curl -sS --cacert "$T/cert.pem" -u "reader:$RK" \
        -H 'Accept: application/taxii+json;version=2.1' \
        "https://127.0.0.1:$PORT/intelmesh/collections/$col/objects/" >"$T/taxii.json"
}

block apart 'no inject in lookup -, check, explain, the MISP feed or TAXII' create
b_apart () {
    im alpha publish --tlp green domain real-66.example >/dev/null \
        && wait_for 150 sh -c "'$INTELMESH' -d '$T/bravo' lookup real-66.example >/dev/null 2>&1"
    ok $? "a real GREEN indicator of alpha's reaches bravo (the control)"
    for n in alpha bravo; do
        printf '%s\n' $VALUES real-66.example | im $n lookup - >"$T/lookup.out" 2>&1
        printf '%s\n' $VALUES real-66.example | im $n lookup - --json >"$T/lookup.json" 2>&1
        "$PYTHON3" - "$T/lookup.json" <<'PY' && ! grep -qi "inject\|EXERCISE" "$T/lookup.out"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(r) == 4 and all(x["matches"] == [] for x in r[:3]) and r[3]["matches"], r
PY
        ok $? "$n: lookup - finds the real one and none of the inject values (text and --json)"
        err=$(im $n lookup --type inject "ipv4 198.51.100.66" 2>&1); rc=$?
        [ $rc -ne 0 ]; ok $? "$n: lookup --type inject is refused (exit $rc: $err)"
        peer=bravo; [ $n = bravo ] && peer=alpha
        bad=0
        for v in $VALUES; do
            out=$(im $n explain "$v" $peer 2>&1); rc=$?
            [ $rc -ne 0 ] && printf '%s' "$out" | grep -q "no indicator" || { echo "# $n explain $v: $out"; false; } || { bad=1; break; }
        done
        [ "$bad" = 0 ]; ok $? "$n: explain by value finds none of the inject values"
        out=$(im $n check 198.51.100.66 --json 2>&1)
        ! printf '%s' "$out" | grep -qi "inject\|exercise"
        ok $? "$n: check says nothing of the inject"
    done
    wait_for 100 grep -q "real-66.example" "$T/bravo.feed" \
        && grep -q misp_json_attribute "$T/bravo.feed" \
        && ! grep -q "drill-66\|198.51.100.66\|EXERCISE" "$T/bravo.feed"
    ok $? "bravo's MISP-format feed has the real indicator and no inject"
    if [ "$TAXII" = 1 ]; then
        taxii_objects && grep -q "real-66.example" "$T/taxii.json" \
            && ! grep -q "drill-66\|198.51.100.66\|Drill 66" "$T/taxii.json"
        ok $? "bravo's TAXII collection (max-tlp amber+strict) has the real indicator and no inject"
    else
        ok 0 "# SKIP openssl or curl missing: bravo's TAXII collection not read"
    fi
}

# snap NODE: what NODE stores of exercises: its record count and exercises.json.
snap () { echo "$(records "$1") $(md5sum <"$T/$1/exercises.json" 2>/dev/null)"; }
# refused NODE DESCRIPTION: the last command ($rc, $err) failed in one line
# and NODE's snapshot ($s0) did not move.
refused () {
    [ "$rc" -ne 0 ] && [ -n "$err" ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] \
        && [ "$(snap "$1")" = "$s0" ]
    ok $? "$2: refused in one line, nothing stored (exit $rc: $err)"
}
# try NODE COMMAND...: NODE's snapshot, then COMMAND's exit status and
# standard error.
try () { s0=$(snap "$1"); shift; err=$("$@" 2>&1 >/dev/null); rc=$?; }

block operator 'operator mistakes: one clear line, non-zero, nothing stored' create
b_operator () {
    im alpha exercise create other-66 --start +0s --end +1h --participants bravo >/dev/null \
        && im alpha exercise create short-66 --start +0s --end +1h --participants bravo >/dev/null \
        && wait_for 150 joined bravo other-66 && wait_for 150 joined bravo short-66
    ok $? "alpha creates other-66 and short-66 for bravo, which joins them"
    ids=$(for i in $(seq 65); do od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; echo; done)
    try alpha im alpha exercise create many-66 --start +0s --end +1h --participants $ids
    refused alpha "create with 65 participants"
    try alpha im alpha exercise create self-66 --start +0s --end +1h --participants "$A"
    refused alpha "create with itself as a participant"
    try alpha im alpha exercise create drill-66 --start +0s --end +1h --participants bravo
    refused alpha "create of a name that is live"
    try alpha im alpha exercise create past-66 --start 2020-01-01T00:00:00Z --end +1h --participants bravo
    refused alpha "create that starts in 2020"
    try alpha im alpha exercise create over-66 --start 2020-01-01T00:00:00Z --end 2020-01-02T00:00:00Z --participants bravo
    refused alpha "create that is over already"
    try alpha im alpha exercise create rev-66 --start +2h --end +1h --participants bravo
    refused alpha "create that ends before it starts"
    printf '{"scenario": "t66", "injects": [{"at": "+0s", "type": "domain", "value": "run-66.example", "participants": ["charlie"]}]}\n' >"$T/nonpart.json"
    try alpha im alpha exercise run drill-66 "$T/nonpart.json"
    refused alpha "run of a scenario naming a non-participant"
    try alpha im alpha exercise run drill-66 "$T/missing.json"
    refused alpha "run of a missing file"
    head -c 5000000 /dev/zero | tr '\0' ' ' >"$T/big.json"
    try alpha im alpha exercise run drill-66 "$T/big.json"
    refused alpha "run of a 5 MB file"
    : >"$T/regular"
    try alpha im alpha exercise report drill-66 -o "$T/regular"
    refused alpha "report -o onto a regular file"
    try bravo im bravo exercise act other-66 "$i1" --action detected
    refused bravo "act on an inject of another exercise"
    try bravo im bravo exercise score drill-66
    refused bravo "score at a participant"
    im alpha exercise end short-66 >/dev/null
    ok $? "alpha ends short-66"
    try alpha im alpha exercise end short-66
    refused alpha "end twice (before the purge)"
    wait_for 300 sh -c "! '$INTELMESH' -d '$T/alpha' exercise list --json | grep -q '\"name\":\"short-66\"'" \
        && wait_for 300 sh -c "! '$INTELMESH' -d '$T/bravo' exercise list --json | grep -q '\"name\":\"short-66\"'"
    ok $? "short-66 is purged at alpha and bravo"
    try alpha im alpha exercise end short-66
    refused alpha "end twice (after the purge)"
    try alpha im alpha exercise create short-66 --start +0s --end +1h --participants bravo
    refused alpha "create again of a name ended here"
    try bravo im bravo exercise join short-66
    refused bravo "join after the end"
    im alpha exercise create sched-66 --start +1h --end +2h --participants bravo >/dev/null
    ok $? "alpha creates sched-66, an hour from now"
    try alpha im alpha publish --exercise sched-66 domain early-66.example
    refused alpha "an inject before the exercise starts"
    score_py sched-66 "s['injects'] == 0"
    ok $? "sched-66's scoreboard answers ($(cat "$T/score.err"))"
    im alpha exercise create long-66 --start +0s --end +1h --participants bravo >/dev/null \
        && im alpha publish --exercise long-66 url "https://long-66.example/$(printf 'a%.0s' $(seq 1500))" >/dev/null
    ok $? "alpha sends an inject whose value is 1500 bytes long"
    score_py long-66 "s['injects'] == 1"
    ok $? "long-66's scoreboard answers ($(cat "$T/score.err"))"
}

block end 'after the end and the purge, replayed records are refused; nothing comes back' create
b_end () {
    bounded 120 "$SEALER" --keys "$T/mallory.keys" --source "$(card_field alpha 5)" \
        "$(card_field alpha 4)" --save "$T/drill.rec" capture >"$T/capture.out" 2>&1
    ok $? "mallory captures alpha's drill-66 records ($(tail -1 "$T/capture.out"))"
    grep -q "captured exercise drill-66" "$T/capture.out" \
        && grep -q "captured inject ipv4 198.51.100.66" "$T/capture.out"
    ok $? "among them the exercise and the ipv4 inject"
    im alpha exercise end drill-66 | grep -q "4 inject(s) revoked"
    ok $? "alpha ends drill-66"
    for n in alpha bravo; do
        wait_for 300 sh -c "! '$INTELMESH' -d '$T/$n' exercise list --json | grep -q '\"name\":\"drill-66\"'"
        ok $? "$n: drill-66 is purged"
    done
    for n in bravo alpha; do
        r0=$(peer_num $n mallory "inbound policy"); c0=$(records $n)
        sealer mallory $n replay --load "$T/drill.rec"
        ok $? "mallory replays the captured records to $n"
        ! listed $n drill-66 && ! im $n exercise show drill-66 >/dev/null 2>&1 \
            && [ "$(records $n)" = "$c0" ]
        ok $? "$n: nothing comes back (records $c0 -> $(records $n))"
        [ "$(peer_num $n mallory "inbound policy")" -gt "$r0" ]
        ok $? "$n: refused and counted ($r0 -> $(peer_num $n mallory "inbound policy"))"
    done
    grep -q "exercise drill-66 ended and was purged here" "$T/bravo.log"
    ok $? "bravo logs why"
    r0=$(peer_num alpha mallory "inbound policy")
    sealer mallory alpha ack --exercise drill-66 --inject "$A/$i2" --versions 1 --actions 1
    [ "$(peer_num alpha mallory "inbound policy")" = $((r0 + 1)) ]
    ok $? "an ack of a purged inject is refused at the host"
}

block offers 'a table of exercises filled with offers still takes the host'\''s' mesh
b_offers () {
    sealer mallory bravo exercises 300 --to "$B"
    ok $? "mallory offers bravo 300 exercises of its own"
    [ "$(im bravo exercise list --json | grep -c '"name":"offer-')" -ge 256 ]
    ok $? "bravo holds them, not joined"
    im alpha exercise create late-66 --start +0s --end +1h --participants bravo >/dev/null
    ok $? "alpha creates late-66 for bravo"
    wait_for 150 joined bravo late-66
    ok $? "bravo holds it and joins it by itself all the same"
    err=$(im bravo exercise join late-66 2>&1)
    ok $? "exercise join answers ($err)"
}

block stop 'the nodes stop' mesh
b_stop () {
    [ -n "${tail_pid:-}" ] && kill "$tail_pid" 2>/dev/null
    stop_node "$apid" && stop_node "$bpid"
    ok $? "the two nodes stop cleanly"
}

run_blocks "$@"
