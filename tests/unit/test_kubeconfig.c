/*
 * test_kubeconfig.c - the live client's parts that need no server: YAML
 * into JSON, kubeconfig loading the way kubectl does it (merge order,
 * contexts, relative paths, every broken form an error naming the file and
 * the field), base64, durations, and the HTTP layer's read-only rule.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/http.h"
#include "pipeline/kp.h"
#include "pipeline/yamljson.h"
#include "stages/collect/kubeconfig.h"

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/kp-kc.XXXXXX");
	cr_assert(mkdtemp(dir));
	/* no user's kubeconfig or pod leaks into a test */
	setenv("HOME", dir, 1);
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

static void rm_tmp(void) { kp_remove_tree(dir); }

static char *put(const char *name, const char *text)
{
	char *p = kp_path_join(dir, name);
	FILE *f = fopen(p, "w");
	cr_assert(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static const char *const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

TestSuite(kubeconfig, .init = mkdir_tmp, .fini = rm_tmp);

Test(kubeconfig, yaml_scalars_are_typed_like_kubernetes)
{
	json_object *j = NULL;
	kp_error err = {0};
	const char *y = "a: 1\nb: true\nc: ~\nd: '1'\ne: 1.5\nf: hello\ng: [x, 2]\nh: &x {k: v}\ni: *x\nj:\n";
	cr_assert_eq(kp_yaml_parse("t.yaml", y, strlen(y), &j, &err), KP_OK, "%s", err.msg);
	cr_expect(json_object_is_type(json_object_object_get(j, "a"), json_type_int));
	cr_expect(json_object_is_type(json_object_object_get(j, "b"), json_type_boolean));
	cr_expect(json_object_object_get(j, "c") == NULL);
	cr_expect(json_object_is_type(json_object_object_get(j, "d"), json_type_string));
	cr_expect(json_object_is_type(json_object_object_get(j, "e"), json_type_double));
	cr_expect_str_eq(kp_json_str(j, "f"), "hello");
	cr_expect_eq(json_object_array_length(json_object_object_get(j, "g")), 2);
	cr_expect_str_eq(kp_json_str(j, "i.k"), "v");
	json_object_put(j);
}

Test(kubeconfig, yaml_errors_name_line_and_column)
{
	json_object *j = NULL;
	kp_error err = {0};
	const char *y = "a: 1\nb: [unclosed\n";
	cr_assert_neq(kp_yaml_parse("conf.yaml", y, strlen(y), &j, &err), KP_OK);
	cr_expect(strstr(err.msg, "conf.yaml:") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, ":3:") != NULL || strstr(err.msg, ":2:") != NULL, "%s", err.msg);
}

Test(kubeconfig, durations_take_prometheus_syntax)
{
	int64_t s = 0;
	cr_expect(kp_parse_duration("14d", &s) && s == 14 * 86400);
	cr_expect(kp_parse_duration("1h30m", &s) && s == 5400);
	cr_expect(kp_parse_duration("2w", &s) && s == 14 * 86400);
	cr_expect(kp_parse_duration("90", &s) && s == 90);
	cr_expect(kp_parse_duration("5m", &s) && s == 300);
	cr_expect(!kp_parse_duration("", &s));
	cr_expect(!kp_parse_duration("2weeks", &s));
	cr_expect(!kp_parse_duration("-1d", &s));
	cr_expect(!kp_parse_duration("d", &s));
	cr_expect(!kp_parse_duration("99999999999999999999d", &s));
}

Test(kubeconfig, base64_decodes_and_names_bad_input)
{
	char *out = NULL;
	size_t n = 0;
	kp_error err = {0};
	cr_assert_eq(kp_base64_decode("aGVs\nbG8=", &out, &n, "x", &err), KP_OK, "%s", err.msg);
	cr_expect_eq(n, 5);
	cr_expect(memcmp(out, "hello", 5) == 0);
	free(out);
	cr_expect_neq(kp_base64_decode("a*b=", &out, &n, "FILE: users[\"u\"].user.client-key-data", &err), KP_OK);
	cr_expect(strstr(err.msg, "client-key-data") != NULL, "%s", err.msg);
}

static const char *const KC_A = "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
				"clusters:\n- name: ca\n  cluster: {server: 'https://a.example:6443', certificate-authority: ca.pem}\n"
				"- name: shared\n  cluster: {server: 'https://from-a:443'}\n"
				"users:\n- name: ua\n  user: {token: tok-a}\n"
				"contexts:\n- name: a\n  context: {cluster: ca, user: ua}\n"
				"- name: s\n  context: {cluster: shared, user: ua}\n";
static const char *const KC_B = "apiVersion: v1\nkind: Config\ncurrent-context: b\n"
				"clusters:\n- name: cb\n  cluster: {server: 'https://b.example'}\n"
				"- name: shared\n  cluster: {server: 'https://from-b:443'}\n"
				"users:\n- name: ub\n  user: {tokenFile: tok}\n"
				"contexts:\n- name: b\n  context: {cluster: cb, user: ub}\n";

Test(kubeconfig, explicit_file_current_context_and_relative_paths)
{
	char *ca = put("ca.pem", PEM);
	char *a = put("a.yaml", KC_A);
	kp_kubeconfig k;
	bool found = false;
	kp_error err = {0};
	cr_assert_eq(kp_kubeconfig_load(a, NULL, &k, &found, &err), KP_OK, "%s", err.msg);
	cr_expect(found);
	cr_expect_str_eq(k.context, "a");
	cr_expect_str_eq(k.server, "https://a.example:6443");
	cr_expect_str_eq(k.token, "tok-a");
	cr_expect_str_eq(k.ca_file, ca, "relative to the kubeconfig's directory");
	kp_kubeconfig_release(&k);
	free(ca);
	free(a);
}

Test(kubeconfig, kubeconfig_list_merges_first_wins)
{
	free(put("ca.pem", PEM));
	free(put("tok", "tok-b\n"));
	char *a = put("a.yaml", KC_A), *b = put("b.yaml", KC_B);
	char *list = kp_xasprintf("%s:%s/missing.yaml:%s", b, dir, a);
	setenv("KUBECONFIG", list, 1);
	kp_kubeconfig k;
	bool found = false;
	kp_error err = {0};
	/* current-context from the first file that sets one */
	cr_assert_eq(kp_kubeconfig_load(NULL, NULL, &k, &found, &err), KP_OK, "%s", err.msg);
	cr_expect_str_eq(k.context, "b");
	cr_expect(k.token_file && strstr(k.token_file, "/tok"), "tokenFile resolved: %s", k.token_file);
	kp_kubeconfig_release(&k);
	/* a context from the second file; the cluster name both define: the first file's */
	cr_assert_eq(kp_kubeconfig_load(NULL, "s", &k, &found, &err), KP_OK, "%s", err.msg);
	cr_expect_str_eq(k.server, "https://from-b:443");
	kp_kubeconfig_release(&k);
	free(list);
	free(a);
	free(b);
}

/* loads the kubeconfig text and expects an error holding each needle */
static void expect_broken(const char *text, const char *context, const char *needle1, const char *needle2)
{
	char *f = put("broken.yaml", text);
	kp_kubeconfig k;
	bool found = false;
	kp_error err = {0};
	kp_status s = kp_kubeconfig_load(f, context, &k, &found, &err);
	if (s == KP_OK) {
		/* some problems only show when the credentials are made */
		kp_kube_auth *au = kp_kube_auth_new(&k);
		kp_http_opts o;
		kp_kubeconfig_http_opts(&k, au, &o);
		kp_http_client *c = NULL;
		s = kp_http_new(&o, &c, &err);
		if (!s && au) {
			kp_http_auth out = {0};
			s = kp_kube_auth_fn(au, false, &out, &err);
			kp_http_auth_release(&out);
		}
		kp_http_free(c);
		kp_kube_auth_free(au);
	}
	kp_kubeconfig_release(&k);
	cr_expect_neq(s, KP_OK, "no error for %s", needle2);
	cr_expect(strstr(err.msg, "broken.yaml") != NULL, "names the file: %s", err.msg);
	cr_expect(strstr(err.msg, needle1) != NULL, "names %s: %s", needle1, err.msg);
	if (needle2)
		cr_expect(strstr(err.msg, needle2) != NULL, "names %s: %s", needle2, err.msg);
	free(f);
}

#define HEAD "apiVersion: v1\nkind: Config\n"
#define CL "clusters:\n- name: c\n  cluster: {server: 'https://x:6443'}\n"
#define CTX "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n"

Test(kubeconfig, broken_files_name_file_and_field)
{
	expect_broken(HEAD "clusters: [\n", NULL, "broken.yaml:", NULL);
	expect_broken(HEAD CL "users:\n- name: u\n  user: {token: t}\ncontexts: []\ncurrent-context: nope\n", NULL,
		      "current-context", "nope");
	expect_broken(HEAD CL "users:\n- name: u\n  user: {token: t}\n" CTX, "other", "other", NULL);
	expect_broken(HEAD CL "users:\n- name: u\n  user: {client-certificate: /nonexistent/c.pem, client-key: /nonexistent/k.pem}\n" CTX,
		      NULL, "users[\"u\"].user.client-certificate", "/nonexistent/c.pem");
	expect_broken(HEAD "clusters:\n- name: c\n  cluster: {server: 'https://x:6443', certificate-authority: /nonexistent/ca}\n"
			   "users:\n- name: u\n  user: {token: t}\n" CTX,
		      NULL, "clusters[\"c\"].cluster.certificate-authority", NULL);
	expect_broken(HEAD "clusters:\n- name: c\n  cluster: {server: 'https://x:6443', certificate-authority-data: '%%%'}\n"
			   "users:\n- name: u\n  user: {token: t}\n" CTX,
		      NULL, "certificate-authority-data", NULL);
	expect_broken(HEAD CL "users:\n- name: u\n  user: {auth-provider: {name: azure}}\n" CTX, NULL,
		      "users[\"u\"].user.auth-provider", "azure");
	expect_broken(HEAD CL "users:\n- name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/false, interactiveMode: Never}}\n" CTX,
		      NULL, "users[\"u\"].user.exec", NULL);
	expect_broken(HEAD CL "users:\n- name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}}\n" CTX,
		      NULL, "users[\"u\"].user.exec", "v1alpha1");
	expect_broken(HEAD "clusters:\n- name: c\n  cluster: {}\nusers:\n- name: u\n  user: {}\n" CTX, NULL,
		      "clusters[\"c\"].cluster.server", NULL);
}

Test(kubeconfig, nothing_to_read_is_not_found)
{
	kp_kubeconfig k;
	bool found = true;
	kp_error err = {0};
	cr_assert_eq(kp_kubeconfig_load(NULL, NULL, &k, &found, &err), KP_OK, "%s", err.msg);
	cr_expect(!found);
	kp_kubeconfig_release(&k);
	cr_expect_neq(kp_kubeconfig_load("/nonexistent/kc", NULL, &k, &found, &err), KP_OK);
	cr_expect(strstr(err.msg, "/nonexistent/kc") != NULL, "%s", err.msg);
	kp_kubeconfig_release(&k);
}

Test(kubeconfig, in_cluster_service_account)
{
	char *sa = kp_path_join(dir, "sa");
	cr_assert_eq(mkdir(sa, 0700), 0);
	free(put("sa/token", "sa-token\n"));
	free(put("sa/ca.crt", PEM));
	free(put("sa/namespace", "kopilot\n"));
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	setenv("KOPILOT_SERVICEACCOUNT_DIR", sa, 1);
	kp_kubeconfig k;
	bool found = false;
	kp_error err = {0};
	cr_assert_eq(kp_kubeconfig_load(NULL, NULL, &k, &found, &err), KP_OK, "%s", err.msg);
	cr_expect(found);
	cr_expect_str_eq(k.server, "https://10.0.0.1:443");
	cr_expect(k.token_file && strstr(k.token_file, "/sa/token"), "the token is re-read: %s", k.token_file);
	kp_kubeconfig_release(&k);
	free(sa);
}

/* The read-only rule, in the HTTP layer every request passes: refused
 * before any connection is made (the server below does not exist). */
Test(kubeconfig, read_only_client_refuses_writes_and_secrets)
{
	kp_http_opts o = {0};
	o.what = "the Kubernetes API server";
	o.base_url = "https://127.0.0.1:1";
	o.read_only = true;
	kp_http_client *c = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_http_new(&o, &c, &err), KP_OK, "%s", err.msg);
	kp_http_result res;
	cr_expect_eq(kp_http_post(c, "/api/v1/namespaces/x/pods", "application/json", "{}", 2, NULL, &res, &err),
		     KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "GET only") != NULL, "%s", err.msg);
	kp_http_result_release(&res);
	const char *paths[] = {"/api/v1/secrets", "/api/v1/namespaces/a/secrets/b", "/api/v1/namespaces/a/%73ecrets",
			       "/api/v1/secrets?limit=1", "/api/v1/namespaces/a/SECRETS"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		kp_buf b;
		kp_buf_init(&b);
		kp_status s = kp_http_get_buf(c, paths[i], NULL, 1024, &b, &res, &err);
		cr_expect_eq(s, KP_ERR_USAGE, "%s not refused (%d)", paths[i], s);
		cr_expect(strstr(err.msg, "Secrets") != NULL, "%s: %s", paths[i], err.msg);
		kp_buf_release(&b);
		kp_http_result_release(&res);
	}
	kp_http_free(c);
}

