/*
 * report_md.c - report.md: the report view and the Markdown rendering.
 *
 * Owns: kp_report_view(), which turns findings.json (contracts/FINDINGS.md)
 * plus optional run information into the object a report template sees,
 * with every value pre-formatted for people (money "$1,234.56", sizes
 * "512Mi", action labels, per-category / per-namespace totals, top
 * findings), and kp_render_markdown(), which renders that view with the
 * built-in or a user template in Markdown-escaping mode.
 *
 * Keeping all formatting here, not in the template, means a user's template
 * cannot get money rounding or units wrong, and every figure in the report is
 * one of the numbers in findings.json, formatted. Every variable is
 * documented in templates/README.md; keep the two in step.
 *
 * Memory: the view is a new json_object the caller puts; it shares nothing
 * with the findings document (strings are copied, sub-objects deep-copied),
 * so findings may be freed first. kp_render_markdown's *out is malloc'd and
 * freed by the caller.
 */
#include "stages/render/render.h"

#include "pipeline/findings_json.h"
#include "pipeline/money.h"
#include "pipeline/quantity.h"
#include "pipeline/plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KP_REPORT_TOP 10
#define KP_REPORT_PLAN_STEPS 10
/* Defaults of report.detail_findings and report.row_findings (the run
 * information passes the configured ones, see render.h). */
#define KP_REPORT_DETAIL_DEFAULT 200
#define KP_REPORT_ROWS_DEFAULT 2000
/* The reliability table, the skipped table and the resolved findings list
 * at most this many each; the rest are counted and pointed to. */
#define REPORT_RELIABILITY_ROWS 100
#define REPORT_SKIPPED_ROWS 100
#define REPORT_RESOLVED_ROWS 100
#define REPORT_NAMESPACE_ROWS 50
#define REPORT_MISSING_ROWS 100

/* ---- small json helpers ---- */

static void put_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void put_int(json_object *o, const char *k, int64_t v) { json_object_object_add(o, k, json_object_new_int64(v)); }
static void put_bool(json_object *o, const char *k, bool v) { json_object_object_add(o, k, json_object_new_boolean(v)); }
static void put_double(json_object *o, const char *k, double v)
{
	json_object_object_add(o, k, json_object_new_double(v));
}

static void put_copy(json_object *o, const char *k, json_object *v)
{
	json_object *c = NULL;
	if (v && json_object_deep_copy(v, &c, NULL) != 0)
		c = NULL;
	json_object_object_add(o, k, c);
}

