#!/usr/bin/env bash
# End-to-end tests of the command line users of kubectl, KRR and kor know:
# short flags (-n, -A, -l, -o, -c), --exclude-namespace, label selectors,
# -o json|yaml|csv on stdout for pipes, colour only on a terminal (under a
# real pty via script(1)), the bash and zsh completion scripts driven by the
# shells themselves, and the man page rendered by groff and man. The real
# binary on the demo cluster. Ends with "N passed, N failed".
#
#   KOPILOT=build/kopilot bash tests/e2e/cli.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
PY=/usr/bin/python3
DEMO=$ROOT/examples/demo-cluster
NOW=2026-11-25T06:00:00Z
T=$(mktemp -d /tmp/kopilot-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT

SUITE=cli
. "$ROOT/tests/e2e/lib.sh"
need "$KOPILOT" "build it with 'make'"
need $PY python3
need script bsdutils
need zsh zsh
need groff groff-base
need man man-db
$PY -c 'import yaml, jsonschema' 2>/dev/null || { echo "cli: python3-yaml and python3-jsonschema are missing: run 'make deps'" >&2; exit 1; }

# k NAME ARGS...: kopilot run on the demo into $T/NAME; stdout, stderr in $T/NAME.out, .err; exit code in RC
k() {
	local name=$1; shift
	rm -rf "${T:?}/$name"
	"$KOPILOT" run --snapshot "$DEMO" --out "$T/$name" --now $NOW "$@" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
}
# ids RUN: the finding ids of a run, sorted, one line
ids() { $PY -c 'import json,sys; print(" ".join(sorted(f["id"] for f in json.load(open(sys.argv[1]))["findings"])))' "$1/findings.json"; }

# ------------------------------------------------------------ namespaces
k long --namespace checkout
k short -n checkout
k attached -ncheckout
k equals -n=checkout
# exit 0: the demo's one gap is in analytics, outside the scope
if [ $RC -eq 0 ] && [ -n "$(ids "$T/long")" ] && [ "$(ids "$T/long")" = "$(ids "$T/short")" ] &&
	[ "$(ids "$T/short")" = "$(ids "$T/attached")" ] && [ "$(ids "$T/attached")" = "$(ids "$T/equals")" ]; then
	ok "-n NS, -nNS and -n=NS select what --namespace NS does"
else not_ok "-n forms select what --namespace does" "$(cat "$T/equals.err")"; fi

k all
k all-A -A
k all-long --all-namespaces
if [ $RC -eq 3 ] && [ "$(ids "$T/all")" = "$(ids "$T/all-A")" ] && [ "$(ids "$T/all-A")" = "$(ids "$T/all-long")" ]; then
	ok "-A/--all-namespaces is the default, said out loud"
else not_ok "-A is the default" "$(cat "$T/all-A.err")"; fi
expect_exit "-A with -n is a usage error, as in kubectl" 2 '-A/--all-namespaces and -n/--namespace cannot be used together' -- \
	"$KOPILOT" run --snapshot "$DEMO" --out "$T/x" -A -n checkout

k excl --exclude-namespace kube-system --exclude-namespace=monitoring
if [ $RC -eq 3 ] && $PY - "$T/excl" "$T/all" <<'EOF'
import json, sys
run, all_ = sys.argv[1], sys.argv[2]
f = json.load(open(run + "/findings.json"))["findings"]
a = json.load(open(run + "/analysis.json"))
everything = json.load(open(all_ + "/findings.json"))["findings"]
gone = [x for x in everything if x["resource"]["namespace"] in ("kube-system", "monitoring")]
assert gone, "the demo has findings in kube-system and monitoring"
assert not [x for x in f if x["resource"]["namespace"] in ("kube-system", "monitoring")], "excluded namespaces reported"
assert len(f) == len(everything) - len(gone), (len(f), len(everything), len(gone))
before = json.load(open(all_ + "/analysis.json"))["findings"]  # before the savings threshold
assert a["counts"]["excluded_by_scope"] == len([x for x in before if x["resource"]["namespace"] in ("kube-system", "monitoring")]), a["counts"]
cfg = json.load(open(run + "/run.json"))["config"]
assert "kube\\-system" in cfg["scope.exclude_namespaces"] or "kube-system" in cfg["scope.exclude_namespaces"], cfg
EOF
then ok "--exclude-namespace (repeatable) leaves namespaces out through scope.exclude_namespaces, counted"
else not_ok "--exclude-namespace" "$(cat "$T/excl.err")"; fi
expect_exit "--exclude-namespace with a bad name: exit 2 naming the flag" 2 'flag --exclude-namespace: "Bad_" is not a namespace name' -- \
	"$KOPILOT" run --snapshot "$DEMO" --out "$T/x" --exclude-namespace Bad_

# ------------------------------------------------------------ selectors
check_selector() { # check_selector NAME SELECTOR PYTHON-PREDICATE-ON-labels
	local name=$1 sel=$2 pred=$3
	k "$name" -l "$sel"
	if [ $RC -eq 3 ] && $PY - "$T/$name" "$T/all" "$DEMO" "$pred" "$sel" <<'EOF'
import json, sys
run, all_, demo, pred, sel = sys.argv[1:6]
files = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets", "Job": "jobs",
         "CronJob": "cronjobs", "ReplicaSet": "replicasets", "PersistentVolumeClaim": "persistentvolumeclaims",
         "PersistentVolume": "persistentvolumes", "Service": "services", "Node": "nodes"}
labels = {}
for kind, stem in files.items():
    try:
        items = json.load(open(f"{demo}/objects/{stem}.json"))["items"]
    except FileNotFoundError:
        continue
    for o in items:
        m = o["metadata"]
        labels[(kind, m.get("namespace"), m["name"])] = m.get("labels") or {}
def lab(f):
    r = f["resource"]
    return labels.get((r["kind"], r["namespace"], r["name"]), {})
matches = eval("lambda l: " + pred)
kept = json.load(open(run + "/findings.json"))
everything = json.load(open(all_ + "/findings.json"))["findings"]
want = sorted(f["id"] for f in everything if matches(lab(f)))
got = sorted(f["id"] for f in kept["findings"])
assert got == want, (got, want)
assert 0 < len(got) < len(everything), "the case selects some findings, not all"
a = json.load(open(run + "/analysis.json"))
before = len(json.load(open(all_ + "/analysis.json"))["findings"])  # before the savings threshold
assert a["counts"]["excluded_by_selector"] == before - len(a["findings"]), (a["counts"], before)
assert kept["scope"]["selector"], kept["scope"]
EOF
	then ok "-l '$sel': exactly the findings whose resource's labels match, the rest counted"
	else not_ok "-l '$sel'" "$(cat "$T/$name.err")"; fi
}
check_selector sel-eq 'app.kubernetes.io/part-of=checkout' 'l.get("app.kubernetes.io/part-of") == "checkout"'
check_selector sel-in 'app.kubernetes.io/part-of in (checkout, web)' 'l.get("app.kubernetes.io/part-of") in ("checkout", "web")'
check_selector sel-notin 'app.kubernetes.io/part-of notin (checkout,web),app.kubernetes.io/part-of' \
	'"app.kubernetes.io/part-of" in l and l["app.kubernetes.io/part-of"] not in ("checkout", "web")'
