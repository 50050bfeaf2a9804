/*
 * test_fault.c - kp_nomem_guard(): an allocation that fails inside a guard
 * comes back as KP_ERR_NOMEM instead of aborting, the guarded code's
 * uncommitted temp files are removed, and guards nest. Built into the
 * normal unit tests (no -DKP_FAULT_INJECTION), so the failure is a real
 * one: a request no allocator can satisfy.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/kp.h"
#include "pipeline/run.h"

/* Under AddressSanitizer (make asan) an impossible malloc is a fatal report
 * unless the allocator is told to return NULL like glibc's does. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

typedef struct {
	char dir[64];
	char *path;   /* the final file */
	char *tmp;    /* its temp file, owned here so an unwind cannot leak it */
	int reached;  /* how far fn got */
	kp_status inner;
	kp_error inner_err;
} ft_ctx;

static void ft_setup(ft_ctx *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->dir, "/tmp/kp-fault-XXXXXX");
	cr_assert(mkdtemp(c->dir));
	c->path = kp_path_join(c->dir, "report.md");
}

static void ft_teardown(ft_ctx *c)
{
	if (c->tmp)
		kp_temp_discard(c->tmp);
	unlink(c->path);
	cr_assert_eq(rmdir(c->dir), 0, "%s: not empty (a temp file left behind?)", c->dir);
	free(c->path);
	free(c->tmp);
}

/* Writes a temp file beside c->path, as render stages its reports. */
static void ft_stage_temp(ft_ctx *c)
{
	kp_error err = {0};
	c->tmp = kp_temp_path_for(c->path);
	cr_assert_eq(kp_write_file_atomic(c->tmp, "partial\n", 8, &err), KP_OK, "%s", err.msg);
	cr_assert(kp_file_exists(c->tmp));
}

static kp_status ft_impossible(void *arg, kp_error *err)
{
	(void)err;
	ft_ctx *c = arg;
	c->reached = 1;
	void *p = kp_xmalloc(SIZE_MAX / 2);
	c->reached = 2; /* never: the allocation unwinds */
	free(p);
	return KP_OK;
}

static kp_status ft_stage_then_impossible(void *arg, kp_error *err)
{
	ft_stage_temp(arg);
	return ft_impossible(arg, err);
}

static kp_status ft_fine(void *arg, kp_error *err)
{
	ft_ctx *c = arg;
	c->reached = 1;
	return kp_fail(err, KP_ERR_INPUT, "bad input");
}

Test(nomem_guard, impossible_allocation_returns_nomem)
{
	ft_ctx c;
	ft_setup(&c);
	kp_error err = {0};
	cr_assert_eq(kp_nomem_guard(ft_impossible, &c, &err), KP_ERR_NOMEM);
	cr_assert_eq(err.status, KP_ERR_NOMEM);
	cr_assert_str_eq(err.msg, "out of memory");
	cr_assert_eq(c.reached, 1);
	ft_teardown(&c);
}

Test(nomem_guard, passes_fn_status_through)
{
	ft_ctx c;
	ft_setup(&c);
	kp_error err = {0};
	cr_assert_eq(kp_nomem_guard(ft_fine, &c, &err), KP_ERR_INPUT);
	cr_assert_str_eq(err.msg, "bad input");
	ft_teardown(&c);
}

Test(nomem_guard, unwinding_removes_uncommitted_temp_files)
{
	ft_ctx c;
	ft_setup(&c);
	kp_error err = {0};
	cr_assert_eq(kp_nomem_guard(ft_stage_then_impossible, &c, &err), KP_ERR_NOMEM);
	cr_assert_not(kp_file_exists(c.tmp), "%s left behind", c.tmp);
	cr_assert_not(kp_file_exists(c.path));
	ft_teardown(&c);
}

/* Outer: stages a temp file, runs an inner guard that runs out of memory,
 * then commits its file: the inner unwind must leave the outer's temp file
 * alone, and the outer goes on. */
static kp_status ft_outer(void *arg, kp_error *err)
{
	ft_ctx *c = arg;
	ft_stage_temp(c);
	ft_ctx inner;
	memset(&inner, 0, sizeof(inner));
	c->inner = kp_nomem_guard(ft_impossible, &inner, &c->inner_err);
	c->reached = 10 + inner.reached;
	kp_status s = kp_commit_temp(c->tmp, c->path, err);
	free(c->tmp);
	c->tmp = NULL;
	return s;
}

Test(nomem_guard, guards_nest)
{
	ft_ctx c;
	ft_setup(&c);
	kp_error err = {0};
	cr_assert_eq(kp_nomem_guard(ft_outer, &c, &err), KP_OK, "%s", err.msg);
	cr_assert_eq(c.inner, KP_ERR_NOMEM);
	cr_assert_str_eq(c.inner_err.msg, "out of memory");
	cr_assert_eq(c.reached, 11);
	cr_assert(kp_file_exists(c.path), "the outer guard's file was committed");
	ft_teardown(&c);
}

/* After an inner guard has caught one failure, the next one (in the outer
 * function) unwinds to the outer guard, not to the finished inner one. */
static kp_status ft_outer_fails_after_inner(void *arg, kp_error *err)
{
	ft_ctx *c = arg;
	ft_ctx inner;
	memset(&inner, 0, sizeof(inner));
	c->inner = kp_nomem_guard(ft_impossible, &inner, &c->inner_err);
	c->reached = 20;
	ft_stage_temp(c);
	(void)kp_xmalloc(SIZE_MAX / 2);
	c->reached = 21;
	(void)err;
	return KP_OK;
}

Test(nomem_guard, outer_guard_catches_after_inner_returned)
{
	ft_ctx c;
	ft_setup(&c);
	kp_error err = {0};
	cr_assert_eq(kp_nomem_guard(ft_outer_fails_after_inner, &c, &err), KP_ERR_NOMEM);
	cr_assert_eq(c.inner, KP_ERR_NOMEM);
	cr_assert_eq(c.reached, 20);
	cr_assert_not(kp_file_exists(c.tmp), "%s left behind", c.tmp);
	ft_teardown(&c);
}

/* Without a guard, out of memory still aborts with a message (the old
 * behaviour of the kp_x* allocators). */
Test(nomem_guard, unguarded_failure_aborts, .signal = SIGABRT, .init = cr_redirect_stderr)
{
	(void)kp_xmalloc(SIZE_MAX / 2);
}

/* A stage body that runs out of memory half way: the stage's caller gets
 * KP_ERR_NOMEM, the notes added before stay releasable. */
static kp_status ft_hungry_stage(kp_run *run, kp_error *err)
{
	(void)err;
	kp_run_note(run, KP_NOTE_INFO, "hungry: started");
	(void)kp_xmalloc(SIZE_MAX / 2);
	return KP_OK;
}

Test(nomem_guard, stage_out_of_memory_is_a_status)
{
	kp_run run;
	kp_run_init(&run, "/nonexistent", NULL, NULL, 0);
	kp_error err = {0};
	cr_assert_eq(kp_run_guarded(ft_hungry_stage, &run, &err), KP_ERR_NOMEM);
	cr_assert_str_eq(err.msg, "out of memory");
	cr_assert_eq(run.notes.len, 1);
	kp_run_release(&run);
}
