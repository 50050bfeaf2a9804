#!/usr/bin/env bash
# kopilot ask end to end: the product's four use cases (tests/eval/*.json:
# rightsizing, an idle review, orphaned storage, a safe plan for staging)
# on the demo cluster, each against a scripted model on another provider's
# wire format (tests/fakes/llm.py: OpenAI, Anthropic, Gemini, Ollama). Per
# case:
#   1. exit 0, the model's answer on stdout, a summary on stderr;
#   2. the tools the case expects were called (audit.jsonl agent.tool);
#   3. the evidence the model was shown (the tool results in the requests
#      the fake received) names the planted waste of the demo;
#   4. what the model asked to change is a proposal in RUN/proposals.json,
#      and nothing ran: a kubectl on PATH that logs every call was never
#      called, the run reads a snapshot;
#   5. every request body type-checks against the official SDK's types
#      (tests/clients/llm/check-bodies.mjs), the key in no file or output.
# Then the failures: no provider (2), an empty question (2), --run with
# --snapshot (2), a provider down and a refused key (4, no answer, the key
# unnamed), and --run answering from an existing run.
# Ends with "ask: N passed, N failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/ask.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=/usr/bin/python3
SUITE=ask
. "$ROOT/tests/e2e/lib.sh"
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
CL=$ROOT/tests/clients/llm
need "$PY" python3
need "$KOPILOT" "(make builds it)"
need node nodejs
need npm npm

fakes_tempdir ask

# the SDKs' types for the body check, as llmfakes.sh installs them
npm_ready "$CL"

KEY=sk-ask-e2e-5f3c9a17d2b8
NOW=2026-11-25T06:00:00Z
# a kubectl that only logs: nothing may call it
mkdir -p "$T/bin"
printf '#!/bin/sh\necho "$*" >> %s/kubectl.log\n' "$T" >"$T/bin/kubectl"
chmod +x "$T/bin/kubectl"
: >"$T/kubectl.log"

start_fake() { # start_fake NAME SCRIPT: its port in $PORT
	setsid "$PY" "$ROOT/tests/fakes/llm.py" --key "$KEY" --script "$2" --log "$T/$1.jsonl" --ollama-open \
		--port-file "$T/$1.port" >"$T/$1.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$T/$1.port" ] && break; sleep 0.05; done
	[ -s "$T/$1.port" ] || { echo "ask: the LLM fake did not start: $(cat "$T/$1.out")" >&2; exit 1; }
	PORT=$(cat "$T/$1.port")
}

provider_env() { # provider_env PROVIDER PORT: the environment that points kopilot at the fake
	case $1 in
	openai) echo "LLM_PROVIDER=openai OPENAI_BASE_URL=http://127.0.0.1:$2/v1 OPENAI_API_KEY=$KEY LLM_MODEL=gpt-4o-mini" ;;
	anthropic) echo "LLM_PROVIDER=anthropic ANTHROPIC_BASE_URL=http://127.0.0.1:$2 ANTHROPIC_API_KEY=$KEY" ;;
	gemini) echo "LLM_PROVIDER=gemini GEMINI_BASE_URL=http://127.0.0.1:$2 GEMINI_API_KEY=$KEY" ;;
	ollama) echo "LLM_PROVIDER=ollama OLLAMA_BASE_URL=http://127.0.0.1:$2 LLM_MODEL=gpt-oss:20b" ;;
	esac
}

field() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d[sys.argv[2]]; print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"; }

