/*
 * fuzz_model.c - libFuzzer harness for the model builder alone: one List
 * parsed from memory into a kp_cluster (kp_snapshot_parse_list, every
 * parse_<kind>() of stages/collect/snapshot.c) and the owner/HPA/pod links
 * (kp_snapshot_resolve), without files, streaming or the analyzers, so
 * far more inputs a second reach the code that reads each field than
 * fuzz_snapshot's whole pipeline does. Run with tests/fuzz/kubernetes.dict.
 *
 * Input: byte 0 picks the list as in fuzz_snapshot ('A' pods, 'B'
 * deployments, ... 'O' storageclasses, 'Q' rollouts; 'P' and other bytes
 * wrap around to a list); a lower-case letter first loads the companion
 * snapshot's other lists (read once, at start-up, from KP_FUZZ_COMPANION),
 * so pods find their ReplicaSets and Deployments and HPAs their targets.
 * The rest is the list's text.
 *
 * Checks beyond "no crash, leak, UB or hang": an error always has a
 * printable message; a loaded model's links point into its own arrays.
 *
 * Differential checks of the streaming reader (pipeline/listscan.c):
 *   - the list read through the keep-filters and read whole (every member
 *     of every item kept, kp_snapshot_set_filtering(false)) ends the same
 *     way, with the same message, and gives the same model (model.bin
 *     written from each, compared byte for byte);
 *   - with nothing filtered, each element is the tree json-c's own parser
 *     makes of the text, and a text the reader accepts json-c accepts too
 *     (json-c is laxer about UTF-8, so the converse is not checked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/model.h"
#include "pipeline/listscan.h"
#include "stages/collect/snapshot.h"

#ifndef KP_FUZZ_COMPANION
#define KP_FUZZ_COMPANION "build/fuzz/companion"
#endif

static char *comp[KP_RES_COUNT];
static char *cache_dirs[2]; /* model.bin of the filtered and the whole read */
static size_t comp_len[KP_RES_COUNT];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	for (int r = 0; r < KP_RES_COUNT; r++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "objects/%s.json", kp_resource_name((kp_resource)r));
		char *p = kp_path_join(KP_FUZZ_COMPANION, rel);
		kp_error err = {0};
		if (kp_file_exists(p) && kp_read_file(p, &comp[r], &comp_len[r], &err)) {
			fprintf(stderr, "fuzz_model: %s\n", err.msg);
			abort();
		}
		free(p);
	}
	/* model.bin is written with fsync: on a tmpfs that costs nothing */
	const char *tmp = kp_file_exists("/dev/shm") ? "/dev/shm" : getenv("TMPDIR");
	for (int d = 0; d < 2; d++) {
		char tmpl[4096];
		snprintf(tmpl, sizeof(tmpl), "%s/kp-fuzz-model-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(tmpl)) {
			fprintf(stderr, "fuzz_model: cannot make %s\n", tmpl);
			abort();
		}
		cache_dirs[d] = kp_xstrdup(tmpl);
	}
	if (!comp[KP_RES_PODS]) {
		fprintf(stderr, "fuzz_model: companion snapshot missing (run tests/fuzz/run.sh): %s\n", KP_FUZZ_COMPANION);
		abort();
	}
	return 0;
}

static bool printable(const char *s)
{
	bool ok = s[0] && kp_json_is_valid_utf8(s);
	for (const unsigned char *p = (const unsigned char *)s; ok && *p; p++)
		if (*p < 0x20 || *p == 0x7f || (*p == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0))
			ok = false;
	return ok;
}


/* The list alone, filtered (whole = false) or whole; its model.bin's bytes
 * in *bin (NULL when it did not load). */
static kp_status load_one(int which, const uint8_t *data, size_t size, bool whole, char **bin, size_t *bin_len,
			  kp_error *err)
{
	kp_cluster c;
	kp_cluster_init(&c);
	kp_snapshot_set_filtering(!whole);
	kp_status s = kp_snapshot_parse_list(&c, (kp_resource)which, (const char *)data, size, err);
	kp_snapshot_set_filtering(true);
	*bin = NULL;
	*bin_len = 0;
	if (!s) {
		kp_snapshot_resolve(&c);
		kp_error werr = {0};
		char *p = kp_path_join(cache_dirs[whole], "model.bin");
		if (kp_snapshot_cache_write(&c, cache_dirs[whole], &werr) || kp_read_file(p, bin, bin_len, &werr)) {
			fprintf(stderr, "fuzz_model: model.bin: %s\n", werr.msg);
			abort();
		}
		free(p);
	}
	kp_cluster_release(&c);
	return s;
}

static kp_status seen_item(void *ud, json_object *item, size_t index, kp_error *err)
{
	(void)index, (void)err;
	kp_buf_printf(ud, "%s\n", item ? json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN) : "null");
	return KP_OK;
}

