/*
 * cmd_run.c - `kopilot run`: the four stages over one run directory,
 * run.json (what ran, how long, how big, how it ended) and the terminal
 * summary.
 *
 * Run directory layout (DESIGN.md): snapshot/ (objects/<resource>.json,
 * usage.json, cluster.json, model.bin), analysis.json, findings.json,
 * plan.json, report.md, report.html, report.xlsx, audit.jsonl, run.json.
 * The stages write into a staging directory that replaces RUN as a whole
 * when the run is complete (pipeline/rundir.h): a failed run leaves the
 * previous run, all of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "pipeline/cmd.h"
#include "pipeline/quantity.h"
#include "pipeline/findings_json.h"
#include "pipeline/gate.h"
#include "pipeline/log.h"
#include "pipeline/money.h"
#include "pipeline/runmetrics.h"
#include "pipeline/urlmask.h"
#include "stages/analyze/analyze.h"
#include "stages/collect/collect.h"
#include "stages/recommend/history.h"
#include "stages/recommend/recommend.h"
#include "stages/render/notify.h"
#include "stages/render/render.h"
#include "pipeline/listscan.h"

/* SGR sequences for the summary, or "" when colour is off (kp_cmd_use_color). */
static bool summary_colour;
static const char *sgr(const char *code) { return summary_colour ? code : ""; }
#define SGR_OFF sgr("\033[0m")

/* A category painted by its finding's risk: red for HIGH and CRITICAL
 * (bold), yellow for MEDIUM, as it is. */
static const char *risk_sgr(const char *risk)
{
	if (!risk)
		return "";
	if (!strcmp(risk, "CRITICAL"))
		return sgr("\033[1;31m");
	if (!strcmp(risk, "HIGH"))
		return sgr("\033[31m");
	return !strcmp(risk, "MEDIUM") ? sgr("\033[33m") : "";
}

/* not-collected inputs listed in the terminal summary; the reports list the rest */
#define KP_SUMMARY_MISSING 5

/* What the terminal summary and run.json need of findings.json: its
 * header, the first findings (the biggest savings) and the money split of
 * all of them, read in one streamed pass (never the whole tree: at 30,000
 * findings that alone would be the run's peak). */
typedef struct {
	json_object *doc;   /* the header; "findings": the first KP_SUMMARY_TOP */
	size_t n;           /* every element of "findings" */
	kp_savings_split sp;
	/* {category: {"findings": n, "monthly_savings": x, "namespaces": {ns: x}}}
	 * over every finding: run metrics and notifications */
	json_object *by_cat;
	kp_gate_facts gate; /* what --fail-on is judged on (pipeline/gate.h) */
} run_summary;

#define KP_SUMMARY_TOP 10

static const kp_keep k_sum_resource[] = {{"kind", NULL}, {"name", NULL}, {"namespace", NULL}, {NULL, NULL}};
static const kp_keep k_sum_action[] = {{"blocked", NULL}, {"approval_required", NULL}, {NULL, NULL}};
static const kp_keep k_sum_evidence[] = {{"summary", NULL}, {NULL, NULL}};
static const kp_keep k_summary[] = {{"category", NULL},	  {"risk", NULL},	   {"container", NULL},
				    {"monthly_savings", NULL}, {"monthly_cost", NULL},   {"resource", k_sum_resource},
				    {"action", k_sum_action},  {"id", NULL},		   {"evidence", k_sum_evidence},
				    {"trend", NULL},	       {NULL, NULL}};

static kp_status summary_item(void *ud, json_object *item, size_t index, kp_error *err)
{
	(void)index, (void)err;
	run_summary *r = ud;
	r->n++;
	kp_savings_split_add(&r->sp, item);
	const char *cat = kp_json_str(item, "category"), *ns = kp_json_str(item, "resource.namespace");
	double save = json_object_get_double(kp_json_get(item, "monthly_savings"));
	json_object *c = json_object_object_get(r->by_cat, cat ? cat : "");
	if (!c) {
		c = json_object_new_object();
		json_object_object_add(c, "findings", json_object_new_int64(0));
		json_object_object_add(c, "monthly_savings", json_object_new_double(0));
		json_object_object_add(c, "namespaces", json_object_new_object());
		json_object_object_add(r->by_cat, cat ? cat : "", c);
	}
	json_object_object_add(c, "findings", json_object_new_int64(json_object_get_int64(kp_json_get(c, "findings")) + 1));
	json_object_object_add(c, "monthly_savings",
			       json_object_new_double(json_object_get_double(kp_json_get(c, "monthly_savings")) + save));
	json_object *nss = json_object_object_get(c, "namespaces");
	const char *nk = ns ? ns : KP_CLUSTER_SCOPED_LABEL;
	json_object_object_add(nss, nk, json_object_new_double(json_object_get_double(json_object_object_get(nss, nk)) + save));
	kp_gate_facts_add(&r->gate, item);
	json_object *first = kp_json_get(r->doc, "findings");
	if (json_object_array_length(first) < KP_SUMMARY_TOP)
		json_object_array_add(first, json_object_get(item));
	return KP_OK;
}

