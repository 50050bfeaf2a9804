/*
 * yamljson.c - see yamljson.h. libyaml's document API gives the node graph
 * (aliases already resolved to node ids); it is walked once into json-c.
 */
#include "pipeline/yamljson.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define YJ_MAX_NODES 1000000
#define YJ_MAX_DEPTH 256

typedef struct {
	yaml_document_t *doc;
	const char *name;
	size_t nodes;
	kp_error *err;
} yj_t;

static bool is_int(const char *s)
{
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	if (!*p)
		return false;
	if (p[0] == '0' && p[1])
		return false; /* 0755 and 007 stay strings: their meaning is not decimal */
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static bool is_float(const char *s)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (*end || end == s || !isfinite(d))
		return false;
	/* strtod also takes hex, inf and nan: YAML's core floats are decimal */
	for (const char *p = s; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return false;
	return strchr(s, '.') || strchr(s, 'e') || strchr(s, 'E');
}

static json_object *scalar(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || memchr(v, '\0', len))
		return json_object_new_string_len(v, (int)len);
	if (len == 0 || strcmp(v, "~") == 0 || strcasecmp(v, "null") == 0)
		return NULL;
	if (strcasecmp(v, "true") == 0)
		return json_object_new_boolean(1);
	if (strcasecmp(v, "false") == 0)
		return json_object_new_boolean(0);
	if (is_int(v)) {
		errno = 0;
		long long x = strtoll(v, NULL, 10);
		if (errno == 0)
			return json_object_new_int64(x);
	}
	if (is_float(v))
		return json_object_new_double_s(strtod(v, NULL), v);
	return json_object_new_string_len(v, (int)len);
}

static kp_status walk(yj_t *x, yaml_node_t *n, int depth, json_object **out)
{
	*out = NULL;
	if (++x->nodes > YJ_MAX_NODES)
		return kp_fail(x->err, KP_ERR_INPUT, "%s: more than %d YAML nodes (aliases expanded): refused", x->name,
			       YJ_MAX_NODES);
	if (depth > YJ_MAX_DEPTH)
		return kp_fail(x->err, KP_ERR_INPUT, "%s:%zu: YAML nested deeper than %d levels", x->name,
			       n->start_mark.line + 1, YJ_MAX_DEPTH);
	switch (n->type) {
	case YAML_SCALAR_NODE:
		*out = scalar(n);
		return KP_OK;
	case YAML_SEQUENCE_NODE: {
		json_object *a = json_object_new_array();
		for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			json_object *v;
			kp_status s = walk(x, yaml_document_get_node(x->doc, *it), depth + 1, &v);
			if (s) {
				json_object_put(a);
				return s;
			}
			json_object_array_add(a, v);
		}
		*out = a;
		return KP_OK;
	}
	case YAML_MAPPING_NODE: {
		json_object *o = json_object_new_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
			if (!k || k->type != YAML_SCALAR_NODE) {
				json_object_put(o);
				return kp_fail(x->err, KP_ERR_INPUT, "%s:%zu:%zu: a mapping key that is not a plain value",
					       x->name, (k ? k : n)->start_mark.line + 1, (k ? k : n)->start_mark.column + 1);
			}
			json_object *v;
			kp_status s = walk(x, yaml_document_get_node(x->doc, p->value), depth + 1, &v);
			if (s) {
				json_object_put(o);
				return s;
			}
			char *key = kp_xmalloc(k->data.scalar.length + 1);
			memcpy(key, k->data.scalar.value, k->data.scalar.length);
			key[k->data.scalar.length] = '\0';
			json_object_object_add(o, key, v);
			free(key);
		}
		*out = o;
		return KP_OK;
	}
	default:
		return KP_OK;
	}
}

kp_status kp_yaml_parse(const char *name, const char *text, size_t n, json_object **out, kp_error *err)
{
	*out = NULL;
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return kp_fail(err, KP_ERR_NOMEM, "%s: out of memory", name);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, n);
	yaml_document_t doc;
	if (!yaml_parser_load(&p, &doc)) {
		kp_status s = kp_fail(err, KP_ERR_INPUT, "%s:%zu:%zu: not valid YAML: %s%s%s", name,
				      p.problem_mark.line + 1, p.problem_mark.column + 1,
				      p.problem ? p.problem : "malformed", p.context ? " " : "", p.context ? p.context : "");
		yaml_parser_delete(&p);
		return s;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	kp_status s = KP_OK;
	if (root) {
		yj_t x = {&doc, name, 0, err};
		s = walk(&x, root, 0, out);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return s;
}

kp_status kp_yaml_read_file(const char *path, json_object **out, kp_error *err)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	kp_status s = kp_read_file(path, &text, &len, err);
	if (s)
		return s;
	s = kp_yaml_parse(path, text, len, out, err);
	free(text);
	return s;
}
