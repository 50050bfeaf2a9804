/*
 * kubeconfig.c - see kubeconfig.h. The files are read with
 * pipeline/yamljson.h into json-c trees; entries keep the file they came
 * from (relative paths, messages). The auth provider owns the only copies
 * of credentials that change (exec, tokenFile) and hands the http layer a
 * fresh copy per request.
 */
#define _GNU_SOURCE
#include "stages/collect/kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/model.h"
#include "pipeline/yamljson.h"
#include "pipeline/process.h"

extern char **environ;

#define TOKEN_FILE_TTL 60.0     /* seconds a tokenFile is trusted before it is read again (client-go's) */
#define EXEC_TIMEOUT_SECONDS 60 /* a plugin that does not answer in this time fails */
#define EXEC_MAX_OUTPUT (1 << 20)

/* ---- base64 ---- */

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

kp_status kp_base64_decode(const char *in, char **out, size_t *len, const char *what, kp_error *err)
{
	size_t n = strlen(in);
	char *o = kp_xmalloc(n / 4 * 3 + 4);
	size_t ol = 0;
	unsigned acc = 0;
	int bits = 0, pad = 0;
	for (const char *p = in; *p; p++) {
		int c = (unsigned char)*p;
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64val(c);
		if (v < 0 || pad) {
			free(o);
			return kp_fail(err, KP_ERR_INPUT, "%s: not base64 (character %ld)", what, (long)(p - in) + 1);
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[ol++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (pad > 2 || bits >= 6) {
		free(o);
		return kp_fail(err, KP_ERR_INPUT, "%s: not base64 (bad length or padding)", what);
	}
	o[ol] = '\0';
	*out = o;
	if (len)
		*len = ol;
	return KP_OK;
}

/* ---- reading the files ---- */

typedef struct {
	const char *name;
	json_object *body; /* the "cluster", "user" or "context" object */
	const char *file;
} entry_t;

typedef KP_ARRAY(entry_t) entries_t;

typedef struct {
	char **files; /* the files read, in order */
	size_t nfiles;
	json_object **docs;
	entries_t clusters, users, contexts;
	const char *current_context, *current_file;
} merged_t;

static void merged_release(merged_t *m)
{
	for (size_t i = 0; i < m->nfiles; i++) {
		free(m->files[i]);
		json_object_put(m->docs[i]);
	}
	free(m->files);
	free(m->docs);
	free(m->clusters.items);
	free(m->users.items);
	free(m->contexts.items);
}

static const entry_t *find_entry(const entry_t *e, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			return &e[i];
	return NULL;
}

/* clusters/users/contexts of one file: the first definition of a name
 * (in this file or an earlier one) wins. */
static kp_status add_entries(const char *file, json_object *doc, const char *list, const char *body, entries_t *arr,
			     kp_error *err)
{
	json_object *a = kp_json_get(doc, list);
	if (!a)
		return KP_OK;
	if (!json_object_is_type(a, json_type_array))
		return kp_fail(err, KP_ERR_INPUT, "%s: %s: expected a list", file, list);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		const char *name = kp_json_str(e, "name");
		if (!json_object_is_type(e, json_type_object) || !name || !*name)
			return kp_fail(err, KP_ERR_INPUT, "%s: %s[%zu]: expected an entry with a name", file, list, i);
		json_object *b = kp_json_get(e, body);
		if (b && !json_object_is_type(b, json_type_object))
			return kp_fail(err, KP_ERR_INPUT, "%s: %s[\"%s\"].%s: expected a mapping", file, list, name, body);
		if (find_entry(arr->items, arr->len, name))
			continue;
		entry_t en = {name, b, file};
		KP_ARRAY_PUSH(*arr, en);
	}
	return KP_OK;
}

static kp_status read_one(merged_t *m, const char *path, kp_error *err)
{
	json_object *doc = NULL;
	kp_status s = kp_yaml_read_file(path, &doc, err);
	if (s)
		return s;
	if (doc && !json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		return kp_fail(err, KP_ERR_INPUT, "%s: not a kubeconfig (expected a mapping with clusters, users and "
				       "contexts)", path);
	}
	m->files = kp_xrealloc(m->files, (m->nfiles + 1) * sizeof(*m->files));
	m->docs = kp_xrealloc(m->docs, (m->nfiles + 1) * sizeof(*m->docs));
	m->files[m->nfiles] = kp_xstrdup(path);
	m->docs[m->nfiles] = doc;
	const char *file = m->files[m->nfiles++];
	if (!doc)
		return KP_OK;
	if ((s = add_entries(file, doc, "clusters", "cluster", &m->clusters, err)) ||
	    (s = add_entries(file, doc, "users", "user", &m->users, err)) ||
	    (s = add_entries(file, doc, "contexts", "context", &m->contexts, err)))
		return s;
	json_object *cc = kp_json_get(doc, "current-context");
	if (cc && !json_object_is_type(cc, json_type_string))
		return kp_fail(err, KP_ERR_INPUT, "%s: current-context: expected a string", file);
	if (!m->current_context && cc && *json_object_get_string(cc)) {
		m->current_context = json_object_get_string(cc);
		m->current_file = file;
	}
	return KP_OK;
}

/* A field of an entry's body: a string, or absent. */
static kp_status field_str(const char *where, json_object *body, const char *key, const char **out, kp_error *err)
{
	json_object *v = kp_json_get(body, key);
	*out = NULL;
	if (!v)
		return KP_OK;
	if (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)) {
		*out = json_object_get_string(v);
		return KP_OK;
	}
	return kp_fail(err, KP_ERR_INPUT, "%s.%s: expected a string", where, key);
}

static kp_status field_bool(const char *where, json_object *body, const char *key, bool *out, kp_error *err)
{
	json_object *v = kp_json_get(body, key);
	*out = false;
	if (!v)
		return KP_OK;
	if (!json_object_is_type(v, json_type_boolean))
		return kp_fail(err, KP_ERR_INPUT, "%s.%s: expected true or false", where, key);
	*out = json_object_get_boolean(v);
	return KP_OK;
}

/* A path as the file's directory sees it. */
static char *resolve_path(const char *file, const char *p)
{
	if (!p || !*p)
		return NULL;
	if (p[0] == '/' || !file)
		return kp_xstrdup(p);
	if (p[0] == '~' && p[1] == '/' && getenv("HOME"))
		return kp_path_join(getenv("HOME"), p + 2);
	const char *slash = strrchr(file, '/');
	if (!slash)
		return kp_xstrdup(p);
	char *dir = kp_xstrdup(file);
	dir[slash - file] = '\0';
	char *r = kp_path_join(*dir ? dir : "/", p);
	free(dir);
	return r;
}

static kp_status check_readable(const char *where, const char *key, const char *path, kp_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kp_fail(err, KP_ERR_USAGE, "%s.%s: cannot read %s: %s", where, key, path, strerror(errno));
	close(fd);
	return KP_OK;
}

/* A file path field (resolved and checked) or its -data twin (decoded). */
static kp_status file_or_data(const char *where, const char *file, json_object *body, const char *key,
			      char **path_out, char **pem_out, kp_error *err)
{
	const char *p, *d;
	char dkey[64];
	snprintf(dkey, sizeof(dkey), "%s-data", key);
	kp_status s = field_str(where, body, key, &p, err);
	if (!s)
		s = field_str(where, body, dkey, &d, err);
	if (s)
		return s;
	if (d && *d) {
		char what[512];
		snprintf(what, sizeof(what), "%s.%s", where, dkey);
		return kp_base64_decode(d, pem_out, NULL, what, err);
	}
	if (p && *p) {
		*path_out = resolve_path(file, p);
		return check_readable(where, key, *path_out, err);
	}
	return KP_OK;
}

static char *where_of(const char *file, const char *list, const char *name, const char *body)
{
	return kp_xasprintf("%s: %s[\"%s\"].%s", file, list, name, body);
}

static kp_status read_exec(const char *where_user, const char *file, json_object *ex, kp_exec_config **out,
			   kp_error *err)
{
	char *where = kp_xasprintf("%s.exec", where_user);
	kp_exec_config *e = kp_xcalloc(1, sizeof(*e));
	e->where = where;
	*out = e;
	if (!json_object_is_type(ex, json_type_object))
		return kp_fail(err, KP_ERR_INPUT, "%s: expected a mapping", where);
	const char *cmd, *api, *hint, *mode;
	kp_status s;
	if ((s = field_str(where, ex, "command", &cmd, err)) || (s = field_str(where, ex, "apiVersion", &api, err)) ||
	    (s = field_str(where, ex, "installHint", &hint, err)) ||
	    (s = field_str(where, ex, "interactiveMode", &mode, err)) ||
	    (s = field_bool(where, ex, "provideClusterInfo", &e->provide_cluster_info, err)))
		return s;
	if (!cmd || !*cmd)
		return kp_fail(err, KP_ERR_INPUT, "%s.command: missing", where);
	if (!api || (strcmp(api, "client.authentication.k8s.io/v1") != 0 &&
		     strcmp(api, "client.authentication.k8s.io/v1beta1") != 0))
		return kp_fail(err, KP_ERR_INPUT,
			       "%s.apiVersion: \"%s\": kopilot speaks client.authentication.k8s.io/v1 and v1beta1", where,
			       api ? api : "");
	if (strcmp(api, "client.authentication.k8s.io/v1") == 0 && !mode)
		return kp_fail(err, KP_ERR_INPUT, "%s.interactiveMode: required by client.authentication.k8s.io/v1 "
				       "(Never, IfAvailable or Always)", where);
	if (mode && strcmp(mode, "Never") != 0 && strcmp(mode, "IfAvailable") != 0 && strcmp(mode, "Always") != 0)
		return kp_fail(err, KP_ERR_INPUT, "%s.interactiveMode: \"%s\": expected Never, IfAvailable or Always",
			       where, mode);
	if (mode && strcmp(mode, "Always") == 0)
		return kp_fail(err, KP_ERR_USAGE, "%s.interactiveMode: Always: the plugin needs a terminal, and kopilot "
				       "runs without one (nightly, in CI); use a plugin mode that does not prompt",
			       where);
	e->api_version = kp_xstrdup(api);
	e->command = strchr(cmd, '/') ? resolve_path(file, cmd) : kp_xstrdup(cmd);
	e->install_hint = hint ? kp_xstrdup(hint) : NULL;
	e->interactive_mode = mode ? kp_xstrdup(mode) : NULL;
	json_object *args = kp_json_get(ex, "args");
	if (args && !json_object_is_type(args, json_type_array))
		return kp_fail(err, KP_ERR_INPUT, "%s.args: expected a list", where);
	size_t na = args ? json_object_array_length(args) : 0;
	e->args = kp_xcalloc(na + 1, sizeof(char *));
	for (size_t i = 0; i < na; i++) {
		json_object *a = json_object_array_get_idx(args, i);
		if (!json_object_is_type(a, json_type_string) && !json_object_is_type(a, json_type_int) &&
		    !json_object_is_type(a, json_type_double))
			return kp_fail(err, KP_ERR_INPUT, "%s.args[%zu]: expected a string", where, i);
		e->args[i] = kp_xstrdup(json_object_get_string(a));
	}
	json_object *env = kp_json_get(ex, "env");
	if (env && !json_object_is_type(env, json_type_array))
		return kp_fail(err, KP_ERR_INPUT, "%s.env: expected a list of {name, value}", where);
	size_t ne = env ? json_object_array_length(env) : 0;
	e->env = kp_xcalloc(ne + 1, sizeof(*e->env));
	for (size_t i = 0; i < ne; i++) {
		json_object *v = json_object_array_get_idx(env, i);
		const char *n = kp_json_str(v, "name"), *val = kp_json_str(v, "value");
		if (!n || !*n || strchr(n, '='))
			return kp_fail(err, KP_ERR_INPUT, "%s.env[%zu].name: expected a variable name", where, i);
		e->env[i].name = kp_xstrdup(n);
		e->env[i].value = kp_xstrdup(val ? val : "");
		e->nenv++;
	}
	return KP_OK;
}

static void exec_free(kp_exec_config *e)
{
	if (!e)
		return;
	free(e->api_version);
	free(e->command);
	for (char **a = e->args; a && *a; a++)
		free(*a);
	free(e->args);
	for (size_t i = 0; i < e->nenv; i++) {
		free(e->env[i].name);
		free(e->env[i].value);
	}
	free(e->env);
	free(e->install_hint);
	free(e->interactive_mode);
	free(e->where);
	free(e);
}

void kp_kubeconfig_release(kp_kubeconfig *k)
{
	if (!k)
		return;
	char *wipe[] = {k->key_pem, k->token, k->password};
	for (size_t i = 0; i < 3; i++)
		if (wipe[i])
			memset(wipe[i], 0, strlen(wipe[i]));
	char *all[] = {k->source,   k->context,  k->cluster_name, k->user_name,       k->server,
		       k->ca_file,  k->ca_pem,   k->tls_server_name, k->proxy_url,    k->cert_file,
		       k->key_file, k->cert_pem, k->key_pem,      k->token,           k->token_file,
		       k->username, k->password, k->where_user};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free(all[i]);
	exec_free(k->exec);
	memset(k, 0, sizeof(*k));
}

static char *join_files(const merged_t *m)
{
	kp_buf b;
	kp_buf_init(&b);
	for (size_t i = 0; i < m->nfiles; i++)
		kp_buf_printf(&b, "%s%s", i ? ":" : "", m->files[i]);
	return kp_buf_detach(&b);
}

static char *names_of(const entry_t *e, size_t n)
{
	kp_buf b;
	kp_buf_init(&b);
	for (size_t i = 0; i < n && i < 20; i++)
		kp_buf_printf(&b, "%s%s", i ? ", " : "", e[i].name);
	if (n > 20)
		kp_buf_printf(&b, ", and %zu more", n - 20);
	if (!n)
		kp_buf_puts(&b, "none");
	return kp_buf_detach(&b);
}

static kp_status resolve_context(merged_t *m, const char *want, kp_kubeconfig *k, kp_error *err)
{
	char *files = join_files(m);
	k->source = files;
	const char *ctx = want ? want : m->current_context;
	if (!ctx) {
		char *names = names_of(m->contexts.items, m->contexts.len);
		kp_status s = kp_fail(err, KP_ERR_USAGE,
				      "%s: current-context is not set; choose one with --context NAME (contexts: %s)", files,
				      names);
		free(names);
		return s;
	}
	const entry_t *ce = find_entry(m->contexts.items, m->contexts.len, ctx);
	if (!ce) {
		char *names = names_of(m->contexts.items, m->contexts.len);
		kp_status s = kp_fail(err, KP_ERR_USAGE, "%s: context \"%s\" not found%s (contexts: %s)", files, ctx,
				      want ? " (--context)" : " (current-context)", names);
		free(names);
		return s;
	}
	k->context = kp_xstrdup(ctx);
	char *cwhere = where_of(ce->file, "contexts", ce->name, "context");
	const char *cl = NULL, *us = NULL;
	kp_status s = field_str(cwhere, ce->body, "cluster", &cl, err);
	if (!s)
		s = field_str(cwhere, ce->body, "user", &us, err);
	if (!s && (!cl || !*cl))
		s = kp_fail(err, KP_ERR_INPUT, "%s.cluster: missing", cwhere);
	const entry_t *clu = s ? NULL : find_entry(m->clusters.items, m->clusters.len, cl);
	if (!s && !clu) {
		char *names = names_of(m->clusters.items, m->clusters.len);
		s = kp_fail(err, KP_ERR_USAGE, "%s.cluster: cluster \"%s\" is not defined in %s (clusters: %s)", cwhere,
			    cl, files, names);
		free(names);
	}
	const entry_t *use = NULL;
	if (!s && us && *us) {
		use = find_entry(m->users.items, m->users.len, us);
		if (!use) {
			char *names = names_of(m->users.items, m->users.len);
			s = kp_fail(err, KP_ERR_USAGE, "%s.user: user \"%s\" is not defined in %s (users: %s)", cwhere, us,
				    files, names);
			free(names);
		}
	}
	free(cwhere);
	if (s)
		return s;
	/* the cluster */
	k->cluster_name = kp_xstrdup(clu->name);
	char *where = where_of(clu->file, "clusters", clu->name, "cluster");
	const char *server = NULL, *tsn = NULL, *proxy = NULL;
	if (!clu->body)
		s = kp_fail(err, KP_ERR_INPUT, "%s: missing", where);
	if (!s)
		s = field_str(where, clu->body, "server", &server, err);
	if (!s && (!server || !*server))
		s = kp_fail(err, KP_ERR_INPUT, "%s.server: missing (the API server's URL)", where);
	if (!s)
		s = field_bool(where, clu->body, "insecure-skip-tls-verify", &k->insecure, err);
	if (!s)
		s = field_str(where, clu->body, "tls-server-name", &tsn, err);
	if (!s)
		s = field_str(where, clu->body, "proxy-url", &proxy, err);
	if (!s)
		s = file_or_data(where, clu->file, clu->body, "certificate-authority", &k->ca_file, &k->ca_pem, err);
	if (!s && server && strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
		s = kp_fail(err, KP_ERR_INPUT, "%s.server: \"%s\" is not an https:// or http:// URL", where, server);
	free(where);
	if (s)
		return s;
	k->server = kp_xstrdup(server);
	k->tls_server_name = tsn && *tsn ? kp_xstrdup(tsn) : NULL;
	k->proxy_url = proxy && *proxy ? kp_xstrdup(proxy) : NULL;
	if (!use)
		return KP_OK; /* no user: anonymous, as kubectl sends it */
	/* the user */
	k->user_name = kp_xstrdup(use->name);
	where = where_of(use->file, "users", use->name, "user");
	k->where_user = kp_xstrdup(where);
	json_object *u = use->body;
	const char *tok = NULL, *tokf = NULL, *user = NULL, *pass = NULL;
	if (u && !s)
		s = field_str(where, u, "token", &tok, err);
	if (u && !s)
		s = field_str(where, u, "tokenFile", &tokf, err);
	if (u && !s)
		s = field_str(where, u, "username", &user, err);
	if (u && !s)
		s = field_str(where, u, "password", &pass, err);
	if (u && !s)
		s = file_or_data(where, use->file, u, "client-certificate", &k->cert_file, &k->cert_pem, err);
	if (u && !s)
		s = file_or_data(where, use->file, u, "client-key", &k->key_file, &k->key_pem, err);
	if (u && !s && (k->cert_file || k->cert_pem) != (k->key_file || k->key_pem))
		s = kp_fail(err, KP_ERR_INPUT, "%s: %s without %s", where,
			    k->cert_file || k->cert_pem ? "client-certificate" : "client-key",
			    k->cert_file || k->cert_pem ? "client-key" : "client-certificate");
	json_object *ap = u ? kp_json_get(u, "auth-provider") : NULL;
	if (ap && !s) {
		const char *apn = kp_json_str(ap, "name");
		const char *idt = kp_json_str(kp_json_get(ap, "config"), "id-token");
		if (apn && strcmp(apn, "oidc") == 0 && idt && *idt && !tok)
			tok = idt; /* refreshing it needs the provider: the token as it stands */
		else if (!(apn && strcmp(apn, "oidc") == 0))
			s = kp_fail(err, KP_ERR_USAGE,
				    "%s.auth-provider: \"%s\" is not supported (kubectl removed the built-in gcp and azure "
				    "providers too); use its exec plugin (gke-gcloud-auth-plugin, kubelogin)",
				    where, apn ? apn : "");
		else if (!tok)
			s = kp_fail(err, KP_ERR_USAGE, "%s.auth-provider.config.id-token: missing", where);
	}
	json_object *ex = u ? kp_json_get(u, "exec") : NULL;
	if (ex && !s)
		s = read_exec(where, use->file, ex, &k->exec, err);
	if (!s && tokf && *tokf) {
		k->token_file = resolve_path(use->file, tokf);
		s = check_readable(where, "tokenFile", k->token_file, err);
	}
	free(where);
	if (s)
		return s;
	k->token = tok && *tok ? kp_xstrdup(tok) : NULL;
	k->username = user && *user ? kp_xstrdup(user) : NULL;
	k->password = pass ? kp_xstrdup(pass) : NULL;
	return KP_OK;
}

static kp_status in_cluster(kp_kubeconfig *k, bool *found, kp_error *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	if (!host || !*host || !port || !*port)
		return KP_OK;
	const char *dir = getenv("KOPILOT_SERVICEACCOUNT_DIR");
	if (!dir || !*dir)
		dir = KP_SERVICEACCOUNT_DIR;
	*found = true;
	k->source = kp_xasprintf("in-cluster service account (%s)", dir);
	/* an IPv6 service address goes in brackets */
	k->server = kp_xasprintf(strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
	k->token_file = kp_path_join(dir, "token");
	k->ca_file = kp_path_join(dir, "ca.crt");
	k->where_user = kp_xasprintf("the service account (%s)", dir);
	kp_status s = check_readable(k->source, "token", k->token_file, err);
	if (!s)
		s = check_readable(k->source, "ca.crt", k->ca_file, err);
	return s;
}

kp_status kp_kubeconfig_load(const char *explicit_path, const char *context, kp_kubeconfig *out, bool *found,
			     kp_error *err)
{
	memset(out, 0, sizeof(*out));
	*found = false;
	merged_t m;
	memset(&m, 0, sizeof(m));
	kp_status s = KP_OK;
	if (explicit_path) {
		if (!kp_file_exists(explicit_path))
			return kp_fail(err, KP_ERR_USAGE, "--kubeconfig %s: no such file", explicit_path);
		s = read_one(&m, explicit_path, err);
	} else if (getenv("KUBECONFIG") && *getenv("KUBECONFIG")) {
		char *list = kp_xstrdup(getenv("KUBECONFIG"));
		char *save = NULL;
		for (char *p = strtok_r(list, ":", &save); p && !s; p = strtok_r(NULL, ":", &save)) {
			bool dup = false; /* kubectl reads a file named twice once */
			for (size_t i = 0; i < m.nfiles; i++)
				dup = dup || strcmp(m.files[i], p) == 0;
			if (*p && !dup && kp_file_exists(p))
				s = read_one(&m, p, err);
		}
		free(list);
	} else if (getenv("HOME")) {
		char *def = kp_path_join(getenv("HOME"), ".kube/config");
		if (kp_file_exists(def))
			s = read_one(&m, def, err);
		free(def);
	}
	if (!s && m.nfiles == 0) {
		merged_release(&m);
		if (context)
			return kp_fail(err, KP_ERR_USAGE, "--context %s: no kubeconfig to find it in (KUBECONFIG, "
						  "~/.kube/config or --kubeconfig FILE)", context);
		return in_cluster(out, found, err);
	}
	if (!s) {
		*found = true;
		s = resolve_context(&m, context, out, err);
	}
	merged_release(&m);
	return s;
}

/* ---- credentials that change ---- */

struct kp_kube_auth {
	pthread_mutex_t lock;
	const kp_kubeconfig *k;
	char *token; /* the current one (tokenFile or exec) */
	char *cert_pem, *key_pem;
	double read_at;   /* tokenFile: when it was read (monotonic) */
	int64_t expires;  /* exec: expirationTimestamp, 0 = none given */
	bool have;
};

kp_kube_auth *kp_kube_auth_new(const kp_kubeconfig *k)
{
	if (!k->exec && !k->token_file)
		return NULL;
	kp_kube_auth *a = kp_xcalloc(1, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	a->k = k;
	return a;
}

static void forget(kp_kube_auth *a)
{
	kp_http_auth t = {a->token, a->cert_pem, a->key_pem};
	kp_http_auth_release(&t);
	a->token = a->cert_pem = a->key_pem = NULL;
	a->have = false;
}

void kp_kube_auth_free(kp_kube_auth *a)
{
	if (!a)
		return;
	forget(a);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static kp_status read_token_file(kp_kube_auth *a, kp_error *err)
{
	char *text = NULL;
	size_t len = 0;
	kp_status s = kp_read_file(a->k->token_file, &text, &len, err);
	if (s)
		return kp_error_prefix(err, "%s.tokenFile", a->k->where_user ? a->k->where_user : "kubeconfig");
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (!len) {
		free(text);
		return kp_fail(err, KP_ERR_USAGE, "%s.tokenFile: %s is empty", a->k->where_user, a->k->token_file);
	}
	forget(a);
	a->token = text;
	a->read_at = kp_monotonic_seconds();
	a->have = true;
	return KP_OK;
}

static kp_status run_plugin(kp_kube_auth *a, kp_buf *out, kp_error *err)
{
	const kp_exec_config *e = a->k->exec;
	/* the environment: ours, the plugin's own, and KUBERNETES_EXEC_INFO */
	json_object *info = json_object_new_object();
	json_object_object_add(info, "apiVersion", json_object_new_string(e->api_version));
	json_object_object_add(info, "kind", json_object_new_string("ExecCredential"));
	json_object *spec = json_object_new_object();
	json_object_object_add(spec, "interactive", json_object_new_boolean(0));
	if (e->provide_cluster_info) {
		json_object *cl = json_object_new_object();
		json_object_object_add(cl, "server", json_object_new_string(a->k->server));
		if (a->k->tls_server_name)
			json_object_object_add(cl, "tls-server-name", json_object_new_string(a->k->tls_server_name));
		json_object_object_add(cl, "insecure-skip-tls-verify", json_object_new_boolean(a->k->insecure));
		if (a->k->ca_pem) {
			/* certificate-authority-data as base64, as the API's []byte */
			kp_buf b64;
			kp_buf_init(&b64);
			kp_base64_append(&b64, a->k->ca_pem, strlen(a->k->ca_pem), 0);
			json_object_object_add(cl, "certificate-authority-data",
					       json_object_new_string(kp_buf_cstr(&b64)));
			kp_buf_release(&b64);
		}
		json_object_object_add(spec, "cluster", cl);
	}
	json_object_object_add(info, "spec", spec);
	size_t nenv = 0;
	while (environ[nenv])
		nenv++;
	char **envp = kp_xcalloc(nenv + e->nenv + 2, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < nenv; i++) {
		bool over = strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21) == 0;
		for (size_t j = 0; j < e->nenv && !over; j++) {
			size_t l = strlen(e->env[j].name);
			over = strncmp(environ[i], e->env[j].name, l) == 0 && environ[i][l] == '=';
		}
		if (!over)
			envp[k++] = kp_xstrdup(environ[i]);
	}
	for (size_t j = 0; j < e->nenv; j++)
		envp[k++] = kp_xasprintf("%s=%s", e->env[j].name, e->env[j].value);
	envp[k++] = kp_xasprintf("KUBERNETES_EXEC_INFO=%s", json_object_to_json_string_ext(info, JSON_C_TO_STRING_PLAIN));
	json_object_put(info);
	size_t na = 0;
	while (e->args[na])
		na++;
	char **argv = kp_xcalloc(na + 2, sizeof(char *));
	argv[0] = e->command;
	for (size_t i = 0; i < na; i++)
		argv[i + 1] = e->args[i];

	kp_buf errb;
	kp_buf_init(&errb);
	kp_proc_result pr;
	kp_status s = kp_process_run(argv, envp, EXEC_TIMEOUT_SECONDS, out, EXEC_MAX_OUTPUT, &errb, 4096, &pr, err);
	if (s) {
		s = kp_fail(err, KP_ERR_USAGE, "%s.command: %s%s%s", e->where, err->msg, e->install_hint ? ". " : "",
			    e->install_hint ? e->install_hint : "");
	} else if (pr.timed_out) {
		s = kp_fail(err, KP_ERR_USAGE, "%s: %s did not answer within %d s", e->where, e->command,
			    EXEC_TIMEOUT_SECONDS);
	} else if (!pr.exited || pr.code != 0) {
		/* its last line of stderr says why (never its stdout: that
		 * could hold a credential) */
		char *last = (char *)kp_buf_cstr(&errb);
		size_t l = strlen(last);
		while (l > 0 && (last[l - 1] == '\n' || last[l - 1] == '\r'))
			last[--l] = '\0';
		char *nl = strrchr(last, '\n');
		s = kp_fail(err, KP_ERR_USAGE, "%s: %s failed (%s %d)%s%s", e->where, e->command,
			    pr.exited ? "exit code" : "signal", pr.code, *last ? ": " : "", nl ? nl + 1 : last);
	}
	kp_buf_release(&errb);
	for (size_t i = 0; i < k; i++)
		free(envp[i]);
	free(envp);
	free(argv);
	return s;
}

static kp_status exec_credential(kp_kube_auth *a, kp_error *err)
{
	const kp_exec_config *e = a->k->exec;
	kp_buf out;
	kp_buf_init(&out);
	kp_status s = run_plugin(a, &out, err);
	json_object *doc = NULL;
	if (!s) {
		enum json_tokener_error je;
		doc = json_tokener_parse_verbose(kp_buf_cstr(&out), &je);
		if (!doc || !json_object_is_type(doc, json_type_object))
			s = kp_fail(err, KP_ERR_INPUT, "%s: %s printed no ExecCredential (expected JSON on stdout)",
				    e->where, e->command);
	}
	memset(out.data ? out.data : (char *)"", 0, out.len); /* it held the credential */
	kp_buf_release(&out);
	const char *kind = s ? NULL : kp_json_str(doc, "kind");
	const char *api = s ? NULL : kp_json_str(doc, "apiVersion");
	if (!s && (!kind || strcmp(kind, "ExecCredential") != 0))
		s = kp_fail(err, KP_ERR_INPUT, "%s: %s printed kind \"%s\", expected ExecCredential", e->where, e->command,
			    kind ? kind : "");
	if (!s && (!api || strcmp(api, e->api_version) != 0))
		s = kp_fail(err, KP_ERR_INPUT, "%s: %s answered apiVersion \"%s\", the kubeconfig asks for %s", e->where,
			    e->command, api ? api : "", e->api_version);
	json_object *st = s ? NULL : kp_json_get(doc, "status");
	const char *tok = kp_json_str(st, "token"), *cert = kp_json_str(st, "clientCertificateData"),
		   *key = kp_json_str(st, "clientKeyData"), *exp = kp_json_str(st, "expirationTimestamp");
	if (!s && !(tok && *tok) && !(cert && *cert && key && *key))
		s = kp_fail(err, KP_ERR_INPUT, "%s: %s gave neither status.token nor status.clientCertificateData and "
				       "clientKeyData", e->where, e->command);
	int64_t when = 0;
	if (!s && exp && !kp_time_parse(exp, &when))
		s = kp_fail(err, KP_ERR_INPUT, "%s: %s: status.expirationTimestamp \"%s\" is not an RFC 3339 time",
			    e->where, e->command, exp);
	if (!s) {
		forget(a);
		a->token = tok && *tok ? kp_xstrdup(tok) : NULL;
		a->cert_pem = cert && *cert ? kp_xstrdup(cert) : NULL;
		a->key_pem = key && *key ? kp_xstrdup(key) : NULL;
		a->expires = when;
		a->have = true;
	}
	json_object_put(doc);
	return s;
}

typedef struct {
	kp_kube_auth *a;
	bool refresh;
	kp_http_auth *out;
} authcall_t;

static kp_status auth_locked(void *arg, kp_error *err)
{
	authcall_t *c = arg;
	kp_kube_auth *a = c->a;
	kp_status s = KP_OK;
	if (a->k->exec) {
		bool stale = !a->have || c->refresh || (a->expires && (int64_t)time(NULL) + 10 >= a->expires);
		if (stale)
			s = exec_credential(a, err);
	} else if (a->k->token_file) {
		bool stale = !a->have || c->refresh || kp_monotonic_seconds() - a->read_at >= TOKEN_FILE_TTL;
		if (stale)
			s = read_token_file(a, err);
	}
	if (!s) {
		c->out->token = a->token ? kp_xstrdup(a->token) : NULL;
		c->out->cert_pem = a->cert_pem ? kp_xstrdup(a->cert_pem) : NULL;
		c->out->key_pem = a->key_pem ? kp_xstrdup(a->key_pem) : NULL;
	}
	return s;
}

kp_status kp_kube_auth_fn(void *ud, bool refresh, kp_http_auth *out, kp_error *err)
{
	kp_kube_auth *a = ud;
	authcall_t c = {a, refresh, out};
	pthread_mutex_lock(&a->lock);
	kp_status s = auth_locked(&c, err);
	pthread_mutex_unlock(&a->lock);
	return s;
}

void kp_kubeconfig_http_opts(const kp_kubeconfig *k, kp_kube_auth *auth, kp_http_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->what = "the Kubernetes API server";
	o->base_url = k->server;
	o->read_only = true;
	o->ca_file = k->ca_file;
	o->ca_pem = k->ca_pem;
	o->cert_file = k->cert_file;
	o->key_file = k->key_file;
	o->cert_pem = k->cert_pem;
	o->key_pem = k->key_pem;
	o->insecure = k->insecure;
	o->tls_server_name = k->tls_server_name;
	o->proxy = k->proxy_url;
	o->token = k->token;
	o->username = k->username;
	o->password = k->password;
	if (auth) {
		o->auth = kp_kube_auth_fn;
		o->auth_ud = auth;
	}
	o->gzip = true;
}
