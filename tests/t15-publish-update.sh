#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t15-publish-update.sh -- re-publishing a value changes only what is given:
# no silent TLP downgrade, wider reach or dropped recipient (issue 12, item
# 1), a revoked value published again included; publish --replace; lookup
# of a revoked indicator and explain by value (item 7); PUBLISH's compact
# results, as `publish -` asks for them; a JSON line's id, revoke, force and
# source.
. "$(dirname "$0")/lib.sh"
: "${CTL_CALL:=${top_builddir:-.}/tests/ctl_call}"

im () { "$INTELMESH" -d "$T/alpha" "$@"; }
# field JSON KEY: the value of "KEY" in one line of JSON (strings unquoted).
field () { printf '%s\n' "$1" | grep -o "\"$2\":\\(\"[^\"]*\"\\|[^,}]*\\)" | head -1 | cut -d: -f2- | tr -d '"'; }
rec () { im lookup --json "$1"; }
# A node id that is no peer: a recipient by id.
R1=1111111111111111111111111111111111111111111111111111111111111111
R2=2222222222222222222222222222222222222222222222222222222222222222

block start 'a node to publish on, and a peer to explain for'
b_start () {
    new_node alpha; ok $? "alpha is initialised"
    new_node bravo; ok $? "bravo is initialised"
    im peer add "$("$INTELMESH" -d "$T/bravo" id)" >/dev/null; ok $? "alpha trusts bravo"
    start_node alpha; ok $? "alpha starts"
}

