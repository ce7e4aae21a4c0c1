#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t82-feed-private.sh -- the local feed is private by default: init puts it
# on an ipc:// socket in the data directory, mode 0660 for the node's group
# (pub/group), that `intelmesh tail` reads; a path held by something else
# stops the daemon; a TCP feed warns that every local user can read it; a
# CURVE feed (pub/subscribers) serves a listed key and gives an unlisted one
# nothing, and serves the node's new key after rotate-keys. TAP output.
. "$(dirname "$0")/lib.sh"

# plain_node NAME [INIT-ARGS...]: init with the default feed (no --pub
# unless given), a one-second heartbeat.
plain_node () {
    n=$1; shift
    "$INTELMESH" init -d "$T/$n" --name "$n" --listen "tcp://127.0.0.1:$(free_port)" "$@" \
        >/dev/null || return 1
    sed -i 's/^    heartbeat = 5$/    heartbeat = 1/' "$T/$n/intelmesh.conf"
}
# set_pub NAME KEY VALUE: adds KEY = "VALUE" to NAME's pub section.
set_pub () {
    sed -i "s|^pub\$|pub\n    $2 = \"$3\"|" "$T/$1/intelmesh.conf"
}
# refused NAME: intelmeshd refuses to start NAME (30 s at most); its
# standard error is in $T/NAME.err.
refused () {
    bounded 30 "$INTELMESHD" -d "$T/$1" --foreground 2>"$T/$1.err" >/dev/null
    rc=$?
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
}

block default 'init puts the feed on an ipc:// socket, mode 0660, and tail reads it'
b_default () {
    plain_node a; ok $? "a node is initialised without --pub"
    grep -qx "    endpoint = \"ipc://$T/a/pub.sock\"" "$T/a/intelmesh.conf"
    ok $? "init writes pub/endpoint = ipc://DIR/pub.sock"
    grep -qx "    #misp-endpoint = \"ipc://$T/a/misp.sock\"" "$T/a/intelmesh.conf"
    ok $? "and a commented misp-endpoint in the same directory (not init's temporary one)"
    set_pub a misp-endpoint "ipc://$T/a/misp.sock"
    start_node a; ok $? "the node starts"
    pid=$NODE_PID
    for s in pub misp; do
        [ -S "$T/a/$s.sock" ] && [ "$(stat -c %a "$T/a/$s.sock")" = 660 ]
        ok $? "the $s feed socket is mode 0660 ($(stat -c %a "$T/a/$s.sock" 2>&1))"
        [ "$(stat -c %g "$T/a/$s.sock")" = "$(id -g)" ]
        ok $? "the $s feed socket belongs to the node user's primary group"
    done
    im a tail --count 1 --timeout 60 node.heartbeat >"$T/out" 2>"$T/err"
    [ $? -eq 0 ] && grep -q '"topic":"node.heartbeat"' "$T/out"
    ok $? "tail reads a heartbeat from the default feed"
    im a tail --count 1 --timeout 60 ioc. >"$T/feed" 2>/dev/null &
    tail_pid=$!
    PIDS="$PIDS $tail_pid"
    # Published until tail, subscribed a little later than it started, has it.
    for i in $(seq 1 100); do
        im a publish --tlp amber ipv4 192.0.2.$i >/dev/null 2>&1
        kill -0 "$tail_pid" 2>/dev/null || break
        sleep 0.2
    done
    wait "$tail_pid"; ok $? "tail exits after one indicator"
    grep -q '"topic":"ioc.ipv4.amber"' "$T/feed"; ok $? "tail reads a published indicator"
    stop_node "$pid"; ok $? "the node stops"
    [ ! -e "$T/a/pub.sock" ]; ok $? "the feed socket is gone once the node stopped"
}

block group 'pub/group names the feed sockets'"'"' group; an unknown group stops the daemon'
b_group () {
    plain_node g; ok $? "a node is initialised"
    set_pub g group no-such-group-82
    refused g; ok $? "intelmeshd refuses to start with pub/group = no-such-group-82"
    grep -q "pub/group 'no-such-group-82': no such group" "$T/g.err"
    ok $? "the error names pub/group and says there is no such group"
    [ ! -e "$T/g/pub.sock" ]; ok $? "no feed socket is left"
    # A group the node's user can give: its own, or any other when root.
    group=$(id -gn)
    if [ "$(id -u)" = 0 ]; then
        group=$(getent group daemon nogroup bin | head -n 1 | cut -d: -f1)
        [ -n "$group" ] || group=$(id -gn)
    fi
    gid=$(getent group "$group" | cut -d: -f3)
    sed -i "s|no-such-group-82|$group|" "$T/g/intelmesh.conf"
    start_node g; ok $? "the node starts with pub/group = $group"
    [ "$(stat -c %g "$T/g/pub.sock")" = "$gid" ] && [ "$(stat -c %a "$T/g/pub.sock")" = 660 ]
    ok $? "the feed socket belongs to group $group, mode 0660"
    stop_node "$NODE_PID"; ok $? "the node stops"
}

