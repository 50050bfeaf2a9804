/*
 * test_inputs.c - every input checked as the API server would check it
 * (issue 22): int32 counts, names, NUL characters, the files themselves
 * (FIFO, empty, null, byte order mark), control characters made visible
 * where text leaves, and references to objects the snapshot does not hold
 * (inconsistencies) never turned into findings.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "pipeline/findings_json.h"

/* ---- a snapshot with one list replaced ---- */

static kp_fixture in_fx;

static void in_init(void) { fx_init(&in_fx, "inputs", "manual"); }
static void in_fini(void) { fx_fini(&in_fx); }

/* Loads the fixture's snapshot; the status, with err filled. */
static kp_status in_load(kp_error *err)
{
	kp_cluster c;
	kp_cluster_init(&c);
	kp_status s = kp_snapshot_load(&c, in_fx.dir, err);
	kp_cluster_release(&c);
	return s;
}

static void in_expect_error(const char *res, const char *items, const char *needle1, const char *needle2)
{
	fx_list(&in_fx, res, items);
	kp_error err = {0};
	cr_assert_eq(in_load(&err), KP_ERR_INPUT, "%s accepted: %s", res, items);
	cr_assert(strstr(err.msg, needle1), "message lacks \"%s\": %s", needle1, err.msg);
	if (needle2)
		cr_assert(strstr(err.msg, needle2), "message lacks \"%s\": %s", needle2, err.msg);
	for (const char *p = err.msg; *p; p++)
		cr_assert((unsigned char)*p >= 0x20 && *p != 0x7f, "raw control character in: %s", err.msg);
	fx_list(&in_fx, res, ""); /* back to an empty list for the next case */
}

static void in_expect_ok(const char *res, const char *items)
{
	fx_list(&in_fx, res, items);
	kp_error err = {0};
	cr_assert_eq(in_load(&err), KP_OK, "%s refused: %s", err.msg, items);
	fx_list(&in_fx, res, "");
}

#define DEPLOY(meta_extra, spec_extra)                                                                                \
	"{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"" meta_extra "},"                \
	"\"spec\":{" spec_extra "\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\"}]}}}}"

#define HPA(spec)                                                                                                     \
	"{\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},"                 \
	"\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"web\"}" spec "}}"

#define METRIC(util)                                                                                                  \
	",\"maxReplicas\":5,\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":"     \
	"\"Utilization\",\"averageUtilization\":" util "}}}]"

Test(input_numbers, replicas_are_int32, .init = in_init, .fini = in_fini)
{
	in_expect_error("deployments", DEPLOY("", "\"replicas\":99999999999999999999999,"), "spec.replicas",
			"int32");
	in_expect_error("deployments", DEPLOY("", "\"replicas\":2147483648,"), "spec.replicas", "2147483648");
	in_expect_error("deployments", DEPLOY("", "\"replicas\":-1,"), "spec.replicas", "at least 0");
	in_expect_error("deployments", DEPLOY("", "\"replicas\":2.5,"), "spec.replicas", "2.5");
	in_expect_error("deployments", DEPLOY("", "\"replicas\":\"3\","), "spec.replicas", "string");
	in_expect_error("deployments",
			"{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},\"spec\":"
			"{\"template\":{\"spec\":{\"containers\":[]}}},\"status\":{\"readyReplicas\":1e30}}",
			"status.readyReplicas", "1e30");
	in_expect_ok("deployments", DEPLOY("", "\"replicas\":2147483647,"));
	in_expect_ok("deployments", DEPLOY("", "\"replicas\":null,"));
}

Test(input_numbers, hpa_bounds_and_targets, .init = in_init, .fini = in_fini)
{
	in_expect_error("horizontalpodautoscalers", HPA(METRIC("1e30")),
			"spec.metrics[0].resource.target.averageUtilization", "1e30");
	in_expect_error("horizontalpodautoscalers", HPA(METRIC("0")), "averageUtilization", "at least 1");
	in_expect_error("horizontalpodautoscalers", HPA(",\"minReplicas\":4,\"maxReplicas\":2"), "spec.maxReplicas",
			"below spec.minReplicas");
	in_expect_error("horizontalpodautoscalers", HPA(",\"maxReplicas\":5,\"targetCPUUtilizationPercentage\":-5"),
			"targetCPUUtilizationPercentage", NULL);
	in_expect_error("horizontalpodautoscalers", HPA(",\"maxReplicas\":99999999999"), "spec.maxReplicas", "int32");
	/* above 100 is legal: CPU may burst past its request */
	in_expect_ok("horizontalpodautoscalers", HPA(METRIC("250")));
}

