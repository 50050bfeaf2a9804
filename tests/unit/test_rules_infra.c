/*
 * test_rules_infra.c - the infrastructure rules on small hand-built
 * snapshots: unbound PersistentVolumes, idle LoadBalancer Services and
 * underutilized nodes (the first-fit-decreasing drain simulation).
 * Each test writes a snapshot directory in /tmp, loads it with
 * kp_snapshot_load and runs ONE rule directly, so a finding or skip seen
 * here comes from that rule alone.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/config.h"
#include "stages/analyze/analyze.h"
#include "stages/collect/snapshot.h"
#include "tests/unit/fixture.h"

#define INFRA_NOW "2026-11-25T06:00:00Z"
#define INFRA_OLD "2026-09-01T00:00:00Z"
#define INFRA_YOUNG "2026-11-24T12:00:00Z" /* 18 hours before INFRA_NOW */

/* The shared fixture (fixture.h) under this file's names. */
static kp_fixture infra_fx;

static void infra_list(const char *res, const char *items) { fx_list(&infra_fx, res, items); }

static void infra_remove(const char *res)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "objects/%s.json", res);
	fx_remove(&infra_fx, rel);
}

static void infra_snapshot(void) { fx_init(&infra_fx, "infra", "manual"); }

static void infra_run(void (*rule)(kp_analyze_ctx *)) { fx_run(&infra_fx, INFRA_NOW, rule); }

static void infra_fini(void) { fx_fini(&infra_fx); }

static const kp_finding *infra_find(kp_category cat, const char *name) { return fx_find(&infra_fx, cat, name); }

static const kp_skip *infra_skip(const char *name) { return fx_skip(&infra_fx, name); }

static const kp_evidence *infra_ev(const kp_finding *f, const char *metric) { return fx_ev(f, metric); }