static bool is_num(json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static double num_or(json_object *o, const char *k, double dflt)
{
	json_object *v = kp_json_get(o, k);
	return is_num(v) ? json_object_get_double(v) : dflt;
}

static bool bool_of(json_object *o, const char *k)
{
	json_object *v = kp_json_get(o, k);
	return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* ---- formatting (money: pipeline/money.h) ---- */

static void put_money(json_object *o, const char *k, double v, const char *cur)
{
	char m[128];
	kp_money_format(v, cur, m, sizeof(m));
	put_str(o, k, m);
}

/* "20,000" */
static void fmt_count(int64_t v, char *out, size_t n)
{
	kp_format_thousands((unsigned long long)(v < 0 ? 0 : v), out, n);
}

/* "2026-11-11T06:00:00Z" -> "2026-11-11 06:00 UTC"; unparseable: as given. */
static void fmt_time(const char *rfc, char *out, size_t n)
{
	int64_t t;
	if (!rfc || !kp_time_parse(rfc, &t)) {
		snprintf(out, n, "%s", rfc ? rfc : "unknown");
		return;
	}
	char s[32];
	kp_time_format(t, s);
	snprintf(out, n, "%.10s %.5s UTC", s, s + 11);
}

/* "Deployment checkout/payments-api"; cluster-scoped: "PersistentVolume pv-1". */
static void fmt_resource(json_object *r, char *out, size_t n)
{
	if (json_object_is_type(r, json_type_string)) {
		snprintf(out, n, "%s", json_object_get_string(r));
		return;
	}
	const char *kind = kp_json_str(r, "kind"), *ns = kp_json_str(r, "namespace"), *name = kp_json_str(r, "name");
	snprintf(out, n, "%s%s%s%s%s", kind ? kind : "", kind ? " " : "", ns ? ns : "", ns ? "/" : "",
		 name ? name : "?");
}

/* ---- categories ---- */

static const struct {
	const char *id, *title, *desc;
} CATEGORIES[] = {
	{"over-provisioned", "Over-provisioned containers",
	 "Containers whose requests are well above what they used over the window. The cluster reserves (and you pay "
	 "for) capacity they never use. Memory is never recommended below the highest working set observed."},
	{"under-provisioned", "Under-provisioned containers (reliability risks)",
	 "Containers that use more than they request, were OOM-killed or throttled. Fixing them costs money: these "
	 "are reliability fixes, and their extra cost is already subtracted from the total savings."},
	{"idle-workload", "Idle workloads",
	 "Running workloads whose pods did close to nothing over the whole window. Scaling them down needs the "
	 "owner's approval."},
	{"zero-replica-workload", "Workloads scaled to zero that still hold resources",
	 "Workloads with no running pods that still keep storage or a load balancer billed."},
	{"orphaned-pvc", "Orphaned persistent volume claims",
	 "Claims that no pod mounts and no workload template, StatefulSet claim template or CronJob references, older "
	 "than the grace period. Deleting a claim deletes its data, so deletion needs approval."},
	{"unbound-pv", "Unbound persistent volumes",
	 "PersistentVolumes that are Released, Available or Failed and still billed. Deletion needs approval."},
	{"idle-loadbalancer", "Idle load balancers",
	 "Services of type LoadBalancer with no ready endpoints: the cloud load balancer is billed but serves "
	 "nothing."},
	{"finished-job", "Finished jobs",
	 "Jobs that completed or failed long ago, are not owned by a CronJob and have no ttlSecondsAfterFinished."},
	{"underutilized-node", "Underutilized nodes",
	 "Nodes whose pods request far less than the node offers. Draining and cordoning need approval."},
};

static const char *category_title(const char *id)
{
	for (size_t i = 0; i < sizeof(CATEGORIES) / sizeof(CATEGORIES[0]); i++)
		if (strcmp(CATEGORIES[i].id, id) == 0)
			return CATEGORIES[i].title;
	return id;
}

static const char *category_desc(const char *id)
{
	for (size_t i = 0; i < sizeof(CATEGORIES) / sizeof(CATEGORIES[0]); i++)
		if (strcmp(CATEGORIES[i].id, id) == 0)
			return CATEGORIES[i].desc;
	return "";
}

/* ---- groups (by category, by namespace) ---- */

/* savings: what the plan can act on (blocked actions left out, as in the
 * net total, so a table's rows add up to it); blocked: the rest, shown in a
 * column of its own. */
typedef struct {
	char *key;
	int64_t count, nblocked, ngrouped;
	double cost, savings, blocked;
	json_object *items; /* findings shown in detail, category groups only */
	json_object *rows;  /* findings shown as one compact row each, category groups only */
	json_object *rel;   /* the reliability table's findings (detail or row views), category groups only */
} group;

typedef struct {
	group *v;
	size_t n, cap;
	json_object *index; /* key -> position in v; json-c objects are hash tables */
} group_set;

static group *group_for(group_set *gs, const char *key)
{
	json_object *ix;
	if (json_object_object_get_ex(gs->index, key, &ix))
		return &gs->v[json_object_get_int64(ix)];
	if (gs->n == gs->cap) {
		gs->cap = gs->cap ? gs->cap * 2 : 16;
		gs->v = kp_xrealloc(gs->v, gs->cap * sizeof(*gs->v));
	}
	gs->v[gs->n] = (group){kp_xstrdup(key), 0, 0, 0, 0, 0, 0, json_object_new_array(), json_object_new_array(),
			       json_object_new_array()};
	json_object_object_add(gs->index, key, json_object_new_int64((int64_t)gs->n));
	return &gs->v[gs->n++];
}

static void group_set_release(group_set *gs)
{
	for (size_t i = 0; i < gs->n; i++) {
		free(gs->v[i].key);
		json_object_put(gs->v[i].items);
		json_object_put(gs->v[i].rows);
		json_object_put(gs->v[i].rel);
	}
	free(gs->v);
	json_object_put(gs->index);
}

static int group_cmp(const void *a, const void *b)
{
	const group *x = a, *y = b;
	if (x->savings != y->savings)
		return x->savings > y->savings ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* ---- one finding ---- */

static const struct {
	const char *key, *label;
	bool cpu, bytes;
} SIZE_FIELDS[] = {
	{"replicas", "Replicas", false, false},
	{"cpu_request_millicores", "CPU request", true, false},
	{"cpu_limit_millicores", "CPU limit", true, false},
	{"memory_request_bytes", "Memory request", false, true},
	{"memory_limit_bytes", "Memory limit", false, true},
	{"storage_bytes", "Storage", false, true},
};

static bool fmt_size(json_object *set, size_t field, char *out, size_t n)
{
	json_object *v = kp_json_get(set, SIZE_FIELDS[field].key);
	if (!is_num(v))
		return false;
	int64_t x = json_object_get_int64(v);
	if (SIZE_FIELDS[field].cpu)
		kp_format_cpu(x, out, n);
	else if (SIZE_FIELDS[field].bytes)
		kp_format_bytes(x, out, n);
	else
		snprintf(out, n, "%lld", (long long)x);
	return true;
}

/* "2 cores / 4Gi": requests, or the storage size when there are none. */
static bool fmt_sizes_summary(json_object *set, char *out, size_t n)
{
	char a[64], b[64];
	bool ha = fmt_size(set, 1, a, sizeof(a)), hb = fmt_size(set, 3, b, sizeof(b));
	if (ha && hb)
		snprintf(out, n, "%s / %s", a, b);
	else if (ha || hb)
		snprintf(out, n, "%s", ha ? a : b);
	else if (fmt_size(set, 5, a, sizeof(a)))
		snprintf(out, n, "%s", a);
	else
		return false;
	return true;
}

/* A node finding's rows: what the node offers and what its pods request,
 * from its "node" object. A node has no requests of its own, so these are
 * never labelled as requests; nothing is resized ("—"). */
static void add_node_rows(json_object *rows, json_object *node)
{
	static const struct {
		const char *key, *label;
		bool cpu;
	} NODE_ROWS[] = {
		{"cpu_capacity_millicores", "CPU capacity", true},
		{"cpu_allocatable_millicores", "CPU allocatable", true},
		{"cpu_requested_millicores", "CPU requested by pods", true},
		{"memory_capacity_bytes", "Memory capacity", false},
		{"memory_allocatable_bytes", "Memory allocatable", false},
		{"memory_requested_bytes", "Memory requested by pods", false},
	};
	for (size_t i = 0; i < sizeof(NODE_ROWS) / sizeof(NODE_ROWS[0]); i++) {
		json_object *v = kp_json_get(node, NODE_ROWS[i].key);
		if (!is_num(v))
			continue;
		char c[64];
		if (NODE_ROWS[i].cpu)
			kp_format_cpu(json_object_get_int64(v), c, sizeof(c));
		else
			kp_format_bytes(json_object_get_int64(v), c, sizeof(c));
		json_object *row = json_object_new_object();
		put_str(row, "field", NODE_ROWS[i].label);
		put_str(row, "current", c);
		put_str(row, "recommended", "\xe2\x80\x94");
		put_bool(row, "changed", false);
		json_object_array_add(rows, row);
	}
}

static void add_rows(json_object *d, json_object *cur, json_object *rec, json_object *node)
{
	json_object *rows = json_object_new_array();
	if (json_object_is_type(node, json_type_object))
		add_node_rows(rows, node);
	bool rec_obj = json_object_is_type(rec, json_type_object);
	for (size_t i = 0; i < sizeof(SIZE_FIELDS) / sizeof(SIZE_FIELDS[0]); i++) {
		char c[64], r[64];
		bool hc = fmt_size(cur, i, c, sizeof(c)), hr = rec_obj && fmt_size(rec, i, r, sizeof(r));
		if (!hc && !hr)
			continue;
		if (!hc)
			snprintf(c, sizeof(c), "not set");
		if (!rec_obj)
			snprintf(r, sizeof(r), "\xe2\x80\x94"); /* EM DASH: no resize proposed */
		else if (!hr)
			snprintf(r, sizeof(r), "not set");
		json_object *row = json_object_new_object();
		put_str(row, "field", SIZE_FIELDS[i].label);
		put_str(row, "current", c);
		put_str(row, "recommended", r);
		put_bool(row, "changed", rec_obj && strcmp(c, r) != 0);
		json_object_array_add(rows, row);
	}
	put_bool(d, "has_rows", json_object_array_length(rows) > 0);
	json_object_object_add(d, "rows", rows);
}

/* The other objects the action changes (findings.json related_changes)
 * as more rows of the settings table, and a short note for the action
 * label, so a plan step shows everything it changes. */
static void add_related_rows(json_object *d, json_object *related, char *note, size_t nnote)
{
	/* d NULL: the note only (a compact row has no settings table) */
	json_object *rows = d ? kp_json_get(d, "rows") : NULL;
	size_t n = json_object_is_type(related, json_type_array) ? json_object_array_length(related) : 0;
	note[0] = '\0';
	for (size_t i = 0; i < n && (rows || !d); i++) {
		json_object *r = json_object_array_get_idx(related, i);
		const char *kind = kp_json_str(r, "resource.kind"), *name = kp_json_str(r, "resource.name");
		json_object *cur = kp_json_get(r, "current"), *rec = kp_json_get(r, "recommended");
		if (!kind || !name || !cur || !rec)
			continue;
		bool hpa = strcmp(kind, "HorizontalPodAutoscaler") == 0;
		char field[300], c[64], v[64];
		if (hpa) {
			snprintf(field, sizeof(field), "HPA %s target", name);
			snprintf(c, sizeof(c), "%lld%%", (long long)json_object_get_int64(cur));
			snprintf(v, sizeof(v), "%lld%%", (long long)json_object_get_int64(rec));
		} else {
			const char *path = kp_json_str(r, "path"), *leaf = path ? strrchr(path, '/') : NULL;
			snprintf(field, sizeof(field), "%s %s %s", kind, name,
				 leaf && strcmp(leaf, "/persistentVolumeReclaimPolicy") == 0 ? "reclaim policy"
											: (leaf ? leaf + 1 : "?"));
			snprintf(c, sizeof(c), "%s", json_object_get_string(cur));
			snprintf(v, sizeof(v), "%s", json_object_get_string(rec));
		}
		if (rows) {
			json_object *row = json_object_new_object();
			put_str(row, "field", field);
			put_str(row, "current", c);
			put_str(row, "recommended", v);
			put_bool(row, "changed", true);
			json_object_array_add(rows, row);
		}
		size_t len = strlen(note);
		snprintf(note + len, nnote - len, "%s%s %s", len ? ", " : " + ",
			 hpa ? "HPA target" : "reclaim policy", v);
	}
	if (rows)
		put_bool(d, "has_rows", json_object_array_length(rows) > 0);
}

static void add_evidence(json_object *d, json_object *evidence)
{
	json_object *out = json_object_new_array();
	size_t n = json_object_is_type(evidence, json_type_array) ? json_object_array_length(evidence) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(evidence, i), *c = NULL;
		if (!json_object_is_type(e, json_type_object) || json_object_deep_copy(e, &c, NULL) != 0)
			continue;
		/* detail: where the number comes from, so a reviewer can re-check it */
		kp_buf b;
		kp_buf_init(&b);
		const char *metric = kp_json_str(e, "metric"), *unit = kp_json_str(e, "unit");
		json_object *value = kp_json_get(e, "value"), *samples = kp_json_get(e, "samples");
		if (metric) {
			kp_buf_puts(&b, metric);
			if (value) {
				/* sizes in the units the rest of the report uses */
				char q[64];
				bool sized = is_num(value) && unit &&
					     (strcmp(unit, "bytes") == 0 || strcmp(unit, "millicores") == 0);
				/* rounded up, as the rules' own sentences round them
				 * (kp_quantity_ceil): one value, one spelling */
				if (sized && strcmp(unit, "bytes") == 0)
					kp_format_bytes(kp_quantity_ceil(json_object_get_double(value)), q, sizeof(q));
				else if (sized)
					kp_format_cpu(kp_quantity_ceil(json_object_get_double(value)), q, sizeof(q));
				kp_buf_printf(&b, " = %s",
					      sized ? q : json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN));
				if (unit && !sized && strcmp(unit, "count") != 0)
					kp_buf_printf(&b, " %s", unit);
			}
		}
		const char *w = kp_json_str(e, "window");
		if (w)
			kp_buf_printf(&b, "%sover %s", b.len ? ", " : "", w);
		if (is_num(samples)) {
			char g[40];
			kp_format_thousands((unsigned long long)llabs((long long)json_object_get_int64(samples)), g, sizeof(g));
			kp_buf_printf(&b, "%s%s samples", b.len ? ", " : "", g);
		}
		const char *src = kp_json_str(e, "source"), *q = kp_json_str(e, "query");
		if (src)
			kp_buf_printf(&b, "%ssource: %s", b.len ? ", " : "", src);
		if (q)
			kp_buf_printf(&b, "%squery: %s", b.len ? ", " : "", q);
		put_str(c, "detail", b.len ? kp_buf_cstr(&b) : NULL);
		kp_buf_release(&b);
		json_object_array_add(out, c);
	}
	put_bool(d, "has_evidence", json_object_array_length(out) > 0);
	json_object_object_add(d, "evidence", out);
}

/* The longest run of backticks in s, plus one (at least three): a code fence
 * that the command itself can never close. */
static void command_fence(const char *s, char *out, size_t n)
{
	size_t best = 0, run = 0;
	for (; s && *s; s++) {
		run = *s == '`' ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	size_t len = best + 1 < 3 ? 3 : best + 1;
	if (len >= n)
		len = n - 1;
	memset(out, '`', len);
	out[len] = '\0';
}

/* The fields a finding has wherever it is shown: in detail, as a compact
 * table row (finding_row) or in the reliability table. */
static void finding_base(json_object *d, json_object *f, int64_t rank, const char *cur)
{
	json_object *res = kp_json_get(f, "resource"), *act = kp_json_get(f, "action");
	const char *category = kp_json_str(f, "category");
	category = category ? category : "uncategorized";
	char buf[1024];

	put_int(d, "rank", rank);
	put_str(d, "id", kp_json_str(f, "id"));
	put_str(d, "category", category);
	put_str(d, "category_title", category_title(category));

	const char *kind = kp_json_str(res, "kind"), *ns = kp_json_str(res, "namespace"), *name = kp_json_str(res, "name");
	put_str(d, "kind", kind);
	put_str(d, "namespace", ns);
	put_str(d, "namespace_label", ns ? ns : KP_CLUSTER_SCOPED_LABEL);
	put_str(d, "name", name);
	put_str(d, "api_version", kp_json_str(res, "apiVersion"));
	fmt_resource(res, buf, sizeof(buf));
	put_str(d, "resource", buf);
	snprintf(buf, sizeof(buf), "%s%s%s", kind ? kind : "", kind ? " " : "", name ? name : "?");
	put_str(d, "resource_short", buf);
	put_str(d, "container", kp_json_str(f, "container"));

	double cost = num_or(f, "monthly_cost", 0), savings = num_or(f, "monthly_savings", 0);
	put_double(d, "monthly_cost", cost);
	put_double(d, "monthly_savings", savings);
	put_money(d, "cost", cost, cur);
	put_money(d, "savings", savings, cur);
	put_bool(d, "is_increase", savings < 0);
	/* costs nothing and saves nothing (a finished Job): cleanup, not money */
	put_bool(d, "is_hygiene", kp_money_round(cost) == 0 && kp_money_round(savings) == 0);
	put_money(d, "cost_increase", savings < 0 ? -savings : 0, cur);
	put_str(d, "confidence", kp_json_str(f, "confidence"));
	put_str(d, "risk", kp_json_str(f, "risk"));

	const char *type = kp_json_str(act, "type");
	bool blocked = bool_of(act, "blocked");
	const char *reason = kp_json_str(act, "blocked_reason");
	put_str(d, "action_type", type ? type : "review");
	put_bool(d, "destructive", bool_of(act, "destructive"));
	put_bool(d, "approval_required", bool_of(act, "approval_required"));
	put_bool(d, "blocked", blocked);
	put_str(d, "blocked_reason", blocked ? (reason ? reason : "protected") : NULL);
	/* run-to-run: only present when the run had a previous one */
	const char *trend = kp_json_str(f, "trend"), *first = kp_json_str(f, "first_seen");
	put_str(d, "trend", trend);
	put_bool(d, "is_new", trend && strcmp(trend, "new") == 0);
	if (first)
		fmt_time(first, buf, sizeof(buf));
	put_str(d, "first_seen_display", first ? buf : NULL);

	json_object *c = kp_json_get(f, "current"), *r = kp_json_get(f, "recommended");
	char cs[256], rs[256];
	bool hc = fmt_sizes_summary(c, cs, sizeof(cs));
	bool hr = json_object_is_type(r, json_type_object) && fmt_sizes_summary(r, rs, sizeof(rs));
	put_str(d, "current_summary", hc ? cs : NULL);
	put_str(d, "recommended_summary", hr ? rs : NULL);
	if (hc && hr)
		snprintf(buf, sizeof(buf), "%s -> %s", cs, rs);
	put_str(d, "change", hc && hr ? buf : NULL);
	json_object *reps = kp_json_get(c, "replicas");
	json_object_object_add(d, "replicas", is_num(reps) ? json_object_new_int64(json_object_get_int64(reps)) : NULL);
}

/* "resize + HPA target 333% (approval required)": the action, what else it
 * changes (note, from add_related_rows) and its gate. */
static void put_action_label(json_object *d, json_object *act, const char *note)
{
	const char *type = kp_json_str(act, "type"), *reason = kp_json_str(act, "blocked_reason");
	char buf[1024];
	type = type ? type : "review";
	if (bool_of(act, "blocked"))
		snprintf(buf, sizeof(buf), "%s%s (BLOCKED: %s)", type, note, reason ? reason : "protected");
	else if (bool_of(act, "approval_required"))
		snprintf(buf, sizeof(buf), "%s%s (approval required)", type, note);
	else
		snprintf(buf, sizeof(buf), "%s%s", type, note);
	put_str(d, "action_label", buf);
}

/* A finding shown in detail: every finding field (templates/README.md). */
static json_object *finding_view(json_object *f, int64_t rank, const char *cur)
{
	json_object *d = json_object_new_object();
	json_object *act = kp_json_get(f, "action");
	char buf[64];
	finding_base(d, f, rank, cur);
	/* rows first: the related changes add to them and to the label */
	json_object *c = kp_json_get(f, "current"), *r = kp_json_get(f, "recommended"), *node = kp_json_get(f, "node");
	add_rows(d, c, r, node);
	char note[256];
	add_related_rows(d, kp_json_get(f, "related_changes"), note, sizeof(note));
	put_action_label(d, act, note);
	put_copy(d, "action", act);
	const char *cmd = kp_json_str(act, "command");
	put_str(d, "command", cmd && *cmd ? cmd : NULL);
	command_fence(cmd, buf, sizeof(buf));
	put_str(d, "command_fence", buf);
	put_str(d, "command_label", bool_of(act, "blocked")		? "Command (blocked: for reference only, do not run)"
				    : bool_of(act, "approval_required") ? "Command (run only after approval)"
									: "Command");
	/* render --pr: its pull request, or its patch in a dry run, or why none */
	json_object *pr = kp_json_get(f, "pull_request");
	put_copy(d, "pull_request", json_object_is_type(pr, json_type_object) ? pr : NULL);
	const char *url = kp_json_str(pr, "url"), *patch = kp_json_str(pr, "patch"), *branch = kp_json_str(pr, "branch");
	put_str(d, "pr_link", url && *url ? url : patch);
	char prt[300];
	snprintf(prt, sizeof(prt), "%s%s", url && *url ? (branch ? branch : url) : (patch ? patch : ""),
		 url && *url ? "" : " (dry run: the patch)");
	put_str(d, "pr_text", url || patch ? prt : NULL);
	put_str(d, "pr_why", kp_json_str(pr, "why"));
	put_str(d, "explanation", kp_json_str(f, "explanation"));
	put_str(d, "explained_by", kp_json_str(f, "explained_by"));
	put_str(d, "price_basis", kp_json_str(f, "price.basis")); /* NULL: priced at the global prices */
	add_evidence(d, kp_json_get(f, "evidence"));
	put_copy(d, "current", c);
	put_copy(d, "recommended", json_object_is_type(r, json_type_object) ? r : NULL);
	put_copy(d, "node", json_object_is_type(node, json_type_object) ? node : NULL);
	return d;
}

/* A finding shown as one compact table row: the base fields and the action
 * label, no settings table, evidence, command or explanation. */
static json_object *finding_row(json_object *f, int64_t rank, const char *cur)
{
	json_object *d = json_object_new_object();
	char note[256];
	finding_base(d, f, rank, cur);
	add_related_rows(NULL, kp_json_get(f, "related_changes"), note, sizeof(note));
	put_action_label(d, kp_json_get(f, "action"), note);
	return d;
}

/* ---- the view ---- */

/* scope: "namespace staging" in the title, "for staging" in the plan;
 * the label selector, when the run had one. */
static void add_scope(json_object *view, json_object *findings)
{
	json_object *ns = kp_json_get(findings, "scope.namespaces"), *o = json_object_new_object(),
		    *arr = json_object_new_array();
	size_t n = json_object_is_type(ns, json_type_array) ? json_object_array_length(ns) : 0;
	kp_buf label;
	kp_buf_init(&label);
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(ns, i));
		json_object_array_add(arr, json_object_new_string(s ? s : ""));
		kp_buf_printf(&label, "%s%s", i ? ", " : "", s ? s : "");
	}
	put_bool(o, "has_namespaces", n > 0);
	json_object_object_add(o, "namespaces", arr);
	put_str(o, "label", n ? kp_buf_cstr(&label) : NULL);
	char *title = n ? kp_xasprintf("namespace%s %s", n == 1 ? "" : "s", kp_buf_cstr(&label)) : NULL;
	put_str(o, "title", title);
	free(title);
	kp_buf_release(&label);
	const char *sel = kp_json_str(findings, "scope.selector"); /* -l/--selector */
	put_bool(o, "has_selector", sel != NULL);
	put_str(o, "selector", sel);
	/* --shard I/N: one part of a sharded run (kopilot merge joins them) */
	json_object *shard = kp_json_get(findings, "scope.shard");
	put_bool(o, "has_shard", shard != NULL);
	char *sh = shard ? kp_xasprintf("shard %lld/%lld", (long long)json_object_get_int64(kp_json_get(shard, "index")),
					(long long)json_object_get_int64(kp_json_get(shard, "count")))
			 : NULL;
	put_str(o, "shard", sh);
	free(sh);
	json_object_object_add(view, "scope", o);
}

