// sdk.mjs - the official SDKs of the five LLM providers kopilot speaks to
// (pipeline/llm.c) drive against tests/fakes/llm.py, started with
// tests/clients/llm/script.json, the exchanges kopilot makes, and assert what
// each SDK parsed: where the official client cannot tell the fake from the
// provider, the fake is faithful. Per provider:
//   - a tool-calling exchange: a request with one tool, the fake's tool call
//     parsed by the SDK, the tool result sent back the SDK's way, the final
//     text, token counts;
//   - a 429 with its retry delay, retried (by the SDK where it retries:
//     openai, AzureOpenAI, @anthropic-ai/sdk by Retry-After, @google/genai
//     with httpOptions.retryOptions; the ollama SDK neither retries nor shows
//     headers, so this script waits and asks again);
//   - a wrong key, reported as the SDK's own auth error;
// and besides: Anthropic's 529 overloaded retried, Ollama's NDJSON stream,
// Gemini's thought signature echoed by the SDK's own chat history (taken)
// and the same history without it (Gemini's 400).
//
//   node sdk.mjs BASE_URL KEY LOGFILE
//
// Prints "ok - ..." per assertion, "not ok - ..." for a failure (the rest of
// that provider is skipped); exits 1 when any failed.
import { readFileSync } from "node:fs";
import OpenAI, { AzureOpenAI } from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI, ApiError } from "@google/genai";
import { Ollama } from "ollama";

const [base, key, logFile] = process.argv.slice(2);
if (!base || !key || !logFile) {
	console.error("usage: node sdk.mjs BASE_URL KEY LOGFILE");
	process.exit(2);
}
const WRONG = "wrong-key-0000000000";
const ok = (what) => console.log(`ok - ${what}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function assert(cond, what, got) {
	if (!cond) throw new Error(`${what}${got === undefined ? "" : `: got ${JSON.stringify(got)?.slice(0, 600)}`}`);
}
async function rejects(fn, what) {
	try {
		await fn();
	} catch (e) {
		return e;
	}
	throw new Error(`${what}: expected an error, got none`);
}
async function timed(fn) {
	const t0 = Date.now();
	const r = await fn();
	return [r, Date.now() - t0];
}
// what the fake logged of the requests whose body has this marker
function logged(marker) {
	return readFileSync(logFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
		.filter((r) => JSON.stringify(r.body ?? r.body_raw ?? "").includes(marker));
}

const costSchema = {
	type: "object",
	properties: {
		namespace: { type: "string", description: "the Kubernetes namespace" },
		workload: { type: "string", description: "the Deployment or StatefulSet name" },
	},
	required: ["namespace", "workload"],
};
const costDesc = "The monthly cost of a workload, in USD";
const system = "You are kopilot, a Kubernetes cost assistant. Answer briefly.";
const toolResult = (p) => JSON.stringify({ namespace: "shop", workload: "web", monthly_usd: 42, marker: `${p}-cost-42` });

// ---- OpenAI and Azure OpenAI: the same SDK, the same body ----
async function openaiLike(p, client, model) {
	const tools = [{ type: "function", function: { name: "get_cost", description: costDesc, parameters: costSchema } }];
	const messages = [
		{ role: "system", content: system },
		{ role: "user", content: `[${p}] tool: what does the web deployment in shop cost?` },
	];
	let r = await client.chat.completions.create({ model, messages, tools });
	const m = r.choices[0].message;
	assert(r.choices[0].finish_reason === "tool_calls" && m.tool_calls?.length === 1, "finish_reason tool_calls, one call", r);
	const tc = m.tool_calls[0];
	assert(tc.type === "function" && tc.function.name === "get_cost" && /^call_/.test(tc.id), "a function call with an id", tc);
	assert(typeof tc.function.arguments === "string", "arguments a JSON string", tc.function);
	const args = JSON.parse(tc.function.arguments);
	assert(args.namespace === "shop" && args.workload === "web", "the arguments", args);
	assert(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0 &&
		r.usage.total_tokens === r.usage.prompt_tokens + r.usage.completion_tokens, "usage", r.usage);
	ok(`${p}: a request with one tool -> tool_calls[0] {id, type function, function {name, arguments (a JSON string)}}, finish_reason tool_calls, usage`);
	// the assistant message as a ChatCompletionAssistantMessageParam: the whole response message would
	// also echo response-only fields (annotations) that the params type lacks and check-bodies flags
	messages.push({ role: "assistant", content: m.content, tool_calls: m.tool_calls }, { role: "tool", tool_call_id: tc.id, content: toolResult(p) });
	r = await client.chat.completions.create({ model, messages, tools });
	assert(r.choices[0].finish_reason === "stop" && r.choices[0].message.content === `[${p}] web costs 42 USD a month.`, "the final text", r.choices[0]);
	assert(r.usage.prompt_tokens === 120 && r.usage.completion_tokens === 9 && r.usage.total_tokens === 129, "the scripted usage", r.usage);
	ok(`${p}: the tool result as a role tool message with tool_call_id -> the final text, finish_reason stop, usage 120/9/129`);

	const [r2, ms] = await timed(() => client.chat.completions.create({ model, messages: [{ role: "user", content: `[${p}] ratelimit` }] }));
	assert(r2.choices[0].message.content === `[${p}] after the wait`, "the answer after the 429", r2.choices[0]);
	const st = logged(`[${p}] ratelimit`).map((x) => x.status);
	assert(st.join() === "429,200", "the fake saw 429 then 200", st);
	assert(ms >= 900, "the SDK waited the Retry-After second", ms);
	ok(`${p}: a 429 with Retry-After 1 is retried by the SDK after ${ms} ms, then answered`);
}

async function openai() {
	const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1` });
	await openaiLike("openai", client, "gpt-4.1-mini");
	const bad = new OpenAI({ apiKey: WRONG, baseURL: `${base}/v1`, maxRetries: 0 });
	const e = await rejects(() => bad.chat.completions.create({ model: "gpt-4.1-mini", messages: [{ role: "user", content: "hi" }] }), "a wrong key");
	assert(e instanceof OpenAI.AuthenticationError && e.status === 401 && e.code === "invalid_api_key" && e.type === "invalid_request_error",
		"AuthenticationError 401 invalid_api_key", [e.constructor.name, e.status, e.code, e.type]);
	ok("openai: a wrong key -> OpenAI.AuthenticationError, status 401, code invalid_api_key");
}

