/*
 * jscan.c - see jscan.h. A byte-at-a-time state machine; the loops that see
 * most bytes (white space, the inside of strings, digits) are tight inner
 * loops, and a token's text is only copied when it is wanted.
 */
#include "pipeline/jscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { T_NONE, T_STRING, T_NUMBER, T_LITERAL };
/* What may come next, between tokens. */
enum { W_VALUE, W_VALUE_OR_END, W_KEY_OR_END, W_KEY, W_COLON, W_COMMA_OR_END, W_DONE };
enum { S_PLAIN, S_ESC, S_HEX };
enum { N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EDIG };

struct kp_jscan {
	kp_jscan_fn fn;
	void *ud;
	char *name;
	int max_depth;
	size_t max_text;
	bool want_text;

	unsigned char *stack; /* '{' or '[' per open container */
	int depth;
	unsigned char want, tok, sub;
	bool is_key, keep_text, truncated, failed;
	bool nul; /* the text being collected holds a NUL (from \u0000) */
	bool fresh; /* a number's text is still all in the current chunk, not yet copied */
	int quiet;  /* > 0: the tokens inside the container opened at this depth are not handed over */
	bool at_begin; /* the token being handed over is a container's BEGIN (kp_jscan_quiet) */
	kp_error error; /* the first error, returned again by later calls */

	uint64_t off;  /* bytes fed before the current chunk, then after it */
	uint64_t base; /* offset of chunk[0] */
	const unsigned char *chunk;
	uint64_t tok_start, line, line_start;
	kp_buf text;

	uint32_t cp, hi; /* \uXXXX being read; a high surrogate waiting for its pair */
	int hexleft;
	int u8left; /* UTF-8 continuation bytes still due, the next within [u8lo, u8hi] */
	unsigned char u8lo, u8hi;
	const char *lit;
	unsigned char lit_pos;
	kp_jscan_type lit_type;
};

/* Bytes inside a string: 0 plain, 1 '"', 2 '\\', 3 control, 4 not ASCII.
 * A constant table: scanners run on several threads at once (the snapshot
 * loader), so nothing here is initialised lazily. */
static const unsigned char str_class[256] = {
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};

#define OFF(s, p) ((s)->base + (uint64_t)((p) - (s)->chunk))

static void byte_desc(unsigned char c, char out[8])
{
	if (c > 0x20 && c < 0x7f && c != '\'')
		snprintf(out, 8, "'%c'", c);
	else
		snprintf(out, 8, "0x%02X", c);
}

static kp_status js_fail(kp_jscan *s, uint64_t at, kp_error *err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static kp_status js_fail(kp_jscan *s, uint64_t at, kp_error *err, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	kp_fail(&s->error, KP_ERR_INPUT, "%s:%llu:%llu: %s", s->name, (unsigned long long)s->line,
		(unsigned long long)(at - s->line_start + 1), what);
	s->failed = true;
	if (err)
		*err = s->error;
	return KP_ERR_INPUT;
}

static inline kp_status emit_text(kp_jscan *s, kp_jscan_type type, uint64_t start, uint64_t end, int depth,
				  const unsigned char *text, size_t len, bool truncated, bool nul, kp_error *err)
{
	if (s->quiet) {
		if (depth != s->quiet || (type != KP_JS_OBJECT_END && type != KP_JS_ARRAY_END))
			return KP_OK;
		s->quiet = 0; /* the quiet container's own END is handed over */
	}
	if (!s->fn)
		return KP_OK;
	s->at_begin = type == KP_JS_OBJECT_BEGIN || type == KP_JS_ARRAY_BEGIN;
	kp_jscan_token t = {.type = type, .start = start, .end = end, .depth = depth, .text = (const char *)text,
			    .len = len, .truncated = truncated, .nul = nul};
	kp_status st = s->fn(s->ud, &t, err);
	if (st) {
		s->failed = true;
		if (err)
			s->error = *err;
		else
			kp_fail(&s->error, st, "%s: scan stopped", s->name);
	}
	return st;
}

static inline kp_status emit(kp_jscan *s, kp_jscan_type type, uint64_t start, uint64_t end, int depth,
			     const unsigned char *text, size_t len, bool truncated, kp_error *err)
{
	return emit_text(s, type, start, end, depth, text, len, truncated, false, err);
}

/* The token's text as collected in s->text, or NULL when not kept. */
static kp_status emit_collected(kp_jscan *s, kp_jscan_type type, uint64_t end, kp_error *err)
{
	const unsigned char *text = s->keep_text ? (const unsigned char *)kp_buf_cstr(&s->text) : NULL;
	return emit_text(s, type, s->tok_start, end, s->depth, text, s->keep_text ? s->text.len : 0, s->truncated,
			 s->keep_text && s->nul, err);
}

/* Skips bytes that need no attention inside a string: sixteen at a time
 * with SSE2 (a signed compare below 0x20 flags control characters and
 * non-ASCII bytes at once), else eight at a time while none of them is '"',
 * '\\', a control character or non-ASCII (the test can flag a plain byte
 * after a special one; the byte loop settles it). */
static inline const unsigned char *skip_plain(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
					       _mm_cmplt_epi8(v, space));
		int m = _mm_movemask_epi8(special);
		if (m)
			return p + __builtin_ctz((unsigned)m);
		p += 16;
	}
