# tests/e2e/secrets.sh - sourced by run.sh (uses its check/ok/not_ok, $T,
# $DEMO, $RUN, $KOPILOT, $PY, $NOW): no secret from the snapshot or from a
# URL in the configuration reaches the run directory or the terminal.
#
# Canaries are planted in a copy of the demo snapshot: env values in a
# Deployment template and a Pod (an AWS key, a DB_PASSWORD), data and
# stringData on a list item, a last-applied-configuration annotation that
# holds an env value; the run directory is then searched for each of them.

CSNAP=$T/canary-snapshot
cp -r "$DEMO" "$CSNAP"
$PY - "$CSNAP/objects" <<'EOF'
import json, sys
d = sys.argv[1]
def load(n): return json.load(open(f"{d}/{n}.json"))
def save(n, doc): json.dump(doc, open(f"{d}/{n}.json", "w"), indent=4, sort_keys=True)
dep = load("deployments")
c = dep["items"][0]["spec"]["template"]["spec"]["containers"][0]
c["env"] = [{"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
            {"name": "DB_PASSWORD", "value": "canary-dbpass-1d9e"},
            {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
c["envFrom"] = [{"secretRef": {"name": "canary-ref-kept"}}]
applied = {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": {"containers": [
    {"name": "x", "env": [{"name": "K", "value": "canary-applied-4b2c"}]}]}}}}
