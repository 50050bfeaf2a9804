/*
 * test_quantity.c - Kubernetes quantity parsing (exact, rounded up) and the
 * four formatters. Table cases follow k8s.io/apimachinery's own tests.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "pipeline/quantity.h"

typedef struct {
	const char *in;
	int64_t milli;
	int64_t units;
} qcase;

static void check_ok(const qcase *c)
{
	kp_error err = {0};
	int64_t v = -42;
	cr_assert_eq(kp_quantity_milli(c->in, &v, &err), KP_OK, "milli(%s): %s", c->in, err.msg);
	cr_expect_eq(v, c->milli, "milli(%s) = %lld, want %lld", c->in, (long long)v, (long long)c->milli);
	v = -42;
	cr_assert_eq(kp_quantity_units(c->in, &v, &err), KP_OK, "units(%s): %s", c->in, err.msg);
	cr_expect_eq(v, c->units, "units(%s) = %lld, want %lld", c->in, (long long)v, (long long)c->units);
}

Test(quantity_parse, header_examples)
{
	static const qcase cases[] = {
		{"100m", 100, 1},
		{"0.5", 500, 1},
		{"1", 1000, 1},
		{"2", 2000, 2},
		{"512Mi", 536870912000LL, 536870912LL},
		{"1G", 1000000000000LL, 1000000000LL},
		{"1e3", 1000000, 1000},
		{"1.5Gi", 1610612736000LL, 1610612736LL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_ok(&cases[i]);
}

/* Zero in every suffix, and one of each suffix (k8s TestQuantityParse). */
Test(quantity_parse, k8s_suffix_table)
{
	static const qcase cases[] = {
		{"0", 0, 0},        {"0n", 0, 0},        {"0u", 0, 0},         {"0m", 0, 0},
		{"0Ki", 0, 0},      {"0k", 0, 0},        {"0Mi", 0, 0},        {"0M", 0, 0},
		{"0Gi", 0, 0},      {"0G", 0, 0},        {"0Ti", 0, 0},        {"0T", 0, 0},
		{"0Pi", 0, 0},      {"0P", 0, 0},        {"0Ei", 0, 0},        {"0E", 0, 0},
		{"1n", 1, 1},       {"1u", 1, 1},        {"1m", 1, 1},
		{"1Ki", 1024000, 1024},
		{"1k", 1000000, 1000},
		{"1Mi", 1048576000LL, 1048576},
		{"1M", 1000000000LL, 1000000},
		{"1Gi", 1073741824000LL, 1073741824LL},
		{"1Ti", 1099511627776000LL, 1099511627776LL},
		{"1T", 1000000000000000LL, 1000000000000LL},
		{"1Pi", 1125899906842624000LL, 1125899906842624LL},
		{"1P", 1000000000000000000LL, 1000000000000000LL},
		{"1Ei", 0, 0}, /* milli overflows: checked separately below */
		{"1E", 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].in[1] == 'E')
			continue;
		check_ok(&cases[i]);
	}
	kp_error err = {0};
	int64_t v;
	cr_assert_eq(kp_quantity_units("1Ei", &v, &err), KP_OK);
	cr_expect_eq(v, 1152921504606846976LL);
	cr_assert_eq(kp_quantity_units("1E", &v, &err), KP_OK);
	cr_expect_eq(v, 1000000000000000000LL);
	cr_expect_eq(kp_quantity_milli("1Ei", &v, &err), KP_ERR_INPUT);
	cr_expect_eq(kp_quantity_milli("1E", &v, &err), KP_ERR_INPUT);
}