#else
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	while (end - p >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
		if (((v - ones * 0x20) | (q - ones) | (b - ones) | v) & high)
			break;
		p += 8;
	}
#endif
	while (p < end && !str_class[*p])
		p++;
	return p;
}

static void text_add(kp_jscan *s, const unsigned char *p, size_t n)
{
	size_t room = s->max_text - s->text.len;
	if (n > room) {
		n = room;
		s->truncated = true;
	}
	if (n)
		kp_buf_add(&s->text, (const char *)p, n);
}

static void text_cp(kp_jscan *s, uint32_t cp)
{
	unsigned char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xF0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	if (s->truncated || n > s->max_text - s->text.len)
		s->truncated = true; /* whole characters only */
	else
		kp_buf_add(&s->text, (const char *)u, n);
}

/* A high surrogate not followed by its low half stands for U+FFFD. */
static void flush_hi(kp_jscan *s)
{
	if (s->hi) {
		text_cp(s, 0xFFFD);
		s->hi = 0;
	}
}

static void text_escape(kp_jscan *s, uint32_t cp)
{
	if (!s->keep_text)
		return;
	if (cp == 0)
		s->nul = true;
	if (s->hi && cp >= 0xDC00 && cp <= 0xDFFF) {
		text_cp(s, 0x10000 + ((s->hi - 0xD800) << 10) + (cp - 0xDC00));
		s->hi = 0;
		return;
	}
	flush_hi(s);
	if (cp >= 0xD800 && cp <= 0xDBFF)
		s->hi = cp;
	else
		text_cp(s, cp >= 0xDC00 && cp <= 0xDFFF ? 0xFFFD : cp);
}

static void value_done(kp_jscan *s) { s->want = s->depth ? W_COMMA_OR_END : W_DONE; }

static void start_token(kp_jscan *s, int tok, const unsigned char *p, bool keep_text)
{
	s->tok = (unsigned char)tok;
	s->tok_start = OFF(s, p);
	s->keep_text = keep_text;
	s->truncated = false;
	s->nul = false;
	kp_buf_reset(&s->text);
}

static const char *expectation(const kp_jscan *s)
{
	switch (s->want) {
	case W_VALUE: return "a value";
	case W_VALUE_OR_END: return "a value or ']'";
	case W_KEY_OR_END: return "a member name or '}'";
	case W_KEY: return "a member name";
	case W_COLON: return "':'";
	case W_COMMA_OR_END: return s->stack[s->depth - 1] == '{' ? "',' or '}'" : "',' or ']'";
	default: return "the end of the data";
	}
}

