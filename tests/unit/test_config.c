/*
 * test_config.c - configuration layers (defaults < file < env < flags),
 * provenance, every seed environment variable accepted and rejected, YAML
 * errors naming file:line:key, built-in protected namespaces, secret masking.
 *
 * The environment is never touched: kp_config_load_env gets a stub lookup
 * backed by cfgt_env[] below. YAML files are temp files under /tmp.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/config.h"

/* ---- helpers ---- */

static const char *cfgt_env[32][2];

static void cfgt_env_set(const char *name, const char *value)
{
	for (size_t i = 0; i < 32; i++) {
		if (!cfgt_env[i][0] || strcmp(cfgt_env[i][0], name) == 0) {
			cfgt_env[i][0] = name;
			cfgt_env[i][1] = value;
			return;
		}
	}
	cr_assert_fail("cfgt_env full");
}

static void cfgt_env_clear(void) { memset(cfgt_env, 0, sizeof(cfgt_env)); }

static const char *cfgt_getenv(const char *name)
{
	for (size_t i = 0; i < 32 && cfgt_env[i][0]; i++)
		if (strcmp(cfgt_env[i][0], name) == 0)
			return cfgt_env[i][1];
	return NULL;
}

/* Writes text to a fresh temp file; returns its path (caller frees). */
static char *cfgt_write_yaml(const char *text)
{
	char *path = strdup("/tmp/kopilot-cfgtest-XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	size_t len = strlen(text);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Loads text as a YAML file into c; returns the status, err filled. The
 * path is returned through *path_out (caller frees) so messages can be
 * compared. */
static kp_status cfgt_load_yaml(kp_config *c, const char *text, char **path_out, kp_error *err)
{
	char *path = cfgt_write_yaml(text);
	kp_status st = kp_config_load_file(c, path, err);
	unlink(path);
	if (path_out)
		*path_out = path;
	else
		free(path);
	return st;
}

/* Expects the YAML text to fail with exactly "<path>:<suffix>". */
static void cfgt_yaml_fails(const char *text, const char *suffix)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	char *path;
	kp_status st = cfgt_load_yaml(&c, text, &path, &err);
	cr_expect_eq(st, KP_ERR_USAGE, "should fail: %s", text);
	cr_expect_eq(err.status, KP_ERR_USAGE);
	char want[1024];
	snprintf(want, sizeof(want), "%s:%s", path, suffix);
	cr_expect_str_eq(err.msg, want);
	free(path);
	kp_config_release(&c);
}

static void cfgt_env_fails(const char *name, const char *value, const char *want)
{
	kp_config c;
	kp_config_init(&c);
	cfgt_env_clear();
	cfgt_env_set(name, value);
	kp_error err = {0};
	kp_status st = kp_config_load_env(&c, cfgt_getenv, &err);
	cr_expect_eq(st, KP_ERR_USAGE, "%s=%s should be rejected", name, value);
	if (want[0] == '~')
		cr_expect(strstr(err.msg, want + 1) != NULL, "%s=%s: \"%s\" lacks \"%s\"", name, value, err.msg,
			  want + 1);
	else
		cr_expect_str_eq(err.msg, want);
	kp_config_release(&c);
	cfgt_env_clear();
}

static bool cfgt_list_is(const kp_strlist *l, const char *const *want, size_t n)
{
	if (l->len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(l->items[i], want[i]) != 0)
			return false;
	return true;
}

/* The line of `show` output for key (without the newline), or "". */
static void cfgt_show_line(const char *show, const char *key, char *out, size_t n)
{
	out[0] = '\0';
	size_t kl = strlen(key);
	for (const char *p = show; *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
			snprintf(out, n, "%.*s", (int)len, p);
			return;
		}
		p += len + (e ? 1 : 0);
	}
}

/* ---- defaults ---- */

Test(config_defaults, opencost_prices_and_builtins)
{
	kp_config c;
	kp_config_init(&c);
	cr_expect_eq(c.prices.cpu_core_hour, 0.031611);
	cr_expect_eq(c.prices.memory_gib_hour, 0.004237);
	cr_expect_eq(c.prices.storage_gib_month, 0.04);
	cr_expect_eq(c.prices.load_balancer_hour, 0.025);
	cr_expect_eq(c.prices.hours_per_month, 730);
	cr_expect_str_eq(c.prices.currency, "USD");
	cr_expect_str_eq(c.prices.source, "default");
	cr_expect_eq(c.rules.rightsizing.cpu_percentile, 95);
	cr_expect_eq(c.rules.rightsizing.cpu_margin, 0.15);
	cr_expect_eq(c.rules.rightsizing.memory_margin, 0.20);
	cr_expect_eq(c.rules.rightsizing.cpu_floor_m, 10);
	cr_expect_eq(c.rules.rightsizing.memory_floor_b, 33554432);
	cr_expect_eq(c.rules.rightsizing.min_relative_change, 0.20);
	cr_expect_eq(c.rules.rightsizing.min_cpu_change_m, 50);
	cr_expect_eq(c.rules.rightsizing.min_memory_change_b, 67108864);
	cr_expect_eq(c.rules.rightsizing.min_monthly_savings, 1.0);
	cr_expect_eq(c.rules.rightsizing.min_history_hours, 24);
	cr_expect_eq(c.rules.orphaned_pvc.grace_days, 7);
	static const char *const ns[] = {"kube-system", "kube-public", "kube-node-lease"};
	cr_expect(cfgt_list_is(&c.safety.protected_namespaces, ns, 3));
	cr_expect(c.safety.require_approval_destructive);
	cr_expect_eq(c.safety.max_concurrent_tasks, 5);
	cr_expect_str_eq(c.llm.provider, "none");
	cr_expect_str_eq(c.llm.model, "gpt-oss:20b");
	cr_expect_str_eq(c.llm.ollama_base_url, "http://localhost:11434");
	cr_expect_null(c.llm.gemini_api_key);
	cr_expect_str_eq(c.llm.gemini_model, "gemini-2.5-flash");
	static const char *const skills[] = {"security",   "administration",  "networking",
					     "monitoring", "troubleshooting", "cost_optimization"};
	cr_expect(cfgt_list_is(&c.llm.enabled_skills, skills, 6));
	cr_expect_eq(c.llm.skill_dirs.len, 0);
	cr_expect_str_eq(c.log.format, "console");
	cr_expect(c.serve.metrics_enabled);
	cr_expect_eq(c.serve.metrics_port, 9090);
	cr_expect_null(c.render.report_template);
	cr_expect_null(c.collect.cluster_name);
	kp_error err = {0};
	cr_expect_eq(kp_config_validate(&c, &err), KP_OK, "%s", err.msg);
	kp_config_release(&c);
	kp_config_release(&c); /* releasing twice is harmless */
}

