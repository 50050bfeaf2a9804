/*
 * test_git.c - the pull-request branches through libgit2
 * (stages/render/gitops/git.c) against a real `git daemon
 * --enable=receive-pack` on 127.0.0.1: created, unchanged on a second run,
 * replaced when the findings change, left alone when someone else
 * committed, a refusal by the server's hook an error; the base branch is
 * never written.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/tmpdir.h"
#include "stages/render/gitops/git.h"

static char root[64];
static pid_t daemon_pid;
static int port;
static char url[128];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

/* what a git command prints, trimmed */
static char *out_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *out_of(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	char buf[4096] = "";
	size_t n = fread(buf, 1, sizeof(buf) - 1, p);
	pclose(p);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return kp_xstrdup(buf);
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &l) == 0);
	close(fd);
	return ntohs(a.sin_port);
}

#define GITC "git -c user.name=alice -c user.email=alice@example.com -c init.defaultBranch=main"

static void seed(void)
{
	tmpdir_make(root, "git");
	sh("cd %s && mkdir srv seed && " GITC " init -q --bare srv/manifests.git && cd seed && " GITC " init -q && "
	   "mkdir -p apps && printf 'kind: Deployment\\nmetadata:\\n  name: a\\n' > apps/a.yaml && "
	   "printf '#!/bin/sh\\n' > deploy.sh && chmod +x deploy.sh && " GITC " add -A && " GITC
	   " commit -qm base && " GITC " push -q ../srv/manifests.git HEAD:main",
	   root);
}

/* waits until 127.0.0.1:p accepts */
static void wait_port(int p, const char *what)
{
	for (int i = 0; i < 200; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(fd);
		if (ok)
			return;
		usleep(50000);
	}
	cr_assert_fail("%s did not start (make deps installs git and python3)", what);
}

static void setup(void)
{
	seed();
	port = free_port();
	snprintf(url, sizeof(url), "git://127.0.0.1:%d/manifests.git", port);
	daemon_pid = fork();
	if (daemon_pid == 0) {
		/* its own process group: `git daemon` runs git-daemon as a child,
		 * and teardown stops the whole group */
		setpgid(0, 0);
		char base[128], p[32];
		snprintf(base, sizeof(base), "--base-path=%s/srv", root);
		snprintf(p, sizeof(p), "--port=%d", port);
		int devnull = open("/dev/null", 1);
		dup2(devnull, 2);
		execlp("git", "git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack", "--listen=127.0.0.1",
		       p, base, (char *)NULL);
		_exit(127);
	}
	wait_port(port, "git daemon");
}

static void teardown(void)
{
	tmpdir_stop_fake(daemon_pid);
	kp_remove_tree(root);
}

TestSuite(git, .init = setup, .fini = teardown);

static kp_git *open_cache(void)
{
	char cache[128];
	snprintf(cache, sizeof(cache), "%s/cache", root);
	kp_git_opts o = {url, cache, "main", NULL, NULL, NULL, NULL};
	kp_git *g = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_git_open(&o, &g, &err), KP_OK, "%s", err.msg);
	return g;
}

static kp_git_result publish(kp_git *g, const char *branch, const char *text)
{
	const char *paths[] = {"apps/a.yaml", "deploy.sh"};
	const char *texts[] = {text, "#!/bin/sh\necho deploy\n"};
	size_t lens[] = {strlen(text), strlen(texts[1])};
	kp_git_result r;
	kp_error err = {0};
	cr_assert_eq(kp_git_publish(g, branch, paths, texts, lens, 2, "kopilot: rightsize a\n\nbody\n", 1764050400, &r, &err),
		     KP_OK, "%s", err.msg);
	return r;
}

