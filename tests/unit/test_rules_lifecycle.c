/*
 * test_rules_lifecycle.c - the idle-workload, zero-replica-workload and
 * finished-job rules on small hand-built snapshots: each positive case, the
 * threshold edges, and the false positives they must not produce (kor:
 * CronJob-owned Jobs, fresh Jobs, failed lists; idle: short history, spiky
 * usage, restarts, workloads that were never measured).
 *
 * Each test writes a snapshot directory under /tmp, loads it with
 * kp_snapshot_load and runs the whole analyze stage, so the interplay with
 * rightsizing (idle workloads are not also resized) is covered too.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/config.h"
#include "stages/analyze/analyze.h"
#include "stages/collect/snapshot.h"
#include "stages/recommend/recommend.h"
#include "tests/unit/fixture.h"

#define LC_NOW "2026-11-25T06:00:00Z"
#define LC_OLD "2026-09-01T00:00:00Z"
#define LC_MI (1024.0 * 1024.0)
#define LC_GI (1024.0 * 1024.0 * 1024.0)

/* The shared fixture (fixture.h) under this file's names. */
static kp_fixture lc_fx;

static char lc_time[16][32];
static int lc_ntime;

/* RFC 3339 time `days` before LC_NOW (a few static slots, reused in turn). */
static const char *lc_ago(double days)
{
	int64_t now;
	kp_time_parse(LC_NOW, &now);
	char *out = lc_time[lc_ntime++ % 16];
	kp_time_format(now - (int64_t)llround(days * 86400.0), out);
	return out;
}

static void lc_remove(const char *rel) { fx_remove(&lc_fx, rel); }

static void lc_list(const char *res, const char *items) { fx_list(&lc_fx, res, items); }

static void lc_usage(const char *entries) { fx_usage(&lc_fx, entries); }

static void lc_snapshot(void) { fx_init(&lc_fx, "lifecycle", "prometheus"); }

static void lc_set(const char *assignment)
{
	kp_error err = {0};
	cr_assert_eq(kp_config_set(&lc_fx.cfg, assignment, KP_SRC_FLAG, &err), KP_OK, "%s", err.msg);
}

static void lc_run(void) { fx_run(&lc_fx, LC_NOW, NULL); }

static void lc_fini(void) { fx_fini(&lc_fx); }

static const kp_finding *lc_find(kp_category cat, const char *name) { return fx_find(&lc_fx, cat, name); }

static size_t lc_count(kp_category cat)
{
	size_t n = 0;
	for (size_t i = 0; i < lc_fx.out.items.len; i++)
		n += lc_fx.out.items.items[i].category == cat;
	return n;
}

/* Number of skip entries for `name`; with `needle`, only reasons containing it. */
static size_t lc_skips(const char *name, const char *needle)
{
	size_t n = 0;
	for (size_t i = 0; i < lc_fx.out.skipped.len; i++) {
		const kp_skip *s = &lc_fx.out.skipped.items[i];
		if (strcmp(s->name, name) == 0 && (!needle || strstr(s->reason, needle)))
			n++;
	}
	return n;
}

static const kp_evidence *lc_ev(const kp_finding *f, const char *metric) { return fx_ev(f, metric); }

/* ------------------------------------------------------------------ */
/* idle-workload                                                        */

/* A Deployment "name" in shop (app container 500m/1Gi, a native sidecar
 * 100m/128Mi and a one-shot init container 1/1Gi), with its ReplicaSet
 * name-rs1; pods are only in usage.json (resolved through `owner`). */
static char *lc_deploy_json(const char *name, int replicas, const char *created)
{
	return kp_xasprintf(
		"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\","
		"\"creationTimestamp\":\"%s\"},\"spec\":{\"replicas\":%d,\"template\":{\"metadata\":{\"labels\":{\"app\":"
		"\"%s\"}},\"spec\":{\"initContainers\":[{\"name\":\"migrate\",\"resources\":{\"requests\":{\"cpu\":\"1\","
		"\"memory\":\"1Gi\"}}},{\"name\":\"proxy\",\"restartPolicy\":\"Always\",\"resources\":{\"requests\":{\"cpu\":"
		"\"100m\",\"memory\":\"128Mi\"}}}],\"containers\":[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":"
		"\"500m\",\"memory\":\"1Gi\"}}}]}}}}",
		name, created, replicas, name);
}

