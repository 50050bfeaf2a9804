/*
 * yamledit.c - see yamledit.h.
 *
 * The file is parsed with libyaml's event parser into a small tree that
 * keeps, for each node, its byte range, its line and column, its style and
 * whether it carries an anchor. An edit is a list of splices (byte range,
 * new bytes) applied from the end of the file backwards; then the new text
 * is parsed again and both trees are flattened into "path = value" lines:
 * outside the container's resources they must be equal line for line, and
 * inside them equal to the old ones with exactly the intended changes.
 */
#include "stages/render/gitops/yamledit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "pipeline/quantity.h"

/* ---- the tree ---- */

typedef enum { N_SCALAR, N_MAP, N_SEQ, N_ALIAS } ntype;

typedef struct node {
	ntype type;
	size_t start, end; /* bytes */
	size_t line, col;  /* from 0; col in characters (spaces, where it matters) */
	char *value;	   /* a scalar's */
	yaml_scalar_style_t style;
	bool flow, anchored;
	struct node **kids; /* map: key, value, key, value ...; seq: items */
	size_t nkids, cap;
} node;

typedef struct {
	node **docs;
	size_t ndocs;
	size_t *c2b; /* character index -> byte offset */
	size_t nchars;
} ytree;

static char *dupn(const char *p, size_t n)
{
	char *r = kp_xmalloc(n + 1);
	memcpy(r, p, n);
	r[n] = '\0';
	return r;
}

static bool contains(const char *hay, size_t n, const char *needle, size_t m)
{
	for (size_t i = 0; m && i + m <= n; i++)
		if (hay[i] == needle[0] && !memcmp(hay + i, needle, m))
			return true;
	return false;
}

static void node_free(node *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nkids; i++)
		node_free(x->kids[i]);
	free(x->kids);
	free(x->value);
	free(x);
}

static void tree_free(ytree *t)
{
	for (size_t i = 0; i < t->ndocs; i++)
		node_free(t->docs[i]);
	free(t->docs);
	free(t->c2b);
	memset(t, 0, sizeof(*t));
}

static void add_kid(node *p, node *k)
{
	if (p->nkids == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->kids = kp_xrealloc(p->kids, p->cap * sizeof(node *));
	}
	p->kids[p->nkids++] = k;
}

static size_t byte_of(const ytree *t, size_t ci) { return ci <= t->nchars ? t->c2b[ci] : t->c2b[t->nchars]; }

static node *new_node(const ytree *t, ntype ty, const yaml_event_t *e)
{
	node *x = kp_xcalloc(1, sizeof(*x));
	x->type = ty;
	x->start = byte_of(t, e->start_mark.index);
	x->end = byte_of(t, e->end_mark.index);
	x->line = e->start_mark.line;
	x->col = e->start_mark.column;
	return x;
}

/* libyaml counts characters (and skips a byte order mark): the byte of
 * each character */
static void map_chars(ytree *t, const char *text, size_t n)
{
	size_t i = 0;
	if (n >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB && (unsigned char)text[2] == 0xBF)
		i = 3;
	t->c2b = kp_xcalloc(n - i + 1, sizeof(size_t));
	size_t c = 0;
	for (; i < n; i++)
		if (((unsigned char)text[i] & 0xC0) != 0x80)
			t->c2b[c++] = i;
	t->c2b[c] = n;
	t->nchars = c;
}

static kp_status parse_tree(const char *path, const char *text, size_t n, ytree *t, kp_error *err)
{
	memset(t, 0, sizeof(*t));
	map_chars(t, text, n);
	yaml_parser_t ps;
	if (!yaml_parser_initialize(&ps))
		return kp_fail(err, KP_ERR_NOMEM, "%s: out of memory", path);
	/* a byte order mark is no character of the stream (map_chars skips
	 * it too); without it libyaml is told the encoding */
	size_t bom = n >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;
	yaml_parser_set_input_string(&ps, (const unsigned char *)text + bom, n - bom);
	yaml_parser_set_encoding(&ps, YAML_UTF8_ENCODING);
	node *stack[256];
	int depth = 0;
	kp_status s = KP_OK;
	for (;;) {
		yaml_event_t e;
		if (!yaml_parser_parse(&ps, &e)) {
			s = kp_fail(err, KP_ERR_INPUT, "%s:%zu: not YAML: %s", path, ps.problem_mark.line + 1,
				    ps.problem ? ps.problem : "parse error");
			break;
		}
		node *x = NULL;
		bool done = e.type == YAML_STREAM_END_EVENT;
		switch (e.type) {
		case YAML_SCALAR_EVENT:
			x = new_node(t, N_SCALAR, &e);
			x->value = dupn((const char *)e.data.scalar.value, e.data.scalar.length);
			x->style = e.data.scalar.style;
			x->anchored = e.data.scalar.anchor != NULL;
			break;
		case YAML_ALIAS_EVENT:
			x = new_node(t, N_ALIAS, &e);
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT: {
			bool map = e.type == YAML_MAPPING_START_EVENT;
			x = new_node(t, map ? N_MAP : N_SEQ, &e);
			x->flow = map ? e.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
				      : e.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
			x->anchored = (map ? e.data.mapping_start.anchor : e.data.sequence_start.anchor) != NULL;
			break;
		}
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (depth > 0) {
				stack[depth - 1]->end = byte_of(t, e.end_mark.index);
				depth--;
			}
			break;
		default: break;
		}
		if (x) {
			if (depth > 0)
				add_kid(stack[depth - 1], x);
			else {
				t->docs = kp_xrealloc(t->docs, (t->ndocs + 1) * sizeof(node *));
				t->docs[t->ndocs++] = x;
			}
			if (x->type == N_MAP || x->type == N_SEQ) {
				if (depth == (int)(sizeof(stack) / sizeof(stack[0]))) {
					yaml_event_delete(&e);
					s = kp_fail(err, KP_ERR_INPUT, "%s:%zu: nested deeper than %d levels", path,
						    x->line + 1, depth);
					break;
				}
				stack[depth++] = x;
			}
		}
		yaml_event_delete(&e);
		if (done)
			break;
	}
	yaml_parser_delete(&ps);
	if (s)
		tree_free(t);
	return s;
}

/* ---- looking things up ---- */

/* the index of key's key node in a mapping's kids, or -1 */
static long map_index(const node *m, const char *key)
{
	if (!m || m->type != N_MAP)
		return -1;
	for (size_t i = 0; i + 1 < m->nkids; i += 2)
		if (m->kids[i]->type == N_SCALAR && !strcmp(m->kids[i]->value, key))
			return (long)i;
	return -1;
}

static node *map_get(const node *m, const char *key)
{
	long i = map_index(m, key);
	return i < 0 ? NULL : m->kids[i + 1];
}

