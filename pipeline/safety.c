/*
 * safety.c - see safety.h. Classification is deliberately conservative:
 * anything it does not recognise as a read is treated as a change, and
 * anything that could escape the command (substitution, pipes into an
 * interpreter, another kubeconfig) is hard-blocked rather than parsed.
 */
#include "pipeline/safety.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const kp_builtin_protected_namespaces[3] = {"kube-system", "kube-public", "kube-node-lease"};

bool kp_safety_namespace_protected(const kp_config *cfg, const char *ns)
{
	if (!ns)
		return false;
	for (size_t i = 0; i < 3; i++)
		if (strcmp(ns, kp_builtin_protected_namespaces[i]) == 0)
			return true;
	return cfg && kp_strlist_contains(&cfg->safety.protected_namespaces, ns);
}

/* ASCII lower case of s into out (at most n - 1 bytes; the rest cut). */
static void lower_into(const char *s, char *out, size_t n)
{
	size_t i = 0;
	for (; s[i] && i + 1 < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

/* Case-insensitive substring search: both sides lowered, then strstr (a
 * byte-at-a-time strncasecmp over every command of 30,000 findings showed
 * in profiles). hay_lower is already lowered. */
static bool contains_ci(const char *hay_lower, const char *needle)
{
	char low[64];
	lower_into(needle, low, sizeof(low));
	return strstr(hay_lower, low) != NULL;
}

static const struct {
	const char *pattern;
	const char *why;
} hard_blocked[] = {
	{"rm -rf /", "recursive delete of the filesystem"},
	{"rm -fr /", "recursive delete of the filesystem"},
	{"mkfs", "formats a filesystem"},
	{"$(", "command substitution"},
	{"`", "command substitution"},
	{"--kubeconfig", "points at another kubeconfig"},
	{"KUBECONFIG=", "points at another kubeconfig"},
	{"169.254.169.254", "cloud metadata endpoint"},
	{"metadata.google.internal", "cloud metadata endpoint"},
	{"fd00:ec2::254", "cloud metadata endpoint"},
	{"/dev/sd", "raw block device"},
	{"/dev/nvme", "raw block device"},
	{":(){", "fork bomb"},
};

static const char *const interpreters[] = {"sh", "bash", "zsh", "dash", "python", "python3", "perl", "ruby", "node"};

#define MAX_WORDS 64

/* Splits on whitespace, honouring single and double quotes; enough to find
 * the verb and flags, not a shell. Returns word count. */
static size_t split_words(const char *s, char words[MAX_WORDS][128])
{
	size_t n = 0;
	while (*s && n < MAX_WORDS) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		size_t len = 0;
		char quote = 0;
		while (*s && (quote || !isspace((unsigned char)*s))) {
			if (!quote && (*s == '\'' || *s == '"')) {
				quote = *s++;
				continue;
			}
			if (quote && *s == quote) {
				quote = 0;
				s++;
				continue;
			}
			if (len < 127)
				words[n][len++] = *s;
			s++;
		}
		words[n][len] = '\0';
		n++;
	}
	return n;
}

static void decide(kp_command_decision *d, kp_risk risk, const char *why)
{
	if (risk > d->risk)
		d->risk = risk;
	if (why && !d->reason[0])
		snprintf(d->reason, sizeof(d->reason), "%s", why);
}

static void classify_line(const kp_config *cfg, const char *cmd, kp_command_decision *d);

/* A proposal of several lines (a resize and the HPA patch that goes with
 * it) runs every line, so each is classified and the worst decides: a
 * harmless first line never hides what a later one does. */
void kp_safety_classify_command(const kp_config *cfg, const char *cmd, kp_command_decision *d)
{
	if (!cmd || !strchr(cmd, '\n')) {
		classify_line(cfg, cmd, d);
		return;
	}
	memset(d, 0, sizeof(*d));
	d->risk = KP_RISK_LOW;
	const char *p = cmd;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = kp_xasprintf("%.*s", (int)len, p);
		kp_command_decision one;
		classify_line(cfg, line, &one);
		free(line);
		if (one.hard_blocked) {
			*d = one;
			return;
		}
		if (one.risk > d->risk || (!d->reason[0] && one.reason[0])) {
			if (one.reason[0])
				snprintf(d->reason, sizeof(d->reason), "%s", one.reason);
		}
		if (one.risk > d->risk)
			d->risk = one.risk;
		d->destructive |= one.destructive;
		d->mutating |= one.mutating;
		d->approval_required |= one.approval_required;
		d->protected_namespace |= one.protected_namespace;
		p += len + (nl ? 1 : 0);
	}
}

