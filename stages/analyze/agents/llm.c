/*
 * llm.c - see llm.h. Each provider is two functions: encode the
 * conversation into its request body, decode its answer into text, tool
 * calls and token counts. Everything else (retries, timeouts, TLS, the
 * counters, what an error says) is shared.
 */
#include "stages/analyze/agents/llm.h"
#include "pipeline/http.h"
#include "stages/analyze/agents/anon.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kp_llm {
	kp_llm_kind kind;
	char *model, *label, *path, *name, *key, *key_env;
	int max_tokens, num_ctx;
	kp_http_client *http;
	pthread_mutex_t lock;
	kp_llm_totals totals;
	const kp_anon *anon;
	char *headers[4]; /* "Name: value", NULL-terminated: the key's header among them */
};

/* ---- conversations ---- */

void kp_llm_conv_init(kp_llm_conv *c, const char *system)
{
	memset(c, 0, sizeof(*c));
	c->system = system ? kp_xstrdup(system) : NULL;
}

static void call_release(kp_llm_call *k)
{
	free(k->id), free(k->name), free(k->args);
}

void kp_llm_conv_release(kp_llm_conv *c)
{
	for (size_t i = 0; i < c->msgs.len; i++) {
		kp_llm_msg *m = &c->msgs.items[i];
		free(m->text), free(m->call_id), free(m->call_name), free(m->raw);
		for (size_t j = 0; j < m->ncalls; j++)
			call_release(&m->calls[j]);
		free(m->calls);
	}
	free(c->msgs.items);
	free(c->system);
	memset(c, 0, sizeof(*c));
}

void kp_llm_conv_user(kp_llm_conv *c, const char *text)
{
	kp_llm_msg m = {.role = KP_LLM_USER, .text = kp_xstrdup(text ? text : "")};
	KP_ARRAY_PUSH(c->msgs, m);
}

void kp_llm_conv_tool(kp_llm_conv *c, const kp_llm_call *call, const char *result)
{
	kp_llm_msg m = {.role = KP_LLM_TOOL, .text = kp_xstrdup(result ? result : ""),
			.call_id = kp_xstrdup(call->id ? call->id : ""), .call_name = kp_xstrdup(call->name)};
	KP_ARRAY_PUSH(c->msgs, m);
}

void kp_llm_reply_release(kp_llm_reply *r)
{
	free(r->finish);
	memset(r, 0, sizeof(*r));
}

/* ---- JSON helpers ---- */

static json_object *jstr(const char *s) { return json_object_new_string(s ? s : ""); }

/* a tool's parameters (schema text) as an object; a schema that does not
 * parse is a bug of the caller, sent as an empty object schema */
static json_object *schema_of(const kp_llm_tool *t)
{
	json_object *o = t->parameters ? json_tokener_parse(t->parameters) : NULL;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = json_tokener_parse("{\"type\":\"object\",\"properties\":{}}");
	}
	return o;
}

/* arguments text -> object (an invalid one: an empty object, for the
 * providers whose history holds objects) */
static json_object *args_object(const kp_llm_call *k)
{
	json_object *o = k->args_ok && k->args ? json_tokener_parse(k->args) : NULL;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = json_object_new_object();
	}
	return o;
}

/* A tool call from an answer: args given as an object (Ollama, Anthropic,
 * Gemini) or as a JSON string (OpenAI). */
static void call_from(kp_llm_call *k, const char *id, const char *name, json_object *args, size_t index)
{
	k->id = id && *id ? kp_xstrdup(id) : kp_xasprintf("call_%zu", index);
	k->name = kp_xstrdup(name ? name : "");
	if (json_object_is_type(args, json_type_string)) {
		const char *t = json_object_get_string(args);
		json_object *o = json_tokener_parse(t);
		k->args_ok = json_object_is_type(o, json_type_object);
		k->args = kp_xstrdup(*t ? t : "{}");
		if (!*t)
			k->args_ok = true;
		json_object_put(o);
	} else if (json_object_is_type(args, json_type_object)) {
		k->args_ok = true;
		k->args = kp_xstrdup(json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN));
	} else if (!args) {
		k->args_ok = true;
		k->args = kp_xstrdup("{}");
	} else {
		k->args_ok = false;
		k->args = kp_xstrdup(json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN));
	}
}

