#!/usr/bin/env bash
# End-to-end checks of the in-cluster install in cron/, with no container
# runtime and no cluster (none can run here):
#   1. the image: cron/Containerfile's runtime stage installs the package of
#      every library build/kopilot loads (ldd, dpkg -S; debian:12-slim's
#      base packages listed in tests/e2e/deploy/image_check.py) and nothing
#      else but its tools; its build stage installs the Makefile's
#      DEPS_BUILD, which names the package of every pkg-config module the
#      Makefile builds with; the check fails on a Containerfile missing a library or
#      listing one too many; a copied binary has its templates and skills;
#   2. the manifests: `kubectl kustomize` renders cron/, cron/state, the
#      ephemeral component and an overlay adding a skill; the CronJob and
#      the role are what README "Deploying the nightly CronJob" says
#      (tests/e2e/deploy/manifest_check.py); every rendered object passes
#      `kubectl apply --dry-run=client --validate=false` against the fake
#      API server (which serves what kubectl's discovery maps them with);
#   3. RBAC: tests/fakes/kubeapi.py --rbac enforces the rendered ClusterRole
#      and binding on the demo cluster with every optional group served
#      (Argo Rollouts, VPA, metrics-server): a full live run gets no 403 and
#      finds what an unrestricted run finds, and the role grants nothing
#      the run did not request; a role without persistentvolumes gives exit
#      3 and the report names them "not collected" (403); Secrets are
#      refused with the apiserver's Status, as kubectl shows it;
#   4. the CronJob's pod, run as the kubelet would (tests/e2e/deploy/pod.py:
#      the rendered command, args, env and volumes, a read-only root, user
#      65532, the service account's token and CA, PID 1 of its own PID
#      namespace) against the RBAC-enforcing fake over TLS: exit 0 (kopilot
#      3, degraded: the configured Prometheus does not resolve here), the
#      run and only it on the claim's directory, the same findings as a
#      kubeconfig run, a second night compared with the first; the skill of
#      the overlay is found through SKILL_DIRS; the Secrets README names
#      reach kopilot as the LLM keys and GIT_TOKEN, their values nowhere in
#      its outputs; with pr.* set, a dry run of the pull requests from a
#      clone over smart HTTP with that token (tests/fakes/githttp.py), the
#      clone kept on the claim; SIGTERM to the pod's PID 1 stops kopilot
#      (exit 143) and keeps the previous runs.
# Needs root (unshare, mount, chroot for step 4). About 30 seconds.
# Ends with "deploy: N passed, N failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/deploy.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
PY=/usr/bin/python3
DEMO=$ROOT/examples/demo-cluster
FAKE=$ROOT/tests/fakes/kubeapi.py
D=$ROOT/tests/e2e/deploy
CHECK="$PY $ROOT/tests/e2e/live/check.py"
NOW=2026-11-25T06:00:00Z

SUITE=deploy
. "$ROOT/tests/e2e/lib.sh"
need kubectl kubernetes-client
need ldd libc-bin
need dpkg dpkg
need apt-cache apt
need openssl openssl
need curl curl
need git git
need unshare util-linux
need setpriv util-linux
need chroot coreutils
need $PY python3
$PY -c 'import yaml' 2>/dev/null || { echo "deploy: python3-yaml is missing: run 'make deps'" >&2; exit 1; }
[ -x "$KOPILOT" ] || { echo "deploy: $KOPILOT is missing: build it with 'make'" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "deploy: run as root: the pod is run with unshare, mount and chroot (step 4)" >&2; exit 1; }

fakes_tempdir deploy
unset KUBECONFIG KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT KOPILOT_SERVICEACCOUNT_DIR PROMETHEUS_URL
export HOME=$T/home
mkdir -p "$HOME" "$T/runs" "$T/logs"
R=$T/runs
L=$T/logs
kubectl_() { kubectl --kubeconfig "$1" --cache-dir="$(mktemp -d -p "$T")" --request-timeout=20s "${@:2}"; }
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# ================================================================ 1. the image
check "image: every library build/kopilot loads is installed by the runtime stage, nothing more; the build stage installs DEPS_BUILD" \
	$PY "$D/image_check.py" cron/Containerfile Makefile "$KOPILOT"
# the check can fail: a library's package left out, an extra package, a drifted DEPS_BUILD
sed 's/ libmicrohttpd12 / /' cron/Containerfile >"$T/Containerfile.nomhd"
out=$($PY "$D/image_check.py" "$T/Containerfile.nomhd" Makefile "$KOPILOT" 2>&1) && rc=0 || rc=$?
[ $rc -eq 1 ] && grep -q 'libmicrohttpd.so.12: its package libmicrohttpd12 is not installed by the runtime stage' <<<"$out" &&
	ok "image: a runtime stage without libmicrohttpd12 fails, naming libmicrohttpd.so.12" ||
	not_ok "image: a runtime stage without libmicrohttpd12 fails, naming libmicrohttpd.so.12" "$out"
