/*
 * config.c - the effective configuration: defaults < YAML file < environment
 * < flags (--set key=value).
 *
 * Everything is driven by one table, config_keys[] below: one row per key
 * with its dotted YAML name, its environment variable (the Python seed's name
 * where one existed, otherwise KOPILOT_<UPPER_SNAKE_OF_KEY>), its type, where
 * it lives in kp_config, whether it is a secret, and a validator. Every layer
 * (file, env, flag) goes through the same path: text or YAML node -> typed
 * temporary value -> validator -> commit. kp_config.sources[i] and
 * source_detail[i] are indexed by the row number.
 *
 * Ownership: kp_config owns every string and list it points to (heap, freed
 * by kp_config_release). Loading functions copy what they keep; the caller
 * keeps ownership of paths and assignments passed in. kp_config_show()
 * returns a heap string (caller frees); kp_config_to_json() returns a new
 * json-c reference (caller puts).
 *
 * Secrets are never echoed: not in show/to_json (masked), and not in error
 * messages (the offending value is replaced by "(secret)"). Credentials in
 * URLs (http://user:pw@host, ?token=...) are masked wherever a value is
 * shown, written or quoted in a message (urlmask.h); the configuration keeps
 * the real value.
 */
#include "pipeline/config.h"

#include "pipeline/quantity.h"
#include "pipeline/prices.h"
#include "pipeline/rundir.h"
#include "pipeline/safety.h"
#include "pipeline/urlmask.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* ---- value types and the key table ---- */

typedef enum {
	T_DOUBLE,
	T_INT,    /* int field */
	T_INT64,  /* int64_t field, plain integer */
	T_BYTES,  /* int64_t field; plain integer or a quantity such as "32Mi" */
	T_BOOL,
	T_STRING, /* char *, NULL = unset */
	T_LIST,   /* kp_strlist */
} key_type;

/* How a list is written in an environment variable. */
typedef enum { LIST_JSON, LIST_COLON } list_syntax;

/* Where a textual value comes from: decides list syntax and trimming. */
typedef enum { SYN_YAML, SYN_ENV, SYN_FLAG } syntax;

/* A parsed value before it is committed; owns s and l. */
typedef struct {
	double d;
	int64_t i;
	bool b;
	char *s;
	kp_strlist l;
} cfg_value;

/* Returns true when v is acceptable. On false it may write a complete reason
 * into why (otherwise the key's `expect` phrase is used). */
typedef bool (*validator)(const cfg_value *v, char *why, size_t n);
/* Optional fix-up after validation (dedup, adding built-ins). */
typedef void (*normalizer)(cfg_value *v);

typedef struct {
	const char *key;    /* dotted YAML key */
	const char *env;    /* seed environment variable, NULL = KOPILOT_<KEY> */
	key_type type;
	size_t offset;      /* into kp_config */
	bool secret;
	validator check;    /* NULL = any value of the type */
	const char *expect; /* "a number >= 0"; for lists: what the items are */
	list_syntax list_env;
	normalizer normalize;
} cfg_key;

static const char *const builtin_skills[] = {"security",        "administration",   "networking",
					     "monitoring",      "troubleshooting", "cost_optimization"};
static const char *const llm_providers[] = {"none", "ollama", "openai", "azure_openai", "anthropic", "gemini"};

/* -- validators -- */

static bool v_nonneg(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->d >= 0;
}

static bool v_positive(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->d > 0;
}

static bool v_margin(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->d >= 0 && v->d <= 10;
}

/* A fraction in [0, 1]: nodes.max_requested_ratio. */
static bool v_fraction(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->d >= 0 && v->d <= 1;
}

static bool v_nonneg_int(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i >= 0;
}

static bool v_positive_int64(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i > 0;
}

static bool v_percentile(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i == 50 || v->i == 95 || v->i == 99 || v->i == 100;
}

static bool v_api_token(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	/* a short token is guessable over a network */
	return !v->s || strlen(v->s) >= 16;
}

static bool v_tasks(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i >= 1 && v->i <= 1000;
}

static bool v_llm_timeout(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i >= 1 && v->i <= 3600;
}

static bool v_retries(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i >= 0 && v->i <= 10;
}

static bool v_retries_attempts(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i >= 1 && v->i <= 10;
}

static bool v_num_ctx(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i >= 512 && v->i <= 1048576;
}

static bool v_max_tokens(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i >= 16 && v->i <= 200000;
}

static bool v_explain_calls(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i >= 0 && v->i <= 1000;
}

static bool v_port(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i >= 1 && v->i <= 65535;
}

static bool v_approval(const cfg_value *v, char *why, size_t n)
{
	if (v->b)
		return true;
	snprintf(why, n, "approval for destructive actions cannot be disabled: deletes, drains, cordons and "
			 "scale-to-zero always need an explicit, audited approval (remove the setting or set it to true)");
	return false;
}

static bool v_currency(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	const char *s = v->s;
	return s && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' &&
	       s[2] <= 'Z';
}

static bool v_provider(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	for (size_t i = 0; v->s && i < sizeof(llm_providers) / sizeof(llm_providers[0]); i++)
		if (strcmp(v->s, llm_providers[i]) == 0)
			return true;
	return false;
}

static bool v_url(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	const char *s = v->s;
	if (!s)
		return false;
	const char *rest = strncmp(s, "http://", 7) == 0 ? s + 7 : strncmp(s, "https://", 8) == 0 ? s + 8 : NULL;
	if (!rest || !*rest || *rest == '/')
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ')
			return false;
	return true;
}

/* A Prometheus duration ("14d", "5m") of at least a second. */
static bool v_duration(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	int64_t sec;
	return v->s && kp_parse_duration(v->s, &sec) && sec >= 1;
}

static bool v_step(const cfg_value *v, char *why, size_t n)
{
	return (v->s && !strcmp(v->s, "auto")) || v_duration(v, why, n);
}

static bool v_forge(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->s && (!strcmp(v->s, "github") || !strcmp(v->s, "gitlab"));
}

static bool v_group_by(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->s && (!strcmp(v->s, "namespace") || !strcmp(v->s, "team") || !strcmp(v->s, "run"));
}

static bool v_optional_url(const cfg_value *v, char *why, size_t n)
{
	return !v->s || v_url(v, why, n);
}

static bool v_count(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i >= 1 && v->i <= 100000;
}

/* An HTTP header line "Name: value": a token name, no line breaks. */
static bool v_headers(const cfg_value *v, char *why, size_t n)
{
	for (size_t i = 0; i < v->l.len; i++) {
		const char *h = v->l.items[i], *colon = strchr(h, ':');
		bool ok = colon && colon > h;
		for (const char *p = h; ok && p < colon; p++)
			ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
			     *p == '_';
		for (const char *p = h; ok && *p; p++)
			ok = *p != '\r' && *p != '\n';
		if (!ok) {
			snprintf(why, n, "item %zu: expected \"Name: value\" (e.g. \"X-Scope-OrgID: team-a\")", i);
			return false;
		}
	}
	return true;
}

/* A Prometheus label name. */
static bool v_label(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	const char *s = v->s;
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* A runtime's non-heap overhead: a share of its heap and a minimum; both
 * can be tuned, neither switched off (the floor protects against OOMs). */
static bool v_overhead_ratio(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->d >= 0.05 && v->d <= 2.0;
}

static bool v_overhead_min(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i >= (16LL << 20) && v->i <= (16LL << 30);
}

/* How far back an OOM kill in pod status still holds memory: at least a
 * day (the check protects against an OOM: it can be narrowed, never off). */
static bool v_history_days(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->i >= 1 && v->i <= 3650;
}

/* A Kubernetes label key: [prefix/]name, the name 1-63 of [A-Za-z0-9._-]. */
static bool v_label_key(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	const char *s = v->s, *slash = s ? strrchr(s, '/') : NULL, *name = slash ? slash + 1 : s;
	if (!s || !*name || strlen(name) > 63 || strlen(s) > 316)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("._-/", *p)))
			return false;
	return true;
}

static bool v_file_mode(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	mode_t m;
	return kp_file_mode_parse(v->s, &m);
}

/* The cluster name is printed on the terminal and in every report: plain
 * text, at most 253 bytes (a DNS name's length), no control character. */
static bool v_cluster_name(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return !v->s || (*v->s && strlen(v->s) <= 253 && kp_text_is_plain(v->s, strlen(v->s), false)); /* unset: derived */
}

static bool v_limit_policy(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->s && (strcmp(v->s, "raise") == 0 || strcmp(v->s, "remove") == 0);
}

static bool v_vpa_floor(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->s && (strcmp(v->s, "lower_bound") == 0 || strcmp(v->s, "target") == 0);
}

static bool v_not_evictable(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->s && (strcmp(v->s, "review") == 0 || strcmp(v->s, "skip") == 0);
}

static bool v_ratio(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->d > 0 && v->d <= 1;
}

static bool v_log_format(const cfg_value *v, char *why, size_t n)
{
	(void)why, (void)n;
	return v->s && (strcmp(v->s, "json") == 0 || strcmp(v->s, "console") == 0);
}

/* Writes s quoted and escaped, cut after 80 characters, for messages; the
 * credentials of a URL in it masked (urlmask.h). */
