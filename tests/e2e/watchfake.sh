#!/usr/bin/env bash
# The fake API server's watch, its AITask custom resource and its status
# writes (tests/fakes/kubeapi.py), proven faithful with the real kubectl
# (and curl) over TLS with a bearer token, as tests/e2e/live.sh runs it:
#   1. discovery: kubedevaiops.io/v1alpha1 aitasks (short name ait) with
#      its status subresource in kubectl api-resources; kubectl get aitasks
#      -A and get events -A list the seeded objects; list items carry
#      apiVersion and kind for the custom resource only;
#   2. kubectl get --watch --output-watch-events: ADDED for the existing
#      objects, then MODIFIED and DELETED as /_test/objects changes them;
#      get NAME --watch sees that object only (fieldSelector metadata.name);
#      events are watched the same way;
#   3. kubectl patch --subresource=status --type=merge changes status only
#      (spec in the patch is ignored), bumps the resourceVersion, a watch
#      sees the MODIFIED; other patch types are 415, an unknown object 404,
#      every other write 405;
#   4. resourceVersion semantics: a watch from a list's resourceVersion
#      replays what changed after it; after /_test/compact an older one
#      gets the 410 Expired ERROR event; timeoutSeconds ends the stream
#      cleanly; BOOKMARK events with allowWatchBookmarks=true (chunked,
#      application/json); /_test/drop-watches ends every stream and a
#      client resumes from its last resourceVersion (seen in /_test/watches);
#   5. the request log: the API requests, no /_test/ control.
# Takes about half a minute. Ends with "watchfake: N passed, N failed".
#
#   bash tests/e2e/watchfake.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=/usr/bin/python3
FAKE=$ROOT/tests/fakes/kubeapi.py
SUITE=watchfake
. "$ROOT/tests/e2e/lib.sh"
need openssl openssl
need kubectl kubernetes-client
need curl curl
need timeout coreutils
need setsid util-linux
need $PY python3

fakes_tempdir watchfake
unset KUBECONFIG KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT
export HOME=$T/home
mkdir -p "$T/home" "$T/snap/objects" "$T/pki"

# ---------------------------------------------------------------- fixtures
cat >"$T/snap/objects/aitasks.json" <<'EOF'
{"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
 {"apiVersion": "kubedevaiops.io/v1alpha1", "kind": "AITask",
  "metadata": {"name": "rightsize-checkout", "namespace": "checkout", "uid": "6f1c2a52-0d1e-4a53-9a44-3f0b7b1e0001",
               "creationTimestamp": "2026-12-01T10:00:00Z", "generation": 1, "resourceVersion": "4100"},
  "spec": {"goal": "find the waste of checkout", "namespace": "checkout"}, "status": {"phase": "Pending"}},
 {"apiVersion": "kubedevaiops.io/v1alpha1", "kind": "AITask",
  "metadata": {"name": "explain-oom", "namespace": "payments", "uid": "6f1c2a52-0d1e-4a53-9a44-3f0b7b1e0002",
               "creationTimestamp": "2026-12-01T11:00:00Z", "generation": 1, "resourceVersion": "4200"},
  "spec": {"goal": "explain the OOMKill of payments-api"}}
]}
EOF
cat >"$T/snap/objects/namespaces.json" <<'EOF'
{"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "checkout", "resourceVersion": "310"}, "status": {"phase": "Active"}},
 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "payments", "resourceVersion": "320"}, "status": {"phase": "Active"}}
]}
EOF
cat >"$T/snap/objects/events.json" <<'EOF'
{"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
 {"apiVersion": "v1", "kind": "Event",
  "metadata": {"name": "payments-api-7c9.17f2a", "namespace": "payments", "resourceVersion": "4300",
               "creationTimestamp": "2026-12-01T11:00:00Z"},
  "involvedObject": {"kind": "Pod", "namespace": "payments", "name": "payments-api-7c9"},
  "reason": "OOMKilling", "message": "Memory cgroup out of memory", "type": "Warning", "count": 3,
  "firstTimestamp": "2026-12-01T10:58:00Z", "lastTimestamp": "2026-12-01T11:00:00Z", "source": {"component": "kubelet"}}
]}
EOF