block keep 'an update keeps every field that is not given' start
b_keep () {
    node_up alpha
    MD5=0123456789abcdef0123456789abcdef
    id=$(im publish --tlp amber+strict --tag apt --tag loader --confidence 80 --reach 1 \
        --description "dropper" --valid-until 2099-01-01 --to "$R1" md5 "$MD5" 2>/dev/null)
    [ ${#id} -eq 36 ]; ok $? "an MD5 is published AMBER+STRICT with tags, confidence, reach, recipients"
    id2=$(im publish md5 "$MD5" 2>"$T/err"); rc=$?
    [ $rc -eq 0 ] && [ "$id2" = "$id" ]; ok $? "re-publishing it with no option keeps its id and exits 0"
    grep -q "nothing changed" "$T/err"; ok $? "and says nothing changed"
    r=$(rec "$MD5")
    [ "$(field "$r" version)" = 1 ] && [ "$(field "$r" tlp)" = amber+strict ] \
        && [ "$(field "$r" confidence)" = 80 ] && [ "$(field "$r" reach)" = 1 ]
    ok $? "it is still version 1, AMBER+STRICT, confidence 80, reach 1"
    id2=$(im publish --confidence 90 md5 "$MD5" 2>"$T/err")
    [ "$id2" = "$id" ]; ok $? "an update of the confidence alone"
    grep -q "updated it (confidence)" "$T/err"; ok $? "says it updated the confidence only"
    r=$(rec "$MD5")
    [ "$(field "$r" version)" = 2 ] && [ "$(field "$r" tlp)" = amber+strict ] \
        && [ "$(field "$r" confidence)" = 90 ] && [ "$(field "$r" reach)" = 1 ] \
        && [ "$(field "$r" description)" = dropper ] \
        && printf '%s' "$r" | grep -q '"tags":\["apt","loader"\]' \
        && printf '%s' "$r" | grep -q "\"recipients\":\[\"$R1\"\]" \
        && printf '%s' "$r" | grep -q '"valid_until":"2099-01-01T00:00:00Z"'
    ok $? "version 2 keeps TLP, reach, description, tags, recipients and valid_until"
    out=$(im publish --json --tag apt --tlp red md5 "$MD5" 2>/dev/null)
    printf '%s' "$out" | grep -q '"status":"updated"' \
        && printf '%s' "$out" | grep -q '"changed":{[^}]*"tlp":\["amber+strict","red"\]' \
        && printf '%s' "$out" | grep -q '"changed":{[^}]*"tags":\[\["apt","loader"\],\["apt"\]\]' \
        && ! printf '%s' "$out" | grep -q '"changed":{[^}]*"confidence"'
    ok $? "--json says what changed: {\"tlp\":[old,new], \"tags\":[old,new]}"
}

block downgrade 'a lower TLP, wider reach or dropped recipient needs --allow-downgrade' keep
b_downgrade () {
    node_up alpha
    v=$(field "$(rec "$MD5")" version)
    out=$(im publish --tlp green md5 "$MD5" 2>"$T/err"); rc=$?
    [ $rc -eq 1 ] && [ -z "$out" ]; ok $? "lowering RED to GREEN is refused with exit 1"
    [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "tlp: RED -> GREEN" "$T/err" \
        && grep -q -- "--allow-downgrade" "$T/err"
    ok $? "in one line naming the field and the option"
    im publish --reach unlimited md5 "$MD5" >/dev/null 2>"$T/err"; rc=$?
    [ $rc -eq 1 ] && grep -q "reach: 1 -> unlimited" "$T/err"; ok $? "widening the reach is refused"
    im publish --to "$R2" md5 "$MD5" >/dev/null 2>"$T/err"; rc=$?
    [ $rc -eq 1 ] && grep -q "recipients: 1 -> 1 (1 dropped)" "$T/err"; ok $? "dropping a recipient is refused"
    im publish --replace md5 "$MD5" >/dev/null 2>"$T/err"; rc=$?
    [ $rc -eq 1 ] && grep -q "tlp: RED -> GREEN, reach: 1 -> unlimited, recipients: 1 -> 0" "$T/err"
    ok $? "--replace alone does not lower it either, and names all three"
    [ "$(field "$(rec "$MD5")" version)" = "$v" ]; ok $? "nothing was stored"
    out=$(im publish --tlp green --allow-downgrade md5 "$MD5" 2>/dev/null); rc=$?
    [ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | sed -n 1p)" = "$id" ] \
        && [ "$(printf '%s\n' "$out" | sed -n 2p)" = "tlp: RED -> GREEN" ] \
        && [ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ]
    ok $? "with --allow-downgrade it is stored, and stdout says 'tlp: RED -> GREEN'"
    r=$(rec "$MD5")
    [ "$(field "$r" tlp)" = green ] && [ "$(field "$r" reach)" = 1 ]; ok $? "GREEN now, reach still 1"
    out=$(im publish --json --allow-downgrade --replace md5 "$MD5" 2>/dev/null); rc=$?
    [ $rc -eq 0 ] && printf '%s' "$out" | grep -q '"downgraded":"reach: 1 -> unlimited, recipients: 1 -> 0 (1 dropped)"' \
        && printf '%s' "$out" | grep -q '"reach":\[1,"unlimited"\]'
    ok $? "--replace --allow-downgrade: --json gives the downgrades and the changes"
    r=$(rec "$MD5")
    [ "$(field "$r" confidence)" = 50 ] && printf '%s' "$r" | grep -q '"tags":\[\]' \
        && printf '%s' "$r" | grep -q '"recipients":\[\]' && [ "$(field "$r" description)" = "" ]
    ok $? "--replace gave the defaults to every field not given (confidence 50, no tags)"
    id2=$(im publish --tlp red md5 "$MD5" 2>/dev/null) && [ "$id2" = "$id" ]
    ok $? "raising the label needs no option"
}

block bulk 'publish - follows the same rules line by line' downgrade
b_bulk () {
    node_up alpha
    im publish --tlp amber --tag one domain bulk-a.example >/dev/null 2>&1
    im publish --tlp red domain bulk-b.example >/dev/null 2>&1
    {
        echo "domain bulk-a.example"
        echo '{"type":"domain","value":"bulk-b.example","tlp":"clear"}'
        echo '{"type":"domain","value":"bulk-c.example","tlp":"clear"}'
        echo '{"type":"domain","value":"bulk-a.example","confidence":70}'
    } | im publish - >"$T/out" 2>"$T/err"; rc=$?
    [ $rc -eq 1 ]; ok $? "a bulk publish with a refused downgrade exits 1"
    grep -q "line 2: refused: tlp: RED -> CLEAR" "$T/err"; ok $? "the refused line is named"
    grep -q "4 lines read: 3 published (1 new, 1 updated, 1 unchanged), 1 refused" "$T/err"
    ok $? "and counted; the other lines go on"
    r=$(rec bulk-a.example)
    [ "$(field "$r" tlp)" = amber ] && [ "$(field "$r" confidence)" = 70 ] \
        && printf '%s' "$r" | grep -q '"tags":\["one"\]'
    ok $? "a bulk line keeps the fields it does not give (AMBER, tag one, confidence 70)"
    [ "$(field "$(rec bulk-b.example)" tlp)" = red ]; ok $? "the refused line left RED as it was"
}

block import_downgrade 'import again with a lower label needs --allow-downgrade' start
b_import_downgrade () {
    node_up alpha
    printf 'type,value,tlp\ndomain,imp-a.example,red\ndomain,imp-b.example,amber\n' >"$T/one.csv"
    printf 'type,value,tlp\ndomain,imp-a.example,green\ndomain,imp-b.example,red\n' >"$T/two.csv"
    im import "$T/one.csv" >/dev/null 2>&1; ok $? "a CSV imports imp-a RED and imp-b AMBER"
    im import --json "$T/two.csv" >"$T/out" 2>"$T/err"; rc=$?
    [ $rc -eq 1 ] && grep -q '"downgrade":1' "$T/out"
    ok $? "importing it again with imp-a GREEN exits 1 and counts one downgrade ($rc: $(cat "$T/out"))"
    [ "$(field "$(rec imp-a.example)" tlp)" = red ] && [ "$(field "$(rec imp-b.example)" tlp)" = red ]
    ok $? "imp-a stays RED, and imp-b's raise to RED is taken"
    im import --allow-downgrade "$T/two.csv" >/dev/null 2>&1; ok $? "with --allow-downgrade it exits 0"
    [ "$(field "$(rec imp-a.example)" tlp)" = green ]; ok $? "and imp-a is GREEN"
}

block import_keep 'an import changes only the fields its file gives' start
b_import_keep () {
    node_up alpha
    im publish --tlp red --tag keep-me --confidence 95 --no-detect domain imp-k.example >/dev/null 2>&1
    ok $? "imp-k is published RED, tagged keep-me, confidence 95, not for detection"
    printf 'type,value,tlp\ndomain,imp-k.example,red\n' >"$T/k.csv"
    im import "$T/k.csv" >"$T/out" 2>&1; ok $? "a CSV of type, value and tlp imports it again"
    r=$(rec imp-k.example)
    [ "$(field "$r" confidence)" = 95 ] && printf '%s' "$r" | grep -q '"tags":\["keep-me"\]' \
        && printf '%s' "$r" | grep -q '"detect":false'
    ok $? "its tags, confidence and detection flag are kept: $r"
    printf 'type,value,tlp,tags,confidence\ndomain,imp-k.example,red,other,60\n' >"$T/k2.csv"
    im import "$T/k2.csv" >/dev/null 2>&1
    r=$(rec imp-k.example)
    [ "$(field "$r" confidence)" = 60 ] && printf '%s' "$r" | grep -q '"tags":\["other"\]'
    ok $? "a file that gives tags and confidence changes them"
}

block import_copy 'an import with its own id cannot make a less protected copy of a value' start
b_import_copy () {
    node_up alpha
    H=92eb5ffee6ae2fec3ad71c777531578f
    id=$(im publish --tlp red --tag secret md5 $H 2>/dev/null)
    [ ${#id} -eq 36 ]; ok $? "an MD5 is published RED"
    printf 'id,type,value,tlp\n33333333-3333-4333-8333-333333333333,md5,%s,clear\n' $H >"$T/copy.csv"
    im import --json "$T/copy.csv" >"$T/out" 2>"$T/err"; rc=$?
    [ $rc -eq 1 ] && grep -q '"downgrade":1' "$T/out" && grep -q "of the same value" "$T/out"
    ok $? "a CSV row with its own id and TLP:CLEAR for it is refused as a downgrade ($rc: $(cat "$T/out"))"
    n=$(im lookup --json $H | grep -o '"tlp":"[a-z+]*"' | sort | tr '\n' ' ')
    [ "$n" = '"tlp":"red" ' ]; ok $? "the node holds one copy, RED ($n)"
    printf 'id,type,value,tlp\n33333333-3333-4333-8333-333333333333,md5,%s,red\n' $H >"$T/copy.csv"
    im import "$T/copy.csv" >/dev/null 2>&1; ok $? "the same row at RED is imported"
}

block republish 'a revoked value published again keeps its protection; lowering it needs --allow-downgrade' start
b_republish () {
    node_up alpha
    H=5d41402abc4b2a76b9719d911017c592
    id=$(im publish --tlp red --tag apt --tag c2 --reach 1 --to "$R1" md5 $H 2>/dev/null)
    [ ${#id} -eq 36 ]; ok $? "an MD5 is published RED, with tags, reach 1 and a recipient"
    im revoke "$id" >/dev/null; ok $? "and revoked"
    out=$(im publish md5 $H 2>"$T/err"); rc=$?
    new=$(printf '%s\n' "$out" | sed -n 1p)
    [ $rc -eq 0 ] && [ ${#new} -eq 36 ] && [ "$new" != "$id" ]
    ok $? "published again with no option: a new indicator ($rc: $out)"
    [ "$(printf '%s\n' "$out" | sed -n 2p)" = "re-publishes revoked indicator $id, keeping tlp RED, reach 1, recipients 1 (a revocation keeps no tags, description or confidence)" ]
    ok $? "stdout says it re-publishes the revoked indicator and what it kept"
    r=$(rec $H)
    [ "$(field "$r" tlp)" = red ] && [ "$(field "$r" reach)" = 1 ] \
        && printf '%s' "$r" | grep -q "\"recipients\":\[\"$R1\"\]"
    ok $? "it stays RED, reach 1, with its recipient"
    im revoke "$new" >/dev/null
    new=$(im publish --tag apt --tag c2 md5 $H 2>/dev/null | sed -n 1p)
    r=$(rec $H)
    [ "$(field "$r" tlp)" = red ] && printf '%s' "$r" | grep -q '"tags":\["apt","c2"\]'
    ok $? "revoked and published again with its tags: RED with the tags"
    im revoke "$new" >/dev/null
    out=$(im publish --tlp green md5 $H 2>"$T/err"); rc=$?
    [ $rc -eq 1 ] && [ -z "$out" ] && grep -q "tlp: RED -> GREEN would lower the protection this value had as indicator" "$T/err" \
        && grep -q -- "--allow-downgrade" "$T/err"
    ok $? "revoked again, published GREEN without --allow-downgrade: refused, exit 1 ($(cat "$T/err"))"
    im lookup $H >/dev/null; [ $? -eq 1 ]; ok $? "and nothing live was stored"
    out=$(im publish --replace md5 $H 2>"$T/err"); rc=$?
    [ $rc -eq 1 ] && grep -q "tlp: RED -> GREEN, reach: 1 -> unlimited, recipients: 1 -> 0" "$T/err"
    ok $? "--replace alone is refused too"
    out=$(im publish --tlp green --allow-downgrade md5 $H 2>/dev/null); rc=$?
    [ $rc -eq 0 ] && printf '%s\n' "$out" | sed -n 2p | grep -q "^re-publishes revoked indicator .*, keeping reach 1, recipients 1 " \
        && [ "$(printf '%s\n' "$out" | sed -n 3p)" = "tlp: RED -> GREEN" ]
    ok $? "with --allow-downgrade: stored, and stdout says 'tlp: RED -> GREEN' ($(printf '%s' "$out" | tr '\n' '|'))"
    [ "$(field "$(rec $H)" tlp)" = green ]; ok $? "GREEN now"
    nid=$(field "$(rec $H)" id)
    # Revoked a second after the RED ones: of tombstones of one second, the
    # stricter counts (rule 8), and this one is to be the newest.
    sleep 1.1
    im revoke "$nid" >/dev/null
    out=$(im publish --json --tlp amber md5 $H 2>/dev/null)
    printf '%s' "$out" | grep -q "\"republished\":{\"revoked\":\"$nid\",\"kept\":\"reach 1, recipients 1\"}"
    ok $? "--json says what it re-published and kept ($out)"
}

block revoked 'lookup of a revoked indicator says by whom and when' start
b_revoked () {
    node_up alpha
    rid=$(im publish domain revoked-here.example 2>/dev/null)
    im revoke "$rid" >/dev/null; ok $? "an indicator is revoked"
    out=$(im lookup revoked-here.example); rc=$?
    [ $rc -eq 1 ]; ok $? "lookup of it exits 1"
    printf '%s\n' "$out" | grep -q "^domain revoked-here.example: revoked by this node at 20[0-9-]*T[0-9:]*Z"
    ok $? "and says 'revoked by this node at TIME'"
    im lookup --json revoked-here.example | grep -q "\"revoked\":\[{.*\"id\":\"$rid\""
    ok $? "--json lists the tombstone under \"revoked\""
    out=$(im lookup never-here.example); [ $? -eq 1 ] && printf '%s' "$out" | grep -q "not known"
    ok $? "a value never held is still 'not known'"
}

block explain 'explain VALUE PEER works as explain ID PEER' start
b_explain () {
    node_up alpha
    eid=$(im publish --tlp green domain explain-me.example 2>/dev/null)
    by_id=$(im explain "$eid" bravo); rc1=$?
    by_value=$(im explain explain-me.example bravo); rc2=$?
    [ -n "$by_value" ] && [ "$by_id" = "$by_value" ] && [ $rc1 = $rc2 ]
    ok $? "explain by value says what explain by id says"
    im explain --json explain-me.example bravo | grep -q "\"id\":\"$eid\""
    ok $? "and names the indicator's id"
    im explain nowhere.example bravo >/dev/null 2>"$T/err"; rc=$?
    [ $rc -eq 1 ] && grep -q "no indicator.*nowhere.example" "$T/err"; ok $? "a value not held is an error naming it"
    rid=$(im publish domain explain-revoked.example 2>/dev/null) && im revoke "$rid" >/dev/null
    im explain --json explain-revoked.example bravo | grep -q "\"id\":\"$rid\""
    ok $? "a revoked value is explained by its tombstone"
}

block compact 'PUBLISH "compact": a new indicator is its id alone, every other result an object' start
b_compact () {
    node_up alpha
    id=$(im publish domain compact-old.intelmesh-tests.net 2>/dev/null)
    echo '{"items":[{"type":"domain","value":"compact-new.intelmesh-tests.net"},
        {"type":"domain","value":"compact-old.intelmesh-tests.net","confidence":99},
        {"type":"domain","value":"not a domain"}],"compact":true,"merge":true}' \
        | "$CTL_CALL" "$T/alpha" PUBLISH >"$T/out" 2>"$T/err"
    ok $? "a compact PUBLISH is answered"
    nid=$(im lookup --json compact-new.intelmesh-tests.net | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
    grep -q "^{\"results\":\[\"$nid\",{\"id\":\"$id\",\"status\":\"updated\"" "$T/out"
    ok $? "the new one's result is its id, the update's an object: $(cut -c1-160 "$T/out")"
    grep -q '{"error":"value: ' "$T/out"; ok $? "a refused item's result is its error object"
    echo '{"items":[{"type":"domain","value":"compact-x.intelmesh-tests.net"}],"compact":"yes"}' \
        | "$CTL_CALL" "$T/alpha" PUBLISH >"$T/out" 2>"$T/err"
    [ $? -eq 1 ] && grep -q "'compact' must be true or false" "$T/err"
    ok $? "a compact that is no boolean refuses the request: $(cat "$T/err")"
    im lookup compact-x.intelmesh-tests.net >/dev/null 2>&1
    [ $? -eq 1 ]; ok $? "and nothing of it is stored"
    printf 'domain compact-a.intelmesh-tests.net\ndomain compact-old.intelmesh-tests.net\n' \
        | im publish --confidence 70 - >"$T/ids" 2>"$T/err"
    [ "$(sed -n 2p "$T/ids")" = "$id" ] && [ "$(wc -l <"$T/ids")" -eq 2 ] \
        && grep -q "(1 new, 1 updated, 0 unchanged)" "$T/err"
    ok $? "publish - reads both kinds of result: $(tail -1 "$T/err")"
}

block json_extras 'publish -: a JSON line may hold id, revoke, force and source, as a PUBLISH item may' start
b_json_extras () {
    node_up alpha
    U=01a24400-0000-7000-8000-000000000001
    printf '%s\n' \
        "{\"type\":\"domain\",\"value\":\"own-id.intelmesh-tests.net\",\"id\":\"$U\",\"source\":\"feed-7\"}" \
        "{\"type\":\"domain\",\"value\":\"own-id2.intelmesh-tests.net\",\"id\":\"$U\"}" \
        '{"type":"ipv4","value":"10.77.0.1","force":true}' \
        '{"type":"domain","value":"never-held.intelmesh-tests.net","revoke":true}' \
        '{"type":"domain","value":"bad-revoke.intelmesh-tests.net","revoke":"yes"}' \
        | im publish - >"$T/ids" 2>"$T/err"
    [ $? -eq 1 ]; ok $? "exit 1: one line was refused"
    [ "$(sed -n 1p "$T/ids")" = "$U" ] && [ "$(sed -n 2p "$T/ids")" = "$U" ]
    ok $? "a line with its own id publishes under that id, and the same id updates it"
    im lookup own-id2.intelmesh-tests.net | grep -q "$U"
    ok $? "the update changed the value of indicator $U"
    im lookup 10.77.0.1 >/dev/null; ok $? "force on one line publishes a private address"
    grep -q "line 5: refused: revoke: not true or false" "$T/err"
    ok $? "a revoke that is no boolean is refused by the node, with its line"
    grep -q "(2 new, 1 updated, 0 unchanged, 0 revoked), 1 not held (nothing to revoke), 1 refused" "$T/err"
    ok $? "the summary counts each: $(tail -1 "$T/err")"
    printf '%s\n' "{\"type\":\"domain\",\"value\":\"own-id2.intelmesh-tests.net\",\"revoke\":true}" \
        | im publish --json - >"$T/out" 2>"$T/err"
    grep -q "\"id\":\"$U\"" "$T/out" && grep -q '"status":"revoked"' "$T/out" \
        && grep -q "0 unchanged, 1 revoked)" "$T/err"
    ok $? "revoke by type and value revokes this node's indicator: $(cat "$T/out")"
    im lookup own-id2.intelmesh-tests.net | grep -qi "revoked"
    ok $? "and lookup shows it revoked"
}

block json_extras_review 'publish -: ids, revoke and nulls hold up against careless and hostile lines (from helper 62, reviewing ba8b8cc)' start
b_json_extras_review () {
    node_up alpha
    # 1. The same id twice in one batch with different values, then the first
    # value again without an id: the node holds nothing live of that value
    # any more, so the third line is new (as it is when it falls in the next
    # batch), and the second line's value stays published.
    V=01a24400-0000-7000-8000-0000000000e1
    printf '%s\n' \
        "{\"type\":\"domain\",\"value\":\"stale1.intelmesh-tests.net\",\"id\":\"$V\"}" \
        "{\"type\":\"domain\",\"value\":\"stale2.intelmesh-tests.net\",\"id\":\"$V\"}" \
        '{"type":"domain","value":"stale1.intelmesh-tests.net","confidence":70}' \
        | im publish --json - >"$T/out" 2>"$T/err"
    im lookup stale2.intelmesh-tests.net | grep -q "$V"
    ok $? "a line's update is not lost to a later line of the same batch: $(sed -n 3p "$T/out")"
    im lookup stale1.intelmesh-tests.net | grep -q "confidence 70"
    ok $? "and the later line is stored too"
    # 2. A revoke by id, then again by the same id, in one batch: one tombstone.
    W=01a24400-0000-7000-8000-0000000000e2
    printf '%s\n' "{\"type\":\"domain\",\"value\":\"twice.intelmesh-tests.net\",\"id\":\"$W\"}" \
        | im publish - >/dev/null 2>&1
    printf '%s\n' \
        '{"type":"domain","value":"twice.intelmesh-tests.net","revoke":true}' \
        "{\"type\":\"domain\",\"value\":\"twice.intelmesh-tests.net\",\"id\":\"$W\",\"revoke\":true}" \
        | im publish --json - >"$T/out" 2>"$T/err"
    [ "$(grep -c '"status":"revoked"' "$T/out")" -eq 1 ]
    ok $? "the second revoke of the same indicator is unchanged: $(tr '\n' ' ' <"$T/out")"
    # 3. A revoke whose id and value disagree revokes nothing.
    K=$(im publish domain keep-live.intelmesh-tests.net 2>/dev/null)
    im publish domain other-live.intelmesh-tests.net >/dev/null 2>&1
    printf '%s\n' "{\"type\":\"domain\",\"value\":\"other-live.intelmesh-tests.net\",\"id\":\"$K\",\"revoke\":true}" \
        | im publish - >/dev/null 2>"$T/err"
    [ $? -eq 1 ] && grep -q "is this node's domain keep-live.intelmesh-tests.net, not this item's value" "$T/err"
    ok $? "a revoke naming id $K with another value is refused: $(head -1 "$T/err")"
    ! im lookup keep-live.intelmesh-tests.net | grep -qi revoked
    ok $? "and leaves that indicator live"
    # 4. An id of one of this node's reports is not an indicator's.
    R=$(im report create "Review report" 2>/dev/null)
    printf '%s\n' "{\"type\":\"domain\",\"value\":\"over-report.intelmesh-tests.net\",\"id\":\"$R\"}" \
        | im publish - >/dev/null 2>"$T/err"
    [ $? -eq 1 ] && grep -q "names a record of type report of this node, not an indicator" "$T/err"
    ok $? "a line with a report's id is refused: $(head -1 "$T/err")"
    im report show "$R" >/dev/null 2>&1
    ok $? "and the report ($R) is not replaced"
    # 5. The nil UUID is no id of anything.
    printf '%s\n' '{"type":"domain","value":"nil-id.intelmesh-tests.net","id":"00000000-0000-0000-0000-000000000000"}' \
        | im publish - >/dev/null 2>"$T/err"
    [ $? -eq 1 ] && grep -q "line 1: refused: id: the nil UUID names no indicator" "$T/err"
    ok $? "the nil UUID is refused as an id: $(head -1 "$T/err")"
    # 6. SPEC.md, PUBLISH: a null value counts as absent.
    printf '%s\n' '{"type":"domain","value":"nulls.intelmesh-tests.net","revoke":null,"force":null,"source":null}' \
        | im publish - >/dev/null 2>"$T/err"
    ok $? "revoke, force and source null count as absent: $(head -1 "$T/err")"
}

block revoke_value 'a revoke by value revokes every live indicator of this node of that value' start
b_revoke_value () {
    node_up alpha
    A=$(im publish domain twin.intelmesh-tests.net 2>/dev/null)
    B=01a24400-0000-7000-8000-0000000000f1
    printf '%s\n' "{\"type\":\"domain\",\"value\":\"twin.intelmesh-tests.net\",\"id\":\"$B\"}" \
        | im publish - >/dev/null 2>&1
    [ "$(im lookup --json twin.intelmesh-tests.net | grep -o '"op":"put"' | wc -l)" -eq 2 ]
    ok $? "an importer's id makes a second live indicator ($B) of a value held as $A"
    # The second line names the other one by id: the first line revokes it.
    printf '%s\n' '{"type":"domain","value":"twin.intelmesh-tests.net","revoke":true}' \
        "{\"type\":\"domain\",\"value\":\"twin.intelmesh-tests.net\",\"id\":\"$B\",\"confidence\":10}" \
        | im publish --json - >"$T/out" 2>"$T/err"
    grep -q '"status":"revoked"' "$T/out" && grep -q '"also_revoked":\[' "$T/out"
    ok $? "a revoke by value says which other indicators it revoked: $(head -1 "$T/out")"
    grep -q "is revoked by an earlier line of this request" "$T/err"
    ok $? "a later line naming one of them is refused: $(grep -m1 refused "$T/err")"
    grep -q ", 1 revoked and 1 more of the same value" "$T/err"
    ok $? "and the summary counts both revoked: $(tail -1 "$T/err")"
    [ "$(im lookup --json twin.intelmesh-tests.net | grep -o '"op":"put"' | wc -l)" -eq 0 ]
    ok $? "no indicator of that value is live any more: $(im lookup twin.intelmesh-tests.net | tr '\n' ' ')"
    printf '%s\n' '{"type":"domain","value":"twin.intelmesh-tests.net","revoke":true}' \
        | im publish --json - >"$T/out" 2>"$T/err"
    ! grep -q also_revoked "$T/out"
    ok $? "a second revoke by value revokes nothing more: $(head -1 "$T/out")"
}


block revoke_value_review 'a revoke by value after helper 63'\''s review: siblings of the same request, a first one gone, a revoke by id after it, import counts' start
b_revoke_value_review () {
    node_up alpha
    puts () { im lookup --json "$1" | grep -o '"op":"put"' | wc -l; }
    idn () { printf '01a24400-0000-7000-8000-%012x' "$((0xf00 + $1))"; }
    d () { printf '{"type":"domain","value":"%s"%s}' "$1" "${2:+,$2}"; }
    V=same.intelmesh-tests.net
    printf '%s\n' "$(d $V "\"id\":\"$(idn 1)\"")" "$(d $V "\"id\":\"$(idn 2)\"")" "$(d $V '"revoke":true')" \
        | im publish --json - >"$T/out" 2>"$T/err"
    [ "$(puts $V)" -eq 0 ]
    ok $? "siblings made by earlier lines of the same request are revoked too: $(sed -n 3p "$T/out")"
    V=first.intelmesh-tests.net
    A=$(im publish domain $V 2>/dev/null)
    printf '%s\n' "$(d $V "\"id\":\"$(idn 3)\"")" | im publish - >/dev/null 2>&1
    printf '%s\n' "$(d $V "\"id\":\"$A\",\"revoke\":true")" "$(d $V '"revoke":true')" \
        | im publish --json - >"$T/out" 2>"$T/err"
    [ "$(puts $V)" -eq 0 ] && sed -n 2p "$T/out" | grep -q "\"id\":\"$(idn 3)\",\"status\":\"revoked\""
    ok $? "a revoke by value after a revoke by id of the first revokes the other: $(sed -n 2p "$T/out")"
    V=both.intelmesh-tests.net
    im publish domain $V >/dev/null 2>&1
    printf '%s\n' "$(d $V "\"id\":\"$(idn 4)\"")" | im publish - >/dev/null 2>&1
    printf '%s\n' "$(d $V '"revoke":true')" "$(d $V "\"id\":\"$(idn 4)\",\"revoke\":true")" \
        | im publish --json - >"$T/out" 2>"$T/err"
    [ $? -eq 0 ] && sed -n 2p "$T/out" | grep -q '"status":"unchanged"'
    ok $? "a revoke by id of a sibling revoked by value in the same request is unchanged: $(sed -n 2p "$T/out")"
    # Whichever of the two the value's index gives first (ids in order: one
    # below and one above this node's time-ordered ids), a later line naming
    # either is refused.
    for H in 01a24400-0000-7000-8000-000000000f07 7fffffff-0000-7000-8000-000000000f08; do
        V=order-${H:0:2}.intelmesh-tests.net
        A=$(im publish domain $V 2>/dev/null)
        printf '%s\n' "$(d $V "\"id\":\"$H\"")" | im publish - >/dev/null 2>&1
        printf '%s\n' "$(d $V '"revoke":true')" "$(d $V "\"id\":\"$A\",\"confidence\":10")" \
            "$(d $V "\"id\":\"$H\",\"confidence\":10")" | im publish - >/dev/null 2>"$T/err"
        [ "$(grep -c "is revoked by an earlier line of this request" "$T/err")" -eq 2 ] && [ "$(puts $V)" -eq 0 ]
        ok $? "with a sibling $H, a later line naming either one is refused: $(grep -c refused "$T/err") refused, $(puts $V) live"
    done
    V=resend.intelmesh-tests.net
    printf '%s\n' "$(d $V "\"id\":\"$(idn 5)\",\"tlp\":\"red\",\"recipients\":[\"$R1\"]")" | im publish - >/dev/null 2>&1
    printf '%s\n' "$(d $V "\"id\":\"$(idn 5)\",\"revoke\":true")" | im publish - >/dev/null 2>&1
    printf '%s\n' "$(d $V "\"id\":\"$(idn 5)\",\"confidence\":70")" | im publish - >/dev/null 2>&1
    r=$(rec $V)
    [ "$(field "$r" op)" = put ] && [ "$(field "$r" tlp)" = red ] && printf '%s' "$r" | grep -q "$R1"
    ok $? "an importer's id of a revoked RED indicator, published again, keeps RED and its recipient: $(printf '%s' "$r" | head -c 160)"
    printf '%s\n' "$(d $V "\"id\":\"$(idn 5)\",\"revoke\":true")" | im publish - >/dev/null 2>&1
    printf '%s\n' "$(d $V "\"id\":\"$(idn 5)\",\"tlp\":\"green\"")" | im publish - >/dev/null 2>"$T/err"
    [ $? -eq 1 ] && grep -q "would lower the protection this value had as indicator" "$T/err"
    ok $? "and GREEN given is refused without --allow-downgrade: $(head -1 "$T/err")"
    V=csv.intelmesh-tests.net
    im publish domain $V >/dev/null 2>&1
    printf '%s\n' "$(d $V "\"id\":\"$(idn 6)\"")" | im publish - >/dev/null 2>&1
    printf 'type,value,revoke\ndomain,%s,true\n' $V >"$T/r.csv"
    im import --json "$T/r.csv" >"$T/out" 2>&1
    [ "$(puts $V)" -eq 0 ] && grep -q '"revoked":2' "$T/out"
    ok $? "import of a CSV revoke by value revokes both, and counts both: $(head -c 200 "$T/out")"
}

