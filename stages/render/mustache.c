/*
 * mustache.c - the mustache-style template engine behind report.md (and any
 * user template given with --template / report.template).
 *
 * Owns: parsing a template into a flat token list and rendering it against a
 * json-c context. Supported subset (documented in templates/README.md):
 * {{name}}, {{{name}}}, {{& name}}, dotted names, {{.}}, {{#section}},
 * {{^inverted}}, {{/close}}, {{! comment}}. Partials and set-delimiter tags
 * are rejected with an error rather than silently ignored, so a template
 * written for a fuller mustache does not render half-empty without notice.
 *
 * Design: two passes, no recursion. parse() turns the template into tokens,
 * pairing every section with its close (so a skipped section costs O(1))
 * and handling "standalone" tag lines there, once. render() walks the tokens
 * with an explicit frame stack of at most KP_MUSTACHE_MAX_DEPTH entries; a
 * list section jumps back to its first token for each item. The work done is
 * linear in the size of the output plus the tokens visited.
 *
 * Both of those can still be exponential in the template's size: sections
 * over lists nest, and a name resolves up the context stack, so
 * {{#l}}{{#l}}...{{/l}}{{/l}} repeats len(l)^depth times. render() therefore
 * stops with an error after KP_MUSTACHE_MAX_STEPS tokens or
 * KP_MUSTACHE_MAX_OUTPUT bytes, far above what any report needs.
 *
 * Memory: tokens and their NUL-terminated names live in one arena freed
 * before returning; *out is a malloc'd string the caller frees. The context
 * json_object is only read (never retained or put).
 */
#include "stages/render/render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KP_MUSTACHE_MAX_DEPTH 64
#define KP_MUSTACHE_MAX_STEPS (1u << 24)          /* tokens visited while rendering */
#define KP_MUSTACHE_MAX_OUTPUT ((size_t)256 << 20) /* bytes of output */

typedef enum { TOK_TEXT, TOK_VAR, TOK_RAW, TOK_SECTION, TOK_INVERTED, TOK_END } tok_kind;

typedef struct {
	tok_kind kind;
	const char *s; /* TEXT: points into the template; others: arena name */
	size_t n;
	int line;
	size_t pair; /* SECTION/INVERTED: index of its END; END: index of its opener */
} tok;

typedef struct {
	tok *v;
	size_t n, cap;
	kp_arena names;
} tok_list;

typedef enum { MODE_HTML, MODE_MARKDOWN, MODE_JSON } esc_mode;

static void toks_push(tok_list *l, tok t)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = kp_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = t;
}

static void toks_release(tok_list *l)
{
	free(l->v);
	kp_arena_release(&l->names);
}

/* Line counting is incremental (positions only grow), keeping parse linear. */
typedef struct {
	const char *t;
	size_t pos;
	int line;
} line_counter;

static int line_at(line_counter *lc, size_t pos)
{
	while (lc->pos < pos) {
		if (lc->t[lc->pos] == '\n')
			lc->line++;
		lc->pos++;
	}
	return lc->line;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* Trims spaces/tabs/newlines at both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
	while (*n && (is_blank(**s) || **s == '\n' || **s == '\r')) {
		(*s)++;
		(*n)--;
	}
	while (*n && (is_blank((*s)[*n - 1]) || (*s)[*n - 1] == '\n' || (*s)[*n - 1] == '\r'))
		(*n)--;
}

static int clip(size_t n) { return n > 80 ? 80 : (int)n; }

