/*
 * findings_json.c - see findings_json.h.
 */
#include "pipeline/findings_json.h"
#include "pipeline/jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_object *str_or_null(const char *s) { return s ? json_object_new_string(s) : NULL; }

static void add_num(json_object *o, const char *key, double v)
{
	/* Whole numbers print as integers; money is kept to 4 decimals so sums
	 * of rounded values match totals to the cent. */
	if (v == floor(v) && fabs(v) < 9e15)
		json_object_object_add(o, key, json_object_new_int64((int64_t)v));
	else
		json_object_object_add(o, key, kp_json_new_number(round(v * 10000.0) / 10000.0));
}

json_object *kp_sizes_to_json(const kp_sizes *s)
{
	json_object *o = json_object_new_object();
	if (s->replicas >= 0)
		add_num(o, "replicas", s->replicas);
	if (s->cpu_request_m >= 0)
		json_object_object_add(o, "cpu_request_millicores", json_object_new_int64(s->cpu_request_m));
	if (s->cpu_limit_m >= 0)
		json_object_object_add(o, "cpu_limit_millicores", json_object_new_int64(s->cpu_limit_m));
	if (s->mem_request_b >= 0)
		json_object_object_add(o, "memory_request_bytes", json_object_new_int64(s->mem_request_b));
	if (s->mem_limit_b >= 0)
		json_object_object_add(o, "memory_limit_bytes", json_object_new_int64(s->mem_limit_b));
	if (s->storage_b >= 0)
		json_object_object_add(o, "storage_bytes", json_object_new_int64(s->storage_b));
	return o;
}

/* The keys of a node finding's "node" object, in kp_node_sizes order. */
static const char *const NODE_KEYS[6] = {"cpu_capacity_millicores", "cpu_allocatable_millicores",
					 "cpu_requested_millicores", "memory_capacity_bytes",
					 "memory_allocatable_bytes",	"memory_requested_bytes"};

static int64_t *node_field(kp_node_sizes *n, int i)
{
	int64_t *f[6] = {&n->cpu_capacity_m, &n->cpu_allocatable_m, &n->cpu_requested_m,
			 &n->mem_capacity_b, &n->mem_allocatable_b, &n->mem_requested_b};
	return f[i];
}

static json_object *node_to_json(const kp_node_sizes *n)
{
	json_object *o = json_object_new_object();
	kp_node_sizes c = *n;
	for (int i = 0; i < 6; i++)
		if (*node_field(&c, i) >= 0)
			json_object_object_add(o, NODE_KEYS[i], json_object_new_int64(*node_field(&c, i)));
	return o;
}

static json_object *ref_to_json(const char *api, const char *kind, const char *ns, const char *name)
{
	json_object *r = json_object_new_object();
	json_object_object_add(r, "apiVersion", json_object_new_string(api));
	json_object_object_add(r, "kind", json_object_new_string(kind));
	json_object_object_add(r, "namespace", str_or_null(ns));
	json_object_object_add(r, "name", json_object_new_string(name));
	return r;
}

/* A node group's members, in the order analysis.json has always had them. */
static void group_to_json(json_object *o, const kp_node_group *g)
{
	json_object_object_add(o, "instance_type", str_or_null(g->instance_type));
	json_object_object_add(o, "spot", json_object_new_boolean(g->spot));
	json_object_object_add(o, "cpu_millicores", json_object_new_int64(g->cpu_m));
	json_object_object_add(o, "memory_bytes", json_object_new_int64(g->mem_b));
}

json_object *kp_pricing_inputs_to_json(const kp_pricing_inputs *in)
{
	json_object *o = NULL;
	switch (in->by) {
	case KP_PRICED_GLOBAL: break;
	case KP_PRICED_PODS: {
		o = json_object_new_object();
		json_object *arr = json_object_new_array();
		for (size_t j = 0; j < in->ngroups; j++) {
			json_object *e = json_object_new_object();
			group_to_json(e, &in->groups[j]);
			json_object_object_add(e, "pods", json_object_new_int64(in->groups[j].pods));
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, "node_types", arr);
		if (in->pods_elsewhere)
			json_object_object_add(o, "pods_elsewhere", json_object_new_int64(in->pods_elsewhere));
		break;
	}
	case KP_PRICED_NODE: {
		const kp_node_group *g = in->ngroups ? &in->groups[0] : NULL;
		if (!g)
			break;
		o = json_object_new_object();
		json_object_object_add(o, "node", str_or_null(in->node));
		group_to_json(o, g);
		break;
	}
	case KP_PRICED_CLASS:
		o = json_object_new_object();
		json_object_object_add(o, "storage_class", str_or_null(in->storage_class));
		break;
	case KP_PRICED_CLASSES: {
		o = json_object_new_object();
		json_object *c = json_object_new_object();
		for (size_t i = 0; i < in->nclasses; i++)
			json_object_object_add(c, in->classes[i].name, json_object_new_int64(in->classes[i].bytes));
		json_object_object_add(o, "storage_classes", c);
		break;
	}
	}
	return o;
}