block revoke_value_again 'a revoke by value of a value revoked already is unchanged, in the same request or the next' start
b_revoke_value_again () {
    node_up alpha
    d () { printf '{"type":"domain","value":"%s"%s}' "$1" "${2:+,$2}"; }
    V=again.intelmesh-tests.net
    A=$(im publish domain $V 2>/dev/null)
    printf '%s\n' "$(d $V '"revoke":true')" "$(d $V '"revoke":true')" \
        | im publish --json - >"$T/out" 2>"$T/err"
    sed -n 1p "$T/out" | grep -q "\"id\":\"$A\",\"status\":\"revoked\"" \
        && sed -n 2p "$T/out" | grep -q "\"id\":\"$A\",\"status\":\"unchanged\""
    ok $? "a second line revoking the value is unchanged, naming the tombstone: $(sed -n 2p "$T/out")"
    printf '%s\n' "$(d $V '"revoke":true')" | im publish --json - >"$T/out" 2>"$T/err"
    grep -q "\"id\":\"$A\",\"status\":\"unchanged\"" "$T/out"
    ok $? "and so is one in the next request: $(head -1 "$T/out")"
    # Published again, revoked again: the newest tombstone is named.
    B=$(im publish domain $V 2>/dev/null)
    printf '%s\n' "$(d $V '"revoke":true')" | im publish - >/dev/null 2>&1
    printf '%s\n' "$(d $V '"revoke":true')" | im publish --json - >"$T/out" 2>"$T/err"
    [ -n "$B" ] && [ "$B" != "$A" ] && grep -q "\"id\":\"$B\",\"status\":\"unchanged\"" "$T/out"
    ok $? "after the value is published and revoked again, the newer tombstone is named: $(head -1 "$T/out")"
    printf '%s\n' "$(d never.intelmesh-tests.net '"revoke":true')" | im publish --json - >"$T/out" 2>"$T/err"
    grep -q '"status":"skipped","reason":"revoked, and not held here"' "$T/out"
    ok $? "a value never held is still skipped as not held here: $(head -1 "$T/out")"
    [ "$(im lookup --json $V | grep -o '"op":"put"' | wc -l)" -eq 0 ]
    ok $? "nothing of the value came back to life"
}

