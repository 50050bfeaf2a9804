/*
 * redact.c - see redact.h. The tokens come from pipeline/jscan.c with their
 * byte offsets; the input is written out as it is, except that the bytes of
 * a value to redact are replaced. A chunk's bytes are written when it has
 * been scanned, except where a value to redact may begin: from there on
 * they are held back until its end is seen (and then dropped), so only the
 * current chunk is ever needed.
 */
#include "stages/collect/redact.h"
#include "stages/collect/runtime.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/jscan.h"

/* Far deeper than any list the loader (json-c, 32 levels an item) reads. */
#define REDACT_MAX_DEPTH 1024

/* What an open container is. */
enum { R_OTHER, R_ROOT, R_ITEMS, R_ITEM, R_ENV, R_ENV_ELEM, R_ANNOTATIONS, R_METADATA };
/* What the next value is, as its member name or its array says. */
enum { N_OTHER, N_ITEMS, N_ENV, N_ANNOTATIONS, N_REDACT, N_METADATA, N_DROP, N_ENV_NAME, N_TEMPLATE };

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
	/* A page copier (kp_redactor_new_page): only the elements of the
	 * top-level "items" are written, each item's metadata.managedFields
	 * member is left out, and apiVersion and kind are added to items
	 * that lack them (an API server's list items carry neither). */
	bool page;
	const char *api_version, *kind; /* what to add */
	size_t *items_out;  /* items written so far (the caller's, across pages): separators */
	bool copying;       /* page: inside an item, its bytes are written */
	bool saw_api, saw_kind;
	int drop_depth;       /* > 0: inside a container being left out, opened at this depth */
	bool drop_pending;    /* a member to leave out: its value is next */
	bool drop_first;      /* it was its object's first member: the comma after it goes too */
	int eat_comma_depth;  /* the object whose next member's leading comma goes */
	uint64_t eat_from;    /* ... from this input offset (the end of the member left out) */
	size_t eat_out;       /* ... which is at this length of out */
	uint64_t drop_start;
	uint64_t last_end[REDACT_MAX_DEPTH + 1]; /* [depth]: end of the last value (or of '{') in that object */
	uint32_t members[REDACT_MAX_DEPTH + 1];  /* [depth]: members seen in that object */
	/* the env element being read: its name, when it came before its value
	 * and is a variable a language runtime reads its memory settings
	 * from (stages/collect/runtime.h); those settings are kept */
	char env_name[64];
	size_t env_name_len;
	int template_depth; /* > 0: inside a pod template (what the loader reads env of), opened there */
};

#define KEY_IS(t, lit) (len == sizeof(lit) - 1 && memcmp((t)->text, lit, sizeof(lit) - 1) == 0)

static unsigned char classify_key(unsigned char parent, const kp_jscan_token *t)
{
	if (t->truncated)
		return N_OTHER;
	/* A name with an escaped NUL ("value\u0000x") is cut there by
	 * readers that keep names as C strings (json-c): so is it here. */
	size_t len = t->len;
	const char *nul = t->nul ? memchr(t->text, '\0', len) : NULL;
	if (nul)
		len = (size_t)(nul - t->text);
	switch (len) {
	case 3: return KEY_IS(t, "env") ? N_ENV : N_OTHER;
	case 4:
		if (parent == R_ENV_ELEM && KEY_IS(t, "name"))
			return N_ENV_NAME;
		return parent == R_ITEM && KEY_IS(t, "data") ? N_REDACT : N_OTHER;
	case 5:
		if (parent == R_ROOT && KEY_IS(t, "items"))
			return N_ITEMS;
		return parent == R_ENV_ELEM && KEY_IS(t, "value") ? N_REDACT : N_OTHER;
	case 8:
		if (KEY_IS(t, "template"))
			return N_TEMPLATE;
		return parent == R_ITEM && KEY_IS(t, "metadata") ? N_METADATA : N_OTHER;
	case 10:
		return parent == R_ITEM && (KEY_IS(t, "stringData") || KEY_IS(t, "binaryData")) ? N_REDACT : N_OTHER;
	case 11: return KEY_IS(t, "annotations") ? N_ANNOTATIONS : N_OTHER;
	case 13: return parent == R_METADATA && KEY_IS(t, "managedFields") ? N_DROP : N_OTHER;
	default:
		return parent == R_ANNOTATIONS && KEY_IS(t, "kubectl.kubernetes.io/last-applied-configuration")
			       ? N_REDACT
			       : N_OTHER;
	}
}