static kp_status parse(const char *t, const char *name, tok_list *out, kp_error *err)
{
	size_t len = strlen(t), pos = 0;
	line_counter lc = {t, 0, 1};
	size_t open[KP_MUSTACHE_MAX_DEPTH];
	int depth = 0;

	while (pos < len) {
		const char *o = strstr(t + pos, "{{");
		size_t tag = o ? (size_t)(o - t) : len;
		size_t text_tok = out->n;
		toks_push(out, (tok){TOK_TEXT, t + pos, tag - pos, 0, 0});
		if (!o)
			break;

		int line = line_at(&lc, tag);
		bool triple = t[tag + 2] == '{';
		const char *close = strstr(t + tag + (triple ? 3 : 2), triple ? "}}}" : "}}");
		if (!close)
			return kp_fail(err, KP_ERR_INPUT, "%s:%d: tag opened here is never closed (no \"%s\")", name,
				       line, triple ? "}}}" : "}}");
		size_t end = (size_t)(close - t) + (triple ? 3 : 2);
		const char *in = t + tag + (triple ? 3 : 2);
		size_t in_n = (size_t)(close - in);
		trim(&in, &in_n);

		char sigil = triple ? '{' : (in_n ? *in : '\0');
		if (!triple && sigil && strchr("#^/!&>=", sigil)) {
			in++;
			in_n--;
			trim(&in, &in_n);
		}
		if (sigil == '>')
			return kp_fail(err, KP_ERR_INPUT, "%s:%d: partials ({{>%.*s}}) are not supported", name, line,
				       clip(in_n), in);
		if (sigil == '=')
			return kp_fail(err, KP_ERR_INPUT, "%s:%d: set-delimiter tags ({{=...=}}) are not supported",
				       name, line);
		if (sigil != '!' && in_n == 0)
			return kp_fail(err, KP_ERR_INPUT, "%s:%d: empty tag", name, line);

		/* Standalone lines: a section/comment tag alone on its line (only
		 * blanks around it) disappears together with that line's
		 * indentation and newline, so a {{#rows}} line inside a Markdown
		 * table leaves no blank row behind. */
		if (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '!') {
			size_t b = tag;
			while (b > pos && is_blank(t[b - 1]))
				b--;
			size_t a = end;
			while (a < len && is_blank(t[a]))
				a++;
			bool starts = b == 0 || t[b - 1] == '\n';
			bool ends = a == len || t[a] == '\n' || (t[a] == '\r' && t[a + 1] == '\n');
			if (starts && ends) {
				out->v[text_tok].n = b - pos;
				end = a == len ? a : a + (t[a] == '\r' ? 2 : 1);
			}
		}

		const char *nm = sigil == '!' ? "" : kp_arena_strndup(&out->names, in, in_n);
		switch (sigil) {
		case '!':
			break;
		case '#':
		case '^':
			if (depth == KP_MUSTACHE_MAX_DEPTH)
				return kp_fail(err, KP_ERR_INPUT, "%s:%d: section \"%.*s\" nests deeper than %d levels",
					       name, line, clip(in_n), in, KP_MUSTACHE_MAX_DEPTH);
			open[depth++] = out->n;
			toks_push(out, (tok){sigil == '#' ? TOK_SECTION : TOK_INVERTED, nm, in_n, line, 0});
			break;
		case '/': {
			if (depth == 0)
				return kp_fail(err, KP_ERR_INPUT, "%s:%d: {{/%.*s}} closes a section that was never opened",
					       name, line, clip(in_n), in);
			tok *op = &out->v[open[depth - 1]];
			if (op->n != in_n || memcmp(op->s, nm, in_n) != 0)
				return kp_fail(err, KP_ERR_INPUT,
					       "%s:%d: {{/%.*s}} does not match section \"%.*s\" opened at line %d", name,
					       line, clip(in_n), in, clip(op->n), op->s, op->line);
			op->pair = out->n;
			toks_push(out, (tok){TOK_END, nm, in_n, line, open[--depth]});
			break;
		}
		case '{':
		case '&':
			toks_push(out, (tok){TOK_RAW, nm, in_n, line, 0});
			break;
		default:
			toks_push(out, (tok){TOK_VAR, nm, in_n, line, 0});
			break;
		}
		pos = end;
	}
	if (depth > 0) {
		tok *op = &out->v[open[depth - 1]];
		return kp_fail(err, KP_ERR_INPUT, "%s:%d: section \"%.*s\" opened here is never closed", name, op->line,
			       clip(op->n), op->s);
	}
	return KP_OK;
}

/* Mustache name resolution: the first segment is looked up from the top of
 * the context stack outward; the rest only inside what was found. A key
 * that exists with a null value counts as found (it stops the walk). */
static json_object *lookup(json_object **ctx, int nctx, const char *name)
{
	if (name[0] == '.' && name[1] == '\0')
		return ctx[nctx - 1];
	const char *dot = strchr(name, '.');
	size_t n = dot ? (size_t)(dot - name) : strlen(name);
	char key[256];
	if (n >= sizeof(key))
		return NULL;
	memcpy(key, name, n);
	key[n] = '\0';
	json_object *v = NULL;
	bool found = false;
	for (int i = nctx - 1; i >= 0 && !found; i--)
		if (json_object_is_type(ctx[i], json_type_object))
			found = json_object_object_get_ex(ctx[i], key, &v);
	if (!found)
		return NULL;
	return dot ? kp_json_get(v, dot + 1) : v;
}

