/*
 * cmd_slack.c - see cmd_slack.h.
 */
#include "pipeline/cmd_slack.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/http.h"

/* Slack's limits: a section's text, the blocks of a message */
#define SECTION_MAX 2900
#define BLOCKS_MAX 48

bool kp_slack_signature_ok(const char *secret, const char *ts, const char *sig, const char *body, size_t n,
			   int64_t now, const char **why)
{
	if (!ts || !sig) {
		*why = "X-Slack-Request-Timestamp and X-Slack-Signature are required";
		return false;
	}
	char *end = NULL;
	long long t = strtoll(ts, &end, 10);
	if (!*ts || *end || llabs((long long)now - t) > 300) {
		*why = "the request timestamp is more than 5 minutes away (a replay?)";
		return false;
	}
	size_t prefix = strlen("v0:") + strlen(ts) + 1;
	unsigned char *msg = kp_xmalloc(prefix + n);
	snprintf((char *)msg, prefix + 1, "v0:%s:", ts);
	memcpy(msg + prefix, body, n);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mlen = 0;
	bool ok = HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, prefix + n, mac, &mlen) != NULL;
	free(msg);
	char want[3 + 2 * EVP_MAX_MD_SIZE + 1] = "v0=";
	for (unsigned i = 0; ok && i < mlen; i++)
		snprintf(want + 3 + 2 * i, 3, "%02x", mac[i]);
	/* constant time: nothing says how much of a forged signature matched */
	ok = ok && strlen(sig) == strlen(want) && CRYPTO_memcmp(sig, want, strlen(want)) == 0;
	if (!ok)
		*why = "the signature does not match (slack.signing_secret)";
	return ok;
}

static void put_escaped(kp_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '&')
			kp_buf_puts(b, "&amp;");
		else if (s[i] == '<')
			kp_buf_puts(b, "&lt;");
		else if (s[i] == '>')
			kp_buf_puts(b, "&gt;");
		else
			kp_buf_putc(b, s[i]);
	}
}

char *kp_slack_mrkdwn(const char *md)
{
	kp_buf b;
	kp_buf_init(&b);
	for (const char *line = md; *line;) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);
		const char *p = line;
		bool heading = false;
		if (*p == '#') {
			while (p < line + n && *p == '#')
				p++;
			while (p < line + n && *p == ' ')
				p++;
			heading = true;
			kp_buf_putc(&b, '*');
		}
		const char *e = line + n;
		while (p < e) {
			if (p + 1 < e && p[0] == '*' && p[1] == '*') { /* **bold** -> *bold* */
				if (!heading)
					kp_buf_putc(&b, '*');
				p += 2;
			} else if (*p == '[') { /* [text](url) -> <url|text> */
				const char *close = memchr(p, ']', (size_t)(e - p));
				const char *rp = close && close + 1 < e && close[1] == '(' ? memchr(close, ')', (size_t)(e - close))
											     : NULL;
				if (!rp) {
					put_escaped(&b, p++, 1);
					continue;
				}
				kp_buf_putc(&b, '<');
				put_escaped(&b, close + 2, (size_t)(rp - close - 2));
				kp_buf_putc(&b, '|');
				put_escaped(&b, p + 1, (size_t)(close - p - 1));
				kp_buf_putc(&b, '>');
				p = rp + 1;
			} else {
				put_escaped(&b, p++, 1);
			}
		}
		if (heading)
			kp_buf_putc(&b, '*');
		if (!eol)
			break;
		kp_buf_putc(&b, '\n');
		line = eol + 1;
	}
	kp_buf_putc(&b, '\0');
	return kp_buf_detach(&b);
}

char *kp_slack_strip_mentions(const char *text)
{
	kp_buf b;
	kp_buf_init(&b);
	for (const char *p = text; *p;) {
		if (p[0] == '<' && p[1] == '@') {
			const char *close = strchr(p, '>');
			if (close) {
				p = close + 1;
				continue;
			}
		}
		kp_buf_putc(&b, *p++);
	}
	kp_buf_putc(&b, '\0');
	char *s = kp_buf_detach(&b);
	size_t start = strspn(s, " \t\n"), n = strlen(s);
	while (n > start && isspace((unsigned char)s[n - 1]))
		n--;
	memmove(s, s + start, n - start);
	s[n - start] = '\0';
	return s;
}

