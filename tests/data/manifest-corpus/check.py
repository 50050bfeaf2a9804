#!/usr/bin/env python3
"""The checks tests/e2e/corpus.sh runs on one case of the manifest corpus.

    check.py index CASE RUN          pr/index.json and the bodies against expect.json
    check.py norm PATCH              the patch as compared with its golden (stdout)
    check.py semantic CASE BEFORE AFTER
                                     what the manifests mean, before and after the
                                     patches: the only differences are the intended
                                     resource values (and HPA targets)

CASE is the case's directory (findings.json, expect.json, repo/). Messages
go to stdout; the exit status says whether the check passed.
"""
import base64
import email
import json
import os
import re
import subprocess
import sys
from decimal import Decimal

import yaml

MISSING = "<absent>"
KEYS = {("requests", "cpu"): "cpu_request_millicores", ("limits", "cpu"): "cpu_limit_millicores",
        ("requests", "memory"): "memory_request_bytes", ("limits", "memory"): "memory_limit_bytes"}
POD_SPEC = {"CronJob": ("spec", "jobTemplate", "spec", "template", "spec"), "Pod": ("spec",)}
SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
          "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "m": Decimal("0.001")}


def quantity(v):
    """a Kubernetes quantity as a Decimal (cores, bytes), None when it is not one"""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return Decimal(str(v))
    m = re.fullmatch(r"\s*([0-9.]+)([A-Za-z]*)\s*", str(v))
    if not m or (m.group(2) and m.group(2) not in SUFFIX):
        return None
    return Decimal(m.group(1)) * SUFFIX.get(m.group(2), 1)


def same_quantity(got, field, want):
    q = quantity(got)
    if q is None:
        return False
    return q * 1000 == want if field.startswith("cpu") else q == want


def load(p):
    with open(p) as f:
        return json.load(f)


def expectations(case):
    fs = {f["id"]: f for f in load(os.path.join(case, "findings.json"))["findings"]}
    out = []
    for e in load(os.path.join(case, "expect.json"))["findings"]:
        out.append((e, fs[e["id"]]))
    return out


def who(e):
    return f"{e['kind']} {e['namespace']}/{e['name']} container {e['container']}"


# ---------------------------------------------------------------- index

