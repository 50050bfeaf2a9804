/*
 * collect.c - see collect.h. The snapshot lists are copied as they are
 * (the kubectl output the rest of the pipeline and a person can read) but
 * with secrets redacted (redact.h: env values, Secret data, the
 * last-applied-configuration annotation); usage.json is copied as it is;
 * cluster.json names the cluster for the reports.
 */
#include "stages/collect/collect.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/fault.h"
#include "pipeline/urlmask.h"
#include "stages/collect/kube.h"
#include "stages/collect/kubeconfig.h"
#include "stages/collect/redact.h"
#include "stages/collect/snapshot.h"
#include "stages/collect/usage.h"

static const char *base_name(const char *path, char *buf, size_t n)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	size_t len = strlen(tmp);
	while (len > 1 && tmp[len - 1] == '/')
		tmp[--len] = '\0';
	const char *slash = strrchr(tmp, '/');
	snprintf(buf, n, "%s", slash ? slash + 1 : tmp);
	return buf;
}

/* What the loader's scan found to redact in each list of the cluster it
 * loaded, so that the copy does not scan the files again (redact.h). A
 * plan is only used while the file is the one it was made from. Kept in
 * the run (run->stage_private) between collect_load and the copy. */
/* gaps collect warns about one by one; the rest are counted */
#define KP_COLLECT_WARNINGS 5

typedef struct {
	const kp_cluster *cluster;
	kp_redact_plan plans[KP_RES_COUNT];
} loaded_plans;

static void plans_free(void *p)
{
	loaded_plans *l = p;
	for (int r = 0; r < KP_RES_COUNT; r++)
		kp_redact_plan_release(&l->plans[r]);
	free(l);
}

static void forget_plans(kp_run *run)
{
	if (run->stage_private && run->private_free == plans_free)
		plans_free(run->stage_private);
	if (run->private_free == plans_free) {
		run->stage_private = NULL;
		run->private_free = NULL;
	}
}

/* the plans made for the cluster c, or NULL */
static const loaded_plans *plans_for(const kp_run *run, const kp_cluster *c)
{
	const loaded_plans *l = run->private_free == plans_free ? run->stage_private : NULL;
	return l && l->cluster == c ? l : NULL;
}

static kp_status collect_load(kp_run *run, kp_error *err)
{
	if (run->cluster)
		return KP_OK;
	if (!run->snapshot)
		return kp_fail(err, KP_ERR_USAGE, "no snapshot directory to read (a live cluster is read by kp_collect_run)");
	kp_cluster *c = kp_xcalloc(1, sizeof(*c));
	kp_cluster_init(c);
	forget_plans(run);
	loaded_plans *l = kp_xcalloc(1, sizeof(*l));
	run->stage_private = l;
	run->private_free = plans_free;
	kp_status s = kp_snapshot_load_planned(c, run->snapshot, l->plans, err);
	if (s) {
		forget_plans(run);
		kp_cluster_release(c);
		free(c);
		return s;
	}
	l->cluster = c;
	run->cluster = c;
	return KP_OK;
}

static void add_event(json_object *events, const char *name, json_object *fields)
{
	json_object *e = json_object_new_object();
	json_object_object_add(e, "event", json_object_new_string(name));
	json_object_object_add(e, "fields", fields);
	json_object_array_add(events, e);
}

/* What collect leaves to write beside the next stages: the run's copy of
 * the snapshot (redacted as its load planned) and model.bin.
 * Nothing after collect reads them in the same process (analyze has the
 * model in memory), and on two cores this takes a second and a half off a
 * 150,000-pod run. The job owns its plans; the cluster is only read. */
typedef struct {
	char *snapshot, *snapdir, *cluster_name;
	const kp_cluster *cluster; /* read by the model cache's first step only */
	bool collected[KP_RES_COUNT], usage_collected; /* what to copy */
	loaded_plans *plans;
} write_job;

