/*
 * cmd_mcp_tools.c - see cmd_mcp.h: JSON-RPC 2.0 for MCP, the session's
 * lifecycle, and the six tools.
 *
 * Threads: the transport's thread calls kp_mcp_session_handle; every
 * tools/call runs on a thread of its own (at most
 * safety.max_concurrent_tasks at once, the others wait), so a long
 * find_waste does not hold up ping or a cancellation. A call is in the
 * session's list from its request until its reply is sent or dropped;
 * notifications/cancelled sets its flag, which stops its child process and
 * drops its reply. The server's run directory is read under a read lock and
 * replaced (find_waste, ask) under the write lock.
 */
#include "pipeline/cmd_mcp.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/log.h"
#include "pipeline/process.h"
#include "stages/analyze/agents/skills.h"

const char *const kp_mcp_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", NULL};

/* JSON-RPC and MCP error codes */
#define RPC_PARSE_ERROR -32700
#define RPC_INVALID_REQUEST -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS -32602

/* a report bigger than this is not sent whole: list_findings pages */
#define MAX_REPORT_BYTES (8u << 20)
#define PIPELINE_TIMEOUT_S 3600.0
#define ASK_TIMEOUT_S 1800.0

struct kp_mcp {
	kp_opts *o;
	char *run;
	bool may_run;
	char *self;
	pthread_rwlock_t run_lock;
	pthread_mutex_t lock; /* running */
	pthread_cond_t slot;
	int running, max_running;
};

typedef struct mcp_call {
	kp_mcp_session *s;
	json_object *id;      /* the request's id, echoed */
	char *key;            /* the id as JSON text, to find it by */
	char *tool;
	json_object *args;
	atomic_bool *cancel;   /* own_cancel, or the caller's (kp_mcp_tool_run) */
	atomic_bool own_cancel;
	bool listed;           /* in the session's list (cancellable by id) */
	struct mcp_call *next;
} mcp_call;

struct kp_mcp_session {
	kp_mcp *m;
	kp_mcp_send_fn send;
	void *ctx;
	char version[16];
	char client[128];
	bool initialized;
	pthread_mutex_t lock; /* calls, ncalls */
	pthread_cond_t idle;
	mcp_call *calls;
	int ncalls;
};

/* ---- JSON-RPC messages ---- */

static json_object *response(json_object *id, json_object *result)
{
	json_object *r = json_object_new_object();
	json_object_object_add(r, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(r, "id", json_object_get(id));
	json_object_object_add(r, "result", result);
	return r;
}

static json_object *error_response(json_object *id, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static json_object *error_response(json_object *id, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = kp_xvasprintf(fmt, ap);
	va_end(ap);
	json_object *e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	free(msg);
	json_object *r = json_object_new_object();
	json_object_object_add(r, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(r, "id", json_object_get(id));
	json_object_object_add(r, "error", e);
	return r;
}

static void send_msg(kp_mcp_session *s, json_object *msg)
{
	if (msg)
		s->send(s->ctx, msg);
	json_object_put(msg);
}

static bool at_least(const kp_mcp_session *s, const char *version)
{
	/* the revisions are dates: their text orders them */
	return strcmp(s->version, version) >= 0;
}

/* ---- tool arguments ---- */

typedef struct args_check {
	json_object *args;
	const char *tool;
	kp_buf *why; /* the first problem */
} args_check;

static bool args_known(args_check *a, const char *const *names)
{
	if (!a->args)
		return true;
	if (!json_object_is_type(a->args, json_type_object)) {
		kp_buf_printf(a->why, "%s: arguments must be an object", a->tool);
		return false;
	}
	json_object_object_foreach(a->args, k, v)
	{
		(void)v;
		bool ok = false;
		for (size_t i = 0; names[i] && !ok; i++)
			ok = !strcmp(k, names[i]);
		if (!ok) {
			kp_buf_printf(a->why, "%s: unknown argument \"%s\" (it takes", a->tool, k);
			for (size_t i = 0; names[i]; i++)
				kp_buf_printf(a->why, "%s%s", i ? ", " : " ", names[i]);
			kp_buf_puts(a->why, names[0] ? ")" : " none)");
			return false;
		}
	}
	return true;
}

static json_object *arg(args_check *a, const char *name)
{
	json_object *v = NULL;
	return a->args && json_object_object_get_ex(a->args, name, &v) && !json_object_is_type(v, json_type_null) ? v
														   : NULL;
}

/* a string argument, or def; false (why set) when it is not a string */
static bool arg_string(args_check *a, const char *name, bool required, const char **out)
{
	json_object *v = arg(a, name);
	*out = NULL;
	if (!v) {
		if (required)
			kp_buf_printf(a->why, "%s: argument \"%s\" is required", a->tool, name);
		return !required;
	}
	if (!json_object_is_type(v, json_type_string)) {
		kp_buf_printf(a->why, "%s: argument \"%s\" must be a string", a->tool, name);
		return false;
	}
	*out = json_object_get_string(v);
	return true;
}

static bool arg_int(args_check *a, const char *name, int64_t lo, int64_t hi, int64_t def, int64_t *out)
{
	json_object *v = arg(a, name);
	*out = def;
	if (!v)
		return true;
	double d = json_object_get_double(v);
	if (!(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) || d != (double)(int64_t)d ||
	    d < (double)lo || d > (double)hi) {
		kp_buf_printf(a->why, "%s: argument \"%s\" must be a whole number from %lld to %lld", a->tool, name,
			      (long long)lo, (long long)hi);
		return false;
	}
	*out = (int64_t)d;
	return true;
}

/* absent: -HUGE_VAL (no bound) */
static bool arg_number(args_check *a, const char *name, double *out)
{
	json_object *v = arg(a, name);
	*out = -HUGE_VAL;
	if (!v)
		return true;
	if (!(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) ||
	    json_object_get_double(v) < 0) {
		kp_buf_printf(a->why, "%s: argument \"%s\" must be a number, 0 or more", a->tool, name);
		return false;
	}
	*out = json_object_get_double(v);
	return true;
}

static bool arg_bool(args_check *a, const char *name, bool *out)
{
	json_object *v = arg(a, name);
	*out = false;
	if (!v)
		return true;
	if (!json_object_is_type(v, json_type_boolean)) {
		kp_buf_printf(a->why, "%s: argument \"%s\" must be true or false", a->tool, name);
		return false;
	}
	*out = json_object_get_boolean(v);
	return true;
}

/* namespaces: an array of namespace names (a single string is taken too) */
static bool arg_namespaces(args_check *a, const char *name, json_object **out)
{
	json_object *v = arg(a, name);
	*out = NULL;
	if (!v)
		return true;
	json_object *list = json_object_new_array();
	if (json_object_is_type(v, json_type_string)) {
		json_object_array_add(list, json_object_get(v));
	} else if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			json_object_array_add(list, json_object_get(json_object_array_get_idx(v, i)));
	}
	bool ok = json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_array);
	for (size_t i = 0; ok && i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i);
		ok = json_object_is_type(e, json_type_string) && kp_namespace_name_valid(json_object_get_string(e));
	}
	if (!ok) {
		kp_buf_printf(a->why, "%s: argument \"%s\" must be a list of namespace names", a->tool, name);
		json_object_put(list);
		return false;
	}
	*out = list;
	return true;
}

/* ---- the run the tools read ---- */

typedef enum { TOOL_OK, TOOL_ERROR, TOOL_CANCELLED } tool_status;

/* the tail of a child's stderr: its last lines, for an error message */
static void stderr_tail(kp_buf *why, const kp_buf *errb)
{
	const char *e = kp_buf_cstr(errb);
	size_t n = strlen(e);
	while (n && (e[n - 1] == '\n' || e[n - 1] == ' '))
		n--;
	size_t start = n, lines = 0;
	while (start > 0 && lines < 6) {
		start--;
		if (e[start] == '\n')
			lines++;
	}
	if (e[start] == '\n')
		start++;
	if (n > start)
		kp_buf_put_visible(why, e + start, n - start, true);
}

