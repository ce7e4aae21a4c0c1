#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# t22-guards.sh -- the built-in guards (issue 12): special-purpose ranges and
# names refused at publish and import unless forced (each override logged),
# documentation values published with a warning, prefixes broader than /8 or
# /16 refused unless forced (then kept on this node: refused from anyone,
# once a peer, and never matched), defanged values refused with the
# refanged spelling, URLs with a real host only, a URL's host without its
# trailing dot; IPv6 values (and URL hosts) by the IPv4 address they embed
# (IPv4-compatible, IPv4-mapped, NAT64, 6to4).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need_fake_peer

lacks () { im "$1" lookup "$2" >/dev/null 2>&1; [ $? -eq 1 ]; }
has () { im "$1" lookup "$2" >/dev/null 2>&1; }
# refused VALUE... : publish TYPE VALUE exits 1, stores nothing, and says WANT
refused () {
    type=$1 value=$2 want=$3; shift 3
    im g publish "$@" "$type" "$value" >"$T/out" 2>"$T/err"
    rc=$?
    [ "$rc" -eq 1 ] && [ ! -s "$T/out" ] && [ "$(wc -l <"$T/err")" -eq 1 ] \
        && grep -qF -- "$want" "$T/err" && lacks g "$value" \
        || { diag "rc $rc: $(cat "$T/err")"; return 1; }
}

block setup 'a node, and a fake peer on its trust list'
b_setup () {
    new_node g && fake card --name mallory --keys "$T/mallory.keys" >"$T/mallory.card" \
        && im g peer add "$(cat "$T/mallory.card")" >/dev/null && start_node g
    ok $? "node g starts, trusting the fake peer mallory"
    g_ep=$(im g id | awk '{ print $5 }'); g_curve=$(im g id | awk '{ print $4 }')
}

