#!/usr/bin/python3
"""manifest_check.py - checks of what `kubectl kustomize cron/` renders,
for tests/e2e/deploy.sh. Each command prints what is wrong and exits 1.

  manifest_check.py cronjob RENDERED      the CronJob and its pod as the deploy section promises
  manifest_check.py role RENDERED         the ClusterRole: list/get/watch only, no Secrets, no
                                          wildcard; bound to the CronJob's ServiceAccount
  manifest_check.py ephemeral RENDERED    the state volume is an emptyDir, no claim
  manifest_check.py grants RENDERED LOG [FROM]
                                          every (group, resource, verb) the role grants was
                                          requested in the fake's log (from line FROM), every
                                          resource request was allowed (no 403)
  manifest_check.py drop RENDERED GROUP RESOURCE OUT
                                          RENDERED without that resource in the role
  manifest_check.py add RENDERED GROUP RESOURCE OUT
                                          RENDERED with that resource in the role's first rule of GROUP
  manifest_check.py verb RENDERED VERB OUT
                                          RENDERED with VERB in every rule of the role
  manifest_check.py args RENDERED         the container's kopilot arguments, one a line
"""
import json
import sys

import yaml

WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate", "*"}


def docs(path):
    return [d for d in yaml.safe_load_all(open(path, encoding="utf-8")) if isinstance(d, dict)]


def one(ds, kind, name=None):
    found = [d for d in ds if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)]
    if len(found) != 1:
        sys.exit("want one %s%s, found %d" % (kind, " " + name if name else "", len(found)))
    return found[0]


def pod_of(cj):
    return cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def under(path, mounts):
    """The mount path holds path (the longest match), or None."""
    best = None
    for m in mounts:
        mp = m["mountPath"].rstrip("/")
        if (path == mp or path.startswith(mp + "/")) and (best is None or len(mp) > len(best["mountPath"])):
            best = m
    return best


