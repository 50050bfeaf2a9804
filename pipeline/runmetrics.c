/*
 * runmetrics.c - a run's metrics as Prometheus text, and where they go
 * (runmetrics.h). Owns the metric names, their HELP texts and the label
 * escaping; the HTTP goes through the one client (http.h), not read_only,
 * POST only.
 */
#include "pipeline/runmetrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/fault.h"
#include "pipeline/findings_json.h"

#define OTHER_NAMESPACES "(other)"

void kp_runmetrics_escape_label(kp_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			kp_buf_puts(b, "\\\\");
		else if (*s == '"')
			kp_buf_puts(b, "\\\"");
		else if (*s == '\n')
			kp_buf_puts(b, "\\n");
		else
			kp_buf_add(b, s, 1);
	}
}

/* The shortest decimal that reads back as v, so sums of money agree with
 * findings.json to the last digit Prometheus keeps. */
static void put_number(kp_buf *b, double v)
{
	if (isnan(v)) {
		kp_buf_puts(b, "NaN");
		return;
	}
	char s[64];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, v);
		if (strtod(s, NULL) == v)
			break;
	}
	kp_buf_puts(b, s);
}

static void family(kp_buf *b, const char *name, const char *type, const char *help)
{
	/* HELP text escapes only backslash and line feed (the format's rule) */
	kp_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample: name{cluster?,k1=v1,k2=v2} value. */
static void sample(kp_buf *b, const char *name, const char *cluster, const char *k1, const char *v1, const char *k2,
		   const char *v2, double value)
{
	kp_buf_puts(b, name);
	const char *keys[3] = {cluster ? "cluster" : NULL, k1, k2}, *vals[3] = {cluster, v1, v2};
	bool any = false;
	for (int i = 0; i < 3; i++) {
		if (!keys[i])
			continue;
		kp_buf_puts(b, any ? "," : "{");
		any = true;
		kp_buf_printf(b, "%s=\"", keys[i]);
		kp_runmetrics_escape_label(b, vals[i] ? vals[i] : "");
		kp_buf_puts(b, "\"");
	}
	kp_buf_puts(b, any ? "} " : " ");
	put_number(b, value);
	kp_buf_puts(b, "\n");
}

typedef struct {
	const char *category, *ns;
	double v;
} pair;

static int by_money_desc(const void *a, const void *b)
{
	const pair *x = a, *y = b;
	double ax = fabs(x->v), ay = fabs(y->v);
	if (ax != ay)
		return ax < ay ? 1 : -1;
	int c = strcmp(x->category, y->category);
	return c ? c : strcmp(x->ns, y->ns);
}

static int by_labels(const void *a, const void *b)
{
	const pair *x = a, *y = b;
	int c = strcmp(x->category, y->category);
	return c ? c : strcmp(x->ns, y->ns);
}

/* kopilot_monthly_savings: every {category, namespace} pair up to max, the
 * rest folded per category into namespace="(other)". */
static void savings_samples(kp_buf *b, json_object *savings, int max, const char *cl)
{
	size_t n = 0, cap = 0;
	pair *v = NULL;
	json_object_object_foreach(savings, cat, nss)
	{
		json_object_object_foreach(nss, ns, val)
		{
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				v = kp_xrealloc(v, cap * sizeof(*v));
			}
			v[n++] = (pair){cat, ns, json_object_get_double(val)};
		}
	}
	size_t keep = n;
	if (max > 0 && n > (size_t)max) {
		qsort(v, n, sizeof(*v), by_money_desc);
		/* the most pairs that, with one "(other)" line for each category
		 * that loses any, fit in max; at the least one line per category */
		json_object *tail = json_object_new_object(); /* the categories of v[keep..n) */
		for (size_t i = (size_t)max; i < n; i++)
			json_object_object_add(tail, v[i].category, NULL);
		for (keep = (size_t)max; keep > 0 && keep + (size_t)json_object_object_length(tail) > (size_t)max; keep--)
			json_object_object_add(tail, v[keep - 1].category, NULL);
		json_object_put(tail);
		/* per category: [sum, count, index of its one pair] */
		json_object *other = json_object_new_object();
		for (size_t i = keep; i < n; i++) {
			json_object *o = json_object_object_get(other, v[i].category);
			if (!o) {
				o = json_object_new_array();
				json_object_array_add(o, json_object_new_double(0));
				json_object_array_add(o, json_object_new_int(0));
				json_object_array_add(o, json_object_new_int64((int64_t)i));
				json_object_object_add(other, v[i].category, o);
			}
			json_object_array_put_idx(o, 0, json_object_new_double(json_object_get_double(json_object_array_get_idx(o, 0)) + v[i].v));
			json_object_array_put_idx(o, 1, json_object_new_int(json_object_get_int(json_object_array_get_idx(o, 1)) + 1));
		}
		/* a category that lost one pair keeps its name: the same one line */
		json_object_object_foreach(other, ocat, o)
		{
			if (json_object_get_int(json_object_array_get_idx(o, 1)) == 1)
				sample(b, "kopilot_monthly_savings", cl, "category", ocat, "namespace",
				       v[json_object_get_int64(json_object_array_get_idx(o, 2))].ns,
				       json_object_get_double(json_object_array_get_idx(o, 0)));
		}
		qsort(v, keep, sizeof(*v), by_labels);
		for (size_t i = 0; i < keep; i++)
			sample(b, "kopilot_monthly_savings", cl, "category", v[i].category, "namespace", v[i].ns, v[i].v);
		/* no namespace can be called "(other)": a DNS label has no parentheses */
		json_object_object_foreach(other, ocat2, o2)
		{
			if (json_object_get_int(json_object_array_get_idx(o2, 1)) > 1)
				sample(b, "kopilot_monthly_savings", cl, "category", ocat2, "namespace", OTHER_NAMESPACES,
				       json_object_get_double(json_object_array_get_idx(o2, 0)));
		}
		json_object_put(other);
	} else {
		qsort(v, n, sizeof(*v), by_labels);
		for (size_t i = 0; i < n; i++)
			sample(b, "kopilot_monthly_savings", cl, "category", v[i].category, "namespace", v[i].ns, v[i].v);
	}
	free(v);
}