static int64_t int_at(json_object *o, const char *dotted)
{
	json_object *v = kp_json_get(o, dotted);
	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
}

/* ---- OpenAI and Azure OpenAI: chat completions ---- */

static json_object *openai_tools(const kp_llm_tool *tools, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_new_object(), *t = json_object_new_object();
		json_object_object_add(f, "name", jstr(tools[i].name));
		json_object_object_add(f, "description", jstr(tools[i].description));
		json_object_object_add(f, "parameters", schema_of(&tools[i]));
		json_object_object_add(t, "type", jstr("function"));
		json_object_object_add(t, "function", f);
		json_object_array_add(a, t);
	}
	return a;
}

/* Ollama's messages are OpenAI's with arguments as objects and tool
 * results named by tool_name: one encoder, two dialects. */
static json_object *openai_messages(const kp_llm_conv *c, bool ollama)
{
	json_object *a = json_object_new_array();
	if (c->system) {
		json_object *m = json_object_new_object();
		json_object_object_add(m, "role", jstr("system"));
		json_object_object_add(m, "content", jstr(c->system));
		json_object_array_add(a, m);
	}
	for (size_t i = 0; i < c->msgs.len; i++) {
		const kp_llm_msg *x = &c->msgs.items[i];
		json_object *m = json_object_new_object();
		if (x->role == KP_LLM_USER) {
			json_object_object_add(m, "role", jstr("user"));
			json_object_object_add(m, "content", jstr(x->text));
		} else if (x->role == KP_LLM_TOOL) {
			json_object_object_add(m, "role", jstr("tool"));
			if (ollama)
				json_object_object_add(m, "tool_name", jstr(x->call_name));
			else
				json_object_object_add(m, "tool_call_id", jstr(x->call_id));
			json_object_object_add(m, "content", jstr(x->text));
		} else {
			json_object_object_add(m, "role", jstr("assistant"));
			/* OpenAI: content null beside tool calls; Ollama: a string */
			json_object_object_add(m, "content", x->text || ollama ? jstr(x->text) : NULL);
			if (x->ncalls) {
				json_object *calls = json_object_new_array();
				for (size_t j = 0; j < x->ncalls; j++) {
					const kp_llm_call *k = &x->calls[j];
					json_object *f = json_object_new_object(), *tc = json_object_new_object();
					json_object_object_add(f, "name", jstr(k->name));
					/* what came goes back as it came: an invalid argument
					 * string too, so the model sees its own mistake */
					json_object_object_add(f, "arguments", ollama ? args_object(k) : jstr(k->args));
					if (!ollama) {
						json_object_object_add(tc, "id", jstr(k->id));
						json_object_object_add(tc, "type", jstr("function"));
					}
					json_object_object_add(tc, "function", f);
					json_object_array_add(calls, tc);
				}
				json_object_object_add(m, "tool_calls", calls);
			}
		}
		json_object_array_add(a, m);
	}
	return a;
}

static json_object *openai_encode(const kp_llm *l, const kp_llm_conv *c, const kp_llm_tool *t, size_t nt)
{
	json_object *b = json_object_new_object();
	json_object_object_add(b, "model", jstr(l->model));
	json_object_object_add(b, "messages", openai_messages(c, false));
	if (nt)
		json_object_object_add(b, "tools", openai_tools(t, nt));
	return b;
}

static json_object *ollama_encode(const kp_llm *l, const kp_llm_conv *c, const kp_llm_tool *t, size_t nt)
{
	json_object *b = json_object_new_object(), *opt = json_object_new_object();
	json_object_object_add(b, "model", jstr(l->model));
	json_object_object_add(b, "messages", openai_messages(c, true));
	if (nt)
		json_object_object_add(b, "tools", openai_tools(t, nt));
	json_object_object_add(b, "stream", json_object_new_boolean(0));
	json_object_object_add(opt, "num_ctx", json_object_new_int(l->num_ctx));
	json_object_object_add(opt, "num_predict", json_object_new_int(l->max_tokens));
	json_object_object_add(b, "options", opt);
	return b;
}

