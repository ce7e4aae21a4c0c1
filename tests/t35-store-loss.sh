#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t35-store-loss.sh -- a node whose store was lost, or restored from an older
# copy, gets everything back (SPEC.md, "Store restarts"): a line A-B-C, B
# publishes 300 and A 100; B is stopped, its store deleted (block 'lost') or
# its data.mdb replaced by a copy taken when it had 150 of its own (block
# 'restored'), and restarted; B publishes 100 new ones and one old value
# again. B holds its 300 back, A and C hold all 400 of B's, the old value
# keeps its id, and the restart is logged and shown on both sides.
. "$(dirname "$0")/lib.sh"

link () {
    im "$1" peer add "$(im "$2" id)" >/dev/null && im "$2" peer add "$(im "$1" id)" >/dev/null
}
node_id () { im "$1" id | cut -d' ' -f3; }
peer_json () { im "$1" peer list --json | sed 's/},{/}\n{/g' | grep "\"name\":\"$2\""; }
connected () { peer_json "$1" "$2" | grep -q '"connected":true'; }
# of NODE ORIGIN: how many records of ORIGIN (a node id) NODE holds.
of () { im "$1" list --origin "$2" --json | grep -c '"id"'; }
# holds NODE ORIGIN N: NODE holds exactly N records of ORIGIN.
holds () { [ "$(of "$1" "$2")" -eq "$3" ]; }
# field NODE VALUE KEY: KEY ("id", "version") of the record of VALUE at NODE.
field () { im "$1" lookup --json "$2" | grep -o "\"$3\":[^,]*" | head -1 | cut -d: -f2 | tr -d '"'; }
keep_logs () {
    [ "$tap_failed" -eq 0 ] && return
    keep=$(mktemp -d "${TMPDIR:-/tmp}/store-loss-logs.XXXXXX") || return
    cp "$T"/*.log "$keep"/ 2>/dev/null
    echo "# the nodes' logs are kept in $keep"
}
trap 'keep_logs; cleanup' EXIT

# values FIRST N PREFIX: N lines "ipv4 PREFIX.x.y" from FIRST on.
values () {
    awk -v f="$1" -v n="$2" -v p="$3" 'BEGIN { for (i = f; i < f + n; i++)
            printf "ipv4 %s.%d.%d\n", p, int(i / 256), i % 256 }'
}

# loss MODE P: the scenario, with nodes Pa, Pb, Pc; MODE is lost or restored.
loss () {
    mode=$1; a=$2a; b=$2b; c=$2c
    for n in $a $b $c; do new_node $n || diag "cannot init $n"; done
    link $a $b && link $b $c; ok $? "[$mode] a line $a-$b-$c"
    start_node $a && pa=$NODE_PID && start_node $b && pb=$NODE_PID && start_node $c && pc=$NODE_PID
    ok $? "[$mode] the three nodes start"
    wait_for 300 connected $a $b && wait_for 300 connected $c $b; ok $? "[$mode] and connect"
    ida=$(node_id $a); idb=$(node_id $b)

    values 0 150 11.2 | im $b publish - >/dev/null 2>&1
    ok $? "[$mode] $b publishes 150"
    wait_for 600 holds $c "$idb" 150; ok $? "[$mode] $c holds them"
    if [ "$mode" = restored ]; then
        stop_node "$pb"; ok $? "[$mode] $b stops, and a copy of its data.mdb is taken"
        cp "$T/$b/store/data.mdb" "$T/$b.backup"
        start_node $b && pb=$NODE_PID; ok $? "[$mode] $b starts again"
    fi
    values 150 150 11.2 | im $b publish - >/dev/null 2>&1 && values 0 100 11.1 | im $a publish - >/dev/null 2>&1
    ok $? "[$mode] $b publishes 150 more, $a publishes 100"
    wait_for 600 holds $c "$idb" 300 && wait_for 600 holds $c "$ida" 100 \
        && wait_for 600 holds $a "$idb" 300 && wait_for 600 holds $b "$ida" 100
    ok $? "[$mode] all converge: $a and $c hold $b's 300, $b and $c hold $a's 100"
    old_id=$(field $a 11.2.0.200 id)
    diag "[$mode] 11.2.0.200 is $old_id"

    stop_node "$pb"; ok $? "[$mode] $b stops"
    rm -f "$T/$b/store/lock.mdb"
    if [ "$mode" = restored ]; then
        cp "$T/$b.backup" "$T/$b/store/data.mdb"; ok $? "[$mode] the older copy of $b's data.mdb is put back"
    else
        rm -f "$T/$b/store/data.mdb"; ok $? "[$mode] $b's store is deleted (keys and configuration kept)"
    fi
    start_node $b && pb=$NODE_PID; ok $? "[$mode] $b starts again"
    values 0 100 11.3 | im $b publish - >/dev/null 2>&1; ok $? "[$mode] $b publishes 100 new ones"

    wait_for 600 holds $b "$idb" 400; ok $? "[$mode] $b holds its own 300 again, and its 100 new ones"
    wait_for 600 holds $b "$ida" 100; ok $? "[$mode] $b holds $a's 100"
    wait_for 600 holds $a "$idb" 400; ok $? "[$mode] $a holds all 400 of $b's"
    wait_for 600 holds $c "$idb" 400; ok $? "[$mode] $c holds all 400 of $b's"
    diag "[$mode] $b holds $(of $b "$idb") of its own, $(of $b "$ida") of $a's; $a holds $(of $a "$idb") of $b's, $c $(of $c "$idb")"

    im $b publish --description again ipv4 11.2.0.200 >"$T/$b.again" 2>/dev/null
    ok $? "[$mode] $b publishes 11.2.0.200 again"
    [ "$(cat "$T/$b.again")" = "$old_id" ]; ok $? "[$mode] it keeps its old id"
    [ "$(field $b 11.2.0.200 version)" -ge 2 ]; ok $? "[$mode] with a higher version"
    wait_for 600 sh -c "[ \"\$($INTELMESH -d $T/$c lookup --json 11.2.0.200 | grep -o '\"version\":[0-9]*')\" = '\"version\":2' ]"
    ok $? "[$mode] which reaches $c"
    holds $a "$idb" 400 && holds $c "$idb" 400; ok $? "[$mode] $a and $c still hold 400 of $b's (no second id)"

    peer_json $a $b | grep -q '"store_restarted":"[0-9]'; ok $? "[$mode] $a's peer list shows $b's store restarted"
    peer_json $c $b | grep -q '"store_restarted":"[0-9]'; ok $? "[$mode] $c's peer list shows it too"
    im $b status --json | grep -q '"store_restarted":{"time":"[0-9]'; ok $? "[$mode] $b's status shows its store restarted"
    im $a peer list | grep -q "store  *restarted at"; ok $? "[$mode] peer list says so in words"
    grep -q "store of this node is older than what" "$T/$b.log"; ok $? "[$mode] $b's log says its store is older than what a peer applied"
    grep -q "$b's store restarted (lost or restored): pulling its changes again from" "$T/$a.log"
    ok $? "[$mode] $a's log says $b's store restarted"
    if [ "$mode" = lost ]; then
        grep -q "the store was made anew although this node's keys exist" "$T/$b.log"
        ok $? "[$mode] $b's log says its store was made anew"
    fi
    stop_node "$pa" && stop_node "$pb" && stop_node "$pc"; ok $? "[$mode] the three nodes stop"
}

block lost 'a store deleted: the node gets its own records back, and what it publishes travels'
b_lost () {
    loss lost L
}

block restored 'an older copy of data.mdb restored: the same'
b_restored () {
    loss restored R
}

run_blocks "$@"
