# SPDX-License-Identifier: MPL-2.0
# lib.sh -- shared helpers for intelmesh's integration tests: TAP output, a
# private temporary directory, nodes started and stopped by PID with bounded
# waits, ports no two suites share, and suites made of named blocks:
#
#   block NAME 'what it checks' [NEEDED-BLOCK...]
#   b_NAME () { ...assertions... }
#   ...
#   run_blocks "$@"          # at the end of the suite
#
# so that a suite runs as a whole (make check) or by hand, from the build
# directory, one block at a time:
#   ../tests/t20-node-basic.sh -l            lists the blocks
#   ../tests/t20-node-basic.sh -t revoke     runs block revoke, after the
#                                            blocks it needs
#   ../tests/t20-node-basic.sh -v -k ...     shows each command (set -x, on
#                                            standard error); keeps $T
# Sourced by tests/t*.sh; expects INTELMESH and INTELMESHD (the build's
# programs by default).

set -u
: "${INTELMESH:=$(pwd)/tools/intelmesh}"
: "${INTELMESHD:=$(pwd)/node/intelmeshd}"
: "${FAKE_PEER:=${top_builddir:-.}/tests/fake_peer}"
# As configure looks for it: /usr/bin first.
[ -x /usr/bin/python3 ] && : "${PYTHON3:=/usr/bin/python3}"
: "${PYTHON3:=python3}"
# The source directory of the tests, for their data.
TESTS_SRCDIR=$(cd "$(dirname "$0")" && pwd)

T=$(mktemp -d "${TMPDIR:-/tmp}/intelmesh-test.XXXXXX") || exit 99
tap_n=0
tap_failed=0
PIDS=""

