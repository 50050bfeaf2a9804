/*
 * kube.c - see kube.h. One list = pages fetched one after the other (the
 * continue token chains them); each page goes through one scan whose
 * tokens feed both the model's reader and the redacting page copier
 * (redact.h), so the bytes are scanned once. A page's copy is held in
 * memory until the page has parsed to its end, then appended to the list's
 * file: a page fetched again (a retry, a cut body) or a list restarted
 * (410 Gone) leaves nothing of the failed attempt in the file or the model.
 */
#include "stages/collect/kube.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/fault.h"
#include "stages/collect/redact.h"
#include "stages/collect/snapshot.h"

#define KUBE_PAGE_SIZE 500
#define KUBE_MAX_RESTARTS 3
#define KUBE_MAX_PAGE_ATTEMPTS 3
#define KUBE_MAX_DISCOVERY (16u << 20)

/* The group/versions each list is read from, best first. */
static const char *const res_gv[KP_RES_COUNT][4] = {
	[KP_RES_PODS] = {"v1"},
	[KP_RES_DEPLOYMENTS] = {"apps/v1"},
	[KP_RES_REPLICASETS] = {"apps/v1"},
	[KP_RES_STATEFULSETS] = {"apps/v1"},
	[KP_RES_DAEMONSETS] = {"apps/v1"},
	[KP_RES_JOBS] = {"batch/v1"},
	[KP_RES_CRONJOBS] = {"batch/v1", "batch/v1beta1"},
	[KP_RES_PVCS] = {"v1"},
	[KP_RES_PVS] = {"v1"},
	[KP_RES_SERVICES] = {"v1"},
	[KP_RES_ENDPOINTSLICES] = {"discovery.k8s.io/v1", "discovery.k8s.io/v1beta1"},
	[KP_RES_NODES] = {"v1"},
	[KP_RES_HPAS] = {"autoscaling/v2", "autoscaling/v2beta2", "autoscaling/v1"},
	[KP_RES_NAMESPACES] = {"v1"},
	[KP_RES_STORAGECLASSES] = {"storage.k8s.io/v1"},
	[KP_RES_ROLLOUTS] = {"argoproj.io/v1alpha1"},
	/* served only where the VPA's CRDs are installed; the group holds
	 * nothing else a cluster lists (its checkpoints are the VPA's own) */
	[KP_RES_VPAS] = {"autoscaling.k8s.io/v1"},
};

struct kp_kube {
	kp_http_client *http;
	kp_kube_auth *auth;
	kp_audit *audit;
	char **served; /* group/versions from discovery */
	size_t nserved;
	bool rollouts; /* argoproj.io/v1alpha1 has rollouts */
	char *version;
	char *where; /* "kubeconfig FILE, context C" for messages */
	long page_size;
	int max_restarts, max_page_attempts;
	const kp_progress *progress;
};

char *kp_kube_status_message(long status, const char *body)
{
	json_object *st = body && *body ? json_tokener_parse(body) : NULL;
	const char *m = kp_json_str(st, "message");
	char *out;
	if (m && *m) {
		out = kp_xasprintf("%s: %s", kp_http_reason(status), m);
	} else if (body && *body && body[0] != '{' && body[0] != '<') {
		char cut[201];
		snprintf(cut, sizeof(cut), "%s", body);
		cut[strcspn(cut, "\r\n")] = '\0';
		out = kp_xasprintf("%s: %s", kp_http_reason(status), cut);
	} else {
		out = kp_xstrdup(kp_http_reason(status));
	}
	json_object_put(st);
	return out;
}

bool kp_kube_serves(const kp_kube *kc, const char *gv)
{
	for (size_t i = 0; i < kc->nserved; i++)
		if (strcmp(kc->served[i], gv) == 0)
			return true;
	return false;
}

const char *kp_kube_server_version(const kp_kube *kc) { return kc->version; }
kp_http_client *kp_kube_http(kp_kube *kc) { return kc->http; }
kp_http_stats kp_kube_stats(kp_kube *kc) { return kp_http_get_stats(kc->http); }

static void audit(kp_kube *kc, const char *event, json_object *fields)
{
	if (!kc->audit) {
		json_object_put(fields);
		return;
	}
	kp_audit_event(kc->audit, event, fields); /* thread-safe */
}

