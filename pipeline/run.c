/*
 * run.c - see run.h.
 */
#include "pipeline/run.h"

#include "pipeline/fault.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct kp_run_bg {
	pthread_t thread;
	bool threaded;
	kp_run *run;
	kp_run_bg_fn fn;
	void *arg;
	void (*arg_free)(void *);
	json_object *events;
	kp_status status;
	kp_error err;
	double seconds;
	/* set once fn no longer reads the run (kp_run_bg_done_reading), or
	 * when it has returned */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done_reading;
};

static void mark_done_reading(struct kp_run_bg *bg)
{
	pthread_mutex_lock(&bg->mu);
	bg->done_reading = true;
	pthread_cond_broadcast(&bg->cv);
	pthread_mutex_unlock(&bg->mu);
}

void kp_run_bg_done_reading(kp_run *run)
{
	if (run->bg)
		mark_done_reading(run->bg);
}

void kp_run_wait_reading(kp_run *run)
{
	struct kp_run_bg *bg = run->bg;
	if (!bg || !bg->threaded)
		return;
	pthread_mutex_lock(&bg->mu);
	while (!bg->done_reading)
		pthread_cond_wait(&bg->cv, &bg->mu);
	pthread_mutex_unlock(&bg->mu);
}

static kp_status bg_body(void *a, kp_error *err)
{
	struct kp_run_bg *bg = a;
	return bg->fn(bg->run, bg->arg, bg->events, err);
}

static void bg_run(struct kp_run_bg *bg)
{
	double t0 = kp_monotonic_seconds();
	bg->status = kp_nomem_guard(bg_body, bg, &bg->err);
	bg->seconds = kp_monotonic_seconds() - t0;
	mark_done_reading(bg);
	if (bg->arg_free)
		bg->arg_free(bg->arg);
	bg->arg = NULL;
}

static void *bg_thread(void *a)
{
	bg_run(a);
	return NULL;
}

kp_status kp_run_background(kp_run *run, kp_run_bg_fn fn, void *arg, void (*arg_free)(void *), bool worth_a_thread,
			    kp_error *err)
{
	kp_status s = kp_run_join(run, err);
	if (s) {
		if (arg_free)
			arg_free(arg);
		return s;
	}
	struct kp_run_bg *bg = kp_xcalloc(1, sizeof(*bg));
	*bg = (struct kp_run_bg){.run = run, .fn = fn, .arg = arg, .arg_free = arg_free, .events = json_object_new_array()};
	pthread_mutex_init(&bg->mu, NULL);
	pthread_cond_init(&bg->cv, NULL);
	run->bg = bg;
	bg->threaded = KP_THREADS && worth_a_thread && pthread_create(&bg->thread, NULL, bg_thread, bg) == 0;
	if (!bg->threaded)
		bg_run(bg);
	return KP_OK;
}

kp_status kp_run_join(kp_run *run, kp_error *err)
{
	struct kp_run_bg *bg = run->bg;
	if (!bg)
		return KP_OK;
	if (bg->threaded)
		pthread_join(bg->thread, NULL);
	run->bg = NULL;
	size_t n = json_object_array_length(bg->events);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(bg->events, i);
		const char *note = kp_json_str(e, "note");
		if (note)
			kp_run_note(run, KP_NOTE_WARN, "%s", note);
		else
			kp_audit_event(run->audit, kp_json_str(e, "event"), json_object_get(kp_json_get(e, "fields")));
	}
	json_object_put(bg->events);
	kp_status s = bg->status;
	if (s && err)
		*err = bg->err;
	run->background_seconds += bg->seconds;
	pthread_mutex_destroy(&bg->mu);
	pthread_cond_destroy(&bg->cv);
	free(bg);
	return s;
}

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
	kp_run_wait_reading(run); /* never free the model under background work reading it */
	if (!run->cluster)
		return;
	kp_cluster_release(run->cluster);
	free(run->cluster);
	run->cluster = NULL;
}

void kp_run_release(kp_run *run)
{
	kp_run_join(run, NULL); /* its status, if not joined yet, is dropped */
	kp_run_drop_cluster(run);
	if (run->analysis) {
		kp_findings_release(run->analysis);
		free(run->analysis);
		run->analysis = NULL;
	}
	json_object_put(run->analysis_doc);
	run->analysis_doc = NULL;
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
