#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t36-report-attacks.sh -- red team of reports and the new types (issue 15)
# as a careless new operator: every mistake with `report create, add, remove,
# show, list, revoke` and with publishing cve, attack-pattern, regkey, yara,
# sigma and snort gets one clear line on stderr and a non-zero exit, and
# nothing stored changes. TAP output.
. "$(dirname "$0")/lib.sh"

trap 'cleanup' EXIT
Z=00000000-0000-4000-8000-000000000000

# snapshot NODE: what NODE holds (reports, indicators), to compare.
snapshot () { im "$1" report list --json && im "$1" list --json; }

# refuses DESC WANT ARGS...: `intelmesh -d alpha ARGS` exits non-zero, prints
# nothing on stdout, and exactly one line on stderr that holds WANT.
refuses () {
    desc=$1 want=$2
    shift 2
    out=$(im alpha "$@" 2>"$T/err")
    rc=$?
    lines=$(wc -l <"$T/err")
    [ $rc -ne 0 ] && [ -z "$out" ] && [ "$lines" -eq 1 ] && grep -qF -- "$want" "$T/err"
    ok $? "$desc: exit $rc, one line: $(head -c 200 "$T/err")"
}

block node 'one node with a report and an indicator'
b_node () {
    new_node alpha && start_node alpha
    ok $? "alpha starts"
    rid=$(im alpha report create "Real report" --attack T1059) && [ ${#rid} -eq 36 ]
    ok $? "a report is made ($rid)"
    iid=$(im alpha publish domain evil.example 2>/dev/null) && [ ${#iid} -eq 36 ]
    ok $? "an indicator is published ($iid)"
    im alpha report add "$rid" "$iid" >/dev/null
    ok $? "it joins the report"
}

block report 'report subcommand mistakes: one line, non-zero, nothing stored changes' node
b_report () {
    before=$(snapshot alpha)
    long=$(head -c 300 /dev/zero | tr '\0' t)
    im alpha report >"$T/out" 2>&1
    [ $? -eq 2 ] && grep -q "Usage: intelmesh report create|add" "$T/out"
    ok $? "report alone exits 2 with its usage, as other commands do"
    refuses "an unknown subcommand" "unknown subcommand 'bogus'" report bogus
    refuses "create without a title" "give one TITLE" report create
    refuses "an empty title" "title: empty value" report create ""
    refuses "a blank title" "title: empty value" report create "   "
    refuses "a title of 300 bytes" "longer than 256 bytes" report create "$long"
    refuses "--attack T15" "'T15' is not an ATT&CK technique id" report create x --attack T15
    refuses "--attack 1566" "'1566' is not an ATT&CK technique id" report create x --attack 1566
    refuses "--attack T1566.1" "is not an ATT&CK technique id" report create x --attack T1566.1
    refuses "--tlp purple" "tlp: not one of" report create x --tlp purple
    refuses "--ref ftp://x" "'ftp://x' is not an http:// or https:// URL" report create x --ref ftp://x
    refuses "an empty --actor" "actors: a name of 1 to 128 bytes" report create x --actor ""
    refuses "add without ids" "missing argument" report add
    refuses "add without an indicator" "missing argument" report add "$rid"
    refuses "add to a report that does not exist" "$Z: no live report" report add "$Z" "$iid"
    refuses "add an indicator that is not held" "$Z: no live indicator" report add "$rid" "$Z"
    refuses "add a report to itself" "no live indicator" report add "$rid" "$rid"
    refuses "add with a report id that is an indicator's" "no live report" report add "$iid" "$iid"
    refuses "add with a report id that is not a UUID" "'notauuid' is not an id" report add notauuid "$iid"
    refuses "add an indicator id that is not a UUID" "'notauuid' is not an id" report add "$rid" notauuid
    refuses "remove without an indicator" "missing argument" report remove "$rid"
    refuses "remove from a report that does not exist" "no live report" report remove "$Z" "$iid"
    refuses "show a report that does not exist" "$Z: no live report" report show "$Z"
    refuses "show an indicator as a report" "no live report" report show "$iid"
    refuses "show something that is not an id" "'xyz' is not an id" report show xyz
    refuses "list with an argument" "unexpected argument 'extra'" report list extra
    refuses "revoke a report that does not exist" "no report of this node has that id" report revoke "$Z"
    refuses "revoke an indicator's id as a report" "not a report of this node" report revoke "$iid"
    check "nothing stored changed" test "$before" = "$(snapshot alpha)"
    for s in create add remove show list revoke; do
        im alpha report $s --help 2>/dev/null | grep -q "Usage: intelmesh report $s"
        ok $? "report $s --help prints its usage"
    done
}

block types 'publishing the new types: mistakes refused, nothing stored changes' node
b_types () {
    before=$(snapshot alpha)
    sigma_tab=$(printf 'title: x\nlogsource:\n\tproduct: w\ndetection:\n  sel:\n    a: 1\n  condition: sel')
    printf 'rule CrLf {\r\n  condition:\r\n    true\r\n}\r\n' >"$T/crlf.yar"
    refuses "a regkey without a hive" "does not start with a hive" publish regkey 'Software\Run'
    refuses "a regkey with an unknown hive" "does not start with a hive" publish regkey 'HKXX\Software'
    refuses "a hive alone" "names a hive but no key" publish regkey 'HKLM'
    refuses "a hive and a backslash" "names a hive but no key" publish regkey 'HKLM\'
    refuses "an empty key name" "has an empty key name" publish regkey 'HKLM\Software\\Run'
    refuses "a sigma rule with a tab" "has a tab" publish sigma "$sigma_tab"
    refuses "a yara rule from a CRLF file ending in CR" "whitespace" publish yara "$(cat "$T/crlf.yar")"
    refuses "a yara rule without a condition" "has no condition: section" publish yara 'rule x { strings: $a = "b" }'
    refuses "a yara rule with unbalanced braces" "has unbalanced braces" publish yara 'rule x { condition: true'
    refuses "a yara rule of 3000 bytes" "longer than 2048 bytes" publish yara "$(head -c 3000 /dev/zero | tr '\0' a)"
    refuses "a snort rule without msg" "no msg:" publish snort 'alert tcp any any -> any 80 (sid:1;)'
    refuses "a snort rule with a bad action" "is not a Snort rule" publish snort 'shout tcp any any -> any 80 (msg:"x"; sid:1;)'
    refuses "attack-pattern T15" "is not an ATT&CK technique id" publish attack-pattern T15
    refuses "a CVE of 3 digits" "is not a CVE id" publish cve CVE-2021-123
    refuses "a CVE of 1998" "has a year before 1999" publish cve CVE-1998-1234
    refuses "publish report" "'report' is not an indicator type" publish report 'A title'
    refuses "publish member" "'member' is not an indicator type" publish member x
    check "nothing stored changed" test "$before" = "$(snapshot alpha)"
    crlf=$(printf 'rule CrLf {\r\n  condition:\r\n    true\r\n}')
    id=$(im alpha publish yara "$crlf" 2>/dev/null) && [ ${#id} -eq 36 ]
    ok $? "a CRLF yara rule without the file's last line end is published"
    im alpha lookup --json --type yara "$(printf 'rule CrLf {\n  condition:\n    true\n}')" \
        | grep -qF 'rule CrLf {\n  condition:'
    ok $? "and kept with LF line ends"
}

run_blocks "$@"
