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

# secret_of NODE [KEY]: NODE's KEY (curve-secret) in keys/node.secret.
secret_of () {
    sed -n "s/^${2:-curve-secret} = \"\(.*\)\"$/\1/p" "$T/$1/keys/node.secret"
}
# start_pair X Y: new nodes X and Y, each on the other's trust list, started
# (their PIDs in P1 and P2).
start_pair () {
    new_node "$1" && new_node "$2"
    im "$1" peer add "$(im "$2" id)" >/dev/null
    im "$2" peer add "$(im "$1" id)" >/dev/null
    start_node "$1"; P1=$NODE_PID
    start_node "$2"; P2=$NODE_PID
}

block peers 'alpha and bravo, peers, replicate'
b_peers () {
    start_pair alpha bravo; A=$P1 B=$P2
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
    secret=$(secret_of alpha)
    # The grace period outlasts the waits below, even on a loaded machine.
    im alpha rotate-keys --grace 120s >"$T/rot.out" 2>&1
    rotated=$(date +%s)
    ok $? "rotate-keys succeeds on a running node"
    new=$(curve_of alpha)
    [ -n "$new" ] && [ "$new" != "$old" ]
    ok $? "alpha's card carries a new CURVE key"
    ! grep -qF "$secret" "$T/rot.out" && ! grep -qF "$secret" "$T/alpha.log"
    ok $? "the old secret key is neither printed nor logged"
    new_secret=$(secret_of alpha)
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
    sign=$(secret_of alpha sign-secret)
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

# --- Both partners rotate at once -------------------------------------
# A pair of its own (charlie, delta): alpha and bravo are left as they are.
# no_secret_in SECRET FILE...: none of FILE holds SECRET (an empty one is
# a key that could not be read, a failure).
no_secret_in () {
    s=$1; shift
    [ -n "$s" ] || return 1
    for f in "$@"; do
        ! grep -qF "$s" "$f" || return 1
    done
}
block both 'both partners rotate at once: each learns the other key, replication goes on'
b_both () {
    start_pair charlie delta; C=$P1 D=$P2
    publish_range charlie 101 110 198.51.100
    publish_range delta 101 110 203.0.113
    wait_for 150 all_arrive delta 101 110 198.51.100 && wait_for 150 all_arrive charlie 101 110 203.0.113
    ok $? "charlie and delta replicate before the rotation"
    c_old=$(curve_of charlie) d_old=$(curve_of delta)
    c_old_secret=$(secret_of charlie) d_old_secret=$(secret_of delta)
    # Both at once. The grace period outlasts the exchange of ROTATE even on
    # a loaded machine (one every 2 s), and is short enough to wait out.
    im charlie rotate-keys --grace 30s >"$T/rotc.out" 2>&1 &
    pc=$!
    im delta rotate-keys --grace 30s >"$T/rotd.out" 2>&1 &
    pd=$!
    wait "$pc"; rc_c=$?
    wait "$pd"; rc_d=$?
    [ "$rc_c" -eq 0 ] && [ "$rc_d" -eq 0 ]
    ok $? "rotate-keys succeeds on both partners run at once"
    c_new=$(curve_of charlie) d_new=$(curve_of delta)
    [ -n "$c_new" ] && [ "$c_new" != "$c_old" ] && [ -n "$d_new" ] && [ "$d_new" != "$d_old" ]
    ok $? "both cards carry a new CURVE key"
    publish_range charlie 111 120 198.51.100
    publish_range delta 111 120 203.0.113
    # Each previous key looked for as soon as the new card is written: the
    # grace period (30 s) may be over after both waits on a loaded machine.
    wait_for 250 grep -q "card = \"intelmesh1 charlie [0-9a-f]* $c_new " "$T/delta/intelmesh.conf"
    ok $? "delta wrote charlie's new key into its configuration by itself"
    grep -q "previous-curve = \"$c_old\"" "$T/delta/intelmesh.conf"
    ok $? "and keeps charlie's previous key for the grace period"
    wait_for 250 grep -q "card = \"intelmesh1 delta [0-9a-f]* $d_new " "$T/charlie/intelmesh.conf"
    ok $? "charlie wrote delta's new key into its configuration by itself"
    grep -q "previous-curve = \"$d_old\"" "$T/charlie/intelmesh.conf"
    ok $? "and keeps delta's previous key for the grace period"
    ! grep -q "key rotation from .* refused" "$T/charlie.log" "$T/delta.log"
    ok $? "neither refuses the other's rotation"
    publish_range charlie 121 130 198.51.100
    publish_range delta 121 130 203.0.113
    wait_for 300 all_arrive delta 101 130 198.51.100
    ok $? "charlie's indicators published during the rotation reached delta"
    wait_for 300 all_arrive charlie 101 130 203.0.113
    ok $? "delta's indicators published during the rotation reached charlie"
    # The grace periods end 30 s after the rotation; generous on a loaded machine.
    wait_for 900 grep -q "previous CURVE key of delta is no longer accepted" "$T/charlie.log"
    ok $? "charlie stops accepting delta's previous key when its grace period ends"
    wait_for 300 grep -q "previous CURVE key of charlie is no longer accepted" "$T/delta.log"
    ok $? "delta stops accepting charlie's previous key when its grace period ends"
    wait_for 300 sh -c "! grep -q previous-curve-secret '$T/charlie/keys/node.secret' \
        && ! grep -q previous-curve-secret '$T/delta/keys/node.secret'"
    ok $? "both forget their previous keys"
    publish_range charlie 131 140 198.51.100
    publish_range delta 131 140 203.0.113
    wait_for 300 all_arrive delta 131 140 198.51.100
    ok $? "after the grace periods charlie's indicators reach delta with the new keys alone"
    wait_for 300 all_arrive charlie 131 140 203.0.113
    ok $? "after the grace periods delta's indicators reach charlie with the new keys alone"
    files="$T/rotc.out $T/rotd.out $T/charlie.log $T/delta.log"
    no_secret_in "$c_old_secret" $files && no_secret_in "$d_old_secret" $files
    ok $? "neither old secret key is printed or logged"
    no_secret_in "$(secret_of charlie)" $files && no_secret_in "$(secret_of delta)" $files
    ok $? "neither new secret key is printed or logged"
    no_secret_in "$(secret_of charlie sign-secret)" $files \
        && no_secret_in "$(secret_of delta sign-secret)" $files
    ok $? "neither signing key is printed or logged"

    stop_node "$C"
    ok $? "charlie stops cleanly"
    stop_node "$D"
    ok $? "delta stops cleanly"
}

run_blocks "$@"
