/*
 * test_trend.c - keeping the last runs of a state directory and the trend
 * over them (stages/recommend/history.h: kp_history_prune,
 * kp_history_trend, kp_history_check), and the report's trend chart
 * (stages/render/trend_svg.c, kp_render_html_trend).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/kp.h"
#include "pipeline/rundir.h"
#include "stages/recommend/history.h"
#include "stages/render/render.h"
#include "tmpdir.h"

/* ---- fixtures ---- */

/* A complete `kopilot run` directory state/name, finished at `finished`. */
static void put_run(const char *state, const char *name, const char *finished)
{
	char rel[256], text[512];
	snprintf(rel, sizeof(rel), "%s/run.json", name);
	snprintf(text, sizeof(text), "{\"schema\":\"kopilot.run/v1\",\"command\":\"run\",\"finished_at\":\"%s\",\"exit_code\":0}",
		 finished);
	tmpdir_put(state, rel, text);
	snprintf(rel, sizeof(rel), "%s/findings.json", name);
	tmpdir_put(state, rel, "{\"schema\":\"kopilot.findings/v1\",\"findings\":[]}");
}

/* A summary as the recommend stage writes it; namespaces "" = whole cluster. */
static char *summary_text(const char *at, double savings, int findings, const char *namespaces)
{
	return kp_xasprintf("{\"schema\":\"kopilot.summary/v1\",\"generated_at\":\"%s\",\"cluster\":\"c1\",\"currency\":\"USD\","
			    "\"scope\":{\"namespaces\":%s,\"selector\":null,\"include_namespaces\":[],"
			    "\"exclude_namespaces\":[],\"exclude_kinds\":[]},"
			    "\"findings\":%d,\"monthly_savings\":%.2f,\"blocked_monthly_savings\":0,"
			    "\"categories\":{\"over-provisioned\":{\"findings\":%d,\"monthly_savings\":%.2f}}}",
			    at, *namespaces ? namespaces : "null", findings, savings, findings, savings);
}

static void put_summary(const char *state, const char *name, const char *at, double savings, int findings,
			const char *namespaces)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "%s/summary.json", name);
	char *t = summary_text(at, savings, findings, namespaces);
	tmpdir_put(state, rel, t);
	free(t);
}

static bool exists(const char *state, const char *rel)
{
	char *p = kp_path_join(state, rel);
	struct stat st;
	bool e = lstat(p, &st) == 0;
	free(p);
	return e;
}

/* A state directory with runs r1 (oldest) to r3 and things that are not runs. */
static void state_with_strangers(char root[64])
{
	tmpdir_make(root, "prune");
	put_run(root, "r1", "2026-11-01T06:00:00Z");
	put_run(root, "r2", "2026-11-02T06:00:00Z");
	put_run(root, "r3", "2026-11-03T06:00:00Z");
	tmpdir_put(root, "notes/README.md", "mine\n");                             /* someone's directory */
	tmpdir_put(root, "other/run.json", "{\"schema\":\"someone.else/v1\"}");    /* not kopilot's run.json */
	tmpdir_put(root, "other/findings.json", "{}");
	tmpdir_put(root, "half/findings.json", "{}");                              /* no run.json */
	tmpdir_put(root, "stage/run.json", "{\"schema\":\"kopilot.run/v1\",\"command\":\"analyze\"}");
	tmpdir_put(root, "stage/findings.json", "{}");
	tmpdir_put(root, "file.txt", "x\n");
	/* a link to a run elsewhere: its target is someone else's */
	char elsewhere[64];
	tmpdir_make(elsewhere, "prune-target");
	put_run(elsewhere, "old", "2020-01-01T00:00:00Z");
	char *target = kp_path_join(elsewhere, "old"), *link = kp_path_join(root, "linked");
	cr_assert_eq(symlink(target, link), 0);
	free(target), free(link);
}

static size_t prune(const char *state, int keep, const char *current, json_object **removed, json_object **skipped)
{
	*removed = json_object_new_array();
	*skipped = json_object_new_array();
	kp_error err = {0};
	cr_assert_eq(kp_history_prune(state, keep, current, *removed, *skipped, &err), KP_OK, "%s", err.msg);
	return json_object_array_length(*removed);
}

