#!/usr/bin/python3
"""github.py: a fake of the GitHub REST API's pull requests, with state, for
kopilot's pull-request tests. It speaks the parts of the wire format
kopilot uses, as documented at docs.github.com/rest/pulls:

  GET   /repos/{owner}/{repo}/pulls?head={owner}:{branch}&state=all|open|closed
  POST  /repos/{owner}/{repo}/pulls            {title, head, base, body} -> 201
        422 {"message": "Validation Failed", "errors": [{"message":
        "A pull request already exists for owner:branch."}]} when one is open
  PATCH /repos/{owner}/{repo}/pulls/{number}   {title, body, state}
  POST  /repos/{owner}/{repo}/issues/{number}/labels {labels: [...]}

Every call needs "Authorization: Bearer TOKEN" (else 401 {"message": "Bad
credentials"}). --rate-limit-first answers the first POST with 429 and
Retry-After: 1 (GitHub's secondary rate limit). Test hooks (no auth):
POST /_test/close/{number} closes a pull request without merging it,
GET /_test/state returns every pull request. Requests are logged as JSON
lines (method, path, status, and the body's keys), never the token.

  github.py --token TOKEN --port-file FILE [--log FILE] [--rate-limit-first]

Standard library only.
"""

import argparse
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--token", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--rate-limit-first", action="store_true")
    a = ap.parse_args()
    lock = threading.Lock()
    state = {"pulls": [], "limited": not a.rate_limit_first}
    logf = open(a.log, "a", encoding="utf-8") if a.log else None

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def reply(self, status, obj, extra=()):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            if logf:
                logf.write(json.dumps({"method": self.command, "path": self.path, "status": status,
                                       "keys": sorted(self.json.keys()) if isinstance(self.json, dict) else None}) + "\n")
                logf.flush()

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            try:
                self.json = json.loads(raw) if raw else None
            except ValueError:
                return self.reply(400, {"message": "Problems parsing JSON"})
            u = urlsplit(self.path)
            q = parse_qs(u.query)
            m = re.match(r"^/_test/close/(\d+)$", u.path)
            if m and self.command == "POST":
                with lock:
                    for p in state["pulls"]:
                        if p["number"] == int(m.group(1)):
                            p["state"] = "closed"
                return self.reply(200, {})
            if u.path == "/_test/state":
                return self.reply(200, state["pulls"])
            if self.headers.get("Authorization") != "Bearer " + a.token:
                return self.reply(401, {"message": "Bad credentials",
                                        "documentation_url": "https://docs.github.com/rest"})
            m = re.match(r"^/repos/([^/]+)/([^/]+)/(pulls|issues)(?:/(\d+))?(/labels)?$", u.path)
            if not m:
                return self.reply(404, {"message": "Not Found"})
            owner, repo, kind, num, labels = m.groups()
            with lock:
                mine = [p for p in state["pulls"] if p["_repo"] == owner + "/" + repo]
                if kind == "pulls" and num is None and self.command == "GET":
                    head = (q.get("head") or [""])[0]
                    st = (q.get("state") or ["open"])[0]
                    out = [p for p in mine if (not head or head == owner + ":" + p["head"]["ref"])
                           and (st == "all" or p["state"] == st)]
                    return self.reply(200, sorted(out, key=lambda p: -p["number"]))
                if kind == "pulls" and num is None and self.command == "POST":
                    if not state["limited"]:
                        state["limited"] = True
                        return self.reply(429, {"message": "You have exceeded a secondary rate limit."},
                                          [("Retry-After", "1")])
                    b = self.json or {}
                    for k in ("title", "head", "base"):
                        if not isinstance(b.get(k), str) or not b[k]:
                            return self.reply(422, {"message": "Validation Failed",
                                                    "errors": [{"field": k, "code": "missing_field"}]})
                    if any(p["head"]["ref"] == b["head"] and p["state"] == "open" for p in mine):
                        return self.reply(422, {"message": "Validation Failed", "errors": [
                            {"message": "A pull request already exists for %s:%s." % (owner, b["head"])}]})
                    number = len(state["pulls"]) + 1
                    p = {"number": number, "state": "open", "title": b["title"], "body": b.get("body"),
                         "head": {"ref": b["head"], "label": owner + ":" + b["head"]}, "base": {"ref": b["base"]},
                         "merged_at": None, "labels": [], "_repo": owner + "/" + repo, "_edits": 0,
                         "html_url": "https://github.example/%s/%s/pull/%d" % (owner, repo, number)}
                    state["pulls"].append(p)
                    return self.reply(201, p)
                pr = next((p for p in mine if num and p["number"] == int(num)), None)
                if not pr:
                    return self.reply(404, {"message": "Not Found"})
                if kind == "pulls" and self.command == "PATCH":
                    for k in ("title", "body", "state"):
                        if k in (self.json or {}):
                            pr[k] = self.json[k]
                    pr["_edits"] += 1
                    return self.reply(200, pr)
                if kind == "issues" and labels and self.command == "POST":
                    for name in (self.json or {}).get("labels", []):
                        if name not in [x["name"] for x in pr["labels"]]:
                            pr["labels"].append({"name": name})
                    return self.reply(200, pr["labels"])
            return self.reply(404, {"message": "Not Found"})

        do_GET = do_POST = do_PATCH = handle_any

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
