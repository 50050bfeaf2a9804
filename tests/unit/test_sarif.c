/*
 * test_sarif.c - findings.sarif (stages/render/sarif.c): where each
 * finding points (a container's resources line, its mapping when it has no
 * resources, an object's metadata.name, a marked Helm values line), what is
 * left out and counted (not declared, declared twice, cluster-scoped, an
 * operator's workload, an unknown category, over GitHub's 25,000 results),
 * URIs relative to the repository's root (a checkout in a subdirectory,
 * names that need percent-encoding), levels, fingerprints and rules.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tmpdir.h"
#include "stages/render/sarif.h"

static char root[64];

static void put(const char *rel, const char *text) { tmpdir_put(root, rel, text); }
static void setup(void) { tmpdir_make(root, "sarif"); }
static void teardown(void) { kp_remove_tree(root); }

TestSuite(sarif, .init = setup, .fini = teardown);

static const char cart[] = "apiVersion: apps/v1\n"	    /* 1 */
			   "kind: Deployment\n"		    /* 2 */
			   "metadata:\n"		    /* 3 */
			   "  name: cart\n"		    /* 4 */
			   "  namespace: shop\n"	    /* 5 */
			   "spec:\n"			    /* 6 */
			   "  template:\n"		    /* 7 */
			   "    spec:\n"			    /* 8 */
			   "      containers:\n"	    /* 9 */
			   "        - name: app\n"	    /* 10 */
			   "          image: cart:1\n"	    /* 11 */
			   "          resources:\n"	    /* 12 */
			   "            requests: {cpu: 2}\n" /* 13 */
			   "        - name: sidecar\n"	    /* 14 */
			   "          image: envoy\n";	    /* 15 */

static const char pvc[] = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  namespace: shop\n  name: data\n";

static json_object *finding(const char *id, const char *category, const char *kind, const char *ns, const char *name,
			    const char *container, double savings)
{
	json_object *f = json_object_new_object(), *r = json_object_new_object(), *a = json_object_new_object();
	json_object_object_add(f, "id", json_object_new_string(id));
	json_object_object_add(f, "category", json_object_new_string(category));
	json_object_object_add(r, "kind", json_object_new_string(kind));
	json_object_object_add(r, "namespace", ns ? json_object_new_string(ns) : NULL);
	json_object_object_add(r, "name", json_object_new_string(name));
	json_object_object_add(f, "resource", r);
	json_object_object_add(f, "container", container ? json_object_new_string(container) : NULL);
	json_object_object_add(f, "monthly_savings", json_object_new_double(savings));
	json_object_object_add(f, "monthly_cost", json_object_new_double(savings > 0 ? savings * 2 : 10));
	json_object_object_add(f, "risk", json_object_new_string("LOW"));
	json_object_object_add(f, "confidence", json_object_new_string("high"));
	json_object_object_add(a, "type", json_object_new_string("resize"));
	json_object_object_add(a, "blocked", json_object_new_boolean(false));
	json_object_object_add(f, "action", a);
	json_object_object_add(f, "explanation", json_object_new_string("Because."));
	return f;
}

static json_object *header(void)
{
	return json_tokener_parse("{\"schema\":\"kopilot.findings/v1\",\"generated_at\":\"2026-11-25T06:00:00Z\","
				  "\"cluster\":{\"name\":\"prod\"},\"prices\":{\"currency\":\"USD\"},\"findings\":[]}");
}

/* runs the writer over the findings (consumed) with dir as the checkout */
static json_object *write_sarif(const char *dir, json_object **fs, size_t n, size_t *results, size_t *left)
{
	json_object *h = header();
	kp_sarif *s = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_sarif_begin(dir, h, &s, &err), KP_OK, "%s", err.msg);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(kp_sarif_add(s, fs[i], &err), KP_OK, "%s", err.msg);
		json_object_put(fs[i]);
	}
	char *text = NULL;
	cr_assert_eq(kp_sarif_end(s, &text, NULL, results, left, &err), KP_OK, "%s", err.msg);
	json_object_put(h);
	json_object *doc = json_tokener_parse(text);
	cr_assert_not_null(doc, "not JSON: %.200s", text);
	free(text);
	return doc;
}

static json_object *result(json_object *doc, size_t i)
{
	return json_object_array_get_idx(kp_json_get(json_object_array_get_idx(kp_json_get(doc, "runs"), 0), "results"), i);
}

static const char *uri(json_object *res)
{
	json_object *l = json_object_array_get_idx(json_object_object_get(res, "locations"), 0);
	return kp_json_str(l, "physicalLocation.artifactLocation.uri");
}

