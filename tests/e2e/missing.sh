#!/usr/bin/env bash
# End-to-end checks for "not collected", structured: `--namespace` and the
# configured scope filter what was not collected the way they filter
# findings. The demo's one gap is analytics/legacy-geoip's metrics, so a run
# scoped to checkout and ml is complete (exit 0, no "Not collected"), one
# scoped to analytics is not (exit 3), and a cluster-wide gap (a list
# missing from the snapshot) counts for every scope. findings.json validates
# against docs/contracts/findings.schema.json in each case; a usage.json
# "missing" entry that is malformed is an error naming it (exit 4); and an
# older run whose analysis.json and findings.json hold strings still
# recommends and renders. Ends with "N passed, N failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/missing.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
PY=/usr/bin/python3
DEMO=$ROOT/examples/demo-cluster
NOW=2026-11-25T06:00:00Z
T=$(mktemp -d /tmp/kopilot-missing.XXXXXX)
trap 'rm -rf "$T"' EXIT
CONTRACTS=$ROOT/docs/contracts

SUITE=missing
. "$ROOT/tests/e2e/lib.sh"
[ -x "$KOPILOT" ] || { echo "missing: $KOPILOT is missing: build it with 'make'" >&2; exit 1; }
$PY -c 'import jsonschema' 2>/dev/null || { echo "missing: python3-jsonschema is missing: run 'make deps'" >&2; exit 1; }


# run NAME ARGS...: a run on the demo into $T/NAME; exit code in RC,
# terminal (stdout) in $T/NAME.term, stderr in $T/NAME.err
run() {
	local name=$1; shift
	"$KOPILOT" run --out "$T/$name" --now $NOW "$@" >"$T/$name.term" 2>"$T/$name.err"
	RC=$?
}
# expect_rc NAME WANT: the exit code of the last run
expect_rc() {
	if [ "$RC" -eq "$2" ]; then ok "$1: exit $2"; else not_ok "$1: exit $2, got $RC" "$(cat "$T/$1.err")"; fi
}

check "demo usage.json is valid against usage.schema.json (object entries in missing)" \
	schema_valid "$CONTRACTS/usage.schema.json" "$DEMO/usage.json"

