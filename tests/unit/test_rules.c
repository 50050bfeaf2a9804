/*
 * test_rules.c - the analyzers on small hand-built snapshots: each rule's
 * positive case, its thresholds, and the known false positives it must not
 * produce (kor: StatefulSet at zero, CronJob PVCs, fresh PVCs, failed lists;
 * KRR: memory below peak, short history).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/config.h"
#include "pipeline/money.h"
#include "stages/analyze/analyze.h"
#include "stages/recommend/recommend.h"
#include "stages/collect/snapshot.h"
#include "tests/unit/fixture.h"

#define NOW "2026-11-25T06:00:00Z"
#define OLD "2026-09-01T00:00:00Z"

/* The shared fixture (fixture.h) under this file's names. */
static kp_fixture rules_fx;

static void rules_empty_snapshot(void) { fx_init(&rules_fx, "rules", "manual"); }
static void rules_list(const char *res, const char *items) { fx_list(&rules_fx, res, items); }
static void rules_usage(const char *entries) { fx_usage(&rules_fx, entries); }
static void rules_run(void) { fx_run(&rules_fx, NOW, NULL); }
static void rules_fini(void) { fx_fini(&rules_fx); }
static const kp_finding *rules_find(kp_category cat, const char *name) { return fx_find(&rules_fx, cat, name); }
static bool rules_skipped(const char *name) { return fx_skip(&rules_fx, name) != NULL; }

/* A Deployment with one container "app" and one live pod through a ReplicaSet. */
static void rules_deployment(const char *name, const char *cpu, const char *mem, const char *mem_limit, int replicas)
{
	kp_buf d, rs, pod;
	kp_buf_init(&d);
	kp_buf_init(&rs);
	kp_buf_init(&pod);
	char limits[128] = "";
	if (mem_limit)
		snprintf(limits, sizeof(limits), ",\"limits\":{\"memory\":\"%s\"}", mem_limit);
	kp_buf_printf(&d,
		      "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\","
		      "\"creationTimestamp\":\"" OLD "\"},\"spec\":{\"replicas\":%d,\"template\":{\"spec\":{\"containers\":[{\"name\":"
		      "\"app\",\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"%s\"}%s}}]}}}}",
		      name, replicas, cpu, mem, limits);
	kp_buf_printf(&rs,
		      "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"%s-abc123\",\"namespace\":"
		      "\"shop\",\"ownerReferences\":[{\"kind\":\"Deployment\",\"name\":\"%s\",\"controller\":true}]},\"spec\":{"
		      "\"replicas\":%d,\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\"}]}}}}",
		      name, name, replicas);
	kp_buf_printf(&pod,
		      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s-abc123-x1\",\"namespace\":\"shop\","
		      "\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"%s-abc123\",\"controller\":true}]},\"spec\":{"
		      "\"containers\":[{\"name\":\"app\"}]},\"status\":{\"phase\":\"Running\"}}",
		      name, name);
	rules_list("deployments", d.data);
	rules_list("replicasets", rs.data);
	rules_list("pods", pod.data);
	kp_buf_release(&d);
	kp_buf_release(&rs);
	kp_buf_release(&pod);
}

static char *rules_entry(const char *pod, double p95, double mem_max, int oom, const char *first)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_printf(&b,
		      "{\"namespace\":\"shop\",\"pod\":\"%s\",\"container\":\"app\",\"first_seen\":\"%s\",\"last_seen\":"
		      "\"2026-11-25T06:00:00Z\",\"samples\":20160,\"cpu_millicores\":{\"p50\":%g,\"p95\":%g,\"p99\":%g,\"max\":%g},"
		      "\"memory_bytes\":{\"p50\":%g,\"max\":%g},\"oom_kills\":%d,\"restarts\":%d}",
		      pod, first, p95 / 2, p95, p95 * 1.1, p95 * 1.3, mem_max / 2, mem_max, oom, oom);
	return kp_buf_detach(&b);
}

#define MI (1024.0 * 1024.0)

Test(rules, over_provisioned_memory_never_below_peak, .fini = rules_fini)
{
	rules_empty_snapshot();
	rules_deployment("api", "2", "4Gi", NULL, 3);
	char *e = rules_entry("api-abc123-x1", 150, 700 * MI, 0, "2026-11-11T06:00:00Z");
	rules_usage(e);
	free(e);
	rules_run();
	const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "api");
	cr_assert(f, "expected an over-provisioned finding");
	cr_assert_str_eq(f->container, "app");
	cr_assert_eq(f->current.cpu_request_m, 2000);
	cr_assert_eq(f->recommended.cpu_request_m, 175); /* 150 x 1.15 = 172.5 -> 175 */
	cr_assert_geq(f->recommended.mem_request_b, (int64_t)(700 * MI));
	cr_assert_eq(f->recommended.mem_request_b, (int64_t)(840 * MI)); /* 700Mi x 1.2 */
	cr_assert_eq(f->current.replicas, 3);
	cr_assert_eq(f->confidence, KP_CONF_HIGH);
}

Test(rules, replaced_pods_count_through_gone_replicaset, .fini = rules_fini)
{
	rules_empty_snapshot();
	rules_deployment("api", "2", "4Gi", NULL, 1);
	/* A pod of an old ReplicaSet that no longer exists peaked at 3Gi: the
	 * recommendation must respect it. */
	char *a = rules_entry("api-abc123-x1", 150, 700 * MI, 0, "2026-11-11T06:00:00Z");
	char *b = rules_entry("api-old999-zz", 150, 3072 * MI, 0, "2026-11-11T06:00:00Z");
	kp_buf u;
	kp_buf_init(&u);
	kp_buf_printf(&u, "%s,%.*s,\"owner\":{\"kind\":\"ReplicaSet\",\"name\":\"api-old999\"}}", a, (int)strlen(b) - 1, b);
	rules_usage(u.data);
	free(a);
	free(b);
	kp_buf_release(&u);
	rules_run();
	const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "api");
	cr_assert(f);
	cr_assert_geq(f->recommended.mem_request_b, (int64_t)(3072 * MI));
}

