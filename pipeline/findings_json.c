/*
 * findings_json.c - see findings_json.h.
 */
#include "pipeline/findings_json.h"

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

static json_object *ref_to_json(const char *api, const char *kind, const char *ns, const char *name)
{
	json_object *r = json_object_new_object();
	json_object_object_add(r, "apiVersion", json_object_new_string(api));
	json_object_object_add(r, "kind", json_object_new_string(kind));
	json_object_object_add(r, "namespace", str_or_null(ns));
	json_object_object_add(r, "name", json_object_new_string(name));
	return r;
}

json_object *kp_finding_to_json(const kp_finding *f, bool full)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(f->id));
	json_object_object_add(o, "category", json_object_new_string(kp_category_name(f->category)));
	json_object_object_add(o, "resource", ref_to_json(f->api_version, f->kind, f->namespace_, f->name));
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
	if (f->load_balancers > 0)
		json_object_object_add(o, "load_balancers", json_object_new_int64(f->load_balancers));
	/* Pricing inputs (analysis.json and findings.json) and, in
	 * findings.json, the specific rates the money was computed at. Both
	 * ride in f->pricing; see model.h. */
	json_object *pricing = f->pricing ? json_tokener_parse(f->pricing) : NULL, *price = NULL;
	if (!json_object_is_type(pricing, json_type_object)) {
		json_object_put(pricing);
		pricing = NULL;
	} else if (json_object_object_get_ex(pricing, "price", &price)) {
		json_object_get(price);
		json_object_object_del(pricing, "price");
	}
	if (pricing)
		json_object_object_add(o, "pricing", pricing);
	if (full) {
		add_num(o, "monthly_cost", f->monthly_cost);
		add_num(o, "monthly_savings", f->monthly_savings);
		if (price)
			json_object_object_add(o, "price", json_object_get(price));
	}
	json_object_put(price);
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
	}
	return o;
}

json_object *kp_skipped_to_json(const kp_findings *f)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < f->skipped.len; i++) {
		const kp_skip *s = &f->skipped.items[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "resource", ref_to_json(s->api_version, s->kind, s->namespace_, s->name));
		json_object_object_add(o, "reason", json_object_new_string(s->reason));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* ---- reading ---- */

typedef struct {
	const char *path;
	const char *array;
	size_t idx;
	kp_error *err;
} rd_t;

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

static bool parse_enum(const char *s, const char *const *names, int n, int *out)
{
	for (int i = 0; i < n; i++)
		if (s && strcmp(s, names[i]) == 0) {
			*out = i;
			return true;
		}
	return false;
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
	json_object *lbs = kp_json_get(o, "load_balancers");
	if (lbs) {
		if (!json_object_is_type(lbs, json_type_int) || json_object_get_int64(lbs) < 0)
			return rd_bad(r, "load_balancers", "expected an integer >= 0");
		f->load_balancers = json_object_get_int64(lbs);
	}
	json_object *pricing = kp_json_get(o, "pricing");
	if (pricing) {
		if (!json_object_is_type(pricing, json_type_object))
			return rd_bad(r, "pricing", "expected an object");
		json_object *copy = NULL;
		json_object_deep_copy(pricing, &copy, NULL);
		json_object *price = kp_json_get(o, "price");
		if (full && json_object_is_type(price, json_type_object))
			json_object_object_add(copy, "price", json_object_get(price));
		f->pricing = kp_xstrdup(
			json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(copy);
	}
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
		    (s = rd_str(r, o, "explained_by", false, &f->explained_by)))
			return s;
		f->monthly_cost = json_object_get_double(kp_json_get(o, "monthly_cost"));
		f->monthly_savings = json_object_get_double(kp_json_get(o, "monthly_savings"));
	}
	return KP_OK;
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
	json_object *sk = kp_json_get(doc, "skipped");
	size_t ns = json_object_is_type(sk, json_type_array) ? json_object_array_length(sk) : 0;
	r.array = "skipped";
	for (size_t i = 0; i < ns; i++) {
		json_object *o = json_object_array_get_idx(sk, i);
		kp_skip s;
		memset(&s, 0, sizeof(s));
		r.idx = i;
		kp_status st;
		if ((st = rd_str(&r, o, "resource.apiVersion", false, &s.api_version)) ||
		    (st = rd_str(&r, o, "resource.kind", false, &s.kind)) ||
		    (st = rd_str(&r, kp_json_get(o, "resource"), "namespace", true, &s.namespace_)) ||
		    (st = rd_str(&r, o, "resource.name", false, &s.name)) || (st = rd_str(&r, o, "reason", false, &s.reason))) {
			KP_ARRAY_PUSH(out->skipped, s);
			return st;
		}
		KP_ARRAY_PUSH(out->skipped, s);
	}
	return KP_OK;
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
	json_object_object_add(cl, "context", NULL);
	json_object_object_add(cl, "server", NULL);
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
		json_object_array_add(missing, json_object_new_string(c->missing.items[i]));
	json_object_object_add(doc, "missing", missing);
	json_object *counts = json_object_new_object();
	json_object_object_add(counts, "pods", json_object_new_int64((int64_t)c->pods.len));
	json_object_object_add(counts, "workloads", json_object_new_int64((int64_t)c->workloads.len));
	json_object_object_add(counts, "persistentvolumeclaims", json_object_new_int64((int64_t)c->pvcs.len));
	json_object_object_add(counts, "usage_entries", json_object_new_int64((int64_t)c->usage.len));
	json_object_object_add(counts, "excluded_by_scope", json_object_new_int64((int64_t)f->excluded_by_scope));
	json_object_object_add(doc, "counts", counts);
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < f->items.len; i++)
		json_object_array_add(arr, kp_finding_to_json(&f->items.items[i], false));
	json_object_object_add(doc, "findings", arr);
	json_object_object_add(doc, "skipped", kp_skipped_to_json(f));
	return doc;
}
