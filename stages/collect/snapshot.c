/*
 * snapshot.c - parses objects/<resource>.json and usage.json into a
 * kp_cluster. Each file is streamed (pipeline/listscan.c): every item
 * becomes a json-c tree of only the members the model reads (the keep-
 * filters below), is parsed and freed, so peak memory is one item's tree
 * plus the compact model. All strings are copied into the cluster's arena.
 *
 * Validation is strict where a wrong value would change a recommendation
 * (quantities, names, kinds, timestamps) and lenient elsewhere (unknown
 * fields are ignored, as kubectl's output grows over releases).
 */
#include "stages/collect/snapshot.h"
#include "stages/collect/runtime.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/quantity.h"
#include "pipeline/fault.h"
#include "pipeline/listscan.h"
#include "stages/collect/redact.h"

/* Bound on usage counters (samples, restarts, OOM kills): a trillion samples
 * is 30,000 years at one a second, and summing a million such entries still
 * fits in int64. */
#define KP_MAX_USAGE_COUNT 1000000000000LL

/* ---- a small string-keyed index (open addressing) ---- */

typedef struct {
	uint64_t *hashes;
	size_t *values;
	const char **keys;
	size_t cap, len;
} index_t;

static void index_init(index_t *ix, size_t expected)
{
	size_t cap = 64;
	while (cap < expected * 2)
		cap *= 2;
	ix->cap = cap;
	ix->len = 0;
	ix->hashes = kp_xcalloc(cap, sizeof(*ix->hashes));
	ix->values = kp_xcalloc(cap, sizeof(*ix->values));
	ix->keys = kp_xcalloc(cap, sizeof(*ix->keys));
}

static void index_release(index_t *ix)
{
	free(ix->hashes);
	free(ix->values);
	free(ix->keys);
	memset(ix, 0, sizeof(*ix));
}

/* Keys are "kind/namespace/name" built in a caller buffer; names cannot
 * contain '/', so the join is unambiguous. */
static void make_key(kp_buf *b, const char *kind, const char *ns, const char *name)
{
	kp_buf_reset(b);
	kp_buf_puts(b, kind);
	kp_buf_putc(b, '/');
	kp_buf_puts(b, ns ? ns : "");
	kp_buf_putc(b, '/');
	kp_buf_puts(b, name);
}

static void index_put(index_t *ix, kp_arena *a, const char *key, size_t value)
{
	uint64_t h = kp_fnv1a64(key, strlen(key), KP_FNV_SEED) | 1;
	size_t i = h & (ix->cap - 1);
	while (ix->hashes[i]) {
		if (ix->hashes[i] == h && strcmp(ix->keys[i], key) == 0) {
			ix->values[i] = value;
			return;
		}
		i = (i + 1) & (ix->cap - 1);
	}
	ix->hashes[i] = h;
	ix->keys[i] = kp_arena_strdup(a, key);
	ix->values[i] = value;
	ix->len++;
}

static bool index_get(const index_t *ix, const char *key, size_t *value)
{
	if (!ix->cap)
		return false;
	uint64_t h = kp_fnv1a64(key, strlen(key), KP_FNV_SEED) | 1;
	size_t i = h & (ix->cap - 1);
	while (ix->hashes[i]) {
		if (ix->hashes[i] == h && strcmp(ix->keys[i], key) == 0) {
			*value = ix->values[i];
			return true;
		}
		i = (i + 1) & (ix->cap - 1);
	}
	return false;
}

/* ---- interned strings ----
 *
 * A 150,000-pod cluster repeats a few thousand strings hundreds of
 * thousands of times: namespaces, label keys and values, owner names,
 * container names, phases, node names. Each is kept once in the arena and
 * shared (the model's strings are read-only), which takes about a third
 * off the model; the unique ones (object names) are copied plainly. */
typedef struct {
	const char **slot;
	size_t cap, n; /* cap a power of two, n < cap * 3/4 */
} strset;

static void strset_release(strset *t)
{
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

static const char *intern(strset *t, kp_arena *a, const char *s)
{
	if (!s)
		return NULL;
	if ((t->n + 1) * 4 > t->cap * 3) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		const char **slot = kp_xcalloc(cap, sizeof(*slot));
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->slot[i])
				continue;
			size_t j = (size_t)kp_fnv1a64(t->slot[i], strlen(t->slot[i]), 0) & (cap - 1);
			while (slot[j])
				j = (j + 1) & (cap - 1);
			slot[j] = t->slot[i];
		}
		free(t->slot);
		t->slot = slot;
		t->cap = cap;
	}
	size_t len = strlen(s);
	size_t j = (size_t)kp_fnv1a64(s, len, 0) & (t->cap - 1);
	for (; t->slot[j]; j = (j + 1) & (t->cap - 1))
		if (strcmp(t->slot[j], s) == 0)
			return t->slot[j];
	t->n++;
	return t->slot[j] = kp_arena_strndup(a, s, len);
}

/* ---- parse context: where we are, for error messages ---- */

typedef struct {
	kp_cluster *c;
	const char *path; /* file being read */
	const char *list; /* "items" or "containers": the array being walked */
	bool keep_all_labels; /* every resource but pods: see keep_all_labels() */
	kp_resource resource; /* the list being read */
	const char *rel;      /* "objects/pods.json", for messages */
	size_t item;      /* index in that array */
	size_t index_base; /* items of the list's earlier pages (live collection) */
	size_t page_items; /* items seen in the page being read */
	/* "Pod shop/web-1" once known, as parts joined only for an error
	 * message (formatting it for each of 150,000 items showed in profiles):
	 * what[0] NULL: not known */
	const char *what[5];
	char nul_field[128]; /* first string field of the item holding a NUL character */
	kp_error *err;
	kp_buf what_buf;
	strset strs; /* the list's interned strings (intern()) */
} ctx_t;

#define STR(x, s) intern(&(x)->strs, &(x)->c->arena, (s))

static kp_status bad(ctx_t *x, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static kp_status bad(ctx_t *x, const char *field, const char *fmt, ...)
{
	char detail[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	kp_buf_reset(&x->what_buf);
	for (size_t i = 0; i < 5 && x->what[0]; i++)
		kp_buf_puts(&x->what_buf, x->what[i] ? x->what[i] : "");
	const char *what = x->what[0] ? kp_buf_cstr(&x->what_buf) : NULL;
	return kp_fail(x->err, KP_ERR_INPUT, "%s: %s[%zu]%s%s%s: %s: %s", x->path, x->list, x->item, what ? " (" : "",
		       what ? what : "", what ? ")" : "", field, detail);
}

/* A string from the snapshot made safe to quote in an error message, which
 * ends up on a terminal and in logs: at most 64 bytes of it, cut on a
 * character boundary ("..." marks the cut), with C0/C1 control characters,
 * DEL, '"' and '\\' escaped, so a hostile file can inject neither escape
 * sequences, newlines nor half a UTF-8 character. out needs
 * KP_QUOTE_SIZE bytes. */
#define KP_QUOTE_MAX 64
#define KP_QUOTE_SIZE (KP_QUOTE_MAX * 6 + 8)
static const char *quote_input(const char *s, char *out)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0, used = 0;
	while (*p && used < KP_QUOTE_MAX) {
		unsigned char ch = *p;
		size_t len = ch < 0x80 ? 1 : (ch & 0xE0) == 0xC0 ? 2 : (ch & 0xF0) == 0xE0 ? 3 : (ch & 0xF8) == 0xF0 ? 4 : 0;
		for (size_t i = 1; i < len; i++)
			if ((p[i] & 0xC0) != 0x80)
				len = 0;
		if (len == 0 || ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\' || (ch == 0xC2 && p[1] < 0xA0)) {
			/* one byte (or a C1 control, two) shown as escapes */
			size_t nb = ch == 0xC2 && len == 2 ? 2 : 1;
			for (size_t i = 0; i < nb; i++)
				o += (size_t)snprintf(out + o, KP_QUOTE_SIZE - o,
						      p[i] == '"' ? "\\\"" : p[i] == '\\' ? "\\\\" : "\\x%02x", p[i]);
			p += nb;
			used += nb;
			continue;
		}
		memcpy(out + o, p, len);
		o += len;
		p += len;
		used += len;
	}
	if (*p) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* A string field, as kp_json_str; one holding a NUL character ("cart\u0000-evil",
 * which C would silently read as "cart") is noted in x and becomes an error
 * once the item is read (list_item), naming the first such field. */
static const char *jstr(ctx_t *x, json_object *o, const char *dotted)
{
	json_object *v = kp_json_get(o, dotted);
	if (!json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	if (!x->nul_field[0] && (size_t)json_object_get_string_len(v) != strlen(s))
		snprintf(x->nul_field, sizeof(x->nul_field), "%s", dotted);
	return s;
}

static const char *str_at(ctx_t *x, json_object *o, const char *dotted)
{
	const char *s = jstr(x, o, dotted);
	return STR(x, s);
}

#define KP_NUL_MSG "contains a NUL character (\\u0000), which would silently cut it short"

/* Whether the string at o.dotted holds a NUL character (jstr read it short). */
static bool has_nul(json_object *o, const char *dotted)
{
	json_object *v = kp_json_get(o, dotted);
	return json_object_is_type(v, json_type_string) &&
	       (size_t)json_object_get_string_len(v) != strlen(json_object_get_string(v));
}

/* A name checked as the API server checks it (kp_name_rule). */
static kp_status check_name_as(ctx_t *x, const char *field, const char *name, kp_name_rule rule)
{
	size_t n = strlen(name);
	size_t max = rule == KP_NAME_LABEL || rule == KP_NAME_DNS1035 ? 63 : KP_MAX_NAME_LEN;
	if (n > max)
		return bad(x, field, "name is %zu characters long; Kubernetes allows at most %zu", n, max);
	const char *problem = kp_name_problem(name, rule);
	char q[KP_QUOTE_SIZE];
	if (problem)
		return bad(x, field, "\"%s\" %s", quote_input(name, q), problem);
	return KP_OK;
}

/* The names in usage.json, which names pods and containers the way the
 * objects do. */
static kp_status check_name(ctx_t *x, const char *field, const char *name)
{
	return check_name_as(x, field, name,
			     strcmp(field, "pod") == 0 ? KP_NAME_SUBDOMAIN : KP_NAME_LABEL);
}

/* true only for a JSON true: json_object_get_boolean would call the string
 * "false" true. */
static bool json_true(json_object *v)
{
	return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* Every object but a pod keeps all its labels: -l/--selector matches a
 * finding's resource (workload, PVC, PV, Service, Node) on them. Pods keep
 * only kopilot.io/ ones: 150,000 pods' full label sets would dominate
 * memory, and no finding is about a pod. */
static bool keep_all_labels(kp_resource r) { return r != KP_RES_PODS; }

/* Copies a string map into the arena; all=false keeps only kopilot.io/ keys.
 * field names the map for errors ("metadata.labels"); labels: keys and
 * values are checked as the API server checks labels and selectors (the
 * instance-type label reaches every report); annotations are free text,
 * only a NUL is refused. */
/* The annotations the model keeps (k_annotations says the same to the
 * list reader); the rest is not read. */
static bool kept_annotation(const char *k)
{
	return !strncmp(k, "kopilot.io/", 11) || !strcmp(k, "argocd.argoproj.io/tracking-id") ||
	       !strcmp(k, "meta.helm.sh/release-name") || !strcmp(k, "meta.helm.sh/release-namespace") ||
	       !strcmp(k, KP_ANN_CA_SCALE_DOWN_DISABLED) || !strcmp(k, KP_ANN_CA_SAFE_TO_EVICT) ||
	       !strcmp(k, KP_ANN_KARPENTER_DO_NOT_DISRUPT) || !strcmp(k, KP_ANN_KARPENTER_DO_NOT_EVICT) ||
	       !strcmp(k, KP_ANN_KARPENTER_DO_NOT_CONSOLIDATE);
}

static kp_status copy_kv(ctx_t *x, json_object *map, bool all, const char *field, bool labels, kp_kv **out,
			 size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!json_object_is_type(map, json_type_object))
		return KP_OK;
	size_t cap = 0;
	json_object_object_foreach(map, k, v)
	{
		(void)v;
		if (all || (labels ? !strncmp(k, "kopilot.io/", 11) : kept_annotation(k)))
			cap++;
	}
	if (!cap)
		return KP_OK;
	kp_kv *kv = kp_arena_alloc(&x->c->arena, cap * sizeof(kp_kv));
	*out = kv;
	json_object_object_foreach(map, k2, v2)
	{
		if (!(all || (labels ? !strncmp(k2, "kopilot.io/", 11) : kept_annotation(k2))))
			continue;
		const char *val = json_object_is_type(v2, json_type_string) ? json_object_get_string(v2) : "";
		char f[300], q[KP_QUOTE_SIZE];
		if (json_object_is_type(v2, json_type_string) && (size_t)json_object_get_string_len(v2) != strlen(val)) {
			snprintf(f, sizeof(f), "%s.%s", field, k2);
			return bad(x, f, KP_NUL_MSG);
		}
		const char *problem;
		if (labels && ((problem = kp_name_problem(k2, KP_NAME_LABEL_KEY)) ||
			       (problem = kp_name_problem(val, KP_NAME_LABEL_VALUE)))) {
			snprintf(f, sizeof(f), "%s.%s", field, k2);
			return bad(x, f, "\"%s\" %s", quote_input(kp_name_problem(k2, KP_NAME_LABEL_KEY) ? k2 : val, q),
				   problem);
		}
		kv[*n].key = STR(x, k2);
		kv[*n].value = STR(x, val);
		(*n)++;
	}
	return KP_OK;
}

/* The rule the API server applies to metadata.name of this kind. */
static kp_name_rule name_rule(const char *kind)
{
	if (strcmp(kind, "Namespace") == 0)
		return KP_NAME_LABEL;
	if (strcmp(kind, "Service") == 0)
		return KP_NAME_DNS1035;
	if (strcmp(kind, "Rollout") == 0 || strcmp(kind, "VerticalPodAutoscaler") == 0)
		return KP_NAME_SEGMENT; /* a custom resource */
	return KP_NAME_SUBDOMAIN;
}

static bool label_true(json_object *map, const char *key)
{
	json_object *v = NULL;
	if (!json_object_is_type(map, json_type_object) || !json_object_object_get_ex(map, key, &v))
		return false;
	const char *s = json_object_get_string(v);
	return s && strcmp(s, "true") == 0;
}

static kp_status parse_meta(ctx_t *x, json_object *item, const char *api_version, const char *kind, bool namespaced,
			    kp_meta *m)
{
	json_object *md = kp_json_get(item, "metadata");
	if (!json_object_is_type(md, json_type_object))
		return bad(x, "metadata", "missing or not an object");
	const char *name = jstr(x, md, "name");
	if (!name)
		return bad(x, "metadata.name", "missing or not a string");
	if (has_nul(md, "name"))
		return bad(x, "metadata.name", KP_NUL_MSG);
	if (has_nul(md, "namespace"))
		return bad(x, "metadata.namespace", KP_NUL_MSG);
	kp_status s = check_name_as(x, "metadata.name", name, name_rule(kind));
	if (s)
		return s;
	const char *ns = jstr(x, md, "namespace");
	if (namespaced) {
		if (!ns)
			return bad(x, "metadata.namespace", "missing for namespaced %s %s", kind, name);
		if ((s = check_name_as(x, "metadata.namespace", ns, KP_NAME_LABEL)))
			return s;
	}
	m->api_version = api_version;
	m->kind = kind;
	m->name = kp_arena_strdup(&x->c->arena, name);
	m->namespace_ = namespaced ? STR(x, ns) : NULL;
	x->what[0] = kind, x->what[1] = " ", x->what[2] = namespaced ? ns : "", x->what[3] = namespaced ? "/" : "";
	x->what[4] = name;
	const char *ts = jstr(x, md, "creationTimestamp");
	char q[KP_QUOTE_SIZE];
	if (ts && !kp_time_parse(ts, &m->created))
		return bad(x, "metadata.creationTimestamp", "not an RFC 3339 time: \"%s\"", quote_input(ts, q));
	m->ignored = label_true(kp_json_get(md, "labels"), "kopilot.io/ignore") ||
		     label_true(kp_json_get(md, "annotations"), "kopilot.io/ignore");
	/* which objects keep every label: keep_all_labels() */
	bool all_labels = x->keep_all_labels;
	if ((s = copy_kv(x, kp_json_get(md, "labels"), all_labels, "metadata.labels", true, &m->labels, &m->nlabels)) ||
	    (s = copy_kv(x, kp_json_get(md, "annotations"), false, "metadata.annotations", false, &m->annotations,
			 &m->nannotations)))
		return s;
	json_object *owners = kp_json_get(md, "ownerReferences");
	if (json_object_is_type(owners, json_type_array)) {
		size_t n = json_object_array_length(owners);
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(owners, i);
			json_object *ctl = kp_json_get(o, "controller");
			if (n > 1 && !json_true(ctl))
				continue;
			m->owner_kind = str_at(x, o, "kind");
			m->owner_name = str_at(x, o, "name");
			m->owner_controller = json_true(ctl);
			break;
		}
	}
	return KP_OK;
}

static kp_status parse_quantity(ctx_t *x, json_object *res, const char *key, const char *field_prefix, bool cpu,
				int64_t *out)
{
	*out = KP_UNSET;
	json_object *v = NULL;
	if (!json_object_is_type(res, json_type_object) || !json_object_object_get_ex(res, key, &v) || !v)
		return KP_OK;
	char field[300]; /* named only in an error: most quantities have none */
#define QFIELD() (snprintf(field, sizeof(field), "%s.%s", field_prefix, key), field)
	/* kubectl prints quantities as strings; a bare JSON number is accepted
	 * because hand-written snapshots use them and the API accepts them.
	 * json-c keeps a parsed number's source text: use all of it (a copy
	 * into a fixed buffer cut long numbers, so 0.000...05e71 read as 0). */
	const char *s;
	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
	} else if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		s = json_object_to_json_string(v);
	} else {
		return bad(x, QFIELD(), "expected a quantity string like \"%s\"", cpu ? "500m" : "512Mi");
	}
	kp_error qerr;
	char q[KP_QUOTE_SIZE];
	kp_status st = cpu ? kp_quantity_milli(s, out, &qerr) : kp_quantity_units(s, out, &qerr);
	if (st)
		return bad(x, QFIELD(), "%s", qerr.msg);
	if (cpu && *out > KP_MAX_CPU_MILLICORES)
		return bad(x, QFIELD(), "absurd CPU quantity \"%s\" (more than one million cores)", quote_input(s, q));
	if (!cpu && *out > KP_MAX_BYTES)
		return bad(x, QFIELD(), "absurd size \"%s\" (more than 1Ei)", quote_input(s, q));
	return KP_OK;
}
#undef QFIELD

