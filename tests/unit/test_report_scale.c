/*
 * test_report_scale.c - report.md and report.html stay bounded at scale
 * (report.detail_findings, report.row_findings): on a synthetic findings
 * document of 5,000 findings built here, the first findings by money at
 * stake (then risk) are shown in detail, the next as one row each, the rest
 * as grouped lines per category and cause; every finding is counted exactly
 * once, and the long tables (reliability, skipped, by namespace) are capped
 * with a count.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/render/render.h"

#define SCALE_PVC 3000  /* orphaned PVCs, $0.10 each, in 300 namespaces */
#define SCALE_OVER 1500 /* over-provisioned Deployments, $500 down to $0.33 */
#define SCALE_UNDER 400 /* under-provisioned, -$0.50 down to -$200 */
#define SCALE_JOBS 100  /* finished jobs, nothing on the bill */
#define SCALE_TOTAL (SCALE_PVC + SCALE_OVER + SCALE_UNDER + SCALE_JOBS)
#define SCALE_SKIPPED 500

static json_object *scale_finding(const char *category, const char *kind, const char *ns, const char *name,
				  double cost, double savings, const char *risk, const char *action)
{
	static unsigned long seq;
	char id[32];
	snprintf(id, sizeof(id), "%016lx", ++seq);
	json_object *f = json_object_new_object(), *res = json_object_new_object(), *act = json_object_new_object();
	json_object_object_add(f, "id", json_object_new_string(id));
	json_object_object_add(f, "category", json_object_new_string(category));
	json_object_object_add(res, "kind", json_object_new_string(kind));
	json_object_object_add(res, "namespace", json_object_new_string(ns));
	json_object_object_add(res, "name", json_object_new_string(name));
	json_object_object_add(f, "resource", res);
	json_object_object_add(f, "monthly_cost", json_object_new_double(cost));
	json_object_object_add(f, "monthly_savings", json_object_new_double(savings));
	json_object_object_add(f, "risk", json_object_new_string(risk));
	json_object_object_add(f, "confidence", json_object_new_string("high"));
	json_object_object_add(act, "type", json_object_new_string(action));
	json_object_object_add(act, "destructive", json_object_new_boolean(strcmp(action, "delete") == 0));
	json_object_object_add(act, "approval_required", json_object_new_boolean(strcmp(action, "delete") == 0));
	json_object_object_add(act, "blocked", json_object_new_boolean(false));
	json_object_object_add(f, "action", act);
	json_object_object_add(f, "explanation", json_object_new_string("A long enough explanation of the finding."));
	json_object_object_add(f, "current", json_object_new_object());
	return f;
}

static int scale_cmp(const void *a, const void *b)
{
	double x = json_object_get_double(json_object_object_get(*(json_object *const *)a, "monthly_savings"));
	double y = json_object_get_double(json_object_object_get(*(json_object *const *)b, "monthly_savings"));
	return x > y ? -1 : x < y;
}

/* A findings document as the recommend stage writes it: sorted by savings
 * descending. */
static json_object *scale_doc(void)
{
	json_object *list = json_object_new_array();
	char ns[32], name[64];
	for (int i = 0; i < SCALE_PVC; i++) {
		snprintf(ns, sizeof(ns), "team-%03d", i % 300);
		snprintf(name, sizeof(name), "data-%d", i);
		json_object_array_add(list, scale_finding("orphaned-pvc", "PersistentVolumeClaim", ns, name, 0.1, 0.1, "HIGH",
							  "delete"));
	}
	for (int i = 0; i < SCALE_OVER; i++) {
		snprintf(ns, sizeof(ns), "app-%02d", i % 40);
		snprintf(name, sizeof(name), "web-%d", i);
		double s = 500.0 / (1 + i);
		json_object_array_add(list, scale_finding("over-provisioned", "Deployment", ns, name, s * 2, s, "LOW",
							  "resize"));
	}
	for (int i = 0; i < SCALE_UNDER; i++) {
		snprintf(ns, sizeof(ns), "app-%02d", i % 40);
		snprintf(name, sizeof(name), "api-%d", i);
		double s = -0.5 * (1 + i);
		json_object_array_add(list, scale_finding("under-provisioned", "Deployment", ns, name, 10, s, "MEDIUM",
							  "resize"));
	}
	for (int i = 0; i < SCALE_JOBS; i++) {
		snprintf(name, sizeof(name), "migrate-%d", i);
		json_object_array_add(list, scale_finding("finished-job", "Job", "batch", name, 0, 0, "LOW", "delete"));
	}
	json_object_array_sort(list, scale_cmp);
	json_object *skipped = json_object_new_array();
	for (int i = 0; i < SCALE_SKIPPED; i++) {
		json_object *s = json_object_new_object(), *res = json_object_new_object();
		snprintf(name, sizeof(name), "new-%d", i);
		json_object_object_add(res, "kind", json_object_new_string("Deployment"));
		json_object_object_add(res, "namespace", json_object_new_string("staging"));
		json_object_object_add(res, "name", json_object_new_string(name));
		json_object_object_add(s, "resource", res);
		json_object_object_add(s, "reason", json_object_new_string("only 6 hours of usage history (minimum 24)"));
		json_object_array_add(skipped, s);
	}
	json_object *doc = json_object_new_object();
	json_object_object_add(doc, "schema", json_object_new_string("kopilot.findings/v1"));
	json_object_object_add(doc, "generated_at", json_object_new_string("2026-11-25T06:00:00Z"));
	json_object *cluster = json_object_new_object();
	json_object_object_add(cluster, "name", json_object_new_string("scale"));
	json_object_object_add(doc, "cluster", cluster);
	json_object *prices = json_object_new_object();
	json_object_object_add(prices, "currency", json_object_new_string("USD"));
	json_object_object_add(doc, "prices", prices);
	json_object_object_add(doc, "findings", list);
	json_object_object_add(doc, "skipped", skipped);
	return doc;
}

