/*
 * idle_loadbalancer.c - LoadBalancer Services that have nowhere to send traffic.
 *
 * A Service is reported (category idle-loadbalancer) when all of these hold:
 *   - spec.type is LoadBalancer (a cloud load balancer is billed for it);
 *   - it is older than idle_loadbalancer.grace_hours (default 24), by
 *     creationTimestamp against the analysis time (a new Service may still be
 *     waiting for its first pods);
 *   - its EndpointSlices (label kubernetes.io/service-name = the Service's
 *     name, same namespace) hold no ready endpoint: the sum of their ready
 *     endpoints is 0. A Service with a selector and no slice at all counts
 *     (its selector matches nothing).
 * Not reported, skipped with a reason:
 *   - a Service WITHOUT a selector and without any slice: its endpoints are
 *     managed by hand or by another controller we cannot see, so "no slice"
 *     proves nothing (with slices it is judged by them like any other);
 *   - services or endpointslices not collected (each LoadBalancer Service is
 *     skipped: a failed list never means "idle"); if services.json itself is
 *     missing nothing is listed, the snapshot's `missing` says so;
 *   - kopilot.io/ignore=true on the Service or its namespace;
 *   - no creationTimestamp (the age is unknown).
 * Endpoints whose ready condition is absent count as ready (the API says:
 * unknown is ready). This is the state at snapshot time: a Service whose
 * pods exist but are not ready may be in a crash loop right now, so such
 * findings have medium confidence; with no endpoint at all, high. Risk is
 * MEDIUM: deleting the Service frees its external address.
 *
 * Ownership: the slice index is heap memory freed before return; findings
 * go to ctx->out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/analyze/analyze.h"

/* EndpointSlices sorted by (namespace, service name) for bsearch. */
static int cmp_slice(const void *a, const void *b)
{
	const kp_endpointslice *x = *(const kp_endpointslice *const *)a, *y = *(const kp_endpointslice *const *)b;
	int r = strcmp(x->meta.namespace_ ? x->meta.namespace_ : "", y->meta.namespace_ ? y->meta.namespace_ : "");
	return r ? r : strcmp(x->service_name, y->service_name);
}

typedef struct {
	size_t slices;
	int64_t endpoints, ready;
} slice_sum;

static slice_sum sum_slices(kp_endpointslice **idx, size_t n, const char *ns, const char *svc)
{
	slice_sum s = {0, 0, 0};
	kp_endpointslice key;
	memset(&key, 0, sizeof(key));
	key.meta.namespace_ = ns;
	key.service_name = svc;
	const kp_endpointslice *kp = &key;
	/* lower bound, then walk the run of equal keys */
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_slice(&idx[mid], &kp) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < n && cmp_slice(&idx[i], &kp) == 0; i++) {
		s.slices++;
		s.endpoints += idx[i]->endpoints;
		s.ready += idx[i]->ready_endpoints;
	}
	return s;
}

static void selector_text(const kp_service *v, kp_buf *b)
{
	for (size_t i = 0; i < v->nselector; i++)
		kp_buf_printf(b, "%s%s=%s", i ? "," : "", v->selector[i].key, v->selector[i].value ? v->selector[i].value : "");
}