/* runs this program with argv (argv[0] is replaced by its path) */
static tool_status run_child(mcp_call *c, const char **argv, double timeout_s, kp_buf *out, const char *what,
			     kp_buf *why)
{
	kp_mcp *m = c->s->m;
	argv[0] = m->self;
	kp_buf errb;
	kp_buf_init(&errb);
	kp_proc_result res;
	kp_error err = {0};
	tool_status st = TOOL_OK;
	if (kp_process_run_cancellable((char *const *)argv, NULL, timeout_s, out, 16u << 20, &errb, 256u << 10,
				       c->cancel, &res, &err)) {
		kp_buf_printf(why, "%s could not start: %s", what, err.msg);
		st = TOOL_ERROR;
	} else if (res.cancelled) {
		st = TOOL_CANCELLED;
	} else if (res.timed_out) {
		kp_buf_printf(why, "%s took longer than %.0f s and was stopped", what, timeout_s);
		st = TOOL_ERROR;
	} else if (!res.exited || (res.code != KP_EXIT_OK && res.code != KP_EXIT_DEGRADED)) {
		kp_buf_printf(why, "%s failed (%s %d)", what, res.exited ? "exit" : "signal", res.code);
		if (errb.len) {
			kp_buf_puts(why, ": ");
			stderr_tail(why, &errb);
		}
		st = TOOL_ERROR;
	}
	kp_buf_release(&errb);
	return st;
}

/* the source flags of the server (the operator's, never the client's) */
static size_t source_args(const kp_opts *o, const char **v, size_t n, bool with_source)
{
	const struct {
		const char *flag, *value;
		bool source;
	} pass[] = {{"--snapshot", o->snapshot, true},	  {"--kubeconfig", o->kubeconfig, true},
		    {"--context", o->context, true},	  {"--prometheus-url", o->prometheus_url, true},
		    {"--window", o->window, true},	  {"--config", o->config_path, false},
		    {"--now", o->now_str, false}};
	for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
		if (pass[i].value && (with_source || !pass[i].source)) {
			v[n++] = pass[i].flag;
			v[n++] = pass[i].value;
		}
	for (size_t i = 0; i < o->nsets; i++) {
		v[n++] = "--set";
		v[n++] = o->sets[i];
	}
	return n;
}

static size_t namespace_args(json_object *ns, const char **v, size_t n)
{
	for (size_t i = 0; ns && i < json_object_array_length(ns); i++) {
		v[n++] = "--namespace";
		v[n++] = json_object_get_string(json_object_array_get_idx(ns, i));
	}
	return n;
}

/* kopilot run into the server's run directory; call with the write lock */
static tool_status run_pipeline(mcp_call *c, json_object *namespaces, kp_buf *why)
{
	kp_mcp *m = c->s->m;
	const kp_opts *o = m->o;
	size_t nns = namespaces ? json_object_array_length(namespaces) : 0;
	const char **v = kp_xcalloc(32 + 2 * (o->nsets + nns), sizeof(char *));
	size_t n = 0;
	v[n++] = "kopilot";
	v[n++] = "run";
	v[n++] = "--out";
	v[n++] = m->run;
	v[n++] = "--quiet";
	/* read-only: no pull requests, whatever the configuration says */
	v[n++] = "--set";
	v[n++] = "pr.enabled=false";
	n = source_args(o, v, n, true);
	n = namespace_args(namespaces, v, n);
	for (size_t i = 0; i < o->nnamespaces; i++) {
		v[n++] = "--namespace";
		v[n++] = o->namespaces[i];
	}
	kp_buf out;
	kp_buf_init(&out);
	tool_status st = run_child(c, v, PIPELINE_TIMEOUT_S, &out, "the pipeline (kopilot run)", why);
	kp_buf_release(&out);
	free(v);
	return st;
}

static bool run_exists(const kp_mcp *m)
{
	char *p = kp_path_join(m->run, "findings.json");
	bool ok = kp_file_exists(p);
	free(p);
	return ok;
}

/* Takes the read lock on a run that exists: made now (under the write lock)
 * when there is none yet and the server may make one. */
static tool_status hold_run(mcp_call *c, kp_buf *why)
{
	kp_mcp *m = c->s->m;
	pthread_rwlock_rdlock(&m->run_lock);
	if (run_exists(m))
		return TOOL_OK;
	pthread_rwlock_unlock(&m->run_lock);
	if (!m->may_run) {
		kp_buf_printf(why, "%s has no findings.json (not a run of kopilot run)", m->run);
		return TOOL_ERROR;
	}
	pthread_rwlock_wrlock(&m->run_lock);
	tool_status st = run_exists(m) ? TOOL_OK : run_pipeline(c, NULL, why);
	pthread_rwlock_unlock(&m->run_lock);
	if (st != TOOL_OK)
		return st;
	pthread_rwlock_rdlock(&m->run_lock);
	if (run_exists(m))
		return TOOL_OK;
	pthread_rwlock_unlock(&m->run_lock);
	kp_buf_printf(why, "the pipeline left no findings.json in %s", m->run);
	return TOOL_ERROR;
}

static json_object *read_findings(const kp_mcp *m, kp_buf *why)
{
	char *p = kp_path_join(m->run, "findings.json");
	json_object *doc = NULL;
	kp_error err = {0};
	if (kp_json_read_file(p, &doc, &err)) {
		kp_buf_printf(why, "%s", err.msg);
		doc = NULL;
	}
	free(p);
	return doc;
}

/* ---- what the tools return ---- */

static json_object *ref(json_object *o, const char *dotted)
{
	return json_object_get(kp_json_get(o, dotted));
}

/* the explanation's first sentence (a period and a space end one: names
 * and quantities hold periods without the space) */
static json_object *first_sentence(const char *text)
{
	if (!text)
		return NULL;
	size_t n = strlen(text);
	const char *end = strstr(text, ". ");
	if (end)
		n = (size_t)(end - text) + 1;
	n = kp_utf8_cut(text, n, 400);
	return json_object_new_string_len(text, (int)n);
}

static json_object *finding_brief(json_object *f)
{
	json_object *b = json_object_new_object();
	json_object_object_add(b, "id", ref(f, "id"));
	json_object_object_add(b, "category", ref(f, "category"));
	json_object_object_add(b, "kind", ref(f, "resource.kind"));
	json_object_object_add(b, "namespace", ref(f, "resource.namespace"));
	json_object_object_add(b, "name", ref(f, "resource.name"));
	json_object_object_add(b, "container", ref(f, "container"));
	json_object_object_add(b, "monthly_savings", ref(f, "monthly_savings"));
	json_object_object_add(b, "monthly_cost", ref(f, "monthly_cost"));
	json_object_object_add(b, "confidence", ref(f, "confidence"));
	json_object_object_add(b, "risk", ref(f, "risk"));
	json_object_object_add(b, "action", ref(f, "action.type"));
	json_object_object_add(b, "destructive", ref(f, "action.destructive"));
	json_object_object_add(b, "approval_required", ref(f, "action.approval_required"));
	json_object_object_add(b, "blocked", ref(f, "action.blocked"));
	json_object_object_add(b, "command", ref(f, "action.command"));
	json_object_object_add(b, "summary", first_sentence(kp_json_str(f, "explanation")));
	return b;
}

static double savings_of(json_object *f)
{
	return json_object_get_double(kp_json_get(f, "monthly_savings"));
}

static int by_savings(const void *a, const void *b)
{
	double x = savings_of(*(json_object *const *)a), y = savings_of(*(json_object *const *)b);
	if (x != y)
		return x > y ? -1 : 1;
	const char *i = kp_json_str(*(json_object *const *)a, "id"), *j = kp_json_str(*(json_object *const *)b, "id");
	return strcmp(i ? i : "", j ? j : "");
}

