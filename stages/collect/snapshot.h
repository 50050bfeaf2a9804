/*
 * snapshot.h - reading a snapshot directory into the cluster model.
 *
 * A snapshot is DIR/objects/<resource>.json (exactly what
 * `kubectl get <resource> -A -o json` prints) and DIR/usage.json
 * (kopilot.usage/v1, contracts/USAGE.md). A missing file means "not
 * collected" and is recorded in cluster->missing and cluster->collected[],
 * never treated as an empty list. A file that is present but malformed is an
 * error (KP_ERR_INPUT) naming the file, the item and the field.
 */
#ifndef KP_SNAPSHOT_H
#define KP_SNAPSHOT_H

#include "pipeline/model.h"

/* Fills c (already kp_cluster_init'ed). On error c may hold partial data and
 * must still be released by the caller. */
kp_status kp_snapshot_load(kp_cluster *c, const char *dir, kp_error *err);

/* Upper bounds beyond which a quantity is treated as a typo, not a size. */
#define KP_MAX_CPU_MILLICORES (1000000LL * 1000LL) /* one million cores */
#define KP_MAX_BYTES (1LL << 60)                   /* one EiB */
#define KP_MAX_NAME_LEN 253                        /* DNS-1123 subdomain */

#endif