/* trend: the runs of history.json (run_info "history", already checked
 * with kp_history_check; absent without a state directory). report.md
 * lists the last REPORT_TREND_ROWS; report.html draws all of them above
 * that table (trend_svg.c). */
#define REPORT_TREND_ROWS 10

static void add_trend(json_object *view, json_object *history, const char *cur)
{
	json_object *runs = kp_json_get(history, "runs"), *o = json_object_new_object();
	size_t n = json_object_is_type(runs, json_type_array) ? json_object_array_length(runs) : 0;
	put_bool(o, "has_trend", n > 0);
	json_object_object_add(view, "trend", o);
	if (!n)
		return;
	const char *hcur = kp_json_str(history, "currency");
	cur = hcur ? hcur : cur;
	char buf[512], m1[64], m2[64], d1[64], d2[64], delta[80];
	json_object *first = json_object_array_get_idx(runs, 0), *last = json_object_array_get_idx(runs, n - 1);
	double v1 = num_or(first, "monthly_savings", 0), v2 = num_or(last, "monthly_savings", 0);
	kp_money_format(v1, cur, m1, sizeof(m1));
	kp_money_format(v2, cur, m2, sizeof(m2));
	fmt_time(kp_json_str(first, "generated_at"), d1, sizeof(d1));
	fmt_time(kp_json_str(last, "generated_at"), d2, sizeof(d2));
	kp_money_format(v2 - v1, cur, delta, sizeof(delta));
	if (n == 1)
		snprintf(buf, sizeof(buf), "The first run of this scope in the state directory (%s/month): the trend starts "
			 "with the next run.", m2);
	else
		snprintf(buf, sizeof(buf), "%zu runs from %s to %s: net potential savings went from %s to %s/month (%s%s).",
			 n, d1, d2, m1, m2, v2 - v1 > 0.005 ? "+" : "", delta);
	put_str(o, "sentence", buf);
	int64_t other = (int64_t)num_or(kp_json_get(history, "left_out"), "other_scope", 0),
		bad = (int64_t)num_or(kp_json_get(history, "left_out"), "unreadable", 0);
	buf[0] = '\0';
	if (other)
		snprintf(buf, sizeof(buf), "%lld run%s of another cluster, currency or scope (--namespace, --selector, "
			 "scope.*) %s not on this trend. ", (long long)other, other == 1 ? "" : "s", other == 1 ? "is" : "are");
	if (bad)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%lld run%s without a readable summary.json %s "
			 "left out (the run's log says which).", (long long)bad, bad == 1 ? "" : "s", bad == 1 ? "was" : "were");
	put_bool(o, "has_left_out", buf[0] != '\0');
	put_str(o, "left_out", buf);
	json_object *rows = json_object_new_array();
	size_t from = n > REPORT_TREND_ROWS ? n - REPORT_TREND_ROWS : 0;
	for (size_t i = from; i < n; i++) {
		json_object *p = json_object_array_get_idx(runs, i), *r = json_object_new_object();
		fmt_time(kp_json_str(p, "generated_at"), buf, sizeof(buf));
		if (json_object_get_boolean(kp_json_get(p, "current")))
			strncat(buf, " (this run)", sizeof(buf) - strlen(buf) - 1);
		put_str(r, "date", buf);
		double v = num_or(p, "monthly_savings", 0);
		put_money(r, "savings", v, cur);
		fmt_count((int64_t)num_or(p, "findings", 0), buf, sizeof(buf));
		put_str(r, "findings", buf);
		if (i == 0) {
			put_str(r, "change", "-");
		} else {
			double d = v - num_or(json_object_array_get_idx(runs, i - 1), "monthly_savings", 0);
			kp_money_format(d, cur, delta, sizeof(delta));
			snprintf(buf, sizeof(buf), "%s%s", d > 0.005 ? "+" : "", delta);
			put_str(r, "change", buf);
		}
		json_object_array_add(rows, r);
	}
	json_object_object_add(o, "rows", rows);
	put_int(o, "count", (int64_t)n);
	put_int(o, "shown", (int64_t)(n - from));
	put_bool(o, "has_more", from > 0);
}

/* changes: what is new, what persists, what was resolved since the
 * previous run (findings.json "changes"; has_previous false without one). */