/* Writes the input from r->written up to offset to (all in this chunk);
 * a page copier outside an item drops it instead. */
static kp_status write_to(kp_redactor *r, uint64_t to, kp_error *err)
{
	if (to <= r->written)
		return KP_OK;
	if (r->page && !r->copying) {
		r->written = to;
		return KP_OK;
	}
	if (r->written < r->base || !r->chunk)
		return kp_fail(err, KP_ERR_INTERNAL, "redact: bytes to copy were already dropped");
	kp_buf_add(r->out, r->chunk + (r->written - r->base), (size_t)(to - r->written));
	r->written = to;
	return KP_OK;
}

/* [start, end) becomes "<redacted>", or keep (a JSON string, NULL: none) */
static kp_status replace_with(kp_redactor *r, uint64_t start, uint64_t end, const char *keep, kp_error *err)
{
	if (r->plan) {
		kp_redact_plan *p = r->plan;
		if (p->len == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 256;
			p->spans = kp_xrealloc(p->spans, p->cap * sizeof(*p->spans));
		}
		p->spans[p->len++] = (kp_redact_span){start, end, keep ? kp_xstrdup(keep) : NULL};
		r->count++;
		return KP_OK;
	}
	kp_status st = write_to(r, start, err);
	if (st)
		return st;
	kp_buf_puts(r->out, keep ? keep : KP_REDACTED);
	r->written = end;
	r->count++;
	return KP_OK;
}

static kp_status replace(kp_redactor *r, uint64_t start, uint64_t end, kp_error *err)
{
	return replace_with(r, start, end, NULL, err);
}

/* The member left out of the object at depth d ended at end: nothing of
 * it is written; when it was the object's first, the comma after it goes
 * too, once the next member's key shows where it ends (uncomma). */
static void dropped(kp_redactor *r, int d, uint64_t end)
{
	r->written = end;
	r->last_end[d] = end;
	if (r->drop_first) {
		r->eat_comma_depth = d;
		r->eat_from = end;
		r->eat_out = r->out->len;
	}
}

/* The bytes from the end of a first member left out to the next key
 * (key_start): a comma and blanks. Either not written yet (skipped), or
 * written with the chunk they came in (cut out of out: only the blank,
 * the comma and the key's start follow them there). */
static void uncomma(kp_redactor *r, uint64_t key_start)
{
	uint64_t upto = r->written < key_start ? r->written : key_start;
	size_t gone = (size_t)(upto - r->eat_from); /* of the gap, what went out already */
	if (gone) {
		memmove(r->out->data + r->eat_out, r->out->data + r->eat_out + gone, r->out->len - r->eat_out - gone);
		r->out->len -= gone;
		r->out->data[r->out->len] = '\0';
	}
	if (r->written < key_start)
		r->written = key_start; /* the rest of it is never written */
}

/* A page copier's bookkeeping, before the redactor's own: where values
 * end, items begin and end, members left out. KP_OK and *done when the
 * token is dealt with. */
