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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/fault.h"
#include "pipeline/findings_json.h"
#include "pipeline/config.h"
#include "pipeline/money.h"
#include "pipeline/rundir.h"
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
	/* After the largest suffix in use for this second, not the first free
	 * one: when pruning removed NAME while NAME-2 .. NAME-5 stay, a new
	 * NAME would sort before them and be taken for the oldest run. */
	int first = 2;
	DIR *d = opendir(state_dir);
	if (d) {
		struct dirent *e;
		size_t nl = strlen(name);
		while ((e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, name, nl) != 0)
				continue;
			const char *rest = e->d_name + nl;
			long v = 1;
			if (*rest == '-') {
				char *end;
				v = strtol(rest + 1, &end, 10);
				if (*end || v < 2)
					continue;
			} else if (*rest) {
				continue;
			}
			if (v >= first && v < 10000)
				first = (int)v + 1;
		}
		closedir(d);
	}
	char *path = kp_path_join(state_dir, name);
	if (first > 2) {
		free(path);
		char *n = kp_xasprintf("%s-%d", name, first);
		path = kp_path_join(state_dir, n);
		free(n);
	}
	/* bounded: a directory that cannot be searched "has" every name */
	for (int i = first; kp_file_exists(path) && i < 10000; i++) {
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

/* ---- the last runs: summaries, the trend, pruning ---- */

static json_object *new_string_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_object *new_string_fmt(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *t = kp_xvasprintf(fmt, ap);
	va_end(ap);
	json_object *o = json_object_new_string(t);
	free(t);
	return o;
}

#define KP_SUMMARY_SCHEMA "kopilot.summary/v1"
#define KP_HISTORY_SCHEMA "kopilot.history/v1"

/* A sorted copy of a configured list, so reordering a YAML list does not
 * make two runs of the same scope incomparable. */
static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static json_object *sorted_list(const kp_strlist *l)
{
	json_object *arr = json_object_new_array();
	if (!l || !l->len)
		return arr;
	char **v = kp_xmalloc(l->len * sizeof(*v));
	memcpy(v, l->items, l->len * sizeof(*v));
	qsort(v, l->len, sizeof(*v), cmp_cstr);
	for (size_t i = 0; i < l->len; i++)
		json_object_array_add(arr, json_object_new_string(v[i]));
	free(v);
	return arr;
}

void kp_summary_acc_add(kp_summary_acc *a, kp_category c, double monthly_savings, bool blocked)
{
	double v = kp_money_round(monthly_savings);
	a->findings++;
	a->count[c]++;
	if (blocked) {
		a->blocked += v;
		return;
	}
	a->net[c] += v;
	a->total += v;
}

json_object *kp_history_summary_of(json_object *doc, const kp_summary_acc *a, const kp_config *cfg)
{
	json_object *s = json_object_new_object();
	json_object_object_add(s, "schema", json_object_new_string(KP_SUMMARY_SCHEMA));
	const char *at = kp_json_str(doc, "generated_at"), *cluster = kp_json_str(doc, "cluster.name"),
		   *cur = kp_json_str(doc, "prices.currency"), *sel = kp_json_str(doc, "scope.selector");
	json_object_object_add(s, "generated_at", at ? json_object_new_string(at) : NULL);
	json_object_object_add(s, "cluster", json_object_new_string(cluster ? cluster : ""));
	json_object_object_add(s, "currency", json_object_new_string(cur ? cur : "USD"));
	/* everything that decides which findings a run can see, in one fixed
	 * order: two runs compare when these serialise alike */
	json_object *scope = json_object_new_object();
	json_object_object_add(scope, "namespaces", copy_of(kp_json_get(doc, "scope.namespaces")));
	json_object_object_add(scope, "selector", sel ? json_object_new_string(sel) : NULL);
	json_object_object_add(scope, "include_namespaces", sorted_list(cfg ? &cfg->scope.include_namespaces : NULL));
	json_object_object_add(scope, "exclude_namespaces", sorted_list(cfg ? &cfg->scope.exclude_namespaces : NULL));
	json_object_object_add(scope, "exclude_kinds", sorted_list(cfg ? &cfg->scope.exclude_kinds : NULL));
	/* one shard's night is not the cluster's (a merged night is: merge
	 * takes the shard out of its scope); absent otherwise, so whole-cluster
	 * summaries read as they always did */
	if (kp_json_get(doc, "scope.shard"))
		json_object_object_add(scope, "shard", copy_of(kp_json_get(doc, "scope.shard")));
	json_object_object_add(s, "scope", scope);
	/* the figures every report headlines: the net the plan can act on
	 * (blocked savings apart), and per category the same net, so the
	 * categories add up to the total */
	json_object_object_add(s, "findings", json_object_new_int64(a->findings));
	json_object_object_add(s, "monthly_savings", kp_json_new_number(kp_money_round(a->total)));
	json_object_object_add(s, "blocked_monthly_savings", kp_json_new_number(kp_money_round(a->blocked)));
	json_object *cats = json_object_new_object();
	for (int c = 0; c < KP_CAT_COUNT; c++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "findings", json_object_new_int64(a->count[c]));
		json_object_object_add(o, "monthly_savings", kp_json_new_number(kp_money_round(a->net[c])));
		json_object_object_add(cats, kp_category_name((kp_category)c), o);
	}
	json_object_object_add(s, "categories", cats);
	return s;
}

