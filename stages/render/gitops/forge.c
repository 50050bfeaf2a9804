/*
 * forge.c - see forge.h.
 */
#include "stages/render/gitops/forge.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/http.h"

struct kp_forge {
	kp_http_client *http;
	char *owner, *repo, *api;
};

/* OWNER/REPO from the last two segments of the clone URL's path */
static kp_status owner_repo(const char *url, char **owner, char **repo, kp_error *err)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : strchr(url, ':'); /* git@host:owner/repo.git */
	if (!p)
		return kp_fail(err, KP_ERR_USAGE, "pr.repo %s: no OWNER/REPO in its path", url);
	char *path = kp_xstrdup(p + 1);
	size_t n = strlen(path);
	while (n && path[n - 1] == '/')
		path[--n] = '\0';
	if (n > 4 && !strcmp(path + n - 4, ".git"))
		path[n - 4] = '\0';
	char *slash = strrchr(path, '/');
	if (!slash || slash == path || !slash[1]) {
		free(path);
		return kp_fail(err, KP_ERR_USAGE, "pr.repo %s: no OWNER/REPO in its path", url);
	}
	*slash = '\0';
	const char *o = strrchr(path, '/');
	*owner = kp_xstrdup(o ? o + 1 : path);
	*repo = kp_xstrdup(slash + 1);
	free(path);
	return KP_OK;
}

kp_status kp_forge_github(const char *repo_url, const char *api_url, const char *token, kp_forge **out,
			  kp_error *err)
{
	*out = NULL;
	if (!token || !*token)
		return kp_fail(err, KP_ERR_USAGE, "GitHub needs a token to open pull requests: set GITHUB_TOKEN or GIT_TOKEN");
	kp_forge *f = kp_xcalloc(1, sizeof(*f));
	kp_status s = owner_repo(repo_url, &f->owner, &f->repo, err);
	f->api = kp_xstrdup(api_url && *api_url ? api_url : "https://api.github.com");
	static const char *const headers[] = {"X-GitHub-Api-Version: 2022-11-28", NULL};
	kp_http_opts o = {0};
	o.what = "GitHub";
	o.base_url = f->api;
	o.token = token;
	o.headers = headers;
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

void kp_forge_free(kp_forge *f)
{
	if (!f)
		return;
	kp_http_free(f->http);
	free(f->owner), free(f->repo), free(f->api);
	free(f);
}

/* one call; *doc the parsed answer of a 2xx, else an error naming the
 * call and GitHub's message (*status the HTTP status either way) */
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
			s = kp_fail(err, KP_ERR_NETWORK, "GitHub: %s %s: the answer is not JSON", method, path);
	} else if (!s) {
		json_object *e = res.body ? json_tokener_parse(res.body) : NULL;
		const char *m = e ? json_object_get_string(json_object_object_get(e, "message")) : NULL;
		s = kp_fail(err, res.status == 401 || res.status == 403 ? KP_ERR_USAGE : KP_ERR_NETWORK,
			    "GitHub: %s %s: %s%s%s%s", method, path, kp_http_reason(res.status), m ? ": " : "", m ? m : "",
			    res.status == 401 ? " (check GITHUB_TOKEN)" : "");
		json_object_put(e);
	}
	kp_http_result_release(&res);
	kp_buf_release(&out);
	return s;
}

/* the pull requests with this head, open first, then the most recent */
static kp_status find(kp_forge *f, const char *head, json_object **open_pr, json_object **closed_pr, kp_error *err)
{
	*open_pr = *closed_pr = NULL;
	char path[1024];
	snprintf(path, sizeof(path), "/repos/%s/%s/pulls?head=%s:%s&state=all&per_page=100", f->owner, f->repo, f->owner,
		 head);
	json_object *doc = NULL;
	long st = 0;
	kp_status s = call(f, "GET", path, NULL, &doc, &st, err);
	for (size_t i = 0; !s && json_object_is_type(doc, json_type_array) && i < json_object_array_length(doc); i++) {
		json_object *pr = json_object_array_get_idx(doc, i);
		const char *state = json_object_get_string(json_object_object_get(pr, "state"));
		const char *ref = json_object_get_string(kp_json_get(pr, "head.ref"));
		if (!ref || strcmp(ref, head))
			continue; /* the API filters; a fork's branch of the same name is not ours */
		if (state && !strcmp(state, "open") && !*open_pr)
			*open_pr = json_object_get(pr);
		else if (!*closed_pr && !json_object_get_string(json_object_object_get(pr, "merged_at")))
			*closed_pr = json_object_get(pr);
	}
	json_object_put(doc);
	return s;
}

