/*
 * redact_copy.c - throughput of the redacting snapshot copy
 * (stages/collect/redact.c) beside the plain chunked copy it replaced, on
 * one file, best of ROUNDS each (the file is read once first so both see
 * it in the page cache), and the redactor alone (read, scan, drop the
 * output: what it costs beyond the file system):
 *
 *   make && cc -O2 -I. $(pkg-config --cflags json-c) bench/redact_copy.c \
 *       build/libkp.a $(pkg-config --libs json-c yaml-0.1 xlsxwriter libcmark-gfm) \
 *       -lcmark-gfm-extensions -lm -o build/redact_copy
 *   build/redact_copy BIG/objects/pods.json /tmp/out.json [ROUNDS]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

#include "pipeline/kp.h"
#include "stages/collect/redact.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The redactor alone: the file read in 1 MiB chunks, the output dropped. */
static kp_status redact_only(const char *src, size_t *count, kp_error *err)
{
	int fd = open(src, O_RDONLY);
	if (fd < 0)
		return kp_fail(err, KP_ERR_IO, "%s: cannot open", src);
	enum { CHUNK = 1 << 20 };
	char *buf = kp_xmalloc(CHUNK);
	kp_buf out;
	kp_buf_init(&out);
	kp_redactor *r = kp_redactor_new(src);
	kp_status s = KP_OK;
	ssize_t n;
	while (!s && (n = read(fd, buf, CHUNK)) > 0) {
		kp_buf_reset(&out);
		s = kp_redactor_feed(r, buf, (size_t)n, &out, err);
	}
	if (!s)
		s = kp_redactor_finish(r, &out, err);
	*count = kp_redactor_count(r);
	kp_redactor_free(r);
	kp_buf_release(&out);
	free(buf);
	close(fd);
	return s;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s SRC DST [ROUNDS]\n", argv[0]);
		return 2;
	}
	int rounds = argc > 3 ? atoi(argv[3]) : 3;
	struct stat sb;
	if (stat(argv[1], &sb) != 0) {
		perror(argv[1]);
		return 2;
	}
	double mb = (double)sb.st_size / 1e6, best_plain = 1e9, best_redact = 1e9, best_scan = 1e9;
	size_t count = 0;
	kp_error err = {0};
	if (kp_copy_file_atomic(argv[1], argv[2], &err)) /* warm the page cache */
		goto fail;
	for (int i = 0; i < rounds; i++) {
		double t = now_s();
		if (kp_copy_file_atomic(argv[1], argv[2], &err))
			goto fail;
		t = now_s() - t;
		best_plain = t < best_plain ? t : best_plain;
		t = now_s();
		if (kp_redact_copy(argv[1], argv[2], &count, &err))
			goto fail;
		t = now_s() - t;
		best_redact = t < best_redact ? t : best_redact;
		t = now_s();
		if (redact_only(argv[1], &count, &err))
			goto fail;
		t = now_s() - t;
		best_scan = t < best_scan ? t : best_scan;
	}
	printf("{\"file\":\"%s\",\"mb\":%.1f,\"plain_copy_s\":%.3f,\"plain_copy_mb_s\":%.0f,"
	       "\"redact_copy_s\":%.3f,\"redact_copy_mb_s\":%.0f,\"redactor_only_s\":%.3f,\"redactor_only_mb_s\":%.0f,"
	       "\"values_redacted\":%zu}\n",
	       argv[1], mb, best_plain, mb / best_plain, best_redact, mb / best_redact, best_scan, mb / best_scan, count);
	return 0;
fail:
	fprintf(stderr, "%s\n", err.msg);
	return 1;
}