Test(rules, small_change_not_reported, .fini = rules_fini)
{
	rules_empty_snapshot();
	/* p95 180m -> target 210m vs request 250m: 16% less, under the 20% bar. */
	rules_deployment("web", "250m", "256Mi", NULL, 2);
	char *e = rules_entry("web-abc123-x1", 180, 200 * MI, 0, "2026-11-11T06:00:00Z");
	rules_usage(e);
	free(e);
	rules_run();
	cr_assert_null(rules_find(KP_CAT_OVER_PROVISIONED, "web"));
	cr_assert_null(rules_find(KP_CAT_UNDER_PROVISIONED, "web"));
}

Test(rules, tiny_savings_not_reported, .fini = rules_fini)
{
	rules_empty_snapshot();
	/* 100m -> 20m is 80% less but saves ~$1.85 a month for one replica at
	 * default prices; raise the bar to $5 and it must disappear. */
	rules_deployment("tiny", "100m", "64Mi", NULL, 1);
	char *e = rules_entry("tiny-abc123-x1", 10, 30 * MI, 0, "2026-11-11T06:00:00Z");
	rules_usage(e);
	free(e);
	kp_error err;
	rules_run();
	kp_finding *f = (kp_finding *)rules_find(KP_CAT_OVER_PROVISIONED, "tiny");
	cr_assert(f);
	/* the bar is judged where money is decided, at the finding's price */
	kp_recommend_finding(&rules_fx.cfg, f);
	cr_assert_not(kp_money_below_threshold(&rules_fx.cfg, f), "%g", f->monthly_savings);
	cr_assert_eq(kp_config_set(&rules_fx.cfg, "rightsizing.min_monthly_savings=5", KP_SRC_FLAG, &err), KP_OK);
	cr_assert(kp_money_below_threshold(&rules_fx.cfg, f), "%g", f->monthly_savings);
}

Test(rules, oom_kill_is_under_provisioned_and_bumped_from_limit, .fini = rules_fini)
{
	rules_empty_snapshot();
	rules_deployment("es", "500m", "1Gi", "1Gi", 1);
	char *e = rules_entry("es-abc123-x1", 400, 1000 * MI, 2, "2026-11-11T06:00:00Z");
	rules_usage(e);
	free(e);
	rules_run();
	const kp_finding *f = rules_find(KP_CAT_UNDER_PROVISIONED, "es");
	cr_assert(f);
	/* max(1Gi x 1.2, 1000Mi + 100Mi) = 1229Mi (rounded up) */
	cr_assert_geq(f->recommended.mem_request_b, (int64_t)(1.2 * 1024 * MI));
	cr_assert_geq(f->recommended.mem_limit_b, f->recommended.mem_request_b);
}

Test(rules, short_history_is_skipped_not_guessed, .fini = rules_fini)
{
	rules_empty_snapshot();
	rules_deployment("fresh", "2", "4Gi", NULL, 1);
	char *e = rules_entry("fresh-abc123-x1", 50, 100 * MI, 0, "2026-11-24T20:00:00Z"); /* 10 hours */
	rules_usage(e);
	free(e);
	rules_run();
	cr_assert_null(rules_find(KP_CAT_OVER_PROVISIONED, "fresh"));
	cr_assert(rules_skipped("fresh"));
}

Test(rules, no_usage_is_skipped_not_idle, .fini = rules_fini)
{
	rules_empty_snapshot();
	rules_deployment("dark", "2", "4Gi", NULL, 1);
	rules_run();
	cr_assert_eq(rules_fx.out.items.len, 0);
	cr_assert(rules_skipped("dark"));
}

Test(rules, hpa_raises_risk_and_says_so, .fini = rules_fini)
{
	rules_empty_snapshot();
	rules_deployment("api", "2", "4Gi", NULL, 3);
	rules_list("horizontalpodautoscalers",
		   "{\"apiVersion\":\"autoscaling/v2\",\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":{\"name\":\"api\","
		   "\"namespace\":\"shop\"},\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"api\"},"
		   "\"minReplicas\":2,\"maxReplicas\":10,\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\","
		   "\"target\":{\"type\":\"Utilization\",\"averageUtilization\":70}}}]},\"status\":{\"currentReplicas\":5}}");
	/* Two pods ran the whole window and a third one half of it: 2.5
	 * replicas on average, though the HPA says 5 right now. */
	char *a = rules_entry("api-abc123-x1", 150, 700 * MI, 0, "2026-11-11T06:00:00Z");
	char *b = rules_entry("api-abc123-x2", 150, 700 * MI, 0, "2026-11-11T06:00:00Z");
	char *c = rules_entry("api-abc123-x3", 150, 700 * MI, 0, "2026-11-18T06:00:00Z");
	kp_buf u;
	kp_buf_init(&u);
	/* x2 and x3 are gone: their usage names the ReplicaSet */
	kp_buf_printf(&u, "%s,%.*s,\"owner\":{\"kind\":\"ReplicaSet\",\"name\":\"api-abc123\"}},%.*s,\"owner\":{\"kind\":"
		      "\"ReplicaSet\",\"name\":\"api-abc123\"}}",
		      a, (int)strlen(b) - 1, b, (int)strlen(c) - 1, c);
	rules_usage(u.data);
	free(a);
	free(b);
	free(c);
	kp_buf_release(&u);
	rules_run();
	const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "api");
	cr_assert(f);
	cr_assert_geq(f->risk, KP_RISK_MEDIUM);
	cr_assert_float_eq(f->current.replicas, 2.5, 1e-3, "an HPA target is paid for at its average replica count");
	bool said = false;
	for (size_t i = 0; i < f->nevidence; i++)
		said |= strstr(f->evidence[i].summary, "HPA") != NULL;
	cr_assert(said);
}

