#!/usr/bin/env bash
# kopilot operator end to end (issue 20) against tests/fakes/kubeapi.py over
# TLS with a token, serving AITasks (kubedevaiops.io/v1alpha1) with watch,
# bookmarks, 410 Expired and the status subresource; the model is the
# scripted tests/fakes/llm.py; the tools read examples/demo-cluster.
#   - AITasks that exist at start are answered (status phase, conditions,
#     the answer, the proposal never run, tokens); one already answered is
#     left alone; a bad spec is Failed with InvalidSpec;
#   - one created later is answered (the watch); a spec changed is answered
#     again for its new generation;
#   - dropped watch streams are resumed from the last resourceVersion; after
#     a compaction the operator lists again (410) and still answers;
#   - the requests it made: GET, and PATCH only on aitasks/NAME/status with
#     a merge patch; no Secret path;
#   - SIGTERM with a task running: exit 0, the task Pending again
#     (Interrupted), answered by the next operator.
# Ends with "operator: N passed, N failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/operator.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=/usr/bin/python3
SUITE=operator
. "$ROOT/tests/e2e/lib.sh"
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
need "$PY" python3
need "$KOPILOT" "(make builds it)"
need openssl openssl
need curl curl

fakes_tempdir operator
NOW=2026-11-25T06:00:00Z
SLOW=SLOW-AITASK-77
TOKEN=operator-e2e-token-1b2c3d

# the model: the staging plan, every reply reusable, and a slow router
$PY - "$ROOT/tests/eval/staging-plan.json" "$SLOW" "$T/script.json" <<'PYEOF'
import json, sys
plan = json.load(open(sys.argv[1]))["script"]["replies"]
replies = [{"when": sys.argv[2], "delay": 60, "text": '{"skills": ["cost_optimization"]}', "repeat": True}]
# the investigation of an event (kopilot ask --skill troubleshooting: no router)
replies.append({"when": "keeps coming back", "repeat": True,
                "text": "cart-api is OOM-killed at its 512Mi limit and backs off; its peak is 498Mi. Raise the limit in a pull request; nothing was changed."})
replies += [dict(r, repeat=True) for r in plan]
json.dump({"replies": replies}, open(sys.argv[3], "w"))
PYEOF
setsid "$PY" "$ROOT/tests/fakes/llm.py" --key sk-operator-unused --script "$T/script.json" --log "$T/llm.jsonl" \
	--ollama-open --port-file "$T/llm.port" >"$T/llm.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/llm.port" ] && break; sleep 0.05; done
[ -s "$T/llm.port" ] || { echo "operator: the LLM fake did not start: $(cat "$T/llm.out")" >&2; exit 1; }
export LLM_PROVIDER=ollama OLLAMA_BASE_URL=http://127.0.0.1:$(cat "$T/llm.port") LLM_MODEL=gpt-oss:20b

# the cluster: the demo's objects and three AITasks
SRC=$T/cluster
cp -r examples/demo-cluster "$SRC"
$PY - "$SRC/objects/aitasks.json" <<'PYEOF'
import json, sys
def task(name, spec, status=None, gen=1):
    t = {"apiVersion": "kubedevaiops.io/v1alpha1", "kind": "AITask",
         "metadata": {"name": name, "namespace": "kopilot", "uid": "uid-" + name, "generation": gen,
                      "creationTimestamp": "2026-11-25T05:00:00Z"},
         "spec": spec}
    if status:
        t["status"] = status
    return t
items = [task("staging-plan", {"prompt": "Recommend the next cost-saving actions for staging", "namespace": "staging"}),
         task("already-done", {"prompt": "Recommend the next cost-saving actions for staging"},
              {"phase": "Succeeded", "observedGeneration": 1, "result": {"answer": "old"}}),
         task("no-prompt", {"prompt": "   "})]
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(sys.argv[1], "w"))
PYEOF
echo '{"apiVersion": "v1", "kind": "List", "items": []}' >"$SRC/objects/events.json"
P=$T/pki
mkdir -p "$P"
openssl_() { openssl "$@" >>"$T/openssl.log" 2>&1 || { echo "operator: openssl $1 failed: $(tail -3 "$T/openssl.log")" >&2; exit 1; }; }
openssl_ req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 2 -subj "/CN=kopilot-e2e-ca"
openssl_ req -newkey rsa:2048 -nodes -keyout "$P/server.key" -out "$P/server.csr" -subj "/CN=kube-apiserver"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$P/server.ext"
openssl_ x509 -req -in "$P/server.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -out "$P/server.crt" -days 2 -extfile "$P/server.ext"
echo '[]' >"$T/faults.json"
setsid "$PY" tests/fakes/kubeapi.py --snapshot "$SRC" --cert "$P/server.crt" --key "$P/server.key" --token "$TOKEN" \
	--port-file "$T/api.port" --log "$T/api.jsonl" --faults "$T/faults.json" >"$T/api.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/api.port" ] && break; sleep 0.1; done