static bool truthy(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return false;
	case json_type_boolean: return json_object_get_boolean(v);
	case json_type_int: return json_object_get_int64(v) != 0;
	case json_type_double: return json_object_get_double(v) != 0.0;
	case json_type_string: return json_object_get_string_len(v) > 0;
	case json_type_array: return json_object_array_length(v) > 0;
	case json_type_object: return true;
	}
	return false;
}

/* Numbers as JSON would show them to a person: integers without ".0",
 * other doubles with at most 6 decimals and no trailing zeros. */
static void fmt_double(double d, char *buf, size_t n)
{
	if (!isfinite(d)) {
		buf[0] = '\0';
		return;
	}
	if (d == trunc(d) && fabs(d) < 1e18) {
		snprintf(buf, n, "%.0f", d);
	} else {
		snprintf(buf, n, "%.6f", d);
		char *p = strchr(buf, '.');
		if (p) {
			char *e = buf + strlen(buf);
			while (e > p && (e[-1] == '0'))
				*--e = '\0';
			if (e == p + 1)
				*p = '\0';
		}
	}
	if (strcmp(buf, "-0") == 0)
		strcpy(buf, "0");
}

static void put_escaped(kp_buf *b, const char *s, size_t n, esc_mode mode)
{
	size_t run = 0; /* start of the pending run of characters needing no escape */
	for (size_t i = 0; i < n; i++) {
		const char *rep = NULL;
		char c = s[i], one[3] = {'\\', c, '\0'}, u[8];
		if (mode == MODE_JSON) {
			/* the inside of a JSON string (RFC 8259 section 7): the
			 * template writes the quotes around {{name}} */
			if (c == '"' || c == '\\') {
				rep = one;
			} else if (c == '\n') {
				rep = "\\n";
			} else if (c == '\t') {
				rep = "\\t";
			} else if (c == '\r') {
				rep = "\\r";
			} else if ((unsigned char)c < 0x20) {
				snprintf(u, sizeof(u), "\\u%04x", (unsigned)(unsigned char)c);
				rep = u;
			}
		} else if (mode == MODE_HTML) {
			switch (c) {
			case '&': rep = "&amp;"; break;
			case '<': rep = "&lt;"; break;
			case '>': rep = "&gt;"; break;
			case '"': rep = "&quot;"; break;
			case '\'': rep = "&#39;"; break;
			default: break;
			}
		} else {
			switch (c) {
			case '&': rep = "&amp;"; break;
			case '\n': rep = " "; break;
			case '\r': rep = (i + 1 < n && s[i + 1] == '\n') ? "" : " "; break;
			/* ~ is not in the required set, but with the strikethrough
			 * extension on, ~~x~~ in a name would otherwise strike text. */
			case '\\': case '`': case '*': case '_': case '[': case ']':
			case '|': case '<': case '>': case '#': case '~':
				rep = one;
				break;
			default: break;
			}
		}
		if (rep) {
			kp_buf_add(b, s + run, i - run);
			kp_buf_puts(b, rep);
			run = i + 1;
		}
	}
	kp_buf_add(b, s + run, n - run);
}

static void put_value(kp_buf *b, json_object *v, bool escape, esc_mode mode)
{
	char num[400];
	const char *s = NULL;
	size_t n = 0;
	switch (json_object_get_type(v)) {
	case json_type_null: return;
	case json_type_boolean: s = json_object_get_boolean(v) ? "true" : "false"; break;
	case json_type_int:
		snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
		s = num;
		break;
	case json_type_double:
		fmt_double(json_object_get_double(v), num, sizeof(num));
		s = num;
		break;
	case json_type_string:
		s = json_object_get_string(v);
		n = (size_t)json_object_get_string_len(v);
		break;
	case json_type_array:
	case json_type_object: s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN); break;
	}
	if (!n)
		n = strlen(s);
	if (mode == MODE_JSON) { /* JSON escapes control characters itself */
		if (escape)
			put_escaped(b, s, n, mode);
		else
			kp_buf_add(b, s, n);
		return;
	}
	/* Control characters are made visible in every value, escaped or
	 * not: a raw ESC in report.md would reach the terminal that shows it
	 * and, through cmark, report.html. Line breaks and tabs stay (the
	 * Markdown escaping turns them into spaces; unescaped values, code
	 * blocks of commands, keep them). */
	if (kp_text_is_plain(s, n, true)) {
		if (escape)
			put_escaped(b, s, n, mode);
		else
			kp_buf_add(b, s, n);
		return;
	}
	kp_buf esc;
	kp_buf_init(&esc);
	if (escape) /* Markdown mode turns line breaks into spaces first */
		put_escaped(&esc, s, n, mode);
	else
		kp_buf_add(&esc, s, n);
	kp_buf_put_visible(b, kp_buf_cstr(&esc), esc.len, true);
	kp_buf_release(&esc);
}