/* ---- orphaned PVCs ---- */

static char *rules_pvc(const char *name, const char *created)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_printf(&b,
		      "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"%s\",\"namespace\":"
		      "\"shop\",\"creationTimestamp\":\"%s\"},\"spec\":{\"resources\":{\"requests\":{\"storage\":\"10Gi\"}},"
		      "\"volumeName\":\"pv-%s\"},\"status\":{\"phase\":\"Bound\",\"capacity\":{\"storage\":\"10Gi\"}}}",
		      name, created, name);
	return kp_buf_detach(&b);
}

Test(rules, orphaned_pvc_found_and_not_orphan_cases_spared, .fini = rules_fini)
{
	rules_empty_snapshot();
	const char *names[] = {"scratch", "data-db-0", "data-db-2", "reports", "fresh", "mounted", "parked"};
	const char *created[] = {OLD, OLD, OLD, OLD, "2026-11-23T06:00:00Z", OLD, OLD};
	kp_buf all;
	kp_buf_init(&all);
	for (size_t i = 0; i < 7; i++) {
		char *p = rules_pvc(names[i], created[i]);
		kp_buf_printf(&all, "%s%s", i ? "," : "", p);
		free(p);
	}
	rules_list("persistentvolumeclaims", all.data);
	kp_buf_release(&all);
	/* StatefulSet db scaled to zero: data-db-N are its claims. */
	rules_list("statefulsets",
		   "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"db\",\"namespace\":\"shop\"},"
		   "\"spec\":{\"replicas\":0,\"template\":{\"spec\":{\"containers\":[{\"name\":\"db\"}]}},"
		   "\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\"}}]}}");
	/* CronJob that mounts "reports" when it runs. */
	rules_list("cronjobs",
		   "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"nightly\",\"namespace\":\"shop\"},"
		   "\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"r\"}],\"volumes\":"
		   "[{\"name\":\"out\",\"persistentVolumeClaim\":{\"claimName\":\"reports\"}}]}}}}}}");
	/* Deployment at zero that would mount "parked". */
	rules_list("deployments",
		   "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"old\",\"namespace\":\"shop\"},"
		   "\"spec\":{\"replicas\":0,\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"}],\"volumes\":"
		   "[{\"name\":\"v\",\"persistentVolumeClaim\":{\"claimName\":\"parked\"}}]}}}}");
	rules_list("pods",
		   "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\"},\"spec\":{"
		   "\"containers\":[{\"name\":\"a\"}],\"volumes\":[{\"name\":\"v\",\"persistentVolumeClaim\":{\"claimName\":"
		   "\"mounted\"}}]},\"status\":{\"phase\":\"Running\"}}");
	rules_run();
	cr_assert(rules_find(KP_CAT_ORPHANED_PVC, "scratch"), "an old unreferenced claim is an orphan");
	cr_assert_null(rules_find(KP_CAT_ORPHANED_PVC, "data-db-0"), "StatefulSet at zero keeps its claims");
	cr_assert_null(rules_find(KP_CAT_ORPHANED_PVC, "data-db-2"), "any ordinal belongs to the StatefulSet");
	cr_assert_null(rules_find(KP_CAT_ORPHANED_PVC, "reports"), "CronJob claims are not orphans");
	cr_assert_null(rules_find(KP_CAT_ORPHANED_PVC, "fresh"), "inside the grace period");
	cr_assert_null(rules_find(KP_CAT_ORPHANED_PVC, "mounted"), "mounted by a pod");
	cr_assert_null(rules_find(KP_CAT_ORPHANED_PVC, "parked"), "referenced by a Deployment at zero");
	cr_assert_eq(rules_fx.out.items.len, 1);
	const kp_finding *f = rules_find(KP_CAT_ORPHANED_PVC, "scratch");
	cr_assert_eq(f->current.storage_b, 10LL << 30);
	cr_assert_null(f->container);
}

Test(rules, failed_pod_list_never_means_unused, .fini = rules_fini)
{
	rules_empty_snapshot();
	char *p = rules_pvc("scratch", OLD);
	rules_list("persistentvolumeclaims", p);
	free(p);
	fx_remove(&rules_fx, "objects/pods.json");
	rules_run();
	cr_assert_eq(rules_fx.out.items.len, 0);
	cr_assert(rules_skipped("scratch"));
	cr_assert_eq(rules_fx.cluster.collected[KP_RES_PODS], false);
	cr_assert_geq(rules_fx.cluster.missing.len, 1);
}

Test(rules, ignore_annotation_excludes, .fini = rules_fini)
{
	rules_empty_snapshot();
	rules_list("persistentvolumeclaims",
		   "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"keep\",\"namespace\":"
		   "\"shop\",\"creationTimestamp\":\"" OLD "\",\"annotations\":{\"kopilot.io/ignore\":\"true\"}},\"spec\":{},"
		   "\"status\":{\"phase\":\"Bound\",\"capacity\":{\"storage\":\"1Gi\"}}}");
	rules_run();
	cr_assert_eq(rules_fx.out.items.len, 0);
	cr_assert(rules_skipped("keep"));
}

/* ---- tuning, batch work, sidecars ---- */

Test(rules, annotation_overrides_percentile_and_bad_value_skips, .fini = rules_fini)
{
	rules_empty_snapshot();
	rules_deployment("api", "2", "4Gi", NULL, 1);
	rules_list("namespaces",
		   "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\",\"annotations\":"
		   "{\"kopilot.io/cpu-percentile\":\"100\"}}}");
	char *e = rules_entry("api-abc123-x1", 150, 700 * MI, 0, "2026-11-11T06:00:00Z");
	rules_usage(e);
	free(e);
	rules_run();
	const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "api");
	cr_assert(f);
	/* max = p95 x 1.3 = 195m -> x 1.15 = 224.25 -> 225m */
	cr_assert_eq(f->recommended.cpu_request_m, 225);
	bool named = false;
	for (size_t i = 0; i < f->nevidence; i++)
		named |= strstr(f->evidence[i].summary, "cpu-percentile=100 on Namespace") != NULL;
	cr_assert(named, "the evidence names the annotation");

	fx_unload(&rules_fx);
	rules_list("namespaces",
		   "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\",\"annotations\":"
		   "{\"kopilot.io/cpu-margin\":\"lots\"}}}");
	rules_run();
	cr_assert_null(rules_find(KP_CAT_OVER_PROVISIONED, "api"));
	cr_assert(rules_skipped("api"), "a bad annotation skips the workload, it does not silently use defaults");
}

