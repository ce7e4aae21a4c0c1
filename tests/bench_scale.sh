#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# bench_scale.sh -- `make bench-scale`: random degree-4 meshes of SIZES nodes
# ("16 64", "16 64 200" with SCALE=200) where every node publishes INDICATORS
# of its own at once; prints convergence time, receipts per indicator per
# node, RSS and disk per node, and their growth from the first size.
# Loopback only; every node stopped by its PID; the temp dir is removed.
set -u
: "${top_builddir:=.}"
: "${INTELMESH:=$top_builddir/tools/intelmesh}"
: "${INTELMESHD:=$top_builddir/node/intelmeshd}"
if [ -n "${SIZES:-}" ]; then :
elif [ "${SCALE:-}" = 200 ]; then SIZES="16 64 200"
else SIZES="16 64"; fi
INDICATORS=${INDICATORS:-500}
DEGREE=4
CONVERGE_SECONDS=${CONVERGE_SECONDS:-900} # per size
PUBLISH_JOBS=${PUBLISH_JOBS:-32}           # CLI processes publishing at once
# PUBLISH_NICE=-15 (as root) gives the publishing CLIs the CPU before the
# nodes: every node publishes faster than the mesh carries (publishing took
# 94 s instead of 215 s at 200 nodes), the case that made the most copies.
PUBLISH_NICE=${PUBLISH_NICE:-0}
SEED=${SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}

T=$(mktemp -d /tmp/intelmesh-scale.XXXXXX)
PIDS=""
cleanup () {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.5
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 143' INT TERM HUP # so that cleanup runs under timeout(1) or ^C
fail () { echo "bench_scale: $*" >&2; exit 1; }

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
        --pub "ipc://$T/$1/pub.sock" >/dev/null || fail "init $1 failed"
}
start () {
    "$INTELMESHD" -d "$T/$1" 2>/dev/null || return 1
    PIDS="$PIDS $(cat "$T/$1/intelmeshd.pid")"
}
# up NAME: a new node, started at once (so that its port is not taken by
# another program between init and start); made again on another port if
# its port was taken all the same.
up () {
    for _ in 1 2 3; do
        init "$1"
        start "$1" && return
        grep -q 'Address already in use' "$T/$1/intelmeshd.log" || break
        rm -rf "${T:?}/$1"
    done
    fail "$1 did not start: $(grep '^E:' "$T/$1/intelmeshd.log" 2>/dev/null | tail -1)"
}
stop_all () {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $PIDS; do
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    PIDS=""
}
peer () { node "$1" peer add "$(node "$2" id)" >/dev/null || fail "peer add $2 to $1 failed"; }
live () { node "$1" status --json 2>/dev/null | sed -n 's/.*"indicators":{"live":\([0-9]*\).*/\1/p'; }
# median and max of the numbers on stdin, one a line
medmax () { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "0 0"; exit }
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[NR] }'; }
# rss_mb [FIELD]: VmRSS (or FIELD: RssAnon is the heap, without the store's
# mapped pages) in MB of every running node, one a line
rss_mb () {
    for p in $PIDS; do awk -v f="${1:-VmRSS}:" '$1 == f { printf "%.1f\n", $2 / 1024 }' "/proc/$p/status"; done
}

# graph N SEED: prints the edges "i j" of a random connected simple graph on N
# nodes where every node has DEGREE distinct neighbours (pairing of stubs,
# redrawn until simple and connected); the last line is "draws K".
graph () {
    awk -v n="$1" -v seed="$2" -v d="$DEGREE" 'BEGIN {
        srand(seed)
        if (n <= d) { for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) print i, j; print "draws 0"; exit }
        for (draw = 1; draw <= 100000; draw++) {
            m = 0; for (i = 0; i < n; i++) for (k = 0; k < d; k++) s[m++] = i
            for (i = m - 1; i > 0; i--) { j = int(rand() * (i + 1)); t = s[i]; s[i] = s[j]; s[j] = t }
            delete e; ok = 1
            for (i = 0; i < m && ok; i += 2) {
                a = s[i]; b = s[i + 1]
                if (a == b || ((a < b ? a " " b : b " " a) in e)) ok = 0
                else e[a < b ? a " " b : b " " a] = 1
            }
            if (!ok) continue
            delete adj; delete seen
            for (k in e) { split(k, p, " "); adj[p[1]] = adj[p[1]] " " p[2]; adj[p[2]] = adj[p[2]] " " p[1] }
            q[0] = 0; seen[0] = 1; h = 0; tl = 1
            while (h < tl) { c = q[h++]; k = split(adj[c], nb, " ")
                for (x = 1; x <= k; x++) if (!(nb[x] in seen)) { seen[nb[x]] = 1; q[tl++] = nb[x] } }
            if (tl != n) continue
            for (k in e) print k
            print "draws", draw; exit
        }
        exit 1 }'
}