# ---------------------------------------------------------- the whole cluster
run all --snapshot "$DEMO"
expect_rc all 3
check "all: findings.json valid against findings.schema.json" schema_valid "$CONTRACTS/findings.schema.json" "$T/all/findings.json"
check "all: the gap is structured in findings.json and analysis.json" $PY -c "
import json; d=json.load(open('$T/all/findings.json')); a=json.load(open('$T/all/analysis.json'))
want=[{'resource':'metrics','namespace':'analytics','workload':{'kind':'Deployment','name':'legacy-geoip'},
       'reason':\"its pods' cAdvisor series are dropped by a metric_relabel_configs rule\",
       'summary':\"metrics of Deployment analytics/legacy-geoip not collected: its pods' cAdvisor series are dropped by a metric_relabel_configs rule\"}]
assert d['missing'] == a['missing'] == want, d['missing']
assert a['counts']['missing_excluded_by_scope'] == 0 and 'missing_excluded_by_scope' not in d"
check "all: report.md lists it in the Not collected table" bash -c "grep -q '^## Not collected' '$T/all/report.md' && grep -q '^| analytics | Deployment legacy-geoip | metrics | its pods' '$T/all/report.md'"
check "all: the terminal says Degraded with the summary" grep -q "Degraded: 1 input not collected" "$T/all.term"

# ------------------------------------------- --namespace checkout --namespace ml
run checkout-ml --snapshot "$DEMO" --namespace checkout --namespace ml
expect_rc checkout-ml 0
check "checkout-ml: findings.json valid against findings.schema.json" schema_valid "$CONTRACTS/findings.schema.json" "$T/checkout-ml/findings.json"
check "checkout-ml: nothing missing in scope, the analytics gap counted as left out" $PY -c "
import json; d=json.load(open('$T/checkout-ml/findings.json')); a=json.load(open('$T/checkout-ml/analysis.json'))
r=json.load(open('$T/checkout-ml/run.json'))
assert d['missing'] == a['missing'] == r['missing'] == [], d['missing']
assert a['counts']['missing_excluded_by_scope'] == 1 and d['missing_excluded_by_scope'] == 1
assert r['exit_code'] == 0 and r['exit_status'] == 'ok'"
check "checkout-ml: report.md has no Not collected section, says what was left out" bash -c "! grep -q 'Not collected' '$T/checkout-ml/report.md' && ! grep -q 'report is incomplete' '$T/checkout-ml/report.md' && grep -q '^_Left out of this report: 1 input not collected in namespaces outside its scope' '$T/checkout-ml/report.md'"
check "checkout-ml: report.html has no Not collected section" bash -c "! grep -q 'Not collected' '$T/checkout-ml/report.html'"
check "checkout-ml: the terminal does not say Degraded" bash -c "! grep -q 'Degraded' '$T/checkout-ml.term'"

# ------------------------------------------------------- --namespace analytics
run analytics --snapshot "$DEMO" --namespace analytics
expect_rc analytics 3
check "analytics: findings.json valid against findings.schema.json" schema_valid "$CONTRACTS/findings.schema.json" "$T/analytics/findings.json"
check "analytics: the gap is its own" $PY -c "
import json; d=json.load(open('$T/analytics/findings.json'))
assert [m['namespace'] for m in d['missing']] == ['analytics'] and 'missing_excluded_by_scope' not in d"
check "analytics: report.md and the terminal show it" bash -c "grep -q '^## Not collected' '$T/analytics/report.md' && grep -q 'Deployment legacy-geoip' '$T/analytics/report.md' && grep -q 'Degraded: 1 input not collected' '$T/analytics.term'"

# --------------------------------------------- the configured scope, same rules
printf 'scope:\n  exclude_namespaces: ["analy.*"]\n' >"$T/scope.yaml"
run excluded --snapshot "$DEMO" --config "$T/scope.yaml"
expect_rc excluded 0
check "scope.exclude_namespaces analytics: not degraded, counted" $PY -c "
import json; d=json.load(open('$T/excluded/findings.json'))
assert d['missing'] == [] and d['missing_excluded_by_scope'] == 1"

# ------------------------------------------- a cluster-wide gap counts anywhere
S=$T/snap-no-pvcs
cp -r "$DEMO" "$S" && rm "$S/objects/persistentvolumeclaims.json"
run no-pvcs --snapshot "$S" --namespace checkout
expect_rc no-pvcs 3
check "no-pvcs: findings.json valid against findings.schema.json" schema_valid "$CONTRACTS/findings.schema.json" "$T/no-pvcs/findings.json"
check "no-pvcs: the missing list is cluster-wide and kept, analytics' gap left out" $PY -c "
import json; d=json.load(open('$T/no-pvcs/findings.json'))
assert [(m['resource'], m['namespace'], m['workload']) for m in d['missing']] == [('persistentvolumeclaims', None, None)], d['missing']
assert d['missing_excluded_by_scope'] == 1"
check "no-pvcs: report.md lists it for all namespaces" grep -q '^| all namespaces | - | persistentvolumeclaims | objects/persistentvolumeclaims.json is missing' "$T/no-pvcs/report.md"

# ------------------------------------------------------ usage.json: old and bad
S=$T/snap-strings
cp -r "$DEMO" "$S"
$PY - "$S/usage.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["missing"] = ["no container metrics for pods of Deployment analytics/legacy-geoip"]
json.dump(d, open(sys.argv[1], "w"))
EOF
run strings --snapshot "$S" --namespace checkout
expect_rc strings 3
check "strings: a string entry says not where, so it counts for --namespace checkout" $PY -c "
import json; d=json.load(open('$T/strings/findings.json'))
assert d['missing'] == [{'resource':'usage','namespace':None,'workload':None,
  'reason':'no container metrics for pods of Deployment analytics/legacy-geoip',
  'summary':'no container metrics for pods of Deployment analytics/legacy-geoip'}], d['missing']"

S=$T/snap-many
cp -r "$DEMO" "$S"
$PY - "$S/usage.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["missing"] = ["gap number %d" % i for i in range(1, 9)]
json.dump(d, open(sys.argv[1], "w"))
EOF
run many --snapshot "$S"
expect_rc many 3
check "many gaps: the terminal lists 5 and says where the other 3 are; report.md lists all 8" bash -c "
	grep -q '^  Degraded: 8 inputs not collected:' '$T/many.term' &&
	[ \$(grep -c '^    - gap number' '$T/many.term') -eq 5 ] &&
	grep -q '^    ... and 3 more (report.md \"Not collected\", findings.json \"missing\")' '$T/many.term' &&
	[ \$(grep -c 'gap number' '$T/many/report.md') -eq 8 ]"
check "many gaps: collect warns about 5 of them, then says how many more" bash -c "
	[ \$(grep -c '^kopilot: warning: collect: gap number' '$T/many.err') -eq 5 ] &&
	grep -q '^kopilot: warning: collect: ... and 3 more inputs not collected' '$T/many.err'"

S=$T/snap-bad
cp -r "$DEMO" "$S"
$PY - "$S/usage.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["missing"] = ["ok", "ok", {"namespace": "Analytics", "reason": "r"}]
json.dump(d, open(sys.argv[1], "w"))
EOF
run bad --snapshot "$S"
expect_rc bad 4
check "bad: the error names usage.json, the entry and the field" grep -q 'usage.json: missing\[2\]\.namespace: "Analytics"' "$T/bad.err"
[ ! -e "$T/bad" ] && ok "bad: no run directory" || not_ok "bad: no run directory"

# ---------------------------------------- a run from before: strings read back
O=$T/old
cp -r "$T/all" "$O"
$PY - "$O" <<'EOF'
import json, sys
for name in ("analysis.json", "findings.json"):
    p = sys.argv[1] + "/" + name
    d = json.load(open(p))
    d["missing"] = [m["summary"] for m in d["missing"]]
    d.get("counts", {}).pop("missing_excluded_by_scope", None)
    json.dump(d, open(p, "w"))
EOF
"$KOPILOT" render "$O" --quiet >/dev/null 2>&1
RC=$?
[ $RC -eq 3 ] && ok "old findings.json with strings: render exits 3" || not_ok "old findings.json with strings: render exits 3, got $RC"
check "old findings.json: report.md lists the string" grep -q '^| all namespaces | - | unknown | metrics of Deployment analytics/legacy-geoip' "$O/report.md"
"$KOPILOT" recommend "$O" --quiet >/dev/null 2>&1
RC=$?
[ $RC -eq 3 ] && ok "old analysis.json with strings: recommend exits 3" || not_ok "old analysis.json with strings: recommend exits 3, got $RC"
check "old analysis.json: findings.json valid against the schema" schema_valid "$CONTRACTS/findings.schema.json" "$O/findings.json"
check "old analysis.json: a string became a cluster-wide entry" $PY -c "
import json; d=json.load(open('$O/findings.json'))
assert d['missing'][0]['namespace'] is None and d['missing'][0]['summary'].startswith('metrics of Deployment')"

finish
