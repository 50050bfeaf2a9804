/*
 * process.h - running another program: by posix_spawnp with an argument
 * vector, never through a shell, stdin from /dev/null, its output captured
 * and bounded, and killed when it takes too long. The kubeconfig's exec
 * credential plugins and the agents' read-only kubectl and helm go through
 * it.
 */
#ifndef KP_PROCESS_H
#define KP_PROCESS_H

#include <stdatomic.h>

#include "pipeline/kp.h"

typedef struct kp_proc_result {
	bool exited;      /* it exited (else: a signal, or killed at the deadline) */
	bool cancelled;   /* stopped because *cancel was set (kp_process_run_cancellable) */
	int code;         /* its exit code, or the signal */
	bool timed_out;   /* killed at the deadline */
	bool out_cut;     /* stdout was longer than max_out (the rest was read and dropped) */
} kp_proc_result;

/* Runs argv[0] (found on PATH) with argv, in envp (NULL: this process's
 * environment); stdout into out (at most max_out bytes kept), stderr into
 * errb (at most max_err); for at most timeout_s seconds, then SIGKILL.
 * KP_OK when it ran (res says how it ended), KP_ERR_USAGE naming the
 * program when it could not be started (not installed, not executable). */
kp_status kp_process_run(char *const argv[], char *const envp[], double timeout_s, kp_buf *out, size_t max_out,
			 kp_buf *errb, size_t max_err, kp_proc_result *res, kp_error *err);

/* The same, stoppable: when *cancel becomes true (checked every 100 ms)
 * the program and everything it started get SIGTERM (it runs in a process
 * group of its own, so Ctrl-C on us does not reach it: the caller decides),
 * then SIGKILL 3 s later. For work a client may call off (the MCP server's
 * tools). */
kp_status kp_process_run_cancellable(char *const argv[], char *const envp[], double timeout_s, kp_buf *out,
				     size_t max_out, kp_buf *errb, size_t max_err, const atomic_bool *cancel,
				     kp_proc_result *res, kp_error *err);

/* A command line's words, single and double quotes honoured (no other
 * shell syntax: callers refuse it first, kp_safety_shell_syntax); a
 * NULL-terminated heap array of heap strings, *n words. */
char **kp_command_words(const char *cmd, size_t *n);
void kp_command_words_free(char **v, size_t n);

#endif