/* ---- pruning ---- */

Test(history_prune, removes_the_oldest_runs_and_nothing_else)
{
	char root[64];
	state_with_strangers(root);
	char *current = kp_path_join(root, "r3");
	json_object *removed, *skipped;
	cr_assert_eq(prune(root, 1, current, &removed, &skipped), 2);
	cr_assert(!exists(root, "r1") && !exists(root, "r2"));
	cr_assert(exists(root, "r3"));
	static const char *const kept[] = {"notes/README.md", "other/run.json", "half/findings.json", "stage/run.json",
					   "file.txt", "linked", "linked/run.json"};
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		cr_assert(exists(root, kept[i]), "%s was removed", kept[i]);
	cr_assert_eq(json_object_array_length(skipped), 0);
	/* nothing left behind: no lock files, no directory moved aside */
	cr_assert(!exists(root, ".r1.lock") && !exists(root, ".r2.lock"));
	char *cmd = kp_xasprintf("ls -a %s | grep -q pruned", root);
	cr_assert_neq(system(cmd), 0, "a .NAME.pruned.PID directory was left");
	free(cmd);
	json_object_put(removed), json_object_put(skipped);
	free(current);
}

Test(history_prune, the_current_run_is_kept_even_when_it_is_the_oldest)
{
	char root[64];
	state_with_strangers(root);
	char *current = kp_path_join(root, "r1");
	json_object *removed, *skipped;
	cr_assert_eq(prune(root, 1, current, &removed, &skipped), 2);
	cr_assert(exists(root, "r1"));
	cr_assert(!exists(root, "r2") && !exists(root, "r3"));
	json_object_put(removed), json_object_put(skipped);
	free(current);
}

Test(history_prune, zero_keeps_every_run)
{
	char root[64];
	state_with_strangers(root);
	char *current = kp_path_join(root, "r3");
	json_object *removed, *skipped;
	cr_assert_eq(prune(root, 0, current, &removed, &skipped), 0);
	cr_assert(exists(root, "r1") && exists(root, "r2") && exists(root, "r3"));
	json_object_put(removed), json_object_put(skipped);
	free(current);
}

Test(history_prune, n_counts_the_current_run)
{
	char root[64];
	state_with_strangers(root);
	char *current = kp_path_join(root, "r3");
	json_object *removed, *skipped;
	cr_assert_eq(prune(root, 2, current, &removed, &skipped), 1);
	char *r1 = kp_path_join(root, "r1");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(removed, 0)), r1);
	free(r1);
	cr_assert(exists(root, "r2") && exists(root, "r3"));
	/* a current run outside the state directory does not take a place */
	json_object_put(removed), json_object_put(skipped);
	cr_assert_eq(prune(root, 2, "/nonexistent/run", &removed, &skipped), 0);
	json_object_put(removed), json_object_put(skipped);
	cr_assert_eq(prune(root, 1, "/nonexistent/run", &removed, &skipped), 1);
	cr_assert(exists(root, "r3") && !exists(root, "r2"));
	json_object_put(removed), json_object_put(skipped);
	free(current);
}

Test(history_prune, a_run_in_use_is_left_for_later)
{
	char root[64];
	state_with_strangers(root);
	kp_lock busy = {0};
	kp_error err = {0};
	char *lockpath = kp_path_join(root, ".r1.lock");
	cr_assert_eq(kp_lock_acquire(&busy, lockpath, "run directory r1", "render", NULL, &err), KP_OK, "%s", err.msg);
	char *current = kp_path_join(root, "r3");
	json_object *removed, *skipped;
	cr_assert_eq(prune(root, 1, current, &removed, &skipped), 1);
	cr_assert(exists(root, "r1"), "a run whose lock is held was removed");
	cr_assert(!exists(root, "r2"));
	cr_assert_eq(json_object_array_length(skipped), 1);
	cr_assert(strstr(json_object_get_string(json_object_array_get_idx(skipped, 0)), "in use by another kopilot"));
	kp_lock_release(&busy);
	json_object_put(removed), json_object_put(skipped);
	free(current), free(lockpath);
}

/* ---- the trend ---- */