Test(rules, cronjob_judged_over_its_runs_and_weighted_by_runtime, .fini = rules_fini)
{
	rules_empty_snapshot();
	rules_list("cronjobs",
		   "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"report\",\"namespace\":\"shop\"},"
		   "\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\",\"resources\":"
		   "{\"requests\":{\"cpu\":\"4\",\"memory\":\"8Gi\"}}}]}}}}}}");
	/* Three nightly runs of 2.4 hours each (jobs already deleted), so the
	 * pods ran 3 x 2.4h / 336h = 2.14% of the window. */
	kp_buf u;
	kp_buf_init(&u);
	for (int i = 0; i < 3; i++)
		kp_buf_printf(&u,
			      "%s{\"namespace\":\"shop\",\"pod\":\"report-2950%d-ab\",\"container\":\"app\",\"owner\":{\"kind\":"
			      "\"Job\",\"name\":\"report-2950%d\"},\"first_seen\":\"2026-11-2%dT01:00:00Z\",\"last_seen\":"
			      "\"2026-11-2%dT03:24:00Z\",\"samples\":144,\"cpu_millicores\":{\"p50\":200,\"p95\":400,\"p99\":500,"
			      "\"max\":600},\"memory_bytes\":{\"p50\":1e9,\"max\":2e9}}",
			      i ? "," : "", i, i, i + 1, i + 1);
	rules_usage(u.data);
	kp_buf_release(&u);
	rules_run();
	const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "report");
	cr_assert(f, "a CronJob whose runs use a tenth of their requests is over-provisioned");
	cr_assert_str_eq(f->kind, "CronJob");
	cr_assert_float_eq(f->current.replicas, 3 * 2.4 / 336.0, 1e-3);
	cr_assert_geq(f->recommended.mem_request_b, 2000000000LL);
}

Test(rules, native_sidecar_is_sized_like_a_container, .fini = rules_fini)
{
	rules_empty_snapshot();
	rules_list("deployments",
		   "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"api\",\"namespace\":\"shop\","
		   "\"creationTimestamp\":\"" OLD "\"},\"spec\":{\"replicas\":4,\"template\":{\"spec\":{\"initContainers\":[{"
		   "\"name\":\"proxy\",\"restartPolicy\":\"Always\",\"resources\":{\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}],"
		   "\"containers\":[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}}}]}}}}");
	rules_list("pods",
		   "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"api-1\",\"namespace\":\"shop\","
		   "\"ownerReferences\":[{\"kind\":\"Deployment\",\"name\":\"api\",\"controller\":true}]},\"spec\":{"
		   "\"containers\":[{\"name\":\"app\"}]},\"status\":{\"phase\":\"Running\"}}");
	rules_usage("{\"namespace\":\"shop\",\"pod\":\"api-1\",\"container\":\"proxy\",\"first_seen\":\"2026-11-11T06:00:00Z\","
		    "\"last_seen\":\"2026-11-25T06:00:00Z\",\"samples\":20160,\"cpu_millicores\":{\"p50\":20,\"p95\":40,\"p99\":50,"
		    "\"max\":60},\"memory_bytes\":{\"p50\":6e7,\"max\":8e7}},"
		    "{\"namespace\":\"shop\",\"pod\":\"api-1\",\"container\":\"app\",\"first_seen\":\"2026-11-11T06:00:00Z\","
		    "\"last_seen\":\"2026-11-25T06:00:00Z\",\"samples\":20160,\"cpu_millicores\":{\"p50\":60,\"p95\":80,\"p99\":85,"
		    "\"max\":90},\"memory_bytes\":{\"p50\":9e7,\"max\":1e8}}");
	rules_run();
	const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "api");
	cr_assert(f);
	cr_assert_str_eq(f->container, "proxy");
	cr_assert_eq(f->recommended.cpu_request_m, 50); /* 40m x 1.15 = 46 -> 50m */
}

Test(rules, scope_patterns_are_anchored_and_filter_findings, .fini = rules_fini)
{
	rules_empty_snapshot();
	char *p = rules_pvc("scratch", OLD);
	rules_list("persistentvolumeclaims", p);
	free(p);
	rules_run();
	cr_assert_eq(rules_fx.out.items.len, 1);
	kp_error err;
	cr_assert_eq(kp_config_set(&rules_fx.cfg, "scope.exclude_namespaces=[\"sho\"]", KP_SRC_FLAG, &err), KP_OK, "%s", err.msg);
	cr_assert_not(kp_scope_excludes(&rules_fx.cfg, "shop", "PersistentVolumeClaim"), "anchored: sho is not shop");
	cr_assert_eq(kp_config_set(&rules_fx.cfg, "scope.exclude_namespaces=[\"sh.*\"]", KP_SRC_FLAG, &err), KP_OK, "%s", err.msg);
	int64_t now;
	kp_time_parse(NOW, &now);
	kp_analyze_ctx ctx = {.cluster = &rules_fx.cluster, .cfg = &rules_fx.cfg, .now = now, .out = &rules_fx.out};
	kp_scope_apply(&ctx);
	cr_assert_eq(rules_fx.out.items.len, 0);
	cr_assert_eq(rules_fx.out.excluded_by_scope, 1);
	cr_assert_neq(kp_config_set(&rules_fx.cfg, "scope.exclude_kinds=[\"(\"]", KP_SRC_FLAG, &err), KP_OK);
	cr_assert(strstr(err.msg, "invalid pattern"), "%s", err.msg);
	cr_assert_eq(kp_config_set(&rules_fx.cfg, "scope.include_namespaces=[\"prod\"]", KP_SRC_FLAG, &err), KP_OK);
	cr_assert(kp_scope_excludes(&rules_fx.cfg, "shop", "Deployment"));
	cr_assert_not(kp_scope_excludes(&rules_fx.cfg, NULL, "Node"), "cluster-scoped kinds stay unless excluded");
}

