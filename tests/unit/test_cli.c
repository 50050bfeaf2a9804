/*
 * test_cli.c - the command line's tables and what is built from them: every
 * flag a command accepts is in its --help text (and so in the man page),
 * the completion scripts offer exactly the flags the parser takes, short
 * flags parse like their long forms, and the man page is valid roff
 * structure for each command.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <stdlib.h>
#include <string.h>

#include "pipeline/cmd.h"

/* whether word occurs in text as a whole flag (not as the prefix of a longer one) */
static bool has_flag(const char *text, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = text; (p = strstr(p, word)) != NULL; p += n) {
		char before = p == text ? ' ' : p[-1];
		char after = p[n];
		bool starts = before == ' ' || before == '[' || before == '(' || before == '\n' || before == '/' || before == '`' ||
			      before == '"';
		bool ends = !(after == '-' || (after >= 'a' && after <= 'z') || (after >= 'A' && after <= 'Z'));
		if (starts && ends)
			return true;
	}
	return false;
}

Test(cli, every_accepted_flag_is_in_the_help)
{
	for (const kp_command *c = kp_commands; c->name; c++) {
		const char *text = kp_help_text(c->name);
		cr_assert_not_null(text, "%s has no help text", c->name);
		cr_expect(strncmp(text, "usage: kopilot ", 15) == 0, "%s: help starts with its usage", c->name);
		for (const char *const *n = c->flags; *n; n++) {
			const kp_flag *f = kp_flag_find(*n);
			cr_assert_not_null(f, "%s accepts %s, which is not in kp_flags", c->name, *n);
			cr_expect(has_flag(text, f->name), "kopilot %s --help does not mention %s", c->name, f->name);
			if (f->short_name) {
				char s[3] = {'-', f->short_name, 0};
				cr_expect(has_flag(text, s), "kopilot %s --help does not mention %s", c->name, s);
			}
		}
	}
}

Test(cli, every_command_is_in_the_main_help)
{
	const char *text = kp_help_text(NULL);
	for (const kp_command *c = kp_commands; c->name; c++) {
		char line[64];
		snprintf(line, sizeof(line), "\n  %s ", c->name);
		cr_expect(strstr(text, line) != NULL, "kopilot --help does not list %s", c->name);
	}
}

Test(cli, flag_table_is_consistent)
{
	for (const kp_flag *f = kp_flags; f->name; f++) {
		cr_expect(strncmp(f->name, "--", 2) == 0, "%s", f->name);
		cr_expect(f->summary && *f->summary, "%s has no summary", f->name);
		/* the zsh script puts summaries in '...[summary]' */
		cr_expect(!strpbrk(f->summary, "'[]:"), "%s: summary has a zsh special", f->name);
		cr_expect((f->value == KP_VALUE_NONE) == (f->metavar == NULL), "%s: value kind and metavar agree", f->name);
		cr_expect((f->value == KP_VALUE_CHOICE) == (f->choices != NULL), "%s: choices", f->name);
		for (const kp_flag *g = f + 1; g->name; g++) {
			cr_expect(strcmp(f->name, g->name) != 0, "%s twice", f->name);
			cr_expect(!f->short_name || f->short_name != g->short_name, "-%c twice", f->short_name);
		}
	}
}

/* parses argv (NULL-terminated) for `kopilot run`; o is released by the caller */
static bool parse(kp_opts *o, char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	memset(o, 0, sizeof(*o));
	return kp_parse_flags("run", argc, argv, kp_command_flags("run"), 0, o);
}

Test(cli, short_flags_parse_like_long_ones, .init = cr_redirect_stderr)
{
	kp_opts o;
	char *a1[] = {"-n", "shop", "-nweb", "-n=ml", "--namespace=data", "--namespace", "x", NULL};
	cr_assert(parse(&o, a1));
	cr_assert_eq(o.nnamespaces, 5);
	cr_expect_str_eq(o.namespaces[0], "shop");
	cr_expect_str_eq(o.namespaces[1], "web");
	cr_expect_str_eq(o.namespaces[2], "ml");
	cr_expect_str_eq(o.namespaces[3], "data");
	cr_expect_str_eq(o.namespaces[4], "x");
	kp_opts_release(&o);

	char *a2[] = {"-o", "csv", "-l", "app=web,tier!=db", "-A", "--exclude-namespace", "ci", "--no-color", NULL};
	cr_assert(parse(&o, a2));
	cr_expect_eq(o.output, KP_OUTPUT_CSV);
	cr_expect_eq(o.selector.n, 2);
	cr_expect(o.all_namespaces);
	cr_expect(o.no_color);
	cr_assert_eq(o.nexclude_namespaces, 1);
	cr_expect_str_eq(o.exclude_namespaces[0], "ci");
	kp_opts_release(&o);

	char *a3[] = {"-ojson", "-c", "prod", NULL};
	cr_assert(parse(&o, a3));
	cr_expect_eq(o.output, KP_OUTPUT_JSON);
	cr_expect_str_eq(o.context, "prod");
	kp_opts_release(&o);
}

Test(cli, bad_flags_are_refused, .init = cr_redirect_stderr)
{
	kp_opts o;
	char *bad[][4] = {
		{"-A", "-n", "shop", NULL},       /* kubectl: -A and -n contradict */
		{"-o", "xml", NULL},              /* unknown format */
		{"-l", "app in (a", NULL},        /* malformed selector */
		{"-Ax", NULL},                    /* -A takes no value */
		{"-x", NULL},                     /* unknown short flag */
		{"--exclude-namespace", "Bad_", NULL},
		{"-n", NULL},                     /* needs a value */
		{"--man", NULL},                  /* a flag of another command */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect(!parse(&o, bad[i]), "%s %s was accepted", bad[i][0], bad[i][1] ? bad[i][1] : "");
		kp_opts_release(&o);
	}
}