static json_object *trend(const char *state, const char *exclude, int keep, json_object *current, json_object **warnings)
{
	*warnings = json_object_new_array();
	json_object *h = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_history_trend(state, exclude, keep, current, &h, *warnings, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(kp_history_check(h, "history.json", &err), KP_OK, "%s", err.msg);
	return h;
}

static json_object *current_summary(double savings)
{
	char *t = summary_text("2026-11-04T06:00:00Z", savings, 7, "");
	json_object *c = json_tokener_parse(t);
	free(t);
	cr_assert(c);
	return c;
}

static const char *run_at(json_object *h, size_t i) { return kp_json_str(json_object_array_get_idx(kp_json_get(h, "runs"), i), "run"); }
static size_t nruns(json_object *h) { return json_object_array_length(kp_json_get(h, "runs")); }

static void state_with_summaries(char root[64])
{
	tmpdir_make(root, "trend");
	put_run(root, "r1", "2026-11-01T06:00:01Z");
	put_run(root, "r2", "2026-11-02T06:00:01Z");
	put_run(root, "r3", "2026-11-03T06:00:01Z");
	put_summary(root, "r1", "2026-11-01T06:00:00Z", 100, 3, "");
	put_summary(root, "r2", "2026-11-02T06:00:00Z", 0, 0, "");
	put_summary(root, "r3", "2026-11-03T06:00:00Z", 250.5, 5, "");
}

Test(history_trend, every_kept_run_in_date_order_then_this_one)
{
	char root[64];
	state_with_summaries(root);
	json_object *w, *cur = current_summary(300);
	json_object *h = trend(root, NULL, 30, cur, &w);
	cr_assert_eq(nruns(h), 4);
	cr_assert_str_eq(run_at(h, 0), "r1");
	cr_assert_str_eq(run_at(h, 2), "r3");
	json_object *last = json_object_array_get_idx(kp_json_get(h, "runs"), 3);
	cr_assert(json_object_get_boolean(kp_json_get(last, "current")));
	cr_assert_float_eq(json_object_get_double(kp_json_get(last, "monthly_savings")), 300, 1e-9);
	cr_assert_float_eq(json_object_get_double(kp_json_get(json_object_array_get_idx(kp_json_get(h, "runs"), 2),
							      "monthly_savings")),
			   250.5, 1e-9);
	cr_assert_eq(json_object_array_length(w), 0);
	json_object_put(h), json_object_put(w), json_object_put(cur);
}

Test(history_trend, a_run_deleted_by_hand_is_simply_gone)
{
	char root[64];
	state_with_summaries(root);
	char *r2 = kp_path_join(root, "r2");
	kp_remove_tree(r2);
	json_object *w, *cur = current_summary(300);
	json_object *h = trend(root, NULL, 30, cur, &w);
	cr_assert_eq(nruns(h), 3);
	cr_assert_str_eq(run_at(h, 0), "r1");
	cr_assert_str_eq(run_at(h, 1), "r3");
	cr_assert_eq(json_object_array_length(w), 0);
	json_object_put(h), json_object_put(w), json_object_put(cur);
	free(r2);
}

Test(history_trend, a_corrupt_or_missing_summary_is_left_out_with_a_warning)
{
	char root[64];
	state_with_summaries(root);
	tmpdir_put(root, "r2/summary.json", "{\"schema\":\"kopilot.summary/v1\",");
	put_run(root, "r0", "2026-10-31T06:00:00Z"); /* from before summaries */
	json_object *w, *cur = current_summary(300);
	json_object *h = trend(root, NULL, 30, cur, &w);
	cr_assert_eq(nruns(h), 3);
	cr_assert_eq(json_object_array_length(w), 2);
	/* the damaged summary first, then the runs without one (gathered) */
	cr_assert(strstr(json_object_get_string(json_object_array_get_idx(w, 0)), "r2/summary.json"));
	cr_assert(strstr(json_object_get_string(json_object_array_get_idx(w, 1)), "r0: no summary.json"));
	cr_assert_eq(json_object_get_int64(kp_json_get(h, "left_out.unreadable")), 2);
	/* a summary that parses but is not one: left out too */
	tmpdir_put(root, "r2/summary.json", "{\"schema\":\"kopilot.summary/v1\",\"generated_at\":\"yesterday\"}");
	json_object_put(h), json_object_put(w);
	h = trend(root, NULL, 30, cur, &w);
	cr_assert_eq(nruns(h), 3);
	cr_assert(strstr(json_object_get_string(json_object_array_get_idx(w, 0)), "generated_at"));
	json_object_put(h), json_object_put(w), json_object_put(cur);
}

/* After an upgrade every older run lacks a summary: one warning for all. */
Test(history_trend, runs_without_a_summary_make_one_warning)
{
	char root[64];
	state_with_summaries(root);
	put_run(root, "o1", "2026-10-29T06:00:00Z");
	put_run(root, "o2", "2026-10-30T06:00:00Z");
	put_run(root, "o3", "2026-10-31T06:00:00Z");
	json_object *w, *cur = current_summary(300);
	json_object *h = trend(root, NULL, 30, cur, &w);
	cr_assert_eq(nruns(h), 4);
	cr_assert_eq(json_object_array_length(w), 1);
	const char *msg = json_object_get_string(json_object_array_get_idx(w, 0));
	cr_assert(strstr(msg, "3 runs without summary.json"), "%s", msg);
	cr_assert(strstr(msg, "o1") && strstr(msg, "o3"), "%s", msg);
	cr_assert_eq(json_object_get_int64(kp_json_get(h, "left_out.unreadable")), 3);
	json_object_put(h), json_object_put(w), json_object_put(cur);
}

Test(history_trend, other_scopes_are_not_on_the_trend)
{
	char root[64];
	state_with_summaries(root);
	put_summary(root, "r2", "2026-11-02T06:00:00Z", 10, 1, "[\"checkout\"]");
	json_object *w, *cur = current_summary(300);
	json_object *h = trend(root, NULL, 30, cur, &w);
	cr_assert_eq(nruns(h), 3);
	cr_assert_eq(json_object_get_int64(kp_json_get(h, "left_out.other_scope")), 1);
	cr_assert_eq(json_object_array_length(w), 0);
	json_object_put(h), json_object_put(w), json_object_put(cur);
}

Test(history_trend, only_the_runs_pruning_keeps_and_never_this_run_twice)
{
	char root[64];
	state_with_summaries(root);
	json_object *w, *cur = current_summary(300);
	/* keep 2: this run and the newest other one */
	json_object *h = trend(root, NULL, 2, cur, &w);
	cr_assert_eq(nruns(h), 2);
	cr_assert_str_eq(run_at(h, 0), "r3");
	json_object_put(h), json_object_put(w);
	/* this run already in the state directory (recommend RUN --state-dir) */
	char *r3 = kp_path_join(root, "r3");
	h = trend(root, r3, 30, cur, &w);
	cr_assert_eq(nruns(h), 3);
	cr_assert_str_eq(run_at(h, 2), "r3");
	cr_assert(json_object_get_boolean(kp_json_get(json_object_array_get_idx(kp_json_get(h, "runs"), 2), "current")));
	json_object_put(h), json_object_put(w);
	/* no state directory yet: this run alone */
	h = trend("/nonexistent/state", NULL, 30, cur, &w);
	cr_assert_eq(nruns(h), 1);
	json_object_put(h), json_object_put(w), json_object_put(cur);
	free(r3);
}

Test(history_trend, check_names_the_field)
{
	kp_error err = {0};
	json_object *h = json_tokener_parse("{\"schema\":\"kopilot.history/v1\",\"currency\":\"USD\",\"runs\":"
					    "[{\"generated_at\":\"2026-11-01T00:00:00Z\",\"findings\":1,"
					    "\"monthly_savings\":\"lots\",\"categories\":{}}]}");
	cr_assert_eq(kp_history_check(h, "RUN/history.json", &err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "RUN/history.json: runs[0].monthly_savings"), "%s", err.msg);
	json_object_put(h);
	h = json_tokener_parse("{\"schema\":\"kopilot.history/v1\",\"currency\":\"USD\",\"runs\":[]}");
	cr_assert_eq(kp_history_check(h, "h", &err), KP_ERR_INPUT);
	json_object_put(h);
}

/* ---- the chart ---- */

/* A history document of n runs, one a day from 2026-01-01, savings f(i). */
static json_object *history_of(size_t n, double (*f)(size_t))
{
	json_object *h = json_object_new_object(), *runs = json_object_new_array();
	json_object_object_add(h, "schema", json_object_new_string("kopilot.history/v1"));
	json_object_object_add(h, "currency", json_object_new_string("USD"));
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_new_object();
		char at[32];
		kp_time_format(1767225600 + (int64_t)i * 86400, at); /* 2026-01-01 */
		json_object_object_add(p, "generated_at", json_object_new_string(at));
		json_object_object_add(p, "findings", json_object_new_int64((int64_t)i + 1));
		json_object_object_add(p, "monthly_savings", json_object_new_double(f(i)));
		json_object_object_add(p, "categories", json_object_new_object());
		json_object_object_add(p, "current", json_object_new_boolean(i == n - 1));
		json_object_array_add(runs, p);
	}
	json_object_object_add(h, "runs", runs);
	return h;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

static double rising(size_t i) { return 100.0 + 12.5 * (double)i; }
static double zero(size_t i) { return (void)i, 0; }
static double flat(size_t i) { return (void)i, 42.42; }
static double wavy(size_t i) { return 1000 + 400 * ((i * 7919) % 13) - 9000.0 * (i == 100); }

static void svg_sane(const char *svg)
{
	cr_assert(svg);
	cr_assert(strncmp(svg, "<svg ", 5) == 0);
	cr_assert(strstr(svg, "role=\"img\"") && strstr(svg, "<title id=\"trend-title\">") &&
		  strstr(svg, "<desc id=\"trend-desc\">"));
	cr_assert(!strstr(svg, "\"nan") && !strstr(svg, "\"inf") && !strstr(svg, "\"-nan") && !strstr(svg, ",nan") &&
		  !strstr(svg, ",inf") && !strstr(svg, ",-nan"),
		  "%s", svg);
	cr_assert(!strstr(svg, "<script") && !strstr(svg, "style=") && !strstr(svg, "href"), "CSP: no script, style or link");
	cr_assert_eq(count(svg, "<svg"), 1);
	cr_assert_eq(count(svg, "</svg>"), 1);
}

Test(trend_svg, two_runs_a_line_and_two_points)
{
	json_object *h = history_of(2, rising);
	char *svg = kp_trend_svg(h);
	svg_sane(svg);
	cr_assert_eq(count(svg, "<circle "), 2);
	cr_assert_eq(count(svg, "<polyline "), 1);
	cr_assert(strstr(svg, "data-points=\"2\""));
	cr_assert(strstr(svg, "data-savings=\"100.00\"") && strstr(svg, "data-savings=\"112.50\""));
	cr_assert(strstr(svg, "2026-01-02 (this run): $112.50/month, 2 findings"), "%s", svg);
	cr_assert(strstr(svg, "2 runs from 2026-01-01 to 2026-01-02: $100.00/month at the first, $112.50/month at the last"));
	/* both dates labelled */
	cr_assert(strstr(svg, ">2026-01-01</text>") && strstr(svg, ">2026-01-02</text>"));
	free(svg);
	json_object_put(h);
}

Test(trend_svg, one_run_a_dot_and_a_sentence)
{
	json_object *h = history_of(1, rising);
	char *svg = kp_trend_svg(h);
	svg_sane(svg);
	cr_assert_eq(count(svg, "<circle "), 1);
	cr_assert_eq(count(svg, "<polyline "), 0);
	cr_assert(strstr(svg, "One run so far"));
	free(svg);
	json_object_put(h);
	/* none at all: no chart */
	h = history_of(0, rising);
	cr_assert_null(kp_trend_svg(h));
	json_object_put(h);
}

Test(trend_svg, many_runs_every_point_few_labels)
{
	json_object *h = history_of(365, wavy);
	char *svg = kp_trend_svg(h);
	svg_sane(svg);
	cr_assert_eq(count(svg, "<circle "), 365);
	cr_assert(strstr(svg, "data-points=\"365\""));
	size_t labels = count(svg, "</text>") - count(svg, "dominant-baseline"); /* x labels: text without y's baseline */
	cr_assert(labels >= 2 && labels <= 9, "%zu date labels", labels);
	cr_assert(strstr(svg, ">2026-12-31</text>"), "the last run is labelled");
	/* a negative net (reliability fixes bigger than savings): the axis goes below 0 */
	cr_assert(strstr(svg, ">-$"), "no negative tick");
	free(svg);
	json_object_put(h);
}

Test(trend_svg, zero_and_equal_values_draw_a_flat_line)
{
	double (*fs[])(size_t) = {zero, flat};
	for (size_t k = 0; k < 2; k++) {
		json_object *h = history_of(5, fs[k]);
		char *svg = kp_trend_svg(h);
		svg_sane(svg);
		cr_assert_eq(count(svg, "<circle "), 5);
		/* every point on one height */
		const char *p = strstr(svg, "<circle "), *cy0 = strstr(p, "cy=\"");
		char first[32];
		snprintf(first, sizeof(first), "%.*s", (int)(strchr(cy0 + 4, '"') - cy0), cy0);
		cr_assert_eq(count(svg, first), 5, "%s", svg);
		cr_assert(strstr(svg, ">$0</text>"), "the axis shows $0");
		free(svg);
		json_object_put(h);
	}
}

Test(trend_svg, the_html_report_has_it_under_its_heading)
{
	json_object *h = history_of(3, rising);
	char *svg = kp_trend_svg(h), *html = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_render_html_trend("# r\n\n## Savings trend\n\nThree runs.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", "t", svg,
					  &html, &err),
		     KP_OK, "%s", err.msg);
	const char *head = strstr(html, "<h2>Savings trend</h2>"), *fig = strstr(html, "<figure class=\"trend\">"),
		   *table = strstr(html, "<div class=\"tw\"><table>");
	cr_assert(head && fig && table && head < fig && fig < table, "%s", html);
	free(html);
	/* without the heading (a user's template): no chart, the page as before */
	cr_assert_eq(kp_render_html_trend("# r\n\nno trend here\n", "t", svg, &html, &err), KP_OK);
	cr_assert_null(strstr(html, "<svg"));
	free(html);
	free(svg);
	json_object_put(h);
}

