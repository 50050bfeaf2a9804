#!/usr/bin/env bash
# Quality gate: kopilot on seeded clusters with planted findings.
#
# For each seed (default 1..5): tests/gen/gencluster.py writes a snapshot and
# expected.json (every category planted several times, plus near misses);
# `kopilot run` analyzes it (exit 0 or 3 accepted); tests/gen/score.py scores
# precision and recall per category (both must be 1.0) and the safety
# invariants (memory >= peak, CPU >= median, destructive => approval,
# destructive in a protected namespace => blocked, no high confidence on
# < 24h of history, expected skips listed with their reason, the memory
# recommended for planted cases: OOM kills in the pods' status, language
# runtimes' heap settings as a floor under the memory request; the requests
# an updating VerticalPodAutoscaler sets left alone and a recommendation-only
# one's lowerBound as a floor; operator-managed workloads (managed_by, no
# command); nodes whose scale-down is disabled skipped, and a critical risk
# for a node whose pods must not be evicted).
# Prints a table per seed and category and ends with "quality: N passed,
# N failed"; exits non-zero on any failure.
#
#   KOPILOT=build/kopilot QUALITY_SEEDS="1 2 3 4 5" bash tests/e2e/quality.sh
#   QUALITY_KEEP=1 keeps the snapshots and runs (the path is printed).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
SEEDS=${QUALITY_SEEDS:-1 2 3 4 5}
PY=/usr/bin/python3
NOW=2026-11-25T06:00:00Z

if [ ! -x "$PY" ]; then
	echo "quality: $PY is missing: install Debian's python3 (apt-get install python3), or run 'make deps'" >&2
	exit 1
fi
if [ ! -x "$KOPILOT" ]; then
	echo "quality: $KOPILOT not found: build it first (make)" >&2
	exit 1
fi

T=$(mktemp -d /tmp/kopilot-quality.XXXXXX)
if [ -n "${QUALITY_KEEP:-}" ]; then echo "quality: keeping $T"; else trap 'rm -rf "$T"' EXIT; fi

pass=0
fail=0
for seed in $SEEDS; do
	snap=$T/snap-$seed run=$T/run-$seed
	if ! gen_out=$("$PY" tests/gen/gencluster.py --seed "$seed" --out "$snap" 2>&1); then
		echo "not ok - seed $seed: gencluster.py failed"; echo "$gen_out" | sed 's/^/#   /' | head -20
		fail=$((fail + 1)); continue
	fi
	"$KOPILOT" run --snapshot "$snap" --out "$run" --now "$NOW" >"$T/kopilot-$seed.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
		echo "not ok - seed $seed: kopilot run exited $rc"; sed 's/^/#   /' "$T/kopilot-$seed.log" | tail -20
		fail=$((fail + 1)); continue
	fi
	out=$("$PY" tests/gen/score.py --snapshot "$snap" --run "$run" --label "$seed" 2>&1)
	src=$?
	echo "$out" | grep -v '^score: '
	line=$(echo "$out" | grep -E '^score: [0-9]+ passed, [0-9]+ failed$' | tail -1)
	if [ -z "$line" ] || [ $src -eq 2 ]; then
		echo "not ok - seed $seed: score.py failed (exit $src)"; fail=$((fail + 1)); continue
	fi
	p=$(echo "$line" | sed -E 's/^score: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
	pass=$((pass + p))
	fail=$((fail + f))
	echo
done
echo "quality: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
