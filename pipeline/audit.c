/*
 * audit.c - see audit.h.
 */
#include "pipeline/audit.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/fault.h"

void kp_audit_init(kp_audit *a, const char *path, bool create)
{
	memset(a, 0, sizeof(*a));
	a->fd = -1;
	a->path = path ? kp_xstrdup(path) : NULL;
	a->create = create;
}

void kp_audit_reopen(kp_audit *a, const char *path)
{
	bool create = a->create;
	kp_error keep = a->error;
	kp_audit_release(a);
	kp_audit_init(a, path, create);
	a->error = keep;
}

void kp_audit_release(kp_audit *a)
{
	if (a->path && a->fd >= 0) /* a zeroed kp_audit has fd 0 and no path: never close stdin */
		close(a->fd);
	a->fd = -1;
	free(a->path);
	a->path = NULL;
}

static void audit_write(kp_audit *a, const char *line, size_t len)
{
	if (a->error.status)
		return;
	if (a->fd < 0) {
		a->fd = KP_FAULT_IO(
			open(a->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | (a->create ? O_CREAT : 0), 0666));
		if (a->fd < 0) {
			kp_fail(&a->error, KP_ERR_IO, "%s: cannot open the audit log: %s", a->path, strerror(errno));
			return;
		}
	}
	ssize_t w;
	do
		w = KP_FAULT_IO_WRITE(write(a->fd, line, len));
	while (w < 0 && errno == EINTR);
	if (w == (ssize_t)len)
		return;
	int e = w < 0 ? errno : ENOSPC;
	if (w > 0) {
		/* A torn line: take it back. The run's lock makes this
		 * command the only writer that appends more than a line. */
		off_t end = lseek(a->fd, 0, SEEK_END);
		if (end >= (off_t)w && ftruncate(a->fd, end - (off_t)w) != 0) {
			/* the line stays torn; the error below says the log is incomplete */
		}
	}
	kp_fail(&a->error, KP_ERR_IO, "%s: cannot append to the audit log: %s", a->path, strerror(e));
}

static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;

void kp_audit_event(kp_audit *a, const char *event, json_object *fields)
{
	if (!a->path) {
		json_object_put(fields);
		return;
	}
	json_object *o = json_object_new_object();
	char ts[32];
	kp_time_format((int64_t)time(NULL), ts);
	json_object_object_add(o, "ts", json_object_new_string(ts));
	json_object_object_add(o, "event", json_object_new_string(event));
	if (fields) {
		json_object_object_foreach(fields, k, v) json_object_object_add(o, k, json_object_get(v));
		json_object_put(fields);
	}
	size_t len;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	char *line = kp_xmalloc(len + 1);
	memcpy(line, s, len);
	line[len] = '\n';
	/* the collect stage's threads (lists, Prometheus) record events too */
	pthread_mutex_lock(&audit_lock);
	audit_write(a, line, len + 1);
	pthread_mutex_unlock(&audit_lock);
	free(line);
	json_object_put(o);
}

void kp_audit_resume(kp_audit *a)
{
	if (!a->error.status || !a->path)
		return;
	char why[sizeof(a->error.msg)];
	snprintf(why, sizeof(why), "%s", a->error.msg);
	memset(&a->error, 0, sizeof(a->error));
	json_object *f = json_object_new_object();
	json_object_object_add(f, "error", json_object_new_string(why));
	kp_audit_event(a, "audit.gap", f);
}

kp_status kp_audit_flush(kp_audit *a, kp_error *err)
{
	if (!a->error.status && a->fd >= 0 && KP_FAULT_IO(fsync(a->fd)) != 0)
		kp_fail(&a->error, KP_ERR_IO, "%s: cannot sync the audit log: %s", a->path, strerror(errno));
	if (a->error.status) {
		if (err)
			*err = a->error;
		return a->error.status;
	}
	return KP_OK;
}
