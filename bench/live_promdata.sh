#!/usr/bin/env bash
# bench/live_promdata.sh - the Prometheus data of bench/live.sh: N containers
# x DAYS days at 60 s (tests/e2e/promgen.py --synthetic), backfilled into a
# Prometheus TSDB (tests/e2e/promlib.sh) and cached in
# bench/.cache/prom-N-dDAYS-<hash>/ (hash of promgen.py, promlib.sh, the
# arguments and FORMAT below), reused while they are unchanged.
#
#   bash bench/live_promdata.sh N DAYS SEED END     -> prints the cache directory
#
# The directory holds tsdb/ (blocks only: no WAL; serve a hard-linked copy,
# `cp -al`, since Prometheus compacts and deletes blocks in place),
# usage.json (promgen's expected usage, kopilot.usage/v1), stats.json and
# .complete.
#
# promgen writes ~35 MB of OpenMetrics a container for 14 days (2,000
# containers: ~70 GB), so the data is made in shards of
# BENCH_PROM_SHARD (100) containers' pods, each generated (the next one
# while the previous is backfilled), backfilled and deleted in turn. The
# shards' blocks overlap in time: Prometheus is then started once on the
# TSDB and left to compact them (vertically) until the blocks stop changing
# (three minutes without a change; one shard's blocks do not overlap: no wait),
# so the benchmark queries compacted blocks, as a long-running Prometheus
# holds them, and no compaction runs during the measurements.
# 2,000 containers: ~30-35 minutes once (2 busy cores), ~0.35 GB.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
GEN=$ROOT/tests/e2e/promgen.py
LIB=$ROOT/tests/e2e/promlib.sh
N=${1:?usage: live_promdata.sh N DAYS SEED END}
DAYS=${2:?}
SEED=${3:?}
END=${4:?}
SHARD=${BENCH_PROM_SHARD:-100}
CACHE=$HERE/.cache

die() { echo "live_promdata: $*" >&2; exit 1; }
[ -f "$GEN" ] || die "$GEN is missing"
[ -f "$LIB" ] || die "$LIB is missing"
[[ "$N" =~ ^[0-9]+$ && "$N" -ge 1 ]] || die "N must be a positive number, got '$N'"
[[ "$SHARD" =~ ^[0-9]+$ && "$SHARD" -ge 1 ]] || die "BENCH_PROM_SHARD must be a positive number"
# a copy of the generator and the library, used for every shard and kept
# with the data: a promgen.py edited while the shards are made cannot mix
# two versions in one TSDB
SRC=$(mktemp -d /tmp/kopilot-promdata.XXXXXX)
trap 'rm -rf "$SRC"' EXIT
cp "$GEN" "$SRC/promgen.py"
cp "$LIB" "$SRC/promlib.sh"
GEN=$SRC/promgen.py
# shellcheck source=../tests/e2e/promlib.sh
. "$SRC/promlib.sh"
prom_need || exit 1

# FORMAT: bump it when this script changes what it makes
FORMAT=1
HASH=$( { cat "$GEN" "$SRC/promlib.sh"; echo "format $FORMAT: $N $DAYS $SEED $END"; } | sha256sum | cut -c1-12)
DIR=$CACHE/prom-$N-d$DAYS-$HASH
if [ -f "$DIR/.complete" ]; then
	echo "live_promdata: reusing ${DIR#"$ROOT"/}" >&2
	echo "$DIR"
	exit 0
fi
mkdir -p "$CACHE"
# stale data of the same size (another promgen, promlib or seed): ~0.6 GB each
for d in "$CACHE"/prom-"$N"-d"$DAYS"-*; do
	[ -e "$d" ] && [ "$d" != "$DIR" ] && rm -rf "$d"
done
TMP=$DIR.tmp
rm -rf "$TMP"
mkdir -p "$TMP/om"
K=$(((N + SHARD - 1) / SHARD))
echo "live_promdata: $N containers x $DAYS days in $K shard(s) into ${DIR#"$ROOT"/} (~$((K * 80 / 60 + 2)) minutes) ..." >&2
t0=$(date +%s)

gen() { # gen I: shard I's OpenMetrics (shard 0 also writes the expected usage)
	local extra=()
	[ "$1" = 0 ] && extra=(--usage-out "$TMP/usage.json")
	"$PY" "$GEN" --synthetic "$N" --seed "$SEED" --end "$END" --days "$DAYS" --quiet \
		--shard "$1/$K" --out "$TMP/om/s$1.om" "${extra[@]}" >"$TMP/om/s$1.log" 2>&1
}
GPID=
cleanup() {
	set +e
	if [ -n "$GPID" ]; then kill "$GPID" 2>/dev/null; wait "$GPID" 2>/dev/null; fi
	prom_stop
	rm -rf "$SRC"
}
trap cleanup EXIT

