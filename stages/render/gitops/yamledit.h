/*
 * yamledit.h - edits the resources of one container in a Kubernetes
 * manifest file without damage: only the bytes of the values that change
 * are replaced (or, for a key the file lacks, lines added in the file's own
 * indentation and line endings); comments, key order, quoting, flow or
 * block style and the file's unit style ("500m" or "0.5", "512Mi" or
 * "1G") stay as they were. After each edit the new text is parsed again and
 * compared with the old, scalar by scalar: exactly the intended values
 * changed, or the file is left untouched and the error says why.
 *
 * Positions come from libyaml's marks, which count characters (a CRLF
 * counts two), not bytes: they are converted through the file's UTF-8.
 *
 * Refused (KP_ERR_INPUT, the file untouched): a document that is not
 * UTF-8 YAML; an alias or an anchor on the edited path (the value would be
 * shared with, or come from, another place); a merge key ("<<") in a
 * mapping on the edited path; a templated file ("{{" outside comments:
 * Helm, never edited); a key to add inside a flow-style mapping; a value
 * to remove that does not sit alone on its line.
 */
#ifndef KP_YAMLEDIT_H
#define KP_YAMLEDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/kp.h"

/* A Kubernetes object a file declares: a document with kind and
 * metadata.name. */
typedef struct {
	char api_version[128];
	char kind[64];
	char name[254];
	char ns[64]; /* metadata.namespace, "" when the document names none */
	int doc;     /* the document's index in the file, from 0 */
	size_t line; /* where it starts, from 1 */
	/* ",a,b," the containers (and init containers) that have a
	 * resources key: what a kustomize patch sets */
	char res_containers[512];
	/* a GitOps object's source: an Argo CD Application's spec.source.path
	 * (or its first spec.sources[].path) and spec.destination.namespace;
	 * a Flux Kustomization's spec.path and spec.targetNamespace. "" for
	 * anything else. */
	char src_path[256];
	char dest_ns[64];
} kp_yaml_object;

/* The objects of text (path names it in errors). A file with "{{" outside
 * comments is a template: *templated is set and no object is returned. */
kp_status kp_yaml_objects(const char *path, const char *text, size_t n, kp_yaml_object **out, size_t *nout,
			  bool *templated, kp_error *err);

/* A kustomization's patch: a file (path) or inline text, the target it
 * names (empty: the patch's own kind and name), and whether it is a JSON
 * 6902 patch (patchesJson6902, or operations rather than an object). */
typedef struct {
	char *path, *text;
	char target_kind[64], target_name[254];
	bool json6902;
} kp_yaml_kpatch;

/* A kustomization file: its namespace (NULL when none), its resources
 * (files and directories, as written) and its patches (patches,
 * patchesStrategicMerge, patchesJson6902), caller frees with
 * kp_yaml_kustomization_free. */
typedef struct {
	char *ns;
	char **resources;
	size_t nresources;
	kp_yaml_kpatch *patches;
	size_t npatches;
} kp_yaml_kustomization;
kp_status kp_yaml_kustomization_read(const char *path, const char *text, size_t n, kp_yaml_kustomization *k,
				     kp_error *err);
void kp_yaml_kustomization_free(kp_yaml_kustomization *k);

#define KP_YAML_KEEP (-1)   /* leave the value as it is */
#define KP_YAML_REMOVE (-2) /* remove the key (a limit removed) */

/* What to set on one container (containers, then initContainers, by name):
 * millicores and bytes, or KP_YAML_KEEP / KP_YAML_REMOVE. at_line > 0:
 * not a container of a pod template but the mapping whose "resources" key
 * is on that line (from 1): a Helm values file's, marked for kopilot. */
typedef struct {
	const char *container;
	int64_t cpu_request, cpu_limit;
	int64_t mem_request, mem_limit;
	size_t at_line;
} kp_yaml_resources;

/* Edits document doc of text: *out (malloc'd, *outn bytes) is the new
 * text, *changed the number of values set, added or removed (0: the file
 * already says so, *out equals text). KP_ERR_INPUT: left untouched, err
 * says why (naming path, line and field). */
kp_status kp_yaml_edit_resources(const char *path, const char *text, size_t n, int doc, const kp_yaml_resources *want,
				 char **out, size_t *outn, int *changed, kp_error *err);

/* A new file for a kustomize overlay: a strategic-merge patch that sets
 * the container's resources of document doc of base_text (its apiVersion,
 * kind, name, and the container's list: containers or initContainers),
 * only the keys want changes, after a comment (each line of comment gets
 * "# "). Limits removed are refused (the base would still set them). */
kp_status kp_yaml_resources_patch(const char *base_path, const char *base_text, size_t n, int doc,
				  const kp_yaml_resources *want, const char *comment, char **out, size_t *outn,
				  kp_error *err);

/* Appends "- path: FILE" to a kustomization's patches (the key added at
 * the end when it has none), in the file's indentation and line endings;
 * read back to check the entry is there and nothing else moved. */
kp_status kp_yaml_kustomization_add_patch(const char *path, const char *text, size_t n, const char *file, char **out,
					  size_t *outn, kp_error *err);

/* Sets the scalar at a JSON Pointer (RFC 6901, "/spec/metrics/0/resource/
 * target/averageUtilization") of document doc to value, in the old
 * scalar's quoting, when it holds expect now (compared as text, or as
 * numbers when both are numbers): a manifest that says something else than
 * the cluster did is left alone (KP_ERR_INPUT saying both). The same
 * refusals and read-back as kp_yaml_edit_resources. */
kp_status kp_yaml_edit_scalar(const char *path, const char *text, size_t n, int doc, const char *pointer,
			      const char *expect, const char *value, char **out, size_t *outn, kp_error *err);

/* Where a finding's object is in document doc of text, for a reviewer's
 * eye (SARIF's region): with container, the line of that container's
 * "resources" key (*what "resources"), else of its mapping's first key
 * ("container"); without, the line of metadata.name ("name"), else where
 * the document starts ("document"). *end_line: the last line of the
 * resources' value (its block), else *line. Lines from 1. Only reads:
 * anchors and templates are no reason to refuse. KP_ERR_INPUT when the
 * text does not parse, has no document doc, or no such container. */
kp_status kp_yaml_object_line(const char *path, const char *text, size_t n, int doc, const char *container,
			      size_t *line, size_t *end_line, const char **what, kp_error *err);

/* The quantity as the file would write it, in the style of the value it
 * replaces (old: NULL for a new key): CPU as millicores ("250m") or cores
 * ("0.25", "2") as old is; memory in old's family of units (binary Ki..Ei,
 * decimal k..E, or plain bytes) at the largest unit that divides it. */
void kp_yaml_format_cpu(int64_t millicores, const char *old, char *buf, size_t n);
void kp_yaml_format_mem(int64_t bytes, const char *old, char *buf, size_t n);

#endif
