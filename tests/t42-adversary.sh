#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t42-adversary.sh -- a trusted peer that misbehaves (tests/mallory, built on
# the project's codec) against honest nodes: it makes itself a node's eager
# peer for an origin and withholds that origin's records while flooding
# made-up notes, and the honest path still delivers every record; FOUND that
# was never asked for is refused unread, within the rate; floods of HAVE,
# FETCH and SYNC cost bounded memory and disk and leave `status` answering;
# and records whose notes were lost come back by anti-entropy.
. "$(dirname "$0")/lib.sh"
need_fake_peer
. "$(dirname "$0")/adversary.sh"
: "${CTL_CALL:=${top_builddir:-.}/tests/ctl_call}"
# lag_out_zero NODE PEER: PEER has read all of NODE's change log.
lag_out_zero () { peer_json "$1" "$2" | grep -q '"lag_out":0,'; }
ms () { date +%s%3N; }
rss_kb () { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
mallory () { bounded $((120 * SLOW)) "$MALLORY" --keys "$T/mallory.keys" "$@"; }
keep_logs () {
    [ "$tap_failed" -eq 0 ] && return
    keep=$(mktemp -d "${TMPDIR:-/tmp}/adversary-logs.XXXXXX") || return
    cp "$T"/*.log "$keep"/ 2>/dev/null
    echo "# the nodes' logs are kept in $keep"
}
trap 'keep_logs; cleanup' EXIT

# --- 1. An eager peer that withholds ----------------------------------------
block censor 'an eager peer that withholds, and floods made-up notes, cannot keep an honest path'\''s records away'
b_censor () {
    diag "SPEC.md: LAZY, FETCH and FOUND; Wanted keys"
    mallory_card
    for n in bravo charlie alpha; do fresh $n || diag "cannot init $n"; done
    anti_entropy alpha 1d # the repair here must not wait for anti-entropy
    im bravo peer add "$(cat "$T/mallory.card")" >/dev/null \
        && im alpha peer add "$(cat "$T/mallory.card")" >/dev/null \
        && link bravo charlie && link charlie alpha
    ok $? "bravo -> charlie -> alpha, and bravo -> mallory -> alpha"
    start_node bravo && bpid=$NODE_PID && start_node alpha && apid=$NODE_PID
    ok $? "bravo and alpha start (charlie not yet)"
    im bravo publish domain seed.bravo.example >/dev/null; ok $? "bravo publishes one record"
    mallory withhold --target "$(card_field alpha 5)" "$(card_field alpha 4)" \
        --source "$(card_field bravo 5)" "$(card_field bravo 4)" --fake-have 40 \
        --duration $((90000 * SLOW)) >"$T/mallory.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    wait_for 300 holds alpha 1; ok $? "mallory brings alpha bravo's record first (its eager peer for bravo)"
    wait_for 300 grep -q "withhold sent" "$T/mallory.out"
    ok $? "then floods alpha with 40 HAVE of 1000 made-up keys of bravo's"
    diag "$(cat "$T/mallory.out")"
    start_node charlie && cpid=$NODE_PID; ok $? "charlie starts"
    wait_for 300 connected alpha charlie && wait_for 300 connected charlie bravo
    ok $? "charlie is connected to bravo and alpha"
    awk 'BEGIN { for (i = 0; i < 2500; i++) printf "domain c%d.bravo.example\n", i }' \
        | im bravo publish - >/dev/null
    ok $? "bravo publishes 2,500 more"
    t0=$(ms)
    wait_for 900 holds alpha 2501; ok $? "alpha gets all 2,501 over charlie"
    diag "alpha holds $(status_num alpha records) of 2501, $(($(ms) - t0)) ms after the publish;" \
        "fetched from charlie: $(peer_num alpha charlie fetched)," \
        "mallory's notes dropped: $(peer_num alpha mallory notes_dropped)"
    extra=0 # records published to make a FOUND come
    if [ "$(peer_num alpha charlie fetched)" -gt 0 ]; then
        # Fetched before the grace (mallory quiet), charlie takes bravo at
        # once when mallory became the eager peer by a note; else once a
        # grace has passed since mallory first missed one, at a FOUND after
        # that (one more record a look, until then).
        logged () {
            grep -q "mesh: mallory did not bring a record of" "$T/alpha.log" && return
            im bravo publish domain "e$extra.bravo.example" >/dev/null 2>&1 \
                && extra=$((extra + 1))
            return 1
        }
        wait_for $((300 * SLOW)) logged
        ok $? "alpha logs that mallory did not bring what charlie noted, and takes bravo from charlie"
    else
        # Charlie sent them in full before alpha had asked it for bravo's
        # keys only (a race of the set-up): nothing was kept away to repair.
        ok 0 "# SKIP charlie sent bravo's records in full: mallory was not in the way"
    fi
    [ "$(peer_num alpha mallory wanted)" -le 16000 ]
    ok $? "mallory's made-up notes are bounded (at most 16000 held: $(peer_num alpha mallory wanted))"
    # An eager peer's notes of its own origin are not wanted (it sends that
    # origin in full): they are ignored, or dropped and counted, once alpha
    # has read them (its quota holds mallory's HAVEs back: on a busy machine
    # the last may still wait when alpha holds bravo's records).
    notes_done () {
        [ "$(peer_num alpha mallory notes_dropped)" -ge 24000 ] \
            || [ "$(peer_num alpha mallory wanted)" = 0 ]
    }
    wait_for $((300 * SLOW)) notes_done
    ok $? "and the rest of its 40,000 are dropped and counted, or all are ignored ($(peer_num alpha mallory notes_dropped) dropped)"
    awk 'BEGIN { for (i = 0; i < 20; i++) printf "domain d%d.bravo.example\n", i }' \
        | im bravo publish - >/dev/null
    wait_for 300 holds alpha $((2521 + extra)); ok $? "bravo's next 20 reach alpha too"
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    for p in $bpid $cpid $apid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# --- 2. FOUND that nobody asked for ------------------------------------------
block found 'FOUND carries only what was asked, within the rate; the rest is refused unread'
b_found () {
    diag "SPEC.md: LAZY, FETCH and FOUND"
    mallory_card
    fresh victor; anti_entropy victor 2s
    im victor peer add "$(cat "$T/mallory.card")" >/dev/null
    im victor peer set mallory --rate 1 >/dev/null; ok $? "victor trusts mallory at a rate of 1 a second"
    start_node victor; vpid=$NODE_PID; ok $? "victor starts"
    ep=$(card_field victor 5); key=$(card_field victor 4)
    before=$(status_num victor records)
    mallory --target "$ep" "$key" push 20000 >"$T/push.out" 2>&1
    ok $? "mallory sends 20,000 valid records of its own in FOUND nobody asked for"
    diag "$(cat "$T/push.out")"
    wait_for 100 peer_at_least victor mallory protocol 20
    [ "$(status_num victor records)" = "$before" ]; ok $? "victor stores none of them"
    p=$(peer_num victor mallory protocol)
    [ "$p" -ge 20 ]; ok $? "and counts each unasked FOUND as a protocol refusal ($p)"
    grep -q "mesh: mallory sent 1000 records that were not asked for: refused" "$T/victor.log"
    ok $? "and logs it"

    c0=$(cpu_ticks "$vpid")
    f0=$(sig_failed victor)
    mallory --target "$ep" "$key" found-flood 100 >"$T/found.out" 2>&1
    ok $? "mallory notes a made-up key, is sent a FETCH for it, and answers with 100 FOUND of that record, badly signed"
    diag "$(cat "$T/found.out")"
    wait_for 100 peer_at_least victor mallory protocol 119
    ok $? "the 99 FOUND after the first are refused unread (protocol: $(peer_num victor mallory protocol))"
    c1=$(cpu_ticks "$vpid")
    [ "$(peer_num victor mallory 'bad signature')" = 1 ]
    ok $? "one bad signature is counted against mallory, not 100 ($(peer_num victor mallory 'bad signature'))"
    f1=$(sig_failed victor)
    [ $((f1 - f0)) = 1 ]; ok $? "and one signature was checked in all: the FOUND after the first were not verified ($((f1 - f0)))"
    diag "victor's CPU for the FOUND flood: $((c1 - c0)) ticks"
    [ $((c1 - c0)) -lt $((100 * SLOW)) ]; ok $? "the flood cost victor under $SLOW s of CPU ($((c1 - c0)) ticks)"
    im victor status >/dev/null; ok $? "victor answers"
    stop_node "$vpid"; ok $? "victor stops"
}

# --- 3. Floods of requests -------------------------------------------------
# status_p99 NODE N: the 99th percentile, in ms, of N `status` calls.
status_p99 () {
    for i in $(seq "$2"); do
        s=$(date +%s%N); im "$1" status >/dev/null; e=$(date +%s%N)
        echo $(((e - s) / 1000000))
    done | sort -n | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; print v[i] }'
}
# status_p99_vs NODE N: "P C": the 99th percentiles, in ms, of N `status`
# calls to NODE and of as many to the idle control node ctl, each right
# after one to NODE, so that C shows the load of the machine at that time.
status_p99_vs () {
    for i in $(seq "$2"); do
        s=$(date +%s%N); im "$1" status >/dev/null; m=$(date +%s%N)
        im ctl status >/dev/null; e=$(date +%s%N)
        echo "$(((m - s) / 1000000)) $(((e - m) / 1000000))"
    done >"$T/p99"
    for col in 1 2; do
        cut -d' ' -f$col "$T/p99" | sort -n \
            | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; print v[i] }'
    done | tr '\n' ' '
}
# control_start: the idle control node ctl (no peers) runs.
control_start () { fresh ctl && start_node ctl && ctl_pid=$NODE_PID; }
# responsive BUSY QUIET CTL: status under a flood (BUSY, ms at p99) is within
# 100 ms, or within 3 times (12 under sanitizers) the slower of the node's
# own quiet figure and the idle control node's at the same time, and 50 ms.
responsive () {
    ref=$2
    [ "$3" -gt "$ref" ] && ref=$3
    [ "$1" -le 100 ] || [ "$1" -le $((3 * SLOW * ref + 50)) ]
}
block flood 'HAVE, FETCH and SYNC floods cost bounded memory and disk, and status keeps answering'
b_flood () {
    diag "SPEC.md: Quotas"
    mallory_card
    fresh walt; im walt peer add "$(cat "$T/mallory.card")" >/dev/null
    start_node walt; wpid=$NODE_PID; ok $? "walt, who trusts mallory, starts"
    control_start; ok $? "an idle control node starts"
    awk 'BEGIN { for (i = 0; i < 5000; i++) printf "domain w%d.walt.example\n", i }' \
        | im walt publish - >/dev/null
    ok $? "walt holds 5,000 records of its own"
    ep=$(card_field walt 5); key=$(card_field walt 4)
    quiet=$(status_p99 walt 40)
    size0=$(stat -c %s "$T/walt/store/data.mdb"); rss0=$(rss_kb "$wpid")
    for f in have-flood:3000 fetch-flood:1000 sync-flood:3000; do
        n=${f#*:}; f=${f%:*}
        mallory --target "$ep" "$key" $f $n --duration 4000 >"$T/$f.out" 2>&1 &
        fpid=$!; PIDS="$PIDS $fpid"
        sleep 0.3
        read -r busy ctl <<<"$(status_p99_vs walt 40)"
        wait "$fpid"; ok $? "mallory runs a $f of $n messages"
        diag "$(cat "$T/$f.out"); status p99 $busy ms (quiet: $quiet ms; idle node meanwhile: $ctl ms)"
        responsive "$busy" "$quiet" "$ctl"
        ok $? "during the $f, status answers within 100 ms at p99 ($busy ms; quiet $quiet ms; idle node $ctl ms)"
    done
    size1=$(stat -c %s "$T/walt/store/data.mdb"); rss1=$(rss_kb "$wpid")
    diag "data.mdb $size0 -> $size1 bytes; RSS $rss0 -> $rss1 kB;" \
        "over quota: $(peer_num walt mallory 'over quota'), wanted: $(peer_num walt mallory wanted)"
    [ $((size1 - size0)) -lt 1048576 ]; ok $? "the floods wrote under 1 MiB to the store"
    [ $((rss1 - rss0)) -lt $((65536 * SLOW)) ]; ok $? "and grew walt's memory by under $((64 * SLOW)) MiB"
    [ "$(peer_num walt mallory wanted)" -le 16000 ]; ok $? "mallory's notes held stay within 16000"
    [ "$(peer_num walt mallory 'over quota')" -gt 0 ]; ok $? "requests over mallory's quota are dropped and counted"
    grep -q "mesh: mallory sends more requests than its quota allows" "$T/walt.log"
    ok $? "and logged"
    stop_node "$wpid" && stop_node "$ctl_pid"; ok $? "walt and the control node stop"
}

# --- 4. Anti-entropy ---------------------------------------------------------
# withheld [MALLORY-OPTION...]: oscar -> papa -> quebec, and oscar -> mallory
# -> quebec, quebec's fetch grace 1 h and walks once a day: mallory brings
# quebec one of oscar's records first (so becomes its eager peer for oscar)
# and withholds the rest; papa is asked for oscar's keys only. Sets opid,
# ppid, qpid, mpid and total (oscar's records so far).
withheld () {
    mallory_first withhold "$@"
    # Mallory becomes quebec's eager peer for oscar once papa brings one of
    # oscar's records too; then papa is asked for oscar's keys only. Once
    # papa holds the seed and quebec has read papa's log past it, papa has
    # either brought it again (quebec counts it known) or skipped it (it
    # knew quebec held it). In the second case a second record, which only
    # papa brings (papa is not lazy yet), does it.
    wait_for 300 connected quebec papa && wait_for 300 holds papa 1 \
        && wait_for 300 lag_out_zero papa quebec
    ok $? "papa holds oscar's seed and quebec has read papa's log past it"
    total=1
    wait_for 300 peer_json quebec papa >/dev/null # one look that answers
    if [ "$(peer_num quebec papa known)" -lt 1 ]; then
        im oscar publish domain seed2.oscar.example >/dev/null 2>&1
        total=2
        wait_for 300 holds quebec 2
    fi
    wait_for 300 keys_first_of papa quebec
    ok $? "quebec asks papa for oscar's keys only ($total of oscar's records so far)"
    # And mallory is quebec's eager peer for oscar: an EAGER names it. (Papa
    # asked for keys only says less: under heavy load a first comer that
    # looked down for a moment was passed over, and papa's notes then made
    # papa the eager peer.)
    wait_for 300 grep -q "the target's EAGER names 1 origins" "$T/mallory-withhold.out"
    ok $? "quebec tells mallory to send oscar's records in full"
}

block anti_entropy 'records whose notes were lost come back by anti-entropy'
b_anti_entropy () {
    diag "SPEC.md: Anti-entropy"
    # Under heavy load (make -j8 check beside another run on two cores) the
    # set-up failed twice on 2026-12-06: quebec held all 602 records before
    # the kill, with no eager choice moved or dropped in its log; the cause
    # is not known. The set-up is then tried once more, with the evidence.
    anti_entropy_once 1 || anti_entropy_once 2
}
# anti_entropy_once ATTEMPT: false when the set-up's premise failed at the
# first attempt (nothing checked yet beyond the set-up).
anti_entropy_once () {
    # No walk and no fetch of what papa notes until quebec is killed: the set-
    # up holds however slow the machine. Mallory says it has more than it
    # sends (its answer flagged MORE, --more): an eager peer that may still
    # bring them, so quebec keeps papa's notes for the grace. After the kill,
    # it walks every 3 s.
    withheld --more
    total=$((total + 600))
    logged=$(wc -l <"$T/quebec.log")
    awk 'BEGIN { for (i = 0; i < 600; i++) printf "domain n%d.oscar.example\n", i }' \
        | im oscar publish - >/dev/null 2>&1
    # Killed once papa has moved quebec's cursor past what it noted: only a
    # walk can bring those back (mallory brings nothing more).
    noted=0
    noted_kill () {
        pj=$(peer_json quebec papa)
        noted=$(echo "$pj" | grep -o '"wanted":[0-9]*' | cut -d: -f2)
        echo "$pj" | grep -q '"lag_in":0,' && [ "${noted:-0}" -gt 0 ] \
            && [ "$(status_num quebec records)" -lt "$total" ] && kill -KILL "$qpid"
    }
    wait_for 600 noted_kill; r=$?
    if [ $r -ne 0 ]; then
        diag "attempt $1: quebec holds $(status_num quebec records) of $total, nothing noted; its peers:"
        for n in papa mallory; do
            diag "  $n: $(peer_json quebec $n | grep -o '"\(connected\|last_contact\|received\|known\|fetched\|notes\|wanted\|anti_entropy_walks\|lag_in\|notes_dropped\)":[^,]*' | tr '\n' ' ')"
        done
        tail -n "+$((logged + 1))" "$T/quebec.log" | grep -v " stored" | tail -n 12 | sed 's/^/#   /'
        cp "$T/quebec.log" "$T/quebec-attempt$1.log" # kept when the test fails
        kill -KILL "$qpid" 2>/dev/null
    fi
    wait "$qpid" 2>/dev/null
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    if [ $r -ne 0 ] && [ "$1" = 1 ]; then
        for p in $opid $ppid; do stop_node "$p" || false; done
        return 1
    fi
    ok $r "quebec is killed with keys noted from papa in memory, its cursor past them ($noted noted)"
    sed -i -e '/fetch-grace = /d' -e 's/anti-entropy = "1d"/anti-entropy = "3s"/' \
        "$T/quebec/intelmesh.conf"
    start_node quebec; qpid=$NODE_PID; ok $? "quebec starts again, and walks every 3 s"
    t0=$(ms)
    wait_for 600 holds quebec "$total"; ok $? "anti-entropy brings quebec all $total of oscar's records"
    diag "quebec holds $(status_num quebec records) of $total $(($(ms) - t0)) ms after its restart;" \
        "walks with papa: $(peer_num quebec papa anti_entropy_walks), fetched: $(peer_num quebec papa fetched)"
    [ "$(peer_num quebec papa fetched)" -gt 0 ] && [ "$(peer_num quebec papa anti_entropy_walks)" -gt 0 ]
    ok $? "what it lacked was fetched from papa after a walk"
    for p in $opid $ppid $qpid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# quiet_publish PREFIX: oscar publishes 600 more (PREFIXi.oscar.example),
# which quebec must get over papa within 60 s (SLOW times), its grace 1 h.
quiet_publish () {
    total=$((total + 600))
    t0=$(ms)
    awk -v p="$1" 'BEGIN { for (i = 0; i < 600; i++) printf "domain %s%d.oscar.example\n", p, i }' \
        | im oscar publish - >/dev/null 2>&1
    wait_for $((600 * SLOW)) holds quebec "$total"
    ok $? "quebec gets all $total of oscar's records over papa, its fetch grace 1 h"
    diag "quebec holds $(status_num quebec records) of $total $(($(ms) - t0)) ms after the publish;" \
        "fetched from papa: $(peer_num quebec papa fetched)," \
        "walks with papa: $(peer_num quebec papa anti_entropy_walks)"
}

# An eager peer that withholds and has nothing more to send (its answers all
# read, a PULL parked with it) is not waited for: what papa notes is fetched
# from papa long before quebec's grace of 1 h is over. Mallory's PINGs tell
# a change number far past what it sent (--seq), as an honest eager peer's
# do once it holds copies of records not for quebec: a parked PULL's cursor
# does not move past those, and waiting for it cost a whole grace.
block quiet_eager 'what an eager peer that has gone quiet did not bring is fetched from the peer that noted it, before the fetch grace'
b_quiet_eager () {
    diag "SPEC.md: Wanted keys"
    withheld --seq 1000000
    quiet_publish q
    [ "$(peer_num quebec papa fetched)" -gt 0 ] \
        && [ "$(peer_num quebec papa anti_entropy_walks)" = 0 ]
    ok $? "fetched from papa, with no anti-entropy walk"
    # Fetched sooner, papa takes the origin only once mallory has been the
    # eager peer for a grace without bringing one.
    ! grep -q "mesh: mallory did not bring a record of" "$T/quebec.log"
    ok $? "mallory stays quebec's eager peer for oscar within the grace"
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    for p in $opid $ppid $qpid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# fetched_stop: what quebec lacked came from papa; the nodes and mallory stop.
fetched_stop () {
    [ "$(peer_num quebec papa fetched)" -gt 0 ]
    ok $? "fetched from papa"
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    for p in $opid $ppid $qpid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# As quiet_eager, where mallory's one answer is flagged MORE but moves no
# cursor (it carries the cursor it was asked from, as each answer of a rescan
# does, the walk a new policy sets off): such answers say nothing of what is
# to come, and an eager peer that gave them and fell silent is quiet too
# (review 95: they kept it from being quiet until it stored something new).
block quiet_rescan 'an eager peer whose last answer said MORE but moved no cursor, then fell silent, is not waited for'
b_quiet_rescan () {
    diag "SPEC.md: Wanted keys"
    withheld --more --same-cursor
    quiet_publish r
    fetched_stop
}

# As quiet_rescan, in the middle of a cursor: mallory's first answer moves
# quebec's cursor to 1 with nothing more, its next carries cursor 1 again
# and the same record, flagged MORE, as a rescan's answer does. Quebec's
# cursor is past every answer that said more and moved it: mallory is quiet
# (review 97: the block above tests this only at cursor 0).
block quiet_rescan_mid 'an eager peer that answered past cursor 0, then as a rescan does, then fell silent, is not waited for'
b_quiet_rescan_mid () {
    diag "SPEC.md: Wanted keys"
    withheld --rescan-after
    wait_for $((300 * SLOW)) grep -q "answered the next PULL, from 1, as a rescan does" \
        "$T/mallory-withhold.out"
    ok $? "mallory answered quebec's PULL from cursor 1 with the record again, flagged MORE"
    quiet_publish m
    # As in quiet_eager: fetched sooner, with mallory still the eager peer
    # and no walk (else a mallory found down would pass this for another
    # reason).
    [ "$(peer_num quebec papa anti_entropy_walks)" = 0 ]
    ok $? "no anti-entropy walk with papa"
    ! grep -q "mesh: mallory did not bring a record of" "$T/quebec.log"
    ok $? "mallory stays quebec's eager peer for oscar within the grace"
    fetched_stop
}

# --- 5. Found by the red team (issue 11 review) ------------------------------
# honest_rate NODE N: records NODE takes in a second while holding N more.
# A PULL flood from cursor 0: each answer is read and written to the sent log.
block pull_flood 'a PULL flood from cursor 0 costs bounded disk, and an honest peer keeps its pace'
b_pull_flood () {
    diag "SPEC.md: Quotas; The sent log"
    mallory_card
    for n in walt bravo; do fresh $n || diag "cannot init $n"; done
    im walt peer add "$(cat "$T/mallory.card")" >/dev/null && link walt bravo
    ok $? "walt trusts mallory and bravo"
    start_node walt; wpid=$NODE_PID; start_node bravo; bpid=$NODE_PID
    ok $? "walt and bravo start"
    control_start; ok $? "an idle control node starts"
    wait_for 300 connected walt bravo; ok $? "walt is connected to bravo"
    awk 'BEGIN { for (i = 0; i < 5000; i++) printf "domain w%d.walt.example\n", i }' \
        | im walt publish - >/dev/null
    wait_for 600 holds bravo 5000; ok $? "walt holds 5,000 records of its own, and bravo has them"
    ep=$(card_field walt 5); key=$(card_field walt 4)
    quiet=$(status_p99 walt 40)
    t0=$(ms)
    awk 'BEGIN { for (i = 0; i < 10000; i++) printf "domain q%d.bravo.example\n", i }' \
        | im bravo publish - >/dev/null
    wait_for 1200 holds walt 15000; ok $? "walt takes bravo's 10,000 (quiet)"
    tq=$(($(ms) - t0))
    size0=$(stat -c %s "$T/walt/store/data.mdb"); c0=$(cpu_ticks "$wpid")
    mallory --target "$ep" "$key" pull-flood 2000 --duration 20000 >"$T/pull.out" 2>&1 &
    fpid=$!; PIDS="$PIDS $fpid"
    sleep 1
    read -r busy ctl <<<"$(status_p99_vs walt 40)"
    t0=$(ms)
    awk 'BEGIN { for (i = 0; i < 10000; i++) printf "domain f%d.bravo.example\n", i }' \
        | im bravo publish - >/dev/null
    wait_for 1200 holds walt 25000; ok $? "walt takes bravo's next 10,000 (during the flood)"
    tf=$(($(ms) - t0))
    wait "$fpid"; ok $? "mallory's flood of 2,000 PULLs from cursor 0 ends"
    size1=$(stat -c %s "$T/walt/store/data.mdb"); c1=$(cpu_ticks "$wpid")
    diag "$(cat "$T/pull.out")"
    diag "status p99: quiet $quiet ms, during the flood $busy ms;" \
        "bravo's 10,000 took $tq ms quiet, $tf ms during the flood;" \
        "walt's CPU during the flood $((c1 - c0)) ticks;" \
        "data.mdb $size0 -> $size1 bytes ($(((size1 - size0) / 1048576)) MiB);" \
        "over quota: $(peer_num walt mallory 'over quota')"
    [ $((size1 - size0)) -lt 16777216 ]; ok $? "the flood wrote under 16 MiB to walt's store ($(((size1 - size0) / 1048576)) MiB)"
    responsive "$busy" "$quiet" "$ctl"
    ok $? "status answers within 100 ms at p99 during the flood ($busy ms; quiet $quiet ms; idle node $ctl ms)"
    [ "$tf" -le $((2 * tq + 2000)) ]; ok $? "bravo's records come at no less than half the quiet pace ($tf ms; quiet $tq ms)"
    for p in $wpid $bpid $ctl_pid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# relay_ms FROM TO N: publishes one record at FROM and prints how many ms until
# TO holds N records (0 when it does not in 30 s).
relay_ms () {
    t0=$(ms)
    im "$1" publish domain "r$t0.$1.example" >/dev/null
    if wait_for 300 holds "$2" "$3"; then echo $(($(ms) - t0)); else echo 0; fi
}
# PULLs over the quota push back the relay of every peer's waiting pull.
block relay_stall 'PULLs over the quota do not hold back the relay of records to other peers'
b_relay_stall () {
    diag "SPEC.md: Quotas; Serving pulls"
    mallory_card
    for n in bravo alpha charlie; do fresh $n || diag "cannot init $n"; done
    im alpha peer add "$(cat "$T/mallory.card")" >/dev/null && link bravo alpha && link alpha charlie
    ok $? "bravo -> alpha -> charlie; alpha trusts mallory"
    start_node bravo; bpid=$NODE_PID; start_node alpha; apid=$NODE_PID
    start_node charlie; cpid=$NODE_PID
    wait_for 300 connected alpha bravo && wait_for 300 connected charlie alpha
    ok $? "the three are connected"
    quiet=""
    for i in 1 2 3; do
        quiet="$quiet $(relay_ms bravo charlie $i)"
        sleep 0.5
    done
    diag "bravo -> alpha -> charlie, quiet: $quiet ms"
    mallory --target "$(card_field alpha 5)" "$(card_field alpha 4)" pull-flood 40000 \
        --cursor 1000000000 --rate 1000 --duration 1000 >"$T/stall.out" 2>&1 &
    fpid=$!; PIDS="$PIDS $fpid"
    sleep 3
    busy=""
    for i in 4 5 6; do
        busy="$busy $(relay_ms bravo charlie $i)"
        sleep 0.5
    done
    diag "bravo -> alpha -> charlie, while mallory sends 1000 PULLs a second to alpha: $busy ms;" \
        "over quota: $(peer_num alpha mallory 'over quota'); charlie fetched from alpha: $(peer_num charlie alpha fetched)"
    # Before the quotas, the flood held each record 3.2 s at alpha against
    # 0.25 s quiet. The bound is the quiet pace of this run, so that a busy
    # machine slows both alike: 3 times the quiet worst plus 1 s (4 s under
    # sanitizers, which make each refused PULL cost alpha 3 to 4 times the
    # CPU: 919, 1342 and 2968 ms against a quiet 485 in one ASan run).
    worst=$(echo $busy | tr ' ' '\n' | sort -n | tail -1)
    qworst=$(echo $quiet | tr ' ' '\n' | sort -n | tail -1)
    bound=$((3 * qworst + 1000 * SLOW))
    [ "$worst" -gt 0 ] && [ "$worst" -le "$bound" ]
    ok $? "each record still crosses alpha within 3 times the quiet pace and 1 s (worst $worst ms, bound $bound ms)"
    stop_ours "$fpid"; wait "$fpid" 2>/dev/null
    for p in $bpid $apid $cpid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# FETCH of real keys (named by its own SYNC), again and again.
block fetch_real 'a FETCH flood of real keys costs bounded disk and CPU'
b_fetch_real () {
    diag "SPEC.md: Quotas; The sent log"
    mallory_card
    fresh walt; im walt peer add "$(cat "$T/mallory.card")" >/dev/null
    start_node walt; wpid=$NODE_PID; ok $? "walt, who trusts mallory, starts"
    awk 'BEGIN { for (i = 0; i < 5000; i++) printf "domain w%d.walt.example\n", i }' \
        | im walt publish - >/dev/null
    ok $? "walt holds 5,000 records of its own"
    ep=$(card_field walt 5); key=$(card_field walt 4)
    size0=$(stat -c %s "$T/walt/store/data.mdb"); c0=$(cpu_ticks "$wpid"); t0=$(ms)
    mallory --target "$ep" "$key" fetch-real 1125 --rate 75 --duration 3000 >"$T/fr.out" 2>&1
    ok $? "mallory SYNCs once, then FETCHes the 1,000 keys it was told 75 times a second for 15 s (within its quota)"
    size1=$(stat -c %s "$T/walt/store/data.mdb"); c1=$(cpu_ticks "$wpid"); t1=$(ms)
    diag "$(cat "$T/fr.out")"
    diag "data.mdb $size0 -> $size1 bytes ($(((size1 - size0) / 1048576)) MiB);" \
        "walt's CPU $((c1 - c0)) ticks in $((t1 - t0)) ms; over quota: $(peer_num walt mallory 'over quota')"
    [ $((size1 - size0)) -lt 16777216 ]; ok $? "the flood wrote under 16 MiB to walt's store ($(((size1 - size0) / 1048576)) MiB)"
    [ $((c1 - c0)) -le $(((t1 - t0) / 20)) ]
    ok $? "and cost walt at most 0.5 s of CPU a second ($((c1 - c0)) ticks in $((t1 - t0)) ms)"
    stop_node "$wpid"; ok $? "walt stops"
}

# HAVE of one key each: the cheapest message the quota lets through.
block tiny_have 'a flood of HAVEs of one key each costs bounded CPU, and status keeps answering'
b_tiny_have () {
    diag "SPEC.md: Quotas"
    mallory_card
    fresh walt; im walt peer add "$(cat "$T/mallory.card")" >/dev/null
    start_node walt; wpid=$NODE_PID; ok $? "walt, who trusts mallory, starts"
    control_start; ok $? "an idle control node starts"
    ep=$(card_field walt 5); key=$(card_field walt 4)
    quiet=$(status_p99 walt 40)
    c0=$(cpu_ticks "$wpid"); t0=$(ms)
    mallory --target "$ep" "$key" have-flood 300000 --per 1 --duration 2000 >"$T/th.out" 2>&1 &
    fpid=$!; PIDS="$PIDS $fpid"
    sleep 1
    read -r busy ctl <<<"$(status_p99_vs walt 40)"
    wait "$fpid"; ok $? "mallory sends 300,000 HAVEs of one made-up key each"
    c1=$(cpu_ticks "$wpid"); t1=$(ms)
    diag "$(cat "$T/th.out")"
    diag "walt's CPU $((c1 - c0)) ticks in $((t1 - t0)) ms; status p99 quiet $quiet ms, busy $busy ms;" \
        "over quota: $(peer_num walt mallory 'over quota'); notes dropped: $(peer_num walt mallory notes_dropped); wanted: $(peer_num walt mallory wanted)"
    # Decrypting and reading each message's header is paid before the quota
    # (SPEC.md, "Not in this version"): at most one core, not two.
    [ $((c1 - c0)) -le $(((t1 - t0) * SLOW / 10)) ]
    ok $? "the flood cost walt at most 1 s of CPU a second ($((c1 - c0)) ticks in $((t1 - t0)) ms)"
    responsive "$busy" "$quiet" "$ctl"
    ok $? "status answers within 100 ms at p99 during the flood ($busy ms; quiet $quiet ms; idle node $ctl ms)"
    stop_node "$wpid" && stop_node "$ctl_pid"; ok $? "walt and the control node stop"
}

# known_sum NODE PEER...: the copies NODE skipped as known from those peers.
known_sum () {
    n=$1; shift; s=0
    for q in "$@"; do s=$((s + $(peer_num "$n" "$q" known))); done
    echo $s
}
# 1000 made-up origins fill the table of eager peers: every later origin
# comes in full from every peer.
block origins 'made-up origins do not switch off the choice of one eager peer per origin'
b_origins () {
    diag "SPEC.md: LAZY, FETCH and FOUND"
    mallory_card
    for n in delta echo bravo charlie alpha; do fresh $n || diag "cannot init $n"; done
    im alpha peer add "$(cat "$T/mallory.card")" >/dev/null \
        && link delta bravo && link delta charlie && link echo bravo && link echo charlie \
        && link bravo alpha && link charlie alpha
    ok $? "delta and echo each -> bravo and charlie -> alpha; alpha trusts mallory"
    for n in delta echo bravo charlie alpha; do start_node $n; eval "pid_$n=\$NODE_PID"; done
    wait_for 300 connected alpha bravo && wait_for 300 connected alpha charlie
    ok $? "the nodes are connected"
    # A few first, so that alpha has seen both paths (and chosen one) before
    # the bulk: what is measured is the bulk's copies.
    seeded () {  # seeded NODE PREFIX HELD: 10 records, then 2,000
        awk -v p="$2" 'BEGIN { for (i = 0; i < 10; i++) printf "domain s%d.%s.example\n", i, p }' \
            | im "$1" publish - >/dev/null
        wait_for 600 holds alpha $(($3 + 10)) && sleep 1 || return 1
        k0=$(known_sum alpha bravo charlie)
        awk -v p="$2" 'BEGIN { for (i = 0; i < 2000; i++) printf "domain b%d.%s.example\n", i, p }' \
            | im "$1" publish - >/dev/null
        wait_for 600 holds alpha $(($3 + 2010)) || return 1
        sleep 2
        echo $(($(known_sum alpha bravo charlie) - k0))
    }
    k1=$(seeded delta delta 0); ok $? "alpha gets delta's 2,010"
    mallory --target "$(card_field alpha 5)" "$(card_field alpha 4)" origins 1000 \
        --duration 120000 >"$T/origins.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    wait_for 600 holds alpha 3010; ok $? "mallory brings alpha 1,000 records, each of a new origin"
    sleep 1
    k2=$(seeded echo echo 3010); ok $? "alpha gets echo's 2,010"
    diag "copies alpha skipped as known: $k1 of delta's 2,000, $k2 of echo's 2,000 (after mallory's 1,000 origins)"
    # Without an eager peer every record comes twice (2,000 copies).
    [ "${k2:-2000}" -le $((k1 + 500)) ] && [ "${k2:-2000}" -lt 1000 ]
    ok $? "echo's records come to alpha in about as few copies as delta's ($k2 against $k1, not 2,000)"
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    for n in delta echo bravo charlie alpha; do eval "stop_node \$pid_$n" || false; done
    ok $? "the nodes stop"
}

# An honest fast pair and an honest ring: the quota never holds them back.
block honest 'the quota holds back no honest puller (100,000 records) and drops no HAVE in a ring'
b_honest () {
    diag "SPEC.md: Quotas"
    for n in ra rb rc rd re; do fresh $n || diag "cannot init $n"; done
    link ra rb && link rb rc && link rc rd && link rd re && link re ra; ok $? "a ring of five"
    for n in ra rb rc rd re; do start_node $n; eval "pid_$n=\$NODE_PID"; done
    wait_for 300 connected ra rb && wait_for 300 connected ra re && wait_for 300 connected rc rd
    ok $? "the ring is connected"
    t0=$(ms)
    for n in ra rb rc rd re; do
        awk -v n=$n 'BEGIN { for (i = 0; i < 4000; i++) printf "domain x%d.%s.example\n", i, n }' \
            | im $n publish - >/dev/null &
        pubs="${pubs:-} $!"
    done
    for p in $pubs; do wait "$p"; done
    for n in ra rb rc rd re; do wait_for 1800 holds $n 20000 || diag "$n holds $(status_num $n records)"; done
    ok $? "each node of the ring holds all 20,000 ($(($(ms) - t0)) ms)"
    q=0; d=0; f=0
    for n in ra rb rc rd re; do
        for m in ra rb rc rd re; do
            [ $n = $m ] && continue
            q=$((q + $(peer_num $n $m 'over quota'))); d=$((d + $(peer_num $n $m notes_dropped)))
            f=$((f + $(peer_num $n $m fetched)))
        done
    done
    diag "ring: over quota $q, notes dropped $d, fetched $f"
    [ "$q" = 0 ] || grep -h "quota allows" "$T"/r?.log | head -5 | while read -r l; do diag "$l"; done
    [ "$q" = 0 ] && [ "$d" = 0 ]; ok $? "no request over a quota, no note dropped ($q, $d)"
    for n in ra rb rc rd re; do eval "stop_node \$pid_$n" || false; done
    fresh pa; fresh pb; link pa pb
    start_node pa; papid=$NODE_PID; start_node pb; pbpid=$NODE_PID
    wait_for 300 connected pb pa; ok $? "a pair"
    awk 'BEGIN { for (i = 0; i < 100000; i++) printf "domain h%d.pa.example\n", i }' \
        | im pa publish - >/dev/null
    t0=$(ms)
    wait_for 3000 holds pb 100000; ok $? "pb takes pa's 100,000 ($(($(ms) - t0)) ms after the publish)"
    diag "pair: 100,000 in $(($(ms) - t0)) ms; over quota at pa: $(peer_num pa pb 'over quota'), at pb: $(peer_num pb pa 'over quota')"
    [ "$(peer_num pa pb 'over quota')" = 0 ] && [ "$(peer_num pb pa 'over quota')" = 0 ]
    r=$?
    [ $r = 0 ] || grep -h "quota allows" "$T/pa.log" "$T/pb.log" | head -5 \
        | while read -r l; do diag "$l"; done
    [ $r = 0 ] || diag "pb from pa: $(peer_json pb pa)"
    ok $r "nothing over the quota"
    for p in $papid $pbpid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# Records this node's inbound rules refuse are noted by every walk, fetched
# and refused again.
block refetch 'anti-entropy does not fetch again, every walk, what the inbound rules refused'
b_refetch () {
    diag "SPEC.md: SYNC and KEYS; Inbound"
    for n in bravo alpha; do fresh $n || diag "cannot init $n"; done
    anti_entropy alpha 2s
    link bravo alpha && im alpha peer set bravo --accept-types ipv4 >/dev/null
    ok $? "alpha takes only ipv4 from bravo, and walks bravo's log every 2 s"
    start_node bravo; bpid=$NODE_PID
    awk 'BEGIN { for (i = 0; i < 3000; i++) printf "domain z%d.bravo.example\n", i }' \
        | im bravo publish - >/dev/null
    im bravo publish ipv4 192.0.2.1 >/dev/null; ok $? "bravo holds 3,000 domains and one ipv4"
    start_node alpha; apid=$NODE_PID
    wait_for 300 holds alpha 1; ok $? "alpha takes the ipv4 and refuses the domains"
    r0=$(peer_num alpha bravo 'inbound policy')
    sleep 12
    r1=$(peer_num alpha bravo 'inbound policy'); w=$(peer_num alpha bravo anti_entropy_walks)
    diag "inbound refusals from bravo: $r0 after the pull, $r1 twelve seconds later ($w walks)"
    [ "$r1" -le $((r0 + 300)) ]; ok $? "the walks fetch and refuse again at most 300 of the 3,000 domains in 6 walks ($r0 -> $r1)"
    for p in $bpid $apid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# A relay's HAVE notes of what it is about to send fill the ring of wanted
# keys at the next node, whose pulls then wait.
block line 'records cross a relay as fast as they cross the first link'
b_line () {
    diag "SPEC.md: Wanted keys; HAVE"
    for n in ly lh lv; do fresh $n || diag "cannot init $n"; done
    link ly lh && link lh lv; ok $? "ly -> lh -> lv"
    for n in ly lh lv; do start_node $n; eval "pid_$n=\$NODE_PID"; done
    wait_for 300 connected lh ly && wait_for 300 connected lv lh; ok $? "the line is connected"
    awk 'BEGIN { for (i = 0; i < 30000; i++) printf "domain l%d.ly.example\n", i }' \
        | im ly publish - >/dev/null
    t0=$(ms); th=0; tv=0
    while [ $(($(ms) - t0)) -lt 120000 ]; do
        [ "$th" = 0 ] && holds lh 30000 && th=$(($(ms) - t0))
        [ "$tv" = 0 ] && holds lv 30000 && tv=$(($(ms) - t0))
        [ "$th" != 0 ] && [ "$tv" != 0 ] && break
        sleep 0.1
    done
    diag "30,000 records: lh holds them $th ms after the publish, lv $tv ms;" \
        "at lv from lh: notes dropped $(peer_num lv lh notes_dropped), wanted $(peer_num lv lh wanted)," \
        "walks $(peer_num lv lh anti_entropy_walks), fetched $(peer_num lv lh fetched)"
    [ "$tv" != 0 ] && [ "$tv" -le $((th * 2 + 3000)) ]
    ok $? "lv has them within twice lh's time plus 3 s ($tv ms; lh $th ms)"
    [ "$(peer_num lv lh notes_dropped)" = 0 ]; ok $? "no note of lh's is dropped at lv"
    for n in ly lh lv; do eval "stop_node \$pid_$n" || false; done; ok $? "the nodes stop"
}

# A peer whose thread comes round slowly (mallory answers each PING 5 s late):
# the fetch grace stretches with the peers' round trips, to the cap at most,
# and one slow peer beside a fast one does not stretch it.
# grace NODE: the fetch grace in force there, in ms (PEERS fetch_grace_ms).
grace () { echo '{}' | "$CTL_CALL" "$T/$1" PEERS | grep -o '"fetch_grace_ms":[0-9]*' | cut -d: -f2; }
grace_is () { [ "$(grace "$1")" = "$2" ]; }
grace_below () { g=$(grace "$1"); [ -n "$g" ] && [ "$g" -lt "$2" ]; }
block slow_pong 'a peer that answers PINGs late stretches the fetch grace to 4 times at most, and not beside a fast one'
b_slow_pong () {
    diag "SPEC.md: PING and PONG; Wanted keys"
    mallory_card
    for n in wa wb; do fresh $n || diag "cannot init $n"; done
    im wa peer add "$(cat "$T/mallory.card")" >/dev/null; ok $? "wa trusts mallory"
    start_node wa; pid_wa=$NODE_PID
    grace_is wa 3000; ok $? "wa's fetch grace is node/fetch-grace, 3 s, before any round trip ($(grace wa))"
    mallory --target "$(card_field wa 5)" "$(card_field wa 4)" have-flood 1 \
        --pong-delay 5000 --duration 60000 >"$T/slow.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    wait_for $((300 * SLOW)) peer_at_least wa mallory rtt_ms 5000
    ok $? "wa times mallory's round trip at 5 s or more ($(peer_num wa mallory rtt_ms) ms)"
    wait_for 300 grace_is wa 12000
    ok $? "alone, it stretches wa's fetch grace to the cap, 12 s (4 x 3 s), not 20 s ($(grace wa))"
    im wa peer list | grep -q "^fetch grace   12.0 s, stretched from node/fetch-grace 3 s"
    ok $? "peer list says so"
    link wa wb && start_node wb && pid_wb=$NODE_PID; ok $? "wb, a fast peer, joins wa"
    wait_for 300 connected wa wb && wait_for 300 peer_at_least wa wb rtt_ms 1
    ok $? "wa times wb's round trip too ($(peer_num wa wb rtt_ms) ms)"
    wait_for $((300 * SLOW)) grace_below wa 12000
    ok $? "beside wb, mallory no longer stretches it: the lower of two round trips counts (down to $(grace wa) ms)"
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    stop_node "$pid_wb" && stop_node "$pid_wa"; ok $? "the nodes stop"
}

block copies 'a peer that sends copies on purpose stretches the fetch grace to 4 times at most, and it shrinks back'
b_copies () {
    diag "SPEC.md: Wanted keys"
    mallory_card
    fresh wc || diag "cannot init wc"
    im wc peer add "$(cat "$T/mallory.card")" >/dev/null; ok $? "wc trusts mallory"
    start_node wc; pid_wc=$NODE_PID
    mallory --target "$(card_field wc 5)" "$(card_field wc 4)" answer 150 --same \
        --rate 10 --duration 1000 >"$T/copies.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    wait_for $((300 * SLOW)) grace_is wc 12000
    ok $? "the same 1,000 records in 10 answers a second stretch wc's fetch grace to the cap, 12 s ($(grace wc) ms)"
    diag "copies counted: $(peer_num wc mallory known); new: $(peer_num wc mallory received)"
    [ "$(peer_num wc mallory received)" = 1000 ]; ok $? "and wc stores them once"
    k=$(peer_num wc mallory known)
    [ "$k" -gt 0 ] && peer_json wc mallory | grep -q '"known_found":0[,}]'
    ok $? "its copies came pushed, not in answers to a FETCH: known $k, known_found $(peer_num wc mallory known_found)"
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    wait_for $((300 * SLOW)) grace_is wc 3000
    ok $? "once they stop, the grace shrinks back to node/fetch-grace, 3 s ($(grace wc) ms)"
    fresh wd || diag "cannot init wd"
    link wc wd && start_node wd && pid_wd=$NODE_PID; ok $? "wd, an honest peer, joins wc"
    wait_for 300 connected wc wd; ok $? "wc and wd are connected"
    k0=$(peer_num wc mallory known)
    mallory --target "$(card_field wc 5)" "$(card_field wc 4)" answer 100 --same \
        --rate 10 --duration 1000 >"$T/copies2.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    max=0
    while kill -0 "$mpid" 2>/dev/null; do
        g=$(grace wc); [ -n "$g" ] && [ "$g" -gt "$max" ] && max=$g
        sleep 0.2
    done
    wait "$mpid" 2>/dev/null
    diag "copies counted meanwhile: $(($(peer_num wc mallory known) - k0)); the grace at most $max ms"
    # Its round trips may lift the floor on a loaded machine: the grace stays
    # under the cap, which copies alone would reach in 4 s.
    [ $(($(peer_num wc mallory known) - k0)) -ge 50000 ] && [ "$max" -lt 12000 ]
    ok $? "beside wd, mallory's copies (50,000 or more in 10 s) no longer stretch it to the cap: more than half the peers must bring them (at most $max ms)"
    stop_node "$pid_wd" && stop_node "$pid_wc"; ok $? "the nodes stop"
}

# A peer that keeps the node's peer socket busy: nothing is fetched while
# messages wait unread there, but a key that fell due is held 10 s at most
# (SPEC "Wanted keys", FETCH_BEHIND_MAX_MS), so what an honest peer notes
# still comes. Mallory,
# bravo's eager peer at alpha, withholds (so that bravo's records come to
# alpha only as charlie's notes, to be fetched); mallet, another trusted
# peer, floods alpha with the cheapest request there is, as fast as alpha
# reads (a HAVE of one key: most are over its quota and dropped, each read).
# Alpha is behind throughout: the FETCH goes 10 s after its keys fell due,
# one fetch grace after charlie's notes (before 851ac62, at the grace). A
# node that held its FETCH for as long as anything waited unread fails here.
# notes_within FLOODER PID T0 CHECK...: CHECK (bravo's 20 at alpha, through
# charlie's notes) holds within the bound below while FLOODER (process PID)
# floods alpha, and FLOODER flooded all along; T0 is when bravo published.
notes_within () {
    local who=$1 pid=$2 t0=$3 g bound q0 q1 r t
    shift 3
    # The bound: the fetch grace in force (3 s here; slow round trips
    # stretch it to 12 s at most) and 10 s behind, twice that for a loaded
    # machine (4 times more under the sanitizers), and 5 s for bravo ->
    # charlie -> alpha and the FOUND; never more than the 60 s of the busy
    # hold (FETCH_BUSY_MAX_MS), so that a node that held its FETCH that long
    # fails here under the sanitizers too (helper 69: 109 s there before;
    # both blocks take about 13.5 s under them).
    g=$(grace alpha); g=${g:-12000}
    bound=$((2 * SLOW * (10000 + g) + 5000))
    [ "$bound" -le 60000 ] || bound=60000
    q0=$(peer_num alpha "$who" 'over quota')
    wait_for $((bound / 100)) "$@"; r=$?
    t=$(($(ms) - t0))
    q1=$(peer_num alpha "$who" 'over quota')
    diag "alpha holds $(status_num alpha records) of 21 after $t ms (fetch grace $g ms);" \
        "fetched from charlie: $(peer_num alpha charlie fetched); $who's HAVEs over quota" \
        "meanwhile: $((q1 - q0)); wanted from $who: $(peer_num alpha "$who" wanted)"
    [ "$r" -eq 0 ] && [ "$t" -le "$bound" ]
    ok $? "charlie's notes of bravo's 20 bring them to alpha within $bound ms while $who floods ($t ms)"
    if [ "$q1" -eq "$q0" ] && kill -0 "$pid" 2>/dev/null; then
        # Alpha read its HAVEs slower than its quota lets through (5,880 of one
        # key a second): the premise, a flood alpha reads, did not hold on this
        # loaded machine (seen once, under the sanitizers beside a second suite).
        ok 0 "# SKIP alpha read $who's HAVEs slower than its quota allows here: no flood to measure against"
        return
    fi
    kill -0 "$pid" 2>/dev/null && [ "$q1" -gt "$q0" ]
    ok $? "and $who flooded all along (still running; $((q1 - q0)) more HAVEs over its quota)"
}

block busy_notes 'a peer that keeps the node busy delays what an honest peer notes by 10 s at most, beyond the fetch grace'
b_busy_notes () {
    diag "SPEC.md: Wanted keys (no FETCH while messages wait unread, 10 s at most); PING and PONG"
    mallory_card
    [ -s "$T/mallet.card" ] || fake card --name mallet --keys "$T/mallet.keys" >"$T/mallet.card"
    for n in bravo charlie alpha; do fresh $n || diag "cannot init $n"; done
    anti_entropy alpha 1d # nothing but the notes brings bravo's records here
    im bravo peer add "$(cat "$T/mallory.card")" >/dev/null \
        && im alpha peer add "$(cat "$T/mallory.card")" >/dev/null \
        && im alpha peer add "$(cat "$T/mallet.card")" >/dev/null && link charlie alpha
    ok $? "charlie -> alpha and bravo -> mallory -> alpha; alpha trusts mallet too"
    start_node bravo && bpid=$NODE_PID && start_node charlie && cpid=$NODE_PID \
        && start_node alpha && apid=$NODE_PID
    ok $? "the three start"
    wait_for 300 connected alpha charlie; ok $? "alpha and charlie are connected"
    im bravo publish domain seed.bravo.example >/dev/null 2>&1
    mallory withhold --target "$(card_field alpha 5)" "$(card_field alpha 4)" \
        --source "$(card_field bravo 5)" "$(card_field bravo 4)" \
        --duration 110000 >"$T/busy-mallory.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    wait_for 300 holds alpha 1; ok $? "mallory brings alpha bravo's record first (its eager peer for bravo), then withholds"
    # Only now does charlie take bravo's records: alpha told it long since
    # (EAGER) to send the origins it is not eager for as keys only.
    link bravo charlie && wait_for 300 holds charlie 1
    ok $? "charlie, linked to bravo only now, holds bravo's record"
    keys_first_of () { peer_json "$1" "$2" | grep -q '"keys_first":true'; }
    wait_for 300 keys_first_of charlie alpha; ok $? "alpha asked charlie for keys only"
    bounded 120 "$MALLORY" --keys "$T/mallet.keys" --target "$(card_field alpha 5)" \
        "$(card_field alpha 4)" have-flood 10000000 --per 1 >"$T/busy-mallet.out" 2>&1 &
    fpid=$!; PIDS="$PIDS $fpid"
    # Published as soon as mallet is heard: the notes fall due (after the
    # fetch grace) while alpha is behind, and are held 10 s.
    wait_for 300 connected alpha mallet; ok $? "mallet is connected to alpha, and floods it"
    t0=$(ms)
    awk 'BEGIN { for (i = 0; i < 20; i++) printf "domain busy%d.bravo.example\n", i }' \
        | im bravo publish - >/dev/null 2>&1
    ok $? "bravo publishes 20 more"
    notes_within mallet "$fpid" "$t0" holds alpha 21
    [ "$(peer_num alpha charlie fetched)" -gt 0 ]
    ok $? "they were noted and fetched from charlie, not sent in full ($(peer_num alpha charlie fetched) fetched)"
    stop_ours "$fpid"; wait "$fpid" 2>/dev/null
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    for p in $bpid $cpid $apid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

# One peer that dials in and floods the peer socket must not make the node
# busy (SPEC "Wanted keys": "nor do peers that dial in"). The node's poller
# hands it the peer socket before any DEALER (zpoller returns the first socket
# ready, in the order added), so the flood could leave the pull links of the
# peers it dials unread, and those are most of its connected peers here
# (charlie and dave; mallory, the one that dials in, counts as not waiting).
# Mallory, bravo's eager peer at alpha, withholds and floods HAVEs of one key
# (as mallet does in busy_notes): bravo's records come to alpha only as
# charlie's notes. The bound is busy_notes': a node that held the FETCH 60 s
# (FETCH_BUSY_MAX_MS) fails here. DAVE_LOAD=N: dave publishes N first.
block busy_dialin 'one peer that dials in and floods does not make the node busy: an honest peer'\''s notes wait 10 s, not 60 s'
b_busy_dialin () {
    diag "SPEC.md: Wanted keys (busy: \"no one peer of two or more makes a node busy, nor do peers that dial in\")"
    mallory_card
    for n in bravo charlie dave alpha; do fresh $n || diag "cannot init $n"; done
    anti_entropy alpha 1d # nothing but the notes brings bravo's records here
    im bravo peer add "$(cat "$T/mallory.card")" >/dev/null \
        && im alpha peer add "$(cat "$T/mallory.card")" >/dev/null \
        && link charlie alpha && link dave alpha
    ok $? "charlie -> alpha <- dave, both dialled by alpha; bravo -> mallory -> alpha, mallory dials in"
    start_node bravo && bpid=$NODE_PID && start_node charlie && cpid=$NODE_PID \
        && start_node dave && dpid=$NODE_PID && start_node alpha && apid=$NODE_PID
    ok $? "the four start"
    wait_for 300 connected alpha charlie && wait_for 300 connected alpha dave
    ok $? "alpha is connected to charlie and dave"
    im bravo publish domain seed.bravo.example >/dev/null 2>&1
    mallory withhold --target "$(card_field alpha 5)" "$(card_field alpha 4)" \
        --source "$(card_field bravo 5)" "$(card_field bravo 4)" \
        --fake-have 10000000 --per 1 --duration 110000 >"$T/dialin-mallory.out" 2>&1 &
    mpid=$!; PIDS="$PIDS $mpid"
    wait_for 300 holds alpha 1
    ok $? "mallory brings alpha bravo's record first (its eager peer for bravo), then withholds and floods"
    link bravo charlie && wait_for 300 holds charlie 1
    ok $? "charlie, linked to bravo only now, holds bravo's record"
    keys_first_of () { peer_json "$1" "$2" | grep -q '"keys_first":true'; }
    wait_for 300 keys_first_of charlie alpha; ok $? "alpha asked charlie for keys only"
    if [ "${DAVE_LOAD:-0}" -gt 0 ]; then
        awk -v n="$DAVE_LOAD" 'BEGIN { for (i = 0; i < n; i++) printf "domain load%d.dave.example\n", i }' \
            | im dave publish - >/dev/null 2>&1
        diag "dave published $DAVE_LOAD (alpha takes them from dave in full)"
    fi
    t0=$(ms)
    awk 'BEGIN { for (i = 0; i < 20; i++) printf "domain dialin%d.bravo.example\n", i }' \
        | im bravo publish - >/dev/null 2>&1
    ok $? "bravo publishes 20 more"
    fetched_20 () { [ "$(peer_num alpha charlie fetched)" -ge 20 ]; }
    notes_within mallory "$mpid" "$t0" fetched_20
    diag "alpha holds $(status_num alpha records) in the end, $(($(ms) - t0)) ms after"
    stop_ours "$mpid"; wait "$mpid" 2>/dev/null
    for p in $bpid $cpid $dpid $apid; do stop_node "$p" || false; done; ok $? "the nodes stop"
}

run_blocks "$@"
