/*
 * test_fuzz_regressions.c - snapshot inputs that fuzzing (tests/fuzz/) or the
 * review that went with it showed to be mishandled, each kept as a unit test
 * so the bug stays fixed. One snapshot directory per test, made and removed
 * by the fixtures; every load releases its cluster (ASan checks for leaks).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/kp.h"
#include "pipeline/model.h"
#include "stages/collect/snapshot.h"

static char fr_dir[256];

static void fr_setup(void)
{
	snprintf(fr_dir, sizeof(fr_dir), "/tmp/kp-fuzzreg-XXXXXX");
	cr_assert(mkdtemp(fr_dir));
	char p[300];
	snprintf(p, sizeof(p), "%s/objects", fr_dir);
	cr_assert(kp_mkdir_p(p, NULL) == KP_OK);
}

static void fr_teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fr_dir);
	cr_assert(system(cmd) == 0);
}

/* Writes file (relative to the snapshot) and loads the snapshot into c,
 * which the caller releases. */
static kp_status fr_load(kp_cluster *c, const char *file, const char *text, kp_error *err)
{
	char p[400];
	snprintf(p, sizeof(p), "%s/%s", fr_dir, file);
	cr_assert(kp_write_file_atomic(p, text, strlen(text), NULL) == KP_OK);
	kp_cluster_init(c);
	return kp_snapshot_load(c, fr_dir, err);
}

#define FR_POD_CPU(q)                                                                                          \
	"{\"kind\":\"List\",\"items\":[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\"}," \
	"\"spec\":{\"containers\":[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":" q "}}}]}}]}"

#define FR_ZEROS10 "0000000000"
#define FR_ZEROS70 FR_ZEROS10 FR_ZEROS10 FR_ZEROS10 FR_ZEROS10 FR_ZEROS10 FR_ZEROS10 FR_ZEROS10

/* A bare JSON number as a quantity was copied into a 64-byte buffer, so
 * a long spelling lost its exponent: 0.<70 zeros>5e71 (= 5 cores) read as 0. */
Test(fuzz_regressions, long_json_number_quantity_is_not_cut, .init = fr_setup, .fini = fr_teardown)
{
	kp_cluster c;
	kp_error err = {0};
	cr_assert_eq(fr_load(&c, "objects/pods.json", FR_POD_CPU("0." FR_ZEROS70 "5e71"), &err), KP_OK, "%s", err.msg);
	cr_assert_eq(c.pods.len, 1);
	cr_expect_eq(c.pods.items[0].spec.containers[0].cpu_request_m, 5000);
	kp_cluster_release(&c);
	/* and a long number that is too big is an error, not a truncated value */
	cr_assert_eq(fr_load(&c, "objects/pods.json", FR_POD_CPU("1" FR_ZEROS70 "e-60"), &err), KP_ERR_INPUT);
	cr_expect(strstr(err.msg, "absurd"), "%s", err.msg);
	kp_cluster_release(&c);
}

/* True when s is valid UTF-8 without C0/C1 control characters or DEL. */
static bool fr_printable(const char *s)
{
	if (!kp_json_is_valid_utf8(s))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (*p == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0))
			return false;
	return true;
}

/* Strings from the file that an error message quotes: kinds, timestamps,
 * the usage schema. They used to be printed as they were, so a snapshot
 * could put escape sequences and newlines on the user's terminal, and a cut
 * at the message's end could leave half a UTF-8 character. */
Test(fuzz_regressions, error_messages_quote_input_safely, .init = fr_setup, .fini = fr_teardown)
{
	static const char *const docs[][2] = {
		{"objects/pods.json", "{\"kind\":\"\\u001b[2J\\u009b31m\\nPodList\",\"items\":[]}"},
		{"objects/pods.json", "{\"kind\":\"List\",\"items\":[{\"kind\":\"P\\u001bod\",\"metadata\":{}}]}"},
		{"objects/pods.json", "{\"kind\":\"List\",\"items\":[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
				      "\"namespace\":\"b\",\"creationTimestamp\":\"2026\\r\\n\\u0007\"}}]}"},
		{"objects/pods.json", "{\"kind\":\"List\",\"items\":[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
				      "\"namespace\":\"b\"},\"spec\":{},\"status\":{\"startTime\":\"\\u001b]0;x\\u0007\"}}]}"},
		{"usage.json", "{\"schema\":\"\\u001b[31mkopilot\"}"},
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		kp_cluster c;
		kp_error err = {0};
		cr_expect_eq(fr_load(&c, docs[i][0], docs[i][1], &err), KP_ERR_INPUT, "case %zu", i);
		cr_expect(fr_printable(err.msg), "case %zu: %s", i, err.msg);
		cr_expect(strstr(err.msg, "\\x") != NULL, "case %zu: %s", i, err.msg);
		kp_cluster_release(&c);
		char p[400];
		snprintf(p, sizeof(p), "%s/%s", fr_dir, docs[i][0]);
		unlink(p);
	}
}

/* A long kind made of 3-byte characters: quoted to 64 bytes, whole
 * characters only, marked as cut. */
Test(fuzz_regressions, long_quoted_input_is_cut_on_a_character, .init = fr_setup, .fini = fr_teardown)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_puts(&b, "{\"kind\":\"");
	for (int i = 0; i < 2000; i++)
		kp_buf_puts(&b, "\xe2\x82\xac"); /* U+20AC */
	kp_buf_puts(&b, "\",\"items\":[]}");
	kp_cluster c;
	kp_error err = {0};
	cr_assert_eq(fr_load(&c, "objects/pods.json", b.data, &err), KP_ERR_INPUT);
	cr_expect(fr_printable(err.msg), "%s", err.msg);
	cr_expect(strstr(err.msg, "\xe2\x82\xac...\", expected") != NULL, "%s", err.msg);
	cr_expect_lt(strlen(err.msg), 400);
	kp_cluster_release(&c);
	kp_buf_release(&b);
}

