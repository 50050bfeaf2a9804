/*
 * focus.c - see focus.h. Owns the FOCUS column handling, the id matching
 * (one hash table of canonical ids -> the cluster's nodes and volumes) and
 * the rate derivation. The CSV itself is pipeline/csvread.c, streamed: the
 * memory used is the cluster's nodes and volumes plus one record, never the
 * file.
 */
#include "pipeline/focus.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/csvread.h"
#include "pipeline/money.h"

/* ---- ids ---- */

static bool starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

#define ID_MAX 2048 /* longer ids (none are) are never matched */

/* Writes id's canonical form into out (n bytes); false when it does not
 * fit. No allocation: it runs once per row of exports with millions. */
static bool canonical(const char *id, char *out, size_t n)
{
	size_t len = strlen(id);
	/* trailing slashes and blanks never tell two resources apart */
	while (len && (id[len - 1] == '/' || id[len - 1] == ' '))
		len--;
	char s[ID_MAX];
	if (len + 64 > n || len >= sizeof(s))
		return false;
	for (size_t i = 0; i < len; i++)
		s[i] = (char)tolower((unsigned char)id[i]);
	s[len] = '\0';
	const char *p = s;
	bool aws = false, gce = false;
	if (starts(p, "aws://")) {
		aws = true;
		p += 6;
	} else if (starts(p, "arn:")) {
		aws = true;
	} else if (starts(p, "gce://")) {
		gce = true;
		p += 6;
	} else if (starts(p, "azure://")) {
		p += 8;
	} else if (starts(p, "//compute.googleapis.com/")) {
		p += 25;
	} else if (starts(p, "https://www.googleapis.com/compute/v1/")) {
		p += 38;
	}
	while (*p == '/')
		p++;
	if (aws) {
		/* aws:///eu-west-1a/i-0abc, aws://eu-west-1a/vol-0abc,
		 * arn:aws:ec2:eu-west-1:123:instance/i-0abc: the id is the last segment */
		const char *slash = strrchr(p, '/');
		snprintf(out, n, "%s", slash ? slash + 1 : p);
		return true;
	}
	const char *a = gce ? strchr(p, '/') : NULL, *b = a ? strchr(a + 1, '/') : NULL;
	if (gce && b)
		/* gce://PROJECT/ZONE/NAME, as the bill writes it */
		snprintf(out, n, "projects/%.*s/zones/%.*s/instances/%s", (int)(a - p), p, (int)(b - a - 1), a + 1, b + 1);
	else
		snprintf(out, n, "%s", p);
	return true;
}

char *kp_focus_canonical_id(const char *id, bool node)
{
	(void)node;
	char out[ID_MAX];
	return kp_xstrdup(canonical(id ? id : "", out, sizeof(out)) ? out : "");
}

/* ---- the table of ids ---- */

typedef struct {
	int group;           /* index in the groups */
	bool storage;
	double bytes;        /* volumes: capacity */
	double hour_qty;     /* nodes: PricingQuantity in hours; volumes: GiB-months */
	bool has_qty;
	int64_t min_start, max_end; /* the span of its rows' charge periods */
	double cost;
	int64_t rows;
} resource;

typedef struct {
	bool storage, spot;
	const char *name;
} group;

typedef struct {
	char **keys;  /* open addressing, NULL empty */
	int *vals;    /* resource index */
	size_t cap;
} table;

static size_t slot(const table *t, const char *k)
{
	size_t i = (size_t)kp_fnv1a64(k, strlen(k), 0) & (t->cap - 1);
	while (t->keys[i] && strcmp(t->keys[i], k) != 0)
		i = (i + 1) & (t->cap - 1);
	return i;
}

/* Adds k -> v unless k is there; returns the value k maps to. Takes k. */
static int put(table *t, char *k, int v)
{
	size_t i = slot(t, k);
	if (t->keys[i]) {
		free(k);
		return t->vals[i];
	}
	t->keys[i] = k;
	t->vals[i] = v;
	return v;
}

static int get_id(const table *t, const char *k)
{
	size_t i = slot(t, k);
	return t->keys[i] ? t->vals[i] : -1;
}

