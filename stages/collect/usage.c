/*
 * usage.c - see usage.h.
 *
 * The queries, for a group of namespaces (NS, a regex of their names) and
 * optionally of pods (POD), with L = namespace,pod,container (the label
 * names of prometheus.labels.*), W the window, S the step, R the rate
 * window, all evaluated at the window's end T unless said otherwise:
 *
 *   cpu p50/p95/p99   max by (L) (quantile_over_time(q, rate(container_cpu_usage_seconds_total{SEL}[R])[W:S]))
 *   cpu max           max by (L) (max_over_time(rate(container_cpu_usage_seconds_total{SEL}[R])[W:S]))
 *   memory p50        max by (L) (quantile_over_time(0.5, container_memory_working_set_bytes{SEL}[W:S]))
 *   memory max        max by (L) (max_over_time(container_memory_working_set_bytes{SEL}[W]))
 *   samples           sum by (L) (count_over_time(container_memory_working_set_bytes{SEL}[W]))
 *   first, last seen  min|max by (L) (min|max_over_time(timestamp(last_over_time(
 *                       container_memory_working_set_bytes{SEL}[S-1ms]))[W:S]))   (to the step)
 *   throttling        sum by (L) (increase(..._cfs_throttled_periods_total{SEL}[W]))
 *                       / sum by (L) (increase(container_cpu_cfs_periods_total{SEL}[W]))
 *   restarts          max by (L) (max_over_time(restarts{KSEL}[W]) - min_over_time(restarts{KSEL}[W]))
 *   OOM kills         restarts that happened while the last termination
 *                     reason was OOMKilled, summed over the window's steps
 *   owner             max by (namespace,pod,owner_kind,owner_name) (max_over_time(kube_pod_owner{KSEL,owner_is_controller="true"}[W]))
 *
 * SEL = container!="",container!="POD",NS; KSEL = NS. So a window of 14
 * days costs a fixed number of queries per group whatever the number of
 * containers in it (KRR sends seven per container), and a pod replaced
 * during the window keeps its usage and its owner.
 *
 * What they cost Prometheus (2.42, 2,000 containers x 14 days at 60 s, one
 * query each): a range function straight on a selector inside a subquery
 * (rate(x[R])[W:S], x[W:S]) is evaluated series by series, 2-8 s; anything
 * evaluated step by step on whole vectors (an aggregation, arithmetic,
 * timestamp() of a function) costs ~0.6 us a point, 25-45 s. So:
 *  - percentiles are taken per series and the series of one container
 *    (a restarted container has one per instance in cAdvisor) combined
 *    with max: never below the percentile of the samples pooled, which
 *    lies between the series' own (7 s instead of 34 s for each CPU one);
 *  - first and last seen, the step-by-step kind, are asked only for the
 *    pods that need them: a phase before the others asks, with cheap
 *    instant queries, which containers have a sample at the subquery's
 *    first point (the same range as that point's) and when each
 *    container's last sample within the lookback before its last point
 *    was (timestamp() of a selector is cheap outside a subquery); that
 *    settles their first and last step exactly as the subquery would, and
 *    only the pods with a container left unsettled are sent the subquery;
 *  - OOM kills likewise: the phase before asks which pods had an
 *    OOMKilled last-termination reason in the window, and only those pods
 *    are sent the step-by-step OOM query (none, in most clusters).
 */
#include "stages/collect/usage.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/jscan.h"
#include "pipeline/jsonw.h"
#include "pipeline/quantity.h"
#include "pipeline/urlmask.h"

/* ---- what a query answers: a stream of (labels, value) ---- */

enum { LB_NS, LB_POD, LB_CONTAINER, LB_OWNER_KIND, LB_OWNER_NAME, NLABELS };

typedef struct {
	const char *names[NLABELS]; /* the label names to keep */
	char *vals[NLABELS];
	char *value;
	int value_index;
	/* the answer's envelope */
	char *status, *error, *error_type;
	char keys[8][48]; /* the member name at each depth */
	bool series;      /* /api/v1/series: data is a list of label sets */
	void (*item)(void *ud, char **labels, const char *value);
	void *ud;
	size_t items;
} answer_t;

static void answer_clear_item(answer_t *a)
{
	for (int i = 0; i < NLABELS; i++) {
		free(a->vals[i]);
		a->vals[i] = NULL;
	}
	free(a->value);
	a->value = NULL;
	a->value_index = 0;
}

static void answer_reset(void *ud)
{
	answer_t *a = ud;
	answer_clear_item(a);
	free(a->status), free(a->error), free(a->error_type);
	a->status = a->error = a->error_type = NULL;
	memset(a->keys, 0, sizeof(a->keys));
	a->items = 0;
}

static char *dup_text(const kp_jscan_token *t)
{
	size_t n = t->text ? t->len : 0;
	char *s = kp_xmalloc(n + 1);
	if (n)
		memcpy(s, t->text, n);
	s[n] = '\0';
	return s;
}

static bool key_is(const answer_t *a, int depth, const char *k)
{
	return depth >= 0 && depth < 8 && strcmp(a->keys[depth], k) == 0;
}

static kp_status on_token(void *ud, const kp_jscan_token *t, kp_error *err)
{
	(void)err;
	answer_t *a = ud;
	int d = t->depth;
	if (t->type == KP_JS_KEY) {
		if (d < 8)
			snprintf(a->keys[d], sizeof(a->keys[d]), "%.*s", (int)(t->len < 47 ? t->len : 47), t->text);
		return KP_OK;
	}
	if (d == 1 && t->type == KP_JS_STRING) {
		char **slot = key_is(a, 1, "status") ? &a->status : key_is(a, 1, "error") ? &a->error
				  : key_is(a, 1, "errorType") ? &a->error_type : NULL;
		if (slot) {
			free(*slot);
			*slot = dup_text(t);
		}
		return KP_OK;
	}
	/* an item: data.result[i] of a query, data[i] of /series */
	int item_depth = a->series ? 3 : 4;
	bool in_items = a->series ? key_is(a, 1, "data") : key_is(a, 1, "data") && key_is(a, 2, "result");
	if (!in_items)
		return KP_OK;
	if (d == item_depth && t->type == KP_JS_OBJECT_BEGIN) {
		answer_clear_item(a);
		return KP_OK;
	}
	if (d == item_depth && t->type == KP_JS_OBJECT_END) {
		a->items++;
		a->item(a->ud, a->vals, a->value);
		answer_clear_item(a);
		return KP_OK;
	}
	int label_depth = a->series ? item_depth : item_depth + 1;
	bool in_labels = a->series ? true : key_is(a, item_depth, "metric");
	if (d == label_depth && t->type == KP_JS_STRING && in_labels) {
		for (int i = 0; i < NLABELS; i++)
			if (a->names[i] && strcmp(a->keys[d], a->names[i]) == 0 && !a->vals[i])
				a->vals[i] = dup_text(t);
		return KP_OK;
	}
	/* "value": [ <unix time>, "<value>" ] */
	if (!a->series && d == item_depth + 1 && key_is(a, item_depth, "value") &&
	    (t->type == KP_JS_NUMBER || t->type == KP_JS_STRING)) {
		if (a->value_index++ == 1 && t->type == KP_JS_STRING) {
			free(a->value);
			a->value = dup_text(t);
		}
	}
	return KP_OK;
}

typedef struct {
	kp_jscan *scan;
	answer_t *a;
	const char *name;
} stream_t;

static kp_status stream_begin(void *ud, long status, kp_error *err)
{
	(void)status, (void)err;
	stream_t *s = ud;
	kp_jscan_free(s->scan);
	answer_reset(s->a);
	kp_jscan_opts jo = {.text = true, .max_text = 1 << 16};
	s->scan = kp_jscan_new(s->name, &jo, on_token, s->a);
	return KP_OK;
}

static kp_status stream_data(void *ud, const char *p, size_t n, kp_error *err)
{
	stream_t *s = ud;
	return kp_jscan_feed(s->scan, p, n, err);
}

static void stream_reset(void *ud)
{
	stream_t *s = ud;
	kp_jscan_free(s->scan);
	s->scan = NULL;
	answer_reset(s->a);
}

/* ---- the collector ---- */

typedef struct rec {
	char *ns, *pod, *container;
	double v[16]; /* by query kind; NAN = unknown */
	struct rec *next;
} rec;

typedef struct owner {
	char *ns, *pod, *kind, *name;
	struct owner *next;
} owner;

enum {
	Q_CPU_P50,
	Q_CPU_P95,
	Q_CPU_P99,
	Q_CPU_MAX,
	Q_MEM_P50,
	Q_MEM_MAX,
	Q_SAMPLES,
	Q_FIRST,
	Q_LAST,
	Q_THROTTLE,
	Q_RESTARTS,
	Q_OOM,
	Q_OWNER,
	NQ,
	/* the phase before: which pods need the first, last seen and OOM
	 * queries (results go to the inventory, not to usage.json) */
	Q_ALIVE_FIRST = NQ,
	Q_ALIVE_LAST,
	Q_OOM_PODS,
	NQALL
};

