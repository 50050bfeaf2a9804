/*
 * test_actions.c - recommendations that follow their own evidence: a CPU
 * limit that throttles is changed, an HPA target moves with the request it
 * is measured against, a retained volume's disk is what deleting its claim
 * must free, finished Jobs rank as hygiene, a command of several lines is
 * judged by its worst line, and explanations name namespace/name.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/findings_json.h"
#include "pipeline/money.h"
#include "pipeline/plan.h"
#include "pipeline/safety.h"
#include "stages/recommend/recommend.h"
#include "tests/unit/fixture.h"

#define NOW "2026-11-25T06:00:00Z"
#define OLD "2026-09-01T00:00:00Z"
#define MI (1024.0 * 1024.0)

static kp_fixture act_fx;

static void act_fini(void) { fx_fini(&act_fx); }

/* Deployment shop/<name>, container app, with these requests and limits
 * (NULL: not set), one pod through a ReplicaSet. */
static void act_deployment(const char *name, const char *cpu, const char *cpu_limit, const char *mem, int replicas)
{
	char limits[128] = "";
	if (cpu_limit)
		snprintf(limits, sizeof(limits), ",\"limits\":{\"cpu\":\"%s\"}", cpu_limit);
	char *d = kp_xasprintf(
		"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\","
		"\"creationTimestamp\":\"" OLD "\"},\"spec\":{\"replicas\":%d,\"template\":{\"spec\":{\"containers\":[{\"name\":"
		"\"app\",\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"%s\"}%s}}]}}}}",
		name, replicas, cpu, mem, limits);
	char *rs = kp_xasprintf(
		"{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"%s-abc123\",\"namespace\":"
		"\"shop\",\"ownerReferences\":[{\"kind\":\"Deployment\",\"name\":\"%s\",\"controller\":true}]},\"spec\":{"
		"\"replicas\":%d,\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\"}]}}}}",
		name, name, replicas);
	char *pod = kp_xasprintf(
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s-abc123-x1\",\"namespace\":\"shop\","
		"\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"%s-abc123\",\"controller\":true}]},\"spec\":{"
		"\"containers\":[{\"name\":\"app\"}]},\"status\":{\"phase\":\"Running\"}}",
		name, name);
	fx_list(&act_fx, "deployments", d);
	fx_list(&act_fx, "replicasets", rs);
	fx_list(&act_fx, "pods", pod);
	free(d);
	free(rs);
	free(pod);
}

/* usage of <name>'s pod over the whole window */
static void act_usage(const char *name, double p95, double mem_max, double throttled)
{
	char *u = kp_xasprintf(
		"{\"namespace\":\"shop\",\"pod\":\"%s-abc123-x1\",\"container\":\"app\",\"first_seen\":\"2026-11-11T06:00:00Z\","
		"\"last_seen\":\"2026-11-25T06:00:00Z\",\"samples\":20160,\"cpu_millicores\":{\"p50\":%g,\"p95\":%g,\"p99\":%g,"
		"\"max\":%g},\"memory_bytes\":{\"p50\":%g,\"max\":%g},\"oom_kills\":0,\"restarts\":0,"
		"\"cpu_throttled_ratio\":%g}",
		name, p95 / 2, p95, p95 * 1.1, p95 * 1.2, mem_max / 2, mem_max, throttled);
	fx_usage(&act_fx, u);
	free(u);
}

static kp_finding *act_find(kp_category cat, const char *name)
{
	const kp_finding *f = fx_find(&act_fx, cat, name);
	return f ? &act_fx.out.items.items[f - act_fx.out.items.items] : NULL;
}

static const kp_evidence *act_ev(const kp_finding *f, const char *metric)
{
	for (size_t i = 0; i < f->nevidence; i++)
		if (f->evidence[i].metric && strcmp(f->evidence[i].metric, metric) == 0)
			return &f->evidence[i];
	return NULL;
}

/* ---- throttled by the CPU limit ---- */

