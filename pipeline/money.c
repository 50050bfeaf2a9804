/*
 * money.c - see money.h. Owns the cost formula, the choice of rates for a
 * finding, the savings threshold and the money formatter; nothing else in
 * kopilot multiplies a size by a price or prints a currency.
 *
 * Ownership: kp_rates filled here own their basis, nodes_label and items
 * (kp_rates_release, model.c).
 */
#include "pipeline/money.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/focus.h"
#include "pipeline/prices.h"
#include "pipeline/quantity.h"

/* ---- formatting ---- */

static const char *currency_symbol(const char *cur)
{
	if (!cur || strcmp(cur, "USD") == 0)
		return "$";
	if (strcmp(cur, "EUR") == 0)
		return "\xe2\x82\xac"; /* EURO SIGN */
	if (strcmp(cur, "GBP") == 0)
		return "\xc2\xa3"; /* POUND SIGN */
	return NULL;
}

void kp_money_format(double v, const char *cur, char *out, size_t n)
{
	if (!isfinite(v))
		v = 0;
	double a = fabs(v);
	if (a > 1e15)
		a = 1e15;
	long long cents = llround(a * 100.0);
	bool neg = v < 0 && cents > 0;
	char whole[40];
	kp_format_thousands((unsigned long long)(cents / 100), whole, sizeof(whole));
	const char *sym = currency_symbol(cur);
	if (sym)
		snprintf(out, n, "%s%s%s.%02lld", neg ? "-" : "", sym, whole, cents % 100);
	else
		snprintf(out, n, "%s%s.%02lld %.16s", neg ? "-" : "", whole, cents % 100, cur);
}

void kp_money_format_price(double v, const char *cur, char *out, size_t n)
{
	char num[64];
	snprintf(num, sizeof(num), "%.6f", isfinite(v) ? v : 0.0);
	char *dot = strchr(num, '.');
	char *e = num + strlen(num);
	while (dot && e > dot + 3 && e[-1] == '0')
		*--e = '\0';
	const char *sym = currency_symbol(cur);
	if (sym)
		snprintf(out, n, "%s%s", sym, num);
	else
		snprintf(out, n, "%s %.16s", num, cur);
}

void kp_money_excel_format(const char *cur, bool unit_price, char *out, size_t n)
{
	const char *sym = currency_symbol(cur);
	const char *num = unit_price ? "#,##0.00####" : "#,##0.00";
	/* "$" may stand unquoted in an Excel number format; other symbols are quoted. */
	char lit[32];
	if (sym)
		snprintf(lit, sizeof(lit), strcmp(sym, "$") == 0 ? "%s" : "\"%s\"", sym);
	if (sym && unit_price)
		snprintf(out, n, "%s%s", lit, num);
	else if (sym)
		snprintf(out, n, "%s%s;[Red]-%s%s", lit, num, lit, num);
	else if (unit_price)
		snprintf(out, n, "%s \"%.16s\"", num, cur);
	else
		snprintf(out, n, "%s \"%.16s\";[Red]-%s \"%.16s\"", num, cur, num, cur);
}

void kp_money_unit(const char *cur, char *out, size_t n) { snprintf(out, n, "%.16s/month", cur ? cur : "USD"); }

double kp_money_round(double v) { return round(v * 10000.0) / 10000.0; }

/* ---- rates ---- */

static void price_text(const kp_config *cfg, double v, char *out, size_t n)
{
	kp_money_format_price(v, cfg->prices.currency, out, n);
}

static kp_price_item *add_item(kp_rates *r)
{
	r->items = kp_xrealloc(r->items, (r->nitems + 1) * sizeof(*r->items));
	kp_price_item *it = &r->items[r->nitems++];
	memset(it, 0, sizeof(*it));
	it->hourly = -1;
	return it;
}

/* The per-core and per-GiB rates of one node of type `type` (spot or not)
 * of the given size, a description such as "on-demand $0.192/h" and where
 * the price came from (*source). False: nothing specific applies (global
 * prices). Precedence in money.h. */
