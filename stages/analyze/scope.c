/*
 * scope.c - which findings a run reports: scope.include_namespaces,
 * scope.exclude_namespaces and scope.exclude_kinds (anchored POSIX extended
 * regular expressions, validated when the configuration is loaded).
 *
 * Applied to the rules' output rather than their input on purpose: a PVC in
 * an included namespace is still known to be used by a pod the scope hides,
 * and a node simulation still sees every pod. Excluding is silent in the
 * findings (teams exclude namespaces they do not own) but counted in
 * analysis.json, so nobody wonders where findings went. Cluster-scoped
 * findings (nodes, PVs) are kept unless their kind is excluded.
 *
 * -l/--selector is applied at the same point, on the labels of each
 * finding's resource (the workload, PVC, PV, Service or Node itself), and
 * counted the same way (counts.excluded_by_selector).
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/selector.h"
#include "pipeline/shard.h"
#include "stages/analyze/analyze.h"

typedef struct {
	regex_t *re;
	size_t n;
} patterns_t;

static void compile(const kp_strlist *l, patterns_t *p)
{
	p->re = kp_xcalloc(l->len ? l->len : 1, sizeof(regex_t));
	p->n = 0;
	for (size_t i = 0; i < l->len; i++) {
		char *anchored = kp_xasprintf("^(%s)$", l->items[i]);
		/* The configuration validated every pattern; one that still fails
		 * to compile matches nothing rather than everything. */
		if (regcomp(&p->re[p->n], anchored, REG_EXTENDED | REG_NOSUB) == 0)
			p->n++;
		free(anchored);
	}
}

static void release(patterns_t *p)
{
	for (size_t i = 0; i < p->n; i++)
		regfree(&p->re[i]);
	free(p->re);
}

static bool any_match(const patterns_t *p, const char *s)
{
	for (size_t i = 0; i < p->n; i++)
		if (regexec(&p->re[i], s, 0, NULL, 0) == 0)
			return true;
	return false;
}

typedef struct {
	patterns_t inc, exc, kinds;
} scope_t;

static void scope_init(scope_t *sc, const kp_config *cfg)
{
	compile(&cfg->scope.include_namespaces, &sc->inc);
	compile(&cfg->scope.exclude_namespaces, &sc->exc);
	compile(&cfg->scope.exclude_kinds, &sc->kinds);
}

static void scope_release(scope_t *sc)
{
	release(&sc->inc);
	release(&sc->exc);
	release(&sc->kinds);
}

/* The namespace half of scope_out, which "not collected" entries share
 * (kp_scope_keeps_missing). */
static bool ns_out(const scope_t *sc, const char *ns)
{
	return ns && ((sc->inc.n && !any_match(&sc->inc, ns)) || any_match(&sc->exc, ns));
}

static bool scope_out(const scope_t *sc, const char *ns, const char *kind)
{
	return any_match(&sc->kinds, kind) || ns_out(sc, ns);
}

bool kp_scope_excludes(const kp_config *cfg, const char *ns, const char *kind)
{
	scope_t sc;
	scope_init(&sc, cfg);
	bool out = scope_out(&sc, ns, kind);
	scope_release(&sc);
	return out;
}

/* Keeps the findings and skipped entries keep() accepts, in order; counts
 * the findings dropped. The one filter every scope uses (configured,
 * --namespace, -l/--selector). */
typedef bool (*keep_fn)(const void *ud, const char *ns, const char *kind, const char *name);

static size_t filter(kp_findings *f, keep_fn keep, const void *ud)
{
	size_t dropped = 0, k = 0;
	for (size_t i = 0; i < f->items.len; i++) {
		kp_finding *x = &f->items.items[i];
		if (keep(ud, x->namespace_, x->kind, x->name)) {
			f->items.items[k++] = *x;
		} else {
			kp_finding_release(x);
			dropped++;
		}
	}
	f->items.len = k;
	k = 0;
	for (size_t i = 0; i < f->skipped.len; i++) {
		kp_skip *x = &f->skipped.items[i];
		if (keep(ud, x->namespace_, x->kind, x->name))
			f->skipped.items[k++] = *x;
		else
			kp_skip_release(x);
	}
	f->skipped.len = k;
	return dropped;
}

static bool keep_configured(const void *ud, const char *ns, const char *kind, const char *name)
{
	(void)name;
	return !scope_out(ud, ns, kind);
}

void kp_scope_apply(kp_analyze_ctx *ctx)
{
	const kp_config *cfg = ctx->cfg;
	if (!cfg->scope.include_namespaces.len && !cfg->scope.exclude_namespaces.len && !cfg->scope.exclude_kinds.len)
		return;
	scope_t sc;
	scope_init(&sc, cfg);
	ctx->out->excluded_by_scope += filter(ctx->out, keep_configured, &sc);
	scope_release(&sc);
}

