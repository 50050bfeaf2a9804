/*
 * zero_replica.c - workloads scaled to zero that still hold billed resources
 * (category zero-replica-workload).
 *
 * A Deployment or StatefulSet with spec.replicas == 0 is reported when it
 * still holds at least one of:
 *   (a) persistent volume claims that exist and are Bound (a Pending or Lost
 *       claim has no disk behind it and costs nothing):
 *         StatefulSet: every <claimTemplate>-<statefulset>-<ordinal>, any
 *         ordinal (scaled down, the claims stay for when it scales back);
 *         Deployment and StatefulSet: every claim its pod template names;
 *   (b) Services of type LoadBalancer in its namespace whose non-empty
 *       selector is a subset of its pod template labels (they would route to
 *       its pods; with none running, the cloud load balancer serves nothing).
 *       Services excluded by kopilot.io/ignore=true are not counted.
 * and it was created more than zero_replica.grace_days (default 7) ago: a
 * younger one is probably a rollout or a migration in progress.
 * The finding's current sizes are replicas 0 and the held claims' storage;
 * load_balancers is the number of such Services. Confidence is high (these
 * are facts from the API, not measurements); risk LOW: the action is a
 * review, deleting claims is a separate, approval-gated decision.
 *
 * Inputs: without persistentvolumeclaims the rule cannot tell what is held,
 * so each zero-replica workload is listed as skipped. Without services the
 * claims are still judged and the evidence says load balancers were not
 * checked (a workload holding no claim is then skipped: it may still hold a
 * load balancer).
 *
 * Not flagged: workloads at zero that hold nothing (parked cheaply), younger
 * than the grace period, DaemonSets (no replica count to set) and workloads
 * excluded by kopilot.io/ignore=true (skipped; the rightsizing rule already
 * records that skip when usage was collected, so it is not repeated here).
 *
 * A held LoadBalancer Service has no ready endpoints; it is marked held
 * (kp_analyze_mark_held) so the idle-loadbalancer rule (which runs later)
 * does not price it a second time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/analyze/analyze.h"
#include "pipeline/quantity.h"

/* How many claim/service names an evidence line spells out. */
#define ZR_MAX_LISTED 10

static int zr_cmp_pvc(const void *a, const void *b)
{
	const kp_pvc *x = *(const kp_pvc *const *)a, *y = *(const kp_pvc *const *)b;
	int r = strcmp(x->meta.namespace_ ? x->meta.namespace_ : "", y->meta.namespace_ ? y->meta.namespace_ : "");
	return r ? r : strcmp(x->meta.name, y->meta.name);
}

static int zr_cmp_svc(const void *a, const void *b)
{
	const kp_service *x = *(const kp_service *const *)a, *y = *(const kp_service *const *)b;
	int r = strcmp(x->meta.namespace_ ? x->meta.namespace_ : "", y->meta.namespace_ ? y->meta.namespace_ : "");
	return r ? r : strcmp(x->meta.name, y->meta.name);
}

/* First index in the sorted array whose (namespace, name) is >= (ns, name). */
static size_t zr_lower_pvc(const kp_pvc *const *v, size_t n, const char *ns, const char *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(v[mid]->meta.namespace_ ? v[mid]->meta.namespace_ : "", ns);
		if (!r)
			r = strcmp(v[mid]->meta.name, name);
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t zr_lower_svc(const kp_service *const *v, size_t n, const char *ns)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid]->meta.namespace_ ? v[mid]->meta.namespace_ : "", ns) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool zr_bound(const kp_pvc *v)
{
	return !v->phase || strcmp(v->phase, "Bound") == 0;
}

typedef KP_ARRAY(const kp_pvc *) zr_pvc_list;

static bool zr_listed(const zr_pvc_list *held, const kp_pvc *v)
{
	for (size_t i = 0; i < held->len; i++)
		if (held->items[i] == v)
			return true;
	return false;
}