static void write_job_free(void *p)
{
	write_job *j = p;
	if (j->plans)
		plans_free(j->plans);
	free(j->snapshot);
	free(j->snapdir);
	free(j->cluster_name);
	free(j);
}

static kp_status copy_snapshot(const write_job *j, json_object *events, kp_error *err)
{
	/* snapdir is always new: the run is staged beside RUN (pipeline/rundir.h),
	 * so collecting RUN/snapshot again reads the old copy and writes a new one. */
	char *objdir = kp_path_join(j->snapdir, "objects");
	kp_status s = kp_mkdir_p(objdir, err);
	free(objdir);
	for (int r = 0; r < KP_RES_COUNT && !s; r++) {
		if (!j->collected[r])
			continue;
		char rel[128];
		snprintf(rel, sizeof(rel), "objects/%s.json", kp_resource_name((kp_resource)r));
		char *from = kp_path_join(j->snapshot, rel), *to = kp_path_join(j->snapdir, rel);
		size_t n = 0;
		s = kp_redact_copy_planned(j->plans ? &j->plans->plans[r] : NULL, from, to, &n, err);
		free(from);
		free(to);
		if (!s) {
			json_object *ev = json_object_new_object();
			json_object_object_add(ev, "file", json_object_new_string(rel));
			json_object_object_add(ev, "values_redacted", json_object_new_int64((int64_t)n));
			add_event(events, "collect.redact", ev);
		}
	}
	if (!s && j->usage_collected) {
		char *from = kp_path_join(j->snapshot, "usage.json"), *to = kp_path_join(j->snapdir, "usage.json");
		s = kp_copy_file_atomic(from, to, err);
		free(from);
		free(to);
	}
	return s;
}

/* cluster.json: the cluster's name for the reports. */
static kp_status write_cluster_json(const write_job *j, kp_error *err)
{
	json_object *cl = json_object_new_object();
	json_object_object_add(cl, "name", json_object_new_string(j->cluster_name));
	json_object_object_add(cl, "context", NULL);
	json_object_object_add(cl, "server", NULL);
	json_object_object_add(cl, "source", json_object_new_string("snapshot"));
	char *p = kp_path_join(j->snapdir, "cluster.json");
	kp_status s = kp_json_write_file(p, cl, err);
	free(p);
	json_object_put(cl);
	return s;
}

static void cache_note(json_object *events, const kp_error *cerr)
{
	char *note = kp_xasprintf("collect: model cache not written (analyze will read the raw files): %s", cerr->msg);
	json_object *e = json_object_new_object();
	json_object_object_add(e, "note", json_object_new_string(note));
	json_object_array_add(events, e);
	free(note);
}

static kp_status write_snapshot(kp_run *run, void *arg, json_object *events, kp_error *err)
{
	write_job *j = arg;
	/* The model first, the only part that reads it: analyze waits for
	 * this much before it frees the model's arrays, not for the copy.
	 * model.bin is committed after the raw files (it records their sizes
	 * and mtimes). Only a cache: failing to write it costs analyze time,
	 * not correctness. */
	kp_error cerr = {0};
	kp_cache_writer *cw = NULL;
	if (kp_snapshot_cache_begin(j->cluster, j->snapdir, &cw, &cerr))
		cache_note(events, &cerr);
	j->cluster = NULL;
	kp_run_bg_done_reading(run);
	kp_status s = copy_snapshot(j, events, err);
	if (s)
		kp_snapshot_cache_abort(cw);
	else if (cw && kp_snapshot_cache_finish(cw, &cerr))
		cache_note(events, &cerr);
	return s;
}

/* The copy goes on a second thread from this size of snapshot up. */
#define KP_BACKGROUND_MIN_BYTES (64u << 20)

/* ---- a live cluster ---- */

/* Progress of a live collection: each list's items as its pages arrive
 * (kube.c, on the two list threads) passed on to run->progress, with the
 * sum over the lists ("objects") and the lists done of all ("lists"). */