P=$T/pki
openssl_() { openssl "$@" >>"$T/openssl.log" 2>&1 || { echo "watchfake: openssl $1 failed: $(tail -3 "$T/openssl.log")" >&2; exit 1; }; }
openssl_ req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 2 -subj "/CN=kopilot-e2e-ca"
openssl_ req -newkey rsa:2048 -nodes -keyout "$P/server.key" -out "$P/server.csr" -subj "/CN=kube-apiserver"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$P/server.ext"
openssl_ x509 -req -in "$P/server.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -out "$P/server.crt" -days 2 -extfile "$P/server.ext"

TOKEN=WATCH-TOKEN
LOG=$T/requests.jsonl
setsid $PY "$FAKE" --snapshot "$T/snap" --port-file "$T/port" --log "$LOG" --cert "$P/server.crt" --key "$P/server.key" \
	--token $TOKEN --bookmark-interval 0.5 >"$T/server.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || { echo "watchfake: the fake API server did not start: $(cat "$T/server.out")" >&2; exit 1; }
SRV=https://127.0.0.1:$(cat "$T/port")
KC=$T/kubeconfig.yaml
cat >"$KC" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: $SRV
    certificate-authority: $P/ca.crt
users:
- name: u
  user:
    token: $TOKEN
contexts:
- name: fake
  context:
    cluster: fake
    user: u
current-context: fake
EOF
G=/apis/kubedevaiops.io/v1alpha1
kc() { kubectl --kubeconfig "$KC" --cache-dir="$T/kcache" --request-timeout=20s "$@"; }
# kw OUT ARGS...: a kubectl watch in the background (no request timeout: it streams)
KW=()
kw() { local out=$1; shift; setsid kubectl --kubeconfig "$KC" --cache-dir="$T/kcache" "$@" >"$out" 2>"$out.err" & PIDS+=($!); KW+=($!); }
# kw_exits: the exit codes of the kubectl watches, once they end (kubectl get
# --watch ends when the server ends the stream); in this shell, their parent
kw_exits() {
	local p i
	KW_RC=
	for p in "${KW[@]}"; do
		for i in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		wait "$p"
		KW_RC+=" $?"
	done
}
ctl() { curl -sS --cacert "$P/ca.crt" -X "$1" "$SRV/_test/$2" ${3:+-d "$3"}; }  # the test controls
api() { curl -sS --cacert "$P/ca.crt" -H "Authorization: Bearer $TOKEN" "$@"; }
list_rv() { api "$SRV$G/aitasks" | $PY -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])'; }
# events FILE: the watch events kubectl printed (-o json: concatenated objects), as TYPE NAME PHASE GOAL lines
events() {
	$PY - "$1" <<'PYEOF'
import json, sys
text, dec, i = open(sys.argv[1]).read(), json.JSONDecoder(), 0
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    e, i = dec.raw_decode(text, i)
    o = e["object"]
    print(e["type"], o["metadata"]["name"], (o.get("status") or {}).get("phase", "-"), (o.get("spec") or {}).get("goal", "-").replace(" ", "_"))
PYEOF
}
# wait_for FILE PATTERN [SECONDS]: until `events FILE` has a line matching PATTERN
wait_for() {
	local i
	for i in $(seq $((${3:-30} * 10))); do events "$1" 2>/dev/null | grep -qE -- "$2" && return 0; sleep 0.1; done
	echo "no event matching /$2/ in $1:"; events "$1" 2>&1; cat "$1.err" 2>/dev/null; return 1
}
# open_watches N: until /_test/watches says N are open
open_watches() {
	local i
	for i in $(seq 300); do [ "$(ctl GET watches | $PY -c 'import json,sys; print(json.load(sys.stdin)["open"])')" = "$1" ] && return 0; sleep 0.1; done
	echo "open watches: $(ctl GET watches)"; return 1
}

# ============================================================ 1. discovery
check "kubectl api-resources: aitasks, short name ait, kubedevaiops.io/v1alpha1, namespaced, AITask" bash -c "
	kubectl --kubeconfig '$KC' --cache-dir='$T/kcache' api-resources 2>&1 | grep -E '^aitasks +ait +kubedevaiops.io/v1alpha1 +true +AITask *$'"
