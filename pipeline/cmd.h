/*
 * cmd.h - the command layer: parsed options, the flag parser, and the
 * steps every command is built from. One cmd_<name>.c per command, git
 * style; each parses its flags, fills a kp_run, calls stage functions
 * (stages/<stage>/<stage>.h), prints, and returns an exit code.
 *
 * The command layer is the only place that prints to stdout/stderr and
 * chooses exit codes (see kp.h KP_EXIT_*).
 */
#ifndef KP_CMD_H
#define KP_CMD_H

#include "pipeline/audit.h"
#include "pipeline/config.h"
#include "pipeline/run.h"
#include "pipeline/rundir.h"

typedef struct kp_opts {
	const char *snapshot;      /* --snapshot DIR */
	const char *out;           /* --out DIR (run) or the RUN positional */
	const char *config_path;   /* --config FILE */
	const char *now_str;       /* --now RFC3339 */
	const char *template_path; /* --template FILE */
	const char *cluster_name;  /* --cluster-name NAME */
	const char *kubeconfig, *context, *prometheus_url; /* live collection: not implemented yet */
	const char **sets;         /* --set key=value, repeatable */
	size_t nsets;
	const char *previous;      /* --previous RUN_DIR: the run to compare with */
	const char *state_dir;     /* --state-dir DIR: runs live in DIR/<timestamp>, the latest is the previous */
	const char **namespaces;   /* --namespace NS, repeatable: report only these namespaces */
	size_t nnamespaces;
	bool quiet;
	bool help;
	const char *positional[4];
	size_t npositional;
	/* derived */
	int64_t now;
	kp_config cfg;
	kp_audit audit;
	/* the previous run, from --previous or --state-dir (run: before anything is written) */
	char *previous_run;         /* NULL: no previous run */
	json_object *previous_doc;  /* its findings.json, checked */
	size_t notes_shown;         /* the run's notes printed so far */
	kp_rundir rundir;           /* the run directory being written (pipeline/rundir.h) */
	kp_lock state_lock;         /* --state-dir's lock, held by run */
	char last_error[1024];      /* the last error shown, for the audit log's command.end */
	int argc;
	char **argv;
} kp_opts;

/* Flags a command accepts: a NULL-terminated list of names such as
 * "--snapshot". Parses argv into o; on a bad flag prints a one-line error
 * naming it and returns false (exit 2). */
bool kp_parse_flags(const char *cmd, int argc, char **argv, const char *const *accepted, size_t max_positional,
		    kp_opts *o);
/* Builds o->cfg: defaults < --config file < environment < --set; and o->now. */
bool kp_opts_load_config(const char *cmd, kp_opts *o);
void kp_opts_release(kp_opts *o);

/* Parse flags, --help, refuse live-collection flags, load the
 * configuration. *done: the command is finished, return the result. */
int kp_cmd_prologue(const char *cmd, int argc, char **argv, const char *const *flags, size_t npos, kp_opts *o,
		    bool *done);
/* A command that writes a run directory goes through three steps:
 *   kp_cmd_lock_run   takes dir's lock (refused at once, exit 4, when another
 *                     kopilot holds it) and records command.start in
 *                     RUN/audit.jsonl when there is one: before any work;
 *   kp_cmd_stage_run  makes the staging directory (o->rundir.staging):
 *                     the stages write there, never into RUN;
 *   kp_cmd_end_run    switches it in when rc is 0 or 3, else leaves RUN as
 *                     it was; records command.end (exit code, error);
 *                     unlocks. Returns the final exit code.
 * The three return an exit code; after a failure of the first two, call
 * kp_cmd_end_run all the same. */
int kp_cmd_lock_run(const char *cmd, kp_opts *o, const char *dir, kp_rundir_mode mode);
int kp_cmd_stage_run(const char *cmd, kp_opts *o, kp_rundir_mode mode, const char *const *drop);
int kp_cmd_end_run(const char *cmd, kp_opts *o, int rc);
/* --state-dir's lock (run): one writer of a state directory at a time. */
int kp_cmd_lock_state_dir(const char *cmd, kp_opts *o);
/* Prints "kopilot <cmd>: <message>" to stderr and keeps it for the audit
 * log. Paths in the staging directory are shown as the run directory's. */
void kp_cmd_error(const char *cmd, kp_opts *o, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Finds and reads the previous run: --previous RUN_DIR, else the most
 * recent run in --state-dir other than exclude (the run being written). A
 * bad path is a usage error (2), a corrupt findings.json a failure (4);
 * both name the flag and the file. */
int kp_cmd_resolve_previous(const char *cmd, kp_opts *o, const char *exclude);
/* A kp_run over dir with what the options say. */
void kp_cmd_run_init(kp_opts *o, kp_run *run, const char *dir);
/* Prints the notes the stages added since the last call. */
void kp_cmd_show_notes(kp_opts *o, const kp_run *run);
/* Shows notes and the error of a stage; the exit code it means. */
int kp_cmd_stage_result(const char *stage, kp_opts *o, const kp_run *run, kp_status s, const kp_error *err);
/* Worse of two exit codes: failures beat usage errors beat degraded beats ok. */
int kp_cmd_worse(int a, int b);
/* `kopilot <stage> RUN`: one stage over an existing run directory. The
 * stage's outputs and those of later stages (built from the old ones) are
 * replaced as a whole: drop names them, NULL-terminated. */
int kp_cmd_single_stage(const char *cmd, int argc, char **argv, const char *const *flags,
			kp_status (*stage)(kp_run *, kp_error *), bool wants_previous, const char *const *drop);

int cmd_run(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_recommend(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);

/* Prints a command's --help text. */
void kp_print_help(const char *cmd);

#endif
