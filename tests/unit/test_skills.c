/*
 * test_skills.c - YAML skills (stages/analyze/agents/skills.c): the schema
 * enforced with errors naming file, line and field; directories, overrides
 * and skills.enabled; the compiled-in built-ins.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/config.h"
#include "stages/analyze/agents/skills.h"
#include "tests/unit/tmpdir.h"

#define GOOD                                                                                                   \
	"name: finops\n"                                                                                       \
	"display_name: FinOps\n"                                                                               \
	"description: Reviews spend.\n"                                                                        \
	"system_prompt: |\n"                                                                                   \
	"  You review spend.\n"                                                                                \
	"documentation: |\n"                                                                                   \
	"  # Runbook\n"                                                                                        \
	"tools: [list_findings, get_finding]\n"                                                                \
	"routing:\n"                                                                                           \
	"  keywords: [Cost, waste]\n"                                                                          \
	"  examples: [\"what does staging cost?\"]\n"

static kp_status parse(const char *text, kp_skill *k, kp_error *err)
{
	return kp_skill_parse("s.yaml", text, strlen(text), k, err);
}

Test(skills, a_good_skill_reads_whole)
{
	kp_skill k;
	kp_error err = {0};
	cr_assert_eq(parse(GOOD, &k, &err), KP_OK, "%s", err.msg);
	cr_expect_str_eq(k.name, "finops");
	cr_expect_str_eq(k.system_prompt, "You review spend.\n");
	cr_expect(k.has_tools);
	cr_assert_eq(k.ntools, 2);
	cr_expect(kp_skill_allows(&k, "get_finding"));
	cr_expect_not(kp_skill_allows(&k, "run_kubectl"));
	cr_assert_eq(k.nkeywords, 2);
	cr_expect_str_eq(k.keywords[0], "cost", "keywords are lower-cased");
	cr_expect_str_eq(k.examples[0], "what does staging cost?");
	kp_skill_release(&k);
}

Test(skills, every_error_names_the_line_and_the_field)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{GOOD "colour: blue\n", "s.yaml:12: unknown key \"colour\""},
		{"name: finops\ndisplay_name: [a, b]\n", "s.yaml:2: display_name: expected a string, found a list"},
		{"name: FinOps\n", "s.yaml:1: name: \"FinOps\" is not a skill name"},
		{"name: finops\ndisplay_name: F\ndescription: d\ndocumentation: x\n",
		 "s.yaml:1: system_prompt: missing (required)"},
		{"name: finops\ndisplay_name: F\ndescription: d\nsystem_prompt: p\ndocumentation: x\ntools: [rm_rf]\n",
		 "s.yaml:6: tools: unknown tool \"rm_rf\""},
		{"name: finops\ndisplay_name: F\ndescription: d\nsystem_prompt: '  '\ndocumentation: x\n",
		 "s.yaml:4: system_prompt: is empty"},
		{"name: &n finops\ndisplay_name: *n\n", "s.yaml:2: aliases are not allowed"},
		{GOOD "---\n" GOOD, "a second document: one skill per file"},
		{"name: finops\nname: again\n", "s.yaml:2: name: given twice"},
		{"- a\n- b\n", "s.yaml:1: a skill is a mapping, found a list"},
		{"name: \"unterminated\n", "s.yaml:2:1: not valid YAML"},
		{GOOD "routing: {colour: x}\n", "s.yaml:12: routing: given twice"},
		{"", "s.yaml: empty"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kp_skill k;
		kp_error err = {0};
		cr_expect_neq(parse(cases[i].text, &k, &err), KP_OK, "case %zu accepted", i);
		cr_expect(strstr(err.msg, cases[i].want), "case %zu: %s (want %s)", i, err.msg, cases[i].want);
	}
}

/* the lists of kp_config own their heap strings (kp_config_release frees them) */
static void push(kp_strlist *l, const char *s)
{
	l->items = kp_xrealloc(l->items, (l->len + 1) * sizeof(char *));
	l->items[l->len++] = kp_xstrdup(s);
}

static void clear(kp_strlist *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i]);
	l->len = 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *p = kp_path_join(dir, name);
	cr_assert_eq(kp_write_file_atomic(p, text, strlen(text), NULL), KP_OK);
	free(p);
}

Test(skills, a_directory_overrides_a_builtin_and_enabled_selects)
{
	size_t nb = 0;
	const kp_builtin_file *b = kp_skills_builtin_files(&nb);
	cr_assert_eq(nb, 6, "the six built-ins are compiled in");
	for (size_t i = 0; i < nb; i++)
		cr_expect(!strncmp(b[i].path, "skills/builtin/", 15), "%s", b[i].path);

	char dir[64];
	tmpdir_make(dir, "skills");
	write_file(dir, "finops.yaml", GOOD);
	/* a team's own cost_optimization replaces the built-in */
	write_file(dir, "cost_optimization.yaml",
		   "name: cost_optimization\ndisplay_name: Our cost review\ndescription: d\nsystem_prompt: p\n"
		   "documentation: x\n");
	write_file(dir, "notes.txt", "not a skill");
	kp_config cfg;
	kp_config_init(&cfg);
	push(&cfg.llm.skill_dirs, dir);
	kp_skills sk;
	kp_error err = {0};
	cr_assert_eq(kp_skills_load(&cfg, &sk, &err), KP_OK, "%s", err.msg);
	cr_expect_eq(sk.len, 6, "skills.enabled: the six built-in names, so finops is not enabled");
	const kp_skill *c = kp_skills_find(&sk, "cost_optimization");
	cr_assert(c);
	cr_expect_str_eq(c->display_name, "Our cost review");
	cr_expect_not(c->builtin);
	cr_expect(kp_skills_find(&sk, "security")->builtin);
	cr_expect(!strncmp(kp_skills_find(&sk, "security")->source, "builtin:skills/builtin/security.yaml", 36));
	kp_skills_release(&sk);
	/* enabled names finops and one built-in, in that order */
	clear(&cfg.llm.enabled_skills);
	push(&cfg.llm.enabled_skills, "finops");
	push(&cfg.llm.enabled_skills, "security");
	cr_assert_eq(kp_skills_load(&cfg, &sk, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(sk.len, 2);
	cr_expect_str_eq(sk.items[0].name, "finops");
	cr_expect_str_eq(sk.items[1].name, "security");
	kp_skills_release(&sk);
	/* a name nobody defines */
	push(&cfg.llm.enabled_skills, "astrology");
	cr_assert_neq(kp_skills_load(&cfg, &sk, &err), KP_OK);
	cr_expect(strstr(err.msg, "names \"astrology\", which no skill defines"), "%s", err.msg);
	/* a file whose name is not its skill's */
	write_file(dir, "other.yaml", GOOD);
	cr_assert_neq(kp_skills_load_dir(dir, &sk, &err), KP_OK);
	cr_expect(strstr(err.msg, "other.yaml: name: \"finops\" differs from the file name (other)"), "%s", err.msg);
	kp_config_release(&cfg);
	kp_remove_tree(dir);
}
