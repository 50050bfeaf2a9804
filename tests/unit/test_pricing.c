/*
 * test_pricing.c - per-finding prices: the OpenCost split of node prices,
 * spot, the custom pricing file (parsing, errors, layering), StorageClass
 * prices, a workload spread over two node types, and the fallbacks to the
 * global prices. Clusters are built in memory (strings are literals; the
 * cluster owns only its arrays).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/config.h"
#include "pipeline/findings_json.h"
#include "pipeline/prices.h"
#include "stages/analyze/analyze.h"
#include "stages/recommend/recommend.h"

#define GIB_B (1024LL * 1024LL * 1024LL)
#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static char *pt_write(const char *name, const char *text)
{
	char *path = kp_xasprintf("/tmp/kp_test_pricing_%d_%s", (int)getpid(), name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static kp_status pt_yaml(kp_config *c, const char *text, kp_error *err)
{
	char *path = pt_write("cfg.yaml", text);
	kp_status st = kp_config_load_file(c, path, err);
	unlink(path);
	free(path);
	return st;
}

static const char OPENCOST_DEFAULT[] =
	"{\"provider\":\"custom\",\"description\":\"Default prices\",\"CPU\":\"0.031611\",\"spotCPU\":\"0.006655\","
	"\"RAM\":\"0.004237\",\"spotRAM\":\"0.000892\",\"GPU\":\"0.95\",\"spotGPU\":\"0.308\","
	"\"storage\":\"0.00005479452\",\"zoneNetworkEgress\":\"0.01\",\"regionNetworkEgress\":\"0.01\","
	"\"internetNetworkEgress\":\"0.12\"}";

/* ---- split ---- */

/* Sets f's pricing inputs from their JSON form, as analysis.json has them. */
static void pt_set_pricing(kp_finding *f, const char *json)
{
	kp_pricing_inputs_release(&f->pricing);
	json_object *o = json_tokener_parse(json);
	kp_error err = {0};
	cr_assert_eq(kp_pricing_inputs_from_json(o, "test", &f->pricing, &err), KP_OK, "%s", err.msg);
	json_object_put(o);
}

/* f's pricing inputs serialise to want. */
static void pt_expect_pricing(const kp_finding *f, const char *want)
{
	json_object *o = kp_pricing_inputs_to_json(&f->pricing);
	cr_expect_str_eq(o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "(none)", want);
	json_object_put(o);
}

Test(pricing_split, keeps_ratio_and_sums_to_hourly)
{
	double cpu, ram;
	cr_assert(kp_pricing_split(0.192, 4, 16, 0.031611, 0.004237, &cpu, &ram));
	cr_expect(NEAR(cpu * 4 + ram * 16, 0.192), "%g", cpu * 4 + ram * 16);
	cr_expect(NEAR(cpu / ram, 0.031611 / 0.004237));
	/* r = 7.4607..., ram = 0.192 / (4r + 16) */
	double r = 0.031611 / 0.004237;
	cr_expect(NEAR(ram, 0.192 / (4 * r + 16)));
}

Test(pricing_split, edges)
{
	double cpu, ram;
	cr_expect_not(kp_pricing_split(0.192, 0, 0, 0.03, 0.004, &cpu, &ram), "no size to split over");
	cr_assert(kp_pricing_split(0.2, 4, 0, 0.03, 0.004, &cpu, &ram));
	cr_expect(NEAR(cpu, 0.05) && ram == 0, "no memory: all on CPU");
	cr_assert(kp_pricing_split(0.2, 4, 16, 0.03, 0, &cpu, &ram));
	cr_expect(NEAR(cpu, 0.05) && ram == 0, "free RAM: all on CPU");
	cr_assert(kp_pricing_split(0.2, 0, 16, 0.03, 0.004, &cpu, &ram));
	cr_expect(NEAR(ram * 16, 0.2), "no cores: all on memory");
}

/* ---- custom pricing file ---- */

