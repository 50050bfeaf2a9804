#!/usr/bin/python3
"""slackhook.py: a fake Slack incoming webhook (https://hooks.slack.com/
services/T.../B.../TOKEN) for kopilot run's notifications
(stages/render/notify.c), answering as Slack documents for incoming
webhooks (api.slack.com/messaging/webhooks, "Handling errors"):

  POST /services/TEAM/HOOK/TOKEN
       200 "ok" (text/plain) when the message is accepted;
       404 "no_service"          another TEAM/HOOK (the webhook was removed);
       403 "invalid_token"       the right hook, another token;
       410 "channel_is_archived" --archived;
       400 "invalid_payload"     a body that is not a JSON object;
       400 "no_text"             neither text nor blocks;
       400 "invalid_blocks"      blocks Block Kit refuses: more than 50, an
           unknown type, a header whose text is not plain_text of 1..150
           characters, a section without text or fields, a text object not
           mrkdwn/plain_text or over 3000 characters, more than 10 fields or
           a field over 2000 characters, a context without 1..10 text
           elements, a divider with more than its type (and the block_id
           over 255 characters);
       429 "rate_limited" with Retry-After: 1 for the first N posts
           (--rate-limit N).
  Other methods: 405. Every post is one JSON line in --log: the status,
  the error, whether the token matched (never the token) and the body.
  tests/clients/slack/webhook.mjs proves with the official @slack/webhook
  client (IncomingWebhook.send) that it cannot tell this from Slack.

  slackhook.py --hook TEAM/HOOK --token TOKEN --port-file F [--log F]
               [--rate-limit N] [--archived]
"""
import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler

import fakehttp

ap = argparse.ArgumentParser()
ap.add_argument("--hook", required=True)
ap.add_argument("--token", required=True)
ap.add_argument("--port-file", required=True)
ap.add_argument("--log")
ap.add_argument("--rate-limit", type=int, default=0)
ap.add_argument("--archived", action="store_true")
args = ap.parse_args()
logf = open(args.log, "a") if args.log else None
lock = threading.RLock()
state = {"limited": 0}
TEXT_TYPES = ("mrkdwn", "plain_text")


def text_ok(t, limit, types=TEXT_TYPES):
    return (isinstance(t, dict) and t.get("type") in types and isinstance(t.get("text"), str)
            and 1 <= len(t["text"]) <= limit)


def block_error(b):
    """Why Block Kit refuses block b, or None."""
    if not isinstance(b, dict):
        return "a block is not an object"
    if "block_id" in b and (not isinstance(b["block_id"], str) or len(b["block_id"]) > 255):
        return "block_id"
    kind = b.get("type")
    if kind == "header":
        if not text_ok(b.get("text"), 150, ("plain_text",)):
            return "header text must be plain_text of 1..150 characters"
    elif kind == "section":
        if "text" not in b and "fields" not in b:
            return "a section needs text or fields"
        if "text" in b and not text_ok(b["text"], 3000):
            return "section text must be mrkdwn or plain_text of 1..3000 characters"
        if "fields" in b:
            f = b["fields"]
            if not isinstance(f, list) or not 1 <= len(f) <= 10:
                return "a section has 1..10 fields"
            if not all(text_ok(x, 2000) for x in f):
                return "a field must be mrkdwn or plain_text of 1..2000 characters"
    elif kind == "context":
        e = b.get("elements")
        if not isinstance(e, list) or not 1 <= len(e) <= 10 or not all(text_ok(x, 3000) for x in e):
            return "a context has 1..10 text elements"
    elif kind == "divider":
        if set(b) - {"type", "block_id"}:
            return "a divider has no other fields"
    else:
        return "unknown block type %r" % (kind,)
    return None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, status, text, error=None, body=None, token_ok=None, extra=()):
        if logf:
            with lock:
                logf.write(json.dumps({"status": status, "error": error, "token_ok": token_ok,
                                       "detail": getattr(self, "detail", None), "body": body}) + "\n")
                logf.flush()
        fakehttp.send(self, status, text.encode(), "text/plain; charset=utf-8", extra)

    def do_GET(self):
        fakehttp.send(self, 405, b"invalid_method", "text/plain")

    do_PUT = do_GET

    def do_POST(self):
        raw = fakehttp.read_body(self)
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 4 or parts[0] != "services" or "/".join(parts[1:3]) != args.hook:
            return self.answer(404, "no_service", "no_service")
        if parts[3] != args.token:
            return self.answer(403, "invalid_token", "invalid_token", token_ok=False)
        with lock:
            if state["limited"] < args.rate_limit:
                state["limited"] += 1
                return self.answer(429, "rate_limited", "rate_limited", token_ok=True, extra=[("Retry-After", "1")])
        if args.archived:
            return self.answer(410, "channel_is_archived", "channel_is_archived", token_ok=True)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            if ctype == "application/x-www-form-urlencoded":
                import urllib.parse
                body = json.loads(urllib.parse.parse_qs(raw.decode())["payload"][0])
            else:
                body = json.loads(raw.decode("utf-8"))
        except (ValueError, KeyError, UnicodeDecodeError):
            return self.answer(400, "invalid_payload", "invalid_payload", token_ok=True)
        if not isinstance(body, dict):
            return self.answer(400, "invalid_payload", "invalid_payload", token_ok=True)
        blocks = body.get("blocks")
        if not body.get("text") and not blocks and not body.get("attachments"):
            return self.answer(400, "no_text", "no_text", body, token_ok=True)
        if blocks is not None:
            why = None
            if not isinstance(blocks, list) or len(blocks) > 50:
                why = "at most 50 blocks"
            else:
                for b in blocks:
                    why = block_error(b)
                    if why:
                        break
            if why:
                self.detail = why
                return self.answer(400, "invalid_blocks", "invalid_blocks", body, token_ok=True)
        return self.answer(200, "ok", None, body, token_ok=True)


fakehttp.serve(Handler, args.port_file)
