#!/bin/sh
# Builds a kopilot snapshot with kubectl: objects/<resource>.json exactly as
# `kubectl get <resource> -A -o json` prints them. Read-only (GET/LIST only);
# Secrets are never listed. A list that fails is left out, so kopilot reports
# it as "not collected" instead of treating it as empty.
#
#   cron/kopilot-snapshot.sh DIR
#
# Not part of the install (cron/kustomization.yaml): the CronJob's kopilot
# reads the cluster itself. This is for running kopilot elsewhere, where it
# cannot reach the API server: `kopilot run --snapshot DIR`.
#
# usage.json (CPU/memory summaries) is not produced here; without it kopilot
# still finds orphaned storage and reports rightsizing as skipped (exit 3).
set -u
dir=${1:?usage: kopilot-snapshot.sh DIR}
mkdir -p "$dir/objects"
rc=0

# get RESOURCE FILE: objects/FILE.json, written only when the list succeeds
get() {
	if kubectl get "$1" -A -o json >"$dir/objects/.$2.json.tmp" 2>"$dir/objects/.$2.err"; then
		mv "$dir/objects/.$2.json.tmp" "$dir/objects/$2.json"
		rm -f "$dir/objects/.$2.err"
	else
		echo "kopilot-snapshot: kubectl get $1 failed: $(cat "$dir/objects/.$2.err")" >&2
		rm -f "$dir/objects/.$2.json.tmp" "$dir/objects/.$2.err"
		rc=3
	fi
}

for r in pods deployments replicasets statefulsets daemonsets jobs cronjobs persistentvolumeclaims \
	persistentvolumes services endpointslices nodes horizontalpodautoscalers namespaces storageclasses; do
	get "$r" "$r"
done
# the optional lists, only where discovery serves them (no CRD, no file:
# kopilot reads that as "none here", not as a gap)
for r in rollouts.argoproj.io verticalpodautoscalers.autoscaling.k8s.io; do
	kubectl api-resources --api-group="${r#*.}" -o name 2>/dev/null | grep -qx "$r" || continue
	get "$r" "${r%%.*}"
done
exit $rc
