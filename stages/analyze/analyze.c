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

void kp_analyze(kp_analyze_ctx *ctx)
{
	kp_rule_idle_workload(ctx); /* first: marks idle workloads so they are not also resized */
	kp_rule_rightsizing(ctx);
	kp_rule_zero_replica(ctx);
	kp_rule_orphaned_pvc(ctx);
	kp_rule_unbound_pv(ctx);
	kp_rule_idle_loadbalancer(ctx);
	kp_rule_finished_job(ctx);
	kp_rule_underutilized_node(ctx);
	kp_scope_apply(ctx); /* last: rules see the whole cluster, the report only the scope */
	kp_pricing_inputs(ctx->cluster, ctx->out); /* what each finding's price depends on */
}