/* a, b, c and d (NULL: none) joined into buf (size bytes, cut as snprintf
 * cuts; none of them may point into buf): field names for messages are
 * built for every container of every pod, and printf showed in profiles */
static char *fieldcat(char *buf, size_t size, const char *a, const char *b, const char *c, const char *d)
{
	size_t n = 0;
	const char *parts[4] = {a, b, c, d};
	for (int i = 0; i < 4 && parts[i]; i++) {
		size_t l = strnlen(parts[i], size - 1 - n);
		memcpy(buf + n, parts[i], l);
		n += l;
	}
	buf[n] = '\0';
	return buf;
}

static kp_status parse_containers(ctx_t *x, json_object *spec, const char *prefix, const char *key, bool init,
				  kp_podspec *ps, size_t *filled)
{
	json_object *arr = kp_json_get(spec, key);
	if (!arr)
		return KP_OK;
	if (!json_object_is_type(arr, json_type_array))
		return bad(x, prefix, "%s is not a list", key);
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *ct = json_object_array_get_idx(arr, i);
		kp_container *k = &ps->containers[(*filled)++];
		char field[200], at[32];
		at[sizeof(at) - 1] = '\0';
		char *d = &at[sizeof(at) - 1];
		*--d = ']';
		size_t v = i;
		do
			*--d = (char)('0' + v % 10);
		while ((v /= 10) > 0);
		*--d = '[';
		fieldcat(field, sizeof(field), prefix, ".", key, d); /* "%s.%s[%zu]" */
		const char *name = jstr(x, ct, "name");
		if (!name) {
			char f2[220];
			return bad(x, fieldcat(f2, sizeof(f2), field, ".name", NULL, NULL), "missing or not a string");
		}
		char nf[220];
		fieldcat(nf, sizeof(nf), field, ".name", NULL, NULL);
		if (has_nul(ct, "name"))
			return bad(x, nf, KP_NUL_MSG);
		kp_status ns = check_name_as(x, nf, name, KP_NAME_LABEL);
		if (ns)
			return ns;
		k->name = STR(x, name);
		k->init = init;
		const char *rp = jstr(x, ct, "restartPolicy");
		k->sidecar = init && rp && strcmp(rp, "Always") == 0;
		char rf[260];
		json_object *req = kp_json_get(ct, "resources.requests");
		json_object *lim = kp_json_get(ct, "resources.limits");
		kp_status s;
		fieldcat(rf, sizeof(rf), field, ".resources.requests", NULL, NULL);
		if ((s = parse_quantity(x, req, "cpu", rf, true, &k->cpu_request_m)) ||
		    (s = parse_quantity(x, req, "memory", rf, false, &k->mem_request_b)))
			return s;
		fieldcat(rf, sizeof(rf), field, ".resources.limits", NULL, NULL);
		if ((s = parse_quantity(x, lim, "cpu", rf, true, &k->cpu_limit_m)) ||
		    (s = parse_quantity(x, lim, "memory", rf, false, &k->mem_limit_b)))
			return s;
		/* Kubernetes defaults a missing request to the limit. */
		if (k->cpu_request_m == KP_UNSET && k->cpu_limit_m != KP_UNSET)
			k->cpu_request_m = k->cpu_limit_m;
		if (k->mem_request_b == KP_UNSET && k->mem_limit_b != KP_UNSET)
			k->mem_request_b = k->mem_limit_b;
	}
	return KP_OK;
}

/* strings of a JSON list (NULL-terminated, on the arena), NULL for none */
static const char **str_list(ctx_t *x, json_object *arr)
{
	if (!json_object_is_type(arr, json_type_array))
		return NULL;
	size_t n = json_object_array_length(arr), k = 0;
	const char **v = kp_arena_alloc(&x->c->arena, (n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		if (json_object_is_type(e, json_type_string))
			v[k++] = json_object_get_string(e);
	}
	return v;
}

/* A template's containers: what their language runtime may take, from
 * command, args and env (stages/collect/runtime.h). In the order
 * parse_podspec filled them: init containers, then containers. */
static void read_runtimes(ctx_t *x, json_object *spec, kp_podspec *ps)
{
	static const char *const lists[] = {"initContainers", "containers"};
	size_t k = 0;
	for (int l = 0; l < 2; l++) {
		json_object *arr = kp_json_get(spec, lists[l]);
		for (size_t i = 0; json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr) &&
				   k < ps->ncontainers;
		     i++, k++) {
			json_object *ct = json_object_array_get_idx(arr, i), *env = kp_json_get(ct, "env");
			size_t ne = json_object_is_type(env, json_type_array) ? json_object_array_length(env) : 0;
			const char **names = kp_arena_alloc(&x->c->arena, (ne + 1) * sizeof(char *));
			const char **values = kp_arena_alloc(&x->c->arena, (ne + 1) * sizeof(char *));
			for (size_t e = 0; e < ne; e++) {
				names[e] = jstr(x, json_object_array_get_idx(env, e), "name");
				values[e] = jstr(x, json_object_array_get_idx(env, e), "value");
			}
			kp_runtime_mem r;
			kp_runtime_memory(str_list(x, kp_json_get(ct, "command")), str_list(x, kp_json_get(ct, "args")), names,
					  values, ne, &r);
			kp_container *c = &ps->containers[k];
			c->rt_heap_b = r.heap_b;
			c->rt_heap_pct = r.heap_pct;
			c->rt_setting = r.setting[0] ? kp_arena_strdup(&x->c->arena, r.setting) : NULL;
		}
	}
}