static char *lc_rs_json(const char *name)
{
	return kp_xasprintf("{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"%s-rs1\","
			    "\"namespace\":\"shop\",\"ownerReferences\":[{\"kind\":\"Deployment\",\"name\":\"%s\","
			    "\"controller\":true}]},\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":[{"
			    "\"name\":\"app\"}]}}}}",
			    name, name);
}

/* One container entry; restarts < 0 leaves restarts and oom_kills out (unknown). */
static char *lc_entry(const char *pod, const char *owner_rs, const char *container, double p95, double max,
		      double mem_p50, double mem_max, int restarts, int oom, const char *first)
{
	char counters[96] = "";
	if (restarts >= 0)
		snprintf(counters, sizeof(counters), ",\"oom_kills\":%d,\"restarts\":%d", oom, restarts);
	return kp_xasprintf("{\"namespace\":\"shop\",\"pod\":\"%s\",\"container\":\"%s\",\"owner\":{\"kind\":"
			    "\"ReplicaSet\",\"name\":\"%s\"},\"first_seen\":\"%s\",\"last_seen\":\"" LC_NOW "\","
			    "\"samples\":20160,\"cpu_millicores\":{\"p50\":%g,\"p95\":%g,\"p99\":%g,\"max\":%g},"
			    "\"memory_bytes\":{\"p50\":%.0f,\"max\":%.0f}%s}",
			    pod, container, owner_rs, first, p95 / 2, p95, p95, max, mem_p50, mem_max, counters);
}

typedef struct {
	double p95, max, mem_p50, mem_max;
	int restarts, oom;
	double history_days;
	double age_days;
	int replicas;
} lc_idle_case;

static lc_idle_case lc_quiet(void)
{
	return (lc_idle_case){.p95 = 2, .max = 10, .mem_p50 = 100 * LC_MI, .mem_max = 105 * LC_MI, .restarts = 0,
			      .oom = 0, .history_days = 14, .age_days = 90, .replicas = 2};
}

/* Deployment "idle-api" with two pods (app + proxy entries each), the second
 * pod using `k`; the first pod is quieter. */
static void lc_idle_setup(const lc_idle_case *k)
{
	lc_snapshot();
	char *d = lc_deploy_json("idle-api", k->replicas, lc_ago(k->age_days));
	char *rs = lc_rs_json("idle-api");
	lc_list("deployments", d);
	lc_list("replicasets", rs);
	free(d);
	free(rs);
	const char *first = lc_ago(k->history_days);
	char *e[4];
	e[0] = lc_entry("idle-api-rs1-a", "idle-api-rs1", "app", 1, 3, k->mem_p50 + LC_MI, k->mem_p50 + 2 * LC_MI, 0, 0,
			first);
	e[1] = lc_entry("idle-api-rs1-a", "idle-api-rs1", "proxy", 1, 2, k->mem_p50, k->mem_p50 + LC_MI, 0, 0, first);
	e[2] = lc_entry("idle-api-rs1-b", "idle-api-rs1", "app", k->p95, k->max, k->mem_p50, k->mem_max, k->restarts,
			k->oom, lc_ago(k->history_days / 2));
	e[3] = lc_entry("idle-api-rs1-b", "idle-api-rs1", "proxy", 1, 2, k->mem_p50, k->mem_p50 + LC_MI, 0, 0, first);
	char *all = kp_xasprintf("%s,%s,%s,%s", e[0], e[1], e[2], e[3]);
	lc_usage(all);
	free(all);
	for (int i = 0; i < 4; i++)
		free(e[i]);
}

Test(lifecycle_idle, quiet_deployment_is_idle_and_not_resized, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	lc_idle_setup(&k);
	lc_run();
	const kp_finding *f = lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api");
	cr_assert(f, "expected an idle-workload finding");
	cr_assert_str_eq(f->kind, "Deployment");
	cr_assert_str_eq(f->api_version, "apps/v1");
	cr_assert_str_eq(f->namespace_, "shop");
	cr_assert_null(f->container);
	cr_assert_eq(f->current.replicas, 2);
	/* app + native sidecar; the one-shot init container holds nothing */
	cr_assert_eq(f->current.cpu_request_m, 600);
	cr_assert_eq(f->current.mem_request_b, (int64_t)(1024 * LC_MI + 128 * LC_MI));
	cr_assert_eq(f->current.cpu_limit_m, KP_UNSET);
	cr_assert_eq(f->current.storage_b, KP_UNSET);
	cr_assert_not(f->has_recommended);
	cr_assert_eq(f->confidence, KP_CONF_HIGH);
	cr_assert_eq(f->risk, KP_RISK_MEDIUM);
	const kp_evidence *e = lc_ev(f, "cpu_max_millicores");
	cr_assert(e && e->has_value);
	cr_assert_float_eq(e->value, 10, 1e-9);
	e = lc_ev(f, "memory_max_bytes");
	cr_assert(e && e->has_value);
	cr_assert_float_eq(e->value, 105 * LC_MI, 1);
	e = lc_ev(f, "window_days");
	cr_assert(e && e->has_value);
	cr_assert_float_eq(e->value, 14 + 60.0 / 86400.0, 1e-6);
	e = lc_ev(f, "restarts");
	cr_assert(e && e->has_value && e->value == 0);
	/* rightsizing leaves it alone: 500m for a 2m container would otherwise be resized */
	cr_assert_null(lc_find(KP_CAT_OVER_PROVISIONED, "idle-api"));
	cr_assert_eq(lc_skips("idle-api", NULL), 0);

	/* priced on the requests of all its replicas; scale-down needs approval */
	kp_recommend_finding(&lc_fx.cfg, &lc_fx.out.items.items[f - lc_fx.out.items.items]);
	cr_assert_gt(f->monthly_cost, 0);
	cr_assert_float_eq(f->monthly_savings, f->monthly_cost, 1e-9);
	cr_assert_eq(f->action.type, KP_ACT_SCALE_DOWN);
}

Test(lifecycle_idle, under_fourteen_days_is_medium_confidence, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.history_days = 10;
	lc_idle_setup(&k);
	lc_run();
	const kp_finding *f = lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api");
	cr_assert(f);
	cr_assert_eq(f->confidence, KP_CONF_MEDIUM);
	cr_assert_eq(f->risk, KP_RISK_MEDIUM);
}

Test(lifecycle_idle, full_window_is_high_confidence, .fini = lc_fini)
{
	/* 14 days of 60 s samples: first..last spans one step less than 14
	 * days, but the samples cover all 14 */
	lc_idle_case k = lc_quiet();
	k.history_days = (14.0 * 86400.0 - 60.0) / 86400.0;
	lc_idle_setup(&k);
	lc_run();
	const kp_finding *f = lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api");
	cr_assert(f);
	cr_assert_eq(f->confidence, KP_CONF_HIGH);
	cr_assert_float_eq(lc_ev(f, "window_days")->value, 14, 1e-9);
}

Test(lifecycle_idle, history_exactly_the_minimum_counts, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.history_days = 7;
	lc_idle_setup(&k);
	lc_run();
	cr_assert(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"));
}

Test(lifecycle_idle, short_history_is_skipped_not_idle, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.history_days = 5;
	lc_idle_setup(&k);
	lc_run();
	cr_assert_null(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"));
	cr_assert_eq(lc_skips("idle-api", "idle-workload"), 1);
	cr_assert_eq(lc_skips("idle-api", "5.0 days"), 1);
}

Test(lifecycle_idle, young_workload_is_skipped_not_idle, .fini = lc_fini)
{
	/* 8 days of usage history (older pods of a re-created Deployment) but the
	 * Deployment itself is 6 days old */
	lc_idle_case k = lc_quiet();
	k.history_days = 8;
	k.age_days = 6;
	lc_idle_setup(&k);
	lc_run();
	cr_assert_null(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"));
	cr_assert_eq(lc_skips("idle-api", "too young"), 1);
}

Test(lifecycle_idle, spiky_cpu_is_not_idle, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.max = 400; /* a nightly burst: it does something */
	lc_idle_setup(&k);
	lc_run();
	cr_assert_null(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"));
	cr_assert_eq(lc_skips("idle-api", "idle-workload"), 0);
	/* not idle, so rightsizing judges it as usual */
	cr_assert(lc_find(KP_CAT_OVER_PROVISIONED, "idle-api"));
}

Test(lifecycle_idle, cpu_thresholds_are_inclusive, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.p95 = 5;
	k.max = 25;
	lc_idle_setup(&k);
	lc_run();
	cr_assert(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"));
}

Test(lifecycle_idle, cpu_p95_above_threshold_is_not_idle, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.p95 = 5.5;
	lc_idle_setup(&k);
	lc_run();
	cr_assert_null(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"));
}

Test(lifecycle_idle, cpu_max_above_threshold_is_not_idle, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.max = 25.5;
	lc_idle_setup(&k);
	lc_run();
	cr_assert_null(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"));
}

Test(lifecycle_idle, memory_variation_edge, .fini = lc_fini)
{
	/* lowest median across pods is mem_p50 (proxy of pod a); spread = max - that */
	lc_idle_case k = lc_quiet();
	k.mem_max = k.mem_p50 + 16 * LC_MI;
	lc_idle_setup(&k);
	lc_run();
	cr_assert(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"), "a spread of exactly 16Mi is flat");
}

Test(lifecycle_idle, memory_growth_is_not_idle, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.mem_max = k.mem_p50 + 17 * LC_MI;
	lc_idle_setup(&k);
	lc_run();
	cr_assert_null(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"));
}

Test(lifecycle_idle, memory_variation_is_configurable_as_quantity, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.mem_max = k.mem_p50 + 40 * LC_MI;
	lc_idle_setup(&k);
	lc_set("idle.memory_variation_bytes=64Mi");
	lc_run();
	cr_assert(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"));
}

Test(lifecycle_idle, cpu_threshold_is_configurable, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.p95 = 8;
	lc_idle_setup(&k);
	lc_set("idle.cpu_millicores=10");
	lc_set("idle.min_history_days=3");
	lc_run();
	cr_assert(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"));
}

Test(lifecycle_idle, restarts_are_not_idle, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.restarts = 1; /* crash-looping is broken, not idle */
	lc_idle_setup(&k);
	lc_run();
	cr_assert_null(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"));
	cr_assert_eq(lc_skips("idle-api", "idle-workload"), 0);
}

Test(lifecycle_idle, oom_kills_are_not_idle, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.oom = 1;
	lc_idle_setup(&k);
	lc_run();
	cr_assert_null(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"));
}

Test(lifecycle_idle, unknown_restarts_are_skipped, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.restarts = -1;
	lc_idle_setup(&k);
	lc_run();
	cr_assert_null(lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api"));
	cr_assert_eq(lc_skips("idle-api", "unknown"), 1);
}

Test(lifecycle_idle, no_usage_is_never_idle_and_skipped_once, .fini = lc_fini)
{
	lc_snapshot();
	char *d = lc_deploy_json("geoip", 1, LC_OLD);
	lc_list("deployments", d);
	free(d);
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_IDLE_WORKLOAD), 0);
	cr_assert_eq(lc_skips("geoip", NULL), 1, "rightsizing's skip only, not a second one");
	cr_assert_eq(lc_skips("geoip", "not idle"), 1);
}

Test(lifecycle_idle, usage_missing_is_never_idle, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	lc_idle_setup(&k);
	lc_remove("usage.json");
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_IDLE_WORKLOAD), 0);
	cr_assert_eq(lc_skips("idle-api", NULL), 1);
	cr_assert_eq(lc_skips("idle-api", "usage not measured"), 1);
}

Test(lifecycle_idle, ignored_workload_is_skipped_once, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	lc_idle_setup(&k);
	char *d = kp_xasprintf(
		"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"idle-api\",\"namespace\":"
		"\"shop\",\"creationTimestamp\":\"" LC_OLD "\",\"labels\":{\"kopilot.io/ignore\":\"true\"}},\"spec\":{"
		"\"replicas\":2,\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\",\"resources\":{\"requests\":{"
		"\"cpu\":\"500m\"}}}]}}}}");
	lc_list("deployments", d);
	free(d);
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_IDLE_WORKLOAD), 0);
	cr_assert_eq(lc_skips("idle-api", NULL), 1);
	cr_assert_eq(lc_skips("idle-api", "excluded by kopilot.io/ignore=true"), 1);
}

Test(lifecycle_idle, ignored_namespace_is_not_idle, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	lc_idle_setup(&k);
	lc_list("namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\","
			      "\"labels\":{\"kopilot.io/ignore\":\"true\"}}}");
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_IDLE_WORKLOAD), 0);
	cr_assert_eq(lc_skips("idle-api", "excluded by kopilot.io/ignore=true"), 1);
}

Test(lifecycle_idle, hpa_target_is_judged_with_hpa_replicas, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	lc_idle_setup(&k);
	lc_list("horizontalpodautoscalers",
		"{\"apiVersion\":\"autoscaling/v2\",\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":{\"name\":\"idle-api\","
		"\"namespace\":\"shop\"},\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"idle-api\"},"
		"\"minReplicas\":3,\"maxReplicas\":10,\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\","
		"\"target\":{\"type\":\"Utilization\",\"averageUtilization\":70}}}]},\"status\":{\"currentReplicas\":3}}");
	lc_run();
	const kp_finding *f = lc_find(KP_CAT_IDLE_WORKLOAD, "idle-api");
	cr_assert(f);
	cr_assert_eq(f->current.replicas, 3);
	cr_assert(lc_ev(f, "hpa"));
}

Test(lifecycle_idle, zero_replicas_is_not_idle, .fini = lc_fini)
{
	lc_idle_case k = lc_quiet();
	k.replicas = 0;
	lc_idle_setup(&k);
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_IDLE_WORKLOAD), 0);
}

Test(lifecycle_idle, idle_daemonset_and_statefulset, .fini = lc_fini)
{
	lc_snapshot();
	lc_list("daemonsets",
		"{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"agent\",\"namespace\":\"shop\","
		"\"creationTimestamp\":\"" LC_OLD "\"},\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\","
		"\"resources\":{\"requests\":{\"cpu\":\"50m\",\"memory\":\"64Mi\"}}}]}}},\"status\":{"
		"\"desiredNumberScheduled\":4,\"numberReady\":4}}");
	lc_list("statefulsets",
		"{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"standby\",\"namespace\":"
		"\"shop\",\"creationTimestamp\":\"" LC_OLD "\"},\"spec\":{\"replicas\":1,\"template\":{\"spec\":{"
		"\"containers\":[{\"name\":\"app\"}]}}}}");
	char *a = kp_xasprintf("{\"namespace\":\"shop\",\"pod\":\"agent-x\",\"container\":\"app\",\"owner\":{\"kind\":"
			       "\"DaemonSet\",\"name\":\"agent\"},\"first_seen\":\"2026-11-11T06:00:00Z\",\"last_seen\":"
			       "\"" LC_NOW "\",\"samples\":20160,\"cpu_millicores\":{\"p50\":1,\"p95\":1,\"p99\":1,"
			       "\"max\":2},\"memory_bytes\":{\"p50\":10000000,\"max\":11000000},\"oom_kills\":0,"
			       "\"restarts\":0}");
	char *b = kp_xasprintf("{\"namespace\":\"shop\",\"pod\":\"standby-0\",\"container\":\"app\",\"owner\":{\"kind\":"
			       "\"StatefulSet\",\"name\":\"standby\"},\"first_seen\":\"2026-11-11T06:00:00Z\","
			       "\"last_seen\":\"" LC_NOW "\",\"samples\":20160,\"cpu_millicores\":{\"p50\":1,\"p95\":1,"
			       "\"p99\":1,\"max\":2},\"memory_bytes\":{\"p50\":10000000,\"max\":11000000},"
			       "\"oom_kills\":0,\"restarts\":0}");
	char *all = kp_xasprintf("%s,%s", a, b);
	lc_usage(all);
	free(a);
	free(b);
	free(all);
	lc_run();
	const kp_finding *f = lc_find(KP_CAT_IDLE_WORKLOAD, "agent");
	cr_assert(f);
	cr_assert_str_eq(f->kind, "DaemonSet");
	cr_assert_eq(f->current.replicas, 4);
	cr_assert_eq(f->current.cpu_request_m, 50);
	/* no requests at all: idle but it reserves nothing, so it costs
	 * nothing at any price: not reported */
	cr_assert_null(lc_find(KP_CAT_IDLE_WORKLOAD, "standby"));
}

/* ------------------------------------------------------------------ */
/* zero-replica-workload                                                */

static char *lc_pvc(const char *ns, const char *name, const char *size, const char *phase)
{
	return kp_xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"%s\","
			    "\"namespace\":\"%s\",\"creationTimestamp\":\"" LC_OLD "\"},\"spec\":{\"resources\":{"
			    "\"requests\":{\"storage\":\"%s\"}}},\"status\":{\"phase\":\"%s\",\"capacity\":{"
			    "\"storage\":\"%s\"}}}",
			    name, ns, size, phase, size);
}

static char *lc_svc(const char *ns, const char *name, const char *type, const char *selector)
{
	return kp_xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"%s\",\"namespace\":"
			    "\"%s\"},\"spec\":{\"type\":\"%s\",\"selector\":%s},\"status\":{\"loadBalancer\":{}}}",
			    name, ns, type, selector);
}

/* StatefulSet "es" in shop with claim template "data", at `replicas`. */
static char *lc_sts(const char *name, int replicas, const char *created)
{
	return kp_xasprintf("{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"%s\","
			    "\"namespace\":\"shop\",\"creationTimestamp\":\"%s\"},\"spec\":{\"replicas\":%d,"
			    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"%s\"}},\"spec\":{\"containers\":[{"
			    "\"name\":\"es\",\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"}]}]}},"
			    "\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\"}}]}}",
			    name, created, replicas, name);
}