void kp_rule_idle_loadbalancer(kp_analyze_ctx *x)
{
	kp_cluster *c = x->cluster;
	if (!c->collected[KP_RES_SERVICES])
		return; /* reported in `missing`; nothing to list */
	bool have_slices = c->collected[KP_RES_ENDPOINTSLICES];
	int64_t grace = (int64_t)(x->cfg->rules.idle_loadbalancer.grace_hours * 3600.0);

	kp_endpointslice **idx = NULL;
	size_t n = 0;
	if (have_slices && c->endpointslices.len) {
		idx = kp_xmalloc(c->endpointslices.len * sizeof(*idx));
		for (size_t i = 0; i < c->endpointslices.len; i++)
			if (c->endpointslices.items[i].service_name)
				idx[n++] = &c->endpointslices.items[i];
		if (n > 1)
			qsort(idx, n, sizeof(*idx), cmp_slice);
	}
	kp_buf sel;
	kp_buf_init(&sel);

	for (size_t i = 0; i < c->services.len; i++) {
		const kp_service *v = &c->services.items[i];
		const char *ns = v->meta.namespace_, *name = v->meta.name;
		if (!v->type || strcmp(v->type, "LoadBalancer") != 0)
			continue;
		if (kp_analyze_is_held(x, v))
			continue; /* already priced in its scaled-to-zero workload's finding */
		if (v->meta.ignored || kp_namespace_ignored(c, ns)) {
			kp_findings_skip(x->out, "v1", "Service", ns, name, "excluded by kopilot.io/ignore=true");
			continue;
		}
		if (!have_slices) {
			kp_findings_skip(x->out, "v1", "Service", ns, name,
					 "endpointslices not collected: cannot tell whether this LoadBalancer has ready "
					 "endpoints");
			continue;
		}
		if (!v->meta.created) {
			kp_findings_skip(x->out, "v1", "Service", ns, name,
					 "no creationTimestamp: cannot tell whether it is past the grace period");
			continue;
		}
		int64_t age = x->now - v->meta.created;
		if (age < grace)
			continue;
		slice_sum s = sum_slices(idx, n, ns, name);
		if (s.ready > 0)
			continue;
		if (!v->has_selector && s.slices == 0) {
			kp_findings_skip(x->out, "v1", "Service", ns, name,
					 "no selector and no EndpointSlices: its endpoints are managed by hand or by another "
					 "controller, so kopilot cannot tell whether it serves traffic");
			continue;
		}

		kp_finding *f = kp_findings_add(x->out, KP_CAT_IDLE_LOADBALANCER, "v1", "Service", ns, name, NULL);
		f->has_recommended = false;
		f->load_balancers = 1;
		/* Endpoints that exist but are not ready may be a crash loop being
		 * fixed right now; none at all is a settled state. */
		f->confidence = s.endpoints > 0 ? KP_CONF_MEDIUM : KP_CONF_HIGH;
		f->risk = KP_RISK_MEDIUM;
		if (s.slices == 0)
			kp_finding_add_evidence(f, "ready_endpoints", 0, true, "endpoints",
						"0 ready endpoints: no EndpointSlice exists for this Service");
		else if (s.endpoints == 0)
			kp_finding_add_evidence(f, "ready_endpoints", 0, true, "endpoints",
						"0 ready endpoints: its %zu EndpointSlice%s list no endpoint at all", s.slices,
						s.slices == 1 ? "" : "s");
		else
			kp_finding_add_evidence(f, "ready_endpoints", 0, true, "endpoints",
						"0 ready endpoints: its %zu EndpointSlice%s list %lld endpoint%s, none ready",
						s.slices, s.slices == 1 ? "" : "s", (long long)s.endpoints,
						s.endpoints == 1 ? "" : "s");
		if (v->has_selector && s.endpoints == 0) {
			kp_buf_reset(&sel);
			selector_text(v, &sel);
			kp_finding_add_evidence(f, "selector", 0, false, NULL, "Its selector %s matches no running pod",
						kp_buf_cstr(&sel));
		}
		if (v->lb_ingress)
			kp_finding_add_evidence(f, "lb_ingress", 0, false, NULL,
						"External address %s is allocated and billed while nothing answers behind it",
						v->lb_ingress);
		else
			kp_finding_add_evidence(f, "lb_ingress", 0, false, NULL,
						"No external address in status.loadBalancer (the cloud may still hold a load "
						"balancer for it)");
		kp_finding_add_evidence(f, "age_days", (double)age / 86400.0, true, "days",
					"Created %.1f days ago (grace period %.0f hours)", (double)age / 86400.0,
					x->cfg->rules.idle_loadbalancer.grace_hours);
		kp_finding_add_evidence(f, NULL, 0, false, NULL,
					"This is the state at snapshot time: endpoints that come back later (a rollout or a "
					"crash loop being fixed) would make it serve again");
		kp_finding_stamp_evidence(f, "kube-api", NULL, -1);
	}
	kp_buf_release(&sel);
	free(idx);
}
