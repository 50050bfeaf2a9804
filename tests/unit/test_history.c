/*
 * test_history.c - run-to-run comparison (matching by id, first_seen
 * carried forward, the resolved list, finding the previous run in a state
 * directory, rejecting a bad previous findings.json), plan ordering, the
 * namespace scope filter, and the report's plan/changes/scope sections.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/findings_json.h"
#include "pipeline/model.h"
#include "stages/analyze/analyze.h"
#include "stages/recommend/history.h"
#include "pipeline/plan.h"
#include "stages/render/render.h"

/* ---- fixtures ---- */

/* A minimal findings document: one finding per "id:category:ns:name:savings"
 * spec (ns "-" = cluster-scoped), optional extra JSON members per finding. */
static json_object *hist_doc(const char *generated_at, const char *const *specs, size_t n)
{
	json_object *doc = json_object_new_object();
	json_object_object_add(doc, "schema", json_object_new_string("kopilot.findings/v1"));
	json_object_object_add(doc, "generated_at", json_object_new_string(generated_at));
	json_object *prices = json_object_new_object();
	json_object_object_add(prices, "currency", json_object_new_string("USD"));
	json_object_object_add(doc, "prices", prices);
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		char id[32], cat[64], ns[64], name[64];
		double sav;
		cr_assert_eq(sscanf(specs[i], "%31[^:]:%63[^:]:%63[^:]:%63[^:]:%lf", id, cat, ns, name, &sav), 5);
		json_object *f = json_object_new_object();
		json_object_object_add(f, "id", json_object_new_string(id));
		json_object_object_add(f, "category", json_object_new_string(cat));
		json_object *r = json_object_new_object();
		json_object_object_add(r, "apiVersion", json_object_new_string("v1"));
		json_object_object_add(r, "kind", json_object_new_string("PersistentVolumeClaim"));
		json_object_object_add(r, "namespace", strcmp(ns, "-") ? json_object_new_string(ns) : NULL);
		json_object_object_add(r, "name", json_object_new_string(name));
		json_object_object_add(f, "resource", r);
		json_object_object_add(f, "container", NULL);
		json_object_object_add(f, "monthly_savings", json_object_new_double(sav));
		json_object_object_add(f, "risk", json_object_new_string("LOW"));
		json_object_array_add(arr, f);
	}
	json_object_object_add(doc, "findings", arr);
	return doc;
}

static json_object *hist_finding(json_object *doc, size_t i)
{
	return json_object_array_get_idx(kp_json_get(doc, "findings"), i);
}

/* action flags on finding i: blocked, destructive, approval */
static void hist_action(json_object *doc, size_t i, bool blocked, bool destructive, bool approval, const char *cmd)
{
	json_object *a = json_object_new_object();
	json_object_object_add(a, "type", json_object_new_string(destructive ? "delete" : "resize"));
	json_object_object_add(a, "destructive", json_object_new_boolean(destructive));
	json_object_object_add(a, "approval_required", json_object_new_boolean(approval));
	json_object_object_add(a, "blocked", json_object_new_boolean(blocked));
	json_object_object_add(a, "blocked_reason", blocked ? json_object_new_string("protected") : NULL);
	json_object_object_add(a, "command", cmd ? json_object_new_string(cmd) : NULL);
	json_object_object_add(hist_finding(doc, i), "action", a);
}

static char hist_tmp[256];

static void hist_mkdtemp(void)
{
	snprintf(hist_tmp, sizeof(hist_tmp), "/tmp/kp-test-history.XXXXXX");
	cr_assert_not_null(mkdtemp(hist_tmp));
}

