/*
 * cmd_mcp.c - `kopilot mcp --transport stdio`: the MCP server of
 * cmd_mcp.h on stdin and stdout, for agents that start kopilot as a
 * subprocess (Claude Desktop, Cursor, an SDK client).
 *
 * stdout carries only JSON-RPC messages, one per line: at start the real
 * stdout is kept on a private descriptor and descriptor 1 becomes stderr,
 * so nothing else this process (or a library) prints can corrupt the
 * channel. Lines longer than 8 MiB are refused with a parse error and
 * skipped. The server ends at end of input, on SIGTERM or SIGINT, or when
 * the client stops reading: running tools are called off first (their
 * child processes stopped) and the private run directory removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/cmd.h"
#include "pipeline/cmd_mcp.h"
#include "pipeline/log.h"

#define MAX_LINE (8u << 20)

typedef struct stdio_out {
	int fd;
	pthread_mutex_t lock;
	atomic_bool broken; /* the client stopped reading */
} stdio_out;

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void send_line(void *ctx, json_object *msg)
{
	stdio_out *out = ctx;
	const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(text);
	pthread_mutex_lock(&out->lock);
	/* one message, one line: JSON text never holds a raw newline */
	struct iovec_like {
		const char *p;
		size_t n;
	} parts[2] = {{text, n}, {"\n", 1}};
	for (int i = 0; i < 2 && !atomic_load(&out->broken); i++) {
		const char *p = parts[i].p;
		size_t left = parts[i].n;
		while (left) {
			ssize_t w = write(out->fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				atomic_store(&out->broken, true);
				break;
			}
			p += w;
			left -= (size_t)w;
		}
	}
	pthread_mutex_unlock(&out->lock);
}

/* one line from the client: parsed and handled, or a parse error */
static void handle_line(kp_mcp_session *s, char *line, size_t n)
{
	while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	size_t start = 0;
	while (start < n && (line[start] == ' ' || line[start] == '\t'))
		start++;
	if (start == n)
		return;
	/* the terminating NUL goes in too: json-c waits for more digits after a
	 * bare number unless something ends it */
	line[n] = '\0';
	json_tokener *tok = json_tokener_new();
	json_object *msg = json_tokener_parse_ex(tok, line + start, (int)(n - start + 1));
	enum json_tokener_error e = json_tokener_get_error(tok);
	if (e == json_tokener_success && json_tokener_get_parse_end(tok) < n - start) {
		json_object_put(msg);
		msg = NULL;
		kp_mcp_session_parse_error(s, "text after the message");
	} else if (e != json_tokener_success || !msg) {
		json_object_put(msg);
		msg = NULL;
		kp_mcp_session_parse_error(s, e == json_tokener_continue ? "the message ends early"
									: json_tokener_error_desc(e));
	}
	json_tokener_free(tok);
	if (msg) {
		kp_mcp_session_handle(s, msg);
		json_object_put(msg);
	}
}

/* reads stdin to its end (or a stop) line by line */
static void serve_stdio(kp_mcp_session *s, stdio_out *out)
{
	kp_buf line;
	kp_buf_init(&line);
	bool skipping = false; /* inside a line longer than MAX_LINE */
	char buf[65536];
	while (!stop_signal && !atomic_load(&out->broken)) {
		ssize_t r = read(0, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		const char *p = buf, *end = buf + r;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t take = (size_t)((nl ? nl : end) - p);
			if (!skipping && line.len + take > MAX_LINE) {
				kp_mcp_session_parse_error(s, "a message longer than 8 MiB");
				skipping = true;
				kp_buf_reset(&line);
			}
			if (!skipping)
				kp_buf_add(&line, p, take);
			p += take;
			if (!nl)
				break;
			p++;
			if (!skipping)
				handle_line(s, line.data, line.len);
			skipping = false;
			kp_buf_reset(&line);
		}
	}
	if (line.len && !skipping && !stop_signal)
		handle_line(s, line.data, line.len); /* the last line without its newline */
	kp_buf_release(&line);
}

static char *self_path(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return kp_xstrdup(buf);
}