Test(actions, throttling_limit_is_raised_and_the_money_is_the_request, .fini = act_fini)
{
	fx_init(&act_fx, "act", "prometheus");
	act_deployment("scorer", "250m", "500m", "1Gi", 3);
	act_usage("scorer", 430, 800 * MI, 0.40);
	fx_run(&act_fx, NOW, NULL);
	kp_finding *f = act_find(KP_CAT_UNDER_PROVISIONED, "scorer");
	cr_assert(f, "a container throttled by its limit is a reliability finding");
	/* request from usage: 430m x 1.15 = 495m; limit: max(2 x 500m, 495m x 500/250) = 1 core */
	cr_assert_eq(f->recommended.cpu_request_m, 495);
	cr_assert_eq(f->recommended.cpu_limit_m, 1000, "the limit that throttles must change, got %lld",
		     (long long)f->recommended.cpu_limit_m);
	const kp_evidence *e = act_ev(f, "cpu_throttled_ratio");
	cr_assert(e && strstr(e->summary, "raised to 1 core"), "%s", e ? e->summary : "(none)");
	kp_recommend_finding(&act_fx.cfg, f);
	cr_assert(strstr(f->action.command, "--requests=cpu=495m --limits=cpu=1"), "%s", f->action.command);
	/* a limit reserves nothing: the extra cost is the request change alone */
	kp_finding only_request = *f;
	only_request.recommended.cpu_limit_m = f->current.cpu_limit_m;
	double with_limit = f->monthly_savings;
	kp_money_price_finding(&act_fx.cfg, &only_request);
	cr_assert_float_eq(with_limit, only_request.monthly_savings, 1e-9);
	cr_assert_lt(with_limit, 0);
	cr_assert(strstr(f->explanation, "Raising the CPU limit to 1 core"), "%s", f->explanation);
	cr_assert(strstr(f->explanation, "A limit reserves nothing"), "%s", f->explanation);
}

Test(actions, throttling_limit_is_removed_when_configured, .fini = act_fini)
{
	fx_init(&act_fx, "act", "prometheus");
	kp_error err = {0};
	cr_assert_eq(kp_config_set(&act_fx.cfg, "rightsizing.throttled_cpu_limit=remove", KP_SRC_FLAG, &err), KP_OK);
	act_deployment("scorer", "250m", "500m", "1Gi", 3);
	act_usage("scorer", 430, 800 * MI, 0.40);
	fx_run(&act_fx, NOW, NULL);
	kp_finding *f = act_find(KP_CAT_UNDER_PROVISIONED, "scorer");
	cr_assert(f);
	cr_assert_eq(f->recommended.cpu_limit_m, KP_UNSET);
	kp_recommend_finding(&act_fx.cfg, f);
	/* kubectl set resources removes a value set to 0 */
	cr_assert(strstr(f->action.command, "--limits=cpu=0"), "%s", f->action.command);
	cr_assert(strstr(f->explanation, "Removing the CPU limit"), "%s", f->explanation);
}

Test(actions, throttled_container_never_gets_a_lower_cpu_request, .fini = act_fini)
{
	fx_init(&act_fx, "act", "prometheus");
	/* p95 100m against a 1-core request would be over-provisioned, but the
	 * 300m limit throttles it: its real demand was never seen */
	act_deployment("bursty", "1", "300m", "256Mi", 2);
	act_usage("bursty", 100, 200 * MI, 0.25);
	fx_run(&act_fx, NOW, NULL);
	cr_assert_null(act_find(KP_CAT_OVER_PROVISIONED, "bursty"));
	kp_finding *f = act_find(KP_CAT_UNDER_PROVISIONED, "bursty");
	cr_assert(f);
	cr_assert_eq(f->recommended.cpu_request_m, 1000, "the request stays");
	cr_assert_geq(f->recommended.cpu_limit_m, 1000, "the limit is never left below the request");
	kp_recommend_finding(&act_fx.cfg, f);
	cr_assert_float_eq(f->monthly_savings, 0, 1e-9, "raising a limit costs nothing on the bill");
	cr_assert(strstr(f->explanation, "costs nothing on the bill"), "%s", f->explanation);
}

