/*
 * sarif.h - findings.sarif: the findings that have a place in the
 * manifests, as SARIF 2.1.0 for code scanning (GitHub's upload-sarif, any
 * SARIF viewer).
 *
 * Each finding is looked for in a checkout of the manifests with the pull
 * requests' locator (gitops/locate.h): a container's resources key (or the
 * marked line of a Helm values file), else the object's metadata.name. A
 * finding with no such place (a node, an object no manifest declares, one
 * declared twice, one an operator writes) is left out and counted: code
 * scanning needs a location and none is invented.
 *
 * URIs are relative to the repository's root (the nearest directory up
 * from the checkout holding .git; the checkout itself without one), with
 * uriBaseId %SRCROOT%, so code scanning annotates the right file even when
 * the manifests are a subdirectory. One rule per finding category; a
 * result's partialFingerprints carry the finding id, stable across runs.
 * At most KP_SARIF_MAX_RESULTS results (GitHub rejects a run with more):
 * the rest are counted as left out, findings.json's order (the biggest
 * savings) deciding which stay.
 *
 * The same results also come as GitLab's code quality report (a JSON
 * array of {description, check_name, fingerprint, severity, location:
 * {path, lines: {begin}}}), which GitLab's merge request widget reads
 * instead of SARIF.
 *
 * Ownership: the writer holds a reference to the header it is given; end
 * and abort free it. *text from end belongs to the caller.
 */
#ifndef KP_SARIF_H
#define KP_SARIF_H

#include "pipeline/kp.h"

#define KP_SARIF_MAX_RESULTS 25000

typedef struct kp_sarif kp_sarif;

/* repo_dir: a checkout of the manifests (read, never changed); header:
 * the findings document (its "findings" are not read). KP_ERR_USAGE when
 * repo_dir is not a directory. */
kp_status kp_sarif_begin(const char *repo_dir, json_object *header, kp_sarif **out, kp_error *err);
/* One element of "findings", in the document's order. An error only when
 * a manifest the locator chose cannot be read (KP_ERR_IO): a partial file
 * would close code scanning's alerts for what it lacks. */
kp_status kp_sarif_add(kp_sarif *s, json_object *finding, kp_error *err);
/* The document (caller frees *text), how many results it holds and how
 * many findings were left out; frees the writer. codequality (may be
 * NULL): the same results as a GitLab code quality report (caller frees). */
kp_status kp_sarif_end(kp_sarif *s, char **text, char **codequality, size_t *results, size_t *left_out, kp_error *err);
void kp_sarif_abort(kp_sarif *s);

#endif