Test(rules, load_balancer_of_zero_replica_workload_is_priced_once, .fini = rules_fini)
{
	rules_empty_snapshot();
	rules_list("deployments",
		   "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"shop-web\",\"namespace\":\"shop\","
		   "\"creationTimestamp\":\"" OLD "\"},\"spec\":{\"replicas\":0,\"template\":{\"metadata\":{\"labels\":{\"app\":"
		   "\"shop-web\"}},\"spec\":{\"containers\":[{\"name\":\"web\"}]}}}}");
	rules_list("services",
		   "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"shop-web\",\"namespace\":\"shop\","
		   "\"creationTimestamp\":\"" OLD "\"},\"spec\":{\"type\":\"LoadBalancer\",\"selector\":{\"app\":\"shop-web\"}}}");
	rules_run();
	const kp_finding *z = rules_find(KP_CAT_ZERO_REPLICA_WORKLOAD, "shop-web");
	cr_assert(z, "a Deployment at zero holding a load balancer");
	cr_assert_eq(z->load_balancers, 1);
	cr_assert_null(rules_find(KP_CAT_IDLE_LOADBALANCER, "shop-web"), "the same load balancer is not priced twice");
}

Test(rules, argo_rollout_is_rightsized_through_its_replicasets, .fini = rules_fini)
{
	rules_empty_snapshot();
	rules_list("rollouts",
		   "{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Rollout\",\"metadata\":{\"name\":\"checkout\",\"namespace\":"
		   "\"shop\",\"creationTimestamp\":\"" OLD "\"},\"spec\":{\"replicas\":3,\"template\":{\"spec\":{\"containers\":[{"
		   "\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"2\",\"memory\":\"4Gi\"}}}]}}}}");
	rules_list("replicasets",
		   "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"checkout-6d4b\",\"namespace\":"
		   "\"shop\",\"ownerReferences\":[{\"kind\":\"Rollout\",\"name\":\"checkout\",\"controller\":true}]},\"spec\":{"
		   "\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\"}]}}}}");
	rules_list("pods",
		   "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"checkout-6d4b-x1\",\"namespace\":\"shop\","
		   "\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"checkout-6d4b\",\"controller\":true}]},\"spec\":{"
		   "\"containers\":[{\"name\":\"app\"}]},\"status\":{\"phase\":\"Running\"}}");
	char *e = rules_entry("checkout-6d4b-x1", 150, 700 * MI, 0, "2026-11-11T06:00:00Z");
	rules_usage(e);
	free(e);
	rules_run();
	const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "checkout");
	cr_assert(f, "a Rollout is sized like a Deployment when the CRD exists");
	cr_assert_str_eq(f->kind, "Rollout");
	cr_assert_str_eq(f->api_version, "argoproj.io/v1alpha1");
	cr_assert(rules_fx.cluster.collected[KP_RES_ROLLOUTS]);
}

Test(rules, ephemeral_volume_claims_and_clone_sources_are_not_orphans, .fini = rules_fini)
{
	rules_empty_snapshot();
	char *a = rules_pvc("web-1-scratch", OLD);
	char *b = rules_pvc("golden", OLD);
	kp_buf all;
	kp_buf_init(&all);
	kp_buf_printf(&all,
		      "%s,%s,{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"clone\","
		      "\"namespace\":\"shop\",\"creationTimestamp\":\"2026-11-24T06:00:00Z\"},\"spec\":{\"dataSource\":{\"kind\":"
		      "\"PersistentVolumeClaim\",\"name\":\"golden\"}},\"status\":{\"phase\":\"Pending\"}}",
		      a, b);
	rules_list("persistentvolumeclaims", all.data);
	kp_buf_release(&all);
	free(a);
	free(b);
	rules_list("pods",
		   "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\"},\"spec\":{"
		   "\"containers\":[{\"name\":\"a\"}],\"volumes\":[{\"name\":\"scratch\",\"ephemeral\":{\"volumeClaimTemplate\":"
		   "{\"spec\":{}}}}]},\"status\":{\"phase\":\"Running\"}}");
	rules_run();
	cr_assert_null(rules_find(KP_CAT_ORPHANED_PVC, "web-1-scratch"), "a live pod's generic ephemeral volume");
	cr_assert_null(rules_find(KP_CAT_ORPHANED_PVC, "golden"), "the source of a clone in progress");
}

/* A Deployment "name" (1Gi request, limit lim) with one pod whose container
 * status is status (JSON, or "" for none). */
