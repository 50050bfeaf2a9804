// client.mjs - the official MCP TypeScript SDK client (@modelcontextprotocol/sdk)
// against `kopilot mcp --transport stdio`, as tests/e2e/mcp.sh runs it:
//
//   node client.mjs KOPILOT SNAPSHOT NOW SLOW_MARKER
//
// The server is started by the SDK's StdioClientTransport with the
// environment of this process (mcp.sh points LLM_PROVIDER at the scripted
// fake). Every tool is listed and called; the SDK itself validates each
// structured result against the tool's outputSchema (a result that does
// not match is an error here). Then bad arguments, an unknown tool, a call
// cancelled through an AbortSignal (its child process must be gone and the
// server still answer), and a server asked to stop (stdin closed) that
// must exit by itself before the SDK would send SIGTERM.
// Prints "ok - ..." / "not ok - ..." lines, one per check; the last line
// is "mcp-client: N passed, N failed".
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const [kopilot, snapshot, now, slowMarker] = process.argv.slice(2);
let pass = 0, fail = 0;
const ok = (name) => { pass++; console.log(`ok - ${name}`); };
const notOk = (name, why) => { fail++; console.log(`not ok - ${name}`); if (why) console.log(`#   ${String(why).split("\n").slice(0, 12).join("\n#   ")}`); };
const check = (name, cond, why) => (cond ? ok(name) : notOk(name, why));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function attempt(name, fn) {
  try { await fn(); } catch (e) { notOk(name, e && e.stack ? e.stack : e); }
}

