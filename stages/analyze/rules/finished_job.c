/*
 * finished_job.c - Jobs that finished long ago and that nothing will ever
 * clean up (category finished-job).
 *
 * A Job is reported when all of these hold:
 *   - its status has a Complete or Failed condition that is True;
 *   - it is not owned by a CronJob (the CronJob's successfulJobsHistoryLimit
 *     and failedJobsHistoryLimit prune those: kor's classic false positive);
 *   - it has no spec.ttlSecondsAfterFinished (the TTL controller deletes it);
 *   - it finished more than finished_job.grace_days (default 7) before
 *     --now: a fresh result is still being looked at.
 * The finding (batch/v1 Job, container NULL) has no sizes: a finished Job's
 * pods request nothing from the scheduler, so it costs 0; it is clutter in
 * the namespace and the API server, and its pods' logs go with it when it
 * is deleted. Confidence high (the status is a fact), risk LOW.
 *
 * Not flagged: running Jobs (no finished condition, or active pods),
 * suspended Jobs, Jobs finished inside the grace period, CronJob-owned Jobs,
 * Jobs with a TTL. Skipped with a reason: finished Jobs without a finish time
 * (cannot tell their age), Jobs excluded by kopilot.io/ignore=true (the
 * rightsizing rule records that skip when usage was collected, so it is
 * not repeated here), and,
 * when jobs were not collected, every Job that pods name as their owner
 * (a failed list never means "finished").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/analyze/analyze.h"

static int fj_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* jobs.json missing: list each Job its pods name, once, sorted. */
static void fj_skip_uncollected(kp_analyze_ctx *x)
{
	kp_cluster *c = x->cluster;
	KP_ARRAY(char *) keys = {0};
	for (size_t i = 0; i < c->pods.len; i++) {
		const kp_pod *p = &c->pods.items[i];
		if (!p->meta.owner_kind || strcmp(p->meta.owner_kind, "Job") != 0 || !p->meta.owner_name)
			continue;
		/* '\x1f' cannot occur in a namespace: keeps (ns, name) sortable */
		KP_ARRAY_PUSH(keys, kp_xasprintf("%s\x1f%s", p->meta.namespace_ ? p->meta.namespace_ : "",
						 p->meta.owner_name));
	}
	if (keys.len > 1)
		qsort(keys.items, keys.len, sizeof(char *), fj_cmp_str);
	for (size_t i = 0; i < keys.len; i++) {
		if (i && strcmp(keys.items[i], keys.items[i - 1]) == 0)
			continue;
		char *sep = strchr(keys.items[i], '\x1f');
		*sep = '\0';
		kp_findings_skip(x->out, "batch/v1", "Job", *keys.items[i] ? keys.items[i] : NULL, sep + 1,
				 "jobs not collected: cannot tell whether this Job finished or who owns it");
		*sep = '\x1f';
	}
	for (size_t i = 0; i < keys.len; i++)
		free(keys.items[i]);
	free(keys.items);
}

typedef struct {
	const char *ns, *name;
	kp_finding *f;
	size_t at; /* index of the finding in ctx->out (the list grows: pointers move) */
	int64_t pods;
} fj_left;

static int fj_cmp_left(const void *a, const void *b)
{
	const fj_left *x = a, *y = b;
	int c = strcmp(x->ns ? x->ns : "", y->ns ? y->ns : "");
	return c ? c : strcmp(x->name, y->name);
}

/* What a finished Job costs: nothing on the bill (its pods are done and
 * reserve no CPU or memory), but it and the pods it left are objects the
 * API server keeps in etcd and lists forever. Counted in one pass over the
 * pods, so thousands of Jobs do not mean thousands of passes. */
