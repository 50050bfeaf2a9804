#!/usr/bin/env bash
# kopilot serve end to end (issue 20), over real HTTP with curl:
#   - health and readiness without a token, everything else with it (401
#     with WWW-Authenticate otherwise; a wrong token, a prefix of the token);
#   - /skills, /skills/portable (validated against
#     docs/contracts/portable-skill.schema.json), the agent manifest;
#   - tasks: 202 and Location, answered by the supervisor (the scripted
#     model of tests/fakes/llm.py), the proposal recorded, history;
#     malformed JSON, a missing prompt, an unknown field, a 2 MiB body with
#     and without Content-Length (413), concurrent clients, a full queue
#     (503 and Retry-After), a client over the rate limit (429), a slow
#     client cut off while others are served;
#   - webhooks: PagerDuty v3 and ServiceNow incidents become tasks, others
#     are ignored or refused;
#   - MCP over Streamable HTTP with the official SDK client
#     (tests/clients/mcp/http.mjs);
#   - Slack's Events API: signed events (a bad signature, an old timestamp
#     refused), url_verification, a mention and a DM answered in their
#     thread through tests/fakes/slack.py (proven with the official
#     @slack/web-api client: tests/clients/slack), retries deduplicated,
#     bots ignored, a rate-limited post retried;
#   - /metrics on the metrics port, scraped by a real Prometheus with the
#     token;
#   - SIGTERM with a task running (recorded interrupted, exit 0), a crash
#     mid-task (SIGKILL: the next start marks it interrupted), the history
#     kept across restarts, a second server on the same state refused.
# Ends with "serve: N passed, N failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/serve.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=/usr/bin/python3
SUITE=serve
. "$ROOT/tests/e2e/lib.sh"
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
CL=$ROOT/tests/clients/mcp
need "$PY" python3
need "$KOPILOT" "(make builds it)"
need curl curl
need node nodejs
need npm npm
need prometheus prometheus

fakes_tempdir serve
npm_ready "$CL"
npm_ready "$ROOT/tests/clients/slack"

NOW=2026-11-25T06:00:00Z
TOKEN=serve-e2e-token-4f1c2a9b7d
SLOW=SLOW-TASK-9e2
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# the model: the staging plan, and a router that answers after 60 s
$PY - "$ROOT/tests/eval/staging-plan.json" "$SLOW" "$T/script.json" <<'PYEOF'
import json, sys
plan = json.load(open(sys.argv[1]))["script"]["replies"]
router = '{"skills": ["cost_optimization"]}'
replies = [{"when": sys.argv[2], "delay": 60, "text": router, "repeat": True},
           # every model turn of these questions takes a second: two at once show whether they overlap
           {"when": "PARALLEL-CHECK", "delay": 1, "text": router, "repeat": True, "when_also": None}]
replies[-1].pop("when_also")
# the plan's replies, every one reusable: several tasks ask the same thing
for r in plan:
    r = dict(r)
    r["repeat"] = True
    replies.append(r)
json.dump({"replies": replies}, open(sys.argv[3], "w"))
PYEOF
# the plan's catch-all (list_findings) would answer every later turn once
# it repeats: keep it last and let "NOT RUN" and the findings replies win
setsid "$PY" "$ROOT/tests/fakes/llm.py" --key sk-serve-unused --script "$T/script.json" --log "$T/llm.jsonl" \
	--ollama-open --port-file "$T/llm.port" >"$T/llm.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/llm.port" ] && break; sleep 0.05; done
[ -s "$T/llm.port" ] || { echo "serve: the LLM fake did not start: $(cat "$T/llm.out")" >&2; exit 1; }
export LLM_PROVIDER=ollama OLLAMA_BASE_URL=http://127.0.0.1:$(cat "$T/llm.port") LLM_MODEL=gpt-oss:20b
export KOPILOT_API_TOKEN=$TOKEN

