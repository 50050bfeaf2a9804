/*
 * gate.c - `--fail-on COND` parsed and judged (gate.h). Money is compared
 * in cents, rounded as kp_money_format rounds it, so a threshold equal to
 * the figure the report shows triggers, whatever the digits beyond.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/gate.h"
#include "pipeline/money.h"

#define ACCEPTED                                                                                                      \
	"accepted: new (a finding new since the previous run) or savings>=AMOUNT (the net potential savings, "        \
	"AMOUNT in the report's currency, e.g. savings>=1500 or savings>=1500.50)"

/* at most 13 digits before the point: 10^13 cents stays exact in a double
 * and far from int64's end */
#define MAX_WHOLE_DIGITS 13

kp_status kp_gate_parse(const char *expr, kp_gate_cond *out, kp_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!expr)
		expr = "";
	if (!strcmp(expr, "new")) {
		out->kind = KP_GATE_NEW;
		return KP_OK;
	}
	const char *p = expr;
	if (strncmp(p, "savings", 7) != 0)
		return kp_fail(err, KP_ERR_USAGE, "\"%.80s\" is not a condition (%s)", expr, ACCEPTED);
	p += 7;
	while (*p == ' ')
		p++;
	if (strncmp(p, ">=", 2) != 0)
		return kp_fail(err, KP_ERR_USAGE, "\"%.80s\": only >= is accepted after savings (%s)", expr, ACCEPTED);
	p += 2;
	while (*p == ' ')
		p++;
	int64_t whole = 0, cents = 0;
	size_t nd = 0, nf = 0;
	for (; *p >= '0' && *p <= '9'; p++, nd++)
		if (nd < MAX_WHOLE_DIGITS)
			whole = whole * 10 + (*p - '0');
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nf++)
			if (nf < 2)
				cents = cents * 10 + (*p - '0');
		if (nf == 0)
			nd = 0; /* "1500." is malformed: a point needs its digits */
	}
	if (nf == 1)
		cents *= 10;
	if (nd == 0 || *p != '\0')
		return kp_fail(err, KP_ERR_USAGE, "\"%.80s\": AMOUNT must be a number such as 1500 or 1500.50 (%s)", expr,
			       ACCEPTED);
	if (nf > 2)
		return kp_fail(err, KP_ERR_USAGE, "\"%.80s\": AMOUNT has at most two decimals, cents (%s)", expr, ACCEPTED);
	if (nd > MAX_WHOLE_DIGITS)
		return kp_fail(err, KP_ERR_USAGE, "\"%.80s\": AMOUNT is too large (at most %d digits before the point)",
			       expr, MAX_WHOLE_DIGITS);
	out->kind = KP_GATE_SAVINGS;
	out->min_cents = whole * 100 + cents;
	return KP_OK;
}

static int64_t to_cents(double v)
{
	if (!isfinite(v))
		return 0;
	if (fabs(v) > 1e15)
		v = v < 0 ? -1e15 : 1e15;
	return v < 0 ? -(int64_t)llround(-v * 100.0) : (int64_t)llround(v * 100.0);
}

bool kp_gate_judge(const kp_gate_cond *c, const kp_gate_facts *f, char **line)
{
	const char *cur = f->currency ? f->currency : "USD";
	char m[64], t[64];
	if (c->kind == KP_GATE_NEW) {
		kp_money_format(f->new_savings, cur, m, sizeof(m));
		if (!f->previous_run) {
			kp_money_format(f->net_savings, cur, t, sizeof(t));
			*line = kp_xasprintf("--fail-on new: no previous run to compare with (no --previous RUN_DIR, or "
					     "no earlier run in --state-dir), so all %lld finding%s count as new (%s/month)",
					     (long long)f->findings, f->findings == 1 ? "" : "s", t);
			return f->findings > 0;
		}
		*line = kp_xasprintf("--fail-on new: %lld finding%s new since the previous run %s (%s/month)",
				     (long long)f->new_findings, f->new_findings == 1 ? "" : "s", f->previous_run, m);
		return f->new_findings > 0;
	}
	int64_t have = to_cents(f->net_savings);
	bool hit = have >= c->min_cents;
	kp_money_format((double)have / 100.0, cur, m, sizeof(m));
	kp_money_format((double)c->min_cents / 100.0, cur, t, sizeof(t));
	*line = kp_xasprintf("--fail-on savings>=%lld.%02lld: net potential savings %s/month %s %s/month",
			     (long long)(c->min_cents / 100), (long long)(c->min_cents % 100), m, hit ? ">=" : "<", t);
	return hit;
}

void kp_gate_facts_init(kp_gate_facts *f, json_object *header)
{
	memset(f, 0, sizeof(*f));
	f->currency = kp_json_str(header, "prices.currency");
	f->previous_run = kp_json_str(header, "changes.previous_run");
	f->net_savings = json_object_get_double(kp_json_get(header, "totals.actionable_monthly_savings"));
}

void kp_gate_facts_add(kp_gate_facts *f, json_object *finding)
{
	f->findings++;
	const char *trend = kp_json_str(finding, "trend");
	if (trend && !strcmp(trend, "new")) {
		f->new_findings++;
		f->new_savings += json_object_get_double(kp_json_get(finding, "monthly_savings"));
	}
}
