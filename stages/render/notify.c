/*
 * notify.c - Slack incoming webhook and generic JSON webhook messages at the
 * end of a run (notify.h).
 *
 * Owns: the templates' context (the facts, plus Slack-ready mrkdwn pieces
 * already cut to Block Kit's limits, so a template cannot exceed them by
 * substituting a long name), rendering in JSON mode and checking the result,
 * and the POST through the one HTTP layer. The URL is split into a base
 * (scheme://host[:port]) and a path; the path is the secret part and is
 * masked in every message.
 */
#include "stages/render/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/findings_json.h"
#include "pipeline/http.h"
#include "pipeline/money.h"
#include "stages/render/render.h"

#define TOP_FINDINGS 5
#define REASON_MAX 280       /* bytes of a finding's one-line reason */
#define HEADER_MAX 150       /* Block Kit: header plain_text */
#define SECTION_MAX 3000     /* Block Kit: section text */
#define FIELDS_MAX 10        /* Block Kit: fields of a section */
#define LINKED_PRS 10        /* pull requests linked by name; the rest counted */

/* Slack mrkdwn: &, < and > are control characters there (links,
 * mentions); control characters are made visible first. */
static void put_mrkdwn(kp_buf *b, const char *s)
{
	char *v = kp_visible(s);
	for (const char *p = v; *p; p++) {
		if (*p == '&')
			kp_buf_puts(b, "&amp;");
		else if (*p == '<')
			kp_buf_puts(b, "&lt;");
		else if (*p == '>')
			kp_buf_puts(b, "&gt;");
		else
			kp_buf_add(b, p, 1);
	}
	free(v);
}

/* A link <url|text> in mrkdwn; '|' cannot appear in either part. */
static void put_link(kp_buf *b, const char *url, const char *text)
{
	kp_buf u, t;
	kp_buf_init(&u), kp_buf_init(&t);
	put_mrkdwn(&u, url);
	put_mrkdwn(&t, text);
	for (size_t i = 0; i < t.len; i++)
		if (t.data[i] == '|')
			t.data[i] = '/';
	kp_buf_printf(b, "<%s|%s>", kp_buf_cstr(&u), kp_buf_cstr(&t));
	kp_buf_release(&u), kp_buf_release(&t);
}

/* s cut to at most max bytes at a character boundary, "..." marking a cut. */
static json_object *cut_string(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return json_object_new_string(s);
	size_t k = kp_utf8_cut(s, n, max - 3);
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_add(&b, s, k);
	kp_buf_puts(&b, "...");
	json_object *j = json_object_new_string(kp_buf_cstr(&b));
	kp_buf_release(&b);
	return j;
}

static json_object *money_display(double v, const char *cur)
{
	char m[64];
	kp_money_format(v, cur, m, sizeof(m));
	return json_object_new_string(m);
}

static char *url_join(const char *base, const char *run_id, const char *file)
{
	size_t n = strlen(base);
	return kp_xasprintf("%s%s%s/%s", base, n && base[n - 1] == '/' ? "" : "/", run_id, file);
}

/* links.pull_requests from RUN/pr/index.json, when the run made any: an
 * opened pull request's URL, a dry run's body file under the report URL. */
static json_object *pull_requests(const kp_notify_run *info, const char *report_url)
{
	json_object *out = json_object_new_array();
	char *path = kp_path_join(info->run_dir, "pr/index.json");
	json_object *idx = kp_file_exists(path) ? json_object_from_file(path) : NULL;
	json_object *prs = kp_json_get(idx, "pull_requests");
	for (size_t i = 0; json_object_is_type(prs, json_type_array) && i < json_object_array_length(prs); i++) {
		json_object *p = json_object_array_get_idx(prs, i), *e = json_object_new_object();
		const char *url = kp_json_str(p, "url"), *body = kp_json_str(p, "body");
		char *u = url ? kp_xstrdup(url) : body && report_url ? url_join(report_url, info->run_id, body) : NULL;
		json_object_object_add(e, "title", json_object_get(kp_json_get(p, "title")));
		json_object_object_add(e, "group", json_object_get(kp_json_get(p, "group")));
		json_object_object_add(e, "url", u ? json_object_new_string(u) : NULL);
		json_object_object_add(e, "monthly_savings", json_object_get(kp_json_get(p, "monthly_savings")));
		json_object_object_add(e, "dry_run", json_object_get(kp_json_get(idx, "dry_run")));
		json_object_array_add(out, e);
		free(u);
	}
	json_object_put(idx);
	free(path);
	return out;
}