/* Deployment in shop with labels app=<name>,tier=fe and a volume naming `claim` (or none). */
static char *lc_deploy_claim(const char *name, int replicas, const char *created, const char *claim)
{
	char vol[256] = "";
	if (claim)
		snprintf(vol, sizeof(vol), ",\"volumes\":[{\"name\":\"v\",\"persistentVolumeClaim\":{\"claimName\":\"%s\"}}]",
			 claim);
	return kp_xasprintf("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"%s\","
			    "\"namespace\":\"shop\",\"creationTimestamp\":\"%s\"},\"spec\":{\"replicas\":%d,"
			    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"%s\",\"tier\":\"fe\"}},\"spec\":{"
			    "\"containers\":[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":"
			    "\"512Mi\"}}}]%s}}}}",
			    name, created, replicas, name, vol);
}

static void lc_es_setup(int replicas, const char *created)
{
	lc_snapshot();
	char *s = lc_sts("es", replicas, created);
	lc_list("statefulsets", s);
	free(s);
	char *p[7] = {
		lc_pvc("shop", "data-es-0", "10Gi", "Bound"),	 lc_pvc("shop", "data-es-1", "10Gi", "Bound"),
		lc_pvc("shop", "data-es-2", "10Gi", "Bound"),	 lc_pvc("shop", "data-es-x", "5Gi", "Bound"),
		lc_pvc("shop", "data-esx-0", "5Gi", "Bound"),	 lc_pvc("other", "data-es-3", "5Gi", "Bound"),
		lc_pvc("shop", "data-es-4", "5Gi", "Pending"),
	};
	char *all = kp_xasprintf("%s,%s,%s,%s,%s,%s,%s", p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
	lc_list("persistentvolumeclaims", all);
	free(all);
	for (int i = 0; i < 7; i++)
		free(p[i]);
}

Test(lifecycle_zero, statefulset_at_zero_holding_claims, .fini = lc_fini)
{
	lc_es_setup(0, LC_OLD);
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_ZERO_REPLICA_WORKLOAD), 1);
	const kp_finding *f = lc_find(KP_CAT_ZERO_REPLICA_WORKLOAD, "es");
	cr_assert(f);
	cr_assert_str_eq(f->kind, "StatefulSet");
	cr_assert_str_eq(f->api_version, "apps/v1");
	cr_assert_null(f->container);
	cr_assert_eq(f->current.replicas, 0);
	/* data-es-0..2 only: not data-es-x, data-esx-0, another namespace or a Pending claim */
	cr_assert_eq(f->current.storage_b, (int64_t)(30 * LC_GI));
	cr_assert_eq(f->current.cpu_request_m, KP_UNSET);
	cr_assert_eq(f->load_balancers, 0);
	cr_assert_eq(f->confidence, KP_CONF_HIGH);
	cr_assert_eq(f->risk, KP_RISK_LOW);
	const kp_evidence *e = lc_ev(f, "storage_bytes");
	cr_assert(e && e->has_value);
	cr_assert_float_eq(e->value, 30 * LC_GI, 1);
	cr_assert(strstr(e->summary, "data-es-0 (10Gi)") && strstr(e->summary, "data-es-2"), "%s", e->summary);
	cr_assert_null(strstr(e->summary, "data-es-x"));
	cr_assert_null(lc_ev(f, "load_balancers"));
	/* the claims are the StatefulSet's, not orphans */
	cr_assert_null(lc_find(KP_CAT_ORPHANED_PVC, "data-es-0"));

	kp_recommend_finding(&lc_fx.cfg, &lc_fx.out.items.items[f - lc_fx.out.items.items]);
	cr_assert_float_eq(f->monthly_cost, 30 * 0.04, 1e-9);
	cr_assert_eq(f->action.type, KP_ACT_REVIEW);
}

