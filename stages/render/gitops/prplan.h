/*
 * prplan.h - from a run's findings to the pull requests that carry them:
 * one group per namespace (pr.group_by: namespace), per team (team: the
 * workload's pr.team_label label, "team-NAME"; without one, its
 * namespace) or one for the run (run); in each, the resize findings located in a directory of manifests
 * (locate.h) and edited there (yamledit.h), as a patch `git am` applies
 * (the diff made by libgit2) and a body for the pull request
 * (templates/pr-body.md.mustache). An HPA whose target moves with the
 * requests (related_changes) is edited with them, or neither is. What
 * could not be located, or edited
 * without damage, is listed in the body with the reason, never guessed;
 * the destructive cleanups of the group are an approval checklist there,
 * as files do not carry them. Nothing here writes to the repository.
 */
#ifndef KP_PRPLAN_H
#define KP_PRPLAN_H

#include <json-c/json.h>

#include "pipeline/kp.h"

typedef struct {
	char *group;  /* a namespace, or "run" */
	char *branch; /* kopilot/<group>: the pull request's identity */
	char *title;
	char *patch;  /* mbox for `git am`; NULL when no file changes */
	char *body;   /* Markdown */
	size_t changes, unlocated, destructive;
	json_object *not_located; /* [{id, kind, namespace, name, container, why}] (owned) */
	json_object *carried;	  /* [{id, kind, namespace, name, container, file, ...}]: the changes (owned) */
	double monthly_savings; /* of the changes carried */
	/* the edited files, relative to the repository, and their new text */
	char **files, **texts;
	size_t *lens, nfiles;
} kp_pr_group;

typedef struct {
	const char *repo_dir; /* the manifests, a checkout */
	const char *group_by; /* "namespace" (default), "team" (findings' resource.team) or "run" */
	const char *run_name; /* for the body: which run */
	const char *report;   /* a link to the report, or NULL */
	int64_t now;	      /* the commit's date */
} kp_pr_opts;

/* Groups with at least one resize finding or destructive cleanup, sorted
 * by name. */
kp_status kp_pr_plan(json_object *findings_doc, const kp_pr_opts *o, kp_pr_group **out, size_t *n, kp_error *err);
void kp_pr_groups_free(kp_pr_group *g, size_t n);

#endif
