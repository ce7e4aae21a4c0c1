#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t33-batch-attacks.sh -- red team on origin-signed batches (SPEC.md,
# "Batches", "Storage and durability"): a peer that sends every record under
# a root of its own costs the node one verification a record, against one a
# batch (numbers compared in one run, no timed assertion); a store of schema 1
# with 200,000 own records killed (SIGKILL) while it is signed again loses
# nothing and ends all of format 2; own tombstones and later versions keep
# their versions and bodies when signed again.
. "$(dirname "$0")/lib.sh"

: "${OLDSTORE:=${top_builddir:-.}/tests/oldstore}"
status_num () { im "$1" status --json | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
sig () {
    im "$1" status --json | grep -o '"signatures":{[^}]*}' | grep -o "\"$2\":[0-9]*" \
        | cut -d: -f2
}
holds () { [ "$(status_num "$1" records)" = "$2" ]; }
card_field () { im "$1" id | awk -v f="$2" '{ print $f }'; }
# count NODE WORD: the number after WORD in 'oldstore --count' of NODE's store.
count () { "$OLDSTORE" --count "$T/$1" | awk -v w="$2" '{ for (i = 1; i < NF; i++) if ($i == w) print $(i + 1) }'; }
resealing () { [ "$(count "$1" format2)" -gt 0 ]; }
# kept NODE: id, version, op and body hash of each record in NODE's store.
kept () { "$OLDSTORE" --dump "$T/$1" | awk '{ print $1, $2, $3, $4, $7 }'; }
# old_node NAME NOWN NOTHER [HISTORY]: a node NAME whose store is made by
# tests/oldstore as before format 2.
old_node () { new_node "$1" && "$OLDSTORE" "$T/$1" "${@:2}" >/dev/null 2>"$T/oldstore.err"; }

block flood 'records each under its own root cost one verification each'
b_flood () {
    if [ ! -x "${MALLORY:-}" ]; then
        ok 0 "# SKIP mallory is not built"
        return
    fi
    new_node victor; ok $? "victor"
    [ -s "$T/mallory.card" ] || fake card --name mallory --keys "$T/mallory.keys" >"$T/mallory.card"
    im victor peer add "$(cat "$T/mallory.card")" >/dev/null; ok $? "victor trusts mallory"
    start_node victor; ok $? "victor starts"
    ep=$(card_field victor 5) key=$(card_field victor 4)
    bounded 120 "$MALLORY" --keys "$T/mallory.keys" --target "$ep" "$key" origins 1000 \
        --batch 1 >"$T/one.out" 2>&1
    ok $? "mallory sends 1000 records, each of its own origin and root"
    wait_for 300 holds victor 1000; ok $? "victor holds them"
    v1=$(sig victor verified)
    [ "$v1" = 1000 ]; ok $? "victor verified 1000 signatures for them: $v1"
    bounded 120 "$MALLORY" --keys "$T/mallory.keys" --target "$ep" "$key" origins 1000 \
        --batch 32 >"$T/many.out" 2>&1
    ok $? "mallory sends 1000 records of 32 origins, 32 to a root"
    wait_for 300 holds victor 2000; ok $? "victor holds them"
    v2=$(($(sig victor verified) - v1))
    [ "$v2" = 32 ] && [ "$(sig victor cached)" = 968 ]
    ok $? "victor verified 32 roots and checked 968 records against them: $v2, $(sig victor cached)"
    t1=$(grep -o 'took [0-9]* us' "$T/one.out" | cut -d' ' -f2)
    t32=$(grep -o 'took [0-9]* us' "$T/many.out" | cut -d' ' -f2)
    sed "s/^/# /" "$T/one.out" "$T/many.out"
    [ -n "$t1" ] && [ -n "$t32" ] && [ "$t32" -gt 0 ] \
        && diag "victor applied 1000 records of 1000 roots in $((t1 / 1000)) ms, of 32 roots in" \
            "$((t32 / 1000)) ms: $(awk -v a="$t1" -v b="$t32" 'BEGIN { printf "%.1f", a / b }') times"
    stop_node "$NODE_PID_victor"; ok $? "victor stops"
}

block reseal_kill 'a store of schema 1 killed while signed again loses nothing'
b_reseal_kill () {
    [ -x "$OLDSTORE" ] || { ok 0 "# SKIP tests/oldstore is not built"; return; }
    old_node big 200000 0
    ok $? "big's store is of schema 1 with 200,000 own records of format 1"
    kept big >"$T/before"
    "$INTELMESHD" -d "$T/big" --foreground 2>>"$T/big.log" &
    pid=$!; PIDS="$PIDS $pid"
    wait_for 600 resealing big
    kill -9 "$pid" && { wait "$pid" 2>/dev/null; true; }
    ok $? "big is killed (SIGKILL) once it has signed some again"
    f1=$(count big format1) f2=$(count big format2)
    diag "at the kill: $f1 of format 1, $f2 of format 2"
    [ "$((f1 + f2))" = 200000 ] && [ "$(count big own)" = 200000 ]
    ok $? "all 200,000 are there, of either format"
    [ "$f1" -gt 0 ] || diag "(the reseal was over before the kill: this run proves less)"
    grep -q 'signed again as format 2' "$T/big.log"; [ $? -ne 0 ] || [ "$f1" = 0 ]
    ok $? "nothing was logged as complete while records of format 1 were left"
    start_node big; ok $? "big starts again"
    [ "$(grep -c 'signed again as format 2' "$T/big.log")" = 1 ]
    ok $? "the log line appears once: $(grep -o 'store: [0-9]* records of this node.*' "$T/big.log")"
    [ "$(count big format1)" = 0 ] && [ "$(count big format2)" = 200000 ]
    ok $? "all 200,000 are of format 2"
    [ "$(status_num big records)" = 200000 ] && [ "$(status_num big last_seq)" = 200000 ]
    ok $? "status: 200,000 records, the change log as it was"
    [ "$("$OLDSTORE" --dump "$T/big" | awk '$6 != 1' | wc -l)" = 0 ]; ok $? "every one verifies"
    kept big | cmp -s "$T/before" -
    ok $? "with the same ids, versions, ops and bodies"
    stop_node "$NODE_PID_big"; ok $? "big stops"
}

block reseal_history 'own tombstones and later versions keep their versions when signed again'
b_reseal_history () {
    [ -x "$OLDSTORE" ] || { ok 0 "# SKIP tests/oldstore is not built"; return; }
    old_node hist 300 20 1
    ok $? "hist's store is of schema 1: 300 own records (30 at version 3, 38 revoked at 2), 20 of another origin"
    "$OLDSTORE" --dump "$T/hist" >"$T/before"
    [ "$(awk '$3 == 3' "$T/before" | wc -l)" = 30 ] && [ "$(awk '$4 == 2' "$T/before" | wc -l)" = 38 ]
    ok $? "30 records at version 3 and 38 tombstones before"
    start_node hist; ok $? "hist starts"
    grep -q '300 records of this node signed again' "$T/hist.log"; ok $? "all 300 own are signed again"
    "$OLDSTORE" --dump "$T/hist" >"$T/after"
    awk '{ print $1, $2, $3, $4, $7 }' "$T/before" >"$T/b"
    kept hist | cmp -s "$T/b" -
    ok $? "the same ids, versions, ops and bodies"
    own=$(awk '{ print $1 }' "$T/after" | sort | uniq -c | sort -n | tail -1 | awk '{ print $2 }')
    [ "$(awk -v o="$own" '$1 == o && !($5 == 2 && $6 == 1)' "$T/after" | wc -l)" = 0 ]
    ok $? "every own record is of format 2 and verifies"
    [ "$(awk -v o="$own" '$1 != o && $5 == 1' "$T/after" | wc -l)" = 20 ]
    ok $? "the other origin's 20 keep format 1"
    [ "$(status_num hist revoked)" = 38 ] && [ "$(status_num hist live)" = 282 ]
    ok $? "status counts 38 revoked and 282 live: $(status_num hist revoked), $(status_num hist live)"
    [ "$(status_num hist last_seq)" = 418 ]; ok $? "the change log is as it was (418 changes)"
    stop_node "$NODE_PID_hist"; ok $? "hist stops"
}

# FAILS until the fix proposed with it: the text of `status` says nothing of
# signatures, and the batches signed at a reseal are not counted as signed.
block status_text 'status shows what was signed and verified, in words'
b_status_text () {
    [ -x "$OLDSTORE" ] || { ok 0 "# SKIP tests/oldstore is not built"; return; }
    old_node texty 100 0; ok $? "texty's store is of schema 1 with 100 own records"
    start_node texty; ok $? "texty starts and signs them again"
    [ "$(sig texty signed)" = 4 ]; ok $? "status counts the 4 batches signed at the reseal: $(sig texty signed)"
    im texty status >"$T/status.txt"
    grep -q '^signatures .*signed 4 batches' "$T/status.txt"
    ok $? "the text of status has a line on signatures: $(grep '^signatures' "$T/status.txt")"
    stop_node "$NODE_PID_texty"; ok $? "texty stops"
}

run_blocks "$@"
