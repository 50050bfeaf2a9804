/*
 * trend_svg.c - the savings trend of report.html: one inline SVG line chart
 * of the net potential savings per run, drawn from history.json
 * (kopilot.history/v1, stages/recommend/history.h).
 *
 * Owns: kp_trend_svg(). Why SVG text and not a script or an image: the
 * report opens offline, from a mail attachment, and under a strict Content
 * Security Policy (no script, no img-src): an inline <svg> with
 * presentation attributes (fill=, stroke=, never style=) needs none of
 * them. It is accessible (role="img", <title> and <desc> summing the
 * series up; each point has a <title> with its date, savings and findings,
 * which screen readers and hover tooltips both read), and report.md's
 * trend table below it is the data in text.
 *
 * Layout: one point per run, equally spaced in run order (the runs of a
 * nightly job are equally spaced anyway, and two runs on one day stay
 * apart); the y axis always includes 0 and goes to a "nice" bound, so
 * equal values and all-zero series draw a flat line, not a division by
 * zero; at most about 8 date labels, the last run's always among them,
 * so 2 runs and 365 runs both read.
 *
 * Memory: the returned string is malloc'd, the caller frees it.
 */
#include "stages/render/render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/money.h"
#include "pipeline/quantity.h"

#define W 960.0
#define H 280.0
#define LEFT 96.0   /* y axis labels: "$12,345.00" */
#define RIGHT 24.0
#define TOP 20.0
#define BOTTOM 44.0 /* x axis labels */
#define MAX_LABELS 8

