/*
 * pricing.c - see pricing.h. Owns the OpenCost custom pricing file reader,
 * the prices.node_types / prices.storage_classes tables of the
 * configuration, and the per-finding rates with their traceable basis.
 *
 * Ownership: the node type and StorageClass tables belong to the kp_config
 * (freed by kp_pricing_config_release, called from kp_config_release).
 * kp_rates owns basis, nodes_label and items (kp_rates_release). Every
 * json_object made here is put before returning unless handed out.
 */
#include "stages/recommend/pricing.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB (1024.0 * 1024.0 * 1024.0)

/* ---- numbers ---- */

/* Short, exact-enough text for a price: "0.192", "0.031611". */
static void fmt_num(double v, char *out, size_t n)
{
	snprintf(out, n, "%.6g", v);
}

static void fmt_price(const kp_config *cfg, double v, char *out, size_t n)
{
	char num[32];
	fmt_num(v, num, sizeof(num));
	if (!cfg->prices.currency || strcmp(cfg->prices.currency, "USD") == 0)
		snprintf(out, n, "$%s", num);
	else
		snprintf(out, n, "%s %s", num, cfg->prices.currency);
}

/* ---- OpenCost custom pricing file ---- */

static const struct {
	const char *key;
	size_t off;
} custom_keys[] = {
	{"CPU", offsetof(kp_custom_prices, cpu_core_hour)},
	{"RAM", offsetof(kp_custom_prices, memory_gib_hour)},
	{"storage", offsetof(kp_custom_prices, storage_gib_hour)},
	{"spotCPU", offsetof(kp_custom_prices, spot_cpu_core_hour)},
	{"spotRAM", offsetof(kp_custom_prices, spot_memory_gib_hour)},
};
#define NCUSTOM (sizeof(custom_keys) / sizeof(custom_keys[0]))

static kp_status custom_value(const char *path, const char *key, const char *text, bool is_text, kp_custom_prices *out,
			      kp_error *err)
{
	for (size_t i = 0; i < NCUSTOM; i++) {
		if (strcmp(custom_keys[i].key, key) != 0)
			continue;
		double *dst = (double *)((char *)out + custom_keys[i].off);
		if (is_text && text && !*text)
			return KP_OK; /* "" = not priced, as OpenCost treats it */
		double d;
		if (!text || !kp_parse_number(text, &d) || d < 0)
			return kp_fail(err, KP_ERR_USAGE,
				       "%s: %s: expected a number >= 0 (OpenCost writes it as a string, e.g. \"0.031611\"), "
				       "got %s%.40s%s",
				       path, key, text ? "\"" : "", text ? text : "a non-number", text ? "\"" : "");
		*dst = d;
		return KP_OK;
	}
	return KP_OK; /* unknown keys (GPU, network egress, provider, ...) are ignored */
}

static kp_status read_custom_json(const char *path, const char *text, kp_custom_prices *out, kp_error *err)
{
	json_tokener *tok = json_tokener_new();
	size_t len = strlen(text);
	json_object *doc = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!doc || je != json_tokener_success) {
		json_object_put(doc);
		return kp_fail(err, KP_ERR_USAGE, "%s: malformed JSON: %s", path, json_tokener_error_desc(je));
	}
	kp_status st = KP_OK;
	if (!json_object_is_type(doc, json_type_object)) {
		st = kp_fail(err, KP_ERR_USAGE, "%s: expected an object of prices such as {\"CPU\": \"0.031611\", ...}",
			     path);
	} else {
		json_object_object_foreach(doc, key, val) {
			if (st)
				break;
			bool num = json_object_is_type(val, json_type_double) || json_object_is_type(val, json_type_int);
			bool str = json_object_is_type(val, json_type_string);
			st = custom_value(path, key, num || str ? json_object_get_string(val) : NULL, str, out, err);
		}
	}
	json_object_put(doc);
	return st;
}

