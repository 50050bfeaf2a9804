/*
 * render.h - the render stage: views of findings.json.
 *
 * Every renderer works from the findings document (contracts/FINDINGS.md,
 * as written by the recommend stage), whole in memory or, in the stage,
 * streamed from findings.json one finding at a time, so that `kopilot
 * render RUN` works on a run directory copied to another machine: nothing
 * here looks at the snapshot or the configuration.
 *
 * Ownership: returned char * are owned by the caller (free()); the findings
 * json_object stays owned by the caller.
 */
#ifndef KP_RENDER_H
#define KP_RENDER_H

#include "pipeline/kp.h"
#include "pipeline/run.h"

/* The stage: run->dir/findings.json -> report.md, report.html and
 * report.xlsx, each written atomically; run->dir is a staging directory
 * (pipeline/rundir.h), so the three land together or not at all. Uses
 * run->cfg's render.report_template only. */
kp_status kp_render_run(kp_run *run, kp_error *err);

/* ---- mustache-style templates (subset documented in templates/README.md) ----
 * {{name}} HTML-escaped variable, {{{name}}} and {{& name}} raw,
 * {{a.b.c}} dotted names, {{.}} current item, {{#name}}...{{/name}} section
 * (list: repeat; object: push context; truthy scalar: render once),
 * {{^name}}...{{/name}} inverted section, {{! comment}}.
 * Missing names render as "" (as in mustache). Errors (unclosed tags or
 * sections, mismatched section names) name the template line. */
kp_status kp_mustache_render(const char *tmpl, const char *tmpl_name, json_object *ctx, char **out, kp_error *err);
/* Same, but in Markdown mode {{name}} escapes Markdown/HTML-special
 * characters (| * _ ` [ ] < > & \) so cluster-provided names cannot break a
 * table or inject HTML into report.html. */
kp_status kp_mustache_render_markdown(const char *tmpl, const char *tmpl_name, json_object *ctx, char **out,
				      kp_error *err);

/* Same, but in JSON mode {{name}} escapes for the inside of a JSON string
 * (quote, backslash, control characters; the template writes the quotes),
 * and {{{name}}} of an object or array writes it as JSON: a template of a
 * JSON document (templates/notify-*.json.mustache). */
kp_status kp_mustache_render_json(const char *tmpl, const char *tmpl_name, json_object *ctx, char **out,
				  kp_error *err);

/* ---- the money a report headlines (savings.c) ----
 * One split of a findings document's savings, shared by report.md (and so
 * report.html), report.xlsx and the terminal summary, so they cannot
 * disagree. Each finding falls in exactly one bucket:
 *   blocked      its action is blocked (protected namespace): shown, never
 *                added to the net, whatever its sign;
 *   reliability  not blocked, negative savings (a fix that costs);
 *   approval     not blocked, needs approval;
 *   no approval  the rest.
 * net = no_approval + approval - reliability: what the plan (plan.json)
 * can act on, equal to its totals.monthly_savings. */
typedef enum {
	KP_BUCKET_NO_APPROVAL,
	KP_BUCKET_APPROVAL,
	KP_BUCKET_RELIABILITY,
	KP_BUCKET_BLOCKED,
} kp_savings_bucket;

typedef struct kp_savings_split {
	double cost;        /* totals.monthly_cost: cost today of the resources in findings */
	double all;         /* totals.monthly_savings: every finding, blocked ones included */
	double no_approval, approval;
	double reliability; /* extra cost of reliability fixes, as a positive number */
	double blocked;     /* savings of blocked actions (review only) */
	double net;         /* totals.actionable_monthly_savings */
	int64_t findings, n_no_approval, n_approval, n_reliability, n_blocked;
	int64_t counted; /* findings added (kp_savings_split_add) */
} kp_savings_split;

kp_savings_bucket kp_savings_bucket_of(json_object *finding);
/* Fills out from findings["findings"]; the totals come from
 * findings["totals"] where the document states them (so every report agrees
 * with findings.json to the cent), computed from the findings otherwise
 * (a findings.json written before the field existed). */
void kp_savings_split_of(json_object *findings, kp_savings_split *out);
/* The same one finding at a time: out zeroed, add each element of
 * "findings", then finish with the document (its totals, any findings). */
void kp_savings_split_add(kp_savings_split *out, json_object *finding);
void kp_savings_split_finish(json_object *findings, kp_savings_split *out);

