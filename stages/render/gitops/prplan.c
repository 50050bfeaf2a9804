/*
 * prplan.c - see prplan.h.
 */
#include "stages/render/gitops/prplan.h"

#include <git2.h>
#include <math.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/quantity.h"
#include "stages/render/gitops/locate.h"
#include "stages/render/gitops/yamledit.h"
#include "stages/render/render.h"

typedef struct {
	char *name;
	json_object *changes, *unlocated, *destructive; /* for the body */
	double savings;
	/* edited files: relative path, text */
	char **files, **texts;
	size_t *lens, nfiles;
	char **olds; /* the files as read (they stay here when files move to the result) */
	size_t *oldlens, nolds;
} grp;

static bool contains_crlf(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n')
			return true;
	return false;
}

static int64_t num(json_object *o, const char *key)
{
	json_object *v = json_object_object_get(o, key);
	return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		       ? json_object_get_int64(v)
		       : -1;
}

static grp *group_of(grp **gs, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*gs)[i].name, name))
			return &(*gs)[i];
	*gs = kp_xrealloc(*gs, (*n + 1) * sizeof(grp));
	grp *g = &(*gs)[(*n)++];
	memset(g, 0, sizeof(*g));
	g->name = kp_xstrdup(name);
	g->changes = json_object_new_array();
	g->unlocated = json_object_new_array();
	g->destructive = json_object_new_array();
	return g;
}

/* a file of the group: as read (old, NULL for a new one) and its text,
 * both of n bytes as they start; owned by the group; its index */
static size_t add_file(grp *g, const char *rel, char *old, char *text, size_t n)
{
	size_t k = g->nfiles++;
	g->files = kp_xrealloc(g->files, g->nfiles * sizeof(char *));
	g->texts = kp_xrealloc(g->texts, g->nfiles * sizeof(char *));
	g->olds = kp_xrealloc(g->olds, g->nfiles * sizeof(char *));
	g->lens = kp_xrealloc(g->lens, g->nfiles * sizeof(size_t));
	g->oldlens = kp_xrealloc(g->oldlens, g->nfiles * sizeof(size_t));
	g->files[k] = kp_xstrdup(rel);
	g->olds[k] = old;
	g->oldlens[k] = old ? n : 0;
	g->texts[k] = text;
	g->lens[k] = n;
	g->nolds = g->nfiles;
	return k;
}

/* the group's current text of a file (read from the checkout the first
 * time) */
static kp_status file_text(grp *g, const char *repo, const char *rel, size_t *idx, kp_error *err)
{
	for (size_t i = 0; i < g->nfiles; i++)
		if (!strcmp(g->files[i], rel)) {
			*idx = i;
			return KP_OK;
		}
	char *path = kp_path_join(repo, rel), *text = NULL;
	size_t n = 0;
	kp_status s = kp_read_file(path, &text, &n, err);
	free(path);
	if (s)
		return s;
	*idx = add_file(g, rel, text, kp_xstrdup(text), n);
	return KP_OK;
}

/* a file the group creates (olds[k] NULL: the patch says "new file") */
static void add_new_file(grp *g, const char *rel, char *text, size_t n) { add_file(g, rel, NULL, text, n); }

static void sizes_text(json_object *sz, bool limits, char *buf, size_t n)
{
	char a[32] = "-", b[32] = "-";
	int64_t c = num(sz, limits ? "cpu_limit_millicores" : "cpu_request_millicores");
	int64_t m = num(sz, limits ? "memory_limit_bytes" : "memory_request_bytes");
	if (c >= 0)
		kp_quantity_format_cpu(c, a, sizeof(a));
	if (m >= 0)
		kp_quantity_format_mem(m, b, sizeof(b));
	snprintf(buf, n, "%s / %s", a, b);
}

static void money(double v, char *buf, size_t n) { snprintf(buf, n, "%s$%.2f", v < 0 ? "-" : "", fabs(v)); }

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void unlocated(grp *g, json_object *f, const char *why)
{
	json_object *r = json_object_object_get(f, "resource");
	json_object *u = json_object_new_object();
	add_str(u, "id", kp_json_str(f, "id"));
	add_str(u, "kind", kp_json_str(r, "kind"));
	add_str(u, "namespace", kp_json_str(r, "namespace"));
	add_str(u, "name", kp_json_str(r, "name"));
	add_str(u, "container", kp_json_str(f, "container"));
	add_str(u, "why", why);
	json_object_array_add(g->unlocated, u);
}