static void hist_write(const char *dir, const char *file, const char *text)
{
	char *d = kp_path_join(hist_tmp, dir);
	mkdir(d, 0755);
	char *p = kp_path_join(d, file);
	FILE *fp = fopen(p, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(p);
	free(d);
}

static void hist_rmrf(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", hist_tmp);
	cr_assert_eq(system(cmd), 0);
}

/* ---- matching ---- */

Test(history_match, no_previous_run_omits_trend)
{
	const char *s[] = {"aaaaaaaaaaaaaaaa:orphaned-pvc:shop:a:4"};
	json_object *doc = hist_doc("2026-11-25T06:00:00Z", s, 1);
	kp_history_apply(doc, NULL, NULL);
	json_object *ch = kp_json_get(doc, "changes");
	cr_assert(json_object_is_type(ch, json_type_object));
	json_object *pr;
	cr_assert(json_object_object_get_ex(ch, "previous_run", &pr));
	cr_assert_null(pr);
	cr_assert_eq(json_object_object_length(ch), 1);
	cr_assert_null(kp_json_get(hist_finding(doc, 0), "trend"));
	cr_assert_null(kp_json_get(hist_finding(doc, 0), "first_seen"));
	json_object_put(doc);
}

Test(history_match, new_persisting_resolved_by_id)
{
	const char *old[] = {"aaaaaaaaaaaaaaaa:orphaned-pvc:shop:a:4", "bbbbbbbbbbbbbbbb:orphaned-pvc:shop:b:2.5",
			     "cccccccccccccccc:unbound-pv:-:pv-1:1"};
	/* a persists with different numbers; b is gone; d is new */
	const char *cur[] = {"aaaaaaaaaaaaaaaa:orphaned-pvc:shop:a:9",
			     "dddddddddddddddd:orphaned-pvc:shop:d:1", "cccccccccccccccc:unbound-pv:-:pv-1:1"};
	json_object *prev = hist_doc("2026-11-24T06:00:00Z", old, 3), *doc = hist_doc("2026-11-25T06:00:00Z", cur, 3);
	kp_history_apply(doc, prev, "runs/20261124T060000Z");
	cr_assert_str_eq(kp_json_str(doc, "changes.previous_run"), "runs/20261124T060000Z");
	cr_assert_str_eq(kp_json_str(doc, "changes.previous_generated_at"), "2026-11-24T06:00:00Z");
	cr_assert_eq(json_object_get_int64(kp_json_get(doc, "changes.new")), 1);
	cr_assert_eq(json_object_get_int64(kp_json_get(doc, "changes.persisting")), 2);
	cr_assert_eq(json_object_get_int64(kp_json_get(doc, "changes.resolved")), 1);
	cr_assert_str_eq(kp_json_str(hist_finding(doc, 0), "trend"), "persisting");
	cr_assert_str_eq(kp_json_str(hist_finding(doc, 1), "trend"), "new");
	cr_assert_str_eq(kp_json_str(hist_finding(doc, 2), "trend"), "persisting");
	/* first seen: the previous run for persisting ones, this run for new ones */
	cr_assert_str_eq(kp_json_str(hist_finding(doc, 0), "first_seen"), "2026-11-24T06:00:00Z");
	cr_assert_str_eq(kp_json_str(hist_finding(doc, 1), "first_seen"), "2026-11-25T06:00:00Z");
	json_object *res = kp_json_get(doc, "changes.resolved_findings");
	cr_assert_eq(json_object_array_length(res), 1);
	json_object *r = json_object_array_get_idx(res, 0);
	cr_assert_str_eq(kp_json_str(r, "id"), "bbbbbbbbbbbbbbbb");
	cr_assert_str_eq(kp_json_str(r, "category"), "orphaned-pvc");
	cr_assert_str_eq(kp_json_str(r, "resource.name"), "b");
	cr_assert_str_eq(kp_json_str(r, "resource.namespace"), "shop");
	cr_assert_float_eq(json_object_get_double(kp_json_get(r, "monthly_savings")), 2.5, 1e-9, "as it was");
	cr_assert_float_eq(json_object_get_double(kp_json_get(doc, "changes.resolved_monthly_savings")), 2.5, 1e-9);
	json_object_put(prev);
	json_object_put(doc);
}

Test(history_match, first_seen_carried_forward_over_three_runs)
{
	const char *s[] = {"aaaaaaaaaaaaaaaa:orphaned-pvc:shop:a:4"};
	json_object *r1 = hist_doc("2026-11-23T06:00:00Z", s, 1);
	kp_history_apply(r1, NULL, NULL); /* first run: no history */
	json_object *r2 = hist_doc("2026-11-24T06:00:00Z", s, 1);
	kp_history_apply(r2, r1, "r1");
	cr_assert_str_eq(kp_json_str(hist_finding(r2, 0), "first_seen"), "2026-11-23T06:00:00Z");
	json_object *r3 = hist_doc("2026-11-25T06:00:00Z", s, 1);
	kp_history_apply(r3, r2, "r2");
	cr_assert_str_eq(kp_json_str(hist_finding(r3, 0), "first_seen"), "2026-11-23T06:00:00Z",
			 "first_seen comes from r2's first_seen, not r2's generated_at");
	cr_assert_str_eq(kp_json_str(hist_finding(r3, 0), "trend"), "persisting");
	json_object_put(r1);
	json_object_put(r2);
	json_object_put(r3);
}

Test(history_match, everything_resolved_and_duplicate_ids)
{
	const char *old[] = {"aaaaaaaaaaaaaaaa:orphaned-pvc:shop:a:4", "aaaaaaaaaaaaaaaa:orphaned-pvc:shop:a:4"};
	json_object *prev = hist_doc("2026-11-24T06:00:00Z", old, 2), *doc = hist_doc("2026-11-25T06:00:00Z", NULL, 0);
	kp_history_apply(doc, prev, "p");
	cr_assert_eq(json_object_get_int64(kp_json_get(doc, "changes.resolved")), 1, "a repeated id is resolved once");
	cr_assert_eq(json_object_get_int64(kp_json_get(doc, "changes.new")), 0);
	json_object_put(prev);
	json_object_put(doc);
}

Test(history_match, out_of_scope_is_not_resolved)
{
	const char *old[] = {"aaaaaaaaaaaaaaaa:orphaned-pvc:prod:a:4", "bbbbbbbbbbbbbbbb:orphaned-pvc:staging:b:2",
			     "cccccccccccccccc:unbound-pv:-:pv-1:1"};
	json_object *prev = hist_doc("2026-11-24T06:00:00Z", old, 3), *doc = hist_doc("2026-11-25T06:00:00Z", NULL, 0);
	const char *ns[] = {"staging"};
	json_object_object_add(doc, "scope", kp_scope_json(ns, 1));
	kp_history_apply(doc, prev, "p");
	json_object *res = kp_json_get(doc, "changes.resolved_findings");
	cr_assert_eq(json_object_array_length(res), 1, "prod and cluster-scoped findings were not looked at");
	cr_assert_str_eq(kp_json_str(json_object_array_get_idx(res, 0), "id"), "bbbbbbbbbbbbbbbb");
	json_object_put(prev);
	json_object_put(doc);
}

/* ---- the previous run on disk ---- */

static const char hist_valid[] =
	"{\"schema\":\"kopilot.findings/v1\",\"generated_at\":\"2026-11-24T06:00:00Z\",\"findings\":[]}";

Test(history_dirs, latest_run_by_finished_at_then_name)
{
	hist_mkdtemp();
	char *out = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_history_latest_run(hist_tmp, NULL, &out, &err), KP_OK);
	cr_assert_null(out, "empty state directory: no previous run");
	hist_write("20261120T060000Z", "findings.json", hist_valid);
	hist_write("20261121T060000Z", "findings.json", hist_valid);
	hist_write("20261122T060000Z", "run.json", "{}"); /* no findings.json: a failed run, never chosen */
	cr_assert_eq(kp_history_latest_run(hist_tmp, NULL, &out, &err), KP_OK);
	cr_assert_not_null(out);
	cr_assert(strstr(out, "/20261121T060000Z") != NULL, "by name without run.json: %s", out);
	free(out);
	/* run.json finished_at beats names */
	hist_write("20261120T060000Z", "run.json", "{\"finished_at\":\"2026-11-26T00:00:00Z\"}");
	cr_assert_eq(kp_history_latest_run(hist_tmp, NULL, &out, &err), KP_OK);
	cr_assert(strstr(out, "/20261120T060000Z") != NULL, "%s", out);
	/* the run being written is never its own previous run */
	char *excl = out;
	cr_assert_eq(kp_history_latest_run(hist_tmp, excl, &out, &err), KP_OK);
	cr_assert(strstr(out, "/20261121T060000Z") != NULL, "%s", out);
	free(out);
	free(excl);
	/* a file is not a state directory; a missing one is a first run */
	hist_write("afile", "x", "");
	char *f = kp_path_join(hist_tmp, "afile/x");
	cr_assert_eq(kp_history_latest_run(f, NULL, &out, &err), KP_ERR_USAGE);
	cr_assert(strstr(err.msg, "not a directory") != NULL, "%s", err.msg);
	free(f);
	f = kp_path_join(hist_tmp, "missing");
	cr_assert_eq(kp_history_latest_run(f, NULL, &out, &err), KP_OK);
	cr_assert_null(out);
	free(f);
	hist_rmrf();
}