/* the run's findings that pass the filters, most savings first (borrowed) */
static json_object **select_findings(json_object *doc, const char *ns, const char *category, double min_savings,
				     size_t *n)
{
	json_object *all = kp_json_get(doc, "findings");
	size_t len = json_object_is_type(all, json_type_array) ? json_object_array_length(all) : 0;
	json_object **v = kp_xcalloc(len + 1, sizeof(*v));
	*n = 0;
	for (size_t i = 0; i < len; i++) {
		json_object *f = json_object_array_get_idx(all, i);
		const char *fns = kp_json_str(f, "resource.namespace"), *fc = kp_json_str(f, "category");
		if (ns && (!fns || strcmp(fns, ns)))
			continue;
		if (category && (!fc || strcmp(fc, category)))
			continue;
		if (savings_of(f) < min_savings)
			continue;
		v[(*n)++] = f;
	}
	qsort(v, *n, sizeof(*v), by_savings);
	return v;
}

/* the run's header: where and when, totals, what was missing */
static json_object *run_header(const kp_mcp *m, json_object *doc)
{
	json_object *h = json_object_new_object();
	json_object_object_add(h, "run", json_object_new_string(m->run));
	json_object_object_add(h, "generated_at", ref(doc, "generated_at"));
	json_object_object_add(h, "cluster", ref(doc, "cluster.name"));
	json_object *w = json_object_new_object();
	json_object_object_add(w, "start", ref(doc, "window.start"));
	json_object_object_add(w, "end", ref(doc, "window.end"));
	json_object_object_add(h, "window", w);
	json_object_object_add(h, "currency", ref(doc, "prices.currency"));
	json_object *missing = json_object_new_array();
	json_object *ms = kp_json_get(doc, "missing");
	for (size_t i = 0; json_object_is_type(ms, json_type_array) && i < json_object_array_length(ms); i++) {
		const char *t = kp_json_str(json_object_array_get_idx(ms, i), "summary");
		if (t)
			json_object_array_add(missing, json_object_new_string(t));
	}
	json_object_object_add(h, "degraded", json_object_new_boolean(json_object_array_length(missing) > 0));
	json_object_object_add(h, "missing", missing);
	return h;
}

static tool_status tool_find_waste(mcp_call *c, args_check *a, json_object **out, kp_buf *why)
{
	static const char *const names[] = {"namespaces", "limit", NULL};
	json_object *namespaces = NULL;
	int64_t limit;
	if (!args_known(a, names) || !arg_namespaces(a, "namespaces", &namespaces) ||
	    !arg_int(a, "limit", 0, 1000, 20, &limit))
		return TOOL_ERROR;
	kp_mcp *m = c->s->m;
	tool_status st;
	if (m->may_run) {
		pthread_rwlock_wrlock(&m->run_lock);
		st = run_pipeline(c, namespaces, why);
		pthread_rwlock_unlock(&m->run_lock);
	} else if (namespaces) {
		kp_buf_printf(why, "find_waste: this server serves the run %s as it is (kopilot mcp --run): it cannot "
				   "run again for other namespaces; list_findings filters by namespace",
			      m->run);
		st = TOOL_ERROR;
	} else {
		st = TOOL_OK;
	}
	json_object_put(namespaces);
	if (st != TOOL_OK || (st = hold_run(c, why)) != TOOL_OK)
		return st;
	json_object *doc = read_findings(m, why);
	pthread_rwlock_unlock(&m->run_lock);
	if (!doc)
		return TOOL_ERROR;
	json_object *r = run_header(m, doc);
	json_object *t = json_object_new_object();
	const char *const keys[] = {"findings", "monthly_cost", "monthly_savings", "actionable_monthly_savings",
				    "blocked_monthly_savings"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char k[64];
		snprintf(k, sizeof(k), "totals.%s", keys[i]);
		json_object_object_add(t, keys[i], ref(doc, k));
	}
	json_object_object_add(r, "totals", t);
	size_t n;
	json_object **v = select_findings(doc, NULL, NULL, -HUGE_VAL, &n);
	/* per category, in the order of their largest savings */
	json_object *cats = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const char *cat = kp_json_str(v[i], "category");
		json_object *row = NULL;
		for (size_t k = 0; k < json_object_array_length(cats) && !row; k++)
			if (!strcmp(kp_json_str(json_object_array_get_idx(cats, k), "category"), cat ? cat : ""))
				row = json_object_array_get_idx(cats, k);
		if (!row) {
			row = json_object_new_object();
			json_object_object_add(row, "category", json_object_new_string(cat ? cat : ""));
			json_object_object_add(row, "findings", json_object_new_int(0));
			json_object_object_add(row, "monthly_savings", json_object_new_double(0));
			json_object_array_add(cats, row);
		}
		json_object_int_inc(kp_json_get(row, "findings"), 1);
		double s = json_object_get_double(kp_json_get(row, "monthly_savings")) + savings_of(v[i]);
		json_object_object_add(row, "monthly_savings", kp_json_new_number(s));
	}
	json_object_object_add(r, "by_category", cats);
	json_object *list = json_object_new_array();
	for (size_t i = 0; i < n && (int64_t)i < limit; i++)
		json_object_array_add(list, finding_brief(v[i]));
	json_object_object_add(r, "findings", list);
	json_object_object_add(r, "findings_shown", json_object_new_int64((int64_t)json_object_array_length(list)));
	free(v);
	json_object_put(doc);
	*out = r;
	return TOOL_OK;
}

static tool_status tool_list_findings(mcp_call *c, args_check *a, json_object **out, kp_buf *why)
{
	static const char *const names[] = {"namespace", "category", "min_monthly_savings", "limit", "offset", NULL};
	const char *ns, *category;
	double min_savings;
	int64_t limit, offset;
	if (!args_known(a, names) || !arg_string(a, "namespace", false, &ns) ||
	    !arg_string(a, "category", false, &category) || !arg_number(a, "min_monthly_savings", &min_savings) ||
	    !arg_int(a, "limit", 1, 1000, 50, &limit) || !arg_int(a, "offset", 0, INT32_MAX, 0, &offset))
		return TOOL_ERROR;
	kp_mcp *m = c->s->m;
	tool_status st = hold_run(c, why);
	if (st != TOOL_OK)
		return st;
	json_object *doc = read_findings(m, why);
	pthread_rwlock_unlock(&m->run_lock);
	if (!doc)
		return TOOL_ERROR;
	size_t n;
	json_object **v = select_findings(doc, ns, category, min_savings, &n);
	json_object *r = run_header(m, doc);
	json_object_object_add(r, "matching", json_object_new_int64((int64_t)n));
	json_object_object_add(r, "offset", json_object_new_int64(offset));
	json_object *list = json_object_new_array();
	for (size_t i = (size_t)offset; i < n && (int64_t)(i - (size_t)offset) < limit; i++)
		json_object_array_add(list, finding_brief(v[i]));
	json_object_object_add(r, "findings", list);
	free(v);
	json_object_put(doc);
	*out = r;
	return TOOL_OK;
}

