/*
 * quantity.c - Kubernetes resource.Quantity parsing and formatting, exact.
 *
 * Owns nothing on the heap across calls: parsing works on a temporary digit
 * array that is freed before returning, formatters write into the caller's
 * buffer.
 *
 * Why digit arithmetic: "0.1" or "1.5Gi" are not representable in binary
 * floating point, and Kubernetes rounds UP (MilliValue()/Value()), so a value
 * a hair above an integer must still round up. We therefore keep the
 * significant digits as a base-10 digit array, multiply it by the binary
 * suffix (1024^k) in place, and only then look at where the decimal point
 * falls: digits above it are the integer part, any non-zero digit below it
 * means "round up by one". Nothing is approximated.
 *
 * Accepted grammar (k8s.io/apimachinery/pkg/api/resource):
 *   [+|-] digits [. digits] suffix    or   [+|-] [digits] . digits suffix
 *   suffix: "" | n u m k M G T P E | Ki Mi Gi Ti Pi Ei | (e|E) [+|-] digits
 * "5." and ".5" are valid (Kubernetes accepts both). "-0" is zero, as in
 * Kubernetes; any other negative value is an error.
 */
#include "pipeline/quantity.h"
#include "pipeline/fault.h"

#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Exponents are saturated here: anything beyond is either zero-ish (rounds
 * up to 1) or certainly out of int64 range, and saturating keeps the
 * arithmetic on exponents free of overflow. */
#define EXP_CAP 100000

/* Copies s into out as a printable, bounded quotation for error messages
 * (control characters escaped, long inputs cut), so a hostile manifest cannot
 * inject newlines or megabytes into a log line. */