block squat 'a feed path that is not this node'"'"'s socket stops the daemon'
b_squat () {
    plain_node s; ok $? "a node is initialised"
    start_node s && stop_node "$NODE_PID"; ok $? "the node starts and stops"
    rm -f "$T/s/pub.sock"
    echo "precious" >"$T/s/pub.sock"
    refused s; ok $? "a file at the feed's path: intelmeshd refuses to start"
    grep -qx "intelmeshd: feed socket $T/s/pub.sock exists and is a file, not a socket: .*" \
        "$T/s.err"
    ok $? "a one-line error names the path and says it is not a socket"
    [ "$(cat "$T/s/pub.sock")" = precious ]; ok $? "the file is left as it was"
    rm -f "$T/s/pub.sock"
    echo "target" >"$T/s-target"
    ln -s "$T/s-target" "$T/s/pub.sock"
    refused s; ok $? "a symbolic link at the feed's path: intelmeshd refuses to start"
    grep -q "feed socket $T/s/pub.sock exists and is a symbolic link" "$T/s.err"
    ok $? "the error says it is a symbolic link"
    [ -L "$T/s/pub.sock" ] && [ "$(cat "$T/s-target")" = target ]
    ok $? "the link and its target are left as they were"
    rm -f "$T/s/pub.sock"
    # Someone else's socket: a socket file owned by another user can be made
    # only as root; otherwise this is not covered here.
    if [ "$(id -u)" = 0 ] && command -v "$PYTHON3" >/dev/null 2>&1; then
        "$PYTHON3" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
            "$T/s/pub.sock" && chown 65534 "$T/s/pub.sock"
        ok $? "a socket owned by uid 65534 is at the feed's path"
        refused s; ok $? "another user's socket at the feed's path: intelmeshd refuses to start"
        grep -qx "intelmeshd: feed socket $T/s/pub.sock belongs to user [^ ]* (uid 65534), not to this node's user: .*" \
            "$T/s.err"
        ok $? "the error names the path and its owner"
        [ "$(stat -c %u "$T/s/pub.sock")" = 65534 ]; ok $? "the socket is left as it was"
        rm -f "$T/s/pub.sock"
    else
        diag "not root: another user's socket at the feed's path is not tested"
    fi
    # A stale socket of our own, left by a killed daemon, is replaced.
    start_node s; ok $? "the node starts once the path is free"
    plain_node s2 --pub "ipc://$T/s/pub.sock"; ok $? "a second node is given the same feed path"
    refused s2; ok $? "intelmeshd refuses to start the second node"
    grep -q "feed socket $T/s/pub.sock is in use by another process" "$T/s2.err"
    ok $? "the error says the feed socket is in use"
    im s tail --count 1 --timeout 60 >/dev/null 2>&1; ok $? "the first node's feed still works"
    kill -KILL "$NODE_PID"
    wait_gone "$NODE_PID" 100
    [ -S "$T/s/pub.sock" ]; ok $? "a killed node leaves its feed socket"
    start_node s; ok $? "the node starts over its own stale socket"
    stop_node "$NODE_PID"; ok $? "the node stops"
}

block tcp 'a TCP feed without CURVE logs that every local user can read it' default
b_tcp () {
    port=$(free_port)
    plain_node t --pub "tcp://127.0.0.1:$port" 2>"$T/t.init"; ok $? "a node is initialised with --pub tcp://"
    grep -q "intelmesh: init: warning: the feed tcp://127.0.0.1:$port is open to every local user" "$T/t.init"
    ok $? "init warns that every local user can read it ($(cat "$T/t.init"))"
    plain_node rel --pub "ipc://rel.sock" 2>"$T/rel.init"; rc=$?
    [ $rc -ne 0 ] && grep -q "an ipc:// feed needs an absolute path" "$T/rel.init" && [ ! -e "$T/rel" ]
    ok $? "init refuses a relative ipc:// feed, which would bind wherever the daemon runs"
    start_node t; ok $? "the node starts"
    grep -q "feed tcp://127.0.0.1:$port is not private: every local user can read it" "$T/t.log"
    ok $? "the log warns that every local user can read the TCP feed"
    im t tail --count 1 --timeout 60 >/dev/null 2>&1; ok $? "tail reads the TCP feed"
    stop_node "$NODE_PID"; ok $? "the node stops"
    grep -q "is not private" "$T/a.log"; [ $? -ne 0 ]
    ok $? "the default ipc:// feed logs no such warning"
}

