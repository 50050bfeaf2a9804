/*
 * report_html.c - report.html: the Markdown report rendered to one
 * self-contained HTML5 page.
 *
 * Owns: kp_render_html(). The Markdown is converted with cmark-gfm (tables
 * and strikethrough; never autolinks, so a name that looks like a host name
 * stays text) using CMARK_OPT_DEFAULT only: without
 * CMARK_OPT_UNSAFE, raw HTML in the Markdown and javascript:/data: links are
 * suppressed, which is the second line of defence behind the Markdown
 * escaping of cluster-provided names in mustache.c. The page has inline CSS
 * and nothing else: no scripts, fonts, images or other external resources,
 * so it opens offline, from a mail attachment or a CI artifact, and prints.
 *
 * Memory: *out is malloc'd and freed by the caller; every cmark object is
 * freed before returning.
 */
#include "stages/render/render.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <stdlib.h>
#include <string.h>

static const char CSS[] =
	":root{--fg:#1f2328;--muted:#59636e;--border:#d1d9e0;--zebra:#f6f8fa;--head:#eef1f4;"
	"--accent:#0969da;--warn-bg:#fff8c5;--warn:#9a6700;--code-bg:#f6f8fa}\n"
	"*{box-sizing:border-box}\n"
	"html{-webkit-text-size-adjust:100%}\n"
	"body{margin:0 auto;max-width:1120px;padding:24px 32px 48px;color:var(--fg);background:#fff;"
	"font:15px/1.55 -apple-system,BlinkMacSystemFont,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,"
	"\"Noto Sans\",\"Liberation Sans\",sans-serif}\n"
	"h1{font-size:1.9em;margin:.2em 0 .6em;padding-bottom:.3em;border-bottom:2px solid var(--border)}\n"
	"h2{font-size:1.45em;margin:1.8em 0 .6em;padding-bottom:.25em;border-bottom:1px solid var(--border)}\n"
	"h3{font-size:1.2em;margin:1.5em 0 .5em}\n"
	"h4{font-size:1.05em;margin:1.6em 0 .4em;padding:.35em .6em;background:var(--head);"
	"border-left:4px solid var(--accent);border-radius:3px}\n"
	"h1,h2,h3,h4{line-height:1.25;overflow-wrap:anywhere}\n"
	"p,ul,ol{margin:.5em 0 .9em}\n"
	"li{margin:.15em 0}\n"
	"a{color:var(--accent)}\n"
	/* tables off screen are laid out only when scrolled to: the page of a
	 * 150,000-pod run (2,000 table rows) opens in Chromium in about half
	 * the time; print lays out everything (below) */
	".tw{overflow-x:auto;margin:.6em 0 1.2em;content-visibility:auto;contain-intrinsic-size:auto 400px}\n"
	"table{border-collapse:collapse;font-size:.93em;"
	"font-variant-numeric:tabular-nums}\n"
	"th,td{border:1px solid var(--border);padding:6px 10px;vertical-align:top;text-align:left;"
	"overflow-wrap:break-word}\n"
	"th{background:var(--head);font-weight:600}\n"
	"tbody tr:nth-child(even){background:var(--zebra)}\n"
	"th[align=right],td[align=right]{text-align:right;white-space:nowrap}\n"
	"th[align=center],td[align=center]{text-align:center}\n"
	"code{font:.88em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,\"Liberation Mono\",monospace;"
	"background:var(--code-bg);padding:.1em .35em;border-radius:4px}\n"
	"pre{background:var(--code-bg);border:1px solid var(--border);border-radius:6px;padding:10px 14px;"
	"white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}\n"
	"pre code{background:none;padding:0;font-size:.85em}\n"
	"blockquote{margin:.8em 0 1.2em;padding:.6em 1em;background:var(--warn-bg);"
	"border-left:4px solid var(--warn);border-radius:3px}\n"
	"blockquote p{margin:.3em 0}\n"
	"hr{border:0;border-top:1px solid var(--border);margin:2em 0 1em}\n"
	"hr+p{color:var(--muted);font-size:.88em}\n"
	"em{color:var(--muted)}\n"
	/* the savings trend (trend_svg.c): drawn to the page's width */
	".trend{margin:.4em 0 .8em;max-width:960px}\n"
	".trend svg{display:block;width:100%;height:auto}\n"
	"@media (max-width:700px){body{padding:12px}table{font-size:.85em}th,td{padding:4px 6px}}\n"
	"@media print{\n"
	".tw{overflow:visible;content-visibility:visible}\n"
	"@page{margin:14mm 12mm}\n"
	"body{max-width:none;padding:0;font-size:10.5pt;color:#000}\n"
	"h2,h3,h4{break-after:avoid;page-break-after:avoid}\n"
	"table,pre,blockquote,tr{break-inside:avoid;page-break-inside:avoid}\n"
	"thead{display:table-header-group}\n"
	"h4,th,blockquote,pre,code,tbody tr:nth-child(even){background:none!important}\n"
	"h4{border-left:3px solid #000;padding:0 0 0 .5em}\n"
	"th{border-bottom:2px solid #000}\n"
	"th,td,pre{border-color:#888}\n"
	"blockquote{border-left:3px solid #000}\n"
	"a{color:#000;text-decoration:none}\n"
	"em{color:#333}\n"
	"}\n";

