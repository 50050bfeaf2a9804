/*
 * http.h - the one HTTP client (libcurl) every network client of kopilot
 * goes through: the Kubernetes API server, Prometheus, and later the LLM
 * providers and git forges.
 *
 * What it owns, so that no client does it on its own:
 *   - the safety rule of DESIGN.md: a client made with read_only (the API
 *     server's) sends GET and nothing else, and never a path with a
 *     `secrets` segment (no list, no get, no watch of Secrets, in any
 *     namespace or group). There is no way to change a client's read_only
 *     after kp_http_new: kp_http_post refuses on it, and every request
 *     passes the same check before libcurl sees it;
 *   - TLS (a CA from a file or PEM text, a client certificate and key from
 *     files or PEM text, or no verification when asked), a proxy, a bearer
 *     token or basic auth, extra headers, the user agent kopilot/<version>;
 *   - retries: transport failures, 429 and 5xx are retried with exponential
 *     backoff and jitter, honouring Retry-After, a bounded number of times;
 *     a response cut in the middle is retried too (the sink is told to
 *     forget what it took: reset);
 *   - a client-side rate limit (token bucket; a list's next pages are not
 *     paced by it: kp_http_get_next_page) and connect/total/stall
 *     timeouts; HTTP/2 where the server offers it over TLS.
 *
 * A client is safe to use from several threads at once: each request takes
 * a libcurl handle from the client's small pool (kept connections are
 * reused by the next request of the same thread or another).
 *
 * Credentials are never put in an error message: messages name the server
 * (its URL without userinfo) and the path, never a header.
 */
#ifndef KP_HTTP_H
#define KP_HTTP_H

#include <stdatomic.h>

#include "pipeline/kp.h"

/* Credentials a request is sent with when they can change while the
 * client lives (an exec plugin's token with an expiry, a service account
 * token file that rotates): asked for before each request, and once more
 * with refresh=true after a 401. Every member is optional and heap memory
 * the http layer frees (kp_http_auth_release). */
typedef struct kp_http_auth {
	char *token;            /* bearer token */
	char *cert_pem, *key_pem; /* client certificate and key (PEM text) */
} kp_http_auth;
typedef kp_status (*kp_http_auth_fn)(void *ud, bool refresh, kp_http_auth *out, kp_error *err);
void kp_http_auth_release(kp_http_auth *a);

typedef struct kp_http_opts {
	const char *what;     /* for messages: "the Kubernetes API server", "Prometheus" */
	const char *base_url; /* scheme://host[:port][/prefix]; request paths are appended */
	bool read_only;       /* GET only, no `secrets` path segment (the API server) */
	/* kopilot operator's one exception to read_only (DESIGN.md): PATCH with
	 * application/merge-patch+json to an AITask's status subresource,
	 * kp_http_aitask_status_path, and nothing else */
	bool aitask_status_writes;
	/* TLS */
	const char *ca_file;            /* certificate-authority */
	const char *ca_pem;             /* certificate-authority-data, decoded */
	const char *cert_file, *key_file; /* client-certificate, client-key */
	const char *cert_pem, *key_pem;   /* their -data forms, decoded */
	bool insecure;                  /* insecure-skip-tls-verify */
	const char *tls_server_name;    /* tls-server-name: the name the certificate must carry */
	const char *proxy;              /* proxy-url */
	/* auth: a fixed token, basic auth, or a provider asked per request */
	const char *token;
	const char *username, *password;
	kp_http_auth_fn auth;
	void *auth_ud;
	const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
	bool gzip;                  /* Accept-Encoding: gzip (servers far away send a tenth of the bytes) */
	/* limits (0: the defaults below) */
	double qps;               /* requests per second, sustained */
	int burst;                /* requests allowed at once above qps */
	long connect_timeout_ms;  /* per connection attempt */
	long timeout_ms;          /* per request attempt, the whole response */
	long stall_timeout_ms;    /* no byte received for this long: the attempt fails */
	int max_attempts;         /* attempts per request (1: no retry) */
	long backoff_ms;          /* first retry's wait; doubles each time */
	long max_backoff_ms;      /* cap of a wait, Retry-After included */
	/* Whether a response the defaults would retry (429, 5xx) is worth it,
	 * seeing its body (Prometheus answers a query too heavy for it with
	 * 503 "timeout": the caller splits the query rather than sending it
	 * again). NULL: always. */
	bool (*retryable)(long status, const char *body);
	bool final_timeouts; /* an attempt that timed out is not tried again (the caller splits the work) */
	/* set (by another thread): the request in flight ends within about a
	 * second and is not tried again (a watch stream when the operator stops) */
	const atomic_bool *abort;
} kp_http_opts;