/* The decoders fill a fresh assistant turn m and the reply's counts;
 * false: the answer is not what the provider sends. */
static bool openai_decode(json_object *d, kp_llm_msg *m, kp_llm_reply *r, bool ollama)
{
	json_object *msg = ollama ? kp_json_get(d, "message") : NULL;
	if (!ollama) {
		json_object *ch = kp_json_get(d, "choices");
		if (!json_object_is_type(ch, json_type_array) || json_object_array_length(ch) < 1)
			return false;
		json_object *c0 = json_object_array_get_idx(ch, 0);
		msg = kp_json_get(c0, "message");
		const char *fr = kp_json_str(c0, "finish_reason");
		r->finish = fr ? kp_xstrdup(fr) : NULL;
		r->in_tokens = int_at(d, "usage.prompt_tokens");
		r->out_tokens = int_at(d, "usage.completion_tokens");
	} else {
		const char *fr = kp_json_str(d, "done_reason");
		r->finish = fr ? kp_xstrdup(fr) : NULL;
		r->in_tokens = int_at(d, "prompt_eval_count");
		r->out_tokens = int_at(d, "eval_count");
	}
	if (!json_object_is_type(msg, json_type_object))
		return false;
	const char *text = kp_json_str(msg, "content");
	if (text && *text)
		m->text = kp_xstrdup(text);
	json_object *tc = kp_json_get(msg, "tool_calls");
	size_t n = json_object_is_type(tc, json_type_array) ? json_object_array_length(tc) : 0;
	if (n)
		m->calls = kp_xcalloc(n, sizeof(kp_llm_call));
	for (size_t i = 0; i < n; i++) {
		json_object *k = json_object_array_get_idx(tc, i);
		call_from(&m->calls[m->ncalls++], kp_json_str(k, "id"), kp_json_str(k, "function.name"),
			  kp_json_get(k, "function.arguments"), i);
	}
	return true;
}

/* ---- Anthropic: messages ---- */

static json_object *anthropic_encode(const kp_llm *l, const kp_llm_conv *c, const kp_llm_tool *t, size_t nt)
{
	json_object *b = json_object_new_object(), *msgs = json_object_new_array();
	json_object_object_add(b, "model", jstr(l->model));
	json_object_object_add(b, "max_tokens", json_object_new_int(l->max_tokens));
	if (c->system)
		json_object_object_add(b, "system", jstr(c->system));
	/* roles must alternate: tool results and the user text after them
	 * share one user turn */
	json_object *cur = NULL;
	const char *cur_role = NULL;
	for (size_t i = 0; i < c->msgs.len; i++) {
		const kp_llm_msg *x = &c->msgs.items[i];
		const char *role = x->role == KP_LLM_ASSISTANT ? "assistant" : "user";
		if (!cur || strcmp(cur_role, role)) {
			json_object *m = json_object_new_object();
			cur = json_object_new_array();
			cur_role = role;
			json_object_object_add(m, "role", jstr(role));
			json_object_object_add(m, "content", cur);
			json_object_array_add(msgs, m);
		}
		json_object *blk = NULL;
		if (x->role == KP_LLM_TOOL) {
			blk = json_object_new_object();
			json_object_object_add(blk, "type", jstr("tool_result"));
			json_object_object_add(blk, "tool_use_id", jstr(x->call_id));
			json_object_object_add(blk, "content", jstr(x->text));
			json_object_array_add(cur, blk);
			continue;
		}
		if (x->text && *x->text) {
			blk = json_object_new_object();
			json_object_object_add(blk, "type", jstr("text"));
			json_object_object_add(blk, "text", jstr(x->text));
			json_object_array_add(cur, blk);
		}
		for (size_t j = 0; j < x->ncalls; j++) {
			blk = json_object_new_object();
			json_object_object_add(blk, "type", jstr("tool_use"));
			json_object_object_add(blk, "id", jstr(x->calls[j].id));
			json_object_object_add(blk, "name", jstr(x->calls[j].name));
			json_object_object_add(blk, "input", args_object(&x->calls[j]));
			json_object_array_add(cur, blk);
		}
	}
	json_object_object_add(b, "messages", msgs);
	if (nt) {
		json_object *a = json_object_new_array();
		for (size_t i = 0; i < nt; i++) {
			json_object *tl = json_object_new_object();
			json_object_object_add(tl, "name", jstr(t[i].name));
			json_object_object_add(tl, "description", jstr(t[i].description));
			json_object_object_add(tl, "input_schema", schema_of(&t[i]));
			json_object_array_add(a, tl);
		}
		json_object_object_add(b, "tools", a);
	}
	return b;
}