/* Appends ",item" (or "item") to a list being built. */
static void infra_add(kp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void infra_add(kp_buf *b, const char *fmt, ...)
{
	if (b->len)
		kp_buf_putc(b, ',');
	va_list ap;
	va_start(ap, fmt);
	kp_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* unbound-pv                                                           */

static void infra_pv(kp_buf *b, const char *name, const char *phase, const char *policy, const char *created,
		     const char *claim, const char *labels)
{
	char ref[200] = "";
	if (claim)
		snprintf(ref, sizeof(ref), ",\"claimRef\":{\"kind\":\"PersistentVolumeClaim\",\"namespace\":\"shop\",\"name\":\"%s\"}",
			 claim);
	infra_add(b,
		  "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"%s\",\"creationTimestamp\":"
		  "\"%s\"%s},\"spec\":{\"capacity\":{\"storage\":\"100Gi\"},\"persistentVolumeReclaimPolicy\":\"%s\","
		  "\"storageClassName\":\"gp3\"%s},\"status\":{\"phase\":\"%s\"}}",
		  name, created, labels ? labels : "", policy, ref, phase);
}

Test(infra_pv, released_retain_available_failed_flagged_bound_not, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf b;
	kp_buf_init(&b);
	infra_pv(&b, "pv-bound", "Bound", "Retain", INFRA_OLD, "data", NULL);
	infra_pv(&b, "pv-released", "Released", "Retain", INFRA_OLD, "old-data", NULL);
	infra_pv(&b, "pv-available", "Available", "Delete", INFRA_OLD, NULL, NULL);
	infra_pv(&b, "pv-failed", "Failed", "Recycle", INFRA_OLD, NULL, NULL);
	infra_pv(&b, "pv-pending", "Pending", "Delete", INFRA_OLD, NULL, NULL);
	infra_list("persistentvolumes", b.data);
	kp_buf_release(&b);
	infra_run(kp_rule_unbound_pv);

	cr_assert_null(infra_find(KP_CAT_UNBOUND_PV, "pv-bound"));
	cr_assert_null(infra_find(KP_CAT_UNBOUND_PV, "pv-pending"));
	cr_assert_not_null(infra_find(KP_CAT_UNBOUND_PV, "pv-available"));
	cr_assert_not_null(infra_find(KP_CAT_UNBOUND_PV, "pv-failed"));
	const kp_finding *f = infra_find(KP_CAT_UNBOUND_PV, "pv-released");
	cr_assert_not_null(f);
	cr_assert_str_eq(f->api_version, "v1");
	cr_assert_str_eq(f->kind, "PersistentVolume");
	cr_assert_null(f->namespace_);
	cr_assert_null(f->container);
	cr_assert_eq(f->current.storage_b, 100LL << 30);
	cr_assert_eq(f->current.cpu_request_m, KP_UNSET);
	cr_assert_eq(f->confidence, KP_CONF_HIGH);
	cr_assert_eq(f->risk, KP_RISK_HIGH);
	cr_assert_not(f->has_recommended);
	const kp_evidence *rp = infra_ev(f, "reclaim_policy");
	cr_assert_not_null(rp);
	cr_assert_not_null(strstr(rp->summary, "Retain"), "%s", rp->summary);
	const kp_evidence *ref = infra_ev(f, "claim_ref");
	cr_assert_not_null(ref);
	cr_assert_not_null(strstr(ref->summary, "shop/old-data"), "%s", ref->summary);
	const kp_evidence *age = infra_ev(f, "age_days");
	cr_assert_not_null(age);
	cr_assert_gt(age->value, 80);
	cr_assert_not_null(strstr(infra_ev(f, "phase")->summary, "Released"));
	cr_assert_eq(infra_fx.out.skipped.len, 0);
}

Test(infra_pv, released_delete_says_the_deleter_failed, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf b;
	kp_buf_init(&b);
	infra_pv(&b, "pv-stuck", "Released", "Delete", INFRA_OLD, "gone", NULL);
	infra_list("persistentvolumes", b.data);
	kp_buf_release(&b);
	infra_run(kp_rule_unbound_pv);
	const kp_finding *f = infra_find(KP_CAT_UNBOUND_PV, "pv-stuck");
	cr_assert_not_null(f);
	cr_assert_not_null(strstr(infra_ev(f, "reclaim_policy")->summary, "failed"));
}

Test(infra_pv, young_not_flagged_and_grace_edge, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf b;
	kp_buf_init(&b);
	infra_pv(&b, "pv-young", "Released", "Retain", INFRA_YOUNG, NULL, NULL);
	infra_pv(&b, "pv-7d", "Released", "Retain", "2026-11-18T06:00:00Z", NULL, NULL);   /* exactly 7 days */
	infra_pv(&b, "pv-6d", "Released", "Retain", "2026-11-18T06:00:01Z", NULL, NULL);   /* 1 s short */
	infra_list("persistentvolumes", b.data);
	kp_buf_release(&b);
	infra_run(kp_rule_unbound_pv);
	cr_assert_null(infra_find(KP_CAT_UNBOUND_PV, "pv-young"));
	cr_assert_null(infra_find(KP_CAT_UNBOUND_PV, "pv-6d"));
	cr_assert_not_null(infra_find(KP_CAT_UNBOUND_PV, "pv-7d"));
}

Test(infra_pv, grace_is_configurable, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf b;
	kp_buf_init(&b);
	infra_pv(&b, "pv-young", "Available", "Retain", INFRA_YOUNG, NULL, NULL);
	infra_list("persistentvolumes", b.data);
	kp_buf_release(&b);
	cr_assert(kp_config_set(&infra_fx.cfg, "unbound_pv.grace_days=0.5", KP_SRC_FLAG, NULL) == KP_OK);
	infra_run(kp_rule_unbound_pv);
	cr_assert_not_null(infra_find(KP_CAT_UNBOUND_PV, "pv-young"));
}

Test(infra_pv, missing_list_finds_nothing, .fini = infra_fini)
{
	infra_snapshot();
	infra_remove("persistentvolumes");
	infra_run(kp_rule_unbound_pv);
	cr_assert_not(infra_fx.cluster.collected[KP_RES_PVS]);
	cr_assert_eq(infra_fx.out.items.len, 0);
}

Test(infra_pv, ignore_label_and_ignored_claim_namespace_skip, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf b;
	kp_buf_init(&b);
	infra_pv(&b, "pv-ignored", "Released", "Retain", INFRA_OLD, NULL, ",\"labels\":{\"kopilot.io/ignore\":\"true\"}");
	infra_pv(&b, "pv-in-ignored-ns", "Released", "Retain", INFRA_OLD, "x", NULL);
	infra_list("persistentvolumes", b.data);
	kp_buf_release(&b);
	infra_list("namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\","
				 "\"labels\":{\"kopilot.io/ignore\":\"true\"}}}");
	infra_run(kp_rule_unbound_pv);
	cr_assert_eq(infra_fx.out.items.len, 0);
	cr_assert_not_null(infra_skip("pv-ignored"));
	cr_assert_str_eq(infra_skip("pv-ignored")->reason, "excluded by kopilot.io/ignore=true");
	cr_assert_not_null(infra_skip("pv-in-ignored-ns"));
}

/* ------------------------------------------------------------------ */
/* idle-loadbalancer                                                    */

static void infra_svc(kp_buf *b, const char *name, const char *type, bool selector, const char *created,
		      const char *extra_meta)
{
	infra_add(b,
		  "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\","
		  "\"creationTimestamp\":\"%s\"%s},\"spec\":{\"type\":\"%s\"%s},\"status\":{\"loadBalancer\":{\"ingress\":"
		  "[{\"ip\":\"203.0.113.7\"}]}}}",
		  name, created, extra_meta ? extra_meta : "", type, selector ? ",\"selector\":{\"app\":\"x\"}" : "");
}

/* A slice for service svc with `total` endpoints of which `ready` are ready. */
static void infra_slice(kp_buf *b, const char *name, const char *svc, const char *ns, int total, int ready)
{
	kp_buf eps;
	kp_buf_init(&eps);
	for (int i = 0; i < total; i++)
		infra_add(&eps, "{\"addresses\":[\"10.0.0.%d\"],\"conditions\":{\"ready\":%s}}", i + 1,
			  i < ready ? "true" : "false");
	infra_add(b,
		  "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"%s\","
		  "\"namespace\":\"%s\",\"labels\":{\"kubernetes.io/service-name\":\"%s\"}},\"addressType\":\"IPv4\","
		  "\"endpoints\":[%s]}",
		  name, ns, svc, kp_buf_cstr(&eps));
	kp_buf_release(&eps);
}

Test(infra_lb, ready_none_ready_and_no_slices, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf s, e;
	kp_buf_init(&s);
	kp_buf_init(&e);
	infra_svc(&s, "live", "LoadBalancer", true, INFRA_OLD, NULL);
	infra_svc(&s, "crashing", "LoadBalancer", true, INFRA_OLD, NULL);
	infra_svc(&s, "empty", "LoadBalancer", true, INFRA_OLD, NULL);
	infra_svc(&s, "internal", "ClusterIP", true, INFRA_OLD, NULL);
	infra_slice(&e, "live-a", "live", "shop", 2, 0);
	infra_slice(&e, "live-b", "live", "shop", 1, 1); /* one ready endpoint in the second slice is enough */
	infra_slice(&e, "crashing-a", "crashing", "shop", 3, 0);
	infra_slice(&e, "crashing-b", "crashing", "shop", 0, 0);
	infra_slice(&e, "empty-other-ns", "empty", "other", 2, 2); /* same name, other namespace: not its slice */
	infra_list("services", s.data);
	infra_list("endpointslices", e.data);
	kp_buf_release(&s);
	kp_buf_release(&e);
	infra_run(kp_rule_idle_loadbalancer);

	cr_assert_null(infra_find(KP_CAT_IDLE_LOADBALANCER, "live"));
	cr_assert_null(infra_find(KP_CAT_IDLE_LOADBALANCER, "internal"));
	const kp_finding *f = infra_find(KP_CAT_IDLE_LOADBALANCER, "crashing");
	cr_assert_not_null(f);
	cr_assert_str_eq(f->api_version, "v1");
	cr_assert_str_eq(f->kind, "Service");
	cr_assert_str_eq(f->namespace_, "shop");
	cr_assert_null(f->container);
	cr_assert_eq(f->load_balancers, 1);
	cr_assert_eq(f->current.storage_b, KP_UNSET);
	cr_assert_eq(f->current.cpu_request_m, KP_UNSET);
	cr_assert_eq(f->confidence, KP_CONF_MEDIUM); /* endpoints exist, none ready: maybe a crash loop */
	cr_assert_eq(f->risk, KP_RISK_MEDIUM);
	const kp_evidence *r = infra_ev(f, "ready_endpoints");
	cr_assert_not_null(r);
	cr_assert(r->has_value && r->value == 0);
	cr_assert_not_null(strstr(r->summary, "2 EndpointSlices"), "%s", r->summary);
	cr_assert_not_null(strstr(infra_ev(f, "lb_ingress")->summary, "203.0.113.7"));
	cr_assert_not_null(infra_ev(f, "age_days"));
	bool snapshot_sentence = false;
	for (size_t i = 0; i < f->nevidence; i++)
		snapshot_sentence |= strstr(f->evidence[i].summary, "snapshot time") != NULL;
	cr_assert(snapshot_sentence);

	f = infra_find(KP_CAT_IDLE_LOADBALANCER, "empty");
	cr_assert_not_null(f, "a Service with a selector and no slice at all is idle");
	cr_assert_eq(f->confidence, KP_CONF_HIGH);
	cr_assert_eq(infra_fx.out.skipped.len, 0);
}

Test(infra_lb, no_selector_judged_by_slices_or_skipped, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf s, e;
	kp_buf_init(&s);
	kp_buf_init(&e);
	infra_svc(&s, "manual-none", "LoadBalancer", false, INFRA_OLD, NULL);
	infra_svc(&s, "manual-dead", "LoadBalancer", false, INFRA_OLD, NULL);
	infra_svc(&s, "manual-live", "LoadBalancer", false, INFRA_OLD, NULL);
	infra_slice(&e, "manual-dead-1", "manual-dead", "shop", 1, 0);
	infra_slice(&e, "manual-live-1", "manual-live", "shop", 1, 1);
	infra_list("services", s.data);
	infra_list("endpointslices", e.data);
	kp_buf_release(&s);
	kp_buf_release(&e);
	infra_run(kp_rule_idle_loadbalancer);
	cr_assert_null(infra_find(KP_CAT_IDLE_LOADBALANCER, "manual-none"));
	const kp_skip *sk = infra_skip("manual-none");
	cr_assert_not_null(sk);
	cr_assert_not_null(strstr(sk->reason, "no selector"), "%s", sk->reason);
	cr_assert_not_null(infra_find(KP_CAT_IDLE_LOADBALANCER, "manual-dead"));
	cr_assert_null(infra_find(KP_CAT_IDLE_LOADBALANCER, "manual-live"));
}

Test(infra_lb, fresh_service_not_flagged_grace_edge, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf s;
	kp_buf_init(&s);
	infra_svc(&s, "fresh", "LoadBalancer", true, INFRA_YOUNG, NULL);
	infra_svc(&s, "day-old", "LoadBalancer", true, "2026-11-24T06:00:00Z", NULL); /* exactly 24 h */
	infra_list("services", s.data);
	kp_buf_release(&s);
	infra_run(kp_rule_idle_loadbalancer);
	cr_assert_null(infra_find(KP_CAT_IDLE_LOADBALANCER, "fresh"));
	cr_assert_not_null(infra_find(KP_CAT_IDLE_LOADBALANCER, "day-old"));
	cr_assert_null(infra_skip("fresh"));
}

Test(infra_lb, endpointslices_missing_skips_each_lb, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf s;
	kp_buf_init(&s);
	infra_svc(&s, "lb1", "LoadBalancer", true, INFRA_OLD, NULL);
	infra_svc(&s, "lb2", "LoadBalancer", false, INFRA_OLD, NULL);
	infra_svc(&s, "internal", "ClusterIP", true, INFRA_OLD, NULL);
	infra_list("services", s.data);
	kp_buf_release(&s);
	infra_remove("endpointslices");
	infra_run(kp_rule_idle_loadbalancer);
	cr_assert_eq(infra_fx.out.items.len, 0);
	cr_assert_not_null(infra_skip("lb1"));
	cr_assert_not_null(strstr(infra_skip("lb1")->reason, "endpointslices not collected"));
	cr_assert_not_null(infra_skip("lb2"));
	cr_assert_null(infra_skip("internal"));
}

Test(infra_lb, services_missing_finds_nothing, .fini = infra_fini)
{
	infra_snapshot();
	infra_remove("services");
	infra_run(kp_rule_idle_loadbalancer);
	cr_assert_eq(infra_fx.out.items.len, 0);
	cr_assert_eq(infra_fx.out.skipped.len, 0);
}

Test(infra_lb, ignore_label_skips, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf s;
	kp_buf_init(&s);
	infra_svc(&s, "kept", "LoadBalancer", true, INFRA_OLD, ",\"annotations\":{\"kopilot.io/ignore\":\"true\"}");
	infra_list("services", s.data);
	kp_buf_release(&s);
	infra_run(kp_rule_idle_loadbalancer);
	cr_assert_eq(infra_fx.out.items.len, 0);
	cr_assert_str_eq(infra_skip("kept")->reason, "excluded by kopilot.io/ignore=true");
}

/* ------------------------------------------------------------------ */
/* underutilized-node                                                   */

#define GI "Gi"

/* A node with `cpu` cores and `mem_gi` GiB allocatable (capacity slightly
 * larger); extra_labels/taints are JSON fragments or NULL. */
static void infra_node(kp_buf *b, const char *name, int cpu, int mem_gi, const char *extra_labels, const char *taints,
		       bool cordoned, bool ready)
{
	infra_add(b,
		  "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"creationTimestamp\":\"" INFRA_OLD
		  "\",\"labels\":{\"kubernetes.io/hostname\":\"%s\",\"node.kubernetes.io/instance-type\":\"m5.xlarge\"%s}},"
		  "\"spec\":{\"unschedulable\":%s%s%s%s},\"status\":{\"capacity\":{\"cpu\":\"%d\",\"memory\":\"%d" GI "\"},"
		  "\"allocatable\":{\"cpu\":\"%d\",\"memory\":\"%d" GI "\"},\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\"}]}}",
		  name, name, extra_labels ? extra_labels : "", cordoned ? "true" : "false", taints ? ",\"taints\":[" : "",
		  taints ? taints : "", taints ? "]" : "", cpu, mem_gi + 1, cpu, mem_gi, ready ? "True" : "False");
}

/* A pod on `node` in `phase` requesting cpu millicores and mem MiB; owner
 * kind (ReplicaSet by default); spec_extra is a JSON fragment added to spec. */
static void infra_pod_phase(kp_buf *b, const char *name, const char *node, int cpu_m, int mem_mi,
			    const char *owner_kind, const char *spec_extra, const char *phase)
{
	infra_add(b,
		  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\","
		  "\"ownerReferences\":[{\"kind\":\"%s\",\"name\":\"owner-%s\",\"controller\":true}]},\"spec\":{\"nodeName\":"
		  "\"%s\",\"containers\":[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"%dm\",\"memory\":\"%dMi\"}}}]%s},"
		  "\"status\":{\"phase\":\"%s\"}}",
		  name, owner_kind ? owner_kind : "ReplicaSet", name, node, cpu_m, mem_mi, spec_extra ? spec_extra : "",
		  phase);
}

static void infra_pod(kp_buf *b, const char *name, const char *node, int cpu_m, int mem_mi, const char *owner_kind,
		      const char *spec_extra)
{
	infra_pod_phase(b, name, node, cpu_m, mem_mi, owner_kind, spec_extra, "Running");
}

static void infra_nodes_pods(kp_buf *nodes, kp_buf *pods)
{
	infra_list("nodes", nodes->data ? nodes->data : "");
	infra_list("pods", pods->data ? pods->data : "");
	kp_buf_release(nodes);
	kp_buf_release(pods);
}

Test(infra_node, removable_node_flagged_with_evidence, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, ",\"karpenter.sh/capacity-type\":\"spot\"", NULL, false, true);
	infra_node(&n, "node-b", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-c", 4, 16, NULL, NULL, false, true);
	infra_pod(&p, "a1", "node-a", 1000, 2048, NULL, NULL);
	infra_pod(&p, "b1", "node-b", 1000, 2048, NULL, NULL);
	infra_pod(&p, "c1", "node-c", 3000, 12288, NULL, NULL); /* 75%: not a candidate */
	infra_pod_phase(&p, "done", "node-a", 3000, 12288, NULL, NULL, "Succeeded"); /* finished: counts for nothing */
	infra_pod_phase(&p, "new", "node-a", 0, 0, NULL, NULL, "Pending");
	infra_nodes_pods(&n, &p);

	infra_run(kp_rule_underutilized_node);
	const kp_finding *f = infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-a");
	cr_assert_not_null(f);
	cr_assert_str_eq(f->api_version, "v1");
	cr_assert_str_eq(f->kind, "Node");
	cr_assert_null(f->namespace_);
	cr_assert_null(f->container);
	/* a node has no requests of its own: "current" is empty, and "node"
	 * holds what the evidence says (it is priced at its capacity) */
	cr_assert(f->current.replicas < 0);
	cr_assert_eq(f->current.cpu_request_m, KP_UNSET);
	cr_assert_eq(f->current.mem_request_b, KP_UNSET);
	cr_assert(f->has_node);
	cr_assert_eq(f->node.cpu_capacity_m, 4000);
	cr_assert_eq(f->node.cpu_allocatable_m, 4000);
	cr_assert_eq(f->node.cpu_requested_m, 1000, "a1; not the Succeeded pod");
	cr_assert_eq(f->node.mem_capacity_b, 17LL << 30);
	cr_assert_eq(f->node.mem_allocatable_b, 16LL << 30);
	cr_assert_eq(f->node.mem_requested_b, 2LL << 30);
	cr_assert_eq(f->confidence, KP_CONF_MEDIUM);
	cr_assert_eq(f->risk, KP_RISK_HIGH);
	cr_assert_not(f->has_recommended);
	const kp_evidence *cpu = infra_ev(f, "cpu_requested_ratio");
	cr_assert_not_null(cpu);
	cr_assert_float_eq(cpu->value, 0.25, 1e-9);
	cr_assert_float_eq(infra_ev(f, "memory_requested_ratio")->value, 0.125, 1e-9);
	const kp_evidence *mv = infra_ev(f, "pods_to_move");
	cr_assert_eq(mv->value, 2, "a1 and the pending pod; not the Succeeded one");
	cr_assert_str_eq(mv->summary, "2 pods would move to the other nodes: shop/a1 to node-b, shop/new to node-b");
	const kp_evidence *it = infra_ev(f, "instance_type");
	cr_assert_not_null(it);
	cr_assert_not_null(strstr(it->summary, "m5.xlarge"));
	cr_assert_not_null(strstr(it->summary, "spot"));
	/* node-b received a1: it is not removed on the same spare room */
	cr_assert_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-b"));
	cr_assert_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-c"));
	cr_assert_eq(infra_fx.out.items.len, 1);
}

Test(infra_node, node_selector_only_candidate_satisfies_keeps_it, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, ",\"disk\":\"ssd\"", NULL, false, true);
	infra_node(&n, "node-b", 4, 16, ",\"disk\":\"hdd\"", NULL, false, true);
	infra_pod(&p, "a1", "node-a", 500, 512, NULL, ",\"nodeSelector\":{\"disk\":\"ssd\"}");
	infra_pod(&p, "b1", "node-b", 2500, 1024, NULL, NULL); /* 62.5%: b is not a candidate */
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 0);
}