static void differential(int which, const uint8_t *data, size_t size)
{
	/* filtered and whole: the same verdict and the same model */
	kp_error e1 = {0}, e2 = {0};
	char *b1, *b2;
	size_t l1, l2;
	kp_status s1 = load_one(which, data, size, false, &b1, &l1, &e1);
	kp_status s2 = load_one(which, data, size, true, &b2, &l2, &e2);
	if (s1 != s2 || (s1 && strcmp(e1.msg, e2.msg) != 0) || l1 != l2 || (l1 && memcmp(b1, b2, l1) != 0)) {
		fprintf(stderr, "fuzz_model: the keep-filters change the outcome:\n filtered: %d %s\n whole: %d %s\n%s\n",
			(int)s1, e1.msg, (int)s2, e2.msg, l1 != l2 || (l1 && memcmp(b1, b2, l1)) ? " models differ" : "");
		abort();
	}
	free(b1);
	free(b2);
	/* nothing filtered: json-c's trees */
	kp_buf got, want;
	kp_buf_init(&got);
	kp_buf_init(&want);
	kp_error err = {0};
	kp_listscan *ls = kp_listscan_new("fuzz", "items", NULL, NULL, seen_item, &got);
	kp_status s = kp_listscan_feed(ls, (const char *)data, size, &err);
	if (!s)
		s = kp_listscan_finish(ls, &err);
	json_object *skel = s ? NULL : kp_listscan_skeleton(ls);
	size_t arrays = kp_listscan_arrays(ls);
	kp_listscan_free(ls);
	json_tokener *tok = json_tokener_new_ex(4096);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *doc = size > 0x7fffffff ? NULL : json_tokener_parse_ex(tok, (const char *)data, (int)size);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		doc = json_tokener_parse_ex(tok, " ", 1); /* a bare number at the end */
		jerr = json_tokener_get_error(tok);
	}
	size_t end = json_tokener_get_parse_end(tok);
	while (end < size && strchr(" \t\r\n", data[end]) && data[end])
		end++;
	bool jc_ok = doc && jerr == json_tokener_success && end >= size && !memchr(data, 0, size);
	json_tokener_free(tok);
	if (!s && !jc_ok) {
		fprintf(stderr, "fuzz_model: the reader accepts what json-c refuses (%s)\n", json_tokener_error_desc(jerr));
		abort();
	}
	if (!s && json_object_is_type(doc, json_type_object)) {
		/* every depth-1 "items" array is streamed; json-c keeps the last */
		json_object *items = NULL;
		if (json_object_object_get_ex(doc, "items", &items) && json_object_is_type(items, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(items); i++) {
				json_object *e = json_object_array_get_idx(items, i);
				kp_buf_printf(&want, "%s\n", e ? json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN) : "null");
			}
			if (arrays == 1 && strcmp(kp_buf_cstr(&got), kp_buf_cstr(&want)) != 0) {
				fprintf(stderr, "fuzz_model: the reader's trees differ from json-c's:\n%s\n--- json-c:\n%s\n",
					kp_buf_cstr(&got), kp_buf_cstr(&want));
				abort();
			}
		}
	}
	json_object_put(doc);
	json_object_put(skel);
	kp_buf_release(&got);
	kp_buf_release(&want);
}

#define IN(ptr, arr) (!(ptr) || ((ptr) >= (arr).items && (ptr) < (arr).items + (arr).len))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int k = ((data[0] & 0x1f) + 31) % 32;
	int which = (k == 15 ? 0 : k < 15 ? k : k - 1) % KP_RES_COUNT;
	kp_cluster c;
	kp_cluster_init(&c);
	kp_error err = {0};
	kp_status s = KP_OK;
	for (int r = 0; (data[0] & 0x20) && r < KP_RES_COUNT && !s; r++)
		if (r != which && comp[r])
			s = kp_snapshot_parse_list(&c, (kp_resource)r, comp[r], comp_len[r], &err);
	if (s) {
		fprintf(stderr, "fuzz_model: the companion does not load: %s\n", err.msg);
		abort();
	}
	s = kp_snapshot_parse_list(&c, (kp_resource)which, (const char *)data + 1, size - 1, &err);
	if (s && !printable(err.msg)) {
		fprintf(stderr, "fuzz_model: unsafe error message: %s\n", err.msg);
		abort();
	}
	if (!s) {
		kp_snapshot_resolve(&c);
		for (size_t i = 0; i < c.pods.len; i++)
			if (!IN(c.pods.items[i].workload, c.workloads))
				abort();
		for (size_t i = 0; i < c.workloads.len; i++)
			if (!IN(c.workloads.items[i].hpa, c.hpas) || !IN(c.workloads.items[i].vpa, c.vpas))
				abort();
	}
	kp_cluster_release(&c);
	differential(which, data + 1, size - 1);
	return 0;
}
