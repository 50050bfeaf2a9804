/*
 * test_xlsx.c - kp_render_xlsx(): files appear atomically, are xlsx (zip)
 * files, errors are KP_ERR_IO / KP_ERR_INPUT naming the path, and nothing
 * (not even a temp file) is left behind on failure. The numbers inside the
 * workbook are checked by tests/e2e/check_xlsx.py with LibreOffice.
 *
 * Each test owns a mkdtemp() directory and removes it.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/kp.h"
#include "stages/render/render.h"

#define XLSX_SAMPLE "tests/data/findings-sample.json"

static json_object *xlsx_t_sample(void)
{
	json_object *doc = NULL;
	kp_error err = { 0 };
	cr_assert_eq(kp_json_read_file(XLSX_SAMPLE, &doc, &err), KP_OK, "%s", err.msg);
	return doc;
}

static char *xlsx_t_mkdtemp(void)
{
	char *d = kp_xstrdup("/tmp/kp_test_xlsx.XXXXXX");
	cr_assert_not_null(mkdtemp(d));
	return d;
}

/* Number of entries in dir other than . and .. */
static int xlsx_t_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void xlsx_t_rmdir(char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char *p = kp_path_join(dir, e->d_name);
			if (unlink(p) != 0)
				rmdir(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(dir);
	free(dir);
}

static void xlsx_t_assert_zip(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s was not written", path);
	unsigned char magic[4] = { 0 };
	size_t got = fread(magic, 1, 4, f);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fclose(f);
	cr_assert_eq(got, 4);
	cr_assert(magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4, "%s is not a zip file", path);
	cr_assert_gt(size, 1000);
}

/* Renders doc into a fresh directory and checks the one file there. */
static void xlsx_t_render_ok(json_object *doc)
{
	char *dir = xlsx_t_mkdtemp();
	char *path = kp_path_join(dir, "report.xlsx");
	kp_error err = { 0 };
	cr_assert_eq(kp_render_xlsx(doc, path, &err), KP_OK, "%s", err.msg);
	xlsx_t_assert_zip(path);
	cr_assert_eq(xlsx_t_count_entries(dir), 1, "a temp file was left beside %s", path);
	/* A second render replaces the file in place. */
	cr_assert_eq(kp_render_xlsx(doc, path, &err), KP_OK, "%s", err.msg);
	xlsx_t_assert_zip(path);
	cr_assert_eq(xlsx_t_count_entries(dir), 1);
	free(path);
	xlsx_t_rmdir(dir);
}

Test(render_xlsx, sample)
{
	json_object *doc = xlsx_t_sample();
	xlsx_t_render_ok(doc);
	json_object_put(doc);
}

Test(render_xlsx, empty_findings)
{
	json_object *doc = xlsx_t_sample();
	json_object_object_add(doc, "findings", json_object_new_array());
	json_object_object_add(doc, "skipped", json_object_new_array());
	json_object *totals = kp_json_get(doc, "totals");
	json_object_object_add(totals, "findings", json_object_new_int(0));
	json_object_object_add(totals, "monthly_cost", json_object_new_double(0));
	json_object_object_add(totals, "monthly_savings", json_object_new_double(0));
	xlsx_t_render_ok(doc);
	json_object_put(doc);
}

/* Cluster text that looks like a formula, is over Excel's cell limit, or is
 * not UTF-8 must still give a valid file (it is written as plain text). */
Test(render_xlsx, hostile_strings)
{
	json_object *doc = xlsx_t_sample();
	json_object *f0 = json_object_array_get_idx(kp_json_get(doc, "findings"), 0);
	json_object_object_add(kp_json_get(f0, "resource"), "name",
			       json_object_new_string("=HYPERLINK(\"http://evil.example\",\"x\")"));
	json_object_object_add(kp_json_get(f0, "resource"), "namespace", json_object_new_string("+cmd|' /C calc'!A0"));
	json_object_object_add(f0, "container", json_object_new_string("@SUM(1)"));
	size_t big = 40000;
	char *s = kp_xmalloc(big + 1);
	memset(s, 'x', big);
	s[big] = '\0';
	json_object_object_add(f0, "explanation", json_object_new_string(s));
	free(s);
	/* Astral characters count twice toward the limit; cut one mid-way. */
	kp_buf b;
	kp_buf_init(&b);
	for (int i = 0; i < 20000; i++)
		kp_buf_puts(&b, "\xF0\x9F\x98\x80");
	json_object_object_add(f0, "explained_by", json_object_new_string(kp_buf_cstr(&b)));
	kp_buf_release(&b);
	json_object_object_add(kp_json_get(f0, "action"), "command", json_object_new_string("-bad \xFF\xFE utf8 \xC3"));
	json_object_object_add(kp_json_get(doc, "cluster"), "name", json_object_new_string(""));
	json_object_object_add(kp_json_get(doc, "prices"), "currency", json_object_new_string("EUR"));
	xlsx_t_render_ok(doc);
	json_object_put(doc);
}

Test(render_xlsx, unwritable_path)
{
	json_object *doc = xlsx_t_sample();
	const char *path = "/proc/forbidden/x.xlsx";
	kp_error err = { 0 };
	cr_assert_eq(kp_render_xlsx(doc, path, &err), KP_ERR_IO);
	cr_assert_not_null(strstr(err.msg, path), "message does not name the path: %s", err.msg);
	cr_assert(!kp_file_exists(path));
	char *tmp = kp_temp_path_for(path);
	cr_assert(!kp_file_exists(tmp));
	free(tmp);
	json_object_put(doc);
}

/* The temp file is written, but the rename fails (the target is a non-empty
 * directory): the error names the path and the temp file is gone. */
Test(render_xlsx, commit_fails)
{
	json_object *doc = xlsx_t_sample();
	char *dir = xlsx_t_mkdtemp();
	char *path = kp_path_join(dir, "report.xlsx");
	kp_error err = { 0 };
	cr_assert_eq(kp_mkdir_p(path, &err), KP_OK, "%s", err.msg);
	char *inner = kp_path_join(path, "keep");
	cr_assert_eq(kp_write_file_atomic(inner, "x", 1, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(kp_render_xlsx(doc, path, &err), KP_ERR_IO);
	cr_assert_not_null(strstr(err.msg, path), "message does not name the path: %s", err.msg);
	cr_assert_eq(xlsx_t_count_entries(dir), 1, "temp file left behind");
	unlink(inner);
	free(inner);
	free(path);
	xlsx_t_rmdir(dir);
	json_object_put(doc);
}

Test(render_xlsx, bad_input)
{
	char *dir = xlsx_t_mkdtemp();
	char *path = kp_path_join(dir, "report.xlsx");
	kp_error err = { 0 };

	json_object *empty = json_object_new_object();
	cr_assert_eq(kp_render_xlsx(empty, path, &err), KP_ERR_INPUT);
	cr_assert_not_null(strstr(err.msg, "findings"), "%s", err.msg);
	json_object_put(empty);

	json_object *doc = xlsx_t_sample();
	json_object_object_del(kp_json_get(doc, "prices"), "cpu_core_hour");
	cr_assert_eq(kp_render_xlsx(doc, path, &err), KP_ERR_INPUT);
	cr_assert_not_null(strstr(err.msg, "prices.cpu_core_hour"), "%s", err.msg);
	json_object_put(doc);

	doc = xlsx_t_sample();
	json_object *f1 = json_object_array_get_idx(kp_json_get(doc, "findings"), 1);
	json_object_object_add(kp_json_get(f1, "current"), "storage_bytes", json_object_new_string("100Gi"));
	cr_assert_eq(kp_render_xlsx(doc, path, &err), KP_ERR_INPUT);
	cr_assert_not_null(strstr(err.msg, "findings[1].current.storage_bytes"), "%s", err.msg);
	json_object_put(doc);

	/* a node's capacity prices its row: a bad one is named too */
	doc = xlsx_t_sample();
	f1 = json_object_array_get_idx(kp_json_get(doc, "findings"), 1);
	json_object *node = json_object_new_object();
	json_object_object_add(node, "cpu_capacity_millicores", json_object_new_string("4"));
	json_object_object_add(f1, "node", node);
	cr_assert_eq(kp_render_xlsx(doc, path, &err), KP_ERR_INPUT);
	cr_assert_not_null(strstr(err.msg, "findings[1].node.cpu_capacity_millicores"), "%s", err.msg);
	json_object_put(doc);

	cr_assert_eq(xlsx_t_count_entries(dir), 0, "bad input left a file behind");
	free(path);
	xlsx_t_rmdir(dir);
}