block publish_review65 'rules 4, 8 and 9 as the request left them, after helper 65'\''s review: revoke then publish in one request keeps RED, a moved record does not hide the value'\''s other, exported ids' start
b_publish_review65 () {
    node_up alpha
    d () { printf '{"type":"domain","value":"%s"%s}' "$1" "${2:+,$2}"; }
    tlp_of () { im lookup --json "$1" | grep -o '"op":"put"[^}]*"tlp":"[a-z+]*"' | grep -o '"tlp":"[a-z+]*"' | cut -d'"' -f4; }
    # The id this node's export gives its record ID (a MISP attribute's uuid).
    exported () {
        im export --format misp 2>/dev/null | "$PYTHON3" -c 'import json, sys
def walk(o):
    if isinstance(o, dict):
        if o.get("value") == sys.argv[1] and "uuid" in o and "category" in o:
            yield o["uuid"]
        for v in o.values():
            yield from walk(v)
    elif isinstance(o, list):
        for v in o:
            yield from walk(v)
print(" ".join(walk(json.load(sys.stdin))))' "$1"
    }
    V=red.intelmesh-tests.net
    im publish --tlp red domain $V >/dev/null 2>&1
    printf '%s\n' "$(d $V '"revoke":true')" "$(d $V)" | im publish --json - >"$T/out" 2>"$T/err"
    [ "$(tlp_of $V)" = red ] && sed -n 2p "$T/out" | grep -q '"kept":"tlp RED"'
    ok $? "revoked and published again in one request, a RED value stays RED: $(sed -n 2p "$T/out")"
    V=h1.intelmesh-tests.net
    printf '%s\n' "$(d $V '"id":"3b241101-e2bb-4255-8caf-4136c566a962"')" "$(d $V '"revoke":true')" \
        "$(d $V '"id":"6f1c0a4e-1111-4222-8333-444455556666"')" \
        "$(d h2.intelmesh-tests.net '"id":"6f1c0a4e-1111-4222-8333-444455556666"')" "$(d $V '"revoke":true')" \
        | im publish --json - >"$T/out" 2>"$T/err"
    sed -n 5p "$T/out" | grep -q '"id":"3b241101-e2bb-4255-8caf-4136c566a962","status":"unchanged"'
    ok $? "a revoke by value after the value's newest record moved away names the earlier tombstone, unchanged: $(sed -n 5p "$T/out")"
    V=moved.intelmesh-tests.net
    X=$(im publish domain $V 2>/dev/null)
    printf '%s\n' "$(d $V '"id":"01a24400-0000-7000-8000-0000000000e1"')" \
        "$(d moved-away.intelmesh-tests.net '"id":"01a24400-0000-7000-8000-0000000000e1"')" "$(d $V)" \
        | im publish --json - >"$T/out" 2>"$T/err"
    sed -n 3p "$T/out" | grep -q "\"id\":\"$X\",\"status\":\"unchanged\""
    ok $? "once the value's newest record moved away, a put by value finds the value's other live record ($X): $(sed -n 3p "$T/out")"
    V=tie.intelmesh-tests.net
    im publish --tlp red domain $V >/dev/null 2>&1
    printf '%s\n' "$(d $V '"id":"7fffffff-0000-7000-8000-0000000000e2","tlp":"amber"')" \
        | im publish --allow-downgrade - >/dev/null 2>&1
    printf '%s\n' "$(d $V '"revoke":true')" | im publish --json - >"$T/out" 2>"$T/err"
    grep -q '"also_revoked"' "$T/out"; ok $? "a RED copy and an AMBER copy are revoked by value together"
    im publish domain $V >"$T/out" 2>"$T/err"
    [ "$(tlp_of $V)" = red ]
    ok $? "published again, it keeps RED, not the AMBER copy's label: $(tr '\n' ' ' <"$T/out")"
    V=export.intelmesh-tests.net
    X=$(im publish domain $V 2>/dev/null)
    E=$(exported "$V")
    [ ${#E} -eq 36 ] && [ "$E" != "$X" ]; ok $? "the export gives $X the id $E"
    printf '%s\n' "$(d $V "\"id\":\"$E\",\"confidence\":70")" "$(d $V "\"id\":\"$X\",\"revoke\":true")" \
        "$(d $V "\"id\":\"$E\",\"confidence\":80")" | im publish --json - >"$T/out" 2>"$T/err"
    r=$(rec $V)
    [ "$(field "$r" op)" = put ] && [ "$(field "$r" confidence)" = 80 ] && [ "$(field "$r" id)" = "$X" ] \
        && [ "$(field "$r" version)" = 4 ] && sed -n 2p "$T/out" | grep -q '"status":"revoked"'
    ok $? "by its exported id, then revoked by its own, then by its exported id again: version 4, as the three lines said ($(sed -n 3p "$T/out"); version $(field "$r" version))"
    V=copies.intelmesh-tests.net
    im publish domain $V >/dev/null 2>&1
    printf '%s\n' "$(d $V '"id":"7fffffff-0000-7000-8000-0000000000e3"')" | im publish - >/dev/null 2>&1
    set -- $(exported "$V")
    printf '%s\n' "$(d $V "\"id\":\"$1\",\"confidence\":31")" "$(d $V "\"id\":\"$2\",\"confidence\":32")" \
        | im publish --json - >"$T/out" 2>"$T/err"
    [ $# -eq 2 ] && [ "$(im lookup --json $V | grep -o '"op":"put"' | wc -l)" -eq 2 ] \
        && [ "$(grep -c '"status":"updated"' "$T/out")" -eq 2 ]
    ok $? "an import of its own export maps each of a value's two copies back to itself, not to a third: $(tr '\n' ' ' <"$T/out")"
    V=export2.intelmesh-tests.net
    X=$(im publish domain $V 2>/dev/null)
    E=$(exported "$V")
    printf '%s\n' "$(d $V '"revoke":true')" "$(d $V "\"id\":\"$E\",\"confidence\":10")" \
        | im publish --json - >"$T/out" 2>"$T/err"
    grep -q "is revoked by an earlier line of this request" "$T/err" \
        && [ "$(im lookup --json $V | grep -o '"op":"put"' | wc -l)" -eq 0 ]
    ok $? "a line naming by its exported id a record an earlier line revoked by value is refused: $(grep -m1 refused "$T/err")"
}