typedef struct {
	const char *const *ns;
	size_t n;
} ns_list;

static bool keep_listed(const void *ud, const char *ns, const char *kind, const char *name)
{
	(void)kind, (void)name;
	const ns_list *l = ud;
	if (!ns)
		return false; /* cluster-scoped: nodes and PVs belong to no namespace */
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(ns, l->ns[i]) == 0)
			return true;
	return false;
}

void kp_scope_namespaces(kp_findings *f, const char *const *ns, size_t n)
{
	if (n == 0)
		return;
	ns_list l = {ns, n};
	filter(f, keep_listed, &l);
}

/* ---- "not collected" entries ----
 *
 * A gap outside the run's scope is not the run's: `--namespace checkout` is
 * complete although analytics' metrics are missing. Entries are tested with
 * the very predicates findings are (keep_listed for --namespace, ns_out and
 * the kinds for scope.*), so an entry and a finding in the same place are
 * kept or dropped together. A cluster-wide entry (namespace NULL: a list
 * read across all namespaces, or a usage.json gap that does not say where)
 * may cover anything, so it concerns every scope. */

static bool missing_out(const scope_t *sc, const ns_list *l, const kp_missing *m)
{
	if (!m->namespace_)
		return false;
	if (l->n && !keep_listed(l, m->namespace_, m->workload_kind, m->workload_name))
		return true;
	/* a gap about one workload goes with that workload's findings */
	return m->workload_kind ? scope_out(sc, m->namespace_, m->workload_kind) : ns_out(sc, m->namespace_);
}

bool kp_scope_keeps_missing(const kp_config *cfg, const char *const *ns, size_t n, const kp_missing *m)
{
	scope_t sc;
	scope_init(&sc, cfg);
	ns_list l = {ns, n};
	bool out = missing_out(&sc, &l, m);
	scope_release(&sc);
	return !out;
}

size_t kp_scope_missing(kp_cluster *c, const kp_config *cfg, const char *const *ns, size_t n)
{
	scope_t sc;
	scope_init(&sc, cfg);
	ns_list l = {ns, n};
	size_t k = 0;
	for (size_t i = 0; i < c->missing.len; i++)
		if (!missing_out(&sc, &l, &c->missing.items[i]))
			c->missing.items[k++] = c->missing.items[i]; /* strings live in the arena */
	size_t dropped = c->missing.len - k;
	c->missing.len = k;
	scope_release(&sc);
	return dropped;
}

/* ---- --shard I/N ----
 *
 * After every other scope, so a shard holds exactly its part of what the
 * unsharded run would report, and the rules have seen the whole cluster
 * (a node's pods come from every namespace). The skipped and "not
 * collected" entries keep their positions in the unsharded lists, so
 * `kopilot merge` can put them back in the same order; findings need none
 * (findings.json sorts them). A cluster-wide gap concerns every shard. */

size_t kp_scope_shard(kp_findings *f, kp_cluster *c, unsigned index, unsigned count, json_object *positions)
{
	if (count == 0)
		return 0;
	size_t k = 0;
	for (size_t i = 0; i < f->items.len; i++) {
		kp_finding *x = &f->items.items[i];
		if (kp_shard_of(x->namespace_, count) == index)
			f->items.items[k++] = *x;
		else
			kp_finding_release(x);
	}
	f->items.len = k;
	json_object *sp = json_object_new_array(), *mp = json_object_new_array();
	k = 0;
	for (size_t i = 0; i < f->skipped.len; i++) {
		kp_skip *x = &f->skipped.items[i];
		if (kp_shard_of(x->namespace_, count) == index) {
			f->skipped.items[k++] = *x;
			json_object_array_add(sp, json_object_new_int64((int64_t)i));
		} else {
			kp_skip_release(x);
		}
	}
	f->skipped.len = k;
	k = 0;
	for (size_t i = 0; i < c->missing.len; i++) {
		const kp_missing *m = &c->missing.items[i];
		if (!m->namespace_ || kp_shard_of(m->namespace_, count) == index) {
			c->missing.items[k++] = *m; /* strings live in the arena */
			json_object_array_add(mp, json_object_new_int64((int64_t)i));
		}
	}
	size_t dropped = c->missing.len - k;
	c->missing.len = k;
	json_object_object_add(positions, "skipped", sp);
	json_object_object_add(positions, "missing", mp);
	return dropped;
}

/* ---- -l/--selector ---- */

/* The objects a finding can be about, sorted by kind, namespace and name,
 * so each finding finds its resource's labels in log time. */
typedef struct {
	const kp_meta **v;
	size_t n;
} meta_index;