echo "intelmesh scale benchmark (loopback, CURVE, $(nproc) cores shared by every node)"
echo "  random degree-$DEGREE meshes, $INDICATORS indicators published by every node; seed $SEED" \
    "(SEED=$SEED repeats the graphs)"
[ "$PUBLISH_NICE" = 0 ] || echo "  publishing CLIs at nice $PUBLISH_NICE (PUBLISH_NICE)"
ROWS=()
status=0
for n in $SIZES; do
    rm -rf "${T:?}"/m* "$T/ports.given"
    graph "$n" "$((SEED + n))" >"$T/edges" || fail "no connected degree-$DEGREE graph on $n nodes"
    draws=$(awk '$1 == "draws" { print $2 }' "$T/edges")
    sed -i '/^draws/d' "$T/edges"
    for i in $(seq 0 $((n - 1))); do up m$i; done
    while read -r a b; do peer m$a m$b; peer m$b m$a; done <"$T/edges"
    degs=$(awk '{ c[$1]++; c[$2]++ } END { for (k in c) print c[k] }' "$T/edges" | sort -n | uniq -c |
        awk '{ printf "%s%d nodes of degree %d", (NR > 1 ? ", " : ""), $1, $2 }')
    echo "  $n nodes: $(wc -l <"$T/edges") links ($degs; graph drawn $draws times), all started and peered"
    # every link up before publishing (peers added to running nodes dial at once)
    end=$(( $(date +%s) + 120 ))
    for i in $(seq 0 $((n - 1))); do
        deg=$(awk -v i="$i" '$1 == i || $2 == i' "$T/edges" | wc -l)
        until [ "$(node m$i peer list --json | grep -o '"connected":true' | wc -l)" = "$deg" ]; do
            [ "$(date +%s)" -ge "$end" ] && fail "m$i: not all of its $deg links came up in 120 s"
            sleep 0.2
        done
    done
    sleep 1
    declare -A LOGLINES=() # the log lines before publishing (refused handshakes while peering)
    for i in $(seq 0 $((n - 1))); do LOGLINES[$i]=$(wc -l <"$T/m$i/intelmeshd.log"); done
    read -r idle_med idle_max < <(rss_mb | medmax)
    m0=$(cat "$T/m0/intelmeshd.pid")
    m0_idle=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$m0/status")
    t0=$(now)
    for i in $(seq 0 $((n - 1))); do
        while [ "$(jobs -rp | wc -l)" -ge "$PUBLISH_JOBS" ]; do wait -n; done
        awk -v i="$i" -v c="$INDICATORS" 'BEGIN { for (k = 0; k < c; k++)
            printf "ipv4 %d.%d.%d.%d\n", 11 + int(i / 256), i % 256, int(k / 256) % 256, k % 256 }' \
            | nice -n "$PUBLISH_NICE" "$INTELMESH" -d "$T/m$i" publish - >/dev/null \
                2>>"$T/publish.err" &
    done
    wait
    t_pub=$(now)
    want=$((n * INDICATORS))
    end=$(( $(date +%s) + CONVERGE_SECONDS ))
    late=""
    next=$(( $(date +%s) + 60 )) # a progress line a minute, so that a stopped run says where it was
    for i in $(seq 0 $((n - 1))); do
        while have=$(live m$i); [ "$have" != "$want" ]; do
            [ "$(date +%s)" -ge "$end" ] && { late="$late m$i"; break; }
            [ "$(date +%s)" -ge "$next" ] && { next=$((next + 60))
                echo "  ... $(calc "int($(now) - $t0)") s: m$i holds ${have:-?} of $want"; }
            sleep 0.2
        done
    done
    t1=$(now)
    conv=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    held="all hold $want after $conv s"
    if [ -n "$late" ]; then
        status=1
        held="NOT CONVERGED: $(echo $late | wc -w) nodes short of $want after $CONVERGE_SECONDS s"
        for x in $(echo $late | cut -d' ' -f1-10); do echo "    $x holds $(live $x)"; done
        conv=">$CONVERGE_SECONDS($(echo $late | wc -w)_late)"
    fi
    total=0
    : >"$T/peers"
    for i in $(seq 0 $((n - 1))); do
        node m$i peer list --json >>"$T/peers"
    done
    # received, known (copies of records already held), fetched, PING round trips
    read -r received known fetched deferred known_found < <(grep -o '"\(received\|known\|known_found\|fetched\|notes_deferred\)":[0-9]*' "$T/peers" |
        awk -F'[":]+' '{ s[$2] += $3 } END { printf "%d %d %d %d %d\n", s["received"], s["known"], s["fetched"], s["notes_deferred"], s["known_found"] }')
    rtt_med=$(grep -o '"rtt_ms":[0-9]*' "$T/peers" | cut -d: -f2 | sort -n |
        awk '{ r[NR] = $1 } END { print NR ? r[int((NR + 1) / 2)] : 0 }')
    total=$((received + known))
    receipts=$(calc "$total / ($n * ($n - 1) * $INDICATORS)")
    read -r rss_med rss_max < <(rss_mb | medmax)
    read -r anon_med anon_max < <(rss_mb RssAnon | medmax)
    m0_after=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$m0/status")
    read -r disk_med _ < <(for i in $(seq 0 $((n - 1))); do
        du -k "$T/m$i/store/data.mdb" | awk '{ printf "%.1f\n", $1 / 1024 }'; done | medmax)
    printf "  %d nodes: published in %.1f s, %s; receipts %.2f per indicator per node\n" \
        "$n" "$(calc "$t_pub - $t0")" "$held" "$receipts"
    printf "  %d nodes: records received new %d, copies of records held %d (%d of them in answers to a FETCH); fetched after a note %d (notes put off while another peer was asked %d); PING round trip median %d ms\n" \
        "$n" "$received" "$known" "$known_found" "$fetched" "$deferred" "$rtt_med"
    printf "  %d nodes: RSS idle (before publishing) median %.1f MB, max %.1f MB; after: median %.1f MB, max %.1f MB (anonymous: median %.1f MB, max %.1f MB); m0 %.1f -> %.1f MB\n" \
        "$n" "$idle_med" "$idle_max" "$rss_med" "$rss_max" "$anon_med" "$anon_max" "$m0_idle" "$m0_after"
    # warnings and errors the nodes logged since publishing began, numbers and keys elided
    for i in $(seq 0 $((n - 1))); do tail -n +$((LOGLINES[$i] + 1)) "$T/m$i/intelmeshd.log"; done | grep '^[EW]:' |
        cut -d' ' -f1,5- | sed 's/[0-9a-f]\{16,\}/H/g; s/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn >"$T/warn"
    [ -s "$T/warn" ] && { echo "  $n nodes: $(awk '{ s += $1 } END { print s }' "$T/warn")" \
        "warning/error lines in the node logs, most frequent:"; head -5 "$T/warn" | sed 's/^ */    /'; }
    grep -v ', 0 refused$' "$T/publish.err" | sort | uniq -c | head -5 | sed 's/^ */  publish: /'

    rm -f "$T/publish.err"
    ROWS+=("$n $conv $receipts $idle_med $rss_med $rss_max $anon_med $disk_med")
    stop_all