/* A finding's edits, held until all of them succeed: the new text of
 * each file of the group they touch. */
#define PEND_MAX 9 /* the finding's file and up to 8 related changes */
typedef struct {
	size_t idx[PEND_MAX];
	char *text[PEND_MAX];
	size_t len[PEND_MAX];
	size_t n;
} pending;

/* file idx's text as the edits so far leave it; its slot (p->n: none yet) */
static size_t pend_view(const pending *p, const grp *g, size_t idx, const char **text, size_t *len)
{
	*text = g->texts[idx], *len = g->lens[idx];
	for (size_t k = 0; k < p->n; k++)
		if (p->idx[k] == idx) {
			*text = p->text[k], *len = p->len[k];
			return k;
		}
	return p->n;
}

/* file idx's new text in slot (pend_view's) */
static void pend_set(pending *p, size_t slot, size_t idx, char *text, size_t len)
{
	if (slot < p->n)
		free(p->text[slot]);
	else
		p->n++;
	p->idx[slot] = idx, p->text[slot] = text, p->len[slot] = len;
}

/* One resize finding: located and edited in the group's copy of its file. */
static void resize(grp *g, json_object *f, const kp_manifests *m, const char *repo)
{
	json_object *r = json_object_object_get(f, "resource");
	const char *kind = kp_json_str(r, "kind"), *ns = kp_json_str(r, "namespace"), *name = kp_json_str(r, "name");
	const char *cont = kp_json_str(f, "container");
	if (!kind || !ns || !name || !cont) {
		unlocated(g, f, "the finding names no kind, namespace, name and container");
		return;
	}
	const char *mk = kp_json_str(r, "managed_by.kind"), *mn = kp_json_str(r, "managed_by.name");
	if (mk && mn) { /* the operator writes the workload: an edit to it would be reverted */
		char *why = kp_xasprintf("%s %s is written by its controller %s %s (an operator's resource): change the "
					 "resources in that resource's spec",
					 kind, name, mk, mn);
		unlocated(g, f, why);
		free(why);
		return;
	}
	kp_manifest_loc loc;
	char *why = NULL;
	kp_manifest_query q = {kind, ns, name, cont, kp_json_str(r, "gitops.argocd_app"),
			       kp_json_str(r, "gitops.flux_kustomization"), kp_json_str(r, "gitops.helm_release")};
	if (!kp_manifests_locate(m, &q, &loc, &why)) {
		unlocated(g, f, why);
		free(why);
		return;
	}
	json_object *cur = json_object_object_get(f, "current"), *rec = json_object_object_get(f, "recommended");
	int64_t v[4], c[4];
	static const char *const keys[4] = {"cpu_request_millicores", "memory_request_bytes", "cpu_limit_millicores",
					    "memory_limit_bytes"};
	for (int i = 0; i < 4; i++) {
		v[i] = num(rec, keys[i]), c[i] = num(cur, keys[i]);
		if (v[i] < 0 || v[i] == c[i])
			v[i] = KP_YAML_KEEP;
	}
	/* a CPU limit the recommendation drops (rightsizing.throttled_cpu_limit: remove) */
	if (num(rec, keys[2]) < 0 && c[2] >= 0)
		v[2] = KP_YAML_REMOVE;
	/* the edits go to copies first: the finding's files change together or
	 * not at all (an HPA whose target moves with the requests, FINDINGS.md
	 * related_changes, is edited with them) */
	pending pd = {{0}, {0}, {0}, 0};
	json_object *rel = json_object_object_get(f, "related_changes");
	kp_buf reason;
	kp_buf_init(&reason);
	for (size_t i = 0; rel && i < json_object_array_length(rel) && !reason.len; i++) {
		json_object *rc = json_object_array_get_idx(rel, i);
		const char *rk = kp_json_str(rc, "resource.kind"), *rn = kp_json_str(rc, "resource.name");
		const char *rns = kp_json_str(rc, "resource.namespace"), *ptr = kp_json_str(rc, "path");
		json_object *was = json_object_object_get(rc, "current"), *to = json_object_object_get(rc, "recommended");
		if (!rk || strcmp(rk, "HorizontalPodAutoscaler") || !rn || !ptr || !was || !to || pd.n == PEND_MAX - 1) {
			kp_buf_printf(&reason, "a related change to %s %s is not carried by pull requests",
				      rk ? rk : "another object", rn ? rn : "");
			break;
		}
		kp_manifest_loc hl;
		char *hwhy = NULL;
		if (!kp_manifests_find(m, rk, rns ? rns : ns, rn, &hl, &hwhy)) {
			kp_buf_printf(&reason, "its HorizontalPodAutoscaler's target must change with it, and %s", hwhy);
			free(hwhy);
			break;
		}
		size_t hidx = 0;
		kp_error fe = {0};
		if (file_text(g, repo, hl.file, &hidx, &fe)) {
			kp_buf_puts(&reason, fe.msg);
			break;
		}
		const char *base_text;
		size_t base_len, slot = pend_view(&pd, g, hidx, &base_text, &base_len);
		char *out = NULL;
		size_t outn = 0;
		kp_error e = {0};
		if (kp_yaml_edit_scalar(hl.file, base_text, base_len, hl.doc, ptr, json_object_get_string(was),
					json_object_get_string(to), &out, &outn, &e)) {
			kp_buf_printf(&reason, "its HorizontalPodAutoscaler's target must change with it: %s", e.msg);
			break;
		}
		pend_set(&pd, slot, hidx, out, outn);
	}
	size_t idx = 0;
	if (!reason.len) {
		kp_error fe = {0};
		if (file_text(g, repo, loc.file, &idx, &fe))
			kp_buf_puts(&reason, fe.msg);
	}
	kp_yaml_resources want = {cont, v[0], v[2], v[1], v[3], loc.mode == KP_LOC_MARKED ? loc.at_line : 0};
	/* a shared base: a new patch file for the overlay, and the overlay's
	 * kustomization lists it (the edit below) */
	char *new_text = NULL;
	size_t new_len = 0;
	const char *edit_file = loc.file;
	if (!reason.len && loc.mode == KP_LOC_ADD_PATCH) {
		const char *base_text;
		size_t base_len;
		pend_view(&pd, g, idx, &base_text, &base_len);
		char *comment = kp_xasprintf("kopilot: the resources of %s %s/%s, container %s, in this overlay only:\n"
					     "%s is shared with other overlays.",
					     kind, ns, name, cont, loc.file);
		kp_error e = {0};
		if (kp_yaml_resources_patch(loc.file, base_text, base_len, loc.doc, &want, comment, &new_text, &new_len, &e))
			kp_buf_puts(&reason, e.msg);
		free(comment);
		kp_error fe = {0};
		if (!reason.len && file_text(g, repo, loc.kust_file, &idx, &fe))
			kp_buf_puts(&reason, fe.msg);
		edit_file = loc.kust_file;
	}
	int changed = 0;
	if (!reason.len) {
		const char *base_text;
		size_t base_len, slot = pend_view(&pd, g, idx, &base_text, &base_len);
		char *out = NULL;
		size_t outn = 0;
		kp_error e = {0};
		const char *slash = strrchr(loc.new_file, '/');
		kp_status es = loc.mode == KP_LOC_ADD_PATCH
				       ? kp_yaml_kustomization_add_patch(edit_file, base_text, base_len,
									 slash ? slash + 1 : loc.new_file, &out, &outn, &e)
				       : kp_yaml_edit_resources(loc.file, base_text, base_len, loc.doc, &want, &out, &outn,
								&changed, &e);
		if (loc.mode == KP_LOC_ADD_PATCH && !es)
			changed = 1;
		if (es) {
			kp_buf_puts(&reason, e.msg);
		} else if (!changed) {
			free(out);
			kp_buf_puts(&reason, "the manifest already says so (the cluster runs something else than the repository)");
		} else {
			pend_set(&pd, slot, idx, out, outn);
		}
	}
	if (reason.len) {
		unlocated(g, f, kp_buf_cstr(&reason));
		for (size_t k = 0; k < pd.n; k++)
			free(pd.text[k]);
		free(new_text);
		kp_buf_release(&reason);
		return;
	}
	kp_buf_release(&reason);
	for (size_t k = 0; k < pd.n; k++) {
		free(g->texts[pd.idx[k]]);
		g->texts[pd.idx[k]] = pd.text[k];
		g->lens[pd.idx[k]] = pd.len[k];
	}
	if (new_text)
		add_new_file(g, loc.new_file, new_text, new_len);
	double sav = 0;
	json_object *sv = json_object_object_get(f, "monthly_savings");
	if (sv)
		sav = json_object_get_double(sv);
	g->savings += sav;
	json_object *ch = json_object_new_object();
	add_str(ch, "id", kp_json_str(f, "id"));
	add_str(ch, "kind", kind);
	add_str(ch, "namespace", ns);
	add_str(ch, "name", name);
	add_str(ch, "container", cont);
	bool added = loc.mode == KP_LOC_ADD_PATCH;
	add_str(ch, "file", added ? loc.new_file : loc.file);
	json_object_object_add(ch, "line", json_object_new_int64(added ? 1 : (int64_t)loc.line));
	add_str(ch, "how", loc.how);
	char buf[96];
	sizes_text(cur, false, buf, sizeof(buf));
	add_str(ch, "current_requests", buf);
	sizes_text(rec, false, buf, sizeof(buf));
	add_str(ch, "proposed_requests", buf);
	sizes_text(cur, true, buf, sizeof(buf));
	add_str(ch, "current_limits", buf);
	sizes_text(rec, true, buf, sizeof(buf));
	add_str(ch, "proposed_limits", buf);
	money(sav, buf, sizeof(buf));
	add_str(ch, "savings", buf);
	add_str(ch, "confidence", kp_json_str(f, "confidence"));
	add_str(ch, "risk", kp_json_str(f, "risk"));
	add_str(ch, "explanation", kp_json_str(f, "explanation"));
	json_object *ev = json_object_new_array();
	json_object *fe = json_object_object_get(f, "evidence");
	for (size_t i = 0; fe && i < json_object_array_length(fe); i++) {
		json_object *x = json_object_array_get_idx(fe, i);
		const char *d = kp_json_str(x, "description");
		if (!d)
			d = kp_json_str(x, "summary");
		if (d)
			json_object_array_add(ev, json_object_new_string(d));
	}
	json_object_object_add(ch, "evidence", ev);
	json_object_array_add(g->changes, ch);
	return;
}

