#!/usr/bin/env bash
# End-to-end checks of usage from Prometheus: a real Prometheus (Debian's
# prometheus package) backfilled with cAdvisor and kube-state-metrics series
# generated from examples/demo-cluster/usage.json (tests/e2e/promgen.py), the
# demo's objects served by the fake API server (tests/fakes/kubeapi.py):
#   1. the fixture: the queries themselves give back the generated values
#      (tests/e2e/promcheck.py);
#   2. kopilot collect --prometheus-url: usage.json is valid and equals the
#      values the series were generated from, container by container; a
#      query set per group of namespaces, not per container;
#   3. the demo served live (fake API + real Prometheus) gives the same
#      findings as the snapshot run (make demo), --snapshot-out reads back
#      the same, PROMETHEUS_URL works as the flag does;
#   4. the server finds queries too heavy (--query.max-samples, a timeout):
#      kopilot splits them and still gets every value;
#   5. what Prometheus lacks: labels renamed to pod_name/container_name
#      (reported with the fix, then fixed by prometheus.labels.*), no
#      kube-state-metrics, Prometheus down, failing (500), refusing the
#      token: a degraded run (exit 3) that says why, or exit 2 for bad
#      credentials; never a wrong answer;
#   6. a path prefix, a bearer token and X-Scope-OrgID (Mimir-style gateway);
#   7. no Prometheus: metrics-server's one sample, findings of confidence low;
#   8. the progress line on a terminal (a pty from script): stages, objects
#      listed page by page, Prometheus queries done of all, erased before
#      each log line and at the end; nothing without a terminal, with
#      --quiet or with LOG_FORMAT=json (whose lines stay JSON).
# Ends with "prom: N passed, N failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/prom.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
PY=/usr/bin/python3
DEMO=$ROOT/examples/demo-cluster
FAKE=$ROOT/tests/fakes/kubeapi.py
PROXY=$ROOT/tests/fakes/promproxy.py
CHECK="$PY $ROOT/tests/e2e/live/check.py"
UCMP="$PY $ROOT/tests/e2e/live/usage_cmp.py"
CONTRACTS=$ROOT/docs/contracts
NOW=2026-11-25T06:00:00Z
# the fixture is generated at 60-s steps (promgen.py reproduces the values of
# that step exactly); kopilot's default for 14 days is 2 minutes (auto)
export KOPILOT_PROMETHEUS_STEP=1m

SUITE=prom
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/promlib.sh"
need prometheus prometheus
need promtool prometheus
need curl curl
need $PY python3
[ -x "$KOPILOT" ] || { echo "prom: $KOPILOT is missing: build it with 'make'" >&2; exit 1; }
$PY -c 'import jsonschema' 2>/dev/null || { echo "prom: python3-jsonschema is missing: run 'make deps'" >&2; exit 1; }

T=$(mktemp -d /tmp/kopilot-prom.XXXXXX)
PIDS=()
cleanup() {
	prom_stop
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

# ---- the fake API server, plain http with a token (TLS is live.sh's) ----
start_fake() { # start_fake NAME [ARGS...]: sets PORT_<NAME>
	local name=$1; shift
	$PY "$FAKE" --snapshot "$DEMO" --port-file "$T/$name.port" --token e2e-token --log "$T/$name.log" "$@" \
		>"$T/$name.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 1 100); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
	[ -s "$T/$name.port" ] || { echo "prom: the fake API server did not start: $(cat "$T/$name.out")" >&2; exit 1; }
	printf -v "PORT_$name" '%s' "$(cat "$T/$name.port")"
}
kubeconfig() { # kubeconfig FILE PORT
	cat >"$1" <<-EOF
	apiVersion: v1
	kind: Config
	current-context: demo
	clusters:
	- name: demo
	  cluster: {server: "http://127.0.0.1:$2"}
	users:
	- name: e2e
	  user: {token: e2e-token}
	contexts:
	- name: demo
	  context: {cluster: demo, user: e2e}
	EOF
}
start_proxy() { # start_proxy NAME ARGS...: sets PURL_<NAME> (no prefix)
	local name=$1; shift
	$PY "$PROXY" --upstream "$PROM_URL" --port-file "$T/$name.pport" --log "$T/$name.plog" "$@" >"$T/$name.pout" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 1 100); do [ -s "$T/$name.pport" ] && break; sleep 0.05; done
	printf -v "PURL_$name" 'http://127.0.0.1:%s' "$(cat "$T/$name.pport")"
}
start_fake main
kubeconfig "$T/kc.yaml" "$PORT_main"
KC=$T/kc.yaml
R=$T/runs
mkdir -p "$R"

