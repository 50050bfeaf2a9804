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
#include "pipeline/gate.h"
#include "pipeline/run.h"
#include "pipeline/rundir.h"
#include "pipeline/selector.h"

/* ---- the flag and command tables ----
 * One table of flags and one of commands: the parser, the drift check on
 * the help texts (tests/unit/test_cli.c) and the shell completion
 * (cmd_completion.c) all read them, so they cannot disagree. */

/* What a flag's value (or a command's argument) is, for shell completion. */
typedef enum {
	KP_VALUE_NONE,    /* a boolean flag; a command without arguments */
	KP_VALUE_TEXT,    /* free text: nothing to complete */
	KP_VALUE_FILE,
	KP_VALUE_DIR,
	KP_VALUE_CHOICE,  /* one of choices */
	KP_VALUE_COMMAND, /* a command name (help COMMAND) */
} kp_value_kind;

typedef struct kp_flag {
	const char *name;           /* "--namespace" */
	char short_name;            /* 'n' for -n; 0: none */
	const char *metavar;        /* "NS"; NULL: the flag takes no value */
	kp_value_kind value;
	const char *const *choices; /* KP_VALUE_CHOICE: NULL-terminated */
	const char *summary;        /* one line for completion menus: no quotes, brackets or colons */
} kp_flag;

/* Every flag, ended by a zeroed entry. --help/-h is accepted by every command. */
extern const kp_flag kp_flags[];
const kp_flag *kp_flag_find(const char *name);

typedef struct kp_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *const *flags;   /* the flags it accepts besides --help, NULL-terminated */
	kp_value_kind argument;     /* its positional argument (RUN: KP_VALUE_DIR) */
	const char *const *words;   /* KP_VALUE_CHOICE argument: the words ("show") */
	const char *summary;        /* one line */
} kp_command;

/* Every command, ended by a zeroed entry (pipeline/cmd_table.c). */
extern const kp_command kp_commands[];
const kp_command *kp_command_find(const char *name);
/* The flags command cmd accepts (a command of the table). */
const char *const *kp_command_flags(const char *cmd);

/* -o/--output: what `kopilot run` prints on stdout. */
typedef enum { KP_OUTPUT_TABLE, KP_OUTPUT_JSON, KP_OUTPUT_YAML, KP_OUTPUT_CSV, KP_OUTPUT_SARIF } kp_output_format;

