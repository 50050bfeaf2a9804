/*
 * prices.h - the price tables of the configuration: the OpenCost custom
 * pricing file (prices.custom_pricing_file), prices per node type
 * (prices.node_types) and per StorageClass (prices.storage_classes), and the
 * OpenCost split of an hourly node price into per-core and per-GiB rates.
 * Part of the core: the configuration loader reads them, pipeline/money.c
 * prices findings with them.
 */
#ifndef KP_PRICES_H
#define KP_PRICES_H

#include <yaml.h>

#include "pipeline/config.h"

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

/* Price lookups; NULL when not configured. */
const kp_node_type_price *kp_pricing_node_type(const kp_config *cfg, const char *instance_type);
const kp_storage_class_price *kp_pricing_storage_class(const kp_config *cfg, const char *name);

/* Splits an hourly node price into per-core and per-GiB rates, keeping the
 * ratio cpu_ref/ram_ref. False when the node has no size to split over. */
bool kp_pricing_split(double hourly, double cores, double gib, double cpu_ref, double ram_ref, double *cpu_rate,
		      double *ram_rate);

#endif
