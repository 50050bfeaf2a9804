/*
 * forge.c - see forge.h.
 *
 * One upsert for both forges; what differs (paths, field names, states,
 * the "already exists" status) is in the small functions per forge below.
 */
#include "stages/render/gitops/forge.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/http.h"

struct kp_forge {
	kp_forge_kind kind;
	const char *name; /* "GitHub", "GitLab": for messages */
	kp_http_client *http;
	char *owner, *repo, *api;
	char *project; /* GitLab: the project's full path, URL-encoded */
};

/* The repository's path in the clone URL, without ".git" and slashes at
 * either end ("acme/k8s-manifests", "group/sub/repo"), and where its API
 * is by default: *web "https://host[:port]" (http for an http:// URL). */
static kp_status repo_path(const char *url, char **path, char **web, kp_error *err)
{
	*path = *web = NULL;
	const char *scheme = strstr(url, "://"), *host = NULL, *end = NULL;
	if (scheme) {
		host = scheme + 3;
		end = strchr(host, '/');
	} else {
		const char *colon = strchr(url, ':'), *fs = strchr(url, '/');
		if (colon && (!fs || colon < fs))
			host = url, end = colon; /* git@host:owner/repo.git */
	}
	if (!host || !end || !end[1])
		return kp_fail(err, KP_ERR_USAGE, "pr.repo %s: no OWNER/REPO in its path", url);
	const char *at = memchr(host, '@', (size_t)(end - host));
	if (at)
		host = at + 1;
	char *s = kp_xstrdup(end + 1);
	size_t n = strlen(s);
	while (n && s[n - 1] == '/')
		s[--n] = '\0';
	if (n > 4 && !strcmp(s + n - 4, ".git"))
		s[n - 4] = '\0';
	char *last = strrchr(s, '/');
	if (!last || last == s || !last[1]) {
		free(s);
		return kp_fail(err, KP_ERR_USAGE, "pr.repo %s: no OWNER/REPO in its path", url);
	}
	*path = s;
	*web = kp_xasprintf("%s://%.*s", scheme && !strncmp(url, "http://", 7) ? "http" : "https", (int)(end - host),
			    host);
	if (!scheme) { /* scp-like: no port in the host part */
		char *c = strchr(*web + 8, ':');
		if (c)
			*c = '\0';
	}
	return KP_OK;
}

static char *url_encode_path(const char *s)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_url_escape_append(&b, s);
	return kp_buf_detach(&b);
}

kp_status kp_forge_new(kp_forge_kind kind, const char *repo_url, const char *api_url, const char *token,
		       kp_forge **out, kp_error *err)
{
	*out = NULL;
	const char *name = kind == KP_FORGE_GITLAB ? "GitLab" : "GitHub";
	if (!token || !*token)
		return kp_fail(err, KP_ERR_USAGE, "%s needs a token to open %s: set %s (or GIT_TOKEN, or pr.token_file)",
			       name, kind == KP_FORGE_GITLAB ? "merge requests" : "pull requests",
			       kind == KP_FORGE_GITLAB ? "GITLAB_TOKEN" : "GITHUB_TOKEN");
	kp_forge *f = kp_xcalloc(1, sizeof(*f));
	f->kind = kind;
	f->name = name;
	char *path = NULL, *web = NULL;
	kp_status s = repo_path(repo_url, &path, &web, err);
	if (!s) {
		char *slash = strrchr(path, '/');
		f->repo = kp_xstrdup(slash + 1);
		*slash = '\0';
		const char *o = strrchr(path, '/');
		f->owner = kp_xstrdup(o ? o + 1 : path);
		*slash = '/';
		f->project = url_encode_path(path); /* GitLab: the project's full path, / as %2F */
	}
	if (!s && api_url && *api_url)
		f->api = kp_xstrdup(api_url);
	else if (!s && kind == KP_FORGE_GITLAB)
		/* gitlab.com, or a self-managed GitLab on its own host */
		f->api = kp_xasprintf("%s/api/v4", web);
	else if (!s)
		/* github.com, or GitHub Enterprise Server on its own host */
		f->api = !strcmp(web, "https://github.com") ? kp_xstrdup("https://api.github.com")
							     : kp_xasprintf("%s/api/v3", web);
	free(path), free(web);
	static const char *const gh_headers[] = {"X-GitHub-Api-Version: 2022-11-28", "Accept: application/vnd.github+json",
						 NULL};
	kp_http_opts o = {0};
	o.what = name;
	o.base_url = f->api;
	o.token = token; /* Authorization: Bearer: GitHub and GitLab (personal, project and OAuth tokens) */
	o.headers = kind == KP_FORGE_GITHUB ? gh_headers : NULL;
	o.max_attempts = 4;
	if (!s)
		s = kp_http_new(&o, &f->http, err);
	if (s) {
		kp_forge_free(f);
		return s;
	}
	*out = f;
	return KP_OK;
}