Test(actions, throttling_below_the_threshold_changes_nothing, .fini = act_fini)
{
	fx_init(&act_fx, "act", "prometheus");
	kp_error err = {0};
	cr_assert_eq(kp_config_set(&act_fx.cfg, "rightsizing.throttling_threshold=0.5", KP_SRC_FLAG, &err), KP_OK);
	act_deployment("scorer", "250m", "500m", "1Gi", 3);
	act_usage("scorer", 430, 800 * MI, 0.40);
	fx_run(&act_fx, NOW, NULL);
	kp_finding *f = act_find(KP_CAT_UNDER_PROVISIONED, "scorer");
	cr_assert(f, "still under-provisioned on its request");
	cr_assert_eq(f->recommended.cpu_limit_m, 500);
	cr_assert_null(act_ev(f, "cpu_throttled_ratio"));
	cr_assert_neq(kp_config_set(&act_fx.cfg, "rightsizing.throttled_cpu_limit=lower", KP_SRC_FLAG, &err), KP_OK);
	cr_assert(strstr(err.msg, "raise or remove"), "%s", err.msg);
}

/* ---- HPA targets follow the request ---- */

Test(actions, hpa_target_change_is_in_the_command_and_the_plan, .fini = act_fini)
{
	fx_init(&act_fx, "act", "prometheus");
	act_deployment("web", "500m", NULL, "1Gi", 3);
	act_usage("web", 90, 310 * MI, 0);
	fx_list(&act_fx, "horizontalpodautoscalers",
		"{\"apiVersion\":\"autoscaling/v2\",\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":{\"name\":\"web\","
		"\"namespace\":\"shop\"},\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"web\"},"
		"\"minReplicas\":1,\"maxReplicas\":10,\"metrics\":[{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"rps\"},"
		"\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"10\"}}},{\"type\":\"Resource\",\"resource\":"
		"{\"name\":\"cpu\",\"target\":{\"type\":\"Utilization\",\"averageUtilization\":70}}}]},"
		"\"status\":{\"currentReplicas\":3}}");
	fx_run(&act_fx, NOW, NULL);
	kp_finding *f = act_find(KP_CAT_OVER_PROVISIONED, "web");
	cr_assert(f);
	cr_assert_eq(f->recommended.cpu_request_m, 105);
	cr_assert_eq(f->nrelated, 1);
	const kp_related_change *r = &f->related[0];
	cr_assert_str_eq(r->kind, "HorizontalPodAutoscaler");
	cr_assert_str_eq(r->path, "/spec/metrics/1/resource/target/averageUtilization", "the CPU metric is the second");
	cr_assert(r->numeric && !r->before);
	cr_assert_eq(r->current_n, 70);
	cr_assert_eq(r->recommended_n, 333); /* 70 x 500/105 */
	kp_recommend_finding(&act_fx.cfg, f);
	const char *cmd = f->action.command;
	const char *resize = strstr(cmd, "set resources"), *patch = strstr(cmd, "\nkubectl -n shop patch "
									     "horizontalpodautoscaler.v2.autoscaling web");
	cr_assert(resize && patch && resize < patch, "resize first, then the HPA: %s", cmd);
	cr_assert(strstr(patch, "{\"op\":\"test\",\"path\":\"/spec/metrics/1/resource/target/averageUtilization\","
				"\"value\":70},{\"op\":\"replace\",\"path\":\"/spec/metrics/1/resource/target/"
				"averageUtilization\",\"value\":333}"),
		  "%s", patch);
	/* a patch is approval-gated (DESIGN safety invariants), whatever line it is on */
	cr_assert(f->action.approval_required);
	cr_assert(strstr(f->explanation, "from 70% to 333%"), "%s", f->explanation);

	/* round trip through findings.json and into plan.json */
	kp_findings one;
	kp_findings_init(&one);
	json_object *doc = json_object_new_object(), *arr = json_object_new_array();
	json_object_array_add(arr, kp_finding_to_json(f, true));
	json_object_object_add(doc, "findings", arr);
	kp_error err = {0};
	cr_assert_eq(kp_findings_from_json(doc, "findings.json", true, &one, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(one.items.len, 1);
	cr_assert_eq(one.items.items[0].nrelated, 1);
	cr_assert_eq(one.items.items[0].related[0].recommended_n, 333);
	json_object *plan = kp_plan_doc(doc);
	json_object *step = json_object_array_get_idx(kp_json_get(plan, "steps"), 0);
	cr_assert(step);
	cr_assert_eq(json_object_get_int64(kp_json_get(
			     json_object_array_get_idx(kp_json_get(step, "related_changes"), 0), "recommended")),
		     333);
	cr_assert(strstr(kp_json_str(step, "command"), "patch horizontalpodautoscaler"));
	json_object_put(plan);
	json_object_put(doc);
	kp_findings_release(&one);
}

Test(actions, autoscaling_v1_target_is_patched_through_v1, .fini = act_fini)
{
	fx_init(&act_fx, "act", "prometheus");
	act_deployment("web", "500m", NULL, "1Gi", 3);
	act_usage("web", 90, 310 * MI, 0);
	fx_list(&act_fx, "horizontalpodautoscalers",
		"{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":{\"name\":\"web\","
		"\"namespace\":\"shop\"},\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"web\"},"
		"\"minReplicas\":1,\"maxReplicas\":10,\"targetCPUUtilizationPercentage\":50},\"status\":{\"currentReplicas\":3}}");
	fx_run(&act_fx, NOW, NULL);
	kp_finding *f = act_find(KP_CAT_OVER_PROVISIONED, "web");
	cr_assert(f);
	kp_recommend_finding(&act_fx.cfg, f);
	cr_assert(strstr(f->action.command, "patch horizontalpodautoscaler.v1.autoscaling web --type=json -p "
					    "'[{\"op\":\"test\",\"path\":\"/spec/targetCPUUtilizationPercentage\",\"value\":50}"),
		  "%s", f->action.command);
}

/* ---- retained volumes: the disk is the money ---- */

Test(actions, retained_volume_claim_frees_the_disk_first, .fini = act_fini)
{
	fx_init(&act_fx, "act", "prometheus");
	fx_list(&act_fx, "persistentvolumeclaims",
		"{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"data-0\",\"namespace\":"
		"\"search\",\"creationTimestamp\":\"" OLD "\"},\"spec\":{\"resources\":{\"requests\":{\"storage\":\"50Gi\"}},"
		"\"volumeName\":\"pv-data-0\"},\"status\":{\"phase\":\"Bound\",\"capacity\":{\"storage\":\"50Gi\"}}}");
	fx_list(&act_fx, "persistentvolumes",
		"{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"pv-data-0\",\"creationTimestamp\":"
		"\"" OLD "\"},\"spec\":{\"capacity\":{\"storage\":\"50Gi\"},\"persistentVolumeReclaimPolicy\":\"Retain\","
		"\"claimRef\":{\"namespace\":\"search\",\"name\":\"data-0\"}},\"status\":{\"phase\":\"Bound\"}},"
		"{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"pv-old\",\"creationTimestamp\":"
		"\"" OLD "\"},\"spec\":{\"capacity\":{\"storage\":\"20Gi\"},\"persistentVolumeReclaimPolicy\":\"Retain\"},"
		"\"status\":{\"phase\":\"Released\"}}");
	fx_run(&act_fx, NOW, NULL);
	kp_finding *f = act_find(KP_CAT_ORPHANED_PVC, "data-0");
	cr_assert(f);
	cr_assert_eq(f->nrelated, 1);
	cr_assert(f->related[0].before);
	cr_assert_str_eq(f->related[0].recommended_s, "Delete");
	kp_recommend_finding(&act_fx.cfg, f);
	cr_assert_str_eq(f->action.command,
			 "kubectl patch persistentvolume pv-data-0 --type=json -p '[{\"op\":\"test\",\"path\":"
			 "\"/spec/persistentVolumeReclaimPolicy\",\"value\":\"Retain\"},{\"op\":\"replace\",\"path\":"
			 "\"/spec/persistentVolumeReclaimPolicy\",\"value\":\"Delete\"}]'\n"
			 "kubectl -n search delete pvc data-0");
	cr_assert_gt(f->monthly_savings, 1.99, "the disk's price: 50Gi x $0.04");
	cr_assert(f->action.destructive && f->action.approval_required);
	cr_assert(strstr(f->explanation, "deleting the claim alone would keep the volume, the disk and the bill"), "%s",
		  f->explanation);

	kp_finding *v = act_find(KP_CAT_UNBOUND_PV, "pv-old");
	cr_assert(v);
	kp_recommend_finding(&act_fx.cfg, v);
	const char *del = strstr(v->action.command, "\nkubectl delete pv pv-old --ignore-not-found");
	cr_assert(del && strncmp(v->action.command, "kubectl patch persistentvolume pv-old ", 38) == 0, "%s",
		  v->action.command);
}

/* ---- finished Jobs are hygiene ---- */

Test(actions, finished_job_says_what_it_costs_and_ranks_low, .fini = act_fini)
{
	fx_init(&act_fx, "act", "prometheus");
	fx_list(&act_fx, "jobs",
		"{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"backfill\",\"namespace\":\"shop\","
		"\"creationTimestamp\":\"" OLD "\"},\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"job\"}]}}},"
		"\"status\":{\"succeeded\":1,\"completionTime\":\"2026-10-01T00:00:00Z\",\"conditions\":[{\"type\":\"Complete\","
		"\"status\":\"True\"}]}}");
	fx_list(&act_fx, "pods",
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"backfill-a\",\"namespace\":\"shop\","
		"\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"backfill\",\"controller\":true}]},\"spec\":{\"containers\":"
		"[{\"name\":\"job\"}]},\"status\":{\"phase\":\"Succeeded\"}},"
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"backfill-b\",\"namespace\":\"shop\","
		"\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"backfill\",\"controller\":true}]},\"spec\":{\"containers\":"
		"[{\"name\":\"job\"}]},\"status\":{\"phase\":\"Failed\"}},"
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"backfill-c\",\"namespace\":\"other\","
		"\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"backfill\",\"controller\":true}]},\"spec\":{\"containers\":"
		"[{\"name\":\"job\"}]},\"status\":{\"phase\":\"Failed\"}}");
	fx_run(&act_fx, NOW, NULL);
	kp_finding *f = act_find(KP_CAT_FINISHED_JOB, "backfill");
	cr_assert(f);
	const kp_evidence *e = act_ev(f, "objects_left");
	cr_assert(e, "says what it costs");
	cr_assert_float_eq(e->value, 3, 1e-9, "the Job and its 2 pods in shop (not the one in another namespace)");
	cr_assert(strstr(e->summary, "Costs nothing on the bill"), "%s", e->summary);
	kp_recommend_finding(&act_fx.cfg, f);
	cr_assert_eq(f->risk, KP_RISK_LOW, "hygiene, not a HIGH-risk change");
	cr_assert(f->action.destructive && f->action.approval_required, "still approval-gated");
	cr_assert(strstr(f->explanation, "Job shop/backfill finished"), "%s", f->explanation);

	/* in a protected namespace the floor stands */
	free(f->namespace_);
	f->namespace_ = kp_xstrdup("kube-system");
	f->risk = KP_RISK_LOW;
	kp_recommend_finding(&act_fx.cfg, f);
	cr_assert(f->action.blocked);
	cr_assert_geq(f->risk, KP_RISK_HIGH);
}

/* ---- the safety layer reads every line ---- */

Test(actions, multi_line_command_is_judged_by_its_worst_line)
{
	kp_config cfg;
	kp_config_init(&cfg);
	kp_command_decision d;
	kp_safety_classify_command(&cfg, "kubectl -n shop get pods\nkubectl -n shop delete pvc data", &d);
	cr_assert(d.destructive && d.approval_required);
	cr_assert_geq(d.risk, KP_RISK_HIGH);
	kp_safety_classify_command(&cfg, "kubectl -n shop set resources deployment/a --requests=cpu=1\n"
					 "kubectl exec -it a -- sh",
				   &d);
	cr_assert(d.hard_blocked);
	kp_safety_classify_command(&cfg, "kubectl -n shop get pods\nkubectl -n kube-system delete pvc x", &d);
	cr_assert(d.protected_namespace);
	cr_assert_eq(d.risk, KP_RISK_CRITICAL);
	kp_safety_classify_command(&cfg, "kubectl -n shop get pods\n", &d);
	cr_assert(!d.mutating);
	kp_config_release(&cfg);
}

/* ---- explanations name the resource as the headings do ---- */

Test(actions, explanation_names_namespace_and_name, .fini = act_fini)
{
	fx_init(&act_fx, "act", "prometheus");
	act_deployment("storefront", "2", NULL, "4Gi", 2);
	act_usage("storefront", 100, 300 * MI, 0);
	fx_run(&act_fx, NOW, NULL);
	kp_finding *f = act_find(KP_CAT_OVER_PROVISIONED, "storefront");
	cr_assert(f);
	kp_recommend_finding(&act_fx.cfg, f);
	cr_assert(strncmp(f->explanation, "Deployment shop/storefront, container app, reserves", 51) == 0, "%s",
		  f->explanation);
}