check_selector sel-ne 'app.kubernetes.io/part-of!=checkout' 'l.get("app.kubernetes.io/part-of") != "checkout"'
check_selector sel-not '!app.kubernetes.io/part-of' '"app.kubernetes.io/part-of" not in l'
k sel-long "--selector=app.kubernetes.io/part-of==checkout"
if [ $RC -eq 3 ] && [ "$(ids "$T/sel-long")" = "$(ids "$T/sel-eq")" ]; then ok "--selector=SELECTOR is -l SELECTOR, == is ="
else not_ok "--selector=SELECTOR" "$(cat "$T/sel-long.err")"; fi
if grep -q 'selector app.kubernetes.io/part-of in (checkout,web)' "$T/sel-in.out" &&
	grep -q 'selector app.kubernetes.io/part-of in (checkout,web)' "$T/sel-in/report.md"; then
	ok "the summary and the report name the selector"
else not_ok "the summary and the report name the selector" "$(head -3 "$T/sel-in.out")"; fi
if $PY - "$ROOT/docs/contracts/findings.schema.json" "$T/sel-in/findings.json" <<'EOF'; then
import json, sys
from jsonschema import Draft202012Validator
errors = list(Draft202012Validator(json.load(open(sys.argv[1]))).iter_errors(json.load(open(sys.argv[2]))))
for e in errors[:5]:
    print("/".join(map(str, e.path)), e.message)
