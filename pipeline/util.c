/*
 * util.c - implementation of kp.h: errors, buffers, arena, atomic files,
 * JSON and time helpers, and the out-of-memory path (nomem guards and the
 * temp files they clean up). Nothing here prints or exits except the kp_x*
 * allocators, which abort on out-of-memory when no guard is active.
 *
 * Every allocation and file operation here consults fault.h first, so a
 * fault-injection build can fail any one of them on purpose.
 */
#define _GNU_SOURCE /* sync_file_range: the write-behind of big copies below */
#include "pipeline/kp.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/fault.h"

/* A message cut to fit err->msg may end inside a UTF-8 character: drop the
 * partial character so what is printed stays valid UTF-8. */
static void trim_partial_utf8(char *s, size_t len)
{
	size_t i = len;
	while (i > 0 && len - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	if (lead >= 0xC0 && len - (i - 1) < need)
		s[i - 1] = '\0';
}

size_t kp_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* ---- text that leaves the program ---- */

/* One step over s (n > 0 bytes left): how many bytes make the next
 * character, and in rep the visible escape to write instead of them, or ""
 * to copy them as they are. No allocation: kp_fail uses it too. */
static size_t visible_step(const unsigned char *p, size_t n, bool keep_lines, char rep[8])
{
	unsigned char c = p[0];
	rep[0] = '\0';
	if (c < 0x20 || c == 0x7f) {
		if (!(keep_lines && (c == '\n' || c == '\t')))
			snprintf(rep, 8, "\\x%02x", c);
		return 1;
	}
	if (c < 0x80)
		return 1;
	size_t len = (c & 0xE0) == 0xC0 && c >= 0xC2 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 && c <= 0xF4 ? 4 : 0;
	if (len > n)
		len = 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xC0) != 0x80)
			len = 0;
	if (len == 0) { /* not UTF-8: the byte, as a byte */
		snprintf(rep, 8, "\\x%02x", c);
		return 1;
	}
	if (c == 0xC2 && p[1] < 0xA0) /* a C1 control, U+0080..U+009F (CSI is U+009B) */
		snprintf(rep, 8, "\\u%04x", (unsigned)(p[1]));
	return len;
}

void kp_buf_put_visible(kp_buf *b, const char *s, size_t n, bool keep_lines)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = 0;
	char rep[8];
	while (i < n) {
		size_t step = visible_step(p + i, n - i, keep_lines, rep);
		if (rep[0]) {
			kp_buf_add(b, s + run, i - run);
			kp_buf_puts(b, rep);
			run = i + step;
		}
		i += step;
	}
	kp_buf_add(b, s + run, n - run);
}

char *kp_visible(const char *s)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_put_visible(&b, s ? s : "", s ? strlen(s) : 0, false);
	kp_buf_putc(&b, '\0');
	return kp_buf_detach(&b);
}

bool kp_text_is_plain(const char *s, size_t n, bool keep_lines)
{
	const unsigned char *p = (const unsigned char *)s;
	char rep[8];
	for (size_t i = 0; i < n;) {
		i += visible_step(p + i, n - i, keep_lines, rep);
		if (rep[0])
			return false;
	}
	return true;
}

/* src made visible into dst (cap bytes), cut on a character boundary. */
static void visible_into(char *dst, size_t cap, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strlen(src), o = 0;
	char rep[8];
	for (size_t i = 0; i < n;) {
		size_t step = visible_step(p + i, n - i, false, rep);
		size_t len = rep[0] ? strlen(rep) : step;
		if (o + len >= cap)
			break;
		memcpy(dst + o, rep[0] ? rep : src + i, len);
		o += len;
		i += step;
	}
	dst[o] = '\0';
}

kp_status kp_fail(kp_error *err, kp_status status, const char *fmt, ...)
{
	if (err) {
		/* Messages quote paths, flags, config values and snapshot
		 * text, and end up on a terminal: made visible here, once. */
		char raw[sizeof(err->msg)];
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(raw, sizeof(raw), fmt, ap);
		va_end(ap);
		if (n >= (int)sizeof(raw))
			trim_partial_utf8(raw, sizeof(raw) - 1);
		visible_into(err->msg, sizeof(err->msg), raw);
		err->status = status;
	}
	return status;
}

