#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t10-cli-args.sh -- the intelmesh and intelmeshd command lines: bad arguments
# get a one-line error and the documented exit status, and never touch data.
. "$(dirname "$0")/lib.sh"

# exits EXPECTED DESCRIPTION COMMAND...: COMMAND exits with EXPECTED
exits () {
    want=$1; desc=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    [ "$got" -eq "$want" ]
    ok $? "$desc (exit $got)"
}
# one_line: the last command's error output is one line starting "intelmesh"
one_line () {
    [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^intelmesh' "$T/err"
    ok $? "$1"
}

D="$T/node"

block usage 'usage errors and --help of intelmesh and intelmeshd'
b_usage () {
    exits 2 "intelmesh without a command is a usage error" "$INTELMESH"
    exits 2 "an unknown command is a usage error" "$INTELMESH" frobnicate
    one_line "and says so in one line"
    exits 0 "intelmesh --help succeeds" "$INTELMESH" --help
    grep -q publish "$T/out"; ok $? "--help lists the commands"
    for cmd in init id status publish revoke lookup list tail explain; do
        exits 0 "intelmesh $cmd --help succeeds" "$INTELMESH" "$cmd" --help
        grep -q "Usage: intelmesh $cmd" "$T/out"; ok $? "intelmesh $cmd --help shows its usage"
    done
    exits 0 "intelmeshd --help succeeds" "$INTELMESHD" --help
    exits 2 "intelmeshd refuses an unknown option" "$INTELMESHD" --frobnicate
    exits 1 "intelmeshd refuses a directory with no node" "$INTELMESHD" -d "$T/none" --foreground
    grep -q "intelmesh init" "$T/err"; ok $? "and hints at 'intelmesh init'"
}

block init 'init refuses bad names and endpoints, creates a node, never overwrites one'
b_init () {
    exits 2 "init refuses a bad name" "$INTELMESH" init -d "$D" --name "bad name"
    exits 2 "init refuses a bad listen endpoint" "$INTELMESH" init -d "$D" --listen "udp://x"
    exits 2 "init refuses a bad pub endpoint" "$INTELMESH" init -d "$D" --pub "nowhere"
    [ ! -e "$D" ]; ok $? "a refused init creates nothing"
    exits 0 "init creates a node" "$INTELMESH" init -d "$D" --name alpha \
        --listen "tcp://127.0.0.1:$(free_port)" --pub "ipc://$D/pub.sock"
    exits 1 "init refuses to overwrite a node" "$INTELMESH" init -d "$D" --name beta
    one_line "and says so in one line"
    grep -q 'name = "alpha"' "$D/intelmesh.conf"; ok $? "the refused init left the config alone"
    INTELMESH_DIR="$D" "$INTELMESH" id >"$T/out" 2>&1; ok $? "INTELMESH_DIR selects the node"
    grep -q '^intelmesh1 alpha ' "$T/out"; ok $? "id prints the card"
}

block ioc_args 'publish, lookup, revoke, list and tail refuse bad arguments' init
b_ioc_args () {
    exits 2 "publish without arguments is a usage error" "$INTELMESH" -d "$D" publish
    exits 2 "publish with one argument is a usage error" "$INTELMESH" -d "$D" publish ipv4
    exits 2 "publish refuses an unknown TLP" "$INTELMESH" -d "$D" publish --tlp purple ipv4 1.2.3.4
    grep -q "tlp" "$T/err"; ok $? "naming the option"
    exits 2 "publish refuses confidence 101" "$INTELMESH" -d "$D" publish --confidence 101 ipv4 1.2.3.4
    exits 2 "publish refuses reach -1" "$INTELMESH" -d "$D" publish --reach -1 ipv4 1.2.3.4
    exits 2 "publish refuses a bad time" "$INTELMESH" -d "$D" publish --valid-until soon ipv4 1.2.3.4
    exits 1 "publish refuses 999.1.1.1 as ipv4" "$INTELMESH" -d "$D" publish ipv4 999.1.1.1
    grep -q "value: '999.1.1.1' is not an IPv4 address" "$T/err"; ok $? "naming the field and why"
    exits 1 "publish refuses a 31-digit md5" "$INTELMESH" -d "$D" publish md5 0123456789abcdef0123456789abcde
    exits 2 "publish refuses an unknown type (a bad argument)" "$INTELMESH" -d "$D" publish colour red
    exits 1 "publish refuses an empty value" "$INTELMESH" -d "$D" publish domain ""
    exits 2 "lookup without a value is a usage error" "$INTELMESH" -d "$D" lookup
    exits 2 "lookup refuses an invalid value" "$INTELMESH" -d "$D" lookup --type ipv4 300.1.1.1
    exits 2 "revoke without an id is a usage error" "$INTELMESH" -d "$D" revoke
    exits 2 "revoke refuses something that is not an id" "$INTELMESH" -d "$D" revoke 12345
    exits 2 "list refuses an unknown type" "$INTELMESH" -d "$D" list --type colour
    exits 2 "list refuses a bad origin" "$INTELMESH" -d "$D" list --origin xyz
    exits 2 "tail refuses a bad count" "$INTELMESH" -d "$D" tail --count 0
}

block policy_args 'policy and peer commands refuse bad input and keep the file' init
b_policy_args () {
    # Sharing policy (SPEC "Sharing policy"): bad input is refused, the file kept.
    conf_sum () { md5sum <"$D/intelmesh.conf"; }
    before=$(conf_sum)
    for sub in "policy set" "policy list" "policy show" "policy remove" "peer set" "peer sent"; do
        exits 0 "intelmesh $sub --help succeeds" "$INTELMESH" -d "$D" $sub --help
        grep -q "Usage: intelmesh $sub" "$T/out"; ok $? "intelmesh $sub --help shows its usage"
    done
    exits 2 "policy without a subcommand is a usage error" "$INTELMESH" -d "$D" policy
    exits 2 "policy refuses an unknown subcommand" "$INTELMESH" -d "$D" policy frob
    one_line "and says so in one line"
    exits 2 "policy set needs a rule" "$INTELMESH" -d "$D" policy set partners
    exits 2 "policy set refuses a rule without '='" "$INTELMESH" -d "$D" policy set partners max-tlp
    exits 2 "policy set refuses max-tlp=red" "$INTELMESH" -d "$D" policy set partners max-tlp=red
    grep -q "named recipients" "$T/err"; ok $? "saying RED goes only to named recipients"
    exits 2 "policy set refuses an unknown label" "$INTELMESH" -d "$D" policy set partners max-tlp=purple
    exits 2 "policy set refuses an unknown type" "$INTELMESH" -d "$D" policy set partners types=ipv4,colour
    grep -q "colour" "$T/err"; ok $? "naming the type"
    exits 2 "policy set refuses an unknown rule" "$INTELMESH" -d "$D" policy set partners colour=red
    exits 2 "policy set refuses min-confidence=101" "$INTELMESH" -d "$D" policy set partners min-confidence=101
    exits 2 "policy set refuses a bad policy name" "$INTELMESH" -d "$D" policy set "bad name" relay=no
    exits 1 "policy set refuses a contradiction" "$INTELMESH" -d "$D" policy set partners types=ipv4 deny-types=ipv4
    grep -q "intelmesh.conf:[0-9]*: policy partners: type ipv4 is both" "$T/err"; ok $? "naming the line and the rule"
    exits 1 "policy set refuses relay origins that are not peers" "$INTELMESH" -d "$D" policy set partners relay-origins=nobody
    [ "$(conf_sum)" = "$before" ]; ok $? "refused changes leave intelmesh.conf as it was"
    exits 1 "policy show of an unknown policy fails" "$INTELMESH" -d "$D" policy show nothing
    exits 1 "policy remove of an unknown policy fails" "$INTELMESH" -d "$D" policy remove nothing
    exits 0 "policy show default works without a daemon" "$INTELMESH" -d "$D" policy show default
    grep -q "max-tlp *green" "$T/out"; ok $? "and the default stops at TLP:GREEN"
    exits 2 "peer set needs something to set" "$INTELMESH" -d "$D" peer set bravo
    exits 2 "peer set refuses accept=sometimes" "$INTELMESH" -d "$D" peer set bravo --accept sometimes
    exits 2 "peer set refuses a negative rate" "$INTELMESH" -d "$D" peer set bravo --rate -1
    exits 1 "peer set of an unknown peer fails" "$INTELMESH" -d "$D" peer set bravo --policy default
    grep -q "no peer named bravo" "$T/err"; ok $? "saying there is no such peer"
    exits 2 "peer sent needs a peer" "$INTELMESH" -d "$D" peer sent
    exits 2 "peer sent refuses a bad time" "$INTELMESH" -d "$D" peer sent bravo --since soon
    exits 2 "explain needs an id and a peer" "$INTELMESH" -d "$D" explain 00000000-0000-4000-8000-000000000000
    exits 2 "explain refuses something that is neither an id nor a value of its type" "$INTELMESH" -d "$D" explain --type ipv4 12345 bravo
    exits 2 "publish --to refuses nothing" "$INTELMESH" -d "$D" publish --to "" ipv4 1.2.3.4 </dev/null
    [ "$(conf_sum)" = "$before" ]; ok $? "intelmesh.conf is still as it was"
}

block no_daemon 'commands that need the daemon say it is not running' init
b_no_daemon () {
    # Commands that need the daemon say so in one line when it is not running.
    exits 3 "lookup without a daemon exits 3 (not 1, which means not found)" \
        "$INTELMESH" -d "$D" lookup 1.2.3.4
    for cmd in "status" "publish ipv4 1.2.3.4" "lookup 1.2.3.4" "list" "tail" "revoke 00000000-0000-4000-8000-000000000000"; do
        "$INTELMESH" -d "$D" $cmd >"$T/out" 2>"$T/err"
        [ $? -ne 0 ]; ok $? "$cmd without a daemon fails"
        grep -q "intelmeshd is not running" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]
        ok $? "$cmd without a daemon says it is not running, in one line"
    done
}

