/*
 * cmd_run.c - the four stages over a run directory, the per-stage
 * commands, and `kopilot run`, which chains them and writes run.json.
 *
 * Run directory layout (DESIGN.md): snapshot/ (objects/<resource>.json, usage.json,
 * cluster.json), analysis.json, findings.json, plan.json, report.md,
 * report.html, report.xlsx, audit.jsonl, run.json. Every file is written
 * atomically; a stage that fails leaves the files of earlier stages intact
 * and writes none of its own.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/cmd.h"
#include "pipeline/findings_json.h"
#include "pipeline/log.h"
#include "pipeline/model.h"
#include "stages/analyze/analyze.h"
#include "stages/collect/snapshot.h"
#include "stages/recommend/history.h"
#include "stages/recommend/recommend.h"
#include "stages/render/render.h"

static const char *const run_flags[] = {"--snapshot", "--out", "--config", "--set", "--now", "--template",
					"--cluster-name", "--quiet", "--kubeconfig", "--context", "--prometheus-url",
					"--previous", "--state-dir", "--namespace", NULL};
static const char *const collect_flags[] = {"--snapshot",   "--out",        "--config",  "--set",
					    "--cluster-name", "--quiet",    "--kubeconfig", "--context",
					    "--prometheus-url", NULL};

static int fail(const char *stage, const kp_error *err)
{
	kp_log(KP_LOG_ERROR, "%s: %s", stage, err->msg);
	return kp_status_exit_code(err->status);
}

static json_object *fields(const char *k1, json_object *v1)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, k1, v1);
	return o;
}

static bool live_flags_refused(const char *cmd, const kp_opts *o)
{
	const char *flag = o->kubeconfig ? "--kubeconfig" : o->context ? "--context" : o->prometheus_url ? "--prometheus-url" : NULL;
	if (!flag)
		return false;
	fprintf(stderr,
		"kopilot %s: flag %s: live collection is not implemented yet; build a snapshot with "
		"`kubectl get <resource> -A -o json` and pass --snapshot DIR\n",
		cmd, flag);
	return true;
}

/* ---- collect ---- */

static const char *base_name(const char *path, char *buf, size_t n)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	size_t len = strlen(tmp);
	while (len > 1 && tmp[len - 1] == '/')
		tmp[--len] = '\0';
	const char *slash = strrchr(tmp, '/');
	snprintf(buf, n, "%s", slash ? slash + 1 : tmp);
	return buf;
}

int kp_stage_collect(kp_opts *o, const char *run)
{
	kp_error err = {0};
	if (!o->snapshot) {
		fprintf(stderr, "kopilot collect: --snapshot DIR is required (live collection is not implemented yet)\n");
		return KP_EXIT_USAGE;
	}
	kp_cluster *c = o->cluster;
	kp_status s = KP_OK;
	if (!c) {
		kp_log(KP_LOG_INFO, "collect: reading snapshot %s", o->snapshot);
		c = kp_xcalloc(1, sizeof(*c));
		kp_cluster_init(c);
		s = kp_snapshot_load(c, o->snapshot, &err);
		if (s) {
			kp_cluster_release(c);
			free(c);
			return fail("collect", &err);
		}
	}
	o->cluster = NULL;
	for (int r = 0; r < KP_RES_COUNT; r++) {
		json_object *f = fields("resource", json_object_new_string(kp_resource_name((kp_resource)r)));
		json_object_object_add(f, "collected", json_object_new_boolean(c->collected[r]));
		json_object_object_add(f, "source", json_object_new_string("snapshot"));
		kp_audit_event(&o->audit, "collect.list", f);
	}
	kp_audit_event(&o->audit, "collect.usage", fields("collected", json_object_new_boolean(c->usage_collected)));

	char *snapdir = kp_path_join(run, "snapshot");
	char *objdir = kp_path_join(snapdir, "objects");
	char real_a[PATH_MAX], real_b[PATH_MAX];
	bool same = realpath(o->snapshot, real_a) && realpath(snapdir, real_b) && strcmp(real_a, real_b) == 0;
	if (!same) {
		s = kp_mkdir_p(objdir, &err);
		for (int r = 0; r < KP_RES_COUNT && !s; r++) {
			if (!c->collected[r])
				continue;
			char rel[128];
			snprintf(rel, sizeof(rel), "objects/%s.json", kp_resource_name((kp_resource)r));
			char *from = kp_path_join(o->snapshot, rel), *to = kp_path_join(snapdir, rel);
			s = kp_copy_file_atomic(from, to, &err);
			free(from);
			free(to);
		}
		if (!s && c->usage_collected) {
			char *from = kp_path_join(o->snapshot, "usage.json"), *to = kp_path_join(snapdir, "usage.json");
			s = kp_copy_file_atomic(from, to, &err);
			free(from);
			free(to);
		}
	}
	if (!s) {
		/* cluster.json: the cluster's name for the reports. */
		char name[256];
		json_object *cl = json_object_new_object();
		json_object_object_add(cl, "name", json_object_new_string(o->cfg.collect.cluster_name ? o->cfg.collect.cluster_name
									    : base_name(o->snapshot, name, sizeof(name))));
		json_object_object_add(cl, "context", NULL);
		json_object_object_add(cl, "server", NULL);
		json_object_object_add(cl, "source", json_object_new_string("snapshot"));
		char *p = kp_path_join(snapdir, "cluster.json");
		s = kp_json_write_file(p, cl, &err);
		free(p);
		json_object_put(cl);
	}
	if (!s) {
		/* model.bin: the loaded model, so `kopilot analyze RUN` need not
		 * parse the raw files again. Written after them (it records their
		 * sizes and mtimes). Only a cache: failing to write it costs
		 * analyze time, not correctness. */
		kp_error cerr = {0};
		if (kp_snapshot_cache_write(c, snapdir, &cerr))
			kp_log(KP_LOG_WARN, "collect: model cache not written (analyze will read the raw files): %s",
			       cerr.msg);
	}
	free(snapdir);
	free(objdir);
	if (s) {
		kp_cluster_release(c);
		free(c);
		return fail("collect", &err);
	}
	for (size_t i = 0; i < c->missing.len; i++)
		kp_log(KP_LOG_WARN, "collect: %s", c->missing.items[i]);
	int rc = c->missing.len ? KP_EXIT_DEGRADED : KP_EXIT_OK;
	o->cluster = c; /* handed to analyze when run in one process */
	return rc;
}

