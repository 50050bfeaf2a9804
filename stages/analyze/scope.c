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
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

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
	compile(&cfg->include_namespaces, &sc->inc);
	compile(&cfg->exclude_namespaces, &sc->exc);
	compile(&cfg->exclude_kinds, &sc->kinds);
}

static void scope_release(scope_t *sc)
{
	release(&sc->inc);
	release(&sc->exc);
	release(&sc->kinds);
}

static bool scope_out(const scope_t *sc, const char *ns, const char *kind)
{
	return any_match(&sc->kinds, kind) || (ns && ((sc->inc.n && !any_match(&sc->inc, ns)) || any_match(&sc->exc, ns)));
}

bool kp_scope_excludes(const kp_config *cfg, const char *ns, const char *kind)
{
	scope_t sc;
	scope_init(&sc, cfg);
	bool out = scope_out(&sc, ns, kind);
	scope_release(&sc);
	return out;
}

void kp_scope_apply(kp_analyze_ctx *ctx)
{
	const kp_config *cfg = ctx->cfg;
	if (!cfg->include_namespaces.len && !cfg->exclude_namespaces.len && !cfg->exclude_kinds.len)
		return;
	scope_t sc;
	scope_init(&sc, cfg);
	kp_findings *f = ctx->out;
	size_t keep = 0;
	for (size_t i = 0; i < f->items.len; i++) {
		kp_finding *x = &f->items.items[i];
		if (scope_out(&sc, x->namespace_, x->kind)) {
			kp_finding_release(x);
			f->excluded_by_scope++;
		} else {
			f->items.items[keep++] = *x;
		}
	}
	f->items.len = keep;
	keep = 0;
	for (size_t i = 0; i < f->skipped.len; i++) {
		kp_skip *x = &f->skipped.items[i];
		if (scope_out(&sc, x->namespace_, x->kind))
			kp_skip_release(x);
		else
			f->skipped.items[keep++] = *x;
	}
	f->skipped.len = keep;
	scope_release(&sc);
}
