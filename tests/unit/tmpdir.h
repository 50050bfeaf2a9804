/*
 * tmpdir.h - a scratch directory of files for the unit tests that read a
 * tree (the manifest locator, the pull-request plan).
 */
#ifndef KP_TEST_TMPDIR_H
#define KP_TEST_TMPDIR_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/kp.h"

/* root/rel with text, directories made as needed */
static inline void tmpdir_put(const char *root, const char *rel, const char *text)
{
	char *p = kp_path_join(root, rel);
	char *dir = kp_xstrdup(p);
	*strrchr(dir, '/') = '\0';
	kp_error err = {0};
	cr_assert_eq(kp_mkdir_p(dir, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(kp_write_file_atomic(p, text, strlen(text), &err), KP_OK, "%s", err.msg);
	free(dir);
	free(p);
}

/* a new /tmp/kp-NAME-XXXXXX into root (64 bytes) */
static inline void tmpdir_make(char *root, const char *name)
{
	snprintf(root, 64, "/tmp/kp-%s-XXXXXX", name);
	cr_assert(mkdtemp(root));
}

/* Starts one of tests/fakes/ (python3 SCRIPT ARGS... --port-file F, NULL
 * terminated) in its own process group (teardown: kill(-pid, SIGKILL)),
 * and waits for the port it writes. */
static inline pid_t tmpdir_start_fake(const char *root, int *port, const char *script, ...)
{
	char pf[128];
	snprintf(pf, sizeof(pf), "%s/%s.port", root, strrchr(script, '/') ? strrchr(script, '/') + 1 : script);
	const char *argv[32] = {"python3", script};
	int n = 2;
	va_list ap;
	va_start(ap, script);
	for (const char *a; n < 28 && (a = va_arg(ap, const char *)) != NULL;)
		argv[n++] = a;
	va_end(ap);
	argv[n++] = "--port-file";
	argv[n++] = pf;
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		execv("/usr/bin/python3", (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 200 && !kp_file_exists(pf); i++)
		usleep(50000);
	char *text = NULL;
	size_t len = 0;
	kp_error err = {0};
	cr_assert_eq(kp_read_file(pf, &text, &len, &err), KP_OK, "%s did not start (make deps installs python3): %s",
		     script, err.msg);
	*port = atoi(text);
	free(text);
	return pid;
}

/* Stops what tmpdir_start_fake (or a fork that did setpgid) started: the
 * whole process group (git daemon runs git-daemon as its child). */
static inline void tmpdir_stop_fake(pid_t pid)
{
	if (pid > 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

#endif