kp_status kp_forge_github(const char *repo_url, const char *api_url, const char *token, kp_forge **out,
			  kp_error *err)
{
	return kp_forge_new(KP_FORGE_GITHUB, repo_url, api_url, token, out, err);
}

const char *kp_forge_api(const kp_forge *f) { return f->api; }

void kp_forge_free(kp_forge *f)
{
	if (!f)
		return;
	kp_http_free(f->http);
	free(f->owner), free(f->repo), free(f->api), free(f->project);
	free(f);
}

/* GitLab's message is a string, a list of strings, or an object of
 * field: [messages] */
static void message_of(json_object *e, kp_buf *b)
{
	json_object *m = json_object_object_get(e, "message");
	if (!m)
		m = json_object_object_get(e, "error");
	if (json_object_is_type(m, json_type_string)) {
		kp_buf_puts(b, json_object_get_string(m));
	} else if (m) {
		const char *t = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		kp_buf_printf(b, "%.300s", t);
	}
}

/* one call; *doc the parsed answer of a 2xx, else an error naming the
 * call and the forge's message (*status the HTTP status either way) */
static kp_status call(kp_forge *f, const char *method, const char *path, json_object *body, json_object **doc,
		      long *status, kp_error *err)
{
	*doc = NULL;
	const char *text = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : "";
	kp_buf out;
	kp_buf_init(&out);
	kp_http_result res;
	kp_status s = kp_http_send(f->http, method, path, body ? "application/json" : NULL, text, strlen(text), &out,
				   64u << 20, &res, err);
	*status = res.status;
	if (!s && res.status >= 200 && res.status <= 299) {
		*doc = json_tokener_parse(out.len ? kp_buf_cstr(&out) : "null");
		if (!*doc && out.len)
			s = kp_fail(err, KP_ERR_NETWORK, "%s: %s %s: the answer is not JSON", f->name, method, path);
	} else if (!s) {
		json_object *e = res.body ? json_tokener_parse(res.body) : NULL;
		kp_buf m;
		kp_buf_init(&m);
		message_of(e, &m);
		s = kp_fail(err, res.status == 401 || res.status == 403 ? KP_ERR_USAGE : KP_ERR_NETWORK,
			    "%s: %s %s: %s%s%s%s", f->name, method, path, kp_http_reason(res.status), m.len ? ": " : "",
			    kp_buf_cstr(&m),
			    res.status != 401 ? ""
			    : f->kind == KP_FORGE_GITLAB ? " (check GITLAB_TOKEN: a token with the api scope)"
							 : " (check GITHUB_TOKEN)");
		kp_buf_release(&m);
		json_object_put(e);
	}
	kp_http_result_release(&res);
	kp_buf_release(&out);
	return s;
}

/* ---- what differs per forge ---- */

static long long number_of(const kp_forge *f, json_object *pr)
{
	return (long long)json_object_get_int64(json_object_object_get(pr, f->kind == KP_FORGE_GITLAB ? "iid" : "number"));
}

static char *url_of(const kp_forge *f, json_object *pr)
{
	const char *u = json_object_get_string(json_object_object_get(pr, f->kind == KP_FORGE_GITLAB ? "web_url" : "html_url"));
	return kp_xstrdup(u ? u : "");
}

/* the pull (merge) requests' collection, or one of them (n > 0), with a
 * tail ("/notes", "/comments" ...) */
static void pr_path(const kp_forge *f, long long n, const char *tail, char *buf, size_t len)
{
	if (f->kind == KP_FORGE_GITLAB && n > 0)
		snprintf(buf, len, "/projects/%s/merge_requests/%lld%s", f->project, n, tail);
	else if (f->kind == KP_FORGE_GITLAB)
		snprintf(buf, len, "/projects/%s/merge_requests%s", f->project, tail);
	else if (n > 0 && *tail) /* labels and comments are the issue's */
		snprintf(buf, len, "/repos/%s/%s/issues/%lld%s", f->owner, f->repo, n, tail);
	else if (n > 0)
		snprintf(buf, len, "/repos/%s/%s/pulls/%lld", f->owner, f->repo, n);
	else
		snprintf(buf, len, "/repos/%s/%s/pulls%s", f->owner, f->repo, tail);
}

