/*
 * zero_replica.c - placeholder while the rule is being written; finds nothing.
 */
#include "stages/analyze/analyze.h"

void kp_rule_zero_replica(kp_analyze_ctx *ctx)
{
	(void)ctx;
}
