#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t12-operator-errors.sh -- the usual mistakes of a new operator, and errors
# that name their cause: the node's own card as a peer, an interrupted init,
# a data path too long for its sockets, a non-TCP listen endpoint, a failed
# start, config syntax errors with line and column, permission denied, a
# missing data directory, a full disk, and "intelmesh: COMMAND:" on every
# error with the exit statuses of intelmesh(1).
. "$(dirname "$0")/lib.sh"

# one_line FILE: FILE holds exactly one line.
one_line () { [ "$(wc -l <"$1")" -eq 1 ]; }
# card_field NODE N: field N of NODE's card (3: node id, 4: CURVE key).
card_field () { im "$1" id | cut -d' ' -f"$2"; }

block self_peer 'peer add refuses the node itself: its card, its node id, its CURVE key'
b_self_peer () {
    new_node alpha && new_node bravo; ok $? "two nodes are initialised"
    own=$(im alpha id)
    cp "$T/alpha/intelmesh.conf" "$T/alpha.conf.before"
    im alpha peer add "$own" >"$T/out" 2>"$T/err"; rc=$?
    [ "$rc" -eq 1 ] && one_line "$T/err" \
        && grep -q "^intelmesh: peer add: that card has this node's own node id" "$T/err"
    ok $? "its own card is refused, offline, in one line, exit 1 ($rc: $(cat "$T/err"))"
    cmp -s "$T/alpha/intelmesh.conf" "$T/alpha.conf.before"; ok $? "and the file is unchanged"
    # bravo's card with alpha's node id; bravo's card with alpha's CURVE key.
    b=$(im bravo id)
    set -- $b
    im alpha peer add "$1 $2 $(card_field alpha 3) $4 $5" 2>"$T/err"
    [ $? -eq 1 ] && grep -q "this node's own node id" "$T/err"
    ok $? "a card with its node id is refused"
    im alpha peer add "$1 $2 $3 $(card_field alpha 4) $5" 2>"$T/err"
    [ $? -eq 1 ] && grep -q "this node's own CURVE key" "$T/err"
    ok $? "a card with its CURVE key is refused ($(cat "$T/err"))"
    start_node alpha; ok $? "alpha starts"
    im alpha peer add "$own" 2>"$T/err"
    [ $? -eq 1 ] && grep -q "own node id" "$T/err"; ok $? "its own card is refused while it runs"
    im alpha peer add "$b" >/dev/null; ok $? "a partner's card is taken"
    # The daemon's own check: the card written into the file by hand.
    printf 'peer\n    name = "myself"\n    card = "%s"\n' "$own" >>"$T/alpha/intelmesh.conf"
    im alpha reload >"$T/out" 2>"$T/err"
    [ $? -eq 1 ] && grep -q "peer myself has this node's own node id" "$T/err"
    ok $? "a reload of a file that lists the node itself is refused ($(cat "$T/err"))"
    im alpha status --json | grep -q '"name":"myself"'
    [ $? -ne 0 ]; ok $? "and the running node does not list itself"
    stop_node "$NODE_PID"; ok $? "alpha stops"
    "$INTELMESHD" -d "$T/alpha" --foreground 2>"$T/err"
    [ $? -ne 0 ] && grep -q "peer myself has this node's own node id" "$T/err"
    ok $? "intelmeshd does not start with it ($(cat "$T/err"))"
    cp "$T/alpha.conf.before" "$T/alpha/intelmesh.conf"
}