static kp_status read_custom_yaml(const char *path, const char *text, kp_custom_prices *out, kp_error *err)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return kp_fail(err, KP_ERR_NOMEM, "%s: cannot initialise the YAML parser", path);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	yaml_document_t doc;
	if (!yaml_parser_load(&parser, &doc)) {
		kp_status st = kp_fail(err, KP_ERR_USAGE, "%s:%zu: malformed YAML: %s", path,
				       parser.problem_mark.line + 1, parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return st;
	}
	kp_status st = KP_OK;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		st = kp_fail(err, KP_ERR_USAGE, "%s: expected a mapping of prices such as CPU: \"0.031611\"", path);
	} else {
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start; !st && p < root->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(&doc, p->key);
			yaml_node_t *v = yaml_document_get_node(&doc, p->value);
			if (!k || !v || k->type != YAML_SCALAR_NODE)
				continue;
			const char *val = v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : NULL;
			bool quoted = v->type == YAML_SCALAR_NODE && v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
			st = custom_value(path, (const char *)k->data.scalar.value, val, quoted, out, err);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return st;
}

kp_status kp_pricing_read_custom(const char *path, kp_custom_prices *out, kp_error *err)
{
	out->cpu_core_hour = out->memory_gib_hour = out->storage_gib_hour = -1;
	out->spot_cpu_core_hour = out->spot_memory_gib_hour = -1;
	char *text = NULL;
	size_t len;
	if (kp_read_file(path, &text, &len, err)) {
		/* a price file named in the configuration that is not there is a
		 * configuration mistake */
		if (err)
			err->status = KP_ERR_USAGE;
		return KP_ERR_USAGE;
	}
	if (strlen(text) != len) {
		free(text);
		return kp_fail(err, KP_ERR_USAGE, "%s: not a text file (NUL byte)", path);
	}
	const char *p = text;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	kp_status st = *p == '{' ? read_custom_json(path, text, out, err) : read_custom_yaml(path, text, out, err);
	free(text);
	return st;
}

/* ---- configuration tables (prices.node_types, prices.storage_classes) ---- */

bool kp_pricing_is_section(const char *dotted)
{
	return strcmp(dotted, "prices.node_types") == 0 || strcmp(dotted, "prices.storage_classes") == 0;
}

void kp_pricing_config_release(kp_config *cfg)
{
	for (size_t i = 0; i < cfg->prices.nnode_types; i++)
		free(cfg->prices.node_types[i].name);
	free(cfg->prices.node_types);
	for (size_t i = 0; i < cfg->prices.nstorage_classes; i++)
		free(cfg->prices.storage_classes[i].name);
	free(cfg->prices.storage_classes);
	cfg->prices.node_types = NULL;
	cfg->prices.storage_classes = NULL;
	cfg->prices.nnode_types = cfg->prices.nstorage_classes = 0;
}

static kp_status yaml_price(yaml_node_t *v, const char *path, const char *where, double *out, kp_error *err)
{
	const char *s = v && v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : NULL;
	if (!s || !kp_parse_number(s, out) || *out < 0)
		return kp_fail(err, KP_ERR_USAGE, "%s:%zu: %s: expected a number >= 0, got %s%.40s%s", path,
			       v ? v->start_mark.line + 1 : 0, where, s ? "\"" : "", s ? s : "a mapping or list",
			       s ? "\"" : "");
	return KP_OK;
}