Test(cli, completion_offers_the_parser_flags)
{
	kp_buf bash, zsh;
	kp_buf_init(&bash);
	kp_buf_init(&zsh);
	cr_assert(kp_completion_script("bash", &bash));
	cr_assert(kp_completion_script("zsh", &zsh));
	cr_expect(!kp_completion_script("fish", &bash));
	for (const kp_flag *f = kp_flags; f->name; f++) {
		bool used = false;
		for (const kp_command *c = kp_commands; c->name; c++)
			for (const char *const *n = c->flags; *n; n++)
				used = used || strcmp(*n, f->name) == 0;
		if (!used && strcmp(f->name, "--help") != 0)
			continue;
		cr_expect(has_flag(kp_buf_cstr(&bash), f->name), "bash completion lacks %s", f->name);
		cr_expect(strstr(kp_buf_cstr(&zsh), f->name) != NULL, "zsh completion lacks %s", f->name);
	}
	for (const kp_command *c = kp_commands; c->name; c++) {
		char pat[64];
		snprintf(pat, sizeof(pat), "\t%s)\n", c->name);
		cr_expect(strstr(kp_buf_cstr(&bash), pat) != NULL, "bash completion lacks %s", c->name);
		cr_expect(strstr(kp_buf_cstr(&zsh), pat) != NULL, "zsh completion lacks %s", c->name);
	}
	kp_buf_release(&bash);
	kp_buf_release(&zsh);
}

Test(cli, man_page_has_every_command)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_man_page(&b);
	const char *m = kp_buf_cstr(&b);
	cr_expect(strncmp(m, ".\\\"", 3) == 0);
	cr_expect(strstr(m, "\n.TH KOPILOT 1 ") != NULL);
	for (const kp_command *c = kp_commands; c->name; c++) {
		char ss[64];
		snprintf(ss, sizeof(ss), "\n.SS kopilot %s\n", c->name);
		cr_expect(strstr(m, ss) != NULL, "man page lacks %s", c->name);
	}
	/* no line may start a request by accident: every line is text or a known request */
	for (const char *p = m; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		if (*p != '.' && *p != '\'')
			continue;
		static const char *const ok[] = {".\\\"", ".TH ", ".SH ", ".SS ", ".PP\n", ".TP\n", ".nf\n", ".fi\n", ".nh\n", ".ad l\n"};
		bool known = false;
		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			known = known || strncmp(p, ok[i], strlen(ok[i])) == 0;
		cr_expect(known, "stray request: %.40s", p);
	}
	kp_buf_release(&b);
}

Test(cli, csv_quotes_as_rfc_4180)
{
	json_object *doc = json_tokener_parse(
		"{\"findings\":[{\"id\":\"abc\",\"category\":\"orphaned-pvc\",\"resource\":{\"kind\":\"Weird\","
		"\"namespace\":null,\"name\":\"a,b \\\"c\\\"\\nd\"},\"container\":null,\"monthly_cost\":1.5,"
		"\"monthly_savings\":-2,\"risk\":\"LOW\",\"action\":{\"type\":\"delete\",\"approval_required\":true,"
		"\"blocked\":false}}]}");
	cr_assert_not_null(doc);
	kp_buf b;
	kp_buf_init(&b);
	kp_output_csv(doc, &b);
	cr_expect_str_eq(kp_buf_cstr(&b),
			 "namespace,kind,name,container,category,monthly_cost,monthly_savings,risk,action,"
			 "approval_required,blocked,id\n"
			 ",Weird,\"a,b \"\"c\"\"\nd\",,orphaned-pvc,1.5,-2,LOW,delete,true,false,abc\n");
	kp_buf_release(&b);
	json_object_put(doc);
}

Test(cli, yaml_quotes_what_would_change_type)
{
	json_object *doc = json_tokener_parse("{\"a\":\"yes\",\"b\":\"123\",\"c\":\"plain text\",\"d\":null,\"e\":true,"
					      "\"f\":1e+30,\"g\":\"\",\"h\":[\"-1.5\",\"x: y\"],\"i\":2.5}");
	cr_assert_not_null(doc);
	kp_buf b;
	kp_buf_init(&b);
	kp_error err = {0};
	cr_assert_eq(kp_output_yaml(doc, &b, &err), KP_OK, "%s", err.msg);
	const char *y = kp_buf_cstr(&b);
	cr_expect(strstr(y, "a: \"yes\"\n") != NULL, "%s", y);
	cr_expect(strstr(y, "b: \"123\"\n") != NULL, "%s", y);
	cr_expect(strstr(y, "c: plain text\n") != NULL, "%s", y);
	cr_expect(strstr(y, "d: null\n") != NULL, "%s", y);
	cr_expect(strstr(y, "e: true\n") != NULL, "%s", y);
	cr_expect(strstr(y, "f: 1.0e+30\n") != NULL, "%s", y);
	cr_expect(strstr(y, "g: \"\"\n") != NULL, "%s", y);
	cr_expect(strstr(y, "- \"-1.5\"\n") != NULL, "%s", y);
	cr_expect(strstr(y, "- 'x: y'\n") != NULL || strstr(y, "- \"x: y\"\n") != NULL, "%s", y);
	cr_expect(strstr(y, "i: 2.5\n") != NULL, "%s", y);
	kp_buf_release(&b);
	json_object_put(doc);
}