static void destructive(grp *g, json_object *f)
{
	json_object *r = json_object_object_get(f, "resource"), *d = json_object_new_object();
	add_str(d, "category", kp_json_str(f, "category"));
	add_str(d, "namespace", kp_json_str(r, "namespace"));
	add_str(d, "name", kp_json_str(r, "name"));
	add_str(d, "command", kp_json_str(f, "action.command"));
	char buf[32];
	json_object *sv = json_object_object_get(f, "monthly_savings");
	money(sv ? json_object_get_double(sv) : 0, buf, sizeof(buf));
	add_str(d, "savings", buf);
	json_object_array_add(g->destructive, d);
}

/* The patch: an mbox message `git am` applies, one diff per edited file.
 * A file with CRLF line endings makes the body base64 (MIME): git am
 * drops the CR of every plain line it reads (unless --keep-cr), and the
 * encoded body keeps them. */
static kp_status make_patch(const grp *g, const char *title, const kp_pr_opts *o, char **out, kp_error *err)
{
	kp_buf b;
	kp_buf_init(&b);
	char date[64];
	time_t t = (time_t)o->now;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	kp_buf_printf(&b, "Rightsizing from the kopilot run of %s: see the pull request body (pr/%s.md).\n---\n",
		      o->run_name ? o->run_name : "", g->name);
	git_libgit2_init();
	kp_status s = KP_OK;
	for (size_t i = 0; i < g->nfiles && !s; i++) {
		if (g->olds[i] && g->lens[i] == g->oldlens[i] && !memcmp(g->texts[i], g->olds[i], g->lens[i]))
			continue;
		git_patch *p = NULL;
		git_buf gb = {0};
		git_diff_options opts;
		git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
		opts.context_lines = 3;
		/* the paths as they are: libgit2 adds the a/ and b/ */
		if (git_patch_from_buffers(&p, g->olds[i], g->oldlens[i], g->olds[i] ? g->files[i] : NULL, g->texts[i],
					   g->lens[i], g->files[i], &opts) ||
		    git_patch_to_buf(&gb, p)) {
			const git_error *ge = git_error_last();
			s = kp_fail(err, KP_ERR_IO, "%s: the diff failed (libgit2: %s)", g->files[i],
				    ge && ge->message ? ge->message : "unknown error");
		} else {
			kp_buf_add(&b, gb.ptr, gb.size);
		}
		git_buf_dispose(&gb);
		git_patch_free(p);
	}
	git_libgit2_shutdown();
	kp_buf_printf(&b, "-- \nkopilot %s\n\n", KP_VERSION);
	if (s) {
		kp_buf_release(&b);
		return s;
	}
	bool crlf = contains_crlf(kp_buf_cstr(&b), b.len);
	kp_buf m;
	kp_buf_init(&m);
	kp_buf_printf(&m,
		      "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
		      "From: kopilot <kopilot@localhost>\nDate: %s\nSubject: [PATCH] %s\nMIME-Version: 1.0\n"
		      "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: %s\n\n",
		      date, title, crlf ? "base64" : "8bit");
	if (crlf)
		kp_base64_append(&m, kp_buf_cstr(&b), b.len, 76); /* lines of 76, as MIME wants */
	else
		kp_buf_add(&m, kp_buf_cstr(&b), b.len);
	kp_buf_release(&b);
	*out = kp_buf_detach(&m);
	return KP_OK;
}

