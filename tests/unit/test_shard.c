/*
 * test_shard.c - the namespace-to-shard function (its published values:
 * FNV-1a 64 test vectors, so another implementation can check itself) and
 * --shard's value, good forms and bad.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cmd.h"
#include "pipeline/shard.h"

Test(shard, fnv1a64_test_vectors)
{
	/* the reference values of FNV-1a 64 (offset basis, "a", "foobar") */
	cr_expect_eq(kp_fnv1a64("", 0, KP_FNV_SEED), 0xcbf29ce484222325ULL);
	cr_expect_eq(kp_fnv1a64("a", 1, KP_FNV_SEED), 0xaf63dc4c8601ec8cULL);
	cr_expect_eq(kp_fnv1a64("foobar", 6, KP_FNV_SEED), 0x85944171f73967e8ULL);
	cr_expect_eq(kp_fnv1a64("kube-system", 11, KP_FNV_SEED), 0xdf65c7bc1d82b35eULL);
}

Test(shard, owner_is_the_hash_modulo_n)
{
	/* 0xdf65c7bc1d82b35e % 4 = 2, % 7 = 1; 0x42fbb229c28a2459 % 4 = 1, % 7 = 2 */
	cr_expect_eq(kp_shard_of("kube-system", 4), 2);
	cr_expect_eq(kp_shard_of("kube-system", 7), 1);
	cr_expect_eq(kp_shard_of("checkout", 4), 1);
	cr_expect_eq(kp_shard_of("checkout", 7), 2);
	cr_expect_eq(kp_shard_of("payments-batch", 4), 3);
	/* cluster-scoped objects and one shard: shard 0 */
	cr_expect_eq(kp_shard_of(NULL, 4), 0);
	cr_expect_eq(kp_shard_of("checkout", 1), 0);
	cr_expect_eq(kp_shard_of("checkout", 0), 0);
	/* every name lands in range, and the shards are all used */
	unsigned seen[5] = {0};
	char ns[32];
	for (int i = 0; i < 200; i++) {
		snprintf(ns, sizeof(ns), "team-%d", i);
		unsigned s = kp_shard_of(ns, 5);
		cr_assert_lt(s, 5u);
		seen[s]++;
	}
	for (int s = 0; s < 5; s++)
		cr_expect_gt(seen[s], 20u, "shard %d got %u of 200 namespaces", s, seen[s]);
}

Test(shard, parse_good_forms)
{
	unsigned i = 99, n = 99;
	kp_error err = {0};
	cr_assert_eq(kp_shard_parse("0/4", NULL, &i, &n, &err), KP_OK);
	cr_expect_eq(i, 0);
	cr_expect_eq(n, 4);
	cr_assert_eq(kp_shard_parse("3/4", NULL, &i, &n, &err), KP_OK);
	cr_expect_eq(i, 3);
	cr_assert_eq(kp_shard_parse("0/1", NULL, &i, &n, &err), KP_OK);
	cr_expect_eq(n, 1);
	cr_assert_eq(kp_shard_parse("auto/8", "5", &i, &n, &err), KP_OK);
	cr_expect_eq(i, 5);
	cr_expect_eq(n, 8);
	cr_assert_eq(kp_shard_parse("9999/10000", NULL, &i, &n, &err), KP_OK);
}

Test(shard, parse_bad_forms)
{
	static const struct {
		const char *text, *job_index, *says;
	} bad[] = {
		{"4/4", NULL, "not below"},     {"1", NULL, "expected I/N"},   {"", NULL, "expected I/N"},
		{"/4", NULL, "index"},          {"1/", NULL, "number of shards"}, {"0/0", NULL, "1 to"},
		{"-1/4", NULL, "index"},        {"+1/4", NULL, "index"},       {"1/4x", NULL, "number of shards"},
		{"1.0/4", NULL, "index"},       {" 1/4", NULL, "index"},        {"0/10001", NULL, "1 to"},
		{"0/99999999999", NULL, "number of shards"},
		{"auto/4", NULL, "JOB_COMPLETION_INDEX"}, {"auto/4", "", "JOB_COMPLETION_INDEX"},
		{"auto/4", "x", "JOB_COMPLETION_INDEX"},  {"auto/4", "4", "not below"},
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		unsigned i = 0, n = 0;
		kp_error err = {0};
		cr_expect_eq(kp_shard_parse(bad[k].text, bad[k].job_index, &i, &n, &err), KP_ERR_USAGE, "\"%s\" accepted",
			     bad[k].text);
		cr_expect(strstr(err.msg, bad[k].says) != NULL, "\"%s\": \"%s\" does not say %s", bad[k].text, err.msg,
			  bad[k].says);
	}
}

