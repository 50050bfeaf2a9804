/*
 * test_prplan.c - a run's findings become one patch and one pull request
 * body per namespace (stages/render/gitops/prplan.c): the resize findings
 * edited in the manifests, the rest listed with the reason; the patch is
 * applied by the real `git am`.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/tmpdir.h"
#include "stages/render/gitops/prplan.h"

static char root[64];

static void put(const char *rel, const char *text) { tmpdir_put(root, rel, text); }

static void setup(void) { tmpdir_make(root, "prplan"); }

static void teardown(void) { kp_remove_tree(root); }

TestSuite(prplan, .init = setup, .fini = teardown);

static const char *const CART = "# cart, owned by team-checkout\n"
				"apiVersion: apps/v1\n"
				"kind: Deployment\n"
				"metadata:\n"
				"  name: cart-api\n"
				"  namespace: checkout\n"
				"spec:\n"
				"  template:\n"
				"    spec:\n"
				"      containers:\n"
				"      - name: cart-api\n"
				"        image: cart:2.3 # pinned\n"
				"        resources:\n"
				"          requests: {cpu: 2, memory: 4Gi}\n"
				"          limits:\n"
				"            cpu: 2\n"
				"            memory: 4Gi\n";

static json_object *finding(const char *cat, const char *kind, const char *ns, const char *name, const char *cont,
			    const char *type, bool destructive, double savings)
{
	char buf[2048];
	snprintf(buf, sizeof(buf),
		 "{\"category\":\"%s\",\"resource\":{\"kind\":\"%s\",\"namespace\":\"%s\",\"name\":\"%s\"},"
		 "\"container\":\"%s\",\"current\":{\"cpu_request_millicores\":2000,\"cpu_limit_millicores\":2000,"
		 "\"memory_request_bytes\":4294967296,\"memory_limit_bytes\":4294967296},"
		 "\"recommended\":{\"cpu_request_millicores\":175,\"cpu_limit_millicores\":2000,"
		 "\"memory_request_bytes\":754974720,\"memory_limit_bytes\":4294967296},"
		 "\"monthly_savings\":%.2f,\"confidence\":\"high\",\"risk\":\"LOW\","
		 "\"explanation\":\"cart-api uses 150m at p95 over 14 days.\","
		 "\"evidence\":[{\"description\":\"CPU p95 150m over 14 days\"}],"
		 "\"action\":{\"type\":\"%s\",\"destructive\":%s,\"blocked\":false,\"command\":\"kubectl delete pvc x\"}}",
		 cat, kind, ns, name, cont, savings, type, destructive ? "true" : "false");
	json_object *f = json_tokener_parse(buf);
	cr_assert(f);
	return f;
}

static json_object *doc_of(json_object **fs, int n)
{
	json_object *d = json_object_new_object(), *a = json_object_new_array();
	for (int i = 0; i < n; i++)
		json_object_array_add(a, fs[i]);
	json_object_object_add(d, "findings", a);
	return d;
}

Test(prplan, one_group_per_namespace_with_patch_and_body)
{
	put("apps/checkout/cart.yaml", CART);
	json_object *fs[] = {
		finding("over-provisioned", "Deployment", "checkout", "cart-api", "cart-api", "resize", false, 104.62),
		finding("over-provisioned", "Deployment", "checkout", "ghost", "app", "resize", false, 10),
		finding("orphaned-pvc", "PersistentVolumeClaim", "checkout", "old-data", "", "delete", true, 8.5),
		finding("orphaned-pvc", "PersistentVolumeClaim", "web", "tmp", "", "delete", true, 1),
	};
	json_object *doc = doc_of(fs, 4);
	kp_pr_opts o = {root, "namespace", "run-1", "https://reports.example/run-1/report.html", 1764050400};
	kp_pr_group *g = NULL;
	size_t n = 0;
	kp_error err = {0};
	cr_assert_eq(kp_pr_plan(doc, &o, &g, &n, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(g[0].group, "checkout");
	cr_expect_str_eq(g[0].branch, "kopilot/checkout");
	cr_expect_eq(g[0].changes, 1);
	cr_expect_eq(g[0].unlocated, 1);
	cr_expect_eq(g[0].destructive, 1);
	cr_expect(strstr(g[0].title, "rightsize 1 container in checkout (saves $104.62 a month)") != NULL, "%s", g[0].title);
	/* the file's flow mapping and cores style are kept */
	cr_assert_eq(g[0].nfiles, 1);
	cr_expect(strstr(g[0].texts[0], "requests: {cpu: 0.175, memory: 720Mi}\n") != NULL, "%s", g[0].texts[0]);
	cr_expect(strstr(g[0].texts[0], "image: cart:2.3 # pinned\n") != NULL);
	cr_expect(strstr(g[0].patch, "Subject: [PATCH] kopilot: rightsize 1 container in checkout") != NULL);
	cr_expect(strstr(g[0].patch, "-          requests: {cpu: 2, memory: 4Gi}\n") != NULL, "%s", g[0].patch);
	cr_expect(strstr(g[0].patch, "+          requests: {cpu: 0.175, memory: 720Mi}\n") != NULL, "%s", g[0].patch);
	/* the body: the change, the evidence, the reason for what is left out, the checklist */
	const char *b = g[0].body;
	cr_expect(strstr(b, "| Deployment checkout/cart-api | cart-api | apps/checkout/cart.yaml |") != NULL, "%s", b);
	cr_expect(strstr(b, "CPU p95 150m over 14 days") != NULL);
	cr_expect(strstr(b, "ghost") && strstr(b, "not declared in any manifest"), "%s", b);
	cr_expect(strstr(b, "- [ ] orphaned-pvc: checkout/old-data ($8.50 a month)") != NULL, "%s", b);
	cr_expect(strstr(b, "report.html") != NULL);
	/* web: only a cleanup, no file to change */
	cr_expect_str_eq(g[1].group, "web");
	cr_expect_eq(g[1].changes, 0);
	cr_expect_null(g[1].patch);

	/* the real git applies the patch */
	char cmd[1024], *pf = kp_path_join(root, "checkout.patch");
	kp_error e2 = {0};
	cr_assert_eq(kp_write_file_atomic(pf, g[0].patch, strlen(g[0].patch), &e2), KP_OK);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && git init -q -b main . && git -c user.name=t -c user.email=t@t add apps && "
		 "git -c user.name=t -c user.email=t@t commit -qm base && "
		 "git -c user.name=t -c user.email=t@t am -q %s >/dev/null 2>&1",
		 root, pf);
	cr_expect_eq(system(cmd), 0, "git am did not apply the patch");
	char *after = NULL, *path = kp_path_join(root, "apps/checkout/cart.yaml");
	size_t an = 0;
	cr_assert_eq(kp_read_file(path, &after, &an, &e2), KP_OK);
	cr_expect_str_eq(after, g[0].texts[0]);
	free(after), free(path), free(pf);
	kp_pr_groups_free(g, n);
	json_object_put(doc);
}

