/*
 * runtime.c - see runtime.h.
 */
#include "stages/collect/runtime.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/kp.h"

#define KI 1024LL

/* "<digits>[unit]" with units as the JVM reads them (k, m, g, t, either
 * case, 1024-based; none: bytes); -1 when not that */
static int64_t jvm_size(const char *s, size_t n)
{
	if (!n || !isdigit((unsigned char)s[0]))
		return -1;
	int64_t v = 0;
	size_t i = 0;
	for (; i < n && isdigit((unsigned char)s[i]); i++) {
		if (v > INT64_MAX / 10 - 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == n)
		return v;
	if (i + 1 != n)
		return -1;
	switch (tolower((unsigned char)s[i])) {
	case 'k': return v * KI;
	case 'm': return v * KI * KI;
	case 'g': return v * KI * KI * KI;
	case 't': return v * KI * KI * KI * KI;
	default: return -1;
	}
}

/* GOMEMLIMIT: "<digits>[B|KiB|MiB|GiB|TiB]" */
static int64_t go_size(const char *s)
{
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (end == s || v < 0)
		return -1;
	static const struct {
		const char *u;
		int64_t m;
	} units[] = {{"", 1}, {"B", 1}, {"KiB", KI}, {"MiB", KI * KI}, {"GiB", KI * KI * KI}, {"TiB", KI * KI * KI * KI}};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].u))
			return (int64_t)v * units[i].m;
	return -1;
}

/* a hexadecimal value, "0x" optional (.NET's GC settings are hex) */
static int64_t hex_value(const char *s)
{
	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
		s += 2;
	if (!*s)
		return -1;
	char *end = NULL;
	long long v = strtoll(s, &end, 16);
	return *end || v < 0 ? -1 : (int64_t)v;
}

static void take_bytes(kp_runtime_mem *out, int64_t b, const char *tok, size_t n, const char *where)
{
	out->found++;
	if (b > out->heap_b) {
		out->heap_b = b;
		snprintf(out->setting, sizeof(out->setting), "%.*s in %s", (int)n, tok, where);
	}
}

static void take_pct(kp_runtime_mem *out, double p, const char *tok, size_t n, const char *where)
{
	out->found++;
	if (p > 0 && p <= 100 && p > out->heap_pct) {
		out->heap_pct = p;
		if (!out->heap_b) /* bytes, when known, name the setting */
			snprintf(out->setting, sizeof(out->setting), "%.*s in %s", (int)n, tok, where);
	}
}

/* one whitespace-separated token of a command line or an options variable */
static void token(const char *t, size_t n, const char *where, kp_runtime_mem *out)
{
	/* a quoted token in an options string: its inside */
	if (n >= 2 && (t[0] == '"' || t[0] == '\'') && t[n - 1] == t[0])
		t++, n -= 2;
	char buf[96];
	if (n >= sizeof(buf))
		return;
	memcpy(buf, t, n);
	buf[n] = '\0';
	int64_t b;
	if (!strncmp(buf, "-Xmx", 4) && (b = jvm_size(buf + 4, n - 4)) > 0)
		take_bytes(out, b, t, n, where);
	else if (!strncmp(buf, "-XX:MaxHeapSize=", 16) && (b = jvm_size(buf + 16, n - 16)) > 0)
		take_bytes(out, b, t, n, where);
	else if (!strncmp(buf, "-XX:MaxRAMPercentage=", 21))
		take_pct(out, strtod(buf + 21, NULL), t, n, where);
	else if (!strncmp(buf, "-XX:MaxRAMFraction=", 19) && atoi(buf + 19) > 0)
		take_pct(out, 100.0 / atoi(buf + 19), t, n, where);
	else if ((!strncmp(buf, "--max-old-space-size=", 21) || !strncmp(buf, "--max_old_space_size=", 21)) &&
		 isdigit((unsigned char)buf[n - 1]) && (b = jvm_size(buf + 21, n - 21)) > 0)
		take_bytes(out, b * KI * KI, t, n, where); /* MiB, digits only */
}

static void words(const char *s, const char *where, kp_runtime_mem *out)
{
	for (const char *p = s; p && *p;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		const char *e = p;
		while (*e && !isspace((unsigned char)*e))
			e++;
		if (e > p)
			token(p, (size_t)(e - p), where, out);
		p = e;
	}
}

static bool is_one_of(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(name, *list))
			return true;
	return false;
}

static const char *const java_vars[] = {"JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS", "JAVA_OPTS",
					"JAVA_OPTIONS", "CATALINA_OPTS", "JVM_OPTS", "ES_JAVA_OPTS", NULL};
