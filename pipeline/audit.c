/*
 * audit.c - see audit.h.
 */
#include "pipeline/audit.h"

#include <stdlib.h>
#include <time.h>

void kp_audit_init(kp_audit *a, const char *path)
{
	kp_buf_init(&a->lines);
	a->path = path ? kp_xstrdup(path) : NULL;
}

void kp_audit_release(kp_audit *a)
{
	kp_buf_release(&a->lines);
	free(a->path);
	a->path = NULL;
}

void kp_audit_event(kp_audit *a, const char *event, json_object *fields)
{
	json_object *o = json_object_new_object();
	char ts[32];
	kp_time_format((int64_t)time(NULL), ts);
	json_object_object_add(o, "ts", json_object_new_string(ts));
	json_object_object_add(o, "event", json_object_new_string(event));
	if (fields) {
		json_object_object_foreach(fields, k, v) json_object_object_add(o, k, json_object_get(v));
		json_object_put(fields);
	}
	kp_buf_puts(&a->lines, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	kp_buf_putc(&a->lines, '\n');
	json_object_put(o);
}

kp_status kp_audit_flush(kp_audit *a, kp_error *err)
{
	if (!a->path || a->lines.len == 0)
		return KP_OK;
	kp_buf all;
	kp_buf_init(&all);
	if (kp_file_exists(a->path)) {
		char *old;
		size_t len;
		kp_status s = kp_read_file(a->path, &old, &len, err);
		if (s) {
			kp_buf_release(&all);
			return s;
		}
		kp_buf_add(&all, old, len);
		free(old);
	}
	kp_buf_add(&all, a->lines.data, a->lines.len);
	kp_status s = kp_write_file_atomic(a->path, all.data, all.len, err);
	kp_buf_release(&all);
	if (!s)
		kp_buf_reset(&a->lines);
	return s;
}
