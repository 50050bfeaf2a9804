/*
 * test_llm.c - the provider layer (stages/analyze/agents/llm.c) against
 * tests/fakes/llm.py, which speaks the five providers' wire formats and
 * enforces what the real ones do (tool call/result pairing, Gemini's
 * thought signatures, Anthropic's version header and max_tokens); the fake
 * itself is proven by the official SDKs (tests/e2e/llmfakes.sh).
 *
 * For each provider: a full tool-calling exchange (a tool call, its result,
 * the final text, the token counts), a 429 retried after Retry-After; and
 * the failures: a wrong key (not retried, named, never echoed), a quota
 * used up (not retried), a malformed answer, invalid tool arguments.
 */
#include <criterion/criterion.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/config.h"
#include "stages/analyze/agents/llm.h"
#include "tests/unit/tmpdir.h"

#define KEY "sk-test-0123456789abcdef"

static char root[64];
static pid_t fake;
static int port;
static char logpath[128];

static const char *const script =
	"{\"replies\": ["
	/* the answer to the tool's result first: that request holds the question too */
	"{\"when\": \"cost-is-42\", \"text\": \"web costs 42 USD a month.\", \"usage\": {\"in\": 120, \"out\": 9}, "
	"\"repeat\": true},"
	"{\"when\": \"please use the tool\", \"tool_calls\": [{\"name\": \"get_cost\", \"arguments\": {\"namespace\": "
	"\"shop\", \"workload\": \"web\"}}], \"repeat\": true},"
	/* one rate limit per provider (a reply is used once) */
	"{\"when\": \"slow down ollama\", \"error\": {\"status\": 429, \"retry_after\": 1}},"
	"{\"when\": \"slow down openai\", \"error\": {\"status\": 429, \"retry_after\": 1}},"
	"{\"when\": \"slow down azure_openai\", \"error\": {\"status\": 429, \"retry_after\": 1}},"
	"{\"when\": \"slow down gemini\", \"error\": {\"status\": 429, \"retry_after\": 1}},"
	"{\"when\": \"slow down\", \"text\": \"after the wait\", \"repeat\": true},"
	"{\"when\": \"over quota\", \"error\": {\"status\": 429, \"kind\": \"quota\"}, \"repeat\": true},"
	"{\"when\": \"garbled\", \"malformed\": true, \"repeat\": true},"
	"{\"when\": \"bad arguments\", \"tool_calls\": [{\"name\": \"get_cost\", \"raw_arguments\": \"{not json\"}], "
	"\"repeat\": true},"
	"{\"when\": \"cut short\", \"truncated\": true},"
	"{\"when\": \"cut short\", \"text\": \"whole this time\", \"repeat\": true},"
	"{\"when\": \"too slow\", \"delay\": 3, \"text\": \"late\", \"repeat\": true},"
	"{\"when\": \"overloaded\", \"error\": {\"status\": 529}},"
	"{\"when\": \"overloaded\", \"text\": \"after the overload\", \"repeat\": true}"
	"]}";

static void setup(void)
{
	tmpdir_make(root, "llm");
	char sp[128];
	snprintf(sp, sizeof(sp), "%s/script.json", root);
	cr_assert_eq(kp_write_file_atomic(sp, script, strlen(script), NULL), KP_OK);
	snprintf(logpath, sizeof(logpath), "%s/llm.jsonl", root);
	fake = tmpdir_start_fake(root, &port, "tests/fakes/llm.py", "--key", KEY, "--script", sp, "--log", logpath,
				 "--ollama-open", (const char *)NULL);
}

static void teardown(void)
{
	tmpdir_stop_fake(fake);
	/* tests/e2e/llmfakes.sh type-checks the bodies sent against the SDKs' types */
	const char *keep = getenv("KP_LLM_LOG_COPY");
	if (keep && *keep)
		cr_expect_eq(kp_copy_file_atomic(logpath, keep, NULL), KP_OK, "cannot keep the log in %s", keep);
	kp_remove_tree(root);
}

TestSuite(llm, .init = setup, .fini = teardown);