/* White space and punctuation up to the start of the next token. */
static kp_status scan_between(kp_jscan *s, const unsigned char **pp, const unsigned char *end, kp_error *err)
{
	const unsigned char *p = *pp;
	kp_status st = KP_OK;
	while (p < end && !st) {
		unsigned char c = *p;
		if (c == ' ' || c == '\t' || c == '\r') {
			p++;
			continue;
		}
		if (c == '\n') {
			s->line++;
			s->line_start = OFF(s, p) + 1;
			p++;
			continue;
		}
		bool value_ok = s->want == W_VALUE || s->want == W_VALUE_OR_END;
		switch (c) {
		case '{':
		case '[':
			if (!value_ok)
				goto unexpected;
			if (s->depth >= s->max_depth)
				return js_fail(s, OFF(s, p), err, "nested deeper than %d levels", s->max_depth);
			s->stack[s->depth++] = c;
			s->want = c == '{' ? W_KEY_OR_END : W_VALUE_OR_END;
			st = emit(s, c == '{' ? KP_JS_OBJECT_BEGIN : KP_JS_ARRAY_BEGIN, OFF(s, p), OFF(s, p) + 1, s->depth,
				  NULL, 0, false, err);
			p++;
			continue;
		case '}':
		case ']': {
			unsigned char open = c == '}' ? '{' : '[';
			if (!s->depth || s->stack[s->depth - 1] != open ||
			    !(s->want == W_COMMA_OR_END || s->want == (c == '}' ? W_KEY_OR_END : W_VALUE_OR_END)))
				goto unexpected;
			st = emit(s, c == '}' ? KP_JS_OBJECT_END : KP_JS_ARRAY_END, OFF(s, p), OFF(s, p) + 1, s->depth,
				  NULL, 0, false, err);
			s->depth--;
			value_done(s);
			p++;
			continue;
		}
		case ',':
			if (s->want != W_COMMA_OR_END)
				goto unexpected;
			s->want = s->stack[s->depth - 1] == '{' ? W_KEY : W_VALUE;
			p++;
			continue;
		case ':':
			if (s->want != W_COLON)
				goto unexpected;
			s->want = W_VALUE;
			p++;
			continue;
		case '"': {
			if (value_ok)
				s->is_key = false;
			else if (s->want == W_KEY || s->want == W_KEY_OR_END)
				s->is_key = true;
			else
				goto unexpected;
			/* the common case: the whole string is in this chunk, plain
			 * ASCII: its text is handed over where it lies */
			const unsigned char *q = skip_plain(p + 1, end);
			if (q < end && *q == '"') {
				bool key = s->is_key, with = key || s->want_text;
				size_t len = (size_t)(q - p - 1);
				s->want = key ? W_COLON : (s->depth ? W_COMMA_OR_END : W_DONE);
				st = emit(s, key ? KP_JS_KEY : KP_JS_STRING, OFF(s, p), OFF(s, q) + 1, s->depth, with ? p + 1 : NULL,
					  !with ? 0 : len > s->max_text ? s->max_text : len, with && len > s->max_text, err);
				p = q + 1;
				continue;
			}
			start_token(s, T_STRING, p, !s->quiet && (s->is_key || s->want_text));
			s->sub = S_PLAIN;
			s->hi = 0;
			s->u8left = 0;
			*pp = p + 1;
			return KP_OK;
		}
		case '-':
		case '0':
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
		case '7':
		case '8':
		case '9':
			if (!value_ok)
				goto unexpected;
			start_token(s, T_NUMBER, p, s->want_text && !s->quiet);
			s->sub = c == '-' ? N_MINUS : c == '0' ? N_ZERO : N_INT;
			s->fresh = true; /* its text is copied only if the chunk ends first */
			if (p + 1 == end && s->keep_text) {
				text_add(s, p, 1);
				s->fresh = false;
			}
			*pp = p + 1;
			return KP_OK;
		case 't':
		case 'f':
		case 'n':
			if (!value_ok)
				goto unexpected;
			start_token(s, T_LITERAL, p, false);
			s->lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
			s->lit_type = c == 't' ? KP_JS_TRUE : c == 'f' ? KP_JS_FALSE : KP_JS_NULL;
			s->lit_pos = 1;
			*pp = p + 1;
			return KP_OK;
		default:
			goto unexpected;
		}
	unexpected: {
		char d[8];
		byte_desc(c, d);
		return js_fail(s, OFF(s, p), err, "unexpected %s, expected %s", d, expectation(s));
	}
	}
	*pp = p;
	return st;
}