# Slack: one fake for the SDK's proof, one for kopilot; each rate-limits its first post
SLACK_SECRET=8f742231b10e8888abcd99yyyzzz85a5
export SLACK_SIGNING_SECRET=$SLACK_SECRET SLACK_BOT_TOKEN=xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy
for f in sdk kopilot; do
	setsid "$PY" "$ROOT/tests/fakes/slack.py" --token "$SLACK_BOT_TOKEN" --rate-limit 1 --port-file "$T/slack-$f.port" \
		--log "$T/slack-$f.jsonl" >"$T/slack-$f.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$T/slack-$f.port" ] && break; sleep 0.05; done
	[ -s "$T/slack-$f.port" ] || { echo "serve: the Slack fake did not start: $(cat "$T/slack-$f.out")" >&2; exit 1; }
done
SLACK_API=http://127.0.0.1:$(cat "$T/slack-kopilot.port")/api

SPID=
start_server() { # start_server NAME [--set K=V]...: $PORT, $MPORT, $SPID; the state is $T/state
	local name=$1; shift
	PORT=$(free_port); MPORT=$(free_port)
	METRICS_PORT=$MPORT "$KOPILOT" serve --port "$PORT" --state-dir "$T/state" --snapshot examples/demo-cluster \
		--now $NOW --set llm.explain=false --set serve.address=127.0.0.1 --set slack.api_url="$SLACK_API" "$@" \
		>"$T/$name.out" 2>"$T/$name.err" &
	SPID=$!
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "serve: the server did not start: $(cat "$T/$name.err")" >&2
	return 1
}
stop_server() { kill -TERM "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; }
api() { curl -s -H "Authorization: Bearer $TOKEN" "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
wait_task() { # wait_task ID STATUS...: polls until the task is in one of them (60 s)
	local id=$1; shift
	for _ in $(seq 600); do
		st=$(api "http://127.0.0.1:$PORT/tasks/$id" | $PY -c 'import json,sys; print(json.load(sys.stdin).get("status",""))' 2>/dev/null)
		for want in "$@"; do [ "$st" = "$want" ] && return 0; done
		sleep 0.1
	done
	echo "task $id is $st, not $*"
	return 1
}
json_field() { $PY -c 'import json,sys; d=json.load(sys.stdin); [d := d[k] if not k.isdigit() else d[int(k)] for k in sys.argv[1].split(".")]; print(d if isinstance(d,str) else json.dumps(d))' "$1"; }

start_server main --set safety.max_concurrent_tasks=2 || exit 1
B=http://127.0.0.1:$PORT

# ---- tokens
check "/health without a token: 200, the skills and the provider" bash -c "curl -sf $B/health | grep -q '\"skills\":6.*\"llm_provider\":\"ollama\"'"
check "/readyz without a token: 200" test "$(code $B/readyz)" = 200
check "/skills without a token: 401" test "$(code $B/skills)" = 401
check "the 401 says how to authenticate (WWW-Authenticate: Bearer)" bash -c "curl -si $B/skills | grep -qi '^WWW-Authenticate: Bearer'"
check "a wrong token: 401" test "$(code -H 'Authorization: Bearer wrong-token-0000000000' $B/skills)" = 401
check "a prefix of the token: 401" test "$(code -H "Authorization: Bearer ${TOKEN:0:12}" $B/skills)" = 401
check "the token in another scheme: 401" test "$(code -H "Authorization: Basic $TOKEN" $B/skills)" = 401
check "the right token: 200" test "$(code -H "Authorization: Bearer $TOKEN" $B/skills)" = 200

# ---- discovery
api "$B/skills/portable" >"$T/portable.json"
check "/skills/portable: valid against docs/contracts/portable-skills.schema.json" \
	schema_valid docs/contracts/portable-skills.schema.json "$T/portable.json"
check "/skills/portable: the six skills with their prompts and runbooks" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["skills"]) == 6 and all(s["system_prompt"] and s["documentation"] for s in d["skills"]), d' "$T/portable.json"
api "$B/.well-known/agent-manifest.json" >"$T/manifest.json"
check "the agent manifest: async task API, MCP endpoint and protocols, bearer auth" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["name"] == "kopilot" and d["interaction"] == "async" and d["auth"]["type"] == "bearer"
assert d["task_api"]["submit"]["path"] == "/tasks" and d["mcp"]["path"] == "/mcp" and "2025-11-25" in d["mcp"]["protocol_versions"]' "$T/manifest.json"
check "an unknown path: 404 in JSON" bash -c "[ \"\$(curl -s -o '$T/404' -w '%{http_code}' -H 'Authorization: Bearer $TOKEN' $B/nope)\" = 404 ] && grep -q agent-manifest '$T/404'"
check "GET /tasks: 405 with Allow" bash -c "curl -si -H 'Authorization: Bearer $TOKEN' $B/tasks | grep -qi '^Allow: POST'"

# ---- tasks
api -X POST -H 'Content-Type: application/json' -d '{"prompt": "Recommend the next cost-saving actions for staging", "namespace": "staging"}' \
	-D "$T/task.h" "$B/tasks" >"$T/task.json"
ID=$(json_field id <"$T/task.json")
check "POST /tasks: 202, an id and its Location" bash -c "grep -q '^HTTP/1.1 202' '$T/task.h' && grep -qi '^Location: /tasks/$ID' '$T/task.h'"
check "the task is answered" wait_task "$ID" succeeded
api "$B/tasks/$ID" >"$T/task-done.json"
check "the answer, the proposal (not run), the tokens" $PY -c '
import json, sys
t = json.load(open(sys.argv[1]))
assert "launchdarkly-relay" in t["answer"], t
assert [p["command"] for p in t["proposals"]] == ["kubectl -n staging scale deployment launchdarkly-relay --replicas=0"], t["proposals"]
assert t["usage"]["in_tokens"] > 0 and t["usage"]["command_decisions"]["proposed"] == 1, t["usage"]
assert t["source"] == "rest" and t["namespace"] == "staging"' "$T/task-done.json"
check "no task: 404" test "$(code -H "Authorization: Bearer $TOKEN" $B/tasks/task-000)" = 404

for bad in '{"prompt": ' '[1,2]' '{"prompt": ""}' '{"question": "hi"}' '{"prompt": "x", "reflect": "yes"}' '{"prompt": "x", "namespace": "Bad_NS"}' '{"prompt":"x"} trailing'; do
	check "POST /tasks $bad: 400 with a reason" bash -c "[ \"\$(curl -s -o '$T/bad' -w '%{http_code}' -H 'Authorization: Bearer $TOKEN' -X POST --data-binary '$bad' $B/tasks)\" = 400 ] && grep -q '\"error\"' '$T/bad'"
done
head -c $((2 << 20)) /dev/zero | tr '\0' 'a' >"$T/big"
check "a 2 MiB body: 413" test "$(code -H "Authorization: Bearer $TOKEN" -X POST --data-binary @"$T/big" $B/tasks)" = 413
check "a 2 MiB chunked body (no Content-Length): 413" \
	test "$(code -H "Authorization: Bearer $TOKEN" -H 'Transfer-Encoding: chunked' -X POST --data-binary @"$T/big" $B/tasks)" = 413

# concurrent clients: 8 tasks at once, each answered, ids distinct
cpids=()
for i in $(seq 8); do
	api -X POST -d "{\"prompt\": \"Recommend the next cost-saving actions for staging ($i)\"}" "$B/tasks" >"$T/c$i.json" &
	cpids+=($!)
done
wait "${cpids[@]}"
ids=$(for i in $(seq 8); do json_field id <"$T/c$i.json"; done | sort -u | wc -l)
check "8 concurrent POSTs: 8 distinct tasks" test "$ids" = 8
allok=0
for i in $(seq 8); do wait_task "$(json_field id <"$T/c$i.json")" succeeded >/dev/null || allok=1; done
check "the 8 concurrent tasks all succeed" test $allok = 0

# two questions at once run side by side (safety.max_concurrent_tasks=2), not one after the other
p1=$(api -X POST -d '{"prompt": "PARALLEL-CHECK one"}' "$B/tasks" | json_field id)
wait_task "$p1" succeeded failed >/dev/null
one=$(api "$B/tasks/$p1" | json_field duration_seconds)
t0=$(date +%s.%N)
p2=$(api -X POST -d '{"prompt": "PARALLEL-CHECK two"}' "$B/tasks" | json_field id)
p3=$(api -X POST -d '{"prompt": "PARALLEL-CHECK three"}' "$B/tasks" | json_field id)
wait_task "$p2" succeeded failed >/dev/null; wait_task "$p3" succeeded failed >/dev/null
both=$($PY -c "print(round($(date +%s.%N) - $t0, 1))")
check "two questions at once take ${both} s, one alone ${one} s: they ran side by side" $PY -c "assert $both < 1.6 * $one, ($both, $one)"

# history
api "$B/tasks/history?limit=5" >"$T/hist.json"
check "history: the latest 5, newest first" $PY -c '
import json, sys
t = json.load(open(sys.argv[1]))["tasks"]
assert len(t) == 5 and t[0]["id"] == sys.argv[2] and t[1]["id"] == sys.argv[3], [x["id"] for x in t]
assert all(a["created_at"] >= b["created_at"] for a, b in zip(t, t[1:])), t' "$T/hist.json" "$p3" "$p2"
check "history?limit=0: 400" test "$(code -H "Authorization: Bearer $TOKEN" "$B/tasks/history?limit=0")" = 400

# ---- webhooks
api -X POST -d '{"event": {"id": "01DEN", "event_type": "incident.triggered", "resource_type": "incident", "occurred_at": "2026-11-25T05:55:00Z", "data": {"id": "PGR0VU2", "type": "incident", "number": 2, "title": "storefront p99 latency above SLO", "status": "triggered", "urgency": "high", "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2", "service": {"id": "PF9KMXH", "summary": "storefront"}}}}' \
	"$B/webhook" >"$T/pd.json"
PD=$(json_field id <"$T/pd.json")
check "a PagerDuty incident.triggered: a task quoting it as data" bash -c "curl -s -H 'Authorization: Bearer $TOKEN' $B/tasks/$PD | grep -q 'webhook:pagerduty' && curl -s -H 'Authorization: Bearer $TOKEN' $B/tasks/$PD | grep -q 'storefront p99 latency above SLO'"
check "a PagerDuty incident.acknowledged: 200, ignored" bash -c "curl -s -H 'Authorization: Bearer $TOKEN' -X POST -d '{\"event\": {\"event_type\": \"incident.acknowledged\", \"data\": {}}}' $B/webhook | grep -q '\"ignored\"'"
api -X POST -d '{"sys_id": "9d385017c611228701d22104cc95c371", "number": "INC0010023", "short_description": "checkout pods OOMKilled", "description": "cart-api restarts every hour", "priority": "2", "cmdb_ci": "checkout"}' "$B/webhook" >"$T/sn.json"
SN=$(json_field id <"$T/sn.json")
check "a ServiceNow incident: a task" bash -c "curl -s -H 'Authorization: Bearer $TOKEN' $B/tasks/$SN | grep -q 'INC0010023'"
check "an unknown webhook: 400 naming both shapes" bash -c "curl -s -H 'Authorization: Bearer $TOKEN' -X POST -d '{\"hello\": 1}' $B/webhook | grep -q 'PagerDuty.*ServiceNow'"
wait_task "$PD" succeeded failed >/dev/null; wait_task "$SN" succeeded failed >/dev/null

# ---- MCP over Streamable HTTP, the official SDK client
node "$CL/http.mjs" "$B/mcp" "$TOKEN" "$SLOW" 2>&1 | tee "$T/http.out"
pass=$((pass + $(grep -c '^ok - ' "$T/http.out")))
fail=$((fail + $(grep -c '^not ok - ' "$T/http.out")))
grep -q '^mcp-http: ' "$T/http.out" || not_ok "the SDK HTTP client ran to its end" "$(tail -20 "$T/http.out")"

# ---- Slack
node "$ROOT/tests/clients/slack/sdk.mjs" "http://127.0.0.1:$(cat "$T/slack-sdk.port")/api" "$SLACK_BOT_TOKEN" 2>&1 | tee "$T/slack-sdk.out"
pass=$((pass + $(grep -c '^ok - ' "$T/slack-sdk.out")))
fail=$((fail + $(grep -c '^not ok - ' "$T/slack-sdk.out")))
grep -q '^slack-sdk: ' "$T/slack-sdk.out" || not_ok "the Slack SDK client ran to its end" "$(tail -20 "$T/slack-sdk.out")"
ev() { $PY "$ROOT/tests/e2e/slack_event.py" "$B/slack/events" "$SLACK_SECRET" "$@"; }
check "url_verification: the challenge back" bash -c "$PY '$ROOT/tests/e2e/slack_event.py' '$B/slack/events' '$SLACK_SECRET' '{\"type\":\"url_verification\",\"token\":\"x\",\"challenge\":\"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P\"}' | grep -q '^200 .*3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P'"
MENTION='{"token":"x","team_id":"T0ACME","api_app_id":"A0KOPILOT","type":"event_callback","event_id":"Ev0MENTION1","event_time":1764050000,"event":{"type":"app_mention","user":"U0ALICE","text":"<@U0KOPILOT> Recommend the next cost-saving actions for staging","ts":"1764050000.000200","channel":"C0FINOPS","event_ts":"1764050000.000200"}}'
check "a bad signature: 401" bash -c "$PY '$ROOT/tests/e2e/slack_event.py' '$B/slack/events' '$SLACK_SECRET' '$MENTION' --bad-signature | grep -q '^401 .*signature'"
check "a timestamp 10 minutes old: 401 (a replay)" bash -c "$PY '$ROOT/tests/e2e/slack_event.py' '$B/slack/events' '$SLACK_SECRET' '$MENTION' --age 600 | grep -q '^401 .*replay'"
check "no bearer token is needed for Slack (its signature is the check)" bash -c "$PY '$ROOT/tests/e2e/slack_event.py' '$B/slack/events' '$SLACK_SECRET' '$MENTION' | grep -q '^200 .*\"task\"'"
check "Slack's retry of the same event: acknowledged, not run again" bash -c "$PY '$ROOT/tests/e2e/slack_event.py' '$B/slack/events' '$SLACK_SECRET' '$MENTION' --retry 1 | grep -q 'already received'"
BOT='{"type":"event_callback","event_id":"Ev0BOT","event":{"type":"message","channel_type":"im","bot_id":"B0KOPILOT","text":"an answer","ts":"1764050001.000100","channel":"D0ALICE"}}'
check "the bot's own message: ignored" bash -c "$PY '$ROOT/tests/e2e/slack_event.py' '$B/slack/events' '$SLACK_SECRET' '$BOT' | grep -q 'ignored'"
DM='{"type":"event_callback","event_id":"Ev0DM1","event":{"type":"message","channel_type":"im","user":"U0ALICE","text":"Recommend the next cost-saving actions for staging","ts":"1764050002.000300","channel":"D0ALICE"}}'
check "a direct message: a task" bash -c "$PY '$ROOT/tests/e2e/slack_event.py' '$B/slack/events' '$SLACK_SECRET' '$DM' | grep -q '\"task\"'"
EMPTY='{"type":"event_callback","event_id":"Ev0EMPTY","event":{"type":"app_mention","user":"U0ALICE","text":"<@U0KOPILOT>","ts":"1764050003.000400","channel":"C0FINOPS"}}'
ev "$EMPTY" >/dev/null
check "the answers are posted in their threads (the 429 waited out), as mrkdwn with the proposal" $PY - "$T/slack-kopilot.jsonl" <<'PYEOF'
import json, sys, time
for _ in range(300):
    posts = [json.loads(l) for l in open(sys.argv[1])]
    ok = [p for p in posts if p["status"] == 200 and not p["error"]]
    if len(ok) >= 3:
        break
    time.sleep(0.1)
assert any(p["status"] == 429 for p in posts), "no rate-limited post"
by_thread = {p["body"].get("thread_ts"): p["body"] for p in ok}
m = by_thread["1764050000.000200"]
assert m["channel"] == "C0FINOPS" and "launchdarkly-relay" in m["text"], m
blocks = "".join(b["text"]["text"] for b in m["blocks"])
assert "*Proposed, not run*" in blocks and "kubectl -n staging scale deployment launchdarkly-relay --replicas=0" in blocks, blocks
assert "**" not in blocks, blocks
assert by_thread["1764050002.000300"]["channel"] == "D0ALICE"
assert "Ask me about" in by_thread["1764050003.000400"]["text"]
assert not [p for p in posts if p["error"] not in (None, "ratelimited")], posts
PYEOF
check "Slack's token is in no log of the server" bash -c "! grep -rqF -- '$SLACK_BOT_TOKEN' '$T/main.err' '$T/main.out' '$T/state/run/audit.jsonl'"

# ---- metrics, scraped by a real Prometheus with the token
check "/metrics without a token: 401" test "$(code http://127.0.0.1:$MPORT/metrics)" = 401
printf '%s' "$TOKEN" >"$T/token"
PPORT=$(free_port)
cat >"$T/prometheus.yml" <<EOF
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: kopilot
    authorization: {credentials_file: $T/token}
    static_configs: [{targets: ["127.0.0.1:$MPORT"]}]
EOF
setsid prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" --web.listen-address=127.0.0.1:$PPORT \
	>"$T/prom.log" 2>&1 &
PIDS+=($!)
got=
for _ in $(seq 150); do
	got=$(curl -s "http://127.0.0.1:$PPORT/api/v1/query?query=kopilot_tasks_total%7Bstatus%3D%22succeeded%22%7D" |
		$PY -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null)
	[ -n "$got" ] && break
	sleep 0.2
done
want=$(api "http://127.0.0.1:$MPORT/metrics" | sed -n 's/^kopilot_tasks_total{status="succeeded"} //p')
check "Prometheus scraped /metrics with the token: kopilot_tasks_total{status=\"succeeded\"} = $want" test -n "$got" -a "$got" = "$want"
check "the scrape target is up" bash -c "curl -s 'http://127.0.0.1:$PPORT/api/v1/query?query=up%7Bjob%3D%22kopilot%22%7D' | grep -q '\"1\"\]'"
check "metrics: tokens, safety decisions, durations" bash -c "curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$MPORT/metrics | grep -q '^kopilot_llm_tokens_total{provider=\"ollama\",direction=\"in\"} [1-9]' && curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$MPORT/metrics | grep -q '^kopilot_safety_decisions_total{decision=\"proposed\"} [1-9]' && curl -s -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$MPORT/metrics | grep -q '^kopilot_task_duration_seconds_count [1-9]'"

# ---- a second server on the same state: refused
expect_exit "a second server on the same state directory: exit 4" 4 "state directory" -- \
	"$KOPILOT" serve --port "$(free_port)" --state-dir "$T/state" --snapshot examples/demo-cluster --set metrics.enabled=false

# ---- SIGTERM with a task running and one waiting
stop_server
start_server term --set safety.max_concurrent_tasks=1 --set serve.shutdown_grace_seconds=1 || exit 1
B=http://127.0.0.1:$PORT
R=$(api -X POST -d "{\"prompt\": \"$SLOW running\"}" "$B/tasks" | json_field id)
Q=$(api -X POST -d "{\"prompt\": \"$SLOW waiting\"}" "$B/tasks" | json_field id)
wait_task "$R" running >/dev/null
t0=$(date +%s.%N)
kill -TERM "$SPID"; wait "$SPID"; rc=$?
took=$($PY -c "print(round($(date +%s.%N) - $t0, 1))")
check "SIGTERM with a task running: exit 0 in ${took} s (grace 1 s)" $PY -c "assert $rc == 0 and $took < 10"
check "no child left running" bash -c "! pgrep -f '[a]sk --run $T/state/run' >/dev/null"
start_server after || exit 1
B=http://127.0.0.1:$PORT
check "after the restart: the running task is recorded interrupted" bash -c "curl -s -H 'Authorization: Bearer $TOKEN' $B/tasks/$R | grep -q '\"status\":\"interrupted\".*shut down'"
check "after the restart: the waiting one too" bash -c "curl -s -H 'Authorization: Bearer $TOKEN' $B/tasks/$Q | grep -q '\"status\":\"interrupted\".*before the task started'"
check "after the restart: the history kept the first task's answer" bash -c "curl -s -H 'Authorization: Bearer $TOKEN' $B/tasks/$ID | grep -q launchdarkly-relay"

# ---- a full queue, the rate limit, a slow client
stop_server
start_server limits --set safety.max_concurrent_tasks=1 --set serve.queue_size=2 --set serve.rate_limit_per_minute=20 \
	--set serve.client_timeout_seconds=2 --set serve.shutdown_grace_seconds=0 || exit 1
B=http://127.0.0.1:$PORT
for i in 1 2 3; do api -X POST -d "{\"prompt\": \"$SLOW $i\"}" "$B/tasks" >/dev/null; sleep 0.3; done
K=$(curl -s -H "Authorization: Bearer $TOKEN" "$B/tasks/history?limit=20" 2>/dev/null | $PY -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin)["tasks"] if t["status"]=="running"][0])' 2>/dev/null)
check "a full queue (1 running, 2 waiting): 503 with Retry-After" bash -c "curl -si -H 'Authorization: Bearer $TOKEN' -X POST -d '{\"prompt\": \"one more\"}' $B/tasks | grep -qi '^Retry-After: '"
# the slow client: headers never finished; the server cuts it and serves others meanwhile
$PY - "$PORT" >"$T/slow.out" 2>&1 <<'PYEOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /tasks HTTP/1.1\r\nHost: x\r\n")
t0 = time.time()
s.settimeout(20)
try:
    data = s.recv(100)
