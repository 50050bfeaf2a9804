/*
 * http.c - see http.h. One request = up to max_attempts libcurl transfers
 * on a handle taken from the client's pool; between attempts the wait is
 * the server's Retry-After when it sent one, else an exponential backoff
 * with jitter, each capped. The rate limiter is a token bucket shared by
 * every thread using the client.
 */
#include "pipeline/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/urlmask.h"

#define POOL_MAX 8

struct kp_http_client {
	char *what, *base, *shown; /* shown: base with credentials masked */
	bool read_only, aitask_status_writes, gzip, insecure;
	const atomic_bool *abort;
	char *ca_file, *ca_pem, *cert_file, *key_file, *cert_pem, *key_pem, *proxy;
	char *token, *username, *password;
	char *connect_to; /* tls-server-name: "name:port:host:port" */
	kp_http_auth_fn auth;
	void *auth_ud;
	struct curl_slist *headers;
	long connect_ms, timeout_ms, stall_ms, backoff_ms, max_backoff_ms;
	bool (*retryable)(long status, const char *body);
	bool final_timeouts;
	int max_attempts;
	pthread_mutex_t lock; /* pool, limiter, stats */
	CURL *pool[POOL_MAX];
	int npool;
	double qps, tokens, burst, last_refill;
	kp_http_stats stats;
	unsigned rnd;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static char *dup_or_null(const char *s) { return s ? kp_xstrdup(s) : NULL; }

void kp_http_auth_release(kp_http_auth *a)
{
	if (!a)
		return;
	/* credentials: wiped, not only freed */
	char *ps[] = {a->token, a->cert_pem, a->key_pem};
	for (size_t i = 0; i < 3; i++) {
		if (ps[i])
			memset(ps[i], 0, strlen(ps[i]));
		free(ps[i]);
	}
	memset(a, 0, sizeof(*a));
}

void kp_http_result_release(kp_http_result *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->retry_note);
	memset(r, 0, sizeof(*r));
}

const char *kp_http_reason(long status)
{
	switch (status) {
	case 200: return "200 OK";
	case 301: return "301 Moved Permanently";
	case 302: return "302 Found";
	case 400: return "400 Bad Request";
	case 401: return "401 Unauthorized";
	case 403: return "403 Forbidden";
	case 404: return "404 Not Found";
	case 405: return "405 Method Not Allowed";
	case 406: return "406 Not Acceptable";
	case 410: return "410 Gone";
	case 422: return "422 Unprocessable Entity";
	case 429: return "429 Too Many Requests";
	case 500: return "500 Internal Server Error";
	case 502: return "502 Bad Gateway";
	case 503: return "503 Service Unavailable";
	case 504: return "504 Gateway Timeout";
	default: break;
	}
	static _Thread_local char buf[32];
	snprintf(buf, sizeof(buf), "HTTP %ld", status);
	return buf;
}

static bool file_readable(const char *p)
{
	FILE *f = fopen(p, "rb");
	if (!f)
		return false;
	fclose(f);
	return true;
}

/* "host:port" of an http(s) URL, and whether it is https. */
static bool split_url(const char *url, bool *https, char **host, long *port)
{
	CURLU *u = curl_url();
	char *h = NULL, *scheme = NULL, *p = NULL;
	bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK;
	if (ok) {
		*https = strcmp(scheme, "https") == 0;
		ok = *https || strcmp(scheme, "http") == 0;
		*host = kp_xstrdup(h);
		*port = strtol(p, NULL, 10);
	}
	curl_free(h);
	curl_free(scheme);
	curl_free(p);
	curl_url_cleanup(u);
	return ok;
}