json_object *kp_history_summary(json_object *doc, const kp_findings *f, const kp_config *cfg)
{
	kp_summary_acc a = {0};
	for (size_t i = 0; i < f->items.len; i++) {
		const kp_finding *x = &f->items.items[i];
		kp_summary_acc_add(&a, x->category, x->monthly_savings, x->action.blocked);
	}
	return kp_history_summary_of(doc, &a, cfg);
}

/* One kept run of a state directory. */
typedef struct {
	char *name, *path;
	bool has_t;
	int64_t t; /* run.json finished_at */
} kept_run;

static int kept_cmp(const void *a, const void *b)
{
	const kept_run *x = a, *y = b;
	if (x->has_t != y->has_t)
		return x->has_t ? 1 : -1; /* without a time: oldest */
	if (x->has_t && x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A complete `kopilot run` directory: see history.h. */
static bool is_kept_run(const char *path, int64_t *t, bool *has_t)
{
	struct stat st;
	if (KP_FAULT_IO(lstat(path, &st)) != 0 || !S_ISDIR(st.st_mode))
		return false; /* a symbolic link points at someone else's directory */
	char *fj = kp_path_join(path, "findings.json"), *rj = kp_path_join(path, "run.json");
	json_object *r = NULL;
	kp_error e;
	bool ok = kp_file_exists(fj) && kp_file_exists(rj) && kp_json_read_file(rj, &r, &e) == KP_OK &&
		  kp_json_str(r, "schema") && !strcmp(kp_json_str(r, "schema"), "kopilot.run/v1") &&
		  kp_json_str(r, "command") &&
		  (!strcmp(kp_json_str(r, "command"), "run") || !strcmp(kp_json_str(r, "command"), "merge"));
	*has_t = ok && kp_json_str(r, "finished_at") && kp_time_parse(kp_json_str(r, "finished_at"), t);
	json_object_put(r);
	free(fj), free(rj);
	return ok;
}

static void kept_free(kept_run *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name), free(v[i].path);
	free(v);
}

/* The kept runs of state_dir but exclude, oldest first. A state_dir that
 * does not exist has none. */
static kp_status list_kept(const char *state_dir, const char *exclude, kept_run **out, size_t *n, kp_error *err)
{
	*out = NULL;
	*n = 0;
	DIR *d = KP_FAULT_IO_PTR(opendir(state_dir));
	if (!d) {
		if (errno == ENOENT)
			return KP_OK;
		return kp_fail(err, KP_ERR_IO, "%s: cannot read the directory: %s", state_dir, strerror(errno));
	}
	size_t cap = 0;
	kept_run *v = NULL;
	int read_errno = 0;
	for (;;) {
		errno = 0;
		struct dirent *e = KP_FAULT_IO_PTR(readdir(d));
		if (!e) {
			read_errno = errno;
			break;
		}
		if (e->d_name[0] == '.') /* ., .., locks, staging and pruned directories */
			continue;
		char *path = kp_path_join(state_dir, e->d_name);
		kept_run k = {NULL, path, false, 0};
		if (!is_kept_run(path, &k.t, &k.has_t) || (exclude && same_path(path, exclude))) {
			free(path);
			continue;
		}
		k.name = kp_xstrdup(e->d_name);
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			v = kp_xrealloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = k;
	}
	closedir(d);
	if (read_errno) {
		kept_free(v, *n);
		*n = 0;
		return kp_fail(err, KP_ERR_IO, "%s: cannot read the directory: %s", state_dir, strerror(read_errno));
	}
	if (*n)
		qsort(v, *n, sizeof(*v), kept_cmp);
	*out = v;
	return KP_OK;
}

/* What the trend needs of a summary, checked; NULL (and why) when it is
 * not one. */
static const char *check_summary(json_object *s)
{
	if (!json_object_is_type(s, json_type_object))
		return "not a JSON object";
	const char *schema = kp_json_str(s, "schema");
	if (!schema || strcmp(schema, KP_SUMMARY_SCHEMA) != 0)
		return "schema: expected \"" KP_SUMMARY_SCHEMA "\"";
	if (!is_time(kp_json_get(s, "generated_at")))
		return "generated_at: missing or not an RFC 3339 time";
	if (!json_object_is_type(kp_json_get(s, "findings"), json_type_int) ||
	    json_object_get_int64(kp_json_get(s, "findings")) < 0)
		return "findings: missing or not a count";
	double v = json_object_get_double(kp_json_get(s, "monthly_savings"));
	if (!is_num(kp_json_get(s, "monthly_savings")) || !isfinite(v))
		return "monthly_savings: missing or not a number";
	if (!kp_json_str(s, "cluster") || !kp_json_str(s, "currency"))
		return "cluster, currency: missing or not strings";
	if (!json_object_is_type(kp_json_get(s, "scope"), json_type_object))
		return "scope: missing or not an object";
	json_object *cats = kp_json_get(s, "categories");
	if (!json_object_is_type(cats, json_type_object))
		return "categories: missing or not an object";
	json_object_object_foreach(cats, k, c)
	{
		(void)k;
		json_object *m = kp_json_get(c, "monthly_savings");
		if (!is_num(m) || !isfinite(json_object_get_double(m)))
			return "categories: a category without a numeric monthly_savings";
	}
	return NULL;
}

static const char *scope_text(json_object *s)
{
	return json_object_to_json_string_ext(kp_json_get(s, "scope"), JSON_C_TO_STRING_PLAIN);
}

static bool comparable(json_object *a, json_object *b)
{
	return !strcmp(kp_json_str(a, "cluster"), kp_json_str(b, "cluster")) &&
	       !strcmp(kp_json_str(a, "currency"), kp_json_str(b, "currency")) && !strcmp(scope_text(a), scope_text(b));
}

/* A trend point: what the reports draw, from a checked summary. */
static json_object *trend_point(json_object *s, const char *name, bool current)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "run", name ? json_object_new_string(name) : NULL);
	json_object_object_add(p, "generated_at", copy_of(kp_json_get(s, "generated_at")));
	json_object_object_add(p, "findings", copy_of(kp_json_get(s, "findings")));
	json_object_object_add(p, "monthly_savings", copy_of(kp_json_get(s, "monthly_savings")));
	json_object_object_add(p, "categories", copy_of(kp_json_get(s, "categories")));
	json_object_object_add(p, "current", json_object_new_boolean(current));
	return p;
}

