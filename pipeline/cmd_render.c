/*
 * cmd_render.c - `kopilot render RUN`: the reports from RUN/findings.json
 * alone, so it works on a run directory copied from another machine.
 */
#include "pipeline/cmd.h"
#include "stages/render/render.h"

int cmd_render(int argc, char **argv)
{
	static const char *const flags[] = {"--config", "--set", "--now", "--template", "--cluster-name", "--quiet", NULL};
	/* the three reports are replaced together */
	static const char *const drop[] = {"report.md", "report.html", "report.xlsx", NULL};
	return kp_cmd_single_stage("render", argc, argv, flags, kp_render_run, false, drop);
}