Test(infra_node, node_selector_satisfied_elsewhere_moves, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, ",\"disk\":\"ssd\"", NULL, false, true);
	infra_node(&n, "node-b", 4, 16, ",\"disk\":\"ssd\"", NULL, false, true);
	infra_pod(&p, "a1", "node-a", 500, 512, NULL, ",\"nodeSelector\":{\"disk\":\"ssd\"}");
	infra_pod(&p, "b1", "node-b", 2500, 1024, NULL, NULL);
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_not_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-a"));
}

#define GPU_TAINT "{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}"

Test(infra_node, untolerated_taint_on_only_other_node_keeps_it, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-b", 4, 16, NULL, GPU_TAINT, false, true);
	infra_pod(&p, "a1", "node-a", 500, 512, NULL,
		  ",\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"cpu\",\"effect\":\"NoSchedule\"}]");
	infra_pod(&p, "b1", "node-b", 2500, 1024, NULL, NULL);
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 0);
}

/* Each toleration form that Kubernetes accepts for dedicated=gpu:NoSchedule. */
static void infra_tolerated(const char *tolerations)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-b", 4, 16, NULL, GPU_TAINT ",{\"key\":\"soft\",\"effect\":\"PreferNoSchedule\"}", false,
		   true);
	char extra[300];
	snprintf(extra, sizeof(extra), ",\"tolerations\":[%s]", tolerations);
	infra_pod(&p, "a1", "node-a", 500, 512, NULL, extra);
	infra_pod(&p, "b1", "node-b", 2500, 1024, NULL, NULL);
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_not_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-a"), "not tolerated: %s", tolerations);
}