json_object *kp_rates_to_json(const kp_rates *r)
{
	if (!r->cpu_specific && !r->storage_specific)
		return NULL;
	json_object *p = json_object_new_object();
	if (r->cpu_specific) {
		json_object_object_add(p, "cpu_core_hour", kp_json_new_number(r->cpu_core_hour));
		json_object_object_add(p, "memory_gib_hour", kp_json_new_number(r->memory_gib_hour));
	}
	if (r->storage_specific)
		json_object_object_add(p, "storage_gib_month", kp_json_new_number(r->storage_gib_month));
	json_object_object_add(p, "basis", json_object_new_string(r->basis ? r->basis : "specific prices"));
	if (r->source) /* additive: where the rates came from */
		json_object_object_add(p, "source", json_object_new_string(r->source));
	if (r->nitems) {
		json_object *items = json_object_new_array();
		for (size_t i = 0; i < r->nitems; i++) {
			const kp_price_item *it = &r->items[i];
			json_object *j = json_object_new_object();
			json_object_object_add(j, "type", json_object_new_string(it->storage ? "storage_class" : "node_type"));
			json_object_object_add(j, "name", json_object_new_string(it->name));
			if (it->source)
				json_object_object_add(j, "source", json_object_new_string(it->source));
			if (it->storage) {
				json_object_object_add(j, "storage_gib_month", kp_json_new_number(it->storage_gib_month));
			} else {
				json_object_object_add(j, "spot", json_object_new_boolean(it->spot));
				if (it->hourly >= 0)
					json_object_object_add(j, "hourly", kp_json_new_number(it->hourly));
				json_object_object_add(j, "cpu_core_hour", kp_json_new_number(it->cpu_core_hour));
				json_object_object_add(j, "memory_gib_hour", kp_json_new_number(it->memory_gib_hour));
				json_object_object_add(j, "pods", json_object_new_int64(it->pods));
			}
			json_object_array_add(items, j);
		}
		json_object_object_add(p, "items", items);
	}
	return p;
}

json_object *kp_finding_to_json(const kp_finding *f, bool full)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(f->id));
	json_object_object_add(o, "category", json_object_new_string(kp_category_name(f->category)));
	json_object *res = ref_to_json(f->api_version, f->kind, f->namespace_, f->name);
	if (f->argocd_app || f->flux_kustomization || f->helm_release) {
		json_object *g = json_object_new_object();
		if (f->argocd_app)
			json_object_object_add(g, "argocd_app", json_object_new_string(f->argocd_app));
		if (f->flux_kustomization)
			json_object_object_add(g, "flux_kustomization", json_object_new_string(f->flux_kustomization));
		if (f->helm_release)
			json_object_object_add(g, "helm_release", json_object_new_string(f->helm_release));
		json_object_object_add(res, "gitops", g);
	}
	if (f->team)
		json_object_object_add(res, "team", json_object_new_string(f->team));
	if (f->managed_by_kind && f->managed_by_name) {
		json_object *m = json_object_new_object();
		json_object_object_add(m, "kind", json_object_new_string(f->managed_by_kind));
		json_object_object_add(m, "name", json_object_new_string(f->managed_by_name));
		json_object_object_add(res, "managed_by", m);
	}
	json_object_object_add(o, "resource", res);
	json_object_object_add(o, "container", str_or_null(f->container));
	json_object *ev = json_object_new_array();
	for (size_t i = 0; i < f->nevidence; i++) {
		const kp_evidence *e = &f->evidence[i];
		json_object *j = json_object_new_object();
		json_object_object_add(j, "summary", json_object_new_string(e->summary));
		if (e->metric)
			json_object_object_add(j, "metric", json_object_new_string(e->metric));
		if (e->has_value)
			add_num(j, "value", e->value);
		if (e->unit)
			json_object_object_add(j, "unit", json_object_new_string(e->unit));
		if (e->window)
			json_object_object_add(j, "window", json_object_new_string(e->window));
		if (e->samples >= 0)
			json_object_object_add(j, "samples", json_object_new_int64(e->samples));
		if (e->source)
			json_object_object_add(j, "source", json_object_new_string(e->source));
		if (e->query)
			json_object_object_add(j, "query", json_object_new_string(e->query));
		json_object_array_add(ev, j);
	}
	json_object_object_add(o, "evidence", ev);
	json_object_object_add(o, "current", kp_sizes_to_json(&f->current));
	json_object_object_add(o, "recommended", f->has_recommended ? kp_sizes_to_json(&f->recommended) : NULL);
	if (f->has_node)
		json_object_object_add(o, "node", node_to_json(&f->node));
	if (f->load_balancers > 0)
		json_object_object_add(o, "load_balancers", json_object_new_int64(f->load_balancers));
	if (f->nrelated) {
		json_object *rel = json_object_new_array();
		for (size_t i = 0; i < f->nrelated; i++) {
			const kp_related_change *c = &f->related[i];
			json_object *j = json_object_new_object();
			json_object_object_add(j, "resource", ref_to_json(c->api_version, c->kind, c->namespace_, c->name));
			json_object_object_add(j, "path", json_object_new_string(c->path));
			json_object_object_add(j, "current", c->numeric ? json_object_new_int64(c->current_n)
								       : str_or_null(c->current_s));
			json_object_object_add(j, "recommended", c->numeric ? json_object_new_int64(c->recommended_n)
									: str_or_null(c->recommended_s));
			json_object_object_add(j, "when", json_object_new_string(c->before ? "before" : "after"));
			json_object_object_add(j, "reason", str_or_null(c->reason));
			json_object_array_add(rel, j);
		}
		json_object_object_add(o, "related_changes", rel);
	}
	/* Pricing inputs (analysis.json and findings.json) and, in
	 * findings.json, the specific rates the money was computed at. */
	json_object *pricing = kp_pricing_inputs_to_json(&f->pricing);
	if (pricing)
		json_object_object_add(o, "pricing", pricing);
	if (full) {
		add_num(o, "monthly_cost", f->monthly_cost);
		add_num(o, "monthly_savings", f->monthly_savings);
		json_object *price = kp_rates_to_json(&f->price);
		if (price)
			json_object_object_add(o, "price", price);
	}
	json_object_object_add(o, "confidence", json_object_new_string(kp_confidence_name(f->confidence)));
	json_object_object_add(o, "risk", json_object_new_string(kp_risk_name(f->risk)));
	if (full) {
		json_object *a = json_object_new_object();
		json_object_object_add(a, "type", json_object_new_string(kp_action_type_name(f->action.type)));
		json_object_object_add(a, "destructive", json_object_new_boolean(f->action.destructive));
		json_object_object_add(a, "approval_required", json_object_new_boolean(f->action.approval_required));
		json_object_object_add(a, "blocked", json_object_new_boolean(f->action.blocked));
		json_object_object_add(a, "blocked_reason", str_or_null(f->action.blocked_reason));
		json_object_object_add(a, "command", str_or_null(f->action.command));
		json_object_object_add(o, "action", a);
		json_object_object_add(o, "explanation", json_object_new_string(f->explanation ? f->explanation : ""));
		json_object_object_add(o, "explained_by",
				       json_object_new_string(f->explained_by ? f->explained_by : "template"));
		if (f->trend) { /* where kp_history_apply adds them to a document */
			json_object_object_add(o, "trend", json_object_new_string(f->trend));
			json_object_object_add(o, "first_seen", str_or_null(f->first_seen));
		}
	}
	return o;
}