static int64_t start_line(json_object *res)
{
	json_object *l = json_object_array_get_idx(json_object_object_get(res, "locations"), 0);
	return json_object_get_int64(kp_json_get(l, "physicalLocation.region.startLine"));
}

Test(sarif, places_and_what_is_left_out)
{
	put("apps/cart.yaml", cart);
	put("apps/pvc.yaml", pvc);
	put("apps/twice-a.yaml", "kind: Service\nmetadata:\n  name: twice\n  namespace: shop\n");
	put("apps/twice-b.yaml", "kind: Service\nmetadata:\n  name: twice\n  namespace: shop\n");
	json_object *fs[] = {
		finding("a1", "over-provisioned", "Deployment", "shop", "cart", "app", 104.62),
		finding("a2", "under-provisioned", "Deployment", "shop", "cart", "sidecar", -3.5),
		finding("a3", "orphaned-pvc", "PersistentVolumeClaim", "shop", "data", NULL, 4),
		finding("a4", "over-provisioned", "Deployment", "shop", "absent", "app", 9), /* not declared */
		finding("a5", "idle-loadbalancer", "Service", "shop", "twice", NULL, 18),   /* declared twice */
		finding("a6", "underutilized-node", "Node", NULL, "ip-10-0-0-1", NULL, 139), /* no manifest */
		finding("a7", "no-such-category", "Deployment", "shop", "cart", "app", 1),
		finding("a8", "over-provisioned", "Deployment", "shop", "cart", "nope", 2), /* no such container */
	};
	size_t nres = 0, left = 0;
	json_object *doc = write_sarif(root, fs, sizeof(fs) / sizeof(fs[0]), &nres, &left);
	cr_expect_eq(nres, 3);
	cr_expect_eq(left, 5);
	json_object *run = json_object_array_get_idx(kp_json_get(doc, "runs"), 0);
	cr_expect_eq(json_object_get_int64(kp_json_get(run, "properties.left_out")), 5);
	/* the resources key of the container */
	json_object *r0 = result(doc, 0);
	cr_expect_str_eq(uri(r0), "apps/cart.yaml");
	cr_expect_eq(start_line(r0), 12);
	json_object *l0 = json_object_array_get_idx(json_object_object_get(r0, "locations"), 0);
	/* the region is the resources block, its text the snippet */
	cr_expect_eq(json_object_get_int64(kp_json_get(l0, "physicalLocation.region.endLine")), 13);
	cr_expect_str_eq(kp_json_str(l0, "physicalLocation.region.snippet.text"),
			 "          resources:\n            requests: {cpu: 2}");
	cr_expect_str_eq(kp_json_str(l0, "physicalLocation.artifactLocation.uriBaseId"), "%SRCROOT%");
	cr_expect_str_eq(kp_json_str(r0, "ruleId"), "over-provisioned");
	cr_expect_str_eq(kp_json_str(r0, "level"), "warning");
	cr_expect_str_eq(kp_json_str(r0, "partialFingerprints.kopilotFindingId/v1"), "a1");
	cr_expect(strstr(kp_json_str(r0, "message.text"), "Saves $104.62/month"), "%s", kp_json_str(r0, "message.text"));
	cr_expect_float_eq(json_object_get_double(kp_json_get(r0, "properties.monthly_savings")), 104.62, 1e-9);
	cr_expect_str_eq(kp_json_str(r0, "properties.currency"), "USD");
	cr_expect_str_eq(kp_json_str(r0, "properties.namespace"), "shop");
	/* a container without resources: its mapping's first line */
	json_object *r1 = result(doc, 1);
	cr_expect_eq(start_line(r1), 14);
	cr_expect_str_eq(kp_json_str(r1, "level"), "error");
	cr_expect(strstr(kp_json_str(r1, "message.text"), "Costs $3.50/month"), "%s", kp_json_str(r1, "message.text"));
	/* an object: its metadata.name */
	json_object *r2 = result(doc, 2);
	cr_expect_str_eq(uri(r2), "apps/pvc.yaml");
	cr_expect_eq(start_line(r2), 5);
	json_object *l2 = json_object_array_get_idx(json_object_object_get(r2, "locations"), 0);
	cr_expect_null(kp_json_get(l2, "physicalLocation.region.endLine")); /* one line */
	cr_expect_str_eq(kp_json_str(l2, "physicalLocation.region.snippet.text"), "  name: data");
	/* ruleIndex and ruleId agree with the rules */
	json_object *rules = kp_json_get(run, "tool.driver.rules");
	cr_expect_eq(json_object_array_length(rules), 9);
	for (size_t i = 0; i < nres; i++) {
		json_object *r = result(doc, i);
		json_object *rule = json_object_array_get_idx(rules, (size_t)json_object_get_int64(kp_json_get(r, "ruleIndex")));
		cr_expect_str_eq(kp_json_str(rule, "id"), kp_json_str(r, "ruleId"));
	}
	cr_expect_str_eq(kp_json_str(run, "tool.driver.name"), "kopilot");
	cr_expect_str_eq(kp_json_str(run, "automationDetails.id"), "kopilot/prod/");
	json_object_put(doc);
}

