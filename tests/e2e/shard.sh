#!/usr/bin/env bash
# End-to-end checks of sharded runs (issue 19): `kopilot run --shard I/N`
# and `kopilot merge RUN...`, on a cluster made by tests/gen/gencluster.py
# (a few hundred namespaces, every finding category, node and PV findings
# included), with "not collected" gaps planted in usage.json (cluster-wide
# and in some namespaces) so the merge has them to put back in order:
#   - each shard reports only the namespaces FNV-1a 64 (computed here in
#     Python, independently of kopilot) gives it, shard 0 the cluster-scoped
#     findings; scope.shard in findings.json (schema-valid), analysis.json
#     and plan.json;
#   - the merge of the 4 shards (given in any order) equals the unsharded
#     run: findings.json and plan.json (normalized: run-specific paths and
#     times only), report.md and report.html, every cell of report.xlsx
#     (openpyxl), and check_xlsx.py's read-back through LibreOffice;
#   - history (--state-dir over two nights) applies to the merged result as
#     to the unsharded one; N=1; auto/N from JOB_COMPLETION_INDEX; N larger
#     than the number of namespaces (empty shards); --shard with -n;
#   - refusals, exit 2, naming the runs and what differs, nothing written:
#     a missing, repeated or foreign shard, another N, configuration or
#     --now, a run that is not a shard; bad --shard values name the flag;
#   - cron/sharded renders with `kubectl kustomize` into an Indexed Job.
# No timings are asserted.
#
#   KOPILOT=build/kopilot bash tests/e2e/shard.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
PY=/usr/bin/python3
NOW=2026-11-25T06:00:00Z
NOW2=2026-12-09T06:00:00Z
T=$(mktemp -d /tmp/kopilot-shard.XXXXXX)
trap 'rm -rf "$T"' EXIT

SUITE=shard
. "$ROOT/tests/e2e/lib.sh"
[ -x "$KOPILOT" ] || { echo "shard: $KOPILOT is missing: build it with 'make'" >&2; exit 1; }
need kubectl kubectl
need soffice libreoffice-calc-nogui
$PY -c 'import openpyxl, jsonschema' 2>/dev/null ||
	{ echo "shard: python3-openpyxl and python3-jsonschema are needed: run 'make deps'" >&2; exit 1; }

SNAP=$T/snap
if ! $PY tests/gen/gencluster.py --seed 19 --out "$SNAP" --scale 60 --now $NOW >"$T/gen.out" 2>&1; then
	not_ok "tests/gen/gencluster.py generates the cluster" "$(tail -5 "$T/gen.out")"
	finish; exit
fi
# gaps: one cluster-wide (every shard has it), some namespaced ones (each
# in one shard): the merged "missing" must come back in the unsharded order
$PY - "$SNAP" <<'EOF'
import json, sys
snap = sys.argv[1]
u = json.load(open(snap + "/usage.json"))
ns = [n["metadata"]["name"] for n in json.load(open(snap + "/objects/namespaces.json"))["items"]]
u["missing"] = ["no kube-state-metrics: OOM kills and restarts unknown"] + [
    {"resource": "metrics", "namespace": n, "reason": "scrape target down in " + n} for n in ns[3::17]]
json.dump(u, open(snap + "/usage.json", "w"))
EOF

# run NAME ARGS...: kopilot run on the snapshot into $T/NAME, exit code kept in $T/NAME.rc
run() {
	local name=$1; shift
	"$KOPILOT" run --snapshot "$SNAP" --out "$T/$name" --now $NOW --quiet "$@" >"$T/$name.out" 2>"$T/$name.err"
	echo $? >"$T/$name.rc"
}

run full
check "the unsharded run is degraded by the planted gaps (exit 3)" test "$(cat "$T/full.rc")" = 3
N=4
for i in 0 1 2 3; do run s$i --shard $i/$N; done
check "every shard runs, degraded like the whole (exit 3)" \
	test "$(cat "$T"/s0.rc "$T"/s1.rc "$T"/s2.rc "$T"/s3.rc | tr -d '\n')" = 3333

# the independent check of the documented function, and of what shards hold
check "each shard holds exactly the namespaces FNV-1a 64 mod 4 gives it, shard 0 the cluster-scoped ones" \
	$PY - "$T" <<'EOF'
import json, sys
t = sys.argv[1]
def owner(ns, n):
    if ns is None:
        return 0
    h = 0xcbf29ce484222325
    for b in ns.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h % n
