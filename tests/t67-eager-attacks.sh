#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t67-eager-attacks.sh -- keys first (SPEC.md, "EAGER, LAZY, FETCH and FOUND",
# "Wanted keys", "HAVE") against a hostile trusted peer, mallory
# (tests/mallory): it notes an honest origin's keys first, so becoming a
# node's eager peer for it, and then answers its FETCHes with nothing or not
# at all; it floods notes of made-up origins to take the eager places, and
# comes back again and again to claim more; it floods EAGER and LAZY lists;
# it notes records of a limited reach; it brings an origin late, or notes
# records sooner than the eager peer brings them and withholds the rest.
# The honest path still delivers every record, the eager place moves to it,
# and the cost stays bounded.
. "$(dirname "$0")/lib.sh"
need_fake_peer
. "$(dirname "$0")/adversary.sh"
ms () { date +%s%3N; }
cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
mallory () { bounded $((120 * SLOW)) "$MALLORY" --keys "$T/mallory.keys" "$@"; }
# eager_named FILE: how many origins the last EAGER mallory was sent named.
eager_named () { awk '/EAGER names/ { n = $6 } END { print n + 0 }' "$1"; }
keep_logs () {
    [ "$tap_failed" -eq 0 ] && return
    keep=$(mktemp -d "${TMPDIR:-/tmp}/eager-logs.XXXXXX") || return
    cp "$T"/*.log "$T"/*.out "$keep"/ 2>/dev/null
    echo "# the nodes' logs are kept in $keep"
}
trap 'keep_logs; cleanup' EXIT

# oscar -> hotel -> victor, mallory a peer of victor (and of oscar with
# SOURCE); victor (and oscar) start, hotel not yet.
three () {
    mallory_card
    for n in oscar hotel victor; do fresh $n || diag "cannot init $n"; done
    anti_entropy victor 1d # what is checked here must not wait for anti-entropy
    im victor peer add "$(cat "$T/mallory.card")" >/dev/null \
        && { [ -z "${1:-}" ] || im oscar peer add "$(cat "$T/mallory.card")" >/dev/null; } \
        && link oscar hotel && link hotel victor
    ok $? "oscar -> hotel -> victor, and mallory a peer of victor${1:+ and oscar}"
    start_node oscar && opid=$NODE_PID && start_node victor && vpid=$NODE_PID
    ok $? "oscar and victor start (hotel not yet)"
}
# honest N TOTAL: hotel starts, oscar publishes N records, victor holds
# TOTAL; hotel ends up victor's eager peer for oscar.
honest () {
    start_node hotel && hpid=$NODE_PID; ok $? "hotel starts"
    wait_for 300 connected victor hotel && wait_for 300 connected hotel oscar
    ok $? "hotel is connected to oscar and victor"
    t0=$(ms)
    [ "$1" = 0 ] || awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "domain h%d.oscar.example\n", i }' \
        | im oscar publish - >/dev/null 2>&1
    wait_for 900 holds victor "$2"; ok $? "victor gets all $2 of oscar's records over hotel"
    took=$(($(ms) - t0))
    # The fetch grace (3 s) and a lost FETCH (10 s) at most, and room to
    # spare for a busy machine.
    [ "$took" -le $((60000 * SLOW)) ]; ok $? "within $((60 * SLOW)) s ($took ms)"
    diag "victor holds $(status_num victor records) of $2, $took ms after;" \
        "fetched from hotel: $(peer_num victor hotel fetched)," \
        "from mallory: $(peer_num victor mallory fetched)"
    wait_for 300 peer_at_least hotel victor in_full 1
    ok $? "victor takes oscar's records from hotel in full (hotel's in_full: $(peer_num hotel victor in_full))"
}

# --- 1, 2. Keys noted first, then withheld -----------------------------------
# claim_attack OPTION: mallory notes oscar's keys to victor first and then
# answers its FETCH with nothing (OPTION empty) or not at all (--mute).
claim_attack () {
    diag "SPEC.md: EAGER, LAZY, FETCH and FOUND; Wanted keys"
    three mallory
    awk 'BEGIN { for (i = 0; i < 300; i++) printf "domain c%d.oscar.example\n", i }' \
        | im oscar publish - >/dev/null 2>&1
    ok $? "oscar publishes 300 records"
    mallory claim $1 --target "$(card_field victor 5)" "$(card_field victor 4)" \
        --source "$(card_field oscar 5)" "$(card_field oscar 4)" \
        --duration 90000 >"$T/claim.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    wait_for 300 grep -q "EAGER names [1-9]" "$T/claim.out"
    ok $? "mallory notes oscar's 300 keys to victor first, and victor takes oscar from it in full"
    sed "s/^/# /" "$T/claim.out"
    [ "$(status_num victor records)" = 0 ]; ok $? "mallory brought none of them"
    honest 0 300
    # Mallory loses its eager place either way: when a FOUND from hotel brings
    # what it withheld (logged), or, mute, when it is found down (its PINGs
    # unanswered: its origins are forgotten within a second, EAGER_CHECK_MS,
    # and hotel takes them by noting first: one eager peer an origin, so
    # hotel's in_full of 1, checked above, is mallory's place lost).
    grep -q "mesh: mallory did not bring a record of" "$T/victor.log" \
        || { [ "$1" = --mute ] && peer_at_least hotel victor in_full 1; }
    ok $? "victor takes oscar no longer from mallory (logged, or mallory found down)"
    # Fetched from hotel after the grace; or, mute, once mallory was found
    # down, maybe in full from hotel as the new eager peer.
    if [ "$1" = --mute ]; then
        [ "$(peer_num victor hotel received)" -ge 300 ]
    else
        [ "$(peer_num victor hotel fetched)" -gt 0 ]
    fi
    ok $? "what mallory withheld came from hotel (fetched: $(peer_num victor hotel fetched))"
    awk 'BEGIN { for (i = 0; i < 20; i++) printf "domain d%d.oscar.example\n", i }' \
        | im oscar publish - >/dev/null 2>&1
    wait_for 300 holds victor 320; ok $? "oscar's next 20 reach victor too"
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    sed "s/^/# /" "$T/claim.out"
    for p in $opid $hpid $vpid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}
block claim 'an eager peer by its notes that answers FETCH with nothing keeps no record away'
b_claim () { claim_attack ""; }
block mute 'an eager peer by its notes that never answers FETCH keeps no record away'
b_mute () { claim_attack --mute; }

# --- 3. Records of a limited reach ----------------------------------------------
block reach 'records of a limited reach come in full, whoever noted them first'
b_reach () {
    diag "SPEC.md: EAGER, LAZY, FETCH and FOUND; Reach and hops"
    three mallory
    awk 'BEGIN { for (i = 0; i < 100; i++) printf "domain r%d.oscar.example\n", i }' \
        | im oscar publish --reach 2 - >/dev/null 2>&1
    ok $? "oscar publishes 100 records of reach 2"
    mallory claim --target "$(card_field victor 5)" "$(card_field victor 4)" \
        --source "$(card_field oscar 5)" "$(card_field oscar 4)" \
        --duration 90000 >"$T/claim.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    wait_for 300 grep -q "EAGER names [1-9]" "$T/claim.out"
    ok $? "mallory notes their keys to victor first, and victor takes oscar from it in full"
    start_node hotel && hpid=$NODE_PID; ok $? "hotel starts"
    wait_for 900 holds victor 100; ok $? "victor gets all 100 over hotel"
    [ "$(peer_num victor hotel fetched)" = 0 ]
    ok $? "in full, with no fetch after the grace (fetched from hotel: $(peer_num victor hotel fetched))"
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    for p in $opid $hpid $vpid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# --- 4. Notes of made-up origins -----------------------------------------------
block made_up 'notes of made-up origins take at most 256 eager places, and honest origins still get one'
b_made_up () {
    diag "SPEC.md: EAGER, LAZY, FETCH and FOUND; Quotas"
    three ""
    c0=$(cpu_ticks "$vpid")
    mallory have-flood 40 --origins --target "$(card_field victor 5)" "$(card_field victor 4)" \
        --duration 90000 >"$T/made-up.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    wait_for 300 grep -q "have-flood sent" "$T/made-up.out" \
        && wait_for 100 grep -q "EAGER names [1-9]" "$T/made-up.out"
    ok $? "mallory notes 40,000 keys, each of a made-up origin, and victor takes some from it in full"
    sleep 1 # what victor decides of them has been sent
    n=$(eager_named "$T/made-up.out")
    [ "$n" -le 256 ]; ok $? "victor takes at most 256 of them from mallory in full ($n)"
    im victor status >/dev/null; ok $? "victor answers"
    [ "$(peer_num victor mallory wanted)" -le 16000 ]
    ok $? "mallory's notes held stay within 16000 ($(peer_num victor mallory wanted))"
    diag "victor's CPU for the flood: $(($(cpu_ticks "$vpid") - c0)) ticks"
    honest 200 200
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    for p in $opid $hpid $vpid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# --- 5. Claims again after every reconnection ------------------------------------
block reconnect 'a peer that comes back again and again claims no more eager places'
b_reconnect () {
    diag "SPEC.md: EAGER, LAZY, FETCH and FOUND"
    three ""
    most=0
    for i in 1 2 3 4 5; do
        mallory have-flood 1 --origins --target "$(card_field victor 5)" "$(card_field victor 4)" \
            --duration 1500 >"$T/again.out" 2>&1
        n=$(eager_named "$T/again.out")
        diag "run $i: victor's EAGER to mallory named $n origins"
        [ "$n" -gt "$most" ] && most=$n
    done
    [ "$most" -ge 1 ]; ok $? "mallory, in 5 runs of 1,000 made-up origins each, is taken from in full ($most)"
    [ "$most" -le 256 ]; ok $? "and never for more than 256 origins ($most)"
    mallory have-flood 1 --origins --target "$(card_field victor 5)" "$(card_field victor 4)" \
        --duration 90000 >"$T/again.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    wait_for 300 grep -q "EAGER names" "$T/again.out"; ok $? "mallory comes back once more, and stays"
    honest 200 200
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    for p in $opid $hpid $vpid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# --- 6. EAGER and LAZY lists, flooded ---------------------------------------------
block lists 'a flood of EAGER and LAZY lists is held to the quota, and status keeps answering'
b_lists () {
    diag "SPEC.md: Quotas"
    mallory_card
    fresh victor; im victor peer add "$(cat "$T/mallory.card")" >/dev/null
    # The quota's rate a tenth (30 units a second, a burst of 60): 4,001
    # lists cost 4,201 units, over it unless they take 138 s. At 300 they
    # were over only when read in under 12 s, and under make check -j8
    # beside another suite victor once read them slower (none over). The
    # CPU check below then bounds mostly the cost of lists read and dropped.
    IM_TEST_QUOTA_RATE=30 start_node victor; vpid=$NODE_PID
    ok $? "victor, who trusts mallory, starts (its quota's rate a tenth)"
    c0=$(cpu_ticks "$vpid")
    mallory lists 4001 --target "$(card_field victor 5)" "$(card_field victor 4)" \
        --duration 2000 >"$T/lists.out" 2>&1
    ok $? "mallory sends 4,001 lists of 1000 made-up origins, EAGER and LAZY in turn"
    sed "s/^/# /" "$T/lists.out"
    c1=$(cpu_ticks "$vpid")
    q=$(peer_num victor mallory 'over quota')
    diag "victor's CPU for the flood: $((c1 - c0)) ticks; over quota: $q"
    [ "$q" -gt 0 ] && grep -q "IM_TEST_QUOTA_RATE: each peer's requests may cost 30 units" "$T/victor.log"
    ok $? "the lists over mallory's quota (30 units a second, as logged) are dropped and counted ($q)"
    [ $((c1 - c0)) -lt $((300 * SLOW)) ]; ok $? "the flood cost victor under $((3 * SLOW)) s of CPU ($((c1 - c0)) ticks)"
    im victor status >/dev/null; ok $? "victor answers"
    stop_node "$vpid"; ok $? "victor stops"
}

# --- 7, 8. A slow eager peer, and a fast noter that withholds ------------------
# (SPEC.md, "Wanted keys": a key waiting for a quiet eager peer is fetched
# 250 ms after its note; review of 3b0eba3.)
# slow_eager D: oscar -> papa -> quebec, and oscar -> mallory -> quebec, where
# mallory brings each of oscar's records D ms after it came (`late`); it
# brings oscar's seed to quebec first, so is its eager peer for oscar, and
# papa is asked for oscar's keys only. Quebec's fetch grace is 1 h: only a
# fetch before the grace can take anything from papa.
slow_eager () {
    mallory_first late --delay "$1"
    wait_for 300 connected quebec papa && wait_for 300 holds papa 1 \
        && wait_for 300 keys_first_of papa quebec
    ok $? "quebec asks papa for oscar's keys only"
}

block slow_eager 'an eager peer that brings each record 50 ms after another peer notes it is waited for: nothing is fetched'
b_slow_eager () {
    slow_eager 50
    before=$(status_num quebec records)
    for i in 1 2 3 4 5 6 7 8 9 10; do
        im oscar publish domain "s$i.oscar.example" >/dev/null 2>&1
        sleep 0.5 # mallory's PULL parked at quebec meanwhile: quiet
    done
    wait_for $((300 * SLOW)) holds quebec $((before + 10))
    ok $? "quebec gets oscar's 10 records, one each half second"
    diag "papa noted $(peer_num quebec papa notes) keys; fetched from papa:" \
        "$(peer_num quebec papa fetched); from mallory $(peer_num quebec mallory received)"
    # A key is fetched once noted 250 ms ago, not only once its eager peer
    # is quiet: mallory's 50 ms are waited for. On a busy machine 50 ms may
    # grow past 250 once or twice.
    [ "$(peer_num quebec papa fetched)" -le 2 ] && ! grep -q "did not bring" "$T/quebec.log"
    ok $? "at most 2 of them fetched from papa ($(peer_num quebec papa fetched)), and mallory stays quebec's eager peer"
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    for p in $opid $ppid $qpid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# steal_setup DELAY GRACE MALLORY-OPTION...: oscar -> mallory2 (DELAY ms
# late) -> papa -> quebec, and oscar -> mallory (steal MALLORY-OPTION...) ->
# quebec, quebec's fetch grace GRACE (empty: the default). Sets opid, ppid,
# qpid, mpid and m2pid; mallory's output goes to $T/steal.out.
steal_setup () {
    delay=$1 grace=$2; shift 2
    mallory_card
    [ -s "$T/mallory2.card" ] \
        || fake card --name mallory2 --keys "$T/mallory2.keys" >"$T/mallory2.card"
    for n in oscar papa quebec; do fresh $n || diag "cannot init $n"; done
    for n in papa quebec; do anti_entropy $n 1d; done
    [ -z "$grace" ] \
        || sed -i "s/^node\$/node\n    fetch-grace = \"$grace\"/" "$T/quebec/intelmesh.conf"
    im oscar peer add "$(cat "$T/mallory.card")" >/dev/null \
        && im oscar peer add "$(cat "$T/mallory2.card")" >/dev/null \
        && im papa peer add "$(cat "$T/mallory2.card")" >/dev/null \
        && im quebec peer add "$(cat "$T/mallory.card")" >/dev/null && link papa quebec
    ok $? "oscar -> mallory2 ($delay ms late) -> papa -> quebec, and oscar -> mallory -> quebec"
    start_node oscar && opid=$NODE_PID && start_node papa && ppid=$NODE_PID \
        && start_node quebec && qpid=$NODE_PID
    ok $? "the nodes start"
    im oscar publish domain seed.oscar.example >/dev/null 2>&1
    bounded $((180 * SLOW)) "$MALLORY" --keys "$T/mallory2.keys" late --delay "$delay" \
        --target "$(card_field papa 5)" "$(card_field papa 4)" \
        --source "$(card_field oscar 5)" "$(card_field oscar 4)" \
        --duration $((120000 * SLOW)) >"$T/late2.out" 2>&1 &
    m2pid=$!; PIDS="$PIDS $m2pid"
    wait_for 300 holds quebec 1; ok $? "papa brings quebec oscar's seed"
    mallory steal "$@" --target "$(card_field quebec 5)" "$(card_field quebec 4)" \
        --source "$(card_field oscar 5)" "$(card_field oscar 4)" \
        --duration $((60000 * SLOW)) >"$T/steal.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    wait_for 300 connected quebec mallory; ok $? "mallory is connected to quebec"
}
# steal_one MALLORY-OPTION: steal_setup with papa's copies 60 s late and
# quebec's grace 1 h; oscar publishes one record, which quebec must get;
# where it came from is shown.
steal_one () {
    steal_setup $((60000 * SLOW)) 1h "$1"
    sleep 1
    im oscar publish domain t1.oscar.example >/dev/null 2>&1
    wait_for $((250 * SLOW)) holds quebec 2
    ok $? "quebec gets oscar's record"
    diag "fetched from mallory: $(peer_num quebec mallory fetched)," \
        "from papa in full: $(peer_num quebec papa received)"
}
# steal_end: mallory and mallory2 stop, mallory's output is shown, the
# nodes stop.
steal_end () {
    stop_ours "$mpid"; stop_ours "$m2pid"; wait "$mpid" "$m2pid" 2>/dev/null
    sed "s/^/# /" "$T/steal.out"
    for p in $opid $ppid $qpid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# oscar -> mallory2 (1 s late) -> papa -> quebec, and oscar -> mallory ->
# quebec; papa is quebec's eager peer for oscar. Mallory notes every other
# record of oscar's at once, brings it when fetched, withholds the others,
# answers no PULL and tells a change number far ahead (--seq). Oscar publishes
# one record every 7 s, more than two graces apart (papa brought none in the
# grace before each record mallory notes).
block steal 'a peer that notes records sooner than the eager peer brings them, then withholds, takes no origin: each record comes'
b_steal () {
    steal_setup 1000 "" --seq 1000000
    sleep 1
    for i in 1 2 3 4; do
        im oscar publish domain "t$i.oscar.example" >/dev/null 2>&1
        sleep 7
    done
    wait_for $((300 * SLOW)) holds quebec 5
    ok $? "quebec gets oscar's 4 records, one each 7 s"
    diag "fetched from mallory: $(peer_num quebec mallory fetched)," \
        "from papa in full: $(peer_num quebec papa received)"
    [ "$(peer_num quebec mallory fetched)" -gt 0 ]
    ok $? "what mallory noted was fetched from it, before papa brought it"
    ! grep -q "did not bring" "$T/quebec.log"
    ok $? "papa stays quebec's eager peer for oscar: it brought the others meanwhile"
    steal_end
}

# As steal, but mallory leaves the first FETCH of each key unanswered and
# answers the second (after 10 s, FETCH_LOST_MS), and mallory2 brings papa
# oscar's records 60 s late; quebec's fetch grace is 1 h, so the second FETCH
# is as early as the first (SPEC "Wanted keys"; review of fc3cfe0).
block steal_retry 'a peer that ignores a FETCH sooner than due and answers it again takes no origin'
b_steal_retry () {
    # Asked again 10 s after the first FETCH (up to 40 s on a busy machine),
    # before papa can bring it.
    steal_one --ignore-first
    [ "$(peer_num quebec mallory fetched)" -eq 1 ] \
        && grep -q "mallory: FETCH 1 of 1 keys left unanswered" "$T/steal.out"
    ok $? "it came from mallory, by the FETCH asked again (the first left unanswered)"
    ! grep -q "did not bring" "$T/quebec.log"
    ok $? "papa stays quebec's eager peer for oscar"
    steal_end
}

# oscar -> quebec, and oscar -> mallory -> quebec, mallory bringing each of
# oscar's records 15 s late. Once oscar stops, quebec drops it as the eager
# peer of its own records; mallory's late copies must not make it so again
# (it would be found down and dropped at the next look, and chosen again at
# the next copy: review 81).
block down_origin 'copies of the records of an origin that is down do not make it eager again'
b_down_origin () {
    mallory_card
    for n in oscar quebec; do fresh $n || diag "cannot init $n"; done
    anti_entropy quebec 1d
    im oscar peer add "$(cat "$T/mallory.card")" >/dev/null \
        && im quebec peer add "$(cat "$T/mallory.card")" >/dev/null && link oscar quebec
    ok $? "oscar -> quebec, and oscar -> mallory (15 s late) -> quebec"
    start_node oscar && opid=$NODE_PID && start_node quebec && qpid=$NODE_PID
    ok $? "the nodes start"
    wait_for 300 connected quebec oscar
    mallory late --delay 15000 --target "$(card_field quebec 5)" "$(card_field quebec 4)" \
        --source "$(card_field oscar 5)" "$(card_field oscar 4)" \
        --duration $((60000 * SLOW)) >"$T/late.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    wait_for 300 connected quebec mallory; ok $? "mallory is connected to quebec"
    for i in $(seq 1 40); do
        im oscar publish domain "r$i.oscar.example" >/dev/null 2>&1
        sleep 0.2
    done
    wait_for $((300 * SLOW)) holds quebec 40; ok $? "quebec gets oscar's 40 records from oscar"
    logged=$(wc -l <"$T/quebec.log"); known=$(peer_num quebec mallory known)
    stop_node "$opid"; ok $? "oscar stops"
    # Mallory's copies come until 15 s after the last publish; the line is
    # logged at most every 10 s, with the count since the last.
    sleep 25
    dropped=$(tail -n "+$((logged + 1))" "$T/quebec.log" \
        | sed -n 's/.*mesh: \([0-9]*\) eager choice(s) dropped.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
    diag "eager choices dropped, as logged at quebec: $dropped;" \
        "copies from mallory: $known before oscar stopped, $(peer_num quebec mallory known) after"
    # At most once: a drop within 10 s of an earlier line is not logged.
    [ "$dropped" -le 1 ] && [ "$(peer_num quebec mallory known)" -gt "$known" ]
    ok $? "oscar is dropped as eager once at most, while mallory's copies come"
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    stop_node "$qpid"; ok $? "quebec stops"
}

# As steal_retry, but mallory answers no FETCH: the key is asked for twice
# (the second 10 s after the first, or up to 40 s on a busy machine), then
# given up; papa brings it 120 s late. A third FETCH would come 10 s after
# the second. The 35 s are counted from the first FETCH, which comes once
# mallory has the record from oscar and notes it: a second or two, but once
# more than 35 s after the publish with the sanitizers' build beside another
# test suite (none counted then).
block steal_giveup 'a key of a FETCH sooner than due that is lost twice is given up: asked for twice, not more'
b_steal_giveup () {
    steal_setup $((120000 * SLOW)) 1h --ignore-fetch
    sleep 1
    im oscar publish domain t1.oscar.example >/dev/null 2>&1
    unanswered="mallory: FETCH [0-9]* of 1 keys left unanswered"
    wait_for $((600 * SLOW)) grep -q "$unanswered" "$T/steal.out"
    sleep 35
    asked=$(grep -c "$unanswered" "$T/steal.out")
    diag "FETCHes of that key left unanswered by mallory in the 35 s after the first: $asked"
    [ "$asked" -ge 1 ] && [ "$asked" -le 2 ]
    ok $? "quebec asked mallory for it once or twice, not more ($asked)"
    status_num quebec records | grep -qx 1
    ok $? "and does not hold it yet (papa brings it 120 s late)"
    steal_end
}

# As steal_retry, but mallory, asked for the key, restarts (a HELLO of a
# new session) and then answers the FETCH all the same. The FETCH out to the
# old run is taken as lost at once, not after 10 s (FETCH_LOST_MS), and the
# key asked for again of the new run, which brings it; of mallory's two
# FOUNDs one is refused (the old run's, when it comes before the new FETCH
# goes; else the second answer to that FETCH). Before, the restart gave the
# key up unasked (review 82), and papa brought it 60 s late; a node that
# never took the FETCH as lost took the old run's FOUND and refused none.
block steal_restart 'a key fetched of a peer that restarts is asked for again of its new run at once, and the answer of the old run is refused'
b_steal_restart () {
    steal_one --restart-first
    after=$(sed -n 's/^mallory: FETCH 2 came \([0-9]*\) ms after the restart$/\1/p' "$T/steal.out")
    diag "mallory asked again ${after:-never} ms after its restart;" \
        "its protocol faults at quebec: $(peer_num quebec mallory protocol)"
    grep -q "mallory: FETCH 1 of 1 keys answered after a restart" "$T/steal.out" \
        && grep -q "mallory restarted" "$T/quebec.log" \
        && [ "$(peer_num quebec mallory protocol)" -eq 1 ]
    ok $? "mallory restarted, and one of its two FOUNDs was refused"
    [ "$(peer_num quebec mallory fetched)" -eq 1 ] && [ -n "$after" ] \
        && [ "$after" -lt 10000 ]
    ok $? "the key came from mallory's new run, asked again sooner than a lost FETCH's 10 s"
    steal_end
}

# relays NAME...: fresh oscar and quebec (walks once a day), each with the
# fake peers NAME... (cards made once) on its trust list.
relays () {
    for m in "$@"; do
        [ -s "$T/$m.card" ] || fake card --name $m --keys "$T/$m.keys" >"$T/$m.card"
    done
    for n in oscar quebec; do fresh $n || diag "cannot init $n"; done
    anti_entropy quebec 1d
    for m in "$@"; do
        im oscar peer add "$(cat "$T/$m.card")" >/dev/null \
            && im quebec peer add "$(cat "$T/$m.card")" >/dev/null || return 1
    done
}
# one_named A NAME-A B NAME-B: waits up to 10 s for the caller's `named A`
# or `named B` (an EAGER naming oscar to it), says which, and is true when
# exactly one is.
one_named () {
    either () { named "$1" || named "$2"; }
    wait_for $((100 * SLOW)) either "$1" "$3"
    diag "EAGER lists naming oscar: to $2 $(named "$1" && echo yes || echo no)," \
        "to $4 $(named "$3" && echo yes || echo no)"
    [ "$( (named "$1" && echo x; named "$3" && echo x) | wc -l)" -eq 1 ]
}

# oscar -> mallory -> quebec: mallory brings quebec oscar's seed first (in
# full: late, no delay), so is its first comer for oscar, and stops. Then
# oscar -> mallory2 -> quebec and oscar -> mallory3 -> quebec, bringing
# everything in full whatever quebec's lists say: their copies of the seed
# change nothing (a copy any peer could replay, review 84); the next
# record, new to quebec, makes the first of them to bring it first comer in
# mallory's place, and the other's copy chooses it: an EAGER names oscar to
# one of them. Before (review 82), the first comer down blocked every
# choice by records in full (nobody here sends notes, which would make a
# choice another way).
block first_down 'a first comer that is down gives its place to the next peer that brings a new record, not a copy'
b_first_down () { first_lost down; }
# The same when the first comer is gone: removed from the trust list.
block first_gone 'a first comer removed from the trust list gives its place likewise'
b_first_gone () { first_lost gone; }
# first_lost down|gone: mallory brings oscar's seed first and then stops
# (down) or is removed from quebec's trust list (gone); mallory2's and
# mallory3's copies choose nobody, and the next record's first bringer is
# chosen.
first_lost () {
    relays mallory mallory2 mallory3
    ok $? "oscar -> mallory, mallory2 and mallory3 -> quebec"
    start_node oscar && opid=$NODE_PID && start_node quebec && qpid=$NODE_PID
    ok $? "the nodes start"
    im oscar publish domain seed.oscar.example >/dev/null 2>&1
    relay () { # relay NAME: NAME brings quebec what oscar holds, at once, until stopped
        bounded $((1200 * SLOW)) "$MALLORY" --keys "$T/$1.keys" late --delay 0 \
            --target "$(card_field quebec 5)" "$(card_field quebec 4)" \
            --source "$(card_field oscar 5)" "$(card_field oscar 4)" \
            --duration $((900000 * SLOW)) >"$T/$1-late.out" 2>&1 &
        rpid=$!; PIDS="$PIDS $rpid"
    }
    named () { grep -q "the target's EAGER names 1 origins" "$T/$1-late.out"; }
    relay mallory; m1=$rpid
    wait_for $((300 * SLOW)) holds quebec 1; ok $? "mallory brings quebec oscar's seed first"
    down () { ! connected "$1" "$2"; }
    stop_ours "$m1"; wait "$m1" 2>/dev/null
    if [ "$1" = down ]; then
        wait_for $((300 * SLOW)) down quebec mallory; ok $? "mallory stops, and quebec finds it down"
    else
        im quebec peer remove mallory >/dev/null && [ -z "$(peer_json quebec mallory)" ]
        ok $? "mallory stops, and quebec removes it from its trust list"
    fi
    relay mallory2; m2=$rpid; relay mallory3; m3=$rpid
    wait_for $((300 * SLOW)) peer_at_least quebec mallory2 known 1 \
        && wait_for $((300 * SLOW)) peer_at_least quebec mallory3 known 1
    ok $? "mallory2 and mallory3 bring copies of the seed"
    sleep $((2 * SLOW)) # an EAGER goes within 300 ms of a choice
    ! named mallory2 && ! named mallory3
    ok $? "the copies choose nobody"
    im oscar publish domain r2.oscar.example >/dev/null 2>&1
    wait_for $((300 * SLOW)) holds quebec 2; ok $? "quebec gets oscar's next record"
    one_named mallory2 mallory2 mallory3 mallory3
    ok $? "the first to bring it is chosen: an EAGER names oscar to it, not to the other"
    for mp in $m2 $m3; do stop_ours "$mp"; done; wait "$m2" "$m3" 2>/dev/null
    for p in $opid $qpid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# Two peers' copies in the same instant: quebec checks the second before it
# has stored the first, and stores it as stale. That is a copy as much as
# one that came later, and must choose the first (the CI run of 21a1baf
# under the sanitizers: first_down's two relays brought oscar's next record
# together, and nobody was chosen).
block copies_at_once 'two peers that bring the same record in the same instant: the first is chosen'
b_copies_at_once () {
    relays mallory2 mallory3
    ok $? "oscar -> mallory2 and mallory3 -> quebec"
    start_node oscar && opid=$NODE_PID && start_node quebec && qpid=$NODE_PID
    ok $? "the nodes start"
    # 1000 records: quebec checks the second answer while it still verifies
    # the first.
    awk 'BEGIN { for (i = 0; i < 1000; i++) printf "domain x%d.oscar.example\n", i }' \
        | im oscar publish - >/dev/null
    ok $? "oscar publishes 1000"
    # mallory2 (the target link) and mallory3 (the twin) from one process:
    # each answer goes to quebec from both, back to back.
    bounded $((1200 * SLOW)) "$MALLORY" --keys "$T/mallory2.keys" --twin "$T/mallory3.keys" \
        late --delay 0 --target "$(card_field quebec 5)" "$(card_field quebec 4)" \
        --source "$(card_field oscar 5)" "$(card_field oscar 4)" \
        --duration $((900000 * SLOW)) >"$T/twins.out" 2>&1 &
    tpid=$!; PIDS="$PIDS $tpid"
    both () {
        [ $(($(peer_num quebec mallory2 received) + $(peer_num quebec mallory2 known))) -ge 1000 ] \
            && [ $(($(peer_num quebec mallory3 received) + $(peer_num quebec mallory3 known))) -ge 1000 ]
    }
    wait_for $((300 * SLOW)) holds quebec 1000 && wait_for $((300 * SLOW)) both
    ok $? "mallory2 and mallory3 each bring quebec the 1000, back to back"
    for m in mallory2 mallory3; do
        diag "from $m: $(peer_num quebec $m received) stored, $(peer_num quebec $m known)" \
            "known, $(peer_num quebec $m known_late) of them only when stored"
    done
    # The first is the one whose records quebec stored (the other's were
    # copies); the race is when the copies were found held only when stored.
    first=target
    peer_at_least quebec mallory2 received 1 || first=twin
    named () { grep -q "the $1's EAGER names 1 origins" "$T/twins.out"; }
    one_named target mallory2 twin mallory3 && named $first
    ok $? "the first is chosen: an EAGER names oscar to it, none to the other"
    stop_ours "$tpid"; wait "$tpid" 2>/dev/null
    for p in $opid $qpid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

run_blocks "$@"