kp_status kp_http_new(const kp_http_opts *o, kp_http_client **out, kp_error *err)
{
	*out = NULL;
	pthread_once(&curl_once, curl_init_once);
	const char *what = o->what ? o->what : "the server";
	if (!o->base_url || !*o->base_url)
		return kp_fail(err, KP_ERR_USAGE, "%s: no URL given", what);
	bool https = false;
	char *host = NULL;
	long port = 0;
	if (!split_url(o->base_url, &https, &host, &port)) {
		free(host);
		char *shown = kp_mask_url_credentials(o->base_url);
		kp_fail(err, KP_ERR_USAGE, "%s: \"%s\" is not an http:// or https:// URL", what, shown);
		free(shown);
		return KP_ERR_USAGE;
	}
	const char *files[] = {o->ca_file, o->cert_file, o->key_file};
	const char *names[] = {"certificate authority", "client certificate", "client key"};
	for (size_t i = 0; i < 3; i++)
		if (files[i] && !file_readable(files[i])) {
			free(host);
			return kp_fail(err, KP_ERR_USAGE, "%s: cannot read the %s file %s", what, names[i], files[i]);
		}
	if ((o->key_file || o->key_pem) && !(o->cert_file || o->cert_pem)) {
		free(host);
		return kp_fail(err, KP_ERR_USAGE, "%s: a client key without a client certificate", what);
	}
	if ((o->cert_file || o->cert_pem) && !(o->key_file || o->key_pem)) {
		free(host);
		return kp_fail(err, KP_ERR_USAGE, "%s: a client certificate without its key", what);
	}
	kp_http_client *c = kp_xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->what = kp_xstrdup(what);
	c->base = kp_xstrdup(o->base_url);
	size_t bl = strlen(c->base);
	while (bl > 0 && c->base[bl - 1] == '/') /* paths bring their own slash */
		c->base[--bl] = '\0';
	c->shown = kp_mask_url_credentials(c->base);
	c->read_only = o->read_only;
	c->aitask_status_writes = o->aitask_status_writes;
	c->abort = o->abort;
	c->gzip = o->gzip;
	c->insecure = o->insecure;
	c->ca_file = dup_or_null(o->ca_file);
	c->ca_pem = dup_or_null(o->ca_pem);
	c->cert_file = dup_or_null(o->cert_file);
	c->key_file = dup_or_null(o->key_file);
	c->cert_pem = dup_or_null(o->cert_pem);
	c->key_pem = dup_or_null(o->key_pem);
	c->proxy = dup_or_null(o->proxy);
	c->token = dup_or_null(o->token);
	c->username = dup_or_null(o->username);
	c->password = dup_or_null(o->password);
	if (o->tls_server_name && *o->tls_server_name && https) {
		/* the certificate is checked against tls-server-name: the URL
		 * names it, and the connection still goes to the real host */
		c->connect_to = kp_xasprintf("%s:%ld:%s:%ld", o->tls_server_name, port, host, port);
		CURLU *u = curl_url();
		char *nu = NULL;
		if (u && curl_url_set(u, CURLUPART_URL, c->base, 0) == CURLUE_OK &&
		    curl_url_set(u, CURLUPART_HOST, o->tls_server_name, 0) == CURLUE_OK &&
		    curl_url_get(u, CURLUPART_URL, &nu, 0) == CURLUE_OK) {
			free(c->base);
			c->base = kp_xstrdup(nu);
			bl = strlen(c->base);
			while (bl > 0 && c->base[bl - 1] == '/')
				c->base[--bl] = '\0';
		}
		curl_free(nu);
		curl_url_cleanup(u);
	}
	free(host);
	c->auth = o->auth;
	c->auth_ud = o->auth_ud;
	for (const char *const *h = o->headers; h && *h; h++)
		c->headers = curl_slist_append(c->headers, *h);
	c->qps = o->qps > 0 ? o->qps : KP_HTTP_DEFAULT_QPS;
	c->burst = o->burst > 0 ? o->burst : KP_HTTP_DEFAULT_BURST;
	c->tokens = c->burst;
	c->last_refill = kp_monotonic_seconds();
	c->connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : KP_HTTP_DEFAULT_CONNECT_MS;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : KP_HTTP_DEFAULT_TIMEOUT_MS;
	c->stall_ms = o->stall_timeout_ms > 0 ? o->stall_timeout_ms : KP_HTTP_DEFAULT_STALL_MS;
	c->max_attempts = o->max_attempts > 0 ? o->max_attempts : KP_HTTP_DEFAULT_ATTEMPTS;
	c->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : KP_HTTP_DEFAULT_BACKOFF_MS;
	c->max_backoff_ms = o->max_backoff_ms > 0 ? o->max_backoff_ms : KP_HTTP_DEFAULT_MAX_BACKOFF_MS;
	c->retryable = o->retryable;
	c->final_timeouts = o->final_timeouts;
	c->rnd = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)c;
	*out = c;
	return KP_OK;
}