/* the series each query needs */
enum { M_CPU, M_MEM, M_CFS, M_CFS_THROTTLED, M_OWNER, M_RESTARTS, M_REASON, NMETRICS };
static const char *const metric_names[NMETRICS] = {
	"container_cpu_usage_seconds_total",
	"container_memory_working_set_bytes",
	"container_cpu_cfs_periods_total",
	"container_cpu_cfs_throttled_periods_total",
	"kube_pod_owner",
	"kube_pod_container_status_restarts_total",
	"kube_pod_container_status_last_terminated_reason",
};

static const struct {
	const char *what; /* for messages */
	unsigned needs;   /* bit per metric */
} qkinds[NQALL] = {
	[Q_CPU_P50] = {"CPU p50", 1u << M_CPU},
	[Q_CPU_P95] = {"CPU p95", 1u << M_CPU},
	[Q_CPU_P99] = {"CPU p99", 1u << M_CPU},
	[Q_CPU_MAX] = {"CPU max", 1u << M_CPU},
	[Q_MEM_P50] = {"memory p50", 1u << M_MEM},
	[Q_MEM_MAX] = {"memory max", 1u << M_MEM},
	[Q_SAMPLES] = {"samples", 1u << M_MEM},
	[Q_FIRST] = {"first seen", 1u << M_MEM},
	[Q_LAST] = {"last seen", 1u << M_MEM},
	[Q_THROTTLE] = {"CPU throttling", (1u << M_CFS) | (1u << M_CFS_THROTTLED)},
	[Q_RESTARTS] = {"restarts", 1u << M_RESTARTS},
	[Q_OOM] = {"OOM kills", (1u << M_RESTARTS) | (1u << M_REASON)},
	[Q_OWNER] = {"pod owners", 1u << M_OWNER},
	[Q_ALIVE_FIRST] = {"series at the window's first step", 1u << M_MEM},
	[Q_ALIVE_LAST] = {"series at the window's last step", 1u << M_MEM},
	[Q_OOM_PODS] = {"pods with an OOM kill", (1u << M_RESTARTS) | (1u << M_REASON)},
};

/* A group of namespaces, or of pods of one namespace. */
typedef struct group {
	char **ns;
	size_t nns;
	char **pods; /* NULL: every pod of the namespaces */
	size_t npods;
} group;

typedef struct task {
	int kind;
	int64_t at; /* evaluation time; 0: the window's end */
	group *g;   /* owned by the task */
	struct task *next;
} task;

#define NBUCKETS 65536

typedef struct prom {
	const kp_config *cfg;
	kp_http_client *http;
	kp_audit *audit;
	int64_t end, window, step, rate;
	const char *lns, *lpod, *lcont;
	unsigned have; /* metrics present in the window */
	kp_arena arena;
	rec *recs[NBUCKETS];
	owner *owners[NBUCKETS];
	size_t nrecs;
	json_object *missing;
	kp_prom_stats *st;
	/* the task queue and the workers */
	pthread_mutex_t lock;
	task *todo;
	int running;
	pthread_cond_t cond;
	kp_status fatal;
	kp_error fatal_err;
	struct inventory *inv; /* the series inventory, for splitting a namespace by pod */
	/* progress (under lock): tasks queued and finished, and those the
	 * second round will queue, counted ahead so the total does not jump */
	const kp_progress *progress;
	long long queued, finished, reserved;
} prom;

static uint64_t key_hash(const char *a, const char *b, const char *c)
{
	uint64_t h = kp_fnv1a64(a, strlen(a), KP_FNV_SEED);
	h = kp_fnv1a64("\x1f", 1, h);
	h = kp_fnv1a64(b, strlen(b), h);
	if (c) {
		h = kp_fnv1a64("\x1f", 1, h);
		h = kp_fnv1a64(c, strlen(c), h);
	}
	return h;
}

/* under p->lock */
static rec *rec_get(prom *p, const char *ns, const char *pod, const char *cont, bool create)
{
	uint64_t h = key_hash(ns, pod, cont) % NBUCKETS;
	for (rec *r = p->recs[h]; r; r = r->next)
		if (!strcmp(r->ns, ns) && !strcmp(r->pod, pod) && !strcmp(r->container, cont))
			return r;
	if (!create)
		return NULL;
	rec *r = kp_arena_alloc(&p->arena, sizeof(*r));
	r->ns = kp_arena_strdup(&p->arena, ns);
	r->pod = kp_arena_strdup(&p->arena, pod);
	r->container = kp_arena_strdup(&p->arena, cont);
	for (int i = 0; i < 16; i++)
		r->v[i] = NAN;
	r->next = p->recs[h];
	p->recs[h] = r;
	p->nrecs++;
	return r;
}

static const owner *owner_get(const prom *p, const char *ns, const char *pod)
{
	uint64_t h = key_hash(ns, pod, NULL) % NBUCKETS;
	for (const owner *o = p->owners[h]; o; o = o->next)
		if (!strcmp(o->ns, ns) && !strcmp(o->pod, pod))
			return o;
	return NULL;
}

static void add_missing(prom *p, const char *ns, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_missing(prom *p, const char *ns, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	json_object *m = json_object_new_object();
	json_object_object_add(m, "resource", json_object_new_string("usage"));
	if (ns)
		json_object_object_add(m, "namespace", json_object_new_string(ns));
	json_object_object_add(m, "reason", json_object_new_string(kp_buf_cstr(&b)));
	kp_buf_release(&b);
	pthread_mutex_lock(&p->lock);
	json_object_array_add(p->missing, m);
	pthread_mutex_unlock(&p->lock);
}

/* A regex alternative of names, as a PromQL string's content: names are
 * DNS labels and subdomains, so only '.' needs escaping (\\. in PromQL). */
static void put_alternatives(kp_buf *b, char **names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			kp_buf_putc(b, '|');
		for (const char *q = names[i]; *q; q++) {
			if (*q == '.' || *q == '\\' || *q == '"' || *q == '|' || *q == '(' || *q == ')' || *q == '[' ||
			    *q == '*' || *q == '+' || *q == '?' || *q == '{' || *q == '^' || *q == '$')
				kp_buf_puts(b, "\\\\");
			kp_buf_putc(b, *q);
		}
	}
}

/* the group's matchers: ns=~"a|b"[,pod=~"x|y"] */
static void put_group(const char *lns, const char *lpod, kp_buf *b, const group *g)
{
	kp_buf_printf(b, "%s=~\"", lns);
	put_alternatives(b, g->ns, g->nns);
	kp_buf_putc(b, '"');
	if (g->pods) {
		kp_buf_printf(b, ",%s=~\"", lpod);
		put_alternatives(b, g->pods, g->npods);
		kp_buf_putc(b, '"');
	}
}

#define KSM_RESTARTS "kube_pod_container_status_restarts_total|kube_pod_init_container_status_restarts_total"
#define KSM_REASON                                                                                                     \
	"kube_pod_container_status_last_terminated_reason|kube_pod_init_container_status_last_terminated_reason"

static bool is_ksm(int kind) { return kind == Q_RESTARTS || kind == Q_OOM || kind == Q_OWNER || kind == Q_OOM_PODS; }

