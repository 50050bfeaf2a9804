/*
 * snapshot.h - reading a snapshot directory into the cluster model.
 *
 * A snapshot is DIR/objects/<resource>.json (exactly what
 * `kubectl get <resource> -A -o json` prints) and DIR/usage.json
 * (kopilot.usage/v1, contracts/USAGE.md). A missing file means "not
 * collected" and is recorded in cluster->missing and cluster->collected[],
 * never treated as an empty list. A file that is present but malformed is an
 * error (KP_ERR_INPUT) naming the file, the item and the field.
 */
#ifndef KP_SNAPSHOT_H
#define KP_SNAPSHOT_H

#include "pipeline/model.h"
#include "pipeline/listscan.h"
#include "stages/collect/redact.h"

/* Fills c (already kp_cluster_init'ed). On error c may hold partial data and
 * must still be released by the caller. */
kp_status kp_snapshot_load(kp_cluster *c, const char *dir, kp_error *err);
/* The same, and plans[KP_RES_COUNT] (zeroed by the caller, released with
 * kp_redact_plan_release) receive what the redacting copy of each list
 * replaces, found by the same scan (redact.h: kp_redact_copy_planned). */
kp_status kp_snapshot_load_planned(kp_cluster *c, const char *dir, kp_redact_plan *plans, kp_error *err);

/* The model cache (stages/collect/snapcache.c): collect writes
 * SNAPDIR/model.bin, a compact binary copy of c, after the raw files are in
 * place; kp_snapshot_load_cached() reads it when it is valid for the raw
 * files beside it (same sizes and mtimes, same loader build) and falls back
 * to kp_snapshot_load() otherwise. Both give the same kp_cluster. */
kp_status kp_snapshot_cache_write(const kp_cluster *c, const char *snapdir, kp_error *err);
/* The same in two steps: begin encodes c (the only step that reads it),
 * finish records the raw files' stats as they are then and commits;
 * abort discards. Between the two the raw files may still be written. */
typedef struct kp_cache_writer kp_cache_writer;
/* Bytes of a snapshot's raw files (objects/<resource>.json and usage.json
 * as present in dir), as model.bin's stats see them. */
uint64_t kp_snapshot_raw_bytes(const char *dir);
kp_status kp_snapshot_cache_begin(const kp_cluster *c, const char *snapdir, kp_cache_writer **out, kp_error *err);
kp_status kp_snapshot_cache_finish(kp_cache_writer *cw, kp_error *err);
void kp_snapshot_cache_abort(kp_cache_writer *cw);
kp_status kp_snapshot_load_cached(kp_cluster *c, const char *snapdir, bool *used_cache, kp_error *err);
/* Identifies the loader's build: a cache written by another build of
 * snapshot.c is never trusted (its parsing may differ). */
const char *kp_snapshot_loader_stamp(void);

/* One List from memory (the text of objects/<resource>.json, or an API
 * server's page) into c, read as kp_snapshot_load reads each file (the
 * same streaming reader, pipeline/listscan.h); fuzzed without files;
 * kp_snapshot_resolve then links owners, HPAs and pods as the last step of
 * kp_snapshot_load. */
kp_status kp_snapshot_parse_list(kp_cluster *c, kp_resource r, const char *data, size_t n, kp_error *err);
void kp_snapshot_resolve(kp_cluster *c);

/* Where the lists and the usage come from: a snapshot directory
 * (kp_snapshot_load) or a live cluster (stages/collect/kube.h). list fills c
 * with list r, or records it as not collected (kp_cluster_add_missing) and
 * returns KP_OK; an error stops the load. usage does the same for the
 * usage summaries. Both are called from two threads at once, each with its
 * own c (pods on one, everything else on the other), then merged and
 * resolved. */
typedef struct kp_snapshot_source {
	kp_status (*list)(void *ud, kp_cluster *c, kp_resource r, kp_error *err);
	kp_status (*usage)(void *ud, kp_cluster *c, kp_error *err);
	void *ud;
} kp_snapshot_source;
kp_status kp_snapshot_load_from(kp_cluster *c, const kp_snapshot_source *src, kp_error *err);
/* DIR/usage.json into c as kp_snapshot_load reads it (absent: not collected). */
kp_status kp_snapshot_load_usage(kp_cluster *c, const char *dir, kp_error *err);

/* A list read page by page as an API server sends it (limit/continue):
 * each page is a List of its own, read by the same streaming reader and
 * checks as a snapshot file; item numbers in messages count from the
 * list's first page. A page that fails (or is read again) takes back what
 * it added to the model; so does the list on restart (an expired continue
 * token) and when it is freed as not collected. */
typedef struct kp_list_reader kp_list_reader;
kp_list_reader *kp_list_reader_new(kp_cluster *c, kp_resource r);
/* The scan for the next page; name is for messages ("GET /api/v1/pods
 * (page 3)"). The reader owns the scan: feed it, then page_end or
 * page_abort. */
kp_listscan *kp_list_reader_page(kp_list_reader *lr, const char *name, kp_error *err);
/* The page's end: its skeleton (metadata.continue; the caller puts it). */
kp_status kp_list_reader_page_end(kp_list_reader *lr, json_object **skeleton, kp_error *err);
void kp_list_reader_page_abort(kp_list_reader *lr);
void kp_list_reader_restart(kp_list_reader *lr);
size_t kp_list_reader_items(const kp_list_reader *lr);
/* collected: the list was read to its end (c->collected[r]). */
void kp_list_reader_free(kp_list_reader *lr, bool collected);

/* Tests: off makes the reader keep every member of every item instead of
 * only what the model reads (the filters in snapshot.c), to check that the
 * filters drop nothing the model uses. On by default. */
void kp_snapshot_set_filtering(bool on);

/* Upper bounds beyond which a quantity is treated as a typo, not a size. */
#define KP_MAX_CPU_MILLICORES (1000000LL * 1000LL) /* one million cores */
#define KP_MAX_BYTES (1LL << 60)                   /* one EiB */
#define KP_MAX_NAME_LEN 253                        /* DNS-1123 subdomain */

#endif
