/*
 * merge.c - `kopilot merge`: the shard runs of one sharded run (`kopilot
 * run --shard I/N`) joined into the findings.json and plan.json the
 * unsharded run would have written.
 *
 * Why it can be exact: every shard ran the rules over the whole snapshot
 * and kept its part of their output (stages/analyze/scope.c,
 * kp_scope_shard), so the union of the shards' findings is the unsharded
 * run's findings, priced the same way (the same configuration, checked
 * here). The order is rebuilt, not trusted: findings by the contract's
 * sort (savings descending, then id), skipped and "not collected" entries
 * by the positions each shard recorded in its analysis.json
 * ("shard_merge"). Totals are the sums of the shards' totals: each is a
 * sum of amounts already rounded to 1/10000, so the sums agree to the
 * last digit whatever the grouping. History ("changes", trend,
 * first_seen) is applied to the merged result, against the previous
 * merged run, never taken from a shard.
 *
 * A shard that is missing, given twice, from another sharded run (another
 * N, cluster, time, configuration, version or scope) is refused
 * (KP_ERR_USAGE naming the runs and what differs): a merged report must
 * not claim a completeness it lacks. A shard that is degraded (something
 * not collected) is merged; its gaps go into the merged "missing", so the
 * merged run is degraded as the unsharded one would be.
 *
 * Memory: the shards' findings are streamed from their findings.json and
 * held as compact JSON text with their sort key while they are ordered,
 * then written one at a time (pipeline/jsonw.h), as recommend writes
 * them; the reports are rendered afterwards by the render stage, streamed
 * as always.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/findings_json.h"
#include "pipeline/jsonw.h"
#include "pipeline/listscan.h"
#include "pipeline/money.h"
#include "pipeline/plan.h"
#include "stages/recommend/history.h"
#include "stages/recommend/recommend.h"

typedef struct {
	const char *dir;
	json_object *run;      /* run.json */
	json_object *findings; /* findings.json, whole */
	json_object *analysis; /* analysis.json without its findings */
	unsigned index, count;
} shard_in;

static void shard_release(shard_in *s)
{
	json_object_put(s->run);
	json_object_put(s->findings);
	json_object_put(s->analysis);
}

static kp_status analysis_item(void *ud, json_object *item, size_t index, kp_error *err)
{
	(void)ud, (void)item, (void)index, (void)err;
	return KP_OK;
}

/* run.json, and of findings.json and analysis.json all but the findings */
static kp_status read_shard(shard_in *s, kp_error *err)
{
	static const kp_keep k_id[] = {{"id", NULL}, {NULL, NULL}};
	char *rp = kp_path_join(s->dir, "run.json"), *fp = kp_path_join(s->dir, "findings.json"),
	     *ap = kp_path_join(s->dir, "analysis.json");
	kp_status st = KP_OK;
	if (!kp_file_exists(rp) || !kp_file_exists(fp) || !kp_file_exists(ap))
		st = kp_fail(err, KP_ERR_USAGE, "%s is not a complete run directory (run.json, analysis.json and "
						"findings.json are written by `kopilot run --shard I/N`)", s->dir);
	if (!st)
		st = kp_json_read_file(rp, &s->run, err);
	/* the header, skipped and missing; the findings are streamed later */
	if (!st)
		st = kp_listscan_file(fp, "findings", "a findings document (kopilot.findings/v1)", k_id, analysis_item, NULL,
				      &s->findings, err);
	if (!st)
		st = kp_listscan_file(ap, "findings", "an analysis document (kopilot.analysis/v1)", k_id, analysis_item, NULL,
				      &s->analysis, err);
	if (!st) {
		json_object *shard = kp_json_get(s->findings, "scope.shard");
		json_object *pos = kp_json_get(s->analysis, "shard_merge");
		if (!shard || !pos)
			st = kp_fail(err, KP_ERR_USAGE, "%s is not a shard of a sharded run (its findings.json has no "
							"scope.shard: it ran without --shard I/N)", s->dir);
		else {
			s->index = (unsigned)json_object_get_int64(kp_json_get(shard, "index"));
			s->count = (unsigned)json_object_get_int64(kp_json_get(shard, "count"));
		}
	}
	free(rp), free(fp), free(ap);
	return st;
}

/* The shard's scope without "shard": what the shards must agree on and the
 * merged run records. Caller puts. */
static json_object *scope_without_shard(json_object *findings)
{
	json_object *copy = NULL;
	json_object_deep_copy(kp_json_get(findings, "scope"), &copy, NULL);
	if (json_object_is_type(copy, json_type_object))
		json_object_object_del(copy, "shard");
	return copy;
}

