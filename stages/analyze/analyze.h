/*
 * analyze.h - the analyze stage: deterministic rules over the cluster model
 * producing findings before prices and actions (analysis.json).
 *
 * Each rule family lives in rules/<family>.c and appends to a kp_findings
 * list; a rule never reports something as unused when the list it would need
 * was not collected: it records a `skipped` entry instead.
 */
#ifndef KP_ANALYZE_H
#define KP_ANALYZE_H

#include "pipeline/config.h"
#include "pipeline/model.h"
#include "pipeline/run.h"

/* The stage: the model from run->cluster (consumed) or from
 * run->dir/snapshot (model.bin when valid, else the raw files), the rules,
 * the run->namespaces scope, and run->dir/analysis.json. KP_ERR_USAGE when
 * run->dir holds no snapshot or a scoped namespace is not in it. */
kp_status kp_analyze_run(kp_run *run, kp_error *err);

/* KP_ERR_USAGE naming the first of run->namespaces that the snapshot's
 * namespace list does not have (a typo would give an empty report that
 * looks like good news); KP_OK when the list was not collected. */
kp_status kp_analyze_check_scope(const kp_run *run, const kp_cluster *c, kp_error *err);

typedef struct kp_analyze_ctx {
	kp_cluster *cluster;
	const kp_config *cfg;
	int64_t now; /* seconds since the epoch: --now, or the wall clock */
	kp_findings *out;
	/* usage entries grouped by workload (built on first use, see
	 * kp_workload_usage; freed by kp_analyze_ctx_release) */
	size_t *usage_start;
	const kp_usage **usage_by_workload;
	/* pods grouped by workload likewise (kp_workload_pods) */
	size_t *pods_start;
	const kp_pod **pods_by_workload;
	/* What one rule tells the ones after it, kept here and not in the
	 * model (which collect caches): workloads reported as idle as a whole
	 * (rightsizing leaves them alone) and LoadBalancer Services already
	 * priced in a zero-replica finding (not reported twice). Indexed like
	 * cluster->workloads and cluster->services; allocated on first mark. */
	bool *idle_workloads;
	bool *held_services;
	/* namespaces of pods whose controller is not in the snapshot
	 * (kp_pod_owner_dangling), sorted, one entry per pod; built on first use */
	const char **unattributed;
	size_t nunattributed;
	bool unattributed_built;
} kp_analyze_ctx;

/* How many pods in namespace ns name a controller that the snapshot does
 * not hold: their usage belongs to no workload, so no workload in ns is
 * judged from usage that may be partial (idle-workload, rightsizing). */
size_t kp_analyze_unattributed(kp_analyze_ctx *ctx, const char *ns);

void kp_analyze_mark_idle(kp_analyze_ctx *ctx, const kp_workload *w);
bool kp_analyze_is_idle(const kp_analyze_ctx *ctx, const kp_workload *w);
void kp_analyze_mark_held(kp_analyze_ctx *ctx, const kp_service *s);
bool kp_analyze_is_held(const kp_analyze_ctx *ctx, const kp_service *s);

/* The usage entries resolved to workload number wi (index into
 * cluster->workloads), live and replaced pods, in file order. */
const kp_usage *const *kp_workload_usage(kp_analyze_ctx *ctx, size_t wi, size_t *n);
/* The pods resolved to workload number wi, in file order. */
const kp_pod *const *kp_workload_pods(kp_analyze_ctx *ctx, size_t wi, size_t *n);
void kp_analyze_ctx_release(kp_analyze_ctx *ctx);

/* Runs every rule family, the scope.* filter and the pricing inputs. */
void kp_analyze(kp_analyze_ctx *ctx);
/* Name of the i-th rule family kp_analyze runs ("rightsizing"), NULL past the last. */
const char *kp_analyze_rule_name(size_t i);

