#!/usr/bin/env bash
# notify.sh - what `kopilot run` sends when it ends (README "Run metrics and
# notifications"):
#   1. run metrics POSTed to Debian's real prometheus-pushgateway, scraped
#      back by a real Prometheus (honor_labels): findings per category and
#      savings equal findings.json's, every stage has a duration, the last
#      success is set; a failed run (bad input, exit 4) pushes its exit code
#      and keeps the last success; a Pushgateway that is down is a warning
#      and the exit code stays; basic auth against a Pushgateway's own web
#      config (a wrong password: one 401, a warning); metrics.enabled false
#      sends nothing;
#   2. the node-exporter textfile: promtool check metrics, mode 0644,
#      replaced by rename (an old hard link keeps the old whole file), label
#      values escaped, metrics.max_savings_series caps the series and keeps
#      the sums, a failed run keeps the last good run's families, LLM
#      tokens counted from the explanations' calls to the LLM fake;
#   3. the Slack incoming webhook (tests/fakes/slackhook.py, proven faithful
#      by the official @slack/webhook client: tests/clients/slack/webhook.mjs)
#      and a generic JSON webhook (tests/fakes/webhook.py): Block Kit the
#      fake accepts, numbers equal to findings.json's, 429 then 200 retried,
#      500 forever and 410 are warnings with the exit code unchanged, a
#      broken template is a warning naming the file and the position, and
#      the webhook URL's token appears in no file kopilot writes or message.
#
#   KOPILOT=build/kopilot bash tests/e2e/notify.sh
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
SUITE=notify
PY=/usr/bin/python3
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
need "$KOPILOT" "build it with 'make'"
need prometheus prometheus
need promtool prometheus
need prometheus-pushgateway prometheus-pushgateway
need curl curl
need node nodejs
need npm npm
fakes_tempdir notify
npm_ready "$ROOT/tests/clients/slack"
DEMO=$ROOT/examples/demo-cluster
NOW=2026-11-25T06:00:00Z
# none of the caller's settings
unset PUSHGATEWAY_URL METRICS_TEXTFILE_DIR METRICS_ENABLED SLACK_WEBHOOK_URL NOTIFY_WEBHOOK_URL REPORT_URL
export KOPILOT_NOTIFY_MAX_ATTEMPTS=3

free_port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
# start_fake NAME SCRIPT ARGS...: a Python fake on a free port, PORT_NAME set
start_fake() {
	local name=$1 script=$2; shift 2
	rm -f "$T/$name.port" "$T/$name.jsonl"
	setsid "$PY" "$ROOT/tests/fakes/$script" --port-file "$T/$name.port" --log "$T/$name.jsonl" "$@" >"$T/$name.out" 2>&1 &
	PIDS+=($!)
	printf -v "PID_$name" '%s' "$!"
	for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
	[ -s "$T/$name.port" ] || { echo "notify: the fake $name did not start: $(cat "$T/$name.out")" >&2; exit 1; }
	printf -v "PORT_$name" '%s' "$(cat "$T/$name.port")"
}
stop_pid() { kill -- "-$1" 2>/dev/null; wait "$1" 2>/dev/null; }
# run_kopilot NAME ARGS...: RC_NAME, $T/NAME.err
run_kopilot() {
	local name=$1; shift
	"$KOPILOT" run --now "$NOW" --quiet "$@" >"$T/$name.stdout" 2>"$T/$name.err"
	printf -v "RC_$name" '%s' "$?"
}

# ------------------------------------------------------ baseline, no export
run_kopilot base --snapshot "$DEMO" --out "$T/runs/base"
mkdir -p "$T/bad" && cp -r "$DEMO" "$T/bad/" && echo '{"kind":"List","items":[' >"$T/bad/demo-cluster/objects/pods.json"
run_kopilot basebad --snapshot "$T/bad/demo-cluster" --out "$T/runs/basebad"
check "baseline: the demo exits 3 (degraded by design), the broken copy 4" test "$RC_base-$RC_basebad" = "3-4"

# ------------------------------------------------ Pushgateway + Prometheus
GW_PORT=$(free_port)
mkdir -p "$T/gw"
setsid prometheus-pushgateway --web.listen-address="127.0.0.1:$GW_PORT" --persistence.file="$T/gw/pushgateway.data" \
	>"$T/gw.log" 2>&1 &
