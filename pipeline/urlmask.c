/*
 * urlmask.c - see urlmask.h. A URL is found by its "://"; its scheme is the
 * letters, digits, '+', '-' and '.' before that (starting with a letter).
 * The URL runs to white space, a control character, '"' or '`' (none of
 * them may stand unescaped in a URL; they end one quoted in a message or a
 * JSON text). Its authority runs to the first '/', '?' or '#'; the userinfo
 * is what comes before the authority's LAST '@' (a password with an
 * unescaped '@' is masked whole), split at its first ':'.
 */
#include "pipeline/urlmask.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool scheme_char(unsigned char c) { return isalnum(c) || c == '+' || c == '-' || c == '.'; }

static bool space_or_control(unsigned char c) { return c <= ' ' || c == 0x7f; }

/* Characters a URL cannot hold unescaped that commonly surround one. */
static bool url_end(unsigned char c) { return space_or_control(c) || c == '"' || c == '`'; }

static bool secret_param(const char *name, size_t n)
{
	static const char *const words[] = {"token", "secret", "passw", "pwd", "key", "auth", "sig", "credential"};
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t wl = strlen(words[w]);
		for (size_t i = 0; i + wl <= n; i++)
			if (strncasecmp(name + i, words[w], wl) == 0)
				return true;
	}
	return false;
}

/* The query [p, end): each name=value separated by '&' or ';'. */
static void mask_query(kp_buf *b, const char *p, const char *end)
{
	while (p < end) {
		const char *sep = p;
		while (sep < end && *sep != '&' && *sep != ';')
			sep++;
		const char *eq = memchr(p, '=', (size_t)(sep - p));
		if (eq && secret_param(p, (size_t)(eq - p))) {
			kp_buf_add(b, p, (size_t)(eq - p + 1));
			kp_buf_puts(b, KP_URL_SECRET);
		} else {
			kp_buf_add(b, p, (size_t)(sep - p));
		}
		if (sep < end)
			kp_buf_putc(b, *sep++);
		p = sep;
	}
}

/* One URL whose authority starts at auth; returns where it ends. */
static const char *mask_one(kp_buf *b, const char *auth)
{
	const char *e = auth;
	while (*e && !url_end((unsigned char)*e))
		e++;
	const char *ae = auth;
	while (ae < e && *ae != '/' && *ae != '?' && *ae != '#')
		ae++;
	const char *at = NULL;
	for (const char *p = auth; p < ae; p++)
		if (*p == '@')
			at = p;
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon) {
		kp_buf_add(b, auth, (size_t)(colon + 1 - auth));
		kp_buf_puts(b, KP_URL_SECRET);
		kp_buf_add(b, at, (size_t)(ae - at));
	} else {
		kp_buf_add(b, auth, (size_t)(ae - auth));
	}
	const char *hash = memchr(ae, '#', (size_t)(e - ae));
	const char *qe = hash ? hash : e;
	const char *q = memchr(ae, '?', (size_t)(qe - ae));
	if (!q) {
		kp_buf_add(b, ae, (size_t)(e - ae));
		return e;
	}
	kp_buf_add(b, ae, (size_t)(q + 1 - ae));
	mask_query(b, q + 1, qe);
	kp_buf_add(b, qe, (size_t)(e - qe));
	return e;
}

char *kp_mask_url_credentials(const char *text)
{
	kp_buf b;
	kp_buf_init(&b);
	const char *p = text ? text : "";
	for (;;) {
		const char *sep = strstr(p, "://");
		if (!sep)
			break;
		const char *s = sep;
		while (s > p && scheme_char((unsigned char)s[-1]))
			s--;
		while (s < sep && !isalpha((unsigned char)*s))
			s++;
		if (s == sep) { /* no scheme: not a URL */
			kp_buf_add(&b, p, (size_t)(sep + 3 - p));
			p = sep + 3;
			continue;
		}
		kp_buf_add(&b, p, (size_t)(sep + 3 - p));
		p = mask_one(&b, sep + 3);
	}
	kp_buf_puts(&b, p);
	return kp_buf_detach(&b);
}