check "kubectl api-resources: events, short name ev (core v1)" bash -c "
	kubectl --kubeconfig '$KC' --cache-dir='$T/kcache' api-resources 2>&1 | grep -E '^events +ev +v1 +true +Event *$'"
check "discovery: aitasks verbs get/list/watch/patch/update, aitasks/status get/patch/update; /apis lists the group" $PY -c "
import json, subprocess
def raw(p): return json.loads(subprocess.check_output(['kubectl', '--kubeconfig', '$KC', 'get', '--raw', p]))
rl = {r['name']: r for r in raw('$G')['resources']}
assert rl['aitasks']['verbs'] == ['get', 'list', 'watch', 'patch', 'update'] and rl['aitasks']['shortNames'] == ['ait'], rl
assert rl['aitasks/status']['verbs'] == ['get', 'patch', 'update'] and rl['aitasks/status']['kind'] == 'AITask', rl
gs = {g['name']: g for g in raw('/apis')['groups']}
assert gs['kubedevaiops.io']['preferredVersion']['groupVersion'] == 'kubedevaiops.io/v1alpha1', gs
assert 'watch' in {r['name']: r for r in raw('/api/v1')['resources']}['events']['verbs']"
out=$(kc get aitasks -A --no-headers 2>&1)
check "kubectl get aitasks -A: the two seeded AITasks" bash -c "
	[ \$(grep -c . <<<'$out') -eq 2 ] && grep -qE '^checkout +rightsize-checkout ' <<<'$out' && grep -qE '^payments +explain-oom ' <<<'$out' || { echo '$out'; exit 1; }"
check "kubectl get ait -n payments -o name: the short name and a namespace" bash -c "
	[ \"\$(kubectl --kubeconfig '$KC' --cache-dir='$T/kcache' get ait -n payments -o name 2>&1)\" = aitask.kubedevaiops.io/explain-oom ]"
check "kubectl get events -A: the seeded event" bash -c "
	kubectl --kubeconfig '$KC' --cache-dir='$T/kcache' get events -A --no-headers 2>&1 | grep -qE '^payments +payments-api-7c9.17f2a '"
check "list items: apiVersion and kind on AITasks, not on events (a built-in type); the List's resourceVersion is the store's" $PY -c "
import json, subprocess
def raw(p): return json.loads(subprocess.check_output(['kubectl', '--kubeconfig', '$KC', 'get', '--raw', p]))
a, e = raw('$G/aitasks'), raw('/api/v1/events')
assert a['kind'] == 'AITaskList' and all(i['kind'] == 'AITask' and i['apiVersion'] == 'kubedevaiops.io/v1alpha1' for i in a['items']), a
assert e['kind'] == 'EventList' and all('kind' not in i and 'apiVersion' not in i for i in e['items']), e
assert a['metadata']['resourceVersion'] == e['metadata']['resourceVersion'] == '4300', (a['metadata'], e['metadata'])"

# without objects/aitasks.json: served with --crd-aitasks (none), not served without it
mkdir -p "$T/bare/objects" && cp "$T/snap/objects/namespaces.json" "$T/bare/objects/"
for v in crd plain; do
	setsid $PY "$FAKE" --snapshot "$T/bare" --port-file "$T/$v.port" --cert "$P/server.crt" --key "$P/server.key" \
		--token $TOKEN $([ $v = crd ] && echo --crd-aitasks) >"$T/$v.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$T/$v.port" ] && break; sleep 0.1; done
	sed "s|$SRV|https://127.0.0.1:$(cat "$T/$v.port")|" "$KC" >"$T/$v.yaml"
done
check "--crd-aitasks without objects/aitasks.json: kubectl get aitasks -A finds none, api-resources lists it" bash -c "
	out=\$(kubectl --kubeconfig '$T/crd.yaml' --cache-dir='$T/kcache-crd' get aitasks -A 2>&1) && grep -q 'No resources found' <<<\"\$out\" || { echo \"\$out\"; exit 1; }
	kubectl --kubeconfig '$T/crd.yaml' --cache-dir='$T/kcache-crd' api-resources 2>&1 | grep -qE '^aitasks +ait '"
