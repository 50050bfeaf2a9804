/*
 * savings.c - the split of a findings document's savings that every report
 * headlines (see render.h): no approval, approval, blocked, reliability,
 * net. It lives in one place because report.md, report.xlsx and the
 * terminal once each computed their own, and the net figure came to include
 * blocked money that no one may act on.
 *
 * Memory: reads the document only; nothing allocated.
 */
#include "stages/render/render.h"

#include "pipeline/money.h"

#include <string.h>

static bool flag_of(json_object *o, const char *k)
{
	json_object *v = kp_json_get(o, k);
	return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static bool number_at(json_object *o, const char *k, double *out)
{
	json_object *v = kp_json_get(o, k);
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return false;
	*out = json_object_get_double(v);
	return true;
}

kp_savings_bucket kp_savings_bucket_of(json_object *f)
{
	double s = 0;
	number_at(f, "monthly_savings", &s);
	/* blocked first: plan.json leaves every blocked action out, an
	 * increase included, and the net must equal the plan's total */
	if (flag_of(f, "action.blocked"))
		return KP_BUCKET_BLOCKED;
	if (s < 0)
		return KP_BUCKET_RELIABILITY;
	if (flag_of(f, "action.approval_required"))
		return KP_BUCKET_APPROVAL;
	return KP_BUCKET_NO_APPROVAL;
}

void kp_savings_split_add(kp_savings_split *out, json_object *f)
{
	if (!json_object_is_type(f, json_type_object))
		return;
	double c = 0, s = 0;
	number_at(f, "monthly_cost", &c);
	number_at(f, "monthly_savings", &s);
	/* per finding at 1/10000, as findings.json and plan.json hold them */
	c = kp_money_round(c);
	s = kp_money_round(s);
	out->counted++;
	out->cost += c;
	out->all += s;
	switch (kp_savings_bucket_of(f)) {
	case KP_BUCKET_BLOCKED:
		out->blocked += s;
		out->n_blocked++;
		break;
	case KP_BUCKET_RELIABILITY:
		out->reliability += -s;
		out->n_reliability++;
		break;
	case KP_BUCKET_APPROVAL:
		out->approval += s;
		out->n_approval++;
		break;
	case KP_BUCKET_NO_APPROVAL:
		out->no_approval += s;
		out->n_no_approval++;
		break;
	}
}

void kp_savings_split_finish(json_object *doc, kp_savings_split *out)
{
	double v;
	out->no_approval = kp_money_round(out->no_approval);
	out->approval = kp_money_round(out->approval);
	out->reliability = kp_money_round(out->reliability);
	out->blocked = number_at(doc, "totals.blocked_monthly_savings", &v) ? v : kp_money_round(out->blocked);
	out->cost = number_at(doc, "totals.monthly_cost", &v) ? v : kp_money_round(out->cost);
	out->all = number_at(doc, "totals.monthly_savings", &v) ? v : kp_money_round(out->all);
	/* an older findings.json has only the sum: the net is that sum without
	 * the blocked money, which still agrees with it to the cent */
	out->net = number_at(doc, "totals.actionable_monthly_savings", &v) ? v : kp_money_round(out->all - out->blocked);
	out->findings = number_at(doc, "totals.findings", &v) ? (int64_t)v : out->counted;
}

void kp_savings_split_of(json_object *doc, kp_savings_split *out)
{
	memset(out, 0, sizeof(*out));
	json_object *list = kp_json_get(doc, "findings");
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++)
		kp_savings_split_add(out, json_object_array_get_idx(list, i));
	kp_savings_split_finish(doc, out);
}
