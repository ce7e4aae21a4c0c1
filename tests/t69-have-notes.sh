#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t69-have-notes.sh -- a peer's HAVE notes (SPEC.md, "HAVE"): what a peer
# says it holds is never sent to it, and what it did not name still is.
# Block noted: bravo publishes 150; a puller (tests/puller) pulls them all,
# says HAVE of the keys of all but the first, and pulls from the same cursor
# again: the answer holds that one record only; a new session of the puller
# starts with no notes (all 150 again); and so after bravo restarts (its
# cache starts empty). Block chosen: an origin chooses its records'
# ids; two ids that differ in the three bits that cancelled out in the
# cache's first, unkeyed hash (helper 70) are told apart: a HAVE of one
# does not keep the other from the puller.
. "$(dirname "$0")/lib.sh"
need_puller

# noted_pull OUT [NODE KEYS]: the puller (keys KEYS, puller.keys) pulls NODE
# (bravo) from 0, says HAVE of all but the first record it got, and pulls
# from 0 again (tests/puller.c); answers in OUT.
noted_pull () {
    bounded 120 "$PULLER" --keys "$T/${3:-puller}.keys" --cursor 0 --noted \
        "$(card_field "${2:-bravo}" 5)" "$(card_field "${2:-bravo}" 4)" >"$1"
}
# trusting NODE PULLER: a new node NODE that trusts the puller PULLER (keys
# in PULLER.keys), started; its PID in NODE_PID.
trusting () {
    new_node "$1" && fake card --name "$2" --keys "$T/$2.keys" >"$T/$2.card" \
        && im "$1" peer add "$(cat "$T/$2.card")" >/dev/null && start_node "$1"
}
# count FILE PREFIX: the records of FILE's first line starting with PREFIX.
count () { awk -v p="$2" 'index($0, p) == 1 { print $(split(p, a, " ") + 1); exit }' "$1"; }

block noted 'records a peer said it holds are not sent to it; the others are'
b_noted () {
    trusting bravo puller; ok $? "bravo, trusting the puller, starts"
    bpid=$NODE_PID
    seq 0 149 | awk '{ printf "ipv4 11.2.%d.%d\n", $1 / 100, $1 % 100 }' \
        | im bravo publish - >/dev/null 2>&1 && [ "$(im bravo list --json | wc -l)" = 150 ]
    ok $? "bravo publishes 150"
    noted_pull "$T/p2.out"
    [ "$(count "$T/p2.out" "RECORDS")" = 150 ]
    ok $? "the puller's pull from 0 gets the 150 ($(head -1 "$T/p2.out"))"
    [ "$(count "$T/p2.out" "NOTED RECORDS")" = 1 ]
    ok $? "after a HAVE of 149 of them, a pull from 0 again gets the one it did not name ($(tail -1 "$T/p2.out"))"
    noted_pull "$T/p2b.out"
    [ "$(count "$T/p2b.out" "RECORDS")" = 150 ] && [ "$(count "$T/p2b.out" "NOTED RECORDS")" = 1 ]
    ok $? "a new session of the puller starts with no notes: 150 again, then the one ($(tr '\n' '|' <"$T/p2b.out"))"
    stop_node "$bpid" && start_node bravo && bpid=$NODE_PID
    ok $? "bravo restarts"
    noted_pull "$T/p3.out"
    [ "$(count "$T/p3.out" "RECORDS")" = 150 ] && [ "$(count "$T/p3.out" "NOTED RECORDS")" = 1 ]
    ok $? "and so it does in bravo's next run ($(tr '\n' '|' <"$T/p3.out"))"
    stop_node "$bpid"; ok $? "bravo stops"
}

# domain NAME ID: a publish line of a domain with the id ID.
domain () { printf '{"type":"domain","value":"%s","tlp":"green","id":"%s"}\n' "$1" "$2"; }

block chosen 'ids an origin chose to collide in an unkeyed hash are told apart'
b_chosen () {
    trusting carol puller2; ok $? "carol, trusting a second puller, starts"
    cpid=$NODE_PID
    # B first (the one not named), then C and A; A and B differ in id bytes
    # 7 and 15 (0x80) and 12 (0x04).
    { domain b.intelmesh-tests.net 01890a5d-ac96-7a32-80e2-4c1b780e6a91
      domain c.intelmesh-tests.net 01890a5d-ac96-7ab2-80e2-4c1b7c0e6a91
      domain a.intelmesh-tests.net 01890a5d-ac96-7ab2-80e2-4c1b7c0e6a11; } \
        | im carol publish - >"$T/chosen.out" 2>&1
    ok $? "carol publishes B, C and A with the ids given ($(tr '\n' '|' <"$T/chosen.out"))"
    noted_pull "$T/p4.out" carol puller2
    [ "$(count "$T/p4.out" "RECORDS")" = 3 ] && [ "$(count "$T/p4.out" "NOTED RECORDS")" = 1 ]
    ok $? "after a HAVE of C and A, a pull from 0 again gets B ($(tr '\n' '|' <"$T/p4.out"))"
    stop_node "$cpid"; ok $? "carol stops"
}

run_blocks "$@"
