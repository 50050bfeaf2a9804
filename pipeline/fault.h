/*
 * fault.h - fault injection for testing error paths, the SQLite way: in a
 * test build a counter makes the Nth allocation or the Nth file operation
 * fail on purpose, and tests/e2e/faults.sh walks N over a whole run.
 *
 * Only a build compiled with -DKP_FAULT_INJECTION (`make faults`, objects in
 * build-fault/) counts anything. Everywhere else the two functions are
 * static inline and return false, so the checks sprinkled over the
 * allocator and the file code fold away to nothing: the shipped binary
 * pays no call, no branch and no global for them.
 *
 * Environment (read once, at the first check):
 *   KOPILOT_FAULT=alloc:N   the Nth allocation through kp.h's allocators fails
 *   KOPILOT_FAULT=io:N      the Nth file operation fails (EIO, ENOSPC on writes)
 *   KOPILOT_FAULT_COUNT=F   at exit, write "alloc <n>\nio <n>\n" to F: how many
 *                           of each the process performed (N's range)
 */
#ifndef KP_FAULT_H
#define KP_FAULT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>

/* Whether work may go to a second thread (the snapshot loader, collect's
 * background copy): not in the fault-injection build, whose failures are
 * counted in call order, which a second thread would make vary. */
#ifdef KP_FAULT_INJECTION
#define KP_THREADS 0
#else
#define KP_THREADS 1
#endif

#ifdef KP_FAULT_INJECTION
/* True for exactly the Nth call of its kind (see above); counts every call. */
bool kp_fault_alloc(void);
bool kp_fault_io(void);
#else
static inline bool kp_fault_alloc(void) { return false; }
static inline bool kp_fault_io(void) { return false; }
#endif

/* A file operation that may be failed on purpose: evaluates to -1 (or NULL
 * for the pointer form) with errno set, as the real call would on a failing
 * disk, or else to the call itself. Writes fail with ENOSPC, the rest with
 * EIO, so the caller's existing error path runs. */
#define KP_FAULT_IO(call) (kp_fault_io() ? (errno = EIO, -1) : (call))
#define KP_FAULT_IO_WRITE(call) (kp_fault_io() ? (errno = ENOSPC, -1) : (call))
#define KP_FAULT_IO_PTR(call) (kp_fault_io() ? (errno = EIO, NULL) : (call))

/* close() of a file just written: the descriptor is always closed, a fault
 * only changes what is reported (NFS reports lost writes here). */
static inline int kp_fault_close(int fd)
{
	bool fail = kp_fault_io();
	int r = close(fd);
	if (fail && r == 0) {
		errno = EIO;
		r = -1;
	}
	return r;
}

#endif
