/*
 * render.c - the render stage (see render.h): reads findings.json, renders
 * the three reports in memory and writes each atomically. A template error
 * or a full disk never mixes a new report.xlsx with an old report.md: the
 * stage writes into the command's staging directory, which replaces the
 * run directory only when everything succeeded (pipeline/rundir.h).
 */
#include "stages/render/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/findings_json.h"
#include "pipeline/listscan.h"

/* What the first pass keeps of each finding: what ranks it for the report
 * (money at stake, risk, category), places it in the plan (the action's
 * flags, the id that breaks ties) and splits the money (cost, blocked,
 * approval), and the prices it was priced at. The rest (evidence,
 * explanation, commands, sizes) is read in the second pass, one finding at
 * a time. */
static const kp_keep k_light_action[] = {{"blocked", NULL}, {"destructive", NULL}, {"approval_required", NULL}, {NULL, NULL}};
static const kp_keep k_light_price[] = {{"items", NULL}, {NULL, NULL}};
static const kp_keep k_light[] = {{"id", NULL},		{"category", NULL},	    {"risk", NULL},
				  {"monthly_savings", NULL}, {"monthly_cost", NULL},    {"action", k_light_action},
				  {"price", k_light_price},  {NULL, NULL}};

#define FINDINGS_EXPECTED "a findings document (kopilot.findings/v1, written by `kopilot recommend`)"

static kp_status keep_light(void *ud, json_object *item, size_t index, kp_error *err)
{
	(void)index, (void)err;
	kp_report_light_add(ud, item);
	return KP_OK;
}

/* Pass 1: findings.json's header ("findings" left empty) and, in *light,
 * what the report needs of every finding at once (a few dozen bytes each). */
static kp_status read_light(const char *fpath, json_object **doc, kp_report_light **light, kp_error *err)
{
	*light = kp_report_light_new();
	kp_status s = kp_listscan_file(fpath, "findings", FINDINGS_EXPECTED, k_light, keep_light, *light, doc, err);
	if (!s) {
		const char *schema = kp_json_str(*doc, "schema");
		if (!schema || strcmp(schema, KP_FINDINGS_SCHEMA) != 0)
			s = kp_fail(err, KP_ERR_INPUT, "%s: schema: expected \"%s\"", fpath, KP_FINDINGS_SCHEMA);
		else if (!json_object_is_type(kp_json_get(*doc, "findings"), json_type_array))
			s = kp_fail(err, KP_ERR_INPUT, "%s: findings: missing or not a list", fpath);
	}
	if (s) {
		kp_report_light_free(*light);
		*light = NULL;
		json_object_put(*doc);
		*doc = NULL;
	}
	return s;
}

/* Pass 2: each whole finding to the report view and the spreadsheet. */
typedef struct {
	kp_report_builder *view;
	kp_xlsx_writer *xlsx;
	size_t count;
} pass2_t;

static kp_status add_full(void *ud, json_object *item, size_t index, kp_error *err)
{
	(void)index, (void)err;
	pass2_t *p = ud;
	p->count++;
	kp_report_add(p->view, item);
	return kp_xlsx_add(p->xlsx, item);
}

static kp_status render_run(kp_run *run, kp_error *err)
{
	/* findings.json is read twice, never whole: a light pass for what
	 * needs every finding at once (ranking, plan, totals), then a pass
	 * that hands each full finding to the reports and lets it go. Memory
	 * stays at the light forms, whatever the number of findings. */
	char *fpath = kp_path_join(run->dir, "findings.json");
	json_object *doc = NULL;
	kp_report_light *light = NULL;
	kp_status s = read_light(fpath, &doc, &light, err);
	if (s) {
		free(fpath);
		return s;
	}
	size_t expected = kp_report_light_count(light);
	/* entries as findings.json has them (already scoped), strings from a
	 * findings.json before structured entries read as cluster-wide ones */
	json_object *missing = NULL;
	s = kp_missing_from_json(doc, fpath, &missing, err);
	if (s) {
		kp_report_light_free(light);
		json_object_put(doc);
		free(fpath);
		return s;
	}
	json_object *info = json_object_new_object();
	json_object_object_add(info, "version", json_object_new_string(KP_VERSION));
	bool degraded = json_object_array_length(missing) > 0 ||
			json_object_get_int64(kp_json_get(doc, "inconsistencies_total")) > 0;
	json_object_object_add(info, "missing", missing);
	json_object_object_add(info, "missing_excluded_by_scope",
			       json_object_get(kp_json_get(doc, "missing_excluded_by_scope")));
	json_object_object_add(info, "degraded", json_object_new_boolean(degraded));
	/* how many findings report.md shows in detail and as rows (report_md.c) */
	json_object_object_add(info, "detail_findings", json_object_new_int64(run->cfg->render.detail_findings));
	json_object_object_add(info, "row_findings", json_object_new_int64(run->cfg->render.row_findings));
	if (degraded)
		run->degraded = true;

	const char *tmpl = run->cfg->render.report_template;
	char *md = NULL, *html = NULL;
	char *mdpath = kp_path_join(run->dir, "report.md"), *htmlpath = kp_path_join(run->dir, "report.html"),
	     *xlsxpath = kp_path_join(run->dir, "report.xlsx");
	char title[512];
	kp_buf nsl;
	kp_buf_init(&nsl);
	kp_scope_label(doc, &nsl);
	snprintf(title, sizeof(title), "kopilot report: %s%s",
		 kp_json_str(doc, "cluster.name") ? kp_json_str(doc, "cluster.name") : "cluster", kp_buf_cstr(&nsl));
	kp_buf_release(&nsl);

	pass2_t p = {kp_report_begin_light(doc, light, info), NULL, 0};
	s = kp_xlsx_begin(doc, xlsxpath, &p.xlsx, err);
	json_object *skeleton = NULL;
	if (!s)
		s = kp_listscan_file(fpath, "findings", FINDINGS_EXPECTED, NULL, add_full, &p, &skeleton, err);
	json_object_put(skeleton);
	if (!s && p.count != expected)
		s = kp_fail(err, KP_ERR_INPUT, "%s: changed while it was read (%zu findings, then %zu)", fpath, expected,
			    p.count);
	/* Each file atomically; the three as a group come from the run
	 * directory: the stage writes into a staging directory that replaces
	 * RUN only when the whole command succeeded (pipeline/rundir.h). */
	if (p.xlsx) {
		kp_status xs = kp_xlsx_end(p.xlsx, !s);
		s = s ? s : xs;
	}
	json_object *view = kp_report_end(p.view);
	if (!s)
		s = kp_render_markdown_view(view, tmpl, &md, err);
	json_object_put(view);
	if (!s)
		s = kp_render_html(md, title, &html, err);
	if (!s)
		s = kp_write_file_atomic(mdpath, md, strlen(md), err);
	if (!s)
		s = kp_write_file_atomic(htmlpath, html, strlen(html), err);
	if (!s) {
		json_object *ev = json_object_new_object();
		json_object_object_add(ev, "outputs", json_object_new_string("report.md,report.html,report.xlsx"));
		json_object_object_add(ev, "template", json_object_new_string(tmpl ? tmpl : "builtin"));
		kp_audit_event(run->audit, "render", ev);
	}
	free(md);
	free(html);
	free(mdpath);
	free(htmlpath);
	free(xlsxpath);
	free(fpath);
	json_object_put(info);
	json_object_put(doc);
	return s;
}

kp_status kp_render_run(kp_run *run, kp_error *err) { return kp_run_guarded(render_run, run, err); }
