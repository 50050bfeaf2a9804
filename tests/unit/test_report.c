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
	cr_expect_str_eq(kp_json_str(v, "totals.savings"), "$308.21");
	cr_expect_str_eq(kp_json_str(v, "totals.cost"), "$410.32");
	cr_expect_str_eq(kp_json_str(v, "totals.savings_annual"), "$3,698.47");
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
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(bc, 1), "savings"), "$6.00");
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
	cr_expect_not_null(strstr(md, "**4 findings, $308.21/month potential savings**"));
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
	cr_expect_not_null(strstr(md, "> - metrics (Prometheus unreachable)\n> - persistentvolumes\n"));
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
	cr_expect_str_eq(md, "demo-cluster: $308.21\n- Deployment checkout/payments-api\n"
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
	cr_expect_not_null(strstr(html, "<a href=\"http://www.example.com\">"));
	cr_expect_not_null(strstr(html, "<td align=\"right\">2</td>"));
	cr_expect_not_null(strstr(html, "<title>kopilot report</title>"));
	free(html);
}