async function azure() {
	const mk = (apiKey, maxRetries = 2) => new AzureOpenAI({ apiKey, endpoint: base, apiVersion: "2024-10-21", deployment: "kopilot-gpt", maxRetries });
	await openaiLike("azure", mk(key), "gpt-4.1-mini");
	const rows = logged("[azure] tool");
	assert(rows.length === 2 && rows.every((x) => x.path === "/openai/deployments/kopilot-gpt/chat/completions?api-version=2024-10-21" &&
		x.auth === "api-key" && x.api_version === "2024-10-21"), "the deployment path, api-version and api-key header", rows.map((x) => [x.path, x.auth]));
	ok("azure: AzureOpenAI posts /openai/deployments/{deployment}/chat/completions?api-version=2024-10-21 with an api-key header");
	const e = await rejects(() => mk(WRONG, 0).chat.completions.create({ model: "gpt-4.1-mini", messages: [{ role: "user", content: "hi" }] }), "a wrong key");
	assert(e instanceof OpenAI.AuthenticationError && e.status === 401 && e.code === "401" && /Access denied/.test(e.message),
		"AuthenticationError 401, code \"401\", Access denied", [e.constructor.name, e.status, e.code, e.message]);
	ok("azure: a wrong key -> AuthenticationError 401 {error: {code: \"401\", message: \"Access denied ...\"}}");
	const noVersion = new OpenAI({ apiKey: "x", baseURL: `${base}/openai/deployments/kopilot-gpt`, defaultHeaders: { "api-key": key }, maxRetries: 0 });
	const e2 = await rejects(() => noVersion.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }), "no api-version");
	assert(e2 instanceof OpenAI.NotFoundError && e2.status === 404 && /Resource not found/.test(e2.message), "404 Resource not found", [e2.status, e2.message]);
	ok("azure: no api-version -> NotFoundError 404 Resource not found, as Azure answers");
}

