/*
 * pricing.h - per-finding prices: the OpenCost custom pricing file, prices
 * per node type and per StorageClass, and the rates each finding is priced
 * at, so every money figure can be traced to a price.
 *
 * How a finding is priced (the recommend stage; the analyze stage only
 * records the inputs, as the finding's "pricing" object, see
 * stages/analyze/pricing_inputs.c):
 *   - workloads (over/under-provisioned, idle-workload): the pod-weighted
 *     average of the per-core and per-GiB rates of the nodes its pods run on;
 *   - PVCs, PVs and a zero-replica workload's claims: their StorageClass
 *     price (bytes-weighted when there are several classes);
 *   - underutilized-node: its own node type's hourly price;
 *   - anything else, and any part without a specific price: the global
 *     prices (prices.cpu_core_hour, ...).
 * A node type's hourly price is split into a per-core and a per-GiB rate
 * the way OpenCost prices custom nodes: the ratio of the global CPU and RAM
 * prices is kept, i.e. cpu_rate*cores + ram_rate*gib = hourly with
 * cpu_rate/ram_rate = cpu_core_hour/memory_gib_hour.
 *
 * Ownership: kp_rates owns its basis string and items (kp_rates_release).
 */
#ifndef KP_PRICING_H
#define KP_PRICING_H

#include <yaml.h>

#include "pipeline/config.h"
#include "pipeline/model.h"

/* The prices an OpenCost custom pricing file holds that kopilot uses; any
 * field < 0 was not in the file. storage is per GiB-hour, as OpenCost has it. */
typedef struct kp_custom_prices {
	double cpu_core_hour, memory_gib_hour, storage_gib_hour, spot_cpu_core_hour, spot_memory_gib_hour;
} kp_custom_prices;

/* Reads an OpenCost custom pricing file (its default.json format: values
 * are strings of numbers; the YAML form of the same keys is accepted too).
 * Unknown keys are ignored; a bad or negative number is a KP_ERR_USAGE error
 * naming the file and the key. */
kp_status kp_pricing_read_custom(const char *path, kp_custom_prices *out, kp_error *err);

/* Parses the YAML mapping `node` of section "prices.node_types" or
 * "prices.storage_classes" into cfg (replacing what was there). path names
 * the file in errors. Called by the configuration loader. */
kp_status kp_pricing_yaml_section(kp_config *cfg, yaml_document_t *doc, yaml_node_t *node, const char *section,
				  const char *path, kp_error *err);
/* True for the two sections above. */
bool kp_pricing_is_section(const char *dotted);
/* Frees cfg's node type and StorageClass tables. */
void kp_pricing_config_release(kp_config *cfg);
/* Appends the "prices.node_types = {...}" and "prices.storage_classes = {...}"
 * lines (aligned like the others) / JSON members, for `config show` and
 * run.json. */
void kp_pricing_config_show(const kp_config *cfg, kp_buf *out, int keyw, int valw);
void kp_pricing_config_json(const kp_config *cfg, json_object *obj);

/* The analyze stage's part (stages/analyze/pricing_inputs.c): fills each
 * finding's pricing inputs (f->pricing) from the cluster, after all rules
 * ran, so the recommend stage, which reads only analysis.json, can price it:
 *   workloads: {"node_types": [{"instance_type", "spot", "cpu_millicores",
 *               "memory_bytes" (node capacity), "pods"}], "pods_elsewhere": N}
 *   PVC / PV:  {"storage_class": "gp3"}
 *   zero-replica workload: {"storage_classes": {"gp3": bytes, ...}}
 *   node:      {"node", "instance_type", "spot", "cpu_millicores", "memory_bytes"}
 * Linear-logarithmic in pods + findings. */
void kp_pricing_inputs(const kp_cluster *c, kp_findings *out);

/* Price lookups; NULL when not configured. */
const kp_node_type_price *kp_pricing_node_type(const kp_config *cfg, const char *instance_type);
const kp_storage_class_price *kp_pricing_storage_class(const kp_config *cfg, const char *name);

/* Splits an hourly node price into per-core and per-GiB rates, keeping the
 * ratio cpu_ref/ram_ref. False when the node has no size to split over. */
bool kp_pricing_split(double hourly, double cores, double gib, double cpu_ref, double ram_ref, double *cpu_rate,
		      double *ram_rate);

/* The rates one finding is priced at. */
typedef struct kp_rates {
	double cpu_core_hour, memory_gib_hour, storage_gib_month;
	bool cpu_specific;     /* cpu/memory rates are not the global ones */
	bool storage_specific; /* storage rate is not the global one */
	char *basis;           /* "node types m5.xlarge x3 (on-demand $0.192/h)", NULL when global */
	char *nodes_label;     /* "m5.xlarge x3" for the evidence line, NULL unless nodes */
	json_object *items;    /* array: node types / storage classes used, NULL when global */
} kp_rates;

/* Rates for f from its pricing inputs (f->pricing) and cfg. */
void kp_pricing_rates(const kp_config *cfg, const kp_finding *f, kp_rates *out);
void kp_rates_release(kp_rates *r);

/* cost(s) at the given rates: the cost model of recommend.h. */
double kp_cost_monthly_at(const kp_config *cfg, const kp_rates *r, const kp_sizes *s);

/* Records the rates in f: a "price" member inside f->pricing (serialised as
 * the finding's "price" in findings.json) and an evidence line "Priced at
 * ...". Nothing when the rates are the global ones. Idempotent. */
void kp_pricing_annotate(const kp_config *cfg, kp_finding *f, const kp_rates *r);

#endif