/* the pull requests with this head: the open one, and the most recent
 * closed without merging */
static kp_status find(kp_forge *f, const char *head, json_object **open_pr, json_object **closed_pr, kp_error *err)
{
	*open_pr = *closed_pr = NULL;
	char path[1024], *enc = url_encode_path(head);
	if (f->kind == KP_FORGE_GITLAB)
		snprintf(path, sizeof(path), "/projects/%s/merge_requests?source_branch=%s&state=all&per_page=100",
			 f->project, enc);
	else
		snprintf(path, sizeof(path), "/repos/%s/%s/pulls?head=%s:%s&state=all&per_page=100", f->owner, f->repo,
			 f->owner, enc);
	free(enc);
	json_object *doc = NULL;
	long st = 0;
	kp_status s = call(f, "GET", path, NULL, &doc, &st, err);
	for (size_t i = 0; !s && json_object_is_type(doc, json_type_array) && i < json_object_array_length(doc); i++) {
		json_object *pr = json_object_array_get_idx(doc, i);
		const char *state = json_object_get_string(json_object_object_get(pr, "state"));
		const char *ref = json_object_get_string(
			f->kind == KP_FORGE_GITLAB ? json_object_object_get(pr, "source_branch") : kp_json_get(pr, "head.ref"));
		if (!ref || strcmp(ref, head))
			continue; /* the API filters; a fork's branch of the same name is not ours */
		if (f->kind == KP_FORGE_GITLAB && json_object_get_int64(json_object_object_get(pr, "source_project_id")) &&
		    json_object_get_int64(json_object_object_get(pr, "target_project_id")) &&
		    json_object_get_int64(json_object_object_get(pr, "source_project_id")) !=
			    json_object_get_int64(json_object_object_get(pr, "target_project_id")))
			continue; /* from a fork */
		bool open = state && (!strcmp(state, "open") || !strcmp(state, "opened"));
		bool merged = state && !strcmp(state, "merged");
		if (!merged && json_object_get_string(json_object_object_get(pr, "merged_at")))
			merged = true;
		if (open && !*open_pr)
			*open_pr = json_object_get(pr);
		else if (!open && !merged && !*closed_pr)
			*closed_pr = json_object_get(pr);
	}
	json_object_put(doc);
	return s;
}

static kp_status label(kp_forge *f, json_object *pr, const char *lbl, kp_error *err)
{
	if (!lbl || f->kind == KP_FORGE_GITLAB) /* GitLab: set with the create or update */
		return KP_OK;
	char path[512];
	pr_path(f, number_of(f, pr), "/labels", path, sizeof(path));
	json_object *b = json_object_new_object(), *arr = json_object_new_array(), *doc = NULL;
	json_object_array_add(arr, json_object_new_string(lbl));
	json_object_object_add(b, "labels", arr);
	long st = 0;
	kp_status s = call(f, "POST", path, b, &doc, &st, err);
	json_object_put(b);
	json_object_put(doc);
	return s;
}

static kp_status update(kp_forge *f, json_object *pr, const char *title, const char *body, const char *lbl,
			kp_error *err)
{
	char path[512];
	pr_path(f, number_of(f, pr), "", path, sizeof(path));
	json_object *b = json_object_new_object(), *doc = NULL;
	json_object_object_add(b, "title", json_object_new_string(title));
	json_object_object_add(b, f->kind == KP_FORGE_GITLAB ? "description" : "body", json_object_new_string(body));
	if (lbl && f->kind == KP_FORGE_GITLAB)
		json_object_object_add(b, "add_labels", json_object_new_string(lbl));
	long st = 0;
	kp_status s = call(f, f->kind == KP_FORGE_GITLAB ? "PUT" : "PATCH", path, b, &doc, &st, err);
	json_object_put(b);
	json_object_put(doc);
	if (!s)
		s = label(f, pr, lbl, err);
	return s;
}