static const char *text_of(json_object *v) { return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null"; }

/* The first key of two flat objects (run.json "config") whose values
 * differ, or NULL. */
static const char *first_difference(json_object *a, json_object *b)
{
	json_object_object_foreach(a, key, va)
	{
		json_object *vb = NULL;
		if (!json_object_object_get_ex(b, key, &vb) || !json_object_equal(va, vb))
			return key;
	}
	json_object_object_foreach(b, key2, vb2)
	{
		(void)vb2;
		if (!json_object_object_get_ex(a, key2, NULL))
			return key2;
	}
	return NULL;
}

/* Whether shard b belongs to the same sharded run as a. */
static kp_status same_run(const shard_in *a, const shard_in *b, kp_error *err)
{
	static const struct {
		const char *doc, *path, *what;
	} same[] = {
		{"run", "version", "kopilot version"},
		{"run", "now", "analysis time (run.json now: give every shard the same --now)"},
		{"findings", "cluster", "cluster"},
		{"findings", "window", "usage window"},
		{"findings", "prices", "prices"},
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		json_object *da = strcmp(same[i].doc, "run") ? a->findings : a->run;
		json_object *db = strcmp(same[i].doc, "run") ? b->findings : b->run;
		json_object *va = kp_json_get(da, same[i].path), *vb = kp_json_get(db, same[i].path);
		if (!json_object_equal(va, vb))
			return kp_fail(err, KP_ERR_USAGE, "%s and %s are not shards of the same run: their %s differs "
							  "(%.200s against %.200s)",
				       a->dir, b->dir, same[i].what, text_of(va), text_of(vb));
	}
	const char *key = first_difference(kp_json_get(a->run, "config"), kp_json_get(b->run, "config"));
	if (key) {
		json_object *va = NULL, *vb = NULL;
		json_object_object_get_ex(kp_json_get(a->run, "config"), key, &va);
		json_object_object_get_ex(kp_json_get(b->run, "config"), key, &vb);
		return kp_fail(err, KP_ERR_USAGE, "%s and %s are not shards of the same run: their configuration differs "
						  "in %s (%.200s against %.200s)",
			       a->dir, b->dir, key, text_of(va), text_of(vb));
	}
	json_object *sa = scope_without_shard(a->findings), *sb = scope_without_shard(b->findings);
	bool eq = json_object_equal(sa, sb);
	kp_status st = eq ? KP_OK
			  : kp_fail(err, KP_ERR_USAGE, "%s and %s are not shards of the same run: their scope differs "
							  "(%.200s against %.200s)",
				    a->dir, b->dir, text_of(sa), text_of(sb));
	json_object_put(sa);
	json_object_put(sb);
	if (!st && b->count != a->count)
		st = kp_fail(err, KP_ERR_USAGE, "%s and %s are not shards of the same run: one is shard %u of %u, the "
						"other of %u",
			     a->dir, b->dir, a->index, a->count, b->count);
	return st;
}

/* One finding of a shard, kept as its compact JSON text (a json-c tree
 * costs ten times as much: 32,000 findings held as trees took 725 MB) with
 * what orders it and places it in the plan. */
typedef struct {
	double key;  /* monthly_savings at 1/10000 */
	char *id;
	char *text;  /* the finding, compact, without a shard's trend/first_seen */
	double savings;
	bool blocked, destructive, approval_required;
	kp_category category; /* for summary.json */
} held;

typedef struct {
	held *v;
	size_t n, cap;
	bool strip_history;
} held_list;

static kp_status hold_finding(void *ud, json_object *item, size_t index)
{
	(void)index;
	held_list *l = ud;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = kp_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	if (l->strip_history) { /* a shard's own history is not the merged run's */
		json_object_object_del(item, "trend");
		json_object_object_del(item, "first_seen");
	}
	held *h = &l->v[l->n++];
	memset(h, 0, sizeof(*h));
	h->savings = json_object_get_double(kp_json_get(item, "monthly_savings"));
	h->key = round(h->savings * 10000.0);
	const char *id = kp_json_str(item, "id");
	h->id = kp_xstrdup(id ? id : "");
	kp_category_parse(kp_json_str(item, "category") ? kp_json_str(item, "category") : "", &h->category);
	h->blocked = json_object_get_boolean(kp_json_get(item, "action.blocked"));
	h->destructive = json_object_get_boolean(kp_json_get(item, "action.destructive"));
	h->approval_required = json_object_get_boolean(kp_json_get(item, "action.approval_required"));
	h->text = kp_xstrdup(json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN));
	return KP_OK;
}

static void held_release(held_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].id), free(l->v[i].text);
	free(l->v);
}

