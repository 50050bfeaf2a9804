/*
 * test_report.c - the report view, report.md with the built-in template and
 * report.html, on tests/data/findings-sample.json (which holds a hostile
 * resource name with HTML and pipes on purpose).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/plan.h"
#include "stages/render/render.h"

#define REPORT_SAMPLE "tests/data/findings-sample.json"

static json_object *report_sample(void)
{
	json_object *f = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_json_read_file(REPORT_SAMPLE, &f, &err), KP_OK, "%s", err.msg);
	return f;
}

static char *report_md(json_object *run_info)
{
	json_object *f = report_sample();
	char *md = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_render_markdown(f, run_info, NULL, &md, &err), KP_OK, "%s", err.msg);
	json_object_put(f);
	return md;
}

/* The line of text containing needle (caller frees), NULL when absent. */
static char *report_line_with(const char *text, const char *needle, const char *prefix)
{
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++) {
		const char *s = p, *e = strchr(p, '\n');
		while (s > text && s[-1] != '\n')
			s--;
		if (!e)
			e = p + strlen(p);
		if (prefix && strncmp(s, prefix, strlen(prefix)) != 0)
			continue;
		char *l = malloc((size_t)(e - s) + 1);
		memcpy(l, s, (size_t)(e - s));
		l[e - s] = '\0';
		return l;
	}
	return NULL;
}

static int report_cells(const char *row)
{
	int pipes = 0;
	for (const char *p = row; *p; p++)
		if (*p == '|' && (p == row || p[-1] != '\\'))
			pipes++;
	return pipes - 1;
}

Test(report, view_formats_money_sizes_and_groups)
{
	json_object *f = report_sample();
	json_object *v = kp_report_view(f, NULL);
	json_object_put(f); /* the view must not borrow from the findings */
	/* the net leaves the blocked $2.00 out (it is its own figure) */
	cr_expect_str_eq(kp_json_str(v, "totals.savings"), "$306.21");
	cr_expect_str_eq(kp_json_str(v, "totals.all_savings"), "$308.21");
	cr_expect_str_eq(kp_json_str(v, "totals.cost"), "$410.32");
	cr_expect_str_eq(kp_json_str(v, "totals.savings_annual"), "$3,674.47");
	cr_expect_str_eq(kp_json_str(v, "totals.approval_savings"), "$4.00");
	cr_expect_str_eq(kp_json_str(v, "totals.blocked_savings"), "$2.00");
	cr_expect_str_eq(kp_json_str(v, "totals.reliability_cost"), "$4.64");
	cr_expect_str_eq(kp_json_str(v, "totals.findings_label"), "4 findings");
	cr_expect_str_eq(kp_json_str(v, "cluster.name"), "demo-cluster");
	cr_expect_str_eq(kp_json_str(v, "version"), KP_VERSION);
	cr_expect_str_eq(kp_json_str(v, "window.duration"), "14 days");
	cr_expect_str_eq(kp_json_str(v, "prices.source_label"), "default (OpenCost)");

	json_object *top = kp_json_get(v, "top");
	cr_assert_eq(json_object_array_length(top), 4);
	json_object *first = json_object_array_get_idx(top, 0);
	cr_expect_str_eq(kp_json_str(first, "resource"), "Deployment checkout/payments-api");
	cr_expect_str_eq(kp_json_str(first, "change"), "2 cores / 4Gi -> 210m / 840Mi");
	cr_expect_str_eq(kp_json_str(first, "action_label"), "resize");
	cr_expect_str_eq(kp_json_str(first, "command_fence"), "```");
	cr_expect_eq(json_object_get_int(kp_json_get(first, "replicas")), 6);
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(top, 1), "action_label"),
			 "delete (approval required)");
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(top, 2), "action_label"),
			 "delete (BLOCKED: namespace kube-system is protected)");
	json_object *rel = json_object_array_get_idx(top, 3);
	cr_expect_str_eq(kp_json_str(rel, "savings"), "-$4.64");
	cr_expect(json_object_get_boolean(kp_json_get(rel, "is_increase")));

	json_object *bc = kp_json_get(v, "by_category");
	cr_assert_eq(json_object_array_length(bc), 3);
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(bc, 0), "category"), "over-provisioned");
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(bc, 1), "category"), "orphaned-pvc");
	cr_expect_eq(json_object_get_int(kp_json_get(json_object_array_get_idx(bc, 1), "count")), 2);
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(bc, 1), "savings"), "$4.00");
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(bc, 1), "blocked_savings"), "$2.00");
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(bc, 2), "savings"), "-$4.64");
	json_object *bn = kp_json_get(v, "by_namespace");
	cr_assert_eq(json_object_array_length(bn), 4);
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(bn, 3), "namespace"), "search");
	cr_expect_eq(json_object_array_length(kp_json_get(v, "reliability.findings")), 1);
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(kp_json_get(v, "skipped"), 0), "resource"),
			 "Deployment staging/new-service");
	cr_expect(!json_object_get_boolean(kp_json_get(v, "degraded")));
	json_object_put(v);
}

