#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t70-import-export.sh -- `intelmesh import`, `export` and `check` against running
# nodes: usage errors, each input format's counts and stored fields, re-imports
# (unchanged, updated, revoked), --dry-run, --tlp, warninglists, malformed
# files that change nothing, round trips through STIX, CSV and MISP, and the
# export filters. TAP output.
. "$(dirname "$0")/lib.sh"
S=$(dirname "$TESTS_SRCDIR")
D="$S/tests/data/import"
C="$S/tests/data/cli"

# usage_error DESC ARGS...: intelmesh ARGS exits 2, writing nothing on
# standard output and one line "intelmesh: ..." on standard error.
usage_error () {
    what=$1; shift
    "$INTELMESH" "$@" >"$T/u.out" 2>"$T/u.err"
    rc=$?
    if [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/u.err")" -eq 1 ] && grep -q '^intelmesh: .' "$T/u.err" \
        && [ ! -s "$T/u.out" ]; then
        ok 0 "$what"
    else
        diag "exit $rc, said: $(cat "$T/u.err" "$T/u.out")"
        ok 1 "$what"
    fi
}
# imp NODE OUT ARGS...: import --json into NODE, the summary in $T/OUT, the
# errors in $T/OUT.err; returns the exit status.
imp () {
    n=$1; o=$2; shift 2
    im "$n" import --json "$@" >"$T/$o" 2>"$T/$o.err"
}
# tally OUT: "imported updated revoked unchanged refused" of an import summary.
jnum () { grep -o "\"$2\":[0-9]*" "$T/$1" | head -n 1 | cut -d: -f2; }
tally () {
    echo "$(jnum "$1" imported) $(jnum "$1" updated) $(jnum "$1" revoked)" \
        "$(jnum "$1" unchanged) $(jnum "$1" refused_total)"
}
# is_tally OUT "I U R N F": the summary's counts are those.
is_tally () {
    [ "$(tally "$1")" = "$2" ] && return 0
    diag "$1: imported, updated, revoked, unchanged, refused are $(tally "$1"), not $2"
    return 1
}
# reasons OUT OBJ: the "reason":count pairs of OBJ (skipped, refused), sorted.
reasons () {
    grep -o "\"$2\":{[^}]*}" "$T/$1" | sed "s/^\"$2\":{//; s/}\$//; s/,\"/\n\"/g" \
        | grep . | sort
}
# has_reasons OUT OBJ 'N|reason'...: OBJ counts exactly these reasons.
has_reasons () {
    f=$1; o=$2; shift 2
    got=$(reasons "$f" "$o")
    want=$(for r in "$@"; do printf '"%s":%s\n' "${r#*|}" "${r%%|*}"; done | sort)
    [ "$got" = "$want" ] && return 0
    diag "$f: $o is {$(echo "$got" | tr '\n' ' ')}, not {$(echo "$want" | tr '\n' ' ')}"
    return 1
}
count () { im "$1" list --json | grep -c '"id":'; }
# held NODE VALUE FIELD...: NODE holds exactly one record of VALUE, and its
# list --json line holds each FIELD text ("tlp":"amber", "reach":2, ...).
held () {
    n=$1; v=$2; shift 2
    line=$(im "$n" list --json | grep -F "\"value\":\"$v\",")
    if [ -z "$line" ] || [ "$(printf '%s\n' "$line" | wc -l)" -ne 1 ]; then
        diag "$n holds $(printf '%s' "$line" | grep -c .) records of $v"
        return 1
    fi
    for p in "$@"; do
        case $line in
        *"$p"*) ;;
        *) diag "$n's $v lacks $p: $line"; return 1 ;;
        esac
    done
}
lacks () { ! im "$1" list --json | grep -qF "\"value\":\"$2\","; }
# csv_of NODE [ARGS]: NODE's CSV export without the origin column.
csv_of () { n=$1; shift; im "$n" export --format csv --tlp-max red "$@" 2>/dev/null | cut -d, -f1,3-; }
# records: the CSV records on standard input (a quoted cell may span lines).
records () { grep -c '^[0-9a-f]\{8\}-[0-9a-f]\{4\}-'; }
# noid [noid]: with "noid", standard input without its ids (STIX and MISP
# carry a record's exported id, not the node's own), sorted.
noid () { if [ "${1:-}" = noid ]; then sed 's/^[0-9a-f-]\{36\},//; s/"id":"[^"]*",//' | sort; else cat; fi; }
same_csv () {  # same_csv NODE1 NODE2 [noid]: their CSV exports agree, origin aside
    csv_of "$1" | noid "${3:-}" >"$T/$1.cmp" && csv_of "$2" | noid "${3:-}" >"$T/$2.cmp" || return 1
    [ "$(wc -l <"$T/$1.cmp")" -gt 1 ] || return 1
    diff "$T/$1.cmp" "$T/$2.cmp" >"$T/diff" && return 0
    sed 's/^/# /' "$T/diff"
    return 1
}
# same_but_valid_from NODE1 NODE2: their records (list --json) agree but for
# origin, version, times of storing and valid_from (and ids, with noid).
same_but_valid_from () {
    for n in "$1" "$2"; do
        im "$n" list --json | sed -e 's/"origin":"[0-9a-f]*",//; s/"version":[0-9]*,//' \
            -e 's/"valid_from":\(null\|"[^"]*"\),//; s/"created":"[^"]*",//' \
            -e 's/"modified":"[^"]*"//' | noid "${3:-}" >"$T/$n.cmp"
    done
    [ "$(wc -l <"$T/$1.cmp")" -gt 1 ] || return 1
    diff "$T/$1.cmp" "$T/$2.cmp" >"$T/diff" && return 0
    sed 's/^/# /' "$T/diff"
    return 1
}
keep_logs () {
    [ "$tap_failed" -eq 0 ] && return
    keep=$(mktemp -d "${TMPDIR:-/tmp}/import-export-logs.XXXXXX") || return
    cp "$T"/*.log "$keep"/ 2>/dev/null
    echo "# the nodes' logs are kept in $keep"
}
trap 'keep_logs; cleanup' EXIT

block nodes 'usage errors; nine nodes, eight running'
b_nodes () {
    for n in alpha stix misp csv wl rtstix rtcsv rtmisp zulu; do
        new_node $n || diag "cannot init $n"
    done

    # --- Bad arguments ------------------------------------------------------------
    usage_error "import without a FILE is a usage error" -d "$T/alpha" import
    usage_error "import --format xml is a usage error" -d "$T/alpha" import --format xml "$D/csv-good.csv"
    usage_error "import --tlp purple is a usage error" -d "$T/alpha" import --tlp purple "$D/csv-good.csv"
    usage_error "export without --format is a usage error" -d "$T/alpha" export
    usage_error "export --format xml is a usage error" -d "$T/alpha" export --format xml
    usage_error "export --type bogus is a usage error" -d "$T/alpha" export --format csv --type bogus
    usage_error "export --tlp-max purple is a usage error" -d "$T/alpha" export --format csv --tlp-max purple
    usage_error "export --since garbage is a usage error" -d "$T/alpha" export --format csv --since garbage
    usage_error "export --origin of an unknown node is a usage error" \
        -d "$T/alpha" export --format csv --origin unknown
    usage_error "export with an extra argument is a usage error" -d "$T/alpha" export --format csv extra
    usage_error "check without a VALUE is a usage error" -d "$T/alpha" check

    for n in alpha stix misp csv wl rtstix rtcsv rtmisp; do
        start_node $n || diag "$n did not start"
        eval "pid_$n=\$NODE_PID"
    done
    im alpha status >/dev/null && im rtmisp status >/dev/null
    ok $? "eight nodes run"
}

# --- STIX 2.1 bundle ------------------------------------------------------------
block stix 'a STIX 2.1 bundle: counts, fields, re-imports' nodes
b_stix () {
    imp stix dry --dry-run "$D/stix-bundle.json"
    ok $(($? == 1 ? 0 : 1)) "a dry run of the STIX bundle exits 1 (it refuses 3 objects)"
    grep -q '"dry_run":true' "$T/dry" && [ "$(count stix)" -eq 0 ]
    ok $? "the dry run stores nothing"
    imp stix s1 "$D/stix-bundle.json"
    ok $(($? == 1 ? 0 : 1)) "importing the STIX bundle exits 1: some objects are refused"
    is_tally s1 "18 0 0 0 3"
    ok $? "18 indicators imported (2 OR patterns give 2 and 3), 3 refused"
    has_reasons s1 skipped "10|pattern not mappable" "3|not an indicator (marking-definition)" \
        "1|not an indicator (identity)" "1|not an indicator (malware)" \
        "1|revoked, and not held here"
    ok $? "skipped: 10 unmappable patterns, 5 objects outside the report, 1 revoked object not held here"
    has_reasons s1 refused "1|pattern is not a string" "1|confidence is not 0..100" \
        "1|value holds a NUL byte"
    ok $? "refused: a pattern that is not a string, confidence 150, a NUL byte"
    [ "$(tally dry)" = "$(tally s1)" ] && [ "$(reasons dry skipped)" = "$(reasons s1 skipped)" ] \
        && [ "$(reasons dry refused)" = "$(reasons s1 refused)" ]
    ok $? "the dry run reported the same counts as the import"
    grep -q 'stix-bundle.json:indicator--c0000001-0000-4000-8000-000000000002: confidence is not 0..100' "$T/s1.err"
    ok $? "standard error names the refused object and why"
    [ "$(count stix)" -eq 18 ]
    ok $? "the node holds the 18 indicators"
    held stix 198.51.100.7 '"id":"a0000001-0000-4000-8000-000000000001"' '"tlp":"amber"' \
        '"confidence":80' '"tags":["c2","loader-x"]' '"reach":2' \
        '"description":"Beacon target of the loader"' '"valid_from":"2025-03-01T10:00:00Z"' \
        '"valid_until":"2026-12-31T00:00:00Z"'
    ok $? "198.51.100.7 has the STIX id, TLP, confidence, labels, reach and times"
    held stix 203.0.113.0/24 '"tlp":"green"' '"reach":"unlimited"' '"description":"Scanning network"'
    ok $? "203.0.113.0/24 is GREEN (TLP 1.0 green), reach unlimited, named by the STIX name"
    held stix 192.0.2.55 '"tlp":"amber+strict"' && held stix 0123456789abcdef0123456789abcdef \
        '"tlp":"amber+strict"' '"id":"a0000001-0000-4000-8000-000000000014"'
    ok $? "an OR pattern under the bundle's AMBER+STRICT marking gives AMBER+STRICT indicators"
    held stix 192.0.2.66 '"tlp":"red"' && held stix 2001:db8::7 '"tlp":"clear"' \
        && held stix AS64500 '"type":"asn"'
    ok $? "TLP 2.0 markings: RED wins among several, CLEAR; autonomous-system:number is AS64500"
    im stix lookup a.evil.example >/dev/null && im stix lookup b.evil.example >/dev/null
    ok $? "both domains of an OR pattern can be looked up"
    lacks stix evil.example && lacks stix 192.0.2.12
    ok $? "neither the revoked object nor the one with confidence 150 is stored"

    imp stix s2 "$D/stix-bundle.json"
    is_tally s2 "0 0 0 18 3"
    ok $? "importing the bundle again: all 18 unchanged"
    sed -e 's/"confidence": 80,/"confidence": 60,/' -e 's/"labels": \["pair"\]/"labels": ["pair", "twin"]/' \
        "$D/stix-bundle.json" >"$T/stix-modified.json"
    imp stix s3 "$T/stix-modified.json"
    is_tally s3 "0 3 0 15 3"
    ok $? "a copy with one confidence and one label set changed: 3 updated, 15 unchanged"
    held stix 198.51.100.7 '"confidence":60' '"version":2' \
        && held stix a.evil.example '"tags":["pair","twin"]' \
        && held stix b.evil.example '"tags":["pair","twin"]' && held stix 2001:db8::7 '"version":1'
    ok $? "exactly those indicators changed"
    sed "s/\"pattern\": \"\[ipv6-addr:value = '2001:db8::7'\]\"/\"revoked\": true, &/" \
        "$T/stix-modified.json" >"$T/stix-revoked.json"
    imp stix s4 "$T/stix-revoked.json"
    is_tally s4 "0 0 1 17 3"
    ok $? "a copy where 2001:db8::7 is \"revoked\": true revokes 1, leaves 17"
    held stix 2001:db8::7 '"op":"revoke"' '"id":"a0000001-0000-4000-8000-000000000003"' \
        && ! im stix lookup 2001:db8::7 >/dev/null 2>&1
    ok $? "the earlier import of 2001:db8::7 is revoked: list shows it revoked, lookup no longer finds it"
    imp stix s5 "$T/stix-revoked.json"
    is_tally s5 "0 0 0 18 3"
    ok $? "importing the revoking copy again changes nothing"
}

# --- MISP: event, restSearch response, feed directory ---------------------------------
block misp 'MISP event, restSearch response and feed directory' stix
b_misp () {
    imp misp m1 "$D/misp-event.json"
    ok $(($? == 1 ? 0 : 1)) "importing the MISP event exits 1: two attributes are refused"
    is_tally m1 "26 0 0 0 2"
    ok $? "26 attributes imported (objects' included, to_ids false too), 2 refused"
    has_reasons m1 skipped "2|MISP type mutex not mapped" "1|MISP type text not mapped" \
        "1|MISP type size-in-bytes not mapped" "2|revoked, and not held here"
    ok $? "skipped: unmapped types, 2 deleted attributes not held here"
    has_reasons m1 refused "1|value is not a string" "1|distribution is not 0..5"
    ok $? "refused: a number as value, distribution 9"
    held misp 198.51.100.7 '"tlp":"red"' '"reach":0' '"confidence":70' '"tags":["c2","osint"]' \
        '"description":"C2 server"' '"id":"e1000001-0000-4000-8000-000000000001"'
    ok $? "198.51.100.7: the attribute's tlp:red, distribution 0, the event's confidence tag, tags, comment"
    held misp www.evil.example '"type":"domain"' '"tlp":"amber"' '"reach":"unlimited"' \
        '"description":"Loader X campaign"'
    ok $? "a hostname is a domain, the event's tlp:amber, distribution 3 is unlimited, info stands in"
    held misp 192.0.2.29 '"tlp":"amber+strict"' '"confidence":95' \
        '"valid_until":"2026-12-31T00:00:00Z"' && held misp 192.0.2.28 '"tlp":"clear"'
    ok $? "the most restrictive TLP tag wins; intelmesh: tags set confidence and valid_until; tlp:white is CLEAR"
    held misp 0000000000000000000000000000000000000000000000000000000000000001 '"reach":2' \
        && lacks misp gone.evil.example && lacks misp 1024
    ok $? "an object's attribute takes the object's distribution; a deleted object is not stored"
    imp misp m2 "$D/misp-response.json"
    ok $? "importing a {\"response\": [...]} export exits 0"
    is_tally m2 "3 0 0 0 0" && held misp one.evil.example '"tlp":"green"' '"reach":"unlimited"' \
        && held misp https://two.evil.example/x '"reach":0'
    ok $? "its 3 attributes are stored with their events' labels and distributions"
    imp misp m3 --dry-run "$D/misp-feed"
    imp misp m4 "$D/misp-feed"
    ok $? "importing a MISP feed directory exits 0"
    is_tally m4 "3 0 0 0 0" && has_reasons m4 skipped "1|MISP type mutex not mapped"
    ok $? "the feed gives 3 indicators and skips a mutex"
    [ "$(tally m3)" = "$(tally m4)" ] && grep -q '"dry_run":true' "$T/m3"
    ok $? "a dry run of the feed reported the same counts"
    held misp 192.0.2.101 '"tlp":"clear"' '"reach":"unlimited"' \
        && held misp 1111111111111111111111111111111111111111 '"tlp":"green"' '"reach":2' \
            '"tags":["feed-two"]'
    ok $? "feed attributes have their events' labels, distributions and tags"
    [ "$(count misp)" -eq 32 ]
    ok $? "the node holds 26 + 3 + 3 indicators"
    imp misp m5 "$D/misp-event.json"
    is_tally m5 "0 0 0 26 2"
    ok $? "importing the MISP event again: all 26 unchanged"
    sed -e 's/"comment": "C2 server",/"comment": "C2 server, moved",/' \
        -e 's/"value": "evil.example",/"value": "evil.example", "deleted": true,/' \
        "$D/misp-event.json" >"$T/misp-modified.json"
    imp misp m6 "$T/misp-modified.json"
    is_tally m6 "0 1 1 24 2"
    ok $? "a copy with one comment changed and one attribute deleted: 1 updated, 1 revoked"
    held misp 198.51.100.7 '"description":"C2 server, moved"' '"version":2' \
        && held misp evil.example '"op":"revoke"' && held misp mx.evil.example '"version":1'
    ok $? "the comment is updated, \"deleted\": true revoked the earlier import, the rest is as it was"
}

# --- CSV ------------------------------------------------------------------------------
block csv 'CSV' misp
b_csv () {
    imp csv c1 "$D/csv-good.csv"
    ok $? "importing the good CSV file exits 0"
    is_tally c1 "4 0 0 0 0" && has_reasons c1 skipped "3|revoked, and not held here"
    ok $? "4 lines imported; 3 that revoke what this node never held are skipped"
    held csv 198.51.100.7 '"id":"c1000001-0000-4000-8000-000000000001"' '"tlp":"amber"' \
        '"confidence":80' '"reach":2' '"tags":["c2","loader-x"]' \
        '"description":"C2 server, seen in \"Loader X\""' '"valid_until":"2026-12-31T00:00:00Z"'
    ok $? "198.51.100.7 has the CSV's id, label, confidence, reach, tags and quoted description"
    held csv 2001:db8::7 '"id":"c1000001-0000-4000-8000-000000000003"' '"tlp":"clear"' \
        '"confidence":0' '"reach":"unlimited"' '"tags":["second","spaced tag"]' \
        '"description":"two\nlines"' '"valid_from":"2025-03-01T00:00:00Z"'
    ok $? "2001:db8::7: ip-dst, TLP:CLEAR, trimmed tags, a quoted line break, a date at midnight"
    held csv evil.example '"tlp":"green"' && held csv \
        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 '"tlp":"green"'
    ok $? "a domain is stored in lower case and a value is trimmed"
    imp csv c2 "$D/csv-bad.csv"
    ok $(($? == 1 ? 0 : 1)) "importing the bad CSV file exits 1"
    is_tally c2 "2 0 0 0 8" && has_reasons c2 refused "5|malformed CSV line" \
        "1|tlp is not a TLP label" "1|value is empty" "1|type is empty" \
        && has_reasons c2 skipped "2|type mutant not mapped" "1|type mutex not mapped"
    ok $? "it stores 2 good lines, refuses 8 and skips 3, by reason"
    grep -q 'csv-bad.csv:3: malformed CSV line (3 cells, the header has 4)' "$T/c2.err" \
        && grep -q 'csv-bad.csv:15: malformed CSV line (bad quoting)' "$T/c2.err"
    ok $? "standard error names each refused line"
    held csv 192.0.2.1 '"tags":["ok"]' && held csv 192.0.2.6 '"tags":["last"]' && lacks csv 192.0.2.7
    ok $? "the lines before and after bad ones are stored; nothing after the unterminated quote"
    imp csv c3 "$D/csv-good.csv"
    is_tally c3 "0 0 0 4 0"
    ok $? "importing the good CSV file again: all 4 unchanged"
    sed 's/c2;loader-x/c2;loader-y/' "$D/csv-good.csv" >"$T/csv-modified.csv"
    imp csv c4 "$T/csv-modified.csv"
    is_tally c4 "0 1 0 3 0" && held csv 198.51.100.7 '"tags":["c2","loader-y"]'
    ok $? "a copy with one tag changed: that indicator alone is updated"
    sed 's/^\(,,domain,Evil\.Example,,,,,,,,\)\(\r\{0,1\}\)$/\1yes\2/' \
        "$T/csv-modified.csv" >"$T/csv-revoked.csv"
    imp csv c5 "$T/csv-revoked.csv"
    is_tally c5 "0 0 1 3 0" && held csv evil.example '"op":"revoke"'
    ok $? "a copy whose revoke column says yes revokes the earlier import"
}

# --- --tlp -------------------------------------------------------------------------------
block tlp '--tlp' csv
b_tlp () {
    before=$(count csv)
    imp csv t0 --tlp amber --dry-run "$C/tlp-mixed.csv"
    [ "$(count csv)" -eq "$before" ] && is_tally t0 "6 0 0 0 0"
    ok $? "a dry run with --tlp amber stores nothing and reports 6 to import"
    imp csv t1 --tlp amber "$C/tlp-mixed.csv"
    ok $? "import --tlp amber exits 0"
    held csv 192.0.2.201 '"tlp":"amber"' && held csv 192.0.2.202 '"tlp":"amber"' \
        && held csv 192.0.2.203 '"tlp":"amber"'
    ok $? "--tlp amber raises CLEAR, GREEN and unlabelled records to AMBER"
    held csv 192.0.2.204 '"tlp":"amber"' && held csv 192.0.2.205 '"tlp":"amber+strict"' \
        && held csv 192.0.2.206 '"tlp":"red"'
    ok $? "--tlp amber leaves AMBER, AMBER+STRICT and RED as they are"
    imp csv t2 --tlp amber "$C/tlp-mixed.csv"
    is_tally t2 "0 0 0 6 0"
    ok $? "importing it again with --tlp amber: all 6 unchanged"
    imp misp t3 --tlp amber "$D/misp-response.json"
    is_tally t3 "0 3 0 0 0" && held misp one.evil.example '"tlp":"amber"' \
        && held misp https://two.evil.example/x '"tlp":"amber"' && held misp 198.51.100.7 '"tlp":"red"'
    ok $? "a MISP import with --tlp amber raises its GREEN and unlabelled attributes"
}

# --- Malformed files -----------------------------------------------------------------------
block malformed 'malformed files change nothing' tlp
b_malformed () {
    # Each is refused whole with a one-line error naming it, and the store is as it was.
    printf '\000\001\002\377\376binary\000data\n' >"$T/binary.bin"
    head -c 3000 /dev/urandom >>"$T/binary.bin"
    : >"$T/empty.json"
    mkdir "$T/no-manifest" && cp "$D/misp-feed/a1b2c3d4-0000-4000-8000-000000000001.json" "$T/no-manifest/"
    truncate -s 300M "$T/huge.json" && printf '{"type": "bundle", "objects": []}' | dd of="$T/huge.json" conv=notrunc 2>/dev/null
    im csv list --json >"$T/store.before"
    # malformed FILE TEXT [OPTIONS]: import refuses FILE, exit 1, one line naming it and saying TEXT
    malformed () {
        f=$1; what=$2; shift 2
        im csv import "$@" "$f" >"$T/mf.out" 2>"$T/mf.err"
        rc=$?
        im csv list --json >"$T/store.after"
        if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/mf.err")" -eq 1 ] && grep -qF "intelmesh: import: $f" "$T/mf.err" \
            && grep -qF -- "$what" "$T/mf.err" && grep -q 'not read: nothing was taken' "$T/mf.out" \
            && cmp -s "$T/store.before" "$T/store.after"; then
            return 0
        fi
        diag "exit $rc, said: $(cat "$T/mf.err")"
        return 1
    }
    malformed "$D/broken.json" "line 4, column 25"
    ok $? "broken JSON: exit 1, the file, line and column named, the store unchanged"
    malformed "$D/stix-objects-number.json" '"objects" is not an array'
    ok $? "\"objects\": 5: exit 1, named, the store unchanged"
    malformed "$T/binary.bin" "cannot tell the format"
    ok $? "a binary file: exit 1, named, the store unchanged"
    malformed "$T/binary.bin" "binary.bin" --format stix
    ok $? "a binary file read as STIX: exit 1, named, the store unchanged"
    malformed "$T/empty.json" "cannot tell the format"
    ok $? "an empty file: exit 1, named, the store unchanged"
    malformed "$T/empty.json" "empty.json" --format csv
    ok $? "an empty file read as CSV: exit 1, named, the store unchanged"
    malformed "$T/no-manifest" "manifest.json"
    ok $? "a directory without manifest.json: exit 1, named, the store unchanged"
    malformed "$D/misp-feed-missing" "b1b2c3d4-0000-4000-8000-000000000002.json: listed in manifest.json but missing"
    ok $? "a feed whose manifest lists a missing file: exit 1, nothing taken from the other event"
    malformed "$T/missing.json" "No such file or directory"
    ok $? "a missing file: exit 1, named, the store unchanged"
    malformed "$T/huge.json" "larger than 256 MiB"
    ok $? "a 300 MiB (sparse) file: exit 1, named as too large, the store unchanged"
    malformed "$D/misp-attribute-string.json" '"Attribute" is not an array'
    ok $? "a MISP event whose Attribute is a string: exit 1, named, the store unchanged"
    malformed "$D/csv-unknown-column.csv" "unknown column 'colour'"
    ok $? "a CSV header with an unknown column: exit 1, named, the store unchanged"
    held csv 198.51.100.7 '"tags":["c2","loader-y"]' && held csv 192.0.2.6 '"op":"put"'
    ok $? "indicators imported earlier are still there"

    # Items as long as the limits allow (their JSON, escaped, up to 20 KB each,
    # 17 MB for 1000): the import goes in batches the control socket takes,
    # refusing every bad value and storing every good one, instead of sending a
    # request too big for it and waiting in vain.
    awk 'BEGIN {
        bs = ""; for (i = 0; i < 2020; i++) bs = bs "\\";
        tag = ""; for (i = 0; i < 120; i++) tag = tag "\\";
        tags = "t0" tag; for (i = 1; i < 32; i++) tags = tags ";t" i tag;
        q = ""; for (i = 0; i < 4000; i++) q = q "\"\"";
        print "type,value,tags,description";
        for (n = 0; n < 1000; n++) {
            if (n % 4 == 3) printf "domain,long%d.example.org,,\"%s\"\n", n, q;
            else printf "domain,bad%d.example.org%s,%s,\"%s\"\n", n, bs, tags, q;
        }
    }' >"$T/long.csv"
    im csv import "$T/long.csv" >"$T/long.out" 2>"$T/long.err"
    rc=$?
    [ "$rc" -eq 1 ] && grep -q "^imported  250$" "$T/long.out" && grep -q "^refused   750: 750 bad value$" "$T/long.out" \
        && held csv long999.example.org '"op":"put"'
    ok $? "1000 items of up to 20 KB each: the 250 good ones stored, 750 bad values refused, none lost"
}

# --- Warninglists ----------------------------------------------------------------------------
block warninglists 'warninglists' malformed
b_warninglists () {
    im wl check 11.1.2.3 >"$T/w0" 2>&1
    ok $? "with no warninglists configured, check 11.1.2.3 exits 0"
    im wl check 10.1.2.3 >"$T/w0" 2>&1; rc=$?
    [ $rc -eq 1 ] && grep -q "10.1.2.3 is on the built-in list 'private-use' (RFC 1918, entry 10.0.0.0/8): publishing it needs --force" "$T/w0"
    ok $? "but check 10.1.2.3 exits 1, naming the built-in list ($rc: $(cat "$T/w0"))"
    im wl check 192.0.2.1 >"$T/w0" 2>&1; rc=$?
    [ $rc -eq 1 ] && grep -q "publishing it only warns" "$T/w0"
    ok $? "and a documentation address is said to only warn ($rc: $(cat "$T/w0"))"
    mkdir -p "$T/wl/wl/private" && cp "$C/warninglist/list.json" "$T/wl/wl/private/list.json" \
        && printf 'warninglists\n    directory = "wl"\n' >>"$T/wl/intelmesh.conf" \
        && im wl reload >/dev/null 2>&1
    ok $? "a warninglist directory is added to the configuration, and the node reloads it"
    im wl check 10.1.2.3 >"$T/w1" 2>&1
    rc=$?
    [ "$rc" -eq 1 ] && grep -q "Test private ranges" "$T/w1" && grep -q "10.0.0.0/8" "$T/w1"
    ok $? "check 10.1.2.3 exits 1, naming the list and its entry"
    im wl check 10.1.2.3 --json | grep -q '"lists":\[{"list":"Test private ranges","entry":"10.0.0.0/8"}\]'
    ok $? "check --json lists it"
    im wl check 8.8.8.8 >/dev/null 2>&1
    ok $? "check 8.8.8.8 exits 0"
    im wl check not-an-ip --type ipv4 >/dev/null 2>"$T/w2"
    ok $(($? == 2 ? 0 : 1)) "check not-an-ip --type ipv4 exits 2"
    im wl publish ipv4 10.1.2.3 >/dev/null 2>"$T/w3"
    rc=$?
    [ "$rc" -eq 1 ] && grep -q "Test private ranges" "$T/w3" && lacks wl 10.1.2.3
    ok $? "publish ipv4 10.1.2.3 is refused, naming the list, and nothing is stored"
    im wl import "$C/warninglist.csv" >"$T/w4" 2>"$T/w4.err"
    rc=$?
    [ "$rc" -eq 1 ] && grep -q "^refused   1: 1 on warninglist 'Test private ranges'$" "$T/w4" \
        && grep -q "^imported  2$" "$T/w4"
    ok $? "import of a CSV holding 10.1.2.3 exits 1 and says it was refused on warninglist 'Test private ranges'"
    grep -q "warninglist.csv:3: .*Test private ranges" "$T/w4.err"
    ok $? "standard error names the line"
    lacks wl 10.1.2.3 && held wl 192.0.2.77 '"tlp":"green"' && held wl not-private.example '"tlp":"amber"'
    ok $? "10.1.2.3 is not stored; the other lines are"
    im wl import --force "$C/warninglist.csv" >"$T/w5" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] && grep -q "^imported  1$" "$T/w5" && grep -q "^unchanged 2$" "$T/w5" \
        && held wl 10.1.2.3 '"op":"put"'
    ok $? "with --force it is stored"
    im wl publish ipv4 10.9.9.9 >/dev/null 2>&1
    ok $(($? == 1 ? 0 : 1)) "publish of another listed value is refused"
    im wl publish --force ipv4 10.9.9.9 >/dev/null 2>&1 && held wl 10.9.9.9 '"op":"put"'
    ok $? "publish --force stores it"
}

# --- Round trips ------------------------------------------------------------------------------
block roundtrip 'round trips through STIX, CSV and MISP' warninglists
b_roundtrip () {
    # alpha holds every type and label, tags, confidences, reach 0, 1, 2 and
    # unlimited, validity times and descriptions (reach 3..254 and an empty
    # description through MISP are tested below). Its exports are imported into a
    # fresh node each;
    # a second batch then updates one, revokes one, adds one, and goes across too.
    im alpha publish - <"$C/roundtrip.jsonl" >"$T/ids1" 2>"$T/pub.err"
    ok $? "alpha publishes the round-trip data set"
    n1=$(count alpha)
    for f in stix csv misp; do
        im alpha export --format $f --tlp-max red -o "$T/alpha-1.$f" 2>/dev/null || diag "export $f failed"
    done
    interop_valid stix "$T/alpha-1.stix" && interop_valid misp "$T/alpha-1.misp"
    ok $? "alpha's STIX and MISP exports pass the OASIS STIX 2.1 and PyMISP schemas, ids of version 1-5"
    imp rtstix r1 "$T/alpha-1.stix" && is_tally r1 "$n1 0 0 0 0"
    ok $? "alpha's STIX export imports into a fresh node: $n1 imported"
    imp rtcsv r2 "$T/alpha-1.csv" && is_tally r2 "$n1 0 0 0 0"
    ok $? "alpha's CSV export imports into a fresh node: $n1 imported"
    imp rtmisp r3 "$T/alpha-1.misp" && is_tally r3 "$n1 0 0 0 0"
    ok $? "alpha's MISP export imports into a fresh node: $n1 imported"
    sleep 1.2
    since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    im alpha publish - <"$C/roundtrip-2.jsonl" >/dev/null 2>&1 \
        && im alpha revoke "$(im alpha list --json | grep -F '"value":"revoked.example"' \
            | sed 's/^{"id":"\([^"]*\)".*/\1/')" >/dev/null
    ok $? "alpha updates one, adds one, revokes one"
    for f in stix csv misp; do
        im alpha export --format $f --tlp-max red -o "$T/alpha-2.$f" 2>/dev/null || diag "export $f failed"
    done
    imp rtstix r4 "$T/alpha-2.stix" && is_tally r4 "1 1 1 $((n1 - 2)) 0"
    ok $? "the second STIX export: 1 imported, 1 updated, 1 revoked, the rest unchanged"
    imp rtcsv r5 "$T/alpha-2.csv" && is_tally r5 "1 1 1 $((n1 - 2)) 0"
    ok $? "the second CSV export: 1 imported, 1 updated, 1 revoked, the rest unchanged"
    imp rtmisp r6 "$T/alpha-2.misp" && is_tally r6 "1 1 1 $((n1 - 2)) 0"
    ok $? "the second MISP export: 1 imported, 1 updated, 1 revoked, the rest unchanged"
    interop_valid stix "$T/alpha-2.stix" && interop_valid misp "$T/alpha-2.misp"
    ok $? "the second STIX and MISP exports pass the schemas too"
    same_but_valid_from alpha rtstix noid
    ok $? "STIX round trip: the nodes' records agree, origin, id and valid_from aside"
    same_csv alpha rtstix noid
    ok $? "STIX round trip: the nodes' CSV exports agree, origin and id aside (valid_from too)"
    same_csv alpha rtcsv
    ok $? "CSV round trip: the nodes' CSV exports agree, origin aside"
    same_but_valid_from alpha rtmisp noid
    ok $? "MISP round trip: the nodes' records agree, origin, id and valid_from aside"
    same_csv alpha rtmisp noid
    ok $? "MISP round trip: the nodes' CSV exports agree, origin and id aside (valid_from too)"
    held rtmisp phish@evil.example '"valid_from":"2025-01-01T00:00:00Z"'
    ok $? "MISP round trip keeps valid_from"
    held rtstix revoked.example '"op":"revoke"' && held rtcsv revoked.example '"op":"revoke"' \
        && held rtmisp revoked.example '"op":"revoke"'
    ok $? "the revocation went across in every format"
    imp csv r7 "$T/alpha-2.stix"
    has_reasons r7 skipped "5|not an indicator (marking-definition)" "1|revoked, and not held here"
    ok $? "a node that never held the revoked indicator skips it as not held here"

    # MISP has no reach beyond "all" (distribution 3) and takes an event's info
    # for an empty comment: an intelmesh export carries the exact reach in an
    # intelmesh:reach tag and marks the event as its own, so neither is lost.
    im wl publish domain far.example --reach 7 --description "seven links" >/dev/null \
        && im wl publish domain bare.example --reach 1 >/dev/null \
        && im wl export --format misp --type domain -o "$T/wl.misp" 2>/dev/null \
        && interop_valid misp "$T/wl.misp" && imp rtmisp r8 "$T/wl.misp"
    ok $? "a MISP export with reach 7 and an empty description imports"
    held rtmisp far.example '"reach":7' '"description":"seven links"'
    ok $? "reach 7 comes back as 7 through MISP"
    held rtmisp bare.example '"reach":1' '"description":""'
    ok $? "an empty description comes back empty through MISP"
}