static void rules_deployment_status(const char *name, const char *lim, const char *pod_lim, const char *status)
{
	kp_buf d, rs, pod;
	kp_buf_init(&d), kp_buf_init(&rs), kp_buf_init(&pod);
	kp_buf_printf(&d,
		      "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\","
		      "\"creationTimestamp\":\"" OLD "\"},\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":[{"
		      "\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"2\",\"memory\":\"2Gi\"},\"limits\":{"
		      "\"memory\":\"%s\"}}}]}}}}",
		      name, lim);
	kp_buf_printf(&rs,
		      "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"%s-abc123\",\"namespace\":"
		      "\"shop\",\"ownerReferences\":[{\"kind\":\"Deployment\",\"name\":\"%s\",\"controller\":true}]},\"spec\":{"
		      "\"replicas\":1,\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\"}]}}}}",
		      name, name);
	kp_buf_printf(&pod,
		      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s-abc123-x1\",\"namespace\":\"shop\","
		      "\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"%s-abc123\",\"controller\":true}]},\"spec\":{"
		      "\"containers\":[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"2\",\"memory\":\"2Gi\"},"
		      "\"limits\":{\"memory\":\"%s\"}}}]},\"status\":{\"phase\":\"Running\"%s%s}}",
		      name, name, pod_lim, *status ? ",\"containerStatuses\":" : "", status);
	rules_list("deployments", d.data);
	rules_list("replicasets", rs.data);
	rules_list("pods", pod.data);
	kp_buf_release(&d), kp_buf_release(&rs), kp_buf_release(&pod);
}

static void rules_oom_case(const char *lim, const char *pod_lim, const char *reason, const char *finished)
{
	rules_empty_snapshot();
	char st[512];
	snprintf(st, sizeof(st),
		 "[{\"name\":\"app\",\"restartCount\":3,\"lastState\":{\"terminated\":{\"reason\":\"%s\",\"exitCode\":137,"
		 "\"finishedAt\":\"%s\"}},\"state\":{\"running\":{}}}]",
		 reason, finished);
	rules_deployment_status("api", lim, pod_lim, st);
	/* the window's peak is low: 300Mi of a 2Gi request */
	char *e = rules_entry("api-abc123-x1", 150, 300 * MI, 0, "2026-11-11T06:00:00Z");
	rules_usage(e);
	free(e);
	rules_run();
}

Test(rules, oom_kill_in_pod_status_at_the_current_limit_holds_memory, .fini = rules_fini)
{
	/* OOM-killed at 2Gi, the limit it still has, before the window: memory
	 * is not lowered; CPU still is, and the evidence says why */
	rules_oom_case("2Gi", "2Gi", "OOMKilled", "2026-11-01T03:00:00Z");
	const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "api");
	cr_assert(f, "CPU is still over-provisioned");
	cr_expect_eq(f->recommended.mem_request_b, f->current.mem_request_b, "memory is held");
	cr_expect_lt(f->recommended.cpu_request_m, f->current.cpu_request_m);
	bool said = false;
	for (size_t i = 0; i < f->nevidence; i++)
		said = said || (!strcmp(f->evidence[i].metric, "oom_killed_at_limit") &&
				strstr(f->evidence[i].summary, "pod api-abc123-x1 was OOM-killed at its current memory limit 2Gi"));
	cr_expect(said, "the evidence names the pod and the limit");
}

Test(rules, a_crash_or_an_oom_at_another_limit_or_long_ago_does_not_hold_memory, .fini = rules_fini)
{
	static const char *const cases[][4] = {
		{"2Gi", "2Gi", "Error", "2026-11-20T03:00:00Z"},	     /* not memory */
		{"2Gi", "1Gi", "OOMKilled", "2026-11-20T03:00:00Z"},  /* at 1Gi: raised since */
		{"2Gi", "2Gi", "OOMKilled", "2026-06-01T03:00:00Z"},  /* older than oom_history_days */
	};
	for (size_t i = 0; i < 3; i++) {
		rules_oom_case(cases[i][0], cases[i][1], cases[i][2], cases[i][3]);
		const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "api");
		cr_assert(f, "case %zu", i);
		cr_expect_lt(f->recommended.mem_request_b, f->current.mem_request_b, "case %zu: memory lowered", i);
		rules_fini();
	}
}

/* ------------------------------------------------------------------ */
/* Other owners of the requests: VerticalPodAutoscalers, operators      */

/* Deployment api (2 CPU, 4Gi) with usage p95 150m, peak 700Mi (kopilot
 * alone: 175m, 840Mi), and one VPA whose spec (JSON members after
 * targetRef) and status are given; target is "Deployment\",\"name\":\"api". */
static void rules_vpa_case(const char *vpa_ns, const char *target, const char *spec, const char *status)
{
	rules_empty_snapshot();
	rules_deployment("api", "2", "4Gi", NULL, 1);
	char *e = rules_entry("api-abc123-x1", 150, 700 * MI, 0, "2026-11-11T06:00:00Z");
	rules_usage(e);
	free(e);
	char *v = kp_xasprintf("{\"apiVersion\":\"autoscaling.k8s.io/v1\",\"kind\":\"VerticalPodAutoscaler\",\"metadata\":{"
			       "\"name\":\"api-vpa\",\"namespace\":\"%s\"},\"spec\":{\"targetRef\":{\"apiVersion\":"
			       "\"apps/v1\",\"kind\":\"%s\"}%s%s},\"status\":{%s}}",
			       vpa_ns, target, *spec ? "," : "", spec, status);
	rules_list("verticalpodautoscalers", v);
	free(v);
	rules_run();
}

#define VPA_REC                                                                                               \
	"\"recommendation\":{\"containerRecommendations\":[{\"containerName\":\"app\",\"lowerBound\":{\"cpu\":"  \
	"\"120m\",\"memory\":\"600Mi\"},\"target\":{\"cpu\":\"200m\",\"memory\":\"1Gi\"},\"upperBound\":{\"cpu\":" \
	"\"1\",\"memory\":\"3Gi\"}}]}"

