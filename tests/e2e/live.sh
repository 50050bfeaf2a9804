#!/usr/bin/env bash
# End-to-end checks of live collection from the Kubernetes API (libcurl),
# against tests/fakes/kubeapi.py serving examples/demo-cluster (spiced by
# tests/e2e/live/spice.py with what a real server sends and a snapshot must
# not keep: managedFields, literal env values, last-applied-configuration):
#   1. the fake is faithful: the real kubectl lists, pages and gets from it;
#   2. a live collect/run over TLS finds what a snapshot run of the same
#      objects finds; RUN/snapshot holds kubectl-style Lists, redacted as a
#      snapshot's copy, without managedFields; cluster.json says "live";
#      --snapshot-out writes a snapshot that reads back the same;
#   3. every request kopilot and kubectl made is a GET, none names secrets;
#   4. every way a kubeconfig authenticates (token, tokenFile, client
#      certificates as files and as data, CA data, insecure, tls-server-name,
#      exec plugins v1 and v1beta1 run without a shell, once, giving a token
#      or a certificate, KUBECONFIG=a:b, --context, -c, in-cluster service
#      account);
#   5. broken kubeconfigs: exit 2 naming the file and the field;
#   6. faults (lists of 2 items a page): 429, 500, a cut body, an expired
#      continue token, 403 and 404 on one list, a slow server, a wrong
#      token, a CA that does not match, 403 at discovery, 500 for ever,
#      nothing listening; the kube.* configuration keys;
#   7. every findings.json validates against docs/contracts/findings.schema.json.
# No Prometheus: a live run is always degraded (exit 3, usage not measured).
# Takes about a minute. Ends with "live: N passed, N failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/live.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
PY=/usr/bin/python3
DEMO=$ROOT/examples/demo-cluster
FAKE=$ROOT/tests/fakes/kubeapi.py
CHECK="$PY $ROOT/tests/e2e/live/check.py"
CONTRACTS=$ROOT/docs/contracts
NOW=2026-11-25T06:00:00Z
MARK=kopilot-e2e-SECRET # in every value spice.py plants for redaction

SUITE=live
. "$ROOT/tests/e2e/lib.sh"
need openssl openssl
need kubectl kubernetes-client
need python3 python3
need timeout coreutils
need $PY python3
[ -x "$KOPILOT" ] || { echo "live: $KOPILOT is missing: build it with 'make'" >&2; exit 1; }
$PY -c 'import jsonschema' 2>/dev/null || { echo "live: python3-jsonschema is missing: run 'make deps'" >&2; exit 1; }