static char *build_query(const prom *p, int kind, const group *g)
{
	kp_buf sel, ksel, q;
	kp_buf_init(&sel);
	kp_buf_init(&ksel);
	kp_buf_init(&q);
	kp_buf_printf(&sel, "%s!=\"\",%s!=\"POD\",", p->lcont, p->lcont);
	put_group(p->lns, p->lpod, &sel, g);
	/* kube-state-metrics names its labels itself: prometheus.labels.*
	 * are cAdvisor's (renamed on clusters before 1.16, or by relabelling) */
	put_group("namespace", "pod", &ksel, g);
	char L[256];
	snprintf(L, sizeof(L), "%s,%s,%s", p->lns, p->lpod, p->lcont);
	if (is_ksm(kind))
		snprintf(L, sizeof(L), "namespace,pod,container");
	const char *S = kp_buf_cstr(&sel), *K = kp_buf_cstr(&ksel);
	long long W = (long long)p->window, st = (long long)p->step, R = (long long)p->rate;
	static const char *const qs[] = {"0.5", "0.95", "0.99"};
	switch (kind) {
	case Q_CPU_P50:
	case Q_CPU_P95:
	case Q_CPU_P99:
		kp_buf_printf(&q,
			      "max by (%s) (quantile_over_time(%s, rate(container_cpu_usage_seconds_total{%s}[%llds])"
			      "[%llds:%llds]))",
			      L, qs[kind - Q_CPU_P50], S, R, W, st);
		break;
	case Q_CPU_MAX:
		kp_buf_printf(&q,
			      "max by (%s) (max_over_time(rate(container_cpu_usage_seconds_total{%s}[%llds])[%llds:%llds]))", L,
			      S, R, W, st);
		break;
	case Q_MEM_P50:
		kp_buf_printf(&q,
			      "max by (%s) (quantile_over_time(0.5, container_memory_working_set_bytes{%s}[%llds:%llds]))", L,
			      S, W, st);
		break;
	case Q_MEM_MAX:
		kp_buf_printf(&q, "max by (%s) (max_over_time(container_memory_working_set_bytes{%s}[%llds]))", L, S, W);
		break;
	case Q_SAMPLES:
		kp_buf_printf(&q, "sum by (%s) (count_over_time(container_memory_working_set_bytes{%s}[%llds]))", L, S, W);
		break;
	case Q_FIRST:
	case Q_LAST: {
		/* the first and last step with a sample in (t-S, t] (not the
		 * 5-minute lookback): the step at or after the first and the
		 * last sample. timestamp() of a function gives the step's time;
		 * timestamp() of the selector would give the sample's own, but
		 * Prometheus 2.x re-reads each series from its start at every
		 * step of a subquery (quadratic: minutes for 200 series). */
		const char *agg = kind == Q_FIRST ? "min" : "max";
		kp_buf_printf(&q,
			      "%s by (%s) (%s_over_time(timestamp(last_over_time(container_memory_working_set_bytes{%s}"
			      "[%lldms]))[%llds:%llds]))",
			      agg, L, agg, S, st * 1000 - 1, W, st);
		break;
	}
	case Q_ALIVE_FIRST:
		/* at the subquery's first point (task->at): its range */
		kp_buf_printf(&q, "count by (%s) (last_over_time(container_memory_working_set_bytes{%s}[%lldms]))", L, S,
			      st * 1000 - 1);
		break;
	case Q_ALIVE_LAST:
		/* at the subquery's last point: the last sample within the
		 * lookback (timestamp() of a selector, outside a subquery, is
		 * the sample's own time and cheap) */
		kp_buf_printf(&q, "max by (%s) (timestamp(container_memory_working_set_bytes{%s}))", L, S);
		break;
	case Q_OOM_PODS:
		/* the OOM query's points look 5 minutes back for the reason */
		kp_buf_printf(&q,
			      "max by (namespace,pod) (max_over_time({__name__=~\"%s\",%s,reason=\"OOMKilled\"}[%llds]))",
			      KSM_REASON, K, W + 300);
		break;
	case Q_THROTTLE:
		kp_buf_printf(&q,
			      "sum by (%s) (increase(container_cpu_cfs_throttled_periods_total{%s}[%llds])) / sum by (%s) "
			      "(increase(container_cpu_cfs_periods_total{%s}[%llds]))",
			      L, S, W, L, S, W);
		break;
	case Q_RESTARTS:
		/* init containers have series of their own names */
		kp_buf_printf(&q,
			      "max by (%s) (max_over_time({__name__=~\"%s\",%s}[%llds]) - min_over_time({__name__=~\"%s\",%s}[%llds]))",
			      L, KSM_RESTARTS, K, W, KSM_RESTARTS, K, W);
		break;
	case Q_OOM:
		/* per step: the restarts in it, kept where the last termination
		 * reason is OOMKilled, summed over the window */
		/* [W-S:S]: the first step would count a restart of the step
		 * before the window, which the restarts query does not */
		kp_buf_printf(&q,
			      "sum by (%s) (sum_over_time((((max by (%s) ({__name__=~\"%s\",%s}) - "
			      "max by (%s) ({__name__=~\"%s\",%s} offset %llds)) > 0) * on (%s) "
			      "max by (%s) ({__name__=~\"%s\",%s,reason=\"OOMKilled\"}))"
			      "[%llds:%llds]))",
			      L, L, KSM_RESTARTS, K, L, KSM_RESTARTS, K, st, L, L, KSM_REASON, K, W - st, st);
		break;
	case Q_OWNER:
		kp_buf_printf(&q,
			      "max by (namespace,pod,owner_kind,owner_name) (max_over_time(kube_pod_owner{%s,"
			      "owner_is_controller=\"true\"}[%llds]))",
			      K, W);
		break;
	}
	kp_buf_release(&sel);
	kp_buf_release(&ksel);
	return kp_buf_detach(&q);
}

typedef struct {
	prom *p;
	int kind;
	int64_t at;
} item_ctx;

static void on_phase_item(prom *p, int kind, int64_t at, char **lv, double v);

static void on_query_item(void *ud, char **lv, const char *value)
{
	item_ctx *x = ud;
	prom *p = x->p;
	if (!lv[LB_NS] || !lv[LB_POD])
		return;
	if (x->kind >= NQ) {
		double v = value ? strtod(value, NULL) : NAN;
		if (isfinite(v))
			on_phase_item(p, x->kind, x->at, lv, v);
		return;
	}
	if (x->kind == Q_OWNER) {
		if (!lv[LB_OWNER_KIND] || !lv[LB_OWNER_NAME] || !strcmp(lv[LB_OWNER_KIND], "<none>"))
			return;
		pthread_mutex_lock(&p->lock);
		if (!owner_get(p, lv[LB_NS], lv[LB_POD])) {
			uint64_t h = key_hash(lv[LB_NS], lv[LB_POD], NULL) % NBUCKETS;
			owner *o = kp_arena_alloc(&p->arena, sizeof(*o));
			o->ns = kp_arena_strdup(&p->arena, lv[LB_NS]);
			o->pod = kp_arena_strdup(&p->arena, lv[LB_POD]);
			o->kind = kp_arena_strdup(&p->arena, lv[LB_OWNER_KIND]);
			o->name = kp_arena_strdup(&p->arena, lv[LB_OWNER_NAME]);
			o->next = p->owners[h];
			p->owners[h] = o;
		}
		pthread_mutex_unlock(&p->lock);
		return;
	}
	if (!lv[LB_CONTAINER] || !value)
		return;
	char *end = NULL;
	double v = strtod(value, &end);
	if (end == value || !isfinite(v))
		return; /* NaN (0/0 throttling of an idle container), +Inf */
	pthread_mutex_lock(&p->lock);
	/* usage.json holds the containers with samples (memory series); the
	 * queries come back in any order */
	rec_get(p, lv[LB_NS], lv[LB_POD], lv[LB_CONTAINER], true)->v[x->kind] = v;
	pthread_mutex_unlock(&p->lock);
}

/* Q_DOWN: no answer at all (the server went away): the rest is not sent */
typedef enum { Q_DONE, Q_SPLIT, Q_FAILED, Q_DOWN } qresult;

static bool prom_retryable(long status, const char *body)
{
	/* a query too heavy for the server: split it, do not send it again */
	(void)status;
	return !(strstr(body, "\"errorType\":\"timeout\"") || strstr(body, "too many samples"));
}

/* Sends one query; its items go to on_item. Q_SPLIT when the server
 * found it too heavy. */