Test(lifecycle_zero, running_statefulset_is_not_flagged, .fini = lc_fini)
{
	lc_es_setup(3, LC_OLD);
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_ZERO_REPLICA_WORKLOAD), 0);
}

Test(lifecycle_zero, inside_grace_period_is_not_flagged, .fini = lc_fini)
{
	lc_es_setup(0, lc_ago(3));
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_ZERO_REPLICA_WORKLOAD), 0);
	cr_assert_eq(lc_skips("es", "zero-replica"), 0);
}

Test(lifecycle_zero, grace_period_is_configurable, .fini = lc_fini)
{
	lc_es_setup(0, lc_ago(3));
	lc_set("zero_replica.grace_days=2");
	lc_run();
	cr_assert(lc_find(KP_CAT_ZERO_REPLICA_WORKLOAD, "es"));
}

Test(lifecycle_zero, pvcs_not_collected_is_skipped, .fini = lc_fini)
{
	lc_es_setup(0, LC_OLD);
	lc_remove("objects/persistentvolumeclaims.json");
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_ZERO_REPLICA_WORKLOAD), 0);
	cr_assert_eq(lc_skips("es", "persistentvolumeclaims not collected"), 1);
}

Test(lifecycle_zero, ignored_is_not_flagged, .fini = lc_fini)
{
	lc_es_setup(0, LC_OLD);
	lc_list("namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\","
			      "\"annotations\":{\"kopilot.io/ignore\":\"true\"}}}");
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_ZERO_REPLICA_WORKLOAD), 0);
	cr_assert_eq(lc_skips("es", "excluded by kopilot.io/ignore=true"), 1);
}

