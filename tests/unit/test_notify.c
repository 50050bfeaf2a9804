/*
 * test_notify.c - run metrics (pipeline/runmetrics.c: label escaping, what a
 * failed run leaves out, the savings series cap keeping the sums) and the
 * notifications (stages/render/notify.c: mustache's JSON mode, the rendered
 * document checked with its position, the Slack pieces within Block Kit's
 * limits and escaped for mrkdwn).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/runmetrics.h"
#include "stages/render/notify.h"
#include "stages/render/render.h"

Test(runmetrics, label_values_escape_backslash_quote_and_newline)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_runmetrics_escape_label(&b, "a\\b\"c\nd");
	cr_assert_str_eq(kp_buf_cstr(&b), "a\\\\b\\\"c\\nd");
	kp_buf_release(&b);
}

static json_object *facts(bool completed)
{
	json_object *f = json_tokener_parse(
		"{\"cluster\": \"c\\\"1\", \"exit_code\": 3, \"finished\": 1700000000, \"run_seconds\": 1.5,"
		" \"stage_seconds\": {\"collect\": 0.25, \"render\": 0.5},"
		" \"findings\": {\"over-provisioned\": 3, \"orphaned-pvc\": 1},"
		" \"savings\": {\"over-provisioned\": {\"a\": 10, \"b\": 0.1, \"c\": 5},"
		"               \"orphaned-pvc\": {\"d\": 2.5}},"
		" \"actionable_monthly_savings\": 17.6, \"missing_inputs\": 1,"
		" \"llm_tokens\": {\"openai\": {\"in\": 100, \"out\": 20}}}");
	json_object_object_add(f, "completed", json_object_new_boolean(completed));
	return f;
}

Test(runmetrics, a_completed_run_has_every_family_with_cluster_labels)
{
	json_object *f = facts(true);
	char *t = kp_runmetrics_text(f, 1000, true);
	cr_assert(strstr(t, "# TYPE kopilot_last_success_timestamp_seconds gauge\n"));
	cr_assert(strstr(t, "kopilot_last_success_timestamp_seconds{cluster=\"c\\\"1\"} 1700000000\n"), "%s", t);
	cr_assert(strstr(t, "kopilot_stage_duration_seconds{cluster=\"c\\\"1\",stage=\"render\"} 0.5\n"), "%s", t);
	cr_assert(strstr(t, "kopilot_monthly_savings{cluster=\"c\\\"1\",category=\"over-provisioned\",namespace=\"b\"} 0.1\n"),
		  "%s", t);
	cr_assert(strstr(t, "kopilot_llm_tokens_total{cluster=\"c\\\"1\",provider=\"openai\",direction=\"out\"} 20\n"), "%s", t);
	cr_assert(strstr(t, "kopilot_run_degraded{cluster=\"c\\\"1\"} 1\n"), "%s", t);
	free(t);
	t = kp_runmetrics_text(f, 1000, false); /* a push: the cluster is in the grouping key */
	cr_assert(strstr(t, "kopilot_run_exit_code 3\n"), "%s", t);
	cr_assert_null(strstr(t, "cluster="));
	free(t);
	json_object_put(f);
}

Test(runmetrics, a_failed_run_leaves_the_last_good_runs_families_alone)
{
	json_object *f = facts(false);
	char *t = kp_runmetrics_text(f, 1000, false);
	cr_assert(strstr(t, "kopilot_run_exit_code 3\n"));
	cr_assert(strstr(t, "kopilot_last_run_timestamp_seconds 1700000000\n"));
	cr_assert_null(strstr(t, "kopilot_last_success_timestamp_seconds"));
	cr_assert_null(strstr(t, "kopilot_findings"));
	cr_assert_null(strstr(t, "kopilot_monthly_savings"));
	free(t);
	json_object_put(f);
}

/* The sum of the kopilot_monthly_savings samples, and how many there are. */
static double savings_sum(const char *t, int *lines)
{
	double sum = 0;
	*lines = 0;
	for (const char *p = strstr(t, "\nkopilot_monthly_savings{"); p; p = strstr(p + 1, "\nkopilot_monthly_savings{")) {
		const char *sp = strchr(p + 1, ' ');
		sum += strtod(sp + 1, NULL);
		(*lines)++;
	}
	return sum;
}