/* The contract's order (recommend.c, kp_findings_sort): savings at 1/10000
 * descending, then id. */
static int cmp_held(const void *pa, const void *pb)
{
	const held *a = pa, *b = pb;
	if (a->key != b->key)
		return a->key > b->key ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* What the writers of findings.json and plan.json ask for: finding i,
 * whole, with the merged run's trend and first_seen (from marks, the
 * findings' ids as kp_history_apply marked them). */
typedef struct {
	const held_list *l;
	json_object *marks;
} merged_items;

static json_object *merged_item(const merged_items *m, size_t i)
{
	json_object *f = json_tokener_parse(m->l->v[i].text);
	if (!f)
		return NULL;
	json_object *mark = json_object_array_get_idx(m->marks, i), *v = NULL;
	if (json_object_object_get_ex(mark, "trend", &v))
		json_object_object_add(f, "trend", json_object_get(v));
	if (json_object_object_get_ex(mark, "first_seen", &v))
		json_object_object_add(f, "first_seen", json_object_get(v));
	return f;
}

static kp_status gen_finding(void *ud, size_t i, json_object **item, kp_error *err)
{
	*item = merged_item(ud, i);
	return *item ? KP_OK : kp_fail(err, KP_ERR_INTERNAL, "merge: finding %zu does not parse back", i);
}

static json_object *plan_full(void *ud, size_t i) { return merged_item(ud, i); }

typedef struct {
	int64_t pos;
	json_object *entry; /* borrowed from a shard's findings.json */
} placed;

static int cmp_placed(const void *a, const void *b)
{
	int64_t x = ((const placed *)a)->pos, y = ((const placed *)b)->pos;
	return x < y ? -1 : x > y;
}

/* Joins list (findings.json "skipped" or "missing") of every shard into one
 * array in the unsharded order, from the positions in analysis.json. An
 * entry at the same position in several shards (a cluster-wide gap) is
 * taken once. "missing" entries past the recorded ones (recommend adds
 * one when LLM explanations failed) follow, once per distinct summary. */
static kp_status join_lists(shard_in *sh, size_t n, const char *list, json_object **out, kp_error *err)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *l = kp_json_get(sh[i].findings, list);
		total += json_object_is_type(l, json_type_array) ? json_object_array_length(l) : 0;
	}
	placed *v = kp_xcalloc(total + 1, sizeof(*v));
	size_t nv = 0;
	json_object *extra = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *l = kp_json_get(sh[i].findings, list);
		json_object *pos = json_object_object_get(json_object_object_get(sh[i].analysis, "shard_merge"), list);
		size_t nl = json_object_is_type(l, json_type_array) ? json_object_array_length(l) : 0;
		size_t np = json_object_is_type(pos, json_type_array) ? json_object_array_length(pos) : 0;
		if (np > nl || (np < nl && strcmp(list, "missing") != 0)) {
			free(v);
			json_object_put(extra);
			return kp_fail(err, KP_ERR_INPUT, "%s: analysis.json records %zu %s entries, findings.json has %zu: "
							  "the run directory was changed after the run",
				       sh[i].dir, np, list, nl);
		}
		for (size_t k = 0; k < nl; k++) {
			json_object *e = json_object_array_get_idx(l, k);
			if (k < np) {
				v[nv].pos = json_object_get_int64(json_object_array_get_idx(pos, k));
				v[nv++].entry = e;
				continue;
			}
			bool seen = false;
			for (size_t x = 0; x < json_object_array_length(extra) && !seen; x++)
				seen = json_object_equal(json_object_array_get_idx(extra, x), e);
			if (!seen)
				json_object_array_add(extra, json_object_get(e));
		}
	}
	if (nv > 1)
		qsort(v, nv, sizeof(*v), cmp_placed);
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < nv; i++)
		if (i == 0 || v[i].pos != v[i - 1].pos)
			json_object_array_add(arr, json_object_get(v[i].entry));
	for (size_t i = 0; i < json_object_array_length(extra); i++)
		json_object_array_add(arr, json_object_get(json_object_array_get_idx(extra, i)));
	json_object_put(extra);
	free(v);
	*out = arr;
	return KP_OK;
}

static json_object *copy_of(json_object *v)
{
	return v ? json_object_get(v) : NULL;
}

/* findings.json's header of the merged run, in the key order recommend
 * writes ("findings" null in its place), the findings in l sorted, and the
 * history marks of each (an array of {id[, trend, first_seen]}). */