Test(config_defaults, empty_environment_and_empty_file_change_nothing)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cfgt_env_clear();
	cfgt_env_set("LLM_PROVIDER", "");
	cfgt_env_set("KOPILOT_PRICES_CPU_CORE_HOUR", "");
	cr_assert_eq(kp_config_load_env(&c, cfgt_getenv, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(cfgt_load_yaml(&c, "", NULL, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(cfgt_load_yaml(&c, "# only a comment\n", NULL, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(cfgt_load_yaml(&c, "---\n", NULL, &err), KP_OK, "%s", err.msg);
	cr_expect_str_eq(c.llm.provider, "none");
	cr_expect_eq(c.prices.cpu_core_hour, 0.031611);
	cr_expect_str_eq(c.prices.source, "default");
	char *show = kp_config_show(&c);
	cr_expect_null(strstr(show, "(file"));
	cr_expect_null(strstr(show, "(env"));
	free(show);
	kp_config_release(&c);
	cfgt_env_clear();
}

/* ---- precedence and provenance ---- */

Test(config_layers, file_env_flag_precedence)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	char *path;
	cr_assert_eq(cfgt_load_yaml(&c,
				    "prices:\n"
				    "  cpu_core_hour: 0.05\n"
				    "  memory_gib_hour: 0.005\n"
				    "rightsizing:\n"
				    "  cpu_margin: 0.3\n",
				    &path, &err),
		     KP_OK, "%s", err.msg);
	cr_expect_eq(c.prices.cpu_core_hour, 0.05);
	cr_expect_eq(c.prices.memory_gib_hour, 0.005);
	cr_expect_eq(c.rules.rightsizing.cpu_margin, 0.3);
	cr_expect_str_eq(c.prices.source, "config");

	cfgt_env_clear();
	cfgt_env_set("KOPILOT_PRICES_CPU_CORE_HOUR", "0.06");
	cfgt_env_set("KOPILOT_RIGHTSIZING_CPU_MARGIN", "0.25");
	cr_assert_eq(kp_config_load_env(&c, cfgt_getenv, &err), KP_OK, "%s", err.msg);
	cr_expect_eq(c.prices.cpu_core_hour, 0.06);
	cr_expect_eq(c.prices.memory_gib_hour, 0.005); /* file value stays */
	cr_expect_eq(c.rules.rightsizing.cpu_margin, 0.25);

	cr_assert_eq(kp_config_set(&c, "prices.cpu_core_hour=0.07", KP_SRC_FLAG, &err), KP_OK, "%s", err.msg);
	cr_expect_eq(c.prices.cpu_core_hour, 0.07);

	char *show = kp_config_show(&c);
	char line[512], want[512];
	cfgt_show_line(show, "prices.cpu_core_hour", line, sizeof(line));
	cr_expect(strstr(line, "= 0.07 ") != NULL, "%s", line);
	cr_expect(strstr(line, "(flag --set)") != NULL, "%s", line);
	cfgt_show_line(show, "prices.memory_gib_hour", line, sizeof(line));
	snprintf(want, sizeof(want), "(file %s)", path);
	cr_expect(strstr(line, "= 0.005 ") != NULL, "%s", line);
	cr_expect(strstr(line, want) != NULL, "%s", line);
	cfgt_show_line(show, "rightsizing.cpu_margin", line, sizeof(line));
	cr_expect(strstr(line, "(env KOPILOT_RIGHTSIZING_CPU_MARGIN)") != NULL, "%s", line);
	cfgt_show_line(show, "prices.storage_gib_month", line, sizeof(line));
	cr_expect(strstr(line, "= 0.04 ") != NULL, "%s", line);
	cr_expect(strstr(line, "(default)") != NULL, "%s", line);
	cfgt_show_line(show, "prices.source", line, sizeof(line));
	cr_expect(strstr(line, "= config") != NULL, "%s", line);
	free(show);
	cr_expect_eq(kp_config_validate(&c, &err), KP_OK, "%s", err.msg);
	free(path);
	kp_config_release(&c);
	cfgt_env_clear();
}

Test(config_layers, show_is_aligned_one_line_per_key)
{
	kp_config c;
	kp_config_init(&c);
	char *show = kp_config_show(&c);
	int eq_col = -1, lines = 0;
	for (const char *p = show; *p;) {
		const char *e = strchr(p, '\n');
		cr_assert_not_null(e, "every line ends with a newline");
		const char *eq = strstr(p, " = ");
		cr_assert(eq && eq < e);
		if (eq_col < 0)
			eq_col = (int)(eq - p);
		cr_expect_eq((int)(eq - p), eq_col, "'=' not aligned: %.*s", (int)(e - p), p);
		cr_expect(e[-1] == ')', "source at the end: %.*s", (int)(e - p), p);
		lines++;
		p = e + 1;
	}
	json_object *j = kp_config_to_json(&c);
	cr_expect_eq(lines, json_object_object_length(j));
	json_object_put(j);
	char line[512];
	cfgt_show_line(show, "prices.cpu_core_hour", line, sizeof(line));
	cr_expect(strstr(line, "= 0.031611 ") != NULL, "%s", line);
	cfgt_show_line(show, "prices.hours_per_month", line, sizeof(line));
	cr_expect(strstr(line, "= 730 ") != NULL, "%s", line);
	cfgt_show_line(show, "safety.protected_namespaces", line, sizeof(line));
	cr_expect(strstr(line, "= [\"kube-system\",\"kube-public\",\"kube-node-lease\"]") != NULL, "%s", line);
	cfgt_show_line(show, "llm.gemini_api_key", line, sizeof(line));
	cr_expect(strstr(line, "= (unset)") != NULL, "%s", line);
	cfgt_show_line(show, "cluster.name", line, sizeof(line));
	cr_expect(strstr(line, "= (unset)") != NULL, "%s", line);
	free(show);
	kp_config_release(&c);
}

Test(config_layers, price_source_only_for_price_keys)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cr_assert_eq(kp_config_set(&c, "rightsizing.cpu_percentile=99", KP_SRC_FLAG, &err), KP_OK);
	cr_assert_eq(cfgt_load_yaml(&c, "metrics:\n  port: 9100\n", NULL, &err), KP_OK, "%s", err.msg);
	cr_expect_str_eq(c.prices.source, "default");
	cfgt_env_clear();
	cfgt_env_set("KOPILOT_PRICES_CURRENCY", "EUR");
	cr_assert_eq(kp_config_load_env(&c, cfgt_getenv, &err), KP_OK, "%s", err.msg);
	cr_expect_str_eq(c.prices.currency, "EUR");
	cr_expect_str_eq(c.prices.source, "config");
	json_object *j = kp_config_to_json(&c);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(j, "prices.source")), "config");
	json_object_put(j);
	kp_config_release(&c);
	cfgt_env_clear();
}

/* ---- environment: each seed variable accepted ---- */

Test(config_env, seed_variables_parsed)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cfgt_env_clear();
	cfgt_env_set("LLM_PROVIDER", "gemini");
	cfgt_env_set("LLM_MODEL", "qwen3:8b");
	cfgt_env_set("OLLAMA_BASE_URL", "https://ollama.internal:11434");
	cfgt_env_set("GEMINI_API_KEY", "AIzaSyTESTKEY-abcdefgh1234");
	cfgt_env_set("GEMINI_MODEL", "gemini-2.5-pro");
	cfgt_env_set("SAFETY_PROTECTED_NAMESPACES", "[\"kube-system\",\"prod\"]");
	cfgt_env_set("SAFETY_REQUIRE_APPROVAL_DESTRUCTIVE", "true");
	cfgt_env_set("SAFETY_MAX_CONCURRENT_TASKS", "12");
	cfgt_env_set("ENABLED_SKILLS", "[\"cost_optimization\", \"monitoring\"]");
	cfgt_env_set("SKILL_DIRS", "/etc/kopilot/skills:/opt/skills");
	cfgt_env_set("LOG_FORMAT", "json");
	cfgt_env_set("METRICS_ENABLED", "false");
	cfgt_env_set("METRICS_PORT", "9100");
	cr_assert_eq(kp_config_load_env(&c, cfgt_getenv, &err), KP_OK, "%s", err.msg);
	cr_expect_str_eq(c.llm.provider, "gemini");
	cr_expect_str_eq(c.llm.model, "qwen3:8b");
	cr_expect_str_eq(c.llm.ollama_base_url, "https://ollama.internal:11434");
	cr_expect_str_eq(c.llm.gemini_api_key, "AIzaSyTESTKEY-abcdefgh1234");
	cr_expect_str_eq(c.llm.gemini_model, "gemini-2.5-pro");
	static const char *const ns[] = {"kube-system", "kube-public", "kube-node-lease", "prod"};
	cr_expect(cfgt_list_is(&c.safety.protected_namespaces, ns, 4));
	cr_expect(c.safety.require_approval_destructive);
	cr_expect_eq(c.safety.max_concurrent_tasks, 12);
	static const char *const sk[] = {"cost_optimization", "monitoring"};
	cr_expect(cfgt_list_is(&c.llm.enabled_skills, sk, 2));
	static const char *const dirs[] = {"/etc/kopilot/skills", "/opt/skills"};
	cr_expect(cfgt_list_is(&c.llm.skill_dirs, dirs, 2));
	cr_expect_str_eq(c.log.format, "json");
	cr_expect(!c.serve.metrics_enabled);
	cr_expect_eq(c.serve.metrics_port, 9100);
	cr_expect_str_eq(c.prices.source, "default");
	cr_expect_eq(kp_config_validate(&c, &err), KP_OK, "%s", err.msg);

	char *show = kp_config_show(&c);
	char line[512];
	cfgt_show_line(show, "llm.provider", line, sizeof(line));
	cr_expect(strstr(line, "(env LLM_PROVIDER)") != NULL, "%s", line);
	cfgt_show_line(show, "safety.protected_namespaces", line, sizeof(line));
	cr_expect(strstr(line, "(env SAFETY_PROTECTED_NAMESPACES)") != NULL, "%s", line);
	cfgt_show_line(show, "skills.dirs", line, sizeof(line));
	cr_expect(strstr(line, "[\"/etc/kopilot/skills\",\"/opt/skills\"]") != NULL, "%s", line);
	free(show);
	kp_config_release(&c);
	cfgt_env_clear();
}

