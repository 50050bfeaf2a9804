/*
 * analyze.c - runs the rule families in a fixed order so output is
 * deterministic for the same snapshot and --now.
 */
#include "stages/analyze/analyze.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/findings_json.h"
#include "pipeline/selector.h"
#include "stages/collect/snapshot.h"


bool kp_namespace_ignored(const kp_cluster *c, const char *ns)
{
	if (!ns)
		return false;
	for (size_t i = 0; i < c->namespaces.len; i++)
		if (strcmp(c->namespaces.items[i].meta.name, ns) == 0)
			return c->namespaces.items[i].meta.ignored;
	return false;
}

/* Counting sort of n items (stride bytes apart, each with a kp_workload *
 * at woff) by workload: linear in items + workloads; one workload's items
 * keep their order. *start[wi]..*start[wi + 1] index *by. */
static void by_workload(const kp_cluster *c, const void *items, size_t n, size_t stride, size_t woff, size_t **start,
			const void ***by)
{
	size_t nw = c->workloads.len;
	size_t *st = kp_xcalloc(nw + 1, sizeof(size_t));
#define WL_OF(i) (*(kp_workload *const *)((const char *)items + (i) * stride + woff))
	for (size_t i = 0; i < n; i++)
		if (WL_OF(i))
			st[WL_OF(i) - c->workloads.items + 1]++;
	for (size_t i = 0; i < nw; i++)
		st[i + 1] += st[i];
	const void **b = kp_xcalloc(st[nw] + 1, sizeof(*b));
	size_t *fill = kp_xcalloc(nw + 1, sizeof(size_t));
	for (size_t i = 0; i < n; i++) {
		if (!WL_OF(i))
			continue;
		size_t w = (size_t)(WL_OF(i) - c->workloads.items);
		b[st[w] + fill[w]++] = (const char *)items + i * stride;
	}
#undef WL_OF
	free(fill);
	*start = st;
	*by = b;
}

const kp_usage *const *kp_workload_usage(kp_analyze_ctx *ctx, size_t wi, size_t *n)
{
	kp_cluster *c = ctx->cluster;
	if (!ctx->usage_start)
		by_workload(c, c->usage.items, c->usage.len, sizeof(kp_usage), offsetof(kp_usage, workload),
			    &ctx->usage_start, (const void ***)&ctx->usage_by_workload);
	*n = ctx->usage_start[wi + 1] - ctx->usage_start[wi];
	return ctx->usage_by_workload + ctx->usage_start[wi];
}

const kp_pod *const *kp_workload_pods(kp_analyze_ctx *ctx, size_t wi, size_t *n)
{
	kp_cluster *c = ctx->cluster;
	if (!ctx->pods_start)
		by_workload(c, c->pods.items, c->pods.len, sizeof(kp_pod), offsetof(kp_pod, workload), &ctx->pods_start,
			    (const void ***)&ctx->pods_by_workload);
	*n = ctx->pods_start[wi + 1] - ctx->pods_start[wi];
	return ctx->pods_by_workload + ctx->pods_start[wi];
}

void kp_analyze_mark_idle(kp_analyze_ctx *ctx, const kp_workload *w)
{
	if (!ctx->idle_workloads)
		ctx->idle_workloads = kp_xcalloc(ctx->cluster->workloads.len + 1, sizeof(bool));
	ctx->idle_workloads[w - ctx->cluster->workloads.items] = true;
}

bool kp_analyze_is_idle(const kp_analyze_ctx *ctx, const kp_workload *w)
{
	return ctx->idle_workloads && ctx->idle_workloads[w - ctx->cluster->workloads.items];
}

void kp_analyze_mark_held(kp_analyze_ctx *ctx, const kp_service *s)
{
	if (!ctx->held_services)
		ctx->held_services = kp_xcalloc(ctx->cluster->services.len + 1, sizeof(bool));
	ctx->held_services[s - ctx->cluster->services.items] = true;
}

