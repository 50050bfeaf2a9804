/*
 * skills.c - see skills.h. The files are read with libyaml's event parser
 * (not through a JSON tree) so that every error can name the line of the
 * key or value it is about.
 */
#include "stages/analyze/agents/skills.h"
#include "stages/analyze/agents/tools.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>


#define MAX_TEXT (256u << 10) /* a prompt or runbook longer than this is a mistake */
#define MAX_ITEMS 200

typedef struct {
	yaml_parser_t p;
	const char *name;
	kp_error *err;
	bool have;
	yaml_event_t ev;
} rd_t;

static size_t line_of(const yaml_event_t *e) { return e->start_mark.line + 1; }

static kp_status fail_at(rd_t *r, size_t line, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static kp_status fail_at(rd_t *r, size_t line, const char *field, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kp_fail(r->err, KP_ERR_INPUT, "%s:%zu: %s%s%s", r->name, line, field ? field : "", field ? ": " : "",
		       msg);
}

/* The next event into r->ev (the previous one deleted). */
static kp_status next(rd_t *r)
{
	if (r->have)
		yaml_event_delete(&r->ev);
	r->have = false;
	if (!yaml_parser_parse(&r->p, &r->ev)) {
		return kp_fail(r->err, KP_ERR_INPUT, "%s:%zu:%zu: not valid YAML: %s%s%s", r->name,
			       (size_t)r->p.problem_mark.line + 1, (size_t)r->p.problem_mark.column + 1,
			       r->p.problem ? r->p.problem : "parse error", r->p.context ? " " : "",
			       r->p.context ? r->p.context : "");
	}
	r->have = true;
	if (r->ev.type == YAML_ALIAS_EVENT)
		return fail_at(r, line_of(&r->ev), NULL, "aliases are not allowed in a skill (write the text out)");
	return KP_OK;
}

static const char *type_word(yaml_event_type_t t)
{
	return t == YAML_MAPPING_START_EVENT ? "a mapping" : t == YAML_SEQUENCE_START_EVENT ? "a list" : "a string";
}

/* The current event as a string value (a scalar), copied. */
static kp_status take_string(rd_t *r, const char *field, char **out)
{
	if (r->ev.type != YAML_SCALAR_EVENT)
		return fail_at(r, line_of(&r->ev), field, "expected a string, found %s", type_word(r->ev.type));
	size_t n = r->ev.data.scalar.length;
	if (n > MAX_TEXT)
		return fail_at(r, line_of(&r->ev), field, "%zu bytes: more than %u KiB", n, MAX_TEXT >> 10);
	if (memchr(r->ev.data.scalar.value, '\0', n))
		return fail_at(r, line_of(&r->ev), field, "contains a NUL character");
	free(*out);
	*out = kp_xasprintf("%.*s", (int)n, (const char *)r->ev.data.scalar.value);
	return KP_OK;
}

/* The current event as a list of strings. */
static kp_status take_list(rd_t *r, const char *field, char ***out, size_t *n)
{
	if (r->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail_at(r, line_of(&r->ev), field, "expected a list, found %s", type_word(r->ev.type));
	kp_status s;
	size_t cap = 0;
	while (!(s = next(r)) && r->ev.type != YAML_SEQUENCE_END_EVENT) {
		char f[64];
		snprintf(f, sizeof(f), "%s[%zu]", field, *n);
		if (*n >= MAX_ITEMS)
			return fail_at(r, line_of(&r->ev), field, "more than %d items", MAX_ITEMS);
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = kp_xrealloc(*out, cap * sizeof(char *));
		}
		(*out)[*n] = NULL;
		if ((s = take_string(r, f, &(*out)[*n])))
			return s;
		(*n)++;
	}
	return s;
}

static bool is_name(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 63 || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static bool blank(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return !*s;
}

static kp_status read_routing(rd_t *r, kp_skill *k)
{
	if (r->ev.type != YAML_MAPPING_START_EVENT)
		return fail_at(r, line_of(&r->ev), "routing", "expected a mapping, found %s", type_word(r->ev.type));
	kp_status s;
	bool seen_kw = false, seen_ex = false;
	while (!(s = next(r)) && r->ev.type != YAML_MAPPING_END_EVENT) {
		if (r->ev.type != YAML_SCALAR_EVENT)
			return fail_at(r, line_of(&r->ev), "routing", "expected a key");
		char key[64];
		snprintf(key, sizeof(key), "%.*s", (int)r->ev.data.scalar.length, (const char *)r->ev.data.scalar.value);
		size_t line = line_of(&r->ev);
		bool kw = !strcmp(key, "keywords"), ex = !strcmp(key, "examples");
		if (!kw && !ex)
			return fail_at(r, line, "routing", "unknown key \"%s\" (keywords, examples)", key);
		if ((kw && seen_kw) || (ex && seen_ex))
			return fail_at(r, line, "routing", "\"%s\" given twice", key);
		if ((s = next(r)))
			return s;
		if (kw) {
			seen_kw = true;
			if ((s = take_list(r, "routing.keywords", &k->keywords, &k->nkeywords)))
				return s;
			for (size_t i = 0; i < k->nkeywords; i++)
				for (char *c = k->keywords[i]; *c; c++)
					if (*c >= 'A' && *c <= 'Z')
						*c = (char)(*c - 'A' + 'a');
		} else {
			seen_ex = true;
			if ((s = take_list(r, "routing.examples", &k->examples, &k->nexamples)))
				return s;
		}
	}
	return s;
}

static kp_status read_skill(rd_t *r, kp_skill *k)
{
	kp_status s;
	if ((s = next(r)) || (s = next(r)))
		return s; /* stream start, document start (or stream end) */
	if (r->ev.type == YAML_STREAM_END_EVENT)
		return kp_fail(r->err, KP_ERR_INPUT, "%s: empty: a skill is a mapping with name, display_name, "
						     "description, system_prompt and documentation",
			       r->name);
	if ((s = next(r)))
		return s;
	if (r->ev.type != YAML_MAPPING_START_EVENT)
		return fail_at(r, line_of(&r->ev), NULL, "a skill is a mapping, found %s", type_word(r->ev.type));
	static const char *const keys[] = {"name", "display_name", "description", "version", "system_prompt",
					   "documentation", "tools", "routing"};
	bool seen[8] = {0};
	size_t map_line = line_of(&r->ev);
	while (!(s = next(r)) && r->ev.type != YAML_MAPPING_END_EVENT) {
		if (r->ev.type != YAML_SCALAR_EVENT)
			return fail_at(r, line_of(&r->ev), NULL, "expected a key");
		char key[64];
		snprintf(key, sizeof(key), "%.*s", (int)r->ev.data.scalar.length, (const char *)r->ev.data.scalar.value);
		size_t line = line_of(&r->ev), i = 0;
		while (i < 8 && strcmp(key, keys[i]))
			i++;
		if (i == 8)
			return fail_at(r, line, NULL,
				       "unknown key \"%s\" (a skill has name, display_name, description, version, "
				       "system_prompt, documentation, tools, routing)",
				       key);
		if (seen[i])
			return fail_at(r, line, key, "given twice");
		seen[i] = true;
		if ((s = next(r)))
			return s;
		char **str[] = {&k->name, &k->display_name, &k->description, &k->version, &k->system_prompt,
				&k->documentation};
		if (i < 6) {
			if ((s = take_string(r, key, str[i])))
				return s;
			if (i == 0 && !is_name(k->name))
				return fail_at(r, line_of(&r->ev), "name",
					       "\"%.64s\" is not a skill name (lower-case letters, digits, _ and -, "
					       "starting with a letter, at most 63)",
					       k->name);
			if (i != 3 && blank(*str[i]))
				return fail_at(r, line_of(&r->ev), key, "is empty");
		} else if (i == 6) {
			size_t tl = line_of(&r->ev);
			if ((s = take_list(r, "tools", &k->tools, &k->ntools)))
				return s;
			k->has_tools = true;
			/* the tools that exist are tools.c's: one list */
			kp_llm_tool specs[16];
			size_t nspecs = 0;
			kp_agent_tools(NULL, specs, &nspecs);
			for (size_t t = 0; t < k->ntools; t++) {
				size_t j = 0;
				while (j < nspecs && strcmp(specs[j].name, k->tools[t]))
					j++;
				if (j == nspecs) {
					kp_buf names;
					kp_buf_init(&names);
					for (size_t m = 0; m < nspecs; m++)
						kp_buf_printf(&names, "%s%s", m ? ", " : "", specs[m].name);
					s = fail_at(r, tl, "tools", "unknown tool \"%.64s\" (%s)", k->tools[t],
						    kp_buf_cstr(&names));
					kp_buf_release(&names);
					return s;
				}
			}
		} else if ((s = read_routing(r, k))) {
			return s;
		}
	}
	if (s)
		return s;
	static const int required[] = {0, 1, 2, 4, 5};
	for (size_t i = 0; i < 5; i++)
		if (!seen[required[i]])
			return fail_at(r, map_line, keys[required[i]], "missing (required)");
	if ((s = next(r)) || (s = next(r)))
		return s; /* document end, then stream end or another document */
	if (r->ev.type != YAML_STREAM_END_EVENT)
		return fail_at(r, line_of(&r->ev), NULL, "a second document: one skill per file");
	return KP_OK;
}

kp_status kp_skill_parse(const char *name, const char *text, size_t n, kp_skill *out, kp_error *err)
{
	memset(out, 0, sizeof(*out));
	rd_t r = {.name = name, .err = err};
	if (!yaml_parser_initialize(&r.p))
		return kp_fail(err, KP_ERR_NOMEM, "%s: cannot start the YAML parser", name);
	yaml_parser_set_input_string(&r.p, (const unsigned char *)text, n);
	kp_status s = read_skill(&r, out);
	if (r.have)
		yaml_event_delete(&r.ev);
	yaml_parser_delete(&r.p);
	if (s) {
		kp_skill_release(out);
		return s;
	}
	out->source = kp_xstrdup(name);
	return KP_OK;
}

kp_status kp_skill_load_file(const char *path, kp_skill *out, kp_error *err)
{
	memset(out, 0, sizeof(*out));
	char *text = NULL;
	size_t n = 0;
	kp_status s = kp_read_file(path, &text, &n, err);
	if (s)
		return s;
	s = kp_skill_parse(path, text, n, out, err);
	free(text);
	if (!s) {
		/* the file's stem names the skill: two files cannot claim one name by accident */
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		size_t stem = strcspn(base, ".");
		if (strlen(out->name) != stem || strncmp(base, out->name, stem)) {
			s = kp_fail(err, KP_ERR_INPUT, "%s: name: \"%s\" differs from the file name (%.*s)", path, out->name,
				    (int)stem, base);
			kp_skill_release(out);
		}
	}
	return s;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void kp_skill_release(kp_skill *s)
{
	free(s->name), free(s->display_name), free(s->description), free(s->version);
	free(s->system_prompt), free(s->documentation), free(s->source);
	free_list(s->tools, s->ntools);
	free_list(s->keywords, s->nkeywords);
	free_list(s->examples, s->nexamples);
	memset(s, 0, sizeof(*s));
}

void kp_skills_release(kp_skills *s)
{
	for (size_t i = 0; i < s->len; i++)
		kp_skill_release(&s->items[i]);
	free(s->items);
	memset(s, 0, sizeof(*s));
}

const kp_skill *kp_skills_find(const kp_skills *s, const char *name)
{
	for (size_t i = 0; i < s->len; i++)
		if (!strcmp(s->items[i].name, name))
			return &s->items[i];
	return NULL;
}

bool kp_skill_allows(const kp_skill *s, const char *tool)
{
	if (!s->has_tools)
		return true;
	for (size_t i = 0; i < s->ntools; i++)
		if (!strcmp(s->tools[i], tool))
			return true;
	return false;
}

/* adds k, replacing a skill of the same name (k is moved) */
static void put(kp_skills *s, kp_skill *k)
{
	for (size_t i = 0; i < s->len; i++)
		if (!strcmp(s->items[i].name, k->name)) {
			kp_skill_release(&s->items[i]);
			s->items[i] = *k;
			memset(k, 0, sizeof(*k));
			return;
		}
	s->items = kp_xrealloc(s->items, (s->len + 1) * sizeof(*s->items));
	s->items[s->len++] = *k;
	memset(k, 0, sizeof(*k));
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

kp_status kp_skills_load_dir(const char *dir, kp_skills *out, kp_error *err)
{
	memset(out, 0, sizeof(*out));
	DIR *d = opendir(dir);
	if (!d)
		return kp_fail(err, KP_ERR_IO, "%s: cannot open the skill directory: %s", dir, strerror(errno));
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (e->d_name[0] == '.' || !((l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) ||
					     (l > 4 && !strcmp(e->d_name + l - 4, ".yml"))))
			continue;
		names = kp_xrealloc(names, (n + 1) * sizeof(char *));
		names[n++] = kp_xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(char *), cmp_str);
	kp_status s = KP_OK;
	for (size_t i = 0; i < n && !s; i++) {
		char *path = kp_path_join(dir, names[i]);
		kp_skill k;
		s = kp_skill_load_file(path, &k, err);
		if (!s && kp_skills_find(out, k.name)) {
			s = kp_fail(err, KP_ERR_INPUT, "%s: name: \"%s\" is also defined by %s", path, k.name,
				    kp_skills_find(out, k.name)->source);
			kp_skill_release(&k);
		} else if (!s) {
			put(out, &k);
		}
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (s)
		kp_skills_release(out);
	return s;
}

kp_status kp_skills_load(const kp_config *cfg, kp_skills *out, kp_error *err)
{
	memset(out, 0, sizeof(*out));
	kp_skills all = {0};
	size_t nb = 0;
	const kp_builtin_file *b = kp_skills_builtin_files(&nb);
	kp_status s = KP_OK;
	for (size_t i = 0; i < nb && !s; i++) {
		char *name = kp_xasprintf("builtin:%s", b[i].path);
		kp_skill k;
		s = kp_skill_parse(name, b[i].text, strlen(b[i].text), &k, err);
		free(name);
		if (!s) {
			k.builtin = true;
			put(&all, &k);
		}
	}
	for (size_t d = 0; !s && d < cfg->llm.skill_dirs.len; d++) {
		kp_skills more;
		s = kp_skills_load_dir(cfg->llm.skill_dirs.items[d], &more, err);
		for (size_t i = 0; !s && i < more.len; i++)
			put(&all, &more.items[i]);
		if (!s)
			kp_skills_release(&more);
	}
	/* skills.enabled: these, in its order */
	for (size_t e = 0; !s && e < cfg->llm.enabled_skills.len; e++) {
		const char *want = cfg->llm.enabled_skills.items[e];
		kp_skill *k = NULL;
		for (size_t i = 0; i < all.len && !k; i++)
			if (all.items[i].name && !strcmp(all.items[i].name, want))
				k = &all.items[i];
		if (!k) {
			s = kp_fail(err, KP_ERR_USAGE,
				    "skills.enabled (ENABLED_SKILLS) names \"%s\", which no skill defines (the built-ins "
				    "and skills.dirs)",
				    want);
			break;
		}
		put(out, k);
	}
	kp_skills_release(&all);
	if (s)
		kp_skills_release(out);
	return s;
}

static json_object *string_list(char *const *items, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(items[i]));
	return a;
}

json_object *kp_skill_portable(const kp_skill *s)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "schema", json_object_new_string(KP_PORTABLE_SKILL_SCHEMA));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "display_name", json_object_new_string(s->display_name));
	json_object_object_add(o, "version", json_object_new_string(s->version ? s->version : "0"));
	json_object_object_add(o, "description", json_object_new_string(s->description));
	json_object_object_add(o, "system_prompt", json_object_new_string(s->system_prompt));
	json_object_object_add(o, "documentation", json_object_new_string(s->documentation));
	/* null: every tool of the runtime (the skill file lists none) */
	json_object_object_add(o, "tools", s->has_tools ? string_list(s->tools, s->ntools) : NULL);
	json_object *r = json_object_new_object();
	json_object_object_add(r, "keywords", string_list(s->keywords, s->nkeywords));
	json_object_object_add(r, "examples", string_list(s->examples, s->nexamples));
	json_object_object_add(o, "routing", r);
	json_object *src = json_object_new_object();
	json_object_object_add(src, "kind", json_object_new_string(s->builtin ? "builtin" : "file"));
	json_object_object_add(src, "path", json_object_new_string(s->builtin && !strncmp(s->source, "builtin:", 8)
									 ? s->source + 8
									 : s->source));
	json_object_object_add(src, "runtime", json_object_new_string("kopilot " KP_VERSION));
	json_object_object_add(o, "source", src);
	return o;
}
