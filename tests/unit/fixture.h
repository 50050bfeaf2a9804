/*
 * fixture.h - a snapshot directory built by a test, loaded and analyzed:
 * the one set of helpers the rule tests share. Every list starts present
 * and empty (collected, nothing in it) and usage.json empty; tests overwrite
 * what they need, then call fx_run. Header-only (static functions) so each
 * test file links its own copy without symbol clashes in the one binary.
 *
 * Ownership: fx_init fills the fixture; fx_fini releases everything and
 * removes the directory.
 */
#ifndef KP_TEST_FIXTURE_H
#define KP_TEST_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/config.h"
#include "stages/analyze/analyze.h"
#include "stages/collect/snapshot.h"

#define FX_UNUSED __attribute__((unused))

typedef struct kp_fixture {
	char dir[256];
	kp_cluster cluster;
	kp_findings out;
	kp_config cfg;
	bool loaded;
	const char *usage_source;
} kp_fixture;

FX_UNUSED static void fx_write(kp_fixture *fx, const char *rel, const char *text)
{
	char *p = kp_path_join(fx->dir, rel);
	cr_assert(kp_write_file_atomic(p, text, strlen(text), NULL) == KP_OK, "cannot write %s", p);
	free(p);
}

FX_UNUSED static void fx_remove(kp_fixture *fx, const char *rel)
{
	char *p = kp_path_join(fx->dir, rel);
	cr_assert(unlink(p) == 0, "cannot remove %s", p);
	free(p);
}

/* objects/<res>.json as kubectl prints it, with the given comma-separated items. */
FX_UNUSED static void fx_list(kp_fixture *fx, const char *res, const char *items)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "objects/%s.json", res);
	char *t = kp_xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"\"},"
			       "\"items\":[%s]}",
			       items);
	fx_write(fx, rel, t);
	free(t);
}

/* usage.json over the 14 days before 2026-11-25T06:00:00Z with these entries. */
FX_UNUSED static void fx_usage(kp_fixture *fx, const char *entries)
{
	char *t = kp_xasprintf("{\"schema\":\"kopilot.usage/v1\",\"window\":{\"start\":\"2026-11-11T06:00:00Z\","
			       "\"end\":\"2026-11-25T06:00:00Z\",\"step_seconds\":60,\"source\":\"%s\"},"
			       "\"containers\":[%s]}",
			       fx->usage_source, entries);
	fx_write(fx, "usage.json", t);
	free(t);
}

/* name: a word for the temp directory; usage_source: "manual", "prometheus". */
FX_UNUSED static void fx_init(kp_fixture *fx, const char *name, const char *usage_source)
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/kp-%s-XXXXXX", name);
	cr_assert(mkdtemp(fx->dir));
	char *objects = kp_path_join(fx->dir, "objects");
	cr_assert(kp_mkdir_p(objects, NULL) == KP_OK);
	free(objects);
	for (int r = 0; r < KP_RES_COUNT; r++)
		fx_list(fx, kp_resource_name((kp_resource)r), "");
	fx->usage_source = usage_source;
	fx_usage(fx, "");
	kp_config_init(&fx->cfg);
}

/* Loads the snapshot and runs one rule, or every rule (rule NULL), at now. */
FX_UNUSED static void fx_run(kp_fixture *fx, const char *now_rfc3339, void (*rule)(kp_analyze_ctx *))
{
	kp_error err = {0};
	kp_cluster_init(&fx->cluster);
	cr_assert_eq(kp_snapshot_load(&fx->cluster, fx->dir, &err), KP_OK, "load failed: %s", err.msg);
	kp_findings_init(&fx->out);
	fx->loaded = true;
	int64_t now;
	cr_assert(kp_time_parse(now_rfc3339, &now));
	kp_analyze_ctx ctx = {.cluster = &fx->cluster, .cfg = &fx->cfg, .now = now, .out = &fx->out};
	if (rule) {
		rule(&ctx);
		kp_analyze_ctx_release(&ctx);
	} else {
		kp_analyze(&ctx);
	}
}

/* Forgets the last run's results (the snapshot directory stays). */
FX_UNUSED static void fx_unload(kp_fixture *fx)
{
	if (!fx->loaded)
		return;
	kp_findings_release(&fx->out);
	kp_cluster_release(&fx->cluster);
	fx->loaded = false;
}

FX_UNUSED static void fx_fini(kp_fixture *fx)
{
	fx_unload(fx);
	kp_config_release(&fx->cfg);
	char *cmd = kp_xasprintf("rm -rf '%s'", fx->dir);
	cr_assert(system(cmd) == 0);
	free(cmd);
}

FX_UNUSED static const kp_finding *fx_find(const kp_fixture *fx, kp_category cat, const char *name)
{
	for (size_t i = 0; i < fx->out.items.len; i++)
		if (fx->out.items.items[i].category == cat && strcmp(fx->out.items.items[i].name, name) == 0)
			return &fx->out.items.items[i];
	return NULL;
}

FX_UNUSED static const kp_skip *fx_skip(const kp_fixture *fx, const char *name)
{
	for (size_t i = 0; i < fx->out.skipped.len; i++)
		if (strcmp(fx->out.skipped.items[i].name, name) == 0)
			return &fx->out.skipped.items[i];
	return NULL;
}

FX_UNUSED static const kp_evidence *fx_ev(const kp_finding *f, const char *metric)
{
	for (size_t i = 0; i < f->nevidence; i++)
		if (f->evidence[i].metric && strcmp(f->evidence[i].metric, metric) == 0)
			return &f->evidence[i];
	return NULL;
}

#endif
