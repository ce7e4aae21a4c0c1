#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# bench_resync.sh -- `make bench`, resync part: node A holds N indicators
# (N_RESYNC, "10000 1000000" by default); a peer B that has pulled all of them
# (tests/bench_resync, speaking the peer protocol: it reads A's answers, and
# stores nothing) reconnects as a new run, ROUNDS_RESYNC times. Prints how
# long until A has handled B's PULL from A's newest change (nothing new: the
# pull waits), against a PING round trip on the same link, and how A's store
# splits over its databases, before and after serving B. Loopback only; A is
# stopped by its PID.
set -u
: "${top_builddir:=.}"
: "${INTELMESH:=$top_builddir/tools/intelmesh}"
: "${INTELMESHD:=$top_builddir/node/intelmeshd}"
BENCH=$top_builddir/tests/bench_resync
SIZES=${N_RESYNC:-10000 1000000}
ROUNDS=${ROUNDS_RESYNC:-20}

T=$(mktemp -d /tmp/intelmesh-bench.XXXXXX)
PID=""
stop () {
    [ -n "$PID" ] || return 0
    kill -TERM "$PID" 2>/dev/null
    for _ in $(seq 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    PID=""
}
cleanup () { stop; rm -rf "$T"; }
trap cleanup EXIT
fail () { echo "bench_resync: $*" >&2; exit 1; }
now () { date +%s.%N; }
start () {
    "$INTELMESHD" -d "$T/a" --foreground 2>>"$T/a.log" &
    PID=$!
    for _ in $(seq 300); do "$INTELMESH" -d "$T/a" status >/dev/null 2>&1 && return; sleep 0.1; done
    fail "a did not start: $(tail -1 "$T/a.log")"
}

echo "intelmesh resync benchmark (loopback, CURVE): B current with A reconnects as a new run"
for n in $SIZES; do
    rm -rf "$T/a" "$T/b.keys" "$T/a.log"
    port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
    "$INTELMESH" init -d "$T/a" --name a --listen "tcp://127.0.0.1:$port" \
        --pub "ipc://$T/a.pub" >/dev/null || fail "init failed"
    "$BENCH" card b "$T/b.keys" >"$T/b.card" || fail "cannot make B's keys"
    "$INTELMESH" -d "$T/a" peer add "$(cat "$T/b.card")" >/dev/null || fail "peer add failed"
    read -r _ _ _ curve endpoint < <("$INTELMESH" -d "$T/a" id)
    start
    t0=$(now)
    awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
        printf "ipv4 %d.%d.%d.%d\n", 10 + int(i / 16777216) % 200, int(i / 65536) % 256,
            int(i / 256) % 256, i % 256 }' \
        | "$INTELMESH" -d "$T/a" publish --force - >/dev/null 2>"$T/publish.err" \
        || fail "publish failed: $(tail -1 "$T/publish.err")"
    t1=$(now)
    stop
    echo "  $n indicators (published at $(awk -v n="$n" -v a="$t0" -v b="$t1" \
        'BEGIN { printf "%.0f/s", n / (b - a) }'))"
    echo "  A's store after publishing them:"
    "$BENCH" dbstat "$T/a/store" "$n" || fail "dbstat failed"
    start
    out=$("$BENCH" run "$endpoint" "$curve" "$T/b.keys" "$ROUNDS") || fail "resync failed"
    stop
    set -- $out
    declare -A r=()
    while [ $# -ge 2 ]; do r[$1]=$2; shift 2; done
    [ "${r[records]}" = "$n" ] || echo "  (B was sent ${r[records]} of $n records)"
    echo "  B pulled A's $n changes in ${r[catch_up_s]} s (reading them, storing nothing)"
    echo "  then reconnected $ROUNDS times as a new run (median; max):"
    echo "    CURVE handshake (link up)              ${r[connect_ms]} ms"
    echo "    as a node does: HELLO, A's HELLO, PULL  ${r[resync_ms]} ms; ${r[resync_max_ms]} ms" \
        "(1 round trip and a PULL that A parks)"
    echo "    pipelined: HELLO and PULL at once       ${r[pipelined_ms]} ms; ${r[pipelined_max_ms]} ms (1 round trip)"
    echo "    PING/PONG on the same link (reference)  ${r[rtt_ms]} ms  ratio $(awk \
        -v a="${r[resync_ms]}" -v b="${r[rtt_ms]}" 'BEGIN { printf "%.1f", a / b }')"
    echo "    messages: B sent ${r[sent]} (HELLO, PULL), A sent ${r[got]} (${r[got_what]}), no RECORDS:" \
        "the PULL waits (its PONG after it shows A handled it)"
    echo "  A's store after serving all of them to B (its sent log included):"
    "$BENCH" dbstat "$T/a/store" "$n" || fail "dbstat failed"
done
