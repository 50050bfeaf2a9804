/*
 * runmetrics.h - the metrics of one `kopilot run` in the Prometheus text
 * exposition format (version 0.0.4), pushed to a Pushgateway or written as
 * a node-exporter textfile, so an operator can graph savings and alert on a
 * nightly run that failed or stopped running.
 *
 * What a run knows goes in as one JSON object, the facts (built by the
 * command, pipeline/cmd_run.c):
 *   cluster            string
 *   exit_code          integer (0 ok, 3 degraded, 4 failed, ...)
 *   completed          bool: the run produced its reports (exit 0 or 3);
 *                      only then are the findings, savings and
 *                      kopilot_last_success_timestamp_seconds written
 *   finished           integer, Unix seconds
 *   run_seconds        number
 *   stage_seconds      {stage: seconds}
 *   findings           {category: count}
 *   savings            {category: {namespace: monthly savings}}
 *   actionable_monthly_savings, missing_inputs  numbers
 *   llm_tokens         {provider: {in: n, out: n}}
 *
 * Pushgateway semantics (why POST): PUT replaces the whole group, POST only
 * the metric families it carries. A failed run pushes no findings, savings
 * or last-success family, so with POST the last successful run's values
 * (kopilot_last_success_timestamp_seconds above all) survive it, and an
 * alert on `time() - kopilot_last_success_timestamp_seconds` keeps working.
 * The group is job="kopilot", cluster=<the cluster's name>.
 *
 * Ownership: returned strings are the caller's (free()); facts is only read.
 * Nothing here prints: errors come back in kp_error.
 */
#ifndef KP_RUNMETRICS_H
#define KP_RUNMETRICS_H

#include "pipeline/config.h"
#include "pipeline/http.h"
#include "pipeline/kp.h"

/* The exposition text. max_savings_series bounds kopilot_monthly_savings:
 * the pairs with the most money are kept, the rest of each category summed
 * into namespace="(other)", so per-category sums stay exact; the lines are
 * at most max_savings_series, but never fewer than one per category.
 * cluster_label: put cluster="..." on every sample (a textfile: the node
 * exporter's instance is the node, not the cluster); a push carries it in
 * the grouping key instead. */
char *kp_runmetrics_text(json_object *facts, int max_savings_series, bool cluster_label);

/* Appends s as a label value's inside: backslash, double quote and line
 * feed escaped as the format requires. */
void kp_runmetrics_escape_label(kp_buf *b, const char *s);

/* POSTs text to cfg's metrics.pushgateway_url under the group job="kopilot",
 * cluster=<cluster> (base64url in the path, so any name works), with
 * cfg's auth, timeout and the http layer's retries (429, 5xx; never 4xx).
 * res says how it went (the caller releases it). */
kp_status kp_runmetrics_push(const kp_config *cfg, const char *cluster, const char *text, kp_http_result *res,
			     kp_error *err);

/* Writes DIR/kopilot.prom atomically (a temp file ".kopilot.prom.tmp.PID"
 * in DIR, which the node exporter ignores, renamed over it), mode 0644 so
 * the node exporter's user can read it. keep_old: the families of the file
 * there that text does not have are carried over (a failed run's file keeps
 * the last good run's kopilot_last_success_timestamp_seconds, findings and
 * savings, as a Pushgateway POST does). */
kp_status kp_runmetrics_write_textfile(const char *dir, const char *text, bool keep_old, kp_error *err);

#endif
