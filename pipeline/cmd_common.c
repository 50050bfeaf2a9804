/*
 * cmd_common.c - what every command shares: the flag parser, building the
 * effective configuration from the layers, opening and closing a run's
 * audit log, finding the previous run, and turning a stage's status, notes
 * and degraded flag into messages and an exit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "pipeline/cmd.h"
#include "pipeline/gate.h"
#include "pipeline/log.h"
#include "pipeline/shard.h"
#include "stages/collect/collect.h"
#include "stages/recommend/history.h"

/* ---- flags ---- */

/* Where a value flag's value goes (repeatable flags are handled apart). */
static const char **flag_slot(kp_opts *o, const char *name)
{
	if (!strcmp(name, "--snapshot")) return &o->snapshot;
	if (!strcmp(name, "--out")) return &o->out;
	if (!strcmp(name, "--config")) return &o->config_path;
	if (!strcmp(name, "--now")) return &o->now_str;
	if (!strcmp(name, "--template")) return &o->template_path;
	if (!strcmp(name, "--focus")) return &o->focus_path;
	if (!strcmp(name, "--cluster-name")) return &o->cluster_name;
	if (!strcmp(name, "--kubeconfig")) return &o->kubeconfig;
	if (!strcmp(name, "--context")) return &o->context;
	if (!strcmp(name, "--prometheus-url")) return &o->prometheus_url;
	if (!strcmp(name, "--snapshot-out")) return &o->snapshot_out;
	if (!strcmp(name, "--window")) return &o->window;
	if (!strcmp(name, "--repo")) return &o->repo;
	if (!strcmp(name, "--base")) return &o->base;
	if (!strcmp(name, "--forge")) return &o->forge;
	if (!strcmp(name, "--previous")) return &o->previous;
	if (!strcmp(name, "--state-dir")) return &o->state_dir;
	if (!strcmp(name, "--selector")) return &o->selector_text;
	if (!strcmp(name, "--shard")) return &o->shard_text;
	if (!strcmp(name, "--output")) return &o->output_str;
	if (!strcmp(name, "--run")) return &o->run_dir;
	if (!strcmp(name, "--transport")) return &o->transport;
	if (!strcmp(name, "--port")) return &o->port_str;
	if (!strcmp(name, "--skill")) return &o->skill;
	return NULL;
}

/* Where a boolean flag goes. */
static bool *bool_slot(kp_opts *o, const char *name)
{
	if (!strcmp(name, "--quiet")) return &o->quiet;
	if (!strcmp(name, "--all-namespaces")) return &o->all_namespaces;
	if (!strcmp(name, "--no-color")) return &o->no_color;
	if (!strcmp(name, "--help")) return &o->help;
	if (!strcmp(name, "--man")) return &o->man;
	if (!strcmp(name, "--pr")) return &o->pr;
	if (!strcmp(name, "--dry-run")) return &o->dry_run;
	if (!strcmp(name, "--reflect")) return &o->reflect;
	return NULL;
}

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static bool push_namespace(const char *cmd, const char *flag, const char *value, const char ***list, size_t *n)
{
	if (!kp_namespace_name_valid(value)) {
		fprintf(stderr,
			"kopilot %s: flag %s: \"%.80s\" is not a namespace name (lowercase letters, "
			"digits and '-', at most 63 characters)\n",
			cmd, flag, value);
		return false;
	}
	*list = kp_xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = value;
	return true;
}

static bool positional(const char *cmd, const char *a, size_t max_positional, kp_opts *o)
{
	if (o->npositional >= max_positional) {
		fprintf(stderr, "kopilot %s: unexpected argument \"%s\" (see kopilot %s --help)\n", cmd, a, cmd);
		return false;
	}
	/* positional[] holds the first four (most commands take one or two);
	 * operands all of them (merge takes one per shard) */
	if (o->npositional < sizeof(o->positional) / sizeof(o->positional[0]))
		o->positional[o->npositional] = a;
	o->npositional++;
	o->operands = kp_xrealloc(o->operands, o->npositional * sizeof(*o->operands));
	o->operands[o->npositional - 1] = a;
	return true;
}

/* Long flags as --name VALUE or --name=VALUE; short ones as kubectl takes
 * them: -n NS, -nNS or -n=NS; -A alone. */