static void add_served(kp_kube *kc, const char *gv)
{
	if (!gv || kp_kube_serves(kc, gv))
		return;
	kc->served = kp_xrealloc(kc->served, (kc->nserved + 1) * sizeof(*kc->served));
	kc->served[kc->nserved++] = kp_xstrdup(gv);
}

/* A discovery GET: the body as a tree. A failure here is the whole
 * collection's: the message says what to check. */
static kp_status discover(kp_kube *kc, const char *path, bool optional, json_object **out, kp_error *err)
{
	*out = NULL;
	kp_buf b;
	kp_buf_init(&b);
	kp_http_result res;
	kp_status s = kp_http_get_buf(kc->http, path, "application/json", KUBE_MAX_DISCOVERY, &b, &res, err);
	if (s == KP_ERR_NETWORK) {
		bool tls = strstr(err->msg, "SSL") || strstr(err->msg, "certificate");
		kp_error_prefix(err, "cannot reach the Kubernetes API server (%s)", kc->where);
		if (tls) {
			char hint[] = "; check certificate-authority(-data) for the cluster in the kubeconfig";
			size_t l = strlen(err->msg);
			snprintf(err->msg + l, sizeof(err->msg) - l, "%s", hint);
		}
	} else if (!s && (res.status == 401 || res.status == 403) && !optional) {
		char *m = kp_kube_status_message(res.status, res.body);
		s = kp_fail(err, KP_ERR_USAGE, "the Kubernetes API server (%s, %s) refused kopilot's credentials: GET %s: %s",
			    kp_http_server(kc->http), kc->where, path, m);
		free(m);
	} else if (!s && (res.status < 200 || res.status > 299) && !optional) {
		char *m = kp_kube_status_message(res.status, res.body);
		s = kp_fail(err, KP_ERR_NETWORK, "the Kubernetes API server (%s, %s): GET %s: %s",
			    kp_http_server(kc->http), kc->where, path, m);
		free(m);
	} else if (!s && res.status >= 200 && res.status <= 299) {
		*out = json_tokener_parse(kp_buf_cstr(&b));
		if (!*out && !optional)
			s = kp_fail(err, KP_ERR_INPUT, "the Kubernetes API server (%s): GET %s: the answer is not JSON",
				    kp_http_server(kc->http), path);
	}
	kp_http_result_release(&res);
	kp_buf_release(&b);
	return s;
}