static json_object *section(const char *text, size_t n)
{
	json_object *t = json_object_new_object();
	json_object_object_add(t, "type", json_object_new_string("mrkdwn"));
	json_object_object_add(t, "text", json_object_new_string_len(text, (int)n));
	json_object *s = json_object_new_object();
	json_object_object_add(s, "type", json_object_new_string("section"));
	json_object_object_add(s, "text", t);
	return s;
}

/* text cut into sections at line ends, each within Slack's limit */
static void add_sections(json_object *blocks, const char *text)
{
	size_t n = strlen(text);
	for (size_t at = 0; at < n && json_object_array_length(blocks) < BLOCKS_MAX;) {
		size_t take = n - at;
		if (take > SECTION_MAX) {
			take = SECTION_MAX;
			for (size_t k = SECTION_MAX; k > SECTION_MAX / 2; k--)
				if (text[at + k] == '\n') {
					take = k;
					break;
				}
		}
		json_object_array_add(blocks, section(text + at, take));
		at += take;
		while (at < n && text[at] == '\n')
			at++;
	}
}

kp_status kp_slack_post(const kp_config *cfg, const char *channel, const char *thread_ts, const char *text,
			json_object *proposals, kp_error *err)
{
	if (!cfg->slack.bot_token)
		return kp_fail(err, KP_ERR_USAGE, "slack.bot_token (SLACK_BOT_TOKEN) is not set: no reply can be posted");
	char *body_md = kp_slack_mrkdwn(text);
	json_object *blocks = json_object_new_array();
	add_sections(blocks, body_md);
	kp_buf props;
	kp_buf_init(&props);
	for (size_t i = 0; json_object_is_type(proposals, json_type_array) && i < json_object_array_length(proposals); i++) {
		json_object *p = json_object_array_get_idx(proposals, i);
		kp_buf_printf(&props, "%s`%s` (%s%s, id %s)", i ? "\n" : "*Proposed, not run* (a person approves: `kopilot approve ID --run RUN`):\n",
			      kp_json_str(p, "command"), kp_json_str(p, "risk"),
			      json_object_get_boolean(kp_json_get(p, "destructive")) ? ", destructive" : "",
			      kp_json_str(p, "id"));
	}
	if (props.len) {
		char *pm = kp_slack_mrkdwn(kp_buf_cstr(&props));
		add_sections(blocks, pm);
		free(pm);
	}
	json_object *msg = json_object_new_object();
	json_object_object_add(msg, "channel", json_object_new_string(channel));
	if (thread_ts)
		json_object_object_add(msg, "thread_ts", json_object_new_string(thread_ts));
	/* the notification text and what clients without blocks show */
	size_t tn = strlen(body_md);
	json_object_object_add(msg, "text", json_object_new_string_len(body_md, (int)(tn > 3000 ? 3000 : tn)));
	json_object_object_add(msg, "blocks", blocks);
	json_object_object_add(msg, "unfurl_links", json_object_new_boolean(false));
	const char *body = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	kp_http_opts o = {0};
	o.what = "Slack";
	o.base_url = cfg->slack.api_url;
	o.token = cfg->slack.bot_token;
	o.max_attempts = 4;
	kp_http_client *c = NULL;
	kp_buf out;
	kp_buf_init(&out);
	kp_http_result res = {0};
	kp_status s = kp_http_new(&o, &c, err);
	if (!s)
		s = kp_http_send(c, "POST", "/chat.postMessage", "application/json; charset=utf-8", body, strlen(body), &out,
				 1 << 20, &res, err);
	if (!s) {
		/* Slack answers 200 with {"ok": false, "error": ...} for most failures */
		json_object *r = json_tokener_parse(kp_buf_cstr(&out));
		if (res.status / 100 != 2 || !json_object_get_boolean(kp_json_get(r, "ok")))
			s = kp_fail(err, KP_ERR_NETWORK, "Slack chat.postMessage: %ld %s", res.status,
				    kp_json_str(r, "error") ? kp_json_str(r, "error") : "no ok in the answer");
		json_object_put(r);
	}
	kp_http_result_release(&res);
	kp_http_free(c);
	kp_buf_release(&out);
	kp_buf_release(&props);
	json_object_put(msg);
	free(body_md);
	return s;
}