static bool node_rates(const kp_config *cfg, const char *type, bool spot, double cores, double gib, double *cpu,
		       double *mem, double *hourly_out, char *desc, size_t n, const char **source)
{
	const kp_node_type_price *np = kp_pricing_node_type(cfg, type);
	const kp_prices_config *p = &cfg->prices;
	bool custom_spot = p->spot_cpu_core_hour >= 0 && p->spot_memory_gib_hour >= 0;
	const kp_focus_rate *fr = NULL;
	char txt[64];
	double hourly = -1;
	if (np && (!spot || np->spot_hourly >= 0)) {
		hourly = spot ? np->spot_hourly : np->hourly;
		price_text(cfg, hourly, txt, sizeof(txt));
		snprintf(desc, n, spot ? "spot %s/h" : "on-demand %s/h", txt);
		*source = "config";
	} else if ((fr = kp_focus_node_rate(p->focus, type, spot))) {
		hourly = fr->rate;
		price_text(cfg, hourly, txt, sizeof(txt));
		snprintf(desc, n, "%seffective %s/h from the FOCUS bill, %.0f node-hours", spot ? "spot, " : "", txt,
			 fr->hours);
		*source = "focus";
	} else if (spot && custom_spot) {
		*cpu = p->spot_cpu_core_hour;
		*mem = p->spot_memory_gib_hour;
		snprintf(desc, n, "spot, custom pricing spotCPU/spotRAM");
		*source = "opencost-custom";
	} else if (np) {
		hourly = np->hourly;
		price_text(cfg, hourly, txt, sizeof(txt));
		snprintf(desc, n, "spot, no spot price: on-demand %s/h", txt);
		*source = "config";
	} else {
		return false;
	}
	if (hourly >= 0 && !kp_pricing_split(hourly, cores, gib, p->cpu_core_hour, p->memory_gib_hour, cpu, mem))
		return false;
	*hourly_out = hourly;
	return true;
}

/* The source of the global prices, in the items' words. */
static const char *global_source(const kp_config *cfg)
{
	const char *s = cfg->prices.source ? cfg->prices.source : "default";
	return strncmp(s, "opencost-custom", 15) == 0 ? "opencost-custom" : s;
}

/* r->source: one word when every part of the price agrees, else "mixed". */
static void decide_source(const kp_config *cfg, kp_rates *r, bool some_global)
{
	const char *src = some_global ? global_source(cfg) : NULL;
	for (size_t i = 0; i < r->nitems; i++) {
		const char *s = r->items[i].source ? r->items[i].source : "config";
		if (!src)
			src = s;
		else if (strcmp(src, s) != 0)
			src = "mixed";
	}
	free(r->source);
	r->source = kp_xstrdup(src ? src : global_source(cfg));
}

static void node_item(kp_rates *r, const char *type, bool spot, double hourly, double cpu, double mem, int64_t pods,
		      const char *source)
{
	kp_price_item *it = add_item(r);
	it->source = kp_xstrdup(source);
	it->name = kp_xstrdup(type ? type : "(no instance type)");
	it->spot = spot;
	it->hourly = hourly;
	it->cpu_core_hour = cpu;
	it->memory_gib_hour = mem;
	it->pods = pods;
}

static void workload_rates(const kp_config *cfg, const kp_pricing_inputs *in, kp_rates *out)
{
	double pods_total = 0, cpu_sum = 0, mem_sum = 0, pods_global = (double)in->pods_elsewhere;
	kp_buf basis, label;
	kp_buf_init(&basis);
	kp_buf_init(&label);
	for (size_t i = 0; i < in->ngroups; i++) {
		const kp_node_group *g = &in->groups[i];
		double pods = (double)g->pods;
		if (pods <= 0)
			continue;
		double cpu, mem, hourly;
		char desc[160];
		const char *type = g->instance_type, *src = NULL;
		if (!node_rates(cfg, type, g->spot, (double)g->cpu_m / 1000.0, (double)g->mem_b / KP_GIB, &cpu, &mem,
				&hourly, desc, sizeof(desc), &src)) {
			pods_global += pods;
			continue;
		}
		node_item(out, type, g->spot, hourly, cpu, mem, g->pods, src);
		pods_total += pods;
		cpu_sum += pods * cpu;
		mem_sum += pods * mem;
		kp_buf_printf(&basis, "%s%s%s x%.0f (%s)", basis.len ? ", " : "node types ", type ? type : "(no instance type)",
			      g->spot ? " spot" : "", pods, desc);
		kp_buf_printf(&label, "%s%s%s x%.0f", label.len ? ", " : "", type ? type : "(no instance type)",
			      g->spot ? " spot" : "", pods);
	}
	if (!out->nitems) {
		kp_buf_release(&basis);
		kp_buf_release(&label);
		return;
	}
	if (pods_global > 0) {
		kp_buf_printf(&basis, "; %.0f pod%s on nodes without a price at the global prices", pods_global,
			      pods_global == 1 ? "" : "s");
		kp_buf_printf(&label, ", %.0f at global prices", pods_global);
	}
	decide_source(cfg, out, pods_global > 0);
	pods_total += pods_global;
	cpu_sum += pods_global * cfg->prices.cpu_core_hour;
	mem_sum += pods_global * cfg->prices.memory_gib_hour;
	out->cpu_core_hour = cpu_sum / pods_total;
	out->memory_gib_hour = mem_sum / pods_total;
	out->cpu_specific = true;
	out->basis = kp_buf_detach(&basis);
	out->nodes_label = kp_xasprintf("nodes: %s", kp_buf_cstr(&label));
	kp_buf_release(&label);
}

