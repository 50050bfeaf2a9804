/*
 * collect.h - the collect stage: reads the cluster (a snapshot directory,
 * run->snapshot, or without one the live cluster through its API server,
 * kube.h) into the model and writes the run's snapshot/:
 * objects/<resource>.json, usage.json, cluster.json and model.bin (the
 * parsed model, so a later `kopilot analyze RUN` need not parse again).
 * The lists are copied with secrets redacted (redact.h); the redacted copies
 * load into the same model, so model.bin describes them too.
 *
 * A list that was not collected is recorded in the model (collected[],
 * missing) and makes the run degraded; it never becomes an empty list.
 * The loaded model stays in run->cluster for the analyze stage.
 */
#ifndef KP_COLLECT_H
#define KP_COLLECT_H

#include "pipeline/run.h"

/* Reads run->snapshot into run->cluster without writing anything, so an
 * entry point can refuse bad input before it creates a run directory.
 * KP_ERR_USAGE when no source is given; KP_ERR_INPUT names the file, item
 * and field of malformed input. */
kp_status kp_collect_load(kp_run *run, kp_error *err);

/* Whether a live cluster can be read: the kubeconfig (explicit, or found
 * as kubectl finds it, or the pod's service account) loads and names a
 * context with a server, checked without contacting it, so that an entry
 * point refuses before it creates anything. KP_ERR_USAGE "nothing to
 * read" when there is no kubeconfig and no pod. */
kp_status kp_collect_check_live(const char *kubeconfig, const char *context, kp_error *err);

/* The stage: loads (unless kp_collect_load already did) and writes
 * run->dir/snapshot/: cluster.json before it returns, the lists, usage.json
 * and model.bin on a second thread that runs on beside the next stages
 * (run.h, kp_run_background); the entry point's kp_run_join waits for them
 * and reports their failure. */
kp_status kp_collect_run(kp_run *run, kp_error *err);

#endif
