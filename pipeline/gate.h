/*
 * gate.h - `--fail-on COND`: kopilot as a CI gate.
 *
 * A condition is judged on the run's findings.json after the run is
 * complete; any condition that holds makes the command exit
 * KP_EXIT_GATE (1), which beats ok (0) and degraded (3) but not a usage
 * error (2) or a failure (4): without a complete run there is nothing to
 * judge. The conditions:
 *   new             some finding is new since the previous run (trend
 *                   "new"). Without a previous run (no --previous, or
 *                   nothing yet in --state-dir) the baseline is empty and
 *                   every finding counts as new: a gate whose baseline went
 *                   missing must fail, never pass quietly.
 *   savings>=AMOUNT the net potential savings (findings.json
 *                   totals.actionable_monthly_savings, the headline figure)
 *                   are at least AMOUNT, in the report's currency, compared
 *                   in cents as the report shows them.
 *
 * Nothing here prints: the command layer shows kp_gate_judge's line.
 */
#ifndef KP_GATE_H
#define KP_GATE_H

#include "pipeline/kp.h"

typedef enum { KP_GATE_NEW, KP_GATE_SAVINGS } kp_gate_kind;

typedef struct {
	kp_gate_kind kind;
	int64_t min_cents; /* KP_GATE_SAVINGS: AMOUNT in cents */
} kp_gate_cond;

/* What the conditions are judged on, read from findings.json. */
typedef struct {
	const char *currency;	  /* prices.currency; NULL: USD */
	const char *previous_run; /* changes.previous_run; NULL: none */
	int64_t findings;	  /* every finding of the document */
	int64_t new_findings;	  /* trend "new" */
	double new_savings;	  /* monthly_savings of those */
	double net_savings;	  /* totals.actionable_monthly_savings */
} kp_gate_facts;

/* One --fail-on expression: "new", "savings>=1500", "savings>=1500.50"
 * (spaces around >= allowed; at most two decimals). KP_ERR_USAGE with a
 * message saying what is accepted. */
kp_status kp_gate_parse(const char *expr, kp_gate_cond *out, kp_error *err);

/* Whether c holds for f; *line (caller frees) says why in one line, with
 * the numbers, whether it holds or not ("2 findings new since the previous
 * run prev/ ($38.10/month)"). */
bool kp_gate_judge(const kp_gate_cond *c, const kp_gate_facts *f, char **line);

/* The facts out of a findings document's header (changes, totals,
 * prices) and its findings, one at a time: init with the header, then add
 * each element of "findings". */
void kp_gate_facts_init(kp_gate_facts *f, json_object *header);
void kp_gate_facts_add(kp_gate_facts *f, json_object *finding);

#endif