static bool anthropic_decode(json_object *d, kp_llm_msg *m, kp_llm_reply *r)
{
	json_object *content = kp_json_get(d, "content");
	if (!json_object_is_type(content, json_type_array))
		return false;
	const char *sr = kp_json_str(d, "stop_reason");
	r->finish = sr ? kp_xstrdup(sr) : NULL;
	r->in_tokens = int_at(d, "usage.input_tokens");
	r->out_tokens = int_at(d, "usage.output_tokens");
	size_t n = json_object_array_length(content), ncalls = 0;
	kp_buf text;
	kp_buf_init(&text);
	for (size_t i = 0; i < n; i++) {
		json_object *blk = json_object_array_get_idx(content, i);
		const char *type = kp_json_str(blk, "type");
		if (type && !strcmp(type, "tool_use"))
			ncalls++;
		else if (type && !strcmp(type, "text") && kp_json_str(blk, "text"))
			kp_buf_puts(&text, kp_json_str(blk, "text"));
	}
	if (ncalls)
		m->calls = kp_xcalloc(ncalls, sizeof(kp_llm_call));
	for (size_t i = 0; i < n; i++) {
		json_object *blk = json_object_array_get_idx(content, i);
		const char *type = kp_json_str(blk, "type");
		if (type && !strcmp(type, "tool_use"))
			call_from(&m->calls[m->ncalls++], kp_json_str(blk, "id"), kp_json_str(blk, "name"),
				  kp_json_get(blk, "input"), i);
	}
	m->text = text.len ? kp_buf_detach(&text) : NULL;
	kp_buf_release(&text);
	return true;
}

/* ---- Gemini: generateContent ---- */