kp_status kp_pricing_yaml_section(kp_config *cfg, yaml_document_t *doc, yaml_node_t *node, const char *section,
				  const char *path, kp_error *err)
{
	bool nodes = strcmp(section, "prices.node_types") == 0;
	bool is_null = node->type == YAML_SCALAR_NODE && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		       (!*node->data.scalar.value || strcmp((const char *)node->data.scalar.value, "null") == 0 ||
			strcmp((const char *)node->data.scalar.value, "~") == 0);
	if (!is_null && node->type != YAML_MAPPING_NODE)
		return kp_fail(err, KP_ERR_USAGE, "%s:%zu: %s: expected a mapping of %s", path, node->start_mark.line + 1,
			       section,
			       nodes ? "instance type: {hourly: N, spot_hourly: N}" : "StorageClass name: price per GiB-month");
	/* Build the new table aside, so an error leaves the old one intact. */
	kp_config tmp;
	memset(&tmp, 0, sizeof(tmp));
	kp_status st = KP_OK;
	size_t n = is_null ? 0 : (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
	if (nodes)
		tmp.prices.node_types = kp_xcalloc(n ? n : 1, sizeof(kp_node_type_price));
	else
		tmp.prices.storage_classes = kp_xcalloc(n ? n : 1, sizeof(kp_storage_class_price));
	for (size_t i = 0; i < n && !st; i++) {
		yaml_node_pair_t *p = &node->data.mapping.pairs.start[i];
		yaml_node_t *k = yaml_document_get_node(doc, p->key), *v = yaml_document_get_node(doc, p->value);
		if (!k || !v || k->type != YAML_SCALAR_NODE || !*k->data.scalar.value) {
			st = kp_fail(err, KP_ERR_USAGE, "%s:%zu: %s: names must be plain strings", path,
				     k ? k->start_mark.line + 1 : 0, section);
			break;
		}
		const char *name = (const char *)k->data.scalar.value;
		size_t line = k->start_mark.line + 1;
		char where[512];
		snprintf(where, sizeof(where), "%s.%.200s", section, name);
		bool dup = false;
		for (size_t j = 0; j < (nodes ? tmp.prices.nnode_types : tmp.prices.nstorage_classes); j++)
			dup |= strcmp(nodes ? tmp.prices.node_types[j].name : tmp.prices.storage_classes[j].name, name) == 0;
		if (dup) {
			st = kp_fail(err, KP_ERR_USAGE, "%s:%zu: %s: set twice", path, line, where);
			break;
		}
		if (!nodes) {
			double d;
			if ((st = yaml_price(v, path, where, &d, err)))
				break;
			tmp.prices.storage_classes[tmp.prices.nstorage_classes++] = (kp_storage_class_price){kp_xstrdup(name), d};
			continue;
		}
		kp_node_type_price np = {NULL, -1, -1};
		if (v->type == YAML_SCALAR_NODE) {
			/* m5.xlarge: 0.192 is the hourly on-demand price */
			if ((st = yaml_price(v, path, where, &np.hourly, err)))
				break;
		} else if (v->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *q = v->data.mapping.pairs.start; !st && q < v->data.mapping.pairs.top; q++) {
				yaml_node_t *qk = yaml_document_get_node(doc, q->key);
				yaml_node_t *qv = yaml_document_get_node(doc, q->value);
				const char *field = qk && qk->type == YAML_SCALAR_NODE ? (const char *)qk->data.scalar.value : "";
				char w2[600];
				snprintf(w2, sizeof(w2), "%s.%s", where, field);
				if (strcmp(field, "hourly") == 0)
					st = yaml_price(qv, path, w2, &np.hourly, err);
				else if (strcmp(field, "spot_hourly") == 0)
					st = yaml_price(qv, path, w2, &np.spot_hourly, err);
				else
					st = kp_fail(err, KP_ERR_USAGE, "%s:%zu: %s: unknown key (expected hourly or spot_hourly)",
						     path, qk ? qk->start_mark.line + 1 : line, w2);
			}
			if (!st && np.hourly < 0)
				st = kp_fail(err, KP_ERR_USAGE, "%s:%zu: %s: hourly (the on-demand price per node-hour) is required",
					     path, line, where);
		} else {
			st = kp_fail(err, KP_ERR_USAGE, "%s:%zu: %s: expected {hourly: N, spot_hourly: N} or a number", path,
				     line, where);
		}
		if (st)
			break;
		np.name = kp_xstrdup(name);
		tmp.prices.node_types[tmp.prices.nnode_types++] = np;
	}
	if (st) {
		kp_pricing_config_release(&tmp);
		return st;
	}
	if (nodes) {
		kp_config old = {0};
		old.prices.node_types = cfg->prices.node_types;
		old.prices.nnode_types = cfg->prices.nnode_types;
		kp_pricing_config_release(&old);
		cfg->prices.node_types = tmp.prices.node_types;
		cfg->prices.nnode_types = tmp.prices.nnode_types;
	} else {
		kp_config old = {0};
		old.prices.storage_classes = cfg->prices.storage_classes;
		old.prices.nstorage_classes = cfg->prices.nstorage_classes;
		kp_pricing_config_release(&old);
		cfg->prices.storage_classes = tmp.prices.storage_classes;
		cfg->prices.nstorage_classes = tmp.prices.nstorage_classes;
	}
	return KP_OK;
}

void kp_pricing_config_show(const kp_config *cfg, kp_buf *out, int keyw, int valw)
{
	json_object *o = json_object_new_object();
	kp_pricing_config_json(cfg, o);
	json_object_object_foreach(o, key, val)
	{
		bool set = json_object_object_length(val) > 0;
		kp_buf_printf(out, "%-*s = %-*s   (%s)\n", keyw, key, valw,
			      json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
			      set ? "file" : "default");
	}
	json_object_put(o);
}

