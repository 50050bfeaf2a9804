/*
 * rundir.h - a run directory is all or nothing.
 *
 * A nightly CronJob, a CI job and a person re-running by hand all reuse one
 * run directory (RUN), and scripts read RUN/findings.json and the reports
 * while it is being rewritten. So no command writes into RUN itself. It
 * builds the new content in a staging directory beside it
 * (PARENT/.BASE.new.PID) and switches it in with one
 * renameat2(RENAME_EXCHANGE): at every instant RUN holds one complete
 * result, the previous until the switch and the new one after. A command
 * that fails, runs out of disk or is killed never replaces what was there;
 * what it staged is removed (at once, or by the next command for RUN when it
 * was killed).
 *
 *   - One writer at a time: PARENT/.BASE.lock is held with flock() for the
 *     whole command and names its holder (pid, command, start time, host).
 *     A second writer is refused at once with that name. The kernel drops
 *     the lock when its holder dies, so a lock left by a killed process is
 *     stale by construction and is simply taken over.
 *   - audit.jsonl survives the switch: RUN/audit.jsonl and the staging
 *     directory's audit.jsonl are hard links to one file, so every event
 *     appended while the command runs (and by a refused command, and by a
 *     killed one) is in RUN/audit.jsonl before and after the switch. On a
 *     filesystem without hard links it is copied and the failed command's
 *     own lines are appended back on abort.
 *   - RUN always exists once a command has started: on the first run it is
 *     created holding only audit.jsonl, so the record of a failed first run
 *     has a place to live. It holds no other file until a run completes.
 *   - Files kopilot does not own (a README someone put in RUN) are carried
 *     over; kopilot's own files are carried over only by a stage command
 *     that does not replace them (see kp_rundir_begin).
 *   - Files and directories are created with the configured mode
 *     (output.file_mode, default 0600; directories get x where r is set),
 *     through the process umask: the run directory is uploaded by CI and
 *     shared with reviewers, and its snapshot describes the cluster.
 *   - Durability: the files are fsync()ed as they are written (kp.h), the
 *     staging directories before the switch and the parent after it.
 *
 * Filesystems without RENAME_EXCHANGE (rare: some network filesystems) get
 * two renames instead, with RUN briefly absent between them, never mixed.
 * RUN cannot be a mount point (it could not be switched): use a directory
 * inside it.
 */
#ifndef KP_RUNDIR_H
#define KP_RUNDIR_H

#include <sys/types.h>

#include "pipeline/kp.h"

/* A lock file held with flock(): see above. */
typedef struct kp_lock {
	char *path;
	int fd;    /* -1: not held */
	bool busy; /* the last acquire was refused: another process holds it */
} kp_lock;

/* Takes the lock at path for `kopilot <command>`; what names the thing
 * locked in the refusal ("run directory /x/r"). Refused (another process
 * holds it): KP_ERR_IO with a message naming the holder. *stale_holder
 * (may be NULL) receives the description of a dead holder whose lock was
 * taken over, NULL if none; caller frees. */
kp_status kp_lock_acquire(kp_lock *l, const char *path, const char *what, const char *command, char **stale_holder,
			  kp_error *err);
void kp_lock_release(kp_lock *l);

typedef enum {
	KP_RUNDIR_FRESH, /* run, collect: a new run; kopilot's own files are not carried over */
	KP_RUNDIR_STAGE  /* analyze/recommend/render RUN: RUN must exist; its files are carried over except `drop` */
} kp_rundir_mode;

typedef struct kp_rundir {
	char *dir;       /* RUN as the user named it (for messages) */
	char *path;      /* RUN with its parent resolved: where the switch happens */
	char *parent, *base;
	char *staging;   /* where the command writes; NULL until begun */
	char *audit;     /* staging/audit.jsonl */
	kp_lock lock;
	bool audit_copied;   /* no hard links here: audit.jsonl was copied */
	int64_t audit_start; /* its size when copied: the command's own lines follow */
	char **cleaned;           /* stale staging directories removed at begin */
	size_t ncleaned;
	char *stale_holder;       /* a dead holder whose lock was taken over, NULL none */
	char *run_audit; /* RUN/audit.jsonl */
	bool staged, committed;
} kp_rundir;

/* Resolves RUN's parent (FRESH: creating it), and takes RUN's lock:
 * nothing else is written, so a command that fails on bad input before
 * kp_rundir_stage leaves no trace but its message. A symbolic link RUN is
 * followed: the switch happens at its target. */
kp_status kp_rundir_lock(kp_rundir *t, const char *dir, const char *command, kp_rundir_mode mode, kp_error *err);
/* RUN/audit.jsonl when it exists (the command's start can be recorded
 * there before any work), else NULL. Caller frees. */
char *kp_rundir_existing_audit(const kp_rundir *t);
/* Removes what killed commands left beside RUN, creates RUN if needed and
 * the staging directory, filled per mode (drop: NULL-terminated names of
 * RUN's entries not to carry over in KP_RUNDIR_STAGE). Files and
 * directories get their mode from the process umask, which the command
 * sets from output.file_mode. A directory that exists but is not a run directory
 * (neither empty nor holding audit.jsonl, run.json, findings.json,
 * analysis.json or snapshot/) is refused: switching it would delete
 * someone's files. */
kp_status kp_rundir_stage(kp_rundir *t, kp_rundir_mode mode, const char *const *drop, kp_error *err);
/* Where the command's audit events go once staged: RUN/audit.jsonl (one
 * file with the staging copy), or the staging copy where there are no hard
 * links. */
const char *kp_rundir_audit_path(const kp_rundir *t);
/* fsyncs the staging tree, switches it in, fsyncs the parent, and removes
 * the previous content. On failure RUN is untouched and the staging
 * directory is still there (kp_rundir_abort removes it). */
kp_status kp_rundir_commit(kp_rundir *t, kp_error *err);
/* Removes the staging directory; RUN is untouched. Where audit.jsonl was
 * copied, the command's own lines are appended to RUN/audit.jsonl first:
 * from then on events go to kp_rundir_audit_path() again. */
void kp_rundir_abort(kp_rundir *t);
/* Aborts unless committed, unlocks and frees. */
void kp_rundir_release(kp_rundir *t);

/* For main()'s out-of-memory backstop, which unwinds past the command's
 * cleanup: aborts the staging directory not yet switched in and releases
 * every lock this process holds. Allocates nothing. */
void kp_rundir_abandon(void);

/* "0600" -> 0600. False unless octal, owner read-write, no execute or
 * special bits (directories get x where r is set). */
bool kp_file_mode_parse(const char *s, mode_t *out);

#endif