typedef struct kp_opts {
	const char *snapshot;      /* --snapshot DIR */
	const char *out;           /* --out DIR (run) or the RUN positional */
	const char *config_path;   /* --config FILE */
	const char *now_str;       /* --now RFC3339 */
	const char *template_path; /* --template FILE */
	const char *focus_path;    /* --focus FILE: --set prices.focus_file=FILE */
	const char *cluster_name;  /* --cluster-name NAME */
	const char *kubeconfig, *context; /* live collection: --kubeconfig, -c/--context */
	const char *prometheus_url;       /* --prometheus-url URL: prometheus.url */
	const char *window;               /* --window DURATION: prometheus.window */
	const char *snapshot_out;         /* --snapshot-out DIR */
	bool pr, dry_run;                 /* --pr, --dry-run: pr.enabled, pr.dry_run */
	const char *repo, *base, *forge;  /* --repo, --base, --forge: pr.repo, pr.base, pr.forge */
	const char **sets;         /* --set key=value, repeatable */
	size_t nsets;
	const char **fail_on;      /* --fail-on COND, repeatable, checked by the parser (pipeline/gate.h) */
	size_t nfail_on;
	const char *previous;      /* --previous RUN_DIR: the run to compare with */
	const char *run_dir;       /* ask --run RUN: answer from that run */
	bool reflect;              /* ask --reflect: score the answer, re-plan below the threshold */
	const char *transport;     /* mcp --transport stdio|http */
	const char *skill;         /* ask --skill NAME: that sub-agent answers, no routing */
	const char *port_str;      /* serve, mcp --transport http: --port N (serve.port) */
	const char *state_dir;     /* --state-dir DIR: runs live in DIR/<timestamp>, the latest is the previous */
	const char **namespaces;   /* -n/--namespace NS, repeatable: report only these namespaces */
	size_t nnamespaces;
	const char **exclude_namespaces; /* --exclude-namespace NS, repeatable: added to scope.exclude_namespaces */
	size_t nexclude_namespaces;
	bool all_namespaces;       /* -A/--all-namespaces: the default, said out loud */
	const char *selector_text; /* -l/--selector SELECTOR */
	const char *shard_text;    /* --shard I/N (run) */
	const char *output_str;    /* -o/--output FORMAT */
	bool no_color;             /* --no-color */
	bool man;                  /* help --man */
	bool stdout_closed;        /* -o: the reader of stdout went away (EPIPE) */
	bool quiet;
	bool help;
	const char *positional[4]; /* the first four arguments that are not flags */
	const char **operands;     /* all of them, npositional (merge: one per shard) */
	size_t npositional;
	/* derived */
	int64_t now;
	kp_selector selector;      /* parsed selector_text (n == 0: none) */
	unsigned shard_index, shard_count; /* parsed shard_text (count 0: none) */
	kp_output_format output;
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

/* Flags a command accepts: a NULL-terminated list of long names such as
 * "--snapshot" (kp_command_flags); --help/-h is always accepted. Long
 * flags take --name VALUE or --name=VALUE, short ones (kp_flag.short_name)
 * -n VALUE, -nVALUE or -n=VALUE. Parses argv into o (and the selector, and
 * the output format); on a bad flag or value prints a one-line error naming
 * it and returns false (exit 2). */
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
/* Without --snapshot: whether the live cluster's kubeconfig (or the pod's
 * service account) is there and sound; prints the error and returns the
 * exit code when not, before anything is created. */
int kp_cmd_check_live(const char *cmd, kp_opts *o);
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
/* run.json "counts" of a findings document (its header is enough): findings,
 * skipped, monthly_savings, actionable_monthly_savings. */
json_object *kp_cmd_run_counts(json_object *findings);
/* Prints the notes the stages added since the last call. */
void kp_cmd_show_notes(kp_opts *o, const kp_run *run);
/* Shows notes and the error of a stage; the exit code it means. */
int kp_cmd_stage_result(const char *stage, kp_opts *o, const kp_run *run, kp_status s, const kp_error *err);
/* Whether the terminal summary is coloured: stdout is a terminal, and
 * neither --no-color, NO_COLOR (not empty) nor TERM=dumb says no. */
bool kp_cmd_use_color(const kp_opts *o);
/* Worse of two exit codes: failures beat usage errors beat a triggered
 * gate (1) beats degraded beats ok. */
int kp_cmd_worse(int a, int b);
/* `kopilot <stage> RUN`: one stage over an existing run directory. The
 * stage's outputs and those of later stages (built from the old ones) are
 * replaced as a whole: drop names them, NULL-terminated. */
int kp_cmd_single_stage(const char *cmd, int argc, char **argv, const char *const *flags,
			kp_status (*stage)(kp_run *, kp_error *), bool wants_previous, const char *const *drop);

/* --fail-on (cmd_gate.c): o->fail_on judged on a complete run's facts;
 * the record run.json keeps as "gate" ({fail_on, triggered, conditions:
 * [{condition, holds, why}]}; NULL without --fail-on), *triggered when
 * one holds. kp_cmd_gate_report prints each holding condition's line on
 * stderr (and logs the others as passed). */
json_object *kp_cmd_gate_judge(const kp_opts *o, const kp_gate_facts *f, bool *triggered);
void kp_cmd_gate_report(const char *cmd, json_object *record);
/* The facts of path (a findings.json), read one finding at a time;
 * *header (caller puts) holds the strings f points to. */
kp_status kp_cmd_gate_facts_file(const char *path, kp_gate_facts *f, json_object **header, kp_error *err);

int cmd_run(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_recommend(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_skills(int argc, char **argv);
int cmd_ask(int argc, char **argv);
int cmd_approve(int argc, char **argv);
int cmd_mcp(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_operator(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_completion(int argc, char **argv);

/* -o/--output (cmd_output.c). kp_cmd_print_output prints the run's
 * document on stdout as o->output says (json: dir/findings.json's bytes;
 * yaml, csv: built from doc, that file parsed); an exit code (4 when
 * stdout cannot be written). */
int kp_cmd_print_output(const char *cmd, kp_opts *o, const char *dir, json_object *doc);
kp_status kp_output_yaml(json_object *doc, kp_buf *out, kp_error *err);
void kp_output_csv(json_object *doc, kp_buf *out);
/* A private run directory for -o without --out/--state-dir: makes
 * $TMPDIR/kopilot-run.XXXXXX (*base, caller frees and removes) and returns
 * RUN inside it (caller frees); NULL, with the error shown, on failure. */
char *kp_cmd_private_run_dir(const char *cmd, kp_opts *o, char **base);
/* After the run's cleanup: dies of SIGPIPE when the document's reader had
 * gone (kp_cmd_print_output held the signal off), as a pipeline expects. */
void kp_cmd_output_end(bool stdout_closed);

/* The completion script for shell ("bash", "zsh") into out; false for
 * another shell. */
bool kp_completion_script(const char *shell, kp_buf *out);

/* Prints a command's --help text (NULL: kopilot's), then the exit codes. */
void kp_print_help(const char *cmd);
/* The --help text of cmd (NULL: kopilot's), without the exit codes; NULL
 * for a command that has none. */
const char *kp_help_text(const char *cmd);
/* kopilot(1) in roff, generated from the help texts. */
void kp_man_page(kp_buf *out);

#endif