void kp_pricing_config_json(const kp_config *cfg, json_object *obj)
{
	json_object *nt = json_object_new_object(), *sc = json_object_new_object();
	for (size_t i = 0; i < cfg->prices.nnode_types; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "hourly", kp_json_new_number(cfg->prices.node_types[i].hourly));
		if (cfg->prices.node_types[i].spot_hourly >= 0)
			json_object_object_add(o, "spot_hourly", kp_json_new_number(cfg->prices.node_types[i].spot_hourly));
		json_object_object_add(nt, cfg->prices.node_types[i].name, o);
	}
	for (size_t i = 0; i < cfg->prices.nstorage_classes; i++)
		json_object_object_add(sc, cfg->prices.storage_classes[i].name,
				       kp_json_new_number(cfg->prices.storage_classes[i].gib_month));
	json_object_object_add(obj, "prices.node_types", nt);
	json_object_object_add(obj, "prices.storage_classes", sc);
}

const kp_node_type_price *kp_pricing_node_type(const kp_config *cfg, const char *instance_type)
{
	for (size_t i = 0; instance_type && i < cfg->prices.nnode_types; i++)
		if (strcmp(cfg->prices.node_types[i].name, instance_type) == 0)
			return &cfg->prices.node_types[i];
	return NULL;
}

const kp_storage_class_price *kp_pricing_storage_class(const kp_config *cfg, const char *name)
{
	for (size_t i = 0; name && i < cfg->prices.nstorage_classes; i++)
		if (strcmp(cfg->prices.storage_classes[i].name, name) == 0)
			return &cfg->prices.storage_classes[i];
	return NULL;
}

/* ---- rates ---- */

bool kp_pricing_split(double hourly, double cores, double gib, double cpu_ref, double ram_ref, double *cpu_rate,
		      double *ram_rate)
{
	if (!(cores >= 0) || !(gib >= 0) || (cores <= 0 && gib <= 0) || !(hourly >= 0))
		return false;
	if (cpu_ref <= 0 && ram_ref <= 0) {
		/* no reference ratio: OpenCost's default one */
		cpu_ref = 0.031611;
		ram_ref = 0.004237;
	}
	if (ram_ref <= 0 || gib <= 0) {
		/* all on CPU (RAM is free, or the node has no memory to price) */
		if (cores <= 0)
			return false;
		*cpu_rate = hourly / cores;
		*ram_rate = 0;
		return true;
	}
	double r = cpu_ref / ram_ref; /* cpu_rate = r * ram_rate */
	*ram_rate = hourly / (r * cores + gib);
	*cpu_rate = r * *ram_rate;
	return true;
}

void kp_rates_release(kp_rates *r)
{
	free(r->basis);
	free(r->nodes_label);
	json_object_put(r->items);
	memset(r, 0, sizeof(*r));
}

static double num_at(json_object *o, const char *k, double dflt)
{
	json_object *v = kp_json_get(o, k);
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return json_object_get_double(v);
	return dflt;
}

/* Rates of one node (or a group of identical nodes). desc gets e.g.
 * "on-demand $0.192/h"; item is filled for the price's "items". False:
 * nothing specific applies (global prices). */
static bool node_rates(const kp_config *cfg, const char *type, bool spot, double cores, double gib, double *cpu,
		       double *mem, char *desc, size_t n, json_object *item)
{
	const kp_node_type_price *np = kp_pricing_node_type(cfg, type);
	bool custom_spot = cfg->prices.spot_cpu_core_hour >= 0 && cfg->prices.spot_memory_gib_hour >= 0;
	char p[64];
	double hourly = -1;
	if (np && spot && np->spot_hourly >= 0) {
		hourly = np->spot_hourly;
		fmt_price(cfg, hourly, p, sizeof(p));
		snprintf(desc, n, "spot %s/h", p);
	} else if (spot && custom_spot) {
		*cpu = cfg->prices.spot_cpu_core_hour;
		*mem = cfg->prices.spot_memory_gib_hour;
		snprintf(desc, n, "spot, custom pricing spotCPU/spotRAM");
	} else if (np) {
		hourly = np->hourly;
		fmt_price(cfg, hourly, p, sizeof(p));
		snprintf(desc, n, spot ? "spot, no spot price: on-demand %s/h" : "on-demand %s/h", p);
	} else {
		return false;
	}
	if (hourly >= 0 && !kp_pricing_split(hourly, cores, gib, cfg->prices.cpu_core_hour, cfg->prices.memory_gib_hour, cpu, mem))
		return false;
	json_object_object_add(item, "type", json_object_new_string("node_type"));
	json_object_object_add(item, "name", json_object_new_string(type ? type : "(no instance type)"));
	json_object_object_add(item, "spot", json_object_new_boolean(spot));
	if (hourly >= 0)
		json_object_object_add(item, "hourly", kp_json_new_number(hourly));
	json_object_object_add(item, "cpu_core_hour", kp_json_new_number(*cpu));
	json_object_object_add(item, "memory_gib_hour", kp_json_new_number(*mem));
	return true;
}

