/*
 * idle_workload.c - running workloads whose pods did close to nothing over
 * the whole window (category idle-workload).
 *
 * A Deployment, StatefulSet or DaemonSet with replicas > 0 is idle when all
 * of these hold over every usage entry resolved to it (live pods and pods a
 * rollout replaced, every container, init containers included):
 *   - max over pods of CPU p95  <= idle.cpu_millicores      (default 5m);
 *   - max over pods of CPU max  <= idle.cpu_max_millicores  (default 25m):
 *     one burst above it means the workload does something now and then;
 *   - memory is flat: max over pods of the memory peak minus min over pods
 *     of the memory median <= idle.memory_variation_bytes (default 16Mi);
 *   - no restarts and no OOM kills in any pod (a crash-looping pod uses no
 *     CPU either, but it is broken, not idle); unknown counts are not zero;
 *   - usage history (latest last_seen - earliest first_seen, plus one
 *     sampling step: the last sample covers a step too) and the
 *     workload's age (creationTimestamp) both reach idle.min_history_days
 *     (default 7): a quarterly or weekly job-like service needs a long look.
 * Every CPU and memory summary must be known: a missing value is "not
 * measured", never "zero".
 *
 * An idle workload without requests is not reported (it costs nothing);
 * one whose requests cost less than rightsizing.min_monthly_savings a month
 * at its own price is dropped by the recommend stage (clutter, not spend). An idle workload is marked
 * (kp_analyze_mark_idle), so rightsizing (which runs after this rule) does
 * not also propose shrinking it, and gets one finding for
 * the whole workload (container NULL) whose current sizes are the replicas
 * (the HPA's current count when an HPA targets it) and the per-pod sum of the
 * requests of its regular containers and native sidecars (unset counts 0).
 * Confidence is high with 14 days of history or more, else medium; risk is
 * MEDIUM: scaling to zero is approval-gated by the safety layer.
 *
 * Idle is a strong signal, not proof: a warm standby, a once-a-quarter batch
 * endpoint or a service nobody calls yet look exactly the same. The action
 * is to ask the owners, not to delete.
 *
 * Not flagged, and why:
 *   - workloads with no usage entry: not measured, never idle (rightsizing
 *     already lists them as skipped; no second entry here);
 *   - usage.json missing: rightsizing lists every workload as skipped;
 *   - excluded by kopilot.io/ignore=true: rightsizing lists the skip;
 *   - workloads at zero replicas (the zero-replica rule looks at those);
 *   - HPA targets are still judged (an HPA at its minimum can hide an idle
 *     service), with the HPA's current replica count.
 * Skipped with a reason (only when the usage otherwise looks idle, so the
 * list names what a person could look at, not every young workload): history
 * or age below the minimum, no creationTimestamp, restarts or OOM kills
 * unknown.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/analyze/analyze.h"
#include "pipeline/quantity.h"

typedef struct {
	size_t entries;
	int64_t samples, first, last;
	double cpu_p95, cpu_max, mem_max, mem_p50_min;
	int64_t restarts, oom_kills;
	bool values_known;   /* every entry has CPU p95/max and memory p50/max */
	bool counters_known; /* every entry has restarts and oom_kills */
} idle_usage;

static void idle_combine(const kp_usage *const *us, size_t n, idle_usage *o)
{
	memset(o, 0, sizeof(*o));
	o->first = INT64_MAX;
	o->mem_p50_min = INFINITY;
	o->values_known = o->counters_known = true;
	for (size_t i = 0; i < n; i++) {
		const kp_usage *u = us[i];
		o->entries++;
		if (u->samples > 0)
			o->samples += u->samples;
		if (u->first_seen && u->first_seen < o->first)
			o->first = u->first_seen;
		if (u->last_seen > o->last)
			o->last = u->last_seen;
		if (u->cpu_p95 < 0 || u->cpu_max < 0 || u->mem_max < 0 || u->mem_p50 < 0)
			o->values_known = false;
		o->cpu_p95 = fmax(o->cpu_p95, u->cpu_p95);
		o->cpu_max = fmax(o->cpu_max, u->cpu_max);
		o->mem_max = fmax(o->mem_max, u->mem_max);
		if (u->mem_p50 >= 0)
			o->mem_p50_min = fmin(o->mem_p50_min, u->mem_p50);
		if (u->restarts == KP_UNSET || u->oom_kills == KP_UNSET)
			o->counters_known = false;
		if (u->restarts > 0)
			o->restarts += u->restarts;
		if (u->oom_kills > 0)
			o->oom_kills += u->oom_kills;
	}
	if (o->first == INT64_MAX)
		o->first = 0;
	if (!isfinite(o->mem_p50_min))
		o->mem_p50_min = 0;
}

