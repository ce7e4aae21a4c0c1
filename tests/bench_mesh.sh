#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# bench_mesh.sh -- `make bench`, mesh part: replication throughput between two
# nodes against raw CURVE PUSH/PULL of messages of the record's size (same
# run), propagation latency over a line of five, and a 16-node mesh where each
# node publishes 2,000 indicators. Loopback only; every node stopped by PID.
set -u
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
: "${INTELMESH:=$top_builddir/tools/intelmesh}"
: "${INTELMESHD:=$top_builddir/node/intelmeshd}"
BENCH=$top_builddir/tests/bench_mesh
N_THROUGHPUT=${N_THROUGHPUT:-100000}

T=$(mktemp -d /tmp/intelmesh-bench.XXXXXX)
PIDS=""
cleanup () {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.5
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

# A port no other node of this run was given, and nothing listens on. The
# ports given are kept in a file: free_port runs in a subshell ($(free_port)),
# where a variable set is lost; and nodes made before any of them listens
# drew the same port, by the birthday bound, about one 16-node round in a
# hundred (one then fails to start).
free_port () {
    while :; do
        port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000)) # below the ephemeral range
        grep -qx "$port" "$T/ports.given" 2>/dev/null && continue
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
        echo "$port" >>"$T/ports.given"
        echo "$port"
        return
    done
}
now () { date +%s.%N; }
calc () { awk "BEGIN { print $* }"; }
node () { "$INTELMESH" -d "$T/$1" "${@:2}"; }
init () {
    "$INTELMESH" init -d "$T/$1" --name "$1" --listen "tcp://127.0.0.1:$(free_port)" \
        --pub "ipc://$T/$1/pub.sock" >/dev/null
}
start () {
    "$INTELMESHD" -d "$T/$1" || exit 1
    PIDS="$PIDS $(cat "$T/$1/intelmeshd.pid")"
}
stop_all () {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $PIDS; do
        for i in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null # not stopped in 10 s: not left running
    done
    PIDS=""
}
peer () { node "$1" peer add "$(node "$2" id)" >/dev/null; }

echo "intelmesh mesh benchmark (loopback, CURVE, 2 cores shared by every node)"

