/*
 * report_xlsx.c - report.xlsx, the spreadsheet view of findings.json for
 * FinOps reviewers (libxlsxwriter).
 *
 * Owns: kp_render_xlsx() and everything it writes. Four sheets:
 *   Summary   run facts; the breakdown report.md has (cost today, savings
 *             needing no approval, needing approval, reliability fixes, the
 *             net the plan can act on, blocked savings apart: one split,
 *             savings.c); totals by category and by namespace, blocked
 *             savings in a column of their own;
 *   Findings  one row per finding (two lines tall; printed landscape, one
 *             page wide, columns ID to Explanation), sizes in cores/GiB,
 *             the row's prices (=CpuCoreHour etc., or the finding's own
 *             "price" from its node types or StorageClass), cost and savings
 *             as formulas over those sizes and prices;
 *   Prices    the prices used, one input cell each, reachable through the
 *             defined names CpuCoreHour, MemoryGiBHour, StorageGiBMonth,
 *             LoadBalancerHour, HoursPerMonth;
 *   Skipped   workloads deliberately not judged, and why.
 * Every money figure is a formula, so a reviewer who changes a price or a
 * recommended size sees every total follow. Each formula carries a cached
 * value computed here with the same cost model the recommend stage uses, so
 * viewers that never recalculate (previewers, some web viewers) still show
 * the right numbers.
 *
 * Cluster-provided text is data: it is only ever written with
 * worksheet_write_string (a name like "=HYPERLINK(...)" stays text), made
 * valid UTF-8 and cut to Excel's 32767-character cell limit.
 *
 * The file is written to a temp file beside path and renamed into place, so
 * a failed run never leaves a half-written report.xlsx.
 *
 * Memory: the findings json_object stays the caller's; everything allocated
 * here (workbook, scratch buffers, temp path) is freed before returning.
 * The workbook is written in libxlsxwriter's constant_memory mode: a row
 * leaves memory for a temp file when the next row starts, so
 * every sheet is written top to bottom (Summary after Findings is fine:
 * each sheet has its own file), and strings are stored inline rather than
 * in a shared string table.
 */
#include "stages/render/render.h"

#include "pipeline/findings_json.h"
#include "pipeline/money.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "pipeline/fault.h"

/* Height of every Findings data row: two lines of wrapped text. */
#define FINDINGS_ROW_PT 30.0
/* Excel's cell limit is 32767 characters counted in UTF-16 units. */
#define XLSX_CELL_MAX 32767
#define TRUNC_MARK " [truncated]"
#define GIB 1073741824.0
#define NO_NAMESPACE KP_CLUSTER_SCOPED_LABEL

/* Findings sheet columns, in the order a reviewer reads: what and where,
 * what it is worth, what to do and how risky, why (C_ID to C_EXPLANATION:
 * the printed part, see xl_sheet_findings); then the sizes and prices the
 * money formulas use, the command and the evidence. The checker
 * (tests/e2e/check_xlsx.py) finds columns by header text, so the order can
 * change; the headers are the contract. */
enum {
	C_ID,
	C_CATEGORY,
	C_NAMESPACE,
	C_KIND,
	C_NAME,
	C_CONTAINER,
	C_COST,
	C_SAVINGS,
	C_ACTION,
	C_RISK,
	C_CONFIDENCE,
	C_DESTRUCTIVE,
	C_APPROVAL,
	C_BLOCKED,
	C_EXPLANATION, /* the last printed column */
	C_BLOCKED_REASON,
	C_REPLICAS,
	C_REPLICAS_REC,
	C_CPU,
	C_CPU_REC,
	C_MEM,
	C_MEM_REC,
	C_STORAGE,
	C_STORAGE_REC,
	C_NODE_CPU, /* a node finding's priced capacity: a node has no requests of its own */
	C_NODE_MEM,
	C_LB,
	C_RATE_CPU,     /* the row's prices: =CpuCoreHour etc., or the finding's own "price" */
	C_RATE_MEM,
	C_RATE_STORAGE,
	C_COMMAND,
	C_EVIDENCE,
	C_EXPLAINED_BY,
	C_NCOLS
};

typedef struct {
	double cpu_core_hour, memory_gib_hour, storage_gib_month, load_balancer_hour, hours_per_month;
	const char *currency; /* never NULL */
	const char *source;   /* never NULL */
	json_object *rate_sources, *focus; /* findings.json prices.rate_sources / .focus, borrowed; may be NULL */
} xl_prices;

/* One group row of the by-category / by-namespace tables: savings of the
 * actions the plan can take, and blocked savings apart (as report.md). */
typedef struct {
	char *key; /* a copy: the findings are streamed, each freed after its row */
	int count;
	double cost, savings, blocked;
} xl_group;

typedef struct {
	lxw_workbook *wb;
	const char *path; /* the final path, named in every error */
	kp_error *err;
	kp_status status; /* first failure; later writes are skipped */
	kp_buf scratch;   /* cleaned cell text */
	kp_buf visible;   /* cell text with control characters made visible */
	kp_buf formula;
	xl_prices prices;
	lxw_format *title, *h2, *header, *header_num, *label, *text, *wrap, *note, *cores, *gib, *count, *money, *money_bold,
		*count_bold, *price_in, *hours_in, *rate;
} xl_ctx;

/* ---- errors ---- */

/* Out of memory, the file system, or (anything else) a bug of ours such as
 * a bad cell address: libxlsxwriter validates its parameters. */
static kp_status xl_status_of(lxw_error e)
{
	switch (e) {
	case LXW_ERROR_MEMORY_MALLOC_FAILED:
		return KP_ERR_NOMEM;
	case LXW_ERROR_CREATING_XLSX_FILE:
	case LXW_ERROR_CREATING_TMPFILE:
	case LXW_ERROR_READING_TMPFILE:
	case LXW_ERROR_ZIP_FILE_OPERATION:
	case LXW_ERROR_ZIP_PARAMETER_ERROR:
	case LXW_ERROR_ZIP_BAD_ZIP_FILE:
	case LXW_ERROR_ZIP_INTERNAL_ERROR:
	case LXW_ERROR_ZIP_FILE_ADD:
	case LXW_ERROR_ZIP_CLOSE:
		return KP_ERR_IO;
	default:
		return KP_ERR_INTERNAL;
	}
}

static bool xl_ok(xl_ctx *x)
{
	return x->status == KP_OK;
}

/* Records the first libxlsxwriter failure as a kp_error naming the path and
 * the cell, so "report.xlsx: Findings!C7: ..." points at the culprit. */
static void xl_check(xl_ctx *x, lxw_error e, const char *sheet, lxw_row_t row, lxw_col_t col)
{
	if (e == LXW_NO_ERROR || !xl_ok(x))
		return;
	char cell[32];
	lxw_rowcol_to_cell(cell, row, col);
	x->status = kp_fail(x->err, xl_status_of(e),
			    "%s: cannot write spreadsheet cell %s!%s: %s", x->path, sheet, cell, lxw_strerror(e));
}

static void xl_check_what(xl_ctx *x, lxw_error e, const char *what)
{
	if (e == LXW_NO_ERROR || !xl_ok(x))
		return;
	x->status = kp_fail(x->err, xl_status_of(e),
			    "%s: cannot write spreadsheet (%s): %s", x->path, what, lxw_strerror(e));
}

static void xl_fail_input(xl_ctx *x, const char *fmt, const char *field)
{
	if (!xl_ok(x))
		return;
	char what[512];
	snprintf(what, sizeof(what), fmt, field);
	x->status = kp_fail(x->err, KP_ERR_INPUT, "%s: findings document: %s", x->path, what);
}

/* ---- text cleaning ---- */

/* Length of the well-formed UTF-8 sequence at p (1..4), or 0 if malformed. */
static int xl_utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		return (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		unsigned lo = p[0] == 0xE0 ? 0xA0 : 0x80, hi = p[0] == 0xED ? 0x9F : 0xBF;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
	}
	if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		unsigned lo = p[0] == 0xF0 ? 0x90 : 0x80, hi = p[0] == 0xF4 ? 0x8F : 0xBF;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/* Returns s itself when it is valid UTF-8 that fits a cell, else a copy in
 * x->scratch with malformed bytes replaced by U+FFFD and the tail cut (at a
 * character boundary) with a visible marker. Valid until the next call. */