static node *map_key(const node *m, const char *key)
{
	long i = map_index(m, key);
	return i < 0 ? NULL : m->kids[i];
}

static const char *str_at(const node *m, const char *a, const char *b)
{
	const node *x = map_get(m, a);
	if (b)
		x = map_get(x, b);
	return x && x->type == N_SCALAR ? x->value : NULL;
}

/* where a kind keeps its pod spec */
static node *pod_spec(node *root, const char *kind)
{
	static const char *const templated[] = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job",
						"ReplicationController", "Rollout"};
	node *spec = map_get(root, "spec");
	if (!strcmp(kind, "Pod"))
		return spec;
	if (!strcmp(kind, "CronJob"))
		return map_get(map_get(map_get(map_get(spec, "jobTemplate"), "spec"), "template"), "spec");
	for (size_t i = 0; i < sizeof(templated) / sizeof(templated[0]); i++)
		if (!strcmp(kind, templated[i]))
			return map_get(map_get(spec, "template"), "spec");
	return NULL;
}

static bool is_templated(const char *text, size_t n)
{
	bool comment = false, line_start = true, quote = false;
	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		if (c == '\n') {
			comment = false, line_start = true, quote = false;
			continue;
		}
		if (comment)
			continue;
		if (c == '"' || c == '\'')
			quote = !quote;
		if (c == '#' && !quote && (line_start || text[i - 1] == ' ' || text[i - 1] == '\t')) {
			comment = true;
			continue;
		}
		if (c == '{' && i + 1 < n && text[i + 1] == '{')
			return true;
		if (c != ' ' && c != '\t')
			line_start = false;
	}
	return false;
}

/* what locate.c needs beyond the identity: the containers with resources
 * (for patches), and a GitOps object's source path and namespace */
static void object_extras(node *root, const char *kind, const char *api, kp_yaml_object *o)
{
	node *ps = pod_spec(root, kind);
	size_t used = 1;
	o->res_containers[0] = ',';
	static const char *const lists[] = {"containers", "initContainers"};
	for (int l = 0; ps && l < 2; l++) {
		node *seq = map_get(ps, lists[l]);
		for (size_t i = 0; seq && seq->type == N_SEQ && i < seq->nkids; i++) {
			const char *cn = str_at(seq->kids[i], "name", NULL);
			if (cn && map_get(seq->kids[i], "resources") && used + strlen(cn) + 2 < sizeof(o->res_containers))
				used += (size_t)snprintf(o->res_containers + used, sizeof(o->res_containers) - used, "%s,", cn);
		}
	}
	if (used == 1)
		o->res_containers[0] = '\0';
	node *spec = map_get(root, "spec");
	const char *src = NULL, *dest = NULL;
	if (!strcmp(kind, "Application") && !strncmp(api, "argoproj.io/", 12)) {
		src = str_at(spec, "source", "path");
		node *srcs = map_get(spec, "sources");
		for (size_t i = 0; !src && srcs && srcs->type == N_SEQ && i < srcs->nkids; i++)
			src = str_at(srcs->kids[i], "path", NULL);
		dest = str_at(spec, "destination", "namespace");
	} else if (!strcmp(kind, "Kustomization") && !strncmp(api, "kustomize.toolkit.fluxcd.io/", 28)) {
		src = str_at(spec, "path", NULL);
		dest = str_at(spec, "targetNamespace", NULL);
	}
	snprintf(o->src_path, sizeof(o->src_path), "%s", src ? src : "");
	snprintf(o->dest_ns, sizeof(o->dest_ns), "%s", dest ? dest : "");
}

kp_status kp_yaml_objects(const char *path, const char *text, size_t n, kp_yaml_object **out, size_t *nout,
			  bool *templated, kp_error *err)
{
	*out = NULL;
	*nout = 0;
	*templated = is_templated(text, n);
	if (*templated)
		return KP_OK;
	ytree t;
	kp_status s = parse_tree(path, text, n, &t, err);
	if (s)
		return s;
	for (size_t d = 0; d < t.ndocs; d++) {
		const char *kind = str_at(t.docs[d], "kind", NULL), *name = str_at(t.docs[d], "metadata", "name");
		if (!kind || !name)
			continue;
		const char *ns = str_at(t.docs[d], "metadata", "namespace");
		const char *api = str_at(t.docs[d], "apiVersion", NULL);
		*out = kp_xrealloc(*out, (*nout + 1) * sizeof(**out));
		kp_yaml_object *o = &(*out)[(*nout)++];
		memset(o, 0, sizeof(*o));
		snprintf(o->api_version, sizeof(o->api_version), "%s", api ? api : "");
		snprintf(o->kind, sizeof(o->kind), "%s", kind);
		snprintf(o->name, sizeof(o->name), "%s", name);
		snprintf(o->ns, sizeof(o->ns), "%s", ns ? ns : "");
		o->doc = (int)d;
		o->line = t.docs[d]->line + 1;
		object_extras(t.docs[d], kind, api ? api : "", o);
	}
	tree_free(&t);
	return KP_OK;
}

kp_status kp_yaml_kustomization_read(const char *path, const char *text, size_t n, kp_yaml_kustomization *k,
				     kp_error *err)
{
	memset(k, 0, sizeof(*k));
	ytree t;
	kp_status s = parse_tree(path, text, n, &t, err);
	if (s)
		return s;
	const node *root = t.ndocs ? t.docs[0] : NULL;
	const char *ns = str_at(root, "namespace", NULL);
	if (ns && *ns)
		k->ns = kp_xstrdup(ns);
	/* "bases" is the older spelling of the same list */
	static const char *const lists[] = {"resources", "bases", "components"};
	for (int l = 0; l < 3; l++) {
		const node *r = map_get(root, lists[l]);
		for (size_t i = 0; r && r->type == N_SEQ && i < r->nkids; i++)
			if (r->kids[i]->type == N_SCALAR && *r->kids[i]->value) {
				k->resources = kp_xrealloc(k->resources, (k->nresources + 1) * sizeof(char *));
				k->resources[k->nresources++] = kp_xstrdup(r->kids[i]->value);
			}
	}
	/* patches: {path | patch, target}; patchesStrategicMerge: a path or
	 * inline YAML; patchesJson6902: {target, path | patch} */
	static const char *const plists[] = {"patches", "patchesStrategicMerge", "patchesJson6902"};
	for (int l = 0; l < 3; l++) {
		const node *r = map_get(root, plists[l]);
		for (size_t i = 0; r && r->type == N_SEQ && i < r->nkids; i++) {
			const node *e = r->kids[i];
			kp_yaml_kpatch p = {0};
			if (e->type == N_SCALAR) {
				if (strchr(e->value, '\n'))
					p.text = kp_xstrdup(e->value);
				else
					p.path = kp_xstrdup(e->value);
			} else if (e->type == N_MAP) {
				const char *pp = str_at(e, "path", NULL), *pt = str_at(e, "patch", NULL);
				p.path = pp ? kp_xstrdup(pp) : NULL;
				p.text = pt ? kp_xstrdup(pt) : NULL;
				const char *tk = str_at(e, "target", "kind"), *tn = str_at(e, "target", "name");
				snprintf(p.target_kind, sizeof(p.target_kind), "%s", tk ? tk : "");
				snprintf(p.target_name, sizeof(p.target_name), "%s", tn ? tn : "");
			}
			if (!p.path && !p.text)
				continue;
			const char *tx = p.text;
			while (tx && (*tx == ' ' || *tx == '\n' || *tx == '\t'))
				tx++;
			/* operations, not an object: JSON 6902 */
			p.json6902 = l == 2 || (tx && (*tx == '-' || *tx == '['));
			k->patches = kp_xrealloc(k->patches, (k->npatches + 1) * sizeof(*k->patches));
			k->patches[k->npatches++] = p;
		}
	}
	tree_free(&t);
	return KP_OK;
}

