/*
 * test_selector.c - label selectors (pipeline/selector.c) parse and match
 * as kubectl's -l does, and a malformed one names the position and what was
 * expected there.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "pipeline/selector.h"
#include "fixture.h"

static const kp_kv web[] = {{"app", "web"}, {"tier", "frontend"}, {"team", "shop"}, {"replicas-hint", "3"}};
static const kp_kv db[] = {{"app", "db"}, {"tier", "backend"}, {"canary", ""}};

/* whether text matches the web labels, the db labels, and no labels at all */
static void sel_expect(const char *text, bool want_web, bool want_db, bool want_none)
{
	kp_selector s = {0};
	kp_error err = {0};
	cr_assert_eq(kp_selector_parse(text, &s, &err), KP_OK, "%s: %s", text, err.msg);
	cr_expect_eq(kp_selector_matches(&s, web, 4), want_web, "%s on web", text);
	cr_expect_eq(kp_selector_matches(&s, db, 3), want_db, "%s on db", text);
	cr_expect_eq(kp_selector_matches(&s, NULL, 0), want_none, "%s on no labels", text);
	kp_selector_release(&s);
}

static void sel_canonical(const char *text, const char *want)
{
	kp_selector s = {0};
	kp_error err = {0};
	cr_assert_eq(kp_selector_parse(text, &s, &err), KP_OK, "%s: %s", text, err.msg);
	kp_buf b;
	kp_buf_init(&b);
	kp_selector_format(&s, &b);
	cr_expect_str_eq(kp_buf_cstr(&b), want, "%s", text);
	/* the canonical text parses to the same canonical text */
	kp_selector again = {0};
	cr_assert_eq(kp_selector_parse(kp_buf_cstr(&b), &again, &err), KP_OK);
	kp_buf b2;
	kp_buf_init(&b2);
	kp_selector_format(&again, &b2);
	cr_expect_str_eq(kp_buf_cstr(&b2), want);
	kp_buf_release(&b);
	kp_buf_release(&b2);
	kp_selector_release(&s);
	kp_selector_release(&again);
}

/* text is refused with a message holding "position N" and want */
static void sel_refused(const char *text, size_t pos, const char *want)
{
	kp_selector s = {0};
	kp_error err = {0};
	cr_assert_eq(kp_selector_parse(text, &s, &err), KP_ERR_USAGE, "%s parsed", text);
	char p[32];
	snprintf(p, sizeof(p), "position %zu:", pos);
	cr_expect(strstr(err.msg, p) != NULL, "%s: \"%s\" lacks \"%s\"", text, err.msg, p);
	cr_expect(strstr(err.msg, want) != NULL, "%s: \"%s\" lacks \"%s\"", text, err.msg, want);
	cr_expect_eq(s.n, 0);
	cr_expect_null(s.reqs);
}

Test(selector, equality)
{
	sel_expect("app=web", true, false, false);
	sel_expect("app==web", true, false, false);
	sel_expect("app = web", true, false, false);
	sel_expect("app!=web", false, true, true); /* no label: != matches, as in kubectl */
	sel_expect("canary=", false, true, false); /* k= is k set to "" */
}

Test(selector, sets)
{
	sel_expect("app in (web,db)", true, true, false);
	sel_expect("app in (web)", true, false, false);
	sel_expect("app notin (web)", false, true, true);
	sel_expect("tier in ( frontend , backend )", true, true, false);
	sel_expect("app in(web)", true, false, false);
}

Test(selector, existence)
{
	sel_expect("canary", false, true, false);
	sel_expect("!canary", true, false, true);
	sel_expect("team", true, false, false);
}

Test(selector, and_of_requirements)
{
	sel_expect("app=web,tier=frontend", true, false, false);
	sel_expect("app=web,tier=backend", false, false, false);
	sel_expect("tier in (frontend,backend),!canary", true, false, false);
	sel_expect("app!=db, team", true, false, false);
}

Test(selector, integers)
{
	sel_expect("replicas-hint>2", true, false, false);
	sel_expect("replicas-hint<3", false, false, false);
	sel_expect("app>1", false, false, false); /* a non-integer label never compares */
}

Test(selector, prefixed_keys)
{
	static const kp_kv l[] = {{"app.kubernetes.io/name", "cart"}};
	kp_selector s = {0};
	kp_error err = {0};
	cr_assert_eq(kp_selector_parse("app.kubernetes.io/name=cart", &s, &err), KP_OK, "%s", err.msg);
	cr_expect(kp_selector_matches(&s, l, 1));
	kp_selector_release(&s);
}