static const char *xl_clean(xl_ctx *x, const char *s)
{
	if (!s)
		return "";
	/* control characters made visible (line breaks stay: evidence cells
	 * have several lines) */
	if (!kp_text_is_plain(s, strlen(s), true)) {
		kp_buf_reset(&x->visible);
		kp_buf_put_visible(&x->visible, s, strlen(s), true);
		s = kp_buf_cstr(&x->visible);
	}
	size_t units = 0;
	bool valid = true;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		int n = xl_utf8_len(p);
		if (n == 0) {
			valid = false;
			n = 1;
		}
		units += n == 4 ? 2 : 1;
		p += n;
	}
	if (valid && units <= XLSX_CELL_MAX)
		return s;

	const size_t budget = units <= XLSX_CELL_MAX ? units : XLSX_CELL_MAX - (sizeof(TRUNC_MARK) - 1);
	kp_buf_reset(&x->scratch);
	size_t used = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		int n = xl_utf8_len(p);
		size_t u = n == 4 ? 2 : 1;
		if (used + u > budget)
			break;
		if (n == 0) {
			kp_buf_add(&x->scratch, "\xEF\xBF\xBD", 3);
			p++;
		} else {
			kp_buf_add(&x->scratch, (const char *)p, (size_t)n);
			p += n;
		}
		used += u;
	}
	if (units > XLSX_CELL_MAX)
		kp_buf_puts(&x->scratch, TRUNC_MARK);
	return kp_buf_cstr(&x->scratch);
}

/* ---- cell writers: every one is a no-op after the first failure ---- */

static void xl_str(xl_ctx *x, lxw_worksheet *ws, const char *sheet, lxw_row_t r, lxw_col_t c, const char *s,
		   lxw_format *f)
{
	if (!xl_ok(x))
		return;
	const char *t = xl_clean(x, s);
	/* libxlsxwriter rejects "" with a warning on stderr; a blank cell with
	 * the same format is what a reviewer sees anyway. */
	xl_check(x, *t ? worksheet_write_string(ws, r, c, t, f) : worksheet_write_blank(ws, r, c, f), sheet, r, c);
}

static void xl_num(xl_ctx *x, lxw_worksheet *ws, const char *sheet, lxw_row_t r, lxw_col_t c, double v,
		   lxw_format *f)
{
	if (xl_ok(x))
		xl_check(x, worksheet_write_number(ws, r, c, v, f), sheet, r, c);
}

static void xl_blank(xl_ctx *x, lxw_worksheet *ws, const char *sheet, lxw_row_t r, lxw_col_t c, lxw_format *f)
{
	if (xl_ok(x))
		xl_check(x, worksheet_write_blank(ws, r, c, f), sheet, r, c);
}

/* Formula from our own printf format, never from cluster text. */
static void xl_formula(xl_ctx *x, lxw_worksheet *ws, const char *sheet, lxw_row_t r, lxw_col_t c, double cached,
		       lxw_format *f, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void xl_formula(xl_ctx *x, lxw_worksheet *ws, const char *sheet, lxw_row_t r, lxw_col_t c, double cached,
		       lxw_format *f, const char *fmt, ...)
{
	if (!xl_ok(x))
		return;
	kp_buf_reset(&x->formula);
	va_list ap;
	va_start(ap, fmt);
	kp_buf_vprintf(&x->formula, fmt, ap);
	va_end(ap);
	xl_check(x, worksheet_write_formula_num(ws, r, c, kp_buf_cstr(&x->formula), f, cached), sheet, r, c);
}

static void xl_col(xl_ctx *x, lxw_worksheet *ws, lxw_col_t c, double width, lxw_format *f)
{
	if (xl_ok(x))
		xl_check_what(x, worksheet_set_column(ws, c, c, width, f), "column width");
}

/* Lines a wrapped cell `width` characters wide needs. Row heights are set
 * from this because LibreOffice keeps the default height for rows of xlsx
 * files it did not write, so wrapped text would overlap the next row. An
 * estimate (a character is about one width unit; long words waste a bit). */
static unsigned xl_wrapped_lines(const char *s, double width)
{
	size_t per = width > 2 ? (size_t)(width - 1) : 1, lines = 0, run = 0;
	for (const unsigned char *p = (const unsigned char *)s;; p++) {
		if (*p == '\n' || *p == '\0') {
			lines += run == 0 ? 1 : (run + per - 1) / per;
			run = 0;
			if (*p == '\0' || lines > 100)
				break;
		} else if ((*p & 0xC0) != 0x80) {
			run++;
		}
	}
	return (unsigned)lines;
}

/* Sets a row tall enough for `lines` lines (Excel's maximum is 409 pt). */
static void xl_row_lines(xl_ctx *x, lxw_worksheet *ws, lxw_row_t r, unsigned lines)
{
	if (lines > 1 && xl_ok(x))
		xl_check_what(x, worksheet_set_row(ws, r, lines * 15.0 > 409 ? 409 : lines * 15.0, NULL), "row height");
}

/* A1-style reference of a cell ("Q7"); out needs 16 bytes. */
static void xl_ref(char out[16], lxw_row_t r, lxw_col_t c)
{
	lxw_rowcol_to_cell(out, r, c);
}

/* Column letters only ("Q"); out needs 8 bytes. */
static void xl_colname(char out[8], lxw_col_t c)
{
	lxw_col_to_name(out, c, 0);
}

/* ---- reading the findings document ---- */

static const char *js(json_object *o, const char *dotted)
{
	const char *s = kp_json_str(o, dotted);
	return s ? s : "";
}

static bool js_is_number(json_object *v)
{
	return json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int);
}

/* A size key: absent (or null) counts as 0, or `dflt` for replicas. */
static double xl_size(xl_ctx *x, json_object *sizes, const char *key, double dflt, size_t idx, const char *which)
{
	json_object *v = NULL;
	if (!sizes || !json_object_object_get_ex(sizes, key, &v) || v == NULL)
		return dflt;
	if (!js_is_number(v)) {
		char field[160];
		snprintf(field, sizeof(field), "findings[%zu].%s.%s", idx, which, key);
		xl_fail_input(x, "%s: not a number", field);
		return dflt;
	}
	return json_object_get_double(v);
}

typedef struct {
	bool present;
	double replicas; /* NAN when the key is absent (blank cell, counts as 1) */
	double cpu_cores, mem_gib, storage_gib, load_balancers;
} xl_sizes;

static xl_sizes xl_read_sizes(xl_ctx *x, json_object *sizes, size_t idx, const char *which)
{
	xl_sizes s = { 0 };
	s.present = json_object_is_type(sizes, json_type_object);
	if (!s.present)
		return s;
	json_object *rep = NULL;
	bool has_replicas = json_object_object_get_ex(sizes, "replicas", &rep) && rep;
	s.replicas = has_replicas ? xl_size(x, sizes, "replicas", 1, idx, which) : NAN;
	s.cpu_cores = xl_size(x, sizes, "cpu_request_millicores", 0, idx, which) / 1000.0;
	s.mem_gib = xl_size(x, sizes, "memory_request_bytes", 0, idx, which) / GIB;
	s.storage_gib = xl_size(x, sizes, "storage_bytes", 0, idx, which) / GIB;
	s.load_balancers = 0; /* a finding-level field: set by the caller for "current" */
	return s;
}


static double xl_price(xl_ctx *x, json_object *doc, const char *key)
{
	char field[64];
	snprintf(field, sizeof(field), "prices.%s", key);
	json_object *v = kp_json_get(doc, field);
	if (!js_is_number(v)) {
		xl_fail_input(x, "%s: missing or not a number", field);
		return 0;
	}
	return json_object_get_double(v);
}

static const char *xl_namespace(json_object *finding_or_skip)
{
	const char *ns = kp_json_str(finding_or_skip, "resource.namespace");
	return ns && *ns ? ns : NO_NAMESPACE;
}

/* Adds to the group named key (linear search: a report has a handful of
 * categories and namespaces). */
static void xl_group_add(xl_group *g, size_t *n, const char *key, double cost, double savings, bool blocked)
{
	size_t i = 0;
	while (i < *n && strcmp(g[i].key, key) != 0)
		i++;
	if (i == *n) {
		g[i] = (xl_group){ kp_xstrdup(key), 0, 0, 0, 0 };
		(*n)++;
	}
	g[i].count++;
	g[i].cost += cost;
	if (blocked)
		g[i].blocked += savings;
	else
		g[i].savings += savings;
}