async function anthropic() {
	const client = new Anthropic({ apiKey: key, baseURL: base });
	const model = "claude-sonnet-4-6";
	const tools = [{ name: "get_cost", description: costDesc, input_schema: costSchema }];
	const messages = [{ role: "user", content: "[anthropic] tool: what does the web deployment in shop cost?" }];
	let r = await client.messages.create({ model, max_tokens: 1024, system, messages, tools });
	assert(r.type === "message" && r.role === "assistant" && r.stop_reason === "tool_use", "stop_reason tool_use", r);
	assert(r.content.length === 2 && r.content[0].type === "text" && r.content[1].type === "tool_use", "a text block, then a tool_use block", r.content);
	const tu = r.content[1];
	assert(tu.name === "get_cost" && /^toolu_/.test(tu.id) && tu.input.namespace === "shop" && tu.input.workload === "web", "the tool_use", tu);
	assert(r.usage.input_tokens > 0 && r.usage.output_tokens > 0, "usage", r.usage);
	ok("anthropic: a request with one tool -> content [text, tool_use {id, name, input (an object)}], stop_reason tool_use, usage");
	messages.push({ role: "assistant", content: r.content },
		{ role: "user", content: [{ type: "tool_result", tool_use_id: tu.id, content: toolResult("anthropic") }] });
	r = await client.messages.create({ model, max_tokens: 1024, system, messages, tools });
	assert(r.stop_reason === "end_turn" && r.content[0].text === "[anthropic] web costs 42 USD a month.", "the final text", r);
	assert(r.usage.input_tokens === 120 && r.usage.output_tokens === 9, "the scripted usage", r.usage);
	ok("anthropic: the tool result as a user tool_result block -> the final text, stop_reason end_turn, usage 120/9");
	const rows = logged("[anthropic] tool");
	assert(rows.every((x) => x.anthropic_version === "2026-10-21" && x.auth === "bearer"), "the SDK's version header and auth", rows.map((x) => [x.anthropic_version, x.auth]));
	ok("anthropic: the 1.x SDK sends anthropic-version 2026-10-21 and the key as Authorization: Bearer (the fake takes it, and x-api-key)");

	let [r2, ms] = await timed(() => client.messages.create({ model, max_tokens: 64, messages: [{ role: "user", content: "[anthropic] ratelimit" }] }));
	assert(r2.content[0].text === "[anthropic] after the wait", "the answer after the 429", r2.content);
	let st = logged("[anthropic] ratelimit").map((x) => x.status);
	assert(st.join() === "429,200" && ms >= 900, "429 then 200 after the Retry-After second", [st, ms]);
	ok(`anthropic: a 429 rate_limit_error with Retry-After 1 is retried by the SDK after ${ms} ms, then answered`);
	r2 = await client.messages.create({ model, max_tokens: 64, messages: [{ role: "user", content: "[anthropic] overloaded" }] });
	st = logged("[anthropic] overloaded").map((x) => x.status);
	assert(r2.content[0].text === "[anthropic] after the overload" && st.join() === "529,200", "529 then 200", st);
	const e0 = await rejects(() => new Anthropic({ apiKey: key, baseURL: base, maxRetries: 0 }).messages.create({ model, max_tokens: 64,
		messages: [{ role: "user", content: "[anthropic] nothing scripted" }] }), "the script exhausted");
	assert(e0 instanceof Anthropic.InternalServerError && e0.status === 500 && e0.error?.error?.type === "api_error", "500 api_error", [e0.status, e0.error]);
	ok("anthropic: a 529 overloaded_error is retried by the SDK; an exhausted script is an InternalServerError 500 api_error");

	const e = await rejects(() => new Anthropic({ apiKey: WRONG, baseURL: base, maxRetries: 0 }).messages.create({ model, max_tokens: 64,
		messages: [{ role: "user", content: "hi" }] }), "a wrong key");
	assert(e instanceof Anthropic.AuthenticationError && e.status === 401 && e.error?.error?.type === "authentication_error" && /^req_/.test(e.requestID ?? e.request_id ?? e.error?.request_id),
		"AuthenticationError 401 authentication_error with a request id", [e.constructor.name, e.status, e.error]);
	ok("anthropic: a wrong key -> Anthropic.AuthenticationError 401 {type: error, error: {type: authentication_error}, request_id}");
	const e2 = await rejects(() => client.messages.create({ model, max_tokens: 64, temperature: 0.2, messages: [{ role: "user", content: "hi" }] }), "temperature");
	assert(e2 instanceof Anthropic.BadRequestError && /temperature: Extra inputs are not permitted/.test(e2.message), "400 temperature", e2.message);
	ok("anthropic: temperature under anthropic-version 2026-10-21 -> BadRequestError 400 \"temperature: Extra inputs are not permitted\"");
}