full = json.load(open(t + "/full/findings.json"))
cats = {f["category"] for f in full["findings"]}
assert len(cats) == 9, ("not every category in the generated cluster", sorted(cats))
assert any(f["resource"]["namespace"] is None for f in full["findings"])
total = 0
for i in range(4):
    d = json.load(open("%s/s%d/findings.json" % (t, i)))
    assert d["scope"]["shard"] == {"index": i, "count": 4}, d["scope"]
    a = json.load(open("%s/s%d/analysis.json" % (t, i)))
    p = json.load(open("%s/s%d/plan.json" % (t, i)))
    assert a["scope"]["shard"] == p["scope"]["shard"] == d["scope"]["shard"]
    for f in d["findings"]:
        assert owner(f["resource"]["namespace"], 4) == i, (i, f["resource"])
    for s in d["skipped"]:
        assert owner(s["resource"]["namespace"], 4) == i, (i, s)
    assert d["findings"], "shard %d is empty" % i
    total += len(d["findings"])
    # every shard has the cluster-wide gap
    assert any(m["namespace"] is None for m in d["missing"]), d["missing"]
assert total == len(full["findings"]), (total, len(full["findings"]))
EOF
for i in 0 3; do
	check "shard $i's findings.json validates against the findings schema" \
		schema_valid docs/contracts/findings.schema.json "$T/s$i/findings.json"
done
check "a shard's terminal summary and report say which shard it is" bash -c "
	'$KOPILOT' run --snapshot '$SNAP' --out '$T/s2b' --now $NOW --shard 2/4 --no-color 2>/dev/null |
		grep -q '^kopilot: .* findings in cluster snap, shard 2/4,' &&
		grep -q '^# Kubernetes cost report: snap, shard 2/4\$' '$T/s2b/report.md'"

# same_run A B: findings.json, plan.json, report.md, report.html and the
# workbook of two run directories agree, run-specific paths and times aside
same_run() {
	$PY - "$1" "$2" <<'EOF'
import json, sys, openpyxl
a, b = sys.argv[1], sys.argv[2]
def norm(doc):
    doc.get("changes", {}).pop("previous_run", None)
    return doc
for name in ("findings.json", "plan.json"):
    x, y = norm(json.load(open(a + "/" + name))), norm(json.load(open(b + "/" + name)))
    if x != y:
        for k in sorted(set(x) | set(y)):
            if x.get(k) != y.get(k):
                sys.exit("%s differs in %s" % (name, k))
# the reports: the same text once the run directories' own paths are taken out
for name in ("report.md", "report.html"):
    x = open(a + "/" + name).read().replace(a, "RUN")
    y = open(b + "/" + name).read().replace(b, "RUN")
    prev = json.load(open(a + "/findings.json")).get("changes", {}).get("previous_run")
    prev2 = json.load(open(b + "/findings.json")).get("changes", {}).get("previous_run")
    if prev: x = x.replace(prev, "PREV")
    if prev2: y = y.replace(prev2, "PREV")
    if x != y:
        xl, yl = x.splitlines(), y.splitlines()
        diff = next(i for i in range(min(len(xl), len(yl)) + 1) if i >= min(len(xl), len(yl)) or xl[i] != yl[i])
        sys.exit("%s differs at line %d: %r against %r" % (name, diff + 1, xl[diff:diff + 1], yl[diff:diff + 1]))
wa, wb = openpyxl.load_workbook(a + "/report.xlsx"), openpyxl.load_workbook(b + "/report.xlsx")
assert wa.sheetnames == wb.sheetnames, (wa.sheetnames, wb.sheetnames)
cells = 0
import re
# the History sheet names each run by its directory, a wall-clock time
run_name = re.compile(r"^\d{8}T\d{6}Z(-\d+)?( \(this run\))?$")
def cell(c):
    return "RUN" if isinstance(c, str) and run_name.match(c) else c
for s in wa.sheetnames:
    ra = [[cell(c) for c in r] for r in wa[s].iter_rows(values_only=True)]
    rb = [[cell(c) for c in r] for r in wb[s].iter_rows(values_only=True)]
    if ra != rb:
        i = next(i for i in range(min(len(ra), len(rb)) + 1) if i >= min(len(ra), len(rb)) or ra[i] != rb[i])
        sys.exit("report.xlsx sheet %s differs at row %d" % (s, i + 1))
    cells += sum(len(r) for r in ra)
assert cells > 1000, cells
EOF
}