Test(input_numbers, quantities_that_overflow_are_refused, .init = in_init, .fini = in_fini)
{
	in_expect_error("pods",
			"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\"},\"spec\":{\"containers\":"
			"[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"1e30\"}}}]}}",
			"requests.cpu", NULL);
	in_expect_error("pods",
			"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\"},\"spec\":{\"containers\":"
			"[{\"name\":\"c\",\"resources\":{\"limits\":{\"memory\":\"99999999999999999999Ei\"}}}]}}",
			"limits.memory", NULL);
}

Test(input_numbers, usage_step_and_counts, .init = in_init, .fini = in_fini)
{
	fx_write(&in_fx, "usage.json",
		 "{\"schema\":\"kopilot.usage/v1\",\"window\":{\"start\":\"2026-11-11T06:00:00Z\",\"end\":"
		 "\"2026-11-25T06:00:00Z\",\"step_seconds\":1e300,\"source\":\"manual\"},\"containers\":[]}");
	kp_error err = {0};
	cr_assert_eq(in_load(&err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "window.step_seconds"), "%s", err.msg);
	fx_write(&in_fx, "usage.json",
		 "{\"schema\":\"kopilot.usage/v1\",\"window\":{\"start\":\"2026-11-11T06:00:00Z\",\"end\":"
		 "\"2026-11-25T06:00:00Z\",\"source\":\"manual\"},\"containers\":[{\"namespace\":\"a\",\"pod\":\"p\","
		 "\"container\":\"c\",\"samples\":99999999999999999999999}]}");
	cr_assert_eq(in_load(&err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "samples"), "%s", err.msg);
}

/* ---- names ---- */

Test(input_names, dns_rules, .init = in_init, .fini = in_fini)
{
	cr_assert_null(kp_name_problem("web-1.shop", KP_NAME_SUBDOMAIN));
	cr_assert_not_null(kp_name_problem("Web", KP_NAME_SUBDOMAIN));
	cr_assert_not_null(kp_name_problem("a..b", KP_NAME_SUBDOMAIN));
	cr_assert_not_null(kp_name_problem("-a", KP_NAME_SUBDOMAIN));
	cr_assert_null(kp_name_problem("cart", KP_NAME_LABEL));
	cr_assert_not_null(kp_name_problem("a.b", KP_NAME_LABEL));
	cr_assert_not_null(kp_name_problem("1web", KP_NAME_DNS1035));
	cr_assert_null(kp_name_problem("web1", KP_NAME_DNS1035));
	cr_assert_null(kp_name_problem("", KP_NAME_LABEL_VALUE));
	cr_assert_null(kp_name_problem("m5.xlarge", KP_NAME_LABEL_VALUE));
	cr_assert_not_null(kp_name_problem("m5\x1b[31m", KP_NAME_LABEL_VALUE));
	cr_assert_null(kp_name_problem("node.kubernetes.io/instance-type", KP_NAME_LABEL_KEY));
	cr_assert_not_null(kp_name_problem("bad key", KP_NAME_LABEL_KEY));
	cr_assert_not_null(kp_name_problem("a/b", KP_NAME_SEGMENT));
	cr_assert_not_null(kp_name_problem("x\x1b", KP_NAME_SEGMENT));
}

