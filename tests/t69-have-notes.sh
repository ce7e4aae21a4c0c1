#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t69-have-notes.sh -- a peer's HAVE notes (SPEC.md, "HAVE"): what a peer
# says it holds is never sent to it, and what it did not name still is.
# Block noted: bravo publishes 150; a puller (tests/puller) pulls them all,
# says HAVE of the keys of all but the first, and pulls from the same cursor
# again: the answer holds that one record only; and again after bravo
# restarts (the cache of notes hashes keys under a new seed each run).
. "$(dirname "$0")/lib.sh"
need_puller

# noted_pull OUT: the puller pulls bravo from 0, says HAVE of all but the
# first record it got, and pulls from 0 again (tests/puller.c); answers in OUT.
noted_pull () {
    bounded 120 "$PULLER" --keys "$T/puller.keys" --cursor 0 --noted \
        "$(card_field bravo 5)" "$(card_field bravo 4)" >"$1"
}
# count FILE PREFIX: the records of FILE's first line starting with PREFIX.
count () { awk -v p="$2" 'index($0, p) == 1 { print $(split(p, a, " ") + 1); exit }' "$1"; }

block noted 'records a peer said it holds are not sent to it; the others are'
b_noted () {
    new_node bravo && fake card --name puller --keys "$T/puller.keys" >"$T/puller.card" \
        && im bravo peer add "$(cat "$T/puller.card")" >/dev/null && start_node bravo
    ok $? "bravo, trusting the puller, starts"
    bpid=$NODE_PID
    seq 0 149 | awk '{ printf "ipv4 11.2.%d.%d\n", $1 / 100, $1 % 100 }' \
        | im bravo publish - >/dev/null 2>&1 && [ "$(im bravo list --json | wc -l)" = 150 ]
    ok $? "bravo publishes 150"
    noted_pull "$T/p2.out"
    [ "$(count "$T/p2.out" "RECORDS")" = 150 ]
    ok $? "the puller's pull from 0 gets the 150 ($(head -1 "$T/p2.out"))"
    [ "$(count "$T/p2.out" "NOTED RECORDS")" = 1 ]
    ok $? "after a HAVE of 149 of them, a pull from 0 again gets the one it did not name ($(tail -1 "$T/p2.out"))"
    stop_node "$bpid" && start_node bravo && bpid=$NODE_PID
    ok $? "bravo restarts"
    noted_pull "$T/p3.out"
    [ "$(count "$T/p3.out" "RECORDS")" = 150 ] && [ "$(count "$T/p3.out" "NOTED RECORDS")" = 1 ]
    ok $? "and so it does in bravo's next run ($(tr '\n' '|' <"$T/p3.out"))"
    stop_node "$bpid"; ok $? "bravo stops"
}

run_blocks "$@"