bool kp_analyze_is_held(const kp_analyze_ctx *ctx, const kp_service *s)
{
	return ctx->held_services && ctx->held_services[s - ctx->cluster->services.items];
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t kp_analyze_unattributed(kp_analyze_ctx *ctx, const char *ns)
{
	const kp_cluster *c = ctx->cluster;
	if (!ctx->unattributed_built) {
		ctx->unattributed_built = true;
		for (size_t i = 0; i < c->pods.len; i++)
			if (kp_pod_owner_dangling(c, &c->pods.items[i])) {
				ctx->unattributed = kp_xrealloc(ctx->unattributed,
								(ctx->nunattributed + 1) * sizeof(*ctx->unattributed));
				ctx->unattributed[ctx->nunattributed++] = c->pods.items[i].meta.namespace_;
			}
		if (ctx->nunattributed > 1)
			qsort(ctx->unattributed, ctx->nunattributed, sizeof(*ctx->unattributed), cmp_cstr);
	}
	if (!ctx->nunattributed || !ns)
		return 0;
	/* lower bound, then count the run */
	size_t lo = 0, hi = ctx->nunattributed;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ctx->unattributed[mid], ns) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t n = 0;
	while (lo + n < ctx->nunattributed && strcmp(ctx->unattributed[lo + n], ns) == 0)
		n++;
	return n;
}

void kp_analyze_ctx_release(kp_analyze_ctx *ctx)
{
	free(ctx->unattributed);
	ctx->unattributed = NULL;
	ctx->nunattributed = 0;
	ctx->unattributed_built = false;
	free(ctx->usage_start);
	free(ctx->usage_by_workload);
	free(ctx->pods_start);
	free((void *)ctx->pods_by_workload);
	ctx->pods_start = NULL;
	ctx->pods_by_workload = NULL;
	free(ctx->idle_workloads);
	free(ctx->held_services);
	ctx->usage_start = NULL;
	ctx->usage_by_workload = NULL;
	ctx->idle_workloads = NULL;
	ctx->held_services = NULL;
}

/* The rule families in the order they run; the audit log names them from
 * this table so it cannot drift from what ran. */
static const struct {
	const char *name;
	void (*run)(kp_analyze_ctx *ctx);
} rules[] = {
	{"idle-workload", kp_rule_idle_workload}, /* first: marks idle workloads so they are not also resized */
	{"rightsizing", kp_rule_rightsizing},
	{"zero-replica", kp_rule_zero_replica},
	{"orphaned-pvc", kp_rule_orphaned_pvc},
	{"unbound-pv", kp_rule_unbound_pv},
	{"idle-loadbalancer", kp_rule_idle_loadbalancer},
	{"finished-job", kp_rule_finished_job},
	{"underutilized-node", kp_rule_underutilized_node},
};

const char *kp_analyze_rule_name(size_t i)
{
	return i < sizeof(rules) / sizeof(rules[0]) ? rules[i].name : NULL;
}

void kp_analyze(kp_analyze_ctx *ctx)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		rules[i].run(ctx);
	kp_scope_apply(ctx); /* last: rules see the whole cluster, the report only the scope */
	kp_analyze_ctx_release(ctx);
	kp_analyze_pricing_inputs(ctx->cluster, ctx->out); /* what each finding's price depends on */
}

kp_status kp_analyze_check_scope(const kp_run *run, const kp_cluster *c, kp_error *err)
{
	if (!run->nnamespaces || !c->collected[KP_RES_NAMESPACES])
		return KP_OK;
	for (size_t i = 0; i < run->nnamespaces; i++) {
		bool found = false;
		for (size_t j = 0; j < c->namespaces.len && !found; j++)
			found = strcmp(c->namespaces.items[j].meta.name, run->namespaces[i]) == 0;
		if (!found)
			return kp_fail(err, KP_ERR_USAGE, "namespace \"%s\" is not in the snapshot (objects/namespaces.json)",
				       run->namespaces[i]);
	}
	return KP_OK;
}

