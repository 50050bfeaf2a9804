/*
 * selector.c - see selector.h. The lexer and grammar follow
 * k8s.io/apimachinery/pkg/labels/selector.go so a selector means here what
 * it means to kubectl: identifiers are runs of anything but blanks and the
 * symbols ! = , ( ) < >; "in" and "notin" are keywords only where an
 * operator is expected.
 */
#include "pipeline/selector.h"

#include <stdlib.h>
#include <string.h>

typedef enum {
	T_END,
	T_IDENT,
	T_NOT,       /* ! */
	T_EQ,        /* = */
	T_EQEQ,      /* == */
	T_NEQ,       /* != */
	T_GT,        /* > */
	T_LT,        /* < */
	T_OPEN,      /* ( */
	T_CLOSE,     /* ) */
	T_COMMA,     /* , */
} tok_kind;

typedef struct {
	tok_kind kind;
	const char *start;
	size_t len;
	size_t pos; /* 1-based character position, for messages */
} token;

typedef struct {
	const char *text, *p;
	token cur;
	kp_error *err;
} parser;

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static bool is_symbol(char c) { return c == '!' || c == '=' || c == ',' || c == '(' || c == ')' || c == '<' || c == '>'; }

static void next(parser *x)
{
	while (is_blank(*x->p))
		x->p++;
	token t = {T_END, x->p, 0, (size_t)(x->p - x->text) + 1};
	char c = *x->p;
	if (!c) {
		x->cur = t;
		return;
	}
	t.len = 1;
	if (c == '!' && x->p[1] == '=')
		t.kind = T_NEQ, t.len = 2;
	else if (c == '=' && x->p[1] == '=')
		t.kind = T_EQEQ, t.len = 2;
	else if (c == '!')
		t.kind = T_NOT;
	else if (c == '=')
		t.kind = T_EQ;
	else if (c == '>')
		t.kind = T_GT;
	else if (c == '<')
		t.kind = T_LT;
	else if (c == '(')
		t.kind = T_OPEN;
	else if (c == ')')
		t.kind = T_CLOSE;
	else if (c == ',')
		t.kind = T_COMMA;
	else {
		t.kind = T_IDENT;
		while (x->p[t.len] && !is_blank(x->p[t.len]) && !is_symbol(x->p[t.len]))
			t.len++;
	}
	x->p += t.len;
	x->cur = t;
}

static bool is_word(const token *t, const char *w) { return t->kind == T_IDENT && t->len == strlen(w) && !memcmp(t->start, w, t->len); }

/* What the current token is, for "got ..." in messages. */
static void describe(const token *t, char *out, size_t n)
{
	if (t->kind == T_END)
		snprintf(out, n, "the end");
	else
		snprintf(out, n, "\"%.*s\"", (int)(t->len > 40 ? 40 : t->len), t->start);
}

static kp_status expected(parser *x, const char *what)
{
	char got[64];
	describe(&x->cur, got, sizeof(got));
	return kp_fail(x->err, KP_ERR_USAGE, "position %zu: expected %s, got %s", x->cur.pos, what, got);
}

static char *tok_dup(const token *t)
{
	char *s = kp_xmalloc(t->len + 1);
	memcpy(s, t->start, t->len);
	s[t->len] = '\0';
	return s;
}

static void add_value(kp_selector_req *r, char *v)
{
	r->values = kp_xrealloc(r->values, (r->nvalues + 1) * sizeof(*r->values));
	r->values[r->nvalues++] = v;
}

static bool integer(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s || strlen(s) > 18)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* A value at the current token (an identifier), checked as a label value;
 * empty when the requirement ends here ("k=" means k set to ""). */
static kp_status value(parser *x, kp_selector_req *r, bool may_be_empty)
{
	if (may_be_empty && (x->cur.kind == T_END || x->cur.kind == T_COMMA || x->cur.kind == T_CLOSE)) {
		add_value(r, kp_xstrdup(""));
		return KP_OK;
	}
	if (x->cur.kind != T_IDENT)
		return expected(x, "a label value");
	char *v = tok_dup(&x->cur);
	const char *problem = kp_name_problem(v, KP_NAME_LABEL_VALUE);
	if (problem) {
		kp_status s = kp_fail(x->err, KP_ERR_USAGE, "position %zu: label value \"%.63s\" %s", x->cur.pos, v, problem);
		free(v);
		return s;
	}
	add_value(r, v);
	next(x);
	return KP_OK;
}

/* "( v, v, ... )": kubectl accepts empty members ("(a,)" holds ""). */
static kp_status value_set(parser *x, kp_selector_req *r)
{
	if (x->cur.kind != T_OPEN)
		return expected(x, "\"(\" after in/notin");
	next(x);
	for (;;) {
		kp_status s = value(x, r, true);
		if (s)
			return s;
		if (x->cur.kind == T_CLOSE) {
			next(x);
			return KP_OK;
		}
		if (x->cur.kind != T_COMMA)
			return expected(x, "\",\" or \")\"");
		next(x);
	}
}

