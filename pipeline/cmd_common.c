/*
 * cmd_common.c - what every command shares: --help texts, the flag parser
 * and building the effective configuration from the layers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/cmd.h"
#include "pipeline/log.h"

static const char exit_codes_help[] =
	"Exit codes:\n"
	"  0  ok\n"
	"  2  usage or configuration error (bad flag, bad value, bad config file)\n"
	"  3  finished but degraded: some input was not collected; the report says which\n"
	"  4  failed: malformed input data, or an output could not be written\n";

static const struct help {
	const char *cmd;
	const char *text;
} helps[] = {
	{"run",
	 "usage: kopilot run --snapshot DIR (--out RUN | --state-dir DIR) [options]\n"
	 "\n"
	 "Runs the whole pipeline: collect -> analyze -> recommend -> render.\n"
	 "Reads a snapshot directory (objects/<resource>.json as printed by\n"
	 "`kubectl get <resource> -A -o json`, and usage.json) and writes the run\n"
	 "directory RUN: snapshot/, analysis.json, findings.json, plan.json,\n"
	 "report.md, report.html, report.xlsx, audit.jsonl, run.json.\n"
	 "\n"
	 "Options:\n"
	 "  --snapshot DIR        snapshot to read (required until live collection lands)\n"
	 "  --out RUN             run directory to write (created if missing)\n"
	 "  --state-dir DIR       keep runs in DIR: without --out the run goes to DIR/<UTC YYYYMMDDTHHMMSSZ>,\n"
	 "                        and the most recent run in DIR is the previous run (as --previous)\n"
	 "  --previous RUN_DIR    compare with that run: findings.json says which findings are new,\n"
	 "                        persisting (since when) and resolved; the reports show it\n"
	 "  --namespace NS        report only findings in namespace NS (repeatable); cluster-scoped\n"
	 "                        findings (nodes, persistent volumes) are left out\n"
	 "  --config FILE         YAML configuration (see docs/configuration.md)\n"
	 "  --set KEY=VALUE       override one configuration key, e.g. prices.cpu_core_hour=0.05 (repeatable)\n"
	 "  --now RFC3339         fix \"now\" for ages and windows, for reproducible runs\n"
	 "  --template FILE       Markdown report template (mustache subset, see templates/README.md)\n"
	 "  --cluster-name NAME   name shown in reports (default: the snapshot directory's name)\n"
	 "  --quiet               no progress on stderr, no summary on stdout\n"
	 "  --kubeconfig FILE, --context NAME, --prometheus-url URL\n"
	 "                        live collection: not implemented yet (exit 2)\n"},
	{"collect",
	 "usage: kopilot collect --snapshot DIR --out RUN [--config FILE] [--set KEY=VALUE]\n"
	 "                       [--cluster-name NAME] [--quiet]\n"
	 "\n"
	 "Validates a snapshot and copies it into RUN/snapshot/, with cluster.json\n"
	 "(the name reports use: --cluster-name, or the snapshot directory's name)\n"
	 "and model.bin (the parsed model, so `kopilot analyze RUN` is fast).\n"
	 "Live collection (--kubeconfig, --context, --prometheus-url) is not\n"
	 "implemented yet (exit 2).\n"},
	{"analyze",
	 "usage: kopilot analyze RUN [--config FILE] [--set KEY=VALUE] [--now RFC3339] [--cluster-name NAME]\n"
	 "                           [--namespace NS]...\n"
	 "\n"
	 "Runs the rules over RUN/snapshot and writes RUN/analysis.json\n"
	 "(findings before prices and actions, plus what was skipped and why).\n"
	 "--namespace NS (repeatable) keeps only the findings in those namespaces;\n"
	 "cluster-scoped findings are left out. analysis.json records it as \"scope\".\n"},
	{"recommend",
	 "usage: kopilot recommend RUN [--config FILE] [--set KEY=VALUE] [--previous RUN_DIR | --state-dir DIR]\n"
	 "\n"
	 "Prices RUN/analysis.json, decides risk, actions and approval, and writes\n"
	 "RUN/findings.json (contract kopilot.findings/v1) and RUN/plan.json.\n"
	 "--previous RUN_DIR compares with that run (new, persisting, resolved\n"
	 "findings); --state-dir DIR compares with the most recent run in DIR\n"
	 "other than RUN.\n"},
	{"render",
	 "usage: kopilot render RUN [--template FILE] [--config FILE]\n"
	 "\n"
	 "Writes RUN/report.md, RUN/report.html and RUN/report.xlsx from\n"
	 "RUN/findings.json alone, so it works on a run directory copied from\n"
	 "another machine.\n"},
	{"config",
	 "usage: kopilot config show [--config FILE] [--set KEY=VALUE]\n"
	 "\n"
	 "Prints the effective configuration, one key per line, with where each\n"
	 "value came from (default, file, env, flag). Secrets are masked.\n"
	 "Precedence: defaults < --config file < environment < --set.\n"},
	{"version", "usage: kopilot version\n\nPrints the version.\n"},
	{"help", "usage: kopilot help [COMMAND]\n\nShows help for kopilot or one command.\n"},
};

static const char main_help[] =
	"usage: kopilot <command> [options]\n"
	"\n"
	"kopilot finds wasted Kubernetes spend (over-provisioned workloads, orphaned\n"
	"PVCs, ...), explains the evidence and proposes safe changes. It never\n"
	"changes the cluster itself.\n"
	"\n"
	"Commands:\n"
	"  run          collect, analyze, recommend and render in one go\n"
	"  collect      read a snapshot into a run directory\n"
	"  analyze      run the rules: RUN/analysis.json\n"
	"  recommend    prices, risk, actions: RUN/findings.json, RUN/plan.json\n"
	"  render       reports: RUN/report.md, report.html, report.xlsx\n"
	"  config show  the effective configuration and where each value came from\n"
	"  version      print the version\n"
	"  help         this text, or `kopilot help COMMAND`\n"
	"\n"
	"Every command takes --help.\n";

void kp_print_help(const char *cmd)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (cmd && strcmp(helps[i].cmd, cmd) == 0) {
			fputs(helps[i].text, stdout);
			fputs("\n", stdout);
			fputs(exit_codes_help, stdout);
			return;
		}
	fputs(main_help, stdout);
	fputs("\n", stdout);
	fputs(exit_codes_help, stdout);
}

/* ---- flags ---- */