Test(lifecycle_zero, ignored_without_usage_is_skipped_once, .fini = lc_fini)
{
	lc_es_setup(0, LC_OLD);
	lc_remove("usage.json");
	lc_list("namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\","
			      "\"labels\":{\"kopilot.io/ignore\":\"true\"}}}");
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_ZERO_REPLICA_WORKLOAD), 0);
	cr_assert_eq(lc_skips("es", "excluded by kopilot.io/ignore=true"), 1);
}

Test(lifecycle_zero, deployment_claim_and_load_balancers, .fini = lc_fini)
{
	lc_snapshot();
	char *d1 = lc_deploy_claim("cms", 0, LC_OLD, "uploads");
	char *d2 = lc_deploy_claim("ghost", 0, LC_OLD, "no-such-claim");
	char *d3 = lc_deploy_claim("web", 0, LC_OLD, NULL);
	char *all = kp_xasprintf("%s,%s,%s", d1, d2, d3);
	lc_list("deployments", all);
	free(all);
	free(d1);
	free(d2);
	free(d3);
	char *v = lc_pvc("shop", "uploads", "5Gi", "Bound");
	lc_list("persistentvolumeclaims", v);
	free(v);
	char *s[6] = {
		lc_svc("shop", "web-lb", "LoadBalancer", "{\"app\":\"web\"}"),
		lc_svc("shop", "web-lb2", "LoadBalancer", "{\"app\":\"web\",\"tier\":\"fe\"}"),
		lc_svc("shop", "web-narrow", "LoadBalancer", "{\"app\":\"web\",\"tier\":\"be\"}"),
		lc_svc("shop", "web-internal", "ClusterIP", "{\"app\":\"web\"}"),
		lc_svc("other", "web-lb", "LoadBalancer", "{\"app\":\"web\"}"),
		lc_svc("shop", "no-selector", "LoadBalancer", "{}"),
	};
	all = kp_xasprintf("%s,%s,%s,%s,%s,%s", s[0], s[1], s[2], s[3], s[4], s[5]);
	lc_list("services", all);
	free(all);
	for (int i = 0; i < 6; i++)
		free(s[i]);
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_ZERO_REPLICA_WORKLOAD), 2);
	const kp_finding *f = lc_find(KP_CAT_ZERO_REPLICA_WORKLOAD, "cms");
	cr_assert(f);
	cr_assert_str_eq(f->kind, "Deployment");
	cr_assert_eq(f->current.storage_b, (int64_t)(5 * LC_GI));
	cr_assert_eq(f->load_balancers, 0);
	f = lc_find(KP_CAT_ZERO_REPLICA_WORKLOAD, "web");
	cr_assert(f);
	cr_assert_eq(f->load_balancers, 2);
	cr_assert_eq(f->current.storage_b, KP_UNSET);
	cr_assert_eq(f->current.replicas, 0);
	const kp_evidence *e = lc_ev(f, "load_balancers");
	cr_assert(e && e->has_value && e->value == 2);
	cr_assert(strstr(e->summary, "web-lb") && strstr(e->summary, "web-lb2"), "%s", e->summary);
	cr_assert_null(strstr(e->summary, "web-narrow"));
	/* ghost's claim does not exist: it holds nothing */
	cr_assert_null(lc_find(KP_CAT_ZERO_REPLICA_WORKLOAD, "ghost"));

	kp_recommend_finding(&lc_fx.cfg, &lc_fx.out.items.items[f - lc_fx.out.items.items]);
	cr_assert_float_eq(f->monthly_cost, 2 * 0.025 * 730, 1e-9);
}