kp_status kp_kube_connect(const kp_kubeconfig *k, const kp_kube_opts *o, kp_audit *aud, kp_kube **out,
			  kp_error *err)
{
	*out = NULL;
	kp_kube *kc = kp_xcalloc(1, sizeof(*kc));
	kc->audit = aud;
	kc->page_size = o && o->page_size > 0 ? o->page_size : KUBE_PAGE_SIZE;
	kc->progress = o ? o->progress : NULL;
	kc->max_restarts = o && o->max_restarts > 0 ? o->max_restarts : KUBE_MAX_RESTARTS;
	kc->max_page_attempts = o && o->max_page_attempts > 0 ? o->max_page_attempts : KUBE_MAX_PAGE_ATTEMPTS;
	kc->where = k->context ? kp_xasprintf("kubeconfig %s, context %s", k->source, k->context)
			       : kp_xstrdup(k->source);
	kc->auth = kp_kube_auth_new(k);
	kp_http_opts ho;
	kp_kubeconfig_http_opts(k, kc->auth, &ho);
	if (o && o->http) { /* limits from the caller (tests, configuration) */
		ho.qps = o->http->qps;
		ho.burst = o->http->burst;
		ho.connect_timeout_ms = o->http->connect_timeout_ms;
		ho.timeout_ms = o->http->timeout_ms;
		ho.stall_timeout_ms = o->http->stall_timeout_ms;
		ho.max_attempts = o->http->max_attempts;
		ho.backoff_ms = o->http->backoff_ms;
		ho.max_backoff_ms = o->http->max_backoff_ms;
	}
	kp_status s = kp_http_new(&ho, &kc->http, err);
	if (s) {
		kp_error_prefix(err, "%s", kc->where);
		kp_kube_free(kc);
		return s;
	}
	json_object *v = NULL, *api = NULL, *apis = NULL;
	/* /api first: the one every server has, so its failure is the clearest */
	s = discover(kc, "/api", false, &api, err);
	if (!s)
		s = discover(kc, "/version", true, &v, err);
	if (!s)
		s = discover(kc, "/apis", false, &apis, err);
	if (!s) {
		const char *gv = kp_json_str(v, "gitVersion");
		kc->version = gv ? kp_xstrdup(gv) : NULL;
		json_object *vs = kp_json_get(api, "versions");
		for (size_t i = 0; json_object_is_type(vs, json_type_array) && i < json_object_array_length(vs); i++)
			add_served(kc, json_object_get_string(json_object_array_get_idx(vs, i)));
		json_object *gs = kp_json_get(apis, "groups");
		for (size_t i = 0; json_object_is_type(gs, json_type_array) && i < json_object_array_length(gs); i++) {
			json_object *gvs = kp_json_get(json_object_array_get_idx(gs, i), "versions");
			for (size_t j = 0; json_object_is_type(gvs, json_type_array) && j < json_object_array_length(gvs);
			     j++)
				add_served(kc, kp_json_str(json_object_array_get_idx(gvs, j), "groupVersion"));
		}
		if (!kp_kube_serves(kc, "v1"))
			s = kp_fail(err, KP_ERR_INPUT, "the Kubernetes API server (%s): GET /api does not list v1: is this "
						      "a Kubernetes API server?", kp_http_server(kc->http));
	}
	if (!s && kp_kube_serves(kc, "argoproj.io/v1alpha1")) {
		/* argoproj.io holds Workflows and Applications too: Rollouts only
		 * when its resource list says so */
		json_object *rl = NULL;
		s = discover(kc, "/apis/argoproj.io/v1alpha1", true, &rl, err);
		json_object *rs = kp_json_get(rl, "resources");
		for (size_t i = 0; json_object_is_type(rs, json_type_array) && i < json_object_array_length(rs); i++) {
			const char *n = kp_json_str(json_object_array_get_idx(rs, i), "name");
			kc->rollouts = kc->rollouts || (n && strcmp(n, "rollouts") == 0);
		}
		json_object_put(rl);
	}
	json_object *ev = json_object_new_object();
	json_object_object_add(ev, "server", json_object_new_string(kp_http_server(kc->http)));
	json_object_object_add(ev, "source", json_object_new_string(kc->where));
	json_object_object_add(ev, "version", kc->version ? json_object_new_string(kc->version) : NULL);
	json_object_object_add(ev, "group_versions", json_object_new_int64((int64_t)kc->nserved));
	json_object_object_add(ev, "ok", json_object_new_boolean(!s));
	audit(kc, "collect.discovery", ev);
	json_object_put(v);
	json_object_put(api);
	json_object_put(apis);
	if (s) {
		kp_kube_free(kc);
		return s;
	}
	*out = kc;
	return KP_OK;
}

void kp_kube_free(kp_kube *kc)
{
	if (!kc)
		return;
	kp_http_free(kc->http);
	kp_kube_auth_free(kc->auth);
	for (size_t i = 0; i < kc->nserved; i++)
		free(kc->served[i]);
	free(kc->served);
	free(kc->version);
	free(kc->where);
	free(kc);
}

/* ---- one list ---- */

static void url_escape(kp_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p)) {
			kp_buf_putc(b, (char)*p);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			kp_buf_add(b, e, 3);
		}
	}
}

typedef struct {
	kp_list_reader *lr;
	kp_listscan *ls;
	kp_redactor *copier;
	kp_buf out;        /* this page's items, copied */
	size_t items_out;  /* items in the file so far (separators) */
	size_t items_mark; /* ... when this page began */
	const char *gv, *kind;
	char *name; /* "GET path (page N)" */
	kp_error *err;
} page_t;

