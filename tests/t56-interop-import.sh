#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t56-interop-import.sh -- the detection flag (publish --no-detect, lookup,
# list, a downgrade to turn it off), ESET's published MISP events (every
# attribute to_ids false) imported whole, the MISP round trip keeping the
# flag, an export of this node imported back into it without duplicates, and
# valid_until later than valid_from at publish and import. TAP output.
. "$(dirname "$0")/lib.sh"
S=$(dirname "$TESTS_SRCDIR")
E="$S/tests/data/eset"

# imp NODE OUT ARGS...: import --json into NODE, the summary in $T/OUT.
imp () {
    n=$1; o=$2; shift 2
    im "$n" import --json "$@" >"$T/$o" 2>"$T/$o.err"
}
jnum () { grep -o "\"$2\":[0-9]*" "$T/$1" | head -n 1 | cut -d: -f2; }
# line NODE VALUE: NODE's list --json line of VALUE.
line () { im "$1" list --json | grep -F "\"value\":\"$2\","; }
count () { im "$1" list --json | grep -c '"id":'; }
values () { im "$1" list --json | grep -o '"value":"[^"]*"' | sort; }
trap 'cleanup' EXIT

block nodes 'two nodes run'
b_nodes () {
    for n in alpha beta; do
        new_node $n || diag "cannot init $n"
        start_node $n || diag "$n did not start"
        eval "pid_$n=\$NODE_PID"
    done
    im alpha status >/dev/null && im beta status >/dev/null
    ok $? "alpha and beta run"
}

block detect 'publish --no-detect; lookup and list show it; turning it off is a downgrade' nodes
b_detect () {
    im alpha publish --no-detect domain hunt.example >"$T/d.out" 2>"$T/d.err"
    ok $? "publish --no-detect domain hunt.example is accepted"
    line alpha hunt.example | grep -q '"detect":false'
    ok $? "list --json shows \"detect\":false"
    im alpha lookup hunt.example | grep -q ' not-for-detection'
    ok $? "lookup says not-for-detection"
    im alpha lookup --json hunt.example | grep -q '"detect":false'
    ok $? "lookup --json shows \"detect\":false"
    im alpha publish domain ids.example >/dev/null 2>&1
    line alpha ids.example | grep -q '"detect":true' \
        && ! im alpha lookup ids.example | grep -q 'not-for-detection'
    ok $? "an indicator published without it is meant for detection"
    im alpha publish --tag x domain hunt.example >/dev/null 2>&1 \
        && line alpha hunt.example | grep -q '"detect":false'
    ok $? "an update that does not give it keeps detect false"
    im alpha publish --no-detect domain ids.example >"$T/d2.out" 2>"$T/d2.err"
    rc=$?
    [ "$rc" -eq 1 ] && grep -q 'detect: yes -> no would lower the protection' "$T/d2.err" \
        && grep -q -- '--allow-downgrade' "$T/d2.err" \
        && line alpha ids.example | grep -q '"detect":true'
    ok $? "turning detection off on a held indicator is refused without --allow-downgrade (exit $rc)"
    im alpha publish --no-detect --allow-downgrade domain ids.example >"$T/d3.out" 2>"$T/d3.err" \
        && grep -qx 'detect: yes -> no' "$T/d3.out" \
        && line alpha ids.example | grep -q '"detect":false'
    ok $? "with --allow-downgrade it is turned off and reported as 'detect: yes -> no'"
    im alpha publish --detect domain ids.example >/dev/null 2>&1 \
        && line alpha ids.example | grep -q '"detect":true'
    ok $? "publish --detect turns it back on, no downgrade"
    printf '%s\n' '{"type":"domain","value":"json.example","detect":false}' \
        | im alpha publish - >/dev/null 2>&1 && line alpha json.example | grep -q '"detect":false'
    ok $? "publish - reads \"detect\": false"
}

block dates 'valid_until later than valid_from at publish and import' nodes
b_dates () {
    im alpha publish --valid-until 2020-01-01 domain late.example >"$T/v.out" 2>"$T/v.err"
    rc=$?
    [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/v.err")" -eq 1 ] \
        && grep -q '^intelmesh: publish: --valid-until 2020-01-01T00:00:00Z is not later than valid_from 20[0-9-]*T[0-9:]*Z (now' "$T/v.err" \
        && [ ! -s "$T/v.out" ] && [ -z "$(line alpha late.example)" ]
    ok $? "publish --valid-until 2020-01-01 exits 2 naming both times, stores nothing (exit $rc: $(cat "$T/v.err"))"
    im alpha publish --valid-from 2026-03-01 --valid-until 2026-03-01 domain late.example \
        >"$T/v2.out" 2>"$T/v2.err"
    rc=$?
    [ "$rc" -eq 2 ] && grep -q 'valid-until 2026-03-01T00:00:00Z is not later than valid_from 2026-03-01T00:00:00Z' "$T/v2.err"
    ok $? "an equal --valid-from and --valid-until is refused too (exit $rc)"
    printf '%s\n' '{"type":"domain","value":"late.example","valid_until":"2020-01-01"}' \
        | im alpha publish - >/dev/null 2>"$T/v3.err"
    rc=$?
    [ "$rc" -eq 1 ] && grep -q 'line 1: refused: valid_until: 2020-01-01T00:00:00Z is not later than valid_from' "$T/v3.err"
    ok $? "publish - refuses such a line, naming both times (exit $rc)"
    printf 'type,value,valid_from,valid_until\ndomain,a.late.example,2026-02-01T00:00:00Z,2026-01-01T00:00:00Z\ndomain,b.late.example,,2020-01-01T00:00:00Z\ndomain,ok.late.example,2026-01-01T00:00:00Z,2099-01-01T00:00:00Z\n' \
        >"$T/late.csv"
    imp alpha late "$T/late.csv"
    [ "$(jnum late imported)" = 1 ] && [ "$(jnum late refused_total)" = 2 ] \
        && grep -q '"bad valid_until":2' "$T/late" \
        && grep -q 'valid_until: 2026-01-01T00:00:00Z is not later than valid_from 2026-02-01T00:00:00Z' "$T/late.err" \
        && [ -z "$(line alpha a.late.example)" ] && [ -n "$(line alpha ok.late.example)" ]
    ok $? "import refuses the two items whose window ends before it starts, counted as 'bad valid_until'"
}