static const char *const other_vars[] = {"NODE_OPTIONS", "GOMEMLIMIT", "DOTNET_GCHeapHardLimit",
					 "COMPlus_GCHeapHardLimit", "DOTNET_GCHeapHardLimitPercent",
					 "COMPlus_GCHeapHardLimitPercent", NULL};

bool kp_runtime_env_var(const char *name, size_t len)
{
	char n[64];
	if (len >= sizeof(n) || memchr(name, '\0', len))
		return false;
	memcpy(n, name, len);
	n[len] = '\0';
	return is_one_of(n, java_vars) || is_one_of(n, other_vars);
}

void kp_runtime_env_keep(const char *name, size_t name_len, const char *value, size_t len, char *out, size_t n)
{
	out[0] = '\0';
	char nm[64], *v = NULL;
	if (!kp_runtime_env_var(name, name_len) || !n || memchr(value, '\0', len))
		return;
	memcpy(nm, name, name_len);
	nm[name_len] = '\0';
	v = kp_xasprintf("%.*s", (int)len, value);
	/* each word on its own: the ones that are settings are kept */
	size_t used = 0;
	for (const char *p = v; *p;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		const char *e = p;
		while (*e && !isspace((unsigned char)*e))
			e++;
		if (e == p)
			break;
		char w[128];
		size_t wl = (size_t)(e - p);
		const char *ws = p;
		if (wl >= 2 && (ws[0] == '"' || ws[0] == '\'') && ws[wl - 1] == ws[0])
			ws++, wl -= 2; /* a quoted word: its inside */
		snprintf(w, sizeof(w), "%.*s", (int)wl, ws);
		const char *names[] = {nm}, *values[] = {w};
		kp_runtime_mem r;
		kp_runtime_memory(NULL, NULL, names, values, 1, &r);
		/* a setting, and nothing but letters, digits and -:=._ (never a
		 * quote or a backslash: it goes into JSON as it is) */
		bool plain = r.found > 0 && strlen(w) < 96;
		for (const char *c = w; plain && *c; c++)
			plain = isalnum((unsigned char)*c) || strchr("-:=._", *c);
		if (plain && used + strlen(w) + 2 < n)
			used += (size_t)snprintf(out + used, n - used, "%s%s", used ? " " : "", w);
		p = e;
	}
	free(v);
}

void kp_runtime_memory(const char *const *command, const char *const *args, const char *const *env_names,
		       const char *const *env_values, size_t nenv, kp_runtime_mem *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; command && command[i]; i++)
		words(command[i], "the command", out);
	for (size_t i = 0; args && args[i]; i++)
		words(args[i], "the args", out);
	for (size_t i = 0; i < nenv; i++) {
		const char *n = env_names[i], *v = env_values[i];
		if (!n || !v)
			continue;
		char where[96];
		snprintf(where, sizeof(where), "env %s", n);
		int64_t b;
		if (is_one_of(n, java_vars) || !strcmp(n, "NODE_OPTIONS")) {
			words(v, where, out);
		} else if (!strcmp(n, "GOMEMLIMIT") && strcmp(v, "off") && (b = go_size(v)) > 0) {
			char t[96];
			snprintf(t, sizeof(t), "GOMEMLIMIT=%s", v);
			take_bytes(out, b, t, strlen(t), "env");
		} else if ((!strcmp(n, "DOTNET_GCHeapHardLimit") || !strcmp(n, "COMPlus_GCHeapHardLimit")) &&
			   (b = hex_value(v)) > 0) {
			char t[96];
			snprintf(t, sizeof(t), "%s=%s", n, v);
			take_bytes(out, b, t, strlen(t), "env");
		} else if ((!strcmp(n, "DOTNET_GCHeapHardLimitPercent") || !strcmp(n, "COMPlus_GCHeapHardLimitPercent")) &&
			   (b = hex_value(v)) > 0) {
			char t[96];
			snprintf(t, sizeof(t), "%s=%s", n, v);
			take_pct(out, (double)b, t, strlen(t), "env");
		}
	}
}

int64_t kp_runtime_heap(const kp_runtime_mem *r, int64_t limit_b)
{
	int64_t pct = 0;
	if (r->heap_pct > 0) {
		if (limit_b <= 0)
			return -1; /* a share of the node's memory: no bound */
		if (limit_b > 0)
			pct = (int64_t)((double)limit_b * r->heap_pct / 100.0);
	}
	return r->heap_b > pct ? r->heap_b : pct;
}
