/*
 * jsonw.c - see jsonw.h.
 *
 * The layout is json-c's JSON_C_TO_STRING_PRETTY | SPACED | NOSLASHESCAPE,
 * as kp_json_write_file writes it: two spaces per level, an array as "[",
 * then each element on its own line at the next level separated by ",",
 * then "]" on its own line at the array's level (an empty array too).
 * A top-level member is at level 1, so its elements are indented by four
 * spaces and every line inside an element by four more than json-c gives
 * the element alone; JSON strings never hold a raw newline, so every
 * newline in an element's text is a line break of the layout.
 */
#include "pipeline/jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define JSONW_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

typedef struct {
	const kp_json_streamed *a;
	const char *at; /* where its placeholder (quotes included) starts in the text */
	size_t len;
} slot_t;

static int by_position(const void *x, const void *y)
{
	const slot_t *a = x, *b = y;
	return a->at < b->at ? -1 : a->at > b->at;
}

/* One element: its text with every line break indented by four spaces. */
static kp_status put_element(kp_atomic_file *out, json_object *item, kp_buf *line)
{
	const char *t = json_object_to_json_string_ext(item, JSONW_FLAGS);
	if (!t) /* json-c allocates with plain malloc */
		return kp_fail(out->err, KP_ERR_NOMEM, "%s: out of memory serialising JSON", out->path);
	kp_buf_reset(line);
	kp_buf_puts(line, "    ");
	for (const char *p = t, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			kp_buf_puts(line, p);
			break;
		}
		kp_buf_add(line, p, (size_t)(nl - p) + 1);
		kp_buf_puts(line, "    ");
	}
	return kp_atomic_write(out, line->data, line->len);
}

static kp_status put_array(kp_atomic_file *out, const kp_json_streamed *a, kp_buf *line, kp_error *err)
{
	kp_status s = kp_atomic_write(out, "[\n", 2);
	for (size_t i = 0; !s && i < a->n; i++) {
		json_object *item = NULL;
		s = a->gen(a->ud, i, &item, err);
		if (!s && i)
			s = kp_atomic_write(out, ",\n", 2);
		if (!s)
			s = put_element(out, item, line);
		json_object_put(item);
	}
	if (!s)
		s = kp_atomic_write(out, a->n ? "\n  ]" : "  ]", a->n ? 4 : 3);
	return s;
}

kp_status kp_json_write_streamed(const char *path, json_object *doc, const kp_json_streamed *arrays, size_t narrays,
				 kp_error *err)
{
	/* Placeholders no document holds: control characters (which json-c
	 * escapes as \u0001) and a per-call nonce. */
	char nonce[64];
	snprintf(nonce, sizeof(nonce), "\x01kp-stream-%ld-%lx-%lx", (long)getpid(), (unsigned long)time(NULL),
		 (unsigned long)(uintptr_t)&nonce);
	for (size_t i = 0; i < narrays; i++)
		if (!json_object_object_get_ex(doc, arrays[i].key, NULL)) /* a caller's bug */
			return kp_fail(err, KP_ERR_INTERNAL, "%s: streamed member \"%s\" is not in the document", path,
				       arrays[i].key);
	slot_t *slots = kp_xcalloc(narrays ? narrays : 1, sizeof(*slots));
	char **names = kp_xcalloc(narrays ? narrays : 1, sizeof(*names));
	for (size_t i = 0; i < narrays; i++) {
		names[i] = kp_xasprintf("%s-%zu", nonce, i);
		json_object_object_add(doc, arrays[i].key, json_object_new_string(names[i]));
	}
	kp_status s = KP_OK;
	const char *text = json_object_to_json_string_ext(doc, JSONW_FLAGS);
	if (!text)
		s = kp_fail(err, KP_ERR_NOMEM, "%s: out of memory serialising JSON", path);
	for (size_t i = 0; !s && i < narrays; i++) {
		/* the placeholder as json-c spells it: "\u0001kp-stream-..." */
		char *quoted = kp_xasprintf("\"\\u0001%s\"", names[i] + 1);
		slots[i].a = &arrays[i];
		slots[i].at = strstr(text, quoted);
		slots[i].len = strlen(quoted);
		free(quoted);
		if (!slots[i].at) /* cannot be: the member was just set */
			s = kp_fail(err, KP_ERR_INTERNAL, "%s: streamed member \"%s\" not found in its text", path,
				    arrays[i].key);
	}
	if (!s && narrays > 1)
		qsort(slots, narrays, sizeof(*slots), by_position);
	kp_atomic_file out;
	if (!s)
		s = kp_atomic_open(&out, path, err);
	if (!s) {
		kp_buf line;
		kp_buf_init(&line);
		const char *p = text;
		for (size_t i = 0; !s && i < narrays; i++) {
			s = kp_atomic_write(&out, p, (size_t)(slots[i].at - p));
			if (!s)
				s = put_array(&out, slots[i].a, &line, err);
			p = slots[i].at + slots[i].len;
		}
		if (!s)
			s = kp_atomic_write(&out, p, strlen(p));
		if (!s)
			s = kp_atomic_write(&out, "\n", 1);
		kp_buf_release(&line);
		if (s)
			kp_atomic_abort(&out);
		else
			s = kp_atomic_commit(&out);
	}
	for (size_t i = 0; i < narrays; i++) {
		json_object_object_add(doc, arrays[i].key, NULL);
		free(names[i]);
	}
	free(names);
	free(slots);
	return s;
}
