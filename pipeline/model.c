/*
 * model.c - names of the model's enums, the cluster container's lifecycle
 * and the findings list. See model.h for the ownership rules.
 */
#include "pipeline/model.h"

#include <stdarg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *file, *kind;
} resources[KP_RES_COUNT] = {
	[KP_RES_PODS] = {"pods", "Pod"},
	[KP_RES_DEPLOYMENTS] = {"deployments", "Deployment"},
	[KP_RES_REPLICASETS] = {"replicasets", "ReplicaSet"},
	[KP_RES_STATEFULSETS] = {"statefulsets", "StatefulSet"},
	[KP_RES_DAEMONSETS] = {"daemonsets", "DaemonSet"},
	[KP_RES_JOBS] = {"jobs", "Job"},
	[KP_RES_CRONJOBS] = {"cronjobs", "CronJob"},
	[KP_RES_PVCS] = {"persistentvolumeclaims", "PersistentVolumeClaim"},
	[KP_RES_PVS] = {"persistentvolumes", "PersistentVolume"},
	[KP_RES_SERVICES] = {"services", "Service"},
	[KP_RES_ENDPOINTSLICES] = {"endpointslices", "EndpointSlice"},
	[KP_RES_NODES] = {"nodes", "Node"},
	[KP_RES_HPAS] = {"horizontalpodautoscalers", "HorizontalPodAutoscaler"},
	[KP_RES_NAMESPACES] = {"namespaces", "Namespace"},
	[KP_RES_STORAGECLASSES] = {"storageclasses", "StorageClass"},
	[KP_RES_ROLLOUTS] = {"rollouts", "Rollout"},
	[KP_RES_VPAS] = {"verticalpodautoscalers", "VerticalPodAutoscaler"},
};

bool kp_resource_optional(kp_resource r) { return r == KP_RES_ROLLOUTS || r == KP_RES_VPAS; }

const char *kp_resource_name(kp_resource r) { return resources[r].file; }
const char *kp_resource_kind(kp_resource r) { return resources[r].kind; }

static const char *const wl_kinds[KP_WL_COUNT] = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
						 "Job",        "CronJob",     "Rollout"};
static const char *const wl_api[KP_WL_COUNT] = {"apps/v1",  "apps/v1",  "apps/v1",		 "apps/v1",
					       "batch/v1", "batch/v1", "argoproj.io/v1alpha1"};

const char *kp_workload_kind_name(kp_workload_kind k) { return wl_kinds[k]; }
const char *kp_workload_api_version(kp_workload_kind k) { return wl_api[k]; }

bool kp_workload_kind_parse(const char *kind, kp_workload_kind *out)
{
	for (int k = 0; k < KP_WL_COUNT; k++)
		if (kind && strcmp(wl_kinds[k], kind) == 0) {
			*out = (kp_workload_kind)k;
			return true;
		}
	return false;
}

void kp_cluster_init(kp_cluster *c)
{
	memset(c, 0, sizeof(*c));
	kp_arena_init(&c->arena);
}

static const char *arena_dup(kp_arena *a, const char *s) { return s ? kp_arena_strdup(a, s) : NULL; }

void kp_cluster_add_missing(kp_cluster *c, const char *resource, const char *ns, const char *workload_kind,
			    const char *workload_name, const char *reason, const char *summary)
{
	kp_missing m = {arena_dup(&c->arena, resource),	    arena_dup(&c->arena, ns),
			arena_dup(&c->arena, workload_kind), arena_dup(&c->arena, workload_name),
			arena_dup(&c->arena, reason),	    arena_dup(&c->arena, summary)};
	KP_ARRAY_PUSH(c->missing, m);
}

void kp_cluster_inconsistency(kp_cluster *c, const char *fmt, ...)
{
	c->inconsistencies_total++;
	if (c->inconsistencies.len >= KP_MAX_INCONSISTENCIES)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s = kp_xvasprintf(fmt, ap);
	va_end(ap);
	KP_ARRAY_PUSH(c->inconsistencies, kp_arena_strdup(&c->arena, s));
	free(s);
}

kp_resource kp_workload_kind_resource(kp_workload_kind k)
{
	static const kp_resource res[KP_WL_COUNT] = {
		[KP_WL_DEPLOYMENT] = KP_RES_DEPLOYMENTS, [KP_WL_STATEFULSET] = KP_RES_STATEFULSETS,
		[KP_WL_DAEMONSET] = KP_RES_DAEMONSETS,	 [KP_WL_REPLICASET] = KP_RES_REPLICASETS,
		[KP_WL_JOB] = KP_RES_JOBS,		 [KP_WL_CRONJOB] = KP_RES_CRONJOBS,
		[KP_WL_ROLLOUT] = KP_RES_ROLLOUTS,
	};
	return res[k];
}

bool kp_pod_owner_dangling(const kp_cluster *c, const kp_pod *p)
{
	kp_workload_kind k;
	return !p->workload && p->meta.owner_kind && p->meta.owner_name &&
	       kp_workload_kind_parse(p->meta.owner_kind, &k) && c->collected[kp_workload_kind_resource(k)];
}

