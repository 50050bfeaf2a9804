/*
 * collect.c - see collect.h. The snapshot lists are copied as they are
 * (the kubectl output the rest of the pipeline and a person can read) but
 * with secrets redacted (redact.h: env values, Secret data, the
 * last-applied-configuration annotation); usage.json is copied as it is;
 * cluster.json names the cluster for the reports.
 */
#include "stages/collect/collect.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/fault.h"
#include "stages/collect/redact.h"
#include "stages/collect/snapshot.h"

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
		return kp_fail(err, KP_ERR_USAGE, "no snapshot directory to read (live collection is not implemented yet)");
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

static kp_status copy_snapshot(kp_run *run, const kp_cluster *c, const char *snapdir, kp_error *err)
{
	const loaded_plans *plans = plans_for(run, c);
	/* snapdir is always new: the run is staged beside RUN (pipeline/rundir.h),
	 * so collecting RUN/snapshot again reads the old copy and writes a new one. */
	char *objdir = kp_path_join(snapdir, "objects");
	kp_status s = kp_mkdir_p(objdir, err);
	free(objdir);
	for (int r = 0; r < KP_RES_COUNT && !s; r++) {
		if (!c->collected[r])
			continue;
		char rel[128];
		snprintf(rel, sizeof(rel), "objects/%s.json", kp_resource_name((kp_resource)r));
		char *from = kp_path_join(run->snapshot, rel), *to = kp_path_join(snapdir, rel);
		size_t n = 0;
		s = kp_redact_copy_planned(plans ? &plans->plans[r] : NULL, from, to, &n, err);
		free(from);
		free(to);
		if (!s) {
			json_object *ev = json_object_new_object();
			json_object_object_add(ev, "file", json_object_new_string(rel));
			json_object_object_add(ev, "values_redacted", json_object_new_int64((int64_t)n));
			kp_audit_event(run->audit, "collect.redact", ev);
		}
	}
	if (!s && c->usage_collected) {
		char *from = kp_path_join(run->snapshot, "usage.json"), *to = kp_path_join(snapdir, "usage.json");
		s = kp_copy_file_atomic(from, to, err);
		free(from);
		free(to);
	}
	forget_plans(run);
	return s;
}

/* cluster.json: the cluster's name for the reports. */
static kp_status write_cluster_json(const kp_run *run, const char *snapdir, kp_error *err)
{
	char name[256];
	const char *cname = run->cfg->collect.cluster_name;
	json_object *cl = json_object_new_object();
	json_object_object_add(cl, "name", json_object_new_string(cname ? cname : base_name(run->snapshot, name, sizeof(name))));
	json_object_object_add(cl, "context", NULL);
	json_object_object_add(cl, "server", NULL);
	json_object_object_add(cl, "source", json_object_new_string("snapshot"));
	char *p = kp_path_join(snapdir, "cluster.json");
	kp_status s = kp_json_write_file(p, cl, err);
	free(p);
	json_object_put(cl);
	return s;
}

static kp_status collect_run(kp_run *run, kp_error *err)
{
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

	char *snapdir = kp_path_join(run->dir, "snapshot");
	s = copy_snapshot(run, c, snapdir, err);
	if (!s)
		s = write_cluster_json(run, snapdir, err);
	if (!s) {
		/* model.bin is written after the raw files (it records their
		 * sizes and mtimes). Only a cache: failing to write it costs
		 * analyze time, not correctness. */
		kp_error cerr = {0};
		if (kp_snapshot_cache_write(c, snapdir, &cerr))
			kp_run_note(run, KP_NOTE_WARN, "collect: model cache not written (analyze will read the raw files): %s",
				    cerr.msg);
	}
	free(snapdir);
	if (s)
		return s;
	for (size_t i = 0; i < c->missing.len; i++)
		kp_run_note(run, KP_NOTE_WARN, "collect: %s", c->missing.items[i].summary);
	if (c->missing.len)
		run->degraded = true;
	return KP_OK;
}

kp_status kp_collect_load(kp_run *run, kp_error *err) { return kp_run_guarded(collect_load, run, err); }

kp_status kp_collect_run(kp_run *run, kp_error *err) { return kp_run_guarded(collect_run, run, err); }
