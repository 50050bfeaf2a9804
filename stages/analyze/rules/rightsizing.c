/*
 * rightsizing.c - over-provisioned and under-provisioned containers of
 * Deployments, StatefulSets, DaemonSets, CronJobs and Jobs, including native
 * sidecars and init containers.
 *
 * Algorithm (strategy "kopilot-peak-v1", documented in the README):
 *   usage of every pod of the workload seen in the window is combined, live
 *   pods and pods replaced by a rollout alike:
 *     cpu_ref  = max over pods of the configured CPU percentile (p95)
 *     mem_peak = max over pods of the peak working set
 *   cpu_target = roundup5m(max(cpu_ref * (1 + cpu_margin), cpu_floor))
 *   mem_target = roundupMi(max(mem_peak * (1 + memory_margin), memory_floor))
 *   after an OOM kill: mem_target >= max(limit_at_oom * 1.2, peak + 100Mi),
 *   as the VPA recommender bumps, because the working set observed before a
 *   kill under-states what the container wanted.
 * A container is under-provisioned when it was OOM-killed, its peak memory
 * exceeds its request, or its CPU reference exceeds its request; otherwise
 * over-provisioned when a request can come down by both the relative and the
 * absolute threshold; the recommend stage then drops the ones whose savings
 * at their own price stay below min_monthly_savings. Changes too small to
 * matter are not proposed, so the report is not noise.
 *
 * Batch work (a CronJob over all its Jobs' runs, a Job not owned by a
 * CronJob) is judged per run: it needs min_batch_runs runs, not hours, and
 * its savings are weighted by the share of the window its pods ran.
 * Per-workload tuning: annotations kopilot.io/cpu-percentile,
 * kopilot.io/cpu-margin and kopilot.io/memory-margin on the namespace or the
 * workload (the workload wins) override the configuration; the evidence
 * names them.
 *
 * Other owners of the requests: a VerticalPodAutoscaler in any updateMode
 * but Off rewrites the requests it controls (per container: its policy's
 * mode and controlledResources; limits too unless controlledValues is
 * RequestsOnly), so kopilot proposes nothing on those (a pull request would
 * be undone at its next update) and says what the VPA does instead; in
 * updateMode Off its recommendation is input: never below its lowerBound.
 * A workload whose controller is an operator's resource (a StatefulSet of a
 * Prometheus) is still sized, but the change belongs in that resource: no
 * command, resource.managed_by names it, and no pull request edits it.
 *
 * Safety: the memory recommendation is never below the observed peak (the
 * margin is added on top, and the floor only raises it); workloads with less
 * than min_history_hours of history are skipped, not guessed.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/analyze/analyze.h"
#include "pipeline/quantity.h"
#include "stages/collect/runtime.h"

#define MIB (1024LL * 1024LL)

typedef struct {
	size_t pods;
	int64_t samples, first, last;
	double cpu_ref, cpu_p50, mem_peak, throttled;
	int64_t oom_kills, limit_at_oom, restarts;
	bool cpu_known, mem_known;
} combined_t;

static double cpu_percentile(const kp_usage *u, int pct)
{
	switch (pct) {
	case 50: return u->cpu_p50;
	case 99: return u->cpu_p99;
	case 100: return u->cpu_max;
	default: return u->cpu_p95;
	}
}

static void combine(const kp_usage *const *us, size_t n, const char *container, int pct, combined_t *out)
{
	memset(out, 0, sizeof(*out));
	out->first = INT64_MAX;
	out->limit_at_oom = KP_UNSET;
	out->throttled = -1;
	for (size_t i = 0; i < n; i++) {
		const kp_usage *u = us[i];
		if (strcmp(u->container, container) != 0)
			continue;
		out->pods++;
		out->samples += u->samples;
		if (u->first_seen && u->first_seen < out->first)
			out->first = u->first_seen;
		if (u->last_seen > out->last)
			out->last = u->last_seen;
		double cpu = cpu_percentile(u, pct);
		if (cpu >= 0) {
			out->cpu_known = true;
			if (cpu > out->cpu_ref)
				out->cpu_ref = cpu;
		}
		if (u->cpu_p50 > out->cpu_p50)
			out->cpu_p50 = u->cpu_p50;
		if (u->mem_max >= 0) {
			out->mem_known = true;
			if (u->mem_max > out->mem_peak)
				out->mem_peak = u->mem_max;
		}
		if (u->oom_kills > 0)
			out->oom_kills += u->oom_kills;
		if (u->restarts > 0)
			out->restarts += u->restarts;
		if (u->memory_limit_at_oom > out->limit_at_oom)
			out->limit_at_oom = u->memory_limit_at_oom;
		if (u->cpu_throttled_ratio > out->throttled)
			out->throttled = u->cpu_throttled_ratio;
	}
	if (out->first == INT64_MAX)
		out->first = 0;
}

static int64_t round_up(double v, int64_t step)
{
	int64_t n = (int64_t)ceil(v / (double)step);
	return n * step;
}

static bool significant(const kp_config *cfg, int64_t current, int64_t target, int64_t min_abs)
{
	if (current <= 0 || target >= current)
		return false;
	int64_t diff = current - target;
	return diff >= min_abs && (double)diff / (double)current >= cfg->rules.rightsizing.min_relative_change;
}

static void window_label(int64_t seconds, char *out, size_t n)
{
	double days = (double)seconds / 86400.0;
	if (days >= 1.95)
		snprintf(out, n, "%.0fd", days);
	else
		snprintf(out, n, "%.0fh", (double)seconds / 3600.0);
}

/* The knobs of the strategy for one workload: the configuration, overridden
 * by kopilot.io/ annotations on its namespace, then on the workload itself,
 * so a team can ask for p99 on a latency-critical service without changing
 * everyone's defaults. */