block curve 'a CURVE feed serves a listed key and nothing to an unlisted one'
b_curve () {
    port=$(free_port)
    plain_node c --pub "tcp://127.0.0.1:$port"; ok $? "a node is initialised with --pub tcp://"
    mkdir -p "$T/c/subscribers"
    im c tail --make-cert "$T/good" >"$T/good.key"; ok $? "tail --make-cert makes a certificate"
    [ "$(stat -c %a "$T/good_secret")" = 600 ]; ok $? "its secret file is mode 0600"
    im c tail --make-cert "$T/good" >/dev/null 2>&1; [ $? -ne 0 ]
    ok $? "tail --make-cert does not replace a certificate"
    im c tail --make-cert "$T/bad" >/dev/null; ok $? "a second certificate is made"
    cp "$T/good" "$T/c/subscribers/good"
    set_pub c subscribers subscribers
    start_node c; ok $? "the node starts with pub/subscribers"
    grep -q "is not private" "$T/c.log"; [ $? -ne 0 ]; ok $? "a CURVE feed logs no warning"
    im c tail --count 1 --timeout 5 >/dev/null 2>"$T/err"; [ $? -eq 2 ]
    ok $? "tail without --cert is a usage error"
    grep -q "give --cert FILE" "$T/err"; ok $? "the error says to give --cert"
    im c tail --timeout 120 --cert "$T/bad" >"$T/bad.out" 2>/dev/null &
    bad_pid=$!
    PIDS="$PIDS $bad_pid"
    im c tail --count 2 --timeout 120 --cert "$T/good" >"$T/good.out" 2>"$T/err"
    ok $? "tail with the listed certificate reads two messages"
    [ "$(grep -c '"topic":"node.heartbeat"' "$T/good.out")" -eq 2 ]
    ok $? "the listed subscriber got two heartbeats"
    key=$(sed -n 's/^ *public-key = "\(.*\)"$/\1/p' "$T/bad")
    hex=$("$PYTHON3" -c '
import sys
a = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
s = sys.argv[1]; out = b""
for i in range(0, len(s), 5):
    n = 0
    for c in s[i:i + 5]:
        n = n * 85 + a.index(c)
    out += n.to_bytes(4, "big")
print(out.hex())' "$key")
    wait_for 300 grep -q "feed: subscriber from 127.0.0.1 refused: CURVE key ${hex:0:16}" "$T/c.log"
    ok $? "the unlisted key is refused and logged"
    # The unlisted subscriber was connected all the while the listed one
    # read two heartbeats: it got nothing.
    stop_ours "$bad_pid"
    wait_gone "$bad_pid" 100
    [ ! -s "$T/bad.out" ]; ok $? "the unlisted subscriber got nothing"
    stop_node "$NODE_PID"; ok $? "the node stops"
}

# reaches OUT PREFIX: publishes at node c a value not published before,
# PREFIX.N; true once the feed output OUT holds any PREFIX.* value.
reaches () {
    n=$(($(cat "$T/n" 2>/dev/null || echo 0) % 250 + 1))
    echo "$n" >"$T/n"
    im c publish ipv4 "$2.$n" >/dev/null 2>&1
    grep -q "\"$2\\." "$1"
}

block curve_rotate 'after rotate-keys the CURVE feed serves the new key, not the old, with no restart' curve
b_curve_rotate () {
    start_node c; pid=$NODE_PID
    old=$(im c id | cut -d' ' -f4)
    # A subscriber with the old key, connected before the rotation.
    im c tail --timeout 120 --cert "$T/good" --server-key "$old" ioc. >"$T/old.out" 2>/dev/null &
    old_pid=$!; PIDS="$PIDS $old_pid"
    wait_for 300 reaches "$T/old.out" 198.51.100
    ok $? "a subscriber with the key of now reads the feed"
    im c rotate-keys --grace 1h >"$T/rot.out"; ok $? "the node rotates its CURVE key"
    grep -q "the CURVE feed serves the new key now: its subscribers need it" "$T/rot.out"
    ok $? "rotate-keys says the feed serves the new key ($(tail -1 "$T/rot.out"))"
    new=$(im c id | cut -d' ' -f4)
    grep -q "serves the new CURVE key" "$T/c.log"; ok $? "the log says so"
    im c tail --timeout 120 --cert "$T/good" ioc. >"$T/new.out" 2>/dev/null &
    new_pid=$!; PIDS="$PIDS $new_pid"
    im c tail --timeout 120 --cert "$T/good" --server-key "$old" ioc. >"$T/old2.out" 2>/dev/null &
    old2_pid=$!; PIDS="$PIDS $old2_pid"
    wait_for 300 reaches "$T/new.out" 203.0.113
    ok $? "a subscriber with the new key ($new) reads the feed, no restart"
    # Sent to every connected subscriber at once: those with the old key got
    # none of it.
    im c publish ipv4 203.0.113.254 >/dev/null 2>&1
    wait_for 300 grep -q 203.0.113.254 "$T/new.out"; ok $? "and what is published next"
    grep -q '"203\.0\.113\.' "$T/old.out"; [ $? -ne 0 ]
    ok $? "the subscriber connected with the old key before the rotation is cut ($(grep -c 203.0.113 "$T/old.out") values after it)"
    [ ! -s "$T/old2.out" ]; ok $? "one that comes with the old key after it reads nothing"
    for sub in "$old_pid" "$new_pid" "$old2_pid"; do stop_ours "$sub"; done
    stop_node "$pid"; ok $? "the node stops"
}

run_blocks "$@"