static int cmp_ident(const char *kind, const char *ns, const char *name, const kp_meta *b)
{
	int c = strcmp(kind, b->kind ? b->kind : "");
	if (!c)
		c = strcmp(ns ? ns : "", b->namespace_ ? b->namespace_ : "");
	return c ? c : strcmp(name, b->name);
}

static int cmp_meta(const void *a, const void *b)
{
	const kp_meta *x = *(const kp_meta *const *)a;
	return cmp_ident(x->kind ? x->kind : "", x->namespace_, x->name, *(const kp_meta *const *)b);
}

#define INDEX_ALL(arr)                         \
	for (size_t i = 0; i < (arr).len; i++) \
		ix->v[ix->n++] = &(arr).items[i].meta

static void index_build(meta_index *ix, const kp_cluster *c)
{
	size_t total = c->workloads.len + c->pvcs.len + c->pvs.len + c->services.len + c->nodes.len;
	ix->v = kp_xcalloc(total + 1, sizeof(*ix->v));
	ix->n = 0;
	INDEX_ALL(c->workloads);
	INDEX_ALL(c->pvcs);
	INDEX_ALL(c->pvs);
	INDEX_ALL(c->services);
	INDEX_ALL(c->nodes);
	if (ix->n > 1)
		qsort(ix->v, ix->n, sizeof(*ix->v), cmp_meta);
}

/* Whether the resource kind/ns/name satisfies sel; a resource the snapshot
 * does not hold has no labels (it matches only !k, k!=v, k notin (...)). */
static bool selected(const meta_index *ix, const kp_selector *sel, const char *kind, const char *ns, const char *name)
{
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_ident(kind, ns, name, ix->v[mid]);
		if (c == 0)
			return kp_selector_matches(sel, ix->v[mid]->labels, ix->v[mid]->nlabels);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return kp_selector_matches(sel, NULL, 0);
}

typedef struct {
	const meta_index *ix;
	const kp_selector *sel;
} selection;

static bool keep_selected(const void *ud, const char *ns, const char *kind, const char *name)
{
	const selection *x = ud;
	return selected(x->ix, x->sel, kind, ns, name);
}

static const kp_meta *meta_find(const meta_index *ix, const char *kind, const char *ns, const char *name)
{
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_ident(kind, ns, name, ix->v[mid]);
		if (c == 0)
			return ix->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const char *kv_get(const kp_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i].key, key))
			return kv[i].value;
	return NULL;
}

void kp_scope_sources(kp_findings *f, const kp_cluster *c, const char *team_label)
{
	meta_index ix;
	index_build(&ix, c);
	for (size_t i = 0; i < f->items.len; i++) {
		kp_finding *x = &f->items.items[i];
		const kp_meta *m = meta_find(&ix, x->kind, x->namespace_, x->name);
		if (!m)
			continue;
		/* Argo CD: "APP:GROUP/KIND:NAMESPACE/NAME" (annotation tracking),
		 * or the app.kubernetes.io/instance-style label it sets with label
		 * tracking (argocd.argoproj.io/instance) */
		const char *t = kv_get(m->annotations, m->nannotations, "argocd.argoproj.io/tracking-id");
		const char *colon = t ? strchr(t, ':') : NULL;
		if (colon && colon > t)
			x->argocd_app = kp_xasprintf("%.*s", (int)(colon - t), t);
		else if ((t = kv_get(m->labels, m->nlabels, "argocd.argoproj.io/instance")) != NULL && *t)
			x->argocd_app = kp_xstrdup(t);
		const char *fn = kv_get(m->labels, m->nlabels, "kustomize.toolkit.fluxcd.io/name");
		const char *fns = kv_get(m->labels, m->nlabels, "kustomize.toolkit.fluxcd.io/namespace");
		if (fn && *fn)
			x->flux_kustomization = kp_xasprintf("%s/%s", fns && *fns ? fns : "flux-system", fn);
		const char *hr = kv_get(m->annotations, m->nannotations, "meta.helm.sh/release-name");
		const char *hns = kv_get(m->annotations, m->nannotations, "meta.helm.sh/release-namespace");
		if (hr && *hr)
			x->helm_release = kp_xasprintf("%s/%s", hns && *hns ? hns : (x->namespace_ ? x->namespace_ : ""), hr);
		const char *team = team_label ? kv_get(m->labels, m->nlabels, team_label) : NULL;
		if (team && *team)
			x->team = kp_xstrdup(team);
	}
	free(ix.v);
}

size_t kp_scope_selector(kp_findings *f, const kp_cluster *c, const kp_selector *sel)
{
	if (!sel || !sel->n)
		return 0;
	meta_index ix;
	index_build(&ix, c);
	selection x = {&ix, sel};
	size_t dropped = filter(f, keep_selected, &x);
	free(ix.v);
	return dropped;
}
