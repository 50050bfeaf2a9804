/*
 * cmd_help.c - `kopilot help [COMMAND]` and every command's --help text,
 * with the exit codes they all share; `kopilot help --man`, the manual page
 * built from those texts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cmd.h"

static const char exit_codes_help[] =
	"Exit codes:\n"
	"  0  ok\n"
	"  1  complete, and a --fail-on condition holds (the gate; beats 3, never 2 or 4)\n"
	"  2  usage or configuration error (bad flag, bad value, bad config file)\n"
	"  3  finished but degraded: some input was not collected; the report says which\n"
	"  4  failed: malformed input data, the API server could not be reached, an output\n"
	"     could not be written, or another kopilot is writing the same run directory;\n"
	"     RUN keeps its previous run\n";

static const struct help {
	const char *cmd;
	const char *text;
} helps[] = {
	{"run",
	 "usage: kopilot run [--snapshot DIR | --kubeconfig FILE [-c NAME]] (--out RUN | --state-dir DIR) [options]\n"
	 "\n"
	 "Runs the whole pipeline: collect -> analyze -> recommend -> render.\n"
	 "Reads a snapshot directory (objects/<resource>.json as printed by\n"
	 "`kubectl get <resource> -A -o json`, and usage.json) or, without\n"
	 "--snapshot, the live cluster of the kubeconfig (--kubeconfig FILE,\n"
	 "KUBECONFIG, ~/.kube/config; in a pod, its service account), and writes\n"
	 "the run directory RUN: snapshot/, analysis.json, findings.json,\n"
	 "plan.json, report.md, report.html, report.xlsx, audit.jsonl, run.json.\n"
	 "The live cluster is only read (GET requests; Secrets are never read).\n"
	 "\n"
	 "RUN is all or nothing: the run is built beside it (.RUN.new.PID) and\n"
	 "switched in at once when complete; a failed or killed run leaves the\n"
	 "previous one. One writer at a time (.RUN.lock). Files are 0600 unless\n"
	 "output.file_mode says otherwise.\n"
	 "\n"
	 "Options:\n"
	 "  --snapshot DIR        snapshot to read instead of the live cluster\n"
	 "  --kubeconfig FILE     kubeconfig of the cluster to read (default: KUBECONFIG, several files\n"
	 "                        merged as kubectl does, then ~/.kube/config, then the pod's service account)\n"
	 "  -c, --context NAME    kubeconfig context to use (default: its current-context)\n"
	 "  --snapshot-out DIR    also save what was collected from the cluster as a snapshot in DIR\n"
	 "                        (kubectl-style Lists, redacted, and usage.json): `--snapshot DIR` reads it\n"
	 "  --out RUN             run directory to write (created if missing; an existing directory\n"
	 "                        must be a run directory or empty)\n"
	 "  --state-dir DIR       keep runs in DIR: without --out the run goes to DIR/<UTC YYYYMMDDTHHMMSSZ>,\n"
	 "                        and the most recent run in DIR is the previous run (as --previous);\n"
	 "                        the reports get a savings trend over DIR's runs of the same scope\n"
	 "                        (history.json; report.xlsx sheet History), and after a complete run\n"
	 "                        the oldest runs beyond history.keep_runs (default 30, 0 = all) are removed\n"
	 "  --previous RUN_DIR    compare with that run: findings.json says which findings are new,\n"
	 "                        persisting (since when) and resolved; the reports show it\n"
	 "  -o, --output FORMAT   what stdout carries: table (default: the summary), json (findings.json\n"
	 "                        as written to RUN), yaml (the same document as YAML), csv (one row\n"
	 "                        per finding, columns in docs/contracts/FINDINGS.md) or sarif\n"
	 "                        (RUN/findings.sarif; needs --repo DIR); progress and\n"
	 "                        warnings stay on stderr. With json, yaml or csv and neither --out nor\n"
	 "                        --state-dir, the run directory is a temporary one, removed afterwards\n"
	 "  -n, --namespace NS    report only findings in namespace NS (repeatable); cluster-scoped\n"
	 "                        findings (nodes, persistent volumes) are left out\n"
	 "  -A, --all-namespaces  every namespace (the default; cannot be combined with -n)\n"
	 "  --exclude-namespace NS  leave namespace NS out (repeatable): added to scope.exclude_namespaces\n"
	 "  -l, --selector SELECTOR  report only findings whose resource (the Deployment, Service, PVC,\n"
	 "                        Node, ...) has matching labels, kubectl syntax: k=v, k==v, k!=v,\n"
	 "                        'k in (a,b)', 'k notin (a,b)', k, !k; a comma means and\n"
	 "  --shard I/N           report only shard I of N (I from 0, as an Indexed Job's\n"
	 "                        JOB_COMPLETION_INDEX; auto/N reads that variable): the namespaces whose\n"
	 "                        FNV-1a 64 hash modulo N is I, and in shard 0 the cluster-scoped findings.\n"
	 "                        The rules still read the whole cluster; `kopilot merge` joins the N runs\n"
	 "                        into the unsharded run's result (give every shard the same --now)\n"
	 "  --config FILE         YAML configuration (see docs/configuration.md)\n"
	 "  --set KEY=VALUE       override one configuration key, e.g. prices.cpu_core_hour=0.05 (repeatable)\n"
	 "  --now RFC3339         fix \"now\" for ages and windows, for reproducible runs\n"
	 "  --template FILE       Markdown report template (mustache subset, see templates/README.md)\n"
	 "  --cluster-name NAME   name shown in reports (default: the snapshot directory's name)\n"
	 "  --focus FILE          a FOCUS cost export (CSV) of this account: findings are priced at the\n"
	 "                        effective rates it shows per instance type and StorageClass\n"
	 "                        (prices.focus_file; see README \"Prices from your bill (FOCUS)\")\n"
	 "  --no-color            no colour in the summary; colour is used only when stdout is a\n"
	 "                        terminal, and never when NO_COLOR is set or TERM=dumb\n"
	 "  --quiet               no progress on stderr (no info messages, no progress line on a terminal;\n"
	 "                        warnings and errors stay), no summary on stdout;\n"
	 "                        the document of -o json|yaml|csv is still printed\n"
	 "  --prometheus-url URL  Prometheus (Thanos, Mimir, Cortex) to read the live cluster's usage from\n"
	 "                        (default: PROMETHEUS_URL; a path prefix is kept). Without one, a live run\n"
	 "                        takes one sample from metrics-server (low confidence) or lists every\n"
	 "                        workload as skipped for rightsizing; either way it is degraded (exit 3)\n"
	 "  --window DURATION     how far back usage is summarised, ending at --now: 14d (default), 7d, 36h\n"
	 "  --pr                  also the pull requests: the resize findings edited in the manifests of\n"
	 "                        --repo, one per namespace (see kopilot render --help)\n"
	 "  --repo DIR|URL        the manifests' repository: a checkout (dry run only), or its URL (pr.repo).\n"
	 "                        A checkout also gives RUN/findings.sarif (SARIF 2.1.0 for code scanning):\n"
	 "                        each finding at its manifest line (a container's resources:, an object's\n"
	 "                        name:); findings with no place there are left out and counted (run.json)\n"
	 "  --base BRANCH         the branch the pull requests go into (pr.base, default main)\n"
	 "  --forge github|gitlab where the pull requests go (pr.forge, default github)\n"
	 "  --dry-run             write RUN/pr/GROUP.patch and RUN/pr/GROUP.md, push nothing (the default\n"
	 "                        without a token)\n"
	 "  --fail-on COND        a CI gate: exit 1 when COND holds on the complete run (repeatable: any\n"
	 "                        one triggers); stderr says which, with its numbers, and run.json \"gate\".\n"
	 "                        new: a finding new since the previous run (--previous, --state-dir);\n"
	 "                        without a previous run every finding counts as new, so a baseline that\n"
	 "                        went missing fails the gate instead of passing it.\n"
	 "                        savings>=AMOUNT: the net potential savings (the summary's headline) are\n"
	 "                        at least AMOUNT in the report's currency, e.g. savings>=1500.50.\n"
	 "                        Exit 1 beats 3 (degraded); 2 and 4 beat it (nothing complete to judge)\n"
	 "\n"
	 "When it ends, failed or not, the run's metrics go to a Prometheus\n"
	 "Pushgateway (PUSHGATEWAY_URL: POST to job=\"kopilot\", cluster=NAME; a\n"
	 "failed run leaves kopilot_last_success_timestamp_seconds as it was) and\n"
	 "to METRICS_TEXTFILE_DIR/kopilot.prom for the node exporter;\n"
	 "METRICS_ENABLED=false turns both off. A finished run (exit 0, 1 or 3) posts\n"
	 "its summary to SLACK_WEBHOOK_URL (a Slack incoming webhook, Block Kit)\n"
	 "and NOTIFY_WEBHOOK_URL (a JSON document), linking REPORT_URL/RUN/report.html\n"
	 "(templates: notify.slack_template, notify.webhook_template). Neither\n"
	 "changes the exit code: a failure is a warning on stderr, recorded in\n"
	 "run.json and audit.jsonl.\n"},
	{"collect",
	 "usage: kopilot collect [--snapshot DIR | --kubeconfig FILE [-c/--context NAME]] --out RUN\n"
	 "                       [--prometheus-url URL] [--window DURATION] [--now RFC3339]\n"
	 "                       [--snapshot-out DIR] [--config FILE] [--set KEY=VALUE]\n"
	 "                       [--cluster-name NAME] [--quiet]\n"
	 "\n"
	 "Starts a new run: reads the live cluster (as kopilot run does without\n"
	 "--snapshot: GET requests only, no Secrets, pages of 500 parsed as they\n"
	 "arrive) or validates a snapshot, and writes it into RUN/snapshot/\n"
	 "(RUN then holds the snapshot alone; env values, Secret data and\n"
	 "last-applied-configuration annotations redacted), with cluster.json\n"
	 "(the name reports use: --cluster-name, the kubeconfig's cluster, or the\n"
	 "snapshot directory's name)\n"
	 "and model.bin (the parsed model, so `kopilot analyze RUN` is fast).\n"
	 "A resource the API server refuses (403) or does not serve (404) is\n"
	 "recorded as not collected, with the reason (exit 3), never as \"none\".\n"
	 "--snapshot-out DIR also saves RUN/snapshot/ as a portable snapshot.\n"
	 "--prometheus-url URL and --window DURATION (default 14d, ending at --now)\n"
	 "say where the usage summaries come from (see kopilot run --help); the\n"
	 "queries are summed up on the server, a set per group of namespaces,\n"
	 "and RUN/snapshot/usage.json holds the result (docs/contracts/USAGE.md).\n"},
	{"analyze",
	 "usage: kopilot analyze RUN [--config FILE] [--set KEY=VALUE] [--now RFC3339] [--cluster-name NAME]\n"
	 "                           [-n NS]... [-A] [--exclude-namespace NS]... [-l SELECTOR]\n"
	 "                           [--template FILE] [--quiet]\n"
	 "\n"
	 "Runs the rules over RUN/snapshot and writes RUN/analysis.json\n"
	 "(findings before prices and actions, plus what was skipped and why).\n"
	 "findings.json, plan.json, the reports and run.json, built from the old\n"
	 "analysis, are removed: run `kopilot recommend RUN` and `render` next.\n"
	 "-n/--namespace NS (repeatable) keeps only the findings in those namespaces;\n"
	 "cluster-scoped findings are left out. -A/--all-namespaces is every\n"
	 "namespace, the default. --exclude-namespace NS (repeatable) leaves NS out\n"
	 "(it joins scope.exclude_namespaces). -l/--selector SELECTOR keeps only the\n"
	 "findings whose resource's labels match (kubectl syntax, see kopilot run\n"
	 "--help). analysis.json records them as \"scope\" and counts what went in\n"
	 "\"counts\".\n"},
	{"merge",
	 "usage: kopilot merge RUN... (--out RUN | --state-dir DIR) [--previous RUN_DIR] [--config FILE]\n"
	 "                     [--set KEY=VALUE] [--template FILE] [--quiet]\n"
	 "\n"
	 "Joins the run directories of `kopilot run --shard I/N` (one per index, 0\n"
	 "to N-1, each exactly once) into one run directory: findings.json,\n"
	 "plan.json, summary.json (history.json with --state-dir: the merged\n"
	 "nights make the trend), report.md, report.html, report.xlsx and\n"
	 "run.json, the same findings, order, totals and reports as one unsharded\n"
	 "run of the same snapshot, configuration and --now. The shards must agree\n"
	 "on N, the cluster, the analysis time (run.json now), the usage window,\n"
	 "the configuration (run.json config), the kopilot version and the scope\n"
	 "(-n, -l); a missing or repeated shard, or one from another run, is\n"
	 "refused with exit 2 naming the runs and what differs, and nothing is\n"
	 "written. A degraded shard is merged: its gaps are in the merged\n"
	 "\"missing\" and the merge exits 3.\n"
	 "\n"
	 "  --out RUN             run directory to write (all or nothing, as kopilot run's)\n"
	 "  --state-dir DIR       write DIR/<UTC YYYYMMDDTHHMMSSZ> and compare with the most recent\n"
	 "                        run in DIR: history applies to the merged result, not to the shards\n"
	 "  --previous RUN_DIR    compare with that run instead\n"
	 "  --config FILE, --set KEY=VALUE, --template FILE  what the reports are rendered with\n"
	 "                        (report.*): give the shards' own for the same reports\n"
	 "  --quiet               no summary on stdout\n"},
	{"recommend",
	 "usage: kopilot recommend RUN [--config FILE] [--set KEY=VALUE] [--previous RUN_DIR | --state-dir DIR]\n"
	 "                             [--now RFC3339] [--cluster-name NAME] [--template FILE] [--quiet]\n"
	 "                             [--focus FILE] [--fail-on COND]...\n"
	 "\n"
	 "Prices RUN/analysis.json, decides risk, actions and approval, and writes\n"
	 "RUN/findings.json (contract kopilot.findings/v1), RUN/plan.json and\n"
	 "RUN/summary.json (the run's totals, what trends are made of).\n"
	 "--previous RUN_DIR compares with that run (new, persisting, resolved\n"
	 "findings); --state-dir DIR compares with the most recent run in DIR\n"
	 "other than RUN and writes RUN/history.json, the savings trend over DIR's\n"
	 "runs of the same scope. The reports and run.json, built from the old findings,\n"
	 "are removed: run `kopilot render RUN` next.\n"
	 "--focus FILE (prices.focus_file) prices findings at the effective rates\n"
	 "of a FOCUS cost export: per instance type and StorageClass, matched by\n"
	 "node spec.providerID and volume handle; configured prices.node_types and\n"
	 "prices.storage_classes still win. A malformed export exits 2 naming the\n"
	 "file, line and column.\n"
	 "--fail-on COND (repeatable) judges the new findings.json as kopilot run\n"
	 "does: exit 1 when new or savings>=AMOUNT holds (see kopilot run --help).\n"},
	{"render",
	 "usage: kopilot render RUN [--template FILE] [--config FILE] [--set KEY=VALUE] [--now RFC3339]\n"
	 "                          [--cluster-name NAME] [--quiet]\n"
	 "                          [--pr --repo DIR|URL [--dry-run] [--base BRANCH] [--forge github|gitlab]]\n"
	 "                          [--repo DIR] [--fail-on COND]...\n"
	 "\n"
	 "Writes RUN/report.md, RUN/report.html and RUN/report.xlsx from\n"
	 "RUN/findings.json alone, so it works on a run directory copied from\n"
	 "another machine.\n"
	 "\n"
	 "--repo DIR (a checkout, with or without --pr) also writes RUN/findings.sarif,\n"
	 "SARIF 2.1.0 for code scanning: every finding located in DIR's manifests,\n"
	 "at its container's resources: line (or its object's name: line), URIs\n"
	 "relative to the repository's root; the others are left out and counted.\n"
	 "The same results go to RUN/findings.codequality.json, GitLab's code quality\n"
	 "report format.\n"
	 "\n"
	 "--fail-on COND (repeatable) judges RUN/findings.json as kopilot run does:\n"
	 "exit 1 when new (a finding new since the run recommend compared with;\n"
	 "none: every finding is new) or savings>=AMOUNT holds (see kopilot run --help).\n"
	 "\n"
	 "--pr --repo DIR|URL --dry-run: the pull requests that carry the resize\n"
	 "findings, one per namespace (pr.group_by: team for one per team label,\n"
	 "run for one in all), as\n"
	 "RUN/pr/GROUP.patch (`git am` applies it in DIR's repository) and\n"
	 "RUN/pr/GROUP.md (title and body: every change with the evidence, the\n"
	 "money, the confidence and risk, and the namespace's destructive\n"
	 "cleanups as an approval checklist), and RUN/pr/index.json. Each finding\n"
	 "is located in DIR's YAML files (kind, name and namespace, kustomize\n"
	 "namespaces included) and only its values are rewritten, in the file's\n"
	 "own style. In kustomize layouts an overlay's patch that sets the\n"
	 "resources is edited, and a base other overlays share gets a new patch\n"
	 "file in the overlay instead (kopilot-KIND-NAME.yaml, added to its\n"
	 "patches:). The live object's Argo CD Application or Flux Kustomization,\n"
	 "when the repository declares it, says which path to look in. Helm\n"
	 "templates are never edited: a comment\n"
	 "  # kopilot: resources KIND NAMESPACE/NAME CONTAINER\n"
	 "on the line above a values file's resources: key marks where they are.\n"
	 "What cannot be located or edited without damage (declared twice, an\n"
	 "alias, a JSON 6902 patch) is listed in index.json with the reason, never\n"
	 "guessed; an autoscaler whose target moves with the requests is edited\n"
	 "with them, or neither is. DIR is only read.\n"
	 "\n"
	 "A URL is cloned into pr.cache_dir (fetched on later runs) and read there;\n"
	 "without a token a run is a dry run all the same, and says which token\n"
	 "opens the pull requests.\n"
	 "\n"
	 "--pr --repo URL with a token: the same pull requests opened on GitHub\n"
	 "(GITHUB_TOKEN) or merge requests on GitLab (--forge gitlab,\n"
	 "GITLAB_TOKEN); GIT_TOKEN or pr.token_file for either; pr.ssh_key for an\n"
	 "ssh URL. URL is cloned into pr.cache_dir (fetched on later runs), each\n"
	 "group's edits are one commit on --base pushed as the branch\n"
	 "kopilot/GROUP, and its pull request is created or updated. The same\n"
	 "findings the next night: no commit, no new pull request. A branch\n"
	 "someone else committed to is left alone, never force-pushed: its pull\n"
	 "request gets one comment with the proposed patch instead. A pull\n"
	 "request closed without merging stays closed.\n"},
	{"config",
	 "usage: kopilot config show [--config FILE] [--set KEY=VALUE] [--template FILE] [--cluster-name NAME]\n"
	 "                           [--focus FILE]\n"
	 "\n"
	 "Prints the effective configuration, one key per line, with where each\n"
	 "value came from (default, file, env, flag). Secrets are masked.\n"
	 "Precedence: defaults < --config file < environment < --set.\n"
	 "--template FILE and --cluster-name NAME are --set report.template=FILE\n"
	 "and --set cluster.name=NAME, on every command; --focus FILE is --set\n"
	 "prices.focus_file=FILE.\n"},
	{"ask",
	 "usage: kopilot ask \"QUESTION\" [--run RUN | --snapshot DIR | --kubeconfig FILE [-c/--context NAME]] [--out RUN]\n"
	 "                   [--prometheus-url URL] [--window 14d] [-n/--namespace NS]... [--reflect] [--skill NAME]\n"
	 "                   [-o/--output json] [--config FILE] [--set KEY=VALUE]... [--now RFC3339] [--quiet]\n"
	 "\n"
	 "Answers a question about the cluster's spend from evidence, with the LLM\n"
	 "sub-agents (the skills: kopilot skills list). Without --run it first runs\n"
	 "the pipeline as kopilot run does (on --snapshot DIR or the live cluster)\n"
	 "into --out RUN, or a private directory removed afterwards; --run RUN\n"
	 "answers from an existing run.\n"
	 "\n"
	 "A supervisor routes the question to one to three sub-agents (the model\n"
	 "picks; the skills' keywords when it cannot), which run in parallel as\n"
	 "ReAct loops (at most 15 steps each) over read-only tools: the run's\n"
	 "findings, its snapshot, Prometheus, and, live, kubectl and helm read\n"
	 "verbs. Every command passes the safety layer: reads run, changes are\n"
	 "recorded as proposals and never run (listed on stderr and in\n"
	 "RUN/proposals.json), Secrets and other clusters are refused. --reflect\n"
	 "scores the answer (0-10) and re-plans below 7, at most twice. --skill\n"
	 "NAME has that sub-agent answer alone, without routing or reflection.\n"
	 "\n"
	 "The provider is llm.provider (LLM_PROVIDER: ollama, openai, azure_openai,\n"
	 "anthropic, gemini); every model call and tool decision goes to\n"
	 "RUN/audit.jsonl. The answer is on stdout, a summary on stderr; -o json\n"
	 "prints one JSON object instead: answer, skills, routed_by, this\n"
	 "question's proposals, usage (model calls, tokens, the safety layer's\n"
	 "decisions), score.\n"
	 "\n"
	 "Exit 0; 2 for a usage error or no provider; 4 when no answer came (the\n"
	 "provider down or refusing), or the exit code of the run it needed.\n"},
	{"mcp",
	 "usage: kopilot mcp --transport stdio|http [--snapshot DIR | --kubeconfig FILE [-c/--context NAME] | --run RUN]\n"
	 "                   [--out RUN] [--prometheus-url URL] [--window 14d] [-n/--namespace NS]... [--config FILE]\n"
	 "                   [--set KEY=VALUE]... [--now RFC3339] [--quiet] [--port 8080] [--state-dir DIR]\n"
	 "\n"
	 "Serves the Model Context Protocol (revision 2025-11-25; 2025-06-18 and\n"
	 "2025-03-26 for clients that ask for them) on stdin and stdout, for agents\n"
	 "that start kopilot as a tool server. stdout carries only JSON-RPC\n"
	 "messages, one per line; logs go to stderr.\n"
	 "\n"
	 "Tools, all read-only (a change is a proposal a person approves):\n"
	 "  find_waste       run the pipeline on this server's source (no pull\n"
	 "                   requests): totals, savings per category, top findings\n"
	 "  list_findings    the latest run's findings by namespace, category,\n"
	 "                   minimum savings, paged\n"
	 "  explain_finding  one finding in full, in plain English\n"
	 "  get_report       report.md, report.html or findings.json\n"
	 "  ask              a question for the supervisor and its sub-agents\n"
	 "                   (needs LLM_PROVIDER), as kopilot ask --run RUN\n"
	 "  list_skills      the sub-agents\n"
	 "\n"
	 "The source is the operator's, never the client's: --snapshot DIR, the\n"
	 "live cluster (--kubeconfig, or the pod's service account), or --run RUN\n"
	 "served as it is. Runs go to --out RUN, or a private directory removed\n"
	 "when the server stops. find_waste and ask run as child processes; a\n"
	 "client's cancellation stops them. Each call is recorded in\n"
	 "RUN/audit.jsonl (mcp.call).\n"
	 "\n"
	 "Example client configuration (Claude Desktop, Cursor):\n"
	 "  {\"mcpServers\": {\"kopilot\": {\"command\": \"kopilot\",\n"
	 "    \"args\": [\"mcp\", \"--transport\", \"stdio\", \"--kubeconfig\", \"/home/me/.kube/config\"]}}}\n"
	 "\n"
	 "--transport http serves the same tools over Streamable HTTP at /mcp of\n"
	 "the server kopilot serve runs (--port, --state-dir and KOPILOT_API_TOKEN\n"
	 "as there; see kopilot serve --help).\n"
	 "\n"
	 "Exit 0 at the end of input or on SIGTERM; 2 for a usage error or a\n"
	 "broken kubeconfig; 4 when the server could not start.\n"},
	{"serve",
	 "usage: kopilot serve [--port 8080] [--state-dir DIR] [--snapshot DIR | --kubeconfig FILE [-c/--context NAME]\n"
	 "                     | --run RUN] [--out RUN] [--prometheus-url URL] [--window 14d] [-n/--namespace NS]...\n"
	 "                     [--config FILE] [--set KEY=VALUE]... [--now RFC3339] [--quiet]\n"
	 "\n"
	 "Runs kopilot as a service: a REST task API, the MCP tools over Streamable\n"
	 "HTTP, and Prometheus metrics. Tasks are questions in plain English,\n"
	 "answered in the background by the supervisor and its sub-agents over the\n"
	 "server's run (made on first use from the source flags, as kopilot mcp\n"
	 "does), read-only; what they would change is recorded as a proposal.\n"
	 "\n"
	 "  GET  /health, /readyz                  no token needed\n"
	 "  GET  /skills, /skills/portable          the sub-agents; portable manifests\n"
	 "  GET  /.well-known/agent-manifest.json   what this server offers\n"
	 "  POST /tasks {prompt, reflect, namespace} 202 {id}; GET /tasks/ID\n"
	 "  GET  /tasks/history?limit=N             the latest tasks (kept in SQLite)\n"
	 "  POST /webhook                           a PagerDuty v3 or ServiceNow incident\n"
	 "                                          becomes a task\n"
	 "  POST /slack/events                      Slack's Events API: a mention or a DM\n"
	 "                                          becomes a task, answered in its thread\n"
	 "  POST /mcp                               MCP (kopilot mcp --help)\n"
	 "  GET  /metrics                           on metrics.port (METRICS_PORT, 9090)\n"
	 "\n"
	 "Every endpoint but /health and /readyz needs Authorization: Bearer with\n"
	 "KOPILOT_API_TOKEN (or serve.api_token_file; 16 characters or more);\n"
	 "/slack/events is verified by Slack's signature (SLACK_SIGNING_SECRET).\n"
	 "Limits: serve.max_body_bytes (413), serve.rate_limit_per_minute per\n"
	 "client address (429), safety.max_concurrent_tasks running and\n"
	 "serve.queue_size waiting (503 when full). The task history and the run\n"
	 "live in --state-dir (serve.state_dir, default ~/.local/state/kopilot):\n"
	 "a restart keeps the history. SIGTERM: no new tasks, running ones get\n"
	 "serve.shutdown_grace_seconds to finish, the rest are recorded as\n"
	 "interrupted.\n"
	 "\n"
	 "Exit 0 after SIGTERM; 2 for a usage error, no token or a broken\n"
	 "kubeconfig; 4 when it cannot listen or open its state directory.\n"},
	{"operator",
	 "usage: kopilot operator [--kubeconfig FILE [-c/--context NAME]] [--snapshot DIR | --run RUN] [--out RUN]\n"
	 "                        [--prometheus-url URL] [--window 14d] [--config FILE] [--set KEY=VALUE]...\n"
	 "                        [--now RFC3339] [--quiet]\n"
	 "\n"
	 "Answers AITask resources (kubedevaiops.io/v1alpha1, the CRD in\n"
	 "cron/operator/aitask-crd.yaml) in the cluster: it lists and watches\n"
	 "them, and each one whose spec has no answer yet (status.phase not\n"
	 "Succeeded or Failed, or status.observedGeneration behind\n"
	 "metadata.generation) is answered by the supervisor and its sub-agents,\n"
	 "read-only, as kopilot ask does; the answer, the proposals (never run)\n"
	 "and the tokens go to the AITask's status, with phase Running, then\n"
	 "Succeeded or Failed, and a Succeeded condition.\n"
	 "\n"
	 "  apiVersion: kubedevaiops.io/v1alpha1\n"
	 "  kind: AITask\n"
	 "  metadata: {name: staging-plan, namespace: kopilot}\n"
	 "  spec: {prompt: \"Recommend the next cost-saving actions for staging\", namespace: staging}\n"
	 "\n"
	 "The status PATCH is kopilot's one write to a cluster: its HTTP client\n"
	 "allows exactly a merge patch to .../aitasks/NAME/status and its Role\n"
	 "grants exactly that. Watches resume from the last resourceVersion, use\n"
	 "bookmarks, list again after 410 Expired, and reconnect with backoff.\n"
	 "The tools read the live cluster (or --snapshot DIR, or --run RUN).\n"
	 "SIGTERM: running tasks get serve.shutdown_grace_seconds, then stop\n"
	 "(phase Pending again, reason Interrupted: the next operator answers them).\n"
	 "\n"
	 "Exit 0 after SIGTERM; 2 for a usage error or no kubeconfig; 4 when the\n"
	 "API server cannot be reached at start.\n"},
	{"approve",
	 "usage: kopilot approve ID --run RUN [--kubeconfig FILE] [-c/--context NAME] [--config FILE] [--set KEY=VALUE]\n"
	 "\n"
	 "Runs one change the agents proposed (kopilot ask lists them with their\n"
	 "ids; RUN/proposals.json keeps them), after you have read it: the only\n"
	 "way kopilot changes a cluster. The command is judged again by the safety\n"
	 "layer as if it were new (the file is text): refused when hard-blocked,\n"
	 "when it is destructive in a protected namespace, when it is not kubectl or\n"
	 "helm, or when it uses shell syntax. It runs without a shell, with\n"
	 "--kubeconfig and --context when given, at most once: the proposal records\n"
	 "when it ran and its exit code. Every attempt goes to RUN/audit.jsonl with\n"
	 "the user who ran it.\n"
	 "\n"
	 "Exit 0 when it ran and succeeded; 2 for an unknown, refused or already\n"
	 "run proposal; 4 when the command failed.\n"},
	{"skills",
	 "usage: kopilot skills list | show NAME | validate DIR [--config FILE] [--set KEY=VALUE]\n"
	 "\n"
	 "The LLM sub-agents, each a YAML skill (docs/skills.md): the six built-ins\n"
	 "(skills/builtin, compiled in), then the directories of skills.dirs\n"
	 "(SKILL_DIRS, colon-separated; a later skill of the same name replaces an\n"
	 "earlier one), kept and ordered by skills.enabled (ENABLED_SKILLS).\n"
	 "\n"
	 "  list           the enabled skills and where each comes from\n"
	 "  show NAME      one skill: description, tools, routing, prompt, runbook\n"
	 "  validate DIR   check every *.yaml and *.yml of DIR as SKILL_DIRS would\n"
	 "                 read it; an error names the file, line and field\n"
	 "\n"
	 "Exit 0, or 2 for a skill that does not validate.\n"},
	{"completion",
	 "usage: kopilot completion bash|zsh\n"
	 "\n"
	 "Prints a shell completion script (commands, their flags, -o formats,\n"
	 "files and directories) on stdout, built from the tables the flag parser\n"
	 "uses. Install it with:\n"
	 "\n"
	 "  bash: source <(kopilot completion bash)              (this shell)\n"
	 "        kopilot completion bash > /etc/bash_completion.d/kopilot\n"
	 "  zsh:  source <(kopilot completion zsh)               (after compinit)\n"
	 "        kopilot completion zsh > \"${fpath[1]}/_kopilot\"\n"},
	{"version", "usage: kopilot version\n\nPrints the version and the git commit kopilot was built from\n"
		    "(\"-dirty\" when the tree had changes, \"unknown\" when built outside git).\n"},
	{"help",
	 "usage: kopilot help [COMMAND] [--man]\n"
	 "\n"
	 "Shows help for kopilot or one command. --man prints the manual page\n"
	 "kopilot(1) as roff, built from these help texts (make builds\n"
	 "build/kopilot.1 with it; man -l build/kopilot.1 reads it).\n"},
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
	"  merge        join the shard runs of `kopilot run --shard I/N` into one run\n"
	"  config show  the effective configuration and where each value came from\n"
	"  ask          ask the LLM sub-agents a question: kopilot ask \"...\"\n"
	"  approve      run one change the agents proposed: kopilot approve ID --run RUN\n"
	"  skills       the LLM sub-agents: list, show NAME, validate DIR\n"
	"  mcp          serve the Model Context Protocol to agents: kopilot mcp --transport stdio\n"
	"  serve        the REST task API, MCP over HTTP and metrics: kopilot serve --port 8080\n"
	"  operator     answer AITask resources in the cluster: kopilot operator\n"
	"  completion   shell completion script: kopilot completion bash|zsh\n"
	"  version      print the version\n"
	"  help         this text, or `kopilot help COMMAND`\n"
	"\n"
	"Every command takes --help. Short flags as in kubectl: -n NS, -A, -l SELECTOR,\n"
	"-o FORMAT, -c NAME, -h.\n";

static const char *help_text(const char *cmd)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (cmd && strcmp(helps[i].cmd, cmd) == 0)
			return helps[i].text;
	return NULL;
}

const char *kp_help_text(const char *cmd) { return cmd ? help_text(cmd) : main_help; }

void kp_print_help(const char *cmd)
{
	const char *text = help_text(cmd);
	fputs(text ? text : main_help, stdout);
	fputs("\n", stdout);
	fputs(exit_codes_help, stdout);
}

/* ---- the manual page ----
 * kopilot(1) is these help texts turned into roff, so the two cannot
 * drift. The texts follow a few layout rules the conversion relies on:
 * "usage:" lines (and their indented continuations) stay as they are;
 * "  TERM  description" lines (two spaces in, two or more between) with
 * continuation lines indented further become tagged paragraphs; "Title:"
 * lines become bold headings; other lines are running text. */

