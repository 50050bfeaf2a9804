/*
 * cmd_analyze.c - `kopilot analyze RUN`: the rules over RUN/snapshot.
 */
#include "pipeline/cmd.h"
#include "stages/analyze/analyze.h"

int cmd_analyze(int argc, char **argv)
{
	static const char *const flags[] = {"--config", "--set",   "--now",	  "--template",
					    "--cluster-name", "--quiet", "--namespace", NULL};
	return kp_cmd_single_stage("analyze", argc, argv, flags, kp_analyze_run, false);
}