static kp_status create(kp_forge *f, const char *head, const char *base, const char *title, const char *body,
			const char *lbl, json_object **doc, long *st, kp_error *err)
{
	char path[512];
	pr_path(f, 0, "", path, sizeof(path));
	json_object *b = json_object_new_object();
	json_object_object_add(b, "title", json_object_new_string(title));
	if (f->kind == KP_FORGE_GITLAB) {
		json_object_object_add(b, "source_branch", json_object_new_string(head));
		json_object_object_add(b, "target_branch", json_object_new_string(base));
		json_object_object_add(b, "description", json_object_new_string(body));
		if (lbl)
			json_object_object_add(b, "labels", json_object_new_string(lbl));
	} else {
		json_object_object_add(b, "head", json_object_new_string(head));
		json_object_object_add(b, "base", json_object_new_string(base));
		json_object_object_add(b, "body", json_object_new_string(body));
	}
	kp_status s = call(f, "POST", path, b, doc, st, err);
	json_object_put(b);
	if (!s)
		s = label(f, *doc, lbl, err);
	return s;
}

kp_status kp_forge_upsert(kp_forge *f, const char *head, const char *base, const char *title, const char *body,
			  const char *lbl, bool branch_changed, kp_pr_action *action, char **url, kp_error *err)
{
	*url = NULL;
	json_object *open_pr = NULL, *closed_pr = NULL;
	kp_status s = find(f, head, &open_pr, &closed_pr, err);
	if (!s && open_pr) {
		s = update(f, open_pr, title, body, lbl, err);
		*action = KP_PR_UPDATED;
		*url = url_of(f, open_pr);
	} else if (!s && closed_pr && !branch_changed) {
		/* someone closed it without merging, and kopilot has nothing
		 * new to say: closed it stays */
		*action = KP_PR_RESPECTED;
		*url = url_of(f, closed_pr);
	} else if (!s) {
		json_object *doc = NULL;
		long st = 0;
		s = create(f, head, base, title, body, lbl, &doc, &st, err);
		if (s && (st == 422 || st == 409)) {
			/* "already exists" (GitHub 422, GitLab 409): someone, or a
			 * run before, opened it meanwhile: update that one */
			kp_error e2 = {0};
			json_object_put(open_pr), json_object_put(closed_pr);
			if (find(f, head, &open_pr, &closed_pr, &e2) == KP_OK && open_pr) {
				s = update(f, open_pr, title, body, lbl, err);
				*action = KP_PR_UPDATED;
				*url = url_of(f, open_pr);
			}
		} else if (!s) {
			*action = KP_PR_CREATED;
			*url = url_of(f, doc);
		}
		json_object_put(doc);
	}
	json_object_put(open_pr);
	json_object_put(closed_pr);
	if (s) {
		free(*url);
		*url = NULL;
	}
	return s;
}

kp_status kp_forge_comment(kp_forge *f, const char *head, const char *marker, const char *text, bool *commented,
			   char **url, kp_error *err)
{
	*commented = false;
	*url = NULL;
	json_object *open_pr = NULL, *closed_pr = NULL;
	kp_status s = find(f, head, &open_pr, &closed_pr, err);
	json_object_put(closed_pr);
	if (s || !open_pr) {
		json_object_put(open_pr);
		return s; /* no open pull request: nobody to tell */
	}
	*url = url_of(f, open_pr);
	char path[512];
	pr_path(f, number_of(f, open_pr), f->kind == KP_FORGE_GITLAB ? "/notes?per_page=100" : "/comments?per_page=100",
		path, sizeof(path));
	json_object *doc = NULL;
	long st = 0;
	s = call(f, "GET", path, NULL, &doc, &st, err);
	bool said = false;
	for (size_t i = 0; !s && json_object_is_type(doc, json_type_array) && i < json_object_array_length(doc); i++) {
		const char *b = kp_json_str(json_object_array_get_idx(doc, i), "body");
		if (b && strstr(b, marker))
			said = true; /* this very change was said already: once is enough */
	}
	json_object_put(doc);
	if (!s && !said) {
		pr_path(f, number_of(f, open_pr), f->kind == KP_FORGE_GITLAB ? "/notes" : "/comments", path, sizeof(path));
		json_object *b = json_object_new_object();
		char *full = kp_xasprintf("%s\n\n%s", text, marker);
		json_object_object_add(b, "body", json_object_new_string(full));
		free(full);
		s = call(f, "POST", path, b, &doc, &st, err);
		json_object_put(b);
		json_object_put(doc);
		*commented = !s;
	}
	json_object_put(open_pr);
	if (s) {
		free(*url);
		*url = NULL;
	}
	return s;
}