static int cmp_grp(const void *a, const void *b) { return strcmp(((const grp *)a)->name, ((const grp *)b)->name); }

static kp_status finish_group(grp *g, const kp_pr_opts *o, const char *window, kp_pr_group *out, kp_error *err)
{
	memset(out, 0, sizeof(*out));
	out->group = kp_xstrdup(g->name);
	out->branch = kp_xasprintf("kopilot/%s", g->name);
	size_t nc = json_object_array_length(g->changes);
	/* the net: reliability fixes cost, the rest saves */
	char sav[32], what[48];
	money(fabs(g->savings), sav, sizeof(sav));
	snprintf(what, sizeof(what), "%s %s a month", g->savings < 0 ? "costs" : "saves", sav);
	out->title = strcmp(g->name, "run")
			     ? kp_xasprintf("kopilot: rightsize %zu container%s in %s (%s)", nc, nc == 1 ? "" : "s",
					    g->name, what)
			     : kp_xasprintf("kopilot: rightsize %zu container%s (%s)", nc, nc == 1 ? "" : "s", what);
	out->changes = nc;
	out->not_located = json_object_get(g->unlocated);
	out->carried = json_object_get(g->changes);
	out->unlocated = json_object_array_length(g->unlocated);
	out->destructive = json_object_array_length(g->destructive);
	out->monthly_savings = g->savings;
	kp_status s = nc ? make_patch(g, out->title, o, &out->patch, err) : KP_OK;
	json_object *ctx = json_object_new_object();
	add_str(ctx, "group", strcmp(g->name, "run") ? g->name : "the whole run");
	json_object_object_add(ctx, "changes", json_object_get(g->changes));
	json_object_object_add(ctx, "changes_count", json_object_new_int64((int64_t)nc));
	add_str(ctx, "changes_plural", nc == 1 ? "" : "s");
	add_str(ctx, "monthly_savings", sav);
	json_object_object_add(ctx, "saves", json_object_new_boolean(g->savings >= 0));
	add_str(ctx, "window", window);
	json_object_object_add(ctx, "unlocated", json_object_get(g->unlocated));
	json_object_object_add(ctx, "has_unlocated", json_object_new_boolean(out->unlocated > 0));
	json_object_object_add(ctx, "destructive", json_object_get(g->destructive));
	json_object_object_add(ctx, "has_destructive", json_object_new_boolean(out->destructive > 0));
	add_str(ctx, "version", KP_VERSION);
	add_str(ctx, "run", o->run_name);
	if (o->report)
		add_str(ctx, "report", o->report);
	add_str(ctx, "branch", out->branch);
	if (!s)
		s = kp_mustache_render_markdown(kp_template_pr_body(), "templates/pr-body.md.mustache", ctx, &out->body,
						err);
	json_object_put(ctx);
	/* the edited files move to the result */
	out->files = g->files, out->texts = g->texts, out->lens = g->lens, out->nfiles = g->nfiles;
	g->files = g->texts = NULL, g->lens = NULL, g->nfiles = 0;
	return s;
}