Test(selector, canonical_text)
{
	sel_canonical("app == web", "app=web");
	sel_canonical(" tier in ( a , b ) , !canary,team ", "tier in (a,b),!canary,team");
	sel_canonical("app notin (x)", "app notin (x)");
	sel_canonical("n>3,m<4,k!=v", "n>3,m<4,k!=v");
}

Test(selector, malformed_names_the_position)
{
	sel_refused("", 1, "expected a label requirement");
	sel_refused("   ", 4, "expected a label requirement");
	sel_refused("app=web,", 9, "expected a label key");
	sel_refused("app in web", 8, "expected \"(\"");
	sel_refused("app in (a", 10, "expected \",\" or \")\"");
	sel_refused("app in (a b)", 11, "expected \",\" or \")\"");
	sel_refused("app web", 5, "expected an operator");
	sel_refused("=web", 1, "expected a label key");
	sel_refused("!", 2, "expected a label key after \"!\"");
	sel_refused("app=web=x", 8, "expected \",\" or the end");
	sel_refused("app=(x)", 5, "expected a label value");
	sel_refused("n>x", 3, "expected an integer");
	sel_refused("n>", 3, "expected an integer");
	sel_refused("!app=web", 5, "expected \",\" or the end");
}

Test(selector, invalid_keys_and_values)
{
	sel_refused("-app=web", 1, "label key \"-app\"");
	sel_refused("app=we$b", 5, "label value \"we$b\"");
	sel_refused("app in (ok,-bad)", 12, "label value \"-bad\"");
	char longv[80];
	memset(longv, 'a', 70);
	longv[70] = '\0';
	char text[100];
	snprintf(text, sizeof(text), "app=%s", longv);
	sel_refused(text, 5, "label value");
}

/* ---- the selector applied to findings (stages/analyze/scope.c) ---- */

/* An old Bound PVC no pod mounts (an orphaned-pvc finding) with labels. */
static char *sel_pvc(const char *name, const char *labels)
{
	return kp_xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"%s\","
			    "\"namespace\":\"shop\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\",\"labels\":{%s}},"
			    "\"spec\":{\"resources\":{\"requests\":{\"storage\":\"10Gi\"}},\"volumeName\":\"pv-%s\"},"
			    "\"status\":{\"phase\":\"Bound\",\"capacity\":{\"storage\":\"10Gi\"}}}",
			    name, labels, name);
}

Test(selector, scope_keeps_findings_whose_resource_labels_match)
{
	kp_fixture fx;
	fx_init(&fx, "selector", "manual");
	char *a = sel_pvc("cache-a", "\"team\":\"shop\",\"app.kubernetes.io/name\":\"cart\"");
	char *b = sel_pvc("cache-b", "\"team\":\"ml\"");
	char *c = sel_pvc("cache-c", "");
	char *all = kp_xasprintf("%s,%s,%s", a, b, c);
	fx_list(&fx, "persistentvolumeclaims", all);
	free(a), free(b), free(c), free(all);
	struct {
		const char *sel;
		size_t kept, dropped;
		const char *first;
	} cases[] = {
		{"team=shop", 1, 2, "cache-a"},
		{"team!=shop", 2, 1, "cache-b"},    /* cache-c has no team: != keeps it */
		{"!team", 1, 2, "cache-c"},
		{"team in (shop,ml)", 2, 1, "cache-a"},
		{"app.kubernetes.io/name=cart,team", 1, 2, "cache-a"},
		{"team=nobody", 0, 3, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx_run(&fx, "2026-11-25T06:00:00Z", NULL);
		cr_assert_eq(fx.out.items.len, 3, "three orphaned PVCs before the selector");
		kp_selector s = {0};
		kp_error err = {0};
		cr_assert_eq(kp_selector_parse(cases[i].sel, &s, &err), KP_OK, "%s", err.msg);
		size_t dropped = kp_scope_selector(&fx.out, &fx.cluster, &s);
		cr_expect_eq(dropped, cases[i].dropped, "%s: dropped %zu", cases[i].sel, dropped);
		cr_expect_eq(fx.out.items.len, cases[i].kept, "%s: kept %zu", cases[i].sel, fx.out.items.len);
		if (cases[i].first && fx.out.items.len)
			cr_expect_str_eq(fx.out.items.items[0].name, cases[i].first, "%s", cases[i].sel);
		kp_selector_release(&s);
		fx_unload(&fx);
	}
	/* no selector keeps everything */
	fx_run(&fx, "2026-11-25T06:00:00Z", NULL);
	cr_expect_eq(kp_scope_selector(&fx.out, &fx.cluster, NULL), 0);
	cr_expect_eq(fx.out.items.len, 3);
	fx_fini(&fx);
}