/* The model: the one collect handed over, else the run's own snapshot. */
static kp_status load_model(kp_run *run, kp_error *err)
{
	if (run->cluster)
		return KP_OK;
	char *snapdir = kp_path_join(run->dir, "snapshot");
	kp_cluster *c = kp_xcalloc(1, sizeof(*c));
	kp_cluster_init(c);
	bool cached = false;
	kp_status s = kp_snapshot_load_cached(c, snapdir, &cached, err);
	free(snapdir);
	if (s) {
		kp_cluster_release(c);
		free(c);
		if (s == KP_ERR_USAGE)
			kp_error_prefix(err, "%s is not a run directory (run `kopilot collect` first)", run->dir);
		return s;
	}
	kp_run_note(run, KP_NOTE_DEBUG, "analyze: read %s",
		    cached ? "the model cache snapshot/model.bin" : "the raw snapshot files");
	run->cluster = c;
	return KP_OK;
}

/* The cluster's name: flag/config, else what collect recorded. */
static kp_status name_cluster(kp_run *run, kp_cluster *c, kp_error *err)
{
	json_object *cl = NULL;
	char *snapdir = kp_path_join(run->dir, "snapshot");
	char *clpath = kp_path_join(snapdir, "cluster.json");
	free(snapdir);
	kp_status s = kp_file_exists(clpath) ? kp_json_read_file(clpath, &cl, err) : KP_OK;
	free(clpath);
	if (s)
		return s;
	const char *name = run->cfg->collect.cluster_name ? run->cfg->collect.cluster_name : kp_json_str(cl, "name");
	c->name = kp_arena_strdup(&c->arena, name ? name : "unknown");
	const char *ctx = kp_json_str(cl, "context"), *server = kp_json_str(cl, "server");
	c->context = ctx ? kp_arena_strdup(&c->arena, ctx) : NULL;
	c->server = server ? kp_arena_strdup(&c->arena, server) : NULL;
	json_object_put(cl);
	return KP_OK;
}