static json_object *scale_limits(int64_t detail, int64_t rows)
{
	json_object *ri = json_object_new_object();
	json_object_object_add(ri, "detail_findings", json_object_new_int64(detail));
	json_object_object_add(ri, "row_findings", json_object_new_int64(rows));
	return ri;
}

static size_t scale_count(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static double scale_sum(json_object *arr, const char *key)
{
	double s = 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		s += json_object_get_double(json_object_object_get(json_object_array_get_idx(arr, i), key));
	return s;
}

Test(report_scale, every_finding_counted_once_most_money_first)
{
	json_object *doc = scale_doc();
	json_object *v = kp_report_view(doc, NULL); /* the defaults: 200 and 2000 */
	cr_expect_eq(json_object_get_int64(kp_json_get(v, "listing.total")), SCALE_TOTAL);
	cr_expect_eq(json_object_get_int64(kp_json_get(v, "listing.detailed")), 200);
	cr_expect_eq(json_object_get_int64(kp_json_get(v, "listing.compact")), 2000);
	cr_expect_eq(json_object_get_int64(kp_json_get(v, "listing.grouped")), SCALE_TOTAL - 2200);
	cr_expect(json_object_get_boolean(kp_json_get(v, "listing.is_bounded")));
	cr_expect_eq(json_object_array_length(kp_json_get(v, "findings")), 200);
	cr_expect_eq(json_object_get_int64(kp_json_get(v, "totals.findings")), SCALE_TOTAL);

	/* per category: detail + rows + grouped = the category's findings, and
	 * the money of the three parts adds up to the category's */
	json_object *cats = kp_json_get(v, "categories");
	double min_detail = INFINITY, max_row = 0, min_row = INFINITY;
	int64_t total = 0;
	for (size_t i = 0; i < json_object_array_length(cats); i++) {
		json_object *c = json_object_array_get_idx(cats, i);
		json_object *det = kp_json_get(c, "findings"), *rows = kp_json_get(c, "compact"), *grp = kp_json_get(c, "grouped");
		int64_t nd = (int64_t)json_object_array_length(det), nr = (int64_t)json_object_array_length(rows), ng = 0;
		for (size_t k = 0; k < json_object_array_length(grp); k++)
			ng += json_object_get_int64(kp_json_get(json_object_array_get_idx(grp, k), "count"));
		cr_expect_eq(ng, json_object_get_int64(kp_json_get(c, "grouped_count")));
		cr_expect_eq(nd + nr + ng, json_object_get_int64(kp_json_get(c, "count")), "%s",
			     kp_json_str(c, "category"));
		total += nd + nr + ng;
		for (size_t k = 0; k < (size_t)nd; k++)
			min_detail = fmin(min_detail, fabs(json_object_get_double(
							      kp_json_get(json_object_array_get_idx(det, k), "monthly_savings"))));
		for (size_t k = 0; k < (size_t)nr; k++) {
			double m = fabs(json_object_get_double(kp_json_get(json_object_array_get_idx(rows, k), "monthly_savings")));
			max_row = fmax(max_row, m);
			min_row = fmin(min_row, m);
		}
		/* detail and rows keep findings.json order: rank ascending */
		int64_t last = 0;
		for (size_t k = 0; k < (size_t)nr; k++) {
			int64_t r = json_object_get_int64(kp_json_get(json_object_array_get_idx(rows, k), "rank"));
			cr_expect_gt(r, last);
			last = r;
		}
		double cost = scale_sum(det, "monthly_cost") + scale_sum(rows, "monthly_cost") + scale_sum(grp, "monthly_cost");
		json_object *bc = json_object_array_get_idx(kp_json_get(v, "by_category"), i);
		cr_expect_str_eq(kp_json_str(bc, "category"), kp_json_str(c, "category"));
		cr_expect(fabs(cost - json_object_get_double(kp_json_get(bc, "monthly_cost"))) < 1e-6, "%s: %f",
			  kp_json_str(c, "category"), cost);
	}
	cr_expect_eq(total, SCALE_TOTAL);
	/* the most money at stake in detail: an extra cost weighs as a saving */
	cr_expect_geq(min_detail, max_row);
	cr_expect_eq(json_object_get_int64(kp_json_get(v, "reliability.count")), SCALE_UNDER);
	cr_expect_leq(json_object_array_length(kp_json_get(v, "reliability.findings")), 100);

	/* the PVCs are cheap: after 1,900 resizes, 300 get rows, the rest one line */
	json_object *pvc = NULL;
	for (size_t i = 0; i < json_object_array_length(cats); i++)
		if (strcmp(kp_json_str(json_object_array_get_idx(cats, i), "category"), "orphaned-pvc") == 0)
			pvc = json_object_array_get_idx(cats, i);
	cr_assert_not_null(pvc);
	cr_expect_eq(json_object_get_int64(kp_json_get(pvc, "compact_count")), 300);
	cr_expect_eq(json_object_array_length(kp_json_get(pvc, "grouped")), 1);
	json_object *line = json_object_array_get_idx(kp_json_get(pvc, "grouped"), 0);
	cr_expect_eq(json_object_get_int64(kp_json_get(line, "count")), SCALE_PVC - 300);
	cr_expect_str_eq(kp_json_str(line, "what"), "PersistentVolumeClaims not mounted by any pod");
	cr_expect_str_eq(kp_json_str(pvc, "compact_intro"), "300 findings, one row each:");
	cr_expect_str_eq(kp_json_str(pvc, "grouped_intro"), "2,700 more, by cause:");

	/* 341 namespaces: the table lists 50 and one row for the rest */
	cr_expect_eq(json_object_array_length(kp_json_get(v, "by_namespace")), 50);
	cr_expect(json_object_get_boolean(kp_json_get(v, "by_namespace_rest.has_more")));
	cr_expect_str_eq(kp_json_str(v, "by_namespace_rest.label"), "291 other namespaces");
	cr_expect_eq(json_object_array_length(kp_json_get(v, "skipped")), 100);
	cr_expect_eq(json_object_get_int64(kp_json_get(v, "skipped_count")), SCALE_SKIPPED);
	json_object_put(v);
	json_object_put(doc);
}

Test(report_scale, markdown_and_html_stay_small_and_say_what_is_left_out)
{
	json_object *doc = scale_doc(), *ri = scale_limits(10, 50);
	char *md = NULL, *html = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_render_markdown(doc, ri, NULL, &md, &err), KP_OK, "%s", err.msg);
	cr_expect_not_null(strstr(md, "**5,000 findings: 10 in detail (the most money at stake first, then the highest "
				      "risk), 50 as one table row each and 4,940 in grouped lines, one per category and "
				      "cause.** report.xlsx (sheet Findings, one row per finding) and findings.json hold "
				      "every finding"),
			   "%.3000s", md);
	cr_expect_eq(scale_count(md, "\n#### "), 10);
	cr_expect_not_null(strstr(md, "The first 100 are listed; 400 more are in report.xlsx (sheet Skipped)"));
	cr_expect_not_null(strstr(md, "more are in the category below and in report.xlsx"));
	cr_expect_not_null(strstr(md, "| _291 other namespaces_ |"));
	cr_expect_lt(strlen(md), 100 * 1024, "report.md is %zu bytes", strlen(md));
	cr_assert_eq(kp_render_html(md, "scale", &html, &err), KP_OK, "%s", err.msg);
	cr_expect_lt(strlen(html), 150 * 1024, "report.html is %zu bytes", strlen(html));
	free(md);
	free(html);

	/* the defaults: 200 in detail, 2,000 rows: still small */
	cr_assert_eq(kp_render_markdown(doc, NULL, NULL, &md, &err), KP_OK, "%s", err.msg);
	cr_expect_eq(scale_count(md, "\n#### "), 200);
	cr_expect_lt(strlen(md), 1024 * 1024, "report.md is %zu bytes", strlen(md));
	free(md);

	/* nothing in detail, no rows: one grouped line per category and cause */
	json_object_put(ri);
	ri = scale_limits(0, 0);
	cr_assert_eq(kp_render_markdown(doc, ri, NULL, &md, &err), KP_OK, "%s", err.msg);
	cr_expect_eq(scale_count(md, "\n#### "), 0);
	cr_expect_not_null(strstr(md, "**5,000 findings: 5,000 in grouped lines, one per category and cause.**"));
	cr_expect_not_null(strstr(md, "3,000 findings, by cause:\n\n- **3,000** PersistentVolumeClaims not mounted by "
				      "any pod in 300 namespaces, most in team-000 (10), team-001 (10), team-002 (10): saves "
				      "$300.00/month (cost today $300.00/month); action: delete."));
	cr_expect_not_null(strstr(md, "- **100** Jobs that finished long ago, with no CronJob owner and no TTL in "
				      "namespace batch: nothing on the bill; action: delete."));
	cr_expect_not_null(strstr(md, "- **400** containers of Deployments that use more than they request"));
	cr_expect_not_null(strstr(md, "extra cost $40,100.00/month; action: resize."));
	cr_expect_lt(strlen(md), 64 * 1024);
	free(md);
	json_object_put(ri);
	json_object_put(doc);
}

