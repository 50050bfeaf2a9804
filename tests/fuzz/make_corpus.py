#!/usr/bin/python3
"""make_corpus.py OUT - writes the fuzzers' seed corpora and the companion
snapshot into OUT, all cut down from examples/demo-cluster (deterministic).

  OUT/companion/objects/*.json, OUT/companion/usage.json
      a small, consistent snapshot (namespaces payments and ml) that
      fuzz_snapshot puts beside the fuzzed file when the input's first byte
      is lower-case, so the analyzers and recommend see findings.
  OUT/corpus/snapshot/   one seed per resource and usage, in both modes
  OUT/corpus/model/      the snapshot seeds but usage (fuzz_model)
  OUT/corpus/redact/     JSON texts with values to redact (fuzz_redact)
  OUT/corpus/quantity/, OUT/corpus/mustache/, OUT/corpus/config/
  OUT/corpus/yamledit/   the demo's manifests (fuzz_yamledit)
"""
import glob
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO = os.path.join(ROOT, "examples", "demo-cluster")

# Order of kp_resource in pipeline/model.h, with the seed letter fuzz_snapshot
# maps to each ('P' is usage.json). Rollouts ('Q') and VerticalPodAutoscalers
# ('R') have no demo file: their seeds are made from deployments.
RESOURCES = ["pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs",
             "persistentvolumeclaims", "persistentvolumes", "services", "endpointslices", "nodes",
             "horizontalpodautoscalers", "namespaces", "storageclasses"]
LETTERS = "ABCDEFGHIJKLMNO"
# Fields no stage reads: dropped to keep files small and executions fast.
BULKY = {"env", "ports", "volumeMounts", "livenessProbe", "readinessProbe", "startupProbe", "managedFields",
         "image", "imagePullPolicy", "terminationMessagePath", "terminationMessagePolicy", "securityContext",
         "tolerations", "affinity", "endpoints", "command", "args", "dnsPolicy", "schedulerName"}
KEEP_NS = ("payments", "ml")


def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in BULKY}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o


def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"), sort_keys=True)