static kp_status page_token(kp_redactor *r, const kp_jscan_token *t, bool *done, kp_error *err)
{
	*done = false;
	int d = t->depth;
	if (r->drop_depth) { /* inside what is left out */
		*done = true;
		if ((t->type == KP_JS_OBJECT_END || t->type == KP_JS_ARRAY_END) && d == r->drop_depth) {
			r->drop_depth = 0;
			dropped(r, d - 1, t->end);
		}
		return KP_OK;
	}
	bool end = t->type == KP_JS_OBJECT_END || t->type == KP_JS_ARRAY_END;
	bool begin = t->type == KP_JS_OBJECT_BEGIN || t->type == KP_JS_ARRAY_BEGIN;
	if (t->type == KP_JS_KEY) {
		if (r->eat_comma_depth == d) { /* the member before was left out, and was first */
			r->eat_comma_depth = 0;
			uncomma(r, t->start);
		}
		unsigned char role = r->roles[d];
		if (role == R_ITEM && t->len == 4 && memcmp(t->text, "kind", 4) == 0)
			r->saw_kind = true;
		if (role == R_ITEM && t->len == 10 && memcmp(t->text, "apiVersion", 10) == 0)
			r->saw_api = true;
		if (role == R_METADATA && t->len == 13 && memcmp(t->text, "managedFields", 13) == 0 && !t->truncated) {
			r->drop_first = r->members[d] == 0;
			r->drop_start = r->drop_first ? t->start : r->last_end[d];
			if (r->written > r->drop_start) {
				/* the comma and the start of the key went out with the
				 * last chunk (nothing but them lies between): taken back */
				size_t back = (size_t)(r->written - r->drop_start);
				r->out->len = back <= r->out->len ? r->out->len - back : 0;
				if (r->out->data)
					r->out->data[r->out->len] = '\0';
				r->written = r->drop_start;
			}
			kp_status st = write_to(r, r->drop_start, err);
			if (st)
				return st;
			r->drop_pending = true;
			r->members[d]++;
			*done = true;
			return KP_OK;
		}
		r->members[d]++;
		return KP_OK; /* the redactor classifies it too */
	}
	if (r->drop_pending) { /* the value of the member left out */
		r->drop_pending = false;
		*done = true;
		if (begin) {
			r->drop_depth = d;
			return KP_OK;
		}
		dropped(r, d, t->end);
		return KP_OK;
	}
	if (end && r->eat_comma_depth == d) /* the member left out was the only one: no comma follows */
		r->eat_comma_depth = 0;
	/* an item begins: what came before it is dropped, a separator goes out */
	int parent = begin ? d - 1 : d;
	bool item = parent > 0 && r->roles[parent] == R_ITEMS && !end;
	if (item) {
		r->written = t->start;
		if ((*r->items_out)++)
			kp_buf_add(r->out, ",\n", 2);
		r->copying = true;
		r->saw_api = r->saw_kind = false;
	}
	if (begin) {
		r->members[d] = 0;
		r->last_end[d] = t->end;
	} else if (end) {
		r->last_end[d - 1] = t->end;
	} else {
		r->last_end[d] = t->end;
	}
	if (t->type == KP_JS_OBJECT_END && r->roles[d] == R_ITEM && r->copying) {
		/* the item ends: what it lacks of apiVersion and kind goes in */
		kp_status st = write_to(r, t->start, err);
		if (st)
			return st;
		bool comma = r->members[d] > 0;
		if (!r->saw_api && r->api_version) {
			kp_buf_puts(r->out, comma ? ",\"apiVersion\":\"" : "\"apiVersion\":\"");
			kp_buf_puts(r->out, r->api_version);
			kp_buf_putc(r->out, '"');
			comma = true;
		}
		if (!r->saw_kind && r->kind) {
			kp_buf_puts(r->out, comma ? ",\"kind\":\"" : "\"kind\":\"");
			kp_buf_puts(r->out, r->kind);
			kp_buf_putc(r->out, '"');
		}
		if ((st = write_to(r, t->end, err)))
			return st;
		r->copying = false;
	} else if (item && !begin) { /* an item that is not an object: as it is */
		kp_status st = write_to(r, t->end, err);
		if (st)
			return st;
		r->copying = false;
	}
	return KP_OK;
}