expect_exit "neither: kubectl get aitasks fails, the server does not have the type" 1 "doesn't have a resource type" -- \
	kubectl --kubeconfig "$T/plain.yaml" --cache-dir="$T/kcache-plain" get aitasks -A

# ============================================================= 2. kubectl watch
kw "$T/w-all.json" get aitasks -A --watch --output-watch-events -o json
kw "$T/w-one.json" get aitask explain-oom -n payments --watch --output-watch-events -o json
kw "$T/w-ev.txt" get events -A --watch -o name
kw "$T/w-table.txt" get aitasks -A --watch
check "kubectl get aitasks -A --watch: ADDED for both existing AITasks" bash -c "
	$(declare -f events wait_for); PY=$PY
	wait_for '$T/w-all.json' '^ADDED rightsize-checkout Pending' && wait_for '$T/w-all.json' '^ADDED explain-oom -'"
check "four watches open (kubectl lists, then watches)" open_watches 4
check "/_test/watches: the list watches asked for the list's resourceVersion 4300; get NAME --watch for 0 with fieldSelector metadata.name" $PY -c "
import json, subprocess
w = json.loads(subprocess.check_output(['curl', '-sS', '--cacert', '$P/ca.crt', '$SRV/_test/watches']))['watches']
one = [x for x in w if x['name'] == 'explain-oom']
assert len(one) == 1 and one[0]['path'] == '$G/namespaces/payments/aitasks' and 'fieldSelector=metadata.name' in one[0]['query'], w
assert one[0]['resourceVersion'] == '0' and one[0]['events'] == 1, one
assert sorted(x['path'] for x in w if x is not one[0] and x['resourceVersion'] == '4300') == sorted(['$G/aitasks', '$G/aitasks', '/api/v1/events']), w"
resp=$(ctl POST objects/aitasks '{"apiVersion": "kubedevaiops.io/v1alpha1", "kind": "AITask", "metadata": {"name": "rightsize-checkout", "namespace": "checkout"}, "spec": {"goal": "find the waste of checkout and cart"}, "status": {"phase": "Pending"}}')
check "POST /_test/objects/aitasks (a replacement): MODIFIED at 4301, uid and creationTimestamp kept, generation 2" $PY -c "
import json; r = json.loads('''$resp''')
md = r['object']['metadata']
assert r['type'] == 'MODIFIED' and r['resourceVersion'] == '4301' and md['resourceVersion'] == '4301', r
assert md['uid'] == '6f1c2a52-0d1e-4a53-9a44-3f0b7b1e0001' and md['creationTimestamp'] == '2026-12-01T10:00:00Z' and md['generation'] == 2, md"
check "kubectl watch: MODIFIED after the POST" bash -c "
	$(declare -f events wait_for); PY=$PY; wait_for '$T/w-all.json' '^MODIFIED rightsize-checkout Pending find_the_waste_of_checkout_and_cart'"
ctl POST objects/aitasks '{"metadata": {"name": "scale-cart", "namespace": "checkout"}, "spec": {"goal": "scale cart"}}' >/dev/null
check "kubectl watch: ADDED for a new one" bash -c "
	$(declare -f events wait_for); PY=$PY; wait_for '$T/w-all.json' '^ADDED scale-cart - scale_cart'"
check "kubectl get aitasks -A --watch (a table): the two rows, then the new one" bash -c "
	for i in \$(seq 100); do grep -qE '^checkout +scale-cart ' '$T/w-table.txt' && break; sleep 0.1; done
	grep -qE '^NAMESPACE +NAME +AGE' '$T/w-table.txt' && grep -qE '^payments +explain-oom ' '$T/w-table.txt' && grep -qE '^checkout +scale-cart ' '$T/w-table.txt' ||
		{ cat '$T/w-table.txt' '$T/w-table.txt.err'; exit 1; }"
resp=$(ctl DELETE objects/aitasks/checkout/scale-cart)
check "DELETE /_test/objects/aitasks/checkout/scale-cart: DELETED at 4303" bash -c "grep -q '\"type\": \"DELETED\", \"resourceVersion\": \"4303\"' <<<'$resp' || { echo '$resp'; exit 1; }"
check "kubectl watch: DELETED" bash -c "
	$(declare -f events wait_for); PY=$PY; wait_for '$T/w-all.json' '^DELETED scale-cart'"
