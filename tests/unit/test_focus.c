/*
 * test_focus.c - prices from a FOCUS cost export: the streaming CSV reader
 * (quoting, BOM, CRLF, errors with line and column), the id matching for
 * AWS, Azure and GCP, the rate derivation (amortized commitments, partial
 * hours, several nodes of a type, unmatched rows, too little data,
 * currency), and where those rates stand among the other price sources.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/config.h"
#include "pipeline/csvread.h"
#include "pipeline/findings_json.h"
#include "pipeline/focus.h"
#include "pipeline/money.h"
#include "stages/recommend/recommend.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)
#define GIB_B (1024LL * 1024LL * 1024LL)

static char *ft_write(const char *name, const char *text, size_t len)
{
	char *path = kp_xasprintf("/tmp/kp_test_focus_%d_%s", (int)getpid(), name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	fwrite(text, 1, len, f);
	fclose(f);
	return path;
}

/* ---- CSV ---- */

/* Reads text; returns the records as "a|b|c" lines, or "ERR: message". */
static char *ft_csv(const char *text, size_t len)
{
	char *path = ft_write("t.csv", text, len);
	FILE *f = fopen(path, "rb");
	kp_csv *c = kp_csv_new(f, "t.csv");
	kp_buf out;
	kp_buf_init(&out);
	kp_error err = {0};
	int r;
	while ((r = kp_csv_next(c, &err)) == 1) {
		kp_buf_printf(&out, "%zu:", kp_csv_line(c));
		for (size_t i = 0; i < kp_csv_nfields(c); i++)
			kp_buf_printf(&out, "%s%s", i ? "|" : "", kp_csv_field(c, i));
		kp_buf_putc(&out, '\n');
	}
	if (r < 0)
		kp_buf_printf(&out, "ERR: %s", err.msg);
	kp_csv_free(c);
	fclose(f);
	unlink(path);
	free(path);
	return kp_buf_detach(&out);
}

#define CSV_EQ(text, want)                                                                                             \
	do {                                                                                                           \
		char *got_ = ft_csv(text, sizeof(text) - 1);                                                           \
		cr_expect_str_eq(got_, want);                                                                          \
		free(got_);                                                                                            \
	} while (0)

Test(csvread, quoting_crlf_bom)
{
	CSV_EQ("a,b,c\nx,y,z\n", "1:a|b|c\n2:x|y|z\n");
	CSV_EQ("a,b\r\nx,y\r\n", "1:a|b\n2:x|y\n");
	CSV_EQ("\xEF\xBB\xBF"
	       "a,b\r\n1,2",
	       "1:a|b\n2:1|2\n"); /* BOM skipped, no final line end */
	CSV_EQ("a,b\n\"x, \"\"quoted\"\"\",\"line\r\nbreak\"\nz,\"\"\n",
	       "1:a|b\n2:x, \"quoted\"|line\r\nbreak\n4:z|\n");
	CSV_EQ("a,,b\n,\n", "1:a||b\n2:|\n");
	CSV_EQ("", "");
}

/* The reader fills 64 KiB chunks: a CRLF, a doubled quote or a BOM cut
 * across a chunk boundary reads as if it were not. */
Test(csvread, chunk_boundaries)
{
	for (size_t pad = 65530; pad < 65540; pad++) {
		kp_buf b;
		kp_buf_init(&b);
		kp_buf_puts(&b, "a,b\r\n\"");
		for (size_t i = 0; i < pad; i++)
			kp_buf_putc(&b, 'x');
		kp_buf_puts(&b, "\"\"y\",z\r\nlast,1\r\n");
		char *got = ft_csv(b.data, b.len);
		kp_buf want;
		kp_buf_init(&want);
		kp_buf_puts(&want, "1:a|b\n2:");
		for (size_t i = 0; i < pad; i++)
			kp_buf_putc(&want, 'x');
		kp_buf_puts(&want, "\"y|z\n3:last|1\n");
		cr_expect_str_eq(got, want.data, "pad %zu", pad);
		free(got);
		kp_buf_release(&b);
		kp_buf_release(&want);
	}
}

