#!/usr/bin/python3
"""check.py COMMAND ARGS... - the comparisons tests/e2e/live.sh makes; exit
0 when it holds, else 1 with what differs on stdout.

  findings A.json B.json        same findings: (id, category, resource, savings)
  subset A.json FULL.json       every finding of A is one of FULL (same id, same savings)
  objects LIVE_SNAP COPY_SNAP   LIVE_SNAP/objects/*.json (a live collect) are Lists with
                                apiVersion and kind on the List and on each item, no
                                managedFields anywhere, and the same items as COPY_SNAP's
                                (a snapshot collect of the served objects: redacted the
                                same way) once COPY_SNAP's managedFields are left out
  items FILE N                  FILE is a List of N items, no (namespace, name) twice
  missing FINDINGS RES REGEX    findings.json "missing" has RES with a reason matching REGEX
  auth LOG FROM KIND            the requests of LOG after line FROM: some, all GET, all 200,
                                all authenticated as KIND (token, cert)
  readonly LOG...               every request of every LOG is a GET and no path names secrets
"""
import json
import re
import sys
from urllib.parse import unquote


def load(p):
    with open(p, encoding="utf-8") as f:
        return json.load(f)


def fkey(f):
    return (f["id"], f["category"], json.dumps(f.get("resource"), sort_keys=True),
            json.dumps(f.get("savings"), sort_keys=True))


def findings(a, b):
    fa, fb = sorted(map(fkey, load(a)["findings"])), sorted(map(fkey, load(b)["findings"]))
    if not fa:
        return ["%s has no findings" % a]
    if fa == fb:
        return []
    out = ["%d findings vs %d" % (len(fa), len(fb))]
    out += ["only in %s: %s" % (a, k) for k in fa if k not in fb][:5]
    out += ["only in %s: %s" % (b, k) for k in fb if k not in fa][:5]
    return out


def subset(a, full):
    fa, ff = {fkey(f) for f in load(a)["findings"]}, {fkey(f) for f in load(full)["findings"]}
    return ["a finding the complete run does not have: %s" % (k,) for k in sorted(fa - ff)][:8]


def strip_mf(o):
    if isinstance(o, dict):
        return {k: strip_mf(v) for k, v in o.items() if k != "managedFields"}
    if isinstance(o, list):
        return [strip_mf(v) for v in o]
    return o


def has_key(o, key):
    if isinstance(o, dict):
        return key in o or any(has_key(v, key) for v in o.values())
    if isinstance(o, list):
        return any(has_key(v, key) for v in o)
    return False


def nn(it):
    md = it.get("metadata") or {}
    return (md.get("namespace") or "", md.get("name") or "")


def objects(live, copy):
    import os
    errs = []
    lf = sorted(f for f in os.listdir(live + "/objects") if f.endswith(".json"))
    cf = sorted(f for f in os.listdir(copy + "/objects") if f.endswith(".json"))
    if lf != cf:
        errs.append("files: %s vs %s" % (lf, cf))
    for f in lf:
        if f not in cf:
            continue
        d, c = load(live + "/objects/" + f), load(copy + "/objects/" + f)
        if d.get("kind") != "List" or not d.get("apiVersion"):
            errs.append("%s: the List has apiVersion %r, kind %r" % (f, d.get("apiVersion"), d.get("kind")))
        items = d.get("items")
        if not isinstance(items, list) or not items:
            errs.append("%s: no items" % f)
            continue
        for it in items:
            if not it.get("apiVersion") or not it.get("kind"):
                errs.append("%s: item %s/%s without apiVersion or kind" % ((f,) + nn(it)))
                break
        if has_key(d, "managedFields"):
            errs.append("%s: managedFields left in" % f)
        want = {nn(i): strip_mf(i) for i in c["items"]}
        got = {nn(i): i for i in items}
        if len(got) != len(items):
            errs.append("%s: an item twice" % f)
        if set(got) != set(want):
            errs.append("%s: %d items, the snapshot copy %d" % (f, len(got), len(want)))
        for k in sorted(set(got) & set(want)):
            if got[k] != want[k]:
                diff = [x for x in set(got[k]) | set(want[k]) if got[k].get(x) != want[k].get(x)]
                errs.append("%s: %s/%s differs from the snapshot copy in %s: %s vs %s" % (
                    f, k[0], k[1], diff, json.dumps(got[k].get(diff[0]))[:300],
                    json.dumps(want[k].get(diff[0]))[:300]))
                break
    return errs


def items(path, n):
    d = load(path)
    keys = [nn(i) for i in d.get("items") or []]
    errs = []
    if len(keys) != int(n):
        errs.append("%s: %d items, expected %s" % (path, len(keys), n))
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        errs.append("%s: items twice: %s" % (path, dup[:5]))
    return errs


def missing(path, res, rx):
    m = load(path).get("missing") or []
    for e in m:
        if e.get("resource") == res and re.search(rx, e.get("reason") or ""):
            return []
    return ["no missing entry for %s with a reason matching /%s/; missing: %s" % (res, rx, json.dumps(m)[:800])]


def log_lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def auth(path, start, kind):
    ls = log_lines(path)[int(start):]
    if not ls:
        return ["no request reached the server"]
    bad = [r for r in ls if r["method"] != "GET" or r["status"] != 200 or r["auth"] != kind]
    return ["%s %s?%s: status %s, auth %s (expected 200, %s)" % (r["method"], r["path"], r["query"], r["status"],
                                                                r["auth"], kind) for r in bad][:8]


def readonly(*paths):
    errs, n = [], 0
    for p in paths:
        for r in log_lines(p):
            n += 1
            segs = [unquote(s).lower() for s in r["path"].split("/")]
            if r["method"] != "GET" or "secrets" in segs:
                errs.append("%s: %s %s (%s)" % (p, r["method"], r["path"], r.get("ua", "")))
    if not n:
        errs.append("no request logged at all")
    return errs[:10]


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    errs = {"findings": findings, "subset": subset, "objects": objects, "items": items, "missing": missing,
            "auth": auth, "readonly": readonly}[cmd](*args)
    for e in errs:
        print(e)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