Test(report_scale, equal_money_higher_risk_first)
{
	json_object *list = json_object_new_array();
	json_object_array_add(list, scale_finding("orphaned-pvc", "PersistentVolumeClaim", "a", "low", 5, 5, "LOW", "delete"));
	json_object_array_add(list, scale_finding("orphaned-pvc", "PersistentVolumeClaim", "a", "crit", 5, 5, "CRITICAL",
						  "delete"));
	json_object_array_add(list, scale_finding("orphaned-pvc", "PersistentVolumeClaim", "a", "high", 5, 5, "HIGH", "delete"));
	json_object *doc = json_object_new_object();
	json_object_object_add(doc, "findings", list);
	json_object *ri = scale_limits(1, 1), *v = kp_report_view(doc, ri);
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(kp_json_get(v, "findings"), 0), "name"), "crit");
	json_object *c = json_object_array_get_idx(kp_json_get(v, "categories"), 0);
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(kp_json_get(c, "compact"), 0), "name"), "high");
	cr_expect_eq(json_object_get_int64(kp_json_get(c, "grouped_count")), 1);
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(kp_json_get(c, "grouped"), 0), "what"),
			 "PersistentVolumeClaim not mounted by any pod");
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(kp_json_get(c, "grouped"), 0), "where"), "in namespace a");
	/* a report under the limits has nothing to say about them */
	json_object_put(v);
	v = kp_report_view(doc, NULL);
	cr_expect_not(json_object_get_boolean(kp_json_get(v, "listing.is_bounded")));
	json_object_put(v);
	json_object_put(ri);
	json_object_put(doc);
}

