/*
 * test_snapcache.c - the model cache (stages/collect/snapcache.c): a cluster
 * read back from model.bin is the cluster the raw loader built, and a stale,
 * damaged or missing cache falls back to the raw files.
 *
 * "Is the cluster the raw loader built" is checked field by field, not by
 * re-serialising the cached model: writing both models and comparing the
 * bytes cannot see a field that the writer and the reader both leave out.
 * So this file describes every struct reachable from kp_cluster with a field
 * table (offset, size, kind), and a comparator driven by the tables walks the
 * raw model and the cached one side by side, reporting the first difference
 * with its path (pods[12].spec.containers[1].mem_limit_b). These keep the
 * tables honest:
 *
 *   tiling    each table, sorted by offset, covers its struct with no hole
 *             larger than alignment padding and ends at sizeof(struct): a
 *             field added to model.h but not here fails the test. A field
 *             small enough to hide in existing padding (a bool after a bool)
 *             moves no offset, so sc_field_count_guard() also counts the
 *             fields, at compile time.
 *   coverage  over the fixtures compared, every described field is set
 *             (non-zero, non-NULL, not KP_UNSET, true) in at least one object
 *             of the RAW model, so a field the cache dropped really differs.
 *             examples/demo-cluster does not set every field;
 *             tests/data/snapcache-all-fields does.
 *   sanity    element sizes, counts and link targets in the tables agree
 *             with model.h, so a table typo cannot pass silently.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stages/collect/snapshot.h"

#define SC_DEMO "examples/demo-cluster"
#define SC_ALL_FIELDS "tests/data/snapcache-all-fields"

/* Copies a snapshot's raw files (those present: the demo has no Rollouts)
 * into a fresh temporary directory, since the cache is written beside them. */
static void sc_copy_snapshot(const char *from_dir, char *dir)
{
	strcpy(dir, "/tmp/kp-snapcache-XXXXXX");
	cr_assert(mkdtemp(dir));
	kp_error err = {0};
	char *obj = kp_path_join(dir, "objects/");
	cr_assert_eq(kp_mkdir_p(obj, &err), KP_OK, "%s", err.msg);
	free(obj);
	for (int i = 0; i <= KP_RES_COUNT; i++) {
		char rel[128];
		if (i < KP_RES_COUNT)
			snprintf(rel, sizeof(rel), "objects/%s.json", kp_resource_name((kp_resource)i));
		else
			snprintf(rel, sizeof(rel), "usage.json");
		char *from = kp_path_join(from_dir, rel), *to = kp_path_join(dir, rel);
		if (kp_file_exists(from))
			cr_assert_eq(kp_copy_file_atomic(from, to, &err), KP_OK, "%s", err.msg);
		free(from);
		free(to);
	}
}

static void sc_copy_demo(char *dir) { sc_copy_snapshot(SC_DEMO, dir); }

static void sc_rm(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static char *sc_read_model(const char *dir, size_t *len)
{
	char *p = kp_path_join(dir, "model.bin"), *data = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_read_file(p, &data, len, &err), KP_OK, "%s", err.msg);
	free(p);
	return data;
}

static bool sc_load(const char *dir, kp_cluster *c)
{
	kp_error err = {0};
	bool used = true;
	kp_cluster_init(c);
	cr_assert_eq(kp_snapshot_load_cached(c, dir, &used, &err), KP_OK, "%s", err.msg);
	return used;
}

/* ------------------------------------------------------------------ */
/* The field tables                                                     */

typedef enum {
	SC_INT,    /* integer or enum: bytes compared; unset is 0 or KP_UNSET */
	SC_DOUBLE, /* bytes compared; unset is 0 or -1 ("< 0 unknown") */
	SC_BOOL,   /* bool, or a fixed array of bools: each element must be true somewhere */
	SC_STR,    /* const char *, NUL-terminated, may be NULL */
	SC_STRS,   /* const char ** + count (the SC_COUNT entry after it) */
	SC_ARRAY,  /* pointer to elem structs + count (the SC_COUNT entry after it) */
	SC_COUNT,  /* the count of the array before it: compared with the array */
	SC_LINK,   /* pointer to an object in one of kp_cluster's arrays: compared by index */
	SC_STRUCT, /* nested struct described by elem */
	SC_SKIP,   /* not model data (why says so): neither compared nor required */
} sc_kind;

/* One table per struct; elem and the tables refer to each other by these. */
typedef enum {
	SC_D_NONE,
	SC_D_KV,
	SC_D_META,
	SC_D_CONTAINER,
	SC_D_TOLERATION,
	SC_D_TAINT,
	SC_D_PODSPEC,
	SC_D_WORKLOAD,
	SC_D_POD,
	SC_D_PVC,
	SC_D_PV,
	SC_D_HPA,
	SC_D_VPA_POLICY,
	SC_D_VPA_REC,
	SC_D_VPA,
	SC_D_NAMESPACE,
	SC_D_NODE,
	SC_D_SERVICE,
	SC_D_ENDPOINTSLICE,
	SC_D_STORAGECLASS,
	SC_D_USAGE,
	SC_D_MISSING,
	SC_D_CLUSTER,
	SC_D_COUNT
} sc_desc_id;

typedef struct {
	const char *name;
	size_t off, size, align;
	sc_kind kind;
	sc_desc_id elem;  /* SC_ARRAY, SC_STRUCT, SC_LINK: the element's table */
	size_t esize;     /* SC_ARRAY, SC_STRS, SC_LINK: sizeof what the pointer points to */
	size_t count_off; /* SC_ARRAY, SC_STRS: offset of the count in the same struct */
	/* SC_LINK: where the target lives in kp_cluster */
	size_t link_items, link_len, link_esize;
	const char *link_name;
	const char *why; /* SC_SKIP */
} sc_field;

typedef struct {
	const char *name;
	size_t size, align;
	const sc_field *fields;
	size_t nfields; /* at most SC_MAX_FIELDS */
} sc_desc;

/* Bounds the comparator's per-field coverage bits and the tiling sort. */
#define SC_MAX_FIELDS 64

#define SC_MEMBER(T, m) (((T *)0)->m)
#define SC_AT(T, m, label)                                                                                    \
	.name = label, .off = offsetof(T, m), .size = sizeof(SC_MEMBER(T, m)), .align = __alignof__(SC_MEMBER(T, m))