expect_exit "kopilot merge of the 4 shards, given out of order, exits 3 (degraded, as the unsharded run)" 3 "" -- \
	"$KOPILOT" merge "$T/s3" "$T/s1" "$T/s0" "$T/s2" --out "$T/merged"
check "the merged run equals the unsharded one: findings.json, plan.json, report.md, report.html, every cell of report.xlsx" \
	same_run "$T/full" "$T/merged"
check "the merged findings.json is byte-identical to the unsharded one, and has no scope.shard" bash -c "
	cmp '$T/full/findings.json' '$T/merged/findings.json' && ! grep -q '\"shard\"' '$T/merged/findings.json'"
check "the merged findings.json validates against the findings schema" \
	schema_valid docs/contracts/findings.schema.json "$T/merged/findings.json"
check "the merged run.json says merge and names the shards" $PY -c "
import json; r = json.load(open('$T/merged/run.json'))
assert r['command'] == 'merge' and len(r['shards']) == 4 and r['exit_code'] == 3 and r['now'] == '$NOW', r"
xl=$($PY tests/e2e/check_xlsx.py "$T/merged/report.xlsx" "$T/merged/findings.json" 2>&1)
if [ $? -eq 0 ]; then ok "the merged report.xlsx reads back through LibreOffice and agrees with its findings.json"
else not_ok "the merged report.xlsx reads back through LibreOffice and agrees with its findings.json" "$(grep -v '^ok' <<<"$xl")"; fi

# ---- history: two nights, the merged state directory against the unsharded one ----
for night in $NOW $NOW2; do
	"$KOPILOT" run --snapshot "$SNAP" --state-dir "$T/hist-full" --now $night --quiet >/dev/null 2>&1
	for i in 0 1 2 3; do
		"$KOPILOT" run --snapshot "$SNAP" --out "$T/h$i" --now $night --shard $i/4 --quiet >/dev/null 2>&1
	done
	"$KOPILOT" merge "$T/h0" "$T/h1" "$T/h2" "$T/h3" --state-dir "$T/hist-merged" --quiet >/dev/null 2>&1
done
last() { ls -d "$1"/2* | sort | tail -1; }
check "history over two nights: the merged run compares with the previous merged run" $PY -c "
import json; d = json.load(open('$(last "$T/hist-merged")/findings.json'))
assert d['changes']['previous_run'] and d['changes']['persisting'] > 0 and d['changes']['new'] > 0, d['changes']
assert all(f.get('trend') for f in d['findings'])"
check "... and its changes, trends and first_seen equal the unsharded run's" \
	same_run "$(last "$T/hist-full")" "$(last "$T/hist-merged")"
check "the merged nights are on the state directory's trend, as the unsharded nights are on theirs" $PY -c "
import json
full = json.load(open('$(last "$T/hist-full")/history.json'))
merged = json.load(open('$(last "$T/hist-merged")/history.json'))
assert len(merged['runs']) == 2, merged['runs']
strip = lambda h: [(r['generated_at'], r['findings'], r['monthly_savings'], r['categories']) for r in h['runs']]
assert strip(merged) == strip(full), (strip(merged), strip(full))
s = json.load(open('$(last "$T/hist-merged")/summary.json'))
f = json.load(open('$(last "$T/hist-full")/summary.json'))
assert s['monthly_savings'] == f['monthly_savings'] and s['findings'] == f['findings'], (s, f)"
check "... and the merged report.html draws it" grep -q "<svg" "$(last "$T/hist-merged")/report.html"

# ---- N = 1, auto/N, -n with --shard ----
run one --shard 0/1
expect_exit "N=1: the one shard merges into the unsharded run" 3 "" -- "$KOPILOT" merge "$T/one" --out "$T/one-merged"
check "N=1: merged equals unsharded" same_run "$T/full" "$T/one-merged"
JOB_COMPLETION_INDEX=2 run auto --shard auto/4
check "--shard auto/4 with JOB_COMPLETION_INDEX=2 is shard 2/4" bash -c "
	test \"\$(cat '$T/auto.rc')\" = 3 && cmp '$T/auto/findings.json' '$T/s2/findings.json'"