typedef struct {
	const char *path;
	const char *currency;
	double hours_per_month;
	table ids;
	resource *res;
	size_t nres, capres;
	group *groups;
	size_t ngroups;
	kp_focus_rates *out;
	int64_t period_start, period_end;
} ctx_t;

static int group_of(ctx_t *x, bool storage, const char *name, bool spot)
{
	for (size_t i = 0; i < x->ngroups; i++)
		if (x->groups[i].storage == storage && x->groups[i].spot == spot && strcmp(x->groups[i].name, name) == 0)
			return (int)i;
	x->groups = kp_xrealloc(x->groups, (x->ngroups + 1) * sizeof(*x->groups));
	x->groups[x->ngroups] = (group){storage, spot, name};
	return (int)x->ngroups++;
}

static int add_resource(ctx_t *x, int g, bool storage, double bytes)
{
	if (x->nres == x->capres) {
		x->capres = x->capres ? x->capres * 2 : 64;
		x->res = kp_xrealloc(x->res, x->capres * sizeof(*x->res));
	}
	x->res[x->nres] = (resource){g, storage, bytes, 0, false, INT64_MAX, INT64_MIN, 0, 0};
	return (int)x->nres++;
}

/* An Azure scale set's machines are billed per instance or, in some
 * exports, on the scale set itself: .../virtualmachinescalesets/NAME keys a
 * resource of its own when all its nodes are of one type. */
static void add_scale_set(ctx_t *x, const char *key, int g)
{
	const char *vm = strstr(key, "/virtualmachines/");
	if (!strstr(key, "/virtualmachinescalesets/") || !vm)
		return;
	char *ss = kp_xasprintf("%.*s", (int)(vm - key), key);
	int r = get_id(&x->ids, ss);
	if (r < 0) {
		put(&x->ids, ss, add_resource(x, g, false, 0));
		return;
	}
	free(ss);
	if (x->res[r].group != g)
		x->res[r].group = -1; /* mixed types: the scale set's own rows tell nothing per type */
}

static void build_table(ctx_t *x, const kp_focus_keys *k)
{
	size_t n = 2 * (k->nnodes * 2 + k->nvolumes) + 16, cap = 16;
	while (cap < n)
		cap *= 2;
	x->ids.cap = cap;
	x->ids.keys = kp_xcalloc(cap, sizeof(char *));
	x->ids.vals = kp_xcalloc(cap, sizeof(int));
	for (size_t i = 0; i < k->nnodes; i++) {
		const kp_focus_node *nd = &k->nodes[i];
		if (!nd->provider_id || !nd->instance_type || !*nd->provider_id)
			continue;
		int g = group_of(x, false, nd->instance_type, nd->spot);
		char *key = kp_focus_canonical_id(nd->provider_id, true);
		if (get_id(&x->ids, key) >= 0) {
			free(key);
			continue;
		}
		add_scale_set(x, key, g);
		put(&x->ids, key, add_resource(x, g, false, 0));
	}
	for (size_t i = 0; i < k->nvolumes; i++) {
		const kp_focus_volume *v = &k->volumes[i];
		if (!v->handle || !v->storage_class || !*v->handle || !*v->storage_class)
			continue;
		int g = group_of(x, true, v->storage_class, false);
		put(&x->ids, kp_focus_canonical_id(v->handle, false), add_resource(x, g, true, (double)v->bytes));
	}
}

/* The resource a row's ResourceId names, or -1. An id the cluster knows
 * by its last segment only (an AWS i-/vol- id, a GCE pdName) matches that
 * segment of a longer id. */
static int lookup(ctx_t *x, const char *resource_id)
{
	char k[ID_MAX];
	if (!canonical(resource_id, k, sizeof(k)))
		return -1;
	int r = get_id(&x->ids, k);
	if (r < 0) {
		const char *slash = strrchr(k, '/');
		if (slash && slash[1])
			r = get_id(&x->ids, slash + 1);
	}
	return r;
}

/* ---- units ---- */

/* "Hours", "Hrs", "1 Hour", "10 Hours", "hour": hours, with the leading
 * block size as a multiplier. *mult = 0: not an hour unit. Likewise
 * "GB-Mo", "GiB-month", "GB/Month", "1 GB/Month", "gibibyte month":
 * GiB-months (the clouds bill storage in binary GiB whatever they write). */
