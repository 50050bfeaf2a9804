/*
 * log.c - see log.h. The log lines and the progress line share stderr and
 * one lock, so a line from the main thread never lands in the middle of a
 * progress redraw from a collecting thread.
 */
#include "pipeline/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/kp.h"
#include "pipeline/quantity.h"
#include "pipeline/urlmask.h"

static bool json_format;
static bool quiet_mode;

/* ---- the progress line ---- */

#define PROGRESS_ITEMS 48
#define PROGRESS_INTERVAL 0.1 /* seconds between two redraws of one stage's counts */

static struct {
	pthread_mutex_t lock; /* also held while a log line is written */
	bool enabled, shown, at_exit;
	double last_draw;
	char stage[32];
	struct {
		char name[40];
		long long done, total;
	} items[PROGRESS_ITEMS]; /* in the order they were first reported */
	size_t nitems;
} pg = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* under pg.lock */
static void progress_erase(void)
{
	if (pg.shown) {
		fputs("\r\033[K", stderr);
		pg.shown = false;
	}
}

static size_t terminal_width(void)
{
	struct winsize ws;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* under pg.lock: "kopilot: collect: lists 3/21 (14%), objects 1,234, pods
 * 500/2,000 (25%)"; items that are complete are left out. Cut to the
 * terminal's width less one: a line that wraps could not be redrawn in
 * place. Only ASCII, so the cut is a byte count. */
static void progress_draw(void)
{
	char line[1024];
	size_t n = (size_t)snprintf(line, sizeof(line), "kopilot: %s", pg.stage);
	const char *sep = ": ";
	for (size_t i = 0; i < pg.nitems && n < sizeof(line); i++) {
		long long done = pg.items[i].done, total = pg.items[i].total;
		if (total >= 0 && done >= total)
			continue;
		char d[32], t[32];
		kp_format_thousands((unsigned long long)(done < 0 ? 0 : done), d, sizeof(d));
		if (total > 0) {
			kp_format_thousands((unsigned long long)total, t, sizeof(t));
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s %s/%s (%lld%%)", sep, pg.items[i].name, d, t,
					      done * 100 / total);
		} else {
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s %s", sep, pg.items[i].name, d);
		}
		sep = ", ";
	}
	size_t width = terminal_width();
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	if (n > width - 1)
		n = width - 1;
	/* one write: the carriage return, the line, erase what an older,
	 * longer line left on the right */
	char out[1100];
	int m = snprintf(out, sizeof(out), "\r%.*s\033[K", (int)n, line);
	fwrite(out, 1, (size_t)m, stderr);
	pg.shown = true;
	pg.last_draw = kp_monotonic_seconds();
}

static void progress_event(void *ud, const kp_progress_event *ev)
{
	(void)ud;
	pthread_mutex_lock(&pg.lock);
	bool now = false;
	if (!ev->item || strcmp(ev->stage, pg.stage) != 0) { /* a new stage: shown at once */
		snprintf(pg.stage, sizeof(pg.stage), "%s", ev->stage);
		pg.nitems = 0;
		now = true;
	}
	if (ev->item) {
		size_t i = 0;
		while (i < pg.nitems && strcmp(pg.items[i].name, ev->item) != 0)
			i++;
		if (i == pg.nitems && i < PROGRESS_ITEMS)
			snprintf(pg.items[pg.nitems++].name, sizeof(pg.items[i].name), "%s", ev->item);
		if (i < pg.nitems) {
			pg.items[i].done = ev->done;
			pg.items[i].total = ev->total;
		}
	}
	if (now || kp_monotonic_seconds() - pg.last_draw >= PROGRESS_INTERVAL)
		progress_draw();
	pthread_mutex_unlock(&pg.lock);
}

static const kp_progress terminal_progress = {progress_event, NULL};

const kp_progress *kp_log_progress(void) { return pg.enabled ? &terminal_progress : NULL; }

void kp_log_progress_clear(void)
{
	pthread_mutex_lock(&pg.lock);
	progress_erase();
	pg.stage[0] = '\0';
	pg.nitems = 0;
	pthread_mutex_unlock(&pg.lock);
}

/* an early exit leaves no half line; never waits for the lock (a thread
 * could hold it as the process exits) */
static void progress_at_exit(void)
{
	if (pthread_mutex_trylock(&pg.lock) == 0) {
		progress_erase();
		pthread_mutex_unlock(&pg.lock);
	}
}

void kp_log_setup(const char *format, bool quiet)
{
	json_format = format && strcmp(format, "json") == 0;
	quiet_mode = quiet;
	const char *term = getenv("TERM");
	pthread_mutex_lock(&pg.lock);
	pg.enabled = !json_format && !quiet && isatty(STDERR_FILENO) == 1 && !(term && strcmp(term, "dumb") == 0);
	bool hook = pg.enabled && !pg.at_exit;
	pg.at_exit = pg.at_exit || hook;
	pthread_mutex_unlock(&pg.lock);
	if (hook)
		atexit(progress_at_exit);
}

bool kp_log_is_json(void) { return json_format; }

void kp_log(kp_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"debug", "info", "warning", "error"};
	if (quiet_mode && level < KP_LOG_WARN)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *raw = kp_xvasprintf(fmt, ap);
	va_end(ap);
	/* a URL in a message never shows its password; notes quote snapshot
	 * and configuration text: no control character reaches the terminal
	 * (line breaks stay) */
	char *masked = kp_mask_url_credentials(raw);
	free(raw);
	kp_buf vis;
	kp_buf_init(&vis);
	kp_buf_put_visible(&vis, masked, strlen(masked), true);
	free(masked);
	char *msg = kp_buf_detach(&vis);
	if (!msg)
		msg = kp_xstrdup("");
	pthread_mutex_lock(&pg.lock);
	progress_erase();
	if (json_format) {
		char ts[32];
		kp_time_format((int64_t)time(NULL), ts);
		json_object *o = json_object_new_object();
		json_object_object_add(o, "ts", json_object_new_string(ts));
		json_object_object_add(o, "level", json_object_new_string(names[level]));
		json_object_object_add(o, "msg", json_object_new_string(msg));
		/* the stage a message is about ("collect: ..."), for a log
		 * collector to filter on */
		static const char *const stages[] = {"collect", "analyze", "recommend", "render"};
		for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
			size_t n = strlen(stages[i]);
			if (!strncmp(msg, stages[i], n) && msg[n] == ':') {
				json_object_object_add(o, "stage", json_object_new_string(stages[i]));
				break;
			}
		}
		fprintf(stderr, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (level >= KP_LOG_WARN) {
		fprintf(stderr, "kopilot: %s: %s\n", names[level], msg);
	} else {
		fprintf(stderr, "kopilot: %s\n", msg);
	}
	pthread_mutex_unlock(&pg.lock);
	free(msg);
}
