#!/usr/bin/env bash
# Pull requests as files (issue 18, dry run): the demo's resize findings
# become edits of examples/demo-manifests, a repository shaped like a
# platform team's (comments, flow style, quoted quantities, CRLF, a file
# without a namespace, kustomize bases and overlays, a shared base, a Helm
# chart with a marked values file). Checked with the real tools a reviewer uses: every patch applies
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
check "the note says how many pull requests and where" grep -q "pull requests (dry run): 7, with 10 changes" "$T/render.err"
IDX=$T/run/pr/index.json
check "pr/index.json: seven pull requests, one per namespace with a change" \
	$PY -c 'import json,sys
d = json.load(open(sys.argv[1]))
got = [(p["group"], p["changes"], p["branch"]) for p in d["pull_requests"]]
want = [("analytics", 1, "kopilot/analytics"), ("checkout", 1, "kopilot/checkout"), ("ml", 1, "kopilot/ml"),
        ("monitoring", 2, "kopilot/monitoring"), ("payments", 2, "kopilot/payments"), ("search", 2, "kopilot/search"),
        ("staging", 1, "kopilot/staging")]
assert got == want, got
assert d["dry_run"] is True and d["base"] == "main" and d["forge"] == "github"' "$IDX"
check "what is left out says why, never guessed" \
	$PY -c 'import json,sys
d = json.load(open(sys.argv[1]))
why = {(u["namespace"], u["name"]): u["why"] for u in d["not_located"]}
assert "HorizontalPodAutoscaler web/storefront: not declared" in why[("web", "storefront")], why[("web", "storefront")]
assert "not declared in any manifest" in why[("kube-system", "coredns")]
assert len(why) == 6, sorted(why)' "$IDX"
check "the shared storefront base: a new patch in the staging overlay, listed in its kustomization" \
	eval 'grep -q "^+  - path: kopilot-deployment-storefront.yaml" "$T/run/pr/staging.patch" &&
	grep -q "| Deployment staging/storefront | storefront | apps/storefront/overlays/staging/kopilot-deployment-storefront.yaml |" "$T/run/pr/staging.md"'
check "grafana: its marked values file, never the chart's template" \
	eval 'grep -q "^+++ b/platform/monitoring/grafana/values.yaml" "$T/run/pr/monitoring.patch" &&
	! grep -q "templates/deployment.yaml" "$T/run/pr/monitoring.patch"' 
check "the body of checkout: the change, the evidence, the cleanup checklist" \
	eval 'grep -q "| Deployment checkout/cart-api | cart-api | apps/checkout/cart-api.yaml | 2 / 4Gi | 175m / 720Mi |" "$T/run/pr/checkout.md" &&
	grep -q "CPU p95 was 150m" "$T/run/pr/checkout.md" &&
	grep -q "^- \[ \] idle-workload: checkout/coupon-service" "$T/run/pr/checkout.md"'
check "the report links each finding to its patch, or says why it is in none" \
	eval 'grep -q "^Pull request: \[pr/checkout.patch (dry run: the patch)\](pr/checkout.patch)" "$T/run/report.md" &&
	grep -q "^Not in a pull request: Deployment kube-system/coredns: not declared" "$T/run/report.md" &&
	grep -q "<a href=\"pr/checkout.patch\">" "$T/run/report.html"'
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
check "every patch applies with git am, one commit each" eval 'apply_all && test "$(cd "$W" && git rev-list --count HEAD)" = 8'
check "only the intended lines changed (git diff --numstat)" \
	eval 'test "$(cd "$W" && git diff --numstat HEAD~7 HEAD | sort -k3)" = "$(printf "%s\n" \
		"2	2	apps/analytics/report-builder.yaml" "2	2	apps/checkout/cart-api.yaml" \
		"1	1	apps/ml/model-server.yaml" "2	2	apps/payments/fraud-scorer.yaml" \
		"2	2	apps/payments/payment-gateway.yaml" "1	1	apps/search/base/query-api.yaml" \
		"2	2	apps/search/base/search-indexer.yaml" \
		"15	0	apps/storefront/overlays/staging/kopilot-deployment-storefront.yaml" \
		"2	0	apps/storefront/overlays/staging/kustomization.yaml" \
		"2	2	platform/monitoring/fluent-bit/daemonset.yaml" "2	2	platform/monitoring/grafana/values.yaml" | sort -k3)"'