/* Biggest savings first, then by name, so the table reads like a to-do list. */
static int xl_group_cmp(const void *a, const void *b)
{
	const xl_group *x = a, *y = b;
	if (x->savings != y->savings)
		return x->savings > y->savings ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* "2026-11-25T06:00:00Z" -> "2026-11-25 06:00 UTC"; unparsable text as is. */
static void xl_when(const char *rfc3339, char out[40])
{
	int64_t t;
	if (!rfc3339 || !kp_time_parse(rfc3339, &t)) {
		snprintf(out, 40, "%s", rfc3339 ? rfc3339 : "");
		return;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 40, "%Y-%m-%d %H:%M UTC", &tm);
}

/* ---- formats ---- */

static lxw_format *xl_fmt(xl_ctx *x)
{
	lxw_format *f = workbook_add_format(x->wb);
	if (!f && xl_ok(x))
		x->status = kp_fail(x->err, KP_ERR_NOMEM, "%s: cannot write spreadsheet: out of memory", x->path);
	return f;
}

static bool xl_formats(xl_ctx *x)
{
	const char *cur = x->prices.currency;
	char money[96], price[96];
	kp_money_excel_format(cur, false, money, sizeof(money));
	kp_money_excel_format(cur, true, price, sizeof(price));

	lxw_format **all[] = { &x->title, &x->h2,	  &x->header,	  &x->header_num, &x->label, &x->text,
			       &x->wrap,  &x->note,	  &x->cores,	  &x->gib,	  &x->count, &x->money,
			       &x->money_bold, &x->count_bold, &x->price_in, &x->hours_in, &x->rate };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!(*all[i] = xl_fmt(x)))
			return false;
		format_set_align(*all[i], LXW_ALIGN_VERTICAL_TOP);
	}
	format_set_bold(x->title);
	format_set_font_size(x->title, 16);
	format_set_bold(x->h2);
	format_set_font_size(x->h2, 12);
	format_set_bold(x->header);
	format_set_text_wrap(x->header);
	format_set_bg_color(x->header, 0xD9E1F2);
	format_set_bottom(x->header, LXW_BORDER_THIN);
	/* Headers of number columns sit right, over their numbers. */
	format_set_bold(x->header_num);
	format_set_text_wrap(x->header_num);
	format_set_bg_color(x->header_num, 0xD9E1F2);
	format_set_bottom(x->header_num, LXW_BORDER_THIN);
	format_set_align(x->header_num, LXW_ALIGN_RIGHT);
	format_set_bold(x->label);
	format_set_text_wrap(x->wrap);
	format_set_italic(x->note);
	format_set_font_color(x->note, 0x595959);
	format_set_num_format(x->cores, "0.000");
	format_set_num_format(x->gib, "0.00");
	format_set_num_format(x->count, "0");
	format_set_num_format(x->count_bold, "0");
	format_set_bold(x->count_bold);
	format_set_num_format(x->money, money);
	format_set_num_format(x->money_bold, money);
	format_set_bold(x->money_bold);
	/* Inputs: unlocked on a protected sheet and highlighted, the usual
	 * spreadsheet convention for "type here". */
	lxw_format *inputs[] = { x->price_in, x->hours_in };
	for (size_t i = 0; i < 2; i++) {
		format_set_unlocked(inputs[i]);
		format_set_bg_color(inputs[i], 0xFFF2CC);
		format_set_border(inputs[i], LXW_BORDER_THIN);
		format_set_border_color(inputs[i], 0xBF9000);
	}
	format_set_num_format(x->price_in, price);
	format_set_num_format(x->rate, price);
	format_set_num_format(x->hours_in, "General");
	return xl_ok(x);
}

/* ---- sheets ---- */

static const char *const SH_SUMMARY = "Summary", *const SH_FINDINGS = "Findings", *const SH_PRICES = "Prices",
		  *const SH_SKIPPED = "Skipped";

/* Prices sheet rows (0-based) of each input; the defined names point here. */
enum { P_HEADER = 3, P_CPU, P_MEM, P_STORAGE, P_LB, P_HOURS, P_CURRENCY };

static const char *xl_or(const char *s, const char *dflt) { return s ? s : dflt; }

/* "Price sources": every specific rate and the global ones, where each came
 * from and what it rests on (findings.json prices.rate_sources), and the
 * FOCUS export when one was read. Shown only when some rate is specific. */
static lxw_row_t xl_price_sources(xl_ctx *x, lxw_worksheet *ws, lxw_row_t r)
{
	const char *S = SH_PRICES;
	json_object *rs = x->prices.rate_sources;
	size_t n = json_object_is_type(rs, json_type_array) ? json_object_array_length(rs) : 0;
	bool specific = false;
	for (size_t i = 0; i < n; i++)
		specific |= strcmp(xl_or(kp_json_str(json_object_array_get_idx(rs, i), "kind"), ""), "global") != 0;
	if (!specific && !x->prices.focus)
		return r;
	r++;
	xl_str(x, ws, S, r++, 0, "Price sources", x->h2);
	json_object *fo = x->prices.focus;
	if (fo) {
		char line[1024];
		snprintf(line, sizeof(line),
			 "FOCUS cost export %.600s, %s to %s: %lld rows, %lld usage rows, %lld matched to the cluster's "
			 "nodes and volumes",
			 xl_or(kp_json_str(fo, "file"), "?"), xl_or(kp_json_str(fo, "period_start"), "?"),
			 xl_or(kp_json_str(fo, "period_end"), "?"), (long long)json_object_get_int64(kp_json_get(fo, "rows")),
			 (long long)json_object_get_int64(kp_json_get(fo, "usage_rows")),
			 (long long)json_object_get_int64(kp_json_get(fo, "matched_rows")));
		xl_str(x, ws, S, r++, 0, line, x->note);
	}
	const char *hdr[] = { "Price of", "Rate", "Unit", "Source", "Based on" };
	for (lxw_col_t c = 0; c < 5; c++)
		xl_str(x, ws, S, r, c, hdr[c], x->header);
	r++;
	for (size_t i = 0; i < n && xl_ok(x); i++, r++) {
		json_object *e = json_object_array_get_idx(rs, i);
		const char *kind = xl_or(kp_json_str(e, "kind"), ""), *name = xl_or(kp_json_str(e, "name"), "");
		char what[300], unit[96];
		snprintf(what, sizeof(what), "%s %s%s",
			 strcmp(kind, "node_type") == 0 ? "Instance type" : strcmp(kind, "storage_class") == 0 ? "StorageClass"
														   : "Global",
			 name, json_object_get_boolean(kp_json_get(e, "spot")) ? " (spot)" : "");
		snprintf(unit, sizeof(unit), "%s per %s", x->prices.currency, xl_or(kp_json_str(e, "unit"), ""));
		xl_str(x, ws, S, r, 0, what, x->label);
		json_object *rate = kp_json_get(e, "rate");
		if (rate)
			xl_num(x, ws, S, r, 1, json_object_get_double(rate), x->rate);
		else
			xl_str(x, ws, S, r, 1, "none", x->text);
		xl_str(x, ws, S, r, 2, unit, x->text);
		xl_str(x, ws, S, r, 3, xl_or(kp_json_str(e, "source"), ""), x->text);
		xl_str(x, ws, S, r, 4, xl_or(kp_json_str(e, "basis"), ""), x->text);
	}
	return r;
}

