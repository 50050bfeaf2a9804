/*
 * cmd_approve.c - `kopilot approve ID --run RUN`: the one code path that
 * changes a cluster. It runs one proposal an agent recorded (RUN/
 * proposals.json, written by kopilot ask) after a person read it and
 * passed its id: classified again by the safety layer (a proposal file is
 * text anyone could have edited), never when hard-blocked, never a
 * destructive change in a protected namespace, kubectl or helm only, by
 * posix_spawnp with an argument vector, once. Every attempt is audited.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/cmd.h"
#include "pipeline/process.h"
#include "pipeline/safety.h"

static void audit_approve(kp_audit *a, const char *id, const char *cmd, const char *decision, int code)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, "id", json_object_new_string(id));
	if (cmd)
		json_object_object_add(f, "command", json_object_new_string(cmd));
	json_object_object_add(f, "decision", json_object_new_string(decision));
	const char *who = getenv("USER");
	json_object_object_add(f, "by", json_object_new_string(who ? who : "unknown"));
	if (code >= 0)
		json_object_object_add(f, "exit_code", json_object_new_int(code));
	kp_audit_event(a, "approve", f);
}

int cmd_approve(int argc, char **argv)
{
	kp_opts o;
	memset(&o, 0, sizeof(o));
	if (!kp_parse_flags("approve", argc, argv, kp_command_flags("approve"), 1, &o)) {
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	if (o.help) {
		kp_print_help("approve");
		kp_opts_release(&o);
		return KP_EXIT_OK;
	}
	if (o.npositional != 1 || !o.run_dir) {
		fprintf(stderr, "kopilot approve: expected `kopilot approve ID --run RUN` (the id kopilot ask printed; see "
				"kopilot approve --help)\n");
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	if (!kp_opts_load_config("approve", &o)) {
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	const char *id = o.positional[0];
	char *path = kp_path_join(o.run_dir, "proposals.json"), *apath = kp_path_join(o.run_dir, "audit.jsonl");
	kp_audit audit;
	kp_audit_init(&audit, apath, true);
	json_object *doc = NULL;
	kp_error err = {0};
	int rc = KP_EXIT_OK;
	json_object *p = NULL;
	if (kp_json_read_file(path, &doc, &err)) {
		fprintf(stderr, "kopilot approve: %s\n", err.msg);
		rc = KP_EXIT_USAGE;
	} else {
		json_object *list = kp_json_get(doc, "proposals");
		for (size_t i = 0; json_object_is_type(list, json_type_array) && i < json_object_array_length(list); i++) {
			json_object *x = json_object_array_get_idx(list, i);
			if (kp_json_str(x, "id") && !strcmp(kp_json_str(x, "id"), id))
				p = x;
		}
		if (!p) {
			fprintf(stderr, "kopilot approve: %s has no proposal %s\n", path, id);
			audit_approve(&audit, id, NULL, "unknown", -1);
			rc = KP_EXIT_USAGE;
		}
	}
	const char *cmd = p ? kp_json_str(p, "command") : NULL;
	if (p && kp_json_str(p, "executed_at")) {
		fprintf(stderr, "kopilot approve: proposal %s was already run at %s: a proposal runs once\n", id,
			kp_json_str(p, "executed_at"));
		audit_approve(&audit, id, cmd, "already-run", -1);
		rc = KP_EXIT_USAGE;
	} else if (p && cmd) {
		/* the file is text: what it says is judged again, as if new */
		char why[64];
		kp_command_decision d;
		kp_safety_classify_command(&o.cfg, cmd, &d);
		size_t n = 0;
		char **w = kp_command_words(cmd, &n);
		const char *refused = NULL;
		char reason[400];
		if (kp_safety_shell_syntax(cmd, why, sizeof(why)))
			refused = (snprintf(reason, sizeof(reason), "shell syntax (%s)", why), reason);
		else if (d.hard_blocked)
			refused = (snprintf(reason, sizeof(reason), "%s", d.reason), reason);
		else if (d.destructive && d.protected_namespace)
			refused = (snprintf(reason, sizeof(reason), "%s", d.reason), reason);
		else if (!n || (strcmp(w[0], "kubectl") && strcmp(w[0], "helm")))
			refused = "kopilot approve runs kubectl and helm commands only";
		if (refused) {
			fprintf(stderr, "kopilot approve: refused by the safety layer: %s\n", refused);
			audit_approve(&audit, id, cmd, "refused", -1);
			rc = KP_EXIT_USAGE;
		} else {
			bool helm = !strcmp(w[0], "helm");
			char **v = kp_xcalloc(n + 6, sizeof(char *));
			size_t k = 0;
			v[k++] = w[0];
			if (o.kubeconfig)
				v[k++] = (char *)"--kubeconfig", v[k++] = (char *)o.kubeconfig;
			if (o.context)
				v[k++] = (char *)(helm ? "--kube-context" : "--context"), v[k++] = (char *)o.context;
			for (size_t i = 1; i < n; i++)
				v[k++] = w[i];
			fprintf(stderr, "kopilot approve: running proposal %s (risk %s%s): %s\n", id, kp_risk_name(d.risk),
				d.destructive ? ", destructive" : "", cmd);
			kp_buf out, errb;
			kp_buf_init(&out), kp_buf_init(&errb);
			kp_proc_result pr;
			kp_status s = kp_process_run(v, NULL, 300, &out, 1u << 20, &errb, 1u << 16, &pr, &err);
			free(v);
			fwrite(out.data ? out.data : "", 1, out.len, stdout);
			fwrite(errb.data ? errb.data : "", 1, errb.len, stderr);
			int code = s ? -1 : pr.exited ? pr.code : 128 + pr.code;
			if (s) {
				fprintf(stderr, "kopilot approve: %s\n", err.msg);
				rc = KP_EXIT_FAILED;
			} else if (code != 0) {
				fprintf(stderr, "kopilot approve: %s failed (%s %d)\n", w[0], pr.exited ? "exit code" : "signal",
					pr.code);
				rc = KP_EXIT_FAILED;
			}
			audit_approve(&audit, id, cmd, s ? "not-started" : code ? "failed" : "run", code);
			if (!s) { /* once: the proposal remembers it ran */
				char now[32];
				kp_time_format((int64_t)time(NULL), now);
				json_object_object_add(p, "executed_at", json_object_new_string(now));
				json_object_object_add(p, "exit_code", json_object_new_int(code));
				if (kp_json_write_file(path, doc, &err))
					fprintf(stderr, "kopilot approve: %s\n", err.msg);
			}
			kp_buf_release(&out), kp_buf_release(&errb);
		}
		kp_command_words_free(w, n);
	}
	json_object_put(doc);
	kp_audit_release(&audit);
	free(path), free(apath);
	kp_opts_release(&o);
	return rc;
}
