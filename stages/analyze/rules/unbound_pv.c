/*
 * unbound_pv.c - placeholder while the rule is being written; finds nothing.
 */
#include "stages/analyze/analyze.h"

void kp_rule_unbound_pv(kp_analyze_ctx *ctx)
{
	(void)ctx;
}