check "DELETE of an unknown object: 404" bash -c "
	[ \$(curl -s -o /dev/null -w '%{http_code}' --cacert '$P/ca.crt' -X DELETE '$SRV/_test/objects/aitasks/checkout/nope') = 404 ]"
ctl POST objects/events '{"metadata": {"name": "cart-1.17f2b", "namespace": "checkout"}, "involvedObject": {"kind": "Pod", "namespace": "checkout", "name": "cart-1"}, "reason": "BackOff", "message": "Back-off restarting failed container", "type": "Warning"}' >/dev/null
check "kubectl get events -A --watch: the seeded event, then the new one" bash -c "
	for i in \$(seq 100); do grep -q 'event/cart-1.17f2b' '$T/w-ev.txt' && break; sleep 0.1; done
	grep -q 'event/payments-api-7c9.17f2a' '$T/w-ev.txt' && grep -q 'event/cart-1.17f2b' '$T/w-ev.txt' || { cat '$T/w-ev.txt' '$T/w-ev.txt.err'; exit 1; }"

# ======================================================== 3. status patches
out=$(kc patch aitask explain-oom -n payments --subresource=status --type=merge -p '{"status":{"phase":"Running"}}' 2>&1)
check "kubectl patch --subresource=status --type=merge: patched" bash -c "[ '$out' = 'aitask.kubedevaiops.io/explain-oom patched' ] || { echo '$out'; exit 1; }"
check "the watches see the MODIFIED (phase Running), get NAME --watch too" bash -c "
	$(declare -f events wait_for); PY=$PY
	wait_for '$T/w-all.json' '^MODIFIED explain-oom Running' && wait_for '$T/w-one.json' '^MODIFIED explain-oom Running'"
out=$(kc patch aitask explain-oom -n payments --subresource=status --type=merge \
	-p '{"spec":{"goal":"HIJACKED"},"metadata":{"labels":{"x":"y"}},"status":{"phase":"Succeeded","summary":"a memory limit of 256Mi"}}' 2>&1)
check "a status merge patch that also sets spec and labels: patched" bash -c "[ '$out' = 'aitask.kubedevaiops.io/explain-oom patched' ] || { echo '$out'; exit 1; }"
check "... changed status only: spec and labels as they were, generation 1, resourceVersion bumped" $PY -c "
import json, subprocess
o = json.loads(subprocess.check_output(['kubectl', '--kubeconfig', '$KC', 'get', 'aitask', 'explain-oom', '-n', 'payments', '-o', 'json']))
assert o['spec'] == {'goal': 'explain the OOMKill of payments-api'}, o['spec']
assert 'labels' not in o['metadata'] and o['metadata']['generation'] == 1, o['metadata']
assert o['status'] == {'phase': 'Succeeded', 'summary': 'a memory limit of 256Mi'}, o['status']
assert int(o['metadata']['resourceVersion']) > 4304, o['metadata']"
check "get aitask NAME --watch saw only that object (no event of rightsize-checkout or scale-cart)" bash -c "
	$(declare -f events wait_for); PY=$PY; wait_for '$T/w-one.json' '^MODIFIED explain-oom Succeeded'
	! events '$T/w-one.json' | grep -vq ' explain-oom '"
out=$(kc patch aitask explain-oom -n payments --subresource=status --type=merge -p '{"status":{"phase":"Succeeded","summary":"a memory limit of 256Mi"}}' 2>&1)
check "a status patch that changes nothing: patched (no change)" bash -c "[ '$out' = 'aitask.kubedevaiops.io/explain-oom patched (no change)' ] || { echo '$out'; exit 1; }"
expect_exit "kubectl patch --subresource=status --type=json: 415 Unsupported Media Type" 1 'unknown format|UnsupportedMediaType|415' -- \
	kc patch aitask explain-oom -n payments --subresource=status --type=json -p '[{"op":"replace","path":"/status/phase","value":"Failed"}]'
expect_exit "kubectl patch of an unknown AITask's status: NotFound" 1 'aitasks.kubedevaiops.io "nope" not found' -- \
	kc patch aitask nope -n payments --subresource=status --type=merge -p '{"status":{"phase":"Running"}}'
