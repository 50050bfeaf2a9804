/*
 * history.c - run-to-run comparison and namespace scope; see history.h.
 *
 * Matching is by finding id only: the id is a hash of the finding's
 * identity (category, resource, container), so the same waste found again
 * has the same id whatever its numbers became. An id index is a json-c
 * object (a hash table), so comparing two runs is linear in their sizes.
 *
 * Memory: everything added to the findings document is new or a deep copy;
 * the previous document is only read and stays the caller's.
 */
#include "stages/recommend/history.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/fault.h"
#include "pipeline/findings_json.h"
#include "pipeline/shard.h"

/* ---- finding the previous run ---- */

static bool is_dir(const char *path)
{
	struct stat st;
	return KP_FAULT_IO(stat(path, &st)) == 0 && S_ISDIR(st.st_mode);
}

/* Same directory? realpath, so "runs/a" and "./runs/a/" match. */
static bool same_path(const char *a, const char *b)
{
	char *ra = KP_FAULT_IO_PTR(realpath(a, NULL)), *rb = KP_FAULT_IO_PTR(realpath(b, NULL));
	bool same = ra && rb && strcmp(ra, rb) == 0;
	free(ra);
	free(rb);
	return same;
}

/* run.json finished_at of a run directory; false when unreadable. A broken
 * run.json does not make the run unusable: findings.json is what counts. */
static bool run_finished_at(const char *run, int64_t *t)
{
	char *p = kp_path_join(run, "run.json");
	json_object *r = NULL;
	kp_error err;
	bool ok = false;
	if (kp_file_exists(p) && kp_json_read_file(p, &r, &err) == KP_OK) {
		const char *s = kp_json_str(r, "finished_at");
		ok = s && kp_time_parse(s, t);
	}
	json_object_put(r);
	free(p);
	return ok;
}

