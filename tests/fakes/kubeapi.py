#!/usr/bin/python3
"""kubeapi.py - a fake Kubernetes API server for kopilot's tests, speaking
the real wire format, so that the real kubectl works against it (which is
what proves it faithful: tests/e2e/live.sh runs `kubectl get pods -A` and
paging through it).

It serves the objects of a snapshot directory (objects/<resource>.json,
Lists as `kubectl get -A -o json` prints them) the way kube-apiserver
serves them:

  - discovery: /version, /api (APIVersions), /apis (APIGroupList),
    /api/v1 and /apis/<group>/<version> (APIResourceList);
  - lists, cluster-wide and per namespace, with limit/continue (an opaque
    continue token; items in a stable order; the List's
    metadata.resourceVersion; items without apiVersion and kind, as the
    server sends them for built-in types); a single object by name;
  - Status errors (401, 403, 404, 405, 410, 429, 500) as JSON Status
    objects with reason and code;
  - TLS with the certificate and key given, client certificates checked
    against a CA (CERT_OPTIONAL: a client may also use a bearer token);
  - bearer tokens: --token T (repeatable) are accepted; without any token
    and client CA, no authentication is asked for.

Every request is appended to --log as one JSON line: method, path, query,
auth ("token", "cert" or "none"), status, bytes.

Faults, from --faults FILE (JSON, re-read on every request so a test can
change them while the server runs), each an object in a list:
  {"path": "/api/v1/pods", "status": 429, "times": 3, "retry_after": 1}
      the first `times` matching requests get that status (Retry-After on 429/503)
  {"path": "/api/v1/pods", "cut": 2000, "times": 1}
      send only the first 2000 bytes of the body, then close the connection
  {"path": "/api/v1/pods", "sleep": 3.0, "times": 1}
      wait before answering
  {"path": "/api/v1/pods", "expire_continue": true, "times": 1}
      a request with a continue token gets 410 Gone (the token expired)
  {"path": "/apis/apps/v1/deployments", "status": 403}   (times absent: always)
"path" matches the request's path exactly, or as a prefix when it ends in '*'.

--metrics-server also serves metrics.k8s.io/v1beta1 pods (PodMetrics, one
sample per container: the p50 of the snapshot's usage.json).

Usage: kubeapi.py --snapshot DIR --port-file F [--cert C --key K] [--client-ca CA]
                  [--token T]... [--log F] [--faults F] [--page-max N]
"""
import argparse
import base64
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

# resource -> (group, version, kind, namespaced, short names)
RESOURCES = {
    "pods": ("", "v1", "Pod", True, ["po"]),
    "persistentvolumeclaims": ("", "v1", "PersistentVolumeClaim", True, ["pvc"]),
    "persistentvolumes": ("", "v1", "PersistentVolume", False, ["pv"]),
    "services": ("", "v1", "Service", True, ["svc"]),
    "nodes": ("", "v1", "Node", False, ["no"]),
    "namespaces": ("", "v1", "Namespace", False, ["ns"]),
    "secrets": ("", "v1", "Secret", True, []),
    "configmaps": ("", "v1", "ConfigMap", True, ["cm"]),
    "deployments": ("apps", "v1", "Deployment", True, ["deploy"]),
    "replicasets": ("apps", "v1", "ReplicaSet", True, ["rs"]),
    "statefulsets": ("apps", "v1", "StatefulSet", True, ["sts"]),
    "daemonsets": ("apps", "v1", "DaemonSet", True, ["ds"]),
    "jobs": ("batch", "v1", "Job", True, []),
    "cronjobs": ("batch", "v1", "CronJob", True, ["cj"]),
    "endpointslices": ("discovery.k8s.io", "v1", "EndpointSlice", True, []),
    "horizontalpodautoscalers": ("autoscaling", "v2", "HorizontalPodAutoscaler", True, ["hpa"]),
    "storageclasses": ("storage.k8s.io", "v1", "StorageClass", False, ["sc"]),
    "rollouts": ("argoproj.io", "v1alpha1", "Rollout", True, ["ro"]),
    "verticalpodautoscalers": ("autoscaling.k8s.io", "v1", "VerticalPodAutoscaler", True, ["vpa"]),
    # metrics-server's PodMetrics (--metrics-server): the path name is "pods"
    "pods.metrics.k8s.io": ("metrics.k8s.io", "v1beta1", "PodMetrics", True, []),
}
VERBS = ["get", "list", "watch"]