int kp_cmd_mcp_prepare(const char *cmd, kp_opts *o)
{
	if (o->run_dir && (o->snapshot || o->kubeconfig || o->context || o->prometheus_url || o->out || o->nnamespaces)) {
		fprintf(stderr, "kopilot %s: --run RUN serves an existing run as it is; --snapshot, --kubeconfig, "
				"--context, --prometheus-url, --namespace and --out say what find_waste reads and "
				"writes: give one or the other\n",
			cmd);
		return KP_EXIT_USAGE;
	}
	if (o->snapshot && o->kubeconfig && strcmp(cmd, "operator")) {
		fprintf(stderr, "kopilot %s: --snapshot and --kubeconfig: give one source\n", cmd);
		return KP_EXIT_USAGE;
	}
	if (o->port_str) {
		char *end = NULL;
		long p = strtol(o->port_str, &end, 10);
		if (!*o->port_str || *end || p < 1 || p > 65535) {
			fprintf(stderr, "kopilot %s: --port \"%.20s\": expected a port number from 1 to 65535\n", cmd,
				o->port_str);
			return KP_EXIT_USAGE;
		}
	}
	if (!kp_opts_load_config(cmd, o))
		return KP_EXIT_USAGE;
	if (o->run_dir) {
		char *f = kp_path_join(o->run_dir, "findings.json");
		bool ok = kp_file_exists(f);
		free(f);
		if (!ok) {
			fprintf(stderr, "kopilot %s: --run %s: no findings.json there (a run directory of kopilot run)\n",
				cmd, o->run_dir);
			return KP_EXIT_USAGE;
		}
		return KP_EXIT_OK;
	}
	return o->snapshot ? KP_EXIT_OK : kp_cmd_check_live(cmd, o);
}

bool kp_cmd_service_opts(const char *cmd, int argc, char **argv, kp_opts *o, int *rc)
{
	memset(o, 0, sizeof(*o));
	*rc = !kp_parse_flags(cmd, argc, argv, kp_command_flags(cmd), 0, o) ? KP_EXIT_USAGE : KP_EXIT_OK;
	if (!*rc && o->help)
		kp_print_help(cmd);
	else if (!*rc)
		*rc = kp_cmd_mcp_prepare(cmd, o);
	if (*rc || o->help) {
		kp_opts_release(o);
		return false;
	}
	return true;
}

int cmd_mcp(int argc, char **argv)
{
	kp_opts o;
	memset(&o, 0, sizeof(o));
	if (!kp_parse_flags("mcp", argc, argv, kp_command_flags("mcp"), 0, &o)) {
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	if (o.help) {
		kp_print_help("mcp");
		kp_opts_release(&o);
		return KP_EXIT_OK;
	}
	if (!o.transport) {
		fprintf(stderr, "kopilot mcp: --transport is required: stdio (the client starts kopilot mcp and talks "
				"on its stdin and stdout) or http (Streamable HTTP at /mcp, with the REST API: kopilot "
				"serve)\n");
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	int rc = kp_cmd_mcp_prepare("mcp", &o);
	if (!rc && !strcmp(o.transport, "http")) {
		rc = kp_cmd_serve("mcp", &o);
		kp_opts_release(&o);
		return rc;
	}
	if (!rc && (o.port_str || o.state_dir)) {
		fprintf(stderr, "kopilot mcp: %s is for --transport http\n", o.port_str ? "--port" : "--state-dir");
		rc = KP_EXIT_USAGE;
	}
	if (rc) {
		kp_opts_release(&o);
		return rc;
	}
	char *self = self_path();
	char *base = NULL, *private_run = NULL;
	const char *run = o.run_dir ? o.run_dir : o.out;
	if (!self)
		fprintf(stderr, "kopilot mcp: cannot find this program's path (/proc/self/exe): %s\n", strerror(errno));
	if (!self || (!run && !(run = private_run = kp_cmd_private_run_dir("mcp", &o, &base)))) {
		free(self);
		kp_opts_release(&o);
		return KP_EXIT_FAILED;
	}

	/* the channel: the real stdout, private; fd 1 is stderr from now on */
	stdio_out out = {.fd = fcntl(1, F_DUPFD_CLOEXEC, 3)};
	pthread_mutex_init(&out.lock, NULL);
	atomic_init(&out.broken, false);
	if (out.fd < 0 || dup2(2, 1) < 0) {
		fprintf(stderr, "kopilot mcp: cannot set stdout aside for the protocol: %s\n", strerror(errno));
		rc = KP_EXIT_FAILED;
	}
	if (!rc) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop; /* no SA_RESTART: the read returns */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		kp_log(KP_LOG_INFO, "mcp: serving on stdio (protocol %s); the tools read %s%s, runs go to %s",
		       kp_mcp_versions[0], o.run_dir ? "the run " : o.snapshot ? "the snapshot " : "the live cluster",
		       o.run_dir ? "" : o.snapshot ? o.snapshot : "", run);
		kp_mcp *m = kp_mcp_new(&o, run, !o.run_dir, self);
		kp_mcp_session *s = kp_mcp_session_new(m, send_line, &out);
		serve_stdio(s, &out);
		kp_log(KP_LOG_INFO, "mcp: %s; stopping", stop_signal		  ? "stopped by a signal"
							  : atomic_load(&out.broken) ? "the client stopped reading"
										     : "end of input");
		kp_mcp_session_free(s);
		kp_mcp_free(m);
	}
	if (out.fd >= 0)
		close(out.fd);
	pthread_mutex_destroy(&out.lock);
	kp_remove_tree(base);
	free(base), free(private_run), free(self);
	kp_opts_release(&o);
	return rc;
}