static char *url_of(json_object *pr)
{
	const char *u = json_object_get_string(json_object_object_get(pr, "html_url"));
	return kp_xstrdup(u ? u : "");
}

static kp_status label(kp_forge *f, json_object *pr, const char *lbl, kp_error *err)
{
	if (!lbl)
		return KP_OK;
	char path[512];
	snprintf(path, sizeof(path), "/repos/%s/%s/issues/%lld/labels", f->owner, f->repo,
		 (long long)json_object_get_int64(json_object_object_get(pr, "number")));
	json_object *b = json_object_new_object(), *arr = json_object_new_array(), *doc = NULL;
	json_object_array_add(arr, json_object_new_string(lbl));
	json_object_object_add(b, "labels", arr);
	long st = 0;
	kp_status s = call(f, "POST", path, b, &doc, &st, err);
	json_object_put(b);
	json_object_put(doc);
	return s;
}

static kp_status update(kp_forge *f, json_object *pr, const char *title, const char *body, kp_error *err)
{
	char path[512];
	snprintf(path, sizeof(path), "/repos/%s/%s/pulls/%lld", f->owner, f->repo,
		 (long long)json_object_get_int64(json_object_object_get(pr, "number")));
	json_object *b = json_object_new_object(), *doc = NULL;
	json_object_object_add(b, "title", json_object_new_string(title));
	json_object_object_add(b, "body", json_object_new_string(body));
	long st = 0;
	kp_status s = call(f, "PATCH", path, b, &doc, &st, err);
	json_object_put(b);
	json_object_put(doc);
	return s;
}

kp_status kp_forge_upsert(kp_forge *f, const char *head, const char *base, const char *title, const char *body,
			  const char *lbl, bool branch_changed, kp_pr_action *action, char **url, kp_error *err)
{
	*url = NULL;
	json_object *open_pr = NULL, *closed_pr = NULL;
	kp_status s = find(f, head, &open_pr, &closed_pr, err);
	if (!s && open_pr) {
		s = update(f, open_pr, title, body, err);
		if (!s)
			s = label(f, open_pr, lbl, err);
		*action = KP_PR_UPDATED;
		*url = url_of(open_pr);
	} else if (!s && closed_pr && !branch_changed) {
		/* someone closed it without merging, and kopilot has nothing
		 * new to say: closed it stays */
		*action = KP_PR_RESPECTED;
		*url = url_of(closed_pr);
	} else if (!s) {
		char path[512];
		snprintf(path, sizeof(path), "/repos/%s/%s/pulls", f->owner, f->repo);
		json_object *b = json_object_new_object(), *doc = NULL;
		json_object_object_add(b, "title", json_object_new_string(title));
		json_object_object_add(b, "head", json_object_new_string(head));
		json_object_object_add(b, "base", json_object_new_string(base));
		json_object_object_add(b, "body", json_object_new_string(body));
		long st = 0;
		s = call(f, "POST", path, b, &doc, &st, err);
		json_object_put(b);
		if (s && st == 422) {
			/* "A pull request already exists": someone (or a run
			 * before) opened it meanwhile: update that one */
			kp_error e2 = {0};
			json_object_put(open_pr), json_object_put(closed_pr);
			if (find(f, head, &open_pr, &closed_pr, &e2) == KP_OK && open_pr) {
				s = update(f, open_pr, title, body, err);
				*action = KP_PR_UPDATED;
				*url = url_of(open_pr);
			}
		} else if (!s) {
			s = label(f, doc, lbl, err);
			*action = KP_PR_CREATED;
			*url = url_of(doc);
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