static int point_cmp(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	int64_t tx = 0, ty = 0;
	kp_time_parse(kp_json_str(x, "generated_at"), &tx);
	kp_time_parse(kp_json_str(y, "generated_at"), &ty);
	if (tx != ty)
		return tx < ty ? -1 : 1;
	/* the same date twice: the current run last, then by name */
	bool cx = json_object_get_boolean(kp_json_get(x, "current")), cy = json_object_get_boolean(kp_json_get(y, "current"));
	if (cx != cy)
		return cx ? 1 : -1;
	const char *nx = kp_json_str(x, "run"), *ny = kp_json_str(y, "run");
	return strcmp(nx ? nx : "", ny ? ny : "");
}

kp_status kp_history_trend(const char *state_dir, const char *exclude, int keep_runs, json_object *current,
			   json_object **out, json_object *warnings, kp_error *err)
{
	*out = NULL;
	const char *why = check_summary(current);
	if (why)
		return kp_fail(err, KP_ERR_INTERNAL, "this run's summary: %s", why);
	kept_run *v = NULL;
	size_t n = 0;
	kp_status st = state_dir ? list_kept(state_dir, exclude, &v, &n, err) : KP_OK;
	if (st)
		return st;
	/* only the runs pruning will keep beside this one (kp_history_prune
	 * orders them alike), so the trend is what the state directory holds */
	size_t first = keep_runs > 0 && n > (size_t)keep_runs - 1 ? n - ((size_t)keep_runs - 1) : 0;
	json_object *runs = json_object_new_array();
	int64_t other_scope = 0, unreadable = 0, no_summary = 0;
	const char *first_missing = NULL, *last_missing = NULL;
	for (size_t i = first; i < n; i++) {
		char *sp = kp_path_join(v[i].path, "summary.json");
		json_object *s = NULL;
		kp_error e = {0};
		if (!kp_file_exists(sp)) {
			/* one warning for all of them below: after an upgrade every
			 * older run lacks one, and 29 lines a night would bury the rest */
			unreadable++;
			if (!no_summary++)
				first_missing = v[i].path;
			last_missing = v[i].path;
		} else if (kp_json_read_file(sp, &s, &e) != KP_OK || (why = check_summary(s)) != NULL) {
			unreadable++;
			json_object_array_add(warnings, new_string_fmt("%s: %s: left off the trend", sp,
										    s ? why : e.msg));
		} else if (!comparable(s, current)) {
			other_scope++;
		} else {
			json_object_array_add(runs, trend_point(s, v[i].name, false));
		}
		json_object_put(s);
		free(sp);
	}
	if (no_summary == 1)
		json_object_array_add(warnings, new_string_fmt("%s: no summary.json (a run from before kopilot kept "
							       "summaries, or damaged): left off the trend",
							       first_missing));
	else if (no_summary > 1)
		json_object_array_add(warnings,
				      new_string_fmt("%" PRId64 " runs without summary.json (runs from before kopilot kept "
						     "summaries, or damaged; %s ... %s): left off the trend",
						     no_summary, first_missing, last_missing));
	kept_free(v, n);
	const char *slash = exclude ? strrchr(exclude, '/') : NULL;
	json_object_array_add(runs, trend_point(current, exclude ? (slash ? slash + 1 : exclude) : NULL, true));
	json_object_array_sort(runs, point_cmp);
	json_object *h = json_object_new_object();
	json_object_object_add(h, "schema", json_object_new_string(KP_HISTORY_SCHEMA));
	json_object_object_add(h, "cluster", copy_of(kp_json_get(current, "cluster")));
	json_object_object_add(h, "currency", copy_of(kp_json_get(current, "currency")));
	json_object_object_add(h, "scope", copy_of(kp_json_get(current, "scope")));
	json_object_object_add(h, "runs", runs);
	json_object *left = json_object_new_object();
	json_object_object_add(left, "other_scope", json_object_new_int64(other_scope));
	json_object_object_add(left, "unreadable", json_object_new_int64(unreadable));
	json_object_object_add(h, "left_out", left);
	*out = h;
	return KP_OK;
}