json_object *kp_skip_to_json(const kp_skip *s)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "resource", ref_to_json(s->api_version, s->kind, s->namespace_, s->name));
	json_object_object_add(o, "reason", json_object_new_string(s->reason));
	return o;
}

json_object *kp_skipped_to_json(const kp_findings *f)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < f->skipped.len; i++)
		json_object_array_add(arr, kp_skip_to_json(&f->skipped.items[i]));
	return arr;
}

/* ---- streamed documents (pipeline/jsonw.h) ---- */

typedef struct {
	kp_findings *f; /* written from; with reread, emptied as it goes */
	bool full;
	const char *path;
	kp_findings *reread; /* NULL, or what a reader of the file would get */
} gen_t;

typedef struct {
	const char *path;
	const char *array;
	size_t idx;
	kp_error *err;
} rd_t;
static kp_status rd_finding(rd_t *r, json_object *o, bool full, kp_finding *f);
static kp_status rd_skip(rd_t *r, json_object *o, kp_skip *s);

static kp_status gen_finding(void *ud, size_t i, json_object **item, kp_error *err)
{
	const gen_t *g = ud;
	*item = kp_finding_to_json(&g->f->items.items[i], g->full);
	if (!g->reread)
		return KP_OK;
	/* read back from the element itself: the text written is this tree,
	 * and every number in it reads back as the value it holds */
	rd_t r = {.path = g->path, .array = "findings", .idx = i, .err = err};
	kp_finding f;
	kp_status s = rd_finding(&r, *item, g->full, &f);
	KP_ARRAY_PUSH(g->reread->items, f); /* pushed even on error so it is freed with the list */
	/* the source is done with: one copy of the findings at a time, not two */
	kp_finding_release(&g->f->items.items[i]);
	memset(&g->f->items.items[i], 0, sizeof(g->f->items.items[i]));
	return s;
}

static kp_status gen_skip(void *ud, size_t i, json_object **item, kp_error *err)
{
	const gen_t *g = ud;
	*item = kp_skip_to_json(&g->f->skipped.items[i]);
	if (g->reread) {
		rd_t r = {.path = g->path, .array = "skipped", .idx = i, .err = err};
		kp_skip sk;
		kp_status s = rd_skip(&r, *item, &sk);
		KP_ARRAY_PUSH(g->reread->skipped, sk);
		kp_skip_release(&g->f->skipped.items[i]);
		memset(&g->f->skipped.items[i], 0, sizeof(g->f->skipped.items[i]));
		return s;
	}
	return KP_OK;
}

kp_status kp_findings_write_streamed(const char *path, json_object *doc, const kp_findings *f, bool full,
				     kp_error *err)
{
	return kp_findings_write_reread(path, doc, (kp_findings *)f, full, NULL, err); /* not changed without reread */
}

kp_status kp_findings_write_reread(const char *path, json_object *doc, kp_findings *f, bool full,
				   kp_findings *reread, kp_error *err)
{
	gen_t g = {f, full, path, reread};
	const kp_json_streamed arrays[] = {
		{"findings", f->items.len, gen_finding, &g},
		{"skipped", f->skipped.len, gen_skip, &g},
	};
	return kp_json_write_streamed(path, doc, arrays, 2, err);
}

/* ---- reading ---- */

static kp_status rd_bad(rd_t *r, const char *field, const char *what)
{
	return kp_fail(r->err, KP_ERR_INPUT, "%s: %s[%zu].%s: %s", r->path, r->array, r->idx, field, what);
}

static kp_status rd_str(rd_t *r, json_object *o, const char *field, bool nullable, char **out)
{
	json_object *v = kp_json_get(o, field);
	*out = NULL;
	if (!v) {
		if (nullable && json_object_is_type(o, json_type_object))
			return KP_OK;
		return rd_bad(r, field, "missing");
	}
	if (!json_object_is_type(v, json_type_string))
		return rd_bad(r, field, "expected a string");
	*out = kp_xstrdup(json_object_get_string(v));
	return KP_OK;
}

static kp_status rd_sizes(rd_t *r, json_object *o, const char *field, kp_sizes *s)
{
	kp_sizes_unset(s);
	if (!json_object_is_type(o, json_type_object))
		return rd_bad(r, field, "expected an object");
	static const char *const keys[] = {"cpu_request_millicores", "cpu_limit_millicores", "memory_request_bytes",
					   "memory_limit_bytes", "storage_bytes"};
	int64_t *dst[] = {&s->cpu_request_m, &s->cpu_limit_m, &s->mem_request_b, &s->mem_limit_b, &s->storage_b};
	for (int i = 0; i < 5; i++) {
		json_object *v = kp_json_get(o, keys[i]);
		if (!v)
			continue;
		if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
			return rd_bad(r, field, "sizes must be numbers");
		double d = json_object_get_double(v);
		if (d < 0 || !isfinite(d))
			return rd_bad(r, field, "sizes must be >= 0");
		*dst[i] = (int64_t)d;
	}
	json_object *rep = kp_json_get(o, "replicas");
	if (rep) {
		double d = json_object_get_double(rep);
		if (d < 0 || !isfinite(d))
			return rd_bad(r, field, "replicas must be >= 0");
		s->replicas = d;
	}
	return KP_OK;
}

