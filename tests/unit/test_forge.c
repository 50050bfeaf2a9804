/*
 * test_forge.c - the pull request on GitHub (stages/render/gitops/forge.c)
 * against a stateful fake of its REST API (tests/fakes/github.py): created
 * once (through a secondary rate limit), updated after, a closed unmerged
 * one respected, a wrong token a clear error.
 */
#include <criterion/criterion.h>

#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/tmpdir.h"
#include "stages/render/gitops/forge.h"

static char root[64];
static pid_t fake;
static char api[64];

static void setup(void)
{
	tmpdir_make(root, "forge");
	int port = 0;
	fake = tmpdir_start_fake(root, &port, "tests/fakes/github.py", "--token", "ghp_test", "--rate-limit-first",
				 (const char *)NULL);
	snprintf(api, sizeof(api), "http://127.0.0.1:%d", port);
}

static void teardown(void)
{
	tmpdir_stop_fake(fake);
	kp_remove_tree(root);
}

TestSuite(forge, .init = setup, .fini = teardown);

/* the fake's pull requests */
static json_object *state(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "curl -s %s/_test/state", api);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, p);
	pclose(p);
	buf[n] = '\0';
	json_object *j = json_tokener_parse(buf);
	cr_assert(j, "state: %s", buf);
	return j;
}

static kp_forge *gh(const char *token)
{
	kp_forge *f = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_forge_github("https://github.com/acme/k8s-manifests.git", api, token, &f, &err), KP_OK, "%s",
		     err.msg);
	return f;
}

Test(forge, created_once_then_updated_then_a_closed_one_respected)
{
	kp_forge *f = gh("ghp_test");
	kp_pr_action act;
	char *url = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_forge_upsert(f, "kopilot/shop", "main", "t1", "b1", "kopilot", true, &act, &url, &err), KP_OK,
		     "%s", err.msg);
	cr_expect_eq(act, KP_PR_CREATED);
	cr_expect_str_eq(url, "https://github.example/acme/k8s-manifests/pull/1");
	free(url);
	json_object *s = state();
	cr_assert_eq(json_object_array_length(s), 1, "one pull request, the rate limit retried, not doubled");
	json_object *p = json_object_array_get_idx(s, 0);
	cr_expect_str_eq(kp_json_str(p, "base.ref"), "main");
	cr_expect_str_eq(json_object_get_string(json_object_object_get(
				 json_object_array_get_idx(json_object_object_get(p, "labels"), 0), "name")),
			 "kopilot");
	json_object_put(s);
	/* the next run: the same pull request, its title and body set */
	cr_assert_eq(kp_forge_upsert(f, "kopilot/shop", "main", "t2", "b2", "kopilot", true, &act, &url, &err), KP_OK,
		     "%s", err.msg);
	cr_expect_eq(act, KP_PR_UPDATED);
	free(url);
	s = state();
	cr_expect_eq(json_object_array_length(s), 1);
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(s, 0), "title"), "t2");
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(s, 0), "body"), "b2");
	json_object_put(s);
	/* a reviewer closes it without merging: nothing new, it stays closed */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "curl -s -X POST %s/_test/close/1 >/dev/null", api);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(kp_forge_upsert(f, "kopilot/shop", "main", "t2", "b2", "kopilot", false, &act, &url, &err), KP_OK,
		     "%s", err.msg);
	cr_expect_eq(act, KP_PR_RESPECTED);
	free(url);
	s = state();
	cr_expect_eq(json_object_array_length(s), 1);
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(s, 0), "state"), "closed");
	json_object_put(s);
	/* new findings on the branch: a new pull request */
	cr_assert_eq(kp_forge_upsert(f, "kopilot/shop", "main", "t3", "b3", NULL, true, &act, &url, &err), KP_OK, "%s",
		     err.msg);
	cr_expect_eq(act, KP_PR_CREATED);
	free(url);
	s = state();
	cr_expect_eq(json_object_array_length(s), 2);
	json_object_put(s);
	kp_forge_free(f);
}

