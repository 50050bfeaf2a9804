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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/model.h"
#include "stages/collect/snapshot.h"

#ifndef KP_FUZZ_COMPANION
#define KP_FUZZ_COMPANION "build/fuzz/companion"
#endif

static char *comp[KP_RES_COUNT];
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
			if (!IN(c.workloads.items[i].hpa, c.hpas))
				abort();
	}
	kp_cluster_release(&c);
	return 0;
}