Test(csvread, errors_name_file_and_line)
{
	CSV_EQ("a,b\nx,\"open\nmore\n", "1:a|b\nERR: t.csv:2: field 2: unterminated quoted field (the quote opened on "
					"line 2 is never closed)");
	CSV_EQ("a,b\n\"x\"y,z\n", "1:a|b\nERR: t.csv:2: field 1: text after the closing quote of a quoted field");
	char nul[] = "a,b\nx\0,y\n";
	char *got = ft_csv(nul, sizeof(nul) - 1);
	cr_expect(strstr(got, "ERR: t.csv:2: field 1 holds a NUL byte"), "%s", got);
	free(got);
}

/* ---- ids ---- */

static void id_eq(const char *in, const char *want)
{
	char *got = kp_focus_canonical_id(in, true);
	cr_expect_str_eq(got, want, "%s", in);
	free(got);
}

Test(focus_ids, provider_forms)
{
	id_eq("aws:///eu-west-1a/i-0ABC123", "i-0abc123");
	id_eq("arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc123", "i-0abc123");
	id_eq("i-0abc123", "i-0abc123");
	id_eq("aws://eu-west-1a/vol-0abc", "vol-0abc");
	id_eq("gce://my-proj/europe-west1-b/gke-pool-1-abcd", "projects/my-proj/zones/europe-west1-b/instances/gke-pool-1-abcd");
	id_eq("//compute.googleapis.com/projects/my-proj/zones/europe-west1-b/instances/gke-pool-1-abcd",
	      "projects/my-proj/zones/europe-west1-b/instances/gke-pool-1-abcd");
	id_eq("azure:///subscriptions/S/resourceGroups/MC_rg/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np-1-vmss/virtualMachines/0",
	      "subscriptions/s/resourcegroups/mc_rg/providers/microsoft.compute/virtualmachinescalesets/aks-np-1-vmss/"
	      "virtualmachines/0");
	id_eq("/SUBSCRIPTIONS/S/resourcegroups/MC_RG/providers/Microsoft.Compute/virtualMachineScaleSets/AKS-NP-1-VMSS/virtualMachines/0",
	      "subscriptions/s/resourcegroups/mc_rg/providers/microsoft.compute/virtualmachinescalesets/aks-np-1-vmss/"
	      "virtualmachines/0");
}

/* ---- rates ---- */

static const char HDR[] = "ChargeCategory,ChargePeriodStart,ChargePeriodEnd,BilledCost,EffectiveCost,BillingCurrency,"
			  "ResourceId,ServiceCategory,PricingUnit,PricingQuantity,CommitmentDiscountId\n";

static kp_focus_node NODES[] = {
	{"aws:///eu-west-1a/i-0aaa", "m5.xlarge", false},
	{"aws:///eu-west-1b/i-0bbb", "m5.xlarge", false},
	{"aws:///eu-west-1b/i-0ccc", "m5.xlarge", true},
	{"gce://proj/europe-west1-b/gke-n1", "e2-standard-4", false},
	{"azure:///subscriptions/S/resourceGroups/MC_rg/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np-vmss/"
	 "virtualMachines/0",
	 "Standard_D4s_v5", false},
	{"azure:///subscriptions/S/resourceGroups/MC_rg/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np-vmss/"
	 "virtualMachines/1",
	 "Standard_D4s_v5", false},
};
static kp_focus_volume VOLS[] = {
	{"vol-0d1", "gp3", 100 * GIB_B},
	{"projects/proj/zones/europe-west1-b/disks/pvc-1", "standard-rwo", 50 * GIB_B},
	{"/subscriptions/S/resourceGroups/MC_rg/providers/Microsoft.Compute/disks/pvc-az", "managed-csi", 32 * GIB_B},
	{"old-pd", "pd-old", 10 * GIB_B},
};

static kp_status ft_rates(const char *body, const char *currency, kp_focus_rates *r, kp_error *err)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_puts(&b, HDR);
	kp_buf_puts(&b, body);
	char *path = ft_write("r.csv", b.data, b.len);
	kp_focus_keys k = {NODES, sizeof(NODES) / sizeof(NODES[0]), VOLS, sizeof(VOLS) / sizeof(VOLS[0])};
	kp_status s = kp_focus_read(path, &k, currency, 730, r, err);
	unlink(path);
	free(path);
	kp_buf_release(&b);
	return s;
}

static const kp_focus_rate *item(const kp_focus_rates *r, const char *name, bool spot)
{
	for (size_t i = 0; i < r->nitems; i++)
		if (strcmp(r->items[i].name, name) == 0 && r->items[i].spot == spot)
			return &r->items[i];
	return NULL;
}