except Exception as e:
    data = repr(e).encode()
print("closed after %.1f s: %r" % (time.time() - t0, data[:40]))
PYEOF
SLOWPID=$!
sleep 0.5
check "while a slow client stalls, others are served" test "$(code $B/health)" = 200
wait $SLOWPID
check "the slow client is cut off (serve.client_timeout_seconds=2)" $PY -c "
import re; m = re.search(r'closed after ([0-9.]+) s', open('$T/slow.out').read()); assert m and float(m.group(1)) < 10, open('$T/slow.out').read()"
n429=0
for i in $(seq 30); do [ "$(code -H "Authorization: Bearer $TOKEN" $B/skills)" = 429 ] && n429=$((n429 + 1)); done
check "over 20 requests a minute from one address: 429 ($n429 of 30)" test "$n429" -ge 5
check "the 429 carries Retry-After" bash -c "curl -si -H 'Authorization: Bearer $TOKEN' $B/skills | grep -qi '^Retry-After: [0-9]'"
check "health is not rate limited" test "$(code $B/health)" = 200

# ---- a crash mid-task (SIGKILL): the next start marks it interrupted
kill -KILL "$SPID"; wait "$SPID" 2>/dev/null
pkill -KILL -f "[a]sk --run $T/state/run" 2>/dev/null
start_server crash || exit 1
B=http://127.0.0.1:$PORT
check "after a crash: the task it was running is interrupted (found at the next start)" \
	bash -c "[ -n '$K' ] && curl -s -H 'Authorization: Bearer $TOKEN' $B/tasks/$K | grep -q 'found at the next start'"
check "the crash is logged at the next start" grep -q "left unfinished by the last server" "$T/crash.err"
stop_server

# ---- usage errors
expect_exit "no token: exit 2 saying how to make one" 2 "KOPILOT_API_TOKEN" -- env -u KOPILOT_API_TOKEN "$KOPILOT" serve --snapshot examples/demo-cluster
expect_exit "a short token: exit 2" 2 "16 characters" -- env KOPILOT_API_TOKEN=short "$KOPILOT" serve --snapshot examples/demo-cluster
expect_exit "--port 0: exit 2" 2 "port" -- "$KOPILOT" serve --port 0 --snapshot examples/demo-cluster
expect_exit "a port in use: exit 4" 4 "cannot listen" -- "$KOPILOT" serve --port "$PPORT" --state-dir "$T/state2" --snapshot examples/demo-cluster --set metrics.enabled=false
check "no sanitizer report from any server it started (make asan)" bash -c "! grep -l 'Sanitizer\|runtime error:' '$T'/*.err"
check "kopilot serve --help lists the endpoints" bash -c "'$KOPILOT' serve --help | grep -q '/tasks/history'"
finish