/* A node finding's "node" object: every key optional, each an integer >= 0. */
static kp_status rd_node(rd_t *r, json_object *o, kp_node_sizes *n)
{
	if (!json_object_is_type(o, json_type_object))
		return rd_bad(r, "node", "expected an object");
	for (int i = 0; i < 6; i++) {
		json_object *v = kp_json_get(o, NODE_KEYS[i]);
		*node_field(n, i) = KP_UNSET;
		if (!v)
			continue;
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
			char field[64];
			snprintf(field, sizeof(field), "node.%s", NODE_KEYS[i]);
			return rd_bad(r, field, "expected an integer >= 0");
		}
		*node_field(n, i) = json_object_get_int64(v);
	}
	return KP_OK;
}

static bool parse_enum(const char *s, const char *const *names, int n, int *out)
{
	for (int i = 0; i < n; i++)
		if (s && strcmp(s, names[i]) == 0) {
			*out = i;
			return true;
		}
	return false;
}

/* An integer >= 0 at o[key]; absent is 0 unless required. */
static kp_status rd_count(rd_t *r, json_object *o, const char *key, const char *field, bool required, int64_t *out)
{
	json_object *v = kp_json_get(o, key);
	*out = 0;
	if (!v)
		return required ? rd_bad(r, field, "missing") : KP_OK;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return rd_bad(r, field, "expected an integer >= 0");
	*out = json_object_get_int64(v);
	return KP_OK;
}

static kp_status rd_group(rd_t *r, json_object *o, const char *field, kp_node_group *g)
{
	if (!json_object_is_type(o, json_type_object))
		return rd_bad(r, field, "expected an object");
	json_object *t = kp_json_get(o, "instance_type");
	if (t && !json_object_is_type(t, json_type_string) && !json_object_is_type(t, json_type_null))
		return rd_bad(r, field, "instance_type: expected a string");
	g->instance_type = json_object_is_type(t, json_type_string) ? kp_xstrdup(json_object_get_string(t)) : NULL;
	g->spot = json_object_get_boolean(kp_json_get(o, "spot"));
	kp_status s;
	if ((s = rd_count(r, o, "cpu_millicores", field, false, &g->cpu_m)) ||
	    (s = rd_count(r, o, "memory_bytes", field, false, &g->mem_b)))
		return s;
	return KP_OK;
}

/* The finding's "pricing" object (see kp_pricing_inputs in model.h). */
static kp_status rd_pricing(rd_t *r, json_object *o, kp_pricing_inputs *in)
{
	memset(in, 0, sizeof(*in));
	if (!o)
		return KP_OK;
	if (!json_object_is_type(o, json_type_object))
		return rd_bad(r, "pricing", "expected an object");
	kp_status s;
	json_object *nt = kp_json_get(o, "node_types"), *sc = kp_json_get(o, "storage_class"),
		    *scs = kp_json_get(o, "storage_classes");
	if (kp_json_get(o, "node")) {
		if (!json_object_is_type(kp_json_get(o, "node"), json_type_string))
			return rd_bad(r, "pricing.node", "expected a string");
		in->by = KP_PRICED_NODE;
		in->node = kp_xstrdup(kp_json_str(o, "node"));
		in->groups = kp_xcalloc(1, sizeof(*in->groups));
		in->ngroups = 1;
		in->groups[0].pods = 1;
		if ((s = rd_group(r, o, "pricing", &in->groups[0])))
			return s;
	} else if (nt) {
		if (!json_object_is_type(nt, json_type_array))
			return rd_bad(r, "pricing.node_types", "expected a list");
		in->by = KP_PRICED_PODS;
		size_t n = json_object_array_length(nt);
		in->groups = kp_xcalloc(n ? n : 1, sizeof(*in->groups));
		for (size_t i = 0; i < n; i++) {
			json_object *g = json_object_array_get_idx(nt, i);
			in->ngroups = i + 1; /* counted before reading, so an error frees what was read */
			if ((s = rd_group(r, g, "pricing.node_types", &in->groups[i])) ||
			    (s = rd_count(r, g, "pods", "pricing.node_types", true, &in->groups[i].pods)))
				return s;
		}
		if ((s = rd_count(r, o, "pods_elsewhere", "pricing.pods_elsewhere", false, &in->pods_elsewhere)))
			return s;
	} else if (sc) {
		if (!json_object_is_type(sc, json_type_string))
			return rd_bad(r, "pricing.storage_class", "expected a string");
		in->by = KP_PRICED_CLASS;
		in->storage_class = kp_xstrdup(json_object_get_string(sc));
	} else if (scs) {
		if (!json_object_is_type(scs, json_type_object))
			return rd_bad(r, "pricing.storage_classes", "expected an object of StorageClass: bytes");
		in->by = KP_PRICED_CLASSES;
		in->classes = kp_xcalloc(json_object_object_length(scs) + 1, sizeof(*in->classes));
		json_object_object_foreach(scs, name, v)
		{
			kp_class_bytes *cb = &in->classes[in->nclasses++];
			cb->name = kp_xstrdup(name);
			if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
				return rd_bad(r, "pricing.storage_classes", "expected a number of bytes >= 0");
			cb->bytes = json_object_get_int64(v);
		}
	}
	return KP_OK;
}

static double rd_num(json_object *o, const char *key, double dflt)
{
	json_object *v = kp_json_get(o, key);
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double) ? json_object_get_double(v)
												   : dflt;
}