char *kp_runmetrics_text(json_object *facts, int max_savings_series, bool cluster_label)
{
	kp_buf b;
	kp_buf_init(&b);
	const char *cl = cluster_label ? (kp_json_str(facts, "cluster") ? kp_json_str(facts, "cluster") : "") : NULL;
	bool completed = json_object_get_boolean(kp_json_get(facts, "completed"));
	int exit_code = json_object_get_int(kp_json_get(facts, "exit_code"));
	double finished = json_object_get_double(kp_json_get(facts, "finished"));

	family(&b, "kopilot_run_exit_code", "gauge",
	       "Exit code of the last kopilot run: 0 ok, 2 usage or bad input, 3 degraded (an input was not collected), "
	       "4 failed.");
	sample(&b, "kopilot_run_exit_code", cl, NULL, NULL, NULL, NULL, exit_code);
	family(&b, "kopilot_run_degraded", "gauge", "1 when the last run was degraded (exit code 3), else 0.");
	sample(&b, "kopilot_run_degraded", cl, NULL, NULL, NULL, NULL, exit_code == 3);
	family(&b, "kopilot_last_run_timestamp_seconds", "gauge", "When the last kopilot run ended, in Unix seconds.");
	sample(&b, "kopilot_last_run_timestamp_seconds", cl, NULL, NULL, NULL, NULL, finished);
	family(&b, "kopilot_run_duration_seconds", "gauge", "Wall-clock time of the last kopilot run.");
	sample(&b, "kopilot_run_duration_seconds", cl, NULL, NULL, NULL, NULL,
	       json_object_get_double(kp_json_get(facts, "run_seconds")));
	json_object *stages = kp_json_get(facts, "stage_seconds");
	if (json_object_is_type(stages, json_type_object) && json_object_object_length(stages)) {
		family(&b, "kopilot_stage_duration_seconds", "gauge", "Time each stage of the last run took.");
		json_object_object_foreach(stages, st, secs)
		{
			sample(&b, "kopilot_stage_duration_seconds", cl, "stage", st, NULL, NULL, json_object_get_double(secs));
		}
	}
	if (!completed) /* the last good run's figures stay where they are (runmetrics.h) */
		return kp_buf_detach(&b);

	family(&b, "kopilot_last_success_timestamp_seconds", "gauge",
	       "When the last kopilot run that produced its reports (exit code 0 or 3) ended, in Unix seconds.");
	sample(&b, "kopilot_last_success_timestamp_seconds", cl, NULL, NULL, NULL, NULL, finished);
	family(&b, "kopilot_missing_inputs", "gauge", "Inputs the last run could not collect (findings.json missing).");
	sample(&b, "kopilot_missing_inputs", cl, NULL, NULL, NULL, NULL,
	       json_object_get_double(kp_json_get(facts, "missing_inputs")));
	json_object *findings = kp_json_get(facts, "findings");
	family(&b, "kopilot_findings", "gauge", "Findings of the last run, per category.");
	json_object_object_foreach(findings, cat, count)
	{
		sample(&b, "kopilot_findings", cl, "category", cat, NULL, NULL, json_object_get_double(count));
	}
	family(&b, "kopilot_monthly_savings", "gauge",
	       "Monthly savings of the last run's findings in the prices' currency, per category and namespace "
	       "(blocked ones included, as findings.json totals.monthly_savings; namespace (cluster) for cluster-scoped "
	       "objects, (other) for what metrics.max_savings_series leaves out).");
	savings_samples(&b, kp_json_get(facts, "savings"), max_savings_series, cl);
	family(&b, "kopilot_actionable_monthly_savings", "gauge",
	       "Monthly savings the plan can act on (findings.json totals.actionable_monthly_savings).");
	sample(&b, "kopilot_actionable_monthly_savings", cl, NULL, NULL, NULL, NULL,
	       json_object_get_double(kp_json_get(facts, "actionable_monthly_savings")));
	json_object *tokens = kp_json_get(facts, "llm_tokens");
	if (json_object_is_type(tokens, json_type_object) && json_object_object_length(tokens)) {
		family(&b, "kopilot_llm_tokens_total", "counter",
		       "LLM tokens the last run used, per provider and direction (in: prompt, out: answer); starts "
		       "from zero each run.");
		json_object_object_foreach(tokens, prov, io)
		{
			sample(&b, "kopilot_llm_tokens_total", cl, "provider", prov, "direction", "in",
			       json_object_get_double(kp_json_get(io, "in")));
			sample(&b, "kopilot_llm_tokens_total", cl, "provider", prov, "direction", "out",
			       json_object_get_double(kp_json_get(io, "out")));
		}
	}
	return kp_buf_detach(&b);
}

