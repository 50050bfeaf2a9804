/*
 * test_jscan.c - the streaming JSON tokenizer (pipeline/jscan.c): what it
 * accepts and rejects (RFC 8259 strictly), the tokens, offsets and decoded
 * text it reports, positions in errors, the nesting limit, and that feeding
 * a text in pieces of any size gives exactly what feeding it whole gives.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/jscan.h"

/* Every token as one line: "TYPE depth start-end text", text escaped. */
static kp_status js_record(void *ud, const kp_jscan_token *t, kp_error *err)
{
	(void)err;
	static const char *const names[] = {"{", "}", "[", "]", "KEY", "STR", "NUM", "true", "false", "null"};
	kp_buf *b = ud;
	kp_buf_printf(b, "%s %d %llu-%llu", names[t->type], t->depth, (unsigned long long)t->start,
		      (unsigned long long)t->end);
	if (t->text) {
		kp_buf_puts(b, " ");
		for (size_t i = 0; i < t->len; i++) {
			unsigned char c = (unsigned char)t->text[i];
			if (c < 0x20 || c >= 0x7f || c == '\\')
				kp_buf_printf(b, "\\x%02X", c);
			else
				kp_buf_putc(b, (char)c);
		}
		if (t->truncated)
			kp_buf_puts(b, "...");
	}
	kp_buf_putc(b, '\n');
	return KP_OK;
}

/* Scans text in pieces of `piece` bytes (0: whole) and returns the token
 * lines, or "ERROR: message". Caller frees. */
static char *js_scan(const char *text, size_t n, size_t piece, const kp_jscan_opts *o)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_error err = {0};
	kp_jscan *s = kp_jscan_new("t.json", o, js_record, &b);
	kp_status st = KP_OK;
	for (size_t off = 0; off < n && !st; off += piece ? piece : n)
		st = kp_jscan_feed(s, text + off, piece && n - off > piece ? piece : n - off, &err);
	if (!st)
		st = kp_jscan_finish(s, &err);
	kp_jscan_free(s);
	if (st) {
		kp_buf_reset(&b);
		kp_buf_printf(&b, "ERROR: %s", err.msg);
	}
	kp_buf_puts(&b, "");
	return kp_buf_detach(&b);
}

static char *js_whole(const char *text) { return js_scan(text, strlen(text), 0, NULL); }

static bool js_ok(const char *text)
{
	char *r = js_whole(text);
	bool ok = strncmp(r, "ERROR", 5) != 0;
	free(r);
	return ok;
}

Test(jscan, tokens_offsets_depth_and_text)
{
	const char *doc = "{\"a\": [1, -2.5e3, \"x\"], \"b\": {\"c\": true, \"d\": null}, \"e\": false}";
	char *r = js_whole(doc);
	cr_expect_str_eq(r, "{ 1 0-1\n"
			    "KEY 1 1-4 a\n"
			    "[ 2 6-7\n"
			    "NUM 2 7-8\n"
			    "NUM 2 10-16\n"
			    "STR 2 18-21\n"
			    "] 2 21-22\n"
			    "KEY 1 24-27 b\n"
			    "{ 2 29-30\n"
			    "KEY 2 30-33 c\n"
			    "true 2 35-39\n"
			    "KEY 2 41-44 d\n"
			    "null 2 46-50\n"
			    "} 2 50-51\n"
			    "KEY 1 53-56 e\n"
			    "false 1 58-63\n"
			    "} 1 63-64\n");
	free(r);
	/* with text: strings and numbers carry theirs */
	kp_jscan_opts o = {.text = true};
	r = js_scan("[\"hi\", -0.5E+2, 7]", 18, 0, &o);
	cr_expect_str_eq(r, "[ 1 0-1\nSTR 1 1-5 hi\nNUM 1 7-14 -0.5E+2\nNUM 1 16-17 7\n] 1 17-18\n");
	free(r);
	/* a top-level scalar: a number ends with the data */
	r = js_scan(" 123 ", 5, 0, &o);
	cr_expect_str_eq(r, "NUM 0 1-4 123\n");
	free(r);
	r = js_scan("123", 3, 0, &o);
	cr_expect_str_eq(r, "NUM 0 0-3 123\n");
	free(r);
}

