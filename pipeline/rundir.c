/*
 * rundir.c - see rundir.h.
 */
#define _GNU_SOURCE /* renameat2, RENAME_EXCHANGE */
#include "pipeline/rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/fault.h"

/* ---- what this process holds, for kp_rundir_abandon ---- */

/* Out of memory outside every stage's guard longjmps straight to main()'s
 * backstop, past the command's cleanup, and the kp_rundir and kp_lock it
 * had on its stack are gone with their frames. So what must be undone is
 * copied here, into static storage: the backstop reads nothing else, and
 * allocates nothing. The structs' addresses serve only as keys. */
static struct held_lock {
	const kp_lock *key;
	int fd; /* -1: not (yet) held */
	char path[PATH_MAX];
} held_locks[4];
static const kp_rundir *active_key;
static char active_staging[PATH_MAX];

static void hold(const kp_lock *l, const char *path, int fd)
{
	struct held_lock *free_slot = NULL;
	for (size_t i = 0; i < sizeof(held_locks) / sizeof(held_locks[0]); i++) {
		if (held_locks[i].key == l) {
			held_locks[i].fd = fd;
			return;
		}
		if (!held_locks[i].key && !free_slot)
			free_slot = &held_locks[i];
	}
	if (free_slot && path && strlen(path) < sizeof(free_slot->path)) {
		free_slot->key = l;
		free_slot->fd = fd;
		memcpy(free_slot->path, path, strlen(path) + 1);
	}
}

static void unhold(const kp_lock *l)
{
	for (size_t i = 0; i < sizeof(held_locks) / sizeof(held_locks[0]); i++)
		if (held_locks[i].key == l)
			memset(&held_locks[i], 0, sizeof(held_locks[i]));
}

static void set_active(const kp_rundir *t, const char *staging)
{
	active_key = staging && strlen(staging) < sizeof(active_staging) ? t : NULL;
	active_staging[0] = '\0';
	if (active_key)
		memcpy(active_staging, staging, strlen(staging) + 1);
}

static void rm_tree(const char *path);

void kp_rundir_abandon(void)
{
	if (active_key)
		rm_tree(active_staging);
	set_active(NULL, NULL);
	for (size_t i = 0; i < sizeof(held_locks) / sizeof(held_locks[0]); i++) {
		if (held_locks[i].key && held_locks[i].fd >= 0) {
			unlink(held_locks[i].path);
			close(held_locks[i].fd);
		}
		memset(&held_locks[i], 0, sizeof(held_locks[i]));
	}
}

/* ---- the lock ---- */

static char *lock_holder(int fd)
{
	char buf[512];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] ? kp_xstrdup(buf) : NULL;
}

kp_status kp_lock_acquire(kp_lock *l, const char *path, const char *what, const char *command, char **stale_holder,
			  kp_error *err)
{
	l->fd = -1;
	l->path = kp_xstrdup(path); /* before the file exists: see kp_rundir_abandon */
	l->busy = false;
	if (stale_holder)
		*stale_holder = NULL;
	/* The classic flock-and-unlink race: the holder may unlink the file
	 * between our open and our flock. Then we hold a lock on a file that
	 * is no longer there, and the inode check sends us round again. */
	hold(l, path, -1);
	for (int attempt = 0; attempt < 100; attempt++) {
		int fd = KP_FAULT_IO(open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666));
		if (fd < 0)
			return kp_fail(err, KP_ERR_IO, "%s: cannot create the lock file: %s", path, strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			int e = errno;
			char *h = e == EWOULDBLOCK ? lock_holder(fd) : NULL;
			close(fd);
			if (e != EWOULDBLOCK)
				return kp_fail(err, KP_ERR_IO, "%s: cannot lock: %s", path, strerror(e));
			l->busy = true;
			kp_status s = kp_fail(err, KP_ERR_IO,
					      "%s is in use by another kopilot (%s); it was not touched: wait for that "
					      "one to finish (its lock is %s)",
					      what, h ? h : "starting up", path);
			free(h);
			return s;
		}
		struct stat a, b;
		if (fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
			close(fd);
			continue;
		}
		l->fd = fd;
		hold(l, path, fd); /* held: from here on kp_rundir_abandon removes it */
		/* A holder that finishes removes the file; one that still has
		 * words in it died holding the lock (the kernel released it). */
		char *old = lock_holder(fd);
		if (stale_holder)
			*stale_holder = old;
		else
			free(old);
		char host[256] = "", ts[32], line[512];
		if (gethostname(host, sizeof(host) - 1) != 0)
			snprintf(host, sizeof(host), "?");
		kp_time_format((int64_t)time(NULL), ts);
		int n = snprintf(line, sizeof(line), "pid %ld, `kopilot %s` started %s on %s\n", (long)getpid(), command, ts,
				 host);
		if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
			/* only the holder's name is lost; the lock itself holds */
		}
		return KP_OK;
	}
	return kp_fail(err, KP_ERR_IO, "%s: cannot take the lock: it keeps being replaced", path);
}