[ -s "$T/api.port" ] || { echo "operator: the fake API server did not start: $(cat "$T/api.out")" >&2; exit 1; }
API=https://127.0.0.1:$(cat "$T/api.port")
cat >"$T/kc" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: $API
    certificate-authority: $P/ca.crt
users:
- name: u
  user:
    token: $TOKEN
contexts:
- name: fake
  context: {cluster: fake, user: u}
current-context: fake
EOF
fapi() { curl -s --cacert "$P/ca.crt" -H "Authorization: Bearer $TOKEN" "$@"; }
ctl() { curl -s --cacert "$P/ca.crt" "$@"; } # the fake's /_test controls
aitask() { fapi "$API/apis/kubedevaiops.io/v1alpha1/namespaces/kopilot/aitasks/$1"; }
field() { $PY -c 'import json,sys
d=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d.get(k) if isinstance(d, dict) else None
print("" if d is None else d if isinstance(d, str) else json.dumps(d))' "$1"; }
wait_phase() { # wait_phase NAME PHASE [GENERATION]
	for _ in $(seq 600); do
		local doc; doc=$(aitask "$1")
		[ "$(field status.phase <<<"$doc")" = "$2" ] && { [ -z "${3:-}" ] || [ "$(field status.observedGeneration <<<"$doc")" = "$3" ]; } && return 0
		sleep 0.1
	done
	echo "AITask $1: $(aitask "$1" | field status)"
	return 1
}
put() { # put NAME JSON_SPEC [GENERATION]: create or replace an AITask through the fake's test control
	ctl -X POST -d "{\"apiVersion\":\"kubedevaiops.io/v1alpha1\",\"kind\":\"AITask\",\"metadata\":{\"name\":\"$1\",\"namespace\":\"kopilot\",\"uid\":\"uid-$1\",\"generation\":${3:-1}},\"spec\":$2}" \
		"$API/_test/objects/aitasks" >/dev/null
}
OPID=
start_operator() { # start_operator NAME
	"$KOPILOT" operator --kubeconfig "$T/kc" --snapshot examples/demo-cluster --now $NOW --out "$T/run" \
		--set llm.explain=false --set serve.shutdown_grace_seconds=1 >"$T/$1.out" 2>"$T/$1.err" &
	OPID=$!
}

start_operator op1
check "an AITask at start: answered (Succeeded)" wait_phase staging-plan Succeeded 1
aitask staging-plan >"$T/sp.json"
check "its status: the answer, the proposal (not run), the tokens, a Succeeded condition" $PY - "$T/sp.json" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))["status"]
r = s["result"]
assert "launchdarkly-relay" in r["answer"] and r["answerTruncated"] is False, r
assert [p["command"] for p in r["proposals"]] == ["kubectl -n staging scale deployment launchdarkly-relay --replicas=0"], r["proposals"]
assert r["usage"]["in_tokens"] > 0, r["usage"]
c = s["conditions"][0]
assert c["type"] == "Succeeded" and c["status"] == "True" and c["reason"] == "Answered" and c["observedGeneration"] == 1, c
assert s["startedAt"] and s["completedAt"] and s["observedGeneration"] == 1, s
PYEOF
check "a bad spec: Failed, never run" wait_phase no-prompt Failed 1
check "a bad spec: the condition says InvalidSpec and why" bash -c "curl -s --cacert '$P/ca.crt' -H 'Authorization: Bearer $TOKEN' '$API/apis/kubedevaiops.io/v1alpha1/namespaces/kopilot/aitasks/no-prompt' | grep -q 'InvalidSpec.*spec.prompt is required\|spec.prompt is required.*InvalidSpec'"
check "an AITask already answered is left alone" bash -c "[ \"\$(curl -s --cacert '$P/ca.crt' -H 'Authorization: Bearer $TOKEN' '$API/apis/kubedevaiops.io/v1alpha1/namespaces/kopilot/aitasks/already-done' | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"status\"][\"result\"][\"answer\"])')\" = old ]"