Test(forge, a_wrong_token_is_a_clear_error)
{
	kp_forge *f = gh("wrong");
	kp_pr_action act;
	char *url = NULL;
	kp_error err = {0};
	cr_expect_eq(kp_forge_upsert(f, "kopilot/shop", "main", "t", "b", NULL, true, &act, &url, &err), KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "Bad credentials") && strstr(err.msg, "GITHUB_TOKEN"), "%s", err.msg);
	cr_expect(!strstr(err.msg, "wrong"), "the token is in the error: %s", err.msg);
	cr_expect_null(url);
	kp_forge_free(f);
	cr_expect_eq(kp_forge_github("https://github.com/acme/k8s.git", api, NULL, &f, &err), KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "GITHUB_TOKEN") != NULL, "%s", err.msg);
}

Test(forge, owner_and_repo_from_the_clone_url)
{
	static const char *const urls[] = {"https://github.com/acme/k8s-manifests.git", "git@github.com:acme/k8s-manifests.git",
					   "http://127.0.0.1:9/acme/k8s-manifests", "https://ghe.example/org/acme/k8s-manifests/"};
	for (size_t i = 0; i < 4; i++) {
		kp_forge *f = NULL;
		kp_error err = {0};
		cr_assert_eq(kp_forge_github(urls[i], api, "ghp_test", &f, &err), KP_OK, "%s: %s", urls[i], err.msg);
		kp_pr_action act;
		char *url = NULL;
		cr_expect_eq(kp_forge_upsert(f, "kopilot/x", "main", "t", "b", NULL, true, &act, &url, &err), KP_OK, "%s: %s",
			     urls[i], err.msg);
		free(url);
		kp_forge_free(f);
	}
	json_object *s = state();
	for (size_t i = 0; i < json_object_array_length(s); i++)
		cr_expect_str_eq(kp_json_str(json_object_array_get_idx(s, i), "_repo"), "acme/k8s-manifests");
	json_object_put(s);
	kp_forge *f = NULL;
	kp_error err = {0};
	cr_expect_eq(kp_forge_github("https://github.com/", api, "t", &f, &err), KP_ERR_USAGE);
}

/* GitLab: the merge request of a project in a nested group, by its
 * source branch; a closed one respected; a comment said once */
static char gl_root[64], gl_api[96];
static pid_t gl_fake;

static void gl_setup(void)
{
	tmpdir_make(gl_root, "gitlab");
	int port = 0;
	gl_fake = tmpdir_start_fake(gl_root, &port, "tests/fakes/gitlab.py", "--token", "glpat-test", "--rate-limit-first",
				    (const char *)NULL);
	snprintf(gl_api, sizeof(gl_api), "http://127.0.0.1:%d/api/v4", port);
}

static void gl_teardown(void)
{
	tmpdir_stop_fake(gl_fake);
	kp_remove_tree(gl_root);
}

TestSuite(gitlab, .init = gl_setup, .fini = gl_teardown);

Test(gitlab, merge_requests_created_updated_respected_and_commented_once)
{
	kp_forge *f = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_forge_new(KP_FORGE_GITLAB, "git@gitlab.acme.io:platform/k8s/manifests.git", gl_api, "glpat-test",
				  &f, &err),
		     KP_OK, "%s", err.msg);
	kp_pr_action act;
	char *url = NULL;
	cr_assert_eq(kp_forge_upsert(f, "kopilot/shop", "main", "t1", "b1", "kopilot", true, &act, &url, &err), KP_OK,
		     "%s", err.msg);
	cr_expect_eq(act, KP_PR_CREATED);
	cr_expect_str_eq(url, "https://gitlab.example/platform/k8s/manifests/-/merge_requests/1");
	free(url);
	cr_assert_eq(kp_forge_upsert(f, "kopilot/shop", "main", "t2", "b2", "kopilot", true, &act, &url, &err), KP_OK,
		     "%s", err.msg);
	cr_expect_eq(act, KP_PR_UPDATED);
	free(url);
	bool said = false;
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(kp_forge_comment(f, "kopilot/shop", "<!-- kopilot:proposal:1 -->", "hello", &said, &url, &err),
			     KP_OK, "%s", err.msg);
		cr_expect_eq(said, i == 0, "said once, not twice (run %d)", i);
		free(url);
	}
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "curl -s -X POST %.*s/_test/close/1 >/dev/null", (int)(strlen(gl_api) - 7), gl_api);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(kp_forge_upsert(f, "kopilot/shop", "main", "t2", "b2", "kopilot", false, &act, &url, &err), KP_OK,
		     "%s", err.msg);
	cr_expect_eq(act, KP_PR_RESPECTED);
	free(url);
	/* no open merge request: nobody to tell */
	cr_assert_eq(kp_forge_comment(f, "kopilot/shop", "<!-- m -->", "x", &said, &url, &err), KP_OK, "%s", err.msg);
	cr_expect(!said);
	cr_expect_null(url);
	kp_forge_free(f);
	/* a wrong token: a clear error naming GITLAB_TOKEN, never the token */
	cr_assert_eq(kp_forge_new(KP_FORGE_GITLAB, "https://gitlab.acme.io/platform/k8s/manifests.git", gl_api, "wrong",
				  &f, &err),
		     KP_OK, "%s", err.msg);
	cr_expect_eq(kp_forge_upsert(f, "kopilot/x", "main", "t", "b", NULL, true, &act, &url, &err), KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "GITLAB_TOKEN") && !strstr(err.msg, "wrong"), "%s", err.msg);
	kp_forge_free(f);
}

