/*
 * money.h - the one money path. Every figure kopilot shows (findings.json,
 * plan.json, the three reports, the terminal summary) is computed by
 * kp_money_price_finding() at the rates kp_money_rates() decides, and
 * shown with kp_money_format(); the thresholds that drop small findings
 * (rightsizing.min_monthly_savings) are judged on the same figure, so a
 * finding is never kept or dropped at a price other than the one the user
 * sees.
 *
 * Cost model (also reproduced by formulas in report.xlsx):
 *   cost(s) = replicas x (cpu_request/1000 x cpu_core_hour + memory_request/2^30 x memory_gib_hour)
 *             x hours_per_month
 *           + storage_bytes/2^30 x storage_gib_month
 *   monthly_cost    = cost(current) + load_balancers x load_balancer_hour x hours_per_month
 *   monthly_savings = monthly_cost - (recommended ? cost(recommended) : 0)
 * Requests, not usage, are priced: requests are what the scheduler reserves
 * and what node autoscaling pays for.
 *
 * Rates (kp_money_rates): workloads at the pod-weighted average of the
 * per-core and per-GiB rates of the node types their pods run on; PVCs, PVs
 * and a zero-replica workload's claims at their StorageClass price (bytes-
 * weighted); a node at its own type's hourly price; anything without a
 * specific price at the global prices. A node type's hourly price is split
 * the way OpenCost prices custom nodes (prices.h, kp_pricing_split).
 *
 * Which price of a node type or StorageClass (each item records its
 * source): prices.node_types / prices.storage_classes ("config": a person
 * wrote them), then the effective rate from the FOCUS bill ("focus",
 * cfg->prices.focus), then for spot nodes the custom pricing file's
 * spotCPU/spotRAM ("opencost-custom"), then the global prices.
 */
#ifndef KP_MONEY_H
#define KP_MONEY_H

#include "pipeline/config.h"
#include "pipeline/model.h"

#define KP_GIB 1073741824.0

/* The rates f is priced at, from its pricing inputs and the configuration.
 * out is owned by the caller (kp_rates_release). */
void kp_money_rates(const kp_config *cfg, const kp_finding *f, kp_rates *out);

/* findings.json prices.rate_sources: every specific rate there is (the
 * configured node types and StorageClasses, the FOCUS bill's), what it is,
 * where it came from and what it rests on, then the global prices and
 * their source: a list of {kind ("node_type", "storage_class", "global"),
 * name, spot, rate, unit, source, basis}. rate is null for a FOCUS rate
 * with too little data (basis says why and what applies instead). */
json_object *kp_money_sources_json(const kp_config *cfg);

/* cost(s) at rates r (see above): the same formula for every finding; only
 * the rates differ. */
double kp_money_cost(const kp_config *cfg, const kp_rates *r, const kp_sizes *s);

/* Decides f's money: f->price, f->monthly_cost, f->monthly_savings, and an
 * evidence line "Priced at ..." when the rates are specific. Idempotent. */
void kp_money_price_finding(const kp_config *cfg, kp_finding *f);

/* Whether a priced finding saves too little to report: over-provisioned and
 * idle-workload findings below rightsizing.min_monthly_savings. Findings
 * about risk (under-provisioned) or leftovers are never dropped for size. */
bool kp_money_below_threshold(const kp_config *cfg, const kp_finding *f);

/* Rounds to 1/10000 of the currency: what findings.json holds and what
 * totals and sort orders are computed from, so they agree with the file. */
double kp_money_round(double v);

/* The one formatter, for the terminal, Markdown, HTML and the explanations:
 * "$1,234.56", "-$4.64", "€625.62", "£3.10", "1,234.56 CHF". Rounded to
 * cents only here. */
void kp_money_format(double v, const char *currency, char *out, size_t n);
/* A unit price keeps its precision, at least two decimals: "$0.031611". */
void kp_money_format_price(double v, const char *currency, char *out, size_t n);
/* The same presentation as an Excel number format, for report.xlsx: a money
 * cell ("$#,##0.00;[Red]-$#,##0.00") or a unit price ("$#,##0.00####"). */
void kp_money_excel_format(const char *currency, bool unit_price, char *out, size_t n);
/* "USD/month": the unit of a money column header. */
void kp_money_unit(const char *currency, char *out, size_t n);

#endif