kp_status kp_runmetrics_push(const kp_config *cfg, const char *cluster, const char *text, kp_http_result *res,
			     kp_error *err)
{
	memset(res, 0, sizeof(*res));
	kp_http_opts o = {0};
	o.what = "the Pushgateway";
	o.base_url = cfg->run_metrics.pushgateway_url;
	o.token = cfg->run_metrics.pushgateway_token;
	o.username = cfg->run_metrics.pushgateway_username;
	o.password = cfg->run_metrics.pushgateway_password;
	o.timeout_ms = (long)cfg->run_metrics.timeout_seconds * 1000L;
	o.connect_timeout_ms = o.timeout_ms;
	o.max_attempts = 3;
	o.max_backoff_ms = 5000;
	/* the grouping key's value in base64url (the Pushgateway's
	 * "label@base64" form): a cluster name with a slash stays one segment */
	kp_buf path, b64;
	kp_buf_init(&path);
	kp_buf_init(&b64);
	const char *name = cluster && *cluster ? cluster : "unknown";
	kp_base64_append(&b64, name, strlen(name), 0);
	for (size_t i = 0; i < b64.len; i++)
		b64.data[i] = b64.data[i] == '+' ? '-' : b64.data[i] == '/' ? '_' : b64.data[i];
	kp_buf_printf(&path, "/metrics/job/kopilot/cluster@base64/%s", kp_buf_cstr(&b64));
	kp_http_client *c = NULL;
	kp_buf out;
	kp_buf_init(&out);
	kp_status s = kp_http_new(&o, &c, err);
	if (!s)
		s = kp_http_send(c, "POST", kp_buf_cstr(&path), "text/plain; version=0.0.4; charset=utf-8", text,
				 strlen(text), &out, 65536, res, err);
	if (!s && res->status / 100 != 2) {
		const char *body = res->body ? res->body : kp_buf_cstr(&out);
		char *v = kp_visible(body);
		size_t cut = kp_utf8_cut(v, strlen(v), 300);
		s = kp_fail(err, KP_ERR_NETWORK, "%s%s: %s%s%.*s", kp_http_server(c), kp_buf_cstr(&path),
			    kp_http_reason(res->status), *v ? ": " : "", (int)cut, v);
		free(v);
	}
	kp_http_free(c);
	kp_buf_release(&out);
	kp_buf_release(&path);
	kp_buf_release(&b64);
	return s;
}