static kp_status read_summary(const char *path, run_summary *r, kp_error *err)
{
	memset(r, 0, sizeof(*r));
	r->by_cat = json_object_new_object();
	r->doc = json_object_new_object();
	json_object_object_add(r->doc, "findings", json_object_new_array());
	json_object *skel = NULL;
	kp_status s = kp_listscan_file(path, "findings", "a findings document (kopilot.findings/v1)", k_summary,
				       summary_item, r, &skel, err);
	if (!s) {
		json_object_object_add(skel, "findings", json_object_get(kp_json_get(r->doc, "findings")));
		json_object_put(r->doc);
		r->doc = skel;
		kp_savings_split_finish(r->doc, &r->sp);
		/* the counts came one finding at a time; the rest from the header,
		 * and the net as the summary headlines it */
		int64_t nf = r->gate.findings, nn = r->gate.new_findings;
		double ns = r->gate.new_savings;
		kp_gate_facts_init(&r->gate, r->doc);
		r->gate.findings = nf, r->gate.new_findings = nn, r->gate.new_savings = ns;
		r->gate.net_savings = r->sp.net;
	} else {
		json_object_put(skel);
		json_object_put(r->doc);
		r->doc = NULL;
	}
	return s;
}

static void print_summary(const char *dir, const run_summary *sum)
{
	json_object *doc = sum->doc;
	const char *cur = kp_json_str(doc, "prices.currency");
	cur = cur ? cur : "USD";
	char m[64], blocked[96] = "", unit[32], hdr[40];
	/* the net the plan can act on, as every report headlines it
	 * (render.h); blocked money is named beside it, never added */
	kp_savings_split sp = sum->sp;
	kp_money_format(sp.net, cur, m, sizeof(m));
	if (sp.n_blocked) {
		char b[64];
		kp_money_format(sp.blocked, cur, b, sizeof(b));
		snprintf(blocked, sizeof(blocked), " (not counted: %s/month blocked in protected namespaces)", b);
	}
	kp_money_unit(cur, unit, sizeof(unit));
	json_object *arr = kp_json_get(doc, "findings");
	size_t n = sum->n;
	kp_buf nsl;
	kp_buf_init(&nsl);
	kp_scope_label(doc, &nsl);
	char *cluster = kp_visible(kp_json_str(doc, "cluster.name") ? kp_json_str(doc, "cluster.name") : "?");
	char count[32];
	kp_format_thousands(n, count, sizeof(count)); /* "32,347 findings", as the reports write it */
	printf("\nkopilot: %s finding%s in cluster %s%s, %s%s%s/month potential savings%s\n", count, n == 1 ? "" : "s",
	       cluster, kp_buf_cstr(&nsl), sgr("\033[1;32m"), m, SGR_OFF, blocked);
	free(cluster);
	kp_buf_release(&nsl);
	if (kp_json_str(doc, "changes.previous_run"))
		printf("  since the previous run (%s): %lld new, %lld persisting, %lld resolved\n",
		       kp_json_str(doc, "changes.previous_run"),
		       (long long)json_object_get_int64(kp_json_get(doc, "changes.new")),
		       (long long)json_object_get_int64(kp_json_get(doc, "changes.persisting")),
		       (long long)json_object_get_int64(kp_json_get(doc, "changes.resolved")));
	printf("\n");
	if (n) {
		snprintf(hdr, sizeof(hdr), "SAVINGS %s", unit);
		for (char *p = hdr; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
		printf("  %-3s %-16s %-50s %-21s %18s\n", "#", "NAMESPACE", "NAME", "CATEGORY", hdr);
		for (size_t i = 0; i < n && i < json_object_array_length(arr); i++) {
			json_object *f = json_object_array_get_idx(arr, i);
			char name[256];
			const char *ct = kp_json_str(f, "container");
			snprintf(name, sizeof(name), "%s/%s%s%s", kp_json_str(f, "resource.kind"), kp_json_str(f, "resource.name"),
				 ct ? " [" : "", ct ? ct : "");
			if (ct)
				strncat(name, "]", sizeof(name) - strlen(name) - 1);
			const char *ns = kp_json_str(f, "resource.namespace");
			kp_money_format(json_object_get_double(kp_json_get(f, "monthly_savings")), cur, m, sizeof(m));
			/* long names keep their start and end: the end says which container */
			if (strlen(name) > 50)
				memmove(name + 24, name + strlen(name) - 23, 24), memcpy(name + 21, "...", 3);
			char *vname = kp_visible(name), *vns = kp_visible(ns ? ns : KP_CLUSTER_SCOPED_LABEL);
			double save = json_object_get_double(kp_json_get(f, "monthly_savings"));
			bool is_blocked = json_object_get_boolean(kp_json_get(f, "action.blocked"));
			const char *rs = risk_sgr(kp_json_str(f, "risk"));
			printf("  %-3zu %-16.16s %-50.50s %s%-21s%s %s%18s%s%s%s%s\n", i + 1, vns, vname, rs,
			       kp_json_str(f, "category"), *rs ? SGR_OFF : "", sgr(save < 0 ? "\033[31m" : "\033[32m"), m,
			       SGR_OFF, is_blocked ? sgr("\033[1;31m") : "", is_blocked ? "  (blocked)" : "",
			       is_blocked ? SGR_OFF : "");
			free(vname), free(vns);
		}
	}
	json_object *missing = kp_json_get(doc, "missing");
	size_t nm = json_object_is_type(missing, json_type_array) ? json_object_array_length(missing) : 0;
	if (nm) {
		printf("\n  %sDegraded:%s %zu input%s not collected:\n", sgr("\033[1;33m"), SGR_OFF, nm, nm == 1 ? "" : "s");
		/* the summary stays one screen: the first few, then where the rest are */
		for (size_t i = 0; i < nm && i < KP_SUMMARY_MISSING; i++) {
			char *v = kp_visible(kp_missing_summary(json_object_array_get_idx(missing, i)));
			printf("    - %s\n", v);
			free(v);
		}
		if (nm > KP_SUMMARY_MISSING)
			printf("    ... and %zu more (report.md \"Not collected\", findings.json \"missing\")\n",
			       nm - KP_SUMMARY_MISSING);
	}
	int64_t ni = json_object_get_int64(kp_json_get(doc, "inconsistencies_total"));
	if (ni > 0)
		printf("\n  Inconsistent snapshot: %lld reference%s to objects it does not hold (findings.json "
		       "\"inconsistencies\"); nothing was concluded from them\n",
		       (long long)ni, ni == 1 ? "" : "s");
	printf("\nReports:\n  %s/report.html\n  %s/report.md\n  %s/report.xlsx\n  %s/findings.json\n", dir, dir, dir, dir);
	/* --pr: the pull requests, as files (dry run) or opened (their URLs) */
	char *pr = kp_path_join(dir, "pr/index.json");
	json_object *idx = kp_file_exists(pr) ? json_object_from_file(pr) : NULL;
	if (idx)
		printf("  %s (pull requests%s)\n", pr,
		       json_object_get_boolean(json_object_object_get(idx, "dry_run"))
			       ? ", dry run: pr/GROUP.patch, pr/GROUP.md"
			       : ": each one's URL and what was done");
	json_object_put(idx);
	free(pr);
	/* --repo DIR: the findings located in the manifests, for code scanning */
	char *sarif = kp_path_join(dir, "findings.sarif");
	if (kp_file_exists(sarif))
		printf("  %s (SARIF for code scanning; findings.codequality.json for GitLab)\n", sarif);
	free(sarif);
}

struct summary_call {
	const char *dir;
	const run_summary *rs;
};

static kp_status summary(void *arg, kp_error *err)
{
	(void)err;
	struct summary_call *c = arg;
	print_summary(c->dir, c->rs);
	return KP_OK;
}

static bool mentions_secret(const char *s, size_t n)
{
	/* a webhook URL carries its token (Slack's incoming webhooks) */
	static const char *const words[] = {"key", "token", "secret", "password", "webhook"};
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t wl = strlen(words[w]);
		for (size_t i = 0; i + wl <= n; i++)
			if (strncasecmp(s + i, words[w], wl) == 0)
				return true;
	}
	return false;
}