GW_PID=$!
PIDS+=($GW_PID)
GW=http://127.0.0.1:$GW_PORT
for _ in $(seq 200); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$GW/-/ready")" = 200 ] && break; sleep 0.05; done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$GW/-/ready")" = 200 ] || { echo "notify: the Pushgateway did not start: $(tail -5 "$T/gw.log")" >&2; exit 1; }
P_PORT=$(free_port)
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:$GW_PORT"]
EOF
setsid prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" --web.listen-address="127.0.0.1:$P_PORT" \
	>"$T/prom.log" 2>&1 &
PIDS+=($!)
PROM=http://127.0.0.1:$P_PORT
for _ in $(seq 600); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$PROM/-/ready")" = 200 ] && break; sleep 0.1; done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$PROM/-/ready")" = 200 ] || { echo "notify: Prometheus did not start: $(tail -5 "$T/prom.log")" >&2; exit 1; }
# promq QUERY: the instant query's result as JSON lines {labels..., "value": v}
promq() {
	curl -s --get "$PROM/api/v1/query" --data-urlencode "query=$1" |
		$PY -c 'import json,sys
for r in json.load(sys.stdin)["data"]["result"]:
    m = dict(r["metric"]); m["value"] = float(r["value"][1]); print(json.dumps(m, sort_keys=True))'
}
# wait_prom QUERY: until Prometheus has scraped a sample for QUERY
wait_prom() {
	for _ in $(seq 300); do [ -n "$(promq "$1")" ] && return 0; sleep 0.1; done
	return 1
}

export PUSHGATEWAY_URL=$GW
run_kopilot push --snapshot "$DEMO" --out "$T/runs/push"
check "with PUSHGATEWAY_URL: the same exit code as without (3)" test "$RC_push" = "$RC_base"
check "run.json: metrics.pushgateway pushed, status 200" \
	$PY -c 'import json,sys; p = json.load(open(sys.argv[1]))["metrics"]["pushgateway"]; assert p["pushed"] and p["status"] == 200 and p["error"] is None, p' "$T/runs/push/run.json"
check "audit.jsonl: a run.metrics event" grep -q '"event":"run.metrics"' "$T/runs/push/audit.jsonl"
if wait_prom 'kopilot_last_success_timestamp_seconds{job="kopilot",cluster="demo-cluster"}'; then
	ok "Prometheus scraped the Pushgateway: kopilot_last_success_timestamp_seconds{job=\"kopilot\",cluster=\"demo-cluster\"}"
else
	not_ok "Prometheus never saw kopilot_last_success_timestamp_seconds" "$(curl -s "$GW/metrics" | grep kopilot_ | head)"
fi
promq 'kopilot_findings{job="kopilot"}' >"$T/q-findings"
promq 'kopilot_monthly_savings{job="kopilot"}' >"$T/q-savings"
promq 'kopilot_stage_duration_seconds{job="kopilot"}' >"$T/q-stages"
check "kopilot_findings per category equals findings.json's count per category" \
	$PY -c 'import json,sys,collections
f = json.load(open(sys.argv[1]))["findings"]
want = collections.Counter(x["category"] for x in f)
got = {}
for l in open(sys.argv[2]):
    m = json.loads(l); assert m["cluster"] == "demo-cluster", m; got[m["category"]] = m["value"]
assert got == dict(want), (got, want)' "$T/runs/push/findings.json" "$T/q-findings"
check "kopilot_monthly_savings: the total and each category's and namespace's sum equal findings.json's" \
	$PY -c 'import json,sys,collections
d = json.load(open(sys.argv[1]))
want = collections.defaultdict(float)
for x in d["findings"]:
    want[(x["category"], x["resource"]["namespace"] or "(cluster)")] += x["monthly_savings"]
got = {}
for l in open(sys.argv[2]):
    m = json.loads(l); got[(m["category"], m["namespace"])] = m["value"]
assert set(got) == set(want), set(got) ^ set(want)
for k in want: assert abs(got[k] - want[k]) < 1e-6, (k, got[k], want[k])
assert abs(sum(got.values()) - d["totals"]["monthly_savings"]) < 0.005, (sum(got.values()), d["totals"])' \
	"$T/runs/push/findings.json" "$T/q-savings"