dep["items"][0]["metadata"].setdefault("annotations", {})[
    "kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(applied) + "\n"
save("deployments", dep)
pods = load("pods")
p = pods["items"][0]
p["spec"]["containers"][0]["env"] = [{"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
                                     {"name": "DB_PASSWORD", "value": "canary-dbpass-1d9e"}]
p["data"] = {"password": "Y2FuYXJ5LWRhdGEtN2E1Zg=="}
p["stringData"] = {"token": "canary-stringdata-8f0b"}
save("pods", pods)
EOF
CANARIES=(AKIAIOSFODNN7EXAMPLE canary-dbpass-1d9e canary-applied-4b2c Y2FuYXJ5LWRhdGEtN2E1Zg== canary-stringdata-8f0b)
# the canaries really are in the input
planted=0
for c in "${CANARIES[@]}"; do grep -rq -- "$c" "$CSNAP/objects" && planted=$((planted + 1)); done
[ $planted -eq ${#CANARIES[@]} ] && ok "canaries planted in the snapshot copy" || not_ok "canaries planted ($planted of ${#CANARIES[@]})"

CRUN=$T/canary-run
"$KOPILOT" run --snapshot "$CSNAP" --out "$CRUN" --now $NOW --cluster-name demo-cluster >"$T/canary.out" 2>"$T/canary.err"
rc=$?
[ $rc -eq 3 ] && ok "run on the canary snapshot finishes (exit 3, as the demo)" || not_ok "run on the canary snapshot (exit $rc)" "$(cat "$T/canary.err")"
leaks=""
for c in "${CANARIES[@]}"; do
	hits=$(grep -rla -- "$c" "$CRUN" "$T/canary.out" "$T/canary.err")
	[ -z "$hits" ] || leaks="$leaks$c in: $hits"$'\n'
done
[ -z "$leaks" ] && ok "no canary anywhere in the run directory (snapshot, model.bin, analysis, findings, reports, audit, run.json) or the output" || not_ok "canaries leaked" "$leaks"
check "the redacted copy keeps env names, valueFrom and envFrom references" \
	bash -c "grep -q AWS_ACCESS_KEY_ID '$CRUN/snapshot/objects/pods.json' && grep -q canary-ref-kept '$CRUN/snapshot/objects/deployments.json' && grep -q secretKeyRef '$CRUN/snapshot/objects/deployments.json'"
check "the redacted copies differ from the snapshot only in the redacted values" $PY - "$CSNAP/objects" "$CRUN/snapshot/objects" <<'EOF'
import json, os, sys
src, dst = sys.argv[1], sys.argv[2]
R = "<redacted>"
n = 0
def walk(a, b, path):
    global n
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), path
        for k in a:
            p = path + [k]
            redact = ((len(path) >= 2 and path[-2] == "env" and k == "value")
                      or (len(path) == 2 and path[0] == "items" and k in ("data", "stringData", "binaryData"))
                      or (path and path[-1] == "annotations" and k == "kubectl.kubernetes.io/last-applied-configuration"))
            if redact:
                assert b[k] == R, (p, b[k]); n += 1
            else:
                walk(a[k], b[k], p)
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for x, y in zip(a, b):
            walk(x, y, path + ["[]"])
    else:
        assert a == b, (path, a, b)
for f in sorted(os.listdir(src)):
    walk(json.load(open(f"{src}/{f}")), json.load(open(f"{dst}/{f}")), [])
# 4 env values + last-applied + data + stringData, and the demo's own 5 env values
assert n == 12, n
EOF
check "canaries change no finding: analysis.json and findings.json equal the demo run's" \
	bash -c "cmp '$RUN/analysis.json' '$CRUN/analysis.json' && cmp '$RUN/findings.json' '$CRUN/findings.json'"
check "audit.jsonl records what was redacted per file" $PY - "$CRUN/audit.jsonl" <<'EOF'
import json, sys
ev = {e["file"]: e["values_redacted"] for e in map(json.loads, open(sys.argv[1])) if e["event"] == "collect.redact"}
assert ev["objects/pods.json"] == 4 + 2 + 2, ev
assert ev["objects/deployments.json"] == 3, ev
EOF
# model.bin records the sizes and mtimes of the redacted files: analyze uses
# it; without it, analyze reads the redacted files; both to the same analysis.
CA=$T/canary-analyze
cp -a "$CRUN" "$CA"
"$KOPILOT" analyze "$CA" --now $NOW >/dev/null 2>"$T/ca.err"
check "analyze after the run reads model.bin and gives the same analysis" \
	bash -c "grep -q 'read the model cache' '$T/ca.err' && cmp '$CRUN/analysis.json' '$CA/analysis.json'"
rm "$CA/snapshot/model.bin"
"$KOPILOT" analyze "$CA" --now $NOW >/dev/null 2>"$T/ca.err"
check "analyze without model.bin reads the redacted files and gives the same analysis" \
	bash -c "grep -q 'read the raw snapshot files' '$T/ca.err' && cmp '$CRUN/analysis.json' '$CA/analysis.json'"

# Credentials in URLs: masked the way Prometheus shows them, wherever the
# configuration is shown, written or quoted, from a flag or the environment.
URL_PW=http://admin:pw@ollama:11434
URL_MASKED='http://admin:<secret>@ollama:11434'
OLLAMA_BASE_URL=$URL_PW "$KOPILOT" config show >"$T/url-env.out" 2>&1
check "config show: an OLLAMA_BASE_URL password is masked" \
	bash -c "grep -qF '$URL_MASKED' '$T/url-env.out' && ! grep -q pw '$T/url-env.out'"
"$KOPILOT" config show --set llm.ollama_base_url=$URL_PW >"$T/url-set.out" 2>&1
check "config show: a --set URL password is masked" \
	bash -c "grep -qF '$URL_MASKED' '$T/url-set.out' && ! grep -q pw '$T/url-set.out'"
printf 'llm:\n  ollama_base_url: %s\n' "$URL_PW" >"$T/url.yaml"
"$KOPILOT" config show --config "$T/url.yaml" >"$T/url-file.out" 2>&1
check "config show: a URL password from the file is masked" \
	bash -c "grep -qF '$URL_MASKED' '$T/url-file.out' && ! grep -q pw '$T/url-file.out'"
expect_exit "a rejected URL is quoted back masked" 2 'ftp://admin:<secret>@ollama' -- \
	"$KOPILOT" config show --set llm.ollama_base_url=ftp://admin:pw@ollama:11434
"$KOPILOT" config show --set llm.ollama_base_url=ftp://admin:pw@ollama:11434 >"$T/url-bad.out" 2>&1
check "a rejected URL's password is not echoed" bash -c "! grep -q pw '$T/url-bad.out'"
URUN=$T/url-run
OLLAMA_BASE_URL=http://admin:pw@env-ollama:11434 "$KOPILOT" run --snapshot "$DEMO" --out "$URUN" --now $NOW \
	--set llm.ollama_base_url=$URL_PW --set llm.ollama_base_url=https://h/api?sig=pw >"$T/url-run.out" 2>"$T/url-run.err"
check "run: no URL password or token in stdout, stderr, run.json or anywhere in the run directory" \
	bash -c "! grep -rq pw '$T/url-run.out' '$T/url-run.err' '$URUN/run.json' '$URUN/audit.jsonl' && ! grep -rlq 'admin:pw' '$URUN'"
check "run.json: args and config show the masked URLs" $PY - "$URUN/run.json" <<'EOF2'
import json, sys
r = json.load(open(sys.argv[1]))
assert "llm.ollama_base_url=http://admin:<secret>@ollama:11434" in r["args"], r["args"]
assert "llm.ollama_base_url=https://h/api?sig=<secret>" in r["args"], r["args"]
assert r["config"]["llm.ollama_base_url"] == "https://h/api?sig=<secret>", r["config"]["llm.ollama_base_url"]
EOF2