static void quote(const char *text, char *out, size_t n)
{
	size_t o = 0, i = 0;
	if (n < 8) {
		if (n)
			out[0] = '\0';
		return;
	}
	char *s = kp_mask_url_credentials(text);
	out[o++] = '"';
	for (; s[i] && i < 80 && o + 8 < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	if (s[i]) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	free(s);
}

static bool v_namespaces(const cfg_value *v, char *why, size_t n)
{
	for (size_t i = 0; i < v->l.len; i++) {
		if (!kp_namespace_name_valid(v->l.items[i])) {
			char q[128];
			quote(v->l.items[i], q, sizeof(q));
			snprintf(why, n,
				 "invalid namespace name %s: a namespace is a DNS-1123 label (lowercase letters, "
				 "digits and '-', starting and ending with a letter or digit, at most 63 characters)",
				 q);
			return false;
		}
	}
	return true;
}

static bool v_skills(const cfg_value *v, char *why, size_t n)
{
	for (size_t i = 0; i < v->l.len; i++) {
		const char *s = v->l.items[i];
		bool ok = *s && strlen(s) <= 63;
		for (const char *p = s; ok && *p; p++)
			ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			     *p == '_' || *p == '-' || *p == '.';
		if (!ok) {
			char q[128];
			quote(s, q, sizeof(q));
			snprintf(why, n, "invalid skill name %s: letters, digits, '_', '-' and '.', at most 63 characters",
				 q);
			return false;
		}
	}
	return true;
}

/* Exclusion patterns: POSIX extended regular expressions, anchored at both
 * ends when used (so "dev" never matches "devops"). */
static bool v_patterns(const cfg_value *v, char *why, size_t n)
{
	for (size_t i = 0; i < v->l.len; i++) {
		regex_t re;
		kp_buf b;
		kp_buf_init(&b);
		kp_buf_printf(&b, "^(%s)$", v->l.items[i]);
		int rc = regcomp(&re, b.data, REG_EXTENDED | REG_NOSUB);
		kp_buf_release(&b);
		if (rc != 0) {
			char q[128], msg[128];
			regerror(rc, NULL, msg, sizeof(msg));
			quote(v->l.items[i], q, sizeof(q));
			snprintf(why, n, "invalid pattern %s: %s", q, msg);
			return false;
		}
		regfree(&re);
	}
	return true;
}

static bool v_dirs(const cfg_value *v, char *why, size_t n)
{
	for (size_t i = 0; i < v->l.len; i++) {
		if (!*v->l.items[i]) {
			snprintf(why, n, "empty directory name in the list");
			return false;
		}
	}
	return true;
}

/* -- list helpers -- */

static void list_push(kp_strlist *l, const char *s)
{
	l->items = kp_xrealloc(l->items, (l->len + 1) * sizeof(char *));
	l->items[l->len++] = kp_xstrdup(s);
}

static void list_free(kp_strlist *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->len = 0;
}

bool kp_strlist_contains(const kp_strlist *l, const char *s)
{
	if (!l || !s)
		return false;
	for (size_t i = 0; i < l->len; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

/* Removes duplicates, keeping the first occurrence (order is kept so that
 * `config show` prints what the user wrote). */
static void n_dedup(cfg_value *v)
{
	kp_strlist out = {0};
	for (size_t i = 0; i < v->l.len; i++)
		if (!kp_strlist_contains(&out, v->l.items[i]))
			list_push(&out, v->l.items[i]);
	list_free(&v->l);
	v->l = out;
}

/* The built-in protected namespaces are always there: a user list adds to
 * them and can never replace them. */
static void n_namespaces(cfg_value *v)
{
	kp_strlist out = {0};
	for (size_t i = 0; i < sizeof(kp_builtin_protected_namespaces) / sizeof(kp_builtin_protected_namespaces[0]); i++)
		list_push(&out, kp_builtin_protected_namespaces[i]);
	for (size_t i = 0; i < v->l.len; i++)
		if (!kp_strlist_contains(&out, v->l.items[i]))
			list_push(&out, v->l.items[i]);
	list_free(&v->l);
	v->l = out;
}

#define OFF(field) offsetof(kp_config, field)

static const cfg_key config_keys[] = {
	/* prices */
	{"prices.cpu_core_hour", NULL, T_DOUBLE, OFF(prices.cpu_core_hour), false, v_nonneg, "a number >= 0", 0, NULL},
	{"prices.memory_gib_hour", NULL, T_DOUBLE, OFF(prices.memory_gib_hour), false, v_nonneg, "a number >= 0", 0, NULL},
	{"prices.storage_gib_month", NULL, T_DOUBLE, OFF(prices.storage_gib_month), false, v_nonneg, "a number >= 0", 0,
	 NULL},
	{"prices.load_balancer_hour", NULL, T_DOUBLE, OFF(prices.load_balancer_hour), false, v_nonneg, "a number >= 0", 0,
	 NULL},
	{"prices.hours_per_month", NULL, T_DOUBLE, OFF(prices.hours_per_month), false, v_positive, "a number > 0", 0,
	 NULL},
	{"prices.currency", NULL, T_STRING, OFF(prices.currency), false, v_currency,
	 "a 3-letter uppercase currency code such as USD", 0, NULL},
	/* OpenCost custom pricing file: loaded when set, see apply_custom_pricing() */
	{"prices.custom_pricing_file", NULL, T_STRING, OFF(prices.custom_pricing_file), false, NULL, "a file path", 0, NULL},
	/* a FOCUS billing export: read by the recommend stage (pipeline/focus.h) */
	{"prices.focus_file", NULL, T_STRING, OFF(prices.focus_file), false, NULL, "a file path", 0, NULL},
	/* rightsizing */
	{"rightsizing.cpu_percentile", NULL, T_INT, OFF(rules.rightsizing.cpu_percentile), false, v_percentile,
	 "one of 50, 95, 99, 100", 0, NULL},
	{"rightsizing.cpu_margin", NULL, T_DOUBLE, OFF(rules.rightsizing.cpu_margin), false, v_margin,
	 "a number between 0 and 10 (a fraction: 0.15 = 15%)", 0, NULL},
	{"rightsizing.memory_margin", NULL, T_DOUBLE, OFF(rules.rightsizing.memory_margin), false, v_margin,
	 "a number between 0 and 10 (a fraction: 0.20 = 20%)", 0, NULL},
	{"rightsizing.cpu_floor_millicores", NULL, T_INT64, OFF(rules.rightsizing.cpu_floor_m), false, v_nonneg_int,
	 "an integer number of millicores >= 0", 0, NULL},
	{"rightsizing.memory_floor_bytes", NULL, T_BYTES, OFF(rules.rightsizing.memory_floor_b), false, v_nonneg_int,
	 "a number of bytes or a quantity such as 32Mi", 0, NULL},
	{"rightsizing.min_relative_change", NULL, T_DOUBLE, OFF(rules.rightsizing.min_relative_change), false, v_nonneg,
	 "a number >= 0 (a fraction: 0.20 = 20%)", 0, NULL},
	{"rightsizing.min_cpu_change_millicores", NULL, T_INT64, OFF(rules.rightsizing.min_cpu_change_m), false, v_nonneg_int,
	 "an integer number of millicores >= 0", 0, NULL},
	{"rightsizing.min_memory_change_bytes", NULL, T_BYTES, OFF(rules.rightsizing.min_memory_change_b), false, v_nonneg_int,
	 "a number of bytes or a quantity such as 64Mi", 0, NULL},
	{"rightsizing.min_monthly_savings", NULL, T_DOUBLE, OFF(rules.rightsizing.min_monthly_savings), false, v_nonneg,
	 "a number >= 0", 0, NULL},
	{"rightsizing.runtime_overhead_ratio", NULL, T_DOUBLE, OFF(rules.rightsizing.runtime_overhead_ratio), false,
	 v_overhead_ratio, "a number between 0.05 and 2 (never 0: it protects against an OOM)", 0, NULL},
	{"rightsizing.runtime_overhead_min_bytes", NULL, T_BYTES, OFF(rules.rightsizing.runtime_overhead_min_b), false,
	 v_overhead_min, "a quantity between 16Mi and 16Gi", 0, NULL},
	{"rightsizing.oom_history_days", NULL, T_INT, OFF(rules.rightsizing.oom_history_days), false, v_history_days,
	 "an integer between 1 and 3650 (never 0: it protects against an OOM)", 0, NULL},
	{"rightsizing.min_history_hours", NULL, T_DOUBLE, OFF(rules.rightsizing.min_history_hours), false, v_nonneg, "a number >= 0",
	 0, NULL},
	{"rightsizing.min_batch_runs", NULL, T_INT, OFF(rules.rightsizing.min_batch_runs), false, v_nonneg_int, "an integer >= 0", 0,
	 NULL},
	{"rightsizing.throttling_threshold", NULL, T_DOUBLE, OFF(rules.rightsizing.throttling_threshold), false, v_ratio,
	 "a number above 0 and at most 1", 0, NULL},
	{"rightsizing.throttled_cpu_limit", NULL, T_STRING, OFF(rules.rightsizing.throttled_cpu_limit), false, v_limit_policy,
	 "raise or remove", 0, NULL},
	{"rightsizing.vpa_floor", NULL, T_STRING, OFF(rules.rightsizing.vpa_floor), false, v_vpa_floor,
	 "lower_bound or target", 0, NULL},
	/* orphaned PVCs */
	{"orphaned_pvc.grace_days", NULL, T_DOUBLE, OFF(rules.orphaned_pvc.grace_days), false, v_nonneg, "a number >= 0", 0, NULL},
	/* idle workloads */
	{"idle.cpu_millicores", NULL, T_DOUBLE, OFF(rules.idle.cpu_m), false, v_nonneg, "a number of millicores >= 0", 0,
	 NULL},
	{"idle.cpu_max_millicores", NULL, T_DOUBLE, OFF(rules.idle.cpu_max_m), false, v_nonneg,
	 "a number of millicores >= 0", 0, NULL},
	{"idle.memory_variation_bytes", NULL, T_BYTES, OFF(rules.idle.memory_variation_b), false, v_nonneg_int,
	 "a number of bytes or a quantity such as 16Mi", 0, NULL},
	{"idle.min_history_days", NULL, T_DOUBLE, OFF(rules.idle.min_history_days), false, v_nonneg, "a number >= 0", 0,
	 NULL},
	/* zero-replica workloads, finished jobs */
	{"zero_replica.grace_days", NULL, T_DOUBLE, OFF(rules.zero_replica.grace_days), false, v_nonneg, "a number >= 0",
	 0, NULL},
	{"finished_job.grace_days", NULL, T_DOUBLE, OFF(rules.finished_job.grace_days), false, v_nonneg,
	 "a number >= 0", 0, NULL},
	/* unbound PVs, idle load balancers, underutilized nodes */
	{"unbound_pv.grace_days", NULL, T_DOUBLE, OFF(rules.unbound_pv.grace_days), false, v_nonneg, "a number >= 0", 0,
	 NULL},
	{"idle_loadbalancer.grace_hours", NULL, T_DOUBLE, OFF(rules.idle_loadbalancer.grace_hours), false, v_nonneg,
	 "a number >= 0", 0, NULL},
	{"nodes.max_requested_ratio", NULL, T_DOUBLE, OFF(rules.nodes.max_requested_ratio), false, v_fraction,
	 "a number between 0 and 1 (a fraction: 0.5 = 50%)", 0, NULL},
	{"nodes.min_nodes", NULL, T_INT, OFF(rules.nodes.min_nodes), false, v_nonneg_int, "an integer >= 0", 0, NULL},
	{"nodes.not_evictable_pods", NULL, T_STRING, OFF(rules.nodes.not_evictable_pods), false, v_not_evictable,
	 "review or skip", 0, NULL},
	/* output */
	{"output.file_mode", NULL, T_STRING, OFF(output.file_mode), false, v_file_mode,
	 "an octal mode with owner read-write and no execute bits, e.g. \"0600\" or \"0640\"", 0, NULL},
	/* safety */
	{"safety.protected_namespaces", "SAFETY_PROTECTED_NAMESPACES", T_LIST, OFF(safety.protected_namespaces), false,
	 v_namespaces, "namespace names", LIST_JSON, n_namespaces},
	{"safety.require_approval_destructive", "SAFETY_REQUIRE_APPROVAL_DESTRUCTIVE", T_BOOL,
	 OFF(safety.require_approval_destructive), false, v_approval, "true", 0, NULL},
	{"safety.max_concurrent_tasks", "SAFETY_MAX_CONCURRENT_TASKS", T_INT, OFF(safety.max_concurrent_tasks), false,
	 v_tasks, "an integer between 1 and 1000", 0, NULL},
	/* LLM */
	{"llm.provider", "LLM_PROVIDER", T_STRING, OFF(llm.provider), false, v_provider,
	 "one of none, ollama, openai, azure_openai, anthropic, gemini", 0, NULL},
	{"llm.model", "LLM_MODEL", T_STRING, OFF(llm.model), false, NULL, "a model name", 0, NULL},
	{"llm.ollama_base_url", "OLLAMA_BASE_URL", T_STRING, OFF(llm.ollama_base_url), false, v_url,
	 "an http:// or https:// URL", 0, NULL},
	{"llm.gemini_api_key", "GEMINI_API_KEY", T_STRING, OFF(llm.gemini_api_key), true, NULL, "an API key", 0, NULL},
	{"llm.gemini_model", "GEMINI_MODEL", T_STRING, OFF(llm.gemini_model), false, NULL, "a model name", 0, NULL},
	{"llm.gemini_base_url", "GEMINI_BASE_URL", T_STRING, OFF(llm.gemini_base_url), false, v_url,
	 "an http:// or https:// URL", 0, NULL},
	{"llm.openai_api_key", "OPENAI_API_KEY", T_STRING, OFF(llm.openai_api_key), true, NULL, "an API key", 0, NULL},
	{"llm.openai_base_url", "OPENAI_BASE_URL", T_STRING, OFF(llm.openai_base_url), false, v_url,
	 "an http:// or https:// URL", 0, NULL},
	{"llm.azure_endpoint", "AZURE_OPENAI_ENDPOINT", T_STRING, OFF(llm.azure_endpoint), false, v_optional_url,
	 "an http:// or https:// URL", 0, NULL},
	{"llm.azure_api_key", "AZURE_OPENAI_API_KEY", T_STRING, OFF(llm.azure_api_key), true, NULL, "an API key", 0,
	 NULL},
	{"llm.azure_api_version", "AZURE_OPENAI_API_VERSION", T_STRING, OFF(llm.azure_api_version), false, NULL,
	 "an API version such as 2024-10-21", 0, NULL},
	{"llm.azure_deployment", "AZURE_OPENAI_DEPLOYMENT", T_STRING, OFF(llm.azure_deployment), false, NULL,
	 "a deployment name", 0, NULL},
	{"llm.anthropic_api_key", "ANTHROPIC_API_KEY", T_STRING, OFF(llm.anthropic_api_key), true, NULL, "an API key", 0,
	 NULL},
	{"llm.anthropic_base_url", "ANTHROPIC_BASE_URL", T_STRING, OFF(llm.anthropic_base_url), false, v_url,
	 "an http:// or https:// URL", 0, NULL},
	{"llm.anthropic_model", "ANTHROPIC_MODEL", T_STRING, OFF(llm.anthropic_model), false, NULL, "a model name", 0,
	 NULL},
	{"llm.timeout_seconds", NULL, T_INT, OFF(llm.timeout_seconds), false, v_llm_timeout,
	 "an integer number of seconds between 1 and 3600", 0, NULL},
	{"llm.max_retries", NULL, T_INT, OFF(llm.max_retries), false, v_retries, "an integer between 0 and 10", 0, NULL},
	{"llm.num_ctx", NULL, T_INT, OFF(llm.num_ctx), false, v_num_ctx, "an integer between 512 and 1048576", 0, NULL},
	{"llm.max_tokens", NULL, T_INT, OFF(llm.max_tokens), false, v_max_tokens, "an integer between 16 and 200000", 0,
	 NULL},
	{"llm.explain", NULL, T_BOOL, OFF(llm.explain), false, NULL, "true or false", 0, NULL},
	{"llm.anonymize", NULL, T_BOOL, OFF(llm.anonymize), false, NULL, "true or false", 0, NULL},
	{"llm.explain_max_calls", NULL, T_INT, OFF(llm.explain_max_calls), false, v_explain_calls,
	 "an integer between 0 and 1000", 0, NULL},
	{"llm.cache_dir", NULL, T_STRING, OFF(llm.cache_dir), false, NULL, "a directory", 0, NULL},
	/* scope: which objects are judged at all */
	{"scope.include_namespaces", NULL, T_LIST, OFF(scope.include_namespaces), false, v_patterns,
	 "anchored regular expressions", LIST_JSON, n_dedup},
	{"scope.exclude_namespaces", NULL, T_LIST, OFF(scope.exclude_namespaces), false, v_patterns,
	 "anchored regular expressions", LIST_JSON, n_dedup},
	{"scope.exclude_kinds", NULL, T_LIST, OFF(scope.exclude_kinds), false, v_patterns, "anchored regular expressions",
	 LIST_JSON, n_dedup},
	/* skills */
	{"skills.enabled", "ENABLED_SKILLS", T_LIST, OFF(llm.enabled_skills), false, v_skills, "skill names", LIST_JSON,
	 n_dedup},
	{"skills.dirs", "SKILL_DIRS", T_LIST, OFF(llm.skill_dirs), false, v_dirs, "directories", LIST_COLON, n_dedup},
	/* logging and metrics */
	{"log.format", "LOG_FORMAT", T_STRING, OFF(log.format), false, v_log_format, "json or console", 0, NULL},
	{"serve.port", NULL, T_INT, OFF(serve.port), false, v_port, "an integer between 1 and 65535", 0, NULL},
	{"serve.address", NULL, T_STRING, OFF(serve.address), false, NULL, "an IP address", 0, NULL},
	{"serve.api_token", "KOPILOT_API_TOKEN", T_STRING, OFF(serve.api_token), true, v_api_token,
	 "at least 16 characters", 0, NULL},
	{"serve.api_token_file", NULL, T_STRING, OFF(serve.api_token_file), false, NULL, "a file path", 0, NULL},
	{"serve.state_dir", NULL, T_STRING, OFF(serve.state_dir), false, NULL, "a directory", 0, NULL},
	{"serve.max_body_bytes", NULL, T_INT64, OFF(serve.max_body_bytes), false, v_positive_int64,
	 "a number of bytes > 0", 0, NULL},
	{"serve.rate_limit_per_minute", NULL, T_INT, OFF(serve.rate_limit_per_minute), false, v_tasks,
	 "an integer between 1 and 1000", 0, NULL},
	{"serve.queue_size", NULL, T_INT, OFF(serve.queue_size), false, v_tasks, "an integer between 1 and 1000", 0,
	 NULL},
	{"serve.shutdown_grace_seconds", NULL, T_INT, OFF(serve.shutdown_grace_seconds), false, v_nonneg_int,
	 "an integer >= 0", 0, NULL},
	{"serve.client_timeout_seconds", NULL, T_INT, OFF(serve.client_timeout_seconds), false, v_tasks,
	 "an integer between 1 and 1000", 0, NULL},
	{"serve.allowed_origins", NULL, T_LIST, OFF(serve.allowed_origins), false, NULL, "origins such as "
	 "https://console.example.com", LIST_JSON, NULL},
	{"operator.event_threshold", NULL, T_INT, OFF(operator_.event_threshold), false, v_tasks,
	 "an integer between 1 and 1000", 0, NULL},
	{"operator.event_cooldown_minutes", NULL, T_INT, OFF(operator_.event_cooldown_minutes), false, v_tasks,
	 "an integer between 1 and 1000", 0, NULL},
	{"slack.signing_secret", "SLACK_SIGNING_SECRET", T_STRING, OFF(slack.signing_secret), true, NULL,
	 "the app's signing secret", 0, NULL},
	{"slack.bot_token", "SLACK_BOT_TOKEN", T_STRING, OFF(slack.bot_token), true, NULL, "a bot token (xoxb-...)", 0,
	 NULL},
	{"slack.api_url", NULL, T_STRING, OFF(slack.api_url), false, v_url, "an http:// or https:// URL", 0, NULL},
	{"metrics.enabled", "METRICS_ENABLED", T_BOOL, OFF(serve.metrics_enabled), false, NULL, "true or false", 0, NULL},
	{"metrics.port", "METRICS_PORT", T_INT, OFF(serve.metrics_port), false, v_port, "an integer between 1 and 65535",
	 0, NULL},
	{"metrics.pushgateway_url", "PUSHGATEWAY_URL", T_STRING, OFF(run_metrics.pushgateway_url), false, v_optional_url,
	 "an http:// or https:// URL", 0, NULL},
	{"metrics.pushgateway_username", NULL, T_STRING, OFF(run_metrics.pushgateway_username), false, NULL,
	 "a user name", 0, NULL},
	{"metrics.pushgateway_password", "PUSHGATEWAY_PASSWORD", T_STRING, OFF(run_metrics.pushgateway_password), true,
	 NULL, "a password", 0, NULL},
	{"metrics.pushgateway_token", "PUSHGATEWAY_TOKEN", T_STRING, OFF(run_metrics.pushgateway_token), true, NULL,
	 "a bearer token", 0, NULL},
	{"metrics.textfile_dir", "METRICS_TEXTFILE_DIR", T_STRING, OFF(run_metrics.textfile_dir), false, NULL,
	 "a directory", 0, NULL},
	{"metrics.max_savings_series", NULL, T_INT, OFF(run_metrics.max_savings_series), false, v_count,
	 "an integer between 1 and 100000", 0, NULL},
	{"metrics.timeout_seconds", NULL, T_INT, OFF(run_metrics.timeout_seconds), false, v_tasks,
	 "an integer between 1 and 1000", 0, NULL},
	{"notify.slack_webhook_url", "SLACK_WEBHOOK_URL", T_STRING, OFF(notify.slack_webhook_url), true, v_optional_url,
	 "an http:// or https:// URL", 0, NULL},
	{"notify.webhook_url", "NOTIFY_WEBHOOK_URL", T_STRING, OFF(notify.webhook_url), true, v_optional_url,
	 "an http:// or https:// URL", 0, NULL},
	{"notify.slack_template", NULL, T_STRING, OFF(notify.slack_template), false, NULL, "a file path", 0, NULL},
	{"notify.webhook_template", NULL, T_STRING, OFF(notify.webhook_template), false, NULL, "a file path", 0, NULL},
	{"notify.report_url", "REPORT_URL", T_STRING, OFF(notify.report_url), false, v_optional_url,
	 "an http:// or https:// URL", 0, NULL},
	{"notify.timeout_seconds", NULL, T_INT, OFF(notify.timeout_seconds), false, v_tasks,
	 "an integer between 1 and 1000", 0, NULL},
	{"notify.max_attempts", NULL, T_INT, OFF(notify.max_attempts), false, v_retries_attempts,
	 "an integer between 1 and 10", 0, NULL},
	/* report and cluster */
	{"report.template", NULL, T_STRING, OFF(render.report_template), false, NULL, "a file path", 0, NULL},
	{"report.detail_findings", NULL, T_INT, OFF(render.detail_findings), false, v_nonneg_int, "an integer >= 0", 0,
	 NULL},
	{"report.row_findings", NULL, T_INT, OFF(render.row_findings), false, v_nonneg_int, "an integer >= 0", 0, NULL},
	/* the live cluster's API server */
	{"kube.timeout_seconds", NULL, T_INT, OFF(kube.timeout_seconds), false, v_count, "an integer between 1 and 100000",
	 0, NULL},
	{"kube.connect_timeout_seconds", NULL, T_INT, OFF(kube.connect_timeout_seconds), false, v_count,
	 "an integer between 1 and 100000", 0, NULL},
	{"kube.qps", NULL, T_DOUBLE, OFF(kube.qps), false, v_positive, "a number > 0", 0, NULL},
	{"kube.burst", NULL, T_INT, OFF(kube.burst), false, v_count, "an integer between 1 and 100000", 0, NULL},
	{"kube.page_size", NULL, T_INT, OFF(kube.page_size), false, v_count, "an integer between 1 and 100000", 0, NULL},
	{"kube.retries", NULL, T_INT, OFF(kube.retries), false, v_count, "an integer between 1 and 100000", 0, NULL},
	/* Prometheus (Thanos, Mimir, Cortex) */
	{"prometheus.url", "PROMETHEUS_URL", T_STRING, OFF(prometheus.url), false, v_optional_url,
	 "an http:// or https:// URL, with a path prefix if the server has one", 0, NULL},
	{"prometheus.window", NULL, T_STRING, OFF(prometheus.window), false, v_duration,
	 "a duration such as 14d, 7d or 36h", 0, NULL},
	{"prometheus.step", NULL, T_STRING, OFF(prometheus.step), false, v_step,
	 "auto, or a duration such as 1m or 5m", 0, NULL},
	{"prometheus.rate_window", NULL, T_STRING, OFF(prometheus.rate_window), false, v_duration,
	 "a duration such as 5m", 0, NULL},
	/* pull requests */
	{"pr.enabled", NULL, T_BOOL, OFF(pr.enabled), false, NULL, "true or false", 0, NULL},
	{"pr.repo", NULL, T_STRING, OFF(pr.repo), false, NULL,
	 "the manifests' repository: a checkout directory (pr.dry_run) or its URL", 0, NULL},
	{"pr.base", NULL, T_STRING, OFF(pr.base), false, NULL, "a branch name", 0, NULL},
	{"pr.forge", NULL, T_STRING, OFF(pr.forge), false, v_forge, "one of github, gitlab", 0, NULL},
	{"pr.group_by", NULL, T_STRING, OFF(pr.group_by), false, v_group_by, "one of namespace, team, run", 0, NULL},
	{"pr.dry_run", NULL, T_BOOL, OFF(pr.dry_run), false, NULL, "true or false", 0, NULL},
	{"pr.api_url", NULL, T_STRING, OFF(pr.api_url), false, v_optional_url,
	 "an http:// or https:// URL (GitHub Enterprise: https://HOST/api/v3)", 0, NULL},
	{"pr.cache_dir", NULL, T_STRING, OFF(pr.cache_dir), false, NULL, "a directory", 0, NULL},
	{"pr.label", NULL, T_STRING, OFF(pr.label), false, NULL, "a label name", 0, NULL},
	/* no environment variable of its own: which one is read depends on
	 * the forge (render.c: GITHUB_TOKEN or GITLAB_TOKEN, then GIT_TOKEN),
	 * so a GitHub token in the environment never goes to a GitLab host */
	{"pr.token", NULL, T_STRING, OFF(pr.token), true, NULL, "a token", 0, NULL},
	{"pr.token_file", NULL, T_STRING, OFF(pr.token_file), false, NULL, "a file path", 0, NULL},
	{"pr.ssh_key", NULL, T_STRING, OFF(pr.ssh_key), false, NULL, "a private key file", 0, NULL},
	{"pr.ssh_known_hosts", NULL, T_STRING, OFF(pr.ssh_known_hosts), false, NULL, "a known_hosts file", 0, NULL},
	{"pr.team_label", NULL, T_STRING, OFF(pr.team_label), false, v_label_key, "a label key", 0, NULL},
	{"prometheus.token", "PROMETHEUS_TOKEN", T_STRING, OFF(prometheus.token), true, NULL, "a bearer token", 0, NULL},
	{"prometheus.token_file", NULL, T_STRING, OFF(prometheus.token_file), false, NULL, "a file path", 0, NULL},
	{"prometheus.username", NULL, T_STRING, OFF(prometheus.username), false, NULL, "a user name", 0, NULL},
	{"prometheus.password", "PROMETHEUS_PASSWORD", T_STRING, OFF(prometheus.password), true, NULL, "a password", 0,
	 NULL},
	{"prometheus.ca_file", NULL, T_STRING, OFF(prometheus.ca_file), false, NULL, "a file path", 0, NULL},
	{"prometheus.insecure_skip_tls_verify", NULL, T_BOOL, OFF(prometheus.insecure_skip_tls_verify), false, NULL,
	 "true or false", 0, NULL},
	{"prometheus.headers", NULL, T_LIST, OFF(prometheus.headers), false, v_headers, "\"Name: value\" header lines",
	 LIST_JSON, NULL},
	{"prometheus.timeout_seconds", NULL, T_INT, OFF(prometheus.timeout_seconds), false, v_count,
	 "an integer between 1 and 100000", 0, NULL},
	{"prometheus.max_samples", NULL, T_INT64, OFF(prometheus.max_samples), false, v_positive_int64,
	 "an integer > 0", 0, NULL},
	{"prometheus.concurrency", NULL, T_INT, OFF(prometheus.concurrency), false, v_count,
	 "an integer between 1 and 100000", 0, NULL},
	{"prometheus.labels.namespace", NULL, T_STRING, OFF(prometheus.namespace_label), false, v_label,
	 "a Prometheus label name", 0, NULL},
	{"prometheus.labels.pod", NULL, T_STRING, OFF(prometheus.pod_label), false, v_label, "a Prometheus label name", 0,
	 NULL},
	{"prometheus.labels.container", NULL, T_STRING, OFF(prometheus.container_label), false, v_label,
	 "a Prometheus label name", 0, NULL},
	{"cluster.name", NULL, T_STRING, OFF(collect.cluster_name), false, v_cluster_name,
	 "a cluster name: up to 253 characters, no control characters", 0, NULL},
};

#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static void *field(const kp_config *c, const cfg_key *k) { return (char *)c + k->offset; }

static int find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(config_keys[i].key, name) == 0)
			return (int)i;
	return -1;
}

/* A section is a prefix of some key: "prices" for "prices.currency". */
static bool is_section(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < NKEYS; i++)
		if (strncmp(config_keys[i].key, name, n) == 0 && config_keys[i].key[n] == '.')
			return true;
	return false;
}