kp_status kp_redactor_token(void *ud, const kp_jscan_token *t, kp_error *err)
{
	kp_redactor *r = ud;
	if (r->page && !r->skip_depth) {
		bool done;
		kp_status st = page_token(r, t, &done, err);
		if (st || done)
			return st;
	}
	if (r->skip_depth) {
		if ((t->type == KP_JS_OBJECT_END || t->type == KP_JS_ARRAY_END) && t->depth == r->skip_depth) {
			r->skip_depth = 0;
			if (r->page)
				r->last_end[t->depth - 1] = t->end;
			return replace(r, r->skip_start, t->end, err);
		}
		return KP_OK;
	}
	if (t->type == KP_JS_OBJECT_END || t->type == KP_JS_ARRAY_END) {
		if (t->depth == r->template_depth)
			r->template_depth = 0;
		return KP_OK;
	}
	if (t->type == KP_JS_KEY) {
		r->next = classify_key(r->roles[t->depth], t);
		return KP_OK;
	}
	/* a value: a member's (r->next says what) or an array element's */
	bool begin = t->type == KP_JS_OBJECT_BEGIN || t->type == KP_JS_ARRAY_BEGIN;
	int parent = begin ? t->depth - 1 : t->depth;
	unsigned char next = r->next;
	r->next = N_OTHER;
	if (next == N_TEMPLATE && t->type == KP_JS_OBJECT_BEGIN && !r->template_depth)
		r->template_depth = t->depth;
	/* a workload's pod template only: the loader reads runtime settings
	 * there (a live pod's env it never reads, and may not have decoded) */
	if (next == N_ENV_NAME && r->template_depth && t->type == KP_JS_STRING && !t->truncated &&
	    t->len < sizeof(r->env_name) && kp_runtime_env_var(t->text, t->len)) {
		memcpy(r->env_name, t->text, t->len);
		r->env_name_len = t->len;
		return KP_OK;
	}
	if (next == N_REDACT && r->env_name_len && parent > 0 && r->roles[parent] == R_ENV_ELEM &&
	    t->type == KP_JS_STRING && !t->truncated) {
		/* a runtime's variable, named before its value: its memory
		 * settings stay (the copy loads with the same heap), the rest
		 * of the value goes */
		char kept[512];
		kp_runtime_env_keep(r->env_name, r->env_name_len, t->text, t->len, kept, sizeof(kept) - 32);
		r->env_name_len = 0;
		if (*kept) {
			char q[544];
			snprintf(q, sizeof(q), "\"%s <redacted>\"", kept);
			return replace_with(r, t->start, t->end, q, err);
		}
		return replace(r, t->start, t->end, err);
	}
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
	if (role == R_ENV_ELEM)
		r->env_name_len = 0; /* a new element: no name seen yet */
	else if (next == N_ITEMS && !obj)
		role = R_ITEMS;
	else if (next == N_ENV && !obj)
		role = R_ENV;
	else if (next == N_ANNOTATIONS && obj)
		role = R_ANNOTATIONS;
	else if (next == N_METADATA && obj)
		role = R_METADATA;
	r->roles[t->depth] = role;
	return KP_OK;
}

bool kp_redactor_skips(void *ud, int depth)
{
	const kp_redactor *r = ud;
	return r->skip_depth == depth || (r->page && r->drop_depth == depth);
}

kp_redactor *kp_redactor_new(const char *name)
{
	kp_redactor *r = kp_xcalloc(1, sizeof(*r));
	/* text up to 4 KB: a runtime variable's value is read (env_keep) */
	kp_jscan_opts o = {.max_depth = REDACT_MAX_DEPTH, .max_text = 4096, .text = true};
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

/* After a chunk: writes what is certain, holding back what may be (the
 * start of) a value to redact or a member to leave out. */
static kp_status flush(kp_redactor *r, uint64_t chunk_end, uint64_t pending_start, kp_error *err)
{
	uint64_t hold = chunk_end;
	if (r->skip_depth)
		hold = r->skip_start;
	else if (r->next == N_REDACT)
		hold = pending_start;
	if (r->page && (r->drop_depth || r->drop_pending))
		hold = r->written; /* what follows is left out */
	/* A key cut by the chunk's end may yet be managedFields: its start (and
	 * the comma before it) go out now and are taken back if it is. */
	return write_to(r, hold, err);
}

kp_redactor *kp_redactor_new_page(const char *api_version, const char *kind, size_t *items_out)
{
	kp_redactor *r = kp_xcalloc(1, sizeof(*r));
	r->page = true;
	r->api_version = api_version;
	r->kind = kind;
	r->items_out = items_out;
	return r;
}

void kp_redactor_page_chunk(kp_redactor *r, const char *data, uint64_t base, kp_buf *out)
{
	r->chunk = data;
	r->base = base;
	r->out = out;
}

kp_status kp_redactor_page_flush(kp_redactor *r, uint64_t chunk_end, uint64_t pending_start, kp_error *err)
{
	kp_status st = flush(r, chunk_end, pending_start, err);
	r->chunk = NULL;
	return st;
}

kp_status kp_redactor_feed(kp_redactor *r, const char *data, size_t n, kp_buf *out, kp_error *err)
{
	r->chunk = data;
	r->base = kp_jscan_offset(r->scan);
	r->out = out;
	kp_status st = kp_jscan_feed(r->scan, data, n, err);
	if (st)
		return st;
	st = flush(r, r->base + n, kp_jscan_pending_start(r->scan), err);
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
	for (size_t i = 0; i < p->len; i++)
		free(p->spans[i].keep);
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
			kp_buf_puts(out, sp->keep ? sp->keep : KP_REDACTED);
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