void kp_lock_release(kp_lock *l)
{
	if (l->path && l->fd >= 0) { /* a zeroed kp_lock has fd 0 and no path: not held */
		unlink(l->path); /* while still holding it: see kp_lock_acquire */
		close(l->fd);
	}
	unhold(l);
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}

/* ---- directory trees ---- */

/* Removes name under dfd, a directory recursively; symbolic links are
 * removed, never followed. Best effort: used on our own staging copies. */
static void rm_tree_at(int dfd, const char *name)
{
	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			rm_tree_at(dirfd(d), e->d_name);
	closedir(d);
	unlinkat(dfd, name, AT_REMOVEDIR);
}

static void rm_tree(const char *path) { rm_tree_at(AT_FDCWD, path); }

static bool is_temp_name(const char *name) { return name[0] == '.' && strstr(name, ".tmp.") != NULL; }

static bool no_hard_links(int e) { return e == EPERM || e == EXDEV || e == EMLINK || e == EOPNOTSUPP || e == ENOSYS; }

/* Carries from (a file, directory or symbolic link in RUN) over to to in
 * the staging directory: hard links, so nothing is copied; kopilot never
 * writes a file in place (kp.h), so the old run's files stay as they were.
 * Temp files of killed writers are left behind. */
static kp_status carry(const char *from, const char *to, kp_error *err)
{
	struct stat st;
	if (KP_FAULT_IO(lstat(from, &st)) != 0)
		return kp_fail(err, KP_ERR_IO, "%s: %s", from, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		if (KP_FAULT_IO(link(from, to)) == 0)
			return KP_OK;
		if (no_hard_links(errno))
			return kp_copy_file_atomic(from, to, err);
		return kp_fail(err, KP_ERR_IO, "%s: cannot link it into the new run: %s", from, strerror(errno));
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(from, target, sizeof(target) - 1);
		if (n < 0)
			return kp_fail(err, KP_ERR_IO, "%s: %s", from, strerror(errno));
		target[n] = '\0';
		if (KP_FAULT_IO(symlink(target, to)) != 0)
			return kp_fail(err, KP_ERR_IO, "%s: %s", to, strerror(errno));
		return KP_OK;
	}
	if (!S_ISDIR(st.st_mode))
		return KP_OK; /* a FIFO or socket: not ours, and not a run's */
	if (KP_FAULT_IO(mkdir(to, 0777)) != 0)
		return kp_fail(err, KP_ERR_IO, "%s: cannot create directory: %s", to, strerror(errno));
	DIR *d = KP_FAULT_IO_PTR(opendir(from));
	if (!d)
		return kp_fail(err, KP_ERR_IO, "%s: cannot read the directory: %s", from, strerror(errno));
	kp_status s = KP_OK;
	struct dirent *e;
	while (!s && (e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || is_temp_name(e->d_name))
			continue;
		char *f = kp_path_join(from, e->d_name), *t = kp_path_join(to, e->d_name);
		s = carry(f, t, err);
		free(f);
		free(t);
	}
	closedir(d);
	return s;
}

