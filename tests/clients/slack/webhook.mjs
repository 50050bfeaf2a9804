// webhook.mjs - the official Slack incoming-webhook client (@slack/webhook,
// IncomingWebhook.send) against tests/fakes/slackhook.py, as
// tests/e2e/notify.sh runs it:
//
//   node webhook.mjs BASE_URL TEAM/HOOK TOKEN [MESSAGE.json]
//
// The fake runs with --rate-limit 1, so the first send is the 429. What
// Slack documents for incoming webhooks (200 "ok"; 400 invalid_payload,
// no_text, invalid_blocks; 403 invalid_token; 404 no_service; 429 with
// Retry-After) must look to the client exactly as Slack's answers do, and
// MESSAGE.json (a message kopilot sent) must be accepted from it too.
// Prints "ok - ..." / "not ok - ..." and "slack-webhook: N passed, N failed".
import { readFileSync } from "node:fs";
import { IncomingWebhook, ErrorCode } from "@slack/webhook";

const [base, hook, token, messageFile] = process.argv.slice(2);
let pass = 0, fail = 0;
const check = (name, cond, why) => { if (cond) { pass++; console.log(`ok - ${name}`); } else { fail++; console.log(`not ok - ${name}`); if (why) console.log(`#   ${why}`); } };
const url = `${base}/services/${hook}/${token}`;
const send = async (u, msg) => { try { return { r: await new IncomingWebhook(u).send(msg) }; } catch (e) { return { e }; } };
const httpError = (x, status, body) => x.e && x.e.code === ErrorCode.HTTPError && x.e.statusCode === status && x.e.body === body;
const section = (text) => ({ type: "section", text: { type: "mrkdwn", text } });

let x = await send(url, { text: "first" });
check("the first send is rate limited: an HTTP error 429 rate_limited (the client does not retry a 4xx)", httpError(x, 429, "rate_limited"), x.e ? `${x.e.code} ${x.e.statusCode} ${x.e.body}` : JSON.stringify(x.r));
x = await send(url, { text: "fallback", blocks: [{ type: "header", text: { type: "plain_text", text: "kopilot" } }, section("*hello*"),
  { type: "section", fields: [{ type: "mrkdwn", text: "*a*\n1" }, { type: "plain_text", text: "b" }] },
  { type: "context", elements: [{ type: "mrkdwn", text: "run x" }] }, { type: "divider" }] });
check("a message with header, section, fields, context and divider: the result's text is ok", x.r && x.r.text === "ok", x.e ? `${x.e.code} ${x.e.statusCode} ${x.e.body}` : "");
for (const [name, u, msg, status, body] of [
  ["another token", `${base}/services/${hook}/wrong-token`, { text: "x" }, 403, "invalid_token"],
  ["a removed webhook (another hook id)", `${base}/services/T0OTHER/B0OTHER/${token}`, { text: "x" }, 404, "no_service"],
  ["neither text nor blocks", url, { username: "kopilot" }, 400, "no_text"],
  ["a header of 151 characters", url, { text: "x", blocks: [{ type: "header", text: { type: "plain_text", text: "h".repeat(151) } }] }, 400, "invalid_blocks"],
  ["a header in mrkdwn", url, { text: "x", blocks: [{ type: "header", text: { type: "mrkdwn", text: "h" } }] }, 400, "invalid_blocks"],
  ["a section text of 3001 characters", url, { text: "x", blocks: [section("s".repeat(3001))] }, 400, "invalid_blocks"],
  ["51 blocks", url, { text: "x", blocks: Array.from({ length: 51 }, () => section("b")) }, 400, "invalid_blocks"],
  ["11 fields", url, { text: "x", blocks: [{ type: "section", fields: Array.from({ length: 11 }, () => ({ type: "mrkdwn", text: "f" })) }] }, 400, "invalid_blocks"],
  ["a field of 2001 characters", url, { text: "x", blocks: [{ type: "section", fields: [{ type: "mrkdwn", text: "f".repeat(2001) }] }] }, 400, "invalid_blocks"],
  ["a text object of another type", url, { text: "x", blocks: [{ type: "section", text: { type: "markdown", text: "x" } }] }, 400, "invalid_blocks"],
]) {
  x = await send(u, msg);
  check(`${name}: HTTP error ${status} ${body}`, httpError(x, status, body), x.e ? `${x.e.code} ${x.e.statusCode} ${x.e.body}` : JSON.stringify(x.r));
}
if (messageFile) {
  x = await send(url, JSON.parse(readFileSync(messageFile, "utf8")));
  check("the message kopilot sent, sent again by the official client: ok", x.r && x.r.text === "ok", x.e ? `${x.e.code} ${x.e.statusCode} ${x.e.body}` : "");
}
console.log(`\nslack-webhook: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