/* Blocked money (actions in protected namespaces) is shown, never added:
 * the net is what plan.json can act on, in every table and headline. */
Test(report, net_is_the_plan_total_and_blocked_money_is_never_added)
{
	json_object *f = report_sample();
	kp_savings_split sp;
	kp_savings_split_of(f, &sp);
	cr_expect_float_eq(sp.net, 306.2059, 1e-9);
	cr_expect_float_eq(sp.blocked, 2.0, 1e-9);
	cr_expect_float_eq(sp.all, 308.2059, 1e-9);
	cr_expect_float_eq(sp.no_approval + sp.approval - sp.reliability, sp.net, 1e-9);
	cr_expect_eq(sp.n_blocked, 1);
	cr_expect_eq(sp.n_reliability, 1);
	json_object *plan = kp_plan_doc(f);
	cr_expect_float_eq(json_object_get_double(kp_json_get(plan, "totals.monthly_savings")), sp.net, 1e-9);
	cr_expect_float_eq(json_object_get_double(kp_json_get(plan, "totals.blocked_monthly_savings")), sp.blocked, 1e-9);
	json_object_put(plan);
	json_object *v = kp_report_view(f, NULL);
	cr_expect_str_eq(kp_json_str(v, "plan.savings"), kp_json_str(v, "totals.savings"));
	json_object *kube = NULL, *bn = kp_json_get(v, "by_namespace");
	for (size_t i = 0; i < json_object_array_length(bn); i++)
		if (strcmp(kp_json_str(json_object_array_get_idx(bn, i), "namespace"), "kube-system") == 0)
			kube = json_object_array_get_idx(bn, i);
	cr_assert_not_null(kube);
	cr_expect_str_eq(kp_json_str(kube, "savings"), "$0.00");
	cr_expect_str_eq(kp_json_str(kube, "blocked_savings"), "$2.00");
	json_object_put(v);

	/* a findings.json from before the additive totals: the same split,
	 * its sum less the blocked findings' savings */
	json_object *t = kp_json_get(f, "totals");
	json_object_object_del(t, "actionable_monthly_savings");
	json_object_object_del(t, "blocked_monthly_savings");
	kp_savings_split old;
	kp_savings_split_of(f, &old);
	cr_expect_float_eq(old.net, sp.net, 1e-9);

	char *md = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_render_markdown(f, NULL, NULL, &md, &err), KP_OK, "%s", err.msg);
	static const char *const want[] = {
		"| **Net potential savings** (what the plan can act on) | **$306.21** |\n"
		"| Not counted: savings blocked in protected namespaces (review only) | $2.00 |\n",
		"| Orphaned persistent volume claims | 2 | $6.00 | $4.00 | $2.00 |\n",
		"| kube-system | 1 | $2.00 | $0.00 | $2.00 |\n",
		"| analytics | 1 | $4.00 | $4.00 | \xe2\x80\x94 |\n",
		"| **Total** | **4** | **$410.32** | **$306.21** | **$2.00** |\n",
		"2 findings, potential savings **$4.00/month** (cost today $6.00/month). Not counted: $2.00/month blocked",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_not_null(strstr(md, want[i]), "missing: %s\n%s", want[i], md);
	cr_expect_null(strstr(md, "$308.21"), "the sum with blocked money is no headline");
	/* the group tables keep one cell count per row, blocked column included */
	const char *tbl = strstr(md, "| Namespace | Findings |");
	cr_assert_not_null(tbl);
	for (const char *l = tbl; l && *l == '|'; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char *line = strndup(l, (size_t)(strchr(l, '\n') - l));
		cr_expect_eq(report_cells(line), 5, "row: %s", line);
		free(line);
	}
	free(md);

	/* nothing blocked: no blocked column, and a zero blocked line */
	json_object *list = kp_json_get(f, "findings");
	for (size_t i = 0; i < json_object_array_length(list); i++)
		json_object_object_add(kp_json_get(json_object_array_get_idx(list, i), "action"), "blocked",
				       json_object_new_boolean(false));
	json_object_object_del(t, "monthly_savings"); /* the document's own sum, blocked included */
	cr_assert_eq(kp_render_markdown(f, NULL, NULL, &md, &err), KP_OK, "%s", err.msg);
	cr_expect_not_null(strstr(md, "| **Total** | **4** | **$410.32** | **$308.21** |\n"), "%s", md);
	cr_expect_not_null(strstr(md, "| Not counted: savings blocked in protected namespaces (review only) | $0.00 |"));
	cr_expect_null(strstr(md, "Blocked, review only"));
	free(md);
	json_object_put(f);
}