Test(history_dirs, new_run_path_is_utc_timestamp_and_unique)
{
	hist_mkdtemp();
	int64_t t;
	cr_assert(kp_time_parse("2026-11-25T06:07:08Z", &t));
	char *p = kp_history_new_run_path(hist_tmp, t);
	cr_assert(strstr(p, "/20261125T060708Z") != NULL && p[strlen(p) - 1] == 'Z', "%s", p);
	cr_assert_eq(mkdir(p, 0755), 0);
	char *q = kp_history_new_run_path(hist_tmp, t);
	cr_assert(strstr(q, "/20261125T060708Z-2") != NULL, "taken name gets a suffix: %s", q);
	/* pruning removed the first of the second's runs: the next one still
	 * comes after the others, never in the freed name */
	cr_assert_eq(mkdir(q, 0755), 0);
	char *r3 = kp_path_join(hist_tmp, "20261125T060708Z-3");
	cr_assert_eq(mkdir(r3, 0755), 0);
	cr_assert_eq(rmdir(p), 0);
	char *r = kp_history_new_run_path(hist_tmp, t);
	cr_assert(strstr(r, "/20261125T060708Z-4") != NULL, "after the largest suffix: %s", r);
	free(p);
	free(q);
	free(r3);
	free(r);
	hist_rmrf();
}