kp_status kp_history_check(json_object *h, const char *path, kp_error *err)
{
	const char *schema = kp_json_str(h, "schema");
	if (!schema || strcmp(schema, KP_HISTORY_SCHEMA) != 0)
		return kp_fail(err, KP_ERR_INPUT, "%s: schema: expected \"%s\"", path, KP_HISTORY_SCHEMA);
	if (!kp_json_str(h, "currency"))
		return kp_fail(err, KP_ERR_INPUT, "%s: currency: missing or not a string", path);
	json_object *runs = kp_json_get(h, "runs");
	if (!json_object_is_type(runs, json_type_array) || json_object_array_length(runs) == 0)
		return kp_fail(err, KP_ERR_INPUT, "%s: runs: missing, empty or not a list", path);
	for (size_t i = 0; i < json_object_array_length(runs); i++) {
		json_object *p = json_object_array_get_idx(runs, i);
		const char *field = NULL;
		if (!is_time(kp_json_get(p, "generated_at")))
			field = "generated_at";
		else if (!json_object_is_type(kp_json_get(p, "findings"), json_type_int))
			field = "findings";
		else if (!is_num(kp_json_get(p, "monthly_savings")) ||
			 !isfinite(json_object_get_double(kp_json_get(p, "monthly_savings"))))
			field = "monthly_savings";
		else if (!json_object_is_type(kp_json_get(p, "categories"), json_type_object))
			field = "categories";
		if (field)
			return kp_fail(err, KP_ERR_INPUT, "%s: runs[%zu].%s: missing or of the wrong type", path, i, field);
	}
	return KP_OK;
}

