// http.mjs - the official MCP TypeScript SDK client over Streamable HTTP
// against `kopilot serve` (/mcp), as tests/e2e/serve.sh runs it:
//
//   node http.mjs URL TOKEN SLOW_MARKER
//
// Tools listed and called through the SDK's StreamableHTTPClientTransport
// (results validated by the SDK against their outputSchema), a wrong token
// refused, a call cancelled through an AbortSignal while others go on, and
// the session ended with DELETE (terminateSession), after which its id is
// unknown. Prints "ok - ..." / "not ok - ..." lines and
// "mcp-http: N passed, N failed".
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token, slowMarker] = process.argv.slice(2);
let pass = 0, fail = 0;
const ok = (name) => { pass++; console.log(`ok - ${name}`); };
const notOk = (name, why) => { fail++; console.log(`not ok - ${name}`); if (why) console.log(`#   ${String(why).split("\n").slice(0, 12).join("\n#   ")}`); };
const check = (name, cond, why) => (cond ? ok(name) : notOk(name, why));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function attempt(name, fn) {
  try { await fn(); } catch (e) { notOk(name, e && e.stack ? e.stack : e); }
}
const connect = async (tok) => {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${tok}` } } });
  const client = new Client({ name: "kopilot-e2e-http", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
};

await attempt("a wrong token", async () => {
  try {
    await connect("not-the-token-0000000000");
    notOk("a wrong token is refused", "it connected");
  } catch (e) {
    check("a wrong token is refused (401)", /401/.test(String(e.code ?? "")) || /401|bearer token/i.test(e.message), `${e.code} ${e.message}`);
  }
});

let c;
await attempt("connect", async () => {
  c = await connect(token);
  check("initialize over HTTP: the server is kopilot, a session id given", c.client.getServerVersion()?.name === "kopilot" && !!c.transport.sessionId, c.transport.sessionId);
});

await attempt("tools", async () => {
  const tools = (await c.client.listTools()).tools.map((t) => t.name).sort();
  check("tools/list over HTTP: the six tools", tools.join(",") === "ask,explain_finding,find_waste,get_report,list_findings,list_skills", tools.join(","));
  const r = await c.client.callTool({ name: "find_waste", arguments: { limit: 3 } });
  check("find_waste over HTTP: structured, validated by the SDK", !r.isError && r.structuredContent.totals.findings === 31 && r.structuredContent.findings.length === 3, JSON.stringify(r).slice(0, 300));
  const e = await c.client.callTool({ name: "explain_finding", arguments: { id: r.structuredContent.findings[0].id } });
  check("explain_finding over HTTP", e.structuredContent.finding.id === r.structuredContent.findings[0].id, "");
  const bad = await c.client.callTool({ name: "list_findings", arguments: { limit: 0 } });
  check("bad arguments over HTTP: isError", bad.isError === true && /limit/.test(bad.content[0].text), JSON.stringify(bad));
});

await attempt("cancel over HTTP", async () => {
  const ac = new AbortController();
  const p = c.client.callTool({ name: "ask", arguments: { question: `${slowMarker} over http` } }, undefined, { signal: ac.signal, timeout: 120000 });
  await sleep(1500);
  const t0 = Date.now();
  const skills = await c.client.callTool({ name: "list_skills", arguments: {} });
  check("another call is answered while a slow one runs", skills.structuredContent.skills.length === 6 && Date.now() - t0 < 5000, `${Date.now() - t0} ms`);
  ac.abort("changed my mind");
  try { await p; notOk("the cancelled call is rejected", "it resolved"); } catch { ok("the cancelled call is rejected"); }
  await c.client.ping();
  ok("the session still answers after the cancellation");
});

await attempt("terminate", async () => {
  const sid = c.transport.sessionId;
  await c.transport.terminateSession();
  const r = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream", "Mcp-Session-Id": sid },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
  });
  check("after DELETE the session is gone (404)", r.status === 404, r.status);
  const nosess = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
  });
  check("a request without Mcp-Session-Id is a 400", nosess.status === 400, nosess.status);
  const get = await fetch(url, { headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" } });
  check("GET /mcp is 405 (no server-sent stream)", get.status === 405, get.status);
  const evil = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Origin: "http://evil.example" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
  });
  check("a browser Origin not allowed is a 403 (DNS rebinding)", evil.status === 403, evil.status);
  await c.client.close();
});

console.log(`\nmcp-http: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