static void unit_of(const char *u, double *hour_mult, double *gibmo_mult)
{
	*hour_mult = *gibmo_mult = 0;
	while (*u == ' ')
		u++;
	double m = 1;
	char *end;
	if (isdigit((unsigned char)*u)) {
		m = strtod(u, &end);
		if (!(m > 0) || !isfinite(m))
			return;
		u = end;
	}
	char w[48];
	size_t n = 0;
	for (; *u && n + 1 < sizeof(w); u++)
		if (isalpha((unsigned char)*u))
			w[n++] = (char)tolower((unsigned char)*u);
	w[n] = '\0';
	static const char *const hours[] = {"hour", "hours", "hr", "hrs", "h"};
	static const char *const gibmo[] = {"gbmo", "gbmonth", "gbmonths", "gibmo", "gibmonth", "gibmonths",
					    "gibibytemonth", "gigabytemonth", "gbmos"};
	for (size_t i = 0; i < sizeof(hours) / sizeof(hours[0]); i++)
		if (strcmp(w, hours[i]) == 0)
			*hour_mult = m;
	for (size_t i = 0; i < sizeof(gibmo) / sizeof(gibmo[0]); i++)
		if (strcmp(w, gibmo[i]) == 0)
			*gibmo_mult = m;
}

/* ISO 8601 as the exports write it: RFC 3339, or with a space for the T,
 * or without a zone (UTC). */
static bool parse_time(const char *s, int64_t *out)
{
	char b[64];
	size_t n = strlen(s);
	if (n < 19 || n > 40)
		return false;
	memcpy(b, s, n + 1);
	if (b[10] == ' ')
		b[10] = 'T';
	const char *tail = b + 19;
	if (*tail == '.')
		for (tail++; isdigit((unsigned char)*tail); tail++)
			;
	if (!*tail && n + 1 < sizeof(b)) {
		b[n] = 'Z';
		b[n + 1] = '\0';
	}
	return kp_time_parse(b, out);
}

/* ---- reading ---- */

enum { C_CATEGORY, C_START, C_END, C_COST, C_CURRENCY, C_RESOURCE, C_UNIT, C_QTY, C_SERVICE_CAT, NCOLS };
static const char *const col_names[NCOLS] = {"ChargeCategory", "ChargePeriodStart", "ChargePeriodEnd",
					     "EffectiveCost",  "BillingCurrency",   "ResourceId",
					     "PricingUnit",    "PricingQuantity",   "ServiceCategory"};
#define NREQUIRED C_SERVICE_CAT /* ServiceCategory is optional */