/* KOPILOT_PRICES_CPU_CORE_HOUR for prices.cpu_core_hour. */
static void env_name(const cfg_key *k, char *out, size_t n)
{
	if (k->env) {
		snprintf(out, n, "%s", k->env);
		return;
	}
	size_t o = (size_t)snprintf(out, n, "KOPILOT_");
	for (const char *p = k->key; *p && o + 1 < n; p++) {
		char ch = *p;
		out[o++] = ch == '.' ? '_' : (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
	}
	out[o] = '\0';
}

/* ---- init / release ---- */

static void set_default_list(kp_strlist *l, const char *const *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		list_push(l, items[i]);
}

void kp_config_init(kp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->prices.cpu_core_hour = 0.031611;
	c->prices.memory_gib_hour = 0.004237;
	c->prices.storage_gib_month = 0.04;
	c->prices.load_balancer_hour = 0.025;
	c->prices.hours_per_month = 730;
	c->prices.currency = kp_xstrdup("USD");
	c->prices.source = kp_xstrdup("default");
	c->prices.spot_cpu_core_hour = c->prices.spot_memory_gib_hour = c->prices.custom_storage_gib_hour = -1;

	c->kube.timeout_seconds = 120;
	c->kube.connect_timeout_seconds = 10;
	c->kube.qps = 50;
	c->kube.burst = 100;
	c->kube.page_size = 500;
	c->kube.retries = 5;
	c->prometheus.window = kp_xstrdup("14d");
	c->pr.base = kp_xstrdup("main");
	c->pr.forge = kp_xstrdup("github");
	c->pr.group_by = kp_xstrdup("namespace");
	c->pr.label = kp_xstrdup("kopilot");
	c->pr.team_label = kp_xstrdup("team");
	c->prometheus.step = kp_xstrdup("auto");
	c->prometheus.rate_window = kp_xstrdup("5m");
	c->prometheus.timeout_seconds = 120;
	c->prometheus.max_samples = 20000000;
	c->prometheus.concurrency = 2;
	c->prometheus.namespace_label = kp_xstrdup("namespace");
	c->prometheus.pod_label = kp_xstrdup("pod");
	c->prometheus.container_label = kp_xstrdup("container");

	c->rules.rightsizing.cpu_percentile = 95;
	c->rules.rightsizing.cpu_margin = 0.15;
	c->rules.rightsizing.memory_margin = 0.20;
	c->rules.rightsizing.oom_history_days = 30;
	c->rules.rightsizing.runtime_overhead_ratio = 0.25;
	c->rules.rightsizing.runtime_overhead_min_b = 128LL << 20;
	c->rules.rightsizing.cpu_floor_m = 10;
	c->rules.rightsizing.memory_floor_b = 32LL << 20;
	c->rules.rightsizing.min_relative_change = 0.20;
	c->rules.rightsizing.min_cpu_change_m = 50;
	c->rules.rightsizing.min_memory_change_b = 64LL << 20;
	c->rules.rightsizing.min_monthly_savings = 1.0;
	c->rules.rightsizing.min_history_hours = 24;
	c->rules.rightsizing.min_batch_runs = 3;
	c->rules.rightsizing.throttling_threshold = 0.10;
	c->rules.rightsizing.throttled_cpu_limit = kp_xstrdup("raise");
	c->rules.rightsizing.vpa_floor = kp_xstrdup("lower_bound");

	c->rules.orphaned_pvc.grace_days = 7;
	c->rules.idle.cpu_m = 5;
	c->rules.idle.cpu_max_m = 25;
	c->rules.idle.memory_variation_b = 16LL << 20;
	c->rules.idle.min_history_days = 7;
	c->rules.zero_replica.grace_days = 7;
	c->rules.finished_job.grace_days = 7;

	c->rules.unbound_pv.grace_days = 7;
	c->rules.idle_loadbalancer.grace_hours = 24;
	c->rules.nodes.max_requested_ratio = 0.5;
	c->rules.nodes.min_nodes = 1;
	c->rules.nodes.not_evictable_pods = kp_xstrdup("review");

	set_default_list(&c->safety.protected_namespaces, kp_builtin_protected_namespaces,
			 sizeof(kp_builtin_protected_namespaces) / sizeof(kp_builtin_protected_namespaces[0]));
	c->safety.require_approval_destructive = true;
	c->safety.max_concurrent_tasks = 5;

	c->output.file_mode = kp_xstrdup("0600");
	c->llm.provider = kp_xstrdup("none");
	c->llm.model = kp_xstrdup("gpt-oss:20b");
	c->llm.ollama_base_url = kp_xstrdup("http://localhost:11434");
	c->llm.gemini_api_key = NULL;
	c->llm.gemini_model = kp_xstrdup("gemini-2.5-flash");
	c->llm.gemini_base_url = kp_xstrdup("https://generativelanguage.googleapis.com");
	c->llm.openai_base_url = kp_xstrdup("https://api.openai.com/v1");
	c->llm.azure_api_version = kp_xstrdup("2024-10-21");
	c->llm.anthropic_base_url = kp_xstrdup("https://api.anthropic.com");
	c->llm.anthropic_model = kp_xstrdup("claude-sonnet-4-5");
	c->llm.timeout_seconds = 120;
	c->llm.max_retries = 3;
	c->llm.num_ctx = 8192;
	c->llm.max_tokens = 4096;
	c->llm.explain = true;
	c->llm.explain_max_calls = 20;
	/* answers kept between nightly runs (a PVC in the CronJob: set it there) */
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	c->llm.cache_dir = xdg && *xdg ? kp_xasprintf("%s/kopilot/llm", xdg)
			   : home && *home ? kp_xasprintf("%s/.cache/kopilot/llm", home)
					   : NULL;
	set_default_list(&c->llm.enabled_skills, builtin_skills, sizeof(builtin_skills) / sizeof(builtin_skills[0]));

	c->log.format = kp_xstrdup("console");
	c->serve.metrics_enabled = true;
	c->serve.metrics_port = 9090;
	c->run_metrics.max_savings_series = 1000;
	c->run_metrics.timeout_seconds = 10;
	c->notify.timeout_seconds = 10;
	c->notify.max_attempts = 4;
	c->serve.port = 8080;
	c->serve.address = kp_xstrdup("0.0.0.0");
	c->serve.max_body_bytes = 1 << 20;
	c->serve.rate_limit_per_minute = 120;
	c->serve.queue_size = 16;
	c->serve.shutdown_grace_seconds = 25;
	c->serve.client_timeout_seconds = 30;
	c->slack.api_url = kp_xstrdup("https://slack.com/api");
	c->operator_.event_threshold = 3;
	c->operator_.event_cooldown_minutes = 30;
	c->render.detail_findings = 200;
	c->render.row_findings = 2000;

	c->sources = kp_xcalloc(NKEYS, sizeof(*c->sources)); /* all KP_SRC_DEFAULT (0) */
	c->source_detail = kp_xcalloc(NKEYS, sizeof(*c->source_detail));
}

void kp_config_release(kp_config *c)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const cfg_key *k = &config_keys[i];
		if (k->type == T_STRING) {
			char **s = field(c, k);
			free(*s);
		} else if (k->type == T_LIST) {
			list_free(field(c, k));
		}
		if (c->source_detail)
			free(c->source_detail[i]);
	}
	free(c->prices.source);
	kp_pricing_config_release(c);
	free(c->sources);
	free(c->source_detail);
	memset(c, 0, sizeof(*c));
}

