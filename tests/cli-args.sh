#!/bin/bash
# cli-args.sh -- the intelmesh and intelmeshd command lines: bad arguments
# get a one-line error and the documented exit status, and never touch data.
. "${top_srcdir:-.}/tests/lib.sh"

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
exits 2 "intelmesh without a command is a usage error" "$INTELMESH"
exits 2 "an unknown command is a usage error" "$INTELMESH" frobnicate
one_line "and says so in one line"
exits 0 "intelmesh --help succeeds" "$INTELMESH" --help
grep -q publish "$T/out"; ok $? "--help lists the commands"
for cmd in init id status publish revoke lookup list tail; do
    exits 0 "intelmesh $cmd --help succeeds" "$INTELMESH" "$cmd" --help
    grep -q "Usage: intelmesh $cmd" "$T/out"; ok $? "intelmesh $cmd --help shows its usage"
done
exits 0 "intelmeshd --help succeeds" "$INTELMESHD" --help
exits 2 "intelmeshd refuses an unknown option" "$INTELMESHD" --frobnicate
exits 1 "intelmeshd refuses a directory with no node" "$INTELMESHD" -d "$T/none" --foreground
grep -q "intelmesh init" "$T/err"; ok $? "and hints at 'intelmesh init'"

exits 2 "init refuses a bad name" "$INTELMESH" init -d "$D" --name "bad name"
exits 2 "init refuses a bad listen endpoint" "$INTELMESH" init -d "$D" --listen "udp://x"
exits 2 "init refuses a bad pub endpoint" "$INTELMESH" init -d "$D" --pub "nowhere"
[ ! -e "$D" ]; ok $? "a refused init creates nothing"
exits 0 "init creates a node" "$INTELMESH" init -d "$D" --name alpha --pub "ipc://$D/pub.sock"
exits 1 "init refuses to overwrite a node" "$INTELMESH" init -d "$D" --name beta
one_line "and says so in one line"
grep -q 'name = "alpha"' "$D/intelmesh.conf"; ok $? "the refused init left the config alone"
INTELMESH_DIR="$D" "$INTELMESH" id >"$T/out" 2>&1; ok $? "INTELMESH_DIR selects the node"
grep -q '^intelmesh1 alpha ' "$T/out"; ok $? "id prints the card"

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
exits 1 "publish refuses an unknown type" "$INTELMESH" -d "$D" publish colour red
exits 1 "publish refuses an empty value" "$INTELMESH" -d "$D" publish domain ""
exits 2 "lookup without a value is a usage error" "$INTELMESH" -d "$D" lookup
exits 2 "lookup refuses an invalid value" "$INTELMESH" -d "$D" lookup --type ipv4 300.1.1.1
exits 2 "revoke without an id is a usage error" "$INTELMESH" -d "$D" revoke
exits 2 "revoke refuses something that is not an id" "$INTELMESH" -d "$D" revoke 12345
exits 2 "list refuses an unknown type" "$INTELMESH" -d "$D" list --type colour
exits 2 "list refuses a bad origin" "$INTELMESH" -d "$D" list --origin xyz
exits 2 "tail refuses a bad count" "$INTELMESH" -d "$D" tail --count 0

# Commands that need the daemon say so in one line when it is not running.
exits 3 "lookup without a daemon exits 3 (not 1, which means not found)" \
    "$INTELMESH" -d "$D" lookup 1.2.3.4
for cmd in "status" "publish ipv4 1.2.3.4" "lookup 1.2.3.4" "list" "tail" "revoke 00000000-0000-4000-8000-000000000000"; do
    "$INTELMESH" -d "$D" $cmd >"$T/out" 2>"$T/err"
    [ $? -ne 0 ]; ok $? "$cmd without a daemon fails"
    grep -q "intelmeshd is not running" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]
    ok $? "$cmd without a daemon says it is not running, in one line"
done

start_node node; ok $? "the daemon starts"
first=$NODE_PID
exits 1 "a second daemon on the same directory is refused" "$INTELMESHD" -d "$D" --foreground
grep -q "already running" "$T/err"; ok $? "saying that one already runs"
kill -0 "$first"; ok $? "the first daemon is still running"
stop_node "$first"; ok $? "the daemon stops on SIGTERM"
[ ! -e "$D/control.sock" ]; ok $? "and removes its control socket"

# Background mode: the start command returns once the node is ready.
"$INTELMESHD" -d "$D" 2>"$T/err"; ok $? "intelmeshd detaches when ready"
pid=$(cat "$D/intelmeshd.pid"); PIDS="$PIDS $pid"
"$INTELMESH" -d "$D" status >/dev/null; ok $? "the detached daemon answers at once"
stop_node "$pid"; ok $? "the detached daemon stops on SIGTERM"

sed -i 's/^    heartbeat = 5$/    heartbeat = 0/' "$D/intelmesh.conf"
exits 1 "intelmeshd refuses a config with heartbeat 0" "$INTELMESHD" -d "$D" --foreground
grep -q "pub/heartbeat" "$T/err"; ok $? "naming the setting"
done_testing