block publish_review66 'rule 8 and the second copy'\''s check after helper 66'\''s review: every stored tombstone counts, and earlier lines of the request too' start
b_publish_review66 () {
    node_up alpha
    d () { printf '{"type":"domain","value":"%s"%s}' "$1" "${2:+,$2}"; }
    tlp_of () { im lookup --json "$1" | grep -o '"op":"put"[^}]*"tlp":"[a-z+]*"' | grep -o '"tlp":"[a-z+]*"' | cut -d'"' -f4; }
    V=older.intelmesh-tests.net
    I=3b241101-e2bb-4255-8caf-4136c566a9e4
    # The newest tombstone, GREEN, is moved away by its id: the older RED one
    # is what the value had.
    printf '%s\n' "$(d $V '"tlp":"red"')" "$(d $V '"revoke":true')" | im publish - >/dev/null 2>&1
    sleep 1.1 # a second later: the newest, not one of the same second
    printf '%s\n' "$(d $V "\"id\":\"$I\",\"tlp\":\"green\"")" "$(d $V '"revoke":true')" \
        | im publish - >/dev/null 2>&1
    printf '%s\n' "$(d moved-on.intelmesh-tests.net "\"id\":\"$I\"")" "$(d $V)" \
        | im publish --json - >"$T/out" 2>"$T/err"
    [ "$(tlp_of $V)" = red ] && sed -n 2p "$T/out" | grep -q '"kept":"tlp RED"'
    ok $? "the newest tombstone's id moved to another value by an earlier line: the older RED tombstone still counts: $(sed -n 2p "$T/out")"
    V=second.intelmesh-tests.net
    printf '%s\n' "$(d $V '"tlp":"red"')" "$(d $V '"id":"3b241101-e2bb-4255-8caf-4136c566a9e5","tlp":"green"')" \
        | im publish --json - >"$T/out" 2>"$T/err"
    grep -q "a second copy would lower its protection" "$T/err" && [ "$(tlp_of $V)" = red ]
    ok $? "a GREEN second copy of a value an earlier line made RED is refused, as in the next request: $(grep -m1 refused "$T/err")"
    V=gone.intelmesh-tests.net
    im publish --tlp red domain $V >/dev/null 2>&1
    printf '%s\n' "$(d $V '"revoke":true')" "$(d $V '"id":"3b241101-e2bb-4255-8caf-4136c566a9e6","tlp":"amber"')" \
        | im publish --json - >"$T/out" 2>"$T/err"
    sed -n 2p "$T/out" | grep -q 'RED -> AMBER would lower the protection this value had as indicator'
    ok $? "a copy revoked by an earlier line is a tombstone to a new one, as in the next request: $(sed -n 2p "$T/out")"
}