/* What a finding costs is priced on: its current sizes, or for a node the
 * whole machine (its capacity, allocatable when the status has none), which
 * is what the cloud bills whatever the pods request. */
static kp_sizes priced_now(const kp_finding *f)
{
	if (!f->has_node)
		return f->current;
	kp_sizes s;
	kp_sizes_unset(&s);
	s.replicas = 1;
	s.cpu_request_m = f->node.cpu_capacity_m > 0 ? f->node.cpu_capacity_m : f->node.cpu_allocatable_m;
	s.mem_request_b = f->node.mem_capacity_b > 0 ? f->node.mem_capacity_b : f->node.mem_allocatable_b;
	return s;
}

static void node_finding_rates(const kp_config *cfg, const kp_finding *f, kp_rates *out)
{
	const kp_node_group *g = f->pricing.ngroups ? &f->pricing.groups[0] : NULL;
	if (!g)
		return;
	/* Split over the sizes the finding prices, so cost = hourly x hours. */
	double cores = (double)g->cpu_m / 1000.0, gib = (double)g->mem_b / KP_GIB;
	kp_sizes now = priced_now(f);
	if (now.cpu_request_m > 0 || now.mem_request_b > 0) {
		cores = now.cpu_request_m > 0 ? (double)now.cpu_request_m / 1000.0 : 0;
		gib = now.mem_request_b > 0 ? (double)now.mem_request_b / KP_GIB : 0;
	}
	const char *type = g->instance_type, *src = NULL;
	double cpu, mem, hourly;
	char desc[160];
	if (!node_rates(cfg, type, g->spot, cores, gib, &cpu, &mem, &hourly, desc, sizeof(desc), &src))
		return;
	node_item(out, type, g->spot, hourly, cpu, mem, 1, src); /* one node */
	decide_source(cfg, out, false);
	out->cpu_core_hour = cpu;
	out->memory_gib_hour = mem;
	out->cpu_specific = true;
	out->basis = kp_xasprintf("node type %s%s (%s)", type ? type : "(no instance type)", g->spot ? " spot" : "", desc);
	out->nodes_label =
		kp_xasprintf("node type %s%s, %s", type ? type : "(no instance type)", g->spot ? " spot" : "", desc);
}

static void storage_item(kp_rates *r, const char *name, double gib_month, const char *source)
{
	kp_price_item *it = add_item(r);
	it->source = kp_xstrdup(source);
	it->storage = true;
	it->name = kp_xstrdup(name);
	it->storage_gib_month = gib_month;
}

/* A StorageClass's price per GiB-month: the configured one, else the
 * FOCUS bill's effective rate. False: none (the global price). */
static bool class_price(const kp_config *cfg, const char *name, double *gib_month, const char **source,
			const kp_focus_rate **fr)
{
	const kp_storage_class_price *sc = kp_pricing_storage_class(cfg, name);
	*fr = NULL;
	if (sc) {
		*gib_month = sc->gib_month;
		*source = "config";
		return true;
	}
	if ((*fr = kp_focus_class_rate(cfg->prices.focus, name))) {
		*gib_month = (*fr)->rate;
		*source = "focus";
		return true;
	}
	return false;
}