static void xl_sheet_prices(xl_ctx *x, lxw_worksheet *ws)
{
	const char *S = SH_PRICES;
	const xl_prices *p = &x->prices;
	char unit[5][64];
	snprintf(unit[0], 64, "%s per CPU core-hour requested", p->currency);
	snprintf(unit[1], 64, "%s per GiB-hour of memory requested", p->currency);
	snprintf(unit[2], 64, "%s per GiB-month of storage", p->currency);
	snprintf(unit[3], 64, "%s per load balancer-hour", p->currency);
	snprintf(unit[4], 64, "hours in a billing month");
	const struct {
		const char *label, *name;
		double value;
	} rows[] = {
		{ "CPU", "CpuCoreHour", p->cpu_core_hour },
		{ "Memory", "MemoryGiBHour", p->memory_gib_hour },
		{ "Storage", "StorageGiBMonth", p->storage_gib_month },
		{ "Load balancer", "LoadBalancerHour", p->load_balancer_hour },
		{ "Hours per month", "HoursPerMonth", p->hours_per_month },
	};

	xl_col(x, ws, 0, 18, NULL);
	xl_col(x, ws, 1, 16, NULL);
	xl_col(x, ws, 2, 36, NULL);
	xl_col(x, ws, 3, 32, NULL);
	xl_col(x, ws, 4, 20, NULL);
	if (xl_ok(x))
		xl_check_what(x, worksheet_set_row(ws, 0, 24, NULL), "title row");
	xl_str(x, ws, S, 0, 0, "Prices used for every cost and savings figure", x->title);
	xl_str(x, ws, S, 1, 0,
	       "Change a price (yellow cells) and every cost and savings figure in this workbook recomputes.",
	       x->note);
	const char *hdr[] = { "Price", "Value", "Unit", "Source", "Name in formulas" };
	for (lxw_col_t c = 0; c < 5; c++)
		xl_str(x, ws, S, P_HEADER, c, hdr[c], x->header);
	char src[160];
	snprintf(src, sizeof(src), "%s%s", p->source,
		 strcmp(p->source, "default") == 0 ? " (OpenCost list prices)" : "");
	for (lxw_row_t i = 0; i < 5; i++) {
		lxw_row_t r = P_CPU + i;
		xl_str(x, ws, S, r, 0, rows[i].label, x->label);
		xl_num(x, ws, S, r, 1, rows[i].value, r == P_HOURS ? x->hours_in : x->price_in);
		xl_str(x, ws, S, r, 2, unit[i], x->text);
		xl_str(x, ws, S, r, 3, src, x->text);
		xl_str(x, ws, S, r, 4, rows[i].name, x->text);
		if (!xl_ok(x))
			return;
		char target[48];
		snprintf(target, sizeof(target), "=%s!$B$%u", S, (unsigned)r + 1);
		xl_check_what(x, workbook_define_name(x->wb, rows[i].name, target), rows[i].name);
	}
	xl_str(x, ws, S, P_CURRENCY, 0, "Currency", x->label);
	xl_str(x, ws, S, P_CURRENCY, 1, p->currency, x->text);
	xl_str(x, ws, S, P_CURRENCY, 2, "all money figures in this workbook", x->text);

	lxw_row_t r = P_CURRENCY + 2;
	xl_str(x, ws, S, r++, 0, "How a finding's monthly cost is computed", x->h2);
	xl_str(x, ws, S, r++, 0,
	       "replicas x (CPU cores x CpuCoreHour + memory GiB x MemoryGiBHour) x HoursPerMonth", x->text);
	xl_str(x, ws, S, r++, 0, "+ storage GiB x StorageGiBMonth + load balancers x LoadBalancerHour x HoursPerMonth",
	       x->text);
	xl_str(x, ws, S, r++, 0,
	       "+ (node CPU cores x CpuCoreHour + node memory GiB x MemoryGiBHour) x HoursPerMonth", x->text);
	xl_str(x, ws, S, r++, 0,
	       "Sizes are requests from the Findings sheet; a blank size counts as 0, blank replicas as 1.", x->note);
	xl_str(x, ws, S, r++, 0,
	       "A node has no requests of its own: a node row is priced at its capacity (the Node CPU and memory "
	       "capacity columns; allocatable when its status has none).",
	       x->note);
	xl_str(x, ws, S, r++, 0,
	       "Each Findings row has its own CPU, memory and storage price columns: =CpuCoreHour etc. by default, "
	       "or the finding's specific price (its node types or StorageClass, see its evidence).",
	       x->note);
	xl_str(x, ws, S, r++, 0,
	       "Monthly savings = cost with today's sizes - cost with the recommended sizes "
	       "(the whole cost when nothing is recommended, e.g. a delete).",
	       x->note);
	r = xl_price_sources(x, ws, r);

	/* Protection without a password: it only guards labels against slips;
	 * the yellow inputs stay editable. */
	lxw_protection prot = { 0 };
	prot.format_columns = 1;
	if (xl_ok(x))
		worksheet_protect(ws, NULL, &prot);
	worksheet_set_tab_color(ws, 0xFFC000);
	worksheet_set_landscape(ws);
	worksheet_fit_to_pages(ws, 1, 1);
}

static const struct {
	const char *header;
	double width;
} FINDINGS_COLS[C_NCOLS] = {
	[C_ID] = { "ID", 17 },
	[C_CATEGORY] = { "Category", 19 },
	[C_NAMESPACE] = { "Namespace", 14 },
	[C_KIND] = { "Kind", 21 },
	[C_NAME] = { "Name", 26 },
	[C_CONTAINER] = { "Container", 11 },
	[C_REPLICAS] = { "Replicas", 9 },
	[C_REPLICAS_REC] = { "Replicas recommended", 13 },
	[C_CPU] = { "CPU request now (cores)", 11 },
	[C_CPU_REC] = { "CPU request recommended (cores)", 13 },
	[C_MEM] = { "Memory request now (GiB)", 12 },
	[C_MEM_REC] = { "Memory recommended (GiB)", 13 },
	[C_STORAGE] = { "Storage (GiB)", 10 },
	[C_STORAGE_REC] = { "Storage recommended (GiB)", 13 },
	[C_NODE_CPU] = { "Node CPU capacity (cores)", 11 },
	[C_NODE_MEM] = { "Node memory capacity (GiB)", 12 },
	[C_LB] = { "Load balancers", 10 },
	[C_RATE_CPU] = { "CPU price (per core-hour)", 12 },
	[C_RATE_MEM] = { "Memory price (per GiB-hour)", 12 },
	[C_RATE_STORAGE] = { "Storage price (per GiB-month)", 12 },
	[C_COST] = { NULL, 14 },    /* "Monthly cost (CUR)", built at run time */
	[C_SAVINGS] = { NULL, 14 }, /* "Monthly savings (CUR)" */
	[C_CONFIDENCE] = { "Confidence", 11 },
	[C_RISK] = { "Risk", 9 },
	[C_ACTION] = { "Action", 10 },
	[C_DESTRUCTIVE] = { "Destructive", 11 },
	[C_APPROVAL] = { "Approval required", 10 },
	[C_BLOCKED] = { "Blocked", 8 },
	[C_BLOCKED_REASON] = { "Blocked reason", 22 },
	[C_COMMAND] = { "Command", 48 },
	[C_EXPLANATION] = { "Explanation", 60 },
	[C_EVIDENCE] = { "Evidence", 55 },
	[C_EXPLAINED_BY] = { "Explained by", 12 },
};

static void xl_bool(xl_ctx *x, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, json_object *f, const char *dotted)
{
	json_object *v = kp_json_get(f, dotted);
	xl_str(x, ws, SH_FINDINGS, r, c, json_object_get_boolean(v) ? "yes" : "no", x->text);
}

/* Size cell: blank when the key is absent, so the reviewer sees "not set"
 * rather than 0 (the formulas treat blank as 0, replicas as 1). */
static void xl_size_cell(xl_ctx *x, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, bool present, json_object *sizes,
			 const char *key, double v, lxw_format *f)
{
	json_object *raw = NULL;
	if (present && json_object_object_get_ex(sizes, key, &raw) && raw)
		xl_num(x, ws, SH_FINDINGS, r, c, v, f);
	else
		xl_blank(x, ws, SH_FINDINGS, r, c, f);
}

/* The Findings sheet: its header row, one row per finding as they come
 * (xl_finding_row, in findings.json order), then the sheet's settings. */
static void xl_findings_header(xl_ctx *x, lxw_worksheet *ws)
{
	const char *S = SH_FINDINGS;
	char money_hdr[2][64];
	snprintf(money_hdr[0], sizeof(money_hdr[0]), "Monthly cost (%s)", x->prices.currency);
	snprintf(money_hdr[1], sizeof(money_hdr[1]), "Monthly savings (%s)", x->prices.currency);

	for (lxw_col_t c = 0; c < C_NCOLS; c++) {
		const char *h = c == C_COST ? money_hdr[0] : c == C_SAVINGS ? money_hdr[1] : FINDINGS_COLS[c].header;
		lxw_format *colf = c == C_EXPLANATION || c == C_EVIDENCE || c == C_COMMAND || c == C_BLOCKED_REASON
					   ? x->wrap
					   : NULL;
		xl_col(x, ws, c, FINDINGS_COLS[c].width, colf);
		bool numeric = c == C_COST || c == C_SAVINGS || (c >= C_REPLICAS && c <= C_RATE_STORAGE);
		xl_str(x, ws, S, 0, c, h, numeric ? x->header_num : x->header);
	}
	if (xl_ok(x))
		xl_check_what(x, worksheet_set_row(ws, 0, 45, NULL), "header row");
}

