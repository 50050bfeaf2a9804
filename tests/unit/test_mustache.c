/*
 * test_mustache.c - the template engine in stages/render/mustache.c: every
 * construct of the subset, both escaping modes, standalone lines, the
 * context stack, every error with its line number, the nesting limit, and
 * linear behaviour on a large list.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/render/render.h"

/* Renders tmpl against the JSON text ctx_json; returns the output (caller
 * frees) or NULL with err filled. */
static char *mu_render(const char *tmpl, const char *ctx_json, bool markdown, kp_error *err)
{
	json_object *ctx = json_tokener_parse(ctx_json);
	cr_assert(ctx != NULL || strcmp(ctx_json, "null") == 0, "bad test JSON: %s", ctx_json);
	char *out = NULL;
	kp_status st = markdown ? kp_mustache_render_markdown(tmpl, "t.mustache", ctx, &out, err)
				: kp_mustache_render(tmpl, "t.mustache", ctx, &out, err);
	json_object_put(ctx);
	if (st != KP_OK) {
		cr_assert_null(out);
		return NULL;
	}
	return out;
}

static void mu_expect(const char *tmpl, const char *ctx_json, const char *want)
{
	kp_error err = {0};
	char *got = mu_render(tmpl, ctx_json, false, &err);
	cr_assert_not_null(got, "render failed: %s", err.msg);
	cr_expect_str_eq(got, want, "template %s", tmpl);
	free(got);
}

static void mu_expect_md(const char *tmpl, const char *ctx_json, const char *want)
{
	kp_error err = {0};
	char *got = mu_render(tmpl, ctx_json, true, &err);
	cr_assert_not_null(got, "render failed: %s", err.msg);
	cr_expect_str_eq(got, want, "template %s", tmpl);
	free(got);
}

static void mu_expect_error(const char *tmpl, const char *want_msg)
{
	kp_error err = {0};
	char *got = mu_render(tmpl, "{}", false, &err);
	cr_assert_null(got, "template %s should fail", tmpl);
	cr_expect_eq(err.status, KP_ERR_INPUT);
	cr_expect_str_eq(err.msg, want_msg);
}

Test(mustache, plain_text_and_variables)
{
	mu_expect("", "{}", "");
	mu_expect("no tags here\n", "{}", "no tags here\n");
	mu_expect("Hello {{name}}!", "{\"name\":\"world\"}", "Hello world!");
	mu_expect("[{{ name }}]", "{\"name\":\"x\"}", "[x]");
	mu_expect("[{{missing}}]", "{}", "[]");
	mu_expect("[{{n}}]", "{\"n\":null}", "[]");
	mu_expect("{{t}} {{f}}", "{\"t\":true,\"f\":false}", "true false");
	mu_expect("a {single} brace", "{}", "a {single} brace");
}

Test(mustache, numbers_render_like_json)
{
	mu_expect("{{i}}", "{\"i\":730}", "730");
	mu_expect("{{i}}", "{\"i\":-42}", "-42");
	mu_expect("{{d}}", "{\"d\":4.0}", "4");
	mu_expect("{{d}}", "{\"d\":0.031611}", "0.031611");
	mu_expect("{{d}}", "{\"d\":308.2059}", "308.2059");
	mu_expect("{{d}}", "{\"d\":1.5}", "1.5");
	mu_expect("{{d}}", "{\"d\":0.1234567}", "0.123457");
	mu_expect("{{d}}", "{\"d\":-0.0000001}", "0");
	mu_expect("{{d}}", "{\"d\":1e20}", "100000000000000000000");
}

Test(mustache, html_escaping_and_raw)
{
	const char *ctx = "{\"v\":\"<b>&\\\"'</b>\"}";
	mu_expect("{{v}}", ctx, "&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;");
	mu_expect("{{{v}}}", ctx, "<b>&\"'</b>");
	mu_expect("{{&v}}", ctx, "<b>&\"'</b>");
	mu_expect("{{& v }}", ctx, "<b>&\"'</b>");
	mu_expect("{{{ v }}}", ctx, "<b>&\"'</b>");
}