static void workload_rates(const kp_config *cfg, json_object *in, kp_rates *out)
{
	json_object *groups = kp_json_get(in, "node_types");
	size_t n = json_object_is_type(groups, json_type_array) ? json_object_array_length(groups) : 0;
	double pods_total = 0, cpu_sum = 0, mem_sum = 0, pods_global = num_at(in, "pods_elsewhere", 0);
	bool any = false;
	kp_buf basis, label;
	kp_buf_init(&basis);
	kp_buf_init(&label);
	json_object *items = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *g = json_object_array_get_idx(groups, i);
		const char *type = kp_json_str(g, "instance_type");
		bool spot = json_object_get_boolean(kp_json_get(g, "spot"));
		double pods = num_at(g, "pods", 0);
		if (pods <= 0)
			continue;
		double cpu, mem;
		char desc[160];
		json_object *item = json_object_new_object();
		if (!node_rates(cfg, type, spot, num_at(g, "cpu_millicores", 0) / 1000.0, num_at(g, "memory_bytes", 0) / GIB,
				&cpu, &mem, desc, sizeof(desc), item)) {
			json_object_put(item);
			pods_global += pods;
			continue;
		}
		any = true;
		json_object_object_add(item, "pods", json_object_new_int64((int64_t)pods));
		json_object_array_add(items, item);
		pods_total += pods;
		cpu_sum += pods * cpu;
		mem_sum += pods * mem;
		kp_buf_printf(&basis, "%s%s%s x%.0f (%s)", basis.len ? ", " : "node types ", type ? type : "(no instance type)",
			      spot ? " spot" : "", pods, desc);
		kp_buf_printf(&label, "%s%s%s x%.0f", label.len ? ", " : "", type ? type : "(no instance type)",
			      spot ? " spot" : "", pods);
	}
	if (!any) {
		json_object_put(items);
		kp_buf_release(&basis);
		kp_buf_release(&label);
		return;
	}
	if (pods_global > 0) {
		kp_buf_printf(&basis, "; %.0f pod%s on nodes without a price at the global prices", pods_global,
			      pods_global == 1 ? "" : "s");
		kp_buf_printf(&label, ", %.0f at global prices", pods_global);
	}
	pods_total += pods_global;
	cpu_sum += pods_global * cfg->prices.cpu_core_hour;
	mem_sum += pods_global * cfg->prices.memory_gib_hour;
	out->cpu_core_hour = cpu_sum / pods_total;
	out->memory_gib_hour = mem_sum / pods_total;
	out->cpu_specific = true;
	out->basis = kp_buf_detach(&basis);
	out->nodes_label = kp_xasprintf("nodes: %s", kp_buf_cstr(&label));
	kp_buf_release(&label);
	out->items = items;
}

