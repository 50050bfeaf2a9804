#!/usr/bin/python3
"""spice.py SRC DST - a copy of snapshot SRC's objects/ in DST/objects/ with
what a real API server sends and a snapshot must not keep: metadata.
managedFields on every item (one pod's large enough to span several reads
of the stream), literal env values and last-applied-configuration
annotations holding them. Every value to redact contains MARK, so a grep
for it finds any leak. Findings do not change (none of it is read by the
rules).
The demo's VerticalPodAutoscalers are served as a custom resource: found by
discovery, their items keeping apiVersion and kind."""
import json
import os
import sys

MARK = "kopilot-e2e-SECRET"


def managed(i, big=False):
    env = {'k:{"name":"DB_PASSWORD"}': {".": {}, "f:name": {}, "f:value": {}}}
    mf = [{"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "v1",
           "time": "2026-10-01T00:00:00Z", "fieldsType": "FieldsV1",
           "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}},
                        "f:spec": {"f:containers": {'k:{"name":"app"}': {"f:env": env}}}}}]
    if big:  # ~600 KB: several curl reads, split anywhere
        mf.append({"manager": "big-controller", "operation": "Apply", "fieldsType": "FieldsV1",
                   "fieldsV1": {"f:status": {"f:k%05d" % n: {"f:value": {}, ".": {}} for n in range(12000)}}})
    return mf


def env_of(i):
    return [{"name": "DB_PASSWORD", "value": "%s-env-%d" % (MARK, i)},
            {"name": "QUOTED", "value": '%s-"quoted" \\ é-%d' % (MARK, i)},
            {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]


def containers(spec):
    return (spec or {}).get("containers") or []


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(dst, "objects"), exist_ok=True)
    for f in sorted(os.listdir(os.path.join(src, "objects"))):
        doc = json.load(open(os.path.join(src, "objects", f), encoding="utf-8"))
        for i, it in enumerate(doc.get("items") or []):
            md = it.setdefault("metadata", {})
            mf = managed(i, big=(f == "pods.json" and i == 5))
            if i % 2:  # first in metadata for some, last for others
                it["metadata"] = md = dict([("managedFields", mf)] + list(md.items()))
            else:
                md["managedFields"] = mf
            if f == "pods.json":
                for c in containers(it.get("spec")):
                    c.setdefault("env", env_of(i))
            if f in ("deployments.json", "statefulsets.json", "daemonsets.json"):
                tspec = ((it.get("spec") or {}).get("template") or {}).get("spec")
                for c in containers(tspec):
                    c.setdefault("env", env_of(i))
                applied = json.dumps({"apiVersion": it.get("apiVersion"), "kind": it.get("kind"),
                                      "metadata": {"name": md.get("name")},
                                      "spec": {"template": {"spec": {"containers": [
                                          {"name": "app", "env": [{"name": "DB_PASSWORD",
                                                                   "value": "%s-applied-%d" % (MARK, i)}]}]}}}})
                md.setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = applied
        with open(os.path.join(dst, "objects", f), "w", encoding="utf-8") as out:
            json.dump(doc, out, indent=2, ensure_ascii=False)
            out.write("\n")


if __name__ == "__main__":
    main()
