#!/usr/bin/python3
"""llm.py: one fake server speaking five LLM providers' wire formats, chosen
by path, for kopilot's LLM client (pipeline/llm.c). Each answer is rendered
from a provider-neutral script, in the wire format of the endpoint called;
tests/e2e/llmfakes.sh proves with the official SDKs (tests/clients/llm) that
they cannot tell it from the real thing for the exchanges kopilot makes.

  POST /api/chat                               Ollama
       auth: Authorization: Bearer KEY (as ollama.com; --ollama-open takes
       any or none, as a local Ollama does). "stream" absent or true is
       answered with NDJSON chunks (Ollama's default), false with one JSON.
  POST /v1/chat/completions                    OpenAI (and vLLM, llama.cpp)
       auth: Authorization: Bearer KEY
  POST /openai/deployments/{deployment}/chat/completions?api-version=V
                                               Azure OpenAI
       auth: api-key: KEY; no or a malformed api-version: 404 Resource not found
  POST /v1/messages                            Anthropic
       auth: x-api-key: KEY or Authorization: Bearer KEY (the SDK's 1.x send
       Bearer; x-api-key wins when both are sent); anthropic-version
       2023-06-01 or 2026-10-21 (2026-10-21 refuses temperature, top_p,
       top_k); max_tokens required
  POST /v1beta/models/{model}:generateContent  Gemini (and /v1/..., which
       @google/genai 3.x calls by default)
       auth: x-goog-api-key: KEY or ?key=KEY; none: 403 PERMISSION_DENIED,
       wrong: 400 INVALID_ARGUMENT API_KEY_INVALID. Every functionCall part
       the fake answers carries a thoughtSignature; a later request whose
       current turn holds that call without the same signature is a 400
       INVALID_ARGUMENT ("Function call is missing a thought_signature ...").

Besides, each provider's request checks that catch real client bugs, with
the provider's own messages: OpenAI's tool messages must answer a preceding
assistant tool_calls id and every tool call must be answered; Anthropic's
tool_result blocks must answer the previous message's tool_use ids and
every tool_use must be answered in the next message; Gemini's roles are
user or model and a function call turn is followed by as many
functionResponse parts. Streaming is Ollama's only (OpenAI, Azure and
Anthropic answer stream: true with a 400 saying so; Gemini's
streamGenerateContent is no route here). Answers carry what the real ones
do besides (ids, created, Azure's content filter results, Anthropic's
stop_sequence and usage details, Gemini's modelVersion and responseId,
Ollama's durations), so a client that reads only what it needs is tested
against the whole shape.

The script (--script FILE) is {"replies": [REPLY, ...]}; a request takes
the first unused reply that matches it (its "when" substring is in the raw
request body, or it has no "when"); "repeat": true replies are never used
up; none left: a 500 in the provider's error shape whose message says the
script is exhausted. A REPLY is one of
  {"text": "..."}
  {"tool_calls": [{"name": N, "arguments": {...}}, ...], "text": optional}
  {"tool_calls": [{"name": N, "raw_arguments": "{not json"}]}
      arguments that are not JSON. OpenAI and Azure: the string as given.
      The others answer objects, so the closest thing each sends:
      Anthropic a tool_use block cut off by max_tokens (input {},
      stop_reason max_tokens); Gemini no functionCall part, finishReason
      MALFORMED_FUNCTION_CALL with a finishMessage holding the raw text;
      Ollama, whose parser does not take invalid JSON for a tool call, the
      raw text as message.content and no tool_calls.
  {"error": {"status": 429, "retry_after": SECONDS}}   rate limited
  {"error": {"status": 429, "kind": "quota"}}          quota exhausted: OpenAI
      429 insufficient_quota; Gemini 429 RESOURCE_EXHAUSTED with a
      QuotaFailure; Anthropic 400 invalid_request_error "Your credit
      balance is too low ..." (Anthropic has no 429 for it); Azure the
      429 of its rate limit (its quota is the deployment's rate limit);
      Ollama 402 (ollama.com's usage limit)
  {"error": {"status": 401}}   as a wrong key would be answered
  {"error": {"status": 500}}   internal error
  {"error": {"status": 529}}   Anthropic 529 overloaded_error; the others 503
  {"error": {"status": N, "message": "..."}}  any other status
  {"malformed": true}          200, Content-Type JSON, a body that is not JSON
  {"truncated": true}          a Content-Length larger than the bytes sent, then close
  {"delay": SECONDS, ...}      wait, then answer the rest of the reply
Each may have "when": "substring", "repeat": true, "usage": {"in": N,
"out": M} (else in = request body bytes / 4, out = answer bytes / 4, at
least 1). Retry delays: Retry-After (and Azure's retry-after-ms) headers,
Gemini's in the body (error.details RetryInfo retryDelay "Ns"), as each
provider sends them.

The --log has one JSON line per request: provider, method, path (a key=
value masked), status, model, auth (the scheme's name only: bearer,
api-key, x-api-key, x-goog-api-key, query-key, or null),
anthropic_version, api_version, reply (the script's index, or null),
body (the request's JSON; body_raw when it is not JSON). The key is never
written: should a request body hold it, it is masked and key_in_body is true.

  llm.py --key KEY --port-file FILE [--script FILE] [--log FILE] [--ollama-open]

Standard library only.
"""

