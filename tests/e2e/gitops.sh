#!/usr/bin/env bash
# Pull requests as files (issue 18, dry run): the demo's resize findings
# become edits of examples/demo-manifests, a repository shaped like a
# platform team's (comments, flow style, quoted quantities, CRLF, a file
# without a namespace, kustomize bases and overlays, a shared base, a Helm
# chart). Checked with the real tools a reviewer uses: every patch applies
# with `git am`, `git diff --numstat` shows only the intended lines,
# `kubectl kustomize` still renders the overlay with the new values, and
# the repository itself is never written. Ends with "gitops: N passed, N
# failed".
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
DEMO=$ROOT/examples/demo-cluster
REPO=$ROOT/examples/demo-manifests
NOW=2026-11-25T06:00:00Z
PY=/usr/bin/python3
SUITE=gitops
. "$ROOT/tests/e2e/lib.sh"
need git git
need kubectl kubernetes-client
need "$PY" python3
[ -x "$KOPILOT" ] || { echo "gitops: $KOPILOT not found: run 'make'" >&2; exit 1; }

T=$(mktemp -d /tmp/kopilot-gitops.XXXXXX)
trap 'rm -rf "$T"' EXIT
sum_repo() { (cd "$REPO" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
before=$(sum_repo)

# ---- the demo, then render --pr --dry-run ----
"$KOPILOT" run --snapshot "$DEMO" --out "$T/run" --now "$NOW" --quiet >/dev/null 2>&1
"$KOPILOT" render "$T/run" --pr --repo "$REPO" --dry-run --now "$NOW" >"$T/render.out" 2>"$T/render.err"
rc=$?
check "render --pr --dry-run: exit 3 (the demo is degraded by design), no error" \
	eval 'test $rc = 3 && ! grep -q "error" "$T/render.err"'
check "the note says how many pull requests and where" grep -q "pull requests (dry run): 6, with 8 changes" "$T/render.err"
IDX=$T/run/pr/index.json
check "pr/index.json: six pull requests, one per namespace with a change" \
	$PY -c 'import json,sys
d = json.load(open(sys.argv[1]))
got = [(p["group"], p["changes"], p["branch"]) for p in d["pull_requests"]]
want = [("analytics", 1, "kopilot/analytics"), ("checkout", 1, "kopilot/checkout"), ("ml", 1, "kopilot/ml"),
        ("monitoring", 1, "kopilot/monitoring"), ("payments", 2, "kopilot/payments"), ("search", 2, "kopilot/search")]
assert got == want, got
assert d["dry_run"] is True and d["base"] == "main" and d["forge"] == "github"' "$IDX"
check "what is left out says why, never guessed" \
	$PY -c 'import json,sys
d = json.load(open(sys.argv[1]))
why = {(u["namespace"], u["name"]): u["why"] for u in d["not_located"]}
assert "shared kustomize base" in why[("staging", "storefront")], why[("staging", "storefront")]
assert "shared kustomize base" in why[("web", "storefront")], why[("web", "storefront")]
assert "1 template not read" in why[("monitoring", "grafana")], why[("monitoring", "grafana")]
assert "not declared in any manifest" in why[("kube-system", "coredns")]
assert len(why) == 8, sorted(why)' "$IDX"
check "the body of checkout: the change, the evidence, the cleanup checklist" \
	eval 'grep -q "| Deployment checkout/cart-api | cart-api | apps/checkout/cart-api.yaml | 2 / 4Gi | 175m / 720Mi |" "$T/run/pr/checkout.md" &&
	grep -q "CPU p95 was 150m" "$T/run/pr/checkout.md" &&
	grep -q "^- \[ \] idle-workload: checkout/coupon-service" "$T/run/pr/checkout.md"'
check "the repository was only read" test "$before" = "$(sum_repo)"

# ---- the patches, applied by git ----
W=$T/work
cp -a "$REPO" "$W"
(cd "$W" && git init -q -b main . && git add -A && git -c user.name=t -c user.email=t@t commit -qm base) >/dev/null
apply_all() {
	local p
	for p in "$T"/run/pr/*.patch; do
		(cd "$W" && git -c user.name=t -c user.email=t@t am -q "$p") || { echo "git am failed on $p"; return 1; }
	done
}
check "every patch applies with git am, one commit each" eval 'apply_all && test "$(cd "$W" && git rev-list --count HEAD)" = 7'
check "only the intended lines changed (git diff --numstat)" \
	eval 'test "$(cd "$W" && git diff --numstat HEAD~6 HEAD | sort -k3)" = "$(printf "%s\n" \
		"2	2	apps/analytics/report-builder.yaml" "2	2	apps/checkout/cart-api.yaml" \
		"1	1	apps/ml/model-server.yaml" "2	2	apps/payments/fraud-scorer.yaml" \
		"2	2	apps/payments/payment-gateway.yaml" "1	1	apps/search/base/query-api.yaml" \
		"2	2	apps/search/base/search-indexer.yaml" \
		"2	2	platform/monitoring/fluent-bit/daemonset.yaml" | sort -k3)"'
check "comments, quoting, flow style and CRLF kept" \
	eval 'grep -q "cpu: \"0.175\"        # the JVM wants its cores at startup" "$W/apps/checkout/cart-api.yaml" &&
	grep -q "resources: {requests: {cpu: '"'"'0.23'"'"', memory: 1721Mi}, limits: {memory: 4Gi}}" "$W/apps/ml/model-server.yaml" &&
	test "$(grep -c $'"'"'\r$'"'"' "$W/apps/payments/fraud-scorer.yaml")" = "$(wc -l <"$W/apps/payments/fraud-scorer.yaml")" &&
	grep -q "cpu: 1000m   # throttled: see the kopilot report" "$W/apps/payments/fraud-scorer.yaml"'
check "kubectl kustomize still renders the overlay, with the new values in its namespace" \
	eval 'kubectl kustomize "$W/apps/search/overlays/prod" >"$T/k.yaml" &&
	$PY -c "import yaml,sys
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
r = {d[\"metadata\"][\"name\"]: (d[\"metadata\"][\"namespace\"], d[\"spec\"][\"template\"][\"spec\"][\"containers\"][0][\"resources\"][\"requests\"]) for d in docs}
assert r[\"search-indexer\"] == (\"search\", {\"cpu\": \"185m\", \"memory\": \"840Mi\"}), r
assert r[\"query-api\"][1][\"memory\"] == \"2151Mi\", r" "$T/k.yaml"'
check "every edited file still parses, document for document" \
	$PY -c 'import yaml,sys,glob
for f in sys.argv[1:]:
    list(yaml.safe_load_all(open(f)))' $(cd "$W" && git diff --name-only HEAD~6 HEAD | sed "s|^|$W/|")

# ---- the same again: the same files (the branch would get no new commit) ----
cp -a "$T/run/pr" "$T/pr1"
"$KOPILOT" render "$T/run" --pr --repo "$REPO" --dry-run --now "$NOW" >/dev/null 2>&1
check "a second render writes the same pull requests, byte for byte" diff -r "$T/pr1" "$T/run/pr"

# ---- in one go with kopilot run; group by run ----
"$KOPILOT" run --snapshot "$DEMO" --out "$T/run2" --now "$NOW" --quiet --pr --repo "$REPO" --dry-run \
	--set pr.group_by=run >/dev/null 2>&1
check "kopilot run --pr --dry-run with pr.group_by=run: one pull request for the run" \
	eval 'test "$(ls "$T/run2/pr")" = "$(printf "index.json\nrun.md\nrun.patch")" &&
	grep -q "^Subject: \[PATCH\] kopilot: rightsize 8 containers (" "$T/run2/pr/run.patch"'

# ---- what is refused ----
expect_exit "--pr without --repo: exit 2" 2 "needs the manifests' repository: --repo DIR" -- \
	"$KOPILOT" render "$T/run" --pr --dry-run
expect_exit "--pr --dry-run --repo URL: exit 2, a dry run reads a checkout" 2 "dry-run reads a local checkout" -- \
	"$KOPILOT" render "$T/run" --pr --dry-run --repo https://github.com/acme/k8s-manifests.git
expect_exit "--pr without --dry-run on a directory: exit 2, the URL is needed" 2 "need the repository's URL" -- \
	env GITHUB_TOKEN=x "$KOPILOT" render "$T/run" --pr --repo "$REPO"
expect_exit "--pr without a token: exit 2 naming GITHUB_TOKEN" 2 "set GITHUB_TOKEN" -- \
	env -u GITHUB_TOKEN -u GIT_TOKEN "$KOPILOT" render "$T/run" --pr --repo https://github.com/acme/k8s-manifests.git
expect_exit "--forge gitlab without --dry-run: exit 2, not built yet" 2 "GitLab is not built yet" -- \
	env GITHUB_TOKEN=x "$KOPILOT" render "$T/run" --pr --forge gitlab --repo https://gitlab.com/acme/k8s.git
expect_exit "--repo that is not a directory: exit 2" 2 "not a directory" -- \
	"$KOPILOT" render "$T/run" --pr --dry-run --repo "$T/nosuch"
expect_exit "--forge other than github or gitlab: exit 2" 2 "forge" -- \
	"$KOPILOT" render "$T/run" --pr --dry-run --repo "$REPO" --forge bitbucket
check "a refused render leaves the run as it was (pr/ of the last good render)" diff -r "$T/pr1" "$T/run/pr"

# ---- on GitHub: the branches pushed over smart HTTP with a token (the
# real git http-backend), the pull requests opened through the REST API (a
# stateful fake of it) ----
mkdir -p "$T/srv/acme"
git init -q --bare -b main "$T/srv/acme/manifests.git"
(cd "$W" && git push -q "$T/srv/acme/manifests.git" HEAD~6:refs/heads/main) >/dev/null 2>&1
MAIN0=$(git --git-dir="$T/srv/acme/manifests.git" rev-parse main)
start_fake() { # start_fake NAME ARGS...: its port in $PORT_<NAME>
	local name=$1; shift
	"$PY" "$@" --port-file "$T/$name.port" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.1; done
	printf -v "PORT_$name" '%s' "$(cat "$T/$name.port")"
}
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$T"' EXIT
start_fake git "$ROOT/tests/fakes/githttp.py" --root "$T/srv" --token ghp_e2e
start_fake api "$ROOT/tests/fakes/github.py" --token ghp_e2e --log "$T/api.jsonl"
GURL=http://127.0.0.1:$PORT_git/acme/manifests.git
pr_run() {
	GITHUB_TOKEN=ghp_e2e "$KOPILOT" render "$T/run" --pr --repo "$GURL" --set "pr.api_url=http://127.0.0.1:$PORT_api" \
		--set "pr.cache_dir=$T/cache" --now "$NOW" >"$T/gh.out" 2>"$T/gh.err"
}
pr_run; rc=$?
check "render --pr on GitHub: exit 3 (the demo), the note counts six created" \
	eval 'test $rc = 3 && grep -q "pull requests on github: 6 created, 0 updated" "$T/gh.err"'
api_state() { curl -s "http://127.0.0.1:$PORT_api/_test/state"; }
check "six pull requests, one per namespace, from kopilot/<namespace> into main, labelled" \
	$PY -c 'import json,sys
ps = json.load(sys.stdin)
assert sorted(p["head"]["ref"] for p in ps) == ["kopilot/" + n for n in ("analytics", "checkout", "ml", "monitoring", "payments", "search")], ps
for p in ps:
    assert p["state"] == "open" and p["base"]["ref"] == "main" and p["labels"] == [{"name": "kopilot"}], p
    assert p["title"].startswith("kopilot: rightsize") and "| workload |" in p["body"], p["title"]' < <(api_state)
check "six branches pushed, one commit each on main, main untouched" \
	eval 'test "$(git --git-dir="$T/srv/acme/manifests.git" for-each-ref --format="%(refname)" refs/heads/kopilot | wc -l)" = 6 &&
	test "$(git --git-dir="$T/srv/acme/manifests.git" rev-parse main)" = "$MAIN0" &&
	test "$(git --git-dir="$T/srv/acme/manifests.git" rev-list --count main..kopilot/payments)" = 1'
check "the pushed branch holds exactly what the patch says" \
	eval 'test "$(git --git-dir="$T/srv/acme/manifests.git" diff main kopilot/checkout)" = "$(cd "$W" && git diff HEAD~6 HEAD -- apps/checkout/cart-api.yaml)"'
check "pr/index.json: each pull request's URL and what was done" \
	$PY -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["dry_run"] is False
for p in d["pull_requests"]:
    assert p["pull_request"] == "created" and p["branch_push"] == "created" and p["url"].startswith("https://github.example/acme/manifests/pull/"), p' "$T/run/pr/index.json"
tips1=$(git --git-dir="$T/srv/acme/manifests.git" for-each-ref --format="%(objectname)" refs/heads/kopilot)
pr_run; rc=$?
check "the next night: no new commit, no new pull request, the six updated" \
	eval 'test $rc = 3 && grep -q "pull requests on github: 0 created, 6 updated" "$T/gh.err" &&
	test "$tips1" = "$(git --git-dir="$T/srv/acme/manifests.git" for-each-ref --format="%(objectname)" refs/heads/kopilot)" &&
	test "$(api_state | $PY -c "import json,sys; print(len(json.load(sys.stdin)))")" = 6'
# the forge down: the report still lands, the run says why (degraded)
GITHUB_TOKEN=ghp_e2e "$KOPILOT" render "$T/run" --pr --repo "$GURL" --set "pr.api_url=http://127.0.0.1:1" \
	--set "pr.cache_dir=$T/cache" --now "$NOW" >"$T/down.out" 2>"$T/down.err"
rc=$?
check "GitHub's API down: exit 3, the reports written, the note says the pull requests were not opened, no pr/" \
	eval 'test $rc = 3 && grep -q "pull requests not opened: GitHub" "$T/down.err" && test -s "$T/run/report.md" && test ! -e "$T/run/pr"'
check "the token is in no file of the run, the cache or the fake's request log" \
	eval '! grep -rq ghp_e2e "$T/run" "$T/cache" "$T/api.jsonl"'
finish