/* a finding told in plain English: what, how much, why, what to do */
static char *finding_text(json_object *f, const char *currency)
{
	kp_buf b;
	kp_buf_init(&b);
	const char *ns = kp_json_str(f, "resource.namespace"), *container = kp_json_str(f, "container");
	kp_buf_printf(&b, "%s %s%s%s", kp_json_str(f, "resource.kind"), ns ? ns : "", ns ? "/" : "",
		      kp_json_str(f, "resource.name"));
	if (container)
		kp_buf_printf(&b, " (container %s)", container);
	kp_buf_printf(&b, ": %s, %.2f %s a month to save (confidence %s, risk %s).\n\n", kp_json_str(f, "category"),
		      savings_of(f), currency ? currency : "", kp_json_str(f, "confidence"), kp_json_str(f, "risk"));
	const char *e = kp_json_str(f, "explanation");
	if (e)
		kp_buf_printf(&b, "%s\n\n", e);
	json_object *ev = kp_json_get(f, "evidence");
	for (size_t i = 0; json_object_is_type(ev, json_type_array) && i < json_object_array_length(ev); i++)
		kp_buf_printf(&b, "%s- %s\n", i ? "" : "Evidence:\n", kp_json_str(json_object_array_get_idx(ev, i), "summary"));
	const char *cmd = kp_json_str(f, "action.command");
	kp_buf_printf(&b, "\nAction: %s", kp_json_str(f, "action.type"));
	if (json_object_get_boolean(kp_json_get(f, "action.blocked")))
		kp_buf_printf(&b, " (blocked: %s)", kp_json_str(f, "action.blocked_reason"));
	else if (json_object_get_boolean(kp_json_get(f, "action.approval_required")))
		kp_buf_puts(&b, " (destructive: needs explicit approval)");
	if (cmd)
		kp_buf_printf(&b, "; command, not run: %s", cmd);
	kp_buf_puts(&b, "\n");
	return kp_buf_detach(&b);
}

static tool_status tool_explain_finding(mcp_call *c, args_check *a, json_object **out, kp_buf *why)
{
	static const char *const names[] = {"id", NULL};
	const char *id;
	if (!args_known(a, names) || !arg_string(a, "id", true, &id))
		return TOOL_ERROR;
	kp_mcp *m = c->s->m;
	tool_status st = hold_run(c, why);
	if (st != TOOL_OK)
		return st;
	json_object *doc = read_findings(m, why);
	pthread_rwlock_unlock(&m->run_lock);
	if (!doc)
		return TOOL_ERROR;
	json_object *all = kp_json_get(doc, "findings"), *f = NULL;
	for (size_t i = 0; json_object_is_type(all, json_type_array) && i < json_object_array_length(all) && !f; i++)
		if (kp_json_str(json_object_array_get_idx(all, i), "id") &&
		    !strcmp(kp_json_str(json_object_array_get_idx(all, i), "id"), id))
			f = json_object_array_get_idx(all, i);
	if (!f) {
		char *v = kp_visible(id);
		kp_buf_printf(why, "explain_finding: no finding \"%s\" in the run of %s (list_findings lists their ids)", v,
			      kp_json_str(doc, "generated_at") ? kp_json_str(doc, "generated_at") : "?");
		free(v);
		json_object_put(doc);
		return TOOL_ERROR;
	}
	json_object *r = json_object_new_object();
	char *text = finding_text(f, kp_json_str(doc, "prices.currency"));
	json_object_object_add(r, "text", json_object_new_string(text));
	free(text);
	json_object_object_add(r, "currency", ref(doc, "prices.currency"));
	json_object_object_add(r, "finding", json_object_get(f));
	json_object_put(doc);
	*out = r;
	return TOOL_OK;
}

static tool_status tool_get_report(mcp_call *c, args_check *a, json_object **out, kp_buf *why)
{
	static const char *const names[] = {"format", NULL};
	const char *format;
	if (!args_known(a, names) || !arg_string(a, "format", false, &format))
		return TOOL_ERROR;
	const char *file = !format || !strcmp(format, "markdown") ? "report.md"
			   : !strcmp(format, "html")		  ? "report.html"
			   : !strcmp(format, "json")		  ? "findings.json"
								  : NULL;
	if (!file) {
		kp_buf_printf(why, "get_report: argument \"format\" must be markdown, html or json");
		return TOOL_ERROR;
	}
	kp_mcp *m = c->s->m;
	tool_status st = hold_run(c, why);
	if (st != TOOL_OK)
		return st;
	char *p = kp_path_join(m->run, file);
	char *data = NULL;
	size_t len = 0;
	kp_error err = {0};
	kp_status s = kp_read_file(p, &data, &len, &err);
	pthread_rwlock_unlock(&m->run_lock);
	if (!s && len > MAX_REPORT_BYTES) {
		kp_buf_printf(why, "get_report: %s is %zu bytes, more than a tool result should carry: list_findings pages "
				   "through the findings",
			      p, len);
		s = KP_ERR_USAGE;
	} else if (s) {
		kp_buf_printf(why, "get_report: %s", err.msg);
	} else {
		json_object *r = json_object_new_object();
		json_object_object_add(r, "format", json_object_new_string(format ? format : "markdown"));
		json_object_object_add(r, "path", json_object_new_string(p));
		json_object_object_add(r, "bytes", json_object_new_int64((int64_t)len));
		json_object_object_add(r, "content", json_object_new_string_len(data, (int)len));
		*out = r;
	}
	free(data);
	free(p);
	return s ? TOOL_ERROR : TOOL_OK;
}

static tool_status tool_ask(mcp_call *c, args_check *a, json_object **out, kp_buf *why)
{
	static const char *const names[] = {"question", "reflect", "namespaces", "skill", NULL};
	const char *question, *skill;
	bool reflect;
	json_object *namespaces = NULL;
	if (!args_known(a, names) || !arg_string(a, "question", true, &question) || !arg_bool(a, "reflect", &reflect) ||
	    !arg_string(a, "skill", false, &skill) || !arg_namespaces(a, "namespaces", &namespaces))
		return TOOL_ERROR;
	if (!question[strspn(question, " \t\r\n")]) {
		kp_buf_printf(why, "ask: argument \"question\" is empty");
		json_object_put(namespaces);
		return TOOL_ERROR;
	}
	kp_mcp *m = c->s->m;
	if (m->o->cfg.llm.provider && !strcmp(m->o->cfg.llm.provider, "none")) {
		kp_buf_printf(why, "ask: this server has no language model (llm.provider is none): set LLM_PROVIDER "
				   "where kopilot runs (docs/configuration.md)");
		json_object_put(namespaces);
		return TOOL_ERROR;
	}
	/* the read lock: questions run side by side (kopilot ask adds its
	 * proposals under a file lock), find_waste waits for them */
	tool_status st = hold_run(c, why);
	if (st != TOOL_OK) {
		json_object_put(namespaces);
		return st;
	}
	const kp_opts *o = m->o;
	size_t nns = namespaces ? json_object_array_length(namespaces) : 0;
	const char **v = kp_xcalloc(36 + 2 * (o->nsets + nns), sizeof(char *));
	size_t n = 0;
	v[n++] = "kopilot";
	v[n++] = "ask";
	v[n++] = "--run";
	v[n++] = m->run;
	v[n++] = "--quiet";
	v[n++] = "-o";
	v[n++] = "json";
	if (reflect)
		v[n++] = "--reflect";
	if (skill) {
		v[n++] = "--skill";
		v[n++] = skill;
	}
	n = source_args(o, v, n, false);
	n = namespace_args(namespaces, v, n);
	v[n++] = "--";
	v[n++] = question;
	kp_buf answer;
	kp_buf_init(&answer);
	st = run_child(c, v, ASK_TIMEOUT_S, &answer, "the supervisor (kopilot ask)", why);
	pthread_rwlock_unlock(&m->run_lock);
	free(v);
	json_object_put(namespaces);
	json_object *d = st == TOOL_OK ? json_tokener_parse(kp_buf_cstr(&answer)) : NULL;
	if (st == TOOL_OK && !kp_json_str(d, "answer")) {
		kp_buf_printf(why, "ask: the supervisor's answer is not the JSON kopilot ask -o json prints");
		st = TOOL_ERROR;
	}
	if (st == TOOL_OK) {
		json_object *r = json_object_new_object();
		json_object_object_add(r, "answer", json_object_get(kp_json_get(d, "answer")));
		json_object_object_add(r, "skills", json_object_get(kp_json_get(d, "skills")));
		json_object_object_add(r, "proposals", json_object_get(kp_json_get(d, "proposals")));
		json_object_object_add(r, "approve_with", json_object_new_string("kopilot approve ID --run RUN (by a person, "
										 "after reading the command; never by this server)"));
		json_object_object_add(r, "run", json_object_new_string(m->run));
		json_object_object_add(r, "usage", json_object_get(kp_json_get(d, "usage")));
		*out = r;
	}
	json_object_put(d);
	kp_buf_release(&answer);
	return st;
}

