/*
 * test_runtime.c - the memory a container's runtime may take, read from its
 * command, args and environment in the spellings each runtime accepts
 * (stages/collect/runtime.c).
 */
#include <criterion/criterion.h>

#include <string.h>

#include "pipeline/model.h"
#include "stages/collect/runtime.h"

#define MI (1024LL * 1024)

static kp_runtime_mem rt(const char *const *cmd, const char *const *args, const char *n1, const char *v1)
{
	kp_runtime_mem r;
	const char *names[] = {"PATH", n1}, *values[] = {"/usr/bin", v1};
	kp_runtime_memory(cmd, args, names, values, n1 ? 2 : 1, &r);
	return r;
}

Test(runtime, jvm_heap_in_every_place_and_spelling)
{
	static const struct {
		const char *cmd, *arg, *env, *val;
		int64_t heap;
		const char *setting;
	} cases[] = {
		{"java", "-Xmx3g", NULL, NULL, 3072 * MI, "-Xmx3g in the args"},
		{"java", "-Xmx3G", NULL, NULL, 3072 * MI, "-Xmx3G in the args"},
		{"java", "-Xmx512m", NULL, NULL, 512 * MI, "-Xmx512m in the args"},
		{"java", "-Xmx1048576k", NULL, NULL, 1024 * MI, "-Xmx1048576k in the args"},
		{"java", "-Xmx2147483648", NULL, NULL, 2048 * MI, "-Xmx2147483648 in the args"},
		{"java", "-XX:MaxHeapSize=2g", NULL, NULL, 2048 * MI, "-XX:MaxHeapSize=2g in the args"},
		{"/bin/sh", "-c \"exec java -Xms1g -Xmx2g -jar /app.jar\"", NULL, NULL, 2048 * MI, "-Xmx2g in the args"},
		{"java", "-jar", "JAVA_TOOL_OPTIONS", "-XX:+UseG1GC -Xmx4g", 4096 * MI, "-Xmx4g in env JAVA_TOOL_OPTIONS"},
		{"java", "-jar", "JDK_JAVA_OPTIONS", "-Xmx1g", 1024 * MI, "-Xmx1g in env JDK_JAVA_OPTIONS"},
		{"catalina.sh", "run", "CATALINA_OPTS", "-Xmx768m", 768 * MI, "-Xmx768m in env CATALINA_OPTS"},
		{"elasticsearch", "", "ES_JAVA_OPTS", "-Xms8g -Xmx8g", 8192 * MI, "-Xmx8g in env ES_JAVA_OPTS"},
		{"node", "--max-old-space-size=2048 server.js", NULL, NULL, 2048 * MI, "--max-old-space-size=2048 in the args"},
		{"node", "server.js", "NODE_OPTIONS", "--max_old_space_size=1536", 1536 * MI,
		 "--max_old_space_size=1536 in env NODE_OPTIONS"},
		{"/app", "", "GOMEMLIMIT", "900MiB", 900 * MI, "GOMEMLIMIT=900MiB in env"},
		{"/app", "", "GOMEMLIMIT", "2GiB", 2048 * MI, "GOMEMLIMIT=2GiB in env"},
		{"/app", "", "GOMEMLIMIT", "104857600", 100 * MI, "GOMEMLIMIT=104857600 in env"},
		{"dotnet", "app.dll", "DOTNET_GCHeapHardLimit", "0xC800000", 200 * MI, "DOTNET_GCHeapHardLimit=0xC800000 in env"},
		{"dotnet", "app.dll", "COMPlus_GCHeapHardLimit", "C800000", 200 * MI, "COMPlus_GCHeapHardLimit=C800000 in env"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *cmd[] = {cases[i].cmd, NULL}, *args[] = {cases[i].arg, NULL};
		kp_runtime_mem r = rt(cmd, args, cases[i].env, cases[i].val);
		cr_expect_eq(r.heap_b, cases[i].heap, "%zu: %lld", i, (long long)r.heap_b);
		cr_expect_str_eq(r.setting, cases[i].setting, "%zu", i);
	}
}

Test(runtime, percentages_of_the_limit_and_what_is_not_a_setting)
{
	const char *cmd[] = {"java", NULL}, *args[] = {"-XX:MaxRAMPercentage=75.0 -jar app.jar", NULL};
	kp_runtime_mem r = rt(cmd, args, NULL, NULL);
	cr_expect_eq(r.heap_b, 0);
	cr_expect_float_eq(r.heap_pct, 75.0, 1e-9);
	cr_expect_eq(kp_runtime_heap(&r, 4096 * MI), 3072 * MI);
	cr_expect_eq(kp_runtime_heap(&r, KP_UNSET), -1, "a percentage of no limit: unbounded");
	const char *a2[] = {"-XX:MaxRAMFraction=2", NULL};
	r = rt(cmd, a2, NULL, NULL);
	cr_expect_float_eq(r.heap_pct, 50.0, 1e-9);
	r = rt(cmd, NULL, "DOTNET_GCHeapHardLimitPercent", "0x32");
	cr_expect_float_eq(r.heap_pct, 50.0, 1e-9);
	/* the largest counts: bytes and a percentage of a big limit */
	const char *a3[] = {"-Xmx1g -XX:MaxRAMPercentage=50", NULL};
	r = rt(cmd, a3, NULL, NULL);
	cr_expect_eq(kp_runtime_heap(&r, 8192 * MI), 4096 * MI);
	cr_expect_eq(kp_runtime_heap(&r, 1024 * MI), 1024 * MI);
	/* not settings: other variables, GOMEMLIMIT off, a bad unit, Xms */
	static const char *const nots[][2] = {{"GOMEMLIMIT", "off"}, {"GOMEMLIMIT", "1GB"}, {"JAVA_HOME", "-Xmx1g"},
					      {"JAVA_OPTS", "-Xms2g"}, {"JAVA_OPTS", "-Xmx2q"}, {"NODE_OPTIONS", "--max-old-space-size=1g"}};
	for (size_t i = 0; i < 6; i++) {
		r = rt(NULL, NULL, nots[i][0], nots[i][1]);
		cr_expect_eq(r.heap_b, 0, "%s=%s", nots[i][0], nots[i][1]);
		cr_expect_eq(r.heap_pct, 0, "%s=%s", nots[i][0], nots[i][1]);
		cr_expect_str_eq(r.setting, "");
	}
}