Test(mustache, markdown_escaping)
{
	mu_expect_md("{{v}}", "{\"v\":\"a|b*c_d`e[f]g<h>i#j\\\\k&l~m\"}",
		     "a\\|b\\*c\\_d\\`e\\[f\\]g\\<h\\>i\\#j\\\\k&amp;l\\~m");
	mu_expect_md("{{v}}", "{\"v\":\"line1\\nline2\\r\\nline3\\rline4\"}", "line1 line2 line3 line4");
	mu_expect_md("{{v}}", "{\"v\":\"plain-name.ok/1:2 (x)\"}", "plain-name.ok/1:2 (x)");
	/* raw stays raw in Markdown mode too */
	mu_expect_md("{{{v}}}", "{\"v\":\"a|b\\nc\"}", "a|b\nc");
	/* numbers are not mangled */
	mu_expect_md("{{n}}", "{\"n\":-4.5}", "-4.5");
	/* the hostile cell keeps a table row at its cell count */
	kp_error err = {0};
	char *got = mu_render("| {{a}} | {{b}} |", "{\"a\":\"x <b>|y|</b>\",\"b\":\"z\"}", true, &err);
	cr_assert_not_null(got);
	int pipes = 0;
	for (const char *p = got; *p; p++)
		if (*p == '|' && (p == got || p[-1] != '\\'))
			pipes++;
	cr_expect_eq(pipes, 3, "row %s", got);
	cr_expect_null(strstr(got, "<b>"));
	free(got);
}