static void set(char **field, const char *v)
{
	free(*field);
	*field = v ? kp_xstrdup(v) : NULL;
}

/* a configuration for provider p against the fake, with key */
static void config_for(kp_config *cfg, const char *p, const char *key)
{
	kp_config_init(cfg);
	char base[96];
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	set(&cfg->llm.provider, p);
	set(&cfg->llm.model, "gpt-oss:20b");
	set(&cfg->llm.ollama_base_url, base);
	char v1[128];
	snprintf(v1, sizeof(v1), "%s/v1", base);
	set(&cfg->llm.openai_base_url, v1);
	set(&cfg->llm.openai_api_key, key);
	set(&cfg->llm.azure_endpoint, base);
	set(&cfg->llm.azure_api_key, key);
	set(&cfg->llm.azure_deployment, "gpt-4o-prod");
	set(&cfg->llm.anthropic_base_url, base);
	set(&cfg->llm.anthropic_api_key, key);
	set(&cfg->llm.gemini_base_url, base);
	set(&cfg->llm.gemini_api_key, key);
	cfg->llm.max_retries = 2;
	cfg->llm.timeout_seconds = 20;
}

static const char *const providers[] = {"ollama", "openai", "azure_openai", "anthropic", "gemini"};

static const kp_llm_tool tool = {"get_cost", "The monthly cost of one workload",
				 "{\"type\":\"object\",\"properties\":{\"namespace\":{\"type\":\"string\"},"
				 "\"workload\":{\"type\":\"string\"}},\"required\":[\"namespace\",\"workload\"]}"};

static kp_llm *client(kp_config *cfg, const char *p, const char *key)
{
	config_for(cfg, p, key);
	kp_llm *l = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_llm_new(cfg, &l, &err), KP_OK, "%s: %s", p, err.msg);
	cr_assert(l);
	return l;
}

/* how many requests the fake logged whose body contains s */
static int logged(const char *s)
{
	char *text = NULL;
	size_t n = 0;
	if (kp_read_file(logpath, &text, &n, NULL))
		return 0;
	int count = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		count += strstr(line, s) != NULL;
	free(text);
	return count;
}

Test(llm, a_tool_calling_exchange_on_every_provider)
{
	for (size_t i = 0; i < 5; i++) {
		kp_config cfg;
		kp_llm *l = client(&cfg, providers[i], KEY);
		kp_llm_conv c;
		kp_llm_conv_init(&c, "You are a FinOps assistant.");
		kp_llm_conv_user(&c, "What does shop/web cost? please use the tool");
		kp_llm_reply r;
		kp_error err = {0};
		cr_assert_eq(kp_llm_chat(l, &c, &tool, 1, &r, &err), KP_OK, "%s: %s", providers[i], err.msg);
		cr_assert_eq(r.ncalls, 1, "%s: one tool call", providers[i]);
		cr_expect_str_eq(r.calls[0].name, "get_cost");
		cr_expect(r.calls[0].args_ok);
		json_object *a = json_tokener_parse(r.calls[0].args);
		cr_expect_str_eq(kp_json_str(a, "workload"), "web", "%s: %s", providers[i], r.calls[0].args);
		json_object_put(a);
		kp_llm_call call = r.calls[0];
		kp_llm_reply_release(&r);
		/* the result goes back; the fake checks it answers that call (and,
		 * for Gemini, that the call kept its thought signature) */
		kp_llm_conv_tool(&c, &call, "{\"monthly_usd\": 42, \"marker\": \"cost-is-42\"}");
		cr_assert_eq(kp_llm_chat(l, &c, &tool, 1, &r, &err), KP_OK, "%s: %s", providers[i], err.msg);
		cr_expect_eq(r.ncalls, 0);
		cr_expect_str_eq(r.text, "web costs 42 USD a month.", "%s", providers[i]);
		cr_expect_eq(r.in_tokens, 120, "%s", providers[i]);
		cr_expect_eq(r.out_tokens, 9, "%s", providers[i]);
		kp_llm_reply_release(&r);
		kp_llm_totals t = kp_llm_get_totals(l);
		cr_expect_eq(t.calls, 2);
		cr_expect_geq(t.in_tokens, 121);
		char label[64];
		snprintf(label, sizeof(label), "%s/", providers[i]);
		cr_expect(!strncmp(kp_llm_label(l), label, strlen(label)), "%s", kp_llm_label(l));
		kp_llm_conv_release(&c);
		kp_llm_free(l);
		kp_config_release(&cfg);
	}
	cr_expect_eq(logged(KEY), 0, "the key is in no log line");
}

