/*
 * prices.c - see prices.h. Owns the OpenCost custom pricing file reader and
 * the prices.node_types / prices.storage_classes tables of the
 * configuration. What a finding costs at these prices is pipeline/money.c.
 *
 * Ownership: the node type and StorageClass tables belong to the kp_config
 * (freed by kp_pricing_config_release, called from kp_config_release).
 * Every json_object made here is put before returning unless handed out.
 */
#include "pipeline/prices.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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