Test(prplan, one_group_per_run_and_nothing_to_do)
{
	put("cart.yaml", CART);
	json_object *fs[] = {
		finding("over-provisioned", "Deployment", "checkout", "cart-api", "cart-api", "resize", false, 1),
	};
	json_object *doc = doc_of(fs, 1);
	kp_pr_opts o = {root, "run", "run-2", NULL, 1764050400};
	kp_pr_group *g = NULL;
	size_t n = 0;
	kp_error err = {0};
	cr_assert_eq(kp_pr_plan(doc, &o, &g, &n, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(g[0].group, "run");
	cr_expect_str_eq(g[0].branch, "kopilot/run");
	kp_pr_groups_free(g, n);
	json_object_put(doc);
	/* no findings: no group */
	json_object *empty = doc_of(NULL, 0);
	cr_assert_eq(kp_pr_plan(empty, &o, &g, &n, &err), KP_OK, "%s", err.msg);
	cr_expect_eq(n, 0);
	kp_pr_groups_free(g, n);
	json_object_put(empty);
}

/* a resize whose HPA target must move (related_changes): both edited, or
 * neither */
static json_object *with_hpa(int64_t current)
{
	json_object *f = finding("over-provisioned", "Deployment", "checkout", "cart-api", "cart-api", "resize", false, 50);
	char buf[512];
	snprintf(buf, sizeof(buf),
		 "[{\"resource\":{\"apiVersion\":\"autoscaling/v2\",\"kind\":\"HorizontalPodAutoscaler\","
		 "\"namespace\":\"checkout\",\"name\":\"cart-api\"},"
		 "\"path\":\"/spec/metrics/0/resource/target/averageUtilization\",\"current\":%lld,"
		 "\"recommended\":800,\"when\":\"after\"}]",
		 (long long)current);
	json_object_object_add(f, "related_changes", json_tokener_parse(buf));
	return f;
}

static const char *const HPA_DOC = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n"
				   "  name: cart-api\n  namespace: checkout\nspec:\n  metrics:\n  - type: Resource\n"
				   "    resource:\n      name: cpu\n      target:\n        type: Utilization\n"
				   "        averageUtilization: 70\n";

Test(prplan, the_hpa_target_moves_with_the_requests)
{
	char *both = kp_xasprintf("%s%s", CART, HPA_DOC);
	put("cart.yaml", both);
	free(both);
	json_object *fs[] = {with_hpa(70)};
	json_object *doc = doc_of(fs, 1);
	kp_pr_opts o = {root, "namespace", "run-3", NULL, 1764050400};
	kp_pr_group *g = NULL;
	size_t n = 0;
	kp_error err = {0};
	cr_assert_eq(kp_pr_plan(doc, &o, &g, &n, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_expect_eq(g[0].changes, 1);
	cr_expect(strstr(g[0].texts[0], "averageUtilization: 800\n") && strstr(g[0].texts[0], "cpu: 0.175"), "%s",
		  g[0].texts[0]);
	kp_pr_groups_free(g, n);
	json_object_put(doc);
}

Test(prplan, a_related_change_that_cannot_be_made_leaves_the_resize_out_too)
{
	put("cart.yaml", CART);
	put("hpa.yaml", HPA_DOC);
	json_object *fs[] = {with_hpa(90)}; /* the repository says 70 */
	json_object *doc = doc_of(fs, 1);
	kp_pr_opts o = {root, "namespace", "run-4", NULL, 1764050400};
	kp_pr_group *g = NULL;
	size_t n = 0;
	kp_error err = {0};
	cr_assert_eq(kp_pr_plan(doc, &o, &g, &n, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_expect_eq(g[0].changes, 0);
	cr_expect_eq(g[0].unlocated, 1);
	cr_expect_null(g[0].patch);
	const char *why = json_object_get_string(json_object_object_get(json_object_array_get_idx(g[0].not_located, 0), "why"));
	cr_expect(strstr(why, "target must change with it") && strstr(why, "is 70 in the manifest, 90 in the cluster"), "%s",
		  why);
	for (size_t i = 0; i < g[0].nfiles; i++)
		cr_expect(!strstr(g[0].texts[i], "0.175"), "the Deployment was not edited alone");
	kp_pr_groups_free(g, n);
	json_object_put(doc);
}

Test(prplan, one_group_per_team_label_the_rest_by_namespace)
{
	put("apps/checkout/cart.yaml", CART);
	json_object *fs[] = {
		finding("over-provisioned", "Deployment", "checkout", "cart-api", "cart-api", "resize", false, 104.62),
		finding("orphaned-pvc", "PersistentVolumeClaim", "checkout", "old-data", "", "delete", true, 8.5),
		finding("orphaned-pvc", "PersistentVolumeClaim", "web", "tmp", "", "delete", true, 1),
	};
	json_object_object_add(json_object_object_get(fs[0], "resource"), "team", json_object_new_string("payments"));
	json_object_object_add(json_object_object_get(fs[1], "resource"), "team", json_object_new_string("payments"));
	json_object *doc = doc_of(fs, 3);
	kp_pr_opts o = {root, "team", "run-1", NULL, 1764050400};
	kp_pr_group *g = NULL;
	size_t n = 0;
	kp_error err = {0};
	cr_assert_eq(kp_pr_plan(doc, &o, &g, &n, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(g[0].group, "team-payments");
	cr_expect_str_eq(g[0].branch, "kopilot/team-payments");
	cr_expect_eq(g[0].changes, 1);
	cr_expect_eq(g[0].destructive, 1, "the team's cleanup is in its checklist");
	cr_expect_str_eq(g[1].group, "web", "no team label: by namespace");
	kp_pr_groups_free(g, n);
	json_object_put(doc);
}

Test(prplan, a_workload_an_operator_writes_is_left_out_with_where_to_change_it)
{
	/* the same Deployment in the repository, but the live one is written by
	 * an operator's resource: an edit here would be reverted */
	put("cart.yaml", CART);
	json_object *f = finding("over-provisioned", "Deployment", "checkout", "cart-api", "cart-api", "resize", false, 50);
	json_object_object_add(json_object_object_get(f, "resource"), "managed_by",
			       json_tokener_parse("{\"kind\":\"CartStack\",\"name\":\"main\"}"));
	json_object *fs[] = {f};
	json_object *doc = doc_of(fs, 1);
	kp_pr_opts o = {root, "namespace", "run-6", NULL, 1764050400};
	kp_pr_group *g = NULL;
	size_t n = 0;
	kp_error err = {0};
	cr_assert_eq(kp_pr_plan(doc, &o, &g, &n, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_expect_eq(g[0].changes, 0);
	cr_expect_eq(g[0].unlocated, 1);
	cr_expect_null(g[0].patch);
	const char *why = json_object_get_string(json_object_object_get(json_object_array_get_idx(g[0].not_located, 0), "why"));
	cr_expect(strstr(why, "written by its controller CartStack main") && strstr(why, "that resource's spec"), "%s", why);
	kp_pr_groups_free(g, n);
	json_object_put(doc);
}
