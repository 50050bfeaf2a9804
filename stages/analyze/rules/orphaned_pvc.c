/*
 * orphaned_pvc.c - PVCs nothing uses and nothing will use again.
 *
 * A PVC is orphaned when all of these hold:
 *   - no pod (running, pending or finished) names it in spec.volumes, and
 *     it is not a live pod's generic ephemeral volume (<pod>-<volume>);
 *   - no other claim names it as its dataSource/dataSourceRef (a clone in
 *     progress reads from it);
 *   - no pod template of a Deployment, ReplicaSet, StatefulSet, DaemonSet,
 *     Job or CronJob names it (a Deployment scaled to zero or a CronJob
 *     between runs will mount it again);
 *   - its name is not <claimTemplate>-<statefulset>-<ordinal> for any
 *     StatefulSet in its namespace, at any ordinal (a StatefulSet scaled down
 *     or to zero keeps its claims for when it scales back up);
 *   - it is older than the grace period (default 7 days);
 *   - it is Bound (a Pending claim has no volume yet and costs nothing).
 * If pods or any workload list was not collected the rule cannot tell, so
 * every PVC is listed as skipped instead: a failed list never means "unused"
 * (kor's classic false positive).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/analyze/analyze.h"
#include "pipeline/quantity.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every "namespace/claim" named by a pod or a workload's pod template,
 * sorted for bsearch: one pass instead of pods x claims. */
static void add_ref(kp_arena *a, const char *ns, const char *prefix, const char *claim, void *arr)
{
	KP_ARRAY(const char *) *refs = arr;
	char *k = kp_xasprintf("%s/%s%s", ns, prefix ? prefix : "", claim);
	KP_ARRAY_PUSH(*refs, kp_arena_strdup(a, k));
	free(k);
}

/* pod_name: for a live pod, its generic ephemeral volumes' claims are
 * named <pod>-<volume> (the ephemeral-volume controller's rule). */
static void add_refs(kp_arena *a, const char *ns, const kp_podspec *ps, const char *pod_name, void *arr)
{
	for (size_t i = 0; i < ps->nclaims; i++)
		add_ref(a, ns, NULL, ps->claims[i], arr);
	if (!pod_name)
		return;
	char *prefix = kp_xasprintf("%s-", pod_name);
	for (size_t i = 0; i < ps->nephemeral; i++)
		add_ref(a, ns, prefix, ps->ephemeral_claims[i], arr);
	free(prefix);
}

/* PersistentVolumes sorted by name, and workloads with claim templates
 * sorted by namespace: one lookup per claim instead of a pass over every
 * volume and every workload (claims x volumes was quadratic). */
static int cmp_pv_name(const void *a, const void *b)
{
	return strcmp((*(const kp_pv *const *)a)->meta.name, (*(const kp_pv *const *)b)->meta.name);
}

static int cmp_pv_key(const void *key, const void *elem)
{
	return strcmp((const char *)key, (*(const kp_pv *const *)elem)->meta.name);
}

static const char *ns_or_empty(const char *ns)
{
	return ns ? ns : "";
}

static int cmp_wl_ns(const void *a, const void *b)
{
	return strcmp(ns_or_empty((*(const kp_workload *const *)a)->meta.namespace_),
		      ns_or_empty((*(const kp_workload *const *)b)->meta.namespace_));
}

static const kp_pv *bound_pv(const kp_pv *const *pvs, size_t n, const kp_pvc *v)
{
	if (!v->volume_name || !n)
		return NULL;
	const kp_pv *const *hit = bsearch(v->volume_name, pvs, n, sizeof(*pvs), cmp_pv_key);
	return hit ? *hit : NULL;
}

/* Whether name is <template>-<statefulset>-<ordinal> of a StatefulSet in ns. */
static bool statefulset_claim(const kp_workload *const *sts, size_t n, const char *ns, const char *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ns_or_empty(sts[mid]->meta.namespace_), ns) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t w = lo; w < n && strcmp(ns_or_empty(sts[w]->meta.namespace_), ns) == 0; w++)
		for (size_t t = 0; t < sts[w]->nclaim_templates; t++)
			if (kp_statefulset_claim(name, sts[w]->claim_templates[t], sts[w]->meta.name))
				return true;
	return false;
}

/* Why the rule cannot judge PVCs in this snapshot, or NULL. */
static const char *missing_input(const kp_cluster *c)
{
	static const kp_resource needed[] = {KP_RES_PODS,	KP_RES_DEPLOYMENTS, KP_RES_REPLICASETS, KP_RES_STATEFULSETS,
					     KP_RES_DAEMONSETS, KP_RES_JOBS,	    KP_RES_CRONJOBS};
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!c->collected[needed[i]])
			return kp_resource_name(needed[i]);
	return NULL;
}