check "kopilot_stage_duration_seconds for collect, analyze, recommend and render, as run.json's stage_seconds" \
	$PY -c 'import json,sys
st = json.load(open(sys.argv[1]))["stage_seconds"]
got = {json.loads(l)["stage"]: json.loads(l)["value"] for l in open(sys.argv[2])}
assert set(got) == {"collect", "analyze", "recommend", "render"}, got
for k in got: assert abs(got[k] - st[k]) < 1e-6, (k, got[k], st[k])' "$T/runs/push/run.json" "$T/q-stages"
LAST_OK=$(promq 'kopilot_last_success_timestamp_seconds{job="kopilot"}' | $PY -c 'import json,sys; print(int(json.loads(sys.stdin.readline())["value"]))')
check "kopilot_run_exit_code 3, kopilot_run_degraded 1, last success = last run, run duration > 0" \
	$PY -c 'import json,sys
q = {k: json.loads(v)["value"] for k, v in zip(sys.argv[1::2], sys.argv[2::2])}
assert q["exit"] == 3 and q["degraded"] == 1 and q["last"] == q["ok"] and q["dur"] > 0, q' \
	exit "$(promq 'kopilot_run_exit_code{job="kopilot"}')" degraded "$(promq 'kopilot_run_degraded{job="kopilot"}')" \
	last "$(promq 'kopilot_last_run_timestamp_seconds{job="kopilot"}')" ok "$(promq 'kopilot_last_success_timestamp_seconds{job="kopilot"}')" \
	dur "$(promq 'kopilot_run_duration_seconds{job="kopilot"}')"

# a failed run: its exit code goes out, the last good run's figures stay
sleep 1.1 # the next run's timestamp must differ from the first's to tell them apart
run_kopilot pushbad --snapshot "$T/bad/demo-cluster" --out "$T/runs/pushbad"
check "a failed run with PUSHGATEWAY_URL: exit 4, as without" test "$RC_pushbad" = "$RC_basebad"
if wait_prom 'kopilot_run_exit_code{job="kopilot",cluster="demo-cluster"} == 4'; then
	ok "Prometheus: kopilot_run_exit_code 4 after the failed run (same group: cluster from the snapshot's name)"
else
	not_ok "kopilot_run_exit_code never became 4" "$(curl -s "$GW/metrics" | grep '^kopilot_run_exit_code')"
fi
check "the failed run kept kopilot_last_success_timestamp_seconds, the findings and the savings (POST, not PUT)" \
	$PY -c 'import json,sys
last = json.loads(sys.argv[2])["value"]; assert int(last) == int(sys.argv[1]), (last, sys.argv[1])
assert float(sys.argv[3]) == float(sys.argv[4]) > 0, sys.argv[3:]' "$LAST_OK" \
	"$(promq 'kopilot_last_success_timestamp_seconds{job="kopilot"}')" \
	"$(promq 'count(kopilot_findings{job="kopilot"})' | $PY -c 'import json,sys; print(json.loads(sys.stdin.readline())["value"])')" \
	"$(wc -l <"$T/q-findings")"
check "the failed run's push: last run time moved past the last success" \
	$PY -c 'import json,sys; assert json.loads(sys.argv[1])["value"] > json.loads(sys.argv[2])["value"]' \
	"$(curl -s "$GW/metrics" | $PY -c 'import sys,json
for l in sys.stdin:
    if l.startswith("kopilot_last_run_timestamp_seconds{"): print(json.dumps({"value": float(l.split()[-1])}))')" \
	"$(promq 'kopilot_last_success_timestamp_seconds{job="kopilot"}')"

# a Pushgateway that is down: a warning, the same exit code, run.json says so
DOWN=$(free_port)
PUSHGATEWAY_URL=http://127.0.0.1:$DOWN run_kopilot down --snapshot "$DEMO" --out "$T/runs/down"
check "Pushgateway down: the same exit code as without metrics ($RC_base)" test "$RC_down" = "$RC_base"
check "Pushgateway down: a warning on stderr that the metrics were not pushed" grep -q "warning: run: run metrics not pushed" "$T/down.err"
check "Pushgateway down: run.json metrics.pushgateway.pushed false, with the error" \
	$PY -c 'import json,sys; p = json.load(open(sys.argv[1]))["metrics"]["pushgateway"]; assert not p["pushed"] and p["error"], p' "$T/runs/down/run.json"