Test(rules, updating_vpa_owns_the_requests_and_says_what_it_does, .fini = rules_fini)
{
	static const char *const modes[] = {"", ",\"updatePolicy\":{\"updateMode\":\"Auto\"}",
					    ",\"updatePolicy\":{\"updateMode\":\"Initial\"}",
					    ",\"updatePolicy\":{\"updateMode\":\"InPlaceOrRecreate\"}"};
	static const char *const names[] = {"Auto", "Auto", "Initial", "InPlaceOrRecreate"};
	for (size_t i = 0; i < 4; i++) {
		/* the mode's members go after targetRef: skip the leading comma */
		rules_vpa_case("shop", "Deployment\",\"name\":\"api", *modes[i] ? modes[i] + 1 : "", VPA_REC);
		cr_assert_null(rules_find(KP_CAT_OVER_PROVISIONED, "api"), "mode %s: nothing proposed", names[i]);
		const kp_skip *s = fx_skip(&rules_fx, "api");
		cr_assert(s, "mode %s: skipped with the reason", names[i]);
		char want[128];
		snprintf(want, sizeof(want), "set by VerticalPodAutoscaler api-vpa (updateMode %s)", names[i]);
		cr_expect(strstr(s->reason, want), "%s", s->reason);
		cr_expect(strstr(s->reason, "its CPU and memory requests are"), "%s", s->reason);
		cr_expect(strstr(s->reason, "now 200m CPU and 1Gi memory"), "the VPA's target: %s", s->reason);
		rules_fini();
	}
	/* no recommendation yet: still its to set */
	rules_vpa_case("shop", "Deployment\",\"name\":\"api", "", "");
	const kp_skip *s = fx_skip(&rules_fx, "api");
	cr_assert(s && strstr(s->reason, "no recommendation for this container yet"), "%s", s ? s->reason : "");
}

Test(rules, vpa_controlling_cpu_only_leaves_memory_to_kopilot, .fini = rules_fini)
{
	rules_vpa_case("shop", "Deployment\",\"name\":\"api",
		       "\"resourcePolicy\":{\"containerPolicies\":[{\"containerName\":\"app\",\"controlledResources\":"
		       "[\"cpu\"]}]}",
		       VPA_REC);
	const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "api");
	cr_assert(f);
	cr_expect_eq(f->recommended.cpu_request_m, f->current.cpu_request_m, "CPU is the VPA's");
	cr_expect_eq(f->recommended.mem_request_b, (int64_t)(840 * MI));
	const kp_evidence *e = fx_ev(f, "vpa_owner");
	cr_assert(e);
	cr_expect(strstr(e->summary, "sets this container's CPU request and limit"), "%s", e->summary);
}

Test(rules, container_policy_off_and_the_specific_entry_beats_the_star, .fini = rules_fini)
{
	/* "*" says Auto, the container's own entry says Off: not the VPA's */
	rules_vpa_case("shop", "Deployment\",\"name\":\"api",
		       "\"resourcePolicy\":{\"containerPolicies\":[{\"containerName\":\"*\",\"mode\":\"Auto\"},"
		       "{\"containerName\":\"app\",\"mode\":\"Off\"}]}",
		       "");
	const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "api");
	cr_assert(f, "sized by kopilot");
	cr_expect_eq(f->recommended.cpu_request_m, 175);
	cr_expect_null(fx_ev(f, "vpa_owner"));
	rules_fini();
	/* and the other way round */
	rules_vpa_case("shop", "Deployment\",\"name\":\"api",
		       "\"resourcePolicy\":{\"containerPolicies\":[{\"containerName\":\"*\",\"mode\":\"Off\"},"
		       "{\"containerName\":\"app\",\"mode\":\"Auto\"}]}",
		       "");
	cr_assert_null(rules_find(KP_CAT_OVER_PROVISIONED, "api"));
	cr_assert(fx_skip(&rules_fx, "api"));
}

Test(rules, recommendation_only_vpa_is_input_never_gone_below, .fini = rules_fini)
{
	rules_vpa_case("shop", "Deployment\",\"name\":\"api", "\"updatePolicy\":{\"updateMode\":\"Off\"}", VPA_REC);
	const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "api");
	cr_assert(f, "judged as usual");
	cr_expect_eq(f->recommended.cpu_request_m, 175, "kopilot's own 175m is above the VPA's 120m lower bound");
	cr_expect_eq(f->recommended.mem_request_b, (int64_t)(840 * MI), "840Mi is above 600Mi");
	const kp_evidence *e = fx_ev(f, "vpa_recommendation");
	cr_assert(e);
	cr_expect(strstr(e->summary, "only recommends (updateMode Off)"), "%s", e->summary);
	cr_expect(strstr(e->summary, "target 200m CPU and 1Gi memory"), "%s", e->summary);
	rules_fini();
	/* a lower bound above kopilot's own target is the floor */
	rules_vpa_case("shop", "Deployment\",\"name\":\"api", "\"updatePolicy\":{\"updateMode\":\"Off\"}",
		       "\"recommendation\":{\"containerRecommendations\":[{\"containerName\":\"app\",\"lowerBound\":{"
		       "\"cpu\":\"301m\",\"memory\":\"1000000k\"},\"target\":{\"cpu\":\"400m\",\"memory\":\"1500Mi\"}}]}");
	f = rules_find(KP_CAT_OVER_PROVISIONED, "api");
	cr_assert(f);
	cr_expect_eq(f->recommended.cpu_request_m, 305, "301m rounded up to 5m");
	cr_expect_eq(f->recommended.mem_request_b, (int64_t)(954 * MI), "1e9 bytes rounded up to a MiB");
	cr_expect(strstr(fx_ev(f, "vpa_recommendation")->summary, "never goes below its lower bound"));
	rules_fini();
	/* stricter: rightsizing.vpa_floor target (200m, 1Gi) */
	rules_empty_snapshot();
	free(rules_fx.cfg.rules.rightsizing.vpa_floor);
	rules_fx.cfg.rules.rightsizing.vpa_floor = kp_xstrdup("target");
	rules_deployment("api", "2", "4Gi", NULL, 1);
	char *entry = rules_entry("api-abc123-x1", 150, 700 * MI, 0, "2026-11-11T06:00:00Z");
	rules_usage(entry);
	free(entry);
	rules_list("verticalpodautoscalers",
		   "{\"apiVersion\":\"autoscaling.k8s.io/v1\",\"kind\":\"VerticalPodAutoscaler\",\"metadata\":{\"name\":"
		   "\"api-vpa\",\"namespace\":\"shop\"},\"spec\":{\"targetRef\":{\"kind\":\"Deployment\",\"name\":\"api\"},"
		   "\"updatePolicy\":{\"updateMode\":\"Off\"}},\"status\":{" VPA_REC "}}");
	rules_run();
	f = rules_find(KP_CAT_OVER_PROVISIONED, "api");
	cr_assert(f);
	cr_expect_eq(f->recommended.cpu_request_m, 200);
	cr_expect_eq(f->recommended.mem_request_b, (int64_t)(1024 * MI));
	cr_expect(strstr(fx_ev(f, "vpa_recommendation")->summary, "never goes below its target (rightsizing.vpa_floor)"));
}