Test(llm, rate_limits_and_overload_are_retried)
{
	for (size_t i = 0; i < 5; i++) {
		kp_config cfg;
		kp_llm *l = client(&cfg, providers[i], KEY);
		kp_llm_conv c;
		kp_llm_conv_init(&c, NULL);
		char text[64];
		snprintf(text, sizeof(text), "%s %s", i == 3 ? "overloaded" : "slow down", providers[i]);
		kp_llm_conv_user(&c, text);
		kp_llm_reply r;
		kp_error err = {0};
		cr_assert_eq(kp_llm_chat(l, &c, NULL, 0, &r, &err), KP_OK, "%s: %s", providers[i], err.msg);
		cr_expect_str_eq(r.text, i == 3 ? "after the overload" : "after the wait", "%s", providers[i]);
		cr_expect_eq(logged(text), 2, "%s: asked twice: the error, then the answer", providers[i]);
		kp_llm_reply_release(&r);
		kp_llm_conv_release(&c);
		kp_llm_free(l);
		kp_config_release(&cfg);
	}
}

Test(llm, a_wrong_key_is_named_never_echoed_and_not_retried)
{
	static const char *const envs[] = {NULL, "OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "ANTHROPIC_API_KEY",
					   "GEMINI_API_KEY"};
	for (size_t i = 1; i < 5; i++) { /* a local Ollama takes any key */
		const char *bad = "sk-wrong-9876543210fedcba";
		kp_config cfg;
		kp_llm *l = client(&cfg, providers[i], bad);
		kp_llm_conv c;
		kp_llm_conv_init(&c, NULL);
		kp_llm_conv_user(&c, "hello");
		kp_llm_reply r;
		kp_error err = {0};
		kp_status s = kp_llm_chat(l, &c, NULL, 0, &r, &err);
		cr_expect_eq(s, KP_ERR_USAGE, "%s: %s", providers[i], err.msg);
		cr_expect(strstr(err.msg, envs[i]), "%s: names the key's variable: %s", providers[i], err.msg);
		cr_expect_null(strstr(err.msg, bad), "%s: the key is not in the message: %s", providers[i], err.msg);
		cr_expect_null(strstr(err.msg, "9876543210"), "%s: nor a piece of it: %s", providers[i], err.msg);
		kp_llm_totals t = kp_llm_get_totals(l);
		cr_expect_eq(t.failed, 1);
		kp_llm_conv_release(&c);
		kp_llm_free(l);
		kp_config_release(&cfg);
	}
	cr_expect_eq(logged("sk-wrong"), 0, "the wrong key is in no log line either");
}

Test(llm, quota_used_up_is_not_retried)
{
	for (size_t i = 0; i < 5; i++) {
		kp_config cfg;
		kp_llm *l = client(&cfg, providers[i], KEY);
		kp_llm_conv c;
		kp_llm_conv_init(&c, NULL);
		char text[64];
		snprintf(text, sizeof(text), "over quota %s", providers[i]);
		kp_llm_conv_user(&c, text);
		kp_llm_reply r;
		kp_error err = {0};
		kp_status s = kp_llm_chat(l, &c, NULL, 0, &r, &err);
		cr_expect_neq(s, KP_OK, "%s", providers[i]);
		/* Azure's quota is its rate limit (a 429 like any other): retried */
		if (i != 2) {
			cr_expect_eq(s, KP_ERR_USAGE, "%s: %s", providers[i], err.msg);
			cr_expect_eq(logged(text), 1, "%s: asked once: %s", providers[i], err.msg);
		}
		kp_llm_conv_release(&c);
		kp_llm_free(l);
		kp_config_release(&cfg);
	}
}