Test(pricing_custom, reads_opencost_default_json)
{
	char *path = pt_write("default.json", OPENCOST_DEFAULT);
	kp_custom_prices cp;
	kp_error err = {0};
	cr_assert_eq(kp_pricing_read_custom(path, &cp, &err), KP_OK, "%s", err.msg);
	cr_expect(NEAR(cp.cpu_core_hour, 0.031611));
	cr_expect(NEAR(cp.memory_gib_hour, 0.004237));
	cr_expect(NEAR(cp.storage_gib_hour, 0.00005479452));
	cr_expect(NEAR(cp.spot_cpu_core_hour, 0.006655));
	cr_expect(NEAR(cp.spot_memory_gib_hour, 0.000892));
	unlink(path);
	free(path);
}

Test(pricing_custom, yaml_form_numbers_and_missing_keys)
{
	char *path = pt_write("custom.yaml", "provider: custom\nCPU: \"0.05\"\nRAM: 0.006\nGPU: \"whatever\"\n");
	kp_custom_prices cp;
	kp_error err = {0};
	cr_assert_eq(kp_pricing_read_custom(path, &cp, &err), KP_OK, "%s", err.msg);
	cr_expect(NEAR(cp.cpu_core_hour, 0.05));
	cr_expect(NEAR(cp.memory_gib_hour, 0.006));
	cr_expect(cp.storage_gib_hour < 0 && cp.spot_cpu_core_hour < 0, "absent keys stay unknown");
	unlink(path);
	free(path);
}

Test(pricing_custom, bad_numbers_name_file_and_key)
{
	const char *bad[] = {"{\"CPU\": \"cheap\"}", "{\"RAM\": \"-1\"}", "{\"spotCPU\": true}", "{\"storage\": \"0x10\"}",
			     "CPU: [1]\n", "{\"CPU\": "};
	const char *key[] = {"CPU", "RAM", "spotCPU", "storage", "CPU", "malformed"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = pt_write("bad.json", bad[i]);
		kp_custom_prices cp;
		kp_error err = {0};
		cr_expect_eq(kp_pricing_read_custom(path, &cp, &err), KP_ERR_USAGE, "%s", bad[i]);
		cr_expect(strstr(err.msg, path) != NULL, "%s", err.msg);
		cr_expect(strstr(err.msg, key[i]) != NULL, "%s", err.msg);
		unlink(path);
		free(path);
	}
	kp_custom_prices cp;
	kp_error err = {0};
	cr_expect_eq(kp_pricing_read_custom("/nonexistent/kp.json", &cp, &err), KP_ERR_USAGE);
}