check "a status merge patch for an unknown AITask (curl): 404 Status" bash -c "
	out=\$(curl -sS --cacert '$P/ca.crt' -H 'Authorization: Bearer $TOKEN' -X PATCH -H 'Content-Type: application/merge-patch+json' \
		-d '{\"status\":{}}' '$SRV$G/namespaces/payments/aitasks/nope/status')
	grep -q '\"code\": 404' <<<\"\$out\" && grep -q '\"reason\": \"NotFound\"' <<<\"\$out\" || { echo \"\$out\"; exit 1; }"
check "a status merge patch with a stale metadata.resourceVersion: 409 Conflict" bash -c "
	out=\$(curl -sS --cacert '$P/ca.crt' -H 'Authorization: Bearer $TOKEN' -X PATCH -H 'Content-Type: application/merge-patch+json' \
		-d '{\"metadata\":{\"resourceVersion\":\"4200\"},\"status\":{\"phase\":\"Failed\"}}' '$SRV$G/namespaces/payments/aitasks/explain-oom/status')
	grep -q '\"code\": 409' <<<\"\$out\" || { echo \"\$out\"; exit 1; }"
check "a status merge patch without a token: 401" bash -c "
	[ \$(curl -s -o /dev/null -w '%{http_code}' --cacert '$P/ca.crt' -X PATCH -H 'Content-Type: application/merge-patch+json' \
		-d '{\"status\":{}}' '$SRV$G/namespaces/payments/aitasks/explain-oom/status') = 401 ]"
expect_exit "kubectl patch without --subresource (spec): 405, only status is writable" 1 'MethodNotAllowed|not allowed|only GET' -- \
	kc patch aitask explain-oom -n payments --type=merge -p '{"spec":{"goal":"x"}}'
expect_exit "kubectl delete aitask: 405" 1 'MethodNotAllowed|not allowed|only GET' -- kc delete aitask explain-oom -n payments --wait=false
expect_exit "kubectl patch event (a built-in type): 405 as before" 1 'MethodNotAllowed|not allowed|only GET' -- \
	kc patch event payments-api-7c9.17f2a -n payments --type=merge -p '{"message":"x"}'

# ========================================= 4. resourceVersion, bookmarks, drops
RV=$(list_rv)
ctl POST objects/aitasks '{"metadata": {"name": "after-rv", "namespace": "payments"}, "spec": {"goal": "replayed"}}' >/dev/null
out=$(timeout 20 kubectl --kubeconfig "$KC" get --raw "$G/aitasks?watch=1&resourceVersion=$RV&timeoutSeconds=1" 2>&1)
check "watch from a list's resourceVersion (kubectl get --raw): only what changed after it, then ends at timeoutSeconds" $PY -c "
import json
ls = [json.loads(l) for l in '''$out'''.splitlines()]
assert [(e['type'], e['object']['metadata']['name']) for e in ls] == [('ADDED', 'after-rv')], ls
assert int(ls[0]['object']['metadata']['resourceVersion']) == $RV + 1, ls"
out=$(timeout 20 kubectl --kubeconfig "$KC" get --raw "$G/namespaces/checkout/aitasks?watch=true&resourceVersion=$RV&timeoutSeconds=1" 2>&1)
check "the same per namespace (checkout): nothing" bash -c "[ -z '$out' ]"
out=$(timeout 20 kubectl --kubeconfig "$KC" get --raw "$G/aitasks?watch=1&resourceVersion=0&timeoutSeconds=1" 2>&1)
check "watch from resourceVersion 0: ADDED for the three existing AITasks" bash -c "
	[ \$(grep -c '\"type\":\"ADDED\"' <<<'$out') -eq 3 ] && [ \$(grep -c . <<<'$out') -eq 3 ] || { echo '$out'; exit 1; }"