Test(infra_node, toleration_equal, .fini = infra_fini)
{
	infra_tolerated("{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}");
}

Test(infra_node, toleration_exists_any_value, .fini = infra_fini)
{
	infra_tolerated("{\"key\":\"dedicated\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}");
}

Test(infra_node, toleration_empty_key_exists_tolerates_all, .fini = infra_fini)
{
	infra_tolerated("{\"operator\":\"Exists\"}");
}

Test(infra_node, toleration_empty_effect_matches_all_effects, .fini = infra_fini)
{
	infra_tolerated("{\"key\":\"dedicated\",\"value\":\"gpu\"}"); /* operator defaults to Equal */
}

Test(infra_node, daemonset_and_static_pods_do_not_move, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-b", 4, 16, NULL, NULL, false, true);
	infra_pod(&p, "ds-a", "node-a", 1500, 4096, "DaemonSet", NULL);
	infra_pod(&p, "static-a", "node-a", 300, 256, "Node", NULL);
	infra_pod(&p, "ds-b", "node-b", 1500, 4096, "DaemonSet", NULL);
	infra_pod(&p, "b1", "node-b", 1500, 4096, NULL, NULL); /* b at 75%: 1 CPU free, less than ds-a */
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	const kp_finding *f = infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-a");
	cr_assert_not_null(f);
	const kp_evidence *mv = infra_ev(f, "pods_to_move");
	cr_assert_eq(mv->value, 0);
	cr_assert_not_null(strstr(mv->summary, "1 DaemonSet and 1 static pod"), "%s", mv->summary);
}