/* Pod spec (of a pod or of a template): containers and claimed PVCs. */
static kp_status parse_podspec(ctx_t *x, json_object *spec, const char *prefix, kp_podspec *ps)
{
	if (!json_object_is_type(spec, json_type_object))
		return bad(x, prefix, "missing or not an object");
	json_object *c = kp_json_get(spec, "containers"), *ic = kp_json_get(spec, "initContainers");
	size_t n = (json_object_is_type(c, json_type_array) ? json_object_array_length(c) : 0) +
		   (json_object_is_type(ic, json_type_array) ? json_object_array_length(ic) : 0);
	ps->containers = kp_arena_alloc(&x->c->arena, (n ? n : 1) * sizeof(kp_container));
	size_t filled = 0;
	kp_status s;
	if ((s = parse_containers(x, spec, prefix, "initContainers", true, ps, &filled)) ||
	    (s = parse_containers(x, spec, prefix, "containers", false, ps, &filled)))
		return s;
	ps->ncontainers = filled;
	json_object *vols = kp_json_get(spec, "volumes");
	if (json_object_is_type(vols, json_type_array)) {
		size_t nv = json_object_array_length(vols);
		ps->claims = kp_arena_alloc(&x->c->arena, (nv ? nv : 1) * sizeof(char *));
		for (size_t i = 0; i < nv; i++) {
			const char *claim = jstr(x, json_object_array_get_idx(vols, i), "persistentVolumeClaim.claimName");
			if (claim)
				ps->claims[ps->nclaims++] = kp_arena_strdup(&x->c->arena, claim);
		}
	}
	if (json_object_is_type(vols, json_type_array)) {
		size_t nv = json_object_array_length(vols);
		ps->ephemeral_claims = kp_arena_alloc(&x->c->arena, (nv ? nv : 1) * sizeof(char *));
		for (size_t i = 0; i < nv; i++) {
			json_object *v = json_object_array_get_idx(vols, i);
			const char *vn = jstr(x, v, "name");
			if (vn && kp_json_get(v, "ephemeral"))
				ps->ephemeral_claims[ps->nephemeral++] = kp_arena_strdup(&x->c->arena, vn);
		}
	}
	ps->node_name = str_at(x, spec, "nodeName");
	if (ps->node_name && !*ps->node_name)
		ps->node_name = NULL; /* "" is not scheduled yet, as absent */
	/* field names for messages, joined without printf (once per pod) */
	char nnf[200], nsf[200];
	size_t pl = strnlen(prefix, sizeof(nnf) - 16);
	memcpy(nnf, prefix, pl);
	memcpy(nnf + pl, ".nodeName", sizeof(".nodeName"));
	memcpy(nsf, prefix, pl);
	memcpy(nsf + pl, ".nodeSelector", sizeof(".nodeSelector"));
	if (ps->node_name && !has_nul(spec, "nodeName")) {
		kp_status nk = check_name_as(x, nnf, ps->node_name, KP_NAME_SUBDOMAIN);
		if (nk)
			return nk;
	}
	kp_status ks = copy_kv(x, kp_json_get(spec, "nodeSelector"), true, nsf, true, &ps->node_selector,
			       &ps->nnode_selector);
	if (ks)
		return ks;
	json_object *tols = kp_json_get(spec, "tolerations");
	if (json_object_is_type(tols, json_type_array)) {
		size_t nt = json_object_array_length(tols);
		ps->tolerations = kp_arena_alloc(&x->c->arena, (nt ? nt : 1) * sizeof(kp_toleration));
		for (size_t i = 0; i < nt; i++) {
			json_object *t = json_object_array_get_idx(tols, i);
			kp_toleration *d = &ps->tolerations[ps->ntolerations++];
			d->key = str_at(x, t, "key");
			d->op = str_at(x, t, "operator");
			d->value = str_at(x, t, "value");
			d->effect = str_at(x, t, "effect");
		}
	}
	ps->has_affinity = kp_json_get(spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution") != NULL;
	return KP_OK;
}

/* An int32 field as the API server stores it (replica counts, HPA bounds,
 * utilization targets): absent or null gives dflt; anything else must be an
 * integer from min to 2147483647, else an input error naming the field. A
 * number past int32 (99999999999999999999999) is not a count Kubernetes can
 * hold, and it would turn into absurd money downstream. */
#define KP_INT32_MAX 2147483647LL
static kp_status int32_at(ctx_t *x, json_object *o, const char *dotted, const char *field, int64_t min, int64_t dflt,
			  int64_t *out)
{
	*out = dflt;
	json_object *v = kp_json_get(o, dotted);
	if (!v)
		return KP_OK;
	char q[KP_QUOTE_SIZE];
	if (!json_object_is_type(v, json_type_int))
		return bad(x, field, "expected an integer from %lld to %lld, got %s%s%s", (long long)min, KP_INT32_MAX,
			   json_object_is_type(v, json_type_double) ? "" : json_type_to_name(json_object_get_type(v)),
			   json_object_is_type(v, json_type_double) ? "the number " : "",
			   json_object_is_type(v, json_type_double) ? quote_input(json_object_to_json_string(v), q) : "");
	int64_t n = json_object_get_int64(v);
	if (n > KP_INT32_MAX) /* json-c keeps anything larger than int64 as INT64_MAX */
		return bad(x, field, "%s is out of range: Kubernetes stores it as an int32 (at most %lld)",
			   n == INT64_MAX ? "the number" : quote_input(json_object_to_json_string(v), q), KP_INT32_MAX);
	if (n < min)
		return bad(x, field, "%lld is out of range: it must be at least %lld", (long long)n, (long long)min);
	*out = n;
	return KP_OK;
}

static kp_status parse_workload(ctx_t *x, json_object *item, kp_workload_kind wk)
{
	kp_workload w;
	memset(&w, 0, sizeof(w));
	w.wkind = wk;
	kp_status s = parse_meta(x, item, kp_workload_api_version(wk), kp_workload_kind_name(wk), true, &w.meta);
	if (s)
		return s;
	json_object *tmpl;
	const char *prefix;
	if (wk == KP_WL_CRONJOB) {
		tmpl = kp_json_get(item, "spec.jobTemplate.spec.template.spec");
		prefix = "spec.jobTemplate.spec.template.spec";
	} else {
		tmpl = kp_json_get(item, "spec.template.spec");
		prefix = "spec.template.spec";
	}
	if ((s = parse_podspec(x, tmpl, prefix, &w.spec)))
		return s;
	read_runtimes(x, tmpl, &w.spec);
	const char *tl = wk == KP_WL_CRONJOB ? "spec.jobTemplate.spec.template.metadata.labels"
					      : "spec.template.metadata.labels";
	if ((s = copy_kv(x, kp_json_get(item, tl), true, tl, true, &w.template_labels, &w.ntemplate_labels)))
		return s;
	if ((s = int32_at(x, item, "spec.replicas", "spec.replicas", 0, 1, &w.replicas)))
		return s;
	if (wk == KP_WL_DAEMONSET) {
		if ((s = int32_at(x, item, "status.desiredNumberScheduled", "status.desiredNumberScheduled", 0, 0,
				  &w.replicas)) ||
		    (s = int32_at(x, item, "status.numberReady", "status.numberReady", 0, 0, &w.ready_replicas)))
			return s;
	} else {
		int64_t status_replicas; /* checked, not kept */
		if ((s = int32_at(x, item, "status.readyReplicas", "status.readyReplicas", 0, 0, &w.ready_replicas)) ||
		    (s = int32_at(x, item, "status.replicas", "status.replicas", 0, 0, &status_replicas)))
			return s;
	}
	json_object *susp = kp_json_get(item, "spec.suspend");
	w.suspended = json_true(susp);
	if ((s = int32_at(x, item, "status.active", "status.active", 0, 0, &w.job_active)))
		return s;
	if (wk == KP_WL_STATEFULSET) {
		json_object *vct = kp_json_get(item, "spec.volumeClaimTemplates");
		if (json_object_is_type(vct, json_type_array)) {
			size_t n = json_object_array_length(vct);
			w.claim_templates = kp_arena_alloc(&x->c->arena, (n ? n : 1) * sizeof(char *));
			for (size_t i = 0; i < n; i++) {
				const char *nm = jstr(x, json_object_array_get_idx(vct, i), "metadata.name");
				if (nm)
					w.claim_templates[w.nclaim_templates++] = kp_arena_strdup(&x->c->arena, nm);
			}
		}
	}
	if (wk == KP_WL_JOB) {
		w.has_ttl_after_finished = kp_json_get(item, "spec.ttlSecondsAfterFinished") != NULL;
		json_object *conds = kp_json_get(item, "status.conditions");
		size_t n = json_object_is_type(conds, json_type_array) ? json_object_array_length(conds) : 0;
		for (size_t i = 0; i < n; i++) {
			json_object *cd = json_object_array_get_idx(conds, i);
			const char *type = jstr(x, cd, "type"), *status = jstr(x, cd, "status");
			if (!type || !status || strcmp(status, "True") != 0)
				continue;
			int64_t t = 0;
			kp_time_parse(jstr(x, cd, "lastTransitionTime"), &t);
			if (strcmp(type, "Complete") == 0) {
				w.job_succeeded = true;
				w.job_completion_time = t;
			} else if (strcmp(type, "Failed") == 0) {
				w.job_failed = true;
				w.job_failed_time = t;
			}
		}
		const char *ct = jstr(x, item, "status.completionTime");
		if (ct)
			kp_time_parse(ct, &w.job_completion_time);
	}
	KP_ARRAY_PUSH(x->c->workloads, w);
	return KP_OK;
}

/* status.containerStatuses (or initContainerStatuses) onto the pod's
 * containers, by name: restarts and how each last ended */
static kp_status parse_statuses(ctx_t *x, json_object *item, const char *list, kp_podspec *ps)
{
	json_object *arr = kp_json_get(kp_json_get(item, "status"), list);
	if (!json_object_is_type(arr, json_type_array))
		return KP_OK;
	char q[KP_QUOTE_SIZE], f[96];
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *cs = json_object_array_get_idx(arr, i);
		const char *name = jstr(x, cs, "name");
		kp_container *k = NULL;
		for (size_t j = 0; name && j < ps->ncontainers && !k; j++)
			if (!strcmp(ps->containers[j].name, name))
				k = &ps->containers[j];
		if (!k)
			continue; /* a status without its container: nothing to say it of */
		json_object *rc = kp_json_get(cs, "restartCount");
		if (rc && json_object_is_type(rc, json_type_int))
			k->restarts = json_object_get_int64(rc);
		json_object *t = kp_json_get(cs, "lastState.terminated");
		if (!t)
			t = kp_json_get(cs, "state.terminated");
		if (!json_object_is_type(t, json_type_object))
			continue;
		k->last_reason = str_at(x, t, "reason");
		json_object *ec = kp_json_get(t, "exitCode");
		k->last_exit = ec && json_object_is_type(ec, json_type_int) ? json_object_get_int64(ec) : 0;
		const char *fin = jstr(x, t, "finishedAt");
		if (fin && !kp_time_parse(fin, &k->last_finished)) {
			snprintf(f, sizeof(f), "status.%s[%zu].lastState.terminated.finishedAt", list, i);
			return bad(x, f, "not an RFC 3339 time: \"%s\"", quote_input(fin, q));
		}
	}
	return KP_OK;
}

static kp_status parse_pod(ctx_t *x, json_object *item)
{
	kp_pod p;
	memset(&p, 0, sizeof(p));
	kp_status s = parse_meta(x, item, "v1", "Pod", true, &p.meta);
	if (s)
		return s;
	if ((s = parse_podspec(x, kp_json_get(item, "spec"), "spec", &p.spec)))
		return s;
	p.phase = str_at(x, item, "status.phase");
	const char *st = jstr(x, item, "status.startTime");
	char q[KP_QUOTE_SIZE];
	if (st && !kp_time_parse(st, &p.start_time))
		return bad(x, "status.startTime", "not an RFC 3339 time: \"%s\"", quote_input(st, q));
	if ((s = parse_statuses(x, item, "containerStatuses", &p.spec)) ||
	    (s = parse_statuses(x, item, "initContainerStatuses", &p.spec)))
		return s;
	KP_ARRAY_PUSH(x->c->pods, p);
	return KP_OK;
}

/* spec.storageClassName: "" (no class: static provisioning) or the name of
 * a StorageClass, a DNS-1123 subdomain. */
static kp_status check_storage_class(ctx_t *x, const char *sc)
{
	return sc && *sc ? check_name_as(x, "spec.storageClassName", sc, KP_NAME_SUBDOMAIN) : KP_OK;
}

static kp_status parse_pvc(ctx_t *x, json_object *item)
{
	kp_pvc v;
	memset(&v, 0, sizeof(v));
	kp_status s = parse_meta(x, item, "v1", "PersistentVolumeClaim", true, &v.meta);
	if (s)
		return s;
	v.phase = str_at(x, item, "status.phase");
	v.volume_name = str_at(x, item, "spec.volumeName");
	/* A claim cloned from another one names it as its data source (the
	 * newer dataSourceRef first): the source is in use while it clones. */
	const char *dsk = jstr(x, item, "spec.dataSourceRef.kind");
	const char *dsn = jstr(x, item, "spec.dataSourceRef.name");
	if (!dsk) {
		dsk = jstr(x, item, "spec.dataSource.kind");
		dsn = jstr(x, item, "spec.dataSource.name");
	}
	if (dsk && dsn && strcmp(dsk, "PersistentVolumeClaim") == 0)
		v.data_source_pvc = kp_arena_strdup(&x->c->arena, dsn);
	v.storage_class = str_at(x, item, "spec.storageClassName");
	if ((s = check_storage_class(x, v.storage_class)))
		return s;
	int64_t cap, req;
	if ((s = parse_quantity(x, kp_json_get(item, "status.capacity"), "storage", "status.capacity", false, &cap)) ||
	    (s = parse_quantity(x, kp_json_get(item, "spec.resources.requests"), "storage", "spec.resources.requests",
				false, &req)))
		return s;
	/* What is billed is the provisioned capacity; fall back to the request. */
	v.storage_bytes = cap != KP_UNSET ? cap : req;
	KP_ARRAY_PUSH(x->c->pvcs, v);
	return KP_OK;
}

static kp_status parse_pv(ctx_t *x, json_object *item)
{
	kp_pv v;
	memset(&v, 0, sizeof(v));
	kp_status s = parse_meta(x, item, "v1", "PersistentVolume", false, &v.meta);
	if (s)
		return s;
	v.phase = str_at(x, item, "status.phase");
	v.reclaim_policy = str_at(x, item, "spec.persistentVolumeReclaimPolicy");
	v.storage_class = str_at(x, item, "spec.storageClassName");
	char q[KP_QUOTE_SIZE];
	if (v.reclaim_policy && strcmp(v.reclaim_policy, "Retain") && strcmp(v.reclaim_policy, "Delete") &&
	    strcmp(v.reclaim_policy, "Recycle"))
		return bad(x, "spec.persistentVolumeReclaimPolicy", "\"%s\" is not one of Retain, Delete, Recycle",
			   quote_input(v.reclaim_policy, q));
	if ((s = check_storage_class(x, v.storage_class)))
		return s;
	v.claim_namespace = str_at(x, item, "spec.claimRef.namespace");
	v.claim_name = str_at(x, item, "spec.claimRef.name");
	if ((s = parse_quantity(x, kp_json_get(item, "spec.capacity"), "storage", "spec.capacity", false,
				&v.storage_bytes)))
		return s;
	/* the disk's id in the cloud bill (prices from a FOCUS export) */
	v.volume_handle = str_at(x, item, "spec.csi.volumeHandle");
	if (!v.volume_handle)
		v.volume_handle = str_at(x, item, "spec.awsElasticBlockStore.volumeID");
	if (!v.volume_handle)
		v.volume_handle = str_at(x, item, "spec.gcePersistentDisk.pdName");
	if (!v.volume_handle)
		v.volume_handle = str_at(x, item, "spec.azureDisk.diskURI");
	KP_ARRAY_PUSH(x->c->pvs, v);
	return KP_OK;
}

static kp_status parse_hpa(ctx_t *x, json_object *item)
{
	kp_hpa h;
	memset(&h, 0, sizeof(h));
	kp_status s = parse_meta(x, item, "autoscaling/v2", "HorizontalPodAutoscaler", true, &h.meta);
	if (s)
		return s;
	h.target_kind = str_at(x, item, "spec.scaleTargetRef.kind");
	h.target_name = str_at(x, item, "spec.scaleTargetRef.name");
	if (!h.target_kind || !h.target_name)
		return bad(x, "spec.scaleTargetRef", "missing kind or name");
	/* minReplicas 0 is legal only behind the HPAScaleToZero feature gate,
	 * which is accepted; maxReplicas is at least 1 and minReplicas. */
	int64_t desired;
	if ((s = int32_at(x, item, "spec.minReplicas", "spec.minReplicas", 0, 1, &h.min_replicas)) ||
	    (s = int32_at(x, item, "spec.maxReplicas", "spec.maxReplicas", 1, KP_UNSET, &h.max_replicas)) ||
	    (s = int32_at(x, item, "status.currentReplicas", "status.currentReplicas", 0, KP_UNSET,
			  &h.current_replicas)) ||
	    (s = int32_at(x, item, "status.desiredReplicas", "status.desiredReplicas", 0, KP_UNSET, &desired)) ||
	    (s = int32_at(x, item, "spec.targetCPUUtilizationPercentage", "spec.targetCPUUtilizationPercentage", 1,
			  KP_UNSET, &h.cpu_target_utilization))) /* autoscaling/v1 */
		return s;
	if (h.max_replicas != KP_UNSET && h.max_replicas < h.min_replicas)
		return bad(x, "spec.maxReplicas", "%lld is below spec.minReplicas %lld", (long long)h.max_replicas,
			   (long long)h.min_replicas);
	h.memory_target_utilization = KP_UNSET;
	h.cpu_metric_index = h.memory_metric_index = KP_UNSET;
	if (h.cpu_target_utilization != KP_UNSET) {
		h.scales_on_cpu = true;
		h.cpu_metric_index = KP_HPA_V1_FIELD;
	}
	json_object *metrics = kp_json_get(item, "spec.metrics");
	size_t n = json_object_is_type(metrics, json_type_array) ? json_object_array_length(metrics) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(metrics, i);
		const char *type = jstr(x, m, "type");
		const char *rname = jstr(x, m, "resource.name");
		if (!type || strcmp(type, "Resource") != 0 || !rname)
			continue;
		/* a utilization target is a percentage of the request, above 0;
		 * over 100 is legal (CPU may burst past its request) */
		char field[96];
		snprintf(field, sizeof(field), "spec.metrics[%zu].resource.target.averageUtilization", i);
		int64_t util;
		if ((s = int32_at(x, m, "resource.target.averageUtilization", field, 1, KP_UNSET, &util)))
			return s;
		if (strcmp(rname, "cpu") == 0) {
			h.scales_on_cpu = true;
			h.cpu_target_utilization = util;
			h.cpu_metric_index = util != KP_UNSET ? (int64_t)i : KP_UNSET;
		} else if (strcmp(rname, "memory") == 0) {
			h.scales_on_memory = true;
			h.memory_target_utilization = util;
			h.memory_metric_index = util != KP_UNSET ? (int64_t)i : KP_UNSET;
		}
	}
	KP_ARRAY_PUSH(x->c->hpas, h);
	return KP_OK;
}

/* The resources a VPA container policy names ("cpu", "memory"); the
 * field absent means both, as the VPA's admission controller defaults it. */
static kp_status vpa_resources(ctx_t *x, json_object *arr, const char *field, unsigned *out)
{
	if (!arr) {
		*out = KP_VPA_CPU | KP_VPA_MEMORY;
		return KP_OK;
	}
	if (!json_object_is_type(arr, json_type_array))
		return bad(x, field, "expected a list of resource names like [\"cpu\", \"memory\"]");
	*out = 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		const char *n = json_object_get_string(json_object_array_get_idx(arr, i));
		if (n && !strcmp(n, "cpu"))
			*out |= KP_VPA_CPU;
		else if (n && !strcmp(n, "memory"))
			*out |= KP_VPA_MEMORY;
	}
	return KP_OK;
}