Test(pricing_custom, config_layering_and_source)
{
	char *path = pt_write("layer.json", OPENCOST_DEFAULT);
	/* CPU 0.05 in the file; the YAML sets memory explicitly, before or
	 * after the custom file key: the explicit key wins either way */
	FILE *f = fopen(path, "w");
	fputs("{\"CPU\": \"0.05\", \"RAM\": \"0.009\", \"storage\": \"0.0001\", \"spotCPU\": \"0.01\", "
	      "\"spotRAM\": \"0.001\"}",
	      f);
	fclose(f);
	char *yaml = kp_xasprintf("prices:\n  memory_gib_hour: 0.007\n  custom_pricing_file: %s\n  hours_per_month: 720\n", path);
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cr_assert_eq(pt_yaml(&c, yaml, &err), KP_OK, "%s", err.msg);
	cr_expect(NEAR(c.prices.cpu_core_hour, 0.05));
	cr_expect(NEAR(c.prices.memory_gib_hour, 0.007), "explicit YAML key wins over the custom file");
	cr_expect(NEAR(c.prices.storage_gib_month, 0.0001 * 720), "per GiB-hour x hours_per_month, even set afterwards");
	cr_expect(NEAR(c.prices.spot_cpu_core_hour, 0.01) && NEAR(c.prices.spot_memory_gib_hour, 0.001));
	char *want = kp_xasprintf("opencost-custom-pricing:%s", path);
	cr_expect_str_eq(c.prices.source, want);
	cr_expect_eq(kp_config_validate(&c, &err), KP_OK, "%s", err.msg);
	char *show = kp_config_show(&c);
	cr_expect(strstr(show, "(file /tmp/kp_test_pricing_") != NULL, "%s", show);
	free(show);
	/* --set still overrides a single price */
	cr_assert_eq(kp_config_set(&c, "prices.cpu_core_hour=0.04", KP_SRC_FLAG, &err), KP_OK, "%s", err.msg);
	cr_expect(NEAR(c.prices.cpu_core_hour, 0.04));
	cr_expect_str_eq(c.prices.source, want, "the custom file stays the named source");
	/* unsetting the file returns the prices it supplied to the defaults */
	cr_assert_eq(kp_config_set(&c, "prices.custom_pricing_file=", KP_SRC_FLAG, &err), KP_OK, "%s", err.msg);
	cr_expect(NEAR(c.prices.storage_gib_month, 0.04), "%g", c.prices.storage_gib_month);
	cr_expect(NEAR(c.prices.cpu_core_hour, 0.04), "the --set value is kept");
	cr_expect(c.prices.spot_cpu_core_hour < 0);
	kp_config_release(&c);

	/* the environment names the file: the YAML's explicit key still wins */
	kp_config_init(&c);
	cr_assert_eq(pt_yaml(&c, "prices:\n  cpu_core_hour: 0.02\n", &err), KP_OK, "%s", err.msg);
	char *assign = kp_xasprintf("prices.custom_pricing_file=%s", path);
	cr_assert_eq(kp_config_set(&c, assign, KP_SRC_ENV, &err), KP_OK, "%s", err.msg);
	cr_expect(NEAR(c.prices.cpu_core_hour, 0.02));
	cr_expect(NEAR(c.prices.memory_gib_hour, 0.009));
	kp_config_release(&c);

	/* a bad file is a configuration error naming the key, the file and its key */
	f = fopen(path, "w");
	fputs("{\"CPU\": \"abc\"}", f);
	fclose(f);
	kp_config_init(&c);
	cr_expect_eq(pt_yaml(&c, yaml, &err), KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "prices.custom_pricing_file") && strstr(err.msg, path) && strstr(err.msg, "CPU"), "%s",
		  err.msg);
	kp_config_release(&c);
	free(assign);
	free(want);
	free(yaml);
	unlink(path);
	free(path);
}

Test(pricing_config, node_types_and_storage_classes_yaml)
{
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	cr_assert_eq(pt_yaml(&c,
			     "prices:\n  node_types:\n    m5.xlarge: {hourly: 0.192, spot_hourly: 0.0722}\n"
			     "    m5.2xlarge: 0.384\n  storage_classes:\n    gp3: 0.08\n    standard: 0.04\n",
			     &err),
		     KP_OK, "%s", err.msg);
	const kp_node_type_price *p = kp_pricing_node_type(&c, "m5.xlarge");
	cr_assert_not_null(p);
	cr_expect(NEAR(p->hourly, 0.192) && NEAR(p->spot_hourly, 0.0722));
	p = kp_pricing_node_type(&c, "m5.2xlarge");
	cr_assert_not_null(p);
	cr_expect(NEAR(p->hourly, 0.384) && p->spot_hourly < 0);
	cr_expect_null(kp_pricing_node_type(&c, "c5.large"));
	cr_expect(NEAR(kp_pricing_storage_class(&c, "gp3")->gib_month, 0.08));
	cr_expect_str_eq(c.prices.source, "default", "tables alone do not change the global prices");
	char *show = kp_config_show(&c);
	cr_expect(strstr(show, "\"m5.xlarge\":{\"hourly\":0.192,\"spot_hourly\":0.0722}") != NULL, "%s", show);
	free(show);
	kp_config_release(&c);

	const char *bad[] = {"prices:\n  node_types:\n    m5.xlarge: {hourly: cheap}\n",
			     "prices:\n  node_types:\n    m5.xlarge: {spot_hourly: 0.1}\n",
			     "prices:\n  node_types:\n    m5.xlarge: {hourly: 1, daily: 2}\n",
			     "prices:\n  storage_classes:\n    gp3: -1\n",
			     "prices:\n  storage_classes:\n    gp3: 1\n    gp3: 2\n",
			     "prices:\n  node_types: [a]\n"};
	const char *want[] = {"prices.node_types.m5.xlarge.hourly", "hourly", "daily", "prices.storage_classes.gp3",
			      "set twice", "prices.node_types"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kp_config_init(&c);
		cr_expect_eq(pt_yaml(&c, bad[i], &err), KP_ERR_USAGE, "%s", bad[i]);
		cr_expect(strstr(err.msg, want[i]) != NULL, "%s", err.msg);
		kp_config_release(&c);
	}
}

