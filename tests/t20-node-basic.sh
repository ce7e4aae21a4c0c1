#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t20-node-basic.sh -- one real node: publish every type, look up (exact and by
# CIDR prefix), the local feed, revocation, re-publishing, bulk publishing,
# restart with nothing lost, and permissions of what the node writes.
. "$(dirname "$0")/lib.sh"

D="$T/alpha"
im () { "$INTELMESH" -d "$D" "$@"; }

block start 'a node is initialised and starts; modes of its keys and socket'
b_start () {
    new_node alpha; ok $? "a node is initialised"
    [ "$(stat -c %a "$D/keys/node.secret")" = 600 ]; ok $? "the secret key file is mode 0600"
    [ "$(stat -c %a "$D/keys")" = 700 ]; ok $? "the keys directory is mode 0700"
    start_node alpha; ok $? "the node starts and answers"
    pid=$NODE_PID
    [ "$(stat -c %a "$D/control.sock")" = 600 ]; ok $? "the control socket is mode 0600"
}

block publish 'publish every type; lookups exact and by prefix' start
b_publish () {
    node_up alpha; pid=$NODE_PID
    # The feed: a subscriber that has seen a heartbeat is connected.
    im tail --timeout 120 >"$T/feed" 2>"$T/feed.err" &
    tail_pid=$!; PIDS="$PIDS $tail_pid"
    wait_for 100 grep -q node.heartbeat "$T/feed"; ok $? "tail receives the heartbeat"

    # One indicator of every type, and refusals.
    while read -r type value want; do
        id=$(im publish --tlp green --tag test "$type" "$value" 2>"$T/err")
        rc=$?
        [ $rc -eq 0 ] && [ ${#id} -eq 36 ]; ok $? "publish $type $value prints a new id"
        im lookup --type "$type" "$want" >"$T/out"; ok $? "lookup finds $type $want"
        grep -q -F "$want" "$T/out"; ok $? "in its canonical form"
    done <<'LIST'
ipv4 192.0.2.1 192.0.2.1
ipv4 198.51.100.0/24 198.51.100.0/24
ipv6 2001:DB8:0:0::1 2001:db8::1
domain Evil.Example.COM. evil.example.com
url HTTP://Evil.Example.com/Path?q=1 http://evil.example.com/Path?q=1
email Bad.Actor@Example.ORG Bad.Actor@example.org
md5 D41D8CD98F00B204E9800998ECF8427E d41d8cd98f00b204e9800998ecf8427e
sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 da39a3ee5e6b4b0d3255bfef95601890afd80709
sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
sha512 cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e
filename invoice.pdf.exe invoice.pdf.exe
asn as64500 AS64500
LIST

    im lookup 198.51.100.77 >"$T/out"; ok $? "an address inside a published prefix is found"
    grep -q "198.51.100.0/24 (contains 198.51.100.77)" "$T/out"; ok $? "through the prefix that contains it"
    im lookup 203.0.113.9 >"$T/out"; [ $? -eq 1 ]; ok $? "an unknown address exits 1"
    grep -q "not known" "$T/out"; ok $? "and says it is not known"
    im lookup --json evil.example.com >"$T/out"
    grep -q '"tlp":"green"' "$T/out" && grep -q '"tags":\["test"\]' "$T/out"
    ok $? "lookup --json carries the TLP and tags"
}

block update 'publishing a value again updates the same indicator' publish
b_update () {
    node_up alpha; pid=$NODE_PID
    # Re-publishing the same value updates the same indicator.
    id1=$(im lookup --json 192.0.2.1 | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
    id2=$(im publish --replace --tlp amber --confidence 90 ipv4 192.0.2.1 2>/dev/null)
    [ -n "$id1" ] && [ "$id1" = "$id2" ]; ok $? "publishing a value again updates the same indicator"
    im lookup --json 192.0.2.1 >"$T/out"
    grep -q '"version":2' "$T/out" && grep -q '"tlp":"amber"' "$T/out" && grep -q '"tags":\[\]' "$T/out"
    ok $? "with --replace the update replaced the whole record (version 2, amber, tag removed)"
    im publish --tlp amber --confidence 90 ipv4 192.0.2.1 >/dev/null 2>"$T/err"
    grep -q "nothing changed" "$T/err"; ok $? "identical content is not published twice"
}

block revoke 'revocation, and what only the origin may revoke' update
b_revoke () {
    node_up alpha; pid=$NODE_PID
    # Revocation.
    im revoke "$id1" >"$T/out"; ok $? "revoke succeeds"
    grep -q "revoked" "$T/out"; ok $? "and says so"
    im lookup 192.0.2.1 >/dev/null; [ $? -eq 1 ]; ok $? "a revoked indicator is no longer found"
    im list --json | grep "$id1" | grep -q '"op":"revoke"'; ok $? "list shows its tombstone"
    im revoke "$id1" | grep -q "already revoked"; ok $? "revoking twice says already revoked"
    im revoke 00000000-0000-4000-8000-000000000000 >/dev/null 2>"$T/err"; [ $? -eq 1 ]
    ok $? "revoking an unknown id fails"
    grep -q "only its origin" "$T/err"; ok $? "explaining that only the origin can revoke"
}

block feed 'the feed saw every change once, by type and TLP' revoke
b_feed () {
    # The feed saw every change once, with topics by type and TLP.
    wait_for 50 grep -q '"op":"revoke"' "$T/feed"; ok $? "the feed carries the revocation"
    grep -q '"topic":"ioc.ipv4.green"' "$T/feed"; ok $? "topics are ioc.TYPE.TLP"
    grep -q '"topic":"ioc.ipv4.amber"' "$T/feed"; ok $? "an update is published under its new TLP"
    [ "$(grep -c '"topic":"ioc\.' "$T/feed")" -eq 14 ]; ok $? "12 new, 1 update and 1 revocation: 14 feed messages"
    grep -q '"valid_from":null' "$T/feed" && grep -q '"created":"20[0-9-]*T[0-9:]*Z"' "$T/feed"
    ok $? "times are RFC 3339 UTC or null"
    stop_ours "$tail_pid"
}

block bulk 'bulk publishing with refusals; status counts' revoke
b_bulk () {
    node_up alpha; pid=$NODE_PID
    # Bulk publishing from standard input, with bad lines among good ones.
    {
        echo "# a comment"
        for i in $(seq 1 1500); do echo "ipv4 11.$((i / 250)).$((i % 250)).1"; done
        echo "ipv4 999.1.1.1"
        echo '{"type":"domain","value":"bulk.example.net","tlp":"clear","tags":["bulk"]}'
        echo '{"type":"domain","value":"x.example.net","tlp":"mauve"}'
        echo "md5 abc"
        echo ""
    } >"$T/bulk"
    im publish --tag bulk - <"$T/bulk" >"$T/ids" 2>"$T/err"
    [ $? -eq 1 ]; ok $? "bulk publish with refusals exits 1"
    [ "$(wc -l <"$T/ids")" -eq 1501 ]; ok $? "it prints 1501 accepted ids"
    grep -q "1501 published (1501 new, 0 updated, 0 unchanged), 3 refused" "$T/err"
    ok $? "the summary counts accepted and refused"
    grep -q "line 1502: refused: value: '999.1.1.1' is not an IPv4 address" "$T/err"
    ok $? "a refusal names its line and why"
    grep -q "line 1504: refused: tlp" "$T/err"; ok $? "a bad TLP in a JSON line is refused"
    im lookup 11.3.1.1 | grep -q "tags bulk"; ok $? "defaults from options apply to bulk lines"
    im lookup bulk.example.net | grep -q "TLP:CLEAR"; ok $? "a JSON line's own fields win"

    im status --json >"$T/status"; ok $? "status --json answers"
    grep -q '"live":1512' "$T/status"; ok $? "status counts 1512 live indicators"
    grep -q '"revoked":1' "$T/status"; ok $? "and 1 revoked"
    im status | grep -q "^indicators  1512 live, 1 revoked"; ok $? "status says the same in words"
}

block control 'malformed control requests are refused, counted, logged' start
b_control () {
    node_up alpha; pid=$NODE_PID
    # Malformed control requests are refused, counted and survive.
    if [ -n "${PYTHON3:-}" ] && "${PYTHON3}" -c 'import zmq' 2>/dev/null; then
        bounded 60 "$PYTHON3" - "$D/control.sock" <<'PY' >"$T/out"
import sys, zmq
s = zmq.Context().socket(zmq.DEALER)
s.setsockopt(zmq.RCVTIMEO, 5000)
s.setsockopt(zmq.SNDTIMEO, 5000)
s.setsockopt(zmq.LINGER, 0)
s.connect("ipc://" + sys.argv[1])
for req in ([b"PUBLISH", b"{not json"], [b"FROB", b"{}"], [b"PUBLISH"], [b"PUBLISH", b'{"items":7}'],
            [b"LOOKUP", b'{"value":"1.2.3.4","type":"ipv9"}'], [b"PUBLISH", b"{}", b"extra"]):
    s.send_multipart(req)
    print(s.recv_multipart()[0].decode())
PY
        [ "$(grep -c '^ERROR$' "$T/out")" -eq 6 ]; ok $? "six malformed control requests are refused"
        im status --json | grep -q '"bad_requests":6'; ok $? "and counted"
        grep -q "control: refused" "$T/alpha.log"; ok $? "and logged"
    else
        for i in 1 2 3; do echo "ok $((tap_n + 1)) # SKIP python3-zmq is not installed"; tap_n=$((tap_n + 1)); done
    fi
}

block restart 'a restart loses nothing' bulk
b_restart () {
    node_up alpha; pid=$NODE_PID
    # Restart: everything is still there.
    before=$(im list --json | sort | md5sum)
    stop_node "$pid"; ok $? "the node stops on SIGTERM"
    start_node alpha; ok $? "and starts again"
    pid=$NODE_PID
    after=$(im list --json | sort | md5sum)
    [ "$before" = "$after" ]; ok $? "after a restart every record is the same"
    im lookup 198.51.100.77 >/dev/null; ok $? "prefix look-ups work after a restart"
    im status --json | grep -q '"live":1512'; ok $? "and the counts are the same"
}

block display 'peer-supplied text is escaped on a terminal, exact in --json' restart
b_display () {
    node_up alpha; pid=$NODE_PID
    # A right-to-left override would make the row read backwards; a fake
    # column would pass for another field. Both show as escapes.
    rlo=$(printf 'a\342\200\256b')
    im publish ipv4 192.0.2.250 --tag "$rlo" --tag 'back\slash' --tag "zw$(printf '\342\200\213')j" \
        >/dev/null 2>"$T/err"
    ok $? "a tag holding U+202E is published"
    im lookup 192.0.2.250 >"$T/out"
    grep -qF 'tags a\u{202E}b,back\\slash,zw\u{200B}j' "$T/out"; ok $? "lookup shows U+202E and U+200B as escapes, a backslash doubled"
    ! grep -q "$(printf '\342\200\256')" "$T/out"; ok $? "and never the raw override"
    im list --type ipv4 >"$T/out"
    grep -qF 'a\u{202E}b' "$T/out" && ! grep -q "$(printf '\342\200\256')" "$T/out"
    ok $? "list escapes it too"
    im lookup --json 192.0.2.250 >"$T/out"
    grep -q "$(printf '\342\200\256')" "$T/out" && ! grep -qF 'u{202E}' "$T/out"
    ok $? "--json keeps the text exact"
}

block secrets 'the signing secret is never printed or logged' start
b_secrets () {
    node_up alpha; pid=$NODE_PID
    # Nothing secret is ever printed or logged.
    secret=$(sed -n 's/^sign-secret = "\(.*\)"$/\1/p' "$D/keys/node.secret" | cut -c1-32)
    [ -n "$secret" ] && ! grep -r -q -F "$secret" "$T"/*.log "$T/out" "$T/feed" "$T/status" "$D/intelmesh.conf"
    ok $? "the signing secret appears in no log or output"
    stop_node "$pid"; ok $? "the node stops"
}

block systemd 'under systemd the log goes to syslog' start
b_systemd () {
    # The node of the earlier blocks is stopped first.
    "$INTELMESH" -d "$D" status >/dev/null 2>&1 && stop_node "$NODE_PID_alpha"
    # Under systemd (which sets INVOCATION_ID and JOURNAL_STREAM), the log goes to
    # syslog, which the journal takes; standard error stays quiet.
    : >"$T/alpha.log"
    INVOCATION_ID=0123456789abcdef "$INTELMESHD" -d "$D" --foreground 2>>"$T/alpha.log" &
    pid=$!
    PIDS="$PIDS $pid"
    wait_for 100 im status; ok $? "it starts as systemd would start it"
    stop_node "$pid"; ok $? "and stops"
    if [ -e /dev/log ]; then
        ! grep -q "I: (intelmeshd)" "$T/alpha.log"
        ok $? "its log went to syslog (the journal), not to standard error"
    else
        # No syslog on this host: the log is not lost (intelmeshd(8), LOGGING).
        grep -q "syslog is not available (no /dev/log): logging to standard error" \
            "$T/alpha.log" && grep -q "I: (intelmeshd)" "$T/alpha.log"
        ok $? "without /dev/log its log went to standard error, saying why"
    fi
}

block large 'publish - splits large items over requests under the frame limit' start
b_large () {
    node_up bravo; bpid=$NODE_PID
    # 1,000 items of about 12.4 KB of JSON each (a description of 4,096
    # quotes, written \" each, and 32 tags of 124 bytes): one request of
    # 1,000 would be 12.4 MB, over half the 16 MiB frame limit (1,000 items
    # with every field at its largest and 64 recipients pass the limit).
    "${PYTHON3:-python3}" -c '
import json
d = "\"" * 4096
tags = ["t%03d-" % k + "x" * 120 for k in range(32)]
for i in range(1000):
    print(json.dumps({"type": "domain", "value": "d%d.large.example.net" % i,
                      "description": d, "tags": tags}))' >"$T/large"
    r0=$("$INTELMESH" -d "$T/bravo" status --json | grep -o '"requests":[0-9]*' | cut -d: -f2)
    "$INTELMESH" -d "$T/bravo" publish - <"$T/large" >"$T/large.ids" 2>"$T/large.err"
    ok $? "1,000 large items are published"
    [ "$(wc -l <"$T/large.ids")" -eq 1000 ]; ok $? "with 1,000 ids"
    r1=$("$INTELMESH" -d "$T/bravo" status --json | grep -o '"requests":[0-9]*' | cut -d: -f2)
    # STATUS (before) and two PUBLISH requests.
    [ "$((r1 - r0))" -eq 3 ]; ok $? "in two requests, not one ($((r1 - r0 - 1)) PUBLISH)"
    stop_node "$bpid"; ok $? "bravo stops"
}

run_blocks "$@"