static json_object *gemini_encode(const kp_llm *l, const kp_llm_conv *c, const kp_llm_tool *t, size_t nt)
{
	(void)l;
	json_object *b = json_object_new_object(), *contents = json_object_new_array();
	if (c->system) {
		json_object *si = json_object_new_object(), *parts = json_object_new_array(), *p = json_object_new_object();
		json_object_object_add(p, "text", jstr(c->system));
		json_object_array_add(parts, p);
		json_object_object_add(si, "parts", parts);
		json_object_object_add(b, "systemInstruction", si);
	}
	json_object *cur = NULL;
	const char *cur_role = NULL;
	for (size_t i = 0; i < c->msgs.len; i++) {
		const kp_llm_msg *x = &c->msgs.items[i];
		const char *role = x->role == KP_LLM_ASSISTANT ? "model" : "user";
		if (!cur || strcmp(cur_role, role)) {
			json_object *m = json_object_new_object();
			cur = json_object_new_array();
			cur_role = role;
			json_object_object_add(m, "role", jstr(role));
			json_object_object_add(m, "parts", cur);
			json_object_array_add(contents, m);
		}
		json_object *raw = x->raw ? json_tokener_parse(x->raw) : NULL;
		if (json_object_is_type(raw, json_type_array)) {
			/* the model's parts exactly as they came: Gemini checks
			 * that each functionCall keeps its thoughtSignature */
			for (size_t j = 0; j < json_object_array_length(raw); j++)
				json_object_array_add(cur, json_object_get(json_object_array_get_idx(raw, j)));
			json_object_put(raw);
			continue;
		}
		json_object_put(raw);
		if (x->role == KP_LLM_TOOL) {
			json_object *p = json_object_new_object(), *fr = json_object_new_object(),
				    *resp = json_object_new_object();
			json_object_object_add(resp, "result", jstr(x->text));
			json_object_object_add(fr, "name", jstr(x->call_name));
			json_object_object_add(fr, "response", resp);
			json_object_object_add(p, "functionResponse", fr);
			json_object_array_add(cur, p);
			continue;
		}
		if (x->text && *x->text) {
			json_object *p = json_object_new_object();
			json_object_object_add(p, "text", jstr(x->text));
			json_object_array_add(cur, p);
		}
		for (size_t j = 0; j < x->ncalls; j++) {
			json_object *p = json_object_new_object(), *fc = json_object_new_object();
			json_object_object_add(fc, "name", jstr(x->calls[j].name));
			json_object_object_add(fc, "args", args_object(&x->calls[j]));
			json_object_object_add(p, "functionCall", fc);
			json_object_array_add(cur, p);
		}
	}
	json_object_object_add(b, "contents", contents);
	if (nt) {
		json_object *decl = json_object_new_array(), *tools = json_object_new_array(), *tl = json_object_new_object();
		for (size_t i = 0; i < nt; i++) {
			json_object *f = json_object_new_object();
			json_object_object_add(f, "name", jstr(t[i].name));
			json_object_object_add(f, "description", jstr(t[i].description));
			json_object_object_add(f, "parameters", schema_of(&t[i]));
			json_object_array_add(decl, f);
		}
		json_object_object_add(tl, "functionDeclarations", decl);
		json_object_array_add(tools, tl);
		json_object_object_add(b, "tools", tools);
	}
	json_object *gc = json_object_new_object();
	json_object_object_add(gc, "maxOutputTokens", json_object_new_int(l->max_tokens));
	json_object_object_add(b, "generationConfig", gc);
	return b;
}

static bool gemini_decode(json_object *d, kp_llm_msg *m, kp_llm_reply *r)
{
	json_object *cands = kp_json_get(d, "candidates");
	if (!json_object_is_type(cands, json_type_array) || json_object_array_length(cands) < 1)
		return false;
	json_object *c0 = json_object_array_get_idx(cands, 0);
	const char *fr = kp_json_str(c0, "finishReason");
	r->finish = fr ? kp_xstrdup(fr) : NULL;
	r->in_tokens = int_at(d, "usageMetadata.promptTokenCount");
	r->out_tokens = int_at(d, "usageMetadata.candidatesTokenCount");
	json_object *parts = kp_json_get(c0, "content.parts");
	if (!parts) /* a refusal or a stop before any part: an empty turn */
		return fr != NULL;
	if (!json_object_is_type(parts, json_type_array))
		return false;
	size_t n = json_object_array_length(parts), ncalls = 0;
	for (size_t i = 0; i < n; i++)
		if (kp_json_get(json_object_array_get_idx(parts, i), "functionCall"))
			ncalls++;
	if (ncalls)
		m->calls = kp_xcalloc(ncalls, sizeof(kp_llm_call));
	kp_buf text;
	kp_buf_init(&text);
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(parts, i);
		json_object *fc = kp_json_get(p, "functionCall");
		json_object *thought = kp_json_get(p, "thought");
		if (fc)
			call_from(&m->calls[m->ncalls++], kp_json_str(fc, "id"), kp_json_str(fc, "name"),
				  kp_json_get(fc, "args"), i);
		else if (kp_json_str(p, "text") && !json_object_get_boolean(thought)) /* thoughts are not the answer */
			kp_buf_puts(&text, kp_json_str(p, "text"));
	}
	m->text = text.len ? kp_buf_detach(&text) : NULL;
	kp_buf_release(&text);
	m->raw = kp_xstrdup(json_object_to_json_string_ext(parts, JSON_C_TO_STRING_PLAIN));
	return true;
}

