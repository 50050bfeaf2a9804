/*
 * listscan.c - see listscan.h. A jscan callback builds json-c values for
 * the members that are kept and ignores every token inside one that is
 * not (skip_depth), so a dropped subtree costs only the scan.
 */
#include "pipeline/listscan.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/fault.h"

/* As deep as the redacting copy (redact.c) reads, so one scan serves both. */
#define LS_MAX_DEPTH 1024

enum { F_SKEL, F_ARRAY, F_ITEM };

typedef struct {
	json_object *obj;    /* the container being built */
	const kp_keep *keep; /* filter of its members (elements: of the array); NULL keeps all */
	unsigned char role;  /* F_SKEL: part of the skeleton; F_ARRAY: the streamed array; F_ITEM: in an element */
	bool item_root;      /* an element of the streamed array: handed over at its end */
} frame_t;

struct kp_listscan {
	kp_jscan *scan;
	char *name, *key, *expected;
	size_t key_len;
	const kp_keep *keep;
	kp_listscan_fn fn;
	void *ud;
	kp_jscan_fn tap;
	void *tap_ud;
	bool (*tap_skips)(void *tap_ud, int depth);
	frame_t frames[LS_MAX_DEPTH + 1]; /* [depth] of each open container */
	json_object *skeleton;
	size_t index;
	size_t arrays; /* streamed arrays: a repeated member name streams each */
	int skip_depth;            /* > 0: inside a dropped container opened at this depth */
	bool skip_next;            /* the member name just read is dropped */
	bool next_is_array;        /* ... or names the streamed array */
	const kp_keep *next_keep;  /* ... or is kept with this filter */
	const char *next_const;    /* ... spelled as this filter entry, not copied */
	bool seen;                 /* any token */
	bool own_error;            /* the scan stopped on a callback's error, not the text's */
	bool failed;               /* feed or finish failed */
	kp_buf keybuf, numbuf;
};

static kp_status nomem(kp_listscan *ls, kp_error *err)
{
	ls->own_error = true;
	return kp_fail(err, KP_ERR_NOMEM, "%s: out of memory", ls->name);
}

/* The filter entry keeping member name (len bytes), or NULL. Compared a
 * byte at a time against the entry's own text (no strlen: this runs for
 * every member of every item); most members are told apart by their first
 * byte. */
static const kp_keep *keep_match(const kp_keep *keep, const char *name, size_t len, bool *exact)
{
	for (const kp_keep *k = keep; k->key; k++) {
		const char *e = k->key;
		if (len && e[0] != name[0] && e[0] != '*')
			continue;
		size_t i = 0;
		while (i < len && e[i] && e[i] == name[i] && !(e[i] == '*' && !e[i + 1]))
			i++;
		if (e[i] == '*' && !e[i + 1]) {
			*exact = false; /* a prefix: what precedes the '*' matched */
			return k;
		}
		if (i == len && !e[i]) {
			*exact = true;
			return k;
		}
	}
	return NULL;
}

/* A JSON number as json-c's tokener makes it: a '.' or an exponent makes
 * a double that keeps its spelling; an integer is an int64 (saturated
 * when negative), or a uint64 above INT64_MAX (saturated too). */
static json_object *number_value(kp_listscan *ls, const char *text, size_t len)
{
	kp_buf_reset(&ls->numbuf);
	kp_buf_add(&ls->numbuf, text, len);
	const char *s = kp_buf_cstr(&ls->numbuf);
	if (memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len))
		return json_object_new_double_s(strtod(s, NULL), s);
	errno = 0;
	if (s[0] == '-')
		return json_object_new_int64((int64_t)strtoll(s, NULL, 10));
	unsigned long long u = strtoull(s, NULL, 10);
	return u <= (unsigned long long)INT64_MAX ? json_object_new_int64((int64_t)u) : json_object_new_uint64((uint64_t)u);
}