static void add_changes(json_object *view, json_object *findings, const char *cur)
{
	json_object *c = kp_json_get(findings, "changes"), *o = json_object_new_object();
	const char *prev = kp_json_str(c, "previous_run");
	put_bool(o, "has_previous", prev != NULL);
	put_str(o, "previous_run", prev);
	char buf[128];
	const char *at = kp_json_str(c, "previous_generated_at");
	fmt_time(at, buf, sizeof(buf));
	put_str(o, "previous_generated_at_display", at ? buf : "an unknown time");
	put_int(o, "new", (int64_t)num_or(c, "new", 0));
	put_int(o, "persisting", (int64_t)num_or(c, "persisting", 0));
	put_int(o, "resolved", (int64_t)num_or(c, "resolved", 0));
	json_object *list = kp_json_get(c, "resolved_findings"), *arr = json_object_new_array();
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(list, i), *d;
		sum += num_or(r, "monthly_savings", 0);
		if (i >= REPORT_RESOLVED_ROWS)
			continue;
		d = json_object_new_object();
		char res[1024];
		fmt_resource(kp_json_get(r, "resource"), res, sizeof(res));
		put_str(d, "resource", res);
		put_str(d, "container", kp_json_str(r, "container"));
		const char *cat = kp_json_str(r, "category");
		put_str(d, "category", cat);
		put_str(d, "category_title", category_title(cat ? cat : ""));
		put_money(d, "savings", num_or(r, "monthly_savings", 0), cur);
		put_str(d, "id", kp_json_str(r, "id"));
		json_object_array_add(arr, d);
	}
	put_bool(o, "has_resolved", n > 0);
	size_t shown = n < REPORT_RESOLVED_ROWS ? n : REPORT_RESOLVED_ROWS;
	put_int(o, "resolved_shown", (int64_t)shown);
	put_bool(o, "has_resolved_more", n > shown);
	fmt_count((int64_t)(n - shown), buf, sizeof(buf));
	put_str(o, "resolved_more_label", buf);
	json_object_object_add(o, "resolved_findings", arr);
	put_money(o, "resolved_savings", num_or(c, "resolved_monthly_savings", sum), cur);
	json_object_object_add(view, "changes", o);
}

/* A group's blocked money: "—" where there is none, so the column reads
 * as "nothing held back" rather than as a row of zeros. */
static void put_group_blocked(json_object *o, const group *g, const char *cur)
{
	put_bool(o, "has_blocked", g->nblocked > 0);
	if (g->nblocked > 0)
		put_money(o, "blocked_savings", g->blocked, cur);
	else
		put_str(o, "blocked_savings", "\xe2\x80\x94"); /* EM DASH */
	put_double(o, "blocked_monthly_savings", g->blocked);
}

/* The by-namespace table lists the namespaces with the biggest savings and
 * one row for the rest together (key "_rest": has_more, label, count, cost,
 * savings, blocked_savings), so it stays short in a cluster of thousands. */
static void add_groups(json_object *view, const char *key, group_set *gs, const char *cur, bool category)
{
	json_object *arr = json_object_new_array();
	size_t shown = category || gs->n <= REPORT_NAMESPACE_ROWS ? gs->n : REPORT_NAMESPACE_ROWS;
	group rest = {NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL};
	for (size_t i = shown; i < gs->n; i++) {
		rest.count += gs->v[i].count;
		rest.nblocked += gs->v[i].nblocked;
		rest.cost += gs->v[i].cost;
		rest.savings += gs->v[i].savings;
		rest.blocked += gs->v[i].blocked;
	}
	if (!category) {
		json_object *o = json_object_new_object();
		char num[40], label[80];
		put_bool(o, "has_more", shown < gs->n);
		put_int(o, "namespaces", (int64_t)(gs->n - shown));
		fmt_count((int64_t)(gs->n - shown), num, sizeof(num));
		snprintf(label, sizeof(label), "%s other namespace%s", num, gs->n - shown == 1 ? "" : "s");
		put_str(o, "label", label);
		put_int(o, "count", rest.count);
		fmt_count(rest.count, num, sizeof(num));
		put_str(o, "count_formatted", num);
		put_money(o, "cost", rest.cost, cur);
		put_money(o, "savings", rest.savings, cur);
		put_group_blocked(o, &rest, cur);
		char *k = kp_xasprintf("%s_rest", key);
		json_object_object_add(view, k, o);
		free(k);
	}
	for (size_t i = 0; i < shown; i++) {
		group *g = &gs->v[i];
		json_object *o = json_object_new_object();
		put_str(o, category ? "category" : "namespace", g->key);
		if (category) {
			put_str(o, "title", category_title(g->key));
			put_str(o, "description", category_desc(g->key));
		}
		put_int(o, "count", g->count);
		char cl[32];
		fmt_count(g->count, cl, sizeof(cl)); /* "5,687": tables read like the headline */
		put_str(o, "count_formatted", cl);
		put_money(o, "cost", g->cost, cur);
		put_money(o, "savings", g->savings, cur);
		put_double(o, "monthly_cost", g->cost);
		put_double(o, "monthly_savings", g->savings);
		put_group_blocked(o, g, cur);
		json_object_array_add(arr, o);
	}
	json_object_object_add(view, key, arr);
}

/* "Price sources": findings.json prices.rate_sources as rows for people,
 * and the FOCUS export they may rest on. has_rate_sources only when some
 * rate is specific (a node type, a StorageClass): the global ones alone are
 * the table above. */
static void add_price_sources(json_object *p, json_object *prices, const char *cur)
{
	json_object *rs = kp_json_get(prices, "rate_sources"), *rows = json_object_new_array();
	size_t n = json_object_is_type(rs, json_type_array) ? json_object_array_length(rs) : 0;
	bool specific = false;
	char what[300], rate[160], m[64];
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(rs, i), *row = json_object_new_object();
		const char *kind = kp_json_str(e, "kind"), *name = kp_json_str(e, "name"), *unit = kp_json_str(e, "unit");
		bool node = kind && strcmp(kind, "node_type") == 0, sc = kind && strcmp(kind, "storage_class") == 0;
		specific |= node || sc;
		snprintf(what, sizeof(what), "%s %s%s", node ? "Instance type" : sc ? "StorageClass" : "Global",
			 name ? name : "", bool_of(e, "spot") ? " (spot)" : "");
		json_object *v = kp_json_get(e, "rate");
		if (is_num(v)) {
			kp_money_format_price(json_object_get_double(v), cur, m, sizeof(m));
			snprintf(rate, sizeof(rate), "%s per %s", m, unit ? unit : "unit");
		} else {
			snprintf(rate, sizeof(rate), "none");
		}
		put_str(row, "what", what);
		put_str(row, "rate", rate);
		put_str(row, "source", kp_json_str(e, "source"));
		put_str(row, "basis", kp_json_str(e, "basis"));
		json_object_array_add(rows, row);
	}
	json_object *fo = kp_json_get(prices, "focus");
	put_bool(p, "has_rate_sources", specific || fo);
	json_object_object_add(p, "rate_sources", rows);
	if (!fo)
		return;
	json_object *f = json_object_new_object();
	char buf[128];
	put_str(f, "file", kp_json_str(fo, "file"));
	fmt_time(kp_json_str(fo, "period_start"), buf, sizeof(buf));
	put_str(f, "period_start", buf);
	fmt_time(kp_json_str(fo, "period_end"), buf, sizeof(buf));
	put_str(f, "period_end", buf);
	static const char *const counts[] = {"rows", "usage_rows", "matched_rows", "unmatched_rows"};
	for (size_t i = 0; i < 4; i++)
		put_int(f, counts[i], json_object_get_int64(kp_json_get(fo, counts[i])));
	json_object_object_add(p, "focus", f);
}

static void add_prices(json_object *view, json_object *prices, const char *cur)
{
	json_object *p = json_object_new_object();
	double hours = num_or(prices, "hours_per_month", 730);
	const char *source = kp_json_str(prices, "source");
	source = source ? source : "default";
	char label[256], m[128];
	if (strcmp(source, "default") == 0)
		snprintf(label, sizeof(label), "default (OpenCost)");
	else if (strcmp(source, "config") == 0)
		snprintf(label, sizeof(label), "config (kopilot configuration)");
	else
		snprintf(label, sizeof(label), "%s", source);
	put_str(p, "currency", cur);
	put_double(p, "hours_per_month", hours);
	put_str(p, "source", source);
	put_str(p, "source_label", label);

	static const struct {
		const char *key, *name, *unit, *month_unit;
		bool hourly;
	} items[] = {
		{"cpu_core_hour", "CPU", "per core-hour", "per core-month", true},
		{"memory_gib_hour", "Memory", "per GiB-hour", "per GiB-month", true},
		{"storage_gib_month", "Storage", "per GiB-month", "per GiB-month", false},
		{"load_balancer_hour", "Load balancer", "per hour", "per load balancer-month", true},
	};
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		json_object *v = kp_json_get(prices, items[i].key);
		if (!is_num(v))
			continue;
		double x = json_object_get_double(v);
		json_object *o = json_object_new_object();
		put_str(o, "key", items[i].key);
		put_str(o, "name", items[i].name);
		kp_money_format_price(x, cur, m, sizeof(m));
		put_str(o, "price", m);
		put_str(o, "unit", items[i].unit);
		kp_money_format(items[i].hourly ? x * hours : x, cur, m, sizeof(m));
		put_str(o, "monthly", m);
		put_str(o, "monthly_unit", items[i].month_unit);
		put_str(o, "source", label);
		put_double(o, "value", x);
		json_object_array_add(arr, o);
		put_double(p, items[i].key, x);
	}
	json_object_object_add(p, "items", arr);
	add_price_sources(p, prices, cur);
	json_object_object_add(view, "prices", p);
}

/* "Prices used": the node types and StorageClasses findings were priced
 * at (each finding's price.items), one row per distinct one, in order of
 * first appearance, with how many findings used it. Gathered one finding
 * at a time (prices_add, raw numbers), formatted once (prices_view). */
typedef struct {
	char *name; /* "m5.large", "m5.large (spot)", "gp3" */
	bool node;
	int64_t findings;
	json_object *item; /* the first price item of that name (its rates) */
} price_row;

typedef struct {
	price_row *v;
	size_t n, cap;
} price_rows;

static void prices_add(price_rows *pr, json_object *finding)
{
	json_object *items = kp_json_get(finding, "price.items");
	size_t ni = json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
	char key[512];
	for (size_t k = 0; k < ni; k++) {
		json_object *it = json_object_array_get_idx(items, k);
		const char *type = kp_json_str(it, "type"), *name = kp_json_str(it, "name");
		if (!type || !name)
			continue;
		bool node = strcmp(type, "node_type") == 0, spot = bool_of(it, "spot");
		snprintf(key, sizeof(key), "%s%s", name, node && spot ? " (spot)" : "");
		size_t j = 0;
		while (j < pr->n && !(pr->v[j].node == node && strcmp(pr->v[j].name, key) == 0))
			j++;
		if (j == pr->n) {
			if (pr->n == pr->cap) {
				pr->cap = pr->cap ? pr->cap * 2 : 8;
				pr->v = kp_xrealloc(pr->v, pr->cap * sizeof(*pr->v));
			}
			json_object *copy = NULL;
			if (json_object_deep_copy(it, &copy, NULL) != 0)
				copy = NULL;
			pr->v[pr->n++] = (price_row){kp_xstrdup(key), node, 0, copy};
		}
		pr->v[j].findings++;
	}
}