# --- 1. Throughput between two nodes vs raw CURVE -------------------------
# REPL_ROUNDS rounds (3 unless set), each on a fresh pair: one round of the
# same build takes anything from 0.77 to 1.16 s on this shared machine (the
# nodes' CPU time varies as much), so the median is what is compared.
median () { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
repl_round () {
    rm -rf "$T/a" "$T/b"
    init a; init b; peer a b; peer b a
    start a
    for i in $(seq 0 $((N_THROUGHPUT - 1))); do
        echo "ipv4 11.$((i >> 16 & 255)).$((i >> 8 & 255)).$((i & 255))"
    done | node a publish - >/dev/null 2>&1
    start b
    t0=$(now)
    "$BENCH" wait "$N_THROUGHPUT" 300 "$T/b" || { echo "b did not converge" >&2; exit 1; }
    t1=$(now)
    rates="$rates $(calc "$N_THROUGHPUT / ($t1 - $t0)")"
    stop_all
}
rates=""
for r in $(seq 1 "${REPL_ROUNDS:-3}"); do repl_round; done
rate=$(echo $rates | tr ' ' '\n' | median)
raw=$("$BENCH" curve 1000000 184)
printf "  replication a -> b            %9.0f indicators/s (%d indicators, pulled after b started; median of rounds:%s)\n" \
    "$rate" "$N_THROUGHPUT" "$(printf ' %.0f' $rates)"
printf "  raw CURVE PUSH/PULL, 184 B    %9.0f messages/s   ratio %.2f\n" "$raw" "$(calc "$rate / $raw")"

# --- 2. Latency over a line of five ---------------------------------------
for n in l1 l2 l3 l4 l5; do init $n; done
for pair in "l1 l2" "l2 l3" "l3 l4" "l4 l5"; do set -- $pair; peer $1 $2; peer $2 $1; done
for n in l1 l2 l3 l4 l5; do start $n; done
sleep 2
read -r p50 p99 < <("$BENCH" latency "$T/l1" "$T/l5" 200)
printf "  latency over 4 links (line of five), 200 indicators: p50 %s ms, p99 %s ms\n" "$p50" "$p99"
stop_all

# --- 3. Sixteen nodes, degree four, 2,000 indicators each -----------------
# MESH_ROUNDS rounds on fresh nodes (3 unless set): on a shared machine one
# round of the same build takes anything from 5.5 to 9.5 s; the median is
# printed, and every round.
mesh_round () {
    local r=$1
    for i in $(seq 0 15); do init r${r}m$i; done
    for i in $(seq 0 15); do
        for d in 1 4; do
            j=$(( (i + d) % 16 ))
            peer r${r}m$i r${r}m$j; peer r${r}m$j r${r}m$i
        done
    done
    for i in $(seq 0 15); do start r${r}m$i; done
    # Each node's lines written before the clock starts: made in the round by
    # a shell loop, they took 0.46 core-seconds of the 2 cores (16 loops of
    # 2,000 echo to /dev/null, by hand), the shell's work, not intelmesh's.
    for i in $(seq 0 15); do
        for k in $(seq 0 1999); do echo "ipv4 11.$i.$((k >> 8)).$((k & 255))"; done \
            >"$T/r${r}m$i.lines"
    done
    sync # the rounds before written out, not in this one's way
    sleep 2
    local t0 t1 cpu0 cpu1 idle0 idle1
    cpu0=$(nodes_cpu) idle0=$(idle_ticks)
    t0=$(now)
    for i in $(seq 0 15); do
        node r${r}m$i publish - <"$T/r${r}m$i.lines" >/dev/null 2>&1 &
    done
    wait
    "$BENCH" wait 32000 600 $(for i in $(seq 0 15); do echo "$T/r${r}m$i"; done) \
        || { echo "the mesh did not converge" >&2; exit 1; }
    t1=$(now)
    cpu1=$(nodes_cpu) idle1=$(idle_ticks)
    # Receipts: every record a node was sent by a peer (stored or already held).
    local total=0 n
    for i in $(seq 0 15); do
        n=$(node r${r}m$i peer list --json | grep -o '"received":[0-9]*\|"known":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
        total=$((total + n))
    done
    stop_all
    rm -rf "$T"/r${r}m* "$T/ports.given" # what the next round's disk need not write back
    # The nodes' CPU over the round, and the share of the cores left idle
    # (/proc/stat): a round that waited rather than worked shows here.
    rounds="$rounds$(calc "$t1 - $t0") $(calc "$total / (16 * 30000)") $(calc "($cpu1 - $cpu0) / $HZ") $(calc "($idle1 - $idle0) / $HZ / ($CORES * ($t1 - $t0))")
"
}
HZ=$(getconf CLK_TCK) CORES=$(nproc)
# nodes_cpu: the CPU time of the running nodes, in clock ticks.
nodes_cpu () {
    local sum=0 p s
    for p in $PIDS; do
        read -r -a s <"/proc/$p/stat" && sum=$((sum + s[13] + s[14]))
    done
    echo "$sum"
}
# idle_ticks: the machine's idle time (idle and waiting for I/O), in ticks.
idle_ticks () { awk '/^cpu / { print $5 + $6 }' /proc/stat; }
rounds=""
for r in $(seq 1 "${MESH_ROUNDS:-3}"); do mesh_round "$r"; done
secs=$(echo "$rounds" | awk 'NF { print $1 }' | median)
receipts=$(echo "$rounds" | awk 'NF { print $2 }' | median)
printf "  16 nodes x 2,000: all hold 32,000 after %.1f s (median of rounds:%s)\n" "$secs" \
    "$(echo "$rounds" | awk 'NF { printf " %.1f", $1 }')"
printf "  times each node received each indicator: %.2f (1.00 is perfect; flooding gives the degree, 4; rounds:%s)\n" \
    "$receipts" "$(echo "$rounds" | awk 'NF { printf " %.2f", $2 }')"
printf "  node CPU per round:%s s; the %d cores idle:%s of each round\n" \
    "$(echo "$rounds" | awk 'NF { printf " %.1f", $3 }')" "$CORES" \
    "$(echo "$rounds" | awk 'NF { printf " %.0f%%", 100 * $4 }')"