static kp_status analyze_run(kp_run *run, kp_error *err)
{
	kp_status s = load_model(run, err);
	kp_cluster *c = run->cluster;
	if (!s)
		s = name_cluster(run, c, err);
	if (!s)
		s = kp_analyze_check_scope(run, c, err);
	if (s) {
		kp_run_drop_cluster(run);
		return s;
	}
	kp_run_note(run, KP_NOTE_INFO, "analyze: %zu pods, %zu workloads, %zu PVCs, %zu usage entries", c->pods.len,
		    c->workloads.len, c->pvcs.len, c->usage.len);
	kp_findings f;
	kp_findings_init(&f);
	kp_analyze_ctx ctx = {.cluster = c, .cfg = run->cfg, .now = run->now, .out = &f};
	kp_analyze(&ctx);
	/* --namespace: after the rules, so they still see the whole cluster (a
	 * PVC is not orphaned because its pod is elsewhere), and before
	 * analysis.json, so its findings, skipped and totals agree. */
	kp_scope_namespaces(&f, run->namespaces, run->nnamespaces);
	/* and what was not collected, by the same scope: a gap in a namespace
	 * the run does not cover neither shows nor degrades it */
	f.missing_excluded_by_scope = kp_scope_missing(c, run->cfg, run->namespaces, run->nnamespaces);
	if (f.missing_excluded_by_scope)
		kp_run_note(run, KP_NOTE_INFO, "analyze: left out of the report: %zu input%s not collected outside its scope",
			    f.missing_excluded_by_scope, f.missing_excluded_by_scope == 1 ? "" : "s");
	f.excluded_by_selector = kp_scope_selector(&f, c, run->selector); /* same reasons, same point */
	/* --shard: last, so the shard's lists are parts of the unsharded ones,
	 * with their positions recorded for kopilot merge */
	json_object *shard_merge = NULL;
	if (run->shard_count) {
		shard_merge = json_object_new_object();
		/* what the unsharded run would count, before this shard's cut */
		json_object_object_add(shard_merge, "missing_excluded_by_scope",
				       json_object_new_int64((int64_t)f.missing_excluded_by_scope));
		size_t went = kp_scope_shard(&f, c, run->shard_index, run->shard_count, shard_merge);
		f.missing_excluded_by_scope += went;
		kp_run_note(run, KP_NOTE_INFO, "analyze: shard %u of %u (from 0): %zu findings, %zu skipped entries",
			    run->shard_index, run->shard_count, f.items.len, f.skipped.len);
	}
	kp_scope_sources(&f, c, run->cfg->pr.team_label);
	/* Memory: the rules are done and findings own copies of their strings,
	 * so the model's object arrays go before analysis.json is written
	 * (kp_analysis_doc reads only their lengths, kept); the findings are
	 * written one at a time from f, never as one tree. Collect's writer
	 * may still be reading them (its model cache, run.h): that part
	 * finishes first (its copy of the snapshot goes on). */
	kp_run_wait_reading(run);
	free(c->pods.items);
	free(c->workloads.items);
	free(c->usage.items);
	c->pods.items = NULL;
	c->workloads.items = NULL;
	c->usage.items = NULL;
	json_object *doc = kp_analysis_doc(c, &f, run->now);
	/* for prices from a FOCUS bill (recommend): nodes and volumes are still here */
	json_object *billing = kp_analyze_billing_keys(c);
	if (billing)
		json_object_object_add(doc, "billing_keys", billing);
	json_object *scope = kp_scope_json(run->namespaces, run->nnamespaces);
	if (run->selector) {
		/* kubectl's spelling, so the reports quote a selector one can paste back */
		kp_buf sel;
		kp_buf_init(&sel);
		kp_selector_format(run->selector, &sel);
		json_object_object_add(scope, "selector", json_object_new_string(kp_buf_cstr(&sel)));
		kp_buf_release(&sel);
	}
	if (run->shard_count) {
		json_object *sh = json_object_new_object();
		json_object_object_add(sh, "index", json_object_new_int64(run->shard_index));
		json_object_object_add(sh, "count", json_object_new_int64(run->shard_count));
		json_object_object_add(scope, "shard", sh);
		/* for kopilot merge only (analysis.json is not a contract) */
		json_object_object_add(doc, "shard_merge", shard_merge);
	}
	json_object_object_add(doc, "scope", scope);
	json_object *af = json_object_new_object();
	json_object_object_add(af, "findings", json_object_new_int64((int64_t)f.items.len));
	json_object_object_add(af, "skipped", json_object_new_int64((int64_t)f.skipped.len));
	kp_buf names;
	kp_buf_init(&names);
	for (size_t i = 0; kp_analyze_rule_name(i); i++)
		kp_buf_printf(&names, "%s%s", i ? "," : "", kp_analyze_rule_name(i));
	json_object_object_add(af, "rules", json_object_new_string(kp_buf_cstr(&names)));
	kp_buf_release(&names);
	if (c->missing.len || c->inconsistencies_total)
		run->degraded = true;
	/* references to objects the snapshot does not hold: a few word for
	 * word, the count of the rest (findings.json lists up to
	 * KP_MAX_INCONSISTENCIES) */
	for (size_t i = 0; i < c->inconsistencies.len && i < 5; i++)
		kp_run_note(run, KP_NOTE_WARN, "analyze: inconsistent snapshot: %s", c->inconsistencies.items[i]);
	if (c->inconsistencies_total > 5)
		kp_run_note(run, KP_NOTE_WARN, "analyze: inconsistent snapshot: %zu more reference%s to objects not in the "
			    "snapshot (see findings.json \"inconsistencies\")",
			    c->inconsistencies_total - 5, c->inconsistencies_total - 5 == 1 ? "" : "s");
	kp_run_drop_cluster(run);
	char *path = kp_path_join(run->dir, "analysis.json");
	/* for recommend in the same process (kopilot run): the findings as
	 * they read back from the file, without parsing it again */
	kp_findings *reread = NULL;
	if (run->keep_analysis) {
		reread = kp_xmalloc(sizeof(*reread));
		kp_findings_init(reread);
	}
	s = kp_findings_write_reread(path, doc, &f, false, reread, err);
	free(path);
	kp_findings_release(&f);
	kp_audit_event(run->audit, "analyze", af);
	if (!s && reread) {
		run->analysis = reread;
		run->analysis_doc = doc;
		return KP_OK;
	}
	if (reread) {
		kp_findings_release(reread);
		free(reread);
	}
	json_object_put(doc);
	return s;
}

kp_status kp_analyze_run(kp_run *run, kp_error *err) { return kp_run_guarded(analyze_run, run, err); }