typedef struct {
	const kp_progress *to;
	pthread_mutex_t lock;
	long long listed[KP_RES_COUNT];
	int lists_done;
} live_progress;

static void live_progress_page(void *ud, const kp_progress_event *ev)
{
	live_progress *lp = ud;
	pthread_mutex_lock(&lp->lock);
	long long objects = 0;
	for (int r = 0; r < KP_RES_COUNT; r++) {
		if (!strcmp(ev->item, kp_resource_name((kp_resource)r)))
			lp->listed[r] = ev->done;
		objects += lp->listed[r];
	}
	kp_progress_report(lp->to, ev->stage, ev->item, ev->done, ev->total);
	kp_progress_report(lp->to, "collect", "objects", objects, -1);
	pthread_mutex_unlock(&lp->lock);
}

static void live_progress_list_done(live_progress *lp)
{
	pthread_mutex_lock(&lp->lock);
	lp->lists_done++;
	kp_progress_report(lp->to, "collect", "lists", lp->lists_done, KP_RES_COUNT);
	pthread_mutex_unlock(&lp->lock);
}

typedef struct {
	kp_kube *kc;
	char *objdir, *snapdir;
	kp_run *run;
	kp_prom_stats prom; /* what reading Prometheus took */
	size_t ms_containers; /* containers metrics-server gave */
	const char *usage_source; /* "prometheus", "metrics-server" or NULL */
	live_progress progress;
} livesrc_t;

static kp_status live_list(void *ud, kp_cluster *c, kp_resource r, kp_error *err)
{
	livesrc_t *l = ud;
	kp_status s = kp_kube_list(l->kc, c, r, l->objdir, err);
	live_progress_list_done(&l->progress);
	return s;
}

/* The usage summaries: Prometheus when a URL was given, else
 * metrics-server when the cluster serves it, else none. Written as the
 * snapshot's usage.json and read back as a snapshot's is. A metrics source
 * that fails degrades the run (the objects are still judged; every
 * workload is listed as skipped for rightsizing, exit 3); a configuration
 * that cannot work stops it. Runs on the lists' second thread. */
static kp_status live_usage(void *ud, kp_cluster *c, kp_error *err)
{
	livesrc_t *l = ud;
	const kp_config *cfg = l->run->cfg;
	char *path = kp_path_join(l->snapdir, "usage.json");
	kp_status s = KP_OK;
	kp_error uerr = {0};
	const char *why = NULL;
	if (cfg->prometheus.url) {
		s = kp_prom_collect(cfg, l->run->now, l->run->audit, l->run->progress, path, &l->prom, &uerr);
		if (s == KP_ERR_USAGE) {
			*err = uerr;
			free(path);
			return s;
		}
		if (!s)
			l->usage_source = "prometheus";
		else
			why = "Prometheus could not be read";
	} else if (kp_kube_serves(l->kc, "metrics.k8s.io/v1beta1")) {
		s = kp_metrics_server_collect(kp_kube_http(l->kc), l->run->now, path, &l->ms_containers, &uerr);
		if (!s)
			l->usage_source = "metrics-server";
		else
			why = "metrics-server could not be read";
	} else {
		kp_cluster_add_missing(c, "usage", NULL, NULL, NULL,
				       "no Prometheus URL was given (--prometheus-url or PROMETHEUS_URL) and the cluster "
				       "serves no metrics-server; no workload was rightsized, all are listed as skipped",
				       "usage: not measured (no Prometheus URL given: --prometheus-url or PROMETHEUS_URL; "
				       "no metrics-server); no workload was rightsized, all are listed as skipped");
	}
	if (why) {
		char *reason = kp_xasprintf("%s (%s); no workload was rightsized, all are listed as skipped", why, uerr.msg);
		char *summary = kp_xasprintf("usage: not measured: %s", reason);
		kp_cluster_add_missing(c, "usage", NULL, NULL, NULL, reason, summary);
		free(reason);
		free(summary);
		s = KP_OK;
	} else if (l->usage_source) {
		s = kp_snapshot_load_usage(c, l->snapdir, err);
	}
	free(path);
	return s;
}

