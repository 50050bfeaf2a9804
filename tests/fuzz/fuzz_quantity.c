/*
 * fuzz_quantity.c - libFuzzer harness for Kubernetes quantity parsing and
 * formatting (pipeline/quantity.h).
 *
 * The input (NUL-terminated copy) goes to kp_quantity_milli and
 * kp_quantity_units. Properties checked, beyond "no crash, no UB":
 *   - a success gives a value >= 0, and units <= ceil(milli / 1000) agree:
 *     units == ceil(milli / 1000) whenever milli fits;
 *   - kp_quantity_format_mem(x) parses back to a value >= x (for x >= 0, from
 *     the parsed value and from the raw input bytes taken as an integer);
 *   - kp_quantity_format_cpu(m) parses back (milli) to exactly m.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/quantity.h"

static void check_mem_roundtrip(int64_t x)
{
	if (x < 0)
		return;
	char s[64];
	int64_t back = -1;
	kp_error err = {0};
	kp_quantity_format_mem(x, s, sizeof(s));
	if (kp_quantity_units(s, &back, &err) != KP_OK) {
		fprintf(stderr, "format_mem(%lld) = \"%s\" does not parse: %s\n", (long long)x, s, err.msg);
		abort();
	}
	if (back < x) {
		fprintf(stderr, "format_mem(%lld) = \"%s\" parses back to %lld < x\n", (long long)x, s, (long long)back);
		abort();
	}
}

static void check_cpu_roundtrip(int64_t m)
{
	if (m < 0)
		return;
	char s[64];
	int64_t back = -1;
	kp_error err = {0};
	kp_quantity_format_cpu(m, s, sizeof(s));
	if (kp_quantity_milli(s, &back, &err) != KP_OK || back != m) {
		fprintf(stderr, "format_cpu(%lld) = \"%s\" parses back to %lld (%s)\n", (long long)m, s, (long long)back,
			err.msg);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	kp_error err = {0};
	int64_t milli = -1, units = -1;
	kp_status sm = kp_quantity_milli(s, &milli, &err);
	kp_status su = kp_quantity_units(s, &units, &err);
	if (sm == KP_OK && milli < 0)
		abort();
	if (su == KP_OK && units < 0)
		abort();
	/* Both succeed: units must be milli/1000 rounded up. */
	if (sm == KP_OK && su == KP_OK && units != milli / 1000 + (milli % 1000 != 0))
		abort();
	/* Units parse but milli overflows: only possible when milli would
	 * exceed INT64_MAX. */
	if (su == KP_OK && sm != KP_OK && units <= INT64_MAX / 1000 - 1)
		abort();
	if (sm != KP_OK && !err.msg[0])
		abort();
	if (su == KP_OK) {
		check_mem_roundtrip(units);
		check_cpu_roundtrip(units);
	}
	if (sm == KP_OK)
		check_cpu_roundtrip(milli);
	/* Also the raw bytes as a number, to reach every int64 quickly. */
	int64_t raw = 0;
	memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
	check_mem_roundtrip(raw);
	check_mem_roundtrip(raw & (((int64_t)1 << 60) - 1));
	check_cpu_roundtrip(raw);
	char buf[64];
	kp_format_cpu(raw, buf, sizeof(buf));
	kp_format_bytes(raw, buf, sizeof(buf));
	kp_quantity_format_mem(raw, buf, sizeof(buf));
	kp_quantity_format_cpu(raw, buf, sizeof(buf));
	kp_format_bytes(raw, buf, 3); /* truncation is fine, overflow is not */
	free(s);
	return 0;
}
