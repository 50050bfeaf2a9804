/*
 * git.c - see git.h.
 */
#define _GNU_SOURCE /* pipe2 */
#include "stages/render/gitops/git.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define KP_GIT_EMAIL "kopilot@localhost"

typedef struct {
	const char *token, *token_user, *ssh_key;
	const char *known_hosts; /* NULL: ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts */
	const char *url;	 /* for the ssh port */
	int tries;
} cred_ctx;

/* what every callback of one fetch or push gets */
typedef struct {
	cred_ctx *cred;
	kp_buf *rejected; /* push: the references the server refused, with why */
} cb_payload;

struct kp_git {
	git_repository *repo;
	char *workdir, *base, *url;
	git_oid base_oid;
	cred_ctx cred;
};

static kp_status git_failed(kp_error *err, const char *what, const char *url)
{
	const git_error *e = git_error_last();
	return kp_fail(err, KP_ERR_NETWORK, "git %s %s: %s", what, url,
		       e && e->message ? e->message : "failed (libgit2 gave no reason)");
}

/* asked by libgit2 for each connection; a refused answer is asked again,
 * so the tries are counted and a wrong token ends as an error */
static int credentials(git_credential **out, const char *url, const char *user_from_url, unsigned int allowed,
		       void *payload)
{
	(void)url;
	cred_ctx *c = ((cb_payload *)payload)->cred;
	if (++c->tries > 3) {
		git_error_set_str(GIT_ERROR_NET, "authentication failed (the server refused the credentials)");
		return GIT_EAUTH;
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && c->token)
		return git_credential_userpass_plaintext_new(out, c->token_user ? c->token_user : "x-access-token",
							     c->token);
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		const char *u = user_from_url ? user_from_url : "git";
		return c->ssh_key ? git_credential_ssh_key_new(out, u, NULL, c->ssh_key, NULL)
				  : git_credential_ssh_key_from_agent(out, u);
	}
	git_error_set_str(GIT_ERROR_NET, "the server asks for credentials: set GIT_TOKEN (https) or an ssh key");
	return GIT_EAUTH;
}

/* "ssh-keygen -F NAME -f FILE": the known_hosts lines for NAME, hashed
 * names included (the real tool reads every form the file may have);
 * appended to out. False when ssh-keygen cannot be run. */
