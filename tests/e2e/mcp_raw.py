#!/usr/bin/python3
"""mcp_raw.py: kopilot mcp --transport stdio on the wire, for what an SDK
client never sends: revision negotiation (2025-11-25, 2025-06-18,
2025-03-26 and one the server does not speak), JSON-RPC batches (only in
2025-03-26), malformed lines, requests before initialize, unknown methods,
an oversized message, stdout that carries nothing but JSON-RPC, SIGTERM
with a call running, and the Secret canary: a snapshot with a Secret, an
env value and a last-applied annotation holding a canary, every tool
called (ask with a model that asks for the Secret), and the canary in no
reply and in nothing sent to the model.

  mcp_raw.py KOPILOT SNAPSHOT NOW WORKDIR LLM_LOG SLOW_MARKER

(the environment points LLM_PROVIDER at tests/fakes/llm.py, which logs
every request it receives to LLM_LOG)

Prints "ok - ..." / "not ok - ..." lines and "mcp-raw: N passed, N failed".
"""
import base64
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

KOPILOT, SNAPSHOT, NOW, WORK, LLM_LOG, SLOW = sys.argv[1:7]
passed = failed = 0


def check(name, cond, why=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name}")
        for line in str(why).splitlines()[:12]:
            print(f"#   {line}")


