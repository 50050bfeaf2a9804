#!/usr/bin/env bash
# The manifest corpus (tests/data/manifest-corpus): repositories shaped
# like real teams' (multi-document files, flow style, odd quantities, CRLF
# and UTF-8, anchors, kustomize bases, overlays and patches, Helm values,
# Argo CD and Flux layouts, HPAs), each with hand-written resize findings,
# expect.json (per finding: the file edited, or why it is refused) and the
# golden patches. Per case:
#   (a) render --pr --dry-run only reads the repository;
#   (b) pr/index.json and the bodies: each finding edited in its file or
#       refused with its reason;
#   (c) every patch applies with git am on the repository, each alone and
#       all in a row;
#   (d) the patches equal golden/*.patch (the version trailer ignored);
#   (e) semantic: every kustomization root rendered with kubectl kustomize
#       and every YAML file parsed, before and after the patches: the only
#       differences are the intended resource values of the intended
#       containers (and the HPA targets of related_changes), equal as
#       quantities to the findings' recommendations.
#   bash tests/e2e/corpus.sh [--update] [CASE...]
# --update rewrites golden/*.patch from what kopilot writes now: review
# them line by line before committing. Ends with "corpus: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
CORPUS=$ROOT/tests/data/manifest-corpus
NOW=2026-11-25T06:00:00Z
PY=/usr/bin/python3
SUITE=corpus
. "$ROOT/tests/e2e/lib.sh"
need git git
need kubectl kubernetes-client
need "$PY" python3
"$PY" -c 'import yaml, jsonschema' 2>/dev/null || { echo "corpus: python3-yaml and python3-jsonschema are needed: install them with 'make deps'" >&2; exit 1; }
[ -x "$KOPILOT" ] || { echo "corpus: $KOPILOT not found: run 'make'" >&2; exit 1; }

UPDATE=0
CASES=()
for a in "$@"; do
	case $a in
	--update) UPDATE=1 ;;
	-*) echo "usage: corpus.sh [--update] [CASE...]" >&2; exit 2 ;;
	*) CASES+=("$a") ;;
	esac
done
if [ ${#CASES[@]} -eq 0 ]; then
	for d in "$CORPUS"/*/; do [ -f "$d/expect.json" ] && CASES+=("$(basename "$d")"); done
fi

T=$(mktemp -d /tmp/kopilot-corpus.XXXXXX)
trap 'rm -rf "$T"' EXIT
CHECK=$CORPUS/check.py
GIT=(git -c user.name=corpus -c user.email=corpus@example.invalid -c core.autocrlf=false -c advice.detachedHead=false)
sum_dir() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
git_base() { # git_base DIR: a repository of DIR's files, one commit
	(cd "$1" && "${GIT[@]}" init -q -b main . && "${GIT[@]}" add -A && "${GIT[@]}" commit -qm base) >/dev/null
}
am() { # am DIR PATCH
	(cd "$1" && "${GIT[@]}" am -q "$2" 2>&1) || { (cd "$1" && "${GIT[@]}" am --abort >/dev/null 2>&1); return 1; }
}

for c in "${CASES[@]}"; do
	C=$CORPUS/$c
	[ -f "$C/expect.json" ] || { not_ok "$c: no such case ($C/expect.json)"; continue; }
	W=$T/$c
	mkdir -p "$W/run"
	cp "$C/findings.json" "$W/run/findings.json"
	cp -a "$C/repo" "$W/repo"
	check "$c: findings.json follows the contract" schema_valid "$ROOT/docs/contracts/findings.schema.json" "$W/run/findings.json"
	before=$(sum_dir "$W/repo")
	"$KOPILOT" render "$W/run" --pr --repo "$W/repo" --dry-run --now "$NOW" >"$W/render.out" 2>"$W/render.err"
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 3 ] || [ ! -f "$W/run/pr/index.json" ]; then
		not_ok "$c: render --pr --dry-run (exit $rc)" "$(cat "$W/render.err")"
		continue
	fi
	ok "$c: render --pr --dry-run (exit $rc)"
	# (a)
	check "$c: (a) the repository was only read" test "$before" = "$(sum_dir "$W/repo")"
	# (b)
	check "$c: (b) each finding edited in its file or refused with its reason" "$PY" "$CHECK" index "$C" "$W/run"
	shopt -s nullglob
	patches=("$W"/run/pr/*.patch)
	shopt -u nullglob
	# (c)
	rm -rf "$W/base" && cp -a "$C/repo" "$W/base" && git_base "$W/base"
	for p in "${patches[@]}"; do
		rm -rf "$W/one" && cp -a "$W/base" "$W/one"
		check "$c: (c) $(basename "$p") applies with git am" am "$W/one" "$p"
	done
	rm -rf "$W/all" && cp -a "$W/base" "$W/all"
	all_ok=1
	for p in "${patches[@]}"; do
		out=$(am "$W/all" "$p") || { all_ok=0; not_ok "$c: (c) all patches in a row: $(basename "$p") does not apply after the others" "$out"; break; }
	done
	[ $all_ok = 1 ] && ok "$c: (c) all ${#patches[@]} patches apply in a row"
	# (d)
	if [ $UPDATE = 1 ]; then
		rm -rf "$C/golden" && mkdir -p "$C/golden"
		for p in "${patches[@]}"; do cp "$p" "$C/golden/"; done
		echo "# $c: golden/ rewritten (${#patches[@]} patches): review them"
	fi
	got=$(cd "$W/run/pr" && ls -- *.patch 2>/dev/null | sort)
	want=$(cd "$C/golden" 2>/dev/null && ls -- *.patch 2>/dev/null | sort)
	if [ "$got" != "$want" ]; then
		not_ok "$c: (d) the patches are golden/'s" "kopilot wrote: $(echo $got); golden: $(echo $want)"
	else
		for p in "${patches[@]}"; do
			n=$(basename "$p")
			check "$c: (d) $n equals golden/$n" \
				diff -u --label "golden/$n" --label "kopilot's $n" <("$PY" "$CHECK" norm "$C/golden/$n") <("$PY" "$CHECK" norm "$p")
		done
	fi
	# (e)
	if [ $all_ok = 1 ]; then
		rm -rf "$W/after" && cp -a "$W/all" "$W/after" && rm -rf "$W/after/.git"
		check "$c: (e) before and after differ only by the intended resources (kubectl kustomize, every YAML file)" \
			"$PY" "$CHECK" semantic "$C" "$C/repo" "$W/after"
	else
		not_ok "$c: (e) semantic: not checked, the patches do not apply"
	fi
done
finish