async function gemini() {
	// the REST API kopilot calls is v1beta; @google/genai 3.x calls v1 unless told (the chat below does)
	const retryOptions = { attempts: 3, initialDelay: 0.2, maxDelay: 2 };
	const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: base, apiVersion: "v1beta", retryOptions } });
	const aiV1 = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: base, retryOptions } });
	const model = "gemini-3-flash-preview";
	const config = { systemInstruction: system, tools: [{ functionDeclarations: [{ name: "get_cost", description: costDesc, parameters: costSchema }] }] };
	const contents = [{ role: "user", parts: [{ text: "[gemini] tool: what does the web deployment in shop cost?" }] }];
	let r = await ai.models.generateContent({ model, contents, config });
	const fc = r.functionCalls?.[0];
	assert(r.functionCalls?.length === 1 && fc.name === "get_cost" && fc.args.namespace === "shop" && fc.args.workload === "web", "one functionCall", r.candidates);
	const part = r.candidates[0].content.parts.find((x) => x.functionCall);
	assert(typeof part.thoughtSignature === "string" && Buffer.from(part.thoughtSignature, "base64").length >= 32, "a thoughtSignature beside functionCall", part);
	assert(r.usageMetadata.promptTokenCount > 0 && r.usageMetadata.totalTokenCount === r.usageMetadata.promptTokenCount + r.usageMetadata.candidatesTokenCount, "usageMetadata", r.usageMetadata);
	ok("gemini: a request with one functionDeclaration -> functionCall {name, args} with a thoughtSignature beside it, usageMetadata");
	const rows = logged("[gemini] tool");
	assert(rows[0].path === `/v1beta/models/${model}:generateContent` && rows[0].auth === "x-goog-api-key", "the path and key header", rows[0]);
	contents.push(r.candidates[0].content, { role: "user", parts: [{ functionResponse: { name: "get_cost", response: JSON.parse(toolResult("gemini")) } }] });
	r = await ai.models.generateContent({ model, contents, config });
	assert(r.text === "[gemini] web costs 42 USD a month." && r.candidates[0].finishReason === "STOP", "the final text", r.candidates);
	assert(r.usageMetadata.promptTokenCount === 120 && r.usageMetadata.candidatesTokenCount === 9 && r.usageMetadata.totalTokenCount === 129, "the scripted usage", r.usageMetadata);
	ok("gemini: the model's content (signature and all) and a functionResponse part sent back -> the final text, finishReason STOP, usage 120/9/129");

	const chat = aiV1.chats.create({ model, config });
	r = await chat.sendMessage({ message: "[gemini] chat: and the api deployment?" });
	assert(r.functionCalls?.[0]?.args?.workload === "api", "the chat's function call", r.candidates);
	r = await chat.sendMessage({ message: [{ functionResponse: { name: "get_cost", response: { monthly_usd: 7, marker: "gemini-chat-cost-7" } } }] });
	assert(r.text === "[gemini] api costs 7 USD a month.", "the chat's final text", r.candidates);
	const sent = logged("gemini-chat-cost-7")[0].body.contents;
	const echoed = sent[1].parts.find((x) => x.functionCall);
	assert(sent[1].role === "model" && typeof echoed.thoughtSignature === "string", "the chat history holds the signature", sent);
	assert(logged("gemini-chat-cost-7")[0].path === `/v1/models/${model}:generateContent`, "the SDK's default v1 path", logged("gemini-chat-cost-7")[0].path);
	ok("gemini: ai.chats (on the SDK's default /v1) keeps the thoughtSignature in its own history and sends it back; the fake takes it");
	const stripped = sent.map((c) => ({ role: c.role, parts: c.parts.map(({ thoughtSignature, ...rest }) => rest) }));
	const e0 = await rejects(() => ai.models.generateContent({ model, contents: stripped, config }), "a history without the signature");
	assert(e0 instanceof ApiError && e0.status === 400 && /missing a thought_signature/.test(e0.message) && /INVALID_ARGUMENT/.test(e0.message),
		"400 INVALID_ARGUMENT thought_signature", [e0.status, e0.message]);
	ok("gemini: the same history without the thoughtSignature -> ApiError 400 INVALID_ARGUMENT \"Function call is missing a thought_signature ...\"");

	const [r2, ms] = await timed(() => ai.models.generateContent({ model, contents: "[gemini] ratelimit" }));
	const st = logged("[gemini] ratelimit").map((x) => x.status);
	assert(r2.text === "[gemini] after the wait" && st.join() === "429,200", "429 then 200", [st, r2.text]);
	ok(`gemini: a 429 RESOURCE_EXHAUSTED (RetryInfo in its body) is retried by the SDK with httpOptions.retryOptions after ${ms} ms`);

	const e = await rejects(() => new GoogleGenAI({ apiKey: WRONG, httpOptions: { baseUrl: base } }).models.generateContent({ model, contents: "hi" }), "a wrong key");
	assert(e instanceof ApiError && e.status === 400 && /API_KEY_INVALID/.test(e.message) && /API key not valid/.test(e.message), "400 API_KEY_INVALID", [e.status, e.message]);
	ok("gemini: a wrong key -> ApiError 400 INVALID_ARGUMENT, reason API_KEY_INVALID");
}