static qresult run_query(prom *p, const char *what, const char *query, int64_t at,
			 void (*on_item)(void *, char **, const char *), void *ud, bool series, bool ksm, kp_error *err)
{
	answer_t a = {0};
	a.names[LB_NS] = ksm ? "namespace" : p->lns;
	a.names[LB_POD] = ksm ? "pod" : p->lpod;
	a.names[LB_CONTAINER] = ksm ? "container" : p->lcont;
	a.names[LB_OWNER_KIND] = "owner_kind";
	a.names[LB_OWNER_NAME] = "owner_name";
	a.series = series;
	a.item = on_item;
	a.ud = ud;
	stream_t s = {.a = &a, .name = what};
	kp_http_sink sink = {stream_begin, stream_data, stream_reset, &s};
	kp_buf body;
	kp_buf_init(&body);
	char *path;
	if (series) {
		path = kp_xstrdup("/api/v1/series");
		kp_buf_puts(&body, "match[]=");
	} else {
		path = kp_xstrdup("/api/v1/query");
		kp_buf_puts(&body, "query=");
	}
	kp_url_escape_append(&body, query);
	if (series)
		kp_buf_printf(&body, "&start=%lld&end=%lld", (long long)(p->end - p->window), (long long)p->end);
	else /* the server gives up first, with its own "timeout" error: then the query is split */
		kp_buf_printf(&body, "&time=%lld&timeout=%ds", (long long)(at ? at : p->end),
			      p->cfg->prometheus.timeout_seconds);
	kp_http_result res;
	pthread_mutex_lock(&p->lock);
	p->st->queries++;
	pthread_mutex_unlock(&p->lock);
	kp_status s0 = kp_http_post(p->http, path, "application/x-www-form-urlencoded", body.data, body.len, &sink, &res,
				    err);
	qresult r = Q_DONE;
	if (s0 == KP_ERR_NETWORK && res.timed_out) {
		r = Q_SPLIT;
	} else if (s0) {
		r = s0 == KP_ERR_NETWORK ? Q_DOWN : Q_FAILED;
	} else if (res.status < 200 || res.status > 299) {
		json_object *j = res.body ? json_tokener_parse(res.body) : NULL;
		const char *e = j ? kp_json_str(j, "error") : NULL, *et = j ? kp_json_str(j, "errorType") : NULL;
		if ((et && !strcmp(et, "timeout")) || (e && strstr(e, "too many samples")))
			r = Q_SPLIT;
		else if (res.status >= 500 || res.status == 401 || res.status == 403 || res.status == 404)
			r = Q_DOWN; /* the server (or its gateway) fails every query alike: stop */
		else
			r = Q_FAILED; /* this query (bad_data, 422): the others may work */
		kp_fail(err, KP_ERR_NETWORK, "Prometheus (%s): %s: %s%s%s", kp_http_server(p->http), what,
			kp_http_reason(res.status), e ? ": " : "", e ? e : (res.body && *res.body && !j ? res.body : ""));
		json_object_put(j);
	} else {
		kp_status s1 = s.scan ? kp_jscan_finish(s.scan, err) : kp_fail(err, KP_ERR_INPUT, "empty answer");
		if (s1) {
			kp_error_prefix(err, "Prometheus (%s): %s", kp_http_server(p->http), what);
			r = Q_FAILED;
		} else if (!a.status || strcmp(a.status, "success") != 0) {
			kp_fail(err, KP_ERR_NETWORK, "Prometheus (%s): %s: status %s%s%s", kp_http_server(p->http), what,
				a.status ? a.status : "(none)", a.error ? ": " : "", a.error ? a.error : "");
			r = Q_FAILED;
		}
	}
	kp_jscan_free(s.scan);
	answer_reset(&a);
	kp_http_result_release(&res);
	kp_buf_release(&body);
	free(path);
	return r;
}

/* ---- the inventory: how many series each namespace (and pod) has ---- */

typedef struct podinv {
	char *pod;
	const struct nsinv *ns;
	size_t series;		      /* in the window */
	char **conts;		      /* its containers' names */
	size_t nconts;
	size_t known_first, known_last; /* containers whose first / last step the phase before found */
	bool oom;		      /* an OOMKilled last-termination reason in the window */
	struct podinv *next;	       /* hash chain */
} podinv;

typedef struct nsinv {
	char *ns;
	size_t series;
	podinv **pods; /* distinct, in the order the series came */
	size_t npods, cap;
	struct nsinv *next;
} nsinv;

#define POD_BUCKETS 65536

typedef struct inventory {
	prom *p;
	nsinv *buckets[4096];
	podinv *pod_buckets[POD_BUCKETS];
	size_t nns;
} inventory;

static const nsinv *inv_find(const inventory *inv, const char *ns)
{
	if (!inv)
		return NULL;
	for (const nsinv *n = inv->buckets[key_hash(ns, "", NULL) % 4096]; n; n = n->next)
		if (!strcmp(n->ns, ns))
			return n;
	return NULL;
}

static podinv *inv_pod(const inventory *inv, const char *ns, const char *pod)
{
	for (podinv *x = inv->pod_buckets[key_hash(ns, pod, NULL) % POD_BUCKETS]; x; x = x->next)
		if (!strcmp(x->pod, pod) && !strcmp(x->ns->ns, ns))
			return x;
	return NULL;
}

static void on_series(void *ud, char **lv, const char *value)
{
	(void)value;
	inventory *inv = ud;
	if (!lv[LB_NS] || !lv[LB_POD] || !lv[LB_CONTAINER] || !*lv[LB_CONTAINER] || !strcmp(lv[LB_CONTAINER], "POD"))
		return;
	uint64_t h = key_hash(lv[LB_NS], "", NULL) % 4096;
	nsinv *n = inv->buckets[h];
	while (n && strcmp(n->ns, lv[LB_NS]))
		n = n->next;
	if (!n) {
		n = kp_xcalloc(1, sizeof(*n));
		n->ns = kp_xstrdup(lv[LB_NS]);
		n->next = inv->buckets[h];
		inv->buckets[h] = n;
		inv->nns++;
	}
	n->series++;
	podinv *x = inv_pod(inv, lv[LB_NS], lv[LB_POD]);
	if (!x) {
		x = kp_xcalloc(1, sizeof(*x));
		x->pod = kp_xstrdup(lv[LB_POD]);
		x->ns = n;
		uint64_t ph = key_hash(lv[LB_NS], lv[LB_POD], NULL) % POD_BUCKETS;
		x->next = inv->pod_buckets[ph];
		inv->pod_buckets[ph] = x;
		if (n->npods == n->cap) {
			n->cap = n->cap ? n->cap * 2 : 16;
			n->pods = kp_xrealloc(n->pods, n->cap * sizeof(*n->pods));
		}
		n->pods[n->npods++] = x;
	}
	x->series++;
	for (size_t i = 0; i < x->nconts; i++)
		if (!strcmp(x->conts[i], lv[LB_CONTAINER]))
			return;
	x->conts = kp_xrealloc(x->conts, (x->nconts + 1) * sizeof(char *));
	x->conts[x->nconts++] = kp_xstrdup(lv[LB_CONTAINER]);
}

static void inventory_free(inventory *inv)
{
	for (int i = 0; i < 4096; i++)
		for (nsinv *n = inv->buckets[i], *nx; n; n = nx) {
			nx = n->next;
			for (size_t k = 0; k < n->npods; k++) {
				for (size_t c = 0; c < n->pods[k]->nconts; c++)
					free(n->pods[k]->conts[c]);
				free(n->pods[k]->conts);
				free(n->pods[k]->pod);
				free(n->pods[k]);
			}
			free(n->pods);
			free(n->ns);
			free(n);
		}
}

/* The phase before: what the first-seen, last-seen and OOM queries need.
 * Each answer sets a value (an answer cut and sent again sets the same);
 * the pods' sums come after the phase (tally_known). A container with a
 * series at the first step has that step as its first (the subquery's
 * minimum); the last sample of a container seen within the lookback
 * before the last step gives its last step (the step at or after it: the
 * subquery's maximum), whatever its older series did. */
static void on_phase_item(prom *p, int kind, int64_t at, char **lv, double v)
{
	pthread_mutex_lock(&p->lock);
	if (kind == Q_OOM_PODS) {
		podinv *x = inv_pod(p->inv, lv[LB_NS], lv[LB_POD]);
		if (x && v > 0)
			x->oom = true;
	} else if (lv[LB_CONTAINER] && v > 0) {
		rec *r = rec_get(p, lv[LB_NS], lv[LB_POD], lv[LB_CONTAINER], true);
		r->v[kind] = 1;
		if (kind == Q_ALIVE_FIRST) {
			r->v[Q_FIRST] = (double)at;
		} else {
			/* in milliseconds, as Prometheus stores the samples */
			long long ms = llround(v * 1000.0), st = (long long)p->step * 1000;
			double step = (double)((ms + st - 1) / st * p->step);
			r->v[Q_LAST] = step > (double)at ? (double)at : step;
		}
	}
	pthread_mutex_unlock(&p->lock);
}

static void tally_known(prom *p)
{
	for (int i = 0; i < NBUCKETS; i++)
		for (const rec *r = p->recs[i]; r; r = r->next) {
			podinv *x = inv_pod(p->inv, r->ns, r->pod);
			if (!x)
				continue;
			if (!isnan(r->v[Q_ALIVE_FIRST]))
				x->known_first++;
			if (!isnan(r->v[Q_ALIVE_LAST]))
				x->known_last++;
		}
}

static int cmp_nsinv(const void *a, const void *b)
{
	return strcmp((*(nsinv *const *)a)->ns, (*(nsinv *const *)b)->ns);
}

static group *group_new(void) { return kp_xcalloc(1, sizeof(group)); }

static void group_free(group *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nns; i++)
		free(g->ns[i]);
	for (size_t i = 0; i < g->npods; i++)
		free(g->pods[i]);
	free(g->ns);
	free(g->pods);
	free(g);
}

static group *group_copy(const group *g, size_t ns_from, size_t ns_to, size_t pod_from, size_t pod_to)
{
	group *c = group_new();
	c->nns = ns_to - ns_from;
	c->ns = kp_xcalloc(c->nns, sizeof(char *));
	for (size_t i = 0; i < c->nns; i++)
		c->ns[i] = kp_xstrdup(g->ns[ns_from + i]);
	if (g->pods) {
		c->npods = pod_to - pod_from;
		c->pods = kp_xcalloc(c->npods ? c->npods : 1, sizeof(char *));
		for (size_t i = 0; i < c->npods; i++)
			c->pods[i] = kp_xstrdup(g->pods[pod_from + i]);
	}
	return c;
}