CUR=$(list_rv)
resp=$(ctl POST compact)
check "POST /_test/compact: compacted at the current resourceVersion" bash -c "[ '$resp' = '{\"compacted\": \"$CUR\"}' ] || { echo '$resp'; exit 1; }"
out=$(timeout 20 kubectl --kubeconfig "$KC" get --raw "$G/aitasks?watch=1&resourceVersion=$RV" 2>&1)
check "after compaction, a watch from an older resourceVersion: one ERROR event, 410 Expired, and the stream ends" $PY -c "
import json
ls = '''$out'''.splitlines()
assert len(ls) == 1, ls
e = json.loads(ls[0])
assert e == {'type': 'ERROR', 'object': {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
    'message': 'too old resource version: $RV ($CUR)', 'reason': 'Expired', 'code': 410}}, e"
out=$(timeout 20 kubectl --kubeconfig "$KC" get --raw "$G/aitasks?watch=1&resourceVersion=$CUR&timeoutSeconds=1" 2>&1)
check "a watch from the compaction's resourceVersion: no error, no event" bash -c "[ -z '$out' ]"
api -D "$T/bm.headers" -N --max-time 20 "$SRV$G/aitasks?watch=1&resourceVersion=$CUR&allowWatchBookmarks=true&timeoutSeconds=2" >"$T/bm.out" 2>"$T/bm.err"
rc=$?
check "curl: allowWatchBookmarks=true gives BOOKMARK events (every 0.5 s) with the current resourceVersion; timeoutSeconds ends it cleanly" $PY -c "
import json
assert $rc == 0, 'curl exit $rc: ' + open('$T/bm.err').read()
ls = [json.loads(l) for l in open('$T/bm.out')]
assert len(ls) >= 2 and all(e == {'type': 'BOOKMARK', 'object': {'kind': 'AITask', 'apiVersion': 'kubedevaiops.io/v1alpha1',
    'metadata': {'resourceVersion': '$CUR'}}} for e in ls), ls"
check "the watch response: 200, application/json, chunked" bash -c "
	grep -qi '^HTTP/1.1 200' '$T/bm.headers' && grep -qi '^content-type: application/json' '$T/bm.headers' && grep -qi '^transfer-encoding: chunked' '$T/bm.headers' || { cat '$T/bm.headers'; exit 1; }"