static void wipe_free(char *s)
{
	if (s)
		memset(s, 0, strlen(s));
	free(s);
}

void kp_http_free(kp_http_client *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	curl_slist_free_all(c->headers);
	free(c->what);
	free(c->base);
	free(c->shown);
	free(c->ca_file);
	free(c->ca_pem);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_pem);
	wipe_free(c->key_pem);
	free(c->proxy);
	wipe_free(c->token);
	free(c->username);
	wipe_free(c->password);
	free(c->connect_to);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const char *kp_http_server(const kp_http_client *c) { return c->shown; }

kp_http_stats kp_http_get_stats(kp_http_client *c)
{
	pthread_mutex_lock(&c->lock);
	kp_http_stats s = c->stats;
	pthread_mutex_unlock(&c->lock);
	return s;
}

static void sleep_seconds(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* The token bucket: waits until a request may go. */
static void rate_wait(kp_http_client *c)
{
	for (;;) {
		pthread_mutex_lock(&c->lock);
		double now = kp_monotonic_seconds();
		c->tokens += (now - c->last_refill) * c->qps;
		if (c->tokens > c->burst)
			c->tokens = c->burst;
		c->last_refill = now;
		double wait = 0;
		if (c->tokens >= 1)
			c->tokens -= 1;
		else
			wait = (1 - c->tokens) / c->qps;
		if (wait > 0)
			c->stats.waited_seconds += wait;
		pthread_mutex_unlock(&c->lock);
		if (wait <= 0)
			return;
		sleep_seconds(wait);
	}
}

static CURL *take_handle(kp_http_client *c)
{
	pthread_mutex_lock(&c->lock);
	CURL *h = c->npool ? c->pool[--c->npool] : NULL;
	pthread_mutex_unlock(&c->lock);
	if (!h)
		h = curl_easy_init();
	if (!h)
		kp_xmalloc((size_t)-1 / 2); /* out of memory: the guard's way */
	return h;
}

static void give_handle(kp_http_client *c, CURL *h)
{
	pthread_mutex_lock(&c->lock);
	if (c->npool < POOL_MAX) {
		c->pool[c->npool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_cleanup(h);
}

/* one path segment [s, e): lower-case letters, digits, '-' (and '.' when
 * dots), starting and ending with a letter or digit, at most max long */
static bool dns_segment(const char *s, const char *e, size_t max, bool dots)
{
	if (e <= s || (size_t)(e - s) > max || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)e[-1]))
		return false;
	for (const char *p = s; p < e; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || (dots && *p == '.')))
			return false;
	return true;
}

bool kp_http_aitask_status_path(const char *path)
{
	static const char pre[] = "/apis/kubedevaiops.io/v1alpha1/namespaces/";
	if (!path || strncmp(path, pre, sizeof(pre) - 1))
		return false;
	const char *ns = path + sizeof(pre) - 1, *ns_end = strchr(ns, '/');
	if (!ns_end || !dns_segment(ns, ns_end, 63, false) || strncmp(ns_end, "/aitasks/", 9))
		return false;
	const char *name = ns_end + 9, *name_end = strchr(name, '/');
	return name_end && dns_segment(name, name_end, 253, true) && !strcmp(name_end, "/status");
}

/* The read-only rule, checked before any request of a read-only client:
 * no `secrets` segment anywhere in the path (core, any group, any
 * namespace, watch URLs). Segments are compared after %-decoding, so
 * /api/v1/%73ecrets is the same refusal. */
static bool names_secrets(const char *path)
{
	const char *end = path + strcspn(path, "?#");
	const char *p = path;
	while (p < end) {
		while (p < end && *p == '/')
			p++;
		const char *s = p;
		while (p < end && *p != '/')
			p++;
		char seg[16];
		size_t n = 0;
		bool too_long = false;
		for (const char *q = s; q < p; q++) {
			int ch = (unsigned char)*q;
			if (ch == '%' && p - q >= 3 && isxdigit((unsigned char)q[1]) && isxdigit((unsigned char)q[2])) {
				char hex[3] = {q[1], q[2], 0};
				ch = (int)strtol(hex, NULL, 16);
				q += 2;
			}
			if (n + 1 >= sizeof(seg)) {
				too_long = true;
				break;
			}
			seg[n++] = (char)tolower(ch);
		}
		seg[n] = '\0';
		if (!too_long && strcmp(seg, "secrets") == 0)
			return true;
	}
	return false;
}

