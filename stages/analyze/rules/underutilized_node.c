/*
 * underutilized_node.c - nodes whose pods would fit on the other nodes.
 *
 * Needs nodes and pods (if pods were not collected every node is skipped
 * with a reason; without nodes nothing is listed, `missing` says so). If a
 * running pod names a node the snapshot does not hold (an inconsistency),
 * every node is skipped with that reason: a node that looks empty because
 * its pods could not be placed is never proposed for a drain.
 *
 * 1. Requested: for each node, the sum over the pods bound to it
 *    (spec.nodeName, phase not Succeeded/Failed) of each pod's effective
 *    request, as the scheduler computes it: regular containers plus native
 *    sidecars (init containers with restartPolicy Always), or, when larger,
 *    an init container plus the sidecars started before it. An unset request
 *    counts as 0. Pod overhead is not modelled.
 * 2. Candidates: Ready, schedulable (not cordoned) nodes, not control-plane
 *    (label or taint node-role.kubernetes.io/control-plane, or the legacy
 *    .../master), not kopilot.io/ignore=true (skipped with a reason), with
 *    requested CPU / allocatable CPU < nodes.max_requested_ratio (default
 *    0.5) AND the same for memory. A node with 90% requested is never one.
 * 3. Simulation, first-fit decreasing, deterministic: candidates in
 *    ascending order of max(cpu ratio, memory ratio), ties by name. For a
 *    candidate, DaemonSet pods (they die with the node) and static/mirror
 *    pods (owner kind Node) stay; every other pod must move. A movable pod
 *    with required node affinity (not evaluated) keeps the node. Movable
 *    pods are sorted by cpu/avg allocatable cpu + memory/avg allocatable
 *    memory, descending (ties by namespace/name), and each goes to the first
 *    other node in name order that is Ready, schedulable, not removed, has
 *    enough free allocatable CPU and memory (allocatable minus what its pods
 *    and earlier placements request; a zero request always fits, as in the
 *    scheduler), whose labels satisfy the pod's nodeSelector, and whose
 *    NoSchedule/NoExecute taints are all tolerated (Exists matches any
 *    value, an empty key with Exists tolerates everything, an empty effect
 *    matches every effect; PreferNoSchedule is ignored).
 *    If every movable pod fits, the node is removable: the placements are
 *    committed (the targets' free room shrinks) and the node is removed, so
 *    two nodes never count the same spare room. A node that received pods
 *    is no longer a candidate (its new pods would have to move again).
 * 4. Never below max(1, nodes.min_nodes) Ready schedulable nodes: the last
 *    node is never flagged.
 * 5. The node autoscalers' own annotations: a candidate whose operator
 *    disabled its scale-down (cluster-autoscaler.kubernetes.io/
 *    scale-down-disabled=true, Karpenter's karpenter.sh/do-not-disrupt=true
 *    or the older do-not-consolidate=true) is not a finding (skipped, with
 *    the annotation); it still takes moved pods. A pod that must move but
 *    is marked not to be evicted (cluster-autoscaler.kubernetes.io/
 *    safe-to-evict=false, karpenter.sh/do-not-disrupt=true or the older
 *    do-not-evict=true) leaves the finding standing, at risk critical and
 *    confidence low, naming the pods: the autoscaler will not take such a
 *    node away, so draining it is a decision for the pods' owners
 *    (nodes.not_evictable_pods: skip makes such a node no finding at all).
 * Not modelled (so confidence is medium and the action is a review):
 * actual usage (requests only), PodDisruptionBudgets, pod anti-affinity and
 * topology spread, preferred affinity, local storage (local PVs, hostPath,
 * emptyDir), the allocatable pod count, bare pods that a drain would delete
 * rather than reschedule, and pending pods that are not yet on any node.
 *
 * Finding: v1 Node, cluster-scoped; current = 1 replica of the node's
 * capacity (CPU and memory, priced at the per-core and per-GiB rates), so
 * savings = the node's cost. Risk HIGH (a drain disrupts every pod on it).
 *
 * Ownership: every index and scratch array is heap memory freed before
 * return; findings go to ctx->out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/analyze/analyze.h"
#include "pipeline/quantity.h"

#define CONTROL_PLANE "node-role.kubernetes.io/control-plane"
#define MASTER "node-role.kubernetes.io/master"

typedef struct {
	kp_node *node;
	int64_t req_cpu, req_mem;   /* requested by the pods bound to it */
	int64_t free_cpu, free_mem; /* allocatable minus requested minus placements */
	size_t pod_first, npods;    /* its pods in the by-node pod list */
	bool usable;                /* Ready and schedulable: can host moved pods */
	bool candidate, removed, received;
	double cpu_ratio, mem_ratio;
} node_state;