static kp_status requirement(parser *x, kp_selector_req *r)
{
	bool negated = x->cur.kind == T_NOT;
	if (negated)
		next(x);
	if (x->cur.kind != T_IDENT)
		return expected(x, negated ? "a label key after \"!\"" : "a label key");
	size_t key_pos = x->cur.pos;
	r->key = tok_dup(&x->cur);
	const char *problem = kp_name_problem(r->key, KP_NAME_LABEL_KEY);
	if (problem)
		return kp_fail(x->err, KP_ERR_USAGE, "position %zu: label key \"%.80s\" %s", key_pos, r->key, problem);
	next(x);
	if (negated || x->cur.kind == T_END || x->cur.kind == T_COMMA) {
		r->op = negated ? KP_SEL_NOT_EXISTS : KP_SEL_EXISTS;
		return KP_OK;
	}
	token op = x->cur;
	switch (op.kind) {
	case T_EQ:
	case T_EQEQ: r->op = KP_SEL_EQUALS; break;
	case T_NEQ: r->op = KP_SEL_NOT_EQUALS; break;
	case T_GT: r->op = KP_SEL_GREATER; break;
	case T_LT: r->op = KP_SEL_LESS; break;
	default:
		if (is_word(&op, "in"))
			r->op = KP_SEL_IN;
		else if (is_word(&op, "notin"))
			r->op = KP_SEL_NOT_IN;
		else
			return expected(x, "an operator (=, ==, !=, in, notin, >, <) or \",\"");
	}
	next(x);
	if (r->op == KP_SEL_IN || r->op == KP_SEL_NOT_IN)
		return value_set(x, r);
	if (r->op == KP_SEL_GREATER || r->op == KP_SEL_LESS) {
		char *v = x->cur.kind == T_IDENT ? tok_dup(&x->cur) : NULL;
		bool ok = v && integer(v);
		free(v);
		if (!ok)
			return expected(x, "an integer after \">\" or \"<\"");
		return value(x, r, false);
	}
	return value(x, r, true);
}

kp_status kp_selector_parse(const char *text, kp_selector *sel, kp_error *err)
{
	parser x = {text, text, {T_END, text, 0, 1}, err};
	next(&x);
	if (x.cur.kind == T_END)
		return expected(&x, "a label requirement such as app=web");
	for (;;) {
		sel->reqs = kp_xrealloc(sel->reqs, (sel->n + 1) * sizeof(*sel->reqs));
		kp_selector_req *r = &sel->reqs[sel->n++];
		memset(r, 0, sizeof(*r));
		kp_status s = requirement(&x, r);
		if (!s && x.cur.kind != T_END && x.cur.kind != T_COMMA)
			s = expected(&x, "\",\" or the end");
		if (s) {
			kp_selector_release(sel);
			return s;
		}
		if (x.cur.kind == T_END)
			return KP_OK;
		next(&x); /* the comma */
	}
}

void kp_selector_release(kp_selector *sel)
{
	for (size_t i = 0; i < sel->n; i++) {
		free(sel->reqs[i].key);
		for (size_t j = 0; j < sel->reqs[i].nvalues; j++)
			free(sel->reqs[i].values[j]);
		free(sel->reqs[i].values);
	}
	free(sel->reqs);
	sel->reqs = NULL;
	sel->n = 0;
}

static const char *lookup(const kp_kv *labels, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].value;
	return NULL;
}

static bool in_values(const kp_selector_req *r, const char *v)
{
	for (size_t i = 0; i < r->nvalues; i++)
		if (strcmp(r->values[i], v) == 0)
			return true;
	return false;
}

static bool holds(const kp_selector_req *r, const kp_kv *labels, size_t n)
{
	const char *v = lookup(labels, n, r->key);
	switch (r->op) {
	case KP_SEL_EQUALS:
	case KP_SEL_IN: return v && in_values(r, v);
	case KP_SEL_NOT_EQUALS:
	case KP_SEL_NOT_IN: return !v || !in_values(r, v);
	case KP_SEL_EXISTS: return v != NULL;
	case KP_SEL_NOT_EXISTS: return v == NULL;
	case KP_SEL_GREATER:
	case KP_SEL_LESS: {
		/* kubectl: the label must hold an integer too, else no match */
		if (!v || !integer(v))
			return false;
		long long have = strtoll(v, NULL, 10), want = strtoll(r->values[0], NULL, 10);
		return r->op == KP_SEL_GREATER ? have > want : have < want;
	}
	}
	return false;
}

bool kp_selector_matches(const kp_selector *sel, const kp_kv *labels, size_t nlabels)
{
	for (size_t i = 0; i < sel->n; i++)
		if (!holds(&sel->reqs[i], labels, nlabels))
			return false;
	return true;
}

void kp_selector_format(const kp_selector *sel, kp_buf *out)
{
	static const char *const ops[] = {[KP_SEL_EQUALS] = "=", [KP_SEL_NOT_EQUALS] = "!=", [KP_SEL_GREATER] = ">",
					  [KP_SEL_LESS] = "<"};
	for (size_t i = 0; i < sel->n; i++) {
		const kp_selector_req *r = &sel->reqs[i];
		if (i)
			kp_buf_putc(out, ',');
		switch (r->op) {
		case KP_SEL_EXISTS: kp_buf_puts(out, r->key); break;
		case KP_SEL_NOT_EXISTS: kp_buf_printf(out, "!%s", r->key); break;
		case KP_SEL_IN:
		case KP_SEL_NOT_IN:
			kp_buf_printf(out, "%s %s (", r->key, r->op == KP_SEL_IN ? "in" : "notin");
			for (size_t j = 0; j < r->nvalues; j++)
				kp_buf_printf(out, "%s%s", j ? "," : "", r->values[j]);
			kp_buf_putc(out, ')');
			break;
		default: kp_buf_printf(out, "%s%s%s", r->key, ops[r->op], r->values[0]); break;
		}
	}
}