typedef struct {
	int cpu_percentile;
	double cpu_margin, memory_margin;
	const char *origin; /* "" or " (from annotations: ...)" for the evidence */
	char origin_buf[160];
} params_t;

static bool annotation_number(const kp_meta *m, const char *key, double lo, double hi, double *out, char *bad,
			      size_t nbad)
{
	const char *v = kp_meta_annotation(m, key);
	if (!v)
		return true;
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || !(d >= lo && d <= hi)) {
		snprintf(bad, nbad, "annotation %s=\"%.40s\" on %s %s is not a number in [%g, %g]", key, v, m->kind,
			 m->name, lo, hi);
		return false;
	}
	*out = d;
	return true;
}

static bool resolve_params(const kp_config *cfg, const kp_meta *ns, const kp_meta *wl, params_t *p, char *bad,
			   size_t nbad)
{
	p->cpu_percentile = cfg->rules.rightsizing.cpu_percentile;
	p->cpu_margin = cfg->rules.rightsizing.cpu_margin;
	p->memory_margin = cfg->rules.rightsizing.memory_margin;
	p->origin = "";
	p->origin_buf[0] = '\0';
	const kp_meta *layers[] = {ns, wl};
	for (int i = 0; i < 2; i++) {
		if (!layers[i])
			continue;
		double pct = p->cpu_percentile;
		if (!annotation_number(layers[i], "kopilot.io/cpu-percentile", 50, 100, &pct, bad, nbad) ||
		    !annotation_number(layers[i], "kopilot.io/cpu-margin", 0, 10, &p->cpu_margin, bad, nbad) ||
		    !annotation_number(layers[i], "kopilot.io/memory-margin", 0, 10, &p->memory_margin, bad, nbad))
			return false;
		if (pct != 50 && pct != 95 && pct != 99 && pct != 100) {
			snprintf(bad, nbad, "annotation kopilot.io/cpu-percentile on %s %s must be 50, 95, 99 or 100",
				 layers[i]->kind, layers[i]->name);
			return false;
		}
		p->cpu_percentile = (int)pct;
		if (layers[i]->nannotations) {
			for (size_t k = 0; k < layers[i]->nannotations; k++) {
				const char *key = layers[i]->annotations[k].key;
				if (strcmp(key, "kopilot.io/cpu-percentile") && strcmp(key, "kopilot.io/cpu-margin") &&
				    strcmp(key, "kopilot.io/memory-margin"))
					continue;
				size_t len = strlen(p->origin_buf);
				snprintf(p->origin_buf + len, sizeof(p->origin_buf) - len, "%s%s=%s on %s", len ? ", " : "",
					 key + 11, layers[i]->annotations[k].value, layers[i]->kind);
			}
		}
	}
	if (p->origin_buf[0])
		p->origin = p->origin_buf;
	return true;
}

static const kp_meta *namespace_meta(const kp_cluster *c, const char *ns)
{
	for (size_t i = 0; i < c->namespaces.len; i++)
		if (strcmp(c->namespaces.items[i].meta.name, ns) == 0)
			return &c->namespaces.items[i].meta;
	return NULL;
}

static bool is_batch(const kp_workload *w) { return w->wkind == KP_WL_JOB || w->wkind == KP_WL_CRONJOB; }

static double workload_replicas(const kp_workload *w)
{
	/* An HPA decides the replica count; its current count is the best
	 * estimate a snapshot has of the average over the window. */
	if (w->hpa && w->hpa->current_replicas > 0)
		return (double)w->hpa->current_replicas;
	return (double)w->replicas;
}

/* An HPA that scales on utilization measures it against the request: a
 * request change moves the load at which it scales. The target is moved
 * by the same ratio, so it scales at the same load as before, and the
 * change goes with the action (a related change: the command and a pull
 * request carry it, after the resize, because the other order would scale
 * in on the old requests first). Without a target to move (a metric
 * kopilot cannot address), the evidence says so. */
static void hpa_follows(kp_finding *f, const kp_hpa *h, const char *kind, const char *what, int64_t target,
			int64_t metric_index, int64_t cur_request, int64_t rec_request)
{
	if (target <= 0 || metric_index == KP_UNSET || cur_request <= 0 || rec_request <= 0) {
		kp_finding_add_evidence(f, "hpa", 0, false, NULL,
					"HPA %s scales this %s on %s utilization; changing the request moves its scaling "
					"point: review its target with the change",
					h->meta.name, kind, what);
		return;
	}
	int64_t moved = (int64_t)llround((double)target * (double)cur_request / (double)rec_request);
	if (moved < 1)
		moved = 1;
	if (moved > INT32_MAX) /* the API stores it as an int32 */
		moved = INT32_MAX;
	char path[96];
	if (metric_index == KP_HPA_V1_FIELD)
		snprintf(path, sizeof(path), "/spec/targetCPUUtilizationPercentage");
	else
		snprintf(path, sizeof(path), "/spec/metrics/%lld/resource/target/averageUtilization",
			 (long long)metric_index);
	kp_finding_add_evidence(f, "hpa_target_utilization", (double)target, true, "percent",
				"HPA %s scales this %s on %s utilization (target %lld%%); utilization is measured "
				"against the request, so changing the request moves the scaling point: the action "
				"sets the HPA target to %lld%% to keep scaling at the same load",
				h->meta.name, kind, what, (long long)target, (long long)moved);
	char reason[160];
	snprintf(reason, sizeof(reason), "keeps HPA %s scaling at the same %s load after the request change",
		 h->meta.name, what);
	kp_related_change *r = kp_finding_add_related(
		f, metric_index == KP_HPA_V1_FIELD ? "autoscaling/v1" : "autoscaling/v2", "HorizontalPodAutoscaler",
		h->meta.namespace_, h->meta.name, path, reason);
	r->numeric = true;
	r->current_n = target;
	r->recommended_n = moved;
	r->before = false;
}

