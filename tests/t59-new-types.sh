#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# t59-new-types.sh -- the types cve, attack-pattern, regkey, yara, sigma and
# snort end to end: published from the CLI, found by lookup (a rule shown by
# its name, a registry key in any case), held back between two nodes by a
# policy's deny-types, exported to STIX and MISP that pass the schemas and
# read back, and the public Regin event's registry keys imported. TAP output.
. "$(dirname "$0")/lib.sh"

REGIN="$TESTS_SRCDIR/data/public/misp-event-regin.json"
YARA='rule Regin_Loader : apt {
  strings:
    $a = "}{ not a brace"
  condition:
    $a
}'
SIGMA='title: Regin service install
logsource:
  product: windows
detection:
  sel:
    EventID: 7045
  condition: sel'
SNORT='alert tcp any any -> any 443 (msg:"Regin C2 beacon"; sid:1000001; rev:1;)'

connected () { im "$1" peer list --json | grep -q "\"name\":\"$2\"[^}]*\"connected\":true"; }
has () { im "$1" lookup --type "$2" "$3" >/dev/null 2>&1; }

block nodes 'alpha and bravo, alpha denies sigma to bravo'
b_nodes () {
    new_node alpha && new_node bravo && new_node charlie
    im alpha peer add "$(im bravo id)" >/dev/null && im bravo peer add "$(im alpha id)" >/dev/null \
        && im alpha policy set nosigma max-tlp=green deny-types=sigma,snort >/dev/null \
        && im alpha peer set bravo --policy nosigma >/dev/null
    ok $? "alpha trusts bravo with a policy deny-types=sigma,snort (a type name list with the new names)"
    start_node alpha && alpha_pid=$NODE_PID && start_node bravo && bravo_pid=$NODE_PID \
        && start_node charlie && charlie_pid=$NODE_PID
    ok $? "the nodes start"
    wait_for 100 connected alpha bravo
    ok $? "alpha and bravo are linked"
}

block publish 'each new type is published from the CLI and looked up' nodes
b_publish () {
    # sigma and snort first: once the later ones reach bravo, so have they
    # (records travel in the order of alpha's changes), or not at all
    im alpha publish sigma "$SIGMA" >/dev/null \
        && im alpha publish snort "$SNORT" >/dev/null \
        && im alpha publish cve cve-2021-44228 >/dev/null \
        && im alpha publish attack-pattern t1566.001 >/dev/null \
        && im alpha publish regkey 'hklm\Software\Regin\' >/dev/null \
        && im alpha publish yara "$YARA" >/dev/null
    ok $? "alpha publishes a Sigma and a Snort rule, a cve, an attack-pattern, a regkey and a YARA rule"
    out=$(im alpha lookup --type cve CVE-2021-44228) \
        && printf '%s\n' "$out" | grep -q '^cve CVE-2021-44228 ' \
        && im alpha lookup --type attack-pattern T1566.001 | grep -q '^attack-pattern T1566.001 '
    ok $? "lookup finds the cve and the technique in their canonical upper case"
    out=$(im alpha lookup --type regkey 'HKEY_LOCAL_MACHINE\SOFTWARE\REGIN')
    printf '%s\n' "$out" | grep -qF 'regkey HKEY_LOCAL_MACHINE\\Software\\Regin  '
    ok $? "lookup of the registry key in another case finds it, hive spelt out, its path as published"
    diag "$out"
    out=$(im alpha lookup --type yara "$YARA")
    printf '%s\n' "$out" | grep -q "^yara \"Regin_Loader\" (${#YARA}-byte rule)  TLP:GREEN" \
        && ! printf '%s\n' "$out" | grep -q condition
    ok $? "lookup shows a YARA rule by its name and size, not its text"
    diag "$out"
    im alpha lookup --type sigma "$SIGMA" | grep -q '^sigma "Regin service install" (' \
        && im alpha lookup --type snort "$SNORT" | grep -q '^snort "Regin C2 beacon" (' \
        && im alpha lookup --json --type snort "$SNORT" | grep -qF 'sid:1000001'
    ok $? "Sigma and Snort rules are shown by their title and msg; --json has the rule"
    err=$(im alpha publish yara 'rule x { strings: $a = "x" }' 2>&1)
    rc=$?
    [ "$rc" -ne 0 ] && printf '%s\n' "$err" | grep -q 'has no condition: section'
    ok $? "a YARA rule without a condition is refused with the reason (exit $rc)"
    diag "$err"
    err=$(im alpha publish regkey 'Class\{4F20E605}' 2>&1)
    [ $? -ne 0 ] && printf '%s\n' "$err" | grep -q 'does not start with a hive'
    ok $? "a registry key without a hive is refused with the reason"
}

