/*
 * fuzz_mustache.c - libFuzzer harness for the mustache engine in Markdown
 * mode (kp_mustache_render_markdown). The input is the template; the
 * context is a small fixed JSON document with every JSON type, nesting,
 * lists (one of them empty) and strings full of Markdown/HTML specials, so
 * sections, inverted sections, dotted names and escaping all get exercised.
 * Every render must end in either an output or an error message, and
 * everything is freed (leaks are findings).
 */
#include <stdlib.h>
#include <string.h>

#include "stages/render/render.h"

static json_object *ctx;

static const char context_json[] =
	"{\"name\":\"a|b*c_d`e[f]g<h>i&j\\\\k#l~m\\nn\\r\\no\",\"raw\":\"<b>raw</b>\",\"n\":42,\"d\":0.5,"
	"\"big\":1e300,\"neg\":-0.0,\"t\":true,\"f\":false,\"z\":null,\"empty\":\"\",\"none\":[],"
	"\"items\":[\"x\",\"y\",{\"a\":{\"b\":\"deep\"},\"name\":\"inner\"}],"
	"\"obj\":{\"x\":1,\"deep\":{\"y\":[1,2]},\"items\":[true,false]},"
	"\"rows\":[{\"ns\":\"shop\",\"v\":1.25},{\"ns\":\"pay|ments\",\"v\":2}]}";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ctx = json_tokener_parse(context_json);
	if (!ctx)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1);
	memcpy(t, data, size);
	t[size] = '\0';
	char *out = NULL;
	kp_error err = {0};
	kp_status s = kp_mustache_render_markdown(t, "fuzz.mustache", ctx, &out, &err);
	if (s == KP_OK && !out)
		abort();
	if (s != KP_OK && (out || !err.msg[0]))
		abort();
	free(out);
	out = NULL;
	/* The HTML mode shares the parser but not the escaper. */
	if (kp_mustache_render(t, NULL, ctx, &out, &err) == KP_OK && !out)
		abort();
	free(out);
	free(t);
	return 0;
}