/* The Bound claims this workload holds, in a deterministic order. */
static void zr_held_claims(const kp_workload *w, const kp_pvc *const *pv, size_t npv, zr_pvc_list *held)
{
	const char *ns = w->meta.namespace_ ? w->meta.namespace_ : "";
	kp_buf prefix;
	kp_buf_init(&prefix);
	for (size_t t = 0; t < w->nclaim_templates; t++) {
		kp_buf_reset(&prefix);
		kp_buf_printf(&prefix, "%s-%s-", w->claim_templates[t], w->meta.name);
		for (size_t i = zr_lower_pvc(pv, npv, ns, prefix.data); i < npv; i++) {
			const kp_pvc *v = pv[i];
			if (strcmp(v->meta.namespace_ ? v->meta.namespace_ : "", ns) != 0 ||
			    strncmp(v->meta.name, prefix.data, prefix.len) != 0)
				break;
			/* distinct templates never match the same name: no dedup needed */
			if (kp_statefulset_claim(v->meta.name, w->claim_templates[t], w->meta.name) && zr_bound(v))
				KP_ARRAY_PUSH(*held, v);
		}
	}
	kp_buf_release(&prefix);
	for (size_t k = 0; k < w->spec.nclaims; k++) {
		size_t i = zr_lower_pvc(pv, npv, ns, w->spec.claims[k]);
		if (i < npv && strcmp(pv[i]->meta.namespace_ ? pv[i]->meta.namespace_ : "", ns) == 0 &&
		    strcmp(pv[i]->meta.name, w->spec.claims[k]) == 0 && zr_bound(pv[i]) && !zr_listed(held, pv[i]))
			KP_ARRAY_PUSH(*held, pv[i]);
	}
}

static bool zr_selects(const kp_service *s, const kp_workload *w)
{
	if (!s->has_selector || s->nselector == 0)
		return false;
	for (size_t i = 0; i < s->nselector; i++) {
		bool found = false;
		for (size_t j = 0; j < w->ntemplate_labels && !found; j++)
			found = strcmp(s->selector[i].key, w->template_labels[j].key) == 0 &&
				strcmp(s->selector[i].value ? s->selector[i].value : "",
				       w->template_labels[j].value ? w->template_labels[j].value : "") == 0;
		if (!found)
			return false;
	}
	return true;
}