sys.exit(1 if errors else 0)
EOF
	ok "a selector run's findings.json (scope.selector) follows findings.schema.json"
else not_ok "scope.selector in the schema"; fi
expect_exit "a malformed selector: exit 2 naming the flag and the position" 2 \
	'flag -l/--selector: "app in \(a": position 10: expected "," or "\)"' -- \
	"$KOPILOT" run --snapshot "$DEMO" --out "$T/x" -l 'app in (a'
expect_exit "a selector with an invalid label key: exit 2" 2 'position 1: label key "-app"' -- \
	"$KOPILOT" run --snapshot "$DEMO" --out "$T/x" --selector '-app=x'
"$KOPILOT" analyze "$T/all" -l 'app.kubernetes.io/part-of=checkout' --quiet 2>/dev/null
if $PY -c 'import json,sys; a=json.load(open(sys.argv[1])); assert a["scope"]["selector"] == "app.kubernetes.io/part-of=checkout" and a["counts"]["excluded_by_selector"] > 0' "$T/all/analysis.json"; then
	ok "kopilot analyze RUN -l SELECTOR"
else not_ok "kopilot analyze RUN -l SELECTOR"; fi

# ------------------------------------------------------------ live collection flags
expect_exit "-c NAME with --snapshot: one source or the other" 2 '--snapshot reads a snapshot, -c/--context a live cluster' -- \
	"$KOPILOT" run --snapshot "$DEMO" --out "$T/x" -c prod
expect_exit "--kubeconfig FILE with --snapshot: one source or the other" 2 '--snapshot reads a snapshot, --kubeconfig a live cluster' -- \
	"$KOPILOT" run --snapshot "$DEMO" --out "$T/x" --kubeconfig /dev/null
expect_exit "collect -c NAME with --snapshot: refused the same way" 2 '-c/--context a live cluster' -- \
	"$KOPILOT" collect --snapshot "$DEMO" --out "$T/x" -c prod
expect_exit "--kubeconfig naming no file: exit 2 naming it, nothing created" 2 '/nonexistent/kubeconfig' -- \
	"$KOPILOT" run --kubeconfig /nonexistent/kubeconfig --out "$T/never"
check "a refused live run created no run directory" test ! -e "$T/never"

# ------------------------------------------------------------ -o for scripts
k json -o json
if [ $RC -eq 3 ] && cmp -s "$T/json.out" "$T/json/findings.json" && ! grep -q 'kopilot' <(head -c 1 "$T/json.out") &&
	grep -q 'collect: reading snapshot' "$T/json.err"; then
	ok "-o json: stdout is findings.json byte for byte, progress stays on stderr, exit 3 as documented"
else not_ok "-o json with --out" "$(head -5 "$T/json.out"; cat "$T/json.err")"; fi

mkdir -p "$T/tmp"
TMPDIR=$T/tmp "$KOPILOT" run --snapshot "$DEMO" --now $NOW -o json 2>"$T/pipe.err" | $PY -m json.tool >"$T/pipe.json"
rcs=("${PIPESTATUS[@]}")
if [ "${rcs[0]}" -eq 3 ] && [ "${rcs[1]}" -eq 0 ] && [ -z "$(ls -A "$T/tmp")" ] &&
	[ "$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$T/pipe.json")" = 31 ]; then
	ok "-o json without --out: pipes into a JSON reader, the private run directory is gone afterwards"
