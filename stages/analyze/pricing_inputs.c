/*
 * pricing_inputs.c - the analyze stage's half of per-finding prices: after
 * all rules ran, records in each finding what its money depends on (the
 * node types its pods run on, its StorageClass, its node's type) as the
 * finding's typed pricing inputs (kp_pricing_inputs in pipeline/model.h,
 * the "pricing" object of analysis.json). The recommend stage, which reads
 * only analysis.json, turns them into rates through pipeline/money.h.
 *
 * What is recorded, by category:
 *   over-/under-provisioned, idle-workload: the workload's pods (pod ->
 *     workload as resolved by the snapshot loader, pod -> node through
 *     spec.nodeName) grouped by node instance type, spot flag and node
 *     capacity; pods not on a known node, or on a node without an instance
 *     type label, are counted as "pods_elsewhere" (global prices);
 *   orphaned-pvc: the claim's StorageClass (the default class when unset);
 *   unbound-pv: the volume's StorageClass;
 *   zero-replica-workload: bytes per StorageClass of the claims it holds
 *     (spec volumes, and <template>-<name>-<ordinal> for StatefulSets);
 *   underutilized-node: the node's instance type, spot flag and capacity;
 *   anything else: nothing (global prices).
 * Prices themselves are not looked at here: which node types have a price is
 * the recommend stage's configuration.
 *
 * Indexes (sorted pointer arrays, binary search) keep this O((pods +
 * findings) log n). Everything allocated here is freed before returning
 * except each f->pricing, owned by its finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stages/analyze/analyze.h"

typedef struct {
	const char *type; /* NULL: no instance type label */
	bool spot;
	int64_t cpu_m, mem_b;
	int64_t pods;
} node_group;

static int str_cmp0(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int cmp_node(const void *a, const void *b)
{
	return strcmp((*(const kp_node *const *)a)->meta.name, (*(const kp_node *const *)b)->meta.name);
}

static int cmp_pod_wl(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)(*(const kp_pod *const *)a)->workload, y = (uintptr_t)(*(const kp_pod *const *)b)->workload;
	return x < y ? -1 : x > y;
}

static int cmp_wl(const void *a, const void *b)
{
	const kp_workload *x = *(const kp_workload *const *)a, *y = *(const kp_workload *const *)b;
	if (x->wkind != y->wkind)
		return x->wkind < y->wkind ? -1 : 1;
	int c = str_cmp0(x->meta.namespace_, y->meta.namespace_);
	return c ? c : strcmp(x->meta.name, y->meta.name);
}

static int cmp_pvc(const void *a, const void *b)
{
	const kp_pvc *x = *(const kp_pvc *const *)a, *y = *(const kp_pvc *const *)b;
	int c = str_cmp0(x->meta.namespace_, y->meta.namespace_);
	return c ? c : strcmp(x->meta.name, y->meta.name);
}

static int cmp_pv(const void *a, const void *b)
{
	return strcmp((*(const kp_pv *const *)a)->meta.name, (*(const kp_pv *const *)b)->meta.name);
}

static int cmp_group(const void *a, const void *b)
{
	const node_group *x = a, *y = b;
	int c = str_cmp0(x->type, y->type);
	if (c)
		return c;
	if (x->spot != y->spot)
		return x->spot ? 1 : -1;
	if (x->cpu_m != y->cpu_m)
		return x->cpu_m < y->cpu_m ? -1 : 1;
	return x->mem_b < y->mem_b ? -1 : x->mem_b > y->mem_b;
}

typedef struct {
	const kp_cluster *c;
	const kp_node **nodes;
	const kp_pod **pods; /* pods with a workload, sorted by workload */
	size_t npods;
	const kp_workload **wls;
	const kp_pvc **pvcs;
	const kp_pv **pvs;
	const char *default_class;
} idx_t;

