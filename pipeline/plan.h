/*
 * plan.h - plan.json: the order in which to act on the findings.
 *
 * Steps go by risk class first, then by monthly_savings descending (then
 * id, so the order is total):
 *   1. no-approval        non-destructive, no approval needed (resizes)
 *   2. approval-required  non-destructive but approval-gated (scale-downs, reviews)
 *   3. destructive        deletions and drains, always approval-gated
 * Blocked actions (protected namespaces) are never steps: they are listed
 * apart, for the record. Each step carries its command, savings, risk and
 * the cumulative savings of it and every step before it.
 *
 * The plan is computed from the findings document (contract
 * kopilot.findings/v1), so the recommend stage (plan.json) and the report
 * (its plan section, made from findings.json alone) share one ordering.
 *
 * Ownership: kp_plan holds borrowed pointers into the findings document,
 * which must outlive it; kp_plan_release frees only the arrays.
 * kp_plan_doc returns a new json_object the caller puts.
 */
#ifndef KP_PLAN_H
#define KP_PLAN_H

#include "pipeline/kp.h"

typedef enum { KP_PLAN_NO_APPROVAL, KP_PLAN_APPROVAL, KP_PLAN_DESTRUCTIVE, KP_PLAN_BLOCKED } kp_plan_class;

typedef struct kp_plan_item {
	json_object *finding; /* borrowed from the findings document; NULL when built from keys alone */
	const char *id;       /* the finding's id (borrowed), which breaks ties */
	size_t index;         /* its place in the document's "findings" */
	kp_plan_class cls;
	double savings;    /* monthly_savings, rounded to 1/10000 */
	double cumulative; /* steps: savings of this step and all before it */
} kp_plan_item;

typedef struct kp_plan {
	kp_plan_item *steps;
	size_t nsteps;
	kp_plan_item *blocked; /* in the document's order (savings descending) */
	size_t nblocked;
	double savings;         /* all steps together */
	double blocked_savings; /* all blocked actions together */
} kp_plan;

/* "no-approval", "approval-required", "destructive", "blocked" */
const char *kp_plan_class_name(kp_plan_class c);

void kp_plan_build(json_object *findings_doc, kp_plan *out);
void kp_plan_release(kp_plan *p);

/* What places a finding in the plan, without the finding: at tens of
 * thousands of findings the plan is ordered over these (a few dozen bytes
 * each) rather than over JSON trees. */
typedef struct kp_plan_key {
	const char *id; /* borrowed */
	double savings; /* monthly_savings */
	bool blocked, destructive, approval_required;
} kp_plan_key;
/* The key of a finding as findings.json has it (id and monthly_savings,
 * action.blocked, .destructive, .approval_required); id borrowed from f. */
void kp_plan_key_of(json_object *finding, kp_plan_key *out);
/* kp_plan_build one finding at a time: init for at most n, add each
 * (finding may be NULL; the key's id must outlive the plan), finish. */
void kp_plan_init(kp_plan *out, size_t n);
void kp_plan_add(kp_plan *out, const kp_plan_key *key, size_t index, json_object *finding);
void kp_plan_finish(kp_plan *out);

/* plan.json (schema kopilot.plan/v1) for a findings document. */
json_object *kp_plan_doc(json_object *findings_doc);

/* plan.json written to path atomically, its entries made one at a time:
 * the order comes from keys[0..n) (finding i's key at i), generated_at and
 * the currency from findings_doc (its findings are not read); each entry's
 * other fields come from full(ud, i), a new json object of finding i
 * (whole, as findings.json has it) that the writer puts. The same bytes as
 * kp_plan_doc of the whole document with "scope" added (NULL: none). */
typedef json_object *(*kp_plan_full_fn)(void *ud, size_t i);
kp_status kp_plan_write(const char *path, json_object *findings_doc, const kp_plan_key *keys, size_t n,
			json_object *scope, kp_plan_full_fn full, void *ud, kp_error *err);

#endif
