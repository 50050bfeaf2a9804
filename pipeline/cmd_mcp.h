/*
 * cmd_mcp.h - the Model Context Protocol server: its messages and its
 * tools, apart from any transport. `kopilot mcp --transport stdio`
 * (cmd_mcp.c) feeds it lines from stdin; the HTTP server feeds it the
 * bodies of Streamable HTTP requests. Both get the same tools, the same
 * safety layer and the same audit.
 *
 * Protocol revision 2025-11-25; a client asking for 2025-06-18 or
 * 2025-03-26 gets that revision (no outputSchema, structuredContent or
 * tool titles in 2025-03-26, which has JSON-RPC batches instead); any
 * other request gets 2025-11-25, and the client decides.
 *
 * The tools only read: find_waste runs the pipeline (as `kopilot run`
 * does, without pull requests) on the source the server was started with,
 * into the server's run directory; list_findings, explain_finding and
 * get_report read that run; ask gives the question to the supervisor
 * (`kopilot ask --run RUN`); list_skills lists the sub-agents. A client
 * chooses none of the paths: the operator who started the server did.
 * find_waste and ask run as child processes of this one (its own binary),
 * in a process group of their own, so a cancelled call stops them and a
 * crash in the pipeline cannot take the server down.
 *
 * Ownership: a message handed to kp_mcp_session_handle is the caller's
 * (the session takes its own references); a message given to the send
 * function is the callee's for the call only (it serializes and returns).
 */
#ifndef KP_CMD_MCP_H
#define KP_CMD_MCP_H

#include <json-c/json.h>
#include <stdatomic.h>

#include "pipeline/cmd.h"

typedef struct kp_mcp kp_mcp;
typedef struct kp_mcp_session kp_mcp_session;

/* Sends one message (a response, or a batch's array of them) to the
 * client. Called from the thread that handled the request or from a
 * tool's worker thread: it must be safe to call from several at once. */
typedef void (*kp_mcp_send_fn)(void *ctx, json_object *msg);

/* The server over o (its configuration and source flags, kept by
 * reference: o outlives it). run: the run directory the tools read and
 * find_waste writes; may_run: whether find_waste may make a new run
 * (false with --run: the server serves that run as it is). self: this
 * program's path, for the child processes. */
kp_mcp *kp_mcp_new(kp_opts *o, const char *run, bool may_run, const char *self);
void kp_mcp_free(kp_mcp *m);

kp_mcp_session *kp_mcp_session_new(kp_mcp *m, kp_mcp_send_fn send, void *ctx);
/* One parsed message: a request, a notification, or (2025-03-26) a batch.
 * Replies go through send; a tools/call replies later, from its thread. */
void kp_mcp_session_handle(kp_mcp_session *s, json_object *msg);
/* The reply to one message, handled in this thread (NULL: none is due, or
 * the call was cancelled): a tools/call runs here, listed, so a
 * notifications/cancelled in another request stops it. For transports that
 * hold a request open until its answer (Streamable HTTP). */
json_object *kp_mcp_session_call(kp_mcp_session *s, json_object *msg);
/* The parse error reply (-32700, id null) for a body that is not JSON. */
json_object *kp_mcp_parse_error(const char *why);
/* A session of kopilot's own entry points (the REST task API), initialized
 * at the newest revision; client names it in logs and the audit. send is
 * never used. */
kp_mcp_session *kp_mcp_session_new_internal(kp_mcp *m, const char *client);
/* One tool run in this thread, as a tools/call would (same checks, audit,
 * concurrency limit): its structured result (caller frees), or NULL with
 * *error (heap) saying why ("cancelled" when *cancel was set). */
json_object *kp_mcp_tool_run(kp_mcp_session *s, const char *tool, json_object *args, atomic_bool *cancel,
			     char **error);
/* A line that is not JSON: the parse error reply (-32700). */
void kp_mcp_session_parse_error(kp_mcp_session *s, const char *why);
/* The negotiated revision ("" before initialize). */
const char *kp_mcp_session_version(const kp_mcp_session *s);
/* Calls every running tool off now (their replies are dropped); returns
 * at once. A session a client deleted, a server that is stopping. */
void kp_mcp_session_cancel_all(kp_mcp_session *s);
/* Calls every running tool off, waits for them (no replies are sent for
 * them), frees the session. */
void kp_mcp_session_free(kp_mcp_session *s);

/* What kopilot mcp and kopilot serve check before they start: the source
 * flags (--run, or --snapshot, or the live cluster), the configuration
 * (o->cfg), --port. An exit code; 0 to go on. */
int kp_cmd_mcp_prepare(const char *cmd, kp_opts *o);
/* The flags of serve or operator parsed, --help answered, and
 * kp_cmd_mcp_prepare passed: true with o to release by the caller; false
 * with the exit code in *rc (o released). */
bool kp_cmd_service_opts(const char *cmd, int argc, char **argv, kp_opts *o, int *rc);
/* The HTTP server (cmd_serve.c): REST, /mcp, /metrics, until SIGTERM. */
int kp_cmd_serve(const char *cmd, kp_opts *o);

/* The revisions this server speaks, newest first, NULL-terminated. */
extern const char *const kp_mcp_versions[];

#endif