/* ---- parsing text into values ---- */

static void value_release(cfg_value *v)
{
	free(v->s);
	list_free(&v->l);
	memset(v, 0, sizeof(*v));
}

static bool parse_int(const char *s, int64_t *out)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end || errno == ERANGE)
		return false;
	*out = v;
	return true;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* A JSON array of strings, strictly: '["a","b"]'. */
static bool parse_json_list(const char *s, kp_strlist *out)
{
	json_tokener *tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	size_t len = strlen(s);
	json_object *obj = json_tokener_parse_ex(tok, s, (int)len);
	bool ok = obj && json_tokener_get_error(tok) == json_tokener_success &&
		  json_tokener_get_parse_end(tok) == len && json_object_is_type(obj, json_type_array);
	json_tokener_free(tok);
	for (size_t i = 0; ok && i < json_object_array_length(obj); i++) {
		json_object *it = json_object_array_get_idx(obj, i);
		if (!json_object_is_type(it, json_type_string))
			ok = false;
		else
			list_push(out, json_object_get_string(it));
	}
	json_object_put(obj);
	if (!ok)
		list_free(out);
	return ok;
}

/* Splits on sep, skipping empty parts (like PATH) and trimming spaces. */
static void split_list(const char *s, char sep, kp_strlist *out)
{
	const char *p = s;
	while (*p) {
		const char *e = strchr(p, sep);
		if (!e)
			e = p + strlen(p);
		const char *a = p, *b = e;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (b > a) {
			char *item = kp_xmalloc((size_t)(b - a) + 1);
			memcpy(item, a, (size_t)(b - a));
			item[b - a] = '\0';
			out->items = kp_xrealloc(out->items, (out->len + 1) * sizeof(char *));
			out->items[out->len++] = item;
		}
		p = *e ? e + 1 : e;
	}
}