/* A scalar token's value; *ok false when it could not be allocated. */
static json_object *scalar_value(kp_listscan *ls, const kp_jscan_token *t, bool *ok)
{
	json_object *v = NULL;
	*ok = true;
	switch (t->type) {
	case KP_JS_STRING:
		if (t->len > INT_MAX) {
			*ok = false; /* json-c counts a string's length in an int */
			return NULL;
		}
		v = json_object_new_string_len(t->text ? t->text : "", (int)t->len);
		break;
	case KP_JS_NUMBER: v = number_value(ls, t->text, t->len); break;
	case KP_JS_TRUE: v = json_object_new_boolean(1); break;
	case KP_JS_FALSE: v = json_object_new_boolean(0); break;
	default: return NULL; /* null */
	}
	if (!v)
		*ok = false;
	return v;
}

static const char *top_name(kp_jscan_type t)
{
	switch (t) {
	case KP_JS_NULL: return "null";
	case KP_JS_TRUE:
	case KP_JS_FALSE: return "a boolean";
	case KP_JS_NUMBER: return "a number";
	case KP_JS_STRING: return "a string";
	case KP_JS_ARRAY_BEGIN: return "a list";
	default: return "an object";
	}
}

static kp_status item_done(kp_listscan *ls, json_object *item, kp_error *err)
{
	kp_status st = ls->fn ? ls->fn(ls->ud, item, ls->index, err) : KP_OK;
	ls->index++;
	json_object_put(item);
	if (st)
		ls->own_error = true;
	return st;
}

static kp_status on_token(void *ud, const kp_jscan_token *t, kp_error *err)
{
	kp_listscan *ls = ud;
	ls->seen = true;
	if (ls->tap) {
		kp_status st = ls->tap(ls->tap_ud, t, err);
		if (st) {
			ls->own_error = true;
			return st;
		}
	}
	if (ls->skip_depth) {
		if ((t->type == KP_JS_OBJECT_END || t->type == KP_JS_ARRAY_END) && t->depth == ls->skip_depth) {
			ls->skip_depth = 0;
			kp_jscan_set_text(ls->scan, true);
		}
		return KP_OK;
	}
	if (t->type == KP_JS_OBJECT_END || t->type == KP_JS_ARRAY_END) {
		frame_t *f = &ls->frames[t->depth];
		json_object *o = f->obj;
		f->obj = NULL;
		if (f->item_root)
			return item_done(ls, o, err);
		return KP_OK;
	}
	if (t->type == KP_JS_KEY) {
		const frame_t *f = &ls->frames[t->depth];
		/* json-c keeps member names as C strings: cut at a NUL */
		const char *nul = t->nul ? memchr(t->text, '\0', t->len) : NULL;
		size_t len = nul ? (size_t)(nul - t->text) : t->len;
		ls->skip_next = false;
		ls->next_is_array = f->role == F_SKEL && t->depth == 1 && len == ls->key_len &&
				    memcmp(t->text, ls->key, len) == 0;
		ls->next_keep = NULL;
		ls->next_const = NULL;
		if (f->keep) {
			bool exact = false;
			const kp_keep *k = keep_match(f->keep, t->text, len, &exact);
			if (!k) {
				ls->skip_next = true;
				kp_jscan_set_text(ls->scan, false); /* none of the value's text is wanted */
				return KP_OK;
			}
			ls->next_keep = k->kids;
			if (exact)
				ls->next_const = k->key; /* the filter's string serves as the name */
		}
		kp_buf_reset(&ls->keybuf);
		kp_buf_add(&ls->keybuf, t->text, len);
		return KP_OK;
	}
	/* a value: of the top level, of a member or of an array element */
	bool begin = t->type == KP_JS_OBJECT_BEGIN || t->type == KP_JS_ARRAY_BEGIN;
	int pd = begin ? t->depth - 1 : t->depth;
	if (pd == 0) {
		if (t->type != KP_JS_OBJECT_BEGIN) {
			ls->own_error = true;
			return kp_fail(err, KP_ERR_INPUT, "%s: expected %s, found %s at the top level", ls->name,
				       ls->expected, top_name(t->type));
		}
		ls->skeleton = json_object_new_object();
		if (!ls->skeleton)
			return nomem(ls, err);
		ls->frames[1] = (frame_t){.obj = ls->skeleton, .role = F_SKEL};
		return KP_OK;
	}
	frame_t *parent = &ls->frames[pd];
	bool in_object = json_object_is_type(parent->obj, json_type_object);
	const kp_keep *keep = parent->keep;
	if (in_object) {
		if (ls->skip_next) {
			ls->skip_next = false;
			if (begin) {
				ls->skip_depth = t->depth; /* text stays off to its end */
				if (!ls->tap || (ls->tap_skips && ls->tap_skips(ls->tap_ud, t->depth)))
					kp_jscan_quiet(ls->scan); /* nobody wants its inside */
			} else
				kp_jscan_set_text(ls->scan, true);
			return KP_OK;
		}
		keep = ls->next_keep;
	}
	unsigned char role = parent->role;
	bool item_root = false;
	if (role == F_ARRAY) {
		/* an element of the streamed array */
		role = F_ITEM;
		keep = ls->keep;
		item_root = true;
	} else if (in_object && ls->next_is_array && t->type == KP_JS_ARRAY_BEGIN) {
		role = F_ARRAY; /* the streamed array: in the skeleton, left empty */
		ls->arrays++;
	}
	json_object *v;
	bool ok = true;
	if (begin) {
		v = t->type == KP_JS_OBJECT_BEGIN ? json_object_new_object() : json_object_new_array();
		ok = v != NULL;
	} else {
		v = scalar_value(ls, t, &ok);
	}
	if (!ok) {
		if (t->type == KP_JS_STRING && t->len > INT_MAX) {
			ls->own_error = true;
			return kp_fail(err, KP_ERR_INPUT, "%s: a string of %zu bytes is too long", ls->name, t->len);
		}
		return nomem(ls, err);
	}
	if (item_root && !begin)
		return item_done(ls, v, err); /* a scalar element */
	if (!item_root) {
		int r = !in_object	 ? json_object_array_add(parent->obj, v)
			: ls->next_const ? json_object_object_add_ex(parent->obj, ls->next_const, v,
								      JSON_C_OBJECT_ADD_CONSTANT_KEY)
					 : json_object_object_add(parent->obj, kp_buf_cstr(&ls->keybuf), v);
		if (r != 0) {
			json_object_put(v);
			return nomem(ls, err);
		}
	}
	if (begin)
		ls->frames[t->depth] = (frame_t){.obj = v, .keep = keep, .role = role, .item_root = item_root};
	return KP_OK;
}

