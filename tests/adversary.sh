# SPDX-License-Identifier: MPL-2.0
# adversary.sh -- sourced by the suites where mallory (tests/mallory.c), a
# hostile trusted peer, attacks nodes (t34, t42): reading a node's status and
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