static void classify_line(const kp_config *cfg, const char *cmd, kp_command_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->risk = KP_RISK_LOW;
	if (!cmd || !*cmd)
		return;
	char *low = kp_xstrdup(cmd);
	lower_into(cmd, low, strlen(cmd) + 1);
	for (size_t i = 0; i < sizeof(hard_blocked) / sizeof(hard_blocked[0]); i++) {
		if (contains_ci(low, hard_blocked[i].pattern)) {
			free(low);
			d->hard_blocked = true;
			decide(d, KP_RISK_CRITICAL, hard_blocked[i].why);
			return;
		}
	}
	free(low);
	char words[MAX_WORDS][128];
	size_t n = split_words(cmd, words);
	/* Pipes into an interpreter and dd are blocked wherever they appear. */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(words[i], "dd") == 0 || strncmp(words[i], "dd=", 3) == 0) {
			d->hard_blocked = true;
			decide(d, KP_RISK_CRITICAL, "dd writes raw devices");
			return;
		}
		if (strcmp(words[i], "|") == 0 && i + 1 < n) {
			for (size_t k = 0; k < sizeof(interpreters) / sizeof(interpreters[0]); k++)
				if (strcmp(words[i + 1], interpreters[k]) == 0) {
					d->hard_blocked = true;
					decide(d, KP_RISK_CRITICAL, "pipes output into an interpreter");
					return;
				}
		}
	}
	if (strstr(cmd, "|sh") || strstr(cmd, "|bash") || strstr(cmd, "| sudo")) {
		d->hard_blocked = true;
		decide(d, KP_RISK_CRITICAL, "pipes output into an interpreter");
		return;
	}
	if (n == 0)
		return;

	const char *tool = words[0];
	const char *ns = NULL;
	bool all_ns = false;
	size_t verb_at = 0;
	for (size_t i = 1; i < n; i++) {
		const char *w = words[i];
		if ((strcmp(w, "-n") == 0 || strcmp(w, "--namespace") == 0) && i + 1 < n) {
			ns = words[++i];
		} else if (strncmp(w, "--namespace=", 12) == 0) {
			ns = w + 12;
		} else if (strcmp(w, "-A") == 0 || strcmp(w, "--all-namespaces") == 0) {
			all_ns = true;
		} else if (w[0] != '-' && !verb_at) {
			verb_at = i;
		}
	}
	const char *verb = verb_at ? words[verb_at] : "";

	if (strcmp(tool, "kubectl") == 0 || strcmp(tool, "helm") == 0) {
		/* another cluster or another identity: the agents act as
		 * kopilot's own read-only account on its own cluster, nothing else */
		static const char *const elsewhere[] = {"--server", "-s", "--token", "--as", "--as-group", "--as-uid",
							"--username", "--password", "--client-certificate",
							"--client-key", "--certificate-authority",
							"--insecure-skip-tls-verify", "--context", "--cluster", "--user",
							"--kube-context", "--kube-token", "--kube-apiserver",
							"--kube-as-user", "--kube-as-group", "--kube-ca-file"};
		for (size_t i = 1; i < n; i++)
			for (size_t k = 0; k < sizeof(elsewhere) / sizeof(elsewhere[0]); k++) {
				size_t l = strlen(elsewhere[k]);
				if (!strncmp(words[i], elsewhere[k], l) && (words[i][l] == '\0' || words[i][l] == '=')) {
					d->hard_blocked = true;
					decide(d, KP_RISK_CRITICAL, "points at another cluster or identity");
					return;
				}
			}
		for (size_t i = 1; i < n; i++)
			if (!strcmp(words[i], "--raw") || !strncmp(words[i], "--raw=", 6)) {
				d->hard_blocked = true;
				decide(d, KP_RISK_CRITICAL, "reads raw API paths, Secrets among them");
				return;
			}
		/* Secrets, in any spelling a resource list takes: secret,
		 * secrets, secret/db, pods,secrets, secrets.v1 */
		bool secret = false;
		for (size_t i = 1; i < n && !secret; i++) {
			if (words[i][0] == '-')
				continue;
			for (const char *p = words[i]; p && !secret; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
				secret = !strncmp(p, "secret", 6) &&
					 (p[6] == '\0' || p[6] == 's' || p[6] == '/' || p[6] == '.' || p[6] == ',');
		}
		if (secret) {
			d->hard_blocked = true;
			decide(d, KP_RISK_CRITICAL, "reads Secrets, which kopilot never does");
			return;
		}
		if (!strcmp(tool, "helm") && verb_at && !strcmp(verb, "get") && verb_at + 1 < n &&
		    (!strcmp(words[verb_at + 1], "manifest") || !strcmp(words[verb_at + 1], "all"))) {
			d->hard_blocked = true;
			decide(d, KP_RISK_CRITICAL, "prints a release's rendered Secrets");
			return;
		}

		static const char *const reads[] = {"get",	"describe", "logs",   "top",   "explain", "api-resources",
						    "api-versions", "version", "cluster-info", "auth", "events",
						    "list", "status", "history", "show", "template", "diff"};
		static const char *const destructive[] = {"delete", "drain", "cordon", "uninstall", "rollback", "taint"};
		bool is_read = false;
		for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
			if (strcmp(verb, reads[i]) == 0)
				is_read = true;
		if (strcmp(verb, "exec") == 0 || strcmp(verb, "cp") == 0 || strcmp(verb, "attach") == 0 ||
		    strcmp(verb, "port-forward") == 0 || strcmp(verb, "proxy") == 0 || strcmp(verb, "debug") == 0) {
			d->hard_blocked = true;
			decide(d, KP_RISK_CRITICAL, "runs code in or opens a tunnel to the cluster");
			return;
		}
		if (strcmp(verb, "apply") == 0 || strcmp(verb, "create") == 0 || strcmp(verb, "replace") == 0) {
			for (size_t i = verb_at + 1; i < n; i++)
				if (strstr(words[i], "http://") || strstr(words[i], "https://")) {
					d->hard_blocked = true;
					decide(d, KP_RISK_CRITICAL, "applies a manifest from a URL");
					return;
				}
		}
		if (is_read)
			return;
		d->mutating = true;
		decide(d, KP_RISK_MEDIUM, NULL);
		for (size_t i = 0; i < sizeof(destructive) / sizeof(destructive[0]); i++)
			if (strcmp(verb, destructive[i]) == 0)
				d->destructive = true;
		if (strcmp(verb, "scale") == 0)
			for (size_t i = verb_at + 1; i < n; i++)
				if (strcmp(words[i], "--replicas=0") == 0 ||
				    (strcmp(words[i], "--replicas") == 0 && i + 1 < n && strcmp(words[i + 1], "0") == 0))
					d->destructive = true;
		if (strcmp(verb, "patch") == 0)
			d->destructive = true; /* arbitrary patches can do anything */
		if (d->destructive)
			decide(d, KP_RISK_HIGH, "destructive change: needs explicit approval");
	} else {
		/* Any other program is a change we cannot reason about. */
		d->mutating = true;
		decide(d, KP_RISK_HIGH, "not a kubectl or helm command: needs explicit approval");
		d->approval_required = true;
	}
	if (d->destructive)
		d->approval_required = true; /* invariant, not configurable */
	if (all_ns && d->mutating) {
		d->approval_required = true;
		decide(d, KP_RISK_CRITICAL, "changes objects in every namespace");
	}
	if (ns && kp_safety_namespace_protected(cfg, ns)) {
		d->protected_namespace = true;
		if (d->mutating)
			d->approval_required = true;
		if (d->destructive) {
			decide(d, KP_RISK_CRITICAL, NULL);
			snprintf(d->reason, sizeof(d->reason), "namespace %.200s is protected: destructive actions are blocked",
				 ns);
		}
	}
}

