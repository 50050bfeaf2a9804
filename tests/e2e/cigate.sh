#!/usr/bin/env bash
# kopilot as a CI gate: `run --fail-on new|savings>=AMOUNT` exit codes and
# their precedence (2 and 4 beat the gate's 1, which beats degraded 3),
# the stderr line and run.json's record; and findings.sarif on the demo
# cluster with examples/demo-manifests as the repository: valid against
# the official SARIF 2.1.0 schema, within GitHub code scanning's limits,
# every result at an existing file and at the line the locator found there.
# Ends with "N passed, N failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/cigate.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
PY=/usr/bin/python3
DEMO=$ROOT/examples/demo-cluster
REPO=$ROOT/examples/demo-manifests
SCHEMA=$ROOT/tests/data/sarif/sarif-schema-2.1.0.json
NOW=2026-11-25T06:00:00Z
T=$(mktemp -d /tmp/kopilot-cigate.XXXXXX)
trap 'rm -rf "$T"' EXIT

SUITE=cigate
. "$ROOT/tests/e2e/lib.sh"
need "$KOPILOT" "build it with 'make'"
need $PY python3
$PY -c 'import jsonschema' 2>/dev/null || { echo "cigate: python3-jsonschema is missing: run 'make deps'" >&2; exit 1; }

# A scope the demo has no gap in exits 0 (README): the gate's own cases
# start from ok; the whole demo is degraded (3) for the precedence cases.
SCOPE=(-n checkout -n ml)
run_ok() { "$KOPILOT" run --snapshot "$DEMO" --now $NOW --quiet "${SCOPE[@]}" "$@"; }
json() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k] if not isinstance(d,list) else d[int(k)]
print(json.dumps(d) if isinstance(d,(dict,list,bool)) or d is None else d)' "$1" "$2"; }
cents() { $PY -c 'import sys; v=float(sys.argv[1]); print("%.2f" % (round(abs(v)*100)/100*(1 if v>=0 else -1) + float(sys.argv[2])))' "$1" "${2:-0}"; }

# ------------------------------------------------------------ malformed
for bad in 'savings>1500' 'savings>=' 'savings>=1.505' 'savings>=$100' 'fresh' 'new,savings>=1'; do
	expect_exit "--fail-on '$bad' exits 2 naming the flag and what is accepted" 2 \
		'flag --fail-on: .*accepted: new .* savings>=AMOUNT' -- run_ok --out "$T/bad" --fail-on "$bad"
done
check "a malformed --fail-on creates nothing" test ! -e "$T/bad"
expect_exit "--fail-on needs a value" 2 'flag --fail-on needs a value' -- run_ok --out "$T/bad" --fail-on

# ------------------------------------------------------------ new, without a previous run
expect_exit "--fail-on new without a previous run: every finding is new, exit 1" 1 \
	'^kopilot run: gate triggered \(exit 1\): --fail-on new: no previous run to compare with .* all 5 findings count as new \(\$191\.39/month\)$' \
	-- run_ok --out "$T/first" --fail-on new
check "a triggered gate still switches the complete run in" test -f "$T/first/findings.json" -a -f "$T/first/report.html"
check "run.json records the gate: exit 1, gate-triggered, the condition and why" $PY - "$T/first/run.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit_code"] == 1 and r["exit_status"] == "gate-triggered", (r["exit_code"], r["exit_status"])
g = r["gate"]
assert g["fail_on"] == ["new"] and g["triggered"] is True and g["exit_code_without_gate"] == 0, g
c = g["conditions"][0]
assert c["condition"] == "new" and c["holds"] is True and "all 5 findings count as new" in c["why"], c
EOF
check "audit.jsonl's command.end says exit 1, replaced, no error" $PY - "$T/first/audit.jsonl" <<'EOF'
import json, sys
ends = [json.loads(l) for l in open(sys.argv[1]) if '"command.end"' in l]
f = ends[-1].get("fields", ends[-1])
assert f["exit_code"] == 1 and f["replaced"] is True and "error" not in f, f
EOF