Test(lifecycle_zero, services_not_collected_judges_claims, .fini = lc_fini)
{
	lc_snapshot();
	char *d1 = lc_deploy_claim("cms", 0, LC_OLD, "uploads");
	char *d2 = lc_deploy_claim("web", 0, LC_OLD, NULL);
	char *all = kp_xasprintf("%s,%s", d1, d2);
	lc_list("deployments", all);
	free(all);
	free(d1);
	free(d2);
	char *v = lc_pvc("shop", "uploads", "5Gi", "Bound");
	lc_list("persistentvolumeclaims", v);
	free(v);
	lc_remove("objects/services.json");
	lc_run();
	const kp_finding *f = lc_find(KP_CAT_ZERO_REPLICA_WORKLOAD, "cms");
	cr_assert(f);
	cr_assert_eq(f->current.storage_b, (int64_t)(5 * LC_GI));
	bool said = false;
	for (size_t i = 0; i < f->nevidence; i++)
		said |= strstr(f->evidence[i].summary, "Load balancers were not checked") != NULL;
	cr_assert(said);
	cr_assert_null(lc_find(KP_CAT_ZERO_REPLICA_WORKLOAD, "web"));
	cr_assert_eq(lc_skips("web", "services were not collected"), 1);
}

Test(lifecycle_zero, holding_nothing_is_not_flagged, .fini = lc_fini)
{
	lc_snapshot();
	char *d = lc_deploy_claim("parked", 0, LC_OLD, NULL);
	lc_list("deployments", d);
	free(d);
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_ZERO_REPLICA_WORKLOAD), 0);
	cr_assert_eq(lc_skips("parked", NULL), 0);
}