/* ---- rates ---- */

static void pt_config(kp_config *c)
{
	kp_config_init(c);
	kp_error err = {0};
	cr_assert_eq(pt_yaml(c,
			     "prices:\n  node_types:\n    m5.xlarge: {hourly: 0.192, spot_hourly: 0.0722}\n"
			     "    m5.2xlarge: {hourly: 0.384}\n  storage_classes:\n    gp3: 0.08\n",
			     &err),
		     KP_OK, "%s", err.msg);
}

static kp_finding *pt_finding(kp_findings *fs, kp_category cat, const char *kind, const char *ns, const char *name)
{
	kp_finding *f = kp_findings_add(fs, cat, "apps/v1", kind, ns, name, NULL);
	return f;
}

Test(pricing_rates, storage_class_price_and_fallback)
{
	kp_config c;
	pt_config(&c);
	kp_findings fs;
	kp_findings_init(&fs);
	kp_finding *f = pt_finding(&fs, KP_CAT_ORPHANED_PVC, "PersistentVolumeClaim", "shop", "data");
	f->current.storage_b = 100 * GIB_B;
	pt_set_pricing(f, "{\"storage_class\":\"gp3\"}");
	kp_recommend_finding(&c, f);
	cr_expect(NEAR(f->monthly_cost, 8.0), "%g", f->monthly_cost);
	json_object *j = kp_finding_to_json(f, true);
	cr_expect(NEAR(json_object_get_double(kp_json_get(j, "price.storage_gib_month")), 0.08));
	cr_expect_str_eq(kp_json_str(j, "price.basis"), "StorageClass gp3 $0.08/GiB-month");
	cr_expect_str_eq(kp_json_str(j, "pricing.storage_class"), "gp3");
	cr_expect_null(kp_json_get(j, "pricing.price"), "price is not repeated inside pricing");
	const char *ev = kp_json_str(json_object_array_get_idx(kp_json_get(j, "evidence"), 0), "summary");
	cr_expect_str_eq(ev, "Priced at $0.08/GiB-month (StorageClass gp3)");
	json_object_put(j);
	/* idempotent: a second pass does not add a second evidence line */
	kp_recommend_finding(&c, f);
	cr_expect_eq(f->nevidence, 1);

	/* a class without a price: the global price, no "price" */
	kp_finding *g = pt_finding(&fs, KP_CAT_ORPHANED_PVC, "PersistentVolumeClaim", "shop", "old");
	g->current.storage_b = 100 * GIB_B;
	pt_set_pricing(g, "{\"storage_class\":\"standard\"}");
	kp_recommend_finding(&c, g);
	cr_expect(NEAR(g->monthly_cost, 4.0), "%g", g->monthly_cost);
	j = kp_finding_to_json(g, true);
	cr_expect_null(kp_json_get(j, "price"));
	cr_expect_eq(g->nevidence, 0);
	json_object_put(j);
	kp_findings_release(&fs);
	kp_config_release(&c);
}