# ------------------------------------------------------------ new, with a previous run
expect_exit "a previous run with no new finding: exit 0" 0 '' -- run_ok --out "$T/second" --previous "$T/first" --fail-on new
check "run.json: gate not triggered, exit 0" $PY -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit_code"] == 0 and r["gate"]["triggered"] is False, r["gate"]
assert "0 findings new since the previous run" in r["gate"]["conditions"][0]["why"], r["gate"]' "$T/second/run.json"
out=$(run_ok --out "$T/second" --previous "$T/first" --fail-on new 2>&1 >/dev/null)
check "a gate that passes prints no 'gate triggered' line" test -z "$(grep 'gate triggered' <<<"$out")"

# A new waste planted: checkout-api's requests raised far above its usage.
cp -r "$DEMO" "$T/planted"
$PY - "$T/planted/objects" <<'EOF'
import json, sys
for f in ("deployments.json", "replicasets.json", "pods.json"):
    p = sys.argv[1] + "/" + f
    j = json.load(open(p))
    for x in j["items"]:
        if x["metadata"]["namespace"] == "checkout" and x["metadata"]["name"].startswith("checkout-api"):
            spec = x["spec"]["template"]["spec"] if "template" in x["spec"] else x["spec"]
            for c in spec["containers"]:
                if c["name"] == "checkout-api":
                    c["resources"] = {"requests": {"cpu": "4", "memory": "8Gi"}, "limits": {"memory": "8Gi"}}
    json.dump(j, open(p, "w"))
EOF
expect_exit "a new finding planted: --fail-on new exits 1 naming the count and its money" 1 \
	"^kopilot run: gate triggered \(exit 1\): --fail-on new: 1 finding new since the previous run $T/first \(\\\$326\.16/month\)\$" \
	-- "$KOPILOT" run --snapshot "$T/planted" --now $NOW --quiet "${SCOPE[@]}" --out "$T/planted-run" --previous "$T/first" --fail-on new
check "the planted finding is the one findings.json calls new" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
new = [f for f in d["findings"] if f.get("trend") == "new"]
assert [(f["resource"]["name"], f["container"]) for f in new] == [("checkout-api", "checkout-api")], new
assert d["changes"]["new"] == 1' "$T/planted-run/findings.json"

# --state-dir: the nightly or CI cache case. The first run has nothing to
# compare with (all new, exit 1); the next one compares with it.
expect_exit "--state-dir, first run: every finding is new, exit 1" 1 'all 5 findings count as new' -- \
	run_ok --state-dir "$T/state" --fail-on new
expect_exit "--state-dir, second run: nothing new, exit 0" 0 '' -- run_ok --state-dir "$T/state" --fail-on new

# ------------------------------------------------------------ savings
TOTAL=$(json "$T/first/findings.json" totals.actionable_monthly_savings)
AT=$(cents "$TOTAL") ABOVE=$(cents "$TOTAL" 0.01) BELOW=$(cents "$TOTAL" -0.01)
expect_exit "savings>=$AT (the total as the report shows it) exits 1 with both figures" 1 \
	"gate triggered \(exit 1\): --fail-on savings>=$AT: net potential savings \\\$$AT/month >= \\\$$AT/month\$" \
	-- run_ok --out "$T/s1" --fail-on "savings>=$AT"
expect_exit "savings>=$BELOW (a cent below) exits 1" 1 "savings>=$BELOW" -- run_ok --out "$T/s1" --fail-on "savings>=$BELOW"
expect_exit "savings>=$ABOVE (a cent above) exits 0" 0 '' -- run_ok --out "$T/s1" --fail-on "savings>=$ABOVE"
check "run.json of a gate below its bar: not triggered, the numbers" $PY -c '
import json, sys
g = json.load(open(sys.argv[1]))["gate"]
assert g["triggered"] is False and "< $" + sys.argv[2] + "/month" in g["conditions"][0]["why"], g' "$T/s1/run.json" "$ABOVE"
expect_exit "several --fail-on: the one that holds triggers, alone on stderr" 1 \
	"^kopilot run: gate triggered \(exit 1\): --fail-on savings>=$AT" \
	-- run_ok --out "$T/s2" --previous "$T/first" --fail-on new --fail-on "savings>=$AT"
