/*
 * test_urlmask.c - credentials in URLs are masked (pipeline/urlmask.c) the
 * way Prometheus shows them, and wherever the configuration is shown,
 * written or quoted in an error, while the configuration keeps the real
 * value for use.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/config.h"
#include "pipeline/urlmask.h"

static void um_expect(const char *in, const char *want)
{
	char *got = kp_mask_url_credentials(in);
	cr_expect_str_eq(got, want, "in: %s", in);
	/* masking twice changes nothing more */
	char *again = kp_mask_url_credentials(got);
	cr_expect_str_eq(again, got, "twice: %s", in);
	free(again);
	free(got);
}

Test(urlmask, userinfo_password)
{
	um_expect("http://admin:pw@ollama:11434", "http://admin:<secret>@ollama:11434");
	um_expect("https://admin:pw@ollama:11434/api/v1?x=1#top", "https://admin:<secret>@ollama:11434/api/v1?x=1#top");
	um_expect("http://admin:@host", "http://admin:<secret>@host");     /* empty password: masked too */
	um_expect("http://:pw@host", "http://:<secret>@host");
	um_expect("http://admin@host:80/", "http://admin@host:80/");        /* user alone: kept, as Prometheus */
	um_expect("http://u:p@ss:w@rd@host/x", "http://u:<secret>@host/x"); /* unescaped '@': up to the last */
	um_expect("http://u:p%40ss@host", "http://u:<secret>@host");
	um_expect("http://host:11434/a@b", "http://host:11434/a@b");        /* '@' in the path is no userinfo */
	um_expect("http://[::1]:8080/", "http://[::1]:8080/");
	um_expect("http://u:pw@[::1]:8080/", "http://u:<secret>@[::1]:8080/");
	um_expect("redis+tls://u:pw@cache:6379", "redis+tls://u:<secret>@cache:6379");
}

Test(urlmask, query_tokens)
{
	um_expect("http://h/api?token=abc&page=2", "http://h/api?token=<secret>&page=2");
	um_expect("http://h/?access_token=a;API_KEY=b&apikey=c&X-Amz-Signature=d&X-Amz-Credential=e&sig=f&auth=g",
		  "http://h/?access_token=<secret>;API_KEY=<secret>&apikey=<secret>&X-Amz-Signature=<secret>"
		  "&X-Amz-Credential=<secret>&sig=<secret>&auth=<secret>");
	um_expect("http://h/?password=x&pwd=y&client_secret=z", "http://h/?password=<secret>&pwd=<secret>&client_secret=<secret>");
	um_expect("http://h/?token&q=token", "http://h/?token&q=token"); /* no value, or a value that only says token */
	um_expect("http://h/?q=1#token=abc", "http://h/?q=1#token=abc"); /* the fragment is not sent */
	um_expect("http://u:p@h/?token=t", "http://u:<secret>@h/?token=<secret>");
}

Test(urlmask, urls_inside_text)
{
	um_expect("no url here: user:pw@host", "no url here: user:pw@host");
	um_expect("", "");
	um_expect("llm.ollama_base_url=http://admin:pw@ollama:11434",
		  "llm.ollama_base_url=http://admin:<secret>@ollama:11434");
	um_expect("got \"ftp://a:b@c/x\", expected an http:// or https:// URL",
		  "got \"ftp://a:<secret>@c/x\", expected an http:// or https:// URL");
	um_expect("[\"http://a:b@c\",\"https://d:e@f?token=g\"]", "[\"http://a:<secret>@c\",\"https://d:<secret>@f?token=<secret>\"]");
	um_expect("two: http://a:1@x and http://b:2@y.", "two: http://a:<secret>@x and http://b:<secret>@y.");
	um_expect("://a:b@c", "://a:b@c"); /* no scheme */
	um_expect("1http://a:b@c", "1http://a:<secret>@c");
}

/* ---- the configuration ---- */

static const char *um_env_url;
static const char *um_getenv(const char *name)
{
	return strcmp(name, "OLLAMA_BASE_URL") == 0 ? um_env_url : NULL;
}

static void um_config_hides(const kp_config *c, const char *real)
{
	cr_expect_str_eq(c->llm.ollama_base_url, real, "the configuration keeps the real value");
	char *show = kp_config_show(c);
	cr_expect(strstr(show, "http://admin:<secret>@ollama:11434"), "%s", show);
	cr_expect(!strstr(show, "s3cr3t"), "%s", show);
	free(show);
	json_object *j = kp_config_to_json(c);
	const char *text = json_object_to_json_string(j);
	cr_expect(strstr(text, "admin:<secret>@ollama:11434"), "%s", text);
	cr_expect(!strstr(text, "s3cr3t"), "%s", text);
	json_object_put(j);
}

Test(urlmask, config_show_and_json_from_flag_env_and_file)
{
	const char *url = "http://admin:s3cr3t@ollama:11434";
	kp_error err = {0};
	kp_config c;

	kp_config_init(&c);
	cr_assert_eq(kp_config_set(&c, "llm.ollama_base_url=http://admin:s3cr3t@ollama:11434", KP_SRC_FLAG, &err), KP_OK,
		     "%s", err.msg);
	um_config_hides(&c, url);
	kp_config_release(&c);

	kp_config_init(&c);
	um_env_url = url;
	cr_assert_eq(kp_config_load_env(&c, um_getenv, &err), KP_OK, "%s", err.msg);
	um_config_hides(&c, url);
	kp_config_release(&c);

	char path[] = "/tmp/kp-urlmask-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	const char *yaml = "llm:\n  ollama_base_url: http://admin:s3cr3t@ollama:11434\n";
	cr_assert_eq(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	kp_config_init(&c);
	cr_assert_eq(kp_config_load_file(&c, path, &err), KP_OK, "%s", err.msg);
	um_config_hides(&c, url);
	kp_config_release(&c);
	unlink(path);
}

/* A rejected URL is quoted back in the error, masked. */
Test(urlmask, config_errors_quote_urls_masked)
{
	kp_error err = {0};
	kp_config c;
	kp_config_init(&c);
	cr_expect_eq(kp_config_set(&c, "llm.ollama_base_url=ftp://admin:s3cr3t@ollama:11434", KP_SRC_FLAG, &err),
		     KP_ERR_USAGE);
	cr_expect(strstr(err.msg, "ftp://admin:<secret>@ollama:11434"), "%s", err.msg);
	cr_expect(!strstr(err.msg, "s3cr3t"), "%s", err.msg);
	um_env_url = "http://admin:s3cr3t@ollama 11434"; /* white space: rejected */
	cr_expect_eq(kp_config_load_env(&c, um_getenv, &err), KP_ERR_USAGE);
	cr_expect(!strstr(err.msg, "s3cr3t"), "%s", err.msg);
	cr_expect_eq(kp_config_set(&c, "http://admin:s3cr3t@ollama:11434", KP_SRC_FLAG, &err), KP_ERR_USAGE);
	cr_expect(!strstr(err.msg, "s3cr3t"), "%s", err.msg);
	kp_config_release(&c);
}
