/*
 * skills.h - sub-agents defined as YAML skills.
 *
 * A skill file is one YAML mapping:
 *
 *   name: cost_optimization          required, [a-z][a-z0-9_-]{0,62}, the file's stem
 *   display_name: Cost optimization  required
 *   description: ...                 required: what the supervisor routes on
 *   version: "1.0"                   optional
 *   system_prompt: |                 required: the sub-agent's instructions
 *   documentation: |                 required: its runbook (Markdown)
 *   tools: [list_findings, ...]      optional allow-list of the tools in
 *                                    stages/analyze/agents/tools.h;
 *                                    absent: every tool
 *   routing:                         optional
 *     keywords: [cost, waste]        lower-case words for the keyword router
 *     examples: ["..."]              example requests for the LLM router
 *
 * Unknown keys, a wrong type, a missing required key, an unknown tool, a
 * name that is not a name: an error naming the file, line and field.
 *
 * Where skills come from (kp_skills_load): the six built-ins, compiled in
 * from skills/builtin/ (a copied binary has them), then each directory of
 * skills.dirs (SKILL_DIRS, colon-separated) in order, every *.yaml and
 * *.yml in it sorted by name; a later definition of a name replaces an
 * earlier one (a team's own cost_optimization overrides the built-in).
 * Then skills.enabled (ENABLED_SKILLS) keeps the named ones, in its order;
 * a name it lists that no source defines is an error.
 */
#ifndef KP_SKILLS_H
#define KP_SKILLS_H

#include <json-c/json.h>

#include "pipeline/config.h"
#include "pipeline/kp.h"

typedef struct kp_skill {
	char *name, *display_name, *description, *version, *system_prompt, *documentation;
	char **tools; /* NULL with has_tools false: every tool */
	size_t ntools;
	bool has_tools;
	char **keywords, **examples;
	size_t nkeywords, nexamples;
	char *source; /* the file it came from; "builtin:skills/builtin/NAME.yaml" for a built-in */
	bool builtin;
} kp_skill;

typedef struct kp_skills {
	kp_skill *items;
	size_t len;
} kp_skills;

/* One skill from YAML text; name is the file for messages. */
kp_status kp_skill_parse(const char *name, const char *text, size_t n, kp_skill *out, kp_error *err);
kp_status kp_skill_load_file(const char *path, kp_skill *out, kp_error *err);
void kp_skill_release(kp_skill *s);

/* Every skill of a directory (*.yaml, *.yml), sorted by file name; two
 * files with one name: an error naming both. */
kp_status kp_skills_load_dir(const char *dir, kp_skills *out, kp_error *err);
/* The built-ins, then skills.dirs, filtered by skills.enabled (above). */
kp_status kp_skills_load(const kp_config *cfg, kp_skills *out, kp_error *err);
const kp_skill *kp_skills_find(const kp_skills *s, const char *name);
bool kp_skill_allows(const kp_skill *s, const char *tool);
void kp_skills_release(kp_skills *s);

/* A skill as a portable manifest (docs/contracts/PORTABLE-SKILL.md, schema
 * KP_PORTABLE_SKILL_SCHEMA): name, display_name, version, description,
 * system_prompt, documentation, tools, routing, source. New object. */
#define KP_PORTABLE_SKILL_SCHEMA "kopilot.skill/v1"
json_object *kp_skill_portable(const kp_skill *s);

/* The compiled-in files (generated: build/gen/skills.c). */
typedef struct kp_builtin_file {
	const char *path; /* skills/builtin/NAME.yaml */
	const char *text;
} kp_builtin_file;
const kp_builtin_file *kp_skills_builtin_files(size_t *n);

#endif