check "several --fail-on: both judged in run.json, one holds" $PY -c '
import json, sys
g = json.load(open(sys.argv[1]))["gate"]
assert [c["holds"] for c in g["conditions"]] == [False, True] and g["triggered"], g' "$T/s2/run.json"
err=$(run_ok --out "$T/s2" --previous "$T/first" --fail-on new --fail-on "savings>=$AT" 2>&1 >/dev/null)
check "several --fail-on: exactly one 'gate triggered' line" test "$(grep -c 'gate triggered' <<<"$err")" -eq 1

# ------------------------------------------------------------ precedence
"$KOPILOT" run --snapshot "$DEMO" --now $NOW --quiet --out "$T/demo" >/dev/null 2>&1
DTOTAL=$(json "$T/demo/findings.json" totals.actionable_monthly_savings)
expect_exit "degraded and not triggered: exit 3" 3 '' -- \
	"$KOPILOT" run --snapshot "$DEMO" --now $NOW --quiet --out "$T/d1" --fail-on "savings>=$(cents "$DTOTAL" 0.01)"
expect_exit "degraded and triggered: the gate wins, exit 1" 1 'gate triggered \(exit 1\): --fail-on savings>=' -- \
	"$KOPILOT" run --snapshot "$DEMO" --now $NOW --quiet --out "$T/d2" --fail-on "savings>=$(cents "$DTOTAL")"
check "degraded and triggered: run.json keeps 3 as the exit without the gate, and what was missing" $PY -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit_code"] == 1 and r["gate"]["exit_code_without_gate"] == 3 and r["missing"], r["gate"]' "$T/d2/run.json"
expect_exit "a usage error beats the gate: --previous that does not exist exits 2" 2 'flag --previous' -- \
	run_ok --out "$T/e1" --previous "$T/nowhere" --fail-on "savings>=0"
mkdir -p "$T/broken" && cp -r "$DEMO"/. "$T/broken/" && printf '{"kind":"List","items":[{"metadata":' >"$T/broken/objects/pods.json"
expect_exit "a failure beats the gate: malformed input exits 4" 4 'pods.json' -- \
	"$KOPILOT" run --snapshot "$T/broken" --now $NOW --quiet --out "$T/e2" --fail-on "savings>=0"
check "a failed run has no run.json and is not switched in" test ! -e "$T/e2/run.json"

# the stage commands that have the numbers judge them too
expect_exit "kopilot recommend RUN --previous --fail-on new: nothing new, exit 0" 0 '' -- \
	"$KOPILOT" recommend "$T/s2" --previous "$T/first" --fail-on new --quiet
expect_exit "kopilot recommend RUN --fail-on savings: exit 1, its line" 1 "^kopilot recommend: gate triggered \(exit 1\): --fail-on savings>=$AT" -- \
	"$KOPILOT" recommend "$T/s2" --previous "$T/first" --fail-on "savings>=$AT" --quiet
check "... and findings.json was replaced all the same" test -f "$T/s2/findings.json" -a ! -e "$T/s2/run.json"
expect_exit "kopilot render RUN --fail-on new on a run without a previous one: exit 1" 1 \
	'^kopilot render: gate triggered \(exit 1\): --fail-on new: no previous run .* all 5 findings' -- "$KOPILOT" render "$T/first" --fail-on new --quiet
expect_exit "kopilot render RUN --fail-on savings on the degraded demo: 1 beats 3" 1 'kopilot render: gate triggered' -- \
	"$KOPILOT" render "$T/demo" --fail-on "savings>=$(cents "$DTOTAL")" --quiet