Test(pricing_rates, node_finding_costs_its_hourly_price)
{
	kp_config c;
	pt_config(&c);
	kp_findings fs;
	kp_findings_init(&fs);
	kp_finding *f = pt_finding(&fs, KP_CAT_UNDERUTILIZED_NODE, "Node", NULL, "ip-10-0-1-5");
	/* a node finding holds the node's sizes, not requests ("current" empty) */
	f->has_node = true;
	f->node = (kp_node_sizes){4000, 3920, 640, 15 * GIB_B, 14 * GIB_B, GIB_B};
	pt_set_pricing(f, "{\"node\":\"ip-10-0-1-5\",\"instance_type\":\"m5.xlarge\",\"spot\":false,"
				"\"cpu_millicores\":4000,\"memory_bytes\":16777216000}");
	kp_recommend_finding(&c, f);
	cr_expect(NEAR(f->monthly_cost, 0.192 * 730), "%g", f->monthly_cost);
	/* spot node: spot_hourly */
	pt_set_pricing(f, "{\"node\":\"n\",\"instance_type\":\"m5.xlarge\",\"spot\":true}");
	kp_recommend_finding(&c, f);
	cr_expect(NEAR(f->monthly_cost, 0.0722 * 730), "%g", f->monthly_cost);
	cr_expect(strstr(f->evidence[0].summary, "spot $0.0722/h") != NULL, "%s", f->evidence[0].summary);
	/* spot, no spot_hourly, no custom spot prices: on-demand */
	pt_set_pricing(f, "{\"node\":\"n\",\"instance_type\":\"m5.2xlarge\",\"spot\":true}");
	kp_recommend_finding(&c, f);
	cr_expect(NEAR(f->monthly_cost, 0.384 * 730), "%g", f->monthly_cost);
	/* ... with custom spotCPU/spotRAM: those */
	c.prices.spot_cpu_core_hour = 0.006655;
	c.prices.spot_memory_gib_hour = 0.000892;
	kp_recommend_finding(&c, f);
	cr_expect(NEAR(f->monthly_cost, (4 * 0.006655 + 15 * 0.000892) * 730), "%g", f->monthly_cost);
	/* unpriced type: global prices, and the old price annotation is gone */
	pt_set_pricing(f, "{\"node\":\"n\",\"instance_type\":\"c5.large\",\"spot\":false}");
	kp_recommend_finding(&c, f);
	cr_expect(NEAR(f->monthly_cost, (4 * c.prices.cpu_core_hour + 15 * c.prices.memory_gib_hour) * 730));
	cr_expect(!f->price.cpu_specific && !f->price.storage_specific, "no specific price left");
	cr_expect(NEAR(f->monthly_savings, f->monthly_cost), "removing the node saves all of it");
	/* a status without capacity: priced at allocatable */
	f->node.cpu_capacity_m = f->node.mem_capacity_b = KP_UNSET;
	kp_recommend_finding(&c, f);
	cr_expect(NEAR(f->monthly_cost, (3.92 * c.prices.cpu_core_hour + 14 * c.prices.memory_gib_hour) * 730));

	/* analysis.json round trip: "node" comes back, "current" stays empty;
	 * a bad "node" value is an input error naming the field */
	json_object *j = kp_finding_to_json(f, false), *doc = json_object_new_object(), *arr = json_object_new_array();
	cr_expect_eq(json_object_object_length(kp_json_get(j, "current")), 0);
	cr_expect_eq(json_object_get_int64(kp_json_get(j, "node.cpu_requested_millicores")), 640);
	cr_expect_null(kp_json_get(j, "node.cpu_capacity_millicores"), "no capacity: absent, not -1");
	json_object_array_add(arr, j);
	json_object_object_add(doc, "findings", arr);
	kp_findings back;
	kp_findings_init(&back);
	kp_error err = {0};
	cr_assert_eq(kp_findings_from_json(doc, "analysis.json", false, &back, &err), KP_OK, "%s", err.msg);
	cr_expect(back.items.items[0].has_node);
	cr_expect_eq(back.items.items[0].node.cpu_allocatable_m, 3920);
	cr_expect_eq(back.items.items[0].node.cpu_capacity_m, KP_UNSET);
	cr_expect_eq(back.items.items[0].node.mem_requested_b, GIB_B);
	kp_findings_release(&back);
	kp_findings_init(&back);
	json_object_object_add(kp_json_get(j, "node"), "cpu_requested_millicores", json_object_new_string("640m"));
	cr_expect_eq(kp_findings_from_json(doc, "analysis.json", false, &back, &err), KP_ERR_INPUT);
	cr_expect_str_eq(err.msg, "analysis.json: findings[0].node.cpu_requested_millicores: expected an integer >= 0");
	kp_findings_release(&back);
	json_object_put(doc);
	kp_findings_release(&fs);
	kp_config_release(&c);
}

