/*
 * redact.c - see redact.h. The tokens come from pipeline/jscan.c with their
 * byte offsets; the input is written out as it is, except that the bytes of
 * a value to redact are replaced. A chunk's bytes are written when it has
 * been scanned, except where a value to redact may begin: from there on
 * they are held back until its end is seen (and then dropped), so only the
 * current chunk is ever needed.
 */
#include "stages/collect/redact.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/jscan.h"

/* Far deeper than any list the loader (json-c, 32 levels an item) reads. */
#define REDACT_MAX_DEPTH 1024

/* What an open container is. */
enum { R_OTHER, R_ROOT, R_ITEMS, R_ITEM, R_ENV, R_ENV_ELEM, R_ANNOTATIONS };
/* What the next value is, as its member name or its array says. */
enum { N_OTHER, N_ITEMS, N_ENV, N_ANNOTATIONS, N_REDACT };

struct kp_redactor {
	kp_jscan *scan;
	unsigned char roles[REDACT_MAX_DEPTH + 1]; /* [depth] of each open container */
	unsigned char next;
	int skip_depth;      /* > 0: inside a container being redacted, opened at this depth */
	uint64_t skip_start; /* where it began */
	uint64_t written;    /* input bytes before this offset are dealt with */
	const char *chunk;   /* the chunk being scanned, starting at offset base */
	uint64_t base;
	kp_buf *out;
	size_t count;
	kp_redact_plan *plan; /* a recorder (kp_redactor_new_recorder): spans go here, nothing is written */
};

#define KEY_IS(t, lit) (len == sizeof(lit) - 1 && memcmp((t)->text, lit, sizeof(lit) - 1) == 0)

static unsigned char classify_key(unsigned char parent, const kp_jscan_token *t)
{
	if (t->truncated)
		return N_OTHER;
	/* A name with an escaped NUL ("value\u0000x") is cut there by
	 * readers that keep names as C strings (json-c): so is it here. */
	size_t len = t->len;
	const char *nul = memchr(t->text, '\0', len);
	if (nul)
		len = (size_t)(nul - t->text);
	switch (len) {
	case 3: return KEY_IS(t, "env") ? N_ENV : N_OTHER;
	case 4: return parent == R_ITEM && KEY_IS(t, "data") ? N_REDACT : N_OTHER;
	case 5:
		if (parent == R_ROOT && KEY_IS(t, "items"))
			return N_ITEMS;
		return parent == R_ENV_ELEM && KEY_IS(t, "value") ? N_REDACT : N_OTHER;
	case 10:
		return parent == R_ITEM && (KEY_IS(t, "stringData") || KEY_IS(t, "binaryData")) ? N_REDACT : N_OTHER;
	case 11: return KEY_IS(t, "annotations") ? N_ANNOTATIONS : N_OTHER;
	default:
		return parent == R_ANNOTATIONS && KEY_IS(t, "kubectl.kubernetes.io/last-applied-configuration")
			       ? N_REDACT
			       : N_OTHER;
	}
}

/* Writes the input from r->written up to offset to (all in this chunk). */
static kp_status write_to(kp_redactor *r, uint64_t to, kp_error *err)
{
	if (to <= r->written)
		return KP_OK;
	if (r->written < r->base || !r->chunk)
		return kp_fail(err, KP_ERR_INTERNAL, "redact: bytes to copy were already dropped");
	kp_buf_add(r->out, r->chunk + (r->written - r->base), (size_t)(to - r->written));
	r->written = to;
	return KP_OK;
}

static kp_status replace(kp_redactor *r, uint64_t start, uint64_t end, kp_error *err)
{
	if (r->plan) {
		kp_redact_plan *p = r->plan;
		if (p->len == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 256;
			p->spans = kp_xrealloc(p->spans, p->cap * sizeof(*p->spans));
		}
		p->spans[p->len++] = (kp_redact_span){start, end};
		r->count++;
		return KP_OK;
	}
	kp_status st = write_to(r, start, err);
	if (st)
		return st;
	kp_buf_add(r->out, KP_REDACTED, strlen(KP_REDACTED));
	r->written = end;
	r->count++;
	return KP_OK;
}

kp_status kp_redactor_token(void *ud, const kp_jscan_token *t, kp_error *err)
{
	kp_redactor *r = ud;
	if (r->skip_depth) {
		if ((t->type == KP_JS_OBJECT_END || t->type == KP_JS_ARRAY_END) && t->depth == r->skip_depth) {
			r->skip_depth = 0;
			return replace(r, r->skip_start, t->end, err);
		}
		return KP_OK;
	}
	if (t->type == KP_JS_OBJECT_END || t->type == KP_JS_ARRAY_END)
		return KP_OK;
	if (t->type == KP_JS_KEY) {
		r->next = classify_key(r->roles[t->depth], t);
		return KP_OK;
	}
	/* a value: a member's (r->next says what) or an array element's */
	bool begin = t->type == KP_JS_OBJECT_BEGIN || t->type == KP_JS_ARRAY_BEGIN;
	int parent = begin ? t->depth - 1 : t->depth;
	unsigned char next = r->next;
	r->next = N_OTHER;
	if (next == N_REDACT) {
		if (!begin)
			return replace(r, t->start, t->end, err);
		r->skip_depth = t->depth;
		r->skip_start = t->start;
		return KP_OK;
	}
	if (!begin)
		return KP_OK;
	bool obj = t->type == KP_JS_OBJECT_BEGIN;
	unsigned char role = R_OTHER;
	if (parent == 0)
		role = obj ? R_ROOT : R_OTHER;
	else if (r->roles[parent] == R_ITEMS)
		role = obj ? R_ITEM : R_OTHER;
	else if (r->roles[parent] == R_ENV)
		role = obj ? R_ENV_ELEM : R_OTHER;
	else if (next == N_ITEMS && !obj)
		role = R_ITEMS;
	else if (next == N_ENV && !obj)
		role = R_ENV;
	else if (next == N_ANNOTATIONS && obj)
		role = R_ANNOTATIONS;
	r->roles[t->depth] = role;
	return KP_OK;
}