Test(report_scale, not_collected_is_capped_with_a_count)
{
	json_object *doc = json_object_new_object(), *ri = json_object_new_object(), *missing = json_object_new_array();
	json_object_object_add(doc, "findings", json_object_new_array());
	for (int i = 0; i < 250; i++) {
		char s[96];
		snprintf(s, sizeof(s), "metrics of Deployment shop/api-%d not collected: dropped", i);
		json_object_array_add(missing, json_object_new_string(s));
	}
	json_object_object_add(ri, "missing", missing);
	json_object *v = kp_report_view(doc, ri);
	cr_expect_eq(json_object_array_length(kp_json_get(v, "not_collected")), 100);
	cr_expect_eq(json_object_array_length(kp_json_get(v, "missing")), 100);
	cr_expect_eq(json_object_get_int64(kp_json_get(v, "missing_count")), 250);
	cr_expect_str_eq(kp_json_str(v, "missing_more_label"), "150");
	cr_expect(json_object_get_boolean(kp_json_get(v, "degraded")));
	json_object_put(v);
	char *md = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_render_markdown(doc, ri, NULL, &md, &err), KP_OK, "%s", err.msg);
	cr_expect_not_null(strstr(md, "The first 100 are listed; 150 more are in findings.json (`missing`) and run.json."));
	free(md);
	json_object_put(ri);
	json_object_put(doc);
}