Test(mustache, dotted_names_and_dot)
{
	mu_expect("{{a.b.c}}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", "deep");
	mu_expect("[{{a.x.c}}]", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", "[]");
	mu_expect("[{{a.b.c}}]", "{\"a\":{\"b\":3}}", "[]");
	mu_expect("{{#list}}{{.}},{{/list}}", "{\"list\":[1,\"two\",3.5]}", "1,two,3.5,");
	mu_expect("{{#a.b}}{{c}}{{/a.b}}", "{\"a\":{\"b\":{\"c\":\"in\"}}}", "in");
	/* dotted lookup: only the first segment walks the stack */
	mu_expect("{{#x}}[{{a.b}}]{{/x}}", "{\"a\":{\"b\":\"outer\"},\"x\":{\"a\":{}}}", "[]");
}

Test(mustache, sections)
{
	mu_expect("{{#l}}<{{n}}>{{/l}}", "{\"l\":[{\"n\":1},{\"n\":2},{\"n\":3}]}", "<1><2><3>");
	mu_expect("{{#l}}x{{/l}}", "{\"l\":[]}", "");
	mu_expect("{{#o}}{{k}}{{/o}}", "{\"o\":{\"k\":\"v\"}}", "v");
	mu_expect("{{#o}}yes{{/o}}", "{\"o\":{}}", "yes");
	mu_expect("{{#t}}yes{{/t}}", "{\"t\":true}", "yes");
	mu_expect("{{#f}}yes{{/f}}", "{\"f\":false}", "");
	mu_expect("{{#n}}yes{{/n}}", "{\"n\":null}", "");
	mu_expect("{{#m}}yes{{/m}}", "{}", "");
	mu_expect("{{#s}}[{{.}}]{{/s}}", "{\"s\":\"str\"}", "[str]");
	mu_expect("{{#s}}yes{{/s}}", "{\"s\":\"\"}", "");
	mu_expect("{{#i}}yes{{/i}}", "{\"i\":7}", "yes");
	mu_expect("{{#i}}yes{{/i}}", "{\"i\":0}", "");
	mu_expect("{{#d}}yes{{/d}}", "{\"d\":0.0}", "");
	mu_expect("{{#d}}yes{{/d}}", "{\"d\":0.5}", "yes");
	/* a list item that is null renders nothing but still iterates */
	mu_expect("{{#l}}<{{.}}>{{/l}}", "{\"l\":[null,1]}", "<><1>");
}

Test(mustache, inverted_sections)
{
	mu_expect("{{^l}}none{{/l}}", "{\"l\":[]}", "none");
	mu_expect("{{^l}}none{{/l}}", "{\"l\":[1]}", "");
	mu_expect("{{^m}}none{{/m}}", "{}", "none");
	mu_expect("{{^f}}no{{/f}}", "{\"f\":false}", "no");
	mu_expect("{{^s}}empty{{/s}}", "{\"s\":\"\"}", "empty");
	mu_expect("{{^t}}no{{/t}}", "{\"t\":true}", "");
	/* an inverted section does not push anything */
	mu_expect("{{^f}}{{v}}{{/f}}", "{\"f\":null,\"v\":\"outer\"}", "outer");
}

Test(mustache, comments)
{
	mu_expect("a{{! a comment }}b", "{}", "ab");
	mu_expect("a{{!multi\nline\ncomment}}b", "{}", "ab");
	mu_expect("a{{!}}b", "{}", "ab");
}

Test(mustache, context_stack_walks_outward)
{
	const char *ctx = "{\"cur\":\"USD\",\"name\":\"top\",\"groups\":[{\"name\":\"g1\",\"items\":[{\"name\":\"i1\"},"
			  "{\"id\":2}]}]}";
	mu_expect("{{#groups}}{{#items}}{{name}}/{{cur}};{{/items}}{{/groups}}", ctx, "i1/USD;g1/USD;");
	/* a key present with a null value stops the walk (mustache semantics) */
	mu_expect("{{#o}}[{{name}}]{{/o}}", "{\"name\":\"outer\",\"o\":{\"name\":null}}", "[]");
	/* the context is restored after a section */
	mu_expect("{{#o}}{{name}}{{/o}}-{{name}}", "{\"name\":\"outer\",\"o\":{\"name\":\"inner\"}}", "inner-outer");
	/* {{.}} on the root */
	mu_expect("{{#l}}{{#.}}{{.}}{{/.}}{{/l}}", "{\"l\":[[1,2],[3]]}", "123");
}

Test(mustache, standalone_lines)
{
	const char *tmpl = "| a | b |\n"
			   "|---|---|\n"
			   "{{#rows}}\n"
			   "| {{x}} | {{y}} |\n"
			   "{{/rows}}\n"
			   "end\n";
	mu_expect(tmpl, "{\"rows\":[{\"x\":1,\"y\":2},{\"x\":3,\"y\":4}]}",
		  "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\nend\n");
	mu_expect(tmpl, "{\"rows\":[]}", "| a | b |\n|---|---|\nend\n");
	/* indentation and trailing blanks around a standalone tag go too */
	mu_expect("a\n  {{#s}}  \nb\n\t{{/s}}\nc\n", "{\"s\":true}", "a\nb\nc\n");
	mu_expect("a\n  {{^s}}\nb\n  {{/s}}\nc\n", "{\"s\":true}", "a\nc\n");
	mu_expect("a\n{{! comment }}\nb\n", "{}", "a\nb\n");
	mu_expect("a\r\n{{#s}}\r\nb\r\n{{/s}}\r\nc", "{\"s\":1}", "a\r\nb\r\nc");
	/* at the very start and end of the template */
	mu_expect("{{#s}}\nx\n{{/s}}", "{\"s\":1}", "x\n");
	/* not standalone: other content on the line */
	mu_expect("a {{#s}}\nb\n{{/s}} c\n", "{\"s\":1}", "a \nb\n c\n");
	mu_expect("  {{v}}\n", "{\"v\":\"x\"}", "  x\n");
	/* two tags on one line are not standalone */
	mu_expect("{{#s}}{{/s}}\nx\n", "{\"s\":1}", "\nx\n");
}

Test(mustache, errors_name_template_and_line)
{
	mu_expect_error("line1\nline2 {{name\n", "t.mustache:2: tag opened here is never closed (no \"}}\")");
	mu_expect_error("x {{{raw}}", "t.mustache:1: tag opened here is never closed (no \"}}}\")");
	mu_expect_error("a\n\n{{#findings}}\nx\n", "t.mustache:3: section \"findings\" opened here is never closed");
	mu_expect_error("{{#a}}\n{{#b}}\n{{/a}}\n",
			"t.mustache:3: {{/a}} does not match section \"b\" opened at line 2");
	mu_expect_error("x\n{{/a}}", "t.mustache:2: {{/a}} closes a section that was never opened");
	mu_expect_error("\n{{}}", "t.mustache:2: empty tag");
	mu_expect_error("{{#}}{{/}}", "t.mustache:1: empty tag");
	mu_expect_error("{{> part}}", "t.mustache:1: partials ({{>part}}) are not supported");
	mu_expect_error("{{=<% %>=}}", "t.mustache:1: set-delimiter tags ({{=...=}}) are not supported");

	/* NULL template name still gives a usable message */
	json_object *ctx = json_object_new_object();
	char *out = NULL;
	kp_error err = {0};
	cr_expect_eq(kp_mustache_render("{{#x}}", NULL, ctx, &out, &err), KP_ERR_INPUT);
	cr_expect_str_eq(err.msg, "template:1: section \"x\" opened here is never closed");
	json_object_put(ctx);
}

static char *nested(int depth)
{
	kp_buf b;
	kp_buf_init(&b);
	for (int i = 0; i < depth; i++)
		kp_buf_printf(&b, "{{#s%d}}", i);
	kp_buf_puts(&b, "{{v}}");
	for (int i = depth - 1; i >= 0; i--)
		kp_buf_printf(&b, "{{/s%d}}", i);
	return kp_buf_detach(&b);
}

Test(mustache, nesting_limit)
{
	json_object *ctx = json_object_new_object();
	for (int i = 0; i < 70; i++) {
		char k[16];
		snprintf(k, sizeof(k), "s%d", i);
		json_object_object_add(ctx, k, json_object_new_boolean(1));
	}
	json_object_object_add(ctx, "v", json_object_new_string("ok"));
	kp_error err = {0};
	char *out = NULL, *t = nested(64);
	cr_expect_eq(kp_mustache_render(t, "deep", ctx, &out, &err), KP_OK, "%s", err.msg);
	cr_expect_str_eq(out, "ok");
	free(out);
	free(t);
	out = NULL;
	t = nested(65);
	cr_expect_eq(kp_mustache_render(t, "deep", ctx, &out, &err), KP_ERR_INPUT);
	cr_expect_null(out);
	cr_expect_str_eq(err.msg, "deep:1: section \"s64\" nests deeper than 64 levels");
	free(t);
	/* deeply nested data with a flat template is fine */
	json_object_put(ctx);
}

Test(mustache, large_list_is_fast_and_correct)
{
	json_object *ctx = json_object_new_object(), *l = json_object_new_array();
	for (int i = 0; i < 200000; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "n", json_object_new_int(i));
		json_object_array_add(l, o);
	}
	json_object_object_add(ctx, "l", l);
	json_object_object_add(ctx, "sep", json_object_new_string(","));
	char *out = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_mustache_render("{{#l}}{{n}}{{sep}}{{/l}}{{^l}}none{{/l}}", "big", ctx, &out, &err), KP_OK);
	size_t want = 0;
	for (int i = 0; i < 200000; i++)
		want += (size_t)snprintf(NULL, 0, "%d,", i);
	cr_expect_eq(strlen(out), want);
	cr_expect(strncmp(out, "0,1,2,", 6) == 0);
	free(out);
	json_object_put(ctx);
}

