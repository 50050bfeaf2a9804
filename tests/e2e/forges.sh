#!/usr/bin/env bash
# The forge fakes are faithful (tests/fakes/github.py, tests/fakes/gitlab.py):
# the official clients from npm, @octokit/rest and @gitbeaker/rest (pinned in
# tests/clients/package-lock.json), drive through each fake exactly the
# exchanges kopilot makes for a pull (merge) request, and assert what they
# parsed (tests/clients/github.mjs, gitlab.mjs):
#   1. find by head (source) branch, create (through a 429 first), label,
#      find, update, create again (422 / 409 already exists), list and add
#      comments (notes), closed without merging, merged, a wrong token;
#   2. the requests' shapes (method, path template, query and body keys)
#      the official clients sent, from each fake's --log
#      (tests/clients/shapes.py), are the committed ones,
#      tests/clients/expected-github.json and expected-gitlab.json; kopilot's
#      own requests are to stay within them (shapes.py --within);
#   3. what the clients do not send but GitHub and GitLab take: the Bearer
#      scheme, X-GitHub-Api-Version, a form body, Link pagination, the
#      400s of a missing or blank field; the token in no log.
# Ends with "forges: N passed, N failed".
#
#   bash tests/e2e/forges.sh [--update]   (--update rewrites the expected shapes)
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=/usr/bin/python3
CL=$ROOT/tests/clients
SUITE=forges
. "$ROOT/tests/e2e/lib.sh"
UPDATE=0
[ "${1:-}" = --update ] && UPDATE=1
need "$PY" python3
need curl curl
need node nodejs
need npm npm
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a === 18 && b >= 20) ? 0 : 1)' ||
	{ echo "forges: node $(node --version) is older than 18.20, which @gitbeaker/rest needs (Debian 12's nodejs is 18.20)" >&2; exit 1; }

fakes_tempdir forges

# ---- the official clients, as package-lock.json pins them ----
npm_ready "$CL"
for p in @octokit/rest @gitbeaker/rest; do
	[ -f "$CL/node_modules/$p/package.json" ] || { echo "forges: $p is not in tests/clients/node_modules after npm ci" >&2; exit 1; }
done

start_fake() { # start_fake NAME SCRIPT ARGS...: its port in $PORT_<NAME>
	local name=$1; shift
	setsid "$PY" "$@" --port-file "$T/$name.port" >"$T/$name.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
	[ -s "$T/$name.port" ] || { echo "forges: the $name fake did not start: $(cat "$T/$name.out")" >&2; exit 1; }
	printf -v "PORT_$name" '%s' "$(cat "$T/$name.port")"
}
# run_client NAME SCRIPT ARGS...: each "ok - X" the script prints is a check
run_client() {
	local name=$1; shift
	local out rc line
	out=$(cd "$CL" && timeout 120 node "$@" 2>&1); rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "$name: ${line#ok - }" ;;
		"not ok - "*) not_ok "$name: ${line#not ok - }" ;;
		esac
	done <<<"$out"
	if [ $rc -ne 0 ] && ! grep -q '^not ok - ' <<<"$out"; then not_ok "$name: exit $rc" "$out"; fi
	[ $rc -eq 0 ] && grep -q '^ok - ' <<<"$out"
}
GH_TOKEN=ghp_forges_e2e_0123456789
GL_TOKEN=glpat-forges-e2e-0123456789
start_fake github "$ROOT/tests/fakes/github.py" --token "$GH_TOKEN" --log "$T/github.jsonl" --rate-limit-first
start_fake gitlab "$ROOT/tests/fakes/gitlab.py" --token "$GL_TOKEN" --log "$T/gitlab.jsonl" --rate-limit-first \
	--project acme/platform/k8s-manifests
GH=http://127.0.0.1:$PORT_github
GL=http://127.0.0.1:$PORT_gitlab

# ---- 1. the exchanges, through the official clients ----
run_client "@octokit/rest $(node -p 'require("'"$CL"'/node_modules/@octokit/rest/package.json").version')" \
	"$CL/github.mjs" "$GH" "$GH_TOKEN" --rate-limit-first
run_client "@gitbeaker/rest $(node -p 'require("'"$CL"'/node_modules/@gitbeaker/rest/package.json").version')" \
	"$CL/gitlab.mjs" "$GL" "$GL_TOKEN" --rate-limit-first
check "octokit saw GitHub's 429 once and waited; gitbeaker retried GitLab's 429 by itself" \
	$PY -c 'import json, sys
for log, path in ((sys.argv[1], "/repos/acme/k8s-manifests/pulls"), (sys.argv[2], "/api/v4/projects/acme%2Fplatform%2Fk8s-manifests/merge_requests")):
    st = [r["status"] for r in map(json.loads, open(log)) if r["method"] == "POST" and r["path"] == path]
    assert st[:2] == [429, 201], (log, st)' "$T/github.jsonl" "$T/gitlab.jsonl"
cp "$T/github.jsonl" "$T/github.client.jsonl"
cp "$T/gitlab.jsonl" "$T/gitlab.client.jsonl"

# ---- 2. the shapes of what the official clients sent ----
for f in github gitlab; do
	$PY "$CL/shapes.py" "$T/$f.client.jsonl" >"$T/$f.shapes"
	[ $UPDATE = 1 ] && cp "$T/$f.shapes" "$CL/expected-$f.json" && echo "# wrote tests/clients/expected-$f.json"
	check "$f: the official client's request shapes are tests/clients/expected-$f.json" \
		diff -u "$CL/expected-$f.json" "$T/$f.shapes"
	check "$f: shapes.py --within passes the client's own log" \
		$PY "$CL/shapes.py" --within "$CL/expected-$f.json" "$T/$f.client.jsonl"
