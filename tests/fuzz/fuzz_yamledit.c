/*
 * fuzz_yamledit.c - libFuzzer harness for the manifest editor
 * (stages/render/gitops/yamledit.h): the files it reads come from a
 * repository anyone on the team can write to.
 *
 * The input is a manifest. For each object it declares, the first
 * container's resources are set (requests, limits, a limit removed) and
 * a scalar is set at a JSON Pointer. Properties checked, beyond "no crash,
 * no UB, no leak":
 *   - an edit that succeeds gives text that declares the same objects, in
 *     the same documents;
 *   - editing that text again with the same values changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/render/gitops/yamledit.h"

static size_t count_objects(const char *t, size_t n)
{
	kp_yaml_object *o = NULL;
	size_t k = 0;
	bool templ = false;
	kp_error err = {0};
	if (kp_yaml_objects("f.yaml", t, n, &o, &k, &templ, &err) != KP_OK)
		k = (size_t)-1;
	free(o);
	return k;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	kp_yaml_object *objs = NULL;
	size_t n = 0;
	bool templ = false;
	kp_error err = {0};
	if (kp_yaml_objects("f.yaml", text, size, &objs, &n, &templ, &err) == KP_OK) {
		for (size_t i = 0; i < n && i < 4; i++) {
			kp_yaml_resources w = {"app", 250, KP_YAML_REMOVE, 256LL << 20, 1LL << 30, 0}; /* at_line 0: by container name */
			char *out = NULL;
			size_t outn = 0;
			int changed = 0;
			if (kp_yaml_edit_resources("f.yaml", text, size, objs[i].doc, &w, &out, &outn, &changed, &err) ==
			    KP_OK) {
				if (count_objects(out, outn) != n) {
					fprintf(stderr, "the edit changed the objects the file declares\n");
					abort();
				}
				char *again = NULL;
				size_t an = 0;
				int ch2 = -1;
				if (kp_yaml_edit_resources("f.yaml", out, outn, objs[i].doc, &w, &again, &an, &ch2, &err) !=
					    KP_OK ||
				    ch2 != 0 || an != outn || memcmp(again, out, an)) {
					fprintf(stderr, "editing the edited text again changed it (%d)\n", ch2);
					abort();
				}
				free(again);
			}
			free(out);
			out = NULL;
			if (kp_yaml_edit_scalar("f.yaml", text, size, objs[i].doc, "/spec/replicas", "1", "2", &out, &outn,
						&err) == KP_OK &&
			    count_objects(out, outn) != n) {
				fprintf(stderr, "the scalar edit changed the objects the file declares\n");
				abort();
			}
			free(out);
		}
	}
	free(objs);
	free(text);
	return 0;
}