static void storage_rates(const kp_config *cfg, const kp_pricing_inputs *in, kp_rates *out)
{
	bool some_global = false;
	double bytes_total = 0, sum = 0;
	kp_buf basis, label;
	kp_buf_init(&basis);
	kp_buf_init(&label);
	char p[64];
	if (in->by == KP_PRICED_CLASS) {
		double gm;
		const char *src;
		const kp_focus_rate *fr;
		if (class_price(cfg, in->storage_class, &gm, &src, &fr)) {
			bytes_total = 1;
			sum = gm;
			price_text(cfg, gm, p, sizeof(p));
			kp_buf_printf(&basis, "StorageClass %s %s/GiB-month%s", in->storage_class, p,
				      fr ? " (effective, from the FOCUS bill)" : "");
			kp_buf_printf(&label, "StorageClass %s%s", in->storage_class, fr ? ", from the FOCUS bill" : "");
			storage_item(out, in->storage_class, gm, src);
		}
	} else {
		double global_bytes = 0;
		for (size_t i = 0; i < in->nclasses; i++) {
			const char *name = in->classes[i].name;
			double b = (double)in->classes[i].bytes;
			if (!(b > 0))
				continue;
			double gm;
			const char *src;
			const kp_focus_rate *fr;
			if (!class_price(cfg, name, &gm, &src, &fr)) {
				global_bytes += b;
				continue;
			}
			bytes_total += b;
			sum += b * gm;
			price_text(cfg, gm, p, sizeof(p));
			kp_buf_printf(&basis, "%s%s %s/GiB-month%s (%.4g GiB)", basis.len ? ", " : "StorageClass ", name, p,
				      fr ? " effective, from the FOCUS bill" : "", b / KP_GIB);
			kp_buf_printf(&label, "%s%s", label.len ? ", " : "StorageClass ", name);
			storage_item(out, name, gm, src);
		}
		if (out->nitems && global_bytes > 0) {
			price_text(cfg, cfg->prices.storage_gib_month, p, sizeof(p));
			kp_buf_printf(&basis, "; %.4g GiB in classes without a price at the global %s/GiB-month",
				      global_bytes / KP_GIB, p);
			bytes_total += global_bytes;
			sum += global_bytes * cfg->prices.storage_gib_month;
			some_global = true;
		}
	}
	if (!out->nitems) {
		kp_buf_release(&basis);
		kp_buf_release(&label);
		return;
	}
	out->storage_gib_month = sum / bytes_total;
	out->storage_specific = true;
	decide_source(cfg, out, some_global);
	out->basis = kp_buf_detach(&basis);
	out->nodes_label = kp_buf_detach(&label);
}

static void global_rates(const kp_config *cfg, kp_rates *out)
{
	out->cpu_core_hour = cfg->prices.cpu_core_hour;
	out->memory_gib_hour = cfg->prices.memory_gib_hour;
	out->storage_gib_month = cfg->prices.storage_gib_month;
}

void kp_money_rates(const kp_config *cfg, const kp_finding *f, kp_rates *out)
{
	memset(out, 0, sizeof(*out));
	global_rates(cfg, out);
	switch (f->pricing.by) {
	case KP_PRICED_NODE: node_finding_rates(cfg, f, out); break;
	case KP_PRICED_PODS: workload_rates(cfg, &f->pricing, out); break;
	case KP_PRICED_CLASS:
	case KP_PRICED_CLASSES: storage_rates(cfg, &f->pricing, out); break;
	case KP_PRICED_GLOBAL: break;
	}
	/* Same numbers as the global ones are not "specific": nothing to trace. */
	if (out->cpu_specific && out->cpu_core_hour == cfg->prices.cpu_core_hour &&
	    out->memory_gib_hour == cfg->prices.memory_gib_hour)
		out->cpu_specific = false;
	if (out->storage_specific && out->storage_gib_month == cfg->prices.storage_gib_month)
		out->storage_specific = false;
	if (!out->cpu_specific && !out->storage_specific) {
		kp_rates_release(out);
		global_rates(cfg, out);
	}
}

/* ---- price sources ---- */

static void source_row(json_object *arr, const char *kind, const char *name, bool spot, double rate, const char *unit,
		       const char *source, const char *basis)
{
	json_object *j = json_object_new_object();
	json_object_object_add(j, "kind", json_object_new_string(kind));
	json_object_object_add(j, "name", json_object_new_string(name));
	if (strcmp(kind, "node_type") == 0)
		json_object_object_add(j, "spot", json_object_new_boolean(spot));
	json_object_object_add(j, "rate", rate >= 0 ? kp_json_new_number(rate) : NULL);
	json_object_object_add(j, "unit", json_object_new_string(unit));
	json_object_object_add(j, "source", json_object_new_string(source));
	json_object_object_add(j, "basis", json_object_new_string(basis));
	json_object_array_add(arr, j);
}

