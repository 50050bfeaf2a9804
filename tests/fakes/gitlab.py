#!/usr/bin/python3
"""gitlab.py: a fake of the GitLab REST API (v4) merge requests, with state,
for kopilot's merge-request tests. It speaks the parts of the wire format
kopilot uses, as documented at docs.gitlab.com/api/merge_requests and
docs.gitlab.com/api/notes, and as @gitbeaker/rest drives them
(tests/e2e/forges.sh proves that). :id is a project's numeric id or its
full path URL-encoded (acme%2Fplatform%2Fk8s-manifests, nested groups
allowed; an unencoded path is no route, as on GitLab).

  GET  /api/v4/projects/:id
  GET  /api/v4/projects/:id/merge_requests?source_branch=B&target_branch=B
       &state=opened|closed|locked|merged|all&labels=a,b&order_by=&sort=
       &per_page=N&page=N (all states unless given, newest first; per_page
       20 unless given, at most 100; X-Total, X-Page, X-Next-Page and a Link
       header as GitLab sends them)
  POST /api/v4/projects/:id/merge_requests {source_branch, target_branch,
       title, description, labels: "a,b" or [...]} as JSON or a form -> 201;
       409 {"message": ["Another open merge request already exists for this
       source branch: !IID"]}; 400 {"error": "title is missing"} for a
       missing parameter, {"message": {"title": ["can't be blank"]}} for an
       empty one
  GET  /api/v4/projects/:id/merge_requests/:iid
  PUT  /api/v4/projects/:id/merge_requests/:iid {title, description, labels,
       add_labels, remove_labels, target_branch, state_event: close|reopen}
  GET  /api/v4/projects/:id/merge_requests/:iid/notes?sort=&order_by=&per_page=
       (newest first; closing, reopening, merging and editing the title or
       description add system notes, "system": true, as GitLab does)
  POST /api/v4/projects/:id/merge_requests/:iid/notes {body} -> 201

Every call needs "PRIVATE-TOKEN: TOKEN" or "Authorization: Bearer TOKEN": a
wrong one is 401 {"message": "401 Unauthorized"}; none is a 401 for a write
and, for a read, 404 {"message": "404 Project Not Found"} (the projects are
private). An unknown project is that 404. --project PATH (repeatable) names
the projects that exist, numbered 1, 2, ... in that order; without it every
path with a namespace exists, numbered as first used. --rate-limit-first
answers the first POST of a merge request with 429, Retry-After: 1 and the
RateLimit-* headers, the body "Retry later" as text. Test hooks (no auth):
POST /_test/close/:iid and /_test/merge/:iid (?project=PATH to pick one when
several have that iid), POST /_test/lag/N makes the next N lists of merge
requests answer empty (a list behind a create: kopilot's 409 path),
GET /_test/state returns every merge request as
stored (its notes under "_notes"). Requests are logged as JSON lines
(method, path, status, the body's keys, the auth header used and the body's
media type), never the token.

  gitlab.py --token TOKEN --port-file FILE [--log FILE] [--rate-limit-first]
            [--project PATH]... [--username NAME]

Standard library only.
"""

import argparse
import email.utils
import hashlib
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from fakehttp import log_request, read_body, send, serve
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

WEB = "https://gitlab.example"
STATES = ("opened", "closed", "locked", "merged", "all")
# PUT needs one of these (GitLab's at_least_one_of)
UPDATE_ONE_OF = ("add_labels", "assignee_id", "assignee_ids", "description", "discussion_locked", "labels",
                 "milestone_id", "remove_labels", "remove_source_branch", "reviewer_ids", "squash",
                 "state_event", "target_branch", "title")


def now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