/* The finding's "price" (findings.json): the rates it was priced at. */
static kp_status rd_price(rd_t *r, json_object *o, kp_rates *p)
{
	memset(p, 0, sizeof(*p));
	if (!o)
		return KP_OK;
	if (!json_object_is_type(o, json_type_object))
		return rd_bad(r, "price", "expected an object");
	p->cpu_specific = kp_json_get(o, "cpu_core_hour") != NULL;
	p->storage_specific = kp_json_get(o, "storage_gib_month") != NULL;
	p->cpu_core_hour = rd_num(o, "cpu_core_hour", 0);
	p->memory_gib_hour = rd_num(o, "memory_gib_hour", 0);
	p->storage_gib_month = rd_num(o, "storage_gib_month", 0);
	const char *basis = kp_json_str(o, "basis"), *source = kp_json_str(o, "source");
	p->basis = basis ? kp_xstrdup(basis) : NULL;
	p->source = source ? kp_xstrdup(source) : NULL;
	json_object *items = kp_json_get(o, "items");
	size_t n = json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
	p->items = n ? kp_xcalloc(n, sizeof(*p->items)) : NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *j = json_object_array_get_idx(items, i);
		kp_price_item *it = &p->items[p->nitems++];
		const char *type = kp_json_str(j, "type"), *name = kp_json_str(j, "name");
		it->storage = type && strcmp(type, "storage_class") == 0;
		it->name = kp_xstrdup(name ? name : "");
		it->spot = json_object_get_boolean(kp_json_get(j, "spot"));
		it->hourly = rd_num(j, "hourly", -1);
		it->cpu_core_hour = rd_num(j, "cpu_core_hour", 0);
		it->memory_gib_hour = rd_num(j, "memory_gib_hour", 0);
		it->pods = (int64_t)rd_num(j, "pods", 0);
		it->storage_gib_month = rd_num(j, "storage_gib_month", 0);
		const char *src = kp_json_str(j, "source");
		it->source = src ? kp_xstrdup(src) : NULL;
	}
	return KP_OK;
}

/* "related_changes": absent in documents written before it existed. */
static kp_status rd_related(rd_t *r, json_object *rel, kp_finding *f)
{
	if (!rel)
		return KP_OK;
	if (!json_object_is_type(rel, json_type_array))
		return rd_bad(r, "related_changes", "expected a list");
	size_t n = json_object_array_length(rel);
	for (size_t i = 0; i < n; i++) {
		json_object *j = json_object_array_get_idx(rel, i);
		char *api = NULL, *kind = NULL, *ns = NULL, *name = NULL, *path = NULL, *reason = NULL;
		kp_status s;
		if (!json_object_is_type(j, json_type_object))
			return rd_bad(r, "related_changes", "expected a list of objects");
		if (!(s = rd_str(r, j, "resource.apiVersion", false, &api)) && !(s = rd_str(r, j, "resource.kind", false, &kind)) &&
		    !(s = rd_str(r, kp_json_get(j, "resource"), "namespace", true, &ns)) &&
		    !(s = rd_str(r, j, "resource.name", false, &name)) && !(s = rd_str(r, j, "path", false, &path)) &&
		    !(s = rd_str(r, j, "reason", true, &reason))) {
			kp_related_change *c = kp_finding_add_related(f, api, kind, ns, name, path, reason);
			json_object *cur = kp_json_get(j, "current"), *rec = kp_json_get(j, "recommended");
			const char *when = kp_json_str(j, "when");
			c->before = when && strcmp(when, "before") == 0;
			if (json_object_is_type(cur, json_type_int) && json_object_is_type(rec, json_type_int)) {
				c->numeric = true;
				c->current_n = json_object_get_int64(cur);
				c->recommended_n = json_object_get_int64(rec);
			} else if (json_object_is_type(cur, json_type_string) && json_object_is_type(rec, json_type_string)) {
				c->current_s = kp_xstrdup(json_object_get_string(cur));
				c->recommended_s = kp_xstrdup(json_object_get_string(rec));
			} else {
				s = rd_bad(r, "related_changes", "current and recommended must be both integers or both strings");
			}
			if (!s && (!when || (strcmp(when, "before") && strcmp(when, "after"))))
				s = rd_bad(r, "related_changes", "when must be \"before\" or \"after\"");
		}
		free(api);
		free(kind);
		free(ns);
		free(name);
		free(path);
		free(reason);
		if (s)
			return s;
	}
	return KP_OK;
}