sed 's/ libffi8 / libffi8 libxml2 /' cron/Containerfile >"$T/Containerfile.extra"
out=$($PY "$D/image_check.py" "$T/Containerfile.extra" Makefile "$KOPILOT" 2>&1) && rc=0 || rc=$?
[ $rc -eq 1 ] && grep -q 'libxml2: listed in the runtime stage, but build/kopilot loads no library of it' <<<"$out" &&
	ok "image: a runtime package no library maps to fails (the list stays exact)" ||
	not_ok "image: a runtime package no library maps to fails (the list stays exact)" "$out"
sed 's/^\(DEPS_BUILD *:= *\)/\1libzstd-dev /' Makefile >"$T/Makefile.drift"
out=$($PY "$D/image_check.py" cron/Containerfile "$T/Makefile.drift" "$KOPILOT" 2>&1) && rc=0 || rc=$?
[ $rc -eq 1 ] && grep -q "libzstd-dev: in the Makefile's DEPS_BUILD but not installed by the build stage" <<<"$out" &&
	ok "image: a DEPS_BUILD package the build stage lacks fails" ||
	not_ok "image: a DEPS_BUILD package the build stage lacks fails" "$out"
sed 's/ libssl-dev//' Makefile >"$T/Makefile.nossl"
sed 's/ libssl-dev / /' cron/Containerfile >"$T/Containerfile.nossl"
out=$($PY "$D/image_check.py" "$T/Containerfile.nossl" "$T/Makefile.nossl" "$KOPILOT" 2>&1) && rc=0 || rc=$?
[ $rc -eq 1 ] && grep -q "pkg-config module libcrypto (.*): its package libssl-dev is not in the Makefile's DEPS_BUILD" <<<"$out" &&
	ok "image: DEPS_BUILD without libssl-dev (libcrypto's headers, there only through libcurl4-openssl-dev) fails" ||
	not_ok "image: DEPS_BUILD without libssl-dev (libcrypto's headers, there only through libcurl4-openssl-dev) fails" "$out"