/* Decimal forms, k8s style, including the lenient ".5" and "5." */
Test(quantity_parse, k8s_decimal_forms)
{
	static const qcase cases[] = {
		{".5", 500, 1},
		{"5.", 5000, 5},
		{"+5", 5000, 5},
		{"-0", 0, 0},
		{"000123", 123000, 123},
		{"0.001", 1, 1},
		{"0.0001", 1, 1},
		{"1.1M", 1100000000LL, 1100000},
		{"100.035k", 100035000LL, 100035},
		{"0.5Mi", 524288000LL, 524288},
		{"0.25Ki", 256000, 256},
		{"1.0001Ki", 1024103, 1025}, /* 1024.1024 */
		{"5.Gi", 5368709120000LL, 5368709120LL},
		{".5Gi", 536870912000LL, 536870912LL},
		{"12E6", 12000000000LL, 12000000}, /* E followed by digits is an exponent */
		{"1e+3", 1000000, 1000},
		{"1E-3", 1, 1},
		{"1e-3", 1, 1},
		{"1e-9", 1, 1},
		{"1e-100", 1, 1},
		{"0e100", 0, 0},
		{"1.5e1", 15000, 15},
		{"250m", 250, 1},
		{"1500m", 1500, 2},
		{"1001m", 1001, 2},
		{"999m", 999, 1},
		{"9223372036854775807", 0, 0},
	};
	for (size_t i = 0; i + 1 < sizeof(cases) / sizeof(cases[0]); i++)
		check_ok(&cases[i]);
	kp_error err = {0};
	int64_t v;
	cr_assert_eq(kp_quantity_units("9223372036854775807", &v, &err), KP_OK);
	cr_expect_eq(v, INT64_MAX);
	cr_assert_eq(kp_quantity_units("9.223372036854775807E", &v, &err), KP_OK);
	cr_expect_eq(v, INT64_MAX);
	cr_assert_eq(kp_quantity_units("7Ei", &v, &err), KP_OK);
	cr_expect_eq(v, 8070450532247928832LL);
	cr_assert_eq(kp_quantity_milli("9223372036854775.807", &v, &err), KP_OK);
	cr_expect_eq(v, INT64_MAX);
	cr_assert_eq(kp_quantity_milli("9223372036854775.8061", &v, &err), KP_OK, "%s", err.msg);
	cr_expect_eq(v, INT64_MAX); /* rounds up to exactly the maximum */
}

Test(quantity_parse, rounds_up_never_down)
{
	kp_error err = {0};
	int64_t v;
	cr_assert_eq(kp_quantity_milli("1n", &v, &err), KP_OK);
	cr_expect_eq(v, 1);
	cr_assert_eq(kp_quantity_units("100m", &v, &err), KP_OK);
	cr_expect_eq(v, 1);
	cr_assert_eq(kp_quantity_milli("0.5", &v, &err), KP_OK);
	cr_expect_eq(v, 500);
	/* 0.1 is not representable in binary floating point: still exact */
	cr_assert_eq(kp_quantity_milli("0.1", &v, &err), KP_OK);
	cr_expect_eq(v, 100);
	cr_assert_eq(kp_quantity_milli("0.3", &v, &err), KP_OK);
	cr_expect_eq(v, 300);
	cr_assert_eq(kp_quantity_units("1.000000000000000000000001", &v, &err), KP_OK);
	cr_expect_eq(v, 2);
	cr_assert_eq(kp_quantity_units("0.0000000000000000000000001Ei", &v, &err), KP_OK);
	cr_expect_eq(v, 1);
	cr_assert_eq(kp_quantity_units("2.0000000000000000000000000", &v, &err), KP_OK);
	cr_expect_eq(v, 2);
	/* many digits, exact: 1000000000000000000000000000m = 10^24 units */
	cr_expect_eq(kp_quantity_units("1000000000000000000000000000m", &v, &err), KP_ERR_INPUT);
	cr_assert_eq(kp_quantity_units("1000000000000000000000n", &v, &err), KP_OK);
	cr_expect_eq(v, 1000000000000LL);
}

static void check_err(const char *in, const char *needle)
{
	kp_error err = {0};
	int64_t v = 77;
	kp_status s = kp_quantity_milli(in, &v, &err);
	cr_assert_eq(s, KP_ERR_INPUT, "milli(\"%s\") should fail", in);
	cr_expect_eq(err.status, KP_ERR_INPUT);
	cr_expect(strstr(err.msg, needle) != NULL, "milli(\"%s\"): message \"%s\" lacks \"%s\"", in, err.msg,
		  needle);
	cr_expect_eq(v, 77, "output must be untouched on error");
	s = kp_quantity_units(in, &v, &err);
	cr_assert_eq(s, KP_ERR_INPUT, "units(\"%s\") should fail", in);
}

