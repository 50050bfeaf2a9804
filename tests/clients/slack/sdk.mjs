// sdk.mjs - the official Slack Web API client (@slack/web-api) against
// tests/fakes/slack.py, as tests/e2e/serve.sh runs it:
//
//   node sdk.mjs API_URL TOKEN
//
// The calls kopilot makes (chat.postMessage with blocks in a thread), the
// errors Slack gives (a wrong token, an unknown channel, blocks that are
// not allowed) and its rate limit (429 with Retry-After, which the SDK
// waits out and retries) must look to the SDK exactly as Slack's do.
// serve.sh starts this fake with --rate-limit 1: the first call is the 429.
// Prints "ok - ..." / "not ok - ..." and "slack-sdk: N passed, N failed".
import { WebClient, ErrorCode } from "@slack/web-api";

const [apiUrl, token] = process.argv.slice(2);
let pass = 0, fail = 0;
const check = (name, cond, why) => { if (cond) { pass++; console.log(`ok - ${name}`); } else { fail++; console.log(`not ok - ${name}`); if (why) console.log(`#   ${why}`); } };
const url = apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`;
const client = new WebClient(token, { slackApiUrl: url, retryConfig: { retries: 2, factor: 1, minTimeout: 100, maxTimeout: 200 } });

try {
  const r = await client.chat.postMessage({ channel: "C0SDKTEST", thread_ts: "1700000000.000100", text: "fallback",
    blocks: [{ type: "section", text: { type: "mrkdwn", text: "*hello* from the SDK" } }] });
  check("SDK chat.postMessage with blocks in a thread, after a 429 it waited out: ok, ts, the message echoed", r.ok && /^\d+\.\d+$/.test(r.ts) && r.message.thread_ts === "1700000000.000100", JSON.stringify(r));
} catch (e) { check("SDK chat.postMessage", false, e.stack); }

for (const [name, c, args, want] of [
  ["a wrong token", new WebClient("xoxb-wrong", { slackApiUrl: url }), { channel: "C0SDKTEST", text: "x" }, "invalid_auth"],
  ["an unknown channel", client, { channel: "#general", text: "x" }, "channel_not_found"],
  ["a block Slack does not allow", client, { channel: "C0SDKTEST", text: "x", blocks: [{ type: "section", text: { type: "mrkdwn", text: "x".repeat(3001) } }] }, "invalid_blocks"],
]) {
  try {
    await c.chat.postMessage(args);
    check(`${name}: an error`, false, "it succeeded");
  } catch (e) {
    check(`${name}: the SDK's platform error ${want}`, e.code === ErrorCode.PlatformError && e.data?.error === want, `${e.code} ${JSON.stringify(e.data)}`);
  }
}
console.log(`\nslack-sdk: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
