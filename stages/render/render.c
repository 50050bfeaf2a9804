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

static kp_status read_findings(const char *dir, json_object **doc, kp_error *err)
{
	char *fpath = kp_path_join(dir, "findings.json");
	kp_status s = kp_json_read_file(fpath, doc, err);
	if (!s) {
		const char *schema = kp_json_str(*doc, "schema");
		if (!schema || strcmp(schema, KP_FINDINGS_SCHEMA) != 0) {
			s = kp_fail(err, KP_ERR_INPUT, "%s: schema: expected \"%s\"", fpath, KP_FINDINGS_SCHEMA);
			json_object_put(*doc);
			*doc = NULL;
		}
	}
	free(fpath);
	return s;
}

static kp_status render_run(kp_run *run, kp_error *err)
{
	json_object *doc = NULL;
	kp_status s = read_findings(run->dir, &doc, err);
	if (s)
		return s;
	/* entries as findings.json has them (already scoped), strings from a
	 * findings.json before structured entries read as cluster-wide ones */
	json_object *missing = NULL;
	char *fpath = kp_path_join(run->dir, "findings.json");
	s = kp_missing_from_json(doc, fpath, &missing, err);
	free(fpath);
	if (s) {
		json_object_put(doc);
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
	s = kp_render_markdown(doc, info, tmpl, &md, err);
	if (!s)
		s = kp_render_html(md, title, &html, err);
	/* Each file atomically; the three as a group come from the run
	 * directory: the stage writes into a staging directory that replaces
	 * RUN only when the whole command succeeded (pipeline/rundir.h). */
	if (!s)
		s = kp_write_file_atomic(mdpath, md, strlen(md), err);
	if (!s)
		s = kp_write_file_atomic(htmlpath, html, strlen(html), err);
	if (!s)
		s = kp_render_xlsx(doc, xlsxpath, err);
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
	json_object_put(info);
	json_object_put(doc);
	return s;
}

kp_status kp_render_run(kp_run *run, kp_error *err) { return kp_run_guarded(render_run, run, err); }
