#!/usr/bin/env bash
# Fault-injection walk, the SQLite way: a whole `kopilot run` on the demo
# cluster is repeated with its Nth allocation, then its Nth file operation,
# failing on purpose, and every failure must end cleanly:
#
#   a. no crash: exit 0 or 3 (the failed operation was optional, such as the
#      model cache) or 4 with a one-line "kopilot ...:" message on stderr;
#   b. the run directory is all or nothing: every file the previous run's
#      (byte-identical), or every file the new run's; a failure (exit 4)
#      never replaces the previous run, a success always does;
#   c. no temp files (names with ".tmp.") left behind, in it or beside it
#      (the staging directory .NAME.new.PID, the lock .NAME.lock);
#   d. audit.jsonl keeps the previous run's events and is JSON line by
#      line; with exit 0 or 3 it records the command's start and end.
#
# The binary must be a fault-injection build (pipeline/fault.h):
#
#   make faults        (builds build-fault/kopilot with -DKP_FAULT_INJECTION, runs this)
#   KOPILOT=build-fault/kopilot bash tests/e2e/faults.sh
#
# KOPILOT_FAULT_COUNT tells how many allocations and file operations a clean
# run performs (about 3,900 and 310 on the demo). Every file operation is
# failed in turn. Allocations: the first FAULTS_ALLOC_HEAD (300), then one
# in 16 over the whole run, then the ones between, one in 8, 4, 2 and 1, as
# long as the next pass fits in FAULTS_BUDGET seconds for the whole walk
# (default 200) at the speed the last pass measured; what was covered is
# printed. FAULTS_ALLOC_STRIDE=K runs one in K instead (1: all), for a walk
# that is the same on every machine.
#
# FAULTS_JOBS (2) cases run in parallel, in batches of
# tests/e2e/faults_check.py, which runs and checks each case in-process: a
# process per comparison (cmp) costs more than the runs themselves. Cases
# run under FAULTS_TMPDIR, by default /dev/shm when there is one: fsync is
# free on a tmpfs, and the walk is about error paths, not the disk. A
# failure prints its case (e.g. alloc:1234); to look at one, copy a previous
# run and run `KOPILOT_FAULT=alloc:1234 build-fault/kopilot run ...` into it
# (with another path length the Nth allocation may be a few away). Ends with
# "faults: N passed, M failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build-fault/kopilot}
DEMO=$ROOT/examples/demo-cluster
JOBS=${FAULTS_JOBS:-2}
BUDGET=${FAULTS_BUDGET:-200}
ALLOC_HEAD=${FAULTS_ALLOC_HEAD:-300}

need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || { echo "faults: $1 is missing: install the Debian package $2 (or run 'make deps')" >&2; exit 1; }
}
need cmp diffutils
need python3 python3
need xargs findutils
[ -x "$KOPILOT" ] || { echo "faults: $KOPILOT not found: build it with 'make faults'" >&2; exit 1; }