static kp_status bad_value(ctx_t *x, size_t line, int col, const char *what, const char *v, kp_error *err)
{
	char q[64];
	snprintf(q, sizeof(q), "%.40s%s", v, strlen(v) > 40 ? "..." : "");
	for (char *p = q; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	return kp_fail(err, KP_ERR_USAGE, "%s:%zu: column %s: %s, got \"%s\"", x->path, line, col_names[col], what, q);
}

static kp_status row(ctx_t *x, kp_csv *csv, const int *cols, kp_error *err)
{
	size_t line = kp_csv_line(csv);
	const char *f[NCOLS];
	for (int i = 0; i < NCOLS; i++)
		f[i] = cols[i] >= 0 ? kp_csv_field(csv, (size_t)cols[i]) : "";
	kp_focus_rates *o = x->out;
	o->rows++;
	if (strcmp(f[C_CATEGORY], "Usage") != 0)
		return KP_OK; /* Purchase, Tax, Credit, Adjustment: not a rate */
	o->usage_rows++;
	if (strcmp(f[C_CURRENCY], x->currency) != 0) {
		char q[16];
		snprintf(q, sizeof(q), "%.8s", f[C_CURRENCY]);
		for (char *p = q; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = '?'; /* the message reaches a terminal */
		return kp_fail(err, KP_ERR_USAGE,
			       "%s:%zu: column BillingCurrency: the export bills in \"%s\" but prices.currency is %s: set "
			       "prices.currency to the bill's currency (or leave prices.focus_file unset)",
			       x->path, line, q, x->currency);
	}
	double cost;
	if (!kp_parse_number(f[C_COST], &cost))
		return bad_value(x, line, C_COST, "expected a number", f[C_COST], err);
	int64_t t0, t1;
	if (!parse_time(f[C_START], &t0))
		return bad_value(x, line, C_START, "expected an ISO 8601 time such as 2026-11-01T00:00:00Z", f[C_START], err);
	if (!parse_time(f[C_END], &t1))
		return bad_value(x, line, C_END, "expected an ISO 8601 time such as 2026-11-02T00:00:00Z", f[C_END], err);
	if (t1 < t0)
		return bad_value(x, line, C_END, "the charge period ends before it starts", f[C_END], err);
	double qty = 0;
	bool has_qty = *f[C_QTY] != '\0';
	if (has_qty && (!kp_parse_number(f[C_QTY], &qty) || qty < 0))
		return bad_value(x, line, C_QTY, "expected a number >= 0 or nothing", f[C_QTY], err);
	if (t0 < x->period_start)
		x->period_start = t0;
	if (t1 > x->period_end)
		x->period_end = t1;
	int r = *f[C_RESOURCE] ? lookup(x, f[C_RESOURCE]) : -1;
	if (r < 0 || x->res[r].group < 0) {
		o->unmatched_rows++;
		return KP_OK;
	}
	if (strcmp(f[C_SERVICE_CAT], "Networking") == 0) {
		o->skipped_rows++; /* data transfer follows traffic, not the machine */
		return KP_OK;
	}
	o->matched_rows++;
	resource *res = &x->res[r];
	res->cost += cost;
	res->rows++;
	if (t0 < res->min_start)
		res->min_start = t0;
	if (t1 > res->max_end)
		res->max_end = t1;
	double hour_mult, gibmo_mult;
	unit_of(f[C_UNIT], &hour_mult, &gibmo_mult);
	double mult = res->storage ? gibmo_mult : hour_mult;
	if (has_qty && mult > 0) {
		res->hour_qty += qty * mult;
		res->has_qty = true;
	}
	return KP_OK;
}

static int cmp_rate(const void *a, const void *b)
{
	const kp_focus_rate *x = a, *y = b;
	if (x->storage != y->storage)
		return x->storage ? 1 : -1;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->spot - y->spot);
}

static void derive(ctx_t *x)
{
	kp_focus_rates *o = x->out;
	o->items = kp_xcalloc(x->ngroups + 1, sizeof(*o->items));
	for (size_t g = 0; g < x->ngroups; g++) {
		kp_focus_rate *it = &o->items[o->nitems];
		memset(it, 0, sizeof(*it));
		it->storage = x->groups[g].storage;
		it->spot = x->groups[g].spot;
		for (size_t i = 0; i < x->nres; i++) {
			const resource *r = &x->res[i];
			if (r->group != (int)g || r->rows == 0)
				continue;
			double span = (double)(r->max_end - r->min_start) / 3600.0;
			it->rows += r->rows;
			it->resources++;
			it->cost += r->cost;
			if (it->storage) {
				it->hours += span;
				it->gib_months += r->has_qty ? r->hour_qty : r->bytes / KP_GIB * span / x->hours_per_month;
			} else {
				it->hours += r->has_qty ? r->hour_qty : span;
			}
		}
		if (it->rows == 0)
			continue; /* not in the bill: nothing to say */
		it->name = kp_xstrdup(x->groups[g].name);
		double base = it->storage ? it->gib_months : it->hours;
		if (it->hours < KP_FOCUS_MIN_HOURS) {
			it->rate = -1;
			it->note = kp_xasprintf("only %.4g %s of data in the export (under %.0f): not used", it->hours,
						it->storage ? "volume-hours" : "node-hours", KP_FOCUS_MIN_HOURS);
		} else if (!(base > 0)) {
			it->rate = -1;
			it->note = kp_xstrdup(it->storage ? "no size to divide by (no GB-month quantity, no capacity): not used"
							  : "no hours to divide by: not used");
		} else {
			it->rate = it->cost / base;
			if (it->rate < 0) {
				it->rate = -1;
				it->note = kp_xstrdup("credits exceed the cost (a negative rate): not used");
			}
		}
		o->nitems++;
	}
	qsort(o->items, o->nitems, sizeof(*o->items), cmp_rate);
}

static kp_status read_all(ctx_t *x, FILE *fp, kp_error *err)
{
	kp_csv *csv = kp_csv_new(fp, x->path);
	kp_status s = KP_OK;
	int got = kp_csv_next(csv, err);
	if (got < 0) {
		kp_csv_free(csv);
		return err ? err->status : KP_ERR_USAGE;
	}
	if (got == 0) {
		kp_csv_free(csv);
		return kp_fail(err, KP_ERR_USAGE, "%s: empty file: expected a FOCUS CSV export with a header row", x->path);
	}
	int cols[NCOLS];
	size_t ncols = kp_csv_nfields(csv);
	for (int i = 0; i < NCOLS; i++) {
		cols[i] = -1;
		for (size_t j = 0; j < ncols; j++)
			if (strcmp(kp_csv_field(csv, j), col_names[i]) == 0)
				cols[i] = (int)j;
		if (cols[i] < 0 && i < NREQUIRED) {
			s = kp_fail(err, KP_ERR_USAGE,
				    "%s:1: required FOCUS column %s is missing from the header (names are case-sensitive: "
				    "ChargeCategory, ChargePeriodStart, ChargePeriodEnd, EffectiveCost, BillingCurrency, "
				    "ResourceId, PricingUnit, PricingQuantity)",
				    x->path, col_names[i]);
			kp_csv_free(csv);
			return s;
		}
	}
	while ((got = kp_csv_next(csv, err)) == 1) {
		size_t nf = kp_csv_nfields(csv);
		if (nf == 1 && !*kp_csv_field(csv, 0))
			continue; /* a blank line */
		if (nf != ncols) {
			s = kp_fail(err, KP_ERR_USAGE, "%s:%zu: %zu fields, but the header has %zu", x->path, kp_csv_line(csv), nf,
				    ncols);
			break;
		}
		if ((s = row(x, csv, cols, err)))
			break;
	}
	if (got < 0)
		s = err ? err->status : KP_ERR_USAGE;
	kp_csv_free(csv);
	return s;
}

kp_status kp_focus_read(const char *path, const kp_focus_keys *keys, const char *currency, double hours_per_month,
			kp_focus_rates *out, kp_error *err)
{
	memset(out, 0, sizeof(*out));
	FILE *fp;
	kp_status s = kp_open_input(path, &fp, err);
	if (s) {
		/* a price file the configuration names that is not there is a configuration mistake */
		if (s == KP_ERR_IO && err)
			err->status = KP_ERR_USAGE;
		return s == KP_ERR_IO ? KP_ERR_USAGE : s;
	}
	ctx_t x;
	memset(&x, 0, sizeof(x));
	x.path = path;
	x.currency = currency ? currency : "USD";
	x.hours_per_month = hours_per_month > 0 ? hours_per_month : 730;
	x.out = out;
	x.period_start = INT64_MAX;
	x.period_end = INT64_MIN;
	build_table(&x, keys);
	s = read_all(&x, fp, err);
	fclose(fp);
	if (!s) {
		derive(&x);
		out->file = kp_xstrdup(path);
		out->currency = kp_xstrdup(x.currency);
		if (x.period_start <= x.period_end) {
			char t[32];
			kp_time_format(x.period_start, t);
			out->period_start = kp_xstrdup(t);
			kp_time_format(x.period_end, t);
			out->period_end = kp_xstrdup(t);
		}
	}
	for (size_t i = 0; i < x.ids.cap; i++)
		free(x.ids.keys[i]);
	free(x.ids.keys);
	free(x.ids.vals);
	free(x.res);
	free(x.groups);
	if (s)
		kp_focus_rates_release(out);
	return s;
}

void kp_focus_rates_release(kp_focus_rates *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nitems; i++) {
		free(r->items[i].name);
		free(r->items[i].note);
	}
	free(r->items);
	free(r->file);
	free(r->currency);
	free(r->period_start);
	free(r->period_end);
	memset(r, 0, sizeof(*r));
}