/* ---- analyze ---- */

/* --namespace names a namespace the snapshot has (when it has the list):
 * a typo would otherwise give an empty report that looks like good news. */
static bool namespaces_known(const char *cmd, const kp_opts *o, const kp_cluster *c)
{
	if (!o->nnamespaces || !c->collected[KP_RES_NAMESPACES])
		return true;
	for (size_t i = 0; i < o->nnamespaces; i++) {
		bool found = false;
		for (size_t j = 0; j < c->namespaces.len && !found; j++)
			found = strcmp(c->namespaces.items[j].meta.name, o->namespaces[i]) == 0;
		if (!found) {
			fprintf(stderr, "kopilot %s: flag --namespace: namespace \"%s\" is not in the snapshot (objects/namespaces.json)\n",
				cmd, o->namespaces[i]);
			return false;
		}
	}
	return true;
}

int kp_stage_analyze(kp_opts *o, const char *run)
{
	kp_error err = {0};
	char *snapdir = kp_path_join(run, "snapshot");
	kp_cluster *c = o->cluster;
	if (!c) {
		c = kp_xcalloc(1, sizeof(*c));
		kp_cluster_init(c);
		bool cached = false;
		kp_status s = kp_snapshot_load_cached(c, snapdir, &cached, &err);
		if (!s)
			kp_log(KP_LOG_DEBUG, "analyze: read %s", cached ? "the model cache snapshot/model.bin"
								      : "the raw snapshot files");
		if (s) {
			free(snapdir);
			kp_cluster_release(c);
			free(c);
			if (s == KP_ERR_USAGE)
				kp_error_prefix(&err, "%s is not a run directory (run `kopilot collect` first)", run);
			return fail("analyze", &err);
		}
	}
	o->cluster = NULL;
	/* The cluster's name: flag/config, else what collect recorded. */
	json_object *cl = NULL;
	char *clpath = kp_path_join(snapdir, "cluster.json");
	if (kp_file_exists(clpath) && kp_json_read_file(clpath, &cl, &err)) {
		free(clpath);
		free(snapdir);
		kp_cluster_release(c);
		free(c);
		return fail("analyze", &err);
	}
	free(clpath);
	free(snapdir);
	const char *name = o->cfg.collect.cluster_name ? o->cfg.collect.cluster_name : kp_json_str(cl, "name");
	c->name = kp_arena_strdup(&c->arena, name ? name : "unknown");
	json_object_put(cl);

	kp_log(KP_LOG_INFO, "analyze: %zu pods, %zu workloads, %zu PVCs, %zu usage entries", c->pods.len,
	       c->workloads.len, c->pvcs.len, c->usage.len);
	if (!namespaces_known("analyze", o, c)) {
		kp_cluster_release(c);
		free(c);
		return KP_EXIT_USAGE;
	}
	kp_findings f;
	kp_findings_init(&f);
	kp_analyze_ctx ctx = {.cluster = c, .cfg = &o->cfg, .now = o->now, .out = &f};
	kp_analyze(&ctx);
	/* --namespace: after the rules, so they still see the whole cluster (a
	 * PVC is not orphaned because its pod is elsewhere), and before
	 * analysis.json, so its findings, skipped and totals agree. */
	kp_scope_namespaces(&f, o->namespaces, o->nnamespaces);
	/* Memory: the rules are done and findings own copies of their strings,
	 * so the model's object arrays go before analysis.json's tree is built
	 * (kp_analysis_doc reads only their lengths, kept), and the findings
	 * once the tree holds them: 150,000 pods stay under 300 MB this way. */
	free(c->pods.items);
	free(c->workloads.items);
	free(c->usage.items);
	c->pods.items = NULL;
	c->workloads.items = NULL;
	c->usage.items = NULL;
	json_object *doc = kp_analysis_doc(c, &f, o->now);
	json_object_object_add(doc, "scope", kp_scope_json(o->namespaces, o->nnamespaces));
	json_object *af = fields("findings", json_object_new_int64((int64_t)f.items.len));
	json_object_object_add(af, "skipped", json_object_new_int64((int64_t)f.skipped.len));
	kp_buf rules;
	kp_buf_init(&rules);
	for (size_t i = 0; kp_analyze_rule_name(i); i++)
		kp_buf_printf(&rules, "%s%s", i ? "," : "", kp_analyze_rule_name(i));
	json_object_object_add(af, "rules", json_object_new_string(kp_buf_cstr(&rules)));
	kp_buf_release(&rules);
	int rc = c->missing.len ? KP_EXIT_DEGRADED : KP_EXIT_OK;
	kp_findings_release(&f);
	kp_cluster_release(c);
	free(c);
	char *path = kp_path_join(run, "analysis.json");
	kp_status s = kp_json_write_file(path, doc, &err);
	free(path);
	kp_audit_event(&o->audit, "analyze", af);
	json_object_put(doc);
	if (s)
		return fail("analyze", &err);
	return rc;
}