block publish_review67 'an id that moves a record to another value may not lower that value'\''s protection: its live copies'\'', or the tombstone'\''s (helper 67)' start
b_publish_review67 () {
    node_up alpha
    d () { printf '{"type":"domain","value":"%s"%s}' "$1" "${2:+,$2}"; }
    I=5b241101-e2bb-4255-8caf-4136c566a9e1
    J=5b241101-e2bb-4255-8caf-4136c566a9e2
    K=5b241101-e2bb-4255-8caf-4136c566a9e3
    V=moved-red.intelmesh-tests.net
    printf '%s\n' "$(d $V "\"id\":\"$J\",\"tlp\":\"red\"")" "$(d elsewhere.intelmesh-tests.net "\"id\":\"$I\",\"tlp\":\"green\"")" \
        | im publish - >/dev/null 2>&1
    printf '%s\n' "$(d $V '"revoke":true')" | im publish - >/dev/null 2>&1
    printf 'id,type,value\n%s,domain,%s\n' $I $V >"$T/moved.csv"
    im import --json "$T/moved.csv" >"$T/out" 2>"$T/err"; rc=$?
    [ $rc -eq 1 ] && grep -q '"downgrade":1' "$T/out" && grep -q "which this node revoked" "$T/out"
    ok $? "a GREEN record's id given to a revoked RED value is refused against its tombstone ($rc: $(grep -o '"refusals":[^]]*' "$T/out"))"
    im lookup $V >/dev/null; [ $? -eq 1 ]; ok $? "and the value is not live"
    printf '%s\n' "$(d $V "\"id\":\"$I\",\"tlp\":\"red\"")" | im publish - >/dev/null 2>&1
    [ "$(field "$(rec $V)" tlp)" = red ]; ok $? "given RED, the move goes through"
    W=live-red.intelmesh-tests.net
    printf '%s\n' "$(d $W '"tlp":"red"')" "$(d other.intelmesh-tests.net "\"id\":\"$K\",\"tlp\":\"green\"")" \
        | im publish - >/dev/null 2>&1
    printf '%s\n' "$(d $W "\"id\":\"$K\"")" | im publish - >/dev/null 2>"$T/err"; rc=$?
    [ $rc -eq 1 ] && grep -q "a second copy would lower its protection" "$T/err"
    ok $? "a GREEN record moved onto a value held RED is refused as a second copy would be ($(cat "$T/err"))"
    printf '%s\n' "$(d $W "\"id\":\"$K\"")" | im publish --allow-downgrade - >/dev/null 2>&1
    ok $? "with --allow-downgrade it is moved"
}