static kp_status parse_vpa(ctx_t *x, json_object *item)
{
	kp_vpa v;
	memset(&v, 0, sizeof(v));
	kp_status s = parse_meta(x, item, "autoscaling.k8s.io/v1", "VerticalPodAutoscaler", true, &v.meta);
	if (s)
		return s;
	v.target_kind = str_at(x, item, "spec.targetRef.kind");
	v.target_name = str_at(x, item, "spec.targetRef.name");
	if (!v.target_kind || !v.target_name)
		return bad(x, "spec.targetRef", "missing kind or name");
	const char *mode = jstr(x, item, "spec.updatePolicy.updateMode");
	static const char *const modes[] = {"Off", "Initial", "Recreate", "Auto", "InPlaceOrRecreate"};
	v.update_mode = "Auto"; /* the VPA's default */
	if (mode) {
		size_t m = 0;
		while (m < 5 && strcmp(mode, modes[m]))
			m++;
		char q[KP_QUOTE_SIZE];
		if (m == 5)
			return bad(x, "spec.updatePolicy.updateMode",
				   "\"%s\" is not a VPA update mode (Off, Initial, Recreate, Auto, InPlaceOrRecreate)",
				   quote_input(mode, q));
		v.update_mode = modes[m];
	}
	v.updating = strcmp(v.update_mode, "Off") != 0;
	char field[160];
	json_object *pol = kp_json_get(item, "spec.resourcePolicy.containerPolicies");
	size_t np = json_object_is_type(pol, json_type_array) ? json_object_array_length(pol) : 0;
	if (np) {
		v.policies = kp_arena_alloc(&x->c->arena, np * sizeof(kp_vpa_policy));
		for (size_t i = 0; i < np; i++) {
			json_object *p = json_object_array_get_idx(pol, i);
			kp_vpa_policy *vp = &v.policies[v.npolicies];
			const char *cm = jstr(x, p, "mode");
			const char *cv = jstr(x, p, "controlledValues");
			vp->container = str_at(x, p, "containerName");
			if (!vp->container)
				vp->container = "*";
			vp->off = cm && !strcmp(cm, "Off");
			vp->requests_only = cv && !strcmp(cv, "RequestsOnly");
			snprintf(field, sizeof(field), "spec.resourcePolicy.containerPolicies[%zu].controlledResources", i);
			if ((s = vpa_resources(x, kp_json_get(p, "controlledResources"), field, &vp->controlled)))
				return s;
			v.npolicies++;
		}
	}
	json_object *recs = kp_json_get(item, "status.recommendation.containerRecommendations");
	size_t nr = json_object_is_type(recs, json_type_array) ? json_object_array_length(recs) : 0;
	if (nr) {
		v.recs = kp_arena_alloc(&x->c->arena, nr * sizeof(kp_vpa_rec));
		for (size_t i = 0; i < nr; i++) {
			json_object *r = json_object_array_get_idx(recs, i);
			kp_vpa_rec *vr = &v.recs[v.nrecs];
			vr->container = str_at(x, r, "containerName");
			if (!vr->container)
				continue;
			static const char *const bounds[] = {"lowerBound", "target", "upperBound"};
			int64_t *cpu[] = {&vr->lower_cpu_m, &vr->target_cpu_m, &vr->upper_cpu_m};
			int64_t *mem[] = {&vr->lower_mem_b, &vr->target_mem_b, &vr->upper_mem_b};
			for (int b = 0; b < 3; b++) {
				snprintf(field, sizeof(field), "status.recommendation.containerRecommendations[%zu].%s",
					 i, bounds[b]);
				json_object *q = kp_json_get(r, bounds[b]);
				if ((s = parse_quantity(x, q, "cpu", field, true, cpu[b])) ||
				    (s = parse_quantity(x, q, "memory", field, false, mem[b])))
					return s;
			}
			v.nrecs++;
		}
	}
	KP_ARRAY_PUSH(x->c->vpas, v);
	return KP_OK;
}

static kp_status parse_namespace(ctx_t *x, json_object *item)
{
	kp_namespace n;
	memset(&n, 0, sizeof(n));
	kp_status s = parse_meta(x, item, "v1", "Namespace", false, &n.meta);
	if (s)
		return s;
	KP_ARRAY_PUSH(x->c->namespaces, n);
	return KP_OK;
}

static kp_status parse_node(ctx_t *x, json_object *item)
{
	kp_node n;
	memset(&n, 0, sizeof(n));
	kp_status s = parse_meta(x, item, "v1", "Node", false, &n.meta);
	if (s)
		return s;
	json_object *alloc = kp_json_get(item, "status.allocatable"), *cap = kp_json_get(item, "status.capacity");
	if ((s = parse_quantity(x, alloc, "cpu", "status.allocatable", true, &n.alloc_cpu_m)) ||
	    (s = parse_quantity(x, alloc, "memory", "status.allocatable", false, &n.alloc_mem_b)) ||
	    (s = parse_quantity(x, cap, "cpu", "status.capacity", true, &n.cap_cpu_m)) ||
	    (s = parse_quantity(x, cap, "memory", "status.capacity", false, &n.cap_mem_b)))
		return s;
	if (n.alloc_cpu_m == KP_UNSET)
		n.alloc_cpu_m = n.cap_cpu_m;
	if (n.alloc_mem_b == KP_UNSET)
		n.alloc_mem_b = n.cap_mem_b;
	json_object *un = kp_json_get(item, "spec.unschedulable");
	n.unschedulable = json_true(un);
	json_object *taints = kp_json_get(item, "spec.taints");
	if (json_object_is_type(taints, json_type_array)) {
		size_t nt = json_object_array_length(taints);
		n.taints = kp_arena_alloc(&x->c->arena, (nt ? nt : 1) * sizeof(kp_taint));
		for (size_t i = 0; i < nt; i++) {
			json_object *t = json_object_array_get_idx(taints, i);
			kp_taint *d = &n.taints[n.ntaints++];
			d->key = str_at(x, t, "key");
			d->value = str_at(x, t, "value");
			d->effect = str_at(x, t, "effect");
		}
	}
	json_object *conds = kp_json_get(item, "status.conditions");
	size_t nc = json_object_is_type(conds, json_type_array) ? json_object_array_length(conds) : 0;
	for (size_t i = 0; i < nc; i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *type = jstr(x, c, "type"), *status = jstr(x, c, "status");
		if (type && status && strcmp(type, "Ready") == 0)
			n.ready = strcmp(status, "True") == 0;
	}
	n.instance_type = kp_meta_label(&n.meta, "node.kubernetes.io/instance-type");
	if (!n.instance_type)
		n.instance_type = kp_meta_label(&n.meta, "beta.kubernetes.io/instance-type");
	/* Spot/preemptible, as the big three and Karpenter label it. */
	const char *ct = kp_meta_label(&n.meta, "karpenter.sh/capacity-type");
	const char *eks = kp_meta_label(&n.meta, "eks.amazonaws.com/capacityType");
	const char *gke = kp_meta_label(&n.meta, "cloud.google.com/gke-spot");
	const char *gkep = kp_meta_label(&n.meta, "cloud.google.com/gke-preemptible");
	const char *aks = kp_meta_label(&n.meta, "kubernetes.azure.com/scalesetpriority");
	n.spot = (ct && strcmp(ct, "spot") == 0) || (eks && strcmp(eks, "SPOT") == 0) || (gke && strcmp(gke, "true") == 0) ||
		 (gkep && strcmp(gkep, "true") == 0) || (aks && strcmp(aks, "spot") == 0);
	n.provider_id = str_at(x, item, "spec.providerID"); /* the machine's id in the cloud bill */
	KP_ARRAY_PUSH(x->c->nodes, n);
	return KP_OK;
}

static kp_status parse_service(ctx_t *x, json_object *item)
{
	kp_service v;
	memset(&v, 0, sizeof(v));
	kp_status s = parse_meta(x, item, "v1", "Service", true, &v.meta);
	if (s)
		return s;
	v.type = str_at(x, item, "spec.type");
	if (!v.type)
		v.type = "ClusterIP";
	json_object *sel = kp_json_get(item, "spec.selector");
	v.has_selector = json_object_is_type(sel, json_type_object) && json_object_object_length(sel) > 0;
	if ((s = copy_kv(x, sel, true, "spec.selector", true, &v.selector, &v.nselector)))
		return s;
	json_object *ing = kp_json_get(item, "status.loadBalancer.ingress");
	if (json_object_is_type(ing, json_type_array) && json_object_array_length(ing) > 0) {
		json_object *first = json_object_array_get_idx(ing, 0);
		v.lb_ingress = str_at(x, first, "ip");
		char q[KP_QUOTE_SIZE];
		if (v.lb_ingress && (!*v.lb_ingress || strspn(v.lb_ingress, "0123456789abcdefABCDEF.:") != strlen(v.lb_ingress)))
			return bad(x, "status.loadBalancer.ingress[0].ip", "\"%s\" is not an IP address",
				   quote_input(v.lb_ingress, q));
		if (!v.lb_ingress) {
			v.lb_ingress = str_at(x, first, "hostname");
			if (v.lb_ingress && (s = check_name_as(x, "status.loadBalancer.ingress[0].hostname", v.lb_ingress,
							       KP_NAME_SUBDOMAIN)))
				return s;
		}
	}
	KP_ARRAY_PUSH(x->c->services, v);
	return KP_OK;
}

static kp_status parse_endpointslice(ctx_t *x, json_object *item)
{
	kp_endpointslice e;
	memset(&e, 0, sizeof(e));
	kp_status s = parse_meta(x, item, "discovery.k8s.io/v1", "EndpointSlice", true, &e.meta);
	if (s)
		return s;
	e.service_name = kp_meta_label(&e.meta, "kubernetes.io/service-name");
	json_object *eps = kp_json_get(item, "endpoints");
	size_t n = json_object_is_type(eps, json_type_array) ? json_object_array_length(eps) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *ready = kp_json_get(json_object_array_get_idx(eps, i), "conditions.ready");
		e.endpoints++;
		/* The API says: a nil ready condition means unknown, treat as ready. */
		if (!ready || json_true(ready))
			e.ready_endpoints++;
	}
	KP_ARRAY_PUSH(x->c->endpointslices, e);
	return KP_OK;
}

static kp_status parse_storageclass(ctx_t *x, json_object *item)
{
	kp_storageclass sc;
	memset(&sc, 0, sizeof(sc));
	kp_status s = parse_meta(x, item, "storage.k8s.io/v1", "StorageClass", false, &sc.meta);
	if (s)
		return s;
	sc.provisioner = str_at(x, item, "provisioner");
	json_object *ann = kp_json_get(item, "metadata.annotations");
	sc.is_default = label_true(ann, "storageclass.kubernetes.io/is-default-class");
	KP_ARRAY_PUSH(x->c->storageclasses, sc);
	return KP_OK;
}

static kp_status parse_item(ctx_t *x, kp_resource r, json_object *item)
{
	switch (r) {
	case KP_RES_PODS: return parse_pod(x, item);
	case KP_RES_DEPLOYMENTS: return parse_workload(x, item, KP_WL_DEPLOYMENT);
	case KP_RES_REPLICASETS: return parse_workload(x, item, KP_WL_REPLICASET);
	case KP_RES_STATEFULSETS: return parse_workload(x, item, KP_WL_STATEFULSET);
	case KP_RES_DAEMONSETS: return parse_workload(x, item, KP_WL_DAEMONSET);
	case KP_RES_JOBS: return parse_workload(x, item, KP_WL_JOB);
	case KP_RES_CRONJOBS: return parse_workload(x, item, KP_WL_CRONJOB);
	case KP_RES_ROLLOUTS: return parse_workload(x, item, KP_WL_ROLLOUT);
	case KP_RES_PVCS: return parse_pvc(x, item);
	case KP_RES_PVS: return parse_pv(x, item);
	case KP_RES_HPAS: return parse_hpa(x, item);
	case KP_RES_NAMESPACES: return parse_namespace(x, item);
	case KP_RES_NODES: return parse_node(x, item);
	case KP_RES_SERVICES: return parse_service(x, item);
	case KP_RES_ENDPOINTSLICES: return parse_endpointslice(x, item);
	case KP_RES_STORAGECLASSES: return parse_storageclass(x, item);
	case KP_RES_VPAS: return parse_vpa(x, item);
	default: return KP_ERR_INTERNAL;
	}
}

/* ---- what of each item the parse_* functions read ----
 *
 * The lists are read by pipeline/listscan.c, which builds of each
 * item only the members named here and skips the rest of its text (most
 * of a pod: managedFields, env, probes, container statuses). A path read
 * below must be kept here: tests/unit/test_snapcache.c loads its fixtures
 * both ways, filtered and whole, and compares the models field by field. */

#define KEEP_END {NULL, NULL}
static const kp_keep k_none[] = {KEEP_END}; /* the value is there, none of its members */
static const kp_keep k_kopilot[] = {{"kopilot.io/*", NULL}, KEEP_END};
/* kopilot's own, the default StorageClass, where an object comes from
 * (render --pr: Argo CD, Helm; Flux says it with labels), and what the
 * cluster autoscaler and Karpenter are told about nodes and pods
 * (underutilized_node.c): the same list as kept_annotation() */
static const kp_keep k_annotations[] = {{"kopilot.io/*", NULL},
					{"storageclass.kubernetes.io/is-default-class", NULL},
					{"argocd.argoproj.io/tracking-id", NULL},
					{"meta.helm.sh/release-name", NULL},
					{"meta.helm.sh/release-namespace", NULL},
					{KP_ANN_CA_SCALE_DOWN_DISABLED, NULL},
					{KP_ANN_CA_SAFE_TO_EVICT, NULL},
					{KP_ANN_KARPENTER_DO_NOT_DISRUPT, NULL},
					{KP_ANN_KARPENTER_DO_NOT_EVICT, NULL},
					{KP_ANN_KARPENTER_DO_NOT_CONSOLIDATE, NULL},
					KEEP_END};
static const kp_keep k_owner[] = {{"controller", NULL}, {"kind", NULL}, {"name", NULL}, KEEP_END};
#define KEEP_META {"name", NULL}, {"namespace", NULL}, {"creationTimestamp", NULL}, \
		  {"annotations", k_annotations}, {"ownerReferences", k_owner}