typedef struct {
	const kp_pod *pod;
	int64_t cpu, mem;
	double key;
} pod_req;

typedef struct {
	size_t target;
	int64_t cpu, mem;
} placement;

static bool eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static int64_t nz(int64_t v)
{
	return v > 0 ? v : 0;
}

/* The scheduler's effective request of a pod (resource helpers
 * PodRequests): max(regular + sidecars, max over init containers of the
 * init container plus the sidecars declared before it). Containers are
 * stored init containers first, in order. */
static void pod_request(const kp_podspec *ps, int64_t *cpu, int64_t *mem)
{
	int64_t run_cpu = 0, run_mem = 0, side_cpu = 0, side_mem = 0, init_cpu = 0, init_mem = 0;
	for (size_t i = 0; i < ps->ncontainers; i++) {
		const kp_container *k = &ps->containers[i];
		int64_t kc = nz(k->cpu_request_m), km = nz(k->mem_request_b);
		if (!k->init) {
			run_cpu = kp_add_sat(run_cpu, kc);
			run_mem = kp_add_sat(run_mem, km);
		} else if (k->sidecar) {
			side_cpu = kp_add_sat(side_cpu, kc);
			side_mem = kp_add_sat(side_mem, km);
		} else {
			if (kp_add_sat(kc, side_cpu) > init_cpu)
				init_cpu = kp_add_sat(kc, side_cpu);
			if (kp_add_sat(km, side_mem) > init_mem)
				init_mem = kp_add_sat(km, side_mem);
		}
	}
	run_cpu = kp_add_sat(run_cpu, side_cpu);
	run_mem = kp_add_sat(run_mem, side_mem);
	*cpu = run_cpu > init_cpu ? run_cpu : init_cpu;
	*mem = run_mem > init_mem ? run_mem : init_mem;
}

static bool is_control_plane(const kp_node *n)
{
	if (kp_meta_label(&n->meta, CONTROL_PLANE) || kp_meta_label(&n->meta, MASTER))
		return true;
	for (size_t i = 0; i < n->ntaints; i++)
		if (eq(n->taints[i].key, CONTROL_PLANE) || eq(n->taints[i].key, MASTER))
			return true;
	return false;
}

/* Kubernetes' Toleration.ToleratesTaint. */
static bool tolerates(const kp_toleration *t, const kp_taint *taint)
{
	if (t->effect && *t->effect && !eq(t->effect, taint->effect))
		return false;
	if (t->key && *t->key && !eq(t->key, taint->key))
		return false;
	if (eq(t->op, "Exists"))
		return true;
	if (!t->op || !*t->op || eq(t->op, "Equal"))
		return eq(t->value, taint->value);
	return false;
}

static bool fits_taints(const kp_podspec *ps, const kp_node *n)
{
	for (size_t i = 0; i < n->ntaints; i++) {
		const kp_taint *taint = &n->taints[i];
		if (!eq(taint->effect, "NoSchedule") && !eq(taint->effect, "NoExecute"))
			continue;
		bool ok = false;
		for (size_t t = 0; t < ps->ntolerations && !ok; t++)
			ok = tolerates(&ps->tolerations[t], taint);
		if (!ok)
			return false;
	}
	return true;
}

static bool fits_selector(const kp_podspec *ps, const kp_node *n)
{
	for (size_t i = 0; i < ps->nnode_selector; i++) {
		const char *v = kp_meta_label(&n->meta, ps->node_selector[i].key);
		if (!v || !eq(v, ps->node_selector[i].value))
			return false;
	}
	return true;
}

/* ---- sorting ---- */

static const node_state *g_sort_nodes; /* qsort has no context argument; single-threaded use */

static int cmp_node_name(const void *a, const void *b)
{
	const node_state *x = a, *y = b;
	return strcmp(x->node->meta.name, y->node->meta.name);
}

static int cmp_name_key(const void *key, const void *elem)
{
	return strcmp((const char *)key, ((const node_state *)elem)->node->meta.name);
}