/* A node has no requests: its settings table shows what the node offers
 * and what its pods request, never "CPU request 4 cores". */
Test(report, node_rows_are_capacity_allocatable_and_requested)
{
	json_object *f = json_tokener_parse(
		"{\"prices\":{\"currency\":\"USD\"},\"findings\":[{\"category\":\"underutilized-node\","
		"\"resource\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"namespace\":null,\"name\":\"n1\"},"
		"\"current\":{},\"recommended\":null,\"node\":{\"cpu_capacity_millicores\":4000,"
		"\"cpu_allocatable_millicores\":3920,\"cpu_requested_millicores\":640,\"memory_capacity_bytes\":16277569536,"
		"\"memory_allocatable_bytes\":15237382144,\"memory_requested_bytes\":1342177280},"
		"\"monthly_cost\":139.1931,\"monthly_savings\":139.1931,"
		"\"action\":{\"type\":\"review\",\"approval_required\":true,\"blocked\":false}}]}");
	char *md = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_render_markdown(f, NULL, NULL, &md, &err), KP_OK, "%s", err.msg);
	cr_expect_not_null(strstr(md, "| Setting | Current | Recommended |\n|---|---:|---:|\n"
				      "| CPU capacity | 4 cores | \xe2\x80\x94 |\n"
				      "| CPU allocatable | 3.92 cores | \xe2\x80\x94 |\n"
				      "| CPU requested by pods | 640m | \xe2\x80\x94 |\n"
				      "| Memory capacity | 15.2Gi | \xe2\x80\x94 |\n"
				      "| Memory allocatable | 14.2Gi | \xe2\x80\x94 |\n"
				      "| Memory requested by pods | 1.3Gi | \xe2\x80\x94 |\n"),
		  "%s", md);
	cr_expect_null(strstr(md, "| Replicas |"), "%s", md);
	cr_expect_null(strstr(md, "| CPU request |"), "%s", md);
	cr_expect_null(strstr(md, "| Memory request |"), "%s", md);
	free(md);
	json_object *v = kp_report_view(f, NULL);
	json_object *d = json_object_array_get_idx(kp_json_get(v, "findings"), 0);
	cr_expect_null(kp_json_get(d, "current_summary"));
	cr_expect_eq(json_object_get_int64(kp_json_get(d, "node.cpu_requested_millicores")), 640);
	json_object_put(v);
	json_object_put(f);
}

Test(report, view_money_currencies_and_empty_input)
{
	json_object *f = json_tokener_parse("{\"prices\":{\"currency\":\"CHF\"},\"findings\":[{\"category\":\"idle-workload\","
					    "\"resource\":{\"kind\":\"PersistentVolume\",\"namespace\":null,\"name\":\"pv-1\"},"
					    "\"monthly_cost\":1234567.891,\"monthly_savings\":1234.5}]}");
	json_object *v = kp_report_view(f, NULL);
	cr_expect_str_eq(kp_json_str(v, "totals.cost"), "1,234,567.89 CHF");
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(kp_json_get(v, "findings"), 0), "resource"),
			 "PersistentVolume pv-1");
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(kp_json_get(v, "by_namespace"), 0), "namespace"),
			 "(cluster)");
	json_object_put(v);
	json_object_put(f);

	f = json_tokener_parse("{\"prices\":{\"currency\":\"EUR\"},\"totals\":{\"monthly_savings\":-0.004}}");
	v = kp_report_view(f, NULL);
	cr_expect_str_eq(kp_json_str(v, "totals.savings"), "\xe2\x82\xac" "0.00");
	cr_expect(!json_object_get_boolean(kp_json_get(v, "has_findings")));
	json_object_put(v);
	json_object_put(f);

	f = json_tokener_parse("{\"prices\":{\"currency\":\"GBP\"},\"totals\":{\"monthly_savings\":-1000}}");
	v = kp_report_view(f, NULL);
	cr_expect_str_eq(kp_json_str(v, "totals.savings"), "-\xc2\xa3" "1,000.00");
	json_object_put(v);
	json_object_put(f);

	/* an empty document still renders a report that says so */
	f = json_object_new_object();
	char *md = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_render_markdown(f, NULL, NULL, &md, &err), KP_OK, "%s", err.msg);
	cr_expect_not_null(strstr(md, "**No findings.**"));
	cr_expect_not_null(strstr(md, "Nothing was skipped."));
	free(md);
	json_object_put(f);

	/* not an object: an input error, not a crash */
	f = json_object_new_array();
	cr_expect_eq(kp_render_markdown(f, NULL, NULL, &md, &err), KP_ERR_INPUT);
	json_object_put(f);
}