Test(input_names, objects_named_as_the_api_server_names_them, .init = in_init, .fini = in_fini)
{
	/* "cart\u0000-evil" would silently become "cart" */
	in_expect_error("deployments",
			"{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"cart\\u0000-evil\",\"namespace\":\"shop\"},"
			"\"spec\":{\"template\":{\"spec\":{\"containers\":[]}}}}",
			"metadata.name", "NUL");
	in_expect_error("deployments",
			"{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"Cart\",\"namespace\":\"shop\"},"
			"\"spec\":{\"template\":{\"spec\":{\"containers\":[]}}}}",
			"metadata.name", "DNS-1123 subdomain");
	in_expect_error("deployments",
			"{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"cart\",\"namespace\":\"shop\"},"
			"\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\\u001b[31m\"}]}}}}",
			"spec.template.spec.containers[0].name", "\\x1b");
	in_expect_error("services", "{\"kind\":\"Service\",\"metadata\":{\"name\":\"1st\",\"namespace\":\"shop\"}}",
			"metadata.name", "DNS-1035");
	in_expect_error("namespaces", "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop.eu\"}}", "metadata.name",
			"DNS-1123 label");
	in_expect_error("persistentvolumeclaims",
			"{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"d\",\"namespace\":\"shop\"},"
			"\"spec\":{\"storageClassName\":\"gp3\\u001b[2J\"}}",
			"spec.storageClassName", "\\x1b");
	in_expect_error("persistentvolumes",
			"{\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"pv\"},"
			"\"spec\":{\"persistentVolumeReclaimPolicy\":\"Retain\\u001b[2J\"}}",
			"spec.persistentVolumeReclaimPolicy", "Retain, Delete, Recycle");
	in_expect_error("nodes",
			"{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"labels\":{\"node.kubernetes.io/instance-type\":"
			"\"m5\\u001b]0;x\\u0007\"}}}",
			"metadata.labels.node.kubernetes.io/instance-type", "label value");
	in_expect_error("pods",
			"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\"},\"spec\":{\"nodeName\":"
			"\"n\\u0000x\",\"containers\":[]}}",
			"nodeName", "NUL");
	in_expect_error("pods",
			"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\"},\"spec\":{\"nodeName\":"
			"\"Node_9\",\"containers\":[]}}",
			"spec.nodeName", "DNS-1123 subdomain");
	/* a claim with no class ("") is static provisioning: valid */
	in_expect_ok("persistentvolumeclaims",
		     "{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"d\",\"namespace\":\"shop\"},"
		     "\"spec\":{\"storageClassName\":\"\"}}");
	/* a Deployment may be named like a host: valid (report.html must not link it) */
	in_expect_ok("deployments",
		     "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"www.evil.example\",\"namespace\":\"shop\"},"
		     "\"spec\":{\"template\":{\"spec\":{\"containers\":[]}}}}");
}

Test(input_names, usage_names, .init = in_init, .fini = in_fini)
{
	fx_usage(&in_fx, "{\"namespace\":\"shop\",\"pod\":\"p\",\"container\":\"c\\u0000x\",\"samples\":1}");
	kp_error err = {0};
	cr_assert_eq(in_load(&err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "container") && strstr(err.msg, "NUL"), "%s", err.msg);
	fx_usage(&in_fx, "{\"namespace\":\"shop\",\"pod\":\"p\",\"container\":\"C_1\",\"samples\":1}");
	cr_assert_eq(in_load(&err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "DNS-1123 label"), "%s", err.msg);
}

/* ---- the files themselves ---- */

