/*
 * test_redact.c - the redacting snapshot copy (stages/collect/redact.c):
 * each value it must replace is replaced, every other byte is copied as it
 * was, whatever the chunk boundaries, and input that is not JSON is an
 * error. The end-to-end canary test (tests/e2e/run.sh) checks a whole run.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stages/collect/redact.h"
#include "stages/collect/snapshot.h"

/* in redacted whole, and in pieces of every size: the same output */
static char *rd_run(const char *in, size_t *count)
{
	kp_buf out;
	kp_buf_init(&out);
	kp_error err = {0};
	size_t n = strlen(in);
	kp_status st = kp_redact_buffer("in.json", in, n, &out, count, &err);
	cr_assert_eq(st, KP_OK, "%s", err.msg);
	char *whole = kp_buf_detach(&out);
	for (size_t piece = 1; piece < n; piece++) {
		kp_redactor *r = kp_redactor_new("in.json");
		kp_buf_init(&out);
		for (size_t off = 0; off < n && !st; off += piece)
			st = kp_redactor_feed(r, in + off, n - off < piece ? n - off : piece, &out, &err);
		if (!st)
			st = kp_redactor_finish(r, &out, &err);
		cr_assert_eq(st, KP_OK, "pieces of %zu: %s", piece, err.msg);
		cr_assert_str_eq(kp_buf_cstr(&out), whole, "pieces of %zu", piece);
		cr_assert_eq(kp_redactor_count(r), *count);
		kp_redactor_free(r);
		kp_buf_release(&out);
	}
	return whole;
}

/* in comes out as want, with count values redacted */
static void rd_expect(const char *in, const char *want, size_t count)
{
	size_t n = 0;
	char *r = rd_run(in, &n);
	cr_expect_str_eq(r, want);
	cr_expect_eq(n, count);
	free(r);
}

static void rd_unchanged(const char *in) { rd_expect(in, in, 0); }

#define POD(spec) "{\"kind\": \"List\", \"items\": [{\"kind\": \"Pod\", \"spec\": " spec "}]}"

Test(redact, env_values_in_every_container_list)
{
	rd_expect(POD("{\"containers\": [{\"name\": \"a\", \"env\": [{\"name\": \"K\", \"value\": \"AKIAIOSFODNN7EXAMPLE\"},"
			     " {\"name\": \"R\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"s\", \"key\": \"k\"}}}]}],"
			     " \"initContainers\": [{\"env\": [{\"value\": \"init-secret\", \"name\": \"I\"}]}],"
			     " \"ephemeralContainers\": [{\"env\": [{\"name\": \"E\", \"value\": \"\"}]}]}"),
		  POD("{\"containers\": [{\"name\": \"a\", \"env\": [{\"name\": \"K\", \"value\": \"<redacted>\"},"
				" {\"name\": \"R\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"s\", \"key\": \"k\"}}}]}],"
				" \"initContainers\": [{\"env\": [{\"value\": \"<redacted>\", \"name\": \"I\"}]}],"
				" \"ephemeralContainers\": [{\"env\": [{\"name\": \"E\", \"value\": \"<redacted>\"}]}]}"), 3);
}

Test(redact, workload_templates_and_odd_values)
{
	/* a template deep in a workload; values of other types are replaced whole */
	const char *in = "{\"items\":[{\"kind\":\"Deployment\",\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"env\":["
			 "{\"name\":\"A\",\"value\":\"DB_PASSWORD=hunter2\"},{\"name\":\"B\",\"value\":12345},"
			 "{\"name\":\"C\",\"value\":{\"nested\":[\"x\",{\"y\":\"secret\"}]}},{\"name\":\"D\",\"value\":null},"
			 "{\"name\":\"E\",\"value\":[1,2]},\"not-an-object\",[\"value\"]]}]}}}}]}";
	rd_expect(in, "{\"items\":[{\"kind\":\"Deployment\",\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"env\":["
			    "{\"name\":\"A\",\"value\":\"<redacted>\"},{\"name\":\"B\",\"value\":\"<redacted>\"},"
			    "{\"name\":\"C\",\"value\":\"<redacted>\"},{\"name\":\"D\",\"value\":\"<redacted>\"},"
			    "{\"name\":\"E\",\"value\":\"<redacted>\"},\"not-an-object\",[\"value\"]]}]}}}}]}", 5);
}

