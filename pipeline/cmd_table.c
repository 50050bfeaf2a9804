/*
 * cmd_table.c - every flag and every command, once. The flag parser
 * (cmd_common.c), the dispatcher (main.c), the help drift check
 * (tests/unit/test_cli.c) and the shell completion (cmd_completion.c) read
 * these tables; the help texts (cmd_help.c) describe them in prose and the
 * man page is generated from the help texts.
 */
#include <string.h>

#include "pipeline/cmd.h"

static const char *const output_formats[] = {"table", "json", "yaml", "csv", "sarif", NULL};
static const char *const forges[] = {"github", "gitlab", NULL};
static const char *const transports[] = {"stdio", "http", NULL};

const kp_flag kp_flags[] = {
	{"--snapshot", 0, "DIR", KP_VALUE_DIR, NULL, "snapshot directory to read"},
	{"--out", 0, "RUN", KP_VALUE_DIR, NULL, "run directory to write"},
	{"--state-dir", 0, "DIR", KP_VALUE_DIR, NULL, "keep runs in DIR, the latest is the previous run"},
	{"--previous", 0, "RUN_DIR", KP_VALUE_DIR, NULL, "compare with that run"},
	{"--config", 0, "FILE", KP_VALUE_FILE, NULL, "YAML configuration file"},
	{"--set", 0, "KEY=VALUE", KP_VALUE_TEXT, NULL, "override one configuration key"},
	{"--now", 0, "RFC3339", KP_VALUE_TEXT, NULL, "fix the current time, for reproducible runs"},
	{"--template", 0, "FILE", KP_VALUE_FILE, NULL, "Markdown report template"},
	{"--cluster-name", 0, "NAME", KP_VALUE_TEXT, NULL, "cluster name shown in reports"},
	{"--focus", 0, "FILE", KP_VALUE_FILE, NULL, "FOCUS cost export (CSV), effective prices from the bill"},
	{"--namespace", 'n', "NS", KP_VALUE_TEXT, NULL, "report only this namespace (repeatable)"},
	{"--all-namespaces", 'A', NULL, KP_VALUE_NONE, NULL, "report every namespace (the default)"},
	{"--exclude-namespace", 0, "NS", KP_VALUE_TEXT, NULL, "leave this namespace out (repeatable)"},
	{"--selector", 'l', "SELECTOR", KP_VALUE_TEXT, NULL, "report only resources whose labels match"},
	{"--shard", 0, "I/N", KP_VALUE_TEXT, NULL, "report only shard I of N (namespaces by hash; cluster-scoped in 0)"},
	{"--output", 'o', "FORMAT", KP_VALUE_CHOICE, output_formats, "what to print on stdout"},
	{"--no-color", 0, NULL, KP_VALUE_NONE, NULL, "no colour in the terminal summary"},
	{"--quiet", 0, NULL, KP_VALUE_NONE, NULL, "no progress on stderr"},
	{"--kubeconfig", 0, "FILE", KP_VALUE_FILE, NULL, "kubeconfig of the live cluster to read"},
	{"--context", 'c', "NAME", KP_VALUE_TEXT, NULL, "kubeconfig context, default its current-context"},
	{"--prometheus-url", 0, "URL", KP_VALUE_TEXT, NULL, "Prometheus to read usage from, default PROMETHEUS_URL"},
	{"--window", 0, "DURATION", KP_VALUE_TEXT, NULL, "how far back usage is summarised, default 14d"},
	{"--snapshot-out", 0, "DIR", KP_VALUE_DIR, NULL, "also save the collected snapshot in DIR"},
	{"--pr", 0, NULL, KP_VALUE_NONE, NULL, "also the pull requests, the resize findings edited in the manifests"},
	{"--repo", 0, "DIR", KP_VALUE_DIR, NULL, "the repository of the manifests, a checkout with --dry-run, else its URL"},
	{"--base", 0, "BRANCH", KP_VALUE_TEXT, NULL, "the branch the pull requests go into, default main"},
	{"--forge", 0, "NAME", KP_VALUE_CHOICE, forges, "where the pull requests go, github or gitlab"},
	{"--dry-run", 0, NULL, KP_VALUE_NONE, NULL, "pull requests as RUN/pr/GROUP.patch and .md, nothing pushed"},
	{"--run", 0, "RUN", KP_VALUE_DIR, NULL, "answer from this run directory"},
	{"--reflect", 0, NULL, KP_VALUE_NONE, NULL, "score the answer and re-plan when it falls short"},
	{"--transport", 0, "NAME", KP_VALUE_CHOICE, transports, "how MCP clients talk to the server, stdio or http"},
	{"--skill", 0, "NAME", KP_VALUE_TEXT, NULL, "this sub-agent answers, without routing (kopilot skills list)"},
	{"--port", 0, "PORT", KP_VALUE_TEXT, NULL, "the port to listen on, default 8080 (serve.port)"},
	{"--fail-on", 0, "COND", KP_VALUE_TEXT, NULL, "exit 1 when COND holds, new or savings>=AMOUNT (repeatable)"},
	{"--help", 'h', NULL, KP_VALUE_NONE, NULL, "show help"},
	{"--man", 0, NULL, KP_VALUE_NONE, NULL, "print the manual page as roff"},
	{0},
};

