"""fakehttp.py: what the fake forges (github.py, gitlab.py) and the git
smart-HTTP server (githttp.py) share: reading a request body (chunked or
not), one JSON line per request in the --log (method, path, status, the
body's keys, the auth scheme and media type: never a token), and serving
on a free 127.0.0.1 port whose number goes to --port-file (written whole,
then renamed, so a reader never sees half of it). Standard library only.
"""

import json
import os
from http.server import ThreadingHTTPServer


def read_body(h):
    """The request's body, chunked or by Content-Length."""
    if "chunked" in (h.headers.get("Transfer-Encoding") or "").lower():
        raw = b""
        while True:
            size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return raw
            raw += h.rfile.read(size)
            h.rfile.readline()
    n = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(n) if n else b""


def send(h, status, body, ctype, extra=()):
    """An answer: status, the body's media type and length, extra headers."""
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body)))
    for k, v in extra:
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(body)


def log_request(logf, h, status, auth=None, ctype=None):
    """One JSON line for the request h answered with status."""
    if not logf:
        return
    body = getattr(h, "json", None)
    rec = {"method": h.command, "path": h.path, "status": status,
           "keys": sorted(body.keys()) if isinstance(body, dict) else None}
    if auth:
        rec["auth"] = auth
    if ctype:
        rec["ctype"] = ctype
    logf.write(json.dumps(rec) + "\n")
    logf.flush()


def serve(handler, port_file):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    srv.serve_forever()