# the templates and the built-in skills are in the binary: a copy runs alone
mkdir -p "$T/alone/bin" "$T/alone/cwd"
cp "$KOPILOT" "$T/alone/bin/kopilot"
check "image: a copied binary, run elsewhere, lists the six built-in skills" bash -c "
	cd '$T/alone/cwd' && n=\$('$T/alone/bin/kopilot' skills list | grep -c ' builtin:') && [ \"\$n\" = 6 ] || { echo \"\$n built-in skills\"; exit 1; }"
(cd "$T/alone/cwd" && "$T/alone/bin/kopilot" run --snapshot "$DEMO" --out "$R/alone" --now $NOW --quiet >/dev/null 2>"$R/alone.err")
rc=$?
check "image: a copied binary renders the demo's reports with its compiled-in templates (exit $rc)" bash -c "
	[ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat '$R/alone.err'; exit 1; }
	grep -q '^# ' '$R/alone/report.md' && test -s '$R/alone/report.html' && test -s '$R/alone/report.xlsx'"

# ============================================================ 2. the manifests
kubectl kustomize cron/ >"$T/rendered.yaml" 2>"$T/render.err"
check "kustomize: cron/ renders, nothing on stderr" bash -c "[ $? -eq 0 ] && ! test -s '$T/render.err' || cat '$T/render.err'"
kubectl kustomize cron/state >"$T/state.yaml" 2>"$T/render-state.err"
check "kustomize: cron/state renders (the namespace and the PVC)" bash -c "
	[ $? -eq 0 ] && [ \"\$(grep '^kind:' '$T/state.yaml' | sort | tr '\n' ' ')\" = 'kind: Namespace kind: PersistentVolumeClaim ' ] || { cat '$T/render-state.err' '$T/state.yaml'; exit 1; }"
check "kustomize: cron/ renders the ServiceAccount, ClusterRole, ClusterRoleBinding, two ConfigMaps and the CronJob" bash -c "
	[ \"\$(grep '^kind:' '$T/rendered.yaml' | sort | tr '\n' ' ')\" = 'kind: ClusterRole kind: ClusterRoleBinding kind: ConfigMap kind: ConfigMap kind: CronJob kind: ServiceAccount ' ]"
check "manifests: the CronJob (no init container, Forbid, deadlines, backoff, resources, read-only root, no capabilities, RuntimeDefault, non-root, optional Secrets, writable paths on volumes)" \
	$PY "$D/manifest_check.py" cronjob "$T/rendered.yaml"
check "manifests: the ClusterRole (no wildcard, no write verb, no Secrets) is bound to the CronJob's ServiceAccount" \
	$PY "$D/manifest_check.py" role "$T/rendered.yaml"
# the check can fail: a role granting Secrets
$PY "$D/manifest_check.py" add "$T/rendered.yaml" "" secrets "$T/rendered-secrets.yaml"
out=$($PY "$D/manifest_check.py" role "$T/rendered-secrets.yaml" 2>&1) && rc=0 || rc=$?
[ $rc -eq 1 ] && grep -q 'grants Secrets' <<<"$out" && ok "manifests: a role granting Secrets is refused" ||
	not_ok "manifests: a role granting Secrets is refused" "$out"
# overlays as a user writes them, beside a copy of cron/
mkdir -p "$T/kz/ephemeral" "$T/kz/skills"
cp -r cron "$T/kz/cron"
printf 'resources: [../cron]\ncomponents: [../cron/ephemeral]\n' >"$T/kz/ephemeral/kustomization.yaml"
kubectl kustomize "$T/kz/ephemeral" >"$T/ephemeral.yaml" 2>"$T/ephemeral.err"
check "kustomize: the ephemeral component renders, the state volume an emptyDir" bash -c "
	[ $? -eq 0 ] || { cat '$T/ephemeral.err'; exit 1; }; $PY '$D/manifest_check.py' ephemeral '$T/ephemeral.yaml'"
cat >"$T/kz/skills/finops.yaml" <<'EOF'
name: finops
display_name: FinOps team
description: >-
  Answers the FinOps team's questions on chargeback and budgets.
system_prompt: |
  You help the FinOps team read kopilot's findings.
documentation: |
  Start with list_findings.
tools: [list_findings, get_finding]
EOF
cat >"$T/kz/skills/kustomization.yaml" <<'EOF'
resources: [../cron]
configMapGenerator:
  - name: kopilot-skills
    namespace: kopilot
    behavior: merge
    files: [finops.yaml]
generatorOptions: {disableNameSuffixHash: true}
EOF
kubectl kustomize "$T/kz/skills" >"$T/skills.yaml" 2>"$T/skills.err"
check "kustomize: an overlay adding a skill to kopilot-skills (README) renders" bash -c "
	[ $? -eq 0 ] && grep -q 'finops.yaml: |' '$T/skills.yaml' || cat '$T/skills.err'"

# kubectl apply --dry-run=client: kubectl maps every kind through the
# server's discovery and reads the live object (404: created); the fake
# serves the demo with what every cluster serves
P=$T/pki
mkdir -p "$P"
openssl_() { openssl "$@" >>"$T/openssl.log" 2>&1 || { echo "deploy: openssl $1 failed: $(tail -3 "$T/openssl.log")" >&2; exit 1; }; }
openssl_ req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 2 -subj "/CN=kopilot-e2e-ca"
openssl_ req -newkey rsa:2048 -nodes -keyout "$P/server.key" -out "$P/server.csr" -subj "/CN=kube-apiserver"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$P/server.ext"
openssl_ x509 -req -in "$P/server.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -out "$P/server.crt" -days 2 -extfile "$P/server.ext"

# the served cluster: the demo, with Argo Rollouts served too (no rollout)
SRC=$T/cluster
mkdir -p "$SRC" && cp -a "$DEMO/objects" "$SRC/" && cp "$DEMO/usage.json" "$SRC/"
printf '{"apiVersion": "v1", "kind": "List", "items": [], "metadata": {"resourceVersion": ""}}\n' >"$SRC/objects/rollouts.json"
start_server() { # start_server NAME ARGS...: its port in PORT, its kubeconfig $T/NAME.kc
	local name=$1; shift
	setsid $PY "$FAKE" --snapshot "$SRC" --port-file "$T/$name.port" --log "$L/$name.jsonl" \
		--cert "$P/server.crt" --key "$P/server.key" --token SA-TOKEN --metrics-server "$@" >"$T/$name.server.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.1; done
	[ -s "$T/$name.port" ] || { echo "deploy: the fake API server $name did not start: $(cat "$T/$name.server.log")" >&2; exit 1; }
	PORT=$(cat "$T/$name.port")
	cat >"$T/$name.kc" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: "https://127.0.0.1:$PORT", certificate-authority: "$P/ca.crt"}
users:
- name: sa
  user: {token: SA-TOKEN}
contexts:
- name: fake
  context: {cluster: fake, user: sa}
current-context: fake
EOF
}
start_server open
OPENPORT=$PORT
start_server rbac --rbac "$T/rendered.yaml"
RBACPORT=$PORT
$PY "$D/manifest_check.py" drop "$T/rendered.yaml" "" persistentvolumes "$T/rendered-nopv.yaml" >/dev/null
start_server nopv --rbac "$T/rendered-nopv.yaml"

from=$(lines "$L/open.jsonl")
cat "$T/state.yaml" <(echo ---) "$T/rendered.yaml" | kubectl_ "$T/open.kc" apply --dry-run=client --validate=false -f - >"$T/dry.out" 2>"$T/dry.err"
rc=$?
check "kubectl apply --dry-run=client: all 8 objects of cron/state and cron/ pass (exit $rc)" bash -c "
	[ $rc -eq 0 ] && [ \$(grep -c 'created (dry run)\$' '$T/dry.out') = 8 ] && ! test -s '$T/dry.err' || { cat '$T/dry.out' '$T/dry.err'; exit 1; }"
check "kubectl apply --dry-run=client: kubectl only read (GET) from the server" $PY -c "
import json
ls = [json.loads(l) for l in open('$L/open.jsonl').readlines()[$from:]]
assert ls and all(r['method'] == 'GET' for r in ls), [r for r in ls if r['method'] != 'GET']"
cat "$T/ephemeral.yaml" | kubectl_ "$T/open.kc" apply --dry-run=client --validate=false -f - >"$T/dry-eph.out" 2>&1
check "kubectl apply --dry-run=client: the ephemeral variant passes too" bash -c "[ $? -eq 0 ] || { cat '$T/dry-eph.out'; exit 1; }"
# the dry run can fail: a kind the server does not serve
sed 's/^kind: CronJob$/kind: CronJb/' "$T/rendered.yaml" | kubectl_ "$T/open.kc" apply --dry-run=client --validate=false -f - >"$T/dry-bad.out" 2>&1
rc=$?
check "kubectl apply --dry-run=client: a misspelt kind fails" bash -c "[ $rc -ne 0 ] && grep -q 'CronJb' '$T/dry-bad.out' || { cat '$T/dry-bad.out'; exit 1; }"

# ====================================================================== 3. RBAC
# kopilot run with no Prometheus: metrics-server is asked too (every list
# the role must grant); the same findings with and without the role
run_kc() { # run_kc NAME SERVER
	"$KOPILOT" run --kubeconfig "$T/$2.kc" --out "$R/$1" --now $NOW --quiet >"$R/$1.out" 2>"$R/$1.err"
	RC=$?
}
run_kc open open
check "kopilot run, no RBAC: exit 3 (metrics-server: low confidence)" bash -c "[ $RC -eq 3 ] || { tail -5 '$R/open.err'; exit 1; }"
from=$(lines "$L/rbac.jsonl")
run_kc rbac rbac
check "kopilot run under the rendered role: exit 3, as without it" bash -c "[ $RC -eq 3 ] || { tail -5 '$R/rbac.err'; exit 1; }"
check "kopilot run under the rendered role: the same findings as without RBAC" $CHECK findings "$R/rbac/findings.json" "$R/open/findings.json"
check "kopilot run under the rendered role: nothing missing but what the unrestricted run misses" $PY -c "
import json
a, b = json.load(open('$R/rbac/findings.json'))['missing'], json.load(open('$R/open/findings.json'))['missing']
assert [m['resource'] for m in a] == [m['resource'] for m in b], (a, b)"
check "kopilot run under the rendered role: Rollouts, VPAs and metrics-server were read" $PY -c "
import json
ps = {json.loads(l)['path'] for l in open('$L/rbac.jsonl').readlines()[$from:]}
for p in ('/apis/argoproj.io/v1alpha1/rollouts', '/apis/autoscaling.k8s.io/v1/verticalpodautoscalers', '/apis/metrics.k8s.io/v1beta1/pods'):
    assert p in ps, (p, sorted(ps))"
check "RBAC: no 403, and the role grants no (group, resource, verb) the run did not request" \
	$PY "$D/manifest_check.py" grants "$T/rendered.yaml" "$L/rbac.jsonl" "$from"
# the check can fail: a role granting watch too
$PY "$D/manifest_check.py" verb "$T/rendered.yaml" watch "$T/rendered-watch.yaml"
out=$($PY "$D/manifest_check.py" grants "$T/rendered-watch.yaml" "$L/rbac.jsonl" "$from" 2>&1) && rc=0 || rc=$?
[ $rc -eq 1 ] && grep -q "grants watch on pods in API group '', which the run never requested" <<<"$out" &&
	ok "RBAC: a role granting watch (never requested) fails the check" || not_ok "RBAC: a role granting watch (never requested) fails the check" "$out"

# a role without persistentvolumes: degraded, named, 403
run_kc nopv nopv
check "role without persistentvolumes: exit 3" bash -c "[ $RC -eq 3 ] || { tail -5 '$R/nopv.err'; exit 1; }"
check "role without persistentvolumes: findings.json missing names them with the 403 and the apiserver's message" \
	$CHECK missing "$R/nopv/findings.json" persistentvolumes \
	'Forbidden: persistentvolumes is forbidden: User "system:serviceaccount:kopilot:kopilot" cannot list resource "persistentvolumes" in API group "" at the cluster scope'
check "role without persistentvolumes: report.md's Not collected section names them (403)" bash -c "
	sed -n '/^## Not collected/,/^## [^N]/p' '$R/nopv/report.md' | grep persistentvolumes | grep -q 'Forbidden'"
check "role without persistentvolumes: no finding the complete run does not have" $CHECK subset "$R/nopv/findings.json" "$R/open/findings.json"

# the Status a refused request gets, and kubectl reading it
curl -sS --cacert "$P/ca.crt" -H 'Authorization: Bearer SA-TOKEN' "https://127.0.0.1:$RBACPORT/api/v1/secrets?limit=500" -o "$T/secrets.json" -w '%{http_code}' >"$T/secrets.code" 2>&1
check "RBAC: GET /api/v1/secrets is 403 with the apiserver's Status body" $PY -c "
import json
assert open('$T/secrets.code').read() == '403', open('$T/secrets.code').read()
want = {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
        'message': 'secrets is forbidden: User \"system:serviceaccount:kopilot:kopilot\" cannot list resource \"secrets\" in API group \"\" at the cluster scope',
        'reason': 'Forbidden', 'details': {'kind': 'secrets'}, 'code': 403}
got = json.load(open('$T/secrets.json'))
assert got == want and list(got) == list(want), got"
curl -sS --cacert "$P/ca.crt" -H 'Authorization: Bearer SA-TOKEN' "https://127.0.0.1:$RBACPORT/apis/apps/v1/namespaces/shop/deployments/web" -o "$T/getdeploy.json" 2>&1
check "RBAC: a get the role lacks names the object, its group and namespace" $PY -c "
import json
m = json.load(open('$T/getdeploy.json'))['message']
assert m == 'deployments.apps \"web\" is forbidden: User \"system:serviceaccount:kopilot:kopilot\" cannot get resource \"deployments\" in API group \"apps\" in the namespace \"shop\"', m"
kubectl_ "$T/rbac.kc" get secrets -A >"$T/kubectl-secrets.out" 2>&1
check "RBAC: kubectl get secrets -A shows the apiserver's Forbidden message" \
	grep -qF 'Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:kopilot:kopilot" cannot list resource "secrets" in API group "" at the cluster scope' "$T/kubectl-secrets.out"
kubectl_ "$T/rbac.kc" get pods -A --no-headers >"$T/kubectl-pods.out" 2>&1
check "RBAC: kubectl get pods -A works under the role (discovery allowed, list granted)" bash -c "
	[ \$(grep -c . '$T/kubectl-pods.out') -eq \$($PY -c \"import json; print(len(json.load(open('$DEMO/objects/pods.json'))['items']))\") ] || cat '$T/kubectl-pods.out'"

# ===================================================== 4. the CronJob's pod
mkdir -p "$T/sa" "$T/pvc"
cp "$P/ca.crt" "$T/sa/ca.crt" && printf 'SA-TOKEN' >"$T/sa/token" && printf 'kopilot' >"$T/sa/namespace"
chown 65532:65532 "$T/pvc"
# a sanitizer build's options reach the pod too (make asan), and its
# reports are what the pod prints on stderr
SANENV=()
for v in ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS; do [ -n "${!v:-}" ] && SANENV+=(--env "$v=${!v}"); done
# pod NAME SERVERPORT [pod.py args]: the pod run; its exit code in RC
pod() {
	local name=$1 port=$2; shift 2
	mkdir -p "$T/pod-$name"
	$PY "$D/pod.py" "$T/rendered.yaml" kopilot-nightly kopilot --binary "$KOPILOT" --work "$T/pod-$name" --sa "$T/sa" \
		--pvc kopilot-reports="$T/pvc" --env KUBERNETES_SERVICE_HOST=127.0.0.1 --env KUBERNETES_SERVICE_PORT="$port" \
		"${SANENV[@]}" "$@" >"$T/pod-$name.sh" 2>"$R/pod-$name.err" || { RC=99; return; }
	unshare --mount --pid --fork --mount-proc sh "$T/pod-$name.sh" >"$R/pod-$name.out" 2>>"$R/pod-$name.err"
	RC=$?
}
# the complete runs on the claim (a run directory with its findings.json)
runs() { ls "$T"/pvc/*/findings.json 2>/dev/null | grep -c .; }
from=$(lines "$L/rbac.jsonl")
pod night1 $RBACPORT
check "pod: the CronJob's command exits 0 (kopilot degraded: exit 3 is a finished run)" bash -c "
	[ $RC -eq 0 ] || { echo 'exit $RC'; tail -5 '$R/pod-night1.err'; exit 1; }"
check "pod: it read the cluster in-cluster (the service account), said so in JSON logs" bash -c "
	grep -q '\"msg\":\"collect: reading the cluster at https://127.0.0.1:$RBACPORT (in-cluster service account' '$R/pod-night1.err'"
check "pod: degraded because the configured Prometheus could not be read (it does not resolve here)" \
	grep -q 'usage: not measured: Prometheus could not be read' "$R/pod-night1.err"
check "pod: every request under the role allowed, with the service account's token" $PY -c "
import json
ls = [json.loads(l) for l in open('$L/rbac.jsonl').readlines()[$from:]]
assert ls and all(r['allowed'] and r['status'] == 200 and r['auth'] == 'token' for r in ls), [r for r in ls if not r['allowed'] or r['status'] != 200]"
night1=$(ls "$T/pvc" | grep -E '^[0-9]{8}T' | head -1)
check "pod: one run on the claim, by user 65532, with its reports" bash -c "
	[ $(runs) -eq 1 ] && [ \"\$(stat -c %u '$T/pvc/$night1')\" = 65532 ] && test -s '$T/pvc/$night1/report.html' && test -s '$T/pvc/$night1/findings.json'"
check "pod: nothing else written to the claim than the run (and the cache dir)" bash -c "
	extra=\$(ls -A '$T/pvc' | grep -vxE '$night1|\.cache|\.lock|\..*\.lock' || true); [ -z \"\$extra\" ] || { echo \"\$extra\"; exit 1; }"
run_kc ref rbac
check "pod: the same findings as kopilot run --kubeconfig on the same server with Prometheus down" bash -c "
	$CHECK findings '$T/pvc/$night1/findings.json' '$R/ref/findings.json' 2>&1 ||
	$PY -c \"import json; print(json.load(open('$T/pvc/$night1/findings.json'))['missing'])\""
sleep 1 # the next run's directory is named by the second
pod night2 $RBACPORT
night2=$(ls "$T/pvc" | grep -E '^[0-9]{8}T' | tail -1)
check "pod: the second night (exit $RC) compares with the first (findings.json changes.previous_run)" $PY -c "
import json
assert $RC == 0 and '$night2' != '$night1'
c = json.load(open('$T/pvc/$night2/findings.json'))['changes']
assert c['previous_run'] and c['previous_run'].rstrip('/').endswith('$night1'), c"
# the skill overlay: kopilot skills list in the pod finds it through SKILL_DIRS
cp "$T/skills.yaml" "$T/rendered-skills.yaml"
mkdir -p "$T/pod-skills"
$PY "$D/pod.py" "$T/rendered-skills.yaml" kopilot-nightly kopilot --binary "$KOPILOT" --work "$T/pod-skills" --sa "$T/sa" \
	--pvc kopilot-reports="$T/pvc" "${SANENV[@]}" --argv kopilot --argv skills --argv list >"$T/pod-skills.sh" 2>"$R/pod-skills.err" &&
	unshare --mount --pid --fork --mount-proc sh "$T/pod-skills.sh" >"$R/pod-skills.out" 2>>"$R/pod-skills.err"
rc=$?
check "pod: kopilot skills list finds the overlay's skill in SKILL_DIRS (/etc/kopilot-skills/finops.yaml)" bash -c "
	[ $rc -eq 0 ] && grep -qE '^finops +FinOps team +/etc/kopilot-skills/finops.yaml' '$R/pod-skills.out' || cat '$R/pod-skills.out' '$R/pod-skills.err'"
# the Secrets README tells users to create reach kopilot under the names it reads
cat >>"$T/kz/skills/kustomization.yaml" <<'EOF'
secretGenerator:
  - name: kopilot-llm
    namespace: kopilot
    literals: [OPENAI_API_KEY=sk-e2e-openai, AZURE_OPENAI_API_KEY=e2e-azure, ANTHROPIC_API_KEY=e2e-anthropic, GEMINI_API_KEY=e2e-gemini]
  - name: kopilot-git
    namespace: kopilot
    literals: [token=e2e-git-token]
  - name: kopilot-notify
    namespace: kopilot
    literals: [SLACK_WEBHOOK_URL=https://hooks.slack.invalid/services/T0/B0/e2e-slack-secret, NOTIFY_WEBHOOK_URL=https://hooks.invalid/e2e-hook-secret, PUSHGATEWAY_TOKEN=e2e-push-token]
EOF
kubectl kustomize "$T/kz/skills" >"$T/secrets.yaml" 2>"$T/secrets.err" || { echo "deploy: kubectl kustomize of the Secrets overlay failed: $(cat "$T/secrets.err")" >&2; exit 1; }
mkdir -p "$T/pod-config" "$T/pod-env"
$PY "$D/pod.py" "$T/secrets.yaml" kopilot-nightly kopilot --binary "$KOPILOT" --work "$T/pod-config" --sa "$T/sa" \
	--pvc kopilot-reports="$T/pvc" "${SANENV[@]}" --argv kopilot --argv config --argv show --argv=--config --argv /etc/kopilot/kopilot.yaml \
	>"$T/pod-config.sh" 2>"$R/pod-config.err" &&
	unshare --mount --pid --fork --mount-proc sh "$T/pod-config.sh" >"$R/pod-config.out" 2>>"$R/pod-config.err"
rc=$?
config_from() { # config_from KEY SOURCE_REGEX: kopilot config show says KEY came from there
	grep -qE "^$1 += .* +\\($2" "$R/pod-config.out" || { echo "$1: not from $2:"; grep -E "^$1 " "$R/pod-config.out"; return 1; }
}
check "pod: the four LLM keys come from the Secret kopilot-llm, the provider and Prometheus from kopilot.yaml (kopilot config show, exit $rc)" \
	bash -c "$(declare -f config_from); R='$R'; [ $rc -eq 0 ] || { cat '$R/pod-config.err'; exit 1; }
	config_from llm.openai_api_key 'env OPENAI_API_KEY' && config_from llm.azure_api_key 'env AZURE_OPENAI_API_KEY' &&
	config_from llm.anthropic_api_key 'env ANTHROPIC_API_KEY' && config_from llm.gemini_api_key 'env GEMINI_API_KEY' &&
	config_from llm.provider 'file /etc/kopilot/kopilot.yaml' && config_from prometheus.url 'file /etc/kopilot/kopilot.yaml' &&
	config_from notify.slack_webhook_url 'env SLACK_WEBHOOK_URL' && config_from notify.webhook_url 'env NOTIFY_WEBHOOK_URL' &&
	config_from metrics.pushgateway_token 'env PUSHGATEWAY_TOKEN' && config_from history.keep_runs 'file /etc/kopilot/kopilot.yaml'"
check "pod: the notification and Pushgateway secrets are masked in config show" bash -c "! grep -E 'e2e-slack-secret|e2e-hook-secret|e2e-push-token' '$R/pod-config.out'"
$PY "$D/pod.py" "$T/secrets.yaml" kopilot-nightly kopilot --binary "$KOPILOT" --work "$T/pod-env" --sa "$T/sa" \
	--pvc kopilot-reports="$T/pvc" --argv env >"$T/pod-env.sh" 2>"$R/pod-env.err" &&
	unshare --mount --pid --fork --mount-proc sh "$T/pod-env.sh" >"$T/pod-env.out" 2>>"$R/pod-env.err"
check "pod: the git token comes from the Secret kopilot-git as GIT_TOKEN" grep -qx 'GIT_TOKEN=e2e-git-token' "$T/pod-env.out"
check "pod: the LLM key's value is in none of kopilot's outputs and on no volume" bash -c "! grep -rl 'sk-e2e-openai' '$T/pvc' '$R'"
# nightly pull requests as README sets them up (pr.* in kopilot.yaml, the
# token from the Secret kopilot-git): a dry run from a clone of the
# repository over smart HTTP with the token, the clone kept on the claim
# (XDG_CACHE_HOME), everything else on the read-only root untouched.
# Usage from metrics-server (no prometheus.url) so there are resizes.
mkdir -p "$T/wc" "$T/srv/acme" "$T/pvc-pr" "$T/kz/pr" "$T/pod-pr"
cp -a "$ROOT/examples/demo-manifests/." "$T/wc/"
(cd "$T/wc" && git init -q -b main && git add -A && git -c user.name=e2e -c user.email=e2e@example.com commit -qm manifests &&
	git init -q --bare -b main "$T/srv/acme/manifests.git" && git push -q "$T/srv/acme/manifests.git" main) >"$T/git.log" 2>&1 ||
	{ echo "deploy: could not make the manifests repository: $(cat "$T/git.log")" >&2; exit 1; }
setsid $PY "$ROOT/tests/fakes/githttp.py" --root "$T/srv" --token e2e-git-token --port-file "$T/git.port" --log "$L/git.jsonl" >"$T/githttp.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/git.port" ] && break; sleep 0.1; done
[ -s "$T/git.port" ] || { echo "deploy: githttp.py did not start: $(cat "$T/githttp.log")" >&2; exit 1; }
GITURL=http://127.0.0.1:$(cat "$T/git.port")/acme/manifests.git
$PY - "$T/rendered.yaml" "$GITURL" >"$T/kz/pr/kopilot.yaml" <<'EOF'
import sys, yaml
cm = next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "ConfigMap" and d["metadata"]["name"] == "kopilot-config")
c = yaml.safe_load(cm["data"]["kopilot.yaml"])
del c["prometheus"]["url"]
c["pr"] = {"enabled": True, "repo": sys.argv[2], "dry_run": True}
print(yaml.safe_dump(c), end="")
EOF
cat >"$T/kz/pr/kustomization.yaml" <<'EOF'
resources: [../cron]
configMapGenerator:
  - name: kopilot-config
    namespace: kopilot
    behavior: merge
    files: [kopilot.yaml]
secretGenerator:
  - name: kopilot-git
    namespace: kopilot
    literals: [token=e2e-git-token]
generatorOptions: {disableNameSuffixHash: true}
EOF
kubectl kustomize "$T/kz/pr" >"$T/pr.yaml" 2>"$T/pr.err" || { echo "deploy: kubectl kustomize of the pr overlay failed: $(cat "$T/pr.err")" >&2; exit 1; }
chown 65532:65532 "$T/pvc-pr"
$PY "$D/pod.py" "$T/pr.yaml" kopilot-nightly kopilot --binary "$KOPILOT" --work "$T/pod-pr" --sa "$T/sa" \
	--pvc kopilot-reports="$T/pvc-pr" --env KUBERNETES_SERVICE_HOST=127.0.0.1 --env KUBERNETES_SERVICE_PORT=$RBACPORT \
	"${SANENV[@]}" >"$T/pod-pr.sh" 2>"$R/pod-pr.err" &&
	unshare --mount --pid --fork --mount-proc sh "$T/pod-pr.sh" >"$R/pod-pr.out" 2>>"$R/pod-pr.err"
rc=$?
"$KOPILOT" run --kubeconfig "$T/rbac.kc" --out "$R/prref" --now $NOW --quiet --pr --repo "$T/wc" --dry-run >/dev/null 2>"$R/prref.err"
prrun=$(ls "$T/pvc-pr" | grep -E '^[0-9]{8}T' | head -1)
check "pod with pull requests: exit $rc, a dry run from the clone with the same resizes as one from a checkout" $PY -c "
import json, os
assert $rc == 0, 'exit $rc: ' + open('$R/pod-pr.err', errors='replace').read()[-1500:]
a = json.load(open('$T/pvc-pr/$prrun/pr/index.json')); b = json.load(open('$R/prref/pr/index.json'))
assert a['dry_run'] is True and a['repo'] == '$GITURL', a
# the resizes alike; the cleanups listed for approval depend on ages, and
# the pod's run has no --now
key = lambda p: {k: v for k, v in p.items() if k != 'cleanups_for_approval'}
assert a['pull_requests'] and list(map(key, a['pull_requests'])) == list(map(key, b['pull_requests'])), (a, b)
pa = sorted(f for f in os.listdir('$T/pvc-pr/$prrun/pr') if f.endswith('.patch'))
assert pa == sorted(f for f in os.listdir('$R/prref/pr') if f.endswith('.patch')), pa"
check "pod with pull requests: the clone is kept on the claim (XDG_CACHE_HOME), by user 65532" bash -c "
	d=\$(find '$T/pvc-pr/.cache/kopilot/repos' -mindepth 1 -maxdepth 1 -type d | head -1); [ -n \"\$d\" ] && [ \"\$(stat -c %u \"\$d\")\" = 65532 ] ||
	{ find '$T/pvc-pr' -maxdepth 4; exit 1; }"
check "pod with pull requests: the git server saw the token (authenticated fetches), it is nowhere on the claim" bash -c "
	grep -q '\"status\": 200' '$L/git.jsonl' && ! grep -rl 'e2e-git-token' '$T/pvc-pr' '$R/pod-pr.out' '$R/pod-pr.err' || { cat '$L/git.jsonl' | tail -3; exit 1; }"
# SIGTERM (activeDeadlineSeconds, a drain) reaches kopilot through the
# shell that is PID 1: the pod ends with kopilot's 143, not after the run
echo '[{"path": "/api/v1/pods", "sleep": 60}]' >"$T/slow.faults"
start_server slow --rbac "$T/rendered.yaml" --faults "$T/slow.faults"
SLOWPORT=$PORT
mkdir -p "$T/pod-term"
$PY "$D/pod.py" "$T/rendered.yaml" kopilot-nightly kopilot --binary "$KOPILOT" --work "$T/pod-term" --sa "$T/sa" \
	--pvc kopilot-reports="$T/pvc" --env KUBERNETES_SERVICE_HOST=127.0.0.1 --env KUBERNETES_SERVICE_PORT=$SLOWPORT \
	"${SANENV[@]}" >"$T/pod-term.sh"
unshare --mount --pid --fork --mount-proc sh "$T/pod-term.sh" >"$R/pod-term.out" 2>"$R/pod-term.err" &
upid=$!
# PID 1 of the pod is unshare's child; the signal goes when kopilot is
# waiting for the pods list (its other lists are in the fake's log)
pid1=
for _ in $(seq 300); do
	pid1=$(pgrep -P $upid | head -1)
	[ -n "$pid1" ] && grep -q '"/apis/apps/v1/deployments"' "$L/slow.jsonl" 2>/dev/null && break
	sleep 0.1
done
if [ -n "$pid1" ]; then kill -TERM "$pid1"; fi
wait $upid
rc=$?
check "pod: SIGTERM to PID 1 stops kopilot (exit 143, not a finished run) and leaves the two runs" bash -c "
	[ -n '$pid1' ] && [ $rc -eq 143 ] && [ $(runs) -eq 2 ] || { echo 'pid1=$pid1 exit $rc runs $(runs)'; ls -la '$T/pvc'; tail -3 '$R/pod-term.err'; exit 1; }"
check "pod: no kopilot process of the pod is left" bash -c "! pgrep -f '^[k]opilot run --config /etc/kopilot/kopilot.yaml --state-dir /var/lib/kopilot\$'"

check "no sanitizer report in any kopilot's stderr" bash -c "! grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$R'/*.err"

finish