class Server:
    def __init__(self, snapshot=SNAPSHOT, env=None, args=()):
        self.lines = []  # every stdout line, raw
        self.p = subprocess.Popen(
            [KOPILOT, "mcp", "--transport", "stdio", "--snapshot", snapshot, "--now", NOW,
             "--set", "llm.explain=false", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or os.environ.copy())
        self.buf = b""
        self.next_id = 100

    def send_raw(self, data: bytes):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, msg):
        self.send_raw(json.dumps(msg).encode() + b"\n")

    def read(self, timeout=30):
        """the next message, or None at the timeout"""
        end = time.time() + timeout
        while b"\n" not in self.buf:
            left = end - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if not r:
                return None
            chunk = os.read(self.p.stdout.fileno(), 1 << 20)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        self.lines.append(line)
        return json.loads(line)

    def request(self, method, params=None, timeout=60):
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        while True:
            r = self.read(timeout)
            if r is None or r.get("id") == self.next_id:
                return r

    def initialize(self, version="2025-11-25"):
        r = self.request("initialize", {"protocolVersion": version, "capabilities": {},
                                        "clientInfo": {"name": "mcp_raw", "version": "1"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return r

    def call(self, name, arguments=None, timeout=120):
        return self.request("tools/call", {"name": name, "arguments": arguments or {}}, timeout)

    def close(self, timeout=10):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = None
        rest = self.p.stdout.read()
        self.lines += [line for line in (self.buf + rest).split(b"\n") if line]
        self.stderr = self.p.stderr.read().decode(errors="replace")
        if "Sanitizer" in self.stderr or "runtime error:" in self.stderr:
            check("no sanitizer report on a server's stderr (make asan)", False, self.stderr[-1500:])
        return rc


# ---- revisions
for asked, want in [("2025-11-25", "2025-11-25"), ("2025-06-18", "2025-06-18"), ("2025-03-26", "2025-03-26"),
                    ("2024-11-05", "2025-11-25")]:
    s = Server()
    r = s.initialize(asked)
    got = r and r.get("result", {}).get("protocolVersion")
    check(f"initialize asking {asked}: the server answers {want}", got == want, r)
    tl = s.request("tools/list")
    tools = tl["result"]["tools"] if tl and "result" in tl else []
    has_out = all("outputSchema" in t for t in tools)
    has_title = all("title" in t for t in tools)
    if want == "2025-03-26":
        check("2025-03-26: tools without outputSchema and title (not in that revision), annotations kept",
              tools and not any("outputSchema" in t or "title" in t for t in tools)
              and all(t["annotations"]["readOnlyHint"] for t in tools), tools[:1])
        r = s.call("list_skills")
        check("2025-03-26: a result without structuredContent, its JSON as text",
              r and "structuredContent" not in r["result"] and json.loads(r["result"]["content"][0]["text"])["skills"], r)
        s.send([{"jsonrpc": "2.0", "id": "a", "method": "ping"},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": "b", "method": "tools/call", "params": {"name": "list_skills"}},
                {"jsonrpc": "2.0", "id": "c", "method": "nope"}])
        r = s.read()
        ids = sorted(x.get("id") for x in r) if isinstance(r, list) else r
        check("2025-03-26: a batch is answered by one array (notifications unanswered)", ids == ["a", "b", "c"], r)
        s.send([])
        r = s.read()
        check("2025-03-26: an empty batch is an invalid request", r and r.get("error", {}).get("code") == -32600, r)
    else:
        check(f"{want}: tools with outputSchema and title", tools and has_out and has_title, tools[:1])
        s.send([{"jsonrpc": "2.0", "id": 1, "method": "ping"}])
        r = s.read()
        check(f"{want}: a batch is refused (-32600): batches left MCP after 2025-03-26",
              r and r.get("error", {}).get("code") == -32600 and r.get("id") is None, r)
    rc = s.close()
    check(f"{asked}: exit 0 at the end of input", rc == 0, (rc, s.stderr[-400:]))

# ---- malformed and out-of-order messages
s = Server()
r = s.request("tools/list")
check("tools/list before initialize: -32600", r and r.get("error", {}).get("code") == -32600, r)
r = s.request("ping")
check("ping before initialize: answered", r and r.get("result") == {}, r)
r = s.request("initialize", {"capabilities": {}})
check("initialize without protocolVersion: -32602", r and r.get("error", {}).get("code") == -32602, r)
s.initialize()
r = s.initialize()
check("a second initialize: refused", r and r.get("error", {}).get("code") == -32600, r)
s.send_raw(b'{"jsonrpc": "2.0", "id": 7, "method": \n')
r = s.read()
check("a cut message: parse error -32700 with id null", r and r.get("error", {}).get("code") == -32700 and r["id"] is None, r)
r = s.read(0.5)  # the second half of the cut line is a line of its own
s.send_raw(b"42\n")
r = s.read()
check("a message that is not an object: -32600", r and r.get("error", {}).get("code") == -32600, r)
r = s.request("tools/list", None)
check("still answering after bad lines", r and "result" in r, r)
s.send({"jsonrpc": "1.0", "id": 9, "method": "ping"})
r = s.read()
check("jsonrpc 1.0: -32600", r and r.get("error", {}).get("code") == -32600, r)
r = s.request("resources/list")
check("an unknown method: -32601", r and r.get("error", {}).get("code") == -32601, r)
s.send({"jsonrpc": "2.0", "id": 5, "result": {}})  # a response: we sent no request, nothing to say
s.send({"jsonrpc": "2.0", "method": "notifications/whatever"})
r = s.request("ping")
check("a stray response and an unknown notification get no reply", r and r.get("result") == {} and r["id"] == s.next_id, r)
s.send_raw(b'{"jsonrpc":"2.0","id":"big","method":"ping","params":{"x":"' + b"a" * (9 << 20) + b'"}}\n')
r = s.read()
check("a 9 MiB message: parse error, skipped", r and r.get("error", {}).get("code") == -32700 and "8 MiB" in r["error"]["message"], r)
r = s.request("ping")
check("answering after the oversized message", r and r.get("result") == {}, r)
r = s.call("find_waste", {"limit": 1})
check("find_waste on the degraded demo: a result (the run warned on its stderr)", r and not r["result"].get("isError"), r)
rc = s.close()
bad = [line for line in s.lines if not line.strip().startswith(b"{") or not json.loads(line).get("jsonrpc")]
check("every stdout line is one JSON-RPC message", rc == 0 and not bad and len(s.lines) >= 10, bad[:3])
check("the logs went to stderr", "mcp: find_waste ok" in s.stderr, s.stderr[-500:])

# ---- SIGTERM with a call running: the call's child stopped, exit 0
env = os.environ.copy()
s = Server(env=env)
s.initialize()
s.send({"jsonrpc": "2.0", "id": "slow", "method": "tools/call",
        "params": {"name": "ask", "arguments": {"question": SLOW + " are there idle workloads?"}}})
time.sleep(1.5)
kids = subprocess.run(["pgrep", "-P", str(s.p.pid)], capture_output=True, text=True).stdout.split()
check("the slow ask runs as a child process", len(kids) == 1, kids)
t0 = time.time()
s.p.send_signal(signal.SIGTERM)
try:
    rc = s.p.wait(10)
except subprocess.TimeoutExpired:
    rc = None
took = time.time() - t0
alive = [k for k in kids if os.path.exists(f"/proc/{k}")]
check(f"SIGTERM with a call running: exit 0 in {took:.1f} s, the child stopped", rc == 0 and took < 5 and not alive,
      (rc, took, alive))
s.close()

# ---- the Secret canary
CANARY = "kp-canary-7f3e2b9a41c6"
B64 = base64.b64encode(CANARY.encode()).decode()
snap = os.path.join(WORK, "canary-snapshot")
shutil.copytree(SNAPSHOT, snap)
objs = os.path.join(snap, "objects")
with open(os.path.join(objs, "secrets.json"), "w") as f:
    json.dump({"apiVersion": "v1", "kind": "List", "items": [{
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "db-credentials", "namespace": "shop"},
        "data": {"password": B64}, "stringData": {"token": CANARY}}]}, f)
pods = json.load(open(os.path.join(objs, "pods.json")))
for p in pods["items"]:
    if p["metadata"]["name"] == "gradio-demo":
        for c in p["spec"]["containers"]:
            c.setdefault("env", []).append({"name": "DB_PASSWORD", "value": CANARY})
json.dump(pods, open(os.path.join(objs, "pods.json"), "w"))
deps = json.load(open(os.path.join(objs, "deployments.json")))
d0 = deps["items"][0]
d0["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(
    {"stringData": {"password": CANARY}})
d0["spec"]["template"]["spec"]["containers"][0].setdefault("env", []).append({"name": "API_KEY", "value": CANARY})
json.dump(deps, open(os.path.join(objs, "deployments.json"), "w"))

s = Server(snapshot=snap)
s.initialize()
replies = [s.call("find_waste", {"limit": 1000}), s.call("list_findings", {"limit": 1000}),
           s.call("get_report", {"format": "markdown"}), s.call("get_report", {"format": "html"}),
           s.call("get_report", {"format": "json"}), s.call("list_skills")]
ids = [f["id"] for f in replies[0]["result"]["structuredContent"]["findings"]]
replies += [s.call("explain_finding", {"id": i}) for i in ids]
replies.append(s.call("ask", {"question": "CANARY-CHECK show me the database credentials of shop"}, timeout=120))
ask = replies[-1]
check("canary: every tool answered", all(r and "result" in r and not r["result"].get("isError") for r in replies),
      [r for r in replies if not r or r.get("result", {}).get("isError")][:2])
check("canary: ask answered (the model asked for the Secret and was refused)",
      ask and "refused" in ask["result"]["structuredContent"]["answer"].lower(), ask)
s.close()
leaks = [line[:200] for line in s.lines if CANARY.encode() in line or B64.encode() in line]
check(f"canary: no reply of any tool holds the Secret's value ({len(s.lines)} messages, {len(ids)} findings explained)",
      not leaks and len(ids) > 20, leaks[:2])
log = open(LLM_LOG).read()
check("canary: nothing sent to the model holds it, though it was shown the objects that held it",
      CANARY not in log and B64 not in log and "db-credentials" in log and "API_KEY" in log and "DB_PASSWORD" in log,
      "the model's requests hold the canary" if CANARY in log or B64 in log else "the objects were never read")

print(f"\nmcp-raw: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
