/*
 * render.c - the render stage (see render.h): reads findings.json, renders
 * the three reports in memory and writes each atomically. A template error
 * or a full disk never mixes a new report.xlsx with an old report.md: the
 * stage writes into the command's staging directory, which replaces the
 * run directory only when everything succeeded (pipeline/rundir.h).
 */
#include "stages/render/render.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/findings_json.h"
#include "pipeline/listscan.h"
#include "stages/recommend/history.h"
#include "stages/render/gitops/forge.h"
#include "stages/render/gitops/git.h"
#include "stages/render/gitops/prplan.h"
#include "stages/render/sarif.h"

/* What the first pass keeps of each finding: what ranks it for the report
 * (money at stake, risk, category), places it in the plan (the action's
 * flags, the id that breaks ties) and splits the money (cost, blocked,
 * approval), and the prices it was priced at. The rest (evidence,
 * explanation, commands, sizes) is read in the second pass, one finding at
 * a time. */
static const kp_keep k_light_action[] = {{"blocked", NULL}, {"destructive", NULL}, {"approval_required", NULL}, {NULL, NULL}};
static const kp_keep k_light_price[] = {{"items", NULL}, {NULL, NULL}};
static const kp_keep k_light[] = {{"id", NULL},		{"category", NULL},	    {"risk", NULL},
				  {"monthly_savings", NULL}, {"monthly_cost", NULL},    {"action", k_light_action},
				  {"price", k_light_price},  {NULL, NULL}};

#define FINDINGS_EXPECTED "a findings document (kopilot.findings/v1, written by `kopilot recommend`)"

static kp_status keep_light(void *ud, json_object *item, size_t index, kp_error *err)
{
	(void)index, (void)err;
	kp_report_light_add(ud, item);
	return KP_OK;
}

/* Pass 1: findings.json's header ("findings" left empty) and, in *light,
 * what the report needs of every finding at once (a few dozen bytes each). */
static kp_status read_light(const char *fpath, json_object **doc, kp_report_light **light, kp_error *err)
{
	*light = kp_report_light_new();
	kp_status s = kp_listscan_file(fpath, "findings", FINDINGS_EXPECTED, k_light, keep_light, *light, doc, err);
	if (!s) {
		const char *schema = kp_json_str(*doc, "schema");
		if (!schema || strcmp(schema, KP_FINDINGS_SCHEMA) != 0)
			s = kp_fail(err, KP_ERR_INPUT, "%s: schema: expected \"%s\"", fpath, KP_FINDINGS_SCHEMA);
		else if (!json_object_is_type(kp_json_get(*doc, "findings"), json_type_array))
			s = kp_fail(err, KP_ERR_INPUT, "%s: findings: missing or not a list", fpath);
	}
	if (s) {
		kp_report_light_free(*light);
		*light = NULL;
		json_object_put(*doc);
		*doc = NULL;
	}
	return s;
}

/* Pass 2: each whole finding to the report view and the spreadsheet. */
typedef struct {
	kp_report_builder *view;
	kp_xlsx_writer *xlsx;
	size_t count;
	json_object *links; /* finding id -> its pull request, patch, or why none (render_prs) */
	kp_sarif *sarif;    /* findings.sarif, when pr.repo is a checkout; NULL: none */
} pass2_t;

static kp_status add_full(void *ud, json_object *item, size_t index, kp_error *err)
{
	(void)index;
	pass2_t *p = ud;
	p->count++;
	const char *id = kp_json_str(item, "id");
	json_object *l = id ? json_object_object_get(p->links, id) : NULL;
	if (l)
		json_object_object_add(item, "pull_request", json_object_get(l));
	kp_report_add(p->view, item);
	if (p->sarif) {
		kp_status s = kp_sarif_add(p->sarif, item, err);
		if (s)
			return s;
	}
	return kp_xlsx_add(p->xlsx, item);
}

static bool is_gitlab(const kp_config *c) { return !strcmp(c->pr.forge, "gitlab"); }

/* The forge's token (caller frees; NULL: none): pr.token, pr.token_file,
 * the forge's own variable, GIT_TOKEN. A GitHub token in the environment
 * is never sent to GitLab, nor the other way round. */