Test(history_dirs, load_rejects_missing_and_invalid)
{
	hist_mkdtemp();
	json_object *doc = NULL;
	kp_error err = {0};
	char *run = kp_path_join(hist_tmp, "r");
	cr_assert_eq(kp_history_load(run, &doc, &err), KP_ERR_USAGE, "missing directory");
	hist_write("r", "run.json", "{}");
	cr_assert_eq(kp_history_load(run, &doc, &err), KP_ERR_USAGE, "no findings.json");
	cr_assert(strstr(err.msg, "r/findings.json") != NULL, "names the file: %s", err.msg);
	hist_write("r", "findings.json", "{\"schema\": ");
	cr_assert_eq(kp_history_load(run, &doc, &err), KP_ERR_INPUT, "corrupt");
	cr_assert(strstr(err.msg, "r/findings.json:") != NULL, "%s", err.msg);
	hist_write("r", "findings.json", "{\"schema\":\"kopilot.analysis/v1\",\"findings\":[]}");
	cr_assert_eq(kp_history_load(run, &doc, &err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "schema") != NULL, "%s", err.msg);
	hist_write("r", "findings.json",
		   "{\"schema\":\"kopilot.findings/v1\",\"generated_at\":\"2026-11-24T06:00:00Z\",\"findings\":"
		   "[{\"id\":\"aaaaaaaaaaaaaaaa\",\"category\":\"orphaned-pvc\",\"resource\":{\"kind\":\"K\",\"name\":\"n\"},"
		   "\"monthly_savings\":\"4\"}]}");
	cr_assert_eq(kp_history_load(run, &doc, &err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "findings[0].monthly_savings") != NULL, "%s", err.msg);
	cr_assert_null(doc);
	/* a bad finding in a file that is not a findings document at all:
	 * the schema is what is wrong, and said first */
	hist_write("r", "findings.json",
		   "{\"findings\":[{\"id\":\"x\"}],\"schema\":\"kopilot.analysis/v1\",\"generated_at\":\"2026-11-24T06:00:00Z\"}");
	cr_assert_eq(kp_history_load(run, &doc, &err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "schema: expected") != NULL, "%s", err.msg);
	hist_write("r", "findings.json", hist_valid);
	cr_assert_eq(kp_history_load(run, &doc, &err), KP_OK, "%s", err.msg);
	cr_assert_not_null(doc);
	json_object_put(doc);
	/* only what the comparison reads is kept of each previous finding:
	 * last night's evidence, explanations and commands are not held */
	hist_write("r", "findings.json",
		   "{\"schema\":\"kopilot.findings/v1\",\"generated_at\":\"2026-11-24T06:00:00Z\",\"findings\":"
		   "[{\"id\":\"aaaaaaaaaaaaaaaa\",\"category\":\"orphaned-pvc\",\"resource\":{\"kind\":\"K\",\"name\":\"n\"},"
		   "\"container\":null,\"monthly_savings\":4,\"first_seen\":\"2026-11-01T06:00:00Z\",\"evidence\":[{\"summary\":"
		   "\"long text\"}],\"explanation\":\"more text\",\"action\":{\"command\":\"kubectl ...\"}}]}");
	cr_assert_eq(kp_history_load(run, &doc, &err), KP_OK, "%s", err.msg);
	json_object *f = json_object_array_get_idx(kp_json_get(doc, "findings"), 0);
	cr_assert_str_eq(json_object_to_json_string_ext(f, JSON_C_TO_STRING_PLAIN),
			 "{\"id\":\"aaaaaaaaaaaaaaaa\",\"category\":\"orphaned-pvc\",\"resource\":{\"kind\":\"K\",\"name\":"
			 "\"n\"},\"container\":null,\"monthly_savings\":4,\"first_seen\":\"2026-11-01T06:00:00Z\"}");
	json_object_put(doc);
	free(run);
	hist_rmrf();
}