static const char *const value_flags[] = {"--snapshot", "--out",	"--config",	"--now",
					  "--template", "--cluster-name", "--kubeconfig", "--context",
					  "--prometheus-url", "--set", "--previous", "--state-dir",
					  "--namespace", NULL};

static const char **flag_slot(kp_opts *o, const char *name)
{
	if (!strcmp(name, "--snapshot")) return &o->snapshot;
	if (!strcmp(name, "--out")) return &o->out;
	if (!strcmp(name, "--config")) return &o->config_path;
	if (!strcmp(name, "--now")) return &o->now_str;
	if (!strcmp(name, "--template")) return &o->template_path;
	if (!strcmp(name, "--cluster-name")) return &o->cluster_name;
	if (!strcmp(name, "--kubeconfig")) return &o->kubeconfig;
	if (!strcmp(name, "--context")) return &o->context;
	if (!strcmp(name, "--prometheus-url")) return &o->prometheus_url;
	if (!strcmp(name, "--previous")) return &o->previous;
	if (!strcmp(name, "--state-dir")) return &o->state_dir;
	return NULL;
}

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

bool kp_parse_flags(const char *cmd, int argc, char **argv, const char *const *accepted, size_t max_positional,
		    kp_opts *o)
{
	o->argc = argc;
	o->argv = argv;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			o->help = true;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++) {
				if (o->npositional >= max_positional) {
					fprintf(stderr, "kopilot %s: unexpected argument \"%s\" (see kopilot %s --help)\n", cmd, argv[i], cmd);
					return false;
				}
				o->positional[o->npositional++] = argv[i];
			}
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			if (o->npositional >= max_positional) {
				fprintf(stderr, "kopilot %s: unexpected argument \"%s\" (see kopilot %s --help)\n", cmd, a, cmd);
				return false;
			}
			o->positional[o->npositional++] = a;
			continue;
		}
		char name[64];
		const char *value = NULL;
		const char *eq = strchr(a, '=');
		size_t n = eq ? (size_t)(eq - a) : strlen(a);
		if (n >= sizeof(name)) {
			fprintf(stderr, "kopilot %s: unknown flag \"%.40s...\" (see kopilot %s --help)\n", cmd, a, cmd);
			return false;
		}
		memcpy(name, a, n);
		name[n] = '\0';
		if (!in_list(accepted, name)) {
			fprintf(stderr, "kopilot %s: unknown flag %s (see kopilot %s --help)\n", cmd, name, cmd);
			return false;
		}
		if (strcmp(name, "--quiet") == 0) {
			if (eq) {
				fprintf(stderr, "kopilot %s: flag --quiet takes no value\n", cmd);
				return false;
			}
			o->quiet = true;
			continue;
		}
		if (!in_list(value_flags, name)) {
			fprintf(stderr, "kopilot %s: unknown flag %s (see kopilot %s --help)\n", cmd, name, cmd);
			return false;
		}
		if (eq) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			fprintf(stderr, "kopilot %s: flag %s needs a value\n", cmd, name);
			return false;
		}
		if (!*value) {
			fprintf(stderr, "kopilot %s: flag %s: empty value\n", cmd, name);
			return false;
		}
		if (strcmp(name, "--set") == 0) {
			o->sets = kp_xrealloc(o->sets, (o->nsets + 1) * sizeof(*o->sets));
			o->sets[o->nsets++] = value;
		} else if (strcmp(name, "--namespace") == 0) {
			if (!kp_namespace_name_valid(value)) {
				fprintf(stderr,
					"kopilot %s: flag --namespace: \"%.80s\" is not a namespace name (lowercase letters, "
					"digits and '-', at most 63 characters)\n",
					cmd, value);
				return false;
			}
			o->namespaces = kp_xrealloc(o->namespaces, (o->nnamespaces + 1) * sizeof(*o->namespaces));
			o->namespaces[o->nnamespaces++] = value;
		} else {
			*flag_slot(o, name) = value;
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
	/* Dedicated flags are --set shorthands, so `config show` reports them as flags. */
	const char *shorthand[][2] = {{"report.template", o->template_path}, {"cluster.name", o->cluster_name}};
	for (size_t i = 0; i < 2; i++) {
		if (!shorthand[i][1])
			continue;
		kp_buf b;
		kp_buf_init(&b);
		kp_buf_printf(&b, "%s=%s", shorthand[i][0], shorthand[i][1]);
		kp_status st = kp_config_set(&o->cfg, b.data, KP_SRC_FLAG, &err);
		kp_buf_release(&b);
		if (st) {
			fprintf(stderr, "kopilot %s: %s\n", cmd, err.msg);
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
	return true;
}

void kp_opts_release(kp_opts *o)
{
	free(o->sets);
	free(o->namespaces);
	free(o->previous_run);
	json_object_put(o->previous_doc);
	kp_config_release(&o->cfg);
	kp_audit_release(&o->audit);
}

