/*
 * kp.h - the small shared core every part of kopilot includes: status codes,
 * the error record, a growable string buffer, an arena for interned strings,
 * atomic file writes and a few JSON helpers.
 *
 * Ownership rule (one rule, kept everywhere): a function that returns a
 * pointer to heap memory it allocated hands that memory to the caller, who
 * frees it with the matching *_free() (or free() for plain char *). A struct
 * filled by *_init() is emptied by *_release(); the struct itself belongs to
 * whoever declared it. Strings stored in the cluster model live in its arena
 * and are freed with the model, never one by one.
 *
 * Library code never prints and never exits: it returns a kp_status and fills
 * a kp_error; only pipeline/main.c and the cmd_*.c files talk to the user.
 */
#ifndef KP_H
#define KP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#define KP_VERSION "0.1.0"

/* Process exit codes, documented in README and --help. */
enum {
	KP_EXIT_OK = 0,
	KP_EXIT_GATE = 1,     /* complete, and a --fail-on condition holds (pipeline/gate.h) */
	KP_EXIT_USAGE = 2,    /* bad flags, bad configuration */
	KP_EXIT_DEGRADED = 3, /* finished, but some input was missing */
	KP_EXIT_FAILED = 4,   /* could not finish: bad input data, I/O error */
};

/* The run is complete and in place: its reports were produced (ok,
 * degraded, or complete with a --fail-on gate triggered). What run
 * metrics, notifications, pruning and the printed summary wait for. */
static inline bool kp_exit_complete(int rc)
{
	return rc == KP_EXIT_OK || rc == KP_EXIT_DEGRADED || rc == KP_EXIT_GATE;
}

typedef enum {
	KP_OK = 0,
	KP_ERR_USAGE,   /* caller's arguments or configuration are wrong */
	KP_ERR_INPUT,   /* an input file is malformed or violates the format */
	KP_ERR_IO,      /* reading or writing a file failed */
	KP_ERR_NOMEM,   /* allocation failed */
	KP_ERR_INTERNAL, /* a bug: should never happen */
	KP_ERR_NETWORK   /* a server could not be reached or kept failing (pipeline/http.h) */
} kp_status;

typedef struct kp_error {
	kp_status status;
	char msg[1024];
} kp_error;

/* Sets err (if not NULL) and returns status, so callers can write
 * `return kp_fail(err, KP_ERR_INPUT, "%s: ...", path);`. The message is
 * made visible (kp_buf_put_visible, one line): whatever it quotes, printing
 * it never puts a control character on a terminal. */