static kp_status fsync_path(const char *path, kp_error *err)
{
	int fd = KP_FAULT_IO(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (fd < 0)
		return kp_fail(err, KP_ERR_IO, "%s: %s", path, strerror(errno));
	int r = KP_FAULT_IO(fsync(fd)), e = errno;
	close(fd);
	if (r != 0 && e != EINVAL) /* EINVAL: a filesystem that cannot sync directories */
		return kp_fail(err, KP_ERR_IO, "%s: cannot sync: %s", path, strerror(e));
	return KP_OK;
}

/* fsyncs every directory of the tree (the files were synced when written). */
static kp_status fsync_dirs(const char *path, kp_error *err)
{
	kp_status s = fsync_path(path, err);
	DIR *d = s ? NULL : opendir(path);
	if (!d)
		return s ? s : kp_fail(err, KP_ERR_IO, "%s: %s", path, strerror(errno));
	struct dirent *e;
	while (!s && (e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
			continue;
		char *sub = kp_path_join(path, e->d_name);
		struct stat st; /* DT_UNKNOWN: some filesystems do not say */
		if (e->d_type == DT_DIR || (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)))
			s = fsync_dirs(sub, err);
		free(sub);
	}
	closedir(d);
	return s;
}

/* ---- the run directory ---- */

/* What kopilot writes into a run directory: a new run replaces all of it;
 * anything else in RUN is someone else's and is carried over. */
static const char *const own_names[] = {"snapshot",    "analysis.json", "findings.json", "plan.json",
					"report.md",   "report.html",	"report.xlsx",	 "run.json",
					"audit.jsonl", "pr",	      "summary.json", "history.json",
					"findings.sarif", "findings.codequality.json", NULL};

static bool in_names(const char *const *names, const char *s)
{
	for (; names && *names; names++)
		if (strcmp(*names, s) == 0)
			return true;
	return false;
}

/* What only kopilot writes: a directory holding one of these is a run
 * directory (a report.md alone could be anyone's). */
static const char *const run_markers[] = {"audit.jsonl", "run.json", "findings.json", "analysis.json", "snapshot", NULL};

/* Empty, or holding something only kopilot writes. */
static kp_status check_run_dir(const char *path, const char *dir, kp_error *err)
{
	DIR *d = KP_FAULT_IO_PTR(opendir(path));
	if (!d)
		return kp_fail(err, KP_ERR_IO, "%s: cannot read the directory: %s", dir, strerror(errno));
	bool empty = true, ours = false;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		empty = false;
		if (in_names(run_markers, e->d_name))
			ours = true;
	}
	closedir(d);
	if (empty || ours)
		return KP_OK;
	return kp_fail(err, KP_ERR_USAGE,
		       "%s: exists and is not a kopilot run directory (no audit.jsonl, run.json, findings.json, "
		       "analysis.json or snapshot/); kopilot replaces a run directory as a whole, so it will not use "
		       "this one: choose a new or empty directory",
		       dir);
}

static char *sibling(const kp_rundir *t, const char *what)
{
	return kp_xasprintf("%s/.%s.%s", strcmp(t->parent, "/") ? t->parent : "", t->base, what);
}

/* Splits path (absolute, no trailing '/') into t->parent and t->base. */
static void split(kp_rundir *t, const char *path)
{
	const char *slash = strrchr(path, '/');
	free(t->parent);
	free(t->base);
	t->parent = slash == path ? kp_xstrdup("/") : kp_xasprintf("%.*s", (int)(slash - path), path);
	t->base = kp_xstrdup(slash + 1);
	free(t->path);
	t->path = kp_xstrdup(path);
}

