/*
 * snapcache.c - RUN/snapshot/model.bin, a compact binary copy of the
 * kp_cluster that kp_snapshot_load() built from the raw files.
 *
 * Why: reading ~900 MB of kubectl JSON takes seconds; the model the rules
 * need is a few tens of MB. `kopilot collect` already loads the whole
 * snapshot, so it also writes the model; `kopilot analyze RUN` reads it
 * instead of re-parsing the JSON. The raw files stay the input of record:
 * the cache is used only when it provably describes them, otherwise (absent,
 * stale, corrupt, other build) analyze silently falls back to the raw files.
 *
 * Format (all integers and doubles in host byte order; the header's endian
 * marker rejects a file from another byte order):
 *
 *   header   magic "KPMODEL\n" (8 bytes), u32 format version (MC_VERSION),
 *            u32 endian marker 0x01020304, u32 number of raw files
 *            (KP_RES_COUNT + 1), u32 zero, u64 layout id (sizes of the model
 *            structs and the loader's build stamp: a rebuilt loader or a
 *            changed model.h never trusts an old cache), u64 stats length,
 *            u64 string blob length, u64 records length, u64 checksum of the
 *            stats, u64 checksum of the blob, u64 checksum of the records
 *   stats    per raw file (objects/<resource>.json in kp_resource order, then
 *            usage.json): u8 present, i64 size, i64 mtime seconds, i64 mtime
 *            nanoseconds, as stat() saw them right after collect copied them.
 *            A mismatch with what stat() sees now, or a raw file newer than
 *            model.bin, means the cache is stale.
 *   records  (see below; they come before the blob so both can be streamed)
 *   blob     every distinct string once (interned: namespaces, kinds, owner
 *            names, phases repeat 150,000 times), each NUL-terminated. The
 *            loader keeps the blob in the cluster's arena and points into it.
 *   records: the kp_cluster fields in a fixed order (see w_cluster/r_cluster,
 *            which must stay mirror images). A string is a u32: 0 = NULL,
 *            else 1 + its offset in the blob. An array is a u32 count, with
 *            0xFFFFFFFF for a NULL pointer (the raw loader distinguishes an
 *            allocated empty array from none, and so does the copy). Links
 *            (pod -> workload, usage -> workload, workload -> HPA, VPA) are i64
 *            indices into the cluster's arrays, -1 for NULL.
 *
 * Memory: the writer streams the records to the file through a 1 MB buffer
 * and holds only the blob; the reader streams them back the same way, so
 * neither side ever holds the encoded records whole.
 *
 * Checksums are a word-wise multiplicative hash (not cryptographic: they catch
 * truncation and bit rot, not malice; a run directory is trusted like the
 * snapshot it holds). Every read is bounds-checked regardless.
 *
 * Ownership: the writer owns its temporary buffers; the reader fills a
 * caller-initialised kp_cluster whose arena owns the blob and every array
 * (top-level arrays are heap arrays, freed by kp_cluster_release, as the raw
 * loader makes them).
 */
#include "stages/collect/snapshot.h"
#include "pipeline/quantity.h"
#include "pipeline/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MC_MAGIC "KPMODEL\n"
#define MC_VERSION 11u /* 4: missing entries are structured (kp_missing); 5: HPA metric indexes; 6: no uid;
			     * 7: GitOps annotations kept; 8: container statuses; 9: runtime memory;
			     * 10: VPAs, owner_controller, autoscaler annotations;
			     * 11: node providerID, PV volume handle (FOCUS prices) */
#define MC_ENDIAN 0x01020304u
#define MC_NFILES (KP_RES_COUNT + 1)
#define MC_NULL_ARRAY 0xFFFFFFFFu
#define MC_FILE "model.bin"

typedef struct {
	char magic[8];
	uint32_t version, endian, nfiles, zero;
	uint64_t layout;
	uint64_t stats_len, blob_len, rec_len;
	uint64_t stats_sum, blob_sum, rec_sum;
} mc_header;

typedef struct {
	uint8_t present;
	int64_t size, mtime_s, mtime_ns;
} mc_stat;

#define MC_STAT_BYTES (1 + 8 + 8 + 8)

/* Streaming checksum: 8-byte words, whatever the chunking. */
typedef struct {
	uint64_t h, total;
	unsigned char carry[8];
	size_t nc;
} mc_hash;

static void mh_init(mc_hash *m) { memset(m, 0, sizeof(*m)), m->h = 0x9E3779B97F4A7C15ULL; }

static void mh_word(mc_hash *m, uint64_t v)
{
	m->h = (m->h ^ v) * 0x100000001B3ULL;
	m->h ^= m->h >> 29;
}

static void mh_update(mc_hash *m, const void *data, size_t n)
{
	const unsigned char *p = data;
	m->total += n;
	while (m->nc && n) {
		m->carry[m->nc++] = *p++;
		n--;
		if (m->nc == 8) {
			uint64_t v;
			memcpy(&v, m->carry, 8);
			mh_word(m, v);
			m->nc = 0;
		}
	}
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		mh_word(m, v);
	}
	while (n--)
		m->carry[m->nc++] = *p++;
}

static uint64_t mh_final(mc_hash *m)
{
	uint64_t h = m->h;
	for (size_t i = 0; i < m->nc; i++)
		h = (h ^ m->carry[i]) * 0x100000001B3ULL;
	h = (h ^ m->total) * 0x100000001B3ULL;
	return h ^ (h >> 32);
}

static uint64_t mc_sum(const void *data, size_t n)
{
	mc_hash m;
	mh_init(&m);
	mh_update(&m, data, n);
	return mh_final(&m);
}

static uint64_t mc_layout(void)
{
	const size_t sizes[] = {sizeof(kp_meta),    sizeof(kp_container), sizeof(kp_podspec), sizeof(kp_workload),
				sizeof(kp_pod),     sizeof(kp_pvc),       sizeof(kp_pv),      sizeof(kp_hpa),
				sizeof(kp_vpa),     sizeof(kp_vpa_policy), sizeof(kp_vpa_rec),
				sizeof(kp_node),    sizeof(kp_service),   sizeof(kp_endpointslice),
				sizeof(kp_storageclass), sizeof(kp_usage), sizeof(kp_cluster), KP_RES_COUNT, KP_WL_COUNT};
	uint64_t h = kp_fnv1a64(sizes, sizeof(sizes), KP_FNV_SEED);
	const char *stamp = kp_snapshot_loader_stamp();
	h = kp_fnv1a64(stamp, strlen(stamp), h);
	stamp = kp_quantity_build_stamp();
	h = kp_fnv1a64(stamp, strlen(stamp), h);
	return kp_fnv1a64(KP_VERSION, strlen(KP_VERSION), h);
}