kp_status kp_error_prefix(kp_error *err, const char *fmt, ...)
{
	if (!err)
		return KP_ERR_INTERNAL;
	char prefix[512], old[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	if (vsnprintf(prefix, sizeof(prefix), fmt, ap) >= (int)sizeof(prefix))
		trim_partial_utf8(prefix, sizeof(prefix) - 1);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	char joined[sizeof(err->msg)];
	int n = snprintf(joined, sizeof(joined), "%s: %s", prefix, old);
	if (n >= (int)sizeof(joined))
		trim_partial_utf8(joined, sizeof(joined) - 1);
	visible_into(err->msg, sizeof(err->msg), joined);
	return err->status;
}

int kp_status_exit_code(kp_status s)
{
	switch (s) {
	case KP_OK: return KP_EXIT_OK;
	case KP_ERR_USAGE: return KP_EXIT_USAGE;
	default: return KP_EXIT_FAILED;
	}
}

const char *kp_status_name(kp_status s)
{
	switch (s) {
	case KP_OK: return "ok";
	case KP_ERR_USAGE: return "usage error";
	case KP_ERR_INPUT: return "invalid input";
	case KP_ERR_IO: return "I/O error";
	case KP_ERR_NOMEM: return "out of memory";
	case KP_ERR_NETWORK: return "network error";
	default: return "internal error";
	}
}

/* ---- temp files a nomem guard removes ----
 *
 * Every temp file name handed out by kp_temp_path_for() is registered until
 * it is renamed into place or discarded. When a guard unwinds, the files
 * registered since it was entered are unlinked: what fn was writing is
 * abandoned, and must not stay behind as .NAME.tmp.PID. A handful are live
 * at a time (render stages three), so a plain array is enough. */

typedef struct {
	char *path;
	unsigned long seq; /* registration order: which guard it belongs to */
} temp_entry;

/* Per thread, like the guards: background work (collect's copy of the
 * snapshot, pipeline/run.h) registers, commits and on out-of-memory
 * removes its own temp files while the main thread writes its own. */
static _Thread_local struct {
	temp_entry *items;
	size_t len, cap;
	unsigned long next_seq;
} temps;

static void temp_register(const char *path)
{
	for (size_t i = 0; i < temps.len; i++) {
		if (strcmp(temps.items[i].path, path) == 0) {
			temps.items[i].seq = temps.next_seq++; /* written again, by the innermost guard */
			return;
		}
	}
	if (temps.len == temps.cap) {
		size_t cap = temps.cap ? temps.cap * 2 : 8;
		temps.items = kp_xrealloc(temps.items, cap * sizeof(*temps.items));
		temps.cap = cap;
	}
	char *copy = kp_xstrdup(path);
	temps.items[temps.len].path = copy;
	temps.items[temps.len].seq = temps.next_seq++;
	temps.len++;
}

static void temp_drop(size_t i)
{
	free(temps.items[i].path);
	temps.items[i] = temps.items[--temps.len];
	if (temps.len == 0) {
		free(temps.items);
		temps.items = NULL;
		temps.cap = 0;
	}
}

static void temp_unregister(const char *path)
{
	for (size_t i = 0; i < temps.len; i++) {
		if (strcmp(temps.items[i].path, path) == 0) {
			temp_drop(i);
			return;
		}
	}
}

static void temps_remove_since(unsigned long mark)
{
	for (size_t i = temps.len; i-- > 0;) {
		if (temps.items[i].seq >= mark) {
			unlink(temps.items[i].path);
			temp_drop(i);
		}
	}
}

/* ---- out of memory ---- */

/* A guard is a setjmp point on the C stack; they chain innermost first. */
typedef struct nomem_guard {
	jmp_buf env;
	struct nomem_guard *outer;
	unsigned long temp_mark; /* temp files registered from here on are its own */
} nomem_guard;

/* Per thread: a worker (the snapshot loader's, collect's background copy)
 * runs under its own guard and unwinds to it, removing its own temp files. */
static _Thread_local nomem_guard *guard_top;

static _Noreturn void out_of_memory(void)
{
	nomem_guard *g = guard_top;
	if (g)
		longjmp(g->env, 1);
	fputs("kopilot: out of memory\n", stderr);
	abort();
}

kp_status kp_nomem_guard(kp_guarded_fn fn, void *arg, kp_error *err)
{
	/* g is filled before setjmp and not changed after it, so its fields
	 * are still valid when longjmp comes back here. */
	nomem_guard g;
	g.outer = guard_top;
	g.temp_mark = temps.next_seq;
	if (setjmp(g.env) != 0) {
		guard_top = g.outer;
		temps_remove_since(g.temp_mark);
		return kp_fail(err, KP_ERR_NOMEM, "out of memory");
	}
	guard_top = &g;
	kp_status s = fn(arg, err);
	guard_top = g.outer;
	return s;
}

/* The one allocation path: the kp_x* allocators, kp_buf growth and arena
 * blocks all come here, so a real and an injected failure end the same
 * way. zero: calloc; otherwise realloc (old may be NULL). */
static void *xalloc(void *old, size_t n, size_t size, bool zero)
{
	void *p = NULL;
	if (!kp_fault_alloc())
		p = zero ? calloc(n ? n : 1, size ? size : 1) : realloc(old, n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *kp_xmalloc(size_t n) { return xalloc(NULL, n, 1, false); }
void *kp_xcalloc(size_t n, size_t size) { return xalloc(NULL, n, size, true); }
void *kp_xrealloc(void *p, size_t n) { return xalloc(p, n, 1, false); }

char *kp_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = kp_xmalloc(n);
	memcpy(p, s, n);
	return p;
}

/* ---- kp_buf ---- */

void kp_buf_init(kp_buf *b) { memset(b, 0, sizeof(*b)); }

void kp_buf_release(kp_buf *b)
{
	free(b->data);
	kp_buf_init(b);
}

void kp_buf_reset(kp_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void buf_grow(kp_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = kp_xrealloc(b->data, cap);
	b->cap = cap;
}

void kp_buf_add(kp_buf *b, const char *s, size_t n)
{
	buf_grow(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void kp_buf_puts(kp_buf *b, const char *s) { kp_buf_add(b, s, strlen(s)); }
void kp_buf_putc(kp_buf *b, char c) { kp_buf_add(b, &c, 1); }

void kp_buf_vprintf(kp_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void kp_buf_printf(kp_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kp_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *kp_buf_detach(kp_buf *b)
{
	char *p = b->data ? b->data : kp_xstrdup("");
	/* A detached string usually lives as long as its finding: give back
	 * the doubling's slack (64 bytes at least) rather than keep up to half
	 * of it unused for every explanation and command of 300,000 findings.
	 * Shrinking in place does not move or copy. */
	if (b->data && b->cap - b->len > 16)
		p = kp_xrealloc(p, b->len + 1);
	kp_buf_init(b);
	return p;
}

char *kp_xvasprintf(const char *fmt, va_list ap)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_vprintf(&b, fmt, ap);
	return kp_buf_detach(&b);
}

char *kp_xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = kp_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

const char *kp_buf_cstr(const kp_buf *b) { return b->data ? b->data : ""; }

/* ---- arena ---- */

struct kp_arena_block {
	kp_arena_block *next;
	size_t used, cap;
	_Alignas(16) unsigned char mem[];
};

#define ARENA_BLOCK 65536

void kp_arena_init(kp_arena *a) { memset(a, 0, sizeof(*a)); }

void kp_arena_release(kp_arena *a)
{
	kp_arena_block *b = a->head;
	while (b) {
		kp_arena_block *n = b->next;
		free(b);
		b = n;
	}
	kp_arena_init(a);
}

void kp_arena_adopt(kp_arena *dst, kp_arena *src)
{
	kp_arena_block *b = src->head;
	if (b) {
		kp_arena_block *tail = b;
		while (tail->next)
			tail = tail->next;
		/* behind dst's current block, which stays the one allocated from */
		if (dst->head) {
			tail->next = dst->head->next;
			dst->head->next = b;
		} else {
			dst->head = b;
		}
	}
	dst->used_bytes += src->used_bytes;
	kp_arena_init(src);
}

/* n bytes at an offset aligned to align (a power of two) in the current
 * block, or at the start of a new one. */
static void *arena_take(kp_arena *a, size_t n, size_t align)
{
	kp_arena_block *b = a->head;
	size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
	if (!b || at > b->cap || n > b->cap - at) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b = kp_xmalloc(sizeof(*b) + cap);
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
		a->used_bytes += sizeof(*b) + cap;
		at = 0;
	}
	b->used = at + n;
	return b->mem + at;
}

void *kp_arena_alloc(kp_arena *a, size_t n)
{
	void *p = arena_take(a, n, 16);
	memset(p, 0, n);
	return p;
}

/* Strings byte by byte: no alignment to pay for (at 150,000 pods, a
 * million short strings wasted 7 bytes each at 16-byte alignment). */
char *kp_arena_strndup(kp_arena *a, const char *s, size_t n)
{
	char *p = arena_take(a, n + 1, 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *kp_arena_strdup(kp_arena *a, const char *s)
{
	return s ? kp_arena_strndup(a, s, strlen(s)) : NULL;
}

/* ---- files ---- */

/* What a path that is not a regular file is, in words. */
static const char *file_kind(mode_t m)
{
	return S_ISFIFO(m)   ? "a FIFO"
	       : S_ISDIR(m)  ? "a directory"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISSOCK(m) ? "a socket"
			     : "not a file";
}

kp_status kp_open_input(const char *path, FILE **out, kp_error *err)
{
	*out = NULL;
	/* O_NONBLOCK: opening a FIFO for reading must not wait for a writer;
	 * it is refused below, and cleared again for a regular file. */
	int fd = KP_FAULT_IO(open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
	if (fd < 0)
		return kp_fail(err, KP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return kp_fail(err, KP_ERR_IO, "%s: cannot open: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return kp_fail(err, KP_ERR_INPUT, "%s: not a regular file (%s): only regular files are read", path,
			       file_kind(st.st_mode));
	}
	int fl = fcntl(fd, F_GETFL);
	FILE *f = fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ? NULL : fdopen(fd, "rb");
	if (!f) {
		int e = errno;
		close(fd);
		return kp_fail(err, KP_ERR_IO, "%s: cannot open: %s", path, strerror(e));
	}
	*out = f;
	return KP_OK;
}

void kp_base64_append(kp_buf *out, const void *data, size_t n, size_t wrap)
{
	static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	size_t col = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		char q[4] = {tb[v >> 18 & 63], tb[v >> 12 & 63], i + 1 < n ? tb[v >> 6 & 63] : '=', i + 2 < n ? tb[v & 63] : '='};
		kp_buf_add(out, q, 4);
		if (wrap && (col += 4) >= wrap) {
			kp_buf_putc(out, '\n');
			col = 0;
		}
	}
	if (wrap && col)
		kp_buf_putc(out, '\n');
}

kp_status kp_read_token_file(const char *path, const char *key, char **out, kp_error *err)
{
	char *t = NULL;
	size_t n = 0;
	kp_error e = {0};
	*out = NULL;
	if (kp_read_file(path, &t, &n, &e))
		return kp_fail(err, KP_ERR_USAGE, "%s: %s", key, e.msg);
	while (n && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
		t[--n] = '\0';
	if (!n) {
		free(t);
		return kp_fail(err, KP_ERR_USAGE, "%s: %s is empty", key, path);
	}
	*out = t;
	return KP_OK;
}

kp_status kp_read_file(const char *path, char **out, size_t *len, kp_error *err)
{
	FILE *f;
	kp_status os = kp_open_input(path, &f, err);
	if (os)
		return os;
	kp_buf b;
	kp_buf_init(&b);
	char chunk[65536];
	size_t n;
	int bad = 0;
	for (;;) {
		if (kp_fault_io()) {
			bad = 1; /* as a failing fread: stop, report a read error */
			break;
		}
		if ((n = fread(chunk, 1, sizeof(chunk), f)) == 0)
			break;
		kp_buf_add(&b, chunk, n);
	}
	bad = bad || ferror(f);
	fclose(f);
	if (bad) {
		kp_buf_release(&b);
		return kp_fail(err, KP_ERR_IO, "%s: read error", path);
	}
	if (len)
		*len = b.len;
	*out = kp_buf_detach(&b);
	return KP_OK;
}

char *kp_temp_path_for(const char *path)
{
	/* Same directory as the target so rename() is atomic; pid keeps two
	 * concurrent runs from clobbering each other's temp files. */
	const char *slash = strrchr(path, '/');
	kp_buf b;
	kp_buf_init(&b);
	if (slash)
		kp_buf_add(&b, path, (size_t)(slash - path + 1));
	kp_buf_printf(&b, ".%s.tmp.%ld", slash ? slash + 1 : path, (long)getpid());
	char *tmp = kp_buf_detach(&b);
	temp_register(tmp);
	return tmp;
}

void kp_temp_discard(const char *tmp)
{
	unlink(tmp);
	temp_unregister(tmp);
}

kp_status kp_commit_temp(const char *tmp, const char *path, kp_error *err)
{
	if (KP_FAULT_IO(rename(tmp, path)) != 0) {
		int e = errno;
		kp_temp_discard(tmp);
		return kp_fail(err, KP_ERR_IO, "%s: cannot rename into place: %s", path, strerror(e));
	}
	temp_unregister(tmp);
	return KP_OK;
}

/* A leftover temp file (a crash with the same pid) is removed first; then
 * O_EXCL|O_NOFOLLOW make sure we write a file we just created, never
 * through a symlink someone planted in a shared output directory. */
static int open_temp(const char *tmp)
{
	unlink(tmp);
	return KP_FAULT_IO(open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
}

/* Write-behind: a big file is handed to the disk in windows of WB_WINDOW
 * bytes as they fill, so its pages do not pile up dirty until the kernel
 * throttles every writer, and the final fsync has little left.
 *   drop false (every atomic file: findings.json is 80 MB at 30,000
 *     findings, and read again by render): each window is started without
 *     waiting and stays cached. Advice only: the fsync reports errors.
 *   drop true (a file written once and not read again soon: the run's copy
 *     of a 1 GB snapshot): the window two behind is also waited for and
 *     dropped from the page cache, so the copy reuses the same few MB of
 *     page cache instead of filling fresh memory with a gigabyte of dirty
 *     pages: measured on a 2-CPU VM, writing 845 MB took 3.5 s the plain
 *     way (most of it the kernel touching pages it had not touched before)
 *     and 0.6 s this way. Returns 0, or -1 with errno (a failed writeback:
 *     the write failed). */
enum { WB_WINDOW = 8 << 20 };

static int writebehind_note(int fd, kp_writebehind *wb, size_t n, bool drop)
{
	wb->written += n;
#ifdef SYNC_FILE_RANGE_WRITE
	while (wb->written - wb->started >= WB_WINDOW) {
		if (!drop) {
			(void)sync_file_range(fd, (off_t)wb->started, WB_WINDOW, SYNC_FILE_RANGE_WRITE);
			wb->started += WB_WINDOW;
			continue;
		}
		if (KP_FAULT_IO(sync_file_range(fd, (off_t)wb->started, WB_WINDOW, SYNC_FILE_RANGE_WRITE)) != 0)
			return errno == ENOSYS || errno == EINVAL || errno == ESPIPE ? 0 : -1;
		wb->started += WB_WINDOW;
		if (wb->started >= 3 * (uint64_t)WB_WINDOW) {
			off_t old = (off_t)(wb->started - 3 * (uint64_t)WB_WINDOW);
			if (KP_FAULT_IO(sync_file_range(fd, old, WB_WINDOW,
							SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
							    SYNC_FILE_RANGE_WAIT_AFTER)) != 0)
				return -1;
			(void)posix_fadvise(fd, old, WB_WINDOW, POSIX_FADV_DONTNEED); /* advice only */
		}
	}
#else
	(void)fd, (void)drop;
#endif
	return 0;
}

/* Writes n bytes at data; the first failure sticks (later calls return it). */
static kp_status atomic_put(kp_atomic_file *f, const char *data, size_t n)
{
	size_t off = 0;
	while (!f->status && off < n) {
		ssize_t w = KP_FAULT_IO_WRITE(write(f->fd, data + off, n - off));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			f->status = kp_fail(f->err, KP_ERR_IO, "%s: write failed: %s", f->path, strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	if (writebehind_note(f->fd, &f->wb, off, f->drop) != 0 && !f->status)
		f->status = kp_fail(f->err, KP_ERR_IO, "%s: write failed: %s", f->path, strerror(errno));
	return f->status;
}

static kp_status atomic_flush(kp_atomic_file *f)
{
	atomic_put(f, f->buf.data, f->buf.len);
	kp_buf_reset(&f->buf);
	return f->status;
}

kp_status kp_atomic_open(kp_atomic_file *f, const char *path, kp_error *err)
{
	memset(f, 0, sizeof(*f));
	f->err = err;
	f->path = kp_xstrdup(path);
	f->tmp = kp_temp_path_for(path);
	kp_buf_init(&f->buf);
	f->fd = open_temp(f->tmp);
	if (f->fd < 0) {
		f->status = kp_fail(err, KP_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
		kp_atomic_abort(f);
		return f->status ? f->status : KP_ERR_IO;
	}
	return KP_OK;
}

void kp_atomic_drop_behind(kp_atomic_file *f) { f->drop = true; }

kp_status kp_atomic_write(kp_atomic_file *f, const char *data, size_t n)
{
	if (f->status)
		return f->status;
	/* small pieces gather first; a large one goes straight through */
	if (f->buf.len + n > KP_ATOMIC_BUFFER && atomic_flush(f))
		return f->status;
	if (n >= KP_ATOMIC_BUFFER)
		return atomic_put(f, data, n);
	kp_buf_add(&f->buf, data, n);
	return KP_OK;
}

void kp_atomic_abort(kp_atomic_file *f)
{
	if (f->fd >= 0 && f->tmp) {
		close(f->fd);
		f->fd = -1;
	}
	if (f->tmp)
		kp_temp_discard(f->tmp);
	free(f->tmp);
	free(f->path);
	kp_buf_release(&f->buf);
	f->tmp = f->path = NULL;
}

kp_status kp_atomic_commit(kp_atomic_file *f)
{
	kp_status s = atomic_flush(f);
	if (!s) {
		int synced = KP_FAULT_IO(fsync(f->fd)), sync_errno = errno;
		int closed = kp_fault_close(f->fd), close_errno = errno;
		f->fd = -1;
		if (synced != 0 || closed != 0)
			s = kp_fail(f->err, KP_ERR_IO, "%s: write failed: %s", f->path,
				    strerror(synced != 0 ? sync_errno : close_errno));
		else
			s = kp_commit_temp(f->tmp, f->path, f->err);
		if (!s) { /* committed: nothing to discard */
			free(f->tmp);
			f->tmp = NULL;
		}
	}
	kp_atomic_abort(f);
	return s;
}

kp_status kp_write_file_atomic(const char *path, const char *data, size_t len, kp_error *err)
{
	kp_atomic_file f;
	kp_status s = kp_atomic_open(&f, path, err);
	if (s)
		return s;
	/* the caller's buffer as it is, no copy */
	if (atomic_put(&f, data, len)) {
		s = f.status;
		kp_atomic_abort(&f);
		return s;
	}
	return kp_atomic_commit(&f);
}

kp_status kp_copy_file_atomic(const char *src, const char *dst, kp_error *err)
{
	return kp_copy_file_filtered(src, dst, NULL, NULL, err);
}

/* Length of a UTF-8 byte order mark at the start of s, or 0. */
static size_t bom_len(const char *s, size_t len)
{
	return len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

kp_status kp_copy_file_filtered(const char *src, const char *dst, kp_copy_filter_fn filter, void *ud, kp_error *err)
{
	int in = KP_FAULT_IO(open(src, O_RDONLY | O_CLOEXEC));
	if (in < 0)
		return kp_fail(err, KP_ERR_IO, "%s: cannot open: %s", src, strerror(errno));
	char *tmp = kp_temp_path_for(dst);
	int out = open_temp(tmp);
	kp_status s = KP_OK;
	if (out < 0) {
		s = kp_fail(err, KP_ERR_IO, "%s: cannot write: %s", dst, strerror(errno));
		close(in);
		kp_temp_discard(tmp);
		free(tmp);
		return s;
	}
	enum { CHUNK = 1 << 20 };
	char *buf = kp_xmalloc(CHUNK);
	kp_buf fb; /* what the filter made of the chunk */
	kp_buf_init(&fb);
	bool first = true;
	kp_writebehind wb = {0, 0};
	for (bool eof = false; !eof;) {
		ssize_t r = KP_FAULT_IO(read(in, buf, CHUNK));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			s = kp_fail(err, KP_ERR_IO, "%s: read error: %s", src, strerror(errno));
			break;
		}
		eof = r == 0;
		const char *data = buf;
		if (filter) {
			/* A leading UTF-8 byte order mark (kubectl output saved by
			 * PowerShell) is accepted by the loader; the filter sees JSON. */
			size_t skip = first ? bom_len(buf, (size_t)r) : 0;
			first = false;
			kp_buf_reset(&fb);
			if ((s = filter(ud, eof ? NULL : buf + skip, (size_t)r - skip, &fb, err)) != KP_OK)
				break;
			data = fb.data, r = (ssize_t)fb.len;
		}
		for (ssize_t off = 0; off < r;) {
			ssize_t w = KP_FAULT_IO_WRITE(write(out, data + off, (size_t)(r - off)));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				s = kp_fail(err, KP_ERR_IO, "%s: write failed: %s", dst, strerror(errno));
				break;
			}
			off += w;
		}
		if (!s && writebehind_note(out, &wb, (size_t)r, true) != 0)
			s = kp_fail(err, KP_ERR_IO, "%s: write failed: %s", dst, strerror(errno));
		if (s)
			break;
	}
	free(buf);
	kp_buf_release(&fb);
	close(in);
	if (!s && KP_FAULT_IO(fsync(out)) != 0)
		s = kp_fail(err, KP_ERR_IO, "%s: write failed: %s", dst, strerror(errno));
	if (kp_fault_close(out) != 0 && !s)
		s = kp_fail(err, KP_ERR_IO, "%s: write failed: %s", dst, strerror(errno));
	if (s)
		kp_temp_discard(tmp);
	else
		s = kp_commit_temp(tmp, dst, err);
	free(tmp);
	return s;
}

kp_status kp_mkdir_p(const char *path, kp_error *err)
{
	if (!*path)
		return kp_fail(err, KP_ERR_USAGE, "empty directory name");
	char *p = kp_xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (KP_FAULT_IO(mkdir(p, 0755)) != 0 && errno != EEXIST) {
			kp_status st = kp_fail(err, KP_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
			free(p);
			return st;
		}
		*s = '/';
	}
	if (KP_FAULT_IO(mkdir(p, 0755)) != 0 && errno != EEXIST) {
		kp_status st = kp_fail(err, KP_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
		free(p);
		return st;
	}
	free(p);
	struct stat st;
	if (KP_FAULT_IO(stat(path, &st)) != 0)
		return kp_fail(err, KP_ERR_IO, "%s: cannot create directory: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return kp_fail(err, KP_ERR_IO, "%s: not a directory", path);
	return KP_OK;
}

bool kp_file_exists(const char *path)
{
	struct stat st;
	if (KP_FAULT_IO(stat(path, &st)) == 0)
		return true;
	/* Only a file known to be missing is absent. On any other failure
	 * (EIO, EACCES) the caller goes on to open it and reports the real
	 * error, instead of treating an unreadable input as never collected. */
	return errno != ENOENT && errno != ENOTDIR;
}

char *kp_path_join(const char *a, const char *b)
{
	kp_buf buf;
	kp_buf_init(&buf);
	kp_buf_puts(&buf, a);
	if (buf.len && buf.data[buf.len - 1] != '/')
		kp_buf_putc(&buf, '/');
	kp_buf_puts(&buf, b);
	return kp_buf_detach(&buf);
}

/* ---- JSON ---- */

/* Line and column of byte offset off, for error messages. */
static void line_col(const char *s, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && s[i]; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Whether s holds nothing but JSON whitespace. */
static bool json_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", s[i]))
			return false;
	return true;
}

/* The type of a document's top level, in words, for "found ..." messages. */
static const char *json_top_name(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double:
	case json_type_int: return "a number";
	case json_type_string: return "a string";
	case json_type_array: return "a list";
	case json_type_object: return "an object";
	}
	return "something else";
}

kp_status kp_json_read_file(const char *path, json_object **out, kp_error *err)
{
	char *text;
	size_t len;
	kp_status s = kp_read_file(path, &text, &len, err);
	if (s)
		return s;
	if (strlen(text) != len) {
		free(text);
		return kp_fail(err, KP_ERR_INPUT, "%s: contains a NUL byte: not a JSON text", path);
	}
	/* A UTF-8 byte order mark (kubectl under PowerShell writes one) is
	 * not JSON but says nothing wrong about the content: skip it. Line
	 * and column below count from after it, as an editor shows them. */
	size_t bom = bom_len(text, len);
	if (bom) {
		memmove(text, text + bom, len - bom + 1);
		len -= bom;
	}
	if (json_blank(text, len)) {
		free(text);
		return kp_fail(err, KP_ERR_INPUT, "%s: empty file, expected a JSON object", path);
	}
	json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (!tok) {
		free(text);
		return kp_fail(err, KP_ERR_NOMEM, "%s: out of memory", path);
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	bool flushed = false;
	if (jerr == json_tokener_continue) {
		/* Text ended inside a value: flush with an empty parse to finish
		 * numbers at EOF, otherwise it is truncated. */
		flushed = true;
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		if (jerr == json_tokener_continue)
			jerr = json_tokener_error_parse_eof;
	}
	if (jerr != json_tokener_success) { /* (a success with no object is `null`, refused below) */
		int line, col;
		size_t off = json_tokener_get_parse_end(tok);
		line_col(text, off, &line, &col);
		s = kp_fail(err, KP_ERR_INPUT, "%s:%d:%d: malformed JSON: %s", path, line, col,
			    json_tokener_error_desc(jerr != json_tokener_success ? jerr : json_tokener_error_parse_eof));
		json_object_put(obj);
		json_tokener_free(tok);
		free(text);
		return s;
	}
	size_t end = flushed ? len : json_tokener_get_parse_end(tok); /* a flush consumed all the text */
	while (end < len && (text[end] == ' ' || text[end] == '\n' || text[end] == '\r' || text[end] == '\t'))
		end++;
	json_tokener_free(tok);
	if (end < len) {
		int line, col;
		line_col(text, end, &line, &col);
		json_object_put(obj);
		free(text);
		return kp_fail(err, KP_ERR_INPUT, "%s:%d:%d: malformed JSON: trailing data after the document", path, line, col);
	}
	free(text);
	if (!json_object_is_type(obj, json_type_object)) {
		s = kp_fail(err, KP_ERR_INPUT, "%s: expected a JSON object at the top level, found %s", path,
			    json_top_name(obj));
		json_object_put(obj);
		return s;
	}
	*out = obj;
	return KP_OK;
}

/* ---- streaming one array out of a large document ----
 *
 * A byte scanner tracks strings, escapes and nesting depth; that is all it
 * needs to find where each element of the chosen array starts and ends.
 * Validation is json-c's: every element is parsed strictly on its own, and
 * the skeleton (the document with the array emptied) is parsed at the end,
 * so a malformed file fails exactly as kp_json_read_file would. */

typedef struct {
	const char *path;
	const char *key;
	kp_json_item_fn fn;
	void *ud;
	kp_error *err;
	json_tokener *tok;
	kp_buf skel;      /* everything outside the array's elements */
	kp_buf elem;      /* the element being read */
	size_t index;
	int depth;        /* nesting depth of the byte just scanned */
	bool in_str, esc;
	bool in_array;    /* inside the chosen array */
	bool in_elem;     /* inside one of its elements */
	bool scalar_elem; /* the element is a scalar (ends at , or ]) */
	int arr_state;    /* 0 after "[", 1 after an element, 2 after "," */
	bool want_colon;  /* a depth-1 string just ended: maybe a key */
	bool key_match;   /* the last depth-1 key was `key` */
	bool after_colon; /* waiting for the value of the matching key */
	size_t str_len;   /* length of the depth-1 string being read */
	bool str_matches; /* ... and whether it still equals key */
	size_t line, col; /* position of the next byte, 1-based */
	size_t elem_line, elem_col;
} stream_t;

static kp_status stream_fail_at(stream_t *st, size_t line, size_t col, const char *what)
{
	return kp_fail(st->err, KP_ERR_INPUT, "%s:%zu:%zu: malformed JSON: %s", st->path, line, col, what);
}

static kp_status stream_element(stream_t *st)
{
	json_tokener_reset(st->tok);
	json_object *o = json_tokener_parse_ex(st->tok, st->elem.data, (int)st->elem.len);
	enum json_tokener_error jerr = json_tokener_get_error(st->tok);
	if (jerr == json_tokener_continue) {
		/* a bare number at the end needs a terminator to finish */
		o = json_tokener_parse_ex(st->tok, " ", 1);
		jerr = json_tokener_get_error(st->tok);
	}
	size_t end = json_tokener_get_parse_end(st->tok);
	if (!o || jerr != json_tokener_success) {
		int line, col;
		line_col(st->elem.data, end, &line, &col);
		kp_status s = stream_fail_at(st, st->elem_line + (size_t)line - 1,
					     line == 1 ? st->elem_col + (size_t)col - 1 : (size_t)col,
					     json_tokener_error_desc(jerr != json_tokener_success ? jerr
											    : json_tokener_error_parse_eof));
		json_object_put(o);
		return s;
	}
	while (end < st->elem.len && strchr(" \t\r\n", st->elem.data[end]))
		end++;
	if (end < st->elem.len) {
		int line, col;
		line_col(st->elem.data, end, &line, &col);
		json_object_put(o);
		return stream_fail_at(st, st->elem_line + (size_t)line - 1,
				      line == 1 ? st->elem_col + (size_t)col - 1 : (size_t)col,
				      "unexpected data after a list element");
	}
	kp_status s = st->fn(st->ud, o, st->index++);
	json_object_put(o);
	kp_buf_reset(&st->elem);
	return s;
}

/* Scans one chunk; bytes go to the element or to the skeleton. */
static kp_status stream_scan(stream_t *st, const char *p, size_t n)
{
	size_t seg = 0; /* start of the run of bytes not yet copied */
	kp_buf *dst = st->in_elem ? &st->elem : &st->skel;
	/* Bytes that matter inside a string, and inside an element's nested
	 * values: everything else is skipped in a tight loop, which is most of
	 * a kubectl list (names, labels, images). */
	static bool str_special[256], nest_special[256], init;
	if (!init) {
		str_special['"'] = str_special['\\'] = str_special['\n'] = true;
		for (const char *c = "\"{}[]\n"; *c; c++)
			nest_special[(unsigned char)*c] = true;
		init = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (!st->esc && (st->in_str ? st->depth >= 2 : (st->in_elem && st->depth >= 3))) {
			const bool *special = st->in_str ? str_special : nest_special;
			size_t j = i;
			while (j < n && !special[(unsigned char)p[j]])
				j++;
			st->col += j - i;
			i = j;
			if (i == n)
				break;
		}
		char ch = p[i];
		size_t line = st->line, col = st->col;
		if (ch == '\n') {
			st->line++;
			st->col = 1;
		} else {
			st->col++;
		}
		if (st->in_str) {
			if (st->esc) {
				st->esc = false;
			} else if (ch == '\\') {
				st->esc = true;
			} else if (ch == '"') {
				st->in_str = false;
				if (st->depth == 1 && !st->in_array) {
					st->want_colon = true;
					st->key_match = st->str_matches && st->str_len == strlen(st->key);
				}
			} else if (st->depth == 1 && !st->in_array) {
				st->str_matches = st->str_matches && st->str_len < strlen(st->key) &&
						  st->key[st->str_len] == ch;
				st->str_len++;
			}
			continue;
		}
		if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
			continue;
		/* an element of the chosen array begins */
		if (st->in_array && !st->in_elem && st->depth == 2 && ch != ',' && ch != ']') {
			if (st->arr_state == 1)
				return stream_fail_at(st, line, col, "expected ',' or ']' after a list element");
			kp_buf_add(dst, p + seg, i - seg);
			seg = i;
			st->in_elem = true;
			st->scalar_elem = ch != '{' && ch != '[';
			st->elem_line = line;
			st->elem_col = col;
			dst = &st->elem;
		}
		/* separators between elements stay out of the skeleton, which
		 * keeps an empty array */
		if (st->in_array && !st->in_elem && st->depth == 2 && ch == ',') {
			if (st->arr_state != 1)
				return stream_fail_at(st, line, col, "unexpected ','");
			st->arr_state = 2;
			kp_buf_add(dst, p + seg, i - seg);
			seg = i + 1;
			continue;
		}
		/* a scalar element ends at the , or ] that follows it */
		if (st->in_elem && st->scalar_elem && st->depth == 2 && (ch == ',' || ch == ']')) {
			kp_buf_add(dst, p + seg, i - seg);
			seg = ch == ',' ? i + 1 : i;
			st->in_elem = false;
			st->arr_state = ch == ',' ? 2 : 1;
			dst = &st->skel;
			kp_status s = stream_element(st);
			if (s)
				return s;
			if (ch == ',')
				continue;
		}
		switch (ch) {
		case '"':
			st->in_str = true;
			st->esc = false;
			st->str_len = 0;
			st->str_matches = true;
			break;
		case ':':
			if (st->depth == 1 && !st->in_array && st->want_colon) {
				st->after_colon = st->key_match;
				st->want_colon = false;
				continue;
			}
			break;
		case '{':
		case '[':
			if (ch == '[' && st->depth == 1 && st->after_colon) {
				/* the chosen array: keep "[" in the skeleton, stream its elements */
				st->in_array = true;
				st->arr_state = 0;
				st->depth++;
				st->after_colon = false;
				continue;
			}
			st->depth++;
			break;
		case '}':
		case ']':
			if (st->depth == 0)
				return stream_fail_at(st, line, col, "unexpected closing bracket");
			if (st->in_array && !st->in_elem && st->depth == 2 && st->arr_state == 2)
				return stream_fail_at(st, line, col, "',' before ']'");
			st->depth--;
			if (st->in_elem && !st->scalar_elem && st->depth == 2) {
				kp_buf_add(dst, p + seg, i + 1 - seg);
				seg = i + 1;
				st->in_elem = false;
				st->arr_state = 1;
				dst = &st->skel;
				kp_status s = stream_element(st);
				if (s)
					return s;
				continue;
			}
			if (st->in_array && st->depth == 1)
				st->in_array = false; /* the skeleton keeps "[...]" minus the elements */
			break;
		default:
			break;
		}
		if (st->depth == 1)
			st->want_colon = st->want_colon && ch == ':';
		if (ch != ':' && !(ch == '[' || ch == '{'))
			st->after_colon = false;
		else if (ch == '{')
			st->after_colon = false;
	}
	kp_buf_add(dst, p + seg, n - seg);
	return KP_OK;
}

kp_status kp_json_stream_array(const char *path, const char *key, kp_json_item_fn fn, void *ud,
			       json_object **skeleton, kp_error *err)
{
	return kp_json_stream_array_ex(path, key, "a JSON object", fn, ud, skeleton, err);
}

kp_status kp_json_stream_array_ex(const char *path, const char *key, const char *expected, kp_json_item_fn fn,
				  void *ud, json_object **skeleton, kp_error *err)
{
	*skeleton = NULL;
	FILE *f;
	kp_status os = kp_open_input(path, &f, err);
	if (os)
		return os;
	stream_t st;
	memset(&st, 0, sizeof(st));
	st.path = path;
	st.key = key;
	st.fn = fn;
	st.ud = ud;
	st.err = err;
	st.line = st.col = 1;
	st.tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (!st.tok) {
		fclose(f);
		return kp_fail(err, KP_ERR_NOMEM, "%s: out of memory", path);
	}
	json_tokener_set_flags(st.tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	kp_buf_init(&st.skel);
	kp_buf_init(&st.elem);
	enum { CHUNK = 1 << 20 };
	char *chunk = kp_xmalloc(CHUNK);
	kp_status s = KP_OK;
	size_t n, total = 0;
	bool bad = false;
	while (!s && !(bad = kp_fault_io()) && (n = fread(chunk, 1, CHUNK, f)) > 0) {
		/* a byte order mark (see kp_json_read_file) is skipped; a chunk
		 * is at least 3 bytes unless the file is shorter */
		size_t skip = total == 0 ? bom_len(chunk, n) : 0;
		total += n;
		if (memchr(chunk, '\0', n))
			s = kp_fail(err, KP_ERR_INPUT, "%s: contains a NUL byte: not a JSON text", path);
		else
			s = stream_scan(&st, chunk + skip, n - skip);
	}
	if (!s && (bad || ferror(f)))
		s = kp_fail(err, KP_ERR_IO, "%s: read error", path);
	fclose(f);
	free(chunk);
	if (!s && st.index == 0 && json_blank(kp_buf_cstr(&st.skel), st.skel.len))
		s = kp_fail(err, KP_ERR_INPUT, "%s: empty file, expected %s", path, expected);
	if (!s && (st.in_elem || st.in_str || st.depth != 0))
		s = stream_fail_at(&st, st.line, st.col, "unexpected end of data");
	if (!s) {
		/* The rest of the document, validated by json-c like any file. */
		json_tokener_reset(st.tok);
		json_object *o = json_tokener_parse_ex(st.tok, kp_buf_cstr(&st.skel), (int)st.skel.len);
		enum json_tokener_error jerr = json_tokener_get_error(st.tok);
		size_t end = json_tokener_get_parse_end(st.tok);
		if (jerr == json_tokener_continue) {
			/* a bare number at the end needs a terminator to finish */
			o = json_tokener_parse_ex(st.tok, " ", 1);
			jerr = json_tokener_get_error(st.tok);
			if (jerr == json_tokener_continue)
				jerr = json_tokener_error_parse_eof;
			end = st.skel.len;
		}
		while (end < st.skel.len && strchr(" \t\r\n", st.skel.data[end]))
			end++;
		if (jerr == json_tokener_success && end >= st.skel.len && !json_object_is_type(o, json_type_object)) {
			s = kp_fail(err, KP_ERR_INPUT, "%s: expected %s, found %s at the top level", path, expected,
				    json_top_name(o));
			json_object_put(o);
		} else if (!o || jerr != json_tokener_success || end < st.skel.len) {
			json_object_put(o);
			/* Positions in the skeleton are not the file's: say what, not where. */
			s = kp_fail(err, KP_ERR_INPUT, "%s: malformed JSON: %s", path,
				    jerr != json_tokener_success ? json_tokener_error_desc(jerr)
								 : "trailing data after the document");
		} else {
			/* A key spelled with escapes ("\u0069tems") is not seen by
			 * the byte scanner but is the same key to json-c: hand its
			 * elements over too, so nothing is silently dropped. */
			json_object *arr = NULL;
			if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &arr) &&
			    json_object_is_type(arr, json_type_array)) {
				size_t count = json_object_array_length(arr);
				for (size_t i = 0; i < count && !s; i++)
					s = fn(ud, json_object_array_get_idx(arr, i), st.index++);
				if (count)
					json_object_object_add(o, key, json_object_new_array());
			}
			if (s)
				json_object_put(o);
			else
				*skeleton = o;
		}
	}
	json_tokener_free(st.tok);
	kp_buf_release(&st.skel);
	kp_buf_release(&st.elem);
	return s;
}

kp_status kp_json_write_file(const char *path, json_object *obj, kp_error *err)
{
	size_t len;
	const char *s = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!s) /* json-c allocates with plain malloc */
		return kp_fail(err, KP_ERR_NOMEM, "%s: out of memory serialising JSON", path);
	/* json-c's own buffer has room for one more byte (it NUL-terminates):
	 * the newline goes there instead of into a copy of the whole document
	 * (26 MB for 30,000 findings). The NUL is put back after writing. */
	char *text = (char *)s;
	text[len] = '\n';
	kp_status st = kp_write_file_atomic(path, text, len + 1, err);
	text[len] = '\0';
	return st;
}

/* The member of obj named by the n bytes at key. A small object (most of
 * what the snapshot loader reads: a container, a toleration, a resource
 * map) is searched in order, comparing names, which costs less than hashing
 * the name; a bigger one through its hash table. Same answer either way
 * (an object holds a name once). */
static bool json_member(json_object *obj, const char *key, size_t n, json_object **out)
{
	struct lh_table *t = json_object_get_object(obj);
	if (t && lh_table_length(t) <= 8) {
		for (struct lh_entry *e = lh_table_head(t); e; e = lh_entry_next(e)) {
			const char *k = (const char *)lh_entry_k(e);
			if ((n == 0 || (k[0] == key[0] && strncmp(k, key, n) == 0)) && k[n] == '\0') {
				*out = (json_object *)lh_entry_v(e);
				return true;
			}
		}
		return false;
	}
	char buf[256];
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, key, n);
	buf[n] = '\0';
	return json_object_object_get_ex(obj, buf, out);
}

json_object *kp_json_get(json_object *obj, const char *dotted)
{
	const char *p = dotted;
	while (obj && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= 256)
			return NULL;
		if (!json_object_is_type(obj, json_type_object))
			return NULL;
		json_object *next = NULL;
		if (!json_member(obj, p, n, &next))
			return NULL;
		obj = next;
		p = dot ? dot + 1 : p + n;
	}
	return obj;
}

const char *kp_json_str(json_object *obj, const char *dotted)
{
	json_object *v = kp_json_get(obj, dotted);
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

bool kp_json_is_valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		int n = (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
		if (n < 0 || (n == 1 && *p < 0xC2))
			return false;
		for (int i = 1; i <= n; i++)
			if ((p[i] & 0xC0) != 0x80)
				return false;
		p += n + 1;
	}
	return true;
}

json_object *kp_json_new_number(double v)
{
	char buf[40];
	/* The shortest spelling that reads back as v, but never an exponent
	 * for a number a person would write out: %g switches to one when the
	 * exponent reaches the precision, so the precision starts at the
	 * number of integer digits (730, not 7.3e+02). */
	int first = 1;
	double mag = fabs(v);
	if (isfinite(mag) && mag >= 1 && mag < 1e17)
		first = (int)floor(log10(mag)) + 1;
	/* Fast path, the same result: when some spelling of at most 15
	 * significant digits reads back as v, %.15g (which drops trailing
	 * zeros) prints exactly the shortest one, since v rounded to 15 digits
	 * is that spelling; money (4 decimals) always takes this path. */
	int prec = first;
	if (first <= 15) {
		snprintf(buf, sizeof(buf), "%.15g", v);
		prec = strtod(buf, NULL) == v ? 18 : 16;
	}
	for (; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return json_object_new_double_s(v, buf);
}

bool kp_parse_number(const char *s, double *out)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return false;
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (*end || errno == ERANGE || !isfinite(d))
		return false;
	*out = d;
	return true;
}

static bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool any_alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

/* One DNS label of at most max characters: [a-z0-9]([-a-z0-9]*[a-z0-9])?,
 * the first a letter for DNS-1035. */
static bool dns_label(const char *s, size_t n, size_t max, bool letter_first)
{
	if (n == 0 || n > max || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
		return false;
	if (letter_first && !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool dns_subdomain(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t start = 0; start <= n;) {
		const char *dot = memchr(s + start, '.', n - start);
		size_t end = dot ? (size_t)(dot - s) : n;
		if (!dns_label(s + start, end - start, 253, false))
			return false;
		start = end + 1;
	}
	return true;
}

/* A label value or the name part of a label key: at most 63 characters,
 * [A-Za-z0-9] at both ends, [-A-Za-z0-9_.] between; the value may be empty. */
static bool label_word(const char *s, size_t n, bool empty_ok)
{
	if (n == 0)
		return empty_ok;
	if (n > 63 || !any_alnum(s[0]) || !any_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!any_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

const char *kp_name_problem(const char *s, kp_name_rule rule)
{
	size_t n = s ? strlen(s) : 0;
	if (rule == KP_NAME_LABEL_VALUE)
		return label_word(s, n, true) ? NULL
					      : "is not a valid label value: at most 63 characters of letters, digits, '-', "
						"'_' and '.', starting and ending with a letter or digit";
	if (n == 0)
		return "is empty";
	switch (rule) {
	case KP_NAME_SUBDOMAIN:
		return dns_subdomain(s, n) ? NULL
					   : "is not a valid name: Kubernetes requires a DNS-1123 subdomain (at most 253 "
					     "characters: lowercase letters, digits, '-' and '.', starting and ending with a "
					     "letter or digit)";
	case KP_NAME_LABEL:
		return dns_label(s, n, 63, false) ? NULL
						  : "is not a valid name: Kubernetes requires a DNS-1123 label (at most 63 "
						    "characters: lowercase letters, digits and '-', starting and ending with a "
						    "letter or digit)";
	case KP_NAME_DNS1035:
		return dns_label(s, n, 63, true) ? NULL
						 : "is not a valid name: Kubernetes requires a DNS-1035 label (at most 63 "
						   "characters: lowercase letters, digits and '-', starting with a letter and "
						   "ending with a letter or digit)";
	case KP_NAME_SEGMENT:
		/* custom resources: only a path segment, and nothing a terminal acts on */
		if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strchr(s, '/') || strchr(s, '%'))
			return "is not a valid name: it may not be '.' or '..' or contain '/' or '%'";
		return kp_text_is_plain(s, n, false) ? NULL : "is not a valid name: it contains a control character";
	case KP_NAME_LABEL_VALUE:
		break; /* handled above */
	case KP_NAME_LABEL_KEY: {
		const char *slash = strchr(s, '/');
		if (slash && !dns_subdomain(s, (size_t)(slash - s)))
			return "is not a valid label key: its prefix must be a DNS-1123 subdomain";
		const char *nm = slash ? slash + 1 : s;
		return label_word(nm, strlen(nm), false) ? NULL
							 : "is not a valid label key: the name part must be at most 63 "
							   "characters of letters, digits, '-', '_' and '.', starting and "
							   "ending with a letter or digit";
	}
	}
	return "is not a valid name";
}

bool kp_namespace_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && !(c == '-' && i > 0 && i + 1 < n))
			return false;
	}
	return true;
}

/* ---- time ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's algorithm: no timegm() dependence on TZ. */
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

double kp_monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool kp_time_parse(const char *s, int64_t *out)
{
	if (!s)
		return false;
	/* Fixed layout YYYY-MM-DDTHH:MM:SS checked digit by digit: sscanf
	 * would accept spaces and signs inside the fields. */
	static const char layout[] = "dddd-dd-ddTdd:dd:dd";
	for (int i = 0; i < 19; i++) {
		char c = s[i];
		if (layout[i] == 'd' ? !(c >= '0' && c <= '9') : c != layout[i])
			return false;
	}
#define DIGITS2(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
	int y = DIGITS2(0) * 100 + DIGITS2(2), mo = DIGITS2(5), d = DIGITS2(8), h = DIGITS2(11), mi = DIGITS2(14),
	    sec = DIGITS2(17);
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 ||
	    sec > 60)
		return false;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	int64_t offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		const char *o = p + 1;
		if (!(o[0] >= '0' && o[0] <= '9' && o[1] >= '0' && o[1] <= '9' && o[2] == ':' && o[3] >= '0' &&
		      o[3] <= '9' && o[4] >= '0' && o[4] <= '9'))
			return false;
		int oh = (o[0] - '0') * 10 + (o[1] - '0'), om = (o[3] - '0') * 10 + (o[4] - '0');
		if (oh > 23 || om > 59)
			return false;
		offset = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - offset;
	return true;
#undef DIGITS2
}

void kp_time_format(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

uint64_t kp_fnv1a64(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

void kp_remove_tree(const char *path)
{
	if (path)
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Prometheus' duration syntax, as --window and the prometheus.* keys take
 * it: one or more <integer><unit> with units w, d, h, m, s (so "14d",
 * "1h30m", "90s"); a bare integer is seconds. */
bool kp_parse_duration(const char *s, int64_t *seconds)
{
	if (!s || !*s)
		return false;
	int64_t total = 0;
	const char *p = s;
	while (*p) {
		if (*p < '0' || *p > '9')
			return false;
		int64_t n = 0;
		while (*p >= '0' && *p <= '9') {
			if (n > (INT64_MAX - 9) / 10)
				return false;
			n = n * 10 + (*p++ - '0');
		}
		int64_t unit = 1;
		switch (*p) {
		case 'w': unit = 7 * 86400; p++; break;
		case 'd': unit = 86400; p++; break;
		case 'h': unit = 3600; p++; break;
		case 'm': unit = 60; p++; break;
		case 's': p++; break;
		case '\0': if (p == s) return false; break;
		default: return false;
		}
		if (n > (INT64_MAX / unit) - total / unit - 1)
			return false;
		total += n * unit;
	}
	*seconds = total;
	return true;
}

void kp_url_escape_append(kp_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
		if ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-' ||
		    *q == '.' || *q == '_' || *q == '~') {
			kp_buf_putc(b, (char)*q);
		} else {
			kp_buf_putc(b, '%');
			kp_buf_putc(b, hex[*q >> 4]);
			kp_buf_putc(b, hex[*q & 15]);
		}
	}
}
