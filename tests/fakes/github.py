#!/usr/bin/python3
"""github.py: a fake of the GitHub REST API's pull requests, with state, for
kopilot's pull-request tests. It speaks the parts of the wire format
kopilot uses, as documented at docs.github.com/rest/pulls and
docs.github.com/rest/issues, and as @octokit/rest drives them
(tests/e2e/forges.sh proves that):

  GET   /repos/{owner}/{repo}/pulls?head={owner}:{branch}&state=all|open|closed
        &per_page=N&page=N (newest first; per_page 30 unless given, at most
        100; a Link header names the next and last pages when there are more)
  POST  /repos/{owner}/{repo}/pulls            {title, head, base, body} -> 201
        422 {"message": "Validation Failed", "errors": [{"message":
        "A pull request already exists for owner:branch."}]} when one is open
  GET   /repos/{owner}/{repo}/pulls/{number}
  PATCH /repos/{owner}/{repo}/pulls/{number}   {title, body, state, base}
  POST  /repos/{owner}/{repo}/issues/{number}/labels {labels: [...]} (or a bare
        array) -> 200 the issue's labels
  GET   /repos/{owner}/{repo}/issues/{number}/comments?per_page=N&page=N
  POST  /repos/{owner}/{repo}/issues/{number}/comments {body} -> 201

Every call needs "Authorization: token TOKEN" or "Authorization: Bearer
TOKEN" (the scheme in any case, as GitHub takes it; else 401 {"message":
"Bad credentials"}). An X-GitHub-Api-Version other than a supported one is
a 400, as on GitHub; none means 2022-11-28. --rate-limit-first answers the
first POST of a pull request with 429 and Retry-After: 1 (GitHub's
secondary rate limit). Test hooks (no auth): POST /_test/close/{number}
closes a pull request without merging it, POST /_test/merge/{number} merges
it (closed, merged_at set), POST /_test/lag/N makes the next N lists of
pull requests answer empty (a list behind a create: kopilot's 422 path),
GET /_test/state returns every pull request as
stored (labels as [{name}], its comments under "_comments"). Requests are
logged as JSON lines (method, path, status, the body's keys, the
Authorization scheme and the body's media type), never the token.

  github.py --token TOKEN --port-file FILE [--log FILE] [--rate-limit-first]
            [--login NAME]

Standard library only.
"""

import argparse
import hashlib
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from fakehttp import log_request, read_body, send, serve
from urllib.parse import parse_qs, urlencode, urlsplit