bool kp_parse_flags(const char *cmd, int argc, char **argv, const char *const *accepted, size_t max_positional,
		    kp_opts *o)
{
	o->argc = argc;
	o->argv = argv;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++)
				if (!positional(cmd, argv[i], max_positional, o))
					return false;
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			if (!positional(cmd, a, max_positional, o))
				return false;
			continue;
		}
		const kp_flag *f = NULL;
		const char *value = NULL; /* attached: --name=VALUE, -nVALUE, -n=VALUE */
		if (a[1] != '-') {
			for (const kp_flag *g = kp_flags; g->name && !f; g++)
				if (g->short_name == a[1])
					f = g;
			if (!f) {
				fprintf(stderr, "kopilot %s: unknown flag -%c (see kopilot %s --help)\n", cmd, a[1], cmd);
				return false;
			}
			if (a[2])
				value = a[2] == '=' ? a + 3 : a + 2;
		} else {
			const char *eq = strchr(a, '=');
			size_t n = eq ? (size_t)(eq - a) : strlen(a);
			for (const kp_flag *g = kp_flags; g->name && !f; g++)
				if (strlen(g->name) == n && strncmp(g->name, a, n) == 0)
					f = g;
			if (!f) {
				fprintf(stderr, "kopilot %s: unknown flag %.*s (see kopilot %s --help)\n", cmd,
					(int)(n > 60 ? 60 : n), a, cmd);
				return false;
			}
			if (eq)
				value = eq + 1;
		}
		/* messages name the flag as it was typed: -n or --namespace */
		char label[64];
		if (a[1] != '-')
			snprintf(label, sizeof(label), "-%c", f->short_name);
		else
			snprintf(label, sizeof(label), "%s", f->name);
		if (strcmp(f->name, "--help") != 0 && !in_list(accepted, f->name)) {
			fprintf(stderr, "kopilot %s: unknown flag %s (see kopilot %s --help)\n", cmd, label, cmd);
			return false;
		}
		if (!f->metavar) {
			if (value) {
				fprintf(stderr, "kopilot %s: flag %s takes no value\n", cmd, label);
				return false;
			}
			*bool_slot(o, f->name) = true;
			continue;
		}
		if (!value) {
			if (i + 1 >= argc) {
				fprintf(stderr, "kopilot %s: flag %s needs a value (%s)\n", cmd, label, f->metavar);
				return false;
			}
			value = argv[++i];
		}
		if (!*value) {
			fprintf(stderr, "kopilot %s: flag %s: empty value\n", cmd, label);
			return false;
		}
		if (f->value == KP_VALUE_CHOICE && !in_list(f->choices, value)) {
			kp_buf b;
			kp_buf_init(&b);
			for (const char *const *c = f->choices; *c; c++)
				kp_buf_printf(&b, "%s%s", c == f->choices ? "" : ", ", *c);
			char what[32];
			snprintf(what, sizeof(what), "%s", f->metavar);
			for (char *p = what; *p; p++)
				*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
			char *v = kp_visible(value);
			fprintf(stderr, "kopilot %s: flag %s: unknown %s \"%.40s\" (accepted: %s)\n", cmd, label, what, v,
				kp_buf_cstr(&b));
			free(v);
			kp_buf_release(&b);
			return false;
		}
		if (strcmp(f->name, "--set") == 0) {
			o->sets = kp_xrealloc(o->sets, (o->nsets + 1) * sizeof(*o->sets));
			o->sets[o->nsets++] = value;
		} else if (strcmp(f->name, "--fail-on") == 0) {
			/* checked here, so a malformed gate exits 2 before any work */
			kp_gate_cond c;
			kp_error err = {0};
			if (kp_gate_parse(value, &c, &err)) {
				fprintf(stderr, "kopilot %s: flag --fail-on: %s\n", cmd, err.msg);
				return false;
			}
			o->fail_on = kp_xrealloc(o->fail_on, (o->nfail_on + 1) * sizeof(*o->fail_on));
			o->fail_on[o->nfail_on++] = value;
		} else if (strcmp(f->name, "--namespace") == 0) {
			if (!push_namespace(cmd, label, value, &o->namespaces, &o->nnamespaces))
				return false;
		} else if (strcmp(f->name, "--exclude-namespace") == 0) {
			if (!push_namespace(cmd, label, value, &o->exclude_namespaces, &o->nexclude_namespaces))
				return false;
		} else {
			*flag_slot(o, f->name) = value;
		}
	}
	/* kubectl's rule: -A means every namespace, so naming one as well is a contradiction */
	if (o->all_namespaces && o->nnamespaces) {
		fprintf(stderr, "kopilot %s: flags -A/--all-namespaces and -n/--namespace cannot be used together\n", cmd);
		return false;
	}
	static const char *const formats[] = {"table", "json", "yaml", "csv", "sarif"};
	for (size_t k = 0; o->output_str && k < 5; k++)
		if (strcmp(o->output_str, formats[k]) == 0)
			o->output = (kp_output_format)k;
	if (o->shard_text) {
		kp_error err = {0};
		if (kp_shard_parse(o->shard_text, getenv("JOB_COMPLETION_INDEX"), &o->shard_index, &o->shard_count, &err)) {
			char *v = kp_visible(o->shard_text);
			fprintf(stderr, "kopilot %s: flag --shard: \"%.40s\": %s\n", cmd, v, err.msg);
			free(v);
			return false;
		}
	}
	if (o->selector_text) {
		kp_error err = {0};
		if (kp_selector_parse(o->selector_text, &o->selector, &err)) {
			char *v = kp_visible(o->selector_text); /* no raw control character reaches the terminal */
			char *why = kp_visible(err.msg);
			fprintf(stderr, "kopilot %s: flag -l/--selector: \"%.200s\": %s\n", cmd, v, why);
			free(v);
			free(why);
			return false;
		}
	}
	return true;
}