# ---- 1. the fixture ----
# the whole demo (210 containers, 14 days at 60 s: ~17 M samples), and for
# the faults a part of it (two namespaces), quicker to backfill again
gen() { # gen USAGE OUT EXPECTED
	$PY "$ROOT/tests/e2e/promgen.py" --usage "$1" --out "$2" --expect-out "$3" --lean --quiet >"$T/promgen.out" 2>&1 ||
		{ echo "prom: promgen.py failed:"; cat "$T/promgen.out"; exit 1; }
}
gen "$DEMO/usage.json" "$T/demo.om" "$T/expected.json"
$PY -c 'import json,sys
d = json.load(open(sys.argv[1]))
d["containers"] = [c for c in d["containers"] if c["namespace"] in ("checkout", "web")]
d.pop("missing", None)
json.dump(d, open(sys.argv[2], "w"))' "$DEMO/usage.json" "$T/part-usage.json"
gen "$T/part-usage.json" "$T/part.om" "$T/part-expected.json"
prom_backfill "$T/part.om" "$T/part-tsdb" || exit 1
prom_start "$T/demo.om" "$T/prom" || exit 1
rm -f "$T/demo.om"
check "fixture: the queries give back the generated usage (promcheck)" \
	$PY "$ROOT/tests/e2e/promcheck.py" --url "$PROM_URL" --usage "$T/expected.json"

# ---- 2. usage.json from Prometheus ----
run_kopilot() { # run_kopilot NAME KOPILOT-ARGS...: exit code in RC_<NAME>, stderr in $R/NAME.err
	local name=$1; shift
	"$KOPILOT" "$@" >"$R/$name.out" 2>"$R/$name.err"
	printf -v "RC_$name" '%s' $?
}
run_kopilot col collect --kubeconfig "$KC" --prometheus-url "$PROM_URL" --window 14d --now "$NOW" --out "$R/col"
check "collect --prometheus-url: exit 0 (nothing missing)" test "$RC_col" = 0
check "collect: usage.json valid against usage.schema.json" \
	schema_valid "$CONTRACTS/usage.schema.json" "$R/col/snapshot/usage.json"
check "collect: usage.json equals the generated values, container by container" \
	$UCMP "$R/col/snapshot/usage.json" "$T/expected.json"
