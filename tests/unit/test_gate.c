/*
 * test_gate.c - `--fail-on` (pipeline/gate.c): the accepted spellings, the
 * malformed ones and what their message says, and the judgement: new
 * findings with and without a previous run, savings compared in cents as
 * the report shows them, and the facts read from a findings document.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "pipeline/gate.h"

static kp_gate_cond parse_ok(const char *text)
{
	kp_gate_cond c;
	kp_error err = {0};
	cr_assert_eq(kp_gate_parse(text, &c, &err), KP_OK, "%s: %s", text, err.msg);
	return c;
}

Test(gate, accepted_spellings)
{
	cr_expect_eq(parse_ok("new").kind, KP_GATE_NEW);
	kp_gate_cond c = parse_ok("savings>=1500");
	cr_expect_eq(c.kind, KP_GATE_SAVINGS);
	cr_expect_eq(c.min_cents, 150000);
	cr_expect_eq(parse_ok("savings>=1500.50").min_cents, 150050);
	cr_expect_eq(parse_ok("savings>=1500.5").min_cents, 150050);
	cr_expect_eq(parse_ok("savings>=0.07").min_cents, 7);
	cr_expect_eq(parse_ok("savings>=0").min_cents, 0);
	cr_expect_eq(parse_ok("savings >= 12").min_cents, 1200);
	cr_expect_eq(parse_ok("savings>=9999999999999.99").min_cents, 999999999999999LL);
}

Test(gate, malformed_expressions_say_what_is_accepted)
{
	static const char *const bad[] = {"",	       "New",	       "all",	       "savings",	  "savings>1500",
					  "savings=1500", "savings<=10", "savings>=",   "savings>=abc",   "savings>=-5",
					  "savings>=1500.", "savings>=.5", "savings>=1,500", "savings>=$1500", "savings>=1500 USD",
					  "savings>=1.505", "savings>=1e3", "new,savings>=1", "savings>=10000000000000",
					  "savings>=1500\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kp_gate_cond c;
		kp_error err = {0};
		cr_expect_eq(kp_gate_parse(bad[i], &c, &err), KP_ERR_USAGE, "\"%s\" was accepted", bad[i]);
		cr_expect(strlen(err.msg) > 0, "\"%s\": no message", bad[i]);
		/* every message but the too-large one names both accepted forms */
		if (!strstr(err.msg, "too large"))
			cr_expect(strstr(err.msg, "new") && strstr(err.msg, "savings>=AMOUNT"), "\"%s\": %s", bad[i],
				  err.msg);
	}
	kp_gate_cond c;
	kp_error err = {0};
	kp_gate_parse("savings>=1.505", &c, &err);
	cr_expect(strstr(err.msg, "two decimals"), "%s", err.msg);
	kp_gate_parse(NULL, &c, &err);
	cr_expect_eq(err.status, KP_ERR_USAGE);
}

static bool judge(const char *expr, const kp_gate_facts *f, const char *want_in_line)
{
	kp_gate_cond c = parse_ok(expr);
	char *line = NULL;
	bool r = kp_gate_judge(&c, f, &line);
	cr_assert_not_null(line);
	if (want_in_line)
		cr_expect(strstr(line, want_in_line), "%s: \"%s\" lacks \"%s\"", expr, line, want_in_line);
	free(line);
	return r;
}

Test(gate, savings_compared_in_cents_as_shown)
{
	kp_gate_facts f = {.currency = "USD", .findings = 31, .net_savings = 624.8149};
	/* shown as $624.81: that figure triggers, a cent more does not */
	cr_expect(judge("savings>=624.81", &f, "$624.81/month >= $624.81/month"));
	cr_expect_not(judge("savings>=624.82", &f, "$624.81/month < $624.82/month"));
	cr_expect(judge("savings>=600", &f, "--fail-on savings>=600.00"));
	cr_expect(judge("savings>=0", &f, NULL));
	f.net_savings = 624.815; /* rounds up to $624.82 on the report */
	cr_expect(judge("savings>=624.82", &f, NULL));
	f.currency = "EUR";
	f.net_savings = 1500.5;
	cr_expect(judge("savings>=1500.50", &f, "€1,500.50/month"));
	/* a net that is an extra cost never reaches a positive bar */
	f.net_savings = -12.0;
	cr_expect_not(judge("savings>=0", &f, NULL));
	f.net_savings = 0;
	cr_expect(judge("savings>=0", &f, NULL));
}

Test(gate, new_findings_with_a_previous_run)
{
	kp_gate_facts f = {.currency = "USD", .previous_run = "out/main", .findings = 31, .new_findings = 0};
	cr_expect_not(judge("new", &f, "0 findings new since the previous run out/main"));
	f.new_findings = 1;
	f.new_savings = 38.1;
	cr_expect(judge("new", &f, "1 finding new since the previous run out/main ($38.10/month)"));
}

Test(gate, without_a_previous_run_every_finding_is_new)
{
	kp_gate_facts f = {.currency = "USD", .findings = 31, .net_savings = 624.82};
	cr_expect(judge("new", &f, "all 31 findings count as new ($624.82/month)"));
	f.findings = 0;
	f.net_savings = 0;
	cr_expect_not(judge("new", &f, "no previous run"));
}

Test(gate, facts_from_a_findings_document)
{
	json_object *doc = json_tokener_parse(
		"{\"prices\":{\"currency\":\"GBP\"},\"changes\":{\"previous_run\":\"prev\",\"new\":2},"
		"\"totals\":{\"actionable_monthly_savings\":12.5},\"findings\":["
		"{\"id\":\"a\",\"trend\":\"new\",\"monthly_savings\":10},{\"id\":\"b\",\"trend\":\"persisting\","
		"\"monthly_savings\":1},{\"id\":\"c\",\"trend\":\"new\",\"monthly_savings\":-2.25},{\"id\":\"d\"}]}");
	cr_assert_not_null(doc);
	kp_gate_facts f;
	kp_gate_facts_init(&f, doc);
	json_object *arr = json_object_object_get(doc, "findings");
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		kp_gate_facts_add(&f, json_object_array_get_idx(arr, i));
	cr_expect_str_eq(f.currency, "GBP");
	cr_expect_str_eq(f.previous_run, "prev");
	cr_expect_eq(f.findings, 4);
	cr_expect_eq(f.new_findings, 2);
	cr_expect_float_eq(f.new_savings, 7.75, 1e-9);
	cr_expect_float_eq(f.net_savings, 12.5, 1e-9);
	json_object_put(doc);
	/* a document without changes (written before history): no previous run */
	doc = json_tokener_parse("{\"changes\":{\"previous_run\":null},\"findings\":[]}");
	kp_gate_facts_init(&f, doc);
	cr_expect_null(f.previous_run);
	cr_expect_null(f.currency);
	json_object_put(doc);
}