/* Text -> typed value. Returns false if the text is not of the key's type. */
static bool parse_text(const cfg_key *k, const char *text, syntax syn, cfg_value *v)
{
	memset(v, 0, sizeof(*v));
	switch (k->type) {
	case T_DOUBLE:
		return kp_parse_number(text, &v->d);
	case T_INT:
		return parse_int(text, &v->i) && v->i >= INT_MIN && v->i <= INT_MAX;
	case T_INT64:
		return parse_int(text, &v->i);
	case T_BYTES:
		return kp_quantity_units(text, &v->i, NULL) == KP_OK;
	case T_BOOL:
		return parse_bool(text, &v->b);
	case T_STRING:
		v->s = *text ? kp_xstrdup(text) : NULL;
		return true;
	case T_LIST:
		if (syn == SYN_ENV) {
			if (k->list_env == LIST_JSON)
				return parse_json_list(text, &v->l);
			split_list(text, ':', &v->l);
			return true;
		}
		if (syn == SYN_FLAG) {
			if (text[0] == '[')
				return parse_json_list(text, &v->l);
			split_list(text, ',', &v->l);
			return true;
		}
		return false; /* YAML lists are sequences, handled by the caller */
	}
	return false;
}

/* "expected ..." for key k when written in syntax syn. */
static void expectation(const cfg_key *k, syntax syn, char *out, size_t n)
{
	if (k->type != T_LIST) {
		snprintf(out, n, "expected %s", k->expect);
		return;
	}
	if (syn == SYN_ENV)
		snprintf(out, n, "expected a %s list of %s", k->list_env == LIST_JSON ? "JSON" : "':'-separated",
			 k->expect);
	else if (syn == SYN_FLAG)
		snprintf(out, n, "expected a JSON list or a comma-separated list of %s", k->expect);
	else
		snprintf(out, n, "expected a list of %s", k->expect);
}