T=$(mktemp -d /tmp/kopilot-live.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
R=$T/runs     # every kopilot run directory (grepped for leaks at the end)
L=$T/logs     # every fake server's request log
K=$T/kc       # kubeconfigs
mkdir -p "$R" "$L" "$K" "$T/pki" "$T/bin" "$T/home" "$T/empty" "$T/sa"
# nothing from the environment this runs in: no kubeconfig, no pod
unset KUBECONFIG KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT KOPILOT_SERVICEACCOUNT_DIR PROMETHEUS_URL
export HOME=$T/home

# ------------------------------------------------------------------ helpers
# krun NAME [VAR=VALUE...] -- ARGS...: `kopilot run ARGS` into $R/NAME, in
# the environment with those variables (VAR= unsets one); exit code in RC,
# stdout in $R/NAME.out, stderr in $R/NAME.err, milliseconds in MS.
# Finished runs (0 or 3) are listed for the schema checks.
RUNS=()
kcmd() { # kcmd NAME SUBCOMMAND [VAR=VALUE...] -- ARGS...
	local name=$1 sub=$2; shift 2
	local unsets=() assigns=()
	while [ "$1" != "--" ]; do
		case $1 in *=) unsets+=(-u "${1%=}") ;; *) assigns+=("$1") ;; esac
		shift
	done
	shift
	local envs=(env "${unsets[@]}" "${assigns[@]}")
	local extra=()
	[ "$sub" = run ] && extra=(--now $NOW)
	local t0=$(date +%s%N)
	"${envs[@]}" "$KOPILOT" "$sub" --out "$R/$name" "${extra[@]}" "$@" >"$R/$name.out" 2>"$R/$name.err"
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	if [ "$sub" = run ] && { [ $RC -eq 0 ] || [ $RC -eq 3 ]; }; then RUNS+=("$name"); fi
}
krun() { local name=$1; shift; kcmd "$name" run "$@"; }
# expect_rc NAME WANT: the exit code of the last kopilot command
expect_rc() {
	if [ "$RC" -eq "$2" ]; then ok "$1: exit $2"; else not_ok "$1: exit $2, got $RC" "$(tail -5 "$R/$1.err")"; fi
}
# expect_fail NAME WANT PATTERN: exit code and a stderr pattern of the last command
expect_fail() {
	if [ "$RC" -ne "$2" ]; then not_ok "$1: exit $2, got $RC" "$(tail -5 "$R/$1.err")"; return; fi
	if ! grep -qE -- "$3" "$R/$1.err"; then not_ok "$1: exit $2, message matches /$3/" "$(tail -5 "$R/$1.err")"; return; fi
	ok "$1: exit $2, message matches /$3/"
}
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# start_server NAME ARGS...: a fake API server logging to $L/NAME.jsonl; its port in PORT
start_server() {
	local name=$1; shift
	$PY "$FAKE" --port-file "$T/$name.port" --log "$L/$name.jsonl" "$@" >"$T/$name.server.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.1; done
	[ -s "$T/$name.port" ] || { echo "live: the fake API server $name did not start: $(cat "$T/$name.server.log")" >&2; exit 1; }
	PORT=$(cat "$T/$name.port")
}
# kubeconfig FILE SERVER CLUSTER_LINES USER_LINES: one cluster
# "fake", one user "u", one context "fake" (current); the lines are YAML
# already indented for their mapping
kubeconfig() {
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: $2
$3
users:
- name: u
  user:
$4
contexts:
- name: fake
  context:
    cluster: fake
    user: u
current-context: fake
EOF
}
kubectl_() { kubectl --kubeconfig "$1" --cache-dir="$(mktemp -d -p "$T")" --request-timeout=20s "${@:2}"; }
count_items() { $PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$1"; }

# ---------------------------------------------------------------- fixtures
# the served objects: the demo with managedFields, env values and
# last-applied-configuration; the reference is a snapshot run of the same
# objects (no usage.json: a live run measures no usage either)
SRC=$T/src/spiced
$PY "$ROOT/tests/e2e/live/spice.py" "$DEMO" "$SRC" || { echo "live: spice.py failed" >&2; exit 1; }

# a CA, the server's certificate for 127.0.0.1, a client certificate
P=$T/pki
openssl_() { openssl "$@" >>"$T/openssl.log" 2>&1 || { echo "live: openssl $1 failed: $(tail -3 "$T/openssl.log")" >&2; exit 1; }; }
openssl_ req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 2 -subj "/CN=kopilot-e2e-ca"
openssl_ req -newkey rsa:2048 -nodes -keyout "$P/server.key" -out "$P/server.csr" -subj "/CN=kube-apiserver"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$P/server.ext"
openssl_ x509 -req -in "$P/server.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -out "$P/server.crt" -days 2 -extfile "$P/server.ext"
openssl_ req -newkey rsa:2048 -nodes -keyout "$P/client.key" -out "$P/client.csr" -subj "/O=system:viewers/CN=kopilot"
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' >"$P/client.ext"
openssl_ x509 -req -in "$P/client.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -out "$P/client.crt" -days 2 -extfile "$P/client.ext"
TLS=(--cert "$P/server.crt" --key "$P/server.key")
B64() { base64 -w0 <"$1"; }

# main: TLS, a token or a client certificate; faults: 2 items a page and
# faults.json; omit: does not serve deployments (404)
start_server main --snapshot "$SRC" "${TLS[@]}" --client-ca "$P/ca.crt" --token GOOD-TOKEN
MAIN=https://127.0.0.1:$PORT
MAINPORT=$PORT
FAULTS=$T/faults.json
echo '[]' >"$FAULTS"
start_server faults --snapshot "$SRC" "${TLS[@]}" --token GOOD-TOKEN --page-max 2 --faults "$FAULTS"
FAULTSRV=https://127.0.0.1:$PORT
start_server omit --snapshot "$SRC" "${TLS[@]}" --token GOOD-TOKEN --page-max 2 --omit deployments
OMITSRV=https://127.0.0.1:$PORT
set_faults() { printf '%s\n' "$1" >"$FAULTS.tmp" && mv "$FAULTS.tmp" "$FAULTS"; }

CA_FILE="    certificate-authority: $P/ca.crt"
kubeconfig "$K/token.yaml" "$MAIN" "$CA_FILE" "    token: GOOD-TOKEN"
kubeconfig "$K/faults.yaml" "$FAULTSRV" "$CA_FILE" "    token: GOOD-TOKEN"
kubeconfig "$K/omit.yaml" "$OMITSRV" "$CA_FILE" "    token: GOOD-TOKEN"

# =================================================== 1. the fake is faithful
for r in pods persistentvolumeclaims deployments; do
	eval "N_$r=$(count_items "$DEMO/objects/$r.json")"
done
kubectl_ "$K/token.yaml" get pods -A -o json >"$T/kubectl-pods.json" 2>"$T/kubectl-pods.err"
n=$(count_items "$T/kubectl-pods.json" 2>&1)
[ "$n" = "$N_pods" ] && ok "kubectl get pods -A -o json: as many pods as objects/pods.json ($N_pods)" ||
	not_ok "kubectl get pods -A -o json: as many pods as objects/pods.json ($N_pods), got $n" "$(cat "$T/kubectl-pods.err")"
n=$(kubectl_ "$K/token.yaml" get pods -A --no-headers 2>&1 | grep -c .)
[ "$n" = "$N_pods" ] && ok "kubectl get pods -A (table): $N_pods rows" || not_ok "kubectl get pods -A (table): $N_pods rows, got $n"
from=$(lines "$L/main.jsonl")
kubectl_ "$K/token.yaml" get pvc -A --chunk-size=2 -o json >"$T/kubectl-pvc.json" 2>"$T/kubectl-pvc.err"
check "kubectl get pvc -A --chunk-size=2: as many PVCs as objects/persistentvolumeclaims.json ($N_persistentvolumeclaims), none twice" \
	$CHECK items "$T/kubectl-pvc.json" "$N_persistentvolumeclaims"
check "kubectl get pvc -A --chunk-size=2: fetched in pages of 2 with continue tokens" $PY -c "
import json
ls = [json.loads(l) for l in open('$L/main.jsonl').readlines()[$from:]]
pv = [r for r in ls if r['path'] == '/api/v1/persistentvolumeclaims']
want = ($N_persistentvolumeclaims + 1) // 2
assert len(pv) == want, (len(pv), want)
assert all('limit=2' in r['query'] and r['status'] == 200 for r in pv), pv
assert sum('continue=' in r['query'] for r in pv) == want - 1, pv"
kubectl_ "$K/token.yaml" get deployments -A -o json >"$T/kubectl-deploy.json" 2>"$T/kubectl-deploy.err"
check "kubectl get deployments -A (group apps): as many as objects/deployments.json ($N_deployments)" \
	$CHECK items "$T/kubectl-deploy.json" "$N_deployments"
n=$($PY -c "import json; print(sum(1 for i in json.load(open('$SRC/objects/pods.json'))['items'] if i['metadata']['namespace']=='checkout'))")
m=$(kubectl_ "$K/token.yaml" get pods -n checkout --no-headers 2>&1 | grep -c .)
[ "$n" = "$m" ] && ok "kubectl get pods -n checkout: $n pods" || not_ok "kubectl get pods -n checkout: $n pods, got $m"
first=$($PY -c "import json; i=json.load(open('$SRC/objects/pods.json'))['items'][0]['metadata']; print(i['namespace'], i['name'])")
check "kubectl get pod ${first#* } -n ${first% *} (one object by name)" \
	bash -c "[ \"\$(kubectl --kubeconfig '$K/token.yaml' --cache-dir='$T/kcache-one' get pod -n ${first% *} ${first#* } -o jsonpath='{.kind}/{.metadata.name}')\" = 'Pod/${first#* }' ]"
check "kubectl api-resources (discovery of every group) lists deployments" \
	bash -c "kubectl --kubeconfig '$K/token.yaml' --cache-dir='$T/kcache-api' api-resources 2>&1 | grep -qE '^deployments +deploy +apps/v1 +true +Deployment'"
kubeconfig "$K/kubectl-cert.yaml" "$MAIN" "$CA_FILE" "    client-certificate: $P/client.crt
    client-key: $P/client.key"
from=$(lines "$L/main.jsonl")
kubectl_ "$K/kubectl-cert.yaml" get nodes --no-headers >/dev/null 2>"$T/kubectl-cert.err"
check "kubectl with a client certificate: the fake authenticates it" $CHECK auth "$L/main.jsonl" "$from" cert

# =================================================== 2. live vs snapshot
# the reference: the served objects as a snapshot, without usage.json
mkdir -p "$T/src/objects-only" && cp -a "$SRC/objects" "$T/src/objects-only/"
krun snap -- --snapshot "$T/src/objects-only" --quiet
expect_rc snap 3
kcmd snapcopy collect -- --snapshot "$T/src/objects-only" --quiet # its redacted copy of the lists

from=$(lines "$L/main.jsonl")
krun live -- --kubeconfig "$K/token.yaml" --snapshot-out "$T/snapout"
expect_rc live 3
check "live: every request authenticated with the token, all 200" $CHECK auth "$L/main.jsonl" "$from" token
check "live: the same findings as the snapshot run (id, category, resource, savings)" $CHECK findings "$R/live/findings.json" "$R/snap/findings.json"
check "live: same totals, and the same workloads skipped as the snapshot run" $PY -c "
import json
a, b = json.load(open('$R/live/findings.json')), json.load(open('$R/snap/findings.json'))
assert a['totals'] == b['totals'], (a['totals'], b['totals'])
key = lambda s: json.dumps({k: v for k, v in s.items() if k not in ('reason', 'summary', 'detail')}, sort_keys=True)
assert sorted(map(key, a['skipped'])) == sorted(map(key, b['skipped'])), 'skipped differ'
assert [m['resource'] for m in a['missing']] == ['usage'], a['missing']"
check "live: objects/*.json are Lists with apiVersion/kind on the List and every item, no managedFields, items as the snapshot copy (redacted alike)" \
	$CHECK objects "$R/live/snapshot" "$R/snapcopy/snapshot"
check "live: env values and last-applied-configuration are redacted (<redacted> in pods, deployments)" \
	bash -c "grep -q '\"value\":\"<redacted>\"' '$R/live/snapshot/objects/pods.json' && grep -q 'last-applied-configuration\":\"<redacted>\"' '$R/live/snapshot/objects/deployments.json'"
check "live: the VerticalPodAutoscalers (a custom resource found by discovery) are listed and kept" $PY -c "
import json; d = json.load(open('$R/live/snapshot/objects/verticalpodautoscalers.json'))
assert [i['metadata']['name'] for i in d['items']] == ['goldilocks-grafana', 'kube-state-metrics'], d['items']
assert all(i['kind'] == 'VerticalPodAutoscaler' and 'managedFields' not in i['metadata'] for i in d['items'])"
check "live: cluster.json has source live, the server and the context" $PY -c "
import json; c = json.load(open('$R/live/snapshot/cluster.json'))
assert c.get('source') == 'live' and c.get('server') == '$MAIN' and c.get('context') == 'fake', c"
check "live: findings.json's cluster has the context and the server (FINDINGS.md)" $PY -c "
import json; c = json.load(open('$R/live/findings.json'))['cluster']
assert c.get('context') == 'fake' and c.get('server') == '$MAIN', c"
check "live: the terminal says the run is degraded because usage was not measured" grep -q 'usage: not measured' "$R/live.out"
check "live: audit.jsonl records a collect.list event per list, read from the API" $PY -c "
import json
ev = [json.loads(l) for l in open('$R/live/audit.jsonl')]
ls = [e for e in ev if e.get('event') == 'collect.list']
assert len(ls) >= 15, len(ls)
def f(e): return e.get('fields', e)
assert all(f(e).get('source') == 'api' for e in ls), ls[:2]"

# the kubectl-based snapshot script against the same server: the optional
# lists by discovery (VPAs served, Rollouts not), and the same findings
KUBECONFIG="$K/token.yaml" sh "$ROOT/cron/kopilot-snapshot.sh" "$T/kubectl-snap" >"$T/kubectl-snap.out" 2>&1
KRC=$?
check "cron/kopilot-snapshot.sh: exit 0, verticalpodautoscalers.json by discovery, no rollouts.json" bash -c "
	[ $KRC -eq 0 ] && [ -s '$T/kubectl-snap/objects/verticalpodautoscalers.json' ] && [ ! -e '$T/kubectl-snap/objects/rollouts.json' ] ||
	{ cat '$T/kubectl-snap.out'; ls '$T/kubectl-snap/objects'; exit 1; }"
krun ksnap -- --snapshot "$T/kubectl-snap" --quiet
expect_rc ksnap 3
check "cron/kopilot-snapshot.sh: kopilot run on it finds the same as the snapshot run" $CHECK findings "$R/ksnap/findings.json" "$R/snap/findings.json"

# collect alone, then analyze/recommend/render on its model
kcmd col collect -- --kubeconfig "$K/token.yaml" --quiet
expect_rc col 3
check "collect: RUN/snapshot as the run's (Lists, redacted, no managedFields)" $CHECK objects "$R/col/snapshot" "$R/snapcopy/snapshot"
check "collect: cluster.json has source live" grep -q '"source": *"live"' "$R/col/snapshot/cluster.json"
ok_or_degraded "$KOPILOT" analyze "$R/col" --now $NOW --quiet >/dev/null 2>"$R/col-stages.err" &&
	ok_or_degraded "$KOPILOT" recommend "$R/col" --now $NOW --quiet >/dev/null 2>>"$R/col-stages.err" &&
	ok_or_degraded "$KOPILOT" render "$R/col" --now $NOW --quiet >/dev/null 2>>"$R/col-stages.err"
RC=$?
[ $RC -eq 0 ] && ok "collect then analyze, recommend, render: exit 0 or 3" || not_ok "collect then analyze, recommend, render: exit 0 or 3" "$(cat "$R/col-stages.err")"
[ -f "$R/col/findings.json" ] && RUNS+=(col)
check "collect then analyze/recommend/render: the same findings as kopilot run" $CHECK findings "$R/col/findings.json" "$R/live/findings.json"

# --snapshot-out: a portable snapshot
check "--snapshot-out: the lists and cluster.json, as in RUN/snapshot" bash -c "
	cd '$R/live/snapshot' && for f in objects/*.json cluster.json; do cmp -s \"\$f\" '$T/snapout/'\"\$f\" || { echo \"\$f differs or is missing\"; exit 1; }; done
	[ \$(ls '$T/snapout/objects' | wc -l) -eq \$(ls objects | wc -l) ]"
krun snapout -- --snapshot "$T/snapout" --quiet
expect_rc snapout 3
check "--snapshot-out: kopilot run --snapshot SNAP finds the same as the live run" $CHECK findings "$R/snapout/findings.json" "$R/live/findings.json"

# =================================================== 4. how a kubeconfig authenticates
# auth NAME KIND [VAR=VALUE...] -- ARGS: a run on main authenticated as KIND
auth() {
	local name=$1 kind=$2; shift 2
	local from=$(lines "$L/main.jsonl")
	krun "$name" "$@" --quiet
	if [ $RC -ne 3 ]; then not_ok "$name: exit 3, got $RC" "$(tail -5 "$R/$name.err")"; return; fi
	local out
	if ! out=$($CHECK auth "$L/main.jsonl" "$from" "$kind" 2>&1); then not_ok "$name: every request authenticated ($kind), all 200" "$out"; return; fi
	if ! out=$($CHECK findings "$R/$name/findings.json" "$R/live/findings.json" 2>&1); then not_ok "$name: the same findings" "$out"; return; fi
	ok "$name: exit 3, every request authenticated ($kind), the same findings"
}
auth auth-token token -- --kubeconfig "$K/token.yaml"

echo "GOOD-TOKEN" >"$K/token.txt"
kubeconfig "$K/tokenfile.yaml" "$MAIN" "$CA_FILE" "    tokenFile: token.txt" # relative to the kubeconfig
auth auth-tokenfile token -- --kubeconfig "$K/tokenfile.yaml"

kubeconfig "$K/certfiles.yaml" "$MAIN" "    certificate-authority: ../pki/ca.crt" "    client-certificate: ../pki/client.crt
    client-key: $P/client.key"
auth auth-cert-files cert -- --kubeconfig "$K/certfiles.yaml"

kubeconfig "$K/certdata.yaml" "$MAIN" "$CA_FILE" "    client-certificate-data: $(B64 "$P/client.crt")
    client-key-data: $(B64 "$P/client.key")"
auth auth-cert-data cert -- --kubeconfig "$K/certdata.yaml"

kubeconfig "$K/cadata.yaml" "$MAIN" "    certificate-authority-data: $(B64 "$P/ca.crt")" "    token: GOOD-TOKEN"
auth auth-ca-data token -- --kubeconfig "$K/cadata.yaml"

kubeconfig "$K/insecure.yaml" "$MAIN" "    insecure-skip-tls-verify: true" "    token: GOOD-TOKEN"
auth auth-insecure token -- --kubeconfig "$K/insecure.yaml"

# exec plugins: the command and its arguments as they are, no shell
cat >"$T/bin/cred-plugin" <<'EOF'
#!/usr/bin/python3
import json, os, sys
info = json.loads(os.environ.get("KUBERNETES_EXEC_INFO") or "{}")
with open(os.environ["PLUGIN_RECORD"], "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "info": info, "mode": os.environ.get("PLUGIN_MODE")}) + "\n")
print(json.dumps({"apiVersion": info.get("apiVersion"), "kind": "ExecCredential",
                  "status": {"token": "GOOD-TOKEN", "expirationTimestamp": "2099-01-01T00:00:00Z"}}))
EOF
chmod +x "$T/bin/cred-plugin"
EXEC_ARGS='["get-token", "two words", "$HOME", "a;b|c&d", "`id`", "*", "'"'"'q'"'"'", ""]'
exec_user() { # exec_user API COMMAND RECORD [MORE_LINES]
	printf '    exec:\n      apiVersion: %s\n      command: %s\n      args: %s\n      env:\n      - name: PLUGIN_RECORD\n        value: %s\n      - name: PLUGIN_MODE\n        value: "x y $Z `id`"\n%s' \
		"$1" "$2" "$EXEC_ARGS" "$3" "${4:-}"
}
kubeconfig "$K/exec-v1.yaml" "$MAIN" "$CA_FILE" "$(exec_user client.authentication.k8s.io/v1 "$T/bin/cred-plugin" "$T/plugin-v1.jsonl" "      interactiveMode: Never")"
auth auth-exec-v1 token -- --kubeconfig "$K/exec-v1.yaml"
# v1beta1, the command relative to the kubeconfig's directory
kubeconfig "$K/exec-v1beta1.yaml" "$MAIN" "$CA_FILE" "$(exec_user client.authentication.k8s.io/v1beta1 ../bin/cred-plugin "$T/plugin-v1beta1.jsonl")"
auth auth-exec-v1beta1 token -- --kubeconfig "$K/exec-v1beta1.yaml"
for v in v1 v1beta1; do
	check "exec $v: the plugin got its arguments and env literally (no shell), ExecCredential info $v, not interactive" $PY -c "
import json
recs = [json.loads(l) for l in open('$T/plugin-$v.jsonl')]
r = recs[0]
assert r['argv'] == json.loads('''$EXEC_ARGS'''), r['argv']
assert r['mode'] == 'x y \$Z \`id\`', r['mode']
assert r['info'].get('apiVersion') == 'client.authentication.k8s.io/$v' and r['info'].get('kind') == 'ExecCredential', r['info']
assert r['info'].get('spec', {}).get('interactive') is False, r['info']"
	check "exec $v: run once for the whole run (the token is good until its expirationTimestamp)" \
		bash -c "[ \$(wc -l <'$T/plugin-$v.jsonl') -eq 1 ] || { echo \"ran \$(wc -l <'$T/plugin-$v.jsonl') times\"; exit 1; }"
done

# an expired exec credential: the plugin's first token is refused (401, as
# a server answers a token past its real expiry); kopilot asks the plugin
# once more and goes on with the fresh one
cat >"$T/bin/expiring-plugin" <<'EOF'
#!/usr/bin/python3
import json, os
rec = os.environ["PLUGIN_RECORD"]
n = sum(1 for _ in open(rec)) if os.path.exists(rec) else 0
with open(rec, "a") as f:
    f.write("run\n")
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"token": "EXPIRED-TOKEN" if n == 0 else "GOOD-TOKEN",
                             "expirationTimestamp": "2099-01-01T00:00:00Z"}}))
EOF
chmod +x "$T/bin/expiring-plugin"
kubeconfig "$K/exec-expired.yaml" "$MAIN" "$CA_FILE" "$(printf '    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: %s\n      interactiveMode: Never\n      env:\n      - name: PLUGIN_RECORD\n        value: %s\n' "$T/bin/expiring-plugin" "$T/plugin-expired.txt")"
krun exec-expired -- --kubeconfig "$K/exec-expired.yaml" --quiet
check "expired exec credential: refused once, the plugin asked again, the run completes (exit 3)" test "$RC" = 3
check "expired exec credential: the plugin ran twice, not more" \
	bash -c "[ \$(wc -l <'$T/plugin-expired.txt') -eq 2 ] || { echo \"ran \$(wc -l <'$T/plugin-expired.txt') times\"; exit 1; }"
check "expired exec credential: the same findings" $CHECK findings "$R/exec-expired/findings.json" "$R/live/findings.json"

# a plugin that answers with a client certificate instead of a token
cat >"$T/bin/cert-plugin" <<EOF
#!/usr/bin/python3
import json
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                  "status": {"clientCertificateData": open("$P/client.crt").read(),
                             "clientKeyData": open("$P/client.key").read()}}))
EOF
chmod +x "$T/bin/cert-plugin"
kubeconfig "$K/exec-cert.yaml" "$MAIN" "$CA_FILE" "    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: $T/bin/cert-plugin"
auth auth-exec-cert cert -- --kubeconfig "$K/exec-cert.yaml"

# tls-server-name: the certificate is checked against that name
kubeconfig "$K/tls-server-name.yaml" "$MAIN" "$CA_FILE
    tls-server-name: localhost" "    token: GOOD-TOKEN"
auth auth-tls-server-name token -- --kubeconfig "$K/tls-server-name.yaml"

# KUBECONFIG=a:b: the first file wins for a name and for current-context;
# contexts come from both (the context is b's, its user "shared" is a's)
cat >"$K/merge-a.yaml" <<EOF
apiVersion: v1
kind: Config
current-context: from-b
users:
- name: shared
  user:
    token: GOOD-TOKEN
EOF
cat >"$K/merge-b.yaml" <<EOF
apiVersion: v1
kind: Config
current-context: b-own
clusters:
- name: fake
  cluster:
    server: $MAIN
    certificate-authority: $P/ca.crt
users:
- name: shared
  user:
    token: WRONG-TOKEN
contexts:
- name: from-b
  context: {cluster: fake, user: shared}
- name: b-own
  context: {cluster: fake, user: shared}
EOF
auth auth-kubeconfig-merged token KUBECONFIG="$K/merge-a.yaml:$K/merge-b.yaml" -- 
check "KUBECONFIG=a:b: the context is a's current-context (from-b)" grep -q '"context": *"from-b"' "$R/auth-kubeconfig-merged/snapshot/cluster.json"

# --context and -c pick a context that is not the current one (whose token is wrong)
cat >"$K/contexts.yaml" <<EOF
apiVersion: v1
kind: Config
current-context: broken
clusters:
- name: fake
  cluster:
    server: $MAIN
    certificate-authority: $P/ca.crt
users:
- name: good
  user: {token: GOOD-TOKEN}
- name: bad
  user: {token: WRONG-TOKEN}
contexts:
- name: broken
  context: {cluster: fake, user: bad}
- name: good
  context: {cluster: fake, user: good}
EOF
auth auth-context token -- --kubeconfig "$K/contexts.yaml" --context good
auth auth-context-short token -- --kubeconfig "$K/contexts.yaml" -c good
check "--context good: cluster.json names the context" grep -q '"context": *"good"' "$R/auth-context/snapshot/cluster.json"

# in a pod: the service account, no kubeconfig anywhere
echo "GOOD-TOKEN" >"$T/sa/token"
cp "$P/ca.crt" "$T/sa/ca.crt"
echo "kopilot" >"$T/sa/namespace"
INCLUSTER=(HOME="$T/empty" KUBECONFIG= KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$MAINPORT KOPILOT_SERVICEACCOUNT_DIR="$T/sa")
auth auth-in-cluster token "${INCLUSTER[@]}" --
check "in-cluster: cluster.json has source live and the service's server" $PY -c "
import json; c = json.load(open('$R/auth-in-cluster/snapshot/cluster.json'))
assert c.get('source') == 'live' and c.get('server') == 'https://127.0.0.1:$MAINPORT', c"

# =================================================== 5. broken kubeconfigs
BROKEN_FROM=$(lines "$L/main.jsonl")
# broken NAME PATTERN [VAR=VALUE...] -- ARGS: exit 2, the message matches
broken() {
	local name=$1 pattern=$2; shift 2
	krun "$name" "$@" --quiet
	expect_fail "$name" 2 "$pattern"
}
printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: [%s\n' "$MAIN" >"$K/bad-yaml.yaml"
broken broken-yaml 'bad-yaml\.yaml:[0-9]+:[0-9]+.*YAML' -- --kubeconfig "$K/bad-yaml.yaml"
sed 's/^current-context: fake/current-context: nosuch/' "$K/token.yaml" >"$K/cc-missing.yaml"
broken broken-current-context 'cc-missing\.yaml.*"nosuch".*current-context' -- --kubeconfig "$K/cc-missing.yaml"
broken broken-context-flag 'token\.yaml.*"nosuch".*--context' -- --kubeconfig "$K/token.yaml" --context nosuch
kubeconfig "$K/cert-unreadable.yaml" "$MAIN" "$CA_FILE" "    client-certificate: $T/nonexistent/client.crt
    client-key: $P/client.key"
broken broken-client-cert 'cert-unreadable\.yaml.*users\["u"\]\.user\.client-certificate.*nonexistent/client\.crt' -- --kubeconfig "$K/cert-unreadable.yaml"
kubeconfig "$K/ca-unreadable.yaml" "$MAIN" "    certificate-authority: no-such-ca.crt" "    token: GOOD-TOKEN"
broken broken-ca 'ca-unreadable\.yaml.*clusters\["fake"\]\.cluster\.certificate-authority.*no-such-ca\.crt' -- --kubeconfig "$K/ca-unreadable.yaml"
kubeconfig "$K/bad-b64.yaml" "$MAIN" "$CA_FILE" "    client-certificate-data: 'not*base64!'
    client-key-data: $(B64 "$P/client.key")"
broken broken-base64 'bad-b64\.yaml.*client-certificate-data.*base64' -- --kubeconfig "$K/bad-b64.yaml"
printf '#!/bin/sh\necho "starting" >&2\necho "token expired: run kopilot-e2e-sso login" >&2\nexit 1\n' >"$T/bin/fail-plugin"
chmod +x "$T/bin/fail-plugin"
kubeconfig "$K/exec-fails.yaml" "$MAIN" "$CA_FILE" "    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: $T/bin/fail-plugin"
broken broken-exec-fails 'exec-fails\.yaml.*exec.*kopilot-e2e-sso login' -- --kubeconfig "$K/exec-fails.yaml"
kubeconfig "$K/exec-notfound.yaml" "$MAIN" "$CA_FILE" "    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kopilot-e2e-no-such-plugin
      installHint: install it from https://example.com/plugin"
broken broken-exec-notfound 'exec-notfound\.yaml.*exec.*kopilot-e2e-no-such-plugin' -- --kubeconfig "$K/exec-notfound.yaml"
check "broken-exec-notfound: the installHint is shown" grep -q 'install it from https://example.com/plugin' "$R/broken-exec-notfound.err"
kubeconfig "$K/auth-provider.yaml" "$MAIN" "$CA_FILE" "    auth-provider:
      name: gcp
      config: {}"
broken broken-auth-provider 'auth-provider\.yaml.*auth-provider.*gcp' -- --kubeconfig "$K/auth-provider.yaml"
# malformed fields: a configuration error too (exit 2), naming the file and the field
sed '/^    server:/d' "$K/token.yaml" >"$K/no-server.yaml"
broken broken-no-server 'no-server\.yaml.*clusters\["fake"\]\.cluster\.server' -- --kubeconfig "$K/no-server.yaml"
kubeconfig "$K/cert-no-key.yaml" "$MAIN" "$CA_FILE" "    client-certificate: $P/client.crt"
broken broken-cert-without-key 'cert-no-key\.yaml.*users\["u"\]\.user.*client-key' -- --kubeconfig "$K/cert-no-key.yaml"
kubeconfig "$K/exec-v1alpha1.yaml" "$MAIN" "$CA_FILE" "    exec:
      apiVersion: client.authentication.k8s.io/v1alpha1
      command: $T/bin/cred-plugin"
broken broken-exec-api-version 'exec-v1alpha1\.yaml.*exec\.apiVersion.*v1alpha1' -- --kubeconfig "$K/exec-v1alpha1.yaml"
kubeconfig "$K/exec-no-mode.yaml" "$MAIN" "$CA_FILE" "    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: $T/bin/cred-plugin"
broken broken-exec-v1-no-interactive-mode 'exec-no-mode\.yaml.*exec\.interactiveMode' -- --kubeconfig "$K/exec-no-mode.yaml"
broken broken-no-kubeconfig 'kubeconfig.*(KUBECONFIG|kube/config)' HOME="$T/empty" KUBECONFIG= -- 
broken broken-in-cluster-no-token 'token' HOME="$T/empty" KUBECONFIG= KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$MAINPORT KOPILOT_SERVICEACCOUNT_DIR="$T/empty" -- 
kcmd broken-collect collect -- --kubeconfig "$K/cc-missing.yaml" --quiet
expect_fail broken-collect 2 'cc-missing\.yaml.*"nosuch"'
check "broken kubeconfigs: no request reached the server, no findings written" bash -c "
	[ \$(wc -l <'$L/main.jsonl') -eq $BROKEN_FROM ] || { echo 'requests were made'; exit 1; }
	! ls '$R'/broken-*/findings.json 2>/dev/null"

# =================================================== 6. faults
# fault NAME FAULTS_JSON [ARGS]: a run on the faults server (2 items a page)
# with those faults; the log lines it made start at FROM
fault() {
	local name=$1; set_faults "$2"; shift 2
	FROM=$(lines "$L/faults.jsonl")
	krun "$name" -- --kubeconfig "$K/faults.yaml" --quiet "$@"
}
# fired NAME PATH STATUS N [BYTES]: N requests to PATH answered STATUS (BYTES long) in the last fault run
fired() {
	check "$1: the server answered $4 requests on $2 with $3${5:+ (cut at $5 bytes)}" $PY -c "
import json
ls = [json.loads(l) for l in open('$L/faults.jsonl').readlines()[$FROM:]]
n = sum(1 for r in ls if r['path'] == '$2' and r['status'] == $3 and ('${5:-}' == '' or r['bytes'] == int('0${5:-}')))
assert n == $4, n"
}
same_as_live() { # same_as_live NAME: findings and the pods list as the live run's
	check "$1: the same findings as the live run" $CHECK findings "$R/$1/findings.json" "$R/live/findings.json"
	check "$1: objects/pods.json has the $N_pods pods, none twice" $CHECK items "$R/$1/snapshot/objects/pods.json" "$N_pods"
}
pods_pages=$(((N_pods + 1) / 2))

fault paged '[]'
expect_rc paged 3
same_as_live paged
check "paged: the lists came in pages of 2 ($pods_pages pages of pods)" $PY -c "
import json
ls = [json.loads(l) for l in open('$L/faults.jsonl').readlines()[$FROM:]]
assert sum(r['path'] == '/api/v1/pods' for r in ls) == $pods_pages"
check "paged: RUN/snapshot as a snapshot copy's, items once each" $CHECK objects "$R/paged/snapshot" "$R/snapcopy/snapshot"

fault f429 '[{"test": "429", "path": "/api/v1/pods", "status": 429, "times": 3, "retry_after": 1}]'
expect_rc f429 3
same_as_live f429
fired f429 /api/v1/pods 429 3
[ $MS -ge 2900 ] && ok "f429: Retry-After 1 was waited for (3 times: ${MS} ms)" || not_ok "f429: Retry-After 1 was waited for (3 times), the run took ${MS} ms"

fault f500 '[{"test": "500", "path": "/api/v1/pods", "times": 3}, {"test": "500", "path": "/api/v1/pods", "status": 500, "times": 2}]'
expect_rc f500 3
same_as_live f500
fired f500 /api/v1/pods 500 2

fault fcut '[{"test": "cut", "path": "/api/v1/pods", "times": 5}, {"test": "cut", "path": "/api/v1/pods", "cut": 1500, "times": 1}]'
expect_rc fcut 3
same_as_live fcut
fired fcut /api/v1/pods 200 1 1500

fault fexpired '[{"test": "410", "path": "/api/v1/pods", "times": 10}, {"test": "410", "path": "/api/v1/pods", "expire_continue": true, "times": 1}]'
expect_rc fexpired 3
same_as_live fexpired
fired fexpired /api/v1/pods 410 1
check "fexpired: after the 410 the list started again without a continue token, and was read to its end" $PY -c "
import json
ls = [json.loads(l) for l in open('$L/faults.jsonl').readlines()[$FROM:] if json.loads(l)['path'] == '/api/v1/pods']
i = [r['status'] for r in ls].index(410)
assert 'continue=' not in ls[i + 1]['query'], ls[i + 1]
assert len(ls) - i - 1 == $pods_pages, (len(ls), i)"

# one list refused (403) or not served (404): degraded, named, no file
not_collected() { # not_collected NAME RESOURCE STATUS_REGEX
	local n=$1 res=$2 rx=$3
	check "$n: findings.json \"missing\" names $res with the reason (/$rx/)" $CHECK missing "$R/$n/findings.json" "$res" "$rx"
	check "$n: report.md's Not collected section names $res and the reason" bash -c "
		sed -n '/^## Not collected/,/^## [^N]/p' '$R/$n/report.md' | grep '$res' | grep -qE '$rx'"
	check "$n: no objects/$res.json (never an empty list)" test ! -e "$R/$n/snapshot/objects/$res.json"
	check "$n: a warning on stderr names $res" grep -q "warning: collect: $res" "$R/$n.err"
	check "$n: no finding the complete run does not have" $CHECK subset "$R/$n/findings.json" "$R/live/findings.json"
}
fault f403 '[{"test": "403", "path": "/apis/apps/v1/deployments", "status": 403, "message": "deployments.apps is forbidden: User \"system:serviceaccount:kopilot:kopilot\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"},
	{"test": "403", "path": "/apis/apps/v1/namespaces/*", "status": 403}]' --snapshot-out "$T/snap403"