block eset "ESET's XDSpy and Zebrocy MISP events import every attribute of a mapped type" nodes
b_eset () {
    imp beta x "$E/misp-xdspy-event.json"
    [ "$(jnum x imported)" = 59 ] && [ "$(jnum x refused_total)" = 0 ]
    ok $? "XDSpy: 59 of its 71 attributes imported (11 text and 1 link are not mapped): $(jnum x imported)"
    imp beta z "$E/2018-11-20_Zebrocy.json"
    [ "$(jnum z imported)" = 28 ] && [ "$(jnum z refused_total)" = 0 ]
    ok $? "Zebrocy: 28 of its 32 attributes imported (4 text are not mapped): $(jnum z imported)"
    [ "$(im beta list --json | grep -c '"detect":false')" -eq 87 ]
    ok $? "all 87 are kept not for detection (to_ids false)"
    line beta http://45.124.132.127/company-device-support/values/correlate-sec.php \
        | grep -q '"id":"5be331a1-fe7c-450c-bf36-693f0a016219"'
    ok $? "an attribute's MISP uuid is kept as the indicator's id"
    imp beta z2 "$E/2018-11-20_Zebrocy.json"
    [ "$(jnum z2 imported)" = 0 ] && [ "$(jnum z2 unchanged)" = 28 ]
    ok $? "importing Zebrocy again changes nothing (28 unchanged)"
}

# exported_ids NODE FILE: FILE with each of NODE's record ids written as the
# id it has outside the node (im_id_export: kept when RFC 4122 version 1-5,
# else the version 5 UUID of ORIGIN-HEX/ID in intelmesh's namespace).
exported_ids () {
    im "$1" list --json >"$T/ids.json"
    "$PYTHON3" - "$T/ids.json" "$2" <<'EOF'
import json, sys, uuid
ns = uuid.UUID("886b1082-fbfd-53ad-b4ef-acc0ce9851a4")
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
text = open(sys.argv[2]).read()
for r in recs:
    u = uuid.UUID(r["id"])
    if not (1 <= u.version <= 5 and u.variant == uuid.RFC_4122):
        text = text.replace(r["id"], str(uuid.uuid5(ns, r["origin"] + "/" + r["id"])))
open(sys.argv[2], "w").write(text)
EOF
}

block roundtrip 'an export imported back: no duplicates; the MISP round trip keeps detect' detect
b_roundtrip () {
    before=$(count alpha)
    values alpha >"$T/values.before"
    for f in stix misp; do
        im alpha export --format $f --tlp-max red >"$T/own.$f" 2>/dev/null
        exported_ids alpha "$T/own.$f"
        imp alpha rt.$f --format $f "$T/own.$f"
        [ "$(jnum rt.$f imported)" = 0 ] && [ "$(jnum rt.$f updated)" = 0 ] \
            && [ "$(count alpha)" -eq "$before" ] \
            && values alpha | cmp -s - "$T/values.before"
        ok $? "alpha's $f export, ids as they leave the node, imported back: 0 new, 0 updated, still $before records, no value twice ($(jnum rt.$f imported) new, $(jnum rt.$f updated) updated, $(count alpha) records)"
    done
    im alpha export --format misp >"$T/rt.misp" 2>/dev/null
    grep -q '"value":"hunt.example","to_ids":false' "$T/rt.misp" \
        && grep -q '"value":"ids.example","to_ids":true' "$T/rt.misp"
    ok $? "the MISP export writes to_ids false for hunt.example, true for ids.example"
    imp beta rtb "$T/rt.misp"
    line beta hunt.example | grep -q '"detect":false' && line beta ids.example | grep -q '"detect":true'
    ok $? "imported into beta, hunt.example is not for detection and ids.example is"
}

block stop 'the nodes stop cleanly' nodes
b_stop () {
    for n in alpha beta; do
        eval "p=\$pid_$n"
        stop_node "$p"
        ok $? "$n stops cleanly"
    done
}

run_blocks "$@"