static kp_status string_end(kp_jscan *s, const unsigned char *p, kp_error *err)
{
	if (s->keep_text)
		flush_hi(s);
	s->tok = T_NONE;
	bool key = s->is_key;
	s->want = key ? W_COLON : (s->depth ? W_COMMA_OR_END : W_DONE);
	return emit_collected(s, key ? KP_JS_KEY : KP_JS_STRING, OFF(s, p) + 1, err);
}

static int hexval(unsigned char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static kp_status scan_string(kp_jscan *s, const unsigned char **pp, const unsigned char *end, kp_error *err)
{
	const unsigned char *p = *pp;
	while (p < end) {
		unsigned char c = *p;
		if (s->u8left) {
			if (c < s->u8lo || c > s->u8hi)
				return js_fail(s, OFF(s, p), err, "invalid UTF-8 in a string (byte 0x%02X)", c);
			s->u8lo = 0x80, s->u8hi = 0xBF;
			s->u8left--;
			if (s->keep_text)
				text_add(s, p, 1);
			p++;
			continue;
		}
		if (s->sub == S_ESC) {
			uint32_t e;
			switch (c) {
			case '"':
			case '\\':
			case '/': e = c; break;
			case 'b': e = '\b'; break;
			case 'f': e = '\f'; break;
			case 'n': e = '\n'; break;
			case 'r': e = '\r'; break;
			case 't': e = '\t'; break;
			case 'u':
				s->sub = S_HEX;
				s->hexleft = 4;
				s->cp = 0;
				p++;
				continue;
			default: {
				char d[8];
				byte_desc(c, d);
				return js_fail(s, OFF(s, p), err, "invalid escape: backslash followed by %s", d);
			}
			}
			text_escape(s, e);
			s->sub = S_PLAIN;
			p++;
			continue;
		}
		if (s->sub == S_HEX) {
			int v = hexval(c);
			if (v < 0) {
				char d[8];
				byte_desc(c, d);
				return js_fail(s, OFF(s, p), err, "invalid \\u escape: %s is not a hex digit", d);
			}
			s->cp = s->cp << 4 | (uint32_t)v;
			if (--s->hexleft == 0) {
				s->sub = S_PLAIN;
				text_escape(s, s->cp);
			}
			p++;
			continue;
		}
		/* the common case: a run of plain ASCII */
		const unsigned char *q = skip_plain(p, end);
		if (q > p && s->keep_text) {
			flush_hi(s);
			text_add(s, p, (size_t)(q - p));
		}
		p = q;
		if (p == end)
			break;
		c = *p;
		switch (str_class[c]) {
		case 1: {
			kp_status st = string_end(s, p, err);
			*pp = p + 1;
			return st;
		}
		case 2:
			s->sub = S_ESC;
			p++;
			continue;
		case 3:
			return js_fail(s, OFF(s, p), err, "control character 0x%02X in a string (must be escaped)", c);
		default:
			/* a UTF-8 lead byte (Unicode 15, table 3-7) */
			if (c >= 0xC2 && c <= 0xDF)
				s->u8left = 1, s->u8lo = 0x80, s->u8hi = 0xBF;
			else if (c >= 0xE0 && c <= 0xEF)
				s->u8left = 2, s->u8lo = c == 0xE0 ? 0xA0 : 0x80, s->u8hi = c == 0xED ? 0x9F : 0xBF;
			else if (c >= 0xF0 && c <= 0xF4)
				s->u8left = 3, s->u8lo = c == 0xF0 ? 0x90 : 0x80, s->u8hi = c == 0xF4 ? 0x8F : 0xBF;
			else
				return js_fail(s, OFF(s, p), err, "invalid UTF-8 in a string (byte 0x%02X)", c);
			if (s->keep_text) {
				flush_hi(s);
				text_add(s, p, 1);
			}
			p++;
			continue;
		}
	}
	*pp = p;
	return KP_OK;
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static kp_status number_end(kp_jscan *s, uint64_t end, kp_error *err)
{
	s->tok = T_NONE;
	value_done(s);
	return emit_collected(s, KP_JS_NUMBER, end, err);
}

static kp_status scan_number(kp_jscan *s, const unsigned char **pp, const unsigned char *end, kp_error *err)
{
	const unsigned char *p = *pp, *q = p;
	const char *need = NULL;
	for (; q < end; q++) {
		unsigned char c = *q;
		switch (s->sub) {
		case N_MINUS:
			if (!is_digit(c))
				need = "a digit after '-'";
			s->sub = c == '0' ? N_ZERO : N_INT;
			break;
		case N_INT:
			while (q < end && is_digit(*q))
				q++;
			if (q == end)
				goto more;
			c = *q;
			/* after the integer part, as after a 0 */
			/* fall through */
		case N_ZERO:
			if (is_digit(c))
				return js_fail(s, OFF(s, q), err, "malformed number: a leading zero");
			if (c == '.')
				s->sub = N_DOT;
			else if (c == 'e' || c == 'E')
				s->sub = N_E;
			else
				goto done;
			break;
		case N_DOT:
			if (!is_digit(c))
				need = "a digit after '.'";
			s->sub = N_FRAC;
			break;
		case N_FRAC:
			if (is_digit(c))
				break;
			if (c == 'e' || c == 'E')
				s->sub = N_E;
			else
				goto done;
			break;
		case N_E:
			if (c == '+' || c == '-')
				s->sub = N_ESIGN;
			else if (is_digit(c))
				s->sub = N_EDIG;
			else
				need = "a digit in the exponent";
			break;
		case N_ESIGN:
			if (!is_digit(c))
				need = "a digit in the exponent";
			s->sub = N_EDIG;
			break;
		default: /* N_EDIG */
			if (!is_digit(c))
				goto done;
			break;
		}
		if (need) {
			char d[8];
			byte_desc(c, d);
			return js_fail(s, OFF(s, q), err, "malformed number: %s where %s is needed", d, need);
		}
	}
more:
	if (s->keep_text) {
		if (s->fresh && s->tok_start >= s->base)
			p = s->chunk + (s->tok_start - s->base);
		text_add(s, p, (size_t)(q - p));
	}
	s->fresh = false;
	*pp = q;
	return KP_OK;
done:
	*pp = q;
	if (s->keep_text && s->fresh && s->tok_start >= s->base) {
		/* the whole number lies in this chunk: hand it over where it is */
		const unsigned char *t = s->chunk + (s->tok_start - s->base);
		size_t len = (size_t)(q - t);
		s->tok = T_NONE;
		value_done(s);
		return emit(s, KP_JS_NUMBER, s->tok_start, OFF(s, q), s->depth, t, len > s->max_text ? s->max_text : len,
			    len > s->max_text, err);
	}
	if (s->keep_text)
		text_add(s, p, (size_t)(q - p));
	return number_end(s, OFF(s, q), err);
}

static kp_status scan_literal(kp_jscan *s, const unsigned char **pp, const unsigned char *end, kp_error *err)
{
	const unsigned char *p = *pp;
	while (p < end && s->lit[s->lit_pos]) {
		if (*p != (unsigned char)s->lit[s->lit_pos]) {
			char d[8];
			byte_desc(*p, d);
			return js_fail(s, OFF(s, p), err, "unexpected %s in the literal %s", d, s->lit);
		}
		s->lit_pos++;
		p++;
	}
	*pp = p;
	if (s->lit[s->lit_pos])
		return KP_OK;
	s->tok = T_NONE;
	value_done(s);
	return emit(s, s->lit_type, s->tok_start, OFF(s, p), s->depth, NULL, 0, false, err);
}

kp_jscan *kp_jscan_new(const char *name, const kp_jscan_opts *opts, kp_jscan_fn fn, void *ud)
{
	kp_jscan *s = kp_xcalloc(1, sizeof(*s));
	s->fn = fn;
	s->ud = ud;
	s->name = kp_xstrdup(name ? name : "JSON");
	s->max_depth = opts && opts->max_depth > 0 ? opts->max_depth : KP_JSCAN_DEFAULT_DEPTH;
	if (s->max_depth > KP_JSCAN_MAX_DEPTH)
		s->max_depth = KP_JSCAN_MAX_DEPTH;
	s->max_text = opts && opts->max_text ? opts->max_text : KP_JSCAN_DEFAULT_TEXT;
	s->want_text = opts && opts->text;
	s->stack = kp_xmalloc((size_t)s->max_depth);
	s->want = W_VALUE;
	s->line = 1;
	kp_buf_init(&s->text);
	return s;
}

void kp_jscan_free(kp_jscan *s)
{
	if (!s)
		return;
	kp_buf_release(&s->text);
	free(s->stack);
	free(s->name);
	free(s);
}

static kp_status replay(const kp_jscan *s, kp_error *err)
{
	if (err)
		*err = s->error;
	return s->error.status ? s->error.status : KP_ERR_INPUT;
}

kp_status kp_jscan_feed(kp_jscan *s, const char *data, size_t n, kp_error *err)
{
	if (s->failed)
		return replay(s, err);
	if (!n)
		return KP_OK;
	const unsigned char *p = (const unsigned char *)data, *end = p + n;
	s->chunk = p;
	s->base = s->off;
	kp_status st = KP_OK;
	while (p < end && !st) {
		switch (s->tok) {
		case T_NONE: st = scan_between(s, &p, end, err); break;
		case T_STRING: st = scan_string(s, &p, end, err); break;
		case T_NUMBER: st = scan_number(s, &p, end, err); break;
		default: st = scan_literal(s, &p, end, err); break;
		}
	}
	s->off = s->base + n;
	return st;
}

kp_status kp_jscan_finish(kp_jscan *s, kp_error *err)
{
	if (s->failed)
		return replay(s, err);
	if (s->tok == T_NUMBER) {
		if (s->sub != N_ZERO && s->sub != N_INT && s->sub != N_FRAC && s->sub != N_EDIG)
			return js_fail(s, s->off, err, "unexpected end of data in a number");
		kp_status st = number_end(s, s->off, err);
		if (st)
			return st;
	}
	if (s->tok == T_STRING)
		return js_fail(s, s->off, err, "unexpected end of data in a string");
	if (s->tok == T_LITERAL)
		return js_fail(s, s->off, err, "unexpected end of data in the literal %s", s->lit);
	if (s->want != W_DONE)
		return js_fail(s, s->off, err, "unexpected end of data, expected %s", expectation(s));
	return KP_OK;
}

uint64_t kp_jscan_pending_start(const kp_jscan *s) { return s->tok != T_NONE ? s->tok_start : s->off; }

uint64_t kp_jscan_offset(const kp_jscan *s) { return s->off; }

void kp_jscan_set_text(kp_jscan *s, bool on) { s->want_text = on; }

void kp_jscan_quiet(kp_jscan *s)
{
	if (s->at_begin && !s->quiet && s->depth > 0)
		s->quiet = s->depth;
}

kp_status kp_jscan_buffer(const char *name, const kp_jscan_opts *opts, const char *data, size_t n, kp_jscan_fn fn,
			  void *ud, kp_error *err)
{
	kp_jscan *s = kp_jscan_new(name, opts, fn, ud);
	kp_status st = kp_jscan_feed(s, data, n, err);
	if (!st)
		st = kp_jscan_finish(s, err);
	kp_jscan_free(s);
	return st;
}
