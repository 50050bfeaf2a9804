/*
 * quantity.h - Kubernetes resource.Quantity parsing, exact.
 *
 * Grammar (k8s.io/apimachinery/pkg/api/resource):
 *   quantity  ::= signedNumber suffix
 *   suffix    ::= binarySI (Ki Mi Gi Ti Pi Ei) | decimalSI (n u m "" k M G T P E)
 *               | decimalExponent (e|E signedNumber)
 * Examples: 100m, 0.5, 1, 512Mi, 1G, 1e3, 1.5Gi.
 *
 * Values are computed in exact decimal/binary arithmetic (no binary floating
 * point), then rounded UP to the integer unit asked for, as Kubernetes'
 * MilliValue()/Value() do. Negative quantities, empty strings, unknown
 * suffixes, trailing garbage and values that do not fit in int64 are errors.
 */
#ifndef KP_QUANTITY_H
#define KP_QUANTITY_H

#include "pipeline/kp.h"

/* Value in thousandths of the base unit (CPU "100m" -> 100, "2" -> 2000). */
kp_status kp_quantity_milli(const char *s, int64_t *out, kp_error *err);
/* Value in base units, rounded up ("512Mi" -> 536870912, "100m" -> 1). */
kp_status kp_quantity_units(const char *s, int64_t *out, kp_error *err);

/* Human formatting for reports: millicores as "250m" or "1.5 cores";
 * bytes as "512Mi", "1.5Gi" (binary units, at most one decimal). */
void kp_format_cpu(int64_t millicores, char *out, size_t n);
void kp_format_bytes(int64_t bytes, char *out, size_t n);
/* A count with thousands separators: "12,345". */
void kp_format_thousands(unsigned long long v, char *out, size_t n);
/* Kubernetes quantity strings for manifests/kubectl: "250m", "512Mi". */
void kp_quantity_format_cpu(int64_t millicores, char *out, size_t n);
void kp_quantity_format_mem(int64_t bytes, char *out, size_t n);

/* When this file was compiled, and from which commit: part of the snapshot
 * cache's key, so a changed parser never reuses a model parsed by the old one. */
const char *kp_quantity_build_stamp(void);

/* A measured amount (millicores, bytes) as the whole number every output
 * spells it with: rounded up, so usage is never understated, and bounded. */
int64_t kp_quantity_ceil(double v);

#endif
