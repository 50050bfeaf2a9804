/*
 * cmd_merge.c - `kopilot merge RUN... (--out RUN | --state-dir DIR)`: the
 * shard runs of one `kopilot run --shard I/N` joined into one run
 * directory (findings.json, plan.json, the reports, run.json), as the
 * unsharded run would have written it (stages/recommend/merge.c).
 *
 * The shards are checked before anything is made (a refused merge on a
 * first run creates nothing); the new run directory is all or nothing like
 * every other command's (pipeline/rundir.h). History (--state-dir,
 * --previous) applies to the merged result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "pipeline/cmd.h"
#include "pipeline/listscan.h"
#include "pipeline/log.h"
#include "pipeline/money.h"
#include "pipeline/quantity.h"
#include "pipeline/shard.h"
#include "stages/recommend/history.h"
#include "stages/recommend/recommend.h"
#include "stages/render/render.h"

/* run.json of the merged run: what was merged and how it ended; the
 * analysis time and the configuration are the shards' (they agree). */
static kp_status write_run_json(const kp_opts *o, const char *dir, const char *started, json_object *findings,
				int rc, kp_error *err)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	char finished[32];
	kp_time_format((int64_t)time(NULL), finished);
	json_object *r = json_object_new_object();
	json_object_object_add(r, "schema", json_object_new_string("kopilot.run/v1"));
	json_object_object_add(r, "version", json_object_new_string(KP_VERSION));
	json_object_object_add(r, "command", json_object_new_string("merge"));
	json_object *shards = json_object_new_array();
	for (size_t i = 0; i < o->npositional; i++)
		json_object_array_add(shards, json_object_new_string(o->operands[i]));
	json_object_object_add(r, "shards", shards);
	json_object_object_add(r, "started_at", json_object_new_string(started));
	json_object_object_add(r, "finished_at", json_object_new_string(finished));
	json_object_object_add(r, "now", json_object_get(kp_json_get(findings, "generated_at")));
	json_object_object_add(r, "peak_rss_bytes", json_object_new_int64((int64_t)ru.ru_maxrss * 1024));
	json_object_object_add(r, "config", kp_config_to_json(&o->cfg));
	json_object_object_add(r, "previous_run", o->previous_run ? json_object_new_string(o->previous_run) : NULL);
	json_object_object_add(r, "counts", kp_cmd_run_counts(findings));
	json_object_object_add(r, "missing", json_object_get(kp_json_get(findings, "missing")));
	json_object_object_add(r, "exit_code", json_object_new_int(rc));
	json_object_object_add(r, "exit_status", json_object_new_string(rc == KP_EXIT_OK ? "ok" : "degraded"));
	char *path = kp_path_join(dir, "run.json");
	kp_status s = kp_json_write_file(path, r, err);
	free(path);
	json_object_put(r);
	return s;
}

static kp_status no_item(void *ud, json_object *item, size_t index, kp_error *err)
{
	(void)ud, (void)item, (void)index, (void)err;
	return KP_OK;
}

int cmd_merge(int argc, char **argv)
{
	kp_opts o;
	memset(&o, 0, sizeof(o));
	bool done;
	int rc = kp_cmd_prologue("merge", argc, argv, kp_command_flags("merge"), KP_SHARD_MAX, &o, &done);
	if (done) {
		kp_opts_release(&o);
		return rc;
	}
	if (o.npositional == 0 || (!o.out && !o.state_dir)) {
		fprintf(stderr, "kopilot merge: %s (usage: kopilot merge RUN... --out RUN)\n",
			o.npositional ? "--out RUN (or --state-dir DIR) is required" : "expected the shard runs to merge");
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	/* bad shards change nothing: checked before any lock or directory */
	kp_error err = {0};
	if (kp_recommend_merge_check(o.operands, o.npositional, &err)) {
		kp_cmd_error("merge", &o, "%s", err.msg);
		int code = kp_status_exit_code(err.status);
		kp_opts_release(&o);
		return code;
	}
	int64_t t_start = (int64_t)time(NULL);
	char started[32];
	kp_time_format(t_start, started);
	char *out_owned = NULL;
	if (o.state_dir && (rc = kp_cmd_lock_state_dir("merge", &o)) != KP_EXIT_OK) {
		kp_opts_release(&o);
		return rc;
	}
	if (!o.out)
		o.out = out_owned = kp_history_new_run_path(o.state_dir, t_start);
	rc = kp_cmd_lock_run("merge", &o, o.out, KP_RUNDIR_FRESH);
	if (rc == KP_EXIT_OK)
		rc = kp_cmd_resolve_previous("merge", &o, o.out);
	if (rc == KP_EXIT_OK)
		rc = kp_cmd_stage_run("merge", &o, KP_RUNDIR_FRESH, NULL);
	kp_run run;
	kp_cmd_run_init(&o, &run, o.rundir.staging);
	run.merge_dirs = o.operands;
	run.nmerge_dirs = o.npositional;
	if (rc == KP_EXIT_OK) {
		kp_status s = kp_recommend_merge_run(&run, &err);
		rc = kp_cmd_stage_result("merge", &o, &run, s, &err);
		if (!s) {
			s = kp_render_run(&run, &err);
			rc = kp_cmd_worse(rc, kp_cmd_stage_result("render", &o, &run, s, &err));
		}
	}
	json_object *findings = NULL;
	if (rc == KP_EXIT_OK || rc == KP_EXIT_DEGRADED) {
		char *fpath = kp_path_join(run.dir, "findings.json");
		/* the header only: the findings stay on disk (at 30,000 of them a
		 * tree would be this command's peak) */
		static const kp_keep k_id[] = {{"id", NULL}, {NULL, NULL}};
		if (kp_listscan_file(fpath, "findings", "a findings document (kopilot.findings/v1)", k_id, no_item, NULL,
				     &findings, &err) ||
		    write_run_json(&o, run.dir, started, findings, rc, &err)) {
			kp_cmd_error("merge", &o, "%s", err.msg);
			rc = KP_EXIT_FAILED;
		}
		free(fpath);
	}
	rc = kp_cmd_end_run("merge", &o, rc);
	if (!o.quiet && findings && (rc == KP_EXIT_OK || rc == KP_EXIT_DEGRADED)) {
		const char *cur = kp_json_str(findings, "prices.currency");
		char m[64], count[32];
		/* the net the plan can act on, as kopilot run's summary says it */
		kp_money_format(json_object_get_double(kp_json_get(findings, "totals.actionable_monthly_savings")),
				cur ? cur : "USD", m, sizeof(m));
		kp_format_thousands((size_t)json_object_get_int64(kp_json_get(findings, "totals.findings")), count,
				    sizeof(count));
		char *cluster = kp_visible(kp_json_str(findings, "cluster.name") ? kp_json_str(findings, "cluster.name") : "?");
		printf("kopilot: merged %zu shards: %s findings in cluster %s, %s/month potential savings%s\n",
		       o.npositional, count, cluster, m, rc == KP_EXIT_DEGRADED ? " (degraded: see \"Not collected\")" : "");
		printf("Reports:\n  %s/report.html\n  %s/report.md\n  %s/report.xlsx\n  %s/findings.json\n", o.out, o.out,
		       o.out, o.out);
		free(cluster);
	}
	json_object_put(findings);
	kp_run_release(&run);
	kp_opts_release(&o);
	free(out_owned);
	return rc;
}