/* Row i + 1 of the Findings sheet: finding i; its money goes to the
 * category and namespace groups of the Summary. */
static void xl_finding_row(xl_ctx *x, lxw_worksheet *ws, json_object *f, size_t i, xl_group *cats, size_t *ncats,
			   xl_group *nss, size_t *nns, kp_buf *evb)
{
	const char *S = SH_FINDINGS;
	char ref[C_NCOLS][8];
	for (lxw_col_t c = 0; c < C_NCOLS; c++)
		xl_colname(ref[c], c);
	if (!xl_ok(x))
		return;
	if (!json_object_is_type(f, json_type_object)) {
		char field[32];
		snprintf(field, sizeof(field), "findings[%zu]", i);
		xl_fail_input(x, "%s: not an object", field);
		return;
	}
	lxw_row_t r = (lxw_row_t)(i + 1);
	unsigned xr = (unsigned)r + 1; /* Excel row number in formulas */
	json_object *cur_o = kp_json_get(f, "current"), *rec_o = kp_json_get(f, "recommended");
	xl_sizes cur = xl_read_sizes(x, cur_o, i, "current");
	xl_sizes rec = xl_read_sizes(x, rec_o, i, "recommended");
	if (!cur.present) {
		/* The schema requires current; an absent one costs nothing. */
		cur.present = true;
		cur.replicas = NAN;
	}
	cur.load_balancers = xl_size(x, f, "load_balancers", 0, i, "finding");
	/* The row's rates: the finding's own "price" (node types,
	 * StorageClass) where it has one, else the Prices sheet's. */
	xl_prices rp = x->prices;
	json_object *price = kp_json_get(f, "price");
	const struct {
		lxw_col_t col;
		const char *key, *name;
		double *dst;
	} rates[] = {
		{ C_RATE_CPU, "cpu_core_hour", "CpuCoreHour", &rp.cpu_core_hour },
		{ C_RATE_MEM, "memory_gib_hour", "MemoryGiBHour", &rp.memory_gib_hour },
		{ C_RATE_STORAGE, "storage_gib_month", "StorageGiBMonth", &rp.storage_gib_month },
	};
	bool specific[3];
	for (size_t k = 0; k < 3; k++) {
		json_object *v = kp_json_get(price, rates[k].key);
		specific[k] = js_is_number(v);
		if (specific[k])
			*rates[k].dst = json_object_get_double(v);
	}
	/* Cached values are findings.json's own figures (pipeline/money.c,
	 * the one money path); the formulas beside them recompute the
	 * same cost model from the cells, so they agree to the cent. */
	double cost = xl_size(x, f, "monthly_cost", 0, i, "finding");
	double savings = xl_size(x, f, "monthly_savings", 0, i, "finding");

	xl_str(x, ws, S, r, C_ID, js(f, "id"), x->text);
	xl_str(x, ws, S, r, C_CATEGORY, js(f, "category"), x->text);
	xl_str(x, ws, S, r, C_NAMESPACE, xl_namespace(f), x->text);
	xl_str(x, ws, S, r, C_KIND, js(f, "resource.kind"), x->text);
	xl_str(x, ws, S, r, C_NAME, js(f, "resource.name"), x->text);
	xl_str(x, ws, S, r, C_CONTAINER, js(f, "container"), x->text);

	xl_size_cell(x, ws, r, C_REPLICAS, cur.present, cur_o, "replicas", cur.replicas, x->count);
	xl_size_cell(x, ws, r, C_REPLICAS_REC, rec.present, rec_o, "replicas", rec.replicas, x->count);
	xl_size_cell(x, ws, r, C_CPU, true, cur_o, "cpu_request_millicores", cur.cpu_cores, x->cores);
	xl_size_cell(x, ws, r, C_CPU_REC, rec.present, rec_o, "cpu_request_millicores", rec.cpu_cores,
		     x->cores);
	xl_size_cell(x, ws, r, C_MEM, true, cur_o, "memory_request_bytes", cur.mem_gib, x->gib);
	xl_size_cell(x, ws, r, C_MEM_REC, rec.present, rec_o, "memory_request_bytes", rec.mem_gib, x->gib);
	xl_size_cell(x, ws, r, C_STORAGE, true, cur_o, "storage_bytes", cur.storage_gib, x->gib);
	xl_size_cell(x, ws, r, C_STORAGE_REC, rec.present, rec_o, "storage_bytes", rec.storage_gib, x->gib);
	/* A node is priced at its capacity (allocatable when its status
	 * has none), as pipeline/money.c does; other rows leave these blank. */
	json_object *node = kp_json_get(f, "node");
	const char *node_keys[2][2] = { { "cpu_capacity_millicores", "cpu_allocatable_millicores" },
					{ "memory_capacity_bytes", "memory_allocatable_bytes" } };
	for (int k = 0; k < 2; k++) {
		double v = xl_size(x, node, node_keys[k][0], 0, i, "node");
		if (v <= 0)
			v = xl_size(x, node, node_keys[k][1], 0, i, "node");
		if (json_object_is_type(node, json_type_object))
			xl_num(x, ws, S, r, k ? C_NODE_MEM : C_NODE_CPU, k ? v / GIB : v / 1000.0, k ? x->gib : x->cores);
		else
			xl_blank(x, ws, S, r, k ? C_NODE_MEM : C_NODE_CPU, k ? x->gib : x->cores);
	}
	xl_num(x, ws, S, r, C_LB, cur.load_balancers, x->count);
	for (size_t k = 0; k < 3; k++) {
		if (specific[k])
			xl_num(x, ws, S, r, rates[k].col, *rates[k].dst, x->rate);
		else
			xl_formula(x, ws, S, r, rates[k].col, *rates[k].dst, x->rate, "=%s", rates[k].name);
	}

	/* Blank replicas count as 1 (the cost model's rule); blank sizes
	 * are 0 in arithmetic, so an all-blank recommendation costs 0 and
	 * savings equal the cost, as for a null recommendation. */
	xl_formula(x, ws, S, r, C_COST, cost, x->money,
		   "=IF(%s%u=\"\",1,%s%u)*(%s%u*%s%u+%s%u*%s%u)*HoursPerMonth"
		   "+(%s%u*%s%u+%s%u*%s%u)*HoursPerMonth"
		   "+%s%u*%s%u+%s%u*LoadBalancerHour*HoursPerMonth",
		   ref[C_REPLICAS], xr, ref[C_REPLICAS], xr, ref[C_CPU], xr, ref[C_RATE_CPU], xr, ref[C_MEM], xr,
		   ref[C_RATE_MEM], xr, ref[C_NODE_CPU], xr, ref[C_RATE_CPU], xr, ref[C_NODE_MEM], xr,
		   ref[C_RATE_MEM], xr, ref[C_STORAGE], xr, ref[C_RATE_STORAGE], xr, ref[C_LB], xr);
	xl_formula(x, ws, S, r, C_SAVINGS, savings, x->money,
		   "=%s%u-(IF(%s%u=\"\",1,%s%u)*(%s%u*%s%u+%s%u*%s%u)*HoursPerMonth"
		   "+%s%u*%s%u)",
		   ref[C_COST], xr, ref[C_REPLICAS_REC], xr, ref[C_REPLICAS_REC], xr, ref[C_CPU_REC], xr,
		   ref[C_RATE_CPU], xr, ref[C_MEM_REC], xr, ref[C_RATE_MEM], xr, ref[C_STORAGE_REC], xr,
		   ref[C_RATE_STORAGE], xr);

	xl_str(x, ws, S, r, C_CONFIDENCE, js(f, "confidence"), x->text);
	xl_str(x, ws, S, r, C_RISK, js(f, "risk"), x->text);
	xl_str(x, ws, S, r, C_ACTION, js(f, "action.type"), x->text);
	xl_bool(x, ws, r, C_DESTRUCTIVE, f, "action.destructive");
	xl_bool(x, ws, r, C_APPROVAL, f, "action.approval_required");
	xl_bool(x, ws, r, C_BLOCKED, f, "action.blocked");
	xl_str(x, ws, S, r, C_BLOCKED_REASON, js(f, "action.blocked_reason"), x->wrap);
	xl_str(x, ws, S, r, C_COMMAND, js(f, "action.command"), x->wrap);
	xl_str(x, ws, S, r, C_EXPLANATION, js(f, "explanation"), x->wrap);

	kp_buf_reset(evb);
	json_object *evl = kp_json_get(f, "evidence");
	size_t nev = json_object_is_type(evl, json_type_array) ? json_object_array_length(evl) : 0;
	for (size_t k = 0; k < nev; k++) {
		const char *sum = kp_json_str(json_object_array_get_idx(evl, k), "summary");
		if (!sum || !*sum)
			continue;
		if (evb->len)
			kp_buf_putc(evb, '\n');
		kp_buf_puts(evb, sum);
	}
	xl_str(x, ws, S, r, C_EVIDENCE, kp_buf_cstr(evb), x->wrap);
	xl_str(x, ws, S, r, C_EXPLAINED_BY, js(f, "explained_by"), x->text);

	/* Every row the same moderate height: long texts show their first
	 * lines (the whole text is in the cell), so a sorted or filtered
	 * sheet stays a list one can scan, and it prints in a few pages
	 * instead of rows 135-195 pt tall. */
	if (xl_ok(x))
		xl_check_what(x, worksheet_set_row(ws, r, FINDINGS_ROW_PT, NULL), "row height");

	bool blocked = kp_savings_bucket_of(f) == KP_BUCKET_BLOCKED;
	xl_group_add(cats, ncats, js(f, "category"), cost, savings, blocked);
	xl_group_add(nss, nns, xl_namespace(f), cost, savings, blocked);
}

