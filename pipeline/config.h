/*
 * config.h - effective configuration: defaults < YAML file < environment <
 * flags. Every key remembers where its value came from, so
 * `kopilot config show` can say so. Secrets (API keys) are masked whenever
 * the configuration is shown or written anywhere.
 *
 * Ownership: kp_config_init() fills defaults; kp_config_release() frees every
 * string and list inside. Loading functions copy what they keep.
 */
#ifndef KP_CONFIG_H
#define KP_CONFIG_H

#include "pipeline/kp.h"

typedef enum { KP_SRC_DEFAULT, KP_SRC_FILE, KP_SRC_ENV, KP_SRC_FLAG } kp_config_source;

typedef struct kp_strlist {
	char **items;
	size_t len;
} kp_strlist;

/* A price per node type (prices.node_types in YAML): what one node of that
 * instance type costs per hour, on demand and on spot (< 0: not given). */
typedef struct kp_node_type_price {
	char *name;
	double hourly, spot_hourly;
} kp_node_type_price;

/* A price per StorageClass (prices.storage_classes): per GiB-month. */
typedef struct kp_storage_class_price {
	char *name;
	double gib_month;
} kp_storage_class_price;

/* The configuration is grouped by the part of the program that reads it;
 * a new capability adds a section (git, notify, ...) instead of growing one
 * flat struct. The YAML keys are the user's names and do not follow the
 * grouping (rightsizing.min_monthly_savings is rules.rightsizing...). */

/* prices.*: OpenCost defaults; what money is computed at (pipeline/money.h). */
typedef struct kp_prices_config {
	double cpu_core_hour;        /* prices.cpu_core_hour       0.031611 */
	double memory_gib_hour;      /* prices.memory_gib_hour     0.004237 */
	double storage_gib_month;    /* prices.storage_gib_month   0.04 */
	double load_balancer_hour;   /* prices.load_balancer_hour  0.025 */
	double hours_per_month;      /* prices.hours_per_month     730 */
	char *currency;              /* prices.currency            "USD" */
	char *source;                /* "default" unless any price key came from elsewhere: then "config",
	                              * or "opencost-custom-pricing:<path>" when a custom pricing file is used */
	char *custom_pricing_file;   /* prices.custom_pricing_file: OpenCost custom pricing JSON/YAML, NULL = none */
	double spot_cpu_core_hour;   /* the custom file's spotCPU, < 0 = unknown */
	double spot_memory_gib_hour; /* the custom file's spotRAM, < 0 = unknown */
	double custom_storage_gib_hour; /* the custom file's storage (per GiB-hour), < 0 = none */
	kp_node_type_price *node_types; /* prices.node_types (YAML only) */
	size_t nnode_types;
	kp_storage_class_price *storage_classes; /* prices.storage_classes (YAML only) */
	size_t nstorage_classes;
	char *focus_file;            /* prices.focus_file: a FOCUS cost export (CSV), NULL = none */
	/* The rates derived from focus_file for this run (pipeline/focus.h):
	 * not configuration but the recommend stage's, set on its copy of the
	 * configuration and owned by it; NULL otherwise. */
	const struct kp_focus_rates *focus;
} kp_prices_config;

