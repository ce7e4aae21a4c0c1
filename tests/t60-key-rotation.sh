#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t60-key-rotation.sh -- `intelmesh rotate-keys` between running nodes: the peer
# moves to the new CURVE key by itself, no indicator is dropped on the way,
# the old key is refused once its grace period is over, and a rotation made
# while the node is stopped reaches the peer when it starts. TAP output.
. "$(dirname "$0")/lib.sh"

im () { n=$1; shift; "$INTELMESH" -d "$T/$n" "$@"; }
curve_of () { im "$1" id | cut -d' ' -f4; }
# has NODE VALUE: NODE holds the ipv4 VALUE.
has () { im "$1" lookup "$2" >/dev/null 2>&1; }
# handshakes_refused NODE: handshakes NODE's ZAP handler refused (status --json).
handshakes_refused () {
    n=$(im "$1" status --json | grep -o '"handshake":[0-9]*' | cut -d: -f2)
    echo "${n:-0}"
}
# all_arrive NODE FIRST LAST PREFIX: NODE holds PREFIX.FIRST .. PREFIX.LAST.
all_arrive () {
    i=$2
    while [ "$i" -le "$3" ]; do
        has "$1" "$4.$i" || return 1
        i=$((i + 1))
    done
}
publish_range () {  # NODE FIRST LAST PREFIX
    i=$2
    while [ "$i" -le "$3" ]; do
        printf '{"type":"ipv4","value":"%s.%d"}\n' "$4" "$i"
        i=$((i + 1))
    done | im "$1" publish - >/dev/null 2>&1
}

block peers 'alpha and bravo, peers, replicate'
b_peers () {
    new_node alpha && new_node bravo
    im alpha peer add "$(im bravo id)" >/dev/null
    im bravo peer add "$(im alpha id)" >/dev/null
    start_node alpha; A=$NODE_PID
    start_node bravo; B=$NODE_PID
    publish_range alpha 1 20 198.51.100
    wait_for 150 all_arrive bravo 1 20 198.51.100
    ok $? "bravo holds alpha's 20 indicators before the rotation"
}

# --- Bad arguments ------------------------------------------------------
block bad_args 'rotate-keys refuses bad arguments' peers
b_bad_args () {
    for g in 0s 4s 1y 7 d -5m 366d; do
        im alpha rotate-keys --grace "$g" >/dev/null 2>"$T/err"
        rc=$?
        [ "$rc" -eq 2 ] && grep -q "not a duration" "$T/err"
        ok $? "rotate-keys refuses --grace $g with a usage error"
    done
    im alpha rotate-keys extra >/dev/null 2>&1
    ok $(($? == 2 ? 0 : 1)) "rotate-keys refuses an unexpected argument"
}

# --- A rotation while both run ------------------------------------------
block rotate 'a rotation while both run: the peer moves by itself, nothing dropped' peers
b_rotate () {
    old=$(curve_of alpha)
    secret=$(sed -n 's/^curve-secret = "\(.*\)"$/\1/p' "$T/alpha/keys/node.secret")
    # The grace period outlasts the waits below, even on a loaded machine.
    im alpha rotate-keys --grace 120s >"$T/rot.out" 2>&1
    rotated=$(date +%s)
    ok $? "rotate-keys succeeds on a running node"
    new=$(curve_of alpha)
    [ -n "$new" ] && [ "$new" != "$old" ]
    ok $? "alpha's card carries a new CURVE key"
    ! grep -qF "$secret" "$T/rot.out" && ! grep -qF "$secret" "$T/alpha.log"
    ok $? "the old secret key is neither printed nor logged"
    new_secret=$(sed -n 's/^curve-secret = "\(.*\)"$/\1/p' "$T/alpha/keys/node.secret")
    ! grep -qF "$new_secret" "$T/rot.out" && ! grep -qF "$new_secret" "$T/alpha.log"
    ok $? "the new secret key is neither printed nor logged"
    [ "$(stat -c %a "$T/alpha/keys/node.secret")" = 600 ]
    ok $? "the key file is still mode 0600"
    publish_range alpha 21 40 198.51.100
    publish_range bravo 1 20 203.0.113
    wait_for 100 grep -q "card = \"intelmesh1 alpha [0-9a-f]* $new " "$T/bravo/intelmesh.conf"
    ok $? "bravo wrote alpha's new key into its configuration by itself"
    grep -q "previous-curve = \"$old\"" "$T/bravo/intelmesh.conf"
    ok $? "bravo keeps alpha's previous key for the grace period"
    im alpha rotate-keys >/dev/null 2>"$T/err"
    [ $? -eq 1 ] && grep -q "rotation is under way" "$T/err"
    ok $? "a second rotation is refused while the first one's grace period lasts"
    publish_range alpha 41 60 198.51.100
    publish_range bravo 21 40 203.0.113
    wait_for 300 all_arrive bravo 1 60 198.51.100
    ok $? "every indicator alpha published before, during and after the rotation reached bravo"
    wait_for 300 all_arrive alpha 1 40 203.0.113
    ok $? "every indicator bravo published during the rotation reached alpha"
    im alpha status --json | grep -q '"previous_until"'
    ok $? "status shows the grace period of the previous key"
}