queries=$($PY -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "collect.prometheus": print(e["queries"], e["containers"], e["split"])' "$R/col/audit.jsonl")
read -r nq nc nsplit <<<"$queries"
check "audit: collect.prometheus says how many queries were sent ($nq for $nc containers)" test -n "$nq"
check "queries do not grow with the containers: $nq queries for $nc containers (KRR: 7 per container)" \
	test "${nq:-999}" -le 20 -a "${nc:-0}" -ge 200
check "the run's note says how many queries were sent" grep -q "queries" "$R/col.err"
# the default step (auto): 2 minutes for 14 days, the same containers
env -u KOPILOT_PROMETHEUS_STEP "$KOPILOT" collect --kubeconfig "$KC" --prometheus-url "$PROM_URL" --window 14d \
	--now "$NOW" --out "$R/auto" >"$R/auto.out" 2>"$R/auto.err"
RC_auto=$?
check "prometheus.step auto: exit 0, usage.json valid" \
	eval 'test "$RC_auto" = 0 && schema_valid "$CONTRACTS/usage.schema.json" "$R/auto/snapshot/usage.json"'
check "prometheus.step auto: 14 days at 120-s steps, the same containers, CPU and memory for each" \
	$PY -c 'import json,sys
a, e = (json.load(open(f)) for f in sys.argv[1:3])
assert a["window"]["step_seconds"] == 120, a["window"]
key = lambda c: (c["namespace"], c["pod"], c["container"])
assert sorted(map(key, a["containers"])) == sorted(map(key, e["containers"])), "containers differ"
ex = {key(c): c for c in e["containers"]}
for c in a["containers"]:
    x = ex[key(c)]
    assert c["memory_bytes"]["max"] == x["memory_bytes"]["max"], (key(c), "memory max is raw, any step")
    assert c["samples"] == x["samples"], key(c)
    assert ("cpu_millicores" in c) or ("cpu_millicores" not in x) or c["samples"] < 10, (key(c), "no CPU")' \
	"$R/auto/snapshot/usage.json" "$T/expected.json"

# ---- 3. the demo served live = the demo as a snapshot ----
run_kopilot snap run --snapshot "$DEMO" --out "$R/snap" --now "$NOW"
mkdir -p "$T/demo-expected/objects"
cp "$DEMO"/objects/*.json "$T/demo-expected/objects/"
cp "$T/expected.json" "$T/demo-expected/usage.json"
run_kopilot snapx run --snapshot "$T/demo-expected" --out "$R/snapx" --now "$NOW"
run_kopilot live run --kubeconfig "$KC" --prometheus-url "$PROM_URL" --window 14d --now "$NOW" --out "$R/live" \
	--snapshot-out "$T/snapout"
check "live run with Prometheus: exit 0" test "$RC_live" = 0
check "live run: the same findings as the snapshot of the same objects and usage" \
	$CHECK findings "$R/live/findings.json" "$R/snapx/findings.json"
# Prometheus cannot produce some of the demo's CPU figures for runs of a few
# minutes (rate() is extrapolated at a series' ends: promgen.py says which),
# so the live run may find more there; every finding of make demo is found
check "live run: every finding of make demo on the snapshot, with the same savings" \
	$CHECK subset "$R/snap/findings.json" "$R/live/findings.json"
check "live run: findings.json valid against findings.schema.json" \
	schema_valid "$CONTRACTS/findings.schema.json" "$R/live/findings.json"
check "live run: rightsizing findings come from Prometheus" \
	$PY -c 'import json,sys
fs = [f for f in json.load(open(sys.argv[1]))["findings"] if f["category"].endswith("provisioned")]
assert fs, "no rightsizing finding"
for f in fs:
    src = {e.get("source") for e in f["evidence"] if e.get("source")}
    assert src == {"prometheus"}, (f["id"], src)' "$R/live/findings.json"
check "legacy-geoip has no series: skipped, saying where to look" \
	$PY -c 'import json,sys
sk = [s for s in json.load(open(sys.argv[1]))["skipped"] if "legacy-geoip" in json.dumps(s)]
assert sk and all("no cAdvisor series" in json.dumps(s) for s in sk), sk' "$R/live/findings.json"
run_kopilot back run --snapshot "$T/snapout" --out "$R/back" --now "$NOW"
check "--snapshot-out: kopilot run --snapshot SNAP finds the same" \
	$CHECK findings "$R/back/findings.json" "$R/live/findings.json"
PROMETHEUS_URL=$PROM_URL run_kopilot env run --kubeconfig "$KC" --window 14d --now "$NOW" --out "$R/env"
check "PROMETHEUS_URL from the environment works as --prometheus-url" \
	$CHECK findings "$R/env/findings.json" "$R/live/findings.json"

# ---- 4. queries too heavy for the server ----
# kopilot's own budget put every namespace in one query; the proxy answers
# any query naming more than one namespace with Prometheus' timeout error
prom_stop
prom_serve "$T/part-tsdb" "$T/prom-part" || exit 1
start_proxy slow --timeout-grouped
run_kopilot split collect --kubeconfig "$KC" --prometheus-url "$PURL_slow" --window 14d --now "$NOW" --out "$R/split"
check "timeouts: every value still there (queries split by namespace)" \
	$UCMP "$R/split/snapshot/usage.json" "$T/part-expected.json"
check "timeouts: the audit counts the split queries" \
	$PY -c 'import json,sys
e = [json.loads(l) for l in open(sys.argv[1]) if "collect.prometheus" in l][0]
assert e["split"] > 0 and e["ok"], e' "$R/split/audit.jsonl"
# a Prometheus whose --query.max-samples is below what one query loads
prom_stop
PROM_EXTRA_ARGS="--query.max-samples=800000" prom_serve "$T/part-tsdb" "$T/prom-small" || exit 1
run_kopilot maxs collect --kubeconfig "$KC" --prometheus-url "$PROM_URL" --window 14d --now "$NOW" --out "$R/maxs" \
	--set prometheus.max_samples=1000000000
check "query.max-samples: the server's 'too many samples' makes kopilot split, every value still there" \
	$UCMP "$R/maxs/snapshot/usage.json" "$T/part-expected.json"
run_kopilot maxs2 collect --kubeconfig "$KC" --prometheus-url "$PROM_URL" --window 14d --now "$NOW" --out "$R/maxs2" \
	--set prometheus.max_samples=300000
check "prometheus.max_samples: kopilot's own budget groups the pods smaller, same values" \
	$UCMP "$R/maxs2/snapshot/usage.json" "$T/part-expected.json"
prom_stop
prom_serve "$T/part-tsdb" "$T/prom-part" || exit 1

# ---- 5. what Prometheus lacks ----
start_proxy fail --fail-queries 500
run_kopilot fail run --kubeconfig "$KC" --prometheus-url "$PURL_fail" --window 14d --now "$NOW" --out "$R/fail"
check "Prometheus answering 500: exit 3" test "$RC_fail" = 3
check "Prometheus answering 500: the report says usage was not measured and why" \
	grep -q "Prometheus could not be read" "$R/fail/report.md"
check "Prometheus answering 500: no rightsizing finding (never a guess)" \
	$PY -c 'import json,sys
fs = json.load(open(sys.argv[1]))["findings"]
assert not [f for f in fs if f["category"].endswith("provisioned")]' "$R/fail/findings.json"
run_kopilot down run --kubeconfig "$KC" --prometheus-url "http://127.0.0.1:1" --window 14d --now "$NOW" --out "$R/down"
check "Prometheus down: exit 3, the objects still judged" test "$RC_down" = 3 -a -s "$R/down/findings.json"
check "Prometheus down: findings.json missing names usage" $CHECK missing "$R/down/findings.json" usage "Prometheus could not be read"

# renamed labels: cAdvisor series carry pod_name and container_name
sed -E '/^container_/ s/([{,])pod="/\1pod_name="/; /^container_/ s/([{,])container="/\1container_name="/' \
	"$T/part.om" >"$T/renamed.om"
prom_stop
prom_start "$T/renamed.om" "$T/prom-renamed" || exit 1
run_kopilot ren collect --kubeconfig "$KC" --prometheus-url "$PROM_URL" --window 14d --now "$NOW" --out "$R/ren"
check "renamed labels: exit 3" test "$RC_ren" = 3
check "renamed labels: the gap says which label and the setting that fixes it" \
	grep -q "prometheus.labels.pod=pod_name" "$R/ren.err"
run_kopilot ren2 collect --kubeconfig "$KC" --prometheus-url "$PROM_URL" --window 14d --now "$NOW" --out "$R/ren2" \
	--set prometheus.labels.pod=pod_name --set prometheus.labels.container=container_name
check "renamed labels with prometheus.labels.*: every value, kube-state-metrics joined on its own labels" \
	$UCMP "$R/ren2/snapshot/usage.json" "$T/part-expected.json"

# no kube-state-metrics
grep -v '^kube_' "$T/part.om" >"$T/noksm.om"
prom_stop
prom_start "$T/noksm.om" "$T/prom-noksm" || exit 1
run_kopilot noksm collect --kubeconfig "$KC" --prometheus-url "$PROM_URL" --window 14d --now "$NOW" --out "$R/noksm"
check "no kube-state-metrics: exit 3" test "$RC_noksm" = 3
check "no kube-state-metrics: the gap names it" grep -q "kube-state-metrics" "$R/noksm/snapshot/usage.json"
check "no kube-state-metrics: CPU and memory still exact, restarts and owners absent (unknown, not zero)" \
	$UCMP "$R/noksm/snapshot/usage.json" "$T/part-expected.json" --no-ksm
prom_stop
prom_serve "$T/part-tsdb" "$T/prom-part" || exit 1

# ---- 6. a gateway: path prefix, bearer token, tenant header ----
start_proxy gw --prefix /prometheus --token prom-secret-token --header "X-Scope-OrgID: team-a"
run_kopilot gw collect --kubeconfig "$KC" --prometheus-url "$PURL_gw/prometheus" --window 14d --now "$NOW" \
	--out "$R/gw" --set 'prometheus.headers=["X-Scope-OrgID: team-a"]'
check "gateway without the token: exit 2 naming prometheus.token" test "$RC_gw" = 2
check "gateway without the token: the message names prometheus.token" \
	grep -q "prometheus.token" "$R/gw.err"
PROMETHEUS_TOKEN=prom-secret-token run_kopilot gw2 collect --kubeconfig "$KC" --prometheus-url "$PURL_gw/prometheus" \
	--window 14d --now "$NOW" --out "$R/gw2" --set 'prometheus.headers=["X-Scope-OrgID: team-a"]'
check "gateway with path prefix, token and X-Scope-OrgID: every value" \
	$UCMP "$R/gw2/snapshot/usage.json" "$T/part-expected.json"
check "the token appears in no file of the run" bash -c "! grep -rq prom-secret-token '$R/gw2'"

# ---- 7. metrics-server ----
start_fake ms --metrics-server
kubeconfig "$T/kc-ms.yaml" "$PORT_ms"
run_kopilot ms run --kubeconfig "$T/kc-ms.yaml" --now "$NOW" --out "$R/ms"
check "metrics-server: exit 3 (one sample is not a window)" test "$RC_ms" = 3
check "metrics-server: rightsizing findings, every one of confidence low" \
	$PY -c 'import json,sys
fs = [f for f in json.load(open(sys.argv[1]))["findings"] if f["category"].endswith("provisioned")]
assert fs and all(f["confidence"] == "low" for f in fs), [(f["id"], f["confidence"]) for f in fs]' "$R/ms/findings.json"
check "metrics-server: the report says the usage is one metrics-server sample" \
	grep -q "metrics-server" "$R/ms/report.md"
check "metrics-server: findings.json valid" schema_valid "$CONTRACTS/findings.schema.json" "$R/ms/findings.json"

# ---- 8. the progress line on a terminal ----
# A pseudo-terminal (script, from bsdutils) 200 columns wide; the fake API
# server waits 0.2 s before each page of pods (20 a page) and the proxy as
# long before each query (2 at once), so redraws the 0.1 s limit allows are
# due: pods counted page by page, queries one by one (no timing is asserted,
# only what was drawn).
need script bsdutils
echo '[{"path": "/api/v1/pods", "sleep": 0.2}]' >"$T/slow-faults.json"
start_fake slow --page-max 20 --faults "$T/slow-faults.json"
kubeconfig "$T/kc-slow.yaml" "$PORT_slow"
start_proxy delay --delay 0.2
on_tty() { # on_tty OUT KOPILOT-ARGS...: kopilot on a terminal, its stdout to OUT.stdout
	local out=$1 a cmd="stty cols 200 rows 40; exec"; shift
	for a in "$KOPILOT" "$@"; do cmd+=" $(printf '%q' "$a")"; done
	script -qfec "$cmd >$(printf '%q' "$out.stdout")" /dev/null >"$out" 2>&1 </dev/null
}
SLOW=(run --kubeconfig "$T/kc-slow.yaml" --prometheus-url "$PURL_delay" --window 14d --now "$NOW"
	--set prometheus.concurrency=2)
"$KOPILOT" "${SLOW[@]}" --out "$R/pipe" >"$R/pipe.out" 2>"$R/pipe.err"
check "progress: without a terminal, stderr holds no progress (no carriage return, no escape)" \
	$PY "$ROOT/tests/e2e/progress_check.py" none "$R/pipe.err"
on_tty "$T/tty.out" "${SLOW[@]}" --out "$R/tty"
check "progress: on a terminal, drawn in place: the stages, lists, objects, pods, queries; erased" \
	$PY "$ROOT/tests/e2e/progress_check.py" tty "$T/tty.out" --stage collect --stage analyze --stage recommend \
	--stage render --pattern 'kopilot: collect: lists [0-9]+/[0-9]+ \([0-9]+%\), objects [0-9]+' \
	--pattern 'pods [0-9]+/148 \([0-9]+%\)' --pattern 'Prometheus queries [0-9]+/[0-9]+ \([0-9]+%\)' \
	--lines "$(wc -l <"$R/pipe.err")"
check "progress: the run on a terminal finds what the run without one finds" \
	$CHECK findings "$R/tty/findings.json" "$R/pipe/findings.json"
LOG_FORMAT=json on_tty "$T/json.out" "${SLOW[@]}" --out "$R/json"
check "progress: LOG_FORMAT=json on a terminal: JSON lines only (ts, level, msg, stage), no progress" \
	$PY "$ROOT/tests/e2e/progress_check.py" json "$T/json.out"
on_tty "$T/quiet.out" "${SLOW[@]}" --out "$R/quiet" --quiet
check "progress: --quiet on a terminal: no progress" $PY "$ROOT/tests/e2e/progress_check.py" none "$T/quiet.out"

# an error the command layer reports (bad input, exit 4) is a JSON line too
mkdir -p "$T/badsnap/objects" && echo '{"kind":' >"$T/badsnap/objects/pods.json"
LOG_FORMAT=json "$KOPILOT" run --snapshot "$T/badsnap" --out "$R/bad" --now "$NOW" >/dev/null 2>"$R/bad.err"
check "LOG_FORMAT=json: the error of a bad snapshot is a JSON line (level error, naming file and line)" \
	bash -c "$PY '$ROOT/tests/e2e/progress_check.py' json '$R/bad.err' &&
		grep -q '\"level\":\"error\",\"msg\":\"run: [^\"]*badsnap/objects/pods.json:2:1: malformed JSON' '$R/bad.err'"

# ---- the API server was only read ----
check "every request to the API server was a GET, none named secrets" $CHECK readonly "$T/main.log" "$T/ms.log" \
	"$T/slow.log"

finish
