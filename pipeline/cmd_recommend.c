/*
 * cmd_recommend.c - `kopilot recommend RUN`: prices, risk and actions,
 * compared with a previous run when one is named.
 */
#include "pipeline/cmd.h"
#include "stages/recommend/recommend.h"

int cmd_recommend(int argc, char **argv)
{
	const char *const *flags = kp_command_flags("recommend");
	/* findings.json and plan.json are replaced; the reports and run.json
	 * were built from the old ones and go with them (run `kopilot render` next). */
	static const char *const drop[] = {"findings.json", "plan.json", "report.md", "report.html", "report.xlsx", "run.json", "pr", "summary.json", "history.json",
					    "findings.sarif", "findings.codequality.json", NULL};
	return kp_cmd_single_stage("recommend", argc, argv, flags, kp_recommend_run, true, drop);
}