static char *raw_path(const char *dir, int i)
{
	char rel[128];
	if (i < KP_RES_COUNT)
		snprintf(rel, sizeof(rel), "objects/%s.json", kp_resource_name((kp_resource)i));
	else
		snprintf(rel, sizeof(rel), "usage.json");
	return kp_path_join(dir, rel);
}

static void raw_stats(const char *dir, mc_stat st[MC_NFILES])
{
	for (int i = 0; i < MC_NFILES; i++) {
		char *p = raw_path(dir, i);
		struct stat sb;
		memset(&st[i], 0, sizeof(st[i]));
		if (KP_FAULT_IO(stat(p, &sb)) == 0) {
			st[i].present = 1;
			st[i].size = (int64_t)sb.st_size;
			st[i].mtime_s = (int64_t)sb.st_mtim.tv_sec;
			st[i].mtime_ns = (int64_t)sb.st_mtim.tv_nsec;
		}
		free(p);
	}
}

uint64_t kp_snapshot_raw_bytes(const char *dir)
{
	mc_stat st[MC_NFILES];
	raw_stats(dir, st);
	uint64_t n = 0;
	for (int i = 0; i < MC_NFILES; i++)
		n += st[i].present ? (uint64_t)st[i].size : 0;
	return n;
}

static void stats_encode(const mc_stat st[MC_NFILES], unsigned char *out)
{
	for (int i = 0; i < MC_NFILES; i++) {
		unsigned char *o = out + (size_t)i * MC_STAT_BYTES;
		o[0] = st[i].present;
		memcpy(o + 1, &st[i].size, 8);
		memcpy(o + 9, &st[i].mtime_s, 8);
		memcpy(o + 17, &st[i].mtime_ns, 8);
	}
}

/* ------------------------------------------------------------------ */
/* writer                                                               */

#define MW_SEEN 4096

typedef struct {
	kp_buf rec, blob; /* rec: records not yet written to fd */
	uint64_t *hashes; /* open addressing over the blob's strings */
	uint32_t *offs;
	size_t cap, len;
	int fd;
	const char *path;
	kp_error *err;
	kp_status st;   /* first write error; later writes are skipped */
	mc_hash rec_hash;
	uint64_t rec_len;
	/* the model's repeated strings are one pointer each (the loader
	 * interns them): a pointer seen lately skips the hash and compare */
	const char *seen[MW_SEEN];
	uint32_t seen_off[MW_SEEN];
} mw_t;

static kp_status write_all(int fd, const void *data, size_t len, const char *path, kp_error *err);

static void w_flush(mw_t *w)
{
	if (!w->st && w->rec.len)
		w->st = write_all(w->fd, w->rec.data, w->rec.len, w->path, w->err);
	mh_update(&w->rec_hash, w->rec.data, w->rec.len);
	w->rec_len += w->rec.len;
	w->rec.len = 0;
}

static void w_raw(mw_t *w, const void *p, size_t n)
{
	kp_buf_add(&w->rec, p, n);
	if (w->rec.len >= (1u << 20))
		w_flush(w);
}
static void w_u32(mw_t *w, uint32_t v) { w_raw(w, &v, 4); }
static void w_i64(mw_t *w, int64_t v) { w_raw(w, &v, 8); }
static void w_f64(mw_t *w, double v) { w_raw(w, &v, 8); }
static void w_bool(mw_t *w, bool b)
{
	uint8_t v = b ? 1 : 0;
	w_raw(w, &v, 1);
}

static void w_rehash(mw_t *w)
{
	size_t ncap = w->cap ? w->cap * 2 : 1 << 16;
	uint64_t *nh = kp_xcalloc(ncap, sizeof(*nh));
	uint32_t *no = kp_xcalloc(ncap, sizeof(*no));
	for (size_t i = 0; i < w->cap; i++) {
		if (!w->hashes[i])
			continue;
		size_t j = w->hashes[i] & (ncap - 1);
		while (nh[j])
			j = (j + 1) & (ncap - 1);
		nh[j] = w->hashes[i];
		no[j] = w->offs[i];
	}
	free(w->hashes);
	free(w->offs);
	w->hashes = nh;
	w->offs = no;
	w->cap = ncap;
}

static void w_str(mw_t *w, const char *s)
{
	if (!s) {
		w_u32(w, 0);
		return;
	}
	size_t pc = ((uintptr_t)s >> 4) & (MW_SEEN - 1);
	if (w->seen[pc] == s) {
		w_u32(w, w->seen_off[pc] + 1);
		return;
	}
	if ((w->len + 1) * 2 > w->cap)
		w_rehash(w);
	size_t n = strlen(s);
	uint64_t h = kp_fnv1a64(s, n, KP_FNV_SEED) | 1;
	size_t i = h & (w->cap - 1);
	while (w->hashes[i]) {
		if (w->hashes[i] == h && strcmp(w->blob.data + w->offs[i], s) == 0) {
			w->seen[pc] = s, w->seen_off[pc] = w->offs[i];
			w_u32(w, w->offs[i] + 1);
			return;
		}
		i = (i + 1) & (w->cap - 1);
	}
	/* offsets are u32; the check after writing rejects a blob past 4 GB */
	uint32_t off = (uint32_t)w->blob.len;
	kp_buf_add(&w->blob, s, n + 1);
	w->hashes[i] = h;
	w->offs[i] = off;
	w->len++;
	w->seen[pc] = s, w->seen_off[pc] = off;
	w_u32(w, off + 1);
}

static void w_count(mw_t *w, const void *p, size_t n) { w_u32(w, p ? (uint32_t)n : MC_NULL_ARRAY); }