static kp_status rd_finding(rd_t *r, json_object *o, bool full, kp_finding *f)
{
	memset(f, 0, sizeof(*f));
	kp_sizes_unset(&f->current);
	kp_sizes_unset(&f->recommended);
	if (!json_object_is_type(o, json_type_object))
		return rd_bad(r, "", "expected an object");
	const char *cat = kp_json_str(o, "category");
	if (!kp_category_parse(cat, &f->category))
		return rd_bad(r, "category", "unknown category");
	kp_status s;
	if ((s = rd_str(r, o, "resource.apiVersion", false, &f->api_version)) ||
	    (s = rd_str(r, o, "resource.kind", false, &f->kind)) ||
	    (s = rd_str(r, kp_json_get(o, "resource"), "namespace", true, &f->namespace_)) ||
	    (s = rd_str(r, o, "resource.name", false, &f->name)) || (s = rd_str(r, o, "container", true, &f->container)))
		return s;
	json_object *gitops = kp_json_get(o, "resource.gitops");
	if (gitops && ((s = rd_str(r, gitops, "argocd_app", true, &f->argocd_app)) ||
		       (s = rd_str(r, gitops, "flux_kustomization", true, &f->flux_kustomization)) ||
		       (s = rd_str(r, gitops, "helm_release", true, &f->helm_release))))
		return s;
	if ((s = rd_str(r, kp_json_get(o, "resource"), "team", true, &f->team)))
		return s;
	json_object *managed = kp_json_get(o, "resource.managed_by");
	if (managed && ((s = rd_str(r, o, "resource.managed_by.kind", false, &f->managed_by_kind)) ||
			(s = rd_str(r, o, "resource.managed_by.name", false, &f->managed_by_name))))
		return s;
	kp_finding_compute_id(f);
	const char *id = kp_json_str(o, "id");
	if (id && strcmp(id, f->id) != 0)
		return rd_bad(r, "id", "does not match the finding's identity (edited by hand?)");
	if ((s = rd_sizes(r, kp_json_get(o, "current"), "current", &f->current)))
		return s;
	json_object *rec = kp_json_get(o, "recommended");
	if (rec) {
		if ((s = rd_sizes(r, rec, "recommended", &f->recommended)))
			return s;
		f->has_recommended = true;
	}
	json_object *node = kp_json_get(o, "node");
	if (node) {
		if ((s = rd_node(r, node, &f->node)))
			return s;
		f->has_node = true;
	}
	json_object *lbs = kp_json_get(o, "load_balancers");
	if (lbs) {
		if (!json_object_is_type(lbs, json_type_int) || json_object_get_int64(lbs) < 0)
			return rd_bad(r, "load_balancers", "expected an integer >= 0");
		f->load_balancers = json_object_get_int64(lbs);
	}
	if ((s = rd_related(r, kp_json_get(o, "related_changes"), f)))
		return s;
	if ((s = rd_pricing(r, kp_json_get(o, "pricing"), &f->pricing)))
		return s;
	if (full && (s = rd_price(r, kp_json_get(o, "price"), &f->price)))
		return s;
	json_object *ev = kp_json_get(o, "evidence");
	if (!json_object_is_type(ev, json_type_array))
		return rd_bad(r, "evidence", "expected a list");
	size_t n = json_object_array_length(ev);
	f->evidence = kp_xcalloc(n ? n : 1, sizeof(kp_evidence));
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(ev, i);
		kp_evidence *d = &f->evidence[f->nevidence++];
		d->samples = -1;
		if ((s = rd_str(r, e, "summary", false, &d->summary)) || (s = rd_str(r, e, "metric", true, &d->metric)) ||
		    (s = rd_str(r, e, "unit", true, &d->unit)) || (s = rd_str(r, e, "window", true, &d->window)) ||
		    (s = rd_str(r, e, "source", true, &d->source)) || (s = rd_str(r, e, "query", true, &d->query)))
			return s;
		json_object *v = kp_json_get(e, "value");
		if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
			d->value = json_object_get_double(v);
			d->has_value = true;
		}
		json_object *smp = kp_json_get(e, "samples");
		if (json_object_is_type(smp, json_type_int))
			d->samples = json_object_get_int64(smp);
	}
	static const char *const conf[] = {"low", "medium", "high"};
	static const char *const risk[] = {"LOW", "MEDIUM", "HIGH", "CRITICAL"};
	int v;
	if (!parse_enum(kp_json_str(o, "confidence"), conf, 3, &v))
		return rd_bad(r, "confidence", "expected low, medium or high");
	f->confidence = (kp_confidence)v;
	if (!parse_enum(kp_json_str(o, "risk"), risk, 4, &v))
		return rd_bad(r, "risk", "expected LOW, MEDIUM, HIGH or CRITICAL");
	f->risk = (kp_risk)v;
	if (full) {
		static const char *const act[] = {"resize", "scale-down", "delete", "review"};
		if (!parse_enum(kp_json_str(o, "action.type"), act, 4, &v))
			return rd_bad(r, "action.type", "expected resize, scale-down, delete or review");
		f->action.type = (kp_action_type)v;
		f->action.destructive = json_object_get_boolean(kp_json_get(o, "action.destructive"));
		f->action.approval_required = json_object_get_boolean(kp_json_get(o, "action.approval_required"));
		f->action.blocked = json_object_get_boolean(kp_json_get(o, "action.blocked"));
		if ((s = rd_str(r, kp_json_get(o, "action"), "blocked_reason", true, &f->action.blocked_reason)) ||
		    (s = rd_str(r, kp_json_get(o, "action"), "command", true, &f->action.command)) ||
		    (s = rd_str(r, o, "explanation", false, &f->explanation)) ||
		    (s = rd_str(r, o, "explained_by", false, &f->explained_by)) ||
		    (s = rd_str(r, o, "trend", true, &f->trend)) || (s = rd_str(r, o, "first_seen", true, &f->first_seen)))
			return s;
		f->monthly_cost = json_object_get_double(kp_json_get(o, "monthly_cost"));
		f->monthly_savings = json_object_get_double(kp_json_get(o, "monthly_savings"));
	}
	return KP_OK;
}

static kp_status rd_skipped(json_object *doc, const char *path, kp_findings *out, kp_error *err);

typedef struct {
	rd_t r;
	bool full;
	kp_findings *out;
} stream_rd_t;

static kp_status stream_finding(void *ud, json_object *item, size_t index)
{
	stream_rd_t *x = ud;
	kp_finding f;
	x->r.idx = index;
	kp_status s = rd_finding(&x->r, item, x->full, &f);
	KP_ARRAY_PUSH(x->out->items, f); /* pushed even on error so it is freed with the list */
	return s;
}