def write_bytes(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    out = sys.argv[1]
    lists = {r: json.load(open(os.path.join(DEMO, "objects", r + ".json"))) for r in RESOURCES}
    usage = json.load(open(os.path.join(DEMO, "usage.json")))

    comp = os.path.join(out, "companion")
    for r, doc in lists.items():
        items = doc["items"]
        if r == "namespaces":
            sel = [i for i in items if i["metadata"]["name"] in KEEP_NS + ("kube-system",)]
        elif r in ("nodes", "storageclasses", "horizontalpodautoscalers", "persistentvolumes"):
            sel = items[:2]
        else:
            sel = [i for i in items if i["metadata"].get("namespace") in KEEP_NS]
        if r == "pods":
            # one pod per owner is enough to map usage to workloads
            seen, one = set(), []
            for i in sel:
                refs = i["metadata"].get("ownerReferences") or [{}]
                key = (i["metadata"]["namespace"], refs[0].get("name"))
                if key not in seen:
                    seen.add(key)
                    one.append(i)
            sel = one
        dump(os.path.join(comp, "objects", r + ".json"), strip(dict(doc, items=sel)))
    cu = [c for c in usage["containers"] if c["namespace"] in KEEP_NS]
    dump(os.path.join(comp, "usage.json"), dict(usage, containers=cu))

    # Seeds: first byte picks the file ('A'+i standalone, 'a'+i with the
    # companion), the rest is the file's text, cut down to three items.
    seeds = os.path.join(out, "corpus", "snapshot")
    for i, r in enumerate(RESOURCES):
        doc = strip(dict(lists[r], items=lists[r]["items"][:3]))
        text = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
        write_bytes(os.path.join(seeds, r), LETTERS[i].encode() + text)
        write_bytes(os.path.join(seeds, r + "-c"), LETTERS[i].lower().encode() + text)
    ro = strip(dict(lists["deployments"], items=lists["deployments"]["items"][:2]))
    for it in ro["items"]:
        it["kind"], it["apiVersion"] = "Rollout", "argoproj.io/v1alpha1"
        it["spec"]["strategy"] = {"canary": {"steps": [{"setWeight": 20}]}}
    text = json.dumps(ro, separators=(",", ":"), sort_keys=True).encode()
    write_bytes(os.path.join(seeds, "rollouts"), b"Q" + text)
    write_bytes(os.path.join(seeds, "rollouts-c"), b"q" + text)
    # VerticalPodAutoscalers ('R'): one updating with a policy, one
    # recommendation-only with bounds, on the companion's workloads
    dep = lists["deployments"]["items"][:2]
    vpas = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
         "metadata": {"name": d["metadata"]["name"], "namespace": d["metadata"]["namespace"]},
         "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": d["metadata"]["name"]},
                  "updatePolicy": {"updateMode": mode},
                  "resourcePolicy": {"containerPolicies": [{"containerName": "*", "controlledResources": ["cpu"],
                                                            "controlledValues": "RequestsOnly"}]}},
         "status": {"recommendation": {"containerRecommendations": [
             {"containerName": c["name"], "lowerBound": {"cpu": "25m", "memory": "262144k"},
              "target": {"cpu": "50m", "memory": "300Mi"}, "upperBound": {"cpu": "1", "memory": "1238659775"}}
             for c in d["spec"]["template"]["spec"]["containers"]]}}}
        for d, mode in zip(dep, ("Auto", "Off"))]}
    text = json.dumps(vpas, separators=(",", ":"), sort_keys=True).encode()
    write_bytes(os.path.join(seeds, "verticalpodautoscalers"), b"R" + text)
    write_bytes(os.path.join(seeds, "verticalpodautoscalers-c"), b"r" + text)
    for mode, pick in (("P", usage["containers"][:3]), ("p", cu[:4])):
        text = json.dumps(dict(usage, containers=pick), separators=(",", ":"), sort_keys=True).encode()
        write_bytes(os.path.join(seeds, "usage-" + ("c" if mode == "p" else "s")), mode.encode() + text)

    # fuzz_model reads the same inputs as fuzz_snapshot (byte 0 picks the list)
    model = os.path.join(out, "corpus", "model")
    for name in os.listdir(seeds):
        if not name.startswith("usage"):
            write_bytes(os.path.join(model, name), open(os.path.join(seeds, name), "rb").read())

    # fuzz_redact: whole JSON texts with what it redacts (env values, Secret
    # data, last-applied-configuration) and what it must keep around them
    red = os.path.join(out, "corpus", "redact")
    for r in ("pods", "deployments", "statefulsets", "nodes"):
        doc = dict(lists[r], items=lists[r]["items"][:2])
        write_bytes(os.path.join(red, r), json.dumps(doc, indent=1, sort_keys=True).encode())
    canary = {"kind": "List", "items": [
        {"kind": "Pod", "metadata": {"name": "p", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": "{\"spec\":{}}\n", "a": "b"}},
         "spec": {"containers": [{"name": "c", "env": [{"name": "K", "value": "AKIAIOSFODNN7EXAMPLE"},
                                                      {"name": "R", "valueFrom": {"secretKeyRef": {"key": "k"}}}],
                                  "envFrom": [{"secretRef": {"name": "s"}}]}],
                  "tolerations": [{"key": "k", "value": "v"}]},
         "data": {"password": "cHc="}, "stringData": {"t": "x"}, "binaryData": {"b": "AA=="}}]}
    write_bytes(os.path.join(red, "canary"), json.dumps(canary).encode())
    write_bytes(os.path.join(red, "escapes"), b'{"\\u0069tems":[{"env":[{"v\\u0061lue":"\\ud83d\\ude00\\n"}]}]}')
    for i, t in enumerate([b"[1,-0.5e+3,true,false,null]", b'"caf\xc3\xa9"', b"[[[[{}]]]]", b"-0", b'{"a":"\\u0000"}']):
        write_bytes(os.path.join(red, "small%02d" % i), t)

    q = os.path.join(out, "corpus", "quantity")
    for i, s in enumerate(["100m", "0.5", "1", "512Mi", "1G", "1e3", "1.5Gi", "12345678901234567890n",
                           "9223372036854775807", "1Ei", "-1", "+.5e-3", "0.000000001", "7E"]):
        write_bytes(os.path.join(q, "q%02d" % i), s.encode())

    m = os.path.join(out, "corpus", "mustache")
    tmpl = open(os.path.join(ROOT, "templates", "report.md.mustache"), "rb").read()
    write_bytes(os.path.join(m, "report"), tmpl)
    for i, t in enumerate([b"{{name}} {{{raw}}} {{& raw}}", b"{{#items}}- {{.}} {{a.b}}\n{{/items}}",
                           b"{{^none}}empty{{/none}}{{! c }}", b"{{#obj}}{{x}}{{#deep}}{{y}}{{/deep}}{{/obj}}",
                           b"{{=<% %>=}}", b"{{#items}}{{#items}}{{.}}{{/items}}{{/items}}"]):
        write_bytes(os.path.join(m, "t%02d" % i), t)

    c = os.path.join(out, "corpus", "config")
    write_bytes(os.path.join(c, "example"), open(os.path.join(ROOT, "examples", "kopilot.yaml"), "rb").read())
    write_bytes(os.path.join(c, "small"), b"prices:\n  cpu_core_hour: 0.05\n  currency: EUR\nrightsizing:\n"
                b"  memory_floor_bytes: 32Mi\n  cpu_percentile: 99\nsafety:\n  protected_namespaces: [a, b]\n")
    write_bytes(os.path.join(c, "anchors"), b"a: &x {b: 1}\nc: *x\n")

    # the manifest editor: the demo's manifests, and the containers renamed
    # to the harness's "app" so the edits reach them
    y = os.path.join(out, "corpus", "yamledit")
    man = os.path.join(ROOT, "examples", "demo-manifests")
    for dirpath, _, files in os.walk(man):
        for f in sorted(files):
            if f.endswith(".yaml"):
                data = open(os.path.join(dirpath, f), "rb").read()
                name = os.path.relpath(os.path.join(dirpath, f), man).replace("/", "_")
                write_bytes(os.path.join(y, name), data)
                write_bytes(os.path.join(y, "app-" + name), data.replace(b"- name: ", b"- name: app\n  x: "))
    write_bytes(os.path.join(y, "plain"), b"kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n"
                b"    resources:\n      requests: {cpu: 1}\n      limits:\n        cpu: 2\n")


main()
