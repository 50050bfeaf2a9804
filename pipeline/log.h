/*
 * log.h - progress and diagnostics on stderr, as JSON lines (LOG_FORMAT=json,
 * for log collectors when running as a CronJob) or as plain text (console).
 * Only the command layer logs; library code reports through kp_error.
 */
#ifndef KP_LOG_H
#define KP_LOG_H

#include <stdbool.h>

typedef enum { KP_LOG_DEBUG, KP_LOG_INFO, KP_LOG_WARN, KP_LOG_ERROR } kp_log_level;

void kp_log_setup(const char *format /* "json" | "console" */, bool quiet);
void kp_log(kp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
