#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# bench_lookup.sh -- `make bench`, publish and look-up part: `intelmesh
# publish -` of N_LOOKUP (100,000) indicators end to end (CLI to node: signed
# 32 to a signature, indexed, durable), then `intelmesh lookup -` of each,
# against raw LMDB puts and gets of as many records measured by bench_store in
# the same run. Loopback and a temporary directory only; the node stopped by
# its PID.
set -u
: "${top_builddir:=.}"
: "${INTELMESH:=$top_builddir/tools/intelmesh}"
: "${INTELMESHD:=$top_builddir/node/intelmeshd}"
N=${N_LOOKUP:-100000}

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
port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))

"$INTELMESH" init -d "$T/a" --name a --listen "tcp://127.0.0.1:$port" \
    --pub "ipc://$T/a/pub.sock" >/dev/null || fail "init failed"
"$INTELMESHD" -d "$T/a" --foreground 2>>"$T/a.log" &
PID=$!
for _ in $(seq 300); do "$INTELMESH" -d "$T/a" status >/dev/null 2>&1 && break; sleep 0.1; done
# N addresses as bench_store makes them (private ones: --force).
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
    printf "ipv4 %d.%d.%d.%d\n", 10 + int(i / 16777216) % 200, int(i / 65536) % 256,
        int(i / 256) % 256, i % 256 }' >"$T/published"
p0=$(now)
"$INTELMESH" -d "$T/a" publish --force - <"$T/published" >/dev/null 2>"$T/publish.err" \
    || fail "publish failed: $(tail -1 "$T/publish.err")"
p1=$(now)
# Look up each once, in a scattered order.
cut -d' ' -f2 "$T/published" | awk 'NR % 2 == 0 { print; next } { a[NR] = $0 }
    END { for (i in a) print a[i] }' >"$T/values"
t0=$(now)
"$INTELMESH" -d "$T/a" lookup - <"$T/values" >"$T/out" || fail "lookup - did not find all"
t1=$(now)
[ "$(wc -l <"$T/out")" -eq "$N" ] || fail "lookup - answered $(wc -l <"$T/out") of $N"
"$top_builddir/tests/bench_store" "$N" >"$T/store.out"
raw=$(awk '/raw LMDB gets/ { print $(NF - 3) }' "$T/store.out")
rawput=$(awk '/raw LMDB puts/ { print $(NF - 3) }' "$T/store.out")
awk -v n="$N" -v t0="$t0" -v t1="$t1" -v raw="$raw" -v p0="$p0" -v p1="$p1" \
    -v rawput="$rawput" 'BEGIN {
    rate = n / (t1 - t0)
    prate = n / (p1 - p0)
    printf "intelmesh publish and look-up benchmark: %d indicators\n", n
    printf "  publish - (CLI to node: signed, indexed, durable) %9.0f indicators/s\n", prate
    printf "  raw LMDB puts, same count     %9.0f puts/s        ratio %.2f\n", rawput, prate / rawput
    printf "  lookup - (control socket)     %9.0f look-ups/s\n", rate
    printf "  raw LMDB gets, same count     %9.0f gets/s        ratio %.2f\n", raw, rate / raw
}'
