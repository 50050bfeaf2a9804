/*
 * test_missing.c - "not collected", structured (issue: --namespace does not
 * filter "not collected" notes): usage.json's "missing" entries as strings
 * and objects and the errors on bad ones, the snapshot's own gaps, the
 * scope function that keeps or drops entries (and agrees with the findings'
 * scope), the JSON forms old and new, and the report's table.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "pipeline/findings_json.h"
#include "stages/render/render.h"

static kp_fixture mi_fx;

static void mi_init(void) { fx_init(&mi_fx, "missing", "prometheus"); }
static void mi_fini(void) { fx_fini(&mi_fx); }

/* usage.json with no containers and this "missing" member (JSON text, or
 * NULL for none). */
static void mi_usage(const char *missing)
{
	char *t = kp_xasprintf("{\"schema\":\"kopilot.usage/v1\",\"window\":{\"start\":\"2026-11-11T06:00:00Z\","
			       "\"end\":\"2026-11-25T06:00:00Z\",\"source\":\"prometheus\"},\"containers\":[]%s%s}",
			       missing ? ",\"missing\":" : "", missing ? missing : "");
	fx_write(&mi_fx, "usage.json", t);
	free(t);
}

static kp_status mi_load(kp_cluster *c, kp_error *err)
{
	kp_cluster_init(c);
	return kp_snapshot_load(c, mi_fx.dir, err);
}

static void mi_expect_error(const char *missing, const char *needle1, const char *needle2)
{
	mi_usage(missing);
	kp_cluster c;
	kp_error err = {0};
	cr_assert_eq(mi_load(&c, &err), KP_ERR_INPUT, "accepted: %s", missing);
	cr_assert(strstr(err.msg, needle1), "message lacks \"%s\": %s", needle1, err.msg);
	if (needle2)
		cr_assert(strstr(err.msg, needle2), "message lacks \"%s\": %s", needle2, err.msg);
	cr_assert(strstr(err.msg, "usage.json: "), "message does not name the file: %s", err.msg);
	kp_cluster_release(&c);
}

static void str_eq_or_null(const char *got, const char *want, const char *what)
{
	if (!want)
		cr_assert_null(got, "%s: expected NULL, got \"%s\"", what, got);
	else
		cr_assert(got && strcmp(got, want) == 0, "%s: expected \"%s\", got \"%s\"", what, want, got ? got : "NULL");
}

static void expect_entry(const kp_missing *m, const char *resource, const char *ns, const char *kind, const char *name,
			 const char *reason, const char *summary)
{
	str_eq_or_null(m->resource, resource, "resource");
	str_eq_or_null(m->namespace_, ns, "namespace");
	str_eq_or_null(m->workload_kind, kind, "workload kind");
	str_eq_or_null(m->workload_name, name, "workload name");
	str_eq_or_null(m->reason, reason, "reason");
	str_eq_or_null(m->summary, summary, "summary");
}

/* ---- usage.json "missing" ---- */

