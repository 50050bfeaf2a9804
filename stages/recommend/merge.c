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
 * Memory: the findings of all shards are held as JSON trees while they
 * are sorted (the shards' findings.json are read whole); the reports are
 * rendered afterwards by the render stage, streamed as always.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/findings_json.h"
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

/* whole: findings.json as a tree; else its header, skipped and missing
 * only (the check before anything is written) */
static kp_status read_shard(shard_in *s, bool whole, kp_error *err)
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
	if (!st)
		st = whole ? kp_json_read_file(fp, &s->findings, err)
			   : kp_listscan_file(fp, "findings", "a findings document (kopilot.findings/v1)", k_id,
					      analysis_item, NULL, &s->findings, err);
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

/* The contract's order (recommend.c, kp_findings_sort): savings at 1/10000
 * descending, then id. */
static int cmp_finding(const void *pa, const void *pb)
{
	json_object *a = *(json_object *const *)pa, *b = *(json_object *const *)pb;
	double da = round(json_object_get_double(kp_json_get(a, "monthly_savings")) * 10000.0);
	double db = round(json_object_get_double(kp_json_get(b, "monthly_savings")) * 10000.0);
	if (da != db)
		return da > db ? -1 : 1;
	const char *ia = kp_json_str(a, "id"), *ib = kp_json_str(b, "id");
	return strcmp(ia ? ia : "", ib ? ib : "");
}

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

/* findings.json of the merged run, in the key order recommend writes. */
static kp_status merged_doc(kp_run *run, shard_in *sh, size_t n, json_object **out, kp_error *err)
{
	json_object *first = sh[0].findings; /* shard 0: the order was sorted by index */
	json_object *skipped = NULL, *missing = NULL;
	kp_status st = join_lists(sh, n, "skipped", &skipped, err);
	if (!st)
		st = join_lists(sh, n, "missing", &missing, err);
	if (st) {
		json_object_put(skipped);
		return st;
	}
	json_object *all = json_object_new_array();
	static const char *const sums[] = {"monthly_cost", "monthly_savings", "actionable_monthly_savings",
					   "blocked_monthly_savings"};
	double total[4] = {0};
	for (size_t i = 0; i < n; i++) {
		json_object *l = kp_json_get(sh[i].findings, "findings");
		for (size_t k = 0; json_object_is_type(l, json_type_array) && k < json_object_array_length(l); k++) {
			json_object *f = json_object_array_get_idx(l, k);
			if (!run->previous_doc) { /* a shard's own history is not the merged run's */
				json_object_object_del(f, "trend");
				json_object_object_del(f, "first_seen");
			}
			json_object_array_add(all, json_object_get(f));
		}
		for (size_t t = 0; t < 4; t++)
			total[t] += json_object_get_double(kp_json_get(kp_json_get(sh[i].findings, "totals"), sums[t]));
	}
	json_object_array_sort(all, cmp_finding);

	json_object *doc = json_object_new_object();
	json_object_object_add(doc, "schema", json_object_new_string(KP_FINDINGS_SCHEMA));
	static const char *const copied[] = {"generated_at", "cluster", "window", "prices"};
	for (size_t i = 0; i < 4; i++)
		json_object_object_add(doc, copied[i], copy_of(kp_json_get(first, copied[i])));
	json_object *totals = json_object_new_object();
	json_object_object_add(totals, "findings", json_object_new_int64((int64_t)json_object_array_length(all)));
	for (size_t t = 0; t < 4; t++)
		json_object_object_add(totals, sums[t], kp_json_new_number(kp_money_round(total[t])));
	json_object_object_add(doc, "totals", totals);
	json_object_object_add(doc, "findings", all);
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
	kp_history_apply(doc, run->previous_doc, run->previous_run);
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
static kp_status read_shards(const char *const *dirs, size_t n, bool whole, shard_in **out, kp_error *err)
{
	*out = NULL;
	if (n == 0)
		return kp_fail(err, KP_ERR_USAGE, "no shard run given");
	shard_in *sh = kp_xcalloc(n, sizeof(*sh));
	kp_status st = KP_OK;
	for (size_t i = 0; i < n && !st; i++) {
		sh[i].dir = dirs[i];
		st = read_shard(&sh[i], whole, err);
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
	kp_status st = read_shards(dirs, n, false, &sh, err);
	shards_free(sh, n);
	return st;
}

static kp_status merge_run(kp_run *run, kp_error *err)
{
	size_t n = run->nmerge_dirs;
	shard_in *sh = NULL;
	kp_status st = read_shards(run->merge_dirs, n, true, &sh, err);
	json_object *doc = NULL;
	if (!st)
		st = merged_doc(run, sh, n, &doc, err);
	if (!st) {
		json_object *m = kp_json_get(doc, "missing");
		if ((json_object_is_type(m, json_type_array) && json_object_array_length(m)) ||
		    json_object_get_int64(kp_json_get(doc, "inconsistencies_total")) > 0)
			run->degraded = true;
		json_object *plan = kp_plan_doc(doc);
		json_object_object_add(plan, "scope", copy_of(kp_json_get(doc, "scope")));
		char *fpath = kp_path_join(run->dir, "findings.json"), *ppath = kp_path_join(run->dir, "plan.json");
		st = kp_json_write_file(fpath, doc, err);
		if (!st)
			st = kp_json_write_file(ppath, plan, err);
		free(fpath), free(ppath);
		json_object_put(plan);
	}
	if (!st) {
		json_object *ev = json_object_new_object(), *list = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(list, json_object_new_string(sh[i].dir));
		json_object_object_add(ev, "shards", list);
		json_object_object_add(ev, "findings", copy_of(kp_json_get(doc, "totals.findings")));
		kp_audit_event(run->audit, "merge", ev);
		kp_run_note(run, KP_NOTE_INFO, "merge: %zu shards, %lld findings", n,
			    (long long)json_object_get_int64(kp_json_get(doc, "totals.findings")));
	}
	json_object_put(doc);
	shards_free(sh, n);
	return st;
}

kp_status kp_recommend_merge_run(kp_run *run, kp_error *err) { return kp_run_guarded(merge_run, run, err); }
