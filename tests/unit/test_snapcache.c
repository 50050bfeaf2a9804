/*
 * test_snapcache.c - the model cache (stages/collect/snapcache.c): a cluster
 * read back from model.bin is the cluster the raw loader built (checked by
 * writing both and comparing the bytes, which cover every model field), and
 * a stale, damaged or missing cache falls back to the raw files.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stages/collect/snapshot.h"

static const char *const sc_files[] = {"objects/pods.json",	      "objects/deployments.json",
				       "objects/replicasets.json",    "objects/statefulsets.json",
				       "objects/daemonsets.json",     "objects/jobs.json",
				       "objects/cronjobs.json",	      "objects/persistentvolumeclaims.json",
				       "objects/persistentvolumes.json", "objects/services.json",
				       "objects/endpointslices.json", "objects/nodes.json",
				       "objects/horizontalpodautoscalers.json", "objects/namespaces.json",
				       "objects/storageclasses.json", "usage.json"};

static void sc_copy_demo(char *dir)
{
	strcpy(dir, "/tmp/kp-snapcache-XXXXXX");
	cr_assert(mkdtemp(dir));
	kp_error err = {0};
	char *obj = kp_path_join(dir, "objects/");
	cr_assert_eq(kp_mkdir_p(obj, &err), KP_OK, "%s", err.msg);
	free(obj);
	for (size_t i = 0; i < sizeof(sc_files) / sizeof(sc_files[0]); i++) {
		char *from = kp_path_join("examples/demo-cluster", sc_files[i]), *to = kp_path_join(dir, sc_files[i]);
		cr_assert_eq(kp_copy_file_atomic(from, to, &err), KP_OK, "%s", err.msg);
		free(from);
		free(to);
	}
}

static void sc_rm(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static char *sc_read_model(const char *dir, size_t *len)
{
	char *p = kp_path_join(dir, "model.bin"), *data = NULL;
	kp_error err = {0};
	cr_assert_eq(kp_read_file(p, &data, len, &err), KP_OK, "%s", err.msg);
	free(p);
	return data;
}

static bool sc_load(const char *dir, kp_cluster *c)
{
	kp_error err = {0};
	bool used = true;
	kp_cluster_init(c);
	cr_assert_eq(kp_snapshot_load_cached(c, dir, &used, &err), KP_OK, "%s", err.msg);
	return used;
}

Test(snapcache, round_trip_is_the_raw_model)
{
	char dir[64];
	sc_copy_demo(dir);
	kp_error err = {0};
	kp_cluster raw;
	cr_assert_not(sc_load(dir, &raw), "no model.bin yet: raw files");
	cr_assert_gt(raw.pods.len, 0);
	cr_assert_eq(kp_snapshot_cache_write(&raw, dir, &err), KP_OK, "%s", err.msg);
	size_t la, lb;
	char *a = sc_read_model(dir, &la);

	kp_cluster cached;
	cr_assert(sc_load(dir, &cached), "a fresh model.bin is used");
	cr_assert_eq(cached.pods.len, raw.pods.len);
	cr_assert_eq(cached.usage.len, raw.usage.len);
	cr_assert_eq(cached.missing.len, raw.missing.len);
	/* links point into the loaded arrays */
	for (size_t i = 0; i < cached.pods.len; i++) {
		const kp_workload *w = cached.pods.items[i].workload, *rw = raw.pods.items[i].workload;
		cr_assert_eq(w == NULL, rw == NULL);
		if (w)
			cr_assert_eq(w - cached.workloads.items, rw - raw.workloads.items);
	}
	/* every field: the cached model serialises to the same bytes */
	cr_assert_eq(kp_snapshot_cache_write(&cached, dir, &err), KP_OK, "%s", err.msg);
	char *b = sc_read_model(dir, &lb);
	cr_assert_eq(la, lb);
	cr_assert(memcmp(a, b, la) == 0, "model.bin of the cached model differs from the raw model's");
	free(a);
	free(b);
	kp_cluster_release(&raw);
	kp_cluster_release(&cached);
	sc_rm(dir);
}

Test(snapcache, stale_damaged_or_missing_cache_reads_raw_files)
{
	char dir[64];
	sc_copy_demo(dir);
	kp_error err = {0};
	kp_cluster c;
	sc_load(dir, &c);
	size_t npods = c.pods.len;
	cr_assert_eq(kp_snapshot_cache_write(&c, dir, &err), KP_OK, "%s", err.msg);
	kp_cluster_release(&c);

	/* a raw file whose mtime is not the one collect recorded: stale */
	char *pods = kp_path_join(dir, "objects/pods.json");
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = time(NULL) - 1000}};
	cr_assert_eq(utimensat(AT_FDCWD, pods, ts, 0), 0);
	cr_assert_not(sc_load(dir, &c), "a raw file changed since model.bin: raw files");
	cr_assert_eq(c.pods.len, npods);
	kp_cluster_release(&c);
	free(pods);

	/* rewritten: valid again */
	sc_load(dir, &c);
	cr_assert_eq(kp_snapshot_cache_write(&c, dir, &err), KP_OK, "%s", err.msg);
	kp_cluster_release(&c);
	cr_assert(sc_load(dir, &c));
	kp_cluster_release(&c);

	/* one flipped byte in the records: checksum */
	size_t len;
	char *data = sc_read_model(dir, &len);
	char *mpath = kp_path_join(dir, "model.bin");
	data[len - 20] ^= 0x40;
	FILE *f = fopen(mpath, "r+b");
	cr_assert(f);
	cr_assert_eq(fseek(f, (long)(len - 20), SEEK_SET), 0);
	cr_assert_eq(fwrite(&data[len - 20], 1, 1, f), 1);
	fclose(f);
	/* writing it changed model.bin's mtime, not the raw files' */
	cr_assert_not(sc_load(dir, &c), "damaged model.bin: raw files");
	cr_assert_eq(c.pods.len, npods);
	kp_cluster_release(&c);

	/* truncated */
	cr_assert_eq(truncate(mpath, (off_t)(len / 2)), 0);
	cr_assert_not(sc_load(dir, &c), "truncated model.bin: raw files");
	cr_assert_eq(c.pods.len, npods);
	kp_cluster_release(&c);

	/* absent (a hand-made snapshot) */
	cr_assert_eq(unlink(mpath), 0);
	cr_assert_not(sc_load(dir, &c));
	cr_assert_eq(c.pods.len, npods);
	kp_cluster_release(&c);
	free(mpath);
	free(data);
	sc_rm(dir);
}
