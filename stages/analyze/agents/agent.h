/*
 * agent.h - sub-agents and their supervisor.
 *
 * A sub-agent is a skill run as a ReAct loop: its system prompt (with the
 * house rules and its runbook), the task, then model turns; each tool call
 * goes through tools.h (and so through the safety layer), its result goes
 * back quoted as data; the loop ends at an answer without tool calls, at
 * the step limit (then the model is asked to answer from what it has, no
 * tools), or when the run's token budget is spent.
 *
 * The supervisor routes a request to one or more skills (the model picks
 * from their descriptions and examples; when it cannot, the skills'
 * routing keywords decide), runs them in parallel (at most
 * safety.max_concurrent_tasks threads), merges their answers into one, and
 * with reflect scores the answer against a rubric (0-10) and, below the
 * threshold, runs again with the critique, at most twice. Every routing,
 * delegation, score and tool decision goes to the audit.
 */
#ifndef KP_AGENT_H
#define KP_AGENT_H

#include "stages/analyze/agents/llm.h"
#include "stages/analyze/agents/skills.h"
#include "stages/analyze/agents/tools.h"

typedef struct kp_agent_limits {
	int max_steps;        /* model turns of one sub-agent (default 15) */
	int64_t token_budget; /* tokens (in + out) for the whole request, 0: 200,000 */
	int reflect_threshold; /* 0-10 (default 7) */
	int max_replans;      /* default 2 */
} kp_agent_limits;

void kp_agent_limits_default(kp_agent_limits *l);

typedef struct kp_agent_answer {
	char *text;         /* Markdown, heap */
	char **skills;      /* the sub-agents that answered, heap */
	size_t nskills;
	bool routed_by_keywords; /* the model's routing failed or was unusable */
	int steps;          /* model turns, all sub-agents */
	int score;          /* reflection's last score, -1 without reflect */
	int replans;
	bool step_limit;
	kp_llm_totals tokens;
} kp_agent_answer;

void kp_agent_answer_release(kp_agent_answer *a);

/* One sub-agent on task; answer heap text in *out. */
kp_status kp_agent_run_skill(kp_llm *llm, const kp_skill *skill, kp_agent_env *env, const char *task,
			     const kp_agent_limits *lim, char **out, int *steps, bool *hit_limit, kp_error *err);

/* The whole request: route, delegate in parallel, merge, reflect. */
kp_status kp_agent_ask(kp_llm *llm, const kp_skills *skills, kp_agent_env *env, const char *prompt, bool reflect,
		       const kp_agent_limits *lim, kp_agent_answer *out, kp_error *err);

/* The JSON object in a model's text (models wrap it in prose or code
 * fences): from the first { to the last }; NULL when none parses. */
json_object *kp_agent_json_in(const char *text);

/* The deterministic router alone (tests, and the model's fallback): the
 * skills whose keywords the prompt holds, best first; cost_optimization
 * (else the first skill) when none does. Indexes into skills; returns how many. */
size_t kp_agent_route_keywords(const kp_skills *skills, const char *prompt, size_t *out, size_t max);

#endif
