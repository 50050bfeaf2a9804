/*
 * cmd_ask.c - `kopilot ask "QUESTION"`: the LLM sub-agents answer from
 * evidence. Without --run the pipeline runs first (as `kopilot run` does,
 * on --snapshot DIR or the live cluster) into --out RUN or a private
 * directory; then the supervisor routes the question to skills whose
 * tools read that run's findings and snapshot (and, live, the cluster,
 * read-only). The answer goes to stdout; what was proposed but not run,
 * to stderr and RUN/proposals.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cmd.h"
#include "stages/analyze/agents/agent.h"
#include "stages/analyze/agents/anon.h"

static bool run_is_live(const char *run)
{
	char *p = kp_path_join(run, "snapshot/cluster.json");
	json_object *c = json_object_from_file(p);
	free(p);
	bool live = kp_json_str(c, "source") && !strcmp(kp_json_str(c, "source"), "live");
	json_object_put(c);
	return live;
}

/* `kopilot run` on the same inputs into out; its exit code */
static int run_pipeline(kp_opts *o, const char *out)
{
	const char **v = kp_xcalloc(34 + 2 * (o->nsets + o->nnamespaces), sizeof(char *));
	int n = 0;
	v[n++] = "--out";
	v[n++] = out;
	v[n++] = "--quiet";
	/* the agents answer; the run they read needs no explanations of its own */
	v[n++] = "--set";
	v[n++] = "llm.explain=false";
	const struct {
		const char *flag, *value;
	} pass[] = {{"--snapshot", o->snapshot},	 {"--kubeconfig", o->kubeconfig}, {"--context", o->context},
		    {"--prometheus-url", o->prometheus_url}, {"--window", o->window},	   {"--config", o->config_path},
		    {"--now", o->now_str}};
	for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
		if (pass[i].value) {
			v[n++] = pass[i].flag;
			v[n++] = pass[i].value;
		}
	for (size_t i = 0; i < o->nsets; i++) {
		v[n++] = "--set";
		v[n++] = o->sets[i];
	}
	for (size_t i = 0; i < o->nnamespaces; i++) {
		v[n++] = "--namespace";
		v[n++] = o->namespaces[i];
	}
	v[n] = NULL;
	int rc = cmd_run(n, (char **)v);
	free(v);
	return rc;
}

static json_object *proposal_json(const kp_proposal *p)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(p->id));
	json_object_object_add(o, "command", json_object_new_string(p->command));
	json_object_object_add(o, "skill", json_object_new_string(p->skill));
	json_object_object_add(o, "risk", json_object_new_string(kp_risk_name(p->risk)));
	json_object_object_add(o, "destructive", json_object_new_boolean(p->destructive));
	json_object_object_add(o, "blocked", json_object_new_boolean(p->blocked));
	json_object_object_add(o, "reason", json_object_new_string(p->reason));
	return o;
}

/* RUN/proposals.json: this question's proposals added to those of earlier
 * questions on the same run (which keep what kopilot approve recorded) */
static kp_status write_proposals(const char *run, const kp_agent_env *env, kp_error *err)
{
	/* questions answered at once on one run (kopilot serve, the MCP server)
	 * each add theirs: read, merge and write under an exclusive lock */
	char *lock_path = kp_path_join(run, ".proposals.lock");
	int lfd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lock_path);
	if (lfd >= 0)
		while (flock(lfd, LOCK_EX) < 0 && errno == EINTR)
			;
	char *path = kp_path_join(run, "proposals.json");
	json_object *doc = NULL;
	kp_error ignored = {0};
	if (!kp_file_exists(path) || kp_json_read_file(path, &doc, &ignored) ||
	    !json_object_is_type(kp_json_get(doc, "proposals"), json_type_array)) {
		json_object_put(doc);
		doc = json_object_new_object();
		json_object_object_add(doc, "proposals", json_object_new_array());
	}
	json_object *a = kp_json_get(doc, "proposals");
	for (size_t i = 0; i < env->proposals.len; i++) {
		const kp_proposal *p = &env->proposals.items[i];
		bool seen = false;
		for (size_t k = 0; k < json_object_array_length(a) && !seen; k++)
			seen = kp_json_str(json_object_array_get_idx(a, k), "id") &&
			       !strcmp(kp_json_str(json_object_array_get_idx(a, k), "id"), p->id);
		if (!seen)
			json_object_array_add(a, proposal_json(p));
	}
	/* an object around the list, so it can grow (kopilot approve reads it) */
	kp_status s = kp_json_write_file(path, doc, err);
	free(path);
	json_object_put(doc);
	if (lfd >= 0)
		close(lfd); /* and the lock with it */
	return s;
}

