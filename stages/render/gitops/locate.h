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
 *
 * kp_manifests_locate answers for one container's resources, the way a
 * reviewer would look for them:
 *   1. a marker comment "# kopilot: resources KIND NAMESPACE/NAME
 *      CONTAINER" on the line above a resources key (a Helm values file:
 *      charts' templates are never edited) is the place;
 *   2. the live object's GitOps origin narrows the search: an Argo CD
 *      Application or a Flux Kustomization declared in the repository
 *      gives the path it applies (and the namespace it puts objects in),
 *      so the same Deployment declared for two clusters is no ambiguity;
 *   3. in a kustomize layout, an overlay's strategic-merge patch that
 *      already sets the container's resources is edited (it is applied
 *      last); a JSON 6902 or inline patch on them is refused;
 *   4. a base that other overlays (or namespaces) render too is not
 *      edited: a new patch file goes into the overlay that renders the
 *      finding's namespace, with its patches: entry;
 *   5. else the one document that declares the object.
 */
#ifndef KP_LOCATE_H
#define KP_LOCATE_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline/kp.h"

typedef struct kp_manifests kp_manifests;

typedef enum {
	KP_LOC_EDIT,	  /* edit the container in document doc of file */
	KP_LOC_MARKED,	  /* edit the resources key on at_line of file (a marker comment) */
	KP_LOC_ADD_PATCH, /* write new_file (a patch of document doc of file) and add it to kust_file */
} kp_loc_mode;

typedef struct {
	kp_loc_mode mode;
	const char *file; /* relative to the scanned directory; owned by the index */
	int doc;	  /* document index in the file */
	size_t line;	  /* where the document starts, from 1 */
	const char *how;  /* how it was found, for the PR body (owned by the index or how_buf) */
	size_t at_line;	  /* KP_LOC_MARKED: the resources key's line, from 1 */
	char kust_file[512], new_file[512]; /* KP_LOC_ADD_PATCH */
	char how_buf[768];
} kp_manifest_loc;

/* What to look for: the object, its container (NULL: the object only),
 * and where the live object says it comes from (findings.json
 * resource.gitops; NULL: not said). */
typedef struct {
	const char *kind, *ns, *name, *container;
	const char *argocd_app, *flux_kustomization, *helm_release;
} kp_manifest_query;

kp_status kp_manifests_scan(const char *root, kp_manifests **out, kp_error *err);
void kp_manifests_free(kp_manifests *m);

/* KP_OK and true with *loc; false with *why (caller frees) when there is
 * no single document to edit. */
bool kp_manifests_find(const kp_manifests *m, const char *kind, const char *ns, const char *name, kp_manifest_loc *loc,
		       char **why);
bool kp_manifests_locate(const kp_manifests *m, const kp_manifest_query *q, kp_manifest_loc *loc, char **why);

/* What the scan read: YAML files, objects, templates left alone, files
 * that did not parse (listed in the PR body by the caller). */
typedef struct {
	size_t files, objects, templates, unreadable;
	const char *first_unreadable; /* "path: why" */
} kp_manifests_stats;
kp_manifests_stats kp_manifests_get_stats(const kp_manifests *m);

#endif
