/*
 * fuzz_snapshot.c - libFuzzer harness for the snapshot loader and everything
 * that consumes its result: kp_snapshot_load -> kp_analyze ->
 * kp_scope_missing -> kp_analysis_doc -> kp_recommend, all released again
 * (leaks are findings).
 *
 * Input: byte 0 picks the file, the rest is its text. With k = (byte0 & 0x1f) - 1
 * (mod 32): k = 15 is usage.json, any other k the kp_resource k (below 15)
 * or k - 1 (above), modulo KP_RES_COUNT: 'A' = pods, 'B' = deployments, ...,
 * 'O' = storageclasses, 'P' = usage.json, 'Q' = rollouts, 'R' =
 * verticalpodautoscalers (letters stay
 * stable as resources are added at the end of kp_resource).
 *   byte0 & 0x20 (lower case letters): the file is put into a copy of the
 *   small consistent companion snapshot (KP_FUZZ_COMPANION, made by
 *   make_corpus.py) instead of an otherwise empty one, so the analyzers
 *   have workloads, pods, PVCs and usage to judge and recommend has
 *   findings to price.
 *
 * Two snapshot directories are made once per process under $TMPDIR; each
 * run writes the fuzzed file and restores the companion's file afterwards,
 * so runs never see each other's input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/config.h"
#include "pipeline/findings_json.h"
#include "pipeline/model.h"
#include "stages/analyze/analyze.h"
#include "stages/collect/snapshot.h"
#include "stages/recommend/recommend.h"

#ifndef KP_FUZZ_COMPANION
#define KP_FUZZ_COMPANION "tests/fuzz/build/companion"
#endif

#define NFILES (KP_RES_COUNT + 1)

static char *dirs[2];           /* [0] empty snapshot, [1] companion copy */
static char *rel[NFILES];       /* "objects/pods.json", ..., "usage.json" */
static char *comp[NFILES];      /* companion text, NULL when it has no such file */
static size_t comp_len[NFILES];
static kp_config cfg;
static int64_t now;

static void die(const char *what, const char *path)
{
	fprintf(stderr, "fuzz_snapshot: %s %s\n", what, path);
	abort();
}

static void put_file(const char *dir, const char *relpath, const void *data, size_t len)
{
	char *p = kp_path_join(dir, relpath);
	FILE *f = fopen(p, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
		die("cannot write", p);
	free(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *tmp = getenv("TMPDIR");
	char tmpl[4096];
	kp_error err = {0};
	for (int i = 0; i < NFILES; i++) {
		rel[i] = i < KP_RES_COUNT ? kp_xasprintf("objects/%s.json", kp_resource_name((kp_resource)i))
					  : kp_xstrdup("usage.json");
		char *src = kp_path_join(KP_FUZZ_COMPANION, rel[i]);
		if (kp_file_exists(src) && kp_read_file(src, &comp[i], &comp_len[i], &err))
			die("cannot read", src);
		free(src);
	}
	if (!comp[KP_RES_PODS])
		die("companion snapshot missing (run tests/fuzz/run.sh):", KP_FUZZ_COMPANION);
	for (int d = 0; d < 2; d++) {
		snprintf(tmpl, sizeof(tmpl), "%s/kp-fuzz-snap.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(tmpl))
			die("mkdtemp", tmpl);
		dirs[d] = kp_xstrdup(tmpl);
		char *obj = kp_path_join(tmpl, "objects");
		if (kp_mkdir_p(obj, &err))
			die("mkdir", obj);
		free(obj);
		for (int i = 0; d == 1 && i < NFILES; i++)
			if (comp[i])
				put_file(dirs[d], rel[i], comp[i], comp_len[i]);
	}
	kp_config_init(&cfg);
	if (!kp_time_parse("2026-11-25T06:00:00Z", &now))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int k = ((data[0] & 0x1f) + 31) % 32;
	int which = k == 15 ? KP_RES_COUNT : (k < 15 ? k : k - 1) % KP_RES_COUNT;
	int d = (data[0] & 0x20) ? 1 : 0;
	const char *dir = dirs[d];
	put_file(dir, rel[which], data + 1, size - 1);

	kp_cluster c;
	kp_cluster_init(&c);
	kp_error err = {0};
	if (kp_snapshot_load(&c, dir, &err) == KP_OK) {
		c.name = kp_arena_strdup(&c.arena, "fuzz");
		kp_findings f;
		kp_findings_init(&f);
		kp_analyze_ctx ctx = {.cluster = &c, .cfg = &cfg, .now = now, .out = &f};
		kp_analyze(&ctx);
		/* the run's scope over what was not collected, as analyze_run
		 * applies it (namespaces of the companion and of the demo) */
		static const char *const scope_ns[] = {"checkout", "ml"};
		f.missing_excluded_by_scope = kp_scope_missing(&c, &cfg, scope_ns, data[0] & 0x80 ? 0 : 2);
		json_object *analysis = kp_analysis_doc(&c, &f, now);
		kp_findings_fill(analysis, &f, false);
		json_object *findings = NULL, *plan = NULL;
		kp_error rerr = {0};
		if (kp_recommend(&cfg, analysis, "analysis.json", &findings, &plan, NULL, &rerr) == KP_OK) {
			/* What the next stage would write: must serialise. */
			size_t n = 0;
			json_object_to_json_string_length(findings, JSON_C_TO_STRING_PLAIN, &n);
			json_object_to_json_string_length(plan, JSON_C_TO_STRING_PLAIN, &n);
		}
		json_object_put(findings);
		json_object_put(plan);
		json_object_put(analysis);
		kp_findings_release(&f);
	} else {
		/* Error messages end up on terminals and in logs: valid UTF-8,
		 * no control characters (escape sequences, newlines), bounded. */
		bool ok = err.msg[0] && kp_json_is_valid_utf8(err.msg);
		for (const unsigned char *p = (const unsigned char *)err.msg; ok && *p; p++)
			if (*p < 0x20 || *p == 0x7f || (*p == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0))
				ok = false;
		if (!ok) {
			fprintf(stderr, "fuzz_snapshot: unsafe error message: %s\n", err.msg);
			abort();
		}
	}
	kp_cluster_release(&c);

	/* Restore the directory for the next run. */
	if (comp[which] && d == 1) {
		put_file(dir, rel[which], comp[which], comp_len[which]);
	} else {
		char *p = kp_path_join(dir, rel[which]);
		unlink(p);
		free(p);
	}
	return 0;
}