# basic auth: a Pushgateway behind its own web config (bcrypt hash, as its docs require)
GWA_PORT=$(free_port)
GW_PW=pw-notify-e2e-0123
printf 'basic_auth_users:\n  kopilot: %s\n' "$($PY -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))' "$GW_PW")" >"$T/gw-web.yml"
setsid prometheus-pushgateway --web.listen-address="127.0.0.1:$GWA_PORT" --web.config.file="$T/gw-web.yml" >"$T/gwa.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [ "$(curl -s -o /dev/null -w '%{http_code}' -u "kopilot:$GW_PW" "http://127.0.0.1:$GWA_PORT/-/ready")" = 200 ] && break; sleep 0.05; done
PUSHGATEWAY_URL=http://127.0.0.1:$GWA_PORT PUSHGATEWAY_PASSWORD=$GW_PW KOPILOT_METRICS_PUSHGATEWAY_USERNAME=kopilot \
	run_kopilot auth --snapshot "$DEMO" --out "$T/runs/auth"
check "basic auth (metrics.pushgateway_username, PUSHGATEWAY_PASSWORD): pushed, the metrics are in that Pushgateway" \
	sh -c "test $RC_auth = $RC_base && curl -s -u 'kopilot:$GW_PW' 'http://127.0.0.1:$GWA_PORT/metrics' | grep -q '^kopilot_findings{category=\"over-provisioned\",cluster=\"demo-cluster\"'"
PUSHGATEWAY_URL=http://127.0.0.1:$GWA_PORT PUSHGATEWAY_PASSWORD=wrong-password-e2e KOPILOT_METRICS_PUSHGATEWAY_USERNAME=kopilot \
	run_kopilot authbad --snapshot "$DEMO" --out "$T/runs/authbad"
check "a wrong password: 401 once (a 4xx is not retried), a warning, the exit code unchanged, no password in run.json or messages" \
	sh -c "test $RC_authbad = $RC_base && grep -q 'run metrics not pushed.*401' '$T/authbad.err' &&
		$PY -c 'import json,sys; p = json.load(open(sys.argv[1]))[\"metrics\"][\"pushgateway\"]; assert (p[\"attempts\"], p[\"status\"]) == (1, 401), p' '$T/runs/authbad/run.json' &&
		! grep -rq -e wrong-password-e2e -e '$GW_PW' '$T/runs/auth' '$T/runs/authbad' '$T/auth.err' '$T/authbad.err'"
METRICS_ENABLED=false run_kopilot off --snapshot "$DEMO" --out "$T/runs/off"
check "METRICS_ENABLED=false: nothing exported (no metrics in run.json), exit unchanged" \
	$PY -c 'import json,sys; r = json.load(open(sys.argv[1])); assert "metrics" not in r and r["exit_code"] == int(sys.argv[2]), r.get("metrics")' \
	"$T/runs/off/run.json" "$RC_base"
unset PUSHGATEWAY_URL

# ------------------------------------------------------------- textfile
mkdir -p "$T/textfile"
export METRICS_TEXTFILE_DIR=$T/textfile
run_kopilot tf1 --snapshot "$DEMO" --out "$T/runs/tf1"
check "textfile: exit code unchanged" test "$RC_tf1" = "$RC_base"
check "textfile: promtool check metrics accepts kopilot.prom" sh -c "promtool check metrics <'$T/textfile/kopilot.prom'"
check "textfile: mode 0644 (the node exporter's user reads it), no temp file left" \
	sh -c "test \"\$(stat -c %a '$T/textfile/kopilot.prom')\" = 644 && test \"\$(ls -A '$T/textfile')\" = kopilot.prom"
