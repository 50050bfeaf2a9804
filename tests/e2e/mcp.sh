#!/usr/bin/env bash
# kopilot mcp end to end (issue 20): the MCP server on stdio
#   1. driven by the official TypeScript SDK client (tests/clients/mcp,
#      @modelcontextprotocol/sdk from npm): the six tools listed and called,
#      each structured result validated by the SDK against the tool's
#      outputSchema, bad arguments as isError results, an unknown tool, a
#      call cancelled through an AbortSignal (its child process stopped, the
#      server still answering, the audit saying so), a server asked to stop;
#   2. on the wire (tests/e2e/mcp_raw.py): revision negotiation, batches,
#      malformed and oversized lines, stdout carrying only JSON-RPC, SIGTERM
#      with a call running, and a Secret canary that no reply and nothing
#      sent to the model may hold.
# ask goes to the scripted model of tests/fakes/llm.py (Ollama's wire format):
# the staging plan of tests/eval, a router that answers after 60 s (the
# calls that are cancelled), and a sub-agent that asks for a Secret.
# Ends with "mcp: N passed, N failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/mcp.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=/usr/bin/python3
SUITE=mcp
. "$ROOT/tests/e2e/lib.sh"
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
CL=$ROOT/tests/clients/mcp
need "$PY" python3
need "$KOPILOT" "(make builds it)"
need node nodejs
need npm npm
need pgrep procps

fakes_tempdir mcp
[ -n "${MCP_KEEP:-}" ] && trap 'for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null; done; echo "kept $T"' EXIT
npm_ready "$CL"

NOW=2026-11-25T06:00:00Z
SLOW=SLOW-QUESTION-5d1
# the model's script: the staging plan (tests/eval), a slow router, and a
# sub-agent that asks for the Secret and the objects that hold the canary
$PY - "$ROOT/tests/eval/staging-plan.json" "$ROOT/examples/demo-cluster/objects/deployments.json" "$SLOW" \
	"$T/script.json" <<'PYEOF'
import json, sys
plan = json.load(open(sys.argv[1]))["script"]["replies"]
d0 = json.load(open(sys.argv[2]))["items"][0]["metadata"]
router = '{"skills": ["cost_optimization"]}'
# the routers first (a request matches the first reply whose "when" it holds)
replies = [
    {"when": sys.argv[3], "delay": 60, "text": router, "repeat": True},
    {"when": "You route a Kubernetes", "text": router, "repeat": True},
    {"when": "refused by the safety layer", "repeat": True,
     "text": "The credentials are a Secret: kopilot refused to read it (Secrets are never read)."},
    {"when": "CANARY-CHECK", "tool_calls": [
        {"name": "read_resource", "arguments": {"kind": "Secret", "name": "db-credentials", "namespace": "shop"}},
        {"name": "run_kubectl", "arguments": {"command": "kubectl get secret db-credentials -n shop -o yaml"}},
        {"name": "read_resource", "arguments": {"kind": "Deployment", "name": d0["name"], "namespace": d0["namespace"]}},
        {"name": "read_resource", "arguments": {"kind": "Pod", "name": "gradio-demo", "namespace": "ml"}}]},
] + plan
json.dump({"replies": replies}, open(sys.argv[4], "w"))
PYEOF
setsid "$PY" "$ROOT/tests/fakes/llm.py" --key sk-mcp-e2e-unused --script "$T/script.json" --log "$T/llm.jsonl" --ollama-open \
	--port-file "$T/llm.port" >"$T/llm.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/llm.port" ] && break; sleep 0.05; done
[ -s "$T/llm.port" ] || { echo "mcp: the LLM fake did not start: $(cat "$T/llm.out")" >&2; exit 1; }
export LLM_PROVIDER=ollama OLLAMA_BASE_URL=http://127.0.0.1:$(cat "$T/llm.port") LLM_MODEL=gpt-oss:20b

count() { # count FILE: the ok / not ok lines of a client into pass / fail
	pass=$((pass + $(grep -c '^ok - ' "$1")))
	fail=$((fail + $(grep -c '^not ok - ' "$1")))
}
node "$CL/client.mjs" "$KOPILOT" "$ROOT/examples/demo-cluster" "$NOW" "$SLOW" 2>&1 | tee "$T/client.out"
count "$T/client.out"
grep -q '^mcp-client: ' "$T/client.out" || not_ok "the SDK client ran to its end" "$(tail -20 "$T/client.out")"
$PY "$ROOT/tests/e2e/mcp_raw.py" "$KOPILOT" "$ROOT/examples/demo-cluster" "$NOW" "$T" "$T/llm.jsonl" "$SLOW" 2>&1 |
	tee "$T/raw.out"
count "$T/raw.out"
grep -q '^mcp-raw: ' "$T/raw.out" || not_ok "the wire checks ran to their end" "$(tail -20 "$T/raw.out")"

# the usage errors
expect_exit "no --transport: exit 2" 2 "transport is required" -- "$KOPILOT" mcp --snapshot examples/demo-cluster
expect_exit "--transport carrier-pigeon: exit 2" 2 "transport" -- "$KOPILOT" mcp --transport carrier-pigeon
expect_exit "--run with --snapshot: exit 2" 2 "one or the other" -- "$KOPILOT" mcp --transport stdio --run "$T" \
	--snapshot examples/demo-cluster
expect_exit "--run without a run there: exit 2" 2 "no findings.json" -- "$KOPILOT" mcp --transport stdio --run "$T"
expect_exit "a broken kubeconfig: exit 2 naming it" 2 "nope.yaml" -- "$KOPILOT" mcp --transport stdio --kubeconfig "$T/nope.yaml"
check "mcp --help names the tools" bash -c "'$KOPILOT' mcp --help | grep -q explain_finding"
finish