/* Found by fuzz_mustache: nested sections over the same list multiply
 * (3^40 here) and a 400-byte template hung the renderer. It must stop with an
 * error naming the outermost open section's line, quickly. */
Test(mustache, nested_lists_are_bounded)
{
	kp_buf b;
	kp_buf_init(&b);
	for (int i = 0; i < 40; i++)
		kp_buf_puts(&b, i == 0 ? "\n{{#items}}" : "{{#items}}");
	kp_buf_puts(&b, "x");
	for (int i = 0; i < 40; i++)
		kp_buf_puts(&b, "{{/items}}");
	kp_error err = {0};
	char *out = mu_render(b.data, "{\"items\":[1,2,3]}", true, &err);
	cr_expect_null(out);
	cr_expect(strstr(err.msg, "t.mustache:2: rendering stopped after") == err.msg, "%s", err.msg);
	/* Without text the output stays empty, but the steps are bounded too. */
	kp_buf_reset(&b);
	for (int i = 0; i < 40; i++)
		kp_buf_puts(&b, "{{#items}}");
	for (int i = 0; i < 40; i++)
		kp_buf_puts(&b, "{{/items}}");
	out = mu_render(b.data, "{\"items\":[1,2,3]}", false, &err);
	cr_expect_null(out);
	cr_expect(strstr(err.msg, "too many steps") != NULL, "%s", err.msg);
	/* Three levels over a modest list is still fine. */
	kp_buf_reset(&b);
	kp_buf_puts(&b, "{{#items}}{{#items}}{{#items}}x{{/items}}{{/items}}{{/items}}");
	out = mu_render(b.data, "{\"items\":[1,2,3]}", false, &err);
	cr_assert_not_null(out, "%s", err.msg);
	cr_expect_eq(strlen(out), 27);
	free(out);
	kp_buf_release(&b);
}

Test(mustache, unicode_passes_through)
{
	mu_expect("{{v}} → {{w}}", "{\"v\":\"€5\",\"w\":\"日本\"}", "€5 → 日本");
	mu_expect_md("{{v}}", "{\"v\":\"£1\"}", "£1");
}