ln "$T/textfile/kopilot.prom" "$T/old.prom"
cp "$T/textfile/kopilot.prom" "$T/old.copy"
run_kopilot tf2 --snapshot "$DEMO" --out "$T/runs/tf2" --cluster-name 'we"ird\cluster'
check "textfile: replaced by a rename (a hard link to the old file still holds the old, whole file)" \
	sh -c "cmp -s '$T/old.prom' '$T/old.copy' && test \"\$(stat -c %i '$T/old.prom')\" != \"\$(stat -c %i '$T/textfile/kopilot.prom')\""
check "textfile: a cluster name with a quote and a backslash is escaped; promtool accepts it" \
	sh -c "promtool check metrics <'$T/textfile/kopilot.prom' && grep -qF 'kopilot_run_exit_code{cluster=\"we\\\"ird\\\\cluster\"} 3' '$T/textfile/kopilot.prom'"
KOPILOT_METRICS_MAX_SAVINGS_SERIES=12 run_kopilot tfcap --snapshot "$DEMO" --out "$T/runs/tfcap"
check "metrics.max_savings_series 12 (the demo: 27 pairs in 9 categories): at most 12 savings series, \"(other)\" holds the rest, the total unchanged" \
	$PY -c 'import json,sys,re
d = json.load(open(sys.argv[1]))
rows = [l for l in open(sys.argv[2]) if l.startswith("kopilot_monthly_savings{")]
assert 9 <= len(rows) <= 12, rows
assert any("namespace=\"(other)\"" in l for l in rows), rows
tot = sum(float(l.split()[-1]) for l in rows)
assert abs(tot - d["totals"]["monthly_savings"]) < 0.005, (tot, d["totals"])' "$T/runs/tfcap/findings.json" "$T/textfile/kopilot.prom"
check "metrics.max_savings_series: promtool still accepts the file" sh -c "promtool check metrics <'$T/textfile/kopilot.prom'"
cp "$T/textfile/kopilot.prom" "$T/good.prom"
run_kopilot tfbad --snapshot "$T/bad/demo-cluster" --out "$T/runs/tfbad"
check "textfile, a failed run: exit 4 as without; exit code 4 in the file, the last good run's last success, findings and savings kept; promtool accepts it" \
	sh -c "test $RC_tfbad = $RC_basebad && grep -q '^kopilot_run_exit_code{cluster=\"demo-cluster\"} 4\$' '$T/textfile/kopilot.prom' &&
		grep -E '^kopilot_(last_success_timestamp_seconds|findings|monthly_savings|actionable_monthly_savings)\{' '$T/good.prom' >'$T/good.kept' &&
		grep -E '^kopilot_(last_success_timestamp_seconds|findings|monthly_savings|actionable_monthly_savings)\{' '$T/textfile/kopilot.prom' | cmp -s - '$T/good.kept' &&
		test -s '$T/good.kept' && promtool check metrics <'$T/textfile/kopilot.prom'"
# LLM tokens: the explanations' calls to the LLM fake (tests/fakes/llm.py,
# OpenAI's wire format), each answer's usage 100 in, 7 out
echo '{"replies": [{"repeat": true, "text": "{\"explanations\": []}", "usage": {"in": 100, "out": 7}}]}' >"$T/llm.script.json"
start_fake llm llm.py --key sk-notify-e2e --script "$T/llm.script.json"
LLM_PROVIDER=openai OPENAI_BASE_URL=http://127.0.0.1:$PORT_llm/v1 OPENAI_API_KEY=sk-notify-e2e LLM_MODEL=gpt-4o-mini \
	KOPILOT_LLM_CACHE_DIR=$T/llmcache run_kopilot tfllm --snapshot "$DEMO" --out "$T/runs/tfllm"
check "LLM tokens: kopilot_llm_tokens_total{provider=\"openai\"} in and out equal the calls' usage (audit recommend.explain)" \
	$PY -c 'import json,sys
calls = sum(1 for l in open(sys.argv[3]) if json.loads(l)["status"] == 200)
e = [x for x in map(json.loads, open(sys.argv[2])) if x.get("event") == "recommend.explain"][0]
got = {}
for l in open(sys.argv[1]):
    if l.startswith("kopilot_llm_tokens_total{"):
        got[l.split("direction=\"")[1].split("\"")[0]] = float(l.split()[-1])
        assert "provider=\"openai\"" in l, l