KEEP=""
# ours PID: PID is still a process of this suite: a child of this shell, or
# a process whose command line names this suite's directory (a daemon that
# detached). A process of ours that ended gives its PID back, and under
# `make check -j8` PIDs wrap (at 32768 here) within minutes: a PID noted an
# hour ago may now be another suite's node, which must not be stopped.
ours () {
    ours_stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    ours_stat=${ours_stat##*) } # after the command's name, which may hold spaces
    set -- "$1" $ours_stat
    ours_state=$2
    [ "$3" = "$$" ] && return 0
    tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$T/"
}
# tree PID: PID and the processes it started, and theirs.
tree () {
    echo "$1"
    for tree_c in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
        tree "$tree_c"
    done
}
# stop_ours PID [SIGNAL]: sends SIGNAL (TERM) to PID and to every process it
# started, when PID is ours. A shell function run in the background is a
# subshell, whose command (timeout, then the tool) would outlive it.
stop_ours () {
    ours "$1" || return 0
    for stop_q in $(tree "$1"); do
        kill "-${2:-TERM}" "$stop_q" 2>/dev/null
    done
}
cleanup () {
    # Each process with every process it started, listed before any is
    # stopped: a subshell's children outlive it, and no longer have it as
    # their parent once it is gone.
    cleanup_all=""
    for p in $PIDS; do
        ours "$p" && cleanup_all="$cleanup_all $(tree "$p")"
    done
    for p in $cleanup_all; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $cleanup_all; do
        wait_gone "$p" 50 || { ours "$p" && kill -KILL "$p" 2>/dev/null; }
    done
    release_ports
    if [ "$tap_failed" -gt 0 ]; then
        # For a failure seen only in CI: what each node said last, but its
        # routine lines (a sanitizer's report, a warning, an error).
        for f in "$T"/*.log; do
            [ -f "$f" ] || continue
            echo "# --- $(basename "$f"), its last 40 lines that are not I: lines" >&2
            grep -v '^I: ' "$f" | tail -n 40 | sed 's/^/#   /' >&2
        done
    fi
    if [ -n "$KEEP" ]; then
        echo "# kept $T" >&2
    else
        rm -rf "$T"
    fi
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

# wait_for TENTHS COMMAND...: retries COMMAND every 0.1 s, at most TENTHS
# times; a status of 2 from COMMAND (never reached: see node_answers) ends it.
wait_for () {
    tries=$1; shift
    while [ "$tries" -gt 0 ]; do
        "$@" >/dev/null 2>&1
        case $? in
        0) return 0 ;;
        2) [ "$1" = node_answers ] && return 1 ;;
        esac
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}

# wait_gone PID TENTHS: waits for PID to exit (or to be no longer ours: see
# ours).
pid_gone () { ! ours "$1" || [ "$ours_state" = Z ]; }
wait_gone () {
    wait_for "$2" pid_gone "$1"
}

# Every call of the command line has a time limit (IM_CLI_TIMEOUT seconds,
# 300 by default): $INTELMESH runs it through timeout(1).
if command -v timeout >/dev/null 2>&1 && mkdir "$T/bin"; then
    printf '#!/bin/sh\nexec timeout --foreground -k 5 %s %s "$@"\n' \
        "${IM_CLI_TIMEOUT:-300}" "'$INTELMESH'" >"$T/bin/intelmesh" \
        && chmod +x "$T/bin/intelmesh" && INTELMESH="$T/bin/intelmesh"
fi

# bounded SECONDS COMMAND...: COMMAND, stopped after SECONDS.
bounded () {
    if command -v timeout >/dev/null 2>&1; then
        timeout --foreground -k 5 "$@"
    else
        shift
        "$@"
    fi
}

# A free TCP port on 127.0.0.1, below the ephemeral range: nothing answers
# there now, and no other suite on this machine has it. A port is held by a
# directory PORT_LOCKS/PORT (mkdir is atomic) holding the PID of the suite
# that took it, until that suite exits (or dies: its ports are taken over).
PORT_LOCKS=/tmp/intelmesh-test-ports
SUITE_PID=$$
free_port () {
    mkdir -p "$PORT_LOCKS" 2>/dev/null
    while :; do
        port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
        if ! mkdir "$PORT_LOCKS/$port" 2>/dev/null; then
            owner=$(cat "$PORT_LOCKS/$port/pid" 2>/dev/null)
            # Held by a suite that is gone (or still writing its PID): a stale
            # lock is taken over on the next draw of the same port.
            [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null \
                && rm -rf "$PORT_LOCKS/$port"
            continue
        fi
        echo "$SUITE_PID" >"$PORT_LOCKS/$port/pid"
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
        rm -rf "$PORT_LOCKS/$port"
    done
}
release_ports () {
    for lock in "$PORT_LOCKS"/*/pid; do
        [ "$(cat "$lock" 2>/dev/null)" = "$SUITE_PID" ] && rm -rf "${lock%/pid}"
    done 2>/dev/null
    return 0
}

# new_node NAME: initialises $T/NAME with its PUB feed on ipc:// and a
# one-second heartbeat.
new_node () {
    "$INTELMESH" init -d "$T/$1" --name "$1" --listen "tcp://127.0.0.1:$(free_port)" \
        --pub "ipc://$T/$1/pub.sock" >/dev/null || return 1
    sed -i 's/^    heartbeat = 5$/    heartbeat = 1/' "$T/$1/intelmesh.conf"
}

# start_node NAME: runs intelmeshd in the foreground, logs in $T/NAME.log,
# sets NODE_PID (and NODE_PID_NAME), and waits (30 s at most) until it
# answers. A port taken by another program since free_port chose it is
# another port (in every configuration of $T: see move_port), 5 times at most.
start_node () {
    tries=5
    while :; do
        logged=$(cat "$T/$1.log" 2>/dev/null | wc -l)
        "$INTELMESHD" -d "$T/$1" --foreground 2>>"$T/$1.log" &
        NODE_PID=$!
        PIDS="$PIDS $NODE_PID"
        eval "NODE_PID_$1=\$NODE_PID"
        wait_for 300 node_answers "$1" "$NODE_PID" && return 0
        # A daemon still running that does not answer, or one that stopped
        # for another reason, is a failure.
        kill -0 "$NODE_PID" 2>/dev/null && return 1
        tail -n "+$((logged + 1))" "$T/$1.log" | grep -q "Address already in use" || return 1
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] && move_port "$1" || return 1
        diag "$1: its port was taken meanwhile; now on $(listen_port "$1")"
    done
}
# node_answers NAME PID: the node answers status; false at once when PID
# has exited (then wait_for stops polling: see wait_for).
node_answers () {
    "$INTELMESH" -d "$T/$1" status >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || return 2
    return 1
}
listen_port () {
    sed -n 's#^    listen = "tcp://127\.0\.0\.1:\([0-9]*\)"$#\1#p' "$T/$1/intelmesh.conf"
}
# move_port NAME: NAME listens on a new free port; every configuration in $T
# that names the old endpoint (peers' cards) names the new one, and running
# nodes among them reload.
move_port () {
    old=$(listen_port "$1")
    [ -n "$old" ] || return 1
    new=$(free_port)
    for conf in "$T"/*/intelmesh.conf; do
        grep -q "tcp://127\.0\.0\.1:$old\b" "$conf" || continue
        sed -i "s#tcp://127\.0\.0\.1:$old\b#tcp://127.0.0.1:$new#g" "$conf"
        dir=${conf%/intelmesh.conf}
        [ "$dir" = "$T/$1" ] && continue
        "$INTELMESH" -d "$dir" status >/dev/null 2>&1 \
            && "$INTELMESH" -d "$dir" reload >/dev/null 2>&1
    done
    return 0
}

# node_up NAME: NAME is initialised and running, started here if it is not
# (for a block run alone); sets NODE_PID.
node_up () {
    [ -f "$T/$1/intelmesh.conf" ] || new_node "$1" || return 1
    if "$INTELMESH" -d "$T/$1" status >/dev/null 2>&1; then
        eval "NODE_PID=\${NODE_PID_$1:-}"
        return 0
    fi
    start_node "$1"
}

# stop_node PID: SIGTERM, then at most 10 s for an exit; succeeds when the
# daemon exited with status 0 (under the sanitizers, with nothing to report).
stop_node () {
    stop_ours "$1"
    wait_gone "$1" 100 || return 1
    wait "$1" 2>/dev/null
    rc=$?
    # 127: not our child (a detached daemon), whose status cannot be known.
    [ "$rc" -eq 127 ] || return "$rc"
}

# SLOW: 4 when the daemon is built with the sanitizers (ASan's shadow memory
# and checks make memory and CPU bounds 4 times looser), else 1. ASan keeps
# what is freed in a quarantine (256 MiB by default) before it reuses it:
# a test that measures a node's memory (t40, t42) would measure that. With
# 32 MiB (use-after-free still found for the last 32 MiB freed), t42's
# floods grew a node built with them by 16 MiB, against 268 to 303 MiB with
# 256. Before a PUBLISH batch's memory was kept for the next one (bc171ec),
# the quarantine most likely held walt's five freed batches (185 MiB) when
# the floods began, and their frees did not grow it.
SLOW=1
if grep -q __asan_init "$INTELMESHD" 2>/dev/null; then
    SLOW=4
    export ASAN_OPTIONS="quarantine_size_mb=32${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
fi

# need_fake_peer: skips the whole script when FAKE_PEER (tests/fake_peer) is
# not built. im NODE ARGS and fake ARGS run the command line and fake_peer.
need_fake_peer () {
    if [ ! -x "$FAKE_PEER" ]; then
        echo "1..0 # SKIP fake_peer is not built ($FAKE_PEER)"
        exit 0
    fi
}
im () { n=$1; shift; "$INTELMESH" -d "$T/$n" "$@"; }
fake () { "$FAKE_PEER" "$@"; }
# need_puller: skips the whole script when PULLER (tests/puller) is not built,
# or fake_peer, which makes its keys.
need_puller () {
    need_fake_peer
    if [ ! -x "${PULLER:-}" ]; then
        echo "1..0 # SKIP puller is not built (${PULLER:-PULLER unset})"
        exit 0
    fi
}
# card_field NODE K: the Kth field of NODE's card (4 CURVE key, 5 endpoint).
card_field () { im "$1" id | awk -v f="$2" '{ print $f }'; }

# --- Blocks ----------------------------------------------------------------

BLOCKS=""
# block NAME DESCRIPTION [NEEDED...]: the suite's next block is the function
# b_NAME; when run alone it runs after the blocks NEEDED (and theirs).
block () {
    BLOCKS="$BLOCKS $1"
    eval "blk_desc_$1=\$2; blk_done_$1="
    blk_name=$1
    shift 2
    eval "blk_needs_$blk_name=\$*"
}

# run_block NAME: runs NAME once, after the blocks it needs.
run_block () {
    eval "[ -z \"\$blk_done_$1\" ]" || return 0
    eval "blk_done_$1=1"
    eval "blk_needs=\$blk_needs_$1"
    for blk_need in $blk_needs; do
        run_block "$blk_need"
    done
    eval "diag \"[$1] \$blk_desc_$1\""
    "b_$1"
}

# run_blocks ARGS: runs the suite's blocks as its command line says (see the
# top of this file), then prints the plan; exits 0 when all passed.
run_blocks () {
    only=""
    while [ $# -gt 0 ]; do
        case $1 in
        -l)
            for b in $BLOCKS; do
                eval "printf '%-16s %s\n' \"\$b\" \"\$blk_desc_$b\""
            done
            exit 0
            ;;
        -t) [ $# -ge 2 ] || { echo "$0: -t needs a block name" >&2; exit 99; }
            case " $BLOCKS " in
            *" $2 "*) only="$only $2" ;;
            *) echo "$0: no block $2 (-l lists them)" >&2; exit 99 ;;
            esac
            shift ;;
        -v) set -x ;;
        -k) KEEP=1 ;;
        *) echo "usage: $0 [-l] [-v] [-k] [-t BLOCK]..." >&2; exit 99 ;;
        esac
        shift
    done
    for b in ${only:-$BLOCKS}; do
        run_block "$b"
    done
    done_testing
}

# --- Interoperability ------------------------------------------------------

# interop_valid stix|misp FILE...: the files pass what their consumers check
# (tests/interop_check.py: the OASIS STIX 2.1 bundle schema or PyMISP's
# schema.json, ids of RFC 4122 version 1-5, STIX validity windows); what it
# finds goes out as diag lines. Without the references (INTEROP_DIR, by
# default shared/interop beside the source tree) or python3-jsonschema, it
# passes with a diag saying so.
: "${INTEROP_DIR:=$(dirname "$TESTS_SRCDIR")/../shared/interop}"
export INTEROP_DIR
interop_valid () {
    "$PYTHON3" "$TESTS_SRCDIR/interop_check.py" "$@" >"$T/interop.out" 2>&1
    iv_rc=$?
    if [ "$iv_rc" -eq 77 ]; then
        diag "not checked against the schemas: $(cat "$T/interop.out")"
        return 0
    fi
    sed 's/^/# /' "$T/interop.out"
    return "$iv_rc"
}