#define SC_F(T, m, k) {SC_AT(T, m, #m), .kind = k}
#define SC_SUB(T, m, d) {SC_AT(T, m, #m), .kind = SC_STRUCT, .elem = d}
#define SC_SKIPF(T, m, reason) {SC_AT(T, m, #m), .kind = SC_SKIP, .why = reason}
/* an array and its count: both entries, so neither can be forgotten alone */
#define SC_ARR(T, m, n, d)                                                                                    \
	{SC_AT(T, m, #m), .kind = SC_ARRAY, .elem = d, .esize = sizeof(*SC_MEMBER(T, m)),                     \
	 .count_off = offsetof(T, n)},                                                                        \
		SC_F(T, n, SC_COUNT)
#define SC_STRV(T, m, n)                                                                                      \
	{SC_AT(T, m, #m), .kind = SC_STRS, .esize = sizeof(*SC_MEMBER(T, m)), .count_off = offsetof(T, n)},   \
		SC_F(T, n, SC_COUNT)
#define SC_LNK(T, m, arr, d)                                                                                  \
	{SC_AT(T, m, #m), .kind = SC_LINK, .elem = d, .esize = sizeof(*SC_MEMBER(T, m)),                      \
	 .link_items = offsetof(kp_cluster, arr.items), .link_len = offsetof(kp_cluster, arr.len),            \
	 .link_esize = sizeof(*SC_MEMBER(kp_cluster, arr.items)), .link_name = #arr}
/* kp_cluster's KP_ARRAY members: items + len are the array; cap is how
 * much was allocated, which legitimately differs (the raw loader grows by
 * doubling, the cache allocates exactly len) and nothing reads. */
#define SC_CAP_WHY "allocation capacity, not model data: the raw loader doubles, the cache allocates len"
#define SC_TOP(m, d)                                                                                          \
	{SC_AT(kp_cluster, m.items, #m), .kind = SC_ARRAY, .elem = d,                                         \
	 .esize = sizeof(*SC_MEMBER(kp_cluster, m.items)), .count_off = offsetof(kp_cluster, m.len)},          \
		SC_F(kp_cluster, m.len, SC_COUNT), SC_SKIPF(kp_cluster, m.cap, SC_CAP_WHY)
#define SC_TOPSTRS(m)                                                                                         \
	{SC_AT(kp_cluster, m.items, #m), .kind = SC_STRS, .esize = sizeof(*SC_MEMBER(kp_cluster, m.items)),   \
	 .count_off = offsetof(kp_cluster, m.len)},                                                           \
		SC_F(kp_cluster, m.len, SC_COUNT), SC_SKIPF(kp_cluster, m.cap, SC_CAP_WHY)

static const sc_field sc_kv_fields[] = {
	SC_F(kp_kv, key, SC_STR),
	SC_F(kp_kv, value, SC_STR),
};

static const sc_field sc_meta_fields[] = {
	SC_F(kp_meta, api_version, SC_STR),
	SC_F(kp_meta, kind, SC_STR),
	SC_F(kp_meta, namespace_, SC_STR),
	SC_F(kp_meta, name, SC_STR),
	SC_F(kp_meta, created, SC_INT),
	SC_F(kp_meta, ignored, SC_BOOL),
	SC_F(kp_meta, owner_controller, SC_BOOL),
	SC_ARR(kp_meta, labels, nlabels, SC_D_KV),
	SC_ARR(kp_meta, annotations, nannotations, SC_D_KV),
	SC_F(kp_meta, owner_kind, SC_STR),
	SC_F(kp_meta, owner_name, SC_STR),
};

static const sc_field sc_container_fields[] = {
	SC_F(kp_container, name, SC_STR),
	SC_F(kp_container, init, SC_BOOL),
	SC_F(kp_container, sidecar, SC_BOOL),
	SC_F(kp_container, cpu_request_m, SC_INT),
	SC_F(kp_container, cpu_limit_m, SC_INT),
	SC_F(kp_container, mem_request_b, SC_INT),
	SC_F(kp_container, mem_limit_b, SC_INT),
	SC_F(kp_container, restarts, SC_INT),
	SC_F(kp_container, last_reason, SC_STR),
	SC_F(kp_container, last_exit, SC_INT),
	SC_F(kp_container, last_finished, SC_INT),
	SC_F(kp_container, rt_heap_b, SC_INT),
	SC_F(kp_container, rt_heap_pct, SC_DOUBLE),
	SC_F(kp_container, rt_setting, SC_STR),
};

static const sc_field sc_toleration_fields[] = {
	SC_F(kp_toleration, key, SC_STR),
	SC_F(kp_toleration, op, SC_STR),
	SC_F(kp_toleration, value, SC_STR),
	SC_F(kp_toleration, effect, SC_STR),
};

static const sc_field sc_taint_fields[] = {
	SC_F(kp_taint, key, SC_STR),
	SC_F(kp_taint, value, SC_STR),
	SC_F(kp_taint, effect, SC_STR),
};

static const sc_field sc_podspec_fields[] = {
	SC_ARR(kp_podspec, containers, ncontainers, SC_D_CONTAINER),
	SC_STRV(kp_podspec, claims, nclaims),
	SC_STRV(kp_podspec, ephemeral_claims, nephemeral),
	SC_F(kp_podspec, node_name, SC_STR),
	SC_ARR(kp_podspec, node_selector, nnode_selector, SC_D_KV),
	SC_ARR(kp_podspec, tolerations, ntolerations, SC_D_TOLERATION),
	SC_F(kp_podspec, has_affinity, SC_BOOL),
};

static const sc_field sc_workload_fields[] = {
	SC_SUB(kp_workload, meta, SC_D_META),
	SC_F(kp_workload, wkind, SC_INT),
	SC_F(kp_workload, replicas, SC_INT),
	SC_SUB(kp_workload, spec, SC_D_PODSPEC),
	SC_STRV(kp_workload, claim_templates, nclaim_templates),
	SC_LNK(kp_workload, hpa, hpas, SC_D_HPA),
	SC_LNK(kp_workload, vpa, vpas, SC_D_VPA),
	SC_F(kp_workload, job_completion_time, SC_INT),
	SC_F(kp_workload, job_failed_time, SC_INT),
	SC_F(kp_workload, job_succeeded, SC_BOOL),
	SC_F(kp_workload, job_failed, SC_BOOL),
	SC_F(kp_workload, has_ttl_after_finished, SC_BOOL),
	SC_F(kp_workload, job_active, SC_INT),
	SC_F(kp_workload, suspended, SC_BOOL),
	SC_F(kp_workload, ready_replicas, SC_INT),
	SC_ARR(kp_workload, template_labels, ntemplate_labels, SC_D_KV),
};

static const sc_field sc_pod_fields[] = {
	SC_SUB(kp_pod, meta, SC_D_META),
	SC_F(kp_pod, phase, SC_STR),
	SC_F(kp_pod, start_time, SC_INT),
	SC_SUB(kp_pod, spec, SC_D_PODSPEC),
	SC_LNK(kp_pod, workload, workloads, SC_D_WORKLOAD),
};

static const sc_field sc_pvc_fields[] = {
	SC_SUB(kp_pvc, meta, SC_D_META),
	SC_F(kp_pvc, phase, SC_STR),
	SC_F(kp_pvc, volume_name, SC_STR),
	SC_F(kp_pvc, storage_class, SC_STR),
	SC_F(kp_pvc, storage_bytes, SC_INT),
	SC_F(kp_pvc, data_source_pvc, SC_STR),
};

static const sc_field sc_pv_fields[] = {
	SC_SUB(kp_pv, meta, SC_D_META),
	SC_F(kp_pv, phase, SC_STR),
	SC_F(kp_pv, reclaim_policy, SC_STR),
	SC_F(kp_pv, storage_class, SC_STR),
	SC_F(kp_pv, claim_namespace, SC_STR),
	SC_F(kp_pv, claim_name, SC_STR),
	SC_F(kp_pv, storage_bytes, SC_INT),
	SC_F(kp_pv, volume_handle, SC_STR),
};

static const sc_field sc_hpa_fields[] = {
	SC_SUB(kp_hpa, meta, SC_D_META),
	SC_F(kp_hpa, target_kind, SC_STR),
	SC_F(kp_hpa, target_name, SC_STR),
	SC_F(kp_hpa, min_replicas, SC_INT),
	SC_F(kp_hpa, max_replicas, SC_INT),
	SC_F(kp_hpa, current_replicas, SC_INT),
	SC_F(kp_hpa, scales_on_cpu, SC_BOOL),
	SC_F(kp_hpa, scales_on_memory, SC_BOOL),
	SC_F(kp_hpa, cpu_target_utilization, SC_INT),
	SC_F(kp_hpa, memory_target_utilization, SC_INT),
	SC_F(kp_hpa, cpu_metric_index, SC_INT),
	SC_F(kp_hpa, memory_metric_index, SC_INT),
};

static const sc_field sc_namespace_fields[] = {
	SC_SUB(kp_namespace, meta, SC_D_META),
};

static const sc_field sc_node_fields[] = {
	SC_SUB(kp_node, meta, SC_D_META),
	SC_F(kp_node, alloc_cpu_m, SC_INT),
	SC_F(kp_node, alloc_mem_b, SC_INT),
	SC_F(kp_node, cap_cpu_m, SC_INT),
	SC_F(kp_node, cap_mem_b, SC_INT),
	SC_ARR(kp_node, taints, ntaints, SC_D_TAINT),
	SC_F(kp_node, unschedulable, SC_BOOL),
	SC_F(kp_node, ready, SC_BOOL),
	SC_F(kp_node, instance_type, SC_STR),
	SC_F(kp_node, spot, SC_BOOL),
	SC_F(kp_node, provider_id, SC_STR),
};

static const sc_field sc_service_fields[] = {
	SC_SUB(kp_service, meta, SC_D_META),
	SC_F(kp_service, type, SC_STR),
	SC_F(kp_service, has_selector, SC_BOOL),
	SC_ARR(kp_service, selector, nselector, SC_D_KV),
	SC_F(kp_service, lb_ingress, SC_STR),
};

static const sc_field sc_vpa_policy_fields[] = {
	SC_F(kp_vpa_policy, container, SC_STR),
	SC_F(kp_vpa_policy, off, SC_BOOL),
	SC_F(kp_vpa_policy, controlled, SC_INT),
	SC_F(kp_vpa_policy, requests_only, SC_BOOL),
};

static const sc_field sc_vpa_rec_fields[] = {
	SC_F(kp_vpa_rec, container, SC_STR),
	SC_F(kp_vpa_rec, lower_cpu_m, SC_INT),
	SC_F(kp_vpa_rec, lower_mem_b, SC_INT),
	SC_F(kp_vpa_rec, target_cpu_m, SC_INT),
	SC_F(kp_vpa_rec, target_mem_b, SC_INT),
	SC_F(kp_vpa_rec, upper_cpu_m, SC_INT),
	SC_F(kp_vpa_rec, upper_mem_b, SC_INT),
};

static const sc_field sc_vpa_fields[] = {
	SC_SUB(kp_vpa, meta, SC_D_META),
	SC_F(kp_vpa, target_kind, SC_STR),
	SC_F(kp_vpa, target_name, SC_STR),
	SC_F(kp_vpa, update_mode, SC_STR),
	SC_F(kp_vpa, updating, SC_BOOL),
	SC_ARR(kp_vpa, policies, npolicies, SC_D_VPA_POLICY),
	SC_ARR(kp_vpa, recs, nrecs, SC_D_VPA_REC),
};

static const sc_field sc_endpointslice_fields[] = {
	SC_SUB(kp_endpointslice, meta, SC_D_META),
	SC_F(kp_endpointslice, service_name, SC_STR),
	SC_F(kp_endpointslice, endpoints, SC_INT),
	SC_F(kp_endpointslice, ready_endpoints, SC_INT),
};

static const sc_field sc_storageclass_fields[] = {
	SC_SUB(kp_storageclass, meta, SC_D_META),
	SC_F(kp_storageclass, provisioner, SC_STR),
	SC_F(kp_storageclass, is_default, SC_BOOL),
};

static const sc_field sc_usage_fields[] = {
	SC_F(kp_usage, namespace_, SC_STR),
	SC_F(kp_usage, pod, SC_STR),
	SC_F(kp_usage, container, SC_STR),
	SC_F(kp_usage, owner_kind, SC_STR),
	SC_F(kp_usage, owner_name, SC_STR),
	SC_F(kp_usage, first_seen, SC_INT),
	SC_F(kp_usage, last_seen, SC_INT),
	SC_F(kp_usage, samples, SC_INT),
	SC_F(kp_usage, cpu_p50, SC_DOUBLE),
	SC_F(kp_usage, cpu_p95, SC_DOUBLE),
	SC_F(kp_usage, cpu_p99, SC_DOUBLE),
	SC_F(kp_usage, cpu_max, SC_DOUBLE),
	SC_F(kp_usage, mem_p50, SC_DOUBLE),
	SC_F(kp_usage, mem_max, SC_DOUBLE),
	SC_F(kp_usage, oom_kills, SC_INT),
	SC_F(kp_usage, restarts, SC_INT),
	SC_F(kp_usage, cpu_throttled_ratio, SC_DOUBLE),
	SC_F(kp_usage, memory_limit_at_oom, SC_INT),
	SC_LNK(kp_usage, workload, workloads, SC_D_WORKLOAD),
};

static const sc_field sc_missing_fields[] = {
	SC_F(kp_missing, resource, SC_STR),
	SC_F(kp_missing, namespace_, SC_STR),
	SC_F(kp_missing, workload_kind, SC_STR),
	SC_F(kp_missing, workload_name, SC_STR),
	SC_F(kp_missing, reason, SC_STR),
	SC_F(kp_missing, summary, SC_STR),
};

static const sc_field sc_cluster_fields[] = {
	SC_SKIPF(kp_cluster, arena, "the memory the model lives in, not model data"),
	SC_F(kp_cluster, name, SC_STR),
	SC_SKIPF(kp_cluster, context, "set by analyze from snapshot/cluster.json, not part of the cached model"),
	SC_SKIPF(kp_cluster, server, "set by analyze from snapshot/cluster.json, not part of the cached model"),
	SC_F(kp_cluster, collected, SC_BOOL),
	SC_F(kp_cluster, usage_collected, SC_BOOL),
	SC_F(kp_cluster, window_start, SC_INT),
	SC_F(kp_cluster, window_end, SC_INT),
	SC_F(kp_cluster, step_seconds, SC_INT),
	SC_F(kp_cluster, usage_source, SC_STR),
	SC_TOP(missing, SC_D_MISSING),
	SC_TOPSTRS(inconsistencies),
	SC_F(kp_cluster, inconsistencies_total, SC_INT),
	SC_TOP(pods, SC_D_POD),
	SC_TOP(workloads, SC_D_WORKLOAD),
	SC_TOP(pvcs, SC_D_PVC),
	SC_TOP(pvs, SC_D_PV),
	SC_TOP(hpas, SC_D_HPA),
	SC_TOP(vpas, SC_D_VPA),
	SC_TOP(namespaces, SC_D_NAMESPACE),
	SC_TOP(nodes, SC_D_NODE),
	SC_TOP(services, SC_D_SERVICE),
	SC_TOP(endpointslices, SC_D_ENDPOINTSLICE),
	SC_TOP(storageclasses, SC_D_STORAGECLASS),
	SC_TOP(usage, SC_D_USAGE),
};

#define SC_DESC(T, f) {#T, sizeof(T), _Alignof(T), f, sizeof(f) / sizeof(f[0])}
static const sc_desc sc_descs[SC_D_COUNT] = {
	[SC_D_KV] = SC_DESC(kp_kv, sc_kv_fields),
	[SC_D_META] = SC_DESC(kp_meta, sc_meta_fields),
	[SC_D_CONTAINER] = SC_DESC(kp_container, sc_container_fields),
	[SC_D_TOLERATION] = SC_DESC(kp_toleration, sc_toleration_fields),
	[SC_D_TAINT] = SC_DESC(kp_taint, sc_taint_fields),
	[SC_D_PODSPEC] = SC_DESC(kp_podspec, sc_podspec_fields),
	[SC_D_WORKLOAD] = SC_DESC(kp_workload, sc_workload_fields),
	[SC_D_POD] = SC_DESC(kp_pod, sc_pod_fields),
	[SC_D_PVC] = SC_DESC(kp_pvc, sc_pvc_fields),
	[SC_D_PV] = SC_DESC(kp_pv, sc_pv_fields),
	[SC_D_HPA] = SC_DESC(kp_hpa, sc_hpa_fields),
	[SC_D_VPA_POLICY] = SC_DESC(kp_vpa_policy, sc_vpa_policy_fields),
	[SC_D_VPA_REC] = SC_DESC(kp_vpa_rec, sc_vpa_rec_fields),
	[SC_D_VPA] = SC_DESC(kp_vpa, sc_vpa_fields),
	[SC_D_NAMESPACE] = SC_DESC(kp_namespace, sc_namespace_fields),
	[SC_D_NODE] = SC_DESC(kp_node, sc_node_fields),
	[SC_D_SERVICE] = SC_DESC(kp_service, sc_service_fields),
	[SC_D_ENDPOINTSLICE] = SC_DESC(kp_endpointslice, sc_endpointslice_fields),
	[SC_D_STORAGECLASS] = SC_DESC(kp_storageclass, sc_storageclass_fields),
	[SC_D_USAGE] = SC_DESC(kp_usage, sc_usage_fields),
	[SC_D_MISSING] = SC_DESC(kp_missing, sc_missing_fields),
	[SC_D_CLUSTER] = SC_DESC(kp_cluster, sc_cluster_fields),
};

/* Fields no snapshot can set, so the coverage check cannot ask for them.
 * They are still compared. Keep this list short and every reason true: the
 * coverage check fails on an entry that names no field or a field the
 * fixtures do set. */
static const struct {
	const char *type, *field, *why;
} sc_exempt[] = {
	{"kp_cluster", "name",
	 "set by the analyze command from cluster.json or a flag after loading (pipeline/cmd_run.c), never by "
	 "kp_snapshot_load, so the cache never carries it: NULL in both models"},
};

/*
 * Compile-time twin of the tiling check. A new field that fits into padding
 * (a bool after a bool, before a pointer) moves no offset and changes no
 * sizeof, so the tiling check cannot see it. These positional initializers
 * name every field of every model struct in order: any new field leaves one
 * without an initializer, and -Wextra's -Wmissing-field-initializers (an
 * error under -Werror: "missing initializer for field 'spot' of 'kp_node'")
 * stops the build here, before the tiling check could run. That means a
 * field was added to model.h: add it to the snapshot cache writer and
 * reader (stages/collect/snapcache.c), to its table above, and a 0 here.
 */
static void sc_field_count_guard(void)
{
	/* nested model structs are copied from the variables above them, so a
	 * shifted list fails as "incompatible types", not as brace noise */
	kp_kv kv = {0, 0};
	kp_meta meta = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	kp_container ct = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	kp_toleration tol = {0, 0, 0, 0};
	kp_taint taint = {0, 0, 0};
	kp_podspec ps = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	kp_workload wl = {meta, 0, 0, ps, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	kp_pod pod = {meta, 0, 0, ps, 0};
	kp_pvc pvc = {meta, 0, 0, 0, 0, 0};
	kp_pv pv = {meta, 0, 0, 0, 0, 0, 0, 0};
	kp_hpa hpa = {meta, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	kp_vpa_policy vpol = {0, 0, 0, 0};
	kp_vpa_rec vrec = {0, 0, 0, 0, 0, 0, 0};
	kp_vpa vpa = {meta, 0, 0, 0, 0, 0, 0, 0, 0};
	kp_namespace ns = {meta};
	kp_node node = {meta, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	kp_service svc = {meta, 0, 0, 0, 0, 0};
	kp_endpointslice eps = {meta, 0, 0, 0};
	kp_storageclass sc = {meta, 0, 0};
	kp_usage u = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	kp_missing miss = {0, 0, 0, 0, 0, 0};
	/* the arena, collected[] and the KP_ARRAYs have no named type to copy */
	kp_cluster c = {{0}, 0, 0, 0, {0}, 0, 0, 0, 0, 0, {0}, {0}, 0, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}};
	(void)kv, (void)ct, (void)tol, (void)taint, (void)wl, (void)pod, (void)pvc, (void)pv, (void)hpa, (void)vpol, (void)vrec, (void)vpa, (void)ns;
	(void)node, (void)svc, (void)eps, (void)sc, (void)u, (void)miss, (void)c;
}

/* ------------------------------------------------------------------ */
/* Checking the tables against model.h                                  */

static size_t sc_round_up(size_t n, size_t align) { return (n + align - 1) / align * align; }

static void sc_note(kp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sc_note(kp_buf *b, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	kp_buf_puts(b, "\n  ");
	kp_buf_puts(b, line);
}

static const sc_field *sc_field_at(const sc_desc *d, size_t off, sc_kind kind)
{
	for (size_t i = 0; i < d->nfields; i++)
		if (d->fields[i].off == off && d->fields[i].kind == kind)
			return &d->fields[i];
	return NULL;
}

/* Every byte of the struct belongs to a described field or to the padding
 * the next field's alignment (or the struct's, at the end) requires. */
static void sc_check_tiling(const sc_desc *d, kp_buf *out)
{
	const sc_field *sorted[SC_MAX_FIELDS];
	cr_assert_leq(d->nfields, SC_MAX_FIELDS, "%s: table longer than SC_MAX_FIELDS", d->name);
	for (size_t i = 0; i < d->nfields; i++) {
		size_t j = i;
		for (; j > 0 && sorted[j - 1]->off > d->fields[i].off; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = &d->fields[i];
	}
	size_t end = 0;
	const sc_field *prev = NULL;
	for (size_t i = 0; i < d->nfields; i++) {
		const sc_field *f = sorted[i];
		if (f->off < end) {
			sc_note(out, "%s: %s and %s overlap: the table describes one field twice", d->name, prev->name,
				f->name);
		} else if (f->off > sc_round_up(end, f->align)) {
			sc_note(out,
				"%s: bytes %zu..%zu are not described: a field was added to model.h; add it to the "
				"snapshot cache writer, reader and this table",
				d->name, end, f->off);
		}
		if (f->off + f->size > end)
			end = f->off + f->size;
		prev = f;
	}
	if (sc_round_up(end, d->align) != d->size)
		sc_note(out,
			"%s: bytes %zu..%zu are not described: a field was added to model.h; add it to the snapshot "
			"cache writer, reader and this table",
			d->name, end, d->size);
}

/* What the tables say about sizes and counts matches model.h: a table that
 * names the wrong element table or count cannot pass silently. */
static void sc_check_consistency(const sc_desc *d, kp_buf *out)
{
	for (size_t i = 0; i < d->nfields; i++) {
		const sc_field *f = &d->fields[i];
		const sc_desc *e = f->elem ? &sc_descs[f->elem] : NULL;
		switch (f->kind) {
		case SC_INT:
			if (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8)
				sc_note(out, "%s.%s: an integer of %zu bytes", d->name, f->name, f->size);
			break;
		case SC_DOUBLE:
			if (f->size != sizeof(double))
				sc_note(out, "%s.%s: not a double", d->name, f->name);
			break;
		case SC_BOOL:
			if (f->size > 64)
				sc_note(out, "%s.%s: more than 64 bools", d->name, f->name);
			break;
		case SC_STR:
			if (f->size != sizeof(char *))
				sc_note(out, "%s.%s: not a pointer", d->name, f->name);
			break;
		case SC_STRS:
		case SC_ARRAY:
			if (f->size != sizeof(void *))
				sc_note(out, "%s.%s: not a pointer", d->name, f->name);
			if (f->kind == SC_STRS && f->esize != sizeof(char *))
				sc_note(out, "%s.%s: not an array of strings", d->name, f->name);
			if (f->kind == SC_ARRAY && (!e || !e->fields || e->size != f->esize))
				sc_note(out, "%s.%s: element table is not the element type's", d->name, f->name);
			if (!sc_field_at(d, f->count_off, SC_COUNT))
				sc_note(out, "%s.%s: its count is not described as SC_COUNT", d->name, f->name);
			break;
		case SC_COUNT: {
			size_t users = 0;
			for (size_t j = 0; j < d->nfields; j++)
				if ((d->fields[j].kind == SC_ARRAY || d->fields[j].kind == SC_STRS) &&
				    d->fields[j].count_off == f->off)
					users++;
			if (users != 1 || f->size != sizeof(size_t))
				sc_note(out, "%s.%s: a count must belong to exactly one array", d->name, f->name);
			break;
		}
		case SC_LINK:
			if (f->size != sizeof(void *) || !e || !e->fields || e->size != f->esize ||
			    f->link_esize != f->esize)
				sc_note(out, "%s.%s: link target does not match the pointer's type", d->name, f->name);
			break;
		case SC_STRUCT:
			if (!e || !e->fields || e->size != f->size)
				sc_note(out, "%s.%s: nested table is not that of the member's type", d->name, f->name);
			break;
		case SC_SKIP:
			if (!f->why || !*f->why)
				sc_note(out, "%s.%s: skipped without a reason", d->name, f->name);
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* The comparator                                                       */

typedef struct {
	const kp_cluster *raw, *cached;
	char path[512];
	char diff[1024]; /* the first difference */
	/* per table and field: bit i = element i was set in a raw model */
	uint64_t seen[SC_D_COUNT][SC_MAX_FIELDS];
} sc_cmp;

static size_t sc_path(sc_cmp *x, size_t plen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static size_t sc_path(sc_cmp *x, size_t plen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(x->path + plen, sizeof(x->path) - plen, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < sizeof(x->path) - plen, "path too long: %s", x->path);
	return plen + (size_t)n;
}

static bool sc_differs(sc_cmp *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool sc_differs(sc_cmp *x, const char *fmt, ...)
{
	char detail[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(x->diff, sizeof(x->diff),
		 "%s: %s (model.bin loses or garbles this field: check w_cluster/r_cluster in "
		 "stages/collect/snapcache.c)",
		 x->path, detail);
	return false;
}

static const void *sc_ptr(const char *at)
{
	const void *p;
	memcpy(&p, at, sizeof(p));
	return p;
}

static size_t sc_size(const char *at)
{
	size_t n;
	memcpy(&n, at, sizeof(n));
	return n;
}

static int64_t sc_int(const char *at, size_t size)
{
	switch (size) {
	case 1: return *(const int8_t *)at;
	case 2: {
		int16_t v;
		memcpy(&v, at, 2);
		return v;
	}
	case 4: {
		int32_t v;
		memcpy(&v, at, 4);
		return v;
	}
	default: {
		int64_t v;
		memcpy(&v, at, 8);
		return v;
	}
	}
}

static double sc_double(const char *at)
{
	double v;
	memcpy(&v, at, sizeof(v));
	return v;
}

/* Index of a linked object in its cluster array, -1 for NULL, -2 for a
 * pointer that is not into that array (e.g. into the other model). */
static int64_t sc_link_index(const kp_cluster *c, const sc_field *f, const void *p)
{
	if (!p)
		return -1;
	/* as integers: p may point into the other model, which is no array
	 * of this one to compare pointers with */
	uintptr_t base = (uintptr_t)sc_ptr((const char *)c + f->link_items), q = (uintptr_t)p;
	size_t len = sc_size((const char *)c + f->link_len);
	if (!base || q < base || q - base >= len * f->link_esize || (q - base) % f->link_esize)
		return -2;
	return (int64_t)((q - base) / f->link_esize);
}

static void sc_link_name(char *out, size_t size, const sc_field *f, int64_t index)
{
	if (index == -1)
		snprintf(out, size, "NULL");
	else if (index == -2)
		snprintf(out, size, "outside %s", f->link_name);
	else
		snprintf(out, size, "%s[%lld]", f->link_name, (long long)index);
}

static bool sc_walk(sc_cmp *x, sc_desc_id id, const char *a, const char *b, size_t plen);

/* A non-empty array also vouches for its count field. */
static void sc_seen_array(sc_cmp *x, const sc_desc *d, size_t fi)
{
	const sc_field *count = sc_field_at(d, d->fields[fi].count_off, SC_COUNT);
	cr_assert(count, "%s.%s: its count is not in the table", d->name, d->fields[fi].name);
	x->seen[d - sc_descs][fi] |= 1;
	x->seen[d - sc_descs][count - d->fields] |= 1;
}

/* Pointer and count of an array: same NULL-ness (the raw loader tells an
 * allocated empty array from none, and the cache keeps that), same length. */
static bool sc_array_head(sc_cmp *x, const sc_field *f, const char *a, const char *b, const void **pa,
			  const void **pb, size_t *n)
{
	*pa = sc_ptr(a);
	*pb = sc_ptr(b);
	size_t na = sc_size(a - f->off + f->count_off), nb = sc_size(b - f->off + f->count_off);
	if ((*pa == NULL) != (*pb == NULL))
		return sc_differs(x, "raw %s, cached %s", *pa ? "has an array" : "has NULL",
				  *pb ? "has an array" : "has NULL");
	if (na != nb)
		return sc_differs(x, "raw has %zu elements, cached %zu", na, nb);
	*n = na;
	return true;
}

static bool sc_walk_field(sc_cmp *x, const sc_desc *d, size_t fi, const char *sa, const char *sb, size_t plen)
{
	const sc_field *f = &d->fields[fi];
	sc_desc_id id = (sc_desc_id)(d - sc_descs);
	uint64_t *seen = &x->seen[id][fi];
	const char *a = sa + f->off, *b = sb + f->off;
	plen = sc_path(x, plen, plen ? ".%s" : "%s", f->name);
	switch (f->kind) {
	case SC_SKIP:
	case SC_COUNT: /* with its array */
		return true;
	case SC_INT: {
		int64_t va = sc_int(a, f->size), vb = sc_int(b, f->size);
		if (va != 0 && va != KP_UNSET)
			*seen |= 1;
		if (memcmp(a, b, f->size) != 0)
			return sc_differs(x, "raw %lld, cached %lld", (long long)va, (long long)vb);
		return true;
	}
	case SC_DOUBLE: {
		double va = sc_double(a), vb = sc_double(b);
		if (va != 0 && va != -1)
			*seen |= 1;
		if (memcmp(a, b, f->size) != 0)
			return sc_differs(x, "raw %.17g, cached %.17g", va, vb);
		return true;
	}
	case SC_BOOL:
		for (size_t i = 0; i < f->size; i++) {
			if (a[i])
				*seen |= (uint64_t)1 << i;
			if (a[i] != b[i]) {
				if (f->size > 1)
					sc_path(x, plen, "[%zu]", i);
				return sc_differs(x, "raw %d, cached %d", a[i], b[i]);
			}
		}
		return true;
	case SC_STR: {
		const char *va = sc_ptr(a), *vb = sc_ptr(b);
		if (va)
			*seen |= 1;
		if ((va == NULL) != (vb == NULL) || (va && strcmp(va, vb) != 0))
			return sc_differs(x, "raw %s%s%s, cached %s%s%s", va ? "\"" : "", va ? va : "NULL",
					  va ? "\"" : "", vb ? "\"" : "", vb ? vb : "NULL", vb ? "\"" : "");
		return true;
	}
	case SC_STRS: {
		const void *pa, *pb;
		size_t n = 0;
		if (!sc_array_head(x, f, a, b, &pa, &pb, &n))
			return false;
		if (n)
			sc_seen_array(x, d, fi);
		const char *const *va = pa, *const *vb = pb;
		for (size_t i = 0; i < n; i++) {
			if ((va[i] == NULL) != (vb[i] == NULL) || (va[i] && strcmp(va[i], vb[i]) != 0)) {
				sc_path(x, plen, "[%zu]", i);
				return sc_differs(x, "raw \"%s\", cached \"%s\"", va[i] ? va[i] : "(NULL)",
						  vb[i] ? vb[i] : "(NULL)");
			}
		}
		return true;
	}
	case SC_ARRAY: {
		const void *pa, *pb;
		size_t n = 0;
		if (!sc_array_head(x, f, a, b, &pa, &pb, &n))
			return false;
		if (n)
			sc_seen_array(x, d, fi);
		for (size_t i = 0; i < n; i++)
			if (!sc_walk(x, f->elem, (const char *)pa + i * f->esize, (const char *)pb + i * f->esize,
				     sc_path(x, plen, "[%zu]", i)))
				return false;
		return true;
	}
	case SC_LINK: {
		const void *pa = sc_ptr(a), *pb = sc_ptr(b);
		int64_t ia = sc_link_index(x->raw, f, pa), ib = sc_link_index(x->cached, f, pb);
		if (pa)
			*seen |= 1;
		if (ib == -2)
			return sc_differs(x, "cached points outside the cached model's %s", f->link_name);
		if (ia != ib) {
			char ta[96], tb[96];
			sc_link_name(ta, sizeof(ta), f, ia);
			sc_link_name(tb, sizeof(tb), f, ib);
			return sc_differs(x, "raw -> %s, cached -> %s", ta, tb);
		}
		return true;
	}
	case SC_STRUCT:
		*seen |= 1;
		return sc_walk(x, f->elem, a, b, plen);
	}
	return true;
}

static bool sc_walk(sc_cmp *x, sc_desc_id id, const char *a, const char *b, size_t plen)
{
	const sc_desc *d = &sc_descs[id];
	for (size_t i = 0; i < d->nfields; i++)
		if (!sc_walk_field(x, d, i, a, b, plen))
			return false;
	return true;
}

static bool sc_exempted(const char *type, const char *field)
{
	for (size_t i = 0; i < sizeof(sc_exempt) / sizeof(sc_exempt[0]); i++)
		if (strcmp(sc_exempt[i].type, type) == 0 && strcmp(sc_exempt[i].field, field) == 0)
			return true;
	return false;
}

/* Every compared field was set somewhere in the raw models walked: else a
 * cache that dropped it would compare equal (0 against 0). */
static void sc_check_coverage(const sc_cmp *x, kp_buf *out)
{
	for (int id = SC_D_KV; id < SC_D_COUNT; id++) {
		const sc_desc *d = &sc_descs[id];
		for (size_t i = 0; i < d->nfields; i++) {
			const sc_field *f = &d->fields[i];
			if (f->kind == SC_SKIP)
				continue;
			uint64_t want = 1;
			if (f->kind == SC_BOOL)
				want = f->size == 64 ? ~(uint64_t)0 : ((uint64_t)1 << f->size) - 1;
			bool set = (x->seen[id][i] & want) == want;
			if (sc_exempted(d->name, f->name)) {
				if (set)
					sc_note(out, "%s.%s is exempt from coverage but the fixtures set it: drop the "
						"exemption", d->name, f->name);
				continue;
			}
			if (!set)
				sc_note(out,
					"%s.%s is 0, NULL, false or KP_UNSET in every object of the fixtures%s: a "
					"cache that dropped it would go unnoticed; set it in " SC_ALL_FIELDS,
					d->name, f->name, f->kind == SC_BOOL && f->size > 1 ? " (some element)" : "");
		}
	}
	for (size_t e = 0; e < sizeof(sc_exempt) / sizeof(sc_exempt[0]); e++) {
		bool found = false;
		for (int id = SC_D_KV; id < SC_D_COUNT && !found; id++)
			for (size_t i = 0; i < sc_descs[id].nfields && !found; i++)
				found = strcmp(sc_descs[id].name, sc_exempt[e].type) == 0 &&
					strcmp(sc_descs[id].fields[i].name, sc_exempt[e].field) == 0;
		if (!found)
			sc_note(out, "coverage exemption %s.%s names no described field", sc_exempt[e].type,
				sc_exempt[e].field);
	}
}

/* Loads src raw, writes model.bin, loads it back and compares the two
 * models; x->seen accumulates what the raw model sets. */
static void sc_round_trip(sc_cmp *x, const char *src)
{
	char dir[64];
	sc_copy_snapshot(src, dir);
	kp_error err = {0};
	kp_cluster raw, cached;
	cr_assert_not(sc_load(dir, &raw), "%s: no model.bin yet: raw files", src);
	cr_assert_gt(raw.pods.len, 0, "%s: the fixture loaded no pods", src);
	cr_assert_eq(kp_snapshot_cache_write(&raw, dir, &err), KP_OK, "%s", err.msg);
	cr_assert(sc_load(dir, &cached), "%s: a fresh model.bin is used", src);
	x->raw = &raw;
	x->cached = &cached;
	x->path[0] = '\0';
	bool same = sc_walk(x, SC_D_CLUSTER, (const char *)&raw, (const char *)&cached, 0);
	cr_assert(same, "%s: the cached model differs from the raw one at %s", src, x->diff);
	kp_cluster_release(&raw);
	kp_cluster_release(&cached);
	sc_rm(dir);
}

Test(snapcache, field_tables_describe_the_whole_model)
{
	sc_field_count_guard();
	kp_buf problems;
	kp_buf_init(&problems);
	for (int id = SC_D_KV; id < SC_D_COUNT; id++) {
		cr_assert(sc_descs[id].fields, "descriptor %d has no table", id);
		sc_check_tiling(&sc_descs[id], &problems);
		sc_check_consistency(&sc_descs[id], &problems);
	}
	cr_assert_eq(problems.len, 0, "the snapcache field tables do not match pipeline/model.h:%s",
		     kp_buf_cstr(&problems));
	kp_buf_release(&problems);
}

Test(snapcache, cached_model_equals_raw_model_field_by_field)
{
	for (int id = SC_D_KV; id < SC_D_COUNT; id++)
		cr_assert_leq(sc_descs[id].nfields, SC_MAX_FIELDS, "%s: table longer than SC_MAX_FIELDS",
			      sc_descs[id].name);
	sc_cmp *x = kp_xcalloc(1, sizeof(*x));
	sc_round_trip(x, SC_DEMO);
	sc_round_trip(x, SC_ALL_FIELDS);
	kp_buf problems;
	kp_buf_init(&problems);
	sc_check_coverage(x, &problems);
	cr_assert_eq(problems.len, 0, "the fixtures leave fields unset, so the comparison cannot vouch for them:%s",
		     kp_buf_cstr(&problems));
	kp_buf_release(&problems);
	free(x);
}

Test(snapcache, stale_damaged_or_missing_cache_reads_raw_files)
{
	char dir[64];
	sc_copy_demo(dir);
	kp_error err = {0};
	kp_cluster c;
	sc_load(dir, &c);
	size_t npods = c.pods.len;
	cr_assert_eq(kp_snapshot_cache_write(&c, dir, &err), KP_OK, "%s", err.msg);
	kp_cluster_release(&c);

	/* a raw file whose mtime is not the one collect recorded: stale */
	char *pods = kp_path_join(dir, "objects/pods.json");
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = time(NULL) - 1000}};
	cr_assert_eq(utimensat(AT_FDCWD, pods, ts, 0), 0);
	cr_assert_not(sc_load(dir, &c), "a raw file changed since model.bin: raw files");
	cr_assert_eq(c.pods.len, npods);
	kp_cluster_release(&c);
	free(pods);

	/* rewritten: valid again */
	sc_load(dir, &c);
	cr_assert_eq(kp_snapshot_cache_write(&c, dir, &err), KP_OK, "%s", err.msg);
	kp_cluster_release(&c);
	cr_assert(sc_load(dir, &c));
	kp_cluster_release(&c);

	/* one flipped byte in the records: checksum */
	size_t len;
	char *data = sc_read_model(dir, &len);
	char *mpath = kp_path_join(dir, "model.bin");
	data[len - 20] ^= 0x40;
	FILE *f = fopen(mpath, "r+b");
	cr_assert(f);
	cr_assert_eq(fseek(f, (long)(len - 20), SEEK_SET), 0);
	cr_assert_eq(fwrite(&data[len - 20], 1, 1, f), 1);
	fclose(f);
	/* writing it changed model.bin's mtime, not the raw files' */
	cr_assert_not(sc_load(dir, &c), "damaged model.bin: raw files");
	cr_assert_eq(c.pods.len, npods);
	kp_cluster_release(&c);

	/* truncated */
	cr_assert_eq(truncate(mpath, (off_t)(len / 2)), 0);
	cr_assert_not(sc_load(dir, &c), "truncated model.bin: raw files");
	cr_assert_eq(c.pods.len, npods);
	kp_cluster_release(&c);

	/* absent (a hand-made snapshot) */
	cr_assert_eq(unlink(mpath), 0);
	cr_assert_not(sc_load(dir, &c));
	cr_assert_eq(c.pods.len, npods);
	kp_cluster_release(&c);
	free(mpath);
	free(data);
	sc_rm(dir);
}

/* The lists are read through keep-filters (stages/collect/snapshot.c): of
 * each item only the members the model reads become a tree. A filter that
 * dropped a member some parse_* reads would leave that field unset: load
 * each fixture with the filters and without (every member kept, as json-c
 * would parse it) and compare the models field by field. The all-fields
 * fixture sets every field (the coverage check above), so nothing read can
 * be dropped unnoticed. */
static void sc_filtered_vs_whole(sc_cmp *x, const char *src)
{
	kp_error err = {0};
	kp_cluster whole, filtered;
	kp_cluster_init(&whole);
	kp_cluster_init(&filtered);
	kp_snapshot_set_filtering(false);
	kp_status s = kp_snapshot_load(&whole, src, &err);
	kp_snapshot_set_filtering(true);
	cr_assert_eq(s, KP_OK, "%s: %s", src, err.msg);
	cr_assert_eq(kp_snapshot_load(&filtered, src, &err), KP_OK, "%s: %s", src, err.msg);
	x->raw = &whole;
	x->cached = &filtered;
	x->path[0] = '\0';
	bool same = sc_walk(x, SC_D_CLUSTER, (const char *)&whole, (const char *)&filtered, 0);
	cr_assert(same, "%s: the model read through the keep-filters differs from the whole one at %s", src, x->diff);
	kp_cluster_release(&whole);
	kp_cluster_release(&filtered);
}

Test(snapcache, filtered_items_give_the_whole_model)
{
	sc_cmp *x = kp_xcalloc(1, sizeof(*x));
	sc_filtered_vs_whole(x, SC_DEMO);
	sc_filtered_vs_whole(x, SC_ALL_FIELDS);
	free(x);
}