Test(config_env, booleans_and_spelling_variants)
{
	static const char *const yes[] = {"true", "TRUE", "1", "yes", "on"};
	static const char *const no[] = {"false", "False", "0", "no", "off"};
	for (size_t i = 0; i < 5; i++) {
		kp_config c;
		kp_config_init(&c);
		kp_error err = {0};
		cfgt_env_clear();
		cfgt_env_set("METRICS_ENABLED", no[i]);
		cfgt_env_set("SAFETY_REQUIRE_APPROVAL_DESTRUCTIVE", yes[i]);
		cr_assert_eq(kp_config_load_env(&c, cfgt_getenv, &err), KP_OK, "%s", err.msg);
		cr_expect(!c.serve.metrics_enabled, "%s", no[i]);
		cr_expect(c.safety.require_approval_destructive);
		kp_config_release(&c);
	}
	/* values from ConfigMaps often carry a trailing newline */
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cfgt_env_clear();
	cfgt_env_set("METRICS_PORT", " 9200\n");
	cfgt_env_set("SKILL_DIRS", "/a::/b:");
	cr_assert_eq(kp_config_load_env(&c, cfgt_getenv, &err), KP_OK, "%s", err.msg);
	cr_expect_eq(c.serve.metrics_port, 9200);
	static const char *const dirs[] = {"/a", "/b"};
	cr_expect(cfgt_list_is(&c.llm.skill_dirs, dirs, 2));
	kp_config_release(&c);
	cfgt_env_clear();
}