/* The rule families' thresholds (stages/analyze/rules/). */
typedef struct kp_rules_config {
	struct {
		int cpu_percentile;          /* rightsizing.cpu_percentile 95 (one of 50, 95, 99, 100) */
		double cpu_margin;           /* rightsizing.cpu_margin     0.15 (fraction added to the percentile) */
		double memory_margin;        /* rightsizing.memory_margin  0.20 (fraction added to the peak) */
		int64_t cpu_floor_m;         /* rightsizing.cpu_floor_millicores 10 */
		int64_t memory_floor_b;      /* rightsizing.memory_floor_bytes   33554432 (32Mi); YAML accepts "32Mi" */
		double min_relative_change;  /* rightsizing.min_relative_change 0.20 */
		int64_t min_cpu_change_m;    /* rightsizing.min_cpu_change_millicores 50 */
		int64_t min_memory_change_b; /* rightsizing.min_memory_change_bytes 67108864 (64Mi) */
		double min_monthly_savings;  /* rightsizing.min_monthly_savings 1.0: at the finding's own price,
		                              * applied where money is decided (the recommend stage) */
		double min_history_hours;    /* rightsizing.min_history_hours 24 */
		double runtime_overhead_ratio;  /* rightsizing.runtime_overhead_ratio 0.25 */
		int64_t runtime_overhead_min_b; /* rightsizing.runtime_overhead_min_bytes 128Mi: a runtime's memory floor is
						   heap + max(heap x ratio, min) (stages/collect/runtime.h) */
		int oom_history_days;        /* rightsizing.oom_history_days 30: an OOM kill in pod status this
						recent, at the current limit, keeps memory from being lowered */
		int min_batch_runs;          /* rightsizing.min_batch_runs 3: runs of a Job/CronJob needed before sizing it */
		double throttling_threshold; /* rightsizing.throttling_threshold 0.10: share of CFS periods throttled
						that makes the CPU limit the problem */
		char *throttled_cpu_limit;   /* rightsizing.throttled_cpu_limit "raise" or "remove": what to do with a
						CPU limit that throttles */
		char *vpa_floor;             /* rightsizing.vpa_floor "lower_bound" or "target": how much of a
						recommendation-only VPA's advice is a floor */
	} rightsizing;
	struct {
		double grace_days;           /* orphaned_pvc.grace_days 7 */
	} orphaned_pvc;
	struct {
		double cpu_m;                /* idle.cpu_millicores 5: max over pods of CPU p95 at or below this */
		double cpu_max_m;            /* idle.cpu_max_millicores 25: max over pods of CPU max at or below this */
		int64_t memory_variation_b;  /* idle.memory_variation_bytes 16777216 (16Mi); quantities accepted */
		double min_history_days;     /* idle.min_history_days 7 */
	} idle;
	struct {
		double grace_days;           /* zero_replica.grace_days 7 */
	} zero_replica;
	struct {
		double grace_days;           /* finished_job.grace_days 7 */
	} finished_job;
	struct {
		double grace_days;           /* unbound_pv.grace_days 7 */
	} unbound_pv;
	struct {
		double grace_hours;          /* idle_loadbalancer.grace_hours 24 */
	} idle_loadbalancer;
	struct {
		double max_requested_ratio;  /* nodes.max_requested_ratio 0.5: CPU and memory requested / allocatable below this */
		int min_nodes;               /* nodes.min_nodes 1: never propose fewer nodes than this */
		char *not_evictable_pods;    /* nodes.not_evictable_pods "review" or "skip": a node whose pods are
						marked not to be evicted is a critical review, or no finding */
	} nodes;
} kp_rules_config;

/* scope.*: anchored POSIX extended regular expressions; an object is judged
 * when its namespace matches an include pattern (or there are none) and no
 * exclude pattern, and its kind no exclude_kinds pattern. */
typedef struct kp_scope_config {
	kp_strlist include_namespaces; /* scope.include_namespaces [] */
	kp_strlist exclude_namespaces; /* scope.exclude_namespaces [] */
	kp_strlist exclude_kinds;      /* scope.exclude_kinds [] e.g. ["Job", "CronJob"] */
} kp_scope_config;

/* safety.*: protected namespaces are always a superset of the three built-ins. */
typedef struct kp_safety_config {
	kp_strlist protected_namespaces;   /* SAFETY_PROTECTED_NAMESPACES (JSON list) / safety.protected_namespaces */
	bool require_approval_destructive; /* SAFETY_REQUIRE_APPROVAL_DESTRUCTIVE; false is rejected: cannot be configured away */
	int max_concurrent_tasks;          /* SAFETY_MAX_CONCURRENT_TASKS 5 (1..1000) */
} kp_safety_config;