assert calls > 0 and got == {"in": 100 * calls, "out": 7 * calls} and e["in_tokens"] == 100 * calls, (got, calls, e)' \
	"$T/textfile/kopilot.prom" "$T/runs/tfllm/audit.jsonl" "$T/llm.jsonl"
check "LLM tokens: promtool accepts the counter" sh -c "promtool check metrics <'$T/textfile/kopilot.prom'"
stop_pid "$PID_llm"
unset METRICS_TEXTFILE_DIR

# ----------------------------------------------------------- notifications
HOOK=T0KOPILOT/B0NOTIFY
HOOK_TOKEN=e2eWebhookT0kenNotInAnyFile
start_fake slack slackhook.py --hook "$HOOK" --token "$HOOK_TOKEN" --rate-limit 1
start_fake hook webhook.py --statuses 429
# shellcheck disable=SC2154
SLACK_URL=http://127.0.0.1:$PORT_slack/services/$HOOK/$HOOK_TOKEN
# shellcheck disable=SC2154
HOOK_URL=http://127.0.0.1:$PORT_hook/kopilot/$HOOK_TOKEN
export SLACK_WEBHOOK_URL=$SLACK_URL NOTIFY_WEBHOOK_URL=$HOOK_URL REPORT_URL=https://reports.example.com/kopilot
run_kopilot n1 --snapshot "$DEMO" --out "$T/runs/n1" --pr --repo "$ROOT/examples/demo-manifests" --dry-run
check "notifications: the exit code unchanged ($RC_base)" test "$RC_n1" = "$RC_base"
check "Slack: a 429 (Retry-After: 1), then the message accepted with 200 ok" \
	$PY -c 'import json,sys; s = [json.loads(l)["status"] for l in open(sys.argv[1])]; assert s == [429, 200], s' "$T/slack.jsonl"
check "webhook: a 429, then 200: retried once" \
	$PY -c 'import json,sys; s = [json.loads(l)["status"] for l in open(sys.argv[1])]; assert s == [429, 200], s' "$T/hook.jsonl"
check "run.json: both notifications sent, 2 attempts each" \
	$PY -c 'import json,sys
n = json.load(open(sys.argv[1]))["notifications"]
assert [(x["target"], x["sent"], x["attempts"], x["status"]) for x in n] == [("slack", True, 2, 200), ("webhook", True, 2, 200)], n' \
	"$T/runs/n1/run.json"
tail -1 "$T/slack.jsonl" | $PY -c 'import json,sys; json.dump(json.loads(sys.stdin.read())["body"], open(sys.argv[1], "w"))' "$T/slack-msg.json"
check "Slack message: a header, the net savings and count of findings.json, a field per category with its count, the top 5 findings in order, report and pull request links" \
	$PY -c 'import json,sys,collections
d = json.load(open(sys.argv[1])); m = json.load(open(sys.argv[2]))
b = m["blocks"]
assert b[0]["type"] == "header" and b[0]["text"]["text"] == "kopilot: demo-cluster", b[0]
net = "${:,.2f}".format(d["totals"]["actionable_monthly_savings"])
assert b[1]["text"]["text"].startswith("*%s/month* potential savings in *%d findings*" % (net, d["totals"]["findings"])), b[1]
want = collections.Counter(x["category"] for x in d["findings"])
fields = {f["text"].split("*")[1]: int(f["text"].split("\n")[1].split()[0]) for f in b[2]["fields"]}
assert fields == dict(want), (fields, want)
tops = [x for x in b if x["type"] == "section" and x.get("text", {}).get("text", "").startswith(("*1.", "*2.", "*3.", "*4.", "*5."))]
assert len(tops) == 5, tops
for i, (blk, f) in enumerate(zip(tops, d["findings"][:5])):
    t = blk["text"]["text"]
    assert t.startswith("*%d. ${:,.2f}/month*".format(f["monthly_savings"]) % (i + 1)), t
    assert "%s/%s" % (f["resource"]["kind"], f["resource"]["name"]) in t and f["evidence"][0]["summary"] in t, t
links = [x for x in b if "reports.example.com" in x.get("text", {}).get("text", "")]
assert links and "<https://reports.example.com/kopilot/n1/report.html|Report>" in links[0]["text"]["text"], links
assert "pr/checkout.md" in links[0]["text"]["text"] and "pull requests prepared (dry run)" in links[0]["text"]["text"], links' \
	"$T/runs/n1/findings.json" "$T/slack-msg.json"