static void w_kvs(mw_t *w, const kp_kv *kv, size_t n)
{
	w_count(w, kv, n);
	for (size_t i = 0; kv && i < n; i++) {
		w_str(w, kv[i].key);
		w_str(w, kv[i].value);
	}
}

static void w_strs(mw_t *w, const char *const *v, size_t n)
{
	w_count(w, v, n);
	for (size_t i = 0; v && i < n; i++)
		w_str(w, v[i]);
}

static void w_meta(mw_t *w, const kp_meta *m)
{
	w_str(w, m->api_version);
	w_str(w, m->kind);
	w_str(w, m->namespace_);
	w_str(w, m->name);
	w_i64(w, m->created);
	w_bool(w, m->ignored);
	w_bool(w, m->owner_controller);
	w_kvs(w, m->labels, m->nlabels);
	w_kvs(w, m->annotations, m->nannotations);
	w_str(w, m->owner_kind);
	w_str(w, m->owner_name);
}

static void w_podspec(mw_t *w, const kp_podspec *ps)
{
	w_count(w, ps->containers, ps->ncontainers);
	for (size_t i = 0; ps->containers && i < ps->ncontainers; i++) {
		const kp_container *k = &ps->containers[i];
		w_str(w, k->name);
		w_bool(w, k->init);
		w_bool(w, k->sidecar);
		w_i64(w, k->cpu_request_m);
		w_i64(w, k->cpu_limit_m);
		w_i64(w, k->mem_request_b);
		w_i64(w, k->mem_limit_b);
		w_i64(w, k->restarts);
		w_str(w, k->last_reason);
		w_i64(w, k->last_exit);
		w_i64(w, k->last_finished);
		w_i64(w, k->rt_heap_b);
		w_f64(w, k->rt_heap_pct);
		w_str(w, k->rt_setting);
	}
	w_strs(w, ps->claims, ps->nclaims);
	w_strs(w, ps->ephemeral_claims, ps->nephemeral);
	w_str(w, ps->node_name);
	w_kvs(w, ps->node_selector, ps->nnode_selector);
	w_count(w, ps->tolerations, ps->ntolerations);
	for (size_t i = 0; ps->tolerations && i < ps->ntolerations; i++) {
		const kp_toleration *t = &ps->tolerations[i];
		w_str(w, t->key);
		w_str(w, t->op);
		w_str(w, t->value);
		w_str(w, t->effect);
	}
	w_bool(w, ps->has_affinity);
}

static void w_index(mw_t *w, const void *p, const void *base, size_t elem)
{
	w_i64(w, p ? (int64_t)(((const char *)p - (const char *)base) / (ptrdiff_t)elem) : -1);
}

