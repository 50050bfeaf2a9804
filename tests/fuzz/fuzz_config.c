/*
 * fuzz_config.c - libFuzzer harness for the YAML configuration file loader
 * (kp_config_load_file): the input is written to a temp file, loaded over
 * the defaults, validated, shown and serialised, then released.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/config.h"

static char path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *tmp = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/kp-fuzz-config.%ld.yaml", tmp && *tmp ? tmp : "/tmp", (long)getpid());
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
	kp_config c;
	kp_config_init(&c);
	kp_error err = {0};
	kp_status s = kp_config_load_file(&c, path, &err);
	if (s == KP_OK) {
		kp_error verr = {0};
		kp_config_validate(&c, &verr);
		free(kp_config_show(&c));
		json_object_put(kp_config_to_json(&c));
	} else if (!err.msg[0]) {
		abort();
	}
	kp_config_release(&c);
	unlink(path);
	return 0;
}