static void quote_for_error(const char *s, char *out, size_t n)
{
	size_t o = 0, i = 0;
	for (; s[i] && o + 5 < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (i >= 64) {
			break;
		}
		if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\') {
			o += (size_t)snprintf(out + o, n - o, ch == '"' ? "\\\"" : ch == '\\' ? "\\\\" : "\\x%02x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	if (s[i] && o + 4 < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static kp_status bad(kp_error *err, const char *s, const char *fmt, const char *detail)
{
	char q[300], d[300];
	quote_for_error(s, q, sizeof(q));
	if (detail) {
		quote_for_error(detail, d, sizeof(d));
		char why[400];
		snprintf(why, sizeof(why), fmt, d);
		return kp_fail(err, KP_ERR_INPUT, "invalid quantity \"%s\": %s", q, why);
	}
	return kp_fail(err, KP_ERR_INPUT, "invalid quantity \"%s\": %s", q, fmt);
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Resolves a suffix string: *pow1024 = k for Ki..Ei, *exp10 for decimal SI
 * and exponents. Returns false when the suffix is not one Kubernetes knows. */
static bool parse_suffix(const char *suf, int *pow1024, long *exp10)
{
	static const struct {
		const char *name;
		int p1024;
		int e10;
	} table[] = {
		{"", 0, 0},    {"n", 0, -9},  {"u", 0, -6},  {"m", 0, -3},  {"k", 0, 3},
		{"M", 0, 6},   {"G", 0, 9},   {"T", 0, 12},  {"P", 0, 15},  {"E", 0, 18},
		{"Ki", 1, 0},  {"Mi", 2, 0},  {"Gi", 3, 0},  {"Ti", 4, 0},  {"Pi", 5, 0},
		{"Ei", 6, 0},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(suf, table[i].name) == 0) {
			*pow1024 = table[i].p1024;
			*exp10 = table[i].e10;
			return true;
		}
	}
	if ((suf[0] == 'e' || suf[0] == 'E') && suf[1]) {
		const char *p = suf + 1;
		int sign = 1;
		if (*p == '+' || *p == '-') {
			sign = *p == '-' ? -1 : 1;
			p++;
		}
		if (!is_digit(*p))
			return false;
		long e = 0;
		for (; is_digit(*p); p++) {
			if (e < EXP_CAP)
				e = e * 10 + (*p - '0');
		}
		if (*p)
			return false;
		if (e > EXP_CAP)
			e = EXP_CAP;
		*pow1024 = 0;
		*exp10 = sign * e;
		return true;
	}
	return false;
}

/*
 * Core: parses s and returns ceil(value * 10^scale10) in *out.
 */
static kp_status quantity_scaled(const char *s, int scale10, int64_t *out, kp_error *err)
{
	if (!s || !*s)
		return bad(err, s ? s : "", "empty string", NULL);
	for (const char *p = s; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f')
			return bad(err, s, "contains whitespace", NULL);
	}

	const char *p = s;
	bool negative = false;
	if (*p == '+' || *p == '-') {
		negative = *p == '-';
		p++;
	}
	const char *int_start = p;
	while (is_digit(*p))
		p++;
	const char *int_end = p;
	const char *frac_start = p, *frac_end = p;
	if (*p == '.') {
		p++;
		frac_start = p;
		while (is_digit(*p))
			p++;
		frac_end = p;
	}
	if (int_end == int_start && frac_end == frac_start)
		return bad(err, s, "no digits (expected a number such as 100m, 0.5, 512Mi)", NULL);
	if (*p == '.')
		return bad(err, s, "more than one decimal point", NULL);

	/* Suffix: the run of letters (plus an exponent's sign and digits). */
	const char *suf_start = p;
	if ((*p == 'e' || *p == 'E') && (is_digit(p[1]) || ((p[1] == '+' || p[1] == '-') && is_digit(p[2])))) {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		while (is_digit(*p))
			p++;
	} else {
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			p++;
	}
	size_t suf_len = (size_t)(p - suf_start);
	char suf[32];
	if (suf_len >= sizeof(suf)) {
		char tmp[40];
		snprintf(tmp, sizeof(tmp), "%.24s", suf_start);
		return bad(err, s, "unknown suffix \"%s\"", tmp);
	}
	memcpy(suf, suf_start, suf_len);
	suf[suf_len] = '\0';
	int pow1024 = 0;
	long exp10 = 0;
	if (!parse_suffix(suf, &pow1024, &exp10))
		return bad(err, s, "unknown suffix \"%s\" (expected one of n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent like e3)", suf);
	if (*p) {
		if (*p == '.')
			return bad(err, s, "more than one decimal point", NULL);
		return bad(err, s, suf_len ? "unexpected characters \"%s\" after the suffix"
					   : "unexpected characters \"%s\" after the number", p);
	}

	/* All digits of the mantissa; leading zeros are dropped below. */
	size_t ndig = (size_t)(int_end - int_start) + (size_t)(frac_end - frac_start);
	/* room for the product with 1024^6 < 10^19 */
	size_t cap = ndig + 20;
	unsigned char *dig = kp_fault_alloc() ? NULL : malloc(cap);
	if (!dig)
		return kp_fail(err, KP_ERR_NOMEM, "out of memory parsing a quantity");
	/* Stored least significant first so multiplication can grow upward. */
	size_t n = 0;
	for (const char *q = frac_end; q > frac_start; q--)
		dig[n++] = (unsigned char)(q[-1] - '0');
	for (const char *q = int_end; q > int_start; q--)
		dig[n++] = (unsigned char)(q[-1] - '0');
	while (n > 0 && dig[n - 1] == 0)
		n--;
	if (n == 0) {
		/* zero, with any sign and suffix */
		free(dig);
		*out = 0;
		return KP_OK;
	}
	if (negative) {
		free(dig);
		return bad(err, s, "negative quantity", NULL);
	}

	/* Multiply by 1024^pow1024, exactly. */
	for (int k = 0; k < pow1024; k++) {
		unsigned carry = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned v = dig[i] * 1024u + carry;
			dig[i] = (unsigned char)(v % 10);
			carry = v / 10;
		}
		while (carry) {
			dig[n++] = (unsigned char)(carry % 10);
			carry /= 10;
		}
	}

	/* value = digits * 10^e; e bounded by |EXP_CAP| + len(s) + 3 */
	long e = exp10 - (long)(frac_end - frac_start) + scale10;
	size_t lo = 0; /* trailing zeros move into the exponent */
	while (lo < n && dig[lo] == 0) {
		lo++;
		e++;
	}

	bool round_up = false;
	size_t int_lo; /* index of the lowest digit of the integer part */
	long int_zeros = 0; /* zeros appended to the integer part */
	if (e >= 0) {
		int_lo = lo;
		int_zeros = e;
	} else {
		/* fraction digits are [lo, lo - e): the lowest is non-zero, so
		 * there is a fraction and the value rounds up */
		round_up = true;
		size_t q = (size_t)(-e);
		int_lo = (q >= n - lo) ? n : lo + q;
	}
	long int_digits = (long)(n - int_lo) + int_zeros;
	if (int_digits > 19) {
		free(dig);
		return bad(err, s, "out of range (does not fit in a 64-bit integer)", NULL);
	}
	unsigned __int128 v = 0;
	for (size_t i = n; i > int_lo; i--)
		v = v * 10 + dig[i - 1];
	for (long z = 0; z < int_zeros; z++)
		v *= 10;
	if (round_up)
		v += 1;
	free(dig);
	if (v > (unsigned __int128)INT64_MAX)
		return bad(err, s, "out of range (does not fit in a 64-bit integer)", NULL);
	*out = (int64_t)v;
	return KP_OK;
}

kp_status kp_quantity_milli(const char *s, int64_t *out, kp_error *err)
{
	return quantity_scaled(s, 3, out, err);
}

kp_status kp_quantity_units(const char *s, int64_t *out, kp_error *err)
{
	return quantity_scaled(s, 0, out, err);
}

/* ---- formatting ---- */

/* Magnitude without the INT64_MIN trap; *neg says whether to print '-'. */
static uint64_t magnitude(int64_t v, bool *neg)
{
	*neg = v < 0;
	return v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
}

void kp_format_cpu(int64_t millicores, char *out, size_t n)
{
	if (!out || n == 0)
		return;
	bool neg;
	uint64_t m = magnitude(millicores, &neg);
	const char *sign = neg ? "-" : "";
	if (m < 1000) {
		snprintf(out, n, "%s%llum", sign, (unsigned long long)m);
		return;
	}
	/* cores with at most two decimals, rounded to nearest: reports are
	 * read by people; exact values are in findings.json */
	uint64_t hundredths = (m + 5) / 10;
	uint64_t whole = hundredths / 100, frac = hundredths % 100;
	const char *unit = (whole == 1 && frac == 0) ? "core" : "cores";
	if (frac == 0)
		snprintf(out, n, "%s%llu %s", sign, (unsigned long long)whole, unit);
	else if (frac % 10 == 0)
		snprintf(out, n, "%s%llu.%llu %s", sign, (unsigned long long)whole, (unsigned long long)(frac / 10), unit);
	else
		snprintf(out, n, "%s%llu.%02llu %s", sign, (unsigned long long)whole, (unsigned long long)frac, unit);
}

static const char *const bin_suffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

void kp_format_bytes(int64_t bytes, char *out, size_t n)
{
	if (!out || n == 0)
		return;
	bool neg;
	uint64_t b = magnitude(bytes, &neg);
	const char *sign = neg ? "-" : "";
	if (b < 1024) {
		snprintf(out, n, "%s%llu B", sign, (unsigned long long)b);
		return;
	}
	int k = 1;
	while (k < 6 && b >= ((uint64_t)1 << (10 * (k + 1))))
		k++;
	/* tenths of the unit, rounded to nearest; 1023.96Ki becomes 1Mi */
	unsigned __int128 unit = (unsigned __int128)1 << (10 * k);
	unsigned __int128 tenths = ((unsigned __int128)b * 10 + unit / 2) / unit;
	if (tenths >= 10240 && k < 6) {
		k++;
		unit <<= 10;
		tenths = ((unsigned __int128)b * 10 + unit / 2) / unit;
	}
	unsigned long long whole = (unsigned long long)(tenths / 10), frac = (unsigned long long)(tenths % 10);
	if (frac == 0)
		snprintf(out, n, "%s%llu%s", sign, whole, bin_suffix[k]);
	else
		snprintf(out, n, "%s%llu.%llu%s", sign, whole, frac, bin_suffix[k]);
}

void kp_quantity_format_cpu(int64_t millicores, char *out, size_t n)
{
	if (!out || n == 0)
		return;
	bool neg;
	uint64_t m = magnitude(millicores, &neg);
	const char *sign = neg ? "-" : "";
	if (m % 1000 == 0)
		snprintf(out, n, "%s%llu", sign, (unsigned long long)(m / 1000));
	else
		snprintf(out, n, "%s%llum", sign, (unsigned long long)m);
}

void kp_quantity_format_mem(int64_t bytes, char *out, size_t n)
{
	if (!out || n == 0)
		return;
	bool neg;
	uint64_t b = magnitude(bytes, &neg);
	const char *sign = neg ? "-" : "";
	if (b == 0) {
		snprintf(out, n, "0");
		return;
	}
	/* the largest binary suffix that divides exactly */
	for (int k = 6; k >= 1; k--) {
		uint64_t unit = (uint64_t)1 << (10 * k);
		if (b % unit == 0) {
			snprintf(out, n, "%s%llu%s", sign, (unsigned long long)(b / unit), bin_suffix[k]);
			return;
		}
	}
	/* Not a whole number of KiB: Mi rounded UP, so a memory request
	 * written to a manifest is never below the value computed for it. */
	uint64_t mi = b / (1u << 20) + (b % (1u << 20) != 0);
	/* Within 1Mi of INT64_MAX the rounded-up Mi value no longer fits in
	 * int64 and would not parse back: print the exact byte count. */
	if (mi > (uint64_t)INT64_MAX >> 20) {
		snprintf(out, n, "%s%llu", sign, (unsigned long long)b);
		return;
	}
	snprintf(out, n, "%s%lluMi", sign, (unsigned long long)mi);
}

/* The commit as well as the time: a package build sets __DATE__ and
 * __TIME__ from the changelog (SOURCE_DATE_EPOCH), the same for two builds
 * of one version from different commits. */
#include "commit.h"
const char *kp_quantity_build_stamp(void) { return __DATE__ " " __TIME__ " " KP_COMMIT; }

void kp_format_thousands(unsigned long long v, char *out, size_t n)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%llu", v);
	size_t o = 0;
	for (int i = 0; i < len && o + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = '\0';
}

int64_t kp_quantity_ceil(double v)
{
	if (!(v > 0))
		return 0; /* also NaN */
	if (v >= 9.2e18)
		return INT64_MAX;
	return (int64_t)ceil(v);
}
