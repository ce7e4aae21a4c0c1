#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# soak.sh -- `make soak` (not in `make check`): five honest nodes in a ring,
# each also trusting mallory (tests/mallory), publish for SOAK_SECONDS (120 by
# default) while mallory cycles through every attack it has against them:
# withholding as an eager peer while flooding made-up notes, floods of HAVE,
# FETCH and SYNC, FOUND nobody asked for, a FOUND flood of a badly signed
# record. At the end the honest nodes must hold identical sets, with nothing
# lost. Prints TAP.
. "$(dirname "$0")/lib.sh"
need_fake_peer
[ -x "${MALLORY:-}" ] || { echo "1..0 # SKIP mallory is not built"; exit 0; }
SOAK_SECONDS=${SOAK_SECONDS:-120}

card_field () { im "$1" id | awk -v f="$2" '{ print $f }'; }
status_num () { im "$1" status --json | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
ids () { im "$1" list --json 2>/dev/null | grep -o '"id":"[^"]*"' | cut -d'"' -f4 | sort; }
keep_logs () {
    [ "$tap_failed" -eq 0 ] && return
    keep=$(mktemp -d "${TMPDIR:-/tmp}/soak-logs.XXXXXX") || return
    cp "$T"/*.log "$T"/*.out "$keep"/ 2>/dev/null
    echo "# the logs are kept in $keep"
}
trap 'keep_logs; cleanup' EXIT

nodes="n0 n1 n2 n3 n4"
fake card --name mallory --keys "$T/mallory.keys" >"$T/mallory.card"
for n in $nodes; do
    new_node $n || diag "cannot init $n"
    sed -i 's/^node$/node\n    anti-entropy = "10s"/' "$T/$n/intelmesh.conf"
    im $n peer add "$(cat "$T/mallory.card")" >/dev/null
done
for i in 0 1 2 3 4; do
    j=$(((i + 1) % 5))
    im n$i peer add "$(im n$j id)" >/dev/null && im n$j peer add "$(im n$i id)" >/dev/null
done
ok $? "five nodes in a ring, each trusting mallory"
for n in $nodes; do start_node $n || false; done; ok $? "they start"

end=$(($(date +%s) + SOAK_SECONDS))
# Each node publishes 20 indicators a second, in batches, until the end.
for i in 0 1 2 3 4; do
    (
        k=0
        while [ "$(date +%s)" -lt "$end" ]; do
            awk -v i=$i -v k=$k 'BEGIN { for (x = 0; x < 20; x++)
                printf "domain s%d-%d-%d.soak.example\n", i, k, x }' \
                | im n$i publish - >>"$T/pub$i.ids" 2>/dev/null
            k=$((k + 1))
            sleep 1
        done
    ) &
    PIDS="$PIDS $!"
done

attacks="withhold have-flood fetch-flood sync-flood push found-flood"
round=0
while [ "$(date +%s)" -lt "$end" ]; do
    for a in $attacks; do
        [ "$(date +%s)" -lt "$end" ] || break
        t=n$((round % 5)); s=n$(((round + 1) % 5))
        args="--target $(card_field $t 5) $(card_field $t 4)"
        case $a in
        withhold) args="$args --source $(card_field $s 5) $(card_field $s 4) withhold --fake-have 20" ;;
        push) args="$args push 5000" ;;
        found-flood) args="$args found-flood 200" ;;
        *) args="$args $a 500" ;;
        esac
        # shellcheck disable=SC2086
        bounded 60 "$MALLORY" --keys "$T/mallory.keys" $args --duration 3000 \
            >>"$T/mallory.out" 2>&1
        echo "# round $round: $a against $t: exit $?" >>"$T/mallory.out"
        round=$((round + 1))
    done
done
ok 0 "mallory ran $round attacks in ${SOAK_SECONDS} s"
sleep 3 # the publishers' last batches
cat "$T"/pub*.ids | sort >"$T/published.ids"
total=$(grep -c . "$T/published.ids")
diag "the honest nodes published $total indicators"

same () {
    first=$(status_num n0 records)
    for n in $nodes; do [ "$(status_num $n records)" = "$first" ] || return 1; done
}
all_in () { for n in $nodes; do [ "$(status_num $n records)" -ge "$total" ] || return 1; done; }
wait_for 1800 all_in; ok $? "every honest node holds at least the $total published"
wait_for 300 same; ok $? "and they hold the same number of records"
for n in $nodes; do diag "$n holds $(status_num $n records) records"; done
ids n0 >"$T/n0.ids"
[ -z "$(comm -23 "$T/published.ids" "$T/n0.ids" | head -1)" ]; ok $? "n0 holds every published id"
for n in n1 n2 n3 n4; do
    ids $n >"$T/$n.ids"
    cmp -s "$T/$n.ids" "$T/n0.ids"; ok $? "$n holds exactly n0's set"
done
for n in $nodes; do
    diag "$n: $(im $n status --json | grep -o '"refusals":{[^}]*}')"
done
for n in $nodes; do
    eval "p=\$NODE_PID_$n"
    stop_node "$p" || false
done
ok $? "the nodes stop cleanly"
done_testing
