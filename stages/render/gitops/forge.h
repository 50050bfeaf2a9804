/*
 * forge.h - the pull request on the forge, through its REST API (libcurl,
 * pipeline/http.h: retries on 429 and 5xx honouring Retry-After).
 *
 * GitHub (api.github.com, or GitHub Enterprise's https://HOST/api/v3):
 * the pull request is found by its head branch (the branch is its
 * identity), created, or updated (title, body) and labelled. A create that
 * meets 422 "already exists" finds and updates instead. A closed pull
 * request that was not merged, for a branch kopilot did not have to change,
 * is respected: never reopened, never created again.
 *
 * GitLab (gitlab.com, or a self-managed instance's https://HOST/api/v4):
 * the same for merge requests (source_branch the identity, 409 "already
 * exists"), the project named by its full path (nested groups too).
 *
 * Both take the token as "Authorization: Bearer", which GitHub and GitLab
 * accept for personal, project and OAuth tokens; it is never put in a
 * message.
 */
#ifndef KP_FORGE_H
#define KP_FORGE_H

#include "pipeline/kp.h"

typedef struct kp_forge kp_forge;

typedef enum { KP_FORGE_GITHUB, KP_FORGE_GITLAB } kp_forge_kind;

/* repo_url: the repository's clone URL (https://github.com/OWNER/REPO.git,
 * git@gitlab.example:group/sub/repo.git); api_url: the API base, NULL for
 * the default: https://api.github.com for github.com, https://HOST/api/v3
 * for another GitHub host (Enterprise Server), https://HOST/api/v4 for
 * GitLab. */
kp_status kp_forge_new(kp_forge_kind kind, const char *repo_url, const char *api_url, const char *token,
		       kp_forge **out, kp_error *err);
/* kp_forge_new(KP_FORGE_GITHUB, ...) */
kp_status kp_forge_github(const char *repo_url, const char *api_url, const char *token, kp_forge **out,
			  kp_error *err);
void kp_forge_free(kp_forge *f);
/* the API base in use (for messages and tests) */
const char *kp_forge_api(const kp_forge *f);

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

/* A comment on the open pull request for head, once: a comment already
 * holding marker (an HTML comment naming what is said) means it was said.
 * For a branch someone else committed to: kopilot says what it would have
 * changed instead of force-pushing. No open pull request: nothing is said
 * (*commented false, *url NULL). */
kp_status kp_forge_comment(kp_forge *f, const char *head, const char *marker, const char *text, bool *commented,
			   char **url, kp_error *err);

#endif
