/*
 * test_yamledit.c - the manifest editor (stages/render/gitops/yamledit.c):
 * only the values that change are rewritten, in the file's own style;
 * what would touch more than the container's resources is refused and the
 * file left as it was.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/render/gitops/yamledit.h"

#define K KP_YAML_KEEP
#define MI (1024LL * 1024)

/* edits doc of in; returns the status, *out the new text (or NULL) */
static kp_status ed(const char *in, int doc, const char *container, int64_t cr, int64_t mr, int64_t cl, int64_t ml,
		    char **out, int *changed, kp_error *err)
{
	kp_yaml_resources w = {container, cr, cl, mr, ml, 0};
	size_t n = 0;
	return kp_yaml_edit_resources("m.yaml", in, strlen(in), doc, &w, out, &n, changed, err);
}

static void expect_edit(const char *in, int64_t cr, int64_t mr, int64_t cl, int64_t ml, const char *want, int nchanged)
{
	char *out = NULL;
	int changed = -1;
	kp_error err = {0};
	kp_status s = ed(in, 0, "app", cr, mr, cl, ml, &out, &changed, &err);
	cr_assert_eq(s, KP_OK, "edit failed: %s\n--- input:\n%s", err.msg, in);
	cr_expect_str_eq(out, want, "--- input:\n%s", in);
	cr_expect_eq(changed, nchanged, "changed %d, expected %d", changed, nchanged);
	free(out);
}

static void expect_refused(const char *in, int64_t cr, int64_t mr, int64_t cl, int64_t ml, const char *why)
{
	char *out = (char *)1;
	int changed = -1;
	kp_error err = {0};
	kp_status s = ed(in, 0, "app", cr, mr, cl, ml, &out, &changed, &err);
	cr_expect_eq(s, KP_ERR_INPUT, "expected a refusal (%s)", why);
	cr_expect_null(out);
	cr_expect_eq(changed, 0);
	cr_expect(strstr(err.msg, why) != NULL, "error \"%s\" does not say \"%s\"", err.msg, why);
}

static const char *const DEPLOY = "apiVersion: apps/v1\n"
				  "kind: Deployment\n"
				  "metadata:\n"
				  "  name: cart\n"
				  "  namespace: shop # the team's\n"
				  "spec:\n"
				  "  template:\n"
				  "    spec:\n"
				  "      containers:\n"
				  "        # the main one\n"
				  "        - name: app\n"
				  "          image: cart:1.2\n"
				  "          resources:\n"
				  "            requests:\n"
				  "              cpu: 500m   # sized in 2023\n"
				  "              memory: 512Mi\n"
				  "            limits:\n"
				  "              memory: 1Gi\n"
				  "        - name: sidecar\n"
				  "          image: envoy\n";

Test(yamledit, replaces_only_the_values_keeping_comments)
{
	expect_edit(DEPLOY, 250, 256 * MI, K, 768 * MI,
		    "apiVersion: apps/v1\n"
		    "kind: Deployment\n"
		    "metadata:\n"
		    "  name: cart\n"
		    "  namespace: shop # the team's\n"
		    "spec:\n"
		    "  template:\n"
		    "    spec:\n"
		    "      containers:\n"
		    "        # the main one\n"
		    "        - name: app\n"
		    "          image: cart:1.2\n"
		    "          resources:\n"
		    "            requests:\n"
		    "              cpu: 250m   # sized in 2023\n"
		    "              memory: 256Mi\n"
		    "            limits:\n"
		    "              memory: 768Mi\n"
		    "        - name: sidecar\n"
		    "          image: envoy\n",
		    3);
}

Test(yamledit, same_values_change_nothing)
{
	char *out = NULL;
	int changed = -1;
	kp_error err = {0};
	cr_assert_eq(ed(DEPLOY, 0, "app", 500, 512 * MI, K, 1024 * MI, &out, &changed, &err), KP_OK, "%s", err.msg);
	cr_expect_str_eq(out, DEPLOY);
	cr_expect_eq(changed, 0);
	free(out);
}