const kp_focus_rate *kp_focus_node_rate(const kp_focus_rates *r, const char *instance_type, bool spot)
{
	for (size_t i = 0; r && instance_type && i < r->nitems; i++)
		if (!r->items[i].storage && r->items[i].spot == spot && r->items[i].rate >= 0 &&
		    strcmp(r->items[i].name, instance_type) == 0)
			return &r->items[i];
	return NULL;
}

const kp_focus_rate *kp_focus_class_rate(const kp_focus_rates *r, const char *storage_class)
{
	for (size_t i = 0; r && storage_class && i < r->nitems; i++)
		if (r->items[i].storage && r->items[i].rate >= 0 && strcmp(r->items[i].name, storage_class) == 0)
			return &r->items[i];
	return NULL;
}

json_object *kp_focus_to_json(const kp_focus_rates *r)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "file", json_object_new_string(r->file ? r->file : ""));
	json_object_object_add(o, "period_start", r->period_start ? json_object_new_string(r->period_start) : NULL);
	json_object_object_add(o, "period_end", r->period_end ? json_object_new_string(r->period_end) : NULL);
	json_object_object_add(o, "rows", json_object_new_int64(r->rows));
	json_object_object_add(o, "usage_rows", json_object_new_int64(r->usage_rows));
	json_object_object_add(o, "matched_rows", json_object_new_int64(r->matched_rows));
	json_object_object_add(o, "unmatched_rows", json_object_new_int64(r->unmatched_rows));
	json_object_object_add(o, "networking_rows", json_object_new_int64(r->skipped_rows));
	json_object *nt = json_object_new_array(), *sc = json_object_new_array();
	for (size_t i = 0; i < r->nitems; i++) {
		const kp_focus_rate *it = &r->items[i];
		json_object *j = json_object_new_object();
		json_object_object_add(j, "name", json_object_new_string(it->name));
		if (!it->storage)
			json_object_object_add(j, "spot", json_object_new_boolean(it->spot));
		json_object_object_add(j, it->storage ? "gib_month" : "hourly", it->rate >= 0 ? kp_json_new_number(it->rate) : NULL);
		json_object_object_add(j, "effective_cost", kp_json_new_number(it->cost));
		json_object_object_add(j, it->storage ? "volume_hours" : "node_hours", kp_json_new_number(it->hours));
		if (it->storage)
			json_object_object_add(j, "gib_months", kp_json_new_number(it->gib_months));
		json_object_object_add(j, "rows", json_object_new_int64(it->rows));
		json_object_object_add(j, it->storage ? "volumes" : "nodes", json_object_new_int64(it->resources));
		json_object_object_add(j, "note", it->note ? json_object_new_string(it->note) : NULL);
		json_object_array_add(it->storage ? sc : nt, j);
	}
	json_object_object_add(o, "node_types", nt);
	json_object_object_add(o, "storage_classes", sc);
	return o;
}