/* ---- plan ordering ---- */

Test(plan_order, risk_class_then_savings_blocked_apart)
{
	const char *s[] = {
		"aaaaaaaaaaaaaaaa:orphaned-pvc:shop:pvc-big:50",     /* destructive */
		"bbbbbbbbbbbbbbbb:over-provisioned:shop:api:20",     /* no approval */
		"cccccccccccccccc:idle-workload:shop:idle:30",       /* approval */
		"dddddddddddddddd:orphaned-pvc:kube-system:dbg:90",  /* blocked */
		"eeeeeeeeeeeeeeee:over-provisioned:shop:web:25",     /* no approval */
		"ffffffffffffffff:under-provisioned:shop:db:-5",     /* no approval, reliability */
		"0000000000000000:orphaned-pvc:shop:pvc-small:1",    /* destructive */
	};
	json_object *doc = hist_doc("2026-11-25T06:00:00Z", s, 7);
	hist_action(doc, 0, false, true, true, "kubectl -n shop delete pvc pvc-big");
	hist_action(doc, 1, false, false, false, "kubectl set resources api");
	hist_action(doc, 2, false, false, true, "kubectl scale idle");
	hist_action(doc, 3, true, true, true, "kubectl -n kube-system delete pvc dbg");
	hist_action(doc, 4, false, false, false, "kubectl set resources web");
	hist_action(doc, 5, false, false, false, "kubectl set resources db");
	hist_action(doc, 6, false, true, true, "kubectl -n shop delete pvc pvc-small");
	kp_plan p;
	kp_plan_build(doc, &p);
	cr_assert_eq(p.nsteps, 6);
	cr_assert_eq(p.nblocked, 1);
	const char *want[] = {"web", "api", "db", "idle", "pvc-big", "pvc-small"};
	double cum[] = {25, 45, 40, 70, 120, 121};
	for (size_t i = 0; i < 6; i++) {
		cr_assert_str_eq(kp_json_str(p.steps[i].finding, "resource.name"), want[i], "step %zu", i + 1);
		cr_assert_float_eq(p.steps[i].cumulative, cum[i], 1e-9, "cumulative at step %zu", i + 1);
	}
	cr_assert_eq(p.steps[0].cls, KP_PLAN_NO_APPROVAL);
	cr_assert_eq(p.steps[3].cls, KP_PLAN_APPROVAL);
	cr_assert_eq(p.steps[4].cls, KP_PLAN_DESTRUCTIVE);
	cr_assert_str_eq(kp_json_str(p.blocked[0].finding, "resource.name"), "dbg");
	cr_assert_float_eq(p.savings, 121, 1e-9);
	cr_assert_float_eq(p.blocked_savings, 90, 1e-9);
	kp_plan_release(&p);

	json_object *plan = kp_plan_doc(doc);
	cr_assert_str_eq(kp_json_str(plan, "schema"), "kopilot.plan/v1");
	json_object *steps = kp_json_get(plan, "steps"), *blocked = kp_json_get(plan, "blocked");
	cr_assert_eq(json_object_array_length(steps), 6);
	json_object *s0 = json_object_array_get_idx(steps, 0), *s4 = json_object_array_get_idx(steps, 4);
	cr_assert_eq(json_object_get_int64(kp_json_get(s0, "step")), 1);
	cr_assert_str_eq(kp_json_str(s0, "command"), "kubectl set resources web");
	cr_assert_str_eq(kp_json_str(s0, "risk_class"), "no-approval");
	cr_assert_str_eq(kp_json_str(s0, "risk"), "LOW");
	cr_assert_str_eq(kp_json_str(s4, "risk_class"), "destructive");
	cr_assert_float_eq(json_object_get_double(kp_json_get(s4, "cumulative_savings")), 120, 1e-9);
	cr_assert_eq(json_object_array_length(blocked), 1);
	json_object *b0 = json_object_array_get_idx(blocked, 0);
	cr_assert_str_eq(kp_json_str(b0, "blocked_reason"), "protected");
	cr_assert_null(kp_json_get(b0, "command"), "a blocked action has no command to run");
	for (size_t i = 0; i < 6; i++)
		cr_assert_str_neq(kp_json_str(json_object_array_get_idx(steps, i), "name"), "dbg", "blocked is never a step");
	cr_assert_eq(json_object_get_int64(kp_json_get(plan, "totals.destructive")), 2);
	json_object_put(plan);
	json_object_put(doc);
}