void kp_yaml_kustomization_free(kp_yaml_kustomization *k)
{
	for (size_t i = 0; i < k->nresources; i++)
		free(k->resources[i]);
	free(k->resources);
	for (size_t i = 0; i < k->npatches; i++)
		free(k->patches[i].path), free(k->patches[i].text);
	free(k->patches);
	free(k->ns);
	memset(k, 0, sizeof(*k));
}

/* ---- formatting quantities in the file's style ---- */

void kp_yaml_format_cpu(int64_t m, const char *old, char *buf, size_t n)
{
	size_t ol = old ? strlen(old) : 0;
	bool cores = old && ol && old[ol - 1] != 'm';
	if (!cores) {
		if (m % 1000 == 0 && old == NULL)
			snprintf(buf, n, "%lld", (long long)(m / 1000));
		else
			snprintf(buf, n, "%lldm", (long long)m);
		return;
	}
	/* cores, exactly: at most three decimals, none trailing */
	char frac[8];
	snprintf(frac, sizeof(frac), "%03lld", (long long)(m % 1000));
	for (int i = 2; i >= 0 && frac[i] == '0'; i--)
		frac[i] = '\0';
	if (frac[0])
		snprintf(buf, n, "%lld.%s", (long long)(m / 1000), frac);
	else
		snprintf(buf, n, "%lld", (long long)(m / 1000));
}

void kp_yaml_format_mem(int64_t b, const char *old, char *buf, size_t n)
{
	static const char *const bin[] = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};
	static const char *const dec[] = {"E", "P", "T", "G", "M", "k"};
	if (!old) {
		kp_quantity_format_mem(b, buf, n);
		return;
	}
	size_t ol = strlen(old);
	bool binary = ol >= 2 && old[ol - 1] == 'i';
	bool decimal = !binary && ol && strchr("kMGTPE", old[ol - 1]);
	if (decimal) {
		int64_t u = 1000000000000000000LL;
		for (int i = 0; i < 6; i++, u /= 1000)
			if (b >= u && b % u == 0) {
				snprintf(buf, n, "%lld%s", (long long)(b / u), dec[i]);
				return;
			}
		binary = true; /* not a whole number of decimal units: the binary ones */
	}
	if (binary) {
		for (int i = 0; i < 6; i++) {
			int64_t u = (int64_t)1 << (10 * (6 - i));
			if (b >= u && b % u == 0) {
				snprintf(buf, n, "%lld%s", (long long)(b / u), bin[i]);
				return;
			}
		}
	}
	snprintf(buf, n, "%lld", (long long)b);
}

/* ---- the edit ---- */

typedef struct {
	size_t start, end;
	char *text;
} splice;

typedef struct {
	splice *v;
	size_t n;
} splices;

static void splice_add(splices *s, size_t start, size_t end, char *text)
{
	s->v = kp_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = (splice){start, end, text};
}

