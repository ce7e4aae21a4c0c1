#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# bench_lookup.sh -- `make bench`, publish and look-up part: `intelmesh
# publish -` of N_LOOKUP (100,000) indicators end to end (CLI to node: signed
# 32 to a signature, indexed, durable), then `intelmesh lookup -` of each,
# against raw LMDB puts and gets of as many records measured by bench_store in
# the same run: the best of BENCH_ROUNDS (3) publishes, a fresh node each,
# against the best of bench_store's own three rounds of raw LMDB in one process
# (its single rounds, alternating with the publishes, measured lower: the
# stricter reference is kept; README, "Performance"). Loopback and a temporary
# directory only; each node stopped by its PID.
set -u
: "${top_builddir:=.}"
: "${INTELMESH:=$top_builddir/tools/intelmesh}"
: "${INTELMESHD:=$top_builddir/node/intelmeshd}"
N=${N_LOOKUP:-100000}

ROUNDS=${BENCH_ROUNDS:-3}
case "$ROUNDS" in [1-9]) ;; *) echo "bench_lookup: BENCH_ROUNDS: not a number from 1 to 9" >&2; exit 2 ;; esac

T=$(mktemp -d /tmp/intelmesh-bench.XXXXXX)
PID=""
cleanup () {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && sleep 0.5
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
fail () { echo "bench_lookup: $*" >&2; exit 1; }
now () { date +%s.%N; }

# N addresses as bench_store makes them (private ones: --force).
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
    printf "ipv4 %d.%d.%d.%d\n", 10 + int(i / 16777216) % 200, int(i / 65536) % 256,
        int(i / 256) % 256, i % 256 }' >"$T/published"
# Looked up each once, in a scattered order.
cut -d' ' -f2 "$T/published" | awk 'NR % 2 == 0 { print; next } { a[NR] = $0 }
    END { for (i in a) print a[i] }' >"$T/values"

# One round: a fresh node, the publish and the look-ups timed, the node stopped
# by its PID. Appends "publish-seconds lookup-seconds" to $T/rounds.
round () {
    local d="$T/r$1" port p0 p1 t0 t1
    port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
    "$INTELMESH" init -d "$d" --name a --listen "tcp://127.0.0.1:$port" \
        --pub "ipc://$d/pub.sock" >/dev/null || fail "init failed"
    "$INTELMESHD" -d "$d" --foreground 2>>"$d.log" &
    PID=$!
    for _ in $(seq 300); do
        "$INTELMESH" -d "$d" status >/dev/null 2>&1 && break
        kill -0 "$PID" 2>/dev/null || fail "the node stopped: $(tail -1 "$d.log")"
        sleep 0.1
    done
    c0=$(cpu_of "$PID"); times >"$T/times"; k0=$(cpu_children)
    p0=$(now)
    "$INTELMESH" -d "$d" publish --force - <"$T/published" >/dev/null 2>"$T/publish.err" \
        || fail "publish failed: $(tail -1 "$T/publish.err")"
    p1=$(now)
    c1=$(cpu_of "$PID"); times >"$T/times"; k1=$(cpu_children)
    t0=$(now)
    "$INTELMESH" -d "$d" lookup - <"$T/values" >"$T/out" || fail "lookup - did not find all"
    t1=$(now)
    [ "$(wc -l <"$T/out")" -eq "$N" ] || fail "lookup - answered $(wc -l <"$T/out") of $N"
    kill -TERM "$PID"
    for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    PID=""
    rm -rf "$d"
    echo "$(calc "$p1 - $p0") $(calc "$t1 - $t0") $(calc "$c1 - $c0") $(calc "$k1 - $k0")" \
        >>"$T/rounds"
}
# The CPU seconds process PID has used (user and system), and those of this
# shell's children waited for (the CLI), as `times` wrote them to $T/times in
# this shell (not a subshell's): what the publish cost the machine.
cpu_of () { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
cpu_children () { awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) {
    split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%.3f", s }' "$T/times"; }
calc () { awk "BEGIN { printf \"%.6f\", $1 }"; }

for r in $(seq "$ROUNDS"); do round "$r"; done
"$top_builddir/tests/bench_store" "$N" >"$T/store.out" || fail "bench_store failed"
bput=$(awk '/raw LMDB puts/ { print $(NF - 3) }' "$T/store.out")
bget=$(awk '/raw LMDB gets/ { print $(NF - 3) }' "$T/store.out")
[ -n "$bput" ] && [ -n "$bget" ] || fail "bench_store printed no raw LMDB rates"
awk -v n="$N" -v bput="$bput" -v bget="$bget" -v cores="$(nproc)" '{
    pub = n / $1; look = n / $2
    line = line sprintf(" %.0f", pub)
    if (NR == 1 || pub > bpub) { bpub = pub; bwall = $1; bnode = $3; bcli = $4 }
    if (NR == 1 || look > blook) blook = look }
END {
    printf "intelmesh publish and look-up benchmark: %d indicators, best of %d node round(s); raw LMDB: bench_store, best of its 3\n", n, NR
    printf "  publish - (CLI to node: signed, indexed, durable) %9.0f indicators/s (rounds:%s)\n", bpub, line
    printf "  raw LMDB puts, same count     %9.0f puts/s        ratio %.2f\n", bput, bpub / bput
    printf "  publish - CPU, best round: node %.2f s, CLI %.2f s in %.2f s: %.1f of %d cores busy\n", bnode, bcli, bwall, (bnode + bcli) / bwall, cores
    printf "  lookup - (control socket)     %9.0f look-ups/s\n", blook
    printf "  raw LMDB gets, same count     %9.0f gets/s        ratio %.2f\n", bget, blook / bget
}' "$T/rounds"