Test(llm, a_malformed_answer_and_invalid_tool_arguments)
{
	for (size_t i = 0; i < 5; i++) {
		kp_config cfg;
		kp_llm *l = client(&cfg, providers[i], KEY);
		kp_llm_conv c;
		kp_llm_conv_init(&c, NULL);
		kp_llm_conv_user(&c, "garbled");
		kp_llm_reply r;
		kp_error err = {0};
		cr_expect_eq(kp_llm_chat(l, &c, NULL, 0, &r, &err), KP_ERR_NETWORK, "%s", providers[i]);
		cr_expect(strstr(err.msg, "the answer is not"), "%s: %s", providers[i], err.msg);
		cr_expect_eq(c.msgs.len, 1, "a failed call adds no turn");
		kp_llm_conv_release(&c);
		kp_llm_conv_init(&c, NULL);
		kp_llm_conv_user(&c, "bad arguments");
		cr_assert_eq(kp_llm_chat(l, &c, &tool, 1, &r, &err), KP_OK, "%s: %s", providers[i], err.msg);
		if (i == 1 || i == 2) { /* OpenAI, Azure: the string as it came, marked */
			cr_assert_eq(r.ncalls, 1);
			cr_expect_not(r.calls[0].args_ok);
			cr_expect_str_eq(r.calls[0].args, "{not json");
		} else { /* the others never send invalid JSON: a cut call, a finish reason, or text */
			cr_expect(r.ncalls == 0 || r.calls[0].args_ok, "%s", providers[i]);
		}
		kp_llm_reply_release(&r);
		kp_llm_conv_release(&c);
		kp_llm_free(l);
		kp_config_release(&cfg);
	}
}

Test(llm, provider_none_is_no_client_and_configuration_is_checked)
{
	kp_config cfg;
	kp_config_init(&cfg);
	kp_llm *l = (kp_llm *)1;
	kp_error err = {0};
	cr_assert_eq(kp_llm_new(&cfg, &l, &err), KP_OK);
	cr_expect_null(l, "provider none: no client, template explanations");
	kp_config_release(&cfg);
}

Test(llm, a_cut_answer_is_asked_again_and_a_slow_one_times_out)
{
	kp_config cfg;
	kp_llm *l = client(&cfg, "openai", KEY);
	kp_llm_conv c;
	kp_llm_conv_init(&c, NULL);
	kp_llm_conv_user(&c, "cut short");
	kp_llm_reply r;
	kp_error err = {0};
	cr_assert_eq(kp_llm_chat(l, &c, NULL, 0, &r, &err), KP_OK, "%s", err.msg);
	cr_expect_str_eq(r.text, "whole this time");
	cr_expect_eq(logged("cut short"), 2, "the cut answer was asked for again");
	kp_llm_reply_release(&r);
	kp_llm_conv_release(&c);
	kp_llm_free(l);
	kp_config_release(&cfg);
	/* an answer later than llm.timeout_seconds: an error naming the provider, not a hang */
	l = client(&cfg, "anthropic", KEY);
	cfg.llm.timeout_seconds = 1;
	kp_llm_free(l);
	cfg.llm.max_retries = 0;
	cr_assert_eq(kp_llm_new(&cfg, &l, &err), KP_OK, "%s", err.msg);
	kp_llm_conv_init(&c, NULL);
	kp_llm_conv_user(&c, "too slow");
	double t0 = kp_monotonic_seconds();
	cr_expect_eq(kp_llm_chat(l, &c, NULL, 0, &r, &err), KP_ERR_NETWORK);
	cr_expect_lt(kp_monotonic_seconds() - t0, 2.9, "it gave up at the timeout");
	cr_expect(strstr(err.msg, "the Anthropic API"), "%s", err.msg);
	kp_llm_conv_release(&c);
	kp_llm_free(l);
	kp_config_release(&cfg);
}