put created-later '{"prompt":"Recommend the next cost-saving actions for staging"}'
check "an AITask created while it watches: answered" wait_phase created-later Succeeded 1
put staging-plan '{"prompt":"Recommend the next cost-saving actions for staging","reflect":false}' 2
check "a changed spec (generation 2): answered again" wait_phase staging-plan Succeeded 2

# dropped streams: resumed from the last resourceVersion, not from scratch
lists_before=$(grep -c '"path": "/apis/kubedevaiops.io/v1alpha1/aitasks", "query": ""' "$T/api.jsonl" || true)
ctl -X POST "$API/_test/drop-watches" >/dev/null
sleep 1.5
ctl "$API/_test/watches" >"$T/watches.json"
check "after the streams were dropped, the watch resumed from a resourceVersion (not 0)" $PY - "$T/watches.json" <<'PYEOF'
import json, sys
w = json.load(open(sys.argv[1]))
ws = w.get("watches", w if isinstance(w, list) else [])
assert ws and all(str(x.get("resourceVersion") or "0") not in ("", "0") for x in ws), w
PYEOF
put after-drop '{"prompt":"Recommend the next cost-saving actions for staging"}'
check "an AITask after the reconnect: answered" wait_phase after-drop Succeeded 1
lists_after=$(grep -c '"path": "/apis/kubedevaiops.io/v1alpha1/aitasks", "query": ""' "$T/api.jsonl" || true)
check "a resumed watch did not list again ($lists_before lists before, $lists_after after)" test "$lists_before" = "$lists_after"

# a compaction while it was away: its resumed watch gets 410 Expired and it
# lists again. Away: the streams dropped and its next attempt answered 503
# (it backs off a second), while an AITask comes and the history is compacted
echo '[{"path": "/apis/kubedevaiops.io/v1alpha1/aitasks", "status": 503, "times": 1}]' >"$T/faults.json"
ctl -X POST "$API/_test/drop-watches" >/dev/null
sleep 0.3
put after-compact '{"prompt":"Recommend the next cost-saving actions for staging"}'
ctl -X POST "$API/_test/compact" >/dev/null
check "the server's 503 made it back off and reconnect" bash -c "for i in \$(seq 50); do grep -q 'again in' '$T/op1.err' && exit 0; sleep 0.1; done; exit 1"
check "after 410 Expired: listed again and still answering" wait_phase after-compact Succeeded 1
lists_410=$(grep -c '"path": "/apis/kubedevaiops.io/v1alpha1/aitasks", "query": ""' "$T/api.jsonl" || true)
check "the 410 made it list again ($lists_after lists before, $lists_410 after)" test "$lists_410" -gt "$lists_after"

# ---- repeated Warning events: a standing AITask (spec.watchEvents) collects the investigations
put events-checkout '{"prompt":"Say what each repeated warning costs.","watchEvents":true,"namespace":"checkout"}'
check "a standing AITask (watchEvents): phase Watching" wait_phase events-checkout Watching 1
ev() { # ev NAME NAMESPACE TYPE REASON COUNT
	ctl -X POST -d "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"$1\",\"namespace\":\"$2\"},\"type\":\"$3\",\"reason\":\"$4\",\"count\":$5,\"message\":\"Back-off restarting failed container cart-api\",\"involvedObject\":{\"kind\":\"Pod\",\"namespace\":\"$2\",\"name\":\"cart-api-7d9f-x2k4p\"},\"lastTimestamp\":\"2026-11-25T05:59:00Z\"}" \
		"$API/_test/objects/events" >/dev/null
}
ev once checkout Warning BackOff 1
ev normal checkout Normal Pulled 9
ev elsewhere staging Warning BackOff 7
ev repeated checkout Warning BackOff 5
investigations() { aitask events-checkout | $PY -c 'import json,sys; print(len(json.load(sys.stdin).get("status",{}).get("investigations") or []))'; }
check "a Warning seen 5 times in its namespace: investigated" bash -c "for i in \$(seq 300); do [ \"\$(curl -s --cacert '$P/ca.crt' -H 'Authorization: Bearer $TOKEN' '$API/apis/kubedevaiops.io/v1alpha1/namespaces/kopilot/aitasks/events-checkout' | $PY -c 'import json,sys; print(len(json.load(sys.stdin).get(\"status\",{}).get(\"investigations\") or []))')\" = 1 ] && exit 0; sleep 0.1; done; exit 1"
aitask events-checkout >"$T/events.json"
check "the investigation: the troubleshooting answer, the object, reason and count" $PY - "$T/events.json" <<'PYEOF'
import json, sys
inv = json.load(open(sys.argv[1]))["status"]["investigations"]
assert len(inv) == 1, inv
i = inv[0]
assert i["object"] == {"kind": "Pod", "namespace": "checkout", "name": "cart-api-7d9f-x2k4p"} and i["reason"] == "BackOff" and i["count"] == 5, i
assert i["phase"] == "Succeeded" and "OOM-killed" in i["answer"], i
PYEOF
ev repeated checkout Warning BackOff 6
sleep 2
check "the same event again (count 6): not investigated again within its cooldown" test "$(investigations)" = 1
check "a single Warning, a Normal event and another namespace: not investigated" \
	bash -c "! grep -q 'Pulled\|staging/cart-api' '$T/op1.err'"
