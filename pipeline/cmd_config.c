/*
 * cmd_config.c - `kopilot config show`: the effective configuration and
 * where each value came from, secrets masked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cmd.h"

int cmd_config(int argc, char **argv)
{
	const char *const *flags = kp_command_flags("config");
	kp_opts o;
	memset(&o, 0, sizeof(o));
	if (!kp_parse_flags("config", argc, argv, flags, 1, &o)) {
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	if (o.help) {
		kp_print_help("config");
		kp_opts_release(&o);
		return KP_EXIT_OK;
	}
	if (o.npositional != 1 || strcmp(o.positional[0], "show") != 0) {
		fprintf(stderr, "kopilot config: expected `kopilot config show` (see kopilot config --help)\n");
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	if (!kp_opts_load_config("config", &o)) {
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	char *text = kp_config_show(&o.cfg);
	fputs(text, stdout);
	free(text);
	kp_opts_release(&o);
	return KP_EXIT_OK;
}
