/*
 * urlmask.h - credentials in URLs are never shown or written: the one helper
 * every place that prints or stores a URL (config show, run.json's config
 * and args, log lines, error messages) passes its text through. The
 * configuration itself keeps the real value for use.
 *
 * As Prometheus does, the password of a URL's userinfo is replaced and the
 * user kept: http://admin:pw@ollama:11434 -> http://admin:<secret>@ollama:11434
 * (a user alone, http://admin@host, is shown as it is; an empty password
 * is masked too). Also masked: the value of each query parameter whose
 * name contains token, secret, passw, pwd, key, auth, sig or credential
 * (case aside): ?token=abc&page=2 -> ?token=<secret>&page=2. The host, port,
 * path and fragment are kept.
 */
#ifndef KP_URLMASK_H
#define KP_URLMASK_H

#include "pipeline/kp.h"

#define KP_URL_SECRET "<secret>"

/* text with the credentials of every URL in it ("scheme://...") masked; a
 * text without URLs comes back unchanged. Caller frees. */
char *kp_mask_url_credentials(const char *text);

#endif