json_object *kp_notify_context(json_object *summary, json_object *by_category, const kp_config *cfg,
			       const kp_notify_run *info)
{
	const char *cur = kp_json_str(summary, "prices.currency") ? kp_json_str(summary, "prices.currency") : "USD";
	const char *cluster = kp_json_str(summary, "cluster.name") ? kp_json_str(summary, "cluster.name") : "";
	json_object *ctx = json_object_new_object(), *slack = json_object_new_object();
	json_object_object_add(ctx, "schema", json_object_new_string("kopilot.notification/v1"));
	json_object_object_add(ctx, "run_id", json_object_new_string(info->run_id ? info->run_id : ""));
	json_object_object_add(ctx, "cluster", json_object_new_string(cluster));
	json_object_object_add(ctx, "exit_code", json_object_new_int(info->exit_code));
	json_object_object_add(ctx, "exit_status", json_object_new_string(info->exit_status));
	json_object_object_add(ctx, "degraded", json_object_new_boolean(info->exit_code == 3));
	json_object_object_add(ctx, "version", json_object_new_string(KP_VERSION));
	json_object_object_add(ctx, "currency", json_object_new_string(cur));
	json_object *missing = kp_json_get(summary, "missing");
	size_t nmissing = json_object_is_type(missing, json_type_array) ? json_object_array_length(missing) : 0;
	json_object_object_add(ctx, "missing_inputs", json_object_new_int64((int64_t)nmissing));

	/* totals: findings.json's own figures, to the cent */
	json_object *totals = json_object_new_object();
	static const char *const tk[] = {"findings", "monthly_cost", "monthly_savings", "actionable_monthly_savings",
					 "blocked_monthly_savings"};
	for (size_t i = 0; i < sizeof(tk) / sizeof(tk[0]); i++) {
		char key[64];
		snprintf(key, sizeof(key), "totals.%s", tk[i]);
		json_object *v = kp_json_get(summary, key);
		json_object_object_add(totals, tk[i], json_object_get(v));
		if (i) {
			snprintf(key, sizeof(key), "%s_display", tk[i]);
			json_object_object_add(totals, key, money_display(json_object_get_double(v), cur));
		}
	}
	int64_t nfind = json_object_get_int64(kp_json_get(summary, "totals.findings"));
	double net = json_object_get_double(kp_json_get(summary, "totals.actionable_monthly_savings"));
	json_object_object_add(ctx, "totals", totals);

	/* per category, most money first */
	json_object *cats = json_object_new_array(), *fields = json_object_new_array();
	json_object_object_foreach(by_category, cat, cv)
	{
		json_object *c = json_object_new_object();
		json_object_object_add(c, "category", json_object_new_string(cat));
		json_object_object_add(c, "findings", json_object_get(kp_json_get(cv, "findings")));
		json_object_object_add(c, "monthly_savings", json_object_get(kp_json_get(cv, "monthly_savings")));
		json_object_object_add(c, "monthly_savings_display",
				       money_display(json_object_get_double(kp_json_get(cv, "monthly_savings")), cur));
		json_object_array_add(cats, c);
	}
	for (size_t i = 1; i < json_object_array_length(cats); i++) /* few: insertion sort */
		for (size_t j = i; j > 0; j--) {
			json_object *a = json_object_array_get_idx(cats, j - 1), *b = json_object_array_get_idx(cats, j);
			if (json_object_get_double(kp_json_get(a, "monthly_savings")) >=
			    json_object_get_double(kp_json_get(b, "monthly_savings")))
				break;
			json_object_get(a), json_object_get(b);
			json_object_array_put_idx(cats, j - 1, b);
			json_object_array_put_idx(cats, j, a);
		}
	for (size_t i = 0; i < json_object_array_length(cats) && i < FIELDS_MAX; i++) {
		json_object *c = json_object_array_get_idx(cats, i), *f = json_object_new_object();
		kp_buf t;
		kp_buf_init(&t);
		if (i == FIELDS_MAX - 1 && json_object_array_length(cats) > FIELDS_MAX) {
			kp_buf_printf(&t, "*%zu more categories*\nsee the report", json_object_array_length(cats) - i);
		} else {
			kp_buf_puts(&t, "*");
			put_mrkdwn(&t, kp_json_str(c, "category"));
			kp_buf_printf(&t, "*\n%lld finding%s, %s/month", (long long)json_object_get_int64(kp_json_get(c, "findings")),
				      json_object_get_int64(kp_json_get(c, "findings")) == 1 ? "" : "s",
				      kp_json_str(c, "monthly_savings_display"));
		}
		json_object_object_add(f, "first", json_object_new_boolean(i == 0));
		json_object_object_add(f, "text_md", json_object_new_string(kp_buf_cstr(&t)));
		json_object_array_add(fields, f);
		kp_buf_release(&t);
	}
	json_object_object_add(ctx, "categories", cats);
	json_object_object_add(slack, "has_fields", json_object_new_boolean(json_object_array_length(fields) > 0));
	json_object_object_add(slack, "fields", fields);

	/* the top findings, as findings.json orders them (most money first) */
	json_object *top = json_object_new_array(), *stop = json_object_new_array();
	json_object *fa = kp_json_get(summary, "findings");
	for (size_t i = 0; json_object_is_type(fa, json_type_array) && i < json_object_array_length(fa) && i < TOP_FINDINGS;
	     i++) {
		json_object *f = json_object_array_get_idx(fa, i), *t = json_object_new_object();
		const char *ns = kp_json_str(f, "resource.namespace");
		const char *kind = kp_json_str(f, "resource.kind"), *name = kp_json_str(f, "resource.name");
		const char *ct = kp_json_str(f, "container");
		const char *reason = kp_json_str(json_object_array_get_idx(kp_json_get(f, "evidence"), 0), "summary");
		double sv = json_object_get_double(kp_json_get(f, "monthly_savings"));
		json_object_object_add(t, "rank", json_object_new_int((int)i + 1));
		json_object_object_add(t, "id", json_object_get(kp_json_get(f, "id")));
		json_object_object_add(t, "category", json_object_get(kp_json_get(f, "category")));
		json_object_object_add(t, "risk", json_object_get(kp_json_get(f, "risk")));
		json_object_object_add(t, "namespace", ns ? json_object_new_string(ns) : NULL);
		json_object_object_add(t, "kind", json_object_new_string(kind ? kind : ""));
		json_object_object_add(t, "name", json_object_new_string(name ? name : ""));
		json_object_object_add(t, "container", ct ? json_object_new_string(ct) : NULL);
		json_object_object_add(t, "monthly_savings", json_object_get(kp_json_get(f, "monthly_savings")));
		json_object_object_add(t, "monthly_savings_display", money_display(sv, cur));
		json_object_object_add(t, "reason", cut_string(reason ? reason : "", REASON_MAX));
		kp_buf md;
		kp_buf_init(&md);
		kp_buf_printf(&md, "*%zu. %s/month*  ", i + 1, kp_json_str(t, "monthly_savings_display"));
		put_mrkdwn(&md, kp_json_str(f, "category") ? kp_json_str(f, "category") : "");
		kp_buf_puts(&md, "\n`");
		put_mrkdwn(&md, ns ? ns : KP_CLUSTER_SCOPED_LABEL);
		kp_buf_puts(&md, "` ");
		put_mrkdwn(&md, kind ? kind : "");
		kp_buf_puts(&md, "/");
		put_mrkdwn(&md, name ? name : "");
		if (ct) {
			kp_buf_puts(&md, " [");
			put_mrkdwn(&md, ct);
			kp_buf_puts(&md, "]");
		}
		if (reason && *reason) {
			kp_buf_puts(&md, "\n");
			put_mrkdwn(&md, kp_json_str(t, "reason"));
		}
		json_object *s = json_object_new_object();
		json_object_object_add(s, "text_md", cut_string(kp_buf_cstr(&md), SECTION_MAX));
		json_object_array_add(stop, s);
		kp_buf_release(&md);
		json_object_array_add(top, t);
	}
	json_object_object_add(ctx, "top_findings", top);
	json_object_object_add(slack, "top", stop);

	/* links: the report under notify.report_url, the pull requests */
	const char *ru = cfg->notify.report_url;
	json_object *links = json_object_new_object();
	char *html = ru ? url_join(ru, info->run_id, "report.html") : NULL;
	char *md = ru ? url_join(ru, info->run_id, "report.md") : NULL;
	char *fj = ru ? url_join(ru, info->run_id, "findings.json") : NULL;
	json_object_object_add(links, "report_html", html ? json_object_new_string(html) : NULL);
	json_object_object_add(links, "report_md", md ? json_object_new_string(md) : NULL);
	json_object_object_add(links, "findings_json", fj ? json_object_new_string(fj) : NULL);
	json_object *prs = pull_requests(info, ru);
	json_object_object_add(links, "pull_requests", prs);
	kp_buf lk;
	kp_buf_init(&lk);
	if (html) {
		put_link(&lk, html, "Report");
		kp_buf_puts(&lk, "  ·  ");
		put_link(&lk, fj, "findings.json");
	}
	size_t nprs = json_object_array_length(prs), linked = 0;
	for (size_t i = 0; i < nprs; i++) {
		json_object *p = json_object_array_get_idx(prs, i);
		const char *u = kp_json_str(p, "url"), *title = kp_json_str(p, "title");
		if (!u || linked == LINKED_PRS)
			continue;
		kp_buf_puts(&lk, lk.len ? "\n" : "");
		put_link(&lk, u, title ? title : u);
		linked++;
	}
	if (nprs)
		kp_buf_printf(&lk, "%s%zu pull request%s%s", lk.len ? "\n" : "", nprs, nprs == 1 ? "" : "s",
			      json_object_get_boolean(kp_json_get(json_object_array_get_idx(prs, 0), "dry_run"))
				      ? " prepared (dry run)"
				      : " opened");
	json_object_object_add(slack, "links_md", lk.len ? cut_string(kp_buf_cstr(&lk), SECTION_MAX) : NULL);
	kp_buf_release(&lk);
	free(html), free(md), free(fj);
	json_object_object_add(ctx, "links", links);

	/* the rest of the Slack pieces */
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_puts(&b, "kopilot: ");
	char *vc = kp_visible(cluster);
	kp_buf_puts(&b, vc);
	json_object_object_add(slack, "header", cut_string(kp_buf_cstr(&b), HEADER_MAX));
	kp_buf_release(&b);
	kp_buf_init(&b);
	char nm[64];
	kp_money_format(net, cur, nm, sizeof(nm));
	kp_buf_printf(&b, "*%s/month* potential savings in *%lld finding%s*", nm, (long long)nfind, nfind == 1 ? "" : "s");
	double blocked = json_object_get_double(kp_json_get(summary, "totals.blocked_monthly_savings"));
	if (blocked != 0) {
		char bm[64];
		kp_money_format(blocked, cur, bm, sizeof(bm));
		kp_buf_printf(&b, " (not counted: %s/month blocked in protected namespaces)", bm);
	}
	if (nmissing)
		kp_buf_printf(&b, "\n:warning: Degraded: %zu input%s not collected (see the report)", nmissing,
			      nmissing == 1 ? "" : "s");
	json_object_object_add(slack, "summary_md", json_object_new_string(kp_buf_cstr(&b)));
	kp_buf_release(&b);
	kp_buf_init(&b);
	kp_buf_printf(&b, "kopilot %s · cluster %s · run ", KP_VERSION, vc);
	put_mrkdwn(&b, info->run_id ? info->run_id : "");
	kp_buf_printf(&b, " · exit %d (%s)", info->exit_code, info->exit_status);
	json_object_object_add(slack, "context_md", cut_string(kp_buf_cstr(&b), SECTION_MAX));
	kp_buf_release(&b);
	kp_buf_init(&b);
	kp_buf_printf(&b, "kopilot: %lld finding%s in cluster %s, %s/month potential savings", (long long)nfind,
		      nfind == 1 ? "" : "s", vc, nm);
	json_object_object_add(slack, "text", cut_string(kp_buf_cstr(&b), SECTION_MAX));
	kp_buf_release(&b);
	free(vc);
	json_object_object_add(ctx, "slack", slack);
	return ctx;
}