static void w_cluster(mw_t *w, const kp_cluster *c)
{
	for (int r = 0; r < KP_RES_COUNT; r++)
		w_bool(w, c->collected[r]);
	w_bool(w, c->usage_collected);
	w_i64(w, c->window_start);
	w_i64(w, c->window_end);
	w_i64(w, c->step_seconds);
	w_str(w, c->usage_source);
	w_u32(w, (uint32_t)c->missing.len);
	for (size_t i = 0; i < c->missing.len; i++) {
		const kp_missing *m = &c->missing.items[i];
		w_str(w, m->resource);
		w_str(w, m->namespace_);
		w_str(w, m->workload_kind);
		w_str(w, m->workload_name);
		w_str(w, m->reason);
		w_str(w, m->summary);
	}
	w_strs(w, c->inconsistencies.items, c->inconsistencies.len);
	w_i64(w, (int64_t)c->inconsistencies_total);

	w_u32(w, (uint32_t)c->namespaces.len);
	for (size_t i = 0; i < c->namespaces.len; i++)
		w_meta(w, &c->namespaces.items[i].meta);

	w_u32(w, (uint32_t)c->nodes.len);
	for (size_t i = 0; i < c->nodes.len; i++) {
		const kp_node *n = &c->nodes.items[i];
		w_meta(w, &n->meta);
		w_i64(w, n->alloc_cpu_m);
		w_i64(w, n->alloc_mem_b);
		w_i64(w, n->cap_cpu_m);
		w_i64(w, n->cap_mem_b);
		w_count(w, n->taints, n->ntaints);
		for (size_t j = 0; n->taints && j < n->ntaints; j++) {
			w_str(w, n->taints[j].key);
			w_str(w, n->taints[j].value);
			w_str(w, n->taints[j].effect);
		}
		w_bool(w, n->unschedulable);
		w_bool(w, n->ready);
		w_str(w, n->instance_type);
		w_bool(w, n->spot);
		w_str(w, n->provider_id);
	}

	w_u32(w, (uint32_t)c->hpas.len);
	for (size_t i = 0; i < c->hpas.len; i++) {
		const kp_hpa *h = &c->hpas.items[i];
		w_meta(w, &h->meta);
		w_str(w, h->target_kind);
		w_str(w, h->target_name);
		w_i64(w, h->min_replicas);
		w_i64(w, h->max_replicas);
		w_i64(w, h->current_replicas);
		w_bool(w, h->scales_on_cpu);
		w_bool(w, h->scales_on_memory);
		w_i64(w, h->cpu_target_utilization);
		w_i64(w, h->memory_target_utilization);
		w_i64(w, h->cpu_metric_index);
		w_i64(w, h->memory_metric_index);
	}

	w_u32(w, (uint32_t)c->vpas.len);
	for (size_t i = 0; i < c->vpas.len; i++) {
		const kp_vpa *v = &c->vpas.items[i];
		w_meta(w, &v->meta);
		w_str(w, v->target_kind);
		w_str(w, v->target_name);
		w_str(w, v->update_mode);
		w_bool(w, v->updating);
		w_count(w, v->policies, v->npolicies);
		for (size_t j = 0; v->policies && j < v->npolicies; j++) {
			w_str(w, v->policies[j].container);
			w_bool(w, v->policies[j].off);
			w_u32(w, v->policies[j].controlled);
			w_bool(w, v->policies[j].requests_only);
		}
		w_count(w, v->recs, v->nrecs);
		for (size_t j = 0; v->recs && j < v->nrecs; j++) {
			const kp_vpa_rec *vr = &v->recs[j];
			w_str(w, vr->container);
			w_i64(w, vr->lower_cpu_m);
			w_i64(w, vr->lower_mem_b);
			w_i64(w, vr->target_cpu_m);
			w_i64(w, vr->target_mem_b);
			w_i64(w, vr->upper_cpu_m);
			w_i64(w, vr->upper_mem_b);
		}
	}

	w_u32(w, (uint32_t)c->workloads.len);
	for (size_t i = 0; i < c->workloads.len; i++) {
		const kp_workload *wl = &c->workloads.items[i];
		w_meta(w, &wl->meta);
		w_u32(w, (uint32_t)wl->wkind);
		w_i64(w, wl->replicas);
		w_podspec(w, &wl->spec);
		w_strs(w, wl->claim_templates, wl->nclaim_templates);
		w_index(w, wl->hpa, c->hpas.items, sizeof(kp_hpa));
		w_index(w, wl->vpa, c->vpas.items, sizeof(kp_vpa));
		w_i64(w, wl->job_completion_time);
		w_i64(w, wl->job_failed_time);
		w_bool(w, wl->job_succeeded);
		w_bool(w, wl->job_failed);
		w_bool(w, wl->has_ttl_after_finished);
		w_i64(w, wl->job_active);
		w_bool(w, wl->suspended);
		w_i64(w, wl->ready_replicas);
		w_kvs(w, wl->template_labels, wl->ntemplate_labels);
	}

	w_u32(w, (uint32_t)c->pods.len);
	for (size_t i = 0; i < c->pods.len; i++) {
		const kp_pod *p = &c->pods.items[i];
		w_meta(w, &p->meta);
		w_str(w, p->phase);
		w_i64(w, p->start_time);
		w_podspec(w, &p->spec);
		w_index(w, p->workload, c->workloads.items, sizeof(kp_workload));
	}

	w_u32(w, (uint32_t)c->pvcs.len);
	for (size_t i = 0; i < c->pvcs.len; i++) {
		const kp_pvc *v = &c->pvcs.items[i];
		w_meta(w, &v->meta);
		w_str(w, v->phase);
		w_str(w, v->volume_name);
		w_str(w, v->storage_class);
		w_i64(w, v->storage_bytes);
		w_str(w, v->data_source_pvc);
	}

	w_u32(w, (uint32_t)c->pvs.len);
	for (size_t i = 0; i < c->pvs.len; i++) {
		const kp_pv *v = &c->pvs.items[i];
		w_meta(w, &v->meta);
		w_str(w, v->phase);
		w_str(w, v->reclaim_policy);
		w_str(w, v->storage_class);
		w_str(w, v->claim_namespace);
		w_str(w, v->claim_name);
		w_i64(w, v->storage_bytes);
		w_str(w, v->volume_handle);
	}

	w_u32(w, (uint32_t)c->services.len);
	for (size_t i = 0; i < c->services.len; i++) {
		const kp_service *v = &c->services.items[i];
		w_meta(w, &v->meta);
		w_str(w, v->type);
		w_bool(w, v->has_selector);
		w_kvs(w, v->selector, v->nselector);
		w_str(w, v->lb_ingress);
	}

	w_u32(w, (uint32_t)c->endpointslices.len);
	for (size_t i = 0; i < c->endpointslices.len; i++) {
		const kp_endpointslice *e = &c->endpointslices.items[i];
		w_meta(w, &e->meta);
		w_str(w, e->service_name);
		w_i64(w, e->endpoints);
		w_i64(w, e->ready_endpoints);
	}

	w_u32(w, (uint32_t)c->storageclasses.len);
	for (size_t i = 0; i < c->storageclasses.len; i++) {
		const kp_storageclass *s = &c->storageclasses.items[i];
		w_meta(w, &s->meta);
		w_str(w, s->provisioner);
		w_bool(w, s->is_default);
	}

	w_u32(w, (uint32_t)c->usage.len);
	for (size_t i = 0; i < c->usage.len; i++) {
		const kp_usage *u = &c->usage.items[i];
		w_str(w, u->namespace_);
		w_str(w, u->pod);
		w_str(w, u->container);
		w_str(w, u->owner_kind);
		w_str(w, u->owner_name);
		w_i64(w, u->first_seen);
		w_i64(w, u->last_seen);
		w_i64(w, u->samples);
		w_f64(w, u->cpu_p50);
		w_f64(w, u->cpu_p95);
		w_f64(w, u->cpu_p99);
		w_f64(w, u->cpu_max);
		w_f64(w, u->mem_p50);
		w_f64(w, u->mem_max);
		w_i64(w, u->oom_kills);
		w_i64(w, u->restarts);
		w_f64(w, u->cpu_throttled_ratio);
		w_i64(w, u->memory_limit_at_oom);
		w_index(w, u->workload, c->workloads.items, sizeof(kp_workload));
	}
}

