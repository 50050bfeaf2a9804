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
json_object *kp_sizes_to_json(const kp_sizes *s);

/* Reads doc["findings"] and doc["skipped"] into out. path names the file in
 * error messages. full as above: what fields to expect. */
kp_status kp_findings_from_json(json_object *doc, const char *path, bool full, kp_findings *out, kp_error *err);

/* analysis.json for a cluster: header (window, cluster, missing inputs),
 * findings and skipped. now is the analysis time. */
json_object *kp_analysis_doc(const kp_cluster *c, const kp_findings *f, int64_t now);

#endif