block publish_review68 'a moved record is checked once merged over what its id held, and an allowed downgrade says so (helper 68)' start
b_publish_review68 () {
    node_up alpha
    d () { printf '{"type":"domain","value":"%s"%s}' "$1" "${2:+,$2}"; }
    I=6b241101-e2bb-4255-8caf-4136c566a9e1
    J=6b241101-e2bb-4255-8caf-4136c566a9e2
    V=tomb-green.intelmesh-tests.net X=tomb-clear.intelmesh-tests.net
    printf '%s\n' "$(d $V "\"id\":\"$I\",\"tlp\":\"green\"")" "$(d $X "\"id\":\"$J\",\"tlp\":\"clear\"")" \
        "$(d $V '"revoke":true')" "$(d $X '"revoke":true')" | im publish - >/dev/null 2>&1
    printf '%s\n' "$(d $V "\"id\":\"$J\"")" | im publish - >/dev/null 2>"$T/err"; rc=$?
    [ $rc -eq 1 ] && grep -q "tlp: GREEN -> CLEAR would lower the protection this value had" "$T/err"
    ok $? "a revoked CLEAR record's id given to a value revoked GREEN, with no label: refused once merged to CLEAR ($(cat "$T/err"))"
    K=6b241101-e2bb-4255-8caf-4136c566a9e3
    L=6b241101-e2bb-4255-8caf-4136c566a9e4
    V=red-a.intelmesh-tests.net X=red-b.intelmesh-tests.net
    printf '%s\n' "$(d $V "\"id\":\"$K\",\"tlp\":\"red\"")" "$(d $X "\"id\":\"$L\",\"tlp\":\"red\"")" \
        "$(d $V '"revoke":true')" "$(d $X '"revoke":true')" | im publish - >/dev/null 2>&1
    printf '%s\n' "$(d $V "\"id\":\"$L\"")" | im publish - >/dev/null 2>"$T/err"
    ok $? "a revoked RED record's id given to a value revoked RED, with no label, goes through ($(cat "$T/err"))"
    [ "$(field "$(rec $V)" tlp)" = red ]; ok $? "RED, as both were"
    M=6b241101-e2bb-4255-8caf-4136c566a9e5
    V=allowed.intelmesh-tests.net
    printf '%s\n' "$(d $V '"tlp":"red"')" "$(d $V '"revoke":true')" "$(d other-allowed.intelmesh-tests.net "\"id\":\"$M\",\"tlp\":\"green\"")" \
        | im publish - >/dev/null 2>&1
    out=$(printf '%s\n' "$(d $V "\"id\":\"$M\"")" | im publish --allow-downgrade --json - 2>/dev/null)
    printf '%s' "$out" | grep -q '"downgraded":"tlp: RED -> GREEN"'
    ok $? "moved onto a value revoked RED with --allow-downgrade: the result says what was lowered ($out)"
}