static int cmp_splice(const void *a, const void *b)
{
	const splice *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* the end of the last thing a node holds (a block collection's own end
 * mark lies at the next token, lines later) */
static size_t content_end(const node *x)
{
	if ((x->type == N_MAP || x->type == N_SEQ) && !x->flow && x->nkids)
		return content_end(x->kids[x->nkids - 1]);
	return x->end;
}

/* the start of the line after the one holding byte p (n if none) */
static size_t next_line(const char *text, size_t n, size_t p)
{
	const char *nl = p < n ? memchr(text + p, '\n', n - p) : NULL;
	return nl ? (size_t)(nl - text) + 1 : n;
}

static size_t line_start(const char *text, size_t p)
{
	while (p > 0 && text[p - 1] != '\n')
		p--;
	return p;
}

/* the value as the scalar's own quoting writes it */
static char *quoted(const char *v, yaml_scalar_style_t st)
{
	if (st == YAML_SINGLE_QUOTED_SCALAR_STYLE)
		return kp_xasprintf("'%s'", v);
	if (st == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
		return kp_xasprintf("\"%s\"", v);
	return kp_xstrdup(v);
}

typedef struct {
	const char *sub, *key; /* requests|limits, cpu|memory */
	int64_t want;
	bool cpu;
} field;

static bool quantity_equal(const char *s, int64_t want, bool cpu)
{
	int64_t v = 0;
	kp_error e = {0};
	if (cpu ? kp_quantity_milli(s, &v, &e) : kp_quantity_units(s, &v, &e))
		return false;
	return v == want;
}

static void fmt_value(const field *f, const char *old, char *buf, size_t n)
{
	if (f->cpu)
		kp_yaml_format_cpu(f->want, old, buf, n);
	else
		kp_yaml_format_mem(f->want, old, buf, n);
}

/* the path to the container, checked for what would make the edit touch
 * more than itself */
static kp_status find_container(const char *path, node *root, const char *kind, const char *name, node **out,
				kp_error *err)
{
	node *ps = pod_spec(root, kind);
	if (!ps)
		return kp_fail(err, KP_ERR_INPUT, "%s:%zu: %s has no pod template kopilot knows", path, root->line + 1, kind);
	const char *lists[] = {"containers", "initContainers"};
	for (int l = 0; l < 2; l++) {
		node *seq = map_get(ps, lists[l]);
		for (size_t i = 0; seq && seq->type == N_SEQ && i < seq->nkids; i++) {
			node *c = seq->kids[i];
			const char *cn = str_at(c, "name", NULL);
			if (!cn || strcmp(cn, name))
				continue;
			if (c->type == N_ALIAS || c->anchored || seq->anchored || ps->anchored)
				return kp_fail(err, KP_ERR_INPUT,
					       "%s:%zu: container %s: an anchor or alias on its path (the change would "
					       "reach other places): not edited",
					       path, c->line + 1, name);
			if (map_key(c, "<<"))
				return kp_fail(err, KP_ERR_INPUT,
					       "%s:%zu: container %s: a merge key (<<) in it: its resources may come from "
					       "elsewhere: not edited",
					       path, c->line + 1, name);
			*out = c;
			return KP_OK;
		}
	}
	return kp_fail(err, KP_ERR_INPUT, "%s:%zu: %s %s has no container %s", path, root->line + 1, kind,
		       str_at(root, "metadata", "name") ? str_at(root, "metadata", "name") : "", name);
}

/* the mapping whose "resources" key is on line (from 0), anywhere in x */
static node *holder_at(node *x, size_t line)
{
	if (!x || (x->type != N_MAP && x->type != N_SEQ))
		return NULL;
	if (x->type == N_MAP) {
		node *k = map_key(x, "resources");
		if (k && k->line == line)
			return x;
	}
	for (size_t i = 0; i < x->nkids; i++) {
		node *r = holder_at(x->kids[i], line);
		if (r)
			return r;
	}
	return NULL;
}

/* The mapping the edit is in: a pod template's container by name, or the
 * one whose resources key is on want->at_line (a marked values file). */
static kp_status find_target(const char *path, node *root, const char *kind, const kp_yaml_resources *want, node **out,
			     kp_error *err)
{
	if (!want->at_line)
		return find_container(path, root, kind, want->container, out, err);
	node *h = holder_at(root, want->at_line - 1);
	if (!h)
		return kp_fail(err, KP_ERR_INPUT, "%s:%zu: no resources key on the line after the kopilot marker", path,
			       want->at_line);
	if (h->anchored || map_key(h, "<<"))
		return kp_fail(err, KP_ERR_INPUT,
			       "%s:%zu: an anchor or merge key around the marked resources: not edited", path,
			       want->at_line);
	*out = h;
	return KP_OK;
}

/* indentation step of the document: how far metadata's keys sit from the
 * top level's */
static size_t indent_step(const node *root)
{
	const node *md = map_get(root, "metadata");
	if (md && md->type == N_MAP && !md->flow && md->nkids && md->kids[0]->col > root->col)
		return md->kids[0]->col - root->col;
	return 2;
}

static void spaces(kp_buf *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kp_buf_putc(b, ' ');
}

/* Plans the splices for one container. */
static kp_status plan_edit(const char *path, const char *text, size_t n, node *root, node *c, field *fs, int nf,
			   splices *sp, int *changed, kp_error *err)
{
	const char *eol = contains(text, n, "\r\n", 2) ? "\r\n" : "\n";
	size_t step = indent_step(root);
	node *res = map_get(c, "resources");
	if (res && (res->type == N_ALIAS || res->anchored || map_key(res, "<<")))
		return kp_fail(err, KP_ERR_INPUT,
			       "%s:%zu: resources: an anchor, alias or merge key: the values are shared: not edited", path,
			       res->line + 1);
	if (res && (res->type != N_MAP || !res->nkids))
		return kp_fail(err, KP_ERR_INPUT, "%s:%zu: resources: empty or not a mapping: not edited", path,
			       res->line + 1);
	/* what to add, by the mapping it goes into */
	kp_buf add_res; /* new sub-maps under resources (or resources itself) */
	kp_buf_init(&add_res);
	for (int pass = 0; pass < 2; pass++) { /* requests, then limits */
		const char *sub = pass ? "limits" : "requests";
		node *sm = map_get(res, sub);
		if (sm && (sm->type == N_ALIAS || sm->anchored || map_key(sm, "<<"))) {
			kp_buf_release(&add_res);
			return kp_fail(err, KP_ERR_INPUT, "%s:%zu: resources.%s: an anchor, alias or merge key: not edited",
				       path, sm->line + 1, sub);
		}
		if (sm && (sm->type != N_MAP || !sm->nkids)) {
			kp_buf_release(&add_res);
			return kp_fail(err, KP_ERR_INPUT, "%s:%zu: resources.%s: empty or not a mapping: not edited", path,
				       sm->line + 1, sub);
		}
		kp_buf lines; /* keys to add to sm, or to a new sm */
		kp_buf_init(&lines);
		for (int i = 0; i < nf; i++) {
			field *f = &fs[i];
			if (strcmp(f->sub, sub) || f->want == KP_YAML_KEEP)
				continue;
			node *v = map_get(sm, f->key);
			node *k = map_key(sm, f->key);
			if (v && (v->type != N_SCALAR || v->anchored)) {
				kp_buf_release(&lines), kp_buf_release(&add_res);
				return kp_fail(err, KP_ERR_INPUT, "%s:%zu: resources.%s.%s: not a plain quantity: not edited",
					       path, v->line + 1, sub, f->key);
			}
			if (v && f->want == KP_YAML_REMOVE) {
				/* the key's line, alone on it, goes; with the
				 * mapping's key line when it was its only key */
				size_t ls = line_start(text, k->start), le = next_line(text, n, v->end);
				for (size_t q = ls; q < k->start; q++)
					if (text[q] != ' ') {
						kp_buf_release(&lines), kp_buf_release(&add_res);
						return kp_fail(err, KP_ERR_INPUT,
							       "%s:%zu: resources.%s.%s: not alone on its line: not removed",
							       path, k->line + 1, sub, f->key);
					}
				if (sm->flow) {
					kp_buf_release(&lines), kp_buf_release(&add_res);
					return kp_fail(err, KP_ERR_INPUT,
						       "%s:%zu: resources.%s is a flow mapping: %s not removed", path,
						       sm->line + 1, sub, f->key);
				}
				if (sm->nkids == 2) {
					node *sk = map_key(res, sub);
					ls = line_start(text, sk->start);
				}
				splice_add(sp, ls, le, kp_xstrdup(""));
				(*changed)++;
				continue;
			}
			if (f->want == KP_YAML_REMOVE)
				continue; /* nothing to remove */
			char val[64];
			if (v) {
				if (quantity_equal(v->value, f->want, f->cpu))
					continue;
				fmt_value(f, v->value, val, sizeof(val));
				splice_add(sp, v->start, v->end, quoted(val, v->style));
				(*changed)++;
				continue;
			}
			fmt_value(f, NULL, val, sizeof(val));
			kp_buf_printf(&lines, "%s: %s%s", f->key, val, eol);
			(*changed)++;
		}
		if (!lines.len) {
			kp_buf_release(&lines);
			continue;
		}
		if (sm) { /* into the existing mapping, after its last key */
			if (sm->flow) {
				kp_buf_release(&lines), kp_buf_release(&add_res);
				return kp_fail(err, KP_ERR_INPUT,
					       "%s:%zu: resources.%s is a flow mapping: a key cannot be added without "
					       "rewriting it: not edited",
					       path, sm->line + 1, sub);
			}
			kp_buf b;
			kp_buf_init(&b);
			size_t at = next_line(text, n, content_end(sm));
			if (at == n && n && text[n - 1] != '\n')
				kp_buf_puts(&b, eol);
			/* each line at the column of the mapping's first key */
			for (const char *l = kp_buf_cstr(&lines); *l;) {
				const char *e = strstr(l, eol);
				spaces(&b, sm->kids[0]->col);
				kp_buf_add(&b, l, (size_t)(e - l) + strlen(eol));
				l = e + strlen(eol);
			}
			splice_add(sp, at, at, kp_buf_detach(&b));
		} else { /* a new requests: or limits: */
			kp_buf_printf(&add_res, "%s:%s", sub, eol);
			for (const char *l = kp_buf_cstr(&lines); *l;) {
				const char *e = strstr(l, eol);
				kp_buf_putc(&add_res, '\1'); /* one step deeper than sub: filled in below */
				kp_buf_add(&add_res, l, (size_t)(e - l) + strlen(eol));
				l = e + strlen(eol);
			}
		}
		kp_buf_release(&lines);
	}
	if (add_res.len) {
		node *host = res ? res : c;
		if (host->flow || c->flow) {
			kp_buf_release(&add_res);
			return kp_fail(err, KP_ERR_INPUT,
				       "%s:%zu: %s is written in flow style: resources cannot be added without "
				       "rewriting it: not edited",
				       path, c->line + 1, str_at(c, "name", NULL) ? str_at(c, "name", NULL) : "the mapping");
		}
		size_t col = res ? res->kids[0]->col : c->kids[0]->col + 0;
		size_t sub_col = res ? col : col + step;
		kp_buf b;
		kp_buf_init(&b);
		size_t at = next_line(text, n, content_end(host));
		if (at == n && n && text[n - 1] != '\n')
			kp_buf_puts(&b, eol);
		if (!res) {
			spaces(&b, col);
			kp_buf_printf(&b, "resources:%s", eol);
		}
		for (const char *l = kp_buf_cstr(&add_res); *l;) {
			const char *e = strstr(l, eol);
			if (*l == '\1') {
				spaces(&b, sub_col + step);
				l++;
			} else {
				spaces(&b, sub_col);
			}
			kp_buf_add(&b, l, (size_t)(e - l) + strlen(eol));
			l = e + strlen(eol);
		}
		splice_add(sp, at, at, kp_buf_detach(&b));
	}
	kp_buf_release(&add_res);
	return KP_OK;
}

/* The container's resources as "sub.key = value" lines (any other shape
 * as one line: the verification compares them, it never edits them). */
static void flatten_resources(const node *r, kp_buf *inside)
{
	if (r->type != N_MAP) {
		kp_buf_printf(inside, "(resources) = %s\n", r->type == N_SCALAR ? r->value : "(node)");
		return;
	}
	for (size_t i = 0; i + 1 < r->nkids; i += 2) {
		const node *k = r->kids[i], *sm = r->kids[i + 1];
		const char *kn = k->type == N_SCALAR ? k->value : "?";
		if (sm->type != N_MAP) {
			kp_buf_printf(inside, "%s = (%s)\n", kn, sm->type == N_SCALAR ? sm->value : "node");
			continue;
		}
		for (size_t j = 0; j + 1 < sm->nkids; j += 2)
			kp_buf_printf(inside, "%s.%s = %s\n", kn, sm->kids[j]->type == N_SCALAR ? sm->kids[j]->value : "?",
				      sm->kids[j + 1]->type == N_SCALAR ? sm->kids[j + 1]->value : "(node)");
	}
}

/* "path = value" lines of a tree, in document order. The container c is
 * listed without its number of keys and its resources, which go to
 * *inside. */
static void flatten(const node *x, kp_buf *path, kp_buf *out, const node *c, kp_buf *inside)
{
	size_t mark = path->len;
	switch (x->type) {
	case N_SCALAR: kp_buf_printf(out, "%s = %s\n", kp_buf_cstr(path), x->value); break;
	case N_ALIAS: kp_buf_printf(out, "%s = *\n", kp_buf_cstr(path)); break;
	case N_MAP:
		if (x != c)
			kp_buf_printf(out, "%s = {%zu}\n", kp_buf_cstr(path), x->nkids / 2);
		for (size_t i = 0; i + 1 < x->nkids; i += 2) {
			const char *k = x->kids[i]->type == N_SCALAR ? x->kids[i]->value : "?";
			if (x == c && !strcmp(k, "resources")) {
				flatten_resources(x->kids[i + 1], inside);
				continue;
			}
			kp_buf_printf(path, "/%s", k);
			flatten(x->kids[i + 1], path, out, c, inside);
			path->len = mark;
			path->data[mark] = '\0';
		}
		break;
	case N_SEQ:
		kp_buf_printf(out, "%s = [%zu]\n", kp_buf_cstr(path), x->nkids);
		for (size_t i = 0; i < x->nkids; i++) {
			kp_buf_printf(path, "/%zu", i);
			flatten(x->kids[i], path, out, c, inside);
			path->len = mark;
			path->data[mark] = '\0';
		}
		break;
	}
}

/* every document; c (NULL: none) as flatten says */
static void flatten_all(const ytree *t, const node *c, kp_buf *out, kp_buf *inside)
{
	kp_buf path;
	kp_buf_init(&path);
	for (size_t d = 0; d < t->ndocs; d++) {
		kp_buf_reset(&path);
		kp_buf_printf(&path, "#%zu", d);
		flatten(t->docs[d], &path, out, c, inside);
	}
	kp_buf_release(&path);
}

/* the field an inside line is ("requests.cpu = ..."), or -1 */
static int field_of(const char *line, const field *fs, int nf)
{
	for (int i = 0; i < nf; i++) {
		size_t ls = strlen(fs[i].sub), lk = strlen(fs[i].key);
		if (!strncmp(line, fs[i].sub, ls) && line[ls] == '.' && !strncmp(line + ls + 1, fs[i].key, lk) &&
		    !strncmp(line + ls + 1 + lk, " = ", 3))
			return i;
	}
	return -1;
}

/* every line of a is in b, but the fields edited */
static bool lines_in(const kp_buf *a, const kp_buf *b, const field *fs, int nf)
{
	for (const char *l = kp_buf_cstr(a); *l;) {
		const char *e = strchr(l, '\n');
		int f = field_of(l, fs, nf);
		if ((f < 0 || fs[f].want == KP_YAML_KEEP) && !contains(kp_buf_cstr(b), b->len, l, (size_t)(e - l) + 1))
			return false;
		l = e + 1;
	}
	return true;
}

static kp_status verify(const char *path, const ytree *old, const node *oc, const ytree *nw, const node *nc,
			const field *fs, int nf, kp_error *err)
{
	kp_buf a, b, ai, bi;
	kp_buf_init(&a), kp_buf_init(&b), kp_buf_init(&ai), kp_buf_init(&bi);
	flatten_all(old, oc, &a, &ai);
	flatten_all(nw, nc, &b, &bi);
	bool ok = a.len == b.len && !memcmp(kp_buf_cstr(&a), kp_buf_cstr(&b), a.len);
	const char *why = "would change more than the container's resources";
	/* inside: the old lines, the edited fields as intended, nothing else */
	if (ok && !(lines_in(&ai, &bi, fs, nf) && lines_in(&bi, &ai, fs, nf))) {
		ok = false;
		why = "would change other resources than the intended";
	}
	for (int i = 0; ok && i < nf; i++) {
		if (fs[i].want == KP_YAML_KEEP)
			continue;
		const char *got = NULL;
		for (const char *l = kp_buf_cstr(&bi); *l && !got; l = strchr(l, '\n') + 1)
			if (field_of(l, fs, nf) == i)
				got = strstr(l, " = ") + 3;
		if (fs[i].want == KP_YAML_REMOVE ? got != NULL : !got) {
			ok = false;
		} else if (got) {
			char *v = dupn(got, (size_t)(strchr(got, '\n') - got));
			ok = quantity_equal(v, fs[i].want, fs[i].cpu);
			free(v);
		}
		if (!ok)
			why = "does not read back with the intended values";
	}
	kp_buf_release(&a), kp_buf_release(&b), kp_buf_release(&ai), kp_buf_release(&bi);
	return ok ? KP_OK : kp_fail(err, KP_ERR_INPUT, "%s: the edit %s: not edited", path, why);
}

/* What both edits start with: never a template; the file parsed, with a
 * document doc (a mapping when want_map). */
static kp_status open_doc(const char *path, const char *text, size_t n, int doc, bool want_map, ytree *t,
			  kp_error *err)
{
	if (is_templated(text, n))
		return kp_fail(err, KP_ERR_INPUT, "%s: a template ({{ }}): never edited", path);
	kp_status s = parse_tree(path, text, n, t, err);
	if (s)
		return s;
	if (doc < 0 || (size_t)doc >= t->ndocs || (want_map && t->docs[doc]->type != N_MAP)) {
		tree_free(t);
		return kp_fail(err, KP_ERR_INPUT, "%s: no document %d", path, doc);
	}
	return KP_OK;
}

kp_status kp_yaml_edit_resources(const char *path, const char *text, size_t n, int doc, const kp_yaml_resources *want,
				 char **out, size_t *outn, int *changed, kp_error *err)
{
	*out = NULL;
	*outn = 0;
	*changed = 0;
	ytree t;
	kp_status s = open_doc(path, text, n, want->at_line ? 0 : doc, false, &t, err);
	if (s)
		return s;
	/* a marked line: the document that holds it */
	for (size_t d = 0; want->at_line && d < t.ndocs; d++)
		if (holder_at(t.docs[d], want->at_line - 1))
			doc = (int)d;
	node *root = t.docs[doc], *c = NULL;
	const char *kind = str_at(root, "kind", NULL);
	s = find_target(path, root, kind ? kind : "", want, &c, err);
	field fs[4] = {{"requests", "cpu", want->cpu_request, true},
		       {"requests", "memory", want->mem_request, false},
		       {"limits", "cpu", want->cpu_limit, true},
		       {"limits", "memory", want->mem_limit, false}};
	splices sp = {0};
	if (!s)
		s = plan_edit(path, text, n, root, c, fs, 4, &sp, changed, err);
	if (!s) {
		if (sp.n)
			qsort(sp.v, sp.n, sizeof(*sp.v), cmp_splice);
		kp_buf b;
		kp_buf_init(&b);
		size_t at = 0;
		for (size_t i = 0; i < sp.n; i++) {
			kp_buf_add(&b, text + at, sp.v[i].start - at);
			kp_buf_puts(&b, sp.v[i].text);
			at = sp.v[i].end;
		}
		kp_buf_add(&b, text + at, n - at);
		*outn = b.len;
		*out = kp_buf_detach(&b);
		if (!*out)
			*out = kp_xstrdup("");
		/* read it back */
		ytree t2;
		s = parse_tree(path, *out, *outn, &t2, err);
		if (s) {
			kp_error_prefix(err, "after the edit");
		} else {
			node *c2 = NULL;
			s = doc < (int)t2.ndocs ? find_target(path, t2.docs[doc], kind ? kind : "", want, &c2, err)
						: kp_fail(err, KP_ERR_INPUT, "%s: a document went missing", path);
			if (!s)
				s = verify(path, &t, c, &t2, c2, fs, 4, err);
			tree_free(&t2);
		}
		if (s) {
			free(*out);
			*out = NULL;
			*outn = 0;
			*changed = 0;
		}
	}
	if (s)
		*changed = 0;
	for (size_t i = 0; i < sp.n; i++)
		free(sp.v[i].text);
	free(sp.v);
	tree_free(&t);
	return s;
}

/* ---- where an object is (SARIF) ---- */

kp_status kp_yaml_object_line(const char *path, const char *text, size_t n, int doc, const char *container,
			      size_t *line, size_t *end_line, const char **what, kp_error *err)
{
	*line = *end_line = 0;
	*what = NULL;
	ytree t;
	kp_status s = parse_tree(path, text, n, &t, err);
	if (s)
		return s;
	if (doc < 0 || (size_t)doc >= t.ndocs || t.docs[doc]->type != N_MAP) {
		tree_free(&t);
		return kp_fail(err, KP_ERR_INPUT, "%s: no document %d", path, doc);
	}
	node *root = t.docs[doc];
	const char *kind = str_at(root, "kind", NULL);
	if (container) {
		node *ps = pod_spec(root, kind ? kind : "");
		const char *lists[] = {"containers", "initContainers"};
		for (int l = 0; l < 2 && !*what; l++) {
			node *seq = map_get(ps, lists[l]);
			for (size_t i = 0; seq && seq->type == N_SEQ && i < seq->nkids && !*what; i++) {
				node *c = seq->kids[i];
				const char *cn = str_at(c, "name", NULL);
				if (!cn || strcmp(cn, container))
					continue;
				node *rk = map_key(c, "resources");
				*line = *end_line = (rk ? rk->line : c->line) + 1;
				*what = rk ? "resources" : "container";
				/* the block ends on the line of its last byte */
				size_t e = rk ? content_end(map_get(c, "resources")) : 0;
				for (size_t b = rk ? rk->start : 0; rk && b + 1 < e && b < n; b++)
					if (text[b] == '\n')
						(*end_line)++;
			}
		}
		if (!*what)
			s = kp_fail(err, KP_ERR_INPUT, "%s:%zu: %s has no container %s", path, root->line + 1,
				    kind ? kind : "the object", container);
	} else {
		node *nk = map_key(map_get(root, "metadata"), "name");
		*line = *end_line = (nk ? nk->line : root->line) + 1;
		*what = nk ? "name" : "document";
	}
	tree_free(&t);
	return s;
}

/* ---- one scalar at a JSON Pointer ---- */

/* the next segment of a JSON Pointer, unescaped (~1 is /, ~0 is ~) */
static char *pointer_segment(const char **pp)
{
	const char *p = *pp;
	if (*p != '/')
		return NULL;
	p++;
	kp_buf b;
	kp_buf_init(&b);
	for (; *p && *p != '/'; p++) {
		if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
			kp_buf_putc(&b, p[1] == '0' ? '~' : '/');
			p++;
		} else {
			kp_buf_putc(&b, *p);
		}
	}
	*pp = p;
	char *r = kp_buf_detach(&b);
	return r ? r : kp_xstrdup("");
}

static bool same_value(const char *a, const char *b)
{
	if (!strcmp(a, b))
		return true;
	char *ea = NULL, *eb = NULL;
	double x = strtod(a, &ea), y = strtod(b, &eb);
	return ea != a && eb != b && !*ea && !*eb && x == y;
}

static node *at_pointer(node *root, const char *pointer, bool *shared, const char **why)
{
	node *x = root;
	*shared = false;
	*why = NULL;
	const char *p = pointer;
	while (x && *p) {
		char *seg = pointer_segment(&p);
		if (!seg) {
			*why = "not a JSON Pointer";
			return NULL;
		}
		if (x->anchored || x->type == N_ALIAS)
			*shared = true;
		if (x->type == N_MAP) {
			if (map_key(x, "<<"))
				*shared = true;
			x = map_get(x, seg);
		} else if (x->type == N_SEQ) {
			char *e = NULL;
			long i = strtol(seg, &e, 10);
			x = (e != seg && !*e && i >= 0 && (size_t)i < x->nkids) ? x->kids[i] : NULL;
		} else {
			x = NULL;
		}
		free(seg);
	}
	if (x && (x->anchored || x->type == N_ALIAS))
		*shared = true;
	if (!x)
		*why = "no such path in the document";
	return x;
}

kp_status kp_yaml_edit_scalar(const char *path, const char *text, size_t n, int doc, const char *pointer,
			      const char *expect, const char *value, char **out, size_t *outn, kp_error *err)
{
	*out = NULL;
	*outn = 0;
	ytree t;
	kp_status s = open_doc(path, text, n, doc, false, &t, err);
	if (s)
		return s;
	bool shared = false;
	const char *why = NULL;
	node *v = at_pointer(t.docs[doc], pointer, &shared, &why);
	if (!v)
		s = kp_fail(err, KP_ERR_INPUT, "%s: %s: %s", path, pointer, why);
	else if (shared)
		s = kp_fail(err, KP_ERR_INPUT,
			    "%s:%zu: %s: an anchor, alias or merge key on the path (the change would reach other places): "
			    "not edited",
			    path, v->line + 1, pointer);
	else if (v->type != N_SCALAR)
		s = kp_fail(err, KP_ERR_INPUT, "%s:%zu: %s: not a single value: not edited", path, v->line + 1, pointer);
	else if (!same_value(v->value, expect))
		s = kp_fail(err, KP_ERR_INPUT, "%s:%zu: %s is %s in the manifest, %s in the cluster: not edited", path,
			    v->line + 1, pointer, v->value, expect);
	if (!s) {
		kp_buf b;
		kp_buf_init(&b);
		kp_buf_add(&b, text, v->start);
		char *q = quoted(value, v->style);
		kp_buf_puts(&b, q);
		free(q);
		kp_buf_add(&b, text + v->end, n - v->end);
		*outn = b.len;
		*out = kp_buf_detach(&b);
		/* read back: only that value changed */
		ytree t2;
		s = parse_tree(path, *out, *outn, &t2, err);
		if (!s) {
			bool sh2 = false;
			const char *w2 = NULL;
			node *v2 = doc < (int)t2.ndocs ? at_pointer(t2.docs[doc], pointer, &sh2, &w2) : NULL;
			kp_buf a, c;
			kp_buf_init(&a), kp_buf_init(&c);
			if (v2 && v2->type == N_SCALAR && same_value(v2->value, value)) {
				char *keep = v2->value;
				v2->value = v->value; /* compare everything else */
				flatten_all(&t, NULL, &a, NULL);
				flatten_all(&t2, NULL, &c, NULL);
				v2->value = keep;
			}
			if (!v2 || !a.len || a.len != c.len || memcmp(kp_buf_cstr(&a), kp_buf_cstr(&c), a.len))
				s = kp_fail(err, KP_ERR_INPUT, "%s: the edit of %s does not read back as intended: not edited",
					    path, pointer);
			kp_buf_release(&a), kp_buf_release(&c);
			tree_free(&t2);
		}
		if (s) {
			free(*out);
			*out = NULL;
			*outn = 0;
		}
	}
	tree_free(&t);
	return s;
}

/* ---- a new patch file for a kustomize overlay ---- */

kp_status kp_yaml_resources_patch(const char *base_path, const char *base_text, size_t n, int doc,
				  const kp_yaml_resources *want, const char *comment, char **out, size_t *outn,
				  kp_error *err)
{
	*out = NULL;
	*outn = 0;
	if (want->cpu_request == KP_YAML_REMOVE || want->cpu_limit == KP_YAML_REMOVE ||
	    want->mem_request == KP_YAML_REMOVE || want->mem_limit == KP_YAML_REMOVE)
		return kp_fail(err, KP_ERR_INPUT,
			       "%s: a limit to remove, and the base is shared: an overlay patch cannot remove it "
			       "safely: not edited",
			       base_path);
	ytree t;
	kp_status s = open_doc(base_path, base_text, n, doc, true, &t, err);
	if (s)
		return s;
	node *root = t.docs[doc], *c = NULL;
	const char *kind = str_at(root, "kind", NULL), *api = str_at(root, "apiVersion", NULL);
	const char *name = str_at(root, "metadata", "name");
	s = find_container(base_path, root, kind ? kind : "", want->container, &c, err);
	if (!s && (!api || !name))
		s = kp_fail(err, KP_ERR_INPUT, "%s:%zu: no apiVersion or metadata.name", base_path, root->line + 1);
	bool init = false;
	node *ps = s ? NULL : pod_spec(root, kind);
	node *ics = map_get(ps, "initContainers");
	for (size_t i = 0; ics && ics->type == N_SEQ && i < ics->nkids; i++)
		if (ics->kids[i] == c)
			init = true;
	if (s) {
		tree_free(&t);
		return s;
	}
	char kind_buf[64]; /* kind, api and name are the tree's, freed before the read-back */
	snprintf(kind_buf, sizeof(kind_buf), "%s", kind);
	const char *eol = contains(base_text, n, "\r\n", 2) ? "\r\n" : "\n";
	kp_buf b;
	kp_buf_init(&b);
	for (const char *l = comment; l && *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		kp_buf_printf(&b, "# %.*s%s", (int)len, l, eol);
		l += len + (e ? 1 : 0);
	}
	kp_buf_printf(&b, "apiVersion: %s%skind: %s%smetadata:%s  name: %s%sspec:%s", api, eol, kind, eol, eol, name, eol,
		      eol);
	int depth = 0; /* how many levels below spec: the pod spec is */
	if (!strcmp(kind, "CronJob")) {
		kp_buf_printf(&b, "  jobTemplate:%s    spec:%s      template:%s        spec:%s", eol, eol, eol, eol);
		depth = 4;
	} else if (strcmp(kind, "Pod")) {
		kp_buf_printf(&b, "  template:%s    spec:%s", eol, eol);
		depth = 2;
	}
	size_t ind = (size_t)(depth + 1) * 2; /* the pod spec's keys */
	spaces(&b, ind);
	kp_buf_printf(&b, "%s:%s", init ? "initContainers" : "containers", eol);
	spaces(&b, ind);
	kp_buf_printf(&b, "- name: %s%s", want->container, eol);
	spaces(&b, ind + 2);
	kp_buf_printf(&b, "resources:%s", eol);
	field fs[4] = {{"requests", "cpu", want->cpu_request, true},
		       {"requests", "memory", want->mem_request, false},
		       {"limits", "cpu", want->cpu_limit, true},
		       {"limits", "memory", want->mem_limit, false}};
	int set = 0;
	for (int pass = 0; pass < 2; pass++) {
		bool head = false;
		for (int i = pass * 2; i < pass * 2 + 2; i++) {
			if (fs[i].want == KP_YAML_KEEP)
				continue;
			if (!head) {
				spaces(&b, ind + 4);
				kp_buf_printf(&b, "%s:%s", fs[i].sub, eol);
				head = true;
			}
			char val[64];
			fmt_value(&fs[i], NULL, val, sizeof(val));
			spaces(&b, ind + 6);
			kp_buf_printf(&b, "%s: %s%s", fs[i].key, val, eol);
			set++;
		}
	}
	tree_free(&t);
	if (!set) {
		kp_buf_release(&b);
		return kp_fail(err, KP_ERR_INPUT, "%s: nothing to change", base_path);
	}
	/* read back: the container, with the intended values */
	ytree t2;
	*outn = b.len;
	*out = kp_buf_detach(&b);
	s = parse_tree(base_path, *out, *outn, &t2, err);
	bool parsed = !s;
	node *c2 = NULL;
	if (!s)
		s = t2.ndocs == 1 ? find_container(base_path, t2.docs[0], kind_buf, want->container, &c2, err)
				  : kp_fail(err, KP_ERR_INTERNAL, "%s: the new patch is not one document", base_path);
	for (int i = 0; !s && i < 4; i++) {
		const char *v = str_at(map_get(map_get(c2, "resources"), fs[i].sub), fs[i].key, NULL);
		if (fs[i].want != KP_YAML_KEEP && (!v || !quantity_equal(v, fs[i].want, fs[i].cpu)))
			s = kp_fail(err, KP_ERR_INTERNAL, "%s: the new patch does not read back", base_path);
	}
	if (parsed)
		tree_free(&t2);
	if (s) {
		free(*out);
		*out = NULL;
		*outn = 0;
	}
	return s;
}

kp_status kp_yaml_kustomization_add_patch(const char *path, const char *text, size_t n, const char *file, char **out,
					  size_t *outn, kp_error *err)
{
	*out = NULL;
	*outn = 0;
	ytree t;
	kp_status s = open_doc(path, text, n, 0, true, &t, err);
	if (s)
		return s;
	node *root = t.docs[0];
	const char *eol = contains(text, n, "\r\n", 2) ? "\r\n" : "\n";
	node *pk = map_key(root, "patches"), *pv = map_get(root, "patches");
	kp_buf b;
	kp_buf_init(&b);
	if (pv && (pv->type != N_SEQ || pv->flow || !pv->nkids || pv->anchored)) {
		s = kp_fail(err, KP_ERR_INPUT, "%s:%zu: patches is not a block list: a patch cannot be added without "
					       "rewriting it: not edited",
			    path, pk->line + 1);
	} else if (pv) {
		/* after the last entry, at the column of its dash */
		size_t at = next_line(text, n, content_end(pv));
		kp_buf_add(&b, text, at);
		if (at == n && n && text[n - 1] != '\n')
			kp_buf_puts(&b, eol);
		spaces(&b, pv->col);
		kp_buf_printf(&b, "- path: %s%s", file, eol);
		kp_buf_add(&b, text + at, n - at);
	} else {
		/* a new key at the end; its list indented as resources' is */
		node *rv = map_get(root, "resources");
		size_t col = rv && rv->type == N_SEQ && !rv->flow ? rv->col : root->col;
		kp_buf_add(&b, text, n);
		if (n && text[n - 1] != '\n')
			kp_buf_puts(&b, eol);
		spaces(&b, root->col);
		kp_buf_printf(&b, "patches:%s", eol);
		spaces(&b, col);
		kp_buf_printf(&b, "- path: %s%s", file, eol);
	}
	tree_free(&t);
	if (s) {
		kp_buf_release(&b);
		return s;
	}
	*outn = b.len;
	*out = kp_buf_detach(&b);
	/* read back: the same kustomization, one patch more, and it is ours */
	kp_yaml_kustomization k0, k1;
	kp_error e = {0};
	bool ok = kp_yaml_kustomization_read(path, text, n, &k0, &e) == KP_OK;
	if (ok && kp_yaml_kustomization_read(path, *out, *outn, &k1, &e) == KP_OK) {
		ok = k1.npatches == k0.npatches + 1 && k1.nresources == k0.nresources &&
		     k1.patches[k1.npatches - 1].path && !strcmp(k1.patches[k1.npatches - 1].path, file) &&
		     (k0.ns ? k1.ns && !strcmp(k0.ns, k1.ns) : !k1.ns);
		kp_yaml_kustomization_free(&k1);
	} else {
		ok = false;
	}
	kp_yaml_kustomization_free(&k0); /* zeroed when it could not be read */
	if (!ok) {
		free(*out);
		*out = NULL;
		*outn = 0;
		return kp_fail(err, KP_ERR_INPUT, "%s: adding the patch does not read back as intended: not edited", path);
	}
	return KP_OK;
}
