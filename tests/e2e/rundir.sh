#!/usr/bin/env bash
# A run directory is all or nothing (pipeline/rundir.h), tried the way it
# goes wrong in production:
#   - SIGKILL at many points of a run that takes seconds (a ~15,000-pod
#     snapshot): every file belongs to one run, the killed run's start is in
#     audit.jsonl, and the next command cleans up what it left;
#   - a full disk (a small tmpfs) at every stage: exit 4 with the reason,
#     the previous run intact, the failed run on record in audit.jsonl;
#   - two runs into one --out, and ten `kopilot render` at once: one writer,
#     the others refused naming the holder; audit.jsonl loses no line;
#   - re-running with a smaller snapshot leaves none of the old one;
#   - permissions, symlinks, mount points, directories that are not runs.
# Needs root for the tmpfs mounts (as CI and `make test` run). Ends with
# "rundir: N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
KOPILOT=${KOPILOT:-$ROOT/build/kopilot}
DEMO=$ROOT/examples/demo-cluster
PY=/usr/bin/python3
STATE="$PY $ROOT/tests/e2e/rundir_state.py"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/#   /' | head -20; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "rundir: $1 is missing: install the Debian package $2 (or run 'make deps')" >&2; exit 1; }; }
need python3 python3
need mount mount
need timeout coreutils
[ -x "$KOPILOT" ] || { echo "rundir: $KOPILOT not found: run 'make'" >&2; exit 1; }

T=$(mktemp -d /tmp/kopilot-rundir.XXXXXX)
MOUNTS=()
cleanup() {
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
mount_tmpfs() { # mount_tmpfs DIR SIZE
	mkdir -p "$1"
	if ! mount -t tmpfs -o "size=$2" tmpfs "$1" 2>"$T/mount.err"; then
		echo "rundir: cannot mount a tmpfs on $1 ($(cat "$T/mount.err")): the disk-full and mount-point tests need root" >&2
		exit 1
	fi
	MOUNTS+=("$1")
}
run_ok() { "$@"; local rc=$?; [ $rc -eq 0 ] || [ $rc -eq 3 ]; }
T1=2026-11-24T06:00:00Z
T2=2026-11-25T06:00:00Z

# ---------------------------------------------------------------- killed
# Reference runs of the two versions: OLD (day 1) and NEW (day 2) of one
# ~15,000-pod cluster.
$PY tests/gen/gencluster.py --seed 11 --out "$T/big" --scale 100 >/dev/null || { echo "rundir: generator failed" >&2; exit 1; }
run_ok "$KOPILOT" run --snapshot "$T/big" --out "$T/big-old" --now $T1 --quiet 2>/dev/null || not_ok "reference run (old)"
t0=$(date +%s%N)
run_ok "$KOPILOT" run --snapshot "$T/big" --out "$T/big-new" --now $T2 --quiet 2>/dev/null || not_ok "reference run (new)"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# a whole run takes ${ms} ms here"
bad=""
seen_old=0 seen_new=0 kills=0 in_stages=0 in_render=0
# Kill points: every 50 ms to 400 ms; the middle of each stage as the
# reference run's run.json times them (and 25 % later, for a slower run);
# then 30 % longer each time until two kills came too late (the new run was
# complete): points in every stage, whatever the speed of the machine.
mids=$($PY -c '
import json, sys
t = json.load(open(sys.argv[1]))["stage_seconds"]
at = 0.0
for st in ("collect", "analyze", "recommend", "render"):
    for f in (1.0, 1.25):
        print(int((at + t[st] / 2) * 1000 * f))
    at += t[st]
' "$T/big-new/run.json")
points=$(echo 50 100 150 200 250 300 350 400 $mids | tr ' ' '\n' | sort -n -u | tr '\n' ' ')
delay=0
next_delay() { # the next point: the list, then 30 % steps
	local p
	for p in $points; do [ "$p" -gt "$delay" ] && { delay=$p; return; }; done
	delay=$((delay * 13 / 10))
}
next_delay
while [ $delay -le $((4 * ms + 1000)) ] && [ $seen_new -lt 2 ]; do
	rm -rf "$T/k" "$T"/.k.*
	cp -a "$T/big-old" "$T/k"
	sync
	"$KOPILOT" run --snapshot "$T/big" --out "$T/k" --now $T2 --quiet 2>/dev/null &
	pid=$!
	sleep "$(awk -v ms=$delay 'BEGIN { printf "%.3f", ms / 1000 }')"
	kill -9 $pid 2>/dev/null && kills=$((kills + 1))
	wait $pid 2>/dev/null
	st=$($STATE "$T/big-old" "$T/big-new" "$T/k")
	case "$st" in
	old) seen_old=$((seen_old + 1)) ;;
	new) seen_new=$((seen_new + 1)) ;;
	*) bad="$bad\nkilled after ${delay} ms: $st" ;;
	esac
	# how far the killed run had come: what it had staged
	staged=$(ls -d "$T"/.k.new.* 2>/dev/null | head -1)
	[ -n "$staged" ] && in_stages=$((in_stages + 1))
	[ -n "$staged" ] && [ -e "$staged/findings.json" ] && in_render=$((in_render + 1))
	# the killed run's start is on record before any work
	starts=$(grep -c '"event":"command.start","command":"run"' "$T/k/audit.jsonl")
	[ "$starts" -ge 2 ] || bad="$bad\nkilled after ${delay} ms: its command.start is not in audit.jsonl"
	# the next command cleans what the killed one left beside the directory
	if [ -n "$staged" ]; then
		out=$("$KOPILOT" render "$T/k" 2>&1)
		rc=$?
		{ [ $rc -eq 0 ] || [ $rc -eq 3 ]; } || bad="$bad\nrender after the kill at ${delay} ms: exit $rc: $out"
		ls -A "$T" | grep -q '^\.k\.' && bad="$bad\nafter the kill at ${delay} ms, render left: $(ls -A "$T" | grep '^\.k\.' | tr '\n' ' ')"
		grep -q '"event":"rundir.cleanup"' "$T/k/audit.jsonl" || bad="$bad\nrender after the kill at ${delay} ms: no rundir.cleanup event"
	fi
	next_delay