static void node_finding_rates(const kp_config *cfg, const kp_finding *f, json_object *in, kp_rates *out)
{
	/* Split over the sizes the finding prices, so cost = hourly x hours. */
	double cores = num_at(in, "cpu_millicores", 0) / 1000.0, gib = num_at(in, "memory_bytes", 0) / GIB;
	if (f->current.cpu_request_m > 0 || f->current.mem_request_b > 0) {
		cores = f->current.cpu_request_m > 0 ? (double)f->current.cpu_request_m / 1000.0 : 0;
		gib = f->current.mem_request_b > 0 ? (double)f->current.mem_request_b / GIB : 0;
	}
	const char *type = kp_json_str(in, "instance_type");
	bool spot = json_object_get_boolean(kp_json_get(in, "spot"));
	double cpu, mem;
	char desc[160];
	json_object *item = json_object_new_object();
	if (!node_rates(cfg, type, spot, cores, gib, &cpu, &mem, desc, sizeof(desc), item)) {
		json_object_put(item);
		return;
	}
	json_object_object_add(item, "pods", json_object_new_int64(1)); /* one node */
	out->items = json_object_new_array();
	json_object_array_add(out->items, item);
	out->cpu_core_hour = cpu;
	out->memory_gib_hour = mem;
	out->cpu_specific = true;
	out->basis = kp_xasprintf("node type %s%s (%s)", type ? type : "(no instance type)", spot ? " spot" : "", desc);
	out->nodes_label = kp_xasprintf("node type %s%s, %s", type ? type : "(no instance type)", spot ? " spot" : "", desc);
}

static void storage_rates(const kp_config *cfg, json_object *in, kp_rates *out)
{
	const char *one = kp_json_str(in, "storage_class");
	json_object *many = kp_json_get(in, "storage_classes");
	double bytes_total = 0, sum = 0;
	bool any = false;
	kp_buf basis, label;
	kp_buf_init(&basis);
	kp_buf_init(&label);
	json_object *items = json_object_new_array();
	char p[64];
	if (one) {
		const kp_storage_class_price *sc = kp_pricing_storage_class(cfg, one);
		if (sc) {
			any = true;
			bytes_total = 1;
			sum = sc->gib_month;
			fmt_price(cfg, sc->gib_month, p, sizeof(p));
			kp_buf_printf(&basis, "StorageClass %s %s/GiB-month", one, p);
			kp_buf_printf(&label, "StorageClass %s", one);
			json_object *it = json_object_new_object();
			json_object_object_add(it, "type", json_object_new_string("storage_class"));
			json_object_object_add(it, "name", json_object_new_string(one));
			json_object_object_add(it, "storage_gib_month", kp_json_new_number(sc->gib_month));
			json_object_array_add(items, it);
		}
	} else if (json_object_is_type(many, json_type_object)) {
		double global_bytes = 0;
		json_object_object_foreach(many, name, v) {
			double b = json_object_get_double(v);
			if (!(b > 0))
				continue;
			const kp_storage_class_price *sc = kp_pricing_storage_class(cfg, name);
			if (!sc) {
				global_bytes += b;
				continue;
			}
			any = true;
			bytes_total += b;
			sum += b * sc->gib_month;
			fmt_price(cfg, sc->gib_month, p, sizeof(p));
			kp_buf_printf(&basis, "%s%s %s/GiB-month (%.4g GiB)", basis.len ? ", " : "StorageClass ", name, p,
				      b / GIB);
			kp_buf_printf(&label, "%s%s", label.len ? ", " : "StorageClass ", name);
			json_object *it = json_object_new_object();
			json_object_object_add(it, "type", json_object_new_string("storage_class"));
			json_object_object_add(it, "name", json_object_new_string(name));
			json_object_object_add(it, "storage_gib_month", kp_json_new_number(sc->gib_month));
			json_object_array_add(items, it);
		}
		if (any && global_bytes > 0) {
			fmt_price(cfg, cfg->prices.storage_gib_month, p, sizeof(p));
			kp_buf_printf(&basis, "; %.4g GiB in classes without a price at the global %s/GiB-month",
				      global_bytes / GIB, p);
			bytes_total += global_bytes;
			sum += global_bytes * cfg->prices.storage_gib_month;
		}
	}
	if (!any) {
		json_object_put(items);
		kp_buf_release(&basis);
		kp_buf_release(&label);
		return;
	}
	out->storage_gib_month = sum / bytes_total;
	out->storage_specific = true;
	out->basis = kp_buf_detach(&basis);
	out->nodes_label = kp_buf_detach(&label);
	out->items = items;
}

