# SPDX-License-Identifier: MPL-2.0
# adversary.sh -- sourced by the suites where mallory (tests/mallory.c), a
# hostile trusted peer, attacks nodes (t34, t42, t67): reading a node's status and
# peer list, and mallory's keys and card. Sourced after lib.sh.
if [ ! -x "${MALLORY:-}" ]; then
    echo "1..0 # SKIP mallory is not built (${MALLORY:-MALLORY unset})"
    exit 0
fi

link () {
    im "$1" peer add "$(im "$2" id)" >/dev/null && im "$2" peer add "$(im "$1" id)" >/dev/null
}
card_field () { im "$1" id | awk -v f="$2" '{ print $f }'; }
status_num () { im "$1" status --json | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
# sig_failed NODE: the records from peers whose signature did not verify.
sig_failed () { im "$1" status --json | grep -o '"signatures":{[^}]*}' | grep -o '"failed":[0-9]*' | cut -d: -f2; }
peer_json () { im "$1" peer list --json | sed 's/},{"name"/}\n{"name"/g' | grep "\"name\":\"$2\""; }
peer_num () {
    n=$(peer_json "$1" "$2" | grep -o "\"$3\":[0-9]*" | head -1 | cut -d: -f2)
    echo "${n:-0}"
}
# peer_at_least NODE PEER KEY N: PEER's count KEY at NODE is N or more.
peer_at_least () { [ "$(peer_num "$1" "$2" "$3")" -ge "$4" ]; }
connected () { peer_json "$1" "$2" | grep -q '"connected":true'; }
holds () { [ "$(status_num "$1" records)" = "$2" ]; }
# anti_entropy NODE DURATION: NODE walks its peers' change logs that often.
anti_entropy () { sed -i "s/^node\$/node\n    anti-entropy = \"$2\"/" "$T/$1/intelmesh.conf"; }
# fresh NAME: a new node NAME, even when a block before used that name.
fresh () { rm -rf "${T:?}/$1" "$T/$1.log"; new_node "$1"; }
# mallory_card: mallory's keys and card (dial-in only), made once.
mallory_card () {
    [ -s "$T/mallory.card" ] || fake card --name mallory --keys "$T/mallory.keys" >"$T/mallory.card"
}
# mallory_first ACTION [MALLORY-OPTION...]: oscar -> papa -> quebec, and
# oscar -> mallory -> quebec, quebec's fetch grace 1 h and walks once a day;
# mallory ACTION (withhold, late) with oscar as its source brings quebec one
# of oscar's records first (so becomes its eager peer for oscar, once papa
# brings one too); then papa starts. Sets opid, qpid, ppid and mpid;
# mallory's output goes to $T/mallory-ACTION.out.
mallory_first () {
    mallory_card
    for n in oscar papa quebec; do fresh $n || diag "cannot init $n"; done
    anti_entropy quebec 1d
    sed -i "s/^node\$/node\n    fetch-grace = \"1h\"/" "$T/quebec/intelmesh.conf"
    im oscar peer add "$(cat "$T/mallory.card")" >/dev/null \
        && im quebec peer add "$(cat "$T/mallory.card")" >/dev/null \
        && link oscar papa && link papa quebec
    ok $? "oscar -> papa -> quebec, and oscar -> mallory ($1) -> quebec"
    start_node oscar && opid=$NODE_PID && start_node quebec && qpid=$NODE_PID
    ok $? "oscar and quebec start"
    im oscar publish domain seed.oscar.example >/dev/null 2>&1
    # Mallory stays until the block stops it (15 minutes at most): under
    # make check -j8 beside another suite, t42's set-ups took minutes, and a
    # mallory gone after 60 s, found down, let papa's notes choose papa.
    bounded $((1200 * SLOW)) "$MALLORY" --keys "$T/mallory.keys" "$@" \
        --target "$(card_field quebec 5)" "$(card_field quebec 4)" \
        --source "$(card_field oscar 5)" "$(card_field oscar 4)" \
        --duration $((900000 * SLOW)) >"$T/mallory-$1.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    wait_for 300 holds quebec 1; ok $? "mallory is the first to bring quebec one of oscar's records"
    start_node papa && ppid=$NODE_PID; ok $? "papa starts"
}
# keys_first_of NODE PEER: PEER's last list asked NODE for keys first.
keys_first_of () { peer_json "$1" "$2" | grep -q '"keys_first":true'; }
