/*
 * shard.c - the namespace-to-shard function and --shard's value; see
 * shard.h. No state: pure functions of their arguments.
 */
#include "pipeline/shard.h"

#include <string.h>

unsigned kp_shard_of(const char *ns, unsigned count)
{
	if (!ns || count < 2)
		return 0;
	return (unsigned)(kp_fnv1a64(ns, strlen(ns), KP_FNV_SEED) % count);
}

/* A decimal number of at most 5 digits with nothing around it: "+3",
 * " 3", "3.0" and "03x" are refused rather than read as something. */
static bool decimal(const char *s, size_t n, unsigned *out)
{
	if (n == 0 || n > 5)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

kp_status kp_shard_parse(const char *text, const char *job_index, unsigned *index, unsigned *count, kp_error *err)
{
	const char *slash = text ? strchr(text, '/') : NULL;
	if (!slash)
		return kp_fail(err, KP_ERR_USAGE, "expected I/N (this shard's index from 0 and the number of shards, "
						  "e.g. 0/4), or auto/N");
	unsigned n = 0, i = 0;
	if (!decimal(slash + 1, strlen(slash + 1), &n))
		return kp_fail(err, KP_ERR_USAGE, "the number of shards after '/' is not a whole number");
	if (n < 1 || n > KP_SHARD_MAX)
		return kp_fail(err, KP_ERR_USAGE, "the number of shards must be 1 to %d, not %u", KP_SHARD_MAX, n);
	size_t il = (size_t)(slash - text);
	if (il == 4 && strncmp(text, "auto", 4) == 0) {
		/* a Kubernetes Indexed Job sets it in every pod */
		if (!job_index || !*job_index)
			return kp_fail(err, KP_ERR_USAGE, "auto/%u takes the index from JOB_COMPLETION_INDEX, which is "
							  "not set (it is set in the pods of an Indexed Job)", n);
		if (!decimal(job_index, strlen(job_index), &i))
			return kp_fail(err, KP_ERR_USAGE, "JOB_COMPLETION_INDEX is not a whole number");
	} else if (!decimal(text, il, &i)) {
		return kp_fail(err, KP_ERR_USAGE, "the shard's index before '/' is not a whole number (or auto)");
	}
	if (i >= n)
		return kp_fail(err, KP_ERR_USAGE, "the shard's index %u is not below the number of shards %u (indexes "
						  "count from 0: 0/%u to %u/%u)", i, n, n, n - 1, n);
	*index = i;
	*count = n;
	return KP_OK;
}