Test(shard, the_flag_parses_and_refuses, .init = cr_redirect_stderr)
{
	kp_opts o;
	memset(&o, 0, sizeof(o));
	char *good[] = {"--shard", "2/5", NULL};
	cr_assert(kp_parse_flags("run", 2, good, kp_command_flags("run"), 0, &o));
	cr_expect_eq(o.shard_index, 2);
	cr_expect_eq(o.shard_count, 5);
	kp_opts_release(&o);
	memset(&o, 0, sizeof(o));
	char *bad[] = {"--shard=5/5", NULL};
	cr_expect(!kp_parse_flags("run", 1, bad, kp_command_flags("run"), 0, &o));
	kp_opts_release(&o);
	/* analyze does not take it: a shard is cut by kopilot run */
	memset(&o, 0, sizeof(o));
	cr_expect(!kp_parse_flags("analyze", 2, good, kp_command_flags("analyze"), 0, &o));
	kp_opts_release(&o);
}

/* ---- the cut (stages/analyze/scope.c) and history ---- */

#include "stages/analyze/analyze.h"
#include "stages/recommend/history.h"

Test(shard, cut_keeps_its_namespaces_and_records_positions)
{
	/* with 4 shards: checkout -> 1, payments-batch -> 3, kube-system -> 2 */
	kp_findings f;
	kp_findings_init(&f);
	kp_findings_add(&f, KP_CAT_ORPHANED_PVC, "v1", "PersistentVolumeClaim", "checkout", "a", NULL);
	kp_findings_add(&f, KP_CAT_UNBOUND_PV, "v1", "PersistentVolume", NULL, "pv-1", NULL);
	kp_findings_add(&f, KP_CAT_ORPHANED_PVC, "v1", "PersistentVolumeClaim", "payments-batch", "b", NULL);
	kp_findings_add(&f, KP_CAT_ORPHANED_PVC, "v1", "PersistentVolumeClaim", "checkout", "c", NULL);
	kp_findings_skip(&f, "apps/v1", "Deployment", "payments-batch", "x", "reason %d", 0);
	kp_findings_skip(&f, "apps/v1", "Deployment", "checkout", "y", "reason %d", 1);
	kp_findings_skip(&f, "v1", "Node", NULL, "n", "reason %d", 2);
	kp_findings_skip(&f, "apps/v1", "Deployment", "checkout", "z", "reason %d", 3);
	kp_cluster c;
	kp_cluster_init(&c);
	kp_cluster_add_missing(&c, "metrics", "checkout", NULL, NULL, "r0", "s0");
	kp_cluster_add_missing(&c, "pods", NULL, NULL, NULL, "r1", "s1"); /* cluster-wide: every shard's */
	kp_cluster_add_missing(&c, "metrics", "kube-system", NULL, NULL, "r2", "s2");
	json_object *pos = json_object_new_object();
	size_t went = kp_scope_shard(&f, &c, 1, 4, pos);
	cr_assert_eq(f.items.len, 2);
	cr_expect_str_eq(f.items.items[0].name, "a");
	cr_expect_str_eq(f.items.items[1].name, "c", "order kept");
	cr_assert_eq(f.skipped.len, 2);
	cr_expect_str_eq(json_object_to_json_string_ext(kp_json_get(pos, "skipped"), JSON_C_TO_STRING_PLAIN), "[1,3]");
	cr_expect_eq(went, 1);
	cr_assert_eq(c.missing.len, 2);
	cr_expect_str_eq(c.missing.items[1].summary, "s1");
	cr_expect_str_eq(json_object_to_json_string_ext(kp_json_get(pos, "missing"), JSON_C_TO_STRING_PLAIN), "[0,1]");
	json_object_put(pos);
	kp_findings_release(&f);
	kp_cluster_release(&c);
}