else not_ok "-o json without --out (exit ${rcs[*]}, left: $(ls -A "$T/tmp"))" "$(cat "$T/pipe.err")"; fi

TMPDIR=$T/tmp "$KOPILOT" run --snapshot "$DEMO" --now $NOW -o yaml --quiet >"$T/doc.yaml" 2>"$T/yaml.err"
RC=$?
if [ $RC -eq 3 ] && $PY - "$T/doc.yaml" "$T/json/findings.json" <<'EOF' && ! grep -q 'collect: reading' "$T/yaml.err"; then
import json, sys, yaml
y = yaml.safe_load(open(sys.argv[1]))
j = json.load(open(sys.argv[2]))
assert y == j, "the YAML document differs from findings.json"
EOF
	ok "-o yaml: the same document as YAML (loads equal to findings.json); --quiet silences progress"
else not_ok "-o yaml (exit $RC)" "$(head -5 "$T/doc.yaml"; cat "$T/yaml.err")"; fi

TMPDIR=$T/tmp "$KOPILOT" run --snapshot "$DEMO" --now $NOW -o csv >"$T/doc.csv" 2>/dev/null
RC=$?
if [ $RC -eq 3 ] && [ -z "$(ls -A "$T/tmp")" ] && $PY - "$T/doc.csv" "$T/json/findings.json" <<'EOF'; then
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
head = "namespace,kind,name,container,category,monthly_cost,monthly_savings,risk,action,approval_required,blocked,id"
assert rows[0] == head.split(","), rows[0]
f = json.load(open(sys.argv[2]))["findings"]
assert len(rows) == 1 + len(f), (len(rows), len(f))
for r, x in zip(rows[1:], f):
    d = dict(zip(rows[0], r))
    assert d["id"] == x["id"] and d["category"] == x["category"] and d["kind"] == x["resource"]["kind"]
    assert d["namespace"] == (x["resource"]["namespace"] or ""), d
    assert d["container"] == (x["container"] or ""), d
    assert float(d["monthly_savings"]) == x["monthly_savings"] and float(d["monthly_cost"]) == x["monthly_cost"]
    assert d["risk"] == x["risk"] and d["action"] == x["action"]["type"]
    assert d["approval_required"] == str(x["action"]["approval_required"]).lower()
    assert d["blocked"] == str(x["action"]["blocked"]).lower()
EOF
	ok "-o csv: a header and one row per finding, in findings.json's order and values"
else not_ok "-o csv (exit $RC)" "$(head -3 "$T/doc.csv")"; fi

TMPDIR=$T/tmp "$KOPILOT" run --snapshot "$DEMO" --now $NOW -o yaml 2>/dev/null | head -c 10 >/dev/null
rcs=("${PIPESTATUS[@]}")
# 141: killed by SIGPIPE as a pipeline expects; 3: the document fit in the pipe before head left
if { [ "${rcs[0]}" -eq 141 ] || [ "${rcs[0]}" -eq 3 ]; } && [ -z "$(ls -A "$T/tmp")" ]; then
	ok "-o yaml | head: the private run directory is removed even when the reader leaves early"
else not_ok "-o yaml | head (exit ${rcs[0]}, left: $(ls -A "$T/tmp"))"; fi
expect_exit "-o with an unknown format: exit 2 naming the accepted ones" 2 'flag -o: unknown format "xml" \(accepted: table, json, yaml, csv, sarif\)' -- \
	"$KOPILOT" run --snapshot "$DEMO" --out "$T/x" -o xml
expect_exit "-o table (the default) still needs --out" 2 '--out RUN .*is required' -- \
	"$KOPILOT" run --snapshot "$DEMO" -o table
k table -o table
if [ $RC -eq 3 ] && cmp -s "$T/table.out" <(sed "s|$T/all|$T/table|g" "$T/all.out"); then
	ok "-o table is today's summary, unchanged"
else not_ok "-o table" "$(diff "$T/table.out" "$T/all.out" | head)"; fi

