#!/usr/bin/env bash
# bench/run.sh - kopilot benchmarks (`make bench`). See bench/README.md.
#
# 1. generates a large synthetic snapshot once (bench/gen_cluster.py) into
#    bench/.cache/, reused while gen_cluster.py and the pod count are unchanged;
# 2. `kopilot collect` once into a run directory (timed once, for context);
# 3. BENCH_RUNS rounds (default 3), round-robin so drift hits every command
#    alike, each command under /usr/bin/time -v:
#      cat            raw read of objects/*.json + usage.json
#      python-json    /usr/bin/python3 json.load of the same files
#      python-json-nogc   the same with the cyclic GC off (pure parse cost)
#      analyze        kopilot analyze RUN --now ...
#      recommend      kopilot recommend RUN
#      run            kopilot run (collect + analyze + recommend + render)
# 4. bench/summarize.py takes medians and writes bench/results/latest.json and
#    latest.md, and prints the table.
#
# The script never fails because something is slow; it fails only when a
# command fails (kopilot exit codes 0 and 3 count as success: 3 = degraded,
# expected because the generator leaves a few workloads unmeasured).
#
# Environment: KOPILOT (binary, default build/kopilot), BENCH_PODS (150000),
# BENCH_RUNS (3), BENCH_NOW (2026-11-25T06:00:00Z, the generator's "now").
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
PODS=${BENCH_PODS:-150000}
RUNS=${BENCH_RUNS:-3}
NOW=${BENCH_NOW:-2026-11-25T06:00:00Z}
PY=/usr/bin/python3
TIME=/usr/bin/time
CACHE=$HERE/.cache
RESULTS=$HERE/results

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$KOPILOT" ] || die "kopilot binary not found at $KOPILOT (run \`make all\`, or set KOPILOT)"
[ -x "$PY" ] || die "$PY is missing (apt-get install python3)"
[ -x "$TIME" ] || die "$TIME is missing (apt-get install time)"
[[ "$PODS" =~ ^[0-9]+$ ]] || die "BENCH_PODS must be a number, got '$PODS'"
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 ]] || die "BENCH_RUNS must be >= 1, got '$RUNS'"
KOPILOT=$(cd "$(dirname "$KOPILOT")" && pwd)/$(basename "$KOPILOT")

mkdir -p "$CACHE" "$RESULTS"

# ---- 1. the snapshot, cached by pod count and generator content ----
GEN_HASH=$(sha256sum "$HERE/gen_cluster.py" | cut -c1-12)
SNAP=$CACHE/snap-$PODS-$GEN_HASH
if [ ! -f "$SNAP/.complete" ]; then
	# One snapshot at a time: a 150k-pod snapshot is ~0.9 GB.
	rm -rf "$CACHE"/snap-* "$CACHE"/run-*
	echo "bench: generating a $PODS-pod snapshot into ${SNAP#"$ROOT"/} ..."
	"$PY" "$HERE/gen_cluster.py" "$SNAP.tmp" "$PODS" > "$CACHE/gen-stats.tmp"
	mv "$CACHE/gen-stats.tmp" "$SNAP.tmp/.gen-stats.json"
	mv "$SNAP.tmp" "$SNAP"
	touch "$SNAP/.complete"
else
	echo "bench: reusing snapshot ${SNAP#"$ROOT"/}"
fi

WORK=$CACHE/work
rm -rf "$WORK"
mkdir -p "$WORK/raw" "$WORK/logs"
RUN=$CACHE/run-$PODS
FULL=$CACHE/full-$PODS

# time_once NAME ROUND OKCODES CMD... : one timed execution, /usr/bin/time -v
# report in raw/NAME.ROUND.time, output in logs/NAME.ROUND.log.
time_once() {
	local name=$1 round=$2 ok=$3
	shift 3
	local rc=0 out=$WORK/logs/$name.$round.log
	if [ "$name" = cat ]; then out=/dev/null; fi # the raw read's output is the data itself
	"$TIME" -v -o "$WORK/raw/$name.$round.time" "$@" > "$out" 2>&1 || rc=$?
	if [[ " $ok " != *" $rc "* ]]; then
		echo "bench: '$*' failed with exit code $rc; last lines of its output:" >&2
		[ "$out" = /dev/null ] || tail -n 20 "$out" >&2
		exit 1
	fi
	printf '  %-18s round %s: %s\n' "$name" "$round" \
		"$(awk -F': ' '/Elapsed \(wall clock\)/ {print $NF}' "$WORK/raw/$name.$round.time")"
}

# ---- 2. collect once ----
echo "bench: kopilot collect (once)"
rm -rf "$RUN"
time_once collect 1 "0 3" "$KOPILOT" collect --snapshot "$SNAP" --out "$RUN"

# The references read exactly the files analyze reads: the run's snapshot copy.
mapfile -t FILES < <(ls "$RUN"/snapshot/objects/*.json; echo "$RUN/snapshot/usage.json")
cat "${FILES[@]}" > /dev/null # warm the page cache: every measurement reads from memory

PARSE='import json, sys
for p in sys.argv[1:]:
    with open(p, encoding="utf-8") as f:
        json.load(f)'
PARSE_NOGC="import gc; gc.disable()
$PARSE"

# ---- 3. rounds ----
cp /proc/loadavg "$WORK/loadavg.start" 2>/dev/null || true # a shared host's noise, on the record
for ((i = 1; i <= RUNS; i++)); do
	echo "bench: round $i of $RUNS"
	time_once cat "$i" "0" cat "${FILES[@]}"
	time_once python-json "$i" "0" "$PY" -c "$PARSE" "${FILES[@]}"
	time_once python-json-nogc "$i" "0" "$PY" -c "$PARSE_NOGC" "${FILES[@]}"
	time_once analyze "$i" "0 3" "$KOPILOT" analyze "$RUN" --now "$NOW"
	time_once recommend "$i" "0 3" "$KOPILOT" recommend "$RUN"
	rm -rf "$FULL"
	time_once run "$i" "0 3" "$KOPILOT" run --snapshot "$SNAP" --out "$FULL" --now "$NOW"
	cp "$FULL/run.json" "$WORK/raw/run.$i.run.json"
	rm -rf "$FULL"
done
cp /proc/loadavg "$WORK/loadavg.end" 2>/dev/null || true

# ---- 4. results ----
"$PY" "$HERE/summarize.py" --work "$WORK" --snapshot "$SNAP" --files "${FILES[@]}" --kopilot "$KOPILOT" \
	--runs "$RUNS" --now "$NOW" --json "$RESULTS/latest.json" --md "$RESULTS/latest.md"