Test(quantity_parse, errors)
{
	check_err("12Q", "invalid quantity \"12Q\": unknown suffix \"Q\"");
	check_err("", "invalid quantity \"\": empty");
	check_err(" 1", "whitespace");
	check_err("1 ", "whitespace");
	check_err("1 Gi", "whitespace");
	check_err("1\n", "whitespace");
	check_err("1K", "unknown suffix \"K\"");
	check_err("1KiB", "unknown suffix \"KiB\"");
	check_err("1b", "unknown suffix \"b\"");
	check_err("1e", "unknown suffix \"e\"");
	check_err("1e+", "unknown suffix \"e\"");
	check_err("1Gi5", "unexpected characters \"5\" after the suffix");
	check_err("1e3x", "unexpected characters \"x\" after the suffix");
	check_err("1e3Gi", "after the suffix");
	check_err("1%", "unexpected characters \"%\" after the number");
	check_err("1.2.3", "more than one decimal point");
	check_err("1..2", "more than one decimal point");
	check_err("1Gi.5", "more than one decimal point");
	check_err(".", "no digits");
	check_err("+", "no digits");
	check_err("-", "no digits");
	check_err("abc", "no digits");
	check_err("Gi", "no digits");
	check_err("-1", "invalid quantity \"-1\": negative quantity");
	check_err("-100m", "negative quantity");
	check_err("-1Mi", "negative quantity");
	check_err("1e100", "invalid quantity \"1e100\": out of range");
	check_err("1e99999999999999999999999", "out of range");
	check_err("99999999Ei", "out of range");
	check_err("8Ei", "out of range");
	check_err("9223372036854775808", "out of range");
	/* fits in units, not in milli */
	kp_error err = {0};
	int64_t v;
	cr_expect_eq(kp_quantity_milli("9223372036854775807", &v, &err), KP_ERR_INPUT);
	cr_expect(strstr(err.msg, "out of range") != NULL, "%s", err.msg);
}

Test(quantity_parse, error_quotes_are_sanitised)
{
	kp_error err = {0};
	int64_t v;
	cr_assert_eq(kp_quantity_units("1\x01\"", &v, &err), KP_ERR_INPUT);
	cr_expect(strstr(err.msg, "\\x01") != NULL, "%s", err.msg);
	char longs[400];
	memset(longs, '7', sizeof(longs) - 2);
	longs[sizeof(longs) - 2] = 'Q';
	longs[sizeof(longs) - 1] = '\0';
	cr_assert_eq(kp_quantity_units(longs, &v, &err), KP_ERR_INPUT);
	cr_expect(strstr(err.msg, "...") != NULL, "%s", err.msg);
	cr_expect(strlen(err.msg) < 300, "%s", err.msg);
	cr_expect_eq(kp_quantity_units(NULL, &v, &err), KP_ERR_INPUT);
	/* err may be NULL */
	cr_expect_eq(kp_quantity_units("zz", &v, NULL), KP_ERR_INPUT);
}

typedef void (*fmt_fn)(int64_t, char *, size_t);

static void check_fmt(fmt_fn f, const char *name, int64_t in, const char *want)
{
	char out[64];
	memset(out, 'X', sizeof(out));
	f(in, out, sizeof(out));
	cr_expect_str_eq(out, want, "%s(%lld) = \"%s\", want \"%s\"", name, (long long)in, out, want);
}

Test(quantity_format, human_cpu)
{
	check_fmt(kp_format_cpu, "kp_format_cpu", 0, "0m");
	check_fmt(kp_format_cpu, "kp_format_cpu", 250, "250m");
	check_fmt(kp_format_cpu, "kp_format_cpu", 999, "999m");
	check_fmt(kp_format_cpu, "kp_format_cpu", 1000, "1 core");
	check_fmt(kp_format_cpu, "kp_format_cpu", 1500, "1.5 cores");
	check_fmt(kp_format_cpu, "kp_format_cpu", 2000, "2 cores");
	check_fmt(kp_format_cpu, "kp_format_cpu", 1250, "1.25 cores");
	check_fmt(kp_format_cpu, "kp_format_cpu", 1999, "2 cores");
	check_fmt(kp_format_cpu, "kp_format_cpu", 64000, "64 cores");
	check_fmt(kp_format_cpu, "kp_format_cpu", -250, "-250m");
	check_fmt(kp_format_cpu, "kp_format_cpu", -1500, "-1.5 cores");
	check_fmt(kp_format_cpu, "kp_format_cpu", INT64_MIN, "-9223372036854775.81 cores");
}

Test(quantity_format, human_bytes)
{
	check_fmt(kp_format_bytes, "kp_format_bytes", 0, "0 B");
	check_fmt(kp_format_bytes, "kp_format_bytes", 12, "12 B");
	check_fmt(kp_format_bytes, "kp_format_bytes", 1023, "1023 B");
	check_fmt(kp_format_bytes, "kp_format_bytes", 1024, "1Ki");
	check_fmt(kp_format_bytes, "kp_format_bytes", 921600, "900Ki");
	check_fmt(kp_format_bytes, "kp_format_bytes", 536870912, "512Mi");
	check_fmt(kp_format_bytes, "kp_format_bytes", 1610612736, "1.5Gi");
	check_fmt(kp_format_bytes, "kp_format_bytes", 107374182400LL, "100Gi");
	check_fmt(kp_format_bytes, "kp_format_bytes", 1048575, "1Mi"); /* 1023.999Ki */
	check_fmt(kp_format_bytes, "kp_format_bytes", 1000000000, "953.7Mi");
	check_fmt(kp_format_bytes, "kp_format_bytes", 1181116006LL, "1.1Gi");
	check_fmt(kp_format_bytes, "kp_format_bytes", 1152921504606846976LL, "1Ei");
	check_fmt(kp_format_bytes, "kp_format_bytes", INT64_MAX, "8Ei");
	check_fmt(kp_format_bytes, "kp_format_bytes", -536870912, "-512Mi");
}

