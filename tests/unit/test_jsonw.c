/*
 * test_jsonw.c - a document written with streamed arrays is byte for byte
 * what the whole tree gives, and a failure leaves nothing behind.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/findings_json.h"
#include "pipeline/jsonw.h"

static char jw_dir[64];

static void jw_setup(void)
{
	snprintf(jw_dir, sizeof(jw_dir), "/tmp/kp-jsonw-XXXXXX");
	cr_assert(mkdtemp(jw_dir));
}

static void jw_teardown(void)
{
	char *cmd = kp_xasprintf("rm -rf '%s'", jw_dir);
	cr_assert(system(cmd) == 0);
	free(cmd);
}

/* Element i of a test array: objects with nested empty and full
 * containers, escapes, non-ASCII text; or plain scalars. */
static json_object *element(int kind, size_t i)
{
	if (kind == 1)
		return i % 2 ? json_object_new_string("a \"quoted\"\tvalue/é") : kp_json_new_number((double)i * 0.25);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64((int64_t)i));
	json_object_object_add(o, "text", json_object_new_string("line\nbreak \\ and \xe2\x82\xac"));
	json_object *in = json_object_new_array();
	for (size_t k = 0; k < i % 3; k++)
		json_object_array_add(in, json_object_new_string("x"));
	json_object_object_add(o, "list", in);
	json_object_object_add(o, "empty", json_object_new_object());
	json_object_object_add(o, "none", NULL);
	return o;
}

typedef struct {
	int kind;
} gen_ud;

static kp_status gen(void *ud, size_t i, json_object **item, kp_error *err)
{
	(void)err;
	*item = element(((gen_ud *)ud)->kind, i);
	return KP_OK;
}

static kp_status gen_fails(void *ud, size_t i, json_object **item, kp_error *err)
{
	(void)ud;
	*item = NULL;
	if (i == 2)
		return kp_fail(err, KP_ERR_INPUT, "element %zu cannot be made", i);
	*item = json_object_new_int64((int64_t)i);
	return KP_OK;
}

static json_object *header(void)
{
	json_object *d = json_object_new_object();
	json_object_object_add(d, "schema", json_object_new_string("test/v1"));
	json_object_object_add(d, "objects", NULL);
	json_object *nested = json_object_new_object();
	json_object_object_add(nested, "inner", json_object_new_array());
	json_object_object_add(d, "nested", nested);
	json_object_object_add(d, "empty", NULL);
	json_object_object_add(d, "scalars", NULL);
	json_object_object_add(d, "end", json_object_new_boolean(true));
	return d;
}

static char *slurp(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	kp_error err = {0};
	cr_assert_eq(kp_read_file(path, &data, &len, &err), KP_OK, "%s", err.msg);
	return data;
}

Test(jsonw, streamed_arrays_are_the_whole_tree_byte_for_byte, .init = jw_setup, .fini = jw_teardown)
{
	const size_t n_objects = 7, n_scalars = 5;
	/* the whole tree, as kp_json_write_file writes it */
	json_object *whole = header();
	json_object *a = json_object_new_array(), *e = json_object_new_array(), *sc = json_object_new_array();
	for (size_t i = 0; i < n_objects; i++)
		json_object_array_add(a, element(0, i));
	for (size_t i = 0; i < n_scalars; i++)
		json_object_array_add(sc, element(1, i));
	json_object_object_add(whole, "objects", a);
	json_object_object_add(whole, "empty", e);
	json_object_object_add(whole, "scalars", sc);
	char *p1 = kp_path_join(jw_dir, "whole.json"), *p2 = kp_path_join(jw_dir, "streamed.json");
	kp_error err = {0};
	cr_assert_eq(kp_json_write_file(p1, whole, &err), KP_OK, "%s", err.msg);
	/* the same, streamed, the arrays listed out of document order */
	json_object *doc = header();
	gen_ud objects = {0}, scalars = {1};
	const kp_json_streamed arrays[] = {
		{"scalars", n_scalars, gen, &scalars},
		{"objects", n_objects, gen, &objects},
		{"empty", 0, gen, &objects},
	};
	cr_assert_eq(kp_json_write_streamed(p2, doc, arrays, 3, &err), KP_OK, "%s", err.msg);
	char *t1 = slurp(p1), *t2 = slurp(p2);
	cr_assert_str_eq(t2, t1);
	cr_assert_null(kp_json_get(doc, "objects"), "the placeholders do not stay in the caller's document");
	free(t1);
	free(t2);
	free(p1);
	free(p2);
	json_object_put(whole);
	json_object_put(doc);
}

