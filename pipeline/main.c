/*
 * main.c - the kopilot executable: a git-style command table. Each command
 * is a function in its own cmd_<name>.c returning its exit code; the
 * command and flag tables are in cmd_table.c, the flag parser in
 * cmd_common.c, help texts in cmd_help.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cmd.h"

/* A command run under the nomem guard: out of memory anywhere inside ends
 * with a message and exit 4 instead of abort(), and leaves no temp files. */
struct command_call {
	int (*fn)(int argc, char **argv);
	int argc;
	char **argv;
	int rc;
};

static kp_status call_command(void *arg, kp_error *err)
{
	(void)err;
	struct command_call *c = arg;
	c->rc = c->fn(c->argc, c->argv);
	return KP_OK;
}

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
	for (const kp_command *c = kp_commands; c->name; c++) {
		if (strcmp(c->name, name) != 0)
			continue;
		struct command_call call = {c->fn, argc - 2, argv + 2, KP_EXIT_FAILED};
		kp_error err = {0};
		if (kp_nomem_guard(call_command, &call, &err) == KP_ERR_NOMEM) {
			kp_rundir_abandon(); /* the command's cleanup was skipped: undo what it staged */
			fprintf(stderr, "kopilot %s: out of memory\n", name);
			return KP_EXIT_FAILED;
		}
		return call.rc;
	}
	fprintf(stderr, "kopilot: unknown command \"%s\" (see kopilot --help)\n", name);
	return KP_EXIT_USAGE;
}