kp_status kp_rundir_lock(kp_rundir *t, const char *dir, const char *command, kp_rundir_mode mode, kp_error *err)
{
	memset(t, 0, sizeof(*t));
	t->lock.fd = -1;
	t->dir = kp_xstrdup(dir);
	char *d = kp_xstrdup(dir);
	size_t n = strlen(d);
	while (n > 1 && d[n - 1] == '/')
		d[--n] = '\0';
	kp_status s = KP_OK;
	char real[PATH_MAX];
	const char *slash = strrchr(d, '/');
	const char *base = slash ? slash + 1 : d;
	if (!*d || !strcmp(d, "/")) {
		s = kp_fail(err, KP_ERR_USAGE, "%s: the root directory cannot be a run directory", dir);
	} else if (!strcmp(base, ".") || !strcmp(base, "..")) {
		/* "render ." : the directory itself, by its real name */
		if (!realpath(d, real))
			s = kp_fail(err, mode == KP_RUNDIR_STAGE ? KP_ERR_USAGE : KP_ERR_IO, "%s: %s", dir, strerror(errno));
		else if (!strcmp(real, "/"))
			s = kp_fail(err, KP_ERR_USAGE, "%s: the root directory cannot be a run directory", dir);
		else
			split(t, real);
	} else {
		char *parent = slash == d ? kp_xstrdup("/") : slash ? kp_xasprintf("%.*s", (int)(slash - d), d) : kp_xstrdup(".");
		if (mode == KP_RUNDIR_FRESH)
			s = kp_mkdir_p(parent, err);
		if (!s && !realpath(parent, real))
			s = kp_fail(err, errno == ENOENT || errno == ENOTDIR ? KP_ERR_USAGE : KP_ERR_IO, "%s: %s",
				    mode == KP_RUNDIR_STAGE ? dir : parent,
				    mode == KP_RUNDIR_STAGE && errno == ENOENT ? "run directory does not exist"
									      : strerror(errno));
		if (!s) {
			char *p = kp_xasprintf("%s/%s", strcmp(real, "/") ? real : "", base);
			split(t, p);
			free(p);
		}
		free(parent);
	}
	free(d);
	/* A symbolic link to the run directory is followed: the switch
	 * happens where the files are, and the link keeps pointing there. */
	struct stat st;
	if (!s && lstat(t->path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (!realpath(t->path, real))
			s = kp_fail(err, KP_ERR_USAGE, "%s: a symbolic link to nowhere: %s", dir, strerror(errno));
		else if (!strcmp(real, "/"))
			s = kp_fail(err, KP_ERR_USAGE, "%s: the root directory cannot be a run directory", dir);
		else
			split(t, real);
	}
	if (s)
		return s;
	if (mode == KP_RUNDIR_STAGE && lstat(t->path, &st) != 0)
		return kp_fail(err, errno == ENOENT ? KP_ERR_USAGE : KP_ERR_IO, "%s: %s", dir,
			       errno == ENOENT ? "run directory does not exist" : strerror(errno));
	char *lock = sibling(t, "lock"), *what = kp_xasprintf("run directory %s", dir);
	s = kp_lock_acquire(&t->lock, lock, what, command, &t->stale_holder, err);
	free(lock);
	free(what);
	t->run_audit = kp_path_join(t->path, "audit.jsonl");
	return s;
}

char *kp_rundir_existing_audit(const kp_rundir *t)
{
	struct stat st;
	if (!t->run_audit || lstat(t->run_audit, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	return kp_xstrdup(t->run_audit);
}

/* Removes .BASE.new.* and .BASE.old.* beside RUN: what killed commands
 * staged or were removing. We hold the lock, so none is live. */
static void clean_stale(kp_rundir *t)
{
	DIR *d = opendir(t->parent);
	if (!d)
		return;
	char *pfx_new = kp_xasprintf(".%s.new.", t->base), *pfx_old = kp_xasprintf(".%s.old.", t->base);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *pid = !strncmp(e->d_name, pfx_new, strlen(pfx_new))   ? e->d_name + strlen(pfx_new)
				  : !strncmp(e->d_name, pfx_old, strlen(pfx_old)) ? e->d_name + strlen(pfx_old)
										  : NULL;
		/* only PID after the prefix: ".x.new.new.7" is the staging of
		 * a run directory named "x.new", under its own lock */
		if (!pid || !*pid || pid[strspn(pid, "0123456789")] != '\0')
			continue;
		char *p = kp_path_join(t->parent, e->d_name);
		rm_tree(p);
		t->cleaned = kp_xrealloc(t->cleaned, (t->ncleaned + 1) * sizeof(*t->cleaned));
		t->cleaned[t->ncleaned++] = p;
	}
	closedir(d);
	free(pfx_new);
	free(pfx_old);
}

static kp_status stage_audit(kp_rundir *t, kp_error *err)
{
	int fd = KP_FAULT_IO(open(t->run_audit, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666));
	if (fd < 0)
		return kp_fail(err, KP_ERR_IO, "%s: cannot create: %s", t->run_audit, strerror(errno));
	close(fd);
	t->audit = kp_path_join(t->staging, "audit.jsonl");
	if (KP_FAULT_IO(link(t->run_audit, t->audit)) == 0)
		return KP_OK;
	if (!no_hard_links(errno))
		return kp_fail(err, KP_ERR_IO, "%s: cannot link it into the new run: %s", t->run_audit, strerror(errno));
	struct stat st;
	if (stat(t->run_audit, &st) != 0)
		return kp_fail(err, KP_ERR_IO, "%s: %s", t->run_audit, strerror(errno));
	t->audit_copied = true;
	t->audit_start = (int64_t)st.st_size;
	return kp_copy_file_atomic(t->run_audit, t->audit, err);
}

kp_status kp_rundir_stage(kp_rundir *t, kp_rundir_mode mode, const char *const *drop, kp_error *err)
{
	clean_stale(t);
	struct stat st, pst;
	bool exists = lstat(t->path, &st) == 0;
	if (!exists && errno != ENOENT)
		return kp_fail(err, KP_ERR_IO, "%s: %s", t->dir, strerror(errno));
	if (exists && !S_ISDIR(st.st_mode))
		return kp_fail(err, KP_ERR_USAGE, "%s: exists and is not a directory", t->dir);
	if (!exists && mode == KP_RUNDIR_STAGE)
		return kp_fail(err, KP_ERR_USAGE, "%s: run directory does not exist", t->dir);
	if (exists && stat(t->parent, &pst) == 0 && pst.st_dev != st.st_dev)
		return kp_fail(err, KP_ERR_USAGE,
			       "%s: is a mount point; kopilot replaces a run directory as a whole, which cannot be done "
			       "to a mount point: use a directory inside it (e.g. %s/run)",
			       t->dir, t->dir);
	kp_status s = exists ? check_run_dir(t->path, t->dir, err) : KP_OK;
	if (s)
		return s;
	if (!exists) {
		/* RUN holds only audit.jsonl until a run completes: the
		 * record of a failed first run needs a place to live. */
		if (KP_FAULT_IO(mkdir(t->path, 0777)) != 0 && errno != EEXIST)
			return kp_fail(err, KP_ERR_IO, "%s: cannot create directory: %s", t->dir, strerror(errno));
	}
	char *name = kp_xasprintf("new.%ld", (long)getpid());
	t->staging = sibling(t, name);
	free(name);
	if (KP_FAULT_IO(mkdir(t->staging, 0777)) != 0) {
		s = kp_fail(err, KP_ERR_IO, "%s: cannot create directory: %s", t->staging, strerror(errno));
		free(t->staging);
		t->staging = NULL;
		return s;
	}
	t->staged = true;
	set_active(t, t->staging);
	s = stage_audit(t, err);
	DIR *d = s ? NULL : KP_FAULT_IO_PTR(opendir(t->path));
	if (!s && !d)
		s = kp_fail(err, KP_ERR_IO, "%s: cannot read the directory: %s", t->dir, strerror(errno));
	struct dirent *e;
	while (d && !s && (e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "audit.jsonl") || is_temp_name(n))
			continue;
		if (mode == KP_RUNDIR_FRESH ? in_names(own_names, n) : in_names(drop, n))
			continue;
		char *f = kp_path_join(t->path, n), *to = kp_path_join(t->staging, n);
		s = carry(f, to, err);
		free(f);
		free(to);
	}
	if (d)
		closedir(d);
	return s;
}

const char *kp_rundir_audit_path(const kp_rundir *t)
{
	return t->audit_copied && t->staged && !t->committed ? t->audit : t->run_audit;
}

kp_status kp_rundir_commit(kp_rundir *t, kp_error *err)
{
	if (!t->staged)
		return kp_fail(err, KP_ERR_INTERNAL, "%s: nothing staged to commit", t->dir);
	kp_status s = fsync_dirs(t->staging, err);
	if (s)
		return s;
	/* Allocated before the switch: nothing after it may fail for lack
	 * of memory (the run would be in place with the command failing). */
	char *name = kp_xasprintf("old.%ld", (long)getpid());
	char *aside = sibling(t, name);
	free(name);
	const char *old = NULL; /* where the previous content is after the switch */
	if (KP_FAULT_IO(renameat2(AT_FDCWD, t->staging, AT_FDCWD, t->path, RENAME_EXCHANGE)) == 0) {
		old = t->staging;
	} else if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
		/* No RENAME_EXCHANGE on this filesystem: two renames; RUN is
		 * absent for the instant between them, never mixed. */
		old = aside;
		if (KP_FAULT_IO(rename(t->path, aside)) != 0) {
			s = kp_fail(err, KP_ERR_IO, "%s: cannot move the previous run aside: %s", t->dir, strerror(errno));
		} else if (KP_FAULT_IO(rename(t->staging, t->path)) != 0) {
			s = kp_fail(err, KP_ERR_IO, "%s: cannot move the new run into place: %s", t->dir, strerror(errno));
			if (rename(aside, t->path) != 0)
				kp_error_prefix(err, "the previous run is in %s", aside);
		}
	} else {
		s = kp_fail(err, KP_ERR_IO, "%s: cannot switch the new run in: %s", t->dir, strerror(errno));
	}
	if (s) {
		free(aside);
		return s;
	}
	/* The switch is durable once the parent is synced. If that fails,
	 * switch back: a run that cannot be made to stick is a failed run,
	 * and the previous one stays. */
	s = fsync_path(t->parent, err);
	if (s) {
		if (old == t->staging && renameat2(AT_FDCWD, t->staging, AT_FDCWD, t->path, RENAME_EXCHANGE) == 0) {
			free(aside);
			return s;
		}
		kp_error_prefix(err, "the new run is in place but may not survive a power cut");
	}
	t->committed = true;
	rm_tree(old);
	if (active_key == t)
		set_active(NULL, NULL);
	free(aside);
	free(t->staging);
	t->staging = NULL;
	return s;
}