/* ---- recommend ---- */

static int missing_exit(json_object *doc)
{
	json_object *m = kp_json_get(doc, "missing");
	return json_object_is_type(m, json_type_array) && json_object_array_length(m) > 0 ? KP_EXIT_DEGRADED : KP_EXIT_OK;
}

/* Finds and reads the previous run once: --previous RUN_DIR, else the most
 * recent run in --state-dir other than exclude (the run being written).
 * A bad path is a usage error (2), a corrupt findings.json a failure (4);
 * both name the flag and the file. */
static int resolve_previous(const char *cmd, kp_opts *o, const char *exclude)
{
	if (o->previous_resolved)
		return KP_EXIT_OK;
	o->previous_resolved = true;
	kp_error err = {0};
	const char *flag = o->previous ? "--previous" : "--state-dir";
	char *run = NULL;
	if (o->previous) {
		run = kp_xstrdup(o->previous);
	} else if (o->state_dir) {
		if (kp_history_latest_run(o->state_dir, exclude, &run, &err)) {
			fprintf(stderr, "kopilot %s: flag --state-dir: %s\n", cmd, err.msg);
			return kp_status_exit_code(err.status);
		}
		if (!run)
			kp_log(KP_LOG_INFO, "%s: no previous run in %s: nothing to compare with", cmd, o->state_dir);
	}
	if (!run)
		return KP_EXIT_OK;
	if (kp_history_load(run, &o->previous_doc, &err)) {
		fprintf(stderr, "kopilot %s: flag %s: %s\n", cmd, flag, err.msg);
		free(run);
		return kp_status_exit_code(err.status);
	}
	kp_log(KP_LOG_INFO, "%s: comparing with the previous run %s", cmd, run);
	o->previous_run = run;
	return KP_EXIT_OK;
}