static void page_fresh(page_t *pg)
{
	kp_redactor_free(pg->copier);
	kp_list_reader_page_abort(pg->lr);
	pg->ls = kp_list_reader_page(pg->lr, pg->name, pg->err);
	pg->items_out = pg->items_mark;
	pg->copier = kp_redactor_new_page(pg->gv, pg->kind, &pg->items_out);
	kp_listscan_set_tap(pg->ls, kp_redactor_token, pg->copier);
	kp_listscan_set_tap_skips(pg->ls, kp_redactor_skips);
	kp_buf_reset(&pg->out);
}

static kp_status page_data(void *ud, const char *p, size_t n, kp_error *err)
{
	page_t *pg = ud;
	uint64_t base = kp_listscan_offset(pg->ls);
	kp_redactor_page_chunk(pg->copier, p, base, &pg->out);
	kp_status s = kp_listscan_feed(pg->ls, p, n, err);
	if (!s)
		s = kp_redactor_page_flush(pg->copier, base + n, kp_listscan_pending_start(pg->ls), err);
	return s;
}

static void page_reset(void *ud) { page_fresh(ud); }

/* ---- a page fetched on a second thread while this one parses it ----
 *
 * Receiving a page (recv, TLS decryption: a tenth of a page's cost) runs on
 * a fetch thread; the list's thread parses what it hands over, in order,
 * through a few slots of up to FETCH_BATCH bytes (each chunk copied once). The sink's calls reach the
 * page exactly as they would have on one thread: data and reset, in order.
 * When the parse fails, the fetch is stopped (its next chunk is refused)
 * and the page's status is the parse's, as when the sink refused it on one
 * thread. The fault-injection build fetches on the list's thread
 * (KP_THREADS: its failures are counted in call order). */

#define FETCH_SLOTS 8
#define FETCH_BATCH (256u << 10) /* bytes handed over at once (chunks come in TLS records of 16 KB) */

typedef struct {
	char *data;
	size_t len, cap;
	bool reset; /* the attempt failed after its first bytes: start the page again */
} fetch_slot;

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	fetch_slot slots[FETCH_SLOTS];
	int head, count;
	fetch_slot *filling; /* the fetch thread's, not handed over yet */
	bool done;      /* the fetch has returned */
	kp_status stop; /* the parse failed: refuse what comes next */
	/* the request and what it gave */
	kp_http_client *http;
	const char *path;
	bool next_page;
	kp_status st;
	kp_error err;
	kp_http_result res;
} fetch_pipe;

/* A free slot for the fetch thread, or NULL when the parse has stopped. */
static fetch_slot *fetch_slot_free(fetch_pipe *fp)
{
	pthread_mutex_lock(&fp->mu);
	while (fp->count == FETCH_SLOTS && !fp->stop)
		pthread_cond_wait(&fp->cv, &fp->mu);
	fetch_slot *sl = fp->stop ? NULL : &fp->slots[(fp->head + fp->count) % FETCH_SLOTS];
	pthread_mutex_unlock(&fp->mu);
	if (sl) {
		sl->len = 0;
		sl->reset = false;
	}
	return sl;
}

/* Hands the slot being filled over to the parse. */
static void fetch_post(fetch_pipe *fp)
{
	if (!fp->filling)
		return;
	fp->filling = NULL;
	pthread_mutex_lock(&fp->mu);
	fp->count++;
	pthread_cond_broadcast(&fp->cv);
	pthread_mutex_unlock(&fp->mu);
}

static kp_status fetch_data(void *ud, const char *p, size_t n, kp_error *err)
{
	fetch_pipe *fp = ud;
	if (!fp->filling && !(fp->filling = fetch_slot_free(fp))) /* the parse failed: its status is the page's */
		return kp_fail(err, fp->stop, "the page's parse stopped");
	fetch_slot *sl = fp->filling;
	if (sl->cap < sl->len + n) { /* outside the lock: an allocation failure unwinds this thread */
		size_t cap = sl->len + n > FETCH_BATCH ? sl->len + n : FETCH_BATCH;
		sl->data = kp_xrealloc(sl->data, cap);
		sl->cap = cap;
	}
	memcpy(sl->data + sl->len, p, n);
	sl->len += n;
	if (sl->len >= FETCH_BATCH)
		fetch_post(fp);
	return KP_OK;
}