void kp_rundir_abort(kp_rundir *t)
{
	if (!t->staged || t->committed)
		return;
	if (t->audit_copied && t->audit) {
		/* Give the command's own lines back to RUN's audit log. */
		int in = open(t->audit, O_RDONLY | O_CLOEXEC);
		int out = open(t->run_audit, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (in >= 0 && out >= 0 && lseek(in, (off_t)t->audit_start, SEEK_SET) >= 0) {
			char buf[65536];
			ssize_t n;
			while ((n = read(in, buf, sizeof(buf))) > 0)
				if (write(out, buf, (size_t)n) != n)
					break;
		}
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
	}
	if (t->staging)
		rm_tree(t->staging);
	if (active_key == t)
		set_active(NULL, NULL);
	t->staged = false;
}

void kp_rundir_release(kp_rundir *t)
{
	kp_rundir_abort(t);
	if (active_key == t)
		set_active(NULL, NULL);
	kp_lock_release(&t->lock);
	for (size_t i = 0; i < t->ncleaned; i++)
		free(t->cleaned[i]);
	free(t->cleaned);
	free(t->stale_holder);
	free(t->dir);
	free(t->path);
	free(t->parent);
	free(t->base);
	free(t->staging);
	free(t->audit);
	free(t->run_audit);
	memset(t, 0, sizeof(*t));
	t->lock.fd = -1;
}

bool kp_file_mode_parse(const char *s, mode_t *out)
{
	if (!s || !*s || strlen(s) > 4)
		return false;
	unsigned m = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '7')
			return false;
		m = m * 8 + (unsigned)(*p - '0');
	}
	if ((m & ~0666u) || (m & 0600u) != 0600u)
		return false;
	*out = (mode_t)m;
	return true;
}