static kp_status write_all(int fd, const void *data, size_t len, const char *path, kp_error *err)
{
	const char *p = data;
	while (len) {
		ssize_t n = KP_FAULT_IO_WRITE(write(fd, p, len));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kp_fail(err, KP_ERR_IO, "%s: write failed: %s", path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return KP_OK;
}

/* model.bin in two steps: begin encodes the model (it reads the cluster,
 * and only begin does), finish records the raw files' stats, which may be
 * written in between (collect's copy, beside the next stages), and commits.
 * The stats have a fixed size, so they and the header are written in place
 * at the end. */
struct kp_cache_writer {
	int fd;
	char *path, *tmp, *snapdir;
	mc_header h;
};

void kp_snapshot_cache_abort(kp_cache_writer *cw)
{
	if (!cw)
		return;
	if (cw->fd >= 0)
		close(cw->fd);
	kp_temp_discard(cw->tmp);
	free(cw->tmp);
	free(cw->path);
	free(cw->snapdir);
	free(cw);
}

kp_status kp_snapshot_cache_begin(const kp_cluster *c, const char *snapdir, kp_cache_writer **out, kp_error *err)
{
	*out = NULL;
	kp_cache_writer *cw = kp_xcalloc(1, sizeof(*cw));
	cw->path = kp_path_join(snapdir, MC_FILE);
	cw->snapdir = kp_xstrdup(snapdir);
	cw->tmp = kp_temp_path_for(cw->path);
	/* as util.c's atomic writes: a file we just created, never a
	 * symlink planted in a shared directory */
	unlink(cw->tmp);
	cw->fd = KP_FAULT_IO(open(cw->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
	if (cw->fd < 0) {
		kp_status s = kp_fail(err, KP_ERR_IO, "%s: cannot write: %s", cw->path, strerror(errno));
		kp_snapshot_cache_abort(cw);
		return s;
	}
	mw_t w;
	memset(&w, 0, sizeof(w));
	kp_buf_init(&w.rec);
	kp_buf_init(&w.blob);
	mh_init(&w.rec_hash);
	/* header and stats last, once the lengths, checksums and files are known */
	unsigned char zero[sizeof(mc_header) + MC_NFILES * MC_STAT_BYTES];
	memset(zero, 0, sizeof(zero));
	kp_status s = write_all(cw->fd, zero, sizeof(zero), cw->path, err);
	if (!s) {
		w.fd = cw->fd;
		w.path = cw->path;
		w.err = err;
		w_cluster(&w, c);
		w_flush(&w);
		s = w.st;
	}
	if (!s && w.blob.len >= UINT32_MAX)
		s = kp_fail(err, KP_ERR_INTERNAL, "%s: string table over 4 GB", cw->path);
	if (!s)
		s = write_all(cw->fd, w.blob.data, w.blob.len, cw->path, err);
	if (!s) {
		mc_header *h = &cw->h;
		memcpy(h->magic, MC_MAGIC, 8);
		h->version = MC_VERSION;
		h->endian = MC_ENDIAN;
		h->nfiles = MC_NFILES;
		h->layout = mc_layout();
		h->stats_len = MC_NFILES * MC_STAT_BYTES;
		h->blob_len = w.blob.len;
		h->rec_len = w.rec_len;
		h->blob_sum = mc_sum(w.blob.data, w.blob.len);
		h->rec_sum = mh_final(&w.rec_hash);
	}
	kp_buf_release(&w.rec);
	kp_buf_release(&w.blob);
	free(w.hashes);
	free(w.offs);
	if (s) {
		kp_snapshot_cache_abort(cw);
		return s;
	}
	*out = cw;
	return KP_OK;
}

kp_status kp_snapshot_cache_finish(kp_cache_writer *cw, kp_error *err)
{
	mc_stat st[MC_NFILES];
	raw_stats(cw->snapdir, st);
	unsigned char stats[MC_NFILES * MC_STAT_BYTES];
	stats_encode(st, stats);
	cw->h.stats_sum = mc_sum(stats, sizeof(stats));
	kp_status s = KP_OK;
	if (KP_FAULT_IO_WRITE(pwrite(cw->fd, stats, sizeof(stats), (off_t)sizeof(mc_header))) != (ssize_t)sizeof(stats) ||
	    KP_FAULT_IO_WRITE(pwrite(cw->fd, &cw->h, sizeof(cw->h), 0)) != (ssize_t)sizeof(cw->h))
		s = kp_fail(err, KP_ERR_IO, "%s: write failed: %s", cw->path, strerror(errno));
	if (!s && KP_FAULT_IO(fsync(cw->fd)) != 0)
		s = kp_fail(err, KP_ERR_IO, "%s: write failed: %s", cw->path, strerror(errno));
	int closed = kp_fault_close(cw->fd);
	cw->fd = -1;
	if (closed != 0 && !s)
		s = kp_fail(err, KP_ERR_IO, "%s: write failed: %s", cw->path, strerror(errno));
	if (!s) {
		s = kp_commit_temp(cw->tmp, cw->path, err); /* unlinks tmp itself on failure */
		free(cw->tmp);
		cw->tmp = NULL;
	}
	if (cw->tmp) /* failed before the commit */
		kp_snapshot_cache_abort(cw);
	else {
		free(cw->path);
		free(cw->snapdir);
		free(cw);
	}
	return s;
}

kp_status kp_snapshot_cache_write(const kp_cluster *c, const char *snapdir, kp_error *err)
{
	kp_cache_writer *cw;
	kp_status s = kp_snapshot_cache_begin(c, snapdir, &cw, err);
	return s ? s : kp_snapshot_cache_finish(cw, err);
}

/* ------------------------------------------------------------------ */
/* reader                                                               */

#define MR_BUF (1u << 20)

typedef struct {
	FILE *f;
	unsigned char *buf; /* MR_BUF bytes: records in [pos, fill) */
	size_t pos, fill;
	uint64_t left; /* record bytes not yet read from f */
	mc_hash hash;  /* over every record byte read */
	const char *blob;
	size_t blob_len;
	kp_arena *a;
	bool bad;
} mr_t;

/* Record bytes not consumed yet: every array element takes at least one,
 * which bounds what a count may allocate. */
static uint64_t r_remaining(const mr_t *r) { return (uint64_t)(r->fill - r->pos) + r->left; }

static bool r_fill(mr_t *r)
{
	memmove(r->buf, r->buf + r->pos, r->fill - r->pos);
	r->fill -= r->pos;
	r->pos = 0;
	size_t want = MR_BUF - r->fill;
	if (want > r->left)
		want = (size_t)r->left;
	if (!want || kp_fault_io() || fread(r->buf + r->fill, 1, want, r->f) != want)
		return false;
	mh_update(&r->hash, r->buf + r->fill, want);
	r->fill += want;
	r->left -= want;
	return true;
}

static void r_raw(mr_t *r, void *out, size_t n)
{
	while (r->fill - r->pos < n && !r->bad)
		if (!r_fill(r))
			r->bad = true;
	if (r->bad) {
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->buf + r->pos, n);
	r->pos += n;
}

static uint32_t r_u32(mr_t *r)
{
	uint32_t v;
	r_raw(r, &v, 4);
	return v;
}

static int64_t r_i64(mr_t *r)
{
	int64_t v;
	r_raw(r, &v, 8);
	return v;
}

static double r_f64(mr_t *r)
{
	double v;
	r_raw(r, &v, 8);
	return v;
}

static bool r_bool(mr_t *r)
{
	uint8_t v;
	r_raw(r, &v, 1);
	if (v > 1)
		r->bad = true;
	return v == 1;
}

static const char *r_str(mr_t *r)
{
	uint32_t o = r_u32(r);
	if (!o)
		return NULL;
	if (o > r->blob_len) {
		r->bad = true;
		return NULL;
	}
	return r->blob + o - 1;
}

/* Allocates an array of n elements (NULL for the null marker); every
 * element takes at least one byte of input, which bounds the allocation. */
static void *r_array(mr_t *r, size_t elem, size_t *n)
{
	uint32_t v = r_u32(r);
	*n = 0;
	if (r->bad || v == MC_NULL_ARRAY)
		return NULL;
	if (v > r_remaining(r)) {
		r->bad = true;
		return NULL;
	}
	*n = v;
	/* the raw loader allocates at least one element for an empty array */
	return kp_arena_alloc(r->a, (v ? v : 1) * elem);
}

/* A top-level array: heap memory, as KP_ARRAY_PUSH makes it. */
static void *r_top(mr_t *r, size_t elem, size_t *n)
{
	uint32_t v = r_u32(r);
	*n = 0;
	if (r->bad || v > r_remaining(r)) {
		r->bad = true;
		return NULL;
	}
	*n = v;
	return v ? kp_xcalloc(v, elem) : NULL;
}

static void r_kvs(mr_t *r, kp_kv **out, size_t *n)
{
	kp_kv *kv = r_array(r, sizeof(kp_kv), n);
	for (size_t i = 0; i < *n && !r->bad; i++) {
		kv[i].key = r_str(r);
		kv[i].value = r_str(r);
	}
	*out = kv;
}

static void r_strs(mr_t *r, const char ***out, size_t *n)
{
	const char **v = r_array(r, sizeof(char *), n);
	for (size_t i = 0; i < *n && !r->bad; i++)
		v[i] = r_str(r);
	*out = v;
}

static void r_meta(mr_t *r, kp_meta *m)
{
	m->api_version = r_str(r);
	m->kind = r_str(r);
	m->namespace_ = r_str(r);
	m->name = r_str(r);
	m->created = r_i64(r);
	m->ignored = r_bool(r);
	m->owner_controller = r_bool(r);
	r_kvs(r, &m->labels, &m->nlabels);
	r_kvs(r, &m->annotations, &m->nannotations);
	m->owner_kind = r_str(r);
	m->owner_name = r_str(r);
}

static void r_podspec(mr_t *r, kp_podspec *ps)
{
	ps->containers = r_array(r, sizeof(kp_container), &ps->ncontainers);
	for (size_t i = 0; i < ps->ncontainers && !r->bad; i++) {
		kp_container *k = &ps->containers[i];
		k->name = r_str(r);
		k->init = r_bool(r);
		k->sidecar = r_bool(r);
		k->cpu_request_m = r_i64(r);
		k->cpu_limit_m = r_i64(r);
		k->mem_request_b = r_i64(r);
		k->mem_limit_b = r_i64(r);
		k->restarts = r_i64(r);
		k->last_reason = r_str(r);
		k->last_exit = r_i64(r);
		k->last_finished = r_i64(r);
		k->rt_heap_b = r_i64(r);
		k->rt_heap_pct = r_f64(r);
		k->rt_setting = r_str(r);
	}
	r_strs(r, &ps->claims, &ps->nclaims);
	r_strs(r, &ps->ephemeral_claims, &ps->nephemeral);
	ps->node_name = r_str(r);
	r_kvs(r, &ps->node_selector, &ps->nnode_selector);
	ps->tolerations = r_array(r, sizeof(kp_toleration), &ps->ntolerations);
	for (size_t i = 0; i < ps->ntolerations && !r->bad; i++) {
		kp_toleration *t = &ps->tolerations[i];
		t->key = r_str(r);
		t->op = r_str(r);
		t->value = r_str(r);
		t->effect = r_str(r);
	}
	ps->has_affinity = r_bool(r);
}

/* An index into an array of len elements, -1 for NULL. */
static size_t r_index(mr_t *r, size_t len, bool *null)
{
	int64_t v = r_i64(r);
	*null = v < 0;
	if (v < -1 || (v >= 0 && (uint64_t)v >= len)) {
		r->bad = true;
		*null = true;
	}
	return *null ? 0 : (size_t)v;
}

#define R_TOP(r, arr) ((arr).items = r_top((r), sizeof(*(arr).items), &(arr).len), (arr).cap = (arr).len)

/* A top-level string list of kp_cluster (u32 count or MC_NULL_ARRAY, then
 * the strings); more than max strings is a damaged cache. */
static void r_top_strs(mr_t *r, const char ***items, size_t *len, size_t *cap, uint32_t max)
{
	uint32_t n = r_u32(r);
	if (n == MC_NULL_ARRAY || r->bad)
		return;
	if (n > r_remaining(r) || n > max) {
		r->bad = true;
		return;
	}
	*items = n ? kp_xcalloc(n, sizeof(char *)) : NULL;
	*len = *cap = n;
	for (size_t i = 0; i < n && !r->bad; i++)
		(*items)[i] = r_str(r);
}

static void r_cluster(mr_t *r, kp_cluster *c)
{
	bool null;
	for (int i = 0; i < KP_RES_COUNT; i++)
		c->collected[i] = r_bool(r);
	c->usage_collected = r_bool(r);
	c->window_start = r_i64(r);
	c->window_end = r_i64(r);
	c->step_seconds = r_i64(r);
	c->usage_source = r_str(r);
	R_TOP(r, c->missing);
	for (size_t i = 0; i < c->missing.len && !r->bad; i++) {
		kp_missing *m = &c->missing.items[i];
		m->resource = r_str(r);
		m->namespace_ = r_str(r);
		m->workload_kind = r_str(r);
		m->workload_name = r_str(r);
		m->reason = r_str(r);
		m->summary = r_str(r);
		/* what the loader always sets (kp_missing), else a damaged cache */
		if (!m->reason || !m->summary || !m->workload_kind != !m->workload_name)
			r->bad = true;
	}
	if (r->bad)
		return;
	r_top_strs(r, &c->inconsistencies.items, &c->inconsistencies.len, &c->inconsistencies.cap,
		   KP_MAX_INCONSISTENCIES);
	if (r->bad)
		return;
	int64_t total = r_i64(r);
	if (total < (int64_t)c->inconsistencies.len)
		r->bad = true;
	else
		c->inconsistencies_total = (size_t)total;

	R_TOP(r, c->namespaces);
	for (size_t i = 0; i < c->namespaces.len && !r->bad; i++)
		r_meta(r, &c->namespaces.items[i].meta);

	R_TOP(r, c->nodes);
	for (size_t i = 0; i < c->nodes.len && !r->bad; i++) {
		kp_node *n = &c->nodes.items[i];
		r_meta(r, &n->meta);
		n->alloc_cpu_m = r_i64(r);
		n->alloc_mem_b = r_i64(r);
		n->cap_cpu_m = r_i64(r);
		n->cap_mem_b = r_i64(r);
		n->taints = r_array(r, sizeof(kp_taint), &n->ntaints);
		for (size_t j = 0; j < n->ntaints && !r->bad; j++) {
			n->taints[j].key = r_str(r);
			n->taints[j].value = r_str(r);
			n->taints[j].effect = r_str(r);
		}
		n->unschedulable = r_bool(r);
		n->ready = r_bool(r);
		n->instance_type = r_str(r);
		n->spot = r_bool(r);
		n->provider_id = r_str(r);
	}

	R_TOP(r, c->hpas);
	for (size_t i = 0; i < c->hpas.len && !r->bad; i++) {
		kp_hpa *h = &c->hpas.items[i];
		r_meta(r, &h->meta);
		h->target_kind = r_str(r);
		h->target_name = r_str(r);
		h->min_replicas = r_i64(r);
		h->max_replicas = r_i64(r);
		h->current_replicas = r_i64(r);
		h->scales_on_cpu = r_bool(r);
		h->scales_on_memory = r_bool(r);
		h->cpu_target_utilization = r_i64(r);
		h->memory_target_utilization = r_i64(r);
		h->cpu_metric_index = r_i64(r);
		h->memory_metric_index = r_i64(r);
	}

	R_TOP(r, c->vpas);
	for (size_t i = 0; i < c->vpas.len && !r->bad; i++) {
		kp_vpa *v = &c->vpas.items[i];
		r_meta(r, &v->meta);
		v->target_kind = r_str(r);
		v->target_name = r_str(r);
		v->update_mode = r_str(r);
		v->updating = r_bool(r);
		v->policies = r_array(r, sizeof(kp_vpa_policy), &v->npolicies);
		for (size_t j = 0; j < v->npolicies && !r->bad; j++) {
			v->policies[j].container = r_str(r);
			v->policies[j].off = r_bool(r);
			v->policies[j].controlled = r_u32(r);
			v->policies[j].requests_only = r_bool(r);
		}
		v->recs = r_array(r, sizeof(kp_vpa_rec), &v->nrecs);
		for (size_t j = 0; j < v->nrecs && !r->bad; j++) {
			kp_vpa_rec *vr = &v->recs[j];
			vr->container = r_str(r);
			vr->lower_cpu_m = r_i64(r);
			vr->lower_mem_b = r_i64(r);
			vr->target_cpu_m = r_i64(r);
			vr->target_mem_b = r_i64(r);
			vr->upper_cpu_m = r_i64(r);
			vr->upper_mem_b = r_i64(r);
		}
	}

	R_TOP(r, c->workloads);
	for (size_t i = 0; i < c->workloads.len && !r->bad; i++) {
		kp_workload *wl = &c->workloads.items[i];
		r_meta(r, &wl->meta);
		uint32_t k = r_u32(r);
		if (k >= KP_WL_COUNT)
			r->bad = true;
		wl->wkind = (kp_workload_kind)(k < KP_WL_COUNT ? k : 0);
		wl->replicas = r_i64(r);
		r_podspec(r, &wl->spec);
		r_strs(r, &wl->claim_templates, &wl->nclaim_templates);
		size_t hi = r_index(r, c->hpas.len, &null);
		wl->hpa = null ? NULL : &c->hpas.items[hi];
		hi = r_index(r, c->vpas.len, &null);
		wl->vpa = null ? NULL : &c->vpas.items[hi];
		wl->job_completion_time = r_i64(r);
		wl->job_failed_time = r_i64(r);
		wl->job_succeeded = r_bool(r);
		wl->job_failed = r_bool(r);
		wl->has_ttl_after_finished = r_bool(r);
		wl->job_active = r_i64(r);
		wl->suspended = r_bool(r);
		wl->ready_replicas = r_i64(r);
		r_kvs(r, &wl->template_labels, &wl->ntemplate_labels);
	}

	R_TOP(r, c->pods);
	for (size_t i = 0; i < c->pods.len && !r->bad; i++) {
		kp_pod *p = &c->pods.items[i];
		r_meta(r, &p->meta);
		p->phase = r_str(r);
		p->start_time = r_i64(r);
		r_podspec(r, &p->spec);
		size_t wi = r_index(r, c->workloads.len, &null);
		p->workload = null ? NULL : &c->workloads.items[wi];
	}

	R_TOP(r, c->pvcs);
	for (size_t i = 0; i < c->pvcs.len && !r->bad; i++) {
		kp_pvc *v = &c->pvcs.items[i];
		r_meta(r, &v->meta);
		v->phase = r_str(r);
		v->volume_name = r_str(r);
		v->storage_class = r_str(r);
		v->storage_bytes = r_i64(r);
		v->data_source_pvc = r_str(r);
	}

	R_TOP(r, c->pvs);
	for (size_t i = 0; i < c->pvs.len && !r->bad; i++) {
		kp_pv *v = &c->pvs.items[i];
		r_meta(r, &v->meta);
		v->phase = r_str(r);
		v->reclaim_policy = r_str(r);
		v->storage_class = r_str(r);
		v->claim_namespace = r_str(r);
		v->claim_name = r_str(r);
		v->storage_bytes = r_i64(r);
		v->volume_handle = r_str(r);
	}

	R_TOP(r, c->services);
	for (size_t i = 0; i < c->services.len && !r->bad; i++) {
		kp_service *v = &c->services.items[i];
		r_meta(r, &v->meta);
		v->type = r_str(r);
		v->has_selector = r_bool(r);
		r_kvs(r, &v->selector, &v->nselector);
		v->lb_ingress = r_str(r);
	}

	R_TOP(r, c->endpointslices);
	for (size_t i = 0; i < c->endpointslices.len && !r->bad; i++) {
		kp_endpointslice *e = &c->endpointslices.items[i];
		r_meta(r, &e->meta);
		e->service_name = r_str(r);
		e->endpoints = r_i64(r);
		e->ready_endpoints = r_i64(r);
	}

	R_TOP(r, c->storageclasses);
	for (size_t i = 0; i < c->storageclasses.len && !r->bad; i++) {
		kp_storageclass *s = &c->storageclasses.items[i];
		r_meta(r, &s->meta);
		s->provisioner = r_str(r);
		s->is_default = r_bool(r);
	}

	R_TOP(r, c->usage);
	for (size_t i = 0; i < c->usage.len && !r->bad; i++) {
		kp_usage *u = &c->usage.items[i];
		u->namespace_ = r_str(r);
		u->pod = r_str(r);
		u->container = r_str(r);
		u->owner_kind = r_str(r);
		u->owner_name = r_str(r);
		u->first_seen = r_i64(r);
		u->last_seen = r_i64(r);
		u->samples = r_i64(r);
		u->cpu_p50 = r_f64(r);
		u->cpu_p95 = r_f64(r);
		u->cpu_p99 = r_f64(r);
		u->cpu_max = r_f64(r);
		u->mem_p50 = r_f64(r);
		u->mem_max = r_f64(r);
		u->oom_kills = r_i64(r);
		u->restarts = r_i64(r);
		u->cpu_throttled_ratio = r_f64(r);
		u->memory_limit_at_oom = r_i64(r);
		size_t wi = r_index(r, c->workloads.len, &null);
		u->workload = null ? NULL : &c->workloads.items[wi];
	}
	if (r_remaining(r) != 0)
		r->bad = true; /* trailing bytes: not the layout we wrote */
}

static bool read_exact(FILE *f, void *out, size_t n) { return n == 0 || (!kp_fault_io() && fread(out, 1, n, f) == n); }

/* Loads model.bin into c when it is valid for the raw files beside it.
 * Returns false (c left empty) when it is absent, stale or damaged. */
static bool cache_load(kp_cluster *c, const char *snapdir)
{
	char *path = kp_path_join(snapdir, MC_FILE);
	FILE *f = KP_FAULT_IO_PTR(fopen(path, "rb"));
	struct stat msb;
	bool ok = f && KP_FAULT_IO(fstat(fileno(f), &msb)) == 0;
	free(path);
	mc_header h;
	ok = ok && read_exact(f, &h, sizeof(h)) && memcmp(h.magic, MC_MAGIC, 8) == 0 && h.version == MC_VERSION &&
	     h.endian == MC_ENDIAN && h.nfiles == MC_NFILES && h.layout == mc_layout() &&
	     h.stats_len == (uint64_t)MC_NFILES * MC_STAT_BYTES && h.blob_len > 0 && h.blob_len < UINT32_MAX &&
	     (uint64_t)sizeof(h) + h.stats_len + h.blob_len + h.rec_len == (uint64_t)msb.st_size;
	/* stale? (cheap: before the big reads) */
	unsigned char stats[MC_NFILES * MC_STAT_BYTES], now[MC_NFILES * MC_STAT_BYTES];
	if (ok && read_exact(f, stats, sizeof(stats)) && mc_sum(stats, sizeof(stats)) == h.stats_sum) {
		mc_stat st[MC_NFILES];
		raw_stats(snapdir, st);
		stats_encode(st, now);
		ok = memcmp(stats, now, sizeof(stats)) == 0;
		for (int i = 0; i < MC_NFILES && ok; i++)
			ok = !st[i].present || st[i].mtime_s < (int64_t)msb.st_mtim.tv_sec ||
			     (st[i].mtime_s == (int64_t)msb.st_mtim.tv_sec && st[i].mtime_ns <= (int64_t)msb.st_mtim.tv_nsec);
	} else {
		ok = false;
	}
	unsigned char *rec = NULL;
	if (ok) {
		/* the blob (after the records) lives on in the arena: the model's
		 * strings point into it */
		char *blob = kp_arena_alloc(&c->arena, (size_t)h.blob_len);
		long rec_at = KP_FAULT_IO(ftell(f));
		ok = rec_at >= 0 && KP_FAULT_IO(fseek(f, (long)(rec_at + (long)h.rec_len), SEEK_SET)) == 0 &&
		     read_exact(f, blob, (size_t)h.blob_len) && blob[h.blob_len - 1] == '\0' &&
		     mc_sum(blob, (size_t)h.blob_len) == h.blob_sum && KP_FAULT_IO(fseek(f, rec_at, SEEK_SET)) == 0;
		/* plain malloc: without the buffer the raw files are read instead */
		rec = ok && !kp_fault_alloc() ? malloc(MR_BUF) : NULL;
		if (rec) {
			mr_t r = {.f = f, .buf = rec, .left = h.rec_len, .blob = blob, .blob_len = (size_t)h.blob_len,
				  .a = &c->arena};
			mh_init(&r.hash);
			r_cluster(&r, c);
			/* decoded before the checksum is known: every read was
			 * bounds-checked, and a mismatch discards it all */
			ok = !r.bad && mh_final(&r.hash) == h.rec_sum;
		} else {
			ok = false;
		}
	}
	free(rec);
	if (f)
		fclose(f);
	if (!ok) {
		kp_cluster_release(c);
		kp_cluster_init(c);
	}
	return ok;
}

kp_status kp_snapshot_load_cached(kp_cluster *c, const char *snapdir, bool *used_cache, kp_error *err)
{
	if (used_cache)
		*used_cache = false;
	if (cache_load(c, snapdir)) {
		if (used_cache)
			*used_cache = true;
		return KP_OK;
	}
	return kp_snapshot_load(c, snapdir, err);
}