static int cmp_candidate(const void *a, const void *b)
{
	const node_state *x = &g_sort_nodes[*(const size_t *)a], *y = &g_sort_nodes[*(const size_t *)b];
	double mx = x->cpu_ratio > x->mem_ratio ? x->cpu_ratio : x->mem_ratio;
	double my = y->cpu_ratio > y->mem_ratio ? y->cpu_ratio : y->mem_ratio;
	if (mx != my)
		return mx < my ? -1 : 1;
	return strcmp(x->node->meta.name, y->node->meta.name);
}

static int cmp_pod_req(const void *a, const void *b)
{
	const pod_req *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	int r = strcmp(x->pod->meta.namespace_ ? x->pod->meta.namespace_ : "",
		       y->pod->meta.namespace_ ? y->pod->meta.namespace_ : "");
	return r ? r : strcmp(x->pod->meta.name, y->pod->meta.name);
}

static bool pod_active(const kp_pod *p)
{
	return !eq(p->phase, "Succeeded") && !eq(p->phase, "Failed");
}

/* Node index for a pod's spec.nodeName in the name-sorted array, or -1. */
static long node_of(const node_state *ns, size_t n, const char *name)
{
	if (!name)
		return -1;
	const node_state *hit = bsearch(name, ns, n, sizeof(*ns), cmp_name_key);
	return hit ? (long)(hit - ns) : -1;
}

static bool ann_is(const kp_meta *m, const char *key, const char *value)
{
	const char *v = kp_meta_annotation(m, key);
	return v && strcmp(v, value) == 0;
}

/* The annotation by which a node's operator keeps autoscalers from
 * removing it, NULL when none says so. */
static const char *scale_down_disabled(const kp_node *n)
{
	if (ann_is(&n->meta, KP_ANN_CA_SCALE_DOWN_DISABLED, "true"))
		return KP_ANN_CA_SCALE_DOWN_DISABLED "=true";
	if (ann_is(&n->meta, KP_ANN_KARPENTER_DO_NOT_DISRUPT, "true"))
		return KP_ANN_KARPENTER_DO_NOT_DISRUPT "=true";
	if (ann_is(&n->meta, KP_ANN_KARPENTER_DO_NOT_CONSOLIDATE, "true"))
		return KP_ANN_KARPENTER_DO_NOT_CONSOLIDATE "=true";
	return NULL;
}

/* Whether a pod is marked not to be evicted by a node autoscaler. */
static bool not_evictable(const kp_pod *p)
{
	return ann_is(&p->meta, KP_ANN_CA_SAFE_TO_EVICT, "false") ||
	       ann_is(&p->meta, KP_ANN_KARPENTER_DO_NOT_DISRUPT, "true") ||
	       ann_is(&p->meta, KP_ANN_KARPENTER_DO_NOT_EVICT, "true");
}

