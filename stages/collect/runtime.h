/*
 * runtime.h - how much memory a container's language runtime is allowed to
 * take, as its own settings say (issue 21: a JVM given a maximum heap grows
 * to it whatever the working set looked like over the window).
 *
 * Read where people put them: the container's command and args (each arg
 * split on whitespace too, so `sh -c "java -Xmx2g -jar app.jar"` counts)
 * and the environment variables each runtime reads:
 *   JVM      -Xmx<N>[kKmMgGtT], -XX:MaxHeapSize=<N>[unit], -XX:MaxRAMPercentage=<P>,
 *            -XX:MaxRAMFraction=<F> (heap = limit / F); in command, args and
 *            JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS, _JAVA_OPTIONS, JAVA_OPTS,
 *            JAVA_OPTIONS, CATALINA_OPTS, JVM_OPTS, ES_JAVA_OPTS
 *   Node.js  --max-old-space-size=<MiB> (or --max_old_space_size) in command,
 *            args and NODE_OPTIONS
 *   Go       GOMEMLIMIT=<N>[B|KiB|MiB|GiB|TiB] ("off": none)
 *   .NET     DOTNET_GCHeapHardLimit / COMPlus_GCHeapHardLimit (hex bytes),
 *            DOTNET_GCHeapHardLimitPercent / COMPlus_GCHeapHardLimitPercent (hex)
 * Python has no heap ceiling to read. Where several settings are found the
 * largest heap counts (the safe side): bytes, or a percentage of the
 * container's memory limit.
 */
#ifndef KP_RUNTIME_H
#define KP_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	int64_t heap_b;	   /* bytes the runtime may take, 0: none found */
	double heap_pct;   /* percent of the memory limit, 0: none found */
	char setting[160]; /* "-Xmx3g in env JAVA_TOOL_OPTIONS", "" when none */
	int found;	   /* settings read (kp_runtime_env_keep counts with it) */
} kp_runtime_mem;

/* argv: command then args (NULL-terminated lists, either may be NULL);
 * env: name/value pairs. */
void kp_runtime_memory(const char *const *command, const char *const *args, const char *const *env_names,
		       const char *const *env_values, size_t nenv, kp_runtime_mem *out);

/* Whether env var name is one a runtime reads memory settings from. */
bool kp_runtime_env_var(const char *name, size_t len);
/* The memory settings alone of such a variable's value (what the redacted
 * copy of a snapshot keeps of it, so it loads with the same heap): the
 * tokens kp_runtime_memory reads, space-separated, into out (NUL-ended);
 * "" when there are none. */
void kp_runtime_env_keep(const char *name, size_t name_len, const char *value, size_t len, char *out, size_t n);

/* The heap the runtime may take with a memory limit of limit_b bytes
 * (KP_UNSET or <= 0: none): the larger of bytes and percentage; -1 when
 * a percentage is set and there is no limit (a share of the node's
 * memory: unbounded). */
int64_t kp_runtime_heap(const kp_runtime_mem *r, int64_t limit_b);

#endif
