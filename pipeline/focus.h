/*
 * focus.h - effective prices from the account's own bill: a FOCUS cost
 * export (the FinOps Foundation's open billing format, FOCUS 1.0-1.2, CSV)
 * read as a stream, matched to the cluster's nodes (spec.providerID) and
 * volumes (CSI volume handle / in-tree disk id), and turned into one
 * effective rate per instance type (per node-hour) and per StorageClass
 * (per GiB-month). Part of the core: the recommend stage reads the file,
 * pipeline/money.c prices findings with the rates (after the configured
 * per-type prices, before the global ones).
 *
 * Rows used: ChargeCategory "Usage" only (Purchase, Tax, Credit and
 * Adjustment rows are counted and skipped: amortized commitments already
 * sit in EffectiveCost of the usage they cover), and not ServiceCategory
 * "Networking" (data transfer follows traffic, not the machine's size).
 * Cost is EffectiveCost. A node's hours are the PricingQuantity of its rows
 * whose PricingUnit is hours ("Hours", "Hrs", "1 Hour", ...), or, when it
 * has none, the span of its rows' charge periods. A volume's GiB-months are
 * the PricingQuantity of its rows priced per GB-month ("GB-Mo",
 * "GiB-month", ...), else its capacity x the span / prices.hours_per_month.
 * A type or class with under KP_FOCUS_MIN_HOURS hours of data keeps no
 * rate (a note says why) and falls back to the next price source.
 *
 * Ownership: kp_focus_rates owns everything in it (kp_focus_rates_release);
 * kp_focus_keys points into the caller's memory (kp_focus_keys_from_json:
 * into the JSON it was read from) and owns only its arrays.
 */
#ifndef KP_FOCUS_H
#define KP_FOCUS_H

#include <stdint.h>

#include "pipeline/kp.h"

#define KP_FOCUS_MIN_HOURS 24.0

/* What of the cluster the bill is matched against (analysis.json
 * "billing_keys", written by the analyze stage). */
typedef struct kp_focus_node {
	const char *provider_id, *instance_type;
	bool spot;
} kp_focus_node;

typedef struct kp_focus_volume {
	const char *handle, *storage_class;
	int64_t bytes;
} kp_focus_volume;

typedef struct kp_focus_keys {
	kp_focus_node *nodes;
	size_t nnodes;
	kp_focus_volume *volumes;
	size_t nvolumes;
} kp_focus_keys;

/* One derived rate. */
typedef struct kp_focus_rate {
	bool storage;     /* a StorageClass, else an instance type */
	char *name;
	bool spot;        /* instance types: spot nodes are their own rate */
	double rate;      /* per node-hour or per GiB-month; < 0: too little data (note says why) */
	double cost;      /* sum of EffectiveCost */
	double hours;     /* node-hours; for storage the volume-hours the rows cover */
	double gib_months; /* storage only */
	int64_t rows, resources;
	char *note;       /* NULL, or why no rate ("only 12 hours of data, under 24") */
} kp_focus_rate;

typedef struct kp_focus_rates {
	char *file;
	char *currency;
	char *period_start, *period_end; /* RFC 3339, the earliest start and latest end of the rows used; NULL none */
	int64_t rows;           /* data rows read */
	int64_t usage_rows;     /* ChargeCategory Usage */
	int64_t matched_rows;   /* Usage rows of a known node or volume, used */
	int64_t unmatched_rows; /* Usage rows of no known node or volume (other services, other clusters) */
	int64_t skipped_rows;   /* matched, but Networking */
	kp_focus_rate *items;   /* sorted: instance types, then StorageClasses, by name */
	size_t nitems;
} kp_focus_rates;

/* Reads path, a FOCUS CSV export. currency: prices.currency, which every
 * Usage row's BillingCurrency must equal. Errors are KP_ERR_USAGE (a price
 * input named by the configuration, as the OpenCost custom pricing file)
 * naming the file, the line and the column; KP_ERR_INPUT when the path is
 * not a regular file. */
kp_status kp_focus_read(const char *path, const kp_focus_keys *keys, const char *currency, double hours_per_month,
			kp_focus_rates *out, kp_error *err);
void kp_focus_rates_release(kp_focus_rates *r);

/* The usable rate of an instance type (spot or not) or a StorageClass; NULL
 * when the export had none or too little data. */
const kp_focus_rate *kp_focus_node_rate(const kp_focus_rates *r, const char *instance_type, bool spot);
const kp_focus_rate *kp_focus_class_rate(const kp_focus_rates *r, const char *storage_class);

/* findings.json prices.focus: the file, period, row counts and every rate. */
json_object *kp_focus_to_json(const kp_focus_rates *r);

/* analysis.json "billing_keys" -> keys (pointing into o). Entries without
 * the strings needed are skipped. */
void kp_focus_keys_from_json(json_object *o, kp_focus_keys *keys);
void kp_focus_keys_release(kp_focus_keys *keys);

/* The id a bill and the cluster share, for matching: lower case (Azure ids
 * are case-insensitive), without the scheme (aws://, gce://, azure://,
 * //compute.googleapis.com/); an AWS ARN or provider id becomes its last
 * segment (i-0abc, vol-0abc); gce://P/Z/NAME becomes
 * projects/P/zones/Z/instances/NAME. Exposed for tests. */
char *kp_focus_canonical_id(const char *id, bool node);

#endif