static void fj_count_left(kp_analyze_ctx *x, fj_left *left, size_t n)
{
	const kp_cluster *c = x->cluster;
	if (n > 1)
		qsort(left, n, sizeof(*left), fj_cmp_left);
	for (size_t i = 0; i < c->pods.len && n; i++) {
		const kp_pod *p = &c->pods.items[i];
		if (!p->meta.owner_kind || strcmp(p->meta.owner_kind, "Job") != 0 || !p->meta.owner_name)
			continue;
		fj_left key = {p->meta.namespace_, p->meta.owner_name, NULL, 0, 0};
		fj_left *hit = bsearch(&key, left, n, sizeof(*left), fj_cmp_left);
		if (hit)
			hit->pods++;
	}
	for (size_t i = 0; i < n; i++) {
		if (c->collected[KP_RES_PODS])
			kp_finding_add_evidence(left[i].f, "objects_left", (double)(left[i].pods + 1), true, "objects",
						"Costs nothing on the bill: finished pods reserve no CPU or memory. It "
						"keeps the Job and %lld finished pod%s (%lld object%s) in the API server's "
						"etcd, listed by every controller and `kubectl get`: cleanup is hygiene, not "
						"savings",
						(long long)left[i].pods, left[i].pods == 1 ? "" : "s",
						(long long)(left[i].pods + 1), left[i].pods == 0 ? "" : "s");
		else
			kp_finding_add_evidence(left[i].f, "objects_left", 1, true, "objects",
						"Costs nothing on the bill: finished pods reserve no CPU or memory. It "
						"keeps the Job in the API server's etcd (pods not collected: how many "
						"finished pods it left is unknown): cleanup is hygiene, not savings");
		kp_finding_stamp_evidence(left[i].f, "kube-api", NULL, -1);
	}
}

void kp_rule_finished_job(kp_analyze_ctx *x)
{
	kp_cluster *c = x->cluster;
	const kp_config *cfg = x->cfg;
	if (!c->collected[KP_RES_JOBS]) {
		fj_skip_uncollected(x);
		return;
	}
	double grace = cfg->rules.finished_job.grace_days * 86400.0;
	KP_ARRAY(fj_left) left = {0};
	for (size_t i = 0; i < c->workloads.len; i++) {
		const kp_workload *w = &c->workloads.items[i];
		if (w->wkind != KP_WL_JOB)
			continue;
		if (w->meta.owner_kind && strcmp(w->meta.owner_kind, "CronJob") == 0)
			continue; /* the CronJob's history limits clean it */
		const char *ns = w->meta.namespace_, *name = w->meta.name;
		if (w->meta.ignored || kp_namespace_ignored(c, ns)) {
			/* With usage collected, rightsizing has already listed the
			 * same skip for this Job: one entry per object. */
			if (!c->usage_collected)
				kp_findings_skip(x->out, "batch/v1", "Job", ns, name,
						 "excluded by kopilot.io/ignore=true");
			continue;
		}
		if (w->has_ttl_after_finished)
			continue; /* the TTL controller deletes it */
		if (!w->job_succeeded && !w->job_failed)
			continue; /* running, pending or suspended */
		if (w->suspended || w->job_active > 0)
			continue;
		int64_t t = w->job_succeeded ? w->job_completion_time : w->job_failed_time;
		const char *status = w->job_succeeded ? "Complete" : "Failed";
		if (!t) {
			kp_findings_skip(x->out, "batch/v1", "Job", ns, name,
					 "finished-job: status %s but no completion time: cannot tell how long ago it "
					 "finished",
					 status);
			continue;
		}
		double ago = (double)(x->now - t);
		if (ago <= grace)
			continue;

		kp_finding *f = kp_findings_add(x->out, KP_CAT_FINISHED_JOB, "batch/v1", "Job", ns, name, NULL);
		/* current stays all unset (replicas -1): finished pods request nothing */
		f->has_recommended = false;
		f->confidence = KP_CONF_HIGH;
		f->risk = KP_RISK_LOW;
		char when[32];
		kp_time_format(t, when);
		kp_finding_add_evidence(f, "finished_days_ago", ago / 86400.0, true, "days",
					"%s at %s, %.0f days ago (grace period %g days)",
					w->job_succeeded ? "Completed" : "Failed", when, ago / 86400.0,
					cfg->rules.finished_job.grace_days);
		if (w->meta.owner_kind)
			kp_finding_add_evidence(f, "status", 0, false, NULL,
						"Status %s; owned by %s %s, not by a CronJob, and no "
						"spec.ttlSecondsAfterFinished: nothing will delete it",
						status, w->meta.owner_kind, w->meta.owner_name ? w->meta.owner_name : "");
		else
			kp_finding_add_evidence(f, "status", 0, false, NULL,
						"Status %s; not owned by a CronJob and no spec.ttlSecondsAfterFinished: "
						"nothing will delete it",
						status);
		kp_finding_stamp_evidence(f, "kube-api", NULL, -1);
		fj_left l = {ns, name, NULL, x->out->items.len - 1, 0};
		KP_ARRAY_PUSH(left, l);
	}
	for (size_t i = 0; i < left.len; i++)
		left.items[i].f = &x->out->items.items[left.items[i].at];
	fj_count_left(x, left.items, left.len);
	free(left.items);
}