static tool_status tool_list_skills(mcp_call *c, args_check *a, json_object **out, kp_buf *why)
{
	static const char *const names[] = {NULL};
	if (!args_known(a, names))
		return TOOL_ERROR;
	kp_skills skills = {0};
	kp_error err = {0};
	if (kp_skills_load(&c->s->m->o->cfg, &skills, &err)) {
		kp_buf_printf(why, "list_skills: %s", err.msg);
		return TOOL_ERROR;
	}
	json_object *list = json_object_new_array();
	for (size_t i = 0; i < skills.len; i++) {
		const kp_skill *k = &skills.items[i];
		json_object *s = json_object_new_object();
		json_object_object_add(s, "name", json_object_new_string(k->name));
		json_object_object_add(s, "display_name", json_object_new_string(k->display_name));
		json_object_object_add(s, "description", json_object_new_string(k->description));
		json_object_object_add(s, "version", k->version ? json_object_new_string(k->version) : NULL);
		json_object *tools = NULL;
		if (k->has_tools) {
			tools = json_object_new_array();
			for (size_t t = 0; t < k->ntools; t++)
				json_object_array_add(tools, json_object_new_string(k->tools[t]));
		}
		json_object_object_add(s, "tools", tools);
		json_object_object_add(s, "source", json_object_new_string(k->source));
		json_object_object_add(s, "builtin", json_object_new_boolean(k->builtin));
		json_object_array_add(list, s);
	}
	kp_skills_release(&skills);
	json_object *r = json_object_new_object();
	json_object_object_add(r, "skills", list);
	*out = r;
	return TOOL_OK;
}

/* ---- the tool table ---- */

#define S_NULLABLE_STRING "{\"type\":[\"string\",\"null\"]}"
#define S_BRIEF                                                                                                        \
	"{\"type\":\"object\",\"required\":[\"id\",\"category\",\"kind\",\"name\",\"monthly_savings\"],"             \
	"\"properties\":{\"id\":{\"type\":\"string\"},\"category\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"}," \
	"\"namespace\":" S_NULLABLE_STRING ",\"name\":{\"type\":\"string\"},\"container\":" S_NULLABLE_STRING ","       \
	"\"monthly_savings\":{\"type\":\"number\"},\"monthly_cost\":{\"type\":[\"number\",\"null\"]},"                  \
	"\"confidence\":{\"type\":\"string\"},\"risk\":{\"type\":\"string\"},\"action\":{\"type\":\"string\"},"         \
	"\"destructive\":{\"type\":\"boolean\"},\"approval_required\":{\"type\":\"boolean\"},"                          \
	"\"blocked\":{\"type\":\"boolean\"},\"command\":" S_NULLABLE_STRING ",\"summary\":" S_NULLABLE_STRING "}}"
#define S_HEADER_PROPS                                                                                                 \
	"\"run\":{\"type\":\"string\",\"description\":\"the run directory on the server\"},"                         \
	"\"generated_at\":{\"type\":\"string\"},\"cluster\":" S_NULLABLE_STRING ","                                     \
	"\"window\":{\"type\":\"object\",\"properties\":{\"start\":" S_NULLABLE_STRING ",\"end\":" S_NULLABLE_STRING   \
	"}},\"currency\":{\"type\":\"string\"},\"degraded\":{\"type\":\"boolean\",\"description\":\"something "        \
	"could not be collected: see missing\"},\"missing\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}"
#define S_NAMESPACES                                                                                                   \
	"\"namespaces\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":\"only these "           \
	"namespaces (default: the whole cluster, as the server was started)\"}"

typedef struct tool_def {
	const char *name, *title, *description, *input, *output;
	bool open_world;
	tool_status (*fn)(mcp_call *c, args_check *a, json_object **out, kp_buf *why);
} tool_def;

static const tool_def tools[] = {
	{"find_waste", "Find wasted spend",
	 "Runs kopilot's pipeline read-only on the cluster or snapshot this server was started with (collect, "
	 "analyze, recommend, render; no pull requests, nothing changed) and returns the totals, the savings per "
	 "category and the findings with the most savings. It replaces the run the other tools read. A live cluster "
	 "can take minutes.",
	 "{\"type\":\"object\",\"properties\":{" S_NAMESPACES ",\"limit\":{\"type\":\"integer\",\"minimum\":0,"
	 "\"maximum\":1000,\"default\":20,\"description\":\"findings to return, most savings first\"}},"
	 "\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"required\":[\"run\",\"totals\",\"by_category\",\"findings\",\"degraded\"],"
	 "\"properties\":{" S_HEADER_PROPS ",\"totals\":{\"type\":\"object\",\"properties\":{\"findings\":{\"type\":"
	 "\"integer\"},\"monthly_cost\":{\"type\":\"number\"},\"monthly_savings\":{\"type\":\"number\"},"
	 "\"actionable_monthly_savings\":{\"type\":\"number\"},\"blocked_monthly_savings\":{\"type\":\"number\"}}},"
	 "\"by_category\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"category\":{\"type\":"
	 "\"string\"},\"findings\":{\"type\":\"integer\"},\"monthly_savings\":{\"type\":\"number\"}}}},"
	 "\"findings\":{\"type\":\"array\",\"items\":" S_BRIEF "},\"findings_shown\":{\"type\":\"integer\"}}}",
	 true, tool_find_waste},
	{"list_findings", "List findings",
	 "The findings of the latest run (find_waste makes one first if there is none), most savings first, "
	 "filtered by namespace, category (over-provisioned-workload, idle-workload, orphaned-pvc, unbound-pv, "
	 "idle-loadbalancer, finished-job, underutilized-node, throttled-cpu-limit, ...) and minimum monthly savings; "
	 "paged with offset and limit.",
	 "{\"type\":\"object\",\"properties\":{\"namespace\":{\"type\":\"string\"},\"category\":{\"type\":\"string\"},"
	 "\"min_monthly_savings\":{\"type\":\"number\",\"minimum\":0},\"limit\":{\"type\":\"integer\",\"minimum\":1,"
	 "\"maximum\":1000,\"default\":50},\"offset\":{\"type\":\"integer\",\"minimum\":0,\"default\":0}},"
	 "\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"required\":[\"run\",\"matching\",\"findings\"],\"properties\":{" S_HEADER_PROPS
	 ",\"matching\":{\"type\":\"integer\"},\"offset\":{\"type\":\"integer\"},\"findings\":{\"type\":\"array\","
	 "\"items\":" S_BRIEF "}}}",
	 false, tool_list_findings},
	{"explain_finding", "Explain a finding",
	 "One finding of the latest run in full, by its id (from find_waste or list_findings): the evidence in plain "
	 "English, prices, confidence, risk and the proposed action (a kubectl command shown, never run).",
	 "{\"type\":\"object\",\"required\":[\"id\"],\"properties\":{\"id\":{\"type\":\"string\"}},"
	 "\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"required\":[\"text\",\"finding\"],\"properties\":{\"text\":{\"type\":\"string\"},"
	 "\"currency\":{\"type\":\"string\"},\"finding\":{\"type\":\"object\",\"description\":\"the finding as "
	 "findings.json (kopilot.findings/v1) has it\"}}}",
	 false, tool_explain_finding},
	{"get_report", "Get the report",
	 "The latest run's report: markdown (report.md, the default), html (report.html) or json (findings.json, "
	 "the kopilot.findings/v1 contract).",
	 "{\"type\":\"object\",\"properties\":{\"format\":{\"type\":\"string\",\"enum\":[\"markdown\",\"html\","
	 "\"json\"],\"default\":\"markdown\"}},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"required\":[\"format\",\"content\"],\"properties\":{\"format\":{\"type\":\"string\"},"
	 "\"path\":{\"type\":\"string\"},\"bytes\":{\"type\":\"integer\"},\"content\":{\"type\":\"string\"}}}",
	 false, tool_get_report},
	{"ask", "Ask the sub-agents",
	 "A question about the cluster's spend, answered from evidence by kopilot's supervisor and its LLM sub-agents "
	 "over the latest run (read-only tools; anything they would change comes back as a proposal, never run). "
	 "Needs a language model configured where the server runs.",
	 "{\"type\":\"object\",\"required\":[\"question\"],\"properties\":{\"question\":{\"type\":\"string\"},"
	 "\"reflect\":{\"type\":\"boolean\",\"default\":false,\"description\":\"score the answer and re-plan when it "
	 "falls short\"},\"skill\":{\"type\":\"string\",\"description\":\"this sub-agent answers, without routing "
	 "(list_skills)\"}," S_NAMESPACES "},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"required\":[\"answer\",\"proposals\"],\"properties\":{\"answer\":{\"type\":"
	 "\"string\"},\"skills\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},\"proposals\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},\"approve_with\":{\"type\":"
	 "\"string\"},\"run\":{\"type\":\"string\"},\"usage\":{\"type\":\"object\",\"description\":\"model calls, "
	 "tokens and the safety layer's decisions on the commands the agents asked for\",\"properties\":{"
	 "\"provider_model\":" S_NULLABLE_STRING ",\"model_calls\":{\"type\":\"integer\"},\"in_tokens\":{\"type\":"
	 "\"integer\"},\"out_tokens\":{\"type\":\"integer\"},\"command_decisions\":{\"type\":\"object\","
	 "\"additionalProperties\":{\"type\":\"integer\"}}}}}}",
	 true, tool_ask},
	{"list_skills", "List the sub-agents",
	 "The LLM sub-agents (skills) this server's supervisor routes to: built-in and mounted (SKILL_DIRS), as "
	 "ENABLED_SKILLS selects them.",
	 "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"required\":[\"skills\"],\"properties\":{\"skills\":{\"type\":\"array\",\"items\":"
	 "{\"type\":\"object\",\"required\":[\"name\",\"description\"],\"properties\":{\"name\":{\"type\":\"string\"},"
	 "\"display_name\":{\"type\":\"string\"},\"description\":{\"type\":\"string\"},\"version\":"
	 S_NULLABLE_STRING ",\"tools\":{\"type\":[\"array\",\"null\"],\"items\":{\"type\":\"string\"}},"
	 "\"source\":{\"type\":\"string\"},\"builtin\":{\"type\":\"boolean\"}}}}}}",
	 false, tool_list_skills},
};
#define NTOOLS (sizeof(tools) / sizeof(tools[0]))