/* Line and column (1-based) of byte off in s. */
static void position(const char *s, size_t off, int *line, int *col)
{
	*line = 1, *col = 1;
	for (size_t i = 0; i < off && s[i]; i++) {
		if (s[i] == '\n')
			(*line)++, *col = 1;
		else
			(*col)++;
	}
}

kp_status kp_notify_render(const char *path, const char *builtin, const char *builtin_name, json_object *ctx,
			   char **out, kp_error *err)
{
	*out = NULL;
	char *text = NULL;
	const char *name = path ? path : builtin_name;
	if (path) {
		size_t len;
		kp_status s = kp_read_file(path, &text, &len, err);
		if (s)
			return s;
	}
	char *doc = NULL;
	kp_status s = kp_mustache_render_json(path ? text : builtin, name, ctx, &doc, err);
	free(text);
	if (s)
		return s;
	json_tokener *tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	size_t len = strlen(doc);
	json_object *j = json_tokener_parse_ex(tok, doc, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	if (!j || je != json_tokener_success || !json_object_is_type(j, json_type_object)) {
		int line, col;
		position(doc, end, &line, &col);
		s = kp_fail(err, KP_ERR_INPUT,
			    "%s: the rendered message is not a JSON object: line %d, column %d of the rendered text: %s "
			    "(a value outside quotes, a missing comma, or {{{name}}} where {{name}} belongs)",
			    name, line, col, j && je == json_tokener_success ? "not an object" : json_tokener_error_desc(je));
	} else {
		/* only whitespace may follow the document */
		for (size_t i = end; i < len && !s; i++)
			if (doc[i] != ' ' && doc[i] != '\n' && doc[i] != '\t' && doc[i] != '\r') {
				int line, col;
				position(doc, i, &line, &col);
				s = kp_fail(err, KP_ERR_INPUT,
					    "%s: the rendered message is not a JSON object: line %d, column %d of the rendered "
					    "text: text after the end of the document",
					    name, line, col);
			}
	}
	json_object_put(j);
	json_tokener_free(tok);
	if (s)
		free(doc);
	else
		*out = doc;
	return s;
}

/* The URL's secret part, replaced in a message by a slash and four stars. */
static void mask_in(kp_error *err, const char *secret)
{
	if (!secret || !*secret || strlen(secret) < 2)
		return;
	kp_buf b;
	kp_buf_init(&b);
	const char *p = err->msg, *q;
	size_t n = strlen(secret);
	while ((q = strstr(p, secret))) {
		kp_buf_add(&b, p, (size_t)(q - p));
		kp_buf_puts(&b, "/****");
		p = q + n;
	}
	kp_buf_puts(&b, p);
	snprintf(err->msg, sizeof(err->msg), "%s", kp_buf_cstr(&b));
	kp_buf_release(&b);
}

static kp_status send_one(const kp_config *cfg, bool slack, const char *url, const char *body, kp_http_result *res,
			  kp_error *err)
{
	/* base: scheme://host[:port]; path: the rest, the secret */
	const char *hs = strstr(url, "://");
	const char *slash = hs ? strchr(hs + 3, '/') : NULL;
	const char *q = hs ? strchr(hs + 3, '?') : NULL;
	if (q && (!slash || q < slash))
		slash = q;
	char *base = slash ? kp_xasprintf("%.*s", (int)(slash - url), url) : kp_xstrdup(url);
	char *path = slash ? (*slash == '?' ? kp_xasprintf("/%s", slash) : kp_xstrdup(slash)) : kp_xstrdup("/");
	const char *what = slack ? "the Slack webhook" : "the notification webhook";
	kp_http_opts o = {0};
	o.what = what;
	o.base_url = base;
	o.timeout_ms = (long)cfg->notify.timeout_seconds * 1000L;
	o.connect_timeout_ms = o.timeout_ms;
	o.max_attempts = cfg->notify.max_attempts;
	o.max_backoff_ms = 30000;
	kp_http_client *c = NULL;
	kp_buf out;
	kp_buf_init(&out);
	kp_status s = kp_http_new(&o, &c, err);
	if (!s)
		s = kp_http_send(c, "POST", path, "application/json; charset=utf-8", body, strlen(body), &out, 65536, res,
				 err);
	if (!s) {
		const char *ans = res->status / 100 == 2 ? kp_buf_cstr(&out) : res->body ? res->body : "";
		/* Slack answers "ok" (text/plain); anything else is its error code */
		bool ok = res->status / 100 == 2 && (!slack || strncmp(ans, "ok", 2) == 0);
		if (!ok) {
			char *v = kp_visible(ans);
			size_t cut = kp_utf8_cut(v, strlen(v), 200);
			s = kp_fail(err, KP_ERR_NETWORK, "%s (%s): %s%s%.*s%s", what, kp_http_server(c),
				    kp_http_reason(res->status), *v ? ": " : "", (int)cut, v,
				    res->attempts > 1 ? " (after retries)" : "");
			free(v);
		}
	}
	if (s)
		mask_in(err, path);
	kp_http_free(c);
	kp_buf_release(&out);
	free(base), free(path);
	return s;
}

int kp_notify_all(const kp_config *cfg, json_object *ctx, json_object *outcomes)
{
	static const struct {
		const char *target, *builtin_name;
		bool slack;
	} targets[] = {{"slack", "templates/notify-slack.json.mustache (built in)", true},
		       {"webhook", "templates/notify-webhook.json.mustache (built in)", false}};
	int failed = 0;
	for (size_t i = 0; i < 2; i++) {
		const char *url = targets[i].slack ? cfg->notify.slack_webhook_url : cfg->notify.webhook_url;
		if (!url || !*url)
			continue;
		const char *path = targets[i].slack ? cfg->notify.slack_template : cfg->notify.webhook_template;
		const char *builtin = targets[i].slack ? kp_template_notify_slack() : kp_template_notify_webhook();
		kp_error err = {0};
		kp_http_result res = {0};
		char *body = NULL;
		kp_status s = kp_notify_render(path, builtin, targets[i].builtin_name, ctx, &body, &err);
		if (!s)
			s = send_one(cfg, targets[i].slack, url, body, &res, &err);
		json_object *o = json_object_new_object();
		json_object_object_add(o, "target", json_object_new_string(targets[i].target));
		json_object_object_add(o, "sent", json_object_new_boolean(!s));
		json_object_object_add(o, "attempts", json_object_new_int(res.attempts));
		json_object_object_add(o, "status", res.status ? json_object_new_int((int)res.status) : NULL);
		json_object_object_add(o, "error", s ? json_object_new_string(err.msg) : NULL);
		json_object_array_add(outcomes, o);
		failed += s != KP_OK;
		kp_http_result_release(&res);
		free(body);
	}
	return failed;
}
