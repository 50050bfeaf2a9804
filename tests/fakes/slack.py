#!/usr/bin/python3
"""slack.py: a fake Slack Web API for kopilot serve's replies
(pipeline/cmd_slack.c), checking what the real chat.postMessage checks:

  POST /api/chat.postMessage
       auth: Authorization: Bearer TOKEN (--token); another token or none:
       HTTP 200 {"ok": false, "error": "invalid_auth" | "not_authed"}, as
       Slack answers. Body: JSON (Content-Type application/json; without
       "charset=utf-8" the answer carries Slack's missing_charset warning)
       or form-encoded. channel: required, an id (C..., D..., G...):
       channel_not_found otherwise; text or blocks required (no_text);
       text at most 40,000 characters (msg_too_long); thread_ts, when
       given, "digits.digits" (invalid_thread_ts); blocks: at most 50,
       each a section with a text object {type: mrkdwn|plain_text, text:
       1..3000 characters} (invalid_blocks, with Slack's
       response_metadata.messages). The answer: {"ok": true, "channel",
       "ts", "message": {...}} as Slack sends it.

--rate-limit N: the first N posts get 429 with Retry-After: 1 (Slack's
rate limit on chat.postMessage). Every post is one JSON line in --log:
path, status, the error if any, and the whole body (a bot token is never
logged). tests/clients/slack/sdk.mjs proves with the official
@slack/web-api client that it cannot tell this from Slack.

  slack.py --token xoxb-... --port-file F [--log F] [--rate-limit N]
"""
import argparse
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

import fakehttp

ap = argparse.ArgumentParser()
ap.add_argument("--token", required=True)
ap.add_argument("--port-file", required=True)
ap.add_argument("--log")
ap.add_argument("--rate-limit", type=int, default=0)
args = ap.parse_args()
logf = open(args.log, "a") if args.log else None
lock = threading.RLock()
state = {"limited": 0, "ts": 0}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, status, doc, extra=()):
        fakehttp.send(self, status, json.dumps(doc).encode(), "application/json; charset=utf-8", extra)

    def record(self, status, body, error=None):
        if logf:
            with lock:
                logf.write(json.dumps({"path": self.path, "status": status, "error": error, "body": body}) + "\n")
                logf.flush()

    def do_POST(self):
        raw = fakehttp.read_body(self)
        if self.path != "/api/chat.postMessage":
            self.record(404, None, "unknown_method")
            return self.answer(404, {"ok": False, "error": "unknown_method"})
        ctype = self.headers.get("Content-Type") or ""
        warnings = []
        try:
            if ctype.startswith("application/json"):
                body = json.loads(raw or b"{}")
                if "charset=utf-8" not in ctype.lower():
                    warnings.append("missing_charset")
            else:
                body = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
                if isinstance(body.get("blocks"), str):
                    body["blocks"] = json.loads(body["blocks"])
        except Exception:
            self.record(200, None, "invalid_json")
            return self.answer(200, {"ok": False, "error": "invalid_json"})
        with lock:
            if state["limited"] < args.rate_limit:
                state["limited"] += 1
                self.record(429, body, "ratelimited")
                return self.answer(429, {"ok": False, "error": "ratelimited"}, [("Retry-After", "1")])
        auth = self.headers.get("Authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else body.get("token")
        error = None
        if not token:
            error = "not_authed"
        elif token != args.token:
            error = "invalid_auth"
        elif not isinstance(body.get("channel"), str) or not re.fullmatch(r"[CDG][A-Z0-9]{2,}", body["channel"]):
            error = "channel_not_found"
        elif not body.get("text") and not body.get("blocks"):
            error = "no_text"
        elif len(body.get("text") or "") > 40000:
            error = "msg_too_long"
        elif "thread_ts" in body and not re.fullmatch(r"\d+\.\d+", str(body["thread_ts"])):
            error = "invalid_thread_ts"
        elif "blocks" in body:
            b = body["blocks"]
            ok = isinstance(b, list) and 0 < len(b) <= 50
            for blk in b if ok else []:
                t = blk.get("text") if isinstance(blk, dict) else None
                ok = ok and blk.get("type") == "section" and isinstance(t, dict) and t.get("type") in (
                    "mrkdwn", "plain_text") and isinstance(t.get("text"), str) and 0 < len(t["text"]) <= 3000
            if not ok:
                error = "invalid_blocks"
        if error:
            self.record(200, body, error)
            doc = {"ok": False, "error": error}
            if error == "invalid_blocks":
                doc["response_metadata"] = {"messages": ["[ERROR] failed to match all allowed schemas [json-pointer:/blocks/0]"]}
            return self.answer(200, doc)
        with lock:
            state["ts"] += 1
            ts = "%d.%06d" % (int(time.time()), state["ts"])
        msg = {"type": "message", "subtype": "bot_message", "text": body.get("text") or "", "ts": ts,
               "user": "U0KOPILOT", "bot_id": "B0KOPILOT", "app_id": "A0KOPILOT", "team": "T0ACME"}
        if "thread_ts" in body:
            msg["thread_ts"] = body["thread_ts"]
        if "blocks" in body:
            msg["blocks"] = body["blocks"]
        doc = {"ok": True, "channel": body["channel"], "ts": ts, "message": msg}
        if warnings:
            doc["warning"] = ",".join(warnings)
            doc["response_metadata"] = {"warnings": warnings}
        self.record(200, body)
        self.answer(200, doc)


fakehttp.serve(Handler, args.port_file)
