/*
 * main.c - the kopilot executable: a git-style command table. Each command
 * is a function in its own cmd_<name>.c returning its exit code; the flag
 * parser is in cmd_common.c, help texts in cmd_help.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cmd.h"

/* ---- command table ---- */

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{"run", cmd_run},	     {"collect", cmd_collect}, {"analyze", cmd_analyze}, {"recommend", cmd_recommend},
	{"render", cmd_render},	     {"config", cmd_config},   {"version", cmd_version}, {"help", cmd_help},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		kp_print_help(NULL);
		return KP_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		kp_print_help(NULL);
		return KP_EXIT_OK;
	}
	if (strcmp(name, "--version") == 0)
		return cmd_version(0, NULL);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "kopilot: unknown command \"%s\" (see kopilot --help)\n", name);
	return KP_EXIT_USAGE;
}
