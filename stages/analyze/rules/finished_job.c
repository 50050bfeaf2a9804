/*
 * finished_job.c - placeholder while the rule is being written; finds nothing.
 */
#include "stages/analyze/analyze.h"

void kp_rule_finished_job(kp_analyze_ctx *ctx)
{
	(void)ctx;
}