static bool known_lines(const char *name, const char *file, kp_buf *out)
{
	int po[2];
	if (pipe2(po, O_CLOEXEC) != 0)
		return false;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	char *argv[] = {"ssh-keygen", "-F", (char *)name, "-f", (char *)file, NULL};
	pid_t pid = -1;
	int rc = posix_spawnp(&pid, "ssh-keygen", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	if (rc == 0) {
		char buf[4096];
		ssize_t n;
		while ((n = read(po[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
			if (n > 0 && out->len < (1u << 20))
				kp_buf_add(out, buf, (size_t)n);
		int st = 0;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	close(po[0]);
	return rc == 0;
}

/* The ssh server's host key must be in known_hosts (libgit2 accepts any
 * key unless told): the raw key is compared with the entries ssh-keygen
 * finds for the host ("[host]:port" off port 22). TLS certificates are
 * left to libgit2's own verification. */
static int check_hostkey(git_cert *cert, int valid, const char *host, void *payload)
{
	(void)valid;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH;
	const cred_ctx *c = ((cb_payload *)payload)->cred;
	const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
	if (!(hk->type & GIT_CERT_SSH_RAW)) {
		git_error_set_str(GIT_ERROR_SSH, "the ssh server's host key cannot be checked (no raw key)");
		return GIT_ECERTIFICATE;
	}
	/* the port: ssh://[user@]host:PORT/... */
	long port = 22;
	const char *h = c->url && !strncmp(c->url, "ssh://", 6) ? c->url + 6 : NULL;
	const char *at = h ? strchr(h, '@') : NULL, *sl = h ? strchr(h, '/') : NULL;
	if (at && sl && at < sl)
		h = at + 1;
	const char *colon = h ? strchr(h, ':') : NULL;
	if (colon && sl && colon < sl)
		port = strtol(colon + 1, NULL, 10);
	char name[300];
	if (port != 22)
		snprintf(name, sizeof(name), "[%s]:%ld", host, port);
	else
		snprintf(name, sizeof(name), "%s", host);
	kp_buf key, lines;
	kp_buf_init(&key), kp_buf_init(&lines);
	kp_base64_append(&key, hk->hostkey, hk->hostkey_len, 0);
	char *home = getenv("HOME") && *getenv("HOME") ? kp_xasprintf("%s/.ssh/known_hosts", getenv("HOME")) : NULL;
	const char *files[2] = {c->known_hosts ? c->known_hosts : home, c->known_hosts ? NULL : "/etc/ssh/ssh_known_hosts"};
	bool ran = false;
	for (int i = 0; i < 2; i++)
		if (files[i] && access(files[i], R_OK) == 0)
			ran = known_lines(name, files[i], &lines) || ran;
	int rc = GIT_ECERTIFICATE;
	size_t entries = 0;
	for (char *save = NULL, *l = strtok_r((char *)kp_buf_cstr(&lines), "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (*l == '#')
			continue;
		char *f1 = strchr(l, ' '), *f2 = f1 ? strchr(f1 + 1, ' ') : NULL;
		if (!f2)
			continue;
		entries++;
		char *end = strpbrk(f2 + 1, " \t\r");
		if (end)
			*end = '\0';
		if (!strcmp(f2 + 1, kp_buf_cstr(&key)))
			rc = 0;
	}
	const char *where = c->known_hosts ? c->known_hosts : "~/.ssh/known_hosts";
	if (rc && entries)
		git_error_set(GIT_ERROR_SSH,
			      "the host key of %s is not the one %s has for it: refusing to connect (a changed key, or "
			      "someone in between)",
			      name, where);
	else if (rc && !ran && (c->known_hosts || home))
		git_error_set(GIT_ERROR_SSH, "cannot check the host key of %s: ssh-keygen (openssh-client) is not installed",
			      name);
	else if (rc)
		git_error_set(GIT_ERROR_SSH,
			      "%s is not in %s: add its key (ssh-keyscan%s%s %s >> FILE) and set pr.ssh_known_hosts", name,
			      where, port != 22 ? " -p " : "", port != 22 ? strchr(name, ':') + 1 : "", host);
	kp_buf_release(&key), kp_buf_release(&lines);
	free(home);
	return rc;
}

static void remote_callbacks(git_remote_callbacks *cb, cb_payload *p)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = credentials;
	cb->certificate_check = check_hostkey;
	cb->payload = p;
	p->cred->tries = 0;
}

static kp_status fetch(kp_git *g, kp_error *err)
{
	git_remote *remote = NULL;
	if (git_remote_lookup(&remote, g->repo, "origin"))
		return git_failed(err, "remote origin of", g->workdir);
	const char *have = git_remote_url(remote);
	if (!have || strcmp(have, g->url)) {
		kp_status s = kp_fail(err, KP_ERR_USAGE,
				      "%s: the cache holds a clone of %s, not of %s: remove it or give another", g->workdir,
				      have ? have : "(no url)", g->url);
		git_remote_free(remote); /* have is the remote's */
		return s;
	}
	git_fetch_options fo;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	cb_payload pl = {&g->cred, NULL};
	remote_callbacks(&fo.callbacks, &pl);
	fo.prune = GIT_FETCH_PRUNE;
	int rc = git_remote_fetch(remote, NULL, &fo, NULL);
	git_remote_free(remote);
	return rc ? git_failed(err, "fetch", g->url) : KP_OK;
}

kp_status kp_git_open(const kp_git_opts *o, kp_git **out, kp_error *err)
{
	git_libgit2_init();
	kp_git *g = kp_xcalloc(1, sizeof(*g));
	g->workdir = kp_xstrdup(o->cache_dir);
	g->base = kp_xstrdup(o->base ? o->base : "main");
	g->url = kp_xstrdup(o->url);
	g->cred = (cred_ctx){o->token, o->token_user, o->ssh_key, o->ssh_known_hosts, g->url, 0};
	kp_status s = KP_OK;
	if (git_repository_open(&g->repo, o->cache_dir) == 0) {
		s = fetch(g, err);
	} else {
		git_clone_options co;
		git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
		cb_payload pl = {&g->cred, NULL};
		remote_callbacks(&co.fetch_opts.callbacks, &pl);
		co.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE;
		if (git_clone(&g->repo, o->url, o->cache_dir, &co))
			s = git_failed(err, "clone", o->url);
	}
	char ref[512];
	snprintf(ref, sizeof(ref), "refs/remotes/origin/%s", g->base);
	if (!s && git_reference_name_to_id(&g->base_oid, g->repo, ref))
		s = kp_fail(err, KP_ERR_USAGE, "%s has no branch %s (pr.base)", o->url, g->base);
	/* the working tree is the base's, for reading; HEAD detached on it */
	git_commit *c = NULL;
	git_tree *t = NULL;
	if (!s && (git_commit_lookup(&c, g->repo, &g->base_oid) || git_commit_tree(&t, c)))
		s = git_failed(err, "read the base of", o->url);
	if (!s) {
		git_checkout_options ck;
		git_checkout_options_init(&ck, GIT_CHECKOUT_OPTIONS_VERSION);
		ck.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
		if (git_checkout_tree(g->repo, (git_object *)t, &ck) || git_repository_set_head_detached(g->repo, &g->base_oid))
			s = git_failed(err, "check out the base of", o->url);
	}
	git_tree_free(t);
	git_commit_free(c);
	if (s) {
		kp_git_close(g);
		*out = NULL;
		return s;
	}
	*out = g;
	return KP_OK;
}

const char *kp_git_workdir(const kp_git *g) { return g->workdir; }

void kp_git_close(kp_git *g)
{
	if (!g)
		return;
	git_repository_free(g->repo);
	free(g->workdir), free(g->base), free(g->url);
	free(g);
	git_libgit2_shutdown();
}

static int on_ref_status(const char *refname, const char *status, void *data)
{
	kp_buf *r = ((cb_payload *)data)->rejected;
	if (status)
		kp_buf_printf(r, "%s%s: %s", r->len ? "; " : "", refname, status);
	return 0;
}

/* every commit on the remote branch since the base is kopilot's */
static kp_status ours(kp_git *g, const git_oid *tip, bool *mine, kp_error *err)
{
	git_revwalk *w = NULL;
	*mine = true;
	if (git_revwalk_new(&w, g->repo) || git_revwalk_push(w, tip) || git_revwalk_hide(w, &g->base_oid)) {
		git_revwalk_free(w);
		return git_failed(err, "walk the history of", g->url);
	}
	git_oid id;
	while (*mine && git_revwalk_next(&id, w) == 0) {
		git_commit *c = NULL;
		if (git_commit_lookup(&c, g->repo, &id))
			continue;
		const git_signature *a = git_commit_author(c), *cm = git_commit_committer(c);
		if (!a || !a->email || strcmp(a->email, KP_GIT_EMAIL) || !cm || !cm->email || strcmp(cm->email, KP_GIT_EMAIL))
			*mine = false;
		git_commit_free(c);
	}
	git_revwalk_free(w);
	return KP_OK;
}

kp_status kp_git_publish(kp_git *g, const char *branch, const char *const *paths, const char *const *texts,
			 const size_t *lens, size_t n, const char *message, int64_t when, kp_git_result *res,
			 kp_error *err)
{
	*res = KP_GIT_UNCHANGED;
	kp_status s = KP_OK;
	git_commit *base = NULL;
	git_tree *base_tree = NULL;
	git_tree_update *up = kp_xcalloc(n ? n : 1, sizeof(*up));
	if (git_commit_lookup(&base, g->repo, &g->base_oid) || git_commit_tree(&base_tree, base))
		s = git_failed(err, "read the base of", g->url);
	for (size_t i = 0; !s && i < n; i++) {
		git_tree_entry *e = NULL;
		up[i].action = GIT_TREE_UPDATE_UPSERT;
		up[i].path = paths[i];
		up[i].filemode = GIT_FILEMODE_BLOB;
		if (git_tree_entry_bypath(&e, base_tree, paths[i]) == 0) {
			up[i].filemode = git_tree_entry_filemode(e); /* an executable stays executable */
			git_tree_entry_free(e);
		}
		if (git_blob_create_from_buffer(&up[i].id, g->repo, texts[i], lens[i]))
			s = git_failed(err, "write a blob into", g->workdir);
	}
	git_oid tree_oid;
	if (!s && git_tree_create_updated(&tree_oid, g->repo, base_tree, n, up))
		s = git_failed(err, "build the tree in", g->workdir);
	char remote_ref[512], local_ref[512];
	snprintf(remote_ref, sizeof(remote_ref), "refs/remotes/origin/%s", branch);
	snprintf(local_ref, sizeof(local_ref), "refs/heads/%s", branch);
	git_oid tip;
	bool exists = !s && git_reference_name_to_id(&tip, g->repo, remote_ref) == 0;
	if (exists) {
		bool mine = true;
		s = ours(g, &tip, &mine, err);
		git_commit *tc = NULL;
		if (!s && !mine) {
			*res = KP_GIT_FOREIGN;
		} else if (!s && git_commit_lookup(&tc, g->repo, &tip) == 0 && git_oid_equal(git_commit_tree_id(tc), &tree_oid)) {
			*res = KP_GIT_UNCHANGED;
		} else if (!s) {
			*res = KP_GIT_UPDATED;
		}
		git_commit_free(tc);
	} else if (!s) {
		*res = KP_GIT_CREATED;
	}
	if (!s && (*res == KP_GIT_CREATED || *res == KP_GIT_UPDATED)) {
		git_signature *sig = NULL;
		git_tree *tree = NULL;
		git_oid commit;
		git_reference *ref = NULL;
		const git_commit *parents[1] = {base};
		if (git_signature_new(&sig, "kopilot", KP_GIT_EMAIL, (git_time_t)when, 0) ||
		    git_tree_lookup(&tree, g->repo, &tree_oid) ||
		    git_commit_create(&commit, g->repo, NULL, sig, sig, "UTF-8", message, tree, 1, parents) ||
		    git_reference_create(&ref, g->repo, local_ref, &commit, 1, "kopilot: pull request branch"))
			s = git_failed(err, "commit in", g->workdir);
		git_reference_free(ref);
		git_tree_free(tree);
		git_signature_free(sig);
		if (!s) {
			/* replacing kopilot's own branch is a forced push; a new
			 * branch is not (if one appeared meanwhile, the server
			 * refuses and nothing is lost) */
			char spec[1100];
			snprintf(spec, sizeof(spec), "%s%s:%s", *res == KP_GIT_UPDATED ? "+" : "", local_ref, local_ref);
			char *specs[1] = {spec};
			git_strarray refspecs = {specs, 1};
			git_remote *remote = NULL;
			git_push_options po;
			git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
			kp_buf rejected;
			kp_buf_init(&rejected);
			cb_payload pl = {&g->cred, &rejected};
			remote_callbacks(&po.callbacks, &pl);
			po.callbacks.push_update_reference = on_ref_status;
			if (git_remote_lookup(&remote, g->repo, "origin") || git_remote_push(remote, &refspecs, &po))
				s = git_failed(err, "push to", g->url);
			else if (rejected.len)
				s = kp_fail(err, KP_ERR_NETWORK, "git push to %s: rejected: %s", g->url, kp_buf_cstr(&rejected));
			git_remote_free(remote);
			kp_buf_release(&rejected);
			if (!s) { /* as a fetch would have it now */
				git_reference *rr = NULL;
				git_reference_create(&rr, g->repo, remote_ref, &commit, 1, "kopilot: pushed");
				git_reference_free(rr);
			}
		}
	}
	free(up);
	git_tree_free(base_tree);
	git_commit_free(base);
	return s;
}