block init_atomic 'an interrupted init can be run again; a whole node is never touched'
b_init_atomic () {
    # What an init stopped half-way leaves: its temporary directory next to
    # the target (of a process that is gone), and keys/ without a file.
    sh -c 'exit 0' & dead=$!; wait "$dead"
    mkdir -p "$T/.charlie.init-$dead-AbCdEf/keys" "$T/charlie/keys"
    echo stale >"$T/charlie/keys/node.secret"
    im charlie init --name charlie --listen "tcp://127.0.0.1:$(free_port)" >"$T/out" 2>"$T/err"
    ok $? "init succeeds over a partial node ($(cat "$T/err"))"
    [ ! -e "$T/.charlie.init-$dead-AbCdEf" ]; ok $? "the stale temporary directory is gone"
    ls -d "$T"/charlie/keys.failed-init.* >/dev/null 2>&1 \
        && grep -q stale "$T"/charlie/keys.failed-init.*/node.secret
    ok $? "the stale keys are moved aside, not deleted"
    im charlie id >/dev/null; ok $? "the new node has a card"
    [ "$(stat -c %a "$T/charlie/keys/node.secret")" = 600 ]; ok $? "its secret key is mode 0600"
    ls -a "$T" | grep -q '^\.charlie\.init-'
    [ $? -ne 0 ]; ok $? "no temporary directory is left after a good init"
    sum=$(cat "$T/charlie/keys/node.public" "$T/charlie/intelmesh.conf" | cksum)
    im charlie init >"$T/out" 2>"$T/err"; rc=$?
    [ "$rc" -eq 1 ] && one_line "$T/err" \
        && grep -q "^intelmesh: init: a node already exists in $T/charlie" "$T/err"
    ok $? "a whole node is refused: $(cat "$T/err")"
    [ "$(cat "$T/charlie/keys/node.public" "$T/charlie/intelmesh.conf" | cksum)" = "$sum" ]
    ok $? "and left as it was"
    im delta init --listen "tcp://127.0.0.1:$(free_port)" >/dev/null \
        && [ "$(stat -c %a "$T/delta")" = 700 ]
    ok $? "init of a new directory makes it mode 0700"
}

block init_admin_dir 'init in a directory made for the node, whose parent it may not write'
b_init_admin_dir () {
    mkdir -p "$T/adm/node" && chmod 700 "$T/adm/node"
    if [ "$(id -u)" -eq 0 ]; then
        chmod 711 "$T"
        chown 65534:65534 "$T/adm/node"
        run="setpriv --reuid=65534 --regid=65534 --clear-groups"
        $run "$INTELMESH" --version >/dev/null 2>&1 || run=skip
    else
        chmod 555 "$T/adm"
        run=""
    fi
    if [ "$run" = skip ]; then
        ok 0 "# SKIP as root, nobody cannot run the command line"
    else
        before=$(stat -c '%u %a' "$T/adm/node")
        $run "$INTELMESH" -d "$T/adm/node" init --listen "tcp://127.0.0.1:$(free_port)" \
            >/dev/null 2>"$T/err"
        ok $? "init works where only the directory is writable ($(cat "$T/err"))"
        [ "$(stat -c '%u %a' "$T/adm/node")" = "$before" ]
        ok $? "the directory keeps its owner and mode ($before)"
        ls -a "$T/adm/node" | grep -q '^\.init-'
        [ $? -ne 0 ]; ok $? "and holds no temporary directory"
    fi
    chmod 755 "$T/adm"; chmod 700 "$T"
}