static const char *env_lookup(const char *name) { return getenv(name); }

bool kp_opts_load_config(const char *cmd, kp_opts *o)
{
	kp_error err = {0};
	kp_config_init(&o->cfg);
	if (o->config_path && kp_config_load_file(&o->cfg, o->config_path, &err)) {
		fprintf(stderr, "kopilot %s: %s\n", cmd, err.msg);
		return false;
	}
	if (kp_config_load_env(&o->cfg, env_lookup, &err)) {
		fprintf(stderr, "kopilot %s: %s\n", cmd, err.msg);
		return false;
	}
	for (size_t i = 0; i < o->nsets; i++) {
		if (kp_config_set(&o->cfg, o->sets[i], KP_SRC_FLAG, &err)) {
			/* the message names the key and never echoes a (possibly secret) value */
			fprintf(stderr, "kopilot %s: %s\n", cmd, err.msg);
			return false;
		}
	}
	/* --exclude-namespace NS joins scope.exclude_namespaces (anchored
	 * regexes) as the literal name, so everything that honours the scope
	 * honours it. Namespace names hold no regex metacharacter today; the
	 * escape keeps it literal should the flag ever take more. */
	for (size_t i = 0; i < o->nexclude_namespaces; i++) {
		kp_buf b;
		kp_buf_init(&b);
		for (const char *p = o->exclude_namespaces[i]; *p; p++) {
			if (strchr("\\^$.|?*+()[]{}", *p))
				kp_buf_putc(&b, '\\');
			kp_buf_putc(&b, *p);
		}
		kp_status st = kp_config_list_append(&o->cfg, "scope.exclude_namespaces", kp_buf_cstr(&b),
						     "--exclude-namespace", &err);
		kp_buf_release(&b);
		if (st) {
			fprintf(stderr, "kopilot %s: %s\n", cmd, err.msg);
			return false;
		}
	}
	/* Dedicated flags are --set shorthands, so `config show` reports them as flags. */
	const char *shorthand[][3] = {{"report.template", o->template_path, "--template"},
				      {"cluster.name", o->cluster_name, "--cluster-name"},
				      {"prices.focus_file", o->focus_path, "--focus"},
				      {"prometheus.url", o->prometheus_url, "--prometheus-url"},
				      {"prometheus.window", o->window, "--window"},
				      {"pr.repo", o->repo, "--repo"},
				      {"pr.base", o->base, "--base"},
				      {"pr.forge", o->forge, "--forge"},
				      {"pr.enabled", o->pr ? "true" : NULL, "--pr"},
				      {"pr.dry_run", o->dry_run ? "true" : NULL, "--dry-run"}};
	for (size_t i = 0; i < sizeof(shorthand) / sizeof(shorthand[0]); i++) {
		if (!shorthand[i][1])
			continue;
		kp_buf b;
		kp_buf_init(&b);
		kp_buf_printf(&b, "%s=%s", shorthand[i][0], shorthand[i][1]);
		kp_status st = kp_config_set(&o->cfg, b.data, KP_SRC_FLAG, &err);
		kp_buf_release(&b);
		if (st) {
			const char *m = strncmp(err.msg, "--set ", 6) == 0 ? err.msg + 6 : err.msg;
			fprintf(stderr, "kopilot %s: flag %s: %s\n", cmd, shorthand[i][2], m);
			return false;
		}
	}
	if (kp_config_validate(&o->cfg, &err)) {
		fprintf(stderr, "kopilot %s: %s\n", cmd, err.msg);
		return false;
	}
	if (o->now_str) {
		if (!kp_time_parse(o->now_str, &o->now)) {
			fprintf(stderr, "kopilot %s: flag --now: \"%s\" is not an RFC 3339 time (e.g. 2026-11-25T06:00:00Z)\n",
				cmd, o->now_str);
			return false;
		}
	} else {
		o->now = (int64_t)time(NULL);
	}
	kp_log_setup(o->cfg.log.format, o->quiet);
	/* output.file_mode through the umask: every file and directory the
	 * command creates (libxlsxwriter's too) gets it; directories get x
	 * where r is set. */
	mode_t m = 0600;
	kp_file_mode_parse(o->cfg.output.file_mode, &m);
	umask((mode_t)(~(m | ((m & 0444) >> 2)) & 0777));
	return true;
}