json_object *kp_money_sources_json(const kp_config *cfg)
{
	const kp_prices_config *p = &cfg->prices;
	const kp_focus_rates *fr = p->focus;
	json_object *arr = json_object_new_array();
	char b[512], t[64];
	for (size_t i = 0; i < p->nnode_types; i++) {
		const kp_node_type_price *np = &p->node_types[i];
		for (int spot = 0; spot < 2; spot++) {
			double v = spot ? np->spot_hourly : np->hourly;
			if (v < 0)
				continue;
			const kp_focus_rate *f = kp_focus_node_rate(fr, np->name, spot);
			if (f) {
				price_text(cfg, f->rate, t, sizeof(t));
				snprintf(b, sizeof(b), "prices.node_types (wins over the FOCUS bill's effective %s/h)", t);
			} else {
				snprintf(b, sizeof(b), "prices.node_types");
			}
			source_row(arr, "node_type", np->name, spot, v, "node-hour", "config", b);
		}
	}
	for (size_t i = 0; fr && i < fr->nitems; i++) {
		const kp_focus_rate *f = &fr->items[i];
		if (f->storage)
			continue;
		const kp_node_type_price *np = kp_pricing_node_type(cfg, f->name);
		if (np && (!f->spot || np->spot_hourly >= 0))
			continue; /* configured: listed above */
		if (f->rate >= 0) {
			snprintf(b, sizeof(b), "FOCUS bill: %lld node%s, %.0f node-hours, %lld row%s", (long long)f->resources,
				 f->resources == 1 ? "" : "s", f->hours, (long long)f->rows, f->rows == 1 ? "" : "s");
			source_row(arr, "node_type", f->name, f->spot, f->rate, "node-hour", "focus", b);
			continue;
		}
		const char *next = f->spot && p->spot_cpu_core_hour >= 0 && p->spot_memory_gib_hour >= 0 ? "opencost-custom"
				   : np ? "config" : global_source(cfg);
		snprintf(b, sizeof(b), "FOCUS bill: %s; priced %s", f->note ? f->note : "no rate",
			 strcmp(next, "opencost-custom") == 0 ? "at the custom pricing file's spotCPU/spotRAM"
			 : np ? "at the configured on-demand price" : "at the global prices");
		source_row(arr, "node_type", f->name, f->spot, -1, "node-hour", next, b);
	}
	for (size_t i = 0; i < p->nstorage_classes; i++) {
		const kp_storage_class_price *sc = &p->storage_classes[i];
		const kp_focus_rate *f = kp_focus_class_rate(fr, sc->name);
		if (f) {
			price_text(cfg, f->rate, t, sizeof(t));
			snprintf(b, sizeof(b), "prices.storage_classes (wins over the FOCUS bill's effective %s/GiB-month)", t);
		} else {
			snprintf(b, sizeof(b), "prices.storage_classes");
		}
		source_row(arr, "storage_class", sc->name, false, sc->gib_month, "GiB-month", "config", b);
	}
	for (size_t i = 0; fr && i < fr->nitems; i++) {
		const kp_focus_rate *f = &fr->items[i];
		if (!f->storage || kp_pricing_storage_class(cfg, f->name))
			continue;
		if (f->rate >= 0) {
			snprintf(b, sizeof(b), "FOCUS bill: %lld volume%s, %.4g GiB-months, %lld row%s", (long long)f->resources,
				 f->resources == 1 ? "" : "s", f->gib_months, (long long)f->rows, f->rows == 1 ? "" : "s");
			source_row(arr, "storage_class", f->name, false, f->rate, "GiB-month", "focus", b);
		} else {
			snprintf(b, sizeof(b), "FOCUS bill: %s; priced at the global prices", f->note ? f->note : "no rate");
			source_row(arr, "storage_class", f->name, false, -1, "GiB-month", global_source(cfg), b);
		}
	}
	const char *gs = global_source(cfg);
	const char *gb = strcmp(gs, "default") == 0 ? "OpenCost's defaults"
			 : strcmp(gs, "opencost-custom") == 0 ? "the OpenCost custom pricing file"
							      : "prices.* in the configuration";
	source_row(arr, "global", "cpu", false, p->cpu_core_hour, "core-hour", gs, gb);
	source_row(arr, "global", "memory", false, p->memory_gib_hour, "GiB-hour", gs, gb);
	source_row(arr, "global", "storage", false, p->storage_gib_month, "GiB-month", gs, gb);
	source_row(arr, "global", "load balancer", false, p->load_balancer_hour, "hour", gs, gb);
	return arr;
}