/* kp_fail and kp_error_prefix cut long messages at sizeof(msg) - 1 bytes,
 * which could fall inside a UTF-8 character (a long path or name of
 * non-ASCII characters): the partial character is dropped. */
Test(fuzz_regressions, cut_error_messages_stay_valid_utf8)
{
	kp_buf b;
	kp_buf_init(&b);
	for (int i = 0; i < 700; i++)
		kp_buf_puts(&b, "\xe2\x82\xac"); /* 3 bytes each: 1023 is not a multiple */
	for (int shift = 0; shift < 4; shift++) {
		kp_error err = {0};
		kp_fail(&err, KP_ERR_INPUT, "%.*s%s", shift, "xyz", b.data);
		cr_expect(kp_json_is_valid_utf8(err.msg), "shift %d", shift);
		cr_expect_geq(strlen(err.msg), sizeof(err.msg) - 4);
		kp_fail(&err, KP_ERR_INPUT, "short");
		kp_error_prefix(&err, "%.*s%s", shift, "xyz", b.data);
		cr_expect(kp_json_is_valid_utf8(err.msg), "prefix, shift %d", shift);
		kp_fail(&err, KP_ERR_INPUT, "%.*s%.*s", shift, "xyz", 1020, b.data); /* 340 whole characters */
		kp_error_prefix(&err, "p");
		cr_expect(kp_json_is_valid_utf8(err.msg), "prefixed long, shift %d", shift);
	}
	kp_buf_release(&b);
}

/* usage.json bounded only cpu max and memory max: p95/p99 of 1e300 reached
 * rightsizing.c's (int64_t)ceil() and INT64_MAX restarts/samples were summed
 * by idle_workload.c, both undefined behaviour (found by fuzz_snapshot).
 * Every value is now checked when the file is read. */
#define FR_USAGE(entry_fields)                                                                              \
	"{\"schema\":\"kopilot.usage/v1\",\"window\":{\"start\":\"2026-11-11T00:00:00Z\",\"end\":"          \
	"\"2026-11-12T00:00:00Z\",\"source\":\"manual\"},\"containers\":[{\"namespace\":\"a\",\"pod\":\"p\"," \
	"\"container\":\"c\"," entry_fields "}]}"

Test(fuzz_regressions, every_usage_value_is_bounded, .init = fr_setup, .fini = fr_teardown)
{
	static const struct {
		const char *fields, *field;
	} cases[] = {
		{"\"samples\":5,\"cpu_millicores\":{\"p95\":1e300}", "cpu_millicores"},
		{"\"samples\":5,\"cpu_millicores\":{\"p50\":2e9,\"max\":5}", "cpu_millicores"},
		{"\"samples\":5,\"cpu_millicores\":{\"p99\":1e10}", "cpu_millicores"},
		{"\"samples\":5,\"memory_bytes\":{\"p50\":1e300}", "memory_bytes"},
		{"\"samples\":5,\"memory_limit_at_oom_bytes\":9223372036854775807", "memory_limit_at_oom_bytes"},
		{"\"samples\":9223372036854775807", "samples"},
		{"\"samples\":5,\"restarts\":9223372036854775807", "restarts"},
		{"\"samples\":5,\"oom_kills\":1000000000001", "oom_kills"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kp_cluster c;
		kp_error err = {0};
		char doc[1024];
		snprintf(doc, sizeof(doc), FR_USAGE("%s"), cases[i].fields);
		cr_expect_eq(fr_load(&c, "usage.json", doc, &err), KP_ERR_INPUT, "case %zu", i);
		cr_expect(strstr(err.msg, cases[i].field) && strstr(err.msg, "absurd"), "case %zu: %s", i, err.msg);
		kp_cluster_release(&c);
	}
	/* large but plausible values still load */
	kp_cluster c;
	kp_error err = {0};
	cr_assert_eq(fr_load(&c, "usage.json",
			     FR_USAGE("\"samples\":1000000,\"restarts\":5000,\"oom_kills\":3,"
				      "\"cpu_millicores\":{\"p50\":1e6,\"p95\":9e8,\"p99\":1e9,\"max\":1e9},"
				      "\"memory_bytes\":{\"p50\":1e15,\"max\":1e18},\"memory_limit_at_oom_bytes\":1073741824"),
			     &err),
		     KP_OK, "%s", err.msg);
	cr_expect_eq(c.usage.len, 1);
	kp_cluster_release(&c);
}

/* A name with DEL or a C1 control character passed check_name (only C0 was
 * refused) and went into later error messages as "(Node <name>)": a
 * terminal escape in a message (found by fuzz_model). */
Test(fuzz_regressions, names_with_del_or_c1_are_refused, .init = fr_setup, .fini = fr_teardown)
{
	static const char *const names[] = {"ip-10\\u007f", "a\\u0085b", "\\u009b31m"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char doc[300];
		snprintf(doc, sizeof(doc),
			 "{\"kind\":\"List\",\"items\":[{\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\","
			 "\"creationTimestamp\":\"x\"}}]}",
			 names[i]);
		kp_cluster c;
		kp_error err = {0};
		cr_expect_eq(fr_load(&c, "objects/nodes.json", doc, &err), KP_ERR_INPUT, "case %zu", i);
		cr_expect(strstr(err.msg, "control character") || strstr(err.msg, "is not a valid name"), "case %zu: %s", i,
			  err.msg);
		cr_expect(fr_printable(err.msg), "case %zu: %s", i, err.msg);
		kp_cluster_release(&c);
	}
}
