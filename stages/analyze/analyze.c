/*
 * analyze.c - runs the rule families in a fixed order so output is
 * deterministic for the same snapshot and --now.
 */
#include "stages/analyze/analyze.h"

#include <string.h>

#include "stages/recommend/pricing.h"

bool kp_namespace_ignored(const kp_cluster *c, const char *ns)
{
	if (!ns)
		return false;
	for (size_t i = 0; i < c->namespaces.len; i++)
		if (strcmp(c->namespaces.items[i].meta.name, ns) == 0)
			return c->namespaces.items[i].meta.ignored;
	return false;
}

const kp_usage *const *kp_workload_usage(kp_analyze_ctx *ctx, size_t wi, size_t *n)
{
	kp_cluster *c = ctx->cluster;
	if (!ctx->usage_start) {
		/* Counting sort of entries by workload: linear in entries +
		 * workloads; one workload's entries keep their file order. */
		size_t nw = c->workloads.len;
		size_t *start = kp_xcalloc(nw + 1, sizeof(size_t));
		for (size_t i = 0; i < c->usage.len; i++)
			if (c->usage.items[i].workload)
				start[c->usage.items[i].workload - c->workloads.items + 1]++;
		for (size_t i = 0; i < nw; i++)
			start[i + 1] += start[i];
		const kp_usage **by = kp_xcalloc(start[nw] + 1, sizeof(*by));
		size_t *fill = kp_xcalloc(nw + 1, sizeof(size_t));
		for (size_t i = 0; i < c->usage.len; i++) {
			const kp_usage *u = &c->usage.items[i];
			if (!u->workload)
				continue;
			size_t w = (size_t)(u->workload - c->workloads.items);
			by[start[w] + fill[w]++] = u;
		}
		free(fill);
		ctx->usage_start = start;
		ctx->usage_by_workload = by;
	}
	*n = ctx->usage_start[wi + 1] - ctx->usage_start[wi];
	return ctx->usage_by_workload + ctx->usage_start[wi];
}

void kp_analyze_mark_idle(kp_analyze_ctx *ctx, const kp_workload *w)
{
	if (!ctx->idle_workloads)
		ctx->idle_workloads = kp_xcalloc(ctx->cluster->workloads.len + 1, sizeof(bool));
	ctx->idle_workloads[w - ctx->cluster->workloads.items] = true;
}

bool kp_analyze_is_idle(const kp_analyze_ctx *ctx, const kp_workload *w)
{
	return ctx->idle_workloads && ctx->idle_workloads[w - ctx->cluster->workloads.items];
}

void kp_analyze_mark_held(kp_analyze_ctx *ctx, const kp_service *s)
{
	if (!ctx->held_services)
		ctx->held_services = kp_xcalloc(ctx->cluster->services.len + 1, sizeof(bool));
	ctx->held_services[s - ctx->cluster->services.items] = true;
}

bool kp_analyze_is_held(const kp_analyze_ctx *ctx, const kp_service *s)
{
	return ctx->held_services && ctx->held_services[s - ctx->cluster->services.items];
}

void kp_analyze_ctx_release(kp_analyze_ctx *ctx)
{
	free(ctx->usage_start);
	free(ctx->usage_by_workload);
	free(ctx->idle_workloads);
	free(ctx->held_services);
	ctx->usage_start = NULL;
	ctx->usage_by_workload = NULL;
	ctx->idle_workloads = NULL;
	ctx->held_services = NULL;
}

/* The rule families in the order they run; the audit log names them from
 * this table so it cannot drift from what ran. */
static const struct {
	const char *name;
	void (*run)(kp_analyze_ctx *ctx);
} rules[] = {
	{"idle-workload", kp_rule_idle_workload}, /* first: marks idle workloads so they are not also resized */
	{"rightsizing", kp_rule_rightsizing},
	{"zero-replica", kp_rule_zero_replica},
	{"orphaned-pvc", kp_rule_orphaned_pvc},
	{"unbound-pv", kp_rule_unbound_pv},
	{"idle-loadbalancer", kp_rule_idle_loadbalancer},
	{"finished-job", kp_rule_finished_job},
	{"underutilized-node", kp_rule_underutilized_node},
};

const char *kp_analyze_rule_name(size_t i)
{
	return i < sizeof(rules) / sizeof(rules[0]) ? rules[i].name : NULL;
}

void kp_analyze(kp_analyze_ctx *ctx)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		rules[i].run(ctx);
	kp_scope_apply(ctx); /* last: rules see the whole cluster, the report only the scope */
	kp_analyze_ctx_release(ctx);
	kp_pricing_inputs(ctx->cluster, ctx->out); /* what each finding's price depends on */
}
