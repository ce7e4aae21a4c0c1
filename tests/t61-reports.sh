#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t61-reports.sh -- reports (SPEC.md, "Reports"): `report create, add, show,
# list, remove, revoke` through a node, a report and its context replicated
# over a line alpha - bravo - charlie, and members that never tell a node
# about an indicator it may not hold: alpha's GREEN report groups a GREEN and
# an AMBER indicator; bravo may have AMBER, charlie may not, and charlie ends
# up with the report and the GREEN member but no byte of the AMBER
# indicator's id in what it shows or stores.
. "$(dirname "$0")/lib.sh"

card_field () { im "$1" id | awk -v f="$2" '{ print $f }'; }
link () {
    im "$1" peer add "$(im "$2" id)" >/dev/null && im "$2" peer add "$(im "$1" id)" >/dev/null
}
connected () {
    im "$1" peer list --json | sed 's/},{"name"/}\n{"name"/g' | grep "\"name\":\"$2\"" \
        | grep -q '"connected":true'
}
has () { im "$1" lookup "$2" >/dev/null 2>&1; }
has_report () { im "$1" report list --json 2>/dev/null | grep -q "\"id\":\"$2\""; }
# shows NODE REPORT TEXT: `report show REPORT --json` at NODE holds TEXT.
shows () { im "$1" report show "$2" --json 2>/dev/null | grep -qF -- "$3"; }
pub () { n=$1; shift; id=$(im "$n" publish "$@") && [ ${#id} -eq 36 ] && echo "$id"; }
trap 'cleanup' EXIT

block mesh 'three nodes in a line: alpha - bravo - charlie'
b_mesh () {
    for n in alpha bravo charlie; do new_node $n || diag "cannot init $n"; done
    link alpha bravo && link bravo charlie
    ok $? "alpha-bravo and bravo-charlie put each other on their trust lists"
    im alpha policy set partners max-tlp=amber >/dev/null \
        && im alpha peer set bravo --policy partners >/dev/null
    ok $? "alpha clears bravo for AMBER; bravo sends charlie GREEN at most (default)"
    sed -i 's#^    heartbeat = 1$#&\n    format = misp#' "$T/bravo/intelmesh.conf" \
        && grep -q '^    format = misp$' "$T/bravo/intelmesh.conf"
    ok $? "bravo's feed is MISP-shaped (pub/format = misp)"
    im bravo policy set narrow deny-tags=internal >/dev/null \
        && im bravo peer set charlie --policy narrow >/dev/null
    ok $? "bravo never sends charlie what is tagged internal"
    start_node alpha && alpha_pid=$NODE_PID && start_node bravo && bravo_pid=$NODE_PID \
        && start_node charlie && charlie_pid=$NODE_PID
    ok $? "the three nodes start"
    wait_for 100 connected alpha bravo && wait_for 100 connected bravo charlie \
        && wait_for 100 connected charlie bravo
    ok $? "the links are up"
}

block create 'report create, show and list at the origin; bad input refused' mesh
b_create () {
    rid=$(im alpha report create "  Wave of spear-phishing  " --tlp green \
        --description "seen in May" --attack t1566.001 --attack T1059 --actor APT-X \
        --malware Emotet --ref https://cert.example/r/1 --mitigation "Block macros" \
        --mitigation-ref https://cert.example/m/1)
    ok $? "report create prints an id"
    check "the id is a UUID ($rid)" test ${#rid} -eq 36
    out=$(im alpha report show "$rid" --json)
    for want in '"value":"Wave of spear-phishing"' '"type":"report"' \
        '"attack":["T1059","T1566.001"]' '"actors":["APT-X"]' '"malware":["Emotet"]' \
        '"refs":["https://cert.example/r/1"]' '"text":"Block macros"' \
        '"https://cert.example/m/1"' '"tlp":"green"' '"members":[]'; do
        printf '%s' "$out" | grep -qF -- "$want"
        ok $? "report show --json has $want"
    done
    check "report list shows it with its title" \
        sh -c "'$INTELMESH' -d '$T/alpha' report list | grep -q '$rid  green .* Wave of spear-phishing'"
    for bad in "--attack X1" "--ref ftp://x.example/" "--mitigation-ref https://a.example/" \
        "--tlp purple"; do
        # shellcheck disable=SC2086
        err=$(im alpha report create "Bad" $bad 2>&1 >/dev/null)
        rc=$?
        [ "$rc" -ne 0 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]
        ok $? "report create $bad is refused in one line (exit $rc: $err)"
    done
    err=$(im alpha report create "   " 2>&1 >/dev/null)
    rc=$?
    [ "$rc" -ne 0 ] && [ -n "$err" ]
    ok $? "an empty title is refused: $err"
    im alpha list --json | grep -q '"type":"report"'
    ok $(( ! $? )) "list does not show reports"
    im alpha lookup "Wave of spear-phishing" >/dev/null 2>&1
    ok $(( $? == 0 ? 1 : 0 )) "lookup does not find a report by its title"
}

block replicate 'the report and its context reach bravo and charlie' create
b_replicate () {
    wait_for 100 has_report bravo "$rid" && wait_for 100 has_report charlie "$rid"
    ok $? "bravo and charlie hold the report"
    shows charlie "$rid" '"attack":["T1059","T1566.001"]' \
        && shows charlie "$rid" '"text":"Block macros"'
    ok $? "with its context, as signed by alpha"
}

block members 'members: charlie never learns of the AMBER indicator' replicate
b_members () {
    gid=$(pub alpha --tlp green domain green-ind.example) \
        && aid=$(pub alpha --tlp amber domain amber-ind.example)
    tid=$(pub alpha --tlp green --tag internal domain tagged-ind.example)
    ok $? "alpha publishes a GREEN and an AMBER indicator, and a GREEN one tagged internal"
    out=$(im alpha report add "$rid" "$gid" "$aid" "$tid")
    ok $? "report add adds the three: $(echo $out)"
    im alpha report add "$rid" "$gid" | grep -q "$gid unchanged"
    ok $? "adding one twice changes nothing"
    err=$(im alpha report add "$rid" 00000000-0000-4000-8000-000000000000 2>&1)
    ok $(( $? == 0 ? 1 : 0 )) "an id not held is refused: $err"
    shows alpha "$rid" "$gid" && shows alpha "$rid" "$aid"
    ok $? "alpha's report show lists both members"
    wait_for 100 shows bravo "$rid" "$aid" && shows bravo "$rid" "$gid"
    ok $? "bravo (cleared for AMBER) gets both members"
    # A GREEN control published after the members: once it is at charlie,
    # bravo has served charlie past them.
    cid=$(pub alpha --tlp green domain control-61.example)
    wait_for 100 has charlie control-61.example && wait_for 100 shows charlie "$rid" "$gid"
    ok $? "charlie gets the control and the GREEN member"
    ok "$(im charlie report show "$rid" --json | grep -c "$aid")" \
        "charlie's report show does not name the AMBER indicator"
    im charlie lookup amber-ind.example >/dev/null 2>&1
    ok $(( $? == 1 ? 0 : 1 )) "charlie's lookup does not find the AMBER indicator"
    im charlie list --json | grep -q "$aid"
    ok $(( ! $? )) "charlie's list --json does not name it"
    wait_for 100 shows bravo "$rid" "$tid"
    ok $? "bravo gets the member of the tagged indicator"
    ok "$(im charlie report show "$rid" --json | grep -c "$tid")" \
        "charlie, which may not have the tagged indicator, does not get its GREEN member"
    for x in "$aid" "$tid"; do
        hexid=$(printf '%s' "$x" | tr -d '-')
        found=0 seen=0
        for f in "$T"/charlie/*.mdb "$T"/charlie/*/*.mdb; do
            [ -f "$f" ] || continue
            seen=1
            grep -qaF "$x" "$f" && found=1
            od -An -tx1 -v "$f" | tr -d ' \n' | grep -q "$hexid" && found=1
        done
        [ "$seen" = 1 ] && [ "$found" = 0 ]
        ok $? "charlie's store holds neither the text nor the bytes of id $x"
    done
    im alpha report remove "$rid" "$gid" | grep -q "$gid removed"
    ok $? "report remove takes the GREEN indicator out"
    wait_for 100 sh -c "! '$INTELMESH' -d '$T/charlie' report show '$rid' --json | grep -q '$gid'"
    ok $? "and charlie's report show no longer lists it"
    im alpha report revoke "$rid" | grep -q "revoked"
    ok $? "report revoke revokes it"
    wait_for 100 sh -c "! '$INTELMESH' -d '$T/charlie' report list | grep -q '$rid'"
    ok $? "the revocation reaches charlie"
    : "$cid"
}

block lookup 'lookup names the reports an indicator belongs to' mesh
b_lookup () {
    lid=$(pub alpha --tlp green domain lookup-61.example) \
        && r2=$(im alpha report create "Lookup wave" --tlp green) \
        && r3=$(im alpha report create "Second wave" --tlp green)
    ok $? "alpha publishes an indicator and makes two reports"
    im alpha lookup lookup-61.example | grep -q "in report"
    ok $(( ! $? )) "before it is added, lookup names no report"
    im alpha report add "$r2" "$lid" >/dev/null && im alpha report add "$r3" "$lid" >/dev/null
    ok $? "the indicator is added to both"
    out=$(im alpha lookup lookup-61.example)
    printf '%s\n' "$out" | grep -qx "  in report Lookup wave  id $r2" \
        && printf '%s\n' "$out" | grep -qx "  in report Second wave  id $r3"
    ok $? "lookup prints a line for each report: $(echo $out)"
    im alpha lookup --json lookup-61.example \
        | grep -qF "{\"id\":\"$r2\",\"title\":\"Lookup wave\"}"
    ok $? "lookup --json gives each match its reports, id and title"
    wait_for 100 sh -c "'$INTELMESH' -d '$T/charlie' lookup lookup-61.example | grep -q 'in report Second wave'" \
        && im charlie lookup lookup-61.example | grep -q "in report Lookup wave"
    ok $? "charlie, which holds the reports and members, names both"
    im alpha report remove "$r2" "$lid" >/dev/null && im alpha report revoke "$r3" >/dev/null
    ok $? "alpha takes it out of one report and revokes the other"
    out=$(im alpha lookup lookup-61.example)
    printf '%s\n' "$out" | grep -q "in report"
    ok $(( ! $? )) "a removed member and a revoked report no longer count: $(echo $out)"
    im alpha lookup --json lookup-61.example | grep -qF '"reports":[]'
    ok $? "lookup --json has an empty reports array"
}

block feed 'the feed: reports and members on report.TLP, never as indicators' mesh
b_feed () {
    im alpha tail --timeout 200 >"$T/alpha.feed" 2>/dev/null &
    fa=$!; PIDS="$PIDS $fa"
    im bravo tail --timeout 200 >"$T/bravo.feed" 2>/dev/null &
    fb=$!; PIDS="$PIDS $fb"
    wait_for 100 grep -q node.heartbeat "$T/alpha.feed" \
        && wait_for 100 grep -q misp_json_self "$T/bravo.feed"
    ok $? "a subscriber on alpha's feed and one on bravo's MISP-shaped feed are connected"
    fid=$(pub alpha --tlp green domain feed-ind-61.example) \
        && frid=$(im alpha report create "Feed wave" --tlp green --attack T1204) \
        && im alpha report add "$frid" "$fid" >/dev/null \
        && im alpha report remove "$frid" "$fid" >/dev/null \
        && pub alpha --tlp green domain feed-end-61.example >/dev/null
    ok $? "alpha publishes an indicator, makes a report, adds and removes it, then a control"
    wait_for 100 grep -q feed-end-61.example "$T/alpha.feed" \
        && wait_for 100 grep -q feed-end-61.example "$T/bravo.feed"
    ok $? "the control reaches both subscribers"
    grep -q '"topic":"report.green","data":{[^}]*"type":"report"[^}]*"value":"Feed wave"' \
        "$T/alpha.feed" && grep -q '"topic":"report.green".*"attack":\["T1204"\]' "$T/alpha.feed"
    ok $? "the report goes out on report.green with its title and context"
    grep '"topic":"report.green"' "$T/alpha.feed" | grep '"type":"report"' | grep -q '"members"'
    ok $(( ! $? )) "the report message lists no members"
    n=$(grep '"topic":"report.green"' "$T/alpha.feed" | grep '"type":"member"' \
        | grep -c "\"value\":\"[0-9a-f]*/$fid $frid\"")
    grep '"topic":"report.green"' "$T/alpha.feed" | grep '"type":"member"' \
        | grep -q '"op":"revoke"'
    ok $(( $? == 0 && n == 2 ? 0 : 1 )) "the member's add and removal go out on report.green ($n messages)"
    grep -q '"topic":"ioc\.\(report\|member\)\.' "$T/alpha.feed"
    ok $(( ! $? )) "no report or member goes out on an ioc.* topic"
    grep -q '"topic":"misp_json_attribute".*feed-ind-61.example' "$T/bravo.feed"
    ok $? "bravo's MISP feed carries the indicator"
    grep '"topic":"misp_json_attribute"' "$T/bravo.feed" | grep -q "Feed wave\|$frid\|/$fid "
    ok $(( ! $? )) "and no report or member as a MISP attribute"
    stop_ours "$fa"; stop_ours "$fb"
}

block status 'status counts reports apart from indicators' mesh
b_status () {
    before=$(im charlie status --json) || before=
    ind0=$(printf '%s' "$before" | sed -n 's/.*"indicators":{"live":\([0-9]*\).*/\1/p')
    srid=$(im alpha report create "Status wave" --tlp green) \
        && sid=$(pub alpha --tlp green domain status-61.example) \
        && im alpha report add "$srid" "$sid" >/dev/null
    ok $? "alpha makes a report with one member"
    wait_for 100 has charlie status-61.example \
        && wait_for 100 shows charlie "$srid" "$sid"
    ok $? "charlie gets the report, the member and the indicator"
    out=$(im charlie status --json)
    ind1=$(printf '%s' "$out" | sed -n 's/.*"indicators":{"live":\([0-9]*\).*/\1/p')
    reps=$(im charlie report list --json | grep -o '"type":"report"' | wc -l)
    [ -n "$ind0" ] && [ "$ind1" = $((ind0 + 1)) ]
    ok $? "status counts the indicator only ($ind0 then $ind1 live indicators)"
    printf '%s' "$out" | grep -q "\"reports\":$reps[,}]"
    ok $? "status --json gives \"reports\": $reps, the live reports held"
    printf '%s' "$out" | grep -q '"by_type":{[^}]*"\(report\|member\)"'
    ok $(( ! $? )) "by_type names no report or member"
    im charlie status | grep -qx "reports     $reps live"
    ok $? "status prints 'reports     $reps live'"
}

block export 'export and list never show a report or a member as an indicator' mesh
b_export () {
    xid=$(pub alpha --tlp green domain export-61.example) \
        && xrid=$(im alpha report create "Export wave" --tlp green) \
        && im alpha report add "$xrid" "$xid" >/dev/null
    ok $? "alpha holds a report with a member"
    for f in stix misp csv; do
        im alpha export --format "$f" >"$T/export.$f"
        ok $? "export --format $f succeeds"
        grep -q export-61.example "$T/export.$f"
        ok $? "the $f export holds the indicator"
        if [ "$f" = stix ]; then
            # The report is a STIX report object (t62), never an indicator.
            "$PYTHON3" -c 'import json, sys
objs = json.load(open(sys.argv[1]))["objects"]
ind = [o for o in objs if o["type"] == "indicator"]
bad = [o for o in ind if sys.argv[2] in json.dumps(o) or "member" in json.dumps(o)]
rep = [o for o in objs if o["type"] == "report" and o["name"] == "Export wave"]
sys.exit(1 if bad or len(rep) != 1 else 0)' "$T/export.stix" "Export wave"
            ok $? "and the report is a STIX report object, no indicator"
            continue
        fi
        if [ "$f" = misp ]; then
            # The report is a MISP event of its own (t62), never an attribute.
            "$PYTHON3" -c 'import json, sys
evs = [e["Event"] for e in json.load(open(sys.argv[1]))["response"]]
rep = [e for e in evs if e["info"] == sys.argv[2]]
bad = [a for e in evs for a in e.get("Attribute", [])
       if sys.argv[2] in json.dumps(a) or "member" in json.dumps(a)]
sys.exit(1 if bad or len(rep) != 1 else 0)' "$T/export.misp" "Export wave"
            ok $? "and the report is a MISP event of its own, no attribute"
            continue
        fi
        grep -q "Export wave\|$xrid\|/$xid \|\"member\"\|\"report\"\|,member,\|,report," \
            "$T/export.$f"
        ok $(( ! $? )) "and neither the report nor the member"
    done
    im alpha list --json | grep -q '"type":"\(member\|report\)"'
    ok $(( ! $? )) "list --json shows no report or member"
    im alpha list | grep -q "Export wave\|^member \|^report "
    ok $(( ! $? )) "nor does list"
}

block deny 'deny-types=report keeps reports and their members from a partner' mesh
b_deny () {
    im bravo policy set narrow deny-tags=internal deny-types=report >/dev/null
    ok $? "bravo's policy for charlie now also denies reports"
    did=$(pub alpha --tlp green domain deny-61.example) \
        && drid=$(im alpha report create "Denied at bravo" --tlp green) \
        && im alpha report add "$drid" "$did" >/dev/null
    ok $? "alpha makes a GREEN report of a GREEN indicator"
    wait_for 100 shows bravo "$drid" "$did"; ok $? "bravo gets the report and its member"
    cid2=$(pub alpha --tlp green domain after-deny-61.example)
    wait_for 100 has charlie after-deny-61.example && has charlie deny-61.example
    ok $? "charlie gets the indicator, and one published after the report"
    ! im charlie report list | grep -q "$drid"
    ok $? "charlie does not get the report"
    found=0
    for f in "$T"/charlie/store/*.mdb; do
        grep -qaF "$drid" "$f" && found=1
    done
    [ "$found" = 0 ]; ok $? "nor any member naming it (its id is nowhere in charlie's store)"
    grep -q "deny-types = \"report\"" "$T/bravo/intelmesh.conf"
    ok $? "bravo's configuration keeps deny-types = report"
    : "$cid2"
}

block stop 'the nodes stop' mesh
b_stop () {
    stop_node "$alpha_pid" && stop_node "$bravo_pid" && stop_node "$charlie_pid"
    ok $? "the three nodes stop cleanly"
}

run_blocks "$@"