static void prices_release(price_rows *pr)
{
	for (size_t i = 0; i < pr->n; i++) {
		free(pr->v[i].name);
		json_object_put(pr->v[i].item);
	}
	free(pr->v);
	memset(pr, 0, sizeof(*pr));
}

static void prices_view(json_object *p, const price_rows *pr, const char *cur)
{
	json_object *nodes = json_object_new_array(), *classes = json_object_new_array();
	char m[128];
	for (size_t i = 0; i < pr->n; i++) {
		json_object *row = json_object_new_object(), *it = pr->v[i].item;
		put_str(row, "name", pr->v[i].name);
		put_int(row, "findings", pr->v[i].findings);
		static const char *const fields[][2] = {{"hourly", "hourly"}, {"cpu_core_hour", "cpu"},
						       {"memory_gib_hour", "memory"}, {"storage_gib_month", "storage"}};
		for (size_t f = 0; f < 4; f++) {
			json_object *v = kp_json_get(it, fields[f][0]);
			if (!is_num(v))
				continue;
			kp_money_format_price(json_object_get_double(v), cur, m, sizeof(m));
			put_str(row, fields[f][1], m);
		}
		const char *src = kp_json_str(it, "source");
		put_str(row, "source", src ? src : ""); /* documents from before sources: not said */
		json_object_array_add(pr->v[i].node ? nodes : classes, row);
	}
	put_bool(p, "has_node_types", json_object_array_length(nodes) > 0);
	put_bool(p, "has_storage_classes", json_object_array_length(classes) > 0);
	json_object_object_add(p, "node_types", nodes);
	json_object_object_add(p, "storage_classes", classes);
}

static void add_window(json_object *view, json_object *w)
{
	json_object *o = json_object_new_object();
	const char *start = kp_json_str(w, "start"), *end = kp_json_str(w, "end"), *src = kp_json_str(w, "source");
	char buf[128];
	put_str(o, "start", start);
	put_str(o, "end", end);
	fmt_time(start, buf, sizeof(buf));
	put_str(o, "start_display", buf);
	fmt_time(end, buf, sizeof(buf));
	put_str(o, "end_display", buf);
	src = src ? src : "none";
	put_str(o, "source", src);
	json_object *step = kp_json_get(w, "step_seconds");
	json_object_object_add(o, "step_seconds", is_num(step) ? json_object_new_int64(json_object_get_int64(step)) : NULL);
	int64_t a, b;
	if (start && end && kp_time_parse(start, &a) && kp_time_parse(end, &b) && b >= a) {
		int64_t s = b - a;
		if (s % 86400 == 0)
			snprintf(buf, sizeof(buf), "%lld day%s", (long long)(s / 86400), s == 86400 ? "" : "s");
		else if (s >= 2 * 86400)
			snprintf(buf, sizeof(buf), "%.1f days", (double)s / 86400.0);
		else
			snprintf(buf, sizeof(buf), "%.1f hours", (double)s / 3600.0);
		put_str(o, "duration", buf);
	} else {
		put_str(o, "duration", "unknown length");
	}
	put_bool(o, "no_usage", strcmp(src, "none") == 0);
	json_object_object_add(view, "window", o);
}

static void add_skipped(json_object *view, json_object *skipped)
{
	json_object *arr = json_object_new_array();
	size_t n = json_object_is_type(skipped, json_type_array) ? json_object_array_length(skipped) : 0;
	size_t shown = n < REPORT_SKIPPED_ROWS ? n : REPORT_SKIPPED_ROWS;
	for (size_t i = 0; i < shown; i++) {
		json_object *s = json_object_array_get_idx(skipped, i), *res = kp_json_get(s, "resource");
		char buf[1024];
		fmt_resource(res, buf, sizeof(buf));
		json_object *o = json_object_new_object();
		put_str(o, "resource", buf);
		put_str(o, "kind", kp_json_str(res, "kind"));
		put_str(o, "namespace", kp_json_str(res, "namespace"));
		put_str(o, "name", kp_json_str(res, "name"));
		const char *reason = kp_json_str(s, "reason");
		put_str(o, "reason", reason ? reason : "no reason given");
		json_object_array_add(arr, o);
	}
	put_bool(view, "has_skipped", n > 0);
	put_int(view, "skipped_count", (int64_t)n);
	put_int(view, "skipped_shown", (int64_t)shown);
	put_bool(view, "has_skipped_more", n > shown);
	char num[40];
	fmt_count((int64_t)(n - shown), num, sizeof(num));
	put_str(view, "skipped_more_label", num);
	json_object_object_add(view, "skipped", arr);
}

static void add_run_info(json_object *view, json_object *run_info)
{
	const char *version = kp_json_str(run_info, "version");
	put_str(view, "version", version ? version : KP_VERSION);
	/* "missing": the one-line summaries (what templates before structured
	 * entries show with {{.}}); "not_collected": each entry's parts, for a
	 * table. Entries come in either form (kp_missing_summary). */
	json_object *missing = kp_json_get(run_info, "missing"), *arr = json_object_new_array(),
		    *rows = json_object_new_array();
	size_t n = json_object_is_type(missing, json_type_array) ? json_object_array_length(missing) : 0;
	size_t listed = 0, total = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(missing, i);
		const char *summary = kp_missing_summary(m);
		if (!summary)
			continue;
		if (total++ >= REPORT_MISSING_ROWS)
			continue; /* counted, not listed */
		listed++;
		json_object_array_add(arr, json_object_new_string(summary));
		bool structured = json_object_is_type(m, json_type_object);
		const char *ns = structured ? kp_json_str(m, "namespace") : NULL;
		const char *res = structured ? kp_json_str(m, "resource") : NULL;
		const char *why = structured ? kp_json_str(m, "reason") : NULL;
		const char *wk = kp_json_str(m, "workload.kind"), *wn = kp_json_str(m, "workload.name");
		json_object *row = json_object_new_object();
		put_str(row, "summary", summary);
		put_str(row, "namespace", ns ? ns : "all namespaces");
		put_bool(row, "cluster_wide", !ns);
		char w[600];
		snprintf(w, sizeof(w), "%s %s", wk ? wk : "", wn ? wn : "");
		put_str(row, "workload", structured && wk && wn ? w : NULL);
		put_str(row, "resource", res ? res : "unknown");
		put_str(row, "reason", why ? why : summary);
		json_object_array_add(rows, row);
	}
	bool has_missing = json_object_array_length(arr) > 0;
	put_bool(view, "has_missing", has_missing);
	put_int(view, "missing_count", (int64_t)total);
	put_bool(view, "has_missing_more", total > listed);
	char more[40];
	fmt_count((int64_t)(total - listed), more, sizeof(more));
	put_str(view, "missing_more_label", more);
	json_object_object_add(view, "missing", arr);
	json_object_object_add(view, "not_collected", rows);
	int64_t out_of_scope = json_object_get_int64(kp_json_get(run_info, "missing_excluded_by_scope"));
	put_bool(view, "has_missing_excluded_by_scope", out_of_scope > 0);
	put_int(view, "missing_excluded_by_scope", out_of_scope > 0 ? out_of_scope : 0);
	char label[64];
	snprintf(label, sizeof(label), "%lld input%s", (long long)(out_of_scope > 0 ? out_of_scope : 0),
		 out_of_scope == 1 ? "" : "s");
	put_str(view, "missing_excluded_by_scope_label", label);
	/* an inconsistent snapshot degrades the run too, but has its own
	 * section (add_inconsistencies), not "Not collected" */
	put_bool(view, "degraded",
		 has_missing || (bool_of(run_info, "degraded") && !bool_of(view, "has_inconsistencies")));
}

/* How many inconsistencies the report spells out; findings.json has up to
 * KP_MAX_INCONSISTENCIES and the total. */
#define REPORT_INCONSISTENCIES 20

static void add_inconsistencies(json_object *view, json_object *findings)
{
	json_object *list = kp_json_get(findings, "inconsistencies"), *arr = json_object_new_array();
	int64_t total = json_object_get_int64(kp_json_get(findings, "inconsistencies_total"));
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n && i < REPORT_INCONSISTENCIES; i++) {
		json_object *m = json_object_array_get_idx(list, i);
		if (json_object_is_type(m, json_type_string))
			json_object_array_add(arr, json_object_new_string(json_object_get_string(m)));
	}
	int64_t shown = (int64_t)json_object_array_length(arr);
	if (total < shown)
		total = shown;
	put_bool(view, "has_inconsistencies", total > 0);
	put_int(view, "inconsistencies_total", total);
	char label[48];
	snprintf(label, sizeof(label), "%lld reference%s", (long long)total, total == 1 ? "" : "s");
	put_str(view, "inconsistencies_label", label);
	json_object_object_add(view, "inconsistencies", arr);
	put_bool(view, "has_inconsistencies_more", total > shown);
	put_int(view, "inconsistencies_more", total - shown);
}

/* ---- bounding: which findings are shown in detail, as rows, grouped ----
 *
 * A report is read by a person, so its size must not grow with the cluster:
 * the first detail_findings findings in order of money at stake get the full
 * section, the next row_findings one compact table row each, and the rest a
 * grouped line per category and cause ("1,500 PersistentVolumeClaims not
 * mounted by any pod in 400 namespaces"). report.xlsx and findings.json keep
 * every finding. Order of money at stake: |monthly_savings| descending (an
 * extra cost weighs as much as a saving), then risk (CRITICAL first), then
 * findings.json order. Within a category the findings shown keep
 * findings.json order, so a report under the limits is as before. */

enum { SHOW_DETAIL, SHOW_ROW, SHOW_GROUP };

typedef struct {
	size_t idx;
	double money;
	int risk;
} stake;

static int risk_rank(const char *r)
{
	static const char *const RISKS[] = {"LOW", "MEDIUM", "HIGH", "CRITICAL"};
	for (int i = 0; r && i < 4; i++)
		if (strcasecmp(r, RISKS[i]) == 0)
			return i + 1;
	return 0;
}

