// check-bodies.mjs - do the request bodies a client sent type-check against
// the official SDKs' request parameter types (check-bodies.ts says which)?
//
//   node tests/clients/llm/check-bodies.mjs LOGFILE
//
// LOGFILE is tests/fakes/llm.py's --log. Each POST to a provider's endpoint
// there becomes a TypeScript file declaring its JSON body as a constant of
// that provider's body type, and tsc (typescript, as package-lock.json pins
// it) checks them all at once. A body that is not JSON, or a request to no
// provider's endpoint, fails too. Exits 0 when every body type-checks, else
// prints, per failing log line, the request and tsc's errors with the JSON
// line each points at, and exits 1 (2 for a usage or setup error).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, basename } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [logFile] = process.argv.slice(2);
if (!logFile || process.argv.length > 3) {
	console.error("usage: node check-bodies.mjs LOGFILE");
	process.exit(2);
}
const tsc = join(here, "node_modules", "typescript", "bin", "tsc");
if (!existsSync(tsc)) {
	console.error(`check-bodies: ${tsc} is missing: run 'npm ci' in ${here}`);
	process.exit(2);
}

let lines;
try {
	lines = readFileSync(logFile, "utf8").split("\n");
} catch (e) {
	console.error(`check-bodies: ${e.message}`);
	process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "kopilot-check-bodies-"));
const files = new Map(); // file name -> {n, rec, text}
const failures = new Map(); // log line number -> [message]
const fail = (n, msg) => failures.set(n, [...(failures.get(n) ?? []), msg]);
const what = (r) => `${r.provider ?? "?"} ${r.method} ${r.path} (status ${r.status})`;
let bodies = 0;
lines.forEach((line, i) => {
	const n = i + 1;
	if (!line.trim()) return;
	let r;
	try {
		r = JSON.parse(line);
	} catch {
		fail(n, "not a JSON log line");
		return;
	}
	if (r.method !== "POST") return;
	bodies++;
	if (!r.provider) return fail(n, `${what(r)}: no provider's endpoint`);
	if (!("body" in r)) return fail(n, `${what(r)}: the body is not JSON: ${JSON.stringify(r.body_raw ?? "").slice(0, 200)}`);
	const kind = r.provider === "anthropic" && r.anthropic_version === "2023-06-01" ? "anthropic-2023-06-01" : r.provider;
	const name = `line-${String(n).padStart(6, "0")}.ts`;
	const text = `import type { Bodies } from ${JSON.stringify(join(here, "check-bodies.ts"))};\n` +
		`export const body: Bodies[${JSON.stringify(kind)}] = ${JSON.stringify(r.body, null, 1)};\n`;
	writeFileSync(join(dir, name), text);
	files.set(name, { n, rec: r, text: text.split("\n") });
});

let tscFailed = false;
if (files.size) {
	writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
		extends: join(here, "tsconfig.json"),
		files: [...files.keys()],
	}));
	const run = spawnSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json"), "--pretty", "false"], { encoding: "utf8" });
	const out = `${run.stdout ?? ""}${run.stderr ?? ""}`;
	tscFailed = run.status !== 0;
	let cur = null;
	for (const l of out.split("\n")) {
		const m = /^(.*?)\((\d+),(\d+)\): (error TS\d+: .*)$/.exec(l);
		if (m && files.has(basename(m[1]))) {
			const f = files.get(basename(m[1]));
			const src = (f.text[Number(m[2]) - 1] ?? "").trim();
			cur = f.n;
			fail(cur, `${what(f.rec)}: ${m[4]}\n    at: ${src.slice(0, 200)}`);
		} else if (cur !== null && /^\s+\S/.test(l)) {
			failures.get(cur).push(`  ${l.trim()}`);
		} else if (l.trim()) {
			cur = null;
			fail(0, l);
		}
	}
	if (tscFailed && !failures.size) fail(0, `tsc exited ${run.status} and said nothing`);
}
rmSync(dir, { recursive: true, force: true });

for (const [n, msgs] of [...failures].sort((a, b) => a[0] - b[0])) {
	console.log(n ? `${logFile}:${n}: ${msgs.join("\n")}` : `tsc: ${msgs.join("\n")}`);
}
const bad = [...failures.keys()].filter((n) => n > 0).length;
console.log(`check-bodies: ${bodies} bodies, ${bad} failed`);
process.exit(failures.size ? 1 : 0);