expect_rc f403 3
not_collected f403 deployments '403.*cannot list resource'
check "f403: the other lists were read (statefulsets, replicasets, pods)" bash -c "
	cd '$R/f403/snapshot/objects' && test -s statefulsets.json && test -s replicasets.json && test -s pods.json"
check "f403: --snapshot-out has no deployments.json either" test ! -e "$T/snap403/objects/deployments.json"
krun f403-snap -- --snapshot "$T/snap403" --quiet
expect_rc f403-snap 3
check "f403-snap: a run of that snapshot says deployments were not collected" $PY -c "
import json; m = json.load(open('$R/f403-snap/findings.json'))['missing']
assert 'deployments' in [e['resource'] for e in m], m"

from=$(lines "$L/omit.jsonl")
krun f404 -- --kubeconfig "$K/omit.yaml" --quiet
expect_rc f404 3
not_collected f404 deployments '404'

# a server slower than kube.timeout_seconds: exit 4, the previous run kept
fault slow '[]'
expect_rc slow 3
sums() { (cd "$R/slow" && find . -type f ! -name audit.jsonl | sort | xargs sha256sum); }
before=$(sums)
set_faults '[{"test": "slow", "path": "*", "sleep": 5}]'
t0=$(date +%s%N)
timeout 20 "$KOPILOT" run --kubeconfig "$K/faults.yaml" --out "$R/slow" --now $NOW --quiet \
	--set kube.timeout_seconds=1 --set kube.retries=2 >"$R/slow2.out" 2>"$R/slow2.err"