def patch_text(path):
    """the message of an mbox patch, decoded (base64 bodies included)"""
    with open(path, "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw)
    body = msg.get_payload(decode=True) or b""
    return msg, body.decode("utf-8")


def cmd_index(case, run):
    idx = load(os.path.join(run, "pr", "index.json"))
    bad = []
    unl = idx.get("not_located", [])
    prs = {p["group"]: p for p in idx.get("pull_requests", [])}
    edits_per_group = {}
    for e, f in expectations(case):
        ns = e["namespace"]
        mine = [u for u in unl if (u["kind"], u["namespace"], u["name"], u["container"]) ==
                (e["kind"], ns, e["name"], e["container"])]
        if "edited" in e:
            edits_per_group[ns] = edits_per_group.get(ns, 0) + 1
            if mine:
                bad.append(f"{who(e)}: expected an edit of {e['edited']}, not located: {mine[0]['why']}")
                continue
            md = os.path.join(run, "pr", ns + ".md")
            pp = os.path.join(run, "pr", ns + ".patch")
            if ns not in prs or not os.path.exists(pp):
                bad.append(f"{who(e)}: no pull request for group {ns}")
                continue
            row = f"| {e['kind']} {ns}/{e['name']} | {e['container']} | {e['edited']} |"
            if row not in open(md).read():
                rows = [l for l in open(md).read().splitlines() if f"{ns}/{e['name']} | {e['container']} |" in l]
                bad.append(f"{who(e)}: the body of {ns} has no row {row!r}; it has: {rows}")
            _, body = patch_text(pp)
            touched = set(re.findall(r"^diff --git a/(\S+) b/(\S+)", body, re.M))
            touched = {b for _, b in touched}
            for want in [e["edited"]] + e.get("also", []):
                if want not in touched:
                    bad.append(f"{who(e)}: {ns}.patch does not touch {want} (it touches {sorted(touched)})")
        else:
            subs = e["refused"] if isinstance(e["refused"], list) else [e["refused"]]
            if not mine:
                bad.append(f"{who(e)}: expected refused (why mentioning {' or '.join(map(repr, subs))}), "
                           f"but it is not in not_located")
            elif not any(s.lower() in mine[0]["why"].lower() for s in subs):
                bad.append(f"{who(e)}: refused, but the why does not mention {' or '.join(map(repr, subs))}: "
                           f"{mine[0]['why']!r}")
    for g, n in edits_per_group.items():
        if g in prs and prs[g]["changes"] != n:
            bad.append(f"group {g}: {prs[g]['changes']} changes, expected {n}")
    for g in prs:
        if g not in edits_per_group:
            bad.append(f"group {g}: a pull request that expect.json has no edit for")
    expected_refusals = sum(1 for e, _ in expectations(case) if "refused" in e)
    if len(unl) != expected_refusals:
        bad.append(f"not_located has {len(unl)} entries, expected {expected_refusals}: " +
                   "; ".join(f"{u['namespace']}/{u['name']}/{u['container']}: {u['why']}" for u in unl))
    for b in bad:
        print(b)
    return not bad


# ---------------------------------------------------------------- norm

def cmd_norm(path):
    msg, body = patch_text(path)
    for h in ("From", "Subject", "MIME-Version", "Content-Type"):
        print(f"{h}: {msg[h]}")
    body = re.sub(r"^kopilot \d+\.\d+\.\d+\S*$", "kopilot VERSION", body, flags=re.M)
    sys.stdout.write(body.replace("\r", "\\r"))
    return True


# ---------------------------------------------------------------- semantic

def is_template(text):
    return "{{" in text


def kust_file(d):
    for n in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        if os.path.isfile(os.path.join(d, n)):
            return os.path.join(d, n)
    return None


def kust_refs(root, d):
    """(resources that are directories, every file the kustomization reads), relative to root"""
    k = yaml.safe_load(open(kust_file(d))) or {}
    dirs, files = [], [os.path.relpath(kust_file(d), root)]
    for key in ("resources", "bases", "components"):
        for r in k.get(key) or []:
            p = os.path.normpath(os.path.join(d, r))
            if os.path.isdir(p):
                dirs.append(p)
            elif os.path.isfile(p):
                files.append(os.path.relpath(p, root))
    for p in k.get("patchesStrategicMerge") or []:
        if isinstance(p, str) and os.path.isfile(os.path.join(d, p)):
            files.append(os.path.relpath(os.path.normpath(os.path.join(d, p)), root))
    for p in (k.get("patches") or []) + (k.get("patchesJson6902") or []):
        if isinstance(p, dict) and p.get("path"):
            files.append(os.path.relpath(os.path.normpath(os.path.join(d, p["path"])), root))
    return dirs, files


def kust_roots(root):
    ks = []
    for dp, dn, fn in os.walk(root):
        dn[:] = [x for x in dn if not x.startswith(".")]
        if kust_file(dp):
            ks.append(os.path.normpath(dp))
    used = set()
    for d in ks:
        used.update(kust_refs(root, d)[0])
    roots = {}
    for d in sorted(ks):
        if d in used:
            continue
        files, todo, seen = set(), [d], set()
        while todo:
            x = todo.pop()
            if x in seen or not kust_file(x):
                continue
            seen.add(x)
            dirs, fs = kust_refs(root, x)
            files.update(fs)
            todo.extend(dirs)
        roots[os.path.relpath(d, root)] = files
    return roots


def doc_id(d):
    if isinstance(d, dict) and isinstance(d.get("kind"), str) and isinstance(d.get("metadata"), dict):
        return (d["kind"], d["metadata"].get("namespace") or "", d["metadata"].get("name") or "")
    return None


def flatten(x, path=(), out=None):
    if out is None:
        out = {}
    if isinstance(x, dict) and x:
        for k, v in x.items():
            flatten(v, path + (k,), out)
    elif isinstance(x, list) and x:
        names = [e.get("name") for e in x if isinstance(e, dict)]
        by_name = len(names) == len(x) and all(isinstance(n, str) for n in names) and len(set(names)) == len(x)
        for i, v in enumerate(x):
            flatten(v, path + (("name=" + v["name"]) if by_name else i,), out)
    else:
        out[path] = x
    return out


def views(root):
    """{view: {doc key: flattened doc}} and the raw text of files that are not YAML we read"""
    vs, raw = {}, {}
    for dp, dn, fn in os.walk(root):
        dn[:] = [x for x in dn if not x.startswith(".")]
        for n in fn:
            p = os.path.join(dp, n)
            rel = os.path.relpath(p, root)
            if not (n.endswith(".yaml") or n.endswith(".yml")):
                continue
            text = open(p, "rb").read()
            try:
                t = text.decode("utf-8")
                if is_template(t):
                    raise ValueError("template")
                docs = list(yaml.safe_load_all(t))
            except Exception:
                raw[rel] = text
                continue
            v, seen = {}, {}
            for i, d in enumerate(docs):
                if d is None:
                    continue
                k = doc_id(d) or ("doc", str(i), "")
                seen[k] = seen.get(k, 0) + 1
                v[k + (seen[k],)] = flatten(d)
            vs["file " + rel] = v
    for r in kust_roots(root):
        out = subprocess.run(["kubectl", "kustomize", os.path.join(root, r)], capture_output=True, text=True)
        if out.returncode:
            vs["kustomize " + r] = {("error", "", "", 1): {("stderr",): out.stderr.strip()}}
            continue
        v = {}
        for d in yaml.safe_load_all(out.stdout):
            if d is not None:
                v[doc_id(d) + (1,)] = flatten(d)
        vs["kustomize " + r] = v
    return vs, raw


def pod_prefix(kind):
    return POD_SPEC.get(kind, ("spec", "template", "spec"))


def marked_path(root, rel, e):
    """the path of the mapping under the marker comment of a Helm values file"""
    text = open(os.path.join(root, rel)).read()
    marker = f"# kopilot: resources {e['kind']} {e['namespace']}/{e['name']} {e['container']}"
    lines = text.splitlines()
    try:
        at = next(i for i, l in enumerate(lines) if l.strip() == marker) + 1
    except StopIteration:
        return None
    node = yaml.compose(text)

    def walk(n, path):
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                if k.start_mark.line == at:
                    return path + (k.value,)
                r = walk(v, path + (k.value,))
                if r:
                    return r
        return None
    return walk(node, ())


class Rules:
    """what may differ, and what must hold after"""

    def __init__(self, case, before):
        self.allowed = []   # (view, doc key predicate, path, check(value) -> bool, description)
        self.must = []      # (view, doc predicate, path, check, description)
        roots = kust_roots(before)
        for e, f in expectations(case):
            if "edited" not in e:
                continue
            cur, rec = f["current"], f["recommended"]
            wants = {}
            for sk, field in KEYS.items():
                if field in rec:
                    wants[sk] = (field, rec[field], field in cur and cur[field] == rec[field])
                elif field in cur:
                    wants[sk] = (field, None, False)
            E = e["edited"]
            new_file = not os.path.exists(os.path.join(before, E))
            mpath = marked_path(before, E, e) if not new_file else None
            cpath = pod_prefix(e["kind"]) + ("containers", "name=" + e["container"], "resources")
            ipath = pod_prefix(e["kind"]) + ("initContainers", "name=" + e["container"], "resources")

            def obj(kind, name, nss):
                return lambda k: k[0] == kind and k[2] == name and k[1] in nss
            targets = []  # (view, doc predicate, resources paths, full: every key must hold)
            if mpath:
                targets.append(("file " + E, lambda k: k[0] == "doc", [mpath], False))
            else:
                targets.append(("file " + E, obj(e["kind"], e["name"], (e["namespace"], "")), [cpath, ipath], False))
            for r, files in roots.items():
                if E in files or new_file and os.path.dirname(E) == r:
                    # "": the overlay names no namespace (Flux's targetNamespace or -n gives it)
                    targets.append(("kustomize " + r, obj(e["kind"], e["name"], (e["namespace"], "")), [cpath, ipath], True))
            for view, pred, paths, full in targets:
                for (sub, key), (field, want, same) in wants.items():
                    if want is None:
                        chk = (lambda v: v == MISSING)
                        desc = f"{sub}.{key} removed"
                    else:
                        chk = (lambda v, field=field, want=want: same_quantity(v, field, want))
                        desc = f"{sub}.{key} = {want}{'m' if field.startswith('cpu') else ' bytes'}"
                    for p in paths:
                        self.allowed.append((view, pred, p + (sub, key), chk, who(e) + ": " + desc))
                    if not same or full:
                        self.must.append((view, pred, [p + (sub, key) for p in paths], chk, who(e) + ": " + desc))
                if new_file and view == "file " + E:
                    # a new strategic-merge patch: its identity and the container's name
                    for p, v in ((("apiVersion",), f["resource"]["apiVersion"]), (("kind",), e["kind"]),
                                 (("metadata", "name"), e["name"]),
                                 (pod_prefix(e["kind"]) + ("containers", "name=" + e["container"], "name"), e["container"])):
                        self.allowed.append((view, pred, p, lambda x, v=v: x == v, f"{who(e)}: new patch {'.'.join(p)}"))
            for a in e.get("also", []):
                if new_file and os.path.basename(a).startswith("kustomization"):
                    base = os.path.basename(E)
                    self.allowed.append(("file " + a, lambda k: True, ("patches", "*", "path"),
                                         lambda v, base=base: v == base, f"{who(e)}: patches: - path: {base}"))
                    self.must.append(("file " + a, lambda k: True, ["patches-has:" + base], None,
                                      f"{who(e)}: {a} lists {base} under patches"))
            for rc in f.get("related_changes", []):
                rr = rc["resource"]
                ptr = tuple(int(s) if s.isdigit() else s for s in rc["path"].strip("/").split("/"))
                pred = obj(rr["kind"], rr["name"], (rr.get("namespace") or e["namespace"], ""))
                want = rc["recommended"]
                chk = (lambda v, want=want: v == want or quantity(v) == quantity(want))
                d = f"{rr['kind']} {rr['name']} {rc['path']} = {want}"
                self.allowed.append(("*", pred, ptr, chk, d))
                self.must.append(("*", pred, [ptr], chk, d))

    def allows(self, view, k, path, new):
        for v, pred, p, chk, _ in self.allowed:
            if v not in ("*", view) or not pred(k):
                continue
            if len(p) == len(path) and all(a == "*" or a == b for a, b in zip(p, path)) and chk(new):
                return True
        return False


def cmd_semantic(case, before, after):
    vb, rb = views(before)
    va, ra = views(after)
    bad = []
    for rel, text in rb.items():
        if ra.get(rel) != text:
            bad.append(f"{rel}: not YAML kopilot may edit (a template, or unreadable), and it changed")
    for rel in ra:
        if rel not in rb:
            bad.append(f"{rel}: a new file that is not YAML")
    for rel in rb.keys() | {v[5:] for v in vb if v.startswith("file ")}:
        pb, pa = os.path.join(before, rel), os.path.join(after, rel)
        if os.path.exists(pa):
            tb, ta = open(pb, "rb").read(), open(pa, "rb").read()
            crlf_b = tb.count(b"\r\n") == tb.count(b"\n") > 0
            if crlf_b and ta.count(b"\r\n") != ta.count(b"\n"):
                bad.append(f"{rel}: every line ended in CRLF, not after the patches")
            if not crlf_b and b"\r" in ta and b"\r" not in tb:
                bad.append(f"{rel}: CR added to a file with LF line endings")
    rules = Rules(case, before)
    for view in sorted(set(vb) | set(va)):
        if view not in va:
            bad.append(f"{view}: gone after the patches")
            continue
        b, a = vb.get(view, {}), va[view]
        for k in sorted(set(b) | set(a), key=str):
            if k[0] == "error":
                bad.append(f"{view}: kubectl kustomize failed: {(a.get(k) or b.get(k))[('stderr',)]}")
                continue
            db, da = b.get(k, {}), a.get(k, {})
            for p in sorted(set(db) | set(da), key=str):
                o, n = db.get(p, MISSING), da.get(p, MISSING)
                if o == n:
                    continue
                if not rules.allows(view, k, p, n):
                    bad.append(f"{view}: {k[0]} {k[1] + '/' if k[1] else ''}{k[2]}: {'.'.join(map(str, p))}: "
                               f"{o!r} -> {n!r}: not an intended change")
    for view, pred, paths, chk, desc in rules.must:
        vs = [v for v in va if view in ("*", v)]
        found = False
        for v in vs:
            for k, d in va[v].items():
                if not pred(k):
                    continue
                for p in paths:
                    if p.startswith("patches-has:") if isinstance(p, str) else False:
                        base = p.split(":", 1)[1]
                        if any(x[0] == "patches" and x[-1] == "path" and val == base for x, val in d.items()):
                            found = True
                    elif chk(d.get(p, MISSING)) and (d.get(p, MISSING) != MISSING or any(
                            x[:len(p) - 2] == p[:-2] for x in d)):
                        found = True
        if not found:
            bad.append(f"{view}: after the patches, not so: {desc}")
    for b in bad:
        print(b)
    return not bad


def main():
    cmd = sys.argv[1]
    if cmd == "index":
        ok = cmd_index(sys.argv[2], sys.argv[3])
    elif cmd == "norm":
        ok = cmd_norm(sys.argv[2])
    elif cmd == "semantic":
        ok = cmd_semantic(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"check.py: unknown command {cmd}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