typedef struct {
	kp_http_client *c;
	CURL *h;
	const kp_http_sink *sink;
	bool begun;    /* sink->begin was called this attempt */
	long status;
	kp_buf errbody;
	uint64_t bytes;
	kp_status cb_status; /* a sink callback's error */
	kp_error *cb_err;
} xfer_t;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	xfer_t *x = ud;
	size_t n = size * nmemb;
	if (!x->status)
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
	x->bytes += n;
	if (x->status < 200 || x->status > 299) {
		size_t room = KP_HTTP_MAX_ERROR_BODY - x->errbody.len;
		kp_buf_add(&x->errbody, p, n < room ? n : room);
		return n;
	}
	if (!x->sink)
		return n;
	if (!x->begun) {
		x->begun = true;
		if (x->sink->begin && (x->cb_status = x->sink->begin(x->sink->ud, x->status, x->cb_err)))
			return 0;
	}
	if (x->sink->data && (x->cb_status = x->sink->data(x->sink->ud, p, n, x->cb_err)))
		return 0;
	return n;
}

/* 529: Anthropic's "overloaded" (not in the RFCs; nothing else uses it to
 * mean anything a retry could make worse) */
static bool retry_status(long s) { return s == 429 || s == 500 || s == 502 || s == 503 || s == 504 || s == 529; }

/* libcurl results worth another attempt: the network, not the setup. */
static bool retry_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

static double backoff(kp_http_client *c, int attempt, long retry_after)
{
	double cap = (double)c->max_backoff_ms / 1000.0;
	if (retry_after > 0)
		return (double)retry_after < cap ? (double)retry_after : cap;
	double b = (double)c->backoff_ms / 1000.0;
	for (int i = 1; i < attempt && b < cap; i++)
		b *= 2;
	pthread_mutex_lock(&c->lock);
	c->rnd = c->rnd * 1103515245u + 12345u;
	double jitter = 0.8 + 0.4 * (double)((c->rnd >> 8) & 0xffff) / 65535.0; /* +-20% */
	pthread_mutex_unlock(&c->lock);
	b *= jitter;
	return b < cap ? b : cap;
}

/* libcurl asks at least once a second, idle or not */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	const kp_http_client *c = ud;
	return c->abort && atomic_load(c->abort) ? 1 : 0;
}