kp_status kp_findings_read_file(const char *path, bool full, kp_findings *out, json_object **rest, kp_error *err)
{
	stream_rd_t x = {.r = {.path = path, .array = "findings", .err = err}, .full = full, .out = out};
	json_object *doc = NULL;
	kp_status s = kp_json_stream_array(path, "findings", stream_finding, &x, &doc, err);
	if (!s && !json_object_is_type(kp_json_get(doc, "findings"), json_type_array))
		s = kp_fail(err, KP_ERR_INPUT, "%s: findings: missing or not a list", path);
	if (!s)
		s = rd_skipped(doc, path, out, err);
	if (s) {
		json_object_put(doc);
		doc = NULL;
	}
	*rest = doc;
	return s;
}

kp_status kp_findings_from_json(json_object *doc, const char *path, bool full, kp_findings *out, kp_error *err)
{
	json_object *arr = kp_json_get(doc, "findings");
	if (!json_object_is_type(arr, json_type_array))
		return kp_fail(err, KP_ERR_INPUT, "%s: findings: missing or not a list", path);
	rd_t r = {.path = path, .array = "findings", .err = err};
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		kp_finding f;
		r.idx = i;
		kp_status s = rd_finding(&r, json_object_array_get_idx(arr, i), full, &f);
		KP_ARRAY_PUSH(out->items, f); /* pushed even on error so it is freed with the list */
		if (s)
			return s;
	}
	return rd_skipped(doc, path, out, err);
}

static kp_status rd_skipped(json_object *doc, const char *path, kp_findings *out, kp_error *err)
{
	rd_t r = {.path = path, .array = "skipped", .err = err};
	json_object *sk = kp_json_get(doc, "skipped");
	size_t ns = json_object_is_type(sk, json_type_array) ? json_object_array_length(sk) : 0;
	for (size_t i = 0; i < ns; i++) {
		kp_skip s;
		r.idx = i;
		kp_status st = rd_skip(&r, json_object_array_get_idx(sk, i), &s);
		KP_ARRAY_PUSH(out->skipped, s); /* pushed even on error so it is freed with the list */
		if (st)
			return st;
	}
	return KP_OK;
}

static kp_status rd_skip(rd_t *r, json_object *o, kp_skip *s)
{
	memset(s, 0, sizeof(*s));
	kp_status st;
	if ((st = rd_str(r, o, "resource.apiVersion", false, &s->api_version)) ||
	    (st = rd_str(r, o, "resource.kind", false, &s->kind)) ||
	    (st = rd_str(r, kp_json_get(o, "resource"), "namespace", true, &s->namespace_)) ||
	    (st = rd_str(r, o, "resource.name", false, &s->name)) || (st = rd_str(r, o, "reason", false, &s->reason)))
		return st;
	return KP_OK;
}

json_object *kp_missing_to_json(const kp_missing *m)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "resource", str_or_null(m->resource));
	json_object_object_add(o, "namespace", str_or_null(m->namespace_));
	json_object *w = NULL;
	if (m->workload_kind && m->workload_name) {
		w = json_object_new_object();
		json_object_object_add(w, "kind", json_object_new_string(m->workload_kind));
		json_object_object_add(w, "name", json_object_new_string(m->workload_name));
	}
	json_object_object_add(o, "workload", w);
	json_object_object_add(o, "reason", json_object_new_string(m->reason ? m->reason : ""));
	json_object_object_add(o, "summary", json_object_new_string(m->summary ? m->summary : ""));
	return o;
}

/* A string, or null/absent (*out NULL) when nullable. */
static kp_status rd_opt_str(rd_t *r, json_object *o, const char *key, const char *field, bool nullable,
			    const char **out)
{
	json_object *v = NULL;
	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return nullable ? KP_OK : rd_bad(r, field, "missing");
	if (!json_object_is_type(v, json_type_string))
		return rd_bad(r, field, nullable ? "expected a string or null" : "expected a string");
	*out = json_object_get_string(v);
	return KP_OK;
}

kp_status kp_missing_from_json(json_object *doc, const char *path, json_object **out, kp_error *err)
{
	*out = json_object_new_array();
	json_object *in = kp_json_get(doc, "missing");
	if (!in)
		return KP_OK;
	if (!json_object_is_type(in, json_type_array)) {
		json_object_put(*out);
		*out = NULL;
		return kp_fail(err, KP_ERR_INPUT, "%s: missing: expected a list", path);
	}
	rd_t r = {path, "missing", 0, err};
	for (size_t i = 0; i < json_object_array_length(in); i++) {
		json_object *e = json_object_array_get_idx(in, i);
		r.idx = i;
		kp_missing m = {0};
		kp_status s = KP_OK;
		json_object *w = NULL;
		if (json_object_is_type(e, json_type_string)) {
			/* before entries were structured: where is unknown, so
			 * it concerns every scope */
			m.reason = m.summary = json_object_get_string(e);
		} else if (!json_object_is_type(e, json_type_object)) {
			s = kp_fail(err, KP_ERR_INPUT, "%s: missing[%zu]: expected an object or a string", path, i);
		} else if (!(s = rd_opt_str(&r, e, "resource", "resource", true, &m.resource)) &&
			   !(s = rd_opt_str(&r, e, "namespace", "namespace", true, &m.namespace_)) &&
			   !(s = rd_opt_str(&r, e, "reason", "reason", false, &m.reason)) &&
			   !(s = rd_opt_str(&r, e, "summary", "summary", false, &m.summary)) &&
			   json_object_object_get_ex(e, "workload", &w) && w) {
			if (!json_object_is_type(w, json_type_object))
				s = rd_bad(&r, "workload", "expected an object {kind, name} or null");
			else if (!(s = rd_opt_str(&r, w, "kind", "workload.kind", false, &m.workload_kind)))
				s = rd_opt_str(&r, w, "name", "workload.name", false, &m.workload_name);
		}
		if (s) {
			json_object_put(*out);
			*out = NULL;
			return s;
		}
		json_object_array_add(*out, kp_missing_to_json(&m));
	}
	return KP_OK;
}