static kp_status merged_doc(kp_run *run, shard_in *sh, size_t n, held_list *l, json_object **out, json_object **marks,
			    kp_error *err)
{
	json_object *first = sh[0].findings; /* shard 0: the order was sorted by index */
	json_object *skipped = NULL, *missing = NULL;
	kp_status st = join_lists(sh, n, "skipped", &skipped, err);
	if (!st)
		st = join_lists(sh, n, "missing", &missing, err);
	static const char *const sums[] = {"monthly_cost", "monthly_savings", "actionable_monthly_savings",
					   "blocked_monthly_savings"};
	double total[4] = {0};
	l->strip_history = !run->previous_doc;
	for (size_t i = 0; i < n && !st; i++) {
		char *fp = kp_path_join(sh[i].dir, "findings.json");
		json_object *skel = NULL;
		st = kp_json_stream_array_ex(fp, "findings", "a findings document (kopilot.findings/v1)", hold_finding, l,
					     &skel, err);
		json_object_put(skel);
		free(fp);
		for (size_t t = 0; t < 4; t++)
			total[t] += json_object_get_double(kp_json_get(kp_json_get(sh[i].findings, "totals"), sums[t]));
	}
	if (st) {
		json_object_put(skipped);
		json_object_put(missing);
		return st;
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_held);

	json_object *doc = json_object_new_object();
	json_object_object_add(doc, "schema", json_object_new_string(KP_FINDINGS_SCHEMA));
	static const char *const copied[] = {"generated_at", "cluster", "window", "prices"};
	for (size_t i = 0; i < 4; i++)
		json_object_object_add(doc, copied[i], copy_of(kp_json_get(first, copied[i])));
	json_object *totals = json_object_new_object();
	json_object_object_add(totals, "findings", json_object_new_int64((int64_t)l->n));
	for (size_t t = 0; t < 4; t++)
		json_object_object_add(totals, sums[t], kp_json_new_number(kp_money_round(total[t])));
	json_object_object_add(doc, "totals", totals);
	json_object_object_add(doc, "findings", NULL); /* streamed (kp_json_write_streamed) */
	json_object_object_add(doc, "skipped", skipped);
	json_object_object_add(doc, "missing", missing);
	/* what the unsharded run left out of its scope, recorded before the cut */
	int64_t out_of_scope =
		json_object_get_int64(kp_json_get(sh[0].analysis, "shard_merge.missing_excluded_by_scope"));
	if (out_of_scope > 0)
		json_object_object_add(doc, "missing_excluded_by_scope", json_object_new_int64(out_of_scope));
	/* every shard analysed the whole snapshot: the same list in each */
	if (kp_json_get(first, "inconsistencies")) {
		json_object_object_add(doc, "inconsistencies", copy_of(kp_json_get(first, "inconsistencies")));
		json_object_object_add(doc, "inconsistencies_total", copy_of(kp_json_get(first, "inconsistencies_total")));
	}
	json_object_object_add(doc, "scope", scope_without_shard(first));
	/* history over the ids alone, in the merged order; the marks go into
	 * each finding as it is written */
	json_object *ids = json_object_new_array_ext((int)l->n);
	for (size_t i = 0; i < l->n; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(l->v[i].id));
		json_object_array_add(ids, o);
	}
	json_object_object_add(doc, "findings", ids);
	kp_history_apply(doc, run->previous_doc, run->previous_run);
	*marks = json_object_get(ids);
	json_object_object_add(doc, "findings", NULL);
	*out = doc;
	return KP_OK;
}

static int cmp_index(const void *a, const void *b)
{
	unsigned x = ((const shard_in *)a)->index, y = ((const shard_in *)b)->index;
	return x < y ? -1 : x > y;
}

/* Every index 0..count-1 exactly once (sh sorted by index). */
static kp_status complete(const shard_in *sh, size_t n, kp_error *err)
{
	for (size_t i = 1; i < n; i++)
		if (sh[i].index == sh[i - 1].index)
			return kp_fail(err, KP_ERR_USAGE, "%s and %s are the same shard (%u of %u): give each shard once",
				       sh[i - 1].dir, sh[i].dir, sh[i].index, sh[i].count);
	unsigned count = sh[0].count;
	if (n == count)
		return KP_OK;
	kp_buf miss;
	kp_buf_init(&miss);
	size_t k = 0, nmiss = 0;
	for (unsigned want = 0; want < count; want++) {
		if (k < n && sh[k].index == want) {
			k++;
			continue;
		}
		if (nmiss < 10)
			kp_buf_printf(&miss, "%s%u", nmiss ? ", " : "", want);
		nmiss++;
	}
	if (nmiss > 10)
		kp_buf_printf(&miss, " and %zu more", nmiss - 10);
	kp_status st = kp_fail(err, KP_ERR_USAGE, "the run was cut into %u shards and %zu %s given: shard%s %s %s missing "
						  "(a merged report without %s would look complete; run %s, or "
						  "merge when %s finished)",
			       count, n, n == 1 ? "is" : "are", nmiss == 1 ? "" : "s", kp_buf_cstr(&miss),
			       nmiss == 1 ? "is" : "are", nmiss == 1 ? "it" : "them", nmiss == 1 ? "it" : "them",
			       nmiss == 1 ? "it has" : "they have");
	kp_buf_release(&miss);
	return st;
}