static kp_status request(kp_http_client *c, const char *method, const char *path, const char *accept,
			 const char *ctype, const char *body, size_t body_len, const kp_http_sink *sink, bool paced,
			 kp_http_result *res, kp_error *err)
{
	memset(res, 0, sizeof(*res));
	if (!path || path[0] != '/')
		return kp_fail(err, KP_ERR_INTERNAL, "%s: request path must start with '/'", c->what);
	/* the read-only rule, in the one place every request passes; its one
	 * exception: the operator records an AITask's result in its status */
	bool status_write = c->aitask_status_writes && !strcmp(method, "PATCH") && ctype &&
			    !strcmp(ctype, "application/merge-patch+json") && kp_http_aitask_status_path(path);
	if (c->read_only && strcmp(method, "GET") != 0 && !status_write)
		return kp_fail(err, KP_ERR_USAGE, "refused: %s %s to %s (kopilot only reads from it, GET only)", method,
			       path, c->what);
	if (c->read_only && names_secrets(path))
		return kp_fail(err, KP_ERR_USAGE, "refused: %s reads no Secrets (path %s)", "kopilot", path);
	char *url = kp_xasprintf("%s%s", c->base, path);
	double t0 = kp_monotonic_seconds();
	pthread_mutex_lock(&c->lock);
	c->stats.requests++;
	pthread_mutex_unlock(&c->lock);
	kp_status st = KP_OK;
	bool refreshed = false;
	char curl_msg[CURL_ERROR_SIZE];
	CURLcode rc = CURLE_OK;
	for (int attempt = 1;; attempt++) {
		if (paced)
			rate_wait(c);
		kp_http_auth au = {0};
		if (c->auth && (st = c->auth(c->auth_ud, refreshed, &au, err)))
			break;
		CURL *h = take_handle(c);
		xfer_t x = {.c = c, .h = h, .sink = sink, .cb_err = err};
		kp_buf_init(&x.errbody);
		struct curl_slist *hdrs = NULL;
		for (struct curl_slist *s = c->headers; s; s = s->next)
			hdrs = curl_slist_append(hdrs, s->data);
		char *authz = NULL;
		const char *tok = au.token ? au.token : c->token;
		if (tok) {
			authz = kp_xasprintf("Authorization: Bearer %s", tok);
			hdrs = curl_slist_append(hdrs, authz);
		}
		char *acc = accept ? kp_xasprintf("Accept: %s", accept) : NULL;
		if (acc)
			hdrs = curl_slist_append(hdrs, acc);
		char *ct = ctype ? kp_xasprintf("Content-Type: %s", ctype) : NULL;
		if (ct)
			hdrs = curl_slist_append(hdrs, ct);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_USERAGENT, "kopilot/" KP_VERSION);
		curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
		curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (c->stall_ms + 999) / 1000);
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, c->gzip ? "gzip" : NULL);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_msg);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, c->abort ? 0L : 1L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, c->abort ? on_progress : NULL);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, c->abort ? (void *)c : NULL);
		curl_msg[0] = '\0';
		if (strcmp(method, "GET") == 0) {
			curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL); /* a pooled handle may carry one */
		} else {
			curl_easy_setopt(h, CURLOPT_POST, 1L);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
			/* PATCH and PUT send their body as a POST does */
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") ? method : NULL);
		}
		curl_easy_setopt(h, CURLOPT_PROXY, c->proxy);
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, NULL);
		struct curl_slist *cto = c->connect_to ? curl_slist_append(NULL, c->connect_to) : NULL;
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, cto);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
		struct curl_blob ca = {c->ca_pem, c->ca_pem ? strlen(c->ca_pem) : 0, CURL_BLOB_COPY};
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, c->ca_pem ? &ca : NULL);
		const char *cert_pem = au.cert_pem ? au.cert_pem : c->cert_pem;
		const char *key_pem = au.cert_pem ? au.key_pem : c->key_pem;
		struct curl_blob cb = {(void *)cert_pem, cert_pem ? strlen(cert_pem) : 0, CURL_BLOB_COPY};
		struct curl_blob kb = {(void *)key_pem, key_pem ? strlen(key_pem) : 0, CURL_BLOB_COPY};
		curl_easy_setopt(h, CURLOPT_SSLCERT, au.cert_pem ? NULL : c->cert_file);
		curl_easy_setopt(h, CURLOPT_SSLKEY, au.cert_pem ? NULL : c->key_file);
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, cert_pem ? &cb : NULL);
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, key_pem ? &kb : NULL);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, c->username ? (long)CURLAUTH_BASIC : (long)CURLAUTH_NONE);

		rc = curl_easy_perform(h);
		long status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_off_t ra = -1;
		curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra);
		/* nothing of this attempt's credentials stays in the handle */
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, NULL);
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, NULL);
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, NULL);
		curl_slist_free_all(hdrs);
		curl_slist_free_all(cto);
		wipe_free(authz);
		free(acc);
		free(ct);
		kp_http_auth_release(&au);
		give_handle(c, h);
		pthread_mutex_lock(&c->lock);
		c->stats.attempts++;
		c->stats.bytes += x.bytes;
		pthread_mutex_unlock(&c->lock);
		res->attempts = attempt;
		res->status = status;
		res->bytes = x.bytes;
		if (x.cb_status) { /* the sink refused: its error, no retry */
			kp_buf_release(&x.errbody);
			st = x.cb_status;
			break;
		}
		bool ok_status = rc == CURLE_OK && status >= 200 && status <= 299;
		if (ok_status && sink && !x.begun) { /* an empty body */
			if (sink->begin && (st = sink->begin(sink->ud, status, err))) {
				kp_buf_release(&x.errbody);
				break;
			}
		}
		if (ok_status) {
			kp_buf_release(&x.errbody);
			break;
		}
		char why[160];
		if (rc != CURLE_OK)
			snprintf(why, sizeof(why), "%s", curl_msg[0] ? curl_msg : curl_easy_strerror(rc));
		else
			snprintf(why, sizeof(why), "%s", kp_http_reason(status));
		bool again = rc != CURLE_OK ? retry_curl(rc) && !(c->final_timeouts && rc == CURLE_OPERATION_TIMEDOUT)
					    : retry_status(status) && (!c->retryable || c->retryable(status, kp_buf_cstr(&x.errbody)));
		if (rc == CURLE_OK && status == 401 && c->auth && !refreshed) {
			again = true; /* credentials may have expired: ask for fresh ones once */
			refreshed = true;
		} else if (rc == CURLE_OK && status == 401) {
			again = false;
		}
		if (x.begun && sink && sink->reset)
			sink->reset(sink->ud);
		if (!again || attempt >= c->max_attempts) {
			res->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
			if (rc != CURLE_OK) {
				kp_buf_release(&x.errbody);
				char tries[48] = "";
				if (attempt > 1)
					snprintf(tries, sizeof(tries), " (%d attempts)", attempt);
				/* a long query string (a PromQL selector) would drown the reason */
				const char *q = strchr(path, '?');
				int shown = q && strlen(path) > 100 ? (int)(q - path) : (int)strlen(path);
				st = kp_fail(err, KP_ERR_NETWORK, "%s (%s): %s %.*s%s: %s%s", c->what, c->shown, method, shown,
					     path, shown < (int)strlen(path) ? "?..." : "", why, tries);
				break;
			}
			res->body = kp_buf_detach(&x.errbody);
			break;
		}
		free(res->retry_note);
		res->retry_note = kp_xstrdup(why);
		kp_buf_release(&x.errbody);
		double wait = backoff(c, attempt, ra > 0 ? (long)ra : 0);
		pthread_mutex_lock(&c->lock);
		c->stats.retries++;
		c->stats.waited_seconds += wait;
		pthread_mutex_unlock(&c->lock);
		sleep_seconds(wait);
	}
	res->seconds = kp_monotonic_seconds() - t0;
	free(url);
	return st;
}

