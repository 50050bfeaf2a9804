// gitlab.mjs - @gitbeaker/rest, the JavaScript client GitLab's docs list,
// drives against tests/fakes/gitlab.py the exchanges kopilot makes for a
// merge request (the same as for a GitHub pull request: find by source
// branch, create, label, update, comment, respect a closed one), and
// asserts what the client parsed: the fake is faithful where the official
// client cannot tell it from GitLab.
//
//   node gitlab.mjs BASE_URL TOKEN [--rate-limit-first]
//
// The fake runs with --project acme/platform/k8s-manifests (any other
// project is a 404). Prints "ok - ..." per exchange; exits 1 at the first
// mismatch.
import { Gitlab } from "@gitbeaker/rest";

const [base, token, ...flags] = process.argv.slice(2);
if (!base || !token) {
	console.error("usage: node gitlab.mjs BASE_URL TOKEN [--rate-limit-first]");
	process.exit(2);
}
const limited = flags.includes("--rate-limit-first");
const projectId = "acme/platform/k8s-manifests", branch = "kopilot/x";
const gl = new Gitlab({ host: base, token });

function assert(cond, what, got) {
	if (!cond) throw new Error(`${what}${got === undefined ? "" : `: got ${JSON.stringify(got)}`}`);
}
const ok = (what) => console.log(`ok - ${what}`);
// gitbeaker's error: the status and body are on error.cause.response
async function rejects(fn, what) {
	try {
		await fn();
	} catch (e) {
		assert(e.name === "GitbeakerRequestError", `${what}: a GitbeakerRequestError`, `${e.name}: ${e.message}`);
		return { status: e.cause?.response?.status, message: e.message };
	}
	throw new Error(`${what}: the call succeeded`);
}
const bySource = (b = branch, state = "all", id = projectId) =>
	gl.MergeRequests.all({ projectId: id, sourceBranch: b, state, perPage: 100 });

async function main() {
	let list = await bySource();
	assert(Array.isArray(list) && list.length === 0, "MergeRequests.all by source branch, none yet", list);
	ok("MergeRequests.all({projectId: path, sourceBranch, state: all, perPage: 100}) before any: []");

	// gitbeaker retries a 429 by itself (its own backoff, not Retry-After)
	const mr = await gl.MergeRequests.create(projectId, branch, "main", "kopilot: t1", { description: "b1", labels: "kopilot" });
	assert(Number.isInteger(mr.iid) && Number.isInteger(mr.id) && Number.isInteger(mr.project_id), "iid, id, project_id", mr);
	assert(mr.state === "opened" && mr.title === "kopilot: t1" && mr.description === "b1", "state, title, description", mr);
	assert(mr.source_branch === branch && mr.target_branch === "main", "source and target branch", mr);
	assert(JSON.stringify(mr.labels) === '["kopilot"]' && mr.merged_at === null && mr.author?.username, "labels, merged_at, author", mr);
	assert(mr.web_url.endsWith(`/${projectId}/-/merge_requests/${mr.iid}`), "web_url", mr.web_url);
	ok(`MergeRequests.create(path, source, target, title, {description, labels: "kopilot"}): !${mr.iid}${limited ? " (gitbeaker retried the 429 itself)" : ""}`);

	list = await bySource();
	assert(list.length === 1 && list[0].iid === mr.iid && list[0].state === "opened", "found by source branch", list);
	list = await bySource(branch, "all", mr.project_id);
	assert(list.length === 1 && list[0].iid === mr.iid, "found by the numeric project id too", list);
	list = await bySource("kopilot/other");
	assert(list.length === 0, "another source branch finds nothing", list);
	ok("MergeRequests.all finds it by source branch (path or numeric id), another branch nothing");

	const ed = await gl.MergeRequests.edit(projectId, mr.iid, { title: "kopilot: t2", description: "b2", addLabels: "kopilot" });
	assert(ed.title === "kopilot: t2" && ed.description === "b2" && JSON.stringify(ed.labels) === '["kopilot"]', "edited", ed);
	ok("MergeRequests.edit({title, description, addLabels}): both set, the label once");

	let e = await rejects(() => gl.MergeRequests.create(projectId, branch, "main", "kopilot: t3", { description: "b3" }), "create again");
	assert(e.status === 409, "status 409", e.status);
	assert(e.message.includes(`Another open merge request already exists for this source branch: !${mr.iid}`), "the message", e.message);
	ok("MergeRequests.create again: 409 \"Another open merge request already exists ... !IID\"");

	let notes = await gl.MergeRequestNotes.all(projectId, mr.iid, { perPage: 100 });
	assert(Array.isArray(notes) && notes.every((n) => n.system === true), "only system notes yet (the edit's)", notes);
	const n = await gl.MergeRequestNotes.create(projectId, mr.iid, "kopilot: c1");
	assert(Number.isInteger(n.id) && n.body === "kopilot: c1" && n.system === false && n.author?.username, "the note", n);
	notes = await gl.MergeRequestNotes.all(projectId, mr.iid, { perPage: 100 });
	const mine = notes.filter((x) => !x.system);
	assert(mine.length === 1 && mine[0].id === n.id && notes[0].id === n.id, "listed, newest first", notes);
	ok("MergeRequestNotes.all / create: the note listed first (newest), system notes beside it");

	let h = await fetch(`${base}/_test/close/${mr.iid}`, { method: "POST" });
	assert(h.ok, "the fake's close hook", h.status);
	list = await bySource();
	assert(list.length === 1 && list[0].state === "closed" && list[0].merged_at === null, "closed, not merged", list);
	list = await bySource(branch, "opened");
	assert(list.length === 0, "state opened finds none", list);
	ok("closed without merging: state all shows closed, merged_at null; state opened none");

	const mr2 = await gl.MergeRequests.create(projectId, branch, "main", "kopilot: t1", { description: "b1", labels: "kopilot" });
	assert(mr2.iid !== mr.iid && mr2.state === "opened", "a new one after the closed one", mr2);
	h = await fetch(`${base}/_test/merge/${mr2.iid}`, { method: "POST" });
	assert(h.ok, "the fake's merge hook", h.status);
	list = await bySource();
	assert(list.length === 2 && list[0].iid === mr2.iid && list[0].state === "merged" && typeof list[0].merged_at === "string",
		"merged, newest first", list);
	ok("a new merge request after the closed one, merged: listed newest first, state merged, merged_at set");

	list = await gl.MergeRequests.all({ projectId, state: "all", perPage: 1 });
	assert(list.length === 2 && list[0].iid !== list[1].iid, "gitbeaker follows the pages of per_page 1", list.map((m) => m.iid));
	ok("MergeRequests.all({perPage: 1}) follows the Link header: both merge requests, once each");

	e = await rejects(() => bySource(branch, "all", "acme/nosuch"), "an unknown project");
	assert(e.status === 404 && /404 Project Not Found/.test(e.message), "404 Project Not Found", e);
	const bad = new Gitlab({ host: base, token: "wrong-token" });
	e = await rejects(() => bad.MergeRequests.all({ projectId, sourceBranch: branch, state: "all", perPage: 100 }), "a wrong token");
	assert(e.status === 401 && /401 Unauthorized/.test(e.message), "401 Unauthorized", e);
	ok("an unknown project: 404 Project Not Found; a wrong token: 401 Unauthorized");
}

main().then(() => process.exit(0), (e) => {
	console.log(`not ok - ${e.message}`);
	process.exit(1);
});