void kp_cluster_release(kp_cluster *c)
{
	free(c->missing.items);
	free(c->inconsistencies.items);
	free(c->pods.items);
	free(c->workloads.items);
	free(c->pvcs.items);
	free(c->pvs.items);
	free(c->hpas.items);
	free(c->vpas.items);
	free(c->namespaces.items);
	free(c->nodes.items);
	free(c->services.items);
	free(c->endpointslices.items);
	free(c->storageclasses.items);
	free(c->usage.items);
	kp_arena_release(&c->arena);
	memset(c, 0, sizeof(*c));
}

kp_workload *kp_cluster_find_workload(kp_cluster *c, kp_workload_kind k, const char *ns, const char *name)
{
	/* Linear: the loader builds a hash index for the hot paths (pod -> owner);
	 * this is for the few lookups elsewhere. */
	for (size_t i = 0; i < c->workloads.len; i++) {
		kp_workload *w = &c->workloads.items[i];
		if (w->wkind == k && strcmp(w->meta.name, name) == 0 && ns && w->meta.namespace_ &&
		    strcmp(w->meta.namespace_, ns) == 0)
			return w;
	}
	return NULL;
}

static const char *kv_find(const kp_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

const char *kp_meta_label(const kp_meta *m, const char *key) { return kv_find(m->labels, m->nlabels, key); }

const char *kp_meta_annotation(const kp_meta *m, const char *key)
{
	return kv_find(m->annotations, m->nannotations, key);
}

/* ---- enums ---- */

static const char *const categories[KP_CAT_COUNT] = {
	"over-provisioned", "under-provisioned", "idle-workload",    "zero-replica-workload", "orphaned-pvc",
	"unbound-pv",       "idle-loadbalancer", "finished-job",     "underutilized-node",
};

const char *kp_category_name(kp_category c) { return categories[c]; }

bool kp_category_parse(const char *s, kp_category *out)
{
	for (int i = 0; i < KP_CAT_COUNT; i++) {
		if (s && strcmp(s, categories[i]) == 0) {
			*out = (kp_category)i;
			return true;
		}
	}
	return false;
}

const char *kp_confidence_name(kp_confidence c)
{
	static const char *const n[] = {"low", "medium", "high"};
	return n[c];
}

const char *kp_risk_name(kp_risk r)
{
	static const char *const n[] = {"LOW", "MEDIUM", "HIGH", "CRITICAL"};
	return n[r];
}

const char *kp_action_type_name(kp_action_type a)
{
	static const char *const n[] = {"resize", "scale-down", "delete", "review"};
	return n[a];
}

void kp_sizes_unset(kp_sizes *s)
{
	s->replicas = -1;
	s->cpu_request_m = s->cpu_limit_m = s->mem_request_b = s->mem_limit_b = s->storage_b = KP_UNSET;
}

/* ---- findings ---- */

void kp_findings_init(kp_findings *f) { memset(f, 0, sizeof(*f)); }

static char *dup_or_null(const char *s) { return s ? kp_xstrdup(s) : NULL; }

static void evidence_release(kp_evidence *e)
{
	free(e->summary);
	free(e->metric);
	free(e->unit);
	free(e->window);
	free(e->source);
	free(e->query);
}

static void related_release(kp_related_change *r)
{
	free(r->api_version);
	free(r->kind);
	free(r->namespace_);
	free(r->name);
	free(r->path);
	free(r->current_s);
	free(r->recommended_s);
	free(r->reason);
}

kp_related_change *kp_finding_add_related(kp_finding *f, const char *api_version, const char *kind, const char *ns,
					  const char *name, const char *path, const char *reason)
{
	f->related = kp_xrealloc(f->related, (f->nrelated + 1) * sizeof(*f->related));
	kp_related_change *r = &f->related[f->nrelated++];
	memset(r, 0, sizeof(*r));
	r->api_version = kp_xstrdup(api_version);
	r->kind = kp_xstrdup(kind);
	r->namespace_ = ns ? kp_xstrdup(ns) : NULL;
	r->name = kp_xstrdup(name);
	r->path = kp_xstrdup(path);
	r->reason = reason ? kp_xstrdup(reason) : NULL;
	return r;
}

void kp_finding_release(kp_finding *f)
{
	free(f->api_version);
	free(f->kind);
	free(f->namespace_);
	free(f->name);
	free(f->container);
	for (size_t i = 0; i < f->nevidence; i++)
		evidence_release(&f->evidence[i]);
	free(f->evidence);
	for (size_t i = 0; i < f->nrelated; i++)
		related_release(&f->related[i]);
	free(f->related);
	free(f->action.blocked_reason);
	free(f->action.command);
	free(f->explanation);
	free(f->explained_by);
	free(f->trend);
	free(f->first_seen);
	free(f->argocd_app), free(f->flux_kustomization), free(f->helm_release), free(f->team);
	free(f->managed_by_kind), free(f->managed_by_name);
	kp_pricing_inputs_release(&f->pricing);
	kp_rates_release(&f->price);
}

void kp_skip_release(kp_skip *s)
{
	free(s->api_version);
	free(s->kind);
	free(s->namespace_);
	free(s->name);
	free(s->reason);
}

void kp_findings_release(kp_findings *f)
{
	for (size_t i = 0; i < f->items.len; i++)
		kp_finding_release(&f->items.items[i]);
	free(f->items.items);
	for (size_t i = 0; i < f->skipped.len; i++)
		kp_skip_release(&f->skipped.items[i]);
	free(f->skipped.items);
	kp_findings_init(f);
}

kp_finding *kp_findings_add(kp_findings *f, kp_category cat, const char *api_version, const char *kind,
			    const char *ns, const char *name, const char *container)
{
	kp_finding n;
	memset(&n, 0, sizeof(n));
	n.category = cat;
	n.api_version = kp_xstrdup(api_version);
	n.kind = kp_xstrdup(kind);
	n.namespace_ = dup_or_null(ns);
	n.name = kp_xstrdup(name);
	n.container = dup_or_null(container);
	kp_sizes_unset(&n.current);
	kp_sizes_unset(&n.recommended);
	n.confidence = KP_CONF_MEDIUM;
	kp_finding_compute_id(&n);
	KP_ARRAY_PUSH(f->items, n);
	return &f->items.items[f->items.len - 1];
}

void kp_finding_add_evidence(kp_finding *f, const char *metric, double value, bool has_value, const char *unit,
			     const char *fmt, ...)
{
	kp_evidence e;
	memset(&e, 0, sizeof(e));
	va_list ap;
	va_start(ap, fmt);
	e.summary = kp_xvasprintf(fmt, ap);
	va_end(ap);
	e.metric = dup_or_null(metric);
	e.value = value;
	e.has_value = has_value;
	e.unit = dup_or_null(unit);
	e.samples = -1;
	f->evidence = kp_xrealloc(f->evidence, (f->nevidence + 1) * sizeof(*f->evidence));
	f->evidence[f->nevidence++] = e;
}

void kp_finding_stamp_evidence(kp_finding *f, const char *source, const char *window, int64_t samples)
{
	for (size_t i = 0; i < f->nevidence; i++) {
		kp_evidence *e = &f->evidence[i];
		if (e->source)
			continue;
		e->source = kp_xstrdup(source);
		if (window && !e->window)
			e->window = kp_xstrdup(window);
		if (samples >= 0)
			e->samples = samples;
	}
}

void kp_findings_skip(kp_findings *f, const char *api_version, const char *kind, const char *ns, const char *name,
		      const char *fmt, ...)
{
	kp_skip s;
	s.api_version = kp_xstrdup(api_version);
	s.kind = kp_xstrdup(kind);
	s.namespace_ = dup_or_null(ns);
	s.name = kp_xstrdup(name);
	va_list ap;
	va_start(ap, fmt);
	s.reason = kp_xvasprintf(fmt, ap);
	va_end(ap);
	KP_ARRAY_PUSH(f->skipped, s);
}

void kp_finding_compute_id(kp_finding *f)
{
	/* Fields joined with a separator that cannot occur in Kubernetes names,
	 * so ("a","bc") and ("ab","c") hash differently. The id depends only on
	 * identity, never on numbers, so the same waste keeps its id nightly. */
	const char *parts[] = {kp_category_name(f->category), f->api_version, f->kind,
			       f->namespace_ ? f->namespace_ : "", f->name, f->container ? f->container : ""};
	uint64_t h = KP_FNV_SEED;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		h = kp_fnv1a64(parts[i], strlen(parts[i]), h);
		h = kp_fnv1a64("\x1f", 1, h);
	}
	snprintf(f->id, sizeof(f->id), "%016llx", (unsigned long long)h);
}

