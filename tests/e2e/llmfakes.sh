#!/usr/bin/env bash
# The LLM fake is faithful (tests/fakes/llm.py, five providers' wire
# formats): the official SDKs from npm, openai (and its AzureOpenAI),
# @anthropic-ai/sdk, @google/genai and ollama (pinned in
# tests/clients/llm/package-lock.json), drive through it the exchanges
# kopilot makes and assert what they parsed (tests/clients/llm/sdk.mjs):
#   1. per provider a tool-calling exchange, a 429 retried, a wrong key
#      reported as the SDK's auth error; Anthropic's 529, Ollama's NDJSON
#      stream, Gemini's thought signature echoed by the SDK's chat history;
#   2. the request bodies the SDKs sent type-check against the SDKs' request
#      types (tests/clients/llm/check-bodies.mjs, the checker for kopilot's
#      own bodies), and bodies with the mistakes clients make do not;
#   3. what the SDKs do not exercise: every scripted reply kind in each
#      provider's shape (quota, 500, 529, 401, invalid tool arguments, not
#      JSON, truncated, delayed, the script exhausted), each provider's
#      request checks (anthropic-version, max_tokens, x-api-key, Gemini's
#      ?key= and roles, OpenAI's tool message pairing, Azure's api-version,
#      Ollama's default stream), and the key in no log line.
# Ends with "llmfakes: N passed, N failed".
#
#   bash tests/e2e/llmfakes.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=/usr/bin/python3
CL=$ROOT/tests/clients/llm
SUITE=llmfakes
. "$ROOT/tests/e2e/lib.sh"
need "$PY" python3
need curl curl
need node nodejs
need npm npm
# openai 7 and @google/genai 3 declare node >= 22 but run on the machine's 20 (this suite proves it)
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
	{ echo "llmfakes: node $(node --version) is older than 20, which the LLM SDKs need" >&2; exit 1; }

fakes_tempdir llmfakes

# ---- the official SDKs, as package-lock.json pins them ----
npm_ready "$CL"
for p in openai @anthropic-ai/sdk @google/genai ollama typescript; do
	[ -f "$CL/node_modules/$p/package.json" ] || { echo "llmfakes: $p is not in tests/clients/llm/node_modules after npm ci" >&2; exit 1; }
done
versions=$(cd "$CL" && node -p '["openai", "@anthropic-ai/sdk", "@google/genai", "ollama", "typescript"].map((p) => p + " " + require("./node_modules/" + p + "/package.json").version).join(", ")')
echo "# $versions"

start_fake() { # start_fake NAME ARGS...: its base URL in $URL_<NAME>
	local name=$1; shift
	setsid "$PY" "$ROOT/tests/fakes/llm.py" "$@" --port-file "$T/$name.port" >"$T/$name.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
	[ -s "$T/$name.port" ] || { echo "llmfakes: the $name fake did not start: $(cat "$T/$name.out")" >&2; exit 1; }
	printf -v "URL_$name" 'http://127.0.0.1:%s' "$(cat "$T/$name.port")"
}
KEY=sk-llmfakes-e2e-6f1d0c9a2b7e4d3c
start_fake sdk --key "$KEY" --script "$CL/script.json" --log "$T/sdk.jsonl"

# ---- 1. the exchanges, through the official SDKs ----
out=$(cd "$CL" && timeout 120 node sdk.mjs "$URL_sdk" "$KEY" "$T/sdk.jsonl" 2>&1); rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	esac
done <<<"$out"
if [ $rc -ne 0 ] && ! grep -q '^not ok - ' <<<"$out"; then not_ok "sdk.mjs: exit $rc" "$out"; fi

# ---- 2. the bodies the SDKs sent, against the SDKs' request types ----
check "tsc -p tests/clients/llm: the body types resolve (not any: a key no SDK knows is an error)" \
	node "$CL/node_modules/typescript/bin/tsc" -p "$CL"
grep -v '"temperature"' "$T/sdk.jsonl" >"$T/sdk-bodies.jsonl"
check "check-bodies: every body the SDKs sent type-checks ($(grep -c '"POST"' "$T/sdk-bodies.jsonl") bodies, the five providers)" \
	eval 'node "$CL/check-bodies.mjs" "$T/sdk-bodies.jsonl" && for p in ollama openai azure anthropic gemini; do grep -q "\"provider\": \"$p\"" "$T/sdk-bodies.jsonl" || exit 1; done'