static void xl_findings_footer(xl_ctx *x, lxw_worksheet *ws, size_t n)
{
	if (!xl_ok(x))
		return;
	worksheet_freeze_panes(ws, 1, 0);
	xl_check_what(x, worksheet_autofilter(ws, 0, 0, (lxw_row_t)(n > 0 ? n : 1), C_NCOLS - 1), "autofilter");
	xl_check_what(x, worksheet_repeat_rows(ws, 0, 0), "print titles");
	/* Printed: the reviewer's columns (ID to Explanation), landscape, one
	 * page wide, the header row on every page, gridlines to follow a row
	 * across. The sizes, prices, commands and evidence after them are the
	 * formulas' inputs, read on screen: fitting all 30-odd columns to a
	 * page width would print them unreadably small. Paper size is left to
	 * the printer's default (A4 or Letter by locale); both fit. */
	xl_check_what(x, worksheet_print_area(ws, 0, 0, (lxw_row_t)(n > 0 ? n : 1), C_EXPLANATION), "print area");
	worksheet_set_landscape(ws);
	worksheet_fit_to_pages(ws, 1, 0);
	worksheet_set_margins(ws, 0.4, 0.4, 0.6, 0.6);
	worksheet_gridlines(ws, LXW_SHOW_ALL_GRIDLINES);
	xl_check_what(x, worksheet_set_footer(ws, "&LFindings&RPage &P of &N"), "page footer");
	worksheet_set_tab_color(ws, 0x4472C4);
}

static void xl_sheet_skipped(xl_ctx *x, lxw_worksheet *ws, json_object *doc)
{
	const char *S = SH_SKIPPED;
	const char *hdr[] = { "Kind", "Namespace", "Name", "Reason" };
	const double width[] = { 16, 18, 36, 70 };
	for (lxw_col_t c = 0; c < 4; c++) {
		xl_col(x, ws, c, width[c], c == 3 ? x->wrap : NULL);
		xl_str(x, ws, S, 0, c, hdr[c], x->header);
	}
	json_object *list = kp_json_get(doc, "skipped");
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n && xl_ok(x); i++) {
		json_object *s = json_object_array_get_idx(list, i);
		lxw_row_t r = (lxw_row_t)(i + 1);
		xl_str(x, ws, S, r, 0, js(s, "resource.kind"), x->text);
		xl_str(x, ws, S, r, 1, xl_namespace(s), x->text);
		xl_str(x, ws, S, r, 2, js(s, "resource.name"), x->text);
		xl_str(x, ws, S, r, 3, js(s, "reason"), x->wrap);
		xl_row_lines(x, ws, r, xl_wrapped_lines(js(s, "reason"), width[3]));
	}
	if (!xl_ok(x))
		return;
	worksheet_freeze_panes(ws, 1, 0);
	xl_check_what(x, worksheet_autofilter(ws, 0, 0, (lxw_row_t)(n > 0 ? n : 1), 3), "autofilter");
	worksheet_set_landscape(ws);
	worksheet_fit_to_pages(ws, 1, 0);
}

/* A "By category" / "By namespace" block: label, COUNTIF, SUMIF, and two
 * SUMIFS over the Findings columns split on the Blocked column, with
 * cached values. Returns the next free row. */
static lxw_row_t xl_group_table(xl_ctx *x, lxw_worksheet *ws, lxw_row_t r, const char *title, const char *keyhdr,
				lxw_col_t keycol, xl_group *g, size_t ng, unsigned last_row)
{
	const char *S = SH_SUMMARY;
	char key[8], cost[8], sav[8], blk[8], hdr_cost[64], hdr_sav[64], hdr_blk[96];
	xl_colname(key, keycol);
	xl_colname(cost, C_COST);
	xl_colname(sav, C_SAVINGS);
	xl_colname(blk, C_BLOCKED);
	snprintf(hdr_cost, sizeof(hdr_cost), "Monthly cost (%s)", x->prices.currency);
	snprintf(hdr_sav, sizeof(hdr_sav), "Monthly savings (%s)", x->prices.currency);
	snprintf(hdr_blk, sizeof(hdr_blk), "Blocked, review only (%s)", x->prices.currency);

	xl_str(x, ws, S, r++, 0, title, x->h2);
	/* two lines: the money headers wrap (LibreOffice keeps the default
	 * height of rows it did not write, so the second line would overlap) */
	if (xl_ok(x))
		xl_check_what(x, worksheet_set_row(ws, r, 30, NULL), "header row");
	xl_str(x, ws, S, r, 0, keyhdr, x->header);
	xl_str(x, ws, S, r, 1, "Findings", x->header_num);
	xl_str(x, ws, S, r, 2, hdr_cost, x->header_num);
	xl_str(x, ws, S, r, 3, hdr_sav, x->header_num);
	xl_str(x, ws, S, r, 4, hdr_blk, x->header_num);
	r++;
	qsort(g, ng, sizeof(*g), xl_group_cmp);
	for (size_t i = 0; i < ng; i++, r++) {
		char a[16];
		xl_ref(a, r, 0);
		xl_str(x, ws, S, r, 0, g[i].key, x->text);
		xl_formula(x, ws, S, r, 1, g[i].count, x->count, "=COUNTIF(%s!$%s$2:$%s$%u,%s)", SH_FINDINGS, key, key,
			   last_row, a);
		xl_formula(x, ws, S, r, 2, g[i].cost, x->money, "=SUMIF(%s!$%s$2:$%s$%u,%s,%s!$%s$2:$%s$%u)",
			   SH_FINDINGS, key, key, last_row, a, SH_FINDINGS, cost, cost, last_row);
		for (int b = 0; b < 2; b++)
			xl_formula(x, ws, S, r, (lxw_col_t)(3 + b), b ? g[i].blocked : g[i].savings, x->money,
				   "=SUMIFS(%s!$%s$2:$%s$%u,%s!$%s$2:$%s$%u,%s,%s!$%s$2:$%s$%u,\"%s\")", SH_FINDINGS, sav,
				   sav, last_row, SH_FINDINGS, key, key, last_row, a, SH_FINDINGS, blk, blk, last_row,
				   b ? "yes" : "no");
	}
	if (ng == 0)
		xl_str(x, ws, S, r++, 0, "(no findings)", x->note);
	return r + 1;
}