expect_exit "kopilot render RUN --fail-on savings above the total: degraded, 3" 3 '' -- \
	"$KOPILOT" render "$T/demo" --fail-on "savings>=$(cents "$DTOTAL" 0.01)" --quiet
expect_exit "kopilot render with a malformed --fail-on: exit 2" 2 'kopilot render: flag --fail-on' -- \
	"$KOPILOT" render "$T/demo" --fail-on "savings=>1" --quiet

# -o json: the document on stdout, the gate's exit code
"$KOPILOT" run --snapshot "$DEMO" --now $NOW --quiet "${SCOPE[@]}" -o json --fail-on new >"$T/o.json" 2>"$T/o.err"
rc=$?
check "-o json with a triggered gate: exit 1 and findings.json on stdout" $PY -c '
import json, sys
assert int(sys.argv[2]) == 1, sys.argv[2]
assert json.load(open(sys.argv[1]))["schema"] == "kopilot.findings/v1"' "$T/o.json" "$rc"

# ------------------------------------------------------------ SARIF
"$KOPILOT" run --snapshot "$DEMO" --now $NOW --out "$T/sarif" --repo "$REPO" >/dev/null 2>"$T/sarif.err"
rc=$?
check "run --repo DIR on the demo: exit 3, findings.sarif written" test $rc -eq 3 -a -f "$T/sarif/findings.sarif"
check "findings.sarif is valid against the official SARIF 2.1.0 schema (draft-04)" $PY - "$SCHEMA" "$T/sarif/findings.sarif" <<'EOF'
import json, sys
from jsonschema import Draft4Validator
schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
Draft4Validator.check_schema(schema)
errors = sorted(Draft4Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
for e in errors[:10]:
    print("/".join(map(str, e.path)), e.message[:300])
sys.exit(1 if errors else 0)
EOF
check "the schema is not a rubber stamp: a result without a message is refused" $PY - "$SCHEMA" "$T/sarif/findings.sarif" <<'EOF'
import json, sys
from jsonschema import Draft4Validator
schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
del doc["runs"][0]["results"][0]["message"]
doc["runs"][0]["results"][1]["level"] = "critical"
assert len(list(Draft4Validator(schema).iter_errors(doc))) == 2
EOF
check "GitHub code scanning's constraints: limits, ruleId/rules, levels, URIs, fingerprints" $PY - "$T/sarif/findings.sarif" "$T/sarif/findings.json" <<'EOF'
import gzip, json, os, sys, urllib.parse
raw = open(sys.argv[1], "rb").read()
doc = json.loads(raw); fdoc = json.load(open(sys.argv[2]))
assert len(gzip.compress(raw)) < 10 * 1024 * 1024, "over 10 MB gzipped"
assert doc["version"] == "2.1.0" and 1 <= len(doc["runs"]) <= 20
run = doc["runs"][0]
d = run["tool"]["driver"]
assert d["name"] == "kopilot" and d["version"]
# no web address unless the build was given one (KP_HOMEPAGE): none invented
assert "informationUri" not in d or urllib.parse.urlparse(d["informationUri"]).scheme == "https", d
rules = d["rules"]
ids = [r["id"] for r in rules]
cats = {"over-provisioned", "under-provisioned", "idle-workload", "zero-replica-workload", "orphaned-pvc",
        "unbound-pv", "idle-loadbalancer", "finished-job", "underutilized-node"}
assert set(ids) == cats and len(ids) == len(set(ids)) and len(rules) <= 25000, ids
for r in rules:
    assert r["shortDescription"]["text"] and r["fullDescription"]["text"], r["id"]
    assert "helpUri" not in r or (urllib.parse.urlparse(r["helpUri"]).scheme == "https" and "#" in r["helpUri"]), r
    assert r["help"]["text"].startswith(r["fullDescription"]["text"]) and "README" in r["help"]["text"], r["help"]
    assert r["defaultConfiguration"]["level"] in ("none", "note", "warning", "error")
    assert len(r["properties"]["tags"]) <= 20
res = run["results"]
assert 0 < len(res) <= 25000
byid = {f["id"]: f for f in fdoc["findings"]}
seen = set()
for x in res:
    assert rules[x["ruleIndex"]]["id"] == x["ruleId"], x["ruleId"]
    assert x["level"] in ("none", "note", "warning", "error")
    assert x["message"]["text"].strip()
    assert 1 <= len(x["locations"]) <= 1000
    fid = x["partialFingerprints"]["kopilotFindingId/v1"]
    assert fid in byid and fid not in seen, fid
    seen.add(fid)
    f = byid[fid]
    assert x["ruleId"] == f["category"]
    assert x["properties"]["monthly_savings"] == f["monthly_savings"] and x["properties"]["currency"] == fdoc["prices"]["currency"]
    assert x["properties"]["namespace"] == f["resource"]["namespace"]
    al = x["locations"][0]["physicalLocation"]["artifactLocation"]
    u = urllib.parse.urlparse(al["uri"])
    assert al["uriBaseId"] == "%SRCROOT%" and not u.scheme and not al["uri"].startswith("/"), al
base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
assert base.startswith("file:///") and base.endswith("/"), base
p = run["properties"]
assert p["findings"] == len(fdoc["findings"]) == len(res) + p["left_out"], p
EOF
check "every result's file exists, its startLine is the container's resources: (or the object's name:), endLine the block's end" \
	$PY - "$T/sarif/findings.sarif" "$T/sarif/findings.json" <<'EOF'
import json, os, re, sys, urllib.parse
doc = json.load(open(sys.argv[1])); byid = {f["id"]: f for f in json.load(open(sys.argv[2]))["findings"]}
run = doc["runs"][0]
root = urllib.parse.urlparse(run["originalUriBaseIds"]["%SRCROOT%"]["uri"]).path
n = 0
for x in run["results"]:
    f = byid[x["partialFingerprints"]["kopilotFindingId/v1"]]
    pl = x["locations"][0]["physicalLocation"]
    path = os.path.join(root, urllib.parse.unquote(pl["artifactLocation"]["uri"]))
    assert os.path.isfile(path), path
    lines = open(path, encoding="utf-8").read().split("\n")
    ln = pl["region"]["startLine"]
    end = pl["region"].get("endLine", ln)
    text = lines[ln - 1].rstrip("\r")
    assert end >= ln and pl["region"]["snippet"]["text"] == "\n".join(l.rstrip("\r") for l in lines[ln - 1:end]), (path, ln, end)
    if end > ln:
        # the region is the resources block: every line in it indented
        # deeper than the key, the next one not
        ind0 = len(text) - len(text.lstrip())
        block = [l for l in lines[ln:end] if l.strip()]
        assert text.strip() == "resources:" and all(len(l) - len(l.lstrip()) > ind0 for l in block), (path, ln, end)
        nxt = next((l for l in lines[end:] if l.strip()), "")
        assert len(nxt) - len(nxt.lstrip()) <= ind0, (path, end, nxt)
    c, r = f.get("container"), f["resource"]
    where = "%s:%d %r" % (pl["artifactLocation"]["uri"], ln, text)
    if c:
        assert re.match(r"^\s*resources:", text) or re.match(r"^\s*-\s*name:\s*['\"]?%s['\"]?\s*$" % re.escape(c), text), where
        # the resources key belongs to that container: the nearest item
        # above it names it, or a kopilot marker above names the workload
        ind = len(text) - len(text.lstrip())
        above = lines[ln - 2].strip()
        marker = "# kopilot: resources %s %s/%s %s" % (r["kind"], r["namespace"], r["name"], c)
        if above != marker:
            owner = None
            for l in reversed(lines[:ln - 1]):
                m = re.match(r"^(\s*)-\s*name:\s*['\"]?([^'\"\s]+)", l)
                if m and len(m.group(1)) + 2 <= ind:
                    owner = m.group(2); break
            assert owner == c, (where, owner)
    else:
        assert re.match(r"^\s*name:\s*['\"]?%s['\"]?\s*$" % re.escape(r["name"]), text), where
    n += 1
assert n > 0
EOF
check "findings.codequality.json: GitLab's code quality format, the same results as the SARIF file" \
	$PY - "$T/sarif/findings.codequality.json" "$T/sarif/findings.sarif" <<'EOF'
import json, os, sys, urllib.parse
cq = json.load(open(sys.argv[1])); run = json.load(open(sys.argv[2]))["runs"][0]
root = urllib.parse.urlparse(run["originalUriBaseIds"]["%SRCROOT%"]["uri"]).path
assert isinstance(cq, list) and len(cq) == len(run["results"]) > 0
sev = {"error": "major", "warning": "minor", "note": "info"}
for issue, res in zip(cq, run["results"]):
    assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}, issue.keys()
    assert all(isinstance(issue[k], str) and issue[k] for k in ("description", "check_name", "fingerprint"))
    assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
    pl = res["locations"][0]["physicalLocation"]
    assert issue["fingerprint"] == res["partialFingerprints"]["kopilotFindingId/v1"]
    assert issue["check_name"] == res["ruleId"] and issue["severity"] == sev[res["level"]]
    assert issue["location"]["path"] == urllib.parse.unquote(pl["artifactLocation"]["uri"]) and not issue["location"]["path"].startswith("./")
    assert issue["location"]["lines"]["begin"] == pl["region"]["startLine"]
    assert os.path.isfile(os.path.join(root, issue["location"]["path"]))