import argparse
import base64
import hashlib
import json
import math
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from fakehttp import read_body, send, serve
from urllib.parse import parse_qs, urlsplit

ANTHROPIC_VERSIONS = ("2023-06-01", "2026-10-21")
AZURE_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
EXHAUSTED = "llm.py: the script is exhausted: no reply is left for this request"
JSON_CT = "application/json"


def now_iso():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


def canon(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"))


def tokens(n):
    return max(1, math.ceil(n / 4))


class Script:
    """The scripted replies, used up in order of match."""

    def __init__(self, path):
        self.replies = []
        if path:
            with open(path, encoding="utf-8") as f:
                self.replies = json.load(f)["replies"]
        self.used = [False] * len(self.replies)
        self.lock = threading.Lock()

    def take(self, raw):
        text = raw.decode("utf-8", "replace")
        with self.lock:
            for i, r in enumerate(self.replies):
                if self.used[i]:
                    continue
                w = r.get("when")
                if w is not None and w not in text:
                    continue
                if not r.get("repeat"):
                    self.used[i] = True
                return i, r
        return None, None


class Provider:
    """What each provider's answers look like. Subclasses render a reply."""
    name = ""
    stream_ok = False

    def __init__(self, fake):
        self.fake = fake

    def ids(self, prefix, n=24):
        with self.fake.lock:
            self.fake.counter += 1
            c = self.fake.counter
        h = hashlib.sha256(("%s%d%f" % (prefix, c, time.time())).encode()).digest()
        alnum = "".join(ch for ch in base64.b64encode(h * 2).decode() if ch.isalnum())
        return prefix + alnum[:n]


# ---------------------------------------------------------------- OpenAI

class OpenAI(Provider):
    name = "openai"

    def err(self, status, message, etype, code=None, param=None):
        return status, {"error": {"message": message, "type": etype, "param": param, "code": code}}, []

    def auth(self, h, q):
        a = (h.headers.get("Authorization") or "").split(None, 1)
        scheme = a[0].lower() if a else None
        if not a:
            return scheme, self.err(401, "You didn't provide an API key. You need to provide your API key in an "
                                    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the "
                                    "password field (with blank username) if you're accessing the API from your browser and "
                                    "are prompted for a username and password. You can obtain an API key from "
                                    "https://platform.openai.com/account/api-keys.", "invalid_request_error")
        if scheme != "bearer" or len(a) != 2 or a[1].strip() != self.fake.key:
            given = a[1].strip() if len(a) == 2 else ""
            shown = (given[:3] + "*" * max(len(given) - 7, 0) + given[-4:]) if len(given) > 8 else "****"
            return scheme, self.err(401, "Incorrect API key provided: %s. You can find your API key at "
                                    "https://platform.openai.com/account/api-keys." % shown,
                                    "invalid_request_error", "invalid_api_key")
        return scheme, None

    def validate(self, b):
        if not isinstance(b, dict):
            return self.err(400, "We could not parse the JSON body of your request. (HINT: This likely means "
                            "you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
                            "but what was sent was not valid JSON. If you have trouble figuring out how to fix "
                            "this, please contact us through our help center at help.openai.com.)",
                            "invalid_request_error")
        if "model" not in b and self.name == "openai":
            return self.err(400, "you must provide a model parameter", "invalid_request_error")
        msgs = b.get("messages")
        if not isinstance(msgs, list):
            return self.err(400, "Missing required parameter: 'messages'.", "invalid_request_error",
                            "missing_required_parameter", "messages")
        if b.get("stream"):
            return self.err(400, "llm.py: this fake answers stream: true on Ollama's /api/chat only",
                            "invalid_request_error", None, "stream")
        open_ids = []
        for i, m in enumerate(msgs):
            role = m.get("role") if isinstance(m, dict) else None
            if role == "tool":
                tid = m.get("tool_call_id")
                if tid not in open_ids:
                    return self.err(400, "Invalid parameter: messages with role 'tool' must be a response to a "
                                    "preceeding message with 'tool_calls'.", "invalid_request_error", None,
                                    "messages.[%d].role" % i)
                open_ids.remove(tid)
                continue
            if open_ids:
                return self.err(400, "An assistant message with 'tool_calls' must be followed by tool messages "
                                "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                                "response messages: %s" % ", ".join(open_ids), "invalid_request_error", None,
                                "messages.[%d].role" % i)
            if role == "assistant":
                open_ids = [tc.get("id") for tc in (m.get("tool_calls") or []) if isinstance(tc, dict)]
        return None

    def model(self, b, path):
        return b.get("model") if isinstance(b, dict) else None

    def ok(self, reply, b, raw, model):
        calls, text = reply.get("tool_calls") or [], reply.get("text")
        tcs = []
        for c in calls:
            args = c["raw_arguments"] if "raw_arguments" in c else json.dumps(c.get("arguments", {}))
            tcs.append({"id": self.ids("call_"), "type": "function",
                        "function": {"name": c["name"], "arguments": args}})
        msg = {"role": "assistant", "content": text if text is not None else (None if tcs else ""),
               "refusal": None, "annotations": []}
        if tcs:
            msg["tool_calls"] = tcs
        out_len = len(json.dumps(msg))
        u = reply.get("usage") or {}
        pin, pout = u.get("in", tokens(len(raw))), u.get("out", tokens(out_len))
        choice = {"index": 0, "message": msg, "logprobs": None, "finish_reason": "tool_calls" if tcs else "stop"}
        body = {"id": self.ids("chatcmpl-", 29), "object": "chat.completion", "created": int(time.time()),
                "model": model or "", "choices": [choice],
                "usage": {"prompt_tokens": pin, "completion_tokens": pout, "total_tokens": pin + pout,
                          "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                                        "accepted_prediction_tokens": 0,
                                                        "rejected_prediction_tokens": 0}},
                "service_tier": "default", "system_fingerprint": "fp_fake0llm"}
        return self.decorate(body)

    def decorate(self, body):
        return body

    def error(self, e, rec):
        st, after, model = e.get("status", 500), e.get("retry_after"), rec["model"]
        hdr = [("retry-after", str(after))] if after is not None else []
        if e.get("message"):
            s, body, _ = self.err(st, e["message"], "invalid_request_error" if st < 500 else "server_error")
            return s, body, hdr
        if st == 429 and e.get("kind") == "quota":
            return self.err(429, "You exceeded your current quota, please check your plan and billing details. "
                            "For more information on this error, read the docs: "
                            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
                            "insufficient_quota", "insufficient_quota")[:2] + (hdr,)
        if st == 429:
            return self.err(429, "Rate limit reached for %s in organization org-fake on requests per min (RPM): "
                            "Limit 3, Used 3, Requested 1. Please try again in %ss. Visit "
                            "https://platform.openai.com/account/rate-limits to learn more."
                            % (model or "model", after if after is not None else 20),
                            "requests", "rate_limit_exceeded")[:2] + (hdr,)
        if st == 401:
            return self.err(401, "Incorrect API key provided: ****. You can find your API key at "
                            "https://platform.openai.com/account/api-keys.", "invalid_request_error",
                            "invalid_api_key")
        if st in (503, 529):
            return self.err(503, "The server is overloaded or not ready yet.", "server_error")[:2] + (hdr,)
        return self.err(st, "The server had an error while processing your request. Sorry about that!",
                        "server_error")[:2] + (hdr,)

    def exhausted(self):
        return self.err(500, EXHAUSTED, "server_error")