block policy 'deny-types keeps sigma and snort at alpha, the rest reaches bravo' publish
b_policy () {
    wait_for 100 has bravo cve CVE-2021-44228 && wait_for 100 has bravo yara "$YARA" \
        && wait_for 100 has bravo regkey 'hklm\software\regin' \
        && wait_for 100 has bravo attack-pattern T1566.001
    ok $? "bravo receives the cve, the YARA rule, the regkey and the technique"
    # both were published before the four that arrived
    held=$(im bravo list --json | grep -c "\"id\"")
    ! has bravo sigma "$SIGMA" && ! has bravo snort "$SNORT" && [ "$held" = 4 ]
    ok $? "bravo holds 4 indicators: the Sigma and Snort rules were held back by deny-types"
    diag "bravo holds $held; sigma: $(im bravo lookup --type sigma "$SIGMA" 2>&1 | head -c 80)"
}

block export 'STIX and MISP exports pass the schemas and read back' publish
b_export () {
    im alpha export --format stix -o "$T/a.stix" 2>/dev/null && interop_valid stix "$T/a.stix" \
        && "$PYTHON3" - "$T/a.stix" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))["objects"]
v = [x for x in o if x["type"] == "vulnerability"]
a = [x for x in o if x["type"] == "attack-pattern"]
i = {x.get("pattern_type"): x["pattern"] for x in o if x["type"] == "indicator"}
sys.exit(not (len(v) == 1 and v[0]["external_references"] == [{"source_name": "cve", "external_id": "CVE-2021-44228"}]
    and len(a) == 1 and a[0]["external_references"][0] == {"source_name": "mitre-attack", "external_id": "T1566.001"}
    and i["stix"] == "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Regin']"
    and i["yara"].startswith("rule Regin_Loader") and i["sigma"].startswith("title:") and i["snort"].startswith("alert")))
EOF
    ok $? "the STIX export passes the OASIS STIX 2.1 schemas, with a vulnerability (cve ref), an attack-pattern (mitre-attack ref), a windows-registry-key pattern and yara/sigma/snort indicators"
    im alpha export --format misp -o "$T/a.misp" 2>/dev/null && interop_valid misp "$T/a.misp" \
        && "$PYTHON3" - "$T/a.misp" <<'EOF'
import json, sys
at = json.load(open(sys.argv[1]))["Event"]["Attribute"]
t = sorted(x["type"] for x in at)
g = [x for x in at if x["type"] == "text"][0]
sys.exit(not (t == ["regkey", "sigma", "snort", "text", "vulnerability", "yara"]
    and {"name": 'misp-galaxy:mitre-attack-pattern="T1566.001"'} in g["Tag"]))
EOF
    ok $? "the MISP export passes PyMISP's schema, with attributes vulnerability, regkey, yara, sigma, snort, and a text with the mitre-attack-pattern galaxy tag"
    im charlie import --json "$T/a.stix" >"$T/i.stix" 2>&1 \
        && grep -q '"imported":6' "$T/i.stix"
    ok $? "charlie imports the 6 from STIX"
    diag "$(cat "$T/i.stix")"
    im charlie import --json "$T/a.misp" >"$T/i.misp" 2>&1 \
        && grep -q '"items":6,"imported":0,' "$T/i.misp" && grep -q '"refused_total":0' "$T/i.misp" \
        && has charlie attack-pattern T1566.001 && has charlie sigma "$SIGMA" \
        && has charlie regkey 'HKLM\Software\Regin'
    ok $? "and reads the MISP export back as the same 6, none new (the technique from its galaxy tag)"
    diag "$(cat "$T/i.misp")"
}

block regin 'the public Regin event keeps its registry key' nodes
b_regin () {
    im charlie import --json "$REGIN" >"$T/regin" 2>&1
    has charlie regkey 'HKEY_LOCAL_MACHINE\System\CurrentControlSet\Control' \
        && grep -q '"does not start with a hive[^"]*":2\|does not start with a hive' "$T/regin"
    ok $? "the Regin event's regkey HKLM\\...\\Control\\ is imported; its 2 keys without a hive are refused, with the reason"
    diag "$(cat "$T/regin")"
}

block stop 'the nodes stop' nodes
b_stop () {
    stop_node "$alpha_pid" && stop_node "$bravo_pid" && stop_node "$charlie_pid"
    ok $? "the nodes stop cleanly"
}

run_blocks "$@"
