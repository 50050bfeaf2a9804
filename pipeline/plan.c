/*
 * plan.c - plan.json and the ordering behind it; see plan.h.
 *
 * Why this order: a reviewer can apply the first class today (resizes
 * through a pull request, nothing to ask anyone), the second needs an
 * owner's yes, the third cannot be undone. Within a class the biggest
 * saving comes first, so the cumulative column says how far down the list
 * one has to go for a given amount. Reliability fixes (negative savings)
 * are resizes too: they sort to the end of the first class and lower the
 * cumulative figure, which is honest about what the plan as a whole saves.
 */
#include "pipeline/plan.h"
#include "pipeline/jsonw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double round4(double v) { return round(v * 10000.0) / 10000.0; }

const char *kp_plan_class_name(kp_plan_class c)
{
	switch (c) {
	case KP_PLAN_NO_APPROVAL:
		return "no-approval";
	case KP_PLAN_APPROVAL:
		return "approval-required";
	case KP_PLAN_DESTRUCTIVE:
		return "destructive";
	case KP_PLAN_BLOCKED:
		return "blocked";
	}
	return "blocked";
}

static bool flag(json_object *f, const char *k)
{
	json_object *v = kp_json_get(f, k);
	return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

void kp_plan_key_of(json_object *f, kp_plan_key *out)
{
	out->id = kp_json_str(f, "id");
	out->savings = json_object_get_double(kp_json_get(f, "monthly_savings"));
	out->blocked = flag(f, "action.blocked");
	out->destructive = flag(f, "action.destructive");
	out->approval_required = flag(f, "action.approval_required");
}

static kp_plan_class class_of(const kp_plan_key *k)
{
	if (k->blocked)
		return KP_PLAN_BLOCKED;
	/* destructive without approval cannot happen (safety forbids it);
	 * were it to, it still goes last */
	if (k->destructive)
		return KP_PLAN_DESTRUCTIVE;
	if (k->approval_required)
		return KP_PLAN_APPROVAL;
	return KP_PLAN_NO_APPROVAL;
}

static int cmp_step(const void *a, const void *b)
{
	const kp_plan_item *x = a, *y = b;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	if (x->savings != y->savings)
		return x->savings > y->savings ? -1 : 1;
	return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

void kp_plan_init(kp_plan *out, size_t n)
{
	memset(out, 0, sizeof(*out));
	out->steps = kp_xcalloc(n ? n : 1, sizeof(kp_plan_item));
	out->blocked = kp_xcalloc(n ? n : 1, sizeof(kp_plan_item));
}

void kp_plan_add(kp_plan *out, const kp_plan_key *k, size_t index, json_object *finding)
{
	kp_plan_item it = {.finding = finding, .id = k->id, .index = index, .cls = class_of(k)};
	it.savings = round4(k->savings);
	if (it.cls == KP_PLAN_BLOCKED) {
		out->blocked_savings += it.savings;
		out->blocked[out->nblocked++] = it;
	} else {
		out->steps[out->nsteps++] = it;
	}
}

void kp_plan_finish(kp_plan *out)
{
	if (out->nsteps > 1)
		qsort(out->steps, out->nsteps, sizeof(kp_plan_item), cmp_step);
	double sum = 0;
	for (size_t i = 0; i < out->nsteps; i++) {
		sum += out->steps[i].savings;
		out->steps[i].cumulative = round4(sum);
	}
	out->savings = round4(sum);
	out->blocked_savings = round4(out->blocked_savings);
}

void kp_plan_build(json_object *doc, kp_plan *out)
{
	json_object *arr = kp_json_get(doc, "findings");
	size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	kp_plan_init(out, n);
	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(f, json_type_object))
			continue;
		kp_plan_key k;
		kp_plan_key_of(f, &k);
		kp_plan_add(out, &k, i, f);
	}
	kp_plan_finish(out);
}

void kp_plan_release(kp_plan *p)
{
	free(p->steps);
	free(p->blocked);
	memset(p, 0, sizeof(*p));
}

static json_object *copy_of(json_object *v)
{
	json_object *c = NULL;
	if (v && json_object_deep_copy(v, &c, NULL) != 0)
		c = NULL;
	return c;
}

/* The fields a step and a blocked entry share: what and where. */
static void add_entry(json_object *o, const kp_plan_item *it, json_object *f)
{
	json_object_object_add(o, "finding", copy_of(kp_json_get(f, "id")));
	json_object_object_add(o, "category", copy_of(kp_json_get(f, "category")));
	json_object_object_add(o, "action", copy_of(kp_json_get(f, "action.type")));
	json_object_object_add(o, "namespace", copy_of(kp_json_get(f, "resource.namespace")));
	json_object_object_add(o, "kind", copy_of(kp_json_get(f, "resource.kind")));
	json_object_object_add(o, "name", copy_of(kp_json_get(f, "resource.name")));
	json_object_object_add(o, "container", copy_of(kp_json_get(f, "container")));
	json_object_object_add(o, "monthly_savings", kp_json_new_number(it->savings));
	json_object_object_add(o, "risk", copy_of(kp_json_get(f, "risk")));
	/* the other objects the step changes (an HPA target, a volume's
	 * reclaim policy): part of the step, not a footnote of the finding */
	json_object *rel = kp_json_get(f, "related_changes");
	if (rel)
		json_object_object_add(o, "related_changes", copy_of(rel));
}