static void group_add_ns(group *g, const char *ns)
{
	g->ns = kp_xrealloc(g->ns, (g->nns + 1) * sizeof(char *));
	g->ns[g->nns++] = kp_xstrdup(ns);
}

static void group_add_pod(group *g, const char *pod)
{
	g->pods = kp_xrealloc(g->pods, (g->npods + 1) * sizeof(char *));
	g->pods[g->npods++] = kp_xstrdup(pod);
}

static nsinv **sorted_namespaces(const inventory *inv, size_t *n)
{
	nsinv **all = kp_xcalloc(inv->nns ? inv->nns : 1, sizeof(*all));
	*n = 0;
	for (int i = 0; i < 4096; i++)
		for (nsinv *x = inv->buckets[i]; x; x = x->next)
			all[(*n)++] = x;
	qsort(all, *n, sizeof(*all), cmp_nsinv);
	return all;
}

static void groups_add(group ***gs, size_t *ng, group *g)
{
	*gs = kp_xrealloc(*gs, (*ng + 1) * sizeof(**gs));
	(*gs)[(*ng)++] = g;
}

/* The groups: whole namespaces while their series fit in limit, a larger
 * namespace in groups of its pods. */
static group **plan_groups(inventory *inv, size_t limit, size_t *ngroups)
{
	size_t n = 0;
	nsinv **all = sorted_namespaces(inv, &n);
	group **gs = NULL;
	size_t ng = 0;
	group *cur = NULL;
	size_t cur_series = 0;
	for (size_t i = 0; i < n; i++) {
		nsinv *x = all[i];
		if (x->series <= limit) {
			if (cur && cur_series + x->series > limit) {
				groups_add(&gs, &ng, cur);
				cur = NULL;
			}
			if (!cur) {
				cur = group_new();
				cur_series = 0;
			}
			group_add_ns(cur, x->ns);
			cur_series += x->series;
			continue;
		}
		group *pg = NULL;
		size_t pg_series = 0;
		for (size_t k = 0; k < x->npods; k++) {
			if (pg && pg_series + x->pods[k]->series > limit) {
				groups_add(&gs, &ng, pg);
				pg = NULL;
			}
			if (!pg) {
				pg = group_new();
				group_add_ns(pg, x->ns);
				pg->pods = kp_xcalloc(1, sizeof(char *));
				pg_series = 0;
			}
			group_add_pod(pg, x->pods[k]->pod);
			pg_series += x->pods[k]->series;
		}
		if (pg)
			groups_add(&gs, &ng, pg);
	}
	if (cur)
		groups_add(&gs, &ng, cur);
	free(all);
	*ngroups = ng;
	return gs;
}

/* the pods a query of the second phase is for */
enum { NEED_FIRST, NEED_LAST, NEED_OOM };

static bool pod_needs(const podinv *x, int which)
{
	if (which == NEED_FIRST)
		return x->known_first < x->nconts;
	if (which == NEED_LAST)
		return x->known_last < x->nconts;
	return x->oom;
}

/* The pods that need a query, in groups of several namespaces and their
 * pods (ns=~"a|b",pod=~"x|y|z": a pod of the same name in another of the
 * namespaces is asked too, which costs a little and changes nothing) while
 * their series fit in limit and their names in 64 KB. */
static group **plan_pod_groups(inventory *inv, size_t limit, int which, size_t *ngroups)
{
	size_t n = 0, ng = 0, series = 0, bytes = 0;
	nsinv **all = sorted_namespaces(inv, &n);
	group **gs = NULL, *cur = NULL;
	for (size_t i = 0; i < n; i++) {
		bool ns_added = false;
		for (size_t k = 0; k < all[i]->npods; k++) {
			const podinv *x = all[i]->pods[k];
			if (!pod_needs(x, which))
				continue;
			if (cur && (series + x->series > limit || bytes + strlen(x->pod) > 65536)) {
				groups_add(&gs, &ng, cur);
				cur = NULL;
			}
			if (!cur) {
				cur = group_new();
				cur->pods = kp_xcalloc(1, sizeof(char *));
				series = bytes = 0;
				ns_added = false;
			}
			if (!ns_added)
				group_add_ns(cur, all[i]->ns);
			ns_added = true;
			group_add_pod(cur, x->pod);
			series += x->series;
			bytes += strlen(x->pod) + 1;
		}
	}
	if (cur)
		groups_add(&gs, &ng, cur);
	free(all);
	*ngroups = ng;
	return gs;
}

/* ---- the workers ---- */

static void push_task(prom *p, int kind, int64_t at, group *g)
{
	task *t = kp_xcalloc(1, sizeof(*t));
	t->kind = kind;
	t->at = at;
	t->g = g;
	pthread_mutex_lock(&p->lock);
	t->next = p->todo;
	p->todo = t;
	p->queued++;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void describe_group(const group *g, char *out, size_t n)
{
	if (g->pods)
		snprintf(out, n, "namespace %s (%zu pod%s)", g->ns[0], g->npods, g->npods == 1 ? "" : "s");
	else if (g->nns == 1)
		snprintf(out, n, "namespace %s", g->ns[0]);
	else
		snprintf(out, n, "%zu namespaces (%s .. %s)", g->nns, g->ns[0], g->ns[g->nns - 1]);
}

static void run_task(prom *p, task *t)
{
	char *q = build_query(p, t->kind, t->g);
	char what[256], where[160];
	describe_group(t->g, where, sizeof(where));
	snprintf(what, sizeof(what), "%s of %s", qkinds[t->kind].what, where);
	item_ctx x = {p, t->kind, t->at};
	kp_error err = {0};
	qresult r = run_query(p, what, q, t->at, on_query_item, &x, false, is_ksm(t->kind), &err);
	free(q);
	const group *g = t->g;
	if (r == Q_SPLIT) {
		if (g->pods && g->nns > 1) {
			/* pods of several namespaces: the namespaces in two
			 * halves, each with its own pods */
			size_t h = g->nns / 2;
			for (int half = 0; half < 2; half++) {
				group *c = group_copy(g, half ? h : 0, half ? g->nns : h, 0, 0);
				free(c->pods);
				c->pods = kp_xcalloc(g->npods, sizeof(char *));
				for (size_t k = 0; k < g->npods; k++)
					for (size_t i = 0; i < c->nns; i++)
						if (inv_pod(p->inv, c->ns[i], g->pods[k])) {
							c->pods[c->npods++] = kp_xstrdup(g->pods[k]);
							break;
						}
				push_task(p, t->kind, t->at, c);
			}
		} else if (g->pods && g->npods > 1) {
			size_t h = g->npods / 2;
			push_task(p, t->kind, t->at, group_copy(g, 0, 1, 0, h));
			push_task(p, t->kind, t->at, group_copy(g, 0, 1, h, g->npods));
		} else if (g->nns > 1) {
			size_t h = g->nns / 2;
			push_task(p, t->kind, t->at, group_copy(g, 0, h, 0, 0));
			push_task(p, t->kind, t->at, group_copy(g, h, g->nns, 0, 0));
		} else {
			/* one namespace, every pod: its pods in two halves */
			const nsinv *in = g->pods ? NULL : inv_find(p->inv, g->ns[0]);
			if (!in || in->npods < 2) {
				r = Q_FAILED; /* one pod is all there is to ask */
			} else {
				for (int half = 0; half < 2; half++) {
					group *c = group_copy(g, 0, 1, 0, 0);
					size_t from = half ? in->npods / 2 : 0, to = half ? in->npods : in->npods / 2;
					c->pods = kp_xcalloc(to - from, sizeof(char *));
					for (size_t k = from; k < to; k++)
						c->pods[c->npods++] = kp_xstrdup(in->pods[k]->pod);
					push_task(p, t->kind, t->at, c);
				}
			}
		}
		if (r == Q_SPLIT) {
			pthread_mutex_lock(&p->lock);
			p->st->split++;
			pthread_mutex_unlock(&p->lock);
			return;
		}
	}
	if (r == Q_FAILED && t->kind >= NQ) {
		/* the phase before only saves work: without its answer the
		 * pods of the group are all sent the query it would have spared */
		if (t->kind == Q_OOM_PODS) {
			pthread_mutex_lock(&p->lock);
			for (size_t i = 0; i < g->nns; i++) {
				const nsinv *in = inv_find(p->inv, g->ns[i]);
				for (size_t k = 0; in && k < in->npods; k++)
					in->pods[k]->oom = true;
			}
			pthread_mutex_unlock(&p->lock);
		}
		return;
	}
	if (r == Q_DOWN) {
		pthread_mutex_lock(&p->lock);
		if (!p->fatal) {
			p->fatal = err.status ? err.status : KP_ERR_NETWORK;
			p->fatal_err = err;
		}
		pthread_mutex_unlock(&p->lock);
	} else if (r != Q_DONE) {
		for (size_t i = 0; i < g->nns; i++)
			add_missing(p, g->ns[i], "the %s query failed: %s", qkinds[t->kind].what, err.msg);
	}
}

static void *worker(void *arg)
{
	prom *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->todo && p->running > 0)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->todo)
			break;
		task *t = p->todo;
		p->todo = t->next;
		p->running++;
		bool skip = p->fatal != KP_OK; /* the server went away: drain the queue */
		pthread_mutex_unlock(&p->lock);
		if (!skip)
			run_task(p, t);
		group_free(t->g);
		free(t);
		pthread_mutex_lock(&p->lock);
		p->finished++;
		kp_progress_report(p->progress, "collect", "Prometheus queries", p->finished, p->queued + p->reserved);
		p->running--;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* runs the queue's tasks (and those they add) to the end */
