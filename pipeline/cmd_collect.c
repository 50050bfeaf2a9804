/*
 * cmd_collect.c - `kopilot collect [--snapshot DIR | --kubeconfig FILE]
 * --out RUN`: the collect stage alone, from a snapshot or the live cluster.
 */
#include <stdio.h>
#include <string.h>

#include "pipeline/cmd.h"
#include "stages/collect/collect.h"

int cmd_collect(int argc, char **argv)
{
	const char *const *flags = kp_command_flags("collect");
	kp_opts o;
	memset(&o, 0, sizeof(o));
	bool done;
	int rc = kp_cmd_prologue("collect", argc, argv, flags, 0, &o, &done);
	if (!done && !o.out) {
		fprintf(stderr, "kopilot collect: --out RUN is required (usage: kopilot collect [--snapshot DIR | "
				"--kubeconfig FILE] --out RUN)\n");
		rc = KP_EXIT_USAGE;
	} else if (!done && !o.snapshot && (rc = kp_cmd_check_live("collect", &o)) != KP_EXIT_OK) {
		/* the error is printed; nothing was created */
	} else if (!done) {
		/* A new run starts at collect: the directory then holds the
		 * snapshot alone, never a new snapshot beside old findings. */
		rc = kp_cmd_lock_run("collect", &o, o.out, KP_RUNDIR_FRESH);
		if (rc == KP_EXIT_OK)
			rc = kp_cmd_stage_run("collect", &o, KP_RUNDIR_FRESH, NULL);
		if (rc == KP_EXIT_OK) {
			kp_run run;
			kp_cmd_run_init(&o, &run, o.rundir.staging);
			kp_error err = {0};
			kp_progress_report(run.progress, "collect", NULL, 0, -1);
			kp_status s = kp_collect_run(&run, &err);
			if (!s) /* its copy of the snapshot, written beside (run.h) */
				s = kp_run_join(&run, &err);
			rc = kp_cmd_stage_result("collect", &o, &run, s, &err);
			kp_run_release(&run);
		}
		rc = kp_cmd_end_run("collect", &o, rc);
	}
	kp_opts_release(&o);
	return rc;
}