/* usage read from Prometheus by this run (not a snapshot's usage.json) */
static bool live_prometheus(const kp_analyze_ctx *x)
{
	const char *src = x->cluster->usage_source;
	return src && !strcmp(src, "prometheus") && x->cluster->server;
}

static bool metrics_server(const kp_analyze_ctx *x)
{
	return x->cluster->usage_source && strcmp(x->cluster->usage_source, "metrics-server") == 0;
}

/* The pod's own history: the most recent OOM kill of container k in the
 * workload's pods' status (lastState, which reaches back before the
 * metrics window) at the memory limit it has now, within
 * rightsizing.oom_history_days. *pod its pod, *when its time (0 unknown).
 * A crash for another reason says nothing about memory. */
static bool oom_at_current_limit(kp_analyze_ctx *x, const kp_workload *w, const kp_container *k, const kp_pod **pod,
				 int64_t *when)
{
	size_t np = 0;
	const kp_pod *const *ps = kp_workload_pods(x, (size_t)(w - x->cluster->workloads.items), &np);
	int64_t oldest = x->now - (int64_t)x->cfg->rules.rightsizing.oom_history_days * 86400;
	*pod = NULL;
	*when = 0;
	for (size_t i = 0; i < np; i++)
		for (size_t j = 0; j < ps[i]->spec.ncontainers; j++) {
			const kp_container *c = &ps[i]->spec.containers[j];
			if (strcmp(c->name, k->name) || !c->last_reason || strcmp(c->last_reason, "OOMKilled"))
				continue;
			/* killed at another limit (raised since, or lowered by a
			 * rollout in progress): not the limit a change would lower */
			if (c->mem_limit_b != k->mem_limit_b)
				continue;
			if (c->last_finished && c->last_finished < oldest)
				continue;
			if (!*pod || c->last_finished > *when)
				*pod = ps[i], *when = c->last_finished;
		}
	return *pod != NULL;
}

/* What the workload's VPA does to container k: the container's own policy
 * entry, else the "*" one, else the VPA's defaults (both resources,
 * requests and limits). */
typedef struct {
	const kp_vpa *vpa;
	unsigned owned;        /* KP_VPA_CPU | KP_VPA_MEMORY it rewrites (updating, mode not Off) */
	bool owns_limits;      /* controlledValues RequestsAndLimits: the limits follow its requests */
	const kp_vpa_rec *rec; /* its recommendation for k, NULL: none yet */
} vpa_view;

static void vpa_view_of(const kp_workload *w, const kp_container *k, vpa_view *v)
{
	memset(v, 0, sizeof(*v));
	const kp_vpa *vpa = w->vpa;
	if (!vpa)
		return;
	v->vpa = vpa;
	const kp_vpa_policy *own = NULL, *star = NULL;
	for (size_t i = 0; i < vpa->npolicies; i++) {
		if (!strcmp(vpa->policies[i].container, k->name) && !own)
			own = &vpa->policies[i];
		else if (!strcmp(vpa->policies[i].container, "*") && !star)
			star = &vpa->policies[i];
	}
	const kp_vpa_policy *p = own ? own : star;
	if (vpa->updating && !(p && p->off)) {
		v->owned = p ? p->controlled : (KP_VPA_CPU | KP_VPA_MEMORY);
		v->owns_limits = !(p && p->requests_only);
	}
	for (size_t i = 0; i < vpa->nrecs; i++)
		if (!strcmp(vpa->recs[i].container, k->name))
			v->rec = &vpa->recs[i];
}

/* "VerticalPodAutoscaler NAME" and, when it targets the workload's
 * controller, " (through its target Prometheus main)". */
static void vpa_name(const kp_workload *w, const kp_vpa *vpa, char *out, size_t n)
{
	bool via_owner = strcmp(vpa->target_kind, kp_workload_kind_name(w->wkind)) ||
			 strcmp(vpa->target_name, w->meta.name);
	snprintf(out, n, "VerticalPodAutoscaler %s%s%s%s%s", vpa->meta.name, via_owner ? " (through its target " : "",
		 via_owner ? vpa->target_kind : "", via_owner ? " " : "", via_owner ? vpa->target_name : "");
	if (via_owner && strlen(out) + 2 <= n)
		strcat(out, ")");
}

/* "120m CPU and 300Mi memory" from a recommendation's bound, what of it is known. */
static void vpa_pair(int64_t cpu, int64_t mem, char *out, size_t n)
{
	char a[32] = "", b[32] = "";
	if (cpu != KP_UNSET)
		kp_format_cpu(cpu, a, sizeof(a));
	if (mem != KP_UNSET)
		kp_format_bytes(mem, b, sizeof(b));
	snprintf(out, n, "%s%s%s%s%s", a, *a ? " CPU" : "", *a && *b ? " and " : "", b, *b ? " memory" : "");
	if (!*a && !*b)
		snprintf(out, n, "nothing");
}

/* Whether the workload's controller is not a Kubernetes workload but an
 * operator's resource, which writes the pod template. */
static bool operator_managed(const kp_workload *w)
{
	kp_workload_kind k;
	return w->meta.owner_controller && w->meta.owner_kind && w->meta.owner_name &&
	       !kp_workload_kind_parse(w->meta.owner_kind, &k) && strcmp(w->meta.owner_kind, "Node") != 0;
}

