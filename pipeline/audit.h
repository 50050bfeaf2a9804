/*
 * audit.h - audit.jsonl: one JSON object per line for every input read,
 * every safety decision and every stage, so a run can be reconstructed after
 * the fact.
 *
 * The log is append-only: each event is one write() of one whole line to a
 * descriptor opened with O_APPEND, when it happens, so concurrent commands
 * (a refused one, say) never lose each other's lines and a killed command
 * leaves everything up to its last event. A write that fails (a full disk)
 * is taken back if it was partial, so no torn line stays; the error is
 * sticky and reported by kp_audit_flush, and the events after it are
 * dropped.
 *
 * Ownership: kp_audit_event takes ownership of the fields object.
 * Credentials never go in: callers pass names and decisions, not tokens.
 */
#ifndef KP_AUDIT_H
#define KP_AUDIT_H

#include "pipeline/kp.h"

typedef struct kp_audit {
	char *path;     /* NULL: events are dropped (no run directory) */
	int fd;         /* -1 until the first event */
	bool create;    /* create the file if missing */
	kp_error error; /* the first failure, sticky */
} kp_audit;

/* Events go to path (created on the first event when create). */
void kp_audit_init(kp_audit *a, const char *path, bool create);
/* Events from now on go to path (the file is reopened). */
void kp_audit_reopen(kp_audit *a, const char *path);
void kp_audit_release(kp_audit *a);
void kp_audit_event(kp_audit *a, const char *event, json_object *fields);
/* After a failed write (a full disk that has since been freed): records an
 * audit.gap event saying events were lost and why, and goes on appending.
 * Nothing if there was no failure. */
void kp_audit_resume(kp_audit *a);
/* fsyncs what was written; the first failure of any event, if any. */
kp_status kp_audit_flush(kp_audit *a, kp_error *err);

#endif