Test(usage_missing, strings_and_objects, .init = mi_init, .fini = mi_fini)
{
	mi_usage("[\"no kube-state-metrics: OOM kills unknown\","
		 "{\"resource\":\"metrics\",\"namespace\":\"analytics\","
		 "\"workload\":{\"kind\":\"Deployment\",\"name\":\"legacy-geoip\"},\"reason\":\"series dropped\"},"
		 "{\"namespace\":\"ml\",\"workload\":null,\"reason\":\"no\\nGPU\\tmetrics\",\"later\":true},"
		 "{\"resource\":null,\"reason\":\"Prometheus was down for an hour\"}]");
	kp_cluster c;
	kp_error err = {0};
	cr_assert_eq(mi_load(&c, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(c.missing.len, 4);
	/* a string does not say where: cluster-wide */
	expect_entry(&c.missing.items[0], "usage", NULL, NULL, NULL, "no kube-state-metrics: OOM kills unknown",
		     "no kube-state-metrics: OOM kills unknown");
	expect_entry(&c.missing.items[1], "metrics", "analytics", "Deployment", "legacy-geoip", "series dropped",
		     "metrics of Deployment analytics/legacy-geoip not collected: series dropped");
	/* control characters become spaces; unknown fields are ignored */
	expect_entry(&c.missing.items[2], "usage", "ml", NULL, NULL, "no GPU metrics",
		     "usage in namespace ml not collected: no GPU metrics");
	expect_entry(&c.missing.items[3], "usage", NULL, NULL, NULL, "Prometheus was down for an hour",
		     "usage not collected: Prometheus was down for an hour");
	cr_assert(c.usage_collected);
	kp_cluster_release(&c);
}

Test(usage_missing, absent_null_and_empty_are_nothing, .init = mi_init, .fini = mi_fini)
{
	const char *forms[] = {NULL, "null", "[]"};
	for (size_t i = 0; i < 3; i++) {
		mi_usage(forms[i]);
		kp_cluster c;
		kp_error err = {0};
		cr_assert_eq(mi_load(&c, &err), KP_OK, "%s: %s", forms[i] ? forms[i] : "absent", err.msg);
		cr_assert_eq(c.missing.len, 0);
		kp_cluster_release(&c);
	}
}

Test(usage_missing, long_reason_is_cut_on_a_character, .init = mi_init, .fini = mi_fini)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_puts(&b, "[{\"namespace\":\"a\",\"reason\":\"");
	for (int i = 0; i < 300; i++)
		kp_buf_puts(&b, "\xc3\xa9"); /* é: 600 bytes */
	kp_buf_puts(&b, "\"}]");
	mi_usage(kp_buf_cstr(&b));
	kp_buf_release(&b);
	kp_cluster c;
	kp_error err = {0};
	cr_assert_eq(mi_load(&c, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(strlen(c.missing.items[0].reason), 500);
	kp_cluster_release(&c);
}

Test(usage_missing, bad_entries_name_the_entry_and_field, .init = mi_init, .fini = mi_fini)
{
	mi_expect_error("{\"a\":1}", "usage.json: missing: expected a list", NULL);
	mi_expect_error("\"gap\"", "usage.json: missing: expected a list", NULL);
	mi_expect_error("[\"ok\",5]", "missing[1]: expected a string or an object", "got int");
	mi_expect_error("[\"ok\",null]", "missing[1]: expected a string or an object", "got null");
	mi_expect_error("[\"a\\u0000b\"]", "missing[0]: contains a NUL", NULL);
	mi_expect_error("[{\"namespace\":\"a\"}]", "missing[0].reason: missing", NULL);
	mi_expect_error("[{\"reason\":\"  \"}]", "missing[0].reason: is empty", NULL);
	mi_expect_error("[{\"reason\":7}]", "missing[0].reason: expected a string, got int", NULL);
	mi_expect_error("[\"ok\",\"ok\",{\"namespace\":\"Bad_NS\",\"reason\":\"r\"}]", "missing[2].namespace: \"Bad_NS\"",
			"DNS-1123 label");
	mi_expect_error("[{\"namespace\":3,\"reason\":\"r\"}]", "missing[0].namespace: expected a string or null", NULL);
	mi_expect_error("[{\"namespace\":\"a\\u0000b\",\"reason\":\"r\"}]", "missing[0].namespace: contains a NUL", NULL);
	mi_expect_error("[{\"resource\":\"Pods\",\"reason\":\"r\"}]", "missing[0].resource: \"Pods\"", NULL);
	mi_expect_error("[{\"namespace\":\"a\",\"workload\":\"web\",\"reason\":\"r\"}]",
			"missing[0].workload: expected an object {kind, name} or null", NULL);
	mi_expect_error("[{\"namespace\":\"a\",\"workload\":{\"name\":\"web\"},\"reason\":\"r\"}]",
			"missing[0].workload.kind: missing", NULL);
	mi_expect_error("[{\"namespace\":\"a\",\"workload\":{\"kind\":\"Deployment\"},\"reason\":\"r\"}]",
			"missing[0].workload.name: missing", NULL);
	mi_expect_error("[{\"namespace\":\"a\",\"workload\":{\"kind\":\"deployment\",\"name\":\"web\"},\"reason\":\"r\"}]",
			"missing[0].workload.kind: \"deployment\" is not a Kubernetes kind", NULL);
	mi_expect_error("[{\"namespace\":\"a\",\"workload\":{\"kind\":\"Deployment\",\"name\":\"Web..\"},\"reason\":\"r\"}]",
			"missing[0].workload.name: \"Web..\"", NULL);
	mi_expect_error("[{\"workload\":{\"kind\":\"Deployment\",\"name\":\"web\"},\"reason\":\"r\"}]",
			"missing[0].workload: needs missing[0].namespace", NULL);
}

/* ---- the snapshot's own gaps ---- */

Test(snapshot_missing, lists_and_usage_json_are_cluster_wide, .init = mi_init, .fini = mi_fini)
{
	fx_remove(&mi_fx, "objects/persistentvolumeclaims.json");
	fx_remove(&mi_fx, "usage.json");
	kp_cluster c;
	kp_error err = {0};
	cr_assert_eq(mi_load(&c, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(c.missing.len, 2);
	expect_entry(&c.missing.items[0], "persistentvolumeclaims", NULL, NULL, NULL,
		     "objects/persistentvolumeclaims.json is missing; nothing that depends on persistentvolumeclaims was "
		     "judged",
		     "persistentvolumeclaims: not collected (objects/persistentvolumeclaims.json is missing; nothing that "
		     "depends on persistentvolumeclaims was judged)");
	expect_entry(&c.missing.items[1], "usage", NULL, NULL, NULL,
		     "usage.json is missing; no workload was rightsized, all are listed as skipped",
		     "usage: not measured (usage.json is missing); no workload was rightsized, all are listed as skipped");
	kp_cluster_release(&c);
}

/* ---- scope ---- */

static const kp_missing MI_CLUSTER = {"pods", NULL, NULL, NULL, "r", "s"};
static const kp_missing MI_ANALYTICS = {"metrics", "analytics", "Deployment", "legacy-geoip", "r", "s"};
static const kp_missing MI_ML_NS = {"usage", "ml", NULL, NULL, "r", "s"};
static const kp_missing MI_ML_JOB = {"usage", "ml", "Job", "train", "r", "s"};

static void mi_set(kp_config *cfg, const char *assignment)
{
	kp_error err = {0};
	cr_assert_eq(kp_config_set(cfg, assignment, KP_SRC_FLAG, &err), KP_OK, "%s: %s", assignment, err.msg);
}

Test(missing_scope, namespace_flag)
{
	kp_config cfg;
	kp_config_init(&cfg);
	const char *const checkout_ml[] = {"checkout", "ml"}, *const analytics[] = {"analytics"};
	/* no scope: everything counts */
	cr_assert(kp_scope_keeps_missing(&cfg, NULL, 0, &MI_ANALYTICS));
	cr_assert(kp_scope_keeps_missing(&cfg, NULL, 0, &MI_CLUSTER));
	/* --namespace checkout --namespace ml: analytics' gap is not this run's */
	cr_assert_not(kp_scope_keeps_missing(&cfg, checkout_ml, 2, &MI_ANALYTICS));
	cr_assert(kp_scope_keeps_missing(&cfg, checkout_ml, 2, &MI_ML_NS));
	cr_assert(kp_scope_keeps_missing(&cfg, checkout_ml, 2, &MI_ML_JOB));
	/* a cluster-wide gap counts for every scope */
	cr_assert(kp_scope_keeps_missing(&cfg, checkout_ml, 2, &MI_CLUSTER));
	cr_assert(kp_scope_keeps_missing(&cfg, analytics, 1, &MI_ANALYTICS));
	cr_assert(kp_scope_keeps_missing(&cfg, analytics, 1, &MI_CLUSTER));
	cr_assert_not(kp_scope_keeps_missing(&cfg, analytics, 1, &MI_ML_NS));
	kp_config_release(&cfg);
}

Test(missing_scope, configured_scope)
{
	kp_config cfg;
	kp_config_init(&cfg);
	mi_set(&cfg, "scope.exclude_namespaces=analy.*");
	cr_assert_not(kp_scope_keeps_missing(&cfg, NULL, 0, &MI_ANALYTICS));
	cr_assert(kp_scope_keeps_missing(&cfg, NULL, 0, &MI_ML_NS));
	cr_assert(kp_scope_keeps_missing(&cfg, NULL, 0, &MI_CLUSTER));
	kp_config_release(&cfg);

	kp_config_init(&cfg);
	mi_set(&cfg, "scope.include_namespaces=ml");
	cr_assert_not(kp_scope_keeps_missing(&cfg, NULL, 0, &MI_ANALYTICS));
	cr_assert(kp_scope_keeps_missing(&cfg, NULL, 0, &MI_ML_NS));
	cr_assert(kp_scope_keeps_missing(&cfg, NULL, 0, &MI_CLUSTER));
	/* both scopes apply at once, as for findings */
	const char *const analytics[] = {"analytics"};
	cr_assert_not(kp_scope_keeps_missing(&cfg, analytics, 1, &MI_ML_NS));
	cr_assert(kp_scope_keeps_missing(&cfg, analytics, 1, &MI_CLUSTER));
	kp_config_release(&cfg);

	/* a gap about one workload goes with that workload's kind; a gap
	 * about a namespace or the cluster is no kind's */
	kp_config_init(&cfg);
	mi_set(&cfg, "scope.exclude_kinds=Job");
	cr_assert_not(kp_scope_keeps_missing(&cfg, NULL, 0, &MI_ML_JOB));
	cr_assert(kp_scope_keeps_missing(&cfg, NULL, 0, &MI_ML_NS));
	cr_assert(kp_scope_keeps_missing(&cfg, NULL, 0, &MI_CLUSTER));
	cr_assert(kp_scope_keeps_missing(&cfg, NULL, 0, &MI_ANALYTICS));
	kp_config_release(&cfg);
}

/* The configured scope keeps an entry about a workload exactly when it
 * keeps a finding about that workload: one set of predicates. */
Test(missing_scope, agrees_with_the_findings_scope)
{
	static const char *const configs[] = {"scope.exclude_namespaces=a.*", "scope.include_namespaces=ml,web",
					      "scope.exclude_kinds=Deploy.*", "scope.include_namespaces=analytics"};
	static const char *const nss[] = {"analytics", "ml", "web", "apps"};
	static const char *const kinds[] = {"Deployment", "Job", "StatefulSet"};
	for (size_t ci = 0; ci < 4; ci++) {
		kp_config cfg;
		kp_config_init(&cfg);
		mi_set(&cfg, configs[ci]);
		for (size_t n = 0; n < 4; n++)
			for (size_t k = 0; k < 3; k++) {
				kp_missing m = {"metrics", nss[n], kinds[k], "w", "r", "s"};
				cr_assert_eq(kp_scope_keeps_missing(&cfg, NULL, 0, &m), !kp_scope_excludes(&cfg, nss[n], kinds[k]),
					     "%s: %s %s", configs[ci], kinds[k], nss[n]);
			}
		kp_config_release(&cfg);
	}
}

Test(missing_scope, filter_keeps_order_and_counts)
{
	kp_config cfg;
	kp_config_init(&cfg);
	kp_cluster c;
	kp_cluster_init(&c);
	const kp_missing *all[] = {&MI_ANALYTICS, &MI_CLUSTER, &MI_ML_NS, &MI_ANALYTICS, &MI_ML_JOB};
	for (size_t i = 0; i < 5; i++)
		kp_cluster_add_missing(&c, all[i]->resource, all[i]->namespace_, all[i]->workload_kind,
				       all[i]->workload_name, all[i]->reason, all[i]->summary);
	cr_assert_eq(kp_scope_missing(&c, &cfg, NULL, 0), 0, "no scope drops nothing");
	cr_assert_eq(c.missing.len, 5);
	const char *const ml[] = {"ml"};
	cr_assert_eq(kp_scope_missing(&c, &cfg, ml, 1), 2);
	cr_assert_eq(c.missing.len, 3);
	cr_assert_str_eq(c.missing.items[0].resource, "pods");
	cr_assert_str_eq(c.missing.items[1].namespace_, "ml");
	cr_assert_str_eq(c.missing.items[2].workload_kind, "Job");
	kp_cluster_release(&c);
	kp_config_release(&cfg);
}

/* ---- JSON forms ---- */

Test(missing_json, old_strings_and_new_objects)
{
	json_object *doc = json_tokener_parse(
		"{\"missing\":[\"pods: not collected\",{\"resource\":\"metrics\",\"namespace\":\"analytics\","
		"\"workload\":{\"kind\":\"Deployment\",\"name\":\"legacy-geoip\"},\"reason\":\"r\",\"summary\":\"s\"}]}");
	json_object *out = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_missing_from_json(doc, "analysis.json", &out, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(json_object_array_length(out), 2);
	json_object *e0 = json_object_array_get_idx(out, 0), *e1 = json_object_array_get_idx(out, 1);
	/* a string is a cluster-wide entry with every key */
	cr_assert_str_eq(json_object_to_json_string_ext(e0, JSON_C_TO_STRING_PLAIN),
			 "{\"resource\":null,\"namespace\":null,\"workload\":null,\"reason\":\"pods: not collected\","
			 "\"summary\":\"pods: not collected\"}");
	cr_assert_str_eq(json_object_to_json_string_ext(e1, JSON_C_TO_STRING_PLAIN),
			 "{\"resource\":\"metrics\",\"namespace\":\"analytics\",\"workload\":{\"kind\":\"Deployment\","
			 "\"name\":\"legacy-geoip\"},\"reason\":\"r\",\"summary\":\"s\"}");
	cr_assert_str_eq(kp_missing_summary(json_object_array_get_idx(kp_json_get(doc, "missing"), 0)),
			 "pods: not collected");
	cr_assert_str_eq(kp_missing_summary(e1), "s");
	json_object_put(out);
	json_object_put(doc);

	doc = json_tokener_parse("{}");
	cr_assert_eq(kp_missing_from_json(doc, "analysis.json", &out, &err), KP_OK);
	cr_assert_eq(json_object_array_length(out), 0, "absent: none");
	json_object_put(out);
	json_object_put(doc);
}

Test(missing_json, bad_entries_are_errors)
{
	static const struct {
		const char *doc, *needle;
	} cases[] = {
		{"{\"missing\":{}}", "analysis.json: missing: expected a list"},
		{"{\"missing\":[3]}", "analysis.json: missing[0]: expected an object or a string"},
		{"{\"missing\":[\"a\",{\"reason\":\"r\"}]}", "analysis.json: missing[1].summary: missing"},
		{"{\"missing\":[{\"summary\":\"s\"}]}", "analysis.json: missing[0].reason: missing"},
		{"{\"missing\":[{\"summary\":\"s\",\"reason\":\"r\",\"namespace\":1}]}", "missing[0].namespace: expected a string or null"},
		{"{\"missing\":[{\"summary\":\"s\",\"reason\":\"r\",\"workload\":{\"kind\":\"Job\"}}]}", "missing[0].workload.name: missing"},
		{"{\"missing\":[{\"summary\":\"s\",\"reason\":\"r\",\"workload\":[]}]}", "missing[0].workload: expected an object"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *doc = json_tokener_parse(cases[i].doc), *out = NULL;
		kp_error err = {0};
		cr_assert_eq(kp_missing_from_json(doc, "analysis.json", &out, &err), KP_ERR_INPUT, "accepted %s", cases[i].doc);
		cr_assert_null(out);
		cr_assert(strstr(err.msg, cases[i].needle), "%s: %s", cases[i].doc, err.msg);
		json_object_put(doc);
	}
}

Test(missing_json, analysis_doc_writes_entries_and_the_scope_count)
{
	kp_cluster c;
	kp_cluster_init(&c);
	kp_cluster_add_missing(&c, "metrics", "analytics", "Deployment", "legacy-geoip", "r", "s");
	kp_findings f;
	kp_findings_init(&f);
	f.missing_excluded_by_scope = 2;
	json_object *doc = kp_analysis_doc(&c, &f, 0);
	cr_assert_str_eq(json_object_to_json_string_ext(kp_json_get(doc, "missing"), JSON_C_TO_STRING_PLAIN),
			 "[{\"resource\":\"metrics\",\"namespace\":\"analytics\",\"workload\":{\"kind\":\"Deployment\","
			 "\"name\":\"legacy-geoip\"},\"reason\":\"r\",\"summary\":\"s\"}]");
	cr_assert_eq(json_object_get_int64(kp_json_get(doc, "counts.missing_excluded_by_scope")), 2);
	json_object_put(doc);
	kp_findings_release(&f);
	kp_cluster_release(&c);
}

/* ---- the report ---- */

static char *mi_report(const char *run_info)
{
	json_object *f = NULL, *ri = json_tokener_parse(run_info);
	kp_error err = {0};
	cr_assert_eq(kp_json_read_file("tests/data/findings-sample.json", &f, &err), KP_OK, "%s", err.msg);
	char *md = NULL;
	cr_assert_eq(kp_render_markdown(f, ri, NULL, &md, &err), KP_OK, "%s", err.msg);
	json_object_put(f);
	json_object_put(ri);
	return md;
}

Test(missing_report, table_of_entries)
{
	char *md = mi_report(
		"{\"degraded\":true,\"missing\":[{\"resource\":\"metrics\",\"namespace\":\"analytics\","
		"\"workload\":{\"kind\":\"Deployment\",\"name\":\"legacy-geoip\"},\"reason\":\"series | dropped\","
		"\"summary\":\"s\"},{\"resource\":\"pods\",\"namespace\":null,\"workload\":null,\"reason\":\"pods.json is "
		"missing\",\"summary\":\"s2\"},\"an old string\"]}");
	cr_assert_not_null(strstr(md, "## Not collected\n"));
	cr_assert_not_null(strstr(md, "| Namespace | Workload | Not collected | Why |\n"), "%s", md);
	cr_assert_not_null(strstr(md, "| analytics | Deployment legacy-geoip | metrics | series \\| dropped |\n"), "%s", md);
	cr_assert_not_null(strstr(md, "| all namespaces | - | pods | pods.json is missing |\n"), "%s", md);
	cr_assert_not_null(strstr(md, "| all namespaces | - | unknown | an old string |\n"), "%s", md);
	cr_assert_null(strstr(md, "Left out of this report"));
	free(md);
}

Test(missing_report, scoped_out_entries_are_counted_not_listed)
{
	char *md = mi_report("{\"degraded\":false,\"missing\":[],\"missing_excluded_by_scope\":1}");
	cr_assert_null(strstr(md, "## Not collected"));
	cr_assert_not_null(strstr(md, "_Left out of this report: 1 input not collected in namespaces outside its scope"),
			   "%s", md);
	free(md);
	md = mi_report("{\"degraded\":false,\"missing\":[],\"missing_excluded_by_scope\":3}");
	cr_assert_not_null(strstr(md, "Left out of this report: 3 inputs not collected"), "%s", md);
	free(md);
}
