/*
 * csvread.c - see csvread.h. Owns the byte-level state machine; reads the
 * FILE in fixed chunks, so memory is one chunk plus the current record.
 */
#include "pipeline/csvread.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK 65536

struct kp_csv {
	FILE *f;
	const char *path;
	char *chunk;
	size_t pos, len;
	bool eof, started;
	size_t line;       /* the line the reader is on */
	size_t rec_line;   /* the line the current record started on */
	kp_buf rec;        /* the record's fields, each NUL-terminated */
	size_t *offs;      /* start of each field in rec */
	size_t nfields, cap;
};

kp_csv *kp_csv_new(FILE *f, const char *path)
{
	kp_csv *c = kp_xcalloc(1, sizeof(*c));
	c->f = f;
	c->path = path;
	c->chunk = kp_xmalloc(CHUNK);
	c->line = 1;
	kp_buf_init(&c->rec);
	return c;
}

void kp_csv_free(kp_csv *c)
{
	if (!c)
		return;
	free(c->chunk);
	free(c->offs);
	kp_buf_release(&c->rec);
	free(c);
}

/* The next byte, or -1 at the end of the file (-2: a read error). */
static int get(kp_csv *c)
{
	if (c->pos == c->len) {
		if (c->eof)
			return -1;
		c->len = fread(c->chunk, 1, CHUNK, c->f);
		c->pos = 0;
		if (c->len < CHUNK) {
			c->eof = true;
			if (ferror(c->f))
				return -2;
		}
		if (c->len == 0)
			return -1;
	}
	return (unsigned char)c->chunk[c->pos++];
}

static int peek(kp_csv *c)
{
	int ch = get(c);
	if (ch >= 0)
		c->pos--; /* get() left it in the chunk */
	return ch;
}

static void end_field(kp_csv *c)
{
	kp_buf_add(&c->rec, "", 1); /* the NUL after the field */
}

static kp_status start_field(kp_csv *c, kp_error *err)
{
	if (c->nfields == KP_CSV_MAX_FIELDS)
		return kp_fail(err, KP_ERR_USAGE, "%s:%zu: more than %u fields in one record: not a CSV file?", c->path,
			       c->rec_line, (unsigned)KP_CSV_MAX_FIELDS);
	if (c->nfields == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->offs = kp_xrealloc(c->offs, c->cap * sizeof(*c->offs));
	}
	c->offs[c->nfields++] = c->rec.len;
	return KP_OK;
}

static kp_status add_byte(kp_csv *c, int ch, kp_error *err)
{
	if (ch == 0)
		return kp_fail(err, KP_ERR_USAGE, "%s:%zu: field %zu holds a NUL byte: not a text CSV file", c->path,
			       c->line, c->nfields);
	if (c->rec.len - c->offs[c->nfields - 1] >= KP_CSV_MAX_FIELD)
		return kp_fail(err, KP_ERR_USAGE, "%s:%zu: field %zu is longer than %u bytes", c->path, c->rec_line,
			       c->nfields, (unsigned)KP_CSV_MAX_FIELD);
	char b = (char)ch;
	kp_buf_add(&c->rec, &b, 1);
	return KP_OK;
}

int kp_csv_next(kp_csv *c, kp_error *err)
{
	kp_buf_reset(&c->rec);
	c->nfields = 0;
	int ch = get(c);
	if (!c->started) {
		c->started = true;
		/* a UTF-8 byte order mark (Excel and PowerShell write one) */
		if (ch == 0xEF && peek(c) == 0xBB) {
			get(c);
			if (get(c) != 0xBF) {
				kp_fail(err, KP_ERR_USAGE, "%s:1: starts with a broken UTF-8 byte order mark", c->path);
				return -1;
			}
			ch = get(c);
		}
	}
	if (ch == -1)
		return 0;
	c->rec_line = c->line;
	if (start_field(c, err))
		return -1;
	for (;;) {
		if (ch == -2) {
			kp_fail(err, KP_ERR_IO, "%s:%zu: read error", c->path, c->line);
			return -1;
		}
		if (ch == -1 || ch == '\n') {
			if (ch == '\n')
				c->line++;
			end_field(c);
			return 1;
		}
		if (ch == '\r') {
			if (peek(c) == '\n') {
				ch = get(c);
				continue; /* CRLF: the LF ends the record */
			}
			/* a bare CR inside an unquoted field is kept as data */
		}
		if (ch == ',') {
			end_field(c);
			if (start_field(c, err))
				return -1;
			ch = get(c);
			continue;
		}
		if (ch == '"' && c->rec.len == c->offs[c->nfields - 1]) {
			/* a quoted field: up to the closing quote, "" is one quote */
			size_t open_line = c->line;
			for (;;) {
				ch = get(c);
				if (ch < 0) {
					if (ch == -2)
						kp_fail(err, KP_ERR_IO, "%s:%zu: read error", c->path, c->line);
					else
						kp_fail(err, KP_ERR_USAGE,
							"%s:%zu: field %zu: unterminated quoted field (the quote opened on line %zu "
							"is never closed)",
							c->path, c->rec_line, c->nfields, open_line);
					return -1;
				}
				if (ch == '"') {
					if (peek(c) == '"') {
						get(c);
					} else {
						break;
					}
				} else if (ch == '\n') {
					c->line++;
				}
				if (add_byte(c, ch, err))
					return -1;
			}
			ch = get(c);
			if (ch == '\r' && peek(c) == '\n')
				ch = get(c);
			if (ch != ',' && ch != '\n' && ch != -1 && ch != -2) {
				kp_fail(err, KP_ERR_USAGE, "%s:%zu: field %zu: text after the closing quote of a quoted field",
					c->path, c->line, c->nfields);
				return -1;
			}
			continue;
		}
		if (add_byte(c, ch, err))
			return -1;
		ch = get(c);
	}
}

size_t kp_csv_nfields(const kp_csv *c) { return c->nfields; }

const char *kp_csv_field(const kp_csv *c, size_t i)
{
	return i < c->nfields ? c->rec.data + c->offs[i] : "";
}

size_t kp_csv_line(const kp_csv *c) { return c->rec_line; }
