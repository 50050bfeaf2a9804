/*
 * locate.h - where in a repository of manifests an object is declared.
 *
 * kp_manifests_scan reads every *.yaml and *.yml file under a directory
 * (not .git, not hidden directories), the Kubernetes objects each declares
 * and the kustomizations: a kustomization's namespace applies to what it
 * renders, its bases included, and an overlay's namespace wins over its
 * base's, as kustomize applies them. Templates (a file with "{{" outside
 * comments: Helm) are counted, never read as manifests.
 *
 * kp_manifests_find answers for one object with the one document that
 * declares it, or says why there is none to edit: not found, declared in
 * several places, or declared in a base that several namespaces render
 * (editing it would change them all). It never guesses.
 */
#ifndef KP_LOCATE_H
#define KP_LOCATE_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline/kp.h"

typedef struct kp_manifests kp_manifests;

typedef struct {
	const char *file; /* relative to the scanned directory; owned by the index */
	int doc;	  /* document index in the file */
	size_t line;	  /* where the document starts, from 1 */
	const char *how;  /* how the namespace was matched, for the PR body */
} kp_manifest_loc;

kp_status kp_manifests_scan(const char *root, kp_manifests **out, kp_error *err);
void kp_manifests_free(kp_manifests *m);

/* KP_OK and true with *loc; false with *why (caller frees) when there is
 * no single document to edit. */
bool kp_manifests_find(const kp_manifests *m, const char *kind, const char *ns, const char *name, kp_manifest_loc *loc,
		       char **why);

/* What the scan read: YAML files, objects, templates left alone, files
 * that did not parse (listed in the PR body by the caller). */
typedef struct {
	size_t files, objects, templates, unreadable;
	const char *first_unreadable; /* "path: why" */
} kp_manifests_stats;
kp_manifests_stats kp_manifests_get_stats(const kp_manifests *m);

#endif