#define KP_HTTP_DEFAULT_QPS 50.0
#define KP_HTTP_DEFAULT_BURST 100
#define KP_HTTP_DEFAULT_CONNECT_MS 10000L
#define KP_HTTP_DEFAULT_TIMEOUT_MS 120000L
#define KP_HTTP_DEFAULT_STALL_MS 30000L
#define KP_HTTP_DEFAULT_ATTEMPTS 5
#define KP_HTTP_DEFAULT_BACKOFF_MS 500L
#define KP_HTTP_DEFAULT_MAX_BACKOFF_MS 30000L
/* A non-2xx body kept for the caller's message (a Kubernetes Status). */
#define KP_HTTP_MAX_ERROR_BODY 65536

typedef struct kp_http_client kp_http_client;

/* KP_ERR_USAGE for what cannot work (a base URL that is not http(s), an
 * unreadable CA or certificate file, a key without a certificate). */
kp_status kp_http_new(const kp_http_opts *o, kp_http_client **out, kp_error *err);
void kp_http_free(kp_http_client *c);
/* Whether path is exactly /apis/kubedevaiops.io/v1alpha1/namespaces/NS/
 * aitasks/NAME/status (NS a DNS label, NAME a DNS subdomain, no query). */
bool kp_http_aitask_status_path(const char *path);
/* The base URL with any userinfo masked, for messages. */
const char *kp_http_server(const kp_http_client *c);

/* Where a 2xx response's body goes, as it arrives. begin is called once
 * per attempt before the first byte (and for an empty body); data with each
 * chunk; when an attempt fails after begin (a cut connection, a stall, a
 * timeout), reset is called and the request is tried again from the start.
 * A callback's error stops the request at once (not retried). */
typedef struct kp_http_sink {
	kp_status (*begin)(void *ud, long status, kp_error *err);
	kp_status (*data)(void *ud, const char *p, size_t n, kp_error *err);
	void (*reset)(void *ud);
	void *ud;
} kp_http_sink;

typedef struct kp_http_result {
	long status;      /* the final response's status; 0 when none came */
	int attempts;     /* attempts made */
	uint64_t bytes;   /* body bytes of the final attempt */
	double seconds;   /* from the first attempt to the end, waits included */
	char *body;       /* non-2xx: the start of the body (NUL-terminated); free() it */
	char *retry_note; /* why the last retry happened ("429 Too Many Requests"), NULL when none */
	bool timed_out;   /* the last attempt ran out of time (timeout_ms, or stalled) */
} kp_http_result;
void kp_http_result_release(kp_http_result *r);

/* GET base_url + path (path starts with '/', query included). KP_OK when a
 * response came: res->status says which (a 2xx went to sink, anything else
 * is in res->body); 429 and 5xx are the last attempt's when retries ran
 * out. KP_ERR_NETWORK when no response came after every attempt (the
 * message names the server, the path and libcurl's reason). KP_ERR_USAGE
 * for a refused request (a `secrets` path on a read-only client). */
kp_status kp_http_get(kp_http_client *c, const char *path, const char *accept, const kp_http_sink *sink,
		      kp_http_result *res, kp_error *err);
/* The same for a list's next page (the continue token of the page before):
 * not paced by the rate limiter. A pager has one request in flight and asks
 * for the next page only when it has read the last, so the server's answers
 * set its pace; the limiter is for what can come at once (discovery, the
 * first page of each list, queries). Retries still wait their backoff. */
kp_status kp_http_get_next_page(kp_http_client *c, const char *path, const char *accept, const kp_http_sink *sink,
				kp_http_result *res, kp_error *err);
/* POST body (content_type) to base_url + path, same retries; refused
 * (KP_ERR_USAGE) on a read_only client. */
kp_status kp_http_post(kp_http_client *c, const char *path, const char *content_type, const char *body,
		       size_t body_len, const kp_http_sink *sink, kp_http_result *res, kp_error *err);

/* method (GET, POST, PATCH or PUT) with a body, the answer into out (at
 * most max bytes): the forges' REST APIs. Refused on a read_only client
 * unless GET. */
kp_status kp_http_send(kp_http_client *c, const char *method, const char *path, const char *content_type,
		       const char *body, size_t body_len, kp_buf *out, size_t max, kp_http_result *res, kp_error *err);

/* GET into memory, at most max bytes (more: KP_ERR_INPUT). */
kp_status kp_http_get_buf(kp_http_client *c, const char *path, const char *accept, size_t max, kp_buf *out,
			  kp_http_result *res, kp_error *err);

/* Requests this client sent (attempts, retries included), and bytes received. */
typedef struct kp_http_stats {
	uint64_t requests, attempts, retries, bytes;
	double waited_seconds; /* in backoff and the rate limiter */
} kp_http_stats;
kp_http_stats kp_http_get_stats(kp_http_client *c);

/* A short English phrase for an HTTP status ("404 Not Found"). */
const char *kp_http_reason(long status);

#endif