Test(sarif, uris_from_the_repository_root)
{
	/* the manifests in a subdirectory of a repository: URIs carry it */
	char sub[128], dotgit[128];
	snprintf(sub, sizeof(sub), "%s/deploy", root);
	snprintf(dotgit, sizeof(dotgit), "%s/.git", root);
	kp_error err = {0};
	cr_assert_eq(kp_mkdir_p(dotgit, &err), KP_OK);
	put("deploy/my apps/cart#1.yaml", cart);
	json_object *fs[] = {finding("b1", "over-provisioned", "Deployment", "shop", "cart", "app", 5)};
	size_t nres = 0, left = 0;
	json_object *doc = write_sarif(sub, fs, 1, &nres, &left);
	cr_assert_eq(nres, 1);
	cr_expect_str_eq(uri(result(doc, 0)), "deploy/my%20apps/cart%231.yaml");
	json_object *run = json_object_array_get_idx(kp_json_get(doc, "runs"), 0);
	char want[128];
	snprintf(want, sizeof(want), "file://%s/", root);
	cr_expect_str_eq(kp_json_str(json_object_object_get(kp_json_get(run, "originalUriBaseIds"), "%SRCROOT%"), "uri"),
			 want);
	json_object_put(doc);
}

Test(sarif, levels_blocked_low_confidence_marker_and_operator)
{
	put("apps/cart.yaml", cart);
	put("helm/values.yaml", "grafana:\n  # kopilot: resources Deployment monitoring/grafana grafana\n"
				"  resources:\n    requests: {cpu: 1}\n");
	put("apps/prom.yaml", "kind: StatefulSet\nmetadata:\n  name: prom\n  namespace: shop\nspec:\n  template:\n"
			      "    spec:\n      containers:\n        - name: prom\n          resources: {}\n");
	json_object *blocked = finding("c1", "over-provisioned", "Deployment", "shop", "cart", "app", 5);
	json_object_object_add(json_object_object_get(blocked, "action"), "blocked", json_object_new_boolean(true));
	json_object *low = finding("c2", "idle-workload", "Deployment", "shop", "cart", NULL, 5);
	json_object_object_add(low, "confidence", json_object_new_string("low"));
	json_object *marked = finding("c3", "over-provisioned", "Deployment", "monitoring", "grafana", "grafana", 7);
	json_object *op = finding("c4", "over-provisioned", "StatefulSet", "shop", "prom", "prom", 7);
	json_object *mb = json_object_new_object();
	json_object_object_add(mb, "kind", json_object_new_string("Prometheus"));
	json_object_object_add(mb, "name", json_object_new_string("k8s"));
	json_object_object_add(json_object_object_get(op, "resource"), "managed_by", mb);
	json_object *hygiene = finding("c5", "finished-job", "Deployment", "shop", "cart", NULL, 0);
	json_object *fs[] = {blocked, low, marked, op, hygiene};
	size_t nres = 0, left = 0;
	json_object *doc = write_sarif(root, fs, 5, &nres, &left);
	cr_assert_eq(nres, 4);
	cr_expect_eq(left, 1); /* the operator's workload: the change belongs in its resource */
	cr_expect_str_eq(kp_json_str(result(doc, 0), "level"), "note");
	cr_expect(strstr(kp_json_str(result(doc, 0), "message.text"), "blocked"));
	cr_expect_str_eq(kp_json_str(result(doc, 1), "level"), "note");
	cr_expect_eq(start_line(result(doc, 1)), 4); /* metadata.name of the Deployment */
	cr_expect_str_eq(uri(result(doc, 2)), "helm/values.yaml");
	cr_expect_eq(start_line(result(doc, 2)), 3); /* the resources key under the marker */
	cr_expect_str_eq(kp_json_str(result(doc, 3), "level"), "note");
	json_object_put(doc);
}

Test(sarif, not_a_directory_is_a_usage_error)
{
	json_object *h = header();
	kp_sarif *s = NULL;
	kp_error err = {0};
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/none", root);
	cr_expect_eq(kp_sarif_begin(missing, h, &s, &err), KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "not a directory"), "%s", err.msg);
	cr_expect_null(s);
	json_object_put(h);
}

