#!/usr/bin/python3
"""promproxy.py - a proxy in front of a real Prometheus, for the faults a
real Prometheus will not produce on demand: an API under a path prefix (as
Mimir serves it under /prometheus), authentication and tenant headers (as
Thanos, Mimir and Cortex gateways ask for them), errors, and queries the
server finds too heavy. Everything else is passed to the real server
unchanged, so the answers are Prometheus' own.

  promproxy.py --upstream http://127.0.0.1:9090 --port-file F [--prefix /prometheus]
               [--token T] [--header 'X-Scope-OrgID: team-a'] [--log F]
               [--fail-queries STATUS] [--timeout-grouped] [--delay SECONDS]

--token T            requests without "Authorization: Bearer T" get 401
--header 'N: V'      requests without that header get 401 (Mimir: "no org id")
--fail-queries S     every /api/v1/query gets status S with Prometheus' error body
--timeout-grouped    a query whose namespace matcher names more than one
                     namespace (a regex with '|') gets 503 errorType
                     "timeout", as Prometheus answers a query that ran out of
                     its --query.timeout: kopilot must split it
--delay S            every /api/v1/query waits S seconds before it is passed
                     on (a busy server: the progress display's test)
--log F              one JSON line per request: method, path, status

Standard library only.
"""
import argparse
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def record(self, status):
        cfg = self.server.cfg
        if cfg.log:
            with self.server.lock, open(cfg.log, "a", encoding="utf-8") as f:
                f.write(json.dumps({"method": self.command, "path": urlsplit(self.path).path,
                                    "status": status}) + "\n")

    def reply(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.record(status)

    def error(self, status, etype, msg):
        self.reply(status, json.dumps({"status": "error", "errorType": etype, "error": msg}).encode())

    def handle_any(self):
        cfg = self.server.cfg
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        u = urlsplit(self.path)
        path = u.path
        if cfg.prefix:
            if not path.startswith(cfg.prefix + "/"):
                return self.reply(404, b"404 page not found\n", "text/plain")
            path = path[len(cfg.prefix):]
        if cfg.token and self.headers.get("Authorization") != "Bearer " + cfg.token:
            return self.reply(401, b"Unauthorized\n", "text/plain")
        for h in cfg.header:
            name, _, value = h.partition(":")
            if self.headers.get(name.strip()) != value.strip():
                return self.reply(401, b"no org id\n", "text/plain")
        if path == "/api/v1/query":
            if cfg.delay:
                time.sleep(cfg.delay)
            if cfg.fail_queries:
                return self.error(cfg.fail_queries, "internal" if cfg.fail_queries >= 500 else "bad_data",
                                  "injected by promproxy")
            if cfg.timeout_grouped:
                form = parse_qs(body.decode() if body else u.query)
                q = (form.get("query") or [""])[0]
                m = re.search(r'namespace=~"([^"]*)"', q)
                if m and "|" in m.group(1):
                    return self.error(503, "timeout", "query timed out in expression evaluation")
        req = urllib.request.Request(cfg.upstream + path + ("?" + u.query if u.query else ""),
                                     data=body if self.command == "POST" else None, method=self.command)
        for h in ("Content-Type", "Accept"):
            if self.headers.get(h):
                req.add_header(h, self.headers[h])
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                return self.reply(r.status, r.read(), r.headers.get("Content-Type", "application/json"))
        except urllib.error.HTTPError as e:
            return self.reply(e.code, e.read(), e.headers.get("Content-Type", "application/json"))

    do_GET = do_POST = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--token")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--log")
    ap.add_argument("--fail-queries", type=int, default=0)
    ap.add_argument("--timeout-grouped", action="store_true")
    ap.add_argument("--delay", type=float, default=0)
    cfg = ap.parse_args()
    cfg.prefix = cfg.prefix.rstrip("/")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.cfg = cfg
    srv.lock = threading.Lock()
    with open(cfg.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(cfg.port_file + ".tmp", cfg.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