/* s[0..n) escaped for roff: backslashes, minus signs (option dashes), and
 * a leading dot or quote that would be read as a request. */
static void roff_text(kp_buf *b, const char *s, size_t n, bool line_start)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (line_start && i == 0 && (c == '.' || c == '\''))
			kp_buf_puts(b, "\\&");
		if (c == '\\')
			kp_buf_puts(b, "\\e");
		else if (c == '-')
			kp_buf_puts(b, "\\-");
		else
			kp_buf_putc(b, c);
	}
}

static size_t indent_of(const char *line, size_t n)
{
	size_t i = 0;
	while (i < n && line[i] == ' ')
		i++;
	return i;
}

/* Converts a help text (from its line after the usage, or all of it) to
 * roff. */
static void roff_body(kp_buf *b, const char *text)
{
	const char *p = text;
	bool in_para = false; /* running text has started: a blank line ends it */
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *next = nl ? nl + 1 : p + n;
		size_t ind = indent_of(p, n);
		if (ind == n) { /* blank */
			if (in_para)
				kp_buf_puts(b, ".PP\n");
			in_para = false;
		} else if (strncmp(p, "usage: ", 7) == 0) {
			kp_buf_puts(b, ".PP\n.nf\n");
			roff_text(b, p + 7, n - 7, true);
			kp_buf_putc(b, '\n');
			/* continuation lines of the usage, aligned under it */
			while (*next && indent_of(next, strcspn(next, "\n")) > 4) {
				size_t m = strcspn(next, "\n");
				size_t k = indent_of(next, m);
				kp_buf_puts(b, "    ");
				roff_text(b, next + k, m - k, false);
				kp_buf_putc(b, '\n');
				next += m + (next[m] == '\n');
			}
			kp_buf_puts(b, ".fi\n");
			in_para = true;
		} else if (ind == 2) {
			/* TERM  description, then deeper-indented continuation lines */
			const char *gap = NULL;
			for (size_t i = 2; i + 1 < n && !gap; i++)
				if (p[i] == ' ' && p[i + 1] == ' ')
					gap = p + i;
			size_t tlen = gap ? (size_t)(gap - p) - 2 : n - 2;
			kp_buf_puts(b, ".TP\n\\fB");
			roff_text(b, p + 2, tlen, false);
			kp_buf_puts(b, "\\fR\n");
			if (gap) {
				const char *d = gap;
				while (*d == ' ')
					d++;
				roff_text(b, d, (size_t)(p + n - d), true);
				kp_buf_putc(b, '\n');
			}
			while (*next && indent_of(next, strcspn(next, "\n")) >= 4) {
				size_t m = strcspn(next, "\n");
				size_t k = indent_of(next, m);
				roff_text(b, next + k, m - k, true);
				kp_buf_putc(b, '\n');
				next += m + (next[m] == '\n');
			}
			in_para = true;
		} else if (ind == 0 && p[n - 1] == ':' && n < 40) {
			kp_buf_puts(b, ".PP\n\\fB");
			roff_text(b, p, n, false);
			kp_buf_puts(b, "\\fR\n");
			in_para = true;
		} else {
			roff_text(b, p + ind, n - ind, true);
			kp_buf_putc(b, '\n');
			in_para = true;
		}
		p = next;
	}
}

