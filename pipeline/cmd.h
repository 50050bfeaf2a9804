/*
 * cmd.h - what the command layer shares: parsed options, the flag parser
 * and the stage functions each command is built from.
 *
 * The command layer is the only place that prints to stdout/stderr and
 * chooses exit codes (see kp.h KP_EXIT_*).
 */
#ifndef KP_CMD_H
#define KP_CMD_H

#include "pipeline/audit.h"
#include "pipeline/config.h"

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
	struct kp_cluster *cluster; /* snapshot loaded by collect, reused by analyze in `run` */
	/* the previous run, resolved once from --previous or --state-dir (run: before anything is written) */
	bool previous_resolved;
	char *previous_run;         /* NULL: no previous run */
	json_object *previous_doc;  /* its findings.json, checked */
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

/* The stages, each reading and writing the run directory. Return an exit
 * code (0, 3 degraded, 2, 4). */
int kp_stage_collect(kp_opts *o, const char *run);
int kp_stage_analyze(kp_opts *o, const char *run);
int kp_stage_recommend(kp_opts *o, const char *run);
int kp_stage_render(kp_opts *o, const char *run);

int cmd_run(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_recommend(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_config(int argc, char **argv);

/* Prints a command's --help text. */
void kp_print_help(const char *cmd);

#endif