Test(yamledit, adds_a_missing_key_after_its_mapping_with_its_indentation)
{
	expect_edit(DEPLOY, K, K, 1000, K,
		    "apiVersion: apps/v1\n"
		    "kind: Deployment\n"
		    "metadata:\n"
		    "  name: cart\n"
		    "  namespace: shop # the team's\n"
		    "spec:\n"
		    "  template:\n"
		    "    spec:\n"
		    "      containers:\n"
		    "        # the main one\n"
		    "        - name: app\n"
		    "          image: cart:1.2\n"
		    "          resources:\n"
		    "            requests:\n"
		    "              cpu: 500m   # sized in 2023\n"
		    "              memory: 512Mi\n"
		    "            limits:\n"
		    "              memory: 1Gi\n"
		    "              cpu: 1\n"
		    "        - name: sidecar\n"
		    "          image: envoy\n",
		    1);
}

Test(yamledit, adds_a_resources_block_in_the_files_own_indentation)
{
	const char *in = "kind: StatefulSet\n"
			 "metadata:\n"
			 "    name: db\n"
			 "spec:\n"
			 "    template:\n"
			 "        spec:\n"
			 "            containers:\n"
			 "            - name: app\n"
			 "              image: pg:16\n"
			 "              args: [\"-c\", \"shared_buffers=1GB\"]\n";
	expect_edit(in, 250, 256 * MI, K, K,
		    "kind: StatefulSet\n"
		    "metadata:\n"
		    "    name: db\n"
		    "spec:\n"
		    "    template:\n"
		    "        spec:\n"
		    "            containers:\n"
		    "            - name: app\n"
		    "              image: pg:16\n"
		    "              args: [\"-c\", \"shared_buffers=1GB\"]\n"
		    "              resources:\n"
		    "                  requests:\n"
		    "                      cpu: 250m\n"
		    "                      memory: 256Mi\n",
		    2);
}

Test(yamledit, adds_a_limits_mapping_under_existing_resources)
{
	const char *in = "kind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n"
			 "      - name: app\n        resources:\n          requests:\n            cpu: 100m\n";
	expect_edit(in, K, K, K, 128 * MI,
		    "kind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n"
		    "      - name: app\n        resources:\n          requests:\n            cpu: 100m\n"
		    "          limits:\n            memory: 128Mi\n",
		    1);
}

Test(yamledit, keeps_quoting_and_unit_style)
{
	const char *in = "kind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers:\n"
			 "      - name: app\n        resources:\n          requests:\n            cpu: \"0.5\"\n"
			 "            memory: '2G'\n          limits:\n            cpu: 2\n            memory: 4000000000\n";
	expect_edit(in, 250, 1000 * 1000 * 1000, 1500, 3 * 1024 * MI,
		    "kind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers:\n"
		    "      - name: app\n        resources:\n          requests:\n            cpu: \"0.25\"\n"
		    "            memory: '1G'\n          limits:\n            cpu: 1.5\n            memory: 3221225472\n",
		    4);
}

Test(yamledit, formats_in_the_old_values_family)
{
	char b[32];
	kp_yaml_format_cpu(250, "500m", b, sizeof(b));
	cr_expect_str_eq(b, "250m");
	kp_yaml_format_cpu(250, "1", b, sizeof(b));
	cr_expect_str_eq(b, "0.25");
	kp_yaml_format_cpu(2000, "0.5", b, sizeof(b));
	cr_expect_str_eq(b, "2");
	kp_yaml_format_cpu(1000, NULL, b, sizeof(b));
	cr_expect_str_eq(b, "1");
	kp_yaml_format_cpu(1500, NULL, b, sizeof(b));
	cr_expect_str_eq(b, "1500m");
	kp_yaml_format_mem(768 * MI, "1G", b, sizeof(b)); /* not whole decimal units: binary */
	cr_expect_str_eq(b, "768Mi");
	kp_yaml_format_mem(1500 * 1000 * 1000LL, "2G", b, sizeof(b));
	cr_expect_str_eq(b, "1500M");
	kp_yaml_format_mem(2048 * MI, "512Mi", b, sizeof(b));
	cr_expect_str_eq(b, "2Gi");
	kp_yaml_format_mem(1000, "4096", b, sizeof(b)); /* plain bytes stay bytes */
	cr_expect_str_eq(b, "1000");
}

