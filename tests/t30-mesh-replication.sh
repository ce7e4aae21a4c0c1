#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t30-mesh-replication.sh -- nodes replicating over CurveZMQ: a line A-B-C (only
# CLEAR and GREEN travel, --reach is honoured, revocations travel, nothing
# goes back to its origin, the feed sees each arrival once, both directions
# work), a ring of five converging on 400 indicators, a dial-in-only peer,
# two running nodes peered one after the other, and a node stopped (SIGTERM,
# then SIGKILL) in the middle of a stream of 100,000 indicators, after which
# all three hold the same 100,000, each applied once.
. "$(dirname "$0")/lib.sh"

# link X Y: X and Y put each other on their trust lists, dialling the
# endpoint in the other's card.
link () {
    im "$1" peer add "$(im "$2" id)" >/dev/null && im "$2" peer add "$(im "$1" id)" >/dev/null
}
node_id () { im "$1" id | cut -d' ' -f3; }
# ids NODE: the sorted ids of every record NODE holds, live or revoked.
ids () { im "$1" list --json | grep -o '"id":"[^"]*"' | cut -d'"' -f4 | sort; }
# status_num NODE KEY: the first number "KEY":N in NODE's status --json.
status_num () { im "$1" status --json | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
# peer_json NODE PEER: PEER's object in NODE's peer list --json.
peer_json () { im "$1" peer list --json | sed 's/},{/}\n{/g' | grep "\"name\":\"$2\""; }
peer_num () { peer_json "$1" "$2" | grep -o "\"$3\":[0-9]*" | cut -d: -f2; }
connected () { peer_json "$1" "$2" | grep -q '"connected":true'; }
# has NODE VALUE / lacks NODE VALUE: lookup finds it / says it is not known.
has () { im "$1" lookup "$2" >/dev/null 2>&1; }
lacks () { im "$1" lookup "$2" >/dev/null 2>&1; [ $? -eq 1 ]; }
# holds_at_least NODE N: NODE stores at least N records.
holds_at_least () { n=$(status_num "$1" records); [ -n "$n" ] && [ "$n" -ge "$2" ]; }
# feed_count FILE ID: how many ioc.* messages FILE holds for ID.
feed_count () { grep '"topic":"ioc\.' "$1" | grep -c "\"id\":\"$2\""; }
ms () { date +%s%3N; }
# On failure, the nodes' logs are kept (the temporary directory is not).
keep_logs () {
    [ "$tap_failed" -eq 0 ] && return
    keep=$(mktemp -d "${TMPDIR:-/tmp}/mesh-replication-logs.XXXXXX") || return
    cp "$T"/*.log "$T"/*.feed "$keep"/ 2>/dev/null
    echo "# the nodes' logs are kept in $keep"
}
trap 'keep_logs; cleanup' EXIT

# mid_stream SIGNAL P: line P.a-P.b-P.c; 100,000 published at P.a; P.b is
# stopped with SIGNAL (TERM or KILL) once it holds 10,000, then restarted.
mid_stream () {
    sig=$1; a=$2a; b=$2b; c=$2c
    # 100,000 indicators, made once.
    [ -s "$T/bulk" ] || awk 'BEGIN { for (i = 0; i < 100000; i++)
            printf "ipv4 11.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256 }' >"$T/bulk"
    for n in $a $b $c; do new_node $n || diag "cannot init $n"; done
    link $a $b && link $b $c; ok $? "[$sig] a line $a-$b-$c"
    start_node $a && spa=$NODE_PID && start_node $b && spb=$NODE_PID && start_node $c && spc=$NODE_PID
    ok $? "[$sig] the three nodes start"
    wait_for 100 connected $a $b && wait_for 100 connected $c $b; ok $? "[$sig] and connect"
    im $c tail --timeout 170 >"$T/$c.feed" 2>/dev/null &
    stail=$!; PIDS="$PIDS $stail"
    wait_for 100 grep -q node.heartbeat "$T/$c.feed"; ok $? "[$sig] a subscriber at $c is connected"

    st0=$(ms)
    im $a publish - <"$T/bulk" >"$T/$a.ids" 2>"$T/$a.err" &
    spub=$!; PIDS="$PIDS $spub"
    wait_for 300 holds_at_least $b 10000; ok $? "[$sig] $b holds 10,000 while the stream flows"
    held=$(status_num $b records)
    if [ "$sig" = TERM ]; then
        stop_node "$spb"; ok $? "[$sig] $b stops cleanly on SIGTERM mid-stream"
    else
        { kill -KILL "$spb"; wait "$spb"; } 2>/dev/null
        wait_gone "$spb" 50; ok $? "[$sig] $b is killed with SIGKILL mid-stream"
    fi
    diag "[$sig] $b held $held (of 100000) when stopped, $(($(ms) - st0)) ms into the stream;" \
        "$a had acknowledged $(wc -l <"$T/$a.ids")"
    [ "${held:-100000}" -lt 100000 ]; ok $? "[$sig] $b was stopped before it had everything"
    start_node $b; ok $? "[$sig] $b starts again"; spb=$NODE_PID
    wait_gone "$spub" 600; wait "$spub"; ok $? "[$sig] $a acknowledged the whole stream"
    diag "[$sig] $a published 100000 in $(($(ms) - st0)) ms"
    [ "$(wc -l <"$T/$a.ids")" -eq 100000 ]; ok $? "[$sig] with 100000 ids"
    converged () {
        for n in $a $b $c; do [ "$(status_num $n records)" = 100000 ] || return 1; done
    }
    wait_for 1200 converged; ok $? "[$sig] $a, $b and $c each hold 100000 records"
    diag "[$sig] 100000 converged on three nodes in $(($(ms) - st0)) ms;" \
        "$b: $(status_num $b records), $c: $(status_num $c records)"
    sort "$T/$a.ids" >"$T/$a.want"
    for n in $a $b $c; do
        ids $n >"$T/$n.ids.held"
        cmp -s "$T/$n.ids.held" "$T/$a.want"
        ok $? "[$sig] $n holds exactly the 100000 published ids"
    done
    for n in $a $b $c; do
        r=$(status_num $n records); s=$(status_num $n last_seq)
        diag "[$sig] $n: records $r, last_seq $s, live $(status_num $n live)"
        [ "$r" = "$s" ]; ok $? "[$sig] $n applied nothing twice (last_seq = records)"
    done
    diag "[$sig] $b's peer $a: received $(peer_num $b $a received), already held $(peer_num $b $a known);" \
        "$c's peer $b: received $(peer_num $c $b received), already held $(peer_num $c $b known)"
    # C's feed: every message is one arrival; the PUB socket may drop some
    # under load, but none may come twice.
    grep '"topic":"ioc\.' "$T/$c.feed" | grep -o '"id":"[^"]*"' | sort >"$T/$c.feed.ids"
    diag "[$sig] $c's feed carried $(wc -l <"$T/$c.feed.ids") of 100000 arrivals"
    [ -z "$(uniq -d "$T/$c.feed.ids" | head -1)" ]; ok $? "[$sig] $c's feed saw no id twice"
    stop_ours "$stail"
    for p in $spa $spb $spc; do stop_node "$p" || false; done; ok $? "[$sig] the three nodes stop"
}

# --- 1. A line: A <-> B <-> C ------------------------------------------------
block line 'a line A-B-C: what travels, reach, revocation, the feed'
b_line () {
    diag "SPEC.md: Replication (What a sender sends, What a receiver checks, Reach and hops)"

    for n in A B C; do new_node $n || diag "cannot init $n"; done
    link A B && link B C; ok $? "A-B and B-C put each other on their trust lists"
    start_node A; ok $? "A starts"; pa=$NODE_PID
    start_node B; ok $? "B starts"; pb=$NODE_PID
    start_node C; ok $? "C starts"; pc=$NODE_PID
    t0=$(ms)
    connected_to () {  # connected_to NODE N: NODE shows N peers connected
        [ "$(im "$1" peer list --json | grep -o '"connected":true' | wc -l)" -eq "$2" ]
    }
    wait_for 100 connected_to B 2; ok $? "B is connected to both A and C"
    wait_for 100 connected A B && wait_for 100 connected C B; ok $? "A and C are connected to B"
    diag "the line connected in $(($(ms) - t0)) ms"
    ! peer_json A C >/dev/null; ok $? "A and C are not peers"

    # The local feed at C, subscribed once a heartbeat has arrived.
    im C tail --timeout 120 >"$T/C.feed" 2>"$T/C.feed.err" &
    tail_pid=$!; PIDS="$PIDS $tail_pid"
    wait_for 100 grep -q node.heartbeat "$T/C.feed"; ok $? "a subscriber at C receives the heartbeat"

    h=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
    t0=$(ms)
    green=$(im A publish --tlp green ipv4 192.0.2.10)
    clear=$(im A publish --tlp clear domain clear.example.org)
    amber=$(im A publish --tlp amber ipv4 192.0.2.11)
    red=$(im A publish --tlp red sha256 $h)
    reach0=$(im A publish --reach 0 domain reach0.example.org)
    reach1=$(im A publish --reach 1 domain reach1.example.org)
    reach2=$(im A publish --reach 2 domain reach2.example.org)
    for id in "$green" "$clear" "$amber" "$red" "$reach0" "$reach1" "$reach2"; do
        [ ${#id} -eq 36 ] || false
    done; ok $? "A publishes green, clear, amber, red, and green with reach 0, 1 and 2"

    # Changes travel in order over a link, but C may get the first record of
    # origin A by FETCH 250 ms after the rest: B notes it (HAVE) until C makes
    # B its eager peer for A, while a record of a limited reach always comes
    # in full (SPEC "EAGER, LAZY, FETCH and FOUND"). Each is waited for.
    wait_for 100 has B reach2.example.org; ok $? "reach 2 arrives at B"
    wait_for 100 has C reach2.example.org; ok $? "reach 2 arrives at C (two links)"
    diag "A to C in $(($(ms) - t0)) ms"
    wait_for 100 has B 192.0.2.10 && wait_for 100 has C 192.0.2.10
    ok $? "green reaches B and C"
    wait_for 100 has B clear.example.org && wait_for 100 has C clear.example.org
    ok $? "clear reaches B and C"
    has A 192.0.2.11 && lacks B 192.0.2.11 && lacks C 192.0.2.11; ok $? "amber stays at A"
    has A $h && lacks B $h && lacks C $h; ok $? "red stays at A"
    has A reach0.example.org && lacks B reach0.example.org && lacks C reach0.example.org
    ok $? "reach 0 stays at A"
    has B reach1.example.org; ok $? "reach 1 arrives at B"
    lacks C reach1.example.org; ok $? "reach 1 does not go on to C"
    [ "$(ids B | tr '\n' ' ')" = "$(printf '%s\n' "$green" "$clear" "$reach1" "$reach2" | sort | tr '\n' ' ')" ]
    ok $? "B holds exactly green, clear, reach 1 and reach 2"
    [ "$(ids C | tr '\n' ' ')" = "$(printf '%s\n' "$green" "$clear" "$reach2" | sort | tr '\n' ' ')" ]
    ok $? "C holds exactly green, clear and reach 2"
    im C lookup --json 192.0.2.10 | grep -q "\"origin\":\"$(node_id A)\""
    ok $? "at C the green indicator's origin is A"
    im B status --json | grep -q '"refusals":{}' && im C status --json | grep -q '"refusals":{}'
    ok $? "B and C refused nothing: what may not travel is never sent"

    wait_for 50 grep -q "$reach2" "$T/C.feed"; ok $? "C's feed carries the arrivals"
    [ "$(feed_count "$T/C.feed" "$green")" -eq 1 ] && [ "$(feed_count "$T/C.feed" "$clear")" -eq 1 ] \
        && [ "$(feed_count "$T/C.feed" "$reach2")" -eq 1 ]
    ok $? "C's feed shows each arriving indicator exactly once"
    ! grep -q -e "$amber" -e "$red" -e "$reach0" -e "$reach1" "$T/C.feed"
    ok $? "C's feed shows nothing that did not arrive"

    # Revocation travels like an update.
    im A revoke "$green" >/dev/null; ok $? "A revokes the green indicator"
    t0=$(ms)
    wait_for 100 lacks C 192.0.2.10; ok $? "C's lookup stops finding it"
    diag "the revocation reached C in $(($(ms) - t0)) ms"
    im C list --json | grep "$green" | grep -q '"op":"revoke"'; ok $? "C's list shows its tombstone"
    im B list --json | grep "$green" | grep -q '"op":"revoke"' && lacks B 192.0.2.10
    ok $? "B holds the tombstone too"
    wait_for 50 sh -c "grep '\"op\":\"revoke\"' '$T/C.feed' | grep -q '$green'"
    ok $? "C's feed carries the revocation"
    [ "$(feed_count "$T/C.feed" "$green")" -eq 2 ] && [ "$(grep -c '"topic":"ioc\.' "$T/C.feed")" -eq 4 ]
    ok $? "C's feed: 3 arrivals and 1 revocation, each once"

    # Nothing went back to its origin.
    [ "$(peer_num B A sent)" = 0 ]; ok $? "B sent A none of A's own indicators"
    im A status --json | grep -q '"refusals":{}'; ok $? "A refused nothing (no own origin came back)"

    # The other direction: C publishes, A gets it through B.
    t0=$(ms)
    fromc=$(im C publish --tlp clear domain from-c.example.org); ok $? "C publishes"
    wait_for 100 has A from-c.example.org; ok $? "C's indicator reaches A through B"
    diag "C to A in $(($(ms) - t0)) ms"
    im A lookup --json from-c.example.org | grep -q "\"origin\":\"$(node_id C)\""; ok $? "with C as its origin"
    wait_for 30 sh -c "[ \"\$('$INTELMESH' -d '$T/A' status --json | grep -o '\"last_seq\":[0-9]*')\" = '\"last_seq\":9' ]"
    ok $? "A stored it once (7 published, 1 revoked, 1 received)"
    im C status --json | grep -q '"refusals":{}'; ok $? "C refused nothing (its own indicator did not come back)"

    peer_json B A >"$T/B.A" && peer_json B C >"$T/B.C"
    grep -q '"connected":true' "$T/B.A" && grep -q '"connected":true' "$T/B.C"
    ok $? "peer list --json at B shows both peers connected"
    for p in A C; do
        r=$(grep -o '"received":[0-9]*' "$T/B.$p" | cut -d: -f2)
        s=$(grep -o '"sent":[0-9]*' "$T/B.$p" | cut -d: -f2)
        diag "B's peer $p: received ${r:-?}, sent ${s:-?}"
        [ "${r:-0}" -gt 0 ] && [ "${s:-0}" -gt 0 ]; ok $? "B has received from and sent to $p"
    done
    [ "$(peer_num B A received)" -eq 5 ] && [ "$(peer_num B A sent)" -eq 1 ] \
        && [ "$(peer_num B C received)" -eq 1 ] && [ "$(peer_num B C sent)" -eq 4 ]
    ok $? "B's counts: 5 from A (4 and a revocation), 1 to A, 1 from C, 4 to C"


    stop_ours "$tail_pid"
    for p in "$pa" "$pb" "$pc"; do stop_node "$p" || false; done; ok $? "A, B and C stop"
}

# --- 2. A ring of five -------------------------------------------------------
block ring 'a ring of five converges on 400 indicators'
b_ring () {
    diag "SPEC.md: Replication (Pulling, Serving pulls), HAVE"

    for n in N1 N2 N3 N4 N5; do new_node $n || diag "cannot init $n"; done
    link N1 N2 && link N2 N3 && link N3 N4 && link N4 N5 && link N5 N1
    ok $? "N1..N5 form a ring, each peered with its two neighbours"
    ring=""
    for n in N1 N2 N3 N4 N5; do start_node $n || diag "cannot start $n"; ring="$ring $NODE_PID"; done
    all_connected () {
        for n in N1 N2 N3 N4 N5; do connected_to $n 2 || return 1; done
    }
    t0=$(ms)
    wait_for 300 all_connected; ok $? "every ring node is connected to both neighbours"
    diag "the ring connected in $(($(ms) - t0)) ms"
    for i in $(seq 1 200); do echo "domain n1-$i.example.org"; done >"$T/ring1"
    for i in $(seq 1 200); do echo "domain n3-$i.example.org"; done >"$T/ring3"
    t0=$(ms)
    im N1 publish --tlp green - <"$T/ring1" >"$T/ring1.ids" 2>"$T/ring1.err" &
    p1=$!
    im N3 publish --tlp clear - <"$T/ring3" >"$T/ring3.ids" 2>"$T/ring3.err"
    r3=$?
    wait_gone "$p1" 600; wait "$p1"; r1=$?
    sort "$T/ring1.ids" "$T/ring3.ids" >"$T/ring.want"
    [ $r1 -eq 0 ] && [ $r3 -eq 0 ] && [ "$(sort -u "$T/ring.want" | wc -l)" -eq 400 ]
    ok $? "N1 and N3 publish 200 each"
    ring_converged () {
        for n in N1 N2 N3 N4 N5; do
            [ "$(status_num $n records)" = 400 ] || return 1
        done
    }
    wait_for 300 ring_converged; ok $? "every ring node holds 400 records"
    diag "the ring converged in $(($(ms) - t0)) ms"
    for n in N1 N2 N3 N4 N5; do
        ids $n >"$T/$n.ids"
        cmp -s "$T/$n.ids" "$T/ring.want"; ok $? "$n holds exactly the 400 published ids"
    done
    for n in N1 N2 N3 N4 N5; do
        [ "$(status_num $n last_seq)" = 400 ] || { diag "$n: last_seq $(status_num $n last_seq)"; false; }
    done; ok $? "each ring node applied each of them once (last_seq 400)"
    for n in N1 N2 N3 N4 N5; do
        im $n status --json | grep -q '"refusals":{}' || { diag "$n refused: $(im $n status --json | grep -o '"refusals":{[^}]*}')"; false; }
    done; ok $? "no ring node refused anything (nothing came back to its origin)"
    # Each record is noted to a node by each of its two peers at most twice
    # (when the peer stored it, and in an answer to a pull), and no note is
    # dropped for want of room.
    notes_ok=0
    for n in N1 N2 N3 N4 N5; do
        keys=$(im $n peer list --json | grep -o '"notes":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
        dropped=$(im $n peer list --json | grep -o '"notes_dropped":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
        diag "$n: its peers noted $keys keys, $dropped dropped"
        [ "$keys" -le $((2 * 2 * 400)) ] && [ "$dropped" -eq 0 ] || notes_ok=1
    done; ok $notes_ok "each ring node was noted each record at most twice by each peer, and dropped no note"
    for p in $ring; do stop_node "$p" || false; done; ok $? "the ring stops"
}

# sum_peers NODE KEY: KEY summed over NODE's peers.
sum_peers () {
    im "$1" peer list --json | grep -o "\"$2\":[0-9]*" | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }'
}

block circulant 'eight nodes of degree 4: each record noted at most twice by each peer'
b_circulant () {
    diag "SPEC.md: HAVE; EAGER, LAZY, FETCH and FOUND"
    nodes="C0 C1 C2 C3 C4 C5 C6 C7"
    for n in $nodes; do new_node $n || diag "cannot init $n"; done
    r=0
    for i in 0 1 2 3 4 5 6 7; do
        for d in 1 2; do link C$i C$(((i + d) % 8)) || r=1; done
    done
    ok $r "C0..C7 form a circulant, each node peered with i-2, i-1, i+1 and i+2"
    pids=""
    for n in $nodes; do start_node $n || diag "cannot start $n"; pids="$pids $NODE_PID"; done
    four_up () {
        for n in $nodes; do
            [ "$(im $n peer list --json | grep -o '"connected":true' | wc -l)" -eq 4 ] || return 1
        done
    }
    wait_for 300 four_up; ok $? "every node is connected to its four peers"
    r=0 pubs=""
    for i in 0 1 2 3 4 5 6 7; do
        awk -v i=$i 'BEGIN { for (k = 1; k <= 100; k++) printf "ipv4 11.%d.%d.%d\n", 30 + i, int(k / 256), k % 256 }' \
            | im C$i publish - >/dev/null 2>&1 &
        pubs="$pubs $!"
    done
    for p in $pubs; do wait_gone "$p" 600; wait "$p" || r=1; done
    ok $r "each node publishes 100"
    all_800 () { for n in $nodes; do [ "$(status_num $n records)" = 800 ] || return 1; done; }
    wait_for 600 all_800; ok $? "every node holds all 800 records"
    # Each record comes in full about once; each peer notes it at most twice
    # (when it stored it, and in an answer to a pull: SPEC "HAVE"), and no
    # note is dropped for want of room in a ring of wanted keys. (The notes
    # sent round and round in 2ac882c needed the 16-node mesh on two busy
    # cores to show; they did not show here.)
    r=0
    for n in $nodes; do
        got=$(($(sum_peers $n received) + $(sum_peers $n known)))
        keys=$(sum_peers $n notes) dropped=$(sum_peers $n notes_dropped)
        diag "$n: $got records came (700 of others), its peers noted $keys keys, $dropped dropped"
        [ "$keys" -le $((2 * 4 * 700)) ] && [ "$dropped" -eq 0 ] || r=1
    done
    ok $r "each node was noted each record at most twice by each peer, and dropped no note"
    for p in $pids; do stop_node "$p" || false; done; ok $? "the eight nodes stop"
}

# --- 3. A dial-in-only peer -------------------------------------------------
block dialin 'a dial-in-only peer, both sides restarted'
b_dialin () {
    diag "SPEC.md: Links and pull links"

    # X never dials Y (its entry for Y has no endpoint); Y dials X.
    new_node X && new_node Y || diag "cannot init X and Y"
    im X peer add --endpoint - "$(im Y id)" | grep -q "it dials in"; ok $? "X adds Y as dial-in only"
    im Y peer add "$(im X id)" >/dev/null; ok $? "Y adds X with its endpoint"
    start_node X; ok $? "X starts"; px=$NODE_PID
    start_node Y; ok $? "Y starts"; py=$NODE_PID
    wait_for 100 connected X Y && wait_for 100 connected Y X; ok $? "X and Y are connected"
    peer_json X Y | grep -q '"endpoint":""'; ok $? "X's peer list shows Y without an endpoint"
    t0=$(ms)
    im X publish domain from-x.example.org >/dev/null && wait_for 100 has Y from-x.example.org
    ok $? "what the dial-in-only side publishes reaches the dialler"
    im Y publish domain from-y.example.org >/dev/null && wait_for 100 has X from-y.example.org
    ok $? "what the dialler publishes reaches the dial-in-only side"
    diag "dial-in replication both ways in $(($(ms) - t0)) ms"
    stop_node "$px"; ok $? "X (the dial-in-only side) stops"
    start_node X; ok $? "and starts again"; px=$NODE_PID
    im Y publish domain after-x-restart.example.org >/dev/null && wait_for 100 has X after-x-restart.example.org
    ok $? "after X restarts, Y's new indicator reaches X"
    im X publish domain x-after-restart.example.org >/dev/null && wait_for 100 has Y x-after-restart.example.org
    ok $? "and X's new indicator reaches Y"
    stop_node "$py"; ok $? "Y (the dialler) stops"
    start_node Y; ok $? "and starts again"; py=$NODE_PID
    im Y publish domain after-y-restart.example.org >/dev/null && wait_for 100 has X after-y-restart.example.org
    ok $? "after Y restarts, Y's new indicator reaches X"
    im X publish domain x-after-y-restart.example.org >/dev/null && wait_for 100 has Y x-after-y-restart.example.org
    ok $? "and X's new indicator reaches Y"
    [ "$(status_num X records)" = 6 ] && [ "$(status_num Y records)" = 6 ] && [ "$(status_num X last_seq)" = 6 ] \
        && [ "$(status_num Y last_seq)" = 6 ]
    ok $? "X and Y each hold the 6 indicators, each stored once"
    stop_node "$px" && stop_node "$py"; ok $? "X and Y stop"
}

# --- 4. Peers added while both run, one side first ---------------------------
block late 'two running nodes peered one after the other'
b_late () {
    diag "SPEC.md: Links to peers (DEALER), The trust list and node cards"

    # The usual order between two CERTs: P puts Q on its trust list and dials it
    # before Q has put P on its own, so Q refuses that first handshake; later Q
    # adds P. Replication must then work both ways without a restart.
    new_node P && new_node Q || diag "cannot init P and Q"
    start_node P; ok $? "P starts"; pp=$NODE_PID
    start_node Q; ok $? "Q starts"; pq=$NODE_PID
    im P peer add "$(im Q id)" >/dev/null; ok $? "P adds Q while both run"
    wait_for 100 grep -q "handshake from .* refused" "$T/Q.log"; ok $? "Q refuses P's handshake: P is not on its list yet"
    im Q peer add "$(im P id)" >/dev/null; ok $? "then Q adds P"
    im P publish domain from-p.example.org >/dev/null && wait_for 100 has Q from-p.example.org
    ok $? "what P publishes reaches Q"
    im Q publish domain from-q.example.org >/dev/null && wait_for 150 has P from-q.example.org
    ok $? "what Q publishes reaches P (P's link to Q recovers from the refused handshake)"
    diag "P's peer Q: $(peer_json P Q | grep -o -e '"connected":[a-z]*' -e '"lag_in":[0-9]*' -e '"received":[0-9]*' | tr '\n' ' ')"
    grep -q "connected to Q" "$T/P.log"; ok $? "P's log shows its own link to Q connected"
    stop_node "$pp" && stop_node "$pq"; ok $? "P and Q stop"
}

# --- 5. Restart in the middle of a stream of 100,000 -------------------------
block stream_term 'a node stopped by SIGTERM mid-stream of 100,000'
b_stream_term () {
    diag "SPEC.md: Sessions and restarts, Cursors and crash safety"
    mid_stream TERM S
}

# --- 5b. Restart in the middle of a stream, the node killed ------------------
block stream_kill 'a node killed by SIGKILL mid-stream of 100,000'
b_stream_kill () {
    mid_stream KILL K
}

run_blocks "$@"