static const tool_def *tool_find(const char *name)
{
	for (size_t i = 0; i < NTOOLS; i++)
		if (!strcmp(tools[i].name, name))
			return &tools[i];
	return NULL;
}

static json_object *tools_list(const kp_mcp_session *s)
{
	json_object *list = json_object_new_array();
	bool live = !s->m->o->snapshot;
	for (size_t i = 0; i < NTOOLS; i++) {
		const tool_def *t = &tools[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(t->name));
		if (at_least(s, "2025-06-18"))
			json_object_object_add(o, "title", json_object_new_string(t->title));
		json_object_object_add(o, "description", json_object_new_string(t->description));
		json_object_object_add(o, "inputSchema", json_tokener_parse(t->input));
		if (at_least(s, "2025-06-18"))
			json_object_object_add(o, "outputSchema", json_tokener_parse(t->output));
		json_object *an = json_object_new_object();
		json_object_object_add(an, "title", json_object_new_string(t->title));
		json_object_object_add(an, "readOnlyHint", json_object_new_boolean(true));
		json_object_object_add(an, "destructiveHint", json_object_new_boolean(false));
		json_object_object_add(an, "idempotentHint", json_object_new_boolean(t->fn != tool_ask));
		/* a live cluster and a language model are the world outside */
		json_object_object_add(an, "openWorldHint",
				       json_object_new_boolean(t->open_world && (t->fn == tool_ask || live)));
		json_object_object_add(o, "annotations", an);
		json_object_array_add(list, o);
	}
	json_object *r = json_object_new_object();
	json_object_object_add(r, "tools", list);
	return r;
}

/* ---- calls ---- */

static void audit_call(kp_mcp_session *s, const mcp_call *c, tool_status st, const char *why, double seconds)
{
	char *p = kp_path_join(s->m->run, "audit.jsonl");
	if (kp_file_exists(p)) {
		kp_audit a;
		kp_audit_init(&a, p, false);
		json_object *f = json_object_new_object();
		json_object_object_add(f, "tool", json_object_new_string(c->tool));
		json_object_object_add(f, "arguments", c->args ? json_object_get(c->args) : json_object_new_object());
		json_object_object_add(f, "client", json_object_new_string(s->client));
		json_object_object_add(f, "result", json_object_new_string(st == TOOL_OK	  ? "ok"
									    : st == TOOL_CANCELLED ? "cancelled"
												  : "error"));
		if (why && *why)
			json_object_object_add(f, "error", json_object_new_string(why));
		json_object_object_add(f, "seconds", kp_json_new_number(seconds));
		kp_audit_event(&a, "mcp.call", f);
		kp_audit_release(&a);
	}
	free(p);
}

static json_object *call_result(const kp_mcp_session *s, json_object *structured, const char *error)
{
	json_object *r = json_object_new_object();
	json_object *content = json_object_new_array();
	json_object *t = json_object_new_object();
	json_object_object_add(t, "type", json_object_new_string("text"));
	/* the structured result serialized, as the specification asks for
	 * clients that read only text */
	json_object_object_add(t, "text", json_object_new_string(
						 error ? error
						       : json_object_to_json_string_ext(structured, JSON_C_TO_STRING_PLAIN |
												    JSON_C_TO_STRING_NOSLASHESCAPE)));
	json_object_array_add(content, t);
	json_object_object_add(r, "content", content);
	if (error)
		json_object_object_add(r, "isError", json_object_new_boolean(true));
	else if (at_least(s, "2025-06-18"))
		json_object_object_add(r, "structuredContent", json_object_get(structured));
	json_object_put(structured);
	return r;
}

/* runs the call's tool, logs and audits it */
static tool_status call_tool(mcp_call *c, json_object **out, kp_buf *why)
{
	const tool_def *t = tool_find(c->tool);
	args_check a = {c->args, c->tool, why};
	*out = NULL;
	double t0 = kp_monotonic_seconds();
	tool_status st = t->fn(c, &a, out, why);
	if (st == TOOL_ERROR && !why->len)
		kp_buf_printf(why, "%s failed", c->tool);
	if (st == TOOL_OK && atomic_load(c->cancel))
		st = TOOL_CANCELLED;
	kp_log(st == TOOL_ERROR ? KP_LOG_WARN : KP_LOG_INFO, "mcp: %s %s%s%s (%.1f s, %s)", c->tool,
	       st == TOOL_OK ? "ok" : st == TOOL_CANCELLED ? "cancelled" : "failed", st == TOOL_ERROR ? ": " : "",
	       st == TOOL_ERROR ? kp_buf_cstr(why) : "", kp_monotonic_seconds() - t0, c->s->client);
	audit_call(c->s, c, st, st == TOOL_ERROR ? kp_buf_cstr(why) : NULL, kp_monotonic_seconds() - t0);
	return st;
}