Test(focus_rates, effective_cost_over_hours_per_type)
{
	kp_focus_rates r;
	kp_error err = {0};
	/* two m5.xlarge nodes: one a month at 0.10/h on demand, one covered by
	 * a savings plan (EffectiveCost amortized, BilledCost 0), part hours;
	 * a Purchase row (the commitment fee) and a Tax row are not usage */
	const char *body =
		"Usage,2026-10-01T00:00:00Z,2026-10-31T00:00:00Z,72,72,USD,arn:aws:ec2:eu-west-1:1:instance/i-0aaa,Compute,Hrs,720,\n"
		"Usage,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,0,1.8,USD,i-0bbb,Compute,Hours,18,sp-1\n"
		"Usage,2026-10-02T00:00:00Z,2026-10-03T00:00:00Z,0,0.6,USD,i-0bbb,Compute,1 Hour,6,sp-1\n"
		"Purchase,2026-10-01T00:00:00Z,2026-10-31T00:00:00Z,500,0,USD,sp-1,Compute,,,sp-1\n"
		"Tax,2026-10-01T00:00:00Z,2026-10-31T00:00:00Z,30,30,USD,,,,,\n"
		/* data transfer on an instance: not what its size costs */
		"Usage,2026-10-01T00:00:00Z,2026-10-31T00:00:00Z,9,9,USD,i-0aaa,Networking,GB,90,\n"
		/* something else in the account */
		"Usage,2026-10-01T00:00:00Z,2026-10-31T00:00:00Z,3,3,USD,arn:aws:s3:::bucket,Storage,GB-Mo,100,\n"
		/* the spot node: its own rate, a day of data in hourly rows */
		"Usage,2026-10-01T00:00:00Z,2026-10-02T12:00:00Z,1.44,1.44,USD,i-0ccc,Compute,Hrs,36,\n";
	cr_assert_eq(ft_rates(body, "USD", &r, &err), KP_OK, "%s", err.msg);
	const kp_focus_rate *m5 = item(&r, "m5.xlarge", false);
	cr_assert_not_null(m5);
	cr_expect(NEAR(m5->cost, 74.4), "%g", m5->cost);
	cr_expect(NEAR(m5->hours, 744), "%g", m5->hours);
	cr_expect(NEAR(m5->rate, 0.1), "%g", m5->rate);
	cr_expect_eq(m5->resources, 2);
	cr_expect_eq(m5->rows, 3);
	const kp_focus_rate *spot = item(&r, "m5.xlarge", true);
	cr_assert_not_null(spot);
	cr_expect(NEAR(spot->rate, 0.04), "%g", spot->rate);
	cr_expect_eq(kp_focus_node_rate(&r, "m5.xlarge", true), spot);
	cr_expect_eq(r.rows, 8);
	cr_expect_eq(r.usage_rows, 6);
	cr_expect_eq(r.matched_rows, 4);
	cr_expect_eq(r.unmatched_rows, 1);
	cr_expect_eq(r.skipped_rows, 1);
	cr_expect_str_eq(r.period_start, "2026-10-01T00:00:00Z");
	cr_expect_str_eq(r.period_end, "2026-10-31T00:00:00Z");
	kp_focus_rates_release(&r);
}

