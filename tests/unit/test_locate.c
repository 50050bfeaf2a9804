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

#define DEPLOY_C(name)                                                                                       \
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " name "\nspec:\n  template:\n    spec:\n" \
	"      containers:\n      - name: app\n        resources:\n          requests:\n            cpu: 1\n"

static bool locate(kp_manifests *m, const char *ns, const char *name, const char *argo, const char *flux,
		   kp_manifest_loc *loc, char **why)
{
	kp_manifest_query q = {"Deployment", ns, name, "app", argo, flux, NULL};
	return kp_manifests_locate(m, &q, loc, why);
}

Test(locate, an_overlay_patch_that_sets_resources_is_edited_not_the_base)
{
	put("base/kustomization.yaml", "resources:\n- app.yaml\n");
	put("base/app.yaml", DEPLOY_C("app"));
	put("prod/kustomization.yaml", "namespace: prod\nresources:\n- ../base\npatches:\n- path: res.yaml\n");
	put("prod/res.yaml", DEPLOY_C("app"));
	put("staging/kustomization.yaml", "namespace: staging\nresources:\n- ../base\n");
	kp_manifests *m = scan();
	kp_manifest_loc loc;
	char *why = NULL;
	cr_assert(locate(m, "prod", "app", NULL, NULL, &loc, &why), "%s", why);
	cr_expect_eq(loc.mode, KP_LOC_EDIT);
	cr_expect_str_eq(loc.file, "prod/res.yaml");
	cr_expect(strstr(loc.how, "the patch prod/res.yaml:1 of prod/kustomization.yaml") != NULL, "%s", loc.how);
	/* staging has no patch and shares the base: a new patch for staging */
	cr_assert(locate(m, "staging", "app", NULL, NULL, &loc, &why), "%s", why);
	cr_expect_eq(loc.mode, KP_LOC_ADD_PATCH);
	cr_expect_str_eq(loc.file, "base/app.yaml");
	cr_expect_str_eq(loc.kust_file, "staging/kustomization.yaml");
	cr_expect_str_eq(loc.new_file, "staging/kopilot-deployment-app.yaml");
	/* the object alone (an HPA's lookup) is still not guessed */
	cr_expect(!kp_manifests_find(m, "Deployment", "staging", "app", &loc, &why));
	cr_expect(strstr(why, "shared kustomize base") != NULL, "%s", why);
	free(why);
	kp_manifests_free(m);
}

Test(locate, json6902_and_inline_patches_on_resources_are_refused)
{
	put("base/kustomization.yaml", "resources:\n- app.yaml\n");
	put("base/app.yaml", DEPLOY_C("app"));
	put("a/kustomization.yaml", "namespace: a\nresources:\n- ../base\npatches:\n- target: {kind: Deployment, name: app}\n"
				    "  patch: |-\n    - op: replace\n      path: /spec/template/spec/containers/0/resources/requests/cpu\n"
				    "      value: 2\n");
	put("b/kustomization.yaml", "namespace: b\nresources:\n- ../base\npatchesStrategicMerge:\n- |-\n"
				    "  apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: app\n  spec:\n"
				    "    template:\n      spec:\n        containers:\n        - name: app\n          resources:\n"
				    "            limits: {cpu: 2}\n");
	kp_manifests *m = scan();
	kp_manifest_loc loc;
	char *why = NULL;
	cr_expect(!locate(m, "a", "app", NULL, NULL, &loc, &why));
	cr_expect(strstr(why, "JSON 6902 patch in a/kustomization.yaml") != NULL, "%s", why);
	free(why);
	cr_expect(!locate(m, "b", "app", NULL, NULL, &loc, &why));
	cr_expect(strstr(why, "inline patch in b/kustomization.yaml") != NULL, "%s", why);
	free(why);
	kp_manifests_free(m);
}

Test(locate, gitops_origin_picks_the_cluster_and_a_marker_wins)
{
	/* the same Deployment for two clusters: ambiguous without the origin */
	put("clusters/prod/app.yaml", DEPLOY_C("app"));
	put("clusters/staging/app.yaml", DEPLOY_C("app"));
	put("argocd/apps.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: app-prod\n"
				"spec:\n  source:\n    path: clusters/prod\n  destination:\n    namespace: shop\n---\n"
				"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: stg\n"
				"  namespace: flux-system\nspec:\n  path: ./clusters/staging\n  targetNamespace: shop\n");
	kp_manifests *m = scan();
	kp_manifest_loc loc;
	char *why = NULL;
	cr_expect(!locate(m, "shop", "app", NULL, NULL, &loc, &why));
	cr_expect(strstr(why, "several times without one") != NULL, "%s", why);
	free(why);
	cr_assert(locate(m, "shop", "app", "app-prod", NULL, &loc, &why), "%s", why);
	cr_expect_str_eq(loc.file, "clusters/prod/app.yaml");
	cr_expect(strstr(loc.how, "Argo CD Application app-prod applies clusters/prod") != NULL, "%s", loc.how);
	cr_assert(locate(m, "shop", "app", NULL, "flux-system/stg", &loc, &why), "%s", why);
	cr_expect_str_eq(loc.file, "clusters/staging/app.yaml");
	cr_expect(!locate(m, "shop", "app", "nosuch", NULL, &loc, &why));
	cr_expect(strstr(why, "Argo CD Application nosuch is not in the repository") != NULL, "%s", why);
	free(why);
	kp_manifests_free(m);
	/* a marker in a values file says where, whatever else there is */
	put("values/prod.yaml", "replicas: 2\n# kopilot: resources Deployment shop/app app\nresources:\n  requests:\n"
				"    cpu: 1\n");
	m = scan();
	cr_assert(locate(m, "shop", "app", NULL, NULL, &loc, &why), "%s", why);
	cr_expect_eq(loc.mode, KP_LOC_MARKED);
	cr_expect_str_eq(loc.file, "values/prod.yaml");
	cr_expect_eq(loc.at_line, 3);
	kp_manifests_free(m);
}