void kp_opts_release(kp_opts *o)
{
	free(o->operands);
	free(o->sets);
	free(o->fail_on);
	free(o->namespaces);
	free(o->exclude_namespaces);
	kp_selector_release(&o->selector);
	free(o->previous_run);
	json_object_put(o->previous_doc);
	kp_config_release(&o->cfg);
	kp_audit_release(&o->audit);
	kp_rundir_release(&o->rundir);
	kp_lock_release(&o->state_lock);
}


/* ---- running stages ---- */

int kp_cmd_prologue(const char *cmd, int argc, char **argv, const char *const *flags, size_t npos, kp_opts *o,
		    bool *done)
{
	*done = true;
	if (!kp_parse_flags(cmd, argc, argv, flags, npos, o))
		return KP_EXIT_USAGE;
	if (o->help) {
		kp_print_help(cmd);
		return KP_EXIT_OK;
	}
	if (o->snapshot && (o->kubeconfig || o->context || o->prometheus_url || o->window)) {
		const char *f = o->kubeconfig ? "--kubeconfig" : o->context ? "-c/--context" : o->prometheus_url ? "--prometheus-url" : "--window";
		fprintf(stderr, "kopilot %s: --snapshot reads a snapshot, %s %s: give one of them\n", cmd, f,
			o->kubeconfig || o->context ? "a live cluster"
						    : "is for reading a live cluster's usage (a snapshot has its usage.json)");
		return KP_EXIT_USAGE;
	}
	if (!kp_opts_load_config(cmd, o))
		return KP_EXIT_USAGE;
	*done = false;
	return KP_EXIT_OK;
}

/* text with the staging directory's path shown as the run directory's:
 * the user named RUN and never sees .RUN.new.PID. */
static const char *visible(const kp_opts *o, const char *text, kp_buf *b)
{
	const char *staging = o->rundir.staging;
	size_t n = staging ? strlen(staging) : 0;
	if (!n || !strstr(text, staging))
		return text;
	kp_buf_reset(b);
	for (const char *p = text, *q; *p; p = q + n) {
		q = strstr(p, staging);
		if (!q) {
			kp_buf_puts(b, p);
			break;
		}
		kp_buf_add(b, p, (size_t)(q - p));
		kp_buf_puts(b, o->rundir.dir);
	}
	return kp_buf_cstr(b);
}

void kp_cmd_error(const char *cmd, kp_opts *o, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kp_buf b;
	kp_buf_init(&b);
	snprintf(o->last_error, sizeof(o->last_error), "%s", visible(o, msg, &b));
	kp_buf_release(&b);
	if (kp_log_is_json()) { /* a log collector reads JSON lines only */
		kp_log(KP_LOG_ERROR, "%s: %s", cmd, o->last_error);
		return;
	}
	kp_log_progress_clear();
	fprintf(stderr, "kopilot %s: %s\n", cmd, o->last_error);
}

