/*
 * recommend.h - the recommend stage: prices, savings, risk, actions and the
 * plain-English explanation, turning analysis.json into findings.json
 * (contract kopilot.findings/v1) and plan.json.
 *
 * Money is decided in pipeline/money.h (the one money path): this stage
 * calls it for every finding, drops the findings that save less than
 * rightsizing.min_monthly_savings at their own price, and records the
 * rates in each finding so any figure can be recomputed by hand.
 */
#ifndef KP_RECOMMEND_H
#define KP_RECOMMEND_H

#include "pipeline/config.h"
#include "pipeline/model.h"
#include "pipeline/run.h"

/* The stage: run->dir/analysis.json -> findings.json and plan.json, with
 * the changes since run->previous_doc (when given) and a safety decision
 * per finding in the audit log. */
kp_status kp_recommend_run(kp_run *run, kp_error *err);

/* kopilot merge (merge.c): the shard runs run->merge_dirs of one sharded
 * run (`kopilot run --shard I/N`, every index once) joined into
 * run->dir/findings.json and plan.json, as the unsharded run would have
 * written them, with the changes since run->previous_doc. KP_ERR_USAGE,
 * naming the runs and what differs, when they are not all the shards of one
 * run (N, cluster, --now, configuration, version, scope); degraded when
 * the merged result has "not collected" entries. */
kp_status kp_recommend_merge_run(kp_run *run, kp_error *err);
/* RUN/summary.json from summary (borrowed), and with run->state_dir
 * RUN/history.json, the trend over the state directory's kept runs: what
 * both kopilot recommend and kopilot merge leave for the reports. */
kp_status kp_recommend_write_history(kp_run *run, json_object *summary, kp_error *err);
/* The same checks alone, reading only the shards' headers: before a run
 * directory is made. */
kp_status kp_recommend_merge_check(const char *const *dirs, size_t n, kp_error *err);
/* Fills cost, savings, action, safety decision and explanation of one finding. */
void kp_recommend_finding(const kp_config *cfg, kp_finding *f);

/* analysis (parsed analysis.json) -> new findings.json and plan.json
 * documents. To keep peak memory down it removes analysis's "findings"
 * member once read: callers must not use it afterwards. *below (may be
 * NULL) receives how many findings the savings threshold dropped. */
kp_status kp_recommend(const kp_config *cfg, json_object *analysis, const char *analysis_path,
		       json_object **findings_doc, json_object **plan_doc, size_t *below, kp_error *err);

/* The same from findings already read (kp_findings_read_file) and the rest
 * of analysis.json: prices, filters and sorts fin in place, and returns
 * findings.json without its two arrays ("findings" and "skipped" null in
 * their places: write it with kp_findings_write_streamed from fin, or
 * fill it with kp_findings_fill); plan.json is made from it (kp_plan_doc,
 * kp_plan_write). The caller releases fin. */
kp_status kp_recommend_findings(const kp_config *cfg, json_object *analysis, const char *analysis_path, kp_findings *fin,
				json_object **findings_doc, size_t *below, kp_error *err);

/* Sorts findings by monthly_savings descending, then id (the contract's order). */
void kp_findings_sort(kp_findings *f);

#endif