check "check-bodies: of the whole SDK log only the temperature the SDK was made to send (API 2026-10-21 has none) fails" \
	eval '! node "$CL/check-bodies.mjs" "$T/sdk.jsonl" >"$T/cb.out" && test "$(grep -c "^$T/sdk.jsonl:[0-9]*:" "$T/cb.out")" = 1 &&
	grep -q "temperature.* does not exist in type .MessageCreateParams" "$T/cb.out"'
# the mistakes clients make, one per line; the 2023-06-01 temperature is right
$PY - "$T/wrong.jsonl" <<'PYEOF'
import json, sys
def rec(provider, path, body, **kw):
    return dict({"provider": provider, "method": "POST", "path": path, "status": 200, "model": "m", "auth": "bearer",
                 "anthropic_version": None, "api_version": None, "reply": 0, "body": body}, **kw)
rows = [
    # 1 right: OpenAI with a tool result answering its call
    rec("openai", "/v1/chat/completions", {"model": "m", "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "r"}]}),
    # 2 wrong: OpenAI's tool message with tool_use_id (Anthropic's key)
    rec("openai", "/v1/chat/completions", {"model": "m", "messages": [{"role": "tool", "tool_use_id": "call_1", "content": "r"}]}),
    # 3 wrong: Azure's tool with a misspelt description
    rec("azure", "/openai/deployments/d/chat/completions?api-version=2024-10-21", {"messages": [{"role": "user", "content": "q"}],
        "tools": [{"type": "function", "function": {"name": "f", "descripton": "d", "parameters": {"type": "object"}}}]}),
    # 4 wrong: Anthropic's tool in OpenAI's shape (parameters, no input_schema)
    rec("anthropic", "/v1/messages", {"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "q"}],
        "tools": [{"name": "f", "description": "d", "parameters": {"type": "object"}}]}, anthropic_version="2026-10-21"),
    # 5 right: temperature under anthropic-version 2023-06-01
    rec("anthropic", "/v1/messages", {"model": "m", "max_tokens": 16, "temperature": 0, "messages": [{"role": "user", "content": "q"}]},
        anthropic_version="2023-06-01"),
    # 6 wrong: Anthropic without max_tokens
    rec("anthropic", "/v1/messages", {"model": "m", "messages": [{"role": "user", "content": "q"}]}, anthropic_version="2023-06-01"),
    # 7 wrong: Gemini's functionCall with OpenAI's "arguments"
    rec("gemini", "/v1beta/models/m:generateContent", {"contents": [{"role": "model", "parts": [{"functionCall": {"name": "f", "arguments": {}}}]}]}),
    # 8 right: Gemini with a lower-case schema type and a thoughtSignature
    rec("gemini", "/v1beta/models/m:generateContent", {"contents": [{"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "c2ln"}]}],
        "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "string"}}}}]}]}),
    # 9 wrong: Ollama's tool call arguments as a JSON string (OpenAI's habit)
    rec("ollama", "/api/chat", {"model": "m", "messages": [{"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": "{\"a\": 1}"}}]}]}),
    # 10 right: Ollama's tool result with tool_name and the server's tool_call_id
    rec("ollama", "/api/chat", {"model": "m", "stream": False, "messages": [{"role": "tool", "tool_name": "f", "tool_call_id": "call_x", "content": "r"}]}),
    # 11 wrong: a body that is not JSON
    {"provider": "openai", "method": "POST", "path": "/v1/chat/completions", "status": 400, "body_raw": "{model: m}"},
]
with open(sys.argv[1], "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
PYEOF
check "check-bodies: the clients' mistakes fail (lines 2 3 4 6 7 9 11), the right bodies beside them pass (1 5 8 10)" \
	eval '! node "$CL/check-bodies.mjs" "$T/wrong.jsonl" >"$T/wrong.out" &&
	test "$(grep -o "^$T/wrong.jsonl:[0-9]*:" "$T/wrong.out" | cut -d: -f2 | tr "\n" " ")" = "2 3 4 6 7 9 11 " &&
	grep -q "tool_use_id" "$T/wrong.out" && grep -q "descripton" "$T/wrong.out" && grep -q "max_tokens" "$T/wrong.out" &&
	grep -q "arguments" "$T/wrong.out" && grep -q "check-bodies: 11 bodies, 7 failed" "$T/wrong.out"'
check "check-bodies: a missing log is a usage error (exit 2)" \
	eval 'node "$CL/check-bodies.mjs" "$T/no-such.jsonl" 2>/dev/null; test $? = 2'

# ---- 3. what the SDKs do not exercise: curl against a second fake ----
cat >"$T/edge.json" <<'EOF'
{"replies": [
  {"when": "E-quota", "error": {"status": 429, "kind": "quota"}, "repeat": true},
  {"when": "E-500", "error": {"status": 500}, "repeat": true},
  {"when": "E-529", "error": {"status": 529}, "repeat": true},
  {"when": "E-401", "error": {"status": 401}, "repeat": true},
  {"when": "E-raw", "tool_calls": [{"name": "get_cost", "raw_arguments": "{not json"}], "repeat": true},
  {"when": "E-malformed", "malformed": true, "repeat": true},
  {"when": "E-truncated", "truncated": true, "text": "an answer long enough to be cut in half on the wire", "repeat": true},
  {"when": "E-delay", "delay": 1, "text": "late", "repeat": true},
  {"when": "E-once", "text": "only once"},
  {"when": "E-ok", "text": "fine", "repeat": true}
]}
EOF
start_fake edge --key "$KEY" --script "$T/edge.json" --log "$T/edge.jsonl"
E=$URL_edge
# post PROVIDER TEXT [CURL ARGS...]: the status; the body in $T/body, curl's exit in $T/rc
post() {
	local p=$1 text=$2; shift 2
	local url auth body
	case $p in
	ollama) url=$E/api/chat; auth=(-H "Authorization: Bearer $KEY"); body='{"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"'$text'"}]}' ;;
	openai) url=$E/v1/chat/completions; auth=(-H "Authorization: Bearer $KEY"); body='{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"'$text'"}]}' ;;
	azure) url="$E/openai/deployments/kopilot-gpt/chat/completions?api-version=2024-10-21"; auth=(-H "api-key: $KEY"); body='{"messages":[{"role":"user","content":"'$text'"}]}' ;;
	anthropic) url=$E/v1/messages; auth=(-H "x-api-key: $KEY" -H "anthropic-version: 2023-06-01"); body='{"model":"claude-sonnet-4-6","max_tokens":64,"messages":[{"role":"user","content":"'$text'"}]}' ;;
	gemini) url=$E/v1beta/models/gemini-3-flash-preview:generateContent; auth=(-H "x-goog-api-key: $KEY"); body='{"contents":[{"role":"user","parts":[{"text":"'$text'"}]}]}' ;;
	esac
	curl -s -m 10 -o "$T/body" -w '%{http_code}' "${auth[@]}" -H "Content-Type: application/json" -d "$body" "$@" "$url"
	echo $? >"$T/rc"
}
# each TEXT PYTHON-ASSERTION STATUSES: posts TEXT to each provider (ollama openai azure anthropic
# gemini), checks its status (one for all, or five split by |) and its body b with the assertion
each() {
	local p st w i=0 fails="" want
	IFS='|' read -r -a want <<<"$3"
	for p in ollama openai azure anthropic gemini; do
		w=${want[$i]:-${want[0]}}; i=$((i + 1))
		st=$(post "$p" "$1")
		[ "$st" = "$w" ] || { fails+="$p: status $st, not $w; "; continue; }
		$PY -c 'import json, sys
p = sys.argv[1]; b = json.load(open(sys.argv[2]))
assert eval(sys.argv[3]), (p, b)' "$p" "$T/body" "$2" 2>"$T/err" || fails+="$p: $(tail -1 "$T/err"); "
	done
	[ -z "$fails" ] || { echo "$fails"; return 1; }
}
check "quota: OpenAI 429 insufficient_quota, Azure its 429, Anthropic 400 credit balance, Gemini 429 QuotaFailure, Ollama 402" \
	each E-quota '{"ollama": lambda: "usage limit" in b["error"], "openai": lambda: b["error"]["code"] == "insufficient_quota" and b["error"]["type"] == "insufficient_quota",
	  "azure": lambda: b["error"]["code"] == "429", "anthropic": lambda: b["error"]["type"] == "invalid_request_error" and "credit balance" in b["error"]["message"],
	  "gemini": lambda: b["error"]["status"] == "RESOURCE_EXHAUSTED" and "QuotaFailure" in json.dumps(b["error"]["details"])}[p]()' "402|429|429|400|429"