kp_status kp_history_latest_run(const char *state_dir, const char *exclude, char **out, kp_error *err)
{
	*out = NULL;
	struct stat st;
	if (KP_FAULT_IO(stat(state_dir, &st)) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return KP_OK; /* first run: nothing to compare with yet */
		return kp_fail(err, KP_ERR_IO, "%s: %s", state_dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return kp_fail(err, KP_ERR_USAGE, "%s: not a directory", state_dir);
	DIR *d = KP_FAULT_IO_PTR(opendir(state_dir));
	if (!d)
		return kp_fail(err, KP_ERR_USAGE, "%s: cannot read the directory", state_dir);
	char *best = NULL, *best_name = NULL;
	bool best_has_t = false;
	int64_t best_t = 0;
	struct dirent *e;
	/* readdir returns NULL at the end and on an error: errno tells them
	 * apart. A failed listing must not pick an older run as the latest. */
	int read_errno = 0;
	for (;;) {
		errno = 0;
		e = KP_FAULT_IO_PTR(readdir(d));
		if (!e) {
			read_errno = errno;
			break;
		}
		if (e->d_name[0] == '.') /* ., .., and temp directories */
			continue;
		char *run = kp_path_join(state_dir, e->d_name);
		char *fj = kp_path_join(run, "findings.json");
		bool candidate = is_dir(run) && kp_file_exists(fj) && !(exclude && same_path(run, exclude));
		free(fj);
		if (!candidate) {
			free(run);
			continue;
		}
		int64_t t = 0;
		bool has_t = run_finished_at(run, &t);
		bool better = !best;
		if (!better && has_t != best_has_t)
			better = has_t;
		else if (!better && has_t && t != best_t)
			better = t > best_t;
		else if (!better)
			better = strcmp(e->d_name, best_name) > 0;
		if (better) {
			free(best);
			free(best_name);
			best = run;
			best_name = kp_xstrdup(e->d_name);
			best_has_t = has_t;
			best_t = t;
		} else {
			free(run);
		}
	}
	closedir(d);
	free(best_name);
	if (read_errno) {
		free(best);
		return kp_fail(err, KP_ERR_IO, "%s: cannot read the directory: %s", state_dir, strerror(read_errno));
	}
	*out = best;
	return KP_OK;
}

char *kp_history_new_run_path(const char *state_dir, int64_t t)
{
	char ts[32], name[48];
	kp_time_format(t, ts); /* 2026-11-25T06:00:00Z */
	size_t k = 0;
	for (const char *p = ts; *p && k + 1 < sizeof(name); p++)
		if (*p != '-' && *p != ':')
			name[k++] = *p;
	name[k] = '\0'; /* 20261125T060000Z */
	char *path = kp_path_join(state_dir, name);
	/* bounded: a directory that cannot be searched "has" every name */
	for (int i = 2; kp_file_exists(path) && i < 10000; i++) {
		free(path);
		char *n = kp_xasprintf("%s-%d", name, i);
		path = kp_path_join(state_dir, n);
		free(n);
	}
	return path;
}

/* ---- reading the previous findings.json ---- */

static bool is_num(json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static bool is_hex_id(const char *s)
{
	if (!s || strlen(s) != 16)
		return false;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return false;
	return true;
}

static bool is_time(json_object *v)
{
	int64_t t;
	return json_object_is_type(v, json_type_string) && kp_time_parse(json_object_get_string(v), &t);
}

/* Only what the comparison reads is checked: a finding we cannot match or
 * describe would silently turn into "new" or a wrong "resolved". */
static const char *check_finding(json_object *f, const char **field)
{
	const char *what = NULL;
	*field = NULL;
	if (!json_object_is_type(f, json_type_object))
		*field = "", what = "expected an object";
	else if (!is_hex_id(kp_json_str(f, "id")))
		*field = ".id", what = "missing or not a 16-hex-digit finding id";
	else if (!kp_json_str(f, "category"))
		*field = ".category", what = "missing or not a string";
	else if (!json_object_is_type(kp_json_get(f, "resource"), json_type_object) || !kp_json_str(f, "resource.kind") ||
		 !kp_json_str(f, "resource.name"))
		*field = ".resource", what = "missing, or without kind and name";
	else if (!is_num(kp_json_get(f, "monthly_savings")))
		*field = ".monthly_savings", what = "missing or not a number";
	else if (kp_json_get(f, "first_seen") && !is_time(kp_json_get(f, "first_seen")))
		*field = ".first_seen", what = "not an RFC 3339 time";
	return what;
}

static json_object *copy_of(json_object *v)
{
	json_object *c = NULL;
	if (v && json_object_deep_copy(v, &c, NULL) != 0)
		c = NULL;
	return c;
}

/* The previous run is read one finding at a time and only what the
 * comparison uses is kept (id, category, resource, container, savings,
 * first_seen): a nightly run with 30,000 findings does not hold last
 * night's whole findings.json (several hundred MB as a tree) all along. */
typedef struct {
	json_object *kept;    /* the compact findings */
	char first_bad[256];  /* the first finding that fails the checks, reported after the schema */
} prev_ctx;

static kp_status prev_item(void *ud, json_object *f, size_t index)
{
	prev_ctx *x = ud;
	const char *field, *what = check_finding(f, &field);
	if (what) {
		if (!x->first_bad[0])
			snprintf(x->first_bad, sizeof(x->first_bad), "findings[%zu]%s: %s", index, field, what);
		return KP_OK;
	}
	if (x->first_bad[0])
		return KP_OK; /* the file is refused anyway */
	json_object *c = json_object_new_object();
	static const char *const keys[] = {"id", "category", "resource", "container", "monthly_savings", "first_seen"};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		json_object *v = NULL;
		if (json_object_object_get_ex(f, keys[k], &v))
			json_object_object_add(c, keys[k], copy_of(v));
	}
	json_object_array_add(x->kept, c);
	return KP_OK;
}

kp_status kp_history_load(const char *prev_run, json_object **out, kp_error *err)
{
	*out = NULL;
	if (!is_dir(prev_run))
		return kp_fail(err, KP_ERR_USAGE, "%s: previous run directory does not exist", prev_run);
	char *path = kp_path_join(prev_run, "findings.json");
	if (!kp_file_exists(path)) {
		kp_fail(err, KP_ERR_USAGE, "%s: no such file (not a kopilot run directory?)", path);
		free(path);
		return KP_ERR_USAGE;
	}
	json_object *doc = NULL;
	prev_ctx x = {.kept = json_object_new_array()};
	kp_status s = kp_json_stream_array(path, "findings", prev_item, &x, &doc, err);
	if (!s) {
		const char *schema = kp_json_str(doc, "schema");
		if (!schema || strcmp(schema, KP_FINDINGS_SCHEMA) != 0)
			s = kp_fail(err, KP_ERR_INPUT, "%s: schema: expected \"%s\"", path, KP_FINDINGS_SCHEMA);
		else if (!is_time(kp_json_get(doc, "generated_at")))
			s = kp_fail(err, KP_ERR_INPUT, "%s: generated_at: missing or not an RFC 3339 time", path);
		else if (!json_object_is_type(kp_json_get(doc, "findings"), json_type_array))
			s = kp_fail(err, KP_ERR_INPUT, "%s: findings: missing or not a list", path);
		else if (x.first_bad[0])
			s = kp_fail(err, KP_ERR_INPUT, "%s: %s", path, x.first_bad);
	}
	free(path);
	if (s) {
		json_object_put(doc);
		json_object_put(x.kept);
		return s;
	}
	json_object_object_add(doc, "findings", x.kept);
	*out = doc;
	return KP_OK;
}

/* ---- comparing ---- */

static double round4(double v) { return round(v * 10000.0) / 10000.0; }

/* The comparison, whatever holds the current findings: id(i) gives the
 * id of current finding i, mark(i, persisting, first_seen) records its
 * trend. Returns the "changes" object. */
typedef struct {
	size_t n;
	const char *(*id)(void *ud, size_t i);
	void (*mark)(void *ud, size_t i, bool persisting, const char *first_seen);
	void *ud;
} hist_current;

static json_object *history_changes(const hist_current *cur, json_object *scope_obj, const char *now,
				    json_object *prev, const char *prev_run)
{
	json_object *scope = kp_json_get(scope_obj, "namespaces");
	/* --shard I/N: the other shards' namespaces were not looked at either */
	json_object *shard = kp_json_get(scope_obj, "shard");
	unsigned shard_index = (unsigned)json_object_get_int64(kp_json_get(shard, "index"));
	unsigned shard_count = shard ? (unsigned)json_object_get_int64(kp_json_get(shard, "count")) : 0;
	json_object *changes = json_object_new_object();
	if (!prev) {
		/* No trend on findings: "new" would claim something we do not know. */
		json_object_object_add(changes, "previous_run", NULL);
		return changes;
	}
	json_object *old = kp_json_get(prev, "findings");
	size_t nold = json_object_is_type(old, json_type_array) ? json_object_array_length(old) : 0;
	const char *then = kp_json_str(prev, "generated_at");

	/* id -> previous finding; the first wins if an id repeats. */
	json_object *index = json_object_new_object();
	for (size_t i = 0; i < nold; i++) {
		json_object *f = json_object_array_get_idx(old, i);
		const char *id = kp_json_str(f, "id");
		if (id && !json_object_object_get_ex(index, id, NULL))
			json_object_object_add(index, id, json_object_get(f));
	}
	json_object *seen = json_object_new_object(); /* current ids, to find what was resolved */
	int64_t n_new = 0, n_persist = 0;
	for (size_t i = 0; i < cur->n; i++) {
		json_object *p = NULL;
		const char *id = cur->id(cur->ud, i);
		if (!id)
			continue;
		json_object_object_add(seen, id, NULL);
		const char *first = now;
		if (json_object_object_get_ex(index, id, &p)) {
			const char *pf = kp_json_str(p, "first_seen");
			first = pf ? pf : then; /* a finding older than history: first seen in the previous run */
			n_persist++;
			cur->mark(cur->ud, i, true, first);
		} else {
			n_new++;
			cur->mark(cur->ud, i, false, first);
		}
	}
	/* A run scoped to some namespaces did not look at the rest: what the
	 * previous run found there is not resolved, only out of sight. */
	size_t nscope = json_object_is_type(scope, json_type_array) ? json_object_array_length(scope) : 0;
	json_object *resolved = json_object_new_array();
	double resolved_savings = 0;
	for (size_t i = 0; i < nold; i++) {
		json_object *f = json_object_array_get_idx(old, i), *first = NULL;
		const char *id = kp_json_str(f, "id");
		if (!id || json_object_object_get_ex(seen, id, NULL))
			continue;
		if (nscope) {
			const char *ns = kp_json_str(f, "resource.namespace");
			bool in = false;
			for (size_t k = 0; k < nscope && ns && !in; k++)
				in = strcmp(ns, json_object_get_string(json_object_array_get_idx(scope, k))) == 0;
			if (!in)
				continue;
		}
		if (shard_count && kp_shard_of(kp_json_str(f, "resource.namespace"), shard_count) != shard_index)
			continue;
		/* a repeated id in the previous run is resolved once */
		if (!json_object_object_get_ex(index, id, &first) || first != f)
			continue;
		json_object *r = json_object_new_object();
		json_object_object_add(r, "id", json_object_new_string(id));
		json_object_object_add(r, "category", copy_of(kp_json_get(f, "category")));
		json_object_object_add(r, "resource", copy_of(kp_json_get(f, "resource")));
		json_object_object_add(r, "container", copy_of(kp_json_get(f, "container")));
		json_object_object_add(r, "monthly_savings", copy_of(kp_json_get(f, "monthly_savings")));
		json_object_array_add(resolved, r);
		resolved_savings += json_object_get_double(kp_json_get(f, "monthly_savings"));
	}
	json_object_object_add(changes, "previous_run", json_object_new_string(prev_run ? prev_run : ""));
	json_object_object_add(changes, "previous_generated_at", then ? json_object_new_string(then) : NULL);
	json_object_object_add(changes, "new", json_object_new_int64(n_new));
	json_object_object_add(changes, "persisting", json_object_new_int64(n_persist));
	json_object_object_add(changes, "resolved", json_object_new_int64((int64_t)json_object_array_length(resolved)));
	json_object_object_add(changes, "resolved_monthly_savings", kp_json_new_number(round4(resolved_savings)));
	json_object_object_add(changes, "resolved_findings", resolved);
	json_object_put(index);
	json_object_put(seen);
	return changes;
}

/* the findings of a findings document */
static const char *doc_id(void *ud, size_t i)
{
	return kp_json_str(json_object_array_get_idx((json_object *)ud, i), "id");
}

static void doc_mark(void *ud, size_t i, bool persisting, const char *first)
{
	json_object *f = json_object_array_get_idx((json_object *)ud, i);
	json_object_object_add(f, "trend", json_object_new_string(persisting ? "persisting" : "new"));
	json_object_object_add(f, "first_seen", first ? json_object_new_string(first) : NULL);
}

void kp_history_apply(json_object *doc, json_object *prev, const char *prev_run)
{
	json_object *cur = kp_json_get(doc, "findings");
	hist_current c = {json_object_is_type(cur, json_type_array) ? json_object_array_length(cur) : 0, doc_id, doc_mark,
			  cur};
	json_object_object_add(doc, "changes", history_changes(&c, kp_json_get(doc, "scope"),
							       kp_json_str(doc, "generated_at"), prev, prev_run));
}

/* the findings as the recommend stage holds them */
static const char *struct_id(void *ud, size_t i) { return ((kp_findings *)ud)->items.items[i].id; }

static void struct_mark(void *ud, size_t i, bool persisting, const char *first)
{
	kp_finding *f = &((kp_findings *)ud)->items.items[i];
	free(f->trend);
	free(f->first_seen);
	f->trend = kp_xstrdup(persisting ? "persisting" : "new");
	f->first_seen = first ? kp_xstrdup(first) : NULL;
}

void kp_history_apply_findings(json_object *doc, kp_findings *f, json_object *prev, const char *prev_run)
{
	hist_current c = {f->items.len, struct_id, struct_mark, f};
	json_object_object_add(doc, "changes", history_changes(&c, kp_json_get(doc, "scope"),
							       kp_json_str(doc, "generated_at"), prev, prev_run));
}