const kp_flag *kp_flag_find(const char *name)
{
	for (const kp_flag *f = kp_flags; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static const char *const run_flags[] = {"--snapshot", "--out", "--state-dir", "--previous", "--namespace",
					"--all-namespaces", "--exclude-namespace", "--selector", "--shard", "--output",
					"--config", "--set", "--now", "--template", "--cluster-name", "--no-color",
					"--quiet", "--focus", "--kubeconfig", "--context", "--prometheus-url", "--window", "--snapshot-out",
					"--pr", "--repo", "--base", "--forge", "--dry-run", "--fail-on", NULL};
static const char *const collect_flags[] = {"--snapshot", "--out", "--config", "--set", "--cluster-name", "--quiet",
					    "--kubeconfig", "--context", "--prometheus-url", "--window", "--snapshot-out",
					    "--now", NULL};
static const char *const analyze_flags[] = {"--namespace", "--all-namespaces", "--exclude-namespace", "--selector",
					    "--config", "--set", "--now", "--template", "--cluster-name", "--quiet",
					    NULL};
static const char *const recommend_flags[] = {"--config", "--set", "--now", "--template", "--cluster-name",
					      "--quiet", "--previous", "--state-dir", "--focus", "--fail-on", NULL};
static const char *const render_flags[] = {"--config", "--set", "--now", "--template", "--cluster-name", "--quiet",
					   "--pr", "--repo", "--base", "--forge", "--dry-run", "--fail-on", NULL};
static const char *const merge_flags[] = {"--out", "--state-dir", "--previous", "--config", "--set", "--template",
					  "--quiet", NULL};
static const char *const config_flags[] = {"--config", "--set", "--template", "--cluster-name", "--focus", NULL};
static const char *const no_flags[] = {NULL};
static const char *const help_flags[] = {"--man", NULL};
static const char *const config_words[] = {"show", NULL};
static const char *const skills_flags[] = {"--config", "--set", NULL};
static const char *const approve_flags[] = {"--run", "--kubeconfig", "--context", "--config", "--set", NULL};
static const char *const ask_flags[] = {"--run", "--snapshot", "--kubeconfig", "--context", "--prometheus-url", "--window",
					"--out", "--namespace", "--reflect", "--skill", "--output", "--config", "--set", "--now", "--quiet", NULL};
static const char *const mcp_flags[] = {"--transport", "--port", "--state-dir", "--run", "--snapshot", "--kubeconfig", "--context",
					"--prometheus-url", "--window", "--out", "--namespace", "--config", "--set",
					"--now", "--quiet", NULL};
static const char *const serve_flags[] = {"--port", "--state-dir", "--run", "--snapshot", "--kubeconfig", "--context",
					  "--prometheus-url", "--window", "--out", "--namespace", "--config", "--set",
					  "--now", "--quiet", NULL};
static const char *const operator_flags[] = {"--kubeconfig", "--context", "--snapshot", "--prometheus-url", "--window",
					     "--out", "--run", "--config", "--set", "--now", "--quiet", NULL};
static const char *const skills_words[] = {"list", "show", "validate", NULL};
static const char *const shells[] = {"bash", "zsh", NULL};

const kp_command kp_commands[] = {
	{"run", cmd_run, run_flags, KP_VALUE_NONE, NULL, "collect, analyze, recommend and render in one go"},
	{"collect", cmd_collect, collect_flags, KP_VALUE_NONE, NULL, "read a cluster or a snapshot into a run directory"},
	{"analyze", cmd_analyze, analyze_flags, KP_VALUE_DIR, NULL, "run the rules: RUN/analysis.json"},
	{"recommend", cmd_recommend, recommend_flags, KP_VALUE_DIR, NULL, "prices, risk, actions: RUN/findings.json"},
	{"render", cmd_render, render_flags, KP_VALUE_DIR, NULL, "reports: RUN/report.md, report.html, report.xlsx"},
	{"merge", cmd_merge, merge_flags, KP_VALUE_DIR, NULL, "join the shard runs of kopilot run --shard into one run"},
	{"config", cmd_config, config_flags, KP_VALUE_CHOICE, config_words, "the effective configuration"},
	{"ask", cmd_ask, ask_flags, KP_VALUE_TEXT, NULL, "ask the LLM sub-agents a question about the cluster's spend"},
	{"approve", cmd_approve, approve_flags, KP_VALUE_TEXT, NULL, "run one change an agent proposed, by its id"},
	{"mcp", cmd_mcp, mcp_flags, KP_VALUE_NONE, NULL, "serve the Model Context Protocol to agents: find_waste, ask and more"},
	{"serve", cmd_serve, serve_flags, KP_VALUE_NONE, NULL, "the REST task API, MCP over HTTP and metrics"},
	{"operator", cmd_operator, operator_flags, KP_VALUE_NONE, NULL, "answer AITask resources in the cluster"},
	{"skills", cmd_skills, skills_flags, KP_VALUE_CHOICE, skills_words, "the LLM sub-agents: list, show NAME, validate DIR"},
	{"completion", cmd_completion, no_flags, KP_VALUE_CHOICE, shells, "shell completion script for bash or zsh"},
	{"version", cmd_version, no_flags, KP_VALUE_NONE, NULL, "print the version"},
	{"help", cmd_help, help_flags, KP_VALUE_COMMAND, NULL, "help for kopilot or one command"},
	{0},
};

const kp_command *kp_command_find(const char *name)
{
	for (const kp_command *c = kp_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const char *const *kp_command_flags(const char *cmd)
{
	const kp_command *c = kp_command_find(cmd);
	return c ? c->flags : no_flags;
}