done
if [ -z "$bad" ] && [ $seen_old -gt 0 ] && [ $seen_new -gt 0 ] && [ $in_stages -gt 0 ] && [ $in_render -gt 0 ]; then
	ok "killed at $((seen_old + seen_new)) points (SIGKILL 50 ms .. ${delay} ms): $seen_old left the previous run ($in_stages of them mid-stages, $in_render while rendering), $seen_new the new one; none mixed"
else
	not_ok "killed runs: every file belongs to one run ($seen_old old: $in_stages mid-stages, $in_render rendering; $seen_new new)" "$(echo -e "$bad")"
fi

# ---------------------------------------------------------------- disk full
# The demo's two versions; then the new run on a tmpfs that holds the old
# run and F more bytes, for F from nothing to enough: it fails in every
# stage in turn, and never leaves anything but the old run.
run_ok "$KOPILOT" run --snapshot "$DEMO" --out "$T/demo-old" --now $T1 --quiet 2>/dev/null || not_ok "demo reference (old)"
run_ok "$KOPILOT" run --snapshot "$DEMO" --out "$T/demo-new" --now $T2 --quiet 2>/dev/null || not_ok "demo reference (new)"
old_kb=$(du -sk "$T/demo-old" | cut -f1)
new_kb=$(du -sk "$T/demo-new" | cut -f1)
snap_kb=$(du -sk "$T/demo-new/snapshot" | cut -f1)
# free space: a few points inside the snapshot's copy, then every 16 KiB
# from there to the whole run, so each later stage's files meet the end
steps="0 $((snap_kb / 3)) $((snap_kb * 2 / 3))"
for ((f = snap_kb - 32; f <= new_kb + 64; f += 16)); do steps="$steps $f"; done
bad="" stages_failed="" full_ok=0 full_fail=0
for free_kb in $steps $((new_kb + 512)); do
	M=$T/full-$free_kb
	mount_tmpfs "$M" "$((old_kb + free_kb + 64))k"
	cp -a "$T/demo-old" "$M/run"
	used=$(df -k --output=avail "$M" | tail -1)
	fill=$((used - free_kb))
	[ $fill -gt 0 ] && head -c "$((fill * 1024))" /dev/zero >"$M/filler" 2>/dev/null
	"$KOPILOT" run --snapshot "$DEMO" --out "$M/run" --now $T2 --quiet 2>"$T/full.err" >/dev/null
	rc=$?
	st=$($STATE "$T/demo-old" "$T/demo-new" "$M/run")
	err=$(cat "$T/full.err")
	case "$rc:$st" in
	4:old)
		full_fail=$((full_fail + 1))
		echo "$err" | grep -q "No space left on device" || bad="$bad\n$free_kb KiB free: exit 4 without saying the disk is full: $err"
		stages_failed="$stages_failed $(echo "$err" | sed -n 's/^kopilot: error: \([a-z]*\): .*/\1/p' | head -1)"
		# its end is on record, unless not even that line fits (then it says so)
		tail -1 "$M/run/audit.jsonl" | grep -q '"event":"command.end","command":"run","exit_code":4,"replaced":false,"error":' ||
			echo "$err" | grep -q "cannot append to the audit log" ||
			bad="$bad\n$free_kb KiB free: the failed run's end (exit 4, error) is neither the last line of audit.jsonl nor reported missing"
		;;
	0:new | 3:new) full_ok=$((full_ok + 1)) ;;
	*) bad="$bad\n$free_kb KiB free: exit $rc, directory: $st: $err" ;;
	esac
	ls -A "$M" | grep -q '^\.run\.' && bad="$bad\n$free_kb KiB free: left beside the run: $(ls -A "$M" | grep '^\.run\.' | tr '\n' ' ')"
	umount "$M"