check "the investigation used the troubleshooting sub-agent, without routing" $PY - "$T/llm.jsonl" <<'PYEOF'
import json, sys
reqs = [json.dumps(json.loads(l).get("body")) for l in open(sys.argv[1])]
inv = [r for r in reqs if "keeps coming back" in r]
assert inv and not any("You route a Kubernetes" in r for r in inv), len(inv)
assert any("troubleshoot" in r.lower() for r in inv)
PYEOF

# what it asked of the API server
check "its requests: GET, and PATCH only on aitasks/NAME/status with a merge patch; no Secrets" $PY - "$T/api.jsonl" <<'PYEOF'
import json, re, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
reqs = [r for r in reqs if not r["path"].startswith("/_test")]
bad = [r for r in reqs if r["method"] not in ("GET", "PATCH")]
bad += [r for r in reqs if r["method"] == "PATCH" and not re.fullmatch(r"/apis/kubedevaiops\.io/v1alpha1/namespaces/[a-z0-9-]+/aitasks/[a-z0-9.-]+/status", r["path"])]
bad += [r for r in reqs if "secrets" in r["path"]]
assert not bad, bad[:3]
assert any(r["method"] == "PATCH" for r in reqs), "no PATCH at all"
assert any("watch=1" in (r.get("query") or "") for r in reqs), "no watch"
PYEOF

# SIGTERM with a task running: Pending again, answered by the next operator
put slow-one "{\"prompt\":\"$SLOW which workloads are idle?\"}"
check "the slow AITask runs" wait_phase slow-one Running
t0=$(date +%s.%N)
kill -TERM "$OPID"; wait "$OPID"; rc=$?
took=$($PY -c "print(round($(date +%s.%N) - $t0, 1))")
check "SIGTERM with a task running: exit 0 in ${took} s (grace 1 s)" $PY -c "assert $rc == 0 and $took < 10"
check "the interrupted AITask is Pending again, reason Interrupted" bash -c "curl -s --cacert '$P/ca.crt' -H 'Authorization: Bearer $TOKEN' '$API/apis/kubedevaiops.io/v1alpha1/namespaces/kopilot/aitasks/slow-one' | grep -q '\"phase\": *\"Pending\".*Interrupted\|Interrupted.*\"phase\": *\"Pending\"'"
check "the operator said what it did on stderr" grep -q "answered, .* failed" "$T/op1.err"
start_operator op2
check "the next operator picks the interrupted AITask up" wait_phase slow-one Running
kill -TERM "$OPID"; wait "$OPID"

check "no sanitizer report from the operators (make asan)" bash -c "! grep -l 'Sanitizer\|runtime error:' '$T'/op*.err"
expect_exit "no kubeconfig: exit 2" 2 "kubeconfig" -- env -u KUBECONFIG HOME="$T/nohome" "$KOPILOT" operator --snapshot examples/demo-cluster
check "kopilot operator --help shows an AITask" bash -c "'$KOPILOT' operator --help | grep -q 'kind: AITask'"
finish
