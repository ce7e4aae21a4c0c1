#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t90-operator-walkthrough.sh -- what README.md and intelmesh(1) tell a new
# operator, in order, on three nodes in a line (alpha - bravo - charlie):
# init, cards, trust lists, a policy, start, status, publish, reach by TLP and
# policy, explain, update, revoke, import, export, tail, stop and restart.
. "$(dirname "$0")/lib.sh"

# The commands as README shows them: intelmeshd detaches once ready, and
# its PID is read from its pid file (stopped by lib.sh's cleanup). A port
# taken meanwhile by another program is another port (lib.sh's move_port).
start_daemon () {
    tries=5
    while :; do
        logged=$(cat "$T/$1.log" 2>/dev/null | wc -l)
        if bounded 120 "$INTELMESHD" -d "$T/$1" 2>>"$T/$1.log"; then
            NODE_PID=$(cat "$T/$1/intelmeshd.pid")
            PIDS="$PIDS $NODE_PID"
            eval "NODE_PID_$1=\$NODE_PID"
            return 0
        fi
        tail -n "+$((logged + 1))" "$T/$1.log" | grep -q "Address already in use" || return 1
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] && move_port "$1" || return 1
        diag "$1: its port was taken meanwhile; now on $(listen_port "$1")"
    done
}
# connected NODE PEER: NODE's status shows PEER connected.
connected () { im "$1" status | grep -Eq "^  $2 +connected "; }
# gone PID: PID has exited (a detached daemon may stay a zombie until its
# new parent reaps it).
gone () {
    kill -0 "$1" 2>/dev/null || return 0
    [ "$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
# holds NODE VALUE TEXT: NODE's lookup of VALUE prints TEXT.
holds () { im "$1" lookup "$2" 2>&1 | grep -q -F -- "$3"; }
CARD_RE='^intelmesh1 [a-z]+ [0-9a-f]{64} [0-9a-f]{64} tcp://127\.0\.0\.1:[0-9]+$'

block init 'intelmesh init as README shows; the feed is private ipc://DIR/pub.sock'
b_init () {
    for n in alpha bravo charlie; do
        im "$n" init --name "$n" --listen "tcp://127.0.0.1:$(free_port)" >"$T/init.$n" 2>&1
        grep -q "^Initialised node '$n' in $T/$n\$" "$T/init.$n" \
            && tail -n 1 "$T/init.$n" | grep -Eq "$CARD_RE"
        ok $? "init $n says so and prints its card"
        grep -q "^    endpoint = \"ipc://$T/$n/pub.sock\"\$" "$T/$n/intelmesh.conf"
        ok $? "$n's default feed is ipc://DIR/pub.sock"
    done
    [ "$(stat -c %a "$T/alpha")" = 700 ] && [ "$(stat -c %a "$T/alpha/keys/node.secret")" = 600 ]
    ok $? "the data directory is 0700 and the secret key 0600"
}

block cards 'id prints the card; peer add both ways on each link' init
b_cards () {
    for n in alpha bravo charlie; do
        im "$n" id >"$T/card.$n"
        grep -Eq "$CARD_RE" "$T/card.$n" && [ "$(wc -l <"$T/card.$n")" = 1 ] \
            && [ "$(cat "$T/card.$n")" = "$(tail -n 1 "$T/init.$n")" ]
        ok $? "id prints $n's card on one line, as init did"
    done
    im alpha id --json | grep -q "\"name\":\"alpha\",\"node\":\"[0-9a-f]\{64\}\""
    ok $? "id --json names the node"
    for link in alpha:bravo bravo:alpha bravo:charlie charlie:bravo; do
        a=${link%:*} b=${link#*:}
        im "$a" peer add "$(cat "$T/card.$b")" >"$T/out" 2>&1
        grep -q "^added $b to the trust list, dialling tcp://127.0.0.1:" "$T/out" \
            && grep -q "not running: the change applies when it starts" "$T/out"
        ok $? "$a: peer add $b says it is added, and applies at start"
    done
    im bravo peer add "$(cat "$T/card.bravo")" >"$T/out" 2>&1
    [ $? -ne 0 ] && grep -q "^intelmesh: peer add: " "$T/out"
    ok $? "a node's own card is refused with one line"
}

block policy 'alpha clears bravo for AMBER; bravo gives charlie GREEN, not internal' cards
b_policy () {
    im alpha policy set partners max-tlp=amber >"$T/out" 2>&1
    grep -q "^policy partners set" "$T/out"; ok $? "alpha: policy set partners max-tlp=amber"
    im alpha peer set bravo --policy partners >"$T/out" 2>&1
    grep -q "^peer bravo set" "$T/out"; ok $? "alpha: peer set bravo --policy partners"
    im bravo policy set onward max-tlp=green deny-tags=internal >"$T/out" 2>&1
    grep -q "^policy onward set" "$T/out"; ok $? "bravo: policy set onward max-tlp=green deny-tags=internal"
    im bravo peer set charlie --policy onward >"$T/out" 2>&1
    grep -q "^peer charlie set" "$T/out"; ok $? "bravo: peer set charlie --policy onward"
    im bravo policy show onward >"$T/out" 2>&1
    grep -q "amber" "$T/out"; [ $? -ne 0 ] && grep -q "green" "$T/out" && grep -q "internal" "$T/out" \
        && grep -q "charlie" "$T/out"
    ok $? "policy show onward: green, deny internal, used by charlie"
}

block start 'intelmeshd -d DIR detaches once ready; status shows peers connected' policy
b_start () {
    for n in alpha bravo charlie; do
        start_daemon "$n"; ok $? "intelmeshd -d $n returns with the node running"
    done
    [ "$(stat -c %a "$T/alpha/pub.sock")" = 660 ]; ok $? "the feed socket is mode 0660"
    im alpha status >"$T/out"
    grep -q "^local feed  ipc://$T/alpha/pub.sock\$" "$T/out"; ok $? "status names the local feed"
    grep -q "^node        alpha  [0-9a-f]\{64\}\$" "$T/out"; ok $? "status names the node"
    wait_for 600 connected alpha bravo; ok $? "alpha's status shows bravo connected"
    wait_for 600 connected bravo alpha && wait_for 600 connected bravo charlie
    ok $? "bravo's status shows alpha and charlie connected"
    wait_for 600 connected charlie bravo; ok $? "charlie's status shows bravo connected"
    im bravo peer list >"$T/out"
    grep -A3 "^peer charlie" "$T/out" | grep -q "state  *connected"; ok $? "peer list: charlie connected"
}

block publish 'publish: documentation values warn, private ones are refused' start
b_publish () {
    AMBER=$(im alpha publish ipv4 203.0.113.5 --tlp amber --tag c2 --confidence 80 2>"$T/err")
    [ ${#AMBER} -eq 36 ]; ok $? "publish prints the new id"
    grep -q "^intelmesh: publish: warning: '203.0.113.5' is on the built-in list 'documentation' (RFC 5737" "$T/err"
    ok $? "a documentation address is published with a warning"
    INTERNAL=$(im alpha publish domain relay.example.net --tag internal 2>"$T/err")
    [ ${#INTERNAL} -eq 36 ] && grep -q "'documentation' (RFC 2606" "$T/err"
    ok $? "a GREEN domain tagged internal is published, with a warning"
    GREEN=$(im alpha publish domain evil.example --tlp green --tag c2 2>"$T/err")
    [ ${#GREEN} -eq 36 ] && grep -q "'documentation' (RFC 6761, entry example)" "$T/err"
    ok $? "a GREEN domain under example is published, with a warning"
    im alpha publish ipv4 10.1.2.3 >"$T/out" 2>"$T/err"; rc=$?
    [ $rc -eq 1 ] && [ ! -s "$T/out" ] \
        && grep -q "^intelmesh: publish: refused: value: '10.1.2.3' is on the built-in list 'private-use' (RFC 1918, entry 10.0.0.0/8): --force publishes it anyway\$" "$T/err"
    ok $? "a private address is refused, naming the list, the RFC and --force"
    im alpha lookup 203.0.113.5 >"$T/out"; rc=$?
    [ $rc -eq 0 ] && grep -q "^ipv4 203.0.113.5  TLP:AMBER  confidence 80  origin alpha (this node)\|^ipv4 203.0.113.5  TLP:AMBER  confidence 80  origin alpha " "$T/out"
    ok $? "lookup on alpha finds it, with label, confidence and origin"
}

block reach 'GREEN crosses two links; AMBER and what the policy denies stay one hop' publish
b_reach () {
    wait_for 600 holds charlie evil.example "TLP:GREEN"; ok $? "the GREEN indicator reaches charlie, two links away"
    im charlie lookup evil.example >"$T/out"
    grep -q "^domain evil.example  TLP:GREEN .* id $GREEN  v1  tags c2\$" "$T/out"
    ok $? "charlie holds it with alpha's id and tags"
    wait_for 600 holds bravo 203.0.113.5 "TLP:AMBER"; ok $? "the AMBER indicator reaches bravo"
    wait_for 600 holds bravo relay.example.net "TLP:GREEN"; ok $? "so does the GREEN one tagged internal"
    # published before evil.example, so already considered for charlie
    im charlie lookup 203.0.113.5 >"$T/out"; rc=$?
    [ $rc -eq 1 ] && grep -q "^ipv4 203.0.113.5: not known\$" "$T/out"
    ok $? "the AMBER indicator does not reach charlie"
    im charlie lookup relay.example.net >"$T/out"; rc=$?
    [ $rc -eq 1 ] && grep -q "not known" "$T/out"
    ok $? "the one tagged internal does not reach charlie"
}

block explain 'explain VALUE PEER says why, or why not' reach
b_explain () {
    im alpha explain 203.0.113.5 bravo >"$T/out"; rc=$?
    [ $rc -eq 0 ] && grep -q "^sent: TLP:AMBER, and policy 'partners' allows it\$" "$T/out" \
        && grep -q "^sent to bravo: version 1 at 20" "$T/out"
    ok $? "alpha: the AMBER one goes to bravo under policy partners"
    im bravo explain 203.0.113.5 charlie >"$T/out"; rc=$?
    [ $rc -eq 1 ] && grep -q "^not sent: TLP:AMBER and this node is not its origin" "$T/out" \
        && grep -q "^never sent to charlie\$" "$T/out" && grep -q "^origin alpha\$" "$T/out"
    ok $? "bravo: the AMBER one does not go to charlie, as bravo is not its origin"
    im bravo explain relay.example.net charlie >"$T/out"; rc=$?
    [ $rc -eq 1 ] && grep -q "^not sent: .*internal" "$T/out" && grep -q "onward" "$T/out"
    ok $? "bravo: the internal one is kept back by policy onward's deny-tags"
    im bravo explain evil.example charlie >"$T/out"; rc=$?
    [ $rc -eq 0 ] && grep -q "^sent: TLP:GREEN, and policy 'onward' allows it\$" "$T/out" \
        && grep -q "^held 1 link(s) from its origin" "$T/out"
    ok $? "bravo: the GREEN one goes to charlie under policy onward"
}

block update 're-publishing without --tlp keeps the label; a downgrade is refused' explain
b_update () {
    id=$(im alpha publish ipv4 203.0.113.5 --confidence 90 2>"$T/err")
    [ "$id" = "$AMBER" ] && grep -q "^intelmesh: publish: this node had published that value already: updated it (confidence)\$" "$T/err"
    ok $? "publishing the value again updates the same indicator, naming what changed"
    im alpha lookup --json 203.0.113.5 >"$T/out"
    grep -q '"version":2,' "$T/out" && grep -q '"tlp":"amber","confidence":90,' "$T/out"
    ok $? "it is version 2, still AMBER, confidence 90"
    wait_for 600 holds bravo 203.0.113.5 "TLP:AMBER  confidence 90"
    ok $? "bravo gets version 2, still AMBER"
    im alpha publish ipv4 203.0.113.5 --tlp green >"$T/out" 2>"$T/err"; rc=$?
    [ $rc -eq 1 ] && [ ! -s "$T/out" ] && grep -qi "tlp" "$T/err" && grep -q -- "--allow-downgrade" "$T/err"
    ok $? "lowering the label without --allow-downgrade is refused, naming the field"
    im alpha lookup --json 203.0.113.5 | grep -q '"version":2,.*"tlp":"amber"'
    ok $? "and the stored version stays"
}

block revoke 'revoke; lookup says revoked by whom and when, on every node' update
b_revoke () {
    im alpha revoke "$GREEN" >"$T/out"
    grep -q "^$GREEN revoked\$" "$T/out"; ok $? "revoke prints the id and revoked"
    im alpha lookup evil.example >"$T/out"; rc=$?
    [ $rc -eq 1 ] && grep -q "^domain evil.example: revoked by this node at 20[0-9-]*T[0-9:]*Z  id $GREEN\$" "$T/out"
    ok $? "alpha: lookup says revoked by this node at TIME, and exits 1"
    wait_for 600 holds bravo evil.example "revoked by"; ok $? "the revocation reaches bravo"
    im bravo lookup evil.example >"$T/out"; rc=$?
    [ $rc -eq 1 ] && grep -q "^domain evil.example: revoked by alpha at 20[0-9-]*T[0-9:]*Z  id $GREEN\$" "$T/out"
    ok $? "bravo: lookup says revoked by alpha at TIME, and exits 1"
    wait_for 600 holds charlie evil.example "revoked by"; ok $? "the revocation reaches charlie"
    im charlie lookup evil.example >"$T/out"; rc=$?
    [ $rc -eq 1 ] && grep -q "^domain evil.example: revoked by .* at 20[0-9-]*T[0-9:]*Z  id $GREEN\$" "$T/out"
    ok $? "charlie: lookup says revoked by its origin at TIME, and exits 1"
}

block import 'import a CSV file and a STIX bundle' start
b_import () {
    printf 'type,value,tlp,tags\nipv4,198.51.100.7,green,csvtag\ndomain,csv.example.net,green,csvtag\n' >"$T/list.csv"
    cat >"$T/bundle.json" <<'EOF'
{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
 "created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","labels":["stixtag"],
 "pattern":"[domain-name:value = 'stix.example.org'] OR [url:value = 'http://stix.example.org/x']",
 "pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},
{"type":"identity","spec_version":"2.1","id":"identity--0f3c1c3f-2d3e-4f5a-9b6c-7d8e9f0a1b2c",
 "created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","name":"CERT-XX"}]}
EOF
    im alpha import --dry-run "$T/list.csv" "$T/bundle.json" >"$T/out" 2>"$T/err"
    grep -q "^imported  4\$" "$T/out"; ok $? "import --dry-run counts 4 indicators"
    im alpha lookup 198.51.100.7 >/dev/null; [ $? -eq 1 ]; ok $? "and stores nothing"
    im alpha import "$T/list.csv" "$T/bundle.json" >"$T/out" 2>"$T/err"; rc=$?
    [ $rc -eq 0 ] && grep -q "^imported  4\$" "$T/out" && grep -q "^refused   0\$" "$T/out"
    ok $? "import of a CSV file and a STIX bundle: 4 imported, none refused"
    holds alpha 198.51.100.7 "tags csvtag" && holds alpha stix.example.org "id 8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    ok $? "lookup finds them; the STIX id is kept"
    im alpha import "$T/bundle.json" >"$T/out" 2>"$T/err"
    grep -q "^unchanged 2\$" "$T/out" && grep -q "^imported  0\$" "$T/out"
    ok $? "importing the bundle again duplicates nothing"
    wait_for 600 holds charlie stix.example.org "TLP:GREEN"; ok $? "imported GREEN indicators reach charlie"
}

block export 'export STIX and CSV hold the imported values' import
b_export () {
    im alpha export --format stix -o "$T/all.json" 2>"$T/err"; rc=$?
    [ $rc -eq 0 ] && grep -q '^{"type":"bundle"' "$T/all.json" \
        && grep -q "\[domain-name:value = 'stix.example.org'\]" "$T/all.json" \
        && grep -q "\[ipv4-addr:value = '198.51.100.7'\]" "$T/all.json" \
        && grep -q '"id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"' "$T/all.json" \
        && interop_valid stix "$T/all.json"
    ok $? "export --format stix -o FILE holds the imported values and the STIX id, and passes the OASIS schemas"
    grep -q "^exported [0-9]* indicator(s) as stix to $T/all.json\$" "$T/err"; ok $? "and says how many, and where"
    im alpha export --format csv >"$T/all.csv" 2>/dev/null
    head -n 1 "$T/all.csv" | grep -q "^id,origin,type,value,tlp," \
        && grep -q ",domain,csv.example.net,green,.*,csvtag," "$T/all.csv" \
        && grep -q ",url,http://stix.example.org/x,green," "$T/all.csv"
    ok $? "export --format csv holds them, with import's columns"
    im alpha export --format stix --tlp-max green -o "$T/public.json" 2>/dev/null
    grep -q "198.51.100.7" "$T/public.json" && ! grep -q "203.0.113.5" "$T/public.json" \
        && interop_valid stix "$T/public.json"
    ok $? "export --tlp-max green keeps the AMBER indicator out (a valid bundle)"
    grep -q "^ipv4,198.51.100.7," <(cut -d, -f3- "$T/all.csv"); ok $? "the CSV's value column"
}

block tail 'intelmesh tail reads the local feed' start
b_tail () {
    im alpha tail --timeout 120 >"$T/feed" 2>"$T/feed.err" &
    tail_pid=$!; PIDS="$PIDS $tail_pid"
    wait_for 600 grep -q '"topic":"node.heartbeat"' "$T/feed"; ok $? "tail receives the heartbeat"
    im alpha publish url http://tail.example.com/x --tlp clear >/dev/null 2>&1
    wait_for 600 grep -q 'tail.example.com' "$T/feed"
    ok $? "tail receives what is published"
    grep -q '^{"topic":"ioc.url.clear","data":{"id":"[0-9a-f-]\{36\}","origin":"[0-9a-f]\{64\}",.*"value":"http://tail.example.com/x"' "$T/feed"
    ok $? "as a JSON line with topic ioc.TYPE.TLP"
    stop_ours "$tail_pid"
    im alpha tail --count 1 --timeout 120 ioc.domain. >"$T/feed2" 2>&1 &
    tail_pid=$!; PIDS="$PIDS $tail_pid"
    # live only: publish until the subscriber has seen one (bounded)
    i=0
    while [ $i -lt 60 ] && kill -0 "$tail_pid" 2>/dev/null; do
        im alpha publish domain "t$i.tail.example.org" >/dev/null 2>&1
        i=$((i + 1))
        sleep 0.5
    done
    wait_gone "$tail_pid" 300
    grep -q '"topic":"ioc.domain.green"' "$T/feed2" && [ "$(wc -l <"$T/feed2")" = 1 ]
    ok $? "tail --count 1 ioc.domain. prints one domain and stops"
}

block restart 'intelmesh stop; the node restarts with its data and reconnects' revoke import
b_restart () {
    # Everything alpha published so far is at bravo once the last one is.
    im alpha publish domain before-stop.example.org >/dev/null 2>&1
    wait_for 600 holds bravo before-stop.example.org "TLP:GREEN"; ok $? "bravo is up to date"
    before=$(im bravo status | grep '^indicators ')
    im bravo stop >"$T/out" 2>&1; rc=$?
    [ $rc -eq 0 ] && grep -q "^intelmeshd (pid $NODE_PID_bravo) stopped\$" "$T/out"
    ok $? "intelmesh stop stops bravo and says so"
    gone "$NODE_PID_bravo"; ok $? "its process is gone"
    PIDS=$(echo " $PIDS " | sed "s/ $NODE_PID_bravo / /")
    im bravo status >"$T/out" 2>&1; rc=$?
    [ $rc -eq 1 ] && grep -q "intelmeshd is not running on $T/bravo (start it with 'intelmeshd -d $T/bravo')" "$T/out"
    ok $? "status says it is not running and how to start it"
    im bravo stop >"$T/out" 2>&1; rc=$?
    [ $rc -eq 0 ] && grep -qi "not running" "$T/out"; ok $? "stop again says none was running"
    start_daemon bravo; ok $? "bravo starts again"
    [ "$(im bravo status | grep '^indicators ')" = "$before" ]; ok $? "with the same indicators ($before)"
    holds bravo 203.0.113.5 "TLP:AMBER  confidence 90" && holds bravo evil.example "revoked by alpha"
    ok $? "its data: the AMBER update and the revocation"
    wait_for 600 connected bravo alpha && wait_for 600 connected bravo charlie
    ok $? "bravo reconnects to alpha and charlie"
    im alpha publish domain after-restart.example.org --tlp green >/dev/null 2>&1
    wait_for 600 holds charlie after-restart.example.org "TLP:GREEN"
    ok $? "a new GREEN indicator crosses bravo to charlie again"
}

block typo 'a mistyped command or subcommand gets did you mean' init
b_typo () {
    im alpha stauts >"$T/out" 2>&1; rc=$?
    [ $rc -eq 2 ] && grep -q "^intelmesh: unknown command 'stauts': did you mean 'status'?" "$T/out"
    ok $? "stauts: did you mean 'status'?"
    im alpha peer lsit >"$T/out" 2>&1; rc=$?
    [ $rc -eq 2 ] && grep -q "unknown subcommand 'lsit'.*did you mean 'list'?" "$T/out"
    ok $? "peer lsit: did you mean 'list'?"
}

run_blocks "$@"