Test(config_env, kopilot_prefixed_variables)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cfgt_env_clear();
	cfgt_env_set("KOPILOT_PRICES_CPU_CORE_HOUR", "0.04");
	cfgt_env_set("KOPILOT_PRICES_HOURS_PER_MONTH", "720");
	cfgt_env_set("KOPILOT_RIGHTSIZING_CPU_PERCENTILE", "99");
	cfgt_env_set("KOPILOT_RIGHTSIZING_MEMORY_FLOOR_BYTES", "64Mi");
	cfgt_env_set("KOPILOT_RIGHTSIZING_MIN_MEMORY_CHANGE_BYTES", "100000000");
	cfgt_env_set("KOPILOT_RIGHTSIZING_CPU_FLOOR_MILLICORES", "20");
	cfgt_env_set("KOPILOT_ORPHANED_PVC_GRACE_DAYS", "14");
	cfgt_env_set("KOPILOT_REPORT_TEMPLATE", "/etc/kopilot/report.md.mustache");
	cfgt_env_set("KOPILOT_CLUSTER_NAME", "prod-eu-1");
	/* seed variables have no KOPILOT_ alias: the seed name is the interface */
	cfgt_env_set("KOPILOT_LLM_PROVIDER", "gemini");
	cr_assert_eq(kp_config_load_env(&c, cfgt_getenv, &err), KP_OK, "%s", err.msg);
	cr_expect_eq(c.prices.cpu_core_hour, 0.04);
	cr_expect_eq(c.prices.hours_per_month, 720);
	cr_expect_eq(c.rules.rightsizing.cpu_percentile, 99);
	cr_expect_eq(c.rules.rightsizing.memory_floor_b, 67108864);
	cr_expect_eq(c.rules.rightsizing.min_memory_change_b, 100000000);
	cr_expect_eq(c.rules.rightsizing.cpu_floor_m, 20);
	cr_expect_eq(c.rules.orphaned_pvc.grace_days, 14);
	cr_expect_str_eq(c.render.report_template, "/etc/kopilot/report.md.mustache");
	cr_expect_str_eq(c.collect.cluster_name, "prod-eu-1");
	cr_expect_str_eq(c.llm.provider, "none");
	kp_config_release(&c);
	cfgt_env_clear();
}

/* ---- environment: each rejected, with its message ---- */

Test(config_env, rejected_with_messages)
{
	cfgt_env_fails("SAFETY_PROTECTED_NAMESPACES", "kube-system",
		       "SAFETY_PROTECTED_NAMESPACES: expected a JSON list of namespace names, got \"kube-system\"");
	cfgt_env_fails("SAFETY_PROTECTED_NAMESPACES", "kube-system,prod",
		       "SAFETY_PROTECTED_NAMESPACES: expected a JSON list of namespace names, got \"kube-system,prod\"");
	cfgt_env_fails("SAFETY_PROTECTED_NAMESPACES", "[1, 2]",
		       "SAFETY_PROTECTED_NAMESPACES: expected a JSON list of namespace names, got \"[1, 2]\"");
	cfgt_env_fails("SAFETY_PROTECTED_NAMESPACES", "{\"a\":1}", "~expected a JSON list of namespace names");
	cfgt_env_fails("SAFETY_PROTECTED_NAMESPACES", "[\"prod\"] x", "~expected a JSON list of namespace names");
	cfgt_env_fails("SAFETY_PROTECTED_NAMESPACES", "[\"Prod\"]",
		       "~SAFETY_PROTECTED_NAMESPACES: invalid namespace name \"Prod\": a namespace is a DNS-1123 label");
	cfgt_env_fails("SAFETY_PROTECTED_NAMESPACES", "[\"-prod\"]", "~invalid namespace name \"-prod\"");
	cfgt_env_fails("SAFETY_REQUIRE_APPROVAL_DESTRUCTIVE", "false",
		       "~SAFETY_REQUIRE_APPROVAL_DESTRUCTIVE: approval for destructive actions cannot be disabled");
	cfgt_env_fails("SAFETY_REQUIRE_APPROVAL_DESTRUCTIVE", "0", "~cannot be disabled");
	cfgt_env_fails("SAFETY_REQUIRE_APPROVAL_DESTRUCTIVE", "no", "~cannot be disabled");
	cfgt_env_fails("SAFETY_REQUIRE_APPROVAL_DESTRUCTIVE", "maybe",
		       "SAFETY_REQUIRE_APPROVAL_DESTRUCTIVE: expected true, got \"maybe\"");
	cfgt_env_fails("SAFETY_MAX_CONCURRENT_TASKS", "0",
		       "SAFETY_MAX_CONCURRENT_TASKS: expected an integer between 1 and 1000, got \"0\"");
	cfgt_env_fails("SAFETY_MAX_CONCURRENT_TASKS", "1001", "~between 1 and 1000, got \"1001\"");
	cfgt_env_fails("SAFETY_MAX_CONCURRENT_TASKS", "five", "~between 1 and 1000, got \"five\"");
	cfgt_env_fails("SAFETY_MAX_CONCURRENT_TASKS", "99999999999999999999", "~between 1 and 1000");
	cfgt_env_fails("LLM_PROVIDER", "gpt",
		       "LLM_PROVIDER: expected one of none, ollama, openai, azure_openai, anthropic, gemini, got \"gpt\"");
	cfgt_env_fails("LLM_PROVIDER", "Ollama", "~got \"Ollama\"");
	cfgt_env_fails("OLLAMA_BASE_URL", "localhost:11434",
		       "OLLAMA_BASE_URL: expected an http:// or https:// URL, got \"localhost:11434\"");
	cfgt_env_fails("OLLAMA_BASE_URL", "ftp://x", "~expected an http:// or https:// URL");
	cfgt_env_fails("OLLAMA_BASE_URL", "http://", "~expected an http:// or https:// URL");
	cfgt_env_fails("ENABLED_SKILLS", "security",
		       "ENABLED_SKILLS: expected a JSON list of skill names, got \"security\"");
	cfgt_env_fails("ENABLED_SKILLS", "[\"a b\"]", "~invalid skill name \"a b\"");
	cfgt_env_fails("LOG_FORMAT", "xml", "LOG_FORMAT: expected json or console, got \"xml\"");
	cfgt_env_fails("METRICS_ENABLED", "maybe", "METRICS_ENABLED: expected true or false, got \"maybe\"");
	cfgt_env_fails("METRICS_PORT", "0", "METRICS_PORT: expected an integer between 1 and 65535, got \"0\"");
	cfgt_env_fails("METRICS_PORT", "65536", "~got \"65536\"");
	cfgt_env_fails("METRICS_PORT", "80x", "~got \"80x\"");
	cfgt_env_fails("KOPILOT_PRICES_CPU_CORE_HOUR", "cheap",
		       "KOPILOT_PRICES_CPU_CORE_HOUR: expected a number >= 0, got \"cheap\"");
	cfgt_env_fails("KOPILOT_PRICES_CPU_CORE_HOUR", "-1", "~expected a number >= 0, got \"-1\"");
	cfgt_env_fails("KOPILOT_PRICES_CPU_CORE_HOUR", "nan", "~got \"nan\"");
	cfgt_env_fails("KOPILOT_PRICES_CPU_CORE_HOUR", "inf", "~got \"inf\"");
	cfgt_env_fails("KOPILOT_PRICES_CPU_CORE_HOUR", "0x10", "~got \"0x10\"");
	cfgt_env_fails("KOPILOT_PRICES_CPU_CORE_HOUR", "1e999", "~got \"1e999\"");
	cfgt_env_fails("KOPILOT_PRICES_HOURS_PER_MONTH", "0", "~expected a number > 0, got \"0\"");
	cfgt_env_fails("KOPILOT_PRICES_CURRENCY", "usd", "~expected a 3-letter uppercase currency code");
	cfgt_env_fails("KOPILOT_PRICES_CURRENCY", "EURO", "~got \"EURO\"");
	cfgt_env_fails("KOPILOT_RIGHTSIZING_CPU_MARGIN", "11", "~expected a number between 0 and 10");
	cfgt_env_fails("KOPILOT_RIGHTSIZING_CPU_PERCENTILE", "90",
		       "KOPILOT_RIGHTSIZING_CPU_PERCENTILE: expected one of 50, 95, 99, 100, got \"90\"");
	cfgt_env_fails("KOPILOT_RIGHTSIZING_MEMORY_FLOOR_BYTES", "32MB", "~a quantity such as 32Mi, got \"32MB\"");
	cfgt_env_fails("KOPILOT_RIGHTSIZING_MEMORY_FLOOR_BYTES", "-1Mi", "~got \"-1Mi\"");
	cfgt_env_fails("KOPILOT_RIGHTSIZING_CPU_FLOOR_MILLICORES", "10m", "~got \"10m\"");
	cfgt_env_fails("KOPILOT_ORPHANED_PVC_GRACE_DAYS", "-1", "~expected a number >= 0");
}