async function ollama() {
	const client = new Ollama({ host: base, headers: { Authorization: `Bearer ${key}` } });
	const model = "llama3.2";
	const tools = [{ type: "function", function: { name: "get_cost", description: costDesc, parameters: costSchema } }];
	const messages = [{ role: "system", content: system }, { role: "user", content: "[ollama] tool: what does the web deployment in shop cost?" }];
	let r = await client.chat({ model, messages, tools, stream: false });
	const tc = r.message.tool_calls?.[0];
	assert(r.done === true && r.done_reason === "stop" && r.message.tool_calls.length === 1, "done, one tool call", r);
	assert(tc.function.name === "get_cost" && typeof tc.function.arguments === "object" && tc.function.arguments.workload === "web", "arguments an object", tc);
	assert(r.prompt_eval_count > 0 && r.eval_count > 0, "prompt_eval_count and eval_count", r);
	ok("ollama: a request with one tool -> message.tool_calls[0].function {name, arguments (an object)}, done_reason stop, prompt_eval_count/eval_count");
	messages.push(r.message, { role: "tool", tool_name: "get_cost", content: toolResult("ollama") });
	r = await client.chat({ model, messages, tools, stream: false });
	assert(r.message.content === "[ollama] web costs 42 USD a month." && r.prompt_eval_count === 120 && r.eval_count === 9, "the final text and usage", r);
	ok("ollama: the tool result as a role tool message with tool_name -> the final text, usage 120/9");

	const parts = [];
	for await (const chunk of await client.chat({ model, messages: [{ role: "user", content: "[ollama] stream" }], tools, stream: true })) parts.push(chunk);
	const calls = parts.flatMap((c) => c.message.tool_calls ?? []);
	const text = parts.map((c) => c.message.content).join("");
	assert(parts.at(-1).done === true && text === "Let me look that up." && calls.length === 1 && calls[0].function.arguments.workload === "db" &&
		parts.at(-1).eval_count > 0, "the stream", parts);
	ok(`ollama: stream true -> ${parts.length} NDJSON chunks: the text in pieces, the tool call, done with the counts`);

	const e429 = await rejects(() => client.chat({ model, messages: [{ role: "user", content: "[ollama] ratelimit" }], stream: false }), "the 429");
	assert(e429.name === "ResponseError" && e429.status_code === 429, "ResponseError 429", [e429.name, e429.status_code, e429.message]);
	await sleep(1000); // the ollama SDK does not retry, nor show the Retry-After header: wait it out, as kopilot would
	r = await client.chat({ model, messages: [{ role: "user", content: "[ollama] ratelimit" }], stream: false });
	assert(r.message.content === "[ollama] after the wait", "the answer after the 429", r);
	ok("ollama: a 429 -> ResponseError status_code 429 (the SDK does not retry); asked again after Retry-After, answered");

	const e = await rejects(() => new Ollama({ host: base, headers: { Authorization: `Bearer ${WRONG}` } }).chat({ model, messages: [{ role: "user", content: "hi" }], stream: false }), "a wrong key");
	assert(e.name === "ResponseError" && e.status_code === 401 && e.error === "unauthorized", "ResponseError 401 unauthorized", [e.name, e.status_code, e.error]);
	ok("ollama: a wrong key -> ResponseError 401 \"unauthorized\" (as ollama.com answers)");
}

let failed = 0;
for (const [name, fn] of [["ollama", ollama], ["openai", openai], ["azure", azure], ["anthropic", anthropic], ["gemini", gemini]]) {
	try {
		await fn();
	} catch (e) {
		failed++;
		console.log(`not ok - ${name}: ${e.message}`);
	}
}
process.exit(failed ? 1 : 0);