static const kp_keep k_meta[] = {KEEP_META, {"labels", NULL}, KEEP_END};
static const kp_keep k_meta_pod[] = {KEEP_META, {"labels", k_kopilot}, KEEP_END}; /* keep_all_labels() */
static const kp_keep k_quant[] = {{"cpu", NULL}, {"memory", NULL}, KEEP_END};
static const kp_keep k_resources[] = {{"requests", k_quant}, {"limits", k_quant}, KEEP_END};
static const kp_keep k_container[] = {{"name", NULL}, {"restartPolicy", NULL}, {"resources", k_resources}, KEEP_END};
static const kp_keep k_claim[] = {{"claimName", NULL}, KEEP_END};
static const kp_keep k_volume[] = {{"name", NULL}, {"persistentVolumeClaim", k_claim}, {"ephemeral", k_none}, KEEP_END};
static const kp_keep k_toleration[] = {{"key", NULL}, {"operator", NULL}, {"value", NULL}, {"effect", NULL}, KEEP_END};
static const kp_keep k_node_affinity[] = {{"requiredDuringSchedulingIgnoredDuringExecution", k_none}, KEEP_END};
static const kp_keep k_affinity[] = {{"nodeAffinity", k_node_affinity}, KEEP_END};
static const kp_keep k_podspec[] = {{"containers", k_container}, {"initContainers", k_container},
				    {"volumes", k_volume}, {"nodeName", NULL}, {"nodeSelector", NULL},
				    {"tolerations", k_toleration}, {"affinity", k_affinity}, KEEP_END};
static const kp_keep k_terminated[] = {{"reason", NULL}, {"exitCode", NULL}, {"finishedAt", NULL}, KEEP_END};
static const kp_keep k_cstate[] = {{"terminated", k_terminated}, KEEP_END};
static const kp_keep k_cstatus[] = {{"name", NULL}, {"restartCount", NULL}, {"lastState", k_cstate},
				    {"state", k_cstate}, KEEP_END};
/* a template's containers also say what their runtime may take (command,
 * args, env: read_runtimes); a live pod's are not read for it */
static const kp_keep k_env[] = {{"name", NULL}, {"value", NULL}, KEEP_END};
static const kp_keep k_container_tpl[] = {{"name", NULL}, {"restartPolicy", NULL}, {"resources", k_resources},
					  {"command", NULL}, {"args", NULL}, {"env", k_env}, KEEP_END};
static const kp_keep k_podspec_tpl[] = {{"containers", k_container_tpl}, {"initContainers", k_container_tpl},
					{"volumes", k_volume}, {"nodeName", NULL}, {"nodeSelector", NULL},
					{"tolerations", k_toleration}, {"affinity", k_affinity}, KEEP_END};
static const kp_keep k_pod_status[] = {{"phase", NULL}, {"startTime", NULL}, {"containerStatuses", k_cstatus},
				       {"initContainerStatuses", k_cstatus}, KEEP_END};
static const kp_keep k_pod[] = {{"kind", NULL}, {"metadata", k_meta_pod}, {"spec", k_podspec},
				{"status", k_pod_status}, KEEP_END};
static const kp_keep k_labels[] = {{"labels", NULL}, KEEP_END};
static const kp_keep k_template[] = {{"spec", k_podspec_tpl}, {"metadata", k_labels}, KEEP_END};
static const kp_keep k_job_spec[] = {{"template", k_template}, KEEP_END};
static const kp_keep k_job_template[] = {{"spec", k_job_spec}, KEEP_END};
static const kp_keep k_name[] = {{"name", NULL}, KEEP_END};
static const kp_keep k_claim_template[] = {{"metadata", k_name}, KEEP_END};
static const kp_keep k_workload_spec[] = {{"template", k_template}, {"jobTemplate", k_job_template},
					  {"replicas", NULL}, {"suspend", NULL},
					  {"volumeClaimTemplates", k_claim_template},
					  {"ttlSecondsAfterFinished", NULL}, KEEP_END};
static const kp_keep k_condition[] = {{"type", NULL}, {"status", NULL}, {"lastTransitionTime", NULL}, KEEP_END};
static const kp_keep k_workload_status[] = {{"desiredNumberScheduled", NULL}, {"numberReady", NULL},
					    {"readyReplicas", NULL}, {"replicas", NULL}, {"active", NULL},
					    {"conditions", k_condition}, {"completionTime", NULL}, KEEP_END};
static const kp_keep k_workload[] = {{"kind", NULL}, {"metadata", k_meta}, {"spec", k_workload_spec},
				     {"status", k_workload_status}, KEEP_END};
static const kp_keep k_kind_name[] = {{"kind", NULL}, {"name", NULL}, KEEP_END};
static const kp_keep k_storage[] = {{"storage", NULL}, KEEP_END};
static const kp_keep k_pvc_resources[] = {{"requests", k_storage}, KEEP_END};
static const kp_keep k_pvc_spec[] = {{"volumeName", NULL}, {"dataSourceRef", k_kind_name},
				     {"dataSource", k_kind_name}, {"storageClassName", NULL},
				     {"resources", k_pvc_resources}, KEEP_END};
static const kp_keep k_phase_capacity[] = {{"phase", NULL}, {"capacity", k_storage}, KEEP_END};
static const kp_keep k_pvc[] = {{"kind", NULL}, {"metadata", k_meta}, {"spec", k_pvc_spec},
				{"status", k_phase_capacity}, KEEP_END};
static const kp_keep k_claim_ref[] = {{"namespace", NULL}, {"name", NULL}, KEEP_END};
/* the disk's id, as the cloud bill names it (prices from a FOCUS export) */
static const kp_keep k_csi[] = {{"volumeHandle", NULL}, KEEP_END};
static const kp_keep k_ebs[] = {{"volumeID", NULL}, KEEP_END};
static const kp_keep k_gce_pd[] = {{"pdName", NULL}, KEEP_END};
static const kp_keep k_azure_disk[] = {{"diskURI", NULL}, KEEP_END};
static const kp_keep k_pv_spec[] = {{"persistentVolumeReclaimPolicy", NULL}, {"storageClassName", NULL},
				    {"claimRef", k_claim_ref}, {"capacity", k_storage}, {"csi", k_csi},
				    {"awsElasticBlockStore", k_ebs}, {"gcePersistentDisk", k_gce_pd},
				    {"azureDisk", k_azure_disk}, KEEP_END};
static const kp_keep k_phase[] = {{"phase", NULL}, KEEP_END};
static const kp_keep k_pv[] = {{"kind", NULL}, {"metadata", k_meta}, {"spec", k_pv_spec}, {"status", k_phase}, KEEP_END};
static const kp_keep k_target[] = {{"averageUtilization", NULL}, KEEP_END};
static const kp_keep k_metric_resource[] = {{"name", NULL}, {"target", k_target}, KEEP_END};
static const kp_keep k_metric[] = {{"type", NULL}, {"resource", k_metric_resource}, KEEP_END};
static const kp_keep k_hpa_spec[] = {{"scaleTargetRef", k_kind_name}, {"minReplicas", NULL}, {"maxReplicas", NULL},
				     {"targetCPUUtilizationPercentage", NULL}, {"metrics", k_metric}, KEEP_END};
static const kp_keep k_hpa_status[] = {{"currentReplicas", NULL}, {"desiredReplicas", NULL}, KEEP_END};
static const kp_keep k_hpa[] = {{"kind", NULL}, {"metadata", k_meta}, {"spec", k_hpa_spec},
				{"status", k_hpa_status}, KEEP_END};
static const kp_keep k_target_ref[] = {{"kind", NULL}, {"name", NULL}, KEEP_END};
static const kp_keep k_update_policy[] = {{"updateMode", NULL}, KEEP_END};
static const kp_keep k_vpa_policy[] = {{"containerName", NULL}, {"mode", NULL}, {"controlledResources", NULL},
				       {"controlledValues", NULL}, KEEP_END};
static const kp_keep k_vpa_policies[] = {{"containerPolicies", k_vpa_policy}, KEEP_END};
static const kp_keep k_vpa_spec[] = {{"targetRef", k_target_ref}, {"updatePolicy", k_update_policy},
				     {"resourcePolicy", k_vpa_policies}, KEEP_END};
static const kp_keep k_vpa_rec[] = {{"containerName", NULL}, {"lowerBound", k_quant}, {"target", k_quant},
				    {"upperBound", k_quant}, KEEP_END};
static const kp_keep k_vpa_recs[] = {{"containerRecommendations", k_vpa_rec}, KEEP_END};
static const kp_keep k_vpa_status[] = {{"recommendation", k_vpa_recs}, KEEP_END};
static const kp_keep k_vpa[] = {{"kind", NULL}, {"metadata", k_meta}, {"spec", k_vpa_spec},
				{"status", k_vpa_status}, KEEP_END};
static const kp_keep k_namespace[] = {{"kind", NULL}, {"metadata", k_meta}, KEEP_END};
static const kp_keep k_type_status[] = {{"type", NULL}, {"status", NULL}, KEEP_END};
static const kp_keep k_node_status[] = {{"allocatable", k_quant}, {"capacity", k_quant},
					{"conditions", k_type_status}, KEEP_END};
static const kp_keep k_taint[] = {{"key", NULL}, {"value", NULL}, {"effect", NULL}, KEEP_END};
static const kp_keep k_node_spec[] = {{"unschedulable", NULL}, {"taints", k_taint}, {"providerID", NULL}, KEEP_END};
static const kp_keep k_node[] = {{"kind", NULL}, {"metadata", k_meta}, {"spec", k_node_spec},
				 {"status", k_node_status}, KEEP_END};
static const kp_keep k_service_spec[] = {{"type", NULL}, {"selector", NULL}, KEEP_END};
static const kp_keep k_ingress[] = {{"ip", NULL}, {"hostname", NULL}, KEEP_END};
static const kp_keep k_load_balancer[] = {{"ingress", k_ingress}, KEEP_END};
static const kp_keep k_service_status[] = {{"loadBalancer", k_load_balancer}, KEEP_END};
static const kp_keep k_service[] = {{"kind", NULL}, {"metadata", k_meta}, {"spec", k_service_spec},
				    {"status", k_service_status}, KEEP_END};
static const kp_keep k_ready[] = {{"ready", NULL}, KEEP_END};
static const kp_keep k_endpoint[] = {{"conditions", k_ready}, KEEP_END};
static const kp_keep k_endpointslice[] = {{"kind", NULL}, {"metadata", k_meta}, {"endpoints", k_endpoint}, KEEP_END};
static const kp_keep k_storageclass[] = {{"kind", NULL}, {"metadata", k_meta}, {"provisioner", NULL}, KEEP_END};
static const kp_keep k_cpu_stats[] = {{"p50", NULL}, {"p95", NULL}, {"p99", NULL}, {"max", NULL}, KEEP_END};
static const kp_keep k_mem_stats[] = {{"p50", NULL}, {"max", NULL}, KEEP_END};
static const kp_keep k_usage[] = {{"namespace", NULL}, {"pod", NULL}, {"container", NULL}, {"owner", k_kind_name},
				  {"samples", NULL}, {"first_seen", NULL}, {"last_seen", NULL},
				  {"cpu_millicores", k_cpu_stats}, {"memory_bytes", k_mem_stats},
				  {"cpu_throttled_ratio", NULL}, {"oom_kills", NULL}, {"restarts", NULL},
				  {"memory_limit_at_oom_bytes", NULL}, KEEP_END};

static bool keep_everything; /* kp_snapshot_set_filtering(false) */

void kp_snapshot_set_filtering(bool on) { keep_everything = !on; }

/* The filter for an item of list r (KP_RES_COUNT: a usage.json entry). */
static const kp_keep *item_keep(kp_resource r)
{
	if (keep_everything)
		return NULL;
	switch (r) {
	case KP_RES_PODS: return k_pod;
	case KP_RES_DEPLOYMENTS:
	case KP_RES_REPLICASETS:
	case KP_RES_STATEFULSETS:
	case KP_RES_DAEMONSETS:
	case KP_RES_JOBS:
	case KP_RES_CRONJOBS:
	case KP_RES_ROLLOUTS: return k_workload;
	case KP_RES_PVCS: return k_pvc;
	case KP_RES_PVS: return k_pv;
	case KP_RES_HPAS: return k_hpa;
	case KP_RES_NAMESPACES: return k_namespace;
	case KP_RES_NODES: return k_node;
	case KP_RES_SERVICES: return k_service;
	case KP_RES_ENDPOINTSLICES: return k_endpointslice;
	case KP_RES_STORAGECLASSES: return k_storageclass;
	case KP_RES_VPAS: return k_vpa;
	default: return k_usage;
	}
}

static kp_status list_item(void *ud, json_object *item, size_t index, kp_error *err)
{
	ctx_t *x = ud;
	(void)err; /* x->err, the same */
	x->item = x->index_base + index;
	x->page_items = index + 1;
	x->what[0] = NULL;
	if (!json_object_is_type(item, json_type_object))
		return bad(x, "item", "not an object");
	const char *ik = jstr(x, item, "kind");
	if (ik && strcmp(ik, kp_resource_kind(x->resource)) != 0) {
		char q[KP_QUOTE_SIZE];
		return bad(x, "kind", "is \"%s\", but %s holds %s objects", quote_input(ik, q), x->rel,
			   kp_resource_kind(x->resource));
	}
	x->nul_field[0] = '\0';
	kp_status s = parse_item(x, x->resource, item);
	if (!s && x->nul_field[0])
		s = bad(x, x->nul_field, KP_NUL_MSG);
	x->what[0] = NULL; /* its parts point into the item, freed after this call */
	return s;
}

/* The List around the items (the skeleton: the items array left empty). */
static kp_status check_list(kp_cluster *c, const char *path, kp_resource r, json_object *doc, kp_error *err)
{
	const char *kind = kp_json_str(doc, "kind");
	char list_kind[64];
	snprintf(list_kind, sizeof(list_kind), "%sList", kp_resource_kind(r));
	kp_status s = KP_OK;
	if (!json_object_is_type(doc, json_type_object) || !kind) {
		s = kp_fail(err, KP_ERR_INPUT, "%s: kind: expected a List (the output of `kubectl get %s -A -o json`)", path,
			    kp_resource_name(r));
	} else if (strcmp(kind, "List") != 0 && strcmp(kind, list_kind) != 0) {
		char q[KP_QUOTE_SIZE];
		s = kp_fail(err, KP_ERR_INPUT, "%s: kind: is \"%s\", expected \"List\" or \"%s\"", path,
			    quote_input(kind, q), list_kind);
	} else if (!json_object_is_type(kp_json_get(doc, "items"), json_type_array)) {
		s = kp_fail(err, KP_ERR_INPUT, "%s: items: missing or not a list", path);
	}
	if (!s)
		c->collected[r] = true;
	return s;
}

