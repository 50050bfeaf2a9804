/*
 * findings_json.h - the JSON forms of findings, shared by analysis.json
 * (findings before prices and actions) and findings.json (contract
 * kopilot.findings/v1). One serialiser for both keeps them from drifting.
 *
 * Ownership: *_to_json return new json objects the caller puts;
 * kp_findings_from_json appends copies into a kp_findings the caller owns.
 */
#ifndef KP_FINDINGS_JSON_H
#define KP_FINDINGS_JSON_H

#include "pipeline/model.h"

#define KP_ANALYSIS_SCHEMA "kopilot.analysis/v1"
#define KP_FINDINGS_SCHEMA "kopilot.findings/v1"

/* full=false: identity, evidence, sizes, confidence, risk (analysis.json);
 * full=true: everything the findings contract has. */
json_object *kp_finding_to_json(const kp_finding *f, bool full);
json_object *kp_skipped_to_json(const kp_findings *f);
json_object *kp_skip_to_json(const kp_skip *s);
json_object *kp_sizes_to_json(const kp_sizes *s);
/* A finding's "pricing" (its pricing inputs) and "price" (the specific
 * rates it was priced at); NULL when there is nothing to write. */
json_object *kp_pricing_inputs_to_json(const kp_pricing_inputs *in);
json_object *kp_rates_to_json(const kp_rates *r);
/* Reads a "pricing" object into out (released first by the caller). */
kp_status kp_pricing_inputs_from_json(json_object *o, const char *path, kp_pricing_inputs *out, kp_error *err);

/* Reads doc["findings"] and doc["skipped"] into out. path names the file in
 * error messages. full as above: what fields to expect. */
kp_status kp_findings_from_json(json_object *doc, const char *path, bool full, kp_findings *out, kp_error *err);
/* The same from a file, "findings" streamed one element at a time (never
 * the whole tree); *rest receives the document without the findings'
 * elements ("findings" an empty list; caller puts), NULL on error. */
kp_status kp_findings_read_file(const char *path, bool full, kp_findings *out, json_object **rest, kp_error *err);

/* One entry of "missing" (analysis.json, findings.json):
 * {resource, namespace, workload: {kind, name} or null, reason, summary}. */
json_object *kp_missing_to_json(const kp_missing *m);
/* doc["missing"] in the current form, as a new array in *out: entries are
 * checked and rewritten with every key; a string (the form before entries
 * were structured) becomes a cluster-wide entry whose reason and summary
 * are the string. Absent: an empty array. KP_ERR_INPUT naming path and the
 * entry ("missing[2].summary: missing") otherwise; *out is then NULL. */
kp_status kp_missing_from_json(json_object *doc, const char *path, json_object **out, kp_error *err);
/* The line people read for one entry of "missing", either form; NULL when
 * it has none. */
const char *kp_missing_summary(json_object *entry);

/* Adds "inconsistencies" (the listed ones) and "inconsistencies_total" (all
 * of them, listed or not) to an analysis.json or findings.json document.
 * Both are written only when there is at least one. */
void kp_inconsistencies_to_json(json_object *doc, const char *const *items, size_t n, size_t total);

/* analysis.json for a cluster: header (window, cluster, missing inputs),
 * with "findings" and "skipped" null in their places: fill them with
 * kp_findings_fill (a whole tree), or better write the document with
 * kp_findings_write_streamed. now is the analysis time. */
json_object *kp_analysis_doc(const kp_cluster *c, const kp_findings *f, int64_t now);
/* Sets doc's "findings" (full as kp_finding_to_json) and "skipped" from f. */
void kp_findings_fill(json_object *doc, const kp_findings *f, bool full);
/* Writes doc (analysis.json or findings.json without its two arrays) to
 * path atomically with "findings" (full as kp_finding_to_json) and
 * "skipped" made from f one element at a time (pipeline/jsonw.h): the same
 * bytes as the whole tree, without holding it. doc's two members must be
 * present (any value); they are null afterwards. */
kp_status kp_findings_write_streamed(const char *path, json_object *doc, const kp_findings *f, bool full,
				     kp_error *err);
/* The same, and appends to reread (initialised by the caller) exactly what
 * kp_findings_read_file of the file written would give, read from each
 * element as it is written rather than parsed back from the text: the next
 * stage in the same process (kopilot run) skips the parse. Each finding and
 * skipped entry of f is released as soon as it is read back (one copy of
 * the findings at a time, not two): the caller only frees what is left. */
kp_status kp_findings_write_reread(const char *path, json_object *doc, kp_findings *f, bool full,
				   kp_findings *reread, kp_error *err);

/* {"namespaces": [sorted, without duplicates]} or {"namespaces": null} for
 * the whole cluster (n == 0). */
json_object *kp_scope_json(const char *const *ns, size_t n);

/* ", namespace a" / ", namespaces a, b" for a document scoped by --namespace
 * (its "scope.namespaces"), then ", selector app=web" for one scoped by
 * -l/--selector ("scope.selector"); nothing for the whole cluster. For
 * titles and summaries. */
void kp_scope_label(json_object *doc, kp_buf *out);

/* How every output names the namespace of a cluster-scoped finding (a
 * node, a PersistentVolume): terminal, Markdown, HTML and XLSX alike. */
#define KP_CLUSTER_SCOPED_LABEL "(cluster)"

#endif