done

echo
printf "  %5s  %12s  %9s  %12s  %11s  %11s  %12s  %12s\n" nodes "converge s" receipts "RSS idle MB" \
    "RSS med MB" "RSS max MB" "anon med MB" "disk med MB"
for row in "${ROWS[@]}"; do
    set -- $row
    printf "  %5s  %12s  %9.2f  %12.1f  %11.1f  %11.1f  %12.1f  %12.1f\n" "$@"
done
set -- ${ROWS[0]}
base=("$@")
for row in "${ROWS[@]:1}"; do
    set -- $row
    case "$2 ${base[1]}" in *'>'*) c="n/a" ;; *) c=$(awk -v a="$2" -v b="${base[1]}" 'BEGIN { printf "%.2f", a / b }') ;; esac
    printf "  growth %s/%s nodes (x%.1f): converge x%s, receipts x%.2f, RSS idle x%.2f, RSS med x%.2f, RSS max x%.2f, anon x%.2f, disk x%.2f\n" \
        "$1" "${base[0]}" "$(calc "$1 / ${base[0]}")" "$c" "$(calc "$3 / ${base[2]}")" "$(calc "$4 / ${base[3]}")" \
        "$(calc "$5 / ${base[4]}")" "$(calc "$6 / ${base[5]}")" "$(calc "$7 / ${base[6]}")" \
        "$(calc "$8 / ${base[7]}")"
done
exit $status
