#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t26-lookup-compact.sh -- the compact batch LOOKUP that `intelmesh lookup -`
# asks for its text output (SPEC.md, "LOOKUP"): short arrays per value, match
# and tombstone, values that need JSON escaping, the batch limit, and the
# text of `lookup -` the same as one `lookup` a value.
. "$(dirname "$0")/lib.sh"

: "${CTL_CALL:=${top_builddir:-.}/tests/ctl_call}"
D="$T/alpha"
im () { "$INTELMESH" -d "$D" "$@"; }
# A value with a quote, backslashes and a non-ASCII letter, and a tag alike.
ODD='C:\Temp\"évil" x.exe'

block start 'a node with live, odd and revoked indicators'
b_start () {
    new_node alpha && start_node alpha; ok $? "the node starts"
    printf 'ipv4 192.0.2.1\nipv4 198.51.100.0/24\n' | im publish - >/dev/null 2>&1
    ok $? "two addresses are published"
    im publish --tag 'say "hi" \o/' --valid-until 2099-01-01 filename "$ODD" >/dev/null
    ok $? "a file name with a quote and backslashes is published"
    id=$(im publish domain gone.example.com) && im revoke "$id" >/dev/null
    ok $? "a domain is published and revoked"
}

block compact 'the compact form: an array per value, per match, per tombstone' start
b_compact () {
    echo '{"compact":true,"values":[{"value":"192.0.2.1"},{"value":"203.0.113.9"},{"value":"gone.example.com"},{"value":"http://x"}]}' \
        | "$CTL_CALL" "$D" LOOKUP >"$T/out" 2>"$T/err"
    ok $? "a compact batch is answered: $(cat "$T/err")"
    grep -q '^{"results":\[\["ipv4","192.0.2.1",\[\["[0-9a-f-]\{36\}","[0-9a-f]\{64\}",1,"put","ipv4","192.0.2.1","green",50,true,null,\[\]\]\],false,\[\]\],' "$T/out"
    ok $? "a found value: its match as an array: $(cut -c1-200 "$T/out")"
    grep -q ',\["ipv4","203.0.113.9",\[\],false,\[\]\],' "$T/out"
    ok $? "a value not known: no matches, no tombstones"
    grep -q ',\["domain","gone.example.com",\[\],false,\[\["[0-9a-f-]\{36\}","[0-9a-f]\{64\}","domain","gone.example.com","[0-9T:Z-]*","this node"\]\]\],' "$T/out"
    ok $? "a revoked value: its tombstone, revoked by this node"
    grep -q ',{"value":"http://x","error":"value: .*"}\]}$' "$T/out"
    ok $? "a value that cannot be read: its error, as an object"
    echo '{"compact":"yes","values":[{"value":"192.0.2.1"}]}' \
        | "$CTL_CALL" "$D" LOOKUP >"$T/out" 2>"$T/err"
    [ $? -eq 1 ] && grep -q "'compact' must be true or false" "$T/err"
    ok $? "a compact that is not a boolean is refused: $(cat "$T/err")"
}

block escaped 'a value and a tag that need JSON escaping' start
b_escaped () {
    printf '{"compact":true,"values":[{"value":"%s","type":"filename"}]}' \
        "$(printf '%s' "$ODD" | sed 's/[\\"]/\\&/g')" \
        | "$CTL_CALL" "$D" LOOKUP >"$T/out" 2>"$T/err"
    ok $? "the odd value is looked up: $(cat "$T/err")"
    grep -qF '"filename","C:\\Temp\\\"évil\" x.exe","green",50,true,"2099-01-01T00:00:00Z",["say \"hi\" \\o/"]]' "$T/out"
    ok $? "it comes back escaped, with its tag and end: $(cat "$T/out")"
    printf '%s\n' "$ODD" | im lookup --type filename - >"$T/batch"
    ok $? "lookup - finds it"
    im lookup --type filename "$ODD" >"$T/one"
    cmp -s "$T/batch" "$T/one"; ok $? "and prints what one lookup prints: $(cat "$T/batch")"
    grep -qF 'tags say "hi" \\o/  until 2099-01-01T00:00:00Z' "$T/batch"
    ok $? "the tag and the end as given"
}

block same 'lookup - prints what one lookup a value prints' start
b_same () {
    printf '192.0.2.1\n198.51.100.7\n203.0.113.9\ngone.example.com\n' >"$T/values"
    im lookup - <"$T/values" >"$T/batch"; [ $? -eq 1 ]; ok $? "exit 1: some not known"
    while read -r v; do im lookup "$v"; done <"$T/values" >"$T/one"
    cmp -s "$T/batch" "$T/one"; ok $? "the same lines: $(diff "$T/batch" "$T/one")"
}

block limit 'the compact form keeps the limit of 1000 values' start
b_limit () {
    body () { printf '{"compact":true,"values":['; seq 1 "$1" | sed 's/.*/{"value":"192.0.2.1"}/' | paste -sd,; printf ']}'; }
    body 1000 | "$CTL_CALL" "$D" LOOKUP >"$T/out" 2>"$T/err"
    ok $? "1000 values are answered"
    [ "$(grep -o '\["ipv4","192.0.2.1",\[\[' "$T/out" | wc -l)" -eq 1000 ]
    ok $? "all 1000, in the compact form"
    body 1001 | "$CTL_CALL" "$D" LOOKUP >"$T/out" 2>"$T/err"
    [ $? -eq 1 ] && grep -q "'values': 1001 values, at most 1000 per LOOKUP" "$T/err"
    ok $? "1001 are refused: $(cat "$T/err")"
}

block budget 'the 10000 matches of one reply: cut where the full form cuts' start
b_budget () {
    for l in $(seq 16 32); do echo "ipv4 10.9.0.0/$l"; done | im publish --force - >/dev/null 2>&1
    ok $? "17 nested prefixes are published"
    body () { printf '{%s"values":[' "$1"; seq 1 1000 | sed 's/.*/{"value":"10.9.0.0"}/' | paste -sd,; printf ']}'; }
    body '"compact":true,' | "$CTL_CALL" "$D" LOOKUP >"$T/compact" 2>"$T/err"
    ok $? "1000 values with 17 matches each are answered: $(cat "$T/err")"
    body '' | "$CTL_CALL" "$D" LOOKUP >"$T/full" 2>"$T/err"
    full=$(grep -o '"truncated":[a-z]*' "$T/full" | tr '\n' ' ' | sed 's/"truncated"://g')
    compact=$(grep -o '\],[a-z]\+,\[' "$T/compact" | tr '\n' ' ' | sed 's/[],[]//g')
    [ "$(echo "$compact" | wc -w)" -eq 1000 ] && [ "$compact" = "$full" ] \
        && [ "$(echo "$compact" | tr ' ' '\n' | grep -c true)" -gt 400 ]
    ok $? "the same values are cut as in the full form (588 whole, then cut)"
    [ "$(grep -o '"[0-9a-f-]\{36\}","[0-9a-f]\{64\}",1,"put"' "$T/compact" | wc -l)" -eq 10000 ]
    ok $? "10000 matches in all"
    seq 1 1000 | sed 's/.*/10.9.0.0/' | im lookup - >"$T/out"
    ok $? "lookup - finds them all"
    [ "$(grep -c '^(only the first [0-9]* matches are shown)$' "$T/out")" -eq "$(echo "$compact" | tr ' ' '\n' | grep -c true)" ]
    ok $? "and says so for each value cut"
}

run_blocks "$@"