/* where: "kopilot.yaml:7: prices.cpu_core_hour", "LLM_PROVIDER", ...
 * got: already formatted ("\"cheap\"", "a mapping", "null"). */
static kp_status value_error(kp_error *err, const char *where, const cfg_key *k, syntax syn, const char *why,
			     const char *got)
{
	char exp[256];
	if (why && *why)
		return kp_fail(err, KP_ERR_USAGE, "%s: %s", where, why);
	expectation(k, syn, exp, sizeof(exp));
	return kp_fail(err, KP_ERR_USAGE, "%s: %s, got %s", where, exp, k->secret ? "(secret)" : got);
}

/* ---- commit ---- */

static void commit(kp_config *c, size_t idx, cfg_value *v, kp_config_source src, const char *detail)
{
	const cfg_key *k = &config_keys[idx];
	void *f = field(c, k);
	switch (k->type) {
	case T_DOUBLE: *(double *)f = v->d; break;
	case T_INT: *(int *)f = (int)v->i; break;
	case T_INT64:
	case T_BYTES: *(int64_t *)f = v->i; break;
	case T_BOOL: *(bool *)f = v->b; break;
	case T_STRING:
		free(*(char **)f);
		*(char **)f = v->s;
		v->s = NULL;
		break;
	case T_LIST:
		list_free(f);
		*(kp_strlist *)f = v->l;
		memset(&v->l, 0, sizeof(v->l));
		break;
	}
	c->sources[idx] = src;
	free(c->source_detail[idx]);
	c->source_detail[idx] = detail ? kp_xstrdup(detail) : NULL;
	/* "default" becomes "config"; a custom pricing file's source stays */
	/* naming a FOCUS export sets no price: its rates carry their own source */
	if (src != KP_SRC_DEFAULT && strncmp(k->key, "prices.", 7) == 0 && strcmp(k->key, "prices.focus_file") != 0 &&
	    strcmp(c->prices.source, "default") == 0) {
		free(c->prices.source);
		c->prices.source = kp_xstrdup("config");
	}
	value_release(v);
}

/* The price keys an OpenCost custom pricing file fills. */
static const char *const custom_price_keys[] = {"prices.cpu_core_hour", "prices.memory_gib_hour",
						"prices.storage_gib_month"};

/* Whether price key i currently holds a value from the custom pricing file
 * (its provenance is the file layer with the custom file's path). */
static bool from_custom_file(const kp_config *c, size_t i)
{
	return c->prices.custom_pricing_file && c->sources[i] == KP_SRC_FILE && c->source_detail[i] &&
	       strcmp(c->source_detail[i], c->prices.custom_pricing_file) == 0;
}

/* OpenCost's storage price is per GiB-hour: ours is per GiB-month, so it
 * follows hours_per_month whenever that changes. */
static void reprice_custom_storage(kp_config *c)
{
	int i = find_key("prices.storage_gib_month");
	if (i >= 0 && c->prices.custom_storage_gib_hour >= 0 && from_custom_file(c, (size_t)i))
		c->prices.storage_gib_month = c->prices.custom_storage_gib_hour * c->prices.hours_per_month;
}

/* prices.custom_pricing_file: the file's prices sit with the config-file
 * layer, whatever layer named the file: they replace defaults (and the
 * values of a previously named custom file), while a price key set
 * explicitly in the YAML file, the environment or --set still wins. */
static kp_status apply_custom_pricing(kp_config *c, size_t idx, cfg_value *v, kp_config_source src,
				      const char *detail, const char *where, kp_error *err)
{
	kp_custom_prices cp;
	if (v->s && kp_pricing_read_custom(v->s, &cp, err)) {
		value_release(v);
		return kp_error_prefix(err, "%s", where);
	}
	if (!v->s)
		cp.cpu_core_hour = cp.memory_gib_hour = cp.storage_gib_hour = cp.spot_cpu_core_hour =
			cp.spot_memory_gib_hour = -1;
	kp_config dflt;
	kp_config_init(&dflt);
	double vals[3] = {cp.cpu_core_hour, cp.memory_gib_hour,
			  cp.storage_gib_hour >= 0 ? cp.storage_gib_hour * c->prices.hours_per_month : -1};
	for (size_t j = 0; j < 3; j++) {
		int i = find_key(custom_price_keys[j]);
		if (i < 0)
			continue;
		bool old = from_custom_file(c, (size_t)i);
		if (c->sources[i] != KP_SRC_DEFAULT && !old)
			continue;
		double *fld = field(c, &config_keys[i]);
		free(c->source_detail[i]);
		c->source_detail[i] = NULL;
		if (vals[j] >= 0) {
			*fld = vals[j];
			c->sources[i] = KP_SRC_FILE;
			c->source_detail[i] = kp_xstrdup(v->s);
		} else {
			*fld = *(double *)field(&dflt, &config_keys[i]);
			c->sources[i] = KP_SRC_DEFAULT;
		}
	}
	kp_config_release(&dflt);
	c->prices.spot_cpu_core_hour = cp.spot_cpu_core_hour;
	c->prices.spot_memory_gib_hour = cp.spot_memory_gib_hour;
	c->prices.custom_storage_gib_hour = cp.storage_gib_hour;
	commit(c, idx, v, src, detail);
	if (c->prices.custom_pricing_file) {
		free(c->prices.source);
		c->prices.source = kp_xasprintf("opencost-custom-pricing:%s", c->prices.custom_pricing_file);
	}
	return KP_OK;
}

/* Validates, normalizes and commits v (consumed in every case). */
static kp_status check_and_commit(kp_config *c, size_t idx, cfg_value *v, kp_config_source src, const char *detail,
				  const char *where, syntax syn, const char *got, kp_error *err)
{
	const cfg_key *k = &config_keys[idx];
	char why[512] = "";
	if (k->check && !k->check(v, why, sizeof(why))) {
		value_release(v);
		return value_error(err, where, k, syn, why, got);
	}
	if (k->normalize)
		k->normalize(v);
	if (k->offset == OFF(prices.custom_pricing_file))
		return apply_custom_pricing(c, idx, v, src, detail, where, err);
	commit(c, idx, v, src, detail);
	if (k->offset == OFF(prices.hours_per_month))
		reprice_custom_storage(c);
	return KP_OK;
}

/* Applies a textual value (environment or flag). */
static kp_status apply_text(kp_config *c, size_t idx, const char *raw, syntax syn, kp_config_source src,
			    const char *detail, const char *where, kp_error *err)
{
	const cfg_key *k = &config_keys[idx];
	/* Surrounding blanks are noise from ConfigMaps and shell quoting. */
	while (*raw == ' ' || *raw == '\t' || *raw == '\n' || *raw == '\r')
		raw++;
	size_t len = strlen(raw);
	while (len && (raw[len - 1] == ' ' || raw[len - 1] == '\t' || raw[len - 1] == '\n' || raw[len - 1] == '\r'))
		len--;
	char *text = kp_xmalloc(len + 1);
	memcpy(text, raw, len);
	text[len] = '\0';
	char got[160];
	quote(text, got, sizeof(got));
	cfg_value v;
	kp_status st;
	if (!parse_text(k, text, syn, &v)) {
		value_release(&v);
		st = value_error(err, where, k, syn, NULL, got);
	} else {
		st = check_and_commit(c, idx, &v, src, detail, where, syn, got, err);
	}
	free(text);
	return st;
}

/* ---- environment ---- */

static const char *real_getenv(const char *name) { return getenv(name); }

kp_status kp_config_load_env(kp_config *c, const char *(*getenv_fn)(const char *name), kp_error *err)
{
	if (!getenv_fn)
		getenv_fn = real_getenv;
	for (size_t i = 0; i < NKEYS; i++) {
		char name[128];
		env_name(&config_keys[i], name, sizeof(name));
		const char *val = getenv_fn(name);
		if (!val || !*val)
			continue; /* empty counts as unset, as in the Python version */
		kp_status st = apply_text(c, i, val, SYN_ENV, KP_SRC_ENV, name, name, err);
		if (st)
			return st;
	}
	return KP_OK;
}

/* ---- flags ---- */