Test(focus_rates, azure_gcp_and_storage)
{
	kp_focus_rates r;
	kp_error err = {0};
	const char *body =
		/* Azure: per instance, upper-case ids, a space for the T, no zone */
		"Usage,2026-10-01 00:00:00,2026-10-11 00:00:00,48,48,USD,/SUBSCRIPTIONS/S/RESOURCEGROUPS/MC_RG/PROVIDERS/"
		"MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS/AKS-NP-VMSS/VIRTUALMACHINES/0,Compute,10 Hours,24,\n"
		/* ... and on the scale set itself (node 1's hours) */
		"Usage,2026-10-01T00:00:00Z,2026-10-11T00:00:00Z,48,48,USD,/subscriptions/S/resourceGroups/MC_rg/providers/"
		"Microsoft.Compute/virtualMachineScaleSets/aks-np-vmss,Compute,1 Hour,240,\n"
		/* GCP: no hour unit (per-core SKU in another unit): the period span */
		"Usage,2026-10-01T00:00:00Z,2026-10-03T00:00:00Z,9.6,9.6,USD,//compute.googleapis.com/projects/proj/zones/"
		"europe-west1-b/instances/gke-n1,Compute,gibibyte hour,768,\n"
		/* EBS in GB-months */
		"Usage,2026-10-01T00:00:00Z,2026-10-31T00:00:00Z,8,6,USD,vol-0d1,Storage,GB-Mo,100,\n"
		/* GCP disk, no GB-month unit: capacity x span (730 h = 1 month) */
		"Usage,2026-10-01T00:00:00Z,2026-10-31T10:00:00Z,5,5,USD,//compute.googleapis.com/projects/proj/zones/"
		"europe-west1-b/disks/pvc-1,Storage,,,\n"
		/* Azure disk, case differs */
		"Usage,2026-10-01T00:00:00Z,2026-10-31T10:00:00Z,3.2,3.2,USD,/subscriptions/s/resourcegroups/mc_rg/providers/"
		"microsoft.compute/disks/PVC-AZ,Storage,1 GB/Month,32,\n"
		/* an in-tree GCE pdName is matched by the disk's last segment */
		"Usage,2026-10-01T00:00:00Z,2026-10-01T10:00:00Z,1,1,USD,//compute.googleapis.com/projects/proj/zones/"
		"europe-west1-b/disks/old-pd,Storage,GiB-month,1,\n";
	cr_assert_eq(ft_rates(body, "USD", &r, &err), KP_OK, "%s", err.msg);
	const kp_focus_rate *az = item(&r, "Standard_D4s_v5", false);
	cr_assert_not_null(az);
	cr_expect(NEAR(az->hours, 480), "%g", az->hours);
	cr_expect(NEAR(az->rate, 0.2), "%g", az->rate);
	cr_expect_eq(az->resources, 2); /* the instance and the scale set */
	const kp_focus_rate *gk = item(&r, "e2-standard-4", false);
	cr_assert_not_null(gk);
	cr_expect(NEAR(gk->hours, 48), "%g", gk->hours);
	cr_expect(NEAR(gk->rate, 0.2), "%g", gk->rate);
	const kp_focus_rate *gp3 = item(&r, "gp3", false);
	cr_assert_not_null(gp3);
	cr_expect(NEAR(gp3->rate, 0.06), "%g", gp3->rate);
	const kp_focus_rate *std = item(&r, "standard-rwo", false);
	cr_assert_not_null(std);
	cr_expect(NEAR(std->gib_months, 50), "%g", std->gib_months);
	cr_expect(NEAR(std->rate, 0.1), "%g", std->rate);
	const kp_focus_rate *md = item(&r, "managed-csi", false);
	cr_assert_not_null(md);
	cr_expect(NEAR(md->rate, 0.1), "%g", md->rate);
	/* 10 hours of data: too little, no rate, a note */
	const kp_focus_rate *old = item(&r, "pd-old", false);
	cr_assert_not_null(old);
	cr_expect_lt(old->rate, 0);
	cr_expect(old->note && strstr(old->note, "only 10 volume-hours"), "%s", old->note ? old->note : "(none)");
	cr_expect_null(kp_focus_class_rate(&r, "pd-old"));
	cr_expect_eq(r.unmatched_rows, 0);
	kp_focus_rates_release(&r);
}

Test(focus_rates, too_little_data_falls_back)
{
	kp_focus_rates r;
	kp_error err = {0};
	cr_assert_eq(ft_rates("Usage,2026-10-01T00:00:00Z,2026-10-01T12:00:00Z,1,1,USD,i-0aaa,Compute,Hrs,12,\n", "USD",
			      &r, &err),
		     KP_OK, "%s", err.msg);
	cr_expect_null(kp_focus_node_rate(&r, "m5.xlarge", false));
	cr_assert_eq(r.nitems, 1);
	cr_expect(strstr(r.items[0].note, "only 12 node-hours"), "%s", r.items[0].note);
	kp_focus_rates_release(&r);
}

static void expect_error(const char *text, const char *want)
{
	kp_focus_rates r;
	kp_error err = {0};
	char *path = ft_write("bad.csv", text, strlen(text));
	kp_focus_keys k = {NODES, 1, VOLS, 1};
	kp_status s = kp_focus_read(path, &k, "USD", 730, &r, &err);
	cr_expect_eq(s, KP_ERR_USAGE, "%s", text);
	char *full = kp_xasprintf("%s%s", path, want);
	cr_expect_str_eq(err.msg, full);
	free(full);
	unlink(path);
	free(path);
}