/* A Deployment with 3 pods on m5.xlarge nodes and 1 on an m5.2xlarge, one
 * pending pod and one on an unlabelled node; its finding is priced at the
 * pod-weighted rates. */
Test(pricing_inputs, workload_over_two_node_types)
{
	kp_cluster cl;
	kp_cluster_init(&cl);
	kp_node n1 = {0}, n2 = {0}, n3 = {0};
	n1.meta.name = "a";
	n1.instance_type = "m5.xlarge";
	n1.cap_cpu_m = 4000;
	n1.cap_mem_b = 16 * GIB_B;
	n2.meta.name = "b";
	n2.instance_type = "m5.2xlarge";
	n2.cap_cpu_m = 8000;
	n2.cap_mem_b = 32 * GIB_B;
	n3.meta.name = "c"; /* no instance type label */
	n3.cap_cpu_m = 8000;
	KP_ARRAY_PUSH(cl.nodes, n2);
	KP_ARRAY_PUSH(cl.nodes, n1);
	KP_ARRAY_PUSH(cl.nodes, n3);
	kp_workload w = {0}, other = {0};
	w.meta.namespace_ = "shop";
	w.meta.name = "api";
	w.wkind = KP_WL_DEPLOYMENT;
	other.meta.namespace_ = "shop";
	other.meta.name = "web";
	other.wkind = KP_WL_DEPLOYMENT;
	KP_ARRAY_PUSH(cl.workloads, w);
	KP_ARRAY_PUSH(cl.workloads, other);
	const char *nodes[] = {"a", "b", "a", NULL, "a", "c", "b"};
	for (size_t i = 0; i < 7; i++) {
		kp_pod p = {0};
		p.meta.namespace_ = "shop";
		p.meta.name = "p";
		p.spec.node_name = nodes[i];
		KP_ARRAY_PUSH(cl.pods, p);
	}
	for (size_t i = 0; i < 6; i++)
		cl.pods.items[i].workload = &cl.workloads.items[0];
	cl.pods.items[6].workload = &cl.workloads.items[1];

	kp_findings fs;
	kp_findings_init(&fs);
	kp_finding *f = pt_finding(&fs, KP_CAT_OVER_PROVISIONED, "Deployment", "shop", "api");
	f->current.replicas = 6;
	f->current.cpu_request_m = 1000;
	f->current.mem_request_b = 2 * GIB_B;
	kp_finding *none = pt_finding(&fs, KP_CAT_IDLE_WORKLOAD, "Deployment", "shop", "gone");
	kp_analyze_pricing_inputs(&cl, &fs);
	f = &fs.items.items[0];
	none = &fs.items.items[1];
	cr_expect_eq(none->pricing.by, KP_PRICED_GLOBAL, "unknown workload: no inputs");
	cr_assert_neq(f->pricing.by, KP_PRICED_GLOBAL);
	json_object *in = kp_pricing_inputs_to_json(&f->pricing);
	json_object *g = kp_json_get(in, "node_types");
	cr_assert_eq(json_object_array_length(g), 2, "%s", f->pricing);
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(g, 0), "instance_type"), "m5.2xlarge");
	cr_expect_eq(json_object_get_int(kp_json_get(json_object_array_get_idx(g, 0), "pods")), 1);
	cr_expect_eq(json_object_get_int(kp_json_get(json_object_array_get_idx(g, 1), "pods")), 3);
	cr_expect_eq(json_object_get_int(kp_json_get(in, "pods_elsewhere")), 1, "the unlabelled node; pending pods not counted");
	json_object_put(in);

	kp_config c;
	pt_config(&c);
	double c1, r1, c2, r2;
	kp_pricing_split(0.192, 4, 16, c.prices.cpu_core_hour, c.prices.memory_gib_hour, &c1, &r1);
	kp_pricing_split(0.384, 8, 32, c.prices.cpu_core_hour, c.prices.memory_gib_hour, &c2, &r2);
	double cpu = (3 * c1 + c2 + c.prices.cpu_core_hour) / 5, mem = (3 * r1 + r2 + c.prices.memory_gib_hour) / 5;
	kp_recommend_finding(&c, f);
	cr_expect(NEAR(f->monthly_cost, 6 * (1 * cpu + 2 * mem) * 730), "%g vs %g", f->monthly_cost,
		  6 * (1 * cpu + 2 * mem) * 730);
	json_object *j = kp_finding_to_json(f, true);
	cr_expect(NEAR(json_object_get_double(kp_json_get(j, "price.cpu_core_hour")), cpu));
	cr_expect(NEAR(json_object_get_double(kp_json_get(j, "price.memory_gib_hour")), mem));
	const char *basis = kp_json_str(j, "price.basis");
	cr_expect(strstr(basis, "node types m5.2xlarge x1 (on-demand $0.384/h), m5.xlarge x3 (on-demand $0.192/h)") == basis,
		  "%s", basis);
	cr_expect(strstr(basis, "1 pod on nodes without a price at the global prices") != NULL, "%s", basis);
	const char *ev = f->evidence[f->nevidence - 1].summary;
	cr_expect(strncmp(ev, "Priced at $", 11) == 0 && strstr(ev, "(nodes: m5.2xlarge x1, m5.xlarge x3, 1 at global prices)"),
		  "%s", ev);

	/* findings.json round trip keeps the inputs and the price */
	kp_findings back;
	kp_findings_init(&back);
	json_object *doc = json_object_new_object(), *arr = json_object_new_array();
	json_object_array_add(arr, j);
	json_object_object_add(doc, "findings", arr);
	kp_error err = {0};
	cr_assert_eq(kp_findings_from_json(doc, "findings.json", true, &back, &err), KP_OK, "%s", err.msg);
	json_object *j2 = kp_finding_to_json(&back.items.items[0], true);
	cr_expect_str_eq(json_object_to_json_string(kp_json_get(j2, "price")), json_object_to_json_string(kp_json_get(j, "price")));
	cr_expect_str_eq(json_object_to_json_string(kp_json_get(j2, "pricing")),
			 json_object_to_json_string(kp_json_get(j, "pricing")));
	json_object_put(j2);
	json_object_put(doc);
	kp_findings_release(&back);

	/* no node type priced: the global prices, no "price" */
	kp_config plain;
	kp_config_init(&plain);
	kp_recommend_finding(&plain, f);
	cr_expect(NEAR(f->monthly_cost, 6 * (plain.prices.cpu_core_hour + 2 * plain.prices.memory_gib_hour) * 730));
	cr_expect(!f->price.cpu_specific && !f->price.storage_specific, "no specific price left");
	kp_config_release(&plain);

	kp_findings_release(&fs);
	kp_config_release(&c);
	kp_cluster_release(&cl);
}