Test(infra_node, competing_candidates_share_spare_room_once, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	/* a-spare sorts first and is the only node with room; it fits one of the
	 * two 1.9-CPU pods, not both. x-a and x-b tie on ratio: x-a goes first. */
	infra_node(&n, "a-spare", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "x-a", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "x-b", 4, 16, NULL, NULL, false, true);
	infra_pod(&p, "spare1", "a-spare", 2000, 8192, NULL, NULL); /* exactly 50%: not a candidate */
	infra_pod(&p, "xa1", "x-a", 1900, 1024, NULL, NULL);
	infra_pod(&p, "xb1", "x-b", 1900, 1024, NULL, NULL);
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_not_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "x-a"));
	cr_assert_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "x-b"));
	cr_assert_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "a-spare"));
	cr_assert_str_eq(infra_ev(infra_find(KP_CAT_UNDERUTILIZED_NODE, "x-a"), "pods_to_move")->summary,
			 "1 pod would move to the other nodes: shop/xa1 to a-spare");
}

Test(infra_node, cordoned_node_is_not_a_target, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-b", 4, 16, NULL, NULL, true, true); /* cordoned, empty */
	infra_node(&n, "node-c", 4, 16, NULL, NULL, false, true);
	infra_pod(&p, "a1", "node-a", 1000, 1024, NULL, NULL);
	infra_pod(&p, "c1", "node-c", 3500, 1024, NULL, NULL); /* 87.5%: no room for a1 */
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 0);
}

