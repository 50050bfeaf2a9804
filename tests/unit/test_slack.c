/* test_slack.c - Slack's request signatures, Markdown to mrkdwn, mentions. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cmd_slack.h"

/* Slack's documented example (api.slack.com/authentication/verifying-requests-from-slack) */
#define SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define TS "1531420618"
#define BODY                                                                                                           \
	"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name="  \
	"foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2F"    \
	"hooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015."     \
	"47445629121.803a0bc887a14d10d2c447fce8b6703c"
#define SIG "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

Test(slack, signature_as_slack_documents_it)
{
	const char *why = NULL;
	cr_expect(kp_slack_signature_ok(SECRET, TS, SIG, BODY, strlen(BODY), 1531420618 + 10, &why), "%s", why);
	/* one byte of the body, the secret, the signature or the timestamp changed */
	char body[sizeof(BODY)];
	memcpy(body, BODY, sizeof(BODY));
	body[10] ^= 1;
	cr_expect(!kp_slack_signature_ok(SECRET, TS, SIG, body, strlen(body), 1531420618, &why));
	cr_expect(!kp_slack_signature_ok("8f742231b10e8888abcd99yyyzzz85a6", TS, SIG, BODY, strlen(BODY), 1531420618, &why));
	cr_expect(!kp_slack_signature_ok(SECRET, TS, "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b504",
					 BODY, strlen(BODY), 1531420618, &why));
	cr_expect(strstr(why, "signature") != NULL, "%s", why);
	cr_expect(!kp_slack_signature_ok(SECRET, TS, "v0=a2114d57", BODY, strlen(BODY), 1531420618, &why));
	cr_expect(!kp_slack_signature_ok(SECRET, "1531420619", SIG, BODY, strlen(BODY), 1531420618, &why));
	/* a replay: the same request six minutes later */
	cr_expect(!kp_slack_signature_ok(SECRET, TS, SIG, BODY, strlen(BODY), 1531420618 + 360, &why));
	cr_expect(strstr(why, "5 minutes") != NULL, "%s", why);
	cr_expect(!kp_slack_signature_ok(SECRET, NULL, SIG, BODY, strlen(BODY), 1531420618, &why));
	cr_expect(!kp_slack_signature_ok(SECRET, "15314x0618", SIG, BODY, strlen(BODY), 1531420618, &why));
}

Test(slack, markdown_to_mrkdwn)
{
	struct {
		const char *in, *want;
	} cases[] = {
		{"### Next safe actions\n1. **Merge** it", "*Next safe actions*\n1. *Merge* it"},
		{"see [the report](https://k.example/r?a=1&b=2)", "see <https://k.example/r?a=1&amp;b=2|the report>"},
		{"a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"},
		{"# **Bold** heading", "*Bold heading*"},
		{"[not a link] (x)", "[not a link] (x)"},
		{"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = kp_slack_mrkdwn(cases[i].in);
		cr_expect_str_eq(got, cases[i].want, "%s", cases[i].in);
		free(got);
	}
}

Test(slack, mentions_stripped)
{
	char *q = kp_slack_strip_mentions("<@U0KOPILOT> which pods in <#C0X|ops> are idle? <@U0ALICE>  ");
	cr_expect_str_eq(q, "which pods in <#C0X|ops> are idle?");
	free(q);
	q = kp_slack_strip_mentions("<@U0KOPILOT>");
	cr_expect_str_eq(q, "");
	free(q);
	q = kp_slack_strip_mentions("<@U0KOPILOT unterminated");
	cr_expect_str_eq(q, "<@U0KOPILOT unterminated");
	free(q);
}
