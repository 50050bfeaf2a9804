/*
 * safety.h - the one place that decides what may be done: protected
 * namespaces, approval for destructive actions, and the classification of
 * every command a person or an agent is asked to run.
 *
 * These rules are invariants: configuration can ADD protected namespaces,
 * never remove the built-in ones, and nothing turns approval for a
 * destructive action off (kp_config rejects SAFETY_REQUIRE_APPROVAL_DESTRUCTIVE=false).
 */
#ifndef KP_SAFETY_H
#define KP_SAFETY_H

#include "pipeline/config.h"
#include "pipeline/model.h"

/* The namespaces that are protected whatever the configuration says. */
extern const char *const kp_builtin_protected_namespaces[3];

bool kp_safety_namespace_protected(const kp_config *cfg, const char *ns);

typedef struct kp_command_decision {
	kp_risk risk;
	bool hard_blocked;      /* never runs, never proposed */
	bool destructive;       /* deletes or disrupts: delete, drain, cordon, scale to zero */
	bool mutating;          /* changes the cluster at all */
	bool approval_required; /* destructive, or any change in a protected namespace */
	bool protected_namespace;
	char reason[256];       /* why it is blocked or gated; "" when LOW and free */
} kp_command_decision;

/* Classifies a shell command line (what an agent or a report proposes). */
void kp_safety_classify_command(const kp_config *cfg, const char *command, kp_command_decision *out);

/* Whether cmd uses shell syntax outside quotes (a pipe, ;, &&, ||,
 * redirections, $, backquotes, a newline): the agents' commands run by
 * execve with an argument vector, never through a shell, so such a
 * command cannot mean what it says; what (the first) goes in why. */
bool kp_safety_shell_syntax(const char *cmd, char *why, size_t n);

/* Sets f->action's destructive / approval_required / blocked / blocked_reason
 * from the action type, the namespace and the classification of
 * f->action.command, and raises f->risk where the command is riskier. */
void kp_safety_decide(const kp_config *cfg, kp_finding *f);

#endif