Test(runmetrics, the_savings_cap_folds_the_least_money_into_other_and_keeps_the_sums)
{
	json_object *f = facts(true);
	int n;
	char *t = kp_runmetrics_text(f, 3, false);
	double sum = savings_sum(t, &n);
	cr_assert_eq(n, 3, "%s", t);
	cr_assert_float_eq(sum, 17.6, 1e-9);
	/* a 10, c 5, d 2.5, b 0.1: keeping two would leave two categories
	 * to fold, four lines; so a is kept, b and c folded, and d, alone in
	 * its category's tail, keeps its name */
	cr_assert(strstr(t, "{category=\"over-provisioned\",namespace=\"a\"} 10\n"), "%s", t);
	cr_assert(strstr(t, "{category=\"over-provisioned\",namespace=\"(other)\"} 5.1\n"), "%s", t);
	cr_assert(strstr(t, "{category=\"orphaned-pvc\",namespace=\"d\"} 2.5\n"), "%s", t);
	free(t);
	t = kp_runmetrics_text(f, 1, false); /* below one per category: one per category */
	sum = savings_sum(t, &n);
	cr_assert_eq(n, 2, "%s", t);
	cr_assert_float_eq(sum, 17.6, 1e-9);
	free(t);
	json_object_put(f);
}

Test(notify, json_mode_escapes_for_json_strings_and_writes_objects_raw)
{
	json_object *ctx = json_tokener_parse("{\"s\": \"q\\\"b\\\\n\\n\\t\\u0001<&>\", \"o\": {\"k\": [1, \"x\"]}}");
	char *out = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_mustache_render_json("{\"s\": \"{{s}}\", \"o\": {{{o}}}}", "t", ctx, &out, &err), KP_OK, "%s",
		     err.msg);
	json_object *back = json_tokener_parse(out);
	cr_assert_not_null(back, "%s", out);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(back, "s")), "q\"b\\n\n\t\x01<&>");
	cr_assert_str_eq(json_object_to_json_string_ext(json_object_object_get(back, "o"), JSON_C_TO_STRING_PLAIN),
			 "{\"k\":[1,\"x\"]}");
	json_object_put(back);
	json_object_put(ctx);
	free(out);
}

Test(notify, a_rendered_message_that_is_not_json_names_the_template_and_where)
{
	json_object *ctx = json_tokener_parse("{\"a\": \"x\"}");
	char *out = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_notify_render(NULL, "{\n  \"a\": \"{{a}}\"\n  \"b\": 1\n}\n", "my.json.mustache", ctx, &out, &err),
		     KP_ERR_INPUT);
	cr_assert_null(out);
	cr_assert(strstr(err.msg, "my.json.mustache: the rendered message is not a JSON object: line 3, column 3"), "%s",
		  err.msg);
	cr_assert_eq(kp_notify_render(NULL, "{\"a\": 1} {", "t", ctx, &out, &err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "t: the rendered message is not a JSON object: line 1, column 10"), "%s", err.msg);
	cr_assert_eq(kp_notify_render(NULL, "[1]", "t", ctx, &out, &err), KP_ERR_INPUT);
	json_object_put(ctx);
}

