// github.mjs - @octokit/rest, GitHub's official JavaScript client, drives
// against tests/fakes/github.py exactly the exchanges kopilot makes for a
// pull request (stages/render/gitops/forge.c), and asserts what the client
// parsed: the fake is faithful where the official client cannot tell it
// from GitHub.
//
//   node github.mjs BASE_URL TOKEN [--rate-limit-first]
//
// Prints "ok - ..." per exchange; exits 1 at the first mismatch.
import { Octokit } from "@octokit/rest";

const [base, token, ...flags] = process.argv.slice(2);
if (!base || !token) {
	console.error("usage: node github.mjs BASE_URL TOKEN [--rate-limit-first]");
	process.exit(2);
}
const limited = flags.includes("--rate-limit-first");
const owner = "acme", repo = "k8s-manifests", branch = "kopilot/x";
const quiet = { debug() {}, info() {}, warn: console.warn, error() {} };
const gh = new Octokit({ auth: token, baseUrl: base, log: quiet });

function assert(cond, what, got) {
	if (!cond) throw new Error(`${what}${got === undefined ? "" : `: got ${JSON.stringify(got)}`}`);
}
const ok = (what) => console.log(`ok - ${what}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// what kopilot does on 429 (octokit core does not retry it): wait Retry-After, again
let throttled = 0;
async function retrying(fn) {
	for (let i = 0; ; i++) {
		try {
			return await fn();
		} catch (e) {
			if (e.status !== 429 || i >= 3) throw e;
			const after = Number(e.response?.headers?.["retry-after"]);
			assert(Number.isFinite(after) && after >= 0, "a 429 carries Retry-After", e.response?.headers);
			throttled++;
			await sleep(after * 1000);
		}
	}
}
async function rejects(fn, what) {
	try {
		await fn();
	} catch (e) {
		assert(e.name === "HttpError", `${what}: a RequestError`, e.name);
		return e;
	}
	throw new Error(`${what}: the call succeeded`);
}
const byHead = (b = branch, state = "all") =>
	gh.pulls.list({ owner, repo, head: `${owner}:${b}`, state, per_page: 100 });

async function main() {
	let r = await byHead();
	assert(r.status === 200 && Array.isArray(r.data) && r.data.length === 0, "pulls.list by head, none yet", r.data);
	ok("pulls.list({head: owner:branch, state: all, per_page: 100}) before any: 200 []");

	r = await retrying(() => gh.pulls.create({ owner, repo, title: "kopilot: t1", head: branch, base: "main", body: "b1" }));
	const pr = r.data;
	assert(r.status === 201, "pulls.create status", r.status);
	assert(Number.isInteger(pr.number) && Number.isInteger(pr.id), "number and id", pr);
	assert(pr.state === "open" && pr.title === "kopilot: t1" && pr.body === "b1", "state, title, body", pr);
	assert(pr.head.ref === branch && pr.head.label === `${owner}:${branch}` && pr.base.ref === "main", "head and base", pr);
	assert(pr.merged_at === null && Array.isArray(pr.labels), "merged_at null, labels a list", pr);
	assert(/^https?:\/\/.+\/pull\/\d+$/.test(pr.html_url) && pr.url.endsWith(`/repos/${owner}/${repo}/pulls/${pr.number}`),
		"html_url and url", [pr.html_url, pr.url]);
	assert(throttled === (limited ? 1 : 0), "429s seen (--rate-limit-first: one)", throttled);
	ok(`pulls.create: 201, #${pr.number}${limited ? ", after one 429 whose Retry-After was waited" : ""}`);

	r = await gh.issues.addLabels({ owner, repo, issue_number: pr.number, labels: ["kopilot"] });
	assert(r.status === 200 && r.data.length === 1 && r.data[0].name === "kopilot", "issues.addLabels", r.data);
	ok("issues.addLabels({labels: [kopilot]}): 200, the label list");

	r = await byHead();
	assert(r.data.length === 1 && r.data[0].number === pr.number && r.data[0].state === "open", "found by head", r.data);
	assert(r.data[0].head.ref === branch && r.data[0].labels.map((l) => l.name).join() === "kopilot", "head.ref, labels", r.data[0]);
	r = await gh.pulls.list({ owner, repo, head: `${owner}:kopilot/other`, state: "all", per_page: 100 });
	assert(r.data.length === 0, "another head finds nothing", r.data);
	ok("pulls.list by head finds it (labelled), another head nothing");

	r = await gh.pulls.update({ owner, repo, pull_number: pr.number, title: "kopilot: t2", body: "b2" });
	assert(r.status === 200 && r.data.title === "kopilot: t2" && r.data.body === "b2" && r.data.state === "open", "pulls.update", r.data);
	ok("pulls.update({title, body}): 200, both set");

	let e = await rejects(() => gh.pulls.create({ owner, repo, title: "kopilot: t3", head: branch, base: "main", body: "b3" }),
		"pulls.create again");
	assert(e.status === 422, "status 422", e.status);
	assert(/already exists/.test(e.message), "the message says it already exists", e.message);
	assert(/already exists/.test(e.response.data.errors?.[0]?.message), "response.data.errors[0].message", e.response.data);
	ok("pulls.create again: RequestError 422, \"A pull request already exists\" in message and errors");

	r = await gh.issues.listComments({ owner, repo, issue_number: pr.number, per_page: 100 });
	assert(r.status === 200 && r.data.length === 0, "issues.listComments, none yet", r.data);
	r = await gh.issues.createComment({ owner, repo, issue_number: pr.number, body: "kopilot: c1" });
	const c = r.data;
	assert(r.status === 201 && Number.isInteger(c.id) && c.body === "kopilot: c1", "issues.createComment", c);
	assert(typeof c.user?.login === "string" && typeof c.created_at === "string" && /#issuecomment-\d+$/.test(c.html_url),
		"user.login, created_at, html_url", c);
	r = await gh.issues.listComments({ owner, repo, issue_number: pr.number, per_page: 100 });
	assert(r.data.length === 1 && r.data[0].id === c.id && r.data[0].body === "kopilot: c1", "the comment listed", r.data);
	ok("issues.listComments / createComment: 201, then listed with id, body, user.login");

	let h = await fetch(`${base}/_test/close/${pr.number}`, { method: "POST" });
	assert(h.ok, "the fake's close hook", h.status);
	r = await byHead();
	assert(r.data.length === 1 && r.data[0].state === "closed" && r.data[0].merged_at === null, "closed, not merged", r.data);
	r = await byHead(branch, "open");
	assert(r.data.length === 0, "state open finds none", r.data);
	ok("closed without merging: state all shows closed, merged_at null; state open none");

	r = await retrying(() => gh.pulls.create({ owner, repo, title: "kopilot: t1", head: branch, base: "main", body: "b1" }));
	assert(r.status === 201 && r.data.number !== pr.number, "a new one for the branch after the closed one", r.data);
	h = await fetch(`${base}/_test/merge/${r.data.number}`, { method: "POST" });
	assert(h.ok, "the fake's merge hook", h.status);
	r = await byHead();
	assert(r.data.length === 2 && r.data[0].state === "closed" && typeof r.data[0].merged_at === "string", "merged first (newest)", r.data);
	ok("a new pull request after the closed one, merged: listed newest first with merged_at set");

	const all = await gh.paginate(gh.pulls.list, { owner, repo, state: "all", per_page: 1 });
	assert(all.length === 2 && all[0].number !== all[1].number, "octokit.paginate over per_page 1 gets both", all.map((p) => p.number));
	ok("octokit.paginate follows the Link header: per_page 1, both pull requests, once each");

	const bad = new Octokit({ auth: "wrong-token", baseUrl: base, log: quiet });
	e = await rejects(() => bad.pulls.list({ owner, repo, head: `${owner}:${branch}`, state: "all", per_page: 100 }), "a wrong token");
	assert(e.status === 401 && /Bad credentials/.test(e.message), "401 Bad credentials", [e.status, e.message]);
	ok("a wrong token: RequestError 401 Bad credentials");
}

main().then(() => process.exit(0), (e) => {
	console.log(`not ok - ${e.message}`);
	process.exit(1);
});