function start(extraArgs = []) {
  const transport = new StdioClientTransport({
    command: kopilot,
    args: ["mcp", "--transport", "stdio", "--snapshot", snapshot, "--now", now, "--set", "llm.explain=false", ...extraArgs],
    env: { ...process.env },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr.on("data", (d) => { stderr += d; });
  const client = new Client({ name: "kopilot-e2e", version: "1.0.0" });
  return { transport, client, stderr: () => stderr };
}

// children of pid whose command line holds text
function childrenWith(pid, text) {
  try {
    const out = execFileSync("ps", ["-eo", "pid,ppid,pgid,args"], { encoding: "utf8" });
    return out.split("\n").filter((l) => {
      const f = l.trim().split(/\s+/);
      return f.length > 3 && f[1] === String(pid) && l.includes(text);
    });
  } catch { return []; }
}

const s = start();
await s.client.connect(s.transport);
const serverPid = s.transport.pid;
check("initialize: the server is kopilot", s.client.getServerVersion()?.name === "kopilot", JSON.stringify(s.client.getServerVersion()));
check("initialize: tools capability", !!s.client.getServerCapabilities()?.tools, JSON.stringify(s.client.getServerCapabilities()));
check("initialize: instructions", /find_waste/.test(s.client.getInstructions() || ""), s.client.getInstructions());

const expected = ["find_waste", "list_findings", "explain_finding", "get_report", "ask", "list_skills"];
let tools = [];
await attempt("tools/list", async () => {
  tools = (await s.client.listTools()).tools;
  const names = tools.map((t) => t.name);
  check("tools/list: the six tools", expected.every((n) => names.includes(n)) && names.length === 6, names.join(", "));
  check("tools/list: every tool has an input and an output schema",
    tools.every((t) => t.inputSchema?.type === "object" && t.outputSchema?.type === "object"), "");
  check("tools/list: every tool is read-only and not destructive",
    tools.every((t) => t.annotations?.readOnlyHint === true && t.annotations?.destructiveHint === false),
    JSON.stringify(tools.map((t) => [t.name, t.annotations])));
});

let run = null, top = null;
await attempt("find_waste", async () => {
  const r = await s.client.callTool({ name: "find_waste", arguments: { limit: 5 } });
  const sc = r.structuredContent;
  check("find_waste: a structured result (validated by the SDK against outputSchema)", !r.isError && sc && Array.isArray(sc.findings), JSON.stringify(r).slice(0, 400));
  check("find_waste: the demo's 31 findings counted, 5 shown", sc.totals.findings === 31 && sc.findings.length === 5, JSON.stringify(sc.totals));
  check("find_waste: most savings first", sc.findings.every((f, i, a) => i === 0 || a[i - 1].monthly_savings >= f.monthly_savings), "");
  check("find_waste: savings per category add up to the total",
    Math.abs(sc.by_category.reduce((x, c) => x + c.monthly_savings, 0) - sc.totals.monthly_savings) < 0.01, JSON.stringify(sc.by_category));
  check("find_waste: the degraded demo says what is missing", sc.degraded === true && sc.missing.some((m) => /legacy-geoip/.test(m)), JSON.stringify(sc.missing));
  check("find_waste: the text content is the same JSON", JSON.stringify(JSON.parse(r.content[0].text)) === JSON.stringify(sc), "");
  run = sc.run;
  top = sc.findings[0];
});

await attempt("list_findings", async () => {
  let r = await s.client.callTool({ name: "list_findings", arguments: { namespace: "staging" } });
  const st = r.structuredContent.findings;
  check("list_findings: namespace staging only", st.length > 0 && st.every((f) => f.namespace === "staging"), JSON.stringify(st.map((f) => f.namespace)));
  r = await s.client.callTool({ name: "list_findings", arguments: { category: "orphaned-pvc" } });
  check("list_findings: category orphaned-pvc", r.structuredContent.findings.length > 0 && r.structuredContent.findings.every((f) => f.category === "orphaned-pvc"), "");
  r = await s.client.callTool({ name: "list_findings", arguments: { min_monthly_savings: 50, limit: 2, offset: 1 } });
  const sc = r.structuredContent;
  check("list_findings: minimum savings, offset and limit", sc.findings.length <= 2 && sc.offset === 1 && sc.findings.every((f) => f.monthly_savings >= 50) && sc.matching >= sc.findings.length, JSON.stringify(sc).slice(0, 300));
});

await attempt("explain_finding", async () => {
  const r = await s.client.callTool({ name: "explain_finding", arguments: { id: top.id } });
  const sc = r.structuredContent;
  check("explain_finding: the finding in full", sc.finding.id === top.id && Array.isArray(sc.finding.evidence), JSON.stringify(sc).slice(0, 300));
  check("explain_finding: told in plain English with its evidence", sc.text.includes(sc.finding.explanation) && /Evidence:/.test(sc.text), sc.text);
});

await attempt("get_report", async () => {
  let r = await s.client.callTool({ name: "get_report", arguments: {} });
  check("get_report: markdown by default", r.structuredContent.format === "markdown" && /^# /m.test(r.structuredContent.content), r.structuredContent.content.slice(0, 200));
  r = await s.client.callTool({ name: "get_report", arguments: { format: "json" } });
  const doc = JSON.parse(r.structuredContent.content);
  check("get_report: json is findings.json", doc.schema === "kopilot.findings/v1" && doc.findings.length === 31, "");
  r = await s.client.callTool({ name: "get_report", arguments: { format: "html" } });
  check("get_report: html", /<html/i.test(r.structuredContent.content), "");
});

await attempt("list_skills", async () => {
  const r = await s.client.callTool({ name: "list_skills", arguments: {} });
  const names = r.structuredContent.skills.map((k) => k.name);
  check("list_skills: the six built-in skills", names.length === 6 && names.includes("cost_optimization") && r.structuredContent.skills.every((k) => k.builtin), names.join(", "));
});

await attempt("ask", async () => {
  const r = await s.client.callTool({ name: "ask", arguments: { question: "Recommend the next cost-saving actions for staging" } });
  const sc = r.structuredContent;
  check("ask: the supervisor's answer", !r.isError && /launchdarkly-relay/.test(sc.answer), JSON.stringify(r).slice(0, 500));
  check("ask: the change it wanted is a proposal, not run",
    sc.proposals.some((p) => p.command === "kubectl -n staging scale deployment launchdarkly-relay --replicas=0" && p.destructive === true),
    JSON.stringify(sc.proposals));
  check("ask: what it spent and what the safety layer decided", sc.usage.model_calls >= 2 && sc.usage.in_tokens > 0 && sc.usage.command_decisions.proposed === 1 && /^ollama\//.test(sc.usage.provider_model),
    JSON.stringify(sc.usage));
});

// bad arguments: a result with isError and a plain message, never a crash
const bad = [
  ["find_waste", { limit: "many" }, /"limit" must be a whole number/],
  ["find_waste", { namespaces: ["Not_A_Namespace"] }, /list of namespace names/],
  ["list_findings", { bogus: 1 }, /unknown argument "bogus"/],
  ["list_findings", { min_monthly_savings: -1 }, /0 or more/],
  ["explain_finding", {}, /"id" is required/],
  ["explain_finding", { id: "0000000000000000" }, /no finding "0000000000000000"/],
  ["get_report", { format: "pdf" }, /markdown, html or json/],
  ["ask", { question: "   " }, /empty/],
];
for (const [name, args, re] of bad) {
  await attempt(`${name} with bad arguments`, async () => {
    const r = await s.client.callTool({ name, arguments: args });
    check(`${name} ${JSON.stringify(args)}: isError, "${re.source}"`, r.isError === true && re.test(r.content[0].text), JSON.stringify(r));
  });
}
await attempt("unknown tool", async () => {
  try {
    await s.client.callTool({ name: "delete_everything", arguments: {} });
    notOk("unknown tool: an error", "it answered");
  } catch (e) {
    check("unknown tool: JSON-RPC error -32602", e.code === -32602 && /Unknown tool/.test(e.message), `${e.code} ${e.message}`);
  }
});

// a cancelled call: the SDK sends notifications/cancelled; the server stops
// the supervisor's child process and sends no result; it still answers
await attempt("cancel", async () => {
  const ac = new AbortController();
  const t0 = Date.now();
  const p = s.client.callTool({ name: "ask", arguments: { question: `${slowMarker} which workloads are idle?` } }, undefined, { signal: ac.signal, timeout: 120000 });
  await sleep(1500);
  const running = childrenWith(serverPid, "ask --run");
  check("cancel: the slow ask runs as a child process", running.length > 0, "no child found");
  ac.abort("the user changed their mind");
  try { await p; notOk("cancel: the call is rejected", "it resolved"); } catch (e) { ok(`cancel: the call is rejected (${e.name || e.code})`); }
  let gone = false;
  for (let i = 0; i < 50 && !gone; i++) { await sleep(100); gone = childrenWith(serverPid, "ask --run").length === 0; }
  check("cancel: its child process is gone within 5 s", gone, childrenWith(serverPid, "ask --run").join("\n"));
  await s.client.ping();
  ok(`cancel: the server still answers (${Date.now() - t0} ms)`);
  const audit = readFileSync(`${run}/audit.jsonl`, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  check("cancel: the audit records the cancelled call", audit.some((e) => e.event === "mcp.call" && e.tool === "ask" && e.result === "cancelled"),
    audit.filter((e) => e.event === "mcp.call").map((e) => JSON.stringify(e)).join("\n"));
  check("audit: every tool call is recorded", expected.every((n) => audit.some((e) => e.event === "mcp.call" && e.tool === n)), "");
});

// a server asked to stop: stdin closed while a call runs
await attempt("stop", async () => {
  s.client.callTool({ name: "ask", arguments: { question: `${slowMarker} again` } }, undefined, { timeout: 120000 }).catch(() => {});
  await sleep(1000);
  const t0 = Date.now();
  await s.client.close();
  const ms = Date.now() - t0;
  check(`stop: the server exits when its input ends, with a call running (${ms} ms, before the SDK's SIGTERM at 2000 ms)`, ms < 1900, `${ms} ms`);
  let alive = true;
  try { process.kill(serverPid, 0); } catch { alive = false; }
  check("stop: the server process is gone", !alive, "");
  check("stop: no child process left", childrenWith(serverPid, "--run").length === 0, "");
  check("stop: the server said why on stderr", /end of input; stopping/.test(s.stderr()), s.stderr().slice(-600));
  check("no sanitizer report on the server's stderr (make asan)", !/Sanitizer|runtime error:/.test(s.stderr()), s.stderr().slice(-1500));
  check("stdout carried only JSON-RPC (logs on stderr)", /mcp: find_waste ok/.test(s.stderr()), s.stderr().slice(-600));
});

console.log(`\nmcp-client: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