check "webhook message: run id, cluster, exit status, totals, per-category counts and savings, top 5 ids, links: equal to findings.json and run.json" \
	$PY -c 'import json,sys,collections
d = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
recs = [json.loads(l) for l in open(sys.argv[3])]
m = recs[-1]["json"]
assert recs[-1]["ctype"].startswith("application/json"), recs[-1]["ctype"]
assert m["schema"] == "kopilot.notification/v1" and m["run_id"] == "n1" and m["cluster"] == "demo-cluster", m
assert m["exit_code"] == r["exit_code"] == 3 and m["exit_status"] == "degraded" and m["degraded"] is True, m
for k in ("findings", "monthly_cost", "monthly_savings", "actionable_monthly_savings", "blocked_monthly_savings"):
    assert m["totals"][k] == d["totals"][k], k
cnt = collections.Counter(x["category"] for x in d["findings"]); sav = collections.defaultdict(float)
for x in d["findings"]: sav[x["category"]] += x["monthly_savings"]
assert {c["category"]: c["findings"] for c in m["categories"]} == dict(cnt)
for c in m["categories"]: assert abs(c["monthly_savings"] - sav[c["category"]]) < 1e-6, c
assert [t["id"] for t in m["top_findings"]] == [x["id"] for x in d["findings"][:5]]
assert m["links"]["report_html"] == "https://reports.example.com/kopilot/n1/report.html", m["links"]
assert len(m["links"]["pull_requests"]) == len(json.load(open(sys.argv[4]))["pull_requests"]) > 0' \
	"$T/runs/n1/findings.json" "$T/runs/n1/run.json" "$T/hook.jsonl" "$T/runs/n1/pr/index.json"

# the official client: the fake is Slack to it, and kopilot's message too
stop_pid "$PID_slack"
start_fake slack slackhook.py --hook "$HOOK" --token "$HOOK_TOKEN" --rate-limit 1
node "$ROOT/tests/clients/slack/webhook.mjs" "http://127.0.0.1:$PORT_slack" "$HOOK" "$HOOK_TOKEN" "$T/slack-msg.json" >"$T/sdk.out" 2>&1
sdk_rc=$?
sed 's/^/  /' "$T/sdk.out"
check "@slack/webhook (IncomingWebhook.send) against the fake: every check passed" \
	sh -c "test $sdk_rc = 0 && grep -q 'slack-webhook: [1-9][0-9]* passed, 0 failed' '$T/sdk.out'"
stop_pid "$PID_slack"
stop_pid "$PID_hook"

# 500 forever, 410 archived: warnings; the exit code stays
start_fake slack slackhook.py --hook "$HOOK" --token "$HOOK_TOKEN" --archived
start_fake hook webhook.py --forever 500
SLACK_URL=http://127.0.0.1:$PORT_slack/services/$HOOK/$HOOK_TOKEN
HOOK_URL=http://127.0.0.1:$PORT_hook/kopilot/$HOOK_TOKEN
SLACK_WEBHOOK_URL=$SLACK_URL NOTIFY_WEBHOOK_URL=$HOOK_URL run_kopilot n2 --snapshot "$DEMO" --out "$T/runs/n2"
check "500 forever and 410: the exit code unchanged ($RC_base)" test "$RC_n2" = "$RC_base"
check "webhook 500 forever: notify.max_attempts (3) attempts, then a warning" \
	sh -c "test \$(wc -l <'$T/hook.jsonl') = 3 && grep -q 'warning: run: webhook notification not sent.*500' '$T/n2.err'"
check "Slack 410 channel_is_archived: one attempt (a 4xx is never retried), a warning naming Slack's error" \
	sh -c "test \$(wc -l <'$T/slack.jsonl') = 1 && grep -q 'warning: run: slack notification not sent.*410.*channel_is_archived' '$T/n2.err'"
check "run.json: both not sent, with their attempts and errors" \
	$PY -c 'import json,sys
