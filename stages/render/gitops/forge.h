/*
 * forge.h - the pull request on the forge, through its REST API (libcurl,
 * pipeline/http.h: retries on 429 and 5xx honouring Retry-After).
 *
 * GitHub (api.github.com, or GitHub Enterprise's https://HOST/api/v3):
 * the pull request is found by its head branch (the branch is its
 * identity), created, or updated (title, body) and labelled. A create that
 * meets 422 "already exists" finds and updates instead. A closed pull
 * request that was not merged, for a branch kopilot did not have to change,
 * is respected: never reopened, never created again. GitLab is next.
 */
#ifndef KP_FORGE_H
#define KP_FORGE_H

#include "pipeline/kp.h"

typedef struct kp_forge kp_forge;

/* repo_url: the repository's clone URL (https://github.com/OWNER/REPO.git,
 * or any URL whose path ends in OWNER/REPO[.git]); api_url: the API base,
 * NULL for https://api.github.com. The token is a bearer token. */
kp_status kp_forge_github(const char *repo_url, const char *api_url, const char *token, kp_forge **out,
			  kp_error *err);
void kp_forge_free(kp_forge *f);

typedef enum {
	KP_PR_CREATED,
	KP_PR_UPDATED,	 /* an open pull request, its title and body set */
	KP_PR_RESPECTED, /* closed without merging, the branch unchanged: left closed */
} kp_pr_action;

/* The pull request for head (a branch of the repository) into base.
 * branch_changed: kp_git_publish made a new commit (a closed pull request
 * for an unchanged branch is respected). *url: its web address (caller
 * frees). */
kp_status kp_forge_upsert(kp_forge *f, const char *head, const char *base, const char *title, const char *body,
			  const char *label, bool branch_changed, kp_pr_action *action, char **url, kp_error *err);

#endif