static void fetch_reset(void *ud)
{
	fetch_pipe *fp = ud;
	fetch_post(fp); /* what came before the reset is parsed first, as on one thread */
	if (!(fp->filling = fetch_slot_free(fp)))
		return;
	fp->filling->reset = true;
	fetch_post(fp);
}

static kp_status fetch_run(void *arg, kp_error *err)
{
	fetch_pipe *fp = arg;
	kp_http_sink sink = {NULL, fetch_data, fetch_reset, fp};
	/* the rate limit paces a list's first page; the next ones follow
	 * as fast as the server answers (kp_http_get_next_page) */
	return (fp->next_page ? kp_http_get_next_page : kp_http_get)(fp->http, fp->path, "application/json", &sink,
								     &fp->res, err);
}

static void *fetch_thread(void *arg)
{
	fetch_pipe *fp = arg;
	kp_status st = kp_nomem_guard(fetch_run, fp, &fp->err);
	fetch_post(fp); /* the last bytes */
	pthread_mutex_lock(&fp->mu);
	fp->st = st;
	fp->done = true;
	pthread_cond_broadcast(&fp->cv);
	pthread_mutex_unlock(&fp->mu);
	return NULL;
}

/* GET path into the page: as kp_http_get(_next_page) with the page's sink. */
static kp_status fetch_page(kp_kube *kc, page_t *pg, const char *path, bool next_page, kp_http_result *res,
			    kp_error *err)
{
	kp_http_sink sink = {NULL, page_data, page_reset, pg};
	if (!KP_THREADS)
		return (next_page ? kp_http_get_next_page : kp_http_get)(kc->http, path, "application/json", &sink, res,
									   err);
	fetch_pipe *fp = kp_xcalloc(1, sizeof(*fp));
	pthread_mutex_init(&fp->mu, NULL);
	pthread_cond_init(&fp->cv, NULL);
	fp->http = kc->http;
	fp->path = path;
	fp->next_page = next_page;
	pthread_t t;
	if (pthread_create(&t, NULL, fetch_thread, fp) != 0) {
		pthread_cond_destroy(&fp->cv);
		pthread_mutex_destroy(&fp->mu);
		free(fp);
		return (next_page ? kp_http_get_next_page : kp_http_get)(kc->http, path, "application/json", &sink, res,
									   err);
	}
	kp_status parse = KP_OK;
	for (;;) {
		pthread_mutex_lock(&fp->mu);
		while (!fp->count && !fp->done)
			pthread_cond_wait(&fp->cv, &fp->mu);
		if (!fp->count) {
			pthread_mutex_unlock(&fp->mu);
			break;
		}
		fetch_slot *sl = &fp->slots[fp->head];
		pthread_mutex_unlock(&fp->mu);
		if (!parse && sl->reset)
			page_reset(pg);
		else if (!parse)
			parse = page_data(pg, sl->data, sl->len, err);
		pthread_mutex_lock(&fp->mu);
		fp->head = (fp->head + 1) % FETCH_SLOTS;
		fp->count--;
		if (parse)
			fp->stop = parse;
		pthread_cond_broadcast(&fp->cv);
		pthread_mutex_unlock(&fp->mu);
	}
	pthread_join(t, NULL);
	*res = fp->res;
	kp_status st = fp->st;
	if (parse)
		st = parse; /* err is the parse's */
	else if (st && err)
		*err = fp->err;
	for (int i = 0; i < FETCH_SLOTS; i++)
		free(fp->slots[i].data);
	pthread_cond_destroy(&fp->cv);
	pthread_mutex_destroy(&fp->mu);
	free(fp);
	return st;
}

/* ---- a list's pages written on a second thread ----
 *
 * A page's copy goes to the list's file while the next page is read: the
 * list's thread hands its buffer over (swapped with the one written last,
 * no copy) and goes on. The first failure sticks: the next hand-over and
 * the end return it, with the atomic file's message (held by the writer
 * while it writes, so the list's err is never written by two threads). The
 * fault-injection build writes on the list's thread. */
typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	kp_atomic_file *f;
	kp_error *list_err; /* the list's: f->err while nothing is being written by the thread */
	kp_error err;       /* f->err while the thread writes */
	kp_buf buf;         /* the page being written */
	bool busy, quit, threaded;
	kp_status st;
	pthread_t t;
} page_writer;

