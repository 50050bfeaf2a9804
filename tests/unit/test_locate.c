/*
 * test_locate.c - finding the one document that declares an object in a
 * repository of manifests (stages/render/gitops/locate.c), with kustomize
 * namespaces, and saying why when there is none to edit.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/tmpdir.h"
#include "stages/render/gitops/locate.h"

static char root[64];

static void put(const char *rel, const char *text) { tmpdir_put(root, rel, text); }

static void setup(void) { tmpdir_make(root, "locate"); }

static void teardown(void) { kp_remove_tree(root); }

static kp_manifests *scan(void)
{
	kp_manifests *m = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_manifests_scan(root, &m, &err), KP_OK, "%s", err.msg);
	return m;
}

#define DEPLOY(name, ns) "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " name "\n" ns "spec: {}\n"

TestSuite(locate, .init = setup, .fini = teardown);

Test(locate, plain_files_by_kind_namespace_and_name)
{
	put("apps/cart.yaml", "kind: Service\nmetadata:\n  name: cart\n  namespace: shop\n---\n" DEPLOY("cart",
												  "  namespace: shop\n"));
	put("apps/other.yml", DEPLOY("cart", "  namespace: staging\n"));
	put(".git/config.yaml", DEPLOY("cart", "  namespace: shop\n")); /* never read */
	put("chart/templates/d.yaml", "kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n");
	kp_manifests *m = scan();
	kp_manifest_loc loc;
	char *why = NULL;
	cr_assert(kp_manifests_find(m, "Deployment", "shop", "cart", &loc, &why), "%s", why);
	cr_expect_str_eq(loc.file, "apps/cart.yaml");
	cr_expect_eq(loc.doc, 1);
	cr_expect_eq(loc.line, 6);
	cr_expect_str_eq(loc.how, "namespace from the document");
	kp_manifests_stats st = kp_manifests_get_stats(m);
	cr_expect_eq(st.files, 3);
	cr_expect_eq(st.templates, 1);
	cr_expect(!kp_manifests_find(m, "Deployment", "shop", "nosuch", &loc, &why));
	cr_expect(strstr(why, "not declared in any manifest") && strstr(why, "1 template not read"), "%s", why);
	free(why);
	kp_manifests_free(m);
}

Test(locate, declared_twice_is_not_guessed)
{
	put("a.yaml", DEPLOY("cart", "  namespace: shop\n"));
	put("b/c.yaml", DEPLOY("cart", "  namespace: shop\n"));
	kp_manifests *m = scan();
	kp_manifest_loc loc;
	char *why = NULL;
	cr_expect(!kp_manifests_find(m, "Deployment", "shop", "cart", &loc, &why));
	cr_expect(strstr(why, "declared in 2 places") != NULL, "%s", why);
	free(why);
	kp_manifests_free(m);
}

Test(locate, no_namespace_in_the_file_matches_when_alone)
{
	put("d.yaml", DEPLOY("cart", ""));
	kp_manifests *m = scan();
	kp_manifest_loc loc;
	char *why = NULL;
	cr_assert(kp_manifests_find(m, "Deployment", "shop", "cart", &loc, &why), "%s", why);
	cr_expect(strstr(loc.how, "no namespace") != NULL);
	kp_manifests_free(m);
}

Test(locate, kustomize_overlay_namespace_wins_and_shared_bases_are_refused)
{
	put("base/deploy.yaml", DEPLOY("cart", "  namespace: default\n"));
	put("base/kustomization.yaml", "resources:\n- deploy.yaml\n");
	put("overlays/prod/kustomization.yaml", "namespace: prod\nresources:\n- ../../base\n");
	kp_manifests *m = scan();
	kp_manifest_loc loc;
	char *why = NULL;
	cr_assert(kp_manifests_find(m, "Deployment", "prod", "cart", &loc, &why), "%s", why);
	cr_expect_str_eq(loc.file, "base/deploy.yaml");
	cr_expect_str_eq(loc.how, "namespace prod from overlays/prod/kustomization.yaml");
	cr_expect(!kp_manifests_find(m, "Deployment", "default", "cart", &loc, &why), "the base alone is not applied");
	free(why);
	kp_manifests_free(m);
	/* a second overlay renders the same base: editing it would change both */
	put("overlays/staging/kustomization.yaml", "namespace: staging\nresources:\n- ../../base\n");
	m = scan();
	cr_expect(!kp_manifests_find(m, "Deployment", "prod", "cart", &loc, &why));
	cr_expect(strstr(why, "shared kustomize base") && strstr(why, "staging"), "%s", why);
	free(why);
	kp_manifests_free(m);
}

Test(locate, unreadable_files_are_counted_not_fatal)
{
	put("bad.yaml", "kind: [unclosed\n");
	put("ok.yaml", DEPLOY("cart", "  namespace: shop\n"));
	kp_manifests *m = scan();
	kp_manifests_stats st = kp_manifests_get_stats(m);
	cr_expect_eq(st.unreadable, 1);
	cr_expect(strstr(st.first_unreadable, "bad.yaml") != NULL, "%s", st.first_unreadable);
	kp_manifest_loc loc;
	char *why = NULL;
	cr_expect(kp_manifests_find(m, "Deployment", "shop", "cart", &loc, &why));
	kp_manifests_free(m);
}