/* runs the call's tool; its reply (NULL when cancelled) */
static json_object *call_run(mcp_call *c)
{
	kp_mcp_session *s = c->s;
	kp_buf why;
	kp_buf_init(&why);
	json_object *out = NULL;
	tool_status st = call_tool(c, &out, &why);
	json_object *reply = NULL;
	if (st == TOOL_OK)
		reply = response(c->id, call_result(s, out, NULL));
	else if (st == TOOL_ERROR)
		reply = response(c->id, call_result(s, NULL, kp_buf_cstr(&why)));
	else
		json_object_put(out);
	kp_buf_release(&why);
	return reply;
}

static void call_free(mcp_call *c)
{
	json_object_put(c->id);
	json_object_put(c->args);
	free(c->key), free(c->tool);
	free(c);
}

/* a slot of safety.max_concurrent_tasks; false when cancelled first */
static bool take_slot(mcp_call *c)
{
	kp_mcp *m = c->s->m;
	pthread_mutex_lock(&m->lock);
	while (m->running >= m->max_running && !atomic_load(c->cancel)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&m->slot, &m->lock, &ts);
	}
	bool ok = !atomic_load(c->cancel);
	if (ok)
		m->running++;
	pthread_mutex_unlock(&m->lock);
	return ok;
}

static void give_slot(kp_mcp *m)
{
	pthread_mutex_lock(&m->lock);
	m->running--;
	pthread_cond_broadcast(&m->slot);
	pthread_mutex_unlock(&m->lock);
}

/* takes c out of the list (the caller holds s->lock) */
static void call_unlist_locked(kp_mcp_session *s, mcp_call *c)
{
	for (mcp_call **p = &s->calls; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	s->ncalls--;
	pthread_cond_broadcast(&s->idle);
}

static void *call_thread(void *arg)
{
	mcp_call *c = arg;
	kp_mcp_session *s = c->s;
	json_object *reply = NULL;
	if (take_slot(c)) {
		reply = call_run(c);
		give_slot(s->m);
	}
	pthread_mutex_lock(&s->lock);
	/* a call cancelled while it ran gets no reply, as the client asked */
	if (reply && !atomic_load(c->cancel))
		s->send(s->ctx, reply);
	call_unlist_locked(s, c);
	pthread_mutex_unlock(&s->lock);
	json_object_put(reply);
	call_free(c);
	return NULL;
}

/* ---- requests ---- */

static json_object *on_initialize(kp_mcp_session *s, json_object *id, json_object *params)
{
	if (s->initialized)
		return error_response(id, RPC_INVALID_REQUEST, "the session is already initialized");
	const char *asked = kp_json_str(params, "protocolVersion");
	if (!asked)
		return error_response(id, RPC_INVALID_PARAMS, "initialize: params.protocolVersion is required");
	const char *v = kp_mcp_versions[0];
	for (size_t i = 0; kp_mcp_versions[i]; i++)
		if (!strcmp(asked, kp_mcp_versions[i]))
			v = kp_mcp_versions[i];
	snprintf(s->version, sizeof(s->version), "%s", v);
	const char *cn = kp_json_str(params, "clientInfo.name"), *cv = kp_json_str(params, "clientInfo.version");
	char *vis = kp_visible(cn ? cn : "unnamed client");
	snprintf(s->client, sizeof(s->client), "%s%s%s", vis, cv ? " " : "", cv ? cv : "");
	free(vis);
	s->initialized = true;
	kp_log(KP_LOG_INFO, "mcp: %s connected (protocol %s, asked for %s)", s->client, v, asked);
	json_object *r = json_object_new_object();
	json_object_object_add(r, "protocolVersion", json_object_new_string(v));
	json_object *caps = json_object_new_object(), *tc = json_object_new_object();
	json_object_object_add(tc, "listChanged", json_object_new_boolean(false));
	json_object_object_add(caps, "tools", tc);
	json_object_object_add(r, "capabilities", caps);
	json_object *info = json_object_new_object();
	json_object_object_add(info, "name", json_object_new_string("kopilot"));
	if (at_least(s, "2025-06-18"))
		json_object_object_add(info, "title", json_object_new_string("kopilot: Kubernetes waste finder"));
	json_object_object_add(info, "version", json_object_new_string(KP_VERSION));
	json_object_object_add(r, "serverInfo", info);
	json_object_object_add(
		r, "instructions",
		json_object_new_string("kopilot finds wasted Kubernetes spend (over-provisioned and idle workloads, orphaned "
				       "storage, idle load balancers, forgotten jobs, underused nodes). Call find_waste "
				       "first, then list_findings and explain_finding for details, get_report for the "
				       "whole report, ask for a question in plain English. Every tool only reads: changes "
				       "are proposals a person approves."));
	return response(id, r);
}

static char *id_key(json_object *id)
{
	return kp_xstrdup(json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN));
}

static mcp_call *call_new(kp_mcp_session *s, json_object *id, const char *tool, json_object *args,
			  atomic_bool *cancel)
{
	mcp_call *c = kp_xcalloc(1, sizeof(*c));
	c->s = s;
	c->id = json_object_get(id);
	c->key = id ? id_key(id) : kp_xstrdup("");
	c->tool = kp_xstrdup(tool);
	c->args = json_object_get(args);
	atomic_init(&c->own_cancel, false);
	c->cancel = cancel ? cancel : &c->own_cancel;
	return c;
}

/* puts c in the session's list; false (c untouched) when its id is in use */
static bool call_list(kp_mcp_session *s, mcp_call *c)
{
	pthread_mutex_lock(&s->lock);
	bool dup = false;
	for (mcp_call *k = s->calls; k && !dup; k = k->next)
		dup = !strcmp(k->key, c->key);
	if (!dup) {
		c->next = s->calls;
		s->calls = c;
		s->ncalls++;
		c->listed = true;
	}
	pthread_mutex_unlock(&s->lock);
	return !dup;
}

typedef enum {
	CALL_THREAD, /* on a thread of its own, the reply sent when done (stdio) */
	CALL_HERE,   /* in this thread, listed (cancellable), the reply returned (Streamable HTTP) */
	CALL_INLINE, /* in this thread, not listed (a 2025-03-26 batch) */
} call_mode;

static json_object *on_tools_call(kp_mcp_session *s, json_object *id, json_object *params, call_mode mode)
{
	const char *name = kp_json_str(params, "name");
	if (!name)
		return error_response(id, RPC_INVALID_PARAMS, "tools/call: params.name is required");
	if (!tool_find(name)) {
		char *v = kp_visible(name);
		json_object *r = error_response(id, RPC_INVALID_PARAMS, "Unknown tool: %s", v);
		free(v);
		return r;
	}
	mcp_call *c = call_new(s, id, name, kp_json_get(params, "arguments"), NULL);
	json_object *reply = NULL;
	if (mode == CALL_INLINE) {
		if (take_slot(c)) {
			reply = call_run(c);
			give_slot(s->m);
		}
		call_free(c);
		return reply;
	}
	if (!call_list(s, c)) {
		reply = error_response(id, RPC_INVALID_REQUEST, "request id %s is already in use", c->key);
		call_free(c);
		return reply;
	}
	if (mode == CALL_HERE) {
		if (take_slot(c)) {
			reply = call_run(c);
			give_slot(s->m);
		}
		pthread_mutex_lock(&s->lock);
		if (atomic_load(c->cancel)) { /* the client called it off: no reply */
			json_object_put(reply);
			reply = NULL;
		}
		call_unlist_locked(s, c);
		pthread_mutex_unlock(&s->lock);
		call_free(c);
		return reply;
	}
	pthread_t th;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&th, &attr, call_thread, c);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		pthread_mutex_lock(&s->lock);
		call_unlist_locked(s, c);
		pthread_mutex_unlock(&s->lock);
		reply = error_response(id, -32603, "cannot start a thread for the call: %s", strerror(rc));
		call_free(c);
		return reply;
	}
	return NULL;
}