Test(yamledit, crlf_stays_crlf_and_utf8_before_the_values)
{
	const char *in = "\xEF\xBB\xBF# d\xC3\xA9ploiement \xE2\x80\x94 caf\xC3\xA9\r\n"
			 "kind: Deployment\r\n"
			 "metadata:\r\n  name: caf\xC3\xA9-api\r\n  annotations:\r\n    note: \"\xE6\x97\xA5\xE6\x9C\xAC\"\r\n"
			 "spec:\r\n  template:\r\n    spec:\r\n      containers:\r\n      - name: app\r\n"
			 "        resources:\r\n          requests:\r\n            cpu: 500m\r\n";
	expect_edit(in, 200, 64 * MI, K, K,
		    "\xEF\xBB\xBF# d\xC3\xA9ploiement \xE2\x80\x94 caf\xC3\xA9\r\n"
		    "kind: Deployment\r\n"
		    "metadata:\r\n  name: caf\xC3\xA9-api\r\n  annotations:\r\n    note: \"\xE6\x97\xA5\xE6\x9C\xAC\"\r\n"
		    "spec:\r\n  template:\r\n    spec:\r\n      containers:\r\n      - name: app\r\n"
		    "        resources:\r\n          requests:\r\n            cpu: 200m\r\n            memory: 64Mi\r\n",
		    2);
}

Test(yamledit, file_without_a_final_newline)
{
	const char *in = "kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: x";
	expect_edit(in, 100, K, K, K,
		    "kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: x\n"
		    "    resources:\n      requests:\n        cpu: 100m\n",
		    1);
}

Test(yamledit, flow_style_values_are_replaced_in_place)
{
	const char *in = "kind: Deployment\nmetadata: {name: a}\nspec: {template: {spec: {containers: [{name: app, "
			 "resources: {requests: {cpu: 100m, memory: 128Mi}}}]}}}\n";
	expect_edit(in, 50, 64 * MI, K, K,
		    "kind: Deployment\nmetadata: {name: a}\nspec: {template: {spec: {containers: [{name: app, "
		    "resources: {requests: {cpu: 50m, memory: 64Mi}}}]}}}\n",
		    2);
	expect_refused(in, K, K, 100, K, "flow");
}

