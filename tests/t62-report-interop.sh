#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t62-report-interop.sh -- import and export keep a report's context
# (issue 15, item 3): the public STIX APT1 bundle and MISP Regin event
# imported into alpha give a report with its actors, malware, attack
# patterns and member indicators; exported again (checked against the OASIS
# STIX 2.1 schemas and PyMISP's schema) and imported into a fresh node
# (bravo, charlie; delta for charlie's MISP export), they give the same
# report: title, context and members.
. "$(dirname "$0")/lib.sh"

PUBLIC="$TESTS_SRCDIR/data/public"
trap 'cleanup' EXIT

# report_json NODE TITLE: `report show --json` of NODE's report titled TITLE.
report_json () {
    rid=$(im "$1" report list --json | "$PYTHON3" -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r["value"] == sys.argv[1]: print(r["id"])' "$2" | head -1)
    [ -n "$rid" ] && im "$1" report show "$rid" --json
}

# summary FILE: a report's title, context and members (their type, value
# and id), one JSON line, the same for the same report wherever it is held.
summary () {
    "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
r, m = d["report"], d["members"]
keep = {k: r.get(k) for k in ("id", "value", "description", "tlp", "attack", "actors",
                              "malware", "refs", "mitigations", "tags")}
keep["members"] = sorted((x["type"], x["value"], x["id"]) for x in m)
print(json.dumps(keep, sort_keys=True))' "$1"
}

# pyexpr FILE EXPR: EXPR (Python, R the report show JSON of FILE) is true.
pyexpr () {
    "$PYTHON3" -c '
import json, sys
R = json.load(open(sys.argv[1]))
r, m = R["report"], R["members"]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

block nodes 'three fresh nodes: alpha imports, bravo and charlie re-import'
b_nodes () {
    for n in alpha bravo charlie; do
        new_node $n && start_node $n || diag "cannot start $n"
    done
    ok $? "alpha, bravo and charlie run (not linked)"
}

APT1="APT1: Exposing One of China's Cyber Espionage Units"

block stix_import 'the APT1 bundle gives a report with its context and members' nodes
b_stix_import () {
    im alpha import "$PUBLIC/stix21-apt1-bundle.json" >"$T/apt1.out" 2>&1
    sed 's/^/# /' "$T/apt1.out"
    grep -q '^imported  10$' "$T/apt1.out"
    ok $? "the 10 mappable indicators are imported (as before)"
    grep -q '^reports   1: 1 new$' "$T/apt1.out" && grep -q '^members   10: 10 added$' "$T/apt1.out"
    ok $? "one report is made and its 10 indicators added as members"
    grep -q '^context .*6 malware.*10 tool' "$T/apt1.out" \
        && grep -q '5 threat-actor' "$T/apt1.out" && grep -q '1 intrusion-set' "$T/apt1.out" \
        && grep -q '7 attack-pattern' "$T/apt1.out"
    ok $? "the summary counts the context taken: malware, tools, actors, attack patterns"
    grep -q '7 relationship not read (attributed-to)' "$T/apt1.out" \
        && grep -q '4 not an indicator (identity)' "$T/apt1.out"
    ok $? "and what it skipped, by reason (attributed-to relationships, identities)"
    report_json alpha "$APT1" >"$T/a1.json"
    ok $? "alpha holds the report '$APT1'"
    pyexpr "$T/a1.json" 'r["id"] == "e33ffe07-2f4c-48d8-b0af-ee2619d765cf"'
    ok $? "it keeps the STIX report's id"
    pyexpr "$T/a1.json" 'sorted(r["actors"]) == sorted(["APT1", "Ugly Gorilla", "DOTA",
        "SuperHard", "Communist Party of China", "Unit 61398"])'
    ok $? "its actors: the intrusion set and the 5 threat actors"
    pyexpr "$T/a1.json" 'len(r["malware"]) == 16 and "WEBC2-UGX" in r["malware"] and "mimikatz" in r["malware"]'
    ok $? "its malware: the 6 malware and 10 tools by name"
    pyexpr "$T/a1.json" '(sorted(t for t in r["tags"] if t.startswith("attack-pattern:"))
        == sorted("attack-pattern:" + n for n in ["Initial Compromise",
        "Establishing a Foothold", "Privilege Escalation", "Internal Reconnaisance",
        "Lateral Movement", "Maintain Presence", "Completing the Mission"]))'
    ok $? "the 7 attack patterns (no ATT&CK id in the file) are kept by name as tags"
    pyexpr "$T/a1.json" 'len(m) == 10 and len(r["description"]) > 2000'
    ok $? "10 members held and the description kept"
    im alpha import "$PUBLIC/stix21-apt1-bundle.json" >"$T/apt1b.out" 2>&1
    grep -q '^reports   1: 1 unchanged$' "$T/apt1b.out" \
        && grep -q '^members   10: 10 unchanged$' "$T/apt1b.out" \
        && [ "$(im alpha report list --json | grep -c '"type":"report"')" -eq 1 ]
    ok $? "importing it again changes nothing: still one report"
}

