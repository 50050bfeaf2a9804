/*
 * recommend.h - the recommend stage: prices, savings, risk, actions and the
 * plain-English explanation, turning analysis.json into findings.json
 * (contract kopilot.findings/v1) and plan.json.
 *
 * Cost model (also reproduced by formulas in report.xlsx):
 *   cost(s) = replicas x (cpu_request_millicores/1000 x cpu_core_hour
 *                         + memory_request_bytes/2^30 x memory_gib_hour) x hours_per_month
 *           + storage_bytes/2^30 x storage_gib_month
 *   monthly_cost    = cost(current) + load_balancers x load_balancer_hour x hours_per_month
 *                     (load_balancers: the finding's LoadBalancer Services)
 *   monthly_savings = monthly_cost - (recommended ? cost(recommended) : 0)
 * Requests, not usage, are priced: requests are what the scheduler reserves
 * and what node autoscaling pays for.
 */
#ifndef KP_RECOMMEND_H
#define KP_RECOMMEND_H

#include "pipeline/config.h"
#include "pipeline/model.h"

double kp_cost_monthly(const kp_config *cfg, const kp_sizes *s);

/* Fills cost, savings, action, safety decision and explanation of one finding. */
void kp_recommend_finding(const kp_config *cfg, kp_finding *f);

/* analysis (parsed analysis.json) -> new findings.json and plan.json
 * documents. To keep peak memory down it removes analysis's "findings"
 * member once read: callers must not use it afterwards. */
kp_status kp_recommend(const kp_config *cfg, json_object *analysis, const char *analysis_path,
		       json_object **findings_doc, json_object **plan_doc, kp_error *err);

/* Sorts findings by monthly_savings descending, then id (the contract's order). */
void kp_findings_sort(kp_findings *f);

#endif
