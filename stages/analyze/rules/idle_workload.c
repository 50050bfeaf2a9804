/*
 * idle_workload.c - placeholder while the rule is being written; finds nothing.
 */
#include "stages/analyze/analyze.h"

void kp_rule_idle_workload(kp_analyze_ctx *ctx)
{
	(void)ctx;
}