/* Builds the view the report template sees: the findings document plus
 * display fields (money as "$1,234.56", sizes as "512Mi", per-category and
 * per-namespace totals, top findings). Caller puts.
 * run_info (may be NULL) also bounds the report: "detail_findings" (default
 * 200) findings in full, most money at stake first, the next "row_findings"
 * (default 2000) as one compact table row each, the rest as grouped lines
 * per category and cause (report.detail_findings, report.row_findings). */
json_object *kp_report_view(json_object *findings, json_object *run_info);
/* The same view built one finding at a time, for a findings.json too big to
 * hold as a tree (render.c streams it twice). begin takes the whole
 * document (it holds a reference); add then takes each element of its
 * "findings" in the same order, whole (nothing of it is kept after add
 * returns); end returns the view (caller puts) and frees the builder,
 * abort frees it alone. */
typedef struct kp_report_builder kp_report_builder;
kp_report_builder *kp_report_begin(json_object *findings, json_object *run_info);
/* begin's first half one finding at a time, for a findings.json streamed:
 * light_add each element of "findings" in a form keeping at least id,
 * category, risk, monthly_savings, monthly_cost, action.blocked,
 * .destructive, .approval_required and price.items (render.c's first pass
 * reads only these; nothing of it is kept but a few numbers and its id),
 * then begin_light with the document's header (its "findings" not read),
 * which takes the accumulator over. */
typedef struct kp_report_light kp_report_light;
kp_report_light *kp_report_light_new(void);
void kp_report_light_add(kp_report_light *l, json_object *finding);
void kp_report_light_free(kp_report_light *l);
size_t kp_report_light_count(const kp_report_light *l); /* elements added */
kp_report_builder *kp_report_begin_light(json_object *findings, kp_report_light *light, json_object *run_info);
void kp_report_add(kp_report_builder *b, json_object *finding);
json_object *kp_report_end(kp_report_builder *b);
void kp_report_abort(kp_report_builder *b);

/* report.md from a template file (NULL: the built-in
 * templates/report.md.mustache, compiled into the binary by the Makefile so
 * the executable works wherever it is copied). */
kp_status kp_render_markdown(json_object *findings, json_object *run_info, const char *template_path, char **out,
			     kp_error *err);
/* The same from a view already built (kp_report_view, kp_report_end). */
kp_status kp_render_markdown_view(json_object *view, const char *template_path, char **out, kp_error *err);
const char *kp_template_builtin(void); /* generated: build/gen/templates.c */
const char *kp_template_pr_body(void); /* templates/pr-body.md.mustache, the same way */

/* report.html: GFM -> HTML with cmark-gfm (tables, autolinks,
 * strikethrough), raw HTML in the Markdown suppressed, wrapped in a
 * self-contained page with its own CSS (screen and print). */
kp_status kp_render_html(const char *markdown, const char *title, char **out, kp_error *err);

/* s escaped for HTML and SVG text and attribute values (& < > " '). */
void kp_html_escape(kp_buf *b, const char *s);
/* The savings trend of report.html (trend_svg.c): an inline <svg> of the
 * net savings per run of a history.json document (kopilot.history/v1,
 * checked with kp_history_check), one point per run; NULL when it has no
 * runs. Caller frees. */
char *kp_trend_svg(json_object *history);
/* kp_render_html, with trend_svg (may be NULL) placed under the report's
 * "Savings trend" heading, above the trend table report.md has there. */
kp_status kp_render_html_trend(const char *markdown, const char *title, const char *trend_svg, char **out,
			       kp_error *err);

/* report.xlsx written atomically to path with libxlsxwriter. */
kp_status kp_render_xlsx(json_object *findings, const char *path, kp_error *err);
/* The same one finding at a time (constant memory): begin takes the
 * document's header (its "findings" are not read; it holds a reference),
 * add the full findings in order,
 * end(keep) closes the workbook and commits it, or discards it when keep is
 * false; end frees the writer either way and returns the first error. */
typedef struct kp_xlsx_writer kp_xlsx_writer;
kp_status kp_xlsx_begin(json_object *findings, const char *path, kp_xlsx_writer **out, kp_error *err);
kp_status kp_xlsx_add(kp_xlsx_writer *w, json_object *finding);
/* Adds the History sheet (one row per run of a checked history.json, and a
 * line chart of it) to the workbook: call before kp_xlsx_end; history
 * stays the caller's. */
void kp_xlsx_history(kp_xlsx_writer *w, json_object *history);
kp_status kp_xlsx_end(kp_xlsx_writer *w, bool keep);

#endif