static void audit_start(const char *cmd, kp_opts *o)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, "command", json_object_new_string(cmd));
	json_object_object_add(f, "version", json_object_new_string(KP_VERSION));
	json_object_object_add(f, "pid", json_object_new_int64((int64_t)getpid()));
	kp_audit_event(&o->audit, "command.start", f);
}

int kp_cmd_lock_state_dir(const char *cmd, kp_opts *o)
{
	kp_error err = {0};
	if (kp_mkdir_p(o->state_dir, &err)) {
		kp_cmd_error(cmd, o, "flag --state-dir: %s", err.msg);
		return KP_EXIT_USAGE;
	}
	char *lock = kp_path_join(o->state_dir, ".kopilot.lock");
	char *what = kp_xasprintf("state directory %s", o->state_dir);
	kp_status s = kp_lock_acquire(&o->state_lock, lock, what, cmd, NULL, &err);
	free(lock);
	free(what);
	if (s) {
		kp_cmd_error(cmd, o, "%s", err.msg);
		return KP_EXIT_FAILED;
	}
	return KP_EXIT_OK;
}

int kp_cmd_lock_run(const char *cmd, kp_opts *o, const char *dir, kp_rundir_mode mode)
{
	kp_error err = {0};
	kp_status s = kp_rundir_lock(&o->rundir, dir, cmd, mode, &err);
	char *audit = kp_rundir_existing_audit(&o->rundir);
	if (s) {
		kp_cmd_error(cmd, o, "%s", err.msg);
		if (o->rundir.lock.busy && audit) {
			/* The refusal is on record too; the holder's log is the
			 * same file (rundir.h), so this line is never lost. */
			kp_audit refused;
			kp_audit_init(&refused, audit, false);
			json_object *f = json_object_new_object();
			json_object_object_add(f, "command", json_object_new_string(cmd));
			json_object_object_add(f, "pid", json_object_new_int64((int64_t)getpid()));
			json_object_object_add(f, "reason", json_object_new_string(err.msg));
			kp_audit_event(&refused, "command.refused", f);
			kp_audit_release(&refused);
		}
		free(audit);
		return kp_status_exit_code(s) == KP_EXIT_USAGE ? KP_EXIT_USAGE : KP_EXIT_FAILED;
	}
	if (o->rundir.stale_holder)
		kp_log(KP_LOG_INFO, "%s: took over the lock of %s, left by a kopilot that is no longer running (%s)", cmd,
		       dir, o->rundir.stale_holder);
	if (audit) {
		kp_audit_init(&o->audit, audit, false);
		audit_start(cmd, o);
	}
	free(audit);
	return KP_EXIT_OK;
}

/* Events go where kp_rundir_audit_path says: it moves only where there are
 * no hard links (a copy in the staging directory, then RUN's again). */
static void follow_audit(kp_opts *o)
{
	if (o->audit.path && strcmp(o->audit.path, kp_rundir_audit_path(&o->rundir)) != 0)
		kp_audit_reopen(&o->audit, kp_rundir_audit_path(&o->rundir));
}

int kp_cmd_stage_run(const char *cmd, kp_opts *o, kp_rundir_mode mode, const char *const *drop)
{
	kp_error err = {0};
	kp_status s = kp_rundir_stage(&o->rundir, mode, drop, &err);
	follow_audit(o);
	if (!o->audit.path && o->rundir.staged) {
		kp_audit_init(&o->audit, kp_rundir_audit_path(&o->rundir), true);
		audit_start(cmd, o);
	}
	for (size_t i = 0; i < o->rundir.ncleaned; i++) {
		kp_log(KP_LOG_INFO, "%s: removed %s, left by a kopilot that did not finish", cmd, o->rundir.cleaned[i]);
		json_object *f = json_object_new_object();
		json_object_object_add(f, "removed", json_object_new_string(o->rundir.cleaned[i]));
		kp_audit_event(&o->audit, "rundir.cleanup", f);
	}
	if (s) {
		kp_cmd_error(cmd, o, "%s", err.msg);
		return kp_status_exit_code(s);
	}
	return KP_EXIT_OK;
}

