#!/usr/bin/python3
"""webhook.py: a generic JSON webhook receiver for kopilot run's
notifications (notify.webhook_url). Every POST is answered with the next
status of --statuses (comma-separated; a 429 carries Retry-After: 1, a
5xx a short JSON error), then 200 {"received": true} once the list is used
up, or always with --forever STATUS. Each request is one JSON line in --log:
method, path, status, Content-Type, and the body parsed as JSON ("json")
or, when it is not JSON, as text ("raw").

  webhook.py --port-file F [--log F] [--statuses 429,200 | --forever 500]
"""
import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler

import fakehttp

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--log")
ap.add_argument("--statuses", default="")
ap.add_argument("--forever", type=int, default=0)
args = ap.parse_args()
logf = open(args.log, "a") if args.log else None
lock = threading.RLock()
queue = [int(s) for s in args.statuses.split(",") if s.strip()]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        raw = fakehttp.read_body(self)
        with lock:
            status = args.forever or (queue.pop(0) if queue else 200)
        rec = {"method": "POST", "path": self.path, "status": status,
               "ctype": self.headers.get("Content-Type")}
        try:
            rec["json"] = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            rec["raw"] = raw.decode("utf-8", "replace")
        if logf:
            with lock:
                logf.write(json.dumps(rec) + "\n")
                logf.flush()
        extra = [("Retry-After", "1")] if status == 429 else []
        body = {"received": True} if status < 300 else {"error": "fake failure %d" % status}
        fakehttp.send(self, status, json.dumps(body).encode(), "application/json", extra)


fakehttp.serve(Handler, args.port_file)
