/*
 * run.c - see run.h.
 */
#include "pipeline/run.h"

#include <stdlib.h>
#include <string.h>

void kp_run_init(kp_run *run, const char *dir, const kp_config *cfg, kp_audit *audit, int64_t now)
{
	memset(run, 0, sizeof(*run));
	run->dir = dir;
	run->cfg = cfg;
	run->audit = audit;
	run->now = now;
}

void kp_run_drop_cluster(kp_run *run)
{
	if (!run->cluster)
		return;
	kp_cluster_release(run->cluster);
	free(run->cluster);
	run->cluster = NULL;
}

void kp_run_release(kp_run *run)
{
	kp_run_drop_cluster(run);
	if (run->stage_private && run->private_free)
		run->private_free(run->stage_private);
	run->stage_private = NULL;
	run->private_free = NULL;
	for (size_t i = 0; i < run->notes.len; i++)
		free(run->notes.items[i].text);
	free(run->notes.items);
	run->notes.items = NULL;
	run->notes.len = run->notes.cap = 0;
}

void kp_run_note(kp_run *run, kp_note_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kp_note n = {level, kp_xvasprintf(fmt, ap)};
	va_end(ap);
	KP_ARRAY_PUSH(run->notes, n);
}

typedef struct {
	kp_status (*body)(kp_run *, kp_error *);
	kp_run *run;
} guarded_call;

static kp_status call_body(void *arg, kp_error *err)
{
	guarded_call *c = arg;
	return c->body(c->run, err);
}

kp_status kp_run_guarded(kp_status (*body)(kp_run *, kp_error *), kp_run *run, kp_error *err)
{
	guarded_call c = {body, run};
	return kp_nomem_guard(call_body, &c, err);
}