done
distinct=$(echo "$stages_failed" | tr ' ' '\n' | grep -v '^$' | sort -u | tr '\n' ' ')
if [ -z "$bad" ] && [ $full_ok -gt 0 ]; then
	ok "disk full: $full_fail runs failed (in: $distinct) and left the previous run whole; $full_ok had room and completed"
else
	not_ok "disk full at every stage" "$(echo -e "$bad")"
fi
# The new run's files are written before it switches in: the stages that
# write them must each have been hit by a full disk.
missing=""
for s in collect analyze recommend render; do
	case " $distinct " in *" $s "*) ;; *) missing="$missing $s" ;; esac
done
if [ -z "$missing" ]; then ok "a full disk was met in every stage (collect, analyze, recommend, render)"; else not_ok "a full disk was met in every stage" "never in:$missing (failed in: $distinct)"; fi

# ---------------------------------------------------------------- one writer
R=$T/two
cp -a "$T/big-old" "$R"
"$KOPILOT" run --snapshot "$T/big" --out "$R" --now $T2 --quiet 2>"$T/a.err" >/dev/null &
pa=$!
sleep 0.3
"$KOPILOT" run --snapshot "$T/big" --out "$R" --now $T2 --quiet 2>"$T/b.err" >/dev/null
rb=$?
wait $pa
ra=$?
st=$($STATE "$T/big-old" "$T/big-new" "$R")
if [ $rb -eq 4 ] && grep -q "is in use by another kopilot (pid $pa, \`kopilot run\` started" "$T/b.err" &&
	{ [ $ra -eq 0 ] || [ $ra -eq 3 ]; } && [ "$st" = new ] &&
	grep -q "\"event\":\"command.refused\",\"command\":\"run\"" "$R/audit.jsonl"; then
	ok "a second run into the same --out is refused at once, naming the holder; the first completes"
else
	not_ok "second writer refused" "first exit $ra, second exit $rb: $(cat "$T/b.err"); directory: $st"
fi

R=$T/ten
cp -a "$T/demo-new" "$R"
before=$(wc -l <"$R/audit.jsonl")
pids=()
for i in 1 2 3 4 5 6 7 8 9 10; do
	"$KOPILOT" render "$R" --quiet 2>"$T/r$i.err" >/dev/null &
	pids+=($!)
done
succ=0 refused=0 other=""
for i in 1 2 3 4 5 6 7 8 9 10; do
	wait "${pids[$((i - 1))]}"
	rc=$?
	if [ $rc -eq 0 ] || [ $rc -eq 3 ]; then
		succ=$((succ + 1))
	elif [ $rc -eq 4 ] && grep -q "is in use by another kopilot" "$T/r$i.err"; then
		refused=$((refused + 1))
	else
		other="$other\nrender $i: exit $rc: $(cat "$T/r$i.err")"
	fi
done
new_lines=$(tail -n +$((before + 1)) "$R/audit.jsonl")
starts=$(echo "$new_lines" | grep -c '"event":"command.start","command":"render"')
ends=$(echo "$new_lines" | grep -c '"event":"command.end","command":"render"')
refs=$(echo "$new_lines" | grep -c '"event":"command.refused","command":"render"')
st=$($STATE "$T/demo-new" "$T/demo-new" "$R") # render rewrites the same reports: "old" is the same run
if [ -z "$other" ] && [ $succ -ge 1 ] && [ $starts -eq $succ ] && [ $ends -eq $succ ] && [ $refs -eq $refused ] &&
	[ "$st" = old ]; then
	ok "ten concurrent renders: $succ ran, $refused refused; audit.jsonl has every one ($starts starts, $ends ends, $refs refusals)"