static void xl_sheet_summary(xl_ctx *x, lxw_worksheet *ws, json_object *doc, size_t n, kp_savings_split sp,
			     xl_group *cats, size_t ncats, xl_group *nss, size_t nns)
{
	const char *S = SH_SUMMARY;
	/* Narrow enough that the page prints at full size; the run facts in B
	 * overflow into the empty C and D. */
	xl_col(x, ws, 0, 46, NULL);
	xl_col(x, ws, 1, 14, NULL);
	xl_col(x, ws, 2, 18, NULL);
	xl_col(x, ws, 3, 18, NULL);
	xl_col(x, ws, 4, 18, NULL);
	if (xl_ok(x))
		xl_check_what(x, worksheet_set_row(ws, 0, 24, NULL), "title row");

	char title[600], start[40], end[40], gen[40], window[160];
	const char *cluster = xl_clean(x, js(doc, "cluster.name"));
	snprintf(title, sizeof(title), "Kubernetes cost findings: %.500s", cluster);
	xl_when(kp_json_str(doc, "window.start"), start);
	xl_when(kp_json_str(doc, "window.end"), end);
	xl_when(kp_json_str(doc, "generated_at"), gen);
	int64_t t0, t1;
	if (kp_time_parse(js(doc, "window.start"), &t0) && kp_time_parse(js(doc, "window.end"), &t1) && t1 >= t0) {
		double days = (double)(t1 - t0) / 86400.0;
		if (days >= 1)
			snprintf(window, sizeof(window), "%s to %s (%.3g days)", start, end, days);
		else
			snprintf(window, sizeof(window), "%s to %s (%.3g hours)", start, end, days * 24);
	} else if (*start || *end) {
		snprintf(window, sizeof(window), "%s to %s", start, end);
	} else {
		snprintf(window, sizeof(window), "none");
	}

	lxw_row_t r = 0;
	xl_str(x, ws, S, r++, 0, title, x->title);
	r++;
	const char *ctx_name = kp_json_str(doc, "cluster.context");
	const char *facts[][2] = {
		{ "Cluster", js(doc, "cluster.name") },
		{ "Context", ctx_name ? ctx_name : "" },
		{ "Usage window", window },
		{ "Usage data from", js(doc, "window.source") },
		{ "Generated at", gen },
		{ "Generated by", "kopilot " KP_VERSION },
	};
	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
		if (i == 1 && !*facts[i][1])
			continue;
		xl_str(x, ws, S, r, 0, facts[i][0], x->label);
		xl_str(x, ws, S, r++, 1, facts[i][1], x->text);
	}
	r++;

	unsigned last = (unsigned)(n > 0 ? n + 1 : 2); /* empty list: the blank row 2 */
	char id[8], cost[8], sav[8], blk[8], appr[8];
	xl_colname(id, C_ID);
	xl_colname(cost, C_COST);
	xl_colname(sav, C_SAVINGS);
	xl_colname(blk, C_BLOCKED);
	xl_colname(appr, C_APPROVAL);
	/* The breakdown report.md has, from the same split (savings.c) for
	 * the cached values; the formulas recompute each bucket from the
	 * Findings columns, so a price edit moves them all. */
	/* the findings' money split, added up as their rows were written */
	const char *cur = x->prices.currency;
	char label[7][160];
	snprintf(label[0], sizeof(label[0]), "Total findings");
	snprintf(label[1], sizeof(label[1]), "Cost today (%s/month)", cur);
	snprintf(label[2], sizeof(label[2]), "Savings that need no approval (%s/month)", cur);
	snprintf(label[3], sizeof(label[3]), "Savings that need approval (%s/month)", cur);
	snprintf(label[4], sizeof(label[4]), "Extra cost of reliability fixes (%s/month)", cur);
	snprintf(label[5], sizeof(label[5]), "Net potential savings (%s/month)", cur);
	snprintf(label[6], sizeof(label[6]), "Blocked, review only, not in net (%s/month)", cur);
	char rng[7][96];
	snprintf(rng[0], sizeof(rng[0]), "%s!$%s$2:$%s$%u", SH_FINDINGS, sav, sav, last);
	snprintf(rng[1], sizeof(rng[1]), "%s!$%s$2:$%s$%u", SH_FINDINGS, blk, blk, last);
	snprintf(rng[2], sizeof(rng[2]), "%s!$%s$2:$%s$%u", SH_FINDINGS, appr, appr, last);
	const char *S_ = rng[0], *B_ = rng[1], *A_ = rng[2];
	lxw_row_t first = r;
	xl_str(x, ws, S, r, 0, label[0], x->label);
	xl_formula(x, ws, S, r++, 1, (double)n, x->count_bold, "=COUNTA(%s!$%s$2:$%s$%u)", SH_FINDINGS, id, id, last);
	xl_str(x, ws, S, r, 0, label[1], x->label);
	xl_formula(x, ws, S, r++, 1, sp.cost, x->money, "=SUM(%s!$%s$2:$%s$%u)", SH_FINDINGS, cost, cost, last);
	xl_str(x, ws, S, r, 0, label[2], x->label);
	xl_formula(x, ws, S, r++, 1, sp.no_approval, x->money, "=SUMIFS(%s,%s,\"no\",%s,\"no\",%s,\">=0\")", S_, B_,
		   A_, S_);
	xl_str(x, ws, S, r, 0, label[3], x->label);
	xl_formula(x, ws, S, r++, 1, sp.approval, x->money, "=SUMIFS(%s,%s,\"no\",%s,\"yes\",%s,\">=0\")", S_, B_,
		   A_, S_);
	xl_str(x, ws, S, r, 0, label[4], x->label);
	xl_formula(x, ws, S, r++, 1, -sp.reliability, x->money, "=SUMIFS(%s,%s,\"no\",%s,\"<0\")", S_, B_, S_);
	xl_str(x, ws, S, r, 0, label[5], x->label);
	xl_formula(x, ws, S, r++, 1, sp.net, x->money_bold, "=SUM(B%u:B%u)", (unsigned)first + 3, (unsigned)first + 5);
	xl_str(x, ws, S, r, 0, label[6], x->label);
	xl_formula(x, ws, S, r++, 1, sp.blocked, x->money, "=SUMIFS(%s,%s,\"yes\")", S_, B_);
	xl_str(x, ws, S, r++, 0, "Cost today: what the resources in these findings cost per month.", x->note);
	xl_str(x, ws, S, r++, 0,
	       "Net: the savings of every action the plan (plan.json) can take, reliability fixes subtracted.",
	       x->note);
	xl_str(x, ws, S, r++, 0,
	       "Blocked: actions in protected namespaces, for review only; never added to the net, here and in the "
	       "tables below.",
	       x->note);
	xl_str(x, ws, S, r++, 0, "Prices can be changed on the Prices sheet: every cost and savings figure recomputes.",
	       x->note);
	xl_str(x, ws, S, r++, 0,
	       "Findings: one row per finding; long texts show two lines, the whole text is in the cell. It prints "
	       "the columns ID to Explanation, one page wide.",
	       x->note);
	r++;

	r = xl_group_table(x, ws, r, "By category", "Category", C_CATEGORY, cats, ncats, last);
	r = xl_group_table(x, ws, r, "By namespace", "Namespace", C_NAMESPACE, nss, nns, last);
	(void)r;

	if (!xl_ok(x))
		return;
	worksheet_activate(ws);
	worksheet_set_first_sheet(ws);
	worksheet_fit_to_pages(ws, 1, 0);
	worksheet_set_tab_color(ws, 0x70AD47);
}

/* ---- entry point ---- */

static void xl_read_prices(xl_ctx *x, json_object *doc)
{
	x->prices.cpu_core_hour = xl_price(x, doc, "cpu_core_hour");
	x->prices.memory_gib_hour = xl_price(x, doc, "memory_gib_hour");
	x->prices.storage_gib_month = xl_price(x, doc, "storage_gib_month");
	x->prices.load_balancer_hour = xl_price(x, doc, "load_balancer_hour");
	x->prices.hours_per_month = xl_price(x, doc, "hours_per_month");
	const char *cur = kp_json_str(doc, "prices.currency");
	x->prices.currency = cur && *cur ? cur : "USD";
	const char *src = kp_json_str(doc, "prices.source");
	x->prices.source = src && *src ? src : "not stated";
	x->prices.rate_sources = kp_json_get(doc, "prices.rate_sources");
	x->prices.focus = kp_json_get(doc, "prices.focus");
}



