#!/bin/sh
# kopilot-shard.sh N: what one pod of the sharded Indexed Job runs.
#
# Every pod runs its shard, `kopilot run --shard $JOB_COMPLETION_INDEX/N`,
# into SHARED/shards/<Job name>/shard-<index> on the shared volume. The pod
# with index 0 then waits until every shard's run directory is complete
# (run.json is written last, and a run directory only appears whole) and
# merges them into REPORTS/<UTC timestamp>/ with `kopilot merge
# --state-dir`, so history compares merged run with merged run.
#
# Why index 0 merges rather than a second Job: one Job is one thing to
# schedule, watch and alert on; no second schedule has to guess how long
# the shards take. The cost is one pod that waits (it sleeps; its own shard
# is done), up to MERGE_WAIT_SECONDS.
#
# Every pod must analyse at the same "now" (kopilot merge refuses shards of
# different times): the time the CronJob scheduled the Job, which the
# Job's name ends with (a CronJob names its Jobs NAME-<minutes since the
# epoch>). A Job made by hand (kubectl create job --from=cronjob/...) has
# no such suffix and uses the current hour: its pods must start within the
# same hour.
#
# Environment: JOB_COMPLETION_INDEX (set by Kubernetes), JOB_NAME (the
# downward API), SHARED_DIR (/shared), REPORTS_DIR (/shared/reports),
# KOPILOT_CONFIG (/etc/kopilot/kopilot.yaml), MERGE_WAIT_SECONDS (7200),
# KOPILOT_SNAPSHOT (unset: the live cluster; a snapshot directory, for tests).
set -u
N=${1:?usage: kopilot-shard.sh N}
I=${JOB_COMPLETION_INDEX:?JOB_COMPLETION_INDEX is not set: run this in a pod of an Indexed Job}
JOB=${JOB_NAME:?JOB_NAME is not set (the pod spec passes the Job name label)}
SHARED=${SHARED_DIR:-/shared}
REPORTS=${REPORTS_DIR:-$SHARED/reports}
CONFIG=${KOPILOT_CONFIG:-/etc/kopilot/kopilot.yaml}
WAIT=${MERGE_WAIT_SECONDS:-7200}

minutes=${JOB##*-}
case $minutes in
'' | *[!0-9]*) NOW=$(date -u +%Y-%m-%dT%H:00:00Z) ;;
*) NOW=$(date -u -d "@$((minutes * 60))" +%Y-%m-%dT%H:%M:%SZ) ;;
esac
DIR=$SHARED/shards/$JOB # one Job's shards never mix with another's
mkdir -p "$DIR" "$REPORTS" || exit 4

set -- --config "$CONFIG"
[ -n "${KOPILOT_SNAPSHOT:-}" ] && set -- "$@" --snapshot "$KOPILOT_SNAPSHOT"
kopilot run "$@" --shard "$I/$N" --now "$NOW" --out "$DIR/shard-$I" --quiet
rc=$?
# 3 is degraded (something not collected): the shard's run is complete
[ $rc -eq 0 ] || [ $rc -eq 3 ] || exit $rc
[ "$I" -eq 0 ] || exit 0

deadline=$(($(date +%s) + WAIT))
i=0
while [ $i -lt "$N" ]; do
	if [ -f "$DIR/shard-$i/run.json" ]; then
		i=$((i + 1))
		continue
	fi
	if [ "$(date +%s)" -ge $deadline ]; then
		echo "kopilot-shard: shard $i of $N has not finished after ${WAIT}s: not merging (see its pod's log)" >&2
		exit 4
	fi
	sleep 5
done
set -- --config "$CONFIG" --state-dir "$REPORTS"
i=0
while [ $i -lt "$N" ]; do
	set -- "$@" "$DIR/shard-$i"
	i=$((i + 1))
done
kopilot merge "$@"
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || exit $rc
# the shards live on in the merged run; older Jobs' leftovers (a failed night) go after a week
rm -rf "$DIR"
find "$SHARED/shards" -mindepth 1 -maxdepth 1 -type d -mtime +7 -exec rm -rf {} + 2>/dev/null
exit $rc
