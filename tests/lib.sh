# lib.sh -- shared helpers for intelmesh's integration tests: TAP output, a
# private temporary directory, and nodes started and stopped by PID with
# bounded waits. Sourced by tests/*.sh; expects INTELMESH and INTELMESHD.

set -u
: "${INTELMESH:=$(pwd)/tools/intelmesh}"
: "${INTELMESHD:=$(pwd)/node/intelmeshd}"

T=$(mktemp -d "${TMPDIR:-/tmp}/intelmesh-test.XXXXXX") || exit 99
tap_n=0
tap_failed=0
PIDS=""

cleanup () {
    for p in $PIDS; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $PIDS; do
        wait_gone "$p" 50 || kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok () {  # ok STATUS DESCRIPTION: STATUS 0 passes
    tap_n=$((tap_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $tap_n - $2"
    else
        echo "not ok $tap_n - $2"
        tap_failed=$((tap_failed + 1))
    fi
}

check () {  # check DESCRIPTION COMMAND...: passes when COMMAND succeeds
    desc=$1; shift
    "$@" >/dev/null 2>&1
    ok $? "$desc"
}

diag () { echo "# $*"; }

done_testing () {
    echo "1..$tap_n"
    [ "$tap_failed" -eq 0 ]
}

# wait_for TENTHS COMMAND...: retries COMMAND every 0.1 s, at most TENTHS times.
wait_for () {
    tries=$1; shift
    while [ "$tries" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}

# wait_gone PID TENTHS: waits for PID to exit.
wait_gone () {
    wait_for "$2" sh -c "! kill -0 $1 2>/dev/null"
}

# A free TCP port on 127.0.0.1: nothing answers there now.
free_port () {
    while :; do
        port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000)) # below the ephemeral range
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

# new_node NAME: initialises $T/NAME with its PUB feed on ipc:// and a
# one-second heartbeat.
new_node () {
    "$INTELMESH" init -d "$T/$1" --name "$1" --listen "tcp://127.0.0.1:$(free_port)" \
        --pub "ipc://$T/$1/pub.sock" >/dev/null || return 1
    sed -i 's/^    heartbeat = 5$/    heartbeat = 1/' "$T/$1/intelmesh.conf"
}

# start_node NAME: runs intelmeshd in the foreground, logs in $T/NAME.log,
# sets NODE_PID, and waits (10 s at most) until it answers.
start_node () {
    "$INTELMESHD" -d "$T/$1" --foreground 2>>"$T/$1.log" &
    NODE_PID=$!
    PIDS="$PIDS $NODE_PID"
    wait_for 100 "$INTELMESH" -d "$T/$1" status
}

# stop_node PID: SIGTERM, then at most 10 s for an exit; succeeds when the
# daemon exited with status 0 (under the sanitizers, with nothing to report).
stop_node () {
    kill -TERM "$1" 2>/dev/null
    wait_gone "$1" 100 || return 1
    wait "$1" 2>/dev/null
    rc=$?
    # 127: not our child (a detached daemon), whose status cannot be known.
    [ "$rc" -eq 127 ] || return "$rc"
}

# need_fake_peer: sets FAKE_PEER (tests/fake_peer) and the helpers im NODE ARGS
# and fake ARGS, or skips the whole script when fake_peer is not built.
need_fake_peer () {
    : "${FAKE_PEER:=${top_builddir:-.}/tests/fake_peer}"
    if [ ! -x "$FAKE_PEER" ]; then
        echo "1..0 # SKIP fake_peer is not built ($FAKE_PEER)"
        exit 0
    fi
}
im () { n=$1; shift; "$INTELMESH" -d "$T/$n" "$@"; }
fake () { "$FAKE_PEER" "$@"; }