static kp_status load_list(kp_cluster *c, const char *dir, kp_resource r, kp_redact_plan *plan, kp_error *err)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "objects/%s.json", kp_resource_name(r));
	char *path = kp_path_join(dir, rel);
	if (!kp_file_exists(path)) {
		if (kp_resource_optional(r)) {
			free(path); /* e.g. no Argo Rollouts CRD: nothing to collect, not a gap */
			return KP_OK;
		}
		/* A list is read across all namespaces, so its gap is the
		 * whole cluster's: it concerns every scope. */
		char *reason = kp_xasprintf("%s is missing; nothing that depends on %s was judged", rel,
					    kp_resource_name(r));
		char *summary = kp_xasprintf("%s: not collected (%s)", kp_resource_name(r), reason);
		kp_cluster_add_missing(c, kp_resource_name(r), NULL, NULL, NULL, reason, summary);
		free(reason);
		free(summary);
		free(path);
		return KP_OK;
	}
	ctx_t x = {.c = c, .path = path, .list = "items", .err = err, .resource = r, .rel = rel,
		   .keep_all_labels = keep_all_labels(r)};
	kp_buf_init(&x.what_buf);
	/* Items are streamed one at a time, each as a tree of only what the
	 * model reads: a 150,000-pod list never exists as one JSON tree in
	 * memory, only the compact model does. */
	json_object *doc = NULL;
	char expected[160];
	snprintf(expected, sizeof(expected), "a JSON List (the output of `kubectl get %s -A -o json`)",
		 kp_resource_name(r));
	kp_listscan *ls = kp_listscan_new(path, "items", expected, item_keep(r), list_item, &x);
	/* the same scan notes what the run's copy of the file redacts (redact.h) */
	kp_redactor *rec = NULL;
	struct stat before, after;
	bool identified = plan && stat(path, &before) == 0;
	if (identified) {
		rec = kp_redactor_new_recorder(plan);
		kp_listscan_set_tap(ls, kp_redactor_token, rec);
		kp_listscan_set_tap_skips(ls, kp_redactor_skips);
	}
	kp_status s = kp_listscan_read_file(ls, path, err);
	if (!s)
		doc = kp_listscan_skeleton(ls);
	if (!s && identified && stat(path, &after) == 0 && kp_redact_same_file(&before, &after)) {
		plan->file = before;
		plan->size = kp_listscan_offset(ls);
		plan->valid = true;
	}
	kp_redactor_free(rec);
	kp_listscan_free(ls);
	if (!s)
		s = check_list(c, path, r, doc, err);
	kp_buf_release(&x.what_buf);
	strset_release(&x.strs);
	json_object_put(doc);
	free(path);
	return s;
}

/* ---- usage.json ---- */

static kp_status usage_num(ctx_t *x, json_object *o, const char *key, const char *field, double *out)
{
	*out = -1;
	json_object *v = NULL;
	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) || !v)
		return KP_OK;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return bad(x, field, "%s: expected a number, got %s", key, json_type_to_name(json_object_get_type(v)));
	double d = json_object_get_double(v);
	if (!isfinite(d) || d < 0)
		return bad(x, field, "%s: must be a number >= 0, got %g", key, d);
	*out = d;
	return KP_OK;
}

static kp_status usage_int(ctx_t *x, json_object *o, const char *key, int64_t *out)
{
	*out = KP_UNSET;
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return KP_OK;
	if (!json_object_is_type(v, json_type_int))
		return bad(x, key, "expected an integer >= 0, got %s", json_type_to_name(json_object_get_type(v)));
	if (json_object_get_int64(v) < 0)
		return bad(x, key, "expected an integer >= 0, got %lld", (long long)json_object_get_int64(v));
	*out = json_object_get_int64(v);
	return KP_OK;
}

static kp_status parse_usage_entry(ctx_t *x, json_object *e)
{
	kp_usage u;
	memset(&u, 0, sizeof(u));
	if (!json_object_is_type(e, json_type_object))
		return bad(x, "entry", "not an object");
	static const char *const req[] = {"namespace", "pod", "container"};
	const char **dst[] = {&u.namespace_, &u.pod, &u.container};
	for (int i = 0; i < 3; i++) {
		const char *s = jstr(x, e, req[i]);
		if (!s)
			return bad(x, req[i], "missing or not a string");
		if (has_nul(e, req[i]))
			return bad(x, req[i], KP_NUL_MSG);
		kp_status st = check_name(x, req[i], s);
		if (st)
			return st;
		*dst[i] = STR(x, s);
	}
	x->what[0] = u.namespace_, x->what[1] = "/", x->what[2] = u.pod, x->what[3] = "/", x->what[4] = u.container;
	u.owner_kind = str_at(x, e, "owner.kind");
	u.owner_name = str_at(x, e, "owner.name");
	kp_status s;
	if ((s = usage_int(x, e, "samples", &u.samples)))
		return s;
	if (u.samples == KP_UNSET)
		return bad(x, "samples", "missing");
	const char *fs = jstr(x, e, "first_seen"), *ls = jstr(x, e, "last_seen");
	char q[KP_QUOTE_SIZE];
	if (fs && !kp_time_parse(fs, &u.first_seen))
		return bad(x, "first_seen", "not an RFC 3339 time: \"%s\"", quote_input(fs, q));
	if (ls && !kp_time_parse(ls, &u.last_seen))
		return bad(x, "last_seen", "not an RFC 3339 time: \"%s\"", quote_input(ls, q));
	json_object *cpu = kp_json_get(e, "cpu_millicores"), *mem = kp_json_get(e, "memory_bytes");
	if ((s = usage_num(x, cpu, "p50", "cpu_millicores", &u.cpu_p50)) ||
	    (s = usage_num(x, cpu, "p95", "cpu_millicores", &u.cpu_p95)) ||
	    (s = usage_num(x, cpu, "p99", "cpu_millicores", &u.cpu_p99)) ||
	    (s = usage_num(x, cpu, "max", "cpu_millicores", &u.cpu_max)) ||
	    (s = usage_num(x, mem, "p50", "memory_bytes", &u.mem_p50)) ||
	    (s = usage_num(x, mem, "max", "memory_bytes", &u.mem_max)) ||
	    (s = usage_num(x, e, "cpu_throttled_ratio", "cpu_throttled_ratio", &u.cpu_throttled_ratio)) ||
	    (s = usage_int(x, e, "oom_kills", &u.oom_kills)) || (s = usage_int(x, e, "restarts", &u.restarts)) ||
	    (s = usage_int(x, e, "memory_limit_at_oom_bytes", &u.memory_limit_at_oom)))
		return s;
	/* Every value, not only max, is bounded: the rules size requests from
	 * p95/p99 and sum the counters in int64, and 1e300 or INT64_MAX there
	 * overflowed (found by fuzz_snapshot). */
	if (u.cpu_p50 > (double)KP_MAX_CPU_MILLICORES || u.cpu_p95 > (double)KP_MAX_CPU_MILLICORES ||
	    u.cpu_p99 > (double)KP_MAX_CPU_MILLICORES || u.cpu_max > (double)KP_MAX_CPU_MILLICORES)
		return bad(x, "cpu_millicores", "absurd usage value (more than one million cores)");
	if (u.mem_p50 > (double)KP_MAX_BYTES || u.mem_max > (double)KP_MAX_BYTES ||
	    u.memory_limit_at_oom > KP_MAX_BYTES)
		return bad(x, u.memory_limit_at_oom > KP_MAX_BYTES ? "memory_limit_at_oom_bytes" : "memory_bytes",
			   "absurd usage value (more than 1Ei)");
	if (u.samples > KP_MAX_USAGE_COUNT || u.oom_kills > KP_MAX_USAGE_COUNT || u.restarts > KP_MAX_USAGE_COUNT)
		return bad(x,
			   u.samples > KP_MAX_USAGE_COUNT     ? "samples"
			   : u.oom_kills > KP_MAX_USAGE_COUNT ? "oom_kills"
							      : "restarts",
			   "absurd count (more than 10^12)");
	if (u.cpu_throttled_ratio > 1)
		return bad(x, "cpu_throttled_ratio", "must be between 0 and 1, got %g", u.cpu_throttled_ratio);
	KP_ARRAY_PUSH(x->c->usage, u);
	return KP_OK;
}

static kp_status usage_item(void *ud, json_object *entry, size_t index, kp_error *err)
{
	ctx_t *x = ud;
	(void)err; /* x->err, the same */
	x->item = x->index_base + index;
	x->page_items = index + 1;
	x->what[0] = NULL;
	x->nul_field[0] = '\0';
	kp_status s = parse_usage_entry(x, entry);
	if (!s && x->nul_field[0])
		s = bad(x, x->nul_field, KP_NUL_MSG);
	return s;
}

/* usage.json "missing" (docs/contracts/USAGE.md): what could not be
 * measured. An entry is a string (the old form: where is unknown, so it
 * concerns every scope) or an object {resource?, namespace?, workload?:
 * {kind, name}, reason}. Errors name the entry and field:
 * "usage.json: missing[2].namespace: ...". */