static json_object *masked_args(int argc, char **argv)
{
	json_object *a = json_object_new_array();
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		/* --set llm.some_api_key=... must not leak into run.json */
		const char *eq = strchr(s, '=');
		bool secret = eq && mentions_secret(s, strlen(s)); /* conservative: any mention masks the value */
		if (secret) {
			kp_buf b;
			kp_buf_init(&b);
			kp_buf_add(&b, s, (size_t)(eq - s) + 1);
			kp_buf_puts(&b, "****");
			json_object_array_add(a, json_object_new_string(b.data));
			kp_buf_release(&b);
		} else {
			/* --set llm.ollama_base_url=http://user:pw@host, --prometheus-url URL */
			char *m = kp_mask_url_credentials(s);
			json_object_array_add(a, json_object_new_string(m));
			free(m);
		}
	}
	return a;
}

/* ---- run metrics and notifications (runmetrics.h, notify.h) ----
 * Both come after the run's own work and can never fail it: a failure is
 * a warning on stderr, recorded in run.json and audit.jsonl, and the exit
 * code stays what it was. */

/* The cluster's name for the Pushgateway group: findings.json's when the
 * run got that far; else what collect would call it (cluster.name, or the
 * snapshot directory's name), so a failed run lands in the same group. */
static void metrics_cluster(const kp_opts *o, const run_summary *rs, char *buf, size_t n)
{
	const char *name = rs && rs->doc ? kp_json_str(rs->doc, "cluster.name") : NULL;
	if (!name)
		name = o->cfg.collect.cluster_name;
	if (name) {
		snprintf(buf, n, "%s", name);
		return;
	}
	if (!o->snapshot) {
		snprintf(buf, n, "unknown");
		return;
	}
	snprintf(buf, n, "%s", o->snapshot);
	size_t len = strlen(buf);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	const char *slash = strrchr(buf, '/');
	if (slash)
		memmove(buf, slash + 1, strlen(slash + 1) + 1);
}

