#!/usr/bin/python3
"""githttp.py: git's smart HTTP protocol, served by the real `git http-backend`
(CGI) behind HTTP basic authentication, as GitHub and GitLab serve
repositories over https (without the TLS).

  githttp.py --root DIR --user USER --token TOKEN --port-file FILE [--log FILE]

Every request must carry Authorization: Basic USER:TOKEN (any user name is
accepted when --user is "*", as GitHub does for personal access tokens);
otherwise 401 with WWW-Authenticate, as the forges answer, so the client
asks its credentials callback. The 401 has an empty body: libgit2 1.5 does
not read a 401's body on a kept-alive connection and takes it for the next
response's status line ("http parser error: invalid constant string"). Pushing is allowed (http.receivepack) for an
authenticated user. Each request is logged as one JSON line (method, path,
status, user) without the token.

Standard library only.
"""

import argparse
import base64
import json
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from fakehttp import serve
from urllib.parse import urlsplit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--user", default="*")
    ap.add_argument("--token", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    a = ap.parse_args()
    logf = open(a.log, "a", encoding="utf-8") if a.log else None

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def record(self, status, user):
            if logf:
                logf.write(json.dumps({"method": self.command, "path": self.path, "status": status,
                                       "user": user}) + "\n")
                logf.flush()

        def deny(self):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="kopilot-test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.record(401, None)

        def handle_any(self):
            auth = self.headers.get("Authorization", "")
            user = None
            if auth.startswith("Basic "):
                try:
                    u, _, t = base64.b64decode(auth[6:]).decode().partition(":")
                    if t == a.token and (a.user == "*" or u == a.user):
                        user = u
                except ValueError:
                    pass
            if user is None:
                # drain a body the client sent anyway
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                return self.deny()
            parts = urlsplit(self.path)
            env = dict(os.environ)
            env.update({
                "GIT_PROJECT_ROOT": a.root, "GIT_HTTP_EXPORT_ALL": "1", "REQUEST_METHOD": self.command,
                "PATH_INFO": parts.path, "QUERY_STRING": parts.query, "REMOTE_USER": user, "REMOTE_ADDR": "127.0.0.1",
                "CONTENT_TYPE": self.headers.get("Content-Type", ""), "GIT_HTTP_MAX_REQUEST_BUFFER": "100M",
            })
            body = b""
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().strip().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                body = b"".join(chunks)
            else:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
            if self.headers.get("Content-Encoding", "") == "gzip":
                env["HTTP_CONTENT_ENCODING"] = "gzip"
            env["CONTENT_LENGTH"] = str(len(body))
            p = subprocess.run(["git", "-c", "http.receivepack=true", "http-backend"], input=body, env=env,
                               capture_output=True)
            head, _, rest = p.stdout.partition(b"\r\n\r\n")
            status = 200
            headers = []
            for line in head.split(b"\r\n"):
                k, _, v = line.decode("latin-1").partition(":")
                if k.lower() == "status":
                    status = int(v.strip().split()[0])
                elif k:
                    headers.append((k, v.strip()))
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(rest)))
            self.end_headers()
            self.wfile.write(rest)
            self.record(status, user)

        do_GET = handle_any
        do_POST = handle_any

    serve(H, a.port_file)


if __name__ == "__main__":
    sys.exit(main())
