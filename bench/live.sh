#!/usr/bin/env bash
# bench/live.sh - the live-collection benchmark: `kopilot collect --kubeconfig`
# against a large generated cluster served over TLS by the fake API server
# (tests/fakes/kubeapi.py, pages of 500), beside curl fetching the same pages
# (the floor) and the real kubectl, and the usage collection from a real
# Prometheus. See bench/README.md, "Live collection".
#
# 1. the cluster: bench/gen_cluster.py's snapshot of BENCH_PODS pods (waste
#    x1) on PODS/30 nodes (5,000 at 150,000 pods, as issue 16 asks; bench/run.sh
#    keeps the generator's PODS/40), cached in
#    bench/.cache/snap-<pods>-n<nodes>-w1-<hash>; a test CA and a server certificate for 127.0.0.1
#    (openssl, in a temporary directory); the fake API server on it, with a
#    bearer token and its request log; a kubeconfig naming the CA and the
#    token;
# 2. one untimed `kopilot collect` (warm-up): the server's request log says
#    which requests kopilot makes; from it, two curl configs: every request
#    kopilot made (discovery and the pages of its 15 lists), and the pages of
#    the 5 lists the kubectl command reads (same limit, same continue tokens:
#    the fake's tokens depend only on the list and the offset);
# 3. the Prometheus data (bench/live_promdata.sh: 2,000 containers x 14 days
#    at 60 s, backfilled once and cached) and a Prometheus on a hard-linked
#    copy of it; skipped with a note when prometheus/promtool or
#    tests/e2e/promgen.py are missing, or BENCH_PROM=0;
# 4. BENCH_LIVE_RUNS rounds (default 3), round-robin, each command under
#    /usr/bin/time -v, the server's request log cut per command and the
#    server's (and Prometheus') CPU time read from /proc around it:
#      curl-kopilot     one curl process (one connection) fetching exactly
#                       kopilot's requests to /dev/null: the floor of the
#                       headline ratio
#      kopilot          kopilot collect --kubeconfig KC --out DIR (cold, a
#                       fresh DIR each time)
#      curl-kubectl     one curl fetching the pages of the kubectl command
#      kubectl          kubectl get pods,replicasets,deployments,nodes,pvc -A
#                       -o json --chunk-size=500 >/dev/null (a fresh
#                       --cache-dir each time)
#      kopilot-prom     kopilot collect ... --prometheus-url URL --window 14d
#                       --now END (its audit's collect.prometheus event has
#                       the usage collection's own time and query count)
# 5. bench/live_summarize.py: medians, ratios, targets met / NOT met ->
#    bench/results/live.json and live.md, and prints the table.
#
# The script fails only when a command fails (kopilot exit codes 0 and 3
# count as success: a live run without Prometheus is degraded, exit 3); a
# kubectl that fails (e.g. killed for memory: at 150,000 pods it needs ~20 GB)
# is recorded as FAILED, not the end of the benchmark. Targets are
# reported, never asserted.
#
# Environment: KOPILOT (binary, default build/kopilot), BENCH_PODS (150000;
# 20000 with BENCH_QUICK=1), BENCH_LIVE_RUNS (3), BENCH_QUICK=1 (a quick
# check: 20,000 pods, 100 Prometheus containers x 2 days), BENCH_PROM (1; 0
# skips Prometheus), BENCH_PROM_CONTAINERS (2000; 100 quick), BENCH_PROM_DAYS
# (14; 2 quick), BENCH_PROM_SEED (1, promgen's --seed), BENCH_PROM_TIMEOUT
# (900: seconds a kopilot-prom run may take before it is stopped and recorded
# as timed out; the later rounds are then not run),
# BENCH_NOW (2026-11-25T06:00:00Z: the generator's "now" and the end of the
# Prometheus data), BENCH_KUBECTL (/usr/bin/kubectl; "none" skips the
# kubectl command, recorded as skipped: at 150,000 pods it needs ~22 GB and
# 330 s, too much for an iteration on kopilot's own speed).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	PODS=${BENCH_PODS:-20000}
	PROM_N=${BENCH_PROM_CONTAINERS:-100}
	PROM_DAYS=${BENCH_PROM_DAYS:-2}
