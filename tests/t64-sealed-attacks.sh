#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t64-sealed-attacks.sh -- sightings and sealed delivery (SPEC.md,
# "Sightings", "Carrying sealed envelopes") against a hostile trusted peer,
# mallory (tests/sealer), and a careless operator, on the line alpha - bravo
# - charlie with mallory a peer of all three: a record of another origin
# re-sealed, envelopes that hold garbage, a broken or nested record, records
# the inbound rules refuse, a flood of carriers for someone else, malformed
# carriers and sightings, a sighting of an indicator a relay may not pass
# on; and `intelmesh sight` mistakes not covered by t63.
. "$(dirname "$0")/lib.sh"
need_fake_peer
if [ ! -x "${SEALER:-}" ]; then
    echo "1..0 # SKIP sealer is not built (${SEALER:-SEALER unset})"
    exit 0
fi
. "$(dirname "$0")/adversary.sh"

has () { im "$1" lookup "$2" >/dev/null 2>&1; }
node_id () { im "$1" id | awk '{ print $3 }'; }
# snum NODE KEY1 KEY2: status --json's KEY1.KEY2.
snum () {
    im "$1" status --json | "$PYTHON3" -c "import json,sys; print(json.load(sys.stdin)['$2']['$3'])"
}
unread () { snum "$1" sealed unreadable; }
opened () { snum "$1" sealed opened; }
# in_store NODE TEXT: TEXT is somewhere in NODE's LMDB files.
in_store () {
    for f in "$T/$1"/store/*.mdb; do
        [ -f "$f" ] && grep -qaF -- "$2" "$f" && return 0
    done
    return 1
}
seen () { im "$1" sightings "$2" --json 2>/dev/null | grep -qF -- "$3"; }
cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# marker FROM TO: FROM publishes a new GREEN record and TO gets it: FROM
# serves its changes in order, so whatever it held before went to TO, or
# was decided not to.
marker () {
    mk=$(printf 'mark%s.marker-64.example' "$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')")
    im "$1" publish --tlp green domain "$mk" >/dev/null 2>&1 && wait_for 300 has "$2" "$mk"
}
# sealer NODE ARGS...: mallory answers NODE's pulls with what ARGS make.
sealer () {
    n=$1; shift
    bounded 120 "$SEALER" --keys "$T/mallory.keys" \
        --target "$(card_field "$n" 5)" "$(card_field "$n" 4)" "$@" >"$T/sealer.out" 2>&1
    s_rc=$?
    sed 's/^/# /' "$T/sealer.out"
    return $s_rc
}
# made WHAT: the value (inner), id (sighting) sealer printed last.
made () { awk -v w="$1" '$2 == w { v = $3 } END { print v }' "$T/sealer.out"; }
trap 'cleanup' EXIT

block mesh 'alpha - bravo - charlie, and mallory a peer of each'
b_mesh () {
    mallory_card
    for n in alpha bravo charlie; do fresh $n || diag "cannot init $n"; done
    link alpha bravo && link bravo charlie \
        && for n in alpha bravo charlie; do
            im $n peer add "$(cat "$T/mallory.card")" >/dev/null || false
        done
    ok $? "alpha-bravo, bravo-charlie; mallory on every trust list"
    im alpha policy set cleared max-tlp=amber >/dev/null \
        && im alpha peer set bravo --policy cleared >/dev/null \
        && im alpha peer set mallory --policy cleared >/dev/null
    ok $? "alpha sends AMBER to its direct peers bravo and mallory"
    start_node alpha && apid=$NODE_PID && start_node bravo && bpid=$NODE_PID \
        && start_node charlie && cpid=$NODE_PID
    ok $? "the three nodes start"
    wait_for 150 connected alpha bravo && wait_for 150 connected bravo charlie \
        && wait_for 150 connected charlie bravo
    ok $? "the links are up"
    charlie_id=$(node_id charlie) && bravo_id=$(node_id bravo) && alpha_id=$(node_id alpha)
    gid=$(im alpha publish --tlp green domain green-64.example) \
        && aid=$(im alpha publish --tlp amber domain amber-64.example)
    ok $? "alpha publishes a GREEN and an AMBER indicator"
    wait_for 150 has charlie green-64.example && wait_for 150 has bravo amber-64.example
    ok $? "the GREEN one reaches charlie, the AMBER one bravo"
    ! has charlie amber-64.example
    ok $? "charlie, two links from alpha, does not get the AMBER one"
}

block control 'a well-formed carrier of mallory'\''s, sealed to charlie, is opened' mesh
b_control () {
    o0=$(opened charlie); u0=$(unread charlie)
    sealer charlie good --to "$charlie_id"
    ok $? "mallory sends charlie a carrier of its own RED record naming charlie"
    v=$(made inner)
    has charlie "$v" && im charlie lookup "$v" --json | grep -q '"tlp":"red"'
    ok $? "charlie opens it and holds $v, RED (the sealer makes what nodes read)"
    [ "$(opened charlie)" = $((o0 + 1)) ] && [ "$(unread charlie)" = "$u0" ]
    ok $? "status sealed.opened counts it, unreadable does not"
    twice=$(opened charlie)
    sealer charlie twice --to "$charlie_id"
    v=$(made inner)
    has charlie "$v"; ok $? "the same record in two carriers of one answer is taken"
    [ "$(opened charlie)" = $((twice + 1)) ]
    ok $? "and counted opened once, not twice ($twice -> $(opened charlie))"
}

block reseal 'a recipient that re-seals another origin'\''s AMBER record to a third node is refused' mesh
b_reseal () {
    u0=$(unread charlie)
    sealer charlie reseal --to "$charlie_id" --source "$(card_field alpha 5)" "$(card_field alpha 4)"
    ok $? "mallory pulls alpha's AMBER record and seals it to charlie in a carrier of its own"
    grep -q "resealing amber-64.example" "$T/sealer.out"
    ok $? "(it is alpha's amber-64.example)"
    ! has charlie amber-64.example && ! in_store charlie amber-64.example
    ok $? "charlie does not hold it, and its value is nowhere in charlie's store"
    [ "$(unread charlie)" = $((u0 + 1)) ]
    ok $? "status sealed.unreadable counts it ($u0 -> $(unread charlie))"
    grep -q "refused a record sealed to this node by another than its origin, carried by mallory" \
        "$T/charlie.log"
    ok $? "charlie logs who carried it"
}

block broken 'envelopes sealed to charlie that hold no valid record: refused and counted' mesh
b_broken () {
    for kind in garbage truncated badsig nested; do
        u0=$(unread charlie); o0=$(opened charlie)
        sealer charlie $kind --to "$charlie_id"
        ok $? "mallory sends charlie a carrier holding $kind"
        v=$(made inner)
        [ "$(unread charlie)" = $((u0 + 1)) ] && [ "$(opened charlie)" = "$o0" ]
        ok $? "$kind: counted unreadable, nothing opened"
        [ -z "$v" ] || ! has charlie "$v"
        ok $? "$kind: what it held (${v:-random bytes}) is not taken"
    done
    im charlie status >/dev/null; ok $? "charlie still answers status"
}

block rules 'a record sealed to charlie that does not name it: refused by the inbound rules' mesh
b_rules () {
    u0=$(unread charlie)
    sealer charlie red-other --to "$charlie_id" --other "$bravo_id"
    ok $? "mallory seals to charlie its RED record naming bravo only"
    v=$(made inner)
    ! has charlie "$v" && [ "$(unread charlie)" = $((u0 + 1)) ]
    ok $? "charlie does not take it, and counts it unreadable"
    grep -q "refused a record sealed to this node, carried by mallory: refused: it names its recipients and this node is not one" \
        "$T/charlie.log"
    ok $? "and logs why"
    marker charlie bravo && ! has bravo "$v"
    ok $? "bravo, which it names, does not get it from charlie either"
    u0=$(unread charlie)
    sealer charlie red-none --to "$charlie_id"
    v=$(made inner)
    ! has charlie "$v" && [ "$(unread charlie)" = $((u0 + 1)) ]
    ok $? "a RED record naming nobody, sealed to charlie, is refused and counted too"
}

block malformed 'malformed carriers and sightings: refused as malformed, counted, nothing stored' mesh
b_malformed () {
    ind="$alpha_id/$gid"
    for kind in bad-digest bad-size report-env sight-zero sight-two sight-future \
        sight-badvalue; do
        m0=$(peer_num charlie mallory malformed); r0=$(snum charlie store records)
        sealer charlie $kind --to "$charlie_id" --indicator "$ind"
        ok $? "mallory sends charlie $kind"
        [ "$(peer_num charlie mallory malformed)" = $((m0 + 1)) ] \
            && [ "$(snum charlie store records)" = "$r0" ]
        ok $? "$kind: refused as malformed ($m0 -> $(peer_num charlie mallory malformed)), nothing stored"
    done
    [ "$(snum charlie sightings held)" = 0 ]
    ok $? "charlie holds no sighting"
}

block unknown 'a sighting of an indicator nobody holds goes nowhere' mesh
b_unknown () {
    ghost=$(cat /proc/sys/kernel/random/uuid)
    h0=$(snum charlie sightings held)
    sealer charlie sight --indicator "$(printf '%064d' 7 | tr 0 a)/$ghost"
    ok $? "mallory sends charlie a GREEN sighting of a made-up indicator"
    [ "$(snum charlie sightings held)" = $((h0 + 1)) ]
    ok $? "charlie holds it (it cannot know no node made that indicator)"
    err=$(im charlie sightings "$ghost" 2>&1 >/dev/null)
    [ $? -ne 0 ]; ok $? "but shows it for no indicator: $err"
    marker charlie bravo && marker bravo alpha && ! in_store bravo "$ghost" \
        && ! in_store alpha "$ghost"
    ok $? "and sends it to no peer: the made-up id is in neither bravo's nor alpha's store"
}

block relay 'a shared sighting of an AMBER indicator never reaches a node that may not hold it' mesh
b_relay () {
    sealer bravo sight --indicator "$alpha_id/$aid" --tlp green
    ok $? "mallory sends bravo a GREEN sighting of alpha's AMBER indicator"
    sid=$(made sighting)
    mid=$(awk '{ print $3 }' "$T/mallory.card")
    seen bravo "$aid" "\"by\":\"$mid\""
    ok $? "bravo, which holds the indicator, holds the sighting"
    wait_for 150 seen alpha "$aid" "\"by\":\"$mid\""
    ok $? "alpha, its origin, gets it from bravo"
    im bravo explain "$sid" charlie | grep -q "^not sent: a sighting, whose indicator is not held here or would not be sent to charlie"
    ok $? "bravo explains it does not go to charlie: $(im bravo explain "$sid" charlie | head -1)"
    marker bravo charlie && ! in_store charlie "$aid"
    ok $? "the AMBER indicator's id is nowhere in charlie's store"
    m0=$(peer_num bravo mallory malformed)
    sealer bravo sight-randid --indicator "$alpha_id/$aid" --tlp green
    [ "$(peer_num bravo mallory malformed)" = $((m0 + 1)) ]
    ok $? "a second sighting of it under an id that is not its value's is refused as malformed"
    marker bravo alpha && [ "$(im alpha sightings "$aid" --json | grep -o "\"by\":\"$mid\"" | wc -l)" = 1 ]
    ok $? "alpha still shows one sighting by mallory"
}

block flood 'thousands of carriers for someone else: bounded cost, status answers, honest records arrive' mesh
b_flood () {
    o0=$(opened charlie); u0=$(unread charlie); h0=$(snum charlie sealed carriers_held)
    c0=$(cpu_ticks "$cpid")
    sealer charlie flood 2000 &
    spid=$!; PIDS="$PIDS $spid"
    fails=0 calls=0
    while kill -0 "$spid" 2>/dev/null; do
        im charlie status >/dev/null || fails=$((fails + 1))
        calls=$((calls + 1))
    done
    wait "$spid"; ok $? "mallory floods charlie with 2000 carriers sealed to a random key"
    [ "$fails" = 0 ]; ok $? "charlie answered all $calls status calls during the flood"
    c1=$(cpu_ticks "$cpid")
    # Ticks of 10 ms: each carrier costs a signature and 8 X25519 tries.
    diag "charlie's CPU for 2000 carriers: $((c1 - c0)) ticks of 10 ms"
    [ $((c1 - c0)) -lt $((1000 * SLOW)) ]
    ok $? "bounded: under $((5 * SLOW)) ms of CPU a carrier ($((c1 - c0))0 ms for 2000)"
    [ "$(opened charlie)" = "$o0" ] && [ "$(unread charlie)" = "$u0" ]
    ok $? "nothing opened, nothing counted unreadable"
    [ "$(snum charlie sealed carriers_held)" -ge $((h0 + 2000)) ]
    ok $? "charlie holds the carriers, as it would any relayed record"
    im alpha publish --tlp green domain after-flood-64.example >/dev/null
    wait_for 300 has charlie after-flood-64.example
    ok $? "alpha's next record still reaches charlie through bravo"
}

block operator 'operator mistakes on sight and sightings: one line, non-zero, nothing stored' mesh
b_operator () {
    made0=$(snum charlie sightings made_here); held0=$(snum charlie sightings held)
    nothing () {
        [ "$(snum charlie sightings made_here)" = "$made0" ] \
            && [ "$(snum charlie sightings held)" = "$held0" ]
    }
    refused () { # refused DESCRIPTION: the last command's $rc and $err
        [ "$rc" -ne 0 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && nothing
        ok $? "$1 is refused in one line, nothing stored (exit $rc: $err)"
    }
    err=$(awk -v id="$gid" 'BEGIN { for (i = 0; i < 1001; i++) print id }' \
        | im charlie sight - 2>&1 >/dev/null); rc=$?
    refused "sight - with 1001 lines"
    err=$(im charlie sight - 2>&1 </dev/null >/dev/null); rc=$?
    refused "sight - with empty standard input"
    err=$(printf '# only a comment\n\n' | im charlie sight - 2>&1 >/dev/null); rc=$?
    refused "sight - with only a comment and a blank line"
    rid=$(im charlie publish --tlp green domain revoked-64.example) \
        && im charlie revoke "$rid" >/dev/null
    ok $? "charlie publishes an indicator and revokes it"
    made0=$(snum charlie sightings made_here); held0=$(snum charlie sightings held)
    err=$(im charlie sight "$rid" 2>&1 >/dev/null); rc=$?
    refused "sight of a revoked indicator"
    rep=$(im charlie report create "t64 report" --tlp green)
    ok $? "charlie makes a report"
    err=$(im charlie sight "$rep" 2>&1 >/dev/null); rc=$?
    refused "sight of a report's id"
    err=$(im charlie sight "$gid" --share --json --count 0 2>&1 >/dev/null); rc=$?
    refused "sight --share --json --count 0"
    out=$(im charlie sight "zz-not-an-id" --share --json 2>"$T/err"); rc=$?; err=$(cat "$T/err")
    refused "sight --share --json of a bad id"
    printf '%s' "$out" | grep -q '"error"'
    ok $? "with --json the reply still says error on standard output: $out"
    for note in "from 198.51.100.7:51234" "src=198.51.100.7" "host 198.51.100[.]7" \
        "mailto:bob@example.org" "ip:203.0.113.9"; do
        err=$(im charlie sight "$gid" --note "$note" 2>&1 >/dev/null); rc=$?
        refused "a note holding an address ($note)"
    done
    out=$(im charlie sight "$gid" --note "seen 3 times at 10:30, T1566.001, v1.2" 2>&1)
    ok $? "a note with times, counts and a technique is not taken for an address: $out"
    printf '%s 2\r\n' "$gid" | im charlie sight - >/dev/null
    ok $? "sight - takes CRLF lines"
    seen charlie "$gid" '"count":3'
    ok $? "with their count (1 + 2)"
    im charlie sight "$gid" --last-seen 2h >/dev/null 2>&1
    [ $? -ne 0 ]; ok $? "--last-seen 2h (a duration into the future) is refused"
    err=$(im charlie sight "$gid" --first-seen -1h --last-seen -3h 2>&1 >/dev/null); rc=$?
    [ "$rc" -ne 0 ] && printf '%s' "$err" | grep -q "first_seen is after last_seen"
    ok $? "--first-seen -1h --last-seen -3h is refused: $err"
    out=$(im charlie sight "$gid" --last-seen -2h 2>&1)
    ok $? "--last-seen -2h alone (the help's own example) is taken: $out"
}

block stop 'the nodes stop' mesh
b_stop () {
    stop_node "$apid" && stop_node "$bpid" && stop_node "$cpid"
    ok $? "the three nodes stop cleanly"
}

run_blocks "$@"
