/*
 * test_listscan.c - the streaming List reader (pipeline/listscan.c):
 * with nothing filtered out, every element is the tree json-c's parser
 * makes of it (same types, numbers spelled the same, member names cut at
 * an escaped NUL, a repeated name keeping its first place and last
 * value), whatever the chunking; filters keep what they name; errors say
 * where.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "pipeline/kp.h"
#include "pipeline/listscan.h"

typedef struct {
	kp_buf seen; /* each element's JSON, one a line */
} ls_seen;

static kp_status ls_collect(void *ud, json_object *item, size_t index, kp_error *err)
{
	(void)err;
	ls_seen *s = ud;
	kp_buf_printf(&s->seen, "%zu:%s\n", index,
		      item ? json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "null");
	return KP_OK;
}

/* Scans text in chunks of `step` bytes (0: whole). */
static kp_status ls_scan(const char *text, size_t step, const kp_keep *keep, ls_seen *seen, json_object **skel,
			 kp_error *err)
{
	kp_buf_init(&seen->seen);
	*skel = NULL;
	kp_listscan *ls = kp_listscan_new("t.json", "items", NULL, keep, ls_collect, seen);
	size_t n = strlen(text);
	kp_status s = KP_OK;
	for (size_t off = 0; off < n && !s; off += step ? step : n)
		s = kp_listscan_feed(ls, text + off, step && n - off > step ? step : n - off, err);
	if (!s)
		s = kp_listscan_finish(ls, err);
	if (!s)
		*skel = kp_listscan_skeleton(ls);
	kp_listscan_free(ls);
	return s;
}

/* What json-c makes of the same text: each element of items, one a line. */
static char *ls_json_c(const char *text)
{
	json_tokener *tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *doc = json_tokener_parse_ex(tok, text, (int)strlen(text));
	cr_assert(doc && json_tokener_get_error(tok) == json_tokener_success, "json-c rejects %s", text);
	json_tokener_free(tok);
	json_object *items = NULL;
	cr_assert(json_object_object_get_ex(doc, "items", &items));
	kp_buf b;
	kp_buf_init(&b);
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *e = json_object_array_get_idx(items, i);
		kp_buf_printf(&b, "%zu:%s\n", i, e ? json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "null");
	}
	json_object_put(doc);
	return kp_buf_detach(&b);
}

Test(listscan, unfiltered_elements_are_json_c_trees)
{
	const char *texts[] = {
		"{\"kind\":\"List\",\"items\":[{\"a\":1,\"b\":[true,false,null,\"x\"],\"c\":{\"d\":{}}}]}",
		/* numbers: spelling kept for doubles, int64 saturated, uint64 above */
		"{\"items\":[{\"n\":[0,-0,1.50,1e3,1E+3,-2.5e-7,9223372036854775807,9223372036854775808,"
		"18446744073709551615,99999999999999999999999,-99999999999999999999999,0.000000000000000000005e71]}]}",
		/* strings: escapes, a NUL, surrogate pairs and a lone one, UTF-8 */
		"{\"items\":[{\"s\":\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\ud83d\\ude00\\ud800x\\u0000y caf\xc3\xa9\"}]}",
		/* names: cut at a NUL; a repeated one keeps its place, last value */
		"{\"items\":[{\"k\\u0000x\":1,\"a\":1,\"b\":2,\"a\":{\"z\":3}}]}",
		/* scalar elements, an empty element, an escaped key for items */
		"{\"\\u0069tems\":[1,\"two\",null,{},[]],\"meta\":{\"items\":[5]}}",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *want = ls_json_c(texts[i]);
		for (size_t step = 0; step < 8; step++) {
			ls_seen seen;
			json_object *skel;
			kp_error err = {0};
			cr_assert_eq(ls_scan(texts[i], step, NULL, &seen, &skel, &err), KP_OK, "%s", err.msg);
			cr_assert_str_eq(kp_buf_cstr(&seen.seen), want, "text %zu, chunks of %zu", i, step);
			json_object *items = NULL;
			cr_assert(json_object_object_get_ex(skel, "items", &items) && json_object_array_length(items) == 0,
				  "the skeleton keeps the array, emptied");
			json_object_put(skel);
			kp_buf_release(&seen.seen);
		}
		free(want);
	}
}