/* ---- the client ---- */

static const char *kind_names[] = {"ollama", "openai", "azure_openai", "anthropic", "gemini"};

/* Quota used up is not worth a retry (it will not come back in seconds):
 * OpenAI and Azure say insufficient_quota, Gemini points at billing. */
static bool retryable(long status, const char *body)
{
	(void)status;
	return !(body && (strstr(body, "insufficient_quota") || strstr(body, "check your plan and billing")));
}

kp_status kp_llm_new(const kp_config *cfg, kp_llm **out, kp_error *err)
{
	*out = NULL;
	const kp_llm_config *c = &cfg->llm;
	const char *p = c->provider ? c->provider : "none";
	if (!strcmp(p, "none"))
		return KP_OK;
	kp_llm *l = kp_xcalloc(1, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->max_tokens = c->max_tokens > 0 ? c->max_tokens : 4096;
	l->num_ctx = c->num_ctx > 0 ? c->num_ctx : 8192;
	char *base = NULL;
	const char *key = NULL, *key_header = NULL, *what = NULL;
	if (!strcmp(p, "ollama")) {
		l->kind = KP_LLM_OLLAMA;
		l->model = kp_xstrdup(c->model);
		base = kp_xstrdup(c->ollama_base_url);
		l->path = kp_xstrdup("/api/chat");
		what = "Ollama";
	} else if (!strcmp(p, "openai")) {
		l->kind = KP_LLM_OPENAI;
		l->model = kp_xstrdup(c->model);
		base = kp_xstrdup(c->openai_base_url);
		l->path = kp_xstrdup("/chat/completions");
		key = c->openai_api_key, key_header = "Authorization: Bearer ", l->key_env = kp_xstrdup("OPENAI_API_KEY");
		what = "the OpenAI API";
	} else if (!strcmp(p, "azure_openai")) {
		l->kind = KP_LLM_AZURE;
		l->model = kp_xstrdup(c->azure_deployment);
		base = kp_xstrdup(c->azure_endpoint);
		l->path = kp_xasprintf("/openai/deployments/%s/chat/completions?api-version=%s", c->azure_deployment,
				       c->azure_api_version);
		key = c->azure_api_key, key_header = "api-key: ", l->key_env = kp_xstrdup("AZURE_OPENAI_API_KEY");
		what = "Azure OpenAI";
	} else if (!strcmp(p, "anthropic")) {
		l->kind = KP_LLM_ANTHROPIC;
		l->model = kp_xstrdup(c->anthropic_model);
		base = kp_xstrdup(c->anthropic_base_url);
		l->path = kp_xstrdup("/v1/messages");
		key = c->anthropic_api_key, key_header = "x-api-key: ", l->key_env = kp_xstrdup("ANTHROPIC_API_KEY");
		what = "the Anthropic API";
	} else if (!strcmp(p, "gemini")) {
		l->kind = KP_LLM_GEMINI;
		l->model = kp_xstrdup(c->gemini_model);
		base = kp_xstrdup(c->gemini_base_url);
		l->path = kp_xasprintf("/v1beta/models/%s:generateContent", c->gemini_model);
		key = c->gemini_api_key, key_header = "x-goog-api-key: ", l->key_env = kp_xstrdup("GEMINI_API_KEY");
		what = "the Gemini API";
	} else {
		kp_llm_free(l);
		return kp_fail(err, KP_ERR_USAGE, "llm.provider: unknown provider \"%s\"", p);
	}
	l->label = kp_xasprintf("%s/%s", kind_names[l->kind], l->model ? l->model : "");
	l->name = kp_xasprintf("%s (%s)", what, base ? base : "");
	size_t h = 0;
	if (key && *key) {
		l->key = kp_xstrdup(key);
		l->headers[h++] = kp_xasprintf("%s%s", key_header, key);
	}
	if (l->kind == KP_LLM_ANTHROPIC)
		l->headers[h++] = kp_xstrdup("anthropic-version: 2023-06-01");
	l->headers[h] = NULL;
	kp_http_opts o = {0};
	o.what = what; /* the HTTP layer's messages add the address */
	o.base_url = base;
	o.headers = (const char *const *)l->headers;
	o.timeout_ms = (long)(c->timeout_seconds > 0 ? c->timeout_seconds : 120) * 1000L;
	/* a model thinks before its first byte: no stall shorter than the call */
	o.stall_timeout_ms = o.timeout_ms;
	o.max_attempts = c->max_retries + 1;
	o.retryable = retryable;
	o.qps = 10;
	o.burst = 20;
	kp_status s = kp_http_new(&o, &l->http, err);
	free(base);
	if (s) {
		kp_llm_free(l);
		return s;
	}
	*out = l;
	return KP_OK;
}

void kp_llm_free(kp_llm *l)
{
	if (!l)
		return;
	kp_http_free(l->http);
	for (size_t i = 0; l->headers[i]; i++)
		free(l->headers[i]);
	free(l->model), free(l->label), free(l->path), free(l->name), free(l->key), free(l->key_env);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

void kp_llm_set_anon(kp_llm *l, const kp_anon *a) { l->anon = a; }

/* The conversation as the provider sees it with names hidden: a copy
 * (Gemini's raw parts are the model's own words, aliases already). */
static void hidden_copy(const kp_anon *a, const kp_llm_conv *c, kp_llm_conv *h)
{
	kp_llm_conv_init(h, NULL);
	h->system = c->system ? kp_anon_hide(a, c->system) : NULL;
	for (size_t i = 0; i < c->msgs.len; i++) {
		const kp_llm_msg *x = &c->msgs.items[i];
		kp_llm_msg m = {.role = x->role, .ncalls = x->ncalls};
		m.text = x->text ? kp_anon_hide(a, x->text) : NULL;
		m.call_id = x->call_id ? kp_xstrdup(x->call_id) : NULL;
		m.call_name = x->call_name ? kp_xstrdup(x->call_name) : NULL;
		m.raw = x->raw ? kp_xstrdup(x->raw) : NULL;
		if (x->ncalls)
			m.calls = kp_xcalloc(x->ncalls, sizeof(kp_llm_call));
		for (size_t j = 0; j < x->ncalls; j++) {
			m.calls[j].id = kp_xstrdup(x->calls[j].id);
			m.calls[j].name = kp_xstrdup(x->calls[j].name);
			m.calls[j].args = kp_anon_hide(a, x->calls[j].args);
			m.calls[j].args_ok = x->calls[j].args_ok;
		}
		KP_ARRAY_PUSH(h->msgs, m);
	}
}
const char *kp_llm_label(const kp_llm *l) { return l->label; }

kp_llm_totals kp_llm_get_totals(kp_llm *l)
{
	pthread_mutex_lock(&l->lock);
	kp_llm_totals t = l->totals;
	pthread_mutex_unlock(&l->lock);
	return t;
}

/* The provider's own message from an error body, the key cut out of it
 * wherever it appears (some providers quote what they were sent). */
static void provider_message(const kp_llm *l, const char *body, kp_buf *out)
{
	json_object *e = body ? json_tokener_parse(body) : NULL;
	const char *m = kp_json_str(e, "error.message");
	if (!m)
		m = kp_json_str(e, "error");
	if (!m)
		m = kp_json_str(e, "message");
	if (m) {
		const char *k = l->key && strlen(l->key) >= 4 ? l->key : NULL;
		for (const char *p = m; *p;) {
			const char *hit = k ? strstr(p, k) : NULL;
			if (!hit) {
				kp_buf_printf(out, "%.300s", p);
				break;
			}
			kp_buf_printf(out, "%.*s(the key)", (int)(hit - p), p);
			p = hit + strlen(k);
		}
	}
	json_object_put(e);
}

kp_status kp_llm_chat(kp_llm *l, kp_llm_conv *c, const kp_llm_tool *tools, size_t ntools, kp_llm_reply *out,
		      kp_error *err)
{
	memset(out, 0, sizeof(*out));
	kp_llm_conv hid;
	const kp_llm_conv *sent = c;
	if (l->anon) {
		hidden_copy(l->anon, c, &hid);
		sent = &hid;
	}
	json_object *body = l->kind == KP_LLM_OLLAMA	? ollama_encode(l, sent, tools, ntools)
			    : l->kind == KP_LLM_ANTHROPIC ? anthropic_encode(l, sent, tools, ntools)
			    : l->kind == KP_LLM_GEMINI	  ? gemini_encode(l, sent, tools, ntools)
							  : openai_encode(l, sent, tools, ntools);
	if (l->anon)
		kp_llm_conv_release(&hid);
	const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	kp_buf ans;
	kp_buf_init(&ans);
	kp_http_result res;
	kp_status s = kp_http_send(l->http, "POST", l->path, "application/json", text, strlen(text), &ans, 64u << 20,
				   &res, err);
	json_object_put(body);
	kp_llm_msg m = {.role = KP_LLM_ASSISTANT};
	if (!s && (res.status < 200 || res.status > 299)) {
		kp_buf msg;
		kp_buf_init(&msg);
		provider_message(l, res.body, &msg);
		/* Gemini answers a wrong key with 400 API_KEY_INVALID */
		bool auth = res.status == 401 || res.status == 403 || (res.body && strstr(res.body, "API_KEY_INVALID"));
		bool client = res.status >= 400 && res.status < 500 && res.status != 429;
		bool quota = res.status == 429 && !retryable(res.status, res.body);
		const char *hint = auth ? l->key_env : NULL;
		s = kp_fail(err, auth || client || quota ? KP_ERR_USAGE : KP_ERR_NETWORK, "%s: %s%s%s%s%s%s", l->name,
			    kp_http_reason(res.status), msg.len ? ": " : "", kp_buf_cstr(&msg), hint ? " (check " : "",
			    hint ? hint : "", hint ? ")" : quota ? " (quota used up: not retried)" : "");
		kp_buf_release(&msg);
	} else if (!s) {
		json_object *d = json_tokener_parse(kp_buf_cstr(&ans));
		bool ok = json_object_is_type(d, json_type_object) &&
			  (l->kind == KP_LLM_ANTHROPIC ? anthropic_decode(d, &m, out)
			   : l->kind == KP_LLM_GEMINI  ? gemini_decode(d, &m, out)
						       : openai_decode(d, &m, out, l->kind == KP_LLM_OLLAMA));
		if (!ok)
			s = kp_fail(err, KP_ERR_NETWORK, "%s: the answer is not a %s answer (%zu bytes%s)", l->name,
				    kind_names[l->kind], ans.len, d ? "" : ", not JSON");
		json_object_put(d);
	}
	kp_http_result_release(&res);
	kp_buf_release(&ans);
	pthread_mutex_lock(&l->lock);
	l->totals.calls++;
	if (s) {
		l->totals.failed++;
	} else {
		l->totals.in_tokens += out->in_tokens;
		l->totals.out_tokens += out->out_tokens;
	}
	pthread_mutex_unlock(&l->lock);
	if (s) {
		free(m.text), free(m.raw);
		for (size_t j = 0; j < m.ncalls; j++)
			call_release(&m.calls[j]);
		free(m.calls);
		kp_llm_reply_release(out);
		return s;
	}
	if (l->anon) { /* real names back, for the tools and the reader */
		char *t = m.text ? kp_anon_reveal(l->anon, m.text) : NULL;
		free(m.text);
		m.text = t;
		for (size_t j = 0; j < m.ncalls; j++) {
			char *a = kp_anon_reveal(l->anon, m.calls[j].args);
			free(m.calls[j].args);
			m.calls[j].args = a;
		}
	}
	KP_ARRAY_PUSH(c->msgs, m);
	const kp_llm_msg *kept = &c->msgs.items[c->msgs.len - 1];
	out->text = kept->text;
	out->calls = kept->calls;
	out->ncalls = kept->ncalls;
	return KP_OK;
}