n = json.load(open(sys.argv[1]))["notifications"]
assert [(x["target"], x["sent"], x["attempts"], x["status"]) for x in n] == [("slack", False, 1, 410), ("webhook", False, 3, 500)], n' \
	"$T/runs/n2/run.json"
stop_pid "$PID_slack"

# a broken template: a warning naming the file and where; nothing sent
start_fake slack slackhook.py --hook "$HOOK" --token "$HOOK_TOKEN"
SLACK_URL=http://127.0.0.1:$PORT_slack/services/$HOOK/$HOOK_TOKEN
printf '{\n  "text": "{{slack.text}}"\n  "blocks": []\n}\n' >"$T/bad-json.mustache"
printf '{"text": "{{#slack}}{{slack.text}}"}\n' >"$T/bad-tag.mustache"
SLACK_WEBHOOK_URL=$SLACK_URL KOPILOT_NOTIFY_SLACK_TEMPLATE=$T/bad-json.mustache run_kopilot n3 --snapshot "$DEMO" --out "$T/runs/n3"
check "a template whose result is not JSON: exit code unchanged, nothing sent" sh -c "test $RC_n3 = $RC_base && test ! -s '$T/slack.jsonl'"
check "... the warning names the template file and the line and column" \
	grep -qE "warning: run: slack notification not sent \(the run.s result is unchanged\): $T/bad-json.mustache: the rendered message is not a JSON object: line 3, column [0-9]+" "$T/n3.err"
SLACK_WEBHOOK_URL=$SLACK_URL KOPILOT_NOTIFY_SLACK_TEMPLATE=$T/bad-tag.mustache run_kopilot n4 --snapshot "$DEMO" --out "$T/runs/n4"
check "a template with an unclosed section: exit code unchanged, a warning naming the file and line" \
	sh -c "test $RC_n4 = $RC_base && test ! -s '$T/slack.jsonl' && grep -qE 'warning: run: slack notification not sent .*: [^ ]*bad-tag.mustache:1: section .slack. opened here is never closed' '$T/n4.err'"
KOPILOT_NOTIFY_SLACK_TEMPLATE=$T/bad-json.mustache "$KOPILOT" config show >"$T/config.out" 2>&1

# JSON escaping: a name with a quote, a backslash and <&> stays valid JSON
start_fake hook webhook.py
HOOK_URL=http://127.0.0.1:$PORT_hook/kopilot/$HOOK_TOKEN
NOTIFY_WEBHOOK_URL=$HOOK_URL run_kopilot n5 --snapshot "$DEMO" --out "$T/runs/n5" --cluster-name 'we"ird\clu<&>ster'
check "a cluster name with a quote, a backslash and <&>: the webhook gets valid JSON with the name as it is" \
	$PY -c 'import json,sys; m = json.loads(open(sys.argv[1]).readline())["json"]; assert m["cluster"] == "we\"ird\\clu<&>ster", m["cluster"]' "$T/hook.jsonl"
NOTIFY_WEBHOOK_URL=$HOOK_URL run_kopilot n6 --snapshot "$DEMO" --out "$T/runs/n6" --set "notify.webhook_url=$HOOK_URL"

SLACK_WEBHOOK_URL=http://127.0.0.1:$(free_port)/services/$HOOK/$HOOK_TOKEN KOPILOT_NOTIFY_MAX_ATTEMPTS=2 \
	run_kopilot n7 --snapshot "$DEMO" --out "$T/runs/n7"
check "Slack webhook unreachable: a warning naming the host (its path masked), the exit code unchanged" \
	sh -c "test $RC_n7 = $RC_base && grep -q 'warning: run: slack notification not sent .*the Slack webhook (http://127.0.0.1:[0-9]*): POST /\*\*\*\*: ' '$T/n7.err'"

# the URL's token: in no file kopilot wrote, no message, no config show
check "the webhook URLs' token is in no run file (run.json, audit.jsonl, reports), message or config show" \
	sh -c "! grep -rl '$HOOK_TOKEN' '$T/runs' '$T'/*.err '$T/config.out'"
check "--set notify.webhook_url=... is masked in run.json's args" \
	$PY -c 'import json,sys; a = json.load(open(sys.argv[1]))["args"]; assert "notify.webhook_url=****" in a, a' "$T/runs/n6/run.json"

finish