struct end_record {
	const char *cmd;
	kp_opts *o;
	int rc;
};

/* command.end, and the log synced: under a nomem guard, since it runs
 * after the switch, where running out of memory must not turn a complete
 * run into a failed command. */
static kp_status record_end(void *arg, kp_error *err)
{
	struct end_record *e = arg;
	kp_opts *o = e->o;
	json_object *f = json_object_new_object();
	json_object_object_add(f, "command", json_object_new_string(e->cmd));
	json_object_object_add(f, "exit_code", json_object_new_int(e->rc));
	json_object_object_add(f, "replaced", json_object_new_boolean(o->rundir.committed));
	if (e->rc != KP_EXIT_OK && e->rc != KP_EXIT_DEGRADED && e->rc != KP_EXIT_GATE && o->last_error[0])
		json_object_object_add(f, "error", json_object_new_string(o->last_error));
	kp_audit_event(&o->audit, "command.end", f);
	return kp_audit_flush(&o->audit, err);
}

/* history.keep_runs: after a run is complete and switched in, while the
 * state directory's lock is still held (no other kopilot run can be
 * choosing its previous run or writing there), the oldest runs beyond the
 * limit go. The run is complete whatever happens here: a failure is a
 * warning. */
static void prune_state_dir(const char *cmd, kp_opts *o)
{
	json_object *removed = json_object_new_array(), *skipped = json_object_new_array();
	kp_error err = {0};
	if (kp_history_prune(o->state_dir, o->cfg.history.keep_runs, o->rundir.dir, removed, skipped, &err))
		kp_log(KP_LOG_WARN, "%s: flag --state-dir: old runs not pruned: %s", cmd, err.msg);
	size_t nr = json_object_array_length(removed);
	for (size_t i = 0; i < nr; i++)
		kp_log(KP_LOG_INFO, "%s: removed the old run %s (history.keep_runs = %d)", cmd,
		       json_object_get_string(json_object_array_get_idx(removed, i)), o->cfg.history.keep_runs);
	for (size_t i = 0; i < json_object_array_length(skipped); i++)
		kp_log(KP_LOG_WARN, "%s: %s", cmd, json_object_get_string(json_object_array_get_idx(skipped, i)));
	if (nr || json_object_array_length(skipped)) {
		json_object *f = json_object_new_object();
		json_object_object_add(f, "keep_runs", json_object_new_int(o->cfg.history.keep_runs));
		json_object_object_add(f, "removed", json_object_get(removed));
		json_object_object_add(f, "not_removed", json_object_get(skipped));
		kp_audit_event(&o->audit, "history.prune", f);
	}
	json_object_put(removed);
	json_object_put(skipped);
}

int kp_cmd_end_run(const char *cmd, kp_opts *o, int rc)
{
	kp_error err = {0};
	if (o->rundir.staged) {
		/* a triggered gate judged a complete run: it is switched in too */
		if (kp_exit_complete(rc)) {
			/* An incomplete audit trail is a failure: the run is not switched in. */
			if (kp_audit_flush(&o->audit, &err) || kp_rundir_commit(&o->rundir, &err)) {
				kp_cmd_error(cmd, o, "%s", err.msg);
				rc = KP_EXIT_FAILED;
			}
		}
		if (!o->rundir.committed) {
			kp_rundir_abort(&o->rundir);
			follow_audit(o);
			/* What the failed run staged is gone, and with it maybe the
			 * full disk that cost audit lines: say so, and record the end. */
			kp_audit_resume(&o->audit);
			if (rc == KP_EXIT_FAILED || rc == KP_EXIT_USAGE)
				kp_log(KP_LOG_INFO, "%s: %s was left as it was", cmd, o->rundir.dir);
		}
	}
	/* only a command holding the state directory's lock (kopilot run or
	 * merge --state-dir) prunes it, and only after a complete run (a
	 * triggered --fail-on gate is one) */
	if (o->state_dir && o->state_lock.path && o->state_lock.fd >= 0 && o->rundir.committed &&
	    kp_exit_complete(rc))
		prune_state_dir(cmd, o);
	if (o->audit.path) {
		struct end_record e = {cmd, o, rc};
		kp_status s = kp_nomem_guard(record_end, &e, &err);
		if (s && o->rundir.committed) {
			/* The run is complete and in place, and every event up to
			 * the switch is on disk: only this line is missing. */
			kp_log(KP_LOG_WARN, "%s: the run is complete, but its end could not be recorded: %s", cmd, err.msg);
		} else if (s) {
			fprintf(stderr, "kopilot %s: %s\n", cmd, err.msg);
			rc = kp_cmd_worse(rc, KP_EXIT_FAILED);
		}
	}
	kp_rundir_release(&o->rundir);
	kp_lock_release(&o->state_lock);
	return rc;
}