/* cluster.json of a live run: the context's cluster, its server. */
static kp_status write_live_cluster_json(const char *snapdir, const kp_kubeconfig *k, const kp_kube *kc,
					 const char *name, kp_error *err)
{
	json_object *cl = json_object_new_object();
	json_object_object_add(cl, "name", json_object_new_string(name));
	json_object_object_add(cl, "context", k->context ? json_object_new_string(k->context) : NULL);
	char *server = kp_mask_url_credentials(k->server);
	json_object_object_add(cl, "server", json_object_new_string(server));
	free(server);
	const char *v = kp_kube_server_version(kc);
	json_object_object_add(cl, "server_version", v ? json_object_new_string(v) : NULL);
	json_object_object_add(cl, "source", json_object_new_string("live"));
	char *p = kp_path_join(snapdir, "cluster.json");
	kp_status s = kp_json_write_file(p, cl, err);
	free(p);
	json_object_put(cl);
	return s;
}

/* A kubeconfig that does not parse is a configuration error like any
 * other (exit 2), not bad cluster data. */
static kp_status usage_error(kp_status s, kp_error *err)
{
	if (s == KP_ERR_INPUT)
		err->status = s = KP_ERR_USAGE;
	return s;
}

kp_status kp_collect_check_live(const char *kubeconfig, const char *context, kp_error *err)
{
	kp_kubeconfig k;
	bool found = false;
	kp_status s = usage_error(kp_kubeconfig_load(kubeconfig, context, &k, &found, err), err);
	kp_kubeconfig_release(&k);
	if (!s && !found)
		s = kp_fail(err, KP_ERR_USAGE, "nothing to read: give --snapshot DIR, or a kubeconfig (--kubeconfig FILE, "
					      "KUBECONFIG or ~/.kube/config), or run it in a pod (its service account)");
	return s;
}