Test(rules, vpa_of_another_namespace_does_nothing, .fini = rules_fini)
{
	rules_vpa_case("other", "Deployment\",\"name\":\"api", "", VPA_REC);
	const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "api");
	cr_assert(f);
	cr_expect_eq(f->recommended.cpu_request_m, 175);
	cr_expect_null(fx_ev(f, "vpa_owner"));
	cr_expect_null(fx_ev(f, "vpa_recommendation"));
}

/* StatefulSet db (2 CPU, 4Gi) whose controller is `owner` (JSON
 * ownerReference members, or NULL), with one pod and low usage. */
static void rules_operator_case(const char *owner, const char *vpa)
{
	rules_empty_snapshot();
	char *sts = kp_xasprintf(
		"{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"db\",\"namespace\":\"shop\","
		"\"creationTimestamp\":\"" OLD "\"%s%s%s},\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":[{"
		"\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"2\",\"memory\":\"4Gi\"}}}]}}}}",
		owner ? ",\"ownerReferences\":[{" : "", owner ? owner : "", owner ? "}]" : "");
	rules_list("statefulsets", sts);
	free(sts);
	rules_list("pods", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"db-0\",\"namespace\":\"shop\","
			   "\"ownerReferences\":[{\"kind\":\"StatefulSet\",\"name\":\"db\",\"controller\":true}]},"
			   "\"spec\":{\"containers\":[{\"name\":\"app\"}]},\"status\":{\"phase\":\"Running\"}}");
	if (vpa)
		rules_list("verticalpodautoscalers", vpa);
	char *e = rules_entry("db-0", 150, 700 * MI, 0, "2026-11-11T06:00:00Z");
	rules_usage(e);
	free(e);
	rules_run();
}

#define PROM_OWNER "\"apiVersion\":\"monitoring.coreos.com/v1\",\"kind\":\"Prometheus\",\"name\":\"k8s\""

Test(rules, operator_managed_workload_is_sized_but_changed_in_its_resource, .fini = rules_fini)
{
	rules_operator_case(PROM_OWNER ",\"controller\":true", NULL);
	const kp_finding *f = rules_find(KP_CAT_OVER_PROVISIONED, "db");
	cr_assert(f);
	cr_expect_eq(f->recommended.cpu_request_m, 175);
	cr_assert_str_eq(f->managed_by_kind, "Prometheus");
	cr_assert_str_eq(f->managed_by_name, "k8s");
	const kp_evidence *e = fx_ev(f, "requests_owner");
	cr_assert(e);
	cr_expect(strstr(e->summary, "StatefulSet db is managed by Prometheus k8s"), "%s", e->summary);
	/* the recommend stage: no command (kubectl set resources would be reverted) */
	kp_finding *mf = (kp_finding *)f;
	kp_recommend_finding(&rules_fx.cfg, mf);
	cr_expect_null(mf->action.command);
	cr_expect(strstr(mf->explanation, "written by Prometheus k8s"), "%s", mf->explanation);
	rules_fini();
	/* an owner that is not the controller manages nothing */
	rules_operator_case(PROM_OWNER ",\"controller\":false", NULL);
	f = rules_find(KP_CAT_OVER_PROVISIONED, "db");
	cr_assert(f);
	cr_expect_null(f->managed_by_kind);
	cr_expect_null(fx_ev(f, "requests_owner"));
}

Test(rules, vpa_on_the_operators_resource_owns_its_workload, .fini = rules_fini)
{
	rules_operator_case(PROM_OWNER ",\"controller\":true",
			    "{\"apiVersion\":\"autoscaling.k8s.io/v1\",\"kind\":\"VerticalPodAutoscaler\",\"metadata\":{"
			    "\"name\":\"prom\",\"namespace\":\"shop\"},\"spec\":{\"targetRef\":{\"apiVersion\":"
			    "\"monitoring.coreos.com/v1\",\"kind\":\"Prometheus\",\"name\":\"k8s\"}}}");
	cr_assert_null(rules_find(KP_CAT_OVER_PROVISIONED, "db"));
	const kp_skip *s = fx_skip(&rules_fx, "db");
	cr_assert(s);
	cr_expect(strstr(s->reason, "set by VerticalPodAutoscaler prom (through its target Prometheus k8s) (updateMode "
				    "Auto)"),
		  "%s", s->reason);
}

Test(rules, bad_vpa_update_mode_names_the_field, .fini = rules_fini)
{
	rules_empty_snapshot();
	rules_list("verticalpodautoscalers",
		   "{\"apiVersion\":\"autoscaling.k8s.io/v1\",\"kind\":\"VerticalPodAutoscaler\",\"metadata\":{\"name\":"
		   "\"v\",\"namespace\":\"shop\"},\"spec\":{\"targetRef\":{\"kind\":\"Deployment\",\"name\":\"api\"},"
		   "\"updatePolicy\":{\"updateMode\":\"Sometimes\"}}}");
	kp_error err = {0};
	kp_cluster c;
	kp_cluster_init(&c);
	cr_assert_neq(kp_snapshot_load(&c, rules_fx.dir, &err), KP_OK);
	cr_expect(strstr(err.msg, "verticalpodautoscalers.json"), "%s", err.msg);
	cr_expect(strstr(err.msg, "spec.updatePolicy.updateMode"), "%s", err.msg);
	cr_expect(strstr(err.msg, "\"Sometimes\" is not a VPA update mode"), "%s", err.msg);
	kp_cluster_release(&c);
}