int kp_cmd_resolve_previous(const char *cmd, kp_opts *o, const char *exclude)
{
	kp_error err = {0};
	const char *flag = o->previous ? "--previous" : "--state-dir";
	char *run = NULL;
	if (o->previous) {
		run = kp_xstrdup(o->previous);
	} else if (o->state_dir) {
		if (kp_history_latest_run(o->state_dir, exclude, &run, &err)) {
			fprintf(stderr, "kopilot %s: flag --state-dir: %s\n", cmd, err.msg);
			return kp_status_exit_code(err.status);
		}
		if (!run)
			kp_log(KP_LOG_INFO, "%s: no previous run in %s: nothing to compare with", cmd, o->state_dir);
	}
	if (!run)
		return KP_EXIT_OK;
	if (kp_history_load(run, &o->previous_doc, &err)) {
		fprintf(stderr, "kopilot %s: flag %s: %s\n", cmd, flag, err.msg);
		free(run);
		return kp_status_exit_code(err.status);
	}
	kp_log(KP_LOG_INFO, "%s: comparing with the previous run %s", cmd, run);
	o->previous_run = run;
	return KP_EXIT_OK;
}

void kp_cmd_run_init(kp_opts *o, kp_run *run, const char *dir)
{
	kp_run_init(run, dir, &o->cfg, &o->audit, o->now);
	run->snapshot = o->snapshot;
	run->kubeconfig = o->kubeconfig;
	run->kube_context = o->context;
	run->snapshot_out = o->snapshot_out;
	run->namespaces = o->namespaces;
	run->nnamespaces = o->nnamespaces;
	run->selector = o->selector.n ? &o->selector : NULL;
	run->shard_index = o->shard_index;
	run->shard_count = o->shard_count;
	run->previous_run = o->previous_run;
	run->previous_doc = o->previous_doc;
	run->state_dir = o->state_dir;
	run->run_path = o->out ? o->out : o->npositional ? o->positional[0] : NULL;
	run->progress = kp_log_progress();
}

void kp_cmd_show_notes(kp_opts *o, const kp_run *run)
{
	static const kp_log_level levels[] = {KP_LOG_DEBUG, KP_LOG_INFO, KP_LOG_WARN};
	kp_buf b;
	kp_buf_init(&b);
	for (; o->notes_shown < run->notes.len; o->notes_shown++)
		kp_log(levels[run->notes.items[o->notes_shown].level], "%s",
		       visible(o, run->notes.items[o->notes_shown].text, &b));
	kp_buf_release(&b);
}

int kp_cmd_stage_result(const char *stage, kp_opts *o, const kp_run *run, kp_status s, const kp_error *err)
{
	kp_log_progress_clear(); /* the stage is over */
	kp_cmd_show_notes(o, run);
	if (s) {
		kp_buf b;
		kp_buf_init(&b);
		snprintf(o->last_error, sizeof(o->last_error), "%s: %s", stage, visible(o, err->msg, &b));
		kp_buf_release(&b);
		kp_log(KP_LOG_ERROR, "%s", o->last_error);
		return kp_status_exit_code(s);
	}
	return run->degraded ? KP_EXIT_DEGRADED : KP_EXIT_OK;
}

bool kp_cmd_use_color(const kp_opts *o)
{
	/* https://no-color.org: NO_COLOR set and not empty turns colour off */
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
	if (o->no_color || (no && *no) || (term && strcmp(term, "dumb") == 0))
		return false;
	return isatty(STDOUT_FILENO) == 1;
}

