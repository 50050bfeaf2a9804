/*
 * cmd_slack.h - Slack for kopilot serve, through the Events API: Slack
 * POSTs an event to /slack/events, signed with the app's signing secret;
 * an @mention in a channel or a direct message becomes a task, and its
 * answer goes back in the thread by chat.postMessage with the bot token.
 *
 * Why the Events API and not Socket Mode: it is the HTTP server kopilot
 * serve already runs (no WebSocket library, no second connection to keep
 * alive), every request is verified by its signature (HMAC-SHA256 over
 * "v0:TIMESTAMP:BODY", older than 5 minutes refused as a replay), and it
 * scales as the rest of serve does. Socket Mode would suit a cluster that
 * exposes nothing to the internet; docs/slack.md says how to route
 * Slack's requests to serve instead (an Ingress on /slack/events only).
 */
#ifndef KP_CMD_SLACK_H
#define KP_CMD_SLACK_H

#include <json-c/json.h>

#include "pipeline/config.h"
#include "pipeline/kp.h"

/* Whether sig ("v0=HEX") is Slack's signature of body at timestamp ts
 * (unix seconds, within 300 s of now); false with *why. */
bool kp_slack_signature_ok(const char *secret, const char *ts, const char *sig, const char *body, size_t n,
			   int64_t now, const char **why);

/* Slack's mrkdwn for Markdown text: **bold** and headings as *bold*,
 * [text](url) as <url|text>; &, < and > escaped as Slack asks. New string. */
char *kp_slack_mrkdwn(const char *markdown);

/* The text of a message that mentions the app, without the mentions. New string. */
char *kp_slack_strip_mentions(const char *text);

/* Posts text (Markdown, converted) in channel, in the thread thread_ts
 * (NULL: none), with the proposals (the ask tool's, may be NULL) listed
 * after it, through chat.postMessage with slack.bot_token. */
kp_status kp_slack_post(const kp_config *cfg, const char *channel, const char *thread_ts, const char *text,
			json_object *proposals, kp_error *err);

#endif