block import_new_id 'an importer'\''s new id for a value this node revoked keeps the revoked one'\''s protection (rule 8), as a line without an id does' start
b_import_new_id () {
    node_up alpha
    H=0cc175b9c0f1b6a831c399e269772661
    id=$(im publish --tlp red --reach 1 md5 $H 2>/dev/null)
    im revoke "$id" >/dev/null; ok $? "an MD5 published RED, reach 1, is revoked"
    printf 'id,type,value,tlp\n44444444-4444-4444-8444-444444444444,md5,%s,green\n' $H >"$T/new.csv"
    im import --json "$T/new.csv" >"$T/out" 2>"$T/err"; rc=$?
    [ $rc -eq 1 ] && grep -q '"downgrade":1' "$T/out" && grep -q "which this node revoked" "$T/out"
    ok $? "a CSV row with a new id and TLP:GREEN is refused as a downgrade against the tombstone ($rc: $(cat "$T/out"))"
    im lookup $H >/dev/null; [ $? -eq 1 ]; ok $? "and nothing live was stored"
    printf '{"id":"44444444-4444-4444-8444-444444444445","type":"md5","value":"%s"}\n' $H \
        | im publish --json - >"$T/out" 2>"$T/err"
    grep -q '"republished":{"revoked":"'"$id"'","kept":"tlp RED, reach 1"}' "$T/out" \
        && [ "$(field "$(rec $H)" tlp)" = red ] && [ "$(field "$(rec $H)" reach)" = 1 ]
    ok $? "a line with a new id and no label: a new indicator that keeps RED and reach 1 ($(cat "$T/out"))"
    im revoke 44444444-4444-4444-8444-444444444445 >/dev/null 2>&1 \
        || im revoke "$(field "$(rec $H)" id)" >/dev/null
    printf 'id,type,value,tlp\n44444444-4444-4444-8444-444444444446,md5,%s,green\n' $H >"$T/new.csv"
    im import --allow-downgrade "$T/new.csv" >/dev/null 2>&1
    [ "$(field "$(rec $H)" tlp)" = green ]
    ok $? "with --allow-downgrade the GREEN row is stored"
}

run_blocks "$@"
