/*
 * jscan.h - a small streaming JSON tokenizer (RFC 8259, strict).
 *
 * The input is pushed in chunks of any size (kp_jscan_feed); every token is
 * handed to a callback as soon as it is complete, with its byte offsets in
 * the whole input, so a caller can copy, cut or replace spans of a file of
 * any size while holding only one chunk. Memory: one byte per open
 * container (up to max_depth) and, when text is wanted, the text of the
 * token being scanned (at most max_text bytes of it).
 *
 * Strict means what RFC 8259 allows and nothing else: one value per text,
 * no trailing commas, no comments, no leading zeros or "+1", no "NaN",
 * no control characters in strings, only the eight escapes and \uXXXX, and
 * well-formed UTF-8 (no overlong forms, no encoded surrogates, nothing
 * above U+10FFFF). A lone \uD800..\uDFFF escape is grammatical JSON and is
 * accepted (its decoded text is U+FFFD). Errors are KP_ERR_INPUT
 * "NAME:LINE:COLUMN: what" (columns count bytes from 1), with the
 * offending byte quoted safely (printable ASCII or 0xNN).
 *
 * It is the base for a faster streaming parser: the redacting snapshot copy
 * (stages/collect/redact.c) is its first user.
 */
#ifndef KP_JSCAN_H
#define KP_JSCAN_H

#include "pipeline/kp.h"

typedef enum {
	KP_JS_OBJECT_BEGIN,
	KP_JS_OBJECT_END,
	KP_JS_ARRAY_BEGIN,
	KP_JS_ARRAY_END,
	KP_JS_KEY, /* a member name; the member's value follows */
	KP_JS_STRING,
	KP_JS_NUMBER,
	KP_JS_TRUE,
	KP_JS_FALSE,
	KP_JS_NULL,
} kp_jscan_type;

typedef struct kp_jscan_token {
	kp_jscan_type type;
	/* The token's bytes in the input, [start, end): a string's quotes
	 * included, '{' or '}' alone for a container's begin and end. */
	uint64_t start, end;
	/* Containers open around the token; a container's BEGIN and END
	 * count the container itself (the top-level value's BEGIN is 1, a
	 * member of it is at depth 1, a top-level scalar at 0). */
	int depth;
	/* KEY always, STRING and NUMBER when opts.text is set: the decoded
	 * text (escapes resolved; len bytes, not NUL-terminated, may hold
	 * NUL bytes), at most max_text bytes of it; truncated when it was
	 * longer. Often points into the data fed: valid during the callback
	 * only. NULL otherwise. */
	const char *text;
	size_t len;
	bool truncated;
	/* The text may hold a NUL byte (it came from an escape, \u0000);
	 * false: it holds none (a raw NUL is a control character, an error),
	 * so a reader that cuts names at a NUL need not look for one. */
	bool nul;
} kp_jscan_token;

/* Returns KP_OK to go on; anything else stops the scan, and feed/finish
 * return it (with err as the callback left it). */
typedef kp_status (*kp_jscan_fn)(void *ud, const kp_jscan_token *t, kp_error *err);

typedef struct kp_jscan_opts {
	int max_depth;   /* deeper nesting is an error; 0: KP_JSCAN_DEFAULT_DEPTH */
	size_t max_text; /* bytes of decoded text kept per token; 0: KP_JSCAN_DEFAULT_TEXT */
	bool text;       /* decode STRING and NUMBER text too (keys always are) */
} kp_jscan_opts;

#define KP_JSCAN_DEFAULT_DEPTH 512
#define KP_JSCAN_MAX_DEPTH 65536
#define KP_JSCAN_DEFAULT_TEXT 4096

typedef struct kp_jscan kp_jscan;

/* name is used in error messages (a path; copied). opts may be NULL. */
kp_jscan *kp_jscan_new(const char *name, const kp_jscan_opts *opts, kp_jscan_fn fn, void *ud);
void kp_jscan_free(kp_jscan *s);
/* Scans the next n bytes. After an error the scanner is spent: every later
 * call returns the same error. */
kp_status kp_jscan_feed(kp_jscan *s, const char *data, size_t n, kp_error *err);
/* End of input: completes a trailing number, and fails unless exactly one
 * whole value was read. */
kp_status kp_jscan_finish(kp_jscan *s, kp_error *err);
/* Offset where the token being scanned began (a string, number or literal
 * cut by the end of the last chunk), or the offset of the next byte when
 * the scanner is between tokens. A streaming copier must keep bytes from
 * here on if it may still want to replace the token. */
uint64_t kp_jscan_pending_start(const kp_jscan *s);
/* Bytes fed so far. */
uint64_t kp_jscan_offset(const kp_jscan *s);
/* Whether STRING and NUMBER tokens from the next one on carry their text
 * (opts.text at the start). A callback may switch it: a reader that will
 * drop the value after a member name needs none of its text, and a long
 * escaped string is then never copied. Keys always carry theirs. */
void kp_jscan_set_text(kp_jscan *s, bool on);

/* From a callback on an OBJECT_BEGIN or ARRAY_BEGIN token: the tokens
 * inside that container are not handed over (nor their text kept); it is
 * still scanned and checked as strictly, so an error in it is the same
 * error. Its END is the next token the callback sees. A reader that drops
 * a whole member (managedFields) pays for the scan and no more. */
void kp_jscan_quiet(kp_jscan *s);

/* Whole buffer in one call: new, feed, finish, free. */
kp_status kp_jscan_buffer(const char *name, const kp_jscan_opts *opts, const char *data, size_t n, kp_jscan_fn fn,
			  void *ud, kp_error *err);

#endif