for case in "$ROOT"/tests/eval/*.json; do
	name=$(basename "$case" .json)
	provider=$(field "$case" provider)
	prompt=$(field "$case" prompt)
	$PY -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["script"], open(sys.argv[2], "w"))' "$case" "$T/$name.script.json"
	start_fake "$name" "$T/$name.script.json"
	R=$T/run-$name
	env $(provider_env "$provider" "$PORT") PATH="$T/bin:$PATH" "$KOPILOT" ask "$prompt" --snapshot examples/demo-cluster \
		--out "$R" --now $NOW >"$T/$name.stdout" 2>"$T/$name.stderr"
	rc=$?
	answer=$(field "$case" answer)
	check "$name ($provider): exit 0, the answer on stdout" \
		bash -c "[ $rc -eq 0 ] && grep -qF -- '$answer' '$T/$name.stdout' || { echo exit $rc; cat '$T/$name.stderr'; exit 1; }"
	check "$name: stderr names the sub-agent, the model and the tokens" \
		grep -qE "answered by cost_optimization \(routed by the model\), $provider/.*model calls" "$T/$name.stderr"
	check "$name: the tools it needed were called ($(field "$case" tools))" $PY -c '
import json, sys
want = set(json.load(open(sys.argv[1]))["tools"])
used = {e["tool"] for e in map(json.loads, open(sys.argv[2])) if e.get("event") == "agent.tool"}
assert want <= used, (want, used)' "$case" "$R/audit.jsonl"
	check "$name: the evidence the model was shown names the planted waste" $PY -c '
import json, sys
want = json.load(open(sys.argv[1]))["evidence"]
seen = "".join(json.dumps(r.get("body")) for r in map(json.loads, open(sys.argv[2])))
missing = [w for w in want if w not in seen]
assert not missing, missing' "$case" "$T/$name.jsonl"
	check "$name: what it asked to change is proposed, not run" $PY -c '
import json, os, sys
want = json.load(open(sys.argv[1]))["proposals"]
p = os.path.join(sys.argv[2], "proposals.json")
got = [x["command"] for x in json.load(open(p))["proposals"]] if os.path.exists(p) else []
assert got == want, (got, want)
ran = [e for e in map(json.loads, open(os.path.join(sys.argv[2], "audit.jsonl"))) if e.get("event") == "agent.command" and e.get("decision") == "run"]
assert not ran, ran' "$case" "$R"
	check "$name: every request body type-checks against the SDK's request types" node "$CL/check-bodies.mjs" "$T/$name.jsonl"
	check "$name: the key is in no file of the run and in no output" \
		bash -c "! grep -rqF -- '$KEY' '$R' '$T/$name.stdout' '$T/$name.stderr' '$T/$name.jsonl'"
done
check "no kubectl ran in any case (the runs read a snapshot; changes are proposals)" test ! -s "$T/kubectl.log"

# ---- --run: the answer from an existing run, no new run
start_fake again "$T/rightsizing.script.json"
env $(provider_env openai "$PORT") "$KOPILOT" ask "Find over-provisioned deployments across all namespaces" \
	--run "$T/run-rightsizing" >"$T/again.stdout" 2>"$T/again.stderr"
rc=$?
check "--run RUN: exit 0, answered from that run's findings" \
	bash -c "[ $rc -eq 0 ] && grep -qF checkout/cart-api '$T/again.stdout' && [ \$(grep -c '\"event\":\"ask.start\"' '$T/run-rightsizing/audit.jsonl') -eq 2 ]"

# ---- llm.anonymize: the provider sees aliases, the person real names
$PY - "$T/anon.script.json" <<'PYEOF'
import json, sys
json.dump({"replies": [
    {"when": "You route a Kubernetes", "text": json.dumps({"skills": ["cost_optimization"]}), "repeat": True},
    {"when": "kopilot's findings (data", "repeat": True,
     "text": "The largest waste is in namespace anon-ns-1; check it first.\n\n### Next safe actions\n1. Review.\n"},
    {"tool_calls": [{"name": "list_findings", "arguments": {"category": "over-provisioned"}}]}]},
    open(sys.argv[1], "w"))
PYEOF
start_fake anon "$T/anon.script.json"
env $(provider_env openai "$PORT") KOPILOT_LLM_ANONYMIZE=true "$KOPILOT" ask "Is checkout/cart-api over-provisioned?" \
	--run "$T/run-rightsizing" >"$T/anon.stdout" 2>"$T/anon.stderr"
rc=$?
check "anonymize: exit 0, and no name of the run in anything the provider received" $PY -c '
import json, sys
sent = open(sys.argv[1]).read()
names = ["checkout", "cart-api", "model-server", "report-builder", "analytics", "ip-10-0-77-31"]
leaked = [n for n in names if n in sent]
assert not leaked, leaked
assert "anon-ns-" in sent and "anon-" in sent' "$T/anon.jsonl"
check "anonymize: the answer has the real names back (no alias on stdout)" \
	bash -c "[ $rc -eq 0 ] && ! grep -q 'anon-' '$T/anon.stdout' && grep -q 'The largest waste is in namespace [a-z]' '$T/anon.stdout' || { cat '$T/anon.stdout' '$T/anon.stderr'; exit 1; }"

# ---- kopilot approve: the one path that changes a cluster, once, by id
R=$T/run-staging-plan
PID=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["proposals"][0]["id"])' "$R/proposals.json")
expect_exit "approve: an unknown id is refused (exit 2)" 2 "has no proposal nope" -- \
	env PATH="$T/bin:$PATH" "$KOPILOT" approve nope --run "$R"
env PATH="$T/bin:$PATH" "$KOPILOT" approve "$PID" --run "$R" --kubeconfig /etc/kopilot/kc --context prod \
	>"$T/approve.out" 2>"$T/approve.err"
rc=$?
check "approve: the proposal runs once, without a shell, with the kubeconfig and context given" \
	bash -c "[ $rc -eq 0 ] && [ \"\$(cat '$T/kubectl.log')\" = '--kubeconfig /etc/kopilot/kc --context prod -n staging scale deployment launchdarkly-relay --replicas=0' ] || { echo exit $rc; cat '$T/approve.err' '$T/kubectl.log'; exit 1; }"
check "approve: audited with the user, and the proposal remembers it ran" $PY -c '
import json, sys
ev = [e for e in map(json.loads, open(sys.argv[1] + "/audit.jsonl")) if e.get("event") == "approve"]
assert ev and ev[-1]["decision"] == "run" and ev[-1]["exit_code"] == 0 and ev[-1]["by"], ev
p = json.load(open(sys.argv[1] + "/proposals.json"))["proposals"][0]
assert p["executed_at"] and p["exit_code"] == 0, p' "$R"
expect_exit "approve: the same id again is refused (a proposal runs once)" 2 "already run" -- \
	env PATH="$T/bin:$PATH" "$KOPILOT" approve "$PID" --run "$R"
# a proposals file is text: what it says is judged again
$PY - "$R/proposals.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["proposals"]
for i, c in enumerate(["kubectl -n kube-system delete pod coredns-1", "kubectl get secret db -n shop -o yaml",
                       "sh -c 'rm -rf /'", "kubectl -n shop delete pvc a; rm -rf ~", "python3 -c 'import os'",
                       "kubectl --kubeconfig /tmp/other -n shop delete pvc a"]):
    p.append({"id": "tampered%d" % i, "command": c, "skill": "x", "risk": "LOW", "destructive": False, "blocked": False, "reason": ""})
json.dump(d, open(sys.argv[1], "w"))
PYEOF
for i in 0 1 2 3 4 5; do
	expect_exit "approve: a tampered proposal is judged again and refused (tampered$i)" 2 "refused by the safety layer" -- \
		env PATH="$T/bin:$PATH" "$KOPILOT" approve "tampered$i" --run "$R"
done
check "approve: kubectl ran exactly once in all of it" test "$(wc -l <"$T/kubectl.log")" -eq 1
# another question on the same run: its proposals are added, what approve recorded stays
$PY -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["script"], open(sys.argv[2], "w"))' \
	"$ROOT/tests/eval/staging-plan.json" "$T/again-staging.script.json"
start_fake again-staging "$T/again-staging.script.json"
env $(provider_env ollama "$PORT") PATH="$T/bin:$PATH" "$KOPILOT" ask "Recommend the next cost-saving actions for staging" \
	--run "$R" >/dev/null 2>&1
check "a second question on the run keeps the proposals and what approve recorded" $PY -c '
import json, sys
p = {x["id"]: x for x in json.load(open(sys.argv[1]))["proposals"]}
assert p[sys.argv[2]].get("executed_at"), p[sys.argv[2]]
assert len(p) == 7, sorted(p)' "$R/proposals.json" "$PID"

# ---- explanations in kopilot run: the cost sub-agent's words where every
# number is the finding's own, the template where one is not, a cache that
# makes the next night free, and a provider down that only degrades
$PY - "$T/explain.script.json" <<'PYEOF'
import json, sys
good = ("cart-api was sized at 2 cores and 4Gi when it launched and never revisited: its p95 is 150m and its "
        "memory peak 600Mi. The change to 175m CPU and 720Mi keeps a margin above both; watch the first day of "
        "the rollout.")
bad = "A personal scratch volume left behind 1234 days ago."
replies = [
    {"when": "2c471f620e2bc6e9", "repeat": True,
     "text": json.dumps({"explanations": [{"id": "2c471f620e2bc6e9", "text": good}]})},
    {"when": "adf578312f64685a", "repeat": True,
     "text": json.dumps({"explanations": [{"id": "adf578312f64685a", "text": bad}]})},
    {"repeat": True, "text": json.dumps({"explanations": []})},
]
json.dump({"replies": replies}, open(sys.argv[1], "w"))
PYEOF
start_fake explain "$T/explain.script.json"
EXP_ENV="$(provider_env openai "$PORT") KOPILOT_LLM_CACHE_DIR=$T/llmcache KOPILOT_LLM_EXPLAIN_MAX_CALLS=100"
env $EXP_ENV "$KOPILOT" run --snapshot examples/demo-cluster --out "$T/exp1" --now $NOW --quiet >/dev/null 2>"$T/exp1.err"
rc=$?
check "explain: kopilot run with a provider finishes as without (exit 3, the demo is degraded by design)" \
	bash -c "[ $rc -eq 3 ] || { echo exit $rc; cat '$T/exp1.err'; exit 1; }"
check "explain: cart-api's explanation is the model's (llm:openai/gpt-4o-mini), its numbers the finding's own" $PY -c '
import json, sys
f = {x["id"]: x for x in json.load(open(sys.argv[1]))["findings"]}
c = f["2c471f620e2bc6e9"]
assert c["explained_by"] == "llm:openai/gpt-4o-mini", c["explained_by"]
assert c["explanation"].startswith("cart-api was sized at 2 cores"), c["explanation"]
o = f["adf578312f64685a"]
assert o["explained_by"] == "template" and "1234" not in o["explanation"], o' "$T/exp1/findings.json"
check "explain: the explanation with an invented number was dropped and counted (audit recommend.explain)" $PY -c '
import json, sys
e = [x for x in map(json.loads, open(sys.argv[1])) if x.get("event") == "recommend.explain"][0]
assert e["dropped_for_numbers"] == 1 and e["explained"] == 1 and e["calls"] >= 2 and not e["failed"], e' "$T/exp1/audit.jsonl"
check "explain: the report shows the model's explanation" grep -q "was sized at 2 cores and 4Gi when it launched" "$T/exp1/report.md"
calls=$(wc -l <"$T/explain.jsonl")
env $EXP_ENV "$KOPILOT" run --snapshot examples/demo-cluster --out "$T/exp2" --now $NOW --quiet >/dev/null 2>&1
expl() { $PY -c 'import json,sys; print([(x["id"], x["explanation"]) for x in json.load(open(sys.argv[1]))["findings"]])' "$1" >"$2"; }
expl "$T/exp1/findings.json" "$T/exp1.expl" && expl "$T/exp2/findings.json" "$T/exp2.expl"
check "explain: the next night on an unchanged cluster makes no model call (the cache), same explanations" \
	bash -c "[ \$(wc -l <'$T/explain.jsonl') -eq $calls ] && cmp -s '$T/exp1.expl' '$T/exp2.expl'"
env $(provider_env openai 1) KOPILOT_LLM_CACHE_DIR="$T/emptycache" "$KOPILOT" run --snapshot examples/demo-cluster \
	--out "$T/exp3" --now $NOW --quiet --set llm.max_retries=0 >/dev/null 2>"$T/exp3.err"
rc=$?
check "explain: a provider down degrades the run (exit 3), reports written with template explanations, the note says why" \
	bash -c "[ $rc -eq 3 ] && [ -s '$T/exp3/report.html' ] && grep -q 'explanations: the OpenAI API' '$T/exp3.err' &&
		! grep -q 'llm:openai' '$T/exp3/findings.json' && grep -q '| explanations |' '$T/exp3/report.md' || { echo exit $rc; cat '$T/exp3.err'; exit 1; }"
check "explain: findings.json with the explanations gap still validates against its schema" \
	schema_valid docs/contracts/findings.schema.json "$T/exp3/findings.json"

# ---- failures
expect_exit "no provider: exit 2, says to set LLM_PROVIDER" 2 "set LLM_PROVIDER" -- \
	env LLM_PROVIDER=none "$KOPILOT" ask "what costs most?" --run "$T/run-rightsizing"
expect_exit "an empty question: exit 2" 2 "expected a question" -- \
	env $(provider_env openai 1) "$KOPILOT" ask "  " --run "$T/run-rightsizing"
expect_exit "--run with --snapshot: exit 2" 2 "give one or the other" -- \
	env $(provider_env openai 1) "$KOPILOT" ask "x" --run "$T/run-rightsizing" --snapshot examples/demo-cluster
expect_exit "the provider down: exit 4, no answer, the provider named" 4 "no answer: the OpenAI API \(http://127.0.0.1:1/v1\)" -- \
	env $(provider_env openai 1) "$KOPILOT" ask "what costs most?" --run "$T/run-rightsizing" --set llm.max_retries=0
start_fake badkey "$T/rightsizing.script.json"
expect_exit "a refused key: exit 4, OPENAI_API_KEY named, the key not shown" 4 "check OPENAI_API_KEY" -- \
	env $(provider_env openai "$PORT") OPENAI_API_KEY=sk-wrong-000111222333 "$KOPILOT" ask "what costs most?" --run "$T/run-rightsizing"
check "a refused key: the wrong key is in no output" \
	bash -c "! env $(provider_env openai "$PORT") OPENAI_API_KEY=sk-wrong-000111222333 '$KOPILOT' ask x --run '$T/run-rightsizing' 2>&1 | grep -q 000111222333"

# ---- --skill: that sub-agent alone, no routing
echo '{"replies": [{"text": "The restarts come from an OOM kill at the limit.", "repeat": true}]}' >"$T/skill.script.json"
start_fake skill "$T/skill.script.json"
env $(provider_env openai "$PORT") "$KOPILOT" ask "why does cart-api restart?" --skill troubleshooting \
	--run "$T/run-rightsizing" >"$T/skill.stdout" 2>"$T/skill.stderr"
check "--skill troubleshooting: its answer, chosen with --skill" \
	bash -c "grep -q 'OOM kill' '$T/skill.stdout' && grep -q 'answered by troubleshooting (chosen with --skill)' '$T/skill.stderr'"
check "--skill: no routing request reached the model, the troubleshooting prompt did" \
	bash -c "! grep -q 'You route a Kubernetes' '$T/skill.jsonl' && grep -q 'troubleshoot' '$T/skill.jsonl'"
env $(provider_env openai "$PORT") "$KOPILOT" ask "why does cart-api restart?" --skill troubleshooting -o json \
	--run "$T/run-rightsizing" >"$T/skill.json" 2>"$T/skill.json.err"
check "-o json: one object with the answer, the sub-agent, the tokens" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert "OOM kill" in d["answer"] and d["skills"] == ["troubleshooting"] and d["routed_by"] == "skill", d
assert d["usage"]["model_calls"] >= 1 and d["usage"]["in_tokens"] > 0 and d["proposals"] == [], d' "$T/skill.json"
expect_exit "-o yaml: exit 2" 2 "-o json" -- env $(provider_env openai "$PORT") "$KOPILOT" ask x -o yaml --run "$T/run-rightsizing"
expect_exit "--skill that does not exist: exit 2 naming it" 2 "--skill nope: no such sub-agent" -- \
	env $(provider_env openai "$PORT") "$KOPILOT" ask x --skill nope --run "$T/run-rightsizing"

finish