class Azure(OpenAI):
    name = "azure"

    def aerr(self, status, message, code=None):
        return status, {"error": {"code": code or str(status), "message": message}}, []

    def auth(self, h, q):
        k = h.headers.get("api-key")
        if k is None or k.strip() != self.fake.key:
            return ("api-key" if k is not None else None), self.aerr(
                401, "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
                "a valid key for an active subscription and use a correct regional API endpoint for your resource.")
        return "api-key", None

    def model(self, b, path):
        m = re.match(r"^/openai/deployments/([^/]+)/chat/completions$", path)
        return m.group(1) if m else None

    def decorate(self, body):
        body["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": {
            k: {"filtered": False, "severity": "safe"} for k in ("hate", "self_harm", "sexual", "violence")}}]
        for c in body["choices"]:
            c["content_filter_results"] = {k: {"filtered": False, "severity": "safe"}
                                           for k in ("hate", "self_harm", "sexual", "violence")}
        body.pop("service_tier", None)
        return body

    def error(self, e, rec):
        st, after, model = e.get("status", 500), e.get("retry_after"), rec["model"]
        if e.get("message"):
            return self.aerr(st, e["message"])
        if st == 429:
            after = after if after is not None else 60
            s, body, _ = self.aerr(429, "Requests to the ChatCompletions_Create Operation under Azure OpenAI API "
                                   "version %s have exceeded token rate limit of your current OpenAI S0 pricing "
                                   "tier. Please retry after %s seconds. Please go here: "
                                   "https://aka.ms/oai/quotaincrease if you would like to further increase the "
                                   "default rate limit." % (rec["api_version"], after))
            return s, body, [("retry-after", str(after)), ("retry-after-ms", str(int(float(after) * 1000)))]
        if st == 401:
            return self.auth_fail()
        hdr = [("retry-after", str(after))] if after is not None else []
        if st in (503, 529):
            return self.aerr(503, "The service is temporarily unable to process your request. "
                             "Please try again later.")[:2] + (hdr,)
        return self.aerr(st, "The server had an error while processing your request. Sorry about that!")[:2] + (hdr,)

    def auth_fail(self):
        return self.aerr(401, "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
                         "provide a valid key for an active subscription and use a correct regional API endpoint "
                         "for your resource.")

    def exhausted(self):
        return self.aerr(500, EXHAUSTED)


