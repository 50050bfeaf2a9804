/*
 * tools.h - what the sub-agents can do, all of it read-only, each call
 * through the one safety layer (pipeline/safety.h).
 *
 *   run_kubectl {command}   a kubectl command line. Read verbs run (kubectl
 *                           by posix_spawnp with an argument vector, no
 *                           shell, kopilot's own kubeconfig and context);
 *                           a mutating one is not run: it becomes a
 *                           proposal with an id (`kopilot approve ID`);
 *                           refused outright: what the safety layer
 *                           hard-blocks (Secrets, another cluster or
 *                           identity, exec, URLs, shell syntax ...)
 *   run_helm {command}      the same for helm (list, status, get values)
 *   run_shell {command}     a command line of any program: kubectl and helm
 *                           as above, date runs, everything else becomes a
 *                           proposal (nothing that resolves or connects runs
 *                           unattended: a lookup is data sent out)
 *   read_resource {kind, name, namespace}
 *                           one object as JSON: from the run's redacted
 *                           snapshot, or `kubectl get -o json` when live;
 *                           never a Secret
 *   query_prometheus {query, time}
 *                           a PromQL instant query against prometheus.url
 *   list_findings {namespace, category, min_savings, limit}
 *                           the run's findings, compact, largest savings first
 *   get_finding {id}        one finding whole
 *
 * A result is text for the model: what came back, cut to max_output bytes
 * with a note saying so; an error is a result too (is_error), so the model
 * can correct itself. Output from the cluster is wrapped as data.
 *
 * Threads: sub-agents run in parallel, so one env serves several threads;
 * the proposals and the audit are kept under its lock.
 */
#ifndef KP_TOOLS_H
#define KP_TOOLS_H

#include <pthread.h>

#include "pipeline/audit.h"
#include "pipeline/config.h"
#include "stages/analyze/agents/llm.h"
#include "stages/analyze/agents/skills.h"

/* A change an agent asked for and no agent ran: a person approves it by id. */
typedef struct kp_proposal {
	char id[13];       /* 12 hex digits of the command's hash */
	char *command;
	char *skill;       /* which sub-agent asked */
	kp_risk risk;
	bool destructive, blocked; /* blocked: in a protected namespace, never runs */
	char *reason;
} kp_proposal;

typedef struct kp_agent_env {
	const kp_config *cfg;
	const char *run_dir;      /* its findings.json: list_findings, get_finding (NULL: none) */
	const char *snapshot_dir; /* its objects/ lists, for read_resource (NULL: none) */
	bool live;                /* kubectl and helm may run against the cluster */
	const char *kubeconfig, *context; /* handed to kubectl/helm by kopilot, never by the model */
	const char *kubectl, *helm;       /* programs (NULL: "kubectl", "helm" on PATH) */
	kp_audit *audit;          /* may be NULL */
	size_t max_output;        /* bytes of one tool result (0: 16 KiB; never above llm.num_ctx bytes,
				   * about a quarter of the context window) */
	double command_timeout;   /* seconds one command may take (0: 30) */
	/* filled as the agents run */
	pthread_mutex_t lock;
	KP_ARRAY(kp_proposal) proposals;
	int64_t decisions[4];     /* commands the safety layer let run, proposed, refused, or found no cluster
				   * for (kp_decision_names), under lock */
	json_object *findings;    /* findings.json, read on first use */
} kp_agent_env;

void kp_agent_env_init(kp_agent_env *e, const kp_config *cfg);
void kp_agent_env_release(kp_agent_env *e);
/* The names of kp_agent_env.decisions, in order: "run", "proposed",
 * "refused", "no-cluster". */
extern const char *const kp_decision_names[4];

/* An audit event, under the env's lock (fields owned). */
void kp_agent_audit(kp_agent_env *e, const char *event, json_object *fields);

/* The specs of the tools skill may use (its allow-list), in a fixed order;
 * *n how many. The array is static. */
const kp_llm_tool *kp_agent_tools(const kp_skill *skill, kp_llm_tool *out, size_t *n);

/* Runs one tool call for skill; the result text (heap) for the model,
 * *is_error when the call failed or was refused. */
char *kp_agent_tool_call(kp_agent_env *e, const kp_skill *skill, const kp_llm_call *call, bool *is_error);

#endif