bool kp_safety_shell_syntax(const char *cmd, char *why, size_t n)
{
	char quote = 0;
	for (const char *p = cmd; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			else if (quote == '"' && (*p == '$' || *p == '`')) /* expanded inside double quotes */
				return snprintf(why, n, "%c inside double quotes", *p), true;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (strchr("|;&<>$`\n\\", *p)) {
			snprintf(why, n, "%s", *p == '\n' ? "a newline" : (char[]){'"', *p, '"', 0});
			return true;
		}
	}
	if (quote)
		return snprintf(why, n, "an unclosed quote"), true;
	return false;
}

void kp_safety_decide(const kp_config *cfg, kp_finding *f)
{
	kp_action *a = &f->action;
	kp_command_decision d;
	kp_safety_classify_command(cfg, a->command, &d);
	bool type_destructive = a->type == KP_ACT_DELETE || a->type == KP_ACT_SCALE_DOWN;
	bool protected_ns = kp_safety_namespace_protected(cfg, f->namespace_);
	a->destructive = type_destructive || d.destructive;
	a->approval_required = a->destructive || d.approval_required || protected_ns;
	free(a->blocked_reason);
	a->blocked_reason = NULL;
	a->blocked = false;
	if (d.hard_blocked) {
		a->blocked = true;
		a->blocked_reason = kp_xasprintf("command refused by the safety layer: %s", d.reason);
	} else if (a->destructive && protected_ns) {
		a->blocked = true;
		a->blocked_reason = kp_xasprintf("namespace %s is protected: destructive actions are blocked", f->namespace_);
	}
	/* A plain mutation proposed as a pull request (a resize) keeps the
	 * analyzer's risk; the classifier's floor applies to what can destroy
	 * or escape: destructive verbs, refused commands, protected namespaces. */
	kp_risk floor = (d.destructive || d.hard_blocked || a->destructive) ? d.risk : KP_RISK_LOW;
	if (a->destructive && floor < KP_RISK_HIGH)
		floor = KP_RISK_HIGH;
	/* Deleting a Job that finished long ago stops nothing and frees no
	 * capacity: it loses the Job's status and its pods' logs. It stays
	 * approval-gated like every destructive action, but keeps the
	 * analyzer's risk, so hygiene does not rank as a HIGH-risk change. */
	if (f->category == KP_CAT_FINISHED_JOB && !d.hard_blocked && !protected_ns)
		floor = KP_RISK_LOW;
	if (protected_ns && floor < KP_RISK_HIGH)
		floor = KP_RISK_HIGH;
	if (f->risk < floor)
		f->risk = floor;
}