typedef struct {
	size_t open;       /* token index of the section */
	json_object *list; /* non-NULL while iterating an array */
	size_t idx, count;
	bool pushed; /* pushed a context entry */
} frame;

static kp_status render(const tok_list *tl, json_object *root, esc_mode mode, kp_buf *b, const char *name,
		       kp_error *err)
{
	json_object *ctx[KP_MUSTACHE_MAX_DEPTH + 1];
	frame fr[KP_MUSTACHE_MAX_DEPTH];
	int nctx = 0, nfr = 0;
	ctx[nctx++] = root;
	size_t steps = 0;

	for (size_t i = 0; i < tl->n;) {
		const tok *k = &tl->v[i];
		if (++steps > KP_MUSTACHE_MAX_STEPS || b->len > KP_MUSTACHE_MAX_OUTPUT) {
			/* Name the outermost open section: everything inside it repeats. */
			int line = nfr ? tl->v[fr[0].open].line : k->line;
			return kp_fail(err, KP_ERR_INPUT,
				       "%s:%d: rendering stopped after %s (nested sections over lists repeat "
				       "their contents once per item of every enclosing list)",
				       name, line, steps > KP_MUSTACHE_MAX_STEPS ? "too many steps" : "256 MiB of output");
		}
		switch (k->kind) {
		case TOK_TEXT:
			kp_buf_add(b, k->s, k->n);
			i++;
			break;
		case TOK_VAR:
		case TOK_RAW:
			put_value(b, lookup(ctx, nctx, k->s), k->kind == TOK_VAR, mode);
			i++;
			break;
		case TOK_SECTION: {
			json_object *v = lookup(ctx, nctx, k->s);
			if (!truthy(v)) {
				i = k->pair + 1;
				break;
			}
			frame f = {i, NULL, 0, 0, true};
			if (json_object_is_type(v, json_type_array)) {
				f.list = v;
				f.count = json_object_array_length(v);
				v = json_object_array_get_idx(v, 0);
			}
			fr[nfr++] = f;
			ctx[nctx++] = v;
			i++;
			break;
		}
		case TOK_INVERTED:
			if (truthy(lookup(ctx, nctx, k->s))) {
				i = k->pair + 1;
			} else {
				fr[nfr++] = (frame){i, NULL, 0, 0, false};
				i++;
			}
			break;
		case TOK_END: {
			frame *f = &fr[nfr - 1];
			if (f->list && f->idx + 1 < f->count) {
				f->idx++;
				ctx[nctx - 1] = json_object_array_get_idx(f->list, f->idx);
				i = f->open + 1;
			} else {
				if (f->pushed)
					nctx--;
				nfr--;
				i++;
			}
			break;
		}
		}
	}
	return KP_OK;
}

static kp_status render_mode(const char *tmpl, const char *tmpl_name, json_object *ctx, esc_mode mode, char **out,
			     kp_error *err)
{
	*out = NULL;
	if (!tmpl)
		return kp_fail(err, KP_ERR_INTERNAL, "mustache: no template");
	const char *name = tmpl_name ? tmpl_name : "template";
	tok_list tl = {0};
	kp_arena_init(&tl.names);
	kp_status st = parse(tmpl, name, &tl, err);
	if (st == KP_OK) {
		kp_buf b;
		kp_buf_init(&b);
		st = render(&tl, ctx, mode, &b, name, err);
		if (st == KP_OK)
			*out = kp_buf_detach(&b);
		kp_buf_release(&b);
	}
	toks_release(&tl);
	return st;
}

kp_status kp_mustache_render(const char *tmpl, const char *tmpl_name, json_object *ctx, char **out, kp_error *err)
{
	return render_mode(tmpl, tmpl_name, ctx, MODE_HTML, out, err);
}

kp_status kp_mustache_render_markdown(const char *tmpl, const char *tmpl_name, json_object *ctx, char **out,
				      kp_error *err)
{
	return render_mode(tmpl, tmpl_name, ctx, MODE_MARKDOWN, out, err);
}

kp_status kp_mustache_render_json(const char *tmpl, const char *tmpl_name, json_object *ctx, char **out, kp_error *err)
{
	return render_mode(tmpl, tmpl_name, ctx, MODE_JSON, out, err);
}
