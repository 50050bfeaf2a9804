/*
 * cmd_help.c - `kopilot help [COMMAND]` and every command's --help text,
 * with the exit codes they all share.
 */
#include <stdio.h>
#include <string.h>

#include "pipeline/cmd.h"

static const char exit_codes_help[] =
	"Exit codes:\n"
	"  0  ok\n"
	"  2  usage or configuration error (bad flag, bad value, bad config file)\n"
	"  3  finished but degraded: some input was not collected; the report says which\n"
	"  4  failed: malformed input data, an output could not be written, or another\n"
	"     kopilot is writing the same run directory; RUN keeps its previous run\n";

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
	 "RUN is all or nothing: the run is built beside it (.RUN.new.PID) and\n"
	 "switched in at once when complete; a failed or killed run leaves the\n"
	 "previous one. One writer at a time (.RUN.lock). Files are 0600 unless\n"
	 "output.file_mode says otherwise.\n"
	 "\n"
	 "Options:\n"
	 "  --snapshot DIR        snapshot to read (required until live collection lands)\n"
	 "  --out RUN             run directory to write (created if missing; an existing directory\n"
	 "                        must be a run directory or empty)\n"
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
	 "Starts a new run: validates a snapshot and copies it into RUN/snapshot/\n"
	 "(RUN then holds the snapshot alone; env values, Secret data and\n"
	 "last-applied-configuration annotations redacted), with cluster.json\n"
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
	 "findings.json, plan.json, the reports and run.json, built from the old\n"
	 "analysis, are removed: run `kopilot recommend RUN` and `render` next.\n"
	 "--namespace NS (repeatable) keeps only the findings in those namespaces;\n"
	 "cluster-scoped findings are left out. analysis.json records it as \"scope\".\n"},
	{"recommend",
	 "usage: kopilot recommend RUN [--config FILE] [--set KEY=VALUE] [--previous RUN_DIR | --state-dir DIR]\n"
	 "\n"
	 "Prices RUN/analysis.json, decides risk, actions and approval, and writes\n"
	 "RUN/findings.json (contract kopilot.findings/v1) and RUN/plan.json.\n"
	 "--previous RUN_DIR compares with that run (new, persisting, resolved\n"
	 "findings); --state-dir DIR compares with the most recent run in DIR\n"
	 "other than RUN. The reports and run.json, built from the old findings,\n"
	 "are removed: run `kopilot render RUN` next.\n"},
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

static bool known_command(const char *cmd)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (strcmp(helps[i].cmd, cmd) == 0)
			return true;
	return false;
}

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

int cmd_help(int argc, char **argv)
{
	/* `kopilot help nosuch` is the same mistake as `kopilot nosuch` */
	if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		kp_print_help("help");
		return KP_EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "kopilot help: unexpected argument \"%s\" (usage: kopilot help [COMMAND])\n", argv[1]);
		return KP_EXIT_USAGE;
	}
	if (argc == 1 && !known_command(argv[0])) {
		fprintf(stderr, "kopilot help: unknown command \"%s\" (see kopilot --help)\n", argv[0]);
		return KP_EXIT_USAGE;
	}
	kp_print_help(argc > 0 ? argv[0] : NULL);
	return KP_EXIT_OK;
}