static json_object *metrics_facts(const kp_run *run, const run_summary *rs, json_object *timings, double seconds,
				  int rc, const char *cluster)
{
	json_object *f = json_object_new_object();
	bool completed = rs && rs->doc && kp_exit_complete(rc);
	json_object_object_add(f, "cluster", json_object_new_string(cluster));
	json_object_object_add(f, "exit_code", json_object_new_int(rc));
	json_object_object_add(f, "completed", json_object_new_boolean(completed));
	json_object_object_add(f, "finished", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(f, "run_seconds", json_object_new_double(seconds));
	json_object_object_add(f, "stage_seconds", timings ? json_object_get(timings) : json_object_new_object());
	if (!completed)
		return f;
	json_object *counts = json_object_new_object(), *savings = json_object_new_object();
	json_object_object_foreach(rs->by_cat, cat, c)
	{
		json_object_object_add(counts, cat, json_object_get(kp_json_get(c, "findings")));
		json_object_object_add(savings, cat, json_object_get(kp_json_get(c, "namespaces")));
	}
	json_object_object_add(f, "findings", counts);
	json_object_object_add(f, "savings", savings);
	json_object_object_add(f, "actionable_monthly_savings",
			       json_object_get(kp_json_get(rs->doc, "totals.actionable_monthly_savings")));
	json_object *missing = kp_json_get(rs->doc, "missing");
	json_object_object_add(f, "missing_inputs",
			       json_object_new_int64(json_object_is_type(missing, json_type_array)
							     ? (int64_t)json_object_array_length(missing)
							     : 0));
	if (run->llm_label[0]) {
		/* "openai/gpt-4o-mini": the provider is what comes before the model */
		char prov[128];
		snprintf(prov, sizeof(prov), "%s", run->llm_label);
		char *slash = strchr(prov, '/');
		if (slash)
			*slash = '\0';
		json_object *io = json_object_new_object(), *t = json_object_new_object();
		json_object_object_add(io, "in", json_object_new_int64(run->llm_in_tokens));
		json_object_object_add(io, "out", json_object_new_int64(run->llm_out_tokens));
		json_object_object_add(t, prov, io);
		json_object_object_add(f, "llm_tokens", t);
	}
	return f;
}

/* Pushes and writes the run's metrics as configured (metrics.enabled,
 * metrics.pushgateway_url, metrics.textfile_dir); the outcome for run.json
 * and audit.jsonl, NULL when there is nothing to do. */
static json_object *export_metrics(kp_opts *o, json_object *facts, const char *cluster)
{
	const kp_config *cfg = &o->cfg;
	if (!cfg->serve.metrics_enabled || (!cfg->run_metrics.pushgateway_url && !cfg->run_metrics.textfile_dir))
		return NULL;
	json_object *out = json_object_new_object();
	if (cfg->run_metrics.pushgateway_url) {
		kp_error err = {0};
		kp_http_result res = {0};
		char *text = kp_runmetrics_text(facts, cfg->run_metrics.max_savings_series, false);
		kp_status s = kp_runmetrics_push(cfg, cluster, text, &res, &err);
		json_object *p = json_object_new_object();
		char *url = kp_mask_url_credentials(cfg->run_metrics.pushgateway_url);
		json_object_object_add(p, "url", json_object_new_string(url));
		free(url);
		json_object_object_add(p, "pushed", json_object_new_boolean(!s));
		json_object_object_add(p, "attempts", json_object_new_int(res.attempts));
		json_object_object_add(p, "status", res.status ? json_object_new_int((int)res.status) : NULL);
		json_object_object_add(p, "error", s ? json_object_new_string(err.msg) : NULL);
		json_object_object_add(out, "pushgateway", p);
		if (s)
			kp_log(KP_LOG_WARN, "run: run metrics not pushed (the run's result is unchanged): %s", err.msg);
		kp_http_result_release(&res);
		free(text);
	}
	if (cfg->run_metrics.textfile_dir) {
		kp_error err = {0};
		char *text = kp_runmetrics_text(facts, cfg->run_metrics.max_savings_series, true);
		kp_status s = kp_runmetrics_write_textfile(cfg->run_metrics.textfile_dir, text,
							   !json_object_get_boolean(kp_json_get(facts, "completed")), &err);
		char *path = kp_path_join(cfg->run_metrics.textfile_dir, "kopilot.prom");
		json_object *t = json_object_new_object();
		json_object_object_add(t, "path", json_object_new_string(path));
		json_object_object_add(t, "written", json_object_new_boolean(!s));
		json_object_object_add(t, "error", s ? json_object_new_string(err.msg) : NULL);
		json_object_object_add(out, "textfile", t);
		if (s)
			kp_log(KP_LOG_WARN, "run: run metrics not written (the run's result is unchanged): %s", err.msg);
		free(path);
		free(text);
	}
	kp_audit_event(&o->audit, "run.metrics", json_object_get(out));
	return out;
}

/* Sends the Slack and webhook notifications as configured; their outcomes
 * for run.json and audit.jsonl, NULL when none is configured. */
static json_object *notify(kp_opts *o, const kp_run *run, const run_summary *rs, int rc)
{
	const kp_config *cfg = &o->cfg;
	if (!cfg->notify.slack_webhook_url && !cfg->notify.webhook_url)
		return NULL;
	char id[256];
	snprintf(id, sizeof(id), "%s", o->out);
	size_t len = strlen(id);
	while (len > 1 && id[len - 1] == '/')
		id[--len] = '\0';
	const char *slash = strrchr(id, '/');
	kp_notify_run info = {run->dir, slash ? slash + 1 : id, rc,
			      rc == KP_EXIT_DEGRADED ? "degraded" : rc == KP_EXIT_GATE ? "gate-triggered" : "ok"};
	json_object *by_cat = json_object_new_object();
	json_object_object_foreach(rs->by_cat, cat, c)
	{
		json_object *e = json_object_new_object();
		json_object_object_add(e, "findings", json_object_get(kp_json_get(c, "findings")));
		json_object_object_add(e, "monthly_savings", json_object_get(kp_json_get(c, "monthly_savings")));
		json_object_object_add(by_cat, cat, e);
	}
	json_object *ctx = kp_notify_context(rs->doc, by_cat, cfg, &info);
	json_object *outcomes = json_object_new_array();
	kp_notify_all(cfg, ctx, outcomes);
	for (size_t i = 0; i < json_object_array_length(outcomes); i++) {
		json_object *e = json_object_array_get_idx(outcomes, i);
		if (!json_object_get_boolean(kp_json_get(e, "sent")))
			kp_log(KP_LOG_WARN, "run: %s notification not sent (the run's result is unchanged): %s",
			       kp_json_str(e, "target"), kp_json_str(e, "error"));
	}
	json_object *ev = json_object_new_object();
	json_object_object_add(ev, "notifications", json_object_get(outcomes));
	kp_audit_event(&o->audit, "run.notify", ev);
	json_object_put(ctx);
	json_object_put(by_cat);
	return outcomes;
}

/* run.json: what ran, how long, how big, how it ended. No secrets: the
 * configuration is masked and arguments with secrets are too. fd is the
 * run's findings.json when it was written. */
static json_object *run_json(const kp_opts *o, int argc, char **argv, const char *started, json_object *timings,
			     json_object *background, const run_summary *rs, json_object *gate, const kp_run *run, int rc,
			     json_object *metrics, json_object *notifications)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	json_object *r = json_object_new_object();
	char finished[32], nowbuf[32];
	kp_time_format((int64_t)time(NULL), finished);
	kp_time_format(o->now, nowbuf);
	json_object_object_add(r, "schema", json_object_new_string("kopilot.run/v1"));
	json_object_object_add(r, "version", json_object_new_string(KP_VERSION));
	json_object_object_add(r, "command", json_object_new_string("run"));
	json_object_object_add(r, "args", masked_args(argc, argv));
	json_object_object_add(r, "started_at", json_object_new_string(started));
	json_object_object_add(r, "finished_at", json_object_new_string(finished));
	json_object_object_add(r, "now", json_object_new_string(nowbuf));
	json_object_object_add(r, "stage_seconds", json_object_get(timings));
	/* work a stage left running beside the next ones (collect's copy of
	 * the snapshot): its own time, overlapping the stages after it */
	json_object_object_add(r, "background_seconds", json_object_get(background));
	json_object_object_add(r, "peak_rss_bytes", json_object_new_int64((int64_t)ru.ru_maxrss * 1024));
	json_object_object_add(r, "config", kp_config_to_json(&o->cfg));
	json_object_object_add(r, "previous_run", o->previous_run ? json_object_new_string(o->previous_run) : NULL);
	json_object *fd = rs ? rs->doc : NULL;
	if (fd) {
		json_object_object_add(r, "counts", kp_cmd_run_counts(fd));
		json_object_object_add(r, "missing", json_object_get(kp_json_get(fd, "missing")));
	}
	/* what was exported and sent, and how it went (absent: not configured) */
	if (metrics)
		json_object_object_add(r, "metrics", json_object_get(metrics));
	if (notifications)
		json_object_object_add(r, "notifications", json_object_get(notifications));
	if (gate)
		json_object_object_add(r, "gate", json_object_get(gate));
	if (run->sarif_written) { /* findings with no place in the manifests are not in it: how many */
		json_object *sf = json_object_new_object();
		json_object_object_add(sf, "file", json_object_new_string("findings.sarif"));
		json_object_object_add(sf, "codequality_file", json_object_new_string("findings.codequality.json"));
		json_object_object_add(sf, "results", json_object_new_int64((int64_t)run->sarif_results));
		json_object_object_add(sf, "left_out", json_object_new_int64((int64_t)run->sarif_left_out));
		json_object_object_add(r, "sarif", sf);
	}
	static const char *const status_names[] = {[0] = "ok", [1] = "gate-triggered", [2] = "usage-error", [3] = "degraded",
						   [4] = "failed"};
	json_object_object_add(r, "exit_code", json_object_new_int(rc));
	json_object_object_add(r, "exit_status", json_object_new_string(rc <= 4 && status_names[rc] ? status_names[rc] : "failed"));
	return r;
}

