#!/usr/bin/python3
"""
live_pages.py - the request lists of bench/live.sh, from the fake API
server's request log (tests/fakes/kubeapi.py --log: one JSON line a request:
method, path, query, status, bytes, ua). Standard library only.

  live_pages.py curl LOG BASE_URL OUT.cfg [--lists RES,RES...]
      a curl config (`curl -K OUT.cfg`) fetching the requests of LOG, in
      their order, each to /dev/null: every request, or with --lists only
      the list pages (GET .../RES with limit/continue) of those resources,
      in the order given; only the answers 200 (a curl with --fail).
      Prints {"requests", "not_replayed", "bytes", "pages": {res: n}}.
  live_pages.py lists LOG
      the list pages of LOG as {"res": [[limit, continue], ...]} (compared
      by the summarizer with another command's).

A request's "resource" is the last segment of its path (/api/v1/pods ->
pods, /apis/apps/v1/replicasets -> replicasets); a list page is a GET of a
collection path with a limit or continue parameter.
"""
import json
import sys
from urllib.parse import parse_qs

SHORT = {"pvc": "persistentvolumeclaims", "rs": "replicasets", "deploy": "deployments", "po": "pods",
         "no": "nodes"}


def read_log(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def resource_of(r):
    """The listed resource of a list page, or None for any other request."""
    q = parse_qs(r.get("query") or "")
    if "limit" not in q and "continue" not in q:
        return None
    parts = [p for p in r["path"].split("/") if p]
    if parts[:1] == ["api"] and len(parts) in (3, 5):       # /api/v1/R, /api/v1/namespaces/N/R
        return parts[-1]
    if parts[:1] == ["apis"] and len(parts) in (4, 6):      # /apis/G/V/R, /apis/G/V/namespaces/N/R
        return parts[-1]
    return None


def page_key(r):
    q = parse_qs(r.get("query") or "")
    return [(q.get("limit") or [""])[0], (q.get("continue") or [""])[0]]


def main(argv):
    if len(argv) >= 2 and argv[0] == "lists":
        pages = {}
        for r in read_log(argv[1]):
            res = resource_of(r)
            if res:
                pages.setdefault(res, []).append(page_key(r))
        json.dump(pages, sys.stdout)
        print()
        return 0
    if len(argv) >= 4 and argv[0] == "curl":
        log, base, out = argv[1], argv[2].rstrip("/"), argv[3]
        want = None
        if len(argv) == 6 and argv[4] == "--lists":
            want = [SHORT.get(x, x) for x in argv[5].split(",") if x]
        every = read_log(log)
        reqs = [r for r in every if r.get("method") == "GET" and r.get("status") == 200]
        dropped = len(every) - len(reqs)  # not 200 (e.g. a 404 of an optional group): not replayed
        if want is not None:
            reqs = sorted((r for r in reqs if resource_of(r) in want), key=lambda r: want.index(resource_of(r)))
            # each page once (a page fetched again after a fault is not a page)
            seen, uniq = set(), []
            for r in reqs:
                k = (r["path"], r.get("query") or "")
                if k not in seen:
                    seen.add(k)
                    uniq.append(r)
            reqs = uniq
        pages = {}
        with open(out, "w", encoding="utf-8") as f:
            for r in reqs:
                url = base + r["path"] + ("?" + r["query"] if r.get("query") else "")
                if '"' in url or "\\" in url:
                    raise SystemExit("live_pages.py: a URL curl's config cannot quote: %r" % url)
                f.write('url = "%s"\noutput = "/dev/null"\n' % url)
                res = resource_of(r)
                if res:
                    pages[res] = pages.get(res, 0) + 1
        json.dump({"requests": len(reqs), "not_replayed": dropped if want is None else 0, "bytes": sum(r.get("bytes") or 0 for r in reqs), "pages": pages},
                  sys.stdout, sort_keys=True)
        print()
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