Test(infra_node, not_ready_node_is_neither_candidate_nor_target, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-b", 4, 16, NULL, NULL, false, false); /* NotReady, empty */
	infra_node(&n, "node-c", 4, 16, NULL, NULL, false, true);
	infra_pod(&p, "a1", "node-a", 1000, 1024, NULL, NULL);
	infra_pod(&p, "c1", "node-c", 3500, 1024, NULL, NULL);
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 0);
}

Test(infra_node, ninety_percent_requested_is_not_a_candidate, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-b", 8, 32, NULL, NULL, false, true);
	infra_pod(&p, "a1", "node-a", 3600, 1024, NULL, NULL); /* CPU 90%, memory 6% */
	infra_pod(&p, "b1", "node-b", 6000, 30000, NULL, NULL);  /* 75% / 92% */
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 0);
}

/* a at 60% CPU, b at 62.5%: neither below the default 0.5; with 0.7 a goes
 * first (lower ratio) and its 2.4 CPU fit in b's 3 free. */
static void infra_threshold_cluster(void)
{
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-b", 8, 32, NULL, NULL, false, true);
	infra_pod(&p, "a1", "node-a", 2400, 1024, NULL, NULL);
	infra_pod(&p, "b1", "node-b", 5000, 8192, NULL, NULL);
	infra_nodes_pods(&n, &p);
}

Test(infra_node, sixty_percent_not_below_default_threshold, .fini = infra_fini)
{
	infra_snapshot();
	infra_threshold_cluster();
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 0);
}

Test(infra_node, threshold_is_configurable, .fini = infra_fini)
{
	infra_snapshot();
	infra_threshold_cluster();
	cr_assert(kp_config_set(&infra_fx.cfg, "nodes.max_requested_ratio=0.7", KP_SRC_FLAG, NULL) == KP_OK);
	infra_run(kp_rule_underutilized_node);
	cr_assert_not_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-a"));
	cr_assert_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-b"), "node-b received a1");
}

Test(infra_node, last_node_never_flagged, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "solo", 4, 16, NULL, NULL, false, true);
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 0);
}

Test(infra_node, min_nodes_keeps_enough, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "n1", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "n2", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "n3", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "n4", 4, 16, NULL, NULL, false, true);
	infra_nodes_pods(&n, &p);
	cr_assert(kp_config_set(&infra_fx.cfg, "nodes.min_nodes=2", KP_SRC_FLAG, NULL) == KP_OK);
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 2);
	cr_assert_not_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "n1"));
	cr_assert_not_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "n2"));
}

Test(infra_node, default_min_nodes_keeps_one, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "n1", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "n2", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "n3", 4, 16, NULL, NULL, false, true);
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 2);
	cr_assert_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "n3"));
}