Test(plan_order, empty_document)
{
	json_object *doc = hist_doc("2026-11-25T06:00:00Z", NULL, 0);
	json_object *plan = kp_plan_doc(doc);
	cr_assert_eq(json_object_array_length(kp_json_get(plan, "steps")), 0);
	cr_assert_eq(json_object_array_length(kp_json_get(plan, "blocked")), 0);
	json_object_put(plan);
	json_object_put(doc);
}

/* ---- namespace scope ---- */

Test(ns_scope, keeps_only_listed_namespaces)
{
	kp_findings f;
	kp_findings_init(&f);
	kp_findings_add(&f, KP_CAT_ORPHANED_PVC, "v1", "PersistentVolumeClaim", "staging", "a", NULL);
	kp_findings_add(&f, KP_CAT_ORPHANED_PVC, "v1", "PersistentVolumeClaim", "prod", "b", NULL);
	kp_findings_add(&f, KP_CAT_UNBOUND_PV, "v1", "PersistentVolume", NULL, "pv-1", NULL);
	kp_findings_add(&f, KP_CAT_UNDERUTILIZED_NODE, "v1", "Node", NULL, "node-1", NULL);
	kp_finding *e = kp_findings_add(&f, KP_CAT_OVER_PROVISIONED, "apps/v1", "Deployment", "staging", "web", "c");
	kp_finding_add_evidence(e, "cpu_max_millicores", 5, true, "millicores", "peak %d", 5);
	kp_findings_skip(&f, "apps/v1", "Deployment", "prod", "x", "reason %d", 1);
	kp_findings_skip(&f, "apps/v1", "Deployment", "staging", "y", "reason %d", 2);
	kp_findings_skip(&f, "v1", "Node", NULL, "n", "reason %d", 3);

	kp_scope_namespaces(&f, NULL, 0);
	cr_assert_eq(f.items.len, 5, "no --namespace: everything stays");

	const char *ns[] = {"staging"};
	kp_scope_namespaces(&f, ns, 1);
	cr_assert_eq(f.items.len, 2);
	cr_assert_str_eq(f.items.items[0].name, "a");
	cr_assert_str_eq(f.items.items[1].name, "web", "order kept");
	cr_assert_eq(f.skipped.len, 1);
	cr_assert_str_eq(f.skipped.items[0].name, "y");
	kp_findings_release(&f);
}

