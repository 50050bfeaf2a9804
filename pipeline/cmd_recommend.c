/*
 * cmd_recommend.c - `kopilot recommend RUN`: prices, risk and actions,
 * compared with a previous run when one is named.
 */
#include "pipeline/cmd.h"
#include "stages/recommend/recommend.h"

int cmd_recommend(int argc, char **argv)
{
	static const char *const flags[] = {"--config", "--set",      "--now",	   "--template", "--cluster-name",
					    "--quiet",  "--previous", "--state-dir", NULL};
	return kp_cmd_single_stage("recommend", argc, argv, flags, kp_recommend_run, true);
}
