/*
 * process.c - see process.h. Both pipes are read with poll() as they fill,
 * so a program that writes much to stderr cannot block on a full pipe
 * while we wait on stdout.
 */
#define _GNU_SOURCE /* pipe2: O_CLOEXEC, so no other child inherits the pipes */
#include "pipeline/process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* One read of fd into b (at most max bytes kept, the rest dropped and
 * noted in *cut); *open_ false at end of file. */
static void drain(int fd, kp_buf *b, size_t max, bool *open_, bool *cut)
{
	char tmp[8192];
	ssize_t r = read(fd, tmp, sizeof(tmp));
	if (r > 0) {
		size_t room = b->len < max ? max - b->len : 0;
		if ((size_t)r > room && cut)
			*cut = true;
		kp_buf_add(b, tmp, (size_t)r < room ? (size_t)r : room);
	} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
		*open_ = false;
	}
}

kp_status kp_process_run(char *const argv[], char *const envp[], double timeout_s, kp_buf *out, size_t max_out,
			 kp_buf *errb, size_t max_err, kp_proc_result *res, kp_error *err)
{
	return kp_process_run_cancellable(argv, envp, timeout_s, out, max_out, errb, max_err, NULL, res, err);
}

kp_status kp_process_run_cancellable(char *const argv[], char *const envp[], double timeout_s, kp_buf *out,
				     size_t max_out, kp_buf *errb, size_t max_err, const atomic_bool *cancel,
				     kp_proc_result *res, kp_error *err)
{
	memset(res, 0, sizeof(*res));
	int po[2] = {-1, -1}, pe[2] = {-1, -1};
	kp_status s = KP_OK;
	pid_t pid = -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	if (cancel) {
		posix_spawnattr_setpgroup(&attr, 0);
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	}
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
		s = kp_fail(err, KP_ERR_IO, "cannot make a pipe to run %s: %s", argv[0], strerror(errno));
	} else {
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, po[1], 1);
		posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
		int rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, envp ? envp : environ);
		if (rc != 0) {
			pid = -1;
			s = kp_fail(err, KP_ERR_USAGE, "cannot run %s: %s", argv[0], strerror(rc));
		}
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[1] >= 0)
		close(pe[1]);
	if (pid > 0) {
		bool oo = true, eo = true;
		double deadline = kp_monotonic_seconds() + timeout_s, kill_at = 0;
		while (oo || eo) {
			struct pollfd fds[2] = {{oo ? po[0] : -1, POLLIN, 0}, {eo ? pe[0] : -1, POLLIN, 0}};
			double now = kp_monotonic_seconds(), left = deadline - now;
			if (left <= 0 || (kill_at > 0 && now >= kill_at)) {
				res->timed_out = !res->cancelled;
				kill(cancel ? -pid : pid, SIGKILL);
				break;
			}
			if (cancel && !res->cancelled && atomic_load(cancel)) {
				/* the group: a run's own children (kubectl, plugins) too */
				res->cancelled = true;
				kill(-pid, SIGTERM);
				kill_at = now + 3;
			}
			int wait_ms = (int)(left * 1000) + 1;
			if (cancel && wait_ms > 100)
				wait_ms = 100;
			int r = poll(fds, 2, wait_ms);
			if (r < 0 && errno != EINTR)
				break;
			if (r > 0 && oo && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
				drain(po[0], out, max_out, &oo, &res->out_cut);
			if (r > 0 && eo && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
				drain(pe[0], errb, max_err, &eo, NULL);
		}
		int status = 0;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		res->exited = WIFEXITED(status) && !res->timed_out && !res->cancelled;
		res->code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? WTERMSIG(status) : -1;
	}
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	return s;
}

char **kp_command_words(const char *cmd, size_t *n)
{
	char **v = NULL;
	*n = 0;
	for (const char *p = cmd;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		kp_buf w;
		kp_buf_init(&w);
		char q = 0;
		for (; *p && (q || (*p != ' ' && *p != '\t')); p++) {
			if (!q && (*p == '\'' || *p == '"'))
				q = *p;
			else if (q && *p == q)
				q = 0;
			else
				kp_buf_putc(&w, *p);
		}
		v = kp_xrealloc(v, (*n + 2) * sizeof(char *));
		v[(*n)++] = kp_buf_detach(&w);
	}
	if (!v)
		v = kp_xcalloc(1, sizeof(char *));
	v[*n] = NULL;
	return v;
}

void kp_command_words_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