kp_status kp_config_set(kp_config *c, const char *assignment, kp_config_source src, kp_error *err)
{
	char q[160];
	quote(assignment ? assignment : "", q, sizeof(q));
	const char *eq = assignment ? strchr(assignment, '=') : NULL;
	if (!eq || eq == assignment)
		return kp_fail(err, KP_ERR_USAGE, "--set %s: expected key=value, e.g. prices.cpu_core_hour=0.05", q);
	size_t klen = (size_t)(eq - assignment);
	char key[128];
	/* only the key part is ever quoted back: the value may be a secret */
	if (klen >= sizeof(key))
		klen = sizeof(key) - 1;
	memcpy(key, assignment, klen);
	key[klen] = '\0';
	int idx = find_key(key);
	if (idx < 0) {
		quote(key, q, sizeof(q));
		return kp_fail(err, KP_ERR_USAGE,
			       "--set: unknown key %s (`kopilot config show` lists every key)", q);
	}
	char where[160];
	snprintf(where, sizeof(where), "%s%s", src == KP_SRC_FLAG ? "--set " : "", key);
	return apply_text(c, (size_t)idx, eq + 1, SYN_FLAG, src, src == KP_SRC_FLAG ? "--set" : NULL, where, err);
}

/* A flag that adds to a list key rather than replacing it
 * (--exclude-namespace NS: scope.exclude_namespaces). The key then shows
 * as set by that flag. */
kp_status kp_config_list_append(kp_config *c, const char *key, const char *item, const char *flag, kp_error *err)
{
	int idx = find_key(key);
	if (idx < 0 || config_keys[idx].type != T_LIST)
		return kp_fail(err, KP_ERR_INTERNAL, "%s is not a list key", key);
	list_push(field(c, &config_keys[idx]), item);
	c->sources[idx] = KP_SRC_FLAG;
	free(c->source_detail[idx]);
	c->source_detail[idx] = kp_xstrdup(flag);
	return KP_OK;
}

/* ---- YAML file ---- */

typedef struct {
	kp_config *c;
	yaml_document_t *doc;
	const char *path;
	size_t *seen_line; /* per key: line where this file set it, 0 = not yet */
} yaml_ctx;

static bool yaml_is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = (const char *)n->data.scalar.value;
	return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	       strcmp(s, "NULL") == 0;
}

static void yaml_describe(const yaml_node_t *n, char *out, size_t size)
{
	if (n->type == YAML_MAPPING_NODE)
		snprintf(out, size, "a mapping");
	else if (n->type == YAML_SEQUENCE_NODE)
		snprintf(out, size, "a list");
	else if (yaml_is_null(n))
		snprintf(out, size, "null");
	else
		quote((const char *)n->data.scalar.value, out, size);
}

static kp_status yaml_apply(yaml_ctx *x, size_t idx, yaml_node_t *val, const char *where, kp_error *err)
{
	const cfg_key *k = &config_keys[idx];
	char got[160];
	yaml_describe(val, got, sizeof(got));
	cfg_value v;
	memset(&v, 0, sizeof(v));
	if (k->type == T_LIST) {
		if (val->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = val->data.sequence.items.start; it < val->data.sequence.items.top;
			     it++) {
				yaml_node_t *item = yaml_document_get_node(x->doc, *it);
				if (!item || item->type != YAML_SCALAR_NODE || yaml_is_null(item)) {
					value_release(&v);
					char g[160];
					if (item)
						yaml_describe(item, g, sizeof(g));
					char itemwhy[256];
					snprintf(itemwhy, sizeof(itemwhy), "every item must be a string, got %s",
						 item ? g : "nothing");
					return value_error(err, where, k, SYN_YAML, itemwhy, got);
				}
				list_push(&v.l, (const char *)item->data.scalar.value);
			}
		} else if (!yaml_is_null(val)) {
			return value_error(err, where, k, SYN_YAML, NULL, got);
		}
		/* null: an empty list */
	} else if (val->type != YAML_SCALAR_NODE) {
		return value_error(err, where, k, SYN_YAML, NULL, got);
	} else if (yaml_is_null(val)) {
		if (k->type != T_STRING)
			return value_error(err, where, k, SYN_YAML, NULL, got);
		/* null string: unset (validators decide whether that is allowed) */
	} else if (!parse_text(k, (const char *)val->data.scalar.value, SYN_YAML, &v)) {
		value_release(&v);
		return value_error(err, where, k, SYN_YAML, NULL, got);
	}
	return check_and_commit(x->c, idx, &v, KP_SRC_FILE, x->path, where, SYN_YAML, got, err);
}

/* Suggests a known key with the same last segment ("did you mean"). */
static const char *suggest(const char *name)
{
	const char *last = strrchr(name, '.');
	last = last ? last + 1 : name;
	for (size_t i = 0; i < NKEYS; i++) {
		const char *kl = strrchr(config_keys[i].key, '.');
		if (kl && strcmp(kl + 1, last) == 0 && strcmp(config_keys[i].key, name) != 0)
			return config_keys[i].key;
	}
	return NULL;
}

static kp_status yaml_walk(yaml_ctx *x, yaml_node_t *map, const char *prefix, kp_error *err)
{
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = yaml_document_get_node(x->doc, pr->key);
		yaml_node_t *vn = yaml_document_get_node(x->doc, pr->value);
		if (!kn || !vn)
			return kp_fail(err, KP_ERR_INTERNAL, "%s: malformed YAML document", x->path);
		size_t line = kn->start_mark.line + 1;
		if (kn->type != YAML_SCALAR_NODE)
			return kp_fail(err, KP_ERR_USAGE, "%s:%zu: keys must be plain strings", x->path, line);
		char name[256];
		int nl = snprintf(name, sizeof(name), "%s%s%s", prefix ? prefix : "", prefix ? "." : "",
				  (const char *)kn->data.scalar.value);
		if (nl < 0 || (size_t)nl >= sizeof(name))
			return kp_fail(err, KP_ERR_USAGE, "%s:%zu: unknown key (name too long)", x->path, line);
		if (kp_pricing_is_section(name)) {
			/* free-form tables (instance type / StorageClass names): pricing.c */
			kp_status st = kp_pricing_yaml_section(x->c, x->doc, vn, name, x->path, err);
			if (st)
				return st;
			continue;
		}
		int idx = find_key(name);
		char where[512];
		if (idx >= 0) {
			snprintf(where, sizeof(where), "%s:%zu: %s", x->path, line, name);
			if (x->seen_line[idx])
				return kp_fail(err, KP_ERR_USAGE, "%s:%zu: %s: set twice in this file (first on line %zu)",
					       x->path, line, name, x->seen_line[idx]);
			x->seen_line[idx] = line;
			kp_status st = yaml_apply(x, (size_t)idx, vn, where, err);
			if (st)
				return st;
		} else if (is_section(name)) {
			if (vn->type == YAML_MAPPING_NODE) {
				kp_status st = yaml_walk(x, vn, name, err);
				if (st)
					return st;
			} else if (!yaml_is_null(vn)) {
				char got[160];
				yaml_describe(vn, got, sizeof(got));
				return kp_fail(err, KP_ERR_USAGE, "%s:%zu: %s: expected a mapping of %s.* keys, got %s",
					       x->path, line, name, name, got);
			}
		} else {
			const char *s = suggest(name);
			char q[300];
			quote(name, q, sizeof(q));
			if (s)
				return kp_fail(err, KP_ERR_USAGE, "%s:%zu: %s: unknown key (did you mean %s?)", x->path,
					       line, q, s);
			return kp_fail(err, KP_ERR_USAGE, "%s:%zu: %s: unknown key", x->path, line, q);
		}
	}
	return KP_OK;
}