void kp_html_escape(kp_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': kp_buf_puts(b, "&amp;"); break;
		case '<': kp_buf_puts(b, "&lt;"); break;
		case '>': kp_buf_puts(b, "&gt;"); break;
		case '"': kp_buf_puts(b, "&quot;"); break;
		case '\'': kp_buf_puts(b, "&#39;"); break;
		default: kp_buf_putc(b, *s); break;
		}
	}
}

/* Copies cmark's HTML, wrapping each table in a horizontally scrollable
 * div so a very long name widens the table's box, not the page. A literal
 * "<table>" can only come from cmark itself: text from the Markdown is
 * escaped and raw HTML is suppressed. */
static void put_tables(kp_buf *b, const char *html, size_t len);

/* The heading report.md.mustache gives the trend section; the chart goes
 * right under the first one. It comes before any finding in the built-in
 * template, so no text from the cluster precedes it. */
static const char TREND_HEADING[] = "<h2>Savings trend</h2>\n";

static void put_body(kp_buf *b, const char *html, const char *trend_svg)
{
	const char *h = trend_svg ? strstr(html, TREND_HEADING) : NULL;
	if (!h) {
		put_tables(b, html, strlen(html));
		return;
	}
	h += strlen(TREND_HEADING);
	put_tables(b, html, (size_t)(h - html));
	kp_buf_puts(b, "<figure class=\"trend\">\n");
	kp_buf_puts(b, trend_svg);
	kp_buf_puts(b, "\n</figure>\n");
	put_tables(b, h, strlen(h));
}

static void put_tables(kp_buf *b, const char *html, size_t len)
{
	const char *p = html, *t, *stop = html + len;
	while ((t = strstr(p, "<table>")) != NULL && t < stop) {
		const char *end = strstr(t, "</table>");
		if (!end || end >= stop)
			break;
		end += strlen("</table>");
		kp_buf_add(b, p, (size_t)(t - p));
		kp_buf_puts(b, "<div class=\"tw\">");
		kp_buf_add(b, t, (size_t)(end - t));
		kp_buf_puts(b, "</div>");
		p = end;
	}
	kp_buf_add(b, p, (size_t)(stop - p));
}

kp_status kp_render_html(const char *markdown, const char *title, char **out, kp_error *err)
{
	return kp_render_html_trend(markdown, title, NULL, out, err);
}

kp_status kp_render_html_trend(const char *markdown, const char *title, const char *trend_svg, char **out,
			       kp_error *err)
{
	*out = NULL;
	if (!markdown)
		return kp_fail(err, KP_ERR_INTERNAL, "report.html: no Markdown to render");

	cmark_gfm_core_extensions_ensure_registered();
	cmark_parser *parser = cmark_parser_new(CMARK_OPT_DEFAULT);
	if (!parser)
		return kp_fail(err, KP_ERR_NOMEM, "report.html: cannot create the Markdown parser");
	/* No "autolink": it turned cluster text such as a Deployment named
	 * www.evil.example into a link. Nothing from a cluster becomes a link. */
	static const char *const exts[] = {"table", "strikethrough"};
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		cmark_syntax_extension *e = cmark_find_syntax_extension(exts[i]);
		if (!e || !cmark_parser_attach_syntax_extension(parser, e)) {
			cmark_parser_free(parser);
			return kp_fail(err, KP_ERR_INTERNAL, "report.html: cmark-gfm extension \"%s\" is not available",
				       exts[i]);
		}
	}
	cmark_parser_feed(parser, markdown, strlen(markdown));
	cmark_node *doc = cmark_parser_finish(parser);
	char *body = doc ? cmark_render_html(doc, CMARK_OPT_DEFAULT, cmark_parser_get_syntax_extensions(parser)) : NULL;
	if (doc)
		cmark_node_free(doc);
	cmark_parser_free(parser);
	if (!body)
		return kp_fail(err, KP_ERR_NOMEM, "report.html: Markdown rendering failed");

	kp_buf b;
	kp_buf_init(&b);
	kp_buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
			"<meta name=\"generator\" content=\"kopilot " KP_VERSION "\">\n<title>");
	char *vis_title = kp_visible(title && *title ? title : "kopilot report");
	kp_html_escape(&b, vis_title);
	free(vis_title);
	kp_buf_puts(&b, "</title>\n<style>\n");
	kp_buf_puts(&b, CSS);
	kp_buf_puts(&b, "</style>\n</head>\n<body>\n<main>\n");
	put_body(&b, body, trend_svg);
	kp_buf_puts(&b, "</main>\n</body>\n</html>\n");
	/* cmark allocates with its default allocator, which is malloc */
	cmark_get_default_mem_allocator()->free(body);
	*out = kp_buf_detach(&b);
	return KP_OK;
}