Test(config_env, failed_value_is_not_applied)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cfgt_env_clear();
	cfgt_env_set("SAFETY_PROTECTED_NAMESPACES", "[\"prod\",\"BAD\"]");
	cr_assert_eq(kp_config_load_env(&c, cfgt_getenv, &err), KP_ERR_USAGE);
	cr_expect_eq(c.safety.protected_namespaces.len, 3);
	cr_expect_eq(c.sources[0], KP_SRC_DEFAULT);
	kp_config_release(&c);
	cfgt_env_clear();
}

/* ---- YAML ---- */

Test(config_yaml, every_section)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cr_assert_eq(cfgt_load_yaml(&c,
				    "# kopilot configuration\n"
				    "prices:\n"
				    "  cpu_core_hour: 0.05\n"
				    "  currency: EUR\n"
				    "rightsizing:\n"
				    "  cpu_percentile: 99\n"
				    "  memory_floor_bytes: \"32Mi\"\n"
				    "  min_memory_change_bytes: 128Mi\n"
				    "  cpu_floor_millicores: 25\n"
				    "orphaned_pvc:\n"
				    "  grace_days: 3.5\n"
				    "safety:\n"
				    "  protected_namespaces: [prod, payments, kube-system, prod]\n"
				    "  require_approval_destructive: true\n"
				    "  max_concurrent_tasks: 3\n"
				    "llm:\n"
				    "  provider: ollama\n"
				    "  ollama_base_url: http://ollama:11434\n"
				    "skills:\n"
				    "  enabled:\n"
				    "    - cost_optimization\n"
				    "  dirs: []\n"
				    "log:\n"
				    "  format: json\n"
				    "metrics:\n"
				    "  enabled: no\n"
				    "  port: 9300\n"
				    "report:\n"
				    "  template: ./report.md.mustache\n"
				    "cluster:\n"
				    "  name: staging\n",
				    NULL, &err),
		     KP_OK, "%s", err.msg);
	cr_expect_eq(c.prices.cpu_core_hour, 0.05);
	cr_expect_str_eq(c.prices.currency, "EUR");
	cr_expect_eq(c.rules.rightsizing.cpu_percentile, 99);
	cr_expect_eq(c.rules.rightsizing.memory_floor_b, 33554432);
	cr_expect_eq(c.rules.rightsizing.min_memory_change_b, 134217728);
	cr_expect_eq(c.rules.rightsizing.cpu_floor_m, 25);
	cr_expect_eq(c.rules.orphaned_pvc.grace_days, 3.5);
	static const char *const ns[] = {"kube-system", "kube-public", "kube-node-lease", "prod", "payments"};
	cr_expect(cfgt_list_is(&c.safety.protected_namespaces, ns, 5));
	cr_expect_eq(c.safety.max_concurrent_tasks, 3);
	cr_expect_str_eq(c.llm.provider, "ollama");
	cr_expect_str_eq(c.llm.ollama_base_url, "http://ollama:11434");
	static const char *const sk[] = {"cost_optimization"};
	cr_expect(cfgt_list_is(&c.llm.enabled_skills, sk, 1));
	cr_expect_eq(c.llm.skill_dirs.len, 0);
	cr_expect_str_eq(c.log.format, "json");
	cr_expect(!c.serve.metrics_enabled);
	cr_expect_eq(c.serve.metrics_port, 9300);
	cr_expect_str_eq(c.render.report_template, "./report.md.mustache");
	cr_expect_str_eq(c.collect.cluster_name, "staging");
	cr_expect_eq(kp_config_validate(&c, &err), KP_OK, "%s", err.msg);
	kp_config_release(&c);
}