void kp_rule_orphaned_pvc(kp_analyze_ctx *x)
{
	kp_cluster *c = x->cluster;
	if (!c->collected[KP_RES_PVCS])
		return; /* reported in `missing`; nothing to list */
	const char *missing = missing_input(c);
	int64_t grace = (int64_t)(x->cfg->rules.orphaned_pvc.grace_days * 86400.0);
	KP_ARRAY(const char *) refs = {0};
	for (size_t p = 0; p < c->pods.len; p++)
		add_refs(&c->arena, c->pods.items[p].meta.namespace_, &c->pods.items[p].spec, c->pods.items[p].meta.name,
			 &refs);
	for (size_t w = 0; w < c->workloads.len; w++)
		add_refs(&c->arena, c->workloads.items[w].meta.namespace_, &c->workloads.items[w].spec, NULL, &refs);
	for (size_t i = 0; i < c->pvcs.len; i++)
		if (c->pvcs.items[i].data_source_pvc)
			add_ref(&c->arena, c->pvcs.items[i].meta.namespace_, NULL, c->pvcs.items[i].data_source_pvc, &refs);
	if (refs.len)
		qsort(refs.items, refs.len, sizeof(char *), cmp_str);
	const kp_pv **pvs = kp_xmalloc((c->pvs.len ? c->pvs.len : 1) * sizeof(*pvs));
	size_t npvs = 0;
	for (size_t i = 0; i < c->pvs.len; i++)
		if (c->pvs.items[i].meta.name)
			pvs[npvs++] = &c->pvs.items[i];
	if (npvs > 1)
		qsort(pvs, npvs, sizeof(*pvs), cmp_pv_name);
	const kp_workload **sts = kp_xmalloc((c->workloads.len ? c->workloads.len : 1) * sizeof(*sts));
	size_t nsts = 0;
	for (size_t w = 0; w < c->workloads.len; w++)
		if (c->workloads.items[w].nclaim_templates)
			sts[nsts++] = &c->workloads.items[w];
	if (nsts > 1)
		qsort(sts, nsts, sizeof(*sts), cmp_wl_ns);
	kp_buf key;
	kp_buf_init(&key);

	for (size_t i = 0; i < c->pvcs.len; i++) {
		const kp_pvc *v = &c->pvcs.items[i];
		const char *ns = v->meta.namespace_, *name = v->meta.name;
		if (missing) {
			kp_findings_skip(x->out, "v1", "PersistentVolumeClaim", ns, name,
					 "%s not collected: cannot tell whether this claim is used", missing);
			continue;
		}
		if (v->meta.ignored || kp_namespace_ignored(c, ns)) {
			kp_findings_skip(x->out, "v1", "PersistentVolumeClaim", ns, name,
					 "excluded by kopilot.io/ignore=true");
			continue;
		}
		if (v->phase && strcmp(v->phase, "Bound") != 0)
			continue;
		kp_buf_reset(&key);
		kp_buf_printf(&key, "%s/%s", ns, name);
		const char *k = key.data;
		bool used = refs.len && bsearch(&k, refs.items, refs.len, sizeof(char *), cmp_str) != NULL;
		if (!used)
			used = statefulset_claim(sts, nsts, ns_or_empty(ns), name);
		if (used)
			continue;
		if (!v->meta.created) {
			kp_findings_skip(x->out, "v1", "PersistentVolumeClaim", ns, name,
					 "no creationTimestamp: cannot tell whether it is past the grace period");
			continue;
		}
		int64_t age = x->now - v->meta.created;
		if (age < grace)
			continue;

		kp_finding *f = kp_findings_add(x->out, KP_CAT_ORPHANED_PVC, "v1", "PersistentVolumeClaim", ns, name, NULL);
		f->current.storage_b = v->storage_bytes;
		f->has_recommended = false;
		f->confidence = KP_CONF_HIGH;
		f->risk = KP_RISK_HIGH; /* deleting a claim can delete its data */
		char size[32];
		kp_format_bytes(v->storage_bytes > 0 ? v->storage_bytes : 0, size, sizeof(size));
		kp_finding_add_evidence(f, "mounted_by_pods", 0, true, "pods",
					"No pod in %s mounts this claim and no Deployment, StatefulSet, DaemonSet, Job or "
					"CronJob template or StatefulSet claim template references it",
					ns);
		kp_finding_add_evidence(f, "age_days", (double)age / 86400.0, true, "days",
					"Created %.0f days ago (grace period %.0f days)", (double)age / 86400.0,
					x->cfg->rules.orphaned_pvc.grace_days);
		const kp_pv *pv = bound_pv(pvs, npvs, v);
		if (pv && pv->reclaim_policy && strcmp(pv->reclaim_policy, "Retain") == 0) {
			/* Deleting the claim alone saves nothing: the volume and its
			 * disk stay, and so does the bill. What saves the money is the
			 * disk going too, so the action says so and does it. */
			kp_finding_add_evidence(f, "reclaim_policy", 0, false, NULL,
						"%s of storage on PersistentVolume %s with reclaim policy Retain: deleting the "
						"claim alone keeps the volume and its disk (and their cost), so the action first "
						"sets the volume's reclaim policy to Delete; deleting the claim then deletes the "
						"volume and the disk, and that is what saves the money",
						size, pv->meta.name);
			kp_related_change *r = kp_finding_add_related(
				f, "v1", "PersistentVolume", NULL, pv->meta.name, "/spec/persistentVolumeReclaimPolicy",
				"with Retain, deleting the claim keeps the volume and its disk: Delete lets them go with it");
			r->current_s = kp_xstrdup("Retain");
			r->recommended_s = kp_xstrdup("Delete");
			r->before = true;
		} else if (pv)
			kp_finding_add_evidence(f, "reclaim_policy", 0, false, NULL,
						"%s of storage on PersistentVolume %s with reclaim policy %s: deleting the "
						"claim %s",
						size, pv->meta.name, pv->reclaim_policy ? pv->reclaim_policy : "(unset)",
						pv->reclaim_policy && strcmp(pv->reclaim_policy, "Delete") == 0
							? "deletes the disk and its data"
							: "releases the volume");
		else
			kp_finding_add_evidence(f, "storage_bytes", (double)v->storage_bytes, true, "bytes",
						"%s of storage requested", size);
		kp_finding_stamp_evidence(f, "kube-api", NULL, -1);
	}
	free(refs.items);
	free(pvs);
	free(sts);
	kp_buf_release(&key);
}
