/*
 * tmpdir.h - a scratch directory of files for the unit tests that read a
 * tree (the manifest locator, the pull-request plan).
 */
#ifndef KP_TEST_TMPDIR_H
#define KP_TEST_TMPDIR_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/kp.h"

/* root/rel with text, directories made as needed */
static inline void tmpdir_put(const char *root, const char *rel, const char *text)
{
	char *p = kp_path_join(root, rel);
	char *dir = kp_xstrdup(p);
	*strrchr(dir, '/') = '\0';
	kp_error err = {0};
	cr_assert_eq(kp_mkdir_p(dir, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(kp_write_file_atomic(p, text, strlen(text), &err), KP_OK, "%s", err.msg);
	free(dir);
	free(p);
}

/* a new /tmp/kp-NAME-XXXXXX into root (64 bytes) */
static inline void tmpdir_make(char *root, const char *name)
{
	snprintf(root, 64, "/tmp/kp-%s-XXXXXX", name);
	cr_assert(mkdtemp(root));
}

#endif