kp_redactor *kp_redactor_new(const char *name)
{
	kp_redactor *r = kp_xcalloc(1, sizeof(*r));
	kp_jscan_opts o = {.max_depth = REDACT_MAX_DEPTH, .max_text = 64};
	r->scan = kp_jscan_new(name, &o, kp_redactor_token, r);
	return r;
}

kp_redactor *kp_redactor_new_recorder(kp_redact_plan *plan)
{
	kp_redactor *r = kp_xcalloc(1, sizeof(*r));
	r->plan = plan;
	return r;
}

void kp_redactor_free(kp_redactor *r)
{
	if (!r)
		return;
	kp_jscan_free(r->scan);
	free(r);
}

size_t kp_redactor_count(const kp_redactor *r) { return r->count; }

kp_status kp_redactor_feed(kp_redactor *r, const char *data, size_t n, kp_buf *out, kp_error *err)
{
	r->chunk = data;
	r->base = kp_jscan_offset(r->scan);
	r->out = out;
	kp_status st = kp_jscan_feed(r->scan, data, n, err);
	if (st)
		return st;
	/* hold back what may be (the start of) a value to redact */
	uint64_t hold = r->base + n;
	if (r->skip_depth)
		hold = r->skip_start;
	else if (r->next == N_REDACT)
		hold = kp_jscan_pending_start(r->scan);
	st = write_to(r, hold, err);
	r->chunk = NULL;
	return st;
}

kp_status kp_redactor_finish(kp_redactor *r, kp_buf *out, kp_error *err)
{
	r->chunk = NULL;
	r->base = kp_jscan_offset(r->scan);
	r->out = out;
	kp_status st = kp_jscan_finish(r->scan, err);
	if (!st && r->written != r->base)
		st = kp_fail(err, KP_ERR_INTERNAL, "redact: %llu bytes were not written",
			     (unsigned long long)(r->base - r->written));
	return st;
}

static kp_status copy_filter(void *ud, const char *data, size_t n, kp_buf *out, kp_error *err)
{
	return data ? kp_redactor_feed(ud, data, n, out, err) : kp_redactor_finish(ud, out, err);
}

kp_status kp_redact_copy(const char *src, const char *dst, size_t *count, kp_error *err)
{
	kp_redactor *r = kp_redactor_new(src);
	kp_status st = kp_copy_file_filtered(src, dst, copy_filter, r, err);
	if (count)
		*count = r->count;
	kp_redactor_free(r);
	return st;
}

kp_status kp_redact_buffer(const char *name, const char *in, size_t n, kp_buf *out, size_t *count, kp_error *err)
{
	kp_redactor *r = kp_redactor_new(name);
	kp_status st = kp_redactor_feed(r, in, n, out, err);
	if (!st)
		st = kp_redactor_finish(r, out, err);
	if (count)
		*count = r->count;
	kp_redactor_free(r);
	return st;
}

void kp_redact_plan_release(kp_redact_plan *p)
{
	free(p->spans);
	memset(p, 0, sizeof(*p));
}

/* ---- the copy from a plan: no scan, the spans replaced ---- */

typedef struct {
	const kp_redact_plan *plan;
	size_t next;  /* the next span */
	uint64_t off; /* offset of the chunk's first byte */
} replay_t;

static kp_status replay_filter(void *ud, const char *data, size_t n, kp_buf *out, kp_error *err)
{
	replay_t *x = ud;
	const kp_redact_plan *p = x->plan;
	if (!data)
		return x->next == p->len && x->off == p->size
			       ? KP_OK
			       : kp_fail(err, KP_ERR_INTERNAL, "redact: the file changed since it was read");
	uint64_t base = x->off, end = base + n, pos = base;
	while (pos < end) {
		if (x->next == p->len || p->spans[x->next].start >= end) {
			kp_buf_add(out, data + (pos - base), (size_t)(end - pos));
			break;
		}
		const kp_redact_span *sp = &p->spans[x->next];
		if (pos < sp->start) {
			kp_buf_add(out, data + (pos - base), (size_t)(sp->start - pos));
			pos = sp->start;
		}
		if (pos == sp->start)
			kp_buf_add(out, KP_REDACTED, strlen(KP_REDACTED));
		pos = sp->end < end ? sp->end : end;
		if (pos == sp->end)
			x->next++;
	}
	x->off = end;
	return KP_OK;
}

bool kp_redact_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

kp_status kp_redact_copy_planned(const kp_redact_plan *plan, const char *src, const char *dst, size_t *count,
				 kp_error *err)
{
	struct stat before, after;
	if (!plan || !plan->valid || stat(src, &before) != 0 || !kp_redact_same_file(&before, &plan->file))
		return kp_redact_copy(src, dst, count, err); /* not the text the plan was made from */
	replay_t x = {.plan = plan};
	kp_status st = kp_copy_file_filtered(src, dst, replay_filter, &x, err);
	if (!st && (stat(src, &after) != 0 || !kp_redact_same_file(&after, &plan->file)))
		return kp_redact_copy(src, dst, count, err); /* it changed under the copy: scan it */
	if (!st && count)
		*count = plan->len;
	return st;
}