const char *kp_missing_summary(json_object *entry)
{
	if (json_object_is_type(entry, json_type_string))
		return json_object_get_string(entry);
	return kp_json_str(entry, "summary");
}

void kp_inconsistencies_to_json(json_object *doc, const char *const *items, size_t n, size_t total)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(items[i]));
	json_object_object_add(doc, "inconsistencies", arr);
	json_object_object_add(doc, "inconsistencies_total", json_object_new_int64((int64_t)total));
}

void kp_findings_fill(json_object *doc, const kp_findings *f, bool full)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < f->items.len; i++)
		json_object_array_add(arr, kp_finding_to_json(&f->items.items[i], full));
	json_object_object_add(doc, "findings", arr);
	json_object_object_add(doc, "skipped", kp_skipped_to_json(f));
}

json_object *kp_analysis_doc(const kp_cluster *c, const kp_findings *f, int64_t now)
{
	json_object *doc = json_object_new_object();
	char ts[32];
	json_object_object_add(doc, "schema", json_object_new_string(KP_ANALYSIS_SCHEMA));
	kp_time_format(now, ts);
	json_object_object_add(doc, "generated_at", json_object_new_string(ts));
	json_object *cl = json_object_new_object();
	json_object_object_add(cl, "name", json_object_new_string(c->name ? c->name : "unknown"));
	json_object_object_add(cl, "context", c->context ? json_object_new_string(c->context) : NULL);
	json_object_object_add(cl, "server", c->server ? json_object_new_string(c->server) : NULL);
	json_object_object_add(doc, "cluster", cl);
	json_object *w = json_object_new_object();
	if (c->usage_collected) {
		kp_time_format(c->window_start, ts);
		json_object_object_add(w, "start", json_object_new_string(ts));
		kp_time_format(c->window_end, ts);
		json_object_object_add(w, "end", json_object_new_string(ts));
		json_object_object_add(w, "step_seconds", c->step_seconds ? json_object_new_int64(c->step_seconds) : NULL);
		json_object_object_add(w, "source", json_object_new_string("snapshot"));
		json_object_object_add(w, "usage_source", json_object_new_string(c->usage_source));
	} else {
		json_object_object_add(w, "start", NULL);
		json_object_object_add(w, "end", NULL);
		json_object_object_add(w, "step_seconds", NULL);
		json_object_object_add(w, "source", json_object_new_string("none"));
	}
	json_object_object_add(doc, "window", w);
	json_object *missing = json_object_new_array();
	for (size_t i = 0; i < c->missing.len; i++)
		json_object_array_add(missing, kp_missing_to_json(&c->missing.items[i]));
	json_object_object_add(doc, "missing", missing);
	if (c->inconsistencies_total)
		kp_inconsistencies_to_json(doc, (const char *const *)c->inconsistencies.items, c->inconsistencies.len,
					   c->inconsistencies_total);
	json_object *counts = json_object_new_object();
	json_object_object_add(counts, "pods", json_object_new_int64((int64_t)c->pods.len));
	json_object_object_add(counts, "workloads", json_object_new_int64((int64_t)c->workloads.len));
	json_object_object_add(counts, "persistentvolumeclaims", json_object_new_int64((int64_t)c->pvcs.len));
	json_object_object_add(counts, "usage_entries", json_object_new_int64((int64_t)c->usage.len));
	json_object_object_add(counts, "excluded_by_scope", json_object_new_int64((int64_t)f->excluded_by_scope));
	json_object_object_add(counts, "missing_excluded_by_scope",
			       json_object_new_int64((int64_t)f->missing_excluded_by_scope));
	json_object_object_add(counts, "excluded_by_selector", json_object_new_int64((int64_t)f->excluded_by_selector));
	json_object_object_add(doc, "counts", counts);
	/* the two big arrays: written one element at a time by
	 * kp_findings_write_streamed, or filled by kp_analysis_fill */
	json_object_object_add(doc, "findings", NULL);
	json_object_object_add(doc, "skipped", NULL);
	return doc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

json_object *kp_scope_json(const char *const *ns, size_t n)
{
	json_object *o = json_object_new_object();
	if (n == 0) {
		json_object_object_add(o, "namespaces", NULL);
		return o;
	}
	/* sorted and unique, so the flags' order never changes findings.json */
	const char **v = kp_xmalloc(n * sizeof(*v));
	memcpy(v, ns, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_str);
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			json_object_array_add(arr, json_object_new_string(v[i]));
	free(v);
	json_object_object_add(o, "namespaces", arr);
	return o;
}

void kp_scope_label(json_object *doc, kp_buf *out)
{
	json_object *scope_ns = kp_json_get(doc, "scope.namespaces");
	size_t nscope = json_object_is_type(scope_ns, json_type_array) ? json_object_array_length(scope_ns) : 0;
	for (size_t i = 0; i < nscope; i++)
		kp_buf_printf(out, "%s%s", i ? ", " : (nscope == 1 ? ", namespace " : ", namespaces "),
			      json_object_get_string(json_object_array_get_idx(scope_ns, i)));
	const char *sel = kp_json_str(doc, "scope.selector");
	if (sel)
		kp_buf_printf(out, ", selector %s", sel);
	json_object *shard = kp_json_get(doc, "scope.shard");
	if (shard)
		kp_buf_printf(out, ", shard %lld/%lld", (long long)json_object_get_int64(kp_json_get(shard, "index")),
			      (long long)json_object_get_int64(kp_json_get(shard, "count")));
}

kp_status kp_pricing_inputs_from_json(json_object *o, const char *path, kp_pricing_inputs *out, kp_error *err)
{
	rd_t r = {path, "findings", 0, err};
	kp_status s = rd_pricing(&r, o, out);
	if (s)
		kp_pricing_inputs_release(out);
	return s;
}