Test(config_yaml, null_values)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cr_assert_eq(cfgt_load_yaml(&c, "cluster:\n  name: x\nprices:\nsafety:\n  protected_namespaces:\n", NULL, &err),
		     KP_OK, "%s", err.msg);
	cr_expect_str_eq(c.collect.cluster_name, "x");
	cr_expect_eq(c.safety.protected_namespaces.len, 3);
	cr_assert_eq(cfgt_load_yaml(&c, "cluster:\n  name: ~\n", NULL, &err), KP_OK, "%s", err.msg);
	cr_expect_null(c.collect.cluster_name);
	cr_assert_eq(cfgt_load_yaml(&c, "cluster:\n  name: \"null\"\n", NULL, &err), KP_OK, "%s", err.msg);
	cr_expect_str_eq(c.collect.cluster_name, "null"); /* quoted: a string */
	kp_config_release(&c);
}

Test(config_yaml, errors_name_file_line_key)
{
	cfgt_yaml_fails("# kopilot.yaml\n"
			"\n"
			"rightsizing:\n"
			"  cpu_margin: 0.2\n"
			"\n"
			"prices:\n"
			"  cpu_core_hour: cheap\n",
			"7: prices.cpu_core_hour: expected a number >= 0, got \"cheap\"");
	cfgt_yaml_fails("prices:\n  cpu_core_hour: -0.5\n", "2: prices.cpu_core_hour: expected a number >= 0, got \"-0.5\"");
	cfgt_yaml_fails("prices:\n  cpu_hour: 1\n",
			"2: \"prices.cpu_hour\": unknown key");
	cfgt_yaml_fails("cpu_core_hour: 1\n",
			"1: \"cpu_core_hour\": unknown key (did you mean prices.cpu_core_hour?)");
	cfgt_yaml_fails("pricing:\n  cpu_core_hour: 1\n", "1: \"pricing\": unknown key");
	cfgt_yaml_fails("prices: 5\n", "1: prices: expected a mapping of prices.* keys, got \"5\"");
	cfgt_yaml_fails("prices:\n  cpu_core_hour: [1, 2]\n",
			"2: prices.cpu_core_hour: expected a number >= 0, got a list");
	cfgt_yaml_fails("prices:\n  cpu_core_hour:\n    a: 1\n",
			"2: prices.cpu_core_hour: expected a number >= 0, got a mapping");
	cfgt_yaml_fails("prices:\n  cpu_core_hour:\n", "2: prices.cpu_core_hour: expected a number >= 0, got null");
	cfgt_yaml_fails("rightsizing:\n  cpu_percentile: 90\n",
			"2: rightsizing.cpu_percentile: expected one of 50, 95, 99, 100, got \"90\"");
	cfgt_yaml_fails("rightsizing:\n  cpu_percentile: 95.5\n",
			"2: rightsizing.cpu_percentile: expected one of 50, 95, 99, 100, got \"95.5\"");
	cfgt_yaml_fails("rightsizing:\n  cpu_margin: 12\n",
			"2: rightsizing.cpu_margin: expected a number between 0 and 10 (a fraction: 0.15 = 15%), got \"12\"");
	cfgt_yaml_fails("rightsizing:\n  memory_floor_bytes: 12Q\n",
			"2: rightsizing.memory_floor_bytes: expected a number of bytes or a quantity such as 32Mi, got \"12Q\"");
	cfgt_yaml_fails("safety:\n  protected_namespaces: prod\n",
			"2: safety.protected_namespaces: expected a list of namespace names, got \"prod\"");
	cfgt_yaml_fails("safety:\n  protected_namespaces:\n    - prod\n    - [x]\n",
			"2: safety.protected_namespaces: every item must be a string, got a list");
	cfgt_yaml_fails("safety:\n  protected_namespaces: [Prod_1]\n",
			"2: safety.protected_namespaces: invalid namespace name \"Prod_1\": a namespace is a DNS-1123 "
			"label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most "
			"63 characters)");
	cfgt_yaml_fails("safety:\n  require_approval_destructive: false\n",
			"2: safety.require_approval_destructive: approval for destructive actions cannot be disabled: "
			"deletes, drains, cordons and scale-to-zero always need an explicit, audited approval (remove "
			"the setting or set it to true)");
	cfgt_yaml_fails("metrics:\n  port: 70000\n",
			"2: metrics.port: expected an integer between 1 and 65535, got \"70000\"");
	cfgt_yaml_fails("prices:\n  currency: usd\n",
			"2: prices.currency: expected a 3-letter uppercase currency code such as USD, got \"usd\"");
	cfgt_yaml_fails("prices:\n  currency:\n",
			"2: prices.currency: expected a 3-letter uppercase currency code such as USD, got null");
	cfgt_yaml_fails("prices:\n  cpu_core_hour: 1\n  cpu_core_hour: 2\n",
			"3: prices.cpu_core_hour: set twice in this file (first on line 2)");
	cfgt_yaml_fails("- a\n- b\n", "1: expected a mapping of settings (prices:, rightsizing:, ...) at the top");
	cfgt_yaml_fails("prices:\n  cpu_core_hour: 1\n---\nprices: {}\n", "4: only one YAML document is allowed");
	cfgt_yaml_fails("? [a]\n: 1\n", "1: keys must be plain strings");
	cfgt_yaml_fails("prices:\n  cpu_core_hour: [1\n", "3:1: malformed YAML: did not find expected ',' or ']' "
							  "while parsing a flow sequence");
}

Test(config_yaml, secret_not_echoed_in_errors)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cr_assert_eq(cfgt_load_yaml(&c, "llm:\n  gemini_api_key: [AIzaSECRETSECRETSECRET]\n", NULL, &err),
		     KP_ERR_USAGE);
	cr_expect_null(strstr(err.msg, "SECRET"), "%s", err.msg);
	kp_config_release(&c);
}

Test(config_yaml, missing_file_names_path)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cr_assert_eq(kp_config_load_file(&c, "/tmp/kopilot-no-such-dir/kopilot.yaml", &err), KP_ERR_USAGE);
	cr_expect_eq(err.status, KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "/tmp/kopilot-no-such-dir/kopilot.yaml") != NULL, "%s", err.msg);
	kp_config_release(&c);
}

Test(config_yaml, later_file_overrides_earlier)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cr_assert_eq(cfgt_load_yaml(&c, "safety:\n  protected_namespaces: [prod]\n", NULL, &err), KP_OK);
	cr_assert_eq(cfgt_load_yaml(&c, "safety:\n  protected_namespaces: [payments]\n", NULL, &err), KP_OK);
	static const char *const ns[] = {"kube-system", "kube-public", "kube-node-lease", "payments"};
	cr_expect(cfgt_list_is(&c.safety.protected_namespaces, ns, 4));
	kp_config_release(&c);
}

