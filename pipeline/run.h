/*
 * run.h - kp_run: what every stage is called with, and what it hands back.
 *
 * Every stage has one shape, `kp_status kp_<stage>_run(kp_run *run,
 * kp_error *err)` (stages/<stage>/<stage>.h): it reads and writes files in
 * run->dir, takes its settings from run->cfg and the few per-run inputs
 * below, records what it did in run->audit, and reports warnings as notes.
 * A stage never prints, exits or sees argv; the entry point (pipeline/cmd_*.c
 * today; ask, mcp, serve later) fills a kp_run, calls stages, shows the
 * notes and maps the status (and run->degraded) to an exit code or a reply.
 *
 * Ownership: the entry point owns cfg, audit and the strings it passes in
 * (they must outlive the run); kp_run owns cluster (the model one stage
 * hands the next) and notes, both freed by kp_run_release.
 */
#ifndef KP_RUN_H
#define KP_RUN_H

#include "pipeline/audit.h"
#include "pipeline/config.h"
#include "pipeline/model.h"
#include "pipeline/progress.h"

typedef enum { KP_NOTE_DEBUG, KP_NOTE_INFO, KP_NOTE_WARN } kp_note_level;

typedef struct kp_note {
	kp_note_level level;
	char *text; /* starts with the stage's name: "collect: ..." */
} kp_note;

typedef struct kp_run {
	/* set by the entry point */
	const char *dir;       /* the run directory */
	const kp_config *cfg;
	kp_audit *audit;       /* events go here; an audit with no path drops them */
	int64_t now;           /* seconds since the epoch: the analysis time */
	const char *snapshot;  /* collect: the snapshot directory to read; NULL: the live cluster */
	const char *kubeconfig;   /* collect, live: --kubeconfig (NULL: KUBECONFIG, ~/.kube/config, in-cluster) */
	const char *kube_context; /* collect, live: --context (NULL: current-context) */
	const char *snapshot_out; /* collect: also save the snapshot here (--snapshot-out), NULL none */
	const char *const *namespaces; /* analyze: report only these namespaces (none: all) */
	size_t nnamespaces;
	const struct kp_selector *selector; /* analyze: report only resources whose labels match (NULL: all) */
	/* analyze: --shard I/N, report only the namespaces pipeline/shard.h
	 * gives shard_index (and, in shard 0, the cluster-scoped findings);
	 * shard_count 0: not sharded */
	unsigned shard_index, shard_count;
	const char *const *merge_dirs; /* kopilot merge: the shard runs to join */
	size_t nmerge_dirs;
	const char *previous_run;      /* recommend: the run compared with, NULL none */
	json_object *previous_doc;     /* recommend: its findings.json (borrowed) */
	const char *state_dir; /* recommend: --state-dir, whose runs make this run's trend (history.json); NULL none */
	const char *run_path;  /* the run directory as named (dir may be its staging copy): never on its own trend twice */
	const kp_progress *progress;   /* how far a stage has got, reported as it goes (NULL: nobody watches) */

	/* handed from stage to stage */
	kp_cluster *cluster;   /* the model collect loaded; analyze consumes it (NULL: read the run's snapshot) */
	/* analyze -> recommend in one process (kopilot run sets keep_analysis):
	 * the findings and header analyze has just written to analysis.json,
	 * as they read back from it (the file holds exactly these values), so
	 * recommend does not parse them again; NULL: recommend reads the file */
	bool keep_analysis;
	kp_findings *analysis;
	json_object *analysis_doc; /* analysis.json without its two arrays */
	/* what a stage keeps between two of its own calls on this run (collect:
	 * the redaction plans its load made for its copy), never in a static,
	 * so runs in one process (ask, mcp, serve) cannot see each other's;
	 * freed with private_free by kp_run_release */
	void *stage_private;
	void (*private_free)(void *);

	/* work a stage left running beside the next ones (collect's copy of
	 * the snapshot and its model cache): kp_run_join waits for it */
	struct kp_run_bg *bg;
	/* reported back */
	bool degraded;         /* an input was not collected: the result is partial (exit 3) */
	KP_ARRAY(kp_note) notes;
	size_t below_threshold; /* recommend: findings dropped by rightsizing.min_monthly_savings */
	/* render: findings.sarif, written when pr.repo is a checkout (stages/render/sarif.h) */
	bool sarif_written;
	size_t sarif_results, sarif_left_out;
	double background_seconds; /* how long the joined background work ran (kp_run_join) */
	/* recommend: LLM tokens its explanations used (run metrics), and the
	 * provider's label ("openai/gpt-4o-mini"); "" when none was called */
	char llm_label[128];
	int64_t llm_in_tokens, llm_out_tokens;
} kp_run;

void kp_run_init(kp_run *run, const char *dir, const kp_config *cfg, kp_audit *audit, int64_t now);
void kp_run_release(kp_run *run);
void kp_run_note(kp_run *run, kp_note_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Runs body(run, err) under a kp_nomem_guard: every public stage function
 * goes through this, so running out of memory inside a stage is
 * KP_ERR_NOMEM ("out of memory") for its caller, never an abort, and the
 * stage's uncommitted temp files are removed. What the stage had allocated
 * is abandoned; run stays consistent enough to release. */
kp_status kp_run_guarded(kp_status (*body)(kp_run *, kp_error *), kp_run *run, kp_error *err);
/* Frees the model held by the run, if any (after kp_run_wait_reading). */
void kp_run_drop_cluster(kp_run *run);

/* Background work of a stage: fn(run, arg, events, err) runs on a second
 * thread (under its own out-of-memory guard and temp-file registry) while
 * the entry point goes on with the next stages, which must not write what
 * fn writes, and must wait (kp_run_wait_reading) before they change or
 * free what fn reads (analyze, before it frees the model's big arrays). fn
 * may read run->cluster, run->cfg and run->dir until it calls
 * kp_run_bg_done_reading(run), and never changes the run: audit
 * events go into events (a json array, each {"event": NAME, "fields":
 * {...}}) and are recorded at the join, in order; an entry {"note": TEXT}
 * becomes a warning note instead. arg is freed with arg_free after fn.
 * Without threads (worth_a_thread false, none to be had, or the
 * fault-injection build, whose failures are counted in call order:
 * KP_THREADS) fn runs at once, here, and everything happens in call order.
 * One at a time: a second call joins the first. */
typedef kp_status (*kp_run_bg_fn)(kp_run *run, void *arg, json_object *events, kp_error *err);
kp_status kp_run_background(kp_run *run, kp_run_bg_fn fn, void *arg, void (*arg_free)(void *), bool worth_a_thread,
			    kp_error *err);
/* Waits for the background work, records its events and returns its
 * status (err set on failure); KP_OK when there is none. Every entry point
 * joins before committing the run directory; kp_run_release joins too (and
 * drops the status). Its time is added to run->background_seconds. */
kp_status kp_run_join(kp_run *run, kp_error *err);
/* From fn, on its thread: it reads the run no more (what it still has to
 * do needs only its arg). Also implied when fn returns. */
void kp_run_bg_done_reading(kp_run *run);
/* Waits until the background work reads the run no more (at once without
 * any, or when it ran on this thread); kp_run_drop_cluster does. */
void kp_run_wait_reading(kp_run *run);

#endif