block publish 'special-purpose values are refused, naming the list and the RFC' setup
b_publish () {
    refused ipv4 10.1.2.3 "refused: value: '10.1.2.3' is on the built-in list 'private-use' (RFC 1918, entry 10.0.0.0/8): --force publishes it anyway"
    ok $? "publish ipv4 10.1.2.3: one line naming private-use, RFC 1918 and --force"
    for v in "ipv4 127.0.0.1 loopback" "ipv4 0.0.0.0 'this network'" "ipv4 224.0.0.1 multicast" \
        "ipv4 192.168.1.0/24 private-use" "ipv6 ::1 loopback" "ipv6 :: unspecified" \
        "ipv6 fd00::1 'unique local' (RFC 4193" "ipv6 fe80::1 link-local" \
        "domain printer.local 'multicast DNS' (RFC 6762" "domain x.localhost 'special-use name' (RFC 6761" \
        "url http://192.168.0.1/admin private-use" "email root@nas.home.arpa 'home network' (RFC 8375"; do
        set -- $v
        refused "$1" "$2" "built-in list '$(echo "${v#$1 $2 }" | sed "s/^'//; s/' (RFC.*//; s/'$//")'"
        ok $? "publish $1 $2 is refused ($(echo "${v#$1 $2 }" | tr -d "'"))"
    done
}

block breadth 'prefixes broader than /8 and /16 are refused unless forced; forced, they are logged and warned about' setup
b_breadth () {
    refused ipv4 0.0.0.0/0 "'0.0.0.0/0' is broader than /8, the widest ipv4 prefix intelmesh accepts (it would match every address in it): --force keeps it on this node only (partners' nodes refuse it)"
    ok $? "publish ipv4 0.0.0.0/0 is refused, saying what --force does"
    refused ipv4 16.0.0.0/4 "'16.0.0.0/4' is broader than /8"
    ok $? "publish ipv4 16.0.0.0/4 is refused"
    im g publish --force ipv6 ::/0 >"$T/out" 2>"$T/err"
    [ $? -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 1 ] && has g ::/0 \
        && grep -qxF "intelmesh: publish: warning: '::/0' is broader than /16: partners' nodes refuse ipv6 prefixes broader than /16 whatever their origin, so it stays on this node (and a look-up finds it by its own value only)" "$T/err"
    ok $? "publish --force ipv6 ::/0 is stored, warning that partners refuse it ($(cat "$T/err"))"
    wait_for 50 grep -qF "publish: forced past the breadth limit (broader than /16): ipv6 '::/0'" "$T/g.log"
    ok $? "the node logs the override"
    im g publish --force ipv4 8.0.0.0/7 >/dev/null 2>"$T/err" && has g 8.0.0.0/7 \
        && grep -qF "warning: '8.0.0.0/7' is broader than /8: partners' nodes refuse ipv4 prefixes broader than /8" "$T/err"
    ok $? "publish --force ipv4 8.0.0.0/7 is stored, with the warning"
    im g lookup 8.8.8.8 >/dev/null 2>&1
    ok $(($? == 1 ? 0 : 1)) "lookup 8.8.8.8 does not match the forced 8.0.0.0/7"
    im g publish ipv4 11.0.0.0/8 >/dev/null 2>&1 && has g 11.0.0.0/8
    ok $? "11.0.0.0/8 (exactly /8, public) is published"
    printf 'type,value\nipv4,32.0.0.0/4\n' >"$T/broad.csv"
    im g import "$T/broad.csv" >"$T/imp" 2>&1
    [ $? -eq 1 ] && grep -q "^refused   1: 1 broader than /8$" "$T/imp" && lacks g 32.0.0.0/4
    ok $? "import refuses 32.0.0.0/4, counted as broader than /8"
    im g import --force "$T/broad.csv" >"$T/imp" 2>"$T/err" && has g 32.0.0.0/4 \
        && grep -qxF "intelmesh: import: warning: $T/broad.csv:2: '32.0.0.0/4' is broader than /8: partners' nodes refuse ipv4 prefixes broader than /8 whatever their origin, so it stays on this node (and a look-up finds it by its own value only)" "$T/err"
    ok $? "import --force stores it, with the warning on standard error ($(cat "$T/err"))"
    wait_for 50 grep -qF "publish: forced past the breadth limit (broader than /8): ipv4 '32.0.0.0/4'" "$T/g.log"
    ok $? "and the node logs that override"
}

# peer_num NODE PEER KEY: the number "KEY":N in PEER's object of NODE's peer
# list --json.
peer_num () {
    im "$1" peer list --json | sed 's/},{/}\n{/g' | grep "\"name\":\"$2\"" \
        | grep -o "\"$3\":[0-9]*" | head -1 | cut -d: -f2
}
walks_past () { [ "$(peer_num "$1" "$2" anti_entropy_walks)" -ge "$3" ] 2>/dev/null; }

block relay "a forced broad prefix is refused once by a partner's node, counted and logged, and not fetched again"
b_relay () {
    for n in p q; do
        new_node $n && sed -i 's/^node$/node\n    anti-entropy = "1s"/' "$T/$n/intelmesh.conf"
    done
    im p peer add "$(im q id)" >/dev/null && im q peer add "$(im p id)" >/dev/null \
        && start_node p && start_node q
    ok $? "nodes p and q, peers, walking each other's log every second"
    im p publish --force ipv4 48.0.0.0/4 >/dev/null 2>&1 && im p publish ipv4 11.22.33.44 >/dev/null 2>&1 \
        && wait_for 300 has q 11.22.33.44
    ok $? "p publishes --force 48.0.0.0/4, then 11.22.33.44, which reaches q"
    lacks q 48.0.0.0/4 && [ "$(peer_num q p 'inbound policy')" = 1 ]
    ok $? "q refuses 48.0.0.0/4, counted once as inbound policy ($(peer_num q p 'inbound policy'))"
    wait_for 100 grep -qF "mesh: refused 1 record(s) from p: inbound policy (a prefix broader than /8: 48.0.0.0/4)" "$T/q.log"
    ok $? "and logs it, naming p and the reason"
    w=$(peer_num q p anti_entropy_walks)
    wait_for 300 walks_past q p $((w + 2))
    ok $? "q walks p's log twice more"
    [ "$(peer_num q p 'inbound policy')" = 1 ] && [ "$(peer_num q p fetched)" = 0 ] && lacks q 48.0.0.0/4 \
        && [ "$(grep -c 'refused .* from p' "$T/q.log")" -eq 1 ]
    ok $? "and neither fetches it nor refuses it again (refused $(peer_num q p 'inbound policy'), fetched $(peer_num q p fetched))"
}

block force 'publish --force overrides a guard, and the node logs it' setup
b_force () {
    im g publish --force ipv4 10.1.2.3 >"$T/out" 2>"$T/err" && has g 10.1.2.3
    ok $? "publish --force ipv4 10.1.2.3 is stored"
    wait_for 50 grep -qF "publish: forced past the built-in list 'private-use' (RFC 1918): ipv4 '10.1.2.3'" "$T/g.log"
    ok $? "the node logs the override, naming the guard and the value"
    printf 'type,value\nipv4,172.16.5.5\nipv4,198.51.100.9\nurl,http://[::1]/x\n' >"$T/g.csv"
    im g import "$T/g.csv" >"$T/imp" 2>&1
    rc=$?
    [ "$rc" -eq 1 ] && grep -q "^imported  1$" "$T/imp" \
        && grep -q "1 on built-in list 'private-use (RFC 1918)'" "$T/imp" \
        && grep -q "1 on built-in list 'loopback (RFC 4291)'" "$T/imp" && lacks g 172.16.5.5
    ok $? "import refuses the private and loopback lines, counted by list ($(tr '\n' '|' <"$T/imp"))"
    im g import --force "$T/g.csv" >"$T/imp" 2>&1 && has g 172.16.5.5 && has g "http://[::1]/x"
    ok $? "import --force stores them"
    wait_for 50 grep -qF "forced past the built-in list 'loopback' (RFC 4291): url 'http://[::1]/x'" "$T/g.log"
    ok $? "and the node logs that override too"
}

block documentation 'documentation values are published, with a warning' setup
b_documentation () {
    im g publish ipv4 203.0.113.7 >"$T/out" 2>"$T/err"
    [ $? -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 1 ] && has g 203.0.113.7 \
        && grep -qx "intelmesh: publish: warning: '203.0.113.7' is on the built-in list 'documentation' (RFC 5737, entry 203.0.113.0/24): it matches nothing real" "$T/err"
    ok $? "publish ipv4 203.0.113.7 succeeds, warning that it is documentation (RFC 5737)"
    im g publish domain evil.example >/dev/null 2>"$T/err" && grep -q "'documentation' (RFC 6761" "$T/err"
    ok $? "so does evil.example (RFC 6761)"
}

block defanged 'defanged values get the refanged spelling; URLs need a real host' setup
b_defanged () {
    im g publish url 'hxxp://evil[.]example.com/x' >/dev/null 2>"$T/err"
    [ $? -eq 1 ] && grep -qF "looks defanged: did you mean http://evil.example.com/x?" "$T/err"
    ok $? "hxxp://evil[.]example.com/x is refused: did you mean http://evil.example.com/x?"
    im g publish domain 'evil[.]example.com' >/dev/null 2>"$T/err"
    [ $? -eq 1 ] && grep -qF "did you mean evil.example.com?" "$T/err"
    ok $? "evil[.]example.com is refused with the refanged name"
    im g publish url 'foo://bar' >/dev/null 2>"$T/err"
    [ $? -eq 1 ] && grep -qF "'foo://bar' has no valid host: 'bar' needs at least two labels" "$T/err"
    ok $? "foo://bar is refused: no valid host"
    im g publish url 'http://999.1.2.3/' >/dev/null 2>&1
    ok $(($? == 1 ? 0 : 1)) "http://999.1.2.3/ is refused"
}

block embedded 'IPv6 values are checked by the IPv4 address they embed' setup
b_embedded () {
    refused ipv6 2002:0a00:0001::1 "refused: value: '2002:a00:1::1' (the 6to4 address of 10.0.0.1, RFC 3056) is on the built-in list 'private-use' (RFC 1918, entry 10.0.0.0/8): --force publishes it anyway"
    ok $? "publish ipv6 2002:0a00:0001::1 is refused: the 6to4 address of 10.0.0.1, private-use (RFC 1918)"
    refused ipv6 64:ff9b::192.168.1.1 "'64:ff9b::c0a8:101' (the NAT64 address of 192.168.1.1, RFC 6052) is on the built-in list 'private-use'"
    ok $? "publish ipv6 64:ff9b::192.168.1.1 is refused: the NAT64 address of 192.168.1.1"
    refused ipv6 ::10.1.2.3 "(the IPv4-compatible address of 10.1.2.3, RFC 4291) is on the built-in list 'private-use'"
    ok $? "publish ipv6 ::10.1.2.3 is refused: the IPv4-compatible address of 10.1.2.3"
    refused ipv6 ::ffff:127.0.0.1 "(the IPv4-mapped address of 127.0.0.1, RFC 4291) is on the built-in list 'loopback' (RFC 1122"
    ok $? "publish ipv6 ::ffff:127.0.0.1 is refused: the IPv4-mapped address of 127.0.0.1, loopback"
    refused url 'http://[2002:c0a8:101::1]/x' "(the 6to4 address of 192.168.1.1, RFC 3056) is on the built-in list 'private-use'"
    ok $? "publish url http://[2002:c0a8:101::1]/x is refused by its host"
    im g publish ipv6 2002:0808:0808::1 >/dev/null 2>"$T/err" && [ ! -s "$T/err" ] \
        && im g publish ipv6 64:ff9b::8.8.8.8 >/dev/null 2>>"$T/err" && [ ! -s "$T/err" ] \
        && has g 2002:808:808::1 && has g 64:ff9b::808:808
    ok $? "2002:0808:0808::1 and 64:ff9b::8.8.8.8 (of 8.8.8.8) are published without a word"
    im g check 2002:a00::/24 >"$T/out" 2>&1
    [ $? -eq 1 ] && grep -qxF "2002:a00::/24 (the 6to4 prefix of 10.0.0.0/8, RFC 3056) is on the built-in list 'private-use' (RFC 1918, entry 10.0.0.0/8): publishing it needs --force" "$T/out"
    ok $? "check 2002:a00::/24 names the 6to4 prefix of 10.0.0.0/8"
    im g publish --force ipv6 2002:a00:1::1 >/dev/null 2>&1 && has g 2002:a00:1::1 \
        && wait_for 50 grep -qF "publish: forced past the built-in list 'private-use' (RFC 1918) (the 6to4 address of 10.0.0.1, RFC 3056): ipv6 '2002:a00:1::1'" "$T/g.log"
    ok $? "publish --force stores it, and the node logs the override naming both"
    refused ipv6 64:ff9b::/96 "refused: value: '64:ff9b::/96' (the NAT64 prefix of 0.0.0.0/0, RFC 6052) is broader than /104, the widest ipv6 prefix intelmesh accepts in that form (/8 of IPv4) (it would match every address in it): --force keeps it on this node only (partners' nodes refuse it)"
    ok $? "publish ipv6 64:ff9b::/96 (every IPv4 address through NAT64) is refused as too broad"
    refused ipv6 2002::/16 "'2002::/16' (the 6to4 prefix of 0.0.0.0/0, RFC 3056) is broader than /24"
    ok $? "publish ipv6 2002::/16 (every IPv4 address through 6to4) is refused as too broad"
    im g publish --force ipv6 64:ff9b::/96 >/dev/null 2>"$T/err" && has g 64:ff9b::/96 \
        && grep -qF "warning: '64:ff9b::/96' (the NAT64 prefix of 0.0.0.0/0, RFC 6052) is broader than /104: partners' nodes refuse" "$T/err" \
        && lacks g 64:ff9b::9.9.9.9
    ok $? "forced, 64:ff9b::/96 stays on the node with a warning, and lookup 64:ff9b::9.9.9.9 does not match it ($(cat "$T/err"))"
}

block fqdn 'a URL whose host ends in a dot is the same indicator' setup
b_fqdn () {
    im g publish url 'http://Evil.Fqdn-Test.NET./x.?a.=b.' >"$T/out" 2>"$T/err"
    rc=$?; id=$(cat "$T/out")
    [ $rc -eq 0 ] && im g lookup 'http://evil.fqdn-test.net./x.?a.=b.' | grep -qF 'http://evil.fqdn-test.net/x.?a.=b.'
    ok $? "publish url http://Evil.Fqdn-Test.NET./x.?a.=b. stores http://evil.fqdn-test.net/x.?a.=b."
    im g lookup 'http://evil.fqdn-test.net/x.?a.=b.' | grep -qF "$id"
    ok $? "lookup finds it by either spelling"
    im g publish url 'http://evil.fqdn-test.net/x.?a.=b.' 2>&1 | grep -q "nothing changed" \
        && [ "$(im g list --type url 2>/dev/null | grep -c fqdn-test)" -eq 1 ]
    ok $? "publishing the other spelling changes nothing: one indicator"
}

block peers 'from peers: too broad refused and counted, others stored; lookups' setup
b_peers () {
    fake inject "$g_ep" "$g_curve" --keys "$T/mallory.keys" --craft --type ipv4 \
        --value 0.0.0.0/0 --timeout 10000 >"$T/inj" 2>&1
    lacks g 0.0.0.0/0 \
        && im g peer list --json | grep -o '"inbound policy":[0-9]*' | grep -qx '"inbound policy":1'
    ok $? "a peer's 0.0.0.0/0 is refused and counted ($(tr '\n' ' ' <"$T/inj"))"
    wait_for 50 grep -q "refused 1 record(s) from mallory: inbound policy (a prefix broader than /8: 0.0.0.0/0)" "$T/g.log"
    ok $? "and logged with the reason"
    fake inject "$g_ep" "$g_curve" --keys "$T/mallory.keys" --craft --type ipv4 \
        --value 192.168.7.7 --timeout 10000 >/dev/null 2>&1 && has g 192.168.7.7
    ok $? "a peer's 192.168.7.7 is stored: its origin signed it (and may have forced it)"
    im g lookup 8.8.8.8 >/dev/null 2>&1
    ok $(($? == 1 ? 0 : 1)) "lookup 8.8.8.8 matches nothing"
    im g lookup 11.1.2.3 | grep -q "11.0.0.0/8"
    ok $? "lookup 11.1.2.3 still matches 11.0.0.0/8"
}

block log_limit 'forced overrides are logged 20 a minute one by one, whatever the requests; a request that forced more says how many' setup
b_log_limit () {
    new_node lim && start_node lim; ok $? "a node of its own, lim, starts (a minute of its own)"
    awk 'BEGIN { print "type,value"; for (i = 1; i <= 25; i++) printf "ipv4,10.9.2.%d\n", i }' >"$T/lim.csv"
    im lim import --dry-run --force "$T/lim.csv" >/dev/null 2>&1 && lacks lim 10.9.2.1
    ok $? "an import --dry-run of 25 forced private addresses stores nothing (helper 67: it took the minute's lines)"
    awk 'BEGIN { for (i = 1; i <= 30; i++) printf "ipv4 10.9.0.%d\n", i }' >"$T/lim.in"
    im lim publish --force - <"$T/lim.in" >/dev/null 2>&1 && has lim 10.9.0.30
    ok $? "30 private addresses are published forced in one request"
    awk 'BEGIN { for (i = 1; i <= 5; i++) printf "ipv4 10.9.1.%d\n", i }' | im lim publish --force - >/dev/null 2>&1
    ok $? "5 more in a second request"
    wait_for 50 grep -qF "publish: 5 values forced past guards in this request, not each logged one by one (at most 20 lines a minute)" "$T/lim.log"
    ok $? "the second request's line says it forced 5 values, not each logged"
    n=$(grep -c "publish: forced past the built-in list 'private-use'" "$T/lim.log")
    [ "$n" -eq 20 ] && grep -qF "publish: 30 values forced past guards in this request, not each logged" "$T/lim.log" \
        && ! grep -qF "10.9.2." "$T/lim.log"
    ok $? "20 lines one by one in all, none of the dry run's, and the first request says 30 values ($n lines)"
    grep -qF "ipv4 '10.9.0.20'" "$T/lim.log" && ! grep -qF "ipv4 '10.9.0.21'" "$T/lim.log"
    ok $? "the first 20 values are the ones logged"
    im lim publish --force ipv4 10.9.0.1 >/dev/null 2>&1
    ok $? "one of the 30 again, unchanged"
    im lim publish --force ipv4 0.0.0.0/4 >/dev/null 2>&1
    [ "$(grep -c "publish: 1 value forced past guards" "$T/lim.log")" -le 1 ]
    ok $? "an unchanged value is not counted as forced (helper 68)"
    wait_for 50 grep -qF "publish: 1 value forced past guards in this request" "$T/lim.log"
    ok $? "a value forced past two guards (the breadth limit and 'this network') is one value"
    stop_node lim
}

run_blocks "$@"