static void judge_container(kp_analyze_ctx *x, const kp_workload *w, const kp_container *k,
			    const kp_usage *const *us, size_t nus, const params_t *pp)
{
	const kp_config *cfg = x->cfg;
	const char *kind = kp_workload_kind_name(w->wkind), *api = kp_workload_api_version(w->wkind);
	combined_t u;
	combine(us, nus, k->name, pp->cpu_percentile, &u);
	if (u.pods == 0) {
		if (live_prometheus(x)) /* read live: say where to look */
			kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
					 "container %s: Prometheus has no cAdvisor series for its pods over the window "
					 "(not measured, not idle): is its node's kubelet scraped, or do "
					 "metric_relabel_configs drop them?",
					 k->name);
		else
			kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
					 "container %s: no usage data in usage.json (not measured, not idle)", k->name);
		return;
	}
	double history_h = (double)(u.last - u.first) / 3600.0;
	if (is_batch(w) || (k->init && !k->sidecar)) {
		/* Batch work and plain init containers are judged per run:
		 * enough runs, not enough hours. */
		if ((int64_t)u.pods < cfg->rules.rightsizing.min_batch_runs) {
			kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
					 "container %s: only %zu run%s observed (minimum %d)", k->name, u.pods,
					 u.pods == 1 ? "" : "s", cfg->rules.rightsizing.min_batch_runs);
			return;
		}
	} else if (history_h < cfg->rules.rightsizing.min_history_hours && !metrics_server(x)) {
		/* metrics-server has no history at all, only one sample: judged
		 * all the same, with confidence low (see below), as that is all
		 * a cluster without Prometheus can say */
		kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
				 "container %s: only %.1f hours of usage history (minimum %.0f)", k->name, history_h,
				 cfg->rules.rightsizing.min_history_hours);
		return;
	}
	if (!u.cpu_known || !u.mem_known) {
		kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
				 "container %s: usage has no %s summary", k->name, u.cpu_known ? "memory" : "CPU");
		return;
	}
	if (k->cpu_request_m == KP_UNSET && k->mem_request_b == KP_UNSET) {
		kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
				 "container %s: no CPU or memory requests set (BestEffort): nothing to rightsize",
				 k->name);
		return;
	}

	int64_t cpu_target = round_up(fmax(u.cpu_ref * (1.0 + pp->cpu_margin), (double)cfg->rules.rightsizing.cpu_floor_m), 5);
	int64_t mem_target = round_up(fmax(u.mem_peak * (1.0 + pp->memory_margin), (double)cfg->rules.rightsizing.memory_floor_b), MIB);
	int64_t oom_floor = 0;
	if (u.oom_kills > 0) {
		int64_t at = u.limit_at_oom != KP_UNSET ? u.limit_at_oom
			     : k->mem_limit_b != KP_UNSET ? k->mem_limit_b
							  : (int64_t)u.mem_peak;
		oom_floor = round_up(fmax((double)at * 1.2, u.mem_peak + 100.0 * MIB), MIB);
		if (oom_floor > mem_target)
			mem_target = oom_floor;
	}

	/* The language runtime's own ceiling (a JVM's -Xmx, GOMEMLIMIT ...):
	 * it grows to it whatever the window showed, so memory never goes
	 * below it plus its non-heap overhead; a percentage of no limit is no
	 * bound at all, and memory is then not lowered */
	int64_t rt_heap = 0, rt_floor = 0;
	if (k->rt_setting) {
		kp_runtime_mem rm = {k->rt_heap_b, k->rt_heap_pct, "", 0};
		rt_heap = kp_runtime_heap(&rm, k->mem_limit_b);
		if (rt_heap > 0) {
			double over = fmax((double)rt_heap * cfg->rules.rightsizing.runtime_overhead_ratio,
					   (double)cfg->rules.rightsizing.runtime_overhead_min_b);
			rt_floor = round_up((double)rt_heap + over, MIB);
			if (rt_floor > mem_target)
				mem_target = rt_floor;
		}
	}
	/* A VPA's recommendation is a second opinion on the same usage: never
	 * propose less than what its recommender calls the least it needs
	 * (lowerBound, below which its updater would evict the pod; or its
	 * target, rightsizing.vpa_floor). Only where the VPA does not set the
	 * request itself (then nothing is proposed). */
	vpa_view vv;
	vpa_view_of(w, k, &vv);
	bool vpa_target = strcmp(cfg->rules.rightsizing.vpa_floor, "target") == 0;
	int64_t vpa_cpu = vv.rec ? (vpa_target ? vv.rec->target_cpu_m : vv.rec->lower_cpu_m) : KP_UNSET;
	int64_t vpa_mem = vv.rec ? (vpa_target ? vv.rec->target_mem_b : vv.rec->lower_mem_b) : KP_UNSET;
	int64_t vpa_cpu_floor = 0, vpa_mem_floor = 0;
	if (!(vv.owned & KP_VPA_CPU) && vpa_cpu > 0) {
		vpa_cpu_floor = round_up((double)vpa_cpu, 5);
		if (vpa_cpu_floor > cpu_target)
			cpu_target = vpa_cpu_floor;
	}
	if (!(vv.owned & KP_VPA_MEMORY) && vpa_mem > 0) {
		vpa_mem_floor = round_up((double)vpa_mem, MIB);
		if (vpa_mem_floor > mem_target)
			mem_target = vpa_mem_floor;
	}
	bool mem_under = u.oom_kills > 0 || (k->mem_request_b != KP_UNSET && u.mem_peak > (double)k->mem_request_b);
	bool cpu_under = k->cpu_request_m != KP_UNSET && u.cpu_ref > (double)k->cpu_request_m &&
			 cpu_target - k->cpu_request_m >= cfg->rules.rightsizing.min_cpu_change_m;
	/* Throttled by its CPU limit: the limit is the cause, and what the
	 * container would use above it was never observed (usage is capped
	 * there), so the limit is changed and the CPU request is never
	 * lowered on that censored usage. */
	bool throttled = k->cpu_limit_m != KP_UNSET && u.throttled >= cfg->rules.rightsizing.throttling_threshold;
	bool cpu_over = !cpu_under && !throttled &&
			significant(cfg, k->cpu_request_m, cpu_target, cfg->rules.rightsizing.min_cpu_change_m);
	bool mem_over = !mem_under && rt_heap >= 0 &&
			significant(cfg, k->mem_request_b, mem_target, cfg->rules.rightsizing.min_memory_change_b);
	/* What an updating VPA sets is not kopilot's to change: those
	 * proposals are dropped, and when nothing else is left the skip says
	 * what the VPA does instead. */
	unsigned vpa_took = 0;
	if (vv.owned) {
		bool any = cpu_over || cpu_under || mem_over || mem_under || throttled;
		if (vv.owned & KP_VPA_CPU) {
			if (cpu_over || cpu_under || (throttled && vv.owns_limits))
				vpa_took |= KP_VPA_CPU;
			cpu_over = cpu_under = false;
			if (vv.owns_limits)
				throttled = false;
		}
		if ((vv.owned & KP_VPA_MEMORY) && (mem_over || mem_under)) {
			vpa_took |= KP_VPA_MEMORY;
			mem_over = mem_under = false;
		}
		if (any && !(cpu_over || cpu_under || mem_over || mem_under || throttled)) {
			char who[200], now[96];
			vpa_name(w, vv.vpa, who, sizeof(who));
			if (vv.rec)
				vpa_pair(vv.owned & KP_VPA_CPU ? vv.rec->target_cpu_m : KP_UNSET,
					 vv.owned & KP_VPA_MEMORY ? vv.rec->target_mem_b : KP_UNSET, now, sizeof(now));
			kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
					 "container %s: %s set by %s (updateMode %s), which would undo a change here when "
					 "it next updates the pods; %s%s%s",
					 k->name,
					 vpa_took == (KP_VPA_CPU | KP_VPA_MEMORY) ? "its CPU and memory requests are"
					 : vpa_took & KP_VPA_CPU			 ? "its CPU request is"
										 : "its memory request is",
					 who, vv.vpa->update_mode ? vv.vpa->update_mode : "Auto",
					 !vv.rec ? "it has no recommendation for this container yet"
					 : vpa_took == (KP_VPA_CPU | KP_VPA_MEMORY) ? "it sets them to its target, now "
										     : "it sets it to its target, now ",
					 vv.rec ? now : "", vv.rec ? ": tune the VPA (minAllowed, maxAllowed) instead" : "");
			return;
		}
	}
	/* OOM-killed at this very limit (pod status): the window's peak does
	 * not show what it needed then, so memory is not lowered */
	const kp_pod *oom_pod = NULL;
	int64_t oom_when = 0;
	bool oom_held = mem_over && oom_at_current_limit(x, w, k, &oom_pod, &oom_when);
	if (oom_held) {
		mem_over = false;
		if (!(mem_under || cpu_under || throttled) && !cpu_over) {
			char lim[32], t[32];
			kp_format_bytes(k->mem_limit_b, lim, sizeof(lim));
			kp_time_format(oom_when, t);
			kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
					 "container %s: memory not lowered: pod %s was OOM-killed at its current memory "
					 "limit %s%s%s (pod status), though the window's peak is lower",
					 k->name, oom_pod->meta.name, k->mem_limit_b != KP_UNSET ? lim : "(none)",
					 oom_when ? " at " : "", oom_when ? t : "");
			return;
		}
	}
	bool under = mem_under || cpu_under || throttled;
	if (!under && !cpu_over && !mem_over)
		return;

	/* Batch pods hold their requests only while they run: the average
	 * number running over the window is what the requests cost. */
	double replicas = workload_replicas(w);
	/* The pods' lifetimes in the window add up to the average number of
	 * replicas that ran: the right multiplier for batch work and for HPA
	 * targets, whose replica count today is one moment of a curve. Only
	 * when the usage covers the window (step-sized gaps aside) is it used
	 * for an HPA; otherwise the HPA's current count stands. */
	double window = (double)(x->cluster->window_end - x->cluster->window_start);
	double busy = 0;
	for (size_t i = 0; i < nus; i++)
		if (strcmp(us[i]->container, k->name) == 0 && us[i]->last_seen > us[i]->first_seen)
			busy += (double)(us[i]->last_seen - us[i]->first_seen);
	double average = window > 0 ? round(busy / window * 10000.0) / 10000.0 : 0;
	bool hpa_average = false;
	if (is_batch(w)) {
		replicas = average;
	} else if (w->hpa && average > 0 && (double)(u.last - u.first) >= 0.9 * window) {
		replicas = average;
		hpa_average = true;
	}
	kp_sizes cur, rec;
	kp_sizes_unset(&cur);
	cur.replicas = replicas;
	cur.cpu_request_m = k->cpu_request_m;
	cur.cpu_limit_m = k->cpu_limit_m;
	cur.mem_request_b = k->mem_request_b;
	cur.mem_limit_b = k->mem_limit_b;
	rec = cur;
	if (under) {
		if (cpu_under)
			rec.cpu_request_m = cpu_target;
		if (mem_under)
			rec.mem_request_b = mem_target > k->mem_request_b ? mem_target : k->mem_request_b;
	} else {
		if (cpu_over)
			rec.cpu_request_m = cpu_target;
		if (mem_over)
			rec.mem_request_b = mem_target;
	}
	/* A throttling CPU limit is raised (to twice itself, or more if the
	 * request grows past the ratio the owners chose: usage above the limit
	 * is unknown, so each run doubles it until the throttling stops) or
	 * removed, as rightsizing.throttled_cpu_limit says. A limit reserves
	 * nothing, so the change costs nothing by itself: the money is the
	 * request change. */
	bool remove_limit = throttled && strcmp(cfg->rules.rightsizing.throttled_cpu_limit, "remove") == 0;
	if (throttled && remove_limit) {
		rec.cpu_limit_m = KP_UNSET;
	} else if (throttled) {
		double want = 2.0 * (double)k->cpu_limit_m;
		if (k->cpu_request_m > 0 && rec.cpu_request_m != KP_UNSET)
			want = fmax(want, (double)rec.cpu_request_m * (double)k->cpu_limit_m / (double)k->cpu_request_m);
		rec.cpu_limit_m = round_up(want, 5);
	}
	/* Limits policy: never add a CPU limit; never leave a limit below its
	 * request (the API would reject it); after an OOM the limit is what
	 * killed the container, so it rises with the request. */
	if (rec.cpu_limit_m != KP_UNSET && rec.cpu_request_m != KP_UNSET && rec.cpu_limit_m < rec.cpu_request_m)
		rec.cpu_limit_m = rec.cpu_request_m;
	if (rec.mem_limit_b != KP_UNSET && rec.mem_request_b != KP_UNSET && rec.mem_limit_b < rec.mem_request_b)
		rec.mem_limit_b = rec.mem_request_b;

	/* Whether the change is worth a pull request in money is decided by
	 * the recommend stage at the finding's own price (pipeline/money.h):
	 * rightsizing.min_monthly_savings applies there, to what the user sees. */
	kp_finding *f = kp_findings_add(x->out, under ? KP_CAT_UNDER_PROVISIONED : KP_CAT_OVER_PROVISIONED, api, kind,
					w->meta.namespace_, w->meta.name, k->name);
	f->current = cur;
	f->recommended = rec;
	f->has_recommended = true;

	char win[16], a[32], b[32], c[32];
	window_label(u.last - u.first, win, sizeof(win));
	kp_format_cpu(kp_quantity_ceil(u.cpu_ref), a, sizeof(a));
	if (k->cpu_request_m != KP_UNSET)
		kp_format_cpu(k->cpu_request_m, b, sizeof(b));
	else
		snprintf(b, sizeof(b), "not set");
	const char *unit = is_batch(w) ? (u.pods == 1 ? "run" : "runs") : (u.pods == 1 ? "pod" : "pods");
	if (metrics_server(x)) /* one sample: no percentile, no peak, say so */
		kp_finding_add_evidence(f, "cpu_sample_millicores", u.cpu_ref, true, "millicores",
					"CPU was %s in one metrics-server sample (highest of %zu %s), not a percentile "
					"over a window; the request is %s per pod",
					a, u.pods, unit, b);
	else
		kp_finding_add_evidence(f, pp->cpu_percentile == 100 ? "cpu_max_millicores" : "cpu_percentile_millicores",
					u.cpu_ref, true, "millicores",
					"CPU p%d was %s (highest of %zu %s over %s); the request is %s per pod",
					pp->cpu_percentile, a, u.pods, unit, win, b);
	kp_format_bytes(kp_quantity_ceil(u.mem_peak), a, sizeof(a));
	if (k->mem_request_b != KP_UNSET)
		kp_format_bytes(k->mem_request_b, b, sizeof(b));
	else
		snprintf(b, sizeof(b), "not set");
	if (metrics_server(x))
		kp_finding_add_evidence(f, "memory_sample_bytes", u.mem_peak, true, "bytes",
					"Memory working set was %s in one metrics-server sample (highest of %zu %s), not a "
					"peak over a window; the request is %s per pod",
					a, u.pods, unit, b);
	else
		kp_finding_add_evidence(f, "memory_max_bytes", u.mem_peak, true, "bytes",
					"Peak memory working set was %s (highest of %zu %s over %s); the request is %s per pod",
					a, u.pods, unit, win, b);
	kp_finding_stamp_evidence(f, x->cluster->usage_source ? x->cluster->usage_source : "snapshot", win, u.samples);
	if (u.oom_kills > 0) {
		kp_format_bytes(u.limit_at_oom != KP_UNSET ? u.limit_at_oom : k->mem_limit_b, a, sizeof(a));
		kp_finding_add_evidence(f, "oom_kills", (double)u.oom_kills, true, "count",
					"OOM-killed %lld time%s in the window%s%s; the working set seen before a kill "
					"under-states what the container needed, so memory is raised to at least "
					"max(limit x 1.2, peak + 100Mi)",
					(long long)u.oom_kills, u.oom_kills == 1 ? "" : "s",
					(u.limit_at_oom != KP_UNSET || k->mem_limit_b != KP_UNSET) ? " at a memory limit of " : "",
					(u.limit_at_oom != KP_UNSET || k->mem_limit_b != KP_UNSET) ? a : "");
	}
	if (k->rt_setting) {
		char h[32], fl[32];
		if (rt_heap < 0) {
			kp_finding_add_evidence(f, "runtime_memory", 0, false, NULL,
						"%s: the runtime takes a share of the node's memory (no memory limit), "
						"so memory is not lowered",
						k->rt_setting);
		} else {
			kp_format_bytes(rt_heap, h, sizeof(h));
			kp_format_bytes(rt_floor, fl, sizeof(fl));
			kp_finding_add_evidence(f, "runtime_memory", (double)rt_floor, true, "bytes",
						"%s: the runtime may take %s whatever the window showed; memory is kept at "
						"or above that plus its non-heap overhead, %s",
						k->rt_setting, h, fl);
		}
	}
	if (vv.owned) {
		/* what is left: the other resource, or (both owned, limits not)
		 * a throttling CPU limit */
		char who[200];
		vpa_name(w, vv.vpa, who, sizeof(who));
		bool both = vv.owned == (KP_VPA_CPU | KP_VPA_MEMORY), cpu = vv.owned & KP_VPA_CPU;
		kp_finding_add_evidence(f, "vpa_owner", 0, false, NULL,
					"%s (updateMode %s) sets this container's %s%s, which a change here would not "
					"survive, so only its %s is proposed",
					who, vv.vpa->update_mode ? vv.vpa->update_mode : "Auto",
					both ? "CPU and memory requests" : cpu ? "CPU request" : "memory request",
					vv.owns_limits ? (both ? " and limits" : " and limit") : "",
					both ? "CPU limit" : cpu ? "memory" : "CPU");
	}
	if (vv.rec && (vv.owned & (KP_VPA_CPU | KP_VPA_MEMORY)) != (KP_VPA_CPU | KP_VPA_MEMORY)) {
		char who[200], tg[96], lo[96];
		vpa_name(w, vv.vpa, who, sizeof(who));
		vpa_pair(vv.owned & KP_VPA_CPU ? KP_UNSET : vv.rec->target_cpu_m,
			 vv.owned & KP_VPA_MEMORY ? KP_UNSET : vv.rec->target_mem_b, tg, sizeof(tg));
		vpa_pair(vpa_cpu_floor ? vpa_cpu : KP_UNSET, vpa_mem_floor ? vpa_mem : KP_UNSET, lo, sizeof(lo));
		kp_finding_add_evidence(f, "vpa_recommendation", 0, false, NULL,
					"%s %s: target %s%s%s%s%s", who,
					vv.vpa->updating ? "also recommends what it does not set"
							 : "only recommends (updateMode Off), which is input here",
					tg, vpa_cpu_floor || vpa_mem_floor ? "; the proposal never goes below its " : "",
					vpa_cpu_floor || vpa_mem_floor ? (vpa_target ? "target" : "lower bound") : "",
					vpa_cpu_floor || vpa_mem_floor ? " (rightsizing.vpa_floor), " : "",
					vpa_cpu_floor || vpa_mem_floor ? lo : "");
	}
	if (operator_managed(w)) {
		kp_finding_add_evidence(f, "requests_owner", 0, false, NULL,
					"%s %s is managed by %s %s (its controller), which writes its pod template: make "
					"this change in the %s's resources, since a change to the %s itself would be "
					"reverted",
					kind, w->meta.name, w->meta.owner_kind, w->meta.owner_name, w->meta.owner_kind, kind);
		f->managed_by_kind = kp_xstrdup(w->meta.owner_kind);
		f->managed_by_name = kp_xstrdup(w->meta.owner_name);
	}
	if (oom_held) {
		char t[32];
		kp_format_bytes(k->mem_limit_b, a, sizeof(a));
		kp_time_format(oom_when, t);
		kp_finding_add_evidence(f, "oom_killed_at_limit", (double)k->mem_limit_b, k->mem_limit_b != KP_UNSET,
					"bytes",
					"Memory not lowered: pod %s was OOM-killed at its current memory limit %s%s%s (pod "
					"status, lastState), so the window's lower peak does not show what it needs",
					oom_pod->meta.name, k->mem_limit_b != KP_UNSET ? a : "(none)", oom_when ? " at " : "",
					oom_when ? t : "");
	}
	if (throttled) {
		char lim[96];
		kp_format_cpu(k->cpu_limit_m, a, sizeof(a));
		if (remove_limit) {
			snprintf(lim, sizeof(lim), "removed (rightsizing.throttled_cpu_limit: remove)");
		} else {
			kp_format_cpu(rec.cpu_limit_m, c, sizeof(c));
			snprintf(lim, sizeof(lim), "raised to %s", c);
		}
		kp_finding_add_evidence(f, "cpu_throttled_ratio", u.throttled, true, "ratio",
					"CPU was throttled in %.0f%% of scheduling periods by its %s CPU limit: the limit "
					"is the cause and usage above it was never observed, so the limit is %s (a limit "
					"reserves nothing: that costs nothing by itself) and the CPU request is not "
					"lowered on usage the limit capped",
					u.throttled * 100.0, a, lim);
	}
	/* How the recommendation was made, so a reviewer can check the math. */
	kp_format_cpu(rec.cpu_request_m != KP_UNSET ? rec.cpu_request_m : 0, a, sizeof(a));
	kp_format_bytes(rec.mem_request_b != KP_UNSET ? rec.mem_request_b : 0, b, sizeof(b));
	kp_format_bytes((int64_t)u.mem_peak, c, sizeof(c));
	kp_finding_add_evidence(f, "strategy", 0, false, NULL,
				"Strategy %s: CPU request = p%d x %.2f (floor %lldm), memory request = peak x %.2f "
				"(floor %lldMi), never below the peak %s; proposed %s CPU and %s memory per pod%s%s%s",
				KP_RIGHTSIZING_STRATEGY, pp->cpu_percentile, 1.0 + pp->cpu_margin,
				(long long)cfg->rules.rightsizing.cpu_floor_m, 1.0 + pp->memory_margin,
				(long long)(cfg->rules.rightsizing.memory_floor_b / MIB), c, a, b, pp->origin[0] ? " (tuned by annotations: " : "",
				pp->origin, pp->origin[0] ? ")" : "");
	if (hpa_average)
		kp_finding_add_evidence(f, "average_replicas", replicas, true, "pods",
					"HPA %s varied the replica count; %.2f replicas ran on average over the window "
					"(%lld now), and savings are counted on that average",
					w->hpa->meta.name, replicas, (long long)w->hpa->current_replicas);
	if (is_batch(w))
		kp_finding_add_evidence(f, "average_running_pods", replicas, true, "pods",
					"Batch work: its pods ran %.2f%% of the window on average, so savings are the "
					"request change times that share of the month",
					replicas * 100.0);
	if (k->sidecar)
		kp_finding_add_evidence(f, "container_role", 0, false, NULL,
					"Native sidecar (init container with restartPolicy Always): it runs for the pod's "
					"whole life and is sized like a regular container");
	else if (k->init)
		kp_finding_add_evidence(f, "container_role", 0, false, NULL,
					"Init container: it runs before the others, and the pod reserves the larger of its "
					"request and the sum of the other containers' requests, so lowering it frees "
					"capacity only down to that sum");

	kp_risk risk = KP_RISK_LOW;
	if (w->hpa && (w->hpa->scales_on_cpu || w->hpa->scales_on_memory)) {
		const kp_hpa *h = w->hpa;
		bool cpu_moves = h->scales_on_cpu && rec.cpu_request_m != cur.cpu_request_m;
		bool mem_moves = h->scales_on_memory && rec.mem_request_b != cur.mem_request_b;
		if (cpu_moves || mem_moves)
			risk = KP_RISK_MEDIUM;
		if (cpu_moves)
			hpa_follows(f, h, kind, "CPU", h->cpu_target_utilization, h->cpu_metric_index, cur.cpu_request_m,
				    rec.cpu_request_m);
		if (mem_moves)
			hpa_follows(f, h, kind, "memory", h->memory_target_utilization, h->memory_metric_index,
				    cur.mem_request_b, rec.mem_request_b);
	}
	if (under)
		risk = risk < KP_RISK_MEDIUM ? KP_RISK_MEDIUM : risk; /* bigger pods may not fit on nodes */

	double days = (double)(u.last - u.first) / 86400.0;
	bool single_sample = u.samples <= (int64_t)u.pods; /* metrics-server: one sample per pod */
	if (days >= 7.0 && u.samples >= 1000 && !single_sample)
		f->confidence = KP_CONF_HIGH;
	else if (!single_sample)
		f->confidence = KP_CONF_MEDIUM;
	else
		f->confidence = KP_CONF_LOW;
	if (f->confidence != KP_CONF_HIGH && risk < KP_RISK_MEDIUM)
		risk = KP_RISK_MEDIUM;
	f->risk = risk;
}

