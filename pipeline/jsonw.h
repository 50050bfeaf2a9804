/*
 * jsonw.h - a JSON document written with its big arrays streamed.
 *
 * analysis.json and findings.json hold one array with an element per
 * finding: tens of thousands at a large cluster. Building the whole
 * document as one json-c tree and then one string costs several times the
 * file's size in memory; here the small rest of the document is a tree, and
 * each streamed array's elements are made one at a time by a generator,
 * serialised and freed. The bytes are exactly what kp_json_write_file
 * would write for the whole tree (json-c's pretty, spaced layout), so a
 * reader, a diff or a checksum cannot tell the two apart.
 *
 * Written atomically (kp_atomic_file): a failure, from the file or from a
 * generator, leaves nothing at path.
 */
#ifndef KP_JSONW_H
#define KP_JSONW_H

#include "pipeline/kp.h"

/* Makes element i (0-based) of a streamed array: a new json_object the
 * writer serialises and puts. Returns KP_OK or an error (err set). */
typedef kp_status (*kp_json_gen_fn)(void *ud, size_t i, json_object **item, kp_error *err);

typedef struct kp_json_streamed {
	const char *key; /* a member of the document's top-level object */
	size_t n;        /* elements */
	kp_json_gen_fn gen;
	void *ud;
} kp_json_streamed;

/* Writes doc to path with each of arrays[0..narrays) in place of the
 * top-level member of its key (which must exist in doc: its value is
 * replaced, its position kept; doc is left with those members null). */
kp_status kp_json_write_streamed(const char *path, json_object *doc, const kp_json_streamed *arrays, size_t narrays,
				 kp_error *err);

#endif