def gv_of(group, version):
    return version if not group else group + "/" + version


def list_items(path):
    """The items of a List file, decoded one at a time: the same objects as
    json.load(f)["items"], without the whole tree at once (a 150,000-pod
    pods.json as one tree takes ~5 GB; its text and one item, ~1 GB)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    dec = json.JSONDecoder()

    def skip(i):  # JSON whitespace
        while i < len(text) and text[i] in " \t\n\r":
            i += 1
        return i

    def expect(i, chars):
        if i >= len(text) or text[i] not in chars:
            raise ValueError("%s: expected %r at offset %d" % (path, chars, i))
        return text[i]

    i = skip(0)
    expect(i, "{")
    i = skip(i + 1)
    if text[i:i + 1] == "}":
        return
    while True:
        key, i = dec.raw_decode(text, i)
        i = skip(i)
        expect(i, ":")
        i = skip(i + 1)
        if key == "items" and text[i:i + 1] == "[":
            i = skip(i + 1)
            if text[i:i + 1] == "]":
                i += 1
            else:
                while True:
                    it, i = dec.raw_decode(text, i)
                    yield it
                    i = skip(i)
                    if expect(i, ",]") == "]":
                        i += 1
                        break
                    i = skip(i + 1)
        else:
            _, i = dec.raw_decode(text, i)
        i = skip(i)
        if expect(i, ",}") == "}":
            return
        i = skip(i + 1)


class Store:
    """The objects, each item serialised once (pages are joins of bytes)."""

    def __init__(self, snapdir, omit=(), metrics=False):
        self.items = {}  # resource -> [(namespace, name, bytes)]
        self.rv = "1000"
        for res, (group, version, kind, namespaced, _) in RESOURCES.items():
            path = os.path.join(snapdir, "objects", res + ".json")
            if res in omit:
                continue
            if not os.path.exists(path):
                if res in ("secrets", "configmaps"):
                    self.items[res] = []
                continue
            out = []
            for it in list_items(path):
                md = it.get("metadata") or {}
                if group not in ("argoproj.io", "autoscaling.k8s.io"):
                    # a built-in type's list items carry neither (kubectl adds them;
                    # a custom resource's items keep theirs)
                    it = {k: v for k, v in it.items() if k not in ("apiVersion", "kind")}
                out.append((md.get("namespace") or "", md.get("name") or "",
                            json.dumps(it, separators=(",", ":")).encode()))
            out.sort(key=lambda t: (t[0], t[1]))
            self.items[res] = out
        if metrics:
            self.items["pods.metrics.k8s.io"] = pod_metrics(snapdir, self.items.get("pods", []))
        self.groups = {}
        for res, (group, version, kind, namespaced, short) in RESOURCES.items():
            if res in self.items or res in ("secrets", "configmaps"):
                self.groups.setdefault(gv_of(group, version), []).append(res)


def pod_metrics(snapdir, pods):
    """metrics-server's answer for the pods that exist: one sample each,
    their usage.json p50 (CPU in nanocores, memory in Ki, as it prints them)."""
    path = os.path.join(snapdir, "usage.json")
    usage = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for c in json.load(f).get("containers") or []:
                usage.setdefault((c["namespace"], c["pod"]), []).append(c)
    out = []
    for ns, name, _ in pods:
        cs = []
        for c in usage.get((ns, name), []):
            cpu = (c.get("cpu_millicores") or {}).get("p50")
            mem = (c.get("memory_bytes") or {}).get("p50")
            if cpu is None or mem is None:
                continue
            cs.append({"name": c["container"], "usage": {"cpu": "%dn" % round(cpu * 1e6),
                                                         "memory": "%dKi" % (int(mem) // 1024)}})
        if cs:
            it = {"metadata": {"name": name, "namespace": ns, "creationTimestamp": "2026-11-25T05:59:30Z"},
                  "timestamp": "2026-11-25T05:59:15Z", "window": "15s", "containers": cs}
            out.append((ns, name, json.dumps(it, separators=(",", ":")).encode()))
    return out


def status_body(code, reason, message):
    return json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": message, "reason": reason, "code": code}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubeapi-fake/1"
    # TCP_NODELAY, as Go's net/http sets it: the headers and the body are
    # written separately, and with Nagle the body would wait for the
    # client's delayed ACK of the headers (~40 ms a request)
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet: the request log is the record
        pass

    # ---- plumbing ----
    def record(self, status, nbytes):
        cfg = self.server.cfg
        if not cfg.log:
            return
        u = urlsplit(self.path)
        line = json.dumps({"method": self.command, "path": u.path, "query": u.query, "auth": self.auth_kind,
                           "status": status, "bytes": nbytes, "ua": self.headers.get("User-Agent", "")})
        with self.server.log_lock:
            with open(cfg.log, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    def send_body(self, status, body, ctype="application/json", extra=None, cut=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.record(status, min(cut, len(body)))
            return
        self.wfile.write(body)
        self.record(status, len(body))

    def status(self, code, reason, message, extra=None):
        self.send_body(code, status_body(code, reason, message), extra=extra)

    def fault(self, path, has_continue):
        """The first matching fault still to fire, consumed."""
        cfg = self.server.cfg
        if not cfg.faults or not os.path.exists(cfg.faults):
            return None
        with self.server.fault_lock:
            try:
                with open(cfg.faults, encoding="utf-8") as f:
                    faults = json.load(f)
            except (OSError, ValueError):
                return None
            for i, ft in enumerate(faults):
                p = ft.get("path", "")
                if not (path == p or (p.endswith("*") and path.startswith(p[:-1]))):
                    continue
                if ft.get("expire_continue") and not has_continue:
                    continue
                key = (i, json.dumps(ft, sort_keys=True))
                n = self.server.fired.get(key, 0)
                if "times" in ft and n >= ft["times"]:
                    continue
                self.server.fired[key] = n + 1
                return ft
        return None

    def authenticate(self):
        cfg = self.server.cfg
        self.auth_kind = "none"
        authz = self.headers.get("Authorization", "")
        if authz.startswith("Bearer "):
            tok = authz[7:].strip()
            if tok in cfg.token:
                self.auth_kind = "token"
                return True
            self.auth_kind = "bad-token"
            return False
        if cfg.client_ca:
            try:
                peer = self.connection.getpeercert()
            except (AttributeError, ValueError):
                peer = None
            if peer:
                self.auth_kind = "cert"
                return True
        return not cfg.token and not cfg.client_ca

    # ---- requests ----
    def do_GET(self):
        self.auth_kind = "none"
        u = urlsplit(self.path)
        path = u.path.rstrip("/") or "/"
        q = parse_qs(u.query)
        if not self.authenticate():
            return self.status(401, "Unauthorized", "Unauthorized")
        ft = self.fault(path, bool(q.get("continue")))
        if ft:
            if ft.get("sleep"):
                time.sleep(float(ft["sleep"]))
            if ft.get("status"):
                extra = {"Retry-After": str(ft["retry_after"])} if "retry_after" in ft else None
                reasons = {403: "Forbidden", 404: "NotFound", 429: "TooManyRequests", 500: "InternalError",
                           503: "ServiceUnavailable", 410: "Expired"}
                return self.status(ft["status"], reasons.get(ft["status"], "Unknown"),
                                   ft.get("message", "injected fault"), extra)
            if ft.get("expire_continue"):
                return self.status(410, "Expired", "The provided continue parameter is too old to display a "
                                   "consistent list result. You can start a new list without the continue "
                                   "parameter.")
        cut = ft.get("cut") if ft else None
        store = self.server.store
        if path == "/version":
            return self.send_body(200, json.dumps({"major": "1", "minor": "30", "gitVersion": "v1.30.0-fake",
                                                   "platform": "linux/amd64"}).encode(), cut=cut)
        if path == "/api":
            return self.send_body(200, json.dumps({"kind": "APIVersions", "versions": ["v1"],
                                                   "serverAddressByClientCIDRs": [
                                                       {"clientCIDR": "0.0.0.0/0",
                                                        "serverAddress": "127.0.0.1:443"}]}).encode(), cut=cut)
        if path == "/apis":
            groups = {}
            for gv in store.groups:
                if "/" in gv:
                    g, v = gv.split("/")
                    groups.setdefault(g, []).append(v)
            body = {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": g + "/" + v, "version": v} for v in vs],
                 "preferredVersion": {"groupVersion": g + "/" + vs[0], "version": vs[0]}}
                for g, vs in sorted(groups.items())]}
            return self.send_body(200, json.dumps(body).encode(), cut=cut)
        parts = [unquote(p) for p in path.split("/") if p]
        # /api/v1[/...] or /apis/G/V[/...]
        if parts[:1] == ["api"] and len(parts) >= 2:
            gv, rest = parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            gv, rest = parts[1] + "/" + parts[2], parts[3:]
        else:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        if gv not in store.groups:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            body = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": [
                {"name": r.split(".")[0], "singularName": RESOURCES[r][2].lower(), "namespaced": RESOURCES[r][3],
                 "kind": RESOURCES[r][2], "verbs": VERBS, "shortNames": RESOURCES[r][4]}
                for r in store.groups[gv]]}
            return self.send_body(200, json.dumps(body).encode(), cut=cut)
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        res = next((k for k in store.groups[gv] if k.split(".")[0] == rest[0]), rest[0])
        if res not in store.groups[gv]:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        items = store.items.get(res, [])
        if ns is not None:
            items = [t for t in items if t[0] == ns]
        group, version, kind, namespaced, _ = RESOURCES[res]
        if len(rest) == 2:  # one object by name
            for t in items:
                if t[1] == rest[1]:
                    obj = json.loads(t[2])
                    obj.setdefault("apiVersion", gv)
                    obj.setdefault("kind", kind)
                    return self.send_body(200, json.dumps(obj).encode(), cut=cut)
            return self.status(404, "NotFound", '%s "%s" not found' % (res, rest[1]))
        limit = int((q.get("limit") or ["0"])[0] or 0)
        if self.server.cfg.page_max and (limit <= 0 or limit > self.server.cfg.page_max):
            limit = self.server.cfg.page_max
        start = 0
        if q.get("continue"):
            try:
                tok = json.loads(base64.urlsafe_b64decode(q["continue"][0].encode()))
                start = int(tok["start"])
                assert tok["rv"] == store.rv and tok["res"] == res
            except Exception:  # noqa: BLE001 - any bad token is the server's 400
                return self.status(400, "BadRequest", "continue key is not valid: incorrect encoded start "
                                   "resourceVersion (version meta.k8s.io/v1)")
        end = len(items) if limit <= 0 else min(len(items), start + limit)
        md = {"resourceVersion": store.rv}
        if end < len(items):
            md["continue"] = base64.urlsafe_b64encode(json.dumps(
                {"v": "meta.k8s.io/v1", "rv": store.rv, "start": end, "res": res}).encode()).decode()
            md["remainingItemCount"] = len(items) - end
        head = json.dumps({"kind": kind + "List", "apiVersion": gv, "metadata": md})[:-1].encode()
        body = head + b',"items":[' + b",".join(t[2] for t in items[start:end]) + b"]}"
        return self.send_body(200, body, cut=cut)

    def refuse(self):
        self.auth_kind = "none"
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.status(405, "MethodNotAllowed", "kopilot's fake API server: only GET is served")

    do_POST = do_PUT = do_PATCH = do_DELETE = refuse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--snapshot", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--client-ca")
    ap.add_argument("--token", action="append", default=[])
    ap.add_argument("--log")
    ap.add_argument("--faults")
    ap.add_argument("--page-max", type=int, default=0)
    ap.add_argument("--omit", action="append", default=[], help="a resource the server does not serve")
    ap.add_argument("--metrics-server", action="store_true",
                    help="serve metrics.k8s.io/v1beta1 PodMetrics from the snapshot's usage.json (p50)")
    cfg = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", cfg.port), Handler)
    srv.daemon_threads = True
    srv.cfg = cfg
    srv.store = Store(cfg.snapshot, cfg.omit, cfg.metrics_server)
    srv.log_lock = threading.Lock()
    srv.fault_lock = threading.Lock()
    srv.fired = {}
    if cfg.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cfg.cert, cfg.key)
        if cfg.client_ca:
            ctx.load_verify_locations(cfg.client_ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(cfg.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(cfg.port_file + ".tmp", cfg.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