Test(redact, secret_data_at_item_level)
{
	const char *in = "{\"kind\":\"List\",\"items\":[{\"kind\":\"Secret\",\"data\":{\"password\":\"aHVudGVyMg==\"},"
			 "\"stringData\":{\"token\":\"tok-123\"},\"binaryData\":{\"k\":\"AAEC\"},\"type\":\"Opaque\"},"
			 "{\"kind\":\"ConfigMap\",\"data\":\"odd but redacted\"}],\"data\":{\"top\":\"level is kept\"}}";
	rd_expect(in, "{\"kind\":\"List\",\"items\":[{\"kind\":\"Secret\",\"data\":\"<redacted>\","
			    "\"stringData\":\"<redacted>\",\"binaryData\":\"<redacted>\",\"type\":\"Opaque\"},"
			    "{\"kind\":\"ConfigMap\",\"data\":\"<redacted>\"}],\"data\":{\"top\":\"level is kept\"}}", 4);
}

Test(redact, last_applied_configuration_annotation)
{
	const char *in = "{\"items\":[{\"metadata\":{\"name\":\"web\",\"annotations\":{"
			 "\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"spec\\\":{\\\"env\\\":[{\\\"value\\\":"
			 "\\\"AKIAIOSFODNN7EXAMPLE\\\"}]}}\\n\",\"kopilot.io/ignore\":\"false\"}},"
			 "\"spec\":{\"template\":{\"metadata\":{\"annotations\":{"
			 "\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\"}}}}}]}";
	rd_expect(in, "{\"items\":[{\"metadata\":{\"name\":\"web\",\"annotations\":{"
			    "\"kubectl.kubernetes.io/last-applied-configuration\":\"<redacted>\",\"kopilot.io/ignore\":\"false\"}},"
			    "\"spec\":{\"template\":{\"metadata\":{\"annotations\":{"
			    "\"kubectl.kubernetes.io/last-applied-configuration\":\"<redacted>\"}}}}}]}", 2);
}

/* What is no secret, or is read by the loader, stays byte for byte: taint
 * and toleration values, envFrom references, "data" below item level, a
 * "value" outside env, labels, white space and escapes. */
Test(redact, everything_else_is_copied_exactly)
{
	const char *in = "{\n  \"kind\" : \"List\",\n  \"items\" : [\n    {\n      \"spec\" : {\n"
			 "        \"tolerations\" : [ { \"key\" : \"dedicated\", \"value\" : \"incident\" } ],\n"
			 "        \"containers\" : [ { \"envFrom\" : [ { \"secretRef\" : { \"name\" : \"db\" }, \"prefix\" : \"DB_\" },"
			 " { \"configMapRef\" : { \"name\" : \"cfg\", \"optional\" : true } } ],\n"
			 "          \"resources\" : { \"requests\" : { \"cpu\" : \"100m\", \"memory\" : 1.5e9 } } } ],\n"
			 "        \"volumes\" : [ { \"name\" : \"v\", \"configMap\" : { \"data\" : \"kept\" } } ]\n"
			 "      },\n      \"metadata\" : { \"labels\" : { \"value\" : \"x\", \"env\" : \"prod\" },"
			 " \"annotations\" : { \"note\" : \"caf\xc3\xa9 \\u00e9 \\\" \\\\\" } },\n"
			 "      \"value\" : \"item-level value is kept\",\n      \"env\" : \"a string, not a list\"\n"
			 "    }\n  ]\n}\n";
	rd_unchanged(in);
}