# ---------------------------------------------------------------- Anthropic

class Anthropic(Provider):
    name = "anthropic"

    def err(self, status, etype, message):
        return status, {"type": "error", "error": {"type": etype, "message": message},
                        "request_id": self.ids("req_011", 21)}, []

    def auth(self, h, q):
        k, a = h.headers.get("x-api-key"), (h.headers.get("Authorization") or "").split(None, 1)
        if k is not None:
            return "x-api-key", (None if k.strip() == self.fake.key else
                                 self.err(401, "authentication_error", "invalid x-api-key"))
        if a:
            if a[0].lower() == "bearer" and len(a) == 2 and a[1].strip() == self.fake.key:
                return "bearer", None
            return a[0].lower(), self.err(401, "authentication_error", "invalid x-api-key")
        return None, self.err(401, "authentication_error", "x-api-key header is required")

    def headers_ok(self, h):
        v = h.headers.get("anthropic-version")
        if v is None:
            return self.err(400, "invalid_request_error", "anthropic-version: header is required")
        if v not in ANTHROPIC_VERSIONS:
            return self.err(400, "invalid_request_error", "anthropic-version: %s is not a valid version"
                            % json.dumps(v))
        return None

    def validate(self, b, h=None):
        if not isinstance(b, dict):
            return self.err(400, "invalid_request_error", "There was an error parsing the body of your request.")
        for k in ("max_tokens", "messages", "model"):
            if k not in b:
                return self.err(400, "invalid_request_error", "%s: Field required" % k)
        if h is not None and h.headers.get("anthropic-version") == "2026-10-21":
            for k in ("temperature", "top_k", "top_p"):
                if k in b:
                    return self.err(400, "invalid_request_error", "%s: Extra inputs are not permitted" % k)
        if b.get("stream"):
            return self.err(400, "invalid_request_error",
                            "llm.py: this fake answers stream: true on Ollama's /api/chat only")
        for i, t in enumerate(b.get("tools") or []):
            if isinstance(t, dict) and t.get("type") in (None, "custom"):
                for k in ("name", "input_schema"):
                    if k not in t:
                        return self.err(400, "invalid_request_error", "tools.%d.custom.%s: Field required" % (i, k))
        msgs = b["messages"]
        if not isinstance(msgs, list):
            return self.err(400, "invalid_request_error", "messages: Input should be a valid list")
        pending = []  # tool_use ids of the previous assistant message
        for i, m in enumerate(msgs):
            role = m.get("role") if isinstance(m, dict) else None
            if role == "system":  # mid-conversation system messages (the SDK's SystemMessageParam)
                continue
            if role not in ("user", "assistant"):
                return self.err(400, "invalid_request_error", "messages.%d.role: Input should be 'user', "
                                "'assistant' or 'system'" % i)
            content = m.get("content")
            blocks = content if isinstance(content, list) else []
            results = [x.get("tool_use_id") for x in blocks if isinstance(x, dict) and x.get("type") == "tool_result"]
            if role == "user":
                for j, x in enumerate(blocks):
                    if isinstance(x, dict) and x.get("type") == "tool_result" and x.get("tool_use_id") not in pending:
                        return self.err(400, "invalid_request_error", "messages.%d.content.%d: unexpected "
                                        "`tool_use_id` found in `tool_result` blocks: %s. Each `tool_result` block "
                                        "must have a corresponding `tool_use` block in the previous message."
                                        % (i, j, x.get("tool_use_id")))
            missing = [p for p in pending if p not in results]
            if missing:
                return self.err(400, "invalid_request_error", "messages.%d: `tool_use` ids were found without "
                                "`tool_result` blocks immediately after: %s. Each `tool_use` block must have a "
                                "corresponding `tool_result` block in the next message." % (i - 1, ", ".join(missing)))
            pending = [x.get("id") for x in blocks if isinstance(x, dict) and x.get("type") == "tool_use"] \
                if role == "assistant" else []
        if pending:
            return self.err(400, "invalid_request_error", "messages.%d: `tool_use` ids were found without "
                            "`tool_result` blocks immediately after: %s. Each `tool_use` block must have a "
                            "corresponding `tool_result` block in the next message." % (len(msgs) - 1,
                                                                                        ", ".join(pending)))
        return None

    def model(self, b, path):
        return b.get("model") if isinstance(b, dict) else None

    def ok(self, reply, b, raw, model):
        calls, text = reply.get("tool_calls") or [], reply.get("text")
        content, cut = [], False
        if text is not None or not calls:
            content.append({"type": "text", "text": text or "", "citations": None})
        for c in calls:
            if "raw_arguments" in c:
                inp, cut = {}, True
            else:
                inp = c.get("arguments", {})
            content.append({"type": "tool_use", "id": self.ids("toolu_01", 22), "name": c["name"], "input": inp,
                            "caller": {"type": "direct"}})
        u = reply.get("usage") or {}
        pin, pout = u.get("in", tokens(len(raw))), u.get("out", tokens(len(json.dumps(content))))
        return {"id": self.ids("msg_01", 24), "type": "message", "role": "assistant", "model": model or "",
                "content": content, "stop_reason": "max_tokens" if cut else ("tool_use" if calls else "end_turn"),
                "stop_sequence": None, "stop_details": None, "container": None, "diagnostics": None,
                "usage": {"input_tokens": pin, "output_tokens": pout, "cache_creation_input_tokens": 0,
                          "cache_read_input_tokens": 0, "cache_creation": {"ephemeral_5m_input_tokens": 0,
                                                                           "ephemeral_1h_input_tokens": 0},
                          "server_tool_use": None, "service_tier": "standard", "inference_geo": "global",
                          "output_tokens_details": None, "speed": None}}

    def error(self, e, rec):
        st, after, model = e.get("status", 500), e.get("retry_after"), rec["model"]
        hdr = [("retry-after", str(after))] if after is not None else []
        if e.get("message"):
            etype = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                     404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
                     529: "overloaded_error"}.get(st, "api_error")
            return self.err(st, etype, e["message"])[:2] + (hdr,)
        if st == 429 and e.get("kind") == "quota":
            return self.err(400, "invalid_request_error", "Your credit balance is too low to access the Anthropic "
                            "API. Please go to Plans & Billing to upgrade or purchase credits.")
        if st == 429:
            return self.err(429, "rate_limit_error", "This request would exceed the rate limit for your "
                            "organization of 50,000 input tokens per minute. For details, refer to: "
                            "https://docs.claude.com/en/api/rate-limits. You can see the response headers for "
                            "current usage. Please reduce the prompt length or the maximum tokens requested, or "
                            "try again later. You may also contact sales at https://www.anthropic.com/contact-sales "
                            "to discuss your options for a rate limit increase.")[:2] + (hdr,)
        if st == 401:
            return self.err(401, "authentication_error", "invalid x-api-key")
        if st in (503, 529):
            return self.err(529, "overloaded_error", "Overloaded")[:2] + (hdr,)
        return self.err(st, "api_error", "Internal server error")[:2] + (hdr,)

    def exhausted(self):
        return self.err(500, "api_error", EXHAUSTED)