Test(infra_node, control_plane_never_candidate, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "cp-1", 4, 16, ",\"node-role.kubernetes.io/control-plane\":\"\"", NULL, false, true);
	infra_node(&n, "cp-2", 4, 16, NULL,
		   "{\"key\":\"node-role.kubernetes.io/control-plane\",\"effect\":\"NoSchedule\"}", false, true);
	infra_node(&n, "worker", 4, 16, NULL, NULL, false, true);
	infra_pod(&p, "w1", "worker", 3000, 1024, NULL, NULL);
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 0);
}

Test(infra_node, required_affinity_pins_the_node, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-b", 4, 16, NULL, NULL, false, true);
	infra_pod(&p, "a1", "node-a", 500, 512, NULL,
		  ",\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{"
		  "\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\"]}]}]}}}");
	infra_pod(&p, "b1", "node-b", 2500, 1024, NULL, NULL);
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 0);
}

Test(infra_node, init_container_request_counts_like_the_scheduler, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-b", 4, 16, NULL, NULL, false, true);
	/* init 3 CPU > regular 0.5 + sidecar 0.25: effective 3 CPU (75%) */
	infra_add(&p, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a1\",\"namespace\":\"shop\"},"
		      "\"spec\":{\"nodeName\":\"node-a\",\"initContainers\":[{\"name\":\"side\",\"restartPolicy\":\"Always\","
		      "\"resources\":{\"requests\":{\"cpu\":\"250m\"}}},{\"name\":\"migrate\",\"resources\":{\"requests\":"
		      "{\"cpu\":\"2750m\"}}}],\"containers\":[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"500m\"}}}]},"
		      "\"status\":{\"phase\":\"Running\"}}");
	infra_pod(&p, "b1", "node-b", 3000, 1024, NULL, NULL);
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 0, "init 2750m + sidecar 250m = 3 CPU: a is 75%% requested");
}

Test(infra_node, pods_missing_skips_each_node, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n;
	kp_buf_init(&n);
	infra_node(&n, "node-a", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-b", 4, 16, NULL, NULL, false, true);
	infra_list("nodes", n.data);
	kp_buf_release(&n);
	infra_remove("pods");
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 0);
	cr_assert_not_null(infra_skip("node-a"));
	cr_assert_not_null(strstr(infra_skip("node-b")->reason, "pods not collected"));
}

Test(infra_node, nodes_missing_finds_nothing, .fini = infra_fini)
{
	infra_snapshot();
	infra_remove("nodes");
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 0);
	cr_assert_eq(infra_fx.out.skipped.len, 0);
}

Test(infra_node, ignored_node_skipped, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, ",\"kopilot.io/ignore\":\"true\"", NULL, false, true);
	infra_node(&n, "node-b", 4, 16, NULL, NULL, false, true);
	infra_pod(&p, "b1", "node-b", 3000, 1024, NULL, NULL);
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	cr_assert_eq(infra_fx.out.items.len, 0);
	cr_assert_str_eq(infra_skip("node-a")->reason, "excluded by kopilot.io/ignore=true");
}

Test(infra_node, many_pods_list_five_and_more, .fini = infra_fini)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-b", 16, 64, NULL, NULL, false, true);
	infra_pod(&p, "big-b", "node-b", 9000, 1024, NULL, NULL); /* b not a candidate */
	for (int i = 0; i < 8; i++) {
		char name[16];
		snprintf(name, sizeof(name), "a%d", i);
		infra_pod(&p, name, "node-a", 100 + i * 10, 128, NULL, NULL);
	}
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
	const kp_finding *f = infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-a");
	cr_assert_not_null(f);
	const kp_evidence *mv = infra_ev(f, "pods_to_move");
	cr_assert_eq(mv->value, 8);
	/* largest first: a7 (170m) ... ; 5 named, then "and 3 more" */
	cr_assert(strncmp(mv->summary, "8 pods would move to the other nodes: shop/a7 to node-b", 55) == 0, "%s",
		  mv->summary);
	cr_assert_not_null(strstr(mv->summary, "and 3 more"), "%s", mv->summary);
}

/* The node autoscalers' annotations. infra_node has no annotations of its
 * own: its labels fragment closes the labels and opens them (the fragment
 * lands just before the labels' closing brace). */
#define INFRA_NODE_ANN(k, v) "},\"annotations\":{\"" k "\":\"" v "\""

/* node-a and node-b at 25%, node-c at 75%; node-a annotated with ann. */
static void infra_annotated_nodes(const char *ann)
{
	infra_snapshot();
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, ann, NULL, false, true);
	infra_node(&n, "node-b", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-c", 4, 16, NULL, NULL, false, true);
	infra_pod(&p, "a1", "node-a", 1000, 2048, NULL, NULL);
	infra_pod(&p, "b1", "node-b", 1000, 2048, NULL, NULL);
	infra_pod(&p, "c1", "node-c", 3000, 12288, NULL, NULL);
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
}