/* Member names spelled with escapes are the same names to every reader. */
Test(redact, escaped_member_names_are_matched)
{
	const char *in = "{\"\\u0069tems\":[{\"sp\\u0065c\":{\"containers\":[{\"\\u0065nv\":[{\"n\\u0061me\":\"A\","
			 "\"v\\u0061lue\":\"AKIAIOSFODNN7EXAMPLE\"}]}]},\"d\\u0061ta\":{\"a\":\"b\"}}]}";
	rd_expect(in, "{\"\\u0069tems\":[{\"sp\\u0065c\":{\"containers\":[{\"\\u0065nv\":[{\"n\\u0061me\":\"A\","
			    "\"v\\u0061lue\":\"<redacted>\"}]}]},\"d\\u0061ta\":\"<redacted>\"}]}", 2);
}

/* A name with an escaped NUL is cut there, as json-c (the loader) cuts it:
 * "value\u0000x" is "value" to it. */
Test(redact, names_cut_at_an_escaped_nul)
{
	size_t n = 0;
	char *r = rd_run("{\"items\":[{\"env\":[{\"value\\u0000x\":\"s3cret\"}],\"data\\u0000\":1}]}", &n);
	cr_expect_str_eq(r, "{\"items\":[{\"env\":[{\"value\\u0000x\":\"<redacted>\"}],\"data\\u0000\":\"<redacted>\"}]}");
	cr_expect_eq(n, 2);
	free(r);
}

/* Names that only start like a target are not targets. */
Test(redact, near_miss_names_are_kept)
{
	const char *in = "{\"items\":[{\"datas\":1,\"Data\":2,\"stringdata\":3,\"spec\":{\"containers\":[{\"envs\":[{\"value\":4}],"
			 "\"env\":[{\"values\":5,\"Value\":6}]}]},\"metadata\":{\"annotations\":{"
			 "\"kubectl.kubernetes.io/last-applied-configurations\":\"7\"}}}],"
			 "\"item\":[{\"data\":8}]}";
	rd_unchanged(in);
}

Test(redact, invalid_json_is_an_error)
{
	static const char *const bad[] = {"", "{\"items\":[{\"spec\":{\"env\":[{\"value\":\"x\"}]}]", "{\"a\":1,}",
					  "{\"items\":[{\"env\":[{\"value\":\"\xc0\xaf\"}]}]}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kp_buf out;
		kp_buf_init(&out);
		kp_error err = {0};
		cr_expect_eq(kp_redact_buffer("bad.json", bad[i], strlen(bad[i]), &out, NULL, &err), KP_ERR_INPUT,
			     "case %zu", i);
		cr_expect(strncmp(err.msg, "bad.json:1:", 11) == 0, "case %zu: %s", i, err.msg);
		/* nothing of a value to redact was handed out before the error */
		cr_expect(!strstr(kp_buf_cstr(&out), "\xc0\xaf"), "case %zu", i);
		kp_buf_release(&out);
	}
}

