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


#endif