Test(yamledit, multi_document_only_the_one_asked)
{
	const char *in = "kind: Service\nmetadata:\n  name: cart\n---\n"
			 "kind: Deployment\nmetadata:\n  name: cart\n  namespace: shop\nspec:\n  template:\n    spec:\n"
			 "      containers:\n      - name: app\n        resources:\n          requests:\n            cpu: 1\n"
			 "---\nkind: Deployment\nmetadata:\n  name: other\nspec:\n  template:\n    spec:\n"
			 "      containers:\n      - name: app\n        resources:\n          requests:\n            cpu: 1\n";
	kp_yaml_object *objs = NULL;
	size_t n = 0;
	bool templ = true;
	kp_error err = {0};
	cr_assert_eq(kp_yaml_objects("m.yaml", in, strlen(in), &objs, &n, &templ, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(n, 3);
	cr_expect(!templ);
	cr_expect_str_eq(objs[1].kind, "Deployment");
	cr_expect_str_eq(objs[1].name, "cart");
	cr_expect_str_eq(objs[1].ns, "shop");
	cr_expect_eq(objs[1].doc, 1);
	cr_expect_eq(objs[1].line, 5);
	cr_expect_str_eq(objs[2].ns, "");
	free(objs);
	char *out = NULL;
	int changed = 0;
	cr_assert_eq(ed(in, 1, "app", 500, K, K, K, &out, &changed, &err), KP_OK, "%s", err.msg);
	const char *d2 = strstr(out, "name: other");
	cr_assert(d2);
	cr_expect(strstr(out, "cpu: 0.5") && strstr(out, "cpu: 0.5") < d2, "document 1 edited");
	cr_expect(strstr(d2, "cpu: 1\n") != NULL, "document 2 untouched");
	free(out);
}

Test(yamledit, cronjob_and_init_containers)
{
	const char *in = "kind: CronJob\nmetadata:\n  name: report\nspec:\n  schedule: '0 3 * * *'\n  jobTemplate:\n"
			 "    spec:\n      template:\n        spec:\n          initContainers:\n          - name: app\n"
			 "            resources:\n              requests:\n                memory: 1Gi\n";
	expect_edit(in, K, 300 * MI, K, K,
		    "kind: CronJob\nmetadata:\n  name: report\nspec:\n  schedule: '0 3 * * *'\n  jobTemplate:\n"
		    "    spec:\n      template:\n        spec:\n          initContainers:\n          - name: app\n"
		    "            resources:\n              requests:\n                memory: 300Mi\n",
		    1);
}

Test(yamledit, removes_a_limit_alone_on_its_line)
{
	const char *in = "kind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n"
			 "      - name: app\n        resources:\n          limits:\n            cpu: 500m # too tight\n"
			 "            memory: 1Gi\n";
	expect_edit(in, K, K, KP_YAML_REMOVE, K,
		    "kind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n"
		    "      - name: app\n        resources:\n          limits:\n            memory: 1Gi\n",
		    1);
	/* the only limit: "limits:" goes with it */
	const char *in2 = "kind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n"
			  "      - name: app\n        resources:\n          requests:\n            cpu: 1\n"
			  "          limits:\n            cpu: 1\n";
	expect_edit(in2, K, K, KP_YAML_REMOVE, K,
		    "kind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n"
		    "      - name: app\n        resources:\n          requests:\n            cpu: 1\n",
		    1);
}

Test(yamledit, refuses_aliases_anchors_and_merge_keys)
{
	const char *alias = "x-res: &res\n  requests:\n    cpu: 1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n"
			    "  template:\n    spec:\n      containers:\n      - name: app\n        resources: *res\n";
	expect_refused(alias, 500, K, K, K, "alias");
	const char *anchor = "kind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n"
			     "      - name: app\n        resources: &r\n          requests:\n            cpu: 1\n"
			     "      - name: b\n        resources: *r\n";
	expect_refused(anchor, 500, K, K, K, "anchor");
	const char *merge = "base: &b\n  image: x\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n"
			    "    spec:\n      containers:\n      - <<: *b\n        name: app\n";
	expect_refused(merge, 500, K, K, K, "merge key");
}

Test(yamledit, refuses_templates_and_says_what_is_missing)
{
	const char *helm = "kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n";
	expect_refused(helm, 500, K, K, K, "template");
	kp_yaml_object *objs = NULL;
	size_t n = 9;
	bool templ = false;
	kp_error err = {0};
	cr_expect_eq(kp_yaml_objects("m.yaml", helm, strlen(helm), &objs, &n, &templ, &err), KP_OK);
	cr_expect(templ);
	cr_expect_eq(n, 0);
	/* "{{" in a comment is no template */
	const char *commented = "# render with {{ values }} some day\nkind: Pod\nmetadata:\n  name: p\n";
	cr_expect_eq(kp_yaml_objects("m.yaml", commented, strlen(commented), &objs, &n, &templ, &err), KP_OK);
	cr_expect(!templ);
	cr_expect_eq(n, 1);
	free(objs);
}

Test(yamledit, errors_name_the_file_and_line)
{
	expect_refused("kind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n"
		       "      - name: web\n",
		       500, K, K, K, "has no container app");
	expect_refused("kind: ConfigMap\nmetadata:\n  name: a\n", 500, K, K, K, "no pod template");
	expect_refused("kind: Pod\nmetadata: [unclosed\n", 500, K, K, K, "m.yaml:");
}

static const char *const HPA = "apiVersion: autoscaling/v2\n"
			       "kind: HorizontalPodAutoscaler\n"
			       "metadata:\n"
			       "  name: storefront\n"
			       "spec:\n"
			       "  metrics:\n"
			       "  - type: Resource\n"
			       "    resource:\n"
			       "      name: cpu\n"
			       "      target:\n"
			       "        type: Utilization\n"
			       "        averageUtilization: 70  # agreed with SRE\n";

Test(yamledit, scalar_at_a_json_pointer)
{
	char *out = NULL;
	size_t n = 0;
	kp_error err = {0};
	cr_assert_eq(kp_yaml_edit_scalar("h.yaml", HPA, strlen(HPA), 0, "/spec/metrics/0/resource/target/averageUtilization",
					 "70", "333", &out, &n, &err),
		     KP_OK, "%s", err.msg);
	cr_expect(strstr(out, "        averageUtilization: 333  # agreed with SRE\n") != NULL, "%s", out);
	cr_expect_eq(n, strlen(HPA) + 1);
	free(out);
	/* the manifest says something else than the cluster did: left alone */
	cr_expect_eq(kp_yaml_edit_scalar("h.yaml", HPA, strlen(HPA), 0, "/spec/metrics/0/resource/target/averageUtilization",
					 "80", "333", &out, &n, &err),
		     KP_ERR_INPUT);
	cr_expect(strstr(err.msg, "is 70 in the manifest, 80 in the cluster") != NULL, "%s", err.msg);
	cr_expect_null(out);
	cr_expect_eq(kp_yaml_edit_scalar("h.yaml", HPA, strlen(HPA), 0, "/spec/metrics/1/resource", "70", "333", &out, &n,
					 &err),
		     KP_ERR_INPUT);
	cr_expect(strstr(err.msg, "no such path") != NULL, "%s", err.msg);
	/* quoted stays quoted; ~1 is a slash in a key */
	const char *q = "kind: X\nmetadata:\n  annotations:\n    a/b: \"on\"\n";
	cr_assert_eq(kp_yaml_edit_scalar("q.yaml", q, strlen(q), 0, "/metadata/annotations/a~1b", "on", "off", &out, &n,
					 &err),
		     KP_OK, "%s", err.msg);
	cr_expect_str_eq(out, "kind: X\nmetadata:\n  annotations:\n    a/b: \"off\"\n");
	free(out);
	/* through an alias: refused */
	const char *al = "t: &t\n  averageUtilization: 70\nspec:\n  target: *t\n";
	cr_expect_eq(kp_yaml_edit_scalar("a.yaml", al, strlen(al), 0, "/t/averageUtilization", "70", "80", &out, &n, &err),
		     KP_ERR_INPUT);
	cr_expect(strstr(err.msg, "anchor") != NULL, "%s", err.msg);
}

Test(yamledit, a_marked_values_mapping_is_edited_in_place)
{
	const char *v = "image: grafana\n# kopilot: resources Deployment mon/grafana grafana\nresources:\n  requests:\n"
			"    cpu: 500m   # prod\n    memory: 1Gi\nsidecar:\n  resources:\n    requests:\n      cpu: 500m\n";
	kp_yaml_resources w = {"grafana", 100, K, 400 * MI, K, 3};
	char *out = NULL;
	size_t n = 0;
	int changed = 0;
	kp_error err = {0};
	cr_assert_eq(kp_yaml_edit_resources("v.yaml", v, strlen(v), 0, &w, &out, &n, &changed, &err), KP_OK, "%s",
		     err.msg);
	cr_expect_eq(changed, 2);
	cr_expect_str_eq(out, "image: grafana\n# kopilot: resources Deployment mon/grafana grafana\nresources:\n"
			      "  requests:\n    cpu: 100m   # prod\n    memory: 400Mi\nsidecar:\n  resources:\n"
			      "    requests:\n      cpu: 500m\n");
	free(out);
	w.at_line = 2; /* the marker's own line holds no resources key */
	cr_expect_eq(kp_yaml_edit_resources("v.yaml", v, strlen(v), 0, &w, &out, &n, &changed, &err), KP_ERR_INPUT);
	cr_expect(strstr(err.msg, "no resources key on the line after the kopilot marker") != NULL, "%s", err.msg);
}

Test(yamledit, a_new_overlay_patch_and_its_kustomization_entry)
{
	const char *base = "apiVersion: batch/v1\r\nkind: CronJob\r\nmetadata:\r\n  name: nightly\r\nspec:\r\n  jobTemplate:\r\n"
			   "    spec:\r\n      template:\r\n        spec:\r\n          containers:\r\n          - name: job\r\n"
			   "            image: x\r\n";
	kp_yaml_resources w = {"job", 250, K, K, 512 * MI, 0};
	char *out = NULL;
	size_t n = 0;
	kp_error err = {0};
	cr_assert_eq(kp_yaml_resources_patch("b.yaml", base, strlen(base), 0, &w, "one\ntwo", &out, &n, &err), KP_OK,
		     "%s", err.msg);
	cr_expect_str_eq(out, "# one\r\n# two\r\napiVersion: batch/v1\r\nkind: CronJob\r\nmetadata:\r\n  name: nightly\r\n"
			      "spec:\r\n  jobTemplate:\r\n    spec:\r\n      template:\r\n        spec:\r\n"
			      "          containers:\r\n          - name: job\r\n            resources:\r\n"
			      "              requests:\r\n                cpu: 250m\r\n              limits:\r\n"
			      "                memory: 512Mi\r\n");
	free(out);
	w.cpu_limit = KP_YAML_REMOVE;
	cr_expect_eq(kp_yaml_resources_patch("b.yaml", base, strlen(base), 0, &w, NULL, &out, &n, &err), KP_ERR_INPUT);
	cr_expect(strstr(err.msg, "limit to remove") != NULL, "%s", err.msg);
	/* the entry: after the last one, at its column; or a new key */
	const char *k1 = "resources:\n  - ../base\npatches:\n  # the region\n  - path: a.yaml\nimages: []\n";
	cr_assert_eq(kp_yaml_kustomization_add_patch("k.yaml", k1, strlen(k1), "kopilot-x.yaml", &out, &n, &err), KP_OK,
		     "%s", err.msg);
	cr_expect_str_eq(out, "resources:\n  - ../base\npatches:\n  # the region\n  - path: a.yaml\n"
			      "  - path: kopilot-x.yaml\nimages: []\n");
	free(out);
	const char *k2 = "namespace: web\nresources:\n- ../base";
	cr_assert_eq(kp_yaml_kustomization_add_patch("k.yaml", k2, strlen(k2), "kopilot-x.yaml", &out, &n, &err), KP_OK,
		     "%s", err.msg);
	cr_expect_str_eq(out, "namespace: web\nresources:\n- ../base\npatches:\n- path: kopilot-x.yaml\n");
	free(out);
	const char *k3 = "resources: [../base]\npatches: [{path: a.yaml}]\n";
	cr_expect_eq(kp_yaml_kustomization_add_patch("k.yaml", k3, strlen(k3), "kopilot-x.yaml", &out, &n, &err),
		     KP_ERR_INPUT);
	cr_expect(strstr(err.msg, "not a block list") != NULL, "%s", err.msg);
}
