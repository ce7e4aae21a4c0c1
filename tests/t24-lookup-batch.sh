#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t24-lookup-batch.sh -- `intelmesh lookup -`: values from standard input,
# answered in batches in input order, as text or JSON lines; bad lines named
# by number; exit status; and the node's cap on a batch LOOKUP.
. "$(dirname "$0")/lib.sh"

: "${CTL_CALL:=${top_builddir:-.}/tests/ctl_call}"
D="$T/alpha"
im () { "$INTELMESH" -d "$D" "$@"; }

block start 'a node with three indicators'
b_start () {
    new_node alpha && start_node alpha; ok $? "the node starts"
    printf 'ipv4 192.0.2.1\nipv4 198.51.100.0/24\ndomain evil.example.com\n' \
        | im publish - >/dev/null 2>&1
    ok $? "three indicators are published"
}

block order 'found and not found, in input order; exit 0 and 1' start
b_order () {
    printf '192.0.2.1\n203.0.113.9\n# a comment\n\nevil.example.com\n198.51.100.77\n' \
        | im lookup - >"$T/out" 2>"$T/err"
    [ $? -eq 1 ]; ok $? "some values not known: exit 1"
    [ "$(cut -d' ' -f1-2 "$T/out")" = "ipv4 192.0.2.1
ipv4 203.0.113.9:
domain evil.example.com
ipv4 198.51.100.0/24" ]; ok $? "one answer per value, in input order: $(cat "$T/out")"
    grep -q "^ipv4 198.51.100.0/24 (contains 198.51.100.77)" "$T/out"
    ok $? "an address is found through its prefix, as by one lookup"
    [ ! -s "$T/err" ]; ok $? "nothing on standard error"
    printf '192.0.2.1\nEVIL.example.com.\n' | im lookup - >"$T/out"
    ok $? "every value found: exit 0"
    # More than one batch: 2,500 values, known ones among them.
    for i in $(seq 0 2499); do
        case $i in 7 | 1500 | 2499) echo 192.0.2.1 ;; *) echo "10.1.$((i / 250)).$((i % 250))" ;; esac
    done >"$T/many"
    im lookup - <"$T/many" >"$T/out"; [ $? -eq 1 ]; ok $? "2,500 values: exit 1"
    [ "$(wc -l <"$T/out")" -eq 2500 ]; ok $? "2,500 answers"
    [ "$(grep -n '^ipv4 192.0.2.1 ' "$T/out" | cut -d: -f1 | tr '\n' ' ')" = "8 1501 2500 " ]
    ok $? "the known ones at their lines across batches"
    [ "$(sed -n 2000p "$T/out")" = "ipv4 $(sed -n 2000p "$T/many"): not known" ]
    ok $? "and the others at theirs"
}

block json '--json: one object per value, in order' start
b_json () {
    printf '192.0.2.1\n203.0.113.9\n' | im lookup --json - >"$T/out"
    [ $? -eq 1 ]; ok $? "exit 1 with one not known"
    [ "$(wc -l <"$T/out")" -eq 2 ]; ok $? "two lines"
    sed -n 1p "$T/out" | grep -q '^{"type":"ipv4","value":"192.0.2.1","matches":\[{'
    ok $? "the first with its match"
    sed -n 2p "$T/out" | grep -q '"value":"203.0.113.9","matches":\[\]'
    ok $? "the second with none"
}

block bad 'a bad line: its number, the rest answered, exit 2' start
b_bad () {
    printf '192.0.2.1\nhttp://x\n203.0.113.9\n' | im lookup - >"$T/out" 2>"$T/err"
    [ $? -eq 2 ]; ok $? "exit 2"
    [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^intelmesh: lookup: line 2: 'http://x' has no valid host" "$T/err"
    ok $? "one line names it: $(cat "$T/err")"
    [ "$(wc -l <"$T/out")" -eq 2 ] && grep -q "^ipv4 203.0.113.9: not known" "$T/out"
    ok $? "the other lines are answered"
    printf 'evil.example.com\n192.0.2.1\n' | im lookup --type ipv4 - >"$T/out" 2>"$T/err"
    [ $? -eq 2 ] && grep -q "line 1: " "$T/err" && grep -q "^ipv4 192.0.2.1 " "$T/out"
    ok $? "--type applies to every line"
}

block cap 'the node refuses a batch over 1000 values' start
b_cap () {
    body () { printf '{"values":['; seq 1 "$1" | sed 's/.*/{"value":"10.2.0.1"}/' | paste -sd,; printf ']}'; }
    body 1000 | "$CTL_CALL" "$D" LOOKUP >"$T/out" 2>"$T/err"
    ok $? "1000 values are answered"
    [ "$(grep -o '"value":"10.2.0.1"' "$T/out" | wc -l)" -eq 1000 ]; ok $? "all 1000"
    body 1001 | "$CTL_CALL" "$D" LOOKUP >"$T/out" 2>"$T/err"
    [ $? -eq 1 ] && grep -q "'values': 1001 values, at most 1000 per LOOKUP" "$T/err"
    ok $? "1001 are refused: $(cat "$T/err")"
    echo '{"values":[{"value":"192.0.2.1"},{"value":"http://x"}]}' \
        | "$CTL_CALL" "$D" LOOKUP >"$T/out"
    grep -q '{"value":"http://x","error":"value: ' "$T/out"
    ok $? "a bad value in a batch is answered with its error"
}

run_blocks "$@"