void kp_pricing_rates(const kp_config *cfg, const kp_finding *f, kp_rates *out)
{
	memset(out, 0, sizeof(*out));
	out->cpu_core_hour = cfg->prices.cpu_core_hour;
	out->memory_gib_hour = cfg->prices.memory_gib_hour;
	out->storage_gib_month = cfg->prices.storage_gib_month;
	if (!f->pricing)
		return;
	json_object *in = json_tokener_parse(f->pricing);
	if (!json_object_is_type(in, json_type_object)) {
		json_object_put(in);
		return; /* unreadable inputs: the global prices, as before */
	}
	if (kp_json_get(in, "node"))
		node_finding_rates(cfg, f, in, out);
	else if (kp_json_get(in, "node_types"))
		workload_rates(cfg, in, out);
	else if (kp_json_get(in, "storage_class") || kp_json_get(in, "storage_classes"))
		storage_rates(cfg, in, out);
	/* Same numbers as the global ones are not "specific": nothing to trace. */
	if (out->cpu_specific && out->cpu_core_hour == cfg->prices.cpu_core_hour && out->memory_gib_hour == cfg->prices.memory_gib_hour)
		out->cpu_specific = false;
	if (out->storage_specific && out->storage_gib_month == cfg->prices.storage_gib_month)
		out->storage_specific = false;
	if (!out->cpu_specific && !out->storage_specific) {
		kp_rates_release(out);
		out->cpu_core_hour = cfg->prices.cpu_core_hour;
		out->memory_gib_hour = cfg->prices.memory_gib_hour;
		out->storage_gib_month = cfg->prices.storage_gib_month;
	}
	json_object_put(in);
}

double kp_cost_monthly_at(const kp_config *cfg, const kp_rates *r, const kp_sizes *s)
{
	double replicas = s->replicas >= 0 ? s->replicas : 1;
	double cpu = s->cpu_request_m > 0 ? (double)s->cpu_request_m / 1000.0 : 0;
	double mem = s->mem_request_b > 0 ? (double)s->mem_request_b / GIB : 0;
	double storage = s->storage_b > 0 ? (double)s->storage_b / GIB : 0;
	return replicas * (cpu * r->cpu_core_hour + mem * r->memory_gib_hour) * cfg->prices.hours_per_month +
	       storage * r->storage_gib_month;
}

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

void kp_pricing_annotate(const kp_config *cfg, kp_finding *f, const kp_rates *r)
{
	json_object *in = f->pricing ? json_tokener_parse(f->pricing) : NULL;
	if (!json_object_is_type(in, json_type_object)) {
		json_object_put(in);
		return; /* global prices: nothing to record */
	}
	json_object_object_del(in, "price");
	if (r->cpu_specific || r->storage_specific) {
		json_object *p = json_object_new_object();
		char a[64], b[64], unit[48], *summary = NULL;
		if (r->cpu_specific) {
			json_object_object_add(p, "cpu_core_hour", kp_json_new_number(r->cpu_core_hour));
			json_object_object_add(p, "memory_gib_hour", kp_json_new_number(r->memory_gib_hour));
			fmt_price(cfg, r->cpu_core_hour, a, sizeof(a));
			fmt_price(cfg, r->memory_gib_hour, b, sizeof(b));
			summary = kp_xasprintf("Priced at %s/core-hour and %s/GiB-hour (%s)", a, b,
					       r->nodes_label ? r->nodes_label : "node prices");
			snprintf(unit, sizeof(unit), "%s/core-hour", cfg->prices.currency ? cfg->prices.currency : "USD");
			set_evidence(f, "priced_at_cpu_core_hour", r->cpu_core_hour, unit, summary);
		}
		if (r->storage_specific) {
			json_object_object_add(p, "storage_gib_month", kp_json_new_number(r->storage_gib_month));
			if (!r->cpu_specific) {
				fmt_price(cfg, r->storage_gib_month, a, sizeof(a));
				summary = kp_xasprintf("Priced at %s/GiB-month (%s)", a,
						       r->nodes_label ? r->nodes_label : "StorageClass prices");
				snprintf(unit, sizeof(unit), "%s/GiB-month", cfg->prices.currency ? cfg->prices.currency : "USD");
				set_evidence(f, "priced_at_storage_gib_month", r->storage_gib_month, unit, summary);
			}
		}
		free(summary);
		json_object_object_add(p, "basis", json_object_new_string(r->basis ? r->basis : "specific prices"));
		if (r->items)
			json_object_object_add(p, "items", json_object_get(r->items));
		json_object_object_add(in, "price", p);
	}
	free(f->pricing);
	f->pricing = kp_xstrdup(json_object_to_json_string_ext(in, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(in);
}