check "events: bookmarks of kind Event, apiVersion v1" bash -c "
	api() { curl -sS --cacert '$P/ca.crt' -H 'Authorization: Bearer $TOKEN' \"\$@\"; }
	api -N --max-time 20 '$SRV/api/v1/namespaces/payments/events?watch=1&resourceVersion=$CUR&allowWatchBookmarks=true&timeoutSeconds=1' |
		head -1 | grep -qx '{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Event\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"$CUR\"}}}'"
check "a watch without a token: 401" bash -c "
	[ \$(curl -s -o /dev/null -w '%{http_code}' --cacert '$P/ca.crt' '$SRV$G/aitasks?watch=1') = 401 ]"

# drop: a curl watch ends cleanly, a change meanwhile, the client resumes from the last resourceVersion it saw
api -N --max-time 30 "$SRV$G/aitasks?watch=1&resourceVersion=$CUR" >"$T/drop1.out" 2>"$T/drop1.err" &
C1=$!
check "five watches open (four kubectl, one curl)" open_watches 5
ctl POST objects/aitasks '{"metadata": {"name": "before-drop", "namespace": "payments"}, "spec": {"goal": "seen"}}' >/dev/null
for _ in $(seq 50); do grep -q before-drop "$T/drop1.out" && break; sleep 0.1; done
resp=$(ctl POST drop-watches)
wait $C1
rc=$?
check "POST /_test/drop-watches: all five dropped; curl's stream ended cleanly (exit 0) after the event" bash -c "
	[ '$resp' = '{\"dropped\": 5}' ] && [ $rc -eq 0 ] && grep -q before-drop '$T/drop1.out' || { echo '$resp rc=$rc'; cat '$T/drop1.out' '$T/drop1.err'; exit 1; }"
kw_exits
check "kubectl get --watch (all four) ended with exit 0 when the server ended its stream" bash -c "[ '$KW_RC' = ' 0 0 0 0' ] || { echo 'exit codes:$KW_RC'; exit 1; }"
check "no watch open after the drop" open_watches 0
LAST=$($PY -c "import json; print([json.loads(l) for l in open('$T/drop1.out')][-1]['object']['metadata']['resourceVersion'])")
ctl POST objects/aitasks '{"metadata": {"name": "while-away", "namespace": "payments"}, "spec": {"goal": "missed"}}' >/dev/null
api -N --max-time 20 "$SRV$G/aitasks?watch=1&resourceVersion=$LAST&timeoutSeconds=1" >"$T/drop2.out" 2>"$T/drop2.err"
check "resumed from the last resourceVersion seen ($LAST): the change made while away, only it" bash -c "
	[ \$(grep -c . '$T/drop2.out') -eq 1 ] && grep -q '\"type\":\"ADDED\".*while-away' '$T/drop2.out' || { cat '$T/drop2.out' '$T/drop2.err'; exit 1; }"
check "/_test/watches: the resumed watch asked for resourceVersion $LAST" $PY -c "
import json, subprocess
r = json.loads(subprocess.check_output(['curl', '-sS', '--cacert', '$P/ca.crt', '$SRV/_test/watches']))
assert r['open'] == 0, r
last = r['recent'][-1]
assert last['resourceVersion'] == '$LAST' and last['path'] == '$G/aitasks' and last['events'] == 1 and not last['open'], last"

# paging stays consistent across a change: a continue token pages the list it started
check "a continue token pages the list it started, across a change (the pages are of one resourceVersion)" $PY -c "
import json, subprocess
def raw(p): return json.loads(subprocess.check_output(['kubectl', '--kubeconfig', '$KC', 'get', '--raw', p]))
p1 = raw('$G/aitasks?limit=2')
subprocess.check_output(['curl', '-sS', '--cacert', '$P/ca.crt', '-X', 'DELETE', '$SRV/_test/objects/aitasks/payments/while-away'])
p2 = raw('$G/aitasks?limit=10&continue=' + p1['metadata']['continue'])
names = [i['metadata']['name'] for i in p1['items'] + p2['items']]
assert names == ['rightsize-checkout', 'after-rv', 'before-drop', 'explain-oom', 'while-away'], names
assert p2['metadata']['resourceVersion'] == p1['metadata']['resourceVersion'] and 'continue' not in p2['metadata'], p2['metadata']
fresh = raw('$G/aitasks')
assert 'while-away' not in [i['metadata']['name'] for i in fresh['items']] and int(fresh['metadata']['resourceVersion']) == int(p1['metadata']['resourceVersion']) + 1, fresh['metadata']"

check "a continue token older than a compaction: 410 Expired" $PY -c "
import json, subprocess
def raw(p): return json.loads(subprocess.check_output(['kubectl', '--kubeconfig', '$KC', 'get', '--raw', p]))
def ctl(*a): subprocess.check_output(['curl', '-sS', '--cacert', '$P/ca.crt'] + list(a))
p1 = raw('$G/aitasks?limit=2')
ctl('-X', 'POST', '$SRV/_test/objects/aitasks', '-d', '{\"metadata\": {\"name\": \"late\", \"namespace\": \"payments\"}}')
ctl('-X', 'POST', '$SRV/_test/compact')
r = subprocess.run(['curl', '-sS', '--cacert', '$P/ca.crt', '-H', 'Authorization: Bearer $TOKEN',
                    '$SRV$G/aitasks?limit=2&continue=' + p1['metadata']['continue']], capture_output=True, text=True)
st = json.loads(r.stdout)
assert st['code'] == 410 and st['reason'] == 'Expired' and 'continue parameter is too old' in st['message'], st"

# ============================================================ 5. request log
check "the request log: the API requests (GET and the status PATCHes), authenticated; no /_test/ control" $PY -c "
import json
ls = [json.loads(l) for l in open('$LOG')]
assert not [r for r in ls if r['path'].startswith('/_test')], 'a /_test request was logged'
assert {r['method'] for r in ls} == {'GET', 'PATCH', 'DELETE'}, {r['method'] for r in ls}
w = [r for r in ls if 'watch=' in r['query'] and r['auth'] == 'token']
assert len(w) >= 10 and all(r['status'] == 200 for r in w), w
p = [r for r in ls if r['method'] == 'PATCH' and r['path'].endswith('/status') and r['status'] == 200]
assert len(p) >= 3 and all(r['auth'] == 'token' for r in p), p"

finish