gen 0 || die "promgen shard 0 failed: $(tail -3 "$TMP/om/s0.log")"
# two containers with one name would be one series written twice: promtool
# stops on it ("out of order sample") after minutes of work; say it now
dups=$("$PY" - "$TMP/usage.json" <<'EOF'
import collections, json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    cs = json.load(f)["containers"]
n = collections.Counter((c["namespace"], c["pod"], c["container"]) for c in cs)
print(" ".join("%s/%s/%s" % k for k, v in sorted(n.items()) if v > 1))
EOF
)
[ -z "$dups" ] || die "promgen --synthetic $N --seed $SEED names several containers alike ($dups): promtool cannot backfill that; try another seed (BENCH_PROM_SEED)"
for ((i = 0; i < K; i++)); do
	GPID=
	if [ $((i + 1)) -lt "$K" ]; then
		gen $((i + 1)) &
		GPID=$!
	fi
	prom_backfill "$TMP/om/s$i.om" "$TMP/tsdb" || die "backfill of shard $i failed"
	rm -f "$TMP/om/s$i.om"
	if [ -n "$GPID" ]; then
		wait "$GPID" || die "promgen shard $((i + 1)) failed: $(tail -3 "$TMP/om/s$((i + 1)).log")"
	fi
	echo "live_promdata: shard $((i + 1))/$K backfilled ($(($(date +%s) - t0)) s)" >&2
done
GPID=
t_backfill=$(($(date +%s) - t0))

# let Prometheus compact the overlapping blocks, until they stop changing
blocks() { # the blocks' ULIDs and time ranges, and whether any overlap
	"$PY" - "$TMP/tsdb" <<'EOF'
import json, os, sys
db = sys.argv[1]
bs = []
for d in sorted(os.listdir(db)):
    m = os.path.join(db, d, "meta.json")
    if os.path.isfile(m):
        with open(m, encoding="utf-8") as f:
            j = json.load(f)
        bs.append((j["minTime"], j["maxTime"], d))
bs.sort()
overlap = any(bs[i + 1][0] < bs[i][1] for i in range(len(bs) - 1))
print("%s %d %s" % ("overlap" if overlap else "disjoint", len(bs), ",".join(b[2] for b in bs)))
EOF
}
if [ "$(blocks | cut -d' ' -f1)" = overlap ]; then
	prom_serve "$TMP/tsdb" "$TMP/serve" || die "Prometheus did not start on the backfilled TSDB"
	echo "live_promdata: compacting: $(blocks | cut -d' ' -f1,2) blocks ..." >&2
	last= since=$(date +%s) deadline=$(($(date +%s) + 3600))
	while :; do
		sleep 10
		cur=$(blocks)
		if [ "$cur" != "$last" ]; then
			last=$cur since=$(date +%s)
			echo "live_promdata:   $(echo "$cur" | cut -d' ' -f1,2) blocks" >&2
		fi
		# stable for three of Prometheus' one-minute compaction cycles, none overlapping
		if [ "${cur%% *}" = disjoint ] && [ $(($(date +%s) - since)) -ge 180 ]; then break; fi
		[ "$(date +%s)" -lt "$deadline" ] || die "the blocks did not settle in an hour: $cur"
	done
	prom_stop
fi
rm -rf "$TMP/tsdb/wal" "$TMP/tsdb/chunks_head" "$TMP/tsdb/lock" "$TMP/tsdb/queries.active" "$TMP/om"
cp "$GEN" "$TMP/promgen.py" # what made it
printf '{"containers": %s, "days": %s, "seed": %s, "end": "%s", "shards": %s, "backfill_seconds": %s, "total_seconds": %s, "tsdb_bytes": %s, "blocks": %s}\n' \
	"$N" "$DAYS" "$SEED" "$END" "$K" "$t_backfill" "$(($(date +%s) - t0))" \
	"$(du -sb "$TMP/tsdb" | cut -f1)" "$(blocks | cut -d' ' -f2)" >"$TMP/stats.json"
mv "$TMP" "$DIR"
touch "$DIR/.complete"
echo "live_promdata: done in $(($(date +%s) - t0)) s" >&2
echo "$DIR"