int kp_cmd_worse(int a, int b)
{
	if (a == KP_EXIT_FAILED || b == KP_EXIT_FAILED)
		return KP_EXIT_FAILED;
	if (a == KP_EXIT_USAGE || b == KP_EXIT_USAGE)
		return KP_EXIT_USAGE;
	/* the gate is what CI asked the exit code for: it beats degraded */
	if (a == KP_EXIT_GATE || b == KP_EXIT_GATE)
		return KP_EXIT_GATE;
	return a > b ? a : b;
}

int kp_cmd_single_stage(const char *cmd, int argc, char **argv, const char *const *flags,
			kp_status (*stage)(kp_run *, kp_error *), bool wants_previous, const char *const *drop)
{
	kp_opts o;
	memset(&o, 0, sizeof(o));
	bool done;
	int rc = kp_cmd_prologue(cmd, argc, argv, flags, 1, &o, &done);
	if (done) {
		kp_opts_release(&o);
		return rc;
	}
	if (o.npositional != 1) {
		fprintf(stderr, "kopilot %s: expected the run directory (usage: kopilot %s RUN)\n", cmd, cmd);
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	const char *dir = o.positional[0];
	rc = kp_cmd_lock_run(cmd, &o, dir, KP_RUNDIR_STAGE);
	if (rc == KP_EXIT_OK && wants_previous)
		rc = kp_cmd_resolve_previous(cmd, &o, dir);
	if (rc == KP_EXIT_OK)
		rc = kp_cmd_stage_run(cmd, &o, KP_RUNDIR_STAGE, drop);
	if (rc == KP_EXIT_OK) {
		kp_run run;
		kp_cmd_run_init(&o, &run, o.rundir.staging);
		kp_error err = {0};
		kp_progress_report(run.progress, cmd, NULL, 0, -1);
		kp_status s = stage(&run, &err);
		if (!s) /* whatever the stage left running beside (run.h) */
			s = kp_run_join(&run, &err);
		rc = kp_cmd_stage_result(cmd, &o, &run, s, &err);
		kp_run_release(&run);
	}
	/* --fail-on (recommend, render): judged on the findings.json the
	 * stage leaves, once it is complete */
	json_object *gate = NULL;
	if (o.nfail_on && (rc == KP_EXIT_OK || rc == KP_EXIT_DEGRADED)) {
		kp_gate_facts f;
		json_object *header = NULL;
		kp_error err = {0};
		char *fpath = kp_path_join(o.rundir.staging, "findings.json");
		if (kp_cmd_gate_facts_file(fpath, &f, &header, &err)) {
			kp_cmd_error(cmd, &o, "--fail-on: %s", err.msg);
			rc = kp_status_exit_code(err.status) == KP_EXIT_USAGE ? KP_EXIT_USAGE : KP_EXIT_FAILED;
		} else {
			bool triggered = false;
			gate = kp_cmd_gate_judge(&o, &f, &triggered);
			if (triggered)
				rc = KP_EXIT_GATE;
		}
		json_object_put(header);
		free(fpath);
	}
	rc = kp_cmd_end_run(cmd, &o, rc);
	if (gate && kp_exit_complete(rc))
		kp_cmd_gate_report(cmd, gate); /* last: the line a CI log ends with */
	json_object_put(gate);
	kp_opts_release(&o);
	return rc;
}

int kp_cmd_check_live(const char *cmd, kp_opts *o)
{
	kp_error err = {0};
	kp_status s = kp_collect_check_live(o->kubeconfig, o->context, &err);
	if (!s)
		return KP_EXIT_OK;
	fprintf(stderr, "kopilot %s: %s\n", cmd, err.msg);
	return kp_status_exit_code(s);
}

json_object *kp_cmd_run_counts(json_object *findings)
{
	json_object *counts = json_object_new_object();
	json_object_object_add(counts, "findings", json_object_get(kp_json_get(findings, "totals.findings")));
	json_object_object_add(counts, "skipped",
			       json_object_new_int64((int64_t)json_object_array_length(kp_json_get(findings, "skipped"))));
	json_object_object_add(counts, "monthly_savings", json_object_get(kp_json_get(findings, "totals.monthly_savings")));
	/* what the plan can act on, the figure every report headlines */
	json_object_object_add(counts, "actionable_monthly_savings",
			       json_object_get(kp_json_get(findings, "totals.actionable_monthly_savings")));
	return counts;
}