static kp_status writer_write(void *arg, kp_error *err)
{
	(void)err; /* f->err, the writer's */
	page_writer *w = arg;
	return kp_atomic_write(w->f, w->buf.data ? w->buf.data : "", w->buf.len);
}

static void *writer_thread(void *arg)
{
	page_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->busy && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->busy)
			break;
		pthread_mutex_unlock(&w->mu);
		/* the list's thread does not touch f meanwhile; an allocation
		 * failing (a small page is gathered in f's buffer) unwinds here */
		kp_error nomem = {0};
		kp_status st = kp_nomem_guard(writer_write, w, &nomem);
		pthread_mutex_lock(&w->mu);
		if (st && !w->st) {
			w->st = st;
			if (nomem.status)
				w->err = nomem;
		}
		w->busy = false;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void writer_start(page_writer *w, kp_atomic_file *f, kp_error *err)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->list_err = err;
	kp_buf_init(&w->buf);
	if (!KP_THREADS)
		return;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->threaded = pthread_create(&w->t, NULL, writer_thread, w) == 0;
	if (!w->threaded) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
	}
}

/* Waits until nothing is being written: the first failure, if any (its
 * message in w->err). f is the list thread's until the next writer_put. */
static kp_status writer_sync(page_writer *w)
{
	if (!w->threaded)
		return KP_OK; /* written at once (writer_put) */
	pthread_mutex_lock(&w->mu);
	while (w->busy)
		pthread_cond_wait(&w->cv, &w->mu);
	kp_status st = w->st;
	pthread_mutex_unlock(&w->mu);
	return st;
}

/* The page's copy to the file; *out is left empty (it holds the buffer
 * written last). A failure of this write or of the one before is
 * returned with its message in the list's err. */
static kp_status writer_put(page_writer *w, kp_buf *out)
{
	if (!w->threaded) {
		kp_status st = kp_atomic_write(w->f, out->data ? out->data : "", out->len);
		kp_buf_reset(out);
		return st;
	}
	kp_status st = writer_sync(w);
	if (st) {
		*w->list_err = w->err;
		return st;
	}
	w->f->err = &w->err; /* the writer's while it writes */
	kp_buf t = w->buf;
	w->buf = *out;
	*out = t;
	kp_buf_reset(out);
	pthread_mutex_lock(&w->mu);
	w->busy = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return KP_OK;
}

/* Everything written, the thread gone, f the list thread's again (with
 * the list's err). The first failure, its message in *err_out. */
static kp_status writer_end(page_writer *w, kp_error *err_out)
{
	kp_status st = writer_sync(w);
	if (w->threaded) {
		pthread_mutex_lock(&w->mu);
		w->quit = true;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->t, NULL);
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		w->f->err = w->list_err;
		w->threaded = false;
	}
	if (st)
		*err_out = w->err;
	kp_buf_release(&w->buf);
	return st;
}

/* Why a list was not collected, recorded in the model. */
static void not_collected(kp_cluster *c, kp_resource r, const char *reason)
{
	char *summary = kp_xasprintf("%s: not collected (%s)", kp_resource_name(r), reason);
	kp_cluster_add_missing(c, kp_resource_name(r), NULL, NULL, NULL, reason, summary);
	free(summary);
}

typedef struct {
	int pages, attempts, restarts;
	uint64_t bytes;
	double seconds;
} list_stats;

/* One list into lr and f. KP_OK with *reason NULL: read to its end; KP_OK
 * with *reason: not collected (why); an error: the run's. */
