/*
 * history.h - what a run knows about the runs before it, and which part of
 * the cluster it covers.
 *
 * Run to run: findings keep their id across runs (a hash of category and
 * resource), so comparing two runs is matching ids. findings.json gets a
 * top-level "changes" object and, when there is a previous run, a "trend"
 * ("new" or "persisting") and a "first_seen" on every finding. first_seen is
 * carried forward through the previous findings.json, so it survives any
 * number of runs without keeping more than the last one.
 *
 * Scope: `--namespace NS` keeps only the findings (and skipped entries) in
 * those namespaces; cluster-scoped ones (nodes, PVs) are left out.
 *
 * Ownership: returned char * and json_object * belong to the caller (free(),
 * json_object_put()). kp_history_apply adds to the document it is given and
 * copies what it takes from the previous one.
 */
#ifndef KP_HISTORY_H
#define KP_HISTORY_H

#include "pipeline/model.h"

struct kp_config;

/* The most recent run directory inside state_dir: a subdirectory holding a
 * findings.json, the one with the latest run.json finished_at (directories
 * without a readable run.json count as oldest), then the greatest name.
 * exclude (may be NULL) is never chosen: the run being written. *out is NULL
 * when there is none, including when state_dir does not exist yet.
 * KP_ERR_USAGE when state_dir exists but is not a readable directory. */
kp_status kp_history_latest_run(const char *state_dir, const char *exclude, char **out, kp_error *err);

/* The directory for a new run started at t: state_dir/YYYYMMDDTHHMMSSZ (UTC),
 * with -2, -3, ... appended while the name is taken. Not created here. */
char *kp_history_new_run_path(const char *state_dir, int64_t t);

/* Reads and checks prev_run/findings.json. KP_ERR_USAGE when the directory or
 * the file does not exist; KP_ERR_INPUT when the file is not a findings
 * document (the message names the file and the field). */
kp_status kp_history_load(const char *prev_run, json_object **out, kp_error *err);

/* Adds "changes" to the findings document doc and "trend"/"first_seen" to its
 * findings. prev NULL: no previous run, "changes" is {"previous_run": null}
 * and findings get no trend. prev_run is the path recorded in "changes".
 * When doc has a "scope" with namespaces, previous findings outside it are
 * not counted as resolved (this run did not look there). */
void kp_history_apply(json_object *doc, json_object *prev, const char *prev_run);
/* The same for findings held as structures (the recommend stage, which
 * writes findings.json one finding at a time): "changes" goes into doc (the
 * document without its findings), trend and first_seen into each of f. */
void kp_history_apply_findings(json_object *doc, kp_findings *f, json_object *prev, const char *prev_run);

/* ---- keeping the last runs, and the trend over them ----
 *
 * A state directory (--state-dir) holds one subdirectory per run. A
 * "kept run" is a complete `kopilot run` (or `kopilot merge`: a sharded
 * night) directory in it: a real directory (not a symbolic link, its name
 * not starting with '.') holding run.json with schema kopilot.run/v1 and
 * command "run" or "merge", and findings.json. Nothing
 * else in the state directory is ever counted or removed. Runs are ordered
 * as kp_history_latest_run orders them: run.json finished_at, then name.
 *
 * Each run directory has summary.json (kopilot.summary/v1), a few hundred
 * bytes written by the recommend stage beside findings.json: the run's
 * date, net monthly savings (the figure every report headlines), findings,
 * per-category savings, cluster, currency and scope. The trend is made of
 * these, never of the findings.json files: N runs cost N small reads. A run
 * deleted by hand is simply not listed; a missing or unreadable summary is
 * left out with a warning, never an error.
 *
 * Scope: a trend point is comparable only with runs of the same cluster,
 * currency and scope (--namespace, --selector and the configured scope.*
 * lists, canonicalised in summary "scope"); runs of another scope stay in
 * the state directory, count towards history.keep_runs, and are left off
 * this run's trend (counted in history.json left_out.other_scope). */

/* The summary of a findings document: f holds its findings (the recommend
 * stage's structures), doc its header (generated_at, cluster, prices,
 * totals, scope); cfg gives the configured scope. Caller puts. */
json_object *kp_history_summary(json_object *doc, const kp_findings *f, const struct kp_config *cfg);
/* The same from figures gathered one finding at a time (kopilot merge,
 * which never holds the findings as structures). */
typedef struct kp_summary_acc {
	double net[KP_CAT_COUNT], total, blocked;
	int64_t count[KP_CAT_COUNT], findings;
} kp_summary_acc;
void kp_summary_acc_add(kp_summary_acc *a, kp_category c, double monthly_savings, bool blocked);
json_object *kp_history_summary_of(json_object *doc, const kp_summary_acc *a, const struct kp_config *cfg);

/* The trend for the run whose summary is current: the summaries of the
 * newest keep_runs - 1 (0: all) other kept runs of state_dir (exclude, may
 * be NULL, is never one of them: the run being written) with the same
 * cluster, currency and scope, and current, ordered by generated_at then
 * run name. *out is a kopilot.history/v1 document: {"schema", "cluster",
 * "currency", "scope", "runs": [{run, generated_at, findings,
 * monthly_savings, categories, current}], "left_out": {other_scope,
 * unreadable}}. Each summary left out as unreadable adds a sentence to
 * warnings (a json array). KP_ERR_IO only when state_dir itself cannot be
 * read; a state_dir that does not exist yet gives the current run alone. */
kp_status kp_history_trend(const char *state_dir, const char *exclude, int keep_runs, json_object *current,
			   json_object **out, json_object *warnings, kp_error *err);

/* Checks a history.json document (as kp_history_trend writes it) well
 * enough for the reports to draw it: KP_ERR_INPUT naming path and the
 * field otherwise. */
kp_status kp_history_check(json_object *h, const char *path, kp_error *err);

/* Removes the oldest kept runs of state_dir beyond keep_runs (0: none are
 * removed), never keep (the run just written, may be NULL) and never one
 * whose own lock (.NAME.lock) another kopilot holds (it is skipped, with a
 * sentence in skipped). A run is first renamed to .NAME.pruned.PID, so it
 * leaves the listing at once, then deleted. removed receives the removed
 * directories' paths (a json array). The caller holds the state
 * directory's lock. KP_ERR_IO when state_dir cannot be read. */
kp_status kp_history_prune(const char *state_dir, int keep_runs, const char *keep, json_object *removed,
			   json_object *skipped, kp_error *err);

#endif