kp_status kp_http_get(kp_http_client *c, const char *path, const char *accept, const kp_http_sink *sink,
		      kp_http_result *res, kp_error *err)
{
	return request(c, "GET", path, accept, NULL, NULL, 0, sink, true, res, err);
}

kp_status kp_http_get_next_page(kp_http_client *c, const char *path, const char *accept, const kp_http_sink *sink,
				kp_http_result *res, kp_error *err)
{
	return request(c, "GET", path, accept, NULL, NULL, 0, sink, false, res, err);
}

kp_status kp_http_post(kp_http_client *c, const char *path, const char *content_type, const char *body,
		       size_t body_len, const kp_http_sink *sink, kp_http_result *res, kp_error *err)
{
	return request(c, "POST", path, "application/json", content_type, body, body_len, sink, true, res, err);
}

typedef struct {
	kp_buf *out;
	size_t max;
	const char *what, *path;
} bufsink_t;

static kp_status buf_data(void *ud, const char *p, size_t n, kp_error *err)
{
	bufsink_t *b = ud;
	if (b->out->len + n > b->max)
		return kp_fail(err, KP_ERR_INPUT, "%s: GET %s: the response is larger than %zu bytes", b->what, b->path,
			       b->max);
	kp_buf_add(b->out, p, n);
	return KP_OK;
}

static void buf_reset(void *ud) { kp_buf_reset(((bufsink_t *)ud)->out); }

kp_status kp_http_send(kp_http_client *c, const char *method, const char *path, const char *content_type,
		       const char *body, size_t body_len, kp_buf *out, size_t max, kp_http_result *res, kp_error *err)
{
	if (strcmp(method, "POST") && strcmp(method, "PATCH") && strcmp(method, "PUT") && strcmp(method, "GET"))
		return kp_fail(err, KP_ERR_INTERNAL, "%s: method %s is not one kopilot sends", c->what, method);
	bufsink_t b = {out, max, c->what, path};
	kp_http_sink sink = {NULL, buf_data, buf_reset, &b};
	return request(c, method, path, "application/json", content_type, body, body_len, &sink, true, res, err);
}

kp_status kp_http_get_buf(kp_http_client *c, const char *path, const char *accept, size_t max, kp_buf *out,
			  kp_http_result *res, kp_error *err)
{
	bufsink_t b = {out, max, c->what, path};
	kp_http_sink s = {NULL, buf_data, buf_reset, &b};
	return kp_http_get(c, path, accept, &s, res, err);
}