static int stake_cmp(const void *a, const void *b)
{
	const stake *x = a, *y = b;
	if (x->money != y->money)
		return x->money > y->money ? -1 : 1;
	if (x->risk != y->risk)
		return x->risk > y->risk ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int64_t limit_of(json_object *run_info, const char *k, int64_t dflt)
{
	json_object *v = kp_json_get(run_info, k);
	if (!is_num(v))
		return dflt;
	int64_t x = json_object_get_int64(v);
	return x < 0 ? 0 : x;
}

/* One grouped line: the findings of one category, resource kind, action
 * and blocked-or-not that are not listed one by one. */
typedef struct {
	char *key, *category, *kind, *action;
	bool blocked;
	int64_t count;
	double cost, savings;
	json_object *ns; /* namespace label -> how many */
} cause;

typedef struct {
	cause *v;
	size_t n, cap;
	json_object *index;
} cause_set;

static void cause_add(cause_set *cs, json_object *f)
{
	const char *cat = kp_json_str(f, "category"), *kind = kp_json_str(f, "resource.kind");
	const char *act = kp_json_str(f, "action.type"), *ns = kp_json_str(f, "resource.namespace");
	cat = cat ? cat : "uncategorized";
	kind = kind ? kind : "resource";
	act = act ? act : "review";
	bool blocked = kp_savings_bucket_of(f) == KP_BUCKET_BLOCKED;
	char *key = kp_xasprintf("%s\x1f%s\x1f%s\x1f%d", cat, kind, act, blocked);
	json_object *ix;
	cause *c;
	if (json_object_object_get_ex(cs->index, key, &ix)) {
		c = &cs->v[json_object_get_int64(ix)];
		free(key);
	} else {
		if (cs->n == cs->cap) {
			cs->cap = cs->cap ? cs->cap * 2 : 16;
			cs->v = kp_xrealloc(cs->v, cs->cap * sizeof(*cs->v));
		}
		json_object_object_add(cs->index, key, json_object_new_int64((int64_t)cs->n));
		c = &cs->v[cs->n++];
		*c = (cause){key, kp_xstrdup(cat), kp_xstrdup(kind), kp_xstrdup(act), blocked, 0, 0, 0,
			     json_object_new_object()};
	}
	c->count++;
	c->cost += num_or(f, "monthly_cost", 0);
	c->savings += num_or(f, "monthly_savings", 0);
	ns = ns ? ns : KP_CLUSTER_SCOPED_LABEL;
	json_object *cnt;
	if (json_object_object_get_ex(c->ns, ns, &cnt))
		json_object_set_int64(cnt, json_object_get_int64(cnt) + 1);
	else
		json_object_object_add(c->ns, ns, json_object_new_int64(1));
}

static void cause_set_release(cause_set *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->v[i].key);
		free(cs->v[i].category);
		free(cs->v[i].kind);
		free(cs->v[i].action);
		json_object_put(cs->v[i].ns);
	}
	free(cs->v);
	json_object_put(cs->index);
}