static void run_workers(prom *p, int nthreads)
{
	pthread_t th[16];
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, p);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
}

/* ---- probes: which series exist, under which label names ---- */

typedef struct {
	kp_buf names;
} labels_ud;

static kp_status get_strings(prom *p, const char *path, const char *what, json_object **out, kp_error *err)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_http_result res;
	pthread_mutex_lock(&p->lock);
	p->st->queries++;
	pthread_mutex_unlock(&p->lock);
	kp_status s = kp_http_get_buf(p->http, path, "application/json", 64u << 20, &b, &res, err);
	*out = NULL;
	if (!s && (res.status < 200 || res.status > 299)) {
		json_object *j = res.body ? json_tokener_parse(res.body) : NULL;
		const char *e = j ? kp_json_str(j, "error") : NULL;
		s = kp_fail(err, res.status == 401 || res.status == 403 ? KP_ERR_USAGE : KP_ERR_NETWORK,
			    "Prometheus (%s): %s: %s%s%s%s", kp_http_server(p->http), what, kp_http_reason(res.status),
			    e ? ": " : "", e ? e : "",
			    res.status == 401 || res.status == 403 ? " (check prometheus.token, prometheus.username)" : "");
		json_object_put(j);
	} else if (!s) {
		json_object *j = json_tokener_parse(kp_buf_cstr(&b));
		json_object *data = j ? json_object_object_get(j, "data") : NULL;
		const char *status = j ? kp_json_str(j, "status") : NULL;
		if (!j || !status || strcmp(status, "success") || !json_object_is_type(data, json_type_array)) {
			s = kp_fail(err, KP_ERR_NETWORK,
				    "Prometheus (%s): %s: the answer is not Prometheus' API (is the URL the server's "
				    "base, with its path prefix?)",
				    kp_http_server(p->http), what);
			json_object_put(j);
		} else {
			*out = json_object_get(data);
			json_object_put(j);
		}
	}
	kp_http_result_release(&res);
	kp_buf_release(&b);
	return s;
}

static bool list_has(json_object *arr, const char *s)
{
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		const char *v = json_object_get_string(json_object_array_get_idx(arr, i));
		if (v && !strcmp(v, s))
			return true;
	}
	return false;
}

static kp_status probe(prom *p, kp_error *err)
{
	kp_buf path;
	kp_buf_init(&path);
	kp_buf_puts(&path, "/api/v1/label/__name__/values?match[]=");
	kp_buf sel;
	kp_buf_init(&sel);
	kp_buf_puts(&sel, "{__name__=~\"");
	for (int i = 0; i < NMETRICS; i++)
		kp_buf_printf(&sel, "%s%s", i ? "|" : "", metric_names[i]);
	kp_buf_puts(&sel, "\"}");
	kp_url_escape_append(&path, kp_buf_cstr(&sel));
	kp_buf_printf(&path, "&start=%lld&end=%lld", (long long)(p->end - p->window), (long long)p->end);
	json_object *names = NULL;
	kp_status s = get_strings(p, kp_buf_cstr(&path), "which series exist", &names, err);
	kp_buf_release(&path);
	kp_buf_release(&sel);
	if (s)
		return s;
	for (int i = 0; i < NMETRICS; i++)
		if (list_has(names, metric_names[i]))
			p->have |= 1u << i;
	json_object_put(names);

	if (!(p->have & (1u << M_MEM))) {
		add_missing(p, NULL,
			    "Prometheus has no cAdvisor series (container_memory_working_set_bytes) in the window: "
			    "scrape the kubelets' /metrics/cadvisor endpoint; no workload was rightsized");
		return KP_OK;
	}
	/* the label names the cAdvisor series carry */
	kp_buf_init(&path);
	kp_buf_printf(&path, "/api/v1/labels?match[]=container_memory_working_set_bytes&start=%lld&end=%lld",
		      (long long)(p->end - p->window), (long long)p->end);
	json_object *labels = NULL;
	s = get_strings(p, kp_buf_cstr(&path), "the labels of container_memory_working_set_bytes", &labels, err);
	kp_buf_release(&path);
	if (s)
		return s;
	const char *want[3] = {p->lns, p->lpod, p->lcont};
	const char *key[3] = {"namespace", "pod", "container"};
	const char *old[3] = {NULL, "pod_name", "container_name"};
	for (int i = 0; i < 3; i++) {
		if (list_has(labels, want[i]))
			continue;
		if (old[i] && list_has(labels, old[i]))
			add_missing(p, NULL,
				    "the cAdvisor series carry the label %s, not %s (renamed by a relabelling rule, or "
				    "cAdvisor before Kubernetes 1.16): set prometheus.labels.%s=%s",
				    old[i], want[i], key[i], old[i]);
		else
			add_missing(p, NULL,
				    "the cAdvisor series have no label %s: set prometheus.labels.%s to the label that "
				    "holds the %s name",
				    want[i], key[i], key[i]);
		p->have &= ~((1u << M_MEM) | (1u << M_CPU) | (1u << M_CFS) | (1u << M_CFS_THROTTLED));
	}
	json_object_put(labels);
	if (!(p->have & (1u << M_MEM)))
		return KP_OK;
	if (!(p->have & (1u << M_CPU)))
		add_missing(p, NULL, "Prometheus has no container_cpu_usage_seconds_total series in the window: CPU "
				     "usage unknown, no CPU request was rightsized");
	if (!(p->have & (1u << M_OWNER)) || !(p->have & (1u << M_RESTARTS)))
		add_missing(p, NULL,
			    "Prometheus has no kube-state-metrics series (%s) in the window: restarts, OOM kills and "
			    "the owners of pods replaced during the window are unknown; install kube-state-metrics or "
			    "scrape it",
			    !(p->have & (1u << M_OWNER)) ? "kube_pod_owner" : "kube_pod_container_status_restarts_total");
	else if (!(p->have & (1u << M_REASON)))
		p->have |= 1u << M_REASON; /* no OOM kill left a reason in the window: none to count */
	return KP_OK;
}

/* Samples a series holds over the window: from the scrape interval of one
 * series (one sample query over an hour), at least the subquery's points. */
typedef struct {
	double count;
} one_value;

static void on_one_value(void *ud, char **lv, const char *value)
{
	(void)lv;
	one_value *o = ud;
	double v = value ? strtod(value, NULL) : 0;
	if (isfinite(v) && v > o->count)
		o->count = v;
}

static double points_per_series(prom *p, const inventory *inv)
{
	double sub = (double)p->window / (double)p->step;
	const nsinv *small = NULL;
	for (int i = 0; i < 4096; i++)
		for (const nsinv *x = inv->buckets[i]; x; x = x->next)
			if (x->npods && (!small || x->series < small->series))
				small = x;
	if (!small)
		return sub;
	kp_buf q;
	kp_buf_init(&q);
	kp_buf_printf(&q, "max(count_over_time(container_memory_working_set_bytes{%s=\"%s\",%s=\"%s\"}[1h]))", p->lns,
		      small->ns, p->lpod, small->pods[0]->pod);
	one_value o = {0};
	kp_error err = {0};
	qresult r = run_query(p, "the scrape interval", kp_buf_cstr(&q), 0, on_one_value, &o, false, false, &err);
	kp_buf_release(&q);
	double raw = r == Q_DONE && o.count > 0 ? o.count * (double)p->window / 3600.0 : (double)p->window / 15.0;
	return raw > sub ? raw : sub;
}

/* ---- usage.json ---- */

typedef struct {
	prom *p;
	rec **recs;
} writer_t;

static int cmp_rec(const void *a, const void *b)
{
	const rec *x = *(rec *const *)a, *y = *(rec *const *)b;
	int c = strcmp(x->ns, y->ns);
	if (!c)
		c = strcmp(x->pod, y->pod);
	if (!c)
		c = strcmp(x->container, y->container);
	return c;
}