/* A round step for about `want` intervals over span: 1, 2 or 5 x 10^k. */
static double nice_step(double span, int want)
{
	double raw = span / want, mag = pow(10, floor(log10(raw))), f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* Money for an axis: "$600" rather than "$600.00" on whole ticks. */
static void axis_money(double v, const char *cur, char *out, size_t n)
{
	kp_money_format(v, cur, out, n);
	char *dot = strstr(out, ".00");
	if (dot && fabs(v - round(v)) < 1e-9)
		memmove(dot, dot + 3, strlen(dot + 3) + 1);
}

/* "2026-11-25T06:00:00Z" -> "2026-11-25" */
static void day_of(const char *rfc, char out[16])
{
	snprintf(out, 16, "%.10s", rfc ? rfc : "?");
}

char *kp_trend_svg(json_object *history)
{
	json_object *runs = kp_json_get(history, "runs");
	size_t n = json_object_is_type(runs, json_type_array) ? json_object_array_length(runs) : 0;
	if (!n)
		return NULL;
	const char *cur = kp_json_str(history, "currency");
	cur = cur ? cur : "USD";
	double lo = 0, hi = 0; /* the axis always shows 0 */
	size_t ilo = 0, ihi = 0;
	double *v = kp_xmalloc(n * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i] = json_object_get_double(kp_json_get(json_object_array_get_idx(runs, i), "monthly_savings"));
		if (!isfinite(v[i]))
			v[i] = 0;
		if (v[i] < v[ilo])
			ilo = i;
		if (v[i] > v[ihi])
			ihi = i;
		lo = fmin(lo, v[i]);
		hi = fmax(hi, v[i]);
	}
	/* all zero: an axis to $1 with a flat line on $0 */
	double span = hi - lo > 0 ? hi - lo : 1;
	double step = nice_step(span, 4);
	double ylo = floor(lo / step) * step, yhi = ceil(hi / step) * step;
	if (yhi - ylo < step)
		yhi = ylo + step;
	double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
#define XOF(i) (n == 1 ? LEFT + pw / 2 : LEFT + pw * (double)(i) / (double)(n - 1))
#define YOF(val) (TOP + ph * (1 - ((val) - ylo) / (yhi - ylo)))

	kp_buf b;
	kp_buf_init(&b);
	char m1[64], m2[64], m3[64], m4[64], d1[16], d2[16];
	day_of(kp_json_str(json_object_array_get_idx(runs, 0), "generated_at"), d1);
	day_of(kp_json_str(json_object_array_get_idx(runs, n - 1), "generated_at"), d2);
	kp_money_format(v[0], cur, m1, sizeof(m1));
	kp_money_format(v[n - 1], cur, m2, sizeof(m2));
	kp_money_format(v[ilo], cur, m3, sizeof(m3));
	kp_money_format(v[ihi], cur, m4, sizeof(m4));
	kp_buf_printf(&b,
		      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"trend-chart\" viewBox=\"0 0 %.0f %.0f\" "
		      "width=\"100%%\" preserveAspectRatio=\"xMinYMin meet\" role=\"img\" "
		      "aria-labelledby=\"trend-title trend-desc\" font-family=\"sans-serif\" font-size=\"12\" "
		      "data-points=\"%zu\">\n",
		      W, H, n);
	kp_buf_puts(&b, "<title id=\"trend-title\">Net potential savings per run (");
	kp_html_escape(&b, cur);
	kp_buf_puts(&b, "/month)</title>\n<desc id=\"trend-desc\">");
	if (n == 1)
		kp_buf_printf(&b, "One run so far, on %s: %s/month. The trend starts with the next run.", d2, m2);
	else
		kp_buf_printf(&b, "%zu runs from %s to %s: %s/month at the first, %s/month at the last; lowest %s, highest %s.",
			      n, d1, d2, m1, m2, m3, m4);
	kp_buf_puts(&b, "</desc>\n");

	/* grid and y labels */
	kp_buf_puts(&b, "<g class=\"y-axis\" fill=\"#59636e\" text-anchor=\"end\">\n");
	for (double t = ylo; t <= yhi + step / 2; t += step) {
		double y = YOF(t);
		char m[64];
		axis_money(fabs(t) < step / 1e6 ? 0 : t, cur, m, sizeof(m));
		kp_buf_printf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1\"/>",
			      LEFT, y, W - RIGHT, y, fabs(t) < step / 1e6 ? "#8c959f" : "#d1d9e0");
		kp_buf_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" dominant-baseline=\"middle\">", LEFT - 8, y);
		kp_html_escape(&b, m);
		kp_buf_puts(&b, "</text>\n");
	}
	kp_buf_puts(&b, "</g>\n");

	/* x labels: at most MAX_LABELS, evenly thinned, the last always */
	size_t every = (n + MAX_LABELS - 1) / MAX_LABELS;
	every = every ? every : 1;
	kp_buf_puts(&b, "<g class=\"x-axis\" fill=\"#59636e\" text-anchor=\"middle\">\n");
	for (size_t i = 0; i < n; i++) {
		bool last = i == n - 1;
		/* every `every`-th, and the last; one too close to the last gives way */
		if (!last && (i % every != 0 || (n - 1 - i) * 2 < every))
			continue;
		char d[16];
		day_of(kp_json_str(json_object_array_get_idx(runs, i), "generated_at"), d);
		double x = XOF(i);
		const char *anchor = n > 1 && i == 0 ? "start" : n > 1 && last ? "end" : "middle";
		kp_buf_printf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#8c959f\"/>", x, H - BOTTOM,
			      x, H - BOTTOM + 5);
		kp_buf_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n", x, H - BOTTOM + 20, anchor, d);
	}
	kp_buf_puts(&b, "</g>\n");

	/* the area and the line (two runs at least), then a point per run */
	if (n > 1) {
		kp_buf pts;
		kp_buf_init(&pts);
		for (size_t i = 0; i < n; i++)
			kp_buf_printf(&pts, "%s%.1f,%.1f", i ? " " : "", XOF(i), YOF(v[i]));
		double base = YOF(fmax(ylo, fmin(0, yhi)));
		kp_buf_printf(&b, "<polygon class=\"trend-area\" fill=\"#0969da\" fill-opacity=\"0.08\" points=\"%.1f,%.1f %s %.1f,%.1f\"/>\n",
			      XOF(0), base, kp_buf_cstr(&pts), XOF(n - 1), base);
		kp_buf_printf(&b, "<polyline class=\"trend-line\" fill=\"none\" stroke=\"#0969da\" stroke-width=\"2\" "
				  "stroke-linejoin=\"round\" points=\"%s\"/>\n",
			      kp_buf_cstr(&pts));
		kp_buf_release(&pts);
	}
	double r = n <= 60 ? 3.5 : n <= 200 ? 2 : 1.5;
	/* a white ring sets a point off its line; at hundreds of points the
	 * rings would cut the line into dots */
	kp_buf_printf(&b, "<g class=\"trend-points\" fill=\"#0969da\" stroke=\"#ffffff\" stroke-width=\"%s\">\n",
		      n <= 60 ? "1" : "0");
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(runs, i);
		const char *at = kp_json_str(p, "generated_at");
		char m[64], cnt[32];
		kp_money_format(v[i], cur, m, sizeof(m));
		kp_format_thousands((unsigned long long)json_object_get_int64(kp_json_get(p, "findings")), cnt, sizeof(cnt));
		bool current = json_object_get_boolean(kp_json_get(p, "current"));
		kp_buf_printf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"%s data-date=\"", XOF(i), YOF(v[i]),
			      current ? r + 1.5 : r, current ? " fill=\"#1a7f37\"" : "");
		kp_html_escape(&b, at);
		kp_buf_printf(&b, "\" data-savings=\"%.2f\" data-findings=\"%lld\"><title>", v[i],
			      (long long)json_object_get_int64(kp_json_get(p, "findings")));
		char d[16];
		day_of(at, d);
		kp_buf_printf(&b, "%s%s: %s/month, %s finding%s</title></circle>\n", d, current ? " (this run)" : "", m, cnt,
			      strcmp(cnt, "1") ? "s" : "");
	}
	kp_buf_puts(&b, "</g>\n");
	if (n == 1)
		kp_buf_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#59636e\">One run so far: "
				  "the trend starts with the next run</text>\n",
			      XOF(0), fmax(TOP + 12, YOF(v[0]) - 14));
	kp_buf_puts(&b, "</svg>");
#undef XOF
#undef YOF
	free(v);
	return kp_buf_detach(&b);
}