/* ------------------------------------------------------------------ */
/* finished-job                                                         */

typedef struct {
	const char *name;
	const char *cond;     /* "Complete", "Failed" or NULL (running) */
	const char *finished; /* lastTransitionTime / completionTime, NULL = absent */
	const char *owner;    /* ownerReferences kind, NULL = none */
	bool ttl, suspend;
	int active;
	const char *ns;
} lc_job;

static char *lc_job_json(const lc_job *j)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_printf(&b, "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
			  "\"creationTimestamp\":\"" LC_OLD "\"",
		      j->name, j->ns ? j->ns : "shop");
	if (j->owner)
		kp_buf_printf(&b, ",\"ownerReferences\":[{\"kind\":\"%s\",\"name\":\"nightly\",\"controller\":true}]",
			      j->owner);
	kp_buf_puts(&b, "},\"spec\":{");
	if (j->ttl)
		kp_buf_puts(&b, "\"ttlSecondsAfterFinished\":3600,");
	if (j->suspend)
		kp_buf_puts(&b, "\"suspend\":true,");
	kp_buf_puts(&b, "\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"job\","
			"\"resources\":{\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]}}},\"status\":{");
	kp_buf_printf(&b, "\"active\":%d", j->active);
	if (j->cond) {
		kp_buf_printf(&b, ",\"conditions\":[{\"type\":\"%s\",\"status\":\"True\"", j->cond);
		if (j->finished)
			kp_buf_printf(&b, ",\"lastTransitionTime\":\"%s\"", j->finished);
		kp_buf_puts(&b, "}]");
		if (j->finished && strcmp(j->cond, "Complete") == 0)
			kp_buf_printf(&b, ",\"completionTime\":\"%s\"", j->finished);
	}
	kp_buf_puts(&b, "}}");
	return kp_buf_detach(&b);
}

static void lc_jobs(const lc_job *jobs, size_t n)
{
	kp_buf all;
	kp_buf_init(&all);
	for (size_t i = 0; i < n; i++) {
		char *j = lc_job_json(&jobs[i]);
		kp_buf_printf(&all, "%s%s", i ? "," : "", j);
		free(j);
	}
	lc_list("jobs", kp_buf_cstr(&all));
	kp_buf_release(&all);
}

Test(lifecycle_job, complete_and_failed_long_ago_are_flagged, .fini = lc_fini)
{
	lc_snapshot();
	lc_job jobs[] = {
		{.name = "backfill-2026-10", .cond = "Complete", .finished = lc_ago(30)},
		{.name = "reindex-once", .cond = "Failed", .finished = lc_ago(10)},
	};
	lc_jobs(jobs, 2);
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_FINISHED_JOB), 2);
	const kp_finding *f = lc_find(KP_CAT_FINISHED_JOB, "backfill-2026-10");
	cr_assert(f);
	cr_assert_str_eq(f->api_version, "batch/v1");
	cr_assert_str_eq(f->kind, "Job");
	cr_assert_str_eq(f->namespace_, "shop");
	cr_assert_null(f->container);
	cr_assert_eq(f->current.replicas, -1);
	cr_assert_eq(f->current.cpu_request_m, KP_UNSET);
	cr_assert_eq(f->current.mem_request_b, KP_UNSET);
	cr_assert_eq(f->current.storage_b, KP_UNSET);
	cr_assert_eq(f->confidence, KP_CONF_HIGH);
	cr_assert_eq(f->risk, KP_RISK_LOW);
	const kp_evidence *e = lc_ev(f, "finished_days_ago");
	cr_assert(e && e->has_value);
	cr_assert_float_eq(e->value, 30, 1e-6);
	e = lc_ev(f, "status");
	cr_assert(e && !e->has_value);
	cr_assert(strstr(e->summary, "Complete"), "%s", e->summary);
	f = lc_find(KP_CAT_FINISHED_JOB, "reindex-once");
	cr_assert(f);
	cr_assert(strstr(lc_ev(f, "status")->summary, "Failed"));
	cr_assert_float_eq(lc_ev(f, "finished_days_ago")->value, 10, 1e-6);

	/* finished pods request nothing: cost 0, delete with approval */
	kp_finding *m = &lc_fx.out.items.items[f - lc_fx.out.items.items];
	kp_recommend_finding(&lc_fx.cfg, m);
	cr_assert_float_eq(m->monthly_cost, 0, 1e-12);
	cr_assert_eq(m->action.type, KP_ACT_DELETE);
}