void kp_pricing_inputs_release(kp_pricing_inputs *p)
{
	for (size_t i = 0; i < p->ngroups; i++)
		free(p->groups[i].instance_type);
	for (size_t i = 0; i < p->nclasses; i++)
		free(p->classes[i].name);
	free(p->groups);
	free(p->classes);
	free(p->node);
	free(p->storage_class);
	memset(p, 0, sizeof(*p));
}

void kp_rates_release(kp_rates *r)
{
	for (size_t i = 0; i < r->nitems; i++) {
		free(r->items[i].name);
		free(r->items[i].source);
	}
	free(r->items);
	free(r->source);
	r->source = NULL;
	free(r->basis);
	free(r->nodes_label);
	r->items = NULL;
	r->nitems = 0;
	r->basis = r->nodes_label = NULL;
	r->cpu_specific = r->storage_specific = false;
}

bool kp_statefulset_claim(const char *claim, const char *tmpl, const char *sts)
{
	size_t lt = strlen(tmpl), ls = strlen(sts);
	if (strncmp(claim, tmpl, lt) != 0 || claim[lt] != '-')
		return false;
	const char *p = claim + lt + 1;
	if (strncmp(p, sts, ls) != 0 || p[ls] != '-')
		return false;
	p += ls + 1;
	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}