check "500: each provider's internal error shape" \
	each E-500 '{"ollama": lambda: isinstance(b["error"], str), "openai": lambda: b["error"]["type"] == "server_error", "azure": lambda: b["error"]["code"] == "500",
	  "anthropic": lambda: b["type"] == "error" and b["error"]["type"] == "api_error", "gemini": lambda: b["error"]["status"] == "INTERNAL"}[p]()' 500
check "529: Anthropic 529 overloaded_error, the others 503 (Gemini UNAVAILABLE, Ollama server busy)" \
	each E-529 '{"ollama": lambda: "server busy" in b["error"], "openai": lambda: b["error"]["type"] == "server_error", "azure": lambda: b["error"]["code"] == "503",
	  "anthropic": lambda: b["error"]["type"] == "overloaded_error", "gemini": lambda: b["error"]["status"] == "UNAVAILABLE"}[p]()' "503|503|503|529|503"
check "scripted 401: each provider's wrong-key answer (Gemini's 400 API_KEY_INVALID)" \
	each E-401 '{"ollama": lambda: b["error"] == "unauthorized", "openai": lambda: b["error"]["code"] == "invalid_api_key", "azure": lambda: "Access denied" in b["error"]["message"],
	  "anthropic": lambda: b["error"]["type"] == "authentication_error", "gemini": lambda: b["error"]["details"][0]["reason"] == "API_KEY_INVALID"}[p]()' "401|401|401|401|400"