# --- A copy of alpha with its old key: through during the grace period
# (partners not yet moved must be), cut off the moment it ends ----------
block grace 'the old key gets through during the grace period only' rotate
b_grace () {
    mkdir -p "$T/ghost/keys" && chmod 700 "$T/ghost" "$T/ghost/keys"
    cp "$T/alpha/intelmesh.conf" "$T/ghost/"
    sed -i "s/^    listen = .*/    listen = \"tcp:\/\/127.0.0.1:$(free_port)\"/" "$T/ghost/intelmesh.conf"
    sed -i "s#ipc://$T/alpha/pub.sock#ipc://$T/ghost/pub.sock#" "$T/ghost/intelmesh.conf"
    sign=$(sed -n 's/^sign-secret = "\(.*\)"$/\1/p' "$T/alpha/keys/node.secret")
    printf 'sign-secret = "%s"\ncurve-secret = "%s"\n' "$sign" "$secret" >"$T/ghost/keys/node.secret"
    chmod 600 "$T/ghost/keys/node.secret"
    stop_node "$A"
    ok $? "alpha stops during the grace period"
    start_node ghost; G=$NODE_PID
    im bravo publish ipv4 192.0.2.201 >/dev/null 2>&1
    wait_for 400 has ghost 192.0.2.201
    rc=$?
    diag "$(($(date +%s) - ${rotated:-0})) s after the rotation"
    [ "$rc" -eq 0 ]
    ok $? "during the grace period the old key still gets through"
    wait_for 1500 grep -q "previous CURVE key of alpha is no longer accepted" "$T/bravo.log"
    ok $? "bravo stops accepting alpha's previous key when the grace period ends"
    # Refused handshakes are logged once a minute a key: counted by status.
    before=$(handshakes_refused bravo)
    im bravo publish ipv4 192.0.2.202 >/dev/null 2>&1
    wait_for 30 has ghost 192.0.2.202
    ok $((1 - $?)) "the connection made with the old key is cut: nothing more reaches its holder"
    wait_for 100 sh -c "[ \$('$INTELMESH' -d '$T/bravo' status --json | grep -o '\"handshake\":[0-9]*' | cut -d: -f2) -gt $before ]"
    ok $? "bravo refuses its handshakes with the old key from then on"
    im ghost publish ipv4 192.0.2.99 >/dev/null
    sleep 2
    has bravo 192.0.2.99
    ok $((1 - $?)) "nothing from the holder of the old key reaches bravo"
    stop_node "$G"
    ok $? "the copy stops"
    start_node alpha; A=$NODE_PID
    wait_for 150 sh -c "! grep -q previous-curve-secret '$T/alpha/keys/node.secret'"
    ok $? "alpha forgets its previous key, the grace period being over"
    im alpha status --json | grep -q '"previous_until"'
    ok $((1 - $?)) "status no longer shows a grace period"
    publish_range alpha 61 70 198.51.100
    wait_for 200 all_arrive bravo 61 70 198.51.100
    ok $? "replication goes on with the new key alone"
    wait_for 200 has alpha 192.0.2.202
    ok $? "and what bravo published meanwhile reaches alpha"
}

# --- A rotation made while the node is stopped ---------------------------
block stopped 'a rotation made while the node is stopped reaches the peer' grace
b_stopped () {
    stop_node "$A"
    ok $? "alpha stops cleanly"
    before=$(curve_of alpha)
    im alpha rotate-keys --grace 1h >"$T/rot2.out" 2>&1
    ok $? "rotate-keys works on a stopped node"
    grep -q "told when it starts" "$T/rot2.out"
    ok $? "and says that peers are told when it starts"
    after=$(curve_of alpha)
    start_node alpha; A=$NODE_PID
    wait_for 150 grep -q "card = \"intelmesh1 alpha [0-9a-f]* $after " "$T/bravo/intelmesh.conf"
    ok $? "bravo learns the key made while alpha was stopped"
    publish_range alpha 71 80 198.51.100
    publish_range bravo 41 50 203.0.113
    wait_for 300 all_arrive bravo 71 80 198.51.100
    ok $? "alpha's new indicators reach bravo after that rotation"
    wait_for 300 all_arrive alpha 41 50 203.0.113
    ok $? "bravo's new indicators reach alpha after that rotation"
    [ "$before" != "$after" ]
    ok $? "the stopped node's rotation made a new key"

    stop_node "$A"
    ok $? "alpha stops cleanly"
    stop_node "$B"
    ok $? "bravo stops cleanly"
}

run_blocks "$@"
