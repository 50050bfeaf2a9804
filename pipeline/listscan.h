/*
 * listscan.h - reads the items of a big JSON List without a tree of the
 * whole text, and keeps of each item only what a keep-filter names.
 *
 * The text (a file, or an API server's page, in chunks of any size) goes
 * through pipeline/jscan.c, which checks all of it strictly (RFC 8259,
 * UTF-8) and says file:line:column for what is malformed. Each element of
 * the top-level object's member `key` ("items", "containers") becomes a
 * json-c tree of only the members its filter keeps, handed to a callback
 * and freed; what the filter drops is scanned and never allocated
 * (managedFields, env, probes, the last-applied annotation, most of a
 * pod). The rest of the document (kind, metadata, usage.json's window) is
 * kept whole as the skeleton, with the array itself left empty.
 *
 * The trees hold what json-c's own parser would make of the same text
 * (numbers keep their spelling and int64/uint64/double type, a member
 * name is cut at an escaped NUL as json-c cuts it, a repeated name keeps
 * its first place and its last value), so code written against
 * json_tokener_parse reads them unchanged.
 */
#ifndef KP_LISTSCAN_H
#define KP_LISTSCAN_H

#include "pipeline/jscan.h"
#include "pipeline/kp.h"

/* A keep-filter: the members of an object to keep, ended by {NULL}. kids
 * NULL keeps the member's whole value; otherwise, when the value is an
 * object, only its members kids names. An array is transparent: each
 * element is filtered as the array itself would be (so "containers" with
 * kids {name} keeps every container, each with its name). A key ending in
 * '*' keeps every member whose name starts with what precedes it. A value
 * that is not an object is kept as it is whatever its filter. */
typedef struct kp_keep {
	const char *key;
	const struct kp_keep *kids;
} kp_keep;

/* One element of the array (an object, or any other value: NULL for a
 * JSON null); the callee does not own it. Returning anything but KP_OK
 * stops the scan with that status and err as the callee set it. */
typedef kp_status (*kp_listscan_fn)(void *ud, json_object *item, size_t index, kp_error *err);

typedef struct kp_listscan kp_listscan;

/* name: for error messages (the file's path). key: the top-level member
 * whose elements are streamed. expected: what the document is, for the
 * errors about an empty text or a top level that is not an object ("a
 * JSON List (the output of `kubectl get pods -A -o json`)"). keep: the
 * filter for an element (NULL keeps all of it). */
kp_listscan *kp_listscan_new(const char *name, const char *key, const char *expected, const kp_keep *keep,
			     kp_listscan_fn fn, void *ud);
void kp_listscan_free(kp_listscan *ls);
/* Every token of the scan is also handed to tap (before the reader sees
 * it), e.g. to a redacting copier of the same text: one scan for both. */
void kp_listscan_set_tap(kp_listscan *ls, kp_jscan_fn tap, void *tap_ud);
/* Whether the tap needs none of the tokens inside the container that has
 * just begun at depth (it still wants its END). When the reader drops that
 * container too, its inside is scanned quietly (kp_jscan_quiet): no token
 * of it is handed to anyone. Without a tap, every dropped container is. */
void kp_listscan_set_tap_skips(kp_listscan *ls, bool (*skips)(void *tap_ud, int depth));
/* Scans the next n bytes (any split). A syntax error is KP_ERR_INPUT
 * "NAME:LINE:COLUMN: malformed JSON: what". */
kp_status kp_listscan_feed(kp_listscan *ls, const char *data, size_t n, kp_error *err);
/* End of the text: fails unless it held exactly one JSON object. */
kp_status kp_listscan_finish(kp_listscan *ls, kp_error *err);
/* After a successful finish: the document without the array's elements
 * (the array itself is there, empty); the caller puts it. */
json_object *kp_listscan_skeleton(kp_listscan *ls);
/* How many arrays were streamed: the key repeated at the top level
 * ({"items": [...], "items": [...]}) streams the elements of each, where
 * json-c would keep only the last. */
size_t kp_listscan_arrays(const kp_listscan *ls);
/* Bytes fed so far; the offset where a token cut by the end of the last
 * chunk began (kp_jscan_pending_start). */
uint64_t kp_listscan_offset(const kp_listscan *ls);
uint64_t kp_listscan_pending_start(const kp_listscan *ls);

/* Feeds ls a whole regular file (kp_open_input: a FIFO or a directory is
 * refused) in chunks, skipping a UTF-8 byte order mark, and finishes it. */
kp_status kp_listscan_read_file(kp_listscan *ls, const char *path, kp_error *err);
/* The same with a new reader: a whole regular file (kp_open_input: a FIFO or a directory is refused),
 * read in chunks; a UTF-8 byte order mark is skipped. *skeleton as
 * kp_listscan_skeleton (NULL on error). */
kp_status kp_listscan_file(const char *path, const char *key, const char *expected, const kp_keep *keep,
			   kp_listscan_fn fn, void *ud, json_object **skeleton, kp_error *err);

#endif