kp_status kp_config_load_file(kp_config *c, const char *path, kp_error *err)
{
	char *text;
	size_t len;
	kp_status st = kp_read_file(path, &text, &len, err);
	if (st) {
		/* a config file named on the command line that is not there
		 * is the user's mistake, not an I/O failure */
		if (err)
			err->status = KP_ERR_USAGE;
		return KP_ERR_USAGE;
	}
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		free(text);
		return kp_fail(err, KP_ERR_NOMEM, "%s: cannot initialise the YAML parser", path);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	yaml_document_t doc;
	if (!yaml_parser_load(&parser, &doc)) {
		/* yaml_parser_load frees the document itself on error */
		st = kp_fail(err, KP_ERR_USAGE, "%s:%zu:%zu: malformed YAML: %s%s%s", path,
			     parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			     parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
			     parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		free(text);
		return st;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root) {
		if (root->type != YAML_MAPPING_NODE) {
			if (!yaml_is_null(root))
				st = kp_fail(err, KP_ERR_USAGE,
					     "%s:%zu: expected a mapping of settings (prices:, rightsizing:, ...) at the top",
					     path, root->start_mark.line + 1);
		} else {
			yaml_ctx x = {c, &doc, path, kp_xcalloc(NKEYS, sizeof(size_t))};
			st = yaml_walk(&x, root, NULL, err);
			free(x.seen_line);
		}
	}
	yaml_document_delete(&doc);
	if (!st && root) {
		/* one document only: a second one would be silently ignored */
		yaml_document_t next;
		if (!yaml_parser_load(&parser, &next)) {
			st = kp_fail(err, KP_ERR_USAGE, "%s:%zu:%zu: malformed YAML: %s", path,
				     parser.problem_mark.line + 1, parser.problem_mark.column + 1,
				     parser.problem ? parser.problem : "syntax error");
		} else {
			yaml_node_t *r2 = yaml_document_get_root_node(&next);
			if (r2)
				st = kp_fail(err, KP_ERR_USAGE, "%s:%zu: only one YAML document is allowed", path,
					     r2->start_mark.line + 1);
			yaml_document_delete(&next);
		}
	}
	yaml_parser_delete(&parser);
	free(text);
	return st;
}

/* ---- validation ---- */

/* A non-owning view of the current value of key k. */
static cfg_value current(const kp_config *c, const cfg_key *k)
{
	cfg_value v;
	memset(&v, 0, sizeof(v));
	const void *f = field(c, k);
	switch (k->type) {
	case T_DOUBLE: v.d = *(const double *)f; break;
	case T_INT: v.i = *(const int *)f; break;
	case T_INT64:
	case T_BYTES: v.i = *(const int64_t *)f; break;
	case T_BOOL: v.b = *(const bool *)f; break;
	case T_STRING: v.s = *(char *const *)f; break;
	case T_LIST: v.l = *(const kp_strlist *)f; break;
	}
	return v;
}

static void source_text(const kp_config *c, size_t i, char *out, size_t n)
{
	const char *d = c->source_detail ? c->source_detail[i] : NULL;
	switch (c->sources ? c->sources[i] : KP_SRC_DEFAULT) {
	case KP_SRC_DEFAULT: snprintf(out, n, "default"); break;
	case KP_SRC_FILE: snprintf(out, n, "file %s", d ? d : "?"); break;
	case KP_SRC_ENV: snprintf(out, n, "env %s", d ? d : "?"); break;
	case KP_SRC_FLAG: snprintf(out, n, "flag %s", d ? d : "--set"); break;
	}
}

static void format_value(const kp_config *c, const cfg_key *k, kp_buf *b);

kp_status kp_config_validate(const kp_config *c, kp_error *err)
{
	/* every key's own rule, again: fields may have been set directly */
	for (size_t i = 0; i < NKEYS; i++) {
		const cfg_key *k = &config_keys[i];
		cfg_value v = current(c, k);
		char why[512] = "";
		if (k->check && !k->check(&v, why, sizeof(why))) {
			char src[300], exp[256];
			source_text(c, i, src, sizeof(src));
			if (*why)
				return kp_fail(err, KP_ERR_USAGE, "%s: %s (from %s)", k->key, why, src);
			kp_buf b;
			kp_buf_init(&b);
			format_value(c, k, &b);
			expectation(k, SYN_YAML, exp, sizeof(exp));
			kp_status st = kp_fail(err, KP_ERR_USAGE, "%s: %s, got %s (from %s)", k->key, exp,
					       k->secret ? "(secret)" : kp_buf_cstr(&b), src);
			kp_buf_release(&b);
			return st;
		}
	}
	/* cross-field rules */
	for (size_t i = 0; i < sizeof(kp_builtin_protected_namespaces) / sizeof(kp_builtin_protected_namespaces[0]); i++)
		if (!kp_strlist_contains(&c->safety.protected_namespaces, kp_builtin_protected_namespaces[i]))
			return kp_fail(err, KP_ERR_USAGE,
				       "safety.protected_namespaces: must include the built-in namespace %s",
				       kp_builtin_protected_namespaces[i]);
	if (c->llm.provider && strcmp(c->llm.provider, "gemini") == 0 &&
	    (!c->llm.gemini_api_key || !*c->llm.gemini_api_key))
		return kp_fail(err, KP_ERR_USAGE,
			       "llm.provider is gemini but no API key is set (GEMINI_API_KEY or llm.gemini_api_key)");
	if (c->llm.provider && strcmp(c->llm.provider, "anthropic") == 0 &&
	    (!c->llm.anthropic_api_key || !*c->llm.anthropic_api_key))
		return kp_fail(err, KP_ERR_USAGE,
			       "llm.provider is anthropic but no API key is set (ANTHROPIC_API_KEY or llm.anthropic_api_key)");
	if (c->llm.provider && strcmp(c->llm.provider, "azure_openai") == 0) {
		const char *miss = !c->llm.azure_endpoint || !*c->llm.azure_endpoint ? "an endpoint (AZURE_OPENAI_ENDPOINT)"
				   : !c->llm.azure_api_key || !*c->llm.azure_api_key ? "an API key (AZURE_OPENAI_API_KEY)"
				   : !c->llm.azure_deployment || !*c->llm.azure_deployment
					   ? "a deployment (AZURE_OPENAI_DEPLOYMENT)"
					   : NULL;
		if (miss)
			return kp_fail(err, KP_ERR_USAGE, "llm.provider is azure_openai but no %s is set", miss);
	}
	/* api.openai.com needs a key; a local OpenAI-compatible server may not */
	if (c->llm.provider && strcmp(c->llm.provider, "openai") == 0 &&
	    (!c->llm.openai_api_key || !*c->llm.openai_api_key) && c->llm.openai_base_url &&
	    strstr(c->llm.openai_base_url, "://api.openai.com"))
		return kp_fail(err, KP_ERR_USAGE,
			       "llm.provider is openai but no API key is set (OPENAI_API_KEY or llm.openai_api_key; a "
			       "local OpenAI-compatible server at OPENAI_BASE_URL may need none)");
	if (!c->prices.source || (strcmp(c->prices.source, "default") != 0 && strcmp(c->prices.source, "config") != 0 &&
				 strncmp(c->prices.source, "opencost-custom-pricing:", 24) != 0))
		return kp_fail(err, KP_ERR_INTERNAL, "prices.source must be \"default\" or \"config\"");
	return KP_OK;
}

/* ---- show / JSON ---- */

/* Shortest decimal that reads back as the same double: 0.031611, not
 * 0.031611000000000001. */
static void format_double(double d, char *out, size_t n)
{
	/* fixed notation for the ordinary range, so 730 is not "7.3e+02" */
	if (d == 0 || (fabs(d) >= 1e-6 && fabs(d) < 1e15)) {
		for (int dec = 0; dec <= 20; dec++) {
			snprintf(out, n, "%.*f", dec, d);
			if (strtod(out, NULL) == d)
				return;
		}
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, n, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

static char *mask_secret(const char *s)
{
	size_t len = strlen(s);
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_puts(&b, "****");
	/* the last 4 characters help tell keys apart, but only when the key
	 * is long enough that they do not give a meaningful part away */
	if (len > 12)
		kp_buf_puts(&b, s + len - 4);
	return kp_buf_detach(&b);
}

/* A string value as shown or written: URL credentials masked. */
static json_object *shown_string(const char *s)
{
	char *m = kp_mask_url_credentials(s);
	json_object *j = json_object_new_string(m);
	free(m);
	return j;
}

static json_object *list_json(const kp_strlist *l)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < l->len; i++)
		json_object_array_add(a, shown_string(l->items[i]));
	return a;
}

static void format_value(const kp_config *c, const cfg_key *k, kp_buf *b)
{
	cfg_value v = current(c, k);
	char tmp[64];
	switch (k->type) {
	case T_DOUBLE:
		format_double(v.d, tmp, sizeof(tmp));
		kp_buf_puts(b, tmp);
		break;
	case T_INT:
	case T_INT64:
	case T_BYTES: kp_buf_printf(b, "%lld", (long long)v.i); break;
	case T_BOOL: kp_buf_puts(b, v.b ? "true" : "false"); break;
	case T_STRING:
		if (!v.s) {
			kp_buf_puts(b, "(unset)");
		} else if (k->secret) {
			char *m = mask_secret(v.s);
			kp_buf_puts(b, m);
			free(m);
		} else {
			char *m = kp_mask_url_credentials(v.s);
			kp_buf_puts(b, m);
			free(m);
		}
		break;
	case T_LIST: {
		json_object *a = list_json(&v.l);
		kp_buf_puts(b, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN |
								      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(a);
		break;
	}
	}
}

char *kp_config_show(const kp_config *c)
{
	size_t keyw = strlen("prices.source"), valw = 0;
	char **vals = kp_xcalloc(NKEYS, sizeof(char *));
	for (size_t i = 0; i < NKEYS; i++) {
		kp_buf b;
		kp_buf_init(&b);
		format_value(c, &config_keys[i], &b);
		vals[i] = kp_buf_detach(&b);
		if (strlen(config_keys[i].key) > keyw)
			keyw = strlen(config_keys[i].key);
		/* long values (lists, URLs) do not push every column right */
		if (strlen(vals[i]) > valw && strlen(vals[i]) <= 24)
			valw = strlen(vals[i]);
	}
	kp_buf out;
	kp_buf_init(&out);
	for (size_t i = 0; i < NKEYS; i++) {
		char src[300];
		source_text(c, i, src, sizeof(src));
		kp_buf_printf(&out, "%-*s = %-*s   (%s)\n", (int)keyw, config_keys[i].key, (int)valw, vals[i], src);
		free(vals[i]);
		/* the derived price source sits with the prices */
		if (strcmp(config_keys[i].key, "prices.currency") == 0)
			kp_buf_printf(&out, "%-*s = %-*s   (derived)\n", (int)keyw, "prices.source", (int)valw,
				      c->prices.source ? c->prices.source : "default");
		if (strcmp(config_keys[i].key, "prices.custom_pricing_file") == 0)
			kp_pricing_config_show(c, &out, (int)keyw, (int)valw);
	}
	free(vals);
	return kp_buf_detach(&out);
}

json_object *kp_config_to_json(const kp_config *c)
{
	json_object *o = json_object_new_object();
	for (size_t i = 0; i < NKEYS; i++) {
		const cfg_key *k = &config_keys[i];
		cfg_value v = current(c, k);
		json_object *j = NULL;
		char tmp[64];
		switch (k->type) {
		case T_DOUBLE:
			format_double(v.d, tmp, sizeof(tmp));
			j = json_object_new_double_s(v.d, tmp);
			break;
		case T_INT:
		case T_INT64:
		case T_BYTES: j = json_object_new_int64(v.i); break;
		case T_BOOL: j = json_object_new_boolean(v.b); break;
		case T_STRING:
			if (v.s && k->secret) {
				char *m = mask_secret(v.s);
				j = json_object_new_string(m);
				free(m);
			} else if (v.s) {
				j = shown_string(v.s);
			}
			break;
		case T_LIST: j = list_json(&v.l); break;
		}
		json_object_object_add(o, k->key, j);
		if (strcmp(k->key, "prices.currency") == 0)
			json_object_object_add(o, "prices.source",
					       json_object_new_string(c->prices.source ? c->prices.source : "default"));
		if (strcmp(k->key, "prices.custom_pricing_file") == 0)
			kp_pricing_config_json(c, o);
	}
	return o;
}