check "raw_arguments: OpenAI and Azure the string as given; Anthropic a tool_use cut by max_tokens; Gemini MALFORMED_FUNCTION_CALL; Ollama the text as content" \
	each E-raw '{"ollama": lambda: "{not json" in b["message"]["content"] and "tool_calls" not in b["message"],
	  "openai": lambda: b["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == "{not json",
	  "azure": lambda: b["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == "{not json",
	  "anthropic": lambda: b["stop_reason"] == "max_tokens" and b["content"][0]["type"] == "tool_use" and b["content"][0]["input"] == {},
	  "gemini": lambda: b["candidates"][0]["finishReason"] == "MALFORMED_FUNCTION_CALL" and "{not json" in b["candidates"][0]["finishMessage"]}[p]()' 200
check "malformed: 200 with a JSON media type and a body that is not JSON, on each provider" \
	eval 'for p in ollama openai azure anthropic gemini; do test "$(post $p E-malformed)" = 200 && ! $PY -m json.tool "$T/body" >/dev/null 2>&1 || exit 1; done'
check "truncated: a Content-Length longer than the bytes sent, then the connection closed (curl exit 18), on each provider" \
	eval 'for p in ollama openai azure anthropic gemini; do post $p E-truncated >/dev/null; test "$(cat "$T/rc")" = 18 || { echo "$p: curl exit $(cat "$T/rc")"; exit 1; }; done'
check "truncated on Ollama's stream: the NDJSON ends without its done line" \
	eval 'curl -s -m 5 -H "Authorization: Bearer $KEY" -d "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"E-truncated\"}]}" "$E/api/chat" >"$T/body"; test $? = 18 &&
	grep -q "\"done\": false" "$T/body" && ! grep -q "\"done\": true" "$T/body"'
check "delay: a reply with delay 1 answers after a second" \
	eval 's=$(date +%s%N); test "$(post openai E-delay)" = 200 && test $(( ($(date +%s%N) - s) / 1000000 )) -ge 950'
check "a reply without repeat is used once; then the script is exhausted: a 500 in the provider shape saying so" \
	eval 'test "$(post anthropic E-once)" = 200 && test "$(post anthropic E-once)" = 500 && grep -q "script is exhausted" "$T/body" && grep -q "\"api_error\"" "$T/body"'
check "token counts in every successful answer, computed from the sizes when not scripted" \
	eval 'post ollama E-ok >/dev/null && $PY -c "import json,sys; b=json.load(open(sys.argv[1])); assert b[\"prompt_eval_count\"] > 0 and b[\"eval_count\"] > 0" "$T/body" &&
	post gemini E-ok >/dev/null && $PY -c "import json,sys; u=json.load(open(sys.argv[1]))[\"usageMetadata\"]; assert u[\"totalTokenCount\"] == u[\"promptTokenCount\"] + u[\"candidatesTokenCount\"] > 1" "$T/body"'
A=(-H "x-api-key: $KEY" -H "Content-Type: application/json")
ANTH='{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"E-ok"}]}'
code() { curl -s -m 10 -o "$T/body" -w '%{http_code}' "$@"; }
check "Anthropic: no anthropic-version is 400 \"anthropic-version: header is required\"; an unknown one \"is not a valid version\"" \
	eval 'test "$(code "${A[@]}" -d "$ANTH" "$E/v1/messages")" = 400 && grep -q "anthropic-version: header is required" "$T/body" &&
	test "$(code "${A[@]}" -H "anthropic-version: 2024-10-22" -d "$ANTH" "$E/v1/messages")" = 400 && grep -q "is not a valid version" "$T/body"'
check "Anthropic: no max_tokens is 400 invalid_request_error \"max_tokens: Field required\"" \
	eval 'test "$(code "${A[@]}" -H "anthropic-version: 2023-06-01" -d "{\"model\":\"m\",\"messages\":[]}" "$E/v1/messages")" = 400 &&
	grep -q "max_tokens: Field required" "$T/body" && grep -q invalid_request_error "$T/body"'
check "Anthropic: x-api-key taken (logged as x-api-key); no key 401 \"x-api-key header is required\"" \
	eval 'test "$(code "${A[@]}" -H "anthropic-version: 2023-06-01" -d "$ANTH" "$E/v1/messages")" = 200 &&
	tail -1 "$T/edge.jsonl" | grep -q "\"auth\": \"x-api-key\"" &&
	test "$(code -H "anthropic-version: 2023-06-01" -d "$ANTH" "$E/v1/messages")" = 401 && grep -q "x-api-key header is required" "$T/body"'
check "Anthropic: a tool_use left unanswered, and a tool_result answering no tool_use, are 400 with Anthropic's messages" \
	eval 'test "$(code "${A[@]}" -H "anthropic-version: 2023-06-01" -d "{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"f\",\"input\":{}}]},{\"role\":\"user\",\"content\":\"E-ok\"}]}" "$E/v1/messages")" = 400 &&
	grep -q "tool_use. ids were found without .tool_result. blocks immediately after: toolu_1" "$T/body" &&
	test "$(code "${A[@]}" -H "anthropic-version: 2023-06-01" -d "{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_9\",\"content\":\"E-ok\"}]}]}" "$E/v1/messages")" = 400 &&
	grep -q "unexpected .tool_use_id. found in .tool_result. blocks: toolu_9" "$T/body"'
check "Gemini: ?key= taken and masked in the log; no key 403 PERMISSION_DENIED" \
	eval 'test "$(code -d "{\"contents\":[{\"parts\":[{\"text\":\"E-ok\"}]}]}" "$E/v1beta/models/g:generateContent?key=$KEY")" = 200 &&
	tail -1 "$T/edge.jsonl" | grep -q "\"path\": \"/v1beta/models/g:generateContent?key=\*\*\*\", .*\"auth\": \"query-key\"" &&
	test "$(code -d "{\"contents\":[{\"parts\":[{\"text\":\"E-ok\"}]}]}" "$E/v1beta/models/g:generateContent")" = 403 && grep -q PERMISSION_DENIED "$T/body"'
check "Gemini: role assistant is 400 \"Please use a valid role\"; a function call turn answered by fewer functionResponse parts is 400" \
	eval 'test "$(code -H "x-goog-api-key: $KEY" -d "{\"contents\":[{\"role\":\"assistant\",\"parts\":[{\"text\":\"E-ok\"}]}]}" "$E/v1beta/models/g:generateContent")" = 400 &&
	grep -q "Please use a valid role: user, model." "$T/body" &&
	test "$(code -H "x-goog-api-key: $KEY" -d "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"q\"}]},{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"a\",\"args\":{}}},{\"functionCall\":{\"name\":\"b\",\"args\":{}}}]},{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"a\",\"response\":{}}}]}]}" "$E/v1beta/models/g:generateContent")" = 400 &&
	grep -q "number of function response parts is equal to the number of function call parts" "$T/body"'
O=(-H "Authorization: Bearer $KEY")
check "OpenAI: a tool message answering no tool_calls, and tool_calls left unanswered, are 400; no key is 401 \"You didn't provide an API key\"" \
	eval 'test "$(code "${O[@]}" -d "{\"model\":\"m\",\"messages\":[{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"E-ok\"}]}" "$E/v1/chat/completions")" = 400 &&
	grep -q "must be a response to a preceeding message with .tool_calls." "$T/body" &&
	test "$(code "${O[@]}" -d "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"call_7\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},{\"role\":\"user\",\"content\":\"E-ok\"}]}" "$E/v1/chat/completions")" = 400 &&
	grep -q "did not have response messages: call_7" "$T/body" &&
	test "$(code -d "{\"model\":\"m\",\"messages\":[]}" "$E/v1/chat/completions")" = 401 && grep -q "You didn.t provide an API key" "$T/body"'
check "Azure: an api-version not of Azure's form is 404 Resource not found; Authorization: Bearer is no api-key (401)" \
	eval 'test "$(code -H "api-key: $KEY" -d "{\"messages\":[]}" "$E/openai/deployments/d/chat/completions?api-version=latest")" = 404 &&
	grep -q "Resource not found" "$T/body" &&
	test "$(code "${O[@]}" -d "{\"messages\":[]}" "$E/openai/deployments/d/chat/completions?api-version=2024-10-21")" = 401'
check "Ollama: no \"stream\" is streamed (NDJSON, chunked, done last) as Ollama's default; no model is 400 \"model is required\"" \
	eval 'curl -s -D "$T/h" -o "$T/body" "${O[@]}" -d "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"E-ok\"}]}" "$E/api/chat" &&
	grep -qi "^content-type: application/x-ndjson" "$T/h" && grep -qi "^transfer-encoding: chunked" "$T/h" &&
	tail -1 "$T/body" | grep -q "\"done\": true, \"done_reason\": \"stop\"" &&
	test "$(code "${O[@]}" -d "{\"messages\":[]}" "$E/api/chat")" = 400 && grep -q "model is required" "$T/body"'
check "no route: 404; a GET on a provider's path: 405" \
	eval 'test "$(code "${O[@]}" -d "{}" "$E/v1/completions")" = 404 && test "$(code "${O[@]}" "$E/v1/chat/completions")" = 405'
check "a request body holding the key is logged with the key masked and key_in_body true" \
	eval 'code "${O[@]}" -d "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"E-ok $KEY\"}]}" "$E/v1/chat/completions" >/dev/null &&
	tail -1 "$T/edge.jsonl" | grep -q "\"key_in_body\": true" && tail -1 "$T/edge.jsonl" | grep -q "E-ok \*\*\*"'
check "the key is in no log line of either fake ($(cat "$T/sdk.jsonl" "$T/edge.jsonl" | wc -l) lines)" \
	eval '! grep -qF -- "$KEY" "$T/sdk.jsonl" "$T/edge.jsonl"'
check "every log line names the provider, method, path, status, model, auth scheme, versions, reply and body" \
	$PY -c 'import json, sys
for f in sys.argv[1:]:
    for n, l in enumerate(open(f), 1):
        r = json.loads(l)
        assert {"provider", "method", "path", "status", "model", "auth", "anthropic_version", "api_version", "reply"} <= r.keys(), (f, n, r)
        assert ("body" in r) != ("body_raw" in r), (f, n)' "$T/sdk.jsonl" "$T/edge.jsonl"

# ---- kopilot's own requests: its LLM client's bodies (the unit test's
# exchanges against this fake, tests/unit/test_llm.c, the log kept) type-check
# against the same SDK request types
UNIT=${UNIT_TESTS:-$ROOT/build/unit-tests}
if [ -x "$UNIT" ]; then
	KP_LLM_LOG_COPY=$T/kopilot.jsonl "$UNIT" --filter 'llm/a_tool_calling_exchange_on_every_provider' >"$T/unit.out" 2>&1
	check "kopilot's client: the tool-calling exchange on all five providers (unit test) passes" \
		eval 'grep -q "Passing: 1 | Failing: 0" "$T/unit.out" || { tail -20 "$T/unit.out"; false; }'
	check "kopilot's client: every body it sent ($(wc -l <"$T/kopilot.jsonl" 2>/dev/null || echo 0) requests, five providers) type-checks against the SDKs' request types" \
		node "$CL/check-bodies.mjs" "$T/kopilot.jsonl"
	check "kopilot's client: five providers in its log, the key in no line" \
		eval 'test "$($PY -c "import json,sys; print(len({json.loads(l)[\"provider\"] for l in open(sys.argv[1])}))" "$T/kopilot.jsonl")" = 5 &&
		! grep -q "sk-test-0123456789abcdef" "$T/kopilot.jsonl"'
else
	not_ok "kopilot's client: $UNIT is not built (make build/unit-tests)"
fi

finish