static int cause_cmp(const void *a, const void *b)
{
	const cause *x = a, *y = b;
	double mx = fabs(x->savings), my = fabs(y->savings);
	if (mx != my)
		return mx > my ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* "PersistentVolumeClaims not mounted by any pod": what the findings of a
 * grouped line are, after their count. */
static void cause_what(const cause *c, char *out, size_t n)
{
	static const struct {
		const char *category, *one, *many; /* %s: the kind, singular or plural */
	} WHAT[] = {
		{"over-provisioned", "container of a %s that requests well above its usage",
		 "containers of %s that request well above their usage"},
		{"under-provisioned", "container of a %s that uses more than it requests, was OOM-killed or throttled",
		 "containers of %s that use more than they request, were OOM-killed or throttled"},
		{"idle-workload", "%s whose pods did close to nothing over the window",
		 "%s whose pods did close to nothing over the window"},
		{"zero-replica-workload", "%s scaled to zero that still holds storage or a load balancer",
		 "%s scaled to zero that still hold storage or a load balancer"},
		{"orphaned-pvc", "%s not mounted by any pod", "%s not mounted by any pod"},
		{"unbound-pv", "%s that is Released, Available or Failed and still billed",
		 "%s that are Released, Available or Failed and still billed"},
		{"idle-loadbalancer", "%s of type LoadBalancer with no ready endpoints",
		 "%s of type LoadBalancer with no ready endpoints"},
		{"finished-job", "%s that finished long ago, with no CronJob owner and no TTL",
		 "%s that finished long ago, with no CronJob owner and no TTL"},
		{"underutilized-node", "%s whose pods request far less than it offers",
		 "%s whose pods request far less than they offer"},
	};
	char kind[300];
	size_t kl = strlen(c->kind);
	if (c->count == 1)
		snprintf(kind, sizeof(kind), "%s", c->kind);
	else
		snprintf(kind, sizeof(kind), "%s%s", c->kind, kl && (c->kind[kl - 1] == 's' || c->kind[kl - 1] == 'x') ? "es" : "s");
	const char *fmt = "%s";
	for (size_t i = 0; i < sizeof(WHAT) / sizeof(WHAT[0]); i++)
		if (strcmp(WHAT[i].category, c->category) == 0)
			fmt = c->count == 1 ? WHAT[i].one : WHAT[i].many;
	snprintf(out, n, fmt, kind);
}

/* "in 400 namespaces, most in shop-1 (120), shop-2 (88), shop-3 (40)";
 * NULL for cluster-scoped resources only. */
static char *cause_where(const cause *c)
{
	enum { TOP = 3 };
	const char *top[TOP] = {NULL};
	int64_t topn[TOP] = {0};
	size_t nns = 0;
	json_object_object_foreach(c->ns, name, cnt)
	{
		nns++;
		int64_t v = json_object_get_int64(cnt);
		for (int k = 0; k < TOP; k++) {
			if (!top[k] || v > topn[k] || (v == topn[k] && strcmp(name, top[k]) < 0)) {
				for (int j = TOP - 1; j > k; j--) {
					top[j] = top[j - 1];
					topn[j] = topn[j - 1];
				}
				top[k] = name;
				topn[k] = v;
				break;
			}
		}
	}
	if (nns == 0 || (nns == 1 && strcmp(top[0], KP_CLUSTER_SCOPED_LABEL) == 0))
		return NULL;
	kp_buf b;
	kp_buf_init(&b);
	char num[40];
	if (nns == 1) {
		kp_buf_printf(&b, "in namespace %s", top[0]);
		return kp_buf_detach(&b);
	}
	fmt_count((int64_t)nns, num, sizeof(num));
	kp_buf_printf(&b, "in %s namespaces, most in ", num);
	for (int k = 0; k < TOP && top[k]; k++) {
		fmt_count(topn[k], num, sizeof(num));
		kp_buf_printf(&b, "%s%s (%s)", k ? ", " : "", top[k], num);
	}
	return kp_buf_detach(&b);
}

static json_object *cause_view(const cause *c, const char *cur)
{
	json_object *o = json_object_new_object();
	char buf[512], m[128], m2[128];
	put_str(o, "category", c->category);
	put_str(o, "kind", c->kind);
	put_str(o, "action_type", c->action);
	put_bool(o, "blocked", c->blocked);
	put_int(o, "count", c->count);
	fmt_count(c->count, buf, sizeof(buf));
	put_str(o, "count_label", buf);
	cause_what(c, buf, sizeof(buf));
	put_str(o, "what", buf);
	put_int(o, "namespaces", (int64_t)json_object_object_length(c->ns));
	char *where = cause_where(c);
	put_str(o, "where", where);
	free(where);
	put_double(o, "monthly_cost", c->cost);
	put_double(o, "monthly_savings", c->savings);
	put_money(o, "cost", c->cost, cur);
	put_money(o, "savings", c->savings, cur);
	put_bool(o, "is_increase", c->savings < 0);
	put_money(o, "cost_increase", c->savings < 0 ? -c->savings : 0, cur);
	bool hygiene = kp_money_round(c->cost) == 0 && kp_money_round(c->savings) == 0;
	put_bool(o, "is_hygiene", hygiene);
	kp_money_format(c->savings, cur, m, sizeof(m));
	kp_money_format(c->cost, cur, m2, sizeof(m2));
	if (c->blocked)
		snprintf(buf, sizeof(buf), "%s/month blocked in protected namespaces (review only)", m);
	else if (hygiene)
		snprintf(buf, sizeof(buf), "nothing on the bill");
	else if (c->savings < 0) {
		kp_money_format(-c->savings, cur, m, sizeof(m));
		snprintf(buf, sizeof(buf), "extra cost %s/month", m);
	} else
		snprintf(buf, sizeof(buf), "saves %s/month (cost today %s/month)", m, m2);
	put_str(o, "money_label", buf);
	return o;
}

/* "9,213 findings: 200 in detail (...), 2,000 as one table row each and
 * 7,013 in grouped lines, one per category and cause." */
static void add_listing(json_object *view, int64_t total, int64_t detailed, int64_t rows, int64_t grouped,
			int64_t detail_max, int64_t row_max)
{
	json_object *o = json_object_new_object();
	put_int(o, "total", total);
	put_int(o, "detailed", detailed);
	put_int(o, "compact", rows);
	put_int(o, "grouped", grouped);
	put_int(o, "detail_limit", detail_max);
	put_int(o, "row_limit", row_max);
	put_bool(o, "is_bounded", rows + grouped > 0);
	put_bool(o, "has_grouped", grouped > 0);
	char a[40], parts[3][160];
	size_t np = 0;
	if (detailed) {
		fmt_count(detailed, a, sizeof(a));
		snprintf(parts[np++], sizeof(parts[0]), "%s in detail (the most money at stake first, then the highest risk)", a);
	}
	if (rows) {
		fmt_count(rows, a, sizeof(a));
		snprintf(parts[np++], sizeof(parts[0]), "%s as one table row each", a);
	}
	if (grouped) {
		fmt_count(grouped, a, sizeof(a));
		snprintf(parts[np++], sizeof(parts[0]), "%s in grouped lines, one per category and cause", a);
	}
	kp_buf b;
	kp_buf_init(&b);
	fmt_count(total, a, sizeof(a));
	kp_buf_printf(&b, "%s finding%s", a, total == 1 ? "" : "s");
	for (size_t i = 0; i < np; i++)
		kp_buf_printf(&b, "%s%s", i == 0 ? ": " : i + 1 == np ? " and " : ", ", parts[i]);
	kp_buf_puts(&b, ".");
	put_str(o, "summary", kp_buf_cstr(&b));
	kp_buf_release(&b);
	fmt_count(rows + grouped, a, sizeof(a));
	put_str(o, "not_detailed_label", a);
	json_object_object_add(view, "listing", o);
}

/* The report view built one finding at a time (render.h): begin reads the
 * document's header and a light form of every finding (ranking, the plan,
 * the money split, the prices used), add takes the full findings in order,
 * end assembles the view. Nothing keeps a full finding after add returns. */
/* What kp_report_light_add keeps of each finding: its place in the
 * ranking, its plan key, its money in the split, the prices it used; a few
 * dozen bytes where its light JSON form was a kilobyte. */
struct kp_report_light {
	size_t n;             /* elements seen, objects or not */
	stake *order;         /* the objects' stakes */
	size_t nvalid, cap;
	unsigned char *under; /* per element: under-provisioned (the reliability table) */
	size_t under_cap;
	kp_plan_key *keys;    /* per object, in order; ids in ids */
	size_t *key_index;    /* the element each key belongs to */
	kp_arena ids;
	kp_savings_split split;
	price_rows prices;
};

kp_report_light *kp_report_light_new(void)
{
	kp_report_light *l = kp_xcalloc(1, sizeof(*l));
	kp_arena_init(&l->ids);
	return l;
}

size_t kp_report_light_count(const kp_report_light *l) { return l->n; }

void kp_report_light_free(kp_report_light *l)
{
	if (!l)
		return;
	free(l->order);
	free(l->under);
	free(l->keys);
	free(l->key_index);
	kp_arena_release(&l->ids);
	prices_release(&l->prices);
	free(l);
}

void kp_report_light_add(kp_report_light *l, json_object *f)
{
	size_t i = l->n++;
	if (l->n > l->under_cap) {
		l->under_cap = l->under_cap ? l->under_cap * 2 : 1024;
		l->under = kp_xrealloc(l->under, l->under_cap);
	}
	l->under[i] = 0;
	if (!json_object_is_type(f, json_type_object))
		return;
	if (l->nvalid == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->order = kp_xrealloc(l->order, l->cap * sizeof(*l->order));
		l->keys = kp_xrealloc(l->keys, l->cap * sizeof(*l->keys));
		l->key_index = kp_xrealloc(l->key_index, l->cap * sizeof(*l->key_index));
	}
	l->order[l->nvalid] = (stake){i, fabs(num_or(f, "monthly_savings", 0)), risk_rank(kp_json_str(f, "risk"))};
	kp_plan_key k;
	kp_plan_key_of(f, &k);
	k.id = k.id ? kp_arena_strdup(&l->ids, k.id) : NULL;
	l->keys[l->nvalid] = k;
	l->key_index[l->nvalid] = i;
	l->nvalid++;
	const char *cat = kp_json_str(f, "category");
	l->under[i] = cat && strcmp(cat, "under-provisioned") == 0;
	kp_savings_split_add(&l->split, f);
	prices_add(&l->prices, f);
}

struct kp_report_builder {
	json_object *hdr, *view;
	kp_savings_split split;
	const char *cur;
	int64_t detail_max, row_max;
	size_t n, next;        /* elements in the document; the next one add expects */
	unsigned char *show, *in_rel;
	json_object *all, *top;
	group_set cats, nss;
	cause_set causes;
	int64_t rank, ndetail, nrow, ngroup;
	kp_plan plan;
	kp_report_light *light; /* owned: the plan's ids */
	size_t plan_shown;
	size_t *plan_idx;          /* element index of each shown plan step */
	json_object **plan_views;  /* their views, made when add meets them */
};

/* plan: the first steps of plan.json's order (plan.c), from findings.json;
 * built by kp_report_begin, the steps' views made by kp_report_add. */
static void add_plan(json_object *view, kp_report_builder *b)
{
	const kp_plan *p = &b->plan;
	const char *cur = b->cur;
	json_object *o = json_object_new_object(), *steps = json_object_new_array();
	size_t shown = b->plan_shown;
	char buf[1024], num[40];
	kp_buf cmds;
	kp_buf_init(&cmds);
	for (size_t i = 0; i < shown; i++) {
		const kp_plan_item *it = &p->steps[i];
		/* the full finding's view; from the light form only if the
		 * document given to begin was not the one streamed to add */
		json_object *d = b->plan_views[i]		? b->plan_views[i]
				 : it->finding ? finding_view(it->finding, (int64_t)i + 1, cur)
					       : json_object_new_object(); /* not met by add: a changed file, failed anyway */
		b->plan_views[i] = NULL;
		put_int(d, "step", (int64_t)i + 1);
		put_str(d, "risk_class", kp_plan_class_name(it->cls));
		put_money(d, "cumulative", it->cumulative, cur);
		put_double(d, "cumulative_savings", it->cumulative);
		const char *cmd = kp_json_str(d, "command");
		if (cmd)
			kp_buf_printf(&cmds, "%s%s", cmds.len ? "\n" : "", cmd);
		json_object_array_add(steps, d);
	}
	put_bool(o, "has_steps", shown > 0);
	json_object_object_add(o, "steps", steps);
	put_int(o, "count", (int64_t)p->nsteps);
	put_int(o, "shown", (int64_t)shown);
	if (shown < p->nsteps)
		snprintf(buf, sizeof(buf), "The first %zu steps", shown);
	else if (shown == 1)
		snprintf(buf, sizeof(buf), "This step");
	else
		snprintf(buf, sizeof(buf), "These %zu steps", shown);
	put_str(o, "shown_label", buf);
	put_money(o, "shown_savings", shown ? p->steps[shown - 1].cumulative : 0, cur);
	put_money(o, "savings", p->savings, cur);
	put_bool(o, "has_more", shown < p->nsteps);
	fmt_count((int64_t)(p->nsteps - shown), num, sizeof(num));
	snprintf(buf, sizeof(buf), "%s more step%s", num, p->nsteps - shown == 1 ? "" : "s");
	put_str(o, "more_label", buf);
	/* one copy-paste block of the shown commands, fenced so no command can close it */
	put_str(o, "commands", cmds.len ? kp_buf_cstr(&cmds) : NULL);
	command_fence(kp_buf_cstr(&cmds), buf, 64);
	put_str(o, "commands_fence", buf);
	kp_buf_release(&cmds);
	put_bool(o, "has_blocked", p->nblocked > 0);
	fmt_count((int64_t)p->nblocked, num, sizeof(num));
	snprintf(buf, sizeof(buf), "%s blocked action%s", num, p->nblocked == 1 ? "" : "s");
	put_str(o, "blocked_label", buf);
	put_money(o, "blocked_savings", p->blocked_savings, cur);
	json_object_object_add(view, "plan", o);
}

kp_report_builder *kp_report_begin_light(json_object *findings, kp_report_light *light, json_object *run_info)
{
	kp_report_builder *b = kp_xcalloc(1, sizeof(*b));
	b->hdr = json_object_get(findings);
	json_object *view = b->view = json_object_new_object();
	const char *cur = kp_json_str(findings, "prices.currency");
	b->cur = cur = cur ? cur : "USD";
	char buf[256];

	put_str(view, "schema", kp_json_str(findings, "schema"));
	const char *gen = kp_json_str(findings, "generated_at");
	put_str(view, "generated_at", gen);
	fmt_time(gen, buf, sizeof(buf));
	put_str(view, "generated_at_display", buf);
	add_inconsistencies(view, findings);
	add_run_info(view, run_info);

	json_object *cluster = json_object_new_object();
	const char *cname = kp_json_str(findings, "cluster.name");
	cname = cname ? cname : "unknown cluster";
	put_str(cluster, "name", cname);
	put_str(cluster, "context", kp_json_str(findings, "cluster.context"));
	put_str(cluster, "server", kp_json_str(findings, "cluster.server"));
	json_object_object_add(view, "cluster", cluster);
	put_str(view, "cluster_name", cname);

	add_window(view, kp_json_get(findings, "window"));
	add_prices(view, kp_json_get(findings, "prices"), cur);
	prices_view(kp_json_get(view, "prices"), &light->prices, cur);
	put_str(view, "currency", cur);
	add_trend(view, kp_json_get(run_info, "history"), cur);

	/* Which findings are shown how (see "bounding" above): rank them by
	 * money at stake, then one pass in findings.json order (add) builds
	 * the views of those shown and every aggregate. */
	size_t n = b->n = light->n, valid = light->nvalid;
	b->detail_max = limit_of(run_info, "detail_findings", KP_REPORT_DETAIL_DEFAULT);
	b->row_max = limit_of(run_info, "row_findings", KP_REPORT_ROWS_DEFAULT);
	stake *order = light->order;
	b->show = kp_xcalloc(n ? n : 1, 1), b->in_rel = kp_xcalloc(n ? n : 1, 1);
	if (valid)
		qsort(order, valid, sizeof(*order), stake_cmp);
	int64_t nrel = 0;
	for (size_t k = 0; k < valid; k++) {
		size_t i = order[k].idx;
		b->show[i] = (int64_t)k < b->detail_max			  ? SHOW_DETAIL
			     : (int64_t)k - b->detail_max < b->row_max ? SHOW_ROW
									  : SHOW_GROUP;
		if (b->show[i] != SHOW_GROUP && light->under[i] && nrel < REPORT_RELIABILITY_ROWS) {
			b->in_rel[i] = 1;
			nrel++;
		}
	}

	/* the plan's first steps, in plan.json's order (plan.c); their views
	 * are made from the full findings as add meets them */
	kp_plan_init(&b->plan, valid);
	for (size_t k = 0; k < valid; k++)
		kp_plan_add(&b->plan, &light->keys[k], light->key_index[k], NULL);
	kp_plan_finish(&b->plan);
	b->plan_shown = b->plan.nsteps < KP_REPORT_PLAN_STEPS ? b->plan.nsteps : KP_REPORT_PLAN_STEPS;
	b->plan_idx = kp_xcalloc(b->plan_shown + 1, sizeof(*b->plan_idx));
	b->plan_views = kp_xcalloc(b->plan_shown + 1, sizeof(*b->plan_views));
	for (size_t k = 0; k < b->plan_shown; k++)
		b->plan_idx[k] = b->plan.steps[k].index;
	/* the ids the plan borrows stay with the builder */
	b->light = light;
	b->split = light->split;
	kp_savings_split_finish(findings, &b->split);

	b->all = json_object_new_array(), b->top = json_object_new_array();
	b->cats = (group_set){NULL, 0, 0, json_object_new_object()};
	b->nss = (group_set){NULL, 0, 0, json_object_new_object()};
	b->causes = (cause_set){NULL, 0, 0, json_object_new_object()};
	return b;
}

void kp_report_add(kp_report_builder *b, json_object *f)
{
	size_t i = b->next++;
	if (i >= b->n || !json_object_is_type(f, json_type_object))
		return; /* counted in begin from the same document: never more */
	const char *cur = b->cur;
	for (size_t k = 0; k < b->plan_shown; k++)
		if (b->plan_idx[k] == i && !b->plan_views[k])
			b->plan_views[k] = finding_view(f, (int64_t)k + 1, cur);
	int64_t rank = ++b->rank;
	double cost = num_or(f, "monthly_cost", 0), s = num_or(f, "monthly_savings", 0);
	bool blocked = kp_savings_bucket_of(f) == KP_BUCKET_BLOCKED;
	const char *cat = kp_json_str(f, "category"), *ns = kp_json_str(f, "resource.namespace");
	group *gs[2] = {group_for(&b->cats, cat ? cat : "uncategorized"),
			group_for(&b->nss, ns ? ns : KP_CLUSTER_SCOPED_LABEL)};
	for (size_t k = 0; k < 2; k++) {
		group *g = gs[k];
		g->count++;
		g->cost += cost;
		if (blocked) {
			g->blocked += s;
			g->nblocked++;
		} else {
			g->savings += s;
		}
	}
	json_object *d = NULL;
	if (b->show[i] == SHOW_DETAIL) {
		d = finding_view(f, rank, cur);
		json_object_array_add(b->all, d);
		json_object_array_add(gs[0]->items, json_object_get(d));
		b->ndetail++;
	} else if (b->show[i] == SHOW_ROW) {
		d = finding_row(f, rank, cur);
		json_object_array_add(gs[0]->rows, d);
		b->nrow++;
	} else {
		cause_add(&b->causes, f);
		gs[0]->ngrouped++;
		b->ngroup++;
	}
	if (b->in_rel[i])
		json_object_array_add(gs[0]->rel, json_object_get(d));
	/* the first findings of findings.json: the biggest savings */
	if (json_object_array_length(b->top) < KP_REPORT_TOP)
		json_object_array_add(b->top, d ? json_object_get(d) : finding_row(f, rank, cur));
}

static void builder_free(kp_report_builder *b)
{
	for (size_t k = 0; k < b->plan_shown; k++)
		json_object_put(b->plan_views[k]);
	free(b->plan_views);
	free(b->plan_idx);
	kp_plan_release(&b->plan);
	kp_report_light_free(b->light);
	free(b->show);
	free(b->in_rel);
	json_object_put(b->all);
	json_object_put(b->top);
	cause_set_release(&b->causes);
	group_set_release(&b->cats);
	group_set_release(&b->nss);
	json_object_put(b->view);
	json_object_put(b->hdr);
	free(b);
}

void kp_report_abort(kp_report_builder *b)
{
	if (b)
		builder_free(b);
}

json_object *kp_report_end(kp_report_builder *b)
{
	json_object *findings = b->hdr, *view = b->view;
	const char *cur = b->cur;
	char buf[256], num[40];
	cause_set *causes = &b->causes;
	group_set *cats = &b->cats, *nss = &b->nss;
	if (causes->n)
		qsort(causes->v, causes->n, sizeof(*causes->v), cause_cmp);
	if (cats->n) /* qsort(NULL, 0, ...) is undefined */
		qsort(cats->v, cats->n, sizeof(*cats->v), group_cmp);
	if (nss->n)
		qsort(nss->v, nss->n, sizeof(*nss->v), group_cmp);
	int64_t count = b->rank;

	/* The key figures: one split (savings.c) shared with report.xlsx and
	 * the terminal. "savings" is the net the plan can act on; blocked
	 * money is its own figure, never added to it. */
	kp_savings_split sp = b->split;
	json_object *t = json_object_new_object();
	int64_t total_n = sp.findings;
	put_int(t, "findings", total_n);
	char tl[32];
	fmt_count(total_n, tl, sizeof(tl));
	put_str(t, "count_formatted", tl); /* the number alone, for the tables' Findings column */
	fmt_count(total_n, num, sizeof(num));
	snprintf(buf, sizeof(buf), "%s finding%s", num, total_n == 1 ? "" : "s");
	put_str(t, "findings_label", buf);
	put_double(t, "monthly_cost", sp.cost);
	put_double(t, "monthly_savings", sp.net);
	put_money(t, "cost", sp.cost, cur);
	put_money(t, "savings", sp.net, cur);
	put_money(t, "savings_annual", sp.net * 12, cur);
	put_double(t, "all_monthly_savings", sp.all);
	put_money(t, "all_savings", sp.all, cur);
	put_money(t, "gross_savings", sp.no_approval + sp.approval, cur);
	put_money(t, "approval_savings", sp.approval, cur);
	put_int(t, "approval_count", sp.n_approval);
	put_money(t, "auto_savings", sp.no_approval, cur);
	put_int(t, "auto_count", sp.n_no_approval);
	put_money(t, "blocked_savings", sp.blocked, cur);
	put_double(t, "blocked_monthly_savings", sp.blocked);
	put_int(t, "blocked_count", sp.n_blocked);
	put_bool(t, "has_blocked", sp.n_blocked > 0);
	fmt_count(sp.n_blocked, num, sizeof(num));
	snprintf(buf, sizeof(buf), "%s blocked action%s", num, sp.n_blocked == 1 ? "" : "s");
	put_str(t, "blocked_label", buf);
	put_money(t, "reliability_cost", sp.reliability, cur);
	put_money(t, "reliability_delta", -sp.reliability, cur);
	put_int(t, "reliability_count", sp.n_reliability);
	put_bool(t, "has_reliability", sp.n_reliability > 0);
	fmt_count(sp.n_reliability, num, sizeof(num));
	snprintf(buf, sizeof(buf), "%s reliability fix%s", num, sp.n_reliability == 1 ? "" : "es");
	put_str(t, "reliability_label", buf);
	json_object_object_add(view, "totals", t);

	put_bool(view, "has_findings", count > 0);
	add_listing(view, count, b->ndetail, b->nrow, b->ngroup, b->detail_max, b->row_max);
	json_object_object_add(view, "findings", json_object_get(b->all));
	json_object_object_add(view, "top", json_object_get(b->top));
	add_groups(view, "by_category", cats, cur, true);
	add_groups(view, "by_namespace", nss, cur, false);

	json_object *groups = json_object_new_array();
	for (size_t i = 0; i < cats->n; i++) {
		group *g = &cats->v[i];
		json_object *o = json_object_new_object();
		put_str(o, "category", g->key);
		put_str(o, "title", category_title(g->key));
		put_str(o, "description", category_desc(g->key));
		put_int(o, "count", g->count);
		fmt_count(g->count, num, sizeof(num));
		snprintf(buf, sizeof(buf), "%s finding%s", num, g->count == 1 ? "" : "s");
		put_str(o, "count_label", buf);
		put_money(o, "cost", g->cost, cur);
		put_money(o, "savings", g->savings, cur);
		put_bool(o, "is_increase", g->savings < 0);
		put_money(o, "cost_increase", g->savings < 0 ? -g->savings : 0, cur);
		put_group_blocked(o, g, cur);
		json_object_object_add(o, "findings", json_object_get(g->items));
		int64_t nd = (int64_t)json_object_array_length(g->items), nr = (int64_t)json_object_array_length(g->rows);
		put_int(o, "detailed_count", nd);
		put_bool(o, "has_detailed", nd > 0);
		put_int(o, "compact_count", nr);
		put_bool(o, "has_compact", nr > 0);
		fmt_count(nr, num, sizeof(num));
		snprintf(buf, sizeof(buf), "%s%s, one row each:", num, nd ? " more" : nr == 1 ? " finding" : " findings");
		put_str(o, "compact_intro", buf);
		json_object_object_add(o, "compact", json_object_get(g->rows));
		json_object *grouped = json_object_new_array();
		for (size_t k = 0; k < causes->n; k++)
			if (strcmp(causes->v[k].category, g->key) == 0)
				json_object_array_add(grouped, cause_view(&causes->v[k], cur));
		put_int(o, "grouped_count", g->ngrouped);
		put_bool(o, "has_grouped", g->ngrouped > 0);
		fmt_count(g->ngrouped, num, sizeof(num));
		snprintf(buf, sizeof(buf), "%s%s%s, by cause:", num, nd || nr ? " more" : "",
			 g->ngrouped == 1 && !(nd || nr) ? " finding" : g->ngrouped == 1 ? "" : !(nd || nr) ? " findings" : "");
		put_str(o, "grouped_intro", buf);
		json_object_object_add(o, "grouped", grouped);
		json_object_array_add(groups, o);
		if (strcmp(g->key, "under-provisioned") == 0) {
			json_object *rel = json_object_new_object();
			int64_t shown = (int64_t)json_object_array_length(g->rel);
			put_int(rel, "count", g->count);
			put_money(rel, "cost_increase", g->savings < 0 ? -g->savings : 0, cur);
			json_object_object_add(rel, "findings", json_object_get(g->rel));
			put_int(rel, "shown", shown);
			put_bool(rel, "has_more", g->count > shown);
			fmt_count(g->count - shown, num, sizeof(num));
			put_str(rel, "more_label", num);
			json_object_object_add(view, "reliability", rel);
		}
	}
	json_object_object_add(view, "categories", groups);

	add_skipped(view, kp_json_get(findings, "skipped"));
	add_scope(view, findings);
	add_plan(view, b);
	add_changes(view, findings, cur);
	b->view = NULL;
	builder_free(b);
	return view;
}

kp_report_builder *kp_report_begin(json_object *findings, json_object *run_info)
{
	kp_report_light *l = kp_report_light_new();
	json_object *list = kp_json_get(findings, "findings");
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++)
		kp_report_light_add(l, json_object_array_get_idx(list, i));
	return kp_report_begin_light(findings, l, run_info);
}