else
	PODS=${BENCH_PODS:-150000}
	PROM_N=${BENCH_PROM_CONTAINERS:-2000}
	PROM_DAYS=${BENCH_PROM_DAYS:-14}
fi
RUNS=${BENCH_LIVE_RUNS:-3}
PROM=${BENCH_PROM:-1}
PROM_TIMEOUT=${BENCH_PROM_TIMEOUT:-900}
PROM_SEED=${BENCH_PROM_SEED:-1}
NOW=${BENCH_NOW:-2026-11-25T06:00:00Z}
KUBECTL=${BENCH_KUBECTL:-/usr/bin/kubectl}
PY=/usr/bin/python3
TIME=/usr/bin/time
FAKE=$ROOT/tests/fakes/kubeapi.py
CACHE=$HERE/.cache
RESULTS=$HERE/results
TOKEN=kopilot-bench-token
KUBECTL_LISTS=pods,replicasets,deployments,nodes,pvc

die() { echo "live: $*" >&2; exit 1; }

[ -x "$KOPILOT" ] || die "kopilot binary not found at $KOPILOT (run \`make all\`, or set KOPILOT)"
[ -x "$PY" ] || die "$PY is missing (apt-get install python3)"
[ -x "$TIME" ] || die "$TIME is missing (apt-get install time)"
[ "$KUBECTL" = none ] || [ -x "$KUBECTL" ] || die "$KUBECTL is missing (run 'make deps': Debian package kubernetes-client)"
command -v curl >/dev/null || die "curl is missing (apt-get install curl)"
command -v openssl >/dev/null || die "openssl is missing (apt-get install openssl)"
[[ "$PODS" =~ ^[0-9]+$ && "$PODS" -ge 20 ]] || die "BENCH_PODS must be a number >= 20, got '$PODS'"
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 ]] || die "BENCH_LIVE_RUNS must be >= 1, got '$RUNS'"
[[ "$PROM_N" =~ ^[0-9]+$ && "$PROM_N" -ge 1 ]] || die "BENCH_PROM_CONTAINERS must be >= 1, got '$PROM_N'"
[[ "$PROM_DAYS" =~ ^[0-9]+$ && "$PROM_DAYS" -ge 1 ]] || die "BENCH_PROM_DAYS must be >= 1, got '$PROM_DAYS'"
[[ "$PROM_TIMEOUT" =~ ^[0-9]+$ && "$PROM_TIMEOUT" -ge 1 ]] || die "BENCH_PROM_TIMEOUT must be >= 1, got '$PROM_TIMEOUT'"
KOPILOT=$(cd "$(dirname "$KOPILOT")" && pwd)/$(basename "$KOPILOT")