TMP=${FAULTS_TMPDIR:-/tmp}
[ -z "${FAULTS_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && TMP=/dev/shm
T=$(mktemp -d "$TMP/kopilot-faults.XXXXXX")
trap 'rm -rf "$T"' EXIT
PREV=$T/prev
# Every run directory's path has the same length (cases/n000000,
# cases/a000123, ...): paths are built in growable buffers, so a longer one
# could shift which allocation is the Nth.
NEW=$T/cases/n000000
NEW_NOW=2026-11-25T06:00:00Z

# The previous run: another day and another CPU price, so its analysis,
# findings and reports differ from what the new run writes.
"$KOPILOT" run --snapshot "$DEMO" --out "$PREV" --now 2026-11-24T06:00:00Z \
	--set prices.cpu_core_hour=0.05 --quiet 2>"$T/prev.err"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then echo "faults: the previous run failed (exit $rc):" >&2; cat "$T/prev.err" >&2; exit 1; fi

# The new run without faults, over a copy of the previous one exactly as
# every case below: its files are the "new" versions, its counts N's range.
mkdir -p "$T/cases"
cp -a "$PREV" "$NEW"
KOPILOT_FAULT_COUNT=$T/counts "$KOPILOT" run --snapshot "$DEMO" --out "$NEW" --now $NEW_NOW --quiet 2>"$T/new.err"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then echo "faults: the reference run failed (exit $rc):" >&2; cat "$T/new.err" >&2; exit 1; fi
if [ ! -s "$T/counts" ]; then
	echo "faults: $KOPILOT wrote no KOPILOT_FAULT_COUNT file: not a fault-injection build (make faults)" >&2
	exit 1
fi
ALLOC_TOTAL=$(awk '$1 == "alloc" { print $2 }' "$T/counts")
IO_TOTAL=$(awk '$1 == "io" { print $2 }' "$T/counts")
for f in analysis.json findings.json report.md report.html report.xlsx; do
	cmp -s "$PREV/$f" "$NEW/$f" && { echo "faults: $f is the same in both runs: the walk could not tell them apart" >&2; exit 1; }
done

# ---------------------------------------------------------------- the walk
: >"$T/results"
run_cases() { # run_cases FILE: the cases listed in FILE, JOBS at a time
	local n batch
	n=$(wc -l <"$1")
	[ "$n" -gt 0 ] || return 0
	# a few batches per worker, so a slow one does not leave a core idle
	batch=$(((n + JOBS * 8 - 1) / (JOBS * 8)))
	xargs -P "$JOBS" -n "$batch" python3 "$ROOT/tests/e2e/faults_check.py" "$T/results" "$KOPILOT" "$DEMO" \
		$NEW_NOW "$PREV" "$NEW" "$T/cases" <"$1"
}
echo "faults: a clean run does $ALLOC_TOTAL allocations and $IO_TOTAL file operations"
start=$SECONDS
seq 1 "$IO_TOTAL" | sed 's/^/io:/' >"$T/io.txt"
run_cases "$T/io.txt"
io_seconds=$((SECONDS - start))
echo "faults: failed each file operation (all $IO_TOTAL) in ${io_seconds}s"

# Allocations: passes over the whole run at finer and finer strides, each
# pass only the numbers the coarser ones did not cover.
ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
alloc_pass() { # alloc_pass STRIDE PREVIOUS_STRIDE: numbers past the head, one in STRIDE
	local n
	for ((n = ALLOC_HEAD + 1; n <= ALLOC_TOTAL; n += $1)); do
		[ "$2" -gt 0 ] && [ $(((n - ALLOC_HEAD - 1) % $2)) -eq 0 ] && continue
		echo "alloc:$n"
	done
}
seq 1 $((ALLOC_HEAD < ALLOC_TOTAL ? ALLOC_HEAD : ALLOC_TOTAL)) | sed 's/^/alloc:/' >"$T/alloc.txt"
t0=$SECONDS
run_cases "$T/alloc.txt"
if [ -n "${FAULTS_ALLOC_STRIDE:-}" ]; then
	strides=$FAULTS_ALLOC_STRIDE
else
	strides="16 8 4 2 1"
fi
covered=0 rate_ms=0 # stride done so far; milliseconds per case in the last pass
for k in $strides; do
	alloc_pass "$k" "$covered" >"$T/pass.txt"
	n=$(wc -l <"$T/pass.txt")
	if [ -z "${FAULTS_ALLOC_STRIDE:-}" ] && [ "$covered" -gt 0 ] &&
		[ $((SECONDS - start + n * rate_ms / 1000)) -gt "$BUDGET" ]; then
		break
	fi
	p0=$(ms)
	run_cases "$T/pass.txt"
	rate_ms=$((($(ms) - p0) / (n > 0 ? n : 1)))
	cat "$T/pass.txt" >>"$T/alloc.txt"
	covered=$k
done
if [ "$ALLOC_TOTAL" -le "$ALLOC_HEAD" ] || [ "$covered" -eq 1 ]; then
	alloc_cover="all $ALLOC_TOTAL"
else
	alloc_cover="1..$ALLOC_HEAD, then one in $covered up to $ALLOC_TOTAL ($(wc -l <"$T/alloc.txt") of $ALLOC_TOTAL)"
	[ -z "${FAULTS_ALLOC_STRIDE:-}" ] && alloc_cover="$alloc_cover, as many as fit in ${BUDGET}s"
fi
echo "faults: failed allocations $alloc_cover in $((SECONDS - t0))s"

total=$((IO_TOTAL + $(wc -l <"$T/alloc.txt")))
awk -F'\t' '$1 ~ /^fail / { sub(/^fail /, "", $1); print "not ok - " $1 ": " $2 }' "$T/results" |
	sort -t: -k1,1 -k2,2n | head -100
passed=$(grep -c '^ok ' "$T/results")
failed=$(grep -c '^fail ' "$T/results")
lost=$((total - passed - failed))
if [ "$lost" -ne 0 ]; then
	echo "not ok - $lost cases reported nothing (the checker itself failed)"
	failed=$((failed + lost))
fi
echo "faults: $total cases in $((SECONDS - start))s, $JOBS in parallel"
echo "faults: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