static json_object *step_entry(const kp_plan_item *it, json_object *f, size_t step)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "step", json_object_new_int64((int64_t)step));
	json_object_object_add(o, "risk_class", json_object_new_string(kp_plan_class_name(it->cls)));
	add_entry(o, it, f);
	json_object_object_add(o, "cumulative_savings", kp_json_new_number(it->cumulative));
	json_object_object_add(o, "approval_required", json_object_new_boolean(flag(f, "action.approval_required")));
	json_object_object_add(o, "destructive", json_object_new_boolean(flag(f, "action.destructive")));
	json_object_object_add(o, "command", copy_of(kp_json_get(f, "action.command")));
	return o;
}

static json_object *blocked_entry(const kp_plan_item *it, json_object *f)
{
	json_object *o = json_object_new_object();
	add_entry(o, it, f);
	/* no command: a blocked action is shown for review, never to run */
	json_object_object_add(o, "blocked_reason", copy_of(kp_json_get(f, "action.blocked_reason")));
	return o;
}

/* plan.json without its two lists ("steps" and "blocked" null in their places). */
static json_object *plan_header(json_object *findings_doc, const kp_plan *p)
{
	json_object *doc = json_object_new_object();
	json_object_object_add(doc, "schema", json_object_new_string("kopilot.plan/v1"));
	json_object_object_add(doc, "generated_at", copy_of(kp_json_get(findings_doc, "generated_at")));
	json_object_object_add(doc, "currency", copy_of(kp_json_get(findings_doc, "prices.currency")));
	json_object_object_add(doc, "order",
			       json_object_new_string("no-approval, then approval-required, then destructive; "
						      "within each by monthly_savings descending; blocked actions are "
						      "not steps"));
	int64_t per_class[3] = {0, 0, 0};
	for (size_t i = 0; i < p->nsteps; i++)
		per_class[p->steps[i].cls]++;
	json_object *totals = json_object_new_object();
	json_object_object_add(totals, "steps", json_object_new_int64((int64_t)p->nsteps));
	json_object_object_add(totals, "no_approval", json_object_new_int64(per_class[KP_PLAN_NO_APPROVAL]));
	json_object_object_add(totals, "approval_required", json_object_new_int64(per_class[KP_PLAN_APPROVAL]));
	json_object_object_add(totals, "destructive", json_object_new_int64(per_class[KP_PLAN_DESTRUCTIVE]));
	json_object_object_add(totals, "monthly_savings", kp_json_new_number(p->savings));
	json_object_object_add(totals, "blocked", json_object_new_int64((int64_t)p->nblocked));
	json_object_object_add(totals, "blocked_monthly_savings", kp_json_new_number(p->blocked_savings));
	json_object_object_add(doc, "totals", totals);
	json_object_object_add(doc, "steps", NULL);
	json_object_object_add(doc, "blocked", NULL);
	return doc;
}

json_object *kp_plan_doc(json_object *findings_doc)
{
	kp_plan p;
	kp_plan_build(findings_doc, &p);
	json_object *doc = plan_header(findings_doc, &p);
	json_object *steps = json_object_new_array(), *blocked = json_object_new_array();
	for (size_t i = 0; i < p.nsteps; i++)
		json_object_array_add(steps, step_entry(&p.steps[i], p.steps[i].finding, i + 1));
	for (size_t i = 0; i < p.nblocked; i++)
		json_object_array_add(blocked, blocked_entry(&p.blocked[i], p.blocked[i].finding));
	json_object_object_add(doc, "steps", steps);
	json_object_object_add(doc, "blocked", blocked);
	kp_plan_release(&p);
	return doc;
}

typedef struct {
	const kp_plan *p;
	kp_plan_full_fn full;
	void *ud;
} gen_t;

static kp_status gen_step(void *ud, size_t i, json_object **item, kp_error *err)
{
	(void)err;
	gen_t *g = ud;
	const kp_plan_item *it = &g->p->steps[i];
	json_object *f = g->full(g->ud, it->index);
	*item = step_entry(it, f, i + 1);
	json_object_put(f);
	return KP_OK;
}

static kp_status gen_blocked(void *ud, size_t i, json_object **item, kp_error *err)
{
	(void)err;
	gen_t *g = ud;
	const kp_plan_item *it = &g->p->blocked[i];
	json_object *f = g->full(g->ud, it->index);
	*item = blocked_entry(it, f);
	json_object_put(f);
	return KP_OK;
}

kp_status kp_plan_write(const char *path, json_object *findings_doc, const kp_plan_key *keys, size_t n,
			json_object *scope, kp_plan_full_fn full, void *ud, kp_error *err)
{
	kp_plan p;
	kp_plan_init(&p, n);
	for (size_t i = 0; i < n; i++)
		kp_plan_add(&p, &keys[i], i, NULL);
	kp_plan_finish(&p);
	json_object *doc = plan_header(findings_doc, &p);
	if (scope)
		json_object_object_add(doc, "scope", json_object_get(scope));
	gen_t g = {&p, full, ud};
	kp_json_streamed arrays[2] = {{"steps", p.nsteps, gen_step, &g}, {"blocked", p.nblocked, gen_blocked, &g}};
	kp_status s = kp_json_write_streamed(path, doc, arrays, 2, err);
	json_object_put(doc);
	kp_plan_release(&p);
	return s;
}