static void on_cancelled(kp_mcp_session *s, json_object *params)
{
	json_object *rid = kp_json_get(params, "requestId");
	if (!rid)
		return;
	char *key = id_key(rid);
	pthread_mutex_lock(&s->lock);
	for (mcp_call *c = s->calls; c; c = c->next)
		if (!strcmp(c->key, key)) {
			atomic_store(c->cancel, true);
			const char *why = kp_json_str(params, "reason");
			char *v = kp_visible(why ? why : "no reason given");
			kp_log(KP_LOG_INFO, "mcp: %s cancelled by the client (%s)", c->tool, v);
			free(v);
		}
	pthread_mutex_unlock(&s->lock);
	free(key);
}

/* one message that is not a batch; the reply, or NULL */
static json_object *handle_one(kp_mcp_session *s, json_object *msg, bool in_batch, call_mode mode)
{
	if (!json_object_is_type(msg, json_type_object))
		return error_response(NULL, RPC_INVALID_REQUEST, "a JSON-RPC message is an object");
	json_object *id = NULL;
	bool has_id = json_object_object_get_ex(msg, "id", &id);
	const char *method = kp_json_str(msg, "method");
	const char *ver = kp_json_str(msg, "jsonrpc");
	if (!ver || strcmp(ver, "2.0"))
		return error_response(has_id ? id : NULL, RPC_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
	if (!method) {
		/* a response from the client: we send no requests, so none is expected */
		if (json_object_object_get_ex(msg, "result", NULL) || json_object_object_get_ex(msg, "error", NULL))
			return NULL;
		return error_response(has_id ? id : NULL, RPC_INVALID_REQUEST, "a request needs a method");
	}
	if (has_id && !(json_object_is_type(id, json_type_string) || json_object_is_type(id, json_type_int)))
		return error_response(NULL, RPC_INVALID_REQUEST, "a request id is a string or an integer");
	json_object *params = kp_json_get(msg, "params");
	if (!has_id) { /* notifications */
		if (!strcmp(method, "notifications/cancelled"))
			on_cancelled(s, params);
		return NULL;
	}
	if (!strcmp(method, "initialize")) {
		if (in_batch)
			return error_response(id, RPC_INVALID_REQUEST, "initialize cannot be part of a batch");
		return on_initialize(s, id, params);
	}
	if (!strcmp(method, "ping"))
		return response(id, json_object_new_object());
	if (!s->initialized)
		return error_response(id, RPC_INVALID_REQUEST, "send initialize first");
	if (!strcmp(method, "tools/list"))
		return response(id, tools_list(s));
	if (!strcmp(method, "tools/call"))
		return on_tools_call(s, id, params, in_batch ? CALL_INLINE : mode);
	char *v = kp_visible(method);
	json_object *r = error_response(id, RPC_METHOD_NOT_FOUND, "Method not found: %s", v);
	free(v);
	return r;
}

static json_object *handle(kp_mcp_session *s, json_object *msg, call_mode mode)
{
	if (!json_object_is_type(msg, json_type_array))
		return handle_one(s, msg, false, mode);
	/* JSON-RPC batches are 2025-03-26's only */
	if (!s->initialized || at_least(s, "2025-06-18"))
		return error_response(NULL, RPC_INVALID_REQUEST, "JSON-RPC batches are not part of MCP %s",
				      s->initialized ? s->version : kp_mcp_versions[0]);
	if (json_object_array_length(msg) == 0)
		return error_response(NULL, RPC_INVALID_REQUEST, "an empty batch");
	json_object *replies = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(msg); i++) {
		json_object *r = handle_one(s, json_object_array_get_idx(msg, i), true, mode);
		if (r)
			json_object_array_add(replies, r);
	}
	if (json_object_array_length(replies))
		return replies;
	json_object_put(replies);
	return NULL;
}

void kp_mcp_session_handle(kp_mcp_session *s, json_object *msg)
{
	send_msg(s, handle(s, msg, CALL_THREAD));
}

json_object *kp_mcp_session_call(kp_mcp_session *s, json_object *msg)
{
	return handle(s, msg, CALL_HERE);
}

json_object *kp_mcp_parse_error(const char *why)
{
	return error_response(NULL, RPC_PARSE_ERROR, "Parse error: %s", why);
}

json_object *kp_mcp_tool_run(kp_mcp_session *s, const char *tool, json_object *args, atomic_bool *cancel,
			     char **error)
{
	*error = NULL;
	if (!tool_find(tool)) {
		*error = kp_xasprintf("no tool %s", tool);
		return NULL;
	}
	mcp_call *c = call_new(s, NULL, tool, args, cancel);
	json_object *out = NULL;
	if (!take_slot(c)) {
		*error = kp_xstrdup("cancelled");
	} else {
		kp_buf why;
		kp_buf_init(&why);
		tool_status st = call_tool(c, &out, &why);
		give_slot(s->m);
		if (st != TOOL_OK) {
			json_object_put(out);
			out = NULL;
			*error = kp_xstrdup(st == TOOL_CANCELLED ? "cancelled" : kp_buf_cstr(&why));
		}
		kp_buf_release(&why);
	}
	call_free(c);
	return out;
}

void kp_mcp_session_parse_error(kp_mcp_session *s, const char *why)
{
	send_msg(s, kp_mcp_parse_error(why));
}

const char *kp_mcp_session_version(const kp_mcp_session *s)
{
	return s->version;
}

kp_mcp_session *kp_mcp_session_new_internal(kp_mcp *m, const char *client)
{
	kp_mcp_session *s = kp_mcp_session_new(m, NULL, NULL);
	snprintf(s->client, sizeof(s->client), "%s", client);
	snprintf(s->version, sizeof(s->version), "%s", kp_mcp_versions[0]);
	s->initialized = true;
	return s;
}

kp_mcp_session *kp_mcp_session_new(kp_mcp *m, kp_mcp_send_fn send, void *ctx)
{
	kp_mcp_session *s = kp_xcalloc(1, sizeof(*s));
	s->m = m;
	s->send = send;
	s->ctx = ctx;
	snprintf(s->client, sizeof(s->client), "unnamed client");
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	return s;
}

void kp_mcp_session_cancel_all(kp_mcp_session *s)
{
	pthread_mutex_lock(&s->lock);
	for (mcp_call *c = s->calls; c; c = c->next)
		atomic_store(c->cancel, true);
	pthread_mutex_unlock(&s->lock);
}

void kp_mcp_session_free(kp_mcp_session *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	for (mcp_call *c = s->calls; c; c = c->next)
		atomic_store(c->cancel, true);
	while (s->ncalls > 0)
		pthread_cond_wait(&s->idle, &s->lock);
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->idle);
	free(s);
}

kp_mcp *kp_mcp_new(kp_opts *o, const char *run, bool may_run, const char *self)
{
	kp_mcp *m = kp_xcalloc(1, sizeof(*m));
	m->o = o;
	m->run = kp_xstrdup(run);
	m->may_run = may_run;
	m->self = kp_xstrdup(self);
	m->max_running = o->cfg.safety.max_concurrent_tasks > 0 ? o->cfg.safety.max_concurrent_tasks : 1;
	pthread_rwlock_init(&m->run_lock, NULL);
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->slot, NULL);
	return m;
}

void kp_mcp_free(kp_mcp *m)
{
	if (!m)
		return;
	pthread_rwlock_destroy(&m->run_lock);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->slot);
	free(m->run), free(m->self);
	free(m);
}