int kp_stage_recommend(kp_opts *o, const char *run)
{
	kp_error err = {0};
	int prc = resolve_previous("recommend", o, run);
	if (prc != KP_EXIT_OK)
		return prc;
	char *apath = kp_path_join(run, "analysis.json");
	json_object *analysis = NULL;
	if (kp_json_read_file(apath, &analysis, &err)) {
		free(apath);
		return fail("recommend", &err);
	}
	json_object *findings = NULL, *plan = NULL;
	kp_status s = kp_recommend(&o->cfg, analysis, apath, &findings, &plan, &err);
	free(apath);
	if (s) {
		json_object_put(analysis);
		return fail("recommend", &err);
	}
	/* The scope analyze recorded, carried into findings.json and plan.json
	 * (absent in an analysis.json from before scopes: the whole cluster). */
	json_object *scope = kp_json_get(analysis, "scope");
	scope = scope ? json_object_get(scope) : kp_scope_json(NULL, 0);
	json_object_object_add(findings, "scope", scope);
	json_object_object_add(plan, "scope", json_object_get(scope));
	kp_history_apply(findings, o->previous_doc, o->previous_run);
	json_object *hist = fields("previous_run", o->previous_run ? json_object_new_string(o->previous_run) : NULL);
	json_object *changes = kp_json_get(findings, "changes");
	static const char *const counts[] = {"new", "persisting", "resolved"};
	for (size_t i = 0; i < 3 && o->previous_run; i++)
		json_object_object_add(hist, counts[i], json_object_get(kp_json_get(changes, counts[i])));
	kp_audit_event(&o->audit, "history", hist);
	json_object *arr = kp_json_get(findings, "findings");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *f = json_object_array_get_idx(arr, i);
		json_object *ev = json_object_new_object();
		json_object_object_add(ev, "finding", json_object_get(kp_json_get(f, "id")));
		json_object_object_add(ev, "category", json_object_get(kp_json_get(f, "category")));
		json_object_object_add(ev, "namespace", json_object_get(kp_json_get(f, "resource.namespace")));
		json_object_object_add(ev, "name", json_object_get(kp_json_get(f, "resource.name")));
		json_object_object_add(ev, "command", json_object_get(kp_json_get(f, "action.command")));
		json_object_object_add(ev, "risk", json_object_get(kp_json_get(f, "risk")));
		json_object_object_add(ev, "destructive", json_object_get(kp_json_get(f, "action.destructive")));
		json_object_object_add(ev, "approval_required", json_object_get(kp_json_get(f, "action.approval_required")));
		json_object_object_add(ev, "blocked", json_object_get(kp_json_get(f, "action.blocked")));
		json_object_object_add(ev, "blocked_reason", json_object_get(kp_json_get(f, "action.blocked_reason")));
		kp_audit_event(&o->audit, "safety.decision", ev);
	}
	char *fpath = kp_path_join(run, "findings.json"), *ppath = kp_path_join(run, "plan.json");
	json_object_put(analysis); /* not needed past here: memory back before serialising */
	int rc = missing_exit(findings);
	s = kp_json_write_file(fpath, findings, &err);
	json_object_put(findings); /* and its serialised text, before plan.json's */
	if (!s)
		s = kp_json_write_file(ppath, plan, &err);
	free(fpath);
	free(ppath);
	json_object_put(plan);
	if (s)
		return fail("recommend", &err);
	kp_audit_event(&o->audit, "recommend", fields("prices_source", json_object_new_string(o->cfg.prices.source)));
	return rc;
}

/* ---- render ---- */

/* ", namespace a" / ", namespaces a, b" for a findings document scoped by
 * --namespace; nothing for the whole cluster. */
static void scope_suffix(json_object *doc, kp_buf *out)
{
	json_object *scope_ns = kp_json_get(doc, "scope.namespaces");
	size_t nscope = json_object_is_type(scope_ns, json_type_array) ? json_object_array_length(scope_ns) : 0;
	for (size_t i = 0; i < nscope; i++)
		kp_buf_printf(out, "%s%s", i ? ", " : (nscope == 1 ? ", namespace " : ", namespaces "),
			      json_object_get_string(json_object_array_get_idx(scope_ns, i)));
}