NSFLAGS=$($PY -c "
import json; ns = [n['metadata']['name'] for n in json.load(open('$SNAP/objects/namespaces.json'))['items']]
print(' '.join('-n ' + n for n in ns[::9]))")
run scoped $NSFLAGS
run scoped0 $NSFLAGS --shard 0/2
run scoped1 $NSFLAGS --shard 1/2
"$KOPILOT" merge "$T/scoped1" "$T/scoped0" --out "$T/scoped-merged" --quiet >/dev/null 2>&1
check "--shard with -n: the merged shards equal the scoped unsharded run" same_run "$T/scoped" "$T/scoped-merged"

# ---- more shards than namespaces: empty shards merge too ----
SMALL=$T/small
$PY tests/gen/gencluster.py --seed 5 --out "$SMALL" --now $NOW >/dev/null 2>&1
NS_SMALL=$($PY -c "import json; print(len(json.load(open('$SMALL/objects/namespaces.json'))['items']))")
"$KOPILOT" run --snapshot "$SMALL" --out "$T/small-full" --now $NOW --quiet >/dev/null 2>&1
NB=$((NS_SMALL + 8))
SMALL_RUNS=()
for i in $(seq 0 $((NB - 1))); do
	"$KOPILOT" run --snapshot "$SMALL" --out "$T/small-$i" --now $NOW --shard $i/$NB --quiet >/dev/null 2>&1
	SMALL_RUNS+=("$T/small-$i")
done
check "N=$NB over $NS_SMALL namespaces: some shards are empty, yet complete runs" $PY -c "
import json
docs = [json.load(open('$T/small-%d/findings.json' % i)) for i in range($NB)]
assert sum(1 for d in docs if not d['findings']) >= 8, [len(d['findings']) for d in docs]"
"$KOPILOT" merge "${SMALL_RUNS[@]}" --out "$T/small-merged" --quiet >/dev/null 2>&1
check "N=$NB: the merged shards equal the unsharded run" same_run "$T/small-full" "$T/small-merged"

# ---- refusals: exit 2, the runs and the difference named, nothing written ----
run other3 --shard 0/3
run conf3 --shard 3/4 --set rightsizing.cpu_margin=0.3
"$KOPILOT" run --snapshot "$SNAP" --out "$T/late3" --now $NOW2 --shard 3/4 --quiet >/dev/null 2>&1
M="$KOPILOT merge"
expect_exit "a missing shard is refused, naming it" 2 "4 shards and 3 are given: shard 2 is missing" -- \
	$M "$T/s0" "$T/s1" "$T/s3" --out "$T/refused"
expect_exit "a shard given twice is refused" 2 "s1 and .*s1 are the same shard \(1 of 4\)" -- \
	$M "$T/s0" "$T/s1" "$T/s1" "$T/s2" "$T/s3" --out "$T/refused"
expect_exit "an unsharded run is refused" 2 "full is not a shard of a sharded run" -- \
	$M "$T/s0" "$T/s1" "$T/s2" "$T/full" --out "$T/refused"
expect_exit "a shard of another N is refused" 2 "one is shard 0 of 4, the other of 3" -- \
	$M "$T/s0" "$T/s1" "$T/s2" "$T/s3" "$T/other3" --out "$T/refused"
expect_exit "a shard with another configuration is refused, naming the key and both values" 2 \
	"s0 and .*conf3 are not shards of the same run: their configuration differs in rightsizing.cpu_margin \(0.15 against 0.3\)" -- \
	$M "$T/s0" "$T/s1" "$T/s2" "$T/conf3" --out "$T/refused"
expect_exit "a shard of another night (--now) is refused" 2 "their analysis time .* differs" -- \
	$M "$T/s0" "$T/s1" "$T/s2" "$T/late3" --out "$T/refused"
expect_exit "a directory that is no run is refused" 2 "is not a complete run directory" -- \
	$M "$T/s0" "$T/s1" "$T/s2" "$T/nothing-here" --out "$T/refused"
expect_exit "merge without --out is refused" 2 "--out RUN \(or --state-dir DIR\) is required" -- $M "$T/s0"
check "a refused merge on a first run creates nothing" test ! -e "$T/refused"
cp "$T/merged/findings.json" "$T/merged-before.json"
expect_exit "a refused merge over an existing run" 2 "shard 2 is missing" -- $M "$T/s0" "$T/s1" "$T/s3" --out "$T/merged"
check "... leaves that run as it was" cmp "$T/merged-before.json" "$T/merged/findings.json"
for bad in 4/4 x 0/0 1/ auto/4; do
	expect_exit "--shard $bad is refused, naming the flag" 2 "flag --shard: \"$bad\"" -- \
		env -u JOB_COMPLETION_INDEX "$KOPILOT" run --snapshot "$SNAP" --out "$T/badflag" --shard $bad
done
check "a refused --shard creates nothing" test ! -e "$T/badflag"

# ---- cron/sharded: the Indexed Job example renders, and its script works ----
kubectl kustomize cron/sharded >"$T/sharded.yaml" 2>"$T/kustomize.err"
check "kubectl kustomize cron/sharded renders" test -s "$T/sharded.yaml"
check "... a CronJob of an Indexed Job (completions = parallelism = SHARDS), read-only RBAC, a shared RWX volume" \
	$PY - "$T/sharded.yaml" <<'EOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
cj = [d for d in docs if d["kind"] == "CronJob"]
assert len(cj) == 1, [d["kind"] for d in docs]
job = cj[0]["spec"]["jobTemplate"]["spec"]
assert job["completionMode"] == "Indexed", job
n = job["completions"]
assert n >= 2 and job["parallelism"] == n, job
pod = job["template"]["spec"]
c = pod["containers"][0]
env = {e["name"]: e for e in c["env"]}
assert env["SHARDS"]["value"] == str(n), env["SHARDS"]
assert "job-name" in env["JOB_NAME"]["valueFrom"]["fieldRef"]["fieldPath"]
assert c["command"][-1].endswith("kopilot-shard.sh") and c["args"] == ["$(SHARDS)"], c
cms = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
script = cms["kopilot-sharded-script"]["data"]["kopilot-shard.sh"]
assert 'kopilot run "$@" --shard "$I/$N"' in script and "kopilot merge" in script
assert "kopilot.yaml" in cms["kopilot-sharded-config"]["data"]
claims = [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
pvc = [d for d in docs if d["kind"] == "PersistentVolumeClaim"]
assert claims and pvc and "ReadWriteMany" in pvc[0]["spec"]["accessModes"], pvc
rules = [r for d in docs if d["kind"] == "ClusterRole" for r in d["rules"]]
assert rules and all("secrets" not in r.get("resources", []) for r in rules), rules
assert all(set(r["verbs"]) <= {"get", "list", "watch"} for r in rules), rules
EOF
# the pods' script for real, 3 shards on the small cluster: all start at
# once, pod 0 waits for the others, then merges into REPORTS_DIR
mkdir -p "$T/bin" "$T/shared"
ln -s "$KOPILOT" "$T/bin/kopilot"
JOBNAME=kopilot-sharded-29400000 # a CronJob's Job: scheduled at minute 29400000 = 2025-11-24T16:00:00Z
PODS=()
for i in 0 1 2; do
	env PATH="$T/bin:$PATH" JOB_COMPLETION_INDEX=$i JOB_NAME=$JOBNAME SHARED_DIR="$T/shared" \
		KOPILOT_CONFIG=cron/sharded/kopilot.yaml KOPILOT_SNAPSHOT="$SMALL" MERGE_WAIT_SECONDS=600 \
		sh cron/sharded/kopilot-shard.sh 3 >"$T/pod$i.log" 2>&1 &
	PODS+=($!)
done
POD_RC=""
for p in "${PODS[@]}"; do wait "$p"; POD_RC="$POD_RC$?"; done
check "kopilot-shard.sh: the 3 pods end with 0 or 3 (degraded)" bash -c "[[ '$POD_RC' =~ ^[03]{3}\$ ]] || { cat '$T'/pod*.log; exit 1; }"
# the unsharded night into a state directory of its own, as the pod's merge
# went into REPORTS_DIR: both reports draw the same one-night trend
"$KOPILOT" run --snapshot "$SMALL" --config cron/sharded/kopilot.yaml --state-dir "$T/pod-full" \
	--now 2025-11-24T16:00:00Z --quiet >/dev/null 2>&1
check "... pod 0 merged them into REPORTS_DIR, equal to the unsharded run at the Job's scheduled time" \
	same_run "$(ls -d "$T"/pod-full/2* | head -1)" "$(ls -d "$T"/shared/reports/2* | head -1)"
check "... and removed the shards it merged" test ! -e "$T/shared/shards/$JOBNAME"
finish
