/*
 * cmd_analyze.c - `kopilot analyze RUN`: the rules over RUN/snapshot.
 */
#include "pipeline/cmd.h"
#include "stages/analyze/analyze.h"

int cmd_analyze(int argc, char **argv)
{
	const char *const *flags = kp_command_flags("analyze");
	/* analysis.json is replaced; findings, plan, reports and run.json were
	 * built from the old one and go with it (run `kopilot recommend` next). */
	static const char *const drop[] = {"analysis.json", "findings.json", "plan.json", "report.md", "report.html", "report.xlsx", "run.json", "pr", "summary.json", "history.json",
					    "findings.sarif", "findings.codequality.json", NULL};
	return kp_cmd_single_stage("analyze", argc, argv, flags, kp_analyze_run, false, drop);
}