kp_status kp_fail(kp_error *err, kp_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes an existing message with more context ("while reading X: ..."). */
kp_status kp_error_prefix(kp_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kp_status_exit_code(kp_status s);
const char *kp_status_name(kp_status s);

/* Allocation that never returns NULL. On failure (real, or injected by a
 * fault build, see fault.h) it unwinds to the innermost kp_nomem_guard(), or
 * without one prints "kopilot: out of memory" and aborts. kp_buf and
 * kp_arena allocate through these too. */
void *kp_xmalloc(size_t n);
void *kp_xcalloc(size_t n, size_t size);
void *kp_xrealloc(void *p, size_t n);
char *kp_xstrdup(const char *s);
/* printf into a new heap string (caller frees). */
char *kp_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *kp_xvasprintf(const char *fmt, va_list ap);

typedef kp_status (*kp_guarded_fn)(void *arg, kp_error *err);
/* Runs fn(arg, err); if an allocation fails inside, returns KP_ERR_NOMEM with
 * err set to "out of memory" instead of aborting. Guards nest (the innermost
 * catches). What fn allocated before the failure is abandoned: the caller is
 * expected to report and exit. Temp files from kp_temp_path_for() that fn
 * left uncommitted are unlinked. */
kp_status kp_nomem_guard(kp_guarded_fn fn, void *arg, kp_error *err);

/* ---- growable string buffer ---- */
typedef struct kp_buf {
	char *data; /* always NUL-terminated once anything was appended */
	size_t len;
	size_t cap;
} kp_buf;

void kp_buf_init(kp_buf *b);
void kp_buf_release(kp_buf *b);
void kp_buf_reset(kp_buf *b);
void kp_buf_add(kp_buf *b, const char *s, size_t n);
void kp_buf_puts(kp_buf *b, const char *s);
void kp_buf_putc(kp_buf *b, char c);
void kp_buf_printf(kp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kp_buf_vprintf(kp_buf *b, const char *fmt, va_list ap);
/* Takes the buffer's memory (caller frees); the buffer is left empty. */
char *kp_buf_detach(kp_buf *b);
const char *kp_buf_cstr(const kp_buf *b); /* "" when empty */

/* ---- text that leaves the program ----
 * Every string from a cluster, a snapshot, a configuration or a flag that
 * kopilot prints (terminal, logs) or writes into a report (report.md/html,
 * report.xlsx cells and document properties) goes through this, at the
 * point where it leaves: C0 control characters (but '\n' and '\t' when
 * keep_lines), DEL and the C1 controls U+0080..U+009F become "\x1b" /
 * "\u009b", and a byte that is not UTF-8 becomes "\xff", so no escape
 * sequence reaches a terminal and no document becomes invalid XML.
 * findings.json needs none of it: JSON escapes control characters itself. */
void kp_buf_put_visible(kp_buf *b, const char *s, size_t n, bool keep_lines);
char *kp_visible(const char *s); /* one line, new heap string (caller frees); NULL gives "" */
/* How many of s's len bytes to keep to hold at most max: len when it fits,
 * else max moved back to the start of a UTF-8 character, so a cut never
 * leaves half of one. */
size_t kp_utf8_cut(const char *s, size_t len, size_t max);
/* Whether kp_buf_put_visible would leave these n bytes unchanged. */
bool kp_text_is_plain(const char *s, size_t n, bool keep_lines);

/* ---- arena: many small allocations freed at once ---- */
typedef struct kp_arena_block kp_arena_block;
typedef struct kp_arena {
	kp_arena_block *head;
	size_t used_bytes;
} kp_arena;

void kp_arena_init(kp_arena *a);
void kp_arena_release(kp_arena *a);
/* Moves every allocation of src into dst (pointers stay valid; dst frees
 * them); src is left empty. */
void kp_arena_adopt(kp_arena *dst, kp_arena *src);
void *kp_arena_alloc(kp_arena *a, size_t n); /* zeroed, 16-byte aligned */
char *kp_arena_strdup(kp_arena *a, const char *s);
char *kp_arena_strndup(kp_arena *a, const char *s, size_t n);

/* ---- files ---- */
/* Opens an input file for reading. Only a regular file is accepted: a FIFO,
 * a directory or a device is KP_ERR_INPUT "<path>: not a regular file (a
 * FIFO)", found without blocking (opened O_NONBLOCK, checked with fstat).
 * The caller fcloses *out. Every input file is opened through this. */
kp_status kp_open_input(const char *path, FILE **out, kp_error *err);
/* Reads a whole regular file (kp_open_input); *out is NUL-terminated and
 * owned by the caller. */
kp_status kp_read_file(const char *path, char **out, size_t *len, kp_error *err);
/* A token kept in a file (a mounted Secret): its content without the
 * trailing newline; an error names the configuration key, never the
 * content. */
/* n bytes as base64 (RFC 4648, padded) appended to out; wrap > 0: a
 * newline after every wrap characters and at the end (MIME bodies). */
void kp_base64_append(kp_buf *out, const void *data, size_t n, size_t wrap);
/* s percent-encoded into b: every byte but A-Z a-z 0-9 - . _ ~ (RFC 3986's
 * unreserved), so it is one query value or one path segment. */
void kp_url_escape_append(kp_buf *b, const char *s);
kp_status kp_read_token_file(const char *path, const char *key, char **out, kp_error *err);
/* Writes path atomically: temp file in the same directory, fsync, rename.
 * A crash or error never leaves a half-written file at path. */
kp_status kp_write_file_atomic(const char *path, const char *data, size_t len, kp_error *err);
/* The same, written piece by piece (a document too big to hold as one
 * string): open, write any number of times (buffered; the first error
 * sticks and is returned by every later call), then commit (fsync, rename)
 * or abort (the temp file goes). commit and abort release f. */
#define KP_ATOMIC_BUFFER (1u << 20)
/* Bytes of a file written so far, and how many of them were handed to the
 * disk (util.c's write-behind). */
typedef struct kp_writebehind {
	uint64_t written, started;
} kp_writebehind;
typedef struct kp_atomic_file {
	char *path, *tmp;
	int fd;
	kp_buf buf;
	kp_status status;
	kp_error *err;
	kp_writebehind wb;
	bool drop; /* kp_atomic_drop_behind */
} kp_atomic_file;
kp_status kp_atomic_open(kp_atomic_file *f, const char *path, kp_error *err);
/* After open: the file is written once and not read again soon (a live
 * collection's objects/<resource>.json: the run reads the model, not the
 * file), so what reached the disk is dropped from the page cache as the
 * writing goes on, and the file reuses the same few MB of page cache
 * instead of filling fresh memory (util.c's write-behind, drop true). */
void kp_atomic_drop_behind(kp_atomic_file *f);
kp_status kp_atomic_write(kp_atomic_file *f, const char *data, size_t n);
kp_status kp_atomic_commit(kp_atomic_file *f);
void kp_atomic_abort(kp_atomic_file *f);
/* Temp path beside path for writers that need a filename (libxlsxwriter);
 * commit with kp_commit_temp(), or kp_temp_discard() on error. Caller frees
 * the result. The name is registered until then, so a nomem guard that
 * unwinds can remove the file. */
char *kp_temp_path_for(const char *path);
kp_status kp_commit_temp(const char *tmp, const char *path, kp_error *err);
void kp_temp_discard(const char *tmp); /* unlink; and forget it */
/* Copies a file in chunks (bounded memory) to dst, atomically. */
kp_status kp_copy_file_atomic(const char *src, const char *dst, kp_error *err);
/* The same through a filter: filter gets each chunk read (data, n) and then
 * data == NULL at the end of src, and appends what to write to out (which
 * is emptied before each call). An error from it stops the copy. */
typedef kp_status (*kp_copy_filter_fn)(void *ud, const char *data, size_t n, kp_buf *out, kp_error *err);
kp_status kp_copy_file_filtered(const char *src, const char *dst, kp_copy_filter_fn filter, void *ud, kp_error *err);
kp_status kp_mkdir_p(const char *path, kp_error *err);
/* False only when path is known to be missing (ENOENT, ENOTDIR): a file
 * that cannot be checked (EIO, EACCES) "exists", and opening it reports why. */
bool kp_file_exists(const char *path);
char *kp_path_join(const char *a, const char *b); /* caller frees */
/* rm -rf path, best effort, symlinks not followed (NULL: nothing). */
void kp_remove_tree(const char *path);

/* ---- JSON helpers (json-c) ---- */
/* Parses a file whose top level must be a JSON object; on syntax error names
 * the file, line and column. A leading UTF-8 byte order mark is skipped
 * (PowerShell writes one); an empty file or a top level that is not an
 * object (null, a list) is KP_ERR_INPUT saying so in words. */
kp_status kp_json_read_file(const char *path, json_object **out, kp_error *err);
/* Streams one big array out of a JSON file without building its DOM: each
 * element of the top-level object's member `key` (e.g. "items") is parsed
 * on its own and handed to fn, then freed, so memory stays at one element
 * however large the file. *skeleton receives the rest of the document with
 * that array emptied (for "kind", "schema", ...; caller puts). fn returns
 * KP_OK to go on. Malformed JSON is an error naming file:line:column. */
typedef kp_status (*kp_json_item_fn)(void *ud, json_object *item, size_t index);
kp_status kp_json_stream_array(const char *path, const char *key, kp_json_item_fn fn, void *ud,
			       json_object **skeleton, kp_error *err);
/* The same, with `expected` describing the document for the errors about an
 * empty file or a top level that is not an object ("a JSON List (the output
 * of `kubectl get pods -A -o json`)"); kp_json_stream_array says "a JSON
 * object". Like kp_json_read_file, a UTF-8 byte order mark is skipped. */
kp_status kp_json_stream_array_ex(const char *path, const char *key, const char *expected, kp_json_item_fn fn,
				  void *ud, json_object **skeleton, kp_error *err);
/* Serialises obj pretty-printed and writes it atomically. */
kp_status kp_json_write_file(const char *path, json_object *obj, kp_error *err);
/* Lookup by dotted path ("metadata.name"); NULL when any step is missing. */
json_object *kp_json_get(json_object *obj, const char *dotted);
const char *kp_json_str(json_object *obj, const char *dotted); /* NULL unless a string */
bool kp_json_is_valid_utf8(const char *s);
/* A JSON number printed in the shortest form that reads back to the same
 * double (0.004237, not 0.0042370000000000003). */
json_object *kp_json_new_number(double v);

/* Strict decimal number, as people write them in YAML and JSON strings:
 * no hex, "inf" or "nan" (which strtod would accept), no trailing text. */
bool kp_parse_number(const char *s, double *out);

/* Whether s is a valid namespace name (RFC 1123 label: lowercase letters,
 * digits and '-', starting and ending alphanumeric, at most 63 characters). */
bool kp_namespace_name_valid(const char *s);

/* The API server's rules for object names (k8s.io/apimachinery validation):
 * most kinds (Pod, Deployment, Node, PVC, StorageClass, ...) take a DNS-1123
 * subdomain, namespaces and container names a DNS-1123 label, Services a
 * DNS-1035 label; custom resources only a path segment. */
typedef enum {
	KP_NAME_SUBDOMAIN, /* IsDNS1123Subdomain: <= 253, [a-z0-9.-], alphanumeric at both ends of each label */
	KP_NAME_LABEL,     /* IsDNS1123Label: <= 63, [a-z0-9-], alphanumeric at both ends */
	KP_NAME_DNS1035,   /* IsDNS1035Label: a DNS-1123 label starting with a letter */
	KP_NAME_SEGMENT,   /* IsValidPathSegmentName, and no control character */
	KP_NAME_LABEL_KEY, /* IsQualifiedName: [prefix/]name */
	KP_NAME_LABEL_VALUE, /* IsValidLabelValue: empty, or <= 63 of [A-Za-z0-9-_.], alphanumeric at both ends */
} kp_name_rule;
/* NULL when s follows rule, else what is wrong in words ("is empty", "is
 * not a valid name: Kubernetes requires a DNS-1123 label (...)"). A label
 * value may be empty (IsValidLabelValue). */
const char *kp_name_problem(const char *s, kp_name_rule rule);

/* ---- time ---- */
/* RFC 3339 <-> seconds since the epoch (UTC). Returns false on bad input. */
bool kp_time_parse(const char *s, int64_t *out);
void kp_time_format(int64_t t, char out[32]); /* "2026-11-25T12:00:00Z" */
/* "14d", "1h30m", "90s", "300" (seconds): Prometheus' duration syntax
 * (units w d h m s). False for anything else. */
bool kp_parse_duration(const char *s, int64_t *seconds);
/* Seconds on the monotonic clock, for durations (stage and background timings). */
double kp_monotonic_seconds(void);

/* ---- hashing ---- */
uint64_t kp_fnv1a64(const void *data, size_t len, uint64_t seed);
#define KP_FNV_SEED 0xcbf29ce484222325ULL

#endif
