/*
 * explain.h - findings explained by the cost_optimization sub-agent.
 *
 * With an LLM provider (llm.provider) and llm.explain on, the findings are
 * grouped by root cause (category and namespace, largest savings first,
 * at most 8 a group), and each group is one model call without tools: the
 * findings' measured evidence goes in, one plain-English explanation per
 * finding comes out as JSON. An explanation replaces the template text
 * (explained_by "llm:PROVIDER/MODEL") only when every number in it is one
 * the finding's evidence, sizes or template text holds (small counts
 * aside): the measured numbers win, and an explanation that brings its own
 * is dropped and counted.
 *
 * At most llm.explain_max_calls calls a run; answers are cached in
 * llm.cache_dir by a hash of the provider, the model, the prompt and the
 * evidence, so an unchanged cluster costs no call the next night. A
 * provider that fails stops the explaining (no call after the first
 * failure): the rest keep their template text, and the caller marks the
 * run degraded. Never fails the findings.
 */
#ifndef KP_EXPLAIN_H
#define KP_EXPLAIN_H

#include "pipeline/audit.h"
#include "pipeline/config.h"
#include "pipeline/model.h"

typedef struct kp_explain_stats {
	int64_t groups, calls, cache_hits, explained, dropped, in_tokens, out_tokens;
	bool failed;     /* the provider failed: some findings kept their template text */
	char error[512]; /* why, when failed */
	char label[128]; /* "openai/gpt-4o-mini" */
} kp_explain_stats;

/* Nothing when llm.provider is none or llm.explain is off. */
void kp_explain_findings(const kp_config *cfg, kp_audit *audit, kp_findings *f, kp_explain_stats *st);

/* Whether every number in text is among those of allowed (small counts
 * aside): the rule that drops an explanation. Exposed for tests. */
bool kp_explain_numbers_ok(const char *text, const char *allowed);

#endif