Test(notify, the_built_in_templates_render_the_context_and_slack_pieces_fit_block_kit)
{
	char name[400];
	memset(name, 'n', 300);
	strcpy(name + 300, "<&>");
	json_object *summary = json_tokener_parse(
		"{\"cluster\": {\"name\": \"x\"}, \"prices\": {\"currency\": \"USD\"}, \"missing\": [],"
		" \"totals\": {\"findings\": 1, \"monthly_cost\": 20, \"monthly_savings\": 12.5,"
		"  \"actionable_monthly_savings\": 12.5, \"blocked_monthly_savings\": 0},"
		" \"findings\": [{\"id\": \"f1\", \"category\": \"over-provisioned\", \"risk\": \"LOW\", \"container\": \"c\","
		"  \"monthly_savings\": 12.5, \"resource\": {\"kind\": \"Deployment\", \"namespace\": \"ns\", \"name\": \"a<b>&c\"},"
		"  \"evidence\": [{\"summary\": \"CPU p95 was 150m\"}]}]}");
	json_object_object_add(kp_json_get(summary, "cluster"), "name", json_object_new_string(name));
	json_object *cats = json_tokener_parse("{\"over-provisioned\": {\"findings\": 1, \"monthly_savings\": 12.5}}");
	kp_config cfg;
	kp_config_init(&cfg);
	kp_notify_run info = {"/nonexistent", "20261125T060000Z", 0, "ok"};
	json_object *ctx = kp_notify_context(summary, cats, &cfg, &info);
	cr_assert_leq(strlen(kp_json_str(ctx, "slack.header")), 150);
	cr_assert_null(kp_json_get(ctx, "links.report_html"));
	const char *top = kp_json_str(json_object_array_get_idx(kp_json_get(ctx, "slack.top"), 0), "text_md");
	cr_assert(strstr(top, "Deployment/a&lt;b&gt;&amp;c [c]\nCPU p95 was 150m"), "%s", top);
	char *out = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_notify_render(NULL, kp_template_notify_slack(), "slack", ctx, &out, &err), KP_OK, "%s", err.msg);
	json_object *m = json_tokener_parse(out);
	json_object *blocks = json_object_object_get(m, "blocks");
	cr_assert_str_eq(kp_json_str(json_object_array_get_idx(blocks, 0), "type"), "header");
	cr_assert_eq(json_object_array_length(kp_json_get(json_object_array_get_idx(blocks, 2), "fields")), 1);
	json_object_put(m);
	free(out);
	cr_assert_eq(kp_notify_render(NULL, kp_template_notify_webhook(), "webhook", ctx, &out, &err), KP_OK, "%s",
		     err.msg);
	m = json_tokener_parse(out);
	cr_assert_str_eq(kp_json_str(m, "cluster"), name);
	cr_assert_str_eq(kp_json_str(json_object_array_get_idx(kp_json_get(m, "top_findings"), 0), "name"), "a<b>&c");
	cr_assert_float_eq(json_object_get_double(kp_json_get(m, "totals.monthly_savings")), 12.5, 1e-9);
	json_object_put(m);
	free(out);
	json_object_put(ctx);
	json_object_put(cats);
	json_object_put(summary);
	kp_config_release(&cfg);
}

Test(runmetrics, a_failed_runs_textfile_carries_the_last_good_runs_families_over)
{
	char dir[] = "/tmp/kp-test-textfile.XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	json_object *ok = facts(true), *bad = facts(false);
	json_object_object_add(bad, "exit_code", json_object_new_int(4));
	json_object_object_add(bad, "finished", json_object_new_int64(1700000600));
	char *t1 = kp_runmetrics_text(ok, 1000, true), *t2 = kp_runmetrics_text(bad, 1000, true);
	kp_error err = {0};
	cr_assert_eq(kp_runmetrics_write_textfile(dir, t1, false, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(kp_runmetrics_write_textfile(dir, t2, true, &err), KP_OK, "%s", err.msg);
	char *path = kp_path_join(dir, "kopilot.prom"), *got = NULL;
	size_t len;
	cr_assert_eq(kp_read_file(path, &got, &len, &err), KP_OK);
	cr_assert(strstr(got, "kopilot_run_exit_code{cluster=\"c\\\"1\"} 4\n"), "%s", got);
	cr_assert_null(strstr(got, "kopilot_run_exit_code{cluster=\"c\\\"1\"} 3\n"), "%s", got);
	cr_assert(strstr(got, "kopilot_last_run_timestamp_seconds{cluster=\"c\\\"1\"} 1700000600\n"), "%s", got);
	cr_assert(strstr(got, "kopilot_last_success_timestamp_seconds{cluster=\"c\\\"1\"} 1700000000\n"), "%s", got);
	cr_assert(strstr(got, "# TYPE kopilot_findings gauge\n"), "%s", got);
	/* each family once: the failed run's own, not the old one's too */
	const char *first = strstr(got, "# TYPE kopilot_run_exit_code ");
	cr_assert_not_null(first);
	cr_assert_null(strstr(first + 1, "# TYPE kopilot_run_exit_code "), "%s", got);
	first = strstr(got, "# TYPE kopilot_last_success_timestamp_seconds ");
	cr_assert_not_null(first);
	cr_assert_null(strstr(first + 1, "# TYPE kopilot_last_success_timestamp_seconds "), "%s", got);
	free(got);
	/* a completed run writes its own file whole */
	cr_assert_eq(kp_runmetrics_write_textfile(dir, t1, false, &err), KP_OK);
	cr_assert_eq(kp_read_file(path, &got, &len, &err), KP_OK);
	cr_assert_str_eq(got, t1);
	free(got);
	unlink(path);
	rmdir(dir);
	free(path), free(t1), free(t2);
	json_object_put(ok), json_object_put(bad);
}