API_VERSIONS = ("2022-11-28", "2026-03-10")
DOCS = "https://docs.github.com/rest"


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--token", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--rate-limit-first", action="store_true")
    ap.add_argument("--login", default="kopilot-bot", help="the token's user")
    a = ap.parse_args()
    lock = threading.Lock()
    state = {"pulls": [], "limited": not a.rate_limit_first, "comment_id": 0}
    logf = open(a.log, "a", encoding="utf-8") if a.log else None
    user = {"login": a.login, "id": 4242, "type": "User", "site_admin": False}

    def label_obj(name, base, owner, repo):
        return {"id": int(hashlib.sha1(name.encode()).hexdigest()[:8], 16), "name": name,
                "url": "%s/repos/%s/%s/labels/%s" % (base, owner, repo, name),
                "color": "ededed", "default": False, "description": None}

    def public(p, base):
        """a pull request as the API shows it: no private fields, labels whole"""
        owner, repo = p["_repo"].split("/", 1)
        out = {k: v for k, v in p.items() if not k.startswith("_")}
        out["url"] = "%s/repos/%s/pulls/%d" % (base, p["_repo"], p["number"])
        out["issue_url"] = "%s/repos/%s/issues/%d" % (base, p["_repo"], p["number"])
        out["comments_url"] = out["issue_url"] + "/comments"
        out["labels"] = [label_obj(x["name"], base, owner, repo) for x in p["labels"]]
        return out

    def public_comment(c, base):
        out = {k: v for k, v in c.items() if not k.startswith("_")}
        out["url"] = "%s/repos/%s/issues/comments/%d" % (base, c["_repo"], c["id"])
        out["issue_url"] = "%s/repos/%s/issues/%d" % (base, c["_repo"], c["_number"])
        return out

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def reply(self, status, obj, extra=()):
            send(self, status, json.dumps(obj).encode(), "application/json; charset=utf-8", extra)
            log_request(logf, self, status, self.auth_scheme, self.ctype)

        def read_body(self):
            return read_body(self)

        def handle_any(self):
            self.json = None
            raw = self.read_body()
            ct = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            self.ctype = ct if raw else None
            authz = (self.headers.get("Authorization") or "").split(None, 1)
            self.auth_scheme = authz[0].lower() if authz else None
            try:
                self.json = json.loads(raw) if raw else None
            except ValueError:
                return self.reply(400, {"message": "Problems parsing JSON", "documentation_url": DOCS})
            base = "http://" + (self.headers.get("Host") or "127.0.0.1")
            u = urlsplit(self.path)
            q = parse_qs(u.query)
            m = re.match(r"^/_test/(close|merge)/(\d+)$", u.path)
            if m and self.command == "POST":
                with lock:
                    for p in state["pulls"]:
                        if p["number"] == int(m.group(2)):
                            p["state"] = "closed"
                            p["closed_at"] = p["updated_at"] = now()
                            if m.group(1) == "merge":
                                p["merged_at"] = p["closed_at"]
                                p["merge_commit_sha"] = hashlib.sha1(p["head"]["ref"].encode()).hexdigest()
                return self.reply(200, {})
            if u.path == "/_test/state":
                return self.reply(200, state["pulls"])
            m = re.match(r"^/_test/lag/(\d+)$", u.path)
            if m and self.command == "POST":
                # the next N lists answer as if nothing were there yet (a
                # list that lags behind a create: another run's, say)
                state["lag"] = int(m.group(1))
                return self.reply(200, {})
            if (len(authz) != 2 or authz[0].lower() not in ("token", "bearer") or authz[1].strip() != a.token):
                return self.reply(401, {"message": "Bad credentials", "documentation_url": DOCS})
            ver = self.headers.get("X-GitHub-Api-Version")
            if ver is not None and ver not in API_VERSIONS:
                return self.reply(400, {"message": "Invalid API version provided: %s" % ver,
                                        "documentation_url": DOCS + "/about-the-rest-api/api-versions"})
            m = re.match(r"^/repos/([^/]+)/([^/]+)/(pulls|issues)(?:/(\d+))?(/labels|/comments)?$", u.path)
            if not m:
                return self.reply(404, {"message": "Not Found", "documentation_url": DOCS})
            owner, repo, kind, num, sub = m.groups()
            full = owner + "/" + repo
            with lock:
                mine = [p for p in state["pulls"] if p["_repo"] == full]
                if kind == "pulls" and num is None and sub is None and self.command == "GET":
                    head = (q.get("head") or [""])[0]
                    st = (q.get("state") or ["open"])[0]
                    if st not in ("open", "closed", "all"):
                        return self.invalid("state", st)
                    out = [p for p in mine if (not head or head == owner + ":" + p["head"]["ref"])
                           and (st == "all" or p["state"] == st)]
                    out = sorted(out, key=lambda p: -p["number"])
                    if state.get("lag"):
                        state["lag"] -= 1
                        out = []
                    return self.page(q, u.path, [public(p, base) for p in out], base)
                if kind == "pulls" and num is None and sub is None and self.command == "POST":
                    if not state["limited"]:
                        state["limited"] = True
                        return self.reply(429, {"message": "You have exceeded a secondary rate limit.",
                                                "documentation_url": DOCS + "/using-the-rest-api/rate-limits-for-the-rest-api"},
                                          [("Retry-After", "1")])
                    b = self.json if isinstance(self.json, dict) else {}
                    for k in ("title", "head", "base"):
                        if not isinstance(b.get(k), str) or not b[k]:
                            return self.reply(422, {"message": "Validation Failed", "errors": [
                                {"resource": "PullRequest", "field": k, "code": "missing_field"}],
                                "documentation_url": DOCS + "/pulls/pulls#create-a-pull-request"})
                    # head may be "owner:branch" (the same repository here)
                    ref = b["head"].split(":", 1)[1] if ":" in b["head"] else b["head"]
                    if any(p["head"]["ref"] == ref and p["base"]["ref"] == b["base"] and p["state"] == "open"
                           for p in mine):
                        return self.reply(422, {"message": "Validation Failed", "errors": [
                            {"resource": "PullRequest", "code": "custom",
                             "message": "A pull request already exists for %s:%s." % (owner, ref)}],
                            "documentation_url": DOCS + "/pulls/pulls#create-a-pull-request"})
                    number = len(state["pulls"]) + 1
                    t = now()
                    sha = hashlib.sha1(("%s:%s" % (full, ref)).encode()).hexdigest()
                    p = {"id": 1000000 + number, "node_id": "PR_fake%d" % number, "number": number,
                         "state": "open", "locked": False, "title": b["title"], "body": b.get("body"),
                         "user": user, "head": {"ref": ref, "label": owner + ":" + ref, "sha": sha,
                                                "repo": {"name": repo, "full_name": full}},
                         "base": {"ref": b["base"], "label": owner + ":" + b["base"],
                                  "repo": {"name": repo, "full_name": full}},
                         "draft": bool(b.get("draft", False)), "merged_at": None, "closed_at": None,
                         "created_at": t, "updated_at": t, "merge_commit_sha": None, "labels": [],
                         "_repo": full, "_edits": 0, "_comments": [],
                         "html_url": "https://github.example/%s/%s/pull/%d" % (owner, repo, number)}
                    state["pulls"].append(p)
                    return self.reply(201, public(p, base))
                pr = next((p for p in mine if num and p["number"] == int(num)), None)
                if not pr:
                    return self.reply(404, {"message": "Not Found", "documentation_url": DOCS})
                if kind == "pulls" and sub is None and self.command == "GET":
                    out = public(pr, base)
                    out["merged"] = pr["merged_at"] is not None
                    return self.reply(200, out)
                if kind == "pulls" and sub is None and self.command == "PATCH":
                    b = self.json if isinstance(self.json, dict) else {}
                    if "state" in b and b["state"] not in ("open", "closed"):
                        return self.invalid("state", b["state"])
                    if b.get("state") == "open" and pr["state"] == "closed":
                        if pr["merged_at"]:
                            return self.reply(422, {"message": "Validation Failed", "errors": [
                                {"resource": "PullRequest", "code": "custom",
                                 "message": "state cannot be changed. The pull request has been merged."}]})
                        if any(p is not pr and p["head"]["ref"] == pr["head"]["ref"] and p["state"] == "open"
                               for p in mine):
                            return self.reply(422, {"message": "Validation Failed", "errors": [
                                {"resource": "PullRequest", "code": "custom", "message":
                                 "A pull request already exists for %s:%s." % (owner, pr["head"]["ref"])}]})
                    was = pr["state"]
                    for k in ("title", "body", "state"):
                        if k in b:
                            pr[k] = b[k]
                    if "base" in b:
                        pr["base"]["ref"] = b["base"]
                    if pr["state"] != was:
                        pr["closed_at"] = now() if pr["state"] == "closed" else None
                    pr["updated_at"] = now()
                    pr["_edits"] += 1
                    return self.reply(200, public(pr, base))
                if kind == "issues" and sub == "/labels" and self.command == "POST":
                    b = self.json
                    names = b.get("labels", []) if isinstance(b, dict) else b if isinstance(b, list) else None
                    if not isinstance(names, list):
                        return self.invalid("labels", b)
                    for name in names:
                        name = name.get("name") if isinstance(name, dict) else name
                        if not isinstance(name, str) or not name:
                            return self.invalid("labels", name)
                        if name not in [x["name"] for x in pr["labels"]]:
                            pr["labels"].append({"name": name})
                    pr["updated_at"] = now()
                    return self.reply(200, [label_obj(x["name"], base, owner, repo) for x in pr["labels"]])
                if kind == "issues" and sub == "/comments" and self.command == "GET":
                    return self.page(q, u.path, [public_comment(c, base) for c in pr["_comments"]], base)
                if kind == "issues" and sub == "/comments" and self.command == "POST":
                    b = self.json if isinstance(self.json, dict) else {}
                    if not isinstance(b.get("body"), str) or not b["body"]:
                        return self.reply(422, {"message": "Validation Failed", "errors": [
                            {"resource": "IssueComment", "field": "body", "code": "missing_field"}],
                            "documentation_url": DOCS + "/issues/comments#create-an-issue-comment"})
                    state["comment_id"] += 1
                    t = now()
                    c = {"id": 2000000 + state["comment_id"], "node_id": "IC_fake%d" % state["comment_id"],
                         "body": b["body"], "user": user, "created_at": t, "updated_at": t,
                         "author_association": "CONTRIBUTOR", "_repo": full, "_number": pr["number"],
                         "html_url": "%s#issuecomment-%d" % (pr["html_url"], 2000000 + state["comment_id"])}
                    pr["_comments"].append(c)
                    return self.reply(201, public_comment(c, base))
            return self.reply(404, {"message": "Not Found", "documentation_url": DOCS})

        def invalid(self, field, value):
            return self.reply(422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "field": field, "code": "invalid", "value": value}],
                "documentation_url": DOCS})

        def page(self, q, path, items, base):
            """one page of a list, with GitHub's Link header when there are more"""
            try:
                per = min(max(int((q.get("per_page") or ["30"])[0]), 1), 100)
                pg = max(int((q.get("page") or ["1"])[0]), 1)
            except ValueError:
                per, pg = 30, 1
            last = max((len(items) + per - 1) // per, 1)
            extra = []
            if last > 1:
                def link(n, rel):
                    qq = {k: v[0] for k, v in q.items()}
                    qq["page"] = str(n)
                    return '<%s%s?%s>; rel="%s"' % (base, path, urlencode(qq), rel)
                rels = []
                if pg > 1:
                    rels += [link(pg - 1, "prev"), link(1, "first")]
                if pg < last:
                    rels += [link(pg + 1, "next"), link(last, "last")]
                extra.append(("Link", ", ".join(rels)))
            return self.reply(200, items[(pg - 1) * per:pg * per], extra)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any

    serve(H, a.port_file)


if __name__ == "__main__":
    sys.exit(main())