/* ---- protected namespaces ---- */

Test(config_safety, builtins_always_protected)
{
	static const char *const b[] = {"kube-system", "kube-public", "kube-node-lease"};
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cfgt_env_clear();
	cfgt_env_set("SAFETY_PROTECTED_NAMESPACES", "[]");
	cr_assert_eq(kp_config_load_env(&c, cfgt_getenv, &err), KP_OK, "%s", err.msg);
	cr_expect(cfgt_list_is(&c.safety.protected_namespaces, b, 3));
	cfgt_env_set("SAFETY_PROTECTED_NAMESPACES", "[\"prod\",\"prod\",\"kube-public\"]");
	cr_assert_eq(kp_config_load_env(&c, cfgt_getenv, &err), KP_OK, "%s", err.msg);
	static const char *const b2[] = {"kube-system", "kube-public", "kube-node-lease", "prod"};
	cr_expect(cfgt_list_is(&c.safety.protected_namespaces, b2, 4));
	cr_assert_eq(kp_config_set(&c, "safety.protected_namespaces=payments, billing", KP_SRC_FLAG, &err), KP_OK,
		     "%s", err.msg);
	static const char *const b3[] = {"kube-system", "kube-public", "kube-node-lease", "payments", "billing"};
	cr_expect(cfgt_list_is(&c.safety.protected_namespaces, b3, 5));
	cr_assert_eq(kp_config_set(&c, "safety.protected_namespaces=[\"ops\"]", KP_SRC_FLAG, &err), KP_OK, "%s",
		     err.msg);
	cr_expect(kp_strlist_contains(&c.safety.protected_namespaces, "ops"));
	cr_expect(!kp_strlist_contains(&c.safety.protected_namespaces, "payments"));
	for (size_t i = 0; i < 3; i++)
		cr_expect(kp_strlist_contains(&c.safety.protected_namespaces, b[i]));
	cr_expect(!kp_strlist_contains(NULL, "x"));
	cr_expect(!kp_strlist_contains(&c.safety.protected_namespaces, NULL));

	/* removing a built-in behind the loader's back is caught by validate */
	free(c.safety.protected_namespaces.items[0]);
	c.safety.protected_namespaces.items[0] = strdup("other");
	cr_expect_eq(kp_config_validate(&c, &err), KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "kube-system") != NULL, "%s", err.msg);
	kp_config_release(&c);
	cfgt_env_clear();
}

/* ---- flags ---- */

Test(config_flags, set_errors)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cr_expect_eq(kp_config_set(&c, "prices.cpu_core_hour", KP_SRC_FLAG, &err), KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "expected key=value") != NULL, "%s", err.msg);
	cr_expect_eq(kp_config_set(&c, "=1", KP_SRC_FLAG, &err), KP_ERR_USAGE);
	cr_expect_eq(kp_config_set(&c, "prices.nope=1", KP_SRC_FLAG, &err), KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "unknown key \"prices.nope\"") != NULL, "%s", err.msg);
	cr_expect_eq(kp_config_set(&c, "prices=1", KP_SRC_FLAG, &err), KP_ERR_USAGE);
	cr_expect_eq(kp_config_set(&c, "prices.cpu_core_hour=cheap", KP_SRC_FLAG, &err), KP_ERR_USAGE);
	cr_expect_str_eq(err.msg, "--set prices.cpu_core_hour: expected a number >= 0, got \"cheap\"");
	cr_expect_eq(kp_config_set(&c, "prices.cpu_core_hour=", KP_SRC_FLAG, &err), KP_ERR_USAGE);
	cr_expect_eq(kp_config_set(&c, "safety.require_approval_destructive=false", KP_SRC_FLAG, &err),
		     KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "cannot be disabled") != NULL, "%s", err.msg);
	cr_expect_eq(c.prices.cpu_core_hour, 0.031611);
	cr_expect_str_eq(c.prices.source, "default");
	/* strings: empty unsets, '=' in the value is kept */
	cr_assert_eq(kp_config_set(&c, "cluster.name=a=b", KP_SRC_FLAG, &err), KP_OK);
	cr_expect_str_eq(c.collect.cluster_name, "a=b");
	cr_assert_eq(kp_config_set(&c, "cluster.name=", KP_SRC_FLAG, &err), KP_OK);
	cr_expect_null(c.collect.cluster_name);
	cr_assert_eq(kp_config_set(&c, "rightsizing.memory_floor_bytes=48Mi", KP_SRC_FLAG, &err), KP_OK);
	cr_expect_eq(c.rules.rightsizing.memory_floor_b, 50331648);
	kp_config_release(&c);
}

/* ---- secrets ---- */

Test(config_secrets, masked_in_show_and_json)
{
	const char *key = "AIzaSyD-very-secret-value-9f3k";
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cfgt_env_clear();
	cfgt_env_set("GEMINI_API_KEY", key);
	cfgt_env_set("LLM_PROVIDER", "gemini");
	cr_assert_eq(kp_config_load_env(&c, cfgt_getenv, &err), KP_OK, "%s", err.msg);
	cr_expect_eq(kp_config_validate(&c, &err), KP_OK, "%s", err.msg);
	char *show = kp_config_show(&c);
	json_object *j = kp_config_to_json(&c);
	const char *js = json_object_to_json_string(j);
	cr_expect_null(strstr(show, "very-secret"), "%s", show);
	cr_expect_null(strstr(js, "very-secret"), "%s", js);
	cr_expect_null(strstr(show, "AIza"));
	cr_expect_null(strstr(js, "AIza"));
	char line[512];
	cfgt_show_line(show, "llm.gemini_api_key", line, sizeof(line));
	cr_expect(strstr(line, "= ****9f3k ") != NULL, "%s", line);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(j, "llm.gemini_api_key")), "****9f3k");
	free(show);
	json_object_put(j);

	/* short secrets: nothing of them is shown */
	cr_assert_eq(kp_config_set(&c, "llm.gemini_api_key=short-key-12", KP_SRC_FLAG, &err), KP_OK);
	show = kp_config_show(&c);
	j = kp_config_to_json(&c);
	cfgt_show_line(show, "llm.gemini_api_key", line, sizeof(line));
	cr_expect(strstr(line, "= ****   ") != NULL || strstr(line, "= **** ") != NULL, "%s", line);
	cr_expect_null(strstr(show, "y-12"));
	cr_expect_str_eq(json_object_get_string(json_object_object_get(j, "llm.gemini_api_key")), "****");
	free(show);
	json_object_put(j);

	/* a mistyped key never echoes the value it was given */
	cr_expect_eq(kp_config_set(&c, "llm.gemini_key=AIzaTOPSECRETVALUE", KP_SRC_FLAG, &err), KP_ERR_USAGE);
	cr_expect_null(strstr(err.msg, "TOPSECRET"), "%s", err.msg);
	char longkey[400];
	memset(longkey, 'k', 200);
	snprintf(longkey + 200, sizeof(longkey) - 200, "=AIzaTOPSECRETVALUE");
	cr_expect_eq(kp_config_set(&c, longkey, KP_SRC_FLAG, &err), KP_ERR_USAGE);
	cr_expect_null(strstr(err.msg, "TOPSECRET"), "%s", err.msg);
	kp_config_release(&c);
	cfgt_env_clear();
}

