/*
 * main.c - the kopilot executable: a git-style command table. Each command
 * is a function in cmd_*.c returning its exit code; flags and help texts
 * live in cmd_common.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cmd.h"

/* ---- command table ---- */

static int cmd_version(int argc, char **argv)
{
	if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		kp_print_help("version");
		return KP_EXIT_OK;
	}
	if (argc > 0) {
		fprintf(stderr, "kopilot version: unexpected argument \"%s\"\n", argv[0]);
		return KP_EXIT_USAGE;
	}
	printf("kopilot %s (kubedevaiops)\n", KP_VERSION);
	return KP_EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
	kp_print_help(argc > 0 ? argv[0] : NULL);
	return KP_EXIT_OK;
}

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
