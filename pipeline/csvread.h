/*
 * csvread.h - a streaming RFC 4180 CSV reader: one record at a time from a
 * FILE, in memory bounded by the longest record (never the file), for
 * billing exports of hundreds of MB (pipeline/focus.c).
 *
 * Accepted: quoted fields with embedded commas, doubled quotes and line
 * breaks; CRLF or LF line ends (a final line without one too); a UTF-8
 * byte order mark before the header. Refused, as KP_ERR_USAGE naming the
 * file and the line: an unterminated quote, text after a closing quote, a
 * NUL byte, a field over KP_CSV_MAX_FIELD bytes or a record of more than
 * KP_CSV_MAX_FIELDS fields (a binary file read by mistake, not a CSV).
 *
 * Ownership: the reader owns its fields; they stay valid until the next
 * kp_csv_next or kp_csv_free. The caller owns (and closes) the FILE.
 */
#ifndef KP_CSVREAD_H
#define KP_CSVREAD_H

#include <stdio.h>

#include "pipeline/kp.h"

#define KP_CSV_MAX_FIELD (1u << 20)
#define KP_CSV_MAX_FIELDS 4096

typedef struct kp_csv kp_csv;

/* path names the file in error messages. */
kp_csv *kp_csv_new(FILE *f, const char *path);
void kp_csv_free(kp_csv *c);

/* Reads the next record: 1 one was read, 0 end of file, -1 an error (err
 * says what, with the file and line). A blank line is a record of one
 * empty field, as RFC 4180 has it; callers skip those. */
int kp_csv_next(kp_csv *c, kp_error *err);
size_t kp_csv_nfields(const kp_csv *c);
/* Field i of the record (NUL-terminated; "" past the last field). */
const char *kp_csv_field(const kp_csv *c, size_t i);
/* The line (1-based) the current record starts on. */
size_t kp_csv_line(const kp_csv *c);

#endif