static void add_finding(kp_analyze_ctx *x, const node_state *ns, const node_state *cand, const pod_req *moved,
			size_t nmoved, const placement *pl, size_t stay_ds, size_t stay_static)
{
	const kp_node *n = cand->node;
	kp_finding *f = kp_findings_add(x->out, KP_CAT_UNDERUTILIZED_NODE, "v1", "Node", NULL, n->meta.name, NULL);
	/* A node has no requests of its own: "current" stays empty and the
	 * finding's "node" says what the evidence does (capacity, allocatable,
	 * what the pods request). It is priced at its capacity (money.c). */
	f->has_node = true;
	f->node = (kp_node_sizes){
		.cpu_capacity_m = n->cap_cpu_m > 0 ? n->cap_cpu_m : KP_UNSET,
		.cpu_allocatable_m = n->alloc_cpu_m,
		.cpu_requested_m = cand->req_cpu,
		.mem_capacity_b = n->cap_mem_b > 0 ? n->cap_mem_b : KP_UNSET,
		.mem_allocatable_b = n->alloc_mem_b,
		.mem_requested_b = cand->req_mem,
	};
	f->has_recommended = false;
	f->confidence = KP_CONF_MEDIUM; /* requests, not usage; PDBs not modelled */
	f->risk = KP_RISK_HIGH;         /* a drain disrupts every pod on the node */
	char a[32], b[32];
	kp_format_cpu(cand->req_cpu, a, sizeof(a));
	kp_format_cpu(n->alloc_cpu_m, b, sizeof(b));
	kp_finding_add_evidence(f, "cpu_requested_ratio", cand->cpu_ratio, true, "ratio",
				"Pods request %s of %s allocatable CPU (%.0f%%, threshold %.0f%%)", a, b,
				cand->cpu_ratio * 100, x->cfg->rules.nodes.max_requested_ratio * 100);
	kp_format_bytes(cand->req_mem, a, sizeof(a));
	kp_format_bytes(n->alloc_mem_b, b, sizeof(b));
	kp_finding_add_evidence(f, "memory_requested_ratio", cand->mem_ratio, true, "ratio",
				"Pods request %s of %s allocatable memory (%.0f%%, threshold %.0f%%)", a, b,
				cand->mem_ratio * 100, x->cfg->rules.nodes.max_requested_ratio * 100);
	kp_buf s;
	kp_buf_init(&s);
	if (nmoved == 0) {
		kp_buf_puts(&s, "No pod has to move");
	} else {
		kp_buf_printf(&s, "%zu pod%s would move to the other nodes: ", nmoved, nmoved == 1 ? "" : "s");
		for (size_t i = 0; i < nmoved && i < 5; i++)
			kp_buf_printf(&s, "%s%s/%s to %s", i ? ", " : "",
				      moved[i].pod->meta.namespace_ ? moved[i].pod->meta.namespace_ : "",
				      moved[i].pod->meta.name, ns[pl[i].target].node->meta.name);
		if (nmoved > 5)
			kp_buf_printf(&s, " and %zu more", nmoved - 5);
	}
	if (stay_ds || stay_static)
		kp_buf_printf(&s, "; %zu DaemonSet and %zu static pod%s stay with the node", stay_ds, stay_static,
			      stay_static == 1 ? "" : "s");
	kp_finding_add_evidence(f, "pods_to_move", (double)nmoved, true, "pods", "%s", kp_buf_cstr(&s));
	kp_buf_release(&s);
	if (n->instance_type || n->spot)
		kp_finding_add_evidence(f, "instance_type", n->spot ? 1 : 0, false, NULL, "Instance type %s%s",
					n->instance_type ? n->instance_type : "unknown",
					n->spot ? ", spot/preemptible capacity" : "");
	size_t pinned = 0;
	kp_buf_init(&s);
	for (size_t i = 0; i < nmoved; i++) {
		const kp_pod *p = moved[i].pod;
		if (!not_evictable(p))
			continue;
		if (pinned++ < 5)
			kp_buf_printf(&s, "%s%s/%s", pinned > 1 ? ", " : "", p->meta.namespace_ ? p->meta.namespace_ : "",
				      p->meta.name);
	}
	if (pinned) {
		/* the autoscaler itself would never take this node away while
		 * they run: a drain overrides their owners' word (or, with
		 * nodes.not_evictable_pods: skip, the caller said no finding) */
		f->risk = KP_RISK_CRITICAL;
		f->confidence = KP_CONF_LOW;
		kp_finding_add_evidence(f, "pods_not_evictable", (double)pinned, true, "pods",
					"%zu pod%s that would move %s marked not to be evicted (%s=false or %s=true): %s%s. "
					"The cluster autoscaler keeps a node with such pods, so draining it is a decision "
					"for their owners, never a routine step",
					pinned, pinned == 1 ? "" : "s", pinned == 1 ? "is" : "are", KP_ANN_CA_SAFE_TO_EVICT,
					KP_ANN_KARPENTER_DO_NOT_DISRUPT, kp_buf_cstr(&s), pinned > 5 ? " and more" : "");
	}
	kp_buf_release(&s);
	kp_finding_add_evidence(f, NULL, 0, false, NULL,
				"Simulated on requests, not usage; PodDisruptionBudgets, pod anti-affinity, local "
				"storage and pod-count limits are not modelled: review before draining");
	kp_finding_stamp_evidence(f, "kube-api", NULL, -1);
}