kp_status kp_history_prune(const char *state_dir, int keep_runs, const char *keep, json_object *removed,
			   json_object *skipped, kp_error *err)
{
	if (keep_runs <= 0)
		return KP_OK; /* 0: keep every run */
	kept_run *v = NULL;
	size_t n = 0;
	kp_status st = list_kept(state_dir, keep, &v, &n, err);
	if (st)
		return st;
	/* the run just written is one of the keep_runs (when it is in
	 * state_dir: list_kept left it out) */
	bool keep_inside = false;
	if (keep) {
		char *parent = kp_xstrdup(keep), *slash = strrchr(parent, '/');
		if (slash && slash != parent)
			*slash = '\0';
		else if (slash)
			parent[1] = '\0';
		else
			strcpy(parent, ".");
		keep_inside = same_path(parent, state_dir);
		free(parent);
	}
	size_t room = keep_inside ? (size_t)keep_runs - 1 : (size_t)keep_runs;
	size_t excess = n > room ? n - room : 0;
	for (size_t i = 0; i < excess; i++) {
		/* a `kopilot render` or `recommend` may hold this run's own
		 * lock (not the state directory's): leave it for the next run */
		char *lockname = kp_xasprintf(".%s.lock", v[i].name), *lockpath = kp_path_join(state_dir, lockname);
		kp_lock lock = {0};
		kp_error le = {0};
		if (kp_lock_acquire(&lock, lockpath, v[i].path, "run", NULL, &le) != KP_OK) {
			json_object_array_add(skipped, new_string_fmt("%s: not removed: %s", v[i].path, le.msg));
			kp_lock_release(&lock);
			free(lockname), free(lockpath);
			continue;
		}
		char *hidden = kp_xasprintf(".%s.pruned.%ld", v[i].name, (long)getpid()),
		     *hidden_path = kp_path_join(state_dir, hidden);
		if (KP_FAULT_IO(rename(v[i].path, hidden_path)) != 0) {
			json_object_array_add(skipped, new_string_fmt("%s: not removed: %s", v[i].path,
										   strerror(errno)));
		} else {
			kp_remove_tree(hidden_path);
			if (kp_file_exists(hidden_path))
				json_object_array_add(skipped, new_string_fmt(
								       "%s: moved aside to %s but not fully deleted",
								       v[i].path, hidden_path));
			json_object_array_add(removed, json_object_new_string(v[i].path));
		}
		kp_lock_release(&lock); /* removes .NAME.lock too */
		free(hidden), free(hidden_path), free(lockname), free(lockpath);
	}
	kept_free(v, n);
	return KP_OK;
}
