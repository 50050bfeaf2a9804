/*
 * cmd_version.c - `kopilot version`: the version and the commit built from.
 */
#include <stdio.h>
#include <string.h>

#include "pipeline/cmd.h"
/* build/gen/commit.h (the Makefile): KP_COMMIT, the commit built from */
#include "commit.h"

int cmd_version(int argc, char **argv)
{
	if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		kp_print_help("version");
		return KP_EXIT_OK;
	}
	if (argc > 0) {
		fprintf(stderr, "kopilot version: unexpected argument \"%s\"\n", argv[0]);
		return KP_EXIT_USAGE;
	}
	printf("kopilot %s (kubedevaiops, commit %s)\n", KP_VERSION, KP_COMMIT);
	return KP_EXIT_OK;
}
