/*
 * shard.h - which shard of a sharded run (`kopilot run --shard I/N`) owns a
 * namespace, and the flag's value.
 *
 * The owner of namespace NS among N shards is FNV-1a 64 of NS's bytes (as
 * the API server spells the name: lowercase ASCII) modulo N, numbered from
 * 0 like a Kubernetes Indexed Job's JOB_COMPLETION_INDEX. It depends on the
 * name and N only: the same on every machine, every run and every version,
 * so the shards of one night and the merge agree without talking.
 * Cluster-scoped objects (nodes, PersistentVolumes) have no namespace and
 * belong to shard 0.
 */
#ifndef KP_SHARD_H
#define KP_SHARD_H

#include "pipeline/kp.h"

/* The most shards a run can be cut into: more jobs than that would each
 * hold almost nothing, and the bound keeps "I/N" a small number. */
#define KP_SHARD_MAX 10000

/* The shard (0..count-1) owning namespace ns: kp_fnv1a64(ns, strlen(ns),
 * KP_FNV_SEED) % count (FNV-1a 64: offset basis 14695981039346656037,
 * prime 1099511628211); NULL (cluster-scoped): 0.
 * count 0 or 1: 0. */
unsigned kp_shard_of(const char *ns, unsigned count);

/* Parses --shard's value: "I/N" with 0 <= I < N <= KP_SHARD_MAX, decimal,
 * or "auto/N", I taken from job_index (the caller passes the environment's
 * JOB_COMPLETION_INDEX, NULL when unset). KP_ERR_USAGE with a message
 * saying what is wrong (without the flag's name, which the caller adds). */
kp_status kp_shard_parse(const char *text, const char *job_index, unsigned *index, unsigned *count, kp_error *err);

#endif