Test(ns_scope, scope_json_and_names)
{
	json_object *o = kp_scope_json(NULL, 0);
	json_object *v;
	cr_assert(json_object_object_get_ex(o, "namespaces", &v));
	cr_assert_null(v);
	json_object_put(o);
	const char *ns[] = {"staging", "prod", "staging"};
	o = kp_scope_json(ns, 3);
	cr_assert_str_eq(json_object_to_json_string_ext(kp_json_get(o, "namespaces"), JSON_C_TO_STRING_PLAIN),
			 "[\"prod\",\"staging\"]");
	json_object_put(o);
	cr_assert(kp_namespace_name_valid("staging"));
	cr_assert(kp_namespace_name_valid("a-1"));
	cr_assert_not(kp_namespace_name_valid("Staging"));
	cr_assert_not(kp_namespace_name_valid("-a"));
	cr_assert_not(kp_namespace_name_valid("a-"));
	cr_assert_not(kp_namespace_name_valid("a_b"));
	cr_assert_not(kp_namespace_name_valid(""));
	char longname[65];
	memset(longname, 'a', 64);
	longname[64] = '\0';
	cr_assert_not(kp_namespace_name_valid(longname));
	longname[63] = '\0';
	cr_assert(kp_namespace_name_valid(longname));
}

/* ---- report sections ---- */

Test(history_report, plan_changes_and_scope_sections)
{
	const char *old[] = {"aaaaaaaaaaaaaaaa:orphaned-pvc:staging:gone-pvc:4"};
	const char *cur[] = {"bbbbbbbbbbbbbbbb:over-provisioned:staging:api:20"};
	json_object *prev = hist_doc("2026-11-24T06:00:00Z", old, 1), *doc = hist_doc("2026-11-25T06:00:00Z", cur, 1);
	hist_action(doc, 0, false, false, false, "kubectl -n staging set resources deployment/api");
	json_object_object_add(hist_finding(doc, 0), "monthly_cost", json_object_new_double(30));
	const char *ns[] = {"staging"};
	json_object_object_add(doc, "scope", kp_scope_json(ns, 1));
	kp_history_apply(doc, prev, "state/20261124T060000Z");
	char *md = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_render_markdown(doc, NULL, NULL, &md, &err), KP_OK, "%s", err.msg);
	cr_assert(strstr(md, "# Kubernetes cost report: unknown cluster, namespace staging\n") != NULL, "%s", md);
	cr_assert(strstr(md, "## Plan: the next cost-saving actions for staging") != NULL);
	cr_assert(strstr(md, "| 1 | staging | PersistentVolumeClaim api | resize | LOW | $20.00 | $20.00 |") != NULL, "%s",
		  md);
	cr_assert(strstr(md, "kubectl -n staging set resources deployment/api") != NULL);
	cr_assert(strstr(md, "## Changes since the previous run") != NULL);
	cr_assert(strstr(md, "**1 new**, 0 persisting, **1 resolved**") != NULL, "%s", md);
	cr_assert(strstr(md, "| PersistentVolumeClaim staging/gone-pvc | Orphaned persistent volume claims | $4.00 |") != NULL,
		  "%s", md);
	free(md);
	/* without a previous run there is no changes section */
	kp_history_apply(doc, NULL, NULL);
	cr_assert_eq(kp_render_markdown(doc, NULL, NULL, &md, &err), KP_OK, "%s", err.msg);
	cr_assert_null(strstr(md, "## Changes since the previous run"));
	free(md);
	json_object_put(prev);
	json_object_put(doc);
}
