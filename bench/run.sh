#!/usr/bin/env bash
# bench/run.sh - kopilot benchmarks (`make bench`). See bench/README.md.
#
# 1. generates one synthetic snapshot per waste point (bench/gen_cluster.py
#    --waste-scale W; default points 0.1, 1 and 10: ~10x fewer findings, the
#    headline, ~10x more) into bench/.cache/, each reused while gen_cluster.py,
#    the pod count and the point are unchanged;
# 2. `kopilot collect` once on the headline snapshot (timed once, for context,
#    and to prepare the run directory analyze and recommend read);
# 3. BENCH_RUNS rounds (default 3), round-robin so drift hits every command
#    alike, each command under /usr/bin/time -v:
#      headline point (waste 1):
#        cat                raw read of objects/*.json + usage.json
#        python-json        /usr/bin/python3 json.load of the same files
#        python-json-nogc   the same with the cyclic GC off (pure parse cost)
#        analyze            kopilot analyze RUN --now ... (after collect's model cache)
#        recommend          kopilot recommend RUN
#        run                kopilot run: raw snapshot to the last report, cold
#        chromium-report    headless Chromium loads the run's report.html (--dump-dom)
#        chromium-blank     the same on an empty page (the browser's own start)
#      every other point W (BENCH_SCALE_RUNS rounds, default 1: the x10 run
#      alone takes many minutes and ~10x the headline's memory):
#        python-json@xW     its own python reference, same files as its run
#        run@xW             kopilot run on that snapshot
#        recommend@xW       kopilot recommend on that run (memory that grows
#                           with the findings alone: it reads analysis.json)
#    the python references read exactly the files `kopilot run` reads (the
#    raw snapshot); after the first round of each point, the findings per
#    category are counted from its findings.json and plan.json;
# 4. bench/summarize.py takes medians and writes bench/results/latest.json and
#    latest.md, and prints the table.
#
# The script never fails because something is slow; it fails only when a
# command fails (kopilot exit codes 0 and 3 count as success: 3 = degraded,
# expected because the generator leaves a few workloads unmeasured).
#
# Environment: KOPILOT (binary, default build/kopilot), BENCH_PODS (150000),
# BENCH_RUNS (3), BENCH_SCALE_RUNS (1), BENCH_POINTS ("0.1 1 10",
# must include 1, the headline), BENCH_QUICK=1 (the headline point only,
# same as BENCH_POINTS=1), BENCH_NOW (2026-11-25T06:00:00Z, the generator's
# "now").
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
PODS=${BENCH_PODS:-150000}
RUNS=${BENCH_RUNS:-3}
SCALE_RUNS=${BENCH_SCALE_RUNS:-1}
POINTS=${BENCH_POINTS:-0.1 1 10}
if [ "${BENCH_QUICK:-0}" = 1 ]; then POINTS=1; fi
NOW=${BENCH_NOW:-2026-11-25T06:00:00Z}
PY=/usr/bin/python3
TIME=/usr/bin/time
CACHE=$HERE/.cache
RESULTS=$HERE/results

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$KOPILOT" ] || die "kopilot binary not found at $KOPILOT (run \`make all\`, or set KOPILOT)"
[ -x "$PY" ] || die "$PY is missing (apt-get install python3)"
[ -x "$TIME" ] || die "$TIME is missing (apt-get install time)"
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || die "chromium is missing (run 'make deps'): the report's load time is measured in it"
[[ "$PODS" =~ ^[0-9]+$ ]] || die "BENCH_PODS must be a number, got '$PODS'"
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 ]] || die "BENCH_RUNS must be >= 1, got '$RUNS'"
[[ "$SCALE_RUNS" =~ ^[0-9]+$ && "$SCALE_RUNS" -ge 1 ]] || die "BENCH_SCALE_RUNS must be >= 1, got '$SCALE_RUNS'"
read -r -a POINT_LIST <<< "$POINTS"
have_headline=0
for w in "${POINT_LIST[@]}"; do
	[[ "$w" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "BENCH_POINTS: '$w' is not a number"
	[ "$w" = 1 ] && have_headline=1
done
[ "$have_headline" = 1 ] || die "BENCH_POINTS must include 1 (the headline point), got '$POINTS'"
KOPILOT=$(cd "$(dirname "$KOPILOT")" && pwd)/$(basename "$KOPILOT")

mkdir -p "$CACHE" "$RESULTS"

# ---- 1. the snapshots, cached by pod count, waste point and generator content ----
GEN_HASH=$(sha256sum "$HERE/gen_cluster.py" | cut -c1-12)
declare -A SNAP
for w in "${POINT_LIST[@]}"; do SNAP[$w]=$CACHE/snap-$PODS-w$w-$GEN_HASH; done
# Keep only the snapshots of this configuration: a 150k-pod snapshot is 1-2.5 GB.
for d in "$CACHE"/snap-*; do
	[ -e "$d" ] || continue
	keep=0
	for w in "${POINT_LIST[@]}"; do [ "$d" = "${SNAP[$w]}" ] && keep=1; done
	if [ "$keep" = 0 ]; then rm -rf "$d"; fi
done
for w in "${POINT_LIST[@]}"; do
	s=${SNAP[$w]}
	if [ ! -f "$s/.complete" ]; then
		echo "bench: generating a $PODS-pod snapshot, waste x$w, into ${s#"$ROOT"/} ..."
		rm -rf "$s.tmp"
		"$PY" "$HERE/gen_cluster.py" "$s.tmp" "$PODS" --waste-scale "$w" > "$CACHE/gen-stats.tmp"
		mv "$CACHE/gen-stats.tmp" "$s.tmp/.gen-stats.json"
		mv "$s.tmp" "$s"
		touch "$s/.complete"
	else
		echo "bench: reusing snapshot ${s#"$ROOT"/}"
	fi
done
HEAD=${SNAP[1]}

WORK=$CACHE/work
rm -rf "$WORK" "$CACHE"/run-* "$CACHE"/full-*
mkdir -p "$WORK/raw" "$WORK/logs"
printf '<!doctype html><html><head><meta charset="utf-8"><title>blank</title></head><body></body></html>\n' > "$WORK/blank.html"
CHROME_FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --user-data-dir="$WORK/chromium")
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

# soft_once NAME ROUND OKCODES CMD...: time_once for a scale point: a failure
# is a result (recorded in raw/NAME.ROUND.failed with its last error line and
# reported), not the end of the benchmark. Returns 1 when it failed.
soft_once() {
	local name=$1 round=$2 ok=$3
	shift 3
	local rc=0 out=$WORK/logs/$name.$round.log
	"$TIME" -v -o "$WORK/raw/$name.$round.time" "$@" > "$out" 2>&1 || rc=$?
	printf '  %-18s round %s: %s\n' "$name" "$round" \
		"$(awk -F': ' '/Elapsed \(wall clock\)/ {print $NF}' "$WORK/raw/$name.$round.time")"
	if [[ " $ok " != *" $rc "* ]]; then
		{ echo "exit $rc"; grep -E 'error' "$out" | grep -v 'time -v' | tail -n 1; } > "$WORK/raw/$name.$round.failed"
		echo "bench: '$name' failed with exit code $rc (recorded, the benchmark goes on): $(tail -n 1 "$WORK/raw/$name.$round.failed")" >&2
		return 1
	fi
	return 0
}

# files_of SNAPDIR: what `kopilot run` reads, and the python references with it
files_of() { ls "$1"/objects/*.json; echo "$1/usage.json"; }

# count_findings NAME OUTDIR: findings per category and blocked steps of one run
count_findings() {
	"$PY" - "$2" > "$WORK/raw/$1.findings.json" <<'EOF'
import collections, json, re, sys
out = sys.argv[1]
cats = collections.Counter()
with open(out + "/findings.json", encoding="utf-8") as f:
    for m in re.finditer(r'"category": ?"([a-z-]+)"', f.read()):
        cats[m.group(1)] += 1
with open(out + "/plan.json", encoding="utf-8") as f:
    totals = json.load(f).get("totals", {})
with open(out + "/run.json", encoding="utf-8") as f:
    counts = json.load(f).get("counts", {})
print(json.dumps({"findings": counts.get("findings"), "by_category": dict(sorted(cats.items())),
                  "plan_steps": totals.get("steps"), "blocked": totals.get("blocked"),
                  "bytes": {n: __import__("os").path.getsize(out + "/" + n) for n in
                            ("findings.json", "plan.json", "report.md", "report.html", "report.xlsx")}}))
EOF
}

# ---- 2. collect once ----
echo "bench: kopilot collect (once, headline snapshot)"
rm -rf "$RUN"
time_once collect 1 "0 3" "$KOPILOT" collect --snapshot "$HEAD" --out "$RUN"

mapfile -t FILES < <(files_of "$HEAD")
for w in "${POINT_LIST[@]}"; do
	mapfile -t f < <(files_of "${SNAP[$w]}")
	cat "${f[@]}" > /dev/null # warm the page cache: every measurement reads from memory
done

PARSE='import json, sys
for p in sys.argv[1:]:
    with open(p, encoding="utf-8") as f:
        json.load(f)'
PARSE_NOGC="import gc; gc.disable()
$PARSE"

# ---- 3. rounds ----
cp /proc/loadavg "$WORK/loadavg.start" 2>/dev/null || true # a shared host's noise, on the record
MAXR=$RUNS
[ "$SCALE_RUNS" -gt "$MAXR" ] && MAXR=$SCALE_RUNS
for ((i = 1; i <= MAXR; i++)); do
	echo "bench: round $i of $MAXR"
	if [ "$i" -le "$RUNS" ]; then
		time_once cat "$i" "0" cat "${FILES[@]}"
		time_once python-json "$i" "0" "$PY" -c "$PARSE" "${FILES[@]}"
		time_once python-json-nogc "$i" "0" "$PY" -c "$PARSE_NOGC" "${FILES[@]}"
		time_once analyze "$i" "0 3" "$KOPILOT" analyze "$RUN" --now "$NOW"
		time_once recommend "$i" "0 3" "$KOPILOT" recommend "$RUN"
		rm -rf "$FULL"
		time_once run "$i" "0 3" "$KOPILOT" run --snapshot "$HEAD" --out "$FULL" --now "$NOW"
		cp "$FULL/run.json" "$WORK/raw/run.$i.run.json"
		[ "$i" = 1 ] && count_findings run "$FULL"
		[ "$i" = 1 ] && cp "$FULL/report.html" "$WORK/report.html"
		rm -rf "$FULL"
		# report.html as a reader opens it: headless Chromium loads it and
		# dumps its DOM; an empty page in the same round is the browser's
		# own start and stop, so the difference is the report's load time
		time_once chromium-report "$i" "0" "$CHROMIUM" "${CHROME_FLAGS[@]}" --dump-dom "file://$WORK/report.html"
		time_once chromium-blank "$i" "0" "$CHROMIUM" "${CHROME_FLAGS[@]}" --dump-dom "file://$WORK/blank.html"
	fi
	if [ "$i" -le "$SCALE_RUNS" ]; then
		for w in "${POINT_LIST[@]}"; do
			[ "$w" = 1 ] && continue
			mapfile -t f < <(files_of "${SNAP[$w]}")
			time_once "python-json@x$w" "$i" "0" "$PY" -c "$PARSE" "${f[@]}"
			rm -rf "$FULL"
			if soft_once "run@x$w" "$i" "0 3" "$KOPILOT" run --snapshot "${SNAP[$w]}" --out "$FULL" --now "$NOW"; then
				cp "$FULL/run.json" "$WORK/raw/run@x$w.$i.run.json"
				[ "$i" = 1 ] && count_findings "run@x$w" "$FULL"
				# the recommend stage alone on that run: it reads only
				# analysis.json, so its memory is the findings' alone (in
				# the whole run the model's share hides it at small points)
				soft_once "recommend@x$w" "$i" "0 3" "$KOPILOT" recommend "$FULL" || true
			fi
			rm -rf "$FULL"
		done
	fi
done
cp /proc/loadavg "$WORK/loadavg.end" 2>/dev/null || true

# ---- 4. results ----
PT_ARGS=()
for w in "${POINT_LIST[@]}"; do PT_ARGS+=("$w=${SNAP[$w]}"); done
"$PY" "$HERE/summarize.py" --work "$WORK" --snapshot "$HEAD" --files "${FILES[@]}" --kopilot "$KOPILOT" \
	--runs "$RUNS" --scale-runs "$SCALE_RUNS" --points "${PT_ARGS[@]}" --now "$NOW" \
	--json "$RESULTS/latest.json" --md "$RESULTS/latest.md"