static kp_status collect_live(kp_run *run, kp_error *err)
{
	kp_kubeconfig k;
	bool found = false;
	kp_status s = usage_error(kp_kubeconfig_load(run->kubeconfig, run->kube_context, &k, &found, err), err);
	if (!s && !found)
		s = kp_fail(err, KP_ERR_USAGE, "no cluster to read: no kubeconfig (--kubeconfig FILE, KUBECONFIG, "
					      "~/.kube/config) and not in a pod; or read a snapshot with --snapshot DIR");
	if (s) {
		kp_kubeconfig_release(&k);
		return s;
	}
	kp_run_note(run, KP_NOTE_INFO, "collect: reading the cluster at %s (%s%s%s)", k.server, k.source,
		    k.context ? ", context " : "", k.context ? k.context : "");
	livesrc_t l = {0};
	l.run = run;
	l.progress.to = run->progress;
	pthread_mutex_init(&l.progress.lock, NULL);
	kp_progress page_progress = {live_progress_page, &l.progress};
	kp_progress_report(run->progress, "collect", "lists", 0, KP_RES_COUNT);
	kp_progress_report(run->progress, "collect", "objects", 0, -1);
	l.snapdir = kp_path_join(run->dir, "snapshot");
	l.objdir = kp_path_join(l.snapdir, "objects");
	s = kp_mkdir_p(l.objdir, err);
	/* kube.*: the client's limits */
	const kp_config *cfg = run->cfg;
	kp_http_opts limits = {0};
	limits.qps = cfg->kube.qps;
	limits.burst = cfg->kube.burst;
	limits.connect_timeout_ms = (long)cfg->kube.connect_timeout_seconds * 1000L;
	limits.timeout_ms = (long)cfg->kube.timeout_seconds * 1000L;
	limits.max_attempts = cfg->kube.retries;
	kp_kube_opts ko = {.page_size = cfg->kube.page_size, .http = &limits,
			   .progress = run->progress ? &page_progress : NULL};
	if (!s)
		s = kp_kube_connect(&k, &ko, run->audit, &l.kc, err);
	kp_cluster *c = NULL;
	if (!s) {
		c = kp_xcalloc(1, sizeof(*c));
		kp_cluster_init(c);
		kp_snapshot_source src = {live_list, live_usage, &l};
		s = kp_snapshot_load_from(c, &src, err);
	}
	if (!s) {
		const char *cname = run->cfg->collect.cluster_name;
		s = write_live_cluster_json(l.snapdir, &k, l.kc, cname ? cname : k.cluster_name ? k.cluster_name : "in-cluster",
					    err);
	}
	if (!s) {
		kp_http_stats hs = kp_kube_stats(l.kc);
		kp_run_note(run, KP_NOTE_INFO, "collect: %llu requests to the API server (%llu retried), %.1f MB",
			    (unsigned long long)hs.attempts, (unsigned long long)hs.retries, (double)hs.bytes / 1e6);
		if (l.usage_source && !strcmp(l.usage_source, "prometheus"))
			kp_run_note(run, KP_NOTE_INFO,
				    "collect: usage of %zu containers from Prometheus: %d queries (%d split as too heavy), "
				    "%zu series, %.1f s",
				    l.prom.containers, l.prom.queries, l.prom.split, l.prom.series, l.prom.seconds);
		else if (l.usage_source)
			kp_run_note(run, KP_NOTE_INFO, "collect: usage of %zu containers from metrics-server (one sample each)",
				    l.ms_containers);
		/* the model cache, as for a snapshot: a later `kopilot analyze
		 * RUN` need not parse the lists again */
		kp_error cerr = {0};
		if (kp_snapshot_cache_write(c, l.snapdir, &cerr))
			kp_run_note(run, KP_NOTE_INFO, "collect: model cache not written (analyze will read the raw files): %s",
				    cerr.msg);
		run->cluster = c;
		c = NULL;
	}
	if (c) {
		kp_cluster_release(c);
		free(c);
	}
	kp_kube_free(l.kc);
	kp_kubeconfig_release(&k);
	free(l.objdir);
	free(l.snapdir);
	pthread_mutex_destroy(&l.progress.lock);
	return s;
}

/* --snapshot-out DIR: the run's snapshot (lists, usage.json, cluster.json)
 * as a portable copy, written beside DIR and switched in whole. */
static kp_status save_snapshot(kp_run *run, kp_error *err)
{
	const char *dst = run->snapshot_out;
	char *src = kp_path_join(run->dir, "snapshot");
	char *tmp = kp_xasprintf("%s.new.%ld", dst, (long)getpid());
	char *old = kp_xasprintf("%s.old.%ld", dst, (long)getpid());
	char *objdir = kp_path_join(tmp, "objects");
	kp_status s = kp_mkdir_p(objdir, err);
	for (int r = 0; r < KP_RES_COUNT && !s; r++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "objects/%s.json", kp_resource_name((kp_resource)r));
		char *from = kp_path_join(src, rel), *to = kp_path_join(tmp, rel);
		if (kp_file_exists(from))
			s = kp_copy_file_atomic(from, to, err);
		free(from);
		free(to);
	}
	static const char *const files[] = {"usage.json", "cluster.json"};
	for (size_t i = 0; i < 2 && !s; i++) {
		char *from = kp_path_join(src, files[i]), *to = kp_path_join(tmp, files[i]);
		if (kp_file_exists(from))
			s = kp_copy_file_atomic(from, to, err);
		free(from);
		free(to);
	}
	if (!s) {
		bool had = kp_file_exists(dst);
		if (had && rename(dst, old) != 0)
			s = kp_fail(err, KP_ERR_IO, "--snapshot-out %s: cannot replace it: %s", dst, strerror(errno));
		else if (rename(tmp, dst) != 0) {
			s = kp_fail(err, KP_ERR_IO, "--snapshot-out %s: %s", dst, strerror(errno));
			if (had)
				(void)rename(old, dst);
		} else if (had) {
			kp_remove_tree(old);
		}
	}
	if (s)
		kp_remove_tree(tmp);
	free(objdir);
	free(tmp);
	free(old);
	free(src);
	return s;
}

