/*
 * kube.h - reading a live cluster through its API server: discovery, then
 * every list the model needs, page by page (limit/continue), each page
 * parsed as it arrives into the model (snapshot.h's list reader) and
 * copied, redacted and without managedFields, into the run's
 * snapshot/objects/<resource>.json, a List as `kubectl get -A -o json`
 * prints it. Nothing but GET reaches the server and Secrets are never
 * read: the http client is read-only (pipeline/http.h).
 *
 * A list the server refuses (403), does not serve (404, a group/version
 * missing from discovery) or keeps failing on (5xx and 429 after retries,
 * a page that does not parse after retries, an expired continue token
 * after restarts) is recorded as not collected, with the reason, and has
 * no file: never an empty list. Failures that make every list fail (the
 * server unreachable, credentials refused, a certificate that does not
 * verify) stop the run with a message that says which and where.
 */
#ifndef KP_KUBE_H
#define KP_KUBE_H

#include "pipeline/audit.h"
#include "pipeline/http.h"
#include "pipeline/model.h"
#include "pipeline/progress.h"
#include "stages/collect/kubeconfig.h"

typedef struct kp_kube_opts {
	long page_size;        /* items per page (limit); 0: 500, kubectl's chunk size */
	int max_restarts;      /* a list restarted after 410 Gone at most this often; 0: 3 */
	int max_page_attempts; /* a page that does not parse is fetched again; 0: 3 */
	const kp_http_opts *http; /* overrides for limits (timeouts, retries, qps); may be NULL */
	/* each list's items as its pages arrive: stage "collect", item the
	 * resource ("pods"), total from the server's remainingItemCount (-1
	 * without), done == total at the list's end; may be NULL */
	const kp_progress *progress;
} kp_kube_opts;

typedef struct kp_kube kp_kube;

/* Connects (http client, credentials) and runs discovery (/version, /api,
 * /apis). KP_ERR_NETWORK / KP_ERR_USAGE with a message naming the server
 * and what to check. audit (may be NULL) gets one event per list. */
kp_status kp_kube_connect(const kp_kubeconfig *k, const kp_kube_opts *o, kp_audit *audit, kp_kube **out,
			  kp_error *err);
void kp_kube_free(kp_kube *kc);

/* Reads list r into c and objects_dir/<resource>.json (written atomically,
 * only when the whole list was read); a list not collected is recorded in
 * c->missing and KP_OK is returned. Thread-safe for different c and r. */
kp_status kp_kube_list(kp_kube *kc, kp_cluster *c, kp_resource r, const char *objects_dir, kp_error *err);

/* The server's version (gitVersion, "v1.30.2"), NULL when /version did not say. */
const char *kp_kube_server_version(const kp_kube *kc);
/* Whether discovery lists groupVersion ("metrics.k8s.io/v1beta1"). */
bool kp_kube_serves(const kp_kube *kc, const char *group_version);
/* The read-only http client (for metrics.k8s.io). */
kp_http_client *kp_kube_http(kp_kube *kc);
/* Requests and bytes so far. */
kp_http_stats kp_kube_stats(kp_kube *kc);

/* The message of a Kubernetes Status body ({"kind":"Status","message":...}),
 * else the start of the body, else the HTTP reason; caller frees. */
char *kp_kube_status_message(long status, const char *body);

#endif
