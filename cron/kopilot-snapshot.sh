#!/bin/sh
# Builds a kopilot snapshot with kubectl: objects/<resource>.json exactly as
# `kubectl get <resource> -A -o json` prints them. Read-only (GET/LIST only);
# Secrets are never listed. A list that fails is left out, so kopilot reports
# it as "not collected" instead of treating it as empty.
#
#   cron/kopilot-snapshot.sh DIR
#
# usage.json (CPU/memory summaries) is not produced here; without it kopilot
# still finds orphaned storage and reports rightsizing as skipped (exit 3).
set -u
dir=${1:?usage: kopilot-snapshot.sh DIR}
mkdir -p "$dir/objects"
rc=0
for r in pods deployments replicasets statefulsets daemonsets jobs cronjobs persistentvolumeclaims \
	persistentvolumes services endpointslices nodes horizontalpodautoscalers namespaces storageclasses; do
	if kubectl get "$r" -A -o json >"$dir/objects/.$r.json.tmp" 2>"$dir/objects/.$r.err"; then
		mv "$dir/objects/.$r.json.tmp" "$dir/objects/$r.json"
		rm -f "$dir/objects/.$r.err"
	else
		echo "kopilot-snapshot: kubectl get $r failed: $(cat "$dir/objects/.$r.err")" >&2
		rm -f "$dir/objects/.$r.json.tmp" "$dir/objects/.$r.err"
		rc=3
	fi
done
# the optional lists: only where their CRDs are installed (no CRD, no file:
# kopilot reads that as "none here", not as a gap)
for r in rollouts.argoproj.io verticalpodautoscalers.autoscaling.k8s.io; do
	short=${r%%.*}
	kubectl api-resources --api-group="${r#*.}" -o name 2>/dev/null | grep -qx "$r" || continue
	if kubectl get "$r" -A -o json >"$dir/objects/.$short.json.tmp" 2>"$dir/objects/.$short.err"; then
		mv "$dir/objects/.$short.json.tmp" "$dir/objects/$short.json"
		rm -f "$dir/objects/.$short.err"
	else
		echo "kopilot-snapshot: kubectl get $r failed: $(cat "$dir/objects/.$short.err")" >&2
		rm -f "$dir/objects/.$short.json.tmp" "$dir/objects/.$short.err"
		rc=3
	fi
done
exit $rc