static const kp_node *find_node(const idx_t *x, const char *name)
{
	if (!name)
		return NULL;
	size_t lo = 0, hi = x->c->nodes.len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(x->nodes[mid]->meta.name, name);
		if (c == 0)
			return x->nodes[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const kp_workload *find_wl(const idx_t *x, kp_workload_kind k, const char *ns, const char *name)
{
	kp_workload key;
	memset(&key, 0, sizeof(key));
	key.wkind = k;
	key.meta.namespace_ = ns;
	key.meta.name = name;
	const kp_workload *kp = &key;
	const kp_workload **hit = bsearch(&kp, x->wls, x->c->workloads.len, sizeof(*x->wls), cmp_wl);
	return hit ? *hit : NULL;
}

/* First PVC in namespace ns whose name is >= name (lower bound). */
static size_t pvc_lower(const idx_t *x, const char *ns, const char *name)
{
	size_t lo = 0, hi = x->c->pvcs.len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const kp_pvc *p = x->pvcs[mid];
		int c = str_cmp0(p->meta.namespace_, ns);
		if (!c)
			c = strcmp(p->meta.name, name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const kp_pvc *find_pvc(const idx_t *x, const char *ns, const char *name)
{
	size_t i = pvc_lower(x, ns, name);
	if (i < x->c->pvcs.len && str_cmp0(x->pvcs[i]->meta.namespace_, ns) == 0 && strcmp(x->pvcs[i]->meta.name, name) == 0)
		return x->pvcs[i];
	return NULL;
}

static const char *class_of(const idx_t *x, const char *sc)
{
	/* unset = the default StorageClass; "" = explicitly no class */
	return sc ? (*sc ? sc : NULL) : x->default_class;
}

static int64_t cap(int64_t capacity, int64_t allocatable)
{
	return capacity > 0 ? capacity : allocatable > 0 ? allocatable : 0;
}

static void workload_inputs(const idx_t *x, const kp_workload *w, kp_finding *f)
{
	/* pods of w: a run in the pods array sorted by workload */
	size_t lo = 0, hi = x->npods;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((uintptr_t)x->pods[mid]->workload < (uintptr_t)w)
			lo = mid + 1;
		else
			hi = mid;
	}
	node_group *g = NULL;
	size_t ng = 0, cap_g = 0;
	int64_t elsewhere = 0;
	for (size_t i = lo; i < x->npods && x->pods[i]->workload == w; i++) {
		const kp_node *n = find_node(x, x->pods[i]->spec.node_name);
		if (!n || !n->instance_type) {
			if (x->pods[i]->spec.node_name)
				elsewhere++;
			continue;
		}
		node_group k = {n->instance_type, n->spot, cap(n->cap_cpu_m, n->alloc_cpu_m), cap(n->cap_mem_b, n->alloc_mem_b), 1};
		size_t j = 0;
		while (j < ng && cmp_group(&g[j], &k) != 0) /* few groups per workload */
			j++;
		if (j < ng) {
			g[j].pods++;
			continue;
		}
		if (ng == cap_g) {
			cap_g = cap_g ? cap_g * 2 : 4;
			g = kp_xrealloc(g, cap_g * sizeof(*g));
		}
		g[ng++] = k;
	}
	if (ng == 0) {
		free(g);
		return; /* no pod on a typed node: the global prices */
	}
	qsort(g, ng, sizeof(*g), cmp_group);
	kp_pricing_inputs *in = &f->pricing;
	in->by = KP_PRICED_PODS;
	in->groups = kp_xcalloc(ng, sizeof(*in->groups));
	for (size_t j = 0; j < ng; j++)
		in->groups[j] = (kp_node_group){kp_xstrdup(g[j].type), g[j].spot, g[j].cpu_m, g[j].mem_b, g[j].pods};
	in->ngroups = ng;
	in->pods_elsewhere = elsewhere;
	free(g);
}

static void add_claim(kp_pricing_inputs *in, const kp_pvc *p, const idx_t *x)
{
	const char *sc = class_of(x, p->storage_class);
	if (!sc || p->storage_bytes <= 0)
		return;
	for (size_t i = 0; i < in->nclasses; i++)
		if (strcmp(in->classes[i].name, sc) == 0) {
			in->classes[i].bytes = kp_add_sat(in->classes[i].bytes, p->storage_bytes);
			return;
		}
	in->classes = kp_xrealloc(in->classes, (in->nclasses + 1) * sizeof(*in->classes));
	in->classes[in->nclasses++] = (kp_class_bytes){kp_xstrdup(sc), p->storage_bytes};
}

static void zero_replica_inputs(const idx_t *x, const kp_workload *w, kp_finding *f)
{
	const char *ns = w->meta.namespace_;
	kp_pricing_inputs *classes = &f->pricing;
	for (size_t i = 0; i < w->spec.nclaims; i++) {
		/* a claim named twice (two volumes) is still one disk */
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(w->spec.claims[j], w->spec.claims[i]) == 0;
		const kp_pvc *p = seen ? NULL : find_pvc(x, ns, w->spec.claims[i]);
		if (p)
			add_claim(classes, p, x);
	}
	for (size_t t = 0; t < w->nclaim_templates; t++) {
		char *prefix = kp_xasprintf("%s-%s-", w->claim_templates[t], w->meta.name);
		size_t plen = strlen(prefix);
		for (size_t i = pvc_lower(x, ns, prefix); i < x->c->pvcs.len; i++) {
			const kp_pvc *p = x->pvcs[i];
			if (str_cmp0(p->meta.namespace_, ns) != 0 || strncmp(p->meta.name, prefix, plen) != 0)
				break;
			if (kp_statefulset_claim(p->meta.name, w->claim_templates[t], w->meta.name))
				add_claim(classes, p, x);
		}
		free(prefix);
	}
	if (classes->nclasses)
		classes->by = KP_PRICED_CLASSES;
}

static void storage_class_input(kp_finding *f, const char *sc)
{
	if (!sc)
		return;
	f->pricing.by = KP_PRICED_CLASS;
	f->pricing.storage_class = kp_xstrdup(sc);
}

void kp_analyze_pricing_inputs(const kp_cluster *c, kp_findings *out)
{
	idx_t x;
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.nodes = kp_xcalloc(c->nodes.len + 1, sizeof(*x.nodes));
	for (size_t i = 0; i < c->nodes.len; i++)
		x.nodes[i] = &c->nodes.items[i];
	qsort(x.nodes, c->nodes.len, sizeof(*x.nodes), cmp_node);
	x.pods = kp_xcalloc(c->pods.len + 1, sizeof(*x.pods));
	for (size_t i = 0; i < c->pods.len; i++)
		if (c->pods.items[i].workload)
			x.pods[x.npods++] = &c->pods.items[i];
	/* stable order inside a workload's run does not matter: only counts are kept */
	qsort(x.pods, x.npods, sizeof(*x.pods), cmp_pod_wl);
	x.wls = kp_xcalloc(c->workloads.len + 1, sizeof(*x.wls));
	for (size_t i = 0; i < c->workloads.len; i++)
		x.wls[i] = &c->workloads.items[i];
	qsort(x.wls, c->workloads.len, sizeof(*x.wls), cmp_wl);
	x.pvcs = kp_xcalloc(c->pvcs.len + 1, sizeof(*x.pvcs));
	for (size_t i = 0; i < c->pvcs.len; i++)
		x.pvcs[i] = &c->pvcs.items[i];
	qsort(x.pvcs, c->pvcs.len, sizeof(*x.pvcs), cmp_pvc);
	x.pvs = kp_xcalloc(c->pvs.len + 1, sizeof(*x.pvs));
	for (size_t i = 0; i < c->pvs.len; i++)
		x.pvs[i] = &c->pvs.items[i];
	qsort(x.pvs, c->pvs.len, sizeof(*x.pvs), cmp_pv);
	for (size_t i = 0; i < c->storageclasses.len && !x.default_class; i++)
		if (c->storageclasses.items[i].is_default)
			x.default_class = c->storageclasses.items[i].meta.name;

	for (size_t i = 0; i < out->items.len; i++) {
		kp_finding *f = &out->items.items[i];
		kp_workload_kind k;
		switch (f->category) {
		case KP_CAT_OVER_PROVISIONED:
		case KP_CAT_UNDER_PROVISIONED:
		case KP_CAT_IDLE_WORKLOAD:
		case KP_CAT_ZERO_REPLICA_WORKLOAD: {
			const kp_workload *w = kp_workload_kind_parse(f->kind, &k) ? find_wl(&x, k, f->namespace_, f->name) : NULL;
			if (w && f->category == KP_CAT_ZERO_REPLICA_WORKLOAD)
				zero_replica_inputs(&x, w, f);
			else if (w)
				workload_inputs(&x, w, f);
			break;
		}
		case KP_CAT_ORPHANED_PVC: {
			const kp_pvc *p = f->namespace_ ? find_pvc(&x, f->namespace_, f->name) : NULL;
			if (p)
				storage_class_input(f, class_of(&x, p->storage_class));
			break;
		}
		case KP_CAT_UNBOUND_PV: {
			kp_pv key;
			memset(&key, 0, sizeof(key));
			key.meta.name = f->name;
			const kp_pv *kp = &key;
			const kp_pv **hit = bsearch(&kp, x.pvs, c->pvs.len, sizeof(*x.pvs), cmp_pv);
			/* a PV's class is what it says: no default applies */
			if (hit && (*hit)->storage_class && *(*hit)->storage_class)
				storage_class_input(f, (*hit)->storage_class);
			break;
		}
		case KP_CAT_UNDERUTILIZED_NODE: {
			const kp_node *n = find_node(&x, f->name);
			if (n && n->instance_type) {
				kp_pricing_inputs *in = &f->pricing;
				in->by = KP_PRICED_NODE;
				in->node = kp_xstrdup(n->meta.name);
				in->groups = kp_xcalloc(1, sizeof(*in->groups));
				in->groups[0] = (kp_node_group){kp_xstrdup(n->instance_type), n->spot,
								cap(n->cap_cpu_m, n->alloc_cpu_m),
								cap(n->cap_mem_b, n->alloc_mem_b), 1};
				in->ngroups = 1;
			}
			break;
		}
		default:
			break;
		}
	}
	free(x.nodes);
	free(x.pods);
	free(x.wls);
	free(x.pvcs);
	free(x.pvs);
}

json_object *kp_analyze_billing_keys(const kp_cluster *c)
{
	json_object *nodes = json_object_new_array(), *vols = json_object_new_array();
	for (size_t i = 0; i < c->nodes.len; i++) {
		const kp_node *n = &c->nodes.items[i];
		if (!n->provider_id || !n->instance_type)
			continue; /* nothing to match, or no type to price */
		json_object *j = json_object_new_object();
		json_object_object_add(j, "node", json_object_new_string(n->meta.name));
		json_object_object_add(j, "provider_id", json_object_new_string(n->provider_id));
		json_object_object_add(j, "instance_type", json_object_new_string(n->instance_type));
		json_object_object_add(j, "spot", json_object_new_boolean(n->spot));
		json_object_array_add(nodes, j);
	}
	for (size_t i = 0; i < c->pvs.len; i++) {
		const kp_pv *v = &c->pvs.items[i];
		if (!v->volume_handle || !v->storage_class || !*v->storage_class)
			continue;
		json_object *j = json_object_new_object();
		json_object_object_add(j, "volume", json_object_new_string(v->meta.name));
		json_object_object_add(j, "handle", json_object_new_string(v->volume_handle));
		json_object_object_add(j, "storage_class", json_object_new_string(v->storage_class));
		json_object_object_add(j, "bytes", json_object_new_int64(v->storage_bytes > 0 ? v->storage_bytes : 0));
		json_object_array_add(vols, j);
	}
	if (!json_object_array_length(nodes) && !json_object_array_length(vols)) {
		json_object_put(nodes);
		json_object_put(vols);
		return NULL;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "nodes", nodes);
	json_object_object_add(o, "volumes", vols);
	return o;
}
