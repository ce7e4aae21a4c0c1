#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t25-node-crash.sh -- kill -9 the daemon in the middle of a bulk publish: every
# indicator whose id was acknowledged is still there after a restart, the
# store opens cleanly, and the node goes on working.
. "$(dirname "$0")/lib.sh"

D="$T/alpha"
im () { "$INTELMESH" -d "$D" "$@"; }

block start 'a node is initialised and starts'
b_start () {
    new_node alpha; ok $? "a node is initialised"
    start_node alpha; ok $? "the node starts"
    pid=$NODE_PID
}

block kill 'SIGKILL in the middle of a bulk publish' start
b_kill () {
    node_up alpha; pid=$NODE_PID
    # 60,000 distinct indicators, published in batches; ids are printed as each
    # batch is acknowledged.
    for a in $(seq 0 59); do
        for b in $(seq 0 999); do echo "ipv4 11.$a.$((b / 250)).$((b % 250))"; done
    done >"$T/bulk"
    im publish - <"$T/bulk" >"$T/acked" 2>"$T/publish.err" &
    pub_pid=$!; PIDS="$PIDS $pub_pid"

    # Kill the daemon once a good part, but not all, has been acknowledged.
    wait_for 600 sh -c "[ \$(wc -l <'$T/acked') -ge 5000 ]"; ok $? "5000 indicators acknowledged"
    kill -KILL "$pid"
    wait_gone "$pid" 50; ok $? "the daemon is killed with SIGKILL mid-stream"
    wait_gone "$pub_pid" 100; ok $? "the publisher notices and stops"
    acked=$(wc -l <"$T/acked")
    diag "$acked of 60000 acknowledged before the kill"
    [ "$acked" -lt 60000 ]; ok $? "the kill came before the end of the stream"
    grep -q "stopped early" "$T/publish.err"; ok $? "the publisher says it stopped early"
}

block restart 'after the kill every acknowledged indicator is there, once' kill
b_restart () {
    start_node alpha; ok $? "the node restarts after the kill"
    pid=$NODE_PID
    im list --json | grep -o '"id":"[^"]*"' | cut -d'"' -f4 | sort >"$T/stored"
    sort "$T/acked" >"$T/acked.sorted"
    missing=$(comm -23 "$T/acked.sorted" "$T/stored" | wc -l)
    diag "$(wc -l <"$T/stored") stored, $missing acknowledged but missing"
    [ "$missing" -eq 0 ]; ok $? "every acknowledged indicator survived the kill"
    [ "$(sort -u "$T/stored" | wc -l)" -eq "$(wc -l <"$T/stored")" ]; ok $? "no indicator is stored twice"
    stored=$(wc -l <"$T/stored")
    im status --json | grep -q "\"live\":$stored,"; ok $? "the counters agree with the records"
}

block again 'the stream published again completes it without duplicates' restart
b_again () {
    node_up alpha; pid=$NODE_PID
    # Publishing the whole stream again completes it without duplicates.
    im publish - <"$T/bulk" >/dev/null 2>"$T/publish.err"; ok $? "the stream is published again in full"
    im status --json | grep -q '"live":60000,'; ok $? "exactly 60000 indicators are held"
    im lookup 11.59.3.249 >/dev/null; ok $? "the last one is found"
    stop_node "$pid"; ok $? "the node stops"
}

run_blocks "$@"