Test(git, created_unchanged_updated_and_main_untouched)
{
	char *main0 = out_of("git --git-dir=%s/srv/manifests.git rev-parse main", root);
	kp_git *g = open_cache();
	char *a = kp_path_join(kp_git_workdir(g), "apps/a.yaml");
	cr_expect(kp_file_exists(a), "the cache's working tree is the base's");
	free(a);
	cr_expect_eq(publish(g, "kopilot/shop", "kind: Deployment\nmetadata:\n  name: b\n"), KP_GIT_CREATED);
	kp_git_close(g);
	char *log = out_of("git --git-dir=%s/srv/manifests.git log --format='%%an <%%ae>|%%s' main..kopilot/shop", root);
	cr_expect_str_eq(log, "kopilot <kopilot@localhost>|kopilot: rightsize a");
	char *mode = out_of("git --git-dir=%s/srv/manifests.git ls-tree kopilot/shop deploy.sh | cut -c1-6", root);
	cr_expect_str_eq(mode, "100755", "an executable stays executable");
	free(log), free(mode);
	/* a second run, from the cache: nothing new */
	char *tip1 = out_of("git --git-dir=%s/srv/manifests.git rev-parse kopilot/shop", root);
	g = open_cache();
	cr_expect_eq(publish(g, "kopilot/shop", "kind: Deployment\nmetadata:\n  name: b\n"), KP_GIT_UNCHANGED);
	kp_git_close(g);
	char *tip2 = out_of("git --git-dir=%s/srv/manifests.git rev-parse kopilot/shop", root);
	cr_expect_str_eq(tip1, tip2, "no new commit");
	/* changed findings: replaced, still one commit on main */
	g = open_cache();
	cr_expect_eq(publish(g, "kopilot/shop", "kind: Deployment\nmetadata:\n  name: c\n"), KP_GIT_UPDATED);
	kp_git_close(g);
	char *count = out_of("git --git-dir=%s/srv/manifests.git rev-list --count main..kopilot/shop", root);
	cr_expect_str_eq(count, "1");
	char *main1 = out_of("git --git-dir=%s/srv/manifests.git rev-parse main", root);
	cr_expect_str_eq(main0, main1, "main was never written");
	free(tip1), free(tip2), free(count), free(main0), free(main1);
}

Test(git, someone_elses_commit_is_never_force_pushed)
{
	kp_git *g = open_cache();
	cr_expect_eq(publish(g, "kopilot/shop", "kind: Deployment\nmetadata:\n  name: b\n"), KP_GIT_CREATED);
	kp_git_close(g);
	sh("cd %s && " GITC " clone -q %s/srv/manifests.git other && cd other && " GITC
	   " checkout -q kopilot/shop && echo '# reviewed' >> apps/a.yaml && " GITC " commit -qam 'a reviewer' && " GITC
	   " push -q origin kopilot/shop",
	   root, root);
	char *tip = out_of("git --git-dir=%s/srv/manifests.git rev-parse kopilot/shop", root);
	g = open_cache();
	cr_expect_eq(publish(g, "kopilot/shop", "kind: Deployment\nmetadata:\n  name: z\n"), KP_GIT_FOREIGN);
	kp_git_close(g);
	char *tip2 = out_of("git --git-dir=%s/srv/manifests.git rev-parse kopilot/shop", root);
	cr_expect_str_eq(tip, tip2, "the reviewer's commit is still there");
	free(tip), free(tip2);
}

Test(git, a_push_the_server_refuses_is_an_error)
{
	sh("printf '#!/bin/sh\\nwhile read o n r; do case $r in refs/heads/kopilot/locked) echo protected >&2; exit 1;; "
	   "esac; done\\n' > %s/srv/manifests.git/hooks/pre-receive && chmod +x %s/srv/manifests.git/hooks/pre-receive",
	   root, root);
	kp_git *g = open_cache();
	const char *paths[] = {"apps/a.yaml"};
	const char *texts[] = {"x: 1\n"};
	size_t lens[] = {5};
	kp_git_result r;
	kp_error err = {0};
	kp_status s = kp_git_publish(g, "kopilot/locked", paths, texts, lens, 1, "m\n", 1764050400, &r, &err);
	cr_expect_neq(s, KP_OK, "a refused push must not look like success");
	cr_expect(strstr(err.msg, "kopilot/locked") != NULL, "%s", err.msg);
	kp_git_close(g);
	char *refs = out_of("git --git-dir=%s/srv/manifests.git for-each-ref --format='%%(refname)' refs/heads/kopilot",
			    root);
	cr_expect_str_eq(refs, "");
	free(refs);
}

Test(git, a_non_fast_forward_update_the_server_refuses_is_an_error)
{
	kp_git *g = open_cache();
	cr_expect_eq(publish(g, "kopilot/shop", "kind: Deployment\nmetadata:\n  name: b\n"), KP_GIT_CREATED);
	kp_git_close(g);
	char *tip = out_of("git --git-dir=%s/srv/manifests.git rev-parse kopilot/shop", root);
	/* the server refuses forced updates (a protected branch does the same) */
	sh("git --git-dir=%s/srv/manifests.git config receive.denyNonFastForwards true", root);
	g = open_cache();
	const char *paths[] = {"apps/a.yaml"};
	const char *texts[] = {"kind: Deployment\nmetadata:\n  name: c\n"};
	size_t lens[] = {strlen(texts[0])};
	kp_git_result r;
	kp_error err = {0};
	kp_status s = kp_git_publish(g, "kopilot/shop", paths, texts, lens, 1, "m\n", 1764050400, &r, &err);
	cr_expect_neq(s, KP_OK, "a refused update must not look like success");
	cr_expect(strstr(err.msg, "kopilot/shop") != NULL, "%s", err.msg);
	kp_git_close(g);
	char *tip2 = out_of("git --git-dir=%s/srv/manifests.git rev-parse kopilot/shop", root);
	cr_expect_str_eq(tip, tip2);
	free(tip), free(tip2);
}