static json_object *time_json(double t)
{
	char buf[32];
	kp_time_format((int64_t)floor(t), buf);
	return json_object_new_string(buf);
}

static kp_status gen_container(void *ud, size_t i, json_object **item, kp_error *err)
{
	(void)err;
	writer_t *w = ud;
	const rec *r = w->recs[i];
	json_object *c = json_object_new_object();
	json_object_object_add(c, "namespace", json_object_new_string(r->ns));
	json_object_object_add(c, "pod", json_object_new_string(r->pod));
	json_object_object_add(c, "container", json_object_new_string(r->container));
	const owner *o = owner_get(w->p, r->ns, r->pod);
	if (o) {
		json_object *oj = json_object_new_object();
		json_object_object_add(oj, "kind", json_object_new_string(o->kind));
		json_object_object_add(oj, "name", json_object_new_string(o->name));
		json_object_object_add(c, "owner", oj);
	}
	if (!isnan(r->v[Q_FIRST]))
		json_object_object_add(c, "first_seen", time_json(r->v[Q_FIRST]));
	if (!isnan(r->v[Q_LAST]))
		json_object_object_add(c, "last_seen", time_json(r->v[Q_LAST]));
	json_object_object_add(c, "samples", json_object_new_int64(llround(r->v[Q_SAMPLES])));
	static const char *const cpu_keys[] = {"p50", "p95", "p99", "max"};
	json_object *cpu = NULL;
	for (int k = 0; k < 4; k++) {
		double v = r->v[Q_CPU_P50 + k];
		if (isnan(v))
			continue;
		if (!cpu)
			cpu = json_object_new_object();
		json_object_object_add(cpu, cpu_keys[k], kp_json_new_number(round(fmax(v, 0) * 10000.0) / 10.0));
	}
	if (cpu)
		json_object_object_add(c, "cpu_millicores", cpu);
	json_object *mem = NULL;
	if (!isnan(r->v[Q_MEM_P50]) || !isnan(r->v[Q_MEM_MAX])) {
		mem = json_object_new_object();
		if (!isnan(r->v[Q_MEM_P50]))
			json_object_object_add(mem, "p50", json_object_new_int64(llround(fmax(r->v[Q_MEM_P50], 0))));
		if (!isnan(r->v[Q_MEM_MAX]))
			json_object_object_add(mem, "max", json_object_new_int64(llround(fmax(r->v[Q_MEM_MAX], 0))));
		json_object_object_add(c, "memory_bytes", mem);
	}
	const prom *p = w->p;
	/* kube-state-metrics: a container it never reported had none */
	if (p->have & (1u << M_RESTARTS)) {
		double oom = isnan(r->v[Q_OOM]) ? 0 : r->v[Q_OOM];
		double rs = isnan(r->v[Q_RESTARTS]) ? 0 : r->v[Q_RESTARTS];
		json_object_object_add(c, "oom_kills", json_object_new_int64(llround(fmax(oom, 0))));
		json_object_object_add(c, "restarts", json_object_new_int64(llround(fmax(rs, 0))));
	}
	if (!isnan(r->v[Q_THROTTLE]))
		json_object_object_add(c, "cpu_throttled_ratio",
				       kp_json_new_number(round(fmin(fmax(r->v[Q_THROTTLE], 0), 1) * 10000.0) / 10000.0));
	*item = c;
	return KP_OK;
}

static kp_status write_usage(prom *p, const char *path, kp_error *err)
{
	rec **all = kp_xcalloc(p->nrecs ? p->nrecs : 1, sizeof(*all));
	size_t n = 0;
	for (int i = 0; i < NBUCKETS; i++)
		for (rec *r = p->recs[i]; r; r = r->next)
			if (!isnan(r->v[Q_SAMPLES]) && r->v[Q_SAMPLES] >= 1)
				all[n++] = r;
	qsort(all, n, sizeof(*all), cmp_rec);
	p->st->containers = n;
	json_object *doc = json_object_new_object();
	json_object_object_add(doc, "schema", json_object_new_string("kopilot.usage/v1"));
	json_object *win = json_object_new_object();
	json_object_object_add(win, "start", time_json((double)(p->end - p->window)));
	json_object_object_add(win, "end", time_json((double)p->end));
	json_object_object_add(win, "step_seconds", json_object_new_int64(p->step));
	json_object_object_add(win, "source", json_object_new_string("prometheus"));
	json_object_object_add(doc, "window", win);
	json_object_object_add(doc, "containers", NULL);
	json_object_object_add(doc, "missing", json_object_get(p->missing));
	writer_t w = {p, all};
	kp_json_streamed arr = {"containers", n, gen_container, &w};
	kp_status s = kp_json_write_streamed(path, doc, &arr, 1, err);
	json_object_put(doc);
	free(all);
	return s;
}

kp_status kp_prom_client_new(const kp_config *cfg, kp_http_client **out, kp_error *err)
{
	*out = NULL;
	char *token = NULL;
	kp_status s = KP_OK;
	if (cfg->prometheus.token_file && !cfg->prometheus.token)
		s = kp_read_token_file(cfg->prometheus.token_file, "prometheus.token_file", &token, err);
	const char **headers = kp_xcalloc(cfg->prometheus.headers.len + 1, sizeof(char *));
	for (size_t i = 0; i < cfg->prometheus.headers.len; i++)
		headers[i] = cfg->prometheus.headers.items[i];
	kp_http_opts ho = {0};
	ho.what = "Prometheus";
	ho.base_url = cfg->prometheus.url;
	ho.token = cfg->prometheus.token ? cfg->prometheus.token : token;
	ho.username = cfg->prometheus.username;
	ho.password = cfg->prometheus.password;
	ho.ca_file = cfg->prometheus.ca_file;
	ho.insecure = cfg->prometheus.insecure_skip_tls_verify;
	ho.headers = headers;
	ho.gzip = true;
	ho.timeout_ms = ((long)cfg->prometheus.timeout_seconds + 10L) * 1000L;
	ho.stall_timeout_ms = ho.timeout_ms; /* a heavy query sends nothing until it is done */
	ho.max_attempts = 3;
	ho.retryable = prom_retryable;
	ho.final_timeouts = true;
	if (!s)
		s = kp_http_new(&ho, out, err); /* it copies the token and the headers */
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	free(headers);
	return s;
}