def label_list(v):
    """labels as GitLab takes them: a comma string or an array"""
    if v is None:
        return []
    items = v if isinstance(v, list) else str(v).split(",")
    out = []
    for x in items:
        x = str(x).strip()
        if x and x not in out:
            out.append(x)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--token", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--rate-limit-first", action="store_true")
    ap.add_argument("--project", action="append", default=[], help="a project's full path (repeatable)")
    ap.add_argument("--username", default="kopilot-bot", help="the token's user")
    a = ap.parse_args()
    lock = threading.Lock()
    state = {"mrs": [], "projects": [], "limited": not a.rate_limit_first, "mr_id": 0, "note_id": 0}
    for p in a.project:
        state["projects"].append({"id": len(state["projects"]) + 1, "path": p.strip("/")})
    logf = open(a.log, "a", encoding="utf-8") if a.log else None
    author = {"id": 42, "username": a.username, "name": a.username, "state": "active", "avatar_url": None,
              "web_url": "%s/%s" % (WEB, a.username)}

    def project(ref):
        """the project :id names (numeric or a decoded full path), or None"""
        if ref.isdigit():
            return next((p for p in state["projects"] if p["id"] == int(ref)), None)
        p = next((p for p in state["projects"] if p["path"].lower() == ref.lower()), None)
        if p or a.project:
            return p
        if not re.match(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+$", ref):
            return None
        p = {"id": len(state["projects"]) + 1, "path": ref}
        state["projects"].append(p)
        return p

    def public(mr):
        out = {k: v for k, v in mr.items() if not k.startswith("_")}
        out["labels"] = sorted(mr["labels"])
        out["user_notes_count"] = sum(1 for n in mr["_notes"] if not n["system"])
        out["draft"] = out["work_in_progress"] = bool(re.match(r"^\s*(\[draft\]|\(draft\)|draft:|draft\s-)",
                                                               mr["title"], re.I))
        return out

    def public_note(n):
        return {k: v for k, v in n.items() if not k.startswith("_")}

    def add_note(mr, body, system):
        state["note_id"] += 1
        t = now()
        n = {"id": 5000 + state["note_id"], "type": None, "body": body, "attachment": None, "author": author,
             "created_at": t, "updated_at": t, "system": system, "noteable_id": mr["id"],
             "noteable_type": "MergeRequest", "project_id": mr["project_id"], "noteable_iid": mr["iid"],
             "resolvable": False, "confidential": False, "internal": False}
        mr["_notes"].append(n)
        return n

    def set_state(mr, new):
        t = now()
        if new == "closed":
            mr.update(state="closed", closed_at=t, closed_by=author, updated_at=t)
            add_note(mr, "closed", True)
        elif new == "opened":
            mr.update(state="opened", closed_at=None, closed_by=None, updated_at=t)
            add_note(mr, "reopened", True)
        elif new == "merged":
            mr.update(state="merged", merged_at=t, merged_by=author, merge_user=author, updated_at=t,
                      merge_commit_sha=hashlib.sha1(("merge " + mr["sha"]).encode()).hexdigest())
            add_note(mr, "merged", True)

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def reply(self, status, obj, extra=(), text=None):
            if text is not None:
                body, ctype = text.encode(), "text/plain; charset=utf-8"
            else:
                body, ctype = json.dumps(obj).encode(), "application/json"
            send(self, status, body, ctype, extra)
            log_request(logf, self, status, self.auth_kind, self.ctype)

        def read_body(self):
            return read_body(self)

        def handle_any(self):
            self.json = None
            raw = self.read_body()
            ct = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            self.ctype = ct if raw else None
            u = urlsplit(self.path)
            q = {k: v[-1] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
            # the token: PRIVATE-TOKEN, an OAuth Bearer, or (as GitLab still takes it) ?private_token=
            tok, self.auth_kind = None, None
            authz = (self.headers.get("Authorization") or "").split(None, 1)
            if self.headers.get("PRIVATE-TOKEN") is not None:
                tok, self.auth_kind = self.headers.get("PRIVATE-TOKEN"), "private-token"
            elif len(authz) == 2 and authz[0].lower() == "bearer":
                tok, self.auth_kind = authz[1].strip(), "bearer"
            elif "private_token" in q or "access_token" in q:
                tok = q.pop("private_token", None) or q.pop("access_token", None)
                self.auth_kind = "query"
            if raw and ct == "application/x-www-form-urlencoded":
                self.json = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace"),
                                                           keep_blank_values=True).items()}
            elif raw and ct.startswith("multipart/"):
                return self.reply(415, {"error": "415 Unsupported Media Type"})
            elif raw:
                try:
                    self.json = json.loads(raw)
                except ValueError:
                    return self.reply(400, {"error": "400 Bad request - JSON parse error"})
            base = "http://" + (self.headers.get("Host") or "127.0.0.1")

            m = re.match(r"^/_test/(close|merge)/(\d+)$", u.path)
            if m and self.command == "POST":
                with lock:
                    for mr in state["mrs"]:
                        if mr["iid"] == int(m.group(2)) and (not q.get("project") or
                                                              mr["_project"].lower() == q["project"].lower()):
                            set_state(mr, "closed" if m.group(1) == "close" else "merged")
                return self.reply(200, {})
            if u.path == "/_test/state":
                return self.reply(200, state["mrs"])
            m = re.match(r"^/_test/lag/(\d+)$", u.path)
            if m and self.command == "POST":
                # the next N lists of merge requests answer as if nothing
                # were there yet (a list that lags behind a create)
                state["lag"] = int(m.group(1))
                return self.reply(200, {})

            if tok is not None and tok != a.token:
                return self.reply(401, {"message": "401 Unauthorized"})
            if tok is None and self.command != "GET":
                return self.reply(401, {"message": "401 Unauthorized"})
            m = re.match(r"^/api/v4/projects/([^/]+)(?:/merge_requests(?:/([^/]+)(?:/notes)?)?)?$", u.path)
            if not m:
                return self.reply(404, {"error": "404 Not Found"})
            with lock:
                proj = project(unquote(m.group(1))) if tok is not None else None
                if not proj:
                    return self.reply(404, {"message": "404 Project Not Found"})
                rest = u.path[m.end(1):]
                mine = [mr for mr in state["mrs"] if mr["project_id"] == proj["id"]]
                if rest == "" and self.command == "GET":
                    return self.reply(200, {"id": proj["id"], "path_with_namespace": proj["path"],
                                            "path": proj["path"].rsplit("/", 1)[1],
                                            "name": proj["path"].rsplit("/", 1)[1], "default_branch": "main",
                                            "visibility": "private", "web_url": "%s/%s" % (WEB, proj["path"])})
                if rest == "/merge_requests" and self.command == "GET":
                    if state.get("lag"):
                        state["lag"] -= 1
                        mine = []
                    return self.list_mrs(q, mine, u.path, base)
                if rest == "/merge_requests" and self.command == "POST":
                    return self.create(q, proj, mine)
                iid = m.group(2)
                if rest.endswith("/notes") or rest.count("/") == 2:
                    if not iid.isdigit():
                        return self.reply(400, {"error": "merge_request_iid is invalid"})
                    mr = next((x for x in mine if x["iid"] == int(iid)), None)
                    if not mr:
                        return self.reply(404, {"message": "404 Merge Request Not Found"})
                    if rest.endswith("/notes") and self.command == "GET":
                        err = self.bad_sort(q, ("created_at", "updated_at"))
                        if err:
                            return err
                        notes = sorted(mr["_notes"], key=lambda n: (n[q.get("order_by", "created_at")], n["id"]),
                                       reverse=q.get("sort", "desc") == "desc")
                        return self.page(q, [public_note(n) for n in notes], u.path, base)
                    if rest.endswith("/notes") and self.command == "POST":
                        b = self.params(q)
                        if "body" not in b:
                            return self.reply(400, {"error": "body is missing"})
                        if not str(b["body"]).strip():
                            return self.reply(400, {"message": {"note": ["can't be blank"]}})
                        return self.reply(201, public_note(add_note(mr, str(b["body"]), False)))
                    if not rest.endswith("/notes") and self.command == "GET":
                        return self.reply(200, public(mr))
                    if not rest.endswith("/notes") and self.command == "PUT":
                        return self.update(q, mr, mine)
            return self.reply(404, {"error": "404 Not Found"})

        def params(self, q):
            """Grape's params: the query string's, then the body's over them"""
            b = dict(q)
            if isinstance(self.json, dict):
                b.update(self.json)
            return b

        def bad_sort(self, q, order_by):
            if q.get("sort", "desc") not in ("asc", "desc"):
                return self.reply(400, {"error": "sort does not have a valid value"})
            if q.get("order_by", "created_at") not in order_by:
                return self.reply(400, {"error": "order_by does not have a valid value"})
            for k in ("page", "per_page"):
                if k in q and not re.match(r"^-?\d+$", q[k]):
                    return self.reply(400, {"error": "%s is invalid" % k})
            return None

        def list_mrs(self, q, mine, path, base):
            st = q.get("state", "all")
            if st not in STATES:
                return self.reply(400, {"error": "state does not have a valid value"})
            err = self.bad_sort(q, ("created_at", "updated_at", "title", "merged_at"))
            if err:
                return err
            want = label_list(q.get("labels"))
            out = [mr for mr in mine if (st == "all" or mr["state"] == st)
                   and ("source_branch" not in q or mr["source_branch"] == q["source_branch"])
                   and ("target_branch" not in q or mr["target_branch"] == q["target_branch"])
                   and all(x in mr["labels"] for x in want)]
            key = q.get("order_by", "created_at")
            out.sort(key=lambda mr: (mr[key] or "", mr["id"]), reverse=q.get("sort", "desc") == "desc")
            return self.page(q, [public(mr) for mr in out], path, base)

        def page(self, q, items, path, base):
            """one page, with the headers GitLab's offset pagination sends"""
            per = int(q.get("per_page", "20"))
            per = 20 if per < 1 else min(per, 100)
            pg = max(int(q.get("page", "1")), 1)
            total = len(items)
            last = max((total + per - 1) // per, 1)

            def link(n):
                qq = dict(q)
                qq.update(page=str(n), per_page=str(per))
                return "%s%s?%s" % (base, path, urlencode(qq))
            rels = []
            if pg > 1:
                rels.append('<%s>; rel="prev"' % link(pg - 1))
            if pg < last:
                rels.append('<%s>; rel="next"' % link(pg + 1))
            rels += ['<%s>; rel="first"' % link(1), '<%s>; rel="last"' % link(last)]
            extra = [("X-Page", str(pg)), ("X-Per-Page", str(per)), ("X-Total", str(total)),
                     ("X-Total-Pages", str(last)), ("X-Next-Page", str(pg + 1) if pg < last else ""),
                     ("X-Prev-Page", str(pg - 1) if pg > 1 else ""), ("Link", ", ".join(rels))]
            return self.reply(200, items[(pg - 1) * per:pg * per], extra)

        def create(self, q, proj, mine):
            if not state["limited"]:
                state["limited"] = True
                reset = int(time.time()) + 1
                return self.reply(429, None, [
                    ("Retry-After", "1"), ("RateLimit-Name", "throttle_authenticated_api"),
                    ("RateLimit-Limit", "60"), ("RateLimit-Observed", "61"), ("RateLimit-Remaining", "0"),
                    ("RateLimit-Reset", str(reset)),
                    ("RateLimit-ResetTime", email.utils.formatdate(reset, usegmt=True))], text="Retry later\n")
            b = self.params(q)
            missing = [k for k in ("title", "source_branch", "target_branch") if k not in b or b[k] is None]
            if missing:
                return self.reply(400, {"error": ", ".join(k + " is missing" for k in missing)})
            blank = {k: ["can't be blank"] for k in ("title", "source_branch", "target_branch")
                     if not str(b[k]).strip()}
            if blank:
                return self.reply(400, {"message": blank})
            src, dst = str(b["source_branch"]), str(b["target_branch"])
            if src == dst:
                return self.reply(409, {"message": ["You can't use same project/branch for source and target"]})
            dup = next((x for x in mine if x["state"] == "opened" and x["source_branch"] == src
                        and x["target_branch"] == dst), None)
            if dup:
                return self.reply(409, {"message": [
                    "Another open merge request already exists for this source branch: !%d" % dup["iid"]]})
            state["mr_id"] += 1
            iid = max([x["iid"] for x in mine] + [0]) + 1
            t = now()
            sha = hashlib.sha1(("%s:%s" % (proj["path"], src)).encode()).hexdigest()
            mr = {"id": 9000 + state["mr_id"], "iid": iid, "project_id": proj["id"], "title": str(b["title"]),
                  "description": None if b.get("description") is None else str(b["description"]),
                  "state": "opened", "created_at": t, "updated_at": t, "merged_by": None, "merge_user": None,
                  "merged_at": None, "closed_by": None, "closed_at": None, "target_branch": dst,
                  "source_branch": src, "upvotes": 0, "downvotes": 0, "author": author, "assignees": [],
                  "assignee": None, "reviewers": [], "source_project_id": proj["id"],
                  "target_project_id": proj["id"], "labels": label_list(b.get("labels")), "milestone": None,
                  "merge_when_pipeline_succeeds": False, "merge_status": "can_be_merged",
                  "detailed_merge_status": "mergeable", "sha": sha, "merge_commit_sha": None,
                  "squash_commit_sha": None, "discussion_locked": None, "should_remove_source_branch": None,
                  "force_remove_source_branch": bool(b.get("remove_source_branch") in (True, "true")),
                  "squash": bool(b.get("squash") in (True, "true")), "reference": "!%d" % iid,
                  "references": {"short": "!%d" % iid, "relative": "!%d" % iid,
                                 "full": "%s!%d" % (proj["path"], iid)},
                  "web_url": "%s/%s/-/merge_requests/%d" % (WEB, proj["path"], iid),
                  "has_conflicts": False, "blocking_discussions_resolved": True,
                  "_project": proj["path"], "_notes": []}
            state["mrs"].append(mr)
            return self.reply(201, public(mr))

        def update(self, q, mr, mine):
            b = self.params(q)
            if not any(k in b for k in UPDATE_ONE_OF):
                return self.reply(400, {"error": ", ".join(UPDATE_ONE_OF) +
                                        " are missing, at least one parameter must be provided"})
            for k in ("title", "target_branch"):
                if k in b and not str(b[k]).strip():
                    return self.reply(400, {"error": "%s is empty" % k})
            ev = b.get("state_event")
            if ev is not None and ev not in ("close", "reopen"):
                return self.reply(400, {"error": "state_event does not have a valid value"})
            if ev == "reopen" and mr["state"] == "closed":
                dup = next((x for x in mine if x is not mr and x["state"] == "opened"
                            and x["source_branch"] == mr["source_branch"]
                            and x["target_branch"] == b.get("target_branch", mr["target_branch"])), None)
                if dup:
                    return self.reply(409, {"message": [
                        "Another open merge request already exists for this source branch: !%d" % dup["iid"]]})
            if "title" in b and str(b["title"]) != mr["title"]:
                add_note(mr, "changed title from **%s** to **%s**" % (mr["title"], b["title"]), True)
                mr["title"] = str(b["title"])
            if "description" in b and b["description"] != mr["description"]:
                add_note(mr, "changed the description", True)
                mr["description"] = None if b["description"] is None else str(b["description"])
            if "target_branch" in b:
                mr["target_branch"] = str(b["target_branch"])
            if "labels" in b:
                mr["labels"] = label_list(b["labels"])
            for x in label_list(b.get("add_labels")):
                if x not in mr["labels"]:
                    mr["labels"].append(x)
            rm = label_list(b.get("remove_labels"))
            mr["labels"] = [x for x in mr["labels"] if x not in rm]
            if ev == "close" and mr["state"] == "opened":
                set_state(mr, "closed")
            elif ev == "reopen" and mr["state"] == "closed":
                set_state(mr, "opened")
            mr["updated_at"] = now()
            return self.reply(200, public(mr))

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    serve(H, a.port_file)


if __name__ == "__main__":
    sys.exit(main())