Test(listscan, filters_keep_what_they_name)
{
	static const kp_keep none[] = {{NULL, NULL}};
	static const kp_keep ct[] = {{"name", NULL}, {"ephemeral", none}, {NULL, NULL}};
	static const kp_keep kopilot[] = {{"kopilot.io/*", NULL}, {NULL, NULL}};
	static const kp_keep meta[] = {{"name", NULL}, {"labels", kopilot}, {NULL, NULL}};
	static const kp_keep item[] = {{"metadata", meta}, {"containers", ct}, {NULL, NULL}};
	const char *text = "{\"kind\":\"List\",\"items\":[{\"metadata\":{\"name\":\"p\",\"uid\":\"u\",\"managedFields\":[{\"a\":[1,"
			   "{\"b\":2}]}],\"labels\":{\"app\":\"x\",\"kopilot.io/ignore\":\"true\",\"kopilot.io\":\"no\"}},"
			   "\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"K\",\"value\":\"secret\"}],\"ephemeral\":"
			   "{\"deep\":{\"er\":1}}},\"scalar\",[{\"name\":\"n\"}]],\"status\":{\"phase\":\"Running\"}}],"
			   "\"metadata\":{\"resourceVersion\":\"1\"}}";
	ls_seen seen;
	json_object *skel;
	kp_error err = {0};
	for (size_t step = 0; step < 5; step++) {
		cr_assert_eq(ls_scan(text, step, item, &seen, &skel, &err), KP_OK, "%s", err.msg);
		cr_assert_str_eq(kp_buf_cstr(&seen.seen),
				 "0:{\"metadata\":{\"name\":\"p\",\"labels\":{\"kopilot.io/ignore\":\"true\"}},\"containers\":"
				 "[{\"name\":\"c\",\"ephemeral\":{}},\"scalar\",[{\"name\":\"n\"}]]}\n");
		cr_assert_str_eq(json_object_to_json_string_ext(skel, JSON_C_TO_STRING_PLAIN),
				 "{\"kind\":\"List\",\"items\":[],\"metadata\":{\"resourceVersion\":\"1\"}}");
		json_object_put(skel);
		kp_buf_release(&seen.seen);
	}
}

Test(listscan, errors_say_where_and_what)
{
	ls_seen seen;
	json_object *skel;
	kp_error err = {0};
	cr_assert_eq(ls_scan("{\"items\": [\n {\"a\": 1},\n {\"b\": ,}\n]}", 3, NULL, &seen, &skel, &err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "t.json:3:8: malformed JSON: unexpected ','"), "%s", err.msg);
	cr_assert_null(skel);
	kp_buf_release(&seen.seen);
	cr_assert_eq(ls_scan("{\"items\": [{\"a\": 1}", 0, NULL, &seen, &skel, &err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "malformed JSON: unexpected end of data"), "%s", err.msg);
	kp_buf_release(&seen.seen);
	cr_assert_eq(ls_scan(" \n", 0, NULL, &seen, &skel, &err), KP_ERR_INPUT);
	cr_assert_str_eq(err.msg, "t.json: empty file, expected a JSON object");
	kp_buf_release(&seen.seen);
	cr_assert_eq(ls_scan("[{}]", 0, NULL, &seen, &skel, &err), KP_ERR_INPUT);
	cr_assert_str_eq(err.msg, "t.json: expected a JSON object, found a list at the top level");
	kp_buf_release(&seen.seen);
	cr_assert_eq(ls_scan("42", 0, NULL, &seen, &skel, &err), KP_ERR_INPUT);
	cr_assert_str_eq(err.msg, "t.json: expected a JSON object, found a number at the top level");
	kp_buf_release(&seen.seen);
	cr_assert_eq(ls_scan("{\"items\": []} x", 0, NULL, &seen, &skel, &err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "t.json:1:15: malformed JSON"), "%s", err.msg);
	kp_buf_release(&seen.seen);
	/* a dropped member is still checked: the whole text is JSON or nothing */
	static const kp_keep only_a[] = {{"a", NULL}, {NULL, NULL}};
	cr_assert_eq(ls_scan("{\"items\": [{\"a\": 1, \"b\": [\"\xff\"]}]}", 0, only_a, &seen, &skel, &err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "malformed JSON: invalid UTF-8"), "%s", err.msg);
	kp_buf_release(&seen.seen);
}