static kp_status read_list(kp_kube *kc, kp_list_reader *lr, kp_resource r, const char *gv, const char *base_path,
			   const char *file, kp_atomic_file *f, list_stats *st, char **reason, kp_error *err)
{
	*reason = NULL;
	page_t pg;
	memset(&pg, 0, sizeof(pg));
	pg.lr = lr;
	pg.gv = gv;
	pg.kind = kp_resource_kind(r);
	pg.err = err;
	kp_buf_init(&pg.out);
	kp_buf path, cont;
	kp_buf_init(&path);
	kp_buf_init(&cont);
	kp_status s = KP_OK;
	int page_attempts = 0;
	page_writer wr;
	writer_start(&wr, f, err);
	for (;;) {
		kp_buf_reset(&path);
		kp_buf_printf(&path, "%s?limit=%ld", base_path, kc->page_size);
		if (cont.len) {
			kp_buf_puts(&path, "&continue=");
			url_escape(&path, kp_buf_cstr(&cont));
		}
		free(pg.name);
		pg.name = kp_xasprintf("GET %s (page %d)", base_path, st->pages + 1);
		pg.items_mark = pg.items_out;
		page_fresh(&pg);
		kp_http_result res;
		s = fetch_page(kc, &pg, kp_buf_cstr(&path), cont.len > 0, &res, err);
		st->attempts += res.attempts;
		st->bytes += res.bytes;
		if (s == KP_ERR_NETWORK) { /* retries ran out without an answer */
			*reason = kp_xstrdup(err->msg);
			kp_http_result_release(&res);
			s = KP_OK;
			break;
		}
		if (s && s != KP_ERR_INPUT) { /* out of memory, a refused request: the run's */
			kp_http_result_release(&res);
			break;
		}
		json_object *skel = NULL;
		if (!s && res.status >= 200 && res.status <= 299)
			s = kp_list_reader_page_end(lr, &skel, err);
		if (s == KP_ERR_INPUT) { /* the page did not parse: a cut body, or bad data */
			kp_http_result_release(&res);
			if (++page_attempts < kc->max_page_attempts) {
				s = KP_OK;
				continue;
			}
			*reason = kp_xasprintf("%s (after %d attempts)", err->msg, page_attempts);
			s = KP_OK;
			break;
		}
		if (res.status == 410 && cont.len) {
			/* the continue token expired (the server compacted past
			 * it): the list again from its start, a bounded number
			 * of times */
			kp_http_result_release(&res);
			if (++st->restarts > kc->max_restarts) {
				*reason = kp_xasprintf("GET %s: 410 Gone: the list kept expiring while it was read "
						       "(%d restarts)", base_path, kc->max_restarts);
				break;
			}
			kp_list_reader_restart(lr);
			(void)writer_sync(&wr); /* nothing in flight: a failed write sticks (writer_put) */
			kp_atomic_abort(f);
			s = kp_atomic_open(f, file, err);
			if (!s)
				kp_atomic_drop_behind(f);
			kp_buf_reset(&cont);
			pg.items_out = 0;
			st->pages = 0;
			if (!s)
				s = kp_atomic_write(f, "{\"apiVersion\":\"v1\",\"items\":[\n", 29);
			if (s)
				break;
			continue;
		}
		if (res.status < 200 || res.status > 299) {
			char *m = kp_kube_status_message(res.status, res.body);
			const char *hint = res.status == 403 ? " (kopilot needs list on it: see cron/rbac.yaml)" : "";
			*reason = kp_xasprintf("GET %s: %s%s%s", base_path, m,
					       res.retry_note && res.attempts > 1 ? ", after retries" : "", hint);
			free(m);
			kp_http_result_release(&res);
			break;
		}
		kp_http_result_release(&res);
		page_attempts = 0;
		st->pages++;
		/* how many so far, of how many when the server says
		 * (remainingItemCount: an estimate, the list may change) */
		long long listed = (long long)kp_list_reader_items(lr);
		json_object *rest = kp_json_get(skel, "metadata.remainingItemCount");
		kp_progress_report(kc->progress, "collect", kp_resource_name(r), listed,
				   json_object_is_type(rest, json_type_int) ? listed + json_object_get_int64(rest) : -1);
		s = writer_put(&wr, &pg.out);
		const char *next = kp_json_str(kp_json_get(skel, "metadata"), "continue");
		kp_buf_reset(&cont);
		if (next && *next)
			kp_buf_puts(&cont, next);
		json_object_put(skel);
		if (s || !cont.len)
			break;
	}
	kp_error werr = {0};
	kp_status ws = writer_end(&wr, &werr);
	if (!s && ws) { /* a page's write failed (the last one's, or with the list cut short) */
		*err = werr;
		s = ws;
	}
	kp_redactor_free(pg.copier);
	kp_buf_release(&pg.out);
	free(pg.name);
	kp_buf_release(&path);
	kp_buf_release(&cont);
	return s;
}