/* A shard's summary says which shard it is, so one shard's nights never
 * sit on the whole cluster's trend; a whole-cluster summary has no such
 * key (as before sharding existed), and counts add up per category. */
Test(history_trend, a_shard_summary_is_its_own_scope)
{
	json_object *doc = json_tokener_parse("{\"generated_at\":\"2026-11-25T06:00:00Z\",\"cluster\":{\"name\":\"c1\"},"
					      "\"prices\":{\"currency\":\"USD\"},\"scope\":{\"namespaces\":null,"
					      "\"shard\":{\"index\":1,\"count\":4}}}");
	kp_summary_acc a = {0};
	kp_summary_acc_add(&a, KP_CAT_OVER_PROVISIONED, 10.00004, false); /* money rounds at 1/10000 */
	kp_summary_acc_add(&a, KP_CAT_OVER_PROVISIONED, 5, true);
	kp_summary_acc_add(&a, KP_CAT_ORPHANED_PVC, 2.5, false);
	json_object *s = kp_history_summary_of(doc, &a, NULL);
	cr_assert_eq(json_object_get_int64(kp_json_get(s, "scope.shard.index")), 1);
	cr_assert_eq(json_object_get_int64(kp_json_get(s, "findings")), 3);
	cr_assert_float_eq(json_object_get_double(kp_json_get(s, "monthly_savings")), 12.5, 1e-9);
	cr_assert_float_eq(json_object_get_double(kp_json_get(s, "blocked_monthly_savings")), 5, 1e-9);
	cr_assert_eq(json_object_get_int64(kp_json_get(s, "categories.over-provisioned.findings")), 2);
	json_object_put(s);
	json_object_object_del(kp_json_get(doc, "scope"), "shard");
	s = kp_history_summary_of(doc, &a, NULL);
	cr_assert_null(kp_json_get(s, "scope.shard"));
	cr_assert_null(json_object_object_get(kp_json_get(s, "scope"), "shard"));
	json_object_put(s);
	json_object_put(doc);
}
