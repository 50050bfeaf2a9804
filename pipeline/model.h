/*
 * model.h - the spine of kopilot: the cluster objects the analyzers need,
 * held compactly, and the finding that flows analyze -> recommend -> render.
 *
 * Ownership: a kp_cluster owns everything reachable from it; every string
 * and array inside lives in cluster->arena and is freed by
 * kp_cluster_release(). Findings are owned by their kp_findings list and
 * freed by kp_findings_release(); their strings are heap strings owned by the
 * finding.
 *
 * Units: CPU in millicores, memory and storage in bytes, time in seconds
 * since the epoch (UTC), money in the currency of the prices, per month.
 * A quantity that is not set in the object is KP_UNSET (-1), never 0, so
 * "no request" and "request of zero" stay different.
 */
#ifndef KP_MODEL_H
#define KP_MODEL_H

#include "pipeline/kp.h"

#define KP_UNSET (-1)

/* a + b for non-negative sizes, stopping at INT64_MAX: each quantity is
 * bounded when read (1Ei, a million cores), a sum of many is not. */
static inline int64_t kp_add_sat(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* The resources a snapshot holds, one file objects/<name>.json each. */
typedef enum {
	KP_RES_PODS,
	KP_RES_DEPLOYMENTS,
	KP_RES_REPLICASETS,
	KP_RES_STATEFULSETS,
	KP_RES_DAEMONSETS,
	KP_RES_JOBS,
	KP_RES_CRONJOBS,
	KP_RES_PVCS,
	KP_RES_PVS,
	KP_RES_SERVICES,
	KP_RES_ENDPOINTSLICES,
	KP_RES_NODES,
	KP_RES_HPAS,
	KP_RES_NAMESPACES,
	KP_RES_STORAGECLASSES,
	KP_RES_ROLLOUTS, /* optional: only where the Argo Rollouts CRD is installed */
	KP_RES_VPAS,     /* optional: only where the VerticalPodAutoscaler CRD is installed */
	KP_RES_COUNT
} kp_resource;

/* File stem ("persistentvolumeclaims"), List item kind ("PersistentVolumeClaim"). */
const char *kp_resource_name(kp_resource r);
const char *kp_resource_kind(kp_resource r);

/* The node autoscalers' own annotations (underutilized_node.c): a node
 * whose operator disabled its scale-down, a pod that must not be evicted. */
#define KP_ANN_CA_SCALE_DOWN_DISABLED "cluster-autoscaler.kubernetes.io/scale-down-disabled"
#define KP_ANN_CA_SAFE_TO_EVICT "cluster-autoscaler.kubernetes.io/safe-to-evict"
#define KP_ANN_KARPENTER_DO_NOT_DISRUPT "karpenter.sh/do-not-disrupt"
/* Karpenter before v0.32 (v1beta1): the same two, split by object */
#define KP_ANN_KARPENTER_DO_NOT_EVICT "karpenter.sh/do-not-evict"             /* pods */
#define KP_ANN_KARPENTER_DO_NOT_CONSOLIDATE "karpenter.sh/do-not-consolidate" /* nodes */

/* A label or annotation, or a nodeSelector entry. */
typedef struct kp_kv {
	const char *key, *value;
} kp_kv;

typedef struct kp_meta {
	const char *api_version;
	const char *kind;
	const char *namespace_; /* NULL for cluster-scoped */
	const char *name;
	int64_t created; /* creationTimestamp, 0 when absent */
	bool ignored;    /* kopilot.io/ignore=true label or annotation */
	bool owner_controller; /* the owner below is marked controller: true (it manages this object) */
	kp_kv *labels;
	size_t nlabels;
	/* only the ones kopilot reads (snapshot.c, kept_annotation): its
	 * own kopilot.io/ tuning, where an object comes from (GitOps), and
	 * what the cluster autoscaler and Karpenter are told */
	kp_kv *annotations;
	size_t nannotations;
	/* first controller ownerReference */
	const char *owner_kind;
	const char *owner_name;
} kp_meta;

typedef struct kp_container {
	const char *name;
	bool init;    /* initContainers entry */
	bool sidecar; /* init container with restartPolicy Always (native sidecar): runs all along */
	int64_t cpu_request_m, cpu_limit_m;   /* millicores or KP_UNSET */
	int64_t mem_request_b, mem_limit_b;   /* bytes or KP_UNSET */
	/* A live pod's container status (zero in templates): restartCount, and
	 * how it last ended (lastState.terminated, else state.terminated):
	 * reason ("OOMKilled", "Error"), exit code, finishedAt. The pod's own
	 * history, which reaches back before the metrics window. */
	int64_t restarts;
	const char *last_reason; /* NULL: never terminated */
	int64_t last_exit, last_finished;
	/* A template's container: what its language runtime may take, as its
	 * command, args or env say (stages/collect/runtime.h): bytes, percent
	 * of the memory limit, and the setting with where it was found (NULL:
	 * none). Zero in live pods. */
	int64_t rt_heap_b;
	double rt_heap_pct;
	const char *rt_setting;
} kp_container;

typedef struct kp_toleration {
	const char *key, *op, *value, *effect; /* op: "Equal" or "Exists"; NULL key with Exists = all */
} kp_toleration;

typedef struct kp_taint {
	const char *key, *value, *effect;
} kp_taint;

/* A pod template, or a live pod's spec: containers and the PVCs it names. */
typedef struct kp_podspec {
	kp_container *containers;
	size_t ncontainers;
	const char **claims; /* persistentVolumeClaim.claimName of each volume */
	size_t nclaims;
	const char **ephemeral_claims; /* generic ephemeral volumes: the claim is <pod>-<volume> */
	size_t nephemeral;
	const char *node_name;
	kp_kv *node_selector;
	size_t nnode_selector;
	kp_toleration *tolerations;
	size_t ntolerations;
	bool has_affinity; /* required node affinity we do not evaluate: such pods never move in simulations */
} kp_podspec;

typedef enum {
	KP_WL_DEPLOYMENT,
	KP_WL_STATEFULSET,
	KP_WL_DAEMONSET,
	KP_WL_REPLICASET,
	KP_WL_JOB,
	KP_WL_CRONJOB,
	KP_WL_ROLLOUT, /* Argo Rollouts (argoproj.io/v1alpha1), when the CRD exists */
	KP_WL_COUNT
} kp_workload_kind;

typedef struct kp_hpa kp_hpa;
typedef struct kp_vpa kp_vpa;

typedef struct kp_workload {
	kp_meta meta;
	kp_workload_kind wkind;
	int64_t replicas; /* spec.replicas (default 1); DaemonSet: desiredNumberScheduled */
	kp_podspec spec;
	const char **claim_templates; /* StatefulSet volumeClaimTemplates names */
	size_t nclaim_templates;
	kp_hpa *hpa; /* HPA targeting this workload, if any */
	kp_vpa *vpa; /* VPA targeting it or its controller (an operator's resource), if any */
	/* Job status */
	int64_t job_completion_time, job_failed_time;
	bool job_succeeded, job_failed;
	bool has_ttl_after_finished;
	int64_t job_active;           /* status.active */
	bool suspended;               /* CronJob or Job spec.suspend */
	int64_t ready_replicas;       /* status.readyReplicas (or numberReady) */
	kp_kv *template_labels;       /* spec.template.metadata.labels: what Services select */
	size_t ntemplate_labels;
} kp_workload;

typedef struct kp_pod {
	kp_meta meta;
	const char *phase;
	int64_t start_time; /* status.startTime, 0 unknown */
	kp_podspec spec;
	kp_workload *workload; /* resolved through ownerReferences, may be NULL */
} kp_pod;

typedef struct kp_pvc {
	kp_meta meta;
	const char *phase;        /* Pending, Bound, Lost */
	const char *volume_name;  /* spec.volumeName */
	const char *storage_class;
	int64_t storage_bytes;    /* status.capacity.storage, else spec request */
	const char *data_source_pvc; /* spec.dataSource(Ref) naming another PVC (a clone's source) */
} kp_pvc;

typedef struct kp_pv {
	kp_meta meta;
	const char *phase;
	const char *reclaim_policy;
	const char *storage_class;
	const char *claim_namespace, *claim_name;
	int64_t storage_bytes;
	/* The cloud disk behind it, as the bill names it (FOCUS ResourceId):
	 * spec.csi.volumeHandle, else the in-tree awsElasticBlockStore.volumeID,
	 * gcePersistentDisk.pdName or azureDisk.diskURI; NULL none. */
	const char *volume_handle;
} kp_pv;

struct kp_hpa {
	kp_meta meta;
	const char *target_kind, *target_name;
	int64_t min_replicas, max_replicas, current_replicas;
	bool scales_on_cpu, scales_on_memory;
	int64_t cpu_target_utilization, memory_target_utilization; /* percent or KP_UNSET */
	/* Where each target is, so a proposed change can patch exactly it:
	 * the index in spec.metrics, KP_HPA_V1_FIELD for autoscaling/v1's
	 * spec.targetCPUUtilizationPercentage (CPU only), KP_UNSET: none. */
	int64_t cpu_metric_index, memory_metric_index;
};
#define KP_HPA_V1_FIELD (-2)

/* A VerticalPodAutoscaler (autoscaling.k8s.io/v1): in any updateMode but
 * Off it rewrites the requests it controls, so kopilot leaves those alone;
 * in Off its recommendation is one more input (rightsizing.c). */
#define KP_VPA_CPU 1u
#define KP_VPA_MEMORY 2u
typedef struct kp_vpa_policy {
	const char *container; /* containerName; "*" = every container without its own entry */
	bool off;              /* mode Off: the VPA neither changes nor recommends this container */
	unsigned controlled;   /* KP_VPA_CPU | KP_VPA_MEMORY (default both) */
	bool requests_only;    /* controlledValues RequestsOnly: limits are left alone */
} kp_vpa_policy;

typedef struct kp_vpa_rec {
	const char *container;
	int64_t lower_cpu_m, lower_mem_b, target_cpu_m, target_mem_b, upper_cpu_m, upper_mem_b; /* KP_UNSET: absent */
} kp_vpa_rec;

struct kp_vpa {
	kp_meta meta;
	const char *target_kind, *target_name;
	const char *update_mode; /* as written; "Auto" when absent (the VPA's default) */
	bool updating;           /* any mode but Off: it owns what it controls */
	kp_vpa_policy *policies;
	size_t npolicies;
	kp_vpa_rec *recs;
	size_t nrecs;
};

typedef struct kp_namespace {
	kp_meta meta;
} kp_namespace;

typedef struct kp_node {
	kp_meta meta;
	int64_t alloc_cpu_m, alloc_mem_b; /* status.allocatable */
	int64_t cap_cpu_m, cap_mem_b;     /* status.capacity */
	kp_taint *taints;
	size_t ntaints;
	bool unschedulable; /* spec.unschedulable (cordoned) */
	bool ready;         /* Ready condition True */
	const char *instance_type; /* node.kubernetes.io/instance-type (or beta label) */
	bool spot;          /* a known spot/preemptible capacity-type label */
	const char *provider_id; /* spec.providerID (aws:///zone/i-..., gce://P/Z/NAME, azure:///...): matches the bill */
} kp_node;

typedef struct kp_service {
	kp_meta meta;
	const char *type; /* ClusterIP, NodePort, LoadBalancer, ExternalName */
	bool has_selector;
	kp_kv *selector; /* spec.selector */
	size_t nselector;
	const char *lb_ingress; /* status.loadBalancer.ingress[0].ip or hostname */
} kp_service;

typedef struct kp_endpointslice {
	kp_meta meta;
	const char *service_name; /* label kubernetes.io/service-name */
	int64_t endpoints, ready_endpoints;
} kp_endpointslice;

typedef struct kp_storageclass {
	kp_meta meta;
	const char *provisioner;
	bool is_default;
} kp_storageclass;

/* Usage of one (namespace, pod, container) over the window, from usage.json.
 * Values unknown in the file are KP_UNSET (or < 0 for doubles). */
typedef struct kp_usage {
	const char *namespace_, *pod, *container;
	const char *owner_kind, *owner_name;
	int64_t first_seen, last_seen;
	int64_t samples;
	double cpu_p50, cpu_p95, cpu_p99, cpu_max; /* millicores, < 0 unknown */
	double mem_p50, mem_max;                   /* bytes, < 0 unknown */
	int64_t oom_kills, restarts;               /* KP_UNSET unknown */
	double cpu_throttled_ratio;                /* < 0 unknown */
	int64_t memory_limit_at_oom;               /* KP_UNSET unknown */
	kp_workload *workload;                     /* resolved by the snapshot loader */
} kp_usage;

#define KP_ARRAY(T) struct { T *items; size_t len, cap; }

/* Something that was not collected or not measured, and what it covers, so
 * a run scoped to some namespaces (--namespace, scope.*) can tell whether a
 * gap is its own (stages/analyze/scope.c, kp_scope_keeps_missing). From a
 * missing objects/<resource>.json, a missing usage.json, or an entry of
 * usage.json's "missing" (docs/contracts/USAGE.md). */
typedef struct kp_missing {
	const char *resource;   /* "pods", "persistentvolumeclaims", "usage", "metrics"...; NULL unknown */
	const char *namespace_; /* NULL: cluster-wide or unknown, so it concerns every scope */
	const char *workload_kind, *workload_name; /* both set, or both NULL: not about one workload */
	const char *reason;     /* plain English: why it is missing */
	const char *summary;    /* one line for people: what, where and why */
} kp_missing;

typedef struct kp_cluster {
	kp_arena arena;
	const char *name;           /* cluster name (flag, config, or snapshot dir) */
	const char *context, *server; /* a live run's kubeconfig context and API server (cluster.json); NULL otherwise */
	bool collected[KP_RES_COUNT]; /* false: objects/<res>.json missing = not collected */
	bool usage_collected;
	int64_t window_start, window_end, step_seconds;
	const char *usage_source; /* prometheus, metrics-server, manual */
	KP_ARRAY(kp_missing) missing; /* what was not collected, in the order found */
	/* References to objects that are not in the snapshot although their
	 * list was collected ("pod shop/cart-1: spec.nodeName \"node-9\" is not
	 * among the collected nodes"): the first KP_MAX_INCONSISTENCIES, in the
	 * order found, and how many there were in all. */
	KP_ARRAY(const char *) inconsistencies;
	size_t inconsistencies_total;
	KP_ARRAY(kp_pod) pods;
	KP_ARRAY(kp_workload) workloads; /* all kinds, see wkind */
	KP_ARRAY(kp_pvc) pvcs;
	KP_ARRAY(kp_pv) pvs;
	KP_ARRAY(kp_hpa) hpas;
	KP_ARRAY(kp_vpa) vpas;
	KP_ARRAY(kp_namespace) namespaces;
	KP_ARRAY(kp_node) nodes;
	KP_ARRAY(kp_service) services;
	KP_ARRAY(kp_endpointslice) endpointslices;
	KP_ARRAY(kp_storageclass) storageclasses;
	KP_ARRAY(kp_usage) usage;
} kp_cluster;

/* How many inconsistencies a cluster keeps word for word (the rest are
 * counted): 150,000 pods on a missing node must not make a 20 MB list. */
#define KP_MAX_INCONSISTENCIES 100

void kp_cluster_init(kp_cluster *c);
/* Appends a kp_missing (strings copied into the arena; NULL stays NULL). */
void kp_cluster_add_missing(kp_cluster *c, const char *resource, const char *ns, const char *workload_kind,
			    const char *workload_name, const char *reason, const char *summary);
/* Records one inconsistency (see kp_cluster.inconsistencies). */
void kp_cluster_inconsistency(kp_cluster *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The resource list a workload kind is read from (KP_WL_DEPLOYMENT: KP_RES_DEPLOYMENTS). */
kp_resource kp_workload_kind_resource(kp_workload_kind k);
/* Whether a pod names a controller (ownerReference) of a workload kind whose
 * list was collected, and that workload is not in the snapshot: its usage
 * cannot be attributed to any workload. */
bool kp_pod_owner_dangling(const kp_cluster *c, const kp_pod *p);
void kp_cluster_release(kp_cluster *c);
/* Workload lookup by kind, namespace and name; NULL when absent. */
kp_workload *kp_cluster_find_workload(kp_cluster *c, kp_workload_kind k, const char *ns, const char *name);
const char *kp_workload_kind_name(kp_workload_kind k); /* "Deployment" */
const char *kp_workload_api_version(kp_workload_kind k); /* "apps/v1" */
bool kp_workload_kind_parse(const char *kind, kp_workload_kind *out);
/* Resources a cluster may not have at all (a CRD): a missing file is not a gap. */
bool kp_resource_optional(kp_resource r);
/* Whether claim is the PVC a StatefulSet's volumeClaimTemplate makes for
 * one of its pods: "<template>-<statefulset>-<ordinal>", ordinal all digits. */
bool kp_statefulset_claim(const char *claim, const char *tmpl, const char *sts);
/* Value of a label, or NULL. */
const char *kp_meta_label(const kp_meta *m, const char *key);
/* Value of a kept annotation (full key; see kp_meta.annotations), or NULL. */
const char *kp_meta_annotation(const kp_meta *m, const char *key);

/* ------------------------------------------------------------------ */
/* Findings                                                             */

typedef enum {
	KP_CAT_OVER_PROVISIONED,
	KP_CAT_UNDER_PROVISIONED,
	KP_CAT_IDLE_WORKLOAD,
	KP_CAT_ZERO_REPLICA_WORKLOAD,
	KP_CAT_ORPHANED_PVC,
	KP_CAT_UNBOUND_PV,
	KP_CAT_IDLE_LOADBALANCER,
	KP_CAT_FINISHED_JOB,
	KP_CAT_UNDERUTILIZED_NODE,
	KP_CAT_COUNT
} kp_category;

const char *kp_category_name(kp_category c);
bool kp_category_parse(const char *s, kp_category *out);

/* A set of sizes: any field < 0 is "not set" and absent from the JSON. */
typedef struct kp_sizes {
	double replicas;
	int64_t cpu_request_m, cpu_limit_m, mem_request_b, mem_limit_b, storage_b;
} kp_sizes;

void kp_sizes_unset(kp_sizes *s);

/* What an underutilized-node finding is about: what the node offers and
 * what its pods request (the finding's "node" object). A node has no
 * requests of its own, so this is not a kp_sizes: "current" of a node
 * finding is empty. Any field < 0 is unknown and absent from the JSON. */
typedef struct kp_node_sizes {
	int64_t cpu_capacity_m, cpu_allocatable_m, cpu_requested_m;
	int64_t mem_capacity_b, mem_allocatable_b, mem_requested_b;
} kp_node_sizes;

typedef struct kp_evidence {
	char *summary;
	char *metric; /* NULL when absent */
	double value;
	bool has_value;
	char *unit, *window, *source, *query;
	int64_t samples; /* < 0 absent */
} kp_evidence;

typedef enum { KP_CONF_LOW, KP_CONF_MEDIUM, KP_CONF_HIGH } kp_confidence;
typedef enum { KP_RISK_LOW, KP_RISK_MEDIUM, KP_RISK_HIGH, KP_RISK_CRITICAL } kp_risk;
typedef enum { KP_ACT_RESIZE, KP_ACT_SCALE_DOWN, KP_ACT_DELETE, KP_ACT_REVIEW } kp_action_type;

const char *kp_confidence_name(kp_confidence c);
const char *kp_risk_name(kp_risk r);
const char *kp_action_type_name(kp_action_type a);

typedef struct kp_action {
	kp_action_type type;
	bool destructive, approval_required, blocked;
	char *blocked_reason; /* NULL unless blocked */
	char *command;        /* NULL when there is no single command */
} kp_action;

/* What a finding's money depends on, recorded by the analyze stage (which
 * has the cluster) so the recommend stage (which reads only analysis.json)
 * can price it: the finding's "pricing" object. pipeline/money.h turns it
 * into rates; prices themselves are not looked at when it is recorded. */
typedef struct kp_node_group {
	char *instance_type; /* node.kubernetes.io/instance-type; NULL unknown (a node finding only) */
	bool spot;
	int64_t cpu_m, mem_b; /* one node's capacity */
	int64_t pods;         /* pods of the finding on nodes of this group; 1 for a node finding */
} kp_node_group;

typedef struct kp_class_bytes {
	char *name; /* StorageClass */
	int64_t bytes;
} kp_class_bytes;

typedef enum {
	KP_PRICED_GLOBAL,  /* nothing specific: the global prices */
	KP_PRICED_PODS,    /* a workload: the node groups its pods run on ("node_types") */
	KP_PRICED_NODE,    /* a node: its own type (one group) */
	KP_PRICED_CLASS,   /* a PVC or PV: one StorageClass ("storage_class") */
	KP_PRICED_CLASSES, /* a zero-replica workload's claims: bytes per StorageClass */
} kp_priced_by;

typedef struct kp_pricing_inputs {
	kp_priced_by by;
	kp_node_group *groups; /* PODS, NODE */
	size_t ngroups;
	int64_t pods_elsewhere; /* PODS: pods on no known node or one without an instance type */
	char *node;             /* NODE: the node's name */
	char *storage_class;    /* CLASS */
	kp_class_bytes *classes; /* CLASSES, in the order first seen */
	size_t nclasses;
} kp_pricing_inputs;

/* One specific price a finding was priced at (the finding's "price.items"). */
typedef struct kp_price_item {
	bool storage;   /* "storage_class" item, else "node_type" */
	char *name;     /* instance type or StorageClass */
	bool spot;
	double hourly;  /* a node type's hourly price, < 0 when priced by spotCPU/spotRAM */
	double cpu_core_hour, memory_gib_hour; /* node types */
	int64_t pods;   /* node types */
	double storage_gib_month; /* storage classes */
	char *source;   /* where the price came from: "config", "focus", "opencost-custom" */
} kp_price_item;

/* The rates one finding is priced at (pipeline/money.c decides them). When
 * neither part is specific these are the global prices and nothing is
 * written: the finding's "price" appears only for specific prices. */
typedef struct kp_rates {
	double cpu_core_hour, memory_gib_hour, storage_gib_month;
	bool cpu_specific;     /* cpu/memory rates are not the global ones */
	bool storage_specific; /* storage rate is not the global one */
	char *basis;           /* "node types m5.xlarge x3 (on-demand $0.192/h)", NULL when global */
	char *nodes_label;     /* "nodes: m5.xlarge x3" for the evidence line, NULL unless specific */
	kp_price_item *items;  /* the node types / storage classes used */
	size_t nitems;
	/* where the rates came from: the items' source when they agree (and
	 * nothing is at the global prices, or those agree too), else "mixed";
	 * NULL when global */
	char *source;
} kp_rates;

void kp_pricing_inputs_release(kp_pricing_inputs *p);
void kp_rates_release(kp_rates *r);

/* Another object the finding's action changes along with its resource,
 * field by field: an HPA's utilization target that must follow a request
 * change, a retained volume's reclaim policy that must become Delete for
 * deleting its claim to free the disk. Serialised as the finding's
 * "related_changes"; the command (and a pull request) carries them. */
typedef struct kp_related_change {
	char *api_version, *kind, *namespace_, *name; /* namespace_ NULL: cluster-scoped */
	char *path;        /* JSON Pointer into the object, e.g. /spec/persistentVolumeReclaimPolicy */
	bool numeric;      /* values are current_n/recommended_n, else current_s/recommended_s */
	int64_t current_n, recommended_n;
	char *current_s, *recommended_s;
	bool before;       /* applied before the resource's own change (else after) */
	char *reason;      /* one plain-English line: why this change goes with the action */
} kp_related_change;

typedef struct kp_finding {
	char id[17];
	kp_category category;
	char *api_version, *kind, *namespace_, *name; /* namespace_ NULL: cluster-scoped */
	char *container;                              /* NULL: not per-container */
	kp_evidence *evidence;
	size_t nevidence;
	kp_sizes current, recommended;
	bool has_recommended;
	bool has_node;      /* underutilized-node findings: node holds the node's sizes */
	kp_node_sizes node; /* priced at its capacity (allocatable when there is none) */
	/* LoadBalancer Services this finding's resource holds (priced at
	 * load_balancer_hour); serialised as the finding's "load_balancers". */
	int64_t load_balancers;
	kp_related_change *related; /* see kp_related_change */
	size_t nrelated;
	kp_pricing_inputs pricing; /* filled by analyze (stages/analyze/pricing_inputs.c) */
	/* filled by recommend, through pipeline/money.h only */
	kp_rates price; /* the rates monthly_cost and monthly_savings are at */
	double monthly_cost, monthly_savings;
	kp_confidence confidence;
	kp_risk risk;
	kp_action action;
	char *explanation;
	char *explained_by;
	/* run to run (stages/recommend/history.h): "new" or "persisting", and
	 * when first seen (NULL: unknown); trend NULL when there is no
	 * previous run, and then neither is written */
	char *trend, *first_seen;
	/* Where the object comes from, as the live object says (NULL: it
	 * does not): Argo CD application, Flux Kustomization "ns/name", Helm
	 * release "ns/name", and the value of the pr.team_label label. Read
	 * by render --pr to find the manifest and group pull requests
	 * (stages/analyze/scope.c fills them). */
	char *argocd_app, *flux_kustomization, *helm_release, *team;
	/* The controller that writes this workload's pod template (an
	 * operator's custom resource: Prometheus, Kafka...), NULL when none:
	 * a resize goes into that resource, not the workload (resource.managed_by). */
	char *managed_by_kind, *managed_by_name;
} kp_finding;

typedef struct kp_skip {
	char *api_version, *kind, *namespace_, *name;
	char *reason;
} kp_skip;

typedef struct kp_findings {
	KP_ARRAY(kp_finding) items;
	KP_ARRAY(kp_skip) skipped;
	size_t excluded_by_scope; /* findings dropped by scope.* patterns */
	/* cluster->missing entries outside the run's scope (--namespace,
	 * scope.*): left out of the run's "missing" (kp_scope_missing) */
	size_t missing_excluded_by_scope;
	size_t excluded_by_selector; /* findings dropped by -l/--selector */
} kp_findings;

void kp_findings_init(kp_findings *f);
void kp_findings_release(kp_findings *f);
/* Frees what one finding / skip entry owns (for filters that drop some). */
void kp_finding_release(kp_finding *f);
void kp_skip_release(kp_skip *s);
/* Appends a zeroed finding with identity set and sizes unset; returns it. */
kp_finding *kp_findings_add(kp_findings *f, kp_category cat, const char *api_version, const char *kind,
			    const char *ns, const char *name, const char *container);
void kp_finding_add_evidence(kp_finding *f, const char *metric, double value, bool has_value, const char *unit,
			     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Marks the evidence added so far that has no source yet as coming from
 * source (and, when given, over window with that many samples). */
void kp_finding_stamp_evidence(kp_finding *f, const char *source, const char *window, int64_t samples);
void kp_findings_skip(kp_findings *f, const char *api_version, const char *kind, const char *ns, const char *name,
		      const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Appends a related change (strings copied); returns it for the values. */
kp_related_change *kp_finding_add_related(kp_finding *f, const char *api_version, const char *kind, const char *ns,
					  const char *name, const char *path, const char *reason);
/* Stable id: hash of category, apiVersion, kind, namespace, name, container. */
void kp_finding_compute_id(kp_finding *f);

#define KP_ARRAY_PUSH(arr, value)                                                              \
	do {                                                                                   \
		if ((arr).len == (arr).cap) {                                                  \
			(arr).cap = (arr).cap ? (arr).cap * 2 : 16;                            \
			(arr).items = kp_xrealloc((arr).items, (arr).cap * sizeof(*(arr).items)); \
		}                                                                              \
		(arr).items[(arr).len++] = (value);                                            \
	} while (0)

#endif