kp_status kp_kube_list(kp_kube *kc, kp_cluster *c, kp_resource r, const char *objects_dir, kp_error *err)
{
	const char *name = kp_resource_name(r);
	const char *gv = NULL;
	for (int i = 0; i < 4 && res_gv[r][i] && !gv; i++)
		if (kp_kube_serves(kc, res_gv[r][i]))
			gv = res_gv[r][i];
	if (r == KP_RES_ROLLOUTS && !kc->rollouts)
		gv = NULL;
	json_object *ev = json_object_new_object();
	json_object_object_add(ev, "resource", json_object_new_string(name));
	json_object_object_add(ev, "source", json_object_new_string("api"));
	if (!gv) {
		json_object_object_add(ev, "collected", json_object_new_boolean(0));
		if (kp_resource_optional(r)) { /* no such CRD here (Argo Rollouts, VPA): nothing to collect, not a gap */
			json_object_object_add(ev, "reason", json_object_new_string("not served by this cluster"));
			audit(kc, "collect.list", ev);
			return KP_OK;
		}
		kp_buf want;
		kp_buf_init(&want);
		for (int i = 0; i < 4 && res_gv[r][i]; i++)
			kp_buf_printf(&want, "%s%s", i ? " or " : "", res_gv[r][i]);
		char *reason = kp_xasprintf("the API server does not serve %s (discovery)", kp_buf_cstr(&want));
		kp_buf_release(&want);
		json_object_object_add(ev, "reason", json_object_new_string(reason));
		audit(kc, "collect.list", ev);
		not_collected(c, r, reason);
		free(reason);
		return KP_OK;
	}
	char *base_path = strchr(gv, '/') ? kp_xasprintf("/apis/%s/%s", gv, name) : kp_xasprintf("/api/%s/%s", gv, name);
	char rel[128];
	snprintf(rel, sizeof(rel), "%s.json", name);
	char *path = kp_path_join(objects_dir, rel);
	kp_atomic_file f;
	kp_status s = kp_atomic_open(&f, path, err);
	if (!s) {
		kp_atomic_drop_behind(&f); /* the run reads the model, not the file */
		s = kp_atomic_write(&f, "{\"apiVersion\":\"v1\",\"items\":[\n", 29);
	}
	kp_list_reader *lr = kp_list_reader_new(c, r);
	list_stats st = {0};
	double t0 = kp_monotonic_seconds();
	char *reason = NULL;
	if (!s)
		s = read_list(kc, lr, r, gv, base_path, path, &f, &st, &reason, err);
	st.seconds = kp_monotonic_seconds() - t0;
	bool ok = !s && !reason;
	size_t items = kp_list_reader_items(lr);
	if (ok) {
		static const char tail[] = "\n],\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"\"}}\n";
		s = kp_atomic_write(&f, tail, sizeof(tail) - 1);
		if (!s)
			s = kp_atomic_commit(&f);
		ok = !s;
	} else {
		kp_atomic_abort(&f); /* no file: not collected, never an empty list */
	}
	kp_list_reader_free(lr, ok);
	kp_progress_report(kc->progress, "collect", name, (long long)items, (long long)items); /* this list is done */
	json_object_object_add(ev, "group_version", json_object_new_string(gv));
	json_object_object_add(ev, "path", json_object_new_string(base_path));
	json_object_object_add(ev, "collected", json_object_new_boolean(ok));
	json_object_object_add(ev, "items", json_object_new_int64((int64_t)items));
	json_object_object_add(ev, "pages", json_object_new_int64(st.pages));
	json_object_object_add(ev, "requests", json_object_new_int64(st.attempts));
	json_object_object_add(ev, "restarts", json_object_new_int64(st.restarts));
	json_object_object_add(ev, "bytes", json_object_new_int64((int64_t)st.bytes));
	json_object_object_add(ev, "seconds", json_object_new_double(st.seconds));
	if (reason)
		json_object_object_add(ev, "reason", json_object_new_string(reason));
	audit(kc, "collect.list", ev);
	if (!s && reason)
		not_collected(c, r, reason);
	free(reason);
	free(base_path);
	free(path);
	return s;
}
