#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t45-disk-full.sh -- a full disk, made hermetic by a small store/max-size:
# publishing is refused with "disk full" and nothing stored is lost, status
# shows since when and how many writes were refused; a receiver whose store
# is full backs off its pulls instead of re-pulling the same batch at once,
# and catches up once its limit is raised (SPEC.md, "A full disk"). Then a
# real full filesystem (a small tmpfs: root only, else skipped): the daemon's
# writes and init say "disk full" with the path.

# As root, the suite runs in a mount namespace of its own: the small
# filesystems it mounts go with it, however it ends.
if [ -z "${IM_T45_UNSHARED:-}" ] && [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
    IM_T45_UNSHARED=1 exec unshare -m --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

link () {
    im "$1" peer add "$(im "$2" id)" >/dev/null && im "$2" peer add "$(im "$1" id)" >/dev/null
}
# status_num NODE KEY: the first number "KEY":N in NODE's status --json.
status_num () { im "$1" status --json | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
# ids NODE: the sorted ids of every record NODE holds.
ids () { im "$1" list --json | grep -o '"id":"[^"]*"' | cut -d'"' -f4 | sort; }
peer_json () { im "$1" peer list --json | sed 's/},{/}\n{/g' | grep "\"name\":\"$2\""; }
# peer_num NODE PEER KEY: a number of PEER in NODE's peer list (0 when absent).
peer_num () { n=$(peer_json "$1" "$2" | grep -o "\"$3\":[0-9]*" | cut -d: -f2); echo "${n:-0}"; }
connected () { peer_json "$1" "$2" | grep -q '"connected":true'; }
disk_full () { im "$1" status --json | grep -q '"disk_full":{"since":"'; }
holds () { [ "$(status_num "$1" records)" = "$2" ]; }
# set_max NODE SIZE: NODE's store/max-size is SIZE (the line after map-size).
set_max () {
    sed -i -e '/^    max-size = /d' -e "s/^    map-size = .*/&\n    max-size = $2/" \
        "$T/$1/intelmesh.conf"
}
# values N PREFIX: N domain lines.
values () { awk -v n="$1" -v p="$2" 'BEGIN { for (i = 0; i < n; i++) printf "domain %s-%d.full.example\n", p, i }'; }
keep_logs () {
    [ "$tap_failed" -eq 0 ] && return
    keep=$(mktemp -d "${TMPDIR:-/tmp}/disk-full-logs.XXXXXX") || return
    cp "$T"/*.log "$keep"/ 2>/dev/null
    echo "# the nodes' logs are kept in $keep"
}
MOUNTS=""
# small_disk DIR SIZE: a tmpfs of SIZE on DIR (made), mode 0700; fails
# where mounting is not allowed.
small_disk () {
    mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" 2>/dev/null \
        && MOUNTS="$MOUNTS $1"
}
unmount_all () { for m in $MOUNTS; do umount -l "$m" 2>/dev/null; done; MOUNTS=""; }
# fill_disk FILE: FILE grows until its filesystem is full.
fill_disk () { dd if=/dev/zero of="$1" bs=4k 2>/dev/null; [ -s "$1" ]; }
trap 'keep_logs; unmount_all; cleanup' EXIT

# --- 1. Publishing into a full store -------------------------------------------
block publish 'a store at its size limit refuses publish as disk full; nothing is lost'
b_publish () {
    diag "SPEC.md: A full disk"
    new_node full && set_max full 1M; ok $? "a node with store/max-size = 1M"
    grep -q '^    max-size = 1M$' "$T/full/intelmesh.conf"; ok $? "the setting is in its file"
    start_node full; ok $? "it starts"; pid=$NODE_PID
    ! disk_full full && im full status --json | grep -q '"max_size":1048576'
    ok $? "status shows the limit and no full disk"

    values 100 early | im full publish - >"$T/early.ids" 2>"$T/early.err"
    ok $? "100 values are published under the limit"
    [ "$(wc -l <"$T/early.ids")" -eq 100 ]; ok $? "with 100 ids"

    values 5000 many | im full publish - >"$T/many.ids" 2>"$T/many.err"
    rc=$?
    diag "publish of 5000: exit $rc; $(wc -l <"$T/many.ids") acknowledged; stderr: $(head -c 600 "$T/many.err")"
    [ "$rc" -ne 0 ]; ok $? "publishing 5000 more fails (exit $rc)"
    grep -q "disk full" "$T/many.err"; ok $? "standard error says disk full"
    [ "$(grep -c "disk full" "$T/many.err")" -eq 1 ]; ok $? "once, on one line"
    acked=$(wc -l <"$T/many.ids")
    [ "$acked" -lt 5000 ]; ok $? "fewer than 5000 were acknowledged ($acked)"

    disk_full full; ok $? "status --json shows disk_full with a time"
    refused=$(im full status --json | grep -o '"writes_refused":[0-9]*' | cut -d: -f2)
    [ "${refused:-0}" -ge 1 ]; ok $? "and the writes refused (${refused:-none})"
    im full status >"$T/status.txt"
    grep -q "store: disk full since [0-9T:Z-]* ($refused writes refused)" "$T/status.txt"
    ok $? "status says: $(grep 'disk full' "$T/status.txt")"

    sort "$T/early.ids" "$T/many.ids" >"$T/acked.ids"
    ids full >"$T/held.ids"
    cmp -s "$T/acked.ids" "$T/held.ids"
    ok $? "the node holds exactly the $((100 + acked)) acknowledged records"
    holds full $((100 + acked)); ok $? "status counts $((100 + acked)) records"
    im full lookup early-0.full.example >/dev/null && im full lookup early-99.full.example >/dev/null
    ok $? "the first records are found"

    values 1000 more | im full publish - >"$T/more.ids" 2>"$T/more.err"
    [ $? -ne 0 ] && grep -q "disk full" "$T/more.err"; ok $? "the next 1000 are refused too"
    again=$(im full status --json | grep -o '"writes_refused":[0-9]*' | cut -d: -f2)
    [ "${again:-0}" -gt "$refused" ]; ok $? "and counted ($refused -> ${again:-none} writes refused)"
    acked=$((acked + $(wc -l <"$T/more.ids")))
    sort "$T/early.ids" "$T/many.ids" "$T/more.ids" >"$T/acked.ids"
    ids full >"$T/held.ids"
    cmp -s "$T/acked.ids" "$T/held.ids"
    ok $? "the node still holds exactly the $((100 + acked)) acknowledged records"

    set_max full 64M && im full reload >/dev/null; ok $? "the limit is raised to 64M and reloaded"
    im full publish domain one-more.full.example >/dev/null; ok $? "a publish succeeds again"
    ! disk_full full && ! im full status | grep -q "disk full"
    ok $? "status no longer shows a full disk"
    holds full $((100 + acked + 1)); ok $? "$((100 + acked + 1)) records"
    stop_node "$pid"; ok $? "the node stops cleanly"
}

# --- 2. A receiver with a full store ------------------------------------------------
block backoff 'a receiver whose store is full backs its pulls off, then catches up'
b_backoff () {
    diag "SPEC.md: A full disk (pulls back off)"
    new_node snd && new_node rcv && set_max rcv 1M && link snd rcv
    ok $? "a sender and a receiver limited to 1M, peered"
    start_node snd; ok $? "the sender starts"; ps=$NODE_PID
    values 5000 sent | im snd publish - >/dev/null 2>&1; ok $? "the sender publishes 5000"
    start_node rcv; ok $? "the receiver starts"; pr=$NODE_PID
    wait_for 300 disk_full rcv; ok $? "the receiver's store becomes full"
    wait_for 100 connected snd rcv; ok $? "the two are connected"
    held=$(status_num rcv records)
    diag "the receiver holds $held of 5000"
    [ "${held:-5000}" -lt 5000 ]; ok $? "the receiver holds fewer than 5000 ($held)"

    f0=$(peer_num rcv snd store_failed); s0=$(peer_num snd rcv sent)
    sleep 10
    f1=$(peer_num rcv snd store_failed); s1=$(peer_num snd rcv sent)
    diag "in 10 s: $((f1 - f0)) batches not stored at the receiver ($f0 -> $f1);" \
        "the sender sent $((s1 - s0)) records ($s0 -> $s1)"
    [ "$f1" -ge 3 ]; ok $? "the receiver still tries ($f1 batches failed in the episode)"
    [ "$((f1 - f0))" -le 15 ]; ok $? "but backs off: at most 15 batches in 10 s"
    [ "$((s1 - s0))" -le 15000 ]
    ok $? "the sender answered at most 15 pulls' worth (15000 records) in 10 s"
    [ "$(grep -c "cannot store records from snd" "$T/rcv.log")" -eq 1 ]
    ok $? "the receiver logged the failure once"
    grep "cannot store records from snd" "$T/rcv.log" | grep -q "disk full"
    ok $? "saying disk full"
    disk_full rcv && holds rcv "$held"; ok $? "it still holds $held records, disk still full"

    set_max rcv 64M && im rcv reload >/dev/null; ok $? "the receiver's limit is raised to 64M"
    wait_for 600 holds rcv 5000; ok $? "the receiver catches up to 5000 records"
    ! disk_full rcv; ok $? "and no longer shows a full disk"
    [ "$(peer_num rcv snd store_failed)" = 0 ]; ok $? "nor failed batches"
    grep -q "records from snd are stored again" "$T/rcv.log"; ok $? "the recovery is logged"
    ids snd >"$T/snd.ids"; ids rcv >"$T/rcv.ids"
    cmp -s "$T/snd.ids" "$T/rcv.ids"; ok $? "both hold the same 5000 ids"
    stop_node "$pr" && stop_node "$ps"; ok $? "both stop cleanly"
}

# --- 3. A real full filesystem ------------------------------------------------
block real_disk 'a node whose filesystem fills: disk full with the path, a store error, writes again once space is freed'
b_real_disk () {
    diag "SPEC.md: A full disk (ENOSPC, EDQUOT, EIO on a filesystem with no free blocks)"
    if ! small_disk "$T/tiny" 4m; then
        ok 0 "# SKIP no tmpfs can be mounted here (needs root)"
        return
    fi
    new_node tiny; ok $? "a node on a 4 MiB tmpfs"
    start_node tiny; ok $? "it starts"; pid=$NODE_PID
    values 100 early | im tiny publish - >"$T/early.ids" 2>/dev/null
    ok $? "100 values are published while there is room"
    fill_disk "$T/tiny/ballast" && truncate -s -256K "$T/tiny/ballast"
    ok $? "a ballast file fills the disk, less 256 KiB"

    values 5000 tiny | im tiny publish - >"$T/tiny.ids" 2>"$T/tiny.err"
    rc=$?
    diag "publish of 5000: exit $rc; $(wc -l <"$T/tiny.ids") acknowledged; $(grep -v warning "$T/tiny.err" | head -c 600)"
    [ "$rc" -eq 1 ]; ok $? "publishing 5000 more fails (exit $rc)"
    [ "$(grep -c "disk full" "$T/tiny.err")" -eq 1 ]; ok $? "standard error says disk full, once"
    grep "disk full" "$T/tiny.err" | grep -q "^intelmesh: publish: .*disk full: no space left for $T/tiny/store "
    ok $? "naming the store's directory: $(grep "disk full" "$T/tiny.err")"
    ! grep -q "Input/output error\$\|malformed" "$T/tiny.err"; ok $? "not a bare I/O error"

    kill -0 "$pid" && node_answers tiny "$pid"; ok $? "the daemon runs and answers status"
    im tiny status --json >"$T/st"
    grep -q '"bad_requests":0' "$T/st"; ok $? "no request is counted malformed"
    grep -q '"store_errors":[1-9]' "$T/st"; ok $? "the failure is counted a store error"
    disk_full tiny; ok $? "status --json shows disk_full with a time"
    im tiny status | grep -q "store: disk full since [0-9T:Z-]* ([1-9][0-9]* writes refused)"
    ok $? "status says: $(im tiny status | grep 'disk full')"
    grep -q "disk full: no space left for $T/tiny/store" "$T/tiny.log"; ok $? "the log says so"
    new_node other >/dev/null 2>&1 && fill_disk "$T/tiny/ballast2"
    im tiny peer add "$(im other id)" >/dev/null 2>"$T/peer.err"; rc=$?
    [ "$rc" -ne 0 ] && grep -q "^intelmesh: peer add: disk full: no room to write $T/tiny/intelmesh.conf" "$T/peer.err"
    ok $? "a trust-list change on the full disk says disk full with the file (exit $rc): $(cat "$T/peer.err")"
    rm -f "$T/tiny/ballast2"

    sort "$T/early.ids" "$T/tiny.ids" >"$T/acked.ids"
    ids tiny >"$T/held.ids"
    cmp -s "$T/acked.ids" "$T/held.ids"
    ok $? "the node holds exactly the $(wc -l <"$T/acked.ids") acknowledged records"

    rm -f "$T/tiny/ballast"; ok $? "the ballast is removed"
    im tiny publish domain freed.full.example >/dev/null 2>&1; ok $? "a publish succeeds again"
    ! disk_full tiny; ok $? "status no longer shows a full disk"
    holds tiny $(($(wc -l <"$T/acked.ids") + 1)); ok $? "every record is held, and the new one"
    stop_node "$pid"; ok $? "the node stops cleanly"
    unmount_all
}

block init_full 'init on a full disk says disk full with the path and leaves nothing behind'
b_init_full () {
    if ! small_disk "$T/small" 256k; then
        ok 0 "# SKIP no tmpfs can be mounted here (needs root)"
        return
    fi
    mkdir "$T/small/made" && fill_disk "$T/small/ballast"; ok $? "a full 256 KiB tmpfs"
    for dir in new made; do
        "$INTELMESH" -d "$T/small/$dir" init --listen "tcp://127.0.0.1:$(free_port)" \
            >"$T/out" 2>"$T/err"
        rc=$?
        [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] \
            && grep -q "^intelmesh: init: disk full: no room for a node in $T/small/$dir; nothing was left behind (" "$T/err"
        ok $? "init of a $dir directory: exit $rc: $(cat "$T/err")"
    done
    [ "$(ls -A "$T/small" | tr '\n' ' ')" = "ballast made " ] && [ -z "$(ls -A "$T/small/made")" ]
    ok $? "nothing is left behind: $(ls -A "$T/small" | tr '\n' ' ')"
    truncate -s -64K "$T/small/ballast"
    for free in 1 2 3; do
        "$INTELMESH" -d "$T/small/new" init --listen "tcp://127.0.0.1:$(free_port)" \
            >/dev/null 2>"$T/err" && break
        grep -q "disk full" "$T/err" || break
        truncate -s -64K "$T/small/ballast"
    done
    "$INTELMESH" -d "$T/small/new" id >/dev/null; ok $? "with room freed, init works ($(cat "$T/err"))"
    unmount_all
}

run_blocks "$@"