Test(lifecycle_job, known_false_positives_are_not_flagged, .fini = lc_fini)
{
	lc_snapshot();
	lc_job jobs[] = {
		/* kor: a CronJob's finished runs are pruned by its history limits */
		{.name = "nightly-29000000", .cond = "Complete", .finished = lc_ago(30), .owner = "CronJob"},
		{.name = "nightly-29000001", .cond = "Failed", .finished = lc_ago(30), .owner = "CronJob"},
		/* kor: fresh results are still being read */
		{.name = "fresh", .cond = "Complete", .finished = lc_ago(2)},
		{.name = "at-grace", .cond = "Complete", .finished = lc_ago(7)},
		/* the TTL controller deletes it */
		{.name = "with-ttl", .cond = "Complete", .finished = lc_ago(30), .ttl = true},
		/* running, suspended */
		{.name = "running", .active = 1},
		{.name = "suspended", .suspend = true},
	};
	lc_jobs(jobs, sizeof(jobs) / sizeof(jobs[0]));
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_FINISHED_JOB), 0);
	cr_assert_eq(lc_fx.out.skipped.len, 0);
}

Test(lifecycle_job, other_owner_is_still_flagged, .fini = lc_fini)
{
	lc_snapshot();
	lc_job jobs[] = {{.name = "hook", .cond = "Complete", .finished = lc_ago(20), .owner = "Workflow"}};
	lc_jobs(jobs, 1);
	lc_run();
	const kp_finding *f = lc_find(KP_CAT_FINISHED_JOB, "hook");
	cr_assert(f);
	cr_assert(strstr(lc_ev(f, "status")->summary, "Workflow"));
}

Test(lifecycle_job, grace_period_edge_and_config, .fini = lc_fini)
{
	lc_snapshot();
	lc_job jobs[] = {
		{.name = "seven-and-a-bit", .cond = "Complete", .finished = lc_ago(7.01)},
		{.name = "three", .cond = "Failed", .finished = lc_ago(3)},
	};
	lc_jobs(jobs, 2);
	lc_set("finished_job.grace_days=2.5");
	lc_run();
	cr_assert(lc_find(KP_CAT_FINISHED_JOB, "seven-and-a-bit"));
	cr_assert(lc_find(KP_CAT_FINISHED_JOB, "three"));
}

Test(lifecycle_job, no_finish_time_is_skipped, .fini = lc_fini)
{
	lc_snapshot();
	lc_job jobs[] = {{.name = "mystery", .cond = "Complete"}};
	lc_jobs(jobs, 1);
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_FINISHED_JOB), 0);
	cr_assert_eq(lc_skips("mystery", "no completion time"), 1);
}

Test(lifecycle_job, ignored_job_is_skipped, .fini = lc_fini)
{
	lc_snapshot();
	lc_job jobs[] = {{.name = "keep-me", .cond = "Complete", .finished = lc_ago(30), .ns = "audit"}};
	lc_jobs(jobs, 1);
	lc_list("namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"audit\","
			      "\"labels\":{\"kopilot.io/ignore\":\"true\"}}}");
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_FINISHED_JOB), 0);
	cr_assert_eq(lc_skips("keep-me", NULL), 1, "one skip entry, not one per rule");
	cr_assert_eq(lc_skips("keep-me", "excluded by kopilot.io/ignore=true"), 1);
}

Test(lifecycle_job, ignored_job_without_usage_is_skipped_once, .fini = lc_fini)
{
	lc_snapshot();
	lc_remove("usage.json");
	lc_job jobs[] = {{.name = "keep-me", .cond = "Complete", .finished = lc_ago(30), .ns = "audit"}};
	lc_jobs(jobs, 1);
	lc_list("namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"audit\","
			      "\"labels\":{\"kopilot.io/ignore\":\"true\"}}}");
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_FINISHED_JOB), 0);
	cr_assert_eq(lc_skips("keep-me", NULL), 1);
	cr_assert_eq(lc_skips("keep-me", "excluded by kopilot.io/ignore=true"), 1);
}

Test(lifecycle_job, failed_list_is_skipped_not_flagged, .fini = lc_fini)
{
	/* jobs.json missing (the list call failed): the Jobs named by pods are
	 * listed as skipped, once each, and nothing is called finished */
	lc_snapshot();
	lc_remove("objects/jobs.json");
	const char *pod = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\","
			  "\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"%s\",\"controller\":true}]},\"spec\":{"
			  "\"containers\":[{\"name\":\"job\"}]},\"status\":{\"phase\":\"Succeeded\"}}";
	char *a = kp_xasprintf(pod, "export-a1", "export");
	char *b = kp_xasprintf(pod, "export-a2", "export");
	char *c = kp_xasprintf(pod, "backfill-z9", "backfill");
	char *all = kp_xasprintf("%s,%s,%s", a, b, c);
	lc_list("pods", all);
	free(a);
	free(b);
	free(c);
	free(all);
	lc_run();
	cr_assert_eq(lc_count(KP_CAT_FINISHED_JOB), 0);
	cr_assert_eq(lc_skips("export", "jobs not collected"), 1);
	cr_assert_eq(lc_skips("backfill", "jobs not collected"), 1);
	cr_assert_eq(lc_fx.out.skipped.len, 2);
	/* deterministic order: sorted by namespace and name */
	cr_assert_str_eq(lc_fx.out.skipped.items[0].name, "backfill");
	cr_assert_str_eq(lc_fx.out.skipped.items[0].kind, "Job");
	cr_assert_str_eq(lc_fx.out.skipped.items[0].namespace_, "shop");
}