static double idle_replicas(const kp_workload *w)
{
	/* The HPA decides how many pods run; its current count is what the
	 * snapshot knows of the average. */
	if (w->hpa && w->hpa->current_replicas > 0)
		return (double)w->hpa->current_replicas;
	return (double)w->replicas;
}

static void idle_requests(const kp_workload *w, int64_t *cpu_m, int64_t *mem_b)
{
	*cpu_m = 0;
	*mem_b = 0;
	for (size_t i = 0; i < w->spec.ncontainers; i++) {
		const kp_container *k = &w->spec.containers[i];
		if (k->init && !k->sidecar)
			continue; /* runs once at start: holds nothing afterwards */
		if (k->cpu_request_m > 0)
			*cpu_m = kp_add_sat(*cpu_m, k->cpu_request_m);
		if (k->mem_request_b > 0)
			*mem_b = kp_add_sat(*mem_b, k->mem_request_b);
	}
}

static void idle_judge(kp_analyze_ctx *x, kp_workload *w, const kp_usage *const *us, size_t n)
{
	const kp_config *cfg = x->cfg;
	const char *kind = kp_workload_kind_name(w->wkind), *api = kp_workload_api_version(w->wkind);
	const char *ns = w->meta.namespace_, *name = w->meta.name;
	idle_usage u;
	idle_combine(us, n, &u);
	if (!u.values_known)
		return; /* part of it not measured: cannot claim it did nothing */
	double variation = u.mem_max - u.mem_p50_min;
	bool looks_idle = u.cpu_p95 <= cfg->rules.idle.cpu_m && u.cpu_max <= cfg->rules.idle.cpu_max_m &&
			  variation <= (double)cfg->rules.idle.memory_variation_b && u.restarts == 0 && u.oom_kills == 0;
	if (!looks_idle)
		return;
	double min_s = cfg->rules.idle.min_history_days * 86400.0;
	/* Each sample stands for one step: a full 14-day window at 60 s has its
	 * last sample one step before the end, and still covers 14 days. */
	double step = x->cluster->step_seconds > 0 ? (double)x->cluster->step_seconds : 0;
	double history = (double)(u.last - u.first) + (u.last > u.first ? step : 0);
	if (!u.counters_known) {
		kp_findings_skip(x->out, api, kind, ns, name,
				 "idle-workload: usage looks idle but restarts or OOM kills are unknown in usage.json: "
				 "not judged idle");
		return;
	}
	if (history < min_s) {
		kp_findings_skip(x->out, api, kind, ns, name,
				 "idle-workload: usage looks idle but covers only %.1f days (minimum %g): not judged idle",
				 history / 86400.0, cfg->rules.idle.min_history_days);
		return;
	}
	if (!w->meta.created) {
		kp_findings_skip(x->out, api, kind, ns, name,
				 "idle-workload: no creationTimestamp: cannot tell whether it is older than %g days",
				 cfg->rules.idle.min_history_days);
		return;
	}
	double age = (double)(x->now - w->meta.created);
	if (age < min_s) {
		kp_findings_skip(x->out, api, kind, ns, name,
				 "idle-workload: created %.1f days ago (minimum %g): too young to call idle", age / 86400.0,
				 cfg->rules.idle.min_history_days);
		return;
	}

	/* An idle workload that reserves nothing (no requests: BestEffort)
	 * costs nothing at any price and is left to rightsizing, which says
	 * why it is not judged; one that reserves a few millicores is dropped
	 * by the recommend stage below the same bar as a rightsizing finding,
	 * at its own price. */
	int64_t cpu_req = 0, mem_req = 0;
	double replicas = idle_replicas(w);
	idle_requests(w, &cpu_req, &mem_req);
	if (cpu_req <= 0 && mem_req <= 0)
		return;

	kp_analyze_mark_idle(x, w);
	kp_finding *f = kp_findings_add(x->out, KP_CAT_IDLE_WORKLOAD, api, kind, ns, name, NULL);
	f->current.replicas = replicas;
	f->current.cpu_request_m = cpu_req;
	f->current.mem_request_b = mem_req;
	f->has_recommended = false;
	f->confidence = history >= 14.0 * 86400.0 ? KP_CONF_HIGH : KP_CONF_MEDIUM;
	f->risk = KP_RISK_MEDIUM;

	double days = history / 86400.0;
	char win[16], a[32], b[32], c[32], d[32];
	snprintf(win, sizeof(win), "%.0fd", days);
	kp_format_cpu((int64_t)ceil(u.cpu_max), a, sizeof(a));
	kp_format_cpu((int64_t)ceil(u.cpu_p95), b, sizeof(b));
	kp_finding_add_evidence(f, "cpu_max_millicores", u.cpu_max, true, "millicores",
				"CPU peaked at %s (p95 %s), highest of %zu container entr%s over %s (idle thresholds: "
				"p95 <= %gm, max <= %gm)",
				a, b, u.entries, u.entries == 1 ? "y" : "ies", win, cfg->rules.idle.cpu_m, cfg->rules.idle.cpu_max_m);
	kp_format_bytes((int64_t)u.mem_max, a, sizeof(a));
	kp_format_bytes((int64_t)u.mem_p50_min, b, sizeof(b));
	kp_format_bytes((int64_t)variation, c, sizeof(c));
	kp_format_bytes(cfg->rules.idle.memory_variation_b, d, sizeof(d));
	kp_finding_add_evidence(f, "memory_max_bytes", u.mem_max, true, "bytes",
				"Memory working set stayed flat: peak %s, lowest median %s, a spread of %s (at most %s)", a,
				b, c, d);
	kp_finding_add_evidence(f, "window_days", days, true, "days",
				"%.1f days of usage history; the %s was created %.0f days ago (minimum %g days)", days,
				kind, age / 86400.0, cfg->rules.idle.min_history_days);
	kp_finding_add_evidence(f, "restarts", 0, true, "count", "No restarts and no OOM kills in any pod");
	kp_finding_stamp_evidence(f, x->cluster->usage_source ? x->cluster->usage_source : "snapshot", win, u.samples);
	if (w->hpa)
		kp_finding_add_evidence(f, "hpa", 0, false, NULL,
					"HPA %s targets this %s (min %lld, currently %lld replicas): scaling to zero means "
					"removing or changing the HPA too",
					w->hpa->meta.name, kind, (long long)w->hpa->min_replicas,
					(long long)w->hpa->current_replicas);
	kp_finding_add_evidence(f, NULL, 0, false, NULL,
				"Idle is a strong signal, not proof: a standby replica or a once-a-quarter batch service "
				"looks the same; confirm with the owners before scaling to zero");
}

void kp_rule_idle_workload(kp_analyze_ctx *x)
{
	kp_cluster *c = x->cluster;
	if (!c->usage_collected)
		return; /* rightsizing lists every workload as "usage not measured" */
	size_t nw = c->workloads.len;
	for (size_t i = 0; i < nw; i++) {
		kp_workload *w = &c->workloads.items[i];
		if (w->wkind != KP_WL_DEPLOYMENT && w->wkind != KP_WL_STATEFULSET && w->wkind != KP_WL_DAEMONSET)
			continue;
		if (w->meta.ignored || kp_namespace_ignored(c, w->meta.namespace_))
			continue; /* rightsizing records the "excluded" skip */
		if (w->replicas <= 0)
			continue;
		size_t n;
		const kp_usage *const *wl_usage = kp_workload_usage(x, i, &n);
		if (n == 0)
			continue; /* not measured: rightsizing records the skip */
		if (kp_analyze_unattributed(x, w->meta.namespace_))
			continue; /* part of its usage may be unattributed: rightsizing records the skip */
		idle_judge(x, w, wl_usage, n);
	}
}