Test(focus_rates, bad_files)
{
	expect_error("ChargeCategory,ChargePeriodStart,EffectiveCost\nUsage,x,1\n",
		     ":1: required FOCUS column ChargePeriodEnd is missing from the header (names are case-sensitive: "
		     "ChargeCategory, ChargePeriodStart, ChargePeriodEnd, EffectiveCost, BillingCurrency, ResourceId, "
		     "PricingUnit, PricingQuantity)");
	char *t = kp_xasprintf("%sUsage,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,1,12.5x,USD,i-0aaa,Compute,Hrs,24,\n", HDR);
	expect_error(t, ":2: column EffectiveCost: expected a number, got \"12.5x\"");
	free(t);
	t = kp_xasprintf("%sUsage,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,1,1,USD,i-0aaa,Compute,Hrs,24,\n"
			 "Usage,yesterday,2026-10-02T00:00:00Z,1,1,USD,i-0aaa,Compute,Hrs,24,\n",
			 HDR);
	expect_error(t, ":3: column ChargePeriodStart: expected an ISO 8601 time such as 2026-11-01T00:00:00Z, got "
			"\"yesterday\"");
	free(t);
	t = kp_xasprintf("%sUsage,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,1,1,USD,i-0aaa,Compute,Hrs,-3,\n", HDR);
	expect_error(t, ":2: column PricingQuantity: expected a number >= 0 or nothing, got \"-3\"");
	free(t);
	t = kp_xasprintf("%sUsage,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,1,1,EUR,i-0aaa,Compute,Hrs,24,\n", HDR);
	expect_error(t, ":2: column BillingCurrency: the export bills in \"EUR\" but prices.currency is USD: set "
			"prices.currency to the bill's currency (or leave prices.focus_file unset)");
	free(t);
	t = kp_xasprintf("%sUsage,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,1,1,USD,\"i-0aaa,Compute,Hrs,24,\n", HDR);
	expect_error(t, ":2: field 7: unterminated quoted field (the quote opened on line 2 is never closed)");
	free(t);
	t = kp_xasprintf("%sUsage,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,1,1,USD\n", HDR);
	expect_error(t, ":2: 6 fields, but the header has 11");
	free(t);
	expect_error("", ": empty file: expected a FOCUS CSV export with a header row");
}

/* ---- precedence ---- */