block path_length 'init and intelmeshd agree on the longest data path (94 bytes)'
b_path_length () {
    real=$(cd "$T" && pwd -P)
    base="$real/p"
    pad=$((94 - ${#base}))
    long94="$base$(printf '%*s' "$pad" '' | tr ' ' x)"
    long95="${long94}y"
    [ ${#long94} -eq 94 ] && [ ${#long95} -eq 95 ]; ok $? "paths of 94 and 95 bytes"
    "$INTELMESH" init -d "$long95" >"$T/out" 2>"$T/err"; rc=$?
    [ "$rc" -eq 1 ] && grep -q "is 95 bytes long; it may be at most 94" "$T/err"
    ok $? "init refuses 95 bytes, with the limit: $(cat "$T/err")"
    [ ! -e "$long95" ]; ok $? "and makes nothing"
    "$INTELMESH" init -d "$long94" --listen "tcp://127.0.0.1:$(free_port)" \
        --pub "ipc://$T/p94.sock" >/dev/null 2>"$T/err"
    ok $? "init takes 94 bytes"
    "$INTELMESHD" -d "$long94" --foreground 2>"$T/p94.log" &
    p94=$!; PIDS="$PIDS $p94"
    wait_for 300 "$INTELMESH" -d "$long94" status; ok $? "intelmeshd runs in it"
    stop_node "$p94"; ok $? "and stops"
    mv "$long94" "$long95"
    "$INTELMESHD" -d "$long95" --foreground 2>"$T/err"; rc=$?
    [ "$rc" -ne 0 ] && grep -q "is 95 bytes long; it may be at most 94" "$T/err"
    ok $? "intelmeshd refuses the same node moved to 95 bytes, with the same limit"
    grep -q "at most 94 bytes" "$top_srcdir/doc/intelmeshd.8"
    ok $? "intelmeshd(8) states 94 bytes"
}

block listen_ipc 'a non-TCP node/listen is refused at its line'
b_listen_ipc () {
    new_node echo; ok $? "a node is initialised"
    sed -i 's#^    listen = .*#    listen = "ipc://x"#' "$T/echo/intelmesh.conf"
    line=$(grep -n '^    listen = "ipc://x"' "$T/echo/intelmesh.conf" | cut -d: -f1)
    im echo id >"$T/out" 2>"$T/err"
    [ $? -eq 1 ] && grep -q "intelmesh.conf:$line: node/listen 'ipc://x' is not a tcp:// endpoint" "$T/err"
    ok $? "id refuses it: $(cat "$T/err")"
    "$INTELMESHD" -d "$T/echo" --foreground 2>"$T/err"
    [ $? -ne 0 ] && grep -q "intelmesh.conf:$line: node/listen" "$T/err"
    ok $? "and intelmeshd does not start"
}

block failed_start 'a start that fails removes the control socket and pid file it made' self_peer
b_failed_start () {
    node_up alpha; a=$NODE_PID
    new_node foxtrot; ok $? "a second node is initialised"
    # Its feed on alpha's peer port, which alpha holds: the bind fails after
    # the control socket is made.
    port=$(listen_port alpha)
    sed -i "s#^    endpoint = .*#    endpoint = \"tcp://127.0.0.1:$port\"#" "$T/foxtrot/intelmesh.conf"
    "$INTELMESHD" -d "$T/foxtrot" --foreground 2>"$T/err"; rc=$?
    [ "$rc" -ne 0 ] && grep -q "cannot bind the feed" "$T/err"
    ok $? "intelmeshd fails to start ($rc: $(head -1 "$T/err"))"
    [ ! -e "$T/foxtrot/control.sock" ]; ok $? "control.sock is removed"
    [ ! -e "$T/foxtrot/intelmeshd.pid" ]; ok $? "intelmeshd.pid is removed"
    "$INTELMESHD" -d "$T/foxtrot" 2>"$T/err"; rc=$?
    # Detached, the child removes them as it exits, which may be just after
    # the parent has answered.
    gone () { [ ! -e "$T/foxtrot/control.sock" ] && [ ! -e "$T/foxtrot/intelmeshd.pid" ]; }
    [ $rc -ne 0 ] && wait_for 50 gone
    ok $? "detached, the same"
    kill -0 "$a"; ok $? "alpha still runs"
}

block syntax 'config syntax errors give file:line:column and what was expected'
b_syntax () {
    new_node golf; ok $? "a node is initialised"
    cp "$T/golf/intelmesh.conf" "$T/golf.conf"
    ln=$(grep -n '^    name = ' "$T/golf.conf" | head -1 | cut -d: -f1)
    while IFS='|' read -r what sedexpr where why; do
        sed "${ln}s/$sedexpr" "$T/golf.conf" >"$T/golf/intelmesh.conf"
        where=${where//N/$ln}
        im golf id >"$T/out" 2>"$T/err"; rc=$?
        [ "$rc" -eq 1 ] && one_line "$T/err" \
            && grep -qF "intelmesh: id: intelmesh.conf:$where: " "$T/err" && grep -qF "$why" "$T/err"
        ok $? "$what: $(cat "$T/err")"
    done <<'CASES'
tab indentation|^    /\t/|N:1|a tab; indent by 4 spaces
a missing '='|^    name = /    name /|N:10|expected '=' between 'name' and its value
an unclosed quote|^    name = "\(.*\)"$/    name = "\1/|N:12|not closed; expected a closing "
three spaces|^    /   /|N:4|indented by 3 spaces
CASES
    printf '[node]\nname = x\n' >"$T/golf/intelmesh.conf"
    im golf id 2>"$T/err"
    [ $? -eq 1 ] && grep -q "intelmesh.conf:1:1: '\[' starts an INI-style section header" "$T/err"
    ok $? "[node] (INI style): $(cat "$T/err")"
    "$INTELMESHD" -d "$T/golf" --foreground 2>"$T/err"
    [ $? -ne 0 ] && grep -q "^intelmeshd: intelmesh.conf:1:1: " "$T/err"
    ok $? "intelmeshd says the same"
    cp "$T/golf.conf" "$T/golf/intelmesh.conf"
}

# as_other CMD...: CMD as a user who is not the node's: as root, nobody
# (setpriv); otherwise the caller has taken the permission away (chmod).
as_other () {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
    else
        "$@"
    fi
}

block permission 'permission problems say "permission denied" and name the path' self_peer
b_permission () {
    chmod 711 "$T"
    if [ "$(id -u)" -eq 0 ] && { ! command -v setpriv >/dev/null \
        || ! setpriv --reuid=65534 --regid=65534 --clear-groups "$INTELMESH" --version >/dev/null 2>&1; }; then
        diag "SKIP: root without setpriv, or nobody cannot run $INTELMESH"
        ok 0 "# SKIP as root, nobody cannot run the command line"
        chmod 700 "$T"
        return
    fi
    node_up alpha
    [ "$(id -u)" -eq 0 ] || chmod 000 "$T/alpha"
    for cmd in status id "peer list"; do
        as_other "$INTELMESH" -d "$T/alpha" $cmd >"$T/out" 2>"$T/err"; rc=$?
        [ "$rc" -eq 1 ] && one_line "$T/err" \
            && grep -q "^intelmesh: $cmd: permission denied: $T/alpha" "$T/err" \
            && ! grep -q "not running\|intelmesh init" "$T/err"
        ok $? "$cmd by another user: $(cat "$T/err")"
    done
    # The directory open, the control socket (0600) still closed to others.
    if [ "$(id -u)" -eq 0 ]; then chmod 755 "$T/alpha"; else chmod 700 "$T/alpha"; chmod 000 "$T/alpha/control.sock"; fi
    as_other "$INTELMESH" -d "$T/alpha" status >"$T/out" 2>"$T/err"
    [ $? -eq 1 ] && grep -q "^intelmesh: status: permission denied: $T/alpha/control.sock" "$T/err"
    ok $? "a control socket closed to this user: $(cat "$T/err")"
    chmod 700 "$T/alpha"; chmod 600 "$T/alpha/control.sock"; chmod 700 "$T"
    im alpha status >/dev/null; ok $? "the node's own user still reaches it"
}

block lock_owner 'as root, the lock and pid files belong to the owner of the config'
b_lock_owner () {
    if [ "$(id -u)" -ne 0 ]; then
        ok 0 "# SKIP not root: files cannot be given to another user"
        return
    fi
    new_node india && new_node juliet; ok $? "two nodes are initialised"
    chown -R 65534:65534 "$T/india"
    rm -f "$T/india/intelmesh.conf.lock"
    im india peer add "$(im juliet id)" >/dev/null; ok $? "root adds a peer to a node of another user"
    [ "$(stat -c '%u %g %a' "$T/india/intelmesh.conf.lock")" = "65534 65534 600" ]
    ok $? "intelmesh.conf.lock is the config owner's, mode 0600 ($(stat -c '%u %g %a' "$T/india/intelmesh.conf.lock"))"
    [ "$(stat -c %u "$T/india/intelmesh.conf")" = 65534 ]; ok $? "and so is the file"
    start_node india; ok $? "root starts the node"
    [ "$(stat -c %u "$T/india/intelmeshd.pid")" = 65534 ]; ok $? "its pid file is the config owner's"
    stop_node "$NODE_PID"; ok $? "it stops"
}

block missing_dir 'a missing data directory is named, with what sets it'
b_missing_dir () {
    for cmd in status id "peer list" tail; do
        "$INTELMESH" -d "$T/nowhere" $cmd >"$T/out" 2>"$T/err"; rc=$?
        [ "$rc" -eq 1 ] && one_line "$T/err" \
            && grep -q "^intelmesh: $cmd: no data directory $T/nowhere (-d DIR or INTELMESH_DIR" "$T/err" \
            && ! grep -q "start it with" "$T/err"
        ok $? "$cmd: $(cat "$T/err")"
    done
    INTELMESH_DIR="$T/nowhere2" "$INTELMESH" status 2>"$T/err"
    [ $? -eq 1 ] && grep -q "no data directory $T/nowhere2" "$T/err"
    ok $? "the directory INTELMESH_DIR names is the one said"
    "$INTELMESHD" -d "$T/nowhere" --foreground 2>"$T/err"
    [ $? -eq 1 ] && grep -q "^intelmeshd: no data directory $T/nowhere (-d DIR or INTELMESH_DIR" "$T/err"
    ok $? "intelmeshd: $(cat "$T/err")"
}

block disk_full 'a full disk says "disk full" and counts as a store error, not a malformed request'
b_disk_full () {
    new_node hotel && sed -i "s/^    map-size = .*/&\n    max-size = 1M/" "$T/hotel/intelmesh.conf"
    ok $? "a node with store/max-size = 1M"
    start_node hotel; ok $? "it starts"
    i=0
    while [ $i -lt 6000 ]; do echo "domain full-$i.hotel.example"; i=$((i + 1)); done \
        | im hotel publish - >/dev/null 2>"$T/err"
    [ $? -eq 1 ] && grep -q "disk full" "$T/err"; ok $? "publish fails with disk full"
    grep -q "^intelmesh: publish: " "$T/err"; ok $? "said as intelmesh: publish: ...: $(grep -m1 'disk full' "$T/err")"
    im hotel status --json >"$T/st"
    grep -q '"bad_requests":0' "$T/st"; ok $? "no request is counted malformed"
    grep -q '"store_errors":[1-9]' "$T/st"; ok $? "the failure is counted a store error"
    im hotel status | grep -q "0 malformed requests, [1-9][0-9]* store errors"
    ok $? "status says so: $(im hotel status | grep activity)"
    stop_node "$NODE_PID"; ok $? "it stops"
}

block prefix 'every error starts "intelmesh: COMMAND:"; exit statuses as intelmesh(1) says' self_peer
b_prefix () {
    pid=$(cat "$T/alpha/intelmeshd.pid" 2>/dev/null)
    [ -z "$pid" ] || stop_node "$pid"
    while IFS='|' read -r want prefix args; do
        # shellcheck disable=SC2086
        "$INTELMESH" -d "$T/alpha" $args >"$T/out" 2>"$T/err" </dev/null; rc=$?
        [ "$rc" -eq "$want" ] && one_line "$T/err" && grep -q "^intelmesh: $prefix: " "$T/err"
        ok $? "$args: exit $rc: $(cat "$T/err")"
    done <<'CASES'
2|peer add|peer add
2|peer add|peer add --name
2|status|status extra
2|lookup|lookup --json --bogus x
2|peer|peer frobnicate
1|status|status
1|peer list|peer list
1|peer remove|peer remove nosuchpeer
1|tail|tail
2|publish|publish domain
CASES
    node_up alpha; ok $? "alpha runs again"
    printf 'bogus-type x\n' | "$INTELMESH" -d "$T/alpha" publish - >"$T/out" 2>"$T/err"
    [ $? -eq 1 ] && grep -q "^intelmesh: publish: line 1: refused" "$T/err"
    ok $? "publish - names the line refused: $(head -1 "$T/err")"
}

run_blocks "$@"