kp_listscan *kp_listscan_new(const char *name, const char *key, const char *expected, const kp_keep *keep,
			     kp_listscan_fn fn, void *ud)
{
	kp_listscan *ls = kp_xcalloc(1, sizeof(*ls));
	ls->name = kp_xstrdup(name ? name : "JSON");
	ls->key = kp_xstrdup(key);
	ls->key_len = strlen(key);
	ls->expected = kp_xstrdup(expected ? expected : "a JSON object");
	ls->keep = keep;
	ls->fn = fn;
	ls->ud = ud;
	kp_buf_init(&ls->keybuf);
	kp_buf_init(&ls->numbuf);
	/* every string's text: a kept one is needed whole (json-c has no
	 * limit either); one that is dropped is seldom copied (jscan hands
	 * over a plain string where it lies in the chunk) */
	kp_jscan_opts o = {.max_depth = LS_MAX_DEPTH, .max_text = SIZE_MAX / 2, .text = true};
	ls->scan = kp_jscan_new(ls->name, &o, on_token, ls);
	return ls;
}

void kp_listscan_free(kp_listscan *ls)
{
	if (!ls)
		return;
	/* an element or skeleton left half-built by an error */
	for (int d = 1; d <= LS_MAX_DEPTH; d++)
		if (ls->frames[d].item_root && ls->frames[d].obj)
			json_object_put(ls->frames[d].obj);
	json_object_put(ls->skeleton);
	kp_jscan_free(ls->scan);
	kp_buf_release(&ls->keybuf);
	kp_buf_release(&ls->numbuf);
	free(ls->name);
	free(ls->key);
	free(ls->expected);
	free(ls);
}

