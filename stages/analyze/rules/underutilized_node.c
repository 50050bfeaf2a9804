/*
 * underutilized_node.c - placeholder while the rule is being written; finds nothing.
 */
#include "stages/analyze/analyze.h"

void kp_rule_underutilized_node(kp_analyze_ctx *ctx)
{
	(void)ctx;
}