static bool has_usage_for(const kp_usage *const *us, size_t n, const char *container)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(us[i]->container, container) == 0)
			return true;
	return false;
}

void kp_rule_rightsizing(kp_analyze_ctx *x)
{
	kp_cluster *c = x->cluster;
	if (!c->usage_collected) {
		for (size_t i = 0; i < c->workloads.len; i++) {
			const kp_workload *w = &c->workloads.items[i];
			if (w->wkind == KP_WL_DEPLOYMENT || w->wkind == KP_WL_STATEFULSET || w->wkind == KP_WL_DAEMONSET)
				kp_findings_skip(x->out, kp_workload_api_version(w->wkind), kp_workload_kind_name(w->wkind),
						 w->meta.namespace_, w->meta.name,
						 "usage not measured (no usage summaries were collected: see \"missing\")");
		}
		return;
	}
	size_t nw = c->workloads.len;
	for (size_t i = 0; i < nw; i++) {
		const kp_workload *w = &c->workloads.items[i];
		if (w->wkind == KP_WL_REPLICASET)
			continue; /* judged through its Deployment */
		if (w->wkind == KP_WL_JOB && w->meta.owner_kind && strcmp(w->meta.owner_kind, "CronJob") == 0)
			continue; /* judged through its CronJob, over all its runs */
		const char *kind = kp_workload_kind_name(w->wkind), *api = kp_workload_api_version(w->wkind);
		if (w->meta.ignored || kp_namespace_ignored(c, w->meta.namespace_)) {
			kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
					 "excluded by kopilot.io/ignore=true");
			continue;
		}
		if ((w->replicas == 0 && !is_batch(w)) || kp_analyze_is_idle(x, w))
			continue; /* nothing running to size, or reported as idle as a whole */
		size_t n;
		const kp_usage *const *wl_usage = kp_workload_usage(x, i, &n);
		if (n == 0 && is_batch(w))
			continue; /* a Job or CronJob with no run in the window has nothing to judge */
		char bad[300];
		params_t pp;
		if (!resolve_params(x->cfg, namespace_meta(c, w->meta.namespace_), &w->meta, &pp, bad, sizeof(bad))) {
			kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name, "%s", bad);
			continue;
		}
		if (n == 0) {
			if (live_prometheus(x))
				kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
						 "Prometheus has no cAdvisor series for its pods over the window (not "
						 "measured, not idle): is its node's kubelet scraped, or do "
						 "metric_relabel_configs drop them?");
			else
				kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
						 "no usage data for its pods in usage.json (not measured, not idle)");
			continue;
		}
		size_t orphans = kp_analyze_unattributed(x, w->meta.namespace_);
		if (orphans) {
			/* those pods' usage may be this workload's: sizing (or calling
			 * idle) from the rest would rest on what is missing */
			kp_findings_skip(x->out, api, kind, w->meta.namespace_, w->meta.name,
					 "%zu pod%s in namespace %s name%s an owner that is not in the snapshot: their "
					 "usage cannot be attributed, so no workload there is sized or judged idle",
					 orphans, orphans == 1 ? "" : "s", w->meta.namespace_, orphans == 1 ? "s" : "");
			continue;
		}
		for (size_t k = 0; k < w->spec.ncontainers; k++) {
			const kp_container *ct = &w->spec.containers[k];
			/* A plain init container with no usage in the window ran
			 * before it began: nothing to judge, and no reason to say so. */
			if (ct->init && !ct->sidecar && !has_usage_for(wl_usage, n, ct->name))
				continue;
			judge_container(x, w, ct, wl_usage, n, &pp);
		}
	}
}