Test(shard, cut_zero_owns_the_cluster_scoped)
{
	kp_findings f;
	kp_findings_init(&f);
	kp_findings_add(&f, KP_CAT_ORPHANED_PVC, "v1", "PersistentVolumeClaim", "checkout", "a", NULL);
	kp_findings_add(&f, KP_CAT_UNBOUND_PV, "v1", "PersistentVolume", NULL, "pv-1", NULL);
	kp_findings_add(&f, KP_CAT_UNDERUTILIZED_NODE, "v1", "Node", NULL, "node-1", NULL);
	kp_cluster c;
	kp_cluster_init(&c);
	json_object *pos = json_object_new_object();
	kp_scope_shard(&f, &c, 0, 4, pos);
	cr_assert_eq(f.items.len, 2);
	cr_expect_str_eq(f.items.items[0].name, "pv-1");
	cr_expect_str_eq(f.items.items[1].name, "node-1");
	json_object_put(pos);
	kp_findings_release(&f);
	kp_cluster_release(&c);
}

static json_object *finding_doc(const char *id, const char *ns)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, "id", json_object_new_string(id));
	json_object_object_add(f, "category", json_object_new_string("orphaned-pvc"));
	json_object *r = json_object_new_object();
	json_object_object_add(r, "namespace", ns ? json_object_new_string(ns) : NULL);
	json_object_object_add(r, "name", json_object_new_string(id));
	json_object_object_add(f, "resource", r);
	json_object_object_add(f, "monthly_savings", json_object_new_double(1));
	return f;
}

Test(shard, history_of_a_shard_resolves_only_its_own)
{
	/* the previous run had one finding in each of shards 1, 3 and 0
	 * (cluster-scoped); shard 1 of this run finds none of them */
	json_object *prev = json_object_new_object(), *old = json_object_new_array();
	json_object_object_add(prev, "generated_at", json_object_new_string("2026-11-24T06:00:00Z"));
	json_object_array_add(old, finding_doc("aaaaaaaaaaaaaaaa", "checkout"));
	json_object_array_add(old, finding_doc("bbbbbbbbbbbbbbbb", "payments-batch"));
	json_object_array_add(old, finding_doc("cccccccccccccccc", NULL));
	json_object_object_add(prev, "findings", old);
	json_object *doc = json_object_new_object();
	json_object_object_add(doc, "generated_at", json_object_new_string("2026-11-25T06:00:00Z"));
	json_object_object_add(doc, "findings", json_object_new_array());
	json_object *scope = json_object_new_object(), *sh = json_object_new_object();
	json_object_object_add(scope, "namespaces", NULL);
	json_object_object_add(sh, "index", json_object_new_int(1));
	json_object_object_add(sh, "count", json_object_new_int(4));
	json_object_object_add(scope, "shard", sh);
	json_object_object_add(doc, "scope", scope);
	kp_history_apply(doc, prev, "prev");
	cr_expect_eq(json_object_get_int64(kp_json_get(doc, "changes.resolved")), 1);
	cr_expect_str_eq(kp_json_str(json_object_array_get_idx(kp_json_get(doc, "changes.resolved_findings"), 0), "id"),
			 "aaaaaaaaaaaaaaaa");
	/* without the shard, all three are resolved */
	json_object_object_del(scope, "shard");
	kp_history_apply(doc, prev, "prev");
	cr_expect_eq(json_object_get_int64(kp_json_get(doc, "changes.resolved")), 3);
	json_object_put(doc);
	json_object_put(prev);
}
