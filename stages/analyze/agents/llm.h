/*
 * llm.h - one chat-with-tools call to a language model, on each provider's
 * own wire format, through the one HTTP layer (pipeline/http.h).
 *
 * Providers (llm.provider, LLM_PROVIDER):
 *   ollama        POST {OLLAMA_BASE_URL}/api/chat, "stream": false,
 *                 options.num_ctx; tool-call arguments are JSON objects
 *   openai        POST {OPENAI_BASE_URL}/chat/completions, Bearer key (none
 *                 for a local server that needs none: vLLM, llama.cpp);
 *                 tool-call arguments arrive as a JSON string
 *   azure_openai  POST {AZURE_OPENAI_ENDPOINT}/openai/deployments/{deployment}
 *                 /chat/completions?api-version=V, header api-key
 *   anthropic     POST {ANTHROPIC_BASE_URL}/v1/messages, x-api-key,
 *                 anthropic-version 2023-06-01, max_tokens; tool_use and
 *                 tool_result blocks
 *   gemini        POST {GEMINI_BASE_URL}/v1beta/models/{model}:generateContent,
 *                 x-goog-api-key; functionDeclarations, functionCall parts,
 *                 whose thoughtSignature goes back verbatim with the
 *                 conversation (the model's parts are kept as they came)
 *   none          no client (kp_llm_new gives NULL): template explanations
 *
 * A conversation (kp_llm_conv) is provider-neutral: a system prompt, user
 * text, the model's turns (text and tool calls) and tool results; each
 * call encodes it whole (the APIs are stateless).
 *
 * Failures: a server down or failing after retries is KP_ERR_NETWORK; a key
 * refused (401/403), a quota used up, or a request the provider rejects
 * (400) is KP_ERR_USAGE and never retried. 429, 5xx (Anthropic's 529
 * "overloaded" too) and cut answers are retried llm.max_retries times with
 * backoff honouring Retry-After. An answer that is not the provider's JSON
 * is KP_ERR_NETWORK naming the provider. No message ever holds the API key:
 * keys travel in headers only, and a provider's message is scrubbed of it.
 *
 * Threads: one kp_llm may serve several threads at once (sub-agents in
 * parallel); its token counters are kept under a lock.
 */
#ifndef KP_LLM_H
#define KP_LLM_H

#include "pipeline/config.h"
#include "pipeline/kp.h"
#include "pipeline/model.h" /* KP_ARRAY */

typedef enum { KP_LLM_OLLAMA, KP_LLM_OPENAI, KP_LLM_AZURE, KP_LLM_ANTHROPIC, KP_LLM_GEMINI } kp_llm_kind;

/* A tool the model may call: its JSON Schema (an object schema) as text. */
typedef struct kp_llm_tool {
	const char *name, *description, *parameters;
} kp_llm_tool;

/* A tool call the model asked for. args is the arguments as a JSON object
 * text ("{}" when none); args_ok false when what came was not a JSON object
 * (args then holds it as it came, for the model to be told). */
typedef struct kp_llm_call {
	char *id, *name, *args;
	bool args_ok;
} kp_llm_call;

typedef enum { KP_LLM_USER, KP_LLM_ASSISTANT, KP_LLM_TOOL } kp_llm_role;

typedef struct kp_llm_msg {
	kp_llm_role role;
	char *text;        /* USER, ASSISTANT (may be NULL), TOOL: the result */
	kp_llm_call *calls; /* ASSISTANT */
	size_t ncalls;
	char *call_id, *call_name; /* TOOL: the call this answers */
	char *raw;         /* ASSISTANT from Gemini: its parts as they came (thought signatures) */
} kp_llm_msg;

typedef struct kp_llm_conv {
	char *system;
	KP_ARRAY(kp_llm_msg) msgs;
} kp_llm_conv;

void kp_llm_conv_init(kp_llm_conv *c, const char *system);
void kp_llm_conv_release(kp_llm_conv *c);
void kp_llm_conv_user(kp_llm_conv *c, const char *text);
/* The result of call (one of the last assistant turn's calls). */
void kp_llm_conv_tool(kp_llm_conv *c, const kp_llm_call *call, const char *result);

/* One call's answer: also appended to the conversation as the model's turn. */
typedef struct kp_llm_reply {
	const char *text;          /* NULL when only tool calls came; points into the conversation */
	const kp_llm_call *calls;  /* likewise */
	size_t ncalls;
	int64_t in_tokens, out_tokens; /* as the provider counted them; 0 when it did not say */
	char *finish;              /* the provider's stop reason ("stop", "tool_use", "STOP"...), heap */
} kp_llm_reply;
void kp_llm_reply_release(kp_llm_reply *r);

typedef struct kp_llm kp_llm;

/* The client llm.* configures; *out NULL for provider none. */
kp_status kp_llm_new(const kp_config *cfg, kp_llm **out, kp_error *err);
void kp_llm_free(kp_llm *l);
/* "openai/gpt-4o-mini": what explained_by names */
const char *kp_llm_label(const kp_llm *l);

kp_status kp_llm_chat(kp_llm *l, kp_llm_conv *c, const kp_llm_tool *tools, size_t ntools, kp_llm_reply *out,
		      kp_error *err);

/* With llm.anonymize: every text sent goes through kp_anon_hide and what
 * comes back (text, tool-call arguments) through kp_anon_reveal
 * (stages/analyze/agents/anon.h); a is the caller's, and outlives l. */
struct kp_anon;
void kp_llm_set_anon(kp_llm *l, const struct kp_anon *a);

typedef struct kp_llm_totals {
	int64_t calls, failed, in_tokens, out_tokens;
} kp_llm_totals;
kp_llm_totals kp_llm_get_totals(kp_llm *l);

#endif