/* -o json: the answer and what it took, for programs (kopilot's own
 * servers read this) */
static void print_json(const kp_agent_answer *ans, const kp_agent_env *env, kp_llm *llm, const char *routed,
		       const char *run, bool private_run)
{
	json_object *d = json_object_new_object();
	json_object_object_add(d, "answer", json_object_new_string(ans->text));
	json_object *sk = json_object_new_array();
	for (size_t i = 0; i < ans->nskills; i++)
		json_object_array_add(sk, json_object_new_string(ans->skills[i]));
	json_object_object_add(d, "skills", sk);
	json_object_object_add(d, "routed_by", json_object_new_string(routed));
	json_object *props = json_object_new_array();
	for (size_t i = 0; i < env->proposals.len; i++)
		json_object_array_add(props, proposal_json(&env->proposals.items[i]));
	json_object_object_add(d, "proposals", props);
	json_object *u = json_object_new_object();
	json_object_object_add(u, "provider_model", json_object_new_string(kp_llm_label(llm)));
	json_object_object_add(u, "model_calls", json_object_new_int64(ans->tokens.calls));
	json_object_object_add(u, "in_tokens", json_object_new_int64(ans->tokens.in_tokens));
	json_object_object_add(u, "out_tokens", json_object_new_int64(ans->tokens.out_tokens));
	json_object *dec = json_object_new_object();
	for (int i = 0; i < 4; i++)
		if (env->decisions[i])
			json_object_object_add(dec, kp_decision_names[i], json_object_new_int64(env->decisions[i]));
	json_object_object_add(u, "command_decisions", dec);
	json_object_object_add(d, "usage", u);
	json_object_object_add(d, "score", ans->score >= 0 ? json_object_new_int(ans->score) : NULL);
	json_object_object_add(d, "replans", json_object_new_int(ans->replans));
	json_object_object_add(d, "step_limit", json_object_new_boolean(ans->step_limit));
	json_object_object_add(d, "run", private_run ? NULL : json_object_new_string(run));
	puts(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(d);
}

/* the supervisor on the question, over run; the exit code */
static int answer(kp_opts *o, kp_llm *llm, const kp_skills *skills, const char *run, bool private_run)
{
	int rc = KP_EXIT_OK;
	kp_error err = {0};
	kp_agent_env env;
	kp_agent_env_init(&env, &o->cfg);
	char *snap = kp_path_join(run, "snapshot");
	char *audit_path = kp_path_join(run, "audit.jsonl");
	kp_audit audit;
	kp_audit_init(&audit, audit_path, true);
	env.run_dir = run;
	env.snapshot_dir = snap;
	env.live = o->kubeconfig || run_is_live(run);
	env.kubeconfig = o->kubeconfig;
	env.context = o->context;
	env.audit = &audit;
	kp_anon *anon = o->cfg.llm.anonymize ? kp_anon_from_run(run) : NULL;
	if (anon)
		kp_llm_set_anon(llm, anon);
	kp_agent_limits lim;
	kp_agent_limits_default(&lim);
	kp_buf prompt;
	kp_buf_init(&prompt);
	const char *q = o->positional[0];
	while (*q == ' ' || *q == '\t' || *q == '\n')
		q++;
	for (size_t i = 0; i < o->nnamespaces; i++)
		kp_buf_printf(&prompt, "%s%s", i ? ", " : "(Only namespace ", o->namespaces[i]);
	if (o->nnamespaces)
		kp_buf_puts(&prompt, " matters here.)\n");
	kp_buf_puts(&prompt, q);
	json_object *f = json_object_new_object();
	json_object_object_add(f, "question", json_object_new_string(kp_buf_cstr(&prompt)));
	json_object_object_add(f, "provider_model", json_object_new_string(kp_llm_label(llm)));
	json_object_object_add(f, "reflect", json_object_new_boolean(o->reflect));
	json_object_object_add(f, "anonymized_names", json_object_new_int64((int64_t)kp_anon_count(anon)));
	kp_agent_audit(&env, "ask.start", f);
	kp_agent_answer ans;
	kp_status s;
	const kp_skill *one = o->skill ? kp_skills_find(skills, o->skill) : NULL;
	if (one) { /* --skill: that sub-agent alone, no routing and no reflection */
		memset(&ans, 0, sizeof(ans));
		ans.score = -1;
		s = kp_agent_run_skill(llm, one, &env, kp_buf_cstr(&prompt), &lim, &ans.text, &ans.steps, &ans.step_limit,
				       &err);
		if (!s) {
			ans.skills = kp_xcalloc(1, sizeof(char *));
			ans.skills[0] = kp_xstrdup(one->name);
			ans.nskills = 1;
		}
		ans.tokens = kp_llm_get_totals(llm);
	} else {
		s = kp_agent_ask(llm, skills, &env, kp_buf_cstr(&prompt), o->reflect, &lim, &ans, &err);
	}
	if (s) {
		fprintf(stderr, "kopilot ask: no answer: %s\n", err.msg);
		rc = KP_EXIT_FAILED;
	} else if (o->output == KP_OUTPUT_JSON) {
		print_json(&ans, &env, llm,
			   one ? "skill" : ans.routed_by_keywords ? "keywords" : "model", run, private_run);
	} else {
		fputs(ans.text, stdout);
		if (ans.text[0] && ans.text[strlen(ans.text) - 1] != '\n')
			fputc('\n', stdout);
		fflush(stdout);
	}
	if (!s && env.proposals.len && write_proposals(run, &env, &err))
		fprintf(stderr, "kopilot ask: %s\n", err.msg);
	if (!s && !o->quiet) {
		fprintf(stderr, "\n-- answered by");
		for (size_t i = 0; i < ans.nskills; i++)
			fprintf(stderr, "%s%s", i ? ", " : " ", ans.skills[i]);
		fprintf(stderr, " (%s), %s: %lld model calls, %lld tokens in, %lld out",
			one ? "chosen with --skill" : ans.routed_by_keywords ? "routed by keywords" : "routed by the model",
			kp_llm_label(llm), (long long)ans.tokens.calls, (long long)ans.tokens.in_tokens,
			(long long)ans.tokens.out_tokens);
		if (ans.score >= 0)
			fprintf(stderr, "; reflection score %d/10 after %d re-plan%s", ans.score, ans.replans,
				ans.replans == 1 ? "" : "s");
		if (ans.step_limit)
			fprintf(stderr, "; a sub-agent reached the step limit");
		fprintf(stderr, "\n");
		if (env.proposals.len) {
			char *pp = kp_path_join(run, "proposals.json");
			fprintf(stderr, "-- proposed by the agents, NOT run (%s%s%s):\n",
				private_run ? "keep them with --out RUN" : pp,
				private_run ? "" : "; kopilot approve ID --run ", private_run ? "" : run);
			free(pp);
			for (size_t i = 0; i < env.proposals.len; i++) {
				const kp_proposal *p = &env.proposals.items[i];
				fprintf(stderr, "   %s  [%s%s%s] %s\n", p->id, kp_risk_name(p->risk),
					p->destructive ? ", destructive: needs approval" : "",
					p->blocked ? ", blocked: protected namespace" : "", p->command);
			}
		}
		if (!private_run)
			fprintf(stderr, "-- the run it read: %s (audit.jsonl has every model call and tool decision)\n", run);
	}
	json_object *e = json_object_new_object();
	json_object_object_add(e, "ok", json_object_new_boolean(!s));
	json_object_object_add(e, "calls", json_object_new_int64(ans.tokens.calls));
	json_object_object_add(e, "in_tokens", json_object_new_int64(ans.tokens.in_tokens));
	json_object_object_add(e, "out_tokens", json_object_new_int64(ans.tokens.out_tokens));
	json_object_object_add(e, "proposals", json_object_new_int64((int64_t)env.proposals.len));
	kp_agent_audit(&env, "ask.end", e);
	kp_agent_answer_release(&ans);
	kp_llm_set_anon(llm, NULL);
	kp_anon_free(anon);
	kp_buf_release(&prompt);
	kp_agent_env_release(&env);
	kp_audit_release(&audit);
	free(snap), free(audit_path);
	return rc;
}

int cmd_ask(int argc, char **argv)
{
	kp_opts o;
	memset(&o, 0, sizeof(o));
	if (!kp_parse_flags("ask", argc, argv, kp_command_flags("ask"), 1, &o)) {
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	if (o.help) {
		kp_print_help("ask");
		kp_opts_release(&o);
		return KP_EXIT_OK;
	}
	const char *q = o.npositional ? o.positional[0] : "";
	while (*q == ' ' || *q == '\t' || *q == '\n')
		q++;
	if (!*q) {
		fprintf(stderr, "kopilot ask: expected a question, e.g. kopilot ask \"Which deployments in staging are "
				"over-provisioned?\" (see kopilot ask --help)\n");
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	if (o.output_str && o.output != KP_OUTPUT_JSON && o.output != KP_OUTPUT_TABLE) {
		fprintf(stderr, "kopilot ask: -o %s: ask prints the answer as text, or with -o json as a JSON object\n",
			o.output_str);
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	if (o.run_dir && (o.snapshot || o.kubeconfig || o.prometheus_url || o.out)) {
		fprintf(stderr, "kopilot ask: --run RUN answers from an existing run; --snapshot, --kubeconfig, "
				"--prometheus-url and --out make a new one: give one or the other\n");
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	if (!kp_opts_load_config("ask", &o)) {
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	kp_error err = {0};
	kp_llm *llm = NULL;
	kp_skills skills = {0};
	if (kp_llm_new(&o.cfg, &llm, &err) || !llm) {
		if (!llm && !err.msg[0])
			fprintf(stderr, "kopilot ask: it needs a language model, and llm.provider is none: set LLM_PROVIDER "
					"(ollama, openai, azure_openai, anthropic or gemini; docs/configuration.md)\n");
		else
			fprintf(stderr, "kopilot ask: %s\n", err.msg);
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	if (kp_skills_load(&o.cfg, &skills, &err) ||
	    (o.skill && !kp_skills_find(&skills, o.skill) &&
	     kp_fail(&err, KP_ERR_USAGE, "--skill %s: no such sub-agent (kopilot skills list)", o.skill))) {
		fprintf(stderr, "kopilot ask: %s\n", err.msg);
		kp_skills_release(&skills);
		kp_llm_free(llm);
		kp_opts_release(&o);
		return KP_EXIT_USAGE;
	}
	/* the run the agents read: given, or made now */
	char *base = NULL, *private_out = NULL;
	const char *run = o.run_dir;
	int rc = KP_EXIT_OK;
	if (run) {
		char *f = kp_path_join(run, "findings.json");
		if (!kp_file_exists(f)) {
			fprintf(stderr, "kopilot ask: --run %s: no findings.json there (a run directory of kopilot run)\n", run);
			rc = KP_EXIT_USAGE;
		}
		free(f);
	} else {
		run = o.out ? o.out : (private_out = kp_cmd_private_run_dir("ask", &o, &base));
		if (!run) {
			rc = KP_EXIT_FAILED;
		} else {
			int r = run_pipeline(&o, run);
			if (r != KP_EXIT_OK && r != KP_EXIT_DEGRADED) {
				fprintf(stderr, "kopilot ask: the run the answer would come from failed (above)\n");
				rc = r;
			}
		}
	}
	if (rc == KP_EXIT_OK)
		rc = answer(&o, llm, &skills, run, private_out != NULL);
	kp_skills_release(&skills);
	kp_llm_free(llm);
	kp_remove_tree(base);
	free(base), free(private_out);
	kp_opts_release(&o);
	return rc;
}