Test(sarif, at_most_25000_results, .timeout = 120)
{
	put("apps/cart.yaml", cart);
	json_object *h = header();
	kp_sarif *s = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_sarif_begin(root, h, &s, &err), KP_OK, "%s", err.msg);
	for (size_t i = 0; i < KP_SARIF_MAX_RESULTS + 2; i++) {
		char id[32];
		snprintf(id, sizeof(id), "%016zx", i);
		json_object *f = finding(id, "over-provisioned", "Deployment", "shop", "cart", "app", 1);
		cr_assert_eq(kp_sarif_add(s, f, &err), KP_OK);
		json_object_put(f);
	}
	char *text = NULL;
	size_t nres = 0, left = 0;
	cr_assert_eq(kp_sarif_end(s, &text, NULL, &nres, &left, &err), KP_OK);
	cr_expect_eq(nres, KP_SARIF_MAX_RESULTS);
	cr_expect_eq(left, 2);
	json_object *doc = json_tokener_parse(text);
	cr_expect_eq(json_object_get_int64(kp_json_get(json_object_array_get_idx(kp_json_get(doc, "runs"), 0),
						       "properties.left_out_over_limit")),
		     2);
	json_object_put(doc);
	free(text);
	json_object_put(h);
}

Test(sarif, gitlab_code_quality_has_the_same_results)
{
	char sub[128], dotgit[128];
	snprintf(sub, sizeof(sub), "%s/deploy", root);
	snprintf(dotgit, sizeof(dotgit), "%s/.git", root);
	kp_error err = {0};
	cr_assert_eq(kp_mkdir_p(dotgit, &err), KP_OK);
	put("deploy/my apps/cart.yaml", cart);
	put("deploy/pvc.yaml", pvc);
	json_object *h = header();
	kp_sarif *s = NULL;
	cr_assert_eq(kp_sarif_begin(sub, h, &s, &err), KP_OK, "%s", err.msg);
	json_object *fs[] = {finding("d1", "over-provisioned", "Deployment", "shop", "cart", "app", 5),
			     finding("d2", "under-provisioned", "Deployment", "shop", "cart", "sidecar", -1),
			     finding("d3", "orphaned-pvc", "PersistentVolumeClaim", "shop", "data", NULL, 4),
			     finding("d4", "orphaned-pvc", "PersistentVolumeClaim", "shop", "gone", NULL, 4)};
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(kp_sarif_add(s, fs[i], &err), KP_OK, "%s", err.msg);
		json_object_put(fs[i]);
	}
	char *text = NULL, *cq = NULL;
	size_t nres = 0, left = 0;
	cr_assert_eq(kp_sarif_end(s, &text, &cq, &nres, &left, &err), KP_OK);
	json_object *arr = json_tokener_parse(cq);
	cr_assert(json_object_is_type(arr, json_type_array), "%s", cq);
	cr_assert_eq(json_object_array_length(arr), 3);
	static const char *const want[][4] = {{"d1", "minor", "deploy/my apps/cart.yaml", "12"},
					      {"d2", "major", "deploy/my apps/cart.yaml", "14"},
					      {"d3", "minor", "deploy/pvc.yaml", "5"}};
	for (size_t i = 0; i < 3; i++) {
		json_object *x = json_object_array_get_idx(arr, i);
		cr_expect_str_eq(kp_json_str(x, "fingerprint"), want[i][0]);
		cr_expect_str_eq(kp_json_str(x, "severity"), want[i][1]);
		cr_expect_str_eq(kp_json_str(x, "location.path"), want[i][2]); /* a path, not a URI */
		cr_expect_eq(json_object_get_int64(kp_json_get(x, "location.lines.begin")), atoi(want[i][3]));
		cr_expect(kp_json_str(x, "description") && kp_json_str(x, "check_name"));
	}
	json_object_put(arr);
	free(text), free(cq);
	json_object_put(h);
}

Test(sarif, a_manifest_that_cannot_be_read_is_an_error_not_a_gap)
{
	put("apps/cart.yaml", cart);
	json_object *h = header();
	kp_sarif *s = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_sarif_begin(root, h, &s, &err), KP_OK, "%s", err.msg);
	char path[128];
	snprintf(path, sizeof(path), "%s/apps/cart.yaml", root);
	cr_assert_eq(unlink(path), 0); /* gone between the scan and the result */
	json_object *f = finding("e1", "over-provisioned", "Deployment", "shop", "cart", "app", 5);
	cr_expect_eq(kp_sarif_add(s, f, &err), KP_ERR_IO);
	cr_expect(strstr(err.msg, "cart.yaml"), "%s", err.msg);
	json_object_put(f);
	kp_sarif_abort(s);
	json_object_put(h);
}
