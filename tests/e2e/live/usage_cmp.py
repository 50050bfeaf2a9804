#!/usr/bin/python3
"""usage_cmp.py GOT EXPECTED [--no-ksm] [--no-throttle]: compares the
usage.json kopilot wrote from Prometheus with the one the series were
generated from (tests/e2e/promgen.py --expect-out), container by container:
CPU percentiles to 0.1 millicore, memory to the byte, samples, first and last
seen, owner, restarts and OOM kills exactly, the throttling ratio to 0.005.
Prints every difference (at most 30) and exits 1 if there is one.

--no-ksm: kube-state-metrics was not there: restarts, oom_kills and the
owners must be absent from GOT. --no-throttle: the same for the ratio.
"""
import json
import sys


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    no_ksm = "--no-ksm" in sys.argv
    no_thr = "--no-throttle" in sys.argv
    got = json.load(open(args[0], encoding="utf-8"))
    exp = json.load(open(args[1], encoding="utf-8"))
    diffs = []
    if got.get("schema") != "kopilot.usage/v1":
        diffs.append("schema: %r" % got.get("schema"))
    for k in ("start", "end"):
        if got["window"].get(k) != exp["window"].get(k):
            diffs.append("window.%s: %s, expected %s" % (k, got["window"].get(k), exp["window"].get(k)))
    if got["window"].get("source") != "prometheus":
        diffs.append("window.source: %r" % got["window"].get("source"))
    key = lambda c: (c["namespace"], c["pod"], c["container"])
    g = {key(c): c for c in got["containers"]}
    e = {key(c): c for c in exp["containers"]}
    for k in sorted(set(e) - set(g)):
        diffs.append("%s/%s/%s: missing" % k)
    for k in sorted(set(g) - set(e)):
        diffs.append("%s/%s/%s: not expected" % k)
    for k in sorted(set(g) & set(e)):
        a, b = g[k], e[k]
        where = "%s/%s/%s" % k

        def same(field, x, y, tol=0.0):
            if x is None or y is None:
                if x is not y:
                    diffs.append("%s: %s = %r, expected %r" % (where, field, x, y))
            elif abs(x - y) > tol:
                diffs.append("%s: %s = %r, expected %r" % (where, field, x, y))

        for q in ("p50", "p95", "p99", "max"):
            same("cpu_millicores." + q, (a.get("cpu_millicores") or {}).get(q),
                 (b.get("cpu_millicores") or {}).get(q), 0.05001)
        for q in ("p50", "max"):
            same("memory_bytes." + q, (a.get("memory_bytes") or {}).get(q), (b.get("memory_bytes") or {}).get(q))
        same("samples", a.get("samples"), b.get("samples"))
        for f in ("first_seen", "last_seen"):
            if a.get(f) != b.get(f):
                diffs.append("%s: %s = %s, expected %s" % (where, f, a.get(f), b.get(f)))
        if no_ksm:
            for f in ("restarts", "oom_kills", "owner"):
                if f in a:
                    diffs.append("%s: %s present without kube-state-metrics" % (where, f))
        else:
            same("restarts", a.get("restarts"), b.get("restarts", 0))
            same("oom_kills", a.get("oom_kills"), b.get("oom_kills", 0))
            if a.get("owner") != b.get("owner"):
                diffs.append("%s: owner = %s, expected %s" % (where, a.get("owner"), b.get("owner")))
        if no_thr:
            if "cpu_throttled_ratio" in a:
                diffs.append("%s: cpu_throttled_ratio present" % where)
        else:
            same("cpu_throttled_ratio", a.get("cpu_throttled_ratio"), b.get("cpu_throttled_ratio"), 0.005)
    for d in diffs[:30]:
        print(d)
    if len(diffs) > 30:
        print("... and %d more" % (len(diffs) - 30))
    print("%d containers compared, %d differences" % (len(set(g) & set(e)), len(diffs)))
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