# ---------------------------------------------------------------- Gemini

class Gemini(Provider):
    name = "gemini"
    STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
              429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}

    def err(self, code, message, details=None, status=None):
        e = {"code": code, "message": message, "status": status or self.STATUS.get(code, "UNKNOWN")}
        if details:
            e["details"] = details
        return code, {"error": e}, []

    def bad_key(self):
        msg = "API key not valid. Please pass a valid API key."
        return self.err(400, msg, [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
             "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
            {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": msg}])

    def auth(self, h, q):
        k = h.headers.get("x-goog-api-key")
        scheme = "x-goog-api-key" if k is not None else None
        if k is None and "key" in q:
            k, scheme = q["key"][0], "query-key"
        if k is None:
            return None, self.err(403, "Method doesn't allow unregistered callers (callers without established "
                                  "identity). Please use API Key or other form of API consumer identity to call "
                                  "this API.")
        return scheme, (None if k.strip() == self.fake.key else self.bad_key())

    def validate(self, b):
        if not isinstance(b, dict):
            return self.err(400, "Invalid JSON payload received. Unexpected token.")
        contents = b.get("contents")
        if not contents:
            return self.err(400, "* GenerateContentRequest.contents: contents is not specified\n")
        calls = None
        for i, c in enumerate(contents):
            role, parts = c.get("role", "user"), c.get("parts") or []
            if role not in ("user", "model"):
                return self.err(400, "Please use a valid role: user, model.")
            responses = sum(1 for p in parts if isinstance(p, dict) and "functionResponse" in p)
            if calls is not None and calls != responses:
                return self.err(400, "Please ensure that the number of function response parts is equal to the "
                                "number of function call parts of the function call turn.")
            n = sum(1 for p in parts if isinstance(p, dict) and "functionCall" in p)
            calls = n if role == "model" and n else None
        # the current turn: after the last user content with a part other than a functionResponse
        start = 0
        for i, c in enumerate(contents):
            if c.get("role", "user") == "user" and any(isinstance(p, dict) and "functionResponse" not in p
                                                       for p in c.get("parts") or []):
                start = i
        for i in range(start, len(contents)):
            c = contents[i]
            if c.get("role") != "model":
                continue
            for p in c.get("parts") or []:
                fc = p.get("functionCall") if isinstance(p, dict) else None
                if not isinstance(fc, dict):
                    continue
                with self.fake.lock:
                    issued = self.fake.signatures.get((fc.get("name"), canon(fc.get("args", {}))))
                if issued and p.get("thoughtSignature") not in issued:
                    return self.err(400, "Function call is missing a thought_signature in functionCall parts. This "
                                    "is required for tools to work correctly, and missing thought_signature may "
                                    "lead to degraded model performance. Additional data, function call "
                                    "`default_api:%s` , position %d. Please refer to "
                                    "https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
                                    % (fc.get("name"), i + 1))
        return None

    def model(self, b, path):
        m = re.match(r"^/v1(?:beta)?/models/([^/:]+):generateContent$", path)
        return m.group(1) if m else None

    def ok(self, reply, b, raw, model):
        calls, text = reply.get("tool_calls") or [], reply.get("text")
        parts, malformed, first = [], None, True
        if text is not None or not calls:
            parts.append({"text": text or ""})
        for c in calls:
            if "raw_arguments" in c:
                malformed = "Malformed function call: %s(%s)" % (c["name"], c["raw_arguments"])
                continue
            part = {"functionCall": {"name": c["name"], "args": c.get("arguments", {})}}
            if first:  # as Gemini does for parallel calls: the first functionCall part carries it
                sig = base64.b64encode(hashlib.sha256(self.ids("sig").encode()).digest() * 3).decode()
                part["thoughtSignature"] = sig
                with self.fake.lock:
                    self.fake.signatures.setdefault((c["name"], canon(c.get("arguments", {}))), set()).add(sig)
                first = False
            parts.append(part)
        u = reply.get("usage") or {}
        pin, pout = u.get("in", tokens(len(raw))), u.get("out", tokens(len(json.dumps(parts))))
        if malformed:
            cand = {"content": {}, "finishReason": "MALFORMED_FUNCTION_CALL", "index": 0,
                    "finishMessage": malformed}
        else:
            cand = {"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}
        return {"candidates": [cand],
                "usageMetadata": {"promptTokenCount": pin, "candidatesTokenCount": pout,
                                  "totalTokenCount": pin + pout,
                                  "promptTokensDetails": [{"modality": "TEXT", "tokenCount": pin}]},
                "modelVersion": model or "", "responseId": self.ids("", 22)}

    def error(self, e, rec):
        st, after, model = e.get("status", 500), e.get("retry_after"), rec["model"]
        retry = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "%ss" % after}] \
            if after is not None else []
        if e.get("message"):
            return self.err(st, e["message"], retry)
        if st == 429 and e.get("kind") == "quota":
            return self.err(429, "You exceeded your current quota, please check your plan and billing details. "
                            "For more information on this error, head to: "
                            "https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head "
                            "to: https://ai.dev/rate-limit. ", [
                                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                                    {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                                     "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                                     "quotaDimensions": {"location": "global", "model": model or ""},
                                     "quotaValue": "250"}]},
                                {"@type": "type.googleapis.com/google.rpc.Help", "links": [
                                    {"description": "Learn more about Gemini API quotas",
                                     "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]}] + retry)
        if st == 429:
            return self.err(429, "Resource has been exhausted (e.g. check quota).", retry)
        if st == 401:
            return self.bad_key()
        if st in (503, 529):
            return self.err(503, "The model is overloaded. Please try again later.", retry)
        return self.err(st, "An internal error has occurred. Please retry or report in "
                        "https://developers.generativeai.google/guide/troubleshooting", retry)

    def exhausted(self):
        return self.err(500, EXHAUSTED)


# ---------------------------------------------------------------- Ollama

class Ollama(Provider):
    name = "ollama"
    stream_ok = True

    def err(self, status, message):
        return status, {"error": message}, []

    def auth(self, h, q):
        a = (h.headers.get("Authorization") or "").split(None, 1)
        scheme = a[0].lower() if a else None
        if self.fake.ollama_open:
            return scheme, None
        if scheme == "bearer" and len(a) == 2 and a[1].strip() == self.fake.key:
            return scheme, None
        return scheme, self.err(401, "unauthorized")

    def validate(self, b):
        if not isinstance(b, dict):
            return self.err(400, "invalid character looking for beginning of value")
        if not b.get("model"):
            return self.err(400, "model is required")
        if not isinstance(b.get("messages", []), list):
            return self.err(400, "json: cannot unmarshal into Go struct field ChatRequest.messages")
        return None

    def model(self, b, path):
        return b.get("model") if isinstance(b, dict) else None

    def streaming(self, b):
        return b.get("stream", True) is not False

    def ok(self, reply, b, raw, model):
        calls, text = reply.get("tool_calls") or [], reply.get("text")
        msg = {"role": "assistant", "content": text or ""}
        tcs = []
        for i, c in enumerate(calls):
            if "raw_arguments" in c:
                # Ollama's tool parser takes only JSON: the model's text stays content
                msg["content"] += '{"name": %s, "arguments": %s}' % (json.dumps(c["name"]), c["raw_arguments"])
                continue
            tcs.append({"id": self.ids("call_", 8).lower(),
                        "function": {"index": i, "name": c["name"], "arguments": c.get("arguments", {})}})
        if tcs:
            msg["tool_calls"] = tcs
        u = reply.get("usage") or {}
        pin, pout = u.get("in", tokens(len(raw))), u.get("out", tokens(len(json.dumps(msg))))
        return {"model": model or "", "created_at": now_iso(), "message": msg, "done": True,
                "done_reason": "stop", "total_duration": 1200000000, "load_duration": 50000000,
                "prompt_eval_count": pin, "prompt_eval_duration": 300000000, "eval_count": pout,
                "eval_duration": 800000000}

    def chunks(self, final):
        """the NDJSON lines Ollama streams: content in pieces, the tool calls, then done"""
        out, msg = [], final["message"]
        head = {"model": final["model"], "created_at": final["created_at"]}
        text = msg["content"]
        for i in range(0, len(text), 16):
            out.append(dict(head, message={"role": "assistant", "content": text[i:i + 16]}, done=False))
        if msg.get("tool_calls"):
            out.append(dict(head, message={"role": "assistant", "content": "", "tool_calls": msg["tool_calls"]},
                            done=False))
        last = dict(final)
        last["message"] = {"role": "assistant", "content": ""}
        out.append(last)
        return out

    def error(self, e, rec):
        st, after, model = e.get("status", 500), e.get("retry_after"), rec["model"]
        hdr = [("Retry-After", str(after))] if after is not None else []
        if e.get("message"):
            return self.err(st, e["message"])[:2] + (hdr,)
        if st == 429 and e.get("kind") == "quota":
            return self.err(402, "you've reached your usage limit, please upgrade to continue")
        if st == 429:
            return self.err(429, "too many requests, please try again later")[:2] + (hdr,)
        if st == 401:
            return self.err(401, "unauthorized")
        if st in (503, 529):
            return self.err(503, "server busy, please try again.  maximum pending requests exceeded")[:2] + (hdr,)
        return self.err(st, "llama runner process has terminated: exit status 2")[:2] + (hdr,)

    def exhausted(self):
        return self.err(500, EXHAUSTED)


# ---------------------------------------------------------------- the server

class Fake:
    def __init__(self, a):
        self.key = a.key
        self.ollama_open = a.ollama_open
        self.script = Script(a.script)
        self.logf = open(a.log, "a", encoding="utf-8") if a.log else None
        self.lock = threading.Lock()
        self.counter = 0
        self.signatures = {}  # (name, canonical args) -> thought signatures given
        self.providers = {"ollama": Ollama(self), "openai": OpenAI(self), "azure": Azure(self),
                          "anthropic": Anthropic(self), "gemini": Gemini(self)}

    def route(self, path):
        if path == "/api/chat":
            return "ollama"
        if path == "/v1/chat/completions":
            return "openai"
        if re.match(r"^/openai/deployments/[^/]+/chat/completions$", path):
            return "azure"
        if path == "/v1/messages":
            return "anthropic"
        if re.match(r"^/v1(beta)?/models/[^/:]+:generateContent$", path):
            return "gemini"
        return None

    def log(self, rec):
        if not self.logf:
            return
        line = json.dumps(rec)
        if self.key and self.key in line:
            line = json.dumps(dict(json.loads(line.replace(self.key, "***")), key_in_body=True))
        with self.lock:
            self.logf.write(line + "\n")
            self.logf.flush()


def masked_path(path):
    return re.sub(r"([?&]key=)[^&]*", r"\1***", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", required=True, help="the one valid key, for every provider")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--script")
    ap.add_argument("--log")
    ap.add_argument("--ollama-open", action="store_true", help="Ollama takes any key or none, as a local one")
    a = ap.parse_args()
    fake = Fake(a)

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def handle_any(self):
            raw = read_body(self)
            u = urlsplit(self.path)
            q = parse_qs(u.query)
            name = fake.route(u.path)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = ValueError
            rec = {"provider": name, "method": self.command, "path": masked_path(self.path), "status": None,
                   "model": None, "auth": None, "anthropic_version": self.headers.get("anthropic-version"),
                   "api_version": (q.get("api-version") or [None])[0], "reply": None}
            if body is ValueError:
                rec["body_raw"] = raw.decode("utf-8", "replace")
            else:
                rec["body"] = body
            if name is None or self.command != "POST":
                st = 404 if name is None else 405
                self.answer(rec, st, {"error": {"code": st, "message": "llm.py: no %s %s here" %
                                                (self.command, u.path)}})
                return
            p = fake.providers[name]
            b = None if body is ValueError else body
            rec["model"] = p.model(b, u.path)
            if name == "azure":
                v = rec["api_version"]
                if v is None or not AZURE_API_VERSION.match(v):
                    return self.answer(rec, *p.aerr(404, "Resource not found"))
            scheme, bad = p.auth(self, q)
            rec["auth"] = scheme
            if bad:
                return self.answer(rec, *bad)
            try:
                bad = p.headers_ok(self) or p.validate(b, self) if name == "anthropic" else p.validate(b)
            except (AttributeError, TypeError, KeyError, ValueError) as e:
                bad = (400, {"error": {"code": 400, "message": "llm.py: a request this fake cannot read: %r" % e}}, [])
            if bad:
                return self.answer(rec, *bad)
            idx, reply = fake.script.take(raw)
            rec["reply"] = idx
            if reply is None:
                return self.answer(rec, *p.exhausted())
            if reply.get("delay"):
                time.sleep(float(reply["delay"]))
            if reply.get("error"):
                return self.answer(rec, *p.error(reply["error"], rec))
            if reply.get("malformed"):
                return self.answer(rec, 200, None, raw_out=b"{\"id\": \"fake\", \"choices\": [ this is not JSON")
            out = p.ok(reply, b, raw, rec["model"])
            data = json.dumps(out).encode()
            streaming = p.stream_ok and p.streaming(b)
            if reply.get("truncated") and not streaming:
                rec["status"] = 200
                fake.log(rec)
                self.send_response(200)
                self.send_header("Content-Type", JSON_CT)
                self.send_header("Content-Length", str(len(data) + 512))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if streaming:
                rec["status"] = 200
                fake.log(rec)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunks = p.chunks(out)
                if reply.get("truncated"):  # the stream ends before its done line, unterminated
                    chunks = chunks[:-1]
                for c in chunks:
                    line = (json.dumps(c) + "\n").encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                    self.wfile.flush()
                if reply.get("truncated"):
                    self.close_connection = True
                    return
                self.wfile.write(b"0\r\n\r\n")
                return
            self.answer(rec, 200, out)

        def answer(self, rec, status, obj, extra=(), raw_out=None):
            rec["status"] = status
            fake.log(rec)
            data = raw_out if raw_out is not None else json.dumps(obj).encode()
            send(self, status, data, JSON_CT if raw_out is None else JSON_CT + "; charset=utf-8", extra)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any

    serve(H, a.port_file)


if __name__ == "__main__":
    sys.exit(main())