void kp_rule_rightsizing(kp_analyze_ctx *ctx);      /* rules/rightsizing.c */
void kp_rule_orphaned_pvc(kp_analyze_ctx *ctx);      /* rules/orphaned_pvc.c */
void kp_rule_idle_workload(kp_analyze_ctx *ctx);     /* rules/idle_workload.c */
void kp_rule_zero_replica(kp_analyze_ctx *ctx);      /* rules/zero_replica.c */
void kp_rule_finished_job(kp_analyze_ctx *ctx);      /* rules/finished_job.c */
void kp_rule_unbound_pv(kp_analyze_ctx *ctx);        /* rules/unbound_pv.c */
void kp_rule_idle_loadbalancer(kp_analyze_ctx *ctx); /* rules/idle_loadbalancer.c */
void kp_rule_underutilized_node(kp_analyze_ctx *ctx); /* rules/underutilized_node.c */

/* scope.c: drops findings and skips outside scope.include_namespaces /
 * scope.exclude_namespaces / scope.exclude_kinds, counting them. */
void kp_scope_apply(kp_analyze_ctx *ctx);
bool kp_scope_excludes(const kp_config *cfg, const char *ns, const char *kind);
/* --namespace: keeps only findings and skipped entries in ns[0..n) (cluster-
 * scoped ones go too; a report for a team is about its namespaces). n == 0
 * keeps everything. Order is kept. */
void kp_scope_namespaces(kp_findings *f, const char *const *ns, size_t n);

/* --shard index/count (pipeline/shard.h), after every other scope: keeps
 * the findings and skipped entries of the namespaces the shard owns (and
 * in shard 0 the cluster-scoped ones), and of c->missing the entries in
 * those namespaces and the cluster-wide ones. Adds to positions "skipped"
 * and "missing": for each entry kept, its index in the list before (what
 * the unsharded run reports), in order. Returns how many missing entries
 * went. count 0 does nothing. */
size_t kp_scope_shard(kp_findings *f, kp_cluster *c, unsigned index, unsigned count, json_object *positions);
/* "Not collected" entries and the scope: whether entry m concerns a run
 * scoped to ns[0..n) (--namespace; n == 0: all) and cfg's scope.*, by the
 * same tests findings get. An entry without a namespace (cluster-wide)
 * always does; one about a workload follows scope.exclude_kinds too. */
bool kp_scope_keeps_missing(const kp_config *cfg, const char *const *ns, size_t n, const kp_missing *m);
/* Drops the entries of c->missing that kp_scope_keeps_missing rejects,
 * keeping the order; returns how many went. */
size_t kp_scope_missing(kp_cluster *c, const kp_config *cfg, const char *const *ns, size_t n);
/* -l/--selector: keeps only findings and skipped entries whose resource's
 * labels (in c) satisfy sel; returns how many findings went. NULL or an
 * empty selector keeps everything. Order is kept. */
size_t kp_scope_selector(kp_findings *f, const kp_cluster *c, const struct kp_selector *sel);
/* Each finding's origin as its object in c says it (kp_finding's
 * argocd_app, flux_kustomization, helm_release) and its team: the value of
 * the label team_label (NULL: none). */
void kp_scope_sources(kp_findings *f, const kp_cluster *c, const char *team_label);

/* Whether objects in this namespace are excluded (namespace labelled or
 * annotated kopilot.io/ignore=true). */
bool kp_namespace_ignored(const kp_cluster *c, const char *ns);

/* pricing_inputs.c: records in each finding what its money depends on
 * (f->pricing: node types of its pods, StorageClasses, its node's type),
 * after all rules ran, so the recommend stage, which reads only
 * analysis.json, can price it. Linear-logarithmic in pods + findings. */
void kp_analyze_pricing_inputs(const kp_cluster *c, kp_findings *out);
/* analysis.json "billing_keys": what a cloud bill names the cluster's
 * machines and disks by (node spec.providerID with its instance type and
 * spot flag; PV volume handle with its StorageClass and capacity), so the
 * recommend stage can read effective prices from a FOCUS export
 * (pipeline/focus.h). NULL when no node or volume has one. */
json_object *kp_analyze_billing_keys(const kp_cluster *c);

/* Strategy name written into the evidence of rightsizing findings. */
#define KP_RIGHTSIZING_STRATEGY "kopilot-peak-v1"

#endif