/* llm.* and skills.* (parsed and validated now, used by the agents). */
typedef struct kp_llm_config {
	char *provider;        /* LLM_PROVIDER: none|ollama|openai|azure_openai|anthropic|gemini; default "none" */
	char *model;           /* LLM_MODEL "gpt-oss:20b" */
	char *ollama_base_url; /* OLLAMA_BASE_URL "http://localhost:11434" (must be http:// or https://) */
	char *gemini_api_key;  /* GEMINI_API_KEY, secret */
	char *gemini_model;    /* GEMINI_MODEL "gemini-2.5-flash" */
	char *gemini_base_url; /* GEMINI_BASE_URL "https://generativelanguage.googleapis.com" */
	char *openai_api_key;  /* OPENAI_API_KEY, secret; optional for a local OpenAI-compatible server */
	char *openai_base_url; /* OPENAI_BASE_URL "https://api.openai.com/v1" (vLLM, llama.cpp: their /v1) */
	char *azure_endpoint;  /* AZURE_OPENAI_ENDPOINT "https://NAME.openai.azure.com" */
	char *azure_api_key;   /* AZURE_OPENAI_API_KEY, secret */
	char *azure_api_version; /* AZURE_OPENAI_API_VERSION "2024-10-21" */
	char *azure_deployment;  /* AZURE_OPENAI_DEPLOYMENT */
	char *anthropic_api_key;  /* ANTHROPIC_API_KEY, secret */
	char *anthropic_base_url; /* ANTHROPIC_BASE_URL "https://api.anthropic.com" */
	char *anthropic_model;    /* ANTHROPIC_MODEL "claude-sonnet-4-5" */
	int timeout_seconds;   /* llm.timeout_seconds 120: one call, the whole answer */
	int max_retries;       /* llm.max_retries 3: of a 429, 5xx or cut answer (never of auth or quota errors) */
	int num_ctx;           /* llm.num_ctx 8192: Ollama's context window (options.num_ctx) */
	int max_tokens;        /* llm.max_tokens 4096: most tokens one answer may have (Anthropic requires it) */
	bool explain;          /* llm.explain true: findings explained by the cost sub-agent (with a provider) */
	bool anonymize;        /* llm.anonymize false: the cluster's names replaced by aliases in what is sent */
	int explain_max_calls; /* llm.explain_max_calls 20: model calls a run may make for explanations */
	char *cache_dir;       /* llm.cache_dir: answers kept by hash ($XDG_CACHE_HOME or ~/.cache /kopilot/llm) */
	kp_strlist enabled_skills; /* ENABLED_SKILLS JSON list; default the six built-ins */
	kp_strlist skill_dirs;     /* SKILL_DIRS ':'-separated */
} kp_llm_config;

