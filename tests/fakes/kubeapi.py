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
    server sends them for built-in types, with them for custom resources);
    a single object by name; fieldSelector=metadata.name=NAME (other
    field and label selectors are ignored);
  - watch on every list path (?watch=1 or watch=true), below;
  - core v1 events (objects/events.json) and kopilot's custom resource
    AITask (kubedevaiops.io/v1alpha1 aitasks, short name ait, namespaced,
    with a status subresource; served when objects/aitasks.json exists,
    even with no items, or with --crd-aitasks), below;
  - Status errors (401, 403, 404, 405, 410, 429, 500) as JSON Status
    objects with reason and code;
  - TLS with the certificate and key given, client certificates checked
    against a CA (CERT_OPTIONAL: a client may also use a bearer token);
  - bearer tokens: --token T (repeatable) are accepted; without any token
    and client CA, no authentication is asked for.

Every request is appended to --log as one JSON line: method, path, query,
auth ("token", "cert" or "none"), status, bytes. A watch is logged when its
stream ends (bytes: the whole stream). The /_test/ controls are not logged.

The store changes (the /_test/ controls, status patches), as etcd does:
there is one global resourceVersion (digits; at start the highest of the
objects' own, at least 1000), every change bumps it and sets the object's
metadata.resourceVersion, and the last --history changes (1000) are kept,
since the start or the last /_test/compact. A List's
metadata.resourceVersion is the current one; the pages of a paged list are
all of the resourceVersion of its first page (the last 16 versions of each
resource's item list are kept; an older continue token gets 410 Expired).

Watch (GET <list path>?watch=1, cluster-wide or per namespace):
  HTTP 200, Content-Type: application/json, Transfer-Encoding: chunked, one
  event a line, each written as it happens:
    {"type": "ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR", "object": {...}}
  (objects with apiVersion and kind, built-in types too);
  - resourceVersion absent or "0": ADDED for every existing object, then the
    changes as they happen; resourceVersion=RV: every change after RV from
    the history, then the changes (RV at or past the current one: only the
    changes to come); RV older than the history: one ERROR event
      {"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},
       "status":"Failure","message":"too old resource version: RV (FLOOR)",
       "reason":"Expired","code":410}}
    and the stream ends (FLOOR: the history starts after it; after
    /_test/compact, the resourceVersion it compacted at);
  - allowWatchBookmarks=true: every --bookmark-interval seconds (1.0)
    {"type":"BOOKMARK","object":{"kind":KIND,"apiVersion":GV,
     "metadata":{"resourceVersion":CURRENT}}} (the watched resource's kind);
  - timeoutSeconds=N: the stream ends cleanly (the chunked body's last
    chunk) after N seconds; without it, it lasts until the client goes away
    or /_test/drop-watches;
  - fieldSelector=metadata.name=NAME (kubectl get NAME --watch): that object's.

Writes: only PATCH /apis/kubedevaiops.io/v1alpha1/namespaces/NS/aitasks/NAME/status
with Content-Type application/merge-patch+json (RFC 7386), authenticated
as a GET is: only status changes (anything else in the patch is ignored,
as the status subresource does), a new resourceVersion and a MODIFIED event,
200 and the object; a patch that changes nothing: 200, no new
resourceVersion, no event; metadata.resourceVersion in the patch other than
the object's: 409 Conflict; an unknown object 404, another patch type 415
UnsupportedMediaType, a body that is not a JSON object 400 (Status objects).
GET of .../aitasks/NAME/status reads the object. Every other POST, PUT,
PATCH and DELETE is 405 MethodNotAllowed, as before.

Test controls under /_test/ (no authentication; not in --log):
  POST   /_test/objects/RESOURCE   a JSON object: create or replace it (by
         namespace and name); 201 (ADDED) or 200 (MODIFIED)
         {"type": T, "resourceVersion": RV, "object": {...}}. A new object
         gets a uid, creationTimestamp and generation 1 unless it has them;
         a replacement keeps uid and creationTimestamp, and its generation
         goes up when anything but metadata and status changed. RESOURCE is
         a served resource's plural (404 otherwise), 400 without
         metadata.name (or metadata.namespace for a namespaced one).
  DELETE /_test/objects/RESOURCE/NS/NAME (cluster-scoped: RESOURCE/NAME)
         200 {"type": "DELETED", "resourceVersion": RV, "object": {...}}, 404
  POST   /_test/compact          forget the history: 200 {"compacted": RV}
  POST   /_test/drop-watches     end every open watch stream now (cleanly):
                                 200 {"dropped": N}
  GET    /_test/watches          200 {"open": N, "resourceVersion": CURRENT,
         "watches": [W...] (the open ones), "recent": [W...] (the last 100
         opened)}, each W {"path", "query", "resource", "namespace", "name",
         "resourceVersion" (as asked, "" when absent), "open", "events"
         (sent), "started" (epoch seconds)}.

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

Served always, without items unless the snapshot has them, as every real
cluster serves them: secrets, configmaps, serviceaccounts, and the RBAC
group's clusterroles and clusterrolebindings (kubectl apply --dry-run=client
of cron/ maps its kinds through discovery).

RBAC, with --rbac FILE (YAML, several documents; what `kubectl kustomize
cron/` renders will do): every request is authorized as kube-apiserver's
RBAC authorizer does it, after authentication (401 first) and before
anything else (faults included), for the user --rbac-user
(system:serviceaccount:kopilot:kopilot). The rules are those of the file's
ClusterRoles a ClusterRoleBinding of the file binds to the user (a
ServiceAccount subject NS/NAME is system:serviceaccount:NS:NAME); a file
without bindings grants every ClusterRole's rules to the user. A request's
attributes are those of the apiserver's RequestInfo: /api/v1/... and
/apis/G/V/... below the group version are resource requests (namespace,
resource, name, subresource); GET of a named object is get, of a collection
list, with watch=true (or 1) watch; POST create, PUT update, PATCH patch,
DELETE delete (deletecollection without a name). Everything else
(/api, /api/v1, /apis, /apis/G, /apis/G/V, /version, /openapi/...) is a
non-resource request, allowed as the built-in system:discovery and
system:public-info-viewer roles allow it to every authenticated user. A
rule matches when its apiGroups, resources ("RES" or "RES/SUB", "*"),
verbs ("*") and resourceNames (when given: named requests only) match.
Denied: 403 with the Status the apiserver sends, e.g.
  {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
   "message":"pods is forbidden: User \"system:serviceaccount:kopilot:kopilot\"
     cannot list resource \"pods\" in API group \"\" at the cluster scope",
   "reason":"Forbidden","details":{"kind":"pods"},"code":403}
Every --log line then also has "attrs" (verb, and for resource requests
group, resource, subresource, namespace, name) and "allowed".

Usage: kubeapi.py --snapshot DIR --port-file F [--cert C --key K] [--client-ca CA]
                  [--token T]... [--log F] [--faults F] [--page-max N]
                  [--omit RES]... [--metrics-server] [--crd-aitasks]
                  [--bookmark-interval S] [--history N]
                  [--rbac FILE [--rbac-user USER]]
"""
import argparse
import base64
import bisect
import json
import os
import select
import socket
import ssl
import sys
import threading
import time
import uuid
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
    "serviceaccounts": ("", "v1", "ServiceAccount", True, ["sa"]),
    "clusterroles": ("rbac.authorization.k8s.io", "v1", "ClusterRole", False, []),
    "clusterrolebindings": ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", False, []),
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
    "events": ("", "v1", "Event", True, ["ev"]),
    # kopilot's own custom resource (served with objects/aitasks.json or --crd-aitasks)
    "aitasks": ("kubedevaiops.io", "v1alpha1", "AITask", True, ["ait"]),
    # metrics-server's PodMetrics (--metrics-server): the path name is "pods"
    "pods.metrics.k8s.io": ("metrics.k8s.io", "v1beta1", "PodMetrics", True, []),
}
VERBS = ["get", "list", "watch"]
# custom resources: their list items keep apiVersion and kind
CUSTOM_GROUPS = ("argoproj.io", "autoscaling.k8s.io", "kubedevaiops.io")
# resource -> (its verbs, its subresources: name -> verbs)
WRITABLE = {"aitasks": (["get", "list", "watch", "patch", "update"], {"status": ["get", "patch", "update"]})}
# resources new with watch: a seeded item without metadata.resourceVersion gets the first one
FILL_RV = ("aitasks", "events")
# served by every cluster: without items when the snapshot has no file
ALWAYS = ("secrets", "configmaps", "serviceaccounts", "clusterroles", "clusterrolebindings")


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


def merge_patch(target, patch):
    """RFC 7386: a JSON merge patch applied to target (neither changed)."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def spec_of(obj):
    """What a change of bumps metadata.generation: all but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def rv_int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


class Watch:
    """One open watch stream: the events still to send it (appended under the
    store's lock), whether the server dropped it, and what it asked for."""

    def __init__(self, res, ns, name, path, query, rv):
        self.res, self.ns, self.name = res, ns, name
        self.path, self.query, self.rv = path, query, rv
        self.q = []
        self.dropped = False
        self.open = True
        self.sent = 0
        self.started = time.time()

    def wants(self, res, ns, name):
        return res == self.res and (self.ns is None or ns == self.ns) and (self.name is None or name == self.name)

    def info(self):
        return {"path": self.path, "query": self.query, "resource": self.res, "namespace": self.ns,
                "name": self.name, "resourceVersion": self.rv, "open": self.open, "events": self.sent,
                "started": round(self.started, 3)}


class Store:
    """The objects, each item serialised once (pages are joins of bytes).

    A change (the /_test/ controls, a status patch) replaces a resource's
    item list with a new one, bumps the global resourceVersion and records
    the change in a bounded history that watches replay; the last few item
    lists of each resource are kept so that a continue token still pages
    the list it started."""

    VERSIONS = 16  # item lists kept per resource for continue tokens

    def __init__(self, snapdir, omit=(), metrics=False, crds=(), history=1000):
        self.items = {}  # resource -> [(namespace, name, bytes)]
        top = 1000
        for res, (group, version, kind, namespaced, _) in RESOURCES.items():
            path = os.path.join(snapdir, "objects", res + ".json")
            if res in omit:
                continue
            if not os.path.exists(path):
                if res in ALWAYS or res in crds:
                    self.items[res] = []
                continue
            out = []
            for it in list_items(path):
                md = it.get("metadata") or {}
                n = rv_int(md.get("resourceVersion"))
                if n is not None and n > top:
                    top = n
                if res in FILL_RV and not md.get("resourceVersion"):
                    it = dict(it, metadata=dict(md, resourceVersion="1000"))
                if group not in CUSTOM_GROUPS:
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
            if res in self.items or res in ALWAYS:
                self.groups.setdefault(gv_of(group, version), []).append(res)
        # the global resourceVersion: no older than any object's
        self.cur = top
        self.floor = top  # the history holds every change after this one
        self.history = []  # (rv, resource, type, namespace, name, object bytes with apiVersion and kind)
        self.history_max = history
        self.versions = {res: [(top, items)] for res, items in self.items.items()}
        self.lock = threading.Condition()
        self.watches = []  # open ones
        self.recent = []  # the last 100 watches opened, open or not

    @property
    def rv(self):
        return str(self.cur)

    def snapshot(self, res):
        """(resourceVersion, items) of a resource, consistent."""
        with self.lock:
            return self.rv, self.items.get(res, [])

    def items_at(self, res, rv):
        """The items of res as they were at rv, or None when no longer kept
        (older than the history, as etcd's compaction expires a continue token)."""
        with self.lock:
            if rv < self.floor:
                return None
            for at, items in reversed(self.versions.get(res, [])):
                if at <= rv:
                    return items
            return None

    @staticmethod
    def full(res, raw):
        """An item's bytes with apiVersion and kind, as a watch event or a GET carries it."""
        group, version, kind, _, _ = RESOURCES[res]
        obj = json.loads(raw)
        if "apiVersion" in obj and "kind" in obj:
            return raw, obj
        obj = dict({"kind": kind, "apiVersion": gv_of(group, version)}, **obj)
        return json.dumps(obj, separators=(",", ":")).encode(), obj

    @staticmethod
    def item_bytes(res, obj):
        if RESOURCES[res][0] not in CUSTOM_GROUPS:
            obj = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        return json.dumps(obj, separators=(",", ":")).encode()

    # ---- changes (under the lock) ----
    def _find(self, res, ns, name):
        items = self.items[res]
        i = bisect.bisect_left(items, (ns, name))
        if i < len(items) and items[i][0] == ns and items[i][1] == name:
            return i
        return None

    def _commit(self, res, items, etype, ns, name, obj):
        """Set res's items, record the change at the new RV and hand it to the watches."""
        self.items[res] = items
        vs = self.versions.setdefault(res, [])
        vs.append((self.cur, items))
        del vs[:-self.VERSIONS]
        raw, _ = self.full(res, json.dumps(obj, separators=(",", ":")).encode())
        self.history.append((self.cur, res, etype, ns, name, raw))
        if len(self.history) > self.history_max:
            drop = len(self.history) - self.history_max
            self.floor = self.history[drop - 1][0]
            del self.history[:drop]
        for w in self.watches:
            if w.wants(res, ns, name):
                w.q.append((etype, raw))
        self.lock.notify_all()

    def put(self, res, obj):
        """Create or replace obj (by namespace/name): (event type, stored object)."""
        group, version, kind, namespaced, _ = RESOURCES[res]
        md = dict(obj.get("metadata") or {})
        ns = (md.get("namespace") or "") if namespaced else ""
        name = md.get("name") or ""
        if not name:
            raise ValueError("metadata.name is required")
        if namespaced and not ns:
            raise ValueError("metadata.namespace is required for %s" % res)
        obj = dict({"apiVersion": gv_of(group, version), "kind": kind}, **obj)
        with self.lock:
            i = self._find(res, ns, name)
            old = json.loads(self.items[res][i][2]) if i is not None else None
            self.cur += 1
            md["resourceVersion"] = self.rv
            if old is None:
                md.setdefault("uid", str(uuid.uuid4()))
                md.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
                md.setdefault("generation", 1)
            else:
                omd = old.get("metadata") or {}
                for k in ("uid", "creationTimestamp"):
                    if k not in md and k in omd:
                        md[k] = omd[k]
                if "generation" not in md and "generation" in omd:
                    # the server bumps it when anything but metadata and status changes
                    md["generation"] = omd["generation"] + (spec_of(old) != spec_of(obj))
            obj["metadata"] = md
            entry = (ns, name, self.item_bytes(res, obj))
            items = list(self.items[res])
            if i is None:
                bisect.insort(items, entry)
            else:
                items[i] = entry
            etype = "ADDED" if old is None else "MODIFIED"
            self._commit(res, items, etype, ns, name, obj)
            return etype, obj

    def delete(self, res, ns, name):
        """Remove an object: the object as deleted (at the new RV), or None."""
        with self.lock:
            i = self._find(res, ns, name)
            if i is None:
                return None
            _, obj = self.full(res, self.items[res][i][2])
            self.cur += 1
            obj["metadata"] = dict(obj.get("metadata") or {}, resourceVersion=self.rv)
            items = self.items[res][:i] + self.items[res][i + 1:]
            self._commit(res, items, "DELETED", ns, name, obj)
            return obj

    def patch_status(self, res, ns, name, patch):
        """A merge patch through the status subresource: only status changes.
        (code, object) or (code, (reason, message))."""
        with self.lock:
            i = self._find(res, ns, name)
            if i is None:
                return 404, ("NotFound", '%s.%s "%s" not found' % (res, RESOURCES[res][0], name))
            _, obj = self.full(res, self.items[res][i][2])
            md = obj.get("metadata") or {}
            want = (patch.get("metadata") or {}).get("resourceVersion") if isinstance(patch.get("metadata"), dict) else None
            if want is not None and want != md.get("resourceVersion"):
                return 409, ("Conflict", 'Operation cannot be fulfilled on %s.%s "%s": the object has been modified; '
                             "please apply your changes to the latest version and try again"
                             % (res, RESOURCES[res][0], name))
            new = merge_patch(obj, patch)
            if new.get("status") == obj.get("status"):
                return 200, obj  # no change: no new resourceVersion, no event
            out = dict(obj)
            if "status" in new:
                out["status"] = new["status"]
            else:
                out.pop("status", None)
            self.cur += 1
            out["metadata"] = dict(md, resourceVersion=self.rv)
            items = list(self.items[res])
            items[i] = (ns, name, self.item_bytes(res, out))
            self._commit(res, items, "MODIFIED", ns, name, out)
            return 200, out

    def compact(self):
        with self.lock:
            self.floor = self.cur
            self.history = []
            return self.rv

    def drop_watches(self):
        with self.lock:
            n = len(self.watches)
            for w in self.watches:
                w.dropped = True
            self.lock.notify_all()
            return n

    # ---- watches ----
    def open_watch(self, w, since):
        """Register w; its first events: ADDED for every object (since None),
        or every change after since. None when since is older than the history."""
        with self.lock:
            if since is None:
                first = []
                for ns, name, raw in self.items.get(w.res, []):
                    if w.wants(w.res, ns, name):
                        first.append(("ADDED", self.full(w.res, raw)[0]))
            elif since < self.floor:
                return None
            else:
                first = [(e[2], e[5]) for e in self.history if e[0] > since and w.wants(e[1], e[3], e[4])]
            w.q = first
            self.watches.append(w)
            self.recent.append(w)
            del self.recent[:-100]
            return True

    def close_watch(self, w):
        with self.lock:
            w.open = False
            if w in self.watches:
                self.watches.remove(w)


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


def status_body_obj(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def status_body(code, reason, message):
    return json.dumps(status_body_obj(code, reason, message)).encode()


# ---- RBAC (--rbac) ----
# the non-resource paths every authenticated user may GET: the built-in
# ClusterRoles system:discovery and system:public-info-viewer
DISCOVERY_URLS = ("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
                  "/readyz", "/version", "/version/")


def request_info(method, path, query):
    """The request's attributes as kube-apiserver's RequestInfoFactory makes
    them: {"verb", "path"} for a non-resource request, else also "group",
    "version", "namespace", "resource", "subresource", "name"."""
    parts = [unquote(p) for p in path.split("/") if p]
    verb = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}.get(method, method.lower())
    info = {"verb": verb, "path": path}
    # /api/V/... and /apis/G/V/... with something below the group version
    if len(parts) < 3 or parts[0] not in ("api", "apis") or (parts[0] == "apis" and len(parts) < 4):
        if method in ("GET", "HEAD"):
            info["verb"] = "get"
        return info
    if parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    else:
        group, version, rest = parts[1], parts[2], parts[3:]
    ns = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        ns = rest[1]
        if len(rest) > 2 and rest[2] not in ("status", "finalize"):
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    q = parse_qs(query)
    if not name and method in ("GET", "HEAD"):
        verb = "watch" if (q.get("watch") or [""])[0] in ("1", "true") else "list"
        for sel in ",".join(q.get("fieldSelector") or []).split(","):
            for pre in ("metadata.name==", "metadata.name="):
                if sel.startswith(pre):
                    name = sel[len(pre):]
                    break
    elif not name and method == "DELETE":
        verb = "deletecollection"
    info.update(verb=verb, group=group, version=version, namespace=ns, resource=resource, subresource=sub,
                name=name)
    return info


class Rbac:
    """The ClusterRole rules --rbac grants the user, and the decisions."""

    def __init__(self, path, user):
        import yaml  # python3-yaml: only this option needs it
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if isinstance(d, dict)]
        roles = {}
        for d in docs:
            if d.get("kind") == "ClusterRole":
                if d.get("aggregationRule"):
                    raise SystemExit("kubeapi.py: --rbac %s: ClusterRole %s: aggregationRule is not supported"
                                     % (path, d["metadata"]["name"]))
                roles[d["metadata"]["name"]] = d.get("rules") or []
        if not roles:
            raise SystemExit("kubeapi.py: --rbac %s: no ClusterRole in the file" % path)
        binds = [d for d in docs if d.get("kind") == "ClusterRoleBinding"]
        self.user = user
        self.roles = []
        if not binds:
            self.roles = sorted(roles)
        for b in binds:
            ref = b.get("roleRef") or {}
            if ref.get("kind") != "ClusterRole" or ref.get("name") not in roles:
                continue
            for sub in b.get("subjects") or []:
                who = sub.get("name")
                if sub.get("kind") == "ServiceAccount":
                    who = "system:serviceaccount:%s:%s" % (sub.get("namespace", ""), sub.get("name"))
                if who == user and ref["name"] not in self.roles:
                    self.roles.append(ref["name"])
        self.rules = [r for n in self.roles for r in roles[n]]

    @staticmethod
    def _has(values, want):
        return "*" in (values or []) or want in (values or [])

    def allows(self, a):
        if "resource" not in a:
            if a["verb"] == "get" and any(a["path"] == u or (u.endswith("*") and a["path"].startswith(u[:-1]))
                                          for u in DISCOVERY_URLS):
                return True
            return any(self._has(r.get("verbs"), a["verb"]) and
                       any(u == a["path"] or (u.endswith("*") and a["path"].startswith(u[:-1]))
                           for u in r.get("nonResourceURLs") or []) for r in self.rules)
        res = a["resource"] + ("/" + a["subresource"] if a["subresource"] else "")
        for r in self.rules:
            if not (self._has(r.get("verbs"), a["verb"]) and self._has(r.get("apiGroups"), a["group"])):
                continue
            rs = r.get("resources") or []
            if not ("*" in rs or res in rs or (a["subresource"] and "*/" + a["subresource"] in rs)
                    or a["resource"] + "/*" in rs):
                continue
            names = r.get("resourceNames") or []
            if names and a["name"] not in names:
                continue
            return True
        return False

    def forbidden(self, a):
        """(message, details) of the apiserver's 403 (responsewriters.forbiddenMessage, errors.NewForbidden)."""
        if "resource" not in a:
            return 'forbidden: User "%s" cannot %s path "%s"' % (self.user, a["verb"], a["path"]), None
        res = a["resource"] + ("/" + a["subresource"] if a["subresource"] else "")
        why = 'User "%s" cannot %s resource "%s" in API group "%s"' % (self.user, a["verb"], res, a["group"])
        why += ' in the namespace "%s"' % a["namespace"] if a["namespace"] else " at the cluster scope"
        qualified = a["resource"] + ("." + a["group"] if a["group"] else "")
        what = '%s "%s"' % (qualified, a["name"]) if a["name"] else qualified
        details = {"name": a["name"], "group": a["group"], "kind": a["resource"]}
        return "%s is forbidden: %s" % (what, why), {k: v for k, v in details.items() if v}


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
        entry = {"method": self.command, "path": u.path, "query": u.query, "auth": self.auth_kind,
                 "status": status, "bytes": nbytes, "ua": self.headers.get("User-Agent", "")}
        if self.server.rbac is not None and getattr(self, "attrs", None) is not None:
            entry["attrs"] = self.attrs
            entry["allowed"] = self.allowed
        self.attrs = None  # a kept-alive connection's next request decides anew
        line = json.dumps(entry)
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

    def authorize(self):
        """--rbac: True when the request may go on; else the 403 is sent."""
        self.attrs, self.allowed = None, None
        rbac = self.server.rbac
        if rbac is None:
            return True
        u = urlsplit(self.path)
        self.attrs = request_info(self.command, u.path.rstrip("/") or "/", u.query)
        self.allowed = rbac.allows(self.attrs)
        if self.allowed:
            return True
        msg, details = rbac.forbidden(self.attrs)
        body = status_body_obj(403, "Forbidden", msg)
        if details:
            body["details"] = details
        body["code"] = body.pop("code")  # last, as the apiserver orders it
        self.send_body(403, json.dumps(body).encode())
        return False

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
        if path.startswith("/_test/"):
            return self.test_control(path)
        if not self.authenticate():
            return self.status(401, "Unauthorized", "Unauthorized")
        if not self.authorize():
            return None
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
            resources = []
            for r in store.groups[gv]:
                verbs, subs = WRITABLE.get(r, (VERBS, {}))
                resources.append({"name": r.split(".")[0], "singularName": RESOURCES[r][2].lower(),
                                  "namespaced": RESOURCES[r][3], "kind": RESOURCES[r][2], "verbs": verbs,
                                  "shortNames": RESOURCES[r][4]})
                for sub, sverbs in subs.items():
                    resources.append({"name": r + "/" + sub, "singularName": "", "namespaced": RESOURCES[r][3],
                                      "kind": RESOURCES[r][2], "verbs": sverbs})
            body = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}
            return self.send_body(200, json.dumps(body).encode(), cut=cut)
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        res = next((k for k in store.groups[gv] if k.split(".")[0] == rest[0]), rest[0])
        if res not in store.groups[gv]:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        group, version, kind, namespaced, _ = RESOURCES[res]
        fname = None  # fieldSelector=metadata.name=NAME (kubectl get NAME --watch); other selectors ignored
        for sel in ",".join(q.get("fieldSelector") or []).split(","):
            if sel.startswith("metadata.name="):
                fname = sel[len("metadata.name="):]
            elif sel.startswith("metadata.name=="):
                fname = sel[len("metadata.name=="):]
        if len(rest) == 1 and (q.get("watch") or [""])[0] in ("1", "true"):
            return self.watch(res, ns, fname, path, u.query, q)
        rv, items = store.snapshot(res)
        if ns is not None:
            items = [t for t in items if t[0] == ns]
        if len(rest) == 3 and rest[2] in WRITABLE.get(res, ((), {}))[1]:
            rest = rest[:2]  # a subresource (status) reads as the object
        if len(rest) == 2:  # one object by name
            for t in items:
                if t[1] == rest[1]:
                    obj = json.loads(t[2])
                    obj.setdefault("apiVersion", gv)
                    obj.setdefault("kind", kind)
                    return self.send_body(200, json.dumps(obj).encode(), cut=cut)
            # "pods", "deployments.apps", "aitasks.kubedevaiops.io", as the server names them
            return self.status(404, "NotFound", '%s "%s" not found' % (res.split(".")[0] + ("." + group if group else ""),
                                                                        rest[1]))
        limit = int((q.get("limit") or ["0"])[0] or 0)
        if self.server.cfg.page_max and (limit <= 0 or limit > self.server.cfg.page_max):
            limit = self.server.cfg.page_max
        start = 0
        if q.get("continue"):
            try:
                tok = json.loads(base64.urlsafe_b64decode(q["continue"][0].encode()))
                start = int(tok["start"])
                assert int(tok["rv"]) <= store.cur and tok["res"] == res
            except Exception:  # noqa: BLE001 - any bad token is the server's 400
                return self.status(400, "BadRequest", "continue key is not valid: incorrect encoded start "
                                   "resourceVersion (version meta.k8s.io/v1)")
            # the pages of a list are of one resourceVersion, the token's
            rv, items = tok["rv"], store.items_at(res, int(tok["rv"]))
            if items is None:
                return self.status(410, "Expired", "The provided continue parameter is too old to display a "
                                   "consistent list result. You can start a new list without the continue "
                                   "parameter.")
            if ns is not None:
                items = [t for t in items if t[0] == ns]
        if fname is not None:
            items = [t for t in items if t[1] == fname]
        end = len(items) if limit <= 0 else min(len(items), start + limit)
        md = {"resourceVersion": rv}
        if end < len(items):
            md["continue"] = base64.urlsafe_b64encode(json.dumps(
                {"v": "meta.k8s.io/v1", "rv": rv, "start": end, "res": res}).encode()).decode()
            md["remainingItemCount"] = len(items) - end
        head = json.dumps({"kind": kind + "List", "apiVersion": gv, "metadata": md})[:-1].encode()
        body = head + b',"items":[' + b",".join(t[2] for t in items[start:end]) + b"]}"
        return self.send_body(200, body, cut=cut)

    # ---- watch ----
    def chunk(self, data):
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        self.wfile.flush()
        return len(data)

    def client_gone(self):
        """A watching client sends nothing: its socket readable means it closed."""
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(r)

    def watch(self, res, ns, name, path, query, q):
        """A watch as kube-apiserver streams it: HTTP 200, chunked, one event a line."""
        store, cfg = self.server.store, self.server.cfg
        group, version, kind, _, _ = RESOURCES[res]
        asked = (q.get("resourceVersion") or [""])[0]
        since = None
        if asked not in ("", "0"):
            since = rv_int(asked)
            if since is None:
                return self.status(400, "BadRequest", 'resourceVersion: Invalid value: "%s": must be a number' % asked)
            if since >= store.cur:
                since = store.cur
        bookmarks = (q.get("allowWatchBookmarks") or [""])[0] in ("1", "true")
        try:
            timeout = float((q.get("timeoutSeconds") or ["0"])[0] or 0)
        except ValueError:
            timeout = 0
        now = time.monotonic()
        deadline = now + timeout if timeout > 0 else None
        every = cfg.bookmark_interval if bookmarks and cfg.bookmark_interval > 0 else None
        next_bm = now + every if every else None
        w = Watch(res, ns, name, path, query, asked)
        ok = store.open_watch(w, since)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        n = 0
        clean = True
        try:
            if not ok:
                err = {"type": "ERROR", "object": json.loads(status_body(
                    410, "Expired", "too old resource version: %s (%d)" % (asked, store.floor)))}
                n += self.chunk(json.dumps(err).encode() + b"\n")
                return
            while True:
                with store.lock:
                    while not w.q and not w.dropped:
                        t = time.monotonic()
                        wait = 0.5
                        if deadline is not None:
                            wait = min(wait, deadline - t)
                        if next_bm is not None:
                            wait = min(wait, next_bm - t)
                        if wait <= 0:
                            break
                        store.lock.wait(wait)
                        if not w.q and self.client_gone():
                            raise ConnectionResetError("the client went away")
                    evs, w.q = w.q, []
                    dropped = w.dropped
                for etype, raw in evs:
                    n += self.chunk(b'{"type":"' + etype.encode() + b'","object":' + raw + b"}\n")
                    w.sent += 1
                if dropped:
                    return
                t = time.monotonic()
                if deadline is not None and t >= deadline:
                    return
                if next_bm is not None and t >= next_bm:
                    bm = {"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": gv_of(group, version),
                                                         "metadata": {"resourceVersion": store.rv}}}
                    n += self.chunk(json.dumps(bm, separators=(",", ":")).encode() + b"\n")
                    next_bm = t + every
        except (OSError, ValueError):  # the client went away (BrokenPipe, reset, TLS)
            clean = False
            self.close_connection = True
        finally:
            store.close_watch(w)
            if clean:
                try:
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (OSError, ValueError):
                    self.close_connection = True
            self.record(200, n)

    # ---- writes: the status subresource ----
    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_PATCH(self):
        self.auth_kind = "none"
        u = urlsplit(self.path)
        parts = [unquote(p) for p in (u.path.rstrip("/") or "/").split("/") if p]
        # /apis/G/V/namespaces/NS/RES/NAME/SUB
        res = None
        if len(parts) == 8 and parts[0] == "apis" and parts[3] == "namespaces":
            gv = parts[1] + "/" + parts[2]
            r, sub = parts[5], parts[7]
            if r in self.server.store.groups.get(gv, []) and sub in WRITABLE.get(r, ((), {}))[1]:
                res, ns, name = r, parts[4], parts[6]
        if res is None:
            return self.refuse()
        body = self.read_body()
        if not self.authenticate():
            return self.status(401, "Unauthorized", "Unauthorized")
        if not self.authorize():
            return None
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/merge-patch+json":
            return self.status(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                               "accepted media types include: application/merge-patch+json")
        try:
            patch = json.loads(body)
            if not isinstance(patch, dict):
                raise ValueError("not an object")
        except ValueError as e:
            return self.status(400, "BadRequest", "error decoding patch: %s" % e)
        code, out = self.server.store.patch_status(res, ns, name, patch)
        if code != 200:
            return self.status(code, out[0], out[1])
        return self.send_body(200, json.dumps(out).encode())

    # ---- /_test/: the tests' controls (no authentication, not in --log) ----
    def test_reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def test_control(self, path):
        store = self.server.store
        body = self.read_body() if self.command in ("POST", "DELETE") else b""
        parts = [unquote(p) for p in path.split("/") if p][1:]
        m = self.command
        if m == "GET" and parts == ["watches"]:
            with store.lock:
                return self.test_reply(200, {"open": len(store.watches), "resourceVersion": store.rv,
                                             "watches": [w.info() for w in store.watches],
                                             "recent": [w.info() for w in store.recent]})
        if m == "POST" and parts == ["compact"]:
            return self.test_reply(200, {"compacted": store.compact()})
        if m == "POST" and parts == ["drop-watches"]:
            return self.test_reply(200, {"dropped": store.drop_watches()})
        if parts[:1] == ["objects"] and len(parts) >= 2:
            res = parts[1]
            if res not in store.items:
                return self.send_body(404, status_body(404, "NotFound", "resource %s is not served" % res))
            if m == "POST" and len(parts) == 2:
                try:
                    obj = json.loads(body)
                    if not isinstance(obj, dict):
                        raise ValueError("not an object")
                    etype, obj = store.put(res, obj)
                except ValueError as e:
                    return self.test_reply(400, status_body_obj(400, "BadRequest", str(e)))
                return self.test_reply(201 if etype == "ADDED" else 200,
                                       {"type": etype, "resourceVersion": store.rv, "object": obj})
            if m == "DELETE" and len(parts) in (3, 4):
                ns, name = (parts[2], parts[3]) if len(parts) == 4 else ("", parts[2])
                obj = store.delete(res, ns, name)
                if obj is None:
                    return self.test_reply(404, status_body_obj(404, "NotFound", '%s "%s" not found' % (res, name)))
                return self.test_reply(200, {"type": "DELETED", "resourceVersion": obj["metadata"]["resourceVersion"],
                                             "object": obj})
        return self.test_reply(404, status_body_obj(404, "NotFound", "no such test control: %s %s" % (m, path)))

    def refuse(self):
        self.auth_kind = "none"
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        # with --rbac, authorization comes first, as in the apiserver: a
        # write the role does not grant is 403, not 405
        if self.server.rbac is not None and self.authenticate() and not self.authorize():
            return None
        self.status(405, "MethodNotAllowed", "kopilot's fake API server: only GET is served")

    def do_POST(self):
        if urlsplit(self.path).path.startswith("/_test/"):
            self.auth_kind = "none"
            return self.test_control(urlsplit(self.path).path.rstrip("/"))
        return self.refuse()

    do_DELETE = do_POST
    do_PUT = refuse


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
    ap.add_argument("--crd-aitasks", action="store_true",
                    help="serve kubedevaiops.io/v1alpha1 aitasks also without objects/aitasks.json (none)")
    ap.add_argument("--bookmark-interval", type=float, default=1.0,
                    help="seconds between BOOKMARK events on a watch with allowWatchBookmarks=true")
    ap.add_argument("--history", type=int, default=1000, help="changes kept for watches from a resourceVersion")
    ap.add_argument("--rbac", help="enforce the ClusterRoles of this YAML file (and its bindings) on every request")
    ap.add_argument("--rbac-user", default="system:serviceaccount:kopilot:kopilot",
                    help="the user every authenticated request is (with --rbac)")
    cfg = ap.parse_args()
    rbac = Rbac(cfg.rbac, cfg.rbac_user) if cfg.rbac else None
    srv = ThreadingHTTPServer(("127.0.0.1", cfg.port), Handler)
    srv.daemon_threads = True
    srv.cfg = cfg
    srv.rbac = rbac
    srv.store = Store(cfg.snapshot, cfg.omit, cfg.metrics_server, ["aitasks"] if cfg.crd_aitasks else [],
                      cfg.history)
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