Test(report, markdown_from_sample)
{
	char *md = report_md(NULL);
	cr_expect_not_null(strstr(md, "# Kubernetes cost report: demo-cluster\n"));
	cr_expect_not_null(strstr(md, "**4 findings, $306.21/month potential savings**"));
	cr_expect_not_null(strstr(md, "Not counted: $2.00/month blocked in protected namespaces (review only)."));
	cr_expect_not_null(strstr(md, "of which $4.00 need approval"));
	cr_expect_not_null(strstr(md, "delete (BLOCKED: namespace kube-system is protected)"));
	cr_expect_not_null(strstr(md, "> **Blocked:** namespace kube-system is protected."));
	cr_expect_not_null(strstr(md, "| CPU request | 2 cores | **210m** |\n| Memory request | 4Gi | **840Mi** |\n"));
	cr_expect_not_null(strstr(md, "```sh\nkubectl -n checkout set resources deployment/payments-api -c app "
				      "--requests=cpu=210m,memory=840Mi\n```\n"));
	cr_expect_not_null(strstr(md, "| StatefulSet elasticsearch | es | 500m / 2Gi → 500m / 2.5Gi | +$4.64 |"));
	cr_expect_not_null(strstr(md, "| Deployment staging/new-service | only 6 hours of usage history (minimum 24) |"));
	cr_expect_not_null(strstr(md, "| CPU | $0.031611 per core-hour | $23.08 per core-month | default (OpenCost) |"));
	cr_expect_not_null(strstr(md, "730 hours per month"));
	cr_expect_not_null(strstr(md, "Generated by kopilot " KP_VERSION " at 2026-11-25T06:00:00Z"));
	cr_expect_null(strstr(md, "## Not collected"));
	/* no mustache syntax leaks through, no blank lines inside tables */
	cr_expect_null(strstr(md, "{{"));
	cr_expect_null(strstr(md, "|\n\n|"));

	/* the hostile name is escaped and its table row keeps 7 cells */
	cr_expect_null(strstr(md, "<b>"));
	char *row = report_line_with(md, "old-etcd-backup", "| 3 |");
	cr_assert_not_null(row, "top-findings row missing:\n%s", md);
	cr_expect_eq(report_cells(row), 7, "row: %s", row);
	cr_expect_not_null(strstr(row, "old-etcd-backup \\<b\\>\\|x\\|\\</b\\>"), "row: %s", row);
	free(row);
	/* every row of the top-findings table has the header's cell count */
	char *hdr = report_line_with(md, "| # | Namespace | Resource | Category |", NULL);
	cr_assert_not_null(hdr);
	int cells = report_cells(hdr);
	free(hdr);
	const char *t = strstr(md, "| # | Namespace | Resource | Category |");
	for (const char *l = t; l && *l == '|'; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char *line = strndup(l, (size_t)(strchr(l, '\n') - l));
		cr_expect_eq(report_cells(line), cells, "row: %s", line);
		free(line);
	}
	free(md);
}