typedef struct kp_config {
	struct {
		char *cluster_name;    /* cluster.name, NULL = derive */
	} collect;
	/* kube.*: how the live cluster's API server is read (pipeline/http.h) */
	struct {
		int timeout_seconds;         /* kube.timeout_seconds 120: one request (one page), whole */
		int connect_timeout_seconds; /* kube.connect_timeout_seconds 10 */
		double qps;                  /* kube.qps 50: requests per second, sustained (a list's next pages are not paced) */
		int burst;                   /* kube.burst 100 */
		int page_size;               /* kube.page_size 500: items per list page (limit=) */
		int retries;                 /* kube.retries 5: attempts per request (429, 5xx, cut connections) */
	} kube;
	/* prometheus.*: where usage comes from (stages/collect/prom.h) */
	struct {
		char *url;             /* PROMETHEUS_URL / --prometheus-url; NULL: metrics-server, else none */
		char *window;          /* prometheus.window "14d" / --window */
		char *step;            /* prometheus.step "auto": resolution of the percentiles */
		char *rate_window;     /* prometheus.rate_window "5m": rate() range for CPU */
		char *token;           /* PROMETHEUS_TOKEN, secret: bearer token */
		char *token_file;      /* prometheus.token_file: re-read per run */
		char *username;        /* prometheus.username: basic auth */
		char *password;        /* PROMETHEUS_PASSWORD, secret */
		char *ca_file;         /* prometheus.ca_file */
		bool insecure_skip_tls_verify; /* prometheus.insecure_skip_tls_verify false */
		kp_strlist headers;    /* prometheus.headers ["X-Scope-OrgID: team-a"] */
		int timeout_seconds;   /* prometheus.timeout_seconds 120: one query */
		int64_t max_samples;   /* prometheus.max_samples 20000000: samples one query may load */
		int concurrency;       /* prometheus.concurrency 2: queries in flight */
		char *namespace_label; /* prometheus.labels.namespace "namespace" */
		char *pod_label;       /* prometheus.labels.pod "pod" */
		char *container_label; /* prometheus.labels.container "container" */
	} prometheus;
	/* pull requests with the edited manifests (render --pr) */
	struct {
		bool enabled;   /* pr.enabled false / --pr */
		char *repo;     /* pr.repo: the manifests (a checkout directory) / --repo */
		char *base;     /* pr.base "main" / --base */
		char *forge;    /* pr.forge "github" / --forge: github or gitlab */
		char *group_by; /* pr.group_by "namespace": namespace or run */
		bool dry_run;   /* pr.dry_run false / --dry-run: RUN/pr/ only, nothing pushed */
		char *api_url;  /* pr.api_url: the forge's API, NULL = https://api.github.com */
		char *cache_dir; /* pr.cache_dir: clones kept between runs, NULL = ~/.cache/kopilot/repos */
		char *label;    /* pr.label "kopilot": put on every pull request */
		char *token;    /* pr.token, secret; else pr.token_file, else GITHUB_TOKEN or GITLAB_TOKEN
				 * (by pr.forge), else GIT_TOKEN */
		char *token_file; /* pr.token_file: the token in a file (a mounted Secret) */
		char *ssh_key;  /* pr.ssh_key: private key for an ssh:// or git@ URL, NULL = ssh-agent */
		char *ssh_known_hosts; /* pr.ssh_known_hosts: the server's key must be in it, NULL = ~/.ssh/known_hosts */
		char *team_label; /* pr.team_label "team": the label pr.group_by team groups by */
	} pr;
	kp_prices_config prices;
	kp_rules_config rules;
	kp_scope_config scope;
	kp_safety_config safety;
	kp_llm_config llm;
	struct {
		char *report_template; /* report.template: path to a Markdown mustache template, NULL = built-in */
		int detail_findings;   /* report.detail_findings 200: findings report.md shows in full, most money first */
		int row_findings;      /* report.row_findings 2000: the next ones, one table row each; the rest grouped */
	} render;
	struct {
		bool metrics_enabled;  /* METRICS_ENABLED true: serve's /metrics and run metrics */
		int metrics_port;      /* METRICS_PORT 9090 (1..65535) */
		int port;              /* serve.port 8080 / --port */
		char *address;         /* serve.address "0.0.0.0" */
		char *api_token;       /* KOPILOT_API_TOKEN, secret: the bearer token of every endpoint
					* but /health and /readyz */
		char *api_token_file;  /* serve.api_token_file: the token in a file (a mounted Secret) */
		char *state_dir;       /* serve.state_dir: tasks.db and the run, NULL = $XDG_STATE_HOME/kopilot
					* or ~/.local/state/kopilot */
		int64_t max_body_bytes; /* serve.max_body_bytes 1048576: larger requests get 413 */
		int rate_limit_per_minute; /* serve.rate_limit_per_minute 120: per client address, 429 beyond */
		int queue_size;        /* serve.queue_size 16: tasks waiting; 503 when full */
		int shutdown_grace_seconds; /* serve.shutdown_grace_seconds 25: SIGTERM lets running tasks finish */
		int client_timeout_seconds; /* serve.client_timeout_seconds 30: an idle or slow connection is closed */
		kp_strlist allowed_origins; /* serve.allowed_origins []: browser Origins /mcp accepts */
	} serve;
	/* operator.*: repeated Warning events (kopilot operator, an AITask with spec.watchEvents) */
	struct {
		int event_threshold;        /* operator.event_threshold 3: a Warning seen this often is investigated */
		int event_cooldown_minutes; /* operator.event_cooldown_minutes 30: the same object and reason waits
					     * this long before another look, doubling each time (at most a day) */
	} operator_;
	/* slack.*: the Events API on kopilot serve (POST /slack/events) */
	struct {
		char *signing_secret; /* SLACK_SIGNING_SECRET, secret: verifies each request Slack sends */
		char *bot_token;      /* SLACK_BOT_TOKEN, secret (xoxb-...): chat.postMessage for the replies */
		char *api_url;        /* slack.api_url "https://slack.com/api" */
	} slack;
	/* metrics.* beyond serve's /metrics: the metrics of each `kopilot run`
	 * (pipeline/runmetrics.h), pushed to a Pushgateway and/or written as a
	 * node-exporter textfile; metrics.enabled false turns both off */
	struct {
		char *pushgateway_url;      /* PUSHGATEWAY_URL: NULL = no push */
		char *pushgateway_username; /* metrics.pushgateway_username: basic auth */
		char *pushgateway_password; /* PUSHGATEWAY_PASSWORD, secret */
		char *pushgateway_token;    /* PUSHGATEWAY_TOKEN, secret: bearer token */
		char *textfile_dir;         /* METRICS_TEXTFILE_DIR: DIR/kopilot.prom, NULL = none */
		int max_savings_series;     /* metrics.max_savings_series 1000: {category,namespace} pairs kept */
		int timeout_seconds;        /* metrics.timeout_seconds 10: one push attempt */
	} run_metrics;
	/* notify.*: the message at the end of `kopilot run` (stages/render/notify.h) */
	struct {
		char *slack_webhook_url; /* SLACK_WEBHOOK_URL, secret: a Slack incoming webhook */
		char *webhook_url;       /* NOTIFY_WEBHOOK_URL, secret: any endpoint taking JSON */
		char *slack_template;    /* notify.slack_template: NULL = built-in */
		char *webhook_template;  /* notify.webhook_template: NULL = built-in */
		char *report_url;        /* REPORT_URL: where RUN's files are served, NULL = no links */
		int timeout_seconds;     /* notify.timeout_seconds 10: one attempt */
		int max_attempts;        /* notify.max_attempts 4: 429 and 5xx are tried again */
	} notify;
	struct {
		char *format;          /* LOG_FORMAT json|console, default "console" for a CLI */
	} log;
	struct {
		char *file_mode;       /* output.file_mode "0600": what run files are created with; directories
		                        * get x where r is set (0700). "0640" shares with the group. */
	} output;

	/* provenance, one per key in the key table (see config.c) */
	kp_config_source *sources;
	char **source_detail; /* e.g. the file path or the env var name */
} kp_config;