/* The usage line of a help text (without "usage: "), continuations joined. */
static void usage_of(kp_buf *b, const char *text)
{
	const char *p = strstr(text, "usage: ");
	if (!p)
		return;
	p += 7;
	for (;;) {
		size_t m = strcspn(p, "\n");
		roff_text(b, p, m, true);
		kp_buf_putc(b, '\n');
		p += m + (p[m] == '\n');
		if (indent_of(p, strcspn(p, "\n")) <= 4)
			break;
		kp_buf_puts(b, "    ");
		p += indent_of(p, strcspn(p, "\n"));
	}
}

void kp_man_page(kp_buf *b)
{
	kp_buf_printf(b, ".\\\" kopilot(1), generated by `kopilot help --man` from the --help texts\n"
			 ".TH KOPILOT 1 \"\" \"kopilot %s\" \"User Commands\"\n"
			 ".nh\n.ad l\n"
			 ".SH NAME\n"
			 "kopilot \\- find wasted Kubernetes spend and propose safe changes\n"
			 ".SH SYNOPSIS\n.nf\n",
		      KP_VERSION);
	usage_of(b, main_help);
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		usage_of(b, helps[i].text);
	kp_buf_puts(b, ".fi\n.SH DESCRIPTION\n");
	roff_body(b, strchr(main_help, '\n') + 1);
	kp_buf_puts(b, ".SH COMMANDS\n");
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		kp_buf_printf(b, ".SS kopilot %s\n", helps[i].cmd);
		roff_body(b, helps[i].text);
	}
	kp_buf_puts(b, ".SH \"EXIT STATUS\"\n");
	roff_body(b, strchr(exit_codes_help, '\n') + 1);
	kp_buf_puts(b, ".SH ENVIRONMENT\n"
		       ".TP\n\\fBNO_COLOR\\fR\n"
		       "set and not empty: no colour in the terminal summary (https://no\\-color.org)\n"
		       ".TP\n\\fBKOPILOT_*\\fR, and the other variables in docs/configuration.md\n"
		       "configuration keys; precedence: defaults < \\-\\-config file < environment < \\-\\-set\n"
		       ".SH \"SEE ALSO\"\n"
		       "\\fBkubectl\\fR(1); README.md, docs/configuration.md and docs/contracts/FINDINGS.md\n"
		       "in the kopilot sources\n");
}

int cmd_help(int argc, char **argv)
{
	kp_opts o;
	memset(&o, 0, sizeof(o));
	int rc = KP_EXIT_OK;
	if (!kp_parse_flags("help", argc, argv, kp_command_flags("help"), 1, &o)) {
		rc = KP_EXIT_USAGE;
	} else if (o.help) {
		kp_print_help("help");
	} else if (o.man) {
		if (o.npositional) {
			fprintf(stderr, "kopilot help: --man is the whole manual page and takes no COMMAND\n");
			rc = KP_EXIT_USAGE;
		} else {
			kp_buf b;
			kp_buf_init(&b);
			kp_man_page(&b);
			fputs(kp_buf_cstr(&b), stdout);
			kp_buf_release(&b);
		}
	} else if (o.npositional == 1 && !help_text(o.positional[0])) {
		/* `kopilot help nosuch` is the same mistake as `kopilot nosuch` */
		char *v = kp_visible(o.positional[0]);
		fprintf(stderr, "kopilot help: unknown command \"%s\" (see kopilot --help)\n", v);
		free(v);
		rc = KP_EXIT_USAGE;
	} else {
		kp_print_help(o.npositional ? o.positional[0] : NULL);
	}
	kp_opts_release(&o);
	return rc;
}