RC=$?
MS=$((($(date +%s%N) - t0) / 1000000))
set_faults '[]'
expect_fail slow2 4 'GET /[a-z].*(timed out|[Tt]imeout)'
[ $MS -lt 15000 ] && ok "slow2: gave up within 15 s (${MS} ms)" || not_ok "slow2: gave up within 15 s, took ${MS} ms"
check "slow2: the previous run in RUN is untouched (but audit.jsonl), nothing left beside it" bash -c "
	[ \"\$(cd '$R/slow' && find . -type f ! -name audit.jsonl | sort | xargs sha256sum)\" = '$before' ] || { echo 'RUN changed'; exit 1; }
	! ls -a '$R' | grep -E '^\.slow\.'"
check "slow2: audit.jsonl records the failed run (exit 4)" $PY -c "
import json
ev = [json.loads(l) for l in open('$R/slow/audit.jsonl')]
assert ev[-1]['event'] == 'command.end' and ev[-1]['exit_code'] == 4, ev[-1]"

# credentials refused at connect: exit 2
kubeconfig "$K/wrong-token.yaml" "$FAULTSRV" "$CA_FILE" "    token: WRONG-TOKEN"
krun wrong-token -- --kubeconfig "$K/wrong-token.yaml" --quiet
expect_fail wrong-token 2 '(credential|authenticat|[Uu]nauthori).*401|401.*(credential|authenticat|[Uu]nauthori)'
# a server certificate the CA does not vouch for: refused, saying where to look
openssl_ req -x509 -newkey rsa:2048 -nodes -keyout "$P/other-ca.key" -out "$P/other-ca.crt" -days 2 -subj "/CN=another-ca"
kubeconfig "$K/wrong-ca.yaml" "$MAIN" "    certificate-authority: $P/other-ca.crt" "    token: GOOD-TOKEN"
krun wrong-ca -- --kubeconfig "$K/wrong-ca.yaml" --quiet
if [ $RC -eq 2 ] || [ $RC -eq 4 ]; then ok "wrong-ca: exit 2 or 4 ($RC)"; else not_ok "wrong-ca: exit 2 or 4, got $RC" "$(tail -5 "$R/wrong-ca.err")"; fi
check "wrong-ca: the message names the server and says to check certificate-authority" bash -c "
	grep -q '127.0.0.1:$MAINPORT' '$R/wrong-ca.err' && grep -q 'certificate-authority' '$R/wrong-ca.err'"
fault f403-connect '[{"test": "403c", "path": "/api", "status": 403}]'
expect_fail f403-connect 2 '403'

# 500 for ever on one list: retried, then not collected (kube.h), never exit 0
fault f500-ever '[{"test": "500ever", "path": "/api/v1/pods", "status": 500}]'
if [ $RC -eq 0 ] || [ $RC -ge 124 ]; then not_ok "f500-ever: neither exit 0 nor a crash, got $RC" "$(tail -5 "$R/f500-ever.err")"; else ok "f500-ever: neither exit 0 nor a crash ($RC)"; fi
expect_rc f500-ever 3
check "f500-ever: pods were retried (5 attempts) and are not collected, with the reason" bash -c "
	$CHECK missing '$R/f500-ever/findings.json' pods '500' || exit 1
	[ \$(tail -n +$((FROM + 1)) '$L/faults.jsonl' | grep -c '\"path\": \"/api/v1/pods\"') -eq 5 ]"
check "f500-ever: no objects/pods.json" test ! -e "$R/f500-ever/snapshot/objects/pods.json"
check "f500-ever: no finding the complete run does not have" $CHECK subset "$R/f500-ever/findings.json" "$R/live/findings.json"

# nothing listening: exit 4 after retries, naming the server
DEAD=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
kubeconfig "$K/dead.yaml" "https://127.0.0.1:$DEAD" "$CA_FILE" "    token: GOOD-TOKEN"
krun dead -- --kubeconfig "$K/dead.yaml" --quiet
expect_fail dead 4 "cannot reach.*127\.0\.0\.1:$DEAD"
check "dead: the message reads cleanly (no doubled ': :')" bash -c "! grep -F ': : ' '$R/dead.err'"

# ---------------------------------------------------------- kube.* keys
for kv in kube.timeout_seconds=7 kube.connect_timeout_seconds=3 kube.qps=20 kube.burst=7 kube.page_size=3 kube.retries=2; do
	check "config show --set $kv: a known key" bash -c "
		\"$KOPILOT\" config show --set $kv 2>&1 | grep -E '^${kv%%=*} +=  *${kv#*=} +\\(flag'"
done
from=$(lines "$L/main.jsonl")
krun page3 -- --kubeconfig "$K/token.yaml" --quiet --set kube.page_size=3
expect_rc page3 3
check "kube.page_size=3: lists asked for with limit=3 ($(((N_pods + 2) / 3)) pages of pods)" $PY -c "
import json
ls = [json.loads(l) for l in open('$L/main.jsonl').readlines()[$from:]]
pods = [r for r in ls if r['path'] == '/api/v1/pods']
assert pods and all('limit=3' in r['query'] for r in pods), [r['query'] for r in pods][:3]
assert len(pods) == $(((N_pods + 2) / 3)), len(pods)"
check "kube.page_size=3: the same findings" $CHECK findings "$R/page3/findings.json" "$R/live/findings.json"
fault retries2 '[{"test": "r2", "path": "/api/v1/pods", "status": 500, "times": 2}]' --set kube.retries=2
expect_rc retries2 3
check "kube.retries=2: two attempts on pods, then not collected" bash -c "
	$CHECK missing '$R/retries2/findings.json' pods '500' || exit 1
	[ \$(tail -n +$((FROM + 1)) '$L/faults.jsonl' | grep -c '\"path\": \"/api/v1/pods\"') -eq 2 ]"
krun qps -- --kubeconfig "$K/token.yaml" --quiet --set kube.qps=10 --set kube.burst=1
expect_rc qps 3
[ $MS -ge 1500 ] && ok "kube.qps=10 kube.burst=1: ~18 requests take over 1.5 s (${MS} ms)" || not_ok "kube.qps=10 kube.burst=1: ~18 requests take over 1.5 s, took ${MS} ms"
# a list's next pages are not paced (http.h, kp_http_get_next_page): the
# first pages and discovery are, one every 100 ms
from=$(lines "$L/main.jsonl")
krun qps-pages -- --kubeconfig "$K/token.yaml" --quiet --set kube.qps=10 --set kube.burst=1 --set kube.page_size=2
expect_rc qps-pages 3
read -r n_first n_next < <($PY -c "
import json
ls = [json.loads(l) for l in open('$L/main.jsonl').readlines()[$from:]]
nxt = sum(1 for r in ls if 'continue=' in (r.get('query') or ''))
print(len(ls) - nxt, nxt)")
[ "$n_next" -gt 10 ] && [ $MS -ge $(((n_first - 1) * 100 - 50)) ] && [ $MS -lt $(((n_first + n_next - 1) * 100)) ] &&
	ok "kube.qps=10 kube.burst=1, pages of 2: $n_first first requests paced, $n_next next pages not (${MS} ms)" ||
	not_ok "kube.qps=10 kube.burst=1, pages of 2: $n_first first requests paced, $n_next next pages not: took ${MS} ms"

# =================================================== 3. only GET, never secrets
check "every request of every kopilot and kubectl run above was a GET, none named secrets" $CHECK readonly "$L"/*.jsonl
check "kubectl and kopilot both reached the fakes" bash -c "grep -q '\"ua\": \"kubectl' '$L/main.jsonl' && grep -q '\"ua\": \"kopilot/' '$L/main.jsonl'"
check "no value planted for redaction ($MARK...) in any run directory or --snapshot-out" bash -c "
	! grep -rl '$MARK' '$R' '$T/snapout' '$T/snap403'"
check "no managedFields in any live run directory or --snapshot-out (model.bin, reports included)" bash -c "
	! grep -rl managedFields '$R' '$T/snapout' '$T/snap403' | grep -vE '/runs/(snap|snapcopy)/'"

# =================================================== 7. findings.json against the contract
for n in "${RUNS[@]}"; do
	check "$n: findings.json valid against findings.schema.json" schema_valid "$CONTRACTS/findings.schema.json" "$R/$n/findings.json"
done

finish