static void xl_properties(xl_ctx *x, json_object *doc)
{
	char title[300], subject[400];
	/* core.xml is XML 1.0, where a control character makes the whole
	 * workbook unreadable (openpyxl, Excel's repair prompt) */
	char *cluster = kp_visible(js(doc, "cluster.name"));
	snprintf(title, sizeof(title), "kopilot report: %.200s", cluster);
	snprintf(subject, sizeof(subject), "Kubernetes cost findings and savings for cluster %.200s", cluster);
	lxw_doc_properties props = { 0 };
	props.title = title;
	props.subject = subject;
	props.author = "kopilot";
	props.company = "kopilot";
	props.keywords = "kubernetes, finops, cost, rightsizing";
	props.comments = "Generated by kopilot " KP_VERSION " from findings.json";
	int64_t t;
	/* The run's own time, so the same findings give the same file. */
	if (kp_time_parse(js(doc, "generated_at"), &t))
		props.created = (time_t)t;
	xl_check_what(x, workbook_set_properties(x->wb, &props), "document properties");
	free(cluster);
}

static lxw_worksheet *xl_add_sheet(xl_ctx *x, const char *name)
{
	if (!xl_ok(x))
		return NULL;
	lxw_worksheet *ws = workbook_add_worksheet(x->wb, name);
	if (!ws)
		x->status = kp_fail(x->err, KP_ERR_NOMEM, "%s: cannot add sheet %s", x->path, name);
	return ws;
}

struct kp_xlsx_writer {
	xl_ctx x;
	char *tmp;
	json_object *hdr;
	lxw_worksheet *summary, *fws, *pws, *sws;
	xl_group *cats, *nss;
	size_t ncats, nns, cap, n;
	kp_savings_split split;
	kp_buf ev;
};

static void writer_free(kp_xlsx_writer *w)
{
	for (size_t i = 0; i < w->ncats; i++)
		free(w->cats[i].key);
	for (size_t i = 0; i < w->nns; i++)
		free(w->nss[i].key);
	free(w->cats);
	free(w->nss);
	kp_buf_release(&w->x.scratch);
	kp_buf_release(&w->x.visible);
	kp_buf_release(&w->x.formula);
	kp_buf_release(&w->ev);
	json_object_put(w->hdr);
	free(w->tmp);
	free(w);
}

kp_status kp_xlsx_begin(json_object *findings, const char *path, kp_xlsx_writer **out, kp_error *err)
{
	*out = NULL;
	if (!path || !*path)
		return kp_fail(err, KP_ERR_USAGE, "report.xlsx: no output path");
	json_object *list = kp_json_get(findings, "findings");
	if (!json_object_is_type(findings, json_type_object) || !json_object_is_type(list, json_type_array))
		return kp_fail(err, KP_ERR_INPUT, "%s: findings document has no \"findings\" array", path);

	kp_xlsx_writer *w = kp_xcalloc(1, sizeof(*w));
	xl_ctx *x = &w->x;
	*x = (xl_ctx){ .path = path, .err = err, .status = KP_OK };
	kp_buf_init(&x->scratch);
	kp_buf_init(&x->visible);
	kp_buf_init(&x->formula);
	kp_buf_init(&w->ev);
	w->hdr = json_object_get(findings);
	xl_read_prices(x, findings);
	if (!xl_ok(x)) {
		kp_status s = x->status;
		writer_free(w);
		return s;
	}

	/* Create the temp file ourselves first: libxlsxwriter only opens it in
	 * workbook_close() and then prints to stderr, while here we get errno. */
	w->tmp = kp_temp_path_for(path);
	int fd = KP_FAULT_IO(open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
	if (fd < 0) {
		kp_status s = kp_fail(err, KP_ERR_IO, "%s: cannot create file: %s", path, strerror(errno));
		kp_temp_discard(w->tmp);
		writer_free(w);
		return s;
	}
	close(fd);

	/* constant_memory: each row goes to a temp file once the next row
	 * starts, so memory does not grow with the findings. Rows must come in
	 * order on each sheet, which every sheet here does; a write to an
	 * earlier row fails (xl_check) rather than being lost. The temp files
	 * stay in the system's temp directory, where libxlsxwriter keeps its
	 * other ones in either mode: it does not check its writes to them, so
	 * in the run directory a full disk there would silently cut rows from
	 * the sheet (tests/e2e/rundir.sh "disk full" caught it), while a full
	 * disk at path still fails the zip and the render. */
	lxw_workbook_options opts = { .constant_memory = LXW_TRUE, .tmpdir = NULL };
	x->wb = workbook_new_opt(w->tmp, &opts);
	if (!x->wb) {
		kp_temp_discard(w->tmp);
		writer_free(w);
		return kp_fail(err, KP_ERR_NOMEM, "%s: cannot start workbook: out of memory", path);
	}
	w->cap = 64;
	w->cats = kp_xcalloc(w->cap, sizeof(*w->cats));
	w->nss = kp_xcalloc(w->cap, sizeof(*w->nss));

	/* Sheet order is what the reviewer meets: Summary first. Findings is
	 * filled before Summary because Summary's cached totals come from it. */
	xl_properties(x, findings);
	xl_formats(x);
	w->summary = xl_add_sheet(x, SH_SUMMARY);
	w->fws = xl_add_sheet(x, SH_FINDINGS);
	w->pws = xl_add_sheet(x, SH_PRICES);
	w->sws = xl_add_sheet(x, SH_SKIPPED);
	if (xl_ok(x)) {
		xl_sheet_prices(x, w->pws);
		xl_findings_header(x, w->fws);
	}
	*out = w;
	return KP_OK;
}

kp_status kp_xlsx_add(kp_xlsx_writer *w, json_object *finding)
{
	if (!xl_ok(&w->x))
		return w->x.status;
	/* room for one more group of each kind (a category, a namespace) */
	if (w->ncats + 1 >= w->cap || w->nns + 1 >= w->cap) {
		size_t cap = w->cap * 2;
		w->cats = kp_xrealloc(w->cats, cap * sizeof(*w->cats));
		w->nss = kp_xrealloc(w->nss, cap * sizeof(*w->nss));
		w->cap = cap;
	}
	size_t i = w->n++;
	xl_finding_row(&w->x, w->fws, finding, i, w->cats, &w->ncats, w->nss, &w->nns, &w->ev);
	kp_savings_split_add(&w->split, finding);
	return w->x.status;
}

kp_status kp_xlsx_end(kp_xlsx_writer *w, bool keep)
{
	xl_ctx *x = &w->x;
	kp_error *err = x->err;
	const char *path = x->path;
	if (!keep && xl_ok(x))
		x->status = KP_ERR_IO; /* abandoned: the workbook is closed and its file discarded */
	if (xl_ok(x)) {
		xl_findings_footer(x, w->fws, w->n);
		kp_savings_split_finish(w->hdr, &w->split);
		xl_sheet_summary(x, w->summary, w->hdr, w->n, w->split, w->cats, w->ncats, w->nss, w->nns);
		xl_sheet_skipped(x, w->sws, w->hdr);
	}

	/* workbook_close() also frees the workbook, so it runs on every path. */
	lxw_error ce = workbook_close(x->wb);
	/* libxlsxwriter does its own file I/O: an injected fault fails its
	 * result, as a full disk while it writes would. */
	if (ce == LXW_NO_ERROR && kp_fault_io())
		ce = LXW_ERROR_ZIP_FILE_OPERATION;
	if (xl_ok(x) && ce != LXW_NO_ERROR)
		x->status = kp_fail(err, xl_status_of(ce), "%s: cannot write spreadsheet: %s", path, lxw_strerror(ce));
	if (xl_ok(x)) {
		/* libxlsxwriter does not fsync; without it a crash after the
		 * rename could leave an empty report.xlsx. */
		int rfd = KP_FAULT_IO(open(w->tmp, O_RDONLY | O_CLOEXEC));
		if (rfd < 0 || KP_FAULT_IO(fsync(rfd)) != 0)
			x->status = kp_fail(err, KP_ERR_IO, "%s: cannot sync: %s", path, strerror(errno));
		if (rfd >= 0)
			close(rfd);
	}
	if (xl_ok(x))
		x->status = kp_commit_temp(w->tmp, path, err); /* unlinks tmp itself on failure */
	else
		kp_temp_discard(w->tmp);
	kp_status s = keep ? x->status : KP_OK;
	writer_free(w);
	return s;
}

kp_status kp_render_xlsx(json_object *findings, const char *path, kp_error *err)
{
	kp_xlsx_writer *w;
	kp_status s = kp_xlsx_begin(findings, path, &w, err);
	if (s)
		return s;
	json_object *list = kp_json_get(findings, "findings");
	size_t n = json_object_array_length(list);
	for (size_t i = 0; i < n && !s; i++)
		s = kp_xlsx_add(w, json_object_array_get_idx(list, i));
	return kp_xlsx_end(w, true);
}