Test(jsonw, a_failing_generator_leaves_nothing, .init = jw_setup, .fini = jw_teardown)
{
	char *p = kp_path_join(jw_dir, "out.json");
	json_object *doc = header();
	const kp_json_streamed arrays[] = {{"objects", 5, gen_fails, NULL}};
	kp_error err = {0};
	cr_assert_eq(kp_json_write_streamed(p, doc, arrays, 1, &err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "element 2"), "%s", err.msg);
	cr_assert(!kp_file_exists(p));
	char *cmd = kp_xasprintf("test -z \"$(ls -A '%s')\"", jw_dir);
	cr_assert(system(cmd) == 0, "no temp file left in %s", jw_dir);
	free(cmd);
	/* a key the document lacks is a caller's bug, said as such */
	const kp_json_streamed wrong[] = {{"nosuch", 1, gen_fails, NULL}};
	cr_assert_eq(kp_json_write_streamed(p, doc, wrong, 1, &err), KP_ERR_INTERNAL);
	free(p);
	json_object_put(doc);
}

Test(jsonw, analysis_written_streamed_reads_back, .init = jw_setup, .fini = jw_teardown)
{
	kp_findings f;
	kp_findings_init(&f);
	for (int i = 0; i < 50; i++) {
		char name[32];
		snprintf(name, sizeof(name), "pvc-%02d", i);
		kp_finding *x = kp_findings_add(&f, KP_CAT_ORPHANED_PVC, "v1", "PersistentVolumeClaim", "shop", name, NULL);
		x->current.storage_b = 1024LL * 1024 * 1024 * (i + 1);
		kp_finding_add_evidence(x, "age_days", 30 + i, true, "days", "Created %d days ago", 30 + i);
	}
	kp_findings_skip(&f, "apps/v1", "Deployment", "shop", "web", "no usage");
	kp_cluster c;
	kp_cluster_init(&c);
	json_object *doc = kp_analysis_doc(&c, &f, 0);
	char *p = kp_path_join(jw_dir, "analysis.json"), *q = kp_path_join(jw_dir, "whole.json");
	kp_error err = {0};
	cr_assert_eq(kp_findings_write_streamed(p, doc, &f, false, &err), KP_OK, "%s", err.msg);
	kp_findings_fill(doc, &f, false);
	cr_assert_eq(kp_json_write_file(q, doc, &err), KP_OK, "%s", err.msg);
	char *t1 = slurp(p), *t2 = slurp(q);
	cr_assert_str_eq(t1, t2);
	free(t1);
	free(t2);
	kp_findings back;
	kp_findings_init(&back);
	json_object *rest = NULL;
	cr_assert_eq(kp_findings_read_file(p, false, &back, &rest, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(back.items.len, 50);
	cr_assert_eq(back.skipped.len, 1);
	cr_assert_str_eq(back.items.items[49].name, "pvc-49");
	cr_assert_str_eq(back.items.items[7].id, f.items.items[7].id);
	cr_assert_str_eq(kp_json_str(rest, "schema"), KP_ANALYSIS_SCHEMA);
	cr_assert_eq(json_object_array_length(kp_json_get(rest, "findings")), 0);
	json_object_put(rest);
	kp_findings_release(&back);
	/* a broken element names its index, as the whole-tree reader does */
	cr_assert_eq(kp_write_file_atomic(p, "{\"findings\": [{\"category\": \"nosuch\"}], \"skipped\": []}", 53, &err),
		     KP_OK);
	kp_findings_init(&back);
	cr_assert_eq(kp_findings_read_file(p, false, &back, &rest, &err), KP_ERR_INPUT);
	cr_assert(strstr(err.msg, "findings[0].category"), "%s", err.msg);
	cr_assert_null(rest);
	kp_findings_release(&back);
	free(p);
	free(q);
	json_object_put(doc);
	kp_findings_release(&f);
	kp_cluster_release(&c);
}