Test(redact, copies_files)
{
	char dir[] = "/tmp/kp-redact-XXXXXX";
	cr_assert(mkdtemp(dir));
	char src[300], dst[300];
	snprintf(src, sizeof(src), "%s/pods.json", dir);
	snprintf(dst, sizeof(dst), "%s/out.json", dir);
	/* bigger than the copy's 1 MiB chunk, with values cut by chunk ends */
	kp_buf in, want;
	kp_buf_init(&in);
	kp_buf_init(&want);
	kp_buf_puts(&in, "{\"kind\":\"List\",\"items\":[");
	kp_buf_puts(&want, in.data);
	for (int i = 0; i < 30000; i++) {
		const char *fmt = "%s{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"env\":[{\"name\":\"K%d\",\"value\":\"%s%d\"}]}]}}";
		kp_buf_printf(&in, fmt, i ? "," : "", i, "AKIAIOSFODNN7EXAMPLE-", i);
		kp_buf_printf(&want, "%s{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"env\":[{\"name\":\"K%d\",\"value\":%s}]}]}}",
			      i ? "," : "", i, KP_REDACTED);
	}
	kp_buf_puts(&in, "]}\n");
	kp_buf_puts(&want, "]}\n");
	cr_assert(in.len > (1u << 21));
	cr_assert_eq(kp_write_file_atomic(src, in.data, in.len, NULL), KP_OK);
	size_t n = 0;
	kp_error err = {0};
	cr_assert_eq(kp_redact_copy(src, dst, &n, &err), KP_OK, "%s", err.msg);
	cr_expect_eq(n, 30000);
	char *got = NULL;
	size_t len = 0;
	cr_assert_eq(kp_read_file(dst, &got, &len, &err), KP_OK);
	cr_expect_eq(len, want.len);
	cr_expect(memcmp(got, want.data, want.len) == 0);
	free(got);
	/* a broken source leaves no file behind */
	unlink(dst);
	cr_assert_eq(kp_write_file_atomic(src, "{\"items\":[", 10, NULL), KP_OK);
	cr_expect_eq(kp_redact_copy(src, dst, NULL, &err), KP_ERR_INPUT);
	cr_expect(strstr(err.msg, "unexpected end of data"), "%s", err.msg);
	cr_expect_eq(access(dst, F_OK), -1);
	kp_buf_release(&in);
	kp_buf_release(&want);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* The loader's scan notes what to redact (kp_snapshot_load_planned) and the
 * copy replays it without scanning: byte for byte what the scanning copy
 * writes, across chunk boundaries and after a byte order mark; a file that
 * changed since it was read is scanned again, never patched blindly. */
static void rd_pods(kp_buf *b, int n, const char *secret)
{
	kp_buf_reset(b);
	kp_buf_puts(b, "\xEF\xBB\xBF{\"kind\":\"List\",\"items\":[");
	for (int i = 0; i < n; i++)
		kp_buf_printf(b,
			      "%s{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p%d\",\"namespace\":\"ns\",\"annotations\":{"
			      "\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"a\\\":\\\"%s\\\"}\"}},"
			      "\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"K\",\"value\":\"%s%d\"},"
			      "{\"name\":\"N\",\"value\":%d},{\"name\":\"JAVA_TOOL_OPTIONS\",\"value\":\"-Xmx%dm -Dpw=%s\"}]}]}}",
			      i ? ",\n" : "", i, secret, secret, i, i, 256 + i % 7, secret);
	kp_buf_puts(b, "]}\n");
}

static char *rd_file(const char *path)
{
	char *got = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_read_file(path, &got, NULL, &err), KP_OK, "%s", err.msg);
	return got;
}

/* a and b equal; the first difference shown, never the whole texts (a
 * message of megabytes stalls Criterion's reporting) */
static void rd_same(const char *a, const char *b)
{
	size_t i = 0;
	while (a[i] && a[i] == b[i])
		i++;
	cr_assert(a[i] == b[i], "the copies differ at byte %zu: \"%.80s\" vs \"%.80s\"", i, a + (i > 40 ? i - 40 : 0),
		  b + (i > 40 ? i - 40 : 0));
}

