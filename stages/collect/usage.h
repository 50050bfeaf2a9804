/*
 * usage.h - the usage summaries of a live run (docs/contracts/USAGE.md),
 * from Prometheus (or Thanos, Mimir, Cortex) or, without one, from
 * metrics-server, written as the snapshot's usage.json so that the rest of
 * the pipeline reads a live run exactly as it reads a snapshot.
 *
 * Prometheus: every summary is computed by the server, over the whole
 * window, grouped by namespace, pod and container, from the standard
 * series: cAdvisor's container_cpu_usage_seconds_total,
 * container_memory_working_set_bytes, container_cpu_cfs_periods_total and
 * container_cpu_cfs_throttled_periods_total, and kube-state-metrics'
 * kube_pod_owner, kube_pod_container_status_restarts_total and
 * kube_pod_container_status_last_terminated_reason. The queries (listed in
 * usage.c) do not multiply with the containers: one set per group of
 * namespaces, the groups sized from a series inventory so that each query
 * loads at most prometheus.max_samples samples; a query the server still
 * refuses as too heavy (too many samples, a timeout) is split in two (by
 * namespace, then by pod) and sent again. Series that are not there (no
 * cAdvisor, no kube-state-metrics, labels renamed to pod_name) become
 * "missing" entries saying what to fix.
 *
 * metrics-server (metrics.k8s.io/v1beta1 PodMetrics): one sample per
 * container, the window a single instant; the rules give what comes of it
 * `confidence: low`.
 */
#ifndef KP_USAGE_H
#define KP_USAGE_H

#include "pipeline/audit.h"
#include "pipeline/config.h"
#include "pipeline/http.h"
#include "pipeline/progress.h"

typedef struct kp_prom_stats {
	int queries;        /* queries sent (inventory and probes included) */
	int split;          /* queries split because the server found them too heavy */
	size_t series;      /* cAdvisor memory series in the window */
	size_t containers;  /* containers in usage.json */
	double seconds;
} kp_prom_stats;

/* Reads the usage summaries of the window [end - window, end] from the
 * Prometheus of cfg (prometheus.*; url must be set) and writes usage.json
 * at path (atomically). KP_OK when it was written, with "missing" entries
 * for what could not be measured. Any other status: nothing was written,
 * err says why (the server unreachable, refused, a broken response);
 * KP_ERR_USAGE when the configuration cannot work (an unreadable token or
 * CA file). */
/* The HTTP client prometheus.* describes (auth, token file, headers, CA,
 * timeouts; a query too heavy for the server is not sent again). */
kp_status kp_prom_client_new(const kp_config *cfg, kp_http_client **out, kp_error *err);
/* progress (may be NULL) hears "Prometheus queries" done of total as they
 * finish (from the query threads). */
kp_status kp_prom_collect(const kp_config *cfg, int64_t end, kp_audit *audit, const kp_progress *progress,
			  const char *path, kp_prom_stats *st, kp_error *err);

/* usage.json from metrics-server's PodMetrics, read through the API
 * server's (read-only) client. KP_OK when written; KP_ERR_NOT_FOUND-like
 * failures are returned as statuses with err set. */
kp_status kp_metrics_server_collect(kp_http_client *kube, int64_t now, const char *path, size_t *containers,
				    kp_error *err);

#endif