/* The name a "# HELP name ..." or "# TYPE name ..." line is about, into
 * name; false for any other line. */
static bool family_line(const char *line, size_t n, char *name, size_t cap)
{
	if (n < 8 || (strncmp(line, "# HELP ", 7) && strncmp(line, "# TYPE ", 7)))
		return false;
	size_t k = 0;
	for (size_t i = 7; i < n && line[i] != ' ' && k + 1 < cap; i++)
		name[k++] = line[i];
	name[k] = '\0';
	return true;
}

/* text, then the families of old that text has no "# TYPE" line for. */
static void carry_over(kp_buf *out, const char *text, const char *old)
{
	kp_buf_puts(out, text);
	char fam[256] = "", want[300];
	bool keep = false;
	for (const char *p = old; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (family_line(p, n, fam, sizeof(fam))) {
			snprintf(want, sizeof(want), "# TYPE %s ", fam);
			keep = !strstr(text, want);
		}
		if (keep && n) {
			kp_buf_add(out, p, n);
			kp_buf_puts(out, "\n");
		}
		p += n + (e ? 1 : 0);
	}
}

kp_status kp_runmetrics_write_textfile(const char *dir, const char *text, bool keep_old, kp_error *err)
{
	char *path = kp_path_join(dir, "kopilot.prom");
	char *tmp = kp_temp_path_for(path);
	kp_status s = KP_OK;
	kp_buf merged;
	kp_buf_init(&merged);
	char *old = NULL;
	size_t oldlen;
	/* an old file that cannot be read is no reason to write nothing */
	if (keep_old && kp_file_exists(path) && !kp_read_file(path, &old, &oldlen, NULL)) {
		carry_over(&merged, text, old);
		text = kp_buf_cstr(&merged);
	}
	free(old);
	int fd = KP_FAULT_IO(open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
	if (fd < 0) {
		s = kp_fail(err, KP_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
		kp_temp_discard(tmp);
	} else {
		/* the umask (output.file_mode) must not make it unreadable to the exporter */
		size_t n = strlen(text), off = 0;
		bool ok = fchmod(fd, 0644) == 0;
		while (ok && off < n) {
			ssize_t w = write(fd, text + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			ok = w > 0;
			off += ok ? (size_t)w : 0;
		}
		ok = ok && fsync(fd) == 0;
		int e = errno;
		ok = close(fd) == 0 && ok;
		if (!ok) {
			s = kp_fail(err, KP_ERR_IO, "%s: cannot write: %s", tmp, strerror(e ? e : errno));
			kp_temp_discard(tmp);
		} else {
			s = kp_commit_temp(tmp, path, err);
		}
	}
	free(tmp);
	free(path);
	kp_buf_release(&merged);
	return s;
}