static void grp_release(grp *g)
{
	for (size_t i = 0; i < g->nfiles; i++)
		free(g->files[i]), free(g->texts[i]);
	for (size_t i = 0; i < g->nolds; i++)
		free(g->olds[i]);
	free(g->olds), free(g->oldlens);
	free(g->files), free(g->texts), free(g->lens);
	free(g->name);
	json_object_put(g->changes), json_object_put(g->unlocated), json_object_put(g->destructive);
}

kp_status kp_pr_plan(json_object *doc, const kp_pr_opts *o, kp_pr_group **out, size_t *n, kp_error *err)
{
	*out = NULL;
	*n = 0;
	kp_manifests *m = NULL;
	kp_status s = kp_manifests_scan(o->repo_dir, &m, err);
	if (s)
		return s;
	bool per_run = o->group_by && !strcmp(o->group_by, "run");
	bool per_team = o->group_by && !strcmp(o->group_by, "team");
	grp *gs = NULL;
	size_t ng = 0;
	json_object *fs = json_object_object_get(doc, "findings");
	for (size_t i = 0; !s && fs && i < json_object_array_length(fs); i++) {
		json_object *f = json_object_array_get_idx(fs, i);
		const char *type = kp_json_str(f, "action.type"), *ns = kp_json_str(f, "resource.namespace");
		json_object *bl = kp_json_get(f, "action.blocked"), *de = kp_json_get(f, "action.destructive");
		if (!type || (bl && json_object_get_boolean(bl)))
			continue; /* blocked (a protected namespace): never proposed */
		bool is_resize = !strcmp(type, "resize");
		bool is_destructive = de && json_object_get_boolean(de) && !is_resize;
		if (!is_resize && !is_destructive)
			continue;
		/* by team: "team-<label value>" (a namespace of the same name is
		 * another group); what has no team goes by its namespace */
		const char *team = per_team ? kp_json_str(f, "resource.team") : NULL;
		char tname[96];
		snprintf(tname, sizeof(tname), "team-%.80s", team ? team : "");
		grp *g = group_of(&gs, &ng, per_run ? "run" : team && *team ? tname : ns && *ns ? ns : "cluster");
		if (is_resize)
			resize(g, f, m, o->repo_dir);
		else
			destructive(g, f);
	}
	if (ng)
		qsort(gs, ng, sizeof(grp), cmp_grp);
	/* "14 days of usage", from the findings' window */
	char window[64] = "the usage window";
	int64_t ws = 0, we = 0;
	const char *wss = kp_json_str(doc, "window.start"), *wes = kp_json_str(doc, "window.end");
	if (wss && wes && kp_time_parse(wss, &ws) && kp_time_parse(wes, &we) && we > ws) {
		int64_t d = we - ws;
		if (d % 86400 == 0)
			snprintf(window, sizeof(window), "%lld day%s of usage", (long long)(d / 86400), d == 86400 ? "" : "s");
		else
			snprintf(window, sizeof(window), "%lld hours of usage", (long long)((d + 3599) / 3600));
	}
	kp_pr_group *res = kp_xcalloc(ng ? ng : 1, sizeof(*res));
	size_t nres = 0;
	for (size_t i = 0; i < ng; i++) {
		if (!s)
			s = finish_group(&gs[i], o, window, &res[nres++], err);
		grp_release(&gs[i]);
	}
	free(gs);
	kp_manifests_free(m);
	if (s) {
		kp_pr_groups_free(res, nres);
		return s;
	}
	*out = res;
	*n = nres;
	return KP_OK;
}

void kp_pr_groups_free(kp_pr_group *g, size_t n)
{
	for (size_t i = 0; g && i < n; i++) {
		free(g[i].group), free(g[i].branch), free(g[i].title), free(g[i].patch), free(g[i].body);
		json_object_put(g[i].not_located);
		json_object_put(g[i].carried);
		for (size_t k = 0; k < g[i].nfiles; k++)
			free(g[i].files[k]), free(g[i].texts[k]);
		free(g[i].files), free(g[i].texts), free(g[i].lens);
	}
	free(g);
}