assert len({i["fingerprint"] for i in cq}) == len(cq)
EOF
LEFT=$(json "$T/sarif/run.json" sarif.left_out)
check "run.json and the log say how many findings were left out" test "$LEFT" = "$(json "$T/sarif/findings.sarif" runs.0.properties.left_out)" -a \
	-n "$(grep -E "render: findings.sarif: [0-9]+ results located in .*; $LEFT findings left out" "$T/sarif.err")"
"$KOPILOT" run --snapshot "$DEMO" --now $NOW --repo "$REPO" -o sarif >"$T/stdout.sarif" 2>/dev/null
rc=$?
check "-o sarif exits with the run's own code (3)" test $rc -eq 3
check "-o sarif prints RUN/findings.sarif byte for byte" cmp "$T/stdout.sarif" "$T/sarif/findings.sarif"
expect_exit "-o sarif without --repo exits 2 saying why" 2 '-o sarif needs a checkout of the manifests, --repo DIR' -- \
	"$KOPILOT" run --snapshot "$DEMO" --now $NOW -o sarif
expect_exit "--repo that is not a directory exits 2" 2 'not a directory' -- \
	"$KOPILOT" run --snapshot "$DEMO" --now $NOW --quiet --out "$T/nr" --repo "$T/nowhere"
check "the run without --repo has no findings.sarif and no run.json sarif" $PY -c '
import json, os, sys
assert not os.path.exists(sys.argv[1] + "/findings.sarif")
r = json.load(open(sys.argv[1] + "/run.json"))
assert "sarif" not in r and r["counts"]["findings"] > 0' "$T/demo"
check "kopilot render RUN --repo DIR writes findings.sarif too" ok_or_degraded "$KOPILOT" render "$T/demo" --repo "$REPO" --quiet
check "... the same results as the run's" $PY -c '
import json, sys
a, b = (json.load(open(p))["runs"][0]["results"] for p in sys.argv[1:3])
assert a == b' "$T/demo/findings.sarif" "$T/sarif/findings.sarif"
check "kopilot render RUN without --repo drops the stale findings.sarif" ok_or_degraded "$KOPILOT" render "$T/demo" --quiet
check "... gone, with findings.codequality.json" test ! -e "$T/demo/findings.sarif" -a ! -e "$T/demo/findings.codequality.json"

finish
