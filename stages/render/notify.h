/*
 * notify.h - the message a finished `kopilot run` sends: a Slack incoming
 * webhook (Block Kit) and a generic JSON webhook, each rendered from a
 * mustache template in JSON mode (templates/notify-slack.json.mustache,
 * templates/notify-webhook.json.mustache, compiled in; notify.slack_template
 * and notify.webhook_template override them) and checked to be valid JSON
 * before it is sent.
 *
 * A notification never fails a run: every outcome (sent or not, attempts,
 * the HTTP status, the error) comes back as data for the command to warn
 * about and record. The webhook URLs are secrets (a Slack incoming webhook
 * URL carries its token): no message names more of them than the scheme
 * and host.
 *
 * Ownership: returned json_objects and strings are the caller's.
 */
#ifndef KP_NOTIFY_H
#define KP_NOTIFY_H

#include "pipeline/config.h"
#include "pipeline/kp.h"

typedef struct kp_notify_run {
	const char *run_dir;     /* where pr/index.json is read from */
	const char *run_id;      /* the run directory's name, for links */
	int exit_code;
	const char *exit_status; /* "ok", "degraded" */
} kp_notify_run;

/* The templates' context. summary: findings.json's header with its first
 * findings (most money first; whole findings or at least id, category,
 * risk, container, monthly_savings, resource, evidence[].summary);
 * by_category: {category: {"findings": n, "monthly_savings": x}} over all
 * findings. The keys are documented in templates/README.md. */
json_object *kp_notify_context(json_object *summary, json_object *by_category, const kp_config *cfg,
			       const kp_notify_run *info);

/* Renders the template at path (NULL: builtin, named builtin_name in
 * messages) and parses the result: a document that is not JSON is
 * KP_ERR_INPUT naming the template and the line and column of the
 * rendered text where it breaks. *out is the rendered text. */
kp_status kp_notify_render(const char *path, const char *builtin, const char *builtin_name, json_object *ctx,
			   char **out, kp_error *err);

/* Renders and sends to each configured target (notify.slack_webhook_url,
 * notify.webhook_url), one after the other. Appends one object per target
 * to outcomes: {"target": "slack"|"webhook", "sent": bool, "attempts": n,
 * "status": HTTP status or null, "error": message or null}. Returns how
 * many failed. */
int kp_notify_all(const kp_config *cfg, json_object *ctx, json_object *outcomes);

/* generated from templates/ by the Makefile (build/gen/templates.c) */
const char *kp_template_notify_slack(void);
const char *kp_template_notify_webhook(void);

#endif
