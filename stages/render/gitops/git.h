/*
 * git.h - the manifests' repository through libgit2: a checkout kept in a
 * cache directory between runs (cloned the first time, fetched after), and
 * one branch per pull request, committed on top of the base branch and
 * pushed. The base branch is never written, locally or on the remote.
 *
 * A branch is kopilot's while every commit on it since the base is
 * kopilot's (author email kopilot@localhost): then it may be replaced (a
 * forced push of a new commit on the current base). A branch someone else
 * has committed to is left alone (KP_GIT_FOREIGN), never force-pushed.
 * Every push checks the status the server gives each reference: a rejected
 * update is an error, never a success.
 *
 * Credentials come from a callback, never from the URL or the cache's
 * config: a token as HTTP basic password (user x-access-token for GitHub,
 * oauth2 for GitLab), or an ssh key file. An ssh server's host key must
 * be in known_hosts (libgit2 alone would accept any).
 */
#ifndef KP_GIT_H
#define KP_GIT_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/kp.h"

typedef struct kp_git kp_git;

typedef struct {
	const char *url;       /* https://, ssh://, git://, or a path */
	const char *cache_dir; /* the checkout, reused between runs */
	const char *base;      /* the branch pull requests go into */
	const char *token;     /* for https, NULL: none */
	const char *token_user; /* "x-access-token" (GitHub), "oauth2" (GitLab) */
	const char *ssh_key;   /* private key file for ssh://, NULL: the agent */
	/* known_hosts the ssh server's key must be in; NULL: ~/.ssh/known_hosts
	 * and /etc/ssh/ssh_known_hosts (checked with ssh-keygen -F) */
	const char *ssh_known_hosts;
} kp_git_opts;

/* Clones or fetches; the cache's working tree is the base branch's tree
 * (for reading the manifests: kp_git_workdir). */
kp_status kp_git_open(const kp_git_opts *o, kp_git **out, kp_error *err);
const char *kp_git_workdir(const kp_git *g);
void kp_git_close(kp_git *g);

typedef enum {
	KP_GIT_CREATED,   /* a new branch */
	KP_GIT_UPDATED,   /* kopilot's branch, with other changes: replaced */
	KP_GIT_UNCHANGED, /* kopilot's branch already holds exactly these files: no commit, no push */
	KP_GIT_FOREIGN,   /* someone else committed to the branch: left alone */
} kp_git_result;

/* Commits the files (paths relative to the repository, their whole new
 * content) on the base as branch and pushes it. */
kp_status kp_git_publish(kp_git *g, const char *branch, const char *const *paths, const char *const *texts,
			 const size_t *lens, size_t n, const char *message, int64_t when, kp_git_result *res,
			 kp_error *err);

#endif