block daemon 'one daemon a directory; SIGTERM stops it and removes its socket' init
b_daemon () {
    start_node node; ok $? "the daemon starts"
    first=$NODE_PID
    exits 1 "a second daemon on the same directory is refused" "$INTELMESHD" -d "$D" --foreground
    grep -q "already running" "$T/err"; ok $? "saying that one already runs"
    kill -0 "$first"; ok $? "the first daemon is still running"
    stop_node "$first"; ok $? "the daemon stops on SIGTERM"
    [ ! -e "$D/control.sock" ]; ok $? "and removes its control socket"
}

block detach 'the daemon detaches once ready' init
b_detach () {
    # Background mode: the start command returns once the node is ready.
    bounded 60 "$INTELMESHD" -d "$D" 2>"$T/err"; ok $? "intelmeshd detaches when ready"
    pid=$(cat "$D/intelmeshd.pid"); PIDS="$PIDS $pid"
    "$INTELMESH" -d "$D" status >/dev/null; ok $? "the detached daemon answers at once"
    stop_node "$pid"; ok $? "the detached daemon stops on SIGTERM"
}

block heartbeat 'a heartbeat of 0 is refused at start' init
b_heartbeat () {
    sed -i 's/^    heartbeat = 5$/    heartbeat = 0/' "$D/intelmesh.conf"
    exits 1 "intelmeshd refuses a config with heartbeat 0" "$INTELMESHD" -d "$D" --foreground
    grep -q "pub/heartbeat" "$T/err"; ok $? "naming the setting"
}

run_blocks "$@"