def cronjob(path):
    ds = docs(path)
    bad = []
    cj = one(ds, "CronJob")
    s, js = cj["spec"], cj["spec"]["jobTemplate"]["spec"]
    pod = pod_of(cj)
    want = {"concurrencyPolicy": "Forbid"}
    for k, v in want.items():
        if s.get(k) != v:
            bad.append("spec.%s is %r, want %r" % (k, s.get(k), v))
    for k in ("schedule", "startingDeadlineSeconds"):
        if k not in s:
            bad.append("spec.%s is missing" % k)
    for k in ("activeDeadlineSeconds", "backoffLimit"):
        if k not in js:
            bad.append("jobTemplate.spec.%s is missing" % k)
    if pod.get("initContainers"):
        bad.append("an init container is left: kopilot collects by itself")
    if pod.get("restartPolicy") != "Never":
        bad.append("restartPolicy is not Never")
    psc = pod.get("securityContext") or {}
    if not psc.get("runAsNonRoot") or not psc.get("runAsUser"):
        bad.append("pod securityContext: runAsNonRoot and a non-zero runAsUser wanted")
    if (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        bad.append("pod securityContext: seccompProfile RuntimeDefault wanted")
    if len(pod["containers"]) != 1:
        bad.append("one container wanted")
    c = pod["containers"][0]
    csc = c.get("securityContext") or {}
    if csc.get("readOnlyRootFilesystem") is not True:
        bad.append("readOnlyRootFilesystem: true wanted")
    if csc.get("allowPrivilegeEscalation") is not False:
        bad.append("allowPrivilegeEscalation: false wanted")
    if (csc.get("capabilities") or {}).get("drop") != ["ALL"]:
        bad.append("capabilities: drop [ALL] wanted")
    res = c.get("resources") or {}
    for k in ("requests", "limits"):
        if "memory" not in (res.get(k) or {}):
            bad.append("resources.%s.memory is missing" % k)
    env = {e["name"]: e for e in c.get("env") or []}
    if (env.get("LOG_FORMAT") or {}).get("value") != "json":
        bad.append("LOG_FORMAT=json wanted")
    for e in env.values():
        ref = (e.get("valueFrom") or {}).get("secretKeyRef")
        if ref is not None and ref.get("optional") is not True:
            bad.append("env %s: the secretKeyRef must be optional (the install works without the Secret)" % e["name"])
    mounts = c.get("volumeMounts") or []
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    for m in mounts:
        if m["name"] not in vols:
            bad.append("volumeMount %s: no such volume" % m["name"])
    # everything kopilot writes is on a mounted, writable volume
    argv = c.get("args") or []
    state = argv[argv.index("--state-dir") + 1] if "--state-dir" in argv else None
    if state is None:
        bad.append("no --state-dir in the args")
    writable = {"HOME": (env.get("HOME") or {}).get("value"), "TMPDIR": (env.get("TMPDIR") or {}).get("value"),
                "XDG_CACHE_HOME": (env.get("XDG_CACHE_HOME") or {}).get("value"), "--state-dir": state}
    for what, p in writable.items():
        m = under(p, mounts) if p else None
        if m is None or m.get("readOnly"):
            bad.append("%s (%s) is not on a writable volume" % (what, p))
        elif what in ("--state-dir", "XDG_CACHE_HOME") and "persistentVolumeClaim" not in vols[m["name"]]:
            bad.append("%s (%s) is not on the PVC (history, LLM cache)" % (what, p))
        elif what in ("HOME", "TMPDIR") and "emptyDir" not in vols[m["name"]]:
            bad.append("%s (%s) is not on an emptyDir" % (what, p))
    sk = (env.get("SKILL_DIRS") or {}).get("value")
    m = under(sk, mounts) if sk else None
    if m is None or "configMap" not in vols[m["name"]]:
        bad.append("SKILL_DIRS (%s) is not a mounted ConfigMap" % sk)
    cfg = argv[argv.index("--config") + 1] if "--config" in argv else None
    m = under(cfg, mounts) if cfg else None
    if m is None or "configMap" not in vols[m["name"]]:
        bad.append("--config (%s) is not in a mounted ConfigMap" % cfg)
    cms = {d["metadata"]["name"] for d in ds if d.get("kind") == "ConfigMap"}
    for v in vols.values():
        if "configMap" in v and v["configMap"]["name"] not in cms and not v["configMap"].get("optional"):
            bad.append("volume %s: ConfigMap %s is not rendered" % (v["name"], v["configMap"]["name"]))
    sa = pod.get("serviceAccountName")
    if not any(d.get("kind") == "ServiceAccount" and d["metadata"]["name"] == sa for d in ds):
        bad.append("serviceAccountName %s is not rendered" % sa)
    return bad


def role_rules(ds):
    return one(ds, "ClusterRole")["rules"]


def role(path):
    ds = docs(path)
    bad = []
    for r in role_rules(ds):
        for k in ("apiGroups", "resources", "verbs"):
            if "*" in (r.get(k) or []):
                bad.append("rule %s: a wildcard in %s" % (json.dumps(r), k))
        if set(r.get("verbs") or []) - {"get", "list", "watch"}:
            bad.append("rule %s: a verb other than get, list, watch" % json.dumps(r))
        if "" in r.get("apiGroups", []) and "secrets" in r.get("resources", []):
            bad.append("rule %s: grants Secrets" % json.dumps(r))
        if r.get("nonResourceURLs"):
            bad.append("rule %s: nonResourceURLs (discovery needs none)" % json.dumps(r))
    crole = one(ds, "ClusterRole")["metadata"]["name"]
    sa = pod_of(one(ds, "CronJob")).get("serviceAccountName")
    ns = one(ds, "CronJob")["metadata"]["namespace"]
    bound = any(b["roleRef"]["name"] == crole and any(
        s.get("kind") == "ServiceAccount" and s.get("name") == sa and s.get("namespace") == ns
        for s in b.get("subjects") or []) for b in ds if b.get("kind") == "ClusterRoleBinding")
    if not bound:
        bad.append("no ClusterRoleBinding binds %s to the CronJob's ServiceAccount %s/%s" % (crole, ns, sa))
    return bad


def ephemeral(path):
    pod = pod_of(one(docs(path), "CronJob"))
    bad = []
    for v in pod["volumes"]:
        if "persistentVolumeClaim" in v:
            bad.append("volume %s is still a claim" % v["name"])
    if not any(v["name"] == "state" and "emptyDir" in v for v in pod["volumes"]):
        bad.append("the state volume is not an emptyDir")
    return bad


def grants(path, log, start=0):
    granted = set()
    for r in role_rules(docs(path)):
        for g in r.get("apiGroups") or []:
            for res in r.get("resources") or []:
                for v in r.get("verbs") or []:
                    granted.add((g, res, v))
    requested, denied = set(), []
    with open(log, encoding="utf-8") as f:
        lines = f.readlines()[int(start):]
    for line in lines:
        e = json.loads(line)
        a = e.get("attrs")
        if a is None:
            return ["log line without attrs (was the fake started with --rbac?): %s" % line.strip()]
        if not e.get("allowed"):
            denied.append("%s %s?%s: %s" % (e["method"], e["path"], e["query"], e["status"]))
        if "resource" in a:
            res = a["resource"] + ("/" + a["subresource"] if a["subresource"] else "")
            requested.add((a["group"], res, a["verb"]))
    bad = ["denied: " + d for d in denied]
    for g, res, v in sorted(granted - requested):
        bad.append("the role grants %s on %s in API group %r, which the run never requested" % (v, res, g))
    if not bad:
        print("%d (group, resource, verb) granted, all requested: %s" % (
            len(granted), ", ".join(sorted({v for _, _, v in requested}))))
    return bad


def drop(path, group, resource, out):
    ds = docs(path)
    for r in role_rules(ds):
        if group in r.get("apiGroups", []) and resource in r.get("resources", []):
            r["resources"] = [x for x in r["resources"] if x != resource]
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump_all(ds, f)
    return []


def add(path, group, resource, out):
    ds = docs(path)
    next(r for r in role_rules(ds) if group in r.get("apiGroups", []))["resources"].append(resource)
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump_all(ds, f)
    return []


def verb(path, v, out):
    ds = docs(path)
    for r in role_rules(ds):
        r["verbs"].append(v)
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump_all(ds, f)
    return []


def args(path):
    c = pod_of(one(docs(path), "CronJob"))["containers"][0]
    for a in c.get("args") or []:
        print(a)
    return []


def main():
    cmd, rest = sys.argv[1], sys.argv[2:]
    bad = {"cronjob": cronjob, "role": role, "ephemeral": ephemeral, "grants": grants, "drop": drop,
           "add": add, "verb": verb, "args": args}[cmd](*rest)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