static kp_status missing_bad(kp_error *err, const char *path, size_t i, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static kp_status missing_bad(kp_error *err, const char *path, size_t i, const char *field, const char *fmt, ...)
{
	char detail[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return kp_fail(err, KP_ERR_INPUT, "%s: missing[%zu]%s%s: %s", path, i, field ? "." : "", field ? field : "",
		       detail);
}

/* Free text shown in reports and the terminal: at most 500 bytes (cut on a
 * character boundary), control characters as spaces. A new heap string. */
static char *display_text(const char *m)
{
	size_t len = kp_utf8_cut(m, strlen(m), 500);
	char *copy = kp_xmalloc(len + 1);
	memcpy(copy, m, len);
	copy[len] = '\0';
	for (char *q = copy; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = ' ';
	return copy;
}

/* o.key as a string: *out NULL when absent or null (the caller tells
 * whether that is allowed: nullable words the error); an error when it is
 * another type or holds a NUL character. */
static kp_status missing_str(kp_error *err, const char *path, size_t i, json_object *o, const char *key,
			     const char *field, bool nullable, const char **out)
{
	*out = NULL;
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return KP_OK;
	if (!json_object_is_type(v, json_type_string))
		return missing_bad(err, path, i, field, "expected a string%s, got %s",
				   nullable ? " or null" : "", json_type_to_name(json_object_get_type(v)));
	if ((size_t)json_object_get_string_len(v) != strlen(json_object_get_string(v)))
		return missing_bad(err, path, i, field, KP_NUL_MSG);
	*out = json_object_get_string(v);
	return KP_OK;
}

static kp_status missing_name(kp_error *err, const char *path, size_t i, const char *field, const char *name,
			      kp_name_rule rule)
{
	size_t n = strlen(name), max = rule == KP_NAME_LABEL ? 63 : KP_MAX_NAME_LEN;
	char q[KP_QUOTE_SIZE];
	if (n > max)
		return missing_bad(err, path, i, field, "is %zu characters long; at most %zu", n, max);
	const char *problem = kp_name_problem(name, rule);
	return problem ? missing_bad(err, path, i, field, "\"%s\" %s", quote_input(name, q), problem) : KP_OK;
}

/* A Kubernetes kind: "Deployment", "StatefulSet", a custom resource's kind. */
static bool kind_ok(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > 63 || k[0] < 'A' || k[0] > 'Z')
		return false;
	for (size_t j = 0; j < n; j++)
		if (!((k[j] >= 'A' && k[j] <= 'Z') || (k[j] >= 'a' && k[j] <= 'z') || (k[j] >= '0' && k[j] <= '9')))
			return false;
	return true;
}

static kp_status parse_missing_object(kp_cluster *c, const char *path, size_t i, json_object *e, kp_error *err)
{
	const char *resource, *ns, *kind = NULL, *name = NULL, *reason;
	kp_status s;
	if ((s = missing_str(err, path, i, e, "resource", "resource", true, &resource)) ||
	    (s = missing_str(err, path, i, e, "namespace", "namespace", true, &ns)) ||
	    (s = missing_str(err, path, i, e, "reason", "reason", false, &reason)))
		return s;
	if (!reason)
		return missing_bad(err, path, i, "reason", "missing: say why it could not be measured");
	char *why = display_text(reason);
	bool blank = strspn(why, " ") == strlen(why);
	free(why);
	if (blank)
		return missing_bad(err, path, i, "reason", "is empty: say why it could not be measured");
	/* resources are named as `kubectl get` names them: "pods", "metrics" */
	if (resource && (s = missing_name(err, path, i, "resource", resource, KP_NAME_SUBDOMAIN)))
		return s;
	if (ns && (s = missing_name(err, path, i, "namespace", ns, KP_NAME_LABEL)))
		return s;
	json_object *w = NULL;
	if (json_object_object_get_ex(e, "workload", &w) && w) {
		if (!json_object_is_type(w, json_type_object))
			return missing_bad(err, path, i, "workload", "expected an object {kind, name} or null, got %s",
					   json_type_to_name(json_object_get_type(w)));
		if ((s = missing_str(err, path, i, w, "kind", "workload.kind", false, &kind)) ||
		    (s = missing_str(err, path, i, w, "name", "workload.name", false, &name)))
			return s;
		char q[KP_QUOTE_SIZE];
		if (!kind || !name)
			return missing_bad(err, path, i, !kind ? "workload.kind" : "workload.name", "missing");
		if (!kind_ok(kind))
			return missing_bad(err, path, i, "workload.kind",
					   "\"%s\" is not a Kubernetes kind (such as Deployment or StatefulSet)",
					   quote_input(kind, q));
		if ((s = missing_name(err, path, i, "workload.name", name, name_rule(kind))))
			return s;
		/* workloads live in namespaces: without one, the scope could not
		 * tell whose gap this is */
		if (!ns)
			return missing_bad(err, path, i, "workload", "needs missing[%zu].namespace (a workload is namespaced)",
					   i);
	}
	if (!resource)
		resource = "usage";
	char *text = display_text(reason);
	kp_buf sum;
	kp_buf_init(&sum);
	kp_buf_puts(&sum, resource);
	if (kind)
		kp_buf_printf(&sum, " of %s %s/%s", kind, ns, name);
	else if (ns)
		kp_buf_printf(&sum, " in namespace %s", ns);
	kp_buf_printf(&sum, " not collected: %s", text);
	kp_cluster_add_missing(c, resource, ns, kind, name, text, kp_buf_cstr(&sum));
	kp_buf_release(&sum);
	free(text);
	return KP_OK;
}

static kp_status parse_usage_missing(kp_cluster *c, const char *path, json_object *missing, kp_error *err)
{
	if (!missing)
		return KP_OK; /* absent or null: nothing was missing */
	if (!json_object_is_type(missing, json_type_array))
		return kp_fail(err, KP_ERR_INPUT, "%s: missing: expected a list of strings or objects, got %s", path,
			       json_type_to_name(json_object_get_type(missing)));
	size_t n = json_object_array_length(missing);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(missing, i);
		if (json_object_is_type(e, json_type_string)) {
			if ((size_t)json_object_get_string_len(e) != strlen(json_object_get_string(e)))
				return missing_bad(err, path, i, NULL, KP_NUL_MSG);
			/* the old form: where is unknown, so it concerns every scope */
			char *text = display_text(json_object_get_string(e));
			kp_cluster_add_missing(c, "usage", NULL, NULL, NULL, text, text);
			free(text);
		} else if (json_object_is_type(e, json_type_object)) {
			kp_status s = parse_missing_object(c, path, i, e, err);
			if (s)
				return s;
		} else {
			return missing_bad(err, path, i, NULL, "expected a string or an object {resource, namespace, "
					   "workload, reason}, got %s", json_type_to_name(json_object_get_type(e)));
		}
	}
	return KP_OK;
}

static kp_status load_usage(kp_cluster *c, const char *dir, kp_error *err)
{
	char *path = kp_path_join(dir, "usage.json");
	if (!kp_file_exists(path)) {
		kp_cluster_add_missing(c, "usage", NULL, NULL, NULL,
				       "usage.json is missing; no workload was rightsized, all are listed as skipped",
				       "usage: not measured (usage.json is missing); no workload was rightsized, all are "
				       "listed as skipped");
		free(path);
		return KP_OK;
	}
	ctx_t x = {.c = c, .path = path, .list = "containers", .err = err};
	kp_buf_init(&x.what_buf);
	/* Streamed like the object lists: entries are checked on their own, the
	 * header (schema, window) once the file is read. */
	json_object *doc = NULL;
	kp_status s = kp_listscan_file(path, "containers", "a kopilot.usage/v1 JSON object (docs/contracts/USAGE.md)",
				       item_keep(KP_RES_COUNT), usage_item, &x, &doc, err);
	const char *schema = kp_json_str(doc, "schema");
	const char *ws = kp_json_str(doc, "window.start"), *we = kp_json_str(doc, "window.end");
	const char *src = kp_json_str(doc, "window.source");
	json_object *containers = kp_json_get(doc, "containers");
	if (s) {
		/* the entry's or the syntax error stands */
	} else if (!schema || strcmp(schema, "kopilot.usage/v1") != 0) {
		char q[KP_QUOTE_SIZE];
		s = kp_fail(err, KP_ERR_INPUT, "%s: schema: expected \"kopilot.usage/v1\", got %s%s%s", path,
			    schema ? "\"" : "", schema ? quote_input(schema, q) : "nothing", schema ? "\"" : "");
	} else if (!ws || !kp_time_parse(ws, &c->window_start)) {
		s = kp_fail(err, KP_ERR_INPUT, "%s: window.start: missing or not an RFC 3339 time", path);
	} else if (!we || !kp_time_parse(we, &c->window_end)) {
		s = kp_fail(err, KP_ERR_INPUT, "%s: window.end: missing or not an RFC 3339 time", path);
	} else if (c->window_end <= c->window_start) {
		s = kp_fail(err, KP_ERR_INPUT, "%s: window: end is not after start", path);
	} else if (!src || (strcmp(src, "prometheus") && strcmp(src, "metrics-server") && strcmp(src, "manual"))) {
		s = kp_fail(err, KP_ERR_INPUT, "%s: window.source: expected prometheus, metrics-server or manual", path);
	} else if (!json_object_is_type(containers, json_type_array)) {
		s = kp_fail(err, KP_ERR_INPUT, "%s: containers: missing or not a list", path);
	} else {
		c->usage_source = kp_arena_strdup(&c->arena, src);
		/* seconds between samples: the schema's number > 0, at most a
		 * day (a coarser step summarises nothing) */
		json_object *step = kp_json_get(doc, "window.step_seconds");
		double d = json_object_is_type(step, json_type_int) || json_object_is_type(step, json_type_double)
				   ? json_object_get_double(step)
				   : -1;
		char qs[KP_QUOTE_SIZE];
		if (step && !(d > 0 && d <= 86400))
			s = kp_fail(err, KP_ERR_INPUT, "%s: window.step_seconds: expected a number of seconds above 0 and at "
				    "most 86400, got %s", path, quote_input(json_object_to_json_string(step), qs));
		c->step_seconds = step ? (int64_t)d : 0;
		if (!s)
			s = parse_usage_missing(c, path, kp_json_get(doc, "missing"), err);
		if (!s)
			c->usage_collected = true;
	}
	kp_buf_release(&x.what_buf);
	strset_release(&x.strs);
	json_object_put(doc);
	free(path);
	return s;
}

/* ---- resolving references ---- */

/* Follows owner references up to the object a person would change: a pod's
 * ReplicaSet to its Deployment, a Job to its CronJob stays the Job (a Job's
 * resources are judged per run). */
static kp_workload *resolve_owner(kp_cluster *c, index_t *ix, kp_buf *key, const char *ns, const char *kind,
				  const char *name)
{
	kp_workload_kind k;
	bool ok = kp_workload_kind_parse(kind, &k);
	if (!ok || !name)
		return NULL;
	size_t idx;
	make_key(key, kp_workload_kind_name(k), ns, name);
	if (!index_get(ix, key->data, &idx)) {
		/* A ReplicaSet deleted since (old rollout): its name is
		 * <deployment>-<pod-template-hash>. */
		if (k == KP_WL_REPLICASET) {
			const char *dash = strrchr(name, '-');
			if (!dash)
				return NULL;
			kp_buf_reset(key);
			kp_buf_puts(key, "Deployment/");
			kp_buf_puts(key, ns);
			kp_buf_putc(key, '/');
			kp_buf_add(key, name, (size_t)(dash - name));
			if (index_get(ix, key->data, &idx))
				return &c->workloads.items[idx];
		}
		/* A Job a CronJob made and its history limit deleted since:
		 * its name is <cronjob>-<scheduled minute>. */
		if (k == KP_WL_JOB) {
			const char *dash = strrchr(name, '-');
			if (!dash || !dash[1] || strspn(dash + 1, "0123456789") != strlen(dash + 1))
				return NULL;
			kp_buf_reset(key);
			kp_buf_puts(key, "CronJob/");
			kp_buf_puts(key, ns);
			kp_buf_putc(key, '/');
			kp_buf_add(key, name, (size_t)(dash - name));
			if (index_get(ix, key->data, &idx))
				return &c->workloads.items[idx];
		}
		return NULL;
	}
	kp_workload *w = &c->workloads.items[idx];
	if (w->wkind == KP_WL_REPLICASET && w->meta.owner_kind &&
	    (strcmp(w->meta.owner_kind, "Deployment") == 0 || strcmp(w->meta.owner_kind, "Rollout") == 0)) {
		make_key(key, w->meta.owner_kind, ns, w->meta.owner_name);
		if (index_get(ix, key->data, &idx))
			return &c->workloads.items[idx];
	}
	/* A CronJob's runs are judged together, through the CronJob. */
	if (w->wkind == KP_WL_JOB && w->meta.owner_kind && strcmp(w->meta.owner_kind, "CronJob") == 0) {
		make_key(key, "CronJob", ns, w->meta.owner_name);
		if (index_get(ix, key->data, &idx))
			return &c->workloads.items[idx];
	}
	return w;
}

/* One kind of object by name ("Node//node-1", "PersistentVolumeClaim/ns/x"). */
static void index_names(index_t *ix, kp_cluster *c, kp_buf *key, const char *kind, const kp_meta *first, size_t n,
			size_t stride)
{
	index_init(ix, n);
	for (size_t i = 0; i < n; i++) {
		const kp_meta *m = (const kp_meta *)((const char *)first + i * stride);
		make_key(key, kind, m->namespace_, m->name);
		index_put(ix, &c->arena, key->data, i);
	}
}

static bool index_has(const index_t *ix, kp_buf *key, const char *kind, const char *ns, const char *name)
{
	size_t idx;
	make_key(key, kind, ns, name);
	return index_get(ix, key->data, &idx);
}

#define INDEX_NAMES(ix, c, key, kind, arr) \
	index_names((ix), (c), (key), (kind), (arr).len ? &(arr).items[0].meta : NULL, (arr).len, sizeof(*(arr).items))

/* References to objects that are not in the snapshot although their list
 * was collected (a list not collected at all is in `missing`, not here):
 * pods on nodes, pods and workloads to their controllers, pods to claims,
 * claims to volumes, claims and volumes to storage classes, HPAs to their
 * targets. Each becomes an inconsistency; the rules then never build a
 * finding on the absence (underutilized_node, idle_workload, rightsizing). */
static void check_references(kp_cluster *c, index_t *wl, kp_buf *key)
{
	index_t nodes, pvcs, pvs, scs;
	INDEX_NAMES(&nodes, c, key, "Node", c->nodes);
	INDEX_NAMES(&pvcs, c, key, "PersistentVolumeClaim", c->pvcs);
	INDEX_NAMES(&pvs, c, key, "PersistentVolume", c->pvs);
	INDEX_NAMES(&scs, c, key, "StorageClass", c->storageclasses);
	char q[KP_QUOTE_SIZE];
	for (size_t i = 0; i < c->pods.len; i++) {
		const kp_pod *p = &c->pods.items[i];
		const char *ns = p->meta.namespace_, *name = p->meta.name;
		if (p->spec.node_name && c->collected[KP_RES_NODES] && !index_has(&nodes, key, "Node", NULL, p->spec.node_name))
			kp_cluster_inconsistency(c, "pod %s/%s: spec.nodeName \"%s\" is not among the collected nodes", ns,
						 name, quote_input(p->spec.node_name, q));
		kp_workload_kind ok;
		if (kp_pod_owner_dangling(c, p) && kp_workload_kind_parse(p->meta.owner_kind, &ok))
			kp_cluster_inconsistency(c, "pod %s/%s: its owner %s \"%s\" is not among the collected %s", ns, name,
						 kp_workload_kind_name(ok), quote_input(p->meta.owner_name, q),
						 kp_resource_name(kp_workload_kind_resource(ok)));
		if (p->meta.owner_kind && strcmp(p->meta.owner_kind, "Node") == 0 && p->meta.owner_name &&
		    c->collected[KP_RES_NODES] && !index_has(&nodes, key, "Node", NULL, p->meta.owner_name))
			kp_cluster_inconsistency(c, "pod %s/%s: its owner Node \"%s\" is not among the collected nodes", ns,
						 name, quote_input(p->meta.owner_name, q));
		for (size_t k = 0; c->collected[KP_RES_PVCS] && k < p->spec.nclaims; k++)
			if (!index_has(&pvcs, key, "PersistentVolumeClaim", ns, p->spec.claims[k]))
				kp_cluster_inconsistency(c,
							 "pod %s/%s: volume claim \"%s\" is not among the collected "
							 "persistentvolumeclaims",
							 ns, name, quote_input(p->spec.claims[k], q));
	}
	for (size_t i = 0; i < c->workloads.len; i++) {
		const kp_workload *w = &c->workloads.items[i];
		kp_workload_kind k;
		if (!w->meta.owner_kind || !w->meta.owner_name || !kp_workload_kind_parse(w->meta.owner_kind, &k) ||
		    !c->collected[kp_workload_kind_resource(k)])
			continue;
		if (!index_has(wl, key, kp_workload_kind_name(k), w->meta.namespace_, w->meta.owner_name))
			kp_cluster_inconsistency(c, "%s %s/%s: its owner %s \"%s\" is not among the collected %s",
						 kp_workload_kind_name(w->wkind), w->meta.namespace_, w->meta.name,
						 kp_workload_kind_name(k), quote_input(w->meta.owner_name, q),
						 kp_resource_name(kp_workload_kind_resource(k)));
	}
	for (size_t i = 0; i < c->hpas.len; i++) {
		const kp_hpa *h = &c->hpas.items[i];
		kp_workload_kind k;
		if (kp_workload_kind_parse(h->target_kind, &k) && c->collected[kp_workload_kind_resource(k)] &&
		    !index_has(wl, key, kp_workload_kind_name(k), h->meta.namespace_, h->target_name))
			kp_cluster_inconsistency(c, "HorizontalPodAutoscaler %s/%s: its target %s \"%s\" is not among the "
						 "collected %s",
						 h->meta.namespace_, h->meta.name, kp_workload_kind_name(k),
						 quote_input(h->target_name, q), kp_resource_name(kp_workload_kind_resource(k)));
	}
	for (size_t i = 0; i < c->pvcs.len; i++) {
		const kp_pvc *v = &c->pvcs.items[i];
		if (v->volume_name && *v->volume_name && c->collected[KP_RES_PVS] &&
		    !index_has(&pvs, key, "PersistentVolume", NULL, v->volume_name))
			kp_cluster_inconsistency(c,
						 "persistentvolumeclaim %s/%s: spec.volumeName \"%s\" is not among the "
						 "collected persistentvolumes",
						 v->meta.namespace_, v->meta.name, quote_input(v->volume_name, q));
		if (v->storage_class && *v->storage_class && c->collected[KP_RES_STORAGECLASSES] &&
		    !index_has(&scs, key, "StorageClass", NULL, v->storage_class))
			kp_cluster_inconsistency(c,
						 "persistentvolumeclaim %s/%s: spec.storageClassName \"%s\" is not among "
						 "the collected storageclasses",
						 v->meta.namespace_, v->meta.name, v->storage_class);
	}
	for (size_t i = 0; i < c->pvs.len; i++) {
		const kp_pv *v = &c->pvs.items[i];
		if (v->storage_class && *v->storage_class && c->collected[KP_RES_STORAGECLASSES] &&
		    !index_has(&scs, key, "StorageClass", NULL, v->storage_class))
			kp_cluster_inconsistency(c,
						 "persistentvolume %s: spec.storageClassName \"%s\" is not among the "
						 "collected storageclasses",
						 v->meta.name, v->storage_class);
	}
	index_release(&nodes);
	index_release(&pvcs);
	index_release(&pvs);
	index_release(&scs);
}

static void resolve(kp_cluster *c)
{
	index_t wl, pods;
	kp_buf key;
	kp_buf_init(&key);
	index_init(&wl, c->workloads.len);
	for (size_t i = 0; i < c->workloads.len; i++) {
		kp_workload *w = &c->workloads.items[i];
		make_key(&key, kp_workload_kind_name(w->wkind), w->meta.namespace_, w->meta.name);
		index_put(&wl, &c->arena, key.data, i);
	}
	/* pods by name, for the usage entries: none without usage (150,000
	 * keys not built) */
	index_init(&pods, c->usage.len ? c->pods.len : 0);
	for (size_t i = 0; i < c->pods.len; i++) {
		kp_pod *p = &c->pods.items[i];
		p->workload = resolve_owner(c, &wl, &key, p->meta.namespace_, p->meta.owner_kind, p->meta.owner_name);
		if (!c->usage.len)
			continue;
		make_key(&key, "Pod", p->meta.namespace_, p->meta.name);
		index_put(&pods, &c->arena, key.data, i);
	}
	for (size_t i = 0; i < c->usage.len; i++) {
		kp_usage *u = &c->usage.items[i];
		size_t idx;
		make_key(&key, "Pod", u->namespace_, u->pod);
		if (index_get(&pods, key.data, &idx))
			u->workload = c->pods.items[idx].workload;
		else
			u->workload = resolve_owner(c, &wl, &key, u->namespace_, u->owner_kind, u->owner_name);
	}
	for (size_t i = 0; i < c->hpas.len; i++) {
		kp_hpa *h = &c->hpas.items[i];
		kp_workload_kind k;
		size_t idx;
		if (!kp_workload_kind_parse(h->target_kind, &k))
			continue;
		make_key(&key, kp_workload_kind_name(k), h->meta.namespace_, h->target_name);
		if (index_get(&wl, key.data, &idx))
			c->workloads.items[idx].hpa = h;
	}
	/* A VPA names its target by kind and name: a workload, or the custom
	 * resource of an operator that controls the workload (a Prometheus
	 * behind its StatefulSet). Two VPAs on one target: the first listed
	 * (the VPA itself refuses to act then, and either one says so). */
	if (c->vpas.len) {
		index_t vx;
		index_init(&vx, c->vpas.len);
		for (size_t i = 0; i < c->vpas.len; i++) {
			const kp_vpa *v = &c->vpas.items[i];
			size_t idx;
			make_key(&key, v->target_kind, v->meta.namespace_, v->target_name);
			if (!index_get(&vx, key.data, &idx))
				index_put(&vx, &c->arena, key.data, i);
		}
		for (size_t i = 0; i < c->workloads.len; i++) {
			kp_workload *w = &c->workloads.items[i];
			size_t idx;
			make_key(&key, kp_workload_kind_name(w->wkind), w->meta.namespace_, w->meta.name);
			bool hit = index_get(&vx, key.data, &idx);
			if (!hit && w->meta.owner_kind && w->meta.owner_name && w->meta.owner_controller) {
				make_key(&key, w->meta.owner_kind, w->meta.namespace_, w->meta.owner_name);
				hit = index_get(&vx, key.data, &idx);
			}
			if (hit)
				w->vpa = &c->vpas.items[idx];
		}
		index_release(&vx);
	}
	check_references(c, &wl, &key);
	index_release(&wl);
	index_release(&pods);
	kp_buf_release(&key);
}

/* Changes whenever this file is recompiled (any header it includes changes
 * too): model.bin caches written by another build are then ignored. Bump the
 * literal when quantity.c's parsing changes, which does not rebuild this. */
const char *kp_snapshot_loader_stamp(void) { return "loader-2 " __DATE__ " " __TIME__; }

/* ---- the lists in parallel ----
 *
 * pods.json is most of a snapshot (two thirds of 1.3 GB at 150,000 pods)
 * and every list is independent until resolve() links them, so the pods
 * are read on the calling thread while a second one reads every other list
 * and usage.json into a cluster of its own, moved into c when both are
 * done: on two cores the load takes the time of the pods alone. Lists
 * come out exactly as read one after the other: each list is read whole by
 * one thread, the gaps ("missing") keep their order (pods first), and when
 * both fail the error is the one a sequential read would have met first.
 * The fault-injection build reads sequentially: its failures are counted
 * in call order, which a second thread would make vary. */
typedef struct {
	kp_cluster part;
	const kp_snapshot_source *src;
	kp_status s;
	kp_error err;
} others_t;

static kp_status load_others(void *arg, kp_error *err)
{
	others_t *w = arg;
	for (int r = KP_RES_PODS + 1; r < KP_RES_COUNT; r++) {
		kp_status s = w->src->list(w->src->ud, &w->part, (kp_resource)r, err);
		if (s)
			return s;
	}
	return w->src->usage(w->src->ud, &w->part, err);
}

typedef struct {
	kp_cluster *c;
	const kp_snapshot_source *src;
} pods_t;

static kp_status load_pods(void *arg, kp_error *err)
{
	pods_t *p = arg;
	return p->src->list(p->src->ud, p->c, KP_RES_PODS, err);
}

static void *others_thread(void *arg)
{
	others_t *w = arg;
	/* its own out-of-memory guard: an allocation failing here unwinds
	 * this thread (guards are per thread, pipeline/util.c) */
	w->s = kp_nomem_guard(load_others, w, &w->err);
	return NULL;
}

#define MOVE_LIST(dst, src)                                                                                            \
	do {                                                                                                           \
		free((dst).items);                                                                                     \
		(dst) = (src);                                                                                         \
		memset(&(src), 0, sizeof(src));                                                                        \
	} while (0)

/* c holds the pods (and its gaps), w->part everything else. */
static void merge_others(kp_cluster *c, others_t *w)
{
	kp_cluster *p = &w->part;
	kp_arena_adopt(&c->arena, &p->arena);
	for (int r = KP_RES_PODS + 1; r < KP_RES_COUNT; r++)
		c->collected[r] = p->collected[r];
	c->usage_collected = p->usage_collected;
	c->window_start = p->window_start, c->window_end = p->window_end, c->step_seconds = p->step_seconds;
	c->usage_source = p->usage_source;
	for (size_t i = 0; i < p->missing.len; i++)
		KP_ARRAY_PUSH(c->missing, p->missing.items[i]);
	MOVE_LIST(c->workloads, p->workloads);
	MOVE_LIST(c->pvcs, p->pvcs);
	MOVE_LIST(c->pvs, p->pvs);
	MOVE_LIST(c->hpas, p->hpas);
	MOVE_LIST(c->vpas, p->vpas);
	MOVE_LIST(c->namespaces, p->namespaces);
	MOVE_LIST(c->nodes, p->nodes);
	MOVE_LIST(c->services, p->services);
	MOVE_LIST(c->endpointslices, p->endpointslices);
	MOVE_LIST(c->storageclasses, p->storageclasses);
	MOVE_LIST(c->usage, p->usage);
}

static kp_status load_sequential(kp_cluster *c, const kp_snapshot_source *src, kp_error *err)
{
	for (int r = 0; r < KP_RES_COUNT; r++) {
		kp_status s = src->list(src->ud, c, (kp_resource)r, err);
		if (s)
			return s;
	}
	return src->usage(src->ud, c, err);
}

kp_status kp_snapshot_load_from(kp_cluster *c, const kp_snapshot_source *src, kp_error *err)
{
	kp_status s;
	if (!KP_THREADS) {
		s = load_sequential(c, src, err);
		if (!s)
			resolve(c);
		return s;
	}
	others_t *w = kp_xcalloc(1, sizeof(*w));
	kp_cluster_init(&w->part);
	w->src = src;
	pthread_t t;
	if (pthread_create(&t, NULL, others_thread, w) != 0) {
		kp_cluster_release(&w->part);
		free(w);
		s = load_sequential(c, src, err); /* no thread to be had: one after the other */
		if (!s)
			resolve(c);
		return s;
	}
	/* under a guard of its own: running out of memory here must still
	 * wait for the other thread, which reads the source and writes w */
	pods_t pa = {c, src};
	s = kp_nomem_guard(load_pods, &pa, err);
	pthread_join(t, NULL);
	if (!s && w->s) {
		*err = w->err;
		s = w->s;
	}
	if (!s)
		merge_others(c, w);
	kp_cluster_release(&w->part);
	free(w);
#ifdef __GLIBC__
	/* The item trees of both threads were freed as they went; what they
	 * leave free in the heaps (the second thread's heap above all) goes
	 * back to the system rather than staying in the run's peak. */
	malloc_trim(0);
#endif
	if (!s)
		resolve(c);
	return s;
}

/* The snapshot directory as a source. */
typedef struct {
	const char *dir;
	kp_redact_plan *plans;
} dirsrc_t;

static kp_status dir_list(void *ud, kp_cluster *c, kp_resource r, kp_error *err)
{
	dirsrc_t *d = ud;
	return load_list(c, d->dir, r, d->plans ? &d->plans[r] : NULL, err);
}

static kp_status dir_usage(void *ud, kp_cluster *c, kp_error *err)
{
	dirsrc_t *d = ud;
	return load_usage(c, d->dir, err);
}

kp_status kp_snapshot_load_usage(kp_cluster *c, const char *dir, kp_error *err) { return load_usage(c, dir, err); }

kp_status kp_snapshot_load(kp_cluster *c, const char *dir, kp_error *err)
{
	return kp_snapshot_load_planned(c, dir, NULL, err);
}

kp_status kp_snapshot_load_planned(kp_cluster *c, const char *dir, kp_redact_plan *plans, kp_error *err)
{
	char *objects = kp_path_join(dir, "objects");
	bool has_objects = kp_file_exists(objects);
	free(objects);
	if (!kp_file_exists(dir))
		return kp_fail(err, KP_ERR_USAGE, "%s: snapshot directory does not exist", dir);
	if (!has_objects)
		return kp_fail(err, KP_ERR_USAGE, "%s: not a snapshot: objects/ is missing (expected objects/<resource>.json)",
			       dir);
	dirsrc_t d = {dir, plans};
	kp_snapshot_source src = {dir_list, dir_usage, &d};
	return kp_snapshot_load_from(c, &src, err);
}

/* ---- one list from memory (fuzzing: tests/fuzz/fuzz_model.c) ---- */

kp_status kp_snapshot_parse_list(kp_cluster *c, kp_resource r, const char *data, size_t n, kp_error *err)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "objects/%s.json", kp_resource_name(r));
	ctx_t x = {.c = c, .path = rel, .list = "items", .err = err, .resource = r, .rel = rel,
		   .keep_all_labels = keep_all_labels(r)};
	kp_buf_init(&x.what_buf);
	char expected[160];
	snprintf(expected, sizeof(expected), "a JSON List (the output of `kubectl get %s -A -o json`)",
		 kp_resource_name(r));
	/* the same reader as a file's, on one buffer (an API server's page) */
	kp_listscan *ls = kp_listscan_new(rel, "items", expected, item_keep(r), list_item, &x);
	kp_status s = kp_listscan_feed(ls, data, n, err);
	if (!s)
		s = kp_listscan_finish(ls, err);
	json_object *doc = s ? NULL : kp_listscan_skeleton(ls);
	kp_listscan_free(ls);
	if (!s)
		s = check_list(c, rel, r, doc, err);
	kp_buf_release(&x.what_buf);
	strset_release(&x.strs);
	json_object_put(doc);
	return s;
}

