/*
 * anon.c - see anon.h. Two json-c objects serve as the hash maps (real to
 * alias, alias to real).
 */
#include "stages/analyze/agents/anon.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_LIST_BYTES (256u << 20)

struct kp_anon {
	json_object *to_alias, *to_real;
	size_t ns, other;
};

kp_anon *kp_anon_new(void)
{
	kp_anon *a = kp_xcalloc(1, sizeof(*a));
	a->to_alias = json_object_new_object();
	a->to_real = json_object_new_object();
	return a;
}

void kp_anon_free(kp_anon *a)
{
	if (!a)
		return;
	json_object_put(a->to_alias);
	json_object_put(a->to_real);
	free(a);
}

size_t kp_anon_count(const kp_anon *a) { return a ? (size_t)json_object_object_length(a->to_alias) : 0; }

void kp_anon_add(kp_anon *a, const char *name, bool ns)
{
	if (!name || strlen(name) < 3 || json_object_object_get_ex(a->to_alias, name, NULL) ||
	    json_object_object_get_ex(a->to_real, name, NULL))
		return;
	char alias[48];
	do /* never an alias that is a real name */
		snprintf(alias, sizeof(alias), ns ? "anon-ns-%zu" : "anon-%zu", ns ? ++a->ns : ++a->other);
	while (json_object_object_get_ex(a->to_alias, alias, NULL));
	json_object_object_add(a->to_alias, name, json_object_new_string(alias));
	json_object_object_add(a->to_real, alias, json_object_new_string(name));
}

/* a word's characters: names are lower-case DNS names, but a word is read
 * whole ("Deployment" is not "eployment") */
static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_';
}

/* each word, or its longest prefix ending before a '-' or '.', that map
 * holds, replaced by its value */
static char *replace(json_object *map, const char *text)
{
	kp_buf out;
	kp_buf_init(&out);
	char key[256];
	for (const char *p = text; *p;) {
		if (!word_char(*p)) {
			kp_buf_putc(&out, *p++);
			continue;
		}
		const char *e = p;
		while (word_char(*e))
			e++;
		size_t len = (size_t)(e - p), hit = 0;
		json_object *v = NULL;
		for (size_t l = len; l >= 3; l--) {
			if (l < len && p[l] != '-' && p[l] != '.')
				continue;
			if (l >= sizeof(key))
				continue;
			memcpy(key, p, l);
			key[l] = '\0';
			if (json_object_object_get_ex(map, key, &v)) {
				hit = l;
				break;
			}
		}
		if (hit) {
			kp_buf_puts(&out, json_object_get_string(v));
			kp_buf_add(&out, p + hit, len - hit);
		} else {
			kp_buf_add(&out, p, len);
		}
		p = e;
	}
	return kp_buf_detach(&out);
}

char *kp_anon_hide(const kp_anon *a, const char *text) { return replace(a->to_alias, text ? text : ""); }
char *kp_anon_reveal(const kp_anon *a, const char *text) { return replace(a->to_real, text ? text : ""); }

/* the metadata names (and namespaces) of one snapshot list */
static void add_list(kp_anon *a, const char *run_dir, const char *res)
{
	char rel[96];
	snprintf(rel, sizeof(rel), "snapshot/objects/%s.json", res);
	char *path = kp_path_join(run_dir, rel);
	struct stat st;
	if (stat(path, &st) == 0 && (size_t)st.st_size <= MAX_LIST_BYTES) {
		json_object *doc = json_object_from_file(path);
		json_object *items = kp_json_get(doc, "items");
		for (size_t i = 0; json_object_is_type(items, json_type_array) && i < json_object_array_length(items); i++) {
			json_object *it = json_object_array_get_idx(items, i);
			kp_anon_add(a, kp_json_str(it, "metadata.namespace"), true);
			kp_anon_add(a, kp_json_str(it, "metadata.name"), !strcmp(res, "namespaces"));
		}
		json_object_put(doc);
	}
	free(path);
}

kp_anon *kp_anon_from_run(const char *run_dir)
{
	kp_anon *a = kp_anon_new();
	static const char *const lists[] = {"namespaces", "deployments", "statefulsets", "daemonsets", "cronjobs",
					    "jobs", "rollouts", "services", "persistentvolumeclaims",
					    "persistentvolumes", "nodes"};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		add_list(a, run_dir, lists[i]);
	char *fp = kp_path_join(run_dir, "findings.json");
	json_object *doc = json_object_from_file(fp);
	free(fp);
	json_object *fs = kp_json_get(doc, "findings");
	for (size_t i = 0; json_object_is_type(fs, json_type_array) && i < json_object_array_length(fs); i++) {
		json_object *f = json_object_array_get_idx(fs, i);
		kp_anon_add(a, kp_json_str(f, "resource.namespace"), true);
		kp_anon_add(a, kp_json_str(f, "resource.name"), false);
		kp_anon_add(a, kp_json_str(f, "container"), false);
	}
	json_object_put(doc);
	return a;
}