check "comments, quoting, flow style and CRLF kept" \
	eval 'grep -q "cpu: \"0.175\"        # the JVM wants its cores at startup" "$W/apps/checkout/cart-api.yaml" &&
	grep -q "resources: {requests: {cpu: '"'"'0.23'"'"', memory: 1721Mi}, limits: {memory: 4Gi}}" "$W/apps/ml/model-server.yaml" &&
	test "$(grep -c $'"'"'\r$'"'"' "$W/apps/payments/fraud-scorer.yaml")" = "$(wc -l <"$W/apps/payments/fraud-scorer.yaml")" &&
	grep -q "cpu: 1000m   # throttled: see the kopilot report" "$W/apps/payments/fraud-scorer.yaml"'
check "kubectl kustomize still renders the overlays, with the new values in their namespace (web's storefront unchanged)" \
	eval 'kubectl kustomize "$W/apps/search/overlays/prod" >"$T/k.yaml" &&
	$PY -c "import yaml,sys
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
r = {d[\"metadata\"][\"name\"]: (d[\"metadata\"][\"namespace\"], d[\"spec\"][\"template\"][\"spec\"][\"containers\"][0][\"resources\"][\"requests\"]) for d in docs}
assert r[\"search-indexer\"] == (\"search\", {\"cpu\": \"185m\", \"memory\": \"840Mi\"}), r
assert r[\"query-api\"][1][\"memory\"] == \"2151Mi\", r" "$T/k.yaml" &&
	kubectl kustomize "$W/apps/storefront/overlays/staging" >"$T/s.yaml" && kubectl kustomize "$W/apps/storefront/overlays/web" >"$T/w.yaml" &&
	$PY -c "import yaml,sys
def res(f):
    d = [x for x in yaml.safe_load_all(open(f)) if x and x[\"kind\"] == \"Deployment\"][0]
    return d[\"metadata\"][\"namespace\"], d[\"spec\"][\"template\"][\"spec\"][\"containers\"][0][\"resources\"]
s, w = res(sys.argv[1]), res(sys.argv[2])
assert s[0] == \"staging\" and s[1][\"requests\"] == {\"cpu\": \"25m\", \"memory\": \"180Mi\"}, s
assert w[0] == \"web\" and w[1][\"requests\"][\"cpu\"] == \"500m\", w" "$T/s.yaml" "$T/w.yaml"'
check "every edited file still parses, document for document" \
	$PY -c 'import yaml,sys,glob
for f in sys.argv[1:]:
    list(yaml.safe_load_all(open(f)))' $(cd "$W" && git diff --name-only HEAD~7 HEAD | sed "s|^|$W/|")

# ---- the same again: the same files (the branch would get no new commit) ----
cp -a "$T/run/pr" "$T/pr1"
"$KOPILOT" render "$T/run" --pr --repo "$REPO" --dry-run --now "$NOW" >/dev/null 2>&1
check "a second render writes the same pull requests, byte for byte" diff -r "$T/pr1" "$T/run/pr"

# ---- in one go with kopilot run; group by run ----
"$KOPILOT" run --snapshot "$DEMO" --out "$T/run2" --now "$NOW" --quiet --pr --repo "$REPO" --dry-run \
	--set pr.group_by=run >/dev/null 2>&1
check "kopilot run --pr --dry-run with pr.group_by=run: one pull request for the run" \
	eval 'test "$(ls "$T/run2/pr")" = "$(printf "index.json\nrun.md\nrun.patch")" &&
	grep -q "^Subject: \[PATCH\] kopilot: rightsize 10 containers (" "$T/run2/pr/run.patch"'

# ---- where the live objects say they come from: Argo CD, Flux, Helm and a
# team label in the snapshot become findings.json resource.gitops and
# resource.team; pr.group_by team groups by the label ----
cp -a "$DEMO" "$T/snap"
$PY -c 'import json,sys
p = sys.argv[1] + "/objects/deployments.json"
d = json.load(open(p))
for it in d["items"]:
    md, key = it["metadata"], (it["metadata"]["namespace"], it["metadata"]["name"])
    if key == ("monitoring", "grafana"):
        md["annotations"].update({"meta.helm.sh/release-name": "grafana", "meta.helm.sh/release-namespace": "monitoring"})
    if key == ("checkout", "cart-api"):
        md["annotations"]["argocd.argoproj.io/tracking-id"] = "shop-prod:apps/Deployment:checkout/cart-api"
        md["labels"]["team"] = "shop"
    if key == ("ml", "model-server"):
        md["labels"].update({"kustomize.toolkit.fluxcd.io/name": "ml", "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
                             "team": "shop"})
json.dump(d, open(p, "w"))' "$T/snap"
"$KOPILOT" run --snapshot "$T/snap" --out "$T/run3" --now "$NOW" --quiet --pr --repo "$REPO" --dry-run \
	--set pr.group_by=team >/dev/null 2>&1
check "findings.json carries each workload's GitOps origin and team, valid against the schema" \
	$PY -c 'import json,sys,jsonschema
d = json.load(open(sys.argv[1]))
jsonschema.validate(d, json.load(open(sys.argv[2])))
r = {(f["resource"]["namespace"], f["resource"]["name"]): f["resource"] for f in d["findings"]}
assert r[("monitoring", "grafana")]["gitops"] == {"helm_release": "monitoring/grafana"}, r[("monitoring", "grafana")]
assert r[("checkout", "cart-api")]["gitops"] == {"argocd_app": "shop-prod"} and r[("checkout", "cart-api")]["team"] == "shop"
assert r[("ml", "model-server")]["gitops"] == {"flux_kustomization": "flux-system/ml"}
assert "gitops" not in r[("analytics", "report-builder")] and "team" not in r[("analytics", "report-builder")]' \
	"$T/run3/findings.json" "$ROOT/docs/contracts/findings.schema.json"
check "pr.group_by team: the team shop's two changes in one pull request, the rest by namespace" \
	eval 'grep -q "\"group\":\"team-shop\"" "$T/run3/pr/index.json" && test -s "$T/run3/pr/team-shop.patch" &&
	grep -q "^+++ b/apps/checkout/cart-api.yaml" "$T/run3/pr/team-shop.patch" &&
	grep -q "^+++ b/apps/ml/model-server.yaml" "$T/run3/pr/team-shop.patch" && test -s "$T/run3/pr/analytics.patch"'

# ---- what is refused ----
expect_exit "--pr without --repo: exit 2" 2 "needs the manifests' repository: --repo DIR" -- \
	"$KOPILOT" render "$T/run" --pr --dry-run
expect_exit "--pr with a token on a directory: exit 2, the URL is needed to open them" 2 "need the repository's URL" -- \
	env GITHUB_TOKEN=x "$KOPILOT" render "$T/run" --pr --repo "$REPO"
expect_exit "pr.token_file that cannot be read: exit 2 naming the key" 2 "pr.token_file" -- \
	"$KOPILOT" render "$T/run" --pr --repo https://github.com/acme/k8s.git --set "pr.token_file=$T/nosuch"
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
(cd "$W" && git push -q "$T/srv/acme/manifests.git" HEAD~7:refs/heads/main) >/dev/null 2>&1
MAIN0=$(git --git-dir="$T/srv/acme/manifests.git" rev-parse main)
# without a token: a dry run (the default then), from a clone of the URL
cp -a "$T/run" "$T/run4"
env -u GITHUB_TOKEN -u GITLAB_TOKEN -u GIT_TOKEN "$KOPILOT" render "$T/run4" --pr --repo "file://$T/srv/acme/manifests.git" \
	--set "pr.cache_dir=$T/cache-dry" --now "$NOW" >"$T/dry.out" 2>"$T/dry.err"
rc=$?
same_patches() { local f; for f in "$T"/pr1/*.patch; do cmp -s "$f" "$1/$(basename "$f")" || return 1; done; }
check "--pr --repo URL without a token: a dry run from a clone (the same patches), the note names the token, nothing pushed" \
	eval 'test $rc = 3 && grep -q "pull requests (dry run, no token: set GITHUB_TOKEN to open them): 7, with 10 changes" "$T/dry.err" &&
	same_patches "$T/run4/pr" && grep -q "\"dry_run\":true" "$T/run4/pr/index.json" &&
	test -z "$(git --git-dir="$T/srv/acme/manifests.git" for-each-ref refs/heads/kopilot)"'
env -u GITLAB_TOKEN -u GIT_TOKEN GITHUB_TOKEN=ghp_e2e "$KOPILOT" render "$T/run4" --pr --forge gitlab \
	--repo "file://$T/srv/acme/manifests.git" --set "pr.cache_dir=$T/cache-dry" --now "$NOW" >"$T/dry.out" 2>"$T/dry.err"
rc=$?
check "--forge gitlab with only GITHUB_TOKEN: a dry run naming GITLAB_TOKEN (a GitHub token never goes to GitLab)" \
	eval 'test $rc = 3 && grep -q "dry run, no token: set GITLAB_TOKEN to open them" "$T/dry.err"'
start_fake() { # start_fake NAME ARGS...: its port in $PORT_<NAME>
	local name=$1; shift
	"$PY" "$@" --port-file "$T/$name.port" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.1; done
	printf -v "PORT_$name" '%s' "$(cat "$T/$name.port")"
}
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
start_fake git "$ROOT/tests/fakes/githttp.py" --root "$T/srv" --token ghp_e2e
start_fake api "$ROOT/tests/fakes/github.py" --token ghp_e2e --log "$T/api.jsonl"
GURL=http://127.0.0.1:$PORT_git/acme/manifests.git
pr_run() {
	GITHUB_TOKEN=ghp_e2e "$KOPILOT" render "$T/run" --pr --repo "$GURL" --set "pr.api_url=http://127.0.0.1:$PORT_api" \
		--set "pr.cache_dir=$T/cache" --now "$NOW" >"$T/gh.out" 2>"$T/gh.err"
}
pr_run; rc=$?
check "render --pr on GitHub: exit 3 (the demo), the note counts seven created" \
	eval 'test $rc = 3 && grep -q "pull requests on github: 7 created, 0 updated" "$T/gh.err"'
api_state() { curl -s "http://127.0.0.1:$PORT_api/_test/state"; }
check "seven pull requests, one per namespace, from kopilot/<namespace> into main, labelled" \
	$PY -c 'import json,sys
ps = json.load(sys.stdin)
assert sorted(p["head"]["ref"] for p in ps) == ["kopilot/" + n for n in ("analytics", "checkout", "ml", "monitoring", "payments", "search", "staging")], ps
for p in ps:
    assert p["state"] == "open" and p["base"]["ref"] == "main" and p["labels"] == [{"name": "kopilot"}], p
    assert p["title"].startswith("kopilot: rightsize") and "| workload |" in p["body"], p["title"]' < <(api_state)
check "seven branches pushed, one commit each on main, main untouched" \
	eval 'test "$(git --git-dir="$T/srv/acme/manifests.git" for-each-ref --format="%(refname)" refs/heads/kopilot | wc -l)" = 7 &&
	test "$(git --git-dir="$T/srv/acme/manifests.git" rev-parse main)" = "$MAIN0" &&
	test "$(git --git-dir="$T/srv/acme/manifests.git" rev-list --count main..kopilot/payments)" = 1'
check "the pushed branch holds exactly what the patch says" \
	eval 'test "$(git --git-dir="$T/srv/acme/manifests.git" diff main kopilot/checkout)" = "$(cd "$W" && git diff HEAD~7 HEAD -- apps/checkout/cart-api.yaml)"'
check "pr/index.json: each pull request's URL and what was done" \
	$PY -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["dry_run"] is False
for p in d["pull_requests"]:
    assert p["pull_request"] == "created" and p["branch_push"] == "created" and p["url"].startswith("https://github.example/acme/manifests/pull/"), p' "$T/run/pr/index.json"
check "the report links each finding to its pull request" \
	grep -q "^Pull request: \[kopilot/checkout\](https://github.example/acme/manifests/pull/[0-9]*)" "$T/run/report.md"
tips1=$(git --git-dir="$T/srv/acme/manifests.git" for-each-ref --format="%(objectname)" refs/heads/kopilot)
pr_run; rc=$?
check "the next night: no new commit, no new pull request, the seven updated" \
	eval 'test $rc = 3 && grep -q "pull requests on github: 0 created, 7 updated" "$T/gh.err" &&
	test "$tips1" = "$(git --git-dir="$T/srv/acme/manifests.git" for-each-ref --format="%(objectname)" refs/heads/kopilot)" &&
	test "$(api_state | $PY -c "import json,sys; print(len(json.load(sys.stdin)))")" = 7'
# someone else commits to kopilot/checkout: never force-pushed; the pull
# request is told once what kopilot would have changed
O=$T/other
git clone -q "$T/srv/acme/manifests.git" "$O" 2>/dev/null
(cd "$O" && git checkout -q kopilot/checkout && echo "# reviewed by ana" >>apps/checkout/cart-api.yaml &&
	git -c user.name=ana -c user.email=ana@acme.io commit -qam "cart-api: keep 4Gi for the sale" &&
	git push -q origin kopilot/checkout) >/dev/null 2>&1
theirs=$(git --git-dir="$T/srv/acme/manifests.git" rev-parse kopilot/checkout)
comments() { curl -s "http://127.0.0.1:$PORT_api/repos/acme/manifests/issues/$1/comments?per_page=100" -H "Authorization: Bearer ghp_e2e"; }
pr_run; rc=$?
cnum=$($PY -c 'import json,sys; print([p["number"] for p in json.load(sys.stdin) if p["head"]["ref"] == "kopilot/checkout"][0])' < <(api_state))
check "someone else's commit on the branch: left alone (never force-pushed), the note says so, one comment with the patch" \
	eval 'test $rc = 3 && grep -q "1 branch left alone" "$T/gh.err" &&
	test "$(git --git-dir="$T/srv/acme/manifests.git" rev-parse kopilot/checkout)" = "$theirs" &&
	comments $cnum | $PY -c "import json,sys
c = json.load(sys.stdin)
assert len(c) == 1 and \"never force-pushes\" in c[0][\"body\"] and \"cart-api.yaml\" in c[0][\"body\"] and \"kopilot:proposal:\" in c[0][\"body\"], c" &&
	grep -q "\"pull_request\":\"commented\"" "$T/run/pr/index.json"'
pr_run; rc=$?
check "the night after: the same proposal is not said twice" \
	eval 'test $rc = 3 && test "$(comments $cnum | $PY -c "import json,sys; print(len(json.load(sys.stdin)))")" = 1 &&
	grep -q "\"pull_request\":\"already commented\"" "$T/run/pr/index.json"'
check "kopilot's requests are shapes the official client (@octokit/rest) sends too" \
	$PY "$ROOT/tests/clients/shapes.py" --within "$ROOT/tests/clients/expected-github.json" "$T/api.jsonl"
# a run with no resize findings: no branch, no pull request
cp -a "$T/run" "$T/run0"
$PY -c 'import json,sys
d = json.load(open(sys.argv[1]))
d["findings"] = [f for f in d["findings"] if f["action"]["type"] != "resize"]
json.dump(d, open(sys.argv[1], "w"))' "$T/run0/findings.json"
npulls=$(api_state | $PY -c "import json,sys; print(len(json.load(sys.stdin)))")
nrefs=$(git --git-dir="$T/srv/acme/manifests.git" for-each-ref refs/heads | wc -l)
GITHUB_TOKEN=ghp_e2e "$KOPILOT" render "$T/run0" --pr --repo "$GURL" --set "pr.api_url=http://127.0.0.1:$PORT_api" \
	--set "pr.cache_dir=$T/cache" --now "$NOW" >"$T/none.out" 2>"$T/none.err"
rc=$?
check "no resize findings: no branch pushed, no pull request opened or touched" \
	eval 'test $rc = 3 && grep -q "pull requests on github: 0 created, 0 updated" "$T/none.err" &&
	test "$(api_state | $PY -c "import json,sys; print(len(json.load(sys.stdin)))")" = "$npulls" &&
	test "$(git --git-dir="$T/srv/acme/manifests.git" for-each-ref refs/heads | wc -l)" = "$nrefs"'
# the forge down: the report still lands, the run says why (degraded)
GITHUB_TOKEN=ghp_e2e "$KOPILOT" render "$T/run" --pr --repo "$GURL" --set "pr.api_url=http://127.0.0.1:1" \
	--set "pr.cache_dir=$T/cache" --now "$NOW" >"$T/down.out" 2>"$T/down.err"
rc=$?
check "GitHub's API down: exit 3, the reports written, the note says the pull requests were not opened, no pr/" \
	eval 'test $rc = 3 && grep -q "pull requests not opened: GitHub" "$T/down.err" && test -s "$T/run/report.md" && test ! -e "$T/run/pr"'
check "the token is in no file of the run, the cache or the fake's request log" \
	eval '! grep -rq ghp_e2e "$T/run" "$T/cache" "$T/api.jsonl"'

# ---- over ssh: a key for the push, and the server's host key checked
# against known_hosts (the real sshd; libgit2 alone would accept any key) ----
need /usr/sbin/sshd openssh-server
need ssh-keygen openssh-client
S=$T/ssh
mkdir -p "$S" "$T/srvs/ops"
git init -q --bare -b main "$T/srvs/ops/manifests.git"
git --git-dir="$T/srvs/ops/manifests.git" fetch -q "$T/srv/acme/manifests.git" main:main 2>/dev/null
ssh-keygen -q -t ed25519 -N "" -C host -f "$S/host"
ssh-keygen -q -t ed25519 -N "" -C kopilot -f "$S/id"
ssh-keygen -q -t ed25519 -N "" -C other -f "$S/other"
cp "$S/id.pub" "$S/authorized_keys"
SPORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '%s\n' "Port $SPORT" "ListenAddress 127.0.0.1" "HostKey $S/host" "AuthorizedKeysFile $S/authorized_keys" \
	"StrictModes no" "PasswordAuthentication no" "KbdInteractiveAuthentication no" "UsePAM no" \
	"PermitRootLogin prohibit-password" "PidFile $S/sshd.pid" >"$S/sshd_config"
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$S/sshd_config" 2>"$S/sshd.log" &
PIDS+=($!)
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$SPORT) 2>/dev/null && break; sleep 0.1; done
echo "[127.0.0.1]:$SPORT $(cut -d' ' -f1,2 "$S/host.pub")" >"$S/known_hosts"
echo "[127.0.0.1]:$SPORT $(cut -d' ' -f1,2 "$S/other.pub")" >"$S/wrong_hosts"
: >"$S/empty_hosts"
SURL="ssh://$(id -un)@127.0.0.1:$SPORT$T/srvs/ops/manifests.git"
ssh_run() { # ssh_run KNOWN_HOSTS CACHE
	# under make asan: what libgit2's ssh transport leaks (see the file;
	# its stacks are whole only with the slow unwinder)
	env ${LSAN_OPTIONS:+LSAN_OPTIONS=suppressions=$ROOT/tests/lsan-ssh.supp:fast_unwind_on_malloc=0} \
	GITHUB_TOKEN=ghp_e2e "$KOPILOT" render "$T/run" --pr --repo "$SURL" --set "pr.api_url=http://127.0.0.1:$PORT_api" \
		--set "pr.ssh_key=$S/id" --set "pr.ssh_known_hosts=$1" --set "pr.cache_dir=$2" --now "$NOW" \
		>"$T/ssh.out" 2>"$T/ssh.err"
}
ssh_run "$S/empty_hosts" "$T/cache-ssh0"; rc=$?
check "over ssh, a server not in known_hosts: refused, the note says how to add it, nothing pushed" \
	eval 'test $rc = 3 && grep -q "is not in $S/empty_hosts: add its key (ssh-keyscan -p $SPORT 127.0.0.1" "$T/ssh.err" &&
	test "$(git --git-dir="$T/srvs/ops/manifests.git" for-each-ref refs/heads/kopilot | wc -l)" = 0'
ssh_run "$S/wrong_hosts" "$T/cache-ssh1"; rc=$?
check "over ssh, a host key other than known_hosts has: refused (someone in between)" \
	eval 'test $rc = 3 && grep -q "the host key of \[127.0.0.1\]:$SPORT is not the one" "$T/ssh.err"'
ssh_run "$S/known_hosts" "$T/cache-ssh"; rc=$?
check "over ssh with pr.ssh_key and the host known: seven branches pushed, seven pull requests" \
	eval 'test $rc = 3 && grep -q "pull requests on github: 7 created" "$T/ssh.err" &&
	test "$(git --git-dir="$T/srvs/ops/manifests.git" for-each-ref refs/heads/kopilot | wc -l)" = 7'

# ---- on GitLab: merge requests of a project in a nested group, the
# token as oauth2's password for git and a bearer for the API ----
mkdir -p "$T/srvl/platform/k8s"
git init -q --bare -b main "$T/srvl/platform/k8s/manifests.git"
git --git-dir="$T/srvl/platform/k8s/manifests.git" fetch -q "$T/srv/acme/manifests.git" main:main 2>/dev/null
start_fake gitl "$ROOT/tests/fakes/githttp.py" --root "$T/srvl" --token glpat-e2e
start_fake gl "$ROOT/tests/fakes/gitlab.py" --token glpat-e2e --log "$T/gl.jsonl"
LURL=http://127.0.0.1:$PORT_gitl/platform/k8s/manifests.git
gl_run() {
	env -u GITHUB_TOKEN GITLAB_TOKEN=glpat-e2e "$KOPILOT" render "$T/run" --pr --forge gitlab --repo "$LURL" \
		--set "pr.api_url=http://127.0.0.1:$PORT_gl/api/v4" --set "pr.cache_dir=$T/cache" --now "$NOW" \
		>"$T/gl.out" 2>"$T/gl.err"
}
gl_run; rc=$?
gl_state() { curl -s "http://127.0.0.1:$PORT_gl/_test/state"; }
check "render --pr --forge gitlab: seven merge requests created, exit 3 (the demo)" \
	eval 'test $rc = 3 && grep -q "pull requests on gitlab: 7 created, 0 updated" "$T/gl.err"'
check "each from kopilot/<namespace> into main of platform/k8s/manifests, labelled, the body the same template" \
	$PY -c 'import json,sys
st = json.load(sys.stdin)
mrs = st["merge_requests"] if isinstance(st, dict) else st
assert len(mrs) == 7, mrs
for m in mrs:
    assert m["state"] == "opened" and m["target_branch"] == "main" and m["source_branch"].startswith("kopilot/"), m
    assert "kopilot" in m["labels"] and "| workload |" in m["description"], m
    assert "/platform/k8s/manifests/-/merge_requests/" in m["web_url"], m["web_url"]' < <(gl_state)
check "the branches are on the GitLab remote, main untouched" \
	eval 'test "$(git --git-dir="$T/srvl/platform/k8s/manifests.git" for-each-ref refs/heads/kopilot | wc -l)" = 7 &&
	test "$(git --git-dir="$T/srvl/platform/k8s/manifests.git" rev-parse main)" = "$MAIN0"'
gl_run; rc=$?
check "the next night on GitLab: the seven updated, none created" \
	eval 'test $rc = 3 && grep -q "pull requests on gitlab: 0 created, 7 updated" "$T/gl.err"'
curl -s -X POST "http://127.0.0.1:$PORT_gl/_test/close/1" >/dev/null
gl_run; rc=$?
check "a merge request closed without merging, nothing new: left closed" \
	eval 'test $rc = 3 && grep -q "pull requests on gitlab: 0 created, 6 updated, 1 left closed" "$T/gl.err"'
check "kopilot's requests are shapes the official client (@gitbeaker/rest) sends too" \
	$PY "$ROOT/tests/clients/shapes.py" --within "$ROOT/tests/clients/expected-gitlab.json" "$T/gl.jsonl"
check "the GitLab token is in no file of the run, the cache or the fake's log" \
	eval '! grep -rq glpat-e2e "$T/run" "$T/cache" "$T/gl.jsonl"'
finish