Test(git, clear_errors_for_a_wrong_base_or_cache)
{
	char cache[128];
	snprintf(cache, sizeof(cache), "%s/cache", root);
	kp_git_opts o = {url, cache, "release", NULL, NULL, NULL, NULL};
	kp_git *g = NULL;
	kp_error err = {0};
	cr_expect_eq(kp_git_open(&o, &g, &err), KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "has no branch release (pr.base)") != NULL, "%s", err.msg);
	/* the cache holds another repository */
	char other[160];
	snprintf(other, sizeof(other), "git://127.0.0.1:%d/other.git", port);
	kp_git_opts o2 = {other, cache, "main", NULL, NULL, NULL, NULL};
	cr_expect_eq(kp_git_open(&o2, &g, &err), KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "the cache holds a clone of") != NULL, "%s", err.msg);
	/* nothing listens */
	char dead[128];
	snprintf(dead, sizeof(dead), "git://127.0.0.1:%d/manifests.git", free_port());
	snprintf(cache, sizeof(cache), "%s/cache2", root);
	kp_git_opts o3 = {dead, cache, "main", NULL, NULL, NULL, NULL};
	cr_expect_eq(kp_git_open(&o3, &g, &err), KP_ERR_NETWORK);
	cr_expect(strstr(err.msg, "git clone") != NULL, "%s", err.msg);
}

/* ---- smart HTTP with a token, as GitHub and GitLab serve (tests/fakes/githttp.py) ---- */

static void setup_http(void)
{
	seed();
	char r[128];
	snprintf(r, sizeof(r), "%s/srv", root);
	daemon_pid = tmpdir_start_fake(root, &port, "tests/fakes/githttp.py", "--root", r, "--token", "s3cret-token",
				       (const char *)NULL);
	wait_port(port, "tests/fakes/githttp.py");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/manifests.git", port);
}

TestSuite(githttp, .init = setup_http, .fini = teardown);

Test(githttp, a_token_clones_and_pushes_and_stays_out_of_the_cache)
{
	char cache[128];
	snprintf(cache, sizeof(cache), "%s/cache", root);
	kp_git_opts o = {url, cache, "main", "s3cret-token", "x-access-token", NULL, NULL};
	kp_git *g = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_git_open(&o, &g, &err), KP_OK, "%s", err.msg);
	cr_expect_eq(publish(g, "kopilot/shop", "kind: Deployment\nmetadata:\n  name: b\n"), KP_GIT_CREATED);
	kp_git_close(g);
	char *log = out_of("git --git-dir=%s/srv/manifests.git log --format=%%an kopilot/shop -1", root);
	cr_expect_str_eq(log, "kopilot");
	free(log);
	char *leak = out_of("grep -rl s3cret-token %s/.git 2>/dev/null | head -1", cache);
	cr_expect_str_eq(leak, "", "the token is in %s", leak);
	free(leak);
}

Test(githttp, a_wrong_or_missing_token_is_a_clear_error)
{
	char cache[128];
	snprintf(cache, sizeof(cache), "%s/cache", root);
	kp_git_opts o = {url, cache, "main", "wrong", "x-access-token", NULL, NULL};
	kp_git *g = NULL;
	kp_error err = {0};
	cr_expect_eq(kp_git_open(&o, &g, &err), KP_ERR_NETWORK);
	cr_expect(strstr(err.msg, "authentication failed") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "wrong") == NULL, "the token is in the error: %s", err.msg);
	snprintf(cache, sizeof(cache), "%s/cache2", root);
	kp_git_opts o2 = {url, cache, "main", NULL, NULL, NULL, NULL};
	cr_expect_eq(kp_git_open(&o2, &g, &err), KP_ERR_NETWORK);
	cr_expect(strstr(err.msg, "set GIT_TOKEN") != NULL, "%s", err.msg);
}