/* Reads and validates the input, and checks the flags that need it or the
 * previous run, before anything is staged: bad input changes nothing. */
static int before_the_run(kp_opts *o, kp_run *run)
{
	kp_error err = {0};
	if (!o->snapshot) { /* the live cluster: read by the collect stage, into the staged run */
		int rc = kp_cmd_check_live("run", o);
		if (rc != KP_EXIT_OK)
			return rc;
		rc = kp_cmd_resolve_previous("run", o, o->out);
		run->previous_run = o->previous_run;
		run->previous_doc = o->previous_doc;
		return rc;
	}
	kp_log(KP_LOG_INFO, "collect: reading snapshot %s", o->snapshot);
	kp_progress_report(run->progress, "collect", NULL, 0, -1);
	if (kp_collect_load(run, &err)) {
		kp_cmd_error("run", o, "%s", err.msg);
		return kp_status_exit_code(err.status);
	}
	if (kp_analyze_check_scope(run, run->cluster, &err)) {
		kp_cmd_error("run", o, "flag --namespace: %s", err.msg);
		return KP_EXIT_USAGE;
	}
	int rc = kp_cmd_resolve_previous("run", o, o->out);
	if (rc != KP_EXIT_OK)
		return rc;
	run->previous_run = o->previous_run;
	run->previous_doc = o->previous_doc;
	return KP_EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	const char *const *flags = kp_command_flags("run");
	kp_opts o;
	memset(&o, 0, sizeof(o));
	bool done;
	int rc = kp_cmd_prologue("run", argc, argv, flags, 0, &o, &done);
	if (done) {
		kp_opts_release(&o);
		return rc;
	}
	/* -o json|yaml|csv alone: the document is the product, the run directory a private temporary one */
	bool private_run = o.output != KP_OUTPUT_TABLE && !o.out && !o.state_dir;
	if (!o.out && !o.state_dir && !private_run) {
		fprintf(stderr, "kopilot run: --out RUN (or --state-dir DIR, or -o json|yaml|csv) is required (usage: "
				"kopilot run [--snapshot DIR | --kubeconfig FILE] --out RUN)\n");
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	/* SARIF results point at manifest lines: no checkout, nothing to point at */
	if (o.output == KP_OUTPUT_SARIF && (!o.cfg.pr.repo || !*o.cfg.pr.repo || strstr(o.cfg.pr.repo, "://") ||
					   !strncmp(o.cfg.pr.repo, "git@", 4))) {
		fprintf(stderr, "kopilot run: -o sarif needs a checkout of the manifests, --repo DIR: SARIF results point "
				"at manifest lines\n");
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	char *private_base = NULL, *private_out = private_run ? kp_cmd_private_run_dir("run", &o, &private_base) : NULL;
	if (private_run && !private_out) {
		kp_opts_release(&o);
		return KP_EXIT_FAILED;
	}
	if (private_out)
		o.out = private_out;
	int64_t t_start = (int64_t)time(NULL);
	double t_begin = kp_monotonic_seconds();
	char cluster[256];
	char started[32];
	kp_time_format(t_start, started);
	char *out_owned = NULL;
	/* Locks first, so a second writer is refused before any work: the
	 * state directory's (the new run's name and the previous run are
	 * chosen from it), then the run directory's. */
	if (o.state_dir && (rc = kp_cmd_lock_state_dir("run", &o)) != KP_EXIT_OK) {
		kp_opts_release(&o);
		return rc;
	}
	if (!o.out)
		o.out = out_owned = kp_history_new_run_path(o.state_dir, t_start);
	kp_run run;
	kp_cmd_run_init(&o, &run, o.out);
	double t0 = kp_monotonic_seconds();
	rc = kp_cmd_lock_run("run", &o, o.out, KP_RUNDIR_FRESH);
	if (rc == KP_EXIT_OK)
		rc = before_the_run(&o, &run);
	/* Reading the snapshot is the collect stage's work, done early. */
	double load_seconds = kp_monotonic_seconds() - t0;
	if (rc == KP_EXIT_OK)
		rc = kp_cmd_stage_run("run", &o, KP_RUNDIR_FRESH, NULL);
	if (rc != KP_EXIT_OK) {
		rc = kp_cmd_end_run("run", &o, rc);
		/* a failed run's metrics: its exit code, and nothing that would
		 * replace the last good run's figures */
		metrics_cluster(&o, NULL, cluster, sizeof(cluster));
		json_object *facts = metrics_facts(&run, NULL, NULL, kp_monotonic_seconds() - t_begin, rc, cluster);
		json_object_put(export_metrics(&o, facts, cluster));
		json_object_put(facts);
		kp_run_release(&run);
		kp_opts_release(&o);
		free(out_owned);
		kp_remove_tree(private_base);
		free(private_base), free(private_out);
		return rc;
	}
	run.dir = o.rundir.staging;
	run.keep_analysis = true; /* analyze hands its findings to recommend (run.h) */
	static const struct {
		const char *name;
		kp_status (*run)(kp_run *, kp_error *);
	} stages[] = {{"collect", kp_collect_run}, {"analyze", kp_analyze_run}, {"recommend", kp_recommend_run},
		      {"render", kp_render_run}};
	json_object *timings = json_object_new_object();
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		kp_error err = {0};
		t0 = kp_monotonic_seconds();
		kp_progress_report(run.progress, stages[i].name, NULL, 0, -1);
		kp_status s = stages[i].run(&run, &err);
		/* collect calls any gap in the snapshot degraded; whether the run
		 * is, analyze decides from the gaps inside its scope (--namespace,
		 * scope.*): another team's missing metrics are not this run's */
		if (i == 0)
			run.degraded = false;
		double took = kp_monotonic_seconds() - t0 + (i == 0 ? load_seconds : 0);
		json_object_object_add(timings, stages[i].name, kp_json_new_number((double)(int64_t)(took * 1e6) / 1e6));
		rc = kp_cmd_worse(rc, kp_cmd_stage_result(stages[i].name, &o, &run, s, &err));
		if (s)
			break;
	}
	/* collect's copy of the snapshot, written beside the other stages */
	kp_error jerr = {0};
	kp_status js = kp_run_join(&run, &jerr);
	double bg_seconds = run.background_seconds;
	if (js || run.notes.len > o.notes_shown)
		rc = kp_cmd_worse(rc, kp_cmd_stage_result("collect", &o, &run, js, &jerr));
	json_object *background = json_object_new_object();
	json_object_object_add(background, "collect", kp_json_new_number((double)(int64_t)(bg_seconds * 1e6) / 1e6));
	kp_run_drop_cluster(&run);

	run_summary rs = {0};
	json_object *fd = NULL; /* the whole findings.json, for -o only */
	kp_error err = {0};
	bool have = false;
	if (rc == KP_EXIT_OK || rc == KP_EXIT_DEGRADED) {
		/* run.json goes with the run it describes; a failed run's
		 * record is its command.end line in audit.jsonl. */
		char *fpath = kp_path_join(run.dir, "findings.json");
		if (read_summary(fpath, &rs, &err) ||
		    (o.output != KP_OUTPUT_TABLE && o.output != KP_OUTPUT_SARIF && kp_json_read_file(fpath, &fd, &err))) {
			kp_cmd_error("run", &o, "%s", err.msg);
			rc = KP_EXIT_FAILED;
		} else {
			have = true;
		}
		free(fpath);
	}
	/* --fail-on: judged on the complete run; a triggered gate beats
	 * degraded (it is what CI asked the exit code for), errors beat it
	 * (without a complete run there is nothing to judge) */
	json_object *gate = NULL;
	if (have) {
		bool triggered = false;
		gate = kp_cmd_gate_judge(&o, &rs.gate, &triggered);
		if (gate)
			json_object_object_add(gate, "exit_code_without_gate", json_object_new_int(rc));
		if (triggered)
			rc = KP_EXIT_GATE;
	}
	json_object *metrics = NULL, *notifications = NULL;
	bool exported = false;
	if (kp_exit_complete(rc)) {
		/* before run.json, which records how they went */
		metrics_cluster(&o, &rs, cluster, sizeof(cluster));
		json_object *facts = metrics_facts(&run, &rs, timings, kp_monotonic_seconds() - t_begin, rc, cluster);
		metrics = export_metrics(&o, facts, cluster);
		json_object_put(facts);
		notifications = notify(&o, &run, &rs, rc);
		exported = true;
		json_object *r = run_json(&o, argc, argv, started, timings, background, &rs, gate, &run, rc, metrics,
					  notifications);
		char *rpath = kp_path_join(run.dir, "run.json");
		if (kp_json_write_file(rpath, r, &err)) {
			kp_cmd_error("run", &o, "%s", err.msg);
			rc = KP_EXIT_FAILED;
		}
		free(rpath);
		json_object_put(r);
	}
	json_object_put(background);
	json_object_put(metrics);
	json_object_put(notifications);
	rc = kp_cmd_end_run("run", &o, rc);
	bool complete = kp_exit_complete(rc);
	/* a stage failed: the failed run's metrics, as above; or the run
	 * failed after they were exported (run.json or the switch could not be
	 * written): its exit code is corrected */
	if (!exported || !complete) {
		metrics_cluster(&o, exported ? &rs : NULL, cluster, sizeof(cluster));
		json_object *facts = metrics_facts(&run, NULL, timings, kp_monotonic_seconds() - t_begin, rc, cluster);
		json_object_put(export_metrics(&o, facts, cluster));
		json_object_put(facts);
	}
	json_object_put(timings);
	if (o.output != KP_OUTPUT_TABLE && (fd || o.output == KP_OUTPUT_SARIF) && have && complete)
		rc = kp_cmd_worse(rc, kp_cmd_print_output("run", &o, o.out, fd)); /* --quiet or not: it is the product */
	else if (!o.quiet && have && complete) {
		/* after the switch: out of memory here must not fail a complete run */
		summary_colour = kp_cmd_use_color(&o);
		struct summary_call c = {o.out, &rs};
		if (kp_nomem_guard(summary, &c, &err))
			kp_log(KP_LOG_WARN, "run: the run is complete in %s, but its summary could not be printed: %s", o.out,
			       err.msg);
	}
	/* last, so it is the line a CI log ends with */
	if (gate && complete)
		kp_cmd_gate_report("run", gate);
	json_object_put(gate);
	json_object_put(fd);
	json_object_put(rs.doc);
	json_object_put(rs.by_cat);
	kp_run_release(&run);
	bool closed = o.stdout_closed;
	kp_opts_release(&o);
	free(out_owned);
	kp_remove_tree(private_base);
	free(private_base), free(private_out);
	kp_cmd_output_end(closed);
	return rc;
}
