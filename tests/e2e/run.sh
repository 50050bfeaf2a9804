#!/usr/bin/env bash
# End-to-end tests: the real kopilot binary on the demo cluster and on broken
# inputs, its outputs read back by real tools (jsonschema, LibreOffice +
# openpyxl, headless Chromium). Ends with "N passed, N failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/run.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
PY=/usr/bin/python3
SHARED=${KOPILOT_SHARED:-$ROOT/../shared}
DEMO=$ROOT/examples/demo-cluster
NOW=2026-11-25T06:00:00Z
T=$(mktemp -d /tmp/kopilot-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT

SUITE=e2e
. "$ROOT/tests/e2e/lib.sh"
need "$KOPILOT" "build it with 'make'"
need $PY python3
need soffice libreoffice-calc-nogui
need chromium chromium
$PY -c 'import jsonschema, openpyxl' 2>/dev/null || { echo "e2e: python3-jsonschema and python3-openpyxl are missing: run 'make deps'" >&2; exit 1; }
# The contracts' schemas: the project's in docs/ (they extend the shared
# originals additively: inconsistencies, structured "missing" entries, which
# the demo's usage.json uses), else the shared originals.
CONTRACTS=$ROOT/docs/contracts
[ -f "$CONTRACTS/findings.schema.json" ] || CONTRACTS=$SHARED/contracts
[ -f "$CONTRACTS/findings.schema.json" ] || { echo "e2e: findings.schema.json not found (expected docs/contracts or ../shared/contracts)" >&2; exit 1; }

# ---------------------------------------------------------------- demo run
RUN=$T/run
"$KOPILOT" run --snapshot "$DEMO" --out "$RUN" --now $NOW --quiet
rc=$?
# The demo's usage.json says one workload's metrics are dropped by a relabel
# rule: the run finishes, degraded (3), and says so.
if [ $rc -eq 3 ]; then ok "run on the demo cluster exits 3 (one workload not measured)"; else not_ok "run on the demo cluster exits 3 (got $rc)"; fi
for f in snapshot/objects/pods.json snapshot/usage.json snapshot/cluster.json analysis.json findings.json plan.json \
	report.md report.html report.xlsx audit.jsonl run.json; do
	[ -s "$RUN/$f" ] || not_ok "run writes $f"
done
ok "run writes the whole run directory"
[ -z "$(find "$RUN" -name '.*.tmp.*')" ] && ok "no temp files left behind" || not_ok "no temp files left behind" "$(find "$RUN" -name '.*.tmp.*')"

check "findings.json is valid against findings.schema.json" schema_valid "$CONTRACTS/findings.schema.json" "$RUN/findings.json"
# additive only: a reader of the shared original contract still accepts it
if [ -f "$SHARED/contracts/findings.schema.json" ]; then
	check "findings.json is valid against the shared original findings.schema.json" schema_valid "$SHARED/contracts/findings.schema.json" "$RUN/findings.json"
fi
check "demo usage.json is valid against usage.schema.json" schema_valid "$CONTRACTS/usage.schema.json" "$DEMO/usage.json"

check "findings match the planted cases exactly (precision and recall 1.0)" $PY - "$RUN/findings.json" "$DEMO/expected-findings.json" <<'EOF'
import json, sys
got = json.load(open(sys.argv[1])); exp = json.load(open(sys.argv[2]))
key = lambda c, ns, k, n, ct: (c, ns, k, n, ct)
g = {key(f["category"], f["resource"]["namespace"], f["resource"]["kind"], f["resource"]["name"], f["container"]): f for f in got["findings"]}
e = {key(f["category"], f["namespace"], f["kind"], f["name"], f.get("container")): f for f in exp["findings"]}
bad = False
for k in sorted(set(e) - set(g), key=str): print("missed:", k); bad = True
for k in sorted(set(g) - set(e), key=str): print("unexpected:", k); bad = True
for k in set(e) & set(g):
    if bool(e[k].get("blocked", False)) != g[k]["action"]["blocked"]:
        print("blocked differs:", k); bad = True
skipped = {(s["resource"]["namespace"], s["resource"]["kind"], s["resource"]["name"]) for s in got.get("skipped", [])}
for s in exp.get("skipped", []):
    if (s["namespace"], s["kind"], s["name"]) not in skipped: print("not skipped:", s); bad = True
for n in exp.get("not_flagged", []):
    for f in got["findings"]:
        r = f["resource"]
        if (r["namespace"], r["kind"], r["name"]) == (n["namespace"], n["kind"], n["name"]):
            print("flagged but must not be:", n); bad = True
sys.exit(1 if bad else 0)
EOF

check "contract rules: memory never below peak, destructive => approval, protected => blocked, sorted, totals" $PY - "$RUN/findings.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); bad = []
protected = {"kube-system", "kube-public", "kube-node-lease"}
for f in d["findings"]:
    a = f["action"]
    if a["destructive"] and not a["approval_required"]: bad.append(("destructive without approval", f["id"]))
    if a["destructive"] and f["resource"]["namespace"] in protected and not (a["blocked"] and a["blocked_reason"]):
        bad.append(("protected not blocked", f["id"]))
    if f["category"] in ("over-provisioned", "under-provisioned"):
        peak = max(e["value"] for e in f["evidence"] if e.get("metric") == "memory_max_bytes")
        if f["recommended"]["memory_request_bytes"] < peak: bad.append(("memory below peak", f["id"]))
    if f["category"] == "under-provisioned" and f["monthly_savings"] > 0: bad.append(("under with savings", f["id"]))
keys = [(-round(f["monthly_savings"], 4), f["id"]) for f in d["findings"]]
if keys != sorted(keys): bad.append(("not sorted", ""))
if abs(sum(f["monthly_savings"] for f in d["findings"]) - d["totals"]["monthly_savings"]) > 0.01: bad.append(("savings total", ""))
if abs(sum(f["monthly_cost"] for f in d["findings"]) - d["totals"]["monthly_cost"]) > 0.01: bad.append(("cost total", ""))
if d["totals"]["findings"] != len(d["findings"]): bad.append(("count", ""))
if len({f["id"] for f in d["findings"]}) != len(d["findings"]): bad.append(("duplicate ids", ""))
p = d["prices"]
if (p["cpu_core_hour"], p["memory_gib_hour"], p["storage_gib_month"], p["load_balancer_hour"], p["hours_per_month"]) != (0.031611, 0.004237, 0.04, 0.025, 730):
    bad.append(("prices are not OpenCost defaults", p))
print(*bad, sep="\n"); sys.exit(1 if bad else 0)
EOF

check "actions follow their evidence: throttling limit, HPA target, retained disk, hygiene jobs" $PY - "$RUN/findings.json" "$RUN/plan.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); plan = json.load(open(sys.argv[2])); bad = []
by = {(f["resource"]["namespace"], f["resource"]["name"], f["category"]): f for f in d["findings"]}
fs = by[("payments", "fraud-scorer", "under-provisioned")]
if fs["recommended"].get("cpu_limit_millicores") == fs["current"].get("cpu_limit_millicores"): bad.append("fraud-scorer: throttling limit unchanged")
if "--limits=cpu=" not in fs["action"]["command"]: bad.append(("fraud-scorer command", fs["action"]["command"]))
sf = by[("web", "storefront", "over-provisioned")]
rel = sf.get("related_changes") or []
if not any(r["resource"]["kind"] == "HorizontalPodAutoscaler" and r["when"] == "after" for r in rel): bad.append(("storefront related", rel))
lines = sf["action"]["command"].split("\n")
if len(lines) != 2 or "set resources" not in lines[0] or "patch horizontalpodautoscaler" not in lines[1]: bad.append(("storefront command", lines))
step = [s for s in plan["steps"] if s["finding"] == sf["id"]]
if not step or "patch horizontalpodautoscaler" not in step[0]["command"] or not step[0].get("related_changes"): bad.append(("storefront plan step", step))
pvc = by[("search", "data-opensearch-master-0", "orphaned-pvc")]
lines = pvc["action"]["command"].split("\n")
if len(lines) != 2 or not lines[0].startswith("kubectl patch persistentvolume ") or "delete pvc" not in lines[1]: bad.append(("retained pvc command", lines))
if pvc["monthly_savings"] <= 0: bad.append("retained pvc saves nothing")
for f in d["findings"]:
    if f["category"] == "finished-job":
        if f["risk"] != "LOW" or not f["action"]["approval_required"]: bad.append(("finished job risk/approval", f["id"], f["risk"]))
        if not any(e.get("metric") == "objects_left" for e in f["evidence"]): bad.append(("finished job cost evidence", f["id"]))
    ns, name = f["resource"]["namespace"], f["resource"]["name"]
    if ns and ("%s/%s" % (ns, name)) not in f["explanation"]:
        bad.append(("explanation does not name namespace/name", f["id"], f["explanation"][:80]))
print(*bad, sep="\n"); sys.exit(1 if bad else 0)
EOF
check "no two findings share an explanation line (storefront in web and staging)" bash -c "! grep -q '^Deployment storefront/storefront' '$RUN/report.md'"

check "a node finding has no requests: current is empty, node holds capacity, allocatable and what its pods request" \
	$PY - "$RUN/findings.json" "$RUN/report.md" <<'EOF'
import json, sys
d, md = json.load(open(sys.argv[1])), open(sys.argv[2]).read()
nodes = [f for f in d["findings"] if f["category"] == "underutilized-node"]
assert nodes, "the demo has a node finding"
for f in nodes:
    n = f["node"]
    assert f["current"] == {}, f["current"]
    assert n["cpu_capacity_millicores"] == 4000 and n["cpu_allocatable_millicores"] == 3920, n
    assert n["cpu_requested_millicores"] == 640 and n["memory_requested_bytes"] == 1342177280, n
    assert f["evidence"][0]["summary"].startswith("Pods request 640m of 3.92 cores allocatable CPU"), f["evidence"][0]
    assert abs(f["monthly_cost"] - 139.1931) < 1e-9, "priced at its capacity, as before"
sec = md[md.index("#### 1. Node "):md.index("Finding ID:", md.index("#### 1. Node "))]
for row in ("| CPU capacity | 4 cores |", "| CPU allocatable | 3.92 cores |", "| CPU requested by pods | 640m |",
            "| Memory capacity | 15.2Gi |", "| Memory requested by pods | 1.3Gi |"):
    assert row in sec, row
assert "| CPU request |" not in sec and "| Replicas |" not in sec, sec
EOF
check "report.xlsx recomputed by LibreOffice matches findings.json (and follows price edits)" \
	$PY tests/e2e/check_xlsx.py "$RUN/report.xlsx" "$RUN/findings.json"

# Chromium: the HTML renders, with no console errors, and is self-contained.
chrome() { # chrome PROFILE ARGS...: headless, no network chatter, bounded in time
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$T/chrome-$1" "${@:2}"
}
if chrome shot --enable-logging=stderr --v=0 --window-size=1280,2000 --screenshot="$T/report.png" \
	"file://$RUN/report.html" >"$T/chrome.out" 2>"$T/chrome.err" && [ -s "$T/report.png" ]; then
	if grep -q 'CONSOLE' "$T/chrome.err"; then not_ok "report.html renders in Chromium without console errors" "$(grep CONSOLE "$T/chrome.err")"
	else ok "report.html renders in Chromium without console errors"; fi
else
	not_ok "report.html renders in Chromium" "$(tail -5 "$T/chrome.err")"
fi
chrome dom --dump-dom "file://$RUN/report.html" >"$T/dom.html" 2>/dev/null
check "rendered DOM has the summary table and total savings" grep -q '<table' "$T/dom.html"
check "report.html loads nothing external" bash -c "! grep -Eq '(src|href)=\"(https?:)?//' '$RUN/report.html'"

# ------------------------------------------------- secrets (tests/e2e/secrets.sh)
. "$ROOT/tests/e2e/secrets.sh"
chrome pdf --print-to-pdf="$T/report.pdf" "file://$RUN/report.html" >/dev/null 2>&1
check "report.html prints to PDF" test -s "$T/report.pdf"

# The net savings every output headlines is what the plan can act on
# (plan.json's total); savings blocked in protected namespaces are their own
# line, never added: terminal, report.md, report.html, report.xlsx.
net_is_the_plan() { # net_is_the_plan NAME ENV...: a demo run with ENV, its outputs checked
	local name=$1 dir=$T/net-$1; shift
	env "$@" "$KOPILOT" run --snapshot "$DEMO" --out "$dir" --now $NOW >"$dir.term" 2>/dev/null
	check "net savings = the plan's total everywhere, blocked money apart ($name)" $PY - "$dir" "$dir.term" <<'EOF'
import json, sys, openpyxl
run, term = sys.argv[1], open(sys.argv[2]).read()
d, p = json.load(open(run + "/findings.json")), json.load(open(run + "/plan.json"))
t, bad = d["totals"], []
net, blocked = t["actionable_monthly_savings"], t["blocked_monthly_savings"]
money = lambda v: "${:,.2f}".format(v)
if abs(net - p["totals"]["monthly_savings"]) > 1e-6: bad.append("net %r != plan %r" % (net, p["totals"]["monthly_savings"]))
if abs(blocked - p["totals"]["blocked_monthly_savings"]) > 1e-6: bad.append("blocked differs from the plan's")
if abs(net + blocked - t["monthly_savings"]) > 0.005: bad.append("actionable + blocked != monthly_savings")
if abs(blocked - sum(f["monthly_savings"] for f in d["findings"] if f["action"]["blocked"])) > 0.005: bad.append("blocked sum")
if blocked <= 0: bad.append("the case has nothing blocked")
line = "%d findings in cluster demo-cluster, %s/month potential savings (not counted: %s/month blocked in protected namespaces)" % (
    len(d["findings"]), money(net), money(blocked))
if line not in term: bad.append("terminal: " + term.strip().splitlines()[0])
md, html = open(run + "/report.md").read(), open(run + "/report.html").read()
for want in ("**%d findings, %s/month potential savings**" % (len(d["findings"]), money(net)),
             "Not counted: %s/month blocked in protected namespaces (review only)." % money(blocked),
             "| **Net potential savings** (what the plan can act on) | **%s** |" % money(net),
             "| Not counted: savings blocked in protected namespaces (review only) | %s |" % money(blocked),
             "| **Total** | **%d** | **%s** | **%s** | **%s** |" % (len(d["findings"]), money(t["monthly_cost"]), money(net), money(blocked))):
    if want not in md: bad.append("report.md lacks " + want)
if md.count("| **Total** |") != 2: bad.append("report.md: two total rows expected")
if money(t["monthly_savings"]) in md: bad.append("report.md shows the sum with blocked money " + money(t["monthly_savings"]))
if "<strong>%s</strong>" % money(net) not in html: bad.append("report.html lacks the net")
ws = openpyxl.load_workbook(run + "/report.xlsx", data_only=True)["Summary"]
got = {r[0].split(" (")[0]: r[1] for r in ws.iter_rows(values_only=True) if isinstance(r[0], str)}
if abs((got.get("Net potential savings") or 0) - net) > 0.005: bad.append("xlsx net %r" % got.get("Net potential savings"))
if abs((got.get("Blocked, review only, not in net") or 0) - blocked) > 0.005: bad.append("xlsx blocked")
print(*bad, sep="\n"); sys.exit(1 if bad else 0)
EOF
}
net_is_the_plan demo
net_is_the_plan more-protected SAFETY_PROTECTED_NAMESPACES='["ml","web"]'

check "audit.jsonl is JSON lines with a safety decision per finding" $PY - "$RUN/audit.jsonl" "$RUN/findings.json" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ids = {f["id"] for f in json.load(open(sys.argv[2]))["findings"]}
decided = {l["finding"] for l in lines if l["event"] == "safety.decision"}
sys.exit(0 if ids == decided and all("ts" in l for l in lines) else 1)
EOF
check "run.json records version, stages, peak memory, exit status" $PY -c "
import json,sys; r=json.load(open('$RUN/run.json'))
assert r['version'] and r['exit_code']==3 and r['exit_status']=='degraded' and r['peak_rss_bytes']>0
assert any((m.get('workload') or {}).get('name') == 'legacy-geoip' for m in r['missing'])
assert set(r['stage_seconds'])=={'collect','analyze','recommend','render'}
f=json.load(open('$RUN/findings.json'))['totals']
assert r['counts']['actionable_monthly_savings']==f['actionable_monthly_savings'] and r['counts']['monthly_savings']==f['monthly_savings'], r['counts']"

# ------------------------------------------------ reproducibility, stages
"$KOPILOT" run --snapshot "$DEMO" --out "$T/run2" --now $NOW --quiet
check "same snapshot and --now give byte-identical findings.json" cmp "$RUN/findings.json" "$T/run2/findings.json"

S=$T/staged
ok_or_degraded "$KOPILOT" collect --snapshot "$DEMO" --out "$S" --quiet &&
	ok_or_degraded "$KOPILOT" analyze "$S" --now $NOW --quiet &&
	ok_or_degraded "$KOPILOT" recommend "$S" --quiet && ok_or_degraded "$KOPILOT" render "$S" --quiet
check "collect, analyze, recommend, render one by one give the same findings" cmp "$RUN/findings.json" "$S/findings.json"

mkdir -p "$T/elsewhere" && cp "$RUN/findings.json" "$T/elsewhere/"
check "render works on a copied run directory with findings.json alone" ok_or_degraded "$KOPILOT" render "$T/elsewhere" --quiet
check "re-rendered report.md is identical" cmp "$RUN/report.md" "$T/elsewhere/report.md"

cat >"$T/custom.mustache" <<'EOF'
Custom: {{cluster.name}} has {{totals.findings}} findings.
{{#findings}}- {{resource.name}}
{{/findings}}
EOF
"$KOPILOT" render "$T/elsewhere" --template "$T/custom.mustache" --quiet
check "--template renders a user template" grep -q '^Custom: demo-cluster has' "$T/elsewhere/report.md"
printf '{{#findings}}oops\n' >"$T/broken.mustache"
expect_exit "a broken template is an error naming the template line" 4 'broken.mustache:1' -- \
	"$KOPILOT" render "$T/elsewhere" --template "$T/broken.mustache"
check "a failed render keeps the previous report" grep -q '^Custom:' "$T/elsewhere/report.md"

# ----------------------------------------------------------- degraded
D=$T/degraded-snap
cp -r "$DEMO" "$D" && rm "$D/usage.json" "$D/objects/persistentvolumes.json"
"$KOPILOT" run --snapshot "$D" --out "$T/degraded" --now $NOW --quiet
rc=$?
[ $rc -eq 3 ] && ok "missing inputs: exit 3 (degraded)" || not_ok "missing inputs: exit 3 (degraded), got $rc"
check "degraded report says what was not collected" grep -q 'usage.json is missing' "$T/degraded/report.md"
check "degraded: no workload rightsized without usage" $PY -c "
import json; d=json.load(open('$T/degraded/findings.json'))
assert not [f for f in d['findings'] if f['category'].endswith('provisioned')]
assert any('usage not measured' in s['reason'] for s in d['skipped'])"
rm "$D/objects/pods.json"
"$KOPILOT" run --snapshot "$D" --out "$T/degraded2" --now $NOW --quiet
check "pods not collected: no PVC is called orphaned" $PY -c "
import json; d=json.load(open('$T/degraded2/findings.json'))
assert not [f for f in d['findings'] if f['category']=='orphaned-pvc']"

# ---------------------------------------------------------- bad input
bad_snapshot() { # bad_snapshot NAME FILE CONTENT -> fresh copy of the demo with one file replaced
	B=$T/bad-$1
	rm -rf "$B" && cp -r "$DEMO" "$B" && printf '%s' "$3" >"$B/$2"
}
expect_bad() { # expect_bad NAME PATTERN (uses $B)
	expect_exit "bad input: $1" 4 "$2" -- "$KOPILOT" run --snapshot "$B" --out "$T/out-$1" --now $NOW --quiet
	[ ! -e "$T/out-$1" ] && ok "bad input: $1 leaves no output directory" || not_ok "bad input: $1 leaves no output directory"
}
bad_snapshot malformed objects/pods.json $'{"kind": "List",\n "items": [\n  {"kind": "Pod",,}\n]}'
expect_bad malformed 'objects/pods.json:3:[0-9]+: malformed JSON'
bad_snapshot wrongkind objects/services.json '{"kind":"List","items":[{"kind":"Pod","metadata":{"name":"a","namespace":"b"}}]}'
expect_bad wrongkind 'services.json: items\[0\].*"Pod"'
bad_snapshot nolist objects/nodes.json '{"kind":"PodList","items":[]}'
expect_bad nolist 'nodes.json: kind: is "PodList"'
bad_snapshot noname objects/deployments.json '{"kind":"List","items":[{"kind":"Deployment","metadata":{"namespace":"x"},"spec":{"template":{"spec":{"containers":[]}}}}]}'
expect_bad noname 'deployments.json: items\[0\]: metadata.name: missing'
bad_snapshot negative objects/deployments.json '{"kind":"List","items":[{"kind":"Deployment","metadata":{"name":"a","namespace":"x"},"spec":{"template":{"spec":{"containers":[{"name":"c","resources":{"requests":{"memory":"-1Gi"}}}]}}}}]}'
expect_bad negative 'Deployment x/a.*containers\[0\]\.resources\.requests\.memory'
bad_snapshot absurd objects/deployments.json '{"kind":"List","items":[{"kind":"Deployment","metadata":{"name":"a","namespace":"x"},"spec":{"template":{"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"9000000"}}}]}}}}]}'
expect_bad absurd 'requests\.cpu: absurd'
bad_snapshot nonutf8 objects/namespaces.json $'{"kind":"List","items":[{"kind":"Namespace","metadata":{"name":"caf\xe9"}}]}'
expect_bad nonutf8 'namespaces.json:1:[0-9]+: malformed JSON'
long=$(printf 'a%.0s' $(seq 1 400))
bad_snapshot longname objects/namespaces.json "{\"kind\":\"List\",\"items\":[{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$long\"}}]}"
expect_bad longname 'namespaces.json: items\[0\]: metadata.name: name is 400 characters long'
bad_snapshot usage usage.json '{"schema":"kopilot.usage/v1","window":{"start":"2026-11-11T06:00:00Z","end":"2026-11-25T06:00:00Z","source":"manual"},"containers":[{"namespace":"a","pod":"p","container":"c","samples":"many"}]}'
expect_bad usage 'usage.json: containers\[0\] \(a/p/c\): samples'

expect_exit "unwritable output directory: exit 4 naming it" 4 '/proc/kopilot-e2e' -- \
	"$KOPILOT" run --snapshot "$DEMO" --out /proc/kopilot-e2e/run --now $NOW --quiet
expect_exit "snapshot directory missing: exit 2" 2 'does not exist' -- "$KOPILOT" run --snapshot "$T/nope" --out "$T/x"

# ---------------------------------------------------------- usage errors
expect_exit "unknown flag: exit 2, one line naming it" 2 '^kopilot run: unknown flag --frobnicate' -- \
	"$KOPILOT" run --frobnicate --snapshot "$DEMO" --out "$T/x"
expect_exit "bad --now: exit 2" 2 'flag --now' -- "$KOPILOT" run --snapshot "$DEMO" --out "$T/x" --now yesterday
expect_exit "--prometheus-url with --snapshot: one source or the other, exit 2" 2 'is for reading a live cluster' -- \
	"$KOPILOT" collect --snapshot "$DEMO" --prometheus-url http://localhost:9090 --out "$T/x"
expect_exit "--prometheus-url that is not a URL: exit 2 naming prometheus.url" 2 'prometheus.url: .*http' -- \
	"$KOPILOT" run --prometheus-url localhost:9090 --kubeconfig /dev/null --out "$T/x"
expect_exit "--window that is not a duration: exit 2 naming prometheus.window" 2 'prometheus.window: .*duration' -- \
	"$KOPILOT" run --window 2weeks --kubeconfig /dev/null --out "$T/x"
expect_exit "bad SAFETY_PROTECTED_NAMESPACES: exit 2 naming it" 2 'SAFETY_PROTECTED_NAMESPACES' -- \
	env SAFETY_PROTECTED_NAMESPACES=kube-system "$KOPILOT" config show
expect_exit "approval for destructive actions cannot be turned off" 2 'SAFETY_REQUIRE_APPROVAL_DESTRUCTIVE' -- \
	env SAFETY_REQUIRE_APPROVAL_DESTRUCTIVE=false "$KOPILOT" run --snapshot "$DEMO" --out "$T/x"
expect_exit "bad LLM_PROVIDER: exit 2" 2 'LLM_PROVIDER' -- env LLM_PROVIDER=skynet "$KOPILOT" config show
expect_exit "bad config value: exit 2 naming file and line" 2 'bad.yaml:2' -- \
	bash -c "printf 'prices:\n  cpu_core_hour: cheap\n' >'$T/bad.yaml'; '$KOPILOT' config show --config '$T/bad.yaml'"
expect_exit "unknown command: exit 2" 2 'unknown command' -- "$KOPILOT" frobnicate
expect_exit "analyze without a run directory: exit 2" 2 'does not exist' -- "$KOPILOT" analyze "$T/nope"

for c in run collect analyze recommend render config version help; do
	out=$("$KOPILOT" $c --help 2>&1); rc=$?
	if [ $rc -eq 0 ] && grep -q '^usage: kopilot' <<<"$out" && grep -q 'Exit codes' <<<"$out"; then :; else not_ok "$c --help" "$out"; fi
done
ok "every command has --help with usage and exit codes"
expect_exit "kopilot help with an unknown command exits 2, as kopilot nosuch does" 2 'unknown command "nosuch"' -- "$KOPILOT" help nosuch
# A cluster-scoped finding (the demo's node) is named alike everywhere:
# "(cluster)" in the terminal, report.md and report.xlsx (check_xlsx.py).
out=$("$KOPILOT" run --snapshot "$DEMO" --out "$T/scoped" --now 2026-11-25T06:00:00Z 2>/dev/null)
if grep -qE '^  1 +\(cluster\) +Node/' <<<"$out" && grep -q '(cluster)' "$T/scoped/report.md" &&
	! grep -qE '^  [0-9]+ +- ' <<<"$out"; then
	ok "cluster-scoped findings are \"(cluster)\" in the terminal and in report.md"
else
	not_ok "cluster-scoped naming" "$(grep Node/ <<<"$out")"
fi
# One value, one spelling: a bullet's sentence and its evidence value agree
# ("CPU p95 was 240m ... (cpu_percentile_millicores = 240m" , never 239m).
bad=$($PY - "$T/scoped/report.md" <<'PYEOF'
import re, sys
for line in open(sys.argv[1]):
    for said, field in ((r"CPU p\d+ was (\S+) ", "cpu_percentile_millicores"), (r"CPU peaked at (\S+) ", "cpu_max_millicores"),
                        (r"Peak memory working set was (\S+) ", "memory_max_bytes")):
        m, v = re.search(said, line), re.search(field.replace("_", r"\\?_") + r" = ([^,]+),", line)
        if m and v and m.group(1) != v.group(1):
            print(line.strip()[:200])
PYEOF
)
if [ -z "$bad" ]; then ok "report.md: every usage figure is spelled the same in the sentence and in its evidence value"; else not_ok "usage figures spelled two ways" "$bad"; fi

# -------------------------------------------------- configuration, secrets
out=$(env GEMINI_API_KEY=sk-supersecret-value-12345 KOPILOT_PRICES_CPU_CORE_HOUR=0.05 "$KOPILOT" config show \
	--set prices.memory_gib_hour=0.01 2>&1)
check "config show masks secrets" bash -c "! grep -q supersecret <<<'$out'"
check "config show says where values came from" bash -c "grep -E 'prices.cpu_core_hour.*0.05.*env' <<<'$out' >/dev/null && grep -E 'prices.memory_gib_hour.*0.01.*flag' <<<'$out' >/dev/null && grep -E 'prices.storage_gib_month.*default' <<<'$out' >/dev/null"
env GEMINI_API_KEY=sk-supersecret-value-12345 "$KOPILOT" run --snapshot "$DEMO" --out "$T/secret" --now $NOW --quiet \
	--set prices.cpu_core_hour=0.05
check "no secret in any output" bash -c "! grep -rq supersecret '$T/secret'"
check "configured prices are written into findings.json" $PY -c "
import json; p=json.load(open('$T/secret/findings.json'))['prices']
assert p['cpu_core_hour']==0.05 and p['source']=='config', p"

# ------------------------------------------- history, plan, namespace scope
ST=$T/state
"$KOPILOT" run --snapshot "$DEMO" --state-dir "$ST" --now $NOW --quiet
"$KOPILOT" run --snapshot "$DEMO" --state-dir "$ST" --now $NOW --quiet
runs=$(ls "$ST" | sort)
check "--state-dir writes timestamped run directories" bash -c "[ \$(wc -l <<<'$runs') -eq 2 ] && ! grep -qvE '^[0-9]{8}T[0-9]{6}Z(-[0-9]+)?\$' <<<'$runs'"
FIRST=$ST/$(head -1 <<<"$runs"); SECOND=$ST/$(tail -1 <<<"$runs")
check "first run in a state directory has no previous run and no trend" $PY -c "
import json; d=json.load(open('$FIRST/findings.json'))
assert d['changes'] == {'previous_run': None}, d['changes']
assert not [f for f in d['findings'] if 'trend' in f]"
check "second run: every finding persisting, 0 new, 0 resolved" $PY -c "
import json; d=json.load(open('$SECOND/findings.json')); c=d['changes']
assert c['previous_run'].endswith('$(basename "$FIRST")'), c
assert c['new'] == 0 and c['resolved'] == 0 and c['persisting'] == len(d['findings']) > 0, c
assert all(f['trend'] == 'persisting' and f['first_seen'] == '$NOW' for f in d['findings'])"
check "findings.json with changes is still valid against findings.schema.json" schema_valid "$CONTRACTS/findings.schema.json" "$SECOND/findings.json"
check "report.md shows the changes" grep -q '0 new.*persisting.*0 resolved' "$SECOND/report.md"

H=$T/history-snap
cp -r "$DEMO" "$H"
$PY - "$H/objects/persistentvolumeclaims.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["items"] = [i for i in d["items"] if i["metadata"]["name"] != "scratch-jdoe"]
json.dump(d, open(sys.argv[1], "w"))
EOF
"$KOPILOT" run --snapshot "$H" --cluster-name demo-cluster --out "$T/history-run" --previous "$SECOND" --now $NOW --quiet
check "a PVC removed from the snapshot is resolved" $PY -c "
import json; d=json.load(open('$T/history-run/findings.json')); c=d['changes']
assert c['resolved'] == 1 and c['new'] == 0, c
r = c['resolved_findings'][0]
assert (r['category'], r['resource']['namespace'], r['resource']['name']) == ('orphaned-pvc', 'ml', 'scratch-jdoe'), r
assert r['monthly_savings'] > 0 and len(r['id']) == 16"
check "report.md lists the resolved finding" grep -q 'ml/scratch-jdoe' "$T/history-run/report.md"

check "plan.json: steps by risk class then savings, cumulative savings, blocked apart" $PY - "$SECOND/plan.json" "$SECOND/findings.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
order = {"no-approval": 0, "approval-required": 1, "destructive": 2}
steps = p["steps"]
keys = [(order[s["risk_class"]], -s["monthly_savings"]) for s in steps]
assert keys == sorted(keys), "steps out of order"
cum = 0
for i, s in enumerate(steps):
    cum += s["monthly_savings"]
    assert s["step"] == i + 1 and abs(s["cumulative_savings"] - cum) < 0.01 and "command" in s and "risk" in s, s
blocked = {f["id"] for f in d["findings"] if f["action"]["blocked"]}
assert blocked and {b["finding"] for b in p["blocked"]} == blocked
assert not blocked & {s["finding"] for s in steps}
assert len(steps) + len(p["blocked"]) == len(d["findings"])
EOF
check "report.md has the plan section" grep -q '^## Plan: the next cost-saving actions$' "$SECOND/report.md"

NS=$T/ns-staging
"$KOPILOT" run --snapshot "$DEMO" --out "$NS" --now $NOW --quiet --namespace staging
check "--namespace staging: only staging findings and skips, scope recorded" $PY -c "
import json; d=json.load(open('$NS/findings.json')); a=json.load(open('$NS/analysis.json'))
assert d['findings'] and {f['resource']['namespace'] for f in d['findings']} == {'staging'}
assert all(s['resource']['namespace'] == 'staging' for s in d['skipped'])
assert d['scope'] == a['scope'] == {'namespaces': ['staging']}
assert d['totals']['findings'] == len(d['findings'])"
check "--namespace staging: report title and plan section name it" bash -c "grep -q '^# Kubernetes cost report: demo-cluster, namespace staging' '$NS/report.md' && grep -q '^## Plan: the next cost-saving actions for staging' '$NS/report.md'"
expect_exit "--namespace with a bad name: exit 2 naming the flag" 2 'flag --namespace' -- \
	"$KOPILOT" run --snapshot "$DEMO" --out "$T/x" --namespace Bad_Name
expect_exit "--namespace not in the snapshot: exit 2 naming the flag" 2 'flag --namespace.*nosuch' -- \
	"$KOPILOT" run --snapshot "$DEMO" --out "$T/x" --namespace nosuch
expect_exit "--previous without a run directory: exit 2 naming the flag" 2 'flag --previous' -- \
	"$KOPILOT" run --snapshot "$DEMO" --out "$T/x" --previous "$T/nope"
mkdir -p "$T/corrupt-run" && printf '{"schema":' >"$T/corrupt-run/findings.json"
expect_exit "--previous with a corrupt findings.json: exit 4 naming it" 4 'corrupt-run/findings.json' -- \
	"$KOPILOT" run --snapshot "$DEMO" --out "$T/x" --previous "$T/corrupt-run"
[ ! -e "$T/x" ] && ok "bad --namespace/--previous leave no run directory" || not_ok "bad --namespace/--previous leave no run directory"

# One money path: with node-type prices (cheaper than the global ones) and
# rightsizing.min_monthly_savings 5, no finding under the bar may be kept
# (the bar once applied at the global price while findings were priced per
# node type: $2.74, $1.31, $1.21 got through), and a EUR price file shows
# EUR the same way in the terminal, report.md, report.html and report.xlsx.
cat >"$T/node-prices.yaml" <<'YAML'
rightsizing:
  min_monthly_savings: 5
prices:
  currency: EUR
  node_types:
    m5.xlarge: {hourly: 0.05}
    m5.2xlarge: {hourly: 0.10}
YAML
"$KOPILOT" run --snapshot "$DEMO" --out "$T/np" --config "$T/node-prices.yaml" --now 2026-11-25T06:00:00Z >"$T/np.out" 2>/dev/null
check "node-type prices: savings bar applied at the price the user sees" python3 -c "
import json; d=json.load(open('$T/np/findings.json'))
small=[(f['resource']['name'], f['monthly_savings']) for f in d['findings'] if f['category'] in ('over-provisioned','idle-workload') and f['monthly_savings'] < 5]
assert not small, small
assert any(f.get('price') for f in d['findings']), 'no finding priced per node type'
assert d['totals']['findings'] == len(d['findings'])"
check "EUR: terminal header and amounts name the currency" bash -c "grep -q 'SAVINGS EUR/MONTH' '$T/np.out' && grep -q '€' '$T/np.out' && ! grep -q '\\\$' '$T/np.out'"
check "EUR: report.md and report.html amounts in euros, headers name EUR, no dollars" bash -c "grep -q '€' '$T/np/report.md' && grep -q 'Savings (EUR/month)' '$T/np/report.md' && ! grep -q 'USD' '$T/np/report.md' && ! grep -qE '\\\$[0-9]' '$T/np/report.md' && ! grep -qE '\\\$[0-9]' '$T/np/report.html'"
check "EUR: report.xlsx money cells formatted in euros" $PY -c "
import openpyxl; wb=openpyxl.load_workbook('$T/np/report.xlsx')
fmts={c.number_format for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value,(int,float)) or (isinstance(c.value,str) and c.value.startswith('='))}
assert any('€' in f for f in fmts), fmts
assert not any('\$' in f for f in fmts), [f for f in fmts if '\$' in f]"

finish