void kp_rule_zero_replica(kp_analyze_ctx *x)
{
	kp_cluster *c = x->cluster;
	const kp_config *cfg = x->cfg;
	bool have_pvcs = c->collected[KP_RES_PVCS], have_svcs = c->collected[KP_RES_SERVICES];
	int64_t grace = (int64_t)(cfg->rules.zero_replica.grace_days * 86400.0);

	/* Sorted indexes: claims by (namespace, name), LoadBalancer Services by
	 * (namespace, name), so each workload looks only at its own namespace. */
	const kp_pvc **pv = kp_xcalloc(c->pvcs.len + 1, sizeof(*pv));
	size_t npv = 0;
	for (size_t i = 0; i < c->pvcs.len; i++)
		pv[npv++] = &c->pvcs.items[i];
	if (npv > 1)
		qsort(pv, npv, sizeof(*pv), zr_cmp_pvc);
	const kp_service **lb = kp_xcalloc(c->services.len + 1, sizeof(*lb));
	size_t nlb = 0;
	for (size_t i = 0; i < c->services.len; i++) {
		const kp_service *s = &c->services.items[i];
		if (s->type && strcmp(s->type, "LoadBalancer") == 0 && s->has_selector && s->nselector > 0 &&
		    !s->meta.ignored && !kp_namespace_ignored(c, s->meta.namespace_))
			lb[nlb++] = s;
	}
	if (nlb > 1)
		qsort(lb, nlb, sizeof(*lb), zr_cmp_svc);

	zr_pvc_list held = {0};
	KP_ARRAY(const kp_service *) svcs = {0};
	kp_buf list;
	kp_buf_init(&list);
	for (size_t wi = 0; wi < c->workloads.len; wi++) {
		const kp_workload *w = &c->workloads.items[wi];
		if (w->wkind != KP_WL_DEPLOYMENT && w->wkind != KP_WL_STATEFULSET)
			continue;
		if (w->replicas != 0)
			continue;
		const char *kind = kp_workload_kind_name(w->wkind), *api = kp_workload_api_version(w->wkind);
		const char *ns = w->meta.namespace_ ? w->meta.namespace_ : "";
		if (w->meta.ignored || kp_namespace_ignored(c, w->meta.namespace_)) {
			/* With usage collected, rightsizing has already listed it. */
			if (!c->usage_collected)
				kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
						 "excluded by kopilot.io/ignore=true");
			continue;
		}
		int64_t age = w->meta.created ? x->now - w->meta.created : 0;
		if (w->meta.created && age <= grace)
			continue; /* scaled to zero recently: a rollout or move in progress */
		if (!have_pvcs) {
			kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
					 "zero-replica-workload: persistentvolumeclaims not collected: cannot tell whether "
					 "this workload at 0 replicas still holds storage");
			continue;
		}
		held.len = 0;
		svcs.len = 0;
		zr_held_claims(w, pv, npv, &held);
		for (size_t i = zr_lower_svc(lb, nlb, ns); i < nlb; i++) {
			if (strcmp(lb[i]->meta.namespace_ ? lb[i]->meta.namespace_ : "", ns) != 0)
				break;
			if (zr_selects(lb[i], w))
				KP_ARRAY_PUSH(svcs, lb[i]);
		}
		if (held.len == 0 && svcs.len == 0) {
			if (!have_svcs)
				kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
						 "zero-replica-workload: holds no claim, but services were not collected: "
						 "cannot tell whether it still holds a LoadBalancer Service");
			continue;
		}
		if (!w->meta.created) {
			kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
					 "zero-replica-workload: no creationTimestamp: cannot tell whether it is past the "
					 "grace period");
			continue;
		}

		kp_finding *f = kp_findings_add(x->out, KP_CAT_ZERO_REPLICA_WORKLOAD, api, kind, w->meta.namespace_,
						w->meta.name, NULL);
		f->current.replicas = 0;
		int64_t storage = 0;
		for (size_t i = 0; i < held.len; i++)
			if (held.items[i]->storage_bytes > 0) /* each <= 1Ei, so only the sum can overflow */
				storage = kp_add_sat(storage, held.items[i]->storage_bytes);
		if (held.len)
			f->current.storage_b = storage;
		f->load_balancers = (int64_t)svcs.len;
		/* The idle-loadbalancer rule runs later and would price the same
		 * Services again; mark them as accounted for here. */
		for (size_t i = 0; i < svcs.len; i++)
			kp_analyze_mark_held(x, svcs.items[i]);
		f->has_recommended = false;
		f->confidence = KP_CONF_HIGH;
		f->risk = KP_RISK_LOW;

		char size[32];
		kp_finding_add_evidence(f, "replicas", 0, true, "replicas",
					"spec.replicas is 0: no pod runs; created %.0f days ago (grace period %g days)",
					(double)age / 86400.0, cfg->rules.zero_replica.grace_days);
		if (held.len) {
			kp_buf_reset(&list);
			for (size_t i = 0; i < held.len && i < ZR_MAX_LISTED; i++) {
				kp_format_bytes(held.items[i]->storage_bytes > 0 ? held.items[i]->storage_bytes : 0, size,
						sizeof(size));
				kp_buf_printf(&list, "%s%s (%s)", i ? ", " : "", held.items[i]->meta.name, size);
			}
			if (held.len > ZR_MAX_LISTED)
				kp_buf_printf(&list, " and %zu more", held.len - ZR_MAX_LISTED);
			kp_format_bytes(storage, size, sizeof(size));
			kp_finding_add_evidence(f, "storage_bytes", (double)storage, true, "bytes",
						"Still holds %zu Bound PersistentVolumeClaim%s, %s in total: %s", held.len,
						held.len == 1 ? "" : "s", size, list.data);
		}
		if (svcs.len) {
			kp_buf_reset(&list);
			for (size_t i = 0; i < svcs.len && i < ZR_MAX_LISTED; i++)
				kp_buf_printf(&list, "%s%s%s%s%s", i ? ", " : "", svcs.items[i]->meta.name,
					      svcs.items[i]->lb_ingress ? " (" : "",
					      svcs.items[i]->lb_ingress ? svcs.items[i]->lb_ingress : "",
					      svcs.items[i]->lb_ingress ? ")" : "");
			if (svcs.len > ZR_MAX_LISTED)
				kp_buf_printf(&list, " and %zu more", svcs.len - ZR_MAX_LISTED);
			kp_finding_add_evidence(f, "load_balancers", (double)svcs.len, true, "count",
						"%zu LoadBalancer Service%s select%s its pods and route to nothing: %s",
						svcs.len, svcs.len == 1 ? "" : "s", svcs.len == 1 ? "s" : "", list.data);
		} else if (!have_svcs) {
			kp_finding_add_evidence(f, NULL, 0, false, NULL,
						"Load balancers were not checked: services were not collected");
		}
		kp_finding_stamp_evidence(f, "kube-api", NULL, -1);
	}
	kp_buf_release(&list);
	free(held.items);
	free(svcs.items);
	free(pv);
	free(lb);
}