/* The operator's one exception: PATCH (merge patch) to an AITask's status,
 * exactly; every other write, path or media type stays refused. */
Test(kubeconfig, aitask_status_is_the_only_write)
{
	cr_expect(kp_http_aitask_status_path("/apis/kubedevaiops.io/v1alpha1/namespaces/ops/aitasks/audit-1/status"));
	cr_expect(kp_http_aitask_status_path("/apis/kubedevaiops.io/v1alpha1/namespaces/a/aitasks/x.y-z/status"));
	const char *bad[] = {"/apis/kubedevaiops.io/v1alpha1/namespaces/ops/aitasks/audit-1",
			     "/apis/kubedevaiops.io/v1alpha1/namespaces/ops/aitasks/audit-1/status?dryRun=All",
			     "/apis/kubedevaiops.io/v1alpha1/namespaces/ops/aitasks/audit-1/status/x",
			     "/apis/kubedevaiops.io/v1alpha1/namespaces/ops/aitasks/../secrets/status",
			     "/apis/kubedevaiops.io/v1alpha1/namespaces/Ops/aitasks/a/status",
			     "/apis/kubedevaiops.io/v1alpha1/namespaces/ops/aitasks//status",
			     "/apis/kubedevaiops.io/v1alpha1/namespaces/ops/aitasks/a%2fb/status",
			     "/apis/kubedevaiops.io/v1alpha1/aitasks/a/status",
			     "/apis/kubedevaiops.io/v1/namespaces/ops/aitasks/a/status",
			     "/api/v1/namespaces/ops/pods/a/status",
			     "/apis/kubedevaiops.io/v1alpha1/namespaces/ops/aitasks/a/statuses"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(!kp_http_aitask_status_path(bad[i]), "%s accepted", bad[i]);

	kp_http_opts o = {0};
	o.what = "the Kubernetes API server";
	o.base_url = "https://127.0.0.1:1";
	o.read_only = true;
	o.aitask_status_writes = true;
	o.max_attempts = 1;
	o.connect_timeout_ms = 200;
	kp_http_client *c = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_http_new(&o, &c, &err), KP_OK, "%s", err.msg);
	const char *ok = "/apis/kubedevaiops.io/v1alpha1/namespaces/ops/aitasks/a/status";
	struct {
		const char *method, *path, *ctype;
	} refused[] = {{"PUT", ok, "application/merge-patch+json"},
		       {"PATCH", ok, "application/json-patch+json"},
		       {"PATCH", ok, "application/strategic-merge-patch+json"},
		       {"POST", ok, "application/merge-patch+json"},
		       {"PATCH", "/apis/kubedevaiops.io/v1alpha1/namespaces/ops/aitasks/a", "application/merge-patch+json"},
		       {"PATCH", "/apis/apps/v1/namespaces/ops/deployments/a/status", "application/merge-patch+json"}};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		kp_buf b;
		kp_buf_init(&b);
		kp_http_result res;
		kp_status s = kp_http_send(c, refused[i].method, refused[i].path, refused[i].ctype, "{}", 2, &b, 1024, &res,
					   &err);
		cr_expect_eq(s, KP_ERR_USAGE, "%s %s %s not refused (%d)", refused[i].method, refused[i].path,
			     refused[i].ctype, s);
		cr_expect(strstr(err.msg, "GET only") != NULL, "%s", err.msg);
		kp_buf_release(&b);
		kp_http_result_release(&res);
	}
	/* the one allowed write gets through the rule (and fails only because
	 * nothing listens there) */
	kp_buf b;
	kp_buf_init(&b);
	kp_http_result res;
	kp_status s = kp_http_send(c, "PATCH", ok, "application/merge-patch+json", "{}", 2, &b, 1024, &res, &err);
	cr_expect_eq(s, KP_ERR_NETWORK, "%d: %s", s, err.msg);
	kp_buf_release(&b);
	kp_http_result_release(&res);
	kp_http_free(c);

	/* without the flag, the same PATCH is refused */
	o.aitask_status_writes = false;
	cr_assert_eq(kp_http_new(&o, &c, &err), KP_OK, "%s", err.msg);
	kp_buf_init(&b);
	cr_expect_eq(kp_http_send(c, "PATCH", ok, "application/merge-patch+json", "{}", 2, &b, 1024, &res, &err),
		     KP_ERR_USAGE);
	kp_buf_release(&b);
	kp_http_result_release(&res);
	kp_http_free(c);
}