Test(report, markdown_not_collected_block)
{
	json_object *ri = json_tokener_parse("{\"version\":\"9.9.9\",\"degraded\":true,"
					     "\"missing\":[\"metrics (Prometheus unreachable)\",\"persistentvolumes\"]}");
	char *md = report_md(ri);
	cr_expect_not_null(strstr(md, "## Not collected\n"));
	cr_expect_not_null(strstr(md, "were **NOT judged**"));
	/* strings (a findings.json before structured entries): cluster-wide rows */
	cr_expect_not_null(strstr(md, "| all namespaces | - | unknown | metrics (Prometheus unreachable) |\n"
				      "| all namespaces | - | unknown | persistentvolumes |\n"), "%s", md);
	cr_expect_not_null(strstr(md, "Generated by kopilot 9.9.9"));
	free(md);
	json_object_put(ri);

	ri = json_tokener_parse("{\"degraded\":true}");
	md = report_md(ri);
	cr_expect_not_null(strstr(md, "## Not collected\n"));
	cr_expect_not_null(strstr(md, "See run.json"));
	free(md);
	json_object_put(ri);
}

Test(report, user_template_file_and_its_errors)
{
	char path[] = "/tmp/kp_test_report_XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	const char *tmpl = "{{cluster.name}}: {{totals.savings}}\n{{#top}}\n- {{resource}}\n";
	cr_assert_eq(write(fd, tmpl, strlen(tmpl)), (ssize_t)strlen(tmpl));
	close(fd);
	json_object *f = report_sample();
	char *md = NULL;
	kp_error err = {0};
	cr_expect_eq(kp_render_markdown(f, NULL, path, &md, &err), KP_ERR_INPUT);
	char want[512];
	snprintf(want, sizeof(want), "%s:2: section \"top\" opened here is never closed", path);
	cr_expect_str_eq(err.msg, want);

	FILE *fp = fopen(path, "a");
	fputs("{{/top}}\n", fp);
	fclose(fp);
	cr_assert_eq(kp_render_markdown(f, NULL, path, &md, &err), KP_OK, "%s", err.msg);
	cr_expect_str_eq(md, "demo-cluster: $306.21\n- Deployment checkout/payments-api\n"
			     "- PersistentVolumeClaim analytics/data-old-etl-0\n"
			     "- PersistentVolumeClaim kube-system/old-etcd-backup \\<b\\>\\|x\\|\\</b\\>\n"
			     "- StatefulSet search/elasticsearch\n");
	free(md);
	unlink(path);
	cr_expect_eq(kp_render_markdown(f, NULL, path, &md, &err), KP_ERR_IO);
	json_object_put(f);
}

Test(report, html_from_sample)
{
	char *md = report_md(NULL);
	char *html = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_render_html(md, "Cost report <demo> & co", &html, &err), KP_OK, "%s", err.msg);
	cr_expect(strncmp(html, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
	cr_expect_not_null(strstr(html, "<meta charset=\"utf-8\">"));
	cr_expect_not_null(strstr(html, "name=\"viewport\""));
	cr_expect_not_null(strstr(html, "<title>Cost report &lt;demo&gt; &amp; co</title>"));
	cr_expect_not_null(strstr(html, "<style>"));
	cr_expect_not_null(strstr(html, "@media print"));
	cr_expect_not_null(strstr(html, "<table>"));
	cr_expect_not_null(strstr(html, "<td align=\"right\">$306.85</td>"));
	cr_expect_not_null(strstr(html, "</body>\n</html>\n"));
	/* the hostile name arrives as text, never as markup */
	cr_expect_null(strstr(html, "<b>"));
	cr_expect_not_null(strstr(html, "old-etcd-backup &lt;b&gt;|x|&lt;/b&gt;</td>"));
	/* self-contained: nothing loaded from elsewhere */
	cr_expect_null(strstr(html, "<script"));
	cr_expect_null(strstr(html, "<link"));
	cr_expect_null(strstr(html, "src="));
	cr_expect_null(strstr(html, "@import"));
	cr_expect_null(strstr(html, "url("));
	free(html);
	free(md);
}

Test(report, html_suppresses_raw_html)
{
	char *html = NULL;
	kp_error err = {0};
	const char *md = "# T\n\n<script>alert(1)</script>\n\nx <img src=x onerror=alert(1)> [l](javascript:alert(1))\n\n"
			 "| a | b |\n|---|--:|\n| 1 | 2 |\n\n~~gone~~ www.example.com\n";
	cr_assert_eq(kp_render_html(md, NULL, &html, &err), KP_OK);
	cr_expect_null(strstr(html, "<script>"));
	cr_expect_null(strstr(html, "<img"));
	cr_expect_null(strstr(html, "javascript:"));
	cr_expect_not_null(strstr(html, "<del>gone</del>"));
	/* no autolinks: text that looks like a host name stays text */
	cr_expect_null(strstr(html, "href=\"http://www.example.com"));
	cr_expect_not_null(strstr(html, "<del>gone</del> www.example.com</p>"));
	cr_expect_not_null(strstr(html, "<td align=\"right\">2</td>"));
	cr_expect_not_null(strstr(html, "<title>kopilot report</title>"));
	free(html);
}

/* JSON written with single quotes, so a test document reads like JSON. */
static json_object *report_json(const char *single_quoted)
{
	char *s = strdup(single_quoted);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_object *o = json_tokener_parse(s);
	free(s);
	cr_assert_not_null(o, "bad test JSON: %s", single_quoted);
	return o;
}

/* findings rendered with a user template (a file, as with --template). */
static char *report_render_with(json_object *findings, const char *tmpl)
{
	char path[] = "/tmp/kp_test_report_view_XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, tmpl, strlen(tmpl)), (ssize_t)strlen(tmpl));
	close(fd);
	char *md = NULL;
	kp_error err = {0};
	kp_status st = kp_render_markdown(findings, NULL, path, &md, &err);
	unlink(path);
	cr_assert_eq(st, KP_OK, "%s", err.msg);
	return md;
}

/* A namespace-scoped run with a previous run and node-type / StorageClass
 * prices: the variables templates/README.md documents for scope, changes,
 * plan, price basis, trend and the "Prices used" rows. */
#define REPORT_RUN_DOC                                                                                             \
	"{'schema':'kopilot.findings/v1','generated_at':'2026-11-25T06:00:00Z','cluster':{'name':'shop'},"          \
	"'prices':{'cpu_core_hour':0.031611,'memory_gib_hour':0.004237,'storage_gib_month':0.04,"                    \
	"'hours_per_month':730,'currency':'USD','source':'config'},"                                                 \
	"'scope':{'namespaces':['checkout','search']},"                                                              \
	"'changes':{'previous_run':'/var/lib/kopilot/20261118T060000Z','previous_generated_at':'2026-11-18T06:00:00Z'," \
	"'new':1,'persisting':3,'resolved':1,'resolved_monthly_savings':7.25,'resolved_findings':[{'id':'00000000000000aa'," \
	"'category':'idle-loadbalancer','resource':{'kind':'Service','namespace':'checkout','name':'old-lb'},"        \
	"'container':null,'monthly_savings':7.25}]},"                                                                \
	"'findings':["                                                                                               \
	"{'id':'1111111111111111','category':'over-provisioned','resource':{'kind':'Deployment','namespace':'checkout'," \
	"'name':'api'},'container':'app','monthly_cost':80,'monthly_savings':50,'risk':'LOW','action':{'type':'resize'," \
	"'command':'kubectl -n checkout set resources deployment/api -c app --requests=cpu=500m'},"                  \
	"'price':{'basis':'node type m5.large (on-demand $0.096/h)','items':[{'type':'node_type','name':'m5.large'," \
	"'spot':false,'hourly':0.096,'cpu_core_hour':0.0364,'memory_gib_hour':0.0049}]},"                            \
	"'trend':'persisting','first_seen':'2026-11-04T06:00:00Z'},"                                                 \
	"{'id':'2222222222222222','category':'orphaned-pvc','resource':{'kind':'PersistentVolumeClaim','namespace':'search'," \
	"'name':'data-0'},'monthly_cost':12.5,'monthly_savings':12.5,'risk':'MEDIUM','action':{'type':'delete'," \
	"'destructive':true,'approval_required':true,'command':'kubectl -n search delete pvc data-0'},"              \
	"'price':{'basis':'StorageClass gp3 $0.12/GiB-month','items':[{'type':'storage_class','name':'gp3',"         \
	"'storage_gib_month':0.12}]},'trend':'new','first_seen':'2026-11-25T06:00:00Z'},"                            \
	"{'id':'3333333333333333','category':'idle-workload','resource':{'kind':'Deployment','namespace':'search',"   \
	"'name':'batch'},'monthly_cost':4,'monthly_savings':4,'risk':'HIGH','action':{'type':'scale-down',"          \
	"'approval_required':true,'command':'kubectl -n search scale deployment/batch --replicas=0'},"               \
	"'price':{'basis':'node types m5.large x2 (on-demand $0.096/h)','items':[{'type':'node_type','name':'m5.large'," \
	"'spot':false,'hourly':0.096,'cpu_core_hour':0.0364,'memory_gib_hour':0.0049}]},"                            \
	"'trend':'persisting','first_seen':'2026-11-18T06:00:00Z'},"                                                 \
	"{'id':'4444444444444444','category':'idle-workload','resource':{'kind':'Deployment','namespace':'checkout',"  \
	"'name':'legacy'},'monthly_cost':2,'monthly_savings':2,'action':{'type':'scale-down','approval_required':true," \
	"'blocked':true,'blocked_reason':'namespace checkout is protected','command':'kubectl -n checkout scale deployment/legacy --replicas=0'}," \
	"'price':{'basis':'node type m5.large spot (spot, custom pricing spotCPU/spotRAM)','items':[{'type':'node_type'," \
	"'name':'m5.large','spot':true,'cpu_core_hour':0.01,'memory_gib_hour':0.001}]},"                             \
	"'trend':'persisting','first_seen':'2026-11-18T06:00:00Z'}]}"

Test(report, template_with_plan_changes_scope_and_price_basis)
{
	json_object *f = report_json(REPORT_RUN_DOC);
	const char *tmpl =
		"{{cluster.name}}{{#scope.has_namespaces}} ({{scope.title}}){{/scope.has_namespaces}}\n"
		"{{#changes.has_previous}}\n"
		"Since {{changes.previous_generated_at_display}} ({{changes.previous_run}}): {{changes.new}} new, "
		"{{changes.persisting}} persisting, {{changes.resolved}} resolved ({{changes.resolved_savings}})\n"
		"{{#changes.resolved_findings}}\n"
		"- resolved {{resource}}: {{category_title}}, {{savings}}\n"
		"{{/changes.resolved_findings}}\n"
		"{{/changes.has_previous}}\n"
		"Plan for {{scope.label}}: {{plan.shown_label}} of {{plan.count}}, {{plan.shown_savings}} of {{plan.savings}}"
		"{{#plan.has_more}}, {{plan.more_label}}{{/plan.has_more}}\n"
		"{{#plan.steps}}\n"
		"{{step}}. [{{risk_class}}] {{resource}} {{savings}} (cum. {{cumulative}}){{#is_new}} new{{/is_new}}"
		"{{#first_seen_display}} since {{.}}{{/first_seen_display}}{{#price_basis}}; priced at {{.}}{{/price_basis}}\n"
		"{{/plan.steps}}\n"
		"{{#plan.has_blocked}}\n"
		"Not in the plan: {{plan.blocked_label}} ({{plan.blocked_savings}})\n"
		"{{/plan.has_blocked}}\n"
		"{{{plan.commands_fence}}}sh\n{{{plan.commands}}}\n{{{plan.commands_fence}}}\n"
		"{{#prices.has_node_types}}\n"
		"{{#prices.node_types}}\n"
		"node {{name}}: {{hourly}}/h, {{cpu}}, {{memory}} x{{findings}}\n"
		"{{/prices.node_types}}\n"
		"{{/prices.has_node_types}}\n"
		"{{#prices.has_storage_classes}}\n"
		"{{#prices.storage_classes}}\n"
		"class {{name}}: {{storage}} x{{findings}}\n"
		"{{/prices.storage_classes}}\n"
		"{{/prices.has_storage_classes}}\n";
	char *md = report_render_with(f, tmpl);
	/* plan order is no-approval, approval-required, destructive (not the
	 * findings.json order); the blocked action is never a step */
	cr_expect_str_eq(md, "shop (namespaces checkout, search)\n"
			     "Since 2026-11-18 06:00 UTC (/var/lib/kopilot/20261118T060000Z): 1 new, 3 persisting, "
			     "1 resolved ($7.25)\n"
			     "- resolved Service checkout/old-lb: Idle load balancers, $7.25\n"
			     "Plan for checkout, search: These 3 steps of 3, $66.50 of $66.50\n"
			     "1. [no-approval] Deployment checkout/api $50.00 (cum. $50.00) since 2026-11-04 06:00 UTC; "
			     "priced at node type m5.large (on-demand $0.096/h)\n"
			     "2. [approval-required] Deployment search/batch $4.00 (cum. $54.00) since 2026-11-18 06:00 UTC; "
			     "priced at node types m5.large x2 (on-demand $0.096/h)\n"
			     "3. [destructive] PersistentVolumeClaim search/data-0 $12.50 (cum. $66.50) new since "
			     "2026-11-25 06:00 UTC; priced at StorageClass gp3 $0.12/GiB-month\n"
			     "Not in the plan: 1 blocked action ($2.00)\n"
			     "```sh\n"
			     "kubectl -n checkout set resources deployment/api -c app --requests=cpu=500m\n"
			     "kubectl -n search scale deployment/batch --replicas=0\n"
			     "kubectl -n search delete pvc data-0\n"
			     "```\n"
			     "node m5.large: $0.096/h, $0.0364, $0.0049 x2\n"
			     "node m5.large (spot): /h, $0.01, $0.001 x1\n"
			     "class gp3: $0.12 x1\n");
	free(md);

	/* the built-in template shows the same variables */
	md = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_render_markdown(f, NULL, NULL, &md, &err), KP_OK, "%s", err.msg);
	cr_expect_not_null(strstr(md, "# Kubernetes cost report: shop, namespaces checkout, search\n"), "%s", md);
	cr_expect_not_null(strstr(md, "## Plan: the next cost-saving actions for checkout, search\n"));
	cr_expect_not_null(strstr(md, "Compared with the run of 2026-11-18 06:00 UTC (/var/lib/kopilot/20261118T060000Z): "
				      "**1 new**, 3 persisting, **1 resolved** ($7.25/month"));
	cr_expect_not_null(strstr(md, "| Service checkout/old-lb | Idle load balancers | $7.25 |\n"));
	cr_expect_not_null(strstr(md, "| 3 | search | PersistentVolumeClaim data-0 | delete (approval required) | MEDIUM "
				      "| $12.50 | $66.50 |\n"));
	cr_expect_not_null(strstr(md, "(cost today $80.00/month; priced at node type m5.large (on-demand $0.096/h))"));
	cr_expect_not_null(strstr(md, "| m5.large (spot) |  | $0.01 | $0.001 | 1 |  |\n"));
	cr_expect_not_null(strstr(md, "| gp3 | $0.12 | 1 |  |\n"));
	cr_expect_not_null(strstr(md, "first seen 2026-11-25 06:00 UTC (new)"));
	cr_expect_null(strstr(md, "{{"));
	free(md);
	json_object_put(f);
}

Test(report, template_without_previous_run_scope_or_specific_prices)
{
	/* 12 resizes: the plan shows the 10 biggest and says 2 more follow */
	json_object *f = report_json("{'prices':{'currency':'EUR'},'findings':[]}");
	json_object *list = kp_json_get(f, "findings");
	for (int i = 1; i <= 12; i++) {
		char doc[256];
		snprintf(doc, sizeof(doc),
			 "{'id':'%016d','category':'over-provisioned','resource':{'kind':'Deployment','namespace':'ns',"
			 "'name':'d%d'},'monthly_savings':%d,'action':{'type':'resize'}}",
			 i, i, i);
		json_object_array_add(list, report_json(doc));
	}
	const char *tmpl = "{{^scope.has_namespaces}}whole cluster{{/scope.has_namespaces}}{{scope.title}}\n"
			   "{{^changes.has_previous}}no previous run: {{changes.new}}/{{changes.resolved}} "
			   "{{changes.previous_generated_at_display}}{{/changes.has_previous}}\n"
			   "{{plan.shown}} of {{plan.count}}: {{plan.shown_label}}, {{plan.shown_savings}}; "
			   "{{#plan.has_more}}{{plan.more_label}}, {{plan.savings}}{{/plan.has_more}}"
			   "{{^plan.commands}} (no commands){{/plan.commands}}"
			   "{{^plan.has_blocked}} (nothing blocked){{/plan.has_blocked}}\n"
			   "{{#plan.steps}}{{step}}:{{name}}{{#trend}}!{{/trend}}{{#price_basis}}?{{/price_basis}} {{/plan.steps}}\n"
			   "{{^prices.has_node_types}}{{^prices.has_storage_classes}}global prices only{{/prices.has_storage_classes}}"
			   "{{/prices.has_node_types}}\n";
	char *md = report_render_with(f, tmpl);
	cr_expect_str_eq(md, "whole cluster\n"
			     "no previous run: 0/0 an unknown time\n"
			     "10 of 12: The first 10 steps, \xe2\x82\xac" "75.00; 2 more steps, \xe2\x82\xac" "78.00"
			     " (no commands) (nothing blocked)\n"
			     "1:d12 2:d11 3:d10 4:d9 5:d8 6:d7 7:d6 8:d5 9:d4 10:d3 \n"
			     "global prices only\n");
	free(md);
	json_object_put(f);
}
