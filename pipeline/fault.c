/*
 * fault.c - the counters behind fault.h in a -DKP_FAULT_INJECTION build:
 * which call to fail (KOPILOT_FAULT) and the totals written at exit
 * (KOPILOT_FAULT_COUNT). In a normal build this file compiles to nothing;
 * fault.h's inline stubs are used instead.
 *
 * Not thread-safe: kopilot is single-threaded.
 */
#include "pipeline/fault.h"

#ifdef KP_FAULT_INJECTION

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KIND_ALLOC, KIND_IO, KIND_COUNT };

static struct {
	bool ready;
	unsigned long long fail_at[KIND_COUNT]; /* 0: never */
	unsigned long long calls[KIND_COUNT];
	const char *count_path;
} fault;

static void write_counts(void)
{
	/* plain stdio, outside the counters: this is the test's report */
	FILE *f = fopen(fault.count_path, "w");
	if (!f) {
		fprintf(stderr, "kopilot: KOPILOT_FAULT_COUNT: cannot write %s\n", fault.count_path);
		return;
	}
	fprintf(f, "alloc %llu\nio %llu\n", fault.calls[KIND_ALLOC], fault.calls[KIND_IO]);
	fclose(f);
}

static void fault_setup(void)
{
	fault.ready = true;
	const char *spec = getenv("KOPILOT_FAULT");
	if (spec && *spec) {
		const char *colon = strchr(spec, ':');
		char *end = NULL;
		unsigned long long n = colon ? strtoull(colon + 1, &end, 10) : 0;
		int kind = !colon ? -1
			   : (size_t)(colon - spec) == 5 && strncmp(spec, "alloc", 5) == 0 ? KIND_ALLOC
			   : (size_t)(colon - spec) == 2 && strncmp(spec, "io", 2) == 0	   ? KIND_IO
											   : -1;
		if (kind < 0 || !end || *end || n == 0) {
			/* a typo must not turn the walk into runs that test nothing */
			fprintf(stderr, "kopilot: KOPILOT_FAULT=%s: expected alloc:N or io:N (N >= 1)\n", spec);
			exit(2);
		}
		fault.fail_at[kind] = n;
	}
	fault.count_path = getenv("KOPILOT_FAULT_COUNT");
	if (fault.count_path && *fault.count_path)
		atexit(write_counts);
}

/* Runs before main, so the totals are written even by a process that never
 * allocated or touched a file. */
__attribute__((constructor)) static void fault_init(void)
{
	if (!fault.ready)
		fault_setup();
}

static bool fault_hit(int kind)
{
	if (!fault.ready)
		fault_setup();
	return ++fault.calls[kind] == fault.fail_at[kind];
}

bool kp_fault_alloc(void) { return fault_hit(KIND_ALLOC); }
bool kp_fault_io(void) { return fault_hit(KIND_IO); }

#else

/* ISO C wants at least one declaration in a translation unit. */
typedef int kp_fault_unused;

#endif