Test(input_files, fifo_directory_empty_null_bom, .init = in_init, .fini = in_fini)
{
	kp_error err = {0};
	char *usage = kp_path_join(in_fx.dir, "usage.json");
	cr_assert_eq(unlink(usage), 0);
	cr_assert_eq(mkfifo(usage, 0600), 0);
	alarm(10); /* a blocking open would hang the test: fail it instead */
	cr_assert_eq(in_load(&err), KP_ERR_INPUT);
	alarm(0);
	cr_assert(strstr(err.msg, "usage.json: not a regular file (a FIFO)"), "%s", err.msg);
	char *text;
	cr_assert_eq(kp_read_file(usage, &text, NULL, &err), KP_ERR_INPUT);
	cr_assert_eq(unlink(usage), 0);
	cr_assert_eq(mkdir(usage, 0700), 0);
	cr_assert_eq(in_load(&err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "not a regular file (a directory)"), "%s", err.msg);
	cr_assert_eq(rmdir(usage), 0);
	fx_usage(&in_fx, "");

	fx_write(&in_fx, "objects/pods.json", "");
	cr_assert_eq(in_load(&err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "pods.json: empty file, expected a JSON List (the output of `kubectl get pods -A -o json`)"),
		  "%s", err.msg);
	fx_write(&in_fx, "objects/pods.json", " \n");
	cr_assert_eq(in_load(&err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "empty file"), "%s", err.msg);
	fx_write(&in_fx, "objects/pods.json", "null");
	cr_assert_eq(in_load(&err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "pods.json: expected a JSON List") && strstr(err.msg, "found null"), "%s", err.msg);
	cr_assert_null(strstr(err.msg, "continue"));
	fx_write(&in_fx, "objects/pods.json", "[]");
	cr_assert_eq(in_load(&err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "found a list"), "%s", err.msg);
	fx_write(&in_fx, "objects/pods.json", "42");
	cr_assert_eq(in_load(&err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "found a number"), "%s", err.msg);

	/* a byte order mark (kubectl under PowerShell) is skipped */
	fx_write(&in_fx, "objects/pods.json",
		 "\xEF\xBB\xBF{\"kind\":\"List\",\"items\":[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":"
		 "\"shop\"},\"spec\":{\"containers\":[]}}]}");
	kp_cluster c;
	kp_cluster_init(&c);
	cr_assert_eq(kp_snapshot_load(&c, in_fx.dir, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(c.pods.len, 1);
	kp_cluster_release(&c);

	/* the same for a whole-document read (findings.json, cluster.json) */
	char *doc = kp_path_join(in_fx.dir, "doc.json");
	json_object *o = NULL;
	cr_assert_eq(kp_write_file_atomic(doc, "\xEF\xBB\xBF{\"a\":1}", 10, NULL), KP_OK);
	cr_assert_eq(kp_json_read_file(doc, &o, &err), KP_OK, "%s", err.msg);
	json_object_put(o);
	cr_assert_eq(kp_write_file_atomic(doc, "null", 4, NULL), KP_OK);
	cr_assert_eq(kp_json_read_file(doc, &o, &err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "found null"), "%s", err.msg);
	cr_assert_eq(kp_write_file_atomic(doc, "", 0, NULL), KP_OK);
	cr_assert_eq(kp_json_read_file(doc, &o, &err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "empty file"), "%s", err.msg);
	free(doc);
	free(usage);
}

/* ---- text leaving the program ---- */

Test(output_text, control_characters_made_visible)
{
	char *v = kp_visible("a\x1b[31mb\x7f\xc2\x9b" "c\xff\n");
	cr_assert_str_eq(v, "a\\x1b[31mb\\x7f\\u009bc\\xff\\x0a");
	free(v);
	v = kp_visible("caf\xc3\xa9 \xe2\x82\xac");
	cr_assert_str_eq(v, "caf\xc3\xa9 \xe2\x82\xac", "UTF-8 text stays as it is");
	free(v);
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_put_visible(&b, "l1\n\tl2\r", 7, true);
	cr_assert_str_eq(kp_buf_cstr(&b), "l1\n\tl2\\x0d");
	kp_buf_release(&b);
	cr_assert(kp_text_is_plain("plain", 5, false));
	cr_assert_not(kp_text_is_plain("a\nb", 3, false));
	cr_assert(kp_text_is_plain("a\nb", 3, true));
	kp_error err = {0};
	kp_fail(&err, KP_ERR_INPUT, "name \"%s\"", "x\x1b]0;pwned\x07");
	cr_assert_str_eq(err.msg, "name \"x\\x1b]0;pwned\\x07\"");
}

/* ---- references to objects that are not there ---- */

#define NODE(name)                                                                                                    \
	"{\"kind\":\"Node\",\"metadata\":{\"name\":\"" name "\"},\"status\":{\"allocatable\":{\"cpu\":\"4\","             \
	"\"memory\":\"16Gi\"},\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}"
#define POD(name, node, owner)                                                                                        \
	"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"shop\"" owner "},\"spec\":{\"nodeName\":" \
	"\"" node "\",\"containers\":[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":"     \
	"\"128Mi\"}}}]},\"status\":{\"phase\":\"Running\"}}"

static kp_fixture ref_fx;
static void ref_init(void) { fx_init(&ref_fx, "refs", "manual"); }
static void ref_fini(void) { fx_fini(&ref_fx); }

static bool has_inconsistency(const kp_cluster *c, const char *needle)
{
	for (size_t i = 0; i < c->inconsistencies.len; i++)
		if (strstr(c->inconsistencies.items[i], needle))
			return true;
	return false;
}

Test(inconsistency, pods_on_a_missing_node_never_drain_a_node, .init = ref_init, .fini = ref_fini)
{
	fx_list(&ref_fx, "nodes", NODE("node-a") "," NODE("node-b") "," NODE("node-c"));
	/* control: nearly empty nodes, every pod placed: one is drainable */
	fx_list(&ref_fx, "pods", POD("p1", "node-a", "") "," POD("p2", "node-b", ""));
	fx_run(&ref_fx, "2026-11-25T06:00:00Z", kp_rule_underutilized_node);
	cr_assert_gt(ref_fx.out.items.len, 0, "the control case must propose a drain, or the test proves nothing");
	cr_assert_eq(ref_fx.cluster.inconsistencies_total, 0);
	fx_unload(&ref_fx);

	/* the same cluster with the pods' node missing: no drain at all */
	fx_list(&ref_fx, "pods", POD("p1", "node-9", "") "," POD("p2", "node-9", ""));
	fx_run(&ref_fx, "2026-11-25T06:00:00Z", kp_rule_underutilized_node);
	cr_assert_eq(ref_fx.out.items.len, 0, "a node was proposed for a drain on an absence");
	cr_assert_eq(ref_fx.cluster.inconsistencies_total, 2);
	cr_assert(has_inconsistency(&ref_fx.cluster,
				    "pod shop/p1: spec.nodeName \"node-9\" is not among the collected nodes"));
	const kp_skip *sk = fx_skip(&ref_fx, "node-a");
	cr_assert_not_null(sk);
	cr_assert(strstr(sk->reason, "not among the collected nodes"), "%s", sk->reason);
}

Test(inconsistency, missing_owner_claim_volume_class_and_target, .init = ref_init, .fini = ref_fini)
{
	fx_list(&ref_fx, "nodes", NODE("node-a"));
	fx_list(&ref_fx, "pods",
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\",\"namespace\":\"shop\",\"ownerReferences\":[{\"kind\":"
		"\"ReplicaSet\",\"name\":\"gone\",\"controller\":true}]},\"spec\":{\"nodeName\":\"node-a\","
		"\"containers\":[{\"name\":\"app\"}],\"volumes\":[{\"name\":\"v\",\"persistentVolumeClaim\":"
		"{\"claimName\":\"nope\"}}]}}");
	fx_list(&ref_fx, "persistentvolumeclaims",
		"{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"d\",\"namespace\":\"shop\"},"
		"\"spec\":{\"volumeName\":\"pv-x\",\"storageClassName\":\"gp9\"},\"status\":{\"phase\":\"Bound\"}}");
	fx_list(&ref_fx, "persistentvolumes",
		"{\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"pv-y\"},\"spec\":{\"storageClassName\":\"gp9\"}}");
	fx_list(&ref_fx, "horizontalpodautoscalers", HPA(",\"maxReplicas\":3"));
	fx_run(&ref_fx, "2026-11-25T06:00:00Z", NULL);
	const kp_cluster *c = &ref_fx.cluster;
	cr_assert(has_inconsistency(c, "pod shop/p1: its owner ReplicaSet \"gone\" is not among the collected replicasets"));
	cr_assert(has_inconsistency(c, "pod shop/p1: volume claim \"nope\" is not among the collected"));
	cr_assert(has_inconsistency(c, "persistentvolumeclaim shop/d: spec.volumeName \"pv-x\""));
	cr_assert(has_inconsistency(c, "persistentvolumeclaim shop/d: spec.storageClassName \"gp9\""));
	cr_assert(has_inconsistency(c, "persistentvolume pv-y: spec.storageClassName \"gp9\""));
	cr_assert(has_inconsistency(c, "HorizontalPodAutoscaler shop/web: its target Deployment \"web\""));
	cr_assert_eq(c->inconsistencies_total, 6);
	kp_findings empty;
	kp_findings_init(&empty);
	json_object *doc = kp_analysis_doc(c, &empty, 0);
	cr_assert_eq(json_object_get_int64(kp_json_get(doc, "inconsistencies_total")), 6);
	cr_assert_eq(json_object_array_length(kp_json_get(doc, "inconsistencies")), 6);
	json_object_put(doc);
	kp_findings_release(&empty);
}

Test(inconsistency, not_collected_is_missing_not_inconsistent, .init = ref_init, .fini = ref_fini)
{
	fx_remove(&ref_fx, "objects/nodes.json");
	fx_remove(&ref_fx, "objects/replicasets.json");
	fx_list(&ref_fx, "pods",
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\",\"namespace\":\"shop\",\"ownerReferences\":[{\"kind\":"
		"\"ReplicaSet\",\"name\":\"gone\",\"controller\":true}]},\"spec\":{\"nodeName\":\"node-a\","
		"\"containers\":[]}}");
	fx_run(&ref_fx, "2026-11-25T06:00:00Z", NULL);
	cr_assert_eq(ref_fx.cluster.inconsistencies_total, 0);
	cr_assert_null(kp_json_get(NULL, "x"));
}

Test(inconsistency, list_is_capped_and_counted, .init = ref_init, .fini = ref_fini)
{
	kp_buf pods;
	kp_buf_init(&pods);
	for (int i = 0; i < 250; i++)
		kp_buf_printf(&pods,
			      "%s{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p%d\",\"namespace\":\"shop\"},\"spec\":"
			      "{\"nodeName\":\"node-9\",\"containers\":[]}}",
			      i ? "," : "", i);
	fx_list(&ref_fx, "pods", kp_buf_cstr(&pods));
	kp_buf_release(&pods);
	fx_run(&ref_fx, "2026-11-25T06:00:00Z", NULL);
	cr_assert_eq(ref_fx.cluster.inconsistencies.len, KP_MAX_INCONSISTENCIES);
	cr_assert_eq(ref_fx.cluster.inconsistencies_total, 250);
}

Test(inconsistency, unattributed_usage_is_neither_sized_nor_idle, .init = ref_init, .fini = ref_fini)
{
	fx_list(&ref_fx, "deployments",
		"{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\",\"creationTimestamp\":"
		"\"2026-01-01T00:00:00Z\"},\"spec\":{\"replicas\":2,\"template\":{\"spec\":{\"containers\":[{\"name\":"
		"\"app\",\"resources\":{\"requests\":{\"cpu\":\"2\",\"memory\":\"4Gi\"}}}]}}}}");
	fx_list(&ref_fx, "replicasets",
		"{\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\",\"ownerReferences\":"
		"[{\"kind\":\"Deployment\",\"name\":\"web\",\"controller\":true}]},\"spec\":{\"template\":{\"spec\":"
		"{\"containers\":[]}}}}");
	/* one pod of web's, one whose ReplicaSet is not in the snapshot */
	fx_list(&ref_fx, "pods",
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1-a\",\"namespace\":\"shop\",\"ownerReferences\":[{\"kind\":"
		"\"ReplicaSet\",\"name\":\"web-1\",\"controller\":true}]},\"spec\":{\"containers\":[{\"name\":\"app\"}]}},"
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"x-b\",\"namespace\":\"shop\",\"ownerReferences\":[{\"kind\":"
		"\"ReplicaSet\",\"name\":\"zz\",\"controller\":true}]},\"spec\":{\"containers\":[{\"name\":\"app\"}]}}");
	fx_usage(&ref_fx,
		 "{\"namespace\":\"shop\",\"pod\":\"web-1-a\",\"container\":\"app\",\"samples\":20000,\"first_seen\":"
		 "\"2026-11-11T06:00:00Z\",\"last_seen\":\"2026-11-25T06:00:00Z\",\"cpu_millicores\":{\"p50\":1,\"p95\":1,"
		 "\"p99\":1,\"max\":2},\"memory_bytes\":{\"p50\":1000000,\"max\":1000000},\"oom_kills\":0,\"restarts\":0}");
	fx_run(&ref_fx, "2026-11-25T06:00:00Z", NULL);
	for (size_t i = 0; i < ref_fx.out.items.len; i++)
		cr_assert(strcmp(ref_fx.out.items.items[i].name, "web") != 0, "web judged on partial usage (%s)",
			  kp_category_name(ref_fx.out.items.items[i].category));
	const kp_skip *sk = fx_skip(&ref_fx, "web");
	cr_assert_not_null(sk);
	cr_assert(strstr(sk->reason, "owner that is not in the snapshot"), "%s", sk->reason);
}

/* A cut to at most max bytes never splits a UTF-8 character. */
Test(inputs, utf8_cut_keeps_whole_characters)
{
	const char *s = "ab\xc3\xa9" "cd\xe2\x82\xac"; /* "abécd€": 2 + 2 + 2 + 3 bytes */
	size_t len = strlen(s);
	cr_expect_eq(kp_utf8_cut(s, len, 100), len);
	cr_expect_eq(kp_utf8_cut(s, len, len), len);
	cr_expect_eq(kp_utf8_cut(s, len, 3), 2);  /* inside é: before it */
	cr_expect_eq(kp_utf8_cut(s, len, 4), 4);  /* after é */
	cr_expect_eq(kp_utf8_cut(s, len, 7), 6);  /* inside €: before it */
	cr_expect_eq(kp_utf8_cut(s, len, 8), 6);
	cr_expect_eq(kp_utf8_cut(s, len, 0), 0);
}
