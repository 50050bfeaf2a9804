/*
 * cmd_render.c - `kopilot render RUN`: the reports from RUN/findings.json
 * alone, so it works on a run directory copied from another machine.
 */
#include "pipeline/cmd.h"
#include "stages/render/render.h"

int cmd_render(int argc, char **argv)
{
	const char *const *flags = kp_command_flags("render");
	/* the three reports are replaced together */
	static const char *const drop[] = {"report.md", "report.html", "report.xlsx", "pr", "findings.sarif", "findings.codequality.json", NULL};
	return kp_cmd_single_stage("render", argc, argv, flags, kp_render_run, false, drop);
}
