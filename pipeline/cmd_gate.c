/*
 * cmd_gate.c - --fail-on in the command layer: the conditions judged on a
 * complete run's facts (pipeline/gate.h), the record run.json keeps, and
 * the line CI logs show.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cmd.h"
#include "pipeline/gate.h"
#include "pipeline/listscan.h"
#include "pipeline/log.h"
#include "stages/render/render.h"

json_object *kp_cmd_gate_judge(const kp_opts *o, const kp_gate_facts *f, bool *triggered)
{
	*triggered = false;
	if (!o->nfail_on)
		return NULL;
	json_object *rec = json_object_new_object(), *list = json_object_new_array(), *conds = json_object_new_array();
	for (size_t i = 0; i < o->nfail_on; i++) {
		kp_gate_cond c;
		kp_error err = {0};
		if (kp_gate_parse(o->fail_on[i], &c, &err))
			continue; /* cannot happen: the parser checked it */
		char *why = NULL;
		bool holds = kp_gate_judge(&c, f, &why);
		*triggered = *triggered || holds;
		json_object *one = json_object_new_object();
		json_object_object_add(one, "condition", json_object_new_string(o->fail_on[i]));
		json_object_object_add(one, "holds", json_object_new_boolean(holds));
		json_object_object_add(one, "why", json_object_new_string(why));
		json_object_array_add(conds, one);
		json_object_array_add(list, json_object_new_string(o->fail_on[i]));
		free(why);
	}
	json_object_object_add(rec, "fail_on", list);
	json_object_object_add(rec, "triggered", json_object_new_boolean(*triggered));
	json_object_object_add(rec, "conditions", conds);
	return rec;
}

void kp_cmd_gate_report(const char *cmd, json_object *rec)
{
	json_object *conds = json_object_object_get(rec, "conditions");
	for (size_t i = 0; i < json_object_array_length(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *why = kp_json_str(c, "why");
		/* the one line a CI log needs: which condition, with its numbers */
		if (json_object_get_boolean(json_object_object_get(c, "holds")))
			fprintf(stderr, "kopilot %s: gate triggered (exit %d): %s\n", cmd, KP_EXIT_GATE, why);
		else
			kp_log(KP_LOG_INFO, "%s: gate passed: %s", cmd, why);
	}
}

/* ---- the facts of a findings.json on disk (render, recommend) ---- */

static const kp_keep k_gate_action[] = {{"blocked", NULL}, {"approval_required", NULL}, {NULL, NULL}};
static const kp_keep k_gate[] = {{"trend", NULL}, {"monthly_savings", NULL}, {"monthly_cost", NULL},
				 {"action", k_gate_action}, {NULL, NULL}};

struct gate_scan {
	kp_gate_facts f;
	kp_savings_split sp;
};

static kp_status gate_item(void *ud, json_object *item, size_t index, kp_error *err)
{
	(void)index, (void)err;
	struct gate_scan *g = ud;
	kp_gate_facts_add(&g->f, item);
	kp_savings_split_add(&g->sp, item);
	return KP_OK;
}

kp_status kp_cmd_gate_facts_file(const char *path, kp_gate_facts *f, json_object **header, kp_error *err)
{
	struct gate_scan g;
	memset(&g, 0, sizeof(g));
	*header = NULL;
	kp_status s = kp_listscan_file(path, "findings", "a findings document (kopilot.findings/v1)", k_gate, gate_item,
				       &g, header, err);
	if (s) {
		json_object_put(*header);
		*header = NULL;
		return s;
	}
	/* the net as the reports headline it, even for a findings.json that
	 * predates totals.actionable_monthly_savings */
	kp_savings_split_finish(*header, &g.sp);
	kp_gate_facts_init(f, *header);
	f->findings = g.f.findings, f->new_findings = g.f.new_findings, f->new_savings = g.f.new_savings;
	f->net_savings = g.sp.net;
	return KP_OK;
}