else
	not_ok "ten concurrent renders" "ran $succ (starts $starts, ends $ends), refused $refused (records $refs); directory: $st$(echo -e "$other")"
fi

S=$T/state
mkdir -p "$S"
"$KOPILOT" run --snapshot "$T/big" --state-dir "$S" --now $T2 --quiet 2>/dev/null >/dev/null &
pa=$!
sleep 0.3
"$KOPILOT" run --snapshot "$DEMO" --state-dir "$S" --now $T2 --quiet 2>"$T/s.err" >/dev/null
rb=$?
wait $pa
if [ $rb -eq 4 ] && grep -q "state directory $S is in use by another kopilot (pid $pa" "$T/s.err" && [ "$(ls "$S" | wc -l)" -eq 1 ]; then
	ok "a second run into the same --state-dir is refused, naming the holder"
else
	not_ok "second --state-dir writer refused" "exit $rb: $(cat "$T/s.err"); runs: $(ls "$S")"
fi

# A lock left by a killed run is taken over (the kernel released it).
R=$T/stale
cp -a "$T/demo-old" "$R"
"$KOPILOT" run --snapshot "$T/big" --out "$R" --now $T2 --quiet 2>/dev/null &
pa=$!
for ((i = 0; i < 200; i++)); do [ -d "$T/.stale.new.$pa" ] && break; sleep 0.05; done
sleep 0.2 # into the stages
kill -9 $pa
wait $pa 2>/dev/null
left=$(ls -A "$T" | grep '^\.stale\.' | tr '\n' ' ')
out=$("$KOPILOT" run --snapshot "$DEMO" --out "$R" --now $T2 2>&1 >/dev/null)
rc=$?
if { [ $rc -eq 0 ] || [ $rc -eq 3 ]; } && echo "$left" | grep -q '\.stale\.lock' &&
	echo "$out" | grep -q "took over the lock of $R, left by a kopilot that is no longer running (pid $pa" &&
	echo "$out" | grep -q "removed $T/.stale.new.$pa" && [ -z "$(ls -A "$T" | grep '^\.stale\.')" ] &&
	[ "$($STATE "$T/demo-old" "$T/demo-new" "$R")" = new ]; then
	ok "the lock and staging directory of a killed run are taken over and removed by the next run"
else
	not_ok "stale lock" "left after the kill: $left; exit $rc: $out; now beside: $(ls -A "$T" | grep '^\.stale\.')"
fi

# ---------------------------------------------------------------- content
# A re-run with a smaller snapshot keeps nothing of the old one; analyze
# without the model cache then sees only the new snapshot.
R=$T/smaller
cp -a "$DEMO" "$T/demo-small"
rm "$T/demo-small/objects/persistentvolumeclaims.json" "$T/demo-small/usage.json"
run_ok "$KOPILOT" run --snapshot "$DEMO" --out "$R" --now $T2 --quiet 2>/dev/null
"$KOPILOT" run --snapshot "$T/demo-small" --out "$R" --now $T2 --quiet 2>/dev/null
rm -f "$R/snapshot/model.bin"
"$KOPILOT" analyze "$R" --now $T2 --quiet 2>/dev/null
if [ ! -e "$R/snapshot/objects/persistentvolumeclaims.json" ] && [ ! -e "$R/snapshot/usage.json" ] &&
	! grep -q '"category": *"orphaned-pvc"' "$R/analysis.json" && [ -e "$R/analysis.json" ]; then
	ok "a re-run with a smaller snapshot keeps none of the old snapshot's files; analyze then proposes nothing from them"
else
	not_ok "smaller re-run" "$(ls "$R/snapshot" "$R/snapshot/objects"; grep -c orphaned-pvc "$R/analysis.json")"
fi
# analyze replaces analysis.json and drops what was built from the old one
if [ ! -e "$R/findings.json" ] && [ ! -e "$R/report.md" ] && [ ! -e "$R/run.json" ] && [ -e "$R/audit.jsonl" ]; then
	ok "kopilot analyze RUN removes the findings, plan and reports built from the previous analysis"
else
	not_ok "analyze drops later stages' outputs" "$(ls "$R")"
fi