Test(jscan, accepts_valid_json)
{
	static const char *const ok[] = {
		"{}", "[]", "\"\"", "0", "-0", "0.0", "1e5", "1E+5", "1e-5", "-12.34e+56", "true", "false", "null",
		" \t\r\n{ \"a\" : [ ] , \"b\" : { } }\n", "[[[[]]]]", "[1,[2,[3]],{\"x\":[{}]}]",
		"{\"\":\"\"}", "{\"a\":1,\"a\":2}", "\"\\u0000\"", "\"\\uD800\"", "\"\\uDC00x\"",
		"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xed\x9f\xbf \xee\x80\x80\"",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "123456789012345678901234567890",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *r = js_whole(ok[i]);
		cr_expect(strncmp(r, "ERROR", 5) != 0, "%s: %s", ok[i], r);
		free(r);
	}
}

Test(jscan, rejects_invalid_json_with_position)
{
	static const struct {
		const char *doc, *msg;
	} bad[] = {
		{"", "t.json:1:1: unexpected end of data, expected a value"},
		{"   ", "t.json:1:4: unexpected end of data, expected a value"},
		{"{", "t.json:1:2: unexpected end of data, expected a member name or '}'"},
		{"[1,]", "t.json:1:4: unexpected ']', expected a value"},
		{"{\"a\":1,}", "t.json:1:8: unexpected '}', expected a member name"},
		{"{\"a\" 1}", "t.json:1:6: unexpected '1', expected ':'"},
		{"{1:2}", "t.json:1:2: unexpected '1', expected a member name or '}'"},
		{"[1 2]", "t.json:1:4: unexpected '2', expected ',' or ']'"},
		{"{\"a\":1]", "t.json:1:7: unexpected ']', expected ',' or '}'"},
		{"[}", "t.json:1:2: unexpected '}', expected a value or ']'"},
		{"1 2", "t.json:1:3: unexpected '2', expected the end of the data"},
		{"{} x", "t.json:1:4: unexpected 'x', expected the end of the data"},
		{"[01]", "t.json:1:3: malformed number: a leading zero"},
		{"[1.]", "t.json:1:4: malformed number: ']' where a digit after '.' is needed"},
		{"[-]", "t.json:1:3: malformed number: ']' where a digit after '-' is needed"},
		{"[.5]", "t.json:1:2: unexpected '.', expected a value or ']'"},
		{"[+1]", "t.json:1:2: unexpected '+', expected a value or ']'"},
		{"[1e]", "t.json:1:4: malformed number: ']' where a digit in the exponent is needed"},
		{"[1e+]", "t.json:1:5: malformed number: ']' where a digit in the exponent is needed"},
		{"[0x1]", "t.json:1:3: unexpected 'x', expected ',' or ']'"},
		{"-", "t.json:1:2: unexpected end of data in a number"},
		{"[tru]", "t.json:1:5: unexpected ']' in the literal true"},
		{"nul", "t.json:1:4: unexpected end of data in the literal null"},
		{"[NaN]", "t.json:1:2: unexpected 'N', expected a value or ']'"},
		{"['a']", "t.json:1:2: unexpected 0x27, expected a value or ']'"},
		{"[\"a\tb\"]", "t.json:1:4: control character 0x09 in a string (must be escaped)"},
		{"[\"a\\x\"]", "t.json:1:5: invalid escape: backslash followed by 'x'"},
		{"[\"\\u12G4\"]", "t.json:1:7: invalid \\u escape: 'G' is not a hex digit"},
		{"\"abc", "t.json:1:5: unexpected end of data in a string"},
		{"{\n  \"a\": tru\n}", "t.json:2:11: unexpected 0x0A in the literal true"},
		{"[\n1,\n\n  x]", "t.json:4:3: unexpected 'x', expected a value"},
		{"/* c */ 1", "t.json:1:1: unexpected '/', expected a value"},
		{"\xef\xbb\xbf{}", "t.json:1:1: unexpected 0xEF, expected a value"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *r = js_whole(bad[i].doc);
		cr_expect(strncmp(r, "ERROR: ", 7) == 0 && strcmp(r + 7, bad[i].msg) == 0, "%s:\n got %s\nwant %s",
			  bad[i].doc, r, bad[i].msg);
		free(r);
	}
}

Test(jscan, utf8_is_checked_strictly)
{
	static const char *const bad[] = {
		"\"\x80\"",		/* a continuation byte alone */
		"\"\xc0\x80\"",		/* overlong NUL */
		"\"\xc1\xbf\"",		/* overlong */
		"\"\xe0\x80\xaf\"",	/* overlong '/' */
		"\"\xed\xa0\x80\"",	/* an encoded surrogate */
		"\"\xf0\x80\x80\xaf\"", /* overlong */
		"\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
		"\"\xf5\x80\x80\x80\"", /* no such lead byte */
		"\"\xff\"",
		"\"\xc3\"",		/* cut by the closing quote */
		"\"\xe2\x82\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *r = js_whole(bad[i]);
		cr_expect(strstr(r, "ERROR: t.json:1:") && strstr(r, "invalid UTF-8"), "case %zu: %s", i, r);
		free(r);
	}
	/* and outside strings any non-ASCII byte is simply unexpected */
	cr_expect(!js_ok("[\xc3\xa9]"));
	/* a cut character at the end of the data */
	char *r = js_whole("\"\xe2\x82");
	cr_expect_str_eq(r, "ERROR: t.json:1:4: unexpected end of data in a string");
	free(r);
}

Test(jscan, escapes_are_decoded)
{
	kp_jscan_opts o = {.text = true};
	static const struct {
		const char *doc, *want;
	} cases[] = {
		{"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "STR 0 0-18 \"\\x5C/\\x08\\x0C\\x0A\\x0D\\x09\n"},
		{"\"\\u0041\\u00e9\\u20AC\"", "STR 0 0-20 A\\xC3\\xA9\\xE2\\x82\\xAC\n"},
		{"\"\\ud83d\\ude00\"", "STR 0 0-14 \\xF0\\x9F\\x98\\x80\n"},       /* a pair */
		{"\"\\ud83dx\"", "STR 0 0-9 \\xEF\\xBF\\xBDx\n"},                  /* lone high */
		{"\"\\ude00\\ud83d\"", "STR 0 0-14 \\xEF\\xBF\\xBD\\xEF\\xBF\\xBD\n"}, /* reversed */
		{"\"\\ud83d\\u0041\"", "STR 0 0-14 \\xEF\\xBF\\xBDA\n"},
		{"\"a\\u0000b\"", "STR 0 0-10 a\\x00b\n"},
		{"\"\xc3\xa9\\n\"", "STR 0 0-6 \\xC3\\xA9\\x0A\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = js_scan(cases[i].doc, strlen(cases[i].doc), 0, &o);
		cr_expect_str_eq(r, cases[i].want, "case %zu", i);
		free(r);
	}
	/* keys are always decoded, strings only when asked */
	char *r = js_whole("{\"v\\u0061lue\":\"s\\u0061\"}");
	cr_expect_str_eq(r, "{ 1 0-1\nKEY 1 1-13 value\nSTR 1 14-23\n} 1 23-24\n");
	free(r);
}

Test(jscan, long_text_is_cut_and_marked)
{
	kp_jscan_opts o = {.text = true, .max_text = 4};
	/* an escaped character that does not fit whole is left out */
	const char *doc = "[\"abcdefgh\",\"abc\\u00e9\",\"ab\\u00e9\",\"abcd\"]";
	const char *want = "[ 1 0-1\nSTR 1 1-11 abcd...\nSTR 1 12-23 abc...\nSTR 1 24-34 ab\\xC3\\xA9\n"
			   "STR 1 35-41 abcd\n] 1 41-42\n";
	char *r = js_scan(doc, strlen(doc), 0, &o);
	cr_expect_str_eq(r, want);
	free(r);
	/* the same when the strings are cut by chunk ends */
	r = js_scan(doc, strlen(doc), 3, &o);
	cr_expect_str_eq(r, want);
	free(r);
}

Test(jscan, nesting_limit)
{
	kp_jscan_opts o = {.max_depth = 4};
	char *r = js_scan("[[{\"a\":[1]}]]", 13, 0, &o);
	cr_expect(strncmp(r, "ERROR", 5) != 0, "%s", r);
	free(r);
	r = js_scan("[[{\"a\":[[1]]}]]", 15, 0, &o);
	cr_expect_str_eq(r, "ERROR: t.json:1:9: nested deeper than 4 levels");
	free(r);
	/* the default: 512 levels */
	kp_buf b;
	kp_buf_init(&b);
	for (int i = 0; i < 512; i++)
		kp_buf_putc(&b, '[');
	for (int i = 0; i < 512; i++)
		kp_buf_putc(&b, ']');
	cr_expect(js_ok(b.data));
	kp_buf_reset(&b);
	for (int i = 0; i < 100000; i++)
		kp_buf_putc(&b, '[');
	r = js_whole(b.data);
	cr_expect_str_eq(r, "ERROR: t.json:1:513: nested deeper than 512 levels");
	free(r);
	kp_buf_release(&b);
}

/* The same tokens (and the same error) whatever the chunk size. */
Test(jscan, chunking_does_not_matter)
{
	static const char *const docs[] = {
		"{\"apiVersion\": \"v1\", \"items\": [{\"metadata\": {\"name\": \"caf\xc3\xa9\\u00e9\\ud83d\\ude00\"},"
		" \"n\": [-1.5e-3, 0, 123456, true, false, null]}], \"\\u006bind\": \"List\"}\n",
		"[\"\xf0\x9f\x98\x80\xe2\x82\xac\", 1e10, {\"a\\\"b\": \"\\\\\"}]",
		"{\"a\": [1, 2,, 3]}",
		"[\"ok\", \"bad \xed\xa0\x80\"]",
		"\n\n  [1,\n 2, tx]",
		"12345",
	};
	kp_jscan_opts o = {.text = true};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		size_t n = strlen(docs[i]);
		char *whole = js_scan(docs[i], n, 0, &o);
		for (size_t piece = 1; piece <= n; piece++) {
			char *r = js_scan(docs[i], n, piece, &o);
			cr_expect_str_eq(r, whole, "doc %zu, pieces of %zu", i, piece);
			free(r);
		}
		free(whole);
	}
}

static kp_status js_stop_at_key(void *ud, const kp_jscan_token *t, kp_error *err)
{
	(void)ud;
	if (t->type == KP_JS_KEY && t->len == 4 && memcmp(t->text, "stop", 4) == 0)
		return kp_fail(err, KP_ERR_USAGE, "stopped at %llu", (unsigned long long)t->start);
	return KP_OK;
}

Test(jscan, errors_stick_and_callbacks_can_stop)
{
	kp_error err = {0};
	kp_jscan *s = kp_jscan_new("x", NULL, NULL, NULL);
	cr_expect_eq(kp_jscan_feed(s, "[1,,", 4, &err), KP_ERR_INPUT);
	cr_expect_str_eq(err.msg, "x:1:4: unexpected ',', expected a value");
	memset(&err, 0, sizeof(err));
	cr_expect_eq(kp_jscan_feed(s, "2]", 2, &err), KP_ERR_INPUT);
	cr_expect_str_eq(err.msg, "x:1:4: unexpected ',', expected a value");
	cr_expect_eq(kp_jscan_finish(s, &err), KP_ERR_INPUT);
	kp_jscan_free(s);

	s = kp_jscan_new("y", NULL, js_stop_at_key, NULL);
	cr_expect_eq(kp_jscan_feed(s, "{\"go\":1,\"stop\":2}", 17, &err), KP_ERR_USAGE);
	cr_expect_str_eq(err.msg, "stopped at 8");
	cr_expect_eq(kp_jscan_finish(s, &err), KP_ERR_USAGE);
	kp_jscan_free(s);
}

Test(jscan, pending_start_marks_a_cut_token)
{
	kp_error err = {0};
	kp_jscan *s = kp_jscan_new("p", NULL, NULL, NULL);
	cr_assert_eq(kp_jscan_feed(s, "{\"a\": \"xy", 9, &err), KP_OK);
	cr_expect_eq(kp_jscan_pending_start(s), 6);
	cr_expect_eq(kp_jscan_offset(s), 9);
	cr_assert_eq(kp_jscan_feed(s, "z\", \"b\": 12", 11, &err), KP_OK);
	cr_expect_eq(kp_jscan_pending_start(s), 18); /* the number may go on */
	cr_assert_eq(kp_jscan_feed(s, "}", 1, &err), KP_OK);
	cr_expect_eq(kp_jscan_pending_start(s), 21);
	cr_expect_eq(kp_jscan_finish(s, &err), KP_OK);
	kp_jscan_free(s);
}

/* A callback can turn text off for the value after a key, and on again:
 * numbers and strings (escaped or not, cut by a chunk or not) then carry
 * none, keys always do. */
typedef struct {
	kp_jscan *s;
	kp_buf seen;
} js_toggle;

static kp_status js_toggle_text(void *ud, const kp_jscan_token *t, kp_error *err)
{
	(void)err;
	js_toggle *x = ud;
	if (t->type == KP_JS_KEY) {
		kp_jscan_set_text(x->s, !(t->len == 4 && memcmp(t->text, "skip", 4) == 0));
		kp_buf_printf(&x->seen, "k:%.*s ", (int)t->len, t->text);
	} else if (t->type == KP_JS_STRING || t->type == KP_JS_NUMBER) {
		if (t->text)
			kp_buf_printf(&x->seen, "v:%.*s ", (int)t->len, t->text);
		else
			kp_buf_puts(&x->seen, "v:- ");
	}
	return KP_OK;
}

Test(jscan, text_can_be_switched_off_for_a_value)
{
	const char *text = "{\"skip\":\"a\\\"b\",\"keep\":\"c\\u00e9\",\"skip\":12345,\"n\":678,\"skip\":\"plain\",\"x\":\"y\"}";
	for (size_t piece = 1; piece <= strlen(text); piece++) {
		js_toggle x;
		kp_buf_init(&x.seen);
		kp_jscan_opts o = {.text = true};
		x.s = kp_jscan_new("t", &o, js_toggle_text, &x);
		kp_error err = {0};
		for (size_t off = 0; off < strlen(text); off += piece)
			cr_assert_eq(kp_jscan_feed(x.s, text + off, strlen(text) - off < piece ? strlen(text) - off : piece, &err),
				     KP_OK, "%s", err.msg);
		cr_assert_eq(kp_jscan_finish(x.s, &err), KP_OK, "%s", err.msg);
		cr_assert_str_eq(kp_buf_cstr(&x.seen), "k:skip v:- k:keep v:c\xc3\xa9 k:skip v:- k:n v:678 k:skip v:- k:x v:y ",
				 "pieces of %zu", piece);
		kp_jscan_free(x.s);
		kp_buf_release(&x.seen);
	}
}

/* kp_jscan_quiet: called on the BEGIN that follows the key "q", the tokens
 * inside that container are not handed over, its END is; the scan checks
 * the inside as strictly (the same error, at the same place), and text
 * comes back after it; chunking changes nothing. */
typedef struct {
	kp_jscan *s;
	kp_buf out;
	bool next_quiet;
} js_quieter;

static kp_status js_quiet_cb(void *ud, const kp_jscan_token *t, kp_error *err)
{
	js_quieter *x = ud;
	if ((t->type == KP_JS_OBJECT_BEGIN || t->type == KP_JS_ARRAY_BEGIN) && x->next_quiet)
		kp_jscan_quiet(x->s);
	x->next_quiet = t->type == KP_JS_KEY && t->len == 1 && t->text[0] == 'q';
	if (t->type != KP_JS_OBJECT_BEGIN && t->type != KP_JS_ARRAY_BEGIN)
		kp_jscan_quiet(x->s); /* not a BEGIN: ignored */
	return js_record(&x->out, t, err);
}

static char *js_quiet_scan(const char *text, size_t piece)
{
	js_quieter x = {0};
	kp_buf_init(&x.out);
	kp_jscan_opts o = {.text = true};
	x.s = kp_jscan_new("t.json", &o, js_quiet_cb, &x);
	kp_error err = {0};
	size_t n = strlen(text);
	kp_status st = KP_OK;
	for (size_t off = 0; off < n && !st; off += piece ? piece : n)
		st = kp_jscan_feed(x.s, text + off, piece && n - off > piece ? piece : n - off, &err);
	if (!st)
		st = kp_jscan_finish(x.s, &err);
	kp_jscan_free(x.s);
	if (st) {
		kp_buf_reset(&x.out);
		kp_buf_printf(&x.out, "ERROR: %s", err.msg);
	}
	kp_buf_puts(&x.out, "");
	return kp_buf_detach(&x.out);
}

Test(jscan, quiet_containers)
{
	const char *doc = "{\"a\":1,\"q\":{\"x\":[1,{\"y\":\"z\\u00e9\"}],\"w\":{}},\"b\":\"c\",\"q\":[[],2],\"q\":3}";
	const char *want = "{ 1 0-1\n"
			   "KEY 1 1-4 a\n"
			   "NUM 1 5-6 1\n"
			   "KEY 1 7-10 q\n"
			   "{ 2 11-12\n"
			   "} 2 42-43\n"
			   "KEY 1 44-47 b\n"
			   "STR 1 48-51 c\n"
			   "KEY 1 52-55 q\n"
			   "[ 2 56-57\n"
			   "] 2 61-62\n"
			   "KEY 1 63-66 q\n"
			   "NUM 1 67-68 3\n"
			   "} 1 68-69\n";
	for (size_t piece = 0; piece <= strlen(doc); piece++) {
		char *r = js_quiet_scan(doc, piece);
		cr_expect(strcmp(r, want) == 0, "pieces of %zu:\n%s", piece, r);
		free(r);
	}
	/* errors inside a quiet container: what the plain scan says */
	static const char *const bad[] = {
		"{\"q\":{\"x\":[1,]}}", "{\"q\":[01]}", "{\"q\":[\"a\tb\"]}", "{\"q\":{\"x\":\"\\u12G4\"}}",
		"{\"q\":[\"\xc3\x28\"]}", "{\"q\":[tru]}", "{\"q\":{\"x\":1]}", "{\"q\":[1e+]}", "{\"q\":[\"abc",
		"{\"q\":{\n\"a\":\n-}}", "{\"q\":[[[",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *plain = js_whole(bad[i]);
		cr_assert(strncmp(plain, "ERROR: ", 7) == 0, "%s: %s", bad[i], plain);
		for (size_t piece = 0; piece <= strlen(bad[i]); piece++) {
			char *r = js_quiet_scan(bad[i], piece);
			cr_expect_str_eq(r, plain, "%s in pieces of %zu", bad[i], piece);
			free(r);
		}
		free(plain);
	}
}

/* token.nul: set when an escape put a NUL in the text, whatever the
 * chunking; a plain or otherwise escaped text has none. */
static kp_status js_nul_cb(void *ud, const kp_jscan_token *t, kp_error *err)
{
	(void)err;
	kp_buf *b = ud;
	if (t->type == KP_JS_KEY || t->type == KP_JS_STRING)
		kp_buf_puts(b, t->nul ? "1" : (t->text && memchr(t->text, '\0', t->len)) ? "X" : "0");
	return KP_OK;
}

Test(jscan, nul_flag)
{
	const char *doc = "{\"a\\u0000b\":\"plain\",\"c\\n\":\"x\\u0000\",\"\\u00e9\":\"\\u0000\"}";
	for (size_t piece = 1; piece <= strlen(doc); piece++) {
		kp_buf b;
		kp_buf_init(&b);
		kp_jscan_opts o = {.text = true};
		kp_jscan *s = kp_jscan_new("t", &o, js_nul_cb, &b);
		kp_error err = {0};
		for (size_t off = 0; off < strlen(doc); off += piece)
			cr_assert_eq(kp_jscan_feed(s, doc + off, strlen(doc) - off < piece ? strlen(doc) - off : piece, &err),
				     KP_OK, "%s", err.msg);
		cr_assert_eq(kp_jscan_finish(s, &err), KP_OK, "%s", err.msg);
		cr_expect_str_eq(kp_buf_cstr(&b), "100101", "pieces of %zu", piece);
		kp_jscan_free(s);
		kp_buf_release(&b);
	}
}