int kp_stage_render(kp_opts *o, const char *run)
{
	kp_error err = {0};
	char *fpath = kp_path_join(run, "findings.json");
	json_object *doc = NULL;
	if (kp_json_read_file(fpath, &doc, &err)) {
		free(fpath);
		return fail("render", &err);
	}
	const char *schema = kp_json_str(doc, "schema");
	if (!schema || strcmp(schema, KP_FINDINGS_SCHEMA) != 0) {
		kp_fail(&err, KP_ERR_INPUT, "%s: schema: expected \"%s\"", fpath, KP_FINDINGS_SCHEMA);
		free(fpath);
		json_object_put(doc);
		return fail("render", &err);
	}
	free(fpath);
	json_object *info = json_object_new_object();
	json_object_object_add(info, "version", json_object_new_string(KP_VERSION));
	json_object *missing = kp_json_get(doc, "missing");
	json_object_object_add(info, "missing", missing ? json_object_get(missing) : json_object_new_array());
	int rc = missing_exit(doc);
	json_object_object_add(info, "degraded", json_object_new_boolean(rc == KP_EXIT_DEGRADED));

	char *md = NULL, *html = NULL;
	char *mdpath = kp_path_join(run, "report.md"), *htmlpath = kp_path_join(run, "report.html"),
	     *xlsxpath = kp_path_join(run, "report.xlsx");
	char title[512];
	kp_buf nsl;
	kp_buf_init(&nsl);
	scope_suffix(doc, &nsl);
	snprintf(title, sizeof(title), "kopilot report: %s%s",
		 kp_json_str(doc, "cluster.name") ? kp_json_str(doc, "cluster.name") : "cluster", kp_buf_cstr(&nsl));
	kp_buf_release(&nsl);
	/* Render everything in memory first, then write: a template error
	 * leaves the previous reports untouched. */
	kp_status s = kp_render_markdown(doc, info, o->cfg.render.report_template, &md, &err);
	if (!s)
		s = kp_render_html(md, title, &html, &err);
	/* All three are written to staged names first and renamed together
	 * only when every one was written, so a full disk never leaves a new
	 * report.xlsx beside yesterday's report.md. */
	const char *finals[3] = {mdpath, htmlpath, xlsxpath};
	char *staged[3];
	for (int i = 0; i < 3; i++)
		staged[i] = kp_temp_path_for(finals[i]);
	if (!s)
		s = kp_write_file_atomic(staged[0], md, strlen(md), &err);
	if (!s)
		s = kp_write_file_atomic(staged[1], html, strlen(html), &err);
	if (!s)
		s = kp_render_xlsx(doc, staged[2], &err);
	for (int i = 0; i < 3; i++) {
		if (!s)
			s = kp_commit_temp(staged[i], finals[i], &err);
		else
			unlink(staged[i]);
		free(staged[i]);
	}
	if (!s) {
		json_object *ev = fields("outputs", json_object_new_string("report.md,report.html,report.xlsx"));
		json_object_object_add(ev, "template", o->cfg.render.report_template ? json_object_new_string(o->cfg.render.report_template)
									  : json_object_new_string("builtin"));
		kp_audit_event(&o->audit, "render", ev);
	}
	free(md);
	free(html);
	free(mdpath);
	free(htmlpath);
	free(xlsxpath);
	json_object_put(info);
	json_object_put(doc);
	if (s)
		return fail("render", &err);
	return rc;
}

/* ---- commands ---- */

/* Common prologue: parse flags, --help, configuration, audit file. */
static int prologue(const char *cmd, int argc, char **argv, const char *const *flags, size_t npos, kp_opts *o,
		    bool *done)
{
	*done = true;
	if (!kp_parse_flags(cmd, argc, argv, flags, npos, o))
		return KP_EXIT_USAGE;
	if (o->help) {
		kp_print_help(cmd);
		return KP_EXIT_OK;
	}
	if (live_flags_refused(cmd, o))
		return KP_EXIT_USAGE;
	if (!kp_opts_load_config(cmd, o))
		return KP_EXIT_USAGE;
	*done = false;
	return KP_EXIT_OK;
}

static int open_run(const char *cmd, kp_opts *o, const char *run, bool create)
{
	kp_error err = {0};
	if (create && kp_mkdir_p(run, &err)) {
		fprintf(stderr, "kopilot %s: %s\n", cmd, err.msg);
		return KP_EXIT_FAILED;
	}
	if (!create && !kp_file_exists(run)) {
		fprintf(stderr, "kopilot %s: %s: run directory does not exist\n", cmd, run);
		return KP_EXIT_USAGE;
	}
	char *audit = kp_path_join(run, "audit.jsonl");
	kp_audit_init(&o->audit, audit);
	free(audit);
	json_object *f = fields("command", json_object_new_string(cmd));
	json_object_object_add(f, "version", json_object_new_string(KP_VERSION));
	kp_audit_event(&o->audit, "command.start", f);
	return KP_EXIT_OK;
}

static int close_run(const char *cmd, kp_opts *o, int rc)
{
	kp_error err = {0};
	json_object *f = fields("command", json_object_new_string(cmd));
	json_object_object_add(f, "exit_code", json_object_new_int(rc));
	kp_audit_event(&o->audit, "command.end", f);
	if (kp_audit_flush(&o->audit, &err)) {
		fprintf(stderr, "kopilot %s: %s\n", cmd, err.msg);
		if (rc == KP_EXIT_OK || rc == KP_EXIT_DEGRADED)
			rc = KP_EXIT_FAILED;
	}
	return rc;
}

