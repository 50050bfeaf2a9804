/*
 * log.c - see log.h.
 */
#include "pipeline/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/kp.h"
#include "pipeline/urlmask.h"

static bool json_format;
static bool quiet_mode;

void kp_log_setup(const char *format, bool quiet)
{
	json_format = format && strcmp(format, "json") == 0;
	quiet_mode = quiet;
}

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
	if (json_format) {
		char ts[32];
		kp_time_format((int64_t)time(NULL), ts);
		json_object *o = json_object_new_object();
		json_object_object_add(o, "ts", json_object_new_string(ts));
		json_object_object_add(o, "level", json_object_new_string(names[level]));
		json_object_object_add(o, "msg", json_object_new_string(msg));
		fprintf(stderr, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (level >= KP_LOG_WARN) {
		fprintf(stderr, "kopilot: %s: %s\n", names[level], msg);
	} else {
		fprintf(stderr, "kopilot: %s\n", msg);
	}
	free(msg);
}