/* A warning each for the first few gaps, then how many more: a cluster
 * whose metrics miss hundreds of workloads must not fill the terminal (the
 * reports and findings.json "missing" list them all). Any gap: degraded. */
static void warn_gaps(kp_run *run)
{
	const kp_cluster *c = run->cluster;
	for (size_t i = 0; i < c->missing.len && i < KP_COLLECT_WARNINGS; i++)
		kp_run_note(run, KP_NOTE_WARN, "collect: %s", c->missing.items[i].summary);
	if (c->missing.len > KP_COLLECT_WARNINGS)
		kp_run_note(run, KP_NOTE_WARN, "collect: ... and %zu more inputs not collected (report.md \"Not collected\", "
			    "findings.json \"missing\")", c->missing.len - KP_COLLECT_WARNINGS);
	if (c->missing.len)
		run->degraded = true;
}

static kp_status collect_run(kp_run *run, kp_error *err)
{
	if (!run->snapshot && !run->cluster) {
		kp_status s = collect_live(run, err);
		if (!s && run->snapshot_out)
			s = save_snapshot(run, err);
		if (s)
			return s;
		warn_gaps(run);
		return KP_OK;
	}
	kp_status s = collect_load(run, err);
	if (s)
		return s;
	const kp_cluster *c = run->cluster;
	for (int r = 0; r < KP_RES_COUNT; r++) {
		json_object *f = json_object_new_object();
		json_object_object_add(f, "resource", json_object_new_string(kp_resource_name((kp_resource)r)));
		json_object_object_add(f, "collected", json_object_new_boolean(c->collected[r]));
		json_object_object_add(f, "source", json_object_new_string("snapshot"));
		kp_audit_event(run->audit, "collect.list", f);
	}
	json_object *u = json_object_new_object();
	json_object_object_add(u, "collected", json_object_new_boolean(c->usage_collected));
	kp_audit_event(run->audit, "collect.usage", u);

	write_job *j = kp_xcalloc(1, sizeof(*j));
	char name[256];
	const char *cname = run->cfg->collect.cluster_name;
	j->snapshot = kp_xstrdup(run->snapshot);
	j->snapdir = kp_path_join(run->dir, "snapshot");
	j->cluster_name = kp_xstrdup(cname ? cname : base_name(run->snapshot, name, sizeof(name)));
	j->cluster = c;
	memcpy(j->collected, c->collected, sizeof(j->collected));
	j->usage_collected = c->usage_collected;
	/* the plans go with the job, out of the run it must not change */
	j->plans = (loaded_plans *)plans_for(run, c);
	if (j->plans) {
		run->stage_private = NULL;
		run->private_free = NULL;
	}
	forget_plans(run);
	/* cluster.json now: analyze reads the cluster's name from it */
	s = kp_mkdir_p(j->snapdir, err);
	if (!s)
		s = write_cluster_json(j, err);
	if (s) {
		write_job_free(j);
		return s;
	}
	/* beside the next stages only when there is enough to copy for it to
	 * matter: a small run stays in call order, so what fails first (a full
	 * disk) is always the same */
	bool big = kp_snapshot_raw_bytes(j->snapshot) >= KP_BACKGROUND_MIN_BYTES;
	s = kp_run_background(run, write_snapshot, j, write_job_free, big, err);
	if (s)
		return s;
	warn_gaps(run);
	return KP_OK;
}

kp_status kp_collect_load(kp_run *run, kp_error *err) { return kp_run_guarded(collect_load, run, err); }

kp_status kp_collect_run(kp_run *run, kp_error *err) { return kp_run_guarded(collect_run, run, err); }