/* ---- cost ---- */

double kp_money_cost(const kp_config *cfg, const kp_rates *r, const kp_sizes *s)
{
	double replicas = s->replicas >= 0 ? s->replicas : 1;
	double cpu = s->cpu_request_m > 0 ? (double)s->cpu_request_m / 1000.0 : 0;
	double mem = s->mem_request_b > 0 ? (double)s->mem_request_b / KP_GIB : 0;
	double storage = s->storage_b > 0 ? (double)s->storage_b / KP_GIB : 0;
	return replicas * (cpu * r->cpu_core_hour + mem * r->memory_gib_hour) * cfg->prices.hours_per_month +
	       storage * r->storage_gib_month;
}

/* Replaces the finding's "Priced at" evidence line, or adds it. */
static void set_evidence(kp_finding *f, const char *metric, double value, const char *unit, const char *summary)
{
	for (size_t i = 0; i < f->nevidence; i++) {
		kp_evidence *e = &f->evidence[i];
		if (e->metric && strncmp(e->metric, "priced_at_", 10) == 0) {
			free(e->metric);
			free(e->unit);
			free(e->summary);
			e->metric = kp_xstrdup(metric);
			e->unit = kp_xstrdup(unit);
			e->summary = kp_xstrdup(summary);
			e->value = value;
			e->has_value = true;
			return;
		}
	}
	kp_finding_add_evidence(f, metric, value, true, unit, "%s", summary);
}

/* Says so in the evidence when the bill set (part of) the price. */
static const char *from_bill(const kp_rates *r)
{
	if (!r->source)
		return "";
	if (strcmp(r->source, "focus") == 0)
		return "; effective prices from the FOCUS bill";
	if (strcmp(r->source, "mixed") == 0) {
		for (size_t i = 0; i < r->nitems; i++)
			if (r->items[i].source && strcmp(r->items[i].source, "focus") == 0)
				return "; partly effective prices from the FOCUS bill";
	}
	return "";
}

static void priced_at_evidence(const kp_config *cfg, kp_finding *f, const kp_rates *r)
{
	char a[64], b[64], unit[48];
	const char *cur = cfg->prices.currency ? cfg->prices.currency : "USD";
	char *summary = NULL;
	if (r->cpu_specific) {
		price_text(cfg, r->cpu_core_hour, a, sizeof(a));
		price_text(cfg, r->memory_gib_hour, b, sizeof(b));
		summary = kp_xasprintf("Priced at %s/core-hour and %s/GiB-hour (%s%s)", a, b,
				       r->nodes_label ? r->nodes_label : "node prices", from_bill(r));
		snprintf(unit, sizeof(unit), "%s/core-hour", cur);
		set_evidence(f, "priced_at_cpu_core_hour", r->cpu_core_hour, unit, summary);
	} else if (r->storage_specific) {
		price_text(cfg, r->storage_gib_month, a, sizeof(a));
		summary = kp_xasprintf("Priced at %s/GiB-month (%s%s)", a, r->nodes_label ? r->nodes_label : "StorageClass prices",
				       strstr(r->nodes_label ? r->nodes_label : "", "FOCUS") ? "" : from_bill(r));
		snprintf(unit, sizeof(unit), "%s/GiB-month", cur);
		set_evidence(f, "priced_at_storage_gib_month", r->storage_gib_month, unit, summary);
	}
	free(summary);
}

void kp_money_price_finding(const kp_config *cfg, kp_finding *f)
{
	kp_rates_release(&f->price);
	kp_money_rates(cfg, f, &f->price);
	/* Load balancers a finding holds are priced on top of its sizes; no
	 * recommendation keeps them (they go with the action). */
	kp_sizes now = priced_now(f);
	f->monthly_cost = kp_money_cost(cfg, &f->price, &now) +
			  (double)f->load_balancers * cfg->prices.load_balancer_hour * cfg->prices.hours_per_month;
	f->monthly_savings = f->monthly_cost -
			     (f->has_recommended ? kp_money_cost(cfg, &f->price, &f->recommended) : 0);
	priced_at_evidence(cfg, f, &f->price);
}

bool kp_money_below_threshold(const kp_config *cfg, const kp_finding *f)
{
	if (f->category != KP_CAT_OVER_PROVISIONED && f->category != KP_CAT_IDLE_WORKLOAD)
		return false;
	return kp_money_round(f->monthly_savings) < cfg->rules.rightsizing.min_monthly_savings;
}