block stix_round 'exported as STIX and imported into bravo: the same report' stix_import
b_stix_round () {
    im alpha export --format stix -o "$T/a1.stix.json" 2>/dev/null
    ok $? "alpha exports STIX"
    interop_valid stix "$T/a1.stix.json"
    ok $? "the export passes the OASIS STIX 2.1 schemas"
    "$PYTHON3" -c '
import json, sys, collections
b = json.load(open(sys.argv[1]))
c = collections.Counter(o["type"] for o in b["objects"])
print("# exported: " + ", ".join("%d %s" % (n, t) for t, n in sorted(c.items())))
rep = [o for o in b["objects"] if o["type"] == "report"]
ids = {o["id"] for o in b["objects"]}
refs = rep[0]["object_refs"]
sys.exit(0 if len(rep) == 1 and all(x in ids for x in refs) and
    sum(x.startswith("indicator--") for x in refs) == 10 and c["threat-actor"] == 6
    and c["malware"] == 16 and c["attack-pattern"] == 7 and c["relationship"] > 0 else 1)
' "$T/a1.stix.json"
    ok $? "it holds one report naming its 10 indicators, 6 actors, 16 malware, 7 attack patterns"
    im bravo import "$T/a1.stix.json" >"$T/b1.out" 2>&1
    sed 's/^/# /' "$T/b1.out"
    report_json bravo "$APT1" >"$T/b1.json"
    ok $? "bravo holds the report after importing alpha's export"
    [ "$(summary "$T/a1.json")" = "$(summary "$T/b1.json")" ]
    ok $? "the same report: title, description, context and the same 10 members"
}

REGIN="OSINT - F-Secure W32/Regin, Stage #1"

block misp_import 'the Regin MISP event gives a report whose members are its attributes' nodes
b_misp_import () {
    im charlie import "$PUBLIC/misp-event-regin.json" >"$T/regin.out" 2>&1
    sed 's/^/# /' "$T/regin.out"
    grep -q '^reports   1: 1 new$' "$T/regin.out"
    ok $? "one report is made of the event"
    report_json charlie "$REGIN" >"$T/c1.json"
    ok $? "charlie holds the report '$REGIN'"
    pyexpr "$T/c1.json" '(r["id"] == "54884656-2da8-4625-bf07-43ef950d210b"
        and r["refs"] == ["https://www.f-secure.com/documents/996508/1030745/w32_regin_stage_1.pdf"]
        and "Type:OSINT" in r["tags"])'
    ok $? "it keeps the event's uuid, its link as a reference and its tag"
    pyexpr "$T/c1.json" '(len(m) == 34
        and sum(x["type"] == "md5" for x in m) == 27 and sum(x["type"] == "regkey" for x in m) == 1)'
    ok $? "its members: the 34 attributes the node stored (27 MD5, 6 file names, 1 regkey)"
}

block misp_round 'exported as MISP and imported into a fresh node: the same report' misp_import
b_misp_round () {
    im charlie export --format misp -o "$T/c1.misp.json" 2>/dev/null
    ok $? "charlie exports MISP"
    interop_valid misp "$T/c1.misp.json"
    ok $? "each event of the export passes PyMISP's schema.json"
    "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))["response"]
ev = [e["Event"] for e in d if e["Event"]["info"] == sys.argv[2]]
a = ev[0]["Attribute"] if len(ev) == 1 else []
print("# events: %d; the report event: %d attributes, %d link, tags %s" % (len(d), len(a),
    sum(x["type"] == "link" for x in a), [t["name"] for t in ev[0]["Tag"]] if ev else None))
sys.exit(0 if len(d) == 2 and ev[0]["uuid"] == "54884656-2da8-4625-bf07-43ef950d210b"
    and len(a) == 35 and sum(x["type"] == "link" for x in a) == 1 else 1)' \
        "$T/c1.misp.json" "$REGIN"
    ok $? "two events: the indicators', and the report's (its uuid, 34 members and 1 link)"
    "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))["response"]
u = [a["uuid"] for e in d for a in e["Event"]["Attribute"]]
sys.exit(0 if u and len(u) == len(set(u)) else 1)' "$T/c1.misp.json"
    ok $? "no attribute uuid is in two events (MISP refuses that): members only in the report's event"
    new_node delta && start_node delta || diag "cannot start delta"
    im delta import "$T/c1.misp.json" >"$T/d1.out" 2>&1
    sed 's/^/# /' "$T/d1.out"
    report_json delta "$REGIN" >"$T/d1.json"
    ok $? "delta holds the report after importing charlie's export"
    pyexpr "$T/d1.json" '(r["id"] == "54884656-2da8-4625-bf07-43ef950d210b" and len(m) == 34
        and r["refs"] == ["https://www.f-secure.com/documents/996508/1030745/w32_regin_stage_1.pdf"]
        and "Type:OSINT" in r["tags"])'
    ok $? "its id, 34 members, its reference and its tag"
    [ "$(summary "$T/c1.json")" = "$(summary "$T/d1.json")" ]
    ok $? "the same report: title, TLP, tags, context, references and members"
}

run_blocks "$@"