# ------------------------------------------------------------ colour
ESC=$'\033'
k pipe
if ! grep -q "$ESC" "$T/pipe.out" && ! grep -q "$ESC" "$T/pipe.err"; then ok "through a pipe: no colour"
else not_ok "through a pipe: no colour" "$(cat -v "$T/pipe.out" | head)"; fi
tty_run() { # tty_run ENV... : the demo run under a pty, its output on stdout
	env "$@" script -qec "'$KOPILOT' run --snapshot '$DEMO' --out '$T/tty' --now $NOW" /dev/null
}
if tty_run TERM=xterm NO_COLOR= | grep -q "${ESC}\[1;33mDegraded:${ESC}\[0m"; then
	ok "on a terminal: colour (the degraded warning, risk, savings)"
else not_ok "on a terminal: colour" "$(tty_run TERM=xterm | cat -v | head)"; fi
# colour is an SGR sequence (ESC [ ... m); the progress line's erase to the
# end of the line (ESC [ K) is no colour
for case in "NO_COLOR=1" "TERM=dumb"; do
	if tty_run TERM=xterm $case | grep -q "$ESC\[[0-9;]*m"; then not_ok "on a terminal with $case: no colour"
	else ok "on a terminal with $case: no colour"; fi
done
env TERM=xterm script -qec "'$KOPILOT' run --snapshot '$DEMO' --out '$T/tty' --now $NOW --no-color" /dev/null >"$T/nocolor.out"
if grep -q 'findings in cluster' "$T/nocolor.out" && ! grep -q "$ESC\[[0-9;]*m" "$T/nocolor.out"; then
	ok "on a terminal with --no-color: the summary, no colour"
else not_ok "on a terminal with --no-color: the summary, no colour" "$(cat -v "$T/nocolor.out" | head)"; fi

# ------------------------------------------------------------ completion
"$KOPILOT" completion bash >"$T/kopilot.bash"
comp() { # comp WORD...: what bash completes for the last word (may be empty)
	bash --norc --noprofile -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kopilot; echo "${COMPREPLY[*]}"' \
		_ "$T/kopilot.bash" "$@"
}
bash_case() { # bash_case WANT WORD...
	local want=$1; shift
	local got
	got=$(cd "$ROOT" && comp "$@")
	if [ "$got" = "$want" ]; then ok "bash completes '$*' to '$want'"; else not_ok "bash completes '$*'" "got: '$got', want: '$want'"; fi
}
bash_case "recommend render" kopilot re
bash_case "--snapshot --state-dir --selector --shard --set --snapshot-out" kopilot run --s
bash_case "table json yaml csv sarif" kopilot run -o ""
bash_case "yaml" kopilot run --output = y
bash_case "csv" kopilot run --output=c
bash_case "examples" kopilot run --snapshot exa
bash_case "bash zsh" kopilot completion ""
bash_case "show" kopilot config ""
bash_case "render" kopilot help ren
bash_case "" kopilot run -n ""
if comp kopilot collect --o | grep -q -- --output; then not_ok "bash: collect does not offer --output"
else ok "bash: collect does not offer --output (the parser's table, per command)"; fi
if bash --norc -c 'source "$1"; complete -p kopilot' _ "$T/kopilot.bash" | grep -q -- '-F _kopilot kopilot'; then
	ok "bash: complete -F _kopilot kopilot is registered"
else not_ok "bash: registration"; fi

"$KOPILOT" completion zsh >"$T/_kopilot"
if zsh -n "$T/_kopilot" 2>"$T/zsh.err"; then ok "zsh: the script parses (zsh -n)"; else not_ok "zsh -n" "$(cat "$T/zsh.err")"; fi
got=$(cd "$T" && HOME=$T zsh -fc 'autoload -U compinit; compinit -u -D; source <("$0" completion zsh); print -r -- ${_comps[kopilot]}' "$KOPILOT" 2>&1)
if [ "$got" = "_kopilot" ]; then ok "zsh: sourced after compinit, compdef registers _kopilot"; else not_ok "zsh: compdef registration" "$got"; fi
got=$(HOME=$T zsh -fc 'fpath=("$0" $fpath); autoload -U compinit; compinit -u -D; print -r -- ${_comps[kopilot]}' "$T" 2>&1)
if [ "$got" = "_kopilot" ]; then ok "zsh: installed as _kopilot in \$fpath, compinit picks it up"; else not_ok "zsh: fpath install" "$got"; fi
expect_exit "completion for an unknown shell: exit 2" 2 'unknown shell "fish" \(accepted: bash, zsh\)' -- "$KOPILOT" completion fish
expect_exit "completion without a shell: exit 2" 2 'expected the shell' -- "$KOPILOT" completion