Test(pricing_inputs, storage_classes_of_claims_and_nodes)
{
	kp_cluster cl;
	kp_cluster_init(&cl);
	kp_storageclass sc = {0};
	sc.meta.name = "gp3";
	sc.is_default = true;
	KP_ARRAY_PUSH(cl.storageclasses, sc);
	const char *names[] = {"data-db-0", "data-db-1", "data-db-x", "logs", "orphan"};
	const char *classes[] = {"gp3", "standard", "gp3", NULL, "standard"};
	for (size_t i = 0; i < 5; i++) {
		kp_pvc p = {0};
		p.meta.namespace_ = "shop";
		p.meta.name = names[i];
		p.storage_class = classes[i];
		p.storage_bytes = (int64_t)(i + 1) * GIB_B;
		KP_ARRAY_PUSH(cl.pvcs, p);
	}
	kp_pv pv = {0};
	pv.meta.name = "pv-1";
	pv.storage_class = "gp3";
	KP_ARRAY_PUSH(cl.pvs, pv);
	static const char *tmpl[] = {"data"};
	static const char *claims[] = {"logs", "logs"};
	kp_workload w = {0};
	w.meta.namespace_ = "shop";
	w.meta.name = "db";
	w.wkind = KP_WL_STATEFULSET;
	w.claim_templates = tmpl;
	w.nclaim_templates = 1;
	w.spec.claims = claims;
	w.spec.nclaims = 2;
	KP_ARRAY_PUSH(cl.workloads, w);
	kp_node n = {0};
	n.meta.name = "ip-1";
	n.instance_type = "m5.xlarge";
	n.spot = true;
	n.alloc_cpu_m = 3900;
	n.alloc_mem_b = 15 * GIB_B;
	KP_ARRAY_PUSH(cl.nodes, n);

	kp_findings fs;
	kp_findings_init(&fs);
	kp_findings_add(&fs, KP_CAT_ZERO_REPLICA_WORKLOAD, "apps/v1", "StatefulSet", "shop", "db", NULL);
	kp_findings_add(&fs, KP_CAT_ORPHANED_PVC, "v1", "PersistentVolumeClaim", "shop", "logs", NULL);
	kp_findings_add(&fs, KP_CAT_UNBOUND_PV, "v1", "PersistentVolume", NULL, "pv-1", NULL);
	kp_findings_add(&fs, KP_CAT_UNDERUTILIZED_NODE, "v1", "Node", NULL, "ip-1", NULL);
	kp_findings_add(&fs, KP_CAT_FINISHED_JOB, "batch/v1", "Job", "shop", "j", NULL);
	kp_analyze_pricing_inputs(&cl, &fs);
	kp_finding *it = fs.items.items;
	/* data-db-0 (1 GiB gp3) + data-db-1 (2 GiB standard) + logs once (4 GiB, default gp3); not data-db-x */
	pt_expect_pricing(&it[0], "{\"storage_classes\":{\"gp3\":5368709120,\"standard\":2147483648}}");
	pt_expect_pricing(&it[1], "{\"storage_class\":\"gp3\"}"); /* unset class: the default one */
	pt_expect_pricing(&it[2], "{\"storage_class\":\"gp3\"}");
	pt_expect_pricing(&it[3], "{\"node\":\"ip-1\",\"instance_type\":\"m5.xlarge\",\"spot\":true,"
					"\"cpu_millicores\":3900,\"memory_bytes\":16106127360}");
	cr_expect_eq(it[4].pricing.by, KP_PRICED_GLOBAL);

	/* the zero-replica workload: bytes-weighted, unpriced classes at the global price */
	kp_config c;
	pt_config(&c);
	it[0].current.storage_b = 7 * GIB_B;
	kp_recommend_finding(&c, &it[0]);
	cr_expect(NEAR(it[0].monthly_cost, 5 * 0.08 + 2 * 0.04), "%g", it[0].monthly_cost);
	kp_config_release(&c);
	kp_findings_release(&fs);
	kp_cluster_release(&cl);
}
