/*
 * audit.h - audit.jsonl: one JSON object per line for every input read,
 * every safety decision and every stage, so a run can be reconstructed after
 * the fact. Events are buffered and appended atomically (the existing file
 * plus the new lines, written to a temp file and renamed), so a crash never
 * leaves a torn line.
 *
 * Ownership: kp_audit_event takes ownership of the fields object.
 * Credentials never go in: callers pass names and decisions, not tokens.
 */
#ifndef KP_AUDIT_H
#define KP_AUDIT_H

#include "pipeline/kp.h"

typedef struct kp_audit {
	kp_buf lines;
	char *path; /* NULL: events are dropped (no run directory) */
} kp_audit;

void kp_audit_init(kp_audit *a, const char *path);
void kp_audit_release(kp_audit *a);
void kp_audit_event(kp_audit *a, const char *event, json_object *fields);
kp_status kp_audit_flush(kp_audit *a, kp_error *err);

#endif