mkdir -p "$CACHE" "$RESULTS"
WORK=$CACHE/live-work
rm -rf "$WORK"
mkdir -p "$WORK/raw" "$WORK/logs" "$WORK/reqs"
T=$(mktemp -d /tmp/kopilot-bench-live.XXXXXX)
SRV_PID= PROM_PID=
cleanup() {
	set +e
	if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; fi
	if [ -n "${PROM_PID:-}" ]; then kill "$PROM_PID" 2>/dev/null; wait "$PROM_PID" 2>/dev/null; fi
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/pki" "$T/home" "$T/kcache" "$T/out"
CLK_TCK=$(getconf CLK_TCK)
NOTES=$WORK/notes.jsonl # what the summarizer should know: one JSON object a line
note() { printf '%s\n' "$1" >>"$NOTES"; }
: >"$NOTES"
[ "$KUBECTL" = none ] && note '{"kubectl_skipped": "BENCH_KUBECTL=none"}'

# ---- 1. the cluster ----
GEN_HASH=$(sha256sum "$HERE/gen_cluster.py" | cut -c1-12)
NODES=$((PODS / 30))
SNAP=$CACHE/snap-$PODS-n$NODES-w1-$GEN_HASH
if [ ! -f "$SNAP/.complete" ]; then
	echo "live: generating a $PODS-pod snapshot into ${SNAP#"$ROOT"/} ..."
	rm -rf "$SNAP.tmp"
	"$PY" "$HERE/gen_cluster.py" "$SNAP.tmp" "$PODS" --nodes "$NODES" --waste-scale 1 >"$CACHE/gen-stats-live.tmp"
	mv "$CACHE/gen-stats-live.tmp" "$SNAP.tmp/.gen-stats.json"
	mv "$SNAP.tmp" "$SNAP"
	touch "$SNAP/.complete"
else
	echo "live: reusing snapshot ${SNAP#"$ROOT"/}"
fi

P=$T/pki
ossl() { openssl "$@" >>"$WORK/logs/openssl.log" 2>&1 || die "openssl $1 failed: $(tail -3 "$WORK/logs/openssl.log")"; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 2 -subj "/CN=kopilot-bench-ca"
ossl req -newkey rsa:2048 -nodes -keyout "$P/server.key" -out "$P/server.csr" -subj "/CN=kube-apiserver"
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$P/server.ext"
ossl x509 -req -in "$P/server.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -out "$P/server.crt" \
	-days 2 -extfile "$P/server.ext"

REQLOG=$WORK/requests.jsonl
: >"$REQLOG"
echo "live: starting the fake API server on ${SNAP#"$ROOT"/} (loading $PODS pods takes a while) ..."
t0=$(date +%s.%N)
"$PY" "$FAKE" --snapshot "$SNAP" --port-file "$T/kubeapi.port" --cert "$P/server.crt" --key "$P/server.key" \
	--token "$TOKEN" --log "$REQLOG" >"$WORK/logs/kubeapi.log" 2>&1 &
SRV_PID=$!
while [ ! -s "$T/kubeapi.port" ]; do
	kill -0 "$SRV_PID" 2>/dev/null || die "the fake API server stopped: $(tail -5 "$WORK/logs/kubeapi.log")"
	sleep 0.2
done
PORT=$(cat "$T/kubeapi.port")
SERVER=https://127.0.0.1:$PORT
note "{\"server_load_seconds\": $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}'), \"server_rss_kib_after_load\": $(awk '/VmRSS/ {print $2}' "/proc/$SRV_PID/status")}"
echo "live: fake API server at $SERVER"

KC=$T/kubeconfig
cat >"$KC" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster:
    server: $SERVER
    certificate-authority: $P/ca.crt
users:
- name: bench
  user:
    token: $TOKEN
contexts:
- name: bench
  context:
    cluster: bench
    user: bench
current-context: bench
EOF
# nothing from this environment: no other kubeconfig, no pod's service account
unset KUBECONFIG KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT PROMETHEUS_URL
export HOME=$T/home

cpu_ticks() { # utime+stime of a process (all its threads), 0 when there is none
	if [ -n "$1" ] && [ -r "/proc/$1/stat" ]; then
		awk '{print $14 + $15}' "/proc/$1/stat"
	else
		echo 0
	fi
}
lines() { wc -l <"$1"; }
oom_kills() { dmesg 2>/dev/null | grep -c "Out of memory: Killed process" || true; }
PROM_QLOG=
qlog_lines() { if [ -n "$PROM_QLOG" ] && [ -f "$PROM_QLOG" ]; then wc -l <"$PROM_QLOG"; else echo 0; fi; }
# settle: the server logs a request after writing its answer; wait until
# the log stops growing before cutting it
log_settle() {
	local a b
	a=$(lines "$REQLOG")
	while :; do
		sleep 0.2
		b=$(lines "$REQLOG")
		[ "$a" = "$b" ] && break
		a=$b
	done
	echo "$b"
}

# time_once NAME ROUND OKCODES STDOUT CMD...: one timed execution (the
# /usr/bin/time -v report in raw/NAME.ROUND.time), its requests in
# reqs/NAME.ROUND.jsonl, the server's and Prometheus' CPU seconds in
# raw/NAME.ROUND.side.json. STDOUT: where the command's output goes
# ("log": logs/NAME.ROUND.log with stderr; else a file, e.g. /dev/null).
# SOFT=1: a failure is recorded in raw/NAME.ROUND.failed, not fatal
# (returns 1).
time_once() {
	local name=$1 round=$2 ok=$3 stdout=$4
	shift 4
	local rc=0 log=$WORK/logs/$name.$round.log l0 l1 s0 s1 p0 p1
	[ "$stdout" = log ] && stdout=$log
	l0=$(log_settle)
	q0=$(qlog_lines)
	o0=$(oom_kills)
	s0=$(cpu_ticks "$SRV_PID") p0=$(cpu_ticks "${PROM_PID:-}")
	"$TIME" -v -o "$WORK/raw/$name.$round.time" "$@" >"$stdout" 2>>"$log" || rc=$?
	l1=$(log_settle)
	s1=$(cpu_ticks "$SRV_PID") p1=$(cpu_ticks "${PROM_PID:-}")
	sed -n "$((l0 + 1)),${l1}p" "$REQLOG" >"$WORK/reqs/$name.$round.jsonl"
	if [ -n "$PROM_QLOG" ] && [ "$(qlog_lines)" -gt "$q0" ]; then
		sed -n "$((q0 + 1)),\$p" "$PROM_QLOG" >"$WORK/reqs/$name.$round.promq.jsonl"
	fi
	printf '{"server_cpu_seconds": %s, "prometheus_cpu_seconds": %s, "requests": %s}\n' \
		"$(awk -v a="$s0" -v b="$s1" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / t}')" \
		"$(awk -v a="$p0" -v b="$p1" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / t}')" \
		"$((l1 - l0))" >"$WORK/raw/$name.$round.side.json"
	printf '  %-14s round %s: %s  (%s requests)\n' "$name" "$round" \
		"$(awk -F': ' '/Elapsed \(wall clock\)/ {print $NF}' "$WORK/raw/$name.$round.time")" "$((l1 - l0))"
	if [[ " $ok " != *" $rc "* ]]; then
		if [ "${SOFT:-0}" = 1 ]; then
			{
				echo "exit $rc"
				if [ "$(oom_kills)" -gt "$o0" ]; then # the kernel's own words
					echo "killed by the kernel's OOM killer: $(dmesg 2>/dev/null | grep "Out of memory: Killed process" | tail -n 1 | sed 's/^\[[^]]*\] //')"
				fi
				grep -v 'time -v' "$log" | tail -n 3
			} >"$WORK/raw/$name.$round.failed"
			echo "live: '$name' failed with exit code $rc (recorded, the benchmark goes on): $(tail -n 1 "$log" 2>/dev/null)" >&2
			return 1
		fi
		echo "live: '$*' failed with exit code $rc; last lines of its output:" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
	return 0
}

# ---- 2. warm-up: which requests kopilot makes ----
echo "live: kopilot collect (warm-up, untimed: its requests make the floor)"
l0=$(log_settle)
rc=0
"$KOPILOT" collect --kubeconfig "$KC" --out "$T/out/warmup" >"$WORK/logs/warmup.log" 2>&1 || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 3 ] || die "the warm-up kopilot collect failed (exit $rc): $(tail -5 "$WORK/logs/warmup.log")"
l1=$(log_settle)
sed -n "$((l0 + 1)),${l1}p" "$REQLOG" >"$WORK/reqs/warmup.jsonl"
cp "$T/out/warmup/audit.jsonl" "$WORK/raw/warmup.audit.jsonl"
du -sb "$T/out/warmup/snapshot" | cut -f1 >"$WORK/raw/warmup.snapshot_bytes"
rm -rf "$T/out/warmup"
"$PY" "$HERE/live_pages.py" curl "$WORK/reqs/warmup.jsonl" "$SERVER" "$WORK/curl-kopilot.cfg" >"$WORK/floor-kopilot.json"
"$PY" "$HERE/live_pages.py" curl "$WORK/reqs/warmup.jsonl" "$SERVER" "$WORK/curl-kubectl.cfg" \
	--lists "$KUBECTL_LISTS" >"$WORK/floor-kubectl.json"
echo "live: floor for kopilot: $(cat "$WORK/floor-kopilot.json")"
echo "live: floor for kubectl: $(cat "$WORK/floor-kubectl.json")"
CURL=(curl --no-progress-meter --fail --cacert "$P/ca.crt" -H "Authorization: Bearer $TOKEN" -H "Accept: application/json")
[ "$KUBECTL" = none ] || "$KUBECTL" version --client >/dev/null 2>&1 || true # the binaries into the page cache
"${CURL[@]}" -o /dev/null "$SERVER/version"

# ---- 3. Prometheus ----
PROM_URL= PROM_DATA= PROM_ON=0
# prom_up: Prometheus on the run's copy of the TSDB (promlib's prom_serve),
# with its query log (each query's timings: where the time goes) added to
# promlib's configuration by a reload (SIGHUP), and one query to load the
# block's index, as a Prometheus that has been up a while has it
prom_up() {
	local n
	prom_serve "$T/prom/tsdb" "$T/prom" || die "Prometheus did not start (see above)"
	sed -i "s#^global:#global:\n  query_log_file: $PROM_QLOG#" "$T/prom/prometheus.yml"
	n=$(grep -c "Completed loading of configuration file" "$T/prom/prometheus.log" || true)
	kill -HUP "$PROM_PID"
	for _ in $(seq 100); do
		[ "$(grep -c "Completed loading of configuration file" "$T/prom/prometheus.log" || true)" -gt "$n" ] && break
		sleep 0.1
	done
	curl -s -o /dev/null "$PROM_URL/api/v1/query?query=count(container_memory_working_set_bytes)&time=$NOW" || true
}
prom_skip() { echo "live: Prometheus not measured: $1" >&2; note "$("$PY" -c 'import json,sys; print(json.dumps({"prometheus_skipped": sys.argv[1]}))' "$1")"; }
if [ "$PROM" != 1 ]; then
	prom_skip "BENCH_PROM=$PROM"
elif [ ! -f "$ROOT/tests/e2e/promgen.py" ] || [ ! -f "$ROOT/tests/e2e/promlib.sh" ]; then
	prom_skip "tests/e2e/promgen.py or tests/e2e/promlib.sh is missing"
elif ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
	prom_skip "prometheus or promtool is missing (run 'make deps': Debian package prometheus)"
else
	PROM_DATA=$(bash "$HERE/live_promdata.sh" "$PROM_N" "$PROM_DAYS" "$PROM_SEED" "$NOW") ||
		die "bench/live_promdata.sh failed"
	# shellcheck source=../tests/e2e/promlib.sh
	. "$ROOT/tests/e2e/promlib.sh"
	mkdir -p "$T/prom"
	cp -al "$PROM_DATA/tsdb" "$T/prom/tsdb"
	PROM_QLOG=$WORK/prometheus-queries.jsonl
	prom_up
	PROM_ON=1
	cp "$PROM_DATA/stats.json" "$WORK/prom-data.json"
	note "{\"promgen_sha256\": \"$(sha256sum "$PROM_DATA/promgen.py" | cut -c1-12)\", \"prom_data\": \"${PROM_DATA#"$ROOT"/}\"}"
	cp "$PROM_DATA/usage.json" "$WORK/prom-usage.json"
	echo "live: Prometheus at $PROM_URL on ${PROM_DATA#"$ROOT"/}"
fi

# ---- 4. rounds ----
PROM_TIMED_OUT=0
prom_idle() { # until Prometheus uses under 5% of a CPU (at most 5 minutes)
	local a b
	a=$(cpu_ticks "$PROM_PID")
	for _ in $(seq 300); do
		sleep 1
		b=$(cpu_ticks "$PROM_PID")
		[ $((b - a)) -lt $((CLK_TCK / 20 + 1)) ] && return 0
		a=$b
	done
}
cp /proc/loadavg "$WORK/loadavg.start"
for ((i = 1; i <= RUNS; i++)); do
	echo "live: round $i of $RUNS"
	time_once curl-kopilot "$i" "0" /dev/null "${CURL[@]}" -K "$WORK/curl-kopilot.cfg"
	out=$T/out/kopilot.$i
	time_once kopilot "$i" "0 3" log "$KOPILOT" collect --kubeconfig "$KC" --out "$out"
	cp "$out/audit.jsonl" "$WORK/raw/kopilot.$i.audit.jsonl"
	rm -rf "$out"
	time_once curl-kubectl "$i" "0" /dev/null "${CURL[@]}" -K "$WORK/curl-kubectl.cfg"
	if [ "$KUBECTL" != none ]; then
		kc=$(mktemp -d -p "$T/kcache")
		# Prometheus is stopped while kubectl runs: after the usage queries it
		# holds several GB, and kubectl needs 20-23 GB at 150,000 pods
		[ "$PROM_ON" = 1 ] && prom_stop
		SOFT=1 time_once kubectl "$i" "0" /dev/null "$KUBECTL" --kubeconfig "$KC" --cache-dir "$kc" \
			get "$KUBECTL_LISTS" -A -o json --chunk-size=500 || true
		rm -rf "$kc"
		[ "$PROM_ON" = 1 ] && prom_up
	fi
	if [ "$PROM_ON" = 1 ] && [ "$PROM_TIMED_OUT" = 0 ]; then
		out=$T/out/kopilot-prom.$i
		if ! SOFT=1 time_once kopilot-prom "$i" "0 3" log timeout "$PROM_TIMEOUT" "$KOPILOT" collect \
			--kubeconfig "$KC" --out "$out" --prometheus-url "$PROM_URL" --window "${PROM_DAYS}d" --now "$NOW"; then
			if grep -q "^exit 124" "$WORK/raw/kopilot-prom.$i.failed"; then
				# stopped by timeout: another round would take as long
				echo "timed out after $PROM_TIMEOUT s (BENCH_PROM_TIMEOUT)" >>"$WORK/raw/kopilot-prom.$i.failed"
				PROM_TIMED_OUT=1
			fi
			# the queries it left running go on in Prometheus until its
			# own timeout: wait for them, they would load the next command
			prom_idle
		fi
		awk '/VmHWM/ {print $2}' "/proc/$PROM_PID/status" >"$WORK/raw/kopilot-prom.$i.prom_hwm_kib" 2>/dev/null || true
		[ -f "$out/audit.jsonl" ] && cp "$out/audit.jsonl" "$WORK/raw/kopilot-prom.$i.audit.jsonl"
		[ -f "$out/snapshot/usage.json" ] && cp "$out/snapshot/usage.json" "$WORK/raw/kopilot-prom.$i.usage.json"
		rm -rf "$out"
	fi
done
cp /proc/loadavg "$WORK/loadavg.end"
awk '/VmHWM/ {print $2}' "/proc/$SRV_PID/status" >"$WORK/server.hwm_kib"

# ---- 5. results ----
"$PY" "$HERE/live_summarize.py" --work "$WORK" --snapshot "$SNAP" --kopilot "$KOPILOT" --kubectl "$KUBECTL" \
	--runs "$RUNS" --pods "$PODS" --now "$NOW" --kubectl-lists "$KUBECTL_LISTS" --prom-timeout "$PROM_TIMEOUT" \
	--json "$RESULTS/live.json" --md "$RESULTS/live.md"