void kp_rule_underutilized_node(kp_analyze_ctx *x)
{
	kp_cluster *c = x->cluster;
	if (!c->collected[KP_RES_NODES] || c->nodes.len == 0)
		return; /* reported in `missing`; nothing to list */
	if (!c->collected[KP_RES_PODS]) {
		for (size_t i = 0; i < c->nodes.len; i++)
			kp_findings_skip(x->out, "v1", "Node", NULL, c->nodes.items[i].meta.name,
					 "pods not collected: cannot tell what this node runs");
		return;
	}
	size_t nn = c->nodes.len;
	node_state *ns = kp_xcalloc(nn, sizeof(*ns));
	for (size_t i = 0; i < nn; i++)
		ns[i].node = &c->nodes.items[i];
	qsort(ns, nn, sizeof(*ns), cmp_node_name);

	/* Pods by node: count, prefix sums, fill (CSR layout). */
	const kp_pod **bynode = NULL;
	size_t nbound = 0;
	long *pod_node = kp_xmalloc((c->pods.len ? c->pods.len : 1) * sizeof(long));
	size_t unplaced = 0;
	const kp_pod *first_unplaced = NULL;
	for (size_t p = 0; p < c->pods.len; p++) {
		const kp_pod *pod = &c->pods.items[p];
		pod_node[p] = pod_active(pod) ? node_of(ns, nn, pod->spec.node_name) : -1;
		if (pod_node[p] >= 0) {
			ns[pod_node[p]].npods++;
			nbound++;
		} else if (pod_active(pod) && pod->spec.node_name) {
			if (!unplaced++)
				first_unplaced = pod;
		}
	}
	/* A running pod on a node the snapshot does not hold: its requests
	 * are somewhere we cannot see, and the nodes we can see may look
	 * emptier than they are. No drain is ever proposed on that absence. */
	if (unplaced) {
		for (size_t i = 0; i < nn; i++)
			kp_findings_skip(x->out, "v1", "Node", NULL, ns[i].node->meta.name,
					 "%zu running pod%s (first: %s/%s on \"%s\") name%s a node that is not among the "
					 "collected nodes: the snapshot is inconsistent, so no node is judged underutilized",
					 unplaced, unplaced == 1 ? "" : "s", first_unplaced->meta.namespace_,
					 first_unplaced->meta.name, first_unplaced->spec.node_name, unplaced == 1 ? "s" : "");
		free(pod_node);
		free(ns);
		return;
	}
	bynode = kp_xmalloc((nbound ? nbound : 1) * sizeof(*bynode));
	size_t off = 0;
	for (size_t i = 0; i < nn; i++) {
		ns[i].pod_first = off;
		off += ns[i].npods;
		ns[i].npods = 0;
	}
	for (size_t p = 0; p < c->pods.len; p++) {
		if (pod_node[p] < 0)
			continue;
		node_state *s = &ns[pod_node[p]];
		const kp_pod *pod = &c->pods.items[p];
		bynode[s->pod_first + s->npods++] = pod;
		int64_t pc, pm;
		pod_request(&pod->spec, &pc, &pm);
		s->req_cpu = kp_add_sat(s->req_cpu, pc);
		s->req_mem = kp_add_sat(s->req_mem, pm);
	}
	free(pod_node);

	/* Capacity, usability, candidates. */
	double sum_cpu = 0, sum_mem = 0;
	size_t nsum = 0, usable = 0, ncand = 0;
	for (size_t i = 0; i < nn; i++) {
		node_state *s = &ns[i];
		const kp_node *n = s->node;
		s->free_cpu = n->alloc_cpu_m - s->req_cpu;
		s->free_mem = n->alloc_mem_b - s->req_mem;
		bool has_alloc = n->alloc_cpu_m > 0 && n->alloc_mem_b > 0;
		if (has_alloc) {
			sum_cpu += (double)n->alloc_cpu_m;
			sum_mem += (double)n->alloc_mem_b;
			nsum++;
		}
		s->usable = n->ready && !n->unschedulable && has_alloc;
		if (s->usable)
			usable++;
		if (n->meta.ignored) {
			kp_findings_skip(x->out, "v1", "Node", NULL, n->meta.name, "excluded by kopilot.io/ignore=true");
			continue;
		}
		if (!has_alloc) {
			kp_findings_skip(x->out, "v1", "Node", NULL, n->meta.name,
					 "no allocatable CPU or memory in its status: cannot tell how full it is");
			continue;
		}
		if (!s->usable || is_control_plane(n))
			continue;
		s->cpu_ratio = (double)s->req_cpu / (double)n->alloc_cpu_m;
		s->mem_ratio = (double)s->req_mem / (double)n->alloc_mem_b;
		double max = x->cfg->rules.nodes.max_requested_ratio;
		if (s->cpu_ratio < max && s->mem_ratio < max) {
			const char *kept = scale_down_disabled(n);
			if (kept) { /* its operator's word; it still takes moved pods */
				kp_findings_skip(x->out, "v1", "Node", NULL, n->meta.name,
						 "scale-down disabled by its operator (annotation %s): not proposed for "
						 "removal, though its pods request only %.0f%% of its CPU and %.0f%% of its "
						 "memory",
						 kept, s->cpu_ratio * 100, s->mem_ratio * 100);
				continue;
			}
			s->candidate = true;
			ncand++;
		}
	}
	double avg_cpu = nsum && sum_cpu > 0 ? sum_cpu / (double)nsum : 1;
	double avg_mem = nsum && sum_mem > 0 ? sum_mem / (double)nsum : 1;
	size_t keep = x->cfg->rules.nodes.min_nodes > 1 ? (size_t)x->cfg->rules.nodes.min_nodes : 1;

	size_t *order = kp_xmalloc((ncand ? ncand : 1) * sizeof(*order));
	for (size_t i = 0, k = 0; i < nn; i++)
		if (ns[i].candidate)
			order[k++] = i;
	g_sort_nodes = ns;
	if (ncand > 1)
		qsort(order, ncand, sizeof(*order), cmp_candidate);

	bool skip_pinned = strcmp(x->cfg->rules.nodes.not_evictable_pods, "skip") == 0;
	pod_req *moved = NULL;
	placement *pl = NULL;
	size_t cap = 0, removed = 0;
	for (size_t k = 0; k < ncand; k++) {
		node_state *cand = &ns[order[k]];
		if (cand->received)
			continue; /* holds pods moved in by an earlier removal */
		if (usable - removed <= keep)
			break; /* removing it would go below the minimum */
		if (cand->npods > cap) {
			cap = cand->npods;
			moved = kp_xrealloc(moved, cap * sizeof(*moved));
			pl = kp_xrealloc(pl, cap * sizeof(*pl));
		}
		size_t nmoved = 0, stay_ds = 0, stay_static = 0;
		bool pinned = false;
		for (size_t p = 0; p < cand->npods && !pinned; p++) {
			const kp_pod *pod = bynode[cand->pod_first + p];
			if (eq(pod->meta.owner_kind, "DaemonSet")) {
				stay_ds++;
				continue;
			}
			if (eq(pod->meta.owner_kind, "Node")) {
				stay_static++;
				continue;
			}
			if (pod->spec.has_affinity) {
				pinned = true; /* required node affinity: we cannot say where it may go */
				break;
			}
			if (skip_pinned && not_evictable(pod)) {
				pinned = true; /* nodes.not_evictable_pods: skip */
				kp_findings_skip(x->out, "v1", "Node", NULL, cand->node->meta.name,
						 "pod %s/%s must move but is marked not to be evicted, and "
						 "nodes.not_evictable_pods is skip",
						 pod->meta.namespace_ ? pod->meta.namespace_ : "", pod->meta.name);
				break;
			}
			pod_req *r = &moved[nmoved++];
			r->pod = pod;
			pod_request(&pod->spec, &r->cpu, &r->mem);
			r->key = (double)r->cpu / avg_cpu + (double)r->mem / avg_mem;
		}
		if (pinned)
			continue;
		if (nmoved > 1)
			qsort(moved, nmoved, sizeof(*moved), cmp_pod_req);

		/* Place each pod, subtracting as we go; roll back on failure. */
		size_t placed = 0;
		for (; placed < nmoved; placed++) {
			const pod_req *r = &moved[placed];
			size_t t = 0;
			for (; t < nn; t++) {
				const node_state *tg = &ns[t];
				if (tg == cand || !tg->usable || tg->removed)
					continue;
				if ((r->cpu > 0 && r->cpu > tg->free_cpu) || (r->mem > 0 && r->mem > tg->free_mem))
					continue;
				if (fits_selector(&r->pod->spec, tg->node) && fits_taints(&r->pod->spec, tg->node))
					break;
			}
			if (t == nn)
				break;
			pl[placed].target = t;
			pl[placed].cpu = r->cpu;
			pl[placed].mem = r->mem;
			ns[t].free_cpu -= r->cpu;
			ns[t].free_mem -= r->mem;
		}
		if (placed < nmoved) {
			for (size_t i = 0; i < placed; i++) {
				ns[pl[i].target].free_cpu += pl[i].cpu;
				ns[pl[i].target].free_mem += pl[i].mem;
			}
			continue;
		}
		cand->removed = true;
		removed++;
		for (size_t i = 0; i < placed; i++)
			ns[pl[i].target].received = true;
		add_finding(x, ns, cand, moved, nmoved, pl, stay_ds, stay_static);
	}
	g_sort_nodes = NULL;
	free(moved);
	free(pl);
	free(order);
	free(bynode);
	free(ns);
}