void kp_snapshot_resolve(kp_cluster *c) { resolve(c); }

/* ---- a list read page by page (stages/collect/kube.c) ---- */

/* What the parse of one page appended, to take back when the page is read
 * again (a retry) or the whole list is (an expired continue token): the
 * lengths of the model's arrays. The strings stay in the arena. */
typedef struct {
	size_t pods, workloads, pvcs, pvs, hpas, vpas, namespaces, nodes, services, endpointslices, storageclasses;
} cluster_mark;

static cluster_mark mark_of(const kp_cluster *c)
{
	return (cluster_mark){c->pods.len,       c->workloads.len, c->pvcs.len,  c->pvs.len,
			      c->hpas.len,       c->vpas.len,      c->namespaces.len, c->nodes.len,
			      c->services.len,   c->endpointslices.len, c->storageclasses.len};
}

static void rollback(kp_cluster *c, const cluster_mark *m)
{
	c->pods.len = m->pods;
	c->workloads.len = m->workloads;
	c->pvcs.len = m->pvcs;
	c->pvs.len = m->pvs;
	c->hpas.len = m->hpas;
	c->vpas.len = m->vpas;
	c->namespaces.len = m->namespaces;
	c->nodes.len = m->nodes;
	c->services.len = m->services;
	c->endpointslices.len = m->endpointslices;
	c->storageclasses.len = m->storageclasses;
}

struct kp_list_reader {
	ctx_t x;
	kp_resource r;
	char *page_name;
	char expected[160];
	size_t items; /* in the pages read to the end */
	cluster_mark page_mark, list_mark;
	kp_listscan *ls;
};

kp_list_reader *kp_list_reader_new(kp_cluster *c, kp_resource r)
{
	kp_list_reader *lr = kp_xcalloc(1, sizeof(*lr));
	lr->r = r;
	lr->x = (ctx_t){.c = c, .list = "items", .resource = r, .rel = kp_resource_name(r),
			.keep_all_labels = keep_all_labels(r)};
	kp_buf_init(&lr->x.what_buf);
	snprintf(lr->expected, sizeof(lr->expected), "a %sList from the API server", kp_resource_kind(r));
	lr->list_mark = mark_of(c);
	return lr;
}

kp_listscan *kp_list_reader_page(kp_list_reader *lr, const char *name, kp_error *err)
{
	kp_listscan_free(lr->ls);
	free(lr->page_name);
	lr->page_name = kp_xstrdup(name);
	lr->x.path = lr->page_name;
	lr->x.err = err;
	lr->x.index_base = lr->items;
	lr->x.page_items = 0;
	lr->page_mark = mark_of(lr->x.c);
	lr->ls = kp_listscan_new(lr->page_name, "items", lr->expected, item_keep(lr->r), list_item, &lr->x);
	return lr->ls;
}

kp_status kp_list_reader_page_end(kp_list_reader *lr, json_object **skeleton, kp_error *err)
{
	*skeleton = NULL;
	lr->x.err = err;
	kp_status s = kp_listscan_finish(lr->ls, err);
	json_object *doc = s ? NULL : kp_listscan_skeleton(lr->ls);
	if (!s) {
		const char *kind = kp_json_str(doc, "kind");
		char list_kind[64];
		snprintf(list_kind, sizeof(list_kind), "%sList", kp_resource_kind(lr->r));
		if (!json_object_is_type(doc, json_type_object) || !kind)
			s = kp_fail(err, KP_ERR_INPUT, "%s: kind: expected %s", lr->page_name, lr->expected);
		else if (strcmp(kind, "List") != 0 && strcmp(kind, list_kind) != 0)
			s = kp_fail(err, KP_ERR_INPUT, "%s: kind: is \"%s\", expected \"%s\"", lr->page_name, kind,
				    list_kind);
		else if (!json_object_is_type(kp_json_get(doc, "items"), json_type_array) &&
			 kp_json_get(doc, "items") != NULL)
			s = kp_fail(err, KP_ERR_INPUT, "%s: items: not a list", lr->page_name);
	}
	kp_listscan_free(lr->ls);
	lr->ls = NULL;
	if (s) {
		json_object_put(doc);
		rollback(lr->x.c, &lr->page_mark);
		return s;
	}
	lr->items += lr->x.page_items;
	*skeleton = doc;
	return KP_OK;
}

void kp_list_reader_page_abort(kp_list_reader *lr)
{
	if (!lr->ls) /* no page being read: nothing to take back */
		return;
	kp_listscan_free(lr->ls);
	lr->ls = NULL;
	rollback(lr->x.c, &lr->page_mark);
}

void kp_list_reader_restart(kp_list_reader *lr)
{
	kp_list_reader_page_abort(lr);
	rollback(lr->x.c, &lr->list_mark);
	lr->items = 0;
}

size_t kp_list_reader_items(const kp_list_reader *lr) { return lr->items; }

void kp_list_reader_free(kp_list_reader *lr, bool collected)
{
	if (!lr)
		return;
	if (lr->ls)
		kp_list_reader_page_abort(lr);
	if (collected)
		lr->x.c->collected[lr->r] = true;
	else
		rollback(lr->x.c, &lr->list_mark); /* a list not collected leaves nothing half read */
	kp_buf_release(&lr->x.what_buf);
	strset_release(&lr->x.strs);
	free(lr->page_name);
	free(lr);
}