Test(quantity_format, manifest_cpu)
{
	check_fmt(kp_quantity_format_cpu, "kp_quantity_format_cpu", 0, "0");
	check_fmt(kp_quantity_format_cpu, "kp_quantity_format_cpu", 250, "250m");
	check_fmt(kp_quantity_format_cpu, "kp_quantity_format_cpu", 1000, "1");
	check_fmt(kp_quantity_format_cpu, "kp_quantity_format_cpu", 2000, "2");
	check_fmt(kp_quantity_format_cpu, "kp_quantity_format_cpu", 1500, "1500m");
	check_fmt(kp_quantity_format_cpu, "kp_quantity_format_cpu", 1, "1m");
}

Test(quantity_format, manifest_mem)
{
	check_fmt(kp_quantity_format_mem, "kp_quantity_format_mem", 0, "0");
	check_fmt(kp_quantity_format_mem, "kp_quantity_format_mem", 536870912, "512Mi");
	check_fmt(kp_quantity_format_mem, "kp_quantity_format_mem", 2147483648LL, "2Gi");
	check_fmt(kp_quantity_format_mem, "kp_quantity_format_mem", 1610612736, "1536Mi");
	check_fmt(kp_quantity_format_mem, "kp_quantity_format_mem", 921600, "900Ki");
	check_fmt(kp_quantity_format_mem, "kp_quantity_format_mem", 880803841, "841Mi");
	check_fmt(kp_quantity_format_mem, "kp_quantity_format_mem", 880803840, "840Mi");
	check_fmt(kp_quantity_format_mem, "kp_quantity_format_mem", 1000000000, "954Mi");
	check_fmt(kp_quantity_format_mem, "kp_quantity_format_mem", 1000, "1Mi");
	check_fmt(kp_quantity_format_mem, "kp_quantity_format_mem", 1152921504606846976LL, "1Ei");
	/* rounding up to Mi would not fit in int64: exact bytes instead */
	check_fmt(kp_quantity_format_mem, "kp_quantity_format_mem", INT64_MAX, "9223372036854775807");
	check_fmt(kp_quantity_format_mem, "kp_quantity_format_mem", INT64_MAX - (1 << 20), "8796093022207Mi");
}

/* What the manifest formatters print parses back to at least the input. */
Test(quantity_format, manifest_round_trip_never_below)
{
	/* The last three (found by fuzz_quantity): within 1Mi of INT64_MAX,
	 * rounding up to whole Mi overflowed int64 and did not parse back. */
	static const int64_t mem[] = {1,         1000,          33554432,  880803841, 1000000000, 1610612737,
				      123456789012LL, INT64_MAX, INT64_MAX - 1000, INT64_MAX - (1 << 20)};
	for (size_t i = 0; i < sizeof(mem) / sizeof(mem[0]); i++) {
		char s[64];
		kp_quantity_format_mem(mem[i], s, sizeof(s));
		int64_t back;
		kp_error err = {0};
		cr_assert_eq(kp_quantity_units(s, &back, &err), KP_OK, "%s: %s", s, err.msg);
		cr_expect_geq(back, mem[i], "%s parses to %lld < %lld", s, (long long)back, (long long)mem[i]);
		cr_expect_lt(back - mem[i], 1 << 20);
	}
	static const int64_t cpu[] = {1, 10, 250, 999, 1000, 1001, 123456};
	for (size_t i = 0; i < sizeof(cpu) / sizeof(cpu[0]); i++) {
		char s[64];
		kp_quantity_format_cpu(cpu[i], s, sizeof(s));
		int64_t back;
		kp_error err = {0};
		cr_assert_eq(kp_quantity_milli(s, &back, &err), KP_OK, "%s: %s", s, err.msg);
		cr_expect_eq(back, cpu[i]);
	}
}

Test(quantity_format, truncates_safely)
{
	char small[4];
	kp_format_bytes(1610612736, small, sizeof(small));
	cr_expect_str_eq(small, "1.5");
	kp_quantity_format_mem(536870912, small, 1);
	cr_expect_str_eq(small, "");
	kp_format_cpu(1, NULL, 0); /* must not crash */
}