Test(infra_node, scale_down_disabled_by_its_operator_is_not_a_finding, .fini = infra_fini)
{
	static const char *const anns[] = {INFRA_NODE_ANN("cluster-autoscaler.kubernetes.io/scale-down-disabled", "true"),
					   INFRA_NODE_ANN("karpenter.sh/do-not-disrupt", "true"),
					   INFRA_NODE_ANN("karpenter.sh/do-not-consolidate", "true")};
	static const char *const said[] = {"scale-down-disabled=true", "do-not-disrupt=true", "do-not-consolidate=true"};
	for (size_t i = 0; i < 3; i++) {
		infra_annotated_nodes(anns[i]);
		cr_assert_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-a"), "case %zu", i);
		const kp_skip *s = infra_skip("node-a");
		cr_assert(s, "case %zu: skipped", i);
		cr_expect(strstr(s->reason, "scale-down disabled by its operator"), "%s", s->reason);
		cr_expect(strstr(s->reason, said[i]), "%s", s->reason);
		/* it still takes the pods of the next candidate */
		const kp_finding *f = infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-b");
		cr_assert(f, "case %zu: node-b goes instead", i);
		cr_expect(strstr(infra_ev(f, "pods_to_move")->summary, "shop/b1 to node-a"), "%s",
			  infra_ev(f, "pods_to_move")->summary);
		infra_fini();
	}
	/* "false" says nothing */
	infra_annotated_nodes(INFRA_NODE_ANN("cluster-autoscaler.kubernetes.io/scale-down-disabled", "false"));
	cr_assert(infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-a"));
}

/* node-a's a1 carries the pod annotation ann (NULL: none), under
 * nodes.not_evictable_pods policy (NULL: the default); node-a also runs
 * a DaemonSet pod marked safe-to-evict=false, which stays with the node
 * (no requests, so node-a stays the first candidate, by name). */
static void infra_pinned_pod(const char *ann, const char *policy)
{
	infra_snapshot();
	if (policy) { /* nodes.not_evictable_pods */
		free(infra_fx.cfg.rules.nodes.not_evictable_pods);
		infra_fx.cfg.rules.nodes.not_evictable_pods = kp_xstrdup(policy);
	}
	kp_buf n, p;
	kp_buf_init(&n);
	kp_buf_init(&p);
	infra_node(&n, "node-a", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-b", 4, 16, NULL, NULL, false, true);
	infra_node(&n, "node-c", 4, 16, NULL, NULL, false, true);
	infra_add(&p,
		  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a1\",\"namespace\":\"shop\",%s%s%s"
		  "\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"owner-a1\",\"controller\":true}]},\"spec\":{"
		  "\"nodeName\":\"node-a\",\"containers\":[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"1000m\","
		  "\"memory\":\"2048Mi\"}}}]},\"status\":{\"phase\":\"Running\"}}",
		  ann ? "\"annotations\":{" : "", ann ? ann : "", ann ? "}," : "");
	infra_add(&p,
		  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"ds-a\",\"namespace\":\"shop\","
		  "\"annotations\":{\"cluster-autoscaler.kubernetes.io/safe-to-evict\":\"false\"},\"ownerReferences\":[{"
		  "\"kind\":\"DaemonSet\",\"name\":\"agent\",\"controller\":true}]},\"spec\":{\"nodeName\":\"node-a\","
		  "\"containers\":[{\"name\":\"app\"}]},"
		  "\"status\":{\"phase\":\"Running\"}}");
	infra_pod(&p, "b1", "node-b", 1000, 2048, NULL, NULL);
	infra_pod(&p, "c1", "node-c", 3000, 12288, NULL, NULL);
	infra_nodes_pods(&n, &p);
	infra_run(kp_rule_underutilized_node);
}

Test(infra_node, a_pod_that_must_not_be_evicted_makes_the_drain_critical, .fini = infra_fini)
{
	static const char *const anns[] = {"\"cluster-autoscaler.kubernetes.io/safe-to-evict\":\"false\"",
					   "\"karpenter.sh/do-not-disrupt\":\"true\"", "\"karpenter.sh/do-not-evict\":\"true\""};
	for (size_t i = 0; i < 3; i++) {
		infra_pinned_pod(anns[i], NULL);
		const kp_finding *f = infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-a");
		cr_assert(f, "case %zu: still a finding", i);
		cr_expect_eq(f->risk, KP_RISK_CRITICAL, "case %zu", i);
		cr_expect_eq(f->confidence, KP_CONF_LOW, "case %zu", i);
		const kp_evidence *e = infra_ev(f, "pods_not_evictable");
		cr_assert(e, "case %zu", i);
		cr_expect_eq(e->value, 1, "a1 only: the DaemonSet pod stays with the node");
		cr_expect(strstr(e->summary, "shop/a1"), "%s", e->summary);
		cr_expect(strstr(e->summary, "never a routine step"), "%s", e->summary);
		infra_fini();
	}
	/* stricter: nodes.not_evictable_pods skip, no finding at all */
	infra_pinned_pod(anns[0], "skip");
	cr_expect_null(infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-a"));
	const kp_skip *s = infra_skip("node-a");
	cr_expect(s && strstr(s->reason, "nodes.not_evictable_pods is skip"), "%s", s ? s->reason : "no skip");
	infra_fini();
	/* safe-to-evict=true, or none: the usual high-risk review */
	infra_pinned_pod("\"cluster-autoscaler.kubernetes.io/safe-to-evict\":\"true\"", NULL);
	const kp_finding *f = infra_find(KP_CAT_UNDERUTILIZED_NODE, "node-a");
	cr_assert(f);
	cr_expect_eq(f->risk, KP_RISK_HIGH);
	cr_expect_null(infra_ev(f, "pods_not_evictable"));
}