/* ---- analysis.json billing_keys ---- */

void kp_focus_keys_from_json(json_object *o, kp_focus_keys *k)
{
	memset(k, 0, sizeof(*k));
	json_object *nodes = kp_json_get(o, "nodes"), *vols = kp_json_get(o, "volumes");
	size_t nn = json_object_is_type(nodes, json_type_array) ? json_object_array_length(nodes) : 0;
	size_t nv = json_object_is_type(vols, json_type_array) ? json_object_array_length(vols) : 0;
	k->nodes = kp_xcalloc(nn + 1, sizeof(*k->nodes));
	k->volumes = kp_xcalloc(nv + 1, sizeof(*k->volumes));
	for (size_t i = 0; i < nn; i++) {
		json_object *j = json_object_array_get_idx(nodes, i);
		const char *id = kp_json_str(j, "provider_id"), *type = kp_json_str(j, "instance_type");
		if (id && type)
			k->nodes[k->nnodes++] = (kp_focus_node){id, type, json_object_get_boolean(kp_json_get(j, "spot"))};
	}
	for (size_t i = 0; i < nv; i++) {
		json_object *j = json_object_array_get_idx(vols, i);
		const char *h = kp_json_str(j, "handle"), *sc = kp_json_str(j, "storage_class");
		json_object *b = kp_json_get(j, "bytes");
		if (h && sc)
			k->volumes[k->nvolumes++] =
				(kp_focus_volume){h, sc, json_object_is_type(b, json_type_int) ? json_object_get_int64(b) : 0};
	}
}

void kp_focus_keys_release(kp_focus_keys *k)
{
	free(k->nodes);
	free(k->volumes);
	memset(k, 0, sizeof(*k));
}