/* ---- validate ---- */

static void cfgt_validate_fails(void (*mutate)(kp_config *), const char *needle)
{
	kp_config c;
	kp_config_init(&c);
	mutate(&c);
	kp_error err = {0};
	cr_expect_eq(kp_config_validate(&c, &err), KP_ERR_USAGE, "should fail: %s", needle);
	cr_expect(strstr(err.msg, needle) != NULL, "\"%s\" lacks \"%s\"", err.msg, needle);
	kp_config_release(&c);
}

static void m_hours(kp_config *c) { c->prices.hours_per_month = 0; }
static void m_pct(kp_config *c) { c->rules.rightsizing.cpu_percentile = 90; }
static void m_margin(kp_config *c) { c->rules.rightsizing.memory_margin = 10.5; }
static void m_grace(kp_config *c) { c->rules.orphaned_pvc.grace_days = -1; }
static void m_gemini(kp_config *c)
{
	free(c->llm.provider);
	c->llm.provider = strdup("gemini");
}
static void m_approval(kp_config *c) { c->safety.require_approval_destructive = false; }
static void m_currency(kp_config *c)
{
	free(c->prices.currency);
	c->prices.currency = NULL;
}

Test(config_validate, cross_field)
{
	cfgt_validate_fails(m_hours, "prices.hours_per_month: expected a number > 0, got 0 (from default)");
	cfgt_validate_fails(m_pct, "rightsizing.cpu_percentile: expected one of 50, 95, 99, 100, got 90");
	cfgt_validate_fails(m_margin, "rightsizing.memory_margin: expected a number between 0 and 10");
	cfgt_validate_fails(m_grace, "orphaned_pvc.grace_days");
	cfgt_validate_fails(m_gemini, "GEMINI_API_KEY");
	cfgt_validate_fails(m_approval, "cannot be disabled");
	cfgt_validate_fails(m_currency, "prices.currency");

	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cr_assert_eq(kp_config_set(&c, "rightsizing.cpu_margin=0", KP_SRC_FLAG, &err), KP_OK);
	cr_assert_eq(kp_config_set(&c, "rightsizing.memory_margin=10", KP_SRC_FLAG, &err), KP_OK);
	cr_assert_eq(kp_config_set(&c, "orphaned_pvc.grace_days=0", KP_SRC_FLAG, &err), KP_OK);
	cr_expect_eq(kp_config_validate(&c, &err), KP_OK, "%s", err.msg);
	kp_config_release(&c);
}

/* ---- JSON ---- */

Test(config_json, keys_values_and_nulls)
{
	kp_config c;
	kp_config_init(&c);
	json_object *j = kp_config_to_json(&c);
	cr_assert(json_object_is_type(j, json_type_object));
	json_object *v;
	cr_assert(json_object_object_get_ex(j, "prices.cpu_core_hour", &v));
	cr_expect_eq(json_object_get_double(v), 0.031611);
	cr_expect_str_eq(json_object_to_json_string(v), "0.031611");
	cr_assert(json_object_object_get_ex(j, "prices.hours_per_month", &v));
	cr_expect_str_eq(json_object_to_json_string(v), "730");
	cr_assert(json_object_object_get_ex(j, "rightsizing.memory_floor_bytes", &v));
	cr_expect_eq(json_object_get_int64(v), 33554432);
	cr_assert(json_object_object_get_ex(j, "llm.gemini_api_key", &v));
	cr_expect_null(v);
	cr_assert(json_object_object_get_ex(j, "safety.protected_namespaces", &v));
	cr_expect_eq(json_object_array_length(v), 3);
	cr_assert(json_object_object_get_ex(j, "metrics.enabled", &v));
	cr_expect(json_object_get_boolean(v));
	cr_assert(json_object_object_get_ex(j, "prices.source", &v));
	cr_expect_str_eq(json_object_get_string(v), "default");
	json_object_put(j);
	kp_config_release(&c);
}

/* The documentation and the example file stay in step with the table.
 * Skipped when the tests do not run from the repository root. */
Test(config_docs, every_key_documented_and_example_loads)
{
	FILE *f = fopen("docs/configuration.md", "r");
	if (!f)
		cr_skip_test("docs/configuration.md not found from the current directory");
	fclose(f);
	char *doc = NULL;
	size_t len;
	kp_error err = {0};
	cr_assert_eq(kp_read_file("docs/configuration.md", &doc, &len, &err), KP_OK);
	kp_config c;
	kp_config_init(&c);
	json_object *j = kp_config_to_json(&c);
	json_object_object_foreach(j, key, val)
	{
		(void)val;
		char needle[128];
		snprintf(needle, sizeof(needle), "`%s`", key);
		cr_expect(strstr(doc, needle) != NULL, "docs/configuration.md does not mention %s", needle);
	}
	json_object_put(j);
	free(doc);

	cr_expect_eq(kp_config_load_file(&c, "examples/kopilot.yaml", &err), KP_OK, "%s", err.msg);
	cr_expect_eq(kp_config_validate(&c, &err), KP_OK, "%s", err.msg);
	kp_config_release(&c);
}