void kp_config_init(kp_config *c);
void kp_config_release(kp_config *c);

/* Loads a YAML file over the current values. Unknown keys and bad values
 * are errors naming the file, line and key (KP_ERR_USAGE). */
kp_status kp_config_load_file(kp_config *c, const char *path, kp_error *err);
/* Applies the environment (the seed's variables). envp-style lookup through
 * getenv_fn so tests need not touch the real environment; NULL = getenv. */
kp_status kp_config_load_env(kp_config *c, const char *(*getenv_fn)(const char *name), kp_error *err);
/* Applies one flag override "key=value" with a dotted key
 * ("prices.cpu_core_hour=0.05"), as given by --set. */
kp_status kp_config_set(kp_config *c, const char *assignment, kp_config_source src, kp_error *err);
/* Appends item to the list key (scope.exclude_namespaces) as flag (the
 * flag's name, shown by `config show`) says. */
kp_status kp_config_list_append(kp_config *c, const char *key, const char *item, const char *flag, kp_error *err);
/* Cross-field validation after all layers are applied. */
kp_status kp_config_validate(const kp_config *c, kp_error *err);

/* Text for `kopilot config show`: one line per key,
 * "key = value    (source)" with secrets masked. Caller frees. */
char *kp_config_show(const kp_config *c);
/* The same as JSON (for run.json), secrets masked. Caller puts. */
json_object *kp_config_to_json(const kp_config *c);

bool kp_strlist_contains(const kp_strlist *l, const char *s);

#endif