# --- Export filters ----------------------------------------------------------------------------
block filters 'export filters' roundtrip
b_filters () {
    csv_of alpha --type ipv4 >"$T/f.type"
    [ "$(records <"$T/f.type")" -eq 3 ] && [ "$(tail -n +2 "$T/f.type" | cut -d, -f2 | sort -u)" = ipv4 ]
    ok $? "export --type ipv4 writes the 3 IPv4 indicators alone"
    csv_of alpha --since "$since" >"$T/f.since"
    [ "$(tail -n +2 "$T/f.since" | cut -d, -f3 | sort | tr '\n' ' ')" \
        = "192.0.2.222 revoked.example updated.example " ]
    ok $? "export --since a time after the first batch writes the 3 records changed since"
    csv_of alpha --tlp-max green >"$T/f.tlp"
    [ "$(tail -n +2 "$T/f.tlp" | cut -d, -f4 | sort -u | tr '\n' ' ')" = "clear green " ] \
        && [ "$(records <"$T/f.tlp")" -eq "$(csv_of alpha | grep -c ',\(clear\|green\),')" ]
    ok $? "export --tlp-max green leaves out AMBER, AMBER+STRICT and RED, and keeps the rest"
    csv_of alpha --tlp-max amber+strict | cut -d, -f4 | grep -q '^red$'
    ok $((1 - $?)) "export --tlp-max amber+strict leaves out RED"
    for f in stix misp; do
        im alpha export --format $f --tlp-max green -o "$T/f.tlp2.$f" 2>/dev/null \
            && interop_valid $f "$T/f.tlp2.$f" && cat "$T/f.tlp2.$f"
    done >"$T/f.tlp2"
    ! grep -q 'tlp:amber\|tlp:red\|55d920b0-5e8b-4f79-9ee9-91f868d9b421\|e828b379-4e03-4974-9ac4-e53a884c97c1\|939a9414-2ddd-4d32-a0cd-375ea402b003' "$T/f.tlp2" \
        && grep -q 'tlp:green' "$T/f.tlp2"
    ok $? "STIX and MISP exports with --tlp-max green carry no AMBER or RED marking"
    ( umask 022 && im alpha export --format csv -o "$T/out.csv" 2>/dev/null )
    rc=$?
    [ "$rc" -eq 0 ] && [ "$(stat -c %a "$T/out.csv")" = 600 ]
    ok $? "export -o FILE makes the file mode 600 under umask 022"
    im alpha export --format csv 2>/dev/null | cmp -s - "$T/out.csv"
    ok $? "and it holds what standard output gets"
    im alpha export --format csv -o "$T/no/such/dir/out.csv" >/dev/null 2>"$T/f.err"
    rc=$?
    [ "$rc" -eq 1 ] && [ ! -e "$T/no/such/dir/out.csv" ] && [ "$(wc -l <"$T/f.err")" -eq 1 ] \
        && grep -q "no/such/dir/out.csv" "$T/f.err"
    ok $? "an export into a directory that does not exist fails with exit 1, names it, leaves no file"
    echo keep >"$T/kept.csv"
    stop_node "$pid_wl"
    ok $? "wl stops cleanly"
    im wl export --format csv -o "$T/kept.csv" >/dev/null 2>&1
    rc=$?
    [ "$rc" -eq 1 ] && [ "$(cat "$T/kept.csv")" = keep ] && [ -z "$(ls "$T" | grep 'kept.csv.tmp')" ]
    ok $? "an export that fails (no running node) leaves the old file as it was and no temporary file"

    # --origin: zulu publishes one indicator that replicates to alpha.
    start_node zulu
    pid_zulu=$NODE_PID
    im zulu publish domain zulu.example --description "from zulu" >/dev/null
    im alpha peer add "$(im zulu id)" >/dev/null && im zulu peer add "$(im alpha id)" >/dev/null
    ok $? "alpha and zulu trust each other"
    wait_for 150 im alpha lookup zulu.example
    ok $? "zulu's indicator reaches alpha"
    na=$(im alpha list --origin "$(im alpha id | cut -d' ' -f3)" --json | grep -c '"id":')
    csv_of alpha --origin zulu >"$T/f.z1"
    [ "$(tail -n +2 "$T/f.z1" | cut -d, -f3)" = zulu.example ]
    ok $? "export --origin zulu (a peer's name) writes zulu's indicator alone"
    csv_of alpha --origin "$(im zulu id | cut -d' ' -f3)" | cmp -s - "$T/f.z1"
    ok $? "export --origin with zulu's hex id writes the same"
    csv_of alpha --origin alpha >"$T/f.a1"
    [ "$(records <"$T/f.a1")" -eq "$na" ] && ! grep -q zulu.example "$T/f.a1" && [ "$na" -gt 10 ]
    ok $? "export --origin alpha (this node's name) writes alpha's $na and not zulu's"
    csv_of alpha --origin "$(im alpha id | cut -d' ' -f3)" | cmp -s - "$T/f.a1"
    ok $? "export --origin with alpha's hex id writes the same"
    [ "$(csv_of alpha | records)" -eq $((na + 1)) ]
    ok $? "export without --origin writes both origins' records"
}

block stop 'the nodes stop cleanly' filters
b_stop () {
    for n in alpha stix misp csv rtstix rtcsv rtmisp zulu; do
        eval "p=\$pid_$n"
        stop_node "$p"
        ok $? "$n stops cleanly"
    done
}

run_blocks "$@"