# ------------------------------------------------------------ man page
"$KOPILOT" help --man >"$T/kopilot.1"
if groff -man -Tutf8 -ww -z "$T/kopilot.1" 2>"$T/groff.err" && [ ! -s "$T/groff.err" ]; then
	ok "the man page is warning-free roff (groff -ww)"
else not_ok "groff warnings" "$(cat "$T/groff.err")"; fi
MANWIDTH=200 man -l "$T/kopilot.1" 2>"$T/man.err" | col -b >"$T/man.txt"
missing=""
for c in run collect analyze recommend render config completion version help; do
	usage=$("$KOPILOT" $c --help | sed -n '1s/^usage: //p')
	grep -qF -- "$usage" "$T/man.txt" || missing="$missing $c"
	for f in $("$KOPILOT" $c --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -qF -- "$f" "$T/man.txt" || missing="$missing $c:$f"
	done
done
if [ -z "$missing" ] && [ ! -s "$T/man.err" ]; then ok "man -l renders every command's usage line and every flag"
else not_ok "man page lacks:$missing" "$(cat "$T/man.err")"; fi
MAN1=$(dirname "$KOPILOT")/kopilot.1
if [ -f "$MAN1" ]; then
	if cmp -s "$MAN1" "$T/kopilot.1"; then ok "the built man page is the binary's help --man"
	else not_ok "$MAN1 differs from kopilot help --man: rebuild it (make)"; fi
fi
expect_exit "help --man takes no command" 2 '--man is the whole manual page' -- "$KOPILOT" help --man run

# ------------------------------------------------------------ unknown names stay exit 2
expect_exit "kopilot help nosuch: exit 2" 2 'unknown command "nosuch"' -- "$KOPILOT" help nosuch
expect_exit "kopilot nosuch: exit 2" 2 'unknown command "nosuch"' -- "$KOPILOT" nosuch
expect_exit "an unknown short flag: exit 2 naming it" 2 'unknown flag -x' -- "$KOPILOT" run -x

# ---- kopilot version: the version and the commit; make install with PREFIX and DESTDIR
check "kopilot version names the version and the commit it was built from" \
	bash -c "'$KOPILOT' version | grep -Eq '^kopilot [0-9]+\.[0-9]+\.[0-9]+ \(kubedevaiops, commit ([0-9a-f]{12}(-dirty)?|unknown)\)$'"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	check "the commit is this checkout's (or it is marked -dirty)" bash -c "v=\$('$KOPILOT' version); h=\$(git -C '$ROOT' rev-parse --short=12 HEAD); case \"\$v\" in *\"commit \$h)\"*|*\"commit \$h-dirty)\"*) exit 0;; *) echo \"\$v vs \$h\"; exit 1;; esac"
fi
BDIR=$(dirname "$KOPILOT")
check "make install PREFIX=/usr DESTDIR=...: the binary and the manual page, nothing else" bash -c "
	make -C '$ROOT' --no-print-directory -s install BUILD='${BDIR#$ROOT/}' PREFIX=/usr DESTDIR='$T/root' >/dev/null &&
	[ -x '$T/root/usr/bin/kopilot' ] && [ -f '$T/root/usr/share/man/man1/kopilot.1' ] &&
	[ \"\$(find '$T/root' -type f | wc -l)\" = 2 ] && '$T/root/usr/bin/kopilot' version | grep -q kubedevaiops"

finish
