/*
 * progress.h - how far a long stage has got, told to whoever watches (the
 * command layer's progress line on a terminal, log.h). The entry point puts
 * a kp_progress in the run (run->progress; NULL: nobody watches, and
 * kp_progress_report does nothing); stages report counts through it and
 * never print.
 *
 * Reports come from any thread, several at once (live collection lists on
 * two threads, Prometheus queries on several): fn must be thread-safe and
 * quick (it is called as pages arrive). The event's strings are only
 * borrowed for the call.
 */
#ifndef KP_PROGRESS_H
#define KP_PROGRESS_H

typedef struct kp_progress_event {
	const char *stage; /* "collect", "analyze", "recommend", "render" */
	const char *item;  /* what is counted ("pods", "Prometheus queries"); NULL: the stage begins */
	long long done;    /* counted so far */
	long long total;   /* of how many; -1: not known. done == total: the item is complete */
} kp_progress_event;

typedef struct kp_progress {
	void (*fn)(void *ud, const kp_progress_event *ev);
	void *ud;
} kp_progress;

static inline void kp_progress_report(const kp_progress *p, const char *stage, const char *item, long long done,
				      long long total)
{
	if (p && p->fn) {
		kp_progress_event ev = {stage, item, done, total};
		p->fn(p->ud, &ev);
	}
}

#endif