/* Reads and checks the shards into *out (sorted by index; caller frees
 * with shards_free). */
static kp_status read_shards(const char *const *dirs, size_t n, shard_in **out, kp_error *err)
{
	*out = NULL;
	if (n == 0)
		return kp_fail(err, KP_ERR_USAGE, "no shard run given");
	shard_in *sh = kp_xcalloc(n, sizeof(*sh));
	kp_status st = KP_OK;
	for (size_t i = 0; i < n && !st; i++) {
		sh[i].dir = dirs[i];
		st = read_shard(&sh[i], err);
	}
	if (!st) {
		qsort(sh, n, sizeof(*sh), cmp_index);
		for (size_t i = 1; i < n && !st; i++)
			st = same_run(&sh[0], &sh[i], err);
	}
	if (!st)
		st = complete(sh, n, err);
	*out = sh;
	return st;
}

static void shards_free(shard_in *sh, size_t n)
{
	for (size_t i = 0; sh && i < n; i++)
		shard_release(&sh[i]);
	free(sh);
}

kp_status kp_recommend_merge_check(const char *const *dirs, size_t n, kp_error *err)
{
	shard_in *sh = NULL;
	kp_status st = read_shards(dirs, n, &sh, err);
	shards_free(sh, n);
	return st;
}

static kp_status merge_run(kp_run *run, kp_error *err)
{
	size_t n = run->nmerge_dirs;
	shard_in *sh = NULL;
	kp_status st = read_shards(run->merge_dirs, n, &sh, err);
	json_object *doc = NULL, *marks = NULL;
	held_list l = {0};
	if (!st)
		st = merged_doc(run, sh, n, &l, &doc, &marks, err);
	if (!st) {
		json_object *m = kp_json_get(doc, "missing");
		if ((json_object_is_type(m, json_type_array) && json_object_array_length(m)) ||
		    json_object_get_int64(kp_json_get(doc, "inconsistencies_total")) > 0)
			run->degraded = true;
		merged_items items = {&l, marks};
		kp_plan_key *keys = kp_xcalloc(l.n + 1, sizeof(*keys));
		for (size_t i = 0; i < l.n; i++)
			keys[i] = (kp_plan_key){l.v[i].id, l.v[i].savings, l.v[i].blocked, l.v[i].destructive,
						l.v[i].approval_required};
		char *fpath = kp_path_join(run->dir, "findings.json"), *ppath = kp_path_join(run->dir, "plan.json");
		/* plan.json first: the findings writer leaves doc's array member null */
		st = kp_plan_write(ppath, doc, keys, l.n, kp_json_get(doc, "scope"), plan_full, &items, err);
		kp_json_streamed arr = {"findings", l.n, gen_finding, &items};
		if (!st)
			st = kp_json_write_streamed(fpath, doc, &arr, 1, err);
		/* summary.json and the trend, as kopilot recommend leaves them:
		 * a sharded night is on the state directory's trend like any */
		if (!st) {
			kp_summary_acc acc = {0};
			for (size_t i = 0; i < l.n; i++)
				kp_summary_acc_add(&acc, l.v[i].category, l.v[i].savings, l.v[i].blocked);
			json_object *summary = kp_history_summary_of(doc, &acc, run->cfg);
			st = kp_recommend_write_history(run, summary, err);
			json_object_put(summary);
		}
		free(fpath), free(ppath);
		free(keys);
	}
	if (!st) {
		json_object *ev = json_object_new_object(), *list = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(list, json_object_new_string(sh[i].dir));
		json_object_object_add(ev, "shards", list);
		json_object_object_add(ev, "findings", json_object_new_int64((int64_t)l.n));
		kp_audit_event(run->audit, "merge", ev);
		kp_run_note(run, KP_NOTE_INFO, "merge: %zu shards, %zu findings", n, l.n);
	}
	json_object_put(doc);
	json_object_put(marks);
	held_release(&l);
	shards_free(sh, n);
	return st;
}

kp_status kp_recommend_merge_run(kp_run *run, kp_error *err) { return kp_run_guarded(merge_run, run, err); }
