/*
 * fuzz_redact.c - libFuzzer harness for the streaming JSON tokenizer
 * (pipeline/jscan.c) and the redacting snapshot copy (stages/collect/redact.c),
 * all in memory. The input is one JSON text (a snapshot list, or anything).
 *
 * Oracles, beyond "no crash, leak, UB or hang":
 *   - the same verdict as json-c (strict, UTF-8 validated) on the same text,
 *     given strictly valid UTF-8 (json-c checks only the shape of UTF-8
 *     sequences, not overlong forms or surrogates; checked here
 *     independently), no raw control character in a string, no malformed
 *     number such as "-007" or "1." and no NaN or Infinity (json-c's strict
 *     mode lets those through);
 *   - fed in pieces (sizes picked from the input) the redactor writes the
 *     same bytes, and fails with the same message, as fed whole;
 *   - when the input is valid, the output is valid JSON, and equal to the
 *     input's tree with exactly the values redact.h lists replaced by
 *     "<redacted>" (computed here on the json-c tree, independently of the
 *     redactor), so no env value, Secret data or last-applied configuration
 *     survives and nothing else changes;
 *   - decoded strings and keys are valid UTF-8, errors are printable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pipeline/jscan.h"
#include "stages/collect/redact.h"

#define DEPTH 1024 /* the redactor's own limit, given to json-c too */

static void fail(const char *what, const uint8_t *data, size_t size)
{
	fprintf(stderr, "fuzz_redact: %s (input %zu bytes: %.*s)\n", what, size, (int)(size < 200 ? size : 200),
		(const char *)data);
	abort();
}