/* Worse of two stage results: failures beat degraded beats ok. */
static int worse(int a, int b)
{
	if (a == KP_EXIT_FAILED || b == KP_EXIT_FAILED)
		return KP_EXIT_FAILED;
	if (a == KP_EXIT_USAGE || b == KP_EXIT_USAGE)
		return KP_EXIT_USAGE;
	return a > b ? a : b;
}

static int single_stage(const char *cmd, int argc, char **argv, const char *const *flags,
			int (*stage)(kp_opts *, const char *))
{
	kp_opts o;
	memset(&o, 0, sizeof(o));
	bool done;
	int rc = prologue(cmd, argc, argv, flags, 1, &o, &done);
	if (done) {
		kp_opts_release(&o);
		return rc;
	}
	if (o.npositional != 1) {
		fprintf(stderr, "kopilot %s: expected the run directory (usage: kopilot %s RUN)\n", cmd, cmd);
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	const char *run = o.positional[0];
	rc = open_run(cmd, &o, run, false);
	if (rc == KP_EXIT_OK)
		rc = close_run(cmd, &o, stage(&o, run));
	kp_opts_release(&o);
	return rc;
}

static const char *const stage_flags[] = {"--config", "--set", "--now", "--template", "--cluster-name", "--quiet", NULL};
static const char *const analyze_flags[] = {"--config",	  "--set",   "--now",	    "--template",
					    "--cluster-name", "--quiet", "--namespace", NULL};
static const char *const recommend_flags[] = {"--config", "--set",	"--now",      "--template", "--cluster-name",
					      "--quiet",  "--previous", "--state-dir", NULL};

int cmd_analyze(int argc, char **argv) { return single_stage("analyze", argc, argv, analyze_flags, kp_stage_analyze); }
int cmd_recommend(int argc, char **argv)
{
	return single_stage("recommend", argc, argv, recommend_flags, kp_stage_recommend);
}
int cmd_render(int argc, char **argv) { return single_stage("render", argc, argv, stage_flags, kp_stage_render); }

int cmd_collect(int argc, char **argv)
{
	kp_opts o;
	memset(&o, 0, sizeof(o));
	bool done;
	int rc = prologue("collect", argc, argv, collect_flags, 0, &o, &done);
	if (!done) {
		if (!o.out) {
			fprintf(stderr, "kopilot collect: --out RUN is required\n");
			rc = KP_EXIT_USAGE;
		} else if ((rc = open_run("collect", &o, o.out, true)) == KP_EXIT_OK) {
			rc = close_run("collect", &o, kp_stage_collect(&o, o.out));
		}
	}
	if (o.cluster) {
		kp_cluster_release(o.cluster);
		free(o.cluster);
	}
	kp_opts_release(&o);
	return rc;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void money(double v, char *out, size_t n, const char *currency)
{
	/* thousands separators for the terminal summary */
	char digits[64];
	snprintf(digits, sizeof(digits), "%.2f", v < 0 ? -v : v);
	char *dot = strchr(digits, '.');
	size_t intlen = (size_t)(dot - digits);
	char buf[96];
	size_t k = 0;
	for (size_t i = 0; i < intlen; i++) {
		if (i && (intlen - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = digits[i];
	}
	buf[k] = '\0';
	if (strcmp(currency, "USD") == 0)
		snprintf(out, n, "%s$%s%s", v < 0 ? "-" : "", buf, dot);
	else
		snprintf(out, n, "%s%s%s %s", v < 0 ? "-" : "", buf, dot, currency);
}

/* doc: the run's findings.json, already read for run.json. */
static void print_summary(const char *run, json_object *doc)
{
	const char *cur = kp_json_str(doc, "prices.currency");
	cur = cur ? cur : "USD";
	char m[64];
	money(json_object_get_double(kp_json_get(doc, "totals.monthly_savings")), m, sizeof(m), cur);
	json_object *arr = kp_json_get(doc, "findings");
	size_t n = json_object_array_length(arr);
	kp_buf nsl;
	kp_buf_init(&nsl);
	scope_suffix(doc, &nsl);
	printf("\nkopilot: %zu finding%s in cluster %s%s, %s/month potential savings\n", n, n == 1 ? "" : "s",
	       kp_json_str(doc, "cluster.name") ? kp_json_str(doc, "cluster.name") : "?", kp_buf_cstr(&nsl), m);
	kp_buf_release(&nsl);
	if (kp_json_str(doc, "changes.previous_run"))
		printf("  since the previous run (%s): %lld new, %lld persisting, %lld resolved\n",
		       kp_json_str(doc, "changes.previous_run"),
		       (long long)json_object_get_int64(kp_json_get(doc, "changes.new")),
		       (long long)json_object_get_int64(kp_json_get(doc, "changes.persisting")),
		       (long long)json_object_get_int64(kp_json_get(doc, "changes.resolved")));
	printf("\n");
	if (n) {
		printf("  %-3s %-16s %-50s %-21s %12s\n", "#", "NAMESPACE", "NAME", "CATEGORY", "$/MONTH");
		for (size_t i = 0; i < n && i < 10; i++) {
			json_object *f = json_object_array_get_idx(arr, i);
			char name[256];
			const char *ct = kp_json_str(f, "container");
			snprintf(name, sizeof(name), "%s/%s%s%s", kp_json_str(f, "resource.kind"), kp_json_str(f, "resource.name"),
				 ct ? " [" : "", ct ? ct : "");
			if (ct)
				strncat(name, "]", sizeof(name) - strlen(name) - 1);
			const char *ns = kp_json_str(f, "resource.namespace");
			money(json_object_get_double(kp_json_get(f, "monthly_savings")), m, sizeof(m), cur);
			/* long names keep their start and end: the end says which container */
			if (strlen(name) > 50)
				memmove(name + 24, name + strlen(name) - 23, 24), memcpy(name + 21, "...", 3);
			printf("  %-3zu %-16.16s %-50.50s %-21s %12s%s\n", i + 1, ns ? ns : "-", name,
			       kp_json_str(f, "category"), m,
			       json_object_get_boolean(kp_json_get(f, "action.blocked")) ? "  (blocked)" : "");
		}
	}
	json_object *missing = kp_json_get(doc, "missing");
	size_t nm = json_object_is_type(missing, json_type_array) ? json_object_array_length(missing) : 0;
	if (nm) {
		printf("\n  Degraded: %zu input%s not collected:\n", nm, nm == 1 ? "" : "s");
		for (size_t i = 0; i < nm; i++)
			printf("    - %s\n", json_object_get_string(json_object_array_get_idx(missing, i)));
	}
	printf("\nReports:\n  %s/report.html\n  %s/report.md\n  %s/report.xlsx\n  %s/findings.json\n", run, run, run, run);
}

static bool mentions_secret(const char *s, size_t n)
{
	static const char *const words[] = {"key", "token", "secret", "password"};
	for (size_t w = 0; w < 4; w++) {
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
			json_object_array_add(a, json_object_new_string(s));
		}
	}
	return a;
}

int cmd_run(int argc, char **argv)
{
	kp_opts o;
	memset(&o, 0, sizeof(o));
	bool done;
	int rc = prologue("run", argc, argv, run_flags, 0, &o, &done);
	if (done) {
		kp_opts_release(&o);
		return rc;
	}
	if (!o.snapshot || (!o.out && !o.state_dir)) {
		fprintf(stderr, "kopilot run: %s is required (usage: kopilot run --snapshot DIR --out RUN)\n",
			!o.snapshot ? "--snapshot DIR" : "--out RUN (or --state-dir DIR)");
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	/* Read and validate the snapshot before creating anything, so bad
	 * input leaves no run directory behind. */
	int64_t t_start = (int64_t)time(NULL);
	double load_t0 = now_seconds();
	kp_log(KP_LOG_INFO, "collect: reading snapshot %s", o.snapshot);
	kp_error lerr = {0};
	o.cluster = kp_xcalloc(1, sizeof(*o.cluster));
	kp_cluster_init(o.cluster);
	if (kp_snapshot_load(o.cluster, o.snapshot, &lerr)) {
		fprintf(stderr, "kopilot run: %s\n", lerr.msg);
		kp_cluster_release(o.cluster);
		free(o.cluster);
		kp_opts_release(&o);
		return kp_status_exit_code(lerr.status);
	}
	/* Reading the snapshot is the collect stage's work, done early. */
	double load_seconds = now_seconds() - load_t0;
	/* Flags that need the snapshot or the previous run are checked before
	 * the run directory exists, for the same reason. */
	char *out_owned = NULL;
	if (!namespaces_known("run", &o, o.cluster))
		rc = KP_EXIT_USAGE;
	else
		rc = resolve_previous("run", &o, o.out);
	if (rc == KP_EXIT_OK && !o.out) {
		/* --state-dir without --out: a new timestamped run directory */
		kp_error serr = {0};
		if (kp_mkdir_p(o.state_dir, &serr)) {
			fprintf(stderr, "kopilot run: flag --state-dir: %s\n", serr.msg);
			rc = KP_EXIT_USAGE;
		} else {
			o.out = out_owned = kp_history_new_run_path(o.state_dir, t_start);
		}
	}
	char started[32];
	kp_time_format(t_start, started);
	if (rc != KP_EXIT_OK || (rc = open_run("run", &o, o.out, true)) != KP_EXIT_OK) {
		kp_cluster_release(o.cluster);
		free(o.cluster);
		kp_opts_release(&o);
		free(out_owned);
		return rc;
	}
	static const char *const names[] = {"collect", "analyze", "recommend", "render"};
	int (*stages[])(kp_opts *, const char *) = {kp_stage_collect, kp_stage_analyze, kp_stage_recommend,
						    kp_stage_render};
	json_object *timings = json_object_new_object();
	rc = KP_EXIT_OK;
	for (size_t i = 0; i < 4; i++) {
		double t0 = now_seconds();
		int src = stages[i](&o, o.out);
		double took = now_seconds() - t0 + (i == 0 ? load_seconds : 0);
		json_object_object_add(timings, names[i], kp_json_new_number((double)(int64_t)(took * 1e6) / 1e6));
		rc = worse(rc, src);
		if (src != KP_EXIT_OK && src != KP_EXIT_DEGRADED)
			break;
	}
	if (o.cluster) {
		kp_cluster_release(o.cluster);
		free(o.cluster);
		o.cluster = NULL;
	}

	/* run.json: what ran, how long, how big, how it ended. No secrets:
	 * the configuration is masked and arguments with secrets are too. */
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	json_object *r = json_object_new_object();
	char finished[32];
	kp_time_format((int64_t)time(NULL), finished);
	json_object_object_add(r, "schema", json_object_new_string("kopilot.run/v1"));
	json_object_object_add(r, "version", json_object_new_string(KP_VERSION));
	json_object_object_add(r, "command", json_object_new_string("run"));
	json_object_object_add(r, "args", masked_args(argc, argv));
	json_object_object_add(r, "started_at", json_object_new_string(started));
	json_object_object_add(r, "finished_at", json_object_new_string(finished));
	char nowbuf[32];
	kp_time_format(o.now, nowbuf);
	json_object_object_add(r, "now", json_object_new_string(nowbuf));
	json_object_object_add(r, "stage_seconds", timings);
	json_object_object_add(r, "peak_rss_bytes", json_object_new_int64((int64_t)ru.ru_maxrss * 1024));
	json_object_object_add(r, "config", kp_config_to_json(&o.cfg));
	json_object_object_add(r, "previous_run", o.previous_run ? json_object_new_string(o.previous_run) : NULL);
	char *fpath = kp_path_join(o.out, "findings.json");
	json_object *fd = NULL;
	kp_error err = {0};
	if (kp_file_exists(fpath) && !kp_json_read_file(fpath, &fd, &err)) {
		json_object *counts = json_object_new_object();
		json_object_object_add(counts, "findings", json_object_get(kp_json_get(fd, "totals.findings")));
		json_object_object_add(counts, "skipped",
				       json_object_new_int64((int64_t)json_object_array_length(kp_json_get(fd, "skipped"))));
		json_object_object_add(counts, "monthly_savings", json_object_get(kp_json_get(fd, "totals.monthly_savings")));
		json_object_object_add(r, "counts", counts);
		json_object_object_add(r, "missing", json_object_get(kp_json_get(fd, "missing")));
	}
	free(fpath);
	static const char *const status_names[] = {[0] = "ok", [2] = "usage-error", [3] = "degraded", [4] = "failed"};
	json_object_object_add(r, "exit_code", json_object_new_int(rc));
	json_object_object_add(r, "exit_status", json_object_new_string(rc <= 4 && status_names[rc] ? status_names[rc] : "failed"));
	char *rpath = kp_path_join(o.out, "run.json");
	if (kp_json_write_file(rpath, r, &err)) {
		kp_log(KP_LOG_ERROR, "%s", err.msg);
		rc = KP_EXIT_FAILED;
	}
	free(rpath);
	json_object_put(r);
	rc = close_run("run", &o, rc);
	if (!o.quiet && fd && (rc == KP_EXIT_OK || rc == KP_EXIT_DEGRADED))
		print_summary(o.out, fd);
	json_object_put(fd);
	kp_opts_release(&o);
	free(out_owned);
	return rc;
}