Test(focus_precedence, config_beats_focus_beats_global)
{
	kp_focus_rates r;
	kp_error err = {0};
	const char *body =
		"Usage,2026-10-01T00:00:00Z,2026-10-31T00:00:00Z,72,72,USD,i-0aaa,Compute,Hrs,720,\n"
		"Usage,2026-10-01T00:00:00Z,2026-10-31T00:00:00Z,7,7,USD,vol-0d1,Storage,GB-Mo,100,\n"
		"Usage,2026-10-01T00:00:00Z,2026-10-31T00:00:00Z,144,144,USD,gce://proj/europe-west1-b/gke-n1,Compute,Hrs,720,\n";
	cr_assert_eq(ft_rates(body, "USD", &r, &err), KP_OK, "%s", err.msg);
	kp_config c;
	kp_config_init(&c);
	c.prices.focus = &r;
	kp_findings fs;
	kp_findings_init(&fs);
	/* a node of a type only the bill prices: 0.10/h x 730 */
	kp_finding *n = kp_findings_add(&fs, KP_CAT_UNDERUTILIZED_NODE, "v1", "Node", NULL, "n1", NULL);
	n->has_node = true;
	n->node.cpu_capacity_m = 4000;
	n->node.mem_capacity_b = 16 * GIB_B;
	json_object *in = json_tokener_parse("{\"node\":\"n1\",\"instance_type\":\"m5.xlarge\",\"spot\":false,"
					     "\"cpu_millicores\":4000,\"memory_bytes\":17179869184}");
	cr_assert_eq(kp_pricing_inputs_from_json(in, "t", &n->pricing, &err), KP_OK, "%s", err.msg);
	json_object_put(in);
	kp_recommend_finding(&c, n);
	cr_expect(NEAR(n->monthly_cost, 73.0), "%g", n->monthly_cost);
	json_object *j = kp_finding_to_json(n, true);
	cr_expect_str_eq(kp_json_str(j, "price.source"), "focus");
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(kp_json_get(j, "price.items"), 0), "source"), "focus");
	/* it reads back the same (render works from findings.json) */
	kp_findings back;
	kp_findings_init(&back);
	json_object *doc = json_object_new_object(), *arr = json_object_new_array();
	json_object_array_add(arr, j);
	json_object_object_add(doc, "findings", arr);
	cr_assert_eq(kp_findings_from_json(doc, "t", true, &back, &err), KP_OK, "%s", err.msg);
	cr_expect_str_eq(back.items.items[0].price.source, "focus");
	cr_expect_str_eq(back.items.items[0].price.items[0].source, "focus");
	kp_findings_release(&back);
	json_object_put(doc);

	/* storage: the bill's 0.07 over the default 0.04 */
	kp_finding *p = kp_findings_add(&fs, KP_CAT_ORPHANED_PVC, "v1", "PersistentVolumeClaim", "a", "data", NULL);
	p->current.storage_b = 100 * GIB_B;
	in = json_tokener_parse("{\"storage_class\":\"gp3\"}");
	cr_assert_eq(kp_pricing_inputs_from_json(in, "t", &p->pricing, &err), KP_OK, "%s", err.msg);
	json_object_put(in);
	kp_recommend_finding(&c, p);
	cr_expect(NEAR(p->monthly_cost, 7.0), "%g", p->monthly_cost);

	/* a configured price wins over the bill: a person wrote it */
	kp_config_release(&c);
	kp_config_init(&c);
	const char *cy = "prices:\n  node_types:\n    m5.xlarge: 0.192\n  storage_classes:\n    gp3: 0.08\n";
	char *yaml = ft_write("c.yaml", cy, strlen(cy));
	cr_assert_eq(kp_config_load_file(&c, yaml, &err), KP_OK, "%s", err.msg);
	unlink(yaml);
	free(yaml);
	c.prices.focus = &r;
	kp_recommend_finding(&c, n);
	cr_expect(NEAR(n->monthly_cost, 0.192 * 730), "%g", n->monthly_cost);
	cr_expect_str_eq(n->price.source, "config");
	kp_recommend_finding(&c, p);
	cr_expect(NEAR(p->monthly_cost, 8.0), "%g", p->monthly_cost);
	/* the sources table says the configured price won, and lists the bill's other type */
	json_object *src = kp_money_sources_json(&c);
	const char *s = json_object_to_json_string_ext(src, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	cr_expect(strstr(s, "\"name\":\"m5.xlarge\",\"spot\":false,\"rate\":0.192,\"unit\":\"node-hour\",\"source\":\"config\","
			    "\"basis\":\"prices.node_types (wins over the FOCUS bill's effective $0.10/h)\""),
		  "%s", s);
	cr_expect(strstr(s, "\"name\":\"e2-standard-4\",\"spot\":false,\"rate\":0.2,\"unit\":\"node-hour\",\"source\":\"focus\",\"basis\":\"FOCUS bill: 1 node, 720 node-hours, 1 row\""),
		  "%s", s);
	cr_expect(strstr(s, "\"kind\":\"global\",\"name\":\"cpu\",\"rate\":0.031611,\"unit\":\"core-hour\",\"source\":\"default\""),
		  "%s", s);
	json_object_put(src);

	/* without the bill: a type nobody priced is at the global prices */
	c.prices.focus = NULL;
	kp_finding *g = kp_findings_add(&fs, KP_CAT_UNDERUTILIZED_NODE, "v1", "Node", NULL, "n2", NULL);
	g->has_node = true;
	g->node.cpu_capacity_m = 4000;
	g->node.mem_capacity_b = 16 * GIB_B;
	in = json_tokener_parse("{\"node\":\"n2\",\"instance_type\":\"e2-standard-4\",\"spot\":false,"
				"\"cpu_millicores\":4000,\"memory_bytes\":17179869184}");
	cr_assert_eq(kp_pricing_inputs_from_json(in, "t", &g->pricing, &err), KP_OK, "%s", err.msg);
	json_object_put(in);
	kp_recommend_finding(&c, g);
	cr_expect(NEAR(g->monthly_cost, (4 * 0.031611 + 16 * 0.004237) * 730), "%g", g->monthly_cost);
	cr_expect_null(g->price.source);
	kp_findings_release(&fs);
	kp_config_release(&c);
	kp_focus_rates_release(&r);
}