# Files someone else put in the run directory stay; a directory that is not
# a run is refused and left alone.
R=$T/notes
cp -a "$T/demo-old" "$R"
echo "reviewed by ops" >"$R/NOTES.md"
run_ok "$KOPILOT" run --snapshot "$DEMO" --out "$R" --now $T2 --quiet 2>/dev/null
if [ "$(cat "$R/NOTES.md" 2>/dev/null)" = "reviewed by ops" ]; then ok "a file that is not kopilot's survives a re-run"; else not_ok "NOTES.md kept"; fi
mkdir -p "$T/home"
echo precious >"$T/home/thesis.txt"
out=$("$KOPILOT" run --snapshot "$DEMO" --out "$T/home" --now $T2 --quiet 2>&1)
rc=$?
if [ $rc -eq 2 ] && echo "$out" | grep -q "exists and is not a kopilot run directory" && [ "$(ls -A "$T/home")" = thesis.txt ]; then
	ok "an --out that is not a run directory is refused and left as it was"
else
	not_ok "not a run directory" "exit $rc: $out; now: $(ls -A "$T/home")"
fi
# Bad input on a first run leaves nothing; on an existing run, a record.
out=$("$KOPILOT" run --snapshot "$T/nope" --out "$T/first" --now $T2 --quiet 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ ! -e "$T/first" ] && [ -z "$(ls -A "$T" | grep '^\.first\.')" ]; then ok "a first run with bad input creates nothing"; else not_ok "bad first run" "exit $rc: $out; $(ls -A "$T")"; fi
R=$T/badinput
cp -a "$T/demo-old" "$R"
"$KOPILOT" run --snapshot "$T/nope" --out "$R" --now $T2 --quiet 2>/dev/null
rc=$?
if [ $rc -ne 0 ] && [ "$($STATE "$T/demo-old" "$T/demo-new" "$R")" = old ] &&
	tail -2 "$R/audit.jsonl" | head -1 | grep -q '"event":"command.start","command":"run"' &&
	tail -1 "$R/audit.jsonl" | grep -q '"event":"command.end","command":"run","exit_code":'"$rc"',"replaced":false,"error":"'; then
	ok "bad input into an existing run: the run is untouched, the attempt and its error are in audit.jsonl"
else
	not_ok "bad input into an existing run" "exit $rc; $(tail -2 "$R/audit.jsonl")"
fi

# ---------------------------------------------------------------- modes, links, mounts
R=$T/modes
run_ok "$KOPILOT" run --snapshot "$DEMO" --out "$R" --now $T2 --quiet 2>/dev/null
modes=$(find "$R" -printf '%y %m\n' | sort -u | tr '\n' ' ')
if [ "$modes" = "d 700 f 600 " ]; then ok "run files are 0600 and directories 0700 by default"; else not_ok "default modes" "$modes"; fi
R=$T/modes2
run_ok "$KOPILOT" run --snapshot "$DEMO" --out "$R" --now $T2 --quiet --set output.file_mode=0640 2>/dev/null
modes=$(find "$R" -printf '%y %m\n' | sort -u | tr '\n' ' ')
if [ "$modes" = "d 750 f 640 " ]; then ok "output.file_mode=0640 gives 0640 files and 0750 directories"; else not_ok "output.file_mode" "$modes"; fi

cp -a "$T/demo-old" "$T/target"
ln -s "$T/target" "$T/link"
run_ok "$KOPILOT" run --snapshot "$DEMO" --out "$T/link" --now $T2 --quiet 2>/dev/null
if [ -L "$T/link" ] && [ "$($STATE "$T/demo-old" "$T/demo-new" "$T/target")" = new ]; then
	ok "an --out that is a symbolic link stays one; the run is switched in where it points"
else
	not_ok "symlink --out" "$(ls -la "$T/link")"
fi

mount_tmpfs "$T/mnt" 8m
out=$("$KOPILOT" run --snapshot "$DEMO" --out "$T/mnt" --now $T2 --quiet 2>&1)
rc=$?
run_ok "$KOPILOT" run --snapshot "$DEMO" --out "$T/mnt/run" --now $T2 --quiet 2>/dev/null
rc2=$?
if [ $rc -eq 2 ] && echo "$out" | grep -q "is a mount point" && [ $rc2 -eq 0 ] && [ -e "$T/mnt/run/findings.json" ]; then
	ok "a mount point as --out is refused with the way out (a directory inside it), which works"
else
	not_ok "mount point" "exit $rc: $out; inside: exit $rc2"
fi

echo "rundir: $pass passed, $fail failed"
[ $fail -eq 0 ]