Test(gitlab, default_api_addresses_from_the_clone_url)
{
	static const struct {
		kp_forge_kind k;
		const char *url, *api;
	} cases[] = {
		{KP_FORGE_GITHUB, "https://github.com/acme/m.git", "https://api.github.com"},
		{KP_FORGE_GITHUB, "git@ghe.acme.io:acme/m.git", "https://ghe.acme.io/api/v3"},
		{KP_FORGE_GITLAB, "https://gitlab.com/g/sub/m.git", "https://gitlab.com/api/v4"},
		{KP_FORGE_GITLAB, "http://gitlab.local:8080/g/m", "http://gitlab.local:8080/api/v4"},
		{KP_FORGE_GITLAB, "ssh://git@gitlab.acme.io:2222/g/m.git", "https://gitlab.acme.io:2222/api/v4"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kp_forge *f = NULL;
		kp_error err = {0};
		cr_assert_eq(kp_forge_new(cases[i].k, cases[i].url, NULL, "t", &f, &err), KP_OK, "%s", err.msg);
		cr_expect_str_eq(kp_forge_api(f), cases[i].api, "%s", cases[i].url);
		kp_forge_free(f);
	}
}

/* a list behind a create (another run opened it a moment ago): the create
 * meets "already exists" (GitHub 422, GitLab 409) and updates that one */
static void lag(const char *base, int n)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "curl -s -X POST %s/_test/lag/%d >/dev/null", base, n);
	cr_assert_eq(system(cmd), 0);
}

Test(forge, already_exists_422_finds_and_updates)
{
	kp_forge *f = gh("ghp_test");
	kp_pr_action act;
	char *url = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_forge_upsert(f, "kopilot/shop", "main", "t1", "b1", NULL, true, &act, &url, &err), KP_OK, "%s",
		     err.msg);
	free(url);
	lag(api, 1);
	cr_assert_eq(kp_forge_upsert(f, "kopilot/shop", "main", "t2", "b2", NULL, true, &act, &url, &err), KP_OK, "%s",
		     err.msg);
	cr_expect_eq(act, KP_PR_UPDATED);
	free(url);
	json_object *s = state();
	cr_expect_eq(json_object_array_length(s), 1);
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(s, 0), "title"), "t2");
	json_object_put(s);
	kp_forge_free(f);
}

Test(gitlab, already_exists_409_finds_and_updates)
{
	kp_forge *f = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_forge_new(KP_FORGE_GITLAB, "https://gitlab.acme.io/g/m.git", gl_api, "glpat-test", &f, &err),
		     KP_OK, "%s", err.msg);
	kp_pr_action act;
	char *url = NULL;
	cr_assert_eq(kp_forge_upsert(f, "kopilot/shop", "main", "t1", "b1", "kopilot", true, &act, &url, &err), KP_OK,
		     "%s", err.msg);
	free(url);
	char base[96];
	snprintf(base, sizeof(base), "%.*s", (int)(strlen(gl_api) - 7), gl_api);
	lag(base, 1);
	cr_assert_eq(kp_forge_upsert(f, "kopilot/shop", "main", "t2", "b2", "kopilot", true, &act, &url, &err), KP_OK,
		     "%s", err.msg);
	cr_expect_eq(act, KP_PR_UPDATED);
	free(url);
	kp_forge_free(f);
}
