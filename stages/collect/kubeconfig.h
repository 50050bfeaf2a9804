/*
 * kubeconfig.h - where the API server is and how to authenticate to it,
 * found the way kubectl finds it (client-go's loading rules):
 *
 *   1. --kubeconfig FILE: that file alone (it must exist);
 *   2. else KUBECONFIG: a ':'-separated list of files, merged: for each
 *      named cluster, user and context the first file that defines the
 *      name wins, and so does the first current-context; files that do not
 *      exist are skipped, one that does not parse is an error;
 *   3. else ~/.kube/config when it exists;
 *   4. else, in a pod (KUBERNETES_SERVICE_HOST and _PORT set), the service
 *      account: its token (re-read as the kubelet rotates it) and CA.
 *
 * The context is --context, else current-context. Relative paths in a file
 * (certificate-authority, client-certificate, client-key, tokenFile, an
 * exec command with a '/') are relative to that file's directory.
 *
 * Credentials: token, tokenFile (re-read every minute and after a 401),
 * client certificate and key (file or -data), username/password, the oidc
 * auth-provider's id-token, and exec credential plugins
 * (client.authentication.k8s.io/v1 and v1beta1 ExecCredential, run with
 * execve, no shell, KUBERNETES_EXEC_INFO set; the credential is kept until
 * its expirationTimestamp and fetched again after a 401).
 *
 * Every problem is an error that names the file and the field:
 * "FILE: users[\"prod\"].user.client-certificate: cannot read /x: No such
 * file or directory".
 */
#ifndef KP_KUBECONFIG_H
#define KP_KUBECONFIG_H

#include "pipeline/http.h"
#include "pipeline/kp.h"

typedef struct kp_exec_env {
	char *name, *value;
} kp_exec_env;

/* An exec credential plugin as the kubeconfig describes it. */
typedef struct kp_exec_config {
	char *api_version; /* client.authentication.k8s.io/v1 or v1beta1 */
	char *command;     /* resolved when it holds a '/' */
	char **args;       /* NULL-terminated */
	kp_exec_env *env;
	size_t nenv;
	char *install_hint;
	bool provide_cluster_info;
	char *interactive_mode; /* v1: Never, IfAvailable or Always */
	char *where;            /* "FILE: users[\"NAME\"].user.exec", for messages */
} kp_exec_config;

typedef struct kp_kubeconfig {
	char *source;  /* what it was read from: "FILE", "FILE1:FILE2", "in-cluster service account" */
	char *context; /* NULL in a pod */
	char *cluster_name, *user_name;
	char *server;
	char *ca_file, *ca_pem; /* ca_pem: certificate-authority-data decoded */
	bool insecure;
	char *tls_server_name;
	char *proxy_url;
	char *cert_file, *key_file, *cert_pem, *key_pem;
	char *token;      /* a fixed token (or oidc id-token) */
	char *token_file; /* read per kp_kube_auth, cached a minute */
	char *username, *password;
	kp_exec_config *exec;
	char *where_user; /* "FILE: users[\"NAME\"]" for messages */
} kp_kubeconfig;

/* explicit: --kubeconfig (NULL: KUBECONFIG, ~/.kube/config, in-cluster);
 * context: --context (NULL: current-context). KP_ERR_USAGE for a missing
 * file, no context, a context/cluster/user that is not there; KP_ERR_INPUT
 * for a file that does not parse or a field of the wrong type. *found is
 * false (and KP_OK) when there is no kubeconfig and no pod to read. */
kp_status kp_kubeconfig_load(const char *explicit_path, const char *context, kp_kubeconfig *out, bool *found,
			     kp_error *err);
void kp_kubeconfig_release(kp_kubeconfig *k);

/* The service account's files (tests point this elsewhere with
 * KOPILOT_SERVICEACCOUNT_DIR). */
#define KP_SERVICEACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* The credentials that can change while kopilot runs (tokenFile, exec):
 * a kp_http_auth_fn with its state. NULL from kp_kube_auth_new when the
 * kubeconfig needs none (fixed token or certificate only). */
typedef struct kp_kube_auth kp_kube_auth;
kp_kube_auth *kp_kube_auth_new(const kp_kubeconfig *k);
void kp_kube_auth_free(kp_kube_auth *a);
kp_status kp_kube_auth_fn(void *ud, bool refresh, kp_http_auth *out, kp_error *err);

/* Options for the API server's http client from k (pointers into k and
 * into auth, which must outlive the client); read_only is always set. */
void kp_kubeconfig_http_opts(const kp_kubeconfig *k, kp_kube_auth *auth, kp_http_opts *o);

/* Decodes standard base64 (whitespace ignored); KP_ERR_INPUT naming what. */
kp_status kp_base64_decode(const char *in, char **out, size_t *len, const char *what, kp_error *err);

#endif