kp_status kp_prom_collect(const kp_config *cfg, int64_t end, kp_audit *audit, const kp_progress *progress,
			  const char *path, kp_prom_stats *st, kp_error *err)
{
	memset(st, 0, sizeof(*st));
	double t0 = kp_monotonic_seconds();
	prom *p = kp_xcalloc(1, sizeof(*p));
	p->cfg = cfg;
	p->progress = progress;
	p->audit = audit;
	p->st = st;
	p->end = end;
	int64_t v = 0;
	p->window = kp_parse_duration(cfg->prometheus.window, &v) ? v : 14 * 86400;
	if (kp_parse_duration(cfg->prometheus.step, &v) && v >= 1)
		p->step = v;
	else /* auto: whole minutes, at most 10,080 points (a week of minutes) a series */
		p->step = ((p->window + 10080 * 60 - 1) / (10080 * 60)) * 60;
	p->rate = kp_parse_duration(cfg->prometheus.rate_window, &v) ? v : 300;
	p->lns = cfg->prometheus.namespace_label;
	p->lpod = cfg->prometheus.pod_label;
	p->lcont = cfg->prometheus.container_label;
	p->missing = json_object_new_array();
	kp_arena_init(&p->arena);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);

	kp_status s = kp_prom_client_new(cfg, &p->http, err);
	inventory *invp = kp_xcalloc(1, sizeof(*invp));
	invp->p = p;
	p->inv = invp;
	if (!s)
		s = probe(p, err);
	if (!s && (p->have & (1u << M_MEM))) {
		char sel[512];
		snprintf(sel, sizeof(sel), "container_memory_working_set_bytes{%s!=\"\",%s!=\"POD\"}", p->lcont, p->lcont);
		kp_error e2 = {0};
		qresult r = run_query(p, "the series inventory", sel, 0, on_series, invp, true, false, &e2);
		if (r != Q_DONE)
			s = kp_fail(err, e2.status ? e2.status : KP_ERR_NETWORK, "%s", e2.msg);
	}
	if (!s && (p->have & (1u << M_MEM))) {
		double points = points_per_series(p, invp);
		double lim = (double)cfg->prometheus.max_samples / (points > 1 ? points : 1);
		size_t limit = lim < 1 ? 1 : (size_t)lim;
		size_t ng = 0;
		group **gs = plan_groups(invp, limit, &ng);
		int nthreads = cfg->prometheus.concurrency < 1	  ? 1
			       : cfg->prometheus.concurrency > 16 ? 16
								  : cfg->prometheus.concurrency;
		/* the subquery's first and last points: aligned to the step
		 * (Prometheus aligns them to multiples of it), the first at or
		 * after the window's start */
		int64_t first_step = (p->end - p->window + p->step - 1) / p->step * p->step;
		int64_t last_step = p->end / p->step * p->step;
		for (int k = 0; k < NQ; k++)
			if ((qkinds[k].needs & p->have) == qkinds[k].needs && k != Q_FIRST && k != Q_LAST && k != Q_OOM)
				p->reserved += (long long)ng;
		for (size_t g = 0; g < ng; g++)
			for (int k = NQ; k < NQALL; k++)
				if ((qkinds[k].needs & p->have) == qkinds[k].needs)
					push_task(p, k, k == Q_ALIVE_FIRST ? first_step : k == Q_ALIVE_LAST ? last_step : 0,
						  group_copy(gs[g], 0, gs[g]->nns, 0, gs[g]->npods));
		run_workers(p, nthreads);
		tally_known(p);
		pthread_mutex_lock(&p->lock);
		p->reserved = 0; /* the second round is queued next */
		pthread_mutex_unlock(&p->lock);
		for (size_t g = 0; g < ng && !p->fatal; g++)
			for (int k = 0; k < NQ; k++)
				if ((qkinds[k].needs & p->have) == qkinds[k].needs && k != Q_FIRST && k != Q_LAST &&
				    k != Q_OOM)
					push_task(p, k, 0, group_copy(gs[g], 0, gs[g]->nns, 0, gs[g]->npods));
		static const struct {
			int kind, which;
		} second[] = {{Q_FIRST, NEED_FIRST}, {Q_LAST, NEED_LAST}, {Q_OOM, NEED_OOM}};
		for (size_t i = 0; i < sizeof(second) / sizeof(second[0]) && !p->fatal; i++) {
			if ((qkinds[second[i].kind].needs & p->have) != qkinds[second[i].kind].needs)
				continue;
			size_t n2 = 0;
			group **g2 = plan_pod_groups(invp, limit, second[i].which, &n2);
			for (size_t g = 0; g < n2; g++)
				push_task(p, second[i].kind, 0, g2[g]);
			free(g2);
		}
		for (size_t g = 0; g < ng; g++)
			group_free(gs[g]);
		free(gs);
		run_workers(p, nthreads);
		for (int i = 0; i < 4096; i++)
			for (nsinv *x = invp->buckets[i]; x; x = x->next)
				st->series += x->series;
		if (p->fatal) {
			s = p->fatal;
			*err = p->fatal_err;
		}
	}
	if (!s)
		s = write_usage(p, path, err);
	st->seconds = kp_monotonic_seconds() - t0;
	if (audit) {
		json_object *f = json_object_new_object();
		char *url = kp_mask_url_credentials(cfg->prometheus.url);
		json_object_object_add(f, "url", json_object_new_string(url));
		free(url);
		json_object_object_add(f, "queries", json_object_new_int(st->queries));
		json_object_object_add(f, "split", json_object_new_int(st->split));
		json_object_object_add(f, "series", json_object_new_int64((int64_t)st->series));
		json_object_object_add(f, "containers", json_object_new_int64((int64_t)st->containers));
		json_object_object_add(f, "missing", json_object_new_int((int)json_object_array_length(p->missing)));
		json_object_object_add(f, "seconds", kp_json_new_number(round(st->seconds * 1000) / 1000));
		json_object_object_add(f, "ok", json_object_new_boolean(s == KP_OK));
		if (s)
			json_object_object_add(f, "error", json_object_new_string(err->msg));
		kp_audit_event(audit, "collect.prometheus", f);
	}
	inventory_free(invp);
	free(invp);
	kp_http_free(p->http);
	json_object_put(p->missing);
	kp_arena_release(&p->arena);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
	return s;
}

/* ---- metrics-server ---- */

static kp_status gen_ms_container(void *ud, size_t i, json_object **item, kp_error *err)
{
	(void)err;
	json_object *arr = ud;
	*item = json_object_get(json_object_array_get_idx(arr, i));
	return KP_OK;
}

kp_status kp_metrics_server_collect(kp_http_client *kube, int64_t now, const char *path, size_t *containers,
				    kp_error *err)
{
	*containers = 0;
	const char *url = "/apis/metrics.k8s.io/v1beta1/pods";
	kp_buf b;
	kp_buf_init(&b);
	kp_http_result res;
	kp_status s = kp_http_get_buf(kube, url, "application/json", (size_t)1 << 30, &b, &res, err);
	if (!s && (res.status < 200 || res.status > 299))
		s = kp_fail(err, KP_ERR_NETWORK, "metrics-server: GET %s: %s", url, kp_http_reason(res.status));
	json_object *doc = NULL;
	if (!s && !(doc = json_tokener_parse(kp_buf_cstr(&b))))
		s = kp_fail(err, KP_ERR_INPUT, "metrics-server: GET %s: the answer is not JSON", url);
	kp_http_result_release(&res);
	kp_buf_release(&b);
	json_object *items = doc ? json_object_object_get(doc, "items") : NULL;
	if (!s && !json_object_is_type(items, json_type_array))
		s = kp_fail(err, KP_ERR_INPUT, "metrics-server: GET %s: no \"items\" list (not a PodMetricsList)", url);
	json_object *out = json_object_new_array();
	int64_t first = 0, last = 0, span = 1;
	for (size_t i = 0; !s && i < json_object_array_length(items); i++) {
		json_object *pm = json_object_array_get_idx(items, i);
		const char *ns = kp_json_str(pm, "metadata.namespace"), *pod = kp_json_str(pm, "metadata.name");
		const char *ts = kp_json_str(pm, "timestamp");
		int64_t t = now;
		if (ts && !kp_time_parse(ts, &t))
			t = now;
		/* the sample is a rate over its window ("15s"): the usage window
		 * starts that much before the first one */
		int64_t w = 0;
		const char *win = kp_json_str(pm, "window");
		if (win && kp_parse_duration(win, &w) && w > span)
			span = w;
		json_object *cs = json_object_object_get(pm, "containers");
		for (size_t k = 0; ns && pod && k < json_object_array_length(cs); k++) {
			json_object *c = json_object_array_get_idx(cs, k);
			const char *name = kp_json_str(c, "name"), *cpu = kp_json_str(c, "usage.cpu"),
				   *mem = kp_json_str(c, "usage.memory");
			int64_t m = 0, bytes = 0;
			kp_error e = {0};
			if (!name || !cpu || !mem || kp_quantity_milli(cpu, &m, &e) || kp_quantity_units(mem, &bytes, &e))
				continue;
			json_object *o = json_object_new_object();
			json_object_object_add(o, "namespace", json_object_new_string(ns));
			json_object_object_add(o, "pod", json_object_new_string(pod));
			json_object_object_add(o, "container", json_object_new_string(name));
			char tb[32];
			kp_time_format(t, tb);
			json_object_object_add(o, "first_seen", json_object_new_string(tb));
			json_object_object_add(o, "last_seen", json_object_new_string(tb));
			json_object_object_add(o, "samples", json_object_new_int(1));
			json_object *cj = json_object_new_object();
			static const char *const keys[] = {"p50", "p95", "p99", "max"};
			for (int q = 0; q < 4; q++)
				json_object_object_add(cj, keys[q], json_object_new_int64(m));
			json_object_object_add(o, "cpu_millicores", cj);
			json_object *mj = json_object_new_object();
			json_object_object_add(mj, "p50", json_object_new_int64(bytes));
			json_object_object_add(mj, "max", json_object_new_int64(bytes));
			json_object_object_add(o, "memory_bytes", mj);
			json_object_array_add(out, o);
			if (!first || t < first)
				first = t;
			if (t > last)
				last = t;
		}
	}
	if (!s) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "schema", json_object_new_string("kopilot.usage/v1"));
		json_object *win = json_object_new_object();
		char tb[32];
		kp_time_format((first ? first : now) - span, tb);
		json_object_object_add(win, "start", json_object_new_string(tb));
		kp_time_format(last ? last : now, tb);
		json_object_object_add(win, "end", json_object_new_string(tb));
		json_object_object_add(win, "source", json_object_new_string("metrics-server"));
		json_object_object_add(d, "window", win);
		json_object_object_add(d, "containers", NULL);
		json_object *missing = json_object_new_array();
		json_object_array_add(
			missing, json_object_new_string("usage from metrics-server: one sample per container, no history "
							"(give --prometheus-url for percentiles over a window); the "
							"rightsizing findings have low confidence"));
		json_object_object_add(d, "missing", missing);
		kp_json_streamed arr = {"containers", json_object_array_length(out), gen_ms_container, out};
		s = kp_json_write_streamed(path, d, &arr, 1, err);
		json_object_put(d);
		*containers = json_object_array_length(out);
	}
	json_object_put(out);
	json_object_put(doc);
	return s;
}