void kp_listscan_set_tap(kp_listscan *ls, kp_jscan_fn tap, void *tap_ud)
{
	ls->tap = tap;
	ls->tap_ud = tap_ud;
	ls->tap_skips = NULL;
}

void kp_listscan_set_tap_skips(kp_listscan *ls, bool (*skips)(void *tap_ud, int depth)) { ls->tap_skips = skips; }

/* jscan says "NAME:LINE:COL: what"; the loader has always said
 * "NAME:LINE:COL: malformed JSON: what". */
static kp_status syntax_error(kp_listscan *ls, kp_status st, kp_error *err)
{
	if (ls->own_error || st != KP_ERR_INPUT || !err)
		return st;
	size_t nl = strlen(ls->name);
	if (strncmp(err->msg, ls->name, nl) != 0)
		return st;
	const char *rest = strstr(err->msg + nl, ": ");
	if (!rest || strncmp(rest + 2, "malformed JSON", 14) == 0)
		return st;
	char msg[sizeof(err->msg)];
	snprintf(msg, sizeof(msg), "%.*s: malformed JSON: %s", (int)(rest - err->msg), err->msg, rest + 2);
	memcpy(err->msg, msg, sizeof(msg));
	return st;
}

kp_status kp_listscan_feed(kp_listscan *ls, const char *data, size_t n, kp_error *err)
{
	kp_status st = kp_jscan_feed(ls->scan, data, n, err);
	if (st)
		ls->failed = true;
	return syntax_error(ls, st, err);
}

kp_status kp_listscan_finish(kp_listscan *ls, kp_error *err)
{
	if (!ls->seen && !ls->failed && kp_jscan_offset(ls->scan) == kp_jscan_pending_start(ls->scan)) {
		/* nothing but white space (or nothing): say so in words */
		ls->own_error = ls->failed = true;
		return kp_fail(err, KP_ERR_INPUT, "%s: empty file, expected %s", ls->name, ls->expected);
	}
	return syntax_error(ls, kp_jscan_finish(ls->scan, err), err);
}

json_object *kp_listscan_skeleton(kp_listscan *ls)
{
	json_object *o = ls->skeleton;
	ls->skeleton = NULL;
	return o;
}

size_t kp_listscan_arrays(const kp_listscan *ls) { return ls->arrays; }

uint64_t kp_listscan_offset(const kp_listscan *ls) { return kp_jscan_offset(ls->scan); }

uint64_t kp_listscan_pending_start(const kp_listscan *ls) { return kp_jscan_pending_start(ls->scan); }

kp_status kp_listscan_read_file(kp_listscan *ls, const char *path, kp_error *err)
{
	FILE *f;
	kp_status s = kp_open_input(path, &f, err);
	if (s)
		return s;
	enum { CHUNK = 1 << 20 };
	char *chunk = kp_xmalloc(CHUNK);
	size_t n;
	bool first = true, bad = false;
	while (!s && !(bad = kp_fault_io()) && (n = fread(chunk, 1, CHUNK, f)) > 0) {
		/* a byte order mark (kubectl's output saved by PowerShell) is
		 * skipped; a chunk is at least 3 bytes unless the file is shorter */
		size_t skip = first && n >= 3 && memcmp(chunk, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
		first = false;
		s = kp_listscan_feed(ls, chunk + skip, n - skip, err);
	}
	if (!s && (bad || ferror(f)))
		s = kp_fail(err, KP_ERR_IO, "%s: read error", path);
	fclose(f);
	free(chunk);
	if (!s)
		s = kp_listscan_finish(ls, err);
	return s;
}

kp_status kp_listscan_file(const char *path, const char *key, const char *expected, const kp_keep *keep,
			   kp_listscan_fn fn, void *ud, json_object **skeleton, kp_error *err)
{
	*skeleton = NULL;
	kp_listscan *ls = kp_listscan_new(path, key, expected, keep, fn, ud);
	kp_status s = kp_listscan_read_file(ls, path, err);
	if (!s)
		*skeleton = kp_listscan_skeleton(ls);
	kp_listscan_free(ls);
	return s;
}