json_object *kp_report_view(json_object *findings, json_object *run_info)
{
	kp_report_builder *b = kp_report_begin(findings, run_info);
	json_object *list = kp_json_get(findings, "findings");
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++)
		kp_report_add(b, json_object_array_get_idx(list, i));
	return kp_report_end(b);
}

/* Reads a user's template, or takes the built-in one. */
static kp_status template_of(const char *template_path, char **owned, const char **tmpl, const char **name,
			     kp_error *err)
{
	*owned = NULL;
	if (template_path) {
		kp_status st = kp_read_file(template_path, owned, NULL, err);
		if (st != KP_OK)
			return kp_error_prefix(err, "report template");
		*tmpl = *owned;
		*name = template_path;
	} else {
		*tmpl = kp_template_builtin();
		*name = "report.md.mustache";
	}
	return KP_OK;
}

kp_status kp_render_markdown_view(json_object *view, const char *template_path, char **out, kp_error *err)
{
	*out = NULL;
	char *owned;
	const char *tmpl = NULL, *name = NULL;
	kp_status st = template_of(template_path, &owned, &tmpl, &name, err);
	if (!st)
		st = kp_mustache_render_markdown(tmpl, name, view, out, err);
	free(owned);
	return st;
}

kp_status kp_render_markdown(json_object *findings, json_object *run_info, const char *template_path, char **out,
			     kp_error *err)
{
	*out = NULL;
	if (!json_object_is_type(findings, json_type_object))
		return kp_fail(err, KP_ERR_INPUT, "findings: not a JSON object");
	json_object *view = kp_report_view(findings, run_info);
	kp_status st = kp_render_markdown_view(view, template_path, out, err);
	json_object_put(view);
	return st;
}