done
printf '%s\n' '{"method": "POST", "path": "/repos/acme/m/pulls", "status": 201, "keys": ["base", "body", "draft", "head", "title"]}' \
	'{"method": "GET", "path": "/repos/acme/m/pulls?head=acme%3Akopilot%2Fa&state=all&per_page=100", "status": 200, "keys": null}' >"$T/other.jsonl"
check "shapes.py --within names a request the official client never sent (a body key more), and only that one" \
	eval '! $PY "$CL/shapes.py" --within "$CL/expected-github.json" "$T/other.jsonl" >"$T/within.out" &&
	grep -q "\"draft\"" "$T/within.out" && test "$(grep -c "\"method\"" "$T/within.out")" = 1'

# ---- 3. what GitHub and GitLab take that the clients did not send ----
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
check "GitHub: Authorization: Bearer (kopilot's scheme) and X-GitHub-Api-Version: 2022-11-28 are taken" \
	eval 'test "$(code -H "Authorization: Bearer $GH_TOKEN" -H "X-GitHub-Api-Version: 2022-11-28" \
		-H "Accept: application/vnd.github+json" "$GH/repos/acme/k8s-manifests/pulls?state=all")" = 200'
check "GitHub: an X-GitHub-Api-Version it does not support is a 400" \
	eval 'test "$(code -H "Authorization: Bearer $GH_TOKEN" -H "X-GitHub-Api-Version: 1999-01-01" "$GH/repos/acme/k8s-manifests/pulls")" = 400'
check "GitHub: per_page=1 pages with a Link header (next, last) octokit can follow" \
	eval 'curl -s -D "$T/h" -o /dev/null -H "Authorization: token $GH_TOKEN" "$GH/repos/acme/k8s-manifests/pulls?state=all&per_page=1" &&
	grep -qi "^link: <http://[^>]*page=2[^>]*>; rel=\"next\"" "$T/h"'
check "GitHub: a comment without a body is a 422 missing_field" \
	eval 'test "$(code -X POST -H "Authorization: token $GH_TOKEN" -d "{}" "$GH/repos/acme/k8s-manifests/issues/1/comments")" = 422 &&
	grep -q missing_field "$T/body"'
GLP=$GL/api/v4/projects/acme%2Fplatform%2Fk8s-manifests
check "GitLab: a form body (x-www-form-urlencoded) creates as JSON does, labels \"a,b\" a list" \
	eval 'test "$(code -X POST -H "PRIVATE-TOKEN: $GL_TOKEN" --data-urlencode source_branch=kopilot/form \
		--data-urlencode target_branch=main --data-urlencode title=t --data-urlencode labels=kopilot,cost "$GLP/merge_requests")" = 201 &&
	$PY -c "import json,sys; d = json.load(open(sys.argv[1])); assert d[\"labels\"] == [\"cost\", \"kopilot\"] and d[\"state\"] == \"opened\", d" "$T/body"'
check "GitLab: Authorization: Bearer is taken as PRIVATE-TOKEN is" \
	eval 'test "$(code -H "Authorization: Bearer $GL_TOKEN" "$GLP/merge_requests?state=opened")" = 200'
check "GitLab: a missing title is 400 \"title is missing\", a blank one 400 {title: [can't be blank]}" \
	eval 'test "$(code -X POST -H "PRIVATE-TOKEN: $GL_TOKEN" -H "Content-Type: application/json" \
		-d "{\"source_branch\":\"b\",\"target_branch\":\"main\"}" "$GLP/merge_requests")" = 400 && grep -q "title is missing" "$T/body" &&
	test "$(code -X POST -H "PRIVATE-TOKEN: $GL_TOKEN" -H "Content-Type: application/json" \
		-d "{\"source_branch\":\"b\",\"target_branch\":\"main\",\"title\":\"\"}" "$GLP/merge_requests")" = 400 &&
	grep -q "can.t be blank" "$T/body"'
check "GitLab: state=bogus is a 400; the project path not URL-encoded is no route (404)" \
	eval 'test "$(code -H "PRIVATE-TOKEN: $GL_TOKEN" "$GLP/merge_requests?state=bogus")" = 400 &&
	test "$(code -H "PRIVATE-TOKEN: $GL_TOKEN" "$GL/api/v4/projects/acme/platform/k8s-manifests/merge_requests")" = 404'
check "GitLab: per_page=1 pages with X-Total, X-Next-Page and a Link header" \
	eval 'curl -s -D "$T/h" -o /dev/null -H "PRIVATE-TOKEN: $GL_TOKEN" "$GLP/merge_requests?per_page=1" &&
	grep -qi "^x-total: 3" "$T/h" && grep -qi "^x-next-page: 2" "$T/h" && grep -qi "rel=\"next\"" "$T/h"'
check "GitLab: no token is 401 for a write, 404 for a read (private projects)" \
	eval 'test "$(code -X POST -d title=t "$GLP/merge_requests")" = 401 && test "$(code "$GLP/merge_requests")" = 404'
check "GitLab: the test hooks: state lists the merge requests, their notes kept" \
	eval 'curl -s "$GL/_test/state" | $PY -c "import json,sys; d = json.load(sys.stdin); assert len(d) == 3 and any(not n[\"system\"] for m in d for n in m[\"_notes\"]), d"'
check "the tokens are in neither fake's request log" \
	eval '! grep -q -e "$GH_TOKEN" -e "$GL_TOKEN" "$T/github.jsonl" "$T/gitlab.jsonl"'

finish
