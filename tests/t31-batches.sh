#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t31-batches.sh -- origin-signed batches across real nodes (SPEC.md,
# "Batches"): a node signs together only records that every policy treats
# alike, so its policies never split a batch it made; one batch that mixes
# them (made by the migration of a store from before format 2) split by two
# relays under different policies arrives complete where the policies allow,
# each node verifying one signature a batch; and a store made before format
# 2 is migrated on start: the node's
# own records are signed again in batches, others' keep their bytes, and a
# new peer gets them all; and a receiver checks signatures on its worker
# threads (im-verify) while it answers status.
. "$(dirname "$0")/lib.sh"

: "${OLDSTORE:=${top_builddir:-.}/tests/oldstore}"
link () {
    im "$1" peer add "$(im "$2" id)" >/dev/null && im "$2" peer add "$(im "$1" id)" >/dev/null
}
# sig NODE KEY: the number KEY in NODE's status "signatures".
sig () {
    im "$1" status --json | grep -o '"signatures":{[^}]*}' | grep -o "\"$2\":[0-9]*" \
        | cut -d: -f2
}
status_num () { im "$1" status --json | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
holds () { [ "$(status_num "$1" records)" = "$2" ]; }
peer_num () {
    im "$1" peer list --json | sed 's/},{/}\n{/g' | grep "\"name\":\"$2\"" \
        | grep -o "\"$3\":[0-9]*" | cut -d: -f2
}
# verified_ok NODE BATCHES RECORDS: NODE checked each of BATCHES signatures at
# least once and at most once on each of its verifying workers (each keeps its
# own cache of verified roots, and an answer's records are shared among them),
# and took the rest of RECORDS from a cache.
verified_ok () {
    local v c w
    v=$(sig "$1" verified) c=$(sig "$1" cached) w=$(eval verify_threads "\$NODE_PID_$1")
    [ "$w" -ge 1 ] && [ "$v" -ge "$2" ] && [ "$v" -le $(($2 * w)) ] && [ $((v + c)) = "$3" ]
}
# start_all NAMES / stop_all NAMES: each node started, or stopped by its PID;
# the first that fails stops the loop and fails the call.
start_all () { local n; for n; do start_node "$n" || return 1; done; }
stop_all () { local n; for n; do eval "stop_node \$NODE_PID_$n" || return 1; done; }
# need_oldstore: whether tests/oldstore is built (a skip said when not).
need_oldstore () {
    [ -x "$OLDSTORE" ] && return 0
    ok 0 "# SKIP tests/oldstore is not built"
    return 1
}
connected () {
    im "$1" peer list --json | sed 's/},{/}\n{/g' | grep "\"name\":\"$2\"" \
        | grep -q '"connected":true'
}
# ids NODE: the sorted ids of every record NODE holds.
ids () { im "$1" list --json | grep -o '"id":"[^"]*"' | cut -d'"' -f4 | sort; }

block classes 'a node signs together only records that every policy treats alike'
b_classes () {
    for n in alpha bravo charlie delta; do new_node $n || diag "cannot init $n"; done
    link alpha bravo && link alpha charlie && link bravo delta && link charlie delta
    ok $? "alpha-bravo, alpha-charlie, bravo-delta, charlie-delta"
    im alpha policy set only-ipv4 types=ipv4 >/dev/null \
        && im alpha policy set only-domain types=domain >/dev/null \
        && im alpha peer set bravo --policy only-ipv4 >/dev/null \
        && im alpha peer set charlie --policy only-domain >/dev/null
    ok $? "alpha sends bravo only ipv4, charlie only domains (both at most GREEN)"
    start_all alpha bravo charlie delta; ok $? "the four nodes start"
    wait_for 300 connected alpha bravo && wait_for 300 connected alpha charlie \
        && wait_for 300 connected delta bravo && wait_for 300 connected delta charlie
    ok $? "and connect"
    # 40 in one PUBLISH, four classes: 16 GREEN and 4 AMBER of each type
    # (no policy here lets AMBER go). Signed 32 at a time in the order given
    # (before this version), the first batch held 20 ipv4 and 12 domains, and
    # the policies split it: bravo could count the domains withheld from it.
    for i in $(seq 1 20); do
        [ "$i" -gt 16 ] && tlp=amber || tlp=green
        echo "{\"type\":\"ipv4\",\"value\":\"11.31.0.$i\",\"tlp\":\"$tlp\"}"
    done >"$T/items"
    for i in $(seq 1 20); do
        [ "$i" -gt 16 ] && tlp=amber || tlp=green
        echo "{\"type\":\"domain\",\"value\":\"batch-$i.intelmesh-t31.org\",\"tlp\":\"$tlp\"}"
    done >>"$T/items"
    im alpha publish --json - <"$T/items" >"$T/published" 2>"$T/err"
    ok $? "alpha publishes 40 in one request"
    [ "$(sig alpha signed)" = 4 ]
    ok $? "alpha signed 4 batches for 40 records, one a class: $(sig alpha signed)"
    bad=0
    for n in bravo charlie delta; do wait_for 300 holds $n 32 || { bad=1; break; }; done
    [ "$bad" = 0 ]; ok $? "bravo, charlie and delta each hold the 32 GREEN records"
    im alpha list --json | grep -v '"tlp":"amber"' | grep -o '"id":"[^"]*"' | cut -d'"' -f4 \
        | sort >"$T/green"
    bad=0
    for n in bravo charlie delta; do ids $n | cmp -s "$T/green" - || { bad=1; break; }; done
    [ "$bad" = 0 ]; ok $? "each holds exactly alpha's 32 GREEN ids"
    [ "$(peer_num bravo alpha received)" = 16 ] && [ "$(peer_num charlie alpha received)" = 16 ]
    ok $? "alpha sent bravo and charlie 16 each, a whole batch:\
 $(peer_num bravo alpha received), $(peer_num charlie alpha received)"
    bad=0
    for v in 11.31.0.17 batch-20.intelmesh-t31.org; do
        im delta lookup "$v" >/dev/null 2>&1; [ $? -eq 1 ] || { bad=1; break; }
    done
    [ "$bad" = 0 ]; ok $? "no AMBER record reached delta"
    diag "signatures verified / answered from the cache: bravo $(sig bravo verified)/$(sig bravo cached)," \
        "charlie $(sig charlie verified)/$(sig charlie cached), delta $(sig delta verified)/$(sig delta cached)"
    bad=0
    for n in bravo charlie delta; do
        verified_ok $n 2 32 || { bad=1; break; }
    done
    [ "$bad" = 0 ]
    ok $? "each verified the 2 batches' signatures, once a worker at most, for 32 records"
    # 68 more GREEN addresses of 17 confidences by turns: 17 classes open at
    # once, each signed in a batch of 4.
    for i in $(seq 1 68); do
        echo "{\"type\":\"ipv4\",\"value\":\"11.32.0.$i\",\"tlp\":\"green\",\"confidence\":$((50 + i % 17))}"
    done >"$T/more"
    im alpha publish --json - <"$T/more" >/dev/null 2>"$T/err"
    ok $? "alpha publishes 68 more, of 17 confidences by turns"
    [ "$(sig alpha signed)" = 21 ]
    ok $? "and signs 17 batches more, one a class: $(sig alpha signed) in all"
    bad=0
    for n in bravo charlie delta; do wait_for 300 holds $n 100 || { bad=1; break; }; done
    [ "$bad" = 0 ]; ok $? "bravo, charlie and delta each hold the 100 GREEN records"
    # Tags make classes too: 4 records, two of them tagged.
    for i in 1 2 3 4; do
        tags=""; [ "$i" -gt 2 ] && tags=',"tags":["phish"]'
        echo "{\"type\":\"ipv4\",\"value\":\"11.33.0.$i\",\"tlp\":\"green\"$tags}"
    done >"$T/tagged"
    im alpha publish --json - <"$T/tagged" >/dev/null 2>"$T/err" \
        && [ "$(sig alpha signed)" = 23 ]
    ok $? "4 records, 2 tagged, are signed in 2 batches: $(sig alpha signed) in all"
    # A revocation goes to the peers sent an earlier version, which no field
    # tells: each is signed alone.
    im alpha list --json | grep '"value":"11\.33\.' | grep -o '^{"id":"[^"]*"' \
        | cut -d'"' -f4 >"$T/revoke"
    [ "$(wc -l <"$T/revoke")" = 4 ] && im alpha revoke $(cat "$T/revoke") >/dev/null \
        && [ "$(sig alpha signed)" = 27 ]
    ok $? "4 revocations in one request are signed one by one: $(sig alpha signed) in all"
    stop_all alpha bravo charlie delta; ok $? "the four nodes stop"
}

block split 'one batch split by two relays under different policies'
b_split () {
    need_oldstore || return
    for n in sierra tango uniform victor; do new_node $n || diag "cannot init $n"; done
    # sierra's store as before format 2: 40 own records, domains and ipv4
    # addresses by turns, signed again at its start 32 to a batch in key
    # order, both types in each batch.
    "$OLDSTORE" "$T/sierra" 40 0 2 >"$T/sierra.ids" 2>"$T/oldstore.err"
    ok $? "sierra's store is made as before format 2: 40 own records, two types by turns"
    link sierra tango && link sierra uniform && link tango victor && link uniform victor
    ok $? "sierra-tango, sierra-uniform, tango-victor, uniform-victor"
    im sierra policy set only-ipv4 types=ipv4 >/dev/null \
        && im sierra policy set only-domain types=domain >/dev/null \
        && im sierra peer set tango --policy only-ipv4 >/dev/null \
        && im sierra peer set uniform --policy only-domain >/dev/null
    ok $? "sierra sends tango only ipv4, uniform only domains"
    start_all sierra tango uniform victor; ok $? "the four nodes start"
    grep -q "40 records of this node signed again as format 2" "$T/sierra.log"
    ok $? "sierra signed its 40 records again: $(grep -o 'store: [0-9]* records.*' "$T/sierra.log")"
    [ "$(sig sierra signed)" = 2 ]
    ok $? "in 2 batches, both types in each: $(sig sierra signed)"
    wait_for 300 connected sierra tango && wait_for 300 connected sierra uniform \
        && wait_for 300 connected victor tango && wait_for 300 connected victor uniform
    ok $? "and connect"
    bad=0
    for n in tango uniform victor; do wait_for 300 holds $n 40 || { bad=1; break; }; done
    [ "$bad" = 0 ]; ok $? "tango, uniform and victor each hold the 40"
    im sierra list --json | grep -o '"id":"[^"]*"' | cut -d'"' -f4 | sort >"$T/all"
    bad=0
    for n in tango uniform victor; do ids $n | cmp -s "$T/all" - || { bad=1; break; }; done
    [ "$bad" = 0 ]; ok $? "each holds exactly sierra's 40 ids"
    [ "$(peer_num tango sierra received)" = 20 ] && [ "$(peer_num uniform sierra received)" = 20 ]
    ok $? "sierra sent tango and uniform 20 each (its policies split both batches):\
 $(peer_num tango sierra received), $(peer_num uniform sierra received)"
    diag "signatures verified / answered from the cache: tango $(sig tango verified)/$(sig tango cached)," \
        "uniform $(sig uniform verified)/$(sig uniform cached), victor $(sig victor verified)/$(sig victor cached)"
    bad=0
    for n in tango uniform victor; do
        verified_ok $n 2 40 || { bad=1; break; }
    done
    [ "$bad" = 0 ]
    ok $? "each verified the 2 batches' signatures, once a worker at most, for 40 records"
    stop_all sierra tango uniform victor; ok $? "the four nodes stop"
}

block migrate 'a store made before format 2 is migrated on start'
b_migrate () {
    need_oldstore || return
    new_node old && new_node fresh; ok $? "two nodes, old and fresh"
    "$OLDSTORE" "$T/old" 100 50 >"$T/old.ids" 2>"$T/oldstore.err"
    ok $? "old's store is made as before format 2: 100 own records and 50 of another origin"
    link old fresh; ok $? "old and fresh put each other on their trust lists"
    start_node old; ok $? "old starts on the store of schema 1"
    grep -q "100 records of this node signed again as format 2" "$T/old.log"
    ok $? "old signed its 100 records again: $(grep -o 'store: [0-9]* records.*' "$T/old.log")"
    holds old 150; ok $? "old holds all 150 records"
    [ "$(status_num old last_seq)" = 150 ]; ok $? "the change log is as it was (150 changes)"
    id=$(head -1 "$T/old.ids")
    im old lookup --json own-0.old.intelmesh.test >"$T/one" \
        && grep -q "\"id\":\"$id\"" "$T/one" && grep -q '"version":1' "$T/one"
    ok $? "an own record keeps its id and version 1"
    start_node fresh; ok $? "fresh starts"
    wait_for 300 holds fresh 150; ok $? "fresh holds all 150: $(status_num fresh records)"
    diag "fresh verified $(sig fresh verified) signatures and answered $(sig fresh cached) from the cache"
    # 100 own records in batches of 32: 4 roots; 50 of format 1: one each.
    [ "$(sig fresh verified)" = 54 ] && [ "$(sig fresh cached)" = 96 ]
    ok $? "fresh verified 4 batch roots for old's 100 and 50 single signatures"
    stop_node "$NODE_PID_old"; ok $? "old stops"
    start_node old; ok $? "old starts again"
    [ "$(grep -c 'signed again as format 2' "$T/old.log")" = 1 ]
    ok $? "nothing is signed again at the second start"
    holds old 150; ok $? "old still holds 150"
    stop_node "$NODE_PID_old" && stop_node "$NODE_PID_fresh"; ok $? "both stop"
}

# verify_ticks PID: the CPU ticks of PID's verifying workers (im-verify).
verify_ticks () {
    local t total=0
    for t in /proc/"$1"/task/*; do
        [ "$(cat "$t/comm" 2>/dev/null)" = im-verify ] || continue
        total=$((total + $(awk '{ print $14 + $15 }' "$t/stat")))
    done
    echo "$total"
}
verify_threads () { grep -lx im-verify /proc/"$1"/task/*/comm 2>/dev/null | wc -l; }

block workers 'signatures are checked by worker threads while the node answers'
b_workers () {
    new_node pub && new_node sub; ok $? "two nodes, pub and sub"
    link pub sub; ok $? "on each other's trust lists"
    start_node pub; ok $? "pub starts"
    for i in $(seq 0 19999); do echo "ipv4 11.$((i >> 16 & 255)).$((i >> 8 & 255)).$((i & 255))"; done \
        | im pub publish - >/dev/null 2>"$T/err"
    ok $? "pub publishes 20,000 indicators"
    start_node sub; ok $? "sub starts"
    n=$(verify_threads "$NODE_PID_sub")
    [ "$n" -ge 1 ]; ok $? "sub runs verifying workers, one a core: $n threads named im-verify"
    # Status while sub takes them in: every request is answered (each bounded
    # by the CLI's own time-out), and some come while records still arrive.
    asked=0 answered=0 during=0
    while [ "$asked" -lt 600 ]; do
        asked=$((asked + 1))
        n=$(status_num sub records) && answered=$((answered + 1))
        [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt 20000 ] && during=$((during + 1))
        [ "$n" = 20000 ] && break
    done
    [ "$answered" = "$asked" ]; ok $? "sub answered all $asked status requests ($during while records arrived)"
    wait_for 600 holds sub 20000; ok $? "sub holds the 20,000"
    [ $(( $(sig sub verified) + $(sig sub cached) )) -ge 20000 ]
    ok $? "every record was checked: $(sig sub verified) signatures verified, $(sig sub cached) from the cache"
    ticks=$(verify_ticks "$NODE_PID_sub")
    [ "$ticks" -ge 1 ]; ok $? "the checks ran on the workers: $ticks ticks of CPU there"
    stop_node "$NODE_PID_pub" && stop_node "$NODE_PID_sub"; ok $? "both stop"
}

run_blocks "$@"