Test(redact, planned_copy_equals_scanned_copy)
{
	char dir[] = "/tmp/kp-redact-plan-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char *objects = kp_path_join(dir, "objects"), *src = kp_path_join(dir, "objects/pods.json");
	char *scanned = kp_path_join(dir, "scanned.json"), *planned = kp_path_join(dir, "planned.json");
	cr_assert_eq(kp_mkdir_p(objects, NULL), KP_OK);
	kp_buf in;
	kp_buf_init(&in);
	rd_pods(&in, 12000, "hunter2");
	cr_assert(in.len > (2u << 20), "spans cross the copy's chunks");
	cr_assert_eq(kp_write_file_atomic(src, in.data, in.len, NULL), KP_OK);
	kp_error err = {0};
	kp_cluster c;
	kp_cluster_init(&c);
	kp_redact_plan plans[KP_RES_COUNT];
	memset(plans, 0, sizeof(plans));
	cr_assert_eq(kp_snapshot_load_planned(&c, dir, plans, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(c.pods.len, 12000);
	kp_redact_plan *p = &plans[KP_RES_PODS];
	cr_assert(p->valid);
	cr_assert_eq(p->len, 48000);
	size_t n1 = 0, n2 = 0;
	cr_assert_eq(kp_redact_copy(src, scanned, &n1, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(kp_redact_copy_planned(p, src, planned, &n2, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(n1, n2);
	char *a = rd_file(scanned), *b = rd_file(planned);
	rd_same(a, b);
	cr_assert_null(strstr(b, "hunter2"));
	free(a);
	free(b);
	/* the file changes after the load: the plan is not used */
	rd_pods(&in, 12000, "swordfish-longer");
	cr_assert_eq(kp_write_file_atomic(src, in.data, in.len, NULL), KP_OK);
	cr_assert_eq(kp_redact_copy_planned(p, src, planned, &n2, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(kp_redact_copy(src, scanned, &n1, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(n1, n2);
	a = rd_file(scanned);
	b = rd_file(planned);
	rd_same(a, b);
	cr_assert_null(strstr(b, "swordfish"));
	free(a);
	free(b);
	for (int r = 0; r < KP_RES_COUNT; r++)
		kp_redact_plan_release(&plans[r]);
	kp_cluster_release(&c);
	kp_buf_release(&in);
	free(objects);
	free(src);
	free(scanned);
	free(planned);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* ---- the page copier (live collection): a page's items, redacted,
 * without metadata.managedFields, with apiVersion and kind put back ---- */

static kp_status pc_item(void *ud, json_object *item, size_t index, kp_error *err)
{
	(void)ud, (void)item, (void)index, (void)err;
	return KP_OK;
}

/* The page fed in pieces of `piece` bytes through one scan whose tokens
 * also feed the copier; the copy, as kube.c writes it. */
static char *pc_copy(const char *page, size_t piece, size_t *items_out)
{
	size_t n = strlen(page);
	kp_error err = {0};
	kp_listscan *ls = kp_listscan_new("page", "items", "a List", NULL, pc_item, NULL);
	kp_redactor *r = kp_redactor_new_page("v1", "Pod", items_out);
	kp_listscan_set_tap(ls, kp_redactor_token, r);
	kp_buf out;
	kp_buf_init(&out);
	kp_status st = KP_OK;
	for (size_t off = 0; off < n && !st; off += piece) {
		size_t k = n - off < piece ? n - off : piece;
		uint64_t base = kp_listscan_offset(ls);
		kp_redactor_page_chunk(r, page + off, base, &out);
		st = kp_listscan_feed(ls, page + off, k, &err);
		if (!st)
			st = kp_redactor_page_flush(r, base + k, kp_listscan_pending_start(ls), &err);
	}
	if (!st)
		st = kp_listscan_finish(ls, &err);
	cr_assert_eq(st, KP_OK, "pieces of %zu: %s", piece, err.msg);
	json_object_put(kp_listscan_skeleton(ls));
	kp_listscan_free(ls);
	kp_redactor_free(r);
	return kp_buf_detach(&out);
}

Test(redact, page_copier_items_without_managed_fields)
{
	const char *page =
		"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"5\",\"continue\":\"abc\"},"
		"\"items\":[ {\"metadata\":{\"managedFields\":[{\"manager\":\"x\",\"fieldsV1\":{\"f:a\":{}}}],"
		"\"name\":\"a\",\"namespace\":\"n\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"E\","
		"\"value\":\"hunter2\"}]}]}},\n"
		"  {\"metadata\":{\"name\":\"b\",\"managedFields\":[],\"annotations\":{\"kubectl.kubernetes.io/"
		"last-applied-configuration\":\"{\\\"x\\\":1}\"}}},"
		"{\"metadata\":{\"name\":\"c\" , \"managedFields\" : {\"a\":[1,2]} }},"
		"{\"metadata\":{\"managedFields\":null}},"
		"{\"metadata\":{\"managedFields\":\"x\",\"name\":\"e\"}},"
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"d\"}} , {} ]}";
	const char *expected =
		"[{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":"
		"[{\"name\":\"E\",\"value\":\"<redacted>\"}]}]},\"apiVersion\":\"v1\",\"kind\":\"Pod\"},"
		"{\"metadata\":{\"name\":\"b\",\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":"
		"\"<redacted>\"}},\"apiVersion\":\"v1\",\"kind\":\"Pod\"},"
		"{\"metadata\":{\"name\":\"c\"},\"apiVersion\":\"v1\",\"kind\":\"Pod\"},"
		"{\"metadata\":{},\"apiVersion\":\"v1\",\"kind\":\"Pod\"},"
		"{\"metadata\":{\"name\":\"e\"},\"apiVersion\":\"v1\",\"kind\":\"Pod\"},"
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"d\"}},"
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}]";
	size_t items = 0;
	char *whole = pc_copy(page, strlen(page), &items);
	cr_assert_eq(items, 7);
	cr_assert_null(strstr(whole, "managedFields"), "%s", whole);
	cr_assert_null(strstr(whole, "hunter2"), "%s", whole);
	char *wrapped = kp_xasprintf("[%s]", whole);
	json_object *got = json_tokener_parse(wrapped), *want = json_tokener_parse(expected);
	cr_assert_not_null(got, "not JSON: %s", wrapped);
	cr_assert(json_object_equal(got, want), "got %s", wrapped);
	json_object_put(got);
	json_object_put(want);
	free(wrapped);
	/* every split of the page gives the same bytes */
	for (size_t piece = 1; piece < strlen(page); piece++) {
		size_t k = 0;
		char *part = pc_copy(page, piece, &k);
		cr_assert_str_eq(part, whole, "pieces of %zu", piece);
		cr_assert_eq(k, 7);
		free(part);
	}
	/* a second page goes on with a separator (items counted across pages) */
	size_t more = 7;
	char *next = pc_copy("{\"items\":[{\"metadata\":{\"name\":\"z\"}}]}", 64, &more);
	cr_assert_str_eq(next, ",\n{\"metadata\":{\"name\":\"z\"},\"apiVersion\":\"v1\",\"kind\":\"Pod\"}");
	cr_assert_eq(more, 8);
	free(next);
	free(whole);
}

#define DEPLOY(spec) "{\"kind\": \"List\", \"items\": [{\"kind\": \"Deployment\", \"spec\": {\"template\": {\"spec\": " spec "}}}]}"
#define RT_ENV(a, b, c, d, e)                                                                                  \
	"{\"containers\": [{\"name\": \"a\", \"env\": [{\"name\": \"JAVA_TOOL_OPTIONS\", \"value\": \"" a "\"},"    \
	" {\"name\": \"GOMEMLIMIT\", \"value\": \"" b "\"}, {\"name\": \"NODE_OPTIONS\", \"value\": \"" c "\"},"   \
	" {\"value\": \"" d "\", \"name\": \"JAVA_OPTS\"}, {\"name\": \"PASSWORD\", \"value\": \"" e "\"}]}]}"

Test(redact, runtime_memory_settings_are_kept_and_nothing_else)
{
	/* in a pod template, a runtime's variable named before its value: its
	 * memory settings stay (the copy loads with the same heap), the rest
	 * goes; named after it, or another variable: all of it goes */
	rd_expect(DEPLOY(RT_ENV("-Djavax.net.ssl.keyStorePassword=hunter2 -Xmx3g '-XX:MaxRAMPercentage=75'", "900MiB",
				"--require /s.js", "-Xmx9g", "-Xmx1g")),
		  DEPLOY(RT_ENV("-Xmx3g -XX:MaxRAMPercentage=75 <redacted>", "900MiB <redacted>", "<redacted>", "<redacted>",
				"<redacted>")),
		  5);
	/* a live pod's env is never read: all of it goes */
	rd_expect(POD(RT_ENV("-Xmx3g", "900MiB", "x", "y", "z")),
		  POD(RT_ENV("<redacted>", "<redacted>", "<redacted>", "<redacted>", "<redacted>")), 5);
}