static kp_status pr_token(const kp_config *c, char **out, kp_error *err)
{
	*out = NULL;
	if (c->pr.token && *c->pr.token) {
		*out = kp_xstrdup(c->pr.token);
		return KP_OK;
	}
	if (c->pr.token_file && *c->pr.token_file)
		return kp_read_token_file(c->pr.token_file, "pr.token_file", out, err);
	const char *t = getenv(is_gitlab(c) ? "GITLAB_TOKEN" : "GITHUB_TOKEN");
	if (!t || !*t)
		t = getenv("GIT_TOKEN");
	*out = t && *t ? kp_xstrdup(t) : NULL;
	return KP_OK;
}

/* where clones are kept: pr.cache_dir, else $XDG_CACHE_HOME or ~/.cache,
 * /kopilot/repos; one directory per URL */
static char *cache_for(const kp_config *c, const char *url)
{
	char *base = NULL;
	if (c->pr.cache_dir && *c->pr.cache_dir)
		base = kp_xstrdup(c->pr.cache_dir);
	else if (getenv("XDG_CACHE_HOME") && *getenv("XDG_CACHE_HOME"))
		base = kp_xasprintf("%s/kopilot/repos", getenv("XDG_CACHE_HOME"));
	else
		base = kp_xasprintf("%s/.cache/kopilot/repos", getenv("HOME") && *getenv("HOME") ? getenv("HOME") : "/tmp");
	kp_buf b;
	kp_buf_init(&b);
	for (const char *p = url; *p; p++)
		kp_buf_putc(&b, (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
					*p == '-'
				    ? *p
				    : '_');
	char *r = kp_path_join(base, kp_buf_cstr(&b));
	kp_buf_release(&b);
	free(base);
	return r;
}

static bool is_remote(const char *repo) { return strstr(repo, "://") || !strncmp(repo, "git@", 4); }

/* Whether --pr pushes and opens (else a dry run: RUN/pr/ only), and the
 * token it does it with (caller frees). A dry run is asked for
 * (--dry-run), or the default without a token. */
static kp_status pr_mode(const kp_config *c, bool *dry, char **token, kp_error *err)
{
	*token = NULL;
	kp_status s = pr_token(c, token, err);
	*dry = c->pr.dry_run || !*token;
	return s;
}

/* --pr: what can be done before the reports are written (an error then
 * costs nothing) */
static kp_status check_pr(const kp_config *c, kp_error *err)
{
	if (!c->pr.enabled)
		return KP_OK;
	const char *repo = c->pr.repo;
	if (!repo || !*repo)
		return kp_fail(err, KP_ERR_USAGE, "--pr needs the manifests' repository: --repo DIR|URL (or pr.repo)");
	bool dry = true;
	char *t = NULL;
	kp_status s = pr_mode(c, &dry, &t, err);
	free(t);
	if (s)
		return s;
	if (!is_remote(repo)) {
		/* a checkout is only read: there is nothing to push from */
		if (!dry)
			return kp_fail(err, KP_ERR_USAGE,
				       "pr.repo %s: %s need the repository's URL (%s); a local checkout is read for a "
				       "dry run (--dry-run)",
				       repo, is_gitlab(c) ? "merge requests" : "pull requests",
				       is_gitlab(c) ? "https://gitlab.com/GROUP/REPO.git" : "https://github.com/OWNER/REPO.git");
		struct stat sb;
		if (stat(repo, &sb) != 0 || !S_ISDIR(sb.st_mode))
			return kp_fail(err, KP_ERR_USAGE, "pr.repo %s: not a directory", repo);
		return KP_OK;
	}
	if (c->pr.ssh_key && *c->pr.ssh_key && access(c->pr.ssh_key, R_OK) != 0)
		return kp_fail(err, KP_ERR_USAGE, "pr.ssh_key %s: %s", c->pr.ssh_key, strerror(errno));
	if (c->pr.ssh_known_hosts && *c->pr.ssh_known_hosts && access(c->pr.ssh_known_hosts, R_OK) != 0)
		return kp_fail(err, KP_ERR_USAGE, "pr.ssh_known_hosts %s: %s", c->pr.ssh_known_hosts, strerror(errno));
	return KP_OK;
}

/* What a pull request whose branch someone else committed to is told
 * instead of a forced push: the changes kopilot proposes now, as a patch
 * to apply by hand; *marker names this very patch, so the next run with
 * the same findings does not say it again. */
static void foreign_comment(const kp_pr_group *g, const char *run_name, char **text, char **marker)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a of the patch */
	for (const unsigned char *p = (const unsigned char *)(g->patch ? g->patch : ""); *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	*marker = kp_xasprintf("<!-- kopilot:proposal:%016llx -->", (unsigned long long)h);
	*text = kp_xasprintf("kopilot (%s) has %zu proposed change%s for this branch, but someone else has committed "
			     "to `%s` since kopilot last pushed, so it was left alone (kopilot never force-pushes over "
			     "other people's work).\n\nTo take the proposal, apply this patch on the branch "
			     "(`git am`), or close this pull request and delete the branch: the next run opens a new "
			     "one.\n\n<details><summary>The proposed patch</summary>\n\n```diff\n%s```\n</details>",
			     run_name, g->changes, g->changes == 1 ? "" : "s", g->branch,
			     /* the forges take comments up to 64 KB */
			     g->patch && strlen(g->patch) < 60000 ? g->patch
								   : "(too large for a comment: it is pr/GROUP.patch in the run)\n");
}

/* --pr --dry-run: RUN/pr/GROUP.patch (git am applies it), RUN/pr/GROUP.md
 * (the pull request's title and body) and RUN/pr/index.json */
static kp_status render_prs(kp_run *run, const char *fpath, json_object *links, kp_error *err)
{
	const kp_config *c = run->cfg;
	json_object *doc = NULL;
	kp_status s = kp_json_read_file(fpath, &doc, err);
	if (s)
		return s;
	/* the run is named by its cluster and time (run->dir is the staging
	 * directory, not the name the user gave) */
	char *run_name = kp_xasprintf("%s at %s", kp_json_str(doc, "cluster.name") ? kp_json_str(doc, "cluster.name") : "cluster",
				      kp_json_str(doc, "generated_at") ? kp_json_str(doc, "generated_at") : "?");
	/* a URL: the repository cloned (or fetched) into the cache and read
	 * there; not a dry run: the branches pushed and the pull requests
	 * opened. A directory is a checkout, only read. */
	kp_git *git = NULL;
	kp_forge *forge = NULL;
	char *cache = NULL, *token = NULL;
	const char *repo_dir = c->pr.repo;
	bool dry = true;
	s = pr_mode(c, &dry, &token, err);
	if (!s && is_remote(c->pr.repo)) {
		cache = cache_for(c, c->pr.repo);
		/* the user name a token goes with over https: GitHub takes any,
		 * GitLab wants oauth2 for OAuth and personal tokens alike */
		kp_git_opts go = {c->pr.repo,	 cache, c->pr.base, token, is_gitlab(c) ? "oauth2" : "x-access-token",
				  c->pr.ssh_key && *c->pr.ssh_key ? c->pr.ssh_key : NULL,
				  c->pr.ssh_known_hosts && *c->pr.ssh_known_hosts ? c->pr.ssh_known_hosts : NULL};
		if (!s)
			s = kp_mkdir_p(cache, err);
		if (!s)
			s = kp_git_open(&go, &git, err);
		if (!s && !dry)
			s = kp_forge_new(is_gitlab(c) ? KP_FORGE_GITLAB : KP_FORGE_GITHUB, c->pr.repo, c->pr.api_url, token,
					 &forge, err);
		repo_dir = git ? kp_git_workdir(git) : NULL;
	}
	kp_pr_opts o = {repo_dir, c->pr.group_by, run_name, "../report.html", run->now};
	kp_pr_group *g = NULL;
	size_t n = 0;
	if (!s)
		s = kp_pr_plan(doc, &o, &g, &n, err);
	char *dir = kp_path_join(run->dir, "pr");
	if (!s)
		s = kp_mkdir_p(dir, err);
	json_object *index = json_object_new_array(), *lost = json_object_new_array();
	size_t changes = 0, unlocated = 0, prs = 0, counts[4] = {0}, foreign = 0;
	for (size_t i = 0; !s && i < n; i++) {
		for (size_t k = 0; g[i].not_located && k < json_object_array_length(g[i].not_located); k++) {
			json_object *u = json_object_array_get_idx(g[i].not_located, k), *l = json_object_new_object();
			json_object_array_add(lost, json_object_get(u));
			json_object_object_add(l, "why", json_object_get(json_object_object_get(u, "why")));
			json_object_object_add(links, kp_json_str(u, "id") ? kp_json_str(u, "id") : "", l);
		}
		unlocated += g[i].unlocated;
		if (!g[i].changes)
			continue; /* no file to change: no pull request (its cleanups stay in the report) */
		prs++;
		char *name = kp_xasprintf("%s.md", g[i].group), *p = kp_path_join(dir, name);
		char *md = kp_xasprintf("# %s\n\n%s", g[i].title, g[i].body);
		s = kp_write_file_atomic(p, md, strlen(md), err);
		free(md), free(p), free(name);
		json_object *e = json_object_new_object();
		json_object_object_add(e, "group", json_object_new_string(g[i].group));
		json_object_object_add(e, "branch", json_object_new_string(g[i].branch));
		json_object_object_add(e, "title", json_object_new_string(g[i].title));
		json_object_object_add(e, "changes", json_object_new_int64((int64_t)g[i].changes));
		json_object_object_add(e, "not_located", json_object_new_int64((int64_t)g[i].unlocated));
		json_object_object_add(e, "cleanups_for_approval", json_object_new_int64((int64_t)g[i].destructive));
		json_object_object_add(e, "monthly_savings", kp_json_new_number(round(g[i].monthly_savings * 100) / 100));
		char *rel = kp_xasprintf("pr/%s.md", g[i].group);
		json_object_object_add(e, "body", json_object_new_string(rel));
		free(rel);
		if (g[i].patch) {
			name = kp_xasprintf("%s.patch", g[i].group), p = kp_path_join(dir, name);
			if (!s)
				s = kp_write_file_atomic(p, g[i].patch, strlen(g[i].patch), err);
			free(p), free(name);
			rel = kp_xasprintf("pr/%s.patch", g[i].group);
			json_object_object_add(e, "patch", json_object_new_string(rel));
			free(rel);
		}
		if (!s && forge) {
			kp_git_result gr = KP_GIT_UNCHANGED;
			char *msg = kp_xasprintf("%s\n\n%s", g[i].title, g[i].body);
			s = kp_git_publish(git, g[i].branch, (const char *const *)g[i].files, (const char *const *)g[i].texts,
					   g[i].lens, g[i].nfiles, msg, run->now, &gr, err);
			free(msg);
			static const char *const branch_words[] = {"created", "updated", "unchanged", "left alone"};
			if (!s)
				json_object_object_add(e, "branch_push", json_object_new_string(branch_words[gr]));
			if (!s && gr == KP_GIT_FOREIGN) {
				/* someone else committed to it: theirs now; what kopilot
				 * would have changed goes to the pull request as a
				 * comment, once per change (the marker is the patch's
				 * hash), with the patch in the run */
				foreign++;
				char *text = NULL, *marker = NULL, *url = NULL;
				foreign_comment(&g[i], run_name, &text, &marker);
				bool said = false;
				s = kp_forge_comment(forge, g[i].branch, marker, text, &said, &url, err);
				if (!s && url) {
					json_object_object_add(e, "pull_request", json_object_new_string(said ? "commented" : "already commented"));
					json_object_object_add(e, "url", json_object_new_string(url));
				}
				free(text), free(marker), free(url);
			} else if (!s) {
				kp_pr_action act = KP_PR_UPDATED;
				char *url = NULL;
				s = kp_forge_upsert(forge, g[i].branch, c->pr.base, g[i].title, g[i].body, c->pr.label, gr != KP_GIT_UNCHANGED,
						    &act, &url, err);
				static const char *const pr_words[] = {"created", "updated", "left closed"};
				if (!s) {
					json_object_object_add(e, "pull_request", json_object_new_string(pr_words[act]));
					json_object_object_add(e, "url", json_object_new_string(url));
					counts[act]++;
				}
				free(url);
			}
		}
		json_object_array_add(index, e);
		changes += g[i].changes;
		/* each carried finding links to its pull request, or its patch */
		for (size_t k = 0; g[i].carried && k < json_object_array_length(g[i].carried); k++) {
			json_object *ch = json_object_array_get_idx(g[i].carried, k), *l = json_object_new_object();
			static const char *const keys[] = {"group", "branch", "patch", "url", "pull_request"};
			for (size_t q = 0; q < sizeof(keys) / sizeof(keys[0]); q++)
				if (json_object_object_get(e, keys[q]))
					json_object_object_add(l, keys[q], json_object_get(json_object_object_get(e, keys[q])));
			json_object_object_add(links, kp_json_str(ch, "id") ? kp_json_str(ch, "id") : "", l);
		}
	}
	if (!s) {
		json_object *top = json_object_new_object();
		json_object_object_add(top, "repo", json_object_new_string(c->pr.repo));
		json_object_object_add(top, "base", json_object_new_string(c->pr.base));
		json_object_object_add(top, "forge", json_object_new_string(c->pr.forge));
		json_object_object_add(top, "dry_run", json_object_new_boolean(dry));
		json_object_object_add(top, "pull_requests", json_object_get(index));
		json_object_object_add(top, "not_located", json_object_get(lost));
		char *p = kp_path_join(dir, "index.json");
		const char *txt = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
		s = kp_write_file_atomic(p, txt, strlen(txt), err);
		free(p);
		json_object_put(top);
	}
	if (!s) {
		json_object *ev = json_object_new_object();
		json_object_object_add(ev, "repo", json_object_new_string(c->pr.repo));
		json_object_object_add(ev, "pull_requests", json_object_new_int64((int64_t)prs));
		json_object_object_add(ev, "changes", json_object_new_int64((int64_t)changes));
		json_object_object_add(ev, "not_located", json_object_new_int64((int64_t)unlocated));
		json_object_object_add(ev, "dry_run", json_object_new_boolean(dry));
		kp_audit_event(run->audit, "render.pr", ev);
		if (forge)
			kp_run_note(run, KP_NOTE_INFO,
				    "pull requests on %s: %zu created, %zu updated, %zu left closed (closed without merging, "
				    "nothing new), %zu branch%s left alone (someone else committed to it); %zu resize finding%s "
				    "not in one (pr/index.json says why)",
				    c->pr.forge, counts[KP_PR_CREATED], counts[KP_PR_UPDATED], counts[KP_PR_RESPECTED], foreign,
				    foreign == 1 ? "" : "es", unlocated, unlocated == 1 ? "" : "s");
		else
			kp_run_note(run, KP_NOTE_INFO,
			    "pull requests (dry run%s): %zu, with %zu change%s to manifests; %zu resize finding%s not in one "
			    "(pr/index.json says why): %s/pr/",
			    c->pr.dry_run ? ""
			    : is_gitlab(c) ? ", no token: set GITLAB_TOKEN to open them"
					   : ", no token: set GITHUB_TOKEN to open them",
			    prs, changes, changes == 1 ? "" : "s", unlocated, unlocated == 1 ? "" : "s", run->dir);
	}
	if (s)
		kp_remove_tree(dir); /* no half of the pull requests in the run */
	json_object_put(index);
	json_object_put(lost);
	kp_forge_free(forge);
	kp_git_close(git);
	free(cache);
	free(token);
	free(dir);
	kp_pr_groups_free(g, n);
	json_object_put(doc);
	free(run_name);
	return s;
}

static kp_status render_run(kp_run *run, kp_error *err)
{
	kp_status s0 = check_pr(run->cfg, err);
	if (s0)
		return s0;
	/* findings.json is read twice, never whole: a light pass for what
	 * needs every finding at once (ranking, plan, totals), then a pass
	 * that hands each full finding to the reports and lets it go. Memory
	 * stays at the light forms, whatever the number of findings. */
	char *fpath = kp_path_join(run->dir, "findings.json");
	json_object *doc = NULL;
	kp_report_light *light = NULL;
	kp_status s = read_light(fpath, &doc, &light, err);
	if (s) {
		free(fpath);
		return s;
	}
	size_t expected = kp_report_light_count(light);
	/* entries as findings.json has them (already scoped), strings from a
	 * findings.json before structured entries read as cluster-wide ones */
	json_object *missing = NULL;
	s = kp_missing_from_json(doc, fpath, &missing, err);
	if (s) {
		kp_report_light_free(light);
		json_object_put(doc);
		free(fpath);
		return s;
	}
	json_object *info = json_object_new_object();
	json_object_object_add(info, "version", json_object_new_string(KP_VERSION));
	bool degraded = json_object_array_length(missing) > 0 ||
			json_object_get_int64(kp_json_get(doc, "inconsistencies_total")) > 0;
	json_object_object_add(info, "missing", missing);
	json_object_object_add(info, "missing_excluded_by_scope",
			       json_object_get(kp_json_get(doc, "missing_excluded_by_scope")));
	json_object_object_add(info, "degraded", json_object_new_boolean(degraded));
	/* how many findings report.md shows in detail and as rows (report_md.c) */
	json_object_object_add(info, "detail_findings", json_object_new_int64(run->cfg->render.detail_findings));
	json_object_object_add(info, "row_findings", json_object_new_int64(run->cfg->render.row_findings));
	if (degraded)
		run->degraded = true;
	/* the trend, when recommend made one (a --state-dir run): a view like
	 * the rest, so a damaged history.json costs the trend, not the reports */
	json_object *history = NULL;
	char *hpath = kp_path_join(run->dir, "history.json");
	if (kp_file_exists(hpath)) {
		kp_error he = {0};
		if (kp_json_read_file(hpath, &history, &he) || kp_history_check(history, "history.json", &he)) {
			kp_run_note(run, KP_NOTE_WARN, "render: %s: the reports have no trend", he.msg);
			json_object_put(history);
			history = NULL;
		}
	}
	free(hpath);
	if (history)
		json_object_object_add(info, "history", json_object_get(history));

	const char *tmpl = run->cfg->render.report_template;
	char *md = NULL, *html = NULL;
	char *mdpath = kp_path_join(run->dir, "report.md"), *htmlpath = kp_path_join(run->dir, "report.html"),
	     *xlsxpath = kp_path_join(run->dir, "report.xlsx");
	char title[512];
	kp_buf nsl;
	kp_buf_init(&nsl);
	kp_scope_label(doc, &nsl);
	snprintf(title, sizeof(title), "kopilot report: %s%s",
		 kp_json_str(doc, "cluster.name") ? kp_json_str(doc, "cluster.name") : "cluster", kp_buf_cstr(&nsl));
	kp_buf_release(&nsl);

	/* the pull requests first, so the reports link each finding to its
	 * own. The nightly report does not depend on the forge: a repository
	 * or forge that fails (down, a refused push, a revoked token) makes
	 * the run degraded, with the reason, and the reports land unlinked */
	json_object *links = json_object_new_object();
	if (run->cfg->pr.enabled) {
		kp_error pe = {0};
		kp_status ps = render_prs(run, fpath, links, &pe);
		if (ps == KP_ERR_NOMEM || ps == KP_ERR_INTERNAL) {
			*err = pe;
			s = ps;
		} else if (ps) {
			run->degraded = true;
			kp_run_note(run, KP_NOTE_WARN, "pull requests not opened: %s", pe.msg);
			json_object *ev = json_object_new_object();
			json_object_object_add(ev, "error", json_object_new_string(pe.msg));
			kp_audit_event(run->audit, "render.pr", ev);
			json_object_put(links);
			links = json_object_new_object();
		}
	}
	pass2_t p = {kp_report_begin_light(doc, light, info), NULL, 0, links, NULL};
	/* findings.sarif needs the manifests on disk: a checkout (--repo DIR);
	 * a URL is only cloned for --pr, and the CI that uploads SARIF has the
	 * repository checked out anyway */
	const char *repo = run->cfg->pr.repo;
	if (!s && repo && *repo && !is_remote(repo))
		s = kp_sarif_begin(repo, doc, &p.sarif, err);
	if (!s)
		s = kp_xlsx_begin(doc, xlsxpath, &p.xlsx, err);
	json_object *skeleton = NULL;
	if (!s && history)
		kp_xlsx_history(p.xlsx, history);
	if (!s)
		s = kp_listscan_file(fpath, "findings", FINDINGS_EXPECTED, NULL, add_full, &p, &skeleton, err);
	json_object_put(skeleton);
	if (!s && p.count != expected)
		s = kp_fail(err, KP_ERR_INPUT, "%s: changed while it was read (%zu findings, then %zu)", fpath, expected,
			    p.count);
	/* Each file atomically; the three as a group come from the run
	 * directory: the stage writes into a staging directory that replaces
	 * RUN only when the whole command succeeded (pipeline/rundir.h). */
	if (p.xlsx) {
		kp_status xs = kp_xlsx_end(p.xlsx, !s);
		s = s ? s : xs;
	}
	if (p.sarif && s) {
		kp_sarif_abort(p.sarif);
	} else if (p.sarif) {
		char *text = NULL, *cq = NULL, *spath = kp_path_join(run->dir, "findings.sarif"),
		     *cqpath = kp_path_join(run->dir, "findings.codequality.json");
		size_t nres = 0, nleft = 0;
		s = kp_sarif_end(p.sarif, &text, &cq, &nres, &nleft, err);
		if (!s)
			s = kp_write_file_atomic(spath, text, strlen(text), err);
		if (!s)
			s = kp_write_file_atomic(cqpath, cq, strlen(cq), err);
		if (!s) {
			run->sarif_written = true;
			run->sarif_results = nres, run->sarif_left_out = nleft;
			kp_run_note(run, KP_NOTE_INFO,
				    "render: findings.sarif: %zu result%s located in %s; %zu finding%s left out (no single "
				    "place in the manifests: nodes, volumes, objects no manifest declares%s)",
				    nres, nres == 1 ? "" : "s", repo, nleft, nleft == 1 ? "" : "s",
				    nleft && nres >= KP_SARIF_MAX_RESULTS ? ", or over code scanning's 25,000 results" : "");
			json_object *ev = json_object_new_object();
			json_object_object_add(ev, "results", json_object_new_int64((int64_t)nres));
			json_object_object_add(ev, "left_out", json_object_new_int64((int64_t)nleft));
			json_object_object_add(ev, "repo", json_object_new_string(repo));
			kp_audit_event(run->audit, "render.sarif", ev);
		}
		free(text), free(cq);
		free(spath), free(cqpath);
	}
	json_object *view = kp_report_end(p.view);
	if (!s)
		s = kp_render_markdown_view(view, tmpl, &md, err);
	json_object_put(view);
	char *svg = history ? kp_trend_svg(history) : NULL;
	if (!s)
		s = kp_render_html_trend(md, title, svg, &html, err);
	free(svg);
	if (!s)
		s = kp_write_file_atomic(mdpath, md, strlen(md), err);
	if (!s)
		s = kp_write_file_atomic(htmlpath, html, strlen(html), err);
	if (!s) {
		json_object *ev = json_object_new_object();
		json_object_object_add(ev, "outputs", json_object_new_string("report.md,report.html,report.xlsx"));
		json_object_object_add(ev, "template", json_object_new_string(tmpl ? tmpl : "builtin"));
		kp_audit_event(run->audit, "render", ev);
	}
	free(md);
	free(html);
	free(mdpath);
	free(htmlpath);
	free(xlsxpath);
	free(fpath);
	json_object_put(info);
	json_object_put(history);
	json_object_put(doc);
	json_object_put(links);
	return s;
}

kp_status kp_render_run(kp_run *run, kp_error *err) { return kp_run_guarded(render_run, run, err); }
