// check-bodies.ts - the types a request body sent to each LLM provider must
// have, taken from the official SDKs' request parameter types (pinned in
// package-lock.json). check-bodies.mjs declares each body recorded in
// tests/fakes/llm.py's --log as a constant of Bodies[provider] and runs tsc,
// so a key the SDK does not know, a missing required one or a value of the
// wrong type is an error (object literals get TypeScript's excess property
// check).
//
//   openai             ChatCompletionCreateParams (openai), the union of the
//                      streaming and non-streaming params
//   azure              the same, model optional: Azure takes the deployment
//                      from the path and ignores a model in the body
//   anthropic          MessageCreateParams (@anthropic-ai/sdk 1.x, whose API
//                      version 2026-10-21 has no temperature, top_p, top_k)
//   anthropic-2023-06-01  the same with temperature, top_p and top_k, which
//                      that API version still takes (chosen by the logged
//                      anthropic-version header)
//   gemini             GeminiBody below: @google/genai's method parameters
//                      (GenerateContentParameters: {model, contents, config})
//                      are not the REST body, which the SDK builds from them
//                      (generateContentParametersToMldev): contents,
//                      systemInstruction, tools, toolConfig, safetySettings,
//                      generationConfig, cachedContent, labels at the top.
//                      So the REST body is typed here from the SDK's own
//                      types of those parts (Content, Part, Tool, ToolConfig,
//                      SafetySetting, GenerationConfig), with its enums read
//                      as the strings JSON carries, in either case ("OBJECT"
//                      or "object"), as Google's JSON parser takes them.
//   ollama             ChatRequest (ollama), widened by the fields Ollama's
//                      own Go types take (api/types.go) and the JS SDK's
//                      types lack: tool_call_id on a message, id and
//                      function.index on a tool call, anyOf, properties and
//                      required on a parameter's property.
import type OpenAI from "openai";
import type Anthropic from "@anthropic-ai/sdk";
import type * as genai from "@google/genai";
import type * as ollama from "ollama";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type OpenAIBody = OpenAI.Chat.Completions.ChatCompletionCreateParams;
export type AzureBody = DistributiveOmit<OpenAIBody, "model"> & { model?: string };

export type AnthropicBody = Anthropic.MessageCreateParams;
export type Anthropic20230601Body = AnthropicBody & { temperature?: number; top_p?: number; top_k?: number };

// an SDK type as JSON carries it: string enums as their values, in either case
export type Wire<T> =
	T extends string ? (string extends T ? string : `${T}` | Lowercase<`${T}`>)
	: T extends number | boolean | bigint | null | undefined ? T
	: T extends readonly (infer U)[] ? Wire<U>[]
	: T extends (...args: never[]) => unknown ? never
	: T extends object ? { [K in keyof T]: Wire<T[K]> }
	: T;

export interface GeminiBody {
	contents: Wire<genai.Content>[];
	systemInstruction?: Wire<genai.Content>;
	tools?: Wire<genai.Tool>[];
	toolConfig?: Wire<genai.ToolConfig>;
	safetySettings?: Wire<genai.SafetySetting>[];
	generationConfig?: Wire<genai.GenerationConfig>;
	cachedContent?: string;
	labels?: Record<string, string>;
	serviceTier?: Wire<NonNullable<genai.GenerateContentConfig["serviceTier"]>>;
	store?: boolean;
}

type OllamaSdkParameters = NonNullable<ollama.Tool["function"]["parameters"]>;
type OllamaSdkProperty = NonNullable<OllamaSdkParameters["properties"]>[string];
export type OllamaProperty = OllamaSdkProperty & {
	anyOf?: OllamaProperty[];
	properties?: Record<string, OllamaProperty>;
	required?: string[];
};
export type OllamaTool = Omit<ollama.Tool, "function"> & {
	function: Omit<ollama.Tool["function"], "parameters"> & {
		parameters?: Omit<OllamaSdkParameters, "properties"> & { properties?: Record<string, OllamaProperty> };
	};
};
export type OllamaToolCall = Omit<ollama.ToolCall, "function"> & {
	id?: string;
	function: ollama.ToolCall["function"] & { index?: number };
};
export type OllamaMessage = Omit<ollama.Message, "tool_calls"> & { tool_calls?: OllamaToolCall[]; tool_call_id?: string };
export type OllamaBody = Omit<ollama.ChatRequest, "messages" | "tools"> & { messages?: OllamaMessage[]; tools?: OllamaTool[] };

export interface Bodies {
	openai: OpenAIBody;
	azure: AzureBody;
	anthropic: AnthropicBody;
	"anthropic-2023-06-01": Anthropic20230601Body;
	gemini: GeminiBody;
	ollama: OllamaBody;
}

// one body of each, as the SDKs send them: `tsc -p tests/clients/llm` checks
// that the types above resolve (a wrong import would make them any)
const examples: { [P in keyof Bodies]: Bodies[P] } = {
	openai: { model: "m", messages: [{ role: "user", content: "hi" }] },
	azure: { messages: [{ role: "user", content: "hi" }] },
	anthropic: { model: "m", max_tokens: 16, messages: [{ role: "user", content: "hi" }] },
	"anthropic-2023-06-01": { model: "m", max_tokens: 16, temperature: 0, messages: [{ role: "user", content: "hi" }] },
	gemini: { contents: [{ role: "user", parts: [{ text: "hi" }] }], tools: [{ functionDeclarations: [{ name: "f", parameters: { type: "object" } }] }] },
	ollama: { model: "m", messages: [{ role: "user", content: "hi" }], stream: false },
};
// @ts-expect-error: a key no SDK type has must be an error, else the types are any
const notAny: Bodies["openai"] = { model: "m", messages: [], no_such_key: 1 };
export { examples, notAny };