/* Strict UTF-8 (Unicode table 3-7), written apart from jscan's. */
static bool strict_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		unsigned need, cp;
		if (c >= 0xC2 && c <= 0xDF)
			need = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			need = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			need = 3, cp = c & 0x07;
		else
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if (i + k >= n || (p[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += need + 1;
	}
	return true;
}

/* Whether word (lower case) is in the data, case aside. */
static bool mentions(const uint8_t *data, size_t size, const char *word)
{
	size_t n = strlen(word);
	for (size_t i = 0; i + n <= size; i++)
		if (strncasecmp((const char *)data + i, word, n) == 0)
			return true;
	return false;
}

static bool printable(const char *s)
{
	if (!*s || !strict_utf8((const unsigned char *)s, strlen(s)))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* json-c's verdict: one whole value, nothing but white space after it. */
static json_object *jc_parse(const uint8_t *data, size_t size, bool *ok)
{
	char *copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	json_tokener *tok = json_tokener_new_ex(DEPTH);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *o = json_tokener_parse_ex(tok, copy, (int)size + 1);
	size_t end = json_tokener_get_parse_end(tok);
	*ok = json_tokener_get_error(tok) == json_tokener_success;
	/* a number at the very end is only finished by the NUL */
	if (*ok && end > size)
		end = size;
	while (*ok && end < size && copy[end] && strchr(" \t\r\n", copy[end]))
		end++;
	if (end < size)
		*ok = false;
	json_tokener_free(tok);
	free(copy);
	if (!*ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static bool is(const char *key, const char *name) { return strcmp(key, name) == 0; }

/* What redact.h promises, applied to a json-c tree in place. */
static void expect_redacted(json_object *o, bool root, bool item)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			expect_redacted(json_object_array_get_idx(o, i), false, false);
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, key, val)
	{
		if (item && (is(key, "data") || is(key, "stringData") || is(key, "binaryData"))) {
			json_object_object_add(o, key, json_object_new_string("<redacted>"));
			continue;
		}
		if (is(key, "env") && json_object_is_type(val, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(val); i++) {
				json_object *e = json_object_array_get_idx(val, i);
				if (json_object_is_type(e, json_type_object) && json_object_object_get_ex(e, "value", NULL))
					json_object_object_add(e, "value", json_object_new_string("<redacted>"));
			}
		}
		if (is(key, "annotations") && json_object_is_type(val, json_type_object) &&
		    json_object_object_get_ex(val, "kubectl.kubernetes.io/last-applied-configuration", NULL))
			json_object_object_add(val, "kubectl.kubernetes.io/last-applied-configuration",
					       json_object_new_string("<redacted>"));
		if (root && is(key, "items") && json_object_is_type(val, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(val); i++)
				expect_redacted(json_object_array_get_idx(val, i), false, true);
			continue;
		}
		expect_redacted(val, false, false);
	}
}

static kp_status check_text(void *ud, const kp_jscan_token *t, kp_error *err)
{
	(void)ud, (void)err;
	if (t->text && !t->truncated && !strict_utf8((const unsigned char *)t->text, t->len))
		abort(); /* a decoded string that is not UTF-8 */
	if (t->end <= t->start)
		abort();
	return KP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	const char *in = (const char *)data;
	kp_buf whole;
	kp_buf_init(&whole);
	kp_error err = {0};
	size_t count = 0;
	kp_status st = kp_redact_buffer("fuzz.json", in, size, &whole, &count, &err);
	if (st && (st != KP_ERR_INPUT || !printable(err.msg)))
		fail("bad error", data, size);

	/* in pieces: the same */
	size_t piece = 1 + (size ? data[size / 2] % 61 : 0);
	kp_redactor *r = kp_redactor_new("fuzz.json");
	kp_buf parts;
	kp_buf_init(&parts);
	kp_error perr = {0};
	kp_status pst = KP_OK;
	for (size_t off = 0; off < size && !pst; off += piece)
		pst = kp_redactor_feed(r, in + off, size - off < piece ? size - off : piece, &parts, &perr);
	if (!pst)
		pst = kp_redactor_finish(r, &parts, &perr);
	if (pst != st || (st && strcmp(err.msg, perr.msg) != 0))
		fail("pieces give another verdict", data, size);
	if (!st && (parts.len != whole.len || memcmp(kp_buf_cstr(&parts), kp_buf_cstr(&whole), whole.len) != 0))
		fail("pieces give other bytes", data, size);
	if (!st && kp_redactor_count(r) != count)
		fail("pieces count otherwise", data, size);
	kp_redactor_free(r);
	kp_buf_release(&parts);

	/* decoding */
	kp_jscan_opts o = {.text = true, .max_text = 1 << 20, .max_depth = DEPTH};
	kp_error serr = {0};
	if (kp_jscan_buffer("fuzz.json", &o, in, size, check_text, NULL, &serr) != st)
		fail("the tokenizer alone gives another verdict", data, size);

	/* json-c */
	bool jc_ok = false;
	json_object *tree = jc_parse(data, size, &jc_ok);
	bool utf8 = strict_utf8(data, size);
	/* json-c's strict mode lets raw control characters into strings
	 * (RFC 8259 says they must be escaped), some malformed numbers
	 * ("-007", "1.") and NaN and Infinity through; jscan refuses them */
	if (jc_ok && utf8 && st && !strstr(err.msg, "control character") && !strstr(err.msg, "number") &&
	    !mentions(data, size, "nan") && !mentions(data, size, "infinity"))
		fail("rejects what json-c accepts", data, size);
	if (!jc_ok && !st)
		fail("accepts what json-c rejects", data, size);
	if (!st) {
		bool out_ok = false;
		json_object *out = jc_parse((const uint8_t *)kp_buf_cstr(&whole), whole.len, &out_ok);
		if (!out_ok)
			fail("output is not JSON", data, size);
		expect_redacted(tree, true, false);
		if (!json_object_equal(tree, out))
			fail("output is not the input with exactly the listed values redacted", data, size);
		json_object_put(out);
	}
	json_object_put(tree);
	kp_buf_release(&whole);
	return 0;
}
