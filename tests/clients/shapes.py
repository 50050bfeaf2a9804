#!/usr/bin/python3
"""shapes.py: the shapes of the requests in a fake forge's --log
(tests/fakes/github.py, tests/fakes/gitlab.py): method, path template (the
owner, repository, project, numbers and ids replaced by their names), the
query's keys and the body's keys, each sorted, the set of them sorted. The
test hooks (/_test/...) are left out.

  shapes.py LOG...                   the shapes as JSON, one a line
  shapes.py --within EXPECTED LOG... the shapes of LOG not in EXPECTED (a
                                     file this printed), exit 1 if any:
                                     kopilot's requests against the shapes
                                     the official client sends

tests/clients/expected-github.json and expected-gitlab.json are what
@octokit/rest and @gitbeaker/rest send for kopilot's exchanges
(tests/e2e/forges.sh --update writes them). Standard library only.
"""

import json
import re
import sys
from urllib.parse import parse_qs, urlsplit

RULES = [
    # GitHub: /repos/{owner}/{repo}/(pulls|issues)/{number}/...
    (re.compile(r"^/repos/[^/]+/[^/]+(?=/|$)"), "/repos/{owner}/{repo}"),
    (re.compile(r"(?<=/pulls/)\d+(?=/|$)"), "{number}"),
    (re.compile(r"(?<=/issues/)\d+(?=/|$)"), "{number}"),
    (re.compile(r"(?<=/issues/comments/)\d+(?=/|$)"), "{comment_id}"),
    # GitLab: /api/v4/projects/{id}/merge_requests/{iid}/notes/{note_id}
    (re.compile(r"^/api/v4/projects/[^/]+(?=/|$)"), "/api/v4/projects/{id}"),
    (re.compile(r"(?<=/merge_requests/)\d+(?=/|$)"), "{iid}"),
    (re.compile(r"(?<=/notes/)\d+(?=/|$)"), "{note_id}"),
]


def template(path):
    for rx, to in RULES:
        path = rx.sub(to, path)
    return path


def shapes(logs):
    seen = set()
    for name in logs:
        with open(name, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                u = urlsplit(r["path"])
                if u.path.startswith("/_test/"):
                    continue
                keys = r.get("keys")
                seen.add((r["method"], template(u.path), tuple(sorted(parse_qs(u.query, keep_blank_values=True))),
                          None if keys is None else tuple(sorted(keys))))
    out = [{"method": m, "path": p, "query": list(q), "body": None if b is None else list(b)}
           for m, p, q, b in sorted(seen, key=lambda s: (s[1], s[0], s[2], s[3] or ()))]
    return out


def dump(items):
    return "[\n" + ",\n".join(json.dumps(s) for s in items) + "\n]\n" if items else "[]\n"


def main(argv):
    if len(argv) >= 3 and argv[0] == "--within":
        with open(argv[1], encoding="utf-8") as f:
            allowed = {json.dumps(s, sort_keys=True) for s in json.load(f)}
        extra = [s for s in shapes(argv[2:]) if json.dumps(s, sort_keys=True) not in allowed]
        sys.stdout.write(dump(extra))
        return 1 if extra else 0
    if not argv or argv[0].startswith("-"):
        sys.stderr.write(__doc__)
        return 2
    sys.stdout.write(dump(shapes(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
