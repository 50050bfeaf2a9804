/*
 * cmd_skills.c - `kopilot skills list | show NAME | validate DIR`: the
 * sub-agents the agents would use (stages/analyze/agents/skills.h), as the
 * configuration selects them, and a check of a skill directory before it
 * is mounted into the CronJob.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cmd.h"
#include "stages/analyze/agents/skills.h"

static void print_list(const char *label, char *const *items, size_t n)
{
	printf("%s:", label);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : " ", items[i]);
	printf("\n");
}

static void show(const kp_skill *k)
{
	printf("name: %s\ndisplay_name: %s\nsource: %s\n", k->name, k->display_name, k->source);
	if (k->version)
		printf("version: %s\n", k->version);
	printf("description: %s\n", k->description);
	if (k->has_tools)
		print_list("tools", k->tools, k->ntools);
	else
		printf("tools: (every tool)\n");
	if (k->nkeywords)
		print_list("routing keywords", k->keywords, k->nkeywords);
	for (size_t i = 0; i < k->nexamples; i++)
		printf("%s  %s\n", i ? "" : "routing examples:\n", k->examples[i]);
	printf("\n--- system prompt ---\n%s", k->system_prompt);
	if (k->system_prompt[0] && k->system_prompt[strlen(k->system_prompt) - 1] != '\n')
		printf("\n");
	printf("\n--- documentation ---\n%s", k->documentation);
	if (k->documentation[0] && k->documentation[strlen(k->documentation) - 1] != '\n')
		printf("\n");
}

int cmd_skills(int argc, char **argv)
{
	kp_opts o;
	memset(&o, 0, sizeof(o));
	int rc = KP_EXIT_OK;
	if (!kp_parse_flags("skills", argc, argv, kp_command_flags("skills"), 2, &o)) {
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	if (o.help) {
		kp_print_help("skills");
		kp_opts_release(&o);
		return KP_EXIT_OK;
	}
	const char *verb = o.npositional ? o.positional[0] : "";
	size_t want = !strcmp(verb, "list") ? 1 : (!strcmp(verb, "show") || !strcmp(verb, "validate")) ? 2 : 0;
	if (!want || o.npositional != want) {
		fprintf(stderr, "kopilot skills: expected `kopilot skills list`, `kopilot skills show NAME` or `kopilot "
				"skills validate DIR` (see kopilot skills --help)\n");
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	kp_error err = {0};
	kp_skills sk = {0};
	if (!strcmp(verb, "validate")) {
		/* the directory alone, as SKILL_DIRS would read it */
		if (kp_skills_load_dir(o.positional[1], &sk, &err)) {
			fprintf(stderr, "kopilot skills validate: %s\n", err.msg);
			kp_opts_release(&o);
			return KP_EXIT_USAGE;
		}
		if (!sk.len) {
			fprintf(stderr, "kopilot skills validate: %s: no *.yaml or *.yml skill in it\n", o.positional[1]);
			rc = KP_EXIT_USAGE;
		}
		for (size_t i = 0; i < sk.len; i++)
			printf("ok  %-20s %s\n", sk.items[i].name, sk.items[i].source);
		kp_skills_release(&sk);
		kp_opts_release(&o);
		return rc;
	}
	if (!kp_opts_load_config("skills", &o)) {
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	if (kp_skills_load(&o.cfg, &sk, &err)) {
		fprintf(stderr, "kopilot skills: %s\n", err.msg);
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	if (!strcmp(verb, "list")) {
		int wn = 4, wd = 12; /* the columns as wide as their widest cell */
		for (size_t i = 0; i < sk.len; i++) {
			int a = (int)strlen(sk.items[i].name), b = (int)strlen(sk.items[i].display_name);
			wn = a > wn ? a : wn;
			wd = b > wd ? b : wd;
		}
		printf("%-*s  %-*s  %s\n", wn, "NAME", wd, "DISPLAY NAME", "SOURCE");
		for (size_t i = 0; i < sk.len; i++)
			printf("%-*s  %-*s  %s\n", wn, sk.items[i].name, wd, sk.items[i].display_name, sk.items[i].source);
	} else {
		const kp_skill *k = kp_skills_find(&sk, o.positional[1]);
		if (k) {
			show(k);
		} else {
			fprintf(stderr, "kopilot skills show: no enabled skill is named \"%s\" (kopilot skills list)\n",
				o.positional[1]);
			rc = KP_EXIT_USAGE;
		}
	}
	kp_skills_release(&sk);
	kp_opts_release(&o);
	return rc;
}
