/*
 * log.h - progress and diagnostics on stderr, as JSON lines (LOG_FORMAT=json,
 * for log collectors when running as a CronJob) or as plain text (console).
 * Only the command layer logs; library code reports through kp_error.
 */
#ifndef KP_LOG_H
#define KP_LOG_H

#include <stdbool.h>

#include "pipeline/progress.h"

typedef enum { KP_LOG_DEBUG, KP_LOG_INFO, KP_LOG_WARN, KP_LOG_ERROR } kp_log_level;

void kp_log_setup(const char *format /* "json" | "console" */, bool quiet);
void kp_log(kp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether log lines are JSON (LOG_FORMAT=json): then an error the command
 * layer prints must go through kp_log too, or the stream stops being JSON. */
bool kp_log_is_json(void);

/* The progress line: on a terminal (stderr a TTY, console format, not
 * quiet, TERM not dumb) one line redrawn in place ("\r", erase to its end)
 * with the stage and its counts, at most ten times a second (a new stage
 * at once), erased before any log line and at exit. NULL elsewhere: then
 * nothing is shown at all. The reporter is thread-safe (progress.h). */
const kp_progress *kp_log_progress(void);
/* Erases the line, if shown, and forgets the stage (before the entry
 * point prints anything else, and after each stage). */
void kp_log_progress_clear(void);

#endif
