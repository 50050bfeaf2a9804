/*
 * redact.h - the redacting copy of a snapshot list (objects/<resource>.json)
 * into the run directory, which is shared with reviewers and uploaded by CI.
 *
 * The copy is byte for byte the same as its source except for these
 * values, each replaced by the JSON string "<redacted>" (whatever their
 * type was):
 *   - "value" of every object element of any "env" array, wherever it is
 *     (containers, initContainers, ephemeralContainers of pods and of
 *     workload templates): a literal environment value. "name" and
 *     "valueFrom" stay: valueFrom only points at a Secret or ConfigMap key.
 *     A variable a language runtime reads its memory settings from
 *     (JAVA_TOOL_OPTIONS, NODE_OPTIONS, GOMEMLIMIT ...: runtime.h), named
 *     before its value, keeps those settings and nothing else:
 *     "-Xmx3g <redacted>" (the loader reads the heap from them).
 *   - "data", "stringData" and "binaryData" members of a list item (a
 *     Secret or ConfigMap that found its way into a list).
 *   - the "kubectl.kubernetes.io/last-applied-configuration" member of any
 *     "annotations" object: a JSON copy of the whole object as applied,
 *     env values included.
 * "envFrom" is kept as it is: its elements only name a ConfigMap or Secret
 * (configMapRef/secretRef, optional, prefix) and hold no data; which
 * sources a container draws on is useful to a reviewer and no secret.
 * Member names are matched after unescaping ("v\u0061lue" is "value").
 *
 * Nothing kopilot's loader reads is touched, so the copy loads into the
 * same model as the source (model.bin stays valid). The copy streams: one
 * chunk of the file is in memory at a time, however large it is. Input that
 * is not strict JSON (pipeline/jscan.h) is an error naming line and column.
 */
#ifndef KP_REDACT_H
#define KP_REDACT_H

#include <sys/stat.h>

#include "pipeline/jscan.h"
#include "pipeline/kp.h"

#define KP_REDACTED "\"<redacted>\""

typedef struct kp_redactor kp_redactor;

/* name is for error messages. */
kp_redactor *kp_redactor_new(const char *name);
void kp_redactor_free(kp_redactor *r);
/* Scans the next chunk of the input and appends to out what can be written
 * so far (never more than the input up to here, redacted). */
kp_status kp_redactor_feed(kp_redactor *r, const char *data, size_t n, kp_buf *out, kp_error *err);
/* End of input: appends the rest; an error unless the input was one whole
 * JSON value. */
kp_status kp_redactor_finish(kp_redactor *r, kp_buf *out, kp_error *err);
/* Values replaced so far. */
size_t kp_redactor_count(const kp_redactor *r);

/* src -> dst (written atomically), redacted; *count (may be NULL) gets the
 * number of values replaced. */
kp_status kp_redact_copy(const char *src, const char *dst, size_t *count, kp_error *err);
/* The same from memory into out (tests, fuzzing). */
kp_status kp_redact_buffer(const char *name, const char *in, size_t n, kp_buf *out, size_t *count, kp_error *err);

/* A page copier: fed the tokens of an API server's List page by the
 * model's own scan (kp_listscan_set_tap with kp_redactor_token), it writes
 * the page's items (redacted as above) to out: each item without
 * metadata.managedFields (the server's bookkeeping, a third of an object's
 * bytes and nothing a reader of the snapshot needs), with apiVersion and
 * kind added where the item lacks them (the server leaves them out of list
 * items; kubectl puts them back), items separated by ",\n" across pages:
 * *items_out counts the items written (the caller's, kept across pages).
 * Around each chunk the scan is fed: page_chunk (the chunk's bytes, the
 * offset of its first byte in the page, where to write) and, after the
 * feed, page_flush (the chunk's end, kp_listscan_pending_start). */
kp_redactor *kp_redactor_new_page(const char *api_version, const char *kind, size_t *items_out);
void kp_redactor_page_chunk(kp_redactor *r, const char *data, uint64_t base, kp_buf *out);
kp_status kp_redactor_page_flush(kp_redactor *r, uint64_t chunk_end, uint64_t pending_start, kp_error *err);

/* One scan of each file, for the loader and the copy. The loader hands the
 * tokens of its own scan (pipeline/jscan.h, offsets after a byte order
 * mark) to a recorder, which notes where the values to redact are; the
 * copy then replaces those spans without scanning the text again. The plan
 * holds for the file as it was read (its identity: device, inode, size,
 * mtime and ctime); a file that is not the same any more is copied by
 * kp_redact_copy, scanning it. */
typedef struct {
	uint64_t start, end; /* [start, end) in the text */
	char *keep;	     /* what goes there: NULL for "<redacted>" (owned) */
} kp_redact_span;
typedef struct {
	kp_redact_span *spans; /* in order */
	size_t len, cap;
	uint64_t size; /* bytes scanned */
	struct stat file;
	bool valid; /* filled in by a whole, successful read */
} kp_redact_plan;
/* A redactor with no scanner: feed it tokens with kp_redactor_token. */
kp_redactor *kp_redactor_new_recorder(kp_redact_plan *plan);
kp_status kp_redactor_token(void *redactor, const kp_jscan_token *t, kp_error *err); /* a kp_jscan_fn */
/* Whether the redactor needs none of the tokens inside the container that
 * has just begun at depth: one it replaces whole, or a member a page copier
 * leaves out (kp_listscan_set_tap_skips). */
bool kp_redactor_skips(void *redactor, int depth);
void kp_redact_plan_release(kp_redact_plan *p);
/* Whether two stats are of the same file, unchanged (what a plan checks). */
bool kp_redact_same_file(const struct stat *a, const struct stat *b);
/* src -> dst (atomically) as kp_redact_copy, from the plan when it still
 * describes src. */
kp_status kp_redact_copy_planned(const kp_redact_plan *plan, const char *src, const char *dst, size_t *count,
				 kp_error *err);

#endif
